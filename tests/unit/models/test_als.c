/* Implicit ALS on a planted data set: four groups of users, each using the
 * items of its own group. ALS must find held-out items far above
 * popularity, both solvers must agree, the fit must be deterministic, the
 * exact solver's loss must never rise, a warm start must start near the
 * end, the stop callback must see the model and cancel cleanly, and bad
 * options are refused. Also
 * item-kNN and explicit MF on the same kind of data. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "core/rng.h"
#include "data/split.h"
#include "eval/evaluate.h"
#include "models/als.h"
#include "models/knn.h"
#include "models/mf.h"
#include "models/popularity.h"

enum { NU = 301, NI = 201, GROUPS = 4, PER_USER = 20 };

/* Users 0..299 in groups of 75, items 0..199 in groups of 50; user 300 and
 * item 200 have no interactions. Values are ratings: 4-5 inside the group,
 * 1-2 for the odd item outside it. */
static void planted(rs_csr *m)
{
    static uint32_t r[NU * PER_USER], c[NU * PER_USER];
    static float v[NU * PER_USER];
    size_t n = 0;
    rs_rng g;
    rs_rng_init(&g, 11);
    for (uint32_t u = 0; u < NU - 1; u++) {
        uint32_t grp = u % GROUPS;
        for (int j = 0; j < PER_USER; j++) {
            bool outside = rs_rng_below(&g, 10) == 0;
            uint32_t item = outside ? rs_rng_below(&g, NI - 1)
                                    : grp * 50 + rs_rng_below(&g, 50);
            r[n] = u;
            c[n] = item;
            v[n] = outside ? (float)(1 + rs_rng_below(&g, 2)) : (float)(4 + rs_rng_below(&g, 2));
            n++;
        }
    }
    assert_int_equal(rs_csr_from_coo(NU, NI, r, c, v, NULL, n, RS_AGG_LAST, m), RS_OK);
}

static void split(const rs_csr *m, rs_csr *tr, rs_csr *te)
{
    rs_split_opts o = {.kind = RS_SPLIT_RANDOM, .test_fraction = 0.2, .seed = 3};
    rs_diag d = {{0}};
    assert_int_equal(rs_split(m, NULL, &o, tr, te, &d), RS_OK);
}

static double recall_of(const rs_recommender *r, const rs_csr *tr, const rs_csr *te)
{
    rs_eval_opts o = {.k = 10, .threads = 2};
    rs_eval_result res;
    rs_diag d = {{0}};
    assert_int_equal(rs_eval_topk(r, tr, te, &o, &res, &d), RS_OK);
    return res.recall;
}

static rs_als_opts small_opts(rs_als_solver s)
{
    rs_als_opts o;
    rs_als_opts_default(&o);
    o.factors = 8;
    o.iterations = 10;
    o.solver = s;
    o.threads = 2;
    return o;
}

static void test_recovers_planted_groups(void **state)
{
    (void)state;
    rs_csr m, tr, te;
    planted(&m);
    split(&m, &tr, &te);
    rs_popularity pop;
    rs_pop_opts po = {0};
    rs_diag d = {{0}};
    assert_int_equal(rs_popularity_fit(&tr, &po, &pop, &d), RS_OK);
    rs_recommender rp = {"popularity", &pop, rs_popularity_recommend, 0};
    double r_pop = recall_of(&rp, &tr, &te);

    double r_solver[2];
    rs_als_model models[2];
    for (int s = 0; s < 2; s++) {
        rs_als_opts o = small_opts((rs_als_solver)s);
        assert_int_equal(rs_als_fit(&tr, &o, &models[s], &d), RS_OK);
        rs_recommender ra = {"als", &models[s], rs_als_recommend,
                             rs_als_scratch_bytes(&models[s])};
        r_solver[s] = recall_of(&ra, &tr, &te);
    }
    print_message("recall@10: popularity %.3f, als cg %.3f, als cholesky %.3f\n", r_pop,
                  r_solver[0], r_solver[1]);
    assert_true(r_solver[0] > 2 * r_pop);
    assert_true(r_solver[1] > 2 * r_pop);
    assert_true(fabs(r_solver[0] - r_solver[1]) < 0.03);

    /* The solvers agree user by user: most of each top 10 is shared. */
    rs_scored a[10], b[10];
    float scratch[NI];
    double shared = 0;
    for (uint32_t u = 0; u < NU - 1; u++) {
        size_t na, nb;
        const uint32_t *ex = tr.indices + tr.indptr[u];
        size_t nex = tr.indptr[u + 1] - tr.indptr[u];
        assert_int_equal(rs_als_recommend(&models[0], u, ex, nex, 10, a, &na, scratch), RS_OK);
        assert_int_equal(rs_als_recommend(&models[1], u, ex, nex, 10, b, &nb, scratch), RS_OK);
        for (size_t i = 0; i < na; i++)
            for (size_t j = 0; j < nb; j++)
                shared += a[i].index == b[j].index;
        /* Best first, never a training item. */
        for (size_t i = 0; i < na; i++) {
            assert_true(i == 0 || a[i - 1].score >= a[i].score);
            for (size_t j = 0; j < nex; j++)
                assert_true(a[i].index != ex[j]);
        }
    }
    assert_true(shared / ((NU - 1) * 10.0) > 0.7);

    /* The empty user and item have zero factors; the empty user gets
     * scores of zero for everything. */
    for (int s = 0; s < 2; s++) {
        for (uint32_t f = 0; f < 8; f++) {
            assert_true(models[s].user_factors[(NU - 1) * 8 + f] == 0.0f);
            assert_true(models[s].item_factors[(NI - 1) * 8 + f] == 0.0f);
        }
        rs_als_destroy(&models[s]);
    }
    rs_popularity_destroy(&pop);
    rs_csr_destroy(&tr);
    rs_csr_destroy(&te);
    rs_csr_destroy(&m);
}

static void test_deterministic(void **state)
{
    (void)state;
    rs_csr m;
    planted(&m);
    rs_diag d = {{0}};
    for (int s = 0; s < 2; s++) {
        rs_als_opts o = small_opts((rs_als_solver)s);
        rs_als_model a, b;
        assert_int_equal(rs_als_fit(&m, &o, &a, &d), RS_OK);
        assert_int_equal(rs_als_fit(&m, &o, &b, &d), RS_OK);
        assert_memory_equal(a.user_factors, b.user_factors, (size_t)NU * 8 * sizeof(float));
        assert_memory_equal(a.item_factors, b.item_factors, (size_t)NI * 8 * sizeof(float));
        rs_als_destroy(&b);
        o.seed = 99;
        assert_int_equal(rs_als_fit(&m, &o, &b, &d), RS_OK);
        assert_true(memcmp(a.item_factors, b.item_factors, (size_t)NI * 8 * sizeof(float)) != 0);
        rs_als_destroy(&a);
        rs_als_destroy(&b);
    }
    rs_csr_destroy(&m);
}

/* Fold-in of a training user's own interactions against the final item
 * factors lands next to the vector the fit gave them (the fit's last user
 * step saw the item factors of one step earlier); no interactions give
 * zeros. */
static void test_fold_in(void **state)
{
    (void)state;
    rs_csr m;
    planted(&m);
    rs_diag d = {{0}};
    rs_als_opts o = small_opts(RS_ALS_CHOLESKY);
    o.iterations = 30;
    rs_als_model a;
    assert_int_equal(rs_als_fit(&m, &o, &a, &d), RS_OK);
    float *G = rs_xmalloc(8 * 8 * sizeof *G);
    rs_als_gram(&a, G);
    double worst = 0;
    for (uint32_t u = 0; u < NU; u += 7) {
        const uint64_t lo = m.indptr[u], hi = m.indptr[u + 1];
        float x[8];
        float *scratch = rs_xmalloc(rs_als_fold_in_scratch(&a, hi - lo) * sizeof *scratch);
        assert_int_equal(rs_als_fold_in(&a, G, &o, m.indices + lo, m.values + lo, hi - lo, x,
                                        scratch),
                         0);
        rs_free(scratch);
        double diff = 0, norm = 0;
        for (int f = 0; f < 8; f++) {
            const double t = a.user_factors[(size_t)u * 8 + f];
            diff += (x[f] - t) * (x[f] - t);
            norm += t * t;
        }
        if (norm > 0 && sqrt(diff / norm) > worst)
            worst = sqrt(diff / norm);
    }
    print_message("fold-in: worst relative distance %.4f\n", worst);
    assert_true(worst < 0.05);
    float x[8] = {1, 1, 1, 1, 1, 1, 1, 1}, scratch[8 * 8 + 8 + 256 * 8 + 16];
    assert_int_equal(rs_als_fold_in(&a, G, &o, NULL, NULL, 0, x, scratch), 0);
    for (int f = 0; f < 8; f++)
        assert_true(x[f] == 0.0f);
    rs_free(G);
    rs_als_destroy(&a);
    rs_csr_destroy(&m);
}

/* Mean of x . y_i over the items of group g (50 each), skipping those in
 * skip[0..n). */
static double group_score(const rs_als_model *a, const float *x, uint32_t g, const uint32_t *skip,
                          size_t n)
{
    double sum = 0;
    int count = 0;
    for (uint32_t i = g * 50; i < g * 50 + 50; i++) {
        bool skipped = false;
        for (size_t j = 0; j < n; j++)
            skipped |= skip[j] == i;
        if (skipped)
            continue;
        double t = 0;
        for (uint32_t f = 0; f < a->factors; f++)
            t += x[f] * a->item_factors[(size_t)i * a->factors + f];
        sum += t;
        count++;
    }
    return sum / count;
}

/* Negative values are dislikes: folding in a user who likes items of
 * groups 0 and 1 and dislikes other items of group 1 scores group 1 below
 * the same user without the dislikes, for both solvers; and a fit where
 * every user dislikes items of the next group scores that group below an
 * unrelated one. */
static void test_negative_feedback(void **state)
{
    (void)state;
    rs_csr m;
    planted(&m);
    rs_diag d = {{0}};
    for (int s = 0; s < 2; s++) {
        rs_als_opts o = small_opts((rs_als_solver)s);
        rs_als_model a;
        assert_int_equal(rs_als_fit(&m, &o, &a, &d), RS_OK);
        float *G = rs_xmalloc(8 * 8 * sizeof *G);
        rs_als_gram(&a, G);
        /* Likes 3 items of group 0 and 3 of group 1, then dislikes 4 more
         * of group 1. */
        const uint32_t items[] = {3, 11, 27, 55, 63, 77, 81, 88, 92, 97};
        const float values[] = {5, 5, 5, 5, 5, 5, -5, -5, -5, -5};
        float x_like[8], x_mixed[8];
        float *scratch = rs_xmalloc(rs_als_fold_in_scratch(&a, 10) * sizeof *scratch);
        assert_int_equal(rs_als_fold_in(&a, G, &o, items, values, 6, x_like, scratch), 0);
        assert_int_equal(rs_als_fold_in(&a, G, &o, items, values, 10, x_mixed, scratch), 0);
        const double g1_like = group_score(&a, x_like, 1, items + 3, 7);
        const double g1_mixed = group_score(&a, x_mixed, 1, items + 3, 7);
        double disliked_mixed = 0;
        for (int j = 6; j < 10; j++)
            for (uint32_t f = 0; f < 8; f++)
                disliked_mixed += x_mixed[f] * a.item_factors[(size_t)items[j] * 8 + f];
        print_message("dislikes (%s): group 1 scores %.3f without, %.3f with; disliked items %.3f\n",
                      s ? "cholesky" : "cg", g1_like, g1_mixed, disliked_mixed / 4);
        assert_true(g1_mixed < 0.9 * g1_like);
        assert_true(disliked_mixed / 4 < g1_like);
        /* The liked group stays liked. */
        const double g0_like = group_score(&a, x_like, 0, items, 3);
        assert_true(group_score(&a, x_mixed, 0, items, 3) > g0_like * 0.8);
        rs_free(scratch);
        rs_free(G);
        rs_als_destroy(&a);
    }

    /* Every user of group g dislikes 10 items of group g + 1. */
    enum { DIS = 10 };
    const size_t n = m.nnz + (size_t)(NU - 1) * DIS;
    uint32_t *r = rs_xmalloc(n * sizeof *r), *c = rs_xmalloc(n * sizeof *c);
    float *v = rs_xmalloc(n * sizeof *v);
    size_t k = 0;
    for (uint32_t u = 0; u < NU - 1; u++) {
        for (uint64_t j = m.indptr[u]; j < m.indptr[u + 1]; j++, k++) {
            r[k] = u;
            c[k] = m.indices[j];
            v[k] = m.values[j];
        }
        const uint32_t next = (u % GROUPS + 1) % GROUPS;
        for (uint32_t j = 0; j < DIS; j++, k++) {
            r[k] = u;
            c[k] = next * 50 + (u * 7 + j * 5) % 50;
            v[k] = -5;
        }
    }
    rs_csr neg;
    assert_int_equal(rs_csr_from_coo(NU, NI, r, c, v, NULL, k, RS_AGG_LAST, &neg), RS_OK);
    for (int s = 0; s < 2; s++) {
        rs_als_opts o = small_opts((rs_als_solver)s);
        o.compute_loss = true;
        rs_als_model a;
        assert_int_equal(rs_als_fit(&neg, &o, &a, &d), RS_OK);
        double next = 0, other = 0;
        for (uint32_t u = 0; u < NU - 1; u++) {
            const float *x = a.user_factors + (size_t)u * 8;
            next += group_score(&a, x, (u % GROUPS + 1) % GROUPS, NULL, 0);
            other += group_score(&a, x, (u % GROUPS + 2) % GROUPS, NULL, 0);
        }
        next /= NU - 1;
        other /= NU - 1;
        print_message("fit with dislikes (%s): disliked group %.3f, other group %.3f\n",
                      s ? "cholesky" : "cg", next, other);
        /* (Read as weak likes, the dislikes would score their group above
         * the other.) */
        assert_true(next < other * 0.75);
        rs_als_destroy(&a);
    }
    rs_csr_destroy(&neg);
    rs_free(r);
    rs_free(c);
    rs_free(v);
    rs_csr_destroy(&m);
}

typedef struct losses {
    double v[32];
    unsigned n;
} losses;

static void record(void *ctx, const rs_als_iter *it)
{
    losses *l = ctx;
    assert_true(it->seconds >= 0);
    assert_int_equal(it->iteration, l->n + 1);
    l->v[l->n++] = it->loss;
}

static void test_loss_decreases(void **state)
{
    (void)state;
    rs_csr m;
    planted(&m);
    rs_diag d = {{0}};
    for (int s = 0; s < 2; s++) {
        rs_als_opts o = small_opts((rs_als_solver)s);
        losses l = {.n = 0};
        o.compute_loss = true;
        o.progress = record;
        o.progress_ctx = &l;
        rs_als_model a;
        assert_int_equal(rs_als_fit(&m, &o, &a, &d), RS_OK);
        assert_int_equal(l.n, 10);
        assert_true(l.v[9] < l.v[0]);
        for (unsigned i = 1; i < l.n && s == RS_ALS_CHOLESKY; i++)
            assert_true(l.v[i] <= l.v[i - 1] * (1 + 1e-5)); /* exact ALS never rises */
        rs_als_destroy(&a);
    }
    rs_csr_destroy(&m);
}

/* The loss after the last of o's iterations (o->compute_loss is set). */
static double final_loss(const rs_csr *m, rs_als_opts o, rs_als_model *out)
{
    losses l = {.n = 0};
    o.compute_loss = true;
    o.progress = record;
    o.progress_ctx = &l;
    rs_diag d = {{0}};
    assert_int_equal(rs_als_fit(m, &o, out, &d), RS_OK);
    assert_int_equal(l.n, o.iterations);
    return l.v[l.n - 1];
}

/* A warm start from a converged model's item factors reaches, in one or
 * two iterations, the loss the cold fit needed all its iterations for
 * (and far below a cold fit of the same length). Masked rows start at
 * random; a non-finite used row is refused. */
static void test_warm_start(void **state)
{
    (void)state;
    rs_csr m;
    planted(&m);
    for (int s = 0; s < 2; s++) {
        rs_als_opts o = small_opts((rs_als_solver)s);
        o.iterations = 20;
        rs_als_model cold, warm, short_cold;
        const double l_cold = final_loss(&m, o, &cold);
        o.iterations = s == RS_ALS_CHOLESKY ? 1 : 2;
        const double l_short = final_loss(&m, o, &short_cold);
        o.init_item_factors = cold.item_factors;
        const double l_warm = final_loss(&m, o, &warm);
        print_message("%s: cold %.6f after 20, %.6f after %u; warm %.6f after %u\n",
                      rs_als_solver_name((rs_als_solver)s), l_cold, l_short, o.iterations,
                      l_warm, o.iterations);
        assert_true(l_warm <= l_cold * 1.01);
        assert_true(l_short > l_cold * 1.05);
        rs_als_destroy(&warm);

        /* Half the rows masked out: in between. */
        uint8_t mask[NI];
        for (uint32_t i = 0; i < NI; i++)
            mask[i] = i % 2;
        o.init_mask = mask;
        const double l_half = final_loss(&m, o, &warm);
        assert_true(l_half >= l_warm && l_half < l_short);
        rs_als_destroy(&warm);

        /* A masked-out row may hold anything; a used one may not. */
        float *bad = rs_xmalloc((size_t)NI * 8 * sizeof *bad);
        memcpy(bad, cold.item_factors, (size_t)NI * 8 * sizeof *bad);
        bad[2 * 8 + 3] = NAN;
        o.init_item_factors = bad;
        rs_diag d = {{0}};
        assert_int_equal(rs_als_fit(&m, &o, &warm, &d), RS_OK);
        rs_als_destroy(&warm);
        bad[3 * 8 + 1] = INFINITY;
        assert_int_equal(rs_als_fit(&m, &o, &warm, &d), RS_EINVAL);
        assert_non_null(strstr(d.msg, "item 3"));
        assert_null(warm.user_factors);
        rs_free(bad);
        rs_als_destroy(&short_cold);
        rs_als_destroy(&cold);
    }
    rs_csr_destroy(&m);
}

typedef struct stopper {
    uint32_t stop_at, calls;
    double recall[16];
    const rs_csr *tr, *te;
} stopper;

/* Measures the model as it stands, and stops at stop_at. */
static bool stop_at(void *ctx, const rs_als_iter *it)
{
    stopper *s = ctx;
    assert_int_equal(it->iteration, ++s->calls);
    assert_non_null(it->model);
    assert_int_equal(it->model->factors, 8);
    rs_recommender r = {"als", it->model, rs_als_recommend, rs_als_scratch_bytes(it->model)};
    s->recall[it->iteration] = recall_of(&r, s->tr, s->te);
    return it->iteration == s->stop_at;
}

/* The stop callback sees a model that recommends, improving from the first
 * iteration on; stopping early fails with RS_ECANCELED and leaves nothing
 * allocated (ASan checks), and a callback that never stops changes
 * nothing. */
static void test_stop(void **state)
{
    (void)state;
    rs_csr m, tr, te;
    planted(&m);
    split(&m, &tr, &te);
    rs_als_opts o = small_opts(RS_ALS_CG);
    rs_als_model plain, seen;
    rs_diag d = {{0}};
    assert_int_equal(rs_als_fit(&tr, &o, &plain, &d), RS_OK);

    stopper s = {.stop_at = 0, .tr = &tr, .te = &te};
    o.stop = stop_at;
    o.stop_ctx = &s;
    assert_int_equal(rs_als_fit(&tr, &o, &seen, &d), RS_OK);
    assert_int_equal(s.calls, 10);
    assert_memory_equal(plain.item_factors, seen.item_factors, (size_t)NI * 8 * sizeof(float));
    assert_true(s.recall[10] > s.recall[1]);
    rs_recommender r = {"als", &seen, rs_als_recommend, rs_als_scratch_bytes(&seen)};
    assert_float_equal(recall_of(&r, &tr, &te), s.recall[10], 1e-12);
    rs_als_destroy(&seen);

    s = (stopper){.stop_at = 3, .tr = &tr, .te = &te};
    assert_int_equal(rs_als_fit(&tr, &o, &seen, &d), RS_ECANCELED);
    assert_int_equal(s.calls, 3);
    assert_non_null(strstr(d.msg, "stopped early after iteration 3 of 10"));
    assert_null(seen.user_factors);
    assert_null(seen.item_factors);
    rs_als_destroy(&plain);
    rs_csr_destroy(&tr);
    rs_csr_destroy(&te);
    rs_csr_destroy(&m);
}

static void test_bad_options(void **state)
{
    (void)state;
    rs_csr m;
    planted(&m);
    rs_als_model a;
    rs_diag d = {{0}};
    rs_als_opts o = small_opts(RS_ALS_CG);
    o.factors = 0;
    assert_int_equal(rs_als_fit(&m, &o, &a, &d), RS_EINVAL);
    assert_non_null(strstr(d.msg, "factors"));
    o = small_opts(RS_ALS_CG);
    o.reg = -1;
    assert_int_equal(rs_als_fit(&m, &o, &a, &d), RS_EINVAL);
    assert_non_null(strstr(d.msg, "reg"));
    o = small_opts(RS_ALS_CG);
    o.alpha = NAN;
    assert_int_equal(rs_als_fit(&m, &o, &a, &d), RS_EINVAL);
    o = small_opts(RS_ALS_CG);
    o.cg_steps = 0;
    assert_int_equal(rs_als_fit(&m, &o, &a, &d), RS_EINVAL);
    o = small_opts(RS_ALS_CG);
    o.iterations = 0;
    assert_int_equal(rs_als_fit(&m, &o, &a, &d), RS_EINVAL);
    assert_int_equal(rs_als_conf_parse("log1p"), RS_ALS_CONF_LOG1P);
    assert_int_equal(rs_als_solver_parse("cholesky"), RS_ALS_CHOLESKY);
    assert_int_equal(rs_als_solver_parse("magic"), -1);
    rs_csr_destroy(&m);
}

/* Item-kNN: exact cosine values on a hand-made matrix, and BM25. */
static void test_knn(void **state)
{
    (void)state;
    /* users x items:  u0 {0,1}  u1 {0,1,2}  u2 {2,3}  u3 {0}
     * |U0| = 3, |U1| = 2, |U2| = 2, |U3| = 1; U0&U1 = 2, U1&U2 = 1, U2&U3 = 1 */
    uint32_t r[] = {0, 0, 1, 1, 1, 2, 2, 3}, c[] = {0, 1, 0, 1, 2, 2, 3, 0};
    float v[] = {1, 1, 1, 1, 1, 1, 1, 1};
    rs_csr m;
    assert_int_equal(rs_csr_from_coo(4, 5, r, c, v, NULL, 8, RS_AGG_SUM, &m), RS_OK);
    rs_knn_opts o;
    rs_knn_opts_default(&o);
    o.weight = RS_KNN_COSINE;
    o.neighbours = 2;
    rs_knn_model k;
    rs_diag d = {{0}};
    assert_int_equal(rs_knn_fit(&m, &o, &k, &d), RS_OK);
    /* item 0's neighbours: 1 (2 / sqrt(3*2)), then 2 (1 / sqrt(3*2)). */
    assert_int_equal(k.sim.indptr[1] - k.sim.indptr[0], 2);
    assert_int_equal(k.sim.indices[0], 1);
    assert_float_equal(k.sim.values[0], 2 / sqrt(6), 1e-6);
    assert_int_equal(k.sim.indices[1], 2);
    assert_float_equal(k.sim.values[1], 1 / sqrt(6), 1e-6);
    /* item 4 is empty: no neighbours. */
    assert_int_equal(k.sim.indptr[5] - k.sim.indptr[4], 0);
    /* u3 has item 0: scores 1 > 2 > 3 (via 2? no: 3 only co-occurs with 2). */
    rs_scored out[5];
    float scratch[5];
    size_t n;
    uint32_t ex[] = {0};
    assert_int_equal(rs_knn_recommend(&k, 3, ex, 1, 5, out, &n, scratch), RS_OK);
    assert_int_equal(n, 2);
    assert_int_equal(out[0].index, 1);
    assert_int_equal(out[1].index, 2);
    rs_knn_destroy(&k);

    o.weight = RS_KNN_BM25;
    assert_int_equal(rs_knn_fit(&m, &o, &k, &d), RS_OK);
    for (size_t j = 0; j < k.sim.nnz; j++)
        assert_true(k.sim.values[j] > 0);
    rs_knn_destroy(&k);
    o.neighbours = 0;
    assert_int_equal(rs_knn_fit(&m, &o, &k, &d), RS_EINVAL);
    rs_csr_destroy(&m);
}

/* Ratings from a planted rank-2 model: r = 3 + 2 x_u . y_i + noise,
 * rounded into 1..5, 40 random items per user. */
static void planted_ratings(rs_csr *m)
{
    static uint32_t r[NU * 40], c[NU * 40];
    static float v[NU * 40];
    float x[NU][2], y[NI][2];
    rs_rng g;
    rs_rng_init(&g, 21);
    for (int u = 0; u < NU; u++)
        for (int f = 0; f < 2; f++)
            x[u][f] = (float)rs_rng_normal(&g) * 0.7f;
    for (int i = 0; i < NI; i++)
        for (int f = 0; f < 2; f++)
            y[i][f] = (float)rs_rng_normal(&g) * 0.7f;
    size_t n = 0;
    for (uint32_t u = 0; u < NU - 1; u++)
        for (int j = 0; j < 40; j++) {
            uint32_t i = rs_rng_below(&g, NI - 1);
            double t = 3 + 2 * (x[u][0] * y[i][0] + x[u][1] * y[i][1]) + 0.3 * rs_rng_normal(&g);
            r[n] = u;
            c[n] = i;
            v[n] = (float)fmin(5, fmax(1, round(t)));
            n++;
        }
    assert_int_equal(rs_csr_from_coo(NU, NI, r, c, v, NULL, n, RS_AGG_LAST, m), RS_OK);
}

/* Explicit MF, both solvers: the planted ratings are predicted far better
 * than by the mean, deterministically, within the rating range. */
static void check_mf(const rs_csr *tr, const rs_csr *te, rs_mf_solver solver)
{
    rs_mf_opts o;
    rs_mf_opts_default(&o);
    o.solver = solver;
    o.factors = 8;
    o.iterations = 30;
    o.burn_in = 10;
    o.threads = 2;
    rs_mf_model a, b;
    rs_diag d = {{0}};
    assert_int_equal(rs_mf_fit(tr, &o, &a, &d), RS_OK);
    double rmse, mae;
    assert_int_equal(rs_eval_rating(rs_mf_predict, &a, te, &rmse, &mae, &d), RS_OK);
    double se = 0;
    for (size_t j = 0; j < te->nnz; j++)
        se += (te->values[j] - a.mean) * (te->values[j] - a.mean);
    double base = sqrt(se / (double)te->nnz);
    print_message("mf (%s) rmse %.3f vs the mean %.3f\n", rs_mf_solver_name(solver), rmse, base);
    assert_true(rmse < 0.6 * base);
    assert_int_equal(rs_mf_fit(tr, &o, &b, &d), RS_OK);
    assert_memory_equal(a.item_factors, b.item_factors, (size_t)NI * 8 * sizeof(float));
    assert_memory_equal(a.user_bias, b.user_bias, (size_t)NU * sizeof(float));
    for (uint32_t i = 0; i < NI; i++) {
        float p = rs_mf_predict(&a, 5, i);
        assert_true(p >= a.min_rating && p <= a.max_rating);
    }
    /* Unknown user and item fall back to the mean plus known biases. */
    assert_float_equal(rs_mf_predict(&a, 9999, 9999), a.mean, 1e-6);
    assert_float_equal(rs_mf_predict(&a, 9999, 3), a.mean + a.item_bias[3], 1e-6);
    rs_mf_destroy(&a);
    rs_mf_destroy(&b);
}

static void test_mf(void **state)
{
    (void)state;
    rs_csr m, tr, te;
    planted_ratings(&m);
    split(&m, &tr, &te);
    check_mf(&tr, &te, RS_MF_GIBBS);
    check_mf(&tr, &te, RS_MF_SGD);

    rs_mf_opts o;
    rs_mf_model a;
    rs_diag d = {{0}};
    rs_mf_opts_default(&o);
    o.solver = RS_MF_SGD;
    o.lr = 0;
    assert_int_equal(rs_mf_fit(&tr, &o, &a, &d), RS_EINVAL);
    rs_mf_opts_default(&o);
    o.burn_in = o.iterations;
    assert_int_equal(rs_mf_fit(&tr, &o, &a, &d), RS_EINVAL);
    assert_non_null(strstr(d.msg, "burn-in"));
    assert_int_equal(rs_mf_solver_parse("gibbs"), RS_MF_GIBBS);
    assert_int_equal(rs_mf_solver_parse("sgd"), RS_MF_SGD);
    assert_int_equal(rs_mf_solver_parse("adam"), -1);
    rs_csr_destroy(&tr);
    rs_csr_destroy(&te);
    rs_csr_destroy(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_recovers_planted_groups),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_fold_in),
        cmocka_unit_test(test_negative_feedback),
        cmocka_unit_test(test_loss_decreases),
        cmocka_unit_test(test_warm_start),
        cmocka_unit_test(test_stop),
        cmocka_unit_test(test_bad_options),
        cmocka_unit_test(test_knn),
        cmocka_unit_test(test_mf),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
