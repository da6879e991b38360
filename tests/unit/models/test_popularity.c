/* The popularity model: distinct-user counts, time-decayed trending with
 * its half-life, per-category lists, and seen/hidden items filtered at
 * query time; similar items from factors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "core/idmap.h"
#include "models/popularity.h"
#include "models/similar.h"

#define DAY_MS 86400000LL

/* 4 users x 5 items:
 *   u0: i0 i1 i2      u1: i0 i1      u2: i0 i3      u3: i4
 * item i0 has 3 users, i1 2, i2 i3 i4 one each. Times: u3's i4 is the
 * newest; i0's events are 10 days old, i1's 2 days. */
static void sample(rs_csr *m, int64_t **ts)
{
    uint32_t r[] = {0, 0, 0, 1, 1, 2, 2, 3};
    uint32_t c[] = {0, 1, 2, 0, 1, 0, 3, 4};
    float v[] = {1, 1, 1, 5, 1, 1, 1, 1};
    assert_int_equal(rs_csr_from_coo(4, 5, r, c, v, NULL, 8, RS_AGG_SUM, m), RS_OK);
    static int64_t t[8];
    const int64_t now = 1000 * DAY_MS;
    /* CSR order is the same as above (rows ascending, columns ascending). */
    int64_t ages[] = {10, 2, 1, 10, 2, 10, 0, 0};
    for (int j = 0; j < 8; j++)
        t[j] = now - ages[j] * DAY_MS;
    *ts = t;
}

static void test_counts_and_trending(void **state)
{
    (void)state;
    rs_csr m;
    int64_t *ts;
    sample(&m, &ts);
    rs_popularity p;
    rs_pop_opts o = {.half_life_ms = 1.0 * DAY_MS, .ts_ms = ts};
    rs_diag d = {{0}};
    assert_int_equal(rs_popularity_fit(&m, &o, &p, &d), RS_OK);
    assert_true(p.count[0] == 3.0f && p.count[1] == 2.0f && p.count[4] == 1.0f);
    /* i0: three events 10 half-lives old; i3 and i4: one fresh each. */
    assert_float_equal(p.trend[0], 3.0 * pow(2, -10), 1e-6);
    assert_float_equal(p.trend[3], 1.0, 1e-6);
    assert_float_equal(p.trend[1], 2.0 * 0.25, 1e-6);

    rs_scored out[5];
    rs_pop_query q = {.kind = RS_POP_COUNT, .category = RS_INDEX_NONE, .k = 5};
    size_t n = rs_popularity_top(&p, &q, out);
    assert_int_equal(n, 5);
    assert_int_equal(out[0].index, 0);
    assert_int_equal(out[1].index, 1);
    assert_int_equal(out[2].index, 2); /* ties: lower index first */
    q.kind = RS_POP_TRENDING;
    n = rs_popularity_top(&p, &q, out);
    assert_int_equal(out[0].index, 3);
    assert_int_equal(out[1].index, 4);
    assert_int_equal(out[4].index, 0);

    /* Seen and hidden items are filtered, k respected. */
    uint32_t seen[] = {0, 2};
    uint8_t hidden[5] = {0, 1, 0, 0, 0};
    q = (rs_pop_query){.kind = RS_POP_COUNT, .category = RS_INDEX_NONE, .exclude = seen,
                       .n_exclude = 2, .hidden = hidden, .k = 2};
    n = rs_popularity_top(&p, &q, out);
    assert_int_equal(n, 2);
    assert_int_equal(out[0].index, 3);
    assert_int_equal(out[1].index, 4);
    rs_popularity_destroy(&p);
    rs_csr_destroy(&m);
}

static void test_categories(void **state)
{
    (void)state;
    rs_csr m;
    int64_t *ts;
    sample(&m, &ts);
    uint32_t cat[5] = {1, 0, 1, RS_INDEX_NONE, 0};
    rs_popularity p;
    rs_pop_opts o = {.ts_ms = ts, .item_category = cat, .n_categories = 2};
    rs_diag d = {{0}};
    assert_int_equal(rs_popularity_fit(&m, &o, &p, &d), RS_OK);
    rs_scored out[5];
    rs_pop_query q = {.kind = RS_POP_COUNT, .category = 1, .k = 5};
    size_t n = rs_popularity_top(&p, &q, out);
    assert_int_equal(n, 2);
    assert_int_equal(out[0].index, 0);
    assert_int_equal(out[1].index, 2);
    q.category = 0;
    n = rs_popularity_top(&p, &q, out);
    assert_int_equal(n, 2);
    assert_int_equal(out[0].index, 1);
    q.category = 7;
    assert_int_equal(rs_popularity_top(&p, &q, out), 0);
    rs_popularity_destroy(&p);

    cat[2] = 9;
    assert_int_equal(rs_popularity_fit(&m, &o, &p, &d), RS_EINVAL);
    assert_non_null(strstr(d.msg, "category"));
    rs_pop_opts bad = {.half_life_ms = -1};
    assert_int_equal(rs_popularity_fit(&m, &bad, &p, &d), RS_EINVAL);
    rs_csr_destroy(&m);
}

static void test_recommend_interface(void **state)
{
    (void)state;
    rs_csr m;
    int64_t *ts;
    sample(&m, &ts);
    rs_popularity p;
    rs_pop_opts o = {0};
    rs_diag d = {{0}};
    assert_int_equal(rs_popularity_fit(&m, &o, &p, &d), RS_OK);
    rs_scored out[3];
    size_t n;
    uint32_t seen[] = {0, 1};
    assert_int_equal(rs_popularity_recommend(&p, 1, seen, 2, 3, out, &n, NULL), RS_OK);
    assert_int_equal(n, 3);
    for (size_t i = 0; i < n; i++)
        assert_true(out[i].index >= 2);
    rs_popularity_destroy(&p);
    rs_csr_destroy(&m);
}

/* Similar items: cosine on factors, best first, no self, zero rows left out. */
static void test_similar(void **state)
{
    (void)state;
    const float f[] = {
        1, 0,     /* i0 */
        0.9f, 0.1f, /* i1: close to i0 */
        0, 1,     /* i2 */
        -1, 0,    /* i3: opposite of i0 */
        0, 0,     /* i4: never trained */
    };
    rs_csr s;
    rs_similar_opts o = {.neighbours = 2, .threads = 2};
    rs_diag d = {{0}};
    assert_int_equal(rs_similar_fit(f, 5, 2, &o, &s, &d), RS_OK);
    const float *sc;
    size_t n;
    const uint32_t *nb = rs_similar_get(&s, 0, &sc, &n);
    assert_int_equal(n, 2);
    assert_int_equal(nb[0], 1);
    assert_float_equal(sc[0], 0.9 / sqrt(0.82), 1e-5);
    assert_int_equal(nb[1], 2);
    nb = rs_similar_get(&s, 4, &sc, &n);
    assert_int_equal(n, 0);
    for (uint32_t i = 0; i < 4; i++) {
        nb = rs_similar_get(&s, i, &sc, &n);
        for (size_t j = 0; j < n; j++)
            assert_true(nb[j] != i && nb[j] != 4);
    }
    rs_similar_get(&s, 99, &sc, &n);
    assert_int_equal(n, 0);
    rs_csr_destroy(&s);
    assert_int_equal(rs_similar_fit(f, 5, 0, &o, &s, &d), RS_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts_and_trending),
        cmocka_unit_test(test_categories),
        cmocka_unit_test(test_recommend_interface),
        cmocka_unit_test(test_similar),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
