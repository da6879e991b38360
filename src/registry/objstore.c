/* The backend-independent half of the model store (objstore.h): URL
 * dispatch to a backend by scheme, the key rules, object URIs, and the
 * SHA-256 of local files. Backends (objstore_file.c, objstore_s3.c) see
 * only keys that passed rs__objstore_check_key. */
#include "objstore_impl.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"

/* --- opening --------------------------------------------------------- */

static const rs__objstore_ops *const backends[] = {
    &rs__objstore_file_ops,
    &rs__objstore_s3_ops,
};

rs_err rs_objstore_open(const char *url, rs_objstore **out, rs_diag *diag)
{
    *out = NULL;
    if (!url || !*url)
        return rs_diag_fail(diag, RS_EINVAL,
                            "empty model store URL (expected file://DIR or s3://BUCKET/PREFIX)");
    for (size_t i = 0; i < RS_ARRAY_LEN(backends); i++) {
        const char *scheme = backends[i]->scheme;
        size_t n = strlen(scheme);
        if (strncmp(url, scheme, n) == 0)
            return backends[i]->open(url + n, out, diag);
    }
    if (!strstr(url, "://"))
        return rs_diag_fail(diag, RS_EINVAL,
                            "'%.200s' is not a model store URL; did you mean file://%.200s ?", url,
                            url);
    return rs_diag_fail(diag, RS_EINVAL,
                        "unknown model store URL scheme in '%.200s' (expected file:// or s3://)",
                        url);
}

void rs_objstore_close(rs_objstore *s)
{
    if (s)
        s->ops->close(s);
}

void rs_objstore_set_cancel(rs_objstore *s, const atomic_bool *cancel)
{
    s->cancel = cancel;
}

const char *rs_objstore_url(const rs_objstore *s)
{
    return s->url;
}

/* --- keys and URIs ----------------------------------------------------- */

rs_err rs__objstore_check_key(const char *key, const char **why)
{
    size_t n = key ? strlen(key) : 0;
    if (n == 0) {
        *why = "empty key";
        return RS_EINVAL;
    }
    if (n > RS__OBJKEY_MAX) {
        *why = "key longer than " RS_XSTR(RS__OBJKEY_MAX) " bytes";
        return RS_EINVAL;
    }
    if (key[0] == '.') {
        *why = "a key may not start with '.'";
        return RS_EINVAL;
    }
    for (size_t i = 0; i < n; i++) {
        char c = key[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '.' || c == '_' || c == '-';
        if (!ok) {
            *why = c == '/' ? "'/' is not allowed in a key"
                            : "a key holds only letters, digits, '.', '_' and '-'";
            return RS_EINVAL;
        }
    }
    return RS_OK;
}

rs_err rs__objstore_check_sha256(const char *sha256)
{
    if (!sha256 || strlen(sha256) != RS_SHA256_HEX - 1)
        return RS_EINVAL;
    for (const char *p = sha256; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return RS_EINVAL;
    return RS_OK;
}

/* Checks key for an operation on store s, with a diag naming both. */
static rs_err check_key(const rs_objstore *s, const char *key, rs_diag *diag)
{
    const char *why;
    if (rs__objstore_check_key(key, &why) != RS_OK)
        return rs_diag_fail(diag, RS_EINVAL, "%s: bad object key '%.255s': %s", s->url,
                            key ? key : "", why);
    return RS_OK;
}

/* The store URL and the separator that goes between it and a key: none
 * when the URL already ends with '/' (the root folder, "file:///"). */
static const char *key_sep(const rs_objstore *s)
{
    size_t n = strlen(s->url);
    return n > 0 && s->url[n - 1] == '/' ? "" : "/";
}

rs_err rs_objstore_uri(const rs_objstore *s, const char *key, char *uri, size_t cap,
                       rs_diag *diag)
{
    rs_err e = check_key(s, key, diag);
    if (e)
        return e;
    int n = snprintf(uri, cap, "%s%s%s", s->url, key_sep(s), key);
    if (n < 0 || (size_t)n >= cap)
        return rs_diag_fail(diag, RS_EINVAL, "%s: the URI of '%s' is longer than %zu bytes",
                            s->url, key, cap ? cap - 1 : 0);
    return RS_OK;
}

rs_err rs_objstore_key(const rs_objstore *s, const char *uri, char *key, size_t cap,
                       rs_diag *diag)
{
    size_t n = strlen(s->url), m = strlen(key_sep(s));
    if (!uri || strncmp(uri, s->url, n) != 0 || strncmp(uri + n, key_sep(s), m) != 0)
        return rs_diag_fail(diag, RS_EINVAL, "'%.300s' is not in the model store %s",
                            uri ? uri : "", s->url);
    const char *k = uri + n + m;
    const char *why;
    if (rs__objstore_check_key(k, &why) != RS_OK)
        return rs_diag_fail(diag, RS_EINVAL, "'%.300s' does not name an object of %s: %s", uri,
                            s->url, why);
    size_t len = strlen(k);
    if (len >= cap)
        return rs_diag_fail(diag, RS_EINVAL, "'%.300s': key longer than %zu bytes", uri,
                            cap ? cap - 1 : 0);
    memcpy(key, k, len + 1);
    return RS_OK;
}

/* --- operations ------------------------------------------------------------ */

rs_err rs_objstore_put_file(rs_objstore *s, const char *key, const char *path,
                            const char *sha256, rs_diag *diag)
{
    rs_err e = check_key(s, key, diag);
    if (e)
        return e;
    if (rs__objstore_check_sha256(sha256) != RS_OK)
        return rs_diag_fail(diag, RS_EINVAL,
                            "%s: put %s: the SHA-256 must be 64 lower-case hex digits", s->url,
                            key);
    return s->ops->put_file(s, key, path, sha256, diag);
}

rs_err rs_objstore_get_file(rs_objstore *s, const char *key, const char *path,
                            char sha256[RS_SHA256_HEX], rs_diag *diag)
{
    sha256[0] = '\0';
    rs_err e = check_key(s, key, diag);
    if (e)
        return e;
    return s->ops->get_file(s, key, path, sha256, diag);
}

rs_err rs_objstore_local_path(const rs_objstore *s, const char *key, char *path, size_t cap,
                              rs_diag *diag)
{
    rs_err e = check_key(s, key, diag);
    if (e)
        return e;
    if (!s->ops->local_path)
        return rs_diag_fail(diag, RS_EUNSUPPORTED, "%s is not a local folder", s->url);
    return s->ops->local_path(s, key, path, cap, diag);
}

rs_err rs_objstore_list(rs_objstore *s, rs_objstore_list_fn fn, void *ctx, rs_diag *diag)
{
    return s->ops->list(s, fn, ctx, diag);
}

rs_err rs_objstore_delete(rs_objstore *s, const char *key, rs_diag *diag)
{
    rs_err e = check_key(s, key, diag);
    if (e)
        return e;
    return s->ops->del(s, key, diag);
}

/* --- digests ------------------------------------------------------------- */

EVP_MD_CTX *rs__digest_new(const EVP_MD *md)
{
    /* Both fail only when OpenSSL cannot allocate a few hundred bytes. */
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx && EVP_DigestInit_ex(ctx, md, NULL) == 1;
    RS_ASSERT(ok);
    return ctx;
}

void rs__digest_restart(EVP_MD_CTX *ctx, const EVP_MD *md)
{
    int ok = EVP_DigestInit_ex(ctx, md, NULL) == 1;
    RS_ASSERT(ok);
}

void rs__digest_hex(EVP_MD_CTX *ctx, char *hex)
{
    static const char digits[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    int ok = EVP_DigestFinal_ex(ctx, md, &n) == 1;
    RS_ASSERT(ok);
    for (unsigned int i = 0; i < n; i++) {
        hex[2 * i] = digits[md[i] >> 4];
        hex[2 * i + 1] = digits[md[i] & 15];
    }
    hex[2 * n] = '\0';
}

rs_err rs_sha256_file(const char *path, char sha256[RS_SHA256_HEX], rs_diag *diag)
{
    sha256[0] = '\0';
    FILE *f = fopen(path, "rb");
    if (!f)
        return rs_diag_fail(diag, RS_EIO, "cannot read %s: %s", path, strerror(errno));
    EVP_MD_CTX *ctx = rs__digest_new(EVP_sha256());
    unsigned char buf[1 << 16];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        EVP_DigestUpdate(ctx, buf, n);
    rs_err e = RS_OK;
    if (ferror(f))
        e = rs_diag_fail(diag, RS_EIO, "cannot read %s: %s", path, strerror(errno));
    else
        rs__digest_hex(ctx, sha256);
    EVP_MD_CTX_free(ctx);
    fclose(f);
    return e;
}
