/* Maximal marginal relevance re-ranking of models/rerank.h: lambda 0 keeps
 * the ranking, the best candidate is always picked first, a pool whose
 * head is one category gets more categories in its first k, factor
 * similarity alone also diversifies, the output is a permutation of the
 * pool with scores unchanged, and NULL vectors or missing categories are
 * harmless. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/idmap.h"
#include "core/rng.h"
#include "models/rerank.h"

#define N 30
#define F 3

/* Candidates 0..n-1 with descending scores; the first five are category
 * 0, the others categories 1, 2, ...; vectors random. */
typedef struct pool {
    rs_scored items[N], orig[N];
    uint32_t category[N];
    float vecs[N][F];
    const float *vec[N];
    rs_mmr_input in;
} pool;

static void make_pool(pool *p, size_t n, uint64_t seed)
{
    rs_rng g;
    rs_rng_init(&g, seed);
    for (size_t i = 0; i < n; i++) {
        p->items[i] = (rs_scored){.index = (uint32_t)(100 + 7 * i), .score = 10.0f - (float)i};
        p->category[i] = i < 5 ? 0 : (uint32_t)(i - 4);
        for (int c = 0; c < F; c++)
            p->vecs[i][c] = (float)rs_rng_normal(&g);
        p->vec[i] = p->vecs[i];
    }
    memcpy(p->orig, p->items, n * sizeof *p->items);
    p->in = (rs_mmr_input){
        .pool = p->items, .n = n, .vec = p->vec, .factors = F, .category = p->category};
}

static size_t rerank(pool *p, float lambda, size_t k)
{
    void *scratch = rs_xmalloc(rs_mmr_scratch_bytes(p->in.n) + 1);
    size_t got = rs_mmr_rerank(&p->in, lambda, k, scratch);
    rs_free(scratch);
    assert_int_equal(got, k < p->in.n ? k : p->in.n);
    return got;
}

/* The pool is a permutation of the original: every candidate exactly once,
 * with its own score. */
static void check_permutation(const pool *p)
{
    bool seen[N] = {false};
    for (size_t t = 0; t < p->in.n; t++) {
        size_t o = 0;
        while (o < p->in.n && p->orig[o].index != p->items[t].index)
            o++;
        if (o == p->in.n)
            fail_msg("slot %zu holds %u, not a candidate", t, p->items[t].index);
        if (seen[o])
            fail_msg("candidate %u twice", p->items[t].index);
        seen[o] = true;
        assert_memory_equal(&p->items[t].score, &p->orig[o].score, sizeof(float));
    }
}

/* The position in the original pool of the candidate now at slot t. */
static size_t orig_pos(const pool *p, size_t t)
{
    for (size_t o = 0; o < p->in.n; o++)
        if (p->orig[o].index == p->items[t].index)
            return o;
    fail_msg("slot %zu holds an unknown candidate", t);
    return 0;
}

static size_t distinct_categories(const pool *p, size_t k)
{
    size_t d = 0;
    for (size_t t = 0; t < k; t++) {
        const uint32_t c = p->category[orig_pos(p, t)];
        bool again = false;
        for (size_t s = 0; s < t; s++)
            again = again || p->category[orig_pos(p, s)] == c;
        d += !again;
    }
    return d;
}

static void test_lambda_zero_keeps_order(void **state)
{
    (void)state;
    pool p;
    make_pool(&p, N, 1);
    assert_int_equal(rerank(&p, 0.0f, 10), 10);
    assert_memory_equal(p.items, p.orig, sizeof p.items);
    assert_int_equal(rerank(&p, -0.5f, 10), 10);
    assert_memory_equal(p.items, p.orig, sizeof p.items);
    /* k beyond the pool: the whole pool. */
    assert_int_equal(rerank(&p, 0.0f, 100), N);
    assert_memory_equal(p.items, p.orig, sizeof p.items);
}

static void test_diversifies_categories(void **state)
{
    (void)state;
    pool p;
    make_pool(&p, N, 2);
    p.in.vec = NULL; /* categories alone */
    assert_int_equal(distinct_categories(&p, 5), 1);
    rerank(&p, 1.0f, 5);
    check_permutation(&p);
    assert_int_equal(p.items[0].index, p.orig[0].index);
    assert_true(distinct_categories(&p, 5) > 1);
    assert_int_equal(distinct_categories(&p, 5), 5); /* only the first pick is category 0 */

    /* With the vectors too, and a milder lambda, still more categories. */
    make_pool(&p, N, 3);
    rerank(&p, 0.9f, 5);
    check_permutation(&p);
    assert_true(distinct_categories(&p, 5) > 1);
}

/* No categories: two near-duplicate vectors at the top lose to an
 * orthogonal one further down. */
static void test_diversifies_vectors(void **state)
{
    (void)state;
    pool p;
    make_pool(&p, 4, 4);
    p.in.category = NULL;
    const float dirs[4][F] = {{1, 0, 0}, {0.99f, 0.1f, 0}, {1, 0, 0.05f}, {0, 1, 0}};
    memcpy(p.vecs, dirs, sizeof dirs);
    rerank(&p, 0.7f, 2);
    check_permutation(&p);
    assert_int_equal(p.items[0].index, p.orig[0].index);
    assert_int_equal(p.items[1].index, p.orig[3].index);
    /* Without any similarity information lambda 1 keeps the order. */
    make_pool(&p, N, 5);
    p.in.vec = NULL;
    for (size_t i = 0; i < N; i++)
        p.category[i] = RS_INDEX_NONE;
    rerank(&p, 1.0f, 10);
    assert_memory_equal(p.items, p.orig, sizeof p.items);
}

/* Pairs of one category, categories alone: lambda 1 must account for every
 * pick so far, taking one of each pair; a milder lambda lets a strong
 * enough relevance beat a shared category. */
static void test_tradeoff(void **state)
{
    (void)state;
    pool p;
    make_pool(&p, N, 8);
    p.in.vec = NULL;
    for (size_t i = 0; i < N; i++)
        p.category[i] = (uint32_t)(i / 2);
    rerank(&p, 1.0f, 5);
    check_permutation(&p);
    for (size_t t = 0; t < 5; t++)
        assert_int_equal(p.items[t].index, p.orig[2 * t].index);

    /* The leader and the runner-up share a category (sim 1/2), the others
     * share nothing. rel 1, 0.9, 0 and lambda 0.5: 0.5 x 0.9 - 0.5 x 0.5 >
     * 0, the runner-up stays second; lambda 0.8: 0.2 x 0.9 - 0.8 x 0.5 < 0,
     * the third moves up. rel 1, 0.99, 0.98, 0 and lambda 0.3: 0.7 x 0.99 -
     * 0.3 x 0.5 < 0.7 x 0.98, a small lambda moves the third up too. */
    const struct {
        float lambda, scores[4];
        size_t n, second;
    } cases[] = {
        {0.5f, {1.0f, 0.9f, 0.0f}, 3, 1},
        {0.8f, {1.0f, 0.9f, 0.0f}, 3, 2},
        {0.3f, {1.0f, 0.99f, 0.98f, 0.0f}, 4, 2},
    };
    for (size_t c = 0; c < RS_ARRAY_LEN(cases); c++) {
        make_pool(&p, cases[c].n, 9);
        p.in.vec = NULL;
        for (size_t i = 0; i < cases[c].n; i++) {
            p.items[i].score = p.orig[i].score = cases[c].scores[i];
            p.category[i] = i < 2 ? 0 : (uint32_t)i;
        }
        rerank(&p, cases[c].lambda, 2);
        check_permutation(&p);
        assert_int_equal(p.items[0].index, p.orig[0].index);
        assert_int_equal(p.items[1].index, p.orig[cases[c].second].index);
    }
}

/* Random pools, lambdas and k: the best candidate first, a permutation. */
static void test_random_pools(void **state)
{
    (void)state;
    rs_rng g;
    rs_rng_init(&g, 9);
    for (int round = 0; round < 200; round++) {
        pool p;
        const size_t n = 1 + rs_rng_below(&g, N);
        make_pool(&p, n, 100 + (uint64_t)round);
        /* Random scores, sorted best first; a few NULL vectors and
         * uncategorised candidates. */
        float s[N];
        for (size_t i = 0; i < n; i++)
            s[i] = (float)rs_rng_normal(&g);
        for (size_t i = 0; i < n; i++)
            for (size_t j = i + 1; j < n; j++)
                if (s[j] > s[i]) {
                    const float x = s[i];
                    s[i] = s[j];
                    s[j] = x;
                }
        for (size_t i = 0; i < n; i++) {
            p.items[i].score = s[i];
            p.category[i] = rs_rng_below(&g, 4) == 0 ? RS_INDEX_NONE : rs_rng_below(&g, 3);
            if (rs_rng_below(&g, 3) == 0)
                p.vec[i] = NULL;
            if (rs_rng_below(&g, 5) == 0)
                memset(p.vecs[i], 0, sizeof p.vecs[i]); /* a zero vector */
        }
        memcpy(p.orig, p.items, n * sizeof *p.items);
        const float lambdas[] = {0.5f, 0.25f, 0.9f, 1.0f};
        const float lambda = lambdas[round % 4];
        const size_t k = 1 + rs_rng_below(&g, N + 5);
        rerank(&p, lambda, k);
        check_permutation(&p);
        assert_int_equal(p.items[0].index, p.orig[0].index);
    }
}

static void test_small_pools(void **state)
{
    (void)state;
    pool p;
    make_pool(&p, 1, 6);
    assert_int_equal(rerank(&p, 0.5f, 5), 1);
    assert_int_equal(p.items[0].index, p.orig[0].index);
    make_pool(&p, 2, 7);
    p.category[1] = 0;
    assert_int_equal(rerank(&p, 0.5f, 1), 1);
    check_permutation(&p);
    assert_int_equal(p.items[0].index, p.orig[0].index);
    rs_mmr_input empty = {0};
    assert_int_equal(rs_mmr_rerank(&empty, 0.5f, 5, NULL), 0);
    assert_int_equal(rs_mmr_pool(10), 50);
    assert_int_equal(rs_mmr_pool(20), 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lambda_zero_keeps_order),
        cmocka_unit_test(test_diversifies_categories),
        cmocka_unit_test(test_diversifies_vectors),
        cmocka_unit_test(test_tradeoff),
        cmocka_unit_test(test_random_pools),
        cmocka_unit_test(test_small_pools),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
