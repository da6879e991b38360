/* The generator of core/rng.h: the first outputs for seed 42 (and 0) are
 * pinned so the sequence can never change silently, and the whole stream
 * is checked against an independent splitmix64 + xoshiro256** reference
 * (itself anchored on published splitmix64 test values); determinism per
 * seed and stream; rs_rng_below range and uniformity (chi-square, loose
 * bounds); uniform doubles in [0, 1); normal mean and variance; shuffles
 * are permutations with uniform orderings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/common.h"
#include "core/rng.h"

/* --- reference ------------------------------------------------------------
 * Written from the published algorithms (Vigna, splitmix64.c and
 * xoshiro256starstar.c), not from core/rng.c. */

typedef struct ref_rng {
    uint64_t s[4];
} ref_rng;

static uint64_t ref_splitmix_next(uint64_t *state)
{
    *state += 0x9e3779b97f4a7c15u;
    uint64_t z = *state;
    z ^= z >> 30;
    z *= 0xbf58476d1ce4e5b9u;
    z ^= z >> 27;
    z *= 0x94d049bb133111ebu;
    z ^= z >> 31;
    return z;
}

static void ref_seed(ref_rng *r, uint64_t seed)
{
    uint64_t st = seed;
    for (int i = 0; i < 4; i++)
        r->s[i] = ref_splitmix_next(&st);
}

static uint64_t ref_rotl(uint64_t x, unsigned k)
{
    return (x << k) | (x >> (64u - k));
}

static uint64_t ref_next(ref_rng *r)
{
    uint64_t s0 = r->s[0], s1 = r->s[1], s2 = r->s[2], s3 = r->s[3];
    uint64_t out = ref_rotl(s1 * 5u, 7) * 9u;
    uint64_t t = s1 << 17;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = ref_rotl(s3, 45);
    r->s[0] = s0, r->s[1] = s1, r->s[2] = s2, r->s[3] = s3;
    return out;
}

/* The reference splitmix64 reproduces published test values (seed 1234567,
 * as listed with the algorithm on Rosetta Code; 0 gives 0xe220a8397b1dcdaf). */
static void test_reference_anchor(void **state)
{
    (void)state;
    static const uint64_t want[] = {6457827717110365317u, 3203168211198807973u,
                                    9817491932198370423u, 4593380528125082431u,
                                    16408922859458223821u};
    uint64_t st = 1234567;
    for (size_t i = 0; i < RS_ARRAY_LEN(want); i++)
        assert_int_equal(ref_splitmix_next(&st), want[i]);
    st = 0;
    assert_int_equal(ref_splitmix_next(&st), 0xe220a8397b1dcdafu);
}

static void test_pinned_seed_42(void **state)
{
    (void)state;
    rs_rng r;
    rs_rng_init(&r, 42);
    assert_int_equal(rs_rng_u64(&r), 0x15780b2e0c2ec716u);
    assert_int_equal(rs_rng_u64(&r), 0x6104d9866d113a7eu);
    assert_int_equal(rs_rng_u64(&r), 0xae17533239e499a1u);
    /* Seed 0 is a good seed too (splitmix64 spreads it). */
    rs_rng_init(&r, 0);
    assert_int_equal(rs_rng_u64(&r), 0x99ec5f36cb75f2b4u);
    assert_int_equal(rs_rng_u64(&r), 0xbf6e1f784956452au);
    assert_int_equal(rs_rng_u64(&r), 0x1a5f849d4933e6e0u);
}

static void test_matches_reference(void **state)
{
    (void)state;
    static const uint64_t seeds[] = {0, 1, 42, 0xdeadbeef, UINT64_MAX};
    for (size_t i = 0; i < RS_ARRAY_LEN(seeds); i++) {
        rs_rng r;
        ref_rng q;
        rs_rng_init(&r, seeds[i]);
        ref_seed(&q, seeds[i]);
        assert_memory_equal(r.s, q.s, sizeof q.s);
        for (int k = 0; k < 10000; k++)
            assert_int_equal(rs_rng_u64(&r), ref_next(&q));
    }
}

/* --- determinism and streams --------------------------------------------- */

static void test_determinism(void **state)
{
    (void)state;
    rs_rng a, b;
    rs_rng_init(&a, 123);
    rs_rng_init(&b, 123);
    for (int i = 0; i < 1000; i++) {
        assert_int_equal(rs_rng_u64(&a), rs_rng_u64(&b));
        assert_int_equal(rs_rng_below(&a, 1000), rs_rng_below(&b, 1000));
        assert_true(rs_rng_uniform(&a) == rs_rng_uniform(&b));
        assert_true(rs_rng_normal(&a) == rs_rng_normal(&b));
    }
    rs_rng_init_stream(&a, 7, 3);
    rs_rng_init_stream(&b, 7, 3);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(rs_rng_u64(&a), rs_rng_u64(&b));
}

static void test_seeds_and_streams_differ(void **state)
{
    (void)state;
    /* First outputs of 64 seeds and 64 streams of one seed: all distinct. */
    uint64_t firsts[64 + 64 + 1];
    size_t n = 0;
    for (uint64_t s = 0; s < 64; s++) {
        rs_rng r;
        rs_rng_init(&r, s);
        firsts[n++] = rs_rng_u64(&r);
    }
    for (uint64_t st = 0; st < 64; st++) {
        rs_rng r;
        rs_rng_init_stream(&r, 42, st);
        firsts[n++] = rs_rng_u64(&r);
    }
    rs_rng r;
    rs_rng_init_stream(&r, 43, 0);
    firsts[n++] = rs_rng_u64(&r);
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            assert_int_not_equal(firsts[i], firsts[j]);

    /* Two streams of a seed share no output in their first 1000 values
     * (a lagged overlap would show up here). */
    rs_rng a, b;
    rs_rng_init_stream(&a, 5, 1);
    rs_rng_init_stream(&b, 5, 2);
    static uint64_t va[1000], vb[1000];
    for (int i = 0; i < 1000; i++) {
        va[i] = rs_rng_u64(&a);
        vb[i] = rs_rng_u64(&b);
    }
    for (int i = 0; i < 1000; i++)
        for (int j = 0; j < 1000; j++)
            assert_int_not_equal(va[i], vb[j]);
}

/* --- distributions ------------------------------------------------------ */

static double chi_square(const uint32_t *counts, size_t n, double expected)
{
    double x2 = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)counts[i] - expected;
        x2 += d * d / expected;
    }
    return x2;
}

static void test_below_uniform(void **state)
{
    (void)state;
    rs_rng r;
    rs_rng_init(&r, 2024);
    /* n = 10, 100k draws: 9 degrees of freedom; p < 1e-6 beyond ~44.6. */
    uint32_t counts[10] = {0};
    for (int i = 0; i < 100000; i++) {
        uint32_t v = rs_rng_below(&r, 10);
        assert_true(v < 10);
        counts[v]++;
    }
    double x2 = chi_square(counts, 10, 10000.0);
    if (x2 > 50.0)
        fail_msg("chi-square %.2f for n = 10", x2);

    /* n = 7 (not a power of two), 70k draws: 6 degrees of freedom. */
    uint32_t c7[7] = {0};
    for (int i = 0; i < 70000; i++)
        c7[rs_rng_below(&r, 7)]++;
    x2 = chi_square(c7, 7, 10000.0);
    if (x2 > 45.0)
        fail_msg("chi-square %.2f for n = 7", x2);
}

/* Lemire's nearly divisionless method ("Fast random integer generation in
 * an interval", 2019, algorithm 5) over the reference stream, with a count
 * of rejected draws. */
static uint32_t ref_below(ref_rng *q, uint32_t n, int *rejected)
{
    uint64_t m = (uint64_t)(uint32_t)(ref_next(q) >> 32) * n;
    uint32_t l = (uint32_t)m;
    if (l < n) {
        uint32_t t = (uint32_t)(-n) % n;
        while (l < t) {
            (*rejected)++;
            m = (uint64_t)(uint32_t)(ref_next(q) >> 32) * n;
            l = (uint32_t)m;
        }
    }
    return (uint32_t)(m >> 32);
}

/* rs_rng_below gives exactly the reference values, including draws where
 * the rejection step runs (which is what removes the modulo bias). */
static void test_below_matches_reference(void **state)
{
    (void)state;
    static const uint32_t ns[] = {1, 2, 3, 7, 10, 1000, (1u << 31) + 1, 3u << 30, UINT32_MAX};
    int rejected = 0;
    for (size_t i = 0; i < RS_ARRAY_LEN(ns); i++) {
        rs_rng r;
        ref_rng q;
        rs_rng_init(&r, 1000 + i);
        ref_seed(&q, 1000 + i);
        for (int k = 0; k < 5000; k++)
            assert_int_equal(rs_rng_below(&r, ns[i]), ref_below(&q, ns[i], &rejected));
        /* Both consumed the same number of words. */
        assert_int_equal(rs_rng_u64(&r), ref_next(&q));
    }
    assert_true(rejected > 1000);
}

static void test_below_edges(void **state)
{
    (void)state;
    rs_rng r;
    rs_rng_init(&r, 99);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(rs_rng_below(&r, 1), 0);

    uint32_t c2[2] = {0};
    for (int i = 0; i < 20000; i++) {
        uint32_t v = rs_rng_below(&r, 2);
        assert_true(v < 2);
        c2[v]++;
    }
    assert_true(c2[0] > 9500 && c2[1] > 9500);

    /* The largest n: values stay below it and cover the whole range
     * (both halves, and the top quarter). */
    const uint32_t big = UINT32_MAX;
    int high = 0, top = 0;
    double sum = 0;
    for (int i = 0; i < 100000; i++) {
        uint32_t v = rs_rng_below(&r, big);
        assert_true(v < big);
        high += v >= (1u << 31);
        top += v >= 3u * (1u << 30);
        sum += (double)v / big;
    }
    assert_true(high > 49000 && high < 51000);
    assert_true(top > 24000 && top < 26000);
    assert_true(fabs(sum / 100000 - 0.5) < 0.01);

    /* n = 3 * 2^30: the rejection zone is a quarter of 2^32. A third of the
     * values must land at or above 2^31. */
    const uint32_t n3 = 3u << 30;
    int upper = 0;
    for (int i = 0; i < 90000; i++) {
        uint32_t v = rs_rng_below(&r, n3);
        assert_true(v < n3);
        upper += v >= (1u << 31);
    }
    assert_true(upper > 29000 && upper < 31000);
}

static void test_uniform(void **state)
{
    (void)state;
    rs_rng r;
    rs_rng_init(&r, 7);
    double sum = 0, sum2 = 0;
    double lo = 1, hi = 0;
    const int n = 100000;
    int below_tenth = 0;
    for (int i = 0; i < n; i++) {
        double u = rs_rng_uniform(&r);
        assert_true(u >= 0.0 && u < 1.0);
        /* 53 random bits: u * 2^53 is a whole number. */
        double scaled = u * 0x1.0p53;
        assert_true(scaled == floor(scaled));
        sum += u;
        sum2 += u * u;
        lo = u < lo ? u : lo;
        hi = u > hi ? u : hi;
        below_tenth += u < 0.1;
    }
    double mean = sum / n, var = sum2 / n - mean * mean;
    assert_true(fabs(mean - 0.5) < 0.01);
    assert_true(fabs(var - 1.0 / 12.0) < 0.005);
    assert_true(lo < 0.001 && hi > 0.999);
    assert_true(below_tenth > 9500 && below_tenth < 10500);

    /* The value is the top 53 bits of the next word times 2^-53. */
    rs_rng fake;
    ref_rng q;
    ref_seed(&q, 11);
    memcpy(fake.s, q.s, sizeof q.s);
    uint64_t w = ref_next(&q);
    assert_true(rs_rng_uniform(&fake) == (double)(w >> 11) / 9007199254740992.0);
}

static void test_normal(void **state)
{
    (void)state;
    rs_rng r;
    rs_rng_init(&r, 31337);
    const int n = 100000;
    double sum = 0, sum2 = 0;
    int within1 = 0, within2 = 0;
    for (int i = 0; i < n; i++) {
        double x = rs_rng_normal(&r);
        assert_true(isfinite(x));
        sum += x;
        sum2 += x * x;
        within1 += fabs(x) < 1.0;
        within2 += fabs(x) < 2.0;
    }
    double mean = sum / n, var = sum2 / n - mean * mean;
    assert_true(fabs(mean) < 0.02);
    assert_true(fabs(var - 1.0) < 0.03);
    /* 68.27% and 95.45% of the mass. */
    assert_true(fabs((double)within1 / n - 0.6827) < 0.01);
    assert_true(fabs((double)within2 / n - 0.9545) < 0.006);
}

/* --- shuffle --------------------------------------------------------------- */

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static void test_shuffle_permutation(void **state)
{
    (void)state;
    rs_rng r;
    rs_rng_init(&r, 5);
    static uint32_t a[1000], b[1000];
    for (uint32_t i = 0; i < 1000; i++)
        a[i] = i * 3 + 1;
    memcpy(b, a, sizeof a);
    rs_rng_shuffle_u32(&r, a, 1000);
    size_t moved = 0;
    for (size_t i = 0; i < 1000; i++)
        moved += a[i] != b[i];
    assert_true(moved > 900);
    qsort(a, 1000, sizeof *a, cmp_u32);
    assert_memory_equal(a, b, sizeof a);

    /* n = 0 and n = 1 leave the array alone. */
    uint32_t one[2] = {17, 99};
    rs_rng_shuffle_u32(&r, one, 0);
    rs_rng_shuffle_u32(&r, one, 1);
    assert_int_equal(one[0], 17);
    assert_int_equal(one[1], 99);

    /* Every ordering of three elements appears about a sixth of the time. */
    uint32_t counts[6] = {0};
    for (int t = 0; t < 60000; t++) {
        uint32_t p[3] = {0, 1, 2};
        rs_rng_shuffle_u32(&r, p, 3);
        assert_int_equal(p[0] + p[1] + p[2], 3);
        assert_true(p[0] != p[1] && p[1] != p[2] && p[0] != p[2]);
        counts[p[0] * 2 + (p[1] > p[2])]++;
    }
    double x2 = chi_square(counts, 6, 10000.0);
    if (x2 > 40.0)
        fail_msg("chi-square %.2f over the orderings of three", x2);
}

/* Gamma(shape, 1) has mean shape and variance shape, for shapes above and
 * below 1; the same seed gives the same draws. */
static void test_gamma(void **state)
{
    (void)state;
    const double shapes[] = {0.3, 1.0, 2.5, 40.0};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        rs_rng r, again;
        rs_rng_init(&r, 7 + s);
        rs_rng_init(&again, 7 + s);
        const int n = 100000;
        double sum = 0, sum2 = 0;
        for (int i = 0; i < n; i++) {
            double x = rs_rng_gamma(&r, shapes[s]);
            assert_true(x >= 0 && isfinite(x));
            assert_true(x == rs_rng_gamma(&again, shapes[s]));
            sum += x;
            sum2 += x * x;
        }
        double mean = sum / n, var = sum2 / n - mean * mean;
        assert_true(fabs(mean / shapes[s] - 1.0) < 0.02);
        assert_true(fabs(var / shapes[s] - 1.0) < 0.05);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_anchor),
        cmocka_unit_test(test_pinned_seed_42),
        cmocka_unit_test(test_matches_reference),
        cmocka_unit_test(test_determinism),
        cmocka_unit_test(test_seeds_and_streams_differ),
        cmocka_unit_test(test_below_uniform),
        cmocka_unit_test(test_below_matches_reference),
        cmocka_unit_test(test_below_edges),
        cmocka_unit_test(test_uniform),
        cmocka_unit_test(test_normal),
        cmocka_unit_test(test_gamma),
        cmocka_unit_test(test_shuffle_permutation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
