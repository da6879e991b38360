/* The training job: what `recsys train`, `recsys serve --retrain-every`
 * and POST /v1/train run. It records a run, trains and evaluates the
 * models (eval/train.h), writes the artifact, publishes it to the
 * registry under the promotion policy, and finishes the run with its
 * metrics, data fingerprint, timings and outcome. A failure at any step
 * marks the run failed with the reason and leaves production as it was. */
#ifndef RS_REGISTRY_JOB_H
#define RS_REGISTRY_JOB_H

#include <stdatomic.h>
#include <stdbool.h>

#include "core/common.h"
#include "core/err.h"
#include "eval/train.h"
#include "registry/objstore.h"
#include "registry/registry.h"
#include "registry/runs.h"
#include "store/store.h"

typedef struct rs_job_opts {
    const char *kind;          /* "train" or "retrain" */
    const char *run_id;        /* from rs_run_new_id, or NULL for a new one */
    const char *name;          /* the model's name in the registry */
    rs_train_opts train;
    rs_registry_policy policy;
    const char *tmp_dir;       /* where the artifact is written before the upload */
    bool warm_start;           /* the final ALS fit starts from the production
                                * version's item factors (eval/train.h) */
    const atomic_bool *cancel; /* when it becomes true, ALS stops at its next
                                * iteration and the run fails; may be NULL */
} rs_job_opts;

typedef struct rs_job_result {
    char run_id[RS_RUN_ID_CAP];
    rs_registry_result reg;    /* the version published */
    uint32_t users, items;
    size_t interactions;
    double score;              /* held-out ndcg of the primary model; NaN without */
    const char *primary;       /* that model's name (static), or NULL */
    double seconds;
    char warm[128];            /* how the warm start went ("" without one) */
} rs_job_result;

/* Runs the job on store s, publishing into objects. The run is recorded
 * in s before anything else (an id given in o->run_id may already have a
 * "running" record, which is taken over). Errors: the step's that failed;
 * the run says it failed and why, unless the store itself failed. */
RS_MUST_USE rs_err rs_job_train(rs_store *s, rs_objstore *objects, const rs_job_opts *o,
                                rs_job_result *out, rs_diag *diag);

/* Records a new "running" run of kind `kind` for o (before handing it to
 * a thread that will call rs_job_train with its id), into id. */
RS_MUST_USE rs_err rs_job_record_start(rs_store *s, const rs_job_opts *o, const char *kind,
                                       char id[RS_RUN_ID_CAP], rs_diag *diag);

#endif
