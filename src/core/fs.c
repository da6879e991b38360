/* File-system helpers: see fs.h. */
#include "core/fs.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

rs_err rs_mkdirs(const char *path, rs_diag *diag)
{
    char buf[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf)
        return rs_diag_fail(diag, RS_EINVAL, "bad folder name '%.200s'", path);
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0')
            continue;
        char c = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return rs_diag_fail(diag, RS_EIO, "cannot create folder %s: %s", buf, strerror(errno));
        buf[i] = c;
    }
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return rs_diag_fail(diag, RS_EIO, "%s exists and is not a folder", path);
    return RS_OK;
}
