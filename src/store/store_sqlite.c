/* The SQLite backend of the store (sqlite://PATH): one connection per
 * handle, WAL journal with synchronous=FULL so that a committed event
 * survives a crash, prepared statements created once per handle, and
 * in-memory caches of id -> key so that importing a million events does not
 * query the users and items tables a million times. The caches hold only
 * committed keys' mappings plus those of the open transaction, and are
 * dropped on rollback. */
#include "store_impl.h"
#include "store_sqlite.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/alloc.h"
#include "core/idmap.h"
#include "core/text.h"
#include "core/timeutil.h"

typedef enum stmt_id {
    ST_BEGIN_WRITE, ST_BEGIN_READ, ST_COMMIT, ST_ROLLBACK,
    ST_USER_KEY, ST_USER_INSERT, ST_USER_SET_ATTRS,
    ST_ITEM_KEY, ST_ITEM_INSERT, ST_ITEM_UPDATE, ST_ITEM_INSERT_BARE,
    ST_TYPE_ALL, ST_TYPE_INSERT,
    ST_SEQ_RESERVE, ST_NEWEST_UPDATE, ST_EVENT_INSERT,
    ST_IMPORT_PUT, ST_IMPORT_GET,
    ST_USER_GET, ST_USERS_FROM_INCL, ST_USERS_FROM_EXCL,
    ST_ITEM_GET, ST_ITEMS_ALL, ST_ITEMS_CATEGORY, ST_CATEGORIES,
    ST_USER_EVENTS, ST_COUNTS,
    ST_SCAN_USERS, ST_SCAN_ITEMS, ST_SCAN_EVENTS,
    ST__COUNT
} stmt_id;

#define ITEM_COLUMNS "key, id, title, category, brand, tags, attrs, hidden, created_ms, updated_ms"

static const char *const stmt_sql[ST__COUNT] = {
    [ST_BEGIN_WRITE] = "BEGIN IMMEDIATE",
    [ST_BEGIN_READ] = "BEGIN DEFERRED",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_USER_KEY] = "SELECT key FROM users WHERE id = ?1",
    [ST_USER_INSERT] = "INSERT INTO users(id, attrs, created_ms) VALUES(?1, ?2, ?3)",
    [ST_USER_SET_ATTRS] = "UPDATE users SET attrs = ?2 WHERE key = ?1",
    [ST_ITEM_KEY] = "SELECT key FROM items WHERE id = ?1",
    [ST_ITEM_INSERT] = "INSERT INTO items(id, title, category, brand, tags, attrs, hidden, "
                       "created_ms, updated_ms) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
    [ST_ITEM_UPDATE] = "UPDATE items SET title = ?2, category = ?3, brand = ?4, tags = ?5, "
                       "attrs = ?6, hidden = ?7, updated_ms = ?8 WHERE key = ?1",
    [ST_ITEM_INSERT_BARE] = "INSERT INTO items(id, created_ms, updated_ms) VALUES(?1, ?2, ?2)",
    [ST_TYPE_ALL] = "SELECT code, name FROM event_types ORDER BY code",
    [ST_TYPE_INSERT] = "INSERT INTO event_types(code, name) "
                       "VALUES((SELECT coalesce(max(code), -1) + 1 FROM event_types), ?1) "
                       "RETURNING code",
    [ST_SEQ_RESERVE] = "UPDATE counters SET value = value + ?1 WHERE name = 'event_seq' "
                       "RETURNING value",
    [ST_NEWEST_UPDATE] = "UPDATE counters SET value = max(value, ?1) "
                         "WHERE name = 'newest_event_ms'",
    [ST_EVENT_INSERT] = "INSERT INTO events(user_key, ts_ms, seq, item_key, type, value) "
                        "VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
    [ST_IMPORT_PUT] = "INSERT OR REPLACE INTO imports(sha256, path, format, rows, imported_ms) "
                      "VALUES(?1, ?2, ?3, ?4, ?5)",
    [ST_IMPORT_GET] = "SELECT path, format, rows, imported_ms FROM imports WHERE sha256 = ?1",
    [ST_USER_GET] = "SELECT id, attrs, created_ms FROM users WHERE id = ?1",
    [ST_USERS_FROM_INCL] = "SELECT id, attrs, created_ms FROM users "
                           "WHERE id >= ?1 AND id < ?2 ORDER BY id LIMIT ?3",
    [ST_USERS_FROM_EXCL] = "SELECT id, attrs, created_ms FROM users "
                           "WHERE id > ?1 AND id < ?2 ORDER BY id LIMIT ?3",
    [ST_ITEM_GET] = "SELECT " ITEM_COLUMNS " FROM items WHERE id = ?1",
    [ST_ITEMS_ALL] = "SELECT " ITEM_COLUMNS " FROM items WHERE id > ?1 ORDER BY id LIMIT ?2",
    [ST_ITEMS_CATEGORY] = "SELECT " ITEM_COLUMNS " FROM items "
                          "WHERE category = ?3 AND id > ?1 ORDER BY id LIMIT ?2",
    [ST_CATEGORIES] = "SELECT category, count(*) FROM items WHERE category > ?1 "
                      "GROUP BY category ORDER BY category LIMIT ?2",
    [ST_USER_EVENTS] = "SELECT i.id, t.name, e.value, e.ts_ms FROM events e "
                       "JOIN items i ON i.key = e.item_key "
                       "JOIN event_types t ON t.code = e.type "
                       "WHERE e.user_key = (SELECT key FROM users WHERE id = ?1) "
                       "ORDER BY e.ts_ms DESC, e.seq DESC LIMIT ?2",
    [ST_COUNTS] = "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM items), "
                  "(SELECT value FROM counters WHERE name = 'event_seq'), "
                  "(SELECT value FROM counters WHERE name = 'newest_event_ms')",
    [ST_SCAN_USERS] = "SELECT key, id FROM users ORDER BY key",
    [ST_SCAN_ITEMS] = "SELECT " ITEM_COLUMNS " FROM items ORDER BY key",
    [ST_SCAN_EVENTS] = "SELECT user_key, item_key, type, value, ts_ms FROM events "
                       "ORDER BY user_key, ts_ms, seq",
};

/* id -> store key for ids this handle has seen. Bounded: cleared when it
 * passes CACHE_MAX ids (it is a cache; a miss costs one indexed query). */
#define CACHE_MAX 4000000

typedef struct key_cache {
    rs_idmap *ids;
    int64_t *keys;  /* keys[index in ids] */
    size_t cap;
} key_cache;

/* A resolved event ready to insert, sorted by (user_key, ts_ms, seq). */
typedef struct event_row {
    int64_t user_key, ts_ms, seq, item_key;
    int32_t type;
    double value;
} event_row;

/* Batches at least this large switch the connection to a bigger page cache:
 * random B-tree inserts of a bulk import run about 1.5x faster with the
 * tables' upper levels cached. */
#define BULK_BATCH 4096
#define BULK_CACHE_SQL "PRAGMA cache_size=-65536"

typedef struct sq_store {
    rs_store base;
    sqlite3 *db;
    bool bulk_cache;              /* the bigger page cache is on */
    sqlite3_stmt *st[ST__COUNT];  /* prepared on first use */
    key_cache users, items;
    char **types;                 /* types[code] = name; NULL when not loaded */
    size_t n_types;
    event_row *rows;              /* add_events scratch */
    size_t rows_cap;
} sq_store;

static sq_store *sq(rs_store *s)
{
    return (sq_store *)s;
}

/* --- errors and statements ------------------------------------------------ */

/* Maps the connection's last SQLite error to an rs_err and records it. */
static rs_err db_fail(sq_store *q, const char *what)
{
    int rc = sqlite3_extended_errcode(q->db);
    rs_err e;
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED: e = RS_EUNAVAIL; break;
    case SQLITE_NOMEM: e = RS_ENOMEM; break;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB: e = RS_ECORRUPT; break;
    case SQLITE_FULL:
    case SQLITE_IOERR: e = RS_EIO; break;
    default: e = RS_ESTORE;
    }
    return rs__store_fail(&q->base, e, "%s: %s", what, sqlite3_errmsg(q->db));
}

sqlite3 *rs__sqlite_db(rs_store *s)
{
    return sq(s)->db;
}

rs_err rs__sqlite_fail(rs_store *s, const char *what)
{
    return db_fail(sq(s), what);
}

/* The prepared statement `id`, reset and with bindings cleared; NULL (with
 * the error recorded) when it cannot be prepared. */
static sqlite3_stmt *stmt(sq_store *q, stmt_id id)
{
    if (!q->st[id]) {
        if (sqlite3_prepare_v3(q->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &q->st[id],
                               NULL) != SQLITE_OK) {
            db_fail(q, "preparing a statement");
            return NULL;
        }
    } else {
        sqlite3_reset(q->st[id]);
        sqlite3_clear_bindings(q->st[id]);
    }
    return q->st[id];
}

/* Runs a statement that returns no rows (or whose rows are ignored). */
static rs_err run(sq_store *q, sqlite3_stmt *st, const char *what)
{
    if (!st)
        return RS_ESTORE;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        ;
    rs_err e = rc == SQLITE_DONE ? RS_OK : db_fail(q, what);
    sqlite3_reset(st);
    return e;
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
    sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
}

static char *col_dup(rs_arena *a, sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return rs_arena_strndup(a, t ? (const char *)t : "", (size_t)sqlite3_column_bytes(st, i));
}

/* --- caches ------------------------------------------------------------------ */

static void cache_clear(key_cache *c)
{
    rs_idmap_free(c->ids);
    rs_free(c->keys);
    memset(c, 0, sizeof *c);
}

static int64_t cache_find(const key_cache *c, const char *id)
{
    if (!c->ids)
        return -1;
    uint32_t i = rs_idmap_find(c->ids, id, strlen(id));
    return i == RS_INDEX_NONE ? -1 : c->keys[i];
}

static void cache_put(key_cache *c, const char *id, int64_t key)
{
    if (!c->ids || rs_idmap_size(c->ids) >= CACHE_MAX) {
        cache_clear(c);
        c->ids = rs_idmap_new();
    }
    uint32_t i;
    bool added;
    if (rs_idmap_intern(c->ids, id, strlen(id), &i, &added) != RS_OK)
        return; /* out of memory: simply not cached */
    if (i >= c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 1024;
        int64_t *keys = rs_try_reallocarray(c->keys, cap, sizeof *keys);
        if (!keys) {
            cache_clear(c);
            return;
        }
        c->keys = keys;
        c->cap = cap;
    }
    c->keys[i] = key;
}

static void types_clear(sq_store *q)
{
    for (size_t i = 0; i < q->n_types; i++)
        rs_free(q->types[i]);
    rs_free(q->types);
    q->types = NULL;
    q->n_types = 0;
}

/* Forgets everything that might describe rows of a rolled-back transaction. */
static void caches_clear(sq_store *q)
{
    cache_clear(&q->users);
    cache_clear(&q->items);
    types_clear(q);
}

/* --- open / close ---------------------------------------------------------------- */

static void sq_close(rs_store *s)
{
    sq_store *q = sq(s);
    for (int i = 0; i < ST__COUNT; i++)
        sqlite3_finalize(q->st[i]);
    sqlite3_close(q->db);
    caches_clear(q);
    rs_free(q->rows);
    rs_free(q);
}

/* Says why a database path cannot be opened when its folder is the cause. */
static rs_err explain_open_failure(const char *path, const char *sqlite_msg, rs_diag *diag)
{
    char dir[4096];
    size_t n = strlen(path);
    const char *slash = strrchr(path, '/');
    if (slash && (size_t)(slash - path) < sizeof dir && n < sizeof dir) {
        size_t dl = slash == path ? 1 : (size_t)(slash - path);
        memcpy(dir, path, dl);
        dir[dl] = '\0';
        struct stat stt;
        if (stat(dir, &stt) != 0)
            return rs_diag_fail(diag, RS_ESTORE, "cannot open database %s: folder %s: %s", path,
                                dir, strerror(errno));
    }
    return rs_diag_fail(diag, RS_ESTORE, "cannot open database %s: %s", path, sqlite_msg);
}

static rs_err sq_open(const char *path, rs_store **out, rs_diag *diag)
{
    sq_store *q = rs_xcalloc(1, sizeof *q);
    q->base.ops = &rs__store_sqlite_ops;
    int rc = sqlite3_open_v2(path, &q->db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                             NULL);
    if (rc != SQLITE_OK) {
        rs_err e = explain_open_failure(path, q->db ? sqlite3_errmsg(q->db) : "out of memory",
                                        diag);
        sq_close(&q->base);
        return e;
    }
    sqlite3_extended_result_codes(q->db, 1);
    sqlite3_busy_timeout(q->db, 10000);
    /* WAL lets readers run beside the writer; synchronous=FULL syncs the
     * log at every commit, which is what makes an acknowledged event
     * durable. The page cache starts small (2 MiB): reads are mostly
     * sequential scans that a cache does not speed up, and a training job's
     * memory should go to its matrix. Bulk writes raise it (see
     * sq_add_events). */
    char *msg = NULL;
    rc = sqlite3_exec(q->db,
                      "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                      "PRAGMA foreign_keys=OFF; PRAGMA temp_store=MEMORY;"
                      "PRAGMA cache_size=-2048;",
                      NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        rs_err e = rc == SQLITE_NOTADB
                       ? rs_diag_fail(diag, RS_ECORRUPT, "%s is not a recsys database: %s", path,
                                      msg ? msg : "?")
                       : rs_diag_fail(diag, RS_ESTORE, "cannot open database %s: %s", path,
                                      msg ? msg : "?");
        sqlite3_free(msg);
        sq_close(&q->base);
        return e;
    }
    rs_err e = rs__sqlite_migrate(q->db, &q->base.schema_version, diag);
    if (e != RS_OK) {
        sq_close(&q->base);
        return e;
    }
    *out = &q->base;
    return RS_OK;
}

/* --- transactions ---------------------------------------------------------------- */

static rs_err sq_begin(rs_store *s, rs__tx kind)
{
    sq_store *q = sq(s);
    return run(q, stmt(q, kind == RS__TX_WRITE ? ST_BEGIN_WRITE : ST_BEGIN_READ),
               "starting a transaction");
}

static rs_err sq_commit(rs_store *s)
{
    sq_store *q = sq(s);
    return run(q, stmt(q, ST_COMMIT), "committing");
}

static void sq_rollback(rs_store *s)
{
    sq_store *q = sq(s);
    /* Reset every statement first: a pending read would block ROLLBACK. */
    for (int i = 0; i < ST__COUNT; i++)
        if (q->st[i])
            sqlite3_reset(q->st[i]);
    if (sqlite3_get_autocommit(q->db) == 0)
        sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
    caches_clear(q);
}

/* --- key resolution ---------------------------------------------------------------- */

/* Finds the key of a user or item id, creating a bare row when absent (for
 * events that mention new users or items). *created says which. */
static rs_err resolve(sq_store *q, bool is_user, const char *id, int64_t now, int64_t *key,
                      bool *created)
{
    key_cache *c = is_user ? &q->users : &q->items;
    *created = false;
    if ((*key = cache_find(c, id)) >= 0)
        return RS_OK;
    sqlite3_stmt *st = stmt(q, is_user ? ST_USER_KEY : ST_ITEM_KEY);
    if (!st)
        return RS_ESTORE;
    bind_text(st, 1, id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *key = sqlite3_column_int64(st, 0);
        sqlite3_reset(st);
    } else if (rc == SQLITE_DONE) {
        sqlite3_reset(st);
        st = stmt(q, is_user ? ST_USER_INSERT : ST_ITEM_INSERT_BARE);
        if (!st)
            return RS_ESTORE;
        bind_text(st, 1, id);
        if (is_user) {
            bind_text(st, 2, "{}");
            sqlite3_bind_int64(st, 3, now);
        } else {
            sqlite3_bind_int64(st, 2, now);
        }
        rs_err e = run(q, st, is_user ? "creating a user" : "creating an item");
        if (e)
            return e;
        *key = sqlite3_last_insert_rowid(q->db);
        *created = true;
    } else {
        return db_fail(q, "looking up an id");
    }
    cache_put(c, id, *key);
    return RS_OK;
}

static rs_err load_types(sq_store *q)
{
    if (q->types)
        return RS_OK;
    sqlite3_stmt *st = stmt(q, ST_TYPE_ALL);
    if (!st)
        return RS_ESTORE;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t code = sqlite3_column_int64(st, 0);
        if (code < 0 || code > 65535)
            continue;
        if ((size_t)code >= q->n_types) {
            size_t n = (size_t)code + 1;
            q->types = rs_xreallocarray(q->types, n, sizeof *q->types);
            memset(q->types + q->n_types, 0, (n - q->n_types) * sizeof *q->types);
            q->n_types = n;
        }
        rs_free(q->types[code]);
        q->types[code] = rs_xstrdup((const char *)sqlite3_column_text(st, 1));
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        types_clear(q);
        return db_fail(q, "reading event types");
    }
    if (!q->types)
        q->types = rs_xcalloc(1, sizeof *q->types); /* loaded, and empty */
    return RS_OK;
}

/* The code of an event type name, registering new names. */
static rs_err type_code(sq_store *q, const char *name, int32_t *code)
{
    rs_err e = load_types(q);
    if (e)
        return e;
    for (size_t i = 0; i < q->n_types; i++)
        if (q->types[i] && strcmp(q->types[i], name) == 0) {
            *code = (int32_t)i;
            return RS_OK;
        }
    sqlite3_stmt *st = stmt(q, ST_TYPE_INSERT);
    if (!st)
        return RS_ESTORE;
    bind_text(st, 1, name);
    if (sqlite3_step(st) != SQLITE_ROW)
        return db_fail(q, "registering an event type");
    *code = (int32_t)sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    types_clear(q); /* reload with the new name on next use */
    return RS_OK;
}

/* --- writes ---------------------------------------------------------------------------- */

static rs_err sq_put_users(rs_store *s, const rs__user_row *rows, size_t n, rs_write_stats *stats)
{
    sq_store *q = sq(s);
    int64_t now = rs_now_ms();
    for (size_t i = 0; i < n; i++) {
        int64_t key;
        bool created;
        rs_err e = resolve(q, true, rows[i].id, now, &key, &created);
        if (e)
            return e;
        stats->users_created += created;
        if (rows[i].attrs_json) {
            sqlite3_stmt *st = stmt(q, ST_USER_SET_ATTRS);
            if (!st)
                return RS_ESTORE;
            sqlite3_bind_int64(st, 1, key);
            bind_text(st, 2, rows[i].attrs_json);
            if ((e = run(q, st, "updating a user")) != RS_OK)
                return e;
        }
    }
    return RS_OK;
}

static void bind_item(sqlite3_stmt *st, const rs__item_row *r, int64_t now)
{
    bind_text(st, 2, r->title);
    bind_text(st, 3, r->category);
    bind_text(st, 4, r->brand);
    bind_text(st, 5, r->tags_json);
    bind_text(st, 6, r->attrs_json ? r->attrs_json : "{}");
    sqlite3_bind_int(st, 7, r->hidden);
    sqlite3_bind_int64(st, 8, now);
}

static rs_err sq_put_items(rs_store *s, const rs__item_row *rows, size_t n, rs_write_stats *stats)
{
    sq_store *q = sq(s);
    int64_t now = rs_now_ms();
    for (size_t i = 0; i < n; i++) {
        const rs__item_row *r = &rows[i];
        int64_t key = cache_find(&q->items, r->id);
        sqlite3_stmt *st;
        if (key < 0) {
            if (!(st = stmt(q, ST_ITEM_KEY)))
                return RS_ESTORE;
            bind_text(st, 1, r->id);
            int rc = sqlite3_step(st);
            if (rc == SQLITE_ROW)
                key = sqlite3_column_int64(st, 0);
            else if (rc != SQLITE_DONE)
                return db_fail(q, "looking up an item");
            sqlite3_reset(st);
        }
        rs_err e;
        if (key >= 0) {
            if (!(st = stmt(q, ST_ITEM_UPDATE)))
                return RS_ESTORE;
            sqlite3_bind_int64(st, 1, key);
            bind_item(st, r, now);
            if ((e = run(q, st, "updating an item")) != RS_OK)
                return e;
            stats->items_updated++;
        } else {
            if (!(st = stmt(q, ST_ITEM_INSERT)))
                return RS_ESTORE;
            bind_text(st, 1, r->id);
            bind_item(st, r, now);
            if ((e = run(q, st, "creating an item")) != RS_OK)
                return e;
            key = sqlite3_last_insert_rowid(q->db);
            stats->items_created++;
        }
        cache_put(&q->items, r->id, key);
    }
    return RS_OK;
}

static int cmp_event_row(const void *pa, const void *pb)
{
    const event_row *a = pa, *b = pb;
    if (a->user_key != b->user_key)
        return a->user_key < b->user_key ? -1 : 1;
    if (a->ts_ms != b->ts_ms)
        return a->ts_ms < b->ts_ms ? -1 : 1;
    return (a->seq > b->seq) - (a->seq < b->seq);
}

/* Appends a batch: resolve every id to its key, reserve a block of
 * sequence numbers, then insert in (user, time) order, which keeps B-tree
 * inserts local and runs about twice as fast as input order. */
static rs_err sq_add_events(rs_store *s, const rs_event *ev, size_t n, rs_write_stats *stats)
{
    sq_store *q = sq(s);
    if (n > q->rows_cap) {
        event_row *rows = rs_try_reallocarray(q->rows, n, sizeof *rows);
        if (!rows)
            return rs__store_fail(s, RS_ENOMEM, "no memory for a batch of %zu events", n);
        q->rows = rows;
        q->rows_cap = n;
    }
    if (n >= BULK_BATCH && !q->bulk_cache) {
        sqlite3_exec(q->db, BULK_CACHE_SQL, NULL, NULL, NULL); /* only a speed hint */
        q->bulk_cache = true;
    }
    int64_t now = rs_now_ms(), newest = 0;
    rs_err e;
    for (size_t i = 0; i < n; i++) {
        event_row *r = &q->rows[i];
        bool created;
        if ((e = resolve(q, true, ev[i].user_id, now, &r->user_key, &created)) != RS_OK)
            return e;
        stats->users_created += created;
        if ((e = resolve(q, false, ev[i].item_id, now, &r->item_key, &created)) != RS_OK)
            return e;
        stats->items_created += created;
        if ((e = type_code(q, ev[i].type, &r->type)) != RS_OK)
            return e;
        r->ts_ms = ev[i].ts_ms;
        r->value = ev[i].value;
        if (r->ts_ms > newest)
            newest = r->ts_ms;
    }

    sqlite3_stmt *st = stmt(q, ST_SEQ_RESERVE);
    if (!st)
        return RS_ESTORE;
    sqlite3_bind_int64(st, 1, (int64_t)n);
    if (sqlite3_step(st) != SQLITE_ROW)
        return db_fail(q, "reserving event sequence numbers");
    int64_t first = sqlite3_column_int64(st, 0) - (int64_t)n + 1;
    sqlite3_reset(st);
    for (size_t i = 0; i < n; i++)
        q->rows[i].seq = first + (int64_t)i;
    qsort(q->rows, n, sizeof *q->rows, cmp_event_row);

    if (!(st = stmt(q, ST_EVENT_INSERT)))
        return RS_ESTORE;
    for (size_t i = 0; i < n; i++) {
        const event_row *r = &q->rows[i];
        sqlite3_bind_int64(st, 1, r->user_key);
        sqlite3_bind_int64(st, 2, r->ts_ms);
        sqlite3_bind_int64(st, 3, r->seq);
        sqlite3_bind_int64(st, 4, r->item_key);
        sqlite3_bind_int(st, 5, r->type);
        sqlite3_bind_double(st, 6, r->value);
        if (sqlite3_step(st) != SQLITE_DONE) {
            e = db_fail(q, "adding an event");
            sqlite3_reset(st);
            return e;
        }
        sqlite3_reset(st);
    }
    if (!(st = stmt(q, ST_NEWEST_UPDATE)))
        return RS_ESTORE;
    sqlite3_bind_int64(st, 1, newest);
    if ((e = run(q, st, "updating event counters")) != RS_OK)
        return e;
    stats->events_added += n;
    return RS_OK;
}

static rs_err sq_record_import(rs_store *s, const rs_import_rec *rec)
{
    sq_store *q = sq(s);
    sqlite3_stmt *st = stmt(q, ST_IMPORT_PUT);
    if (!st)
        return RS_ESTORE;
    bind_text(st, 1, rec->sha256);
    bind_text(st, 2, rec->path);
    bind_text(st, 3, rec->format);
    sqlite3_bind_int64(st, 4, (int64_t)rec->rows);
    sqlite3_bind_int64(st, 5, rs_now_ms());
    return run(q, st, "recording an import");
}

/* --- reads ------------------------------------------------------------------------------ */

static void read_user(sqlite3_stmt *st, rs_arena *a, rs_user *u)
{
    u->id = col_dup(a, st, 0);
    u->attrs = col_dup(a, st, 1);
    u->created_ms = sqlite3_column_int64(st, 2);
}

/* Reads an item row selected with ITEM_COLUMNS; returns its key. */
static int64_t read_item(sqlite3_stmt *st, rs_arena *a, rs_item *it)
{
    memset(it, 0, sizeof *it);
    it->id = col_dup(a, st, 1);
    it->title = col_dup(a, st, 2);
    it->category = col_dup(a, st, 3);
    it->brand = col_dup(a, st, 4);
    rs__store_tags_parse((const char *)sqlite3_column_text(st, 5), a, &it->tags, &it->n_tags);
    it->attrs = col_dup(a, st, 6);
    it->hidden = sqlite3_column_int(st, 7) != 0;
    it->created_ms = sqlite3_column_int64(st, 8);
    it->updated_ms = sqlite3_column_int64(st, 9);
    return sqlite3_column_int64(st, 0);
}

static rs_err sq_get_user(rs_store *s, const char *id, rs_arena *a, rs_user *out)
{
    sq_store *q = sq(s);
    sqlite3_stmt *st = stmt(q, ST_USER_GET);
    if (!st)
        return RS_ESTORE;
    bind_text(st, 1, id);
    int rc = sqlite3_step(st);
    rs_err e = RS_OK;
    if (rc == SQLITE_ROW)
        read_user(st, a, out);
    else if (rc == SQLITE_DONE)
        e = rs__store_fail(s, RS_ENOTFOUND, "no user with id '%s'", id);
    else
        e = db_fail(q, "reading a user");
    sqlite3_reset(st);
    return e;
}

/* Collects up to `limit` rows of a prepared query into an arena array
 * through `read_row`, which fills one element. */
typedef void (*row_reader)(sqlite3_stmt *st, rs_arena *a, void *elem);

static rs_err collect(sq_store *q, sqlite3_stmt *st, size_t limit, size_t elem_size,
                      row_reader read_row, rs_arena *a, void **out, size_t *n)
{
    char *arr = rs_arena_alloc(a, limit * elem_size);
    size_t k = 0;
    int rc;
    while (k < limit && (rc = sqlite3_step(st)) == SQLITE_ROW)
        read_row(st, a, arr + elem_size * k++);
    rs_err e = (k == limit || rc == SQLITE_DONE) ? RS_OK : db_fail(q, "reading rows");
    sqlite3_reset(st);
    *out = arr;
    *n = e ? 0 : k;
    return e;
}

static void user_reader(sqlite3_stmt *st, rs_arena *a, void *elem)
{
    read_user(st, a, elem);
}

static void item_reader(sqlite3_stmt *st, rs_arena *a, void *elem)
{
    read_item(st, a, elem);
}

static rs_err sq_find_users(rs_store *s, const char *prefix, const char *after, size_t limit,
                            rs_arena *a, rs_user **out, size_t *n)
{
    sq_store *q = sq(s);
    /* Ids with the prefix are exactly those in [prefix, prefix with its last
     * byte incremented). Without a prefix the bound is "\xf5", above every
     * valid UTF-8 string. Start after the cursor when it is past prefix. */
    char hi[RS_ID_MAX + 2];
    size_t plen = strlen(prefix);
    if (plen == 0) {
        memcpy(hi, "\xf5", 2);
    } else {
        memcpy(hi, prefix, plen + 1);
        hi[plen - 1] = (char)((unsigned char)hi[plen - 1] + 1);
    }
    bool use_after = after && strcmp(after, prefix) >= 0;
    sqlite3_stmt *st = stmt(q, use_after ? ST_USERS_FROM_EXCL : ST_USERS_FROM_INCL);
    if (!st)
        return RS_ESTORE;
    bind_text(st, 1, use_after ? after : prefix);
    sqlite3_bind_text(st, 2, hi, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, (int64_t)limit);
    return collect(q, st, limit, sizeof **out, user_reader, a, (void **)out, n);
}

static rs_err sq_get_item(rs_store *s, const char *id, rs_arena *a, rs_item *out)
{
    sq_store *q = sq(s);
    sqlite3_stmt *st = stmt(q, ST_ITEM_GET);
    if (!st)
        return RS_ESTORE;
    bind_text(st, 1, id);
    int rc = sqlite3_step(st);
    rs_err e = RS_OK;
    if (rc == SQLITE_ROW)
        read_item(st, a, out);
    else if (rc == SQLITE_DONE)
        e = rs__store_fail(s, RS_ENOTFOUND, "no item with id '%s'", id);
    else
        e = db_fail(q, "reading an item");
    sqlite3_reset(st);
    return e;
}

static rs_err sq_list_items(rs_store *s, const char *category, const char *after, size_t limit,
                            rs_arena *a, rs_item **out, size_t *n)
{
    sq_store *q = sq(s);
    sqlite3_stmt *st = stmt(q, category ? ST_ITEMS_CATEGORY : ST_ITEMS_ALL);
    if (!st)
        return RS_ESTORE;
    bind_text(st, 1, after ? after : "");
    sqlite3_bind_int64(st, 2, (int64_t)limit);
    if (category)
        bind_text(st, 3, category);
    return collect(q, st, limit, sizeof **out, item_reader, a, (void **)out, n);
}

static void category_reader(sqlite3_stmt *st, rs_arena *a, void *elem)
{
    rs_category *c = elem;
    c->name = col_dup(a, st, 0);
    c->items = (uint64_t)sqlite3_column_int64(st, 1);
}

static rs_err sq_list_categories(rs_store *s, const char *after, size_t limit, rs_arena *a,
                                 rs_category **out, size_t *n)
{
    sq_store *q = sq(s);
    sqlite3_stmt *st = stmt(q, ST_CATEGORIES);
    if (!st)
        return RS_ESTORE;
    bind_text(st, 1, after ? after : "");
    sqlite3_bind_int64(st, 2, (int64_t)limit);
    return collect(q, st, limit, sizeof **out, category_reader, a, (void **)out, n);
}

static rs_err sq_user_events(rs_store *s, const char *user_id, size_t limit, rs_arena *a,
                             rs_event **out, size_t *n)
{
    sq_store *q = sq(s);
    sqlite3_stmt *st = stmt(q, ST_USER_EVENTS);
    if (!st)
        return RS_ESTORE;
    bind_text(st, 1, user_id);
    sqlite3_bind_int64(st, 2, (int64_t)limit);
    rs_event *ev = rs_arena_alloc(a, limit * sizeof *ev);
    const char *uid = rs_arena_strdup(a, user_id);
    size_t k = 0;
    int rc;
    while (k < limit && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        ev[k].user_id = uid;
        ev[k].item_id = col_dup(a, st, 0);
        ev[k].type = col_dup(a, st, 1);
        ev[k].value = sqlite3_column_double(st, 2);
        ev[k].ts_ms = sqlite3_column_int64(st, 3);
        k++;
    }
    rs_err e = (k == limit || rc == SQLITE_DONE) ? RS_OK : db_fail(q, "reading events");
    sqlite3_reset(st);
    *out = ev;
    *n = e ? 0 : k;
    return e;
}

static rs_err sq_get_counts(rs_store *s, rs_store_counts *out)
{
    sq_store *q = sq(s);
    sqlite3_stmt *st = stmt(q, ST_COUNTS);
    if (!st)
        return RS_ESTORE;
    if (sqlite3_step(st) != SQLITE_ROW) {
        rs_err e = db_fail(q, "counting");
        sqlite3_reset(st);
        return e;
    }
    out->users = (uint64_t)sqlite3_column_int64(st, 0);
    out->items = (uint64_t)sqlite3_column_int64(st, 1);
    out->events = (uint64_t)sqlite3_column_int64(st, 2);
    out->newest_event_ms = sqlite3_column_int64(st, 3);
    sqlite3_reset(st);
    return RS_OK;
}

/* --- scans --------------------------------------------------------------------------------- */

/* Steps through a scan, calling `each` per row, until done, an error, or
 * the callback stops it. */
typedef int (*scan_step)(sqlite3_stmt *st, void *ctx);

static rs_err scan(sq_store *q, stmt_id id, scan_step each, void *ctx, const char *what)
{
    sqlite3_stmt *st = stmt(q, id);
    if (!st)
        return RS_ESTORE;
    int rc;
    rs_err e = RS_OK;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (each(st, ctx) != 0) {
            e = rs__store_fail(&q->base, RS_ECANCELED, "%s stopped by the caller", what);
            break;
        }
    }
    if (e == RS_OK && rc != SQLITE_DONE)
        e = db_fail(q, what);
    sqlite3_reset(st);
    return e;
}

typedef struct user_scan {
    rs_user_scan_fn fn;
    void *ctx;
} user_scan;

static int user_step(sqlite3_stmt *st, void *ctx)
{
    user_scan *u = ctx;
    return u->fn(u->ctx, sqlite3_column_int64(st, 0), (const char *)sqlite3_column_text(st, 1));
}

static rs_err sq_scan_users(rs_store *s, rs_user_scan_fn fn, void *ctx)
{
    user_scan u = {fn, ctx};
    return scan(sq(s), ST_SCAN_USERS, user_step, &u, "scanning users");
}

typedef struct item_scan {
    rs_item_scan_fn fn;
    void *ctx;
    rs_arena arena;  /* one row's strings, reset per row */
} item_scan;

static int item_step(sqlite3_stmt *st, void *ctx)
{
    item_scan *it = ctx;
    rs_item item;
    rs_arena_reset(&it->arena);
    int64_t key = read_item(st, &it->arena, &item);
    return it->fn(it->ctx, key, &item);
}

static rs_err sq_scan_items(rs_store *s, rs_item_scan_fn fn, void *ctx)
{
    item_scan it = {fn, ctx, {0}};
    rs_arena_init(&it.arena, 4096);
    rs_err e = scan(sq(s), ST_SCAN_ITEMS, item_step, &it, "scanning items");
    rs_arena_destroy(&it.arena);
    return e;
}

typedef struct event_scan {
    rs_event_scan_fn fn;
    void *ctx;
} event_scan;

static int event_step(sqlite3_stmt *st, void *ctx)
{
    event_scan *ev = ctx;
    rs_event_row row = {
        .user_key = sqlite3_column_int64(st, 0),
        .item_key = sqlite3_column_int64(st, 1),
        .type = sqlite3_column_int(st, 2),
        .value = (float)sqlite3_column_double(st, 3),
        .ts_ms = sqlite3_column_int64(st, 4),
    };
    return ev->fn(ev->ctx, &row);
}

static rs_err sq_scan_events(rs_store *s, rs_event_scan_fn fn, void *ctx)
{
    event_scan ev = {fn, ctx};
    return scan(sq(s), ST_SCAN_EVENTS, event_step, &ev, "scanning events");
}

static rs_err sq_event_types(rs_store *s, rs_arena *a, const char ***names, size_t *n)
{
    sq_store *q = sq(s);
    types_clear(q); /* another process may have added types */
    rs_err e = load_types(q);
    if (e)
        return e;
    const char **out = rs_arena_zalloc(a, (q->n_types ? q->n_types : 1) * sizeof *out);
    for (size_t i = 0; i < q->n_types; i++)
        out[i] = q->types[i] ? rs_arena_strdup(a, q->types[i]) : NULL;
    *names = out;
    *n = q->n_types;
    return RS_OK;
}

static rs_err sq_find_import(rs_store *s, const char *sha256, rs_arena *a, rs_import_rec *out)
{
    sq_store *q = sq(s);
    sqlite3_stmt *st = stmt(q, ST_IMPORT_GET);
    if (!st)
        return RS_ESTORE;
    bind_text(st, 1, sha256);
    int rc = sqlite3_step(st);
    rs_err e = RS_OK;
    if (rc == SQLITE_ROW) {
        out->sha256 = rs_arena_strdup(a, sha256);
        out->path = col_dup(a, st, 0);
        out->format = col_dup(a, st, 1);
        out->rows = (uint64_t)sqlite3_column_int64(st, 2);
        out->imported_ms = sqlite3_column_int64(st, 3);
    } else if (rc == SQLITE_DONE) {
        e = RS_ENOTFOUND;
    } else {
        e = db_fail(q, "reading imports");
    }
    sqlite3_reset(st);
    return e;
}

const rs_store_ops rs__store_sqlite_ops = {
    .name = "sqlite",
    .open = sq_open,
    .close = sq_close,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .put_users = sq_put_users,
    .put_items = sq_put_items,
    .add_events = sq_add_events,
    .record_import = sq_record_import,
    .get_user = sq_get_user,
    .find_users = sq_find_users,
    .get_item = sq_get_item,
    .list_items = sq_list_items,
    .list_categories = sq_list_categories,
    .user_events = sq_user_events,
    .get_counts = sq_get_counts,
    .scan_users = sq_scan_users,
    .scan_items = sq_scan_items,
    .scan_events = sq_scan_events,
    .event_types = sq_event_types,
    .find_import = sq_find_import,
    .put_run = rs__sqlite_put_run,
    .get_run = rs__sqlite_get_run,
    .list_runs = rs__sqlite_list_runs,
    .add_model_version = rs__sqlite_add_model_version,
    .set_model_stage = rs__sqlite_set_model_stage,
    .get_model_version = rs__sqlite_get_model_version,
    .list_model_versions = rs__sqlite_list_model_versions,
    .delete_model_version = rs__sqlite_delete_model_version,
};
