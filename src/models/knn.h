/* Item-kNN from co-occurrence: two items are similar when the same users
 * interacted with both. Each item keeps its top neighbours; a user's score
 * for an item is the sum of its similarities to the user's items. A strong,
 * simple baseline and a recommender that needs no factors.
 *
 * Weightings:
 *   cosine  s(i, j) = |U_i & U_j| / sqrt(|U_i| |U_j|) (binary interactions)
 *   bm25    s(i, j) = sum_u w_ui w_uj, with each interaction weighted as a
 *           BM25 term: w_ui = idf_i (k1 + 1) / (k1 norm_u + 1), idf_i =
 *           log(n_users / (1 + |U_i|)), norm_u = 1 - b + b |I_u| / avg |I|
 *           (rare items and short histories say more about a user)
 *
 * A fitted model is immutable; recommending is thread-safe. */
#ifndef RS_MODELS_KNN_H
#define RS_MODELS_KNN_H

#include <stddef.h>
#include <stdint.h>

#include "core/common.h"
#include "core/csr.h"
#include "core/err.h"
#include "core/topk.h"

typedef enum rs_knn_weight { RS_KNN_COSINE, RS_KNN_BM25 } rs_knn_weight;

/* "cosine", "bm25"; the parser returns -1 for others. */
int rs_knn_weight_parse(const char *s);
const char *rs_knn_weight_name(rs_knn_weight w);

typedef struct rs_knn_opts {
    uint32_t neighbours;  /* kept per item */
    rs_knn_weight weight;
    float bm25_k1, bm25_b;
    int threads;          /* 0: the OpenMP default */
} rs_knn_opts;

#define RS_KNN_DEFAULT_NEIGHBOURS 100
#define RS_KNN_DEFAULT_BM25_K1 1.2
#define RS_KNN_DEFAULT_BM25_B 0.75
void rs_knn_opts_default(rs_knn_opts *o);

typedef struct rs_knn_model {
    rs_csr sim;         /* n_items rows of neighbours, best first, value = similarity */
    rs_csr user_items;  /* the training interactions scored against (owned
                         * by a fitted model; borrowed in a loaded bundle) */
} rs_knn_model;

/* Fits on the user x item matrix ui. Errors: RS_EINVAL (bad options),
 * RS_ENOMEM. *out is zeroed on error. */
RS_MUST_USE rs_err rs_knn_fit(const rs_csr *ui, const rs_knn_opts *o, rs_knn_model *out,
                              rs_diag *diag);

/* Frees a fitted model; accepts a zeroed struct. */
void rs_knn_destroy(rs_knn_model *m);

/* The recommender interface of eval/evaluate.h; scratch:
 * rs_knn_scratch_bytes. The neighbour rows need not be sorted by column,
 * so any ranked neighbour table (such as similar items) can be used. */
RS_MUST_USE rs_err rs_knn_recommend(const void *model, uint32_t user, const uint32_t *exclude,
                                    size_t n_exclude, size_t k, rs_scored *out, size_t *n,
                                    void *scratch);
size_t rs_knn_scratch_bytes(const rs_knn_model *m);

#endif
