/* The helpers the request handlers share (handlers.h): JSON replies and
 * bodies, query parameters, batches, attributes, and store access under
 * the service's store lock with the answer for each store error. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/text.h"
#include "server/handlers.h"
#include "store/store.h"

void rs__reply_json(rs_http_response *resp, int status, json_t *o)
{
    char *text = o ? json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(7)) : NULL;
    json_decref(o);
    if (!text) {
        rs_http_problem(resp, 500, "could not build the response");
        return;
    }
    rs_free(resp->body);
    resp->body = text;
    resp->len = strlen(text);
    resp->status = status;
    resp->content_type = "application/json";
}

static bool known_name(const char *const *allowed, const char *name)
{
    for (const char *const *a = allowed; *a; a++)
        if (!strcmp(*a, name))
            return true;
    return false;
}

bool rs__query_only(const rs_http_request *req, rs_http_response *resp,
                    const char *const *allowed)
{
    const char *bad = NULL;
    for (size_t i = 0; i < req->n_params && !bad; i++)
        if (!known_name(allowed, req->params[i].name))
            bad = req->params[i].name;
    if (!bad)
        return true;
    if (!*allowed) {
        rs_http_problem(resp, 400, "unknown query parameter '%.100s' (this route takes none)",
                        bad);
        return false;
    }
    char list[256] = "";
    size_t n = 0;
    for (const char *const *a = allowed; *a && n < sizeof list; a++)
        n += (size_t)snprintf(list + n, sizeof list - n, "%s%s", n ? ", " : "", *a);
    rs_http_problem(resp, 400, "unknown query parameter '%.100s' (known: %s)", bad, list);
    return false;
}

bool rs__query_int(const rs_http_request *req, rs_http_response *resp, const char *name,
                   int64_t def, int64_t min, int64_t max, int64_t *out)
{
    const char *v = rs_http_query(req, name);
    if (!v) {
        *out = def;
        return true;
    }
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (!*v || *end || errno || x < min || x > max) {
        rs_http_problem(resp, 400, "%s must be a whole number from %lld to %lld, not '%.60s'",
                        name, (long long)min, (long long)max, v);
        return false;
    }
    *out = x;
    return true;
}

bool rs__query_bool(const rs_http_request *req, rs_http_response *resp, const char *name,
                    bool def, bool *out)
{
    const char *v = rs_http_query(req, name);
    if (!v)
        *out = def;
    else if (!strcmp(v, "true") || !strcmp(v, "1"))
        *out = true;
    else if (!strcmp(v, "false") || !strcmp(v, "0"))
        *out = false;
    else {
        rs_http_problem(resp, 400, "%s must be true or false, not '%.60s'", name, v);
        return false;
    }
    return true;
}

bool rs__query_id(const rs_http_request *req, rs_http_response *resp, const char *name,
                  const char **out)
{
    const char *v = rs_http_query(req, name);
    if (!v) {
        rs_http_problem(resp, 400, "%s is required", name);
        return false;
    }
    if (!rs__check_id(resp, name, v, strlen(v)))
        return false;
    *out = v;
    return true;
}

bool rs__query_text(const rs_http_request *req, rs_http_response *resp, const char *name,
                    size_t max, const char **out)
{
    const char *v = rs_http_query(req, name);
    *out = v;
    if (!v)
        return true;
    const size_t len = strlen(v);
    if (len > max) {
        rs_http_problem(resp, 400, "%s is longer than %zu bytes", name, max);
        return false;
    }
    if (!rs_utf8_valid(v, len, NULL)) {
        rs_http_problem(resp, 400, "%s is not valid UTF-8", name);
        return false;
    }
    return true;
}

bool rs__check_id(rs_http_response *resp, const char *what, const char *id, size_t len)
{
    const char *why = NULL;
    if (rs_id_check(id, len, &why) == RS_OK)
        return true;
    rs_http_problem(resp, 400, "%s: %s", what, why);
    return false;
}

json_t *rs__body_json(const rs_http_request *req, rs_http_response *resp)
{
    json_error_t jerr;
    json_t *doc = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
    if (!doc)
        rs_http_problem(resp, 400, "the body is not valid JSON: %s (line %d, column %d)",
                        jerr.text, jerr.line, jerr.column);
    return doc;
}

const char *rs__attrs_text(json_t *v, rs_arena *a, const char **out)
{
    if (!json_is_object(v))
        return "must be an object";
    char *text = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
    if (!text)
        return "cannot be stored";
    const size_t len = strlen(text);
    if (len <= RS_ATTRS_MAX)
        *out = rs_arena_strndup(a, text, len);
    rs_free(text);
    return len <= RS_ATTRS_MAX ? NULL : "is larger than 65536 bytes as JSON";
}

json_t *rs__attrs_json(const char *text)
{
    json_t *o = text ? json_loads(text, 0, NULL) : NULL;
    return o ? o : json_object();
}

bool rs__batch(json_t *doc, const char *key, size_t max, json_t **list, size_t *n,
               rs_http_response *resp)
{
    if (!json_is_object(doc)) {
        rs_http_problem(resp, 400, "the body is one JSON object, or {\"%s\": [...]} for a batch, "
                        "not %s", key, json_is_array(doc) ? "a bare array" : "a JSON scalar");
        return false;
    }
    *list = json_object_get(doc, key);
    *n = 1;
    if (!*list)
        return true;
    if (!json_is_array(*list) || json_object_size(doc) != 1) {
        rs_http_problem(resp, 400, "a batch is {\"%s\": [...]} and nothing else", key);
        return false;
    }
    *n = json_array_size(*list);
    if (*n == 0 || *n > max) {
        rs_http_problem(resp, *n ? 413 : 400, "a batch holds 1 to %zu %s, not %zu", max, key,
                        *n);
        return false;
    }
    return true;
}

json_t *rs__write_body(const rs_http_request *req, rs_http_response *resp, const char *key,
                       size_t max, json_t **list, size_t *n)
{
    if (!rs__query_only(req, resp, (const char *const[]){NULL}))
        return NULL;
    json_t *doc = rs__body_json(req, resp);
    if (doc && !rs__batch(doc, key, max, list, n, resp)) {
        json_decref(doc);
        doc = NULL;
    }
    return doc;
}

void rs__batch_problem(rs_http_response *resp, const char *list, size_t i, const char *why)
{
    if (list)
        rs_http_problem(resp, 400, "%s[%zu].%s; nothing was written", list, i, why);
    else
        rs_http_problem(resp, 400, "%s; nothing was written", why);
}

bool rs__parse_records(json_t *doc, json_t *list, size_t n, const char *key,
                       rs__record_fn parse, void *ctx, rs_http_response *resp)
{
    for (size_t i = 0; i < n; i++) {
        char why[200];
        json_t *o = list ? json_array_get(list, i) : doc;
        if (!json_is_object(o)) {
            rs_http_problem(resp, 400, "%s[%zu] is not an object; nothing was written", key, i);
            return false;
        }
        if (!parse(ctx, o, i, why, sizeof why)) {
            rs__batch_problem(resp, list ? key : NULL, i, why);
            return false;
        }
    }
    return true;
}

void rs__reply_written(rs_http_response *resp, bool batch, size_t created, size_t updated,
                       json_t *one)
{
    if (batch)
        rs__reply_json(resp, 200, json_pack("{s:I,s:I}", "created", (json_int_t)created,
                                            "updated", (json_int_t)updated));
    else
        rs__reply_json(resp, created ? 201 : 200, one);
}

/* Answers a failed store call: 404 for a missing record, 400 for a record
 * the store refused, 503 for a store that does not answer. */
static void store_problem(rs_http_response *resp, rs_err e, const char *msg, bool write)
{
    const char *tail = write ? "; nothing was written" : "";
    if (e == RS_ENOTFOUND)
        rs_http_problem(resp, 404, "%s", msg);
    else if (e == RS_EINVAL)
        rs_http_problem(resp, 400, "%s%s", msg, tail);
    else
        rs_http_problem(resp, 503, "the store failed: %s%s", msg, tail);
}

bool rs__store_write(rs_service *s, rs__store_fn fn, void *ctx, rs_http_response *resp)
{
    char msg[400] = "";
    rs_store *st = rs_store_pool_acquire(&s->stores);
    rs_err e = rs_store_begin(st);
    if (!e && (e = fn(st, ctx)))
        rs_store_rollback(st);
    if (!e)
        e = rs_store_commit(st);
    if (e)
        snprintf(msg, sizeof msg, "%s", rs_store_errmsg(st));
    rs_store_pool_release(&s->stores, st);
    if (e)
        store_problem(resp, e, msg, true);
    return !e;
}

bool rs__store_read(rs_service *s, rs__store_fn fn, void *ctx, rs_http_response *resp)
{
    char msg[400] = "";
    rs_store *st = rs_store_pool_acquire(&s->stores);
    rs_err e = fn(st, ctx);
    if (e)
        snprintf(msg, sizeof msg, "%s", rs_store_errmsg(st));
    rs_store_pool_release(&s->stores, st);
    if (e)
        store_problem(resp, e, msg, false);
    return !e;
}
