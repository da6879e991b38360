/* The route table and dispatch (rs_service_handle): path patterns with
 * one parameter, the API keys, 404 for an unknown path, 405 with Allow for
 * a known path and another method, and the metrics of every answer. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "core/timeutil.h"
#include "server/handlers.h"

/* Who may call a route: anyone, readers (the read key when one is set)
 * or writers (the API key when one is set). */
typedef enum access { OPEN, READ, WRITE } access;

typedef struct route {
    const char *method;
    const char *pattern;  /* segments; "{name}" matches one segment */
    rs__handler fn;
    rs_route_id id;
    access who;
    unsigned roles;       /* mounted by a server with any of these roles */
} route;

/* Which roles mount a route (service.h). */
#define INPUT RS_ROLE_INPUT
#define RECS (RS_ROLE_COLLAB | RS_ROLE_HYBRID | RS_ROLE_POPULARITY)
#define SIMILAR (RS_ROLE_COLLAB | RS_ROLE_HYBRID)
#define POPULAR RS_ROLE_POPULARITY
#define ADMIN RS_ROLE_ADMIN
#define EVERY RS_ROLES_ALL

/* Every route; tests/api checks that this table and docs/openapi.yaml name
 * the same operations. A route a server's roles do not mount does not
 * exist there (404). */
static const route routes[] = {
    {"GET", "/v1/recommend", rs__h_recommend, RS_ROUTE_RECOMMEND, READ, RECS},
    {"GET", "/v1/similar", rs__h_similar, RS_ROUTE_SIMILAR, READ, SIMILAR},
    {"GET", "/v1/popular", rs__h_popular, RS_ROUTE_POPULAR, READ, POPULAR},
    {"POST", "/v1/events", rs__h_events, RS_ROUTE_EVENTS, WRITE, INPUT},
    {"POST", "/v1/users", rs__h_users_post, RS_ROUTE_USERS, WRITE, INPUT},
    {"GET", "/v1/users", rs__h_users_list, RS_ROUTE_USERS, READ, INPUT},
    {"GET", "/v1/users/{id}", rs__h_user_get, RS_ROUTE_USERS, READ, INPUT},
    {"GET", "/v1/users/{id}/events", rs__h_user_events, RS_ROUTE_USERS, READ, INPUT},
    {"POST", "/v1/items", rs__h_items_post, RS_ROUTE_ITEMS, WRITE, INPUT},
    {"GET", "/v1/items", rs__h_items_list, RS_ROUTE_ITEMS, READ, INPUT},
    {"GET", "/v1/categories", rs__h_categories, RS_ROUTE_CATEGORIES, READ, INPUT},
    {"GET", "/v1/items/{id}", rs__h_item_get, RS_ROUTE_ITEMS, READ, INPUT},
    {"PATCH", "/v1/items/{id}", rs__h_item_patch, RS_ROUTE_ITEMS, WRITE, INPUT},
    {"POST", "/v1/train", rs__h_train, RS_ROUTE_TRAIN, WRITE, ADMIN},
    {"GET", "/v1/runs", rs__h_runs_list, RS_ROUTE_RUNS, READ, ADMIN},
    {"GET", "/v1/runs/{id}", rs__h_run_get, RS_ROUTE_RUNS, READ, ADMIN},
    {"GET", "/v1/models", rs__h_models_list, RS_ROUTE_MODELS, READ, ADMIN},
    {"POST", "/v1/models/rollback", rs__h_model_rollback, RS_ROUTE_MODELS, WRITE, ADMIN},
    {"POST", "/v1/models/{version}/promote", rs__h_model_promote, RS_ROUTE_MODELS, WRITE, ADMIN},
    {"GET", "/v1/status", rs__h_status, RS_ROUTE_STATUS, READ, EVERY},
    {"GET", "/healthz", rs__h_healthz, RS_ROUTE_HEALTHZ, OPEN, EVERY},
    {"GET", "/readyz", rs__h_readyz, RS_ROUTE_READYZ, OPEN, EVERY},
    {"GET", "/metrics", rs__h_metrics, RS_ROUTE_METRICS, OPEN, EVERY},
    {"GET", "/openapi.json", rs__h_openapi, RS_ROUTE_DOCS, OPEN, EVERY},
    {"GET", "/docs", rs__h_docs, RS_ROUTE_DOCS, OPEN, EVERY},
    {"GET", "/docs/{file}", rs__h_docs, RS_ROUTE_DOCS, OPEN, EVERY},
    {"GET", "/", rs__h_ui, RS_ROUTE_UI, OPEN, ADMIN},
    {"GET", "/ui/{file}", rs__h_ui, RS_ROUTE_UI, OPEN, ADMIN},
};

/* Path parameters longer than this are refused before any handler runs. */
#define ARG_MAX 1024

typedef enum match { NO_MATCH, MATCH, ARG_TOO_LONG } match;

/* Whether path fits pattern; the text of its "{name}" segment goes to arg
 * ("" when the pattern has none). */
static match match_path(const char *pattern, const char *path, char arg[ARG_MAX + 1])
{
    arg[0] = '\0';
    while (*pattern && *path) {
        if (*pattern == '{') {
            const char *end = strchr(path, '/');
            const size_t len = end ? (size_t)(end - path) : strlen(path);
            if (len == 0)
                return NO_MATCH;
            if (len > ARG_MAX)
                return ARG_TOO_LONG;
            memcpy(arg, path, len);
            arg[len] = '\0';
            path += len;
            pattern = strchr(pattern, '}') + 1;
        } else if (*pattern++ != *path++) {
            return NO_MATCH;
        }
    }
    return *pattern || *path ? NO_MATCH : MATCH;
}

/* Whether authorization carries a bearer token with the given digest. */
static bool bearer_is(const char *authorization, const unsigned char digest[RS_KEY_DIGEST])
{
    if (!authorization || strncasecmp(authorization, "Bearer ", 7) != 0)
        return false;
    unsigned char got[RS_KEY_DIGEST];
    return rs_key_digest(authorization + 7, got) &&
           CRYPTO_memcmp(got, digest, RS_KEY_DIGEST) == 0;
}

/* Whether the request may call a route of class who; sets a 401 if not. */
static bool authorized(const rs_service *s, access who, const rs_http_request *req,
                       rs_http_response *resp)
{
    if (who == OPEN || (who == READ && !s->has_read_key) || (who == WRITE && !s->has_key))
        return true;
    if (s->has_key && bearer_is(req->authorization, s->key))
        return true; /* the API key opens every route */
    if (who == READ && bearer_is(req->authorization, s->read_key))
        return true;
    rs_http_problem(resp, 401, "%s %s needs 'Authorization: Bearer <%s>'%s", req->method,
                    req->path, who == WRITE ? "API key" : "read key or API key",
                    req->authorization ? "; the one given does not match" : "");
    resp->challenge = true;
    return false;
}

void rs_service_handle(void *ctx, const rs_http_request *req, rs_http_response *resp)
{
    rs_service *s = ctx;
    const double t0 = rs_mono_s();
    const route *hit = NULL;
    bool path_known = false, too_long = false;
    char arg[ARG_MAX + 1];
    bool elsewhere = false;  /* a route of another role matches */
    for (size_t i = 0; i < RS_ARRAY_LEN(routes) && !hit; i++) {
        const match m = match_path(routes[i].pattern, req->path, arg);
        if (!(routes[i].roles & s->roles)) {
            elsewhere |= m == MATCH;
            continue;
        }
        too_long |= m == ARG_TOO_LONG;
        if (m != MATCH)
            continue;
        path_known = true;
        if (!strcmp(routes[i].method, req->method))
            hit = &routes[i];
    }
    if (hit) {
        if (authorized(s, hit->who, req, resp))
            hit->fn(s, req, strchr(hit->pattern, '{') ? arg : NULL, resp);
    } else if (path_known) {
        size_t n = 0;
        for (size_t i = 0; i < RS_ARRAY_LEN(routes); i++)
            if ((routes[i].roles & s->roles) &&
                match_path(routes[i].pattern, req->path, arg) == MATCH && n < sizeof resp->allow)
                n += (size_t)snprintf(resp->allow + n, sizeof resp->allow - n, "%s%s",
                                      n ? ", " : "", routes[i].method);
        rs_http_problem(resp, 405, "%.200s does not take %s (allowed: %s)", req->path,
                        req->method, resp->allow);
    } else if (too_long) {
        rs_http_problem(resp, 400, "a path segment is longer than %d bytes", ARG_MAX);
    } else if (elsewhere) {
        char roles[80];
        rs_roles_format(s->roles, roles, sizeof roles);
        rs_http_problem(resp, 404, "%.200s is not served by this server: its roles are %s "
                                   "(--roles)", req->path, roles);
    } else {
        rs_http_problem(resp, 404, "no route %.200s", req->path);
    }
    rs_metrics_request(&s->metrics, hit ? hit->id : RS_ROUTE_OTHER, resp->status,
                       rs_mono_s() - t0);
}
