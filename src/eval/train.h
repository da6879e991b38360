/* The training pipeline behind `recsys train`: load the store's
 * interactions, measure the chosen models on a held-out split, fit them on
 * all the data, and describe the result (parameters, metrics, data
 * fingerprint) in the bundle's metadata, ready to publish. */
#ifndef RS_EVAL_TRAIN_H
#define RS_EVAL_TRAIN_H

#include <stdbool.h>

#include "core/common.h"
#include "core/err.h"
#include "eval/experiment.h"
#include "models/bundle.h"
#include "store/store.h"

typedef struct rs_train_opts {
    unsigned models;          /* RS_MODEL_* flags */
    rs_agg agg;               /* how repeated (user, item) events combine */
    bool evaluate;            /* measure on a held-out split first */
    rs_experiment_opts eval;  /* split, k and params (params are used for the final fit too) */
    rs_result_fn on_result;   /* called per evaluated model (may be NULL) */
    void *ctx;
    /* Optional warm start of the final fit (not of the evaluation, whose
     * held-out part the earlier model has seen): ALS starts from this
     * bundle's item factors, matched by item id, when it has ALS with the
     * same number of factors; new items start randomly. Borrowed. */
    const rs_bundle *warm;
} rs_train_opts;

typedef struct rs_train_report {
    uint32_t users, items;
    size_t interactions;
    uint64_t events;
    double load_seconds, eval_seconds, fit_seconds;
    /* With an evaluation: the held-out metrics as a JSON object {"k",
     * "primary", "ndcg", "recall", "models": {name: result}}, and the
     * primary model's ndcg@k (the one strategy=auto serves: hybrid, then
     * als, ...). Without: NULL and NaN. */
    char *metrics;
    const char *primary;
    double score;
    uint32_t warm_items;  /* items whose factors the final fit started from */
    /* The data fingerprint as a JSON object (users, items, interactions,
     * events, newest_event_ms, hash, aggregation). */
    char *data;
} rs_train_report;

/* Frees the report's strings; accepts a zeroed report. */
void rs_train_report_destroy(rs_train_report *r);

/* Runs the pipeline into *out (a built bundle: free with
 * rs_bundle_destroy) and fills *report (may be NULL; free it with
 * rs_train_report_destroy). Errors: RS_EINVAL when the store has no events (diag
 * says to import some), the store's, the models'. *out is zeroed on error. */
RS_MUST_USE rs_err rs_train(rs_store *s, const rs_train_opts *o, rs_bundle *out,
                            rs_train_report *report, rs_diag *diag);

#endif
