/* The file:// model store: objects are the files of one local folder,
 * named by their keys. Uploads are copied to a temporary name in the
 * folder (".put-XXXXXX", which is not a key, so listings skip it), synced,
 * checked against the caller's SHA-256 and renamed over the key, so a
 * reader sees the old object or the whole new one, never part of one. */
#include "objstore_impl.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/fs.h"

typedef struct file_store {
    rs_objstore base;
    char dir[PATH_MAX]; /* absolute, no trailing '/' except for the root "/" */
} file_store;

static file_store *as_file(const rs_objstore *s)
{
    return (file_store *)s;
}

/* dir/key into out (PATH_MAX bytes). */
static rs_err join(const file_store *fs, const char *key, char *out, size_t cap, rs_diag *diag)
{
    const char *sep = strcmp(fs->dir, "/") == 0 ? "" : "/";
    int n = snprintf(out, cap, "%s%s%s", fs->dir, sep, key);
    if (n < 0 || (size_t)n >= cap)
        return rs_diag_fail(diag, RS_EINVAL, "%s: the path of '%s' is too long", fs->base.url,
                            key);
    return RS_OK;
}

static rs_err file_open(const char *rest, rs_objstore **out, rs_diag *diag)
{
    if (!*rest)
        return rs_diag_fail(diag, RS_EINVAL, "model store URL 'file://' names no folder");
    if (strlen(rest) >= PATH_MAX)
        return rs_diag_fail(diag, RS_EINVAL, "model store folder name is too long");
    rs_err e = rs_mkdirs(rest, diag);
    if (e)
        return e;
    file_store *fs = rs_xcalloc(1, sizeof *fs);
    if (!realpath(rest, fs->dir)) {
        e = rs_diag_fail(diag, RS_EIO, "cannot resolve folder %s: %s", rest, strerror(errno));
        rs_free(fs);
        return e;
    }
    size_t n = strlen(fs->dir);
    fs->base.ops = &rs__objstore_file_ops;
    fs->base.url = rs_xmalloc(sizeof "file://" + n);
    memcpy(fs->base.url, "file://", sizeof "file://" - 1);
    memcpy(fs->base.url + sizeof "file://" - 1, fs->dir, n + 1);
    *out = &fs->base;
    return RS_OK;
}

static void file_close(rs_objstore *s)
{
    rs_free(s->url);
    rs_free(s);
}

/* Copies everything from fd `in` to fd `out`, feeding the bytes to md.
 * The names are for the diag only. */
static rs_err copy_fd(int in, const char *in_name, int out, const char *out_name,
                      EVP_MD_CTX *md, rs_diag *diag)
{
    unsigned char buf[1 << 16];
    for (;;) {
        ssize_t n = read(in, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return rs_diag_fail(diag, RS_EIO, "cannot read %s: %s", in_name, strerror(errno));
        if (n == 0)
            return RS_OK;
        EVP_DigestUpdate(md, buf, (size_t)n);
        for (ssize_t done = 0; done < n;) {
            ssize_t w = write(out, buf + done, (size_t)(n - done));
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0)
                return rs_diag_fail(diag, RS_EIO, "cannot write %s: %s", out_name,
                                    strerror(errno));
            done += w;
        }
    }
}

/* Syncs the folder so that a rename in it survives a crash. */
static rs_err sync_dir(const char *dir, rs_diag *diag)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) != 0) {
        rs_err e = rs_diag_fail(diag, RS_EIO, "cannot sync folder %s: %s", dir, strerror(errno));
        if (fd >= 0)
            close(fd);
        return e;
    }
    close(fd);
    return RS_OK;
}

/* Writes the temporary file: a copy of fd `in`, synced, readable by all.
 * Then re-reads it from the folder and compares its SHA-256 with the
 * caller's, so that a mismatch is found before the old object is
 * replaced. */
static rs_err write_temp(file_store *fs, int in, const char *path, const char *tmp,
                         const char *sha256, rs_diag *diag)
{
    int out = open(tmp, O_WRONLY | O_CLOEXEC);
    if (out < 0)
        return rs_diag_fail(diag, RS_EIO, "cannot write %s: %s", tmp, strerror(errno));
    EVP_MD_CTX *md = rs__digest_new(EVP_sha256());
    rs_err e = copy_fd(in, path, out, tmp, md, diag);
    EVP_MD_CTX_free(md);
    if (e == RS_OK && (fchmod(out, 0644) != 0 || fsync(out) != 0))
        e = rs_diag_fail(diag, RS_EIO, "cannot write %s: %s", tmp, strerror(errno));
    if (close(out) != 0 && e == RS_OK)
        e = rs_diag_fail(diag, RS_EIO, "cannot write %s: %s", tmp, strerror(errno));
    if (e)
        return e;
    char got[RS_SHA256_HEX];
    if ((e = rs_sha256_file(tmp, got, diag)) != RS_OK)
        return e;
    if (strcmp(got, sha256) != 0)
        return rs_diag_fail(diag, RS_ECORRUPT,
                            "%s: the copy of %s has SHA-256 %s, expected %s (did the file "
                            "change?); nothing was stored",
                            fs->base.url, path, got, sha256);
    return RS_OK;
}

static rs_err file_put(rs_objstore *s, const char *key, const char *path, const char *sha256,
                       rs_diag *diag)
{
    file_store *fs = as_file(s);
    char final[PATH_MAX], tmp[PATH_MAX];
    rs_err e = join(fs, key, final, sizeof final, diag);
    if (e || (e = join(fs, ".put-XXXXXX", tmp, sizeof tmp, diag)))
        return e;
    int in = open(path, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return rs_diag_fail(diag, RS_EIO, "cannot read %s: %s", path, strerror(errno));
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        e = rs_diag_fail(diag, RS_EIO, "cannot create a file in %s: %s", fs->dir,
                         strerror(errno));
        close(in);
        return e;
    }
    close(fd);
    e = write_temp(fs, in, path, tmp, sha256, diag);
    close(in);
    if (e == RS_OK && rename(tmp, final) != 0)
        e = rs_diag_fail(diag, RS_EIO, "cannot rename %s to %s: %s", tmp, final,
                         strerror(errno));
    if (e) {
        unlink(tmp);
        return e;
    }
    return sync_dir(fs->dir, diag);
}

static rs_err file_get(rs_objstore *s, const char *key, const char *path,
                       char sha256[RS_SHA256_HEX], rs_diag *diag)
{
    file_store *fs = as_file(s);
    char src[PATH_MAX];
    rs_err e = join(fs, key, src, sizeof src, diag);
    if (e)
        return e;
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0) {
        e = errno == ENOENT ? rs_diag_fail(diag, RS_ENOTFOUND, "%s: no object '%s'", s->url, key)
                            : rs_diag_fail(diag, RS_EIO, "cannot read %s: %s", src,
                                           strerror(errno));
        unlink(path); /* as a failed download from a remote store leaves it */
        return e;
    }
    int out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out < 0) {
        e = rs_diag_fail(diag, RS_EIO, "cannot write %s: %s", path, strerror(errno));
        close(in);
        return e;
    }
    EVP_MD_CTX *md = rs__digest_new(EVP_sha256());
    e = copy_fd(in, src, out, path, md, diag);
    if (e == RS_OK)
        rs__digest_hex(md, sha256);
    EVP_MD_CTX_free(md);
    close(in);
    if (close(out) != 0 && e == RS_OK)
        e = rs_diag_fail(diag, RS_EIO, "cannot write %s: %s", path, strerror(errno));
    if (e) {
        sha256[0] = '\0';
        unlink(path);
    }
    return e;
}

static rs_err file_local_path(const rs_objstore *s, const char *key, char *path, size_t cap,
                              rs_diag *diag)
{
    return join(as_file(s), key, path, cap, diag);
}

/* One object found by a listing. */
typedef struct entry {
    char *key; /* owned */
    uint64_t size;
} entry;

static int entry_cmp(const void *a, const void *b)
{
    return strcmp(((const entry *)a)->key, ((const entry *)b)->key);
}

/* Collects the regular files of the folder whose names are keys into *out
 * (n entries; the caller frees each key and the array). Everything else
 * (temporary files, sub-folders, other names) is skipped. */
static rs_err scan_dir(file_store *fs, entry **out, size_t *n, rs_diag *diag)
{
    *out = NULL;
    *n = 0;
    DIR *d = opendir(fs->dir);
    if (!d)
        return rs_diag_fail(diag, RS_EIO, "cannot read folder %s: %s", fs->dir, strerror(errno));
    size_t cap = 0;
    struct dirent *de;
    const char *why;
    errno = 0;
    while ((de = readdir(d))) {
        struct stat st;
        if (rs__objstore_check_key(de->d_name, &why) != RS_OK ||
            fstatat(dirfd(d), de->d_name, &st, 0) != 0 || !S_ISREG(st.st_mode))
            continue;
        if (*n == cap) {
            cap = cap ? 2 * cap : 64;
            *out = rs_xreallocarray(*out, cap, sizeof **out);
        }
        (*out)[*n].key = rs_xstrdup(de->d_name);
        (*out)[(*n)++].size = (uint64_t)st.st_size;
        errno = 0;
    }
    rs_err e = RS_OK;
    if (errno != 0)
        e = rs_diag_fail(diag, RS_EIO, "cannot read folder %s: %s", fs->dir, strerror(errno));
    closedir(d);
    return e;
}

static rs_err file_list(rs_objstore *s, rs_objstore_list_fn fn, void *ctx, rs_diag *diag)
{
    entry *v;
    size_t n;
    rs_err e = scan_dir(as_file(s), &v, &n, diag);
    if (e == RS_OK && n > 1)
        qsort(v, n, sizeof *v, entry_cmp);
    for (size_t i = 0; i < n && e == RS_OK; i++)
        if (fn(ctx, v[i].key, v[i].size) != 0)
            e = rs_diag_fail(diag, RS_ECANCELED, "%s: listing stopped at '%s'", s->url,
                             v[i].key);
    for (size_t i = 0; i < n; i++)
        rs_free(v[i].key);
    rs_free(v);
    return e;
}

static rs_err file_delete(rs_objstore *s, const char *key, rs_diag *diag)
{
    char path[PATH_MAX];
    rs_err e = join(as_file(s), key, path, sizeof path, diag);
    if (e)
        return e;
    if (unlink(path) != 0 && errno != ENOENT)
        return rs_diag_fail(diag, RS_EIO, "cannot delete %s: %s", path, strerror(errno));
    return RS_OK;
}

const rs__objstore_ops rs__objstore_file_ops = {
    .scheme = "file://",
    .open = file_open,
    .close = file_close,
    .put_file = file_put,
    .get_file = file_get,
    .local_path = file_local_path,
    .list = file_list,
    .del = file_delete,
};
