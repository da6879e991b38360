/* Run tracking helpers (see runs.h). */
#include "registry/runs.h"

#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/arena.h"
#include "core/log.h"
#include "core/timeutil.h"

void rs_run_new_id(char id[RS_RUN_ID_CAP])
{
    const int64_t now = rs_now_ms();
    const time_t secs = (time_t)(now / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    unsigned char rnd[3] = {0, 0, 0};
    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
        const uint64_t fallback = (uint64_t)now * 2654435761u ^ (uint64_t)getpid();
        memcpy(rnd, &fallback, sizeof rnd);
    }
    snprintf(id, RS_RUN_ID_CAP, "%04u%02u%02u-%02u%02u%02u-%02x%02x%02x",
             (unsigned)(tm.tm_year + 1900) % 10000u, (unsigned)(tm.tm_mon + 1) % 100u,
             (unsigned)tm.tm_mday % 100u, (unsigned)tm.tm_hour % 100u, (unsigned)tm.tm_min % 100u,
             (unsigned)tm.tm_sec % 100u, rnd[0], rnd[1], rnd[2]);
}

void rs_run_host(char host[RS_HOST_CAP])
{
    if (gethostname(host, RS_HOST_CAP) != 0)
        host[0] = '\0';
    host[RS_HOST_CAP - 1] = '\0';
}

static bool process_gone(int64_t pid)
{
    return pid > 0 && kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

rs_err rs_runs_reap(rs_store *s, size_t *reaped, rs_diag *diag)
{
    char host[RS_HOST_CAP];
    rs_run_host(host);
    rs_arena a;
    rs_arena_init(&a, 8192);
    const rs_run_filter f = {.status = "running"};
    rs_run *runs;
    size_t n, count = 0;
    rs_err e = rs_store_list_runs(s, &f, NULL, 1000, &a, &runs, &n);
    if (e)
        rs_diag_fail(diag, e, "listing running runs: %s", rs_store_errmsg(s));
    for (size_t i = 0; !e && i < n; i++) {
        rs_run r = runs[i];
        if (strcmp(r.host, host) != 0 || !process_gone(r.pid))
            continue;
        r.status = "failed";
        r.ended_ms = rs_now_ms();
        if (r.ended_ms < r.started_ms)
            r.ended_ms = r.started_ms;
        r.error = "the process running it exited before it finished (killed or crashed)";
        if ((e = rs_store_put_run(s, &r)))
            rs_diag_fail(diag, e, "marking run %s failed: %s", r.id, rs_store_errmsg(s));
        else
            count++;
    }
    if (count)
        rs_log_warn("marked runs whose process died as failed", RS_U("runs", count));
    rs_arena_destroy(&a);
    if (reaped)
        *reaped = count;
    return e;
}

/* A stored JSON text as a value (an empty object when it does not parse). */
static json_t *embedded(const char *text)
{
    json_t *j = text ? json_loads(text, 0, NULL) : NULL;
    return j ? j : json_object();
}

static json_t *opt_string(const char *s)
{
    return s ? json_string(s) : json_null();
}

static char *dump(json_t *j)
{
    char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    return s ? s : rs_xstrdup("{}");
}

char *rs_run_json(const rs_run *r)
{
    json_t *j = json_pack(
        "{s:s,s:s,s:s,s:s,s:o,s:I,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:s,s:I}", "id", r->id,
        "kind", r->kind, "status", r->status, "model", r->model ? r->model : "", "parent_id",
        opt_string(r->parent_id), "started_ms", (json_int_t)r->started_ms, "ended_ms",
        r->ended_ms ? json_integer(r->ended_ms) : json_null(), "params", embedded(r->params),
        "data", embedded(r->data), "metrics", embedded(r->metrics), "timings",
        embedded(r->timings), "artifact_uri", opt_string(r->artifact_uri), "version",
        r->version ? json_integer((json_int_t)r->version) : json_null(), "note",
        opt_string(r->note), "error", opt_string(r->error), "host", r->host ? r->host : "",
        "pid", (json_int_t)r->pid);
    return dump(j);
}

char *rs_model_version_json(const rs_model_version *v)
{
    json_t *j = json_pack("{s:s,s:I,s:o,s:s,s:s,s:I,s:s,s:o,s:s,s:I,s:o}", "name", v->name,
                          "version", (json_int_t)v->version, "run_id", opt_string(v->run_id),
                          "uri", v->uri, "checksum", v->checksum, "size_bytes",
                          (json_int_t)v->size_bytes, "stage", v->stage, "metrics",
                          embedded(v->metrics), "note", v->note ? v->note : "", "created_ms",
                          (json_int_t)v->created_ms, "promoted_ms",
                          v->promoted_ms ? json_integer(v->promoted_ms) : json_null());
    return dump(j);
}
