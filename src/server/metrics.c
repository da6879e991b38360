/* Prometheus metrics of the server (see metrics.h). */
#include "server/metrics.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"

static const char *const route_names[RS_ROUTE_COUNT] = {
    "/v1/recommend", "/v1/similar", "/v1/popular", "/v1/events", "/v1/users", "/v1/items",
    "/healthz",      "/readyz",     "/metrics",    "/docs",      "/v1/train", "/v1/runs",
    "/v1/models",    "/v1/status",  "/v1/categories", "/ui", "other",
};

/* The statuses counted one by one; the last slot is "every other". */
static const int statuses[RS_METRIC_STATUSES - 1] = {200, 201, 202, 304, 400, 401, 404,
                                                     405, 409, 413, 500, 501, 503};

/* Upper bounds of the duration buckets in seconds (the last is +Inf). */
static const double bounds[RS_METRIC_BUCKETS - 1] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                     0.01,   0.025,   0.05,   0.1,   1.0};

static const char *const fallback_names[RS_FALLBACK_COUNT] = {"no_model", "unknown_user"};

void rs_metrics_init(rs_metrics *m)
{
    memset(m, 0, sizeof *m);
}

void rs_metrics_request(rs_metrics *m, rs_route_id route, int status, double seconds)
{
    int s = RS_METRIC_STATUSES - 1;
    for (int i = 0; i < RS_METRIC_STATUSES - 1; i++)
        if (statuses[i] == status) {
            s = i;
            break;
        }
    atomic_fetch_add_explicit(&m->requests[route][s], 1, memory_order_relaxed);
    int b = 0;
    while (b < RS_METRIC_BUCKETS - 1 && seconds > bounds[b])
        b++;
    atomic_fetch_add_explicit(&m->duration_bucket[route][b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->duration_count[route], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->duration_sum_ns[route], (uint64_t)(seconds * 1e9),
                              memory_order_relaxed);
}

void rs_metrics_fallback(rs_metrics *m, rs_fallback why)
{
    atomic_fetch_add_explicit(&m->fallbacks[why], 1, memory_order_relaxed);
}

static uint64_t load(const atomic_uint_fast64_t *a)
{
    return atomic_load_explicit(a, memory_order_relaxed);
}

/* The process's resident memory in bytes, or 0 when unknown. */
static uint64_t resident_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long long size = 0, rss = 0;
    if (!f)
        return 0;
    int n = fscanf(f, "%llu %llu", &size, &rss);
    fclose(f);
    return n == 2 ? (uint64_t)rss * (uint64_t)sysconf(_SC_PAGESIZE) : 0;
}

static void render_requests(FILE *f, const rs_metrics *m)
{
    fputs("# HELP recsys_http_requests_total HTTP requests answered, by route and status.\n"
          "# TYPE recsys_http_requests_total counter\n",
          f);
    for (int r = 0; r < RS_ROUTE_COUNT; r++)
        for (int s = 0; s < RS_METRIC_STATUSES; s++) {
            uint64_t v = load(&m->requests[r][s]);
            if (!v)
                continue;
            if (s < RS_METRIC_STATUSES - 1)
                fprintf(f, "recsys_http_requests_total{route=\"%s\",status=\"%d\"} %llu\n",
                        route_names[r], statuses[s], (unsigned long long)v);
            else
                fprintf(f, "recsys_http_requests_total{route=\"%s\",status=\"other\"} %llu\n",
                        route_names[r], (unsigned long long)v);
        }
    fputs("# HELP recsys_http_request_duration_seconds Time to answer a request, by route.\n"
          "# TYPE recsys_http_request_duration_seconds histogram\n",
          f);
    for (int r = 0; r < RS_ROUTE_COUNT; r++) {
        uint64_t cum = 0;
        for (int b = 0; b < RS_METRIC_BUCKETS; b++) {
            cum += load(&m->duration_bucket[r][b]);
            if (b < RS_METRIC_BUCKETS - 1)
                fprintf(f,
                        "recsys_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} "
                        "%llu\n",
                        route_names[r], bounds[b], (unsigned long long)cum);
            else
                fprintf(f,
                        "recsys_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} "
                        "%llu\n",
                        route_names[r], (unsigned long long)cum);
        }
        fprintf(f, "recsys_http_request_duration_seconds_sum{route=\"%s\"} %.9f\n",
                route_names[r], (double)load(&m->duration_sum_ns[r]) / 1e9);
        fprintf(f, "recsys_http_request_duration_seconds_count{route=\"%s\"} %llu\n",
                route_names[r], (unsigned long long)load(&m->duration_count[r]));
    }
}

/* A gauge's value as the exposition format writes it ("NaN" included). */
static const char *gauge(char *buf, size_t cap, double v)
{
    if (isnan(v))
        snprintf(buf, cap, "NaN");
    else
        snprintf(buf, cap, "%.6f", v);
    return buf;
}

char *rs_metrics_render(const rs_metrics *m, const rs_metrics_model *model, size_t *len)
{
    char *text = NULL, ndcg[32], recall[32];
    size_t n = 0;
    FILE *f = open_memstream(&text, &n);
    if (!f)
        return NULL;
    render_requests(f, m);
    fputs("# HELP recsys_recommend_fallbacks_total Recommendations served by popularity "
          "instead of the requested model, by reason.\n"
          "# TYPE recsys_recommend_fallbacks_total counter\n",
          f);
    for (int i = 0; i < RS_FALLBACK_COUNT; i++)
        fprintf(f, "recsys_recommend_fallbacks_total{reason=\"%s\"} %llu\n", fallback_names[i],
                (unsigned long long)load(&m->fallbacks[i]));
    fprintf(f,
            "# HELP recsys_events_ingested_total Events accepted by POST /v1/events.\n"
            "# TYPE recsys_events_ingested_total counter\n"
            "recsys_events_ingested_total %llu\n"
            "# HELP recsys_foldins_total User vectors recomputed from new events.\n"
            "# TYPE recsys_foldins_total counter\n"
            "recsys_foldins_total %llu\n",
            (unsigned long long)load(&m->events), (unsigned long long)load(&m->foldins));
    fprintf(f,
            "# HELP recsys_model_reloads_total Model versions loaded and swapped in.\n"
            "# TYPE recsys_model_reloads_total counter\n"
            "recsys_model_reloads_total %llu\n"
            "# HELP recsys_model_reload_failures_total Model versions refused (failed to load "
            "or verify).\n"
            "# TYPE recsys_model_reload_failures_total counter\n"
            "recsys_model_reload_failures_total %llu\n",
            (unsigned long long)load(&m->reloads), (unsigned long long)load(&m->reload_failures));
    fprintf(f,
            "# HELP recsys_training_runs_total Training runs of this server's scheduler, by "
            "outcome.\n"
            "# TYPE recsys_training_runs_total counter\n"
            "recsys_training_runs_total{status=\"finished\"} %llu\n"
            "recsys_training_runs_total{status=\"failed\"} %llu\n"
            "# HELP recsys_training_in_progress 1 while this server runs a training.\n"
            "# TYPE recsys_training_in_progress gauge\n"
            "recsys_training_in_progress %llu\n"
            "# HELP recsys_training_last_success_timestamp_seconds When this server's last "
            "training run finished (0: none yet).\n"
            "# TYPE recsys_training_last_success_timestamp_seconds gauge\n"
            "recsys_training_last_success_timestamp_seconds %.3f\n",
            (unsigned long long)load(&m->train_finished),
            (unsigned long long)load(&m->train_failed),
            (unsigned long long)load(&m->train_running),
            (double)load(&m->train_last_success_ms) / 1e3);
    fprintf(f,
            "# HELP recsys_model_version The model version being served (0: none).\n"
            "# TYPE recsys_model_version gauge\n"
            "recsys_model_version %llu\n"
            "# HELP recsys_model_load_seconds How long loading the served model took.\n"
            "# TYPE recsys_model_load_seconds gauge\n"
            "recsys_model_load_seconds %.6f\n"
            "# HELP recsys_model_age_seconds Time since the served model was trained.\n"
            "# TYPE recsys_model_age_seconds gauge\n"
            "recsys_model_age_seconds %.3f\n"
            "# HELP recsys_model_ndcg Held-out ndcg@k of the served model (NaN: not evaluated).\n"
            "# TYPE recsys_model_ndcg gauge\n"
            "recsys_model_ndcg %s\n"
            "# HELP recsys_model_recall Held-out recall@k of the served model (NaN: not "
            "evaluated).\n"
            "# TYPE recsys_model_recall gauge\n"
            "recsys_model_recall %s\n"
            "# HELP recsys_process_resident_memory_bytes Resident memory of the process.\n"
            "# TYPE recsys_process_resident_memory_bytes gauge\n"
            "recsys_process_resident_memory_bytes %llu\n",
            (unsigned long long)model->version, model->load_seconds, model->age_seconds,
            gauge(ndcg, sizeof ndcg, model->ndcg), gauge(recall, sizeof recall, model->recall),
            (unsigned long long)resident_bytes());
    if (fclose(f) != 0) {
        rs_free(text);
        return NULL;
    }
    *len = n;
    return text;
}
