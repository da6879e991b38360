/* The s3:// model store: the objects of one bucket under a key prefix, on
 * AWS S3 or any S3-compatible server, over HTTP(S) with libcurl. Every
 * request is signed with AWS Signature Version 4 by libcurl
 * (CURLOPT_AWS_SIGV4); we add the payload hash header it signs, and sort
 * and percent-encode query strings ourselves because libcurl signs them as
 * given. Bodies stream between the network and files, hashed on the way,
 * so an artifact is never held in memory. Settings come from the
 * environment, as AWS tools read them (see objstore.h). */
#include "objstore_impl.h"

#include <curl/curl.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/rng.h"
#include "core/timeutil.h"
#include "s3_xml.h"

#define S3_ATTEMPTS 4             /* tries per request, the first included */
#define S3_FIRST_DELAY_S 0.2      /* wait before the second try; doubles after */
#define S3_CONNECT_TIMEOUT_S 10L  /* at most, and never over the request timeout */
#define S3_LOW_SPEED_BYTES 1024L  /* a transfer slower than this many bytes/s ... */
#define S3_LOW_SPEED_TIME_S 30L   /* ... for this many seconds is aborted */
#define S3_TIMEOUT_DEFAULT_S 300L /* RECSYS_S3_TIMEOUT: one try, start to end */
#define S3_PAGE_DEFAULT 1000L     /* RECSYS_S3_PAGE_SIZE: keys per listing page */
#define S3_ERROR_BODY_MAX (64 * 1024)       /* bytes of an error answer kept */
#define S3_LIST_BODY_MAX (16 * 1024 * 1024) /* bytes of one listing page */
#define S3_PREFIX_MAX 512                   /* bytes of the key prefix */
#define S3_TOKEN_MAX 4096                   /* bytes of a continuation token */
#define S3_TEXT_MAX (64 * 1024)             /* URLs and header lines we build */

/* The SHA-256 of nothing: the payload hash of requests without a body. */
static const char empty_sha256[] =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

typedef struct s3_store {
    rs_objstore base;
    CURL *curl;        /* one easy handle, reset before each request */
    char *bucket;      /* owned */
    char *prefix;      /* "" or "a/b" without a leading or trailing '/'; owned */
    char *origin;      /* "http://127.0.0.1:9000" of the bucket URL, for diags; owned */
    char *bucket_url;  /* ".../bucket" (path-style) or "https://bucket.host"; owned */
    int path_style;
    char *key_id;      /* owned */
    char *secret;      /* owned; wiped on close */
    char *token;       /* AWS_SESSION_TOKEN or NULL; owned; wiped on close */
    char sigv4[80];    /* "aws:amz:REGION:s3" */
    long timeout_s;    /* of one try */
    long page_size;    /* keys per listing page, 1..1000 */
    rs_rng rng;        /* jitter of retry delays */
    char curl_err[CURL_ERROR_SIZE];
} s3_store;

static s3_store *as_s3(rs_objstore *s)
{
    return (s3_store *)s;
}

/* --- opening: the URL and the environment ------------------------------ */

static const char *env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

static int is_alnum_lower(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* Bucket names as S3 creates them today: 3-63 bytes of [a-z0-9.-],
 * starting and ending with a letter or digit. */
static int bucket_ok(const char *b, size_t n)
{
    if (n < 3 || n > 63 || !is_alnum_lower(b[0]) || !is_alnum_lower(b[n - 1]))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!is_alnum_lower(b[i]) && b[i] != '.' && b[i] != '-')
            return 0;
    return 1;
}

/* A prefix segment: bytes that need no percent-encoding in a URL path,
 * and not "." or ".." (which URL handling would fold away). */
static int segment_ok(const char *p, size_t n)
{
    if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-' || c == '~'))
            return 0;
    }
    return 1;
}

/* Splits "bucket/some/prefix" into the bucket and a prefix with empty
 * segments dropped, and sets the canonical URL "s3://bucket/some/prefix". */
static rs_err parse_location(s3_store *s, const char *rest, rs_diag *diag)
{
    const char *slash = strchr(rest, '/');
    size_t bn = slash ? (size_t)(slash - rest) : strlen(rest);
    if (!bucket_ok(rest, bn))
        return rs_diag_fail(diag, RS_EINVAL,
                            "model store URL 's3://%.300s': bad bucket name '%.*s' (3-63 "
                            "characters of a-z, 0-9, '.' and '-')",
                            rest, (int)RS_MIN(bn, 100), rest);
    char prefix[S3_PREFIX_MAX + 1];
    size_t pn = 0;
    for (const char *p = slash; p && *p;) {
        while (*p == '/')
            p++;
        size_t n = strcspn(p, "/");
        if (n == 0)
            break;
        if (!segment_ok(p, n))
            return rs_diag_fail(diag, RS_EINVAL,
                                "model store URL 's3://%.300s': bad prefix segment '%.*s' "
                                "(letters, digits, '.', '_', '-' and '~'; not . or ..)",
                                rest, (int)RS_MIN(n, 100), p);
        if (pn + (pn > 0) + n > S3_PREFIX_MAX)
            return rs_diag_fail(diag, RS_EINVAL,
                                "model store URL 's3://%.300s': prefix longer than %d bytes",
                                rest, S3_PREFIX_MAX);
        if (pn > 0)
            prefix[pn++] = '/';
        memcpy(prefix + pn, p, n);
        pn += n;
        p += n;
    }
    prefix[pn] = '\0';
    s->bucket = rs_xstrndup(rest, bn);
    s->prefix = rs_xstrdup(prefix);
    size_t cap = sizeof "s3://" + bn + 1 + pn;
    s->base.url = rs_xmalloc(cap);
    snprintf(s->base.url, cap, "s3://%s%s%s", s->bucket, pn ? "/" : "", prefix);
    return RS_OK;
}

/* True when v holds no control characters (it goes into a header). */
static int header_safe(const char *v)
{
    for (; *v; v++)
        if ((unsigned char)*v < 0x20 || *v == 0x7f)
            return 0;
    return 1;
}

static rs_err read_credentials(s3_store *s, rs_diag *diag)
{
    const char *id = env("AWS_ACCESS_KEY_ID"), *secret = env("AWS_SECRET_ACCESS_KEY");
    const char *token = env("AWS_SESSION_TOKEN");
    if (!id || !secret)
        return rs_diag_fail(diag, RS_EINVAL, "%s: no S3 credentials: set %s", s->base.url,
                            !id && !secret ? "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
                            : !id          ? "AWS_ACCESS_KEY_ID"
                                           : "AWS_SECRET_ACCESS_KEY");
    if (!header_safe(id) || strchr(id, ':') || !header_safe(secret))
        return rs_diag_fail(diag, RS_EINVAL,
                            "%s: AWS_ACCESS_KEY_ID or AWS_SECRET_ACCESS_KEY holds a control "
                            "character%s",
                            s->base.url, strchr(id, ':') ? " or the key id a ':'" : "");
    if (token && !header_safe(token))
        return rs_diag_fail(diag, RS_EINVAL, "%s: AWS_SESSION_TOKEN holds a control character",
                            s->base.url);
    s->key_id = rs_xstrdup(id);
    s->secret = rs_xstrdup(secret);
    s->token = token ? rs_xstrdup(token) : NULL;
    return RS_OK;
}

/* Checks an endpoint "http(s)://host[:port]" (a trailing '/' allowed) and
 * returns its length without the '/'. */
static rs_err check_endpoint(const s3_store *s, const char *var, const char *ep, size_t *len,
                             rs_diag *diag)
{
    size_t n = strlen(ep);
    while (n > 0 && ep[n - 1] == '/')
        n--;
    size_t skip = strncmp(ep, "http://", 7) == 0 ? 7 : strncmp(ep, "https://", 8) == 0 ? 8 : 0;
    int ok = skip > 0 && n > skip && n < 256;
    for (size_t i = skip; ok && i < n; i++)
        ok = (unsigned char)ep[i] > 0x20 && ep[i] != 0x7f && !strchr("/?#@", ep[i]);
    if (!ok)
        return rs_diag_fail(diag, RS_EINVAL,
                            "%s: %s='%.200s' is not an endpoint URL like http://127.0.0.1:9000 "
                            "(scheme, host and port only)",
                            s->base.url, var, ep);
    *len = n;
    return RS_OK;
}

/* Reads the region, the endpoint and the addressing style, and builds the
 * bucket's URL: "ENDPOINT/bucket" (path-style) or "SCHEME://bucket.HOST"
 * (virtual-hosted). */
static rs_err read_endpoint(s3_store *s, rs_diag *diag)
{
    const char *region = env("AWS_REGION");
    if (!region)
        region = env("AWS_DEFAULT_REGION");
    if (!region)
        region = "us-east-1";
    size_t rn = strlen(region);
    if (rn > 40 || strspn(region, "abcdefghijklmnopqrstuvwxyz0123456789-") != rn)
        return rs_diag_fail(diag, RS_EINVAL, "%s: bad AWS_REGION '%.60s'", s->base.url, region);
    snprintf(s->sigv4, sizeof s->sigv4, "aws:amz:%s:s3", region);

    const char *var = "AWS_ENDPOINT_URL_S3", *ep = env(var);
    if (!ep)
        ep = env(var = "AWS_ENDPOINT_URL");
    char aws[128];
    if (!ep) {
        snprintf(aws, sizeof aws, "https://s3.%s.amazonaws.com", region);
        ep = aws;
        var = "AWS_REGION";
    }
    size_t n = 0;
    rs_err e = check_endpoint(s, var, ep, &n, diag);
    if (e)
        return e;
    const char *style = env("RECSYS_S3_PATH_STYLE");
    if (!style)
        s->path_style = ep != aws;
    else if (!strcmp(style, "true") || !strcmp(style, "1"))
        s->path_style = 1;
    else if (!strcmp(style, "false") || !strcmp(style, "0"))
        s->path_style = 0;
    else
        return rs_diag_fail(diag, RS_EINVAL, "%s: RECSYS_S3_PATH_STYLE must be true or false",
                            s->base.url);

    size_t skip = ep[4] == 's' ? 8 : 7;
    const char *host = ep + skip;
    size_t hn = n - skip;
    int numeric = host[0] == '[' || strspn(host, "0123456789.:") == hn;
    if (!s->path_style && numeric)
        return rs_diag_fail(diag, RS_EINVAL,
                            "%s: virtual-hosted addressing needs a host name, not the address "
                            "in %s; set RECSYS_S3_PATH_STYLE=true",
                            s->base.url, var);
    size_t cap = n + strlen(s->bucket) + 4;
    s->bucket_url = rs_xmalloc(cap);
    if (s->path_style) {
        snprintf(s->bucket_url, cap, "%.*s/%s", (int)n, ep, s->bucket);
        s->origin = rs_xstrndup(ep, n);
    } else {
        snprintf(s->bucket_url, cap, "%.*s%s.%.*s", (int)skip, ep, s->bucket, (int)hn, host);
        s->origin = rs_xstrdup(s->bucket_url);
    }
    return RS_OK;
}

/* An integer setting from the environment in [min, max], def when unset. */
static rs_err env_long(const s3_store *s, const char *name, long def, long min, long max,
                       long *out, rs_diag *diag)
{
    const char *v = env(name);
    *out = def;
    if (!v)
        return RS_OK;
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (errno || end == v || *end || x < min || x > max)
        return rs_diag_fail(diag, RS_EINVAL, "%s: %s='%.40s' is not a whole number in %ld..%ld",
                            s->base.url, name, v, min, max);
    *out = x;
    return RS_OK;
}

/* libcurl's process-wide setup, done once whichever thread comes first. A
 * failure here shows as curl_easy_init returning NULL. */
static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
    (void)curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void s3_close(rs_objstore *base)
{
    s3_store *s = as_s3(base);
    curl_easy_cleanup(s->curl);
    if (s->secret)
        OPENSSL_cleanse(s->secret, strlen(s->secret));
    if (s->token)
        OPENSSL_cleanse(s->token, strlen(s->token));
    rs_free(s->secret);
    rs_free(s->token);
    rs_free(s->key_id);
    rs_free(s->bucket_url);
    rs_free(s->origin);
    rs_free(s->prefix);
    rs_free(s->bucket);
    rs_free(s->base.url);
    rs_free(s);
}

static rs_err s3_open(const char *rest, rs_objstore **out, rs_diag *diag)
{
    s3_store *s = rs_xcalloc(1, sizeof *s);
    s->base.ops = &rs__objstore_s3_ops;
    rs_err e = parse_location(s, rest, diag);
    if (!e)
        e = read_credentials(s, diag);
    if (!e)
        e = read_endpoint(s, diag);
    if (!e)
        e = env_long(s, "RECSYS_S3_TIMEOUT", S3_TIMEOUT_DEFAULT_S, 1, 86400, &s->timeout_s, diag);
    if (!e)
        e = env_long(s, "RECSYS_S3_PAGE_SIZE", S3_PAGE_DEFAULT, 1, 1000, &s->page_size, diag);
    if (!e) {
        pthread_once(&curl_once, curl_init_once);
        s->curl = curl_easy_init();
        if (!s->curl)
            e = rs_diag_fail(diag, RS_EIO, "%s: cannot initialise libcurl", s->base.url);
    }
    if (e) {
        s3_close(&s->base);
        return e;
    }
    rs_rng_init(&s->rng, (uint64_t)rs_now_ms() ^ ((uint64_t)getpid() << 40) ^
                             (uint64_t)(uintptr_t)s);
    *out = &s->base;
    return RS_OK;
}

/* --- one request, retried -------------------------------------------------- */

/* A request and what came back. Built by req_init and the op, sent by
 * perform, released by req_destroy. */
typedef struct s3_req {
    s3_store *s;
    const char *method;          /* "GET", "PUT", "HEAD" or "DELETE" */
    const char *op;              /* what diags call it: the method, or "LIST" */
    char *url;                   /* owned */
    char *what;                  /* the object's or the store's s3:// URI, for diags; owned */
    struct curl_slist *headers;  /* owned */
    /* A PUT's body: the file, and the MD5 of the bytes sent in this try. */
    FILE *up;                    /* borrowed */
    const char *up_path;
    uint64_t up_size;
    EVP_MD_CTX *up_md5;          /* owned */
    /* A GET's body when the answer is 2xx, and its SHA-256 in this try. */
    FILE *down;                  /* borrowed */
    const char *down_path;
    EVP_MD_CTX *down_sha;        /* owned */
    /* The answer. */
    long status;                 /* 0 when none */
    char reason[64];             /* the status line's text ("Forbidden") */
    char etag[80];
    char meta_sha256[RS_SHA256_HEX];
    rs_buf body;                 /* any other body: an error document or a listing */
    int body_cut;                /* the body passed its cap and was cut */
    /* A local file failed inside a callback. */
    const char *local_op;        /* "read" or "write"; NULL when none */
    int local_errno;
} s3_req;

static void req_init(s3_req *r, s3_store *s, const char *method, const char *key,
                     size_t body_max)
{
    memset(r, 0, sizeof *r);
    r->s = s;
    r->method = r->op = method;
    size_t cap = strlen(s->base.url) + (key ? strlen(key) + 2 : 1);
    r->what = rs_xmalloc(cap);
    snprintf(r->what, cap, "%s%s%s", s->base.url, key ? "/" : "", key ? key : "");
    rs_buf_init(&r->body, body_max);
}

static void req_destroy(s3_req *r)
{
    curl_slist_free_all(r->headers);
    EVP_MD_CTX_free(r->up_md5);
    EVP_MD_CTX_free(r->down_sha);
    rs_buf_destroy(&r->body);
    rs_free(r->url);
    rs_free(r->what);
}

/* Appends "name: value" to the request's headers. */
static rs_err add_header(s3_req *r, const char *name, const char *value, rs_diag *diag)
{
    rs_buf b;
    rs_buf_init(&b, S3_TEXT_MAX);
    rs_err e = rs_buf_printf(&b, "%s: %s", name, value);
    if (e)
        return rs_diag_fail(diag, e, "%s: the %s header is too long", r->what, name);
    struct curl_slist *l = curl_slist_append(r->headers, rs_buf_str(&b));
    rs_buf_destroy(&b);
    RS_ASSERT(l != NULL); /* fails only when a small allocation does */
    r->headers = l;
    return RS_OK;
}

/* The headers every request carries: the payload hash (which libcurl
 * signs but does not add) and the session token when there is one. */
static rs_err add_auth_headers(s3_req *r, const char *payload_sha256, rs_diag *diag)
{
    rs_err e = add_header(r, "x-amz-content-sha256", payload_sha256, diag);
    if (!e && r->s->token)
        e = add_header(r, "x-amz-security-token", r->s->token, diag);
    return e;
}

/* The URL of object `key`: BUCKET_URL/prefix/key. */
static void object_url(s3_req *r, const char *key)
{
    const s3_store *s = r->s;
    size_t cap = strlen(s->bucket_url) + strlen(s->prefix) + strlen(key) + 3;
    r->url = rs_xmalloc(cap);
    snprintf(r->url, cap, "%s/%s%s%s", s->bucket_url, s->prefix, *s->prefix ? "/" : "", key);
}

/* Matches header line p[0..n) against name (case-insensitively) and copies
 * its trimmed value into out (truncated to cap). */
static int header_value(const char *p, size_t n, const char *name, char *out, size_t cap)
{
    size_t nn = strlen(name);
    if (n <= nn || p[nn] != ':' || strncasecmp(p, name, nn) != 0)
        return 0;
    size_t i = nn + 1;
    while (i < n && (p[i] == ' ' || p[i] == '\t'))
        i++;
    while (n > i && (p[n - 1] == '\r' || p[n - 1] == '\n' || p[n - 1] == ' '))
        n--;
    size_t len = RS_MIN(n - i, cap - 1);
    memcpy(out, p + i, len);
    out[len] = '\0';
    return 1;
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *ud)
{
    s3_req *r = ud;
    size_t n = size * nmemb;
    if (n >= 5 && memcmp(p, "HTTP/", 5) == 0) {
        /* A new answer (after a 100 Continue, say): forget the last one's. */
        r->etag[0] = r->meta_sha256[0] = '\0';
        const char *sp = memchr(p, ' ', n);
        sp = sp ? memchr(sp + 1, ' ', n - (size_t)(sp + 1 - p)) : NULL;
        size_t i = sp ? (size_t)(sp + 1 - p) : n;
        size_t len = n - i;
        while (len > 0 && (p[i + len - 1] == '\r' || p[i + len - 1] == '\n'))
            len--;
        len = RS_MIN(len, sizeof r->reason - 1);
        memcpy(r->reason, p + i, len);
        r->reason[len] = '\0';
    } else if (!header_value(p, n, "etag", r->etag, sizeof r->etag)) {
        header_value(p, n, "x-amz-meta-sha256", r->meta_sha256, sizeof r->meta_sha256);
    }
    return n;
}

/* The body: into the download file while hashing it when the answer is a
 * 2xx to a GET of an object, else into r->body up to its cap. */
static size_t on_body(char *p, size_t size, size_t nmemb, void *ud)
{
    s3_req *r = ud;
    size_t n = size * nmemb;
    long status = 0;
    curl_easy_getinfo(r->s->curl, CURLINFO_RESPONSE_CODE, &status);
    if (r->down && status >= 200 && status < 300) {
        if (fwrite(p, 1, n, r->down) != n) {
            r->local_op = "write";
            r->local_errno = errno;
            return 0;
        }
        EVP_DigestUpdate(r->down_sha, p, n);
        return n;
    }
    size_t room = r->body.max - r->body.len;
    if (n > room)
        r->body_cut = 1;
    if (RS_MIN(n, room) > 0 && rs_buf_append(&r->body, p, RS_MIN(n, room)) != RS_OK) {
        r->local_op = "keep";
        r->local_errno = ENOMEM;
        return 0;
    }
    return n;
}

static size_t on_read(char *p, size_t size, size_t nmemb, void *ud)
{
    s3_req *r = ud;
    size_t got = fread(p, 1, size * nmemb, r->up);
    if (got < size * nmemb && ferror(r->up)) {
        r->local_op = "read";
        r->local_errno = errno;
        return CURL_READFUNC_ABORT;
    }
    EVP_DigestUpdate(r->up_md5, p, got);
    return got;
}

/* libcurl rewinds an upload to send it again; only the start is needed. */
static int on_seek(void *ud, curl_off_t offset, int origin)
{
    s3_req *r = ud;
    if (offset != 0 || origin != SEEK_SET || fseeko(r->up, 0, SEEK_SET) != 0)
        return CURL_SEEKFUNC_CANTSEEK;
    rs__digest_restart(r->up_md5, EVP_md5());
    return CURL_SEEKFUNC_OK;
}

/* Forgets the last try: rewinds the upload, empties the download file,
 * restarts the hashes and drops the last answer. */
static rs_err start_try(s3_req *r, rs_diag *diag)
{
    r->status = 0;
    r->reason[0] = r->etag[0] = r->meta_sha256[0] = '\0';
    r->body_cut = 0;
    rs_buf_reset(&r->body);
    if (r->up) {
        if (fseeko(r->up, 0, SEEK_SET) != 0)
            return rs_diag_fail(diag, RS_EIO, "cannot read %s: %s", r->up_path, strerror(errno));
        rs__digest_restart(r->up_md5, EVP_md5());
    }
    if (r->down) {
        if (fflush(r->down) != 0 || ftruncate(fileno(r->down), 0) != 0 ||
            fseeko(r->down, 0, SEEK_SET) != 0)
            return rs_diag_fail(diag, RS_EIO, "cannot write %s: %s", r->down_path,
                                strerror(errno));
        rs__digest_restart(r->down_sha, EVP_sha256());
    }
    return RS_OK;
}

static bool canceled(const s3_store *s)
{
    return s->base.cancel && atomic_load(s->base.cancel);
}

/* libcurl's progress callback: a non-zero answer aborts the transfer. It
 * is called at least once a second, even while nothing moves. */
static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    (void)ulnow;
    return canceled(ud) ? 1 : 0;
}

/* Sets up the handle for one try of r. */
static rs_err setup_curl(s3_req *r, rs_diag *diag)
{
    s3_store *s = r->s;
    CURL *c = s->curl;
    CURLcode rc = CURLE_OK;
#define SET(opt, val) (rc = rc != CURLE_OK ? rc : curl_easy_setopt(c, opt, val))
    curl_easy_reset(c);
    s->curl_err[0] = '\0';
    SET(CURLOPT_URL, r->url);
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_ERRORBUFFER, s->curl_err);
    SET(CURLOPT_AWS_SIGV4, s->sigv4);
    SET(CURLOPT_USERNAME, s->key_id);
    SET(CURLOPT_PASSWORD, s->secret);
    SET(CURLOPT_HTTPHEADER, r->headers);
    SET(CURLOPT_CONNECTTIMEOUT, RS_MIN(S3_CONNECT_TIMEOUT_S, s->timeout_s));
    SET(CURLOPT_TIMEOUT, s->timeout_s);
    SET(CURLOPT_LOW_SPEED_LIMIT, S3_LOW_SPEED_BYTES);
    SET(CURLOPT_LOW_SPEED_TIME, RS_MIN(S3_LOW_SPEED_TIME_S, s->timeout_s));
    SET(CURLOPT_HEADERFUNCTION, on_header);
    SET(CURLOPT_HEADERDATA, r);
    SET(CURLOPT_NOPROGRESS, 0L);
    SET(CURLOPT_XFERINFOFUNCTION, on_progress);
    SET(CURLOPT_XFERINFODATA, r->s);
    SET(CURLOPT_WRITEFUNCTION, on_body);
    SET(CURLOPT_WRITEDATA, r);
    if (r->up) {
        SET(CURLOPT_UPLOAD, 1L);
        SET(CURLOPT_READFUNCTION, on_read);
        SET(CURLOPT_READDATA, r);
        SET(CURLOPT_SEEKFUNCTION, on_seek);
        SET(CURLOPT_SEEKDATA, r);
        SET(CURLOPT_INFILESIZE_LARGE, (curl_off_t)r->up_size);
    } else if (!strcmp(r->method, "HEAD")) {
        SET(CURLOPT_NOBODY, 1L);
    } else if (!strcmp(r->method, "DELETE")) {
        SET(CURLOPT_CUSTOMREQUEST, "DELETE");
    }
#undef SET
    if (rc != CURLE_OK)
        return rs_diag_fail(diag, RS_EIO, "%s: libcurl refused an option: %s", r->what,
                            curl_easy_strerror(rc));
    return RS_OK;
}

/* Network trouble that may be gone on the next try. */
static int transient(CURLcode rc)
{
    switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return 1;
    default:
        return 0;
    }
}

/* S3's <Code> and <Message> for an error answer, or the status line's
 * text when the answer has no error document (HEAD, a proxy's page). */
static void error_text(const s3_req *r, char *code, size_t code_cap, char *msg, size_t msg_cap)
{
    rs__s3_error_parse(rs_buf_str(&r->body), r->body.len, code, code_cap, msg, msg_cap);
    if (!code[0])
        snprintf(code, code_cap, "%s", r->reason[0] ? r->reason : "no error code");
}

/* Sleeps s seconds, in steps of at most 0.1 s so that a cancel is seen. */
static void sleep_s(const s3_store *st, double s)
{
    while (s > 0 && !canceled(st)) {
        const double step = s < 0.1 ? s : 0.1;
        struct timespec ts = {0, (long)(step * 1e9)};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
            ;
        s -= step;
    }
}

/* The diag for a request that failed every try, or failed in a way
 * another try cannot fix. */
static rs_err give_up(s3_req *r, CURLcode rc, int tries, rs_diag *diag)
{
    if (r->local_op)
        return rs_diag_fail(diag, r->local_errno == ENOMEM ? RS_ENOMEM : RS_EIO,
                            "%s: %s failed: cannot %s %s: %s", r->what, r->op, r->local_op,
                            r->up ? r->up_path : r->down ? r->down_path : "the answer",
                            strerror(r->local_errno));
    /* libcurl's own message names the host and the cause more precisely
     * than curl_easy_strerror when it wrote one. */
    const char *detail = r->s->curl_err[0] ? r->s->curl_err : curl_easy_strerror(rc);
    if (rc != CURLE_OK && transient(rc))
        return rs_diag_fail(diag, RS_EIO, "%s: %s failed: cannot reach %s (%s) after %d attempts",
                            r->what, r->op, r->s->origin, detail, tries);
    if (rc != CURLE_OK)
        return rs_diag_fail(diag, RS_EIO, "%s: %s to %s failed: %s", r->what, r->op,
                            r->s->origin, detail);
    char code[64], msg[200];
    error_text(r, code, sizeof code, msg, sizeof msg);
    return rs_diag_fail(diag, RS_EIO, "%s: %s failed (%ld %s%s%s) after %d attempts", r->what,
                        r->op, r->status, code, *msg ? ": " : "", msg, tries);
}

/* Sends r, trying again on network trouble and on 5xx and 429 answers,
 * up to S3_ATTEMPTS tries with exponentially growing, jittered waits.
 * Returns RS_OK when an answer below 500 came (r->status; the caller
 * judges it), else RS_EIO with a diag. */
static rs_err perform(s3_req *r, rs_diag *diag)
{
    s3_store *s = r->s;
    double delay = S3_FIRST_DELAY_S;
    for (int attempt = 1;; attempt++) {
        rs_err e = start_try(r, diag);
        if (e || (e = setup_curl(r, diag)))
            return e;
        double t0 = rs_mono_s();
        CURLcode rc = curl_easy_perform(s->curl);
        curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &r->status);
        rs_log_debug("s3 request", RS_S("method", r->method), RS_S("url", r->url),
                     RS_I("status", r->status), RS_S("curl", curl_easy_strerror(rc)),
                     RS_F("seconds", rs_mono_s() - t0));
        if (canceled(s))
            return rs_diag_fail(diag, RS_ECANCELED, "%s: %s canceled", r->what, r->op);
        if (r->local_op)
            return give_up(r, rc, attempt, diag);
        int again = rc == CURLE_OK ? r->status >= 500 || r->status == 429 : transient(rc);
        if (!again && rc == CURLE_OK)
            return RS_OK;
        if (!again || attempt == S3_ATTEMPTS)
            return give_up(r, rc, attempt, diag);
        double wait = delay * (0.75 + 0.5 * rs_rng_uniform(&s->rng));
        rs_log_warn("s3 request failed; trying again", RS_S("op", r->op),
                    RS_S("object", r->what), RS_I("status", r->status),
                    RS_S("error", rc != CURLE_OK ? curl_easy_strerror(rc) : r->reason),
                    RS_I("attempt", attempt), RS_F("wait_s", wait));
        sleep_s(s, wait);
        delay *= 2;
    }
}

/* What to check when S3 refuses a request with this error code. */
static const struct {
    const char *code;
    const char *hint;
} hints[] = {
    {"SignatureDoesNotMatch", "check AWS_SECRET_ACCESS_KEY"},
    {"InvalidAccessKeyId", "check AWS_ACCESS_KEY_ID"},
    {"AccessDenied", "check that these credentials may use the bucket"},
    {"InvalidToken", "check AWS_SESSION_TOKEN"},
    {"ExpiredToken", "check AWS_SESSION_TOKEN"},
    {"RequestTimeTooSkewed", "check this machine's clock"},
    {"AuthorizationHeaderMalformed", "check AWS_REGION"},
    {"PermanentRedirect", "check AWS_REGION and the endpoint"},
    {"NoSuchBucket", "check the bucket name in the store URL"},
    {"XAmzContentSHA256Mismatch", "the file changed while it was sent, or its SHA-256 is wrong"},
};

/* The diag for an answer the server gave but the operation cannot use
 * (a 4xx, or a 3xx redirect we do not follow). */
static rs_err refused(const s3_req *r, rs_err e, rs_diag *diag)
{
    char code[64], msg[200];
    error_text(r, code, sizeof code, msg, sizeof msg);
    const char *hint = NULL;
    for (size_t i = 0; i < RS_ARRAY_LEN(hints) && !hint; i++)
        if (!strcmp(code, hints[i].code))
            hint = hints[i].hint;
    if (!hint && r->status == 403)
        hint = "check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY";
    if (!hint && r->status >= 300 && r->status < 400)
        hint = "check AWS_REGION and the endpoint";
    return rs_diag_fail(diag, e, "%s: %s refused (%ld %s%s%s)%s%s", r->what, r->op,
                        r->status, code, *msg ? ": " : "", msg, hint ? "; " : "",
                        hint ? hint : "");
}

static int is_2xx(long status)
{
    return status >= 200 && status < 300;
}

/* --- operations ------------------------------------------------------------- */

/* DELETE of one object; a missing object is fine. */
static rs_err delete_object(s3_store *s, const char *key, rs_diag *diag)
{
    s3_req r;
    req_init(&r, s, "DELETE", key, S3_ERROR_BODY_MAX);
    object_url(&r, key);
    rs_err e = add_auth_headers(&r, empty_sha256, diag);
    if (!e)
        e = perform(&r, diag);
    if (!e && !is_2xx(r.status) && r.status != 404)
        e = refused(&r, RS_EIO, diag);
    req_destroy(&r);
    return e;
}

static rs_err s3_delete(rs_objstore *base, const char *key, rs_diag *diag)
{
    return delete_object(as_s3(base), key, diag);
}

/* True for the 32 hex digits of a single-part upload's ETag (a multipart
 * ETag has a "-N" suffix and is not an MD5 of the object). */
static int is_md5_hex(const char *s)
{
    return strlen(s) == 32 && strspn(s, "0123456789abcdefABCDEF") == 32;
}

/* HEADs object `key` right after its upload and compares the size, the
 * ETag with the MD5 of the bytes sent and the sha256 metadata with the
 * caller's. On a mismatch deletes the object and returns RS_ECORRUPT. */
static rs_err verify_upload(s3_store *s, const char *key, uint64_t size, const char *md5,
                            const char *sha256, rs_diag *diag)
{
    s3_req r;
    req_init(&r, s, "HEAD", key, S3_ERROR_BODY_MAX);
    object_url(&r, key);
    rs_err e = add_auth_headers(&r, empty_sha256, diag);
    if (!e)
        e = perform(&r, diag);
    if (!e && r.status == 404)
        e = rs_diag_fail(diag, RS_EIO, "%s: the object is missing right after its upload",
                         r.what);
    else if (!e && !is_2xx(r.status))
        e = refused(&r, RS_EIO, diag);
    if (e) {
        req_destroy(&r);
        return e;
    }
    curl_off_t len = -1;
    curl_easy_getinfo(s->curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &len);
    char etag[sizeof r.etag], why[300] = "";
    size_t n = strlen(r.etag);
    int quoted = n >= 2 && r.etag[0] == '"' && r.etag[n - 1] == '"';
    snprintf(etag, sizeof etag, "%.*s", (int)(quoted ? n - 2 : n), r.etag + quoted);
    if (len < 0 || (uint64_t)len != size)
        snprintf(why, sizeof why, "it holds %lld bytes, %llu were sent", (long long)len,
                 (unsigned long long)size);
    else if (is_md5_hex(etag) && strcasecmp(etag, md5) != 0)
        snprintf(why, sizeof why, "its ETag %s is not the MD5 of the file, %s", etag, md5);
    else if (r.meta_sha256[0] && strcmp(r.meta_sha256, sha256) != 0)
        snprintf(why, sizeof why, "its sha256 metadata %s is not %s", r.meta_sha256, sha256);
    if (why[0]) {
        rs_diag ignored;
        const char *fate = delete_object(s, key, &ignored) == RS_OK
                               ? "it was deleted"
                               : "deleting it failed too";
        e = rs_diag_fail(diag, RS_ECORRUPT, "%s: the stored object does not match the upload: "
                                            "%s; %s",
                         r.what, why, fate);
    }
    req_destroy(&r);
    return e;
}

static rs_err s3_put(rs_objstore *base, const char *key, const char *path, const char *sha256,
                     rs_diag *diag)
{
    s3_store *s = as_s3(base);
    FILE *f = fopen(path, "rb");
    if (!f)
        return rs_diag_fail(diag, RS_EIO, "cannot read %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return rs_diag_fail(diag, RS_EIO, "cannot upload %s: not a regular file", path);
    }
    s3_req r;
    req_init(&r, s, "PUT", key, S3_ERROR_BODY_MAX);
    object_url(&r, key);
    r.up = f;
    r.up_path = path;
    r.up_size = (uint64_t)st.st_size;
    r.up_md5 = rs__digest_new(EVP_md5());
    rs_err e = add_auth_headers(&r, sha256, diag);
    if (!e)
        e = add_header(&r, "x-amz-meta-sha256", sha256, diag);
    if (!e)
        e = perform(&r, diag);
    if (!e && !is_2xx(r.status))
        e = refused(&r, RS_EIO, diag);
    char md5[2 * EVP_MAX_MD_SIZE + 1];
    if (!e)
        rs__digest_hex(r.up_md5, md5);
    req_destroy(&r);
    fclose(f);
    if (!e)
        e = verify_upload(s, key, (uint64_t)st.st_size, md5, sha256, diag);
    return e;
}

static rs_err s3_get(rs_objstore *base, const char *key, const char *path,
                     char sha256[RS_SHA256_HEX], rs_diag *diag)
{
    s3_store *s = as_s3(base);
    FILE *f = fopen(path, "wb");
    if (!f)
        return rs_diag_fail(diag, RS_EIO, "cannot write %s: %s", path, strerror(errno));
    s3_req r;
    req_init(&r, s, "GET", key, S3_ERROR_BODY_MAX);
    object_url(&r, key);
    r.down = f;
    r.down_path = path;
    r.down_sha = rs__digest_new(EVP_sha256());
    rs_err e = add_auth_headers(&r, empty_sha256, diag);
    if (!e)
        e = perform(&r, diag);
    if (!e && !is_2xx(r.status)) {
        char code[64], msg[8];
        error_text(&r, code, sizeof code, msg, sizeof msg);
        if (r.status == 404 && strcmp(code, "NoSuchBucket") != 0)
            e = rs_diag_fail(diag, RS_ENOTFOUND, "%s: no such object (404 %s)", r.what, code);
        else
            e = refused(&r, RS_EIO, diag);
    }
    if (!e)
        rs__digest_hex(r.down_sha, sha256);
    req_destroy(&r);
    if (fclose(f) != 0 && !e)
        e = rs_diag_fail(diag, RS_EIO, "cannot write %s: %s", path, strerror(errno));
    if (e) {
        sha256[0] = '\0';
        unlink(path);
    }
    return e;
}

/* --- listing ------------------------------------------------------------------ */

/* Appends s percent-encoded as SigV4 wants it: all but A-Z a-z 0-9 - _ . ~
 * as %XX with upper-case hex. */
static rs_err put_encoded(rs_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    rs_err e = RS_OK;
    for (; *s && !e; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~') {
            e = rs_buf_putc(b, (char)c);
        } else {
            char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
            e = rs_buf_append(b, esc, 3);
        }
    }
    return e;
}

/* One query parameter. */
typedef struct qparam {
    const char *name;
    const char *value;
} qparam;

/* Builds "BUCKET_URL[/]?a=1&b=2" with the parameters sorted by name (then
 * value) and percent-encoded: the canonical query string of SigV4, which
 * libcurl signs as it finds it in the URL. */
static rs_err list_url(s3_req *r, qparam *p, size_t n, rs_diag *diag)
{
    for (size_t i = 1; i < n; i++) /* insertion sort: n is tiny */
        for (size_t j = i; j > 0; j--) {
            int c = strcmp(p[j - 1].name, p[j].name);
            if (c < 0 || (c == 0 && strcmp(p[j - 1].value, p[j].value) <= 0))
                break;
            qparam t = p[j - 1];
            p[j - 1] = p[j];
            p[j] = t;
        }
    rs_buf b;
    rs_buf_init(&b, S3_TEXT_MAX);
    rs_err e = rs_buf_printf(&b, "%s%s?", r->s->bucket_url, r->s->path_style ? "" : "/");
    for (size_t i = 0; i < n && !e; i++) {
        if (i > 0)
            e = rs_buf_putc(&b, '&');
        if (!e)
            e = put_encoded(&b, p[i].name);
        if (!e)
            e = rs_buf_putc(&b, '=');
        if (!e)
            e = put_encoded(&b, p[i].value);
    }
    if (e)
        return rs_diag_fail(diag, RS_EIO, "%s: the listing URL is too long", r->what);
    r->url = rs_buf_take(&b, NULL);
    return RS_OK;
}

/* Passes the objects of a page that are directly under the prefix and
 * named by keys on to the caller; skips everything else. */
typedef struct list_ctx {
    rs_objstore_list_fn fn;
    void *ctx;
    const char *prefix; /* "p/" or "" */
    size_t prefix_len;
    char last[RS__OBJKEY_MAX + 1]; /* the last key passed on, for diags */
} list_ctx;

static int on_entry(void *ud, const char *full, uint64_t size)
{
    list_ctx *lc = ud;
    const char *why;
    if (strncmp(full, lc->prefix, lc->prefix_len) != 0)
        return 0;
    const char *key = full + lc->prefix_len;
    if (rs__objstore_check_key(key, &why) != RS_OK)
        return 0;
    snprintf(lc->last, sizeof lc->last, "%s", key);
    return lc->fn(lc->ctx, key, size);
}

/* Fetches and reads one page; token is the continuation token in (""
 * for the first page) and out. */
static rs_err list_page(s3_store *s, list_ctx *lc, char *token, int *truncated, rs_diag *diag)
{
    char max_keys[24];
    snprintf(max_keys, sizeof max_keys, "%ld", s->page_size);
    qparam p[4];
    size_t n = 0;
    if (token[0])
        p[n++] = (qparam){"continuation-token", token};
    p[n++] = (qparam){"list-type", "2"};
    p[n++] = (qparam){"max-keys", max_keys};
    if (lc->prefix_len)
        p[n++] = (qparam){"prefix", lc->prefix};
    s3_req r;
    req_init(&r, s, "GET", NULL, S3_LIST_BODY_MAX);
    r.op = "LIST";
    rs_err e = list_url(&r, p, n, diag);
    if (!e)
        e = add_auth_headers(&r, empty_sha256, diag);
    if (!e)
        e = perform(&r, diag);
    if (!e && !is_2xx(r.status))
        e = refused(&r, RS_EIO, diag);
    if (!e && r.body_cut)
        e = rs_diag_fail(diag, RS_EIO, "%s: a listing page is larger than %d MiB", r.what,
                         S3_LIST_BODY_MAX >> 20);
    const char *why = "";
    char next[S3_TOKEN_MAX];
    if (!e) {
        e = rs__s3_list_parse(rs_buf_str(&r.body), r.body.len, on_entry, lc, truncated, next,
                              sizeof next, &why);
        if (e == RS_ECANCELED)
            e = rs_diag_fail(diag, e, "%s: listing stopped at '%s'", r.what, lc->last);
        else if (e)
            e = rs_diag_fail(diag, RS_EIO, "%s: cannot read the listing: %s", r.what, why);
    }
    if (!e && *truncated && (!next[0] || !strcmp(next, token)))
        e = rs_diag_fail(diag, RS_EIO,
                         "%s: the listing is cut short without a new continuation token",
                         r.what);
    if (!e)
        memcpy(token, next, strlen(next) + 1);
    req_destroy(&r);
    return e;
}

static rs_err s3_list(rs_objstore *base, rs_objstore_list_fn fn, void *ctx, rs_diag *diag)
{
    s3_store *s = as_s3(base);
    char prefix[S3_PREFIX_MAX + 2];
    snprintf(prefix, sizeof prefix, "%s%s", s->prefix, *s->prefix ? "/" : "");
    list_ctx lc = {.fn = fn, .ctx = ctx, .prefix = prefix, .prefix_len = strlen(prefix)};
    char token[S3_TOKEN_MAX] = "";
    int truncated = 1;
    rs_err e = RS_OK;
    while (truncated && !e)
        e = list_page(s, &lc, token, &truncated, diag);
    return e;
}

const rs__objstore_ops rs__objstore_s3_ops = {
    .scheme = "s3://",
    .open = s3_open,
    .close = s3_close,
    .put_file = s3_put,
    .get_file = s3_get,
    .local_path = NULL,
    .list = s3_list,
    .del = s3_delete,
};
