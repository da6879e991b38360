/* Explicit matrix factorisation for rating prediction:
 *
 *     r^(u, i) = mean + b_u + b_i + p_u . q_i
 *
 * fitted to the observed ratings by stochastic gradient descent (shuffled
 * order, learning rate decaying per epoch, L2 on factors and biases), and
 * clamped to the observed rating range. Unknown users or items fall back to
 * the mean plus whatever biases are known. Single-threaded, so the result
 * is deterministic for a seed on any machine.
 *
 * SGD over biased ALS: on MovieLens 100K u1.base/u1.test SGD reached the
 * lower RMSE (see mf.c). */
#ifndef RS_MODELS_MF_H
#define RS_MODELS_MF_H

#include <stddef.h>
#include <stdint.h>

#include "core/common.h"
#include "core/csr.h"
#include "core/err.h"
#include "core/topk.h"

typedef struct rs_mf_opts {
    uint32_t factors;
    uint32_t iterations;  /* epochs */
    float reg;            /* on factors */
    float reg_bias;       /* on biases */
    float lr;             /* initial learning rate */
    float decay;          /* the rate is multiplied by this after each epoch */
    float init_std;       /* of the random initial factors */
    uint64_t seed;
    int threads;          /* unused: the fit is sequential */
    void (*progress)(void *ctx, uint32_t epoch, double train_rmse, double seconds);
    void *progress_ctx;
} rs_mf_opts;

/* The defaults, chosen on MovieLens 100K u1.base/u1.test (see mf.c). */
#define RS_MF_DEFAULT_FACTORS 128
#define RS_MF_DEFAULT_ITERATIONS 50
#define RS_MF_DEFAULT_REG 0.1
#define RS_MF_DEFAULT_LR 0.03
void rs_mf_opts_default(rs_mf_opts *o);

typedef struct rs_mf_model {
    uint32_t n_users, n_items, factors;
    float mean, min_rating, max_rating;
    float *user_bias, *item_bias;        /* n_users, n_items */
    float *user_factors, *item_factors;  /* (n_users, k), (n_items, k) */
} rs_mf_model;

/* Fits on ratings (a user x item matrix of rating values). Errors:
 * RS_EINVAL (bad options, no ratings), RS_ENOMEM. *out is zeroed on
 * error. */
RS_MUST_USE rs_err rs_mf_fit(const rs_csr *ratings, const rs_mf_opts *o, rs_mf_model *out,
                             rs_diag *diag);

void rs_mf_destroy(rs_mf_model *m);

/* The predicted rating; users and items out of range fall back. */
float rs_mf_predict(const void *model, uint32_t user, uint32_t item);

/* The recommender interface of eval/evaluate.h: the highest predicted
 * ratings. scratch: rs_mf_scratch_bytes. */
RS_MUST_USE rs_err rs_mf_recommend(const void *model, uint32_t user, const uint32_t *exclude,
                                   size_t n_exclude, size_t k, rs_scored *out, size_t *n,
                                   void *scratch);
size_t rs_mf_scratch_bytes(const rs_mf_model *m);

#endif
