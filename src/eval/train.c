/* The training pipeline (see train.h). */
#include "train.h"

#include <jansson.h>
#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/timeutil.h"
#include "data/dataset.h"

/* Collects the evaluation results into a JSON array for the metadata and
 * forwards each to the caller. */
typedef struct collector {
    const rs_train_opts *o;
    json_t *metrics;
} collector;

static void on_result(void *ctx, const rs_model_result *r)
{
    collector *c = ctx;
    char buf[2048];
    rs_model_result_json(r, RS_METRIC_ALL, buf, sizeof buf);
    json_t *j = json_loads(buf, 0, NULL);
    if (j)
        json_array_append_new(c->metrics, j);
    if (c->o->on_result)
        c->o->on_result(c->o->ctx, r);
}

static json_t *params_json(const rs_model_params *p)
{
    return json_pack(
        "{s:{s:i,s:i,s:f,s:b,s:f,s:f,s:s,s:s,s:i},s:{s:s,s:i,s:i,s:i,s:f,s:f},s:{s:i,s:s,s:f,s:f},"
        "s:{s:i},s:{s:f,s:f,s:i,s:i,s:i},s:{s:f}}",
        "als", "factors", (json_int_t)p->als.factors, "iterations",
        (json_int_t)p->als.iterations, "reg", (double)p->als.reg, "reg_by_count",
        p->als.reg_by_count, "reg_count", (double)p->als.reg_count, "alpha", (double)p->als.alpha, "confidence",
        rs_als_conf_name(p->als.conf), "solver", rs_als_solver_name(p->als.solver), "cg_steps",
        (json_int_t)p->als.cg_steps, "mf", "solver", rs_mf_solver_name(p->mf.solver), "factors",
        (json_int_t)p->mf.factors, "iterations", (json_int_t)p->mf.iterations, "burn_in",
        (json_int_t)p->mf.burn_in, "reg", (double)p->mf.reg, "lr", (double)p->mf.lr, "knn",
        "neighbours", (json_int_t)p->knn.neighbours, "weight", rs_knn_weight_name(p->knn.weight),
        "bm25_k1", (double)p->knn.bm25_k1, "bm25_b", (double)p->knn.bm25_b, "similar",
        "neighbours", (json_int_t)p->similar.neighbours, "hybrid", "reg", (double)p->hybrid.reg,
        "blend", (double)p->hybrid.blend, "min_count", (json_int_t)p->hybrid.min_count, "min_df",
        (json_int_t)p->content.min_df, "max_terms", (json_int_t)p->content.max_terms,
        "popularity", "half_life_ms",
        p->half_life_ms);
}

/* The metadata object stored in the bundle. */
static char *meta_json(const rs_train_opts *o, const rs_dataset *d, json_t *metrics,
                       const rs_train_report *r)
{
    json_t *models = json_array();
    for (unsigned f = 1; f <= RS_MODEL_LAST; f <<= 1)
        if (o->models & f)
            json_array_append_new(models, json_string(rs_model_name(f)));
    json_t *m = json_pack(
        "{s:s,s:I,s:o,s:o,s:o,s:{s:I,s:I,s:I,s:I,s:I,s:s},s:{s:f,s:f,s:f}}", "recsys_version",
        RS_VERSION, "created_ms", (json_int_t)rs_now_ms(), "models", models, "params",
        params_json(&o->eval.params), "metrics", metrics ? json_incref(metrics) : json_null(),
        "data", "users", (json_int_t)r->users, "items", (json_int_t)r->items, "interactions",
        (json_int_t)r->interactions, "events", (json_int_t)r->events, "newest_event_ms",
        (json_int_t)d->newest_event_ms, "aggregation", rs_agg_name(o->agg), "seconds", "load",
        r->load_seconds, "evaluate", r->eval_seconds, "fit", r->fit_seconds);
    size_t len = m ? json_dumpb(m, NULL, 0, JSON_COMPACT) : 0;
    char *out = rs_xmalloc(len + 3);
    if (len == 0 || json_dumpb(m, out, len, JSON_COMPACT) != len)
        len = (size_t)snprintf(out, 3, "{}");
    out[len] = '\0';
    json_decref(m);
    return out;
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

    collector c = {.o = o, .metrics = NULL};
    if (o->evaluate) {
        c.metrics = json_array();
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
    if ((e = rs_fit_models(&in, o->models, &o->eval.params, out, NULL, diag)))
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
    out->meta = meta_json(o, &d, c.metrics, &r);
out:
    json_decref(c.metrics);
    rs_dataset_destroy(&d);
    if (e)
        rs_bundle_destroy(out);
    else if (report)
        *report = r;
    return e;
}
