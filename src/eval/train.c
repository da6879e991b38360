/* The training pipeline (see train.h). */
#include "train.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/timeutil.h"
#include "data/dataset.h"

/* Collects the evaluation results by model name and forwards each to the
 * caller. */
typedef struct collector {
    const rs_train_opts *o;
    json_t *models;
} collector;

static void on_result(void *ctx, const rs_model_result *r)
{
    collector *c = ctx;
    char buf[2048];
    rs_model_result_json(r, RS_METRIC_ALL, buf, sizeof buf);
    json_t *j = json_loads(buf, 0, NULL);
    if (j)
        json_object_set_new(c->models, r->model, j);
    if (c->o->on_result)
        c->o->on_result(c->o->ctx, r);
}

/* The model whose held-out ranking stands for the version: the one
 * `strategy=auto` serves (hybrid, then ALS), else the first measured. */
static const char *primary_model(json_t *models)
{
    static const char *const order[] = {"hybrid", "als", "popularity", "similar", "knn", "mf"};
    for (size_t i = 0; i < RS_ARRAY_LEN(order); i++) {
        json_t *m = json_object_get(models, order[i]);
        if (m && json_is_number(json_object_get(m, "ndcg")))
            return order[i];
    }
    return NULL;
}

/* {"k": K, "primary": M, "ndcg": .., "recall": .., "models": {...}}, or
 * NULL without an evaluation. Sets the report's score. */
static json_t *metrics_object(const rs_train_opts *o, json_t *models, rs_train_report *r)
{
    r->score = NAN;
    r->primary = NULL;
    if (!models || json_object_size(models) == 0)
        return NULL;
    json_t *m = json_pack("{s:I,s:O}", "k", (json_int_t)(o->eval.k ? o->eval.k : 10), "models",
                          models);
    const char *primary = primary_model(models);
    if (m && primary) {
        json_t *pm = json_object_get(models, primary);
        r->score = json_number_value(json_object_get(pm, "ndcg"));
        r->primary = primary;
        json_object_set_new(m, "primary", json_string(primary));
        json_object_set(m, "ndcg", json_object_get(pm, "ndcg"));
        if (json_object_get(pm, "recall"))
            json_object_set(m, "recall", json_object_get(pm, "recall"));
    }
    return m;
}

static char *dump(json_t *j)
{
    char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
    return s ? s : rs_xstrdup("{}");
}

/* The data fingerprint: what the run saw of the store. */
static json_t *data_object(const rs_train_opts *o, const rs_dataset *d, const rs_train_report *r)
{
    char hash[17];
    snprintf(hash, sizeof hash, "%016llx", (unsigned long long)d->fingerprint);
    return json_pack("{s:I,s:I,s:I,s:I,s:I,s:s,s:s}", "users", (json_int_t)r->users, "items",
                     (json_int_t)r->items, "interactions", (json_int_t)r->interactions, "events",
                     (json_int_t)r->events, "newest_event_ms", (json_int_t)d->newest_event_ms,
                     "hash", hash, "aggregation", rs_agg_name(o->agg));
}

/* The metadata object stored in the bundle. */
static char *meta_json(const rs_train_opts *o, json_t *data, json_t *metrics,
                       const rs_train_report *r)
{
    json_t *models = json_array();
    for (unsigned f = 1; f <= RS_MODEL_LAST; f <<= 1)
        if (o->models & f)
            json_array_append_new(models, json_string(rs_model_name(f)));
    char *params = rs_model_params_json(&o->eval.params);
    json_t *m = json_pack("{s:s,s:I,s:o,s:o,s:O,s:O,s:{s:f,s:f,s:f}}", "recsys_version",
                          RS_VERSION, "created_ms", (json_int_t)rs_now_ms(), "models", models,
                          "params", json_loads(params, 0, NULL), "metrics",
                          metrics ? metrics : json_null(), "data", data, "seconds", "load",
                          r->load_seconds, "evaluate", r->eval_seconds, "fit", r->fit_seconds);
    rs_free(params);
    char *out = dump(m);
    json_decref(m);
    return out;
}

/* The warm start of ALS from an earlier bundle's item factors for the
 * items of `items` (rows of items it does not know are masked out). Sets
 * nothing when the earlier bundle has no ALS of this many factors. The
 * arrays are the caller's to free; returns the items matched. */
static uint32_t warm_start(const rs_bundle *prev, const rs_idmap *items, uint32_t factors,
                           float **init, uint8_t **mask)
{
    *init = NULL;
    *mask = NULL;
    if (!prev || !(prev->models & RS_MODEL_ALS) || prev->als.factors != factors)
        return 0;
    const uint32_t n = (uint32_t)rs_idmap_size(items);
    *init = rs_xcalloc((size_t)(n ? n : 1) * factors, sizeof **init);
    *mask = rs_xcalloc(n ? n : 1, 1);
    uint32_t matched = 0;
    for (uint32_t i = 0; i < n; i++) {
        size_t len;
        const char *id = rs_idmap_get(items, i, &len);
        const uint32_t j = rs_idmap_find(prev->items, id, len);
        if (j == RS_INDEX_NONE || j >= prev->als.n_items)
            continue;
        memcpy(*init + (size_t)i * factors, prev->als.item_factors + (size_t)j * factors,
               factors * sizeof **init);
        (*mask)[i] = 1;
        matched++;
    }
    return matched;
}

rs_err rs_train(rs_store *s, const rs_train_opts *o, rs_bundle *out, rs_train_report *report,
                rs_diag *diag)
{
    memset(out, 0, sizeof *out);
    rs_train_report r = {0};
    rs_dataset d;
    rs_dataset_opts dopts = {.agg = o->agg,
                             .content = (o->models & RS_MODEL_HYBRID) != 0,
                             .content_opts = o->eval.params.content};
    double t0 = rs_mono_s();
    rs_err e = rs_dataset_load(s, &dopts, &d, diag);
    if (e)
        return e;
    r.load_seconds = rs_mono_s() - t0;
    r.users = d.ui.n_rows;
    r.items = d.ui.n_cols;
    r.interactions = d.ui.nnz;
    r.events = d.events;
    rs_log_info("loaded", RS_U("users", r.users), RS_U("items", r.items),
                RS_U("interactions", r.interactions), RS_F("seconds", r.load_seconds));
    if (d.ui.nnz == 0) {
        rs_dataset_destroy(&d);
        return rs_diag_fail(diag, RS_EINVAL,
                            "the store has no events to train on (import some first)");
    }

    collector c = {.o = o, .models = json_object()};
    if (o->evaluate) {
        rs_experiment_opts eo = o->eval;
        eo.models = o->models;
        t0 = rs_mono_s();
        e = rs_experiment_run(&d, &eo, on_result, &c, diag);
        r.eval_seconds = rs_mono_s() - t0;
        if (e)
            goto out;
    }

    t0 = rs_mono_s();
    rs_fit_input in = {.ui = &d.ui, .ts_ms = d.ts_ms, .item_category = d.item_category,
                       .n_categories = (uint32_t)rs_idmap_size(d.categories),
                       .features = dopts.content ? &d.features : NULL};
    rs_model_params final = o->eval.params;
    float *init;
    uint8_t *mask;
    r.warm_items = warm_start(o->warm, d.items, final.als.factors, &init, &mask);
    final.als.init_item_factors = init;
    final.als.init_mask = mask;
    if (o->warm)
        rs_log_info("warm start", RS_U("items", r.warm_items), RS_U("of", r.items));
    e = rs_fit_models(&in, o->models, &final, out, NULL, diag);
    rs_free(init);
    rs_free(mask);
    if (e)
        goto out;
    r.fit_seconds = rs_mono_s() - t0;

    /* The bundle takes the id maps and item attributes over. */
    out->users = d.users;
    out->items = d.items;
    out->categories = d.categories;
    out->item_category = d.item_category;
    out->item_hidden = d.item_hidden;
    d.users = d.items = d.categories = NULL;
    d.item_category = NULL;
    d.item_hidden = NULL;
    if (out->models & RS_MODEL_HYBRID) {
        out->content = d.content;
        memset(&d.content, 0, sizeof d.content);
    }
    json_t *metrics = metrics_object(o, c.models, &r);
    json_t *data = data_object(o, &d, &r);
    out->meta = meta_json(o, data, metrics, &r);
    r.metrics = metrics ? dump(metrics) : NULL;
    r.data = dump(data);
    json_decref(metrics);
    json_decref(data);
out:
    json_decref(c.models);
    rs_dataset_destroy(&d);
    if (e)
        rs_bundle_destroy(out);
    if (!e && report)
        *report = r;
    else
        rs_train_report_destroy(&r);
    return e;
}

void rs_train_report_destroy(rs_train_report *r)
{
    rs_free(r->metrics);
    rs_free(r->data);
    r->metrics = r->data = NULL;
}
