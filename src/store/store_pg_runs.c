/* The PostgreSQL backend's training runs and model versions (store.h),
 * the same records and rules as store_sqlite_runs.c. A write that could
 * break the one-production-version index runs under a savepoint, so that
 * its refusal leaves the caller's transaction usable, as with SQLite. */
#include "store_pg.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/timeutil.h"

#define RUN_COLUMNS                                                                             \
    "id, kind, status, model, parent_id, started_ms, ended_ms, params, data, metrics, "         \
    "timings, artifact_uri, version, note, error, host, pid"
#define VERSION_COLUMNS                                                                         \
    "name, version, run_id, uri, checksum, size_bytes, stage, metrics, note, created_ms, "      \
    "promoted_ms"

/* Decimal text of v in buf, or NULL (SQL NULL) for 0 when zero_is_null. */
static const char *num(char buf[RS__PG_NUM_CAP], int64_t v, bool zero_is_null)
{
    return zero_is_null && v == 0 ? NULL : rs__pg_num(buf, v);
}

/* The column as a string in arena a; NULL for SQL NULL when nullable. */
static const char *col(const PGresult *r, int row, int c, rs_arena *a, bool nullable)
{
    if (nullable && PQgetisnull(r, row, c))
        return NULL;
    return rs_arena_strndup(a, PQgetvalue(r, row, c), (size_t)PQgetlength(r, row, c));
}


/* --- runs ------------------------------------------------------------------- */

rs_err rs__pg_put_run(rs_store *s, const rs_run *r)
{
    char started[24], ended[24], version[24], pid[24];
    const char *params[] = {
        r->id, r->kind, r->status, r->model, r->parent_id, num(started, r->started_ms, false),
        num(ended, r->ended_ms, true), r->params, r->data, r->metrics, r->timings,
        r->artifact_uri, num(version, (int64_t)r->version, true), r->note, r->error, r->host,
        num(pid, r->pid, false),
    };
    return rs__pg_run(s,
               "INSERT INTO runs(" RUN_COLUMNS ") VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, "
               "$10, $11, $12, $13, $14, $15, $16, $17) ON CONFLICT (id) DO UPDATE SET "
               "kind = $2, status = $3, model = $4, parent_id = $5, started_ms = $6, "
               "ended_ms = $7, params = $8, data = $9, metrics = $10, timings = $11, "
               "artifact_uri = $12, version = $13, note = $14, error = $15, host = $16, "
               "pid = $17",
               17, params, "recording a run");
}

static void read_run(const PGresult *res, int row, rs_arena *a, rs_run *r)
{
    r->id = col(res, row, 0, a, false);
    r->kind = col(res, row, 1, a, false);
    r->status = col(res, row, 2, a, false);
    r->model = col(res, row, 3, a, false);
    r->parent_id = col(res, row, 4, a, true);
    r->started_ms = rs__pg_int(res, row, 5);
    r->ended_ms = rs__pg_int(res, row, 6);
    r->params = col(res, row, 7, a, false);
    r->data = col(res, row, 8, a, false);
    r->metrics = col(res, row, 9, a, false);
    r->timings = col(res, row, 10, a, false);
    r->artifact_uri = col(res, row, 11, a, true);
    r->version = (uint64_t)rs__pg_int(res, row, 12);
    r->note = col(res, row, 13, a, true);
    r->error = col(res, row, 14, a, true);
    r->host = col(res, row, 15, a, false);
    r->pid = rs__pg_int(res, row, 16);
}

rs_err rs__pg_get_run(rs_store *s, const char *id, rs_arena *a, rs_run *out)
{
    const char *params[] = {id};
    rs_err e;
    PGresult *r = rs__pg_exec(s, "SELECT " RUN_COLUMNS " FROM runs WHERE id = $1", 1, params,
                              "reading a run", &e);
    if (!r)
        return e;
    if (PQntuples(r) == 1)
        read_run(r, 0, a, out);
    else
        e = rs__store_fail(s, RS_ENOTFOUND, "no run with id '%s'", id);
    PQclear(r);
    return e;
}

rs_err rs__pg_list_runs(rs_store *s, const rs_run_filter *f, const char *after, size_t limit,
                        rs_arena *a, rs_run **out, size_t *n)
{
    char lim[24];
    const char *params[] = {f->model, f->status, f->kind, f->parent_id, after,
                            num(lim, limit > INT64_MAX ? INT64_MAX : (int64_t)limit, false)};
    rs_err e;
    PGresult *r = rs__pg_exec(
        s,
        "SELECT " RUN_COLUMNS " FROM runs WHERE "
        "($1::text IS NULL OR strpos(',' || model || ',', ',' || $1 || ',') > 0) AND "
        "($2::text IS NULL OR status = $2) AND ($3::text IS NULL OR kind = $3) AND "
        "($4::text IS NULL OR parent_id = $4) AND "
        "($5::text IS NULL OR (started_ms, id) < (SELECT started_ms, id FROM runs WHERE id = $5)) "
        "ORDER BY started_ms DESC, id DESC LIMIT $6",
        6, params, "listing runs", &e);
    if (!r)
        return e;
    const size_t k = (size_t)PQntuples(r);
    rs_run *runs = rs_arena_alloc(a, (k ? k : 1) * sizeof *runs);
    for (size_t i = 0; i < k; i++)
        read_run(r, (int)i, a, &runs[i]);
    PQclear(r);
    *out = runs;
    *n = k;
    return RS_OK;
}

/* --- model versions ----------------------------------------------------------- */

/* Runs a version write under a savepoint: a statement that breaks the
 * one-production index is the caller's mistake (RS_EINVAL), and rolling
 * back to the savepoint keeps the caller's transaction usable. *out gets
 * the result on success. */
static rs_err version_write(rs_store *s, const char *sql, int n, const char *const *params,
                            const char *what, PGresult **out)
{
    rs_err e = rs__pg_run(s, "SAVEPOINT rs_version", 0, NULL, what);
    if (e)
        return e;
    PGresult *r = rs__pg_exec(s, sql, n, params, what, &e);
    if (!r) {
        const bool unique = strstr(rs_store_errmsg(s), "model_versions_one_production") != NULL;
        rs__pg_run(s, "ROLLBACK TO SAVEPOINT rs_version", 0, NULL, what);
        return unique ? rs__store_fail(s, RS_EINVAL,
                                       "%s: another version is already in production", what)
                      : e;
    }
    if ((e = rs__pg_run(s, "RELEASE SAVEPOINT rs_version", 0, NULL, what))) {
        PQclear(r);
        return e;
    }
    *out = r;
    return RS_OK;
}

rs_err rs__pg_add_model_version(rs_store *s, rs_model_version *v)
{
    /* The next number: one past every number the name ever had, kept in
     * the counters table so that a deleted version's is not reused. */
    char key[96];
    snprintf(key, sizeof key, "model_version:%s", v->name);
    const char *np[] = {key, v->name};
    rs_err e;
    PGresult *r = rs__pg_exec(
        s,
        "INSERT INTO counters(name, value) VALUES($1, "
        "  (SELECT coalesce(max(version), 0) + 1 FROM model_versions WHERE name = $2)) "
        "ON CONFLICT (name) DO UPDATE SET value = counters.value + 1 RETURNING value",
        2, np, "numbering a model version", &e);
    if (!r)
        return e;
    const int64_t version = rs__pg_int(r, 0, 0);
    PQclear(r);
    char ver[24], size[24], created[24], promoted[24];
    const char *params[] = {v->name, num(ver, version, false), v->run_id, v->uri, v->checksum,
                            num(size, (int64_t)v->size_bytes, false), v->stage, v->metrics,
                            v->note, num(created, rs_now_ms(), false),
                            num(promoted, v->promoted_ms > 0 ? v->promoted_ms : 0, true)};
    e = version_write(s,
                      "INSERT INTO model_versions(" VERSION_COLUMNS ") VALUES($1, $2, $3, $4, "
                      "$5, $6, $7, $8, $9, $10, $11)",
                      11, params, "registering a model version", &r);
    if (e)
        return e;
    PQclear(r);
    v->version = (uint64_t)version;
    return RS_OK;
}

rs_err rs__pg_set_model_stage(rs_store *s, const char *name, uint64_t version, const char *stage,
                              int64_t promoted_ms, const char *note)
{
    char ver[24], promoted[24];
    const char *params[] = {name, num(ver, (int64_t)version, false), stage,
                            num(promoted, promoted_ms, false), note};
    PGresult *r;
    rs_err e = version_write(
        s,
        "UPDATE model_versions SET stage = $3, "
        "promoted_ms = CASE WHEN $4::bigint > 0 THEN $4::bigint WHEN $4::bigint < 0 THEN NULL "
        "ELSE promoted_ms END, note = coalesce($5, note) WHERE name = $1 AND version = $2",
        5, params, "changing a version's stage", &r);
    if (e)
        return e;
    const bool changed = strcmp(PQcmdTuples(r), "0") != 0;
    PQclear(r);
    return changed ? RS_OK
                   : rs__store_fail(s, RS_ENOTFOUND, "model %s has no version %llu", name,
                                    (unsigned long long)version);
}

static void read_version(const PGresult *r, int row, rs_arena *a, rs_model_version *v)
{
    v->name = col(r, row, 0, a, false);
    v->version = (uint64_t)rs__pg_int(r, row, 1);
    v->run_id = col(r, row, 2, a, true);
    v->uri = col(r, row, 3, a, false);
    v->checksum = col(r, row, 4, a, false);
    v->size_bytes = (uint64_t)rs__pg_int(r, row, 5);
    v->stage = col(r, row, 6, a, false);
    v->metrics = col(r, row, 7, a, false);
    v->note = col(r, row, 8, a, false);
    v->created_ms = rs__pg_int(r, row, 9);
    v->promoted_ms = rs__pg_int(r, row, 10);
}

rs_err rs__pg_get_model_version(rs_store *s, const char *name, uint64_t version, rs_arena *a,
                                rs_model_version *out)
{
    char ver[24];
    const char *params[] = {name, num(ver, (int64_t)version, false)};
    rs_err e;
    PGresult *r = rs__pg_exec(s,
                              "SELECT " VERSION_COLUMNS " FROM model_versions WHERE name = $1 "
                              "AND (CASE WHEN $2::bigint = 0 THEN stage = 'production' "
                              "ELSE version = $2::bigint END)",
                              2, params, "reading a model version", &e);
    if (!r)
        return e;
    if (PQntuples(r) >= 1)
        read_version(r, 0, a, out);
    else if (version == 0)
        e = rs__store_fail(s, RS_ENOTFOUND, "model %s has no version in production", name);
    else
        e = rs__store_fail(s, RS_ENOTFOUND, "model %s has no version %llu", name,
                           (unsigned long long)version);
    PQclear(r);
    return e;
}

rs_err rs__pg_list_model_versions(rs_store *s, const char *name, rs_arena *a,
                                  rs_model_version **out, size_t *n)
{
    const char *params[] = {name};
    rs_err e;
    PGresult *r = rs__pg_exec(s,
                              "SELECT " VERSION_COLUMNS " FROM model_versions WHERE name = $1 "
                              "ORDER BY version DESC",
                              1, params, "listing model versions", &e);
    if (!r)
        return e;
    const size_t k = (size_t)PQntuples(r);
    rs_model_version *vs = rs_arena_alloc(a, (k ? k : 1) * sizeof *vs);
    for (size_t i = 0; i < k; i++)
        read_version(r, (int)i, a, &vs[i]);
    PQclear(r);
    *out = vs;
    *n = k;
    return RS_OK;
}

rs_err rs__pg_delete_model_version(rs_store *s, const char *name, uint64_t version)
{
    char ver[24];
    const char *params[] = {name, num(ver, (int64_t)version, false)};
    return rs__pg_run(s, "DELETE FROM model_versions WHERE name = $1 AND version = $2", 2, params,
               "deleting a model version");
}
