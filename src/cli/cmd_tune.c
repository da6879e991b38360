/* recsys tune: searches the hyperparameters of ALS or the hybrid (the
 * library's eval/tune.h does the work). Reads a data set like recsys eval,
 * prints one progress line per trial on stderr, one JSON object per trial
 * on stdout and a JSON summary last: the best parameters, and the
 * defaults against the best on the held-out test part. The search is
 * recorded as a "tune" run with a "trial" run per trial (registry/
 * tune_runs.h); the tune run keeps the best parameters for `recsys train
 * --params-from`. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "data/dataset.h"
#include "eval/tune.h"
#include "registry/tune_runs.h"

typedef struct tune_conf {
    const char *data, *db;
    int format, model, split, protocol, agg;
    int64_t trials, seed, k, keep, startup, check_users;
    double test_fraction, validation_fraction;
    bool no_prune, no_base_trial;
    cli_params params;
} tune_conf;

static const char *const formats[] = {"movielens-100k", "movielens-csv", "csv", NULL};
static const char *const models[] = {"als", "hybrid", NULL};
static const unsigned model_flags[] = {RS_MODEL_ALS, RS_MODEL_HYBRID};
static const char *const aggs[] = {"sum", "max", "last", NULL};
static const char *const splits[] = {"random", "temporal", "time", NULL};
static const char *const protocols[] = {"normal", "cold-items", "cold-users", NULL};

static const cli_opt opts[] = {
    {"data", CLI_STR, offsetof(tune_conf, data), NULL, false, "PATH",
     "data set to tune on (a folder or file; see --format)", NULL, 0, 0},
    {"format", CLI_ENUM, offsetof(tune_conf, format), "csv", false, "FORMAT",
     "format of --data", formats, 0, 0},
    {"db", CLI_STR, offsetof(tune_conf, db), "sqlite://recsys.db", false, "URL",
     "the store that records the search as runs, and whose events are tuned on when "
     "there is no --data", NULL, 0, 0},
    {"model", CLI_ENUM, offsetof(tune_conf, model), "als", false, "MODEL",
     "model to tune", models, 0, 0},
    {"trials", CLI_INT, offsetof(tune_conf, trials), "30", false, "N", "trials to run", NULL, 1,
     10000},
    {"startup", CLI_INT, offsetof(tune_conf, startup), "8", false, "N",
     "random trials before the search models the scores (TPE)", NULL, 0, 10000},
    {"no-prune", CLI_BOOL, offsetof(tune_conf, no_prune), "false", false, NULL,
     "run every trial to the end (no median stopping rule)", NULL, 0, 0},
    {"no-base-trial", CLI_BOOL, offsetof(tune_conf, no_base_trial), "false", false, NULL,
     "do not try the base parameters (the model flags) as the first trial", NULL, 0, 0},
    {"check-users", CLI_INT, offsetof(tune_conf, check_users), "2000", false, "N",
     "validation users scored at the early-stopping checkpoints", NULL, 1, 1e9},
    {"split", CLI_ENUM, offsetof(tune_conf, split), "random", false, "SPLIT",
     "random or temporal (per user), or time (one global cut)", splits, 0, 0},
    {"protocol", CLI_ENUM, offsetof(tune_conf, protocol), "normal", false, "P",
     "normal (--split), cold-items or cold-users (as recsys eval)", protocols, 0, 0},
    {"keep", CLI_INT, offsetof(tune_conf, keep), "3", false, "N",
     "cold-users: interactions each test user keeps in training", NULL, 1, 1000},
    {"test-fraction", CLI_F64, offsetof(tune_conf, test_fraction), "0.2", false, "F",
     "share held out for test (and, by default, of the rest for validation)", NULL, 0.01,
     0.99},
    {"validation-fraction", CLI_F64, offsetof(tune_conf, validation_fraction), "0", false, "F",
     "share of the training part held out for validation (0: --test-fraction)", NULL, 0,
     0.99},
    {"seed", CLI_INT, offsetof(tune_conf, seed), "42", false, "S",
     "random seed of the split and the search", NULL, 0, 9e18},
    {"k", CLI_INT, offsetof(tune_conf, k), "10", false, "K",
     "cut-off of nDCG (the objective) and recall", NULL, 1, 1000},
    {"aggregate", CLI_ENUM, offsetof(tune_conf, agg), "sum", false, "RULE",
     "how repeated events of a user on an item combine", aggs, 0, 0},
};

/* JSON reals with 6 significant digits: enough for scores and seconds,
 * and the float parameters print as they were set. */
#define DUMP_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(6))

static bool is_int_dim(const rs_tpe_dim *d)
{
    return d->kind == RS_TPE_INT || d->kind == RS_TPE_LOG_INT;
}

/* A number, or null when it is not finite (JSON has no NaN). */
static json_t *num(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

/* The searched parameters of p as a JSON object. */
static json_t *params_json(const rs_tpe_dim *dims, size_t n, const rs_model_params *p)
{
    double v[RS_TUNE_MAX_DIMS];
    rs_tune_values(dims, n, p, v);
    json_t *o = json_object();
    for (size_t i = 0; i < n; i++)
        json_object_set_new(o, dims[i].name,
                            is_int_dim(&dims[i]) ? json_integer((json_int_t)v[i]) : num(v[i]));
    return o;
}

/* The searched parameters of p as flags: "--factors 45 --reg 3.1 ...". */
static void params_flags(const rs_tpe_dim *dims, size_t n, const rs_model_params *p, char *buf,
                         size_t cap)
{
    double v[RS_TUNE_MAX_DIMS];
    rs_tune_values(dims, n, p, v);
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && len < cap; i++) {
        int w = snprintf(buf + len, cap - len, "%s--%s %.4g", i ? " " : "", dims[i].name, v[i]);
        len += w > 0 ? (size_t)w : 0;
    }
}

/* Prints a JSON value as one line on stdout and releases it. */
static void print_line(json_t *o)
{
    if (o && json_dumpf(o, stdout, DUMP_FLAGS) == 0)
        putchar('\n');
    fflush(stdout);
    json_decref(o);
}

typedef struct out_ctx {
    size_t k;
    rs_tune_tracker *tracker;
} out_ctx;

/* The trial callback: a progress line on stderr, a JSON line on stdout. */
static void on_trial(void *ctx, const rs_tune_trial *t)
{
    const out_ctx *c = ctx;
    char flags[512], best[64] = "none yet";
    params_flags(t->dims, t->n_dims, t->params, flags, sizeof flags);
    if (t->best_index >= 0)
        snprintf(best, sizeof best, "%.4f at trial %d", t->best_score, t->best_index + 1);
    fprintf(stderr, "recsys tune: trial %u/%u %s: ", t->index + 1, t->trials, flags);
    switch (t->status) {
    case RS_TRIAL_FINISHED:
        fprintf(stderr, "ndcg@%zu %.4f", c->k, t->score);
        break;
    case RS_TRIAL_PRUNED:
        fprintf(stderr, "pruned at iteration %u with ndcg@%zu %.4f",
                t->steps[t->n_steps - 1].step, c->k, t->score);
        break;
    case RS_TRIAL_FAILED:
        fprintf(stderr, "failed: %s", t->error);
        break;
    }
    fprintf(stderr, " (%.1f s; best %s)\n", t->seconds, best);

    json_t *steps = json_array();
    for (size_t i = 0; i < t->n_steps; i++)
        json_array_append_new(steps, json_pack("{s:i,s:o}", "iteration",
                                               (json_int_t)t->steps[i].step, "ndcg",
                                               num(t->steps[i].score)));
    json_t *o = json_pack("{s:s,s:i,s:s,s:o,s:o,s:o,s:o,s:f,s:o,s:o}", "type", "trial",
                          "trial", (json_int_t)t->index + 1, "status",
                          rs_trial_status_name(t->status), "params",
                          params_json(t->dims, t->n_dims, t->params), "validation_ndcg",
                          num(t->score), "validation_recall", num(t->recall), "steps", steps,
                          "seconds", t->seconds, "best_trial",
                          t->best_index >= 0 ? json_integer(t->best_index + 1) : json_null(),
                          "best_validation_ndcg", num(t->best_score));
    if (t->status == RS_TRIAL_FAILED)
        json_object_set_new(o, "error", json_string(t->error));
    print_line(o);
    rs_tune_track_trial(c->tracker, t);
}

/* best / base - 1, or NaN. */
static double gain(double best, double base)
{
    return base > 0 ? best / base - 1 : NAN;
}

static void print_summary(const rs_tune_opts *o, const rs_tune_summary *s, const char *run_id)
{
    const rs_tpe_dim *dims = s->dims;
    const size_t n = s->n_dims, k = o->k;
    char flags[512];
    params_flags(dims, n, &s->best, flags, sizeof flags);
    fprintf(stderr,
            "recsys tune: best trial %d (validation ndcg@%zu %.4f): %s\n"
            "recsys tune: on test, ndcg@%zu %.4f against %.4f with the defaults (%+.1f%%), "
            "recall@%zu %.4f against %.4f; %u finished, %u pruned, %u failed in %.1f s\n",
            s->best_trial + 1, k, s->best_score, flags, k, s->best_test.ndcg,
            s->default_test.ndcg, 100 * gain(s->best_test.ndcg, s->default_test.ndcg), k,
            s->best_test.recall, s->default_test.recall, s->finished, s->pruned, s->failed,
            s->seconds);
    json_t *test = json_pack(
        "{s:{s:o,s:o},s:{s:o,s:o}}", "default", "ndcg", num(s->default_test.ndcg), "recall",
        num(s->default_test.recall), "best", "ndcg", num(s->best_test.ndcg), "recall",
        num(s->best_test.recall));
    json_t *improvement =
        json_pack("{s:o,s:o}", "ndcg", num(gain(s->best_test.ndcg, s->default_test.ndcg)),
                  "recall", num(gain(s->best_test.recall, s->default_test.recall)));
    json_t *sum = json_pack(
        "{s:s,s:s,s:s,s:i,s:i,s:i,s:i,s:i,s:i,s:o,s:o,s:o,s:o,s:o,s:i,s:i,s:i,s:i,s:f}", "type",
        "summary", "run_id", run_id, "model", rs_model_name(o->model), "k", (json_int_t)k,
        "trials",
        (json_int_t)o->trials, "finished", (json_int_t)s->finished, "pruned",
        (json_int_t)s->pruned, "failed", (json_int_t)s->failed, "best_trial",
        (json_int_t)s->best_trial + 1, "best_validation_ndcg", num(s->best_score),
        "best_params", params_json(dims, n, &s->best), "default_params",
        params_json(dims, n, &s->defaults), "test", test, "improvement", improvement,
        "fit_interactions", (json_int_t)s->fit_interactions, "validation_interactions",
        (json_int_t)s->validation_interactions, "train_interactions",
        (json_int_t)s->train_interactions, "test_interactions", (json_int_t)s->test_interactions,
        "seconds", s->seconds);
    print_line(sum);
}

static int run(const void *conf, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    const tune_conf *c = conf;
    rs_tune_opts o;
    rs_tune_opts_default(&o);
    o.model = model_flags[c->model];
    o.trials = (uint32_t)c->trials;
    o.seed = (uint64_t)c->seed;
    o.k = (size_t)c->k;
    o.split = (rs_split_opts){.protocol = (rs_protocol)c->protocol,
                              .kind = (rs_split_kind)c->split,
                              .test_fraction = c->test_fraction,
                              .seed = (uint64_t)c->seed,
                              .keep = (uint32_t)c->keep};
    cli_params_apply(&c->params, &o.base);
    o.validation_fraction = c->validation_fraction;
    o.try_base = !c->no_base_trial;
    o.startup = (uint32_t)c->startup;
    o.prune = !c->no_prune;
    o.check_users = (uint32_t)c->check_users;
    rs_tune_tracker tracker;
    out_ctx oc = {o.k, &tracker};
    o.on_trial = on_trial;
    o.ctx = &oc;

    rs_dataset d;
    rs_dataset_opts dopts = {.agg = (rs_agg)c->agg,
                             .content = o.model == RS_MODEL_HYBRID,
                             .content_opts = o.base.content};
    int rc = cli_load_dataset("tune", c->data, c->format, c->db, &dopts, &d);
    if (rc)
        return rc;
    if (d.ui.nnz == 0) {
        rs_dataset_destroy(&d);
        cli_error("tune", "the data set has no interactions");
        return 1;
    }
    rs_store *runs;
    if ((rc = cli_open_store("tune", c->db, &runs))) {
        rs_dataset_destroy(&d);
        return rc;
    }
    rs_diag diag = {{0}};
    rs_err e = rs_tune_track_start(&tracker, runs, &o, &d, &diag);
    rs_tune_summary s;
    if (!e) {
        fprintf(stderr, "recsys tune: run %s\n", tracker.id);
        e = rs_tune_run(&d, &o, &s, &diag);
        rs_diag track = {{0}};
        if (rs_tune_track_finish(&tracker, e ? NULL : &s, diag.msg, &track) != RS_OK)
            fprintf(stderr, "recsys tune: %s\n", track.msg);
    }
    rs_dataset_destroy(&d);
    rs_store_close(runs);
    if (e) {
        cli_error("tune", "%s", diag.msg);
        return rs_err_exit_code(e);
    }
    print_summary(&o, &s, tracker.id);
    fprintf(stderr, "recsys tune: train with these parameters: recsys train --params-from %s\n",
            tracker.id);
    return 0;
}

const cli_cmd cli_cmd_tune = {
    .name = "tune",
    .summary = "search hyperparameters on a validation split",
    .args = "",
    .description =
        "Splits the data as recsys eval does (train/test), splits train again into fit\n"
        "and validation parts, and runs --trials trials of a Tree-structured Parzen\n"
        "Estimator over factors, reg, reg-count, alpha and iterations (and hybrid-reg and\n"
        "hybrid-blend for the hybrid), each fitted on the fit part and scored by ndcg@k\n"
        "on validation. Trials that trail the finished ones at iterations 4, 8, 16 are\n"
        "stopped early (median stopping rule). The model flags set the base the\n"
        "search starts from. Last, the defaults and the best parameters are fitted on\n"
        "all of train and measured on test. Prints a line per trial on stderr, a JSON\n"
        "object per trial and a JSON summary on stdout. The search is recorded as a tune\n"
        "run with a trial run per trial ('recsys runs list'); 'recsys train --params-from\n"
        "RUN_ID' trains with its best parameters. docs/algorithms.md explains the\n"
        "method. Example:\n"
        "  recsys tune --data ml-100k --format movielens-100k --model als --trials 30",
    .opts = opts,
    .n_opts = RS_ARRAY_LEN(opts),
    .conf_size = sizeof(tune_conf),
    .min_args = 0,
    .max_args = 0,
    .run = run,
    .has_params = true,
    .params_offset = offsetof(tune_conf, params),
};
