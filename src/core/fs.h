/* Small file-system helpers shared by the CLI and the model store. */
#ifndef RS_CORE_FS_H
#define RS_CORE_FS_H

#include "core/common.h"
#include "core/err.h"

/* Creates the folder path and any missing parents (mode 0755), like
 * `mkdir -p`. Errors: RS_EINVAL for an empty or over-long path, RS_EIO
 * naming the folder that could not be created or a path that exists but
 * is not a folder. */
RS_MUST_USE rs_err rs_mkdirs(const char *path, rs_diag *diag);

#endif
