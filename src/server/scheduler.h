/* Training inside `recsys serve`: one background thread runs the training
 * job (registry/job.h) every --retrain-every and whenever POST /v1/train
 * asks, one run at a time, with its own store and model store handles so
 * that requests never wait on it. A run whose version goes to production
 * is swapped in at once; a failed run leaves the served model alone. */
#ifndef RS_SERVER_SCHEDULER_H
#define RS_SERVER_SCHEDULER_H

#include <stdint.h>

#include "core/common.h"
#include "core/err.h"
#include "registry/job.h"
#include "server/service.h"

typedef struct rs_scheduler rs_scheduler;

typedef struct rs_scheduler_opts {
    const char *db_url, *models_url;  /* copied */
    int64_t every_ms;                 /* 0: only when asked */
    rs_job_opts job;                  /* what each run does (kind and id are set per run;
                                       * name and tmp_dir are copied) */
} rs_scheduler_opts;

/* Starts the thread. The first scheduled run comes every_ms after the
 * start, the next ones every_ms after the previous one started, or after
 * it ended when it took longer than that. Errors: RS_EINVAL (bad options),
 * RS_ENOMEM. */
RS_MUST_USE rs_err rs_scheduler_start(rs_service *svc, const rs_scheduler_opts *o,
                                      rs_scheduler **out, rs_diag *diag);

/* Records a new run and hands it to the thread; its id goes to run_id.
 * Errors: RS_ECONFLICT while a run is in progress (run_id gets its id),
 * the store's. */
RS_MUST_USE rs_err rs_scheduler_trigger(rs_scheduler *sc, char run_id[RS_RUN_ID_CAP],
                                        rs_diag *diag);

/* The run in progress ("" when none). */
void rs_scheduler_current(rs_scheduler *sc, char run_id[RS_RUN_ID_CAP]);

/* The time between scheduled runs in ms; 0 when runs come only when
 * asked. */
int64_t rs_scheduler_every_ms(const rs_scheduler *sc);

/* Stops the thread and frees sc. A run in progress is stopped at its next
 * ALS iteration (it is recorded as failed; production is untouched) and
 * waited for. Accepts NULL. */
void rs_scheduler_stop(rs_scheduler *sc);

#endif
