/* The API's own description: GET /openapi.json (docs/openapi.yaml as
 * JSON) and Swagger UI at /docs, all served from files embedded in the
 * binary (server/assets.h). */
#include <stdio.h>

#include "server/assets.h"
#include "server/handlers.h"

void rs__h_openapi(rs_service *s, const rs_http_request *req, const char *arg,
                   rs_http_response *resp)
{
    (void)s;
    (void)arg;
    if (rs__query_only(req, resp, (const char *const[]){NULL}))
        rs_asset_reply(req, "/openapi.json", resp);
}

void rs__h_docs(rs_service *s, const rs_http_request *req, const char *arg,
                rs_http_response *resp)
{
    (void)s;
    char name[300];
    snprintf(name, sizeof name, "/docs/%.256s", arg ? arg : "index.html");
    rs_asset_reply(req, name, resp);
}
