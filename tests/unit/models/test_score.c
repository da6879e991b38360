/* The fused scoring of models/score.h against a plain score-then-select,
 * for several factor counts, with and without a filter, for catalogues
 * that are not a multiple of the 16-item block, and for k larger than the
 * catalogue; and the compact index against the fp32 kernel: the same items,
 * bit-identical scores and the filter asked about the same items in the
 * same order, on random data, near-ties, skewed norms and items or queries
 * the index must not quantise. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "../test_util.h"
#include "core/alloc.h"
#include "core/rng.h"
#include "models/score.h"

static int odd_only(void *ctx, uint32_t item)
{
    ++*(int *)ctx;
    return item % 2 == 1;
}

static void check(uint32_t n_items, uint32_t factors, size_t k, bool filtered)
{
    float *Y = rs_xmalloc((size_t)n_items * factors * sizeof *Y);
    float *x = rs_xmalloc(factors * sizeof *x), *scores = rs_xmalloc(n_items * sizeof *scores);
    rs_rng g;
    rs_rng_init(&g, n_items * 31u + factors);
    for (size_t i = 0; i < (size_t)n_items * factors; i++)
        Y[i] = (float)rs_rng_normal(&g);
    for (uint32_t j = 0; j < factors; j++)
        x[j] = (float)rs_rng_normal(&g);
    /* The reference: every score (the same summation order is not
     * guaranteed, so compare scores with a tolerance), filtered by NaN. */
    for (uint32_t i = 0; i < n_items; i++) {
        double s = 0;
        for (uint32_t j = 0; j < factors; j++)
            s += (double)Y[(size_t)i * factors + j] * x[j];
        scores[i] = filtered && i % 2 == 0 ? NAN : (float)s;
    }
    rs_scored *want = rs_xmalloc(k * sizeof *want), *got = rs_xmalloc(k * sizeof *got);
    size_t nw = rs_topk_select(scores, n_items, k, want);
    int calls = 0;
    float *Yt = rs_xmalloc(rs_blocked_floats(n_items, factors) * sizeof *Yt);
    rs_block_factors(Y, n_items, factors, Yt);
    size_t ng = rs_score_topk_blocked(Yt, n_items, factors, x, k, filtered ? odd_only : NULL,
                                      &calls, got);
    assert_int_equal(ng, nw);
    for (size_t j = 0; j < ng; j++) {
        assert_int_equal(got[j].index, want[j].index);
        assert_float_equal(got[j].score, want[j].score, 1e-4);
    }
    if (filtered) /* consulted only for candidates, far fewer than all items */
        assert_true(calls < (int)n_items || n_items <= 64);
    rs_free(Yt);
    rs_free(Y);
    rs_free(x);
    rs_free(scores);
    rs_free(want);
    rs_free(got);
}

static void test_matches_reference(void **state)
{
    (void)state;
    const uint32_t factor_counts[] = {16, 64, 10, 1};
    for (size_t f = 0; f < 4; f++) {
        check(5000, factor_counts[f], 10, false);
        check(5000, factor_counts[f], 10, true);
        check(1003, factor_counts[f], 50, true);  /* a last block of 11 items */
        check(7, factor_counts[f], 20, false);    /* k larger than the catalogue */
    }
    assert_int_equal(rs_score_topk_blocked(NULL, 0, 16, NULL, 0, NULL, NULL, NULL), 0);
}

/* Records which items the filter was asked about, in order. */
typedef struct asked {
    uint32_t items[4096];
    size_t n;
} asked;

static int record_even(void *ctx, uint32_t item)
{
    asked *a = ctx;
    if (a->n < 4096)
        a->items[a->n++] = item;
    return item % 2 == 0;
}

/* rs_score_topk_index against rs_score_topk_blocked on Y (n_items, factors)
 * and query x, filtered and not; returns the items the index rescored. */
static size_t check_index(const float *Y, uint32_t n_items, uint32_t factors, const float *x,
                          size_t k)
{
    float *Yt = rs_xmalloc((rs_blocked_floats(n_items, factors) + 1) * sizeof *Yt);
    rs_block_factors(Y, n_items, factors, Yt);
    rs_item_index *ix = NULL;
    assert_int_equal(rs_item_index_new(Y, Yt, n_items, factors, &ix), RS_OK);
    rs_scored *want = rs_xmalloc(k * sizeof *want), *got = rs_xmalloc(k * sizeof *got);
    asked *aw = rs_xcalloc(1, sizeof *aw), *ag = rs_xcalloc(1, sizeof *ag);
    rs_score_stats st;
    size_t rescored = 0;
    for (int filtered = 0; filtered < 2; filtered++) {
        const rs_item_filter keep = filtered ? record_even : NULL;
        aw->n = ag->n = 0;
        size_t nw = rs_score_topk_blocked(Yt, n_items, factors, x, k, keep, aw, want);
        size_t ng = rs_score_topk_index(ix, x, k, keep, ag, got, &st);
        assert_int_equal(ng, nw);
        for (size_t j = 0; j < ng; j++) {
            assert_int_equal(got[j].index, want[j].index);
            assert_memory_equal(&got[j].score, &want[j].score, sizeof(float));
        }
        assert_int_equal(ag->n, aw->n);
        assert_memory_equal(ag->items, aw->items, aw->n * sizeof aw->items[0]);
        assert_true(st.rescored <= n_items);
        rescored += st.rescored;
    }
    assert_true(!st.compact || rs_item_index_compact(ix)); /* never compact without a copy */
    rs_item_index_free(ix);
    rs_free(Yt);
    rs_free(want);
    rs_free(got);
    rs_free(aw);
    rs_free(ag);
    return rescored / 2;
}

static float *normal(rs_rng *g, size_t n, double scale)
{
    float *v = rs_xmalloc((n ? n : 1) * sizeof *v);
    for (size_t i = 0; i < n; i++)
        v[i] = (float)(rs_rng_normal(g) * scale);
    return v;
}

static void test_index_matches_kernel(void **state)
{
    (void)state;
    rs_rng g;
    rs_rng_init(&g, 7);
    const uint32_t factor_counts[] = {64, 16, 10, 3, 1, 130};
    for (size_t f = 0; f < 6; f++) {
        const uint32_t factors = factor_counts[f];
        for (uint32_t n_items = 1; n_items < 5000; n_items = n_items * 7 + 3) {
            float *Y = normal(&g, (size_t)n_items * factors, 1.0);
            float *x = normal(&g, factors, 0.3);
            check_index(Y, n_items, factors, x, 10);
            check_index(Y, n_items, factors, x, 1);
            check_index(Y, n_items, factors, x, n_items + 5);
            rs_free(Y);
            rs_free(x);
        }
    }
}

/* On random data the compact scan rescores a small share of the items. */
static void test_index_prunes(void **state)
{
    (void)state;
    rs_rng g;
    rs_rng_init(&g, 11);
    const uint32_t n_items = 20000, factors = 64;
    float *Y = normal(&g, (size_t)n_items * factors, 1.0), *x = normal(&g, factors, 1.0);
    float *Yt = rs_xmalloc(rs_blocked_floats(n_items, factors) * sizeof *Yt);
    rs_block_factors(Y, n_items, factors, Yt);
    rs_item_index *ix = NULL;
    assert_int_equal(rs_item_index_new(Y, Yt, n_items, factors, &ix), RS_OK);
    if (!rs_item_index_compact(ix)) {
        rs_item_index_free(ix);
        rs_free(Yt);
        rs_free(Y);
        rs_free(x);
        skip(); /* no AVX-512 VNNI here: the index is the fp32 kernel */
    }
    size_t rescored = check_index(Y, n_items, factors, x, 10);
    assert_true(rescored < n_items / 10);
    rs_item_index_free(ix);
    rs_free(Yt);
    rs_free(Y);
    rs_free(x);
}

/* Ties, near-ties, skewed norms, zero and non-finite items, and queries the
 * compact path refuses (zero, tiny, huge, NaN) all give the kernel's
 * answer. */
static void test_index_hard_cases(void **state)
{
    (void)state;
    rs_rng g;
    rs_rng_init(&g, 13);
    const uint32_t n_items = 3000, factors = 32;
    float *Y = normal(&g, (size_t)n_items * factors, 1.0), *x = normal(&g, factors, 1.0);
    for (uint32_t i = 0; i < n_items; i++) {
        float *y = Y + (size_t)i * factors;
        if (i % 5 == 1) /* an exact copy of the item before */
            memcpy(y, y - factors, factors * sizeof *y);
        if (i % 7 == 2) /* a near-copy, one ulp away in one factor */
            y[0] = nextafterf(y[-(int)factors], INFINITY);
        if (i % 11 == 3) /* norms over six orders of magnitude */
            for (uint32_t f = 0; f < factors; f++)
                y[f] *= (float)pow(10.0, (double)(i % 7) - 3.0);
        if (i % 97 == 4)
            memset(y, 0, factors * sizeof *y);
        if (i == 50)
            y[3] = NAN;
        if (i == 51)
            y[4] = INFINITY;
        if (i == 52)
            y[5] = 0x1p60f;
        if (i == 53)
            for (uint32_t f = 0; f < factors; f++)
                y[f] = 0x1p-60f;
    }
    check_index(Y, n_items, factors, x, 10);
    check_index(Y, n_items, factors, x, 200);
    const float scales[] = {0.0f, 0x1p-55f, 1e-6f, 0x1p55f};
    float *q = rs_xmalloc(factors * sizeof *q);
    for (size_t s = 0; s < 4; s++) {
        for (uint32_t f = 0; f < factors; f++)
            q[f] = x[f] * scales[s];
        check_index(Y, n_items, factors, q, 10);
    }
    memcpy(q, x, factors * sizeof *q);
    q[2] = NAN;
    check_index(Y, n_items, factors, q, 10);
    rs_free(q);
    rs_free(Y);
    rs_free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matches_reference),
        cmocka_unit_test(test_index_matches_kernel),
        cmocka_unit_test(test_index_prunes),
        cmocka_unit_test(test_index_hard_cases),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    if (rc == 0)
        rs_test_cleanup();
    return rc;
}
