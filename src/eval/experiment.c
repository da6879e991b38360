/* Running an offline experiment (see experiment.h). */
#include "experiment.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "core/alloc.h"
#include "core/log.h"
#include "models/rerank.h"

static double peak_rss_mb(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return NAN;
    return (double)ru.ru_maxrss / 1024.0;
}

/* The ranking interface of each model in a fitted bundle. The similar-items
 * model recommends through the item-kNN scorer over its neighbour lists,
 * the hybrid through the ALS scorer over its item vectors. */
static bool recommender_for(const rs_bundle *b, unsigned flag, rs_knn_model *sim_knn,
                            rs_als_model *hybrid_view, rs_recommender *r)
{
    switch (flag) {
    case RS_MODEL_HYBRID:
        *hybrid_view = rs_hybrid_view(&b->hybrid, &b->als);
        *r = (rs_recommender){"hybrid", hybrid_view, rs_als_recommend,
                              rs_als_scratch_bytes(hybrid_view)};
        return true;
    case RS_MODEL_POPULARITY:
        *r = (rs_recommender){"popularity", &b->pop, rs_popularity_recommend, 0};
        return true;
    case RS_MODEL_ALS:
        *r = (rs_recommender){"als", &b->als, rs_als_recommend, rs_als_scratch_bytes(&b->als)};
        return true;
    case RS_MODEL_SIMILAR:
        *sim_knn = (rs_knn_model){.sim = b->similar, .user_items = b->seen};
        *r = (rs_recommender){"similar", sim_knn, rs_knn_recommend, rs_knn_scratch_bytes(sim_knn)};
        return true;
    case RS_MODEL_KNN:
        *r = (rs_recommender){"knn", &b->knn, rs_knn_recommend, rs_knn_scratch_bytes(&b->knn)};
        return true;
    case RS_MODEL_MF:
        *r = (rs_recommender){"mf", &b->mf, rs_mf_recommend, rs_mf_scratch_bytes(&b->mf)};
        return true;
    }
    return false;
}

/* A recommender whose lists are re-ranked for diversity: the inner one
 * fills a pool, maximal marginal relevance picks k from it. */
typedef struct diverse {
    rs_recommender inner;
    const float *item_factors;
    uint32_t factors;
    const uint32_t *item_category;  /* or NULL */
    float lambda;
    size_t k;
} diverse;

/* Scratch: the inner recommender's, then the pool, its vectors and
 * categories, then the re-ranking's. */
static size_t diverse_scratch_bytes(const diverse *d)
{
    const size_t pool = rs_mmr_pool(d->k);
    return d->inner.scratch_bytes + pool * (sizeof(rs_scored) + sizeof(float *) + 4) +
           rs_mmr_scratch_bytes(pool) + 64;
}

static rs_err diverse_recommend(const void *model, uint32_t user, const uint32_t *exclude,
                                size_t n_exclude, size_t k, rs_scored *out, size_t *n,
                                void *scratch)
{
    const diverse *d = model;
    const size_t cap = rs_mmr_pool(d->k);
    char *p = scratch;
    void *inner = p;
    p += d->inner.scratch_bytes;
    p += (size_t)(-(uintptr_t)p & 7); /* align the pointers */
    const float **vec = (const float **)p;
    p += cap * sizeof *vec;
    rs_scored *pool = (rs_scored *)p;
    p += cap * sizeof *pool;
    uint32_t *cat = (uint32_t *)p;
    p += cap * sizeof *cat;
    size_t got = 0;
    rs_err e = d->inner.recommend(d->inner.model, user, exclude, n_exclude, cap, pool, &got,
                                  inner);
    if (e)
        return e;
    for (size_t i = 0; i < got; i++) {
        vec[i] = d->item_factors + (size_t)pool[i].index * d->factors;
        cat[i] = d->item_category ? d->item_category[pool[i].index] : RS_INDEX_NONE;
    }
    rs_mmr_input in = {pool, got, vec, d->factors, cat};
    *n = rs_mmr_rerank(&in, d->lambda, k, p);
    memcpy(out, pool, *n * sizeof *out);
    return RS_OK;
}

static uint32_t users_with_entries(const rs_csr *m)
{
    uint32_t n = 0;
    for (uint32_t u = 0; u < m->n_rows; u++)
        n += m->indptr[u + 1] > m->indptr[u];
    return n;
}

rs_err rs_experiment_run(const rs_dataset *d, const rs_experiment_opts *o, rs_result_fn on_result,
                         void *ctx, rs_diag *diag)
{
    rs_csr train = {0}, test = {0};
    rs_err e = rs_split(&d->ui, d->ts_ms, &o->split, &train, &test, diag);
    if (e)
        return e;
    /* Entry times for the training part, for trending popularity. */
    int64_t *train_ts = NULL;
    if (d->ts_ms) {
        train_ts = rs_xmalloc((train.nnz ? train.nnz : 1) * sizeof *train_ts);
        for (uint32_t u = 0; u < train.n_rows; u++) {
            uint64_t j = d->ui.indptr[u];
            for (uint64_t t = train.indptr[u]; t < train.indptr[u + 1]; t++) {
                while (d->ui.indices[j] != train.indices[t])
                    j++;
                train_ts[t] = d->ts_ms[j];
            }
        }
    }
    const size_t k = o->k ? o->k : 10;
    rs_fit_input in = {.ui = &train, .ts_ms = train_ts, .item_category = d->item_category,
                       .n_categories = (uint32_t)rs_idmap_size(d->categories),
                       .features = d->features.indptr ? &d->features : NULL};
    rs_eval_opts eo = {.k = k, .item_category = in.n_categories ? d->item_category : NULL,
                       .threads = o->params.threads};

    for (unsigned flag = 1; flag <= RS_MODEL_LAST && !e; flag <<= 1) {
        if (!(o->models & flag))
            continue;
        rs_bundle b = {0};
        double secs[RS_MODEL_COUNT] = {0};
        unsigned need = flag & (RS_MODEL_SIMILAR | RS_MODEL_HYBRID) ? (flag | RS_MODEL_ALS) : flag;
        if ((e = rs_fit_models(&in, need, &o->params, &b, secs, diag))) {
            rs_bundle_destroy(&b);
            break;
        }
        rs_model_result r = {.model = rs_model_name(flag), .split = rs_split_name(o->split.kind),
                             .protocol = rs_protocol_name(o->split.protocol),
                             .keep = o->split.protocol == RS_PROTOCOL_COLD_USERS ? o->split.keep : 0,
                             .k = k, .rmse = NAN, .mae = NAN, .peak_rss_mb = peak_rss_mb(),
                             .train_users = users_with_entries(&train),
                             .test_users = users_with_entries(&test),
                             .train_interactions = train.nnz, .test_interactions = test.nnz};
        for (int i = 0; i < RS_MODEL_COUNT; i++)
            r.fit_seconds += secs[i];
        rs_knn_model sim_knn;
        rs_als_model hybrid_view;
        rs_recommender rec;
        recommender_for(&b, flag, &sim_knn, &hybrid_view, &rec);
        diverse div;
        if (o->diversity > 0 && (flag == RS_MODEL_ALS || flag == RS_MODEL_HYBRID)) {
            div = (diverse){rec, rec.model == &hybrid_view ? b.hybrid.item_factors
                                                           : b.als.item_factors,
                            b.als.factors, eo.item_category, o->diversity, k};
            rec = (rs_recommender){rec.name, &div, diverse_recommend, diverse_scratch_bytes(&div)};
            r.diversity = o->diversity;
        }
        e = rs_eval_topk(&rec, &train, &test, &eo, &r.topk, diag);
        if (!e && flag == RS_MODEL_MF)
            e = rs_eval_rating(rs_mf_predict, &b.mf, &test, &r.rmse, &r.mae, diag);
        rs_bundle_destroy(&b);
        if (!e)
            on_result(ctx, &r);
    }
    rs_free(train_ts);
    rs_csr_destroy(&train);
    rs_csr_destroy(&test);
    return e;
}

/* JSON has no NaN: write null. */
static int num(char *buf, size_t cap, const char *key, double v)
{
    if (!isfinite(v))
        return snprintf(buf, cap, ",\"%s\":null", key);
    return snprintf(buf, cap, ",\"%s\":%.6g", key, v);
}

static const char *const metric_names[] = {"precision", "recall",    "ndcg",    "map",
                                           "hit_rate",  "coverage",  "diversity", "novelty",
                                           "rmse",      "mae"};

unsigned rs_metric_parse(const char *name)
{
    if (!strcmp(name, "all"))
        return RS_METRIC_ALL;
    for (unsigned i = 0; i < RS_ARRAY_LEN(metric_names); i++)
        if (!strcmp(name, metric_names[i]))
            return 1u << i;
    return 0;
}

size_t rs_model_result_json(const rs_model_result *r, unsigned metrics, char *buf, size_t cap)
{
    const double values[] = {r->topk.precision, r->topk.recall,    r->topk.ndcg,
                             r->topk.map,       r->topk.hit_rate,  r->topk.coverage,
                             r->topk.diversity, r->topk.novelty,   r->rmse,
                             r->mae};
    size_t n = 0;
#define PUT(expr)                                                       \
    do {                                                                \
        int w_ = (expr);                                                \
        n += w_ > 0 ? (size_t)w_ : 0;                                   \
    } while (0)
#define REST buf + (n < cap ? n : cap), n < cap ? cap - n : 0
    PUT(snprintf(REST, "{\"model\":\"%s\",\"protocol\":\"%s\",\"split\":\"%s\",\"k\":%zu",
                 r->model, r->protocol ? r->protocol : "normal", r->split, r->k));
    if (r->keep)
        PUT(snprintf(REST, ",\"keep\":%u", r->keep));
    if (r->diversity > 0)
        PUT(num(REST, "rerank_diversity", r->diversity));
    for (unsigned i = 0; i < RS_ARRAY_LEN(metric_names); i++)
        if (metrics & (1u << i))
            PUT(num(REST, metric_names[i], values[i]));
    PUT(num(REST, "fit_seconds", r->fit_seconds));
    PUT(num(REST, "eval_seconds", r->topk.seconds));
    PUT(num(REST, "peak_rss_mb", r->peak_rss_mb));
    PUT(snprintf(REST, ",\"users\":%u,\"train_interactions\":%zu,\"test_interactions\":%zu}",
                 r->topk.users, r->train_interactions, r->test_interactions));
#undef PUT
#undef REST
    return n;
}
