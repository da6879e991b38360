/* Internals shared by the SQLite backend's files (store_sqlite.c, its
 * schema in store_sqlite_schema.c, and runs and model versions in
 * store_sqlite_runs.c). */
#ifndef RS_STORE_STORE_SQLITE_H
#define RS_STORE_STORE_SQLITE_H

#include <sqlite3.h>

#include "core/err.h"
#include "store_impl.h"

/* The schema version this build creates. */
int rs__sqlite_schema_latest(void);

/* Brings the schema of db up to rs__sqlite_schema_latest() in one
 * transaction and sets *version. RS_EVERSION when the database is newer
 * than this build; RS_ESTORE on failure (nothing changed). */
rs_err rs__sqlite_migrate(sqlite3 *db, int *version, rs_diag *diag);

/* The connection of a SQLite handle. */
sqlite3 *rs__sqlite_db(rs_store *s);

/* Records the connection's last error on the handle as "what: message"
 * and returns the rs_err it maps to. */
rs_err rs__sqlite_fail(rs_store *s, const char *what);

/* Runs, model versions (store_sqlite_runs.c). */
rs_err rs__sqlite_put_run(rs_store *s, const rs_run *r);
rs_err rs__sqlite_get_run(rs_store *s, const char *id, rs_arena *a, rs_run *out);
rs_err rs__sqlite_list_runs(rs_store *s, const rs_run_filter *f, const char *after,
                            size_t limit, rs_arena *a, rs_run **out, size_t *n);
rs_err rs__sqlite_add_model_version(rs_store *s, rs_model_version *v);
rs_err rs__sqlite_set_model_stage(rs_store *s, const char *name, uint64_t version,
                                  const char *stage, int64_t promoted_ms, const char *note);
rs_err rs__sqlite_get_model_version(rs_store *s, const char *name, uint64_t version,
                                    rs_arena *a, rs_model_version *out);
rs_err rs__sqlite_list_model_versions(rs_store *s, const char *name, rs_arena *a,
                                      rs_model_version **out, size_t *n);
rs_err rs__sqlite_delete_model_version(rs_store *s, const char *name, uint64_t version);

#endif
