/* A hyperparameter search recorded as runs (see tune_runs.h). */
#include "registry/tune_runs.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/timeutil.h"
#include "models/fit.h"

static json_t *num(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static char *dump(json_t *j)
{
    char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    return s ? s : rs_xstrdup("{}");
}

static char *data_json(const rs_dataset *d)
{
    char hash[17];
    snprintf(hash, sizeof hash, "%016llx", (unsigned long long)d->fingerprint);
    return dump(json_pack("{s:I,s:I,s:I,s:I,s:I,s:s}", "users", (json_int_t)d->ui.n_rows,
                          "items", (json_int_t)d->ui.n_cols, "interactions",
                          (json_int_t)d->ui.nnz, "events", (json_int_t)d->events,
                          "newest_event_ms", (json_int_t)d->newest_event_ms, "hash", hash));
}

/* A run of the search with the fields every one of its records shares. */
static rs_run base_run(const rs_tune_tracker *t, const char *id, const char *kind)
{
    return (rs_run){.id = id,
                    .kind = kind,
                    .status = "running",
                    .model = t->model,
                    .started_ms = t->started_ms,
                    .data = t->data,
                    .host = t->host,
                    .pid = getpid()};
}

rs_err rs_tune_track_start(rs_tune_tracker *t, rs_store *s, const rs_tune_opts *o,
                           const rs_dataset *d, rs_diag *diag)
{
    memset(t, 0, sizeof *t);
    t->store = s;
    t->model = rs_model_name(o->model);
    t->k = o->k ? o->k : 10;
    t->started_ms = rs_now_ms();
    rs_run_new_id(t->id);
    rs_run_host(t->host);
    t->params = rs_model_params_json(&o->base);
    t->data = data_json(d);
    rs_run r = base_run(t, t->id, "tune");
    r.params = t->params;
    rs_err e = rs_store_put_run(s, &r);
    if (e) {
        rs_diag_fail(diag, e, "recording the tune run: %s", rs_store_errmsg(s));
        rs_free(t->params);
        rs_free(t->data);
        t->params = t->data = NULL;
    }
    return e;
}

void rs_tune_track_trial(rs_tune_tracker *t, const rs_tune_trial *tr)
{
    char id[RS_RUN_ID_CAP], note[96] = "";
    rs_run_new_id(id);
    json_t *steps = json_array();
    for (size_t i = 0; i < tr->n_steps; i++)
        json_array_append_new(steps, json_pack("{s:I,s:o}", "iteration",
                                               (json_int_t)tr->steps[i].step, "ndcg",
                                               num(tr->steps[i].score)));
    const bool pruned = tr->status == RS_TRIAL_PRUNED;
    char *metrics = dump(json_pack("{s:I,s:s,s:o,s:o,s:o,s:b}", "k", (json_int_t)t->k, "primary",
                                   t->model, "ndcg", num(tr->score), "recall",
                                   num(tr->recall), "steps", steps, "pruned", pruned));
    char *timings = dump(json_pack("{s:f}", "total", tr->seconds));
    char *params = rs_model_params_json(tr->params);
    if (pruned && tr->n_steps)
        snprintf(note, sizeof note, "trial %u: stopped early at iteration %u", tr->index + 1,
                 tr->steps[tr->n_steps - 1].step);
    else
        snprintf(note, sizeof note, "trial %u of %u", tr->index + 1, tr->trials);
    rs_run r = base_run(t, id, "trial");
    r.parent_id = t->id;
    r.ended_ms = rs_now_ms();
    r.started_ms = r.ended_ms - (int64_t)(tr->seconds * 1e3);
    if (r.started_ms < t->started_ms)
        r.started_ms = t->started_ms;
    r.status = tr->status == RS_TRIAL_FAILED ? "failed" : "finished";
    r.error = tr->status == RS_TRIAL_FAILED ? tr->error : NULL;
    r.params = params;
    r.metrics = metrics;
    r.timings = timings;
    r.note = note;
    if (rs_store_put_run(t->store, &r) != RS_OK)
        rs_log_warn("cannot record a trial", RS_U("trial", tr->index + 1),
                    RS_S("reason", rs_store_errmsg(t->store)));
    rs_free(params);
    rs_free(metrics);
    rs_free(timings);
}

rs_err rs_tune_track_finish(rs_tune_tracker *t, const rs_tune_summary *sum, const char *error,
                            rs_diag *diag)
{
    rs_run r = base_run(t, t->id, "tune");
    r.ended_ms = rs_now_ms();
    char *params = NULL, *metrics = NULL, *timings = NULL;
    char note[256] = "";
    if (sum) {
        const double gain = sum->default_test.ndcg > 0
                                ? sum->best_test.ndcg / sum->default_test.ndcg - 1
                                : NAN;
        params = rs_model_params_json(&sum->best);
        metrics = dump(json_pack(
            "{s:I,s:s,s:o,s:o,s:o,s:{s:o,s:o},s:o,s:I,s:{s:I,s:I,s:I}}", "k", (json_int_t)t->k,
            "primary", t->model, "ndcg", num(sum->best_test.ndcg), "recall",
            num(sum->best_test.recall), "validation_ndcg", num(sum->best_score), "defaults",
            "ndcg", num(sum->default_test.ndcg), "recall", num(sum->default_test.recall),
            "improvement", num(gain), "best_trial", (json_int_t)sum->best_trial + 1, "trials",
            "finished", (json_int_t)sum->finished, "pruned", (json_int_t)sum->pruned, "failed",
            (json_int_t)sum->failed));
        timings = dump(json_pack("{s:f}", "total", sum->seconds));
        snprintf(note, sizeof note,
                 "best of %u trials (trial %d): test ndcg@%zu %.4f against %.4f with the "
                 "defaults (%+.1f%%)",
                 sum->finished + sum->pruned + sum->failed, sum->best_trial + 1, t->k,
                 sum->best_test.ndcg, sum->default_test.ndcg, 100 * gain);
        r.status = "finished";
        r.params = params;
        r.metrics = metrics;
        r.timings = timings;
        r.note = note;
    } else {
        r.status = "failed";
        r.params = t->params;
        r.error = error;
    }
    rs_err e = rs_store_put_run(t->store, &r);
    if (e)
        rs_diag_fail(diag, e, "recording the end of the tune run: %s",
                     rs_store_errmsg(t->store));
    rs_free(params);
    rs_free(metrics);
    rs_free(timings);
    rs_free(t->params);
    rs_free(t->data);
    t->params = t->data = NULL;
    return e;
}
