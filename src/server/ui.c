/* The web UI: GET / (its page) and GET /ui/{file} (its scripts, styles
 * and Chart.js), embedded in the binary from web/ui (server/assets.h). The
 * page talks to the API like any client. */
#include <stdio.h>

#include "server/assets.h"
#include "server/handlers.h"

/* The page runs only its own files and talks only to this server: an id
 * or title that smuggles in markup cannot run a script. */
#define UI_CSP                                                                          \
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " \
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "    \
    "frame-ancestors 'none'"

void rs__h_ui(rs_service *s, const rs_http_request *req, const char *arg,
              rs_http_response *resp)
{
    (void)s;
    char name[300];
    snprintf(name, sizeof name, "/ui/%.256s", arg ? arg : "index.html");
    rs_asset_reply(req, arg ? name : "/", resp);
    if (resp->status == 200 || resp->status == 304)
        resp->csp = UI_CSP;
}
