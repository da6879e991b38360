/* The importers of data/import.h on small hand-made files: every format,
 * malformed rows (reported with file, line and reason, skipped or fatal
 * with --strict), file-level errors, re-imports, and that a failed import
 * leaves the store exactly as it was. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "../test_util.h"
#include "data/import.h"

static int db_n;

static rs_store *fresh_store(void)
{
    char url[700];
    snprintf(url, sizeof url, "sqlite://%s/import%d.db", rs_test_dir(), ++db_n);
    rs_store *s;
    rs_diag d = {{0}};
    if (rs_store_open(url, &s, &d))
        fail_msg("%s", d.msg);
    return s;
}

typedef struct bad_rows {
    int n;
    char last[600];
} bad_rows;

static void on_bad(void *ctx, const char *file, uint64_t line, const char *reason)
{
    bad_rows *b = ctx;
    const char *base = strrchr(file, '/');
    snprintf(b->last, sizeof b->last, "%s:%llu: %s", base ? base + 1 : file,
             (unsigned long long)line, reason);
    b->n++;
}

/* Imports one path; returns the error and fills report/diag/bad rows. */
static rs_err import1(rs_store *s, rs_import_format fmt, const char *path, bool strict,
                      bool force, rs_import_report *r, rs_diag *d, bad_rows *b)
{
    rs_import_opts o = {.format = fmt, .strict = strict, .force = force, .on_bad_row = on_bad,
                        .ctx = b};
    return rs_import(s, &path, 1, &o, r, d);
}

static rs_store_counts counts(rs_store *s)
{
    rs_store_counts c;
    assert_int_equal(rs_store_get_counts(s, &c), RS_OK);
    return c;
}

static void test_events_csv_good(void **state)
{
    (void)state;
    rs_store *s = fresh_store();
    const char *p = rs_test_write("good.csv",
                                  "Item_ID, user_id ,timestamp,type,value\n"
                                  "i1,u1,1700000000,view,\n"
                                  "i2,u1,2024-05-01T12:00:00Z,purchase,2.5\n"
                                  "i1,u2,1700000000123,,\n"
                                  "\"i,3\",u2,,like,1\n",
                                  (size_t)-1);
    rs_import_report r;
    rs_diag d = {{0}};
    bad_rows b = {0};
    assert_int_equal(import1(s, RS_IMPORT_EVENTS_CSV, p, true, false, &r, &d, &b), RS_OK);
    assert_int_equal(r.events, 4);
    assert_int_equal(r.rows, 4);
    assert_int_equal(r.users, 2);
    assert_int_equal(r.items, 3);
    assert_int_equal(r.files, 1);
    assert_int_equal(b.n, 0);

    rs_arena a;
    rs_arena_init(&a, 0);
    rs_event *ev;
    size_t n;
    assert_int_equal(rs_store_user_events(s, "u1", 10, &a, &ev, &n), RS_OK);
    assert_int_equal(n, 2);
    assert_string_equal(ev[0].type, "purchase");
    assert_float_equal(ev[0].value, 2.5, 1e-9);
    assert_int_equal(ev[0].ts_ms, INT64_C(1714564800000));
    assert_string_equal(ev[1].type, "view");
    assert_float_equal(ev[1].value, 1.0, 1e-9); /* empty value: 1 */
    assert_int_equal(ev[1].ts_ms, INT64_C(1700000000000));
    assert_int_equal(rs_store_user_events(s, "u2", 10, &a, &ev, &n), RS_OK);
    assert_int_equal(n, 2);
    /* Empty type with a value column: the default is "rating". */
    bool saw_ms = false;
    for (size_t i = 0; i < n; i++) {
        if (ev[i].ts_ms == INT64_C(1700000000123)) {
            saw_ms = true;
            assert_string_equal(ev[i].type, "rating");
        } else {
            assert_string_equal(ev[i].item_id, "i,3");
            assert_true(ev[i].ts_ms > INT64_C(1700000000000)); /* no time: now */
        }
    }
    assert_true(saw_ms);
    rs_arena_destroy(&a);
    rs_store_close(s);
}

static void test_events_default_type_without_value(void **state)
{
    (void)state;
    rs_store *s = fresh_store();
    const char *p = rs_test_write("views.csv", "user_id,item_id\nu1,i1\n", (size_t)-1);
    rs_import_report r;
    rs_diag d = {{0}};
    bad_rows b = {0};
    assert_int_equal(import1(s, RS_IMPORT_EVENTS_CSV, p, true, false, &r, &d, &b), RS_OK);
    rs_arena a;
    rs_arena_init(&a, 0);
    rs_event *ev;
    size_t n;
    assert_int_equal(rs_store_user_events(s, "u1", 10, &a, &ev, &n), RS_OK);
    assert_int_equal(n, 1);
    assert_string_equal(ev[0].type, "view");
    rs_arena_destroy(&a);
    rs_store_close(s);
}

/* Each malformed row, alone in a file between two good rows: skipped with
 * a reason naming the problem at the right line, or fatal with --strict. */
static void test_malformed_rows(void **state)
{
    (void)state;
    char long_id[300];
    memset(long_id, 'x', 257);
    long_id[257] = '\0';
    struct {
        const char *row;
        const char *reason;
    } cases[] = {
        {"u2,i2,abc,1700000000,view", "value: 'abc' is not a number"},
        {"u2,i2,1e999,1700000000,view", "value: number out of range"},
        {"u2,i2,nan,1700000000,view", "value: number out of range"},
        {"u2,i2,1", "expected 5 fields, got 3"},
        {"u2,i2,1,1700000000,view,extra", "expected 5 fields, got 6"},
        {",i2,1,1700000000,view", "user_id: empty id"},
        {"u2,\"i\xff\",1,1700000000,view", "item_id: id is not valid UTF-8"},
        {"u2, i2,1,1700000000,view", "item_id: id has leading or trailing spaces"},
        {"u2,i2,1,yesterday,view", "timestamp: not a timestamp"},
        {"u2,i2,1,-5,view", "timestamp: timestamp out of range"},
        {"u2,i2,1,2024-02-30,view", "timestamp: bad day of month"},
        {"u2,i2,1,1700000000,Bad Type", "type: event type must start with a lower-case letter"},
        {"u2,\"i2,1,1700000000,view", "unterminated quoted field"},
    };
    for (size_t c = 0; c < RS_ARRAY_LEN(cases); c++) {
        char body[1024], name[64];
        snprintf(body, sizeof body,
                 "user_id,item_id,value,timestamp,type\nu1,i1,1,1700000000,view\n%s\n"
                 "u3,i3,1,1700000001,view\n",
                 cases[c].row);
        snprintf(name, sizeof name, "bad%zu.csv", c);
        const char *p = rs_test_write(name, body, (size_t)-1);

        rs_store *s = fresh_store();
        rs_import_report r;
        rs_diag d = {{0}};
        bad_rows b = {0};
        assert_int_equal(import1(s, RS_IMPORT_EVENTS_CSV, p, false, false, &r, &d, &b), RS_OK);
        assert_int_equal(b.n, 1);
        char want[600];
        snprintf(want, sizeof want, "%s:3: %s", name, cases[c].reason);
        if (strncmp(b.last, want, strlen(want)) != 0)
            fail_msg("case %zu: got '%s', want '%s'", c, b.last, want);
        assert_int_equal(r.bad_rows, 1);
        assert_int_equal(r.events, 2);
        assert_int_equal(counts(s).events, 2);
        rs_store_close(s);

        /* --strict: an error naming file and line, and nothing written. */
        s = fresh_store();
        b = (bad_rows){0};
        assert_int_equal(import1(s, RS_IMPORT_EVENTS_CSV, p, true, false, &r, &d, &b), RS_EPARSE);
        assert_non_null(strstr(d.msg, want + strlen(name) + 1)); /* ":3: reason" */
        assert_non_null(strstr(d.msg, name));
        assert_int_equal(r.events, 0);
        rs_store_counts n = counts(s);
        assert_int_equal(n.events, 0);
        assert_int_equal(n.users, 0);
        assert_int_equal(n.items, 0);
        rs_store_close(s);
    }
    /* An overlong id (257 bytes). */
    char body[1024];
    snprintf(body, sizeof body, "user_id,item_id\n%s,i1\n", long_id);
    const char *p = rs_test_write("long.csv", body, (size_t)-1);
    rs_store *s = fresh_store();
    rs_import_report r;
    rs_diag d = {{0}};
    bad_rows b = {0};
    assert_int_equal(import1(s, RS_IMPORT_EVENTS_CSV, p, true, false, &r, &d, &b), RS_EPARSE);
    assert_non_null(strstr(d.msg, "long.csv:2: user_id: id longer than 256 bytes"));
    rs_store_close(s);
}

/* Problems with the file itself stop the import even without --strict. */
static void test_file_level_errors(void **state)
{
    (void)state;
    struct {
        const char *body;
        const char *msg;
    } cases[] = {
        {"", "the file is empty"},
        {"\n\n", "the file is empty"},
        {"user,item\nu1,i1\n", "unknown column 'user'"},
        {"user_id,value\nu1,1\n", "no 'item_id' column"},
        {"user_id,item_id,user_id\n", "'user_id' appears twice"},
    };
    rs_store *s = fresh_store();
    rs_event pre = {.user_id = "keep", .item_id = "me", .type = "view", .value = 1, .ts_ms = 1};
    assert_int_equal(rs_store_add_events(s, &pre, 1, NULL), RS_OK);
    for (size_t c = 0; c < RS_ARRAY_LEN(cases); c++) {
        char name[32];
        snprintf(name, sizeof name, "file%zu.csv", c);
        const char *p = rs_test_write(name, cases[c].body, (size_t)-1);
        rs_import_report r;
        rs_diag d = {{0}};
        bad_rows b = {0};
        assert_int_equal(import1(s, RS_IMPORT_EVENTS_CSV, p, false, false, &r, &d, &b),
                         RS_EPARSE);
        if (!strstr(d.msg, cases[c].msg) || !strstr(d.msg, name))
            fail_msg("case %zu: '%s'", c, d.msg);
    }
    rs_import_report r;
    rs_diag d = {{0}};
    bad_rows b = {0};
    assert_int_equal(import1(s, RS_IMPORT_EVENTS_CSV, rs_test_path("missing.csv"), false, false,
                             &r, &d, &b),
                     RS_EIO);
    assert_non_null(strstr(d.msg, "missing.csv"));
    rs_store_counts n = counts(s);
    assert_int_equal(n.events, 1);
    assert_int_equal(n.users, 1);
    rs_store_close(s);
}

static void test_reimport_skipped_and_forced(void **state)
{
    (void)state;
    rs_store *s = fresh_store();
    const char *items = rs_test_write("items.csv",
                                      "item_id,title,category\ni1,One,books\ni2,Two,music\n",
                                      (size_t)-1);
    const char *events = rs_test_write("ev.csv", "user_id,item_id\nu1,i1\nu2,i2\n", (size_t)-1);
    rs_import_report r;
    rs_diag d = {{0}};
    bad_rows b = {0};
    assert_int_equal(import1(s, RS_IMPORT_ITEMS_CSV, items, true, false, &r, &d, &b), RS_OK);
    assert_int_equal(import1(s, RS_IMPORT_EVENTS_CSV, events, true, false, &r, &d, &b), RS_OK);
    assert_int_equal(r.events, 2);
    assert_int_equal(import1(s, RS_IMPORT_EVENTS_CSV, events, true, false, &r, &d, &b), RS_OK);
    assert_int_equal(r.files_skipped, 1);
    assert_int_equal(r.events, 0);
    assert_int_equal(import1(s, RS_IMPORT_ITEMS_CSV, items, true, true, &r, &d, &b), RS_OK);
    assert_int_equal(import1(s, RS_IMPORT_EVENTS_CSV, events, true, true, &r, &d, &b), RS_OK);
    assert_int_equal(r.events, 2);
    rs_store_counts n = counts(s);
    assert_int_equal(n.events, 4); /* events are append-only ... */
    assert_int_equal(n.users, 2);  /* ... users and items are not duplicated */
    assert_int_equal(n.items, 2);
    rs_store_close(s);
}

static void test_items_csv(void **state)
{
    (void)state;
    rs_store *s = fresh_store();
    const char *p = rs_test_write(
        "cat.csv",
        "item_id,title,category,brand,tags,attrs,hidden\n"
        "i1,\"Kettle, steel\",home,Acme, kitchen | steel ||,\"{\"\"price\"\": 25}\",false\n"
        "i2,Radio,electronics,Sono,,,TRUE\n"
        "i3,Lamp,home,Lumo,x,not json,no\n"
        "i4,Mug,home,Acme,,,maybe\n",
        (size_t)-1);
    rs_import_report r;
    rs_diag d = {{0}};
    bad_rows b = {0};
    assert_int_equal(import1(s, RS_IMPORT_ITEMS_CSV, p, false, false, &r, &d, &b), RS_OK);
    assert_int_equal(b.n, 2);
    assert_non_null(strstr(b.last, "cat.csv:5: hidden"));
    assert_int_equal(r.items, 2);
    rs_arena a;
    rs_arena_init(&a, 0);
    rs_item it;
    assert_int_equal(rs_store_get_item(s, "i1", &a, &it), RS_OK);
    assert_string_equal(it.title, "Kettle, steel");
    assert_string_equal(it.brand, "Acme");
    assert_int_equal(it.n_tags, 2);
    assert_string_equal(it.tags[0], "kitchen");
    assert_string_equal(it.tags[1], "steel");
    assert_string_equal(it.attrs, "{\"price\":25}");
    assert_false(it.hidden);
    assert_int_equal(rs_store_get_item(s, "i2", &a, &it), RS_OK);
    assert_true(it.hidden);
    assert_int_equal(rs_store_get_item(s, "i3", &a, &it), RS_ENOTFOUND);
    rs_arena_destroy(&a);
    rs_store_close(s);
}

static void test_movielens_100k(void **state)
{
    (void)state;
    rs_store *s = fresh_store();
    rs_import_report r;
    rs_diag d = {{0}};
    bad_rows b = {0};
    assert_int_equal(import1(s, RS_IMPORT_MOVIELENS_100K, RS_FIXTURES "/ml-100k-tiny", true,
                             false, &r, &d, &b),
                     RS_OK);
    assert_int_equal(r.events, 7);
    assert_int_equal(r.users, 3);
    assert_int_equal(r.items, 4);
    assert_int_equal(r.files, 3);
    rs_arena a;
    rs_arena_init(&a, 0);
    rs_item it;
    assert_int_equal(rs_store_get_item(s, "2", &a, &it), RS_OK);
    assert_string_equal(it.title, "Les Mis\xc3\xa9rables du Nord (1995)"); /* now UTF-8 */
    assert_string_equal(it.category, "Drama");
    assert_non_null(strstr(it.attrs, "\"year\":1995"));
    assert_int_equal(rs_store_get_item(s, "3", &a, &it), RS_OK);
    assert_string_equal(it.category, "Action"); /* the first genre flag set */
    assert_int_equal(it.n_tags, 2);
    assert_int_equal(rs_store_get_item(s, "4", &a, &it), RS_OK);
    assert_string_equal(it.category, ""); /* only "unknown" */
    rs_user u;
    assert_int_equal(rs_store_get_user(s, "2", &a, &u), RS_OK);
    assert_string_equal(u.attrs,
                        "{\"age\":53,\"gender\":\"F\",\"occupation\":\"other\",\"zip\":\"94043\"}");
    rs_event *ev;
    size_t n;
    assert_int_equal(rs_store_user_events(s, "1", 10, &a, &ev, &n), RS_OK);
    assert_int_equal(n, 3);
    assert_string_equal(ev[0].type, "rating");
    assert_int_equal(ev[0].ts_ms, INT64_C(881251000000));
    rs_arena_destroy(&a);
    rs_store_close(s);
}

static void test_movielens_csv(void **state)
{
    (void)state;
    rs_store *s = fresh_store();
    rs_import_report r;
    rs_diag d = {{0}};
    bad_rows b = {0};
    assert_int_equal(import1(s, RS_IMPORT_MOVIELENS_CSV, RS_FIXTURES "/ml-csv-tiny", true,
                             false, &r, &d, &b),
                     RS_OK);
    assert_int_equal(r.events, 5);
    assert_int_equal(r.users, 3);
    assert_int_equal(r.items, 3);
    rs_arena a;
    rs_arena_init(&a, 0);
    rs_item it;
    assert_int_equal(rs_store_get_item(s, "10", &a, &it), RS_OK);
    assert_string_equal(it.title, "Lantern, The (2001)");
    assert_string_equal(it.category, "Drama");
    /* Genres, then users' tags by frequency, lower-cased and merged. */
    assert_int_equal(it.n_tags, 4);
    assert_string_equal(it.tags[0], "Drama");
    assert_string_equal(it.tags[1], "Mystery");
    assert_string_equal(it.tags[2], "slow burn");
    assert_string_equal(it.tags[3], "atmospheric");
    assert_non_null(strstr(it.attrs, "\"year\":2001"));
    assert_int_equal(rs_store_get_item(s, "20", &a, &it), RS_OK);
    assert_int_equal(it.n_tags, 2); /* Comedy, drama */
    assert_int_equal(rs_store_get_item(s, "30", &a, &it), RS_OK);
    assert_string_equal(it.title, "Station \"Nine\" (2010)");
    assert_string_equal(it.category, "");
    assert_int_equal(it.n_tags, 1);
    assert_string_equal(it.tags[0], "trains");
    rs_arena_destroy(&a);
    rs_store_close(s);
}

/* Two files in one call: a failure in the second undoes the first. */
static void test_all_or_nothing_across_files(void **state)
{
    (void)state;
    rs_store *s = fresh_store();
    const char *paths[] = {
        rs_test_write("first.csv", "user_id,item_id\nu1,i1\n", (size_t)-1),
        rs_test_write("second.csv", "user_id,item_id\nu2,\n", (size_t)-1),
    };
    rs_import_opts o = {.format = RS_IMPORT_EVENTS_CSV, .strict = true};
    rs_import_report r;
    rs_diag d = {{0}};
    assert_int_equal(rs_import(s, paths, 2, &o, &r, &d), RS_EPARSE);
    assert_non_null(strstr(d.msg, "second.csv:2: item_id: empty id"));
    rs_store_counts n = counts(s);
    assert_int_equal(n.events, 0);
    assert_int_equal(n.users, 0);
    /* Nothing was recorded as imported either: the first file imports now. */
    o.strict = false;
    assert_int_equal(rs_import(s, paths, 1, &o, &r, &d), RS_OK);
    assert_int_equal(r.events, 1);
    rs_store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_events_csv_good),
        cmocka_unit_test(test_events_default_type_without_value),
        cmocka_unit_test(test_malformed_rows),
        cmocka_unit_test(test_file_level_errors),
        cmocka_unit_test(test_reimport_skipped_and_forced),
        cmocka_unit_test(test_items_csv),
        cmocka_unit_test(test_movielens_100k),
        cmocka_unit_test(test_movielens_csv),
        cmocka_unit_test(test_all_or_nothing_across_files),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    if (!failed)
        rs_test_cleanup();
    return failed;
}
