/* Commands whose engines this version of recsys does not have yet: tune,
 * models and runs. Their options are declared so that
 * --help documents the interface; running them says so and exits 1. */
#include <stdio.h>

#include "cli.h"

typedef struct pending_conf {
    const char *db, *models, *model, *data, *split, *params_from;
    int64_t k, seed, trials;
    int format;
    double test_fraction;
} pending_conf;

static const char *const data_formats[] = {"movielens-100k", "movielens-csv", "csv", NULL};

#define DB_OPT                                                                          \
    {"db", CLI_STR, offsetof(pending_conf, db), "sqlite://recsys.db", false, "URL",     \
     "the store", NULL, 0, 0}
#define MODELS_OPT                                                                      \
    {"models", CLI_STR, offsetof(pending_conf, models), "file://models", false, "URL",  \
     "the model store (file://DIR or s3://BUCKET/PREFIX)", NULL, 0, 0}

static int not_available(const char *name)
{
    cli_error(name, "not available in this version of recsys");
    return 1;
}

#define PENDING(cmdname)                                                                \
    static int run_##cmdname(const void *conf, int argc, char **argv)                   \
    {                                                                                   \
        (void)conf;                                                                     \
        (void)argc;                                                                     \
        (void)argv;                                                                     \
        return not_available(#cmdname);                                                 \
    }

PENDING(tune)
PENDING(models)
PENDING(runs)

static const cli_opt tune_opts[] = {
    {"data", CLI_STR, offsetof(pending_conf, data), NULL, true, "PATH", "data to tune on",
     NULL, 0, 0},
    {"format", CLI_ENUM, offsetof(pending_conf, format), NULL, true, "FORMAT",
     "format of --data", data_formats, 0, 0},
    {"model", CLI_STR, offsetof(pending_conf, model), "als", false, "NAME", "model to tune",
     NULL, 0, 0},
    {"trials", CLI_INT, offsetof(pending_conf, trials), "30", false, "N", "trials to run",
     NULL, 1, 10000},
};

static const cli_opt registry_opts[] = {DB_OPT, MODELS_OPT};

#define CMD(cmdname, text, argtext, table, maxargs)                                     \
    const cli_cmd cli_cmd_##cmdname = {                                                 \
        .name = #cmdname,                                                               \
        .summary = text,                                                                \
        .args = argtext,                                                                \
        .description = "Not available in this version of recsys.",                      \
        .opts = table,                                                                  \
        .n_opts = RS_ARRAY_LEN(table),                                                  \
        .conf_size = sizeof(pending_conf),                                              \
        .min_args = 0,                                                                  \
        .max_args = maxargs,                                                            \
        .run = run_##cmdname,                                                           \
    }

CMD(tune, "search hyperparameters on a validation split", "", tune_opts, 0);
CMD(models, "list, promote and roll back model versions", "list|promote VERSION|rollback",
    registry_opts, 2);
CMD(runs, "list and show training runs", "list|show RUN_ID", registry_opts, 2);
