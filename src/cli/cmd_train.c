/* recsys train: trains the chosen models on the store's events, measures
 * them on a held-out split, and publishes the result as a new model
 * version in the model store. Progress goes to stderr (logfmt), the
 * evaluation as one JSON line per model and a summary line to stdout. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "core/log.h"
#include "eval/train.h"
#include "models/publish.h"

typedef struct train_conf {
    const char *db, *models_url, *model;
    int split;
    int64_t k, seed;
    double test_fraction;
    int agg;
    bool no_eval, json;
    cli_params params;
} train_conf;

static const char *const aggs[] = {"sum", "max", "last", NULL};
static const char *const splits[] = {"random", "temporal", "time", NULL};

static const cli_opt opts[] = {
    {"db", CLI_STR, offsetof(train_conf, db), "sqlite://recsys.db", false, "URL",
     "the store to read events from", NULL, 0, 0},
    {"models", CLI_STR, offsetof(train_conf, models_url), "file://models", false, "URL",
     "the model store to publish to (file://DIR)", NULL, 0, 0},
    {"model", CLI_STR, offsetof(train_conf, model), "popularity,als,similar,hybrid", false,
     "LIST",
     "models to train: popularity, als, similar, knn, mf, hybrid (comma-separated) or all",
     NULL, 0, 0},
    {"aggregate", CLI_ENUM, offsetof(train_conf, agg), "sum", false, "RULE",
     "how repeated events of a user on an item combine", aggs, 0, 0},
    {"no-eval", CLI_BOOL, offsetof(train_conf, no_eval), "false", false, NULL,
     "skip the held-out evaluation", NULL, 0, 0},
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

static int run(const void *conf, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    const train_conf *c = conf;
    rs_diag d = {{0}};
    char dir[4096];
    rs_err e = rs_model_dir_from_url(c->models_url, dir, sizeof dir, &d);
    if (e) {
        cli_error("train", "--models: %s", d.msg);
        return 2;
    }
    rs_train_opts o = {.models = cli_parse_models("train", c->model),
                       .agg = (rs_agg)c->agg,
                       .evaluate = !c->no_eval,
                       .on_result = print_result};
    if (!o.models)
        return 2;
    o.eval.split = (rs_split_opts){.kind = (rs_split_kind)c->split,
                                   .test_fraction = c->test_fraction,
                                   .seed = (uint64_t)c->seed};
    o.eval.k = (size_t)c->k;
    cli_params_apply(&c->params, &o.eval.params);
    o.eval.params.als.compute_loss = true; /* shown in the per-iteration log */

    rs_store *s;
    int rc = cli_open_store("train", c->db, &s);
    if (rc)
        return rc;
    rs_bundle b;
    rs_train_report r;
    e = rs_train(s, &o, &b, &r, &d);
    rs_store_close(s);
    if (e) {
        cli_error("train", "%s; no model was published", d.msg);
        return rs_err_exit_code(e);
    }
    uint64_t version = 0;
    char path[4200];
    e = rs_model_dir_publish(dir, &b, &version, path, sizeof path, &d);
    rs_bundle_destroy(&b);
    if (e) {
        cli_error("train", "%s; the current model is unchanged", d.msg);
        return rs_err_exit_code(e);
    }
    if (c->json)
        printf("{\"status\":\"ok\",\"version\":%llu,\"path\":\"%s\",\"users\":%u,\"items\":%u,"
               "\"interactions\":%zu,\"fit_seconds\":%.3f,\"eval_seconds\":%.3f}\n",
               (unsigned long long)version, path, r.users, r.items, r.interactions,
               r.fit_seconds, r.eval_seconds);
    else
        printf("published model version %llu to %s (%u users, %u items, %zu interactions; "
               "fit %.2f s, evaluation %.2f s)\n",
               (unsigned long long)version, path, r.users, r.items, r.interactions,
               r.fit_seconds, r.eval_seconds);
    return 0;
}

const cli_cmd cli_cmd_train = {
    .name = "train",
    .summary = "train models on the store's events and publish them",
    .args = "",
    .description =
        "Reads every event from the store, measures the chosen models on a held-out split\n"
        "(one JSON line per model on stdout, as 'recsys eval' prints), fits them on all the\n"
        "data and publishes the result as the next model version in the model store:\n"
        "DIR/model-N.rsm, made current in DIR/CURRENT only after it has been written and\n"
        "verified. A failed training leaves the current model as it was.",
    .opts = opts,
    .n_opts = RS_ARRAY_LEN(opts),
    .conf_size = sizeof(train_conf),
    .min_args = 0,
    .max_args = 0,
    .run = run,
    .has_params = true,
    .params_offset = offsetof(train_conf, params),
};
