/* Implicit-feedback matrix factorisation by alternating least squares (Hu,
 * Koren and Volinsky 2008). Every (user, item) pair is a preference p = 1
 * when observed and 0 otherwise, weighted by a confidence
 *
 *     c = 1 + alpha * f(|value|),   f = binary (1), raw (value) or log1p
 *
 * An observed pair with a negative value is negative feedback (a dislike):
 * preference 0, with that confidence, so the fit pushes it down instead of
 * treating it as unobserved (as the `implicit` library does).
 *
 * and the model minimises sum c (p - x_u . y_i)^2 + sum_rows reg_row |x|^2
 * over all pairs (reg_row: see rs_als_opts), alternating exact or approximate solves for the user vectors
 * X and the item vectors Y. The unobserved pairs cost nothing extra: their
 * total is x^T (Y^T Y) x with Y^T Y computed once per half-iteration.
 *
 * Two solvers:
 *   cg        a few conjugate-gradient steps per vector, warm-started from
 *             the previous iteration (as the `implicit` library does):
 *             O(nnz k) per step, never forms the k x k systems
 *   cholesky  the exact solve: per user the system Y^T Y + reg I +
 *             Y_u^T (C_u - I) Y_u is built with one blocked ssyrk on the
 *             user's gathered item rows, then factored (spotrf/spotrs)
 *
 * Float32, OpenMP across users/items, OpenBLAS for the dense algebra.
 * Deterministic for a seed and thread count. */
#ifndef RS_MODELS_ALS_H
#define RS_MODELS_ALS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/common.h"
#include "core/csr.h"
#include "core/err.h"
#include "core/topk.h"

typedef enum rs_als_conf { RS_ALS_CONF_BINARY, RS_ALS_CONF_RAW, RS_ALS_CONF_LOG1P } rs_als_conf;
typedef enum rs_als_solver { RS_ALS_CG, RS_ALS_CHOLESKY } rs_als_solver;

/* Names as on the command line: "binary", "raw", "log1p"; "cg",
 * "cholesky". Parsers return -1 for unknown names. */
int rs_als_conf_parse(const char *s);
const char *rs_als_conf_name(rs_als_conf c);
int rs_als_solver_parse(const char *s);
const char *rs_als_solver_name(rs_als_solver s);

typedef struct rs_als_model rs_als_model;

/* One iteration's report. */
typedef struct rs_als_iter {
    uint32_t iteration, iterations;  /* 1-based */
    double seconds;                  /* this iteration's wall time */
    double loss;                     /* mean weighted loss per pair; NaN unless computed */
    /* The model after this iteration (user factors, then item factors
     * solved against them), borrowed: valid only during the callback and
     * never to be written. Recommending with it (rs_als_recommend) is
     * allowed, from any number of threads. */
    const rs_als_model *model;
} rs_als_iter;

typedef struct rs_als_opts {
    uint32_t factors;     /* k */
    uint32_t iterations;
    float reg;            /* lambda */
    bool reg_by_count;    /* lambda x (observed pairs of the row), as in ALS-WR */
    float reg_count;      /* plus this x (observed pairs of the row): the
                           * regulariser of a row with n pairs is
                           * (reg_by_count ? reg n : reg) + reg_count n */
    float alpha;
    rs_als_conf conf;
    rs_als_solver solver;
    uint32_t cg_steps;
    uint64_t seed;
    int threads;          /* 0: the OpenMP default */
    bool compute_loss;
    void (*progress)(void *ctx, const rs_als_iter *it);
    void *progress_ctx;
    /* Optional early stop: called after every iteration (after progress),
     * on the fitting thread, outside any parallel region; returning true
     * ends the fit, which then fails with RS_ECANCELED, frees everything
     * and says in diag at which iteration it was stopped. NULL: never. */
    bool (*stop)(void *ctx, const rs_als_iter *it);
    void *stop_ctx;
    /* Optional warm start, borrowed for the call: the item factors of an
     * earlier fit, (n_items, factors) row-major, with n_items the
     * matrix's columns and factors as above. The first half-iteration
     * then solves the users against these items instead of against a
     * random start. init_mask (n_items flags, may be NULL: every row is
     * used) marks with 0 the rows to start randomly instead, such as
     * items the earlier model did not have. An item with no interactions
     * ends at zero whatever it started from. RS_EINVAL when a used row
     * holds a non-finite value. */
    const float *init_item_factors;
    const uint8_t *init_mask;
} rs_als_opts;

/* The defaults (measured on MovieLens by bench/quality; see als.c). */
#define RS_ALS_DEFAULT_FACTORS 64
#define RS_ALS_DEFAULT_ITERATIONS 15
#define RS_ALS_DEFAULT_REG 25
#define RS_ALS_DEFAULT_REG_COUNT 0.08
#define RS_ALS_DEFAULT_ALPHA 2.5
#define RS_ALS_DEFAULT_CG_STEPS 3
void rs_als_opts_default(rs_als_opts *o);

struct rs_als_model {
    uint32_t n_users, n_items, factors;
    float *user_factors;  /* (n_users, factors) row-major */
    float *item_factors;  /* (n_items, factors) row-major */
};

/* Fits on the user x item matrix ui. Errors: RS_EINVAL (a bad option,
 * named in diag), RS_ENOMEM, RS_EINTERNAL (the fit diverged to non-finite
 * values), RS_ECANCELED (o->stop asked to stop). *out is zeroed on error. */
RS_MUST_USE rs_err rs_als_fit(const rs_csr *ui, const rs_als_opts *o, rs_als_model *out,
                              rs_diag *diag);

/* Frees the factors; accepts a zeroed struct. */
void rs_als_destroy(rs_als_model *m);

/* The recommender interface of eval/evaluate.h: scores x_u . y_i for every
 * item, the best k not in exclude. A user out of range gets nothing.
 * scratch: rs_als_scratch_bytes bytes. Thread-safe. */
RS_MUST_USE rs_err rs_als_recommend(const void *model, uint32_t user, const uint32_t *exclude,
                                    size_t n_exclude, size_t k, rs_scored *out, size_t *n,
                                    void *scratch);
size_t rs_als_scratch_bytes(const rs_als_model *m);

/* Fold-in: the factor vector of a user with interactions (items[j],
 * values[j]), j < n (items distinct), against the model's fixed item
 * factors, by the exact solve of one ALS half-step with o's confidence and
 * regularisation. G is the model's Y^T Y (k*k, full; rs_als_gram). A user
 * with no interactions gets zeros. scratch: rs_als_fold_in_scratch floats.
 * Returns 0, or the LAPACK error when the system is not positive definite
 * (only possible with reg 0). */
int rs_als_fold_in(const rs_als_model *m, const float *G, const rs_als_opts *o,
                   const uint32_t *items, const float *values, size_t n, float *x, float *scratch);
size_t rs_als_fold_in_scratch(const rs_als_model *m, size_t n);

/* G (k*k) = Y^T Y of the item factors, full (both triangles). */
void rs_als_gram(const rs_als_model *m, float *G);

/* Scores of items[0..n) for a factor vector x (k floats) into out. */
void rs_als_score(const rs_als_model *m, const float *x, const uint32_t *items, size_t n,
                  float *out);

#endif
