/* Fitting the chosen models into a bundle (see fit.h). */
#include "fit.h"

#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/timeutil.h"

void rs_model_params_default(rs_model_params *p)
{
    memset(p, 0, sizeof *p);
    rs_als_opts_default(&p->als);
    rs_mf_opts_default(&p->mf);
    rs_knn_opts_default(&p->knn);
    p->similar.neighbours = RS_SIMILAR_DEFAULT_NEIGHBOURS;
    rs_hybrid_opts_default(&p->hybrid);
    p->half_life_ms = 7.0 * 86400.0 * 1000.0;
}

static void log_als_iteration(void *ctx, const rs_als_iter *it)
{
    (void)ctx;
    if (isnan(it->loss))
        rs_log_info("als iteration", RS_U("iteration", it->iteration),
                    RS_U("of", it->iterations), RS_F("seconds", it->seconds));
    else
        rs_log_info("als iteration", RS_U("iteration", it->iteration),
                    RS_U("of", it->iterations), RS_F("seconds", it->seconds),
                    RS_F("loss", it->loss));
}

/* Every tenth sweep/epoch of the rating model, and the last. */
static void log_mf_iteration(void *ctx, uint32_t iteration, double train_rmse, double seconds)
{
    const rs_mf_opts *o = ctx;
    if (iteration % 10 == 0 || iteration == o->iterations)
        rs_log_info("mf iteration", RS_U("iteration", iteration), RS_U("of", o->iterations),
                    RS_F("seconds", seconds), RS_F("train_rmse", train_rmse));
}

/* Index of a single-bit model flag: 1 << i -> i. */
static int flag_index(unsigned flag)
{
    int i = 0;
    while (flag > 1u) {
        flag >>= 1;
        i++;
    }
    return i;
}

static rs_err fit_one(const rs_fit_input *in, unsigned flag, const rs_model_params *p,
                      rs_bundle *b, rs_diag *diag)
{
    switch (flag) {
    case RS_MODEL_POPULARITY: {
        rs_pop_opts o = {.half_life_ms = p->half_life_ms, .ts_ms = in->ts_ms,
                         .item_category = in->item_category, .n_categories = in->n_categories};
        return rs_popularity_fit(in->ui, &o, &b->pop, diag);
    }
    case RS_MODEL_ALS: {
        rs_als_opts o = p->als;
        o.threads = p->threads;
        if (!o.progress && rs_log_enabled(RS_LOG_INFO))
            o.progress = log_als_iteration;
        return rs_als_fit(in->ui, &o, &b->als, diag);
    }
    case RS_MODEL_SIMILAR: {
        rs_similar_opts o = p->similar;
        o.threads = p->threads;
        return rs_similar_fit(b->als.item_factors, b->als.n_items, b->als.factors, &o,
                              &b->similar, diag);
    }
    case RS_MODEL_KNN: {
        rs_knn_opts o = p->knn;
        o.threads = p->threads;
        return rs_knn_fit(in->ui, &o, &b->knn, diag);
    }
    case RS_MODEL_MF: {
        rs_mf_opts o = p->mf;
        o.threads = p->threads;
        if (!o.progress && rs_log_enabled(RS_LOG_INFO)) {
            o.progress = log_mf_iteration;
            o.progress_ctx = &o;
        }
        return rs_mf_fit(in->ui, &o, &b->mf, diag);
    }
    case RS_MODEL_HYBRID: {
        if (!in->features)
            return rs_diag_fail(diag, RS_EINVAL, "hybrid: no item content was loaded");
        rs_hybrid_opts o = p->hybrid;
        o.threads = p->threads;
        return rs_hybrid_fit(in->features, in->ui, &b->als, &o, &b->hybrid, diag);
    }
    }
    return rs_diag_fail(diag, RS_EINVAL, "unknown model flag %u", flag);
}

rs_err rs_fit_models(const rs_fit_input *in, unsigned models, const rs_model_params *p,
                     rs_bundle *b, double seconds[RS_MODEL_COUNT], rs_diag *diag)
{
    if (models & (RS_MODEL_SIMILAR | RS_MODEL_HYBRID))
        models |= RS_MODEL_ALS;
    rs_err e = rs_csr_copy(in->ui, &b->seen);
    if (e)
        return rs_diag_fail(diag, e, "out of memory copying the interactions");
    /* ALS before SIMILAR and HYBRID: the flags are in dependency order. */
    for (unsigned flag = 1; flag <= RS_MODEL_LAST; flag <<= 1) {
        if (!(models & flag))
            continue;
        rs_log_info("fitting", RS_S("model", rs_model_name(flag)),
                    RS_U("users", in->ui->n_rows), RS_U("items", in->ui->n_cols),
                    RS_U("interactions", in->ui->nnz));
        double t0 = rs_mono_s();
        if ((e = fit_one(in, flag, p, b, diag))) {
            b->models = models; /* so that destroy frees what was fitted */
            return e;
        }
        double dt = rs_mono_s() - t0;
        if (seconds)
            seconds[flag_index(flag)] = dt;
        rs_log_info("fitted", RS_S("model", rs_model_name(flag)), RS_F("seconds", dt));
    }
    b->models = models;
    return RS_OK;
}
