/* The synthetic catalogue generator of data/generate.h: byte-identical
 * output for the same parameters, exact counts and headers, the signal it
 * promises (popularity skew, users concentrated on a few categories, time
 * order inside the window) and its errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <dirent.h>
#include <sys/stat.h>

#include "../test_util.h"
#include "core/alloc.h"
#include "core/idmap.h"
#include "data/csv.h"
#include "data/generate.h"

#define USERS 300
#define ITEMS 400
#define EVENTS 20000
#define WINDOW_END 1767225600LL

static const char *gen_dir(const char *name, uint64_t seed)
{
    const char *dir = rs_test_path(name);
    assert_int_equal(mkdir(dir, 0755), 0);
    rs_gen_opts o = {.users = USERS, .items = ITEMS, .events = EVENTS, .seed = seed};
    rs_gen_report r;
    rs_diag d = {{0}};
    if (rs_generate(dir, &o, &r, &d))
        fail_msg("%s", d.msg);
    assert_int_equal(r.events_written, EVENTS);
    assert_int_equal(r.items_written, ITEMS);
    assert_true(r.users_with_events > USERS / 2 && r.users_with_events <= USERS);
    assert_true(r.categories >= 2);
    return dir;
}

static char *slurp(const char *dir, const char *name, size_t *len)
{
    char path[700];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = rs_xmalloc((size_t)n + 1);
    assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    b[n] = '\0';
    *len = (size_t)n;
    return b;
}

static void test_deterministic(void **state)
{
    (void)state;
    const char *a = gen_dir("det-a", 7), *b = gen_dir("det-b", 7), *c = gen_dir("det-c", 8);
    char da[700], db[700], dc[700];
    snprintf(da, sizeof da, "%s", a);
    snprintf(db, sizeof db, "%s", b);
    snprintf(dc, sizeof dc, "%s", c);
    const char *files[] = {"items.csv", "events.csv"};
    for (int i = 0; i < 2; i++) {
        size_t la, lb, lc;
        char *x = slurp(da, files[i], &la), *y = slurp(db, files[i], &lb),
             *z = slurp(dc, files[i], &lc);
        assert_int_equal(la, lb);
        assert_memory_equal(x, y, la);
        assert_true(la != lc || memcmp(x, z, la) != 0); /* another seed, other data */
        rs_free(x);
        rs_free(y);
        rs_free(z);
    }
}

typedef struct ev_stats {
    rs_idmap *users, *items, *cats;
    uint32_t *item_cat;     /* item index -> category index */
    uint64_t *item_events;  /* per item */
    int64_t *user_last_ts;  /* per user, -1 before the first */
    uint32_t *user_cat;     /* USERS x 64 category counts */
    uint64_t events;
} ev_stats;

static uint32_t intern(rs_idmap *m, const rs_csv_field *f)
{
    uint32_t ix;
    bool created;
    assert_int_equal(rs_idmap_intern(m, f->p, f->len, &ix, &created), RS_OK);
    return ix;
}

static void read_items(const char *dir, ev_stats *s)
{
    char path[700];
    snprintf(path, sizeof path, "%s/items.csv", dir);
    rs_csv *c;
    assert_int_equal(rs_csv_open(path, NULL, &c, NULL), RS_OK);
    const rs_csv_field *f;
    size_t n;
    assert_int_equal(rs_csv_next(c, &f, &n, NULL), RS_OK);
    assert_int_equal(n, 5);
    const char *head[] = {"item_id", "title", "category", "brand", "tags"};
    for (int i = 0; i < 5; i++)
        assert_string_equal(f[i].p, head[i]);
    while (rs_csv_next(c, &f, &n, NULL) == RS_OK) {
        assert_int_equal(n, 5);
        uint32_t it = intern(s->items, &f[0]);
        assert_true(it < ITEMS);
        assert_true(f[1].len > 0 && f[2].len > 0 && f[3].len > 0);
        s->item_cat[it] = intern(s->cats, &f[2]);
        assert_true(s->item_cat[it] < 64);
    }
    rs_csv_close(c);
    assert_int_equal(rs_idmap_size(s->items), ITEMS);
}

static void read_events(const char *dir, ev_stats *s)
{
    char path[700];
    snprintf(path, sizeof path, "%s/events.csv", dir);
    rs_csv *c;
    assert_int_equal(rs_csv_open(path, NULL, &c, NULL), RS_OK);
    const rs_csv_field *f;
    size_t n;
    assert_int_equal(rs_csv_next(c, &f, &n, NULL), RS_OK);
    const char *head[] = {"user_id", "item_id", "value", "timestamp", "type"};
    assert_int_equal(n, 5);
    for (int i = 0; i < 5; i++)
        assert_string_equal(f[i].p, head[i]);
    while (rs_csv_next(c, &f, &n, NULL) == RS_OK) {
        assert_int_equal(n, 5);
        uint32_t u = intern(s->users, &f[0]);
        assert_true(u < USERS);
        uint32_t it = rs_idmap_find(s->items, f[1].p, f[1].len);
        assert_true(it < ITEMS);
        s->item_events[it]++;
        s->user_cat[u * 64 + s->item_cat[it]]++;
        long long ts = strtoll(f[3].p, NULL, 10);
        assert_true(ts >= WINDOW_END - 180LL * 86400 && ts < WINDOW_END);
        assert_true(ts >= s->user_last_ts[u]); /* each user's events in time order */
        s->user_last_ts[u] = ts;
        double v = strtod(f[2].p, NULL);
        if (strcmp(f[4].p, "rating") == 0)
            assert_true(v >= 1 && v <= 5);
        else
            assert_true(strcmp(f[4].p, "view") == 0 || strcmp(f[4].p, "click") == 0 ||
                        strcmp(f[4].p, "like") == 0 || strcmp(f[4].p, "purchase") == 0);
        s->events++;
    }
    rs_csv_close(c);
}

static int cmp_desc(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x < y) - (x > y);
}

static void test_signal(void **state)
{
    (void)state;
    const char *dir = gen_dir("signal", 42);
    ev_stats s = {.item_cat = rs_xcalloc(ITEMS, sizeof(uint32_t)),
                  .item_events = rs_xcalloc(ITEMS, sizeof(uint64_t)),
                  .user_last_ts = rs_xmalloc(USERS * sizeof(int64_t)),
                  .user_cat = rs_xcalloc(USERS * 64, sizeof(uint32_t))};
    for (int u = 0; u < USERS; u++)
        s.user_last_ts[u] = -1;
    s.users = rs_idmap_new();
    s.items = rs_idmap_new();
    s.cats = rs_idmap_new();
    read_items(dir, &s);
    read_events(dir, &s);
    assert_int_equal(s.events, EVENTS);

    /* Power-law popularity: the top tenth of items take over 35% of events. */
    qsort(s.item_events, ITEMS, sizeof(uint64_t), cmp_desc);
    uint64_t top = 0;
    for (int i = 0; i < ITEMS / 10; i++)
        top += s.item_events[i];
    assert_true((double)top / EVENTS > 0.35);

    /* Users concentrate on their favourite categories: on average the top
     * two categories of a user hold well over what a uniform spread would. */
    uint32_t ncat = (uint32_t)rs_idmap_size(s.cats);
    double share = 0;
    int active = 0;
    for (int u = 0; u < USERS; u++) {
        uint32_t total = 0, b1 = 0, b2 = 0;
        for (uint32_t k = 0; k < ncat; k++) {
            uint32_t v = s.user_cat[u * 64 + k];
            total += v;
            if (v > b1) {
                b2 = b1;
                b1 = v;
            } else if (v > b2) {
                b2 = v;
            }
        }
        if (total >= 20) {
            share += (double)(b1 + b2) / total;
            active++;
        }
    }
    assert_true(active > 0);
    assert_true(share / active > 1.5 * 2.0 / ncat);

    rs_idmap_free(s.users);
    rs_idmap_free(s.items);
    rs_idmap_free(s.cats);
    rs_free(s.item_cat);
    rs_free(s.item_events);
    rs_free(s.user_last_ts);
    rs_free(s.user_cat);
}

static void test_errors(void **state)
{
    (void)state;
    rs_diag d = {{0}};
    rs_gen_opts o = {.users = 0, .items = 10, .events = 10, .seed = 1};
    assert_int_equal(rs_generate(rs_test_dir(), &o, NULL, &d), RS_EINVAL);
    assert_non_null(strstr(d.msg, "users"));
    o = (rs_gen_opts){.users = 10, .items = 0, .events = 10, .seed = 1};
    assert_int_equal(rs_generate(rs_test_dir(), &o, NULL, &d), RS_EINVAL);
    assert_non_null(strstr(d.msg, "items"));
    o = (rs_gen_opts){.users = 10, .items = 10, .events = 0, .seed = 1};
    assert_int_equal(rs_generate(rs_test_dir(), &o, NULL, &d), RS_EINVAL);
    assert_non_null(strstr(d.msg, "events"));

    o = (rs_gen_opts){.users = 10, .items = 10, .events = 10, .seed = 1};
    assert_int_equal(rs_generate(rs_test_path("no/such/folder"), &o, NULL, &d), RS_EIO);
    assert_non_null(strstr(d.msg, "no/such/folder"));

    /* A folder that cannot be written: nothing is left behind. */
    const char *ro = rs_test_path("readonly");
    assert_int_equal(mkdir(ro, 0555), 0);
    rs_err e = rs_generate(ro, &o, NULL, &d);
    if (geteuid() != 0) /* root writes anywhere */
        assert_int_equal(e, RS_EIO);
    if (e) {
        DIR *dh = opendir(ro);
        assert_non_null(dh);
        struct dirent *de;
        while ((de = readdir(dh)))
            assert_true(strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0);
        closedir(dh);
    }
    chmod(ro, 0755);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_signal),
        cmocka_unit_test(test_errors),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    if (rc == 0)
        rs_test_cleanup();
    return rc;
}
