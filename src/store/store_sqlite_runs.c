/* The SQLite backend's training runs and model versions (store.h). These
 * are written a few times per training and read by the admin API, so each
 * call prepares its statement rather than keeping it. */
#include "store_sqlite.h"

#include <stdio.h>
#include <string.h>

#include "core/timeutil.h"

#define RUN_COLUMNS                                                                             \
    "id, kind, status, model, parent_id, started_ms, ended_ms, params, data, metrics, "         \
    "timings, artifact_uri, version, note, error, host, pid"
#define VERSION_COLUMNS                                                                         \
    "name, version, run_id, uri, checksum, size_bytes, stage, metrics, note, created_ms, "      \
    "promoted_ms"

static sqlite3_stmt *prepare(rs_store *s, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(rs__sqlite_db(s), sql, -1, &st, NULL) != SQLITE_OK) {
        rs__sqlite_fail(s, "preparing a statement");
        return NULL;
    }
    return st;
}

/* Binds text, or SQL NULL for a NULL pointer. */
static void bind_opt(sqlite3_stmt *st, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

/* Runs a statement to completion and finalises it. */
static rs_err finish(rs_store *s, sqlite3_stmt *st, const char *what)
{
    if (!st)
        return RS_ESTORE;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        ;
    rs_err e = rc == SQLITE_DONE ? RS_OK : rs__sqlite_fail(s, what);
    sqlite3_finalize(st);
    return e;
}

/* The column as a string in arena a; NULL for SQL NULL when nullable. */
static const char *col(sqlite3_stmt *st, int i, rs_arena *a, bool nullable)
{
    if (nullable && sqlite3_column_type(st, i) == SQLITE_NULL)
        return NULL;
    const unsigned char *t = sqlite3_column_text(st, i);
    return rs_arena_strndup(a, t ? (const char *)t : "", (size_t)sqlite3_column_bytes(st, i));
}

/* --- runs --------------------------------------------------------------- */

rs_err rs__sqlite_put_run(rs_store *s, const rs_run *r)
{
    sqlite3_stmt *st = prepare(
        s, "INSERT INTO runs(" RUN_COLUMNS ") VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
           "?11, ?12, ?13, ?14, ?15, ?16, ?17) ON CONFLICT(id) DO UPDATE SET kind = ?2, "
           "status = ?3, model = ?4, parent_id = ?5, started_ms = ?6, ended_ms = ?7, "
           "params = ?8, data = ?9, metrics = ?10, timings = ?11, artifact_uri = ?12, "
           "version = ?13, note = ?14, error = ?15, host = ?16, pid = ?17");
    if (!st)
        return RS_ESTORE;
    bind_opt(st, 1, r->id);
    bind_opt(st, 2, r->kind);
    bind_opt(st, 3, r->status);
    bind_opt(st, 4, r->model);
    bind_opt(st, 5, r->parent_id);
    sqlite3_bind_int64(st, 6, r->started_ms);
    if (r->ended_ms)
        sqlite3_bind_int64(st, 7, r->ended_ms);
    bind_opt(st, 8, r->params);
    bind_opt(st, 9, r->data);
    bind_opt(st, 10, r->metrics);
    bind_opt(st, 11, r->timings);
    bind_opt(st, 12, r->artifact_uri);
    if (r->version)
        sqlite3_bind_int64(st, 13, (int64_t)r->version);
    bind_opt(st, 14, r->note);
    bind_opt(st, 15, r->error);
    bind_opt(st, 16, r->host);
    sqlite3_bind_int64(st, 17, r->pid);
    return finish(s, st, "recording a run");
}

static void read_run(sqlite3_stmt *st, rs_arena *a, rs_run *r)
{
    r->id = col(st, 0, a, false);
    r->kind = col(st, 1, a, false);
    r->status = col(st, 2, a, false);
    r->model = col(st, 3, a, false);
    r->parent_id = col(st, 4, a, true);
    r->started_ms = sqlite3_column_int64(st, 5);
    r->ended_ms = sqlite3_column_int64(st, 6);
    r->params = col(st, 7, a, false);
    r->data = col(st, 8, a, false);
    r->metrics = col(st, 9, a, false);
    r->timings = col(st, 10, a, false);
    r->artifact_uri = col(st, 11, a, true);
    r->version = (uint64_t)sqlite3_column_int64(st, 12);
    r->note = col(st, 13, a, true);
    r->error = col(st, 14, a, true);
    r->host = col(st, 15, a, false);
    r->pid = sqlite3_column_int64(st, 16);
}

rs_err rs__sqlite_get_run(rs_store *s, const char *id, rs_arena *a, rs_run *out)
{
    sqlite3_stmt *st = prepare(s, "SELECT " RUN_COLUMNS " FROM runs WHERE id = ?1");
    if (!st)
        return RS_ESTORE;
    bind_opt(st, 1, id);
    int rc = sqlite3_step(st);
    rs_err e = RS_OK;
    if (rc == SQLITE_ROW)
        read_run(st, a, out);
    else if (rc == SQLITE_DONE)
        e = rs__store_fail(s, RS_ENOTFOUND, "no run with id '%s'", id);
    else
        e = rs__sqlite_fail(s, "reading a run");
    sqlite3_finalize(st);
    return e;
}

rs_err rs__sqlite_list_runs(rs_store *s, const rs_run_filter *f, const char *after,
                            size_t limit, rs_arena *a, rs_run **out, size_t *n)
{
    sqlite3_stmt *st = prepare(
        s, "SELECT " RUN_COLUMNS " FROM runs WHERE "
           "(?1 IS NULL OR instr(',' || model || ',', ',' || ?1 || ',') > 0) AND "
           "(?2 IS NULL OR status = ?2) AND (?3 IS NULL OR kind = ?3) AND "
           "(?4 IS NULL OR parent_id = ?4) AND "
           "(?5 IS NULL OR (started_ms, id) < (SELECT started_ms, id FROM runs WHERE id = ?5)) "
           "ORDER BY started_ms DESC, id DESC LIMIT ?6");
    if (!st)
        return RS_ESTORE;
    bind_opt(st, 1, f->model);
    bind_opt(st, 2, f->status);
    bind_opt(st, 3, f->kind);
    bind_opt(st, 4, f->parent_id);
    bind_opt(st, 5, after);
    sqlite3_bind_int64(st, 6, limit > INT64_MAX ? INT64_MAX : (int64_t)limit);
    size_t cap = limit < 64 ? limit : 64, k = 0;
    rs_run *runs = rs_arena_alloc(a, cap * sizeof *runs);
    int rc = SQLITE_DONE;
    while (k < limit && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (k == cap) {
            rs_run *grown = rs_arena_alloc(a, 2 * cap * sizeof *runs);
            memcpy(grown, runs, cap * sizeof *runs);
            runs = grown;
            cap *= 2;
        }
        read_run(st, a, &runs[k++]);
    }
    rs_err e = (k == limit || rc == SQLITE_DONE) ? RS_OK : rs__sqlite_fail(s, "listing runs");
    sqlite3_finalize(st);
    *out = runs;
    *n = e ? 0 : k;
    return e;
}

/* --- model versions ------------------------------------------------------ */

/* A write that broke the one-production-version index is the caller's
 * mistake, not the database's. */
static rs_err version_write_fail(rs_store *s, const char *what)
{
    if (sqlite3_extended_errcode(rs__sqlite_db(s)) == SQLITE_CONSTRAINT_UNIQUE)
        return rs__store_fail(s, RS_EINVAL, "%s: another version is already in production",
                              what);
    return rs__sqlite_fail(s, what);
}

/* The next version number of name: one past every number it ever had,
 * kept in the counters table so that a deleted version's is not reused. */
static rs_err next_version(rs_store *s, const char *name, uint64_t *out)
{
    char key[96];
    snprintf(key, sizeof key, "model_version:%s", name);
    sqlite3_stmt *st = prepare(
        s, "INSERT INTO counters(name, value) VALUES(?1, "
           "  (SELECT coalesce(max(version), 0) + 1 FROM model_versions WHERE name = ?2)) "
           "ON CONFLICT(name) DO UPDATE SET value = value + 1 RETURNING value");
    if (!st)
        return RS_ESTORE;
    bind_opt(st, 1, key);
    bind_opt(st, 2, name);
    rs_err e = RS_OK;
    if (sqlite3_step(st) == SQLITE_ROW)
        *out = (uint64_t)sqlite3_column_int64(st, 0);
    else
        e = rs__sqlite_fail(s, "numbering a model version");
    sqlite3_finalize(st);
    return e;
}

rs_err rs__sqlite_add_model_version(rs_store *s, rs_model_version *v)
{
    uint64_t version = 0;
    rs_err e = next_version(s, v->name, &version);
    if (e)
        return e;
    sqlite3_stmt *st = prepare(s, "INSERT INTO model_versions(" VERSION_COLUMNS
                                  ") VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)");
    if (!st)
        return RS_ESTORE;
    bind_opt(st, 1, v->name);
    sqlite3_bind_int64(st, 2, (int64_t)version);
    bind_opt(st, 3, v->run_id);
    bind_opt(st, 4, v->uri);
    bind_opt(st, 5, v->checksum);
    sqlite3_bind_int64(st, 6, (int64_t)v->size_bytes);
    bind_opt(st, 7, v->stage);
    bind_opt(st, 8, v->metrics);
    bind_opt(st, 9, v->note);
    sqlite3_bind_int64(st, 10, rs_now_ms());
    if (v->promoted_ms > 0)
        sqlite3_bind_int64(st, 11, v->promoted_ms);
    int rc = sqlite3_step(st);
    e = rc == SQLITE_DONE ? RS_OK : version_write_fail(s, "registering a model version");
    sqlite3_finalize(st);
    if (!e)
        v->version = version;
    return e;
}

rs_err rs__sqlite_set_model_stage(rs_store *s, const char *name, uint64_t version,
                                  const char *stage, int64_t promoted_ms, const char *note)
{
    sqlite3_stmt *st = prepare(
        s, "UPDATE model_versions SET stage = ?3, "
           "promoted_ms = CASE WHEN ?4 > 0 THEN ?4 WHEN ?4 < 0 THEN NULL ELSE promoted_ms END, "
           "note = coalesce(?5, note) WHERE name = ?1 AND version = ?2");
    if (!st)
        return RS_ESTORE;
    bind_opt(st, 1, name);
    sqlite3_bind_int64(st, 2, (int64_t)version);
    bind_opt(st, 3, stage);
    sqlite3_bind_int64(st, 4, promoted_ms);
    bind_opt(st, 5, note);
    int rc = sqlite3_step(st);
    rs_err e = rc == SQLITE_DONE ? RS_OK : version_write_fail(s, "changing a version's stage");
    sqlite3_finalize(st);
    if (!e && sqlite3_changes(rs__sqlite_db(s)) == 0)
        e = rs__store_fail(s, RS_ENOTFOUND, "model %s has no version %llu", name,
                           (unsigned long long)version);
    return e;
}

static void read_version(sqlite3_stmt *st, rs_arena *a, rs_model_version *v)
{
    v->name = col(st, 0, a, false);
    v->version = (uint64_t)sqlite3_column_int64(st, 1);
    v->run_id = col(st, 2, a, true);
    v->uri = col(st, 3, a, false);
    v->checksum = col(st, 4, a, false);
    v->size_bytes = (uint64_t)sqlite3_column_int64(st, 5);
    v->stage = col(st, 6, a, false);
    v->metrics = col(st, 7, a, false);
    v->note = col(st, 8, a, false);
    v->created_ms = sqlite3_column_int64(st, 9);
    v->promoted_ms = sqlite3_column_int64(st, 10);
}

rs_err rs__sqlite_get_model_version(rs_store *s, const char *name, uint64_t version,
                                    rs_arena *a, rs_model_version *out)
{
    sqlite3_stmt *st = prepare(s, "SELECT " VERSION_COLUMNS " FROM model_versions WHERE "
                                  "name = ?1 AND (CASE WHEN ?2 = 0 THEN stage = 'production' "
                                  "ELSE version = ?2 END)");
    if (!st)
        return RS_ESTORE;
    bind_opt(st, 1, name);
    sqlite3_bind_int64(st, 2, (int64_t)version);
    int rc = sqlite3_step(st);
    rs_err e = RS_OK;
    if (rc == SQLITE_ROW)
        read_version(st, a, out);
    else if (rc != SQLITE_DONE)
        e = rs__sqlite_fail(s, "reading a model version");
    else if (version == 0)
        e = rs__store_fail(s, RS_ENOTFOUND, "model %s has no version in production", name);
    else
        e = rs__store_fail(s, RS_ENOTFOUND, "model %s has no version %llu", name,
                           (unsigned long long)version);
    sqlite3_finalize(st);
    return e;
}

rs_err rs__sqlite_list_model_versions(rs_store *s, const char *name, rs_arena *a,
                                      rs_model_version **out, size_t *n)
{
    sqlite3_stmt *st = prepare(s, "SELECT " VERSION_COLUMNS " FROM model_versions "
                                  "WHERE name = ?1 ORDER BY version DESC");
    if (!st)
        return RS_ESTORE;
    bind_opt(st, 1, name);
    size_t cap = 16, k = 0;
    rs_model_version *vs = rs_arena_alloc(a, cap * sizeof *vs);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (k == cap) {
            rs_model_version *grown = rs_arena_alloc(a, 2 * cap * sizeof *vs);
            memcpy(grown, vs, cap * sizeof *vs);
            vs = grown;
            cap *= 2;
        }
        read_version(st, a, &vs[k++]);
    }
    rs_err e = rc == SQLITE_DONE ? RS_OK : rs__sqlite_fail(s, "listing model versions");
    sqlite3_finalize(st);
    *out = vs;
    *n = e ? 0 : k;
    return e;
}

rs_err rs__sqlite_delete_model_version(rs_store *s, const char *name, uint64_t version)
{
    sqlite3_stmt *st = prepare(s, "DELETE FROM model_versions WHERE name = ?1 AND version = ?2");
    if (!st)
        return RS_ESTORE;
    bind_opt(st, 1, name);
    sqlite3_bind_int64(st, 2, (int64_t)version);
    return finish(s, st, "deleting a model version");
}
