/* recsys generate: writes a synthetic catalogue (items.csv, events.csv)
 * with real collaborative and content signal; see data/generate.h. */
#include <stdio.h>

#include "cli.h"
#include "core/fs.h"
#include "core/timeutil.h"
#include "data/generate.h"

typedef struct generate_conf {
    int64_t users, items, events, seed, factors;
    const char *out;
} generate_conf;

static const cli_opt opts[] = {
    {"users", CLI_INT, offsetof(generate_conf, users), NULL, true, "N", "number of users",
     NULL, 1, 4e9},
    {"items", CLI_INT, offsetof(generate_conf, items), NULL, true, "M", "number of items",
     NULL, 1, 4e9},
    {"events", CLI_INT, offsetof(generate_conf, events), NULL, true, "K", "number of events",
     NULL, 1, 1e12},
    {"seed", CLI_INT, offsetof(generate_conf, seed), "42", false, "S",
     "random seed: the same seed writes the same files", NULL, 0, 9e18},
    {"factors", CLI_INT, offsetof(generate_conf, factors), "8", false, "F",
     "dimensions of the hidden taste model", NULL, 1, 256},
    {"out", CLI_STR, offsetof(generate_conf, out), NULL, true, "DIR",
     "folder to write items.csv and events.csv into (created if missing)", NULL, 0, 0},
};

typedef struct gen_ui {
    cli_progress progress;
} gen_ui;

static void on_progress(void *ctx, uint64_t done, uint64_t total)
{
    gen_ui *ui = ctx;
    char a[32], b[32];
    cli_progress_say(&ui->progress, false, "%s of %s events", cli_thousands(done, a, sizeof a),
                     cli_thousands(total, b, sizeof b));
}

static int run(const void *conf, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    const generate_conf *c = conf;
    rs_diag d = {{0}};
    if (rs_mkdirs(c->out, &d) != RS_OK) {
        cli_error("generate", "%s", d.msg);
        return 1;
    }
    gen_ui ui;
    cli_progress_init(&ui.progress, "generate");
    rs_gen_opts o = {
        .users = (uint32_t)c->users,
        .items = (uint32_t)c->items,
        .events = (uint64_t)c->events,
        .seed = (uint64_t)c->seed,
        .factors = (uint32_t)c->factors,
        .progress = on_progress,
        .progress_ctx = &ui,
    };
    rs_gen_report r;
    double t0 = rs_mono_s();
    rs_err e = rs_generate(c->out, &o, &r, &d);
    cli_progress_done(&ui.progress);
    if (e) {
        cli_error("generate", "%s", d.msg);
        return rs_err_exit_code(e);
    }
    char it[32], ev[32], us[32];
    printf("wrote %s/items.csv (%s items in %u categories) and %s/events.csv (%s events by %s "
           "users) in %.2f s\n",
           c->out, cli_thousands(r.items_written, it, sizeof it), r.categories, c->out,
           cli_thousands(r.events_written, ev, sizeof ev),
           cli_thousands(r.users_with_events, us, sizeof us), rs_mono_s() - t0);
    return 0;
}

const cli_cmd cli_cmd_generate = {
    .name = "generate",
    .summary = "write a synthetic catalogue and events as CSV",
    .args = "",
    .description =
        "Writes items.csv (item_id,title,category,brand,tags) and events.csv\n"
        "(user_id,item_id,value,timestamp,type) into --out: items in categories and brands\n"
        "with power-law popularity, and users whose events follow a hidden low-rank taste\n"
        "model and category preferences, so that both collaborative filtering and content\n"
        "features have real signal to find. The files are a pure function of the options.\n"
        "Import them with:\n"
        "  recsys import --format items-csv DIR/items.csv\n"
        "  recsys import --format csv DIR/events.csv",
    .opts = opts,
    .n_opts = RS_ARRAY_LEN(opts),
    .conf_size = sizeof(generate_conf),
    .min_args = 0,
    .max_args = 0,
    .run = run,
};
