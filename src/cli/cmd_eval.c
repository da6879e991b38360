/* recsys eval: measures models offline. Reads a data set (a file in one
 * of the import formats, or the store's events), splits it, fits each
 * model on the training part and prints one JSON object per model on
 * stdout with its metrics, fit seconds and peak memory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "data/dataset.h"
#include "eval/experiment.h"

typedef struct eval_conf {
    const char *data, *db, *model, *metric, *keep;
    int format, split, agg, protocol;
    int64_t k, seed;
    double test_fraction, diversity;
    cli_params params;
} eval_conf;

static const char *const formats[] = {"movielens-100k", "movielens-csv", "csv", NULL};
static const char *const aggs[] = {"sum", "max", "last", NULL};
static const char *const splits[] = {"random", "temporal", "time", NULL};
static const char *const protocols[] = {"normal", "cold-items", "cold-users", NULL};

static const cli_opt opts[] = {
    {"data", CLI_STR, offsetof(eval_conf, data), NULL, false, "PATH",
     "data set to evaluate on (a folder or file; see --format)", NULL, 0, 0},
    {"format", CLI_ENUM, offsetof(eval_conf, format), "csv", false, "FORMAT",
     "format of --data", formats, 0, 0},
    {"db", CLI_STR, offsetof(eval_conf, db), NULL, false, "URL",
     "evaluate on the events of this store when there is no --data", NULL, 0, 0},
    {"model", CLI_STR, offsetof(eval_conf, model), NULL, false, "LIST",
     "models to evaluate: popularity, als, similar, knn, mf, hybrid (comma-separated) or all "
     "(default: popularity,als,knn; mf when --metric asks only for rmse/mae)", NULL, 0, 0},
    {"metric", CLI_STR, offsetof(eval_conf, metric), "all", false, "LIST",
     "metrics to print: precision, recall, ndcg, map, hit_rate, coverage, diversity, "
     "novelty, rmse, mae (comma-separated) or all", NULL, 0, 0},
    {"split", CLI_ENUM, offsetof(eval_conf, split), "random", false, "SPLIT",
     "random or temporal (per user), or time (one global cut)", splits, 0, 0},
    {"protocol", CLI_ENUM, offsetof(eval_conf, protocol), "normal", false, "P",
     "normal (--split), cold-items (hold out a share of the items entirely) or cold-users "
     "(a share of the users keeps only --keep interactions)", protocols, 0, 0},
    {"test-fraction", CLI_F64, offsetof(eval_conf, test_fraction), "0.2", false, "F",
     "share held out: of each user's interactions (normal), of the items (cold-items) or "
     "of the users (cold-users)", NULL, 0.01, 0.99},
    {"keep", CLI_STR, offsetof(eval_conf, keep), "1,3,5", false, "LIST",
     "cold-users: interactions each test user keeps in training (one run per value)", NULL, 0,
     0},
    {"diversity", CLI_F64, offsetof(eval_conf, diversity), "0", false, "D",
     "re-rank the als and hybrid lists for diversity (0..1, maximal marginal relevance)",
     NULL, 0, 1},
    {"seed", CLI_INT, offsetof(eval_conf, seed), "42", false, "S", "random seed", NULL, 0, 9e18},
    {"k", CLI_INT, offsetof(eval_conf, k), "10", false, "K", "cut-off of the ranking metrics",
     NULL, 1, 1000},
    {"aggregate", CLI_ENUM, offsetof(eval_conf, agg), "sum", false, "RULE",
     "how repeated events of a user on an item combine", aggs, 0, 0},
};

static void print_result(void *ctx, const rs_model_result *r)
{
    const unsigned *metrics = ctx;
    char buf[2048];
    rs_model_result_json(r, *metrics, buf, sizeof buf);
    printf("%s\n", buf);
    fflush(stdout);
}

/* --keep: a comma-separated list of counts into keep[0..16); 0 after
 * reporting a bad one. */
static size_t parse_keep(const char *list, uint32_t keep[16])
{
    size_t n = 0;
    for (const char *p = list; *p;) {
        char *end;
        unsigned long v = strtoul(p, &end, 10);
        if (end == p || (*end && *end != ',') || v < 1 || v > 1000 || n == 16) {
            cli_error("eval", "--keep: expected up to 16 counts from 1 to 1000 separated by "
                              "commas, not '%s'", list);
            return 0;
        }
        keep[n++] = (uint32_t)v;
        p = *end ? end + 1 : end;
    }
    if (!n)
        cli_error("eval", "--keep: no count given");
    return n;
}

static int run(const void *conf, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    const eval_conf *c = conf;
    if (!c->data && !c->db) {
        cli_error("eval", "give --data (with --format) or --db");
        return 2;
    }
    unsigned metrics = cli_parse_flags("eval", "metric", c->metric, rs_metric_parse,
                                       "precision, recall, ndcg, map, hit_rate, coverage, "
                                       "diversity, novelty, rmse, mae");
    if (!metrics)
        return 2;
    const char *models = c->model;
    if (!models)
        models = (metrics & ~RS_METRIC_RATING) ? "popularity,als,knn" : "mf";
    rs_experiment_opts o = {.models = cli_parse_models("eval", models), .k = (size_t)c->k};
    if (!o.models)
        return 2;
    o.split = (rs_split_opts){.protocol = (rs_protocol)c->protocol,
                              .kind = (rs_split_kind)c->split,
                              .test_fraction = c->test_fraction,
                              .seed = (uint64_t)c->seed};
    o.diversity = (float)c->diversity;
    cli_params_apply(&c->params, &o.params);
    uint32_t keep[16];
    size_t n_keep = 1;
    if (o.split.protocol == RS_PROTOCOL_COLD_USERS && !(n_keep = parse_keep(c->keep, keep)))
        return 2;

    rs_dataset d;
    rs_dataset_opts dopts = {.agg = (rs_agg)c->agg,
                             .content = (o.models & RS_MODEL_HYBRID) != 0,
                             .content_opts = o.params.content};
    int rc = cli_load_dataset("eval", c->data, c->format, c->db, &dopts, &d);
    if (rc)
        return rc;
    if (d.ui.nnz == 0) {
        rs_dataset_destroy(&d);
        cli_error("eval", "the data set has no interactions");
        return 1;
    }
    rs_diag diag = {{0}};
    rs_err e = RS_OK;
    for (size_t i = 0; i < n_keep && !e; i++) {
        o.split.keep = keep[i];
        e = rs_experiment_run(&d, &o, print_result, &metrics, &diag);
    }
    rs_dataset_destroy(&d);
    if (e) {
        cli_error("eval", "%s", diag.msg);
        return rs_err_exit_code(e);
    }
    return 0;
}

const cli_cmd cli_cmd_eval = {
    .name = "eval",
    .summary = "evaluate models on a held-out split (one JSON line per model)",
    .args = "",
    .description =
        "Splits the data (random or temporal per user, or a global time cut), fits each\n"
        "model on the training part and ranks every item not in a user's training part.\n"
        "Prints one JSON object per model: precision, recall, ndcg, map, hit_rate,\n"
        "coverage, diversity and novelty at k, rmse and mae for the rating model (mf),\n"
        "fit and evaluation seconds and the peak memory. docs/metrics.md defines each\n"
        "metric. --protocol cold-items and cold-users measure cold start (new items,\n"
        "users with few events). Examples:\n"
        "  recsys eval --data ml-100k --format movielens-100k --model all\n"
        "  recsys eval --data ml-100k --format movielens-100k --metric rmse,mae\n"
        "  recsys eval --data ml-100k --format movielens-100k --protocol cold-items \\\n"
        "      --model popularity,als,hybrid",
    .opts = opts,
    .n_opts = RS_ARRAY_LEN(opts),
    .conf_size = sizeof(eval_conf),
    .min_args = 0,
    .max_args = 0,
    .run = run,
    .has_params = true,
    .params_offset = offsetof(eval_conf, params),
};
