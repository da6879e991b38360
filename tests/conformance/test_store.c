/* The store contract of src/store/store.h, checked against a real backend.
 * The backend comes from RS_STORE_URL_TEMPLATE ("sqlite://{dir}/store.db",
 * "postgresql://.../{db}"), where {dir} is this run's temporary folder;
 * every test starts from an empty database. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <signal.h>
#include <sys/wait.h>

#include <libpq-fe.h>
#include <sqlite3.h>

#include "../unit/test_util.h"
#include "core/text.h"
#include "core/timeutil.h"
#include "store/store.h"

static char url[1024];
static int db_counter;

/* For a template with "{db}" (a PostgreSQL server): a new, empty database
 * on that server, named after this process and counter; its URL in url. */
static const char *fresh_pg_url(const char *tmpl, const char *at)
{
    char name[64], admin[1024], sql[128];
    snprintf(name, sizeof name, "rs_test_%d_%d", (int)getpid(), db_counter);
    snprintf(admin, sizeof admin, "%.*spostgres%s", (int)(at - tmpl), tmpl, at + 4);
    PGconn *c = PQconnectdb(admin);
    if (PQstatus(c) != CONNECTION_OK)
        fail_msg("connecting to %s: %s", admin, PQerrorMessage(c));
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", name);
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        fail_msg("%s: %s", sql, PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
    snprintf(url, sizeof url, "%.*s%s%s", (int)(at - tmpl), tmpl, name, at + 4);
    return url;
}

/* A fresh, empty database URL for each test. */
static const char *fresh_url(void)
{
    const char *tmpl = getenv("RS_STORE_URL_TEMPLATE");
    if (!tmpl)
        tmpl = "sqlite://{dir}/store.db";
    ++db_counter;
    const char *db = strstr(tmpl, "{db}");
    if (db)
        return fresh_pg_url(tmpl, db);
    char dir[600];
    snprintf(dir, sizeof dir, "%s/db%d", rs_test_dir(), db_counter);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", dir);
    assert_int_equal(system(cmd), 0);
    const char *at = strstr(tmpl, "{dir}");
    assert_non_null(at);
    snprintf(url, sizeof url, "%.*s%s%s", (int)(at - tmpl), tmpl, dir, at + 5);
    return url;
}

static rs_store *open_fresh(void)
{
    rs_store *s;
    rs_diag d = {{0}};
    rs_err e = rs_store_open(fresh_url(), &s, &d);
    if (e)
        fail_msg("open %s: %s", url, d.msg);
    return s;
}

static rs_store *reopen(void)
{
    rs_store *s;
    rs_diag d = {{0}};
    if (rs_store_open(url, &s, &d))
        fail_msg("reopen %s: %s", url, d.msg);
    return s;
}

static rs_event ev(const char *u, const char *i, const char *type, double v, int64_t ts)
{
    return (rs_event){.user_id = u, .item_id = i, .type = type, .value = v, .ts_ms = ts};
}

static rs_store_counts counts(rs_store *s)
{
    rs_store_counts c;
    assert_int_equal(rs_store_get_counts(s, &c), RS_OK);
    return c;
}

/* --- opening ---------------------------------------------------------------- */

static void test_open_and_reopen(void **state)
{
    (void)state;
    rs_store *s = open_fresh();
    assert_true(rs_store_schema_version(s) >= 1);
    rs_store_counts c = counts(s);
    assert_int_equal(c.users, 0);
    assert_int_equal(c.events, 0);
    int v = rs_store_schema_version(s);
    rs_store_close(s);
    s = reopen();
    assert_int_equal(rs_store_schema_version(s), v);
    rs_store_close(s);
    rs_store_close(NULL);
}

static void test_open_bad_urls(void **state)
{
    (void)state;
    rs_store *s = (rs_store *)1;
    rs_diag d = {{0}};
    assert_int_equal(rs_store_open("", &s, &d), RS_EINVAL);
    assert_null(s);
    assert_int_equal(rs_store_open("recsys.db", &s, &d), RS_EINVAL);
    assert_non_null(strstr(d.msg, "sqlite://recsys.db"));
    assert_int_equal(rs_store_open("mysql://x/y", &s, &d), RS_EINVAL);
    assert_non_null(strstr(d.msg, "unknown store URL scheme"));
    assert_int_equal(rs_store_open("sqlite://", &s, &d), RS_EINVAL);
}

/* --- users -------------------------------------------------------------------- */

static void test_users_put_get_find(void **state)
{
    (void)state;
    rs_store *s = open_fresh();
    rs_user users[] = {
        {.id = "u10"}, {.id = "u2", .attrs = "{\"b\": 2, \"a\": 1}"}, {.id = "u1"},
        {.id = "v1"}, {.id = "u1%_"}, {.id = "ü-ünïcode"}, {.id = "u"},
    };
    rs_write_stats st = {0};
    assert_int_equal(rs_store_put_users(s, users, RS_ARRAY_LEN(users), &st), RS_OK);
    assert_int_equal(st.users_created, RS_ARRAY_LEN(users));
    /* Putting again creates nothing; attrs given replace, NULL keeps. */
    rs_user again[] = {{.id = "u10", .attrs = "{\"x\":true}"}, {.id = "u2"}};
    st = (rs_write_stats){0};
    assert_int_equal(rs_store_put_users(s, again, 2, &st), RS_OK);
    assert_int_equal(st.users_created, 0);

    rs_arena a;
    rs_arena_init(&a, 0);
    rs_user u;
    assert_int_equal(rs_store_get_user(s, "u2", &a, &u), RS_OK);
    assert_string_equal(u.id, "u2");
    assert_string_equal(u.attrs, "{\"a\":1,\"b\":2}"); /* canonical: sorted, compact */
    assert_true(u.created_ms > 0);
    assert_int_equal(rs_store_get_user(s, "u10", &a, &u), RS_OK);
    assert_string_equal(u.attrs, "{\"x\":true}");
    assert_int_equal(rs_store_get_user(s, "nobody", &a, &u), RS_ENOTFOUND);
    assert_int_equal(rs_store_get_user(s, "", &a, &u), RS_EINVAL);

    rs_user *list;
    size_t n;
    assert_int_equal(rs_store_find_users(s, "u1", NULL, 10, &a, &list, &n), RS_OK);
    assert_int_equal(n, 3); /* u1, u1%_, u10 in byte order ('%' < '0') */
    assert_string_equal(list[0].id, "u1");
    assert_string_equal(list[1].id, "u1%_");
    assert_string_equal(list[2].id, "u10");
    /* Paging: after the first, and a cursor before the prefix is ignored. */
    assert_int_equal(rs_store_find_users(s, "u1", "u1", 10, &a, &list, &n), RS_OK);
    assert_int_equal(n, 2);
    assert_string_equal(list[0].id, "u1%_");
    assert_int_equal(rs_store_find_users(s, "u1", "a", 1, &a, &list, &n), RS_OK);
    assert_int_equal(n, 1);
    assert_string_equal(list[0].id, "u1");
    /* No prefix: everything in byte order, multibyte ids last. */
    assert_int_equal(rs_store_find_users(s, "", NULL, 100, &a, &list, &n), RS_OK);
    assert_int_equal(n, RS_ARRAY_LEN(users));
    assert_string_equal(list[0].id, "u");
    assert_string_equal(list[n - 1].id, "ü-ünïcode");
    assert_int_equal(rs_store_find_users(s, "ü", NULL, 100, &a, &list, &n), RS_OK);
    assert_int_equal(n, 1);
    assert_int_equal(rs_store_find_users(s, "zzz", NULL, 100, &a, &list, &n), RS_OK);
    assert_int_equal(n, 0);
    rs_arena_destroy(&a);
    rs_store_close(s);
}

static void test_users_invalid_rejected_whole(void **state)
{
    (void)state;
    rs_store *s = open_fresh();
    char long_id[RS_ID_MAX + 2];
    memset(long_id, 'x', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = '\0';
    rs_user bad[][2] = {
        {{.id = "ok"}, {.id = ""}},
        {{.id = "ok"}, {.id = long_id}},
        {{.id = "ok"}, {.id = "bad\xff"}},
        {{.id = "ok"}, {.id = "tab\there"}},
        {{.id = "ok"}, {.id = "x", .attrs = "[1,2]"}},
        {{.id = "ok"}, {.id = "x", .attrs = "{\"a\":"}},
        {{.id = "ok"}, {.id = NULL}},
    };
    for (size_t i = 0; i < RS_ARRAY_LEN(bad); i++) {
        assert_int_equal(rs_store_put_users(s, bad[i], 2, NULL), RS_EINVAL);
        assert_non_null(strstr(rs_store_errmsg(s), "users[1]"));
    }
    assert_int_equal(counts(s).users, 0); /* not even "ok" was written */
    rs_store_close(s);
}

/* --- items ------------------------------------------------------------------------- */

static void test_items_put_get_list(void **state)
{
    (void)state;
    rs_store *s = open_fresh();
    const char *tags[] = {"space", "classic, \"quoted\""};
    rs_item items[] = {
        {.id = "i3", .title = "Zebra", .category = "books", .brand = "Acme", .tags = tags,
         .n_tags = 2, .attrs = "{\"price\": 9.5}"},
        {.id = "i1", .title = "Alpha", .category = "books"},
        {.id = "i2", .title = "Beta", .category = "music", .hidden = true},
        {.id = "i4", .category = "books"},
    };
    rs_write_stats st = {0};
    assert_int_equal(rs_store_put_items(s, items, 4, &st), RS_OK);
    assert_int_equal(st.items_created, 4);

    rs_arena a;
    rs_arena_init(&a, 0);
    rs_item it;
    assert_int_equal(rs_store_get_item(s, "i3", &a, &it), RS_OK);
    assert_string_equal(it.title, "Zebra");
    assert_string_equal(it.category, "books");
    assert_string_equal(it.brand, "Acme");
    assert_int_equal(it.n_tags, 2);
    assert_string_equal(it.tags[1], "classic, \"quoted\"");
    assert_string_equal(it.attrs, "{\"price\":9.5}");
    assert_false(it.hidden);
    int64_t created = it.created_ms;
    assert_int_equal(rs_store_get_item(s, "i2", &a, &it), RS_OK);
    assert_true(it.hidden);
    assert_int_equal(rs_store_get_item(s, "i9", &a, &it), RS_ENOTFOUND);

    /* Update replaces every field and keeps created_ms. */
    rs_item upd = {.id = "i3", .title = "Zebra 2", .category = "music"};
    st = (rs_write_stats){0};
    assert_int_equal(rs_store_put_items(s, &upd, 1, &st), RS_OK);
    assert_int_equal(st.items_updated, 1);
    assert_int_equal(st.items_created, 0);
    assert_int_equal(rs_store_get_item(s, "i3", &a, &it), RS_OK);
    assert_string_equal(it.title, "Zebra 2");
    assert_string_equal(it.brand, "");
    assert_int_equal(it.n_tags, 0);
    assert_string_equal(it.attrs, "{}");
    assert_int_equal(it.created_ms, created);
    assert_true(it.updated_ms >= created);

    rs_item *list;
    size_t n;
    assert_int_equal(rs_store_list_items(s, "books", NULL, 10, &a, &list, &n), RS_OK);
    assert_int_equal(n, 2);
    assert_string_equal(list[0].id, "i1");
    assert_string_equal(list[1].id, "i4");
    assert_int_equal(rs_store_list_items(s, NULL, NULL, 2, &a, &list, &n), RS_OK);
    assert_int_equal(n, 2);
    assert_string_equal(list[1].id, "i2");
    assert_int_equal(rs_store_list_items(s, NULL, list[1].id, 10, &a, &list, &n), RS_OK);
    assert_int_equal(n, 2);
    assert_string_equal(list[0].id, "i3");
    assert_int_equal(rs_store_list_items(s, "nothing", NULL, 10, &a, &list, &n), RS_OK);
    assert_int_equal(n, 0);
    rs_arena_destroy(&a);
    rs_store_close(s);
}

static void test_categories(void **state)
{
    (void)state;
    rs_store *s = open_fresh();
    rs_item items[] = {
        {.id = "a", .category = "music"}, {.id = "b", .category = "books"},
        {.id = "c", .category = "books", .hidden = true}, {.id = "d"},
        {.id = "e", .category = "Zines"}, {.id = "f", .category = "books"},
    };
    rs_write_stats st = {0};
    assert_int_equal(rs_store_put_items(s, items, RS_ARRAY_LEN(items), &st), RS_OK);

    rs_arena a;
    rs_arena_init(&a, 0);
    rs_category *c;
    size_t n;
    /* Byte order ("Zines" before "books"), hidden items counted, the empty
     * category left out. */
    assert_int_equal(rs_store_list_categories(s, NULL, 10, &a, &c, &n), RS_OK);
    assert_int_equal(n, 3);
    assert_string_equal(c[0].name, "Zines");
    assert_int_equal(c[0].items, 1);
    assert_string_equal(c[1].name, "books");
    assert_int_equal(c[1].items, 3);
    assert_string_equal(c[2].name, "music");
    assert_int_equal(c[2].items, 1);
    /* Paging. */
    assert_int_equal(rs_store_list_categories(s, NULL, 2, &a, &c, &n), RS_OK);
    assert_int_equal(n, 2);
    assert_int_equal(rs_store_list_categories(s, c[1].name, 2, &a, &c, &n), RS_OK);
    assert_int_equal(n, 1);
    assert_string_equal(c[0].name, "music");
    assert_int_equal(rs_store_list_categories(s, "music", 2, &a, &c, &n), RS_OK);
    assert_int_equal(n, 0);
    /* A moved item moves its count. */
    rs_item moved = {.id = "a", .category = "books"};
    assert_int_equal(rs_store_put_items(s, &moved, 1, &st), RS_OK);
    assert_int_equal(rs_store_list_categories(s, NULL, 10, &a, &c, &n), RS_OK);
    assert_int_equal(n, 2);
    assert_int_equal(c[1].items, 4);
    /* A cursor that is not text is refused. */
    assert_int_equal(rs_store_list_categories(s, "\xff", 10, &a, &c, &n), RS_EINVAL);
    assert_int_equal(n, 0);
    rs_arena_destroy(&a);
    rs_store_close(s);
}

static void test_items_invalid(void **state)
{
    (void)state;
    rs_store *s = open_fresh();
    const char *empty_tag[] = {""};
    char long_text[RS_TEXT_MAX + 2];
    memset(long_text, 'a', sizeof long_text - 1);
    long_text[sizeof long_text - 1] = '\0';
    rs_item bad[] = {
        {.id = "x", .tags = empty_tag, .n_tags = 1},
        {.id = "x", .title = long_text},
        {.id = "x", .title = "bad\xc3"},
        {.id = "x", .category = "line\nbreak"},
        {.id = "x", .attrs = "\"string\""},
        {.id = "x", .n_tags = RS_MAX_TAGS + 1, .tags = empty_tag},
    };
    for (size_t i = 0; i < RS_ARRAY_LEN(bad); i++) {
        rs_item pair[2] = {{.id = "good"}, bad[i]};
        assert_int_equal(rs_store_put_items(s, pair, 2, NULL), RS_EINVAL);
        assert_non_null(strstr(rs_store_errmsg(s), "items[1]"));
    }
    assert_int_equal(counts(s).items, 0);
    rs_store_close(s);
}

/* --- events --------------------------------------------------------------------------- */

typedef struct scanned {
    int64_t user_key[64], item_key[64], ts[64];
    int32_t type[64];
    float value[64];
    size_t n;
    size_t stop_after;
} scanned;

static int collect_event(void *ctx, const rs_event_row *r)
{
    scanned *sc = ctx;
    if (sc->n < 64) {
        sc->user_key[sc->n] = r->user_key;
        sc->item_key[sc->n] = r->item_key;
        sc->ts[sc->n] = r->ts_ms;
        sc->type[sc->n] = r->type;
        sc->value[sc->n] = r->value;
    }
    sc->n++;
    return sc->stop_after && sc->n >= sc->stop_after;
}

static void test_events_add_and_read(void **state)
{
    (void)state;
    rs_store *s = open_fresh();
    rs_item known = {.id = "i1", .title = "Known", .category = "c"};
    assert_int_equal(rs_store_put_items(s, &known, 1, NULL), RS_OK);
    rs_event e[] = {
        ev("bob", "i2", "view", 1, 5000),
        ev("alice", "i1", "rating", 4.5, 3000),
        ev("alice", "i2", "view", 1, 1000),
        ev("bob", "i1", "purchase", 1, 2000),
        ev("alice", "i1", "rating", 2, 3000), /* same time: added later, comes later */
    };
    rs_write_stats st = {0};
    assert_int_equal(rs_store_add_events(s, e, 5, &st), RS_OK);
    assert_int_equal(st.events_added, 5);
    assert_int_equal(st.users_created, 2);
    assert_int_equal(st.items_created, 1); /* i2; i1 existed */
    rs_store_counts c = counts(s);
    assert_int_equal(c.users, 2);
    assert_int_equal(c.items, 2);
    assert_int_equal(c.events, 5);
    assert_int_equal(c.newest_event_ms, 5000);

    rs_arena a;
    rs_arena_init(&a, 0);
    rs_event *list;
    size_t n;
    assert_int_equal(rs_store_user_events(s, "alice", 10, &a, &list, &n), RS_OK);
    assert_int_equal(n, 3);
    assert_string_equal(list[0].item_id, "i1"); /* newest first; the later of the tie */
    assert_float_equal(list[0].value, 2, 1e-9);
    assert_float_equal(list[1].value, 4.5, 1e-9);
    assert_string_equal(list[2].type, "view");
    assert_int_equal(list[2].ts_ms, 1000);
    assert_int_equal(rs_store_user_events(s, "alice", 1, &a, &list, &n), RS_OK);
    assert_int_equal(n, 1);
    assert_int_equal(rs_store_user_events(s, "nobody", 10, &a, &list, &n), RS_OK);
    assert_int_equal(n, 0);

    /* The auto-created item is bare but readable. */
    rs_item it;
    assert_int_equal(rs_store_get_item(s, "i2", &a, &it), RS_OK);
    assert_string_equal(it.title, "");

    /* Scan order: grouped by user key (bob was created first), by time. */
    scanned sc = {0};
    assert_int_equal(rs_store_scan_events(s, collect_event, &sc), RS_OK);
    assert_int_equal(sc.n, 5);
    for (size_t i = 1; i < sc.n; i++) {
        assert_true(sc.user_key[i] >= sc.user_key[i - 1]);
        if (sc.user_key[i] == sc.user_key[i - 1])
            assert_true(sc.ts[i] >= sc.ts[i - 1]);
    }
    assert_int_equal(sc.ts[0], 2000); /* bob's first */
    assert_float_equal(sc.value[4], 2, 1e-6); /* alice's tie: added later, last */

    const char **names;
    size_t nt;
    assert_int_equal(rs_store_event_types(s, &a, &names, &nt), RS_OK);
    assert_int_equal(nt, 3);
    assert_string_equal(names[sc.type[0]], "purchase");
    assert_string_equal(names[sc.type[4]], "rating");

    /* Stopping a scan. */
    sc = (scanned){.stop_after = 2};
    assert_int_equal(rs_store_scan_events(s, collect_event, &sc), RS_ECANCELED);
    assert_int_equal(sc.n, 2);
    rs_arena_destroy(&a);
    rs_store_close(s);
}

static void test_events_bad_batch_writes_nothing(void **state)
{
    (void)state;
    rs_store *s = open_fresh();
    rs_event good = ev("u1", "i1", "view", 1, 1000);
    assert_int_equal(rs_store_add_events(s, &good, 1, NULL), RS_OK);
    struct {
        rs_event bad;
        const char *needle;
    } cases[] = {
        {ev("u2", "i2", "view", NAN, 1000), "value"},
        {ev("u2", "i2", "view", INFINITY, 1000), "value"},
        {ev("u2", "i2", "View", 1, 1000), "type"},
        {ev("u2", "i2", "", 1, 1000), "type"},
        {ev("u2", "", "view", 1, 1000), "item_id"},
        {ev("", "i2", "view", 1, 1000), "user_id"},
        {ev("u2", "i2", "view", 1, -1), "timestamp"},
        {ev("u2", "i2\x80", "view", 1, 1000), "item_id"},
    };
    for (size_t i = 0; i < RS_ARRAY_LEN(cases); i++) {
        rs_event batch[3] = {ev("u3", "i3", "view", 1, 1), ev("u4", "i4", "like", 1, 2),
                             cases[i].bad};
        assert_int_equal(rs_store_add_events(s, batch, 3, NULL), RS_EINVAL);
        assert_non_null(strstr(rs_store_errmsg(s), "events[2]"));
        assert_non_null(strstr(rs_store_errmsg(s), cases[i].needle));
    }
    rs_store_counts c = counts(s);
    assert_int_equal(c.events, 1);
    assert_int_equal(c.users, 1);
    assert_int_equal(c.items, 1);
    rs_store_close(s);
}

/* --- transactions ------------------------------------------------------------------------ */

static void test_transactions(void **state)
{
    (void)state;
    rs_store *s = open_fresh();
    rs_event e1 = ev("u1", "i1", "view", 1, 1000);
    assert_int_equal(rs_store_begin(s), RS_OK);
    assert_int_equal(rs_store_begin(s), RS_EINVAL);
    assert_int_equal(rs_store_add_events(s, &e1, 1, NULL), RS_OK);
    rs_store_rollback(s);
    assert_int_equal(counts(s).events, 0);
    assert_int_equal(counts(s).users, 0);

    /* After the rollback the same new ids are created again, not served from
     * a stale cache. */
    rs_write_stats st = {0};
    assert_int_equal(rs_store_begin(s), RS_OK);
    assert_int_equal(rs_store_add_events(s, &e1, 1, &st), RS_OK);
    assert_int_equal(rs_store_add_events(s, &e1, 1, &st), RS_OK);
    assert_int_equal(rs_store_commit(s), RS_OK);
    assert_int_equal(st.users_created, 1);
    assert_int_equal(st.events_added, 2);
    rs_store_counts c = counts(s);
    assert_int_equal(c.events, 2);
    assert_int_equal(c.users, 1);

    /* A batch rejected by validation inside a transaction touched nothing:
     * the transaction stays open and what came before it commits. */
    rs_event bad = ev("u9", "i9", "view", NAN, 1);
    rs_event e2 = ev("u2", "i2", "view", 1, 1000);
    assert_int_equal(rs_store_begin(s), RS_OK);
    assert_int_equal(rs_store_add_events(s, &e2, 1, NULL), RS_OK);
    assert_int_equal(rs_store_add_events(s, &bad, 1, NULL), RS_EINVAL);
    assert_int_equal(rs_store_commit(s), RS_OK);
    assert_int_equal(counts(s).events, 3);
    assert_int_equal(counts(s).users, 2);

    assert_int_equal(rs_store_commit(s), RS_EINVAL);
    rs_store_rollback(s); /* no-op */
    assert_int_equal(rs_store_begin_read(s), RS_OK);
    assert_int_equal(rs_store_add_events(s, &e1, 1, NULL), RS_EINVAL);
    assert_int_equal(rs_store_commit(s), RS_OK);
    rs_store_close(s);
}

static void test_read_snapshot(void **state)
{
    (void)state;
    rs_store *a = open_fresh();
    rs_store *b = reopen();
    rs_event e1 = ev("u1", "i1", "view", 1, 1000);
    assert_int_equal(rs_store_add_events(a, &e1, 1, NULL), RS_OK);
    assert_int_equal(rs_store_begin_read(a), RS_OK);
    scanned sc = {0};
    assert_int_equal(rs_store_scan_events(a, collect_event, &sc), RS_OK);
    assert_int_equal(sc.n, 1);
    rs_event e2 = ev("u2", "i1", "view", 1, 2000);
    assert_int_equal(rs_store_add_events(b, &e2, 1, NULL), RS_OK);
    sc = (scanned){0};
    assert_int_equal(rs_store_scan_events(a, collect_event, &sc), RS_OK);
    assert_int_equal(sc.n, 1); /* still the snapshot */
    assert_int_equal(counts(a).events, 1);
    assert_int_equal(rs_store_commit(a), RS_OK);
    assert_int_equal(counts(a).events, 2);
    rs_store_close(a);
    rs_store_close(b);
}

/* An event acknowledged by rs_store_add_events survives the process being
 * killed right after. */
static void test_acknowledged_event_survives_kill(void **state)
{
    (void)state;
    rs_store *s = open_fresh();
    rs_store_close(s);
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        rs_store *c;
        if (rs_store_open(url, &c, NULL))
            _exit(3);
        rs_event e = ev("durable", "i1", "purchase", 1, 1234);
        if (rs_store_add_events(c, &e, 1, NULL))
            _exit(4);
        if (write(fds[1], "k", 1) != 1)
            _exit(5);
        raise(SIGKILL); /* no close, no cleanup */
        _exit(6);
    }
    close(fds[1]);
    char ack;
    assert_int_equal(read(fds[0], &ack, 1), 1);
    close(fds[0]);
    int status;
    waitpid(pid, &status, 0);
    assert_true(WIFSIGNALED(status));
    s = reopen();
    rs_arena a;
    rs_arena_init(&a, 0);
    rs_event *list;
    size_t n;
    assert_int_equal(rs_store_user_events(s, "durable", 10, &a, &list, &n), RS_OK);
    assert_int_equal(n, 1);
    assert_string_equal(list[0].type, "purchase");
    rs_arena_destroy(&a);
    rs_store_close(s);
}

/* --- scans and imports ------------------------------------------------------------------- */

typedef struct keyed {
    int64_t last_key;
    size_t n;
    int ordered;
} keyed;

static int user_cb(void *ctx, int64_t key, const char *id)
{
    keyed *k = ctx;
    k->ordered &= key > k->last_key && id && *id;
    k->last_key = key;
    k->n++;
    return 0;
}

static int item_cb(void *ctx, int64_t key, const rs_item *it)
{
    keyed *k = ctx;
    k->ordered &= key > k->last_key && it->id && *it->id;
    k->last_key = key;
    k->n++;
    return 0;
}

static void test_many_events_scan(void **state)
{
    (void)state;
    rs_store *s = open_fresh();
    enum { N = 20000, BATCH = 3000 };
    static rs_event batch[BATCH];
    static char uids[BATCH][16], iids[BATCH][16];
    uint64_t x = 7;
    for (int done = 0; done < N; done += BATCH) {
        int m = N - done < BATCH ? N - done : BATCH;
        for (int i = 0; i < m; i++) {
            x = x * 6364136223846793005u + 1442695040888963407u;
            snprintf(uids[i], 16, "u%u", (unsigned)(x >> 33) % 500);
            snprintf(iids[i], 16, "i%u", (unsigned)(x >> 20) % 300);
            batch[i] = ev(uids[i], iids[i], "view", 1, 1000 + (int64_t)((x >> 40) % 100000));
        }
        assert_int_equal(rs_store_add_events(s, batch, (size_t)m, NULL), RS_OK);
    }
    rs_store_counts c = counts(s);
    assert_int_equal(c.events, N);
    assert_true(c.users <= 500 && c.users > 400);

    assert_int_equal(rs_store_begin_read(s), RS_OK);
    keyed ku = {0, 0, 1}, ki = {0, 0, 1};
    assert_int_equal(rs_store_scan_users(s, user_cb, &ku), RS_OK);
    assert_int_equal(rs_store_scan_items(s, item_cb, &ki), RS_OK);
    assert_int_equal(ku.n, c.users);
    assert_int_equal(ki.n, c.items);
    assert_true(ku.ordered && ki.ordered);
    scanned sc = {0};
    assert_int_equal(rs_store_scan_events(s, collect_event, &sc), RS_OK);
    assert_int_equal(sc.n, N);
    assert_int_equal(rs_store_commit(s), RS_OK);
    rs_store_close(s);
}

static void test_imports(void **state)
{
    (void)state;
    rs_store *s = open_fresh();
    const char *sha = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    rs_arena a;
    rs_arena_init(&a, 0);
    rs_import_rec r;
    assert_int_equal(rs_store_find_import(s, sha, &a, &r), RS_ENOTFOUND);
    rs_import_rec in = {.sha256 = sha, .path = "/data/u.data", .format = "csv", .rows = 42};
    assert_int_equal(rs_store_record_import(s, &in), RS_OK);
    assert_int_equal(rs_store_find_import(s, sha, &a, &r), RS_OK);
    assert_string_equal(r.path, "/data/u.data");
    assert_string_equal(r.format, "csv");
    assert_int_equal(r.rows, 42);
    assert_true(r.imported_ms > 0);
    assert_int_equal(rs_store_find_import(s, "short", &a, &r), RS_EINVAL);
    rs_arena_destroy(&a);
    rs_store_close(s);
}

/* --- training runs ------------------------------------------------------------------------ */

/* Asserts two nullable strings are equal (both NULL, or both the same text). */
static void assert_opt_str(const char *got, const char *want)
{
    if (!want) {
        if (got)
            fail_msg("expected NULL, got \"%s\"", got);
        return;
    }
    if (!got)
        fail_msg("expected \"%s\", got NULL", want);
    assert_string_equal(got, want);
}

/* A minimal valid run: only what the store requires. */
static rs_run run_min(const char *id, int64_t started_ms)
{
    return (rs_run){.id = id, .kind = "train", .status = "running", .started_ms = started_ms};
}

static void test_runs_round_trip(void **state)
{
    (void)state;
    rs_store *s = open_fresh();
    rs_arena a;
    rs_arena_init(&a, 0);
    rs_run full = {.id = "20261123-101500-3f9a1c",
                   .kind = "trial",
                   .status = "finished",
                   .model = "popularity,als",
                   .parent_id = "tune.1",
                   .started_ms = 1700000000000,
                   .ended_ms = 1700000012345,
                   .params = "{\"als\": {\"reg\": 25, \"factors\": 64}}",
                   .data = "{\"users\": 3, \"hash\": \"ab\"}",
                   .metrics = "{\"ndcg\": 0.5, \"k\": 10}",
                   .timings = "{\"total\": 1.5}",
                   .artifact_uri = "file:///models/model-x.rsm",
                   .version = 7,
                   .note = "promoted: no version was in production",
                   .error = "ünïcode error text",
                   .host = "box-1",
                   .pid = 4242};
    assert_int_equal(rs_store_put_run(s, &full), RS_OK);
    rs_run r;
    assert_int_equal(rs_store_get_run(s, full.id, &a, &r), RS_OK);
    assert_string_equal(r.id, full.id);
    assert_string_equal(r.kind, "trial");
    assert_string_equal(r.status, "finished");
    assert_string_equal(r.model, "popularity,als");
    assert_opt_str(r.parent_id, "tune.1");
    assert_int_equal(r.started_ms, 1700000000000);
    assert_int_equal(r.ended_ms, 1700000012345);
    /* JSON fields come back canonical: keys sorted, compact. */
    assert_string_equal(r.params, "{\"als\":{\"factors\":64,\"reg\":25}}");
    assert_string_equal(r.data, "{\"hash\":\"ab\",\"users\":3}");
    assert_string_equal(r.metrics, "{\"k\":10,\"ndcg\":0.5}");
    assert_string_equal(r.timings, "{\"total\":1.5}");
    assert_opt_str(r.artifact_uri, "file:///models/model-x.rsm");
    assert_int_equal(r.version, 7);
    assert_opt_str(r.note, full.note);
    assert_opt_str(r.error, full.error);
    assert_string_equal(r.host, "box-1");
    assert_int_equal(r.pid, 4242);

    /* NULL optional fields: NULL stays NULL where the field is nullable,
     * becomes "" or {} where it is not. */
    rs_run min = run_min("min", 5);
    assert_int_equal(rs_store_put_run(s, &min), RS_OK);
    assert_int_equal(rs_store_get_run(s, "min", &a, &r), RS_OK);
    assert_string_equal(r.kind, "train");
    assert_string_equal(r.status, "running");
    assert_string_equal(r.model, "");
    assert_null(r.parent_id);
    assert_int_equal(r.started_ms, 5);
    assert_int_equal(r.ended_ms, 0);
    assert_string_equal(r.params, "{}");
    assert_string_equal(r.data, "{}");
    assert_string_equal(r.metrics, "{}");
    assert_string_equal(r.timings, "{}");
    assert_null(r.artifact_uri);
    assert_int_equal(r.version, 0);
    assert_null(r.note);
    assert_null(r.error);
    assert_string_equal(r.host, "");
    assert_int_equal(r.pid, 0);

    /* Empty strings are kept as empty strings, not turned into NULL; an
     * empty JSON text means {}. */
    rs_run empty = run_min("empty", 6);
    empty.model = "";
    empty.artifact_uri = "";
    empty.note = "";
    empty.error = "";
    empty.host = "";
    empty.params = "";
    empty.metrics = "{ }";
    assert_int_equal(rs_store_put_run(s, &empty), RS_OK);
    assert_int_equal(rs_store_get_run(s, "empty", &a, &r), RS_OK);
    assert_opt_str(r.artifact_uri, "");
    assert_opt_str(r.note, "");
    assert_opt_str(r.error, "");
    assert_string_equal(r.model, "");
    assert_string_equal(r.host, "");
    assert_string_equal(r.params, "{}");
    assert_string_equal(r.metrics, "{}");

    /* Putting the same id replaces every field, including back to NULL. */
    rs_run repl = run_min(full.id, 1700000000001);
    repl.kind = "retrain";
    repl.status = "failed";
    repl.ended_ms = 1700000000002;
    repl.error = "boom";
    assert_int_equal(rs_store_put_run(s, &repl), RS_OK);
    assert_int_equal(rs_store_get_run(s, full.id, &a, &r), RS_OK);
    assert_string_equal(r.kind, "retrain");
    assert_string_equal(r.status, "failed");
    assert_string_equal(r.model, "");
    assert_null(r.parent_id);
    assert_int_equal(r.started_ms, 1700000000001);
    assert_int_equal(r.ended_ms, 1700000000002);
    assert_string_equal(r.params, "{}");
    assert_string_equal(r.metrics, "{}");
    assert_null(r.artifact_uri);
    assert_int_equal(r.version, 0);
    assert_null(r.note);
    assert_opt_str(r.error, "boom");
    assert_string_equal(r.host, "");
    assert_int_equal(r.pid, 0);
    rs_run *list;
    size_t n;
    assert_int_equal(rs_store_list_runs(s, NULL, NULL, 10, &a, &list, &n), RS_OK);
    assert_int_equal(n, 3); /* replaced, not added */

    assert_int_equal(rs_store_get_run(s, "nope", &a, &r), RS_ENOTFOUND);
    assert_non_null(strstr(rs_store_errmsg(s), "nope"));
    assert_int_equal(rs_store_get_run(s, "bad id", &a, &r), RS_EINVAL);
    assert_int_equal(rs_store_get_run(s, "", &a, &r), RS_EINVAL);
    rs_arena_destroy(&a);
    rs_store_close(s);
}

/* The ids of list[0..n) joined by spaces into buf. */
static const char *run_ids(const rs_run *list, size_t n, char *buf, size_t cap)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && used < cap; i++)
        used += (size_t)snprintf(buf + used, cap - used, "%s%s", i ? " " : "", list[i].id);
    return buf;
}

static void test_runs_list_order_and_filters(void **state)
{
    (void)state;
    rs_store *s = open_fresh();
    rs_run runs[] = {
        {.id = "a", .kind = "train", .status = "finished", .model = "popularity,als",
         .started_ms = 1000, .ended_ms = 2000},
        {.id = "b", .kind = "retrain", .status = "failed", .model = "als", .started_ms = 3000,
         .ended_ms = 3500},
        {.id = "tune", .kind = "tune", .status = "running", .model = "als",
         .started_ms = 2000},
        {.id = "t1", .kind = "trial", .status = "finished", .model = "als",
         .parent_id = "tune", .started_ms = 2100, .ended_ms = 2200},
        {.id = "t2", .kind = "trial", .status = "failed", .model = "als", .parent_id = "tune",
         .started_ms = 2100, .ended_ms = 2300}, /* same start as t1: id breaks the tie */
        {.id = "c", .kind = "train", .status = "running", .model = "hybrid,similar",
         .started_ms = 500},
    };
    /* Put in an order unrelated to the expected one. */
    for (size_t i = RS_ARRAY_LEN(runs); i-- > 0;)
        assert_int_equal(rs_store_put_run(s, &runs[i]), RS_OK);
    rs_arena a;
    rs_arena_init(&a, 0);
    rs_run *list;
    size_t n;
    char buf[256];
    static const struct {
        rs_run_filter f;
        const char *want;
    } cases[] = {
        {{0}, "b t2 t1 tune a c"},
        {{.model = "als"}, "b t2 t1 tune a"},
        {{.model = "popularity"}, "a"},
        {{.model = "similar"}, "c"},
        {{.model = "al"}, ""},      /* whole names only */
        {{.model = "hybrid,similar"}, ""}, /* rejected below: not a name */
        {{.status = "running"}, "tune c"},
        {{.status = "failed"}, "b t2"},
        {{.kind = "trial"}, "t2 t1"},
        {{.kind = "train"}, "a c"},
        {{.parent_id = "tune"}, "t2 t1"},
        {{.parent_id = "nobody"}, ""},
        {{.kind = "trial", .status = "finished", .parent_id = "tune", .model = "als"}, "t1"},
    };
    for (size_t i = 0; i < RS_ARRAY_LEN(cases); i++) {
        rs_err e = rs_store_list_runs(s, &cases[i].f, NULL, 100, &a, &list, &n);
        if (cases[i].f.model && strchr(cases[i].f.model, ',')) {
            assert_int_equal(e, RS_EINVAL);
            continue;
        }
        assert_int_equal(e, RS_OK);
        assert_string_equal(run_ids(list, n, buf, sizeof buf), cases[i].want);
    }
    /* Limits. */
    assert_int_equal(rs_store_list_runs(s, NULL, NULL, 2, &a, &list, &n), RS_OK);
    assert_string_equal(run_ids(list, n, buf, sizeof buf), "b t2");
    assert_int_equal(rs_store_list_runs(s, NULL, NULL, 0, &a, &list, &n), RS_OK);
    assert_int_equal(n, 0);
    /* A cursor continues after that run, with the filter still applied. */
    const rs_run_filter trials = {.kind = "trial"};
    assert_int_equal(rs_store_list_runs(s, &trials, "t2", 10, &a, &list, &n), RS_OK);
    assert_string_equal(run_ids(list, n, buf, sizeof buf), "t1");
    assert_int_equal(rs_store_list_runs(s, NULL, "tune", 10, &a, &list, &n), RS_OK);
    assert_string_equal(run_ids(list, n, buf, sizeof buf), "a c");
    assert_int_equal(rs_store_list_runs(s, NULL, "c", 10, &a, &list, &n), RS_OK);
    assert_int_equal(n, 0);
    /* Bad filters and cursors. */
    const rs_run_filter bad[] = {{.status = "done"}, {.kind = "Train"}, {.parent_id = "a b"},
                                 {.model = ""}};
    for (size_t i = 0; i < RS_ARRAY_LEN(bad); i++)
        assert_int_equal(rs_store_list_runs(s, &bad[i], NULL, 10, &a, &list, &n), RS_EINVAL);
    assert_int_equal(rs_store_list_runs(s, NULL, "x y", 10, &a, &list, &n), RS_EINVAL);
    assert_int_equal(n, 0);
    rs_arena_destroy(&a);
    rs_store_close(s);
}

/* Paging through 25 runs 7 at a time, some sharing a start time, visits
 * each once in newest-first order, with and without a filter. */
static void test_runs_paging(void **state)
{
    (void)state;
    rs_store *s = open_fresh();
    enum { N = 25, PAGE = 7 };
    char ids[N][16];
    for (int i = 0; i < N; i++) {
        snprintf(ids[i], sizeof ids[i], "run-%02d", (i * 11) % N); /* ids unrelated to time */
        rs_run r = run_min(ids[i], 1000 + i / 3);                  /* ties of three */
        r.status = i % 2 ? "finished" : "running";
        r.ended_ms = i % 2 ? 5000 : 0;
        assert_int_equal(rs_store_put_run(s, &r), RS_OK);
    }
    for (int filtered = 0; filtered < 2; filtered++) {
        const rs_run_filter f = {.status = filtered ? "finished" : NULL};
        /* The expected order: started_ms descending, then id descending. */
        int want[N], n_want = 0;
        for (int i = 0; i < N; i++)
            if (!filtered || i % 2)
                want[n_want++] = i;
        for (int i = 1; i < n_want; i++)
            for (int j = i; j > 0; j--) {
                const int x = want[j - 1], y = want[j];
                const bool swap = x / 3 < y / 3 || (x / 3 == y / 3 && strcmp(ids[x], ids[y]) < 0);
                if (!swap)
                    break;
                want[j - 1] = y;
                want[j] = x;
            }
        rs_arena a;
        rs_arena_init(&a, 0);
        char cursor[16] = "";
        int seen = 0, pages = 0;
        for (;;) {
            rs_run *list;
            size_t n;
            assert_int_equal(rs_store_list_runs(s, &f, cursor[0] ? cursor : NULL, PAGE, &a,
                                                &list, &n),
                             RS_OK);
            assert_true(n <= PAGE);
            for (size_t k = 0; k < n; k++) {
                assert_true(seen < n_want);
                assert_string_equal(list[k].id, ids[want[seen]]);
                seen++;
            }
            if (n < PAGE)
                break;
            pages++;
            snprintf(cursor, sizeof cursor, "%s", list[n - 1].id);
            assert_true(pages < 10);
        }
        assert_int_equal(seen, n_want);
        rs_arena_destroy(&a);
    }
    rs_store_close(s);
}

static void test_runs_invalid_write_nothing(void **state)
{
    (void)state;
    rs_store *s = open_fresh();
    rs_run keep = run_min("keep", 1000);
    keep.note = "original";
    assert_int_equal(rs_store_put_run(s, &keep), RS_OK);
    char long_id[66];
    memset(long_id, 'x', 65);
    long_id[65] = '\0';
    struct {
        rs_run r;
        const char *needle;
    } cases[] = {
        {run_min("", 1), "run id"},
        {run_min(NULL, 1), "run id"},
        {run_min(long_id, 1), "run id"},
        {run_min("has space", 1), "run id"},
        {run_min("slash/no", 1), "run id"},
        {run_min("ünï", 1), "run id"},
        {run_min("new", 0), "run times"},
        {run_min("new", -5), "run times"},
    };
    rs_run r;
    const size_t n_fixed = RS_ARRAY_LEN(cases);
    for (size_t i = 0; i < n_fixed; i++) {
        assert_int_equal(rs_store_put_run(s, &cases[i].r), RS_EINVAL);
        assert_non_null(strstr(rs_store_errmsg(s), cases[i].needle));
    }
    /* Field by field on a run that would otherwise be valid: as a new run
     * and as a replacement of "keep". */
    for (int replace = 0; replace < 2; replace++) {
        const char *id = replace ? "keep" : "new";
        rs_run bad[18];
        const char *needles[18];
        size_t nb = 0;
#define BAD(field, value, needle)                                                              \
    do {                                                                                       \
        bad[nb] = run_min(id, 1000);                                                           \
        bad[nb].field = value;                                                                 \
        needles[nb++] = needle;                                                                \
    } while (0)
        BAD(kind, "Train", "kind");
        BAD(kind, NULL, "kind");
        BAD(kind, "", "kind");
        BAD(status, "done", "status");
        BAD(status, NULL, "status");
        BAD(parent_id, "", "parent");
        BAD(parent_id, "a,b", "parent");
        BAD(ended_ms, 999, "run times");
        BAD(ended_ms, -1, "run times");
        BAD(params, "[1,2]", "params");
        BAD(params, "{\"a\":", "params");
        BAD(data, "{\"a\":1,\"a\":2}", "data");
        BAD(metrics, "\"text\"", "metrics");
        BAD(timings, "null", "timings");
        BAD(note, "bad\xff", "note");
        BAD(error, "nul\x01ctl", "error");
        BAD(host, "line\nbreak", "host");
        BAD(model, "bad\xc3", "model");
#undef BAD
        for (size_t i = 0; i < nb; i++) {
            if (rs_store_put_run(s, &bad[i]) != RS_EINVAL)
                fail_msg("case %zu (%s): not rejected", i, needles[i]);
            if (!strstr(rs_store_errmsg(s), needles[i]))
                fail_msg("case %zu: message '%s' does not name %s", i, rs_store_errmsg(s),
                         needles[i]);
        }
    }
    rs_arena a;
    rs_arena_init(&a, 0);
    rs_run *list;
    size_t n;
    assert_int_equal(rs_store_list_runs(s, NULL, NULL, 10, &a, &list, &n), RS_OK);
    assert_int_equal(n, 1);
    assert_int_equal(rs_store_get_run(s, "keep", &a, &r), RS_OK);
    assert_opt_str(r.note, "original");
    assert_int_equal(r.started_ms, 1000);
    assert_int_equal(rs_store_get_run(s, "new", &a, &r), RS_ENOTFOUND);
    rs_arena_destroy(&a);
    rs_store_close(s);
}

/* Regression: list_runs must not size its result by `limit` up front. The
 * CLI accepts `recsys runs list --limit 1000000000`, and the server caps
 * nothing below that in the store API; a few stored runs must come back
 * without allocating limit x sizeof(rs_run) (136 GB here) or overflowing
 * that product. Runs in a child process, as the failure is an abort. */
static void test_runs_list_huge_limit(void **state)
{
    (void)state;
    rs_store *s = open_fresh();
    for (int i = 0; i < 3; i++) {
        char id[8];
        snprintf(id, sizeof id, "r%d", i);
        rs_run r = run_min(id, 1000 + i);
        assert_int_equal(rs_store_put_run(s, &r), RS_OK);
    }
    rs_store_close(s);
    const size_t limits[] = {1000000000u, SIZE_MAX / sizeof(rs_run) + 2, SIZE_MAX};
    char failures[512] = "";
    size_t used = 0;
    for (size_t i = 0; i < RS_ARRAY_LEN(limits); i++) {
        fflush(NULL);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            rs_store *c;
            if (rs_store_open(url, &c, NULL))
                _exit(3);
            rs_arena a;
            rs_arena_init(&a, 0);
            rs_run *list;
            size_t n;
            if (rs_store_list_runs(c, NULL, NULL, limits[i], &a, &list, &n) != RS_OK)
                _exit(4);
            if (n != 3 || strcmp(list[0].id, "r2") || strcmp(list[1].id, "r1") ||
                strcmp(list[2].id, "r0") || strcmp(list[1].kind, "train"))
                _exit(5); /* wrong or corrupted rows */
            rs_arena_destroy(&a);
            rs_store_close(c);
            _exit(0);
        }
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        if (WIFSIGNALED(status))
            used += (size_t)snprintf(failures + used, sizeof failures - used,
                                     " [limit %zu: killed by signal %d]", limits[i],
                                     WTERMSIG(status));
        else if (WEXITSTATUS(status) != 0)
            used += (size_t)snprintf(failures + used, sizeof failures - used,
                                     " [limit %zu: exit %d%s]", limits[i], WEXITSTATUS(status),
                                     WEXITSTATUS(status) == 5 ? ", rows corrupted" : "");
    }
    if (failures[0])
        fail_msg("rs_store_list_runs with a large limit:%s", failures);
}

/* --- model versions ------------------------------------------------------------------------ */

#define SUM_A "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define SUM_B "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"

static rs_model_version mv(const char *name, const char *stage)
{
    return (rs_model_version){.name = name, .uri = "file:///m/model.rsm", .checksum = SUM_A,
                              .size_bytes = 10, .stage = stage};
}

static uint64_t add_version(rs_store *s, const char *name, const char *stage)
{
    rs_model_version v = mv(name, stage);
    assert_int_equal(rs_store_add_model_version(s, &v), RS_OK);
    return v.version;
}

/* The version numbers of name, newest first, joined into buf. */
static const char *version_list(rs_store *s, const char *name, char *buf, size_t cap)
{
    rs_arena a;
    rs_arena_init(&a, 0);
    rs_model_version *vs;
    size_t n, used = 0;
    assert_int_equal(rs_store_list_model_versions(s, name, &a, &vs, &n), RS_OK);
    buf[0] = '\0';
    for (size_t i = 0; i < n && used < cap; i++)
        used += (size_t)snprintf(buf + used, cap - used, "%s%llu:%s", i ? " " : "",
                                 (unsigned long long)vs[i].version, vs[i].stage);
    rs_arena_destroy(&a);
    return buf;
}

static void test_versions_round_trip(void **state)
{
    (void)state;
    rs_store *s = open_fresh();
    rs_arena a;
    rs_arena_init(&a, 0);
    rs_model_version v = {.name = "default",
                          .version = 99, /* ignored: the store numbers versions */
                          .run_id = "20261123-101500-3f9a1c",
                          .uri = "s3://bucket/models/model-x.rsm",
                          .checksum = SUM_B,
                          .size_bytes = 123456789012,
                          .stage = "production",
                          .metrics = "{\"ndcg\": 0.25, \"k\": 10}",
                          .note = "promoted: no version was in production",
                          .created_ms = 5, /* ignored */
                          .promoted_ms = 1700000000123};
    const int64_t before = rs_now_ms();
    assert_int_equal(rs_store_add_model_version(s, &v), RS_OK);
    assert_int_equal(v.version, 1);
    rs_model_version got;
    assert_int_equal(rs_store_get_model_version(s, "default", 1, &a, &got), RS_OK);
    assert_string_equal(got.name, "default");
    assert_int_equal(got.version, 1);
    assert_opt_str(got.run_id, "20261123-101500-3f9a1c");
    assert_string_equal(got.uri, "s3://bucket/models/model-x.rsm");
    assert_string_equal(got.checksum, SUM_B);
    assert_int_equal(got.size_bytes, 123456789012);
    assert_string_equal(got.stage, "production");
    assert_string_equal(got.metrics, "{\"k\":10,\"ndcg\":0.25}");
    assert_string_equal(got.note, "promoted: no version was in production");
    assert_true(got.created_ms >= before && got.created_ms <= rs_now_ms());
    assert_int_equal(got.promoted_ms, 1700000000123);

    /* The defaults: no run, {} metrics, "" note, never promoted. */
    rs_model_version bare = mv("default", "candidate");
    assert_int_equal(rs_store_add_model_version(s, &bare), RS_OK);
    assert_int_equal(bare.version, 2);
    assert_int_equal(rs_store_get_model_version(s, "default", 2, &a, &got), RS_OK);
    assert_null(got.run_id);
    assert_string_equal(got.metrics, "{}");
    assert_string_equal(got.note, "");
    assert_int_equal(got.promoted_ms, 0);
    assert_string_equal(got.stage, "candidate");

    /* A candidate registered with a (negative) promotion time has none. */
    rs_model_version neg = mv("default", "archived");
    neg.promoted_ms = -3;
    assert_int_equal(rs_store_add_model_version(s, &neg), RS_OK);
    assert_int_equal(rs_store_get_model_version(s, "default", neg.version, &a, &got), RS_OK);
    assert_int_equal(got.promoted_ms, 0);

    /* Listing is newest first; names do not mix. */
    add_version(s, "other", "candidate");
    char buf[256];
    assert_string_equal(version_list(s, "default", buf, sizeof buf),
                        "3:archived 2:candidate 1:production");
    assert_string_equal(version_list(s, "other", buf, sizeof buf), "1:candidate");
    assert_string_equal(version_list(s, "nobody", buf, sizeof buf), "");
    rs_model_version *vs;
    size_t n;
    assert_int_equal(rs_store_list_model_versions(s, "bad name", &a, &vs, &n), RS_EINVAL);

    /* Version 0 is the one in production. */
    assert_int_equal(rs_store_get_model_version(s, "default", 0, &a, &got), RS_OK);
    assert_int_equal(got.version, 1);
    assert_int_equal(rs_store_get_model_version(s, "other", 0, &a, &got), RS_ENOTFOUND);
    assert_non_null(strstr(rs_store_errmsg(s), "production"));
    assert_int_equal(rs_store_get_model_version(s, "default", 4, &a, &got), RS_ENOTFOUND);
    assert_int_equal(rs_store_get_model_version(s, "nobody", 1, &a, &got), RS_ENOTFOUND);
    assert_int_equal(rs_store_get_model_version(s, "nobody", 0, &a, &got), RS_ENOTFOUND);
    assert_int_equal(rs_store_get_model_version(s, "", 1, &a, &got), RS_EINVAL);
    rs_arena_destroy(&a);
    rs_store_close(s);
}

static void test_versions_numbering(void **state)
{
    (void)state;
    rs_store *s = open_fresh();
    assert_int_equal(add_version(s, "m", "candidate"), 1);
    assert_int_equal(add_version(s, "m", "candidate"), 2);
    assert_int_equal(add_version(s, "m", "candidate"), 3);
    assert_int_equal(add_version(s, "n", "candidate"), 1); /* per name */
    /* A deleted number is never given again, not even the newest one. */
    assert_int_equal(rs_store_delete_model_version(s, "m", 3), RS_OK);
    char buf[128];
    assert_string_equal(version_list(s, "m", buf, sizeof buf), "2:candidate 1:candidate");
    assert_int_equal(add_version(s, "m", "candidate"), 4);
    assert_int_equal(rs_store_delete_model_version(s, "m", 1), RS_OK);
    assert_int_equal(rs_store_delete_model_version(s, "m", 2), RS_OK);
    assert_int_equal(rs_store_delete_model_version(s, "m", 4), RS_OK);
    assert_string_equal(version_list(s, "m", buf, sizeof buf), "");
    assert_int_equal(add_version(s, "m", "candidate"), 5);
    /* The numbering survives closing the store. */
    rs_store_close(s);
    s = reopen();
    assert_int_equal(add_version(s, "m", "candidate"), 6);
    assert_int_equal(add_version(s, "n", "candidate"), 2);
    /* A name of the longest allowed length numbers like any other. */
    char longest[65];
    memset(longest, 'z', 64);
    longest[64] = '\0';
    assert_int_equal(add_version(s, longest, "candidate"), 1);
    assert_int_equal(add_version(s, longest, "candidate"), 2);
    assert_int_equal(rs_store_delete_model_version(s, "m", 77), RS_OK); /* nothing to forget */
    assert_int_equal(rs_store_delete_model_version(s, "bad name", 1), RS_EINVAL);
    rs_store_close(s);
}

static void test_versions_one_production(void **state)
{
    (void)state;
    rs_store *s = open_fresh();
    rs_arena a;
    rs_arena_init(&a, 0);
    assert_int_equal(add_version(s, "m", "production"), 1);
    assert_int_equal(add_version(s, "m", "candidate"), 2);
    assert_int_equal(add_version(s, "other", "production"), 1); /* another name may */
    char buf[128];

    /* A second production version is refused and leaves everything as it was,
     * its number included. */
    rs_model_version second = mv("m", "production");
    assert_int_equal(rs_store_add_model_version(s, &second), RS_EINVAL);
    assert_non_null(strstr(rs_store_errmsg(s), "production"));
    assert_string_equal(version_list(s, "m", buf, sizeof buf), "2:candidate 1:production");
    assert_int_equal(rs_store_set_model_stage(s, "m", 2, "production", 1, "x"), RS_EINVAL);
    rs_model_version got;
    assert_int_equal(rs_store_get_model_version(s, "m", 2, &a, &got), RS_OK);
    assert_string_equal(got.stage, "candidate");
    assert_string_equal(got.note, "");
    assert_int_equal(got.promoted_ms, 0);
    assert_int_equal(add_version(s, "m", "candidate"), 3);

    /* Demoting first in the same transaction is the way. */
    assert_int_equal(rs_store_begin(s), RS_OK);
    assert_int_equal(rs_store_set_model_stage(s, "m", 1, "archived", 0, NULL), RS_OK);
    assert_int_equal(rs_store_set_model_stage(s, "m", 2, "production", 100, NULL), RS_OK);
    assert_int_equal(rs_store_commit(s), RS_OK);
    assert_string_equal(version_list(s, "m", buf, sizeof buf),
                        "3:candidate 2:production 1:archived");
    /* Setting the production version to production again is no conflict. */
    assert_int_equal(rs_store_set_model_stage(s, "m", 2, "production", 0, NULL), RS_OK);
    rs_arena_destroy(&a);
    rs_store_close(s);
}

/* store.h: "A write rejected by validation (RS_EINVAL) touched nothing and
 * leaves that transaction open". The one-production rule is such a
 * rejection, so the caller's transaction and its earlier writes survive it. */
static void test_versions_second_production_keeps_transaction(void **state)
{
    (void)state;
    rs_store *s = open_fresh();
    assert_int_equal(add_version(s, "m", "production"), 1);
    rs_run r = run_min("inside", 1000);
    assert_int_equal(rs_store_begin(s), RS_OK);
    assert_int_equal(rs_store_put_run(s, &r), RS_OK);
    rs_model_version second = mv("m", "production");
    assert_int_equal(rs_store_add_model_version(s, &second), RS_EINVAL);
    if (rs_store_commit(s) != RS_OK) {
        char why[sizeof "commit: " + 512];
        snprintf(why, sizeof why, "commit: %s", rs_store_errmsg(s));
        rs_store_close(s);
        fail_msg("the RS_EINVAL of the one-production rule ended the caller's transaction "
                 "(%s), losing the run written before it", why);
    }
    assert_int_equal(rs_store_begin(s), RS_OK);
    assert_int_equal(rs_store_set_model_stage(s, "m", 1, "archived", 0, NULL), RS_OK);
    assert_int_equal(rs_store_add_model_version(s, &second), RS_OK);
    assert_int_equal(rs_store_commit(s), RS_OK);
    rs_arena a;
    rs_arena_init(&a, 0);
    rs_run got;
    assert_int_equal(rs_store_get_run(s, "inside", &a, &got), RS_OK);
    char buf[128];
    assert_string_equal(version_list(s, "m", buf, sizeof buf), "2:production 1:archived");
    rs_arena_destroy(&a);
    rs_store_close(s);
}

static void test_versions_set_stage(void **state)
{
    (void)state;
    rs_store *s = open_fresh();
    rs_arena a;
    rs_arena_init(&a, 0);
    rs_model_version v = mv("m", "candidate");
    v.note = "first note";
    assert_int_equal(rs_store_add_model_version(s, &v), RS_OK);
    rs_model_version got;
    /* promoted_ms > 0 records it; note given replaces. */
    assert_int_equal(rs_store_set_model_stage(s, "m", 1, "production", 1234, "up"), RS_OK);
    assert_int_equal(rs_store_get_model_version(s, "m", 1, &a, &got), RS_OK);
    assert_string_equal(got.stage, "production");
    assert_int_equal(got.promoted_ms, 1234);
    assert_string_equal(got.note, "up");
    /* 0 keeps the time; NULL keeps the note. */
    assert_int_equal(rs_store_set_model_stage(s, "m", 1, "archived", 0, NULL), RS_OK);
    assert_int_equal(rs_store_get_model_version(s, "m", 1, &a, &got), RS_OK);
    assert_string_equal(got.stage, "archived");
    assert_int_equal(got.promoted_ms, 1234);
    assert_string_equal(got.note, "up");
    /* A later time replaces; "" clears the note. */
    assert_int_equal(rs_store_set_model_stage(s, "m", 1, "archived", 5678, ""), RS_OK);
    assert_int_equal(rs_store_get_model_version(s, "m", 1, &a, &got), RS_OK);
    assert_int_equal(got.promoted_ms, 5678);
    assert_string_equal(got.note, "");
    /* < 0 forgets the time. */
    assert_int_equal(rs_store_set_model_stage(s, "m", 1, "candidate", -1, "back"), RS_OK);
    assert_int_equal(rs_store_get_model_version(s, "m", 1, &a, &got), RS_OK);
    assert_string_equal(got.stage, "candidate");
    assert_int_equal(got.promoted_ms, 0);
    assert_string_equal(got.note, "back");
    /* Other fields are untouched by stage changes. */
    assert_string_equal(got.checksum, SUM_A);
    assert_string_equal(got.uri, "file:///m/model.rsm");
    assert_int_equal(got.size_bytes, 10);

    /* Unknown versions and names; bad stages, names and notes. */
    assert_int_equal(rs_store_set_model_stage(s, "m", 2, "archived", 0, NULL), RS_ENOTFOUND);
    assert_non_null(strstr(rs_store_errmsg(s), "version 2"));
    assert_int_equal(rs_store_set_model_stage(s, "m", 0, "archived", 0, NULL), RS_ENOTFOUND);
    assert_int_equal(rs_store_set_model_stage(s, "x", 1, "archived", 0, NULL), RS_ENOTFOUND);
    assert_int_equal(rs_store_set_model_stage(s, "m", 1, "Production", 0, NULL), RS_EINVAL);
    assert_int_equal(rs_store_set_model_stage(s, "m", 1, NULL, 0, NULL), RS_EINVAL);
    assert_int_equal(rs_store_set_model_stage(s, "m", 1, "retired", 0, NULL), RS_EINVAL);
    assert_int_equal(rs_store_set_model_stage(s, "a b", 1, "archived", 0, NULL), RS_EINVAL);
    assert_int_equal(rs_store_set_model_stage(s, "m", 1, "archived", 0, "bad\xff"), RS_EINVAL);
    assert_int_equal(rs_store_get_model_version(s, "m", 1, &a, &got), RS_OK);
    assert_string_equal(got.stage, "candidate");
    assert_string_equal(got.note, "back");
    rs_arena_destroy(&a);
    rs_store_close(s);
}

static void test_versions_invalid(void **state)
{
    (void)state;
    rs_store *s = open_fresh();
    char long_name[66];
    memset(long_name, 'n', 65);
    long_name[65] = '\0';
    rs_model_version bad[24];
    const char *needles[24];
    size_t nb = 0;
#define BAD(field, value, needle)                                                              \
    do {                                                                                       \
        bad[nb] = mv("m", "candidate");                                                        \
        bad[nb].field = value;                                                                 \
        needles[nb++] = needle;                                                                \
    } while (0)
    BAD(checksum, NULL, "checksum");
    BAD(checksum, "", "checksum");
    BAD(checksum, "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef", "checksum");
    BAD(checksum, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde", "checksum");
    BAD(checksum, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0",
        "checksum");
    BAD(checksum, "g123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "checksum");
    BAD(checksum, " 123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "checksum");
    BAD(name, NULL, "model name");
    BAD(name, "", "model name");
    BAD(name, "a b", "model name");
    BAD(name, long_name, "model name");
    BAD(run_id, "", "run id");
    BAD(run_id, "x/y", "run id");
    BAD(uri, NULL, "uri");
    BAD(uri, "bad\xff", "uri");
    BAD(stage, NULL, "stage");
    BAD(stage, "live", "stage");
    BAD(metrics, "[]", "metrics");
    BAD(metrics, "{", "metrics");
    BAD(note, "tab\x7f", "note");
#undef BAD
    for (size_t i = 0; i < nb; i++) {
        bad[i].version = 0;
        if (rs_store_add_model_version(s, &bad[i]) != RS_EINVAL)
            fail_msg("case %zu (%s): not rejected", i, needles[i]);
        if (!strstr(rs_store_errmsg(s), needles[i]))
            fail_msg("case %zu: message '%s' does not name %s", i, rs_store_errmsg(s),
                     needles[i]);
        assert_int_equal(bad[i].version, 0);
    }
    char buf[64];
    assert_string_equal(version_list(s, "m", buf, sizeof buf), "");
    /* No number was used up by the rejected ones. */
    assert_int_equal(add_version(s, "m", "candidate"), 1);
    rs_store_close(s);
}

/* Runs and versions written survive closing and reopening the store. */
static void test_runs_and_versions_survive_reopen(void **state)
{
    (void)state;
    rs_store *s = open_fresh();
    rs_run r = {.id = "durable", .kind = "tune", .status = "finished", .model = "als",
                .started_ms = 10, .ended_ms = 20, .params = "{\"b\":1,\"a\":2}",
                .note = "n", .host = "h", .pid = 9, .version = 2};
    assert_int_equal(rs_store_put_run(s, &r), RS_OK);
    rs_model_version v = mv("m", "production");
    v.run_id = "durable";
    v.metrics = "{\"ndcg\":0.5}";
    v.promoted_ms = 77;
    assert_int_equal(rs_store_add_model_version(s, &v), RS_OK);
    assert_int_equal(add_version(s, "m", "candidate"), 2);
    assert_int_equal(rs_store_set_model_stage(s, "m", 2, "archived", 0, "old"), RS_OK);
    rs_store_close(s);

    s = reopen();
    rs_arena a;
    rs_arena_init(&a, 0);
    rs_run got;
    assert_int_equal(rs_store_get_run(s, "durable", &a, &got), RS_OK);
    assert_string_equal(got.kind, "tune");
    assert_string_equal(got.params, "{\"a\":2,\"b\":1}");
    assert_opt_str(got.note, "n");
    assert_string_equal(got.host, "h");
    assert_int_equal(got.pid, 9);
    assert_int_equal(got.version, 2);
    assert_int_equal(got.ended_ms, 20);
    rs_model_version gv;
    assert_int_equal(rs_store_get_model_version(s, "m", 0, &a, &gv), RS_OK);
    assert_int_equal(gv.version, 1);
    assert_opt_str(gv.run_id, "durable");
    assert_string_equal(gv.metrics, "{\"ndcg\":0.5}");
    assert_int_equal(gv.promoted_ms, 77);
    assert_int_equal(rs_store_get_model_version(s, "m", 2, &a, &gv), RS_OK);
    assert_string_equal(gv.stage, "archived");
    assert_string_equal(gv.note, "old");
    /* The one-production rule holds across the reopen. */
    rs_model_version again = mv("m", "production");
    assert_int_equal(rs_store_add_model_version(s, &again), RS_EINVAL);
    rs_arena_destroy(&a);
    rs_store_close(s);
}

/* A database made by a build that knew only schema version 1 (the SQL
 * below is migration 1 as released) opens, migrates to the latest version
 * and keeps its rows, with the new columns at their defaults. SQLite only. */
/* The rows of a version 1 database, for both backends. */
#define V1_DATA                                                                              \
    "INSERT INTO schema_version VALUES(1, 1000);"                                            \
    "INSERT INTO runs(id, kind, status, model, started_ms, ended_ms, params, metrics, error) " \
    "  VALUES('old-run', 'train', 'finished', 'als', 1000, 2000, '{\"als\":{}}',"              \
    "  '{\"ndcg\":0.3}', NULL);"                                                               \
    "INSERT INTO model_versions VALUES('default', 1, 'old-run', 'file:///m/a.rsm', '" SUM_A  \
    "', 5, 'archived', 1500), ('default', 2, 'old-run', 'file:///m/b.rsm', '" SUM_B          \
    "', 6, 'production', 1600);"

/* A PostgreSQL database at schema version 1 (store_pg_schema.c). */
static const char schema_v1_pg[] =
    "CREATE TABLE schema_version(version INTEGER PRIMARY KEY, applied_ms BIGINT NOT NULL);"
    "CREATE TABLE users(key BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    "  id TEXT COLLATE \"C\" NOT NULL UNIQUE, attrs TEXT NOT NULL DEFAULT '{}',"
    "  created_ms BIGINT NOT NULL);"
    "CREATE TABLE items(key BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    "  id TEXT COLLATE \"C\" NOT NULL UNIQUE, title TEXT NOT NULL DEFAULT '',"
    "  category TEXT COLLATE \"C\" NOT NULL DEFAULT '', brand TEXT NOT NULL DEFAULT '',"
    "  tags TEXT NOT NULL DEFAULT '[]', attrs TEXT NOT NULL DEFAULT '{}',"
    "  hidden BOOLEAN NOT NULL DEFAULT false, created_ms BIGINT NOT NULL,"
    "  updated_ms BIGINT NOT NULL);"
    "CREATE INDEX items_by_category ON items(category, id);"
    "CREATE TABLE event_types(code INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);"
    "CREATE TABLE events(user_key BIGINT NOT NULL, ts_ms BIGINT NOT NULL, seq BIGINT NOT NULL,"
    "  item_key BIGINT NOT NULL, type INTEGER NOT NULL, value DOUBLE PRECISION NOT NULL,"
    "  PRIMARY KEY(user_key, ts_ms, seq));"
    "CREATE TABLE counters(name TEXT PRIMARY KEY, value BIGINT NOT NULL);"
    "INSERT INTO counters VALUES('event_seq', 0), ('newest_event_ms', 0);"
    "CREATE TABLE imports(sha256 TEXT PRIMARY KEY, path TEXT NOT NULL, format TEXT NOT NULL,"
    "  rows BIGINT NOT NULL, imported_ms BIGINT NOT NULL);"
    "CREATE TABLE runs(id TEXT COLLATE \"C\" PRIMARY KEY, kind TEXT NOT NULL,"
    "  status TEXT NOT NULL, model TEXT NOT NULL DEFAULT '', started_ms BIGINT NOT NULL,"
    "  ended_ms BIGINT, params TEXT NOT NULL DEFAULT '{}', metrics TEXT NOT NULL DEFAULT '{}',"
    "  error TEXT);"
    "CREATE TABLE model_versions(name TEXT NOT NULL, version BIGINT NOT NULL,"
    "  run_id TEXT COLLATE \"C\", uri TEXT NOT NULL, checksum TEXT NOT NULL,"
    "  size_bytes BIGINT NOT NULL, stage TEXT NOT NULL DEFAULT 'candidate',"
    "  created_ms BIGINT NOT NULL, PRIMARY KEY(name, version));" V1_DATA;

static const char schema_v1[] =
    "CREATE TABLE schema_version(version INTEGER PRIMARY KEY, applied_ms INTEGER NOT NULL);"
    "CREATE TABLE users(key INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE,"
    "  attrs TEXT NOT NULL DEFAULT '{}', created_ms INTEGER NOT NULL);"
    "CREATE TABLE items(key INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE,"
    "  title TEXT NOT NULL DEFAULT '', category TEXT NOT NULL DEFAULT '',"
    "  brand TEXT NOT NULL DEFAULT '', tags TEXT NOT NULL DEFAULT '[]',"
    "  attrs TEXT NOT NULL DEFAULT '{}', hidden INTEGER NOT NULL DEFAULT 0,"
    "  created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL);"
    "CREATE INDEX items_by_category ON items(category, id);"
    "CREATE TABLE event_types(code INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);"
    "CREATE TABLE events(user_key INTEGER NOT NULL REFERENCES users(key),"
    "  ts_ms INTEGER NOT NULL, seq INTEGER NOT NULL,"
    "  item_key INTEGER NOT NULL REFERENCES items(key),"
    "  type INTEGER NOT NULL REFERENCES event_types(code), value REAL NOT NULL,"
    "  PRIMARY KEY(user_key, ts_ms, seq)) WITHOUT ROWID;"
    "CREATE TABLE counters(name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;"
    "INSERT INTO counters VALUES('event_seq', 0), ('newest_event_ms', 0);"
    "CREATE TABLE imports(sha256 TEXT PRIMARY KEY, path TEXT NOT NULL, format TEXT NOT NULL,"
    "  rows INTEGER NOT NULL, imported_ms INTEGER NOT NULL);"
    "CREATE TABLE runs(id TEXT PRIMARY KEY, kind TEXT NOT NULL, status TEXT NOT NULL,"
    "  model TEXT NOT NULL DEFAULT '', started_ms INTEGER NOT NULL, ended_ms INTEGER,"
    "  params TEXT NOT NULL DEFAULT '{}', metrics TEXT NOT NULL DEFAULT '{}', error TEXT);"
    "CREATE TABLE model_versions(name TEXT NOT NULL, version INTEGER NOT NULL,"
    "  run_id TEXT REFERENCES runs(id), uri TEXT NOT NULL, checksum TEXT NOT NULL,"
    "  size_bytes INTEGER NOT NULL, stage TEXT NOT NULL DEFAULT 'candidate',"
    "  created_ms INTEGER NOT NULL, PRIMARY KEY(name, version));"
    V1_DATA;

static void test_migrate_from_v1(void **state)
{
    (void)state;
    const char *u = fresh_url();
    if (!strncmp(u, "sqlite://", 9)) {
        sqlite3 *db;
        assert_int_equal(sqlite3_open(u + 9, &db), SQLITE_OK);
        char *msg = NULL;
        if (sqlite3_exec(db, schema_v1, NULL, NULL, &msg) != SQLITE_OK)
            fail_msg("building the v1 database: %s", msg);
        sqlite3_close(db);
    } else {
        PGconn *c = PQconnectdb(u);
        PGresult *r = PQexec(c, schema_v1_pg);
        if (PQresultStatus(r) != PGRES_COMMAND_OK)
            fail_msg("building the v1 database: %s", PQerrorMessage(c));
        PQclear(r);
        PQfinish(c);
    }

    rs_store *s = reopen();
    assert_true(rs_store_schema_version(s) >= 2);
    rs_arena a;
    rs_arena_init(&a, 0);
    rs_run r;
    assert_int_equal(rs_store_get_run(s, "old-run", &a, &r), RS_OK);
    assert_string_equal(r.model, "als");
    assert_int_equal(r.ended_ms, 2000);
    assert_string_equal(r.metrics, "{\"ndcg\":0.3}");
    assert_null(r.parent_id);
    assert_string_equal(r.data, "{}");
    assert_string_equal(r.timings, "{}");
    assert_null(r.artifact_uri);
    assert_int_equal(r.version, 0);
    assert_null(r.note);
    assert_string_equal(r.host, "");
    assert_int_equal(r.pid, 0);
    rs_model_version v;
    assert_int_equal(rs_store_get_model_version(s, "default", 0, &a, &v), RS_OK);
    assert_int_equal(v.version, 2);
    assert_string_equal(v.checksum, SUM_B);
    assert_string_equal(v.metrics, "{}");
    assert_string_equal(v.note, "");
    assert_int_equal(v.promoted_ms, 0);
    assert_int_equal(v.created_ms, 1600);
    /* Numbering continues after the old versions, and the new rules hold. */
    assert_int_equal(add_version(s, "default", "candidate"), 3);
    rs_model_version prod = mv("default", "production");
    assert_int_equal(rs_store_add_model_version(s, &prod), RS_EINVAL);
    rs_run *list;
    size_t n;
    const rs_run_filter f = {.model = "als"};
    assert_int_equal(rs_store_list_runs(s, &f, NULL, 10, &a, &list, &n), RS_OK);
    assert_int_equal(n, 1);
    rs_arena_destroy(&a);
    int v2 = rs_store_schema_version(s);
    rs_store_close(s);
    s = reopen();
    assert_int_equal(rs_store_schema_version(s), v2);
    rs_store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_and_reopen),
        cmocka_unit_test(test_open_bad_urls),
        cmocka_unit_test(test_users_put_get_find),
        cmocka_unit_test(test_users_invalid_rejected_whole),
        cmocka_unit_test(test_items_put_get_list),
        cmocka_unit_test(test_items_invalid),
        cmocka_unit_test(test_categories),
        cmocka_unit_test(test_events_add_and_read),
        cmocka_unit_test(test_events_bad_batch_writes_nothing),
        cmocka_unit_test(test_transactions),
        cmocka_unit_test(test_read_snapshot),
        cmocka_unit_test(test_acknowledged_event_survives_kill),
        cmocka_unit_test(test_many_events_scan),
        cmocka_unit_test(test_imports),
        cmocka_unit_test(test_runs_round_trip),
        cmocka_unit_test(test_runs_list_order_and_filters),
        cmocka_unit_test(test_runs_paging),
        cmocka_unit_test(test_runs_invalid_write_nothing),
        cmocka_unit_test(test_runs_list_huge_limit),
        cmocka_unit_test(test_versions_round_trip),
        cmocka_unit_test(test_versions_numbering),
        cmocka_unit_test(test_versions_one_production),
        cmocka_unit_test(test_versions_second_production_keeps_transaction),
        cmocka_unit_test(test_versions_set_stage),
        cmocka_unit_test(test_versions_invalid),
        cmocka_unit_test(test_runs_and_versions_survive_reopen),
        cmocka_unit_test(test_migrate_from_v1),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    if (!failed)
        rs_test_cleanup();
    return failed;
}
