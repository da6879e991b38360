/* The PostgreSQL backend of the store (postgresql://USER:PASS@HOST:PORT/DB,
 * through libpq): one connection per handle, statements with text
 * parameters prepared on the connection at their first use, events appended a batch at a
 * time with COPY inside the caller's transaction, ids of a batch resolved
 * (and created) in one statement, and large scans streamed row by row. A
 * connection lost while no transaction is open (the server restarted) is
 * re-established on the next call; one lost inside a transaction fails
 * that transaction with RS_EUNAVAIL, and the caller retries. */
#include "store_pg.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/idmap.h"
#include "core/timeutil.h"

#define ITEM_COLUMNS                                                                            \
    "key, id, title, category, brand, tags, attrs, hidden, created_ms, updated_ms"

/* Statements prepared on a connection, at most: the backend has fewer. */
#define PREPARED_MAX 64

typedef struct pg_store {
    rs_store base;
    PGconn *conn;
    char *conninfo;            /* the URL, to reconnect */
    char **types;              /* types[code] = name; NULL when not loaded */
    size_t n_types;
    const char *prepared[PREPARED_MAX]; /* SQL prepared on this connection
                                         * as "rs<index>" (the backend's
                                         * statements are string literals) */
    size_t n_prepared;
} pg_store;

static pg_store *pg(rs_store *s)
{
    return (pg_store *)s;
}

/* --- errors and execution ---------------------------------------------------- */

bool rs__pg_state_is(const PGresult *r, const char *state)
{
    const char *got = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    return got && !strcmp(got, state);
}

/* The message of r or of the connection, without libpq's trailing newline. */
static void message(const pg_store *q, const PGresult *r, char *out, size_t cap)
{
    const char *m = r ? PQresultErrorMessage(r) : "";
    if (!*m)
        m = PQerrorMessage(q->conn);
    if (!*m)
        m = "unknown error";
    snprintf(out, cap, "%s", m);
    size_t n = strlen(out);
    while (n && (out[n - 1] == '\n' || out[n - 1] == ' '))
        out[--n] = '\0';
}

rs_err rs__pg_fail(rs_store *s, PGresult *r, const char *what)
{
    pg_store *q = pg(s);
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    rs_err e = RS_ESTORE;
    /* Class 08: connection; 57P0x: the server shuts down or restarts; 53:
     * out of resources; 40001/40P01: serialisation failure, deadlock. */
    if (PQstatus(q->conn) != CONNECTION_OK || !state || !strncmp(state, "08", 2) ||
        !strncmp(state, "57P0", 4) || !strncmp(state, "53", 2) || !strcmp(state, "40001") ||
        !strcmp(state, "40P01"))
        e = RS_EUNAVAIL;
    if (state && (!strcmp(state, "53100")))
        e = RS_EIO; /* disk full */
    char msg[400];
    message(q, r, msg, sizeof msg);
    return rs__store_fail(s, e, "%s: %s", what, msg);
}

static void types_clear(pg_store *q)
{
    for (size_t i = 0; i < q->n_types; i++)
        rs_free(q->types[i]);
    rs_free(q->types);
    q->types = NULL;
    q->n_types = 0;
}

/* Re-establishes a lost connection; false (error recorded) when the server
 * still cannot be reached. */
static bool reconnect(pg_store *q)
{
    if (PQstatus(q->conn) == CONNECTION_OK)
        return true;
    PQreset(q->conn);
    if (PQstatus(q->conn) != CONNECTION_OK) {
        rs__pg_fail(&q->base, NULL, "the PostgreSQL server cannot be reached");
        return false;
    }
    types_clear(q); /* anything cached about the old session may be stale */
    q->n_prepared = 0;
    return true;
}

static bool succeeded(const PGresult *r)
{
    const ExecStatusType st = PQresultStatus(r);
    return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_COPY_IN;
}

/* Whether sql is a query or a data change (what is worth preparing; not
 * transaction control or COPY). */
static bool preparable(const char *sql)
{
    static const char *const verbs[] = {"SELECT ", "WITH ", "INSERT ", "UPDATE ", "DELETE "};
    for (size_t i = 0; i < RS_ARRAY_LEN(verbs); i++)
        if (!strncmp(sql, verbs[i], strlen(verbs[i])))
            return true;
    return false;
}

/* Runs sql as a statement prepared on this connection (prepared at its
 * first use), or unprepared when it cannot be (a statement of another
 * kind, the cache full, or a failed preparation: the execution then says
 * what is wrong). */
static PGresult *execute(pg_store *q, const char *sql, int n, const char *const *params)
{
    size_t i = 0;
    while (i < q->n_prepared && q->prepared[i] != sql)
        i++;
    char name[16];
    snprintf(name, sizeof name, "rs%zu", i);
    if (i == q->n_prepared) {
        if (i == PREPARED_MAX || !preparable(sql))
            return PQexecParams(q->conn, sql, n, NULL, params, NULL, NULL, 0);
        PGresult *r = PQprepare(q->conn, name, sql, n, NULL);
        const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        PQclear(r);
        if (!ok)
            return PQexecParams(q->conn, sql, n, NULL, params, NULL, NULL, 0);
        q->prepared[q->n_prepared++] = sql;
    }
    return PQexecPrepared(q->conn, name, n, params, NULL, NULL, 0);
}

PGresult *rs__pg_exec(rs_store *s, const char *sql, int n, const char *const *params,
                      const char *what, rs_err *err)
{
    pg_store *q = pg(s);
    const bool in_tx = s->tx != RS__TX_NONE;
    for (int attempt = 0;; attempt++) {
        if (!in_tx && !reconnect(q)) {
            *err = RS_EUNAVAIL;
            return NULL;
        }
        PGresult *r = execute(q, sql, n, params);
        if (succeeded(r)) {
            *err = RS_OK;
            return r;
        }
        /* A statement outside a transaction may be tried again once on a
         * fresh connection: nothing of it was committed. */
        if (!in_tx && attempt == 0 && PQstatus(q->conn) != CONNECTION_OK) {
            PQclear(r);
            continue;
        }
        *err = rs__pg_fail(s, r, what);
        PQclear(r);
        return NULL;
    }
}

rs_err rs__pg_run(rs_store *s, const char *sql, int n, const char *const *params,
                 const char *what)
{
    rs_err e;
    PQclear(rs__pg_exec(s, sql, n, params, what, &e));
    return e;
}

static char *col_dup(rs_arena *a, const PGresult *r, int row, int col)
{
    return rs_arena_strndup(a, PQgetvalue(r, row, col), (size_t)PQgetlength(r, row, col));
}

int64_t rs__pg_int(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? 0 : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

const char *rs__pg_num(char buf[RS__PG_NUM_CAP], int64_t v)
{
    snprintf(buf, RS__PG_NUM_CAP, "%" PRId64, v);
    return buf;
}

/* --- open / close ------------------------------------------------------------------- */

static void pg_close(rs_store *s)
{
    pg_store *q = pg(s);
    PQfinish(q->conn);
    types_clear(q);
    rs_free(q->conninfo);
    rs_free(q);
}

/* Server notices ("relation already exists, skipping") are not errors. */
static void ignore_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

static rs_err pg_open(const char *target, rs_store **out, rs_diag *diag)
{
    pg_store *q = rs_xcalloc(1, sizeof *q);
    q->base.ops = &rs__store_pg_ops;
    size_t len = strlen("postgresql://") + strlen(target) + 1;
    q->conninfo = rs_xmalloc(len);
    snprintf(q->conninfo, len, "postgresql://%s", target);
    q->conn = PQconnectdb(q->conninfo);
    if (!q->conn || PQstatus(q->conn) != CONNECTION_OK) {
        char msg[400];
        message(q, NULL, msg, sizeof msg);
        /* Never echo the URL: it may hold a password. */
        rs_err e = rs_diag_fail(diag, RS_EUNAVAIL, "cannot connect to PostgreSQL: %s", msg);
        pg_close(&q->base);
        return e;
    }
    /* UTC, UTF-8, and no notices on stderr. */
    PQsetNoticeProcessor(q->conn, ignore_notice, NULL);
    PGresult *r = PQexec(q->conn, "SET client_encoding = 'UTF8'; SET TIME ZONE 'UTC'");
    const bool ok = succeeded(r);
    PQclear(r);
    rs_err e = ok ? rs__pg_migrate(q->conn, &q->base.schema_version, diag)
                  : rs_diag_fail(diag, RS_ESTORE, "setting up the session: %s",
                                 PQerrorMessage(q->conn));
    if (e != RS_OK) {
        pg_close(&q->base);
        return e;
    }
    *out = &q->base;
    return RS_OK;
}

/* --- transactions --------------------------------------------------------------------- */

static rs_err pg_begin(rs_store *s, rs__tx kind)
{
    /* A read sees one snapshot from its first statement to its end (a
     * training's scans agree with each other); writes take row locks. */
    return rs__pg_run(s,
               kind == RS__TX_WRITE ? "BEGIN ISOLATION LEVEL READ COMMITTED"
                                    : "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
               0, NULL, "starting a transaction");
}

static rs_err pg_commit(rs_store *s)
{
    return rs__pg_run(s, "COMMIT", 0, NULL, "committing");
}

static void pg_rollback(rs_store *s)
{
    pg_store *q = pg(s);
    if (PQstatus(q->conn) == CONNECTION_OK &&
        PQtransactionStatus(q->conn) != PQTRANS_IDLE)
        PQclear(PQexec(q->conn, "ROLLBACK"));
    types_clear(q);
}

/* --- ids and event types ---------------------------------------------------------------- */

/* Appends s to b as an element of a PostgreSQL array literal: quoted, with
 * backslashes and quotes escaped. */
static rs_err array_elem(rs_buf *b, const char *s, bool first)
{
    rs_err e = first ? RS_OK : rs_buf_putc(b, ',');
    if (!e)
        e = rs_buf_putc(b, '"');
    for (const char *p = s; *p && !e; p++) {
        if (*p == '"' || *p == '\\')
            e = rs_buf_putc(b, '\\');
        if (!e)
            e = rs_buf_putc(b, *p);
    }
    return e ? e : rs_buf_putc(b, '"');
}

/* Keys of the distinct ids of a batch (users or items), creating bare rows
 * for the new ones: ids[i] gets keys[i]; *created counts the new rows. */
typedef struct id_batch {
    rs_idmap *ids;
    int64_t *keys;
} id_batch;

static rs_err resolve_batch(pg_store *q, bool users, id_batch *b, int64_t now, uint64_t *created)
{
    const size_t n = rs_idmap_size(b->ids);
    b->keys = rs_xcalloc(n ? n : 1, sizeof *b->keys);
    if (!n)
        return RS_OK;
    rs_buf arr;
    rs_buf_init(&arr, SIZE_MAX);
    rs_err e = rs_buf_putc(&arr, '{');
    for (size_t i = 0; i < n && !e; i++)
        e = array_elem(&arr, rs_idmap_get(b->ids, (uint32_t)i, NULL), i == 0);
    if (!e)
        e = rs_buf_putc(&arr, '}');
    if (e)
        return rs__store_fail(&q->base, RS_ENOMEM, "no memory for a batch's ids");
    char ts[24];
    const char *params[] = {rs_buf_str(&arr), rs__pg_num(ts, now)};
    /* The insert's own rows are not visible to the outer SELECT (one
     * snapshot), so the two parts do not overlap. */
    const char *sql =
        users ? "WITH ins AS (INSERT INTO users(id, attrs, created_ms) "
                "  SELECT x, '{}', $2::bigint FROM unnest($1::text[]) AS x "
                "  ON CONFLICT (id) DO NOTHING RETURNING key, id) "
                "SELECT key, id, true FROM ins UNION ALL "
                "SELECT key, id, false FROM users WHERE id = ANY($1::text[])"
              : "WITH ins AS (INSERT INTO items(id, created_ms, updated_ms) "
                "  SELECT x, $2::bigint, $2::bigint FROM unnest($1::text[]) AS x "
                "  ON CONFLICT (id) DO NOTHING RETURNING key, id) "
                "SELECT key, id, true FROM ins UNION ALL "
                "SELECT key, id, false FROM items WHERE id = ANY($1::text[])";
    PGresult *r = rs__pg_exec(&q->base, sql, 2, params,
                              users ? "creating users" : "creating items", &e);
    rs_buf_destroy(&arr);
    if (!r)
        return e;
    size_t found = 0;
    for (int row = 0; row < PQntuples(r); row++) {
        const char *id = PQgetvalue(r, row, 1);
        const uint32_t i = rs_idmap_find(b->ids, id, (size_t)PQgetlength(r, row, 1));
        if (i == RS_INDEX_NONE || b->keys[i])
            continue;
        b->keys[i] = rs__pg_int(r, row, 0);
        found++;
        *created += PQgetvalue(r, row, 2)[0] == 't';
    }
    PQclear(r);
    if (found != n) /* a row created by a concurrent transaction we cannot see */
        return rs__store_fail(&q->base, RS_EUNAVAIL,
                              "%s changed concurrently; try again", users ? "users" : "items");
    return RS_OK;
}

static rs_err load_types(pg_store *q)
{
    if (q->types)
        return RS_OK;
    rs_err e;
    PGresult *r = rs__pg_exec(&q->base, "SELECT code, name FROM event_types ORDER BY code", 0,
                              NULL, "reading event types", &e);
    if (!r)
        return e;
    q->types = rs_xcalloc(1, sizeof *q->types); /* loaded, maybe empty */
    for (int row = 0; row < PQntuples(r); row++) {
        const int64_t code = rs__pg_int(r, row, 0);
        if (code < 0 || code > 65535)
            continue;
        if ((size_t)code >= q->n_types) {
            const size_t n = (size_t)code + 1;
            q->types = rs_xreallocarray(q->types, n, sizeof *q->types);
            memset(q->types + q->n_types, 0, (n - q->n_types) * sizeof *q->types);
            q->n_types = n;
        }
        rs_free(q->types[code]);
        q->types[code] = rs_xstrdup(PQgetvalue(r, row, 1));
    }
    PQclear(r);
    return RS_OK;
}

/* The code of an event type name, registering new names. The table lock
 * makes concurrent writers number new names one after the other. */
static rs_err type_code(pg_store *q, const char *name, int32_t *code)
{
    rs_err e = load_types(q);
    if (e)
        return e;
    for (size_t i = 0; i < q->n_types; i++)
        if (q->types[i] && !strcmp(q->types[i], name)) {
            *code = (int32_t)i;
            return RS_OK;
        }
    if ((e = rs__pg_run(&q->base, "LOCK TABLE event_types IN SHARE ROW EXCLUSIVE MODE", 0, NULL,
                 "registering an event type")))
        return e;
    const char *params[] = {name};
    PGresult *r = rs__pg_exec(
        &q->base,
        "WITH ins AS (INSERT INTO event_types(code, name) "
        "  SELECT coalesce(max(code), -1) + 1, $1 FROM event_types "
        "  ON CONFLICT (name) DO NOTHING RETURNING code) "
        "SELECT code FROM ins UNION ALL SELECT code FROM event_types WHERE name = $1",
        1, params, "registering an event type", &e);
    if (!r)
        return e;
    *code = (int32_t)rs__pg_int(r, 0, 0);
    PQclear(r);
    types_clear(q); /* reload with the new name on next use */
    return RS_OK;
}

/* --- writes ------------------------------------------------------------------------------- */

static rs_err pg_put_users(rs_store *s, const rs__user_row *rows, size_t n, rs_write_stats *stats)
{
    char now[24];
    rs__pg_num(now, rs_now_ms());
    for (size_t i = 0; i < n; i++) {
        const char *params[] = {rows[i].id, rows[i].attrs_json, now};
        rs_err e;
        PGresult *r = rs__pg_exec(
            s,
            "INSERT INTO users(id, attrs, created_ms) VALUES($1, coalesce($2, '{}'), $3) "
            "ON CONFLICT (id) DO UPDATE SET attrs = coalesce($2, users.attrs) "
            "RETURNING xmax = 0",
            3, params, "writing a user", &e);
        if (!r)
            return e;
        stats->users_created += PQgetvalue(r, 0, 0)[0] == 't';
        PQclear(r);
    }
    return RS_OK;
}

static rs_err pg_put_items(rs_store *s, const rs__item_row *rows, size_t n, rs_write_stats *stats)
{
    char now[24];
    rs__pg_num(now, rs_now_ms());
    for (size_t i = 0; i < n; i++) {
        const rs__item_row *it = &rows[i];
        const char *params[] = {it->id,        it->title,
                                it->category,  it->brand,
                                it->tags_json, it->attrs_json ? it->attrs_json : "{}",
                                it->hidden ? "true" : "false", now};
        rs_err e;
        PGresult *r = rs__pg_exec(
            s,
            "INSERT INTO items(id, title, category, brand, tags, attrs, hidden, created_ms, "
            "updated_ms) VALUES($1, $2, $3, $4, $5, $6, $7, $8, $8) "
            "ON CONFLICT (id) DO UPDATE SET title = $2, category = $3, brand = $4, tags = $5, "
            "attrs = $6, hidden = $7, updated_ms = $8 RETURNING xmax = 0",
            8, params, "writing an item", &e);
        if (!r)
            return e;
        if (PQgetvalue(r, 0, 0)[0] == 't')
            stats->items_created++;
        else
            stats->items_updated++;
        PQclear(r);
    }
    return RS_OK;
}

/* Sends the COPY rows in b to the server and ends the COPY. */
static rs_err copy_rows(pg_store *q, const rs_buf *b)
{
    rs_err e;
    PGresult *r = rs__pg_exec(&q->base,
                              "COPY events(user_key, ts_ms, seq, item_key, type, value) "
                              "FROM STDIN",
                              0, NULL, "adding events", &e);
    if (!r)
        return e;
    PQclear(r);
    const size_t chunk = 1 << 20;
    for (size_t off = 0; off < b->len; off += chunk) {
        const size_t len = b->len - off < chunk ? b->len - off : chunk;
        if (PQputCopyData(q->conn, b->data + off, (int)len) != 1)
            break;
    }
    PQputCopyEnd(q->conn, NULL);
    r = PQgetResult(q->conn);
    e = PQresultStatus(r) == PGRES_COMMAND_OK ? RS_OK : rs__pg_fail(&q->base, r, "adding events");
    PQclear(r);
    while ((r = PQgetResult(q->conn)))
        PQclear(r);
    return e;
}

/* Appends a batch in one round of statements: the batch's users and items
 * resolved (and created) together, a block of sequence numbers reserved
 * (the counter's row lock orders concurrent writers), then the rows sent
 * with COPY. */
static rs_err pg_add_events(rs_store *s, const rs_event *ev, size_t n, rs_write_stats *stats)
{
    pg_store *q = pg(s);
    id_batch users = {rs_idmap_new(), NULL}, items = {rs_idmap_new(), NULL};
    int32_t *types = rs_xmalloc((n ? n : 1) * sizeof *types);
    uint32_t *ui = rs_xmalloc((n ? n : 1) * sizeof *ui), *ii = rs_xmalloc((n ? n : 1) * sizeof *ii);
    const int64_t now = rs_now_ms();
    int64_t newest = 0;
    rs_err e = RS_OK;
    for (size_t i = 0; i < n && !e; i++) {
        bool added;
        if (rs_idmap_intern(users.ids, ev[i].user_id, strlen(ev[i].user_id), &ui[i], &added) ||
            rs_idmap_intern(items.ids, ev[i].item_id, strlen(ev[i].item_id), &ii[i], &added))
            e = rs__store_fail(s, RS_ENOMEM, "no memory for a batch of %zu events", n);
        else
            e = type_code(q, ev[i].type, &types[i]);
        if (ev[i].ts_ms > newest)
            newest = ev[i].ts_ms;
    }
    if (!e)
        e = resolve_batch(q, true, &users, now, &stats->users_created);
    if (!e)
        e = resolve_batch(q, false, &items, now, &stats->items_created);
    int64_t first = 0;
    if (!e) {
        char count[24];
        const char *params[] = {rs__pg_num(count, (int64_t)n)};
        PGresult *r = rs__pg_exec(s,
                                  "UPDATE counters SET value = value + $1 "
                                  "WHERE name = 'event_seq' RETURNING value",
                                  1, params, "reserving event sequence numbers", &e);
        if (r) {
            first = rs__pg_int(r, 0, 0) - (int64_t)n + 1;
            PQclear(r);
        }
    }
    if (!e) {
        rs_buf b;
        rs_buf_init(&b, SIZE_MAX);
        for (size_t i = 0; i < n && !e; i++)
            e = rs_buf_printf(&b, "%" PRId64 "\t%" PRId64 "\t%" PRId64 "\t%" PRId64 "\t%d\t%.17g\n",
                              users.keys[ui[i]], ev[i].ts_ms, first + (int64_t)i,
                              items.keys[ii[i]], types[i], ev[i].value);
        e = e ? rs__store_fail(s, RS_ENOMEM, "no memory for a batch of %zu events", n)
              : copy_rows(q, &b);
        rs_buf_destroy(&b);
    }
    if (!e) {
        char ts[24];
        const char *params[] = {rs__pg_num(ts, newest)};
        e = rs__pg_run(&q->base,
                "UPDATE counters SET value = greatest(value, $1::bigint) "
                "WHERE name = 'newest_event_ms'",
                1, params, "updating event counters");
    }
    if (!e)
        stats->events_added += n;
    rs_idmap_free(users.ids);
    rs_idmap_free(items.ids);
    rs_free(users.keys);
    rs_free(items.keys);
    rs_free(types);
    rs_free(ui);
    rs_free(ii);
    return e;
}

static rs_err pg_record_import(rs_store *s, const rs_import_rec *rec)
{
    char rows[24], now[24];
    const char *params[] = {rec->sha256, rec->path, rec->format, rs__pg_num(rows, (int64_t)rec->rows),
                            rs__pg_num(now, rs_now_ms())};
    return rs__pg_run(s,
               "INSERT INTO imports(sha256, path, format, rows, imported_ms) "
               "VALUES($1, $2, $3, $4, $5) ON CONFLICT (sha256) DO UPDATE SET path = $2, "
               "format = $3, rows = $4, imported_ms = $5",
               5, params, "recording an import");
}

/* --- reads ------------------------------------------------------------------------------------ */

static void read_user(const PGresult *r, int row, rs_arena *a, rs_user *u)
{
    u->id = col_dup(a, r, row, 0);
    u->attrs = col_dup(a, r, row, 1);
    u->created_ms = rs__pg_int(r, row, 2);
}

/* Reads an item row selected with ITEM_COLUMNS; returns its key. */
static int64_t read_item(const PGresult *r, int row, rs_arena *a, rs_item *it)
{
    memset(it, 0, sizeof *it);
    it->id = col_dup(a, r, row, 1);
    it->title = col_dup(a, r, row, 2);
    it->category = col_dup(a, r, row, 3);
    it->brand = col_dup(a, r, row, 4);
    rs__store_tags_parse(PQgetvalue(r, row, 5), a, &it->tags, &it->n_tags);
    it->attrs = col_dup(a, r, row, 6);
    it->hidden = PQgetvalue(r, row, 7)[0] == 't';
    it->created_ms = rs__pg_int(r, row, 8);
    it->updated_ms = rs__pg_int(r, row, 9);
    return rs__pg_int(r, row, 0);
}

static rs_err pg_get_user(rs_store *s, const char *id, rs_arena *a, rs_user *out)
{
    const char *params[] = {id};
    rs_err e;
    PGresult *r = rs__pg_exec(s, "SELECT id, attrs, created_ms FROM users WHERE id = $1", 1,
                              params, "reading a user", &e);
    if (!r)
        return e;
    if (PQntuples(r) == 1)
        read_user(r, 0, a, out);
    else
        e = rs__store_fail(s, RS_ENOTFOUND, "no user with id '%s'", id);
    PQclear(r);
    return e;
}

/* The smallest string above every string that starts with prefix, in byte
 * order (so in code point order): prefix with its last code point
 * incremented, dropping trailing U+10FFFF. "" when there is none (every
 * string is below). prefix is valid UTF-8; out has room for its length. */
static void prefix_bound(const char *prefix, char *out)
{
    size_t n = strlen(prefix);
    memcpy(out, prefix, n + 1);
    while (n) {
        size_t start = n - 1;
        while (start && ((unsigned char)out[start] & 0xC0) == 0x80)
            start--;
        const unsigned char *p = (const unsigned char *)out + start;
        uint32_t cp;
        size_t len = n - start;
        if (len == 1)
            cp = p[0];
        else if (len == 2)
            cp = (uint32_t)(p[0] & 0x1F) << 6 | (p[1] & 0x3F);
        else if (len == 3)
            cp = (uint32_t)(p[0] & 0x0F) << 12 | (uint32_t)(p[1] & 0x3F) << 6 | (p[2] & 0x3F);
        else
            cp = (uint32_t)(p[0] & 0x07) << 18 | (uint32_t)(p[1] & 0x3F) << 12 |
                 (uint32_t)(p[2] & 0x3F) << 6 | (p[3] & 0x3F);
        if (cp >= 0x10FFFF) {
            n = start;
            out[n] = '\0';
            continue;
        }
        cp = cp + 1 == 0xD800 ? 0xE000 : cp + 1;
        char *w = out + start;
        if (cp < 0x80) {
            *w++ = (char)cp;
        } else if (cp < 0x800) {
            *w++ = (char)(0xC0 | cp >> 6);
            *w++ = (char)(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            *w++ = (char)(0xE0 | cp >> 12);
            *w++ = (char)(0x80 | (cp >> 6 & 0x3F));
            *w++ = (char)(0x80 | (cp & 0x3F));
        } else {
            *w++ = (char)(0xF0 | cp >> 18);
            *w++ = (char)(0x80 | (cp >> 12 & 0x3F));
            *w++ = (char)(0x80 | (cp >> 6 & 0x3F));
            *w++ = (char)(0x80 | (cp & 0x3F));
        }
        *w = '\0';
        return;
    }
    out[0] = '\0';
}

/* Collects the rows of r into an arena array through read_row. */
typedef void (*row_reader)(const PGresult *r, int row, rs_arena *a, void *elem);

static void collect(PGresult *r, size_t elem_size, row_reader read_row, rs_arena *a, void **out,
                    size_t *n)
{
    const size_t k = (size_t)PQntuples(r);
    char *arr = rs_arena_alloc(a, (k ? k : 1) * elem_size);
    for (size_t i = 0; i < k; i++)
        read_row(r, (int)i, a, arr + elem_size * i);
    *out = arr;
    *n = k;
    PQclear(r);
}

static void user_reader(const PGresult *r, int row, rs_arena *a, void *elem)
{
    read_user(r, row, a, elem);
}

static void item_reader(const PGresult *r, int row, rs_arena *a, void *elem)
{
    read_item(r, row, a, elem);
}

static rs_err pg_find_users(rs_store *s, const char *prefix, const char *after, size_t limit,
                            rs_arena *a, rs_user **out, size_t *n)
{
    char *hi = rs_arena_alloc(a, strlen(prefix) + 1);
    prefix_bound(prefix, hi);
    const char *from = after && strcmp(after, prefix) >= 0 ? after : prefix;
    char lim[24];
    const char *params[] = {from, *hi ? hi : NULL, rs__pg_num(lim, (int64_t)limit),
                            from == after ? "t" : "f"};
    rs_err e;
    PGresult *r = rs__pg_exec(s,
                              "SELECT id, attrs, created_ms FROM users WHERE "
                              "(id > $1 OR ($4::boolean = false AND id = $1)) AND "
                              "($2::text IS NULL OR id < $2) ORDER BY id LIMIT $3",
                              4, params, "listing users", &e);
    if (!r)
        return e;
    collect(r, sizeof **out, user_reader, a, (void **)out, n);
    return RS_OK;
}

static rs_err pg_get_item(rs_store *s, const char *id, rs_arena *a, rs_item *out)
{
    const char *params[] = {id};
    rs_err e;
    PGresult *r = rs__pg_exec(s, "SELECT " ITEM_COLUMNS " FROM items WHERE id = $1", 1, params,
                              "reading an item", &e);
    if (!r)
        return e;
    if (PQntuples(r) == 1)
        read_item(r, 0, a, out);
    else
        e = rs__store_fail(s, RS_ENOTFOUND, "no item with id '%s'", id);
    PQclear(r);
    return e;
}

static rs_err pg_list_items(rs_store *s, const char *category, const char *after, size_t limit,
                            rs_arena *a, rs_item **out, size_t *n)
{
    char lim[24];
    const char *params[] = {after ? after : "", rs__pg_num(lim, (int64_t)limit), category};
    rs_err e;
    PGresult *r = rs__pg_exec(s,
                              "SELECT " ITEM_COLUMNS " FROM items WHERE id > $1 AND "
                              "($3::text IS NULL OR category = $3) ORDER BY id LIMIT $2",
                              3, params, "listing items", &e);
    if (!r)
        return e;
    collect(r, sizeof **out, item_reader, a, (void **)out, n);
    return RS_OK;
}

static void category_reader(const PGresult *r, int row, rs_arena *a, void *elem)
{
    rs_category *c = elem;
    c->name = col_dup(a, r, row, 0);
    c->items = (uint64_t)rs__pg_int(r, row, 1);
}

static rs_err pg_list_categories(rs_store *s, const char *after, size_t limit, rs_arena *a,
                                 rs_category **out, size_t *n)
{
    char lim[24];
    const char *params[] = {after ? after : "", rs__pg_num(lim, (int64_t)limit)};
    rs_err e;
    PGresult *r = rs__pg_exec(s,
                              "SELECT category, count(*) FROM items WHERE category > $1 "
                              "GROUP BY category ORDER BY category LIMIT $2",
                              2, params, "listing categories", &e);
    if (!r)
        return e;
    collect(r, sizeof **out, category_reader, a, (void **)out, n);
    return RS_OK;
}

static rs_err pg_user_events(rs_store *s, const char *user_id, size_t limit, rs_arena *a,
                             rs_event **out, size_t *n)
{
    char lim[24];
    const char *params[] = {user_id, rs__pg_num(lim, (int64_t)limit)};
    rs_err e;
    PGresult *r = rs__pg_exec(s,
                              "SELECT i.id, t.name, e.value, e.ts_ms FROM events e "
                              "JOIN items i ON i.key = e.item_key "
                              "JOIN event_types t ON t.code = e.type "
                              "WHERE e.user_key = (SELECT key FROM users WHERE id = $1) "
                              "ORDER BY e.ts_ms DESC, e.seq DESC LIMIT $2",
                              2, params, "reading events", &e);
    if (!r)
        return e;
    const size_t k = (size_t)PQntuples(r);
    rs_event *ev = rs_arena_alloc(a, (k ? k : 1) * sizeof *ev);
    const char *uid = rs_arena_strdup(a, user_id);
    for (size_t i = 0; i < k; i++) {
        ev[i].user_id = uid;
        ev[i].item_id = col_dup(a, r, (int)i, 0);
        ev[i].type = col_dup(a, r, (int)i, 1);
        ev[i].value = strtod(PQgetvalue(r, (int)i, 2), NULL);
        ev[i].ts_ms = rs__pg_int(r, (int)i, 3);
    }
    PQclear(r);
    *out = ev;
    *n = k;
    return RS_OK;
}

static rs_err pg_get_counts(rs_store *s, rs_store_counts *out)
{
    rs_err e;
    PGresult *r = rs__pg_exec(s,
                              "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM items), "
                              "(SELECT value FROM counters WHERE name = 'event_seq'), "
                              "(SELECT value FROM counters WHERE name = 'newest_event_ms')",
                              0, NULL, "counting", &e);
    if (!r)
        return e;
    out->users = (uint64_t)rs__pg_int(r, 0, 0);
    out->items = (uint64_t)rs__pg_int(r, 0, 1);
    out->events = (uint64_t)rs__pg_int(r, 0, 2);
    out->newest_event_ms = rs__pg_int(r, 0, 3);
    PQclear(r);
    return RS_OK;
}

/* --- scans ------------------------------------------------------------------------------------ */

/* Streams the rows of sql one at a time (single-row mode, so a scan of
 * millions of events holds one row in memory), calling each per row until
 * done, an error, or the callback stops it. */
typedef int (*scan_step)(const PGresult *r, void *ctx);

static rs_err scan(pg_store *q, const char *sql, scan_step each, void *ctx, const char *what)
{
    if (q->base.tx == RS__TX_NONE && !reconnect(q))
        return RS_EUNAVAIL;
    if (!PQsendQueryParams(q->conn, sql, 0, NULL, NULL, NULL, NULL, 0) ||
        !PQsetSingleRowMode(q->conn))
        return rs__pg_fail(&q->base, NULL, what);
    rs_err e = RS_OK;
    PGresult *r;
    while ((r = PQgetResult(q->conn))) {
        const ExecStatusType st = PQresultStatus(r);
        if (e == RS_OK && st == PGRES_SINGLE_TUPLE) {
            if (each(r, ctx) != 0)
                e = rs__store_fail(&q->base, RS_ECANCELED, "%s stopped by the caller", what);
        } else if (e == RS_OK && st != PGRES_TUPLES_OK) {
            e = rs__pg_fail(&q->base, r, what);
        }
        PQclear(r);
    }
    return e;
}

typedef struct user_scan {
    rs_user_scan_fn fn;
    void *ctx;
} user_scan;

static int user_step(const PGresult *r, void *ctx)
{
    user_scan *u = ctx;
    return u->fn(u->ctx, rs__pg_int(r, 0, 0), PQgetvalue(r, 0, 1));
}

static rs_err pg_scan_users(rs_store *s, rs_user_scan_fn fn, void *ctx)
{
    user_scan u = {fn, ctx};
    return scan(pg(s), "SELECT key, id FROM users ORDER BY key", user_step, &u, "scanning users");
}

typedef struct item_scan {
    rs_item_scan_fn fn;
    void *ctx;
    rs_arena arena;  /* one row's strings, reset per row */
} item_scan;

static int item_step(const PGresult *r, void *ctx)
{
    item_scan *it = ctx;
    rs_item item;
    rs_arena_reset(&it->arena);
    const int64_t key = read_item(r, 0, &it->arena, &item);
    return it->fn(it->ctx, key, &item);
}

static rs_err pg_scan_items(rs_store *s, rs_item_scan_fn fn, void *ctx)
{
    item_scan it = {fn, ctx, {0}};
    rs_arena_init(&it.arena, 4096);
    rs_err e = scan(pg(s), "SELECT " ITEM_COLUMNS " FROM items ORDER BY key", item_step, &it,
                    "scanning items");
    rs_arena_destroy(&it.arena);
    return e;
}

typedef struct event_scan {
    rs_event_scan_fn fn;
    void *ctx;
} event_scan;

static int event_step(const PGresult *r, void *ctx)
{
    event_scan *ev = ctx;
    rs_event_row row = {
        .user_key = rs__pg_int(r, 0, 0),
        .item_key = rs__pg_int(r, 0, 1),
        .type = (int)rs__pg_int(r, 0, 2),
        .value = strtof(PQgetvalue(r, 0, 3), NULL),
        .ts_ms = rs__pg_int(r, 0, 4),
    };
    return ev->fn(ev->ctx, &row);
}

static rs_err pg_scan_events(rs_store *s, rs_event_scan_fn fn, void *ctx)
{
    event_scan ev = {fn, ctx};
    return scan(pg(s),
                "SELECT user_key, item_key, type, value, ts_ms FROM events "
                "ORDER BY user_key, ts_ms, seq",
                event_step, &ev, "scanning events");
}

static rs_err pg_event_types(rs_store *s, rs_arena *a, const char ***names, size_t *n)
{
    pg_store *q = pg(s);
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

static rs_err pg_find_import(rs_store *s, const char *sha256, rs_arena *a, rs_import_rec *out)
{
    const char *params[] = {sha256};
    rs_err e;
    PGresult *r = rs__pg_exec(s,
                              "SELECT path, format, rows, imported_ms FROM imports "
                              "WHERE sha256 = $1",
                              1, params, "reading imports", &e);
    if (!r)
        return e;
    if (PQntuples(r) == 1) {
        out->sha256 = rs_arena_strdup(a, sha256);
        out->path = col_dup(a, r, 0, 0);
        out->format = col_dup(a, r, 0, 1);
        out->rows = (uint64_t)rs__pg_int(r, 0, 2);
        out->imported_ms = rs__pg_int(r, 0, 3);
    } else {
        e = RS_ENOTFOUND;
    }
    PQclear(r);
    return e;
}

const rs_store_ops rs__store_pg_ops = {
    .name = "postgresql",
    .open = pg_open,
    .close = pg_close,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .put_users = pg_put_users,
    .put_items = pg_put_items,
    .add_events = pg_add_events,
    .record_import = pg_record_import,
    .get_user = pg_get_user,
    .find_users = pg_find_users,
    .get_item = pg_get_item,
    .list_items = pg_list_items,
    .list_categories = pg_list_categories,
    .user_events = pg_user_events,
    .get_counts = pg_get_counts,
    .scan_users = pg_scan_users,
    .scan_items = pg_scan_items,
    .scan_events = pg_scan_events,
    .event_types = pg_event_types,
    .find_import = pg_find_import,
    .put_run = rs__pg_put_run,
    .get_run = rs__pg_get_run,
    .list_runs = rs__pg_list_runs,
    .add_model_version = rs__pg_add_model_version,
    .set_model_stage = rs__pg_set_model_stage,
    .get_model_version = rs__pg_get_model_version,
    .list_model_versions = rs__pg_list_model_versions,
    .delete_model_version = rs__pg_delete_model_version,
};
