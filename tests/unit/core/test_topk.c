/* Top-k selection of core/topk.h against a naive full sort: random arrays
 * of many sizes with n < k, n == k, n > k and k = 1, heavy ties (broken by
 * the lower index, also when candidates arrive in shuffled order), NaN
 * never selected, -INFINITY and +INFINITY handled, and the threshold while
 * filling and when full. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/common.h"
#include "core/topk.h"

#define MAX_N 1100

/* A small local generator (xorshift64*), independent of core/rng. */
static uint64_t seed_state = 88172645463325252u;

static uint32_t rnd(void)
{
    seed_state ^= seed_state >> 12;
    seed_state ^= seed_state << 25;
    seed_state ^= seed_state >> 27;
    return (uint32_t)((seed_state * UINT64_C(2685821657736338717)) >> 32);
}

static int cmp_ref(const void *a, const void *b)
{
    const rs_scored *x = a, *y = b;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* The naive reference: sort every non-NaN (index, score) best first and
 * keep the first k. Returns the count. */
static size_t naive_topk(const float *scores, size_t n, size_t k, rs_scored *out)
{
    static rs_scored all[MAX_N];
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(scores[i]))
            all[m++] = (rs_scored){(uint32_t)i, scores[i]};
    qsort(all, m, sizeof *all, cmp_ref);
    size_t c = RS_MIN(m, k);
    memcpy(out, all, c * sizeof *out);
    return c;
}

/* Scores of one of several kinds: spread floats, a few distinct values
 * (many ties), or a mix with NaN and infinities. */
static void fill(float *s, size_t n, int kind)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t r = rnd();
        switch (kind) {
        case 0: s[i] = (float)(r % 1000000) / 1000.0f - 500.0f; break;
        case 1: s[i] = (float)(r % 4); break;
        default:
            switch (r % 8) {
            case 0: s[i] = NAN; break;
            case 1: s[i] = -INFINITY; break;
            case 2: s[i] = INFINITY; break;
            case 3: s[i] = 0.0f; break;
            case 4: s[i] = -0.0f; break;
            default: s[i] = (float)((r >> 8) % 5) - 2.0f; break;
            }
        }
    }
}

static void assert_same(const rs_scored *got, size_t n_got, const rs_scored *want,
                        size_t n_want, size_t n, size_t k)
{
    if (n_got != n_want)
        fail_msg("n=%zu k=%zu: count %zu, want %zu", n, k, n_got, n_want);
    for (size_t i = 0; i < n_got; i++) {
        /* Compare scores as equal floats (so that 0 and -0 match), and
         * indices exactly. */
        if (got[i].index != want[i].index || !(got[i].score == want[i].score))
            fail_msg("n=%zu k=%zu: rank %zu is (%u, %g), want (%u, %g)", n, k, i,
                     got[i].index, (double)got[i].score, want[i].index,
                     (double)want[i].score);
    }
}

static void test_against_naive(void **state)
{
    (void)state;
    static const size_t sizes[] = {0, 1, 2, 3, 4, 7, 16, 17, 31, 64, 100, 257, 1000};
    float scores[MAX_N];
    rs_scored got[MAX_N], want[MAX_N];
    for (size_t si = 0; si < RS_ARRAY_LEN(sizes); si++) {
        size_t n = sizes[si];
        size_t ks[] = {1, 2, 3, 10, 17, n > 1 ? n - 1 : 1, n ? n : 1, n + 1, n + 50};
        for (int kind = 0; kind < 3; kind++) {
            for (int rep = 0; rep < 4; rep++) {
                fill(scores, n, kind);
                for (size_t ki = 0; ki < RS_ARRAY_LEN(ks); ki++) {
                    size_t k = ks[ki];
                    if (k > MAX_N)
                        continue;
                    memset(got, 0xee, sizeof got);
                    size_t c = rs_topk_select(scores, n, k, got);
                    size_t cw = naive_topk(scores, n, k, want);
                    assert_same(got, c, want, cw, n, k);
                }
            }
        }
    }
}

/* Candidates pushed in shuffled order: a tie with a lower index arriving
 * after the heap is full must still displace the higher index. */
static void test_shuffled_pushes(void **state)
{
    (void)state;
    float scores[MAX_N];
    uint32_t order[MAX_N];
    rs_scored heap[64], want[MAX_N];
    for (int rep = 0; rep < 200; rep++) {
        size_t n = 1 + rnd() % 300;
        size_t k = 1 + rnd() % 40;
        fill(scores, n, rep % 3);
        for (size_t i = 0; i < n; i++)
            order[i] = (uint32_t)i;
        for (size_t i = n; i > 1; i--) {
            size_t j = rnd() % i;
            uint32_t t = order[i - 1];
            order[i - 1] = order[j];
            order[j] = t;
        }
        rs_topk t;
        rs_topk_init(&t, heap, k);
        for (size_t i = 0; i < n; i++)
            rs_topk_push(&t, order[i], scores[order[i]]);
        size_t c = rs_topk_finish(&t);
        size_t cw = naive_topk(scores, n, k, want);
        assert_same(heap, c, want, cw, n, k);
    }
}

static void test_ties_lower_index(void **state)
{
    (void)state;
    float s[] = {1, 1, 1, 1, 1};
    rs_scored out[5];
    assert_int_equal(rs_topk_select(s, 5, 3, out), 3);
    for (uint32_t i = 0; i < 3; i++) {
        assert_int_equal(out[i].index, i);
        assert_true(out[i].score == 1.0f);
    }
    /* Pushed from the highest index down, the lowest ones still win. */
    rs_topk t;
    rs_topk_init(&t, out, 2);
    for (int i = 4; i >= 0; i--)
        rs_topk_push(&t, (uint32_t)i, 1.0f);
    assert_int_equal(rs_topk_finish(&t), 2);
    assert_int_equal(out[0].index, 0);
    assert_int_equal(out[1].index, 1);
}

static void test_nan(void **state)
{
    (void)state;
    float all_nan[4] = {NAN, NAN, NAN, NAN};
    rs_scored out[4];
    assert_int_equal(rs_topk_select(all_nan, 4, 2, out), 0);
    assert_int_equal(rs_topk_select(all_nan, 4, 10, out), 0);

    float mixed[] = {NAN, 2, NAN, 1, NAN};
    assert_int_equal(rs_topk_select(mixed, 5, 4, out), 2);
    assert_int_equal(out[0].index, 1);
    assert_int_equal(out[1].index, 3);

    /* NaN offered to a full heap, and to a heap being filled. */
    rs_topk t;
    rs_topk_init(&t, out, 2);
    rs_topk_push(&t, 0, NAN);
    assert_int_equal(t.n, 0);
    rs_topk_push(&t, 1, -INFINITY);
    rs_topk_push(&t, 2, NAN);
    rs_topk_push(&t, 3, -INFINITY);
    rs_topk_push(&t, 4, NAN);
    assert_int_equal(rs_topk_finish(&t), 2);
    assert_int_equal(out[0].index, 1);
    assert_int_equal(out[1].index, 3);
    assert_true(isinf(out[0].score) && out[0].score < 0);
}

static void test_infinities(void **state)
{
    (void)state;
    float s[] = {-INFINITY, -INFINITY, 0.0f, INFINITY, -INFINITY, INFINITY};
    rs_scored out[6];
    assert_int_equal(rs_topk_select(s, 6, 6, out), 6);
    const uint32_t want[] = {3, 5, 2, 0, 1, 4};
    for (size_t i = 0; i < 6; i++)
        assert_int_equal(out[i].index, want[i]);

    float neg[] = {-INFINITY, -INFINITY, -INFINITY};
    assert_int_equal(rs_topk_select(neg, 3, 2, out), 2);
    assert_int_equal(out[0].index, 0);
    assert_int_equal(out[1].index, 1);
    assert_true(out[1].score == -INFINITY);
    /* Finite values beat -INFINITY even when they come later. */
    float late[] = {-INFINITY, -INFINITY, -1e30f};
    assert_int_equal(rs_topk_select(late, 3, 1, out), 1);
    assert_int_equal(out[0].index, 2);
}

static void test_threshold(void **state)
{
    (void)state;
    rs_scored heap[3];
    rs_topk t;
    rs_topk_init(&t, heap, 3);
    assert_true(rs_topk_threshold(&t) == -INFINITY);
    rs_topk_push(&t, 0, 5.0f);
    rs_topk_push(&t, 1, 2.0f);
    assert_true(rs_topk_threshold(&t) == -INFINITY); /* not full yet */
    rs_topk_push(&t, 2, 7.0f);
    assert_true(rs_topk_threshold(&t) == 2.0f);
    rs_topk_push(&t, 3, 1.0f); /* below: does not enter */
    assert_true(rs_topk_threshold(&t) == 2.0f);
    rs_topk_push(&t, 4, 2.0f); /* equal score, higher index: does not enter */
    assert_true(rs_topk_threshold(&t) == 2.0f);
    rs_topk_push(&t, 5, 6.0f);
    assert_true(rs_topk_threshold(&t) == 5.0f);
    assert_int_equal(rs_topk_finish(&t), 3);
    assert_int_equal(heap[0].index, 2);
    assert_int_equal(heap[1].index, 5);
    assert_int_equal(heap[2].index, 0);

    /* The threshold always equals the k-th best of what was pushed. */
    float s[200];
    rs_scored big[20], want[20];
    for (int rep = 0; rep < 4; rep++) {
        fill(s, 200, rep % 2);
        rs_topk_init(&t, big, 20);
        for (size_t i = 0; i < 200; i++) {
            rs_topk_push(&t, (uint32_t)i, s[i]);
            size_t c = naive_topk(s, i + 1, 20, want);
            if (c < 20)
                assert_true(rs_topk_threshold(&t) == -INFINITY);
            else
                assert_true(rs_topk_threshold(&t) == want[19].score);
        }
    }
}

static void test_k1(void **state)
{
    (void)state;
    float s[1000];
    rs_scored out[1];
    for (int rep = 0; rep < 50; rep++) {
        fill(s, 1000, rep % 3);
        size_t best = SIZE_MAX;
        for (size_t i = 0; i < 1000; i++)
            if (!isnan(s[i]) && (best == SIZE_MAX || s[i] > s[best]))
                best = i;
        size_t c = rs_topk_select(s, 1000, 1, out);
        if (best == SIZE_MAX) {
            assert_int_equal(c, 0);
        } else {
            assert_int_equal(c, 1);
            assert_int_equal(out[0].index, best);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_against_naive),
        cmocka_unit_test(test_shuffled_pushes),
        cmocka_unit_test(test_ties_lower_index),
        cmocka_unit_test(test_nan),
        cmocka_unit_test(test_infinities),
        cmocka_unit_test(test_threshold),
        cmocka_unit_test(test_k1),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
