/* The metric definitions of docs/metrics.md, checked on its worked example
 * and on edge cases, and the evaluation loop on a hand-made split with a
 * fixed-order recommender whose every metric is known. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <omp.h>
#include <string.h>

#include "core/idmap.h"
#include "eval/evaluate.h"
#include "eval/experiment.h"
#include "eval/metrics.h"

#define EPS 1e-6

static void test_worked_example(void **state)
{
    (void)state;
    const uint32_t list[] = {7, 3, 9, 1, 4}, test[] = {1, 3, 8};
    rs_user_metrics m;
    rs_metrics_user(list, 5, 5, test, 3, &m);
    assert_float_equal(m.precision, 0.4, EPS);
    assert_float_equal(m.recall, 2.0 / 3.0, EPS);
    assert_float_equal(m.ndcg, 0.498189, 1e-6);
    assert_float_equal(m.ap, 1.0 / 3.0, EPS);
    assert_float_equal(m.hit, 1.0, EPS);

    uint32_t cat[10] = {0};
    cat[7] = 0, cat[3] = 0, cat[9] = 1, cat[1] = 2, cat[4] = 1;
    assert_float_equal(rs_metrics_diversity(list, 5, cat), 0.8, EPS);
    uint32_t users_with[10] = {0};
    users_with[7] = 9, users_with[3] = 4, users_with[9] = 1, users_with[1] = 0, users_with[4] = 2;
    assert_float_equal(rs_metrics_novelty(list, 5, users_with, 9), 1.676164, 1e-6);

    const float pred[] = {3, 4, 5}, truth[] = {4, 4, 3};
    double rmse, mae;
    rs_metrics_errors(pred, truth, 3, &rmse, &mae);
    assert_float_equal(rmse, sqrt(5.0 / 3.0), EPS);
    assert_float_equal(mae, 1.0, EPS);
    rs_metrics_errors(pred, truth, 0, &rmse, &mae);
    assert_true(isnan(rmse) && isnan(mae));
}

static void test_edges(void **state)
{
    (void)state;
    rs_user_metrics m;
    const uint32_t none[] = {10, 11}, test[] = {1, 2, 3, 4, 5, 6};
    rs_metrics_user(none, 2, 10, test, 6, &m);
    assert_true(m.precision == 0 && m.recall == 0 && m.ndcg == 0 && m.ap == 0 && m.hit == 0);

    /* |T| > k: the ideal DCG and AP use min(k, |T|) = 2; a perfect list
     * scores 1 even though it cannot reach every test item. */
    const uint32_t perfect[] = {4, 2};
    rs_metrics_user(perfect, 2, 2, test, 6, &m);
    assert_float_equal(m.ndcg, 1.0, EPS);
    assert_float_equal(m.ap, 1.0, EPS);
    assert_float_equal(m.recall, 2.0 / 6.0, EPS);

    /* Fewer than k items: precision still divides by k. */
    const uint32_t one[] = {3};
    rs_metrics_user(one, 1, 10, test, 6, &m);
    assert_float_equal(m.precision, 0.1, EPS);
    assert_float_equal(m.ndcg, 1.0 / (1 + 1 / log2(3) + 0.5 + 1 / log2(5) + 1 / log2(6) + 1 / log2(7)),
                       EPS);
    /* A hit at position 1 of 1 with a single test item is perfect. */
    const uint32_t t1[] = {3};
    rs_metrics_user(one, 1, 10, t1, 1, &m);
    assert_float_equal(m.ndcg, 1.0, EPS);
    assert_float_equal(m.ap, 1.0, EPS);
    assert_float_equal(rs_metrics_diversity(one, 1, t1), 0.0, EPS);
    assert_float_equal(rs_metrics_novelty(one, 0, t1, 3), 0.0, EPS);
}

/* Recommends items in ascending index order, skipping the excluded. */
static rs_err in_order(const void *model, uint32_t user, const uint32_t *exclude,
                       size_t n_exclude, size_t k, rs_scored *out, size_t *n, void *scratch)
{
    const uint32_t *n_items = model;
    (void)user;
    (void)scratch;
    size_t e = 0, w = 0;
    for (uint32_t i = 0; i < *n_items && w < k; i++) {
        while (e < n_exclude && exclude[e] < i)
            e++;
        if (e < n_exclude && exclude[e] == i)
            continue;
        out[w++] = (rs_scored){i, (float)(*n_items - i)};
    }
    *n = w;
    return RS_OK;
}

static rs_err failing(const void *model, uint32_t user, const uint32_t *exclude,
                      size_t n_exclude, size_t k, rs_scored *out, size_t *n, void *scratch)
{
    (void)model, (void)exclude, (void)n_exclude, (void)k, (void)out, (void)scratch;
    *n = 0;
    return user == 2 ? RS_ENOMEM : RS_OK;
}

static void csr(uint32_t nu, uint32_t ni, const uint32_t *r, const uint32_t *c, size_t n,
                rs_csr *m)
{
    float v[16];
    for (size_t i = 0; i < n; i++)
        v[i] = 1;
    assert_int_equal(rs_csr_from_coo(nu, ni, r, c, v, NULL, n, RS_AGG_SUM, m), RS_OK);
}

/* 4 users, 6 items, k = 2. The recommender lists the two lowest items
 * not in training:
 *   u0 train {0}    -> (1, 2), test {2}    : P 1/2, R 1, nDCG 1/log2(3), AP 1/2
 *   u1 train {1, 2} -> (0, 3), test {0, 3} : all 1
 *   u2 train {0}    -> (1, 2), test {}     : not evaluated
 *   u3 train {}     -> (0, 1), test {5}    : all 0
 */
static void test_evaluate(void **state)
{
    (void)state;
    rs_csr train, test;
    const uint32_t tr[] = {0, 1, 1, 2}, tc[] = {0, 1, 2, 0};
    const uint32_t sr[] = {0, 1, 1, 3}, sc[] = {2, 0, 3, 5};
    csr(4, 6, tr, tc, 4, &train);
    csr(4, 6, sr, sc, 4, &test);
    uint32_t n_items = 6;
    rs_recommender r = {"in-order", &n_items, in_order, 0};
    const uint32_t cat[6] = {0, 0, 1, 1, RS_INDEX_NONE, 0};
    rs_eval_opts o = {.k = 2, .item_category = cat, .threads = 1};
    rs_eval_result a, b;
    rs_diag d = {{0}};
    assert_int_equal(rs_eval_topk(&r, &train, &test, &o, &a, &d), RS_OK);
    assert_int_equal(a.users, 3);
    assert_float_equal(a.precision, (0.5 + 1 + 0) / 3, EPS);
    assert_float_equal(a.recall, (1 + 1 + 0) / 3.0, EPS);
    assert_float_equal(a.ndcg, (1 / log2(3) / 1 + 1 + 0) / 3, EPS);
    assert_float_equal(a.map, (0.5 + 1 + 0) / 3, EPS);
    assert_float_equal(a.hit_rate, 2.0 / 3.0, EPS);
    /* Lists (1, 2), (0, 3), (0, 1): items {0, 1, 2, 3} of 6. */
    assert_float_equal(a.coverage, 4.0 / 6.0, EPS);
    /* Categories: (1, 2) differ, (0, 3) differ, (0, 1) same. */
    assert_float_equal(a.diversity, 2.0 / 3.0, EPS);
    assert_true(a.novelty > 0);

    o.threads = 2;
    o.k = 2;
    assert_int_equal(rs_eval_topk(&r, &train, &test, &o, &b, &d), RS_OK);
    assert_memory_equal(&a, &b, offsetof(rs_eval_result, seconds));

    o.item_category = NULL;
    assert_int_equal(rs_eval_topk(&r, &train, &test, &o, &b, &d), RS_OK);
    assert_true(isnan(b.diversity));

    /* A held-out dislike (a negative value) is not relevant: u1 disliked
     * item 3, so its list (0, 3) has one relevant item of one; u3, with
     * only a dislike, is not evaluated. */
    rs_csr neg;
    const float sv[] = {1, 1, -1, -2};
    assert_int_equal(rs_csr_from_coo(4, 6, sr, sc, sv, NULL, 4, RS_AGG_SUM, &neg), RS_OK);
    o.threads = 1;
    assert_int_equal(rs_eval_topk(&r, &train, &neg, &o, &b, &d), RS_OK);
    assert_int_equal(b.users, 2);
    assert_float_equal(b.precision, (0.5 + 0.5) / 2, EPS);
    assert_float_equal(b.recall, (1 + 1) / 2.0, EPS);
    rs_csr_destroy(&neg);

    rs_recommender bad = {"failing", NULL, failing, 0};
    /* u2 has no test items, so make it one to reach the failure. */
    rs_csr t2;
    const uint32_t r2[] = {2}, c2[] = {4};
    csr(4, 6, r2, c2, 1, &t2);
    assert_int_equal(rs_eval_topk(&bad, &train, &t2, &o, &b, &d), RS_ENOMEM);
    assert_non_null(strstr(d.msg, "failing"));

    rs_csr wrong;
    csr(3, 6, tr, tc, 1, &wrong);
    assert_int_equal(rs_eval_topk(&r, &wrong, &test, &o, &b, &d), RS_EINVAL);
    rs_csr_destroy(&wrong);
    rs_csr_destroy(&t2);
    rs_csr_destroy(&train);
    rs_csr_destroy(&test);
}

/* The JSON line of a result holds exactly the chosen metrics; NaN (a
 * metric the model has none of) prints as null. */
static void test_result_json(void **state)
{
    (void)state;
    rs_model_result r = {.model = "mf", .split = "random", .k = 10, .rmse = 0.5, .mae = NAN};
    r.topk.ndcg = 0.25;
    char buf[2048];
    rs_model_result_json(&r, RS_METRIC_RMSE | RS_METRIC_MAE, buf, sizeof buf);
    assert_non_null(strstr(buf, "{\"model\":\"mf\",\"protocol\":\"normal\",\"split\":\"random\",\"k\":10,"
                                "\"rmse\":0.5,\"mae\":null,"));
    assert_null(strstr(buf, "ndcg"));
    rs_model_result_json(&r, RS_METRIC_ALL, buf, sizeof buf);
    assert_non_null(strstr(buf, "\"ndcg\":0.25"));
    assert_non_null(strstr(buf, "\"precision\":0,"));
    assert_int_equal(rs_metric_parse("hit_rate"), RS_METRIC_HIT_RATE);
    assert_int_equal(rs_metric_parse("all"), RS_METRIC_ALL);
    assert_int_equal(rs_metric_parse("auc"), 0);
    /* Too small a buffer: truncated, NUL-terminated, the full length back. */
    char small[16];
    size_t n = rs_model_result_json(&r, RS_METRIC_ALL, small, sizeof small);
    assert_true(n > sizeof small);
    assert_int_equal(strlen(small), sizeof small - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_worked_example),
        cmocka_unit_test(test_edges),
        cmocka_unit_test(test_evaluate),
        cmocka_unit_test(test_result_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
