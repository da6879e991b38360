/* Train/test splits: an exact partition of the entries, per-user
 * fractions, seeds, the temporal split holding out the latest, the global
 * time cut, and bad options. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "data/split.h"

/* 50 users with 1..30 items each, random columns, times = column * 10. */
static void sample(rs_csr *m, int64_t **ts)
{
    static uint32_t r[2000], c[2000];
    static float v[2000];
    size_t n = 0;
    rs_rng g;
    rs_rng_init(&g, 5);
    for (uint32_t u = 0; u < 50; u++) {
        uint32_t k = 1 + rs_rng_below(&g, 30);
        for (uint32_t j = 0; j < k; j++) {
            r[n] = u;
            c[n] = rs_rng_below(&g, 200);
            v[n] = 1;
            n++;
        }
    }
    assert_int_equal(rs_csr_from_coo(50, 200, r, c, v, NULL, n, RS_AGG_SUM, m), RS_OK);
    int64_t *t = malloc(m->nnz * sizeof *t);
    for (size_t j = 0; j < m->nnz; j++)
        t[j] = (int64_t)m->indices[j] * 10;
    *ts = t;
}

/* train + test == m, entry by entry. */
static void check_partition(const rs_csr *m, const rs_csr *tr, const rs_csr *te)
{
    assert_int_equal(tr->nnz + te->nnz, m->nnz);
    for (uint32_t u = 0; u < m->n_rows; u++) {
        uint64_t a = tr->indptr[u], b = te->indptr[u];
        for (uint64_t j = m->indptr[u]; j < m->indptr[u + 1]; j++) {
            uint32_t c = m->indices[j];
            if (a < tr->indptr[u + 1] && tr->indices[a] == c)
                a++;
            else if (b < te->indptr[u + 1] && te->indices[b] == c)
                b++;
            else
                fail_msg("user %u item %u is in neither part", u, c);
        }
        assert_int_equal(a, tr->indptr[u + 1]);
        assert_int_equal(b, te->indptr[u + 1]);
    }
}

static void test_random(void **state)
{
    (void)state;
    rs_csr m, tr, te, tr2, te2;
    int64_t *ts;
    sample(&m, &ts);
    rs_split_opts o = {.kind = RS_SPLIT_RANDOM, .test_fraction = 0.2, .seed = 1};
    rs_diag d = {{0}};
    assert_int_equal(rs_split(&m, NULL, &o, &tr, &te, &d), RS_OK);
    check_partition(&m, &tr, &te);
    for (uint32_t u = 0; u < m.n_rows; u++) {
        uint64_t n = m.indptr[u + 1] - m.indptr[u], t = te.indptr[u + 1] - te.indptr[u];
        uint64_t want = (uint64_t)(0.2 * (double)n + 0.5);
        if (want > n - 1)
            want = n - 1;
        assert_int_equal(t, want);
        assert_true(tr.indptr[u + 1] > tr.indptr[u]); /* at least one in training */
    }
    /* Same seed, same split; another seed, another split. */
    assert_int_equal(rs_split(&m, NULL, &o, &tr2, &te2, &d), RS_OK);
    assert_memory_equal(te.indices, te2.indices, te.nnz * sizeof *te.indices);
    rs_csr_destroy(&tr2);
    rs_csr_destroy(&te2);
    o.seed = 2;
    assert_int_equal(rs_split(&m, NULL, &o, &tr2, &te2, &d), RS_OK);
    assert_int_equal(te2.nnz, te.nnz);
    assert_true(memcmp(te.indices, te2.indices, te.nnz * sizeof *te.indices) != 0);
    rs_csr_destroy(&tr2);
    rs_csr_destroy(&te2);
    rs_csr_destroy(&tr);
    rs_csr_destroy(&te);
    rs_csr_destroy(&m);
    free(ts);
}

static void test_temporal_and_cut(void **state)
{
    (void)state;
    rs_csr m, tr, te;
    int64_t *ts;
    sample(&m, &ts);
    rs_split_opts o = {.kind = RS_SPLIT_TEMPORAL, .test_fraction = 0.3};
    rs_diag d = {{0}};
    assert_int_equal(rs_split(&m, ts, &o, &tr, &te, &d), RS_OK);
    check_partition(&m, &tr, &te);
    /* Times grow with the column: every test item is after every training
     * item of the same user. */
    for (uint32_t u = 0; u < m.n_rows; u++)
        if (te.indptr[u + 1] > te.indptr[u])
            assert_true(te.indices[te.indptr[u]] > tr.indices[tr.indptr[u + 1] - 1]);
    rs_csr_destroy(&tr);
    rs_csr_destroy(&te);

    o = (rs_split_opts){.kind = RS_SPLIT_TIME_CUT, .test_fraction = 0.25, .cut_ms = 1500};
    assert_int_equal(rs_split(&m, ts, &o, &tr, &te, &d), RS_OK);
    check_partition(&m, &tr, &te);
    for (size_t j = 0; j < te.nnz; j++)
        assert_true(te.indices[j] >= 150);
    for (size_t j = 0; j < tr.nnz; j++)
        assert_true(tr.indices[j] < 150);
    rs_csr_destroy(&tr);
    rs_csr_destroy(&te);
    o.cut_ms = 0; /* the cut is picked to hold out about a quarter */
    assert_int_equal(rs_split(&m, ts, &o, &tr, &te, &d), RS_OK);
    assert_true(te.nnz > m.nnz / 5 && te.nnz < m.nnz * 3 / 10);
    rs_csr_destroy(&tr);
    rs_csr_destroy(&te);
    rs_csr_destroy(&m);
    free(ts);
}

static void test_errors(void **state)
{
    (void)state;
    rs_csr m, tr, te;
    int64_t *ts;
    sample(&m, &ts);
    rs_diag d = {{0}};
    rs_split_opts o = {.kind = RS_SPLIT_RANDOM, .test_fraction = 1.0};
    assert_int_equal(rs_split(&m, ts, &o, &tr, &te, &d), RS_EINVAL);
    assert_non_null(strstr(d.msg, "test fraction"));
    o = (rs_split_opts){.kind = RS_SPLIT_TEMPORAL, .test_fraction = 0.2};
    assert_int_equal(rs_split(&m, NULL, &o, &tr, &te, &d), RS_EINVAL);
    assert_non_null(strstr(d.msg, "times"));
    assert_int_equal(rs_split_parse("temporal"), RS_SPLIT_TEMPORAL);
    assert_int_equal(rs_split_parse("time"), RS_SPLIT_TIME_CUT);
    assert_int_equal(rs_split_parse("sideways"), -1);
    assert_string_equal(rs_split_name(RS_SPLIT_RANDOM), "random");
    rs_csr_destroy(&m);
    free(ts);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random),
        cmocka_unit_test(test_temporal_and_cut),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
