/* Internals shared by the PostgreSQL backend's files (store_pg.c, its
 * schema in store_pg_schema.c, and runs and model versions in
 * store_pg_runs.c): the connection, statements run with text parameters,
 * and the mapping of server errors to rs_err. */
#ifndef RS_STORE_STORE_PG_H
#define RS_STORE_STORE_PG_H

#include <libpq-fe.h>

#include "core/err.h"
#include "store_impl.h"

/* The schema version this build creates. */
int rs__pg_schema_latest(void);

/* Brings the schema up to rs__pg_schema_latest() in one transaction
 * (serialised between processes by an advisory lock) and sets *version.
 * RS_EVERSION when the database is newer than this build. */
rs_err rs__pg_migrate(PGconn *conn, int *version, rs_diag *diag);

/* Runs sql with n text parameters (NULL entries are SQL NULL) on the
 * handle's connection, reconnecting first when the connection was lost
 * outside a transaction. Returns the result (PQclear it), or NULL with the
 * error recorded on the handle ("what: message"); *err gets the rs_err it
 * maps to. A result whose status is not a success is turned into NULL too. */
PGresult *rs__pg_exec(rs_store *s, const char *sql, int n, const char *const *params,
                      const char *what, rs_err *err);

/* rs__pg_exec, discarding the result: RS_OK or the error. */
rs_err rs__pg_run(rs_store *s, const char *sql, int n, const char *const *params,
                 const char *what);

/* A column of r as an integer; 0 for SQL NULL. */
int64_t rs__pg_int(const PGresult *r, int row, int col);

/* The decimal text of v in buf, for a text parameter; returns buf. */
#define RS__PG_NUM_CAP 24
const char *rs__pg_num(char buf[RS__PG_NUM_CAP], int64_t v);

/* Records a failure of the handle's connection or of result r (may be
 * NULL) as "what: message" and returns the rs_err it maps to: RS_EUNAVAIL
 * when the server is unreachable, shutting down or out of resources,
 * RS_ESTORE otherwise. */
rs_err rs__pg_fail(rs_store *s, PGresult *r, const char *what);

/* Whether r failed with SQLSTATE state (a five-character code). */
bool rs__pg_state_is(const PGresult *r, const char *state);

/* Runs, model versions (store_pg_runs.c). */
rs_err rs__pg_put_run(rs_store *s, const rs_run *r);
rs_err rs__pg_get_run(rs_store *s, const char *id, rs_arena *a, rs_run *out);
rs_err rs__pg_list_runs(rs_store *s, const rs_run_filter *f, const char *after, size_t limit,
                        rs_arena *a, rs_run **out, size_t *n);
rs_err rs__pg_add_model_version(rs_store *s, rs_model_version *v);
rs_err rs__pg_set_model_stage(rs_store *s, const char *name, uint64_t version, const char *stage,
                              int64_t promoted_ms, const char *note);
rs_err rs__pg_get_model_version(rs_store *s, const char *name, uint64_t version, rs_arena *a,
                                rs_model_version *out);
rs_err rs__pg_list_model_versions(rs_store *s, const char *name, rs_arena *a,
                                  rs_model_version **out, size_t *n);
rs_err rs__pg_delete_model_version(rs_store *s, const char *name, uint64_t version);

#endif
