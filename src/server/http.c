/* libmicrohttpd glue (see http.h).
 *
 * The daemon runs its own epoll threads (a pool of at least two: a single
 * epoll thread stalls past ~128 keep-alive connections in 0.9.75). The
 * access handler is called several times per request: the first call only
 * carries the headers (it allocates the per-request state and, for a body
 * announced larger than the limit, may answer 413 at once), the middle calls
 * carry body pieces (counted against the limit, for chunked bodies too),
 * and the last one answers. Answering on the first call would make
 * libmicrohttpd close keep-alive connections.
 *
 * libmicrohttpd hands the decoded path and query values over as C strings,
 * so a %00 in them would cut them short and a request would be answered
 * for another record or route. The URL is decoded here instead (unescape),
 * noting any NUL byte on the connection, and such a request gets a 400. */
#include "server/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/timeutil.h"

struct rs_http {
    struct MHD_Daemon *d;
    rs_http_opts o;
    uint16_t port;
};

/* One connection (libmicrohttpd's socket context): whether the request
 * being read decoded a NUL byte in its path or query. */
typedef struct conn_state {
    bool nul;
} conn_state;

/* One request in progress (libmicrohttpd's per-request pointer). */
typedef struct pending {
    char *body;
    size_t len, cap;
    bool too_big;
    double started;
    char method[16], path[256];  /* for the access log (path truncated) */
} pending;

const char *rs_http_status_text(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 422: return "Unprocessable Content";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    default: return "Error";
    }
}

void rs_http_problem(rs_http_response *resp, int status, const char *fmt, ...)
{
    char detail[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    /* The detail may quote what the client sent: jansson escapes it, and
     * refuses invalid UTF-8 (hence the fallback). */
    json_t *d = json_string(detail);
    if (!d)
        d = json_string("(the detail quoted bytes that are not UTF-8)");
    json_t *o = json_pack("{s:s,s:s,s:i,s:o}", "type", "about:blank", "title",
                          rs_http_status_text(status), "status", status, "detail", d);
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!text)
        text = rs_xstrdup("{\"type\":\"about:blank\",\"title\":\"Error\"}");
    rs_free(resp->body);
    resp->body = text;
    resp->fixed = NULL;
    resp->len = strlen(text);
    resp->status = status;
    resp->content_type = "application/problem+json";
}

const char *rs_http_query(const rs_http_request *r, const char *name)
{
    for (size_t i = 0; i < r->n_params; i++)
        if (!strcmp(r->params[i].name, name))
            return r->params[i].value;
    return NULL;
}

typedef struct params_ctx {
    rs_http_param *p;
    size_t n;
    bool overflow;
} params_ctx;

static enum MHD_Result add_param(void *cls, enum MHD_ValueKind kind, const char *key,
                                 const char *value)
{
    (void)kind;
    params_ctx *c = cls;
    if (c->n == RS_HTTP_MAX_PARAMS) {
        c->overflow = true;
        return MHD_NO;
    }
    c->p[c->n++] = (rs_http_param){key, value};
    return MHD_YES;
}

static conn_state *conn_of(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    (void)cls;
    (void)c;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        *socket_context = rs_xcalloc(1, sizeof(conn_state));
    } else {
        rs_free(*socket_context);
        *socket_context = NULL;
    }
}

static int hex_digit(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* Decodes %XX in s in place (a '%' not followed by two hex digits stays
 * as it is, as libmicrohttpd's own decoder leaves it) and returns the new
 * length; a decoded NUL byte is noted on the connection. */
static size_t unescape(void *cls, struct MHD_Connection *c, char *s)
{
    (void)cls;
    char *w = s;
    bool nul = false;
    for (const char *r = s; *r; w++) {
        const int hi = r[0] == '%' ? hex_digit(r[1]) : -1, lo = hi >= 0 ? hex_digit(r[2]) : -1;
        if (lo >= 0) {
            *w = (char)(hi * 16 + lo);
            nul = nul || *w == '\0';
            r += 3;
        } else {
            *w = *r++;
        }
    }
    *w = '\0';
    conn_state *cs = nul ? conn_of(c) : NULL;
    if (cs)
        cs->nul = true;
    return (size_t)(w - s);
}

static enum MHD_Result send_response(struct MHD_Connection *c, rs_http_response *resp)
{
    void *data = resp->body ? resp->body : (void *)(resp->fixed ? resp->fixed : "");
    struct MHD_Response *r = MHD_create_response_from_buffer(
        resp->len, data, resp->body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!r) {
        rs_free(resp->body);
        return MHD_NO;
    }
    resp->body = NULL; /* the response owns it now */
    if (resp->content_type)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, resp->content_type);
    if (resp->allow[0])
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, resp->allow);
    if (resp->challenge)
        MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"recsys\"");
    if (resp->csp)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_SECURITY_POLICY, resp->csp);
    if (resp->etag) {
        MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, resp->etag);
        MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    }
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)resp->status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_size, void **state)
{
    (void)version;
    const rs_http *h = cls;
    pending *p = *state;
    if (!p) {
        /* First call: headers only. */
        p = rs_xcalloc(1, sizeof *p);
        p->started = rs_mono_s();
        snprintf(p->method, sizeof p->method, "%s", method);
        snprintf(p->path, sizeof p->path, "%s", url);
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                     MHD_HTTP_HEADER_CONTENT_LENGTH);
        *state = p;
        const unsigned long long announced = cl ? strtoull(cl, NULL, 10) : 0;
        const char *expect = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                         MHD_HTTP_HEADER_EXPECT);
        p->too_big = announced > h->o.body_limit;
        if (p->too_big && ((expect && strcasestr(expect, "100-continue")) ||
                           announced / 64 > h->o.body_limit)) {
            /* Refuse before reading a byte of it: a client that waits for
             * 100 Continue reads the 413 instead, and a body far over the
             * limit is not worth reading (the connection closes). A body a
             * little over it is read and dropped, so that a client that
             * sends it all still gets the 413. */
            rs_http_response resp = {.status = 413};
            rs_http_problem(&resp, 413,
                            "the request body is larger than the limit of %zu bytes",
                            h->o.body_limit);
            return send_response(c, &resp);
        }
        return MHD_YES;
    }
    if (*upload_size) {
        /* A piece of the body: keep it unless past the limit. */
        if (!p->too_big && p->len + *upload_size > h->o.body_limit)
            p->too_big = true;
        if (!p->too_big) {
            if (p->len + *upload_size + 1 > p->cap) {
                size_t cap = (p->len + *upload_size + 1) * 2;
                cap = cap > h->o.body_limit + 1 ? h->o.body_limit + 1 : cap;
                p->body = rs_xrealloc(p->body, cap);
                p->cap = cap;
            }
            memcpy(p->body + p->len, upload_data, *upload_size);
            p->len += *upload_size;
        }
        *upload_size = 0;
        return MHD_YES;
    }
    /* The last call: answer. */
    rs_http_response resp = {.status = 500};
    if (p->too_big) {
        rs_http_problem(&resp, 413, "the request body is larger than the limit of %zu bytes",
                        h->o.body_limit);
    } else {
        if (p->body)
            p->body[p->len] = '\0';
        rs_http_param params[RS_HTTP_MAX_PARAMS];
        params_ctx pc = {params, 0, false};
        MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, add_param, &pc);
        const conn_state *cs = conn_of(c);
        if (cs && cs->nul) {
            rs_http_problem(&resp, 400, "the request's path or query holds a NUL byte (%%00)");
        } else if (pc.overflow) {
            rs_http_problem(&resp, 400, "more than %d query parameters", RS_HTTP_MAX_PARAMS);
        } else {
            rs_http_request req = {
                .method = method,
                .path = url,
                .body = p->body ? p->body : "",
                .body_len = p->len,
                .authorization = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                             MHD_HTTP_HEADER_AUTHORIZATION),
                .if_none_match = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                             MHD_HTTP_HEADER_IF_NONE_MATCH),
                .params = params,
                .n_params = pc.n,
            };
            h->o.handler(h->o.ctx, &req, &resp);
        }
    }
    return send_response(c, &resp);
}

/* Called when a request is done (answered, or its connection dropped). */
static void on_completed(void *cls, struct MHD_Connection *c, void **state,
                         enum MHD_RequestTerminationCode why)
{
    (void)why;
    const rs_http *h = cls;
    conn_state *cs = conn_of(c);
    if (cs)
        cs->nul = false; /* the next request on the connection starts clean */
    pending *p = *state;
    if (!p)
        return;
    if (h->o.access_log && rs_log_enabled(RS_LOG_INFO)) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_HTTP_STATUS);
        rs_log_info("request", RS_S("method", p->method), RS_S("path", p->path),
                    RS_U("status", ci ? ci->http_status : 0),
                    RS_U("us", (uint64_t)((rs_mono_s() - p->started) * 1e6)));
    }
    rs_free(p->body);
    rs_free(p);
    *state = NULL;
}

rs_err rs_http_start(const rs_http_opts *o, rs_http **out, rs_diag *diag)
{
    *out = NULL;
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(o->port)};
    if (inet_pton(AF_INET, o->host, &addr.sin_addr) != 1)
        return rs_diag_fail(diag, RS_EINVAL, "'%s' is not an IPv4 address", o->host);
    rs_http *h = rs_xcalloc(1, sizeof *h);
    h->o = *o;
    const unsigned threads = o->threads < 2 ? 2 : o->threads;
    h->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, o->port, NULL, NULL,
                            on_request, h, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
                            MHD_OPTION_THREAD_POOL_SIZE, threads,
                            MHD_OPTION_CONNECTION_TIMEOUT, o->timeout_s,
                            MHD_OPTION_CONNECTION_LIMIT, 10000u,
                            MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
                            MHD_OPTION_NOTIFY_CONNECTION, on_connection, NULL,
                            MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL, MHD_OPTION_END);
    if (!h->d) {
        int err = errno;
        rs_free(h);
        return rs_diag_fail(diag, RS_EIO, "cannot listen on %s:%u: %s", o->host,
                            (unsigned)o->port, err ? strerror(err) : "libmicrohttpd refused");
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
    h->port = info ? info->port : o->port;
    *out = h;
    return RS_OK;
}

uint16_t rs_http_port(const rs_http *h)
{
    return h->port;
}

void rs_http_stop(rs_http *h)
{
    if (!h)
        return;
    MHD_quiesce_daemon(h->d); /* no new connections; those open are served */
    MHD_stop_daemon(h->d);
    rs_free(h);
}
