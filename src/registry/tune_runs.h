/* A hyperparameter search (eval/tune.h) recorded as runs: one "tune" run
 * for the search, one "trial" run per trial under it (its parent), and at
 * the end the best parameters on the tune run, where `recsys train
 * --params-from RUN_ID` reads them. */
#ifndef RS_REGISTRY_TUNE_RUNS_H
#define RS_REGISTRY_TUNE_RUNS_H

#include "core/common.h"
#include "core/err.h"
#include "data/dataset.h"
#include "eval/tune.h"
#include "registry/runs.h"
#include "store/store.h"

typedef struct rs_tune_tracker {
    rs_store *store;              /* borrowed */
    char id[RS_RUN_ID_CAP];       /* the tune run */
    char host[RS_HOST_CAP];
    const char *model;            /* "als" or "hybrid" */
    char *params, *data;          /* the base parameters and data fingerprint (JSON) */
    int64_t started_ms;
    size_t k;
} rs_tune_tracker;

/* Records the tune run for a search of o over d as running. */
RS_MUST_USE rs_err rs_tune_track_start(rs_tune_tracker *t, rs_store *s, const rs_tune_opts *o,
                                       const rs_dataset *d, rs_diag *diag);

/* Records one trial as a finished (pruned ones say so in their note) or
 * failed run. A failure to record is logged, not returned: it does not
 * stop the search. */
void rs_tune_track_trial(rs_tune_tracker *t, const rs_tune_trial *trial);

/* Ends the tune run: finished with the best parameters and the test
 * metrics of the defaults and the best (sum), or failed with error (sum
 * NULL). Frees what start allocated. */
RS_MUST_USE rs_err rs_tune_track_finish(rs_tune_tracker *t, const rs_tune_summary *sum,
                                        const char *error, rs_diag *diag);

#endif
