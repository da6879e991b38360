/* recsys demo: builds a demo shop end to end in one folder: generates a
 * synthetic catalogue, imports it into an SQLite store, and reports what
 * it did. Running it again reuses what is already there. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/timeutil.h"
#include "data/generate.h"
#include "data/import.h"
#include "eval/train.h"
#include "registry/job.h"

typedef struct demo_conf {
    const char *dir, *listen;
    int64_t users, items, events, seed;
    bool no_serve;
} demo_conf;

static const cli_opt opts[] = {
    {"dir", CLI_STR, offsetof(demo_conf, dir), "recsys-demo", false, "DIR",
     "folder for the demo's data, database and models", NULL, 0, 0},
    {"users", CLI_INT, offsetof(demo_conf, users), "5000", false, "N", "demo users", NULL, 1,
     1e8},
    {"items", CLI_INT, offsetof(demo_conf, items), "2000", false, "M", "demo items", NULL, 1,
     1e8},
    {"events", CLI_INT, offsetof(demo_conf, events), "200000", false, "K", "demo events", NULL,
     1, 1e10},
    {"seed", CLI_INT, offsetof(demo_conf, seed), "42", false, "S", "random seed", NULL, 0, 9e18},
    {"listen", CLI_STR, offsetof(demo_conf, listen), "127.0.0.1:8080", false, "HOST:PORT",
     "address to serve the demo on", NULL, 0, 0},
    {"no-serve", CLI_BOOL, offsetof(demo_conf, no_serve), "false", false, NULL,
     "stop after training instead of serving", NULL, 0, 0},
};

/* The parameters the data in DIR/data was generated with, one line. */
static void params_line(const demo_conf *c, char *buf, size_t cap)
{
    snprintf(buf, cap, "users=%lld items=%lld events=%lld seed=%lld\n", (long long)c->users,
             (long long)c->items, (long long)c->events, (long long)c->seed);
}

static bool same_params(const char *path, const char *want)
{
    char got[256] = "";
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    bool ok = fgets(got, sizeof got, f) && strcmp(got, want) == 0;
    fclose(f);
    return ok;
}

/* Generates the catalogue unless DIR/data already holds it. */
static int ensure_data(const demo_conf *c, const char *data_dir, const char *db_path)
{
    char params_path[4200], want[256], items[4200], events[4200];
    snprintf(params_path, sizeof params_path, "%s/PARAMS", data_dir);
    snprintf(items, sizeof items, "%s/items.csv", data_dir);
    snprintf(events, sizeof events, "%s/events.csv", data_dir);
    params_line(c, want, sizeof want);
    if (same_params(params_path, want) && access(items, R_OK) == 0 && access(events, R_OK) == 0) {
        printf("demo data: %s (reused)\n", data_dir);
        return 0;
    }
    /* New parameters: the old demo database no longer matches its data. */
    static const char *const suffixes[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < RS_ARRAY_LEN(suffixes); i++) {
        char p[4096];
        snprintf(p, sizeof p, "%s%s", db_path, suffixes[i]);
        if (unlink(p) != 0 && errno != ENOENT) {
            cli_error("demo", "cannot remove the old demo database %s: %s", p, strerror(errno));
            return 1;
        }
    }
    rs_gen_opts o = {.users = (uint32_t)c->users, .items = (uint32_t)c->items,
                     .events = (uint64_t)c->events, .seed = (uint64_t)c->seed};
    rs_gen_report r;
    rs_diag d = {{0}};
    double t0 = rs_mono_s();
    if (rs_generate(data_dir, &o, &r, &d) != RS_OK) {
        cli_error("demo", "%s", d.msg);
        return 1;
    }
    FILE *f = fopen(params_path, "w");
    if (!f || fputs(want, f) < 0 || fclose(f) != 0) {
        cli_error("demo", "cannot write %s: %s", params_path, strerror(errno));
        return 1;
    }
    printf("demo data: generated %llu items and %llu events by %u users in %s (%.2f s)\n",
           (unsigned long long)r.items_written, (unsigned long long)r.events_written,
           r.users_with_events, data_dir, rs_mono_s() - t0);
    return 0;
}

static int import_file(rs_store *s, rs_import_format format, const char *path)
{
    rs_import_opts o = {.format = format, .strict = true};
    rs_import_report r;
    rs_diag d = {{0}};
    if (rs_import(s, &path, 1, &o, &r, &d) != RS_OK) {
        cli_error("demo", "importing %s: %s", path, d.msg);
        return 1;
    }
    if (r.files_skipped)
        printf("import: %s (already imported)\n", path);
    else
        printf("import: %s: %llu rows in %.2f s\n", path, (unsigned long long)r.rows, r.seconds);
    return 0;
}

static void print_metrics(void *ctx, const rs_model_result *r)
{
    (void)ctx;
    printf("evaluate: %-10s nDCG@%zu %.3f  precision %.3f  recall %.3f  coverage %.3f "
           "(fit %.2f s)\n",
           r->model, r->k, r->topk.ndcg, r->topk.precision, r->topk.recall, r->topk.coverage,
           r->fit_seconds);
}

/* Trains the default models on the store and registers them, with the
 * artifact in DIR/models, as a run of the training job would. */
static int train(const demo_conf *c, const char *url, const char *models_url)
{
    rs_job_opts o = {.kind = "train",
                     .name = RS_REGISTRY_DEFAULT_NAME,
                     .policy = rs_registry_policy_default(),
                     .tmp_dir = cli_tmp_dir()};
    o.policy.mode = RS_PROMOTE_ALWAYS; /* the demo serves what it just trained */
    o.train = (rs_train_opts){.models = RS_MODEL_POPULARITY | RS_MODEL_ALS |
                                        RS_MODEL_SIMILAR | RS_MODEL_HYBRID,
                              .agg = RS_AGG_SUM, .evaluate = true,
                              .on_result = print_metrics};
    o.train.eval.split = (rs_split_opts){.kind = RS_SPLIT_RANDOM, .test_fraction = 0.2,
                                         .seed = (uint64_t)c->seed};
    o.train.eval.k = 10;
    rs_model_params_default(&o.train.eval.params);
    rs_store *s;
    int rc = cli_open_store("demo", url, &s);
    if (rc)
        return rc;
    rs_objstore *objects;
    if ((rc = cli_open_objstore("demo", models_url, &objects))) {
        rs_store_close(s);
        return rc;
    }
    rs_job_result r;
    rs_diag d = {{0}};
    rs_log_level level = rs_log_get_level();
    if (level < RS_LOG_WARN)
        rs_log_set_level(RS_LOG_WARN); /* the demo prints its own summary */
    rs_err e = rs_job_train(s, objects, &o, &r, &d);
    rs_log_set_level(level);
    rs_objstore_close(objects);
    rs_store_close(s);
    if (e) {
        cli_error("demo", "training: %s", d.msg);
        return rs_err_exit_code(e);
    }
    printf("train: run %s, model version %llu in %s (%.2f s)\n", r.run_id,
           (unsigned long long)r.reg.version, r.reg.uri, r.seconds);
    return 0;
}

static int run(const void *conf, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    const demo_conf *c = conf;
    char data_dir[4096], db_path[4096], url[4200], items[4200], events[4200];
    snprintf(data_dir, sizeof data_dir, "%s/data", c->dir);
    snprintf(db_path, sizeof db_path, "%s/recsys.db", c->dir);
    snprintf(url, sizeof url, "sqlite://%s", db_path);
    snprintf(items, sizeof items, "%s/items.csv", data_dir);
    snprintf(events, sizeof events, "%s/events.csv", data_dir);

    rs_diag d = {{0}};
    if (rs_mkdirs(data_dir, &d) != RS_OK) {
        cli_error("demo", "%s", d.msg);
        return 1;
    }
    if (ensure_data(c, data_dir, db_path))
        return 1;
    rs_store *s;
    int rc = cli_open_store("demo", url, &s);
    if (rc)
        return rc;
    rc = import_file(s, RS_IMPORT_ITEMS_CSV, items);
    if (!rc)
        rc = import_file(s, RS_IMPORT_EVENTS_CSV, events);
    rs_store_counts n;
    if (!rc && rs_store_get_counts(s, &n) != RS_OK) {
        cli_error("demo", "%s", rs_store_errmsg(s));
        rc = 1;
    }
    rs_store_close(s);
    if (rc)
        return rc;
    char us[32], it[32], ev[32];
    printf("store: %s holds %s users, %s items, %s events\n", url,
           cli_thousands(n.users, us, sizeof us), cli_thousands(n.items, it, sizeof it),
           cli_thousands(n.events, ev, sizeof ev));
    char models[4200];
    snprintf(models, sizeof models, "file://%s/models", c->dir);
    rc = train(c, url, models);
    if (rc)
        return rc;
    if (c->no_serve) {
        printf("Trained; not serving (--no-serve). Try: recsys eval --db %s --model all\n", url);
        return 0;
    }
    printf("Web UI:        http://%s/\n"
           "Try:  curl 'http://%s/v1/recommend?user_id=u1&n=5'\n"
           "      curl 'http://%s/v1/similar?item_id=i1'\n"
           "API reference: http://%s/docs   (Ctrl-C stops the server)\n",
           c->listen, c->listen, c->listen, c->listen);
    const cli_serve_conf sc = cli_serve_defaults(url, models, c->listen);
    return cli_serve(&sc);
}

const cli_cmd cli_cmd_demo = {
    .name = "demo",
    .summary = "build a demo shop: generate a catalogue, import it, train and serve",
    .args = "",
    .description =
        "Generates a synthetic catalogue into DIR/data, imports it into the SQLite store\n"
        "DIR/recsys.db, trains popularity, ALS and similar items (measuring them on a\n"
        "held-out 20%), records the run and registers the model as a version in\n"
        "production, with its file in DIR/models. Running it again reuses the data and\n"
        "the database and registers a new version; changing --users,\n"
        "--items, --events or --seed starts afresh. Then serves the HTTP API and the web\n"
        "UI on --listen (as 'recsys serve' does) until Ctrl-C.",
    .opts = opts,
    .n_opts = RS_ARRAY_LEN(opts),
    .conf_size = sizeof(demo_conf),
    .min_args = 0,
    .max_args = 0,
    .run = run,
};
