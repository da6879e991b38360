/* The model store: where model artifacts live, behind one interface with
 * backends chosen by URL.
 *
 *   file:///abs/dir, file://rel/dir   a local folder (made absolute at open)
 *   s3://bucket[/prefix]              any S3-compatible server, SigV4-signed
 *
 * S3 settings come from the environment, as AWS tools read them:
 * AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN when
 * set), AWS_REGION or AWS_DEFAULT_REGION (default us-east-1),
 * AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL for an S3-compatible server
 * (http://127.0.0.1:9000), and RECSYS_S3_PATH_STYLE=true|false (default:
 * path-style when an endpoint is given, virtual-hosted otherwise).
 * Requests time out and are retried with exponential backoff on network
 * errors and 5xx answers; a 4xx answer is not retried and its S3 error
 * code and message are in the diagnostic.
 *
 * Objects are named by a key relative to the store ("model-R.rsm"); a
 * key is 1..255 bytes of [A-Za-z0-9._-] and does not start with '.'.
 *
 * Threads: a handle is used from one thread at a time. */
#ifndef RS_REGISTRY_OBJSTORE_H
#define RS_REGISTRY_OBJSTORE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "core/common.h"
#include "core/err.h"

#define RS_SHA256_HEX 65 /* 64 hex digits and a NUL */

typedef struct rs_objstore rs_objstore;

/* Opens the model store at url (creating a file:// folder when missing).
 * Errors: RS_EINVAL for a malformed URL or unknown scheme, RS_EINVAL for
 * an s3:// store without credentials (diag names the missing variable),
 * RS_EIO when the folder cannot be made. Nothing is contacted yet. */
RS_MUST_USE rs_err rs_objstore_open(const char *url, rs_objstore **out, rs_diag *diag);

/* Closes the handle; accepts NULL. */
void rs_objstore_close(rs_objstore *s);

/* Makes transfers of this handle stop when *cancel becomes true (NULL:
 * never): one in progress within about a second, and no retry starts;
 * the call fails with RS_ECANCELED. For a server that must stop while a
 * remote store does not answer. */
void rs_objstore_set_cancel(rs_objstore *s, const atomic_bool *cancel);

/* The store's canonical URL ("file:///abs/dir", "s3://bucket/prefix"). */
const char *rs_objstore_url(const rs_objstore *s);

/* The full URI of object `key` into uri (cap bytes). */
RS_MUST_USE rs_err rs_objstore_uri(const rs_objstore *s, const char *key, char *uri,
                                   size_t cap, rs_diag *diag);

/* The object key of a URI this store made (the part after the store's
 * URL and a '/'); RS_EINVAL when uri is not in this store. */
RS_MUST_USE rs_err rs_objstore_key(const rs_objstore *s, const char *uri, char *key,
                                   size_t cap, rs_diag *diag);

/* Uploads the local file `path` as object `key`, replacing any object of
 * that name, and verifies what the store holds afterwards: its size, and
 * its checksum (file://: the SHA-256 of the written file; s3://: the
 * payload's SHA-256 is signed into the request and the stored ETag is
 * compared with the file's MD5). sha256 is the file's SHA-256 in hex (the
 * caller computed it, see rs_sha256_file). A file:// object is written to
 * a temporary name, synced and renamed, so a reader never sees part of
 * it. Errors: RS_EIO (unreachable, refused, or the local file unreadable),
 * RS_ECORRUPT (the stored object does not match: it is deleted again). */
RS_MUST_USE rs_err rs_objstore_put_file(rs_objstore *s, const char *key, const char *path,
                                        const char *sha256, rs_diag *diag);

/* Downloads object `key` into the local file `path` (created or
 * truncated), and puts the SHA-256 of the bytes received in sha256.
 * Errors: RS_ENOTFOUND when there is no such object, RS_EIO otherwise;
 * path is removed on error. */
RS_MUST_USE rs_err rs_objstore_get_file(rs_objstore *s, const char *key, const char *path,
                                        char sha256[RS_SHA256_HEX], rs_diag *diag);

/* The local path of object `key` when the store is a folder (file://),
 * so that it can be mapped without copying; RS_EUNSUPPORTED for remote
 * stores. */
RS_MUST_USE rs_err rs_objstore_local_path(const rs_objstore *s, const char *key, char *path,
                                          size_t cap, rs_diag *diag);

/* Calls fn(ctx, key, size) for every object in the store, in key order,
 * following S3's pages. fn returns 0 to go on; anything else stops the
 * listing (RS_ECANCELED). */
typedef int (*rs_objstore_list_fn)(void *ctx, const char *key, uint64_t size);
RS_MUST_USE rs_err rs_objstore_list(rs_objstore *s, rs_objstore_list_fn fn, void *ctx,
                                    rs_diag *diag);

/* Deletes object `key`; deleting a missing object is not an error. */
RS_MUST_USE rs_err rs_objstore_delete(rs_objstore *s, const char *key, rs_diag *diag);

/* The SHA-256 of a local file in hex. Errors: RS_EIO. */
RS_MUST_USE rs_err rs_sha256_file(const char *path, char sha256[RS_SHA256_HEX], rs_diag *diag);

#endif
