/* An offline experiment: split a data set, fit the chosen models on the
 * training part, and measure each on the test part — ranking metrics for
 * every model that recommends, RMSE and MAE for the rating model. What
 * `recsys eval` prints and `recsys train` records with a model version. */
#ifndef RS_EVAL_EXPERIMENT_H
#define RS_EVAL_EXPERIMENT_H

#include <stddef.h>
#include <stdint.h>

#include "core/common.h"
#include "core/err.h"
#include "data/dataset.h"
#include "data/split.h"
#include "eval/evaluate.h"
#include "models/fit.h"

typedef struct rs_experiment_opts {
    unsigned models;          /* RS_MODEL_* flags to measure */
    rs_split_opts split;
    size_t k;                 /* 10 when 0 */
    rs_model_params params;
    float diversity;          /* > 0: ALS and hybrid lists are re-ranked by
                               * maximal marginal relevance (models/rerank.h) */
} rs_experiment_opts;

/* One model's results. rmse/mae are NaN for models that do not predict
 * ratings; the ranking metrics are NaN for SIMILAR, which is measured
 * through the item-to-item recommender its neighbour lists give. */
typedef struct rs_model_result {
    const char *model;        /* "popularity", "als", ... */
    const char *split;        /* "random", ... */
    const char *protocol;     /* "normal", "cold-items", "cold-users" */
    uint32_t keep;            /* cold-users: interactions kept per test user */
    float diversity;          /* the re-ranking's lambda (0: none) */
    size_t k;
    rs_eval_result topk;
    double rmse, mae;
    double fit_seconds;
    double peak_rss_mb;       /* the process's peak resident memory after the fit */
    uint32_t train_users, test_users;
    size_t train_interactions, test_interactions;
} rs_model_result;

typedef void (*rs_result_fn)(void *ctx, const rs_model_result *r);

/* Splits d->ui, fits each model on the training part, evaluates it on the
 * test part and calls on_result once per model, in flag order. The hybrid
 * needs d->features (rs_dataset_opts.content). Errors: the split's or a
 * model's (diag says which model). */
RS_MUST_USE rs_err rs_experiment_run(const rs_dataset *d, const rs_experiment_opts *o,
                                     rs_result_fn on_result, void *ctx, rs_diag *diag);

/* The metrics of a result, as flags for choosing which to print. */
enum {
    RS_METRIC_PRECISION = 1u << 0,
    RS_METRIC_RECALL = 1u << 1,
    RS_METRIC_NDCG = 1u << 2,
    RS_METRIC_MAP = 1u << 3,
    RS_METRIC_HIT_RATE = 1u << 4,
    RS_METRIC_COVERAGE = 1u << 5,
    RS_METRIC_DIVERSITY = 1u << 6,
    RS_METRIC_NOVELTY = 1u << 7,
    RS_METRIC_RMSE = 1u << 8,
    RS_METRIC_MAE = 1u << 9,
    RS_METRIC_RATING = RS_METRIC_RMSE | RS_METRIC_MAE,
    RS_METRIC_ALL = (1u << 10) - 1,
};

/* "precision", "recall", "ndcg", "map", "hit_rate", "coverage",
 * "diversity", "novelty", "rmse", "mae" -> its flag; "all" -> every flag;
 * 0 for anything else. */
unsigned rs_metric_parse(const char *name);

/* Writes r as one JSON object (no newline) into buf with the metrics in
 * the `metrics` flags (plus the model, split, k, timings and sizes);
 * returns the length (truncated output if cap is too small, as
 * snprintf). */
size_t rs_model_result_json(const rs_model_result *r, unsigned metrics, char *buf, size_t cap);

#endif
