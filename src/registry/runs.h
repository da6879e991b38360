/* Run tracking helpers over the store's runs (store.h): new run ids, where
 * a run executes, marking runs whose process died as failed, and the
 * export of runs as JSON. */
#ifndef RS_REGISTRY_RUNS_H
#define RS_REGISTRY_RUNS_H

#include <stddef.h>

#include "core/common.h"
#include "core/err.h"
#include "store/store.h"

#define RS_RUN_ID_CAP 32
#define RS_HOST_CAP 256

/* A new run id: the UTC start time and 6 random hex digits,
 * "20261123-101500-3f9a1c", so ids sort by start time. */
void rs_run_new_id(char id[RS_RUN_ID_CAP]);

/* This machine's host name ("" when unknown). */
void rs_run_host(char host[RS_HOST_CAP]);

/* Marks as failed every run still "running" that was started on this host
 * by a process that no longer exists (killed or crashed): its error says
 * so. *reaped (may be NULL) gets their number. */
RS_MUST_USE rs_err rs_runs_reap(rs_store *s, size_t *reaped, rs_diag *diag);

/* r as one JSON object (its JSON fields embedded as objects, not
 * strings); free with rs_free. */
char *rs_run_json(const rs_run *r);

/* v as one JSON object; free with rs_free. */
char *rs_model_version_json(const rs_model_version *v);

#endif
