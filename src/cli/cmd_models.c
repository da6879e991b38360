/* recsys models: the model registry by hand. `list` shows the versions
 * with their stage and metrics, `promote VERSION` puts one in production,
 * `rollback` returns to the version that was in production before. The
 * servers follow within their --poll interval. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "core/alloc.h"
#include "registry/registry.h"
#include "registry/runs.h"

typedef struct models_conf {
    const char *db, *name;
    bool json;
} models_conf;

static const cli_opt opts[] = {
    {"db", CLI_STR, offsetof(models_conf, db), "sqlite://recsys.db", false, "URL",
     "the store holding the registry", NULL, 0, 0},
    {"model-name", CLI_STR, offsetof(models_conf, name), RS_REGISTRY_DEFAULT_NAME, false,
     "NAME", "the model's name in the registry", NULL, 0, 0},
    {"json", CLI_BOOL, offsetof(models_conf, json), "false", false, NULL,
     "list: one JSON object per version instead of a table", NULL, 0, 0},
};

/* A metric of a version's metrics as text ("-" when absent). */
static const char *metric(json_t *m, const char *key, char *buf, size_t cap)
{
    json_t *v = json_object_get(m, key);
    if (json_is_number(v))
        snprintf(buf, cap, "%.4f", json_number_value(v));
    else
        snprintf(buf, cap, "-");
    return buf;
}

static void print_row(const rs_model_version *v)
{
    char created[32], ndcg[16], recall[16], size[24];
    json_t *m = json_loads(v->metrics, 0, NULL);
    cli_time(v->created_ms, created, sizeof created);
    snprintf(size, sizeof size, "%.1f MB", (double)v->size_bytes / 1e6);
    printf("%7llu  %-10s  %-19s  %-22s  %7s  %7s  %9s  %s\n", (unsigned long long)v->version,
           v->stage, created, v->run_id ? v->run_id : "-", metric(m, "ndcg", ndcg, sizeof ndcg),
           metric(m, "recall", recall, sizeof recall), size, v->note);
    json_decref(m);
}

static int list(rs_store *s, const models_conf *c)
{
    rs_arena a;
    rs_arena_init(&a, 65536);
    rs_model_version *vs;
    size_t n;
    rs_err e = rs_store_list_model_versions(s, c->name, &a, &vs, &n);
    if (e) {
        cli_error("models", "%s", rs_store_errmsg(s));
        rs_arena_destroy(&a);
        return rs_err_exit_code(e);
    }
    if (!c->json)
        printf("%7s  %-10s  %-19s  %-22s  %7s  %7s  %9s  %s\n", "VERSION", "STAGE",
               "CREATED (UTC)", "RUN", "NDCG", "RECALL", "SIZE", "NOTE");
    for (size_t i = 0; i < n; i++) {
        if (!c->json) {
            print_row(&vs[i]);
            continue;
        }
        char *j = rs_model_version_json(&vs[i]);
        printf("%s\n", j);
        rs_free(j);
    }
    if (n == 0 && !c->json)
        fprintf(stderr, "recsys models: no version of %s yet ('recsys train' makes one)\n",
                c->name);
    rs_arena_destroy(&a);
    return 0;
}

static int promote(rs_store *s, const models_conf *c, const char *text)
{
    char *end;
    unsigned long long version = strtoull(text, &end, 10);
    if (*end || version == 0 || text[0] == '-') {
        cli_error("models", "promote: '%s' is not a version number", text);
        return 2;
    }
    uint64_t replaced;
    rs_diag d = {{0}};
    rs_err e = rs_registry_promote(s, c->name, version, &replaced, &d);
    if (e) {
        cli_error("models", "promote: %s", d.msg);
        return rs_err_exit_code(e);
    }
    if (replaced)
        printf("version %llu is in production (replacing version %llu)\n", version,
               (unsigned long long)replaced);
    else
        printf("version %llu is in production\n", version);
    return 0;
}

static int rollback(rs_store *s, const models_conf *c)
{
    uint64_t restored, retired;
    rs_diag d = {{0}};
    rs_err e = rs_registry_rollback(s, c->name, &restored, &retired, &d);
    if (e) {
        cli_error("models", "rollback: %s", d.msg);
        return rs_err_exit_code(e);
    }
    printf("rolled back: version %llu is in production again (version %llu archived)\n",
           (unsigned long long)restored, (unsigned long long)retired);
    return 0;
}

static int run(const void *conf, int argc, char **argv)
{
    const models_conf *c = conf;
    const char *sub = argc > 0 ? argv[0] : "list";
    const int want = !strcmp(sub, "promote") ? 2 : 1;
    if (strcmp(sub, "list") != 0 && strcmp(sub, "promote") != 0 && strcmp(sub, "rollback") != 0) {
        cli_error("models", "unknown subcommand '%s' (list, promote VERSION or rollback)", sub);
        return 2;
    }
    if (argc > want || (want == 2 && argc < 2)) {
        cli_error("models", want == 2 ? "promote needs exactly one VERSION"
                                      : "%s takes no argument", sub);
        return 2;
    }
    rs_store *s;
    int rc = cli_open_store("models", c->db, &s);
    if (rc)
        return rc;
    if (!strcmp(sub, "promote"))
        rc = promote(s, c, argv[1]);
    else if (!strcmp(sub, "rollback"))
        rc = rollback(s, c);
    else
        rc = list(s, c);
    rs_store_close(s);
    return rc;
}

const cli_cmd cli_cmd_models = {
    .name = "models",
    .summary = "list, promote and roll back model versions",
    .args = "list|promote VERSION|rollback",
    .description =
        "The model registry: every training registers a version (its run, artifact,\n"
        "checksum, size and held-out metrics) as a candidate or, when the promotion policy\n"
        "accepts it, in production. Servers load the production version within their\n"
        "--poll interval.\n"
        "  list               the versions, newest first (--json: one object per line)\n"
        "  promote VERSION    put a version in production; the current one is archived\n"
        "  rollback           put back the version that was in production before;\n"
        "                     repeated rollbacks go further back",
    .opts = opts,
    .n_opts = RS_ARRAY_LEN(opts),
    .conf_size = sizeof(models_conf),
    .min_args = 0,
    .max_args = 2,
    .run = run,
};
