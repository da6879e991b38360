/* Explicit matrix factorisation for rating prediction:
 *
 *     r^(u, i) = mean + b_u + b_i + p_u . q_i
 *
 * clamped to the observed rating range. Unknown users or items fall back to
 * the mean plus whatever biases are known. Two ways to fit it:
 *
 *   gibbs (default)  Bayesian: a Gibbs sampler draws factors, biases and
 *                    their priors' parameters; the model is the posterior
 *                    mean prediction over the sweeps after burn-in,
 *                    compressed back to `factors` dimensions
 *                    (mf_gibbs.c). No learning rate or regularisation to
 *                    tune: the priors adapt to the data. Parallel over
 *                    users/items; deterministic for a seed and thread
 *                    count.
 *   sgd              stochastic gradient descent (shuffled order, rate
 *                    decaying per epoch, L2 on factors and biases);
 *                    single-threaded, deterministic for a seed.
 *
 * On MovieLens 100K u1.base/u1.test (bench/quality) the sampler reaches an
 * RMSE of about 0.909 with 20 factors and 100 sweeps, where the best SGD
 * setting found (128 factors) reaches 0.921 and a biased ALS 0.923 (see
 * mf.c): averaging over the posterior beats any single point estimate. */
#ifndef RS_MODELS_MF_H
#define RS_MODELS_MF_H

#include <stddef.h>
#include <stdint.h>

#include "core/common.h"
#include "core/csr.h"
#include "core/err.h"
#include "core/topk.h"

typedef enum rs_mf_solver { RS_MF_GIBBS, RS_MF_SGD } rs_mf_solver;

/* "gibbs", "sgd" -> solver, or -1; and back. */
int rs_mf_solver_parse(const char *s);
const char *rs_mf_solver_name(rs_mf_solver s);

typedef struct rs_mf_opts {
    rs_mf_solver solver;
    uint32_t factors;
    uint32_t iterations;  /* sweeps (gibbs) or epochs (sgd) */
    uint32_t burn_in;     /* gibbs: sweeps discarded before averaging */
    float reg;            /* sgd: L2 on factors */
    float reg_bias;       /* sgd: L2 on biases */
    float lr;             /* sgd: initial learning rate */
    float decay;          /* sgd: the rate is multiplied by this each epoch */
    float init_std;       /* of the random initial factors */
    uint64_t seed;
    int threads;          /* gibbs: threads (0: all cores); sgd is sequential */
    /* Called after each sweep/epoch with the RMSE on the training ratings
     * (gibbs: of that sweep's sample). */
    void (*progress)(void *ctx, uint32_t iteration, double train_rmse, double seconds);
    void *progress_ctx;
} rs_mf_opts;

/* The defaults, chosen on MovieLens 100K u1.base/u1.test (see mf.c). */
#define RS_MF_DEFAULT_FACTORS 20
#define RS_MF_DEFAULT_ITERATIONS 100
#define RS_MF_DEFAULT_BURN_IN 20
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
 * RS_EINVAL (bad options, no ratings), RS_ENOMEM, RS_EINTERNAL when the
 * fit diverges. *out is zeroed on error. */
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
