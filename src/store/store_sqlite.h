/* Internals shared by the SQLite backend's files (store_sqlite.c and its
 * schema in store_sqlite_schema.c). */
#ifndef RS_STORE_STORE_SQLITE_H
#define RS_STORE_STORE_SQLITE_H

#include <sqlite3.h>

#include "core/err.h"

/* The schema version this build creates. */
int rs__sqlite_schema_latest(void);

/* Brings the schema of db up to rs__sqlite_schema_latest() in one
 * transaction and sets *version. RS_EVERSION when the database is newer
 * than this build; RS_ESTORE on failure (nothing changed). */
rs_err rs__sqlite_migrate(sqlite3 *db, int *version, rs_diag *diag);

#endif
