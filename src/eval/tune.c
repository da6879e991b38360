/* The hyperparameter search (see tune.h): the search space as one table,
 * the data parts a search works on, scoring a model at a checkpoint or at
 * the end, one trial with the median stopping rule, and the driver.
 *
 * Memory: the parts (four or five matrices and the training part's entry
 * times) are built once and freed at the end; a trial owns its model only
 * until it is scored. The median rule keeps the checkpoint scores of the
 * finished trials, at most MAX_STEPS each. */
#include "tune.h"

#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "core/rng.h"
#include "core/timeutil.h"
#include "eval/evaluate.h"
#include "models/hybrid.h"

#define MAX_STEPS 32               /* checkpoints 2, 4, ..., 2^31: 31 at most */
#define VALIDATION_SEED_OFFSET 1   /* the fit/validation split's seed: split.seed + 1 */

void rs_tune_opts_default(rs_tune_opts *o)
{
    memset(o, 0, sizeof *o);
    o->model = RS_MODEL_ALS;
    o->trials = 30;
    o->seed = 42;
    o->k = 10;
    o->split = (rs_split_opts){.protocol = RS_PROTOCOL_NORMAL, .kind = RS_SPLIT_RANDOM,
                               .test_fraction = 0.2, .seed = 42, .keep = 3};
    rs_model_params_default(&o->base);
    o->try_base = true;
    o->startup = RS_TPE_DEFAULT_STARTUP;
    o->prune = true;
    o->prune_warmup = 4;
    o->prune_min_step = 4;
    o->check_users = 2000;
}

/* ---- the search space ---------------------------------------------------- */

/* One searchable parameter: its dimension and where it lives in
 * rs_model_params (a float, or a uint32_t when is_u32). */
typedef struct param_row {
    rs_tpe_dim dim;
    bool hybrid_only;
    size_t offset;
    bool is_u32;
} param_row;

static const param_row params_table[] = {
    {{"factors", RS_TPE_LOG_INT, 16, 256}, false, offsetof(rs_model_params, als.factors), true},
    {{"reg", RS_TPE_LOG, 0.1, 100}, false, offsetof(rs_model_params, als.reg), false},
    {{"reg-count", RS_TPE_LOG, 0.001, 1}, false, offsetof(rs_model_params, als.reg_count), false},
    {{"alpha", RS_TPE_LOG, 0.1, 50}, false, offsetof(rs_model_params, als.alpha), false},
    {{"iterations", RS_TPE_INT, 4, 30}, false, offsetof(rs_model_params, als.iterations), true},
    {{"hybrid-reg", RS_TPE_LOG, 0.01, 10}, true, offsetof(rs_model_params, hybrid.reg), false},
    {{"hybrid-blend", RS_TPE_LOG, 0.1, 10}, true, offsetof(rs_model_params, hybrid.blend), false},
};

size_t rs_tune_space(unsigned model, const rs_model_params *base, rs_tpe_dim *dims)
{
    size_t n = 0;
    for (size_t i = 0; i < RS_ARRAY_LEN(params_table); i++) {
        const param_row *r = &params_table[i];
        if (r->hybrid_only && model != RS_MODEL_HYBRID)
            continue;
        if (r->offset == offsetof(rs_model_params, als.reg_count) && base->als.reg_count == 0)
            continue; /* the base does without the count term: keep it so */
        dims[n] = r->dim;
        if (r->offset == offsetof(rs_model_params, als.reg) && base->als.reg_by_count) {
            dims[n].lo = 0.001; /* ALS-WR multiplies reg by the row's count */
            dims[n].hi = 10;
        }
        n++;
    }
    RS_ASSERT(n <= RS_TUNE_MAX_DIMS);
    return n;
}

/* The table row of a dimension, or NULL when its name is not in it. */
static const param_row *find_row(const rs_tpe_dim *d)
{
    for (size_t i = 0; d->name && i < RS_ARRAY_LEN(params_table); i++)
        if (!strcmp(params_table[i].dim.name, d->name))
            return &params_table[i];
    return NULL;
}

/* The row of a dimension already checked (check_space) or given out by
 * rs_tune_space. */
static const param_row *row_of(const rs_tpe_dim *d)
{
    const param_row *r = find_row(d);
    RS_ASSERT(r);
    return r;
}

/* A caller's space: known names with their table kinds, each once. The
 * bounds are the sampler's to check. */
static rs_err check_space(const rs_tpe_dim *dims, size_t n, rs_diag *diag)
{
    if (n == 0 || n > RS_TUNE_MAX_DIMS)
        return rs_diag_fail(diag, RS_EINVAL, "tune: the space needs 1 to %d dimensions",
                            RS_TUNE_MAX_DIMS);
    for (size_t i = 0; i < n; i++) {
        const param_row *r = find_row(&dims[i]);
        if (!r)
            return rs_diag_fail(diag, RS_EINVAL, "tune: no parameter named '%s'",
                                dims[i].name ? dims[i].name : "(null)");
        if (dims[i].kind != r->dim.kind)
            return rs_diag_fail(diag, RS_EINVAL, "tune: %s must be searched as %s", r->dim.name,
                                r->is_u32 ? "a whole number" : "a real number on a log scale");
        for (size_t j = 0; j < i; j++)
            if (find_row(&dims[j]) == r)
                return rs_diag_fail(diag, RS_EINVAL, "tune: %s is in the space twice",
                                    r->dim.name);
    }
    return RS_OK;
}

void rs_tune_values(const rs_tpe_dim *dims, size_t n, const rs_model_params *p, double *values)
{
    for (size_t i = 0; i < n; i++) {
        const param_row *r = row_of(&dims[i]);
        const char *field = (const char *)p + r->offset;
        double v;
        if (r->is_u32) {
            uint32_t u;
            memcpy(&u, field, sizeof u);
            v = u;
        } else {
            float f;
            memcpy(&f, field, sizeof f);
            v = f;
        }
        v = v < dims[i].lo ? dims[i].lo : v > dims[i].hi ? dims[i].hi : v;
        if (dims[i].kind == RS_TPE_INT || dims[i].kind == RS_TPE_LOG_INT)
            v = round(v);
        values[i] = v;
    }
}

/* Writes values of the n dims into p. */
static void apply_values(const rs_tpe_dim *dims, size_t n, const double *values,
                         rs_model_params *p)
{
    for (size_t i = 0; i < n; i++) {
        const param_row *r = row_of(&dims[i]);
        char *field = (char *)p + r->offset;
        if (r->is_u32) {
            const uint32_t u = (uint32_t)llround(values[i]);
            memcpy(field, &u, sizeof u);
        } else {
            const float f = (float)values[i];
            memcpy(field, &f, sizeof f);
        }
    }
}

/* ---- the data parts -------------------------------------------------------- */

/* What the search works on, all owned: train/test from the data, fit and
 * validation from train, and check, validation cut down to at most
 * check_users users (empty when validation is small enough to use whole). */
typedef struct parts {
    rs_csr train, test, fit, val, check;
    int64_t *train_ts;  /* train.nnz entry times, or NULL */
} parts;

static void parts_destroy(parts *p)
{
    rs_csr_destroy(&p->train);
    rs_csr_destroy(&p->test);
    rs_csr_destroy(&p->fit);
    rs_csr_destroy(&p->val);
    rs_csr_destroy(&p->check);
    rs_free(p->train_ts);
    memset(p, 0, sizeof *p);
}

/* The validation users scored at checkpoints. */
static const rs_csr *check_of(const parts *p)
{
    return p->check.indptr ? &p->check : &p->val;
}

/* The entry times of part (a subset of full's entries, row by row) from
 * full's times ts, into *out (NULL when ts is). Errors: RS_ENOMEM. */
static rs_err part_times(const rs_csr *full, const int64_t *ts, const rs_csr *part,
                         int64_t **out)
{
    *out = NULL;
    if (!ts)
        return RS_OK;
    int64_t *t = rs_try_malloc((part->nnz ? part->nnz : 1) * sizeof *t);
    if (!t)
        return RS_ENOMEM;
    for (uint32_t u = 0; u < part->n_rows; u++) {
        uint64_t j = full->indptr[u];
        for (uint64_t e = part->indptr[u]; e < part->indptr[u + 1]; e++) {
            while (full->indices[j] != part->indices[e])
                j++;
            t[e] = ts[j];
        }
    }
    *out = t;
    return RS_OK;
}

/* m's rows for at most cap of its non-empty rows, picked at random
 * (seeded), the other rows empty, into *out. Leaves *out zeroed when m has
 * no more than cap non-empty rows (m is then used whole). Errors:
 * RS_ENOMEM. */
static rs_err subsample_rows(const rs_csr *m, uint32_t cap, uint64_t seed, rs_csr *out)
{
    memset(out, 0, sizeof *out);
    uint32_t n = 0;
    for (uint32_t u = 0; u < m->n_rows; u++)
        n += m->indptr[u + 1] > m->indptr[u];
    if (n <= cap)
        return RS_OK;
    uint32_t *rows = rs_try_malloc((size_t)n * sizeof *rows);
    uint8_t *keep = rs_try_calloc(m->n_rows, 1);
    uint64_t *indptr = rs_try_malloc(((size_t)m->n_rows + 1) * sizeof *indptr);
    uint32_t *indices = rs_try_malloc((m->nnz ? m->nnz : 1) * sizeof *indices);
    float *values = rs_try_malloc((m->nnz ? m->nnz : 1) * sizeof *values);
    if (!rows || !keep || !indptr || !indices || !values) {
        rs_free(rows);
        rs_free(keep);
        rs_free(indptr);
        rs_free(indices);
        rs_free(values);
        return RS_ENOMEM;
    }
    n = 0;
    for (uint32_t u = 0; u < m->n_rows; u++)
        if (m->indptr[u + 1] > m->indptr[u])
            rows[n++] = u;
    rs_rng g;
    rs_rng_init(&g, seed);
    rs_rng_shuffle_u32(&g, rows, n);
    for (uint32_t i = 0; i < cap; i++)
        keep[rows[i]] = 1;
    size_t nnz = 0;
    indptr[0] = 0;
    for (uint32_t u = 0; u < m->n_rows; u++) {
        if (keep[u])
            for (uint64_t j = m->indptr[u]; j < m->indptr[u + 1]; j++, nnz++) {
                indices[nnz] = m->indices[j];
                values[nnz] = m->values[j];
            }
        indptr[u + 1] = nnz;
    }
    rs_free(rows);
    rs_free(keep);
    *out = (rs_csr){m->n_rows, m->n_cols, nnz, indptr, indices, values};
    return RS_OK;
}

/* Splits d into the parts. Errors: the splits', RS_ENOMEM, RS_EINVAL when
 * the fit or validation part is empty. p is empty on error. */
static rs_err make_parts(const rs_dataset *d, const rs_tune_opts *o, parts *p, rs_diag *diag)
{
    memset(p, 0, sizeof *p);
    rs_err e = rs_split(&d->ui, d->ts_ms, &o->split, &p->train, &p->test, diag);
    if (e)
        return e;
    if ((e = part_times(&d->ui, d->ts_ms, &p->train, &p->train_ts))) {
        parts_destroy(p);
        return rs_diag_fail(diag, e, "out of memory for the training part's times");
    }
    rs_split_opts vo = o->split;
    vo.seed = o->split.seed + VALIDATION_SEED_OFFSET;
    vo.cut_ms = 0; /* a time cut is chosen again, on train */
    if (o->validation_fraction > 0)
        vo.test_fraction = o->validation_fraction;
    if ((e = rs_split(&p->train, p->train_ts, &vo, &p->fit, &p->val, diag))) {
        parts_destroy(p);
        return e;
    }
    if (p->fit.nnz == 0 || p->val.nnz == 0) {
        parts_destroy(p);
        return rs_diag_fail(diag, RS_EINVAL,
                            "the validation split of the training part is empty: too little "
                            "data to tune (%zu interactions; each user keeps one in training "
                            "under a per-user split: try more data, or --split time)",
                            d->ui.nnz);
    }
    if ((e = subsample_rows(&p->val, o->check_users, o->seed, &p->check))) {
        parts_destroy(p);
        return rs_diag_fail(diag, e, "out of memory for the checkpoint users");
    }
    return RS_OK;
}

/* ---- scoring ----------------------------------------------------------------- */

/* What the trials of one search share. history holds, for each finished
 * trial, its checkpoints (MAX_STEPS slots each, n_steps used): the median
 * stopping rule's reference. */
typedef struct search {
    const rs_tune_opts *o;
    const parts *pt;
    const rs_csr *features;
    rs_eval_opts eo;
    rs_tune_step *history;  /* (cap, MAX_STEPS) */
    size_t *history_n;      /* cap */
    double *sorted;         /* cap: scratch for the median */
    size_t n_history, cap;
} search;

static void search_destroy(search *s)
{
    rs_free(s->history);
    rs_free(s->history_n);
    rs_free(s->sorted);
}

/* Scores the ALS model als fitted on seen (or, for the hybrid, the hybrid
 * built on it) by nDCG and recall at k against target. Errors: the
 * hybrid's fit, the evaluation's. */
static rs_err score(const search *s, const rs_model_params *p, const rs_als_model *als,
                    const rs_csr *seen, const rs_csr *target, rs_tune_metrics *out,
                    rs_diag *diag)
{
    rs_hybrid_model h = {0};
    rs_als_model view = *als;
    if (s->o->model == RS_MODEL_HYBRID) {
        rs_hybrid_opts ho = p->hybrid;
        ho.threads = p->threads;
        rs_err e = rs_hybrid_fit(s->features, seen, als, &ho, &h, diag);
        if (e)
            return e;
        view = rs_hybrid_view(&h, als);
    }
    rs_recommender r = {rs_model_name(s->o->model), &view, rs_als_recommend,
                        rs_als_scratch_bytes(&view)};
    rs_eval_result res;
    rs_err e = rs_eval_topk(&r, seen, target, &s->eo, &res, diag);
    rs_hybrid_destroy(&h);
    if (!e)
        *out = (rs_tune_metrics){res.ndcg, res.recall};
    return e;
}

/* Fits p on seen and measures it on target (the final comparison). */
static rs_err fit_and_measure(const search *s, const rs_model_params *p, const rs_csr *seen,
                              const rs_csr *target, rs_tune_metrics *out, rs_diag *diag)
{
    rs_als_opts ao = p->als;
    ao.threads = p->threads;
    rs_als_model m;
    rs_err e = rs_als_fit(seen, &ao, &m, diag);
    if (e)
        return e;
    e = score(s, p, &m, seen, target, out, diag);
    rs_als_destroy(&m);
    return e;
}

/* ---- one trial ----------------------------------------------------------------- */

typedef struct trial {
    const search *s;
    const rs_model_params *p;
    rs_tune_step steps[MAX_STEPS];
    size_t n_steps;
    rs_err check_err;  /* a checkpoint could not be scored */
    rs_diag why;       /* a failure's reason */
} trial;

/* Checkpoints: iterations 2, 4, 8, ... before the last (the last is
 * scored on every validation user once the fit returns). */
static bool is_checkpoint(uint32_t it, uint32_t iterations)
{
    return it >= 2 && (it & (it - 1)) == 0 && it < iterations;
}

/* The median stopping rule: stop when score trails the median of the
 * finished trials' scores at this step, once prune_warmup of them have
 * reached it. */
static bool trails_median(const search *s, uint32_t step, double score)
{
    const rs_tune_opts *o = s->o;
    if (!o->prune || step < o->prune_min_step || !isfinite(score))
        return false;
    size_t n = 0;
    for (size_t i = 0; i < s->n_history; i++)
        for (size_t j = 0; j < s->history_n[i]; j++)
            if (s->history[i * MAX_STEPS + j].step == step)
                s->sorted[n++] = s->history[i * MAX_STEPS + j].score;
    if (n == 0 || n < o->prune_warmup)
        return false;
    for (size_t i = 1; i < n; i++) { /* insertion sort: n is a trial count */
        const double v = s->sorted[i];
        size_t j = i;
        for (; j > 0 && s->sorted[j - 1] > v; j--)
            s->sorted[j] = s->sorted[j - 1];
        s->sorted[j] = v;
    }
    const double *v = s->sorted;
    const double median = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
    return score < median;
}

/* ALS's stop callback: scores the model at checkpoints and stops a trial
 * that trails (or whose checkpoint could not be scored). */
static bool at_iteration(void *ctx, const rs_als_iter *it)
{
    trial *t = ctx;
    if (!is_checkpoint(it->iteration, it->iterations) || t->n_steps == MAX_STEPS)
        return false;
    rs_tune_metrics m;
    t->check_err = score(t->s, t->p, it->model, &t->s->pt->fit, check_of(t->s->pt), &m, &t->why);
    if (t->check_err)
        return true;
    t->steps[t->n_steps++] = (rs_tune_step){it->iteration, m.ndcg};
    return trails_median(t->s, it->iteration, m.ndcg);
}

/* Runs one trial with parameters t->p into rep (status, error, scores,
 * steps, seconds). */
static void run_trial(trial *t, rs_tune_trial *rep)
{
    const double t0 = rs_mono_s();
    const parts *pt = t->s->pt;
    rs_als_opts ao = t->p->als;
    ao.threads = t->p->threads;
    ao.stop = at_iteration;
    ao.stop_ctx = t;
    rs_als_model m;
    rs_diag fit_diag = {{0}};
    rs_err e = rs_als_fit(&pt->fit, &ao, &m, &fit_diag);
    rep->status = RS_TRIAL_FAILED;
    rep->score = rep->recall = NAN;
    if (e == RS_ECANCELED && !t->check_err) {
        rep->status = RS_TRIAL_PRUNED;
        rep->score = t->steps[t->n_steps - 1].score;
    } else if (e == RS_ECANCELED) {
        /* t->why holds the checkpoint's failure */
    } else if (e) {
        t->why = fit_diag;
    } else {
        rs_tune_metrics v;
        e = score(t->s, t->p, &m, &pt->fit, &pt->val, &v, &t->why);
        rs_als_destroy(&m);
        if (!e) {
            rep->status = RS_TRIAL_FINISHED;
            rep->score = v.ndcg;
            rep->recall = v.recall;
        }
    }
    rep->error = rep->status == RS_TRIAL_FAILED ? t->why.msg : "";
    rep->steps = t->steps;
    rep->n_steps = t->n_steps;
    rep->seconds = rs_mono_s() - t0;
}

/* Keeps a finished trial's checkpoints for the median rule. */
static void remember(search *s, const trial *t)
{
    if (s->n_history == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 32;
        s->history = rs_xreallocarray(s->history, s->cap * MAX_STEPS, sizeof *s->history);
        s->history_n = rs_xreallocarray(s->history_n, s->cap, sizeof *s->history_n);
        s->sorted = rs_xreallocarray(s->sorted, s->cap, sizeof *s->sorted);
    }
    memcpy(s->history + s->n_history * MAX_STEPS, t->steps, t->n_steps * sizeof *t->steps);
    s->history_n[s->n_history++] = t->n_steps;
}

/* ---- the driver ----------------------------------------------------------------- */

static rs_err check_opts(const rs_dataset *d, const rs_tune_opts *o, rs_diag *diag)
{
    if (o->model != RS_MODEL_ALS && o->model != RS_MODEL_HYBRID)
        return rs_diag_fail(diag, RS_EINVAL, "tune: the model must be als or hybrid");
    if (o->trials == 0)
        return rs_diag_fail(diag, RS_EINVAL, "tune: at least one trial is needed");
    if (o->check_users == 0)
        return rs_diag_fail(diag, RS_EINVAL, "tune: at least one checkpoint user is needed");
    if (o->model == RS_MODEL_HYBRID && !d->features.indptr)
        return rs_diag_fail(diag, RS_EINVAL, "hybrid: no item content was loaded");
    if (d->ui.nnz == 0)
        return rs_diag_fail(diag, RS_EINVAL, "tune: the data set has no interactions");
    return o->space ? check_space(o->space, o->n_space, diag) : RS_OK;
}

/* Runs the trials, calling on_trial after each; fills the counts and the
 * best trial of out. Errors: RS_EINTERNAL when no trial finished. */
static rs_err run_trials(search *s, rs_tpe *tpe, const rs_tpe_dim *dims, size_t n_dims,
                         rs_tune_summary *out, rs_diag *diag)
{
    const rs_tune_opts *o = s->o;
    rs_diag first_failure = {{0}};
    out->best_trial = -1;
    out->best_score = NAN;
    for (uint32_t i = 0; i < o->trials; i++) {
        double x[RS_TUNE_MAX_DIMS];
        if (i == 0 && o->try_base)
            rs_tune_values(dims, n_dims, &o->base, x);
        else
            rs_tpe_suggest(tpe, x);
        rs_model_params p = o->base;
        apply_values(dims, n_dims, x, &p);
        trial t = {.s = s, .p = &p};
        rs_tune_trial rep = {.index = i, .trials = o->trials, .params = &p, .dims = dims,
                             .values = x, .n_dims = n_dims};
        run_trial(&t, &rep);
        switch (rep.status) {
        case RS_TRIAL_FINISHED:
            out->finished++;
            remember(s, &t);
            if (out->best_trial < 0 || rep.score > out->best_score) {
                out->best_trial = (int)i;
                out->best_score = rep.score;
                out->best = p;
            }
            break;
        case RS_TRIAL_PRUNED: out->pruned++; break;
        case RS_TRIAL_FAILED:
            if (!out->failed++)
                first_failure = t.why;
            break;
        }
        const uint32_t last = t.n_steps ? t.steps[t.n_steps - 1].step : 0;
        rs_err e = rs_tpe_observe(tpe, x, rep.status, rep.score, last);
        RS_ASSERT(e == RS_OK); /* x came from the space */
        rep.best_index = out->best_trial;
        rep.best_score = out->best_score;
        if (o->on_trial)
            o->on_trial(o->ctx, &rep);
    }
    if (out->best_trial < 0)
        return rs_diag_fail(diag, RS_EINTERNAL, "every trial failed; the first: %s",
                            first_failure.msg);
    return RS_OK;
}

rs_err rs_tune_run(const rs_dataset *d, const rs_tune_opts *o, rs_tune_summary *out,
                   rs_diag *diag)
{
    memset(out, 0, sizeof *out);
    const double t0 = rs_mono_s();
    rs_err e = check_opts(d, o, diag);
    if (e)
        return e;
    parts pt;
    if ((e = make_parts(d, o, &pt, diag)))
        return e;
    rs_tpe_dim *dims = out->dims;
    if (o->space) {
        memcpy(dims, o->space, o->n_space * sizeof *dims);
        out->n_dims = o->n_space;
    } else {
        out->n_dims = rs_tune_space(o->model, &o->base, dims);
    }
    const size_t n_dims = out->n_dims;
    rs_tpe_opts to;
    rs_tpe_opts_default(&to);
    to.n_startup = o->startup;
    to.seed = o->seed;
    rs_tpe *tpe;
    if ((e = rs_tpe_new(dims, n_dims, &to, &tpe, diag))) {
        parts_destroy(&pt);
        return e;
    }
    search s = {.o = o, .pt = &pt, .features = d->features.indptr ? &d->features : NULL,
                .eo = {.k = o->k ? o->k : 10, .threads = o->base.threads}};
    e = run_trials(&s, tpe, dims, n_dims, out, diag);

    /* The defaults and the best, each fitted on all of train, on test. */
    rs_model_params_default(&out->defaults);
    out->defaults.threads = o->base.threads;
    if (!e)
        e = fit_and_measure(&s, &out->defaults, &pt.train, &pt.test, &out->default_test, diag);
    if (!e)
        e = fit_and_measure(&s, &out->best, &pt.train, &pt.test, &out->best_test, diag);
    out->fit_interactions = pt.fit.nnz;
    out->validation_interactions = pt.val.nnz;
    out->train_interactions = pt.train.nnz;
    out->test_interactions = pt.test.nnz;
    out->seconds = rs_mono_s() - t0;
    search_destroy(&s);
    rs_tpe_free(tpe);
    parts_destroy(&pt);
    return e;
}
