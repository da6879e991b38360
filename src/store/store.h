/* The store: users, items, interaction events, import records, training
 * runs and model versions, behind one interface with backends chosen by
 * URL ("sqlite:///abs/path.db", "sqlite://relative.db"; PostgreSQL later).
 *
 * Contract for every backend (tests/conformance runs the same suite
 * against each):
 * - Writes validate every record first and then commit all of them or none:
 *   a rejected batch leaves the data as it was. An event is acknowledged
 *   (the call returns RS_OK) only after a durable commit.
 * - Inside rs_store_begin/rs_store_commit several writes share one
 *   transaction; rs_store_rollback undoes them all. A write rejected by
 *   validation (RS_EINVAL) touched nothing and leaves that transaction open;
 *   a write that fails for any other reason has rolled it back.
 * - Events are append-only. Adding an event for an unknown user or item
 *   creates it (an item with empty fields until its catalogue row arrives).
 * - Reads between rs_store_begin_read and rs_store_commit see one consistent
 *   snapshot, so a training job's three scans agree with each other.
 * - Users and items have a store key (int64, assigned once, never reused)
 *   and are scanned in ascending key order; events are scanned grouped by
 *   user key ascending, each user's events in time order.
 *
 * Threads: a handle is one connection; use it from one thread at a time.
 * Errors: fallible calls return an rs_err; rs_store_errmsg gives the detail
 * of the last failure (valid until the next call on the handle). Records
 * returned by reads live in the caller's arena. */
#ifndef RS_STORE_STORE_H
#define RS_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/common.h"
#include "core/err.h"

/* Caps on what one record may hold. */
#define RS_MAX_TAGS 64
#define RS_TAG_MAX 128
#define RS_ATTRS_MAX 65536

typedef struct rs_store rs_store;

typedef struct rs_user {
    const char *id;      /* 1..RS_ID_MAX bytes of UTF-8 */
    const char *attrs;   /* a JSON object; NULL keeps the stored one (or {}) */
    int64_t created_ms;  /* set by reads; ignored by writes */
} rs_user;

typedef struct rs_item {
    const char *id;
    const char *title;     /* NULL means "" */
    const char *category;  /* NULL means "" */
    const char *brand;     /* NULL means "" */
    const char *const *tags;
    size_t n_tags;         /* at most RS_MAX_TAGS, each 1..RS_TAG_MAX bytes */
    const char *attrs;     /* a JSON object; NULL means {} */
    bool hidden;           /* never recommended when set */
    int64_t created_ms;    /* set by reads; ignored by writes */
    int64_t updated_ms;    /* set by reads; ignored by writes */
} rs_item;

typedef struct rs_event {
    const char *user_id;
    const char *item_id;
    const char *type;   /* "view", "click", "like", "purchase", "rating", ... */
    double value;       /* finite; 1 for plain interactions, the rating for ratings */
    int64_t ts_ms;      /* RS_TS_MIN_MS..RS_TS_MAX_MS */
} rs_event;

/* What a write did. Counters add up over calls; zero it before the first. */
typedef struct rs_write_stats {
    uint64_t users_created;
    uint64_t items_created;
    uint64_t items_updated;
    uint64_t events_added;
} rs_write_stats;

typedef struct rs_store_counts {
    uint64_t users, items, events;
    int64_t newest_event_ms;  /* 0 when there are no events */
} rs_store_counts;

/* One imported file, remembered by content hash so that importing the same
 * file again is detected. */
typedef struct rs_import_rec {
    const char *sha256;  /* 64 lower-case hex digits */
    const char *path;
    const char *format;
    uint64_t rows;
    int64_t imported_ms; /* set by reads; ignored by writes */
} rs_import_rec;

/* --- opening -------------------------------------------------------- */

/* Opens the store at url, creating the database when the backend allows,
 * and migrates its schema forward to this build's version. Errors:
 * RS_EINVAL for a malformed URL or unknown scheme, RS_ESTORE when the
 * database cannot be opened, RS_EVERSION when its schema is newer than this
 * build knows; diag says which. */
RS_MUST_USE rs_err rs_store_open(const char *url, rs_store **out, rs_diag *diag);

/* Closes the handle, rolling back an open transaction. Accepts NULL. */
void rs_store_close(rs_store *s);

/* Detail of the last failure on this handle ("" when none). */
const char *rs_store_errmsg(const rs_store *s);

/* "sqlite", ... */
const char *rs_store_backend(const rs_store *s);

/* The schema version of the open database. */
int rs_store_schema_version(const rs_store *s);

/* --- transactions --------------------------------------------------- */

/* Starts a write transaction (exclusive among writers). RS_EINVAL when one
 * is already open. */
RS_MUST_USE rs_err rs_store_begin(rs_store *s);
/* Starts a read transaction: every read until commit sees one snapshot. */
RS_MUST_USE rs_err rs_store_begin_read(rs_store *s);
/* Commits (or, for reads, ends) the open transaction. On failure the
 * transaction has been rolled back. */
RS_MUST_USE rs_err rs_store_commit(rs_store *s);
/* Abandons the open transaction; a no-op when none is open. */
void rs_store_rollback(rs_store *s);

/* --- writes ---------------------------------------------------------- */

/* Creates users or updates the attributes of existing ones (attrs NULL
 * leaves them as they are). RS_EINVAL names the first bad record
 * ("users[3]: id is empty"). */
RS_MUST_USE rs_err rs_store_put_users(rs_store *s, const rs_user *users, size_t n,
                                      rs_write_stats *stats);

/* Creates items or replaces every field of existing ones (created_ms is
 * kept). RS_EINVAL names the first bad record. */
RS_MUST_USE rs_err rs_store_put_items(rs_store *s, const rs_item *items, size_t n,
                                      rs_write_stats *stats);

/* Appends events, creating unknown users and items. RS_EINVAL names the
 * first bad record ("events[7]: value is not finite"). */
RS_MUST_USE rs_err rs_store_add_events(rs_store *s, const rs_event *events, size_t n,
                                       rs_write_stats *stats);

/* --- reads ------------------------------------------------------------ */

/* One user; RS_ENOTFOUND when absent. Strings live in arena a. */
RS_MUST_USE rs_err rs_store_get_user(rs_store *s, const char *id, rs_arena *a, rs_user *out);

/* Up to `limit` users whose id starts with `prefix` ("" for all) and sorts
 * after `after` (NULL to start), in byte order of ids. The array and its
 * strings live in arena a. */
RS_MUST_USE rs_err rs_store_find_users(rs_store *s, const char *prefix, const char *after,
                                       size_t limit, rs_arena *a, rs_user **out, size_t *n);

/* One item; RS_ENOTFOUND when absent. */
RS_MUST_USE rs_err rs_store_get_item(rs_store *s, const char *id, rs_arena *a, rs_item *out);

/* Up to `limit` items of `category` (NULL for all), hidden ones included,
 * with ids after `after` (NULL to start), in byte order of ids. */
RS_MUST_USE rs_err rs_store_list_items(rs_store *s, const char *category, const char *after,
                                       size_t limit, rs_arena *a, rs_item **out, size_t *n);

/* A category and how many items have it (hidden ones included). */
typedef struct rs_category {
    const char *name;
    uint64_t items;
} rs_category;

/* Up to `limit` categories named after `after` (NULL to start), in byte
 * order, with their item counts; items without a category are left out.
 * The array and its strings live in arena a. */
RS_MUST_USE rs_err rs_store_list_categories(rs_store *s, const char *after, size_t limit,
                                            rs_arena *a, rs_category **out, size_t *n);

/* A user's most recent events, newest first, at most `limit`. An unknown
 * user has none (RS_OK, n = 0). */
RS_MUST_USE rs_err rs_store_user_events(rs_store *s, const char *user_id, size_t limit,
                                        rs_arena *a, rs_event **out, size_t *n);

RS_MUST_USE rs_err rs_store_get_counts(rs_store *s, rs_store_counts *out);

/* --- scans for training ------------------------------------------------ */

/* A scan callback returns 0 to go on, anything else to stop the scan (the
 * scan then returns RS_ECANCELED). Pointers are borrowed for the call. */
typedef int (*rs_user_scan_fn)(void *ctx, int64_t key, const char *id);
typedef int (*rs_item_scan_fn)(void *ctx, int64_t key, const rs_item *item);

typedef struct rs_event_row {
    int64_t user_key, item_key;
    int32_t type;   /* a code from rs_store_event_types */
    float value;
    int64_t ts_ms;
} rs_event_row;
typedef int (*rs_event_scan_fn)(void *ctx, const rs_event_row *row);

/* Every user / item in ascending key order. */
RS_MUST_USE rs_err rs_store_scan_users(rs_store *s, rs_user_scan_fn fn, void *ctx);
RS_MUST_USE rs_err rs_store_scan_items(rs_store *s, rs_item_scan_fn fn, void *ctx);
/* Every event, grouped by user key ascending, each user's in time order
 * (ties in the order they were added). */
RS_MUST_USE rs_err rs_store_scan_events(rs_store *s, rs_event_scan_fn fn, void *ctx);

/* The event type names by code: names[code] for code in [0, *n); unused
 * codes are NULL. The array lives in arena a. */
RS_MUST_USE rs_err rs_store_event_types(rs_store *s, rs_arena *a, const char ***names,
                                        size_t *n);

/* --- imports ----------------------------------------------------------- */

/* The record of an earlier import of a file with this hash; RS_ENOTFOUND
 * when there is none. */
RS_MUST_USE rs_err rs_store_find_import(rs_store *s, const char *sha256, rs_arena *a,
                                        rs_import_rec *out);
/* Remembers an import (replacing an earlier record of the same hash). */
RS_MUST_USE rs_err rs_store_record_import(rs_store *s, const rs_import_rec *rec);

/* --- training runs ----------------------------------------------------- */

/* One training, tuning or tuning-trial run as the tracker records it. */
typedef struct rs_run {
    const char *id;          /* 1..64 bytes of [A-Za-z0-9._-] */
    const char *kind;        /* "train", "retrain", "tune" or "trial" */
    const char *status;      /* "running", "finished" or "failed" */
    const char *model;       /* models trained, comma-separated; NULL means "" */
    const char *parent_id;   /* a trial's tune run; NULL for none */
    int64_t started_ms;
    int64_t ended_ms;        /* 0 while running */
    const char *params;      /* JSON objects; NULL means {} */
    const char *data;        /* the data fingerprint */
    const char *metrics;     /* held-out metrics by model */
    const char *timings;     /* seconds by phase */
    const char *artifact_uri;  /* NULL for none */
    uint64_t version;        /* the model version registered from it; 0 for none */
    const char *note;        /* what happened to its model; NULL for none */
    const char *error;       /* why it failed; NULL for none */
    const char *host;        /* NULL means "" */
    int64_t pid;
} rs_run;

/* Which runs rs_store_list_runs returns; NULL fields match every run. */
typedef struct rs_run_filter {
    const char *model;       /* runs that trained this model */
    const char *status;
    const char *kind;
    const char *parent_id;
} rs_run_filter;

/* Creates run r, or replaces every field of the run with its id. RS_EINVAL
 * names a bad field. */
RS_MUST_USE rs_err rs_store_put_run(rs_store *s, const rs_run *r);

/* One run; RS_ENOTFOUND when absent. Strings live in arena a. */
RS_MUST_USE rs_err rs_store_get_run(rs_store *s, const char *id, rs_arena *a, rs_run *out);

/* Up to `limit` runs matching f (NULL for all), newest first, starting
 * after the run `after` (NULL to start; a cursor from an earlier page). */
RS_MUST_USE rs_err rs_store_list_runs(rs_store *s, const rs_run_filter *f, const char *after,
                                      size_t limit, rs_arena *a, rs_run **out, size_t *n);

/* --- model versions ------------------------------------------------------ */

/* One version in the model registry. */
typedef struct rs_model_version {
    const char *name;        /* the model's name in the registry (an id) */
    uint64_t version;        /* 1, 2, ... per name */
    const char *run_id;      /* the run that made it; NULL for none */
    const char *uri;         /* where its artifact is */
    const char *checksum;    /* the artifact's SHA-256, 64 hex digits */
    uint64_t size_bytes;
    const char *stage;       /* "candidate", "production" or "archived" */
    const char *metrics;     /* JSON object; NULL means {} */
    const char *note;        /* NULL means "" */
    int64_t created_ms;      /* set by reads; ignored by writes */
    int64_t promoted_ms;     /* when it last became production; 0 for never */
} rs_model_version;

/* Registers v as the next version of v->name and sets v->version. At most
 * one version of a name is in production: a second one is refused
 * (RS_EINVAL), so demote the old one first in the same transaction. */
RS_MUST_USE rs_err rs_store_add_model_version(rs_store *s, rs_model_version *v);

/* Moves a version to `stage`. promoted_ms > 0 records it as the time it
 * became production, < 0 forgets it, 0 keeps it; note NULL keeps the note.
 * RS_ENOTFOUND when there is no such version. */
RS_MUST_USE rs_err rs_store_set_model_stage(rs_store *s, const char *name, uint64_t version,
                                            const char *stage, int64_t promoted_ms,
                                            const char *note);

/* One version; version 0 means the one in production. RS_ENOTFOUND when
 * there is none. */
RS_MUST_USE rs_err rs_store_get_model_version(rs_store *s, const char *name, uint64_t version,
                                              rs_arena *a, rs_model_version *out);

/* Every version of name, newest first. */
RS_MUST_USE rs_err rs_store_list_model_versions(rs_store *s, const char *name, rs_arena *a,
                                                rs_model_version **out, size_t *n);

/* Forgets a version (its artifact is the registry's to delete). */
RS_MUST_USE rs_err rs_store_delete_model_version(rs_store *s, const char *name,
                                                 uint64_t version);

#endif
