/* The private side of objstore.h: the vtable a model-store backend
 * implements, the handle every backend embeds, and helpers the backends
 * share (key checks, hex digests). Included only by objstore*.c, s3_*.c
 * and their unit tests.
 *
 * objstore.c checks every key before a backend sees it, so backends may
 * put a key into a path or URL as it is. */
#ifndef RS_REGISTRY_OBJSTORE_IMPL_H
#define RS_REGISTRY_OBJSTORE_IMPL_H

#include <openssl/evp.h>

#include "objstore.h"

#define RS__OBJKEY_MAX 255 /* the longest key, in bytes */

typedef struct rs__objstore_ops {
    const char *scheme; /* "file://" */
    /* Opens the store named by the URL part after the scheme; the backend
     * allocates its handle and sets base.ops and base.url. */
    rs_err (*open)(const char *rest, rs_objstore **out, rs_diag *diag);
    void (*close)(rs_objstore *s);
    rs_err (*put_file)(rs_objstore *s, const char *key, const char *path, const char *sha256,
                       rs_diag *diag);
    rs_err (*get_file)(rs_objstore *s, const char *key, const char *path,
                       char sha256[RS_SHA256_HEX], rs_diag *diag);
    /* NULL for remote stores. */
    rs_err (*local_path)(const rs_objstore *s, const char *key, char *path, size_t cap,
                         rs_diag *diag);
    rs_err (*list)(rs_objstore *s, rs_objstore_list_fn fn, void *ctx, rs_diag *diag);
    rs_err (*del)(rs_objstore *s, const char *key, rs_diag *diag);
} rs__objstore_ops;

/* The part of every handle that objstore.c reads. A backend's handle
 * starts with this struct. */
struct rs_objstore {
    const rs__objstore_ops *ops;
    char *url; /* canonical URL without a trailing '/' (except "file:///"); owned */
    const atomic_bool *cancel; /* rs_objstore_set_cancel; NULL: never */
};

extern const rs__objstore_ops rs__objstore_file_ops;
extern const rs__objstore_ops rs__objstore_s3_ops;

/* Checks a key against the rules of objstore.h. On failure *why is a
 * static reason ("empty key", "'/' is not allowed in a key"). */
RS_MUST_USE rs_err rs__objstore_check_key(const char *key, const char **why);

/* Checks that sha256 is 64 lower-case hex digits (as rs_sha256_file
 * writes it). */
RS_MUST_USE rs_err rs__objstore_check_sha256(const char *sha256);

/* A new digest context for md (EVP_sha256(), EVP_md5()); aborts when out
 * of memory like the other small allocations. Free with EVP_MD_CTX_free. */
EVP_MD_CTX *rs__digest_new(const EVP_MD *md);
/* Starts ctx over for md, forgetting what it was fed; aborts like
 * rs__digest_new when OpenSSL cannot allocate. */
void rs__digest_restart(EVP_MD_CTX *ctx, const EVP_MD *md);
/* Finishes ctx and writes its digest in lower-case hex into hex (at least
 * 2 * EVP_MAX_MD_SIZE + 1 bytes). ctx may be reinitialised afterwards. */
void rs__digest_hex(EVP_MD_CTX *ctx, char *hex);

#endif
