/* The route table and dispatch (rs_service_handle): exact paths, 404 for
 * an unknown path, 405 with Allow for a known path and another method,
 * and the metrics of every answer. Also the query-string helpers the
 * handlers share. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/text.h"
#include "core/timeutil.h"
#include "server/handlers.h"

typedef struct route {
    const char *method, *path;
    rs__handler fn;
    rs_route_id id;
} route;

/* Everything DESIGN.md lists; what this version does not serve yet answers
 * 501 (rs__h_later) so that clients see the contract. */
static const route routes[] = {
    {"GET", "/v1/recommend", rs__h_recommend, RS_ROUTE_RECOMMEND},
    {"GET", "/v1/similar", rs__h_similar, RS_ROUTE_SIMILAR},
    {"GET", "/v1/popular", rs__h_popular, RS_ROUTE_POPULAR},
    {"GET", "/healthz", rs__h_healthz, RS_ROUTE_HEALTHZ},
    {"GET", "/readyz", rs__h_readyz, RS_ROUTE_READYZ},
    {"GET", "/metrics", rs__h_metrics, RS_ROUTE_METRICS},
    {"POST", "/v1/events", rs__h_events, RS_ROUTE_EVENTS},
    {"POST", "/v1/users", rs__h_later, RS_ROUTE_OTHER},
    {"GET", "/v1/users", rs__h_later, RS_ROUTE_OTHER},
    {"POST", "/v1/items", rs__h_later, RS_ROUTE_OTHER},
    {"GET", "/v1/items", rs__h_later, RS_ROUTE_OTHER},
    {"POST", "/v1/train", rs__h_later, RS_ROUTE_OTHER},
    {"GET", "/v1/runs", rs__h_later, RS_ROUTE_OTHER},
    {"GET", "/v1/models", rs__h_later, RS_ROUTE_OTHER},
    {"POST", "/v1/models/rollback", rs__h_later, RS_ROUTE_OTHER},
    {"GET", "/openapi.json", rs__h_later, RS_ROUTE_OTHER},
    {"GET", "/docs", rs__h_later, RS_ROUTE_OTHER},
    {"GET", "/", rs__h_later, RS_ROUTE_OTHER},
};

void rs_service_handle(void *ctx, const rs_http_request *req, rs_http_response *resp)
{
    rs_service *s = ctx;
    const double t0 = rs_mono_s();
    const route *hit = NULL;
    bool path_known = false;
    for (size_t i = 0; i < RS_ARRAY_LEN(routes) && !hit; i++) {
        if (strcmp(routes[i].path, req->path) != 0)
            continue;
        path_known = true;
        if (!strcmp(routes[i].method, req->method))
            hit = &routes[i];
    }
    if (hit) {
        hit->fn(s, req, resp);
    } else if (path_known) {
        size_t n = 0;
        for (size_t i = 0; i < RS_ARRAY_LEN(routes); i++)
            if (!strcmp(routes[i].path, req->path) && n < sizeof resp->allow)
                n += (size_t)snprintf(resp->allow + n, sizeof resp->allow - n, "%s%s",
                                      n ? ", " : "", routes[i].method);
        rs_http_problem(resp, 405, "%s does not take %s (allowed: %s)", req->path, req->method,
                        resp->allow);
    } else {
        rs_http_problem(resp, 404, "no route %s", req->path);
    }
    rs_metrics_request(&s->metrics, hit ? hit->id : RS_ROUTE_OTHER, resp->status,
                       rs_mono_s() - t0);
}

void rs__reply_json(rs_http_response *resp, int status, json_t *o)
{
    char *text = o ? json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(7)) : NULL;
    json_decref(o);
    if (!text) {
        rs_http_problem(resp, 500, "could not build the response");
        return;
    }
    rs_free(resp->body);
    resp->body = text;
    resp->len = strlen(text);
    resp->status = status;
    resp->content_type = "application/json";
}

typedef struct only_ctx {
    const char *const *allowed;
    const char *bad;
} only_ctx;

static int check_name(void *ctx, const char *name, const char *value)
{
    (void)value;
    only_ctx *c = ctx;
    for (const char *const *a = c->allowed; *a; a++)
        if (!strcmp(*a, name))
            return 0;
    c->bad = name;
    return 1;
}

bool rs__query_only(const rs_http_request *req, rs_http_response *resp,
                    const char *const *allowed)
{
    only_ctx c = {allowed, NULL};
    if (!rs_http_query_each(req, check_name, &c))
        return true;
    char list[256];
    size_t n = 0;
    for (const char *const *a = allowed; *a && n < sizeof list; a++)
        n += (size_t)snprintf(list + n, sizeof list - n, "%s%s", n ? ", " : "", *a);
    rs_http_problem(resp, 400, "unknown query parameter '%.100s' (known: %s)", c.bad, list);
    return false;
}

bool rs__query_int(const rs_http_request *req, rs_http_response *resp, const char *name,
                   int64_t def, int64_t min, int64_t max, int64_t *out)
{
    const char *v = rs_http_query(req, name);
    if (!v) {
        *out = def;
        return true;
    }
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (!*v || *end || errno || x < min || x > max) {
        rs_http_problem(resp, 400, "%s must be a whole number from %lld to %lld, not '%.60s'",
                        name, (long long)min, (long long)max, v);
        return false;
    }
    *out = x;
    return true;
}

bool rs__query_bool(const rs_http_request *req, rs_http_response *resp, const char *name,
                    bool def, bool *out)
{
    const char *v = rs_http_query(req, name);
    if (!v)
        *out = def;
    else if (!strcmp(v, "true") || !strcmp(v, "1"))
        *out = true;
    else if (!strcmp(v, "false") || !strcmp(v, "0"))
        *out = false;
    else {
        rs_http_problem(resp, 400, "%s must be true or false, not '%.60s'", name, v);
        return false;
    }
    return true;
}

bool rs__query_id(const rs_http_request *req, rs_http_response *resp, const char *name,
                  const char **out)
{
    const char *v = rs_http_query(req, name);
    if (!v) {
        rs_http_problem(resp, 400, "%s is required", name);
        return false;
    }
    const char *why = NULL;
    if (rs_id_check(v, strlen(v), &why) != RS_OK) {
        rs_http_problem(resp, 400, "%s: %s", name, why);
        return false;
    }
    *out = v;
    return true;
}
