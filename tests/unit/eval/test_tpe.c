/* The TPE sampler: the same seed gives the same proposals, proposals stay
 * in bounds and respect the integer and log kinds, pruned and failed
 * trials are handled, bad spaces are refused, and on smooth functions TPE
 * finds better points than random search with the same budget (averaged
 * over seeds, so the comparison is about the method, not one lucky run). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "eval/tpe.h"

static const rs_tpe_dim space[] = {
    {"x", RS_TPE_FLOAT, -2.0, 3.0},
    {"lr", RS_TPE_LOG, 1e-4, 10.0},
    {"n", RS_TPE_INT, 4, 30},
    {"k", RS_TPE_LOG_INT, 16, 256},
};
enum { D = 4 };

static rs_tpe *make(uint64_t seed, uint32_t startup)
{
    rs_tpe_opts o;
    rs_tpe_opts_default(&o);
    o.seed = seed;
    o.n_startup = startup;
    rs_tpe *t;
    rs_diag d = {{0}};
    assert_int_equal(rs_tpe_new(space, D, &o, &t, &d), RS_OK);
    return t;
}

/* Something smooth over the whole space, best near x = 0.5, lr = 0.01,
 * n = 20, k = 64. */
static double objective(const double *x)
{
    const double a = x[0] - 0.5, b = log10(x[1]) + 2, c = (x[2] - 20) / 10, e = log2(x[3] / 64);
    return -(a * a + b * b + c * c + e * e);
}

/* Runs a search of `budget` trials; returns the best score. Every
 * proposal is checked against its dimension's kind and bounds. Every
 * fifth trial is reported as pruned at a low score and every seventh as
 * failed, so both paths are exercised. */
static double search(uint64_t seed, uint32_t startup, int budget, double (*f)(const double *),
                     double *trace)
{
    rs_tpe *t = make(seed, startup);
    double best = -INFINITY;
    for (int i = 0; i < budget; i++) {
        double x[D];
        rs_tpe_suggest(t, x);
        for (int d = 0; d < D; d++) {
            assert_true(x[d] >= space[d].lo && x[d] <= space[d].hi);
            if (space[d].kind == RS_TPE_INT || space[d].kind == RS_TPE_LOG_INT)
                assert_true(x[d] == floor(x[d]));
        }
        if (trace)
            memcpy(trace + (size_t)i * D, x, sizeof x);
        const double y = f(x);
        if (i % 7 == 6) {
            assert_int_equal(rs_tpe_observe(t, x, RS_TRIAL_FAILED, NAN, 0), RS_OK);
        } else if (i % 5 == 4) {
            assert_int_equal(rs_tpe_observe(t, x, RS_TRIAL_PRUNED, y - 1, 2), RS_OK);
        } else {
            assert_int_equal(rs_tpe_observe(t, x, RS_TRIAL_FINISHED, y, 0), RS_OK);
            best = fmax(best, y);
        }
    }
    rs_tpe_free(t);
    return best;
}

static void test_deterministic(void **state)
{
    (void)state;
    double a[40 * D], b[40 * D], c[40 * D];
    search(7, 8, 40, objective, a);
    search(7, 8, 40, objective, b);
    search(8, 8, 40, objective, c);
    assert_memory_equal(a, b, sizeof a);
    assert_true(memcmp(a, c, sizeof a) != 0);
}

/* Log kinds spread over the orders of magnitude at the start: about as
 * many random lr proposals below 0.01 as above 0.1, which a linear draw
 * over [1e-4, 10] would almost never give. */
static void test_kinds(void **state)
{
    (void)state;
    rs_tpe *t = make(3, 1000);
    int below = 0, above = 0, k_low = 0;
    for (int i = 0; i < 600; i++) {
        double x[D];
        rs_tpe_suggest(t, x);
        below += x[1] < 0.01;
        above += x[1] > 0.1;
        k_low += x[3] < 64; /* half the log range of [16, 256] */
    }
    rs_tpe_free(t);
    assert_true(below > 200 && above > 200);
    assert_true(k_low > 220 && k_low < 380);
    /* The integer ends are reachable. */
    t = make(4, 0);
    bool lo = false, hi = false;
    for (int i = 0; i < 400; i++) {
        double x[D];
        rs_tpe_suggest(t, x);
        lo |= x[2] == 4;
        hi |= x[2] == 30;
        assert_int_equal(rs_tpe_observe(t, x, RS_TRIAL_FINISHED, -fabs(x[2] - 17), 0), RS_OK);
    }
    rs_tpe_free(t);
    assert_true(lo && hi);
}

static void test_observe_and_bad_space(void **state)
{
    (void)state;
    rs_tpe *t = make(1, 2);
    const double out[D] = {5, 1, 10, 32}, in[D] = {0, 1, 10, 32};
    assert_int_equal(rs_tpe_observe(t, out, RS_TRIAL_FINISHED, 1, 0), RS_EINVAL);
    assert_int_equal(rs_tpe_observe(t, in, RS_TRIAL_FAILED, 1, 0), RS_OK);
    assert_int_equal(rs_tpe_observe(t, in, RS_TRIAL_FINISHED, NAN, 0), RS_OK);
    assert_int_equal(rs_tpe_count(t), 0);
    assert_int_equal(rs_tpe_observe(t, in, RS_TRIAL_PRUNED, 0.5, 4), RS_OK);
    assert_int_equal(rs_tpe_count(t), 1);
    rs_tpe_free(t);
    rs_tpe_free(NULL);

    rs_tpe_opts o;
    rs_tpe_opts_default(&o);
    rs_diag d = {{0}};
    const rs_tpe_dim bad[][1] = {
        {{"a", RS_TPE_LOG, 0, 1}},      {{"b", RS_TPE_FLOAT, 1, 1}},
        {{"c", RS_TPE_INT, 0.5, 3}},    {{"d", RS_TPE_LOG_INT, 0, 8}},
        {{"e", RS_TPE_FLOAT, 0, NAN}},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(rs_tpe_new(bad[i], 1, &o, &t, &d), RS_EINVAL);
        assert_null(t);
        assert_non_null(strstr(d.msg, bad[i][0].name));
    }
    assert_int_equal(rs_tpe_new(space, 0, &o, &t, &d), RS_EINVAL);
    o.gamma = 0;
    assert_int_equal(rs_tpe_new(space, D, &o, &t, &d), RS_EINVAL);
    assert_string_equal(rs_trial_status_name(RS_TRIAL_PRUNED), "pruned");
}

/* A smooth 2-D function (Branin, negated; its best is about -0.398 at
 * three points) on x in [-5, 10], y in [0, 15]. */
static double branin(const double *x)
{
    const double a = 1, b = 5.1 / (4 * M_PI * M_PI), c = 5 / M_PI, r = 6, s = 10,
                 t = 1 / (8 * M_PI);
    const double u = x[1] - b * x[0] * x[0] + c * x[0] - r;
    return -(a * u * u + s * (1 - t) * cos(x[0]) + s);
}

/* Mean best score over seeds, TPE (8 random, then TPE) against random
 * search (every proposal random) with the same budget. */
static double compare(double (*f)(const double *), const rs_tpe_dim *dims, size_t n_dims,
                      int budget, const char *what)
{
    enum { SEEDS = 12 };
    double mean[2] = {0, 0};
    for (int method = 0; method < 2; method++) {
        for (uint64_t seed = 1; seed <= SEEDS; seed++) {
            rs_tpe_opts o;
            rs_tpe_opts_default(&o);
            o.seed = seed * 1000 + 17;
            o.n_startup = method == 0 ? 8 : (uint32_t)budget;
            rs_tpe *t;
            rs_diag d = {{0}};
            assert_int_equal(rs_tpe_new(dims, n_dims, &o, &t, &d), RS_OK);
            double best = -INFINITY;
            for (int i = 0; i < budget; i++) {
                double x[D];
                rs_tpe_suggest(t, x);
                const double y = f(x);
                best = fmax(best, y);
                assert_int_equal(rs_tpe_observe(t, x, RS_TRIAL_FINISHED, y, 0), RS_OK);
            }
            rs_tpe_free(t);
            mean[method] += best / SEEDS;
        }
    }
    print_message("%s, %d trials: mean best %.4f with TPE, %.4f at random\n", what, budget,
                  mean[0], mean[1]);
    assert_true(mean[0] > mean[1]);
    return mean[1];
}

static void test_beats_random(void **state)
{
    (void)state;
    const rs_tpe_dim box[] = {{"x", RS_TPE_FLOAT, -5, 10}, {"y", RS_TPE_FLOAT, 0, 15}};
    compare(branin, box, 2, 40, "branin");
    const double random = compare(objective, space, D, 40, "4-d bowl");
    /* With a fifth of the trials pruned and a seventh failed, TPE still
     * beats random search that had every trial. */
    double mean = 0;
    for (uint64_t seed = 1; seed <= 12; seed++)
        mean += search(seed, 8, 40, objective, NULL) / 12;
    print_message("4-d bowl with pruned and failed trials: mean best %.4f\n", mean);
    assert_true(mean > random);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_kinds),
        cmocka_unit_test(test_observe_and_bad_space),
        cmocka_unit_test(test_beats_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
