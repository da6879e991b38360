/* recsys import: reads files into the store (see data/import.h for the
 * formats), prints bad rows and progress on stderr and a summary on
 * stdout (or as JSON with --json). */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "core/timeutil.h"
#include "data/import.h"

typedef struct import_conf {
    const char *db;
    int format;
    bool strict, force, json;
} import_conf;

static const char *const formats[] = {"movielens-100k", "movielens-csv", "csv", "items-csv", NULL};

static const cli_opt opts[] = {
    {"db", CLI_STR, offsetof(import_conf, db), "sqlite://recsys.db", false, "URL",
     "the store to import into", NULL, 0, 0},
    {"format", CLI_ENUM, offsetof(import_conf, format), NULL, true, "FORMAT",
     "what the files hold", formats, 0, 0},
    {"strict", CLI_BOOL, offsetof(import_conf, strict), "false", false, NULL,
     "stop at the first malformed row and import nothing (default: skip and count them)",
     NULL, 0, 0},
    {"force", CLI_BOOL, offsetof(import_conf, force), "false", false, NULL,
     "import files even if the same content was imported before", NULL, 0, 0},
    {"json", CLI_BOOL, offsetof(import_conf, json), "false", false, NULL,
     "print the summary as one JSON object", NULL, 0, 0},
};

/* Shows the first bad rows in full, then only counts them. */
#define SHOW_BAD_ROWS 20

typedef struct import_ui {
    cli_progress progress;
    uint64_t bad_shown, bad_total;
} import_ui;

static void on_bad_row(void *ctx, const char *file, uint64_t line, const char *reason)
{
    import_ui *ui = ctx;
    ui->bad_total++;
    if (ui->bad_shown++ < SHOW_BAD_ROWS) {
        cli_progress_done(&ui->progress);
        fprintf(stderr, "%s:%llu: %s (row skipped)\n", file, (unsigned long long)line, reason);
    }
}

static void on_progress(void *ctx, const rs_import_progress *p)
{
    import_ui *ui = ctx;
    char rows[32];
    if (p->size)
        cli_progress_say(&ui->progress, false, "%s: %s rows, %.0f%%", p->file,
                         cli_thousands(p->rows, rows, sizeof rows), 100.0 * (double)p->bytes / (double)p->size);
    else
        cli_progress_say(&ui->progress, false, "%s: %s rows", p->file,
                         cli_thousands(p->rows, rows, sizeof rows));
}

static void on_skip_file(void *ctx, const char *file, const rs_import_rec *earlier)
{
    import_ui *ui = ctx;
    char when[40];
    rs_time_format(earlier->imported_ms, when, sizeof when);
    cli_progress_done(&ui->progress);
    fprintf(stderr, "recsys import: %s: skipped, the same content was imported at %s "
                    "(use --force to import it again)\n", file, when);
}

static void print_summary(const import_conf *c, const rs_import_report *r, const char *status)
{
    if (c->json) {
        printf("{\"status\":\"%s\",\"files\":%llu,\"files_skipped\":%llu,\"rows\":%llu,"
               "\"bad_rows\":%llu,\"events\":%llu,\"users\":%llu,\"items\":%llu,"
               "\"users_created\":%llu,\"items_created\":%llu,\"seconds\":%.3f}\n",
               status, (unsigned long long)r->files, (unsigned long long)r->files_skipped,
               (unsigned long long)r->rows, (unsigned long long)r->bad_rows,
               (unsigned long long)r->events, (unsigned long long)r->users,
               (unsigned long long)r->items, (unsigned long long)r->users_created,
               (unsigned long long)r->items_created, r->seconds);
        return;
    }
    if (strcmp(status, "ok") != 0)
        return;
    char ev[32], us[32], it[32], rate[32];
    double per_s = r->seconds > 0 ? (double)r->rows / r->seconds : 0;
    printf("imported %s events, %s users, %s items from %llu file%s in %.2f s (%s rows/s)",
           cli_thousands(r->events, ev, sizeof ev), cli_thousands(r->users, us, sizeof us),
           cli_thousands(r->items, it, sizeof it), (unsigned long long)r->files,
           r->files == 1 ? "" : "s", r->seconds, cli_thousands((uint64_t)per_s, rate, sizeof rate));
    if (r->bad_rows)
        printf("; skipped %llu bad row%s", (unsigned long long)r->bad_rows, r->bad_rows == 1 ? "" : "s");
    if (r->files_skipped)
        printf("; %llu file%s imported before", (unsigned long long)r->files_skipped,
               r->files_skipped == 1 ? " was" : "s were");
    printf("\n");
}

static int run(const void *conf, int argc, char **argv)
{
    const import_conf *c = conf;
    rs_store *s;
    int rc = cli_open_store("import", c->db, &s);
    if (rc)
        return rc;
    import_ui ui = {0};
    cli_progress_init(&ui.progress, "import");
    rs_import_opts o = {
        .format = (rs_import_format)c->format,
        .strict = c->strict,
        .force = c->force,
        .on_bad_row = on_bad_row,
        .on_progress = on_progress,
        .on_skip_file = on_skip_file,
        .ctx = &ui,
    };
    rs_import_report r;
    rs_diag d = {{0}};
    rs_err e = rs_import(s, (const char *const *)argv, (size_t)argc, &o, &r, &d);
    cli_progress_done(&ui.progress);
    rs_store_close(s);
    if (ui.bad_shown > SHOW_BAD_ROWS)
        fprintf(stderr, "... and %llu more bad rows\n",
                (unsigned long long)(ui.bad_shown - SHOW_BAD_ROWS));
    if (e) {
        cli_error("import", "%s; nothing was imported", d.msg);
        print_summary(c, &r, "failed");
        return rs_err_exit_code(e);
    }
    print_summary(c, &r, "ok");
    return 0;
}

const cli_cmd cli_cmd_import = {
    .name = "import",
    .summary = "import users, items and events from files into the store",
    .args = "PATH...",
    .description =
        "Imports files into the store, all in one transaction: everything lands or nothing.\n"
        "Formats:\n"
        "  movielens-100k DIR  u.item, u.user and u.data of MovieLens 100K\n"
        "  movielens-csv DIR   movies.csv, tags.csv and ratings.csv of MovieLens (latest)\n"
        "  csv FILE            events; header user_id,item_id[,value[,timestamp[,type]]]\n"
        "                      timestamps are Unix seconds (ms above 1e11) or ISO 8601;\n"
        "                      type defaults to 'rating' when there is a value column,\n"
        "                      else 'view'; value defaults to 1\n"
        "  items-csv FILE      items; header item_id[,title][,category][,brand][,tags]\n"
        "                      [,attrs][,hidden] with tags separated by '|'\n"
        "Malformed rows are reported as FILE:LINE: reason and skipped (or, with --strict,\n"
        "stop the import with nothing written). A file whose content was imported before\n"
        "is skipped unless --force is given. Exit status: 0 done, 1 failure, 2 usage,\n"
        "3 malformed input.",
    .opts = opts,
    .n_opts = RS_ARRAY_LEN(opts),
    .conf_size = sizeof(import_conf),
    .min_args = 1,
    .max_args = -1,
    .run = run,
};
