/* Fuzz target for the request path of `recsys serve` behind the HTTP
 * layer: query-string and body parsing, routing, the API key and every
 * handler, against a real SQLite store and a small trained model. An input
 * is a request in a compact text form:
 *
 *     METHOD /path?query
 *     Authorization: Bearer k        (optional)
 *                                    (a blank line)
 *     body
 *
 * The target decodes the path and query as libmicrohttpd does, calls the
 * router and checks its promises: every answer has a known status; every
 * error is application/problem+json with type, title, status and detail;
 * every JSON answer parses; and a write that is refused leaves the store's
 * counts as they were. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "data/generate.h"
#include "data/import.h"
#include "eval/train.h"
#include "registry/job.h"
#include "server/handlers.h"
#include "server/service.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[512];
static rs_service svc;
static bool ready;

static void cleanup(void)
{
    if (ready)
        rs_service_destroy(&svc);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "fuzz_request: could not remove %s\n", dir);
}

static void die(const char *what, const char *msg)
{
    fprintf(stderr, "fuzz_request: %s: %s\n", what, msg);
    abort();
}

/* A store with a small generated catalogue and a published model. */
static void setup(void)
{
    const char *t = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/rs-fuzz-request-XXXXXX", t && *t ? t : "/tmp");
    if (!mkdtemp(dir))
        abort();
    atexit(cleanup);
    char url[700], path[700], models[700];
    rs_diag d = {{0}};
    rs_gen_opts g = {.users = 40, .items = 30, .events = 800, .seed = 7};
    rs_gen_report gr;
    if (rs_generate(dir, &g, &gr, &d))
        die("generate", d.msg);
    snprintf(url, sizeof url, "sqlite://%s/fuzz.db", dir);
    rs_store *st;
    if (rs_store_open(url, &st, &d))
        die("store", d.msg);
    const rs_import_format formats[] = {RS_IMPORT_ITEMS_CSV, RS_IMPORT_EVENTS_CSV};
    const char *files[] = {"items.csv", "events.csv"};
    for (size_t i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        const char *p = path;
        rs_import_opts io = {.format = formats[i], .strict = true};
        rs_import_report ir;
        if (rs_import(st, &p, 1, &io, &ir, &d))
            die("import", d.msg);
    }
    rs_job_opts jo = {.kind = "train", .name = "default",
                      .policy = rs_registry_policy_default(), .tmp_dir = dir};
    jo.train = (rs_train_opts){.models = RS_MODEL_POPULARITY | RS_MODEL_ALS | RS_MODEL_SIMILAR,
                               .agg = RS_AGG_SUM};
    rs_model_params_default(&jo.train.eval.params);
    snprintf(models, sizeof models, "file://%s/models", dir);
    rs_objstore *objects;
    rs_job_result jr;
    if (rs_objstore_open(models, &objects, &d) || rs_job_train(st, objects, &jo, &jr, &d))
        die("train", d.msg);
    rs_objstore_close(objects);
    rs_store_close(st);
    const rs_service_opts so = {.db_url = url, .models_url = models, .model_name = "default",
                                .tmp_dir = dir, .foldin_capacity = 1000,
                                .store_handles = 1};
    if (rs_service_init(&svc, &so, &d) || rs_service_set_keys(&svc, "k", NULL, &d))
        die("service", d.msg);
    ready = true;
}

static int hex(char c)
{
    return c >= '0' && c <= '9' ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* Percent-decodes s in place ('+' as a space in queries), as
 * libmicrohttpd does before the handler sees it. */
static void decode(char *s, bool query)
{
    char *w = s;
    for (char *r = s; *r; r++) {
        if (*r == '%' && hex(r[1]) >= 0 && hex(r[2]) >= 0) {
            *w++ = (char)(hex(r[1]) * 16 + hex(r[2]));
            r += 2;
        } else {
            *w++ = query && *r == '+' ? ' ' : *r;
        }
    }
    *w = '\0';
}

/* Splits "a=1&b&c=3" (in place) into params. */
static size_t split_query(char *q, rs_http_param *params)
{
    size_t n = 0;
    char *save = NULL;
    for (char *part = strtok_r(q, "&", &save); part && n < RS_HTTP_MAX_PARAMS;
         part = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(part, '=');
        if (eq)
            *eq++ = '\0';
        decode(part, true);
        if (eq)
            decode(eq, true);
        params[n++] = (rs_http_param){part, eq};
    }
    return n;
}

static bool known_status(int s)
{
    static const int ok[] = {200, 201, 400, 401, 404, 405, 413, 501, 503};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (s == ok[i])
            return true;
    return false;
}

/* The answer's promises (see the top of the file). */
static void check_answer(const rs_http_response *r)
{
    if (!known_status(r->status))
        die("status", "an unexpected status");
    const char *body = r->body ? r->body : (const char *)r->fixed;
    if (!body || !r->content_type)
        die("answer", "no body or content type");
    const bool problem = !strcmp(r->content_type, "application/problem+json");
    if ((r->status >= 400) != problem)
        die("answer", "an error without problem+json, or problem+json without an error");
    if (strcmp(r->content_type, "application/json") != 0 && !problem)
        return; /* metrics, docs */
    json_error_t err;
    json_t *o = json_loadb(body, r->len, 0, &err);
    if (!o)
        die("answer", "a JSON answer that does not parse");
    if (problem && (!json_is_string(json_object_get(o, "type")) ||
                    !json_is_string(json_object_get(o, "title")) ||
                    !json_is_string(json_object_get(o, "detail")) ||
                    json_integer_value(json_object_get(o, "status")) != r->status))
        die("answer", "a problem without type, title, detail or the right status");
    json_decref(o);
}

static void counts(rs_store_counts *c)
{
    rs_store *st = rs_store_pool_acquire(&svc.stores);
    rs_err e = rs_store_get_counts(st, c);
    if (e)
        die("counts", rs_store_errmsg(st));
    rs_store_pool_release(&svc.stores, st);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ready)
        setup();
    char *text = rs_xmalloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    /* The request line, the optional header, the body after a blank line. */
    char *body = strstr(text, "\n\n");
    if (body) {
        *body = '\0';
        body += 2;
    }
    char *auth = strchr(text, '\n');
    if (auth) {
        *auth++ = '\0';
        auth = strncmp(auth, "Authorization: ", 15) ? NULL : auth + 15;
    }
    char *target = strchr(text, ' ');
    if (!target) {
        rs_free(text);
        return 0;
    }
    *target++ = '\0';
    char *query = strchr(target, '?');
    if (query)
        *query++ = '\0';
    decode(target, false);
    rs_http_param params[RS_HTTP_MAX_PARAMS];
    rs_http_request req = {
        .method = text,
        .path = target,
        .body = body ? body : "",
        .body_len = body ? size - (size_t)(body - text) : 0,
        .authorization = auth,
        .params = params,
        .n_params = query ? split_query(query, params) : 0,
    };
    rs_store_counts before, after;
    counts(&before);
    rs_http_response resp = {.status = 500};
    rs_service_handle(&svc, &req, &resp);
    check_answer(&resp);
    counts(&after);
    if (resp.status >= 400 && memcmp(&before, &after, sizeof before) != 0)
        die("store", "a refused request changed the store");
    rs_free(resp.body);
    rs_free(text);
    return 0;
}
