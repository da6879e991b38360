/* The search driver on a planted data set (four groups of users, each
 * using its own group's items): every trial is reported once with a
 * consistent status, scores and checkpoints; the base trial comes first;
 * the best is the best finished trial and beats popularity-level scores;
 * the median rule prunes; a search is deterministic; the hybrid runs with
 * item content; and bad options or too little data fail clearly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "core/rng.h"
#include "data/content.h"
#include "eval/tune.h"

enum { NU = 240, NI = 120, GROUPS = 4, PER_USER = 24 };

/* Users in groups of 60 use items of their group of 30 (and now and then
 * another); item i's content is its group. */
static void planted(rs_dataset *d, bool content)
{
    static uint32_t r[NU * PER_USER], c[NU * PER_USER];
    static float v[NU * PER_USER];
    memset(d, 0, sizeof *d);
    size_t n = 0;
    rs_rng g;
    rs_rng_init(&g, 5);
    for (uint32_t u = 0; u < NU; u++)
        for (int j = 0; j < PER_USER; j++) {
            const bool outside = rs_rng_below(&g, 8) == 0;
            r[n] = u;
            c[n] = outside ? rs_rng_below(&g, NI) : (u % GROUPS) * (NI / GROUPS) +
                                                        rs_rng_below(&g, NI / GROUPS);
            v[n] = (float)(1 + rs_rng_below(&g, 5));
            n++;
        }
    assert_int_equal(rs_csr_from_coo(NU, NI, r, c, v, NULL, n, RS_AGG_LAST, &d->ui), RS_OK);
    if (!content)
        return;
    static const char *const names[GROUPS] = {"a", "b", "c", "d"};
    rs_content_builder *cb = rs_content_builder_new();
    for (uint32_t i = 0; i < NI; i++) {
        const rs_item it = {.id = "i", .title = "x", .category = names[i / (NI / GROUPS)]};
        assert_int_equal(rs_content_builder_add(cb, &it), RS_OK);
    }
    rs_content_opts co = {.min_df = 1};
    assert_int_equal(rs_content_builder_finish(cb, &co, &d->content, &d->features), RS_OK);
    rs_content_builder_free(cb);
}

typedef struct seen {
    uint32_t calls, finished, pruned, failed;
    double best_finished;
    int best_index;
    double first_values[RS_TUNE_MAX_DIMS];
    size_t n_dims;
} seen;

static void on_trial(void *ctx, const rs_tune_trial *t)
{
    seen *s = ctx;
    assert_int_equal(t->index, s->calls);
    s->calls++;
    assert_non_null(t->params);
    assert_true(t->n_dims >= 5 && t->n_dims <= RS_TUNE_MAX_DIMS);
    assert_true(t->seconds >= 0);
    if (t->index == 0) {
        memcpy(s->first_values, t->values, t->n_dims * sizeof *t->values);
        s->n_dims = t->n_dims;
    }
    for (size_t i = 0; i < t->n_dims; i++)
        assert_true(t->values[i] >= t->dims[i].lo && t->values[i] <= t->dims[i].hi);
    assert_int_equal(t->params->als.factors, (uint32_t)t->values[0]);
    for (size_t i = 1; i < t->n_steps; i++)
        assert_true(t->steps[i].step > t->steps[i - 1].step);
    for (size_t i = 0; i < t->n_steps; i++)
        assert_true(t->steps[i].step < t->params->als.iterations);
    switch (t->status) {
    case RS_TRIAL_FINISHED:
        s->finished++;
        assert_true(t->score >= 0 && t->score <= 1);
        assert_true(t->recall >= 0 && t->recall <= 1);
        assert_string_equal(t->error, "");
        if (s->best_index < 0 || t->score > s->best_finished) {
            s->best_finished = t->score;
            s->best_index = (int)t->index;
        }
        break;
    case RS_TRIAL_PRUNED:
        s->pruned++;
        assert_true(t->n_steps >= 1);
        assert_true(t->steps[t->n_steps - 1].step >= 4);
        assert_float_equal(t->score, t->steps[t->n_steps - 1].score, 0);
        assert_true(isnan(t->recall));
        break;
    case RS_TRIAL_FAILED:
        s->failed++;
        assert_true(t->error[0] != '\0');
        break;
    }
    assert_int_equal(t->best_index, s->best_index);
}

/* A smaller space than the default, so that the test runs fast under
 * the sanitizers. */
static const rs_tpe_dim small_space[] = {
    {"factors", RS_TPE_LOG_INT, 4, 32},
    {"reg", RS_TPE_LOG, 0.1, 100},
    {"reg-count", RS_TPE_LOG, 0.001, 1},
    {"alpha", RS_TPE_LOG, 0.1, 50},
    {"iterations", RS_TPE_INT, 4, 12},
    {"hybrid-reg", RS_TPE_LOG, 0.01, 10},
    {"hybrid-blend", RS_TPE_LOG, 0.1, 10},
};
enum { SMALL_ALS = 5, SMALL_HYBRID = 7 };

static rs_tune_opts small_opts(seen *s)
{
    rs_tune_opts o;
    rs_tune_opts_default(&o);
    o.base.als.factors = 16;
    o.base.als.iterations = 8;
    o.space = small_space;
    o.n_space = SMALL_ALS;
    o.trials = 10;
    o.seed = 3;
    o.base.threads = 1;
    o.on_trial = on_trial;
    o.ctx = s;
    *s = (seen){.best_index = -1};
    return o;
}

static void test_search(void **state)
{
    (void)state;
    rs_dataset d;
    planted(&d, false);
    seen s;
    rs_tune_opts o = small_opts(&s);
    o.prune_warmup = 2; /* so that a short search prunes */
    rs_tune_summary sum;
    rs_diag diag = {{0}};
    assert_int_equal(rs_tune_run(&d, &o, &sum, &diag), RS_OK);
    print_message("%u finished, %u pruned, %u failed; best %.4f (trial %d); test ndcg %.4f "
                  "(defaults %.4f) in %.2f s\n",
                  sum.finished, sum.pruned, sum.failed, sum.best_score, sum.best_trial,
                  sum.best_test.ndcg, sum.default_test.ndcg, sum.seconds);
    assert_int_equal(s.calls, 10);
    assert_int_equal(sum.finished, s.finished);
    assert_int_equal(sum.pruned, s.pruned);
    assert_int_equal(sum.failed, 0);
    assert_true(sum.pruned > 0);
    assert_int_equal(sum.best_trial, s.best_index);
    assert_float_equal(sum.best_score, s.best_finished, 0);
    /* The planted groups are easy: far above what popularity gets. */
    assert_true(sum.best_test.ndcg > 0.2 && sum.default_test.ndcg > 0.2);
    /* Trial 0 is the base, in the space. */
    double v[RS_TUNE_MAX_DIMS];
    assert_int_equal(sum.n_dims, s.n_dims);
    assert_int_equal(sum.n_dims, SMALL_ALS);
    rs_tune_values(sum.dims, sum.n_dims, &o.base, v);
    assert_memory_equal(v, s.first_values, sum.n_dims * sizeof *v);
    assert_float_equal(v[0], 16, 0);
    assert_true(sum.best.als.factors <= 32 && sum.best.als.iterations <= 12);
    /* The parts: fit + validation = train; train + test = everything. */
    assert_int_equal(sum.fit_interactions + sum.validation_interactions, sum.train_interactions);
    assert_int_equal(sum.train_interactions + sum.test_interactions, d.ui.nnz);

    /* The same search again gives the same result. */
    seen s2;
    rs_tune_opts o2 = small_opts(&s2);
    o2.prune_warmup = 2;
    rs_tune_summary again;
    assert_int_equal(rs_tune_run(&d, &o2, &again, &diag), RS_OK);
    assert_int_equal(again.best_trial, sum.best_trial);
    assert_float_equal(again.best_score, sum.best_score, 0);
    assert_float_equal(again.best_test.ndcg, sum.best_test.ndcg, 0);
    assert_int_equal(again.pruned, sum.pruned);

    /* Without pruning, everything finishes. */
    o2 = small_opts(&s2);
    o2.prune = false;
    o2.trials = 4;
    assert_int_equal(rs_tune_run(&d, &o2, &again, &diag), RS_OK);
    assert_int_equal(again.finished, 4);
    rs_csr_destroy(&d.ui);
}

/* The defaults lie inside the space: the values read back unclamped. */
static void test_space(void **state)
{
    (void)state;
    rs_model_params p;
    rs_model_params_default(&p);
    rs_tpe_dim dims[RS_TUNE_MAX_DIMS];
    double v[RS_TUNE_MAX_DIMS];
    const size_t n = rs_tune_space(RS_MODEL_HYBRID, &p, dims);
    assert_int_equal(n, 7);
    rs_tune_values(dims, n, &p, v);
    const double want[] = {p.als.factors, p.als.reg, p.als.reg_count, p.als.alpha,
                           p.als.iterations, p.hybrid.reg, p.hybrid.blend};
    for (size_t i = 0; i < n; i++) {
        assert_true(want[i] > dims[i].lo && want[i] < dims[i].hi);
        assert_float_equal(v[i], want[i], 1e-9);
    }
    assert_string_equal(dims[2].name, "reg-count");
    p.als.reg_count = 0;
    assert_int_equal(rs_tune_space(RS_MODEL_ALS, &p, dims), 4);
    p.als.factors = 4; /* outside: clamped */
    rs_tune_values(dims, 1, &p, v);
    assert_float_equal(v[0], 16, 0);
}

static void test_hybrid(void **state)
{
    (void)state;
    rs_dataset d;
    planted(&d, true);
    seen s;
    rs_tune_opts o = small_opts(&s);
    o.model = RS_MODEL_HYBRID;
    o.n_space = SMALL_HYBRID;
    o.trials = 4;
    o.split.protocol = RS_PROTOCOL_COLD_ITEMS;
    rs_tune_summary sum;
    rs_diag diag = {{0}};
    assert_int_equal(rs_tune_run(&d, &o, &sum, &diag), RS_OK);
    print_message("hybrid, cold items: best %.4f, test ndcg %.4f (defaults %.4f)\n",
                  sum.best_score, sum.best_test.ndcg, sum.default_test.ndcg);
    assert_int_equal(s.calls, 4);
    assert_int_equal(s.n_dims, 7);
    assert_true(sum.best_test.ndcg > 0.05);
    rs_csr_destroy(&d.features);
    rs_content_destroy(&d.content);

    /* Without content the hybrid cannot be tuned. */
    assert_int_equal(rs_tune_run(&d, &o, &sum, &diag), RS_EINVAL);
    assert_non_null(strstr(diag.msg, "no item content"));
    rs_csr_destroy(&d.ui);
}

static void test_errors(void **state)
{
    (void)state;
    rs_dataset d;
    planted(&d, false);
    seen s;
    rs_tune_opts o = small_opts(&s);
    rs_tune_summary sum;
    rs_diag diag = {{0}};
    o.trials = 0;
    assert_int_equal(rs_tune_run(&d, &o, &sum, &diag), RS_EINVAL);
    o = small_opts(&s);
    o.model = RS_MODEL_KNN;
    assert_int_equal(rs_tune_run(&d, &o, &sum, &diag), RS_EINVAL);
    /* Spaces with an unknown name, a wrong kind, a repeat, bad bounds. */
    rs_tpe_dim bad[2] = {{"factors", RS_TPE_LOG_INT, 4, 8}, {"colour", RS_TPE_INT, 1, 2}};
    o = small_opts(&s);
    o.space = bad;
    o.n_space = 2;
    assert_int_equal(rs_tune_run(&d, &o, &sum, &diag), RS_EINVAL);
    assert_non_null(strstr(diag.msg, "no parameter named 'colour'"));
    bad[1] = (rs_tpe_dim){"alpha", RS_TPE_FLOAT, 1, 2};
    assert_int_equal(rs_tune_run(&d, &o, &sum, &diag), RS_EINVAL);
    assert_non_null(strstr(diag.msg, "alpha must be searched as"));
    bad[1] = bad[0];
    assert_int_equal(rs_tune_run(&d, &o, &sum, &diag), RS_EINVAL);
    assert_non_null(strstr(diag.msg, "twice"));
    bad[1] = (rs_tpe_dim){"alpha", RS_TPE_LOG, 0, 2};
    assert_int_equal(rs_tune_run(&d, &o, &sum, &diag), RS_EINVAL);
    assert_non_null(strstr(diag.msg, "alpha"));
    assert_int_equal(s.calls, 0);
    /* A parameter outside the space that the library refuses: every trial
     * fails, and the search says why. */
    o = small_opts(&s);
    o.trials = 3;
    o.base.als.cg_steps = 0;
    assert_int_equal(rs_tune_run(&d, &o, &sum, &diag), RS_EINTERNAL);
    assert_non_null(strstr(diag.msg, "cg_steps"));
    assert_int_equal(s.failed, 3);
    rs_csr_destroy(&d.ui);

    /* Two interactions per user: nothing is left for validation. */
    const uint32_t r[] = {0, 0, 1, 1, 2, 2}, c[] = {0, 1, 1, 2, 0, 2};
    const float v[] = {1, 1, 1, 1, 1, 1};
    memset(&d, 0, sizeof d);
    assert_int_equal(rs_csr_from_coo(3, 3, r, c, v, NULL, 6, RS_AGG_SUM, &d.ui), RS_OK);
    o = small_opts(&s);
    assert_int_equal(rs_tune_run(&d, &o, &sum, &diag), RS_EINVAL);
    assert_non_null(strstr(diag.msg, "too little data"));
    assert_int_equal(s.calls, 0);
    rs_csr_destroy(&d.ui);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_search),
        cmocka_unit_test(test_space),
        cmocka_unit_test(test_hybrid),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
