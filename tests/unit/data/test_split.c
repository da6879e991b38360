/* Train/test splits: an exact partition of the entries, per-user
 * fractions, seeds, the temporal split holding out the latest, the global
 * time cut, the cold-items and cold-users protocols, and bad options. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdbool.h>
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

/* 40 users x 60 items, every item with at least one entry. */
static void dense_sample(rs_csr *m)
{
    static uint32_t r[3000], c[3000];
    static float v[3000];
    size_t n = 0;
    rs_rng g;
    rs_rng_init(&g, 8);
    for (uint32_t i = 0; i < 60; i++) {
        r[n] = i % 40;
        c[n] = i;
        v[n++] = 1;
        for (uint32_t u = 0; u < 40; u++)
            if (rs_rng_below(&g, 4) == 0) {
                r[n] = u;
                c[n] = i;
                v[n++] = 1;
            }
    }
    assert_int_equal(rs_csr_from_coo(40, 60, r, c, v, NULL, n, RS_AGG_SUM, m), RS_OK);
}

static void test_cold_items(void **state)
{
    (void)state;
    rs_csr m, tr, te, tr2, te2;
    dense_sample(&m);
    rs_split_opts o = {.protocol = RS_PROTOCOL_COLD_ITEMS, .test_fraction = 0.2, .seed = 3};
    rs_diag d = {{0}};
    assert_int_equal(rs_split(&m, NULL, &o, &tr, &te, &d), RS_OK);
    check_partition(&m, &tr, &te);
    /* No test item is anywhere in training, and about a fifth of the items
     * are held out. */
    uint8_t in_train[60] = {0}, in_test[60] = {0};
    for (size_t j = 0; j < tr.nnz; j++)
        in_train[tr.indices[j]] = 1;
    for (size_t j = 0; j < te.nnz; j++)
        in_test[te.indices[j]] = 1;
    size_t cold = 0;
    for (uint32_t i = 0; i < 60; i++) {
        if (in_test[i] && in_train[i])
            fail_msg("item %u is in both parts", i);
        cold += in_test[i];
    }
    assert_true(cold >= 11 && cold <= 13);
    /* Same seed, same split (times make no difference); another seed,
     * other items. */
    int64_t *ts = malloc(m.nnz * sizeof *ts);
    for (size_t j = 0; j < m.nnz; j++)
        ts[j] = (int64_t)j;
    assert_int_equal(rs_split(&m, ts, &o, &tr2, &te2, &d), RS_OK);
    assert_int_equal(te2.nnz, te.nnz);
    assert_memory_equal(te.indptr, te2.indptr, (m.n_rows + 1) * sizeof *te.indptr);
    assert_memory_equal(te.indices, te2.indices, te.nnz * sizeof *te.indices);
    rs_csr_destroy(&tr2);
    rs_csr_destroy(&te2);
    o.seed = 4;
    assert_int_equal(rs_split(&m, NULL, &o, &tr2, &te2, &d), RS_OK);
    check_partition(&m, &tr2, &te2);
    uint8_t in_test2[60] = {0};
    for (size_t j = 0; j < te2.nnz; j++)
        in_test2[te2.indices[j]] = 1;
    assert_true(memcmp(in_test, in_test2, sizeof in_test) != 0);
    rs_csr_destroy(&tr2);
    rs_csr_destroy(&te2);
    rs_csr_destroy(&tr);
    rs_csr_destroy(&te);
    rs_csr_destroy(&m);
    free(ts);
}

/* Cold users with keep entries: every test user has exactly keep in
 * training and the rest in test; users with keep or fewer have no test.
 * With times, the training ones are the user's earliest. */
static void check_cold_users(const rs_csr *m, const int64_t *ts, uint32_t keep,
                             const rs_csr *tr, const rs_csr *te, size_t *n_test_users,
                             size_t *n_eligible)
{
    check_partition(m, tr, te);
    *n_test_users = *n_eligible = 0;
    for (uint32_t u = 0; u < m->n_rows; u++) {
        const uint64_t n = m->indptr[u + 1] - m->indptr[u];
        const uint64_t n_tr = tr->indptr[u + 1] - tr->indptr[u];
        const uint64_t n_te = te->indptr[u + 1] - te->indptr[u];
        *n_eligible += n > keep;
        if (n <= keep) {
            assert_int_equal(n_te, 0);
            continue;
        }
        if (n_te == 0)
            continue;
        ++*n_test_users;
        if (n_tr != keep)
            fail_msg("user %u: %u in training, not %u", u, (unsigned)n_tr, keep);
        if (!ts)
            continue;
        /* Times are aligned with m: find each part's entries in m. */
        int64_t latest_train = INT64_MIN, earliest_test = INT64_MAX;
        for (uint64_t j = m->indptr[u]; j < m->indptr[u + 1]; j++) {
            bool train = false;
            for (uint64_t a = tr->indptr[u]; a < tr->indptr[u + 1]; a++)
                train = train || tr->indices[a] == m->indices[j];
            if (train && ts[j] > latest_train)
                latest_train = ts[j];
            if (!train && ts[j] < earliest_test)
                earliest_test = ts[j];
        }
        if (latest_train > earliest_test)
            fail_msg("user %u: a training entry at %lld after a test one at %lld", u,
                     (long long)latest_train, (long long)earliest_test);
    }
}

static void test_cold_users(void **state)
{
    (void)state;
    rs_csr m, tr, te, tr2, te2;
    int64_t *ts;
    sample(&m, &ts);
    /* Times run against the columns: the earliest are the highest columns,
     * so keeping the first columns instead would fail. */
    for (size_t j = 0; j < m.nnz; j++)
        ts[j] = 100000 - (int64_t)m.indices[j] * 10;
    rs_diag d = {{0}};
    const uint32_t keeps[] = {1, 3, 10};
    for (size_t k = 0; k < sizeof keeps / sizeof keeps[0]; k++) {
        rs_split_opts o = {.protocol = RS_PROTOCOL_COLD_USERS,
                           .test_fraction = 0.5,
                           .seed = 7,
                           .keep = keeps[k]};
        size_t n_test_users, n_eligible;
        assert_int_equal(rs_split(&m, ts, &o, &tr, &te, &d), RS_OK);
        check_cold_users(&m, ts, keeps[k], &tr, &te, &n_test_users, &n_eligible);
        /* A share of the eligible users, not none or all of them. */
        assert_true(n_test_users > 0 && n_test_users < n_eligible);
        assert_true(te.nnz > 0);
        /* Without times: a random keep, the same for the same seed. */
        assert_int_equal(rs_split(&m, NULL, &o, &tr2, &te2, &d), RS_OK);
        check_cold_users(&m, NULL, keeps[k], &tr2, &te2, &n_test_users, &n_eligible);
        assert_true(n_test_users > 0);
        rs_csr_destroy(&tr2);
        rs_csr_destroy(&te2);
        rs_csr tr3, te3;
        assert_int_equal(rs_split(&m, NULL, &o, &tr2, &te2, &d), RS_OK);
        assert_int_equal(rs_split(&m, NULL, &o, &tr3, &te3, &d), RS_OK);
        assert_int_equal(te2.nnz, te3.nnz);
        assert_memory_equal(te2.indptr, te3.indptr, (m.n_rows + 1) * sizeof *te2.indptr);
        assert_memory_equal(te2.indices, te3.indices, te2.nnz * sizeof *te2.indices);
        rs_csr_destroy(&tr3);
        rs_csr_destroy(&te3);
        /* Another seed picks other users or entries. */
        o.seed = 8;
        assert_int_equal(rs_split(&m, NULL, &o, &tr3, &te3, &d), RS_OK);
        assert_true(te3.nnz != te2.nnz ||
                    memcmp(te2.indptr, te3.indptr, (m.n_rows + 1) * sizeof *te2.indptr) != 0 ||
                    memcmp(te2.indices, te3.indices, te2.nnz * sizeof *te2.indices) != 0);
        rs_csr_destroy(&tr3);
        rs_csr_destroy(&te3);
        rs_csr_destroy(&tr2);
        rs_csr_destroy(&te2);
        rs_csr_destroy(&tr);
        rs_csr_destroy(&te);
    }
    rs_csr_destroy(&m);
    free(ts);
}

static void test_cold_errors(void **state)
{
    (void)state;
    rs_csr m, tr, te;
    int64_t *ts;
    sample(&m, &ts);
    rs_diag d = {{0}};
    rs_split_opts o = {.protocol = RS_PROTOCOL_COLD_USERS, .test_fraction = 0.5, .keep = 0};
    memset(&tr, 0xff, sizeof tr);
    assert_int_equal(rs_split(&m, ts, &o, &tr, &te, &d), RS_EINVAL);
    assert_true(d.msg[0] != '\0');
    assert_null(tr.indptr);
    assert_null(te.indptr);
    o.keep = 1;
    o.test_fraction = 0;
    assert_int_equal(rs_split(&m, ts, &o, &tr, &te, &d), RS_EINVAL);
    o = (rs_split_opts){.protocol = RS_PROTOCOL_COLD_ITEMS, .test_fraction = 1.5};
    assert_int_equal(rs_split(&m, NULL, &o, &tr, &te, &d), RS_EINVAL);
    assert_int_equal(rs_protocol_parse("cold-items"), RS_PROTOCOL_COLD_ITEMS);
    assert_int_equal(rs_protocol_parse("cold-users"), RS_PROTOCOL_COLD_USERS);
    assert_int_equal(rs_protocol_parse("normal"), RS_PROTOCOL_NORMAL);
    assert_int_equal(rs_protocol_parse("lukewarm"), -1);
    assert_string_equal(rs_protocol_name(RS_PROTOCOL_COLD_USERS), "cold-users");
    rs_csr_destroy(&m);
    free(ts);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random),
        cmocka_unit_test(test_temporal_and_cut),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_cold_items),
        cmocka_unit_test(test_cold_users),
        cmocka_unit_test(test_cold_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
