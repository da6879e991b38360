/* The SQLite schema and its forward migrations. Each entry of `migrations`
 * takes the database from version i to i + 1; a database records every
 * version applied in schema_version. Never edit a released migration: add
 * the next one. */
#include "store_sqlite.h"

#include <stdio.h>

#include "core/timeutil.h"

static const char *const migrations[] = {
    /* 1: users, items, events (clustered by user and time), imports, runs,
     * model versions. */
    "CREATE TABLE users("
    "  key INTEGER PRIMARY KEY,"
    "  id TEXT NOT NULL UNIQUE,"
    "  attrs TEXT NOT NULL DEFAULT '{}',"
    "  created_ms INTEGER NOT NULL);"
    "CREATE TABLE items("
    "  key INTEGER PRIMARY KEY,"
    "  id TEXT NOT NULL UNIQUE,"
    "  title TEXT NOT NULL DEFAULT '',"
    "  category TEXT NOT NULL DEFAULT '',"
    "  brand TEXT NOT NULL DEFAULT '',"
    "  tags TEXT NOT NULL DEFAULT '[]',"
    "  attrs TEXT NOT NULL DEFAULT '{}',"
    "  hidden INTEGER NOT NULL DEFAULT 0,"
    "  created_ms INTEGER NOT NULL,"
    "  updated_ms INTEGER NOT NULL);"
    "CREATE INDEX items_by_category ON items(category, id);"
    "CREATE TABLE event_types("
    "  code INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE);"
    /* Clustered by (user, time, seq): a user's history is one range, and a
     * full scan yields events grouped by user in time order, which is what
     * training consumes. seq is the global append order. */
    "CREATE TABLE events("
    "  user_key INTEGER NOT NULL REFERENCES users(key),"
    "  ts_ms INTEGER NOT NULL,"
    "  seq INTEGER NOT NULL,"
    "  item_key INTEGER NOT NULL REFERENCES items(key),"
    "  type INTEGER NOT NULL REFERENCES event_types(code),"
    "  value REAL NOT NULL,"
    "  PRIMARY KEY(user_key, ts_ms, seq)) WITHOUT ROWID;"
    /* event_seq is the number of events ever added (events are never
     * deleted, so it is also the count); newest_event_ms their latest time. */
    "CREATE TABLE counters(name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;"
    "INSERT INTO counters VALUES('event_seq', 0), ('newest_event_ms', 0);"
    "CREATE TABLE imports("
    "  sha256 TEXT PRIMARY KEY,"
    "  path TEXT NOT NULL,"
    "  format TEXT NOT NULL,"
    "  rows INTEGER NOT NULL,"
    "  imported_ms INTEGER NOT NULL);"
    "CREATE TABLE runs("
    "  id TEXT PRIMARY KEY,"
    "  kind TEXT NOT NULL,"
    "  status TEXT NOT NULL,"
    "  model TEXT NOT NULL DEFAULT '',"
    "  started_ms INTEGER NOT NULL,"
    "  ended_ms INTEGER,"
    "  params TEXT NOT NULL DEFAULT '{}',"
    "  metrics TEXT NOT NULL DEFAULT '{}',"
    "  error TEXT);"
    "CREATE TABLE model_versions("
    "  name TEXT NOT NULL,"
    "  version INTEGER NOT NULL,"
    "  run_id TEXT REFERENCES runs(id),"
    "  uri TEXT NOT NULL,"
    "  checksum TEXT NOT NULL,"
    "  size_bytes INTEGER NOT NULL,"
    "  stage TEXT NOT NULL DEFAULT 'candidate',"
    "  created_ms INTEGER NOT NULL,"
    "  PRIMARY KEY(name, version));",
    /* 2: what the run tracker and the model registry record beyond that:
     * a run's parent (tuning trials), data fingerprint, timings, artifact,
     * version, note and where it ran; a version's metrics, promotion time
     * and note. One production version per name. */
    "ALTER TABLE runs ADD COLUMN parent_id TEXT;"
    "ALTER TABLE runs ADD COLUMN data TEXT NOT NULL DEFAULT '{}';"
    "ALTER TABLE runs ADD COLUMN timings TEXT NOT NULL DEFAULT '{}';"
    "ALTER TABLE runs ADD COLUMN artifact_uri TEXT;"
    "ALTER TABLE runs ADD COLUMN version INTEGER;"
    "ALTER TABLE runs ADD COLUMN note TEXT;"
    "ALTER TABLE runs ADD COLUMN host TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE runs ADD COLUMN pid INTEGER NOT NULL DEFAULT 0;"
    "CREATE INDEX runs_by_start ON runs(started_ms, id);"
    "CREATE INDEX runs_by_parent ON runs(parent_id, started_ms);"
    "ALTER TABLE model_versions ADD COLUMN metrics TEXT NOT NULL DEFAULT '{}';"
    "ALTER TABLE model_versions ADD COLUMN promoted_ms INTEGER;"
    "ALTER TABLE model_versions ADD COLUMN note TEXT NOT NULL DEFAULT '';"
    "CREATE UNIQUE INDEX model_versions_one_production ON model_versions(name) "
    "  WHERE stage = 'production';",
};

int rs__sqlite_schema_latest(void)
{
    return (int)RS_ARRAY_LEN(migrations);
}

/* Reads the current version inside the caller's transaction. */
static rs_err current_version(sqlite3 *db, int *version, rs_diag *diag)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT coalesce(max(version), 0) FROM schema_version", -1, &st,
                           NULL) != SQLITE_OK)
        return rs_diag_fail(diag, RS_ESTORE, "reading the schema version: %s", sqlite3_errmsg(db));
    int rc = sqlite3_step(st);
    *version = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW)
        return rs_diag_fail(diag, RS_ESTORE, "reading the schema version: %s", sqlite3_errmsg(db));
    return RS_OK;
}

rs_err rs__sqlite_migrate(sqlite3 *db, int *version, rs_diag *diag)
{
    char *msg = NULL;
    if (sqlite3_exec(db,
                     "BEGIN IMMEDIATE;"
                     "CREATE TABLE IF NOT EXISTS schema_version("
                     "  version INTEGER PRIMARY KEY, applied_ms INTEGER NOT NULL);",
                     NULL, NULL, &msg) != SQLITE_OK) {
        rs_err e = rs_diag_fail(diag, RS_ESTORE, "preparing migrations: %s", msg ? msg : "?");
        sqlite3_free(msg);
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        return e;
    }
    int v;
    rs_err e = current_version(db, &v, diag);
    if (e == RS_OK && v > rs__sqlite_schema_latest())
        e = rs_diag_fail(diag, RS_EVERSION,
                         "the database schema is version %d but this recsys knows up to %d; "
                         "upgrade recsys", v, rs__sqlite_schema_latest());
    for (; e == RS_OK && v < rs__sqlite_schema_latest(); v++) {
        char record[160];
        snprintf(record, sizeof record,
                 "INSERT INTO schema_version(version, applied_ms) VALUES(%d, %lld)", v + 1,
                 (long long)rs_now_ms());
        if (sqlite3_exec(db, migrations[v], NULL, NULL, &msg) != SQLITE_OK ||
            sqlite3_exec(db, record, NULL, NULL, &msg) != SQLITE_OK) {
            e = rs_diag_fail(diag, RS_ESTORE, "migrating the schema to version %d: %s", v + 1,
                             msg ? msg : "?");
            sqlite3_free(msg);
        }
    }
    if (e != RS_OK) {
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        return e;
    }
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, &msg) != SQLITE_OK) {
        e = rs_diag_fail(diag, RS_ESTORE, "committing migrations: %s", msg ? msg : "?");
        sqlite3_free(msg);
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        return e;
    }
    *version = v;
    return RS_OK;
}
