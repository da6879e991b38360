/* Evaluating a recommender on a train/test split: every user with test
 * items gets a top-k list that leaves out the user's training items, and
 * the per-user metrics of eval/metrics.h are averaged over those users.
 * Parallel over users (OpenMP) with results independent of the thread
 * count. */
#ifndef RS_EVAL_EVALUATE_H
#define RS_EVAL_EVALUATE_H

#include <stddef.h>
#include <stdint.h>

#include "core/common.h"
#include "core/csr.h"
#include "core/err.h"
#include "core/topk.h"

/* Writes the top-k items for user into out (k slots), best first, and
 * their count in *n; never an item of exclude[0..n_exclude) (ascending).
 * scratch: scratch_bytes of caller-owned memory (one block per thread).
 * Must be safe to call from several threads with distinct scratch. */
typedef rs_err (*rs_recommend_fn)(const void *model, uint32_t user, const uint32_t *exclude,
                                  size_t n_exclude, size_t k, rs_scored *out, size_t *n,
                                  void *scratch);

typedef struct rs_recommender {
    const char *name;
    const void *model;
    rs_recommend_fn recommend;
    size_t scratch_bytes;
} rs_recommender;

typedef struct rs_eval_opts {
    size_t k;                      /* 10 when 0 */
    const uint32_t *item_category; /* n_items, or NULL: diversity is NaN */
    int threads;                   /* 0: the OpenMP default */
} rs_eval_opts;

typedef struct rs_eval_result {
    double precision, recall, ndcg, map, hit_rate;  /* means over users */
    double coverage;   /* distinct recommended items / n_items */
    double diversity;  /* mean intra-list category diversity */
    double novelty;    /* mean list novelty in bits */
    uint32_t users;    /* users evaluated (those with relevant test items) */
    double seconds;
} rs_eval_result;

/* Evaluates r with train (what the model saw, excluded from rankings) and
 * test (what it should find: its entries with a value of at least 0; a
 * negative value is a dislike, not a hit). Errors: RS_EINVAL for mismatched shapes, the
 * recommender's first error, RS_ENOMEM. */
RS_MUST_USE rs_err rs_eval_topk(const rs_recommender *r, const rs_csr *train, const rs_csr *test,
                                const rs_eval_opts *o, rs_eval_result *out, rs_diag *diag);

/* Rating prediction error over every test entry: predict(model, user,
 * item) against the entry's value. */
typedef float (*rs_predict_fn)(const void *model, uint32_t user, uint32_t item);
RS_MUST_USE rs_err rs_eval_rating(rs_predict_fn predict, const void *model, const rs_csr *test,
                                  double *rmse, double *mae, rs_diag *diag);

#endif
