/* Hyperparameter search for ALS and the hybrid: what `recsys tune` runs.
 *
 * The data are split into train and test exactly as `recsys eval` splits
 * them (data/split.h), and train again, the same way with another seed,
 * into fit and validation parts. Each trial takes a point from a TPE
 * sampler (eval/tpe.h), fits on the fit part and scores nDCG@k on the
 * validation part; the test part is never seen by a trial. ALS reports
 * its model at checkpoints (iterations 2, 4, 8, 16, ... below the last),
 * where the trial is scored on at most check_users validation users and,
 * from prune_min_step on, stopped by the median stopping rule (Golovin et
 * al. 2017, "Google Vizier") when it trails the trials that finished. Finally the library
 * defaults and the best trial's parameters are both fitted on the whole
 * train part and measured on the test part.
 *
 * Trials are reported through a callback as they end; that is how a
 * caller prints them or records each as a run in a tracker. Nothing here
 * writes to a store. */
#ifndef RS_EVAL_TUNE_H
#define RS_EVAL_TUNE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/common.h"
#include "core/err.h"
#include "data/dataset.h"
#include "data/split.h"
#include "eval/tpe.h"
#include "models/fit.h"

/* The searched dimensions, in order (names as the CLI flags):
 *   factors       log-int   16 .. 256
 *   reg           log       0.1 .. 100 (0.001 .. 10 with reg_by_count)
 *   reg-count     log       0.001 .. 1, only when the base's is not 0
 *   alpha         log       0.1 .. 50
 *   iterations    int       4 .. 30
 *   hybrid-reg    log       0.01 .. 10   (hybrid only)
 *   hybrid-blend  log       0.1 .. 10    (hybrid only)
 * Every default lies inside its range. */
#define RS_TUNE_MAX_DIMS 8

/* The space for model (RS_MODEL_ALS or RS_MODEL_HYBRID) around base into
 * dims (room for RS_TUNE_MAX_DIMS); returns the number of dimensions. */
size_t rs_tune_space(unsigned model, const rs_model_params *base, rs_tpe_dim *dims);

/* p's value of each of the n dims into values (clamped into the ranges). */
void rs_tune_values(const rs_tpe_dim *dims, size_t n, const rs_model_params *p, double *values);

/* One checkpoint of a trial: its score after `step` ALS iterations. */
typedef struct rs_tune_step {
    uint32_t step;
    double score;
} rs_tune_step;

/* A trial as it ended; everything is borrowed for the callback only. */
typedef struct rs_tune_trial {
    uint32_t index;                 /* 0-based */
    uint32_t trials;                /* how many the search runs */
    const rs_model_params *params;  /* the full parameters the trial fitted with */
    const rs_tpe_dim *dims;         /* the searched dimensions ... */
    const double *values;           /* ... and their values in this trial */
    size_t n_dims;
    rs_trial_status status;
    const char *error;              /* failed: why; "" otherwise */
    double score;                   /* validation nDCG@k: finished, over every
                                     * validation user; pruned, at its last
                                     * checkpoint; failed, NaN */
    double recall;                  /* finished: validation recall@k; else NaN */
    const rs_tune_step *steps;      /* checkpoints in order */
    size_t n_steps;
    double seconds;                 /* the trial's wall time */
    int best_index;                 /* best finished trial so far, this one
                                     * included; -1 when none */
    double best_score;              /* its score; NaN when none */
} rs_tune_trial;

typedef void (*rs_tune_trial_fn)(void *ctx, const rs_tune_trial *t);

typedef struct rs_tune_opts {
    unsigned model;           /* RS_MODEL_ALS or RS_MODEL_HYBRID */
    uint32_t trials;          /* >= 1 */
    uint64_t seed;            /* the sampler's */
    size_t k;                 /* cut-off of nDCG and recall; 10 when 0 */
    rs_split_opts split;      /* train/test as `recsys eval`; fit/validation
                               * the same with seed + 1 (and, for a time
                               * cut, the cut chosen again on train) */
    double validation_fraction;  /* share of train held out for validation,
                                  * in (0, 1); 0: split.test_fraction */
    rs_model_params base;     /* the fixed parameters; the search varies the
                               * space's dimensions from these */
    const rs_tpe_dim *space;  /* optional, borrowed: the dimensions to search
                               * (names and kinds from rs_tune_space's table,
                               * other bounds allowed), at most
                               * RS_TUNE_MAX_DIMS; NULL: rs_tune_space */
    size_t n_space;
    bool try_base;            /* trial 0 uses base's values (clamped into
                               * the space), as optuna's enqueue_trial */
    uint32_t startup;         /* random trials before TPE */
    bool prune;               /* the median stopping rule */
    uint32_t prune_warmup;    /* finished trials that must have reached a
                               * checkpoint before it can stop anything */
    uint32_t prune_min_step;  /* no stop at checkpoints before this */
    uint32_t check_users;     /* validation users scored at checkpoints */
    rs_tune_trial_fn on_trial;  /* called after every trial; may be NULL */
    void *ctx;                  /* passed to on_trial */
} rs_tune_opts;

/* model ALS, 30 trials, seed 42, k 10, a random 80/20 split with seed 42,
 * base = rs_model_params_default, try_base, 8 random trials, pruning
 * with a warm-up of 4 and from checkpoint 4 (the score at iteration 2
 * barely predicts the final one: docs/algorithms.md), 2000 checkpoint
 * users, no callback. */
void rs_tune_opts_default(rs_tune_opts *o);

typedef struct rs_tune_metrics {
    double ndcg, recall;  /* at k, on the test part; NaN when it is empty */
} rs_tune_metrics;

typedef struct rs_tune_summary {
    rs_tpe_dim dims[RS_TUNE_MAX_DIMS];  /* the space searched (names borrowed) */
    size_t n_dims;
    rs_model_params best;          /* the best trial's parameters */
    rs_model_params defaults;      /* rs_model_params_default (threads from base) */
    int best_trial;                /* its index */
    double best_score;             /* its validation nDCG@k */
    rs_tune_metrics default_test;  /* defaults fitted on train, on test */
    rs_tune_metrics best_test;     /* best fitted on train, on test */
    uint32_t finished, pruned, failed;
    size_t fit_interactions, validation_interactions;
    size_t train_interactions, test_interactions;
    double seconds;                /* the whole search and both final fits */
} rs_tune_summary;

/* Runs the search on d (d->features is needed for the hybrid) and fills
 * *out. A failed trial does not stop the search. Errors: RS_EINVAL (bad
 * options or space, the hybrid without item content, an empty validation
 * part: too little data; diag says which), the split's, RS_EINTERNAL
 * when every trial failed (diag gives the first failure), a final fit's.
 * *out is only meaningful on success. Single-threaded caller; the fits and
 * evaluations use base.threads OpenMP threads. */
RS_MUST_USE rs_err rs_tune_run(const rs_dataset *d, const rs_tune_opts *o, rs_tune_summary *out,
                               rs_diag *diag);

#endif
