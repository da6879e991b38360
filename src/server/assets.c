/* The files embedded in the binary (server/assets.h): finding one by the
 * path it is served at, and answering with it, or with 304 when the
 * client's copy is current. */
#include <string.h>

#include "server/assets.h"
#include "server/http.h"

const rs_asset *rs_asset_find(const char *name)
{
    for (const rs_asset *a = rs_assets; a->name; a++)
        if (!strcmp(a->name, name))
            return a;
    return NULL;
}

/* Whether an If-None-Match value ("*", or tags separated by commas, each
 * maybe weak: W/"x") names etag. */
static bool names_etag(const char *header, const char *etag)
{
    const size_t len = strlen(etag);
    for (const char *p = header; *p;) {
        p += strspn(p, " \t,");
        if (*p == '*')
            return true;
        if (!strncmp(p, "W/", 2))
            p += 2;
        const size_t n = strcspn(p, " \t,");
        if (n == len && !memcmp(p, etag, len))
            return true;
        p += n;
    }
    return false;
}

void rs_asset_reply(const rs_http_request *req, const char *name, rs_http_response *resp)
{
    const rs_asset *a = rs_asset_find(name);
    if (!a) {
        rs_http_problem(resp, 404, "no file %.200s", name);
        return;
    }
    resp->content_type = a->type;
    resp->etag = a->etag;
    if (a->etag && req->if_none_match && names_etag(req->if_none_match, a->etag)) {
        resp->status = 304;
        return;
    }
    resp->status = 200;
    resp->fixed = a->start;
    resp->len = (size_t)(a->end - a->start);
}
