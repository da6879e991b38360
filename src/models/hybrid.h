/* The hybrid model: collaborative factors where the interactions support
 * them, item content where they do not.
 *
 * A linear map W from an item's content features (data/content.h) to its
 * ALS item factors is fitted by ridge regression on the items with at
 * least min_count interactions,
 *
 *     W = argmin sum_i |f_i W + w0 - y_i|^2 + reg |W|^2
 *
 * in closed form: (F^T F + reg I) W = F^T Y, one Cholesky factorisation
 * of the (terms + 1)^2 system and k right-hand sides (LAPACK). Every item
 * then gets the vector
 *
 *     v_i = n_i / (n_i + blend) y_i + blend / (n_i + blend) (f_i W + w0)
 *
 * with n_i its interactions: a popular item keeps its collaborative
 * vector, a rare one leans on its content, and an item nobody has touched
 * (including one created after training: rs_hybrid_content_vector) is its
 * content prediction. Users keep their ALS vectors (or a fold-in), so the
 * score is x_u . v_i as for ALS, and the ALS recommender, item index and
 * fold-in work on the hybrid's item vectors unchanged (rs_hybrid_view).
 * docs/algorithms.md compares this with the alternatives. */
#ifndef RS_MODELS_HYBRID_H
#define RS_MODELS_HYBRID_H

#include <stddef.h>
#include <stdint.h>

#include "core/common.h"
#include "core/csr.h"
#include "core/err.h"
#include "models/als.h"

typedef struct rs_hybrid_opts {
    float reg;           /* ridge penalty */
    float blend;         /* interactions at which collab and content weigh alike */
    uint32_t min_count;  /* interactions an item needs to train the map */
    int threads;         /* 0: the OpenMP default */
} rs_hybrid_opts;

/* The defaults (measured on MovieLens by docs/algorithms.md's commands). */
#define RS_HYBRID_DEFAULT_REG 0.3
#define RS_HYBRID_DEFAULT_BLEND 1
#define RS_HYBRID_DEFAULT_MIN_COUNT 1
void rs_hybrid_opts_default(rs_hybrid_opts *o);

typedef struct rs_hybrid_model {
    uint32_t n_items, factors, n_terms;
    float *map;           /* (n_terms + 1) x factors row-major: term t's row,
                           * then the intercept w0 */
    float *item_factors;  /* n_items x factors: every item's v_i */
} rs_hybrid_model;

/* Fits on features (n_items x n_terms, rows unit length), the training
 * interactions ui (n_users x n_items) and the ALS model fitted on them.
 * Errors: RS_EINVAL (mismatched shapes or a bad option, named in diag),
 * RS_ENOMEM, RS_EINTERNAL (the system could not be factored). *out is
 * zeroed on error. */
RS_MUST_USE rs_err rs_hybrid_fit(const rs_csr *features, const rs_csr *ui,
                                 const rs_als_model *als, const rs_hybrid_opts *o,
                                 rs_hybrid_model *out, rs_diag *diag);

/* The content prediction f W + w0 (factors floats into out) of a feature
 * row idx[0..n) / val[0..n) (columns below n_terms). */
void rs_hybrid_content_vector(const rs_hybrid_model *m, const uint32_t *idx, const float *val,
                              size_t n, float *out);

/* The ALS model with its item factors replaced by the hybrid's: what the
 * hybrid recommends with. Borrows both. */
rs_als_model rs_hybrid_view(const rs_hybrid_model *m, const rs_als_model *als);

void rs_hybrid_destroy(rs_hybrid_model *m);

#endif
