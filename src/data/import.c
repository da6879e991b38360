/* The import driver: one transaction around everything, file hashing and
 * the "imported before" check, event batching, bad-row reporting, progress
 * and the final report. The per-format readers live in import_csv.c and
 * import_movielens.c. */
#include "import_impl.h"

#include <errno.h>
#include <math.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/alloc.h"
#include "core/text.h"
#include "core/timeutil.h"

static const char *const format_names[] = {
    [RS_IMPORT_MOVIELENS_100K] = "movielens-100k",
    [RS_IMPORT_MOVIELENS_CSV] = "movielens-csv",
    [RS_IMPORT_EVENTS_CSV] = "csv",
    [RS_IMPORT_ITEMS_CSV] = "items-csv",
};

int rs_import_format_parse(const char *name)
{
    for (size_t i = 0; i < RS_ARRAY_LEN(format_names); i++)
        if (strcmp(name, format_names[i]) == 0)
            return (int)i;
    return -1;
}

const char *rs_import_format_name(rs_import_format f)
{
    return (unsigned)f < RS_ARRAY_LEN(format_names) ? format_names[f] : "?";
}

rs_err rs_file_sha256(const char *path, char hex[65], rs_diag *diag)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return rs_diag_fail(diag, RS_EIO, "%s: %s", path, strerror(errno));
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(ctx);
        fclose(f);
        return rs_diag_fail(diag, RS_EINTERNAL, "SHA-256 is not available");
    }
    enum { CHUNK = 1 << 20 };
    unsigned char *buf = rs_xmalloc(CHUNK);
    size_t n;
    while ((n = fread(buf, 1, CHUNK, f)) > 0)
        EVP_DigestUpdate(ctx, buf, n);
    int failed = ferror(f);
    rs_free(buf);
    fclose(f);
    unsigned char md[32];
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx, md, &len);
    EVP_MD_CTX_free(ctx);
    if (failed)
        return rs_diag_fail(diag, RS_EIO, "%s: read error", path);
    for (unsigned i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    return RS_OK;
}

/* --- progress and bad rows --------------------------------------------------- */

static void progress(rs__importer *im)
{
    if (!im->opts->on_progress || !im->csv)
        return;
    rs_import_progress p = {
        .file = im->file,
        .rows = im->file_rows,
        .bytes = rs_csv_offset(im->csv),
        .size = rs_csv_size(im->csv),
        .seconds = rs_mono_s() - im->started,
    };
    im->opts->on_progress(im->opts->ctx, &p);
}

RS_PRINTF(3, 0)
static rs_err vbad(rs__importer *im, bool file_level, const char *fmt, va_list ap)
{
    char reason[400];
    vsnprintf(reason, sizeof reason, fmt, ap);
    uint64_t line = im->csv ? rs_csv_line(im->csv) : 0;
    if (file_level || im->opts->strict)
        return rs_diag_fail(im->diag, RS_EPARSE, "%s:%llu: %s", im->file,
                            (unsigned long long)line, reason);
    im->report->bad_rows++;
    if (im->opts->on_bad_row)
        im->opts->on_bad_row(im->opts->ctx, im->file, line, reason);
    return RS_OK;
}

rs_err rs__import_bad_row(rs__importer *im, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    rs_err e = vbad(im, false, fmt, ap);
    va_end(ap);
    return e;
}

rs_err rs__import_bad_file(rs__importer *im, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    rs_err e = vbad(im, true, fmt, ap);
    va_end(ap);
    return e;
}

/* --- files ------------------------------------------------------------------ */

rs_err rs__import_open_file(rs__importer *im, const char *path, const char *format,
                            const rs_csv_opts *csv_opts)
{
    rs_err e = rs_file_sha256(path, im->file_sha, im->diag);
    if (e)
        return e;
    im->file_format = format;
    rs_arena a;
    rs_arena_init(&a, 1024);
    rs_import_rec earlier;
    e = rs_store_find_import(im->store, im->file_sha, &a, &earlier);
    if (e == RS_OK && !im->opts->force) {
        im->report->files_skipped++;
        if (im->opts->on_skip_file)
            im->opts->on_skip_file(im->opts->ctx, path, &earlier);
        rs_arena_destroy(&a);
        return RS_ENOTFOUND;
    }
    rs_arena_destroy(&a);
    if (e != RS_OK && e != RS_ENOTFOUND)
        return rs_diag_fail(im->diag, e, "%s", rs_store_errmsg(im->store));
    e = rs_csv_open(path, csv_opts, &im->csv, im->diag);
    if (e)
        return e;
    im->file = path;
    im->file_rows = 0;
    return RS_OK;
}

/* Writes every queued record: items and users first, so that events
 * find their catalogue rows. */
static rs_err flush(rs__importer *im)
{
    rs_write_stats st = {0};
    rs_err e = RS_OK;
    if (im->n_items && (e = rs_store_put_items(im->store, im->items, im->n_items, &st)) == RS_OK)
        im->n_items = 0;
    if (e == RS_OK && im->n_users &&
        (e = rs_store_put_users(im->store, im->users, im->n_users, &st)) == RS_OK)
        im->n_users = 0;
    if (e == RS_OK && im->n_batch &&
        (e = rs_store_add_events(im->store, im->batch, im->n_batch, &st)) == RS_OK)
        im->n_batch = 0;
    if (e)
        return rs_diag_fail(im->diag, e, "%s: %s", im->file, rs_store_errmsg(im->store));
    im->report->events += st.events_added;
    im->report->users_created += st.users_created;
    im->report->items_created += st.items_created;
    rs_arena_reset(&im->batch_arena);
    return RS_OK;
}

rs_err rs__import_close_file(rs__importer *im)
{
    rs_err e = flush(im);
    if (e == RS_OK) {
        rs_import_rec rec = {.sha256 = im->file_sha, .path = im->file,
                             .format = im->file_format, .rows = im->file_rows};
        e = rs_store_record_import(im->store, &rec);
        if (e)
            e = rs_diag_fail(im->diag, e, "%s", rs_store_errmsg(im->store));
    }
    if (e == RS_OK) {
        im->report->files++;
        progress(im);
    }
    rs_csv_close(im->csv);
    im->csv = NULL;
    return e;
}

rs_err rs__import_next(rs__importer *im, const rs_csv_field **f, size_t *n)
{
    for (;;) {
        rs_diag d = {{0}};
        rs_err e = rs_csv_next(im->csv, f, n, &d);
        if (e == RS_OK || e == RS_ENOTFOUND) {
            if (e == RS_OK) {
                im->report->rows++;
                if ((++im->file_rows & 0xffff) == 0)
                    progress(im);
            }
            return e;
        }
        if (e != RS_EPARSE)
            return rs_diag_fail(im->diag, e, "%s: %s", im->file, d.msg);
        /* d.msg reads "line N: reason"; report just the reason. */
        const char *reason = strstr(d.msg, ": ");
        im->file_rows++;
        im->report->rows++;
        e = rs__import_bad_row(im, "%s", reason ? reason + 2 : d.msg);
        if (e)
            return e;
    }
}

rs_err rs__import_header(rs__importer *im, const char *const *names, size_t n_names,
                         size_t n_required, const char *expected, int *index, size_t *n_fields)
{
    const rs_csv_field *f;
    size_t n;
    rs_diag d = {{0}};
    for (size_t k = 0; k < n_names; k++)
        index[k] = -1;
    rs_err e = rs_csv_next(im->csv, &f, &n, &d);
    if (e == RS_ENOTFOUND)
        return rs__import_bad_file(im, "the file is empty (expected a header: %s)", expected);
    if (e)
        return rs__import_bad_file(im, "bad header: %s", d.msg);
    for (size_t c = 0; c < n; c++) {
        size_t len = f[c].len;
        const char *name = rs_trim(f[c].p, &len);
        size_t k = 0;
        while (k < n_names && !(strlen(names[k]) == len && strncasecmp(names[k], name, len) == 0))
            k++;
        if (k == n_names)
            return rs__import_bad_file(im, "unknown column '%.*s' in the header (expected %s)",
                                       (int)RS_MIN(len, 64), name, expected);
        if (index[k] >= 0)
            return rs__import_bad_file(im, "column '%s' appears twice in the header", names[k]);
        index[k] = (int)c;
    }
    for (size_t k = 0; k < n_required; k++)
        if (index[k] < 0)
            return rs__import_bad_file(im, "the header has no '%s' column (expected %s)",
                                       names[k], expected);
    *n_fields = n;
    return RS_OK;
}

/* --- records ------------------------------------------------------------------ */

static void seen(rs_idmap *m, const char *id)
{
    uint32_t idx;
    if (rs_idmap_intern(m, id, strlen(id), &idx, NULL) != RS_OK) {
        /* Out of memory only affects the distinct count in the report. */
    }
}

rs_err rs__import_event(rs__importer *im, const char *user_id, const char *item_id,
                        const char *type, double value, int64_t ts_ms)
{
    rs_event *e = &im->batch[im->n_batch++];
    e->user_id = rs_arena_strdup(&im->batch_arena, user_id);
    e->item_id = rs_arena_strdup(&im->batch_arena, item_id);
    e->type = rs_arena_strdup(&im->batch_arena, type);
    e->value = value;
    e->ts_ms = ts_ms;
    seen(im->users_seen, user_id);
    seen(im->items_seen, item_id);
    return im->n_batch == RS_IMPORT_BATCH ? flush(im) : RS_OK;
}

rs_err rs__import_item(rs__importer *im, const rs_item *item)
{
    rs_arena *a = &im->batch_arena;
    rs_item *it = &im->items[im->n_items++];
    *it = *item;
    it->id = rs_arena_strdup(a, item->id);
    it->title = item->title ? rs_arena_strdup(a, item->title) : NULL;
    it->category = item->category ? rs_arena_strdup(a, item->category) : NULL;
    it->brand = item->brand ? rs_arena_strdup(a, item->brand) : NULL;
    it->attrs = item->attrs ? rs_arena_strdup(a, item->attrs) : NULL;
    const char **tags = rs_arena_alloc(a, (item->n_tags ? item->n_tags : 1) * sizeof *tags);
    for (size_t t = 0; t < item->n_tags; t++)
        tags[t] = rs_arena_strdup(a, item->tags[t]);
    it->tags = tags;
    seen(im->items_seen, item->id);
    return im->n_items == RS_IMPORT_RECORD_BATCH ? flush(im) : RS_OK;
}

rs_err rs__import_user(rs__importer *im, const rs_user *user)
{
    rs_user *u = &im->users[im->n_users++];
    u->id = rs_arena_strdup(&im->batch_arena, user->id);
    u->attrs = user->attrs ? rs_arena_strdup(&im->batch_arena, user->attrs) : NULL;
    seen(im->users_seen, user->id);
    return im->n_users == RS_IMPORT_RECORD_BATCH ? flush(im) : RS_OK;
}

/* --- field checks --------------------------------------------------------------- */

static rs_err reject(rs__field_ctx *fc, const char *column, const char *why)
{
    fc->skip = true;
    return rs__import_bad_row(fc->im, "%s: %s", column, why);
}

rs_err rs__field_id(rs__field_ctx *fc, const char *column, const rs_csv_field *f)
{
    const char *why;
    size_t len = f->len;
    const char *p = rs_trim(f->p, &len);
    if (len != f->len)
        return reject(fc, column, "id has leading or trailing spaces");
    if (rs_id_check(p, len, &why) != RS_OK)
        return reject(fc, column, why);
    return RS_OK;
}

rs_err rs__field_double(rs__field_ctx *fc, const char *column, const rs_csv_field *f,
                        double dflt, double *out)
{
    size_t len = f->len;
    const char *p = rs_trim(f->p, &len);
    if (len == 0) {
        *out = dflt;
        return RS_OK;
    }
    char buf[64];
    if (len >= sizeof buf)
        return reject(fc, column, "number too long");
    memcpy(buf, p, len);
    buf[len] = '\0';
    char *end;
    errno = 0;
    double v = strtod(buf, &end);
    if (end == buf || *end != '\0') {
        char why[128];
        snprintf(why, sizeof why, "'%.40s' is not a number", buf);
        return reject(fc, column, why);
    }
    if (!isfinite(v) || errno == ERANGE)
        return reject(fc, column, "number out of range");
    *out = v;
    return RS_OK;
}

rs_err rs__field_time(rs__field_ctx *fc, const char *column, const rs_csv_field *f,
                      int64_t *out)
{
    size_t len = f->len;
    const char *p = rs_trim(f->p, &len);
    if (len == 0) {
        *out = fc->im->now_ms;
        return RS_OK;
    }
    const char *why;
    if (rs_time_parse(p, len, out, &why) != RS_OK)
        return reject(fc, column, why);
    return RS_OK;
}

rs_err rs__field_text(rs__field_ctx *fc, const char *column, const rs_csv_field *f)
{
    const char *why;
    if (rs_text_check(f->p, f->len, &why) != RS_OK)
        return reject(fc, column, why);
    return RS_OK;
}

rs_err rs__field_type(rs__field_ctx *fc, const char *column, const rs_csv_field *f)
{
    const char *why;
    if (f->len && rs_type_check(f->p, f->len, &why) != RS_OK)
        return reject(fc, column, why);
    return RS_OK;
}

/* --- the driver ------------------------------------------------------------------ */

typedef rs_err (*format_reader)(rs__importer *im, const char *path);

static const format_reader readers[] = {
    [RS_IMPORT_MOVIELENS_100K] = rs__import_movielens_100k,
    [RS_IMPORT_MOVIELENS_CSV] = rs__import_movielens_csv,
    [RS_IMPORT_EVENTS_CSV] = rs__import_events_csv,
    [RS_IMPORT_ITEMS_CSV] = rs__import_items_csv,
};

rs_err rs_import(rs_store *s, const char *const *paths, size_t n_paths,
                 const rs_import_opts *opts, rs_import_report *report, rs_diag *diag)
{
    memset(report, 0, sizeof *report);
    if ((unsigned)opts->format >= RS_ARRAY_LEN(readers))
        return rs_diag_fail(diag, RS_EINVAL, "unknown import format");
    rs__importer im = {
        .store = s,
        .opts = opts,
        .report = report,
        .diag = diag,
        .now_ms = rs_now_ms(),
        .started = rs_mono_s(),
        .batch = rs_xmalloc(RS_IMPORT_BATCH * sizeof(rs_event)),
        .items = rs_xmalloc(RS_IMPORT_RECORD_BATCH * sizeof(rs_item)),
        .users = rs_xmalloc(RS_IMPORT_RECORD_BATCH * sizeof(rs_user)),
        .users_seen = rs_idmap_new(),
        .items_seen = rs_idmap_new(),
    };
    rs_arena_init(&im.batch_arena, 1 << 20);

    rs_err e = rs_store_begin(s);
    if (e)
        e = rs_diag_fail(diag, e, "%s", rs_store_errmsg(s));
    for (size_t i = 0; e == RS_OK && i < n_paths; i++)
        e = readers[opts->format](&im, paths[i]);
    if (e == RS_OK) {
        e = rs_store_commit(s);
        if (e)
            e = rs_diag_fail(diag, e, "committing the import: %s", rs_store_errmsg(s));
    } else {
        rs_store_rollback(s);
    }
    if (im.csv)
        rs_csv_close(im.csv);

    report->users = rs_idmap_size(im.users_seen);
    report->items = rs_idmap_size(im.items_seen);
    report->seconds = rs_mono_s() - im.started;
    if (e) {
        /* Nothing was written: the report must not claim otherwise. */
        report->events = report->users_created = report->items_created = 0;
    }
    rs_idmap_free(im.users_seen);
    rs_idmap_free(im.items_seen);
    rs_arena_destroy(&im.batch_arena);
    rs_free(im.batch);
    rs_free(im.items);
    rs_free(im.users);
    return e;
}
