/* The HTTP layer of `recsys serve`, on libmicrohttpd: a daemon with an
 * epoll thread pool, request bodies collected up to a limit, and one
 * handler call per complete request with a small request/response pair,
 * so that the handlers never see libmicrohttpd. Every error it produces
 * itself (body too large, malformed request) is problem+json, and every
 * request is logged as one access-log line. */
#ifndef RS_SERVER_HTTP_H
#define RS_SERVER_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/common.h"
#include "core/err.h"

/* Query parameters past this many make the request a 400. */
#define RS_HTTP_MAX_PARAMS 32

typedef struct rs_http_param {
    const char *name;
    const char *value;   /* NULL for a bare "?flag" */
} rs_http_param;

/* One complete request, as the handler sees it: plain strings, so that a
 * request can also be made up without a connection (tests, fuzzing). */
typedef struct rs_http_request {
    const char *method;         /* "GET", "POST", ... */
    const char *path;           /* without the query string, percent-decoded */
    const char *body;           /* NUL-terminated; "" when none */
    size_t body_len;
    const char *authorization;  /* the Authorization header; NULL when absent */
    const char *if_none_match;  /* the If-None-Match header; NULL when absent */
    const rs_http_param *params;
    size_t n_params;            /* at most RS_HTTP_MAX_PARAMS */
} rs_http_request;

/* A query parameter's value (NULL when absent or bare); the first when
 * repeated. */
const char *rs_http_query(const rs_http_request *r, const char *name);

typedef struct rs_http_response {
    int status;
    const char *content_type;  /* static string */
    char *body;                /* malloc'd, owned by the response; may be NULL */
    const void *fixed;         /* or bytes that outlive the server (embedded
                                * files), sent instead of body */
    size_t len;
    char allow[64];            /* the Allow header for 405, "" otherwise */
    bool challenge;            /* adds WWW-Authenticate: Bearer (for 401) */
    const char *csp;           /* static string: a Content-Security-Policy
                                * (the web UI's page), or NULL */
    const char *etag;          /* static string: sent as ETag, with
                                * Cache-Control: no-cache (clients keep the
                                * file and check it is current) */
} rs_http_response;

/* The handler: fills resp (status, content type, body). Called from the
 * pool's threads, concurrently. */
typedef void (*rs_http_handler)(void *ctx, const rs_http_request *req, rs_http_response *resp);

typedef struct rs_http_opts {
    const char *host;         /* numeric IPv4 address to bind, "0.0.0.0" for all */
    uint16_t port;            /* 0: any free port (see rs_http_port) */
    unsigned threads;         /* pool size; at least 2 */
    size_t body_limit;        /* bytes; larger bodies get 413 */
    unsigned timeout_s;       /* idle/read timeout per connection */
    bool access_log;          /* one info line per request */
    rs_http_handler handler;
    void *ctx;
} rs_http_opts;

typedef struct rs_http rs_http;

/* Starts serving. Errors: RS_EINVAL for a bad host, RS_EIO when the port
 * cannot be bound (diag says why). */
RS_MUST_USE rs_err rs_http_start(const rs_http_opts *o, rs_http **out, rs_diag *diag);

/* The bound port. */
uint16_t rs_http_port(const rs_http *h);

/* Stops accepting new connections, lets requests in flight finish, closes
 * everything and frees h. Accepts NULL. */
void rs_http_stop(rs_http *h);

/* Sets resp to an application/problem+json error: status, a title from
 * the status, and detail (printf-style). */
void rs_http_problem(rs_http_response *resp, int status, const char *fmt, ...) RS_PRINTF(3, 4);

/* The reason phrase of a status ("Not Found"). */
const char *rs_http_status_text(int status);

#endif
