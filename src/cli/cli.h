/* The command-line tool's shared pieces: the option table every subcommand
 * declares, the parser and help generator driven by it, and small helpers
 * for output. Only src/cli/ parses argv, reads RECSYS_* variables, prints
 * to stdout or exits; the library below it does the work.
 *
 * Every option --some-flag is also read from RECSYS_SOME_FLAG; the command
 * line wins over the environment, which wins over the default. */
#ifndef RS_CLI_CLI_H
#define RS_CLI_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "store/store.h"

typedef enum cli_type {
    CLI_STR,       /* const char *            */
    CLI_INT,       /* int64_t, within [min, max] */
    CLI_F64,       /* double, within [min, max]  */
    CLI_BOOL,      /* bool: --flag, --flag=true|false */
    CLI_ENUM,      /* int: index into choices */
    CLI_DURATION,  /* int64_t milliseconds: 90s, 15m, 6h, 7d */
} cli_type;

typedef struct cli_opt {
    const char *name;               /* "db" for --db */
    cli_type type;
    size_t offset;                  /* of the value in the command's config struct */
    const char *def;                /* default as text; NULL for none */
    bool required;
    const char *metavar;            /* "URL", "N", ... */
    const char *help;
    const char *const *choices;     /* CLI_ENUM: NULL-terminated names */
    double min, max;                /* CLI_INT / CLI_F64 bounds */
} cli_opt;

typedef struct cli_cmd {
    const char *name;
    const char *summary;      /* one line for `recsys --help` */
    const char *args;         /* positional arguments for the usage line, "" for none */
    const char *description;  /* paragraph(s) for `recsys CMD --help` */
    const cli_opt *opts;
    size_t n_opts;
    size_t conf_size;
    int min_args, max_args;   /* positional argument count bounds (-1: no max) */
    /* When set, the model hyperparameter flags (cli_param_opts) are
     * accepted too and parsed into the cli_params at this offset of the
     * config struct. */
    bool has_params;
    size_t params_offset;
    /* Runs with the parsed config and positional arguments; returns the
     * process exit code. */
    int (*run)(const void *conf, int argc, char **argv);
} cli_cmd;

/* Parses argv (after the command name) into conf, applying environment and
 * defaults. Positional arguments are collected into *pos / *n_pos.
 * Returns -1 to go on, or an exit code: 0 after printing --help, 2 after
 * printing a one-line error that names the flag. */
int cli_parse(const cli_cmd *cmd, int argc, char **argv, void *conf, char ***pos, int *n_pos);

/* Prints the command's help to stdout. */
void cli_print_help(const cli_cmd *cmd);

/* Prints "recsys CMD: message" to stderr. */
void cli_error(const char *cmd, const char *fmt, ...) RS_PRINTF(2, 3);

/* Opens the store named by url into *out. On failure prints the reason and
 * returns the exit code (2 for a malformed URL, 1 otherwise); 0 on success. */
int cli_open_store(const char *cmd, const char *url, rs_store **out);

/* Opens the model store named by url, as cli_open_store does the store. */
struct rs_objstore;
int cli_open_objstore(const char *cmd, const char *url, struct rs_objstore **out);

/* "2026-11-23 10:15:00" (UTC) for a time in ms; "-" for 0. */
const char *cli_time(int64_t ms, char *buf, size_t cap);

/* $TMPDIR, or /tmp. */
const char *cli_tmp_dir(void);

/* Loads the data set a command works on: the files at data in the import
 * format `format` (an index into data/import.h's formats, as --format
 * gives it) through a temporary store, or, when data is NULL, everything
 * in the store at db. Prints the reason ("recsys CMD: ...") and returns
 * the exit code on failure, with *out empty; 0 on success. Skipped
 * malformed rows are reported on stderr. */
struct rs_dataset;
struct rs_dataset_opts;
int cli_load_dataset(const char *cmd, const char *data, int format, const char *db,
                     const struct rs_dataset_opts *opts, struct rs_dataset *out);

/* Progress lines on stderr: rewritten in place on a terminal, one line
 * every few seconds otherwise. */
typedef struct cli_progress {
    const char *cmd;
    bool tty;
    double last;       /* rs_mono_s() of the last line */
    bool dirty;        /* a partial line is on the terminal */
} cli_progress;

void cli_progress_init(cli_progress *p, const char *cmd);
/* Prints a progress line now or later (rate-limited); force prints now. */
void cli_progress_say(cli_progress *p, bool force, const char *fmt, ...) RS_PRINTF(3, 4);
/* Ends a terminal progress line so that normal output follows cleanly. */
void cli_progress_done(cli_progress *p);

/* "1,234,567" into buf. */
const char *cli_thousands(uint64_t v, char *buf, size_t cap);

/* Model hyperparameters as flags, shared by train, eval and tune: a
 * command's config struct embeds a cli_params member and its option table
 * includes CLI_PARAM_OPTS(conf_type, member). */
typedef struct cli_params {
    int64_t factors, iterations, cg_steps, neighbours, similar, mf_factors, mf_iterations;
    int64_t mf_burn_in, half_life, threads, hybrid_min_count, min_df, max_terms;
    double reg, reg_count, alpha, mf_reg, mf_lr, bm25_k1, bm25_b, hybrid_reg, hybrid_blend;
    int confidence, solver, knn_weight, mf_solver;
    bool reg_by_count;
} cli_params;

extern const cli_opt cli_param_opts[];
extern const size_t cli_n_param_opts;

/* Converts parsed flags into the library's parameters. */
struct rs_model_params;
void cli_params_apply(const cli_params *c, struct rs_model_params *p);

/* Parses a comma-separated model list ("als,popularity", "all") into
 * RS_MODEL_* flags; prints an error naming the flag and returns 0 when a
 * name is unknown. */
unsigned cli_parse_models(const char *cmd, const char *list);

/* The union of the flags of a comma-separated list, each name mapped by
 * parse (0 for unknown). On an unknown name or an empty list, prints
 * "recsys CMD: --FLAG: unknown FLAG 'x' (FLAGs: KNOWN, or all)" and
 * returns 0. */
unsigned cli_parse_flags(const char *cmd, const char *flag, const char *list,
                         unsigned (*parse)(const char *name), const char *known);

/* What `recsys serve` runs with (its flags; the demo fills it too). */
typedef struct cli_serve_conf {
    const char *db, *models, *listen;
    const char *api_key, *api_key_read;  /* NULL for none */
    unsigned threads;                    /* 0: one per core */
    size_t body_limit;                   /* bytes */
    int64_t timeout_ms, poll_ms;
    size_t foldin_users;
    bool access_log;
    const char *model_name;              /* the registry's name of the model */
    int64_t retrain_every_ms;            /* 0: train only on POST /v1/train */
    unsigned retrain_models;             /* RS_MODEL_* flags each run trains */
    double tolerance;                    /* of the promotion policy */
    size_t keep_versions;
    bool warm_start;                     /* retraining starts from production's factors */
    unsigned roles;                      /* RS_ROLE_* mounted; 0: all */
} cli_serve_conf;

/* The defaults of `recsys serve` for a store and a model store. */
cli_serve_conf cli_serve_defaults(const char *db, const char *models, const char *listen);

/* Serves HTTP until SIGTERM/SIGINT (cmd_serve.c; also the end of the
 * demo). Returns the process exit code. */
int cli_serve(const cli_serve_conf *c);

/* The subcommands. */
extern const cli_cmd cli_cmd_demo, cli_cmd_serve, cli_cmd_import, cli_cmd_generate,
    cli_cmd_train, cli_cmd_eval, cli_cmd_tune, cli_cmd_models, cli_cmd_runs;

#endif
