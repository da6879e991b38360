/* recsys train: the training job as a one-shot command (what a
 * Kubernetes CronJob runs). It records a run in the store, trains the
 * chosen models on the store's events, measures them on a held-out split,
 * uploads the model to the model store and registers it as a new version,
 * which goes to production when the promotion policy accepts it. Progress
 * goes to stderr (logfmt), the evaluation as one JSON line per model and a
 * summary line to stdout. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "core/log.h"
#include "models/fit.h"
#include "registry/job.h"

typedef struct train_conf {
    const char *db, *models_url, *model, *name, *params_from;
    int split, promote;
    int64_t k, seed, keep;
    double test_fraction, tolerance;
    int agg;
    bool no_eval, json, warm_start;
    cli_params params;
} train_conf;

static const char *const aggs[] = {"sum", "max", "last", NULL};
static const char *const splits[] = {"random", "temporal", "time", NULL};

static const char *const promotes[] = {"auto", "always", "never", NULL};

static const cli_opt opts[] = {
    {"db", CLI_STR, offsetof(train_conf, db), "sqlite://recsys.db", false, "URL",
     "the store to read events from and record the run and version in", NULL, 0, 0},
    {"models", CLI_STR, offsetof(train_conf, models_url), "file://models", false, "URL",
     "the model store to upload to (file://DIR or s3://BUCKET/PREFIX)", NULL, 0, 0},
    {"model", CLI_STR, offsetof(train_conf, model), "popularity,als,similar,hybrid", false,
     "LIST",
     "models to train: popularity, als, similar, knn, mf, hybrid (comma-separated) or all",
     NULL, 0, 0},
    {"model-name", CLI_STR, offsetof(train_conf, name), RS_REGISTRY_DEFAULT_NAME, false, "NAME",
     "the model's name in the registry", NULL, 0, 0},
    {"params-from", CLI_STR, offsetof(train_conf, params_from), NULL, false, "RUN_ID",
     "use the parameters of this run (the best of a `recsys tune` run); they replace the "
     "hyperparameter flags", NULL, 0, 0},
    {"promote", CLI_ENUM, offsetof(train_conf, promote), "auto", false, "POLICY",
     "auto (when its held-out ndcg is at least production's less --tolerance), always or "
     "never", promotes, 0, 0},
    {"tolerance", CLI_F64, offsetof(train_conf, tolerance), "0.01", false, "F",
     "relative drop of held-out ndcg still promoted automatically", NULL, 0, 1},
    {"keep-versions", CLI_INT, offsetof(train_conf, keep), "10", false, "N",
     "versions kept in the registry (0: all); older ones and their files are deleted", NULL,
     0, 1e9},
    {"warm-start", CLI_BOOL, offsetof(train_conf, warm_start), "false", false, NULL,
     "start the final ALS fit from the production version's item factors (matched by "
     "item id; the evaluation still starts cold)", NULL, 0, 0},
    {"aggregate", CLI_ENUM, offsetof(train_conf, agg), "sum", false, "RULE",
     "how repeated events of a user on an item combine", aggs, 0, 0},
    {"no-eval", CLI_BOOL, offsetof(train_conf, no_eval), "false", false, NULL,
     "skip the held-out evaluation (the version then cannot be promoted automatically "
     "over a production one)", NULL, 0, 0},
    {"split", CLI_ENUM, offsetof(train_conf, split), "random", false, "SPLIT",
     "held-out split: random, temporal (per user) or time (global cut)", splits, 0, 0},
    {"test-fraction", CLI_F64, offsetof(train_conf, test_fraction), "0.2", false, "F",
     "share of each user's interactions held out", NULL, 0.01, 0.99},
    {"seed", CLI_INT, offsetof(train_conf, seed), "42", false, "S", "random seed", NULL, 0,
     9e18},
    {"k", CLI_INT, offsetof(train_conf, k), "10", false, "K", "cut-off of the ranking metrics",
     NULL, 1, 1000},
    {"json", CLI_BOOL, offsetof(train_conf, json), "false", false, NULL,
     "print the summary as one JSON object", NULL, 0, 0},
};

static void print_result(void *ctx, const rs_model_result *r)
{
    (void)ctx;
    char buf[2048];
    rs_model_result_json(r, RS_METRIC_ALL, buf, sizeof buf);
    printf("%s\n", buf);
    fflush(stdout);
}

/* The parameters recorded by run `id` over *p. Returns an exit code (0: ok). */
static int params_from_run(rs_store *s, const char *id, rs_model_params *p)
{
    rs_arena a;
    rs_arena_init(&a, 4096);
    rs_run r;
    rs_diag d = {{0}};
    rs_err e = rs_store_get_run(s, id, &a, &r);
    if (e)
        cli_error("train", "--params-from: %s", rs_store_errmsg(s));
    else if ((e = rs_model_params_from_json(r.params, p, &d)))
        cli_error("train", "--params-from: run %s: %s", id, d.msg);
    else if (strcmp(r.status, "finished") != 0)
        rs_log_warn("the run the parameters come from did not finish", RS_S("run", id),
                    RS_S("status", r.status));
    rs_arena_destroy(&a);
    return rs_err_exit_code(e);
}

/* The --json line of a failed run: {"status":"failed","run_id","error"}. */
static void print_failure(const rs_job_result *r, const rs_diag *d)
{
    json_t *j = json_pack("{s:s,s:s,s:s}", "status", "failed", "run_id", r->run_id, "error",
                          d->msg);
    if (j && json_dumpf(j, stdout, JSON_COMPACT) == 0)
        putchar('\n');
    json_decref(j);
    fflush(stdout);
}

static void print_summary(const train_conf *c, const rs_job_result *r)
{
    const rs_registry_result *v = &r->reg;
    if (c->json) {
        json_t *j = json_pack(
            "{s:s,s:s,s:I,s:s,s:s,s:I,s:I,s:I,s:o,s:f}", "status", "ok", "run_id", r->run_id,
            "version", (json_int_t)v->version, "stage", v->promoted ? "production" : "candidate",
            "uri", v->uri, "users", (json_int_t)r->users, "items", (json_int_t)r->items,
            "interactions", (json_int_t)r->interactions, "ndcg",
            isnan(r->score) ? json_null() : json_real(r->score), "seconds", r->seconds);
        if (j && json_dumpf(j, stdout, JSON_COMPACT) == 0)
            putchar('\n');
        json_decref(j);
    } else {
        printf("run %s: version %llu of %s (%u users, %u items, %zu interactions, %.1f s)\n",
               r->run_id, (unsigned long long)v->version, v->uri, r->users, r->items,
               r->interactions, r->seconds);
        if (r->warm[0])
            printf("%s\n", r->warm);
        printf("version %llu %s\n", (unsigned long long)v->version, v->note);
    }
    fflush(stdout);
}

static int run(const void *conf, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    const train_conf *c = conf;
    rs_job_opts o = {.kind = "train",
                     .name = c->name,
                     .policy = {.mode = (rs_promote_mode)c->promote,
                                .tolerance = c->tolerance,
                                .keep = (size_t)c->keep},
                     .tmp_dir = cli_tmp_dir(),
                     .warm_start = c->warm_start};
    o.train = (rs_train_opts){.models = cli_parse_models("train", c->model),
                              .agg = (rs_agg)c->agg,
                              .evaluate = !c->no_eval,
                              .on_result = print_result};
    if (!o.train.models)
        return 2;
    o.train.eval.split = (rs_split_opts){.kind = (rs_split_kind)c->split,
                                         .test_fraction = c->test_fraction,
                                         .seed = (uint64_t)c->seed};
    o.train.eval.k = (size_t)c->k;
    cli_params_apply(&c->params, &o.train.eval.params);

    rs_objstore *objects;
    int rc = cli_open_objstore("train", c->models_url, &objects);
    if (rc)
        return rc;
    rs_store *s;
    if ((rc = cli_open_store("train", c->db, &s))) {
        rs_objstore_close(objects);
        return rc;
    }
    if (c->params_from)
        rc = params_from_run(s, c->params_from, &o.train.eval.params);
    if (rc == 0) {
        o.train.eval.params.als.compute_loss = true; /* shown in the per-iteration log */
        rs_job_result r;
        rs_diag d = {{0}};
        rs_err e = rs_job_train(s, objects, &o, &r, &d);
        if (e) {
            cli_error("train", "run %s failed: %s; the production model is unchanged",
                      r.run_id, d.msg);
            if (c->json)
                print_failure(&r, &d);
            rc = rs_err_exit_code(e);
        } else {
            print_summary(c, &r);
        }
    }
    rs_store_close(s);
    rs_objstore_close(objects);
    return rc;
}

const cli_cmd cli_cmd_train = {
    .name = "train",
    .summary = "train models, record the run and register a model version",
    .args = "",
    .description =
        "Records a run in the store, reads every event, measures the chosen models on a\n"
        "held-out split (one JSON line per model on stdout, as 'recsys eval' prints), fits\n"
        "them on all the data, uploads the model file to the model store and registers it\n"
        "as the next version of --model-name. The version goes to production when its\n"
        "held-out ndcg is at least the production version's less --tolerance; otherwise it\n"
        "stays a candidate ('recsys models promote' puts it in production by hand). The\n"
        "servers pick up a new production version within their --poll interval. A failed\n"
        "training marks its run failed and leaves production as it was. Examples:\n"
        "  recsys train --db sqlite://shop.db --models file://models\n"
        "  recsys train --models s3://bucket/recsys --params-from 20261123-101500-3f9a1c",
    .opts = opts,
    .n_opts = RS_ARRAY_LEN(opts),
    .conf_size = sizeof(train_conf),
    .min_args = 0,
    .max_args = 0,
    .run = run,
    .has_params = true,
    .params_offset = offsetof(train_conf, params),
};
