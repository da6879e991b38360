/* The hybrid model of models/hybrid.h on a synthetic catalogue of two
 * categories whose ALS vectors point along (1, 0) and (0, 1): items nobody
 * touched (and new items) get their category's direction from content,
 * popular items keep their ALS vectors, rare ones follow the blend formula,
 * the view swaps only the item factors, and bad shapes or options fail. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "core/rng.h"
#include "data/content.h"
#include "models/hybrid.h"

#define ITEMS 40
#define USERS 250
#define K 2

/* Items 0..19 are category A, 20..39 category B. Items 0 and 20 have no
 * interactions, items 1 and 21 have 200 and ALS vectors off their
 * category's direction, the rest 1..5. */
typedef struct fixture {
    rs_content vocab;
    rs_csr features, ui;
    rs_als_model als;
    uint32_t counts[ITEMS];
} fixture;

static const char *const a_tags[] = {"alpha"};
static const char *const b_tags[] = {"beta"};

static rs_item item_of(uint32_t i)
{
    const int a = i < ITEMS / 2;
    return (rs_item){.id = "i",
                     .title = i % 2 ? "Blue widget" : "Red gadget",
                     .category = a ? "A" : "B",
                     .tags = a ? a_tags : b_tags,
                     .n_tags = 1};
}

static void setup(fixture *fx)
{
    memset(fx, 0, sizeof *fx);
    rs_content_builder *cb = rs_content_builder_new();
    for (uint32_t i = 0; i < ITEMS; i++) {
        const rs_item it = item_of(i);
        assert_int_equal(rs_content_builder_add(cb, &it), RS_OK);
    }
    rs_content_opts co = {.min_df = 1};
    assert_int_equal(rs_content_builder_finish(cb, &co, &fx->vocab, &fx->features), RS_OK);
    rs_content_builder_free(cb);

    static uint32_t r[ITEMS * USERS], c[ITEMS * USERS];
    static float v[ITEMS * USERS];
    size_t n = 0;
    for (uint32_t i = 0; i < ITEMS; i++) {
        fx->counts[i] = i % 20 == 0 ? 0 : i % 20 == 1 ? 200 : 1 + i % 5;
        for (uint32_t u = 0; u < fx->counts[i]; u++) {
            r[n] = u;
            c[n] = i;
            v[n] = 1;
            n++;
        }
    }
    assert_int_equal(rs_csr_from_coo(USERS, ITEMS, r, c, v, NULL, n, RS_AGG_SUM, &fx->ui),
                     RS_OK);

    rs_rng g;
    rs_rng_init(&g, 11);
    fx->als = (rs_als_model){.n_users = USERS, .n_items = ITEMS, .factors = K};
    fx->als.user_factors = rs_xcalloc((size_t)USERS * K, sizeof(float));
    fx->als.item_factors = rs_xmalloc((size_t)ITEMS * K * sizeof(float));
    for (uint32_t u = 0; u < USERS * K; u++)
        fx->als.user_factors[u] = (float)rs_rng_normal(&g);
    for (uint32_t i = 0; i < ITEMS; i++) {
        float *y = fx->als.item_factors + (size_t)i * K;
        const int a = i < ITEMS / 2;
        y[0] = (a ? 1.0f : 0.0f) + 0.1f * (float)rs_rng_normal(&g);
        y[1] = (a ? 0.0f : 1.0f) + 0.1f * (float)rs_rng_normal(&g);
    }
    /* The popular ones sit elsewhere. */
    fx->als.item_factors[1 * K + 0] = 0.5f;
    fx->als.item_factors[1 * K + 1] = 0.8f;
    fx->als.item_factors[21 * K + 0] = -0.6f;
    fx->als.item_factors[21 * K + 1] = 0.3f;
}

static void teardown(fixture *fx)
{
    rs_content_destroy(&fx->vocab);
    rs_csr_destroy(&fx->features);
    rs_csr_destroy(&fx->ui);
    rs_free(fx->als.user_factors);
    rs_free(fx->als.item_factors);
}

static double cosine(const float *a, const float *b)
{
    double d = 0, na = 0, nb = 0;
    for (int c = 0; c < K; c++) {
        d += (double)a[c] * b[c];
        na += (double)a[c] * a[c];
        nb += (double)b[c] * b[c];
    }
    return na > 0 && nb > 0 ? d / sqrt(na * nb) : 0;
}

/* The mean ALS vector of a category's items with interactions. */
static void category_mean(const fixture *fx, int a, float *mean)
{
    mean[0] = mean[1] = 0;
    int n = 0;
    for (uint32_t i = a ? 0 : ITEMS / 2; i < (a ? ITEMS / 2 : ITEMS); i++)
        if (fx->counts[i]) {
            for (int c = 0; c < K; c++)
                mean[c] += fx->als.item_factors[(size_t)i * K + c];
            n++;
        }
    for (int c = 0; c < K; c++)
        mean[c] /= (float)n;
}

static void test_fit(void **state)
{
    (void)state;
    fixture fx;
    setup(&fx);
    rs_hybrid_opts o;
    rs_hybrid_opts_default(&o);
    assert_true(o.reg > 0);
    o.threads = 2;
    rs_hybrid_model m;
    rs_diag d = {{0}};
    if (rs_hybrid_fit(&fx.features, &fx.ui, &fx.als, &o, &m, &d))
        fail_msg("%s", d.msg);
    assert_int_equal(m.n_items, ITEMS);
    assert_int_equal(m.factors, K);
    assert_int_equal(m.n_terms, fx.features.n_cols);
    assert_non_null(m.map);
    assert_non_null(m.item_factors);

    float mean_a[K], mean_b[K];
    category_mean(&fx, 1, mean_a);
    category_mean(&fx, 0, mean_b);
    /* Untouched items: their category's direction, not the other's. */
    const float *v0 = m.item_factors, *v20 = m.item_factors + 20 * K;
    assert_true(cosine(v0, mean_a) > 0.9);
    assert_true(cosine(v0, mean_b) < 0.5);
    assert_true(cosine(v20, mean_b) > 0.9);
    assert_true(cosine(v20, mean_a) < 0.5);
    /* An untouched item is exactly its content prediction. */
    float pred[K];
    for (uint32_t i = 0; i < ITEMS; i += 20) {
        const uint64_t lo = fx.features.indptr[i], hi = fx.features.indptr[i + 1];
        rs_hybrid_content_vector(&m, fx.features.indices + lo, fx.features.values + lo,
                                 (size_t)(hi - lo), pred);
        for (int c = 0; c < K; c++)
            assert_float_equal(m.item_factors[(size_t)i * K + c], pred[c], 1e-5);
    }
    /* Every item: v = n / (n + blend) y + blend / (n + blend) (f W + w0).
     * The popular ones stay within 1% of their ALS vectors. */
    for (uint32_t i = 0; i < ITEMS; i++) {
        const uint64_t lo = fx.features.indptr[i], hi = fx.features.indptr[i + 1];
        rs_hybrid_content_vector(&m, fx.features.indices + lo, fx.features.values + lo,
                                 (size_t)(hi - lo), pred);
        const double n = fx.counts[i], w = n / (n + o.blend);
        const float *y = fx.als.item_factors + (size_t)i * K, *v = m.item_factors + (size_t)i * K;
        for (int c = 0; c < K; c++) {
            assert_float_equal(v[c], w * y[c] + (1 - w) * pred[c], 1e-5);
            if (fx.counts[i] >= 200)
                assert_float_equal(v[c], y[c], 0.01);
        }
    }

    /* A new item of category A (a title and tag never seen) leans to (1, 0);
     * one of B to (0, 1). */
    uint32_t idx[RS_CONTENT_MAX_ROW];
    float val[RS_CONTENT_MAX_ROW];
    static const char *const new_tags[] = {"brand-new"};
    rs_item it = {.id = "new", .title = "Shiny thing", .category = "A", .tags = new_tags,
                  .n_tags = 1};
    size_t n = rs_content_features(&fx.vocab, &it, idx, val);
    assert_int_equal(n, 1);
    rs_hybrid_content_vector(&m, idx, val, n, pred);
    const float e0[K] = {1, 0}, e1[K] = {0, 1};
    assert_true(cosine(pred, e0) > 0.9);
    it.category = "B";
    n = rs_content_features(&fx.vocab, &it, idx, val);
    assert_int_equal(n, 1);
    rs_hybrid_content_vector(&m, idx, val, n, pred);
    assert_true(cosine(pred, e1) > 0.9);
    /* No known term: the intercept. */
    rs_hybrid_content_vector(&m, idx, val, 0, pred);
    assert_memory_equal(pred, m.map + (size_t)m.n_terms * K, K * sizeof *pred);

    /* The view: the ALS model with the hybrid's item vectors. */
    rs_als_model view = rs_hybrid_view(&m, &fx.als);
    assert_int_equal(view.n_users, USERS);
    assert_int_equal(view.n_items, ITEMS);
    assert_int_equal(view.factors, K);
    assert_ptr_equal(view.user_factors, fx.als.user_factors);
    assert_ptr_equal(view.item_factors, m.item_factors);
    float score;
    const uint32_t item0 = 0;
    rs_als_score(&view, fx.als.user_factors, &item0, 1, &score);
    assert_float_equal(score, fx.als.user_factors[0] * v0[0] + fx.als.user_factors[1] * v0[1],
                       1e-5);
    rs_hybrid_destroy(&m);
    assert_null(m.map);
    assert_null(m.item_factors);
    teardown(&fx);
}

static void test_min_count_and_blend(void **state)
{
    (void)state;
    fixture fx;
    setup(&fx);
    rs_hybrid_opts o;
    rs_hybrid_opts_default(&o);
    rs_hybrid_model m;
    rs_diag d = {{0}};
    /* No item has 1000 interactions: nothing trains the map, so content
     * predicts nothing and an untouched item gets zeros. */
    o.min_count = 1000;
    assert_int_equal(rs_hybrid_fit(&fx.features, &fx.ui, &fx.als, &o, &m, &d), RS_OK);
    for (uint32_t t = 0; t < (m.n_terms + 1) * K; t++)
        assert_float_equal(m.map[t], 0.0, 1e-6);
    assert_float_equal(m.item_factors[0], 0.0, 1e-6);
    assert_float_equal(m.item_factors[1], 0.0, 1e-6);
    rs_hybrid_destroy(&m);
    /* blend 0: every item with interactions is exactly its ALS vector. */
    rs_hybrid_opts_default(&o);
    o.blend = 0;
    assert_int_equal(rs_hybrid_fit(&fx.features, &fx.ui, &fx.als, &o, &m, &d), RS_OK);
    for (uint32_t i = 0; i < ITEMS; i++)
        if (fx.counts[i])
            for (int c = 0; c < K; c++)
                assert_float_equal(m.item_factors[(size_t)i * K + c],
                                   fx.als.item_factors[(size_t)i * K + c], 1e-6);
    assert_true(cosine(m.item_factors, fx.als.item_factors + 2 * K) > 0.9);
    rs_hybrid_destroy(&m);
    teardown(&fx);
}

static void expect_einval(const rs_csr *f, const rs_csr *ui, const rs_als_model *als,
                          const rs_hybrid_opts *o)
{
    rs_hybrid_model m;
    memset(&m, 0xff, sizeof m);
    rs_diag d = {{0}};
    assert_int_equal(rs_hybrid_fit(f, ui, als, o, &m, &d), RS_EINVAL);
    assert_true(d.msg[0] != '\0');
    assert_null(m.map);
    assert_null(m.item_factors);
    assert_int_equal(m.n_items, 0);
}

static void test_errors(void **state)
{
    (void)state;
    fixture fx;
    setup(&fx);
    rs_hybrid_opts o;
    rs_hybrid_opts_default(&o);
    const float bad_reg[] = {0.0f, -1.0f, NAN, INFINITY};
    for (size_t j = 0; j < sizeof bad_reg / sizeof bad_reg[0]; j++) {
        o.reg = bad_reg[j];
        expect_einval(&fx.features, &fx.ui, &fx.als, &o);
    }
    rs_hybrid_opts_default(&o);
    o.blend = -1;
    expect_einval(&fx.features, &fx.ui, &fx.als, &o);
    o.blend = NAN;
    expect_einval(&fx.features, &fx.ui, &fx.als, &o);
    rs_hybrid_opts_default(&o);
    /* Features, interactions and ALS over different item counts. */
    rs_csr f = fx.features;
    f.n_rows = ITEMS - 1;
    expect_einval(&f, &fx.ui, &fx.als, &o);
    rs_csr ui = fx.ui;
    ui.n_cols = ITEMS + 1;
    expect_einval(&fx.features, &ui, &fx.als, &o);
    rs_als_model als = fx.als;
    als.n_items = ITEMS - 1;
    expect_einval(&fx.features, &fx.ui, &als, &o);
    teardown(&fx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fit),
        cmocka_unit_test(test_min_count_and_blend),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
