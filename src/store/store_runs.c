/* The backend-independent half of the store's training runs and model
 * versions: validation and canonical JSON of every field, so that a
 * backend stores only records that passed these checks (see store.h). */
#include "store_impl.h"

#include <jansson.h>
#include <string.h>

#include "core/alloc.h"
#include "core/text.h"

#define RUN_ID_MAX 64
#define RUN_JSON_MAX (1 << 20)
#define RUN_TEXT_MAX 8192

static const char *const run_kinds[] = {"train", "retrain", "tune", "trial", NULL};
static const char *const run_statuses[] = {"running", "finished", "failed", NULL};
static const char *const stages[] = {"candidate", "production", "archived", NULL};

static bool one_of(const char *s, const char *const *names)
{
    for (; s && *names; names++)
        if (!strcmp(s, *names))
            return true;
    return false;
}

/* Run ids and model names: 1..64 bytes of [A-Za-z0-9._-]. */
static bool plain_name(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > RUN_ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        const char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

static rs_err check_name(rs_store *s, const char *field, const char *v)
{
    if (!plain_name(v))
        return rs__store_fail(s, RS_EINVAL,
                              "%s: expected 1 to 64 characters of A-Z, a-z, 0-9, '.', '_', '-'",
                              field);
    return RS_OK;
}

static rs_err check_text(rs_store *s, const char *field, const char *v, bool required)
{
    const char *why;
    if (!v)
        return required ? rs__store_fail(s, RS_EINVAL, "%s is missing", field) : RS_OK;
    size_t n = strlen(v);
    if (n > RUN_TEXT_MAX)
        return rs__store_fail(s, RS_EINVAL, "%s: longer than %d bytes", field, RUN_TEXT_MAX);
    if (rs_text_check(v, n, &why) != RS_OK)
        return rs__store_fail(s, RS_EINVAL, "%s: %s", field, why);
    return RS_OK;
}

/* v as compact JSON with sorted keys into *out (freed with rs_free);
 * NULL or "" become "{}". */
static rs_err canonical_object(rs_store *s, const char *field, const char *v, char **out)
{
    *out = NULL;
    if (!v || !*v) {
        *out = rs_xstrdup("{}");
        return RS_OK;
    }
    size_t len = strlen(v);
    if (len > RUN_JSON_MAX)
        return rs__store_fail(s, RS_EINVAL, "%s: longer than %d bytes", field, RUN_JSON_MAX);
    json_error_t jerr;
    json_t *j = json_loadb(v, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!j)
        return rs__store_fail(s, RS_EINVAL, "%s: %s", field, jerr.text);
    if (!json_is_object(j)) {
        json_decref(j);
        return rs__store_fail(s, RS_EINVAL, "%s must be a JSON object", field);
    }
    char *dumped = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
    json_decref(j);
    if (!dumped)
        return rs__store_fail(s, RS_ENOMEM, "%s: out of memory", field);
    *out = dumped;
    return RS_OK;
}

/* --- runs --------------------------------------------------------------- */

static rs_err check_run(rs_store *s, const rs_run *r)
{
    rs_err e;
    if ((e = check_name(s, "run id", r->id)))
        return e;
    if (!one_of(r->kind, run_kinds))
        return rs__store_fail(s, RS_EINVAL, "run kind: expected train, retrain, tune or trial");
    if (!one_of(r->status, run_statuses))
        return rs__store_fail(s, RS_EINVAL, "run status: expected running, finished or failed");
    if (r->parent_id && (e = check_name(s, "parent run id", r->parent_id)))
        return e;
    if (r->started_ms <= 0 || r->ended_ms < 0 || (r->ended_ms && r->ended_ms < r->started_ms))
        return rs__store_fail(s, RS_EINVAL, "run times: ended before it started");
    if ((e = check_text(s, "model", r->model, false)) ||
        (e = check_text(s, "artifact uri", r->artifact_uri, false)) ||
        (e = check_text(s, "note", r->note, false)) ||
        (e = check_text(s, "error", r->error, false)) ||
        (e = check_text(s, "host", r->host, false)))
        return e;
    return RS_OK;
}

static rs_err put_run_fn(rs_store *s, const void *row, size_t n, rs_write_stats *st)
{
    (void)n;
    (void)st;
    return s->ops->put_run(s, row);
}

rs_err rs_store_put_run(rs_store *s, const rs_run *r)
{
    s->errmsg[0] = '\0';
    rs_err e = check_run(s, r);
    if (e)
        return e;
    rs_run row = *r;
    char *json[4] = {NULL, NULL, NULL, NULL};
    if (!(e = canonical_object(s, "params", r->params, &json[0])) &&
        !(e = canonical_object(s, "data", r->data, &json[1])) &&
        !(e = canonical_object(s, "metrics", r->metrics, &json[2])) &&
        !(e = canonical_object(s, "timings", r->timings, &json[3]))) {
        row.params = json[0];
        row.data = json[1];
        row.metrics = json[2];
        row.timings = json[3];
        row.model = r->model ? r->model : "";
        row.host = r->host ? r->host : "";
        e = rs__store_in_write_tx(s, put_run_fn, &row, 1, NULL);
    }
    for (size_t i = 0; i < RS_ARRAY_LEN(json); i++)
        rs_free(json[i]);
    return e;
}

rs_err rs_store_get_run(rs_store *s, const char *id, rs_arena *a, rs_run *out)
{
    s->errmsg[0] = '\0';
    rs_err e = check_name(s, "run id", id);
    return e ? e : s->ops->get_run(s, id, a, out);
}

rs_err rs_store_list_runs(rs_store *s, const rs_run_filter *f, const char *after, size_t limit,
                          rs_arena *a, rs_run **out, size_t *n)
{
    static const rs_run_filter all = {0};
    s->errmsg[0] = '\0';
    *out = NULL;
    *n = 0;
    if (!f)
        f = &all;
    rs_err e;
    if (after && (e = check_name(s, "cursor", after)))
        return e;
    if (f->parent_id && (e = check_name(s, "parent run id", f->parent_id)))
        return e;
    if (f->model && (e = check_name(s, "model", f->model)))
        return e;
    if (f->status && !one_of(f->status, run_statuses))
        return rs__store_fail(s, RS_EINVAL, "status: expected running, finished or failed");
    if (f->kind && !one_of(f->kind, run_kinds))
        return rs__store_fail(s, RS_EINVAL, "kind: expected train, retrain, tune or trial");
    if (limit == 0)
        return RS_OK;
    return s->ops->list_runs(s, f, after, limit, a, out, n);
}

/* --- model versions ------------------------------------------------------ */

/* Refuses to put `version` of name in production while another version is
 * there, before anything is written: inside the caller's transaction the
 * refusal leaves it open and untouched, as every RS_EINVAL does. (Outside
 * one, the database's unique index still catches a race.) */
static rs_err check_one_production(rs_store *s, const char *name, uint64_t version)
{
    rs_arena a;
    rs_arena_init(&a, 2048);
    rs_model_version cur;
    rs_err e = s->ops->get_model_version(s, name, 0, &a, &cur);
    if (e == RS_OK && cur.version != version)
        e = rs__store_fail(s, RS_EINVAL,
                           "version %llu of %s is already in production; archive it first",
                           (unsigned long long)cur.version, name);
    else if (e == RS_ENOTFOUND)
        e = RS_OK;
    if (e == RS_OK)
        s->errmsg[0] = '\0'; /* "no version in production" is no failure here */
    rs_arena_destroy(&a);
    return e;
}

static rs_err add_version_fn(rs_store *s, const void *row, size_t n, rs_write_stats *st)
{
    (void)n;
    (void)st;
    return s->ops->add_model_version(s, (rs_model_version *)row);
}

rs_err rs_store_add_model_version(rs_store *s, rs_model_version *v)
{
    s->errmsg[0] = '\0';
    rs_err e;
    if ((e = check_name(s, "model name", v->name)) ||
        (v->run_id && (e = check_name(s, "run id", v->run_id))) ||
        (e = check_text(s, "uri", v->uri, true)) || (e = check_text(s, "note", v->note, false)))
        return e;
    if (!v->checksum || strlen(v->checksum) != 64 ||
        strspn(v->checksum, "0123456789abcdef") != 64)
        return rs__store_fail(s, RS_EINVAL, "checksum: expected 64 lower-case hex digits");
    if (!one_of(v->stage, stages))
        return rs__store_fail(s, RS_EINVAL, "stage: expected candidate, production or archived");
    if (!strcmp(v->stage, "production") && (e = check_one_production(s, v->name, 0)))
        return e;
    char *metrics;
    if ((e = canonical_object(s, "metrics", v->metrics, &metrics)))
        return e;
    rs_model_version row = *v;
    row.metrics = metrics;
    row.note = v->note ? v->note : "";
    e = rs__store_in_write_tx(s, add_version_fn, &row, 1, NULL);
    rs_free(metrics);
    v->version = row.version;
    return e;
}

typedef struct stage_change {
    const char *name, *stage, *note;
    uint64_t version;
    int64_t promoted_ms;
} stage_change;

static rs_err set_stage_fn(rs_store *s, const void *row, size_t n, rs_write_stats *st)
{
    (void)n;
    (void)st;
    const stage_change *c = row;
    return s->ops->set_model_stage(s, c->name, c->version, c->stage, c->promoted_ms, c->note);
}

rs_err rs_store_set_model_stage(rs_store *s, const char *name, uint64_t version,
                                const char *stage, int64_t promoted_ms, const char *note)
{
    s->errmsg[0] = '\0';
    rs_err e;
    if ((e = check_name(s, "model name", name)) || (e = check_text(s, "note", note, false)))
        return e;
    if (!one_of(stage, stages))
        return rs__store_fail(s, RS_EINVAL, "stage: expected candidate, production or archived");
    if (!strcmp(stage, "production") && (e = check_one_production(s, name, version)))
        return e;
    const stage_change c = {name, stage, note, version, promoted_ms};
    return rs__store_in_write_tx(s, set_stage_fn, &c, 1, NULL);
}

rs_err rs_store_get_model_version(rs_store *s, const char *name, uint64_t version, rs_arena *a,
                                  rs_model_version *out)
{
    s->errmsg[0] = '\0';
    rs_err e = check_name(s, "model name", name);
    return e ? e : s->ops->get_model_version(s, name, version, a, out);
}

rs_err rs_store_list_model_versions(rs_store *s, const char *name, rs_arena *a,
                                    rs_model_version **out, size_t *n)
{
    s->errmsg[0] = '\0';
    *out = NULL;
    *n = 0;
    rs_err e = check_name(s, "model name", name);
    return e ? e : s->ops->list_model_versions(s, name, a, out, n);
}

typedef struct version_ref {
    const char *name;
    uint64_t version;
} version_ref;

static rs_err delete_version_fn(rs_store *s, const void *row, size_t n, rs_write_stats *st)
{
    (void)n;
    (void)st;
    const version_ref *r = row;
    return s->ops->delete_model_version(s, r->name, r->version);
}

rs_err rs_store_delete_model_version(rs_store *s, const char *name, uint64_t version)
{
    s->errmsg[0] = '\0';
    rs_err e = check_name(s, "model name", name);
    const version_ref r = {name, version};
    return e ? e : rs__store_in_write_tx(s, delete_version_fn, &r, 1, NULL);
}
