/* Writing and verifying model artifact files (see artifact.h). */
#include "artifact.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"

#define HEADER_SIZE 64
#define ENTRY_SIZE 32
#define ALIGN 64
#define MAX_SECTIONS 4096

static const char magic[8] = {'R', 'S', 'M', 'O', 'D', 'E', 'L', '\0'};

typedef struct entry {
    char name[RS_ARTIFACT_NAME_MAX + 1];
    uint64_t offset, size;
} entry;

/* ---- writing ----------------------------------------------------------- */

struct rs_artifact_writer {
    char *path, *tmp;
    int fd;
    uint64_t pos;          /* bytes written so far (the next offset) */
    entry *table;
    uint32_t n, cap;
    EVP_MD_CTX *sha;
    bool failed;
};

static rs_err write_all(rs_artifact_writer *w, const void *data, size_t size, bool hash,
                        rs_diag *diag)
{
    const char *p = data;
    size_t left = size;
    while (left) {
        ssize_t k = write(w->fd, p, left);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            w->failed = true;
            return rs_diag_fail(diag, RS_EIO, "cannot write %s: %s", w->path,
                                k < 0 ? strerror(errno) : "short write");
        }
        p += k;
        left -= (size_t)k;
    }
    if (hash && size)
        EVP_DigestUpdate(w->sha, data, size);
    w->pos += size;
    return RS_OK;
}

rs_err rs_artifact_create(const char *path, rs_artifact_writer **out, rs_diag *diag)
{
    *out = NULL;
    rs_artifact_writer *w = rs_xcalloc(1, sizeof *w);
    w->path = rs_xstrdup(path);
    size_t n = strlen(path) + 16;
    w->tmp = rs_xmalloc(n);
    snprintf(w->tmp, n, "%s.tmp-XXXXXX", path);
    w->fd = mkstemp(w->tmp);
    if (w->fd >= 0)
        (void)fchmod(w->fd, 0644); /* mkstemp makes 0600; model files are shared */
    if (w->fd < 0) {
        rs_err e = rs_diag_fail(diag, RS_EIO, "cannot create %s: %s", path, strerror(errno));
        rs_free(w->tmp);
        w->tmp = NULL;
        rs_artifact_abort(w);
        return e;
    }
    w->sha = EVP_MD_CTX_new();
    if (!w->sha || EVP_DigestInit_ex(w->sha, EVP_sha256(), NULL) != 1) {
        rs_artifact_abort(w);
        return rs_diag_fail(diag, RS_ENOMEM, "cannot start a SHA-256 digest");
    }
    static const char zero[HEADER_SIZE];
    rs_err e = write_all(w, zero, HEADER_SIZE, false, diag);
    if (e) {
        rs_artifact_abort(w);
        return e;
    }
    *out = w;
    return RS_OK;
}

/* Pads the file with zeros up to the next multiple of ALIGN. */
static rs_err pad(rs_artifact_writer *w, rs_diag *diag)
{
    static const char zero[ALIGN];
    size_t k = (size_t)(-w->pos % ALIGN);
    return k ? write_all(w, zero, k, true, diag) : RS_OK;
}

rs_err rs_artifact_add(rs_artifact_writer *w, const char *name, const void *data, size_t size,
                       rs_diag *diag)
{
    size_t len = strlen(name);
    if (len == 0 || len > RS_ARTIFACT_NAME_MAX)
        return rs_diag_fail(diag, RS_EINVAL, "bad section name '%s'", name);
    for (uint32_t i = 0; i < w->n; i++)
        if (!strcmp(w->table[i].name, name))
            return rs_diag_fail(diag, RS_EINVAL, "section '%s' written twice", name);
    if (w->n == MAX_SECTIONS)
        return rs_diag_fail(diag, RS_EINVAL, "more than %d sections", MAX_SECTIONS);
    if (w->failed)
        return rs_diag_fail(diag, RS_EIO, "cannot write %s: an earlier write failed", w->path);
    rs_err e = pad(w, diag);
    if (e)
        return e;
    if (w->n == w->cap) {
        w->cap = w->cap ? w->cap * 2 : 32;
        w->table = rs_xreallocarray(w->table, w->cap, sizeof *w->table);
    }
    entry *t = &w->table[w->n++];
    memset(t, 0, sizeof *t);
    memcpy(t->name, name, len);
    t->offset = w->pos;
    t->size = size;
    return write_all(w, data, size, true, diag);
}

static void put_u32(unsigned char *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

static void put_u64(unsigned char *p, uint64_t v)
{
    memcpy(p, &v, 8);
}

rs_err rs_artifact_commit(rs_artifact_writer *w, rs_diag *diag)
{
    rs_err e = pad(w, diag);
    uint64_t table = w->pos;
    for (uint32_t i = 0; i < w->n && !e; i++) {
        unsigned char rec[ENTRY_SIZE] = {0};
        memcpy(rec, w->table[i].name, RS_ARTIFACT_NAME_MAX + 1);
        put_u64(rec + 16, w->table[i].offset);
        put_u64(rec + 24, w->table[i].size);
        e = write_all(w, rec, sizeof rec, true, diag);
    }
    if (e) {
        rs_artifact_abort(w);
        return e;
    }
    unsigned char h[HEADER_SIZE] = {0};
    unsigned int dlen = 0;
    memcpy(h, magic, sizeof magic);
    put_u32(h + 8, RS_ARTIFACT_VERSION);
    put_u32(h + 12, w->n);
    put_u64(h + 16, w->pos);
    put_u64(h + 24, table);
    EVP_DigestFinal_ex(w->sha, h + 32, &dlen);
    if (pwrite(w->fd, h, sizeof h, 0) != (ssize_t)sizeof h || fsync(w->fd) != 0 ||
        close(w->fd) != 0) {
        w->fd = -1;
        e = rs_diag_fail(diag, RS_EIO, "cannot write %s: %s", w->path, strerror(errno));
        rs_artifact_abort(w);
        return e;
    }
    w->fd = -1;
    if (rename(w->tmp, w->path) != 0) {
        e = rs_diag_fail(diag, RS_EIO, "cannot write %s: %s", w->path, strerror(errno));
        rs_artifact_abort(w);
        return e;
    }
    rs_free(w->tmp);
    w->tmp = NULL;
    rs_artifact_abort(w); /* frees what is left */
    return RS_OK;
}

void rs_artifact_abort(rs_artifact_writer *w)
{
    if (!w)
        return;
    if (w->fd >= 0)
        close(w->fd);
    if (w->tmp)
        unlink(w->tmp);
    EVP_MD_CTX_free(w->sha);
    rs_free(w->tmp);
    rs_free(w->path);
    rs_free(w->table);
    rs_free(w);
}

/* ---- reading ----------------------------------------------------------- */

struct rs_artifact {
    const unsigned char *base;
    size_t size;
    bool mapped;
    entry *table;
    uint32_t n;
    char digest[65];
};

static uint32_t get_u32(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static uint64_t get_u64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

/* Checks the header, table and checksum of a->base[0..size) and fills the
 * table. */
static rs_err verify(rs_artifact *a, rs_diag *diag)
{
    const unsigned char *b = a->base;
    const uint64_t size = a->size;
    if (size < HEADER_SIZE || memcmp(b, magic, sizeof magic) != 0)
        return rs_diag_fail(diag, RS_ECORRUPT, "not a recsys model file (bad magic)");
    uint32_t version = get_u32(b + 8), n = get_u32(b + 12);
    uint64_t fsize = get_u64(b + 16), table = get_u64(b + 24);
    if (version > RS_ARTIFACT_VERSION)
        return rs_diag_fail(diag, RS_EVERSION,
                            "model format version %u is newer than this recsys reads (%u)",
                            version, RS_ARTIFACT_VERSION);
    if (version == 0)
        return rs_diag_fail(diag, RS_ECORRUPT, "model format version 0 is not valid");
    if (fsize != size)
        return rs_diag_fail(diag, RS_ECORRUPT,
                            "model file is %llu bytes but its header says %llu (truncated?)",
                            (unsigned long long)size, (unsigned long long)fsize);
    if (n > MAX_SECTIONS || table < HEADER_SIZE || table > size ||
        (size - table) != (uint64_t)n * ENTRY_SIZE)
        return rs_diag_fail(diag, RS_ECORRUPT, "model file has a damaged section table");

    unsigned char md[32];
    unsigned int mdlen = 0;
    if (EVP_Digest(b + HEADER_SIZE, size - HEADER_SIZE, md, &mdlen, EVP_sha256(), NULL) != 1)
        return rs_diag_fail(diag, RS_EINTERNAL, "cannot compute SHA-256");
    if (memcmp(md, b + 32, 32) != 0)
        return rs_diag_fail(diag, RS_ECORRUPT, "model file checksum mismatch (damaged file)");
    for (int i = 0; i < 32; i++)
        snprintf(a->digest + 2 * i, 3, "%02x", md[i]);

    a->table = rs_xcalloc(n ? n : 1, sizeof *a->table);
    a->n = n;
    for (uint32_t i = 0; i < n; i++) {
        const unsigned char *r = b + table + (uint64_t)i * ENTRY_SIZE;
        entry *t = &a->table[i];
        memcpy(t->name, r, RS_ARTIFACT_NAME_MAX + 1);
        t->offset = get_u64(r + 16);
        t->size = get_u64(r + 24);
        if (t->name[RS_ARTIFACT_NAME_MAX] != '\0' || t->name[0] == '\0' ||
            t->offset < HEADER_SIZE || t->offset % ALIGN || t->offset > table ||
            t->size > table - t->offset)
            return rs_diag_fail(diag, RS_ECORRUPT, "model file section %u is out of bounds", i);
    }
    return RS_OK;
}

rs_err rs_artifact_open_mem(const void *data, size_t size, rs_artifact **out, rs_diag *diag)
{
    rs_artifact *a = rs_xcalloc(1, sizeof *a);
    a->base = data;
    a->size = size;
    rs_err e = verify(a, diag);
    if (e) {
        rs_artifact_close(a);
        *out = NULL;
        return e;
    }
    *out = a;
    return RS_OK;
}

rs_err rs_artifact_open(const char *path, rs_artifact **out, rs_diag *diag)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return rs_diag_fail(diag, RS_EIO, "cannot open %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        rs_err e = rs_diag_fail(diag, RS_EIO, "cannot stat %s: %s", path, strerror(errno));
        close(fd);
        return e;
    }
    if (st.st_size < HEADER_SIZE) {
        close(fd);
        return rs_diag_fail(diag, RS_ECORRUPT, "%s: not a recsys model file (%lld bytes)", path,
                            (long long)st.st_size);
    }
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (p == MAP_FAILED)
        return rs_diag_fail(diag, RS_EIO, "cannot map %s: %s", path, strerror(errno));
    rs_artifact *a;
    rs_diag d = {{0}};
    rs_err e = rs_artifact_open_mem(p, (size_t)st.st_size, &a, &d);
    if (e) {
        munmap(p, (size_t)st.st_size);
        return rs_diag_fail(diag, e, "%s: %s", path, d.msg);
    }
    a->mapped = true;
    *out = a;
    return RS_OK;
}

const void *rs_artifact_section(const rs_artifact *a, const char *name, size_t *size)
{
    for (uint32_t i = 0; i < a->n; i++)
        if (!strcmp(a->table[i].name, name)) {
            *size = (size_t)a->table[i].size;
            return a->base + a->table[i].offset;
        }
    *size = 0;
    return NULL;
}

const char *rs_artifact_digest(const rs_artifact *a)
{
    return a->digest;
}

void rs_artifact_close(rs_artifact *a)
{
    if (!a)
        return;
    if (a->mapped)
        munmap((void *)a->base, a->size);
    rs_free(a->table);
    rs_free(a);
}
