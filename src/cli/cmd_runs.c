/* recsys runs: the training runs the store has recorded (train, retrain,
 * tune and its trials). `list` prints a table (or JSON lines), `show` one
 * run as JSON, `export` every run as JSON lines for another tracker. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "core/alloc.h"
#include "registry/runs.h"

typedef struct runs_conf {
    const char *db, *model, *status, *kind, *parent;
    int64_t limit;
    bool json;
} runs_conf;

static const cli_opt opts[] = {
    {"db", CLI_STR, offsetof(runs_conf, db), "sqlite://recsys.db", false, "URL", "the store",
     NULL, 0, 0},
    {"model", CLI_STR, offsetof(runs_conf, model), NULL, false, "NAME",
     "list: only runs that trained this model (als, hybrid, ...)", NULL, 0, 0},
    {"status", CLI_STR, offsetof(runs_conf, status), NULL, false, "STATUS",
     "list: only running, finished or failed runs", NULL, 0, 0},
    {"kind", CLI_STR, offsetof(runs_conf, kind), NULL, false, "KIND",
     "list: only train, retrain, tune or trial runs", NULL, 0, 0},
    {"parent", CLI_STR, offsetof(runs_conf, parent), NULL, false, "RUN_ID",
     "list: only the trials of this tune run", NULL, 0, 0},
    {"limit", CLI_INT, offsetof(runs_conf, limit), "20", false, "N", "list: runs shown", NULL,
     1, 1e9},
    {"json", CLI_BOOL, offsetof(runs_conf, json), "false", false, NULL,
     "list: one JSON object per run instead of a table", NULL, 0, 0},
};

/* The primary model's held-out ndcg of a run's metrics, as text. */
static const char *score_text(const char *metrics, char *buf, size_t cap)
{
    json_t *m = json_loads(metrics ? metrics : "{}", 0, NULL);
    json_t *ndcg = json_object_get(m, "ndcg");
    if (json_is_number(ndcg))
        snprintf(buf, cap, "%.4f", json_number_value(ndcg));
    else
        snprintf(buf, cap, "-");
    json_decref(m);
    return buf;
}

static void print_row(const rs_run *r)
{
    char started[32], score[32], version[24], seconds[24];
    cli_time(r->started_ms, started, sizeof started);
    score_text(r->metrics, score, sizeof score);
    snprintf(version, sizeof version, r->version ? "%llu" : "-",
             (unsigned long long)r->version);
    if (r->ended_ms)
        snprintf(seconds, sizeof seconds, "%.1f", (double)(r->ended_ms - r->started_ms) / 1e3);
    else
        snprintf(seconds, sizeof seconds, "-");
    const char *what = r->error ? r->error : r->note ? r->note : "";
    printf("%-22s %-7s %-8s %-19s %8s %7s %7s  %-29s %s\n", r->id, r->kind, r->status, started,
           seconds, score, version, r->model, what);
}

static void print_json(const rs_run *r)
{
    char *j = rs_run_json(r);
    printf("%s\n", j);
    rs_free(j);
}

static int list(rs_store *s, const runs_conf *c)
{
    const rs_run_filter f = {c->model, c->status, c->kind, c->parent};
    rs_arena a;
    rs_arena_init(&a, 65536);
    rs_run *runs;
    size_t n;
    rs_err e = rs_store_list_runs(s, &f, NULL, (size_t)c->limit, &a, &runs, &n);
    if (e) {
        cli_error("runs", "%s", rs_store_errmsg(s));
        rs_arena_destroy(&a);
        return rs_err_exit_code(e);
    }
    if (!c->json)
        printf("%-22s %-7s %-8s %-19s %8s %7s %7s  %-29s %s\n", "RUN", "KIND", "STATUS",
               "STARTED (UTC)", "SECONDS", "NDCG", "VERSION", "MODELS", "NOTE");
    for (size_t i = 0; i < n; i++)
        (c->json ? print_json : print_row)(&runs[i]);
    rs_arena_destroy(&a);
    return 0;
}

static int show(rs_store *s, const char *id)
{
    rs_arena a;
    rs_arena_init(&a, 8192);
    rs_run r;
    rs_err e = rs_store_get_run(s, id, &a, &r);
    if (e)
        cli_error("runs", "%s", rs_store_errmsg(s));
    else
        print_json(&r);
    rs_arena_destroy(&a);
    return rs_err_exit_code(e);
}

/* Every run, newest first, a page at a time. */
static int export_all(rs_store *s)
{
    char cursor[128] = "";
    for (;;) {
        rs_arena a;
        rs_arena_init(&a, 65536);
        rs_run *runs;
        size_t n;
        rs_err e = rs_store_list_runs(s, NULL, cursor[0] ? cursor : NULL, 500, &a, &runs, &n);
        if (e) {
            cli_error("runs", "%s", rs_store_errmsg(s));
            rs_arena_destroy(&a);
            return 1;
        }
        for (size_t i = 0; i < n; i++)
            print_json(&runs[i]);
        if (n)
            snprintf(cursor, sizeof cursor, "%s", runs[n - 1].id);
        rs_arena_destroy(&a);
        if (n < 500)
            return 0;
    }
}

static int run(const void *conf, int argc, char **argv)
{
    const runs_conf *c = conf;
    const char *sub = argc > 0 ? argv[0] : "list";
    const bool is_show = !strcmp(sub, "show");
    if (strcmp(sub, "list") != 0 && !is_show && strcmp(sub, "export") != 0) {
        cli_error("runs", "unknown subcommand '%s' (list, show RUN_ID or export)", sub);
        return 2;
    }
    if (is_show != (argc == 2)) {
        cli_error("runs", is_show ? "show needs a RUN_ID" : "%s takes no argument", sub);
        return 2;
    }
    rs_store *s;
    int rc = cli_open_store("runs", c->db, &s);
    if (rc)
        return rc;
    if (is_show)
        rc = show(s, argv[1]);
    else if (!strcmp(sub, "export"))
        rc = export_all(s);
    else
        rc = list(s, c);
    rs_store_close(s);
    return rc;
}

const cli_cmd cli_cmd_runs = {
    .name = "runs",
    .summary = "list, show and export training runs",
    .args = "list|show RUN_ID|export",
    .description =
        "Every 'recsys train', scheduled retraining, 'recsys tune' and tuning trial is\n"
        "recorded as a run: kind, status, times, models, hyperparameters, data fingerprint,\n"
        "held-out metrics, time per phase, the model version it registered and what\n"
        "happened to it, or why it failed.\n"
        "  list     the newest runs as a table (--json: one object per line); filters:\n"
        "           --model, --status, --kind, --parent\n"
        "  show     one run as JSON\n"
        "  export   every run as JSON lines, newest first, to load into another tracker",
    .opts = opts,
    .n_opts = RS_ARRAY_LEN(opts),
    .conf_size = sizeof(runs_conf),
    .min_args = 0,
    .max_args = 2,
    .run = run,
};
