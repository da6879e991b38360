/* The server's Prometheus metrics: request counts by route and status, a
 * request-duration histogram by route, recommendation fallbacks by reason,
 * model reloads and the training runs of the server's scheduler. Lock-free counters (relaxed atomics) updated from the
 * request threads; rs_metrics_render writes the text exposition format. */
#ifndef RS_SERVER_METRICS_H
#define RS_SERVER_METRICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "core/common.h"

/* The routes as the metrics name them (route="..."). */
typedef enum rs_route_id {
    RS_ROUTE_RECOMMEND,
    RS_ROUTE_SIMILAR,
    RS_ROUTE_POPULAR,
    RS_ROUTE_EVENTS,
    RS_ROUTE_USERS,
    RS_ROUTE_ITEMS,
    RS_ROUTE_HEALTHZ,
    RS_ROUTE_READYZ,
    RS_ROUTE_METRICS,
    RS_ROUTE_DOCS,
    RS_ROUTE_TRAIN,
    RS_ROUTE_RUNS,
    RS_ROUTE_MODELS,
    RS_ROUTE_STATUS,
    RS_ROUTE_CATEGORIES,
    RS_ROUTE_UI,        /* the web UI's page and files */
    RS_ROUTE_OTHER,     /* 404s and 405s */
    RS_ROUTE_COUNT,
} rs_route_id;

/* Statuses counted one by one; others fall in the last slot. */
#define RS_METRIC_STATUSES 14
#define RS_METRIC_BUCKETS 12

typedef enum rs_fallback {
    RS_FALLBACK_NO_MODEL,      /* no collaborative model in the served version */
    RS_FALLBACK_UNKNOWN_USER,  /* the user is not in the model */
    RS_FALLBACK_COUNT,
} rs_fallback;

typedef struct rs_metrics {
    atomic_uint_fast64_t requests[RS_ROUTE_COUNT][RS_METRIC_STATUSES];
    atomic_uint_fast64_t duration_bucket[RS_ROUTE_COUNT][RS_METRIC_BUCKETS];
    atomic_uint_fast64_t duration_count[RS_ROUTE_COUNT];
    atomic_uint_fast64_t duration_sum_ns[RS_ROUTE_COUNT];
    atomic_uint_fast64_t fallbacks[RS_FALLBACK_COUNT];
    atomic_uint_fast64_t reloads, reload_failures;
    atomic_uint_fast64_t events;   /* ingested through the API */
    atomic_uint_fast64_t foldins;  /* user vectors recomputed from new events */
    atomic_uint_fast64_t train_finished, train_failed;  /* runs of this server's scheduler */
    atomic_uint_fast64_t train_running;                 /* 1 while one runs */
    atomic_uint_fast64_t train_last_success_ms;         /* 0: none yet */
} rs_metrics;

void rs_metrics_init(rs_metrics *m);

/* Counts one answered request. */
void rs_metrics_request(rs_metrics *m, rs_route_id route, int status, double seconds);

void rs_metrics_fallback(rs_metrics *m, rs_fallback why);

/* What the exposition reports about the served model (version 0: none). */
typedef struct rs_metrics_model {
    uint64_t version;
    double load_seconds;
    double age_seconds;  /* since it was trained */
    double ndcg, recall; /* its held-out metrics; NaN when not evaluated */
} rs_metrics_model;

/* The text exposition format (version 0.0.4), malloc'd; *len its length. */
char *rs_metrics_render(const rs_metrics *m, const rs_metrics_model *model, size_t *len);

#endif
