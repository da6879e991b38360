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

#include "../unit/test_util.h"
#include "core/text.h"
#include "store/store.h"

static char url[1024];
static int db_counter;

/* A fresh, empty database URL for each test. */
static const char *fresh_url(void)
{
    const char *tmpl = getenv("RS_STORE_URL_TEMPLATE");
    if (!tmpl)
        tmpl = "sqlite://{dir}/store.db";
    char dir[600];
    snprintf(dir, sizeof dir, "%s/db%d", rs_test_dir(), ++db_counter);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_and_reopen),
        cmocka_unit_test(test_open_bad_urls),
        cmocka_unit_test(test_users_put_get_find),
        cmocka_unit_test(test_users_invalid_rejected_whole),
        cmocka_unit_test(test_items_put_get_list),
        cmocka_unit_test(test_items_invalid),
        cmocka_unit_test(test_events_add_and_read),
        cmocka_unit_test(test_events_bad_batch_writes_nothing),
        cmocka_unit_test(test_transactions),
        cmocka_unit_test(test_read_snapshot),
        cmocka_unit_test(test_acknowledged_event_survives_kill),
        cmocka_unit_test(test_many_events_scan),
        cmocka_unit_test(test_imports),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    if (!failed)
        rs_test_cleanup();
    return failed;
}
