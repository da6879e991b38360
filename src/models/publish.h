/* A file:// model folder: each published version is DIR/model-<N>.rsm
 * (N = 1, 2, ...), and DIR/CURRENT names the version being served. A
 * version is published only after its file has been written, synced,
 * renamed into place and loaded back and verified, so a failed or damaged
 * training never replaces the serving model. Publishing from two
 * processes at once is not supported (the registry serialises it). */
#ifndef RS_MODELS_PUBLISH_H
#define RS_MODELS_PUBLISH_H

#include <stddef.h>
#include <stdint.h>

#include "core/common.h"
#include "core/err.h"
#include "models/bundle.h"

/* The folder of a model store URL: "file://DIR" (DIR relative or
 * absolute). Errors: RS_EUNSUPPORTED for other schemes, RS_EINVAL for a
 * malformed URL. */
RS_MUST_USE rs_err rs_model_dir_from_url(const char *url, char *dir, size_t cap, rs_diag *diag);

/* Saves b as the next version in dir (created if missing), verifies it,
 * and makes it CURRENT. *version gets its number and path (cap bytes) its
 * file. Errors: RS_EIO, RS_ECORRUPT (the written file did not verify: it
 * is removed and CURRENT is unchanged). */
RS_MUST_USE rs_err rs_model_dir_publish(const char *dir, const rs_bundle *b, uint64_t *version,
                                        char *path, size_t cap, rs_diag *diag);

/* The CURRENT version of dir and its file path. RS_ENOTFOUND when nothing
 * was published. */
RS_MUST_USE rs_err rs_model_dir_current(const char *dir, uint64_t *version, char *path,
                                        size_t cap, rs_diag *diag);

#endif
