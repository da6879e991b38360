/* The private side of store.h: the vtable a backend implements and the
 * validated rows it receives. Included only by store.c and the backends.
 *
 * store.c validates and canonicalises every record before a backend sees
 * it (ids, text, tags, JSON attributes, event values and times), and wraps
 * writes made outside an explicit transaction in one, so a backend's write
 * functions always run inside a write transaction and only store rows. */
#ifndef RS_STORE_STORE_IMPL_H
#define RS_STORE_STORE_IMPL_H

#include <stdarg.h>

#include "store.h"

/* A validated user: attrs_json is canonical JSON, or NULL to keep. */
typedef struct rs__user_row {
    const char *id;
    char *attrs_json;  /* owned by store.c */
} rs__user_row;

/* A validated item with tags and attributes serialised as canonical JSON. */
typedef struct rs__item_row {
    const char *id;
    const char *title, *category, *brand;
    char *tags_json;   /* a JSON array of strings; owned by store.c */
    char *attrs_json;  /* a JSON object; owned by store.c */
    bool hidden;
} rs__item_row;

typedef enum rs__tx { RS__TX_NONE, RS__TX_READ, RS__TX_WRITE } rs__tx;

typedef struct rs_store_ops {
    const char *name;
    /* Opens the database named by the URL part after "scheme://". */
    rs_err (*open)(const char *target, rs_store **out, rs_diag *diag);
    void (*close)(rs_store *s);

    rs_err (*begin)(rs_store *s, rs__tx kind);
    rs_err (*commit)(rs_store *s);
    void (*rollback)(rs_store *s);

    /* Write functions run inside a write transaction opened by store.c. */
    rs_err (*put_users)(rs_store *s, const rs__user_row *rows, size_t n, rs_write_stats *st);
    rs_err (*put_items)(rs_store *s, const rs__item_row *rows, size_t n, rs_write_stats *st);
    rs_err (*add_events)(rs_store *s, const rs_event *ev, size_t n, rs_write_stats *st);
    rs_err (*record_import)(rs_store *s, const rs_import_rec *rec);

    rs_err (*get_user)(rs_store *s, const char *id, rs_arena *a, rs_user *out);
    rs_err (*find_users)(rs_store *s, const char *prefix, const char *after, size_t limit,
                         rs_arena *a, rs_user **out, size_t *n);
    rs_err (*get_item)(rs_store *s, const char *id, rs_arena *a, rs_item *out);
    rs_err (*list_items)(rs_store *s, const char *category, const char *after, size_t limit,
                         rs_arena *a, rs_item **out, size_t *n);
    rs_err (*list_categories)(rs_store *s, const char *after, size_t limit, rs_arena *a,
                              rs_category **out, size_t *n);
    rs_err (*user_events)(rs_store *s, const char *user_id, size_t limit, rs_arena *a,
                          rs_event **out, size_t *n);
    rs_err (*get_counts)(rs_store *s, rs_store_counts *out);
    rs_err (*scan_users)(rs_store *s, rs_user_scan_fn fn, void *ctx);
    rs_err (*scan_items)(rs_store *s, rs_item_scan_fn fn, void *ctx);
    rs_err (*scan_events)(rs_store *s, rs_event_scan_fn fn, void *ctx);
    rs_err (*event_types)(rs_store *s, rs_arena *a, const char ***names, size_t *n);
    rs_err (*find_import)(rs_store *s, const char *sha256, rs_arena *a, rs_import_rec *out);

    /* Runs and model versions. put_run and add_model_version receive
     * records whose JSON fields are canonical and never NULL, and run
     * inside a write transaction like the other writes. */
    rs_err (*put_run)(rs_store *s, const rs_run *r);
    rs_err (*get_run)(rs_store *s, const char *id, rs_arena *a, rs_run *out);
    rs_err (*list_runs)(rs_store *s, const rs_run_filter *f, const char *after, size_t limit,
                        rs_arena *a, rs_run **out, size_t *n);
    rs_err (*add_model_version)(rs_store *s, rs_model_version *v);
    rs_err (*set_model_stage)(rs_store *s, const char *name, uint64_t version,
                              const char *stage, int64_t promoted_ms, const char *note);
    rs_err (*get_model_version)(rs_store *s, const char *name, uint64_t version, rs_arena *a,
                                rs_model_version *out);
    rs_err (*list_model_versions)(rs_store *s, const char *name, rs_arena *a,
                                  rs_model_version **out, size_t *n);
    rs_err (*delete_model_version)(rs_store *s, const char *name, uint64_t version);
} rs_store_ops;

/* The common head of every backend's handle (backends embed it first). */
struct rs_store {
    const rs_store_ops *ops;
    rs__tx tx;            /* the open transaction, kept by store.c */
    int schema_version;   /* set by the backend on open */
    char errmsg[512];
};

/* Runs fn(s, rows, n, st) inside the caller's write transaction, or inside
 * its own one when none is open (store.c). A failure rolls the
 * transaction back either way. */
typedef rs_err (*rs__write_fn)(rs_store *s, const void *rows, size_t n, rs_write_stats *st);
rs_err rs__store_in_write_tx(rs_store *s, rs__write_fn fn, const void *rows, size_t n,
                       rs_write_stats *st);

/* Records a failure's detail on the handle and returns e. */
rs_err rs__store_fail(rs_store *s, rs_err e, const char *fmt, ...) RS_PRINTF(3, 4);

/* Parses a JSON array of strings (as stored in tags_json) into an array in
 * arena a. Malformed input gives an empty list. */
void rs__store_tags_parse(const char *json, rs_arena *a, const char *const **tags, size_t *n);

extern const rs_store_ops rs__store_sqlite_ops;
extern const rs_store_ops rs__store_pg_ops;

#endif
