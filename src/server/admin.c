/* The admin routes: POST /v1/train (a training run now), the runs
 * (GET /v1/runs, /v1/runs/{id}) and the model registry (GET /v1/models,
 * POST /v1/models/{version}/promote, POST /v1/models/rollback). A change
 * of the production version is loaded by this server at once; the others
 * follow within their poll interval. */
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"
#include "models/bundle.h"
#include "registry/registry.h"
#include "registry/runs.h"
#include "server/handlers.h"
#include "server/scheduler.h"

#define RUNS_MAX_LIMIT 500

/* A JSON text made by registry/runs.c as a value. */
static json_t *parsed(char *text)
{
    json_t *j = json_loads(text, 0, NULL);
    rs_free(text);
    return j ? j : json_object();
}

void rs__h_train(rs_service *s, const rs_http_request *req, const char *arg,
                 rs_http_response *resp)
{
    (void)arg;
    if (!rs__query_only(req, resp, (const char *const[]){NULL}))
        return;
    if (!s->scheduler) {
        rs_http_problem(resp, 501, "this server does not train (it runs without a scheduler)");
        return;
    }
    char id[RS_RUN_ID_CAP];
    rs_diag d = {{0}};
    rs_err e = rs_scheduler_trigger(s->scheduler, id, &d);
    if (e == RS_ECONFLICT) {
        rs_http_problem(resp, 409, "%s", d.msg);
        return;
    }
    if (e) {
        rs_http_problem(resp, 503, "%s", d.msg);
        return;
    }
    rs_log_info("training requested", RS_S("run", id));
    rs__reply_json(resp, 202, json_pack("{s:s,s:s}", "run_id", id, "status", "running"));
}

typedef struct list_runs {
    rs_run_filter f;
    const char *after;
    size_t limit;
    rs_arena arena;
    rs_run *runs;
    size_t n;
} list_runs;

static rs_err do_list_runs(rs_store *st, void *ctx)
{
    list_runs *l = ctx;
    return rs_store_list_runs(st, &l->f, l->after, l->limit, &l->arena, &l->runs, &l->n);
}

void rs__h_runs_list(rs_service *s, const rs_http_request *req, const char *arg,
                     rs_http_response *resp)
{
    (void)arg;
    static const char *const params[] = {"model", "status", "kind", "parent", "limit",
                                         "cursor", NULL};
    list_runs l = {0};
    int64_t limit;
    if (!rs__query_only(req, resp, params) ||
        !rs__query_text(req, resp, "model", 64, &l.f.model) ||
        !rs__query_text(req, resp, "status", 64, &l.f.status) ||
        !rs__query_text(req, resp, "kind", 64, &l.f.kind) ||
        !rs__query_text(req, resp, "parent", 64, &l.f.parent_id) ||
        !rs__query_text(req, resp, "cursor", 64, &l.after) ||
        !rs__query_int(req, resp, "limit", 50, 1, RUNS_MAX_LIMIT, &limit))
        return;
    if (l.f.model && !rs_model_parse(l.f.model)) {
        rs_http_problem(resp, 400,
                        "model must be popularity, als, similar, knn, mf or hybrid, not '%.40s'",
                        l.f.model);
        return;
    }
    l.limit = (size_t)limit;
    rs_arena_init(&l.arena, 65536);
    if (rs__store_read(s, do_list_runs, &l, resp)) {
        json_t *arr = json_array();
        for (size_t i = 0; i < l.n; i++)
            json_array_append_new(arr, parsed(rs_run_json(&l.runs[i])));
        json_t *next = l.n == l.limit ? json_string(l.runs[l.n - 1].id) : json_null();
        rs__reply_json(resp, 200, json_pack("{s:o,s:o}", "runs", arr, "next_cursor", next));
    }
    rs_arena_destroy(&l.arena);
}

typedef struct get_run {
    const char *id;
    rs_arena arena;
    rs_run run;
} get_run;

static rs_err do_get_run(rs_store *st, void *ctx)
{
    get_run *g = ctx;
    return rs_store_get_run(st, g->id, &g->arena, &g->run);
}

void rs__h_run_get(rs_service *s, const rs_http_request *req, const char *arg,
                   rs_http_response *resp)
{
    if (!rs__query_only(req, resp, (const char *const[]){NULL}))
        return;
    get_run g = {.id = arg};
    rs_arena_init(&g.arena, 8192);
    if (rs__store_read(s, do_get_run, &g, resp))
        rs__reply_json(resp, 200, parsed(rs_run_json(&g.run)));
    rs_arena_destroy(&g.arena);
}

typedef struct list_versions {
    const char *name;
    rs_arena arena;
    rs_model_version *vs;
    size_t n;
} list_versions;

static rs_err do_list_versions(rs_store *st, void *ctx)
{
    list_versions *l = ctx;
    return rs_store_list_model_versions(st, l->name, &l->arena, &l->vs, &l->n);
}

void rs__h_models_list(rs_service *s, const rs_http_request *req, const char *arg,
                       rs_http_response *resp)
{
    (void)arg;
    if (!rs__query_only(req, resp, (const char *const[]){NULL}))
        return;
    list_versions l = {.name = s->model_name};
    rs_arena_init(&l.arena, 65536);
    if (rs__store_read(s, do_list_versions, &l, resp)) {
        json_t *arr = json_array();
        json_t *production = json_null();
        for (size_t i = 0; i < l.n; i++) {
            json_array_append_new(arr, parsed(rs_model_version_json(&l.vs[i])));
            if (!strcmp(l.vs[i].stage, "production"))
                production = json_integer((json_int_t)l.vs[i].version);
        }
        rs_snapshot *snap = rs_service_acquire(s);
        json_t *serving = snap ? json_integer((json_int_t)snap->version) : json_null();
        rs_snapshot_release(snap);
        rs__reply_json(resp, 200, json_pack("{s:s,s:o,s:o,s:o}", "name", s->model_name,
                                            "production", production, "serving", serving,
                                            "versions", arr));
    }
    rs_arena_destroy(&l.arena);
}

static void registry_problem(rs_http_response *resp, rs_err e, const char *msg, int not_found)
{
    rs_http_problem(resp, e == RS_ENOTFOUND ? not_found : e == RS_EINVAL ? 400 : 503, "%s", msg);
}

void rs__h_model_promote(rs_service *s, const rs_http_request *req, const char *arg,
                         rs_http_response *resp)
{
    if (!rs__query_only(req, resp, (const char *const[]){NULL}))
        return;
    char *end;
    const unsigned long long version = strtoull(arg, &end, 10);
    if (*end || version == 0 || arg[0] < '1' || arg[0] > '9') {
        rs_http_problem(resp, 400, "version: '%.40s' is not a version number (1, 2, ...)", arg);
        return;
    }
    uint64_t replaced;
    rs_diag d = {{0}};
    rs_store *st = rs_store_pool_acquire(&s->stores);
    rs_err e = rs_registry_promote(st, s->model_name, version, &replaced, &d);
    rs_store_pool_release(&s->stores, st);
    if (e) {
        registry_problem(resp, e, d.msg, 404);
        return;
    }
    rs_log_info("version promoted", RS_U("version", version), RS_U("replaced", replaced));
    rs_service_reload_soon(s); /* now rather than at the next poll */
    rs__reply_json(resp, 200, json_pack("{s:I,s:s,s:o}", "version", (json_int_t)version,
                                        "stage", "production", "replaced",
                                        replaced ? json_integer((json_int_t)replaced)
                                                 : json_null()));
}

void rs__h_model_rollback(rs_service *s, const rs_http_request *req, const char *arg,
                          rs_http_response *resp)
{
    (void)arg;
    if (!rs__query_only(req, resp, (const char *const[]){NULL}))
        return;
    uint64_t restored, retired;
    rs_diag d = {{0}};
    rs_store *st = rs_store_pool_acquire(&s->stores);
    rs_err e = rs_registry_rollback(st, s->model_name, &restored, &retired, &d);
    rs_store_pool_release(&s->stores, st);
    if (e) {
        registry_problem(resp, e, d.msg, 409);
        return;
    }
    rs_log_info("rolled back", RS_U("version", restored), RS_U("retired", retired));
    rs_service_reload_soon(s); /* now rather than at the next poll */
    rs__reply_json(resp, 200, json_pack("{s:I,s:s,s:I}", "version", (json_int_t)restored,
                                        "stage", "production", "retired",
                                        (json_int_t)retired));
}
