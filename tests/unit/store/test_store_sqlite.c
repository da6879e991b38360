/* SQLite-specific behaviour of the store beyond the shared conformance
 * suite: how opening fails on a file that is not a database, on a schema
 * newer than this build, and in a folder that does not exist; and that a
 * fresh database is in WAL mode with the expected schema version. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <sqlite3.h>

#include "../test_util.h"
#include "store/store.h"

static void test_not_a_database(void **state)
{
    (void)state;
    rs_test_write("garbage.db", "this is not a database, just some text padding it out......"
                                "................................................................",
                  (size_t)-1);
    char url[700];
    snprintf(url, sizeof url, "sqlite://%s", rs_test_path("garbage.db"));
    rs_store *s;
    rs_diag d = {{0}};
    assert_int_equal(rs_store_open(url, &s, &d), RS_ECORRUPT);
    assert_non_null(strstr(d.msg, "not a recsys database"));
}

static void test_missing_folder(void **state)
{
    (void)state;
    char url[700];
    snprintf(url, sizeof url, "sqlite://%s/no/such/folder/x.db", rs_test_dir());
    rs_store *s;
    rs_diag d = {{0}};
    assert_int_equal(rs_store_open(url, &s, &d), RS_ESTORE);
    assert_non_null(strstr(d.msg, "no/such/folder"));
    assert_non_null(strstr(d.msg, "No such file or directory"));
}

static void test_newer_schema_refused(void **state)
{
    (void)state;
    const char *path = rs_test_path("newer.db");
    char url[700];
    snprintf(url, sizeof url, "sqlite://%s", path);
    rs_store *s;
    assert_int_equal(rs_store_open(url, &s, NULL), RS_OK);
    int v = rs_store_schema_version(s);
    rs_store_close(s);

    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "INSERT INTO schema_version VALUES(999, 0)", NULL, NULL, NULL),
                     SQLITE_OK);
    char *mode = NULL;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    mode = sqlite3_mprintf("%s", sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    assert_string_equal(mode, "wal");
    sqlite3_free(mode);
    sqlite3_close(db);

    rs_diag d = {{0}};
    assert_int_equal(rs_store_open(url, &s, &d), RS_EVERSION);
    assert_non_null(strstr(d.msg, "999"));
    assert_true(v >= 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_not_a_database),
        cmocka_unit_test(test_missing_folder),
        cmocka_unit_test(test_newer_schema_refused),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    if (!failed)
        rs_test_cleanup();
    return failed;
}
