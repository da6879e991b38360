/* The training job (see job.h). */
#include "registry/job.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/timeutil.h"
#include "models/fit.h"

/* The models of a flag set as "popularity,als,..." into buf. */
static const char *model_list(unsigned models, char *buf, size_t cap)
{
    size_t n = 0;
    buf[0] = '\0';
    for (unsigned f = 1; f <= RS_MODEL_LAST; f <<= 1)
        if ((models & f) && n < cap)
            n += (size_t)snprintf(buf + n, cap - n, "%s%s", n ? "," : "", rs_model_name(f));
    return buf;
}

/* A run record for o, "running" from now, on this host and process. */
static void run_start(const rs_job_opts *o, const char *kind, const char *id, char *models,
                      size_t models_cap, char *host, char *params, rs_run *r)
{
    rs_run_host(host);
    *r = (rs_run){.id = id,
                  .kind = kind,
                  .status = "running",
                  .model = model_list(o->train.models, models, models_cap),
                  .started_ms = rs_now_ms(),
                  .params = params,
                  .host = host,
                  .pid = getpid()};
}

rs_err rs_job_record_start(rs_store *s, const rs_job_opts *o, const char *kind,
                           char id[RS_RUN_ID_CAP], rs_diag *diag)
{
    char models[128], host[RS_HOST_CAP];
    char *params = rs_model_params_json(&o->train.eval.params);
    rs_run r;
    rs_run_new_id(id);
    run_start(o, kind, id, models, sizeof models, host, params, &r);
    rs_err e = rs_store_put_run(s, &r);
    rs_free(params);
    if (e)
        return rs_diag_fail(diag, e, "recording the run: %s", rs_store_errmsg(s));
    return RS_OK;
}

/* Writes the bundle to path and reads it back: a file that does not load
 * is never uploaded. */
static rs_err write_artifact(const rs_bundle *b, const char *path, rs_diag *diag)
{
    rs_err e = rs_bundle_save(b, path, diag);
    if (e)
        return e;
    rs_bundle check;
    if ((e = rs_bundle_load(path, &check, diag)))
        return e;
    rs_bundle_destroy(&check);
    return RS_OK;
}

/* Seconds of each phase of a run. */
typedef struct phase_times {
    double load, evaluate, fit, save, publish;
} phase_times;

static bool canceled(void *ctx, const rs_als_iter *it)
{
    (void)it;
    return atomic_load((const atomic_bool *)ctx);
}

/* Loads the production version for a warm start into *prev; *found says
 * whether there is one. */
static rs_err load_production(rs_store *s, rs_objstore *objects, const rs_job_opts *o,
                              rs_bundle *prev, uint64_t *version, bool *found, rs_diag *diag)
{
    rs_arena a;
    rs_arena_init(&a, 4096);
    rs_model_version v;
    rs_err e = rs_store_get_model_version(s, o->name, 0, &a, &v);
    *found = e == RS_OK;
    if (e == RS_ENOTFOUND)
        e = RS_OK;
    else if (e)
        rs_diag_fail(diag, e, "reading the production version: %s", rs_store_errmsg(s));
    char path[4200];
    bool temporary = false;
    if (*found && !e && !(e = rs_registry_fetch(objects, &v, o->tmp_dir, path, sizeof path,
                                                 &temporary, diag))) {
        e = rs_bundle_load(path, prev, diag);
        *version = v.version;
    }
    if (temporary)
        unlink(path); /* the loaded file stays mapped */
    rs_arena_destroy(&a);
    return e;
}

/* Trains, writes and publishes; the phases' times go into t. A warm start
 * that cannot load the production version starts cold instead. */
static rs_err train_and_publish(rs_store *s, rs_objstore *objects, const rs_job_opts *o,
                                const char *id, rs_train_report *rep, phase_times *t,
                                rs_job_result *out, rs_diag *diag)
{
    rs_train_opts to = o->train;
    if (o->cancel) {
        to.eval.params.als.stop = canceled;
        to.eval.params.als.stop_ctx = (void *)o->cancel;
    }
    rs_bundle prev = {0};
    bool warm = false;
    uint64_t warm_version = 0;
    rs_diag wd = {{0}};
    if (o->warm_start &&
        load_production(s, objects, o, &prev, &warm_version, &warm, &wd) != RS_OK) {
        rs_log_warn("cannot load the production version to warm-start from; starting cold",
                    RS_S("reason", wd.msg));
        rs_bundle_destroy(&prev);
        memset(&prev, 0, sizeof prev);
        warm = false;
    }
    to.warm = warm ? &prev : NULL;
    rs_bundle b;
    rs_err e = rs_train(s, &to, &b, rep, diag);
    rs_bundle_destroy(&prev);
    if (e)
        return e;
    if (warm)
        snprintf(out->warm, sizeof out->warm, "warm start from version %llu (%u of %u items)",
                 (unsigned long long)warm_version, rep->warm_items, rep->items);
    t->load = rep->load_seconds;
    t->evaluate = rep->eval_seconds;
    t->fit = rep->fit_seconds;
    char path[4200];
    snprintf(path, sizeof path, "%s/.recsys-train-%s.rsm", o->tmp_dir, id);
    double t0 = rs_mono_s();
    e = write_artifact(&b, path, diag);
    rs_bundle_destroy(&b);
    t->save = rs_mono_s() - t0;
    if (!e) {
        t0 = rs_mono_s();
        const rs_registry_entry en = {.name = o->name,
                                      .run_id = id,
                                      .artifact = path,
                                      .metrics = rep->metrics,
                                      .score = rep->score};
        e = rs_registry_publish(s, objects, &en, &o->policy, &out->reg, diag);
        t->publish = rs_mono_s() - t0;
    }
    unlink(path);
    return e;
}

static char *timings_json(const phase_times *t, double total)
{
    json_t *j = json_pack("{s:f,s:f,s:f,s:f,s:f,s:f}", "load", t->load, "evaluate", t->evaluate,
                          "fit", t->fit, "save", t->save, "publish", t->publish, "total", total);
    char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    return s ? s : rs_xstrdup("{}");
}

static rs_err run_job(rs_store *s, rs_objstore *objects, const rs_job_opts *o, rs_job_result *out,
                      rs_diag *diag)
{
    out->score = NAN;
    rs_err e = rs_runs_reap(s, NULL, diag);
    if (e)
        return e;
    if (o->run_id)
        snprintf(out->run_id, sizeof out->run_id, "%s", o->run_id);
    else
        rs_run_new_id(out->run_id);

    char models[128], host[RS_HOST_CAP];
    char *params = rs_model_params_json(&o->train.eval.params);
    rs_run r;
    run_start(o, o->kind, out->run_id, models, sizeof models, host, params, &r);
    if ((e = rs_store_put_run(s, &r))) {
        rs_diag_fail(diag, e, "recording the run: %s", rs_store_errmsg(s));
        rs_free(params);
        return e;
    }
    rs_log_info("run started", RS_S("run", out->run_id), RS_S("kind", o->kind),
                RS_S("models", r.model));

    const double t0 = rs_mono_s();
    rs_train_report rep = {0};
    phase_times t = {0};
    e = train_and_publish(s, objects, o, out->run_id, &rep, &t, out, diag);
    if (e && o->cancel && atomic_load(o->cancel)) {
        char why[sizeof diag->msg];
        memcpy(why, diag->msg, sizeof why);
        e = rs_diag_fail(diag, RS_ECANCELED, "canceled: the server stopped during the run (%s)",
                         why);
    }
    out->seconds = rs_mono_s() - t0;
    out->users = rep.users;
    out->items = rep.items;
    out->interactions = rep.interactions;
    out->score = rep.score;
    out->primary = rep.primary;

    char *timings = timings_json(&t, out->seconds);
    r.status = e ? "failed" : "finished";
    r.ended_ms = rs_now_ms();
    r.metrics = rep.metrics;
    r.data = rep.data;
    r.timings = timings;
    r.error = e ? diag->msg : NULL;
    char note[sizeof out->reg.note + sizeof out->warm + 2];
    if (!e) {
        r.artifact_uri = out->reg.uri;
        r.version = out->reg.version;
        snprintf(note, sizeof note, "%s%s%s", out->warm, out->warm[0] ? "; " : "",
                 out->reg.note);
        r.note = note;
    }
    const rs_err re = rs_store_put_run(s, &r);
    if (re)
        rs_log_warn("cannot record the end of the run", RS_S("run", out->run_id),
                    RS_S("reason", rs_store_errmsg(s)));
    if (e)
        rs_log_warn("run failed", RS_S("run", out->run_id), RS_S("reason", diag->msg));
    else
        rs_log_info("run finished", RS_S("run", out->run_id), RS_U("version", out->reg.version),
                    RS_S("stage", out->reg.promoted ? "production" : "candidate"),
                    RS_F("seconds", out->seconds));
    rs_free(timings);
    rs_free(params);
    rs_train_report_destroy(&rep);
    return e ? e : re ? rs_diag_fail(diag, re, "recording the run: %s", rs_store_errmsg(s)) : RS_OK;
}

rs_err rs_job_train(rs_store *s, rs_objstore *objects, const rs_job_opts *o, rs_job_result *out,
                    rs_diag *diag)
{
    memset(out, 0, sizeof *out);
    rs_diag d = {{0}}; /* the run records its text, so it is always there */
    const rs_err e = run_job(s, objects, o, out, &d);
    if (diag)
        *diag = d;
    return e;
}
