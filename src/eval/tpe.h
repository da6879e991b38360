/* A Tree-structured Parzen Estimator (Bergstra, Bardenet, Bengio and Kegl
 * 2011, "Algorithms for hyper-parameter optimization"), univariate as in
 * hyperopt and optuna's default: a sequential sampler that proposes the
 * next point of a search space from the scores of the points tried so far.
 *
 * The first n_startup points are drawn at random. After that the
 * observations are split by score into a good group (the best
 * ceil(gamma n), at most max_good) and a bad one; each dimension gets two
 * Gaussian Parzen estimators in its (log-)transformed space, l(x) over the
 * good values and g(x) over the bad ones, each with a broad prior
 * component and bandwidths from the distances to the neighbouring values
 * (optuna's rule). n_candidates values are drawn from l and the one with
 * the largest log l(x) - log g(x) is proposed. The dimensions are
 * independent, so this is done per dimension: the product of the per-
 * dimension choices maximises the joint ratio over the candidates.
 *
 * Scores are maximised. Deterministic for a seed and a sequence of calls.
 * Not thread-safe: one sampler per search. */
#ifndef RS_EVAL_TPE_H
#define RS_EVAL_TPE_H

#include <stddef.h>
#include <stdint.h>

#include "core/common.h"
#include "core/err.h"

/* How a dimension is searched: uniformly or log-uniformly at the start,
 * and in which space the estimators live. Integer kinds propose whole
 * numbers and treat each as the interval [v - 0.5, v + 0.5]. */
typedef enum rs_tpe_kind {
    RS_TPE_FLOAT,    /* real in [lo, hi] */
    RS_TPE_LOG,      /* real in [lo, hi], lo > 0, searched on log x */
    RS_TPE_INT,      /* whole number in [lo, hi] */
    RS_TPE_LOG_INT,  /* whole number in [lo, hi], lo >= 1, searched on log x */
} rs_tpe_kind;

typedef struct rs_tpe_dim {
    const char *name;  /* borrowed: must outlive the sampler */
    rs_tpe_kind kind;
    double lo, hi;     /* inclusive, lo < hi; whole numbers for the integer kinds */
} rs_tpe_dim;

/* What became of a trial. */
typedef enum rs_trial_status {
    RS_TRIAL_FINISHED,  /* ran to the end; its score is final */
    RS_TRIAL_PRUNED,    /* stopped early; its score is the last intermediate one */
    RS_TRIAL_FAILED,    /* no score */
} rs_trial_status;

/* "finished", "pruned", "failed". */
const char *rs_trial_status_name(rs_trial_status s);

typedef struct rs_tpe_opts {
    uint32_t n_startup;     /* observations proposed at random first */
    uint32_t n_candidates;  /* draws from l(x) per proposal and dimension */
    double gamma;           /* share of the observations in the good group, (0, 1] */
    uint32_t max_good;      /* cap on the good group, >= 1 */
    double prior_weight;    /* weight of each estimator's prior component, > 0 */
    uint64_t seed;
} rs_tpe_opts;

#define RS_TPE_DEFAULT_STARTUP 8
#define RS_TPE_DEFAULT_CANDIDATES 24
#define RS_TPE_DEFAULT_GAMMA 0.25
#define RS_TPE_DEFAULT_MAX_GOOD 25
/* The defaults above, prior weight 1 and seed 0. */
void rs_tpe_opts_default(rs_tpe_opts *o);

typedef struct rs_tpe rs_tpe;

/* A sampler over dims[0..n_dims) (copied; the names stay borrowed).
 * Errors: RS_EINVAL for an empty space, a bad dimension or a bad option
 * (diag names it); *out is NULL then. */
RS_MUST_USE rs_err rs_tpe_new(const rs_tpe_dim *dims, size_t n_dims, const rs_tpe_opts *o,
                              rs_tpe **out, rs_diag *diag);

/* Frees the sampler; accepts NULL. */
void rs_tpe_free(rs_tpe *t);

/* Writes the next point to try into x[0..n_dims), in the original space
 * (whole numbers for the integer kinds, always within [lo, hi]). Random
 * while fewer than n_startup observations are recorded. */
void rs_tpe_suggest(rs_tpe *t, double *x);

/* Records the outcome of trying x. A finished trial counts with its score;
 * a pruned one with the score it last reported at `step` (step is ignored
 * otherwise): it ranks below every finished trial, and among pruned ones
 * a later step ranks higher, then the score, as optuna ranks them. Failed
 * trials, and finished or pruned ones whose score is not finite, are not
 * recorded. Errors: RS_EINVAL when x is outside the space (nothing is
 * recorded then). */
RS_MUST_USE rs_err rs_tpe_observe(rs_tpe *t, const double *x, rs_trial_status status,
                                  double score, uint32_t step);

/* The observations recorded so far. */
size_t rs_tpe_count(const rs_tpe *t);

#endif
