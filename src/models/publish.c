/* Publishing model versions into a file:// folder (see publish.h). */
#include "publish.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fs.h"

rs_err rs_model_dir_from_url(const char *url, char *dir, size_t cap, rs_diag *diag)
{
    static const char scheme[] = "file://";
    if (strncmp(url, scheme, sizeof scheme - 1) != 0) {
        if (strstr(url, "://"))
            return rs_diag_fail(diag, RS_EUNSUPPORTED,
                                "model store '%s': only file://DIR is available in this version",
                                url);
        return rs_diag_fail(diag, RS_EINVAL, "model store '%s': expected file://DIR", url);
    }
    const char *path = url + sizeof scheme - 1;
    if (!*path || strlen(path) >= cap)
        return rs_diag_fail(diag, RS_EINVAL, "model store '%s': bad folder", url);
    memcpy(dir, path, strlen(path) + 1);
    return RS_OK;
}

/* The highest N of the model-N.rsm files in dir (0 when none). */
static rs_err highest_version(const char *dir, uint64_t *out, rs_diag *diag)
{
    DIR *d = opendir(dir);
    if (!d)
        return rs_diag_fail(diag, RS_EIO, "cannot read %s: %s", dir, strerror(errno));
    uint64_t best = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        unsigned long long v;
        char tail[8];
        if (sscanf(de->d_name, "model-%llu.%7s", &v, tail) == 2 && !strcmp(tail, "rsm") &&
            v > best)
            best = v;
    }
    closedir(d);
    *out = best;
    return RS_OK;
}

/* Replaces dir/CURRENT with "N\n" atomically. */
static rs_err write_current(const char *dir, uint64_t version, rs_diag *diag)
{
    char tmp[4200], path[4200], text[32];
    snprintf(tmp, sizeof tmp, "%s/CURRENT.tmp", dir);
    snprintf(path, sizeof path, "%s/CURRENT", dir);
    int n = snprintf(text, sizeof text, "%llu\n", (unsigned long long)version);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return rs_diag_fail(diag, RS_EIO, "cannot write %s: %s", tmp, strerror(errno));
    bool ok = write(fd, text, (size_t)n) == n && fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        rs_err e = rs_diag_fail(diag, RS_EIO, "cannot write %s: %s", path, strerror(errno));
        unlink(tmp);
        return e;
    }
    return RS_OK;
}

rs_err rs_model_dir_publish(const char *dir, const rs_bundle *b, uint64_t *version, char *path,
                            size_t cap, rs_diag *diag)
{
    uint64_t v = 0;
    rs_err e;
    if ((e = rs_mkdirs(dir, diag)) || (e = highest_version(dir, &v, diag)))
        return e;
    v++;
    if ((size_t)snprintf(path, cap, "%s/model-%llu.rsm", dir, (unsigned long long)v) >= cap)
        return rs_diag_fail(diag, RS_EINVAL, "model folder name too long");
    if ((e = rs_bundle_save(b, path, diag)))
        return e;
    rs_bundle check;
    if ((e = rs_bundle_load(path, &check, diag))) {
        unlink(path);
        return e;
    }
    rs_bundle_destroy(&check);
    if ((e = write_current(dir, v, diag)))
        return e;
    *version = v;
    return RS_OK;
}

rs_err rs_model_dir_current(const char *dir, uint64_t *version, char *path, size_t cap,
                            rs_diag *diag)
{
    char cur[4200];
    snprintf(cur, sizeof cur, "%s/CURRENT", dir);
    FILE *f = fopen(cur, "r");
    if (!f) {
        if (errno == ENOENT)
            return rs_diag_fail(diag, RS_ENOTFOUND, "no model published in %s yet", dir);
        return rs_diag_fail(diag, RS_EIO, "cannot read %s: %s", cur, strerror(errno));
    }
    unsigned long long v = 0;
    int got = fscanf(f, "%llu", &v);
    fclose(f);
    if (got != 1 || v == 0)
        return rs_diag_fail(diag, RS_ECORRUPT, "%s does not hold a version number", cur);
    *version = v;
    if ((size_t)snprintf(path, cap, "%s/model-%llu.rsm", dir, v) >= cap)
        return rs_diag_fail(diag, RS_EINVAL, "model folder name too long");
    return RS_OK;
}
