/* The fused scoring of models/score.h against a plain score-then-select,
 * for several factor counts, with and without a filter, for catalogues
 * that are not a multiple of the 16-item block, and for k larger than the
 * catalogue. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdbool.h>

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matches_reference),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    if (rc == 0)
        rs_test_cleanup();
    return rc;
}
