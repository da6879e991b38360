/* Internals shared by the import driver (import.c) and the per-format
 * readers (import_csv.c, import_movielens.c): the importer state, and the
 * calls a format reader uses to report bad rows and hand over records. */
#ifndef RS_DATA_IMPORT_IMPL_H
#define RS_DATA_IMPORT_IMPL_H

#include "core/arena.h"
#include "core/idmap.h"
#include "data/csv.h"
#include "data/import.h"

/* Events are handed to the store in batches of this many: large enough
 * that sorting a batch by user makes the store's inserts local. Items and
 * users go in smaller batches. */
#define RS_IMPORT_BATCH 65536
#define RS_IMPORT_RECORD_BATCH 1024

typedef struct rs__importer {
    rs_store *store;
    const rs_import_opts *opts;
    rs_import_report *report;
    rs_diag *diag;
    int64_t now_ms;       /* the time given to events without one */
    double started;       /* rs_mono_s() at the start */

    /* The file being read. */
    const char *file;
    const char *file_format;  /* recorded with the file's hash */
    char file_sha[65];        /* its content hash */
    rs_csv *csv;
    uint64_t file_rows;

    /* Records waiting to be written; their strings live in batch_arena. */
    rs_event *batch;
    size_t n_batch;
    rs_item *items;
    size_t n_items;
    rs_user *users;
    size_t n_users;
    rs_arena batch_arena;

    rs_idmap *users_seen, *items_seen;  /* for the distinct counts */
} rs__importer;

/* Opens a delimited file for reading into im->csv, unless its content was
 * imported before (and force is off): then returns RS_ENOTFOUND after
 * telling the caller through on_skip_file. On success the import of the
 * file is recorded at rs__import_close_file. */
rs_err rs__import_open_file(rs__importer *im, const char *path, const char *format,
                            const rs_csv_opts *csv_opts);

/* Finishes the current file: flushes, records it as imported, reports
 * progress and closes the reader. */
rs_err rs__import_close_file(rs__importer *im);

/* Reads the next record of the current file. RS_OK with a record, or
 * RS_ENOTFOUND at the end. A malformed record is reported like a bad row
 * (skipped, or RS_EPARSE in strict mode). */
rs_err rs__import_next(rs__importer *im, const rs_csv_field **f, size_t *n);

/* Reports a malformed row at the current line. In strict mode returns
 * RS_EPARSE with "file:line: reason" in the diagnostic; otherwise counts
 * it, tells the caller through on_bad_row and returns RS_OK (skip it). */
rs_err rs__import_bad_row(rs__importer *im, const char *fmt, ...) RS_PRINTF(2, 3);

/* A file-level failure (no header, unknown column): always RS_EPARSE. */
rs_err rs__import_bad_file(rs__importer *im, const char *fmt, ...) RS_PRINTF(2, 3);

/* Reads the header line of the current file and maps column names to
 * positions: index[k] gets the position of names[k], or -1 when absent.
 * Names compare without case and surrounding spaces. The first n_required
 * names must be present; an unknown or repeated column, a missing required
 * one or an empty file is a file-level error naming `expected`.
 * *n_fields gets the number of columns. */
rs_err rs__import_header(rs__importer *im, const char *const *names, size_t n_names,
                         size_t n_required, const char *expected, int *index, size_t *n_fields);

/* Queues one validated event (strings are copied). */
rs_err rs__import_event(rs__importer *im, const char *user_id, const char *item_id,
                        const char *type, double value, int64_t ts_ms);

/* Queues one validated item / user (strings and tags are copied). */
rs_err rs__import_item(rs__importer *im, const rs_item *item);
rs_err rs__import_user(rs__importer *im, const rs_user *user);

/* Field checks shared by the formats. Each returns RS_OK, or reports a bad
 * row naming the column and returns what rs__import_bad_row returned,
 * setting *skip when the row is to be skipped. */
typedef struct rs__field_ctx {
    rs__importer *im;
    bool skip;  /* set when a check rejected the row */
} rs__field_ctx;

rs_err rs__field_id(rs__field_ctx *fc, const char *column, const rs_csv_field *f);
rs_err rs__field_double(rs__field_ctx *fc, const char *column, const rs_csv_field *f,
                        double dflt, double *out);
rs_err rs__field_time(rs__field_ctx *fc, const char *column, const rs_csv_field *f,
                      int64_t *out);
rs_err rs__field_text(rs__field_ctx *fc, const char *column, const rs_csv_field *f);
rs_err rs__field_type(rs__field_ctx *fc, const char *column, const rs_csv_field *f);

/* The format readers. */
rs_err rs__import_events_csv(rs__importer *im, const char *path);
rs_err rs__import_items_csv(rs__importer *im, const char *path);
rs_err rs__import_movielens_100k(rs__importer *im, const char *dir);
rs_err rs__import_movielens_csv(rs__importer *im, const char *dir);

#endif
