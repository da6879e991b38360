/* Importing users, items and events from files into the store.
 *
 * Formats:
 *   movielens-100k DIR  u.item (titles, genres), u.user (demographics) and
 *                       u.data (ratings) of the MovieLens 100K release
 *   movielens-csv DIR   movies.csv, tags.csv and ratings.csv of the
 *                       MovieLens "latest" releases
 *   csv FILE            events with a header naming the columns user_id,
 *                       item_id and optionally value, timestamp, type
 *   items-csv FILE      items with a header naming item_id and optionally
 *                       title, category, brand, tags ('|'-separated),
 *                       attrs (a JSON object), hidden (true/false)
 *
 * Everything one call imports goes into one transaction: it all lands or
 * none of it does. A malformed row is reported with file, line and reason;
 * by default it is skipped and counted, with `strict` the import stops and
 * writes nothing. A file whose content (SHA-256) was imported before is
 * skipped unless `force` is set; re-importing never duplicates users or
 * items, only events (they are append-only). */
#ifndef RS_DATA_IMPORT_H
#define RS_DATA_IMPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/common.h"
#include "core/err.h"
#include "store/store.h"

typedef enum rs_import_format {
    RS_IMPORT_MOVIELENS_100K,
    RS_IMPORT_MOVIELENS_CSV,
    RS_IMPORT_EVENTS_CSV,
    RS_IMPORT_ITEMS_CSV,
} rs_import_format;

/* "movielens-100k", "movielens-csv", "csv", "items-csv" -> format, or -1. */
int rs_import_format_parse(const char *name);
const char *rs_import_format_name(rs_import_format f);

typedef struct rs_import_progress {
    const char *file;      /* the file being read */
    uint64_t rows;         /* rows read from it so far */
    uint64_t bytes, size;  /* bytes read and its size (0 when unknown) */
    double seconds;        /* since the import started */
} rs_import_progress;

typedef struct rs_import_opts {
    rs_import_format format;
    bool strict;  /* stop at the first malformed row, writing nothing */
    bool force;   /* import files even when imported before */
    /* Called for each malformed row skipped (not in strict mode). */
    void (*on_bad_row)(void *ctx, const char *file, uint64_t line, const char *reason);
    /* Called about every 65,536 rows and at the end of each file. */
    void (*on_progress)(void *ctx, const rs_import_progress *p);
    /* Called for a file skipped because it was imported before. */
    void (*on_skip_file)(void *ctx, const char *file, const rs_import_rec *earlier);
    void *ctx;
} rs_import_opts;

typedef struct rs_import_report {
    uint64_t files, files_skipped;
    uint64_t rows, bad_rows;  /* data rows read (headers excluded) and rejected */
    uint64_t events;          /* events added */
    uint64_t users, items;    /* distinct users and items this import mentioned */
    uint64_t users_created, items_created;
    double seconds;
} rs_import_report;

/* Imports the given paths (files or folders, per format) into the store.
 * Errors (nothing written): RS_EPARSE for a malformed row in strict mode
 * or a malformed file (no header, unknown column, empty file), with
 * "file:line: reason" in diag; RS_EIO for unreadable files; the store's
 * error when writing fails. *report is filled in either case. The store
 * must have no transaction open. */
RS_MUST_USE rs_err rs_import(rs_store *s, const char *const *paths, size_t n_paths,
                             const rs_import_opts *opts, rs_import_report *report,
                             rs_diag *diag);

/* The SHA-256 of a file's content as 64 lower-case hex digits into hex[65].
 * RS_EIO (diag has the reason) when unreadable. */
RS_MUST_USE rs_err rs_file_sha256(const char *path, char hex[65], rs_diag *diag);

#endif
