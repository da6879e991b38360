/* The API's own description: GET /openapi.json (docs/openapi.yaml as
 * JSON) and Swagger UI at /docs, all served from files embedded in the
 * binary (server/assets.h). */
#include <stdio.h>
#include <string.h>

#include "server/assets.h"
#include "server/handlers.h"

const rs_asset *rs_asset_find(const char *name)
{
    for (const rs_asset *a = rs_assets; a->name; a++)
        if (!strcmp(a->name, name))
            return a;
    return NULL;
}

/* Answers with the embedded file name, or 404. */
static void reply_asset(const char *name, rs_http_response *resp)
{
    const rs_asset *a = rs_asset_find(name);
    if (!a) {
        rs_http_problem(resp, 404, "no file %.200s", name);
        return;
    }
    resp->status = 200;
    resp->fixed = a->start;
    resp->len = (size_t)(a->end - a->start);
    resp->content_type = a->type;
    resp->cacheable = strcmp(name, "/openapi.json") != 0;
}

void rs__h_openapi(rs_service *s, const rs_http_request *req, const char *arg,
                   rs_http_response *resp)
{
    (void)s;
    (void)arg;
    if (rs__query_only(req, resp, (const char *const[]){NULL}))
        reply_asset("/openapi.json", resp);
}

void rs__h_docs(rs_service *s, const rs_http_request *req, const char *arg,
                rs_http_response *resp)
{
    (void)s;
    (void)req;
    char name[300];
    snprintf(name, sizeof name, "/docs/%.256s", arg ? arg : "index.html");
    reply_asset(name, resp);
}
