/* Model hyperparameters as JSON (src/models/params_json.c): what a run
 * records and `recsys train --params-from RUN` reads back. Every field
 * survives the round trip; a partial object overrides only the keys it
 * names; unknown parameters, wrong types and out-of-range values are
 * refused with a message naming the parameter, leaving p as it was. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <jansson.h>
#include <string.h>

#include "../test_util.h"
#include "core/alloc.h"
#include "models/fit.h"

/* Every parameter the JSON carries set away from its default, with values
 * a float holds exactly except where noted. */
static void non_default(rs_model_params *p)
{
    rs_model_params_default(p);
    p->als.factors = 7;
    p->als.iterations = 3;
    p->als.reg = 0.375f;
    p->als.reg_by_count = !p->als.reg_by_count;
    p->als.reg_count = 1.0f / 3.0f; /* not a short decimal: needs 9 digits */
    p->als.alpha = 12.5f;
    p->als.conf = p->als.conf == RS_ALS_CONF_LOG1P ? RS_ALS_CONF_RAW : RS_ALS_CONF_LOG1P;
    p->als.solver = p->als.solver == RS_ALS_CG ? RS_ALS_CHOLESKY : RS_ALS_CG;
    p->als.cg_steps = 5;
    p->mf.solver = p->mf.solver == RS_MF_GIBBS ? RS_MF_SGD : RS_MF_GIBBS;
    p->mf.factors = 11;
    p->mf.iterations = 4000000000u; /* above INT32_MAX */
    p->mf.burn_in = 9;
    p->mf.reg = 0.0625f;
    p->mf.lr = 0.1f;
    p->knn.neighbours = 13;
    p->knn.weight = p->knn.weight == RS_KNN_COSINE ? RS_KNN_BM25 : RS_KNN_COSINE;
    p->knn.bm25_k1 = 1.75f;
    p->knn.bm25_b = 0.5f;
    p->similar.neighbours = 17;
    p->hybrid.reg = 2.25f;
    p->hybrid.blend = 3.5f;
    p->hybrid.min_count = 19;
    p->content.min_df = 23;
    p->content.max_terms = 29;
    p->half_life_ms = 3600000.0;
}

/* Fields outside the JSON, which reading JSON never touches. */
static void set_untracked(rs_model_params *p)
{
    p->als.seed = 1234;
    p->als.threads = 3;
    p->als.compute_loss = true;
    p->mf.seed = 99;
    p->mf.reg_bias = 0.125f;
    p->mf.decay = 0.5f;
    p->mf.init_std = 0.25f;
    p->threads = 5;
}

static void assert_untracked_kept(const rs_model_params *p)
{
    assert_int_equal(p->als.seed, 1234);
    assert_int_equal(p->als.threads, 3);
    assert_true(p->als.compute_loss);
    assert_int_equal(p->mf.seed, 99);
    assert_true(p->mf.reg_bias == 0.125f);
    assert_true(p->mf.decay == 0.5f);
    assert_true(p->mf.init_std == 0.25f);
    assert_int_equal(p->threads, 5);
}

/* Every field of the JSON compared exactly. */
static void assert_same_params(const rs_model_params *a, const rs_model_params *b)
{
    assert_int_equal(a->als.factors, b->als.factors);
    assert_int_equal(a->als.iterations, b->als.iterations);
    assert_true(a->als.reg == b->als.reg);
    assert_int_equal(a->als.reg_by_count, b->als.reg_by_count);
    assert_true(a->als.reg_count == b->als.reg_count);
    assert_true(a->als.alpha == b->als.alpha);
    assert_int_equal(a->als.conf, b->als.conf);
    assert_int_equal(a->als.solver, b->als.solver);
    assert_int_equal(a->als.cg_steps, b->als.cg_steps);
    assert_int_equal(a->mf.solver, b->mf.solver);
    assert_int_equal(a->mf.factors, b->mf.factors);
    assert_int_equal(a->mf.iterations, b->mf.iterations);
    assert_int_equal(a->mf.burn_in, b->mf.burn_in);
    assert_true(a->mf.reg == b->mf.reg);
    assert_true(a->mf.lr == b->mf.lr);
    assert_int_equal(a->knn.neighbours, b->knn.neighbours);
    assert_int_equal(a->knn.weight, b->knn.weight);
    assert_true(a->knn.bm25_k1 == b->knn.bm25_k1);
    assert_true(a->knn.bm25_b == b->knn.bm25_b);
    assert_int_equal(a->similar.neighbours, b->similar.neighbours);
    assert_true(a->hybrid.reg == b->hybrid.reg);
    assert_true(a->hybrid.blend == b->hybrid.blend);
    assert_int_equal(a->hybrid.min_count, b->hybrid.min_count);
    assert_int_equal(a->content.min_df, b->content.min_df);
    assert_int_equal(a->content.max_terms, b->content.max_terms);
    if (a->half_life_ms != b->half_life_ms)
        fail_msg("popularity.half_life_ms: %.17g != %.17g", a->half_life_ms, b->half_life_ms);
}

static void test_round_trip_every_field(void **state)
{
    (void)state;
    rs_model_params p;
    non_default(&p);
    char *json = rs_model_params_json(&p);

    /* The shape: sections of keys, enums as their names. */
    json_error_t err;
    json_t *j = json_loads(json, JSON_REJECT_DUPLICATES, &err);
    assert_non_null(j);
    const char *sections[] = {"als", "mf", "knn", "similar", "hybrid", "popularity"};
    assert_int_equal(json_object_size(j), RS_ARRAY_LEN(sections));
    for (size_t i = 0; i < RS_ARRAY_LEN(sections); i++)
        assert_true(json_is_object(json_object_get(j, sections[i])));
    json_t *als = json_object_get(j, "als");
    assert_int_equal(json_integer_value(json_object_get(als, "factors")), 7);
    assert_string_equal(json_string_value(json_object_get(als, "confidence")),
                        rs_als_conf_name(p.als.conf));
    assert_string_equal(json_string_value(json_object_get(als, "solver")),
                        rs_als_solver_name(p.als.solver));
    assert_true(json_is_boolean(json_object_get(als, "reg_by_count")));
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "knn"), "weight")),
                        rs_knn_weight_name(p.knn.weight));
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "mf"), "solver")),
                        rs_mf_solver_name(p.mf.solver));
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "hybrid"), "min_df")),
                     23);
    json_decref(j);

    /* Read back over the defaults: equal to what was written. */
    rs_model_params q;
    rs_model_params_default(&q);
    set_untracked(&q);
    rs_diag d = {{0}};
    assert_int_equal(rs_model_params_from_json(json, &q, &d), RS_OK);
    assert_same_params(&q, &p);
    assert_untracked_kept(&q);
    /* And written again: the same text. */
    char *again = rs_model_params_json(&q);
    assert_string_equal(again, json);
    rs_free(again);
    rs_free(json);

    /* The defaults round-trip too. */
    rs_model_params def, back;
    rs_model_params_default(&def);
    non_default(&back);
    json = rs_model_params_json(&def);
    assert_int_equal(rs_model_params_from_json(json, &back, &d), RS_OK);
    assert_same_params(&back, &def);
    rs_free(json);
}

/* The run tracker records the parameters so that a run can be repeated:
 * the double popularity.half_life_ms (whole milliseconds, as durations
 * are parsed) must come back exactly, not rounded to 9 significant
 * digits. */
static void test_round_trip_double_precision(void **state)
{
    (void)state;
    const double values[] = {1209600001.0, 86400000.0, 1.0, 2592000000123.0};
    for (size_t i = 0; i < RS_ARRAY_LEN(values); i++) {
        rs_model_params p, q;
        rs_model_params_default(&p);
        rs_model_params_default(&q);
        p.half_life_ms = values[i];
        char *json = rs_model_params_json(&p);
        rs_diag d = {{0}};
        assert_int_equal(rs_model_params_from_json(json, &q, &d), RS_OK);
        char shown[128];
        snprintf(shown, sizeof shown, "%s", strstr(json, "\"popularity\""));
        rs_free(json);
        if (q.half_life_ms != p.half_life_ms)
            fail_msg("popularity.half_life_ms %.17g came back as %.17g (JSON %s)",
                     p.half_life_ms, q.half_life_ms, shown);
    }
}

static void test_partial_override(void **state)
{
    (void)state;
    rs_model_params base;
    non_default(&base);
    set_untracked(&base);
    char *before = rs_model_params_json(&base);
    rs_diag d = {{0}};

    rs_model_params p = base;
    assert_int_equal(rs_model_params_from_json("{\"als\": {\"factors\": 128}}", &p, &d), RS_OK);
    assert_int_equal(p.als.factors, 128);
    p.als.factors = base.als.factors;
    assert_same_params(&p, &base);
    assert_untracked_kept(&p);

    p = base;
    assert_int_equal(rs_model_params_from_json("{\"knn\": {\"weight\": \"bm25\", \"bm25_b\": 0},"
                                               " \"hybrid\": {\"max_terms\": 5},"
                                               " \"popularity\": {\"half_life_ms\": 1000}}",
                                               &p, &d),
                     RS_OK);
    assert_int_equal(p.knn.weight, RS_KNN_BM25);
    assert_true(p.knn.bm25_b == 0.0f);
    assert_int_equal(p.content.max_terms, 5);
    assert_true(p.half_life_ms == 1000.0);
    p.knn.weight = base.knn.weight;
    p.knn.bm25_b = base.knn.bm25_b;
    p.content.max_terms = base.content.max_terms;
    p.half_life_ms = base.half_life_ms;
    assert_same_params(&p, &base);

    /* Integers are fine for float and double fields; a float field takes
     * the nearest float. Empty objects change nothing. */
    p = base;
    assert_int_equal(rs_model_params_from_json("{\"als\": {\"reg\": 3, \"alpha\": 0.1}}", &p, &d),
                     RS_OK);
    assert_true(p.als.reg == 3.0f);
    assert_true(p.als.alpha == 0.1f);
    p = base;
    assert_int_equal(rs_model_params_from_json("{}", &p, &d), RS_OK);
    assert_int_equal(rs_model_params_from_json("{\"als\": {}, \"mf\": {}}", &p, &d), RS_OK);
    assert_same_params(&p, &base);
    /* The largest and smallest u32. */
    assert_int_equal(rs_model_params_from_json("{\"mf\": {\"iterations\": 4294967295,"
                                               " \"burn_in\": 0}}",
                                               &p, &d),
                     RS_OK);
    assert_int_equal(p.mf.iterations, UINT32_MAX);
    assert_int_equal(p.mf.burn_in, 0);
    char *after = rs_model_params_json(&base);
    assert_string_equal(after, before); /* base itself never changed */
    rs_free(after);
    rs_free(before);
}

static void test_rejected_leaves_params(void **state)
{
    (void)state;
    static const struct {
        const char *json;
        const char *needle; /* in the message */
    } cases[] = {
        {"{\"als\": {\"factorz\": 8}}", "als.factorz"},
        {"{\"nosuch\": {\"x\": 1}}", "nosuch.x"},
        {"{\"popularity\": {\"factors\": 1}}", "popularity.factors"},
        {"{\"als\": 5}", "'als'"},
        {"{\"als\": [1]}", "'als'"},
        {"{\"als\": {\"factors\": -1}}", "als.factors"},
        {"{\"als\": {\"factors\": 4294967296}}", "als.factors"},
        {"{\"als\": {\"factors\": 1.5}}", "als.factors"},
        {"{\"als\": {\"factors\": \"8\"}}", "als.factors"},
        {"{\"als\": {\"factors\": null}}", "als.factors"},
        {"{\"als\": {\"reg\": \"x\"}}", "als.reg"},
        {"{\"als\": {\"reg\": true}}", "als.reg"},
        {"{\"als\": {\"reg_by_count\": 1}}", "als.reg_by_count"},
        {"{\"als\": {\"reg_by_count\": \"true\"}}", "als.reg_by_count"},
        {"{\"als\": {\"confidence\": \"linear\"}}", "als.confidence"},
        {"{\"als\": {\"solver\": 1}}", "als.solver"},
        {"{\"mf\": {\"solver\": \"\"}}", "mf.solver"},
        {"{\"knn\": {\"weight\": \"BM25\"}}", "knn.weight"},
        {"{\"popularity\": {\"half_life_ms\": null}}", "popularity.half_life_ms"},
        {"{\"similar\": {\"neighbours\": {}}}", "similar.neighbours"},
        /* Keys before the bad one are not applied either. */
        {"{\"als\": {\"factors\": 8, \"bogus\": 1}}", "als.bogus"},
        {"{\"als\": {\"factors\": 8}, \"mf\": {\"lr\": \"fast\"}}", "mf.lr"},
        /* Not an object, not JSON, duplicate keys. */
        {"[]", "parameters"},
        {"42", "parameters"},
        {"{", "parameters"},
        {"", "parameters"},
        {"{\"als\": {\"factors\": 1, \"factors\": 2}}", "parameters"},
    };
    rs_model_params base;
    non_default(&base);
    set_untracked(&base);
    char *before = rs_model_params_json(&base);
    for (size_t i = 0; i < RS_ARRAY_LEN(cases); i++) {
        rs_model_params p = base;
        rs_diag d = {{0}};
        if (rs_model_params_from_json(cases[i].json, &p, &d) != RS_EINVAL)
            fail_msg("%s: not rejected", cases[i].json);
        if (!strstr(d.msg, cases[i].needle))
            fail_msg("%s: message '%s' does not name %s", cases[i].json, d.msg,
                     cases[i].needle);
        char *after = rs_model_params_json(&p);
        if (strcmp(after, before) != 0)
            fail_msg("%s: parameters changed to %s", cases[i].json, after);
        rs_free(after);
        assert_untracked_kept(&p);
        /* A NULL diagnostic is allowed. */
        assert_int_equal(rs_model_params_from_json(cases[i].json, &p, NULL), RS_EINVAL);
    }
    rs_free(before);
}

/* A float parameter given a finite number beyond the range of float would
 * become infinite (or, strictly, the conversion is undefined behaviour):
 * it is out of range and must be refused like a negative count. */
static void test_float_out_of_range_rejected(void **state)
{
    (void)state;
    static const char *const cases[] = {
        "{\"als\": {\"reg\": 1e39}}",
        "{\"als\": {\"alpha\": -1e300}}",
        "{\"hybrid\": {\"blend\": 3.5e38}}",
    };
    for (size_t i = 0; i < RS_ARRAY_LEN(cases); i++) {
        rs_model_params p;
        rs_model_params_default(&p);
        const rs_model_params before = p;
        rs_diag d = {{0}};
        const rs_err e = rs_model_params_from_json(cases[i], &p, &d);
        if (e != RS_EINVAL)
            fail_msg("%s: accepted (als.reg %g, als.alpha %g, hybrid.blend %g)", cases[i],
                     (double)p.als.reg, (double)p.als.alpha, (double)p.hybrid.blend);
        assert_same_params(&p, &before);
    }
    /* The largest float itself is fine. */
    rs_model_params p;
    rs_model_params_default(&p);
    rs_diag d = {{0}};
    assert_int_equal(rs_model_params_from_json("{\"als\": {\"reg\": 3.4028234e38}}", &p, &d),
                     RS_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_every_field),
        cmocka_unit_test(test_round_trip_double_precision),
        cmocka_unit_test(test_partial_override),
        cmocka_unit_test(test_rejected_leaves_params),
        cmocka_unit_test(test_float_out_of_range_rejected),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    if (rc == 0)
        rs_test_cleanup();
    return rc;
}
