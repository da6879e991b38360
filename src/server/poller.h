/* The model poller of `recsys serve`: one thread that loads the registry's
 * production version every --poll and whenever it is woken (SIGHUP, a
 * promotion or rollback over HTTP, a training that promoted a version), so
 * that neither the signal handling nor a request ever waits on a download.
 * Stopping it cancels a download in progress. */
#ifndef RS_SERVER_POLLER_H
#define RS_SERVER_POLLER_H

#include <stdint.h>

#include "core/common.h"
#include "core/err.h"
#include "server/service.h"

typedef struct rs_poller rs_poller;

/* Starts the thread; it first polls poll_ms after the start (0: only when
 * woken). Errors: RS_ENOMEM. */
RS_MUST_USE rs_err rs_poller_start(rs_service *svc, int64_t poll_ms, rs_poller **out,
                                   rs_diag *diag);

/* Asks for a reload now; returns at once. */
void rs_poller_wake(rs_poller *p);

/* Stops the thread (cancelling a download in progress) and frees p.
 * Accepts NULL. */
void rs_poller_stop(rs_poller *p);

#endif
