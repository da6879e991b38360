/* The table-driven option parser and help generator of cli.h. */
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/timeutil.h"

/* --log-level and --help are accepted by every command. */
static const char *const log_levels[] = {"debug", "info", "warn", "error", "off", NULL};

typedef struct common_conf {
    int log_level;
    bool help;
} common_conf;

static const cli_opt common_opts[] = {
    {"log-level", CLI_ENUM, offsetof(common_conf, log_level), "info", false, "LEVEL",
     "how much to log on stderr", log_levels, 0, 0},
    {"help", CLI_BOOL, offsetof(common_conf, help), "false", false, NULL,
     "show this help and exit", NULL, 0, 0},
};

void cli_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "recsys%s%s: ", cmd ? " " : "", cmd ? cmd : "");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* RECSYS_ + the flag name upper-cased with '-' as '_'. */
static void env_name(const char *flag, char *buf, size_t cap)
{
    size_t n = (size_t)snprintf(buf, cap, "RECSYS_");
    for (const char *p = flag; *p && n + 1 < cap; p++)
        buf[n++] = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
    buf[n] = '\0';
}

static int parse_bool(const char *v)
{
    static const char *const yes[] = {"1", "true", "yes", "on"}, *const no[] = {"0", "false", "no", "off"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(v, yes[i]) == 0)
            return 1;
        if (strcasecmp(v, no[i]) == 0)
            return 0;
    }
    return -1;
}

/* Stores the text value v of option o into conf. On a bad value prints a
 * one-line error naming `source` (the flag or variable) and returns 2. */
static int set_value(const char *cmd, const cli_opt *o, const char *source, const char *v,
                     void *conf)
{
    char *p = (char *)conf + o->offset;
    char *end;
    switch (o->type) {
    case CLI_STR:
        *(const char **)p = v;
        return 0;
    case CLI_INT: {
        errno = 0;
        long long x = strtoll(v, &end, 10);
        if (!*v || *end || errno) {
            cli_error(cmd, "%s: '%s' is not a whole number", source, v);
            return 2;
        }
        if ((double)x < o->min || (double)x > o->max) {
            cli_error(cmd, "%s: %lld is out of range (%.0f to %.0f)", source, x, o->min, o->max);
            return 2;
        }
        *(int64_t *)p = x;
        return 0;
    }
    case CLI_F64: {
        errno = 0;
        double x = strtod(v, &end);
        if (!*v || *end || errno || !isfinite(x)) {
            cli_error(cmd, "%s: '%s' is not a number", source, v);
            return 2;
        }
        if (x < o->min || x > o->max) {
            cli_error(cmd, "%s: %g is out of range (%g to %g)", source, x, o->min, o->max);
            return 2;
        }
        *(double *)p = x;
        return 0;
    }
    case CLI_BOOL: {
        int b = parse_bool(v);
        if (b < 0) {
            cli_error(cmd, "%s: '%s' is not true or false", source, v);
            return 2;
        }
        *(bool *)p = b;
        return 0;
    }
    case CLI_ENUM:
        for (int i = 0; o->choices[i]; i++)
            if (strcmp(v, o->choices[i]) == 0) {
                *(int *)p = i;
                return 0;
            }
        {
            char list[512] = "";
            for (int i = 0; o->choices[i]; i++)
                snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "",
                         o->choices[i]);
            cli_error(cmd, "%s: '%s' is not one of: %s", source, v, list);
        }
        return 2;
    case CLI_DURATION: {
        int64_t ms;
        if (rs_duration_parse(v, &ms) != RS_OK) {
            cli_error(cmd, "%s: '%s' is not a duration (like 90s, 15m, 6h, 7d)", source, v);
            return 2;
        }
        *(int64_t *)p = ms;
        return 0;
    }
    }
    return 2;
}

/* Finds --name in the command's table or the common one; *conf_out gets
 * which config the option writes to. */
static const cli_opt *find_opt(const cli_cmd *cmd, const char *name, size_t len, void *conf,
                               common_conf *common, void **conf_out)
{
    for (size_t i = 0; i < cmd->n_opts; i++)
        if (strlen(cmd->opts[i].name) == len && strncmp(cmd->opts[i].name, name, len) == 0) {
            *conf_out = conf;
            return &cmd->opts[i];
        }
    for (size_t i = 0; cmd->has_params && i < cli_n_param_opts; i++)
        if (strlen(cli_param_opts[i].name) == len &&
            strncmp(cli_param_opts[i].name, name, len) == 0) {
            *conf_out = (char *)conf + cmd->params_offset;
            return &cli_param_opts[i];
        }
    for (size_t i = 0; i < RS_ARRAY_LEN(common_opts); i++)
        if (strlen(common_opts[i].name) == len && strncmp(common_opts[i].name, name, len) == 0) {
            *conf_out = common;
            return &common_opts[i];
        }
    return NULL;
}

/* Applies defaults, then the environment, for one table. */
static int apply_defaults(const char *cmd, const cli_opt *opts, size_t n, void *conf, bool *seen)
{
    char var[128];
    for (size_t i = 0; i < n; i++) {
        const cli_opt *o = &opts[i];
        if (o->def && set_value(cmd, o, o->name, o->def, conf) != 0)
            return 2; /* a bad default is a bug, but never silent */
        env_name(o->name, var, sizeof var);
        const char *v = getenv(var);
        if (v && strcmp(o->name, "help") != 0) {
            int rc = set_value(cmd, o, var, v, conf);
            if (rc)
                return rc;
            if (seen)
                seen[i] = true;
        }
    }
    return 0;
}

int cli_parse(const cli_cmd *cmd, int argc, char **argv, void *conf, char ***pos, int *n_pos)
{
    common_conf common = {0};
    bool *seen = rs_xcalloc(cmd->n_opts + 1, sizeof *seen);
    char **args = rs_xcalloc((size_t)argc + 1, sizeof *args);
    int rc = -1, n_args = 0;
    if (apply_defaults(cmd->name, cmd->opts, cmd->n_opts, conf, seen) ||
        (cmd->has_params && apply_defaults(cmd->name, cli_param_opts, cli_n_param_opts,
                                           (char *)conf + cmd->params_offset, NULL)) ||
        apply_defaults(cmd->name, common_opts, RS_ARRAY_LEN(common_opts), &common, NULL)) {
        rc = 2;
        goto out;
    }
    bool only_args = false;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (only_args || a[0] != '-' || strcmp(a, "-") == 0) {
            args[n_args++] = argv[i];
            continue;
        }
        if (strcmp(a, "--") == 0) {
            only_args = true;
            continue;
        }
        if (strcmp(a, "-h") == 0) {
            common.help = true;
            continue;
        }
        if (a[1] != '-') {
            cli_error(cmd->name, "%s: unknown option (options are spelled --name; see 'recsys %s --help')",
                      a, cmd->name);
            rc = 2;
            goto out;
        }
        const char *name = a + 2, *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        void *target;
        const cli_opt *o = find_opt(cmd, name, len, conf, &common, &target);
        if (!o) {
            cli_error(cmd->name, "--%.*s: unknown option (see 'recsys %s --help')", (int)len, name,
                      cmd->name);
            rc = 2;
            goto out;
        }
        const char *v;
        if (eq) {
            v = eq + 1;
        } else if (o->type == CLI_BOOL) {
            v = "true";
        } else if (i + 1 < argc) {
            v = argv[++i];
        } else {
            cli_error(cmd->name, "--%s: needs a value (%s)", o->name, o->metavar ? o->metavar : "VALUE");
            rc = 2;
            goto out;
        }
        char flag[80];
        snprintf(flag, sizeof flag, "--%s", o->name);
        if ((rc = set_value(cmd->name, o, flag, v, target)) != 0)
            goto out;
        rc = -1;
        if (target == conf)
            seen[o - cmd->opts] = true;
    }
    rs_log_level lvl = (rs_log_level)common.log_level;
    rs_log_set_level(lvl);
    if (common.help) {
        cli_print_help(cmd);
        rc = 0;
        goto out;
    }
    for (size_t i = 0; i < cmd->n_opts; i++)
        if (cmd->opts[i].required && !seen[i]) {
            char var[128];
            env_name(cmd->opts[i].name, var, sizeof var);
            cli_error(cmd->name, "--%s is required (or set %s; see 'recsys %s --help')",
                      cmd->opts[i].name, var, cmd->name);
            rc = 2;
            goto out;
        }
    if (n_args < cmd->min_args || (cmd->max_args >= 0 && n_args > cmd->max_args)) {
        if (n_args < cmd->min_args)
            cli_error(cmd->name, "missing %s (see 'recsys %s --help')", cmd->args, cmd->name);
        else
            cli_error(cmd->name, "unexpected argument '%s' (see 'recsys %s --help')",
                      args[cmd->max_args], cmd->name);
        rc = 2;
        goto out;
    }
    *pos = args;
    *n_pos = n_args;
    args = NULL;
out:
    rs_free(seen);
    rs_free(args);
    return rc;
}

static void print_opt(const cli_opt *o)
{
    char left[64], var[128];
    snprintf(left, sizeof left, "--%s%s%s", o->name, o->metavar ? " " : "",
             o->metavar ? o->metavar : "");
    env_name(o->name, var, sizeof var);
    printf("  %-26s %s", left, o->help);
    if (o->type == CLI_ENUM) {
        printf(": ");
        for (int i = 0; o->choices[i]; i++)
            printf("%s%s", i ? ", " : "", o->choices[i]);
    }
    if (o->required)
        printf(" (required)");
    else if (o->def && o->type != CLI_BOOL)
        printf(" (default: %s)", o->def);
    if (strcmp(o->name, "help") != 0)
        printf(" [%s]", var);
    printf("\n");
}

void cli_print_help(const cli_cmd *cmd)
{
    printf("Usage: recsys %s [options]%s%s\n\n%s\n\nOptions:\n", cmd->name, *cmd->args ? " " : "",
           cmd->args, cmd->description);
    for (size_t i = 0; i < cmd->n_opts; i++)
        print_opt(&cmd->opts[i]);
    for (size_t i = 0; i < RS_ARRAY_LEN(common_opts); i++)
        print_opt(&common_opts[i]);
    if (cmd->has_params) {
        printf("\nModel parameters:\n");
        for (size_t i = 0; i < cli_n_param_opts; i++)
            print_opt(&cli_param_opts[i]);
    }
    printf("\nEvery option can also be set by the environment variable shown in brackets.\n");
}
