/* recsys: the command-line entry point. Finds the subcommand in one table
 * and hands it its arguments; everything else lives in the library. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "core/alloc.h"

static const cli_cmd *const commands[] = {
    &cli_cmd_demo, &cli_cmd_serve, &cli_cmd_import, &cli_cmd_generate, &cli_cmd_train,
    &cli_cmd_eval, &cli_cmd_tune,  &cli_cmd_models, &cli_cmd_runs,
};

static void usage(FILE *out)
{
    fprintf(out, "Usage: recsys COMMAND [options]\n\n"
                 "A recommendation service in one binary: import users, items and events,\n"
                 "train and evaluate models, and serve recommendations over HTTP.\n\n"
                 "Commands:\n");
    for (size_t i = 0; i < RS_ARRAY_LEN(commands); i++)
        fprintf(out, "  %-10s %s\n", commands[i]->name, commands[i]->summary);
    fprintf(out, "\nRun 'recsys COMMAND --help' for a command's options.\n"
                 "'recsys --version' prints the version.\n");
}

static const cli_cmd *find(const char *name)
{
    for (size_t i = 0; i < RS_ARRAY_LEN(commands); i++)
        if (strcmp(commands[i]->name, name) == 0)
            return commands[i];
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(name, "--version") == 0 || strcmp(name, "version") == 0) {
        printf("recsys %s\n", RS_VERSION);
        return 0;
    }
    if (strcmp(name, "help") == 0) {
        const cli_cmd *c = argc > 2 ? find(argv[2]) : NULL;
        if (c)
            cli_print_help(c);
        else
            usage(stdout);
        return 0;
    }
    const cli_cmd *cmd = find(name);
    if (!cmd) {
        cli_error(NULL, "'%s' is not a command (see 'recsys --help')", name);
        return 2;
    }
    void *conf = rs_xcalloc(1, cmd->conf_size ? cmd->conf_size : 1);
    char **pos = NULL;
    int n_pos = 0;
    int rc = cli_parse(cmd, argc - 2, argv + 2, conf, &pos, &n_pos);
    if (rc < 0)
        rc = cmd->run(conf, n_pos, pos);
    rs_free(pos);
    rs_free(conf);
    return rc;
}
