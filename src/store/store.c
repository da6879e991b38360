/* The backend-independent half of the store: URL dispatch, validation and
 * canonical serialisation of records, transaction bookkeeping, and the
 * argument checks every read shares. Backends (store_sqlite.c, ...) see
 * only rows that already passed these checks. */
#include "store_impl.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/text.h"
#include "core/timeutil.h"

rs_err rs__store_fail(rs_store *s, rs_err e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->errmsg, sizeof s->errmsg, fmt, ap);
    va_end(ap);
    return e;
}

/* --- opening --------------------------------------------------------- */

typedef struct scheme {
    const char *prefix;
    const rs_store_ops *ops;
} scheme;

static const scheme schemes[] = {
    {"sqlite://", &rs__store_sqlite_ops},
    {"postgresql://", &rs__store_pg_ops},
    {"postgres://", &rs__store_pg_ops},
};

rs_err rs_store_open(const char *url, rs_store **out, rs_diag *diag)
{
    *out = NULL;
    if (!url || !*url)
        return rs_diag_fail(diag, RS_EINVAL,
                            "empty store URL (expected sqlite://PATH or postgresql://...)");
    for (size_t i = 0; i < RS_ARRAY_LEN(schemes); i++) {
        size_t n = strlen(schemes[i].prefix);
        if (strncmp(url, schemes[i].prefix, n) != 0)
            continue;
        if (url[n] == '\0')
            return rs_diag_fail(diag, RS_EINVAL, "store URL '%s' names no database", url);
        return schemes[i].ops->open(url + n, out, diag);
    }
    if (!strstr(url, "://"))
        return rs_diag_fail(diag, RS_EINVAL,
                            "'%s' is not a store URL; did you mean sqlite://%s ?", url, url);
    return rs_diag_fail(diag, RS_EINVAL,
                        "unknown store URL scheme in '%s' (expected sqlite:// or postgresql://)",
                        url);
}

void rs_store_close(rs_store *s)
{
    if (!s)
        return;
    if (s->tx != RS__TX_NONE)
        s->ops->rollback(s);
    s->ops->close(s);
}

const char *rs_store_errmsg(const rs_store *s)
{
    return s->errmsg;
}

const char *rs_store_backend(const rs_store *s)
{
    return s->ops->name;
}

int rs_store_schema_version(const rs_store *s)
{
    return s->schema_version;
}

/* --- transactions ------------------------------------------------------ */

static rs_err begin(rs_store *s, rs__tx kind)
{
    if (s->tx != RS__TX_NONE)
        return rs__store_fail(s, RS_EINVAL, "a transaction is already open");
    s->errmsg[0] = '\0';
    rs_err e = s->ops->begin(s, kind);
    if (e == RS_OK)
        s->tx = kind;
    return e;
}

rs_err rs_store_begin(rs_store *s)
{
    return begin(s, RS__TX_WRITE);
}

rs_err rs_store_begin_read(rs_store *s)
{
    return begin(s, RS__TX_READ);
}

rs_err rs_store_commit(rs_store *s)
{
    if (s->tx == RS__TX_NONE)
        return rs__store_fail(s, RS_EINVAL, "no transaction is open");
    rs_err e = s->ops->commit(s);
    if (e != RS_OK)
        s->ops->rollback(s);
    s->tx = RS__TX_NONE;
    return e;
}

void rs_store_rollback(rs_store *s)
{
    if (s->tx == RS__TX_NONE)
        return;
    s->ops->rollback(s);
    s->tx = RS__TX_NONE;
}

/* Runs a write inside the caller's transaction, or inside its own one when
 * none is open. A failed write inside the caller's transaction rolls it
 * back too: a half-applied batch must never be committed later. */
rs_err rs__store_in_write_tx(rs_store *s, rs__write_fn fn, const void *rows, size_t n,
                       rs_write_stats *st)
{
    if (s->tx == RS__TX_READ)
        return rs__store_fail(s, RS_EINVAL, "cannot write inside a read transaction");
    int own = s->tx == RS__TX_NONE;
    rs_write_stats local = {0};
    rs_err e = own ? begin(s, RS__TX_WRITE) : RS_OK;
    if (e)
        return e;
    e = fn(s, rows, n, &local);
    if (e) {
        char keep[sizeof s->errmsg];
        memcpy(keep, s->errmsg, sizeof keep);
        rs_store_rollback(s);
        memcpy(s->errmsg, keep, sizeof keep);
        return e;
    }
    if (own && (e = rs_store_commit(s)) != RS_OK)
        return e;
    if (st) {
        st->users_created += local.users_created;
        st->items_created += local.items_created;
        st->items_updated += local.items_updated;
        st->events_added += local.events_added;
    }
    return RS_OK;
}

/* --- validation --------------------------------------------------------- */

static rs_err check_id(rs_store *s, const char *what, size_t i, const char *field, const char *id)
{
    const char *why;
    if (!id)
        return rs__store_fail(s, RS_EINVAL, "%s[%zu]: %s is missing", what, i, field);
    if (rs_id_check(id, strlen(id), &why) != RS_OK)
        return rs__store_fail(s, RS_EINVAL, "%s[%zu]: %s: %s", what, i, field, why);
    return RS_OK;
}

static rs_err check_text(rs_store *s, const char *what, size_t i, const char *field,
                         const char *text)
{
    const char *why;
    if (text && rs_text_check(text, strlen(text), &why) != RS_OK)
        return rs__store_fail(s, RS_EINVAL, "%s[%zu]: %s: %s", what, i, field, why);
    return RS_OK;
}

/* Parses attrs as a JSON object and returns it re-serialised compactly with
 * sorted keys; the caller frees *out with rs_free. */
static rs_err canonical_attrs(rs_store *s, const char *what, size_t i, const char *attrs,
                              char **out)
{
    *out = NULL;
    if (!attrs || !*attrs)
        return RS_OK;
    size_t len = strlen(attrs);
    if (len > RS_ATTRS_MAX)
        return rs__store_fail(s, RS_EINVAL, "%s[%zu]: attrs longer than %d bytes", what, i,
                              RS_ATTRS_MAX);
    json_error_t jerr;
    json_t *j = json_loadb(attrs, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!j)
        return rs__store_fail(s, RS_EINVAL, "%s[%zu]: attrs: %s", what, i, jerr.text);
    if (!json_is_object(j)) {
        json_decref(j);
        return rs__store_fail(s, RS_EINVAL, "%s[%zu]: attrs must be a JSON object", what, i);
    }
    *out = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
    json_decref(j);
    return RS_OK;
}

static rs_err canonical_tags(rs_store *s, size_t i, const rs_item *it, char **out)
{
    const char *why;
    *out = NULL;
    if (it->n_tags > RS_MAX_TAGS)
        return rs__store_fail(s, RS_EINVAL, "items[%zu]: more than %d tags", i, RS_MAX_TAGS);
    json_t *arr = json_array();
    for (size_t t = 0; t < it->n_tags; t++) {
        const char *tag = it->tags[t];
        size_t len = tag ? strlen(tag) : 0;
        if (len == 0 || len > RS_TAG_MAX || rs_text_check(tag, len, &why) != RS_OK) {
            json_decref(arr);
            return rs__store_fail(s, RS_EINVAL, "items[%zu]: tags[%zu]: %s", i, t,
                                  len == 0 ? "empty tag" : len > RS_TAG_MAX ? "tag longer than 128 bytes" : why);
        }
        json_array_append_new(arr, json_string(tag));
    }
    *out = json_dumps(arr, JSON_COMPACT | JSON_ENSURE_ASCII);
    json_decref(arr);
    return RS_OK;
}

/* --- writes --------------------------------------------------------------- */

static rs_err put_users_fn(rs_store *s, const void *rows, size_t n, rs_write_stats *st)
{
    return s->ops->put_users(s, rows, n, st);
}

rs_err rs_store_put_users(rs_store *s, const rs_user *users, size_t n, rs_write_stats *stats)
{
    s->errmsg[0] = '\0';
    rs__user_row *rows = rs_xcalloc(n ? n : 1, sizeof *rows);
    rs_err e = RS_OK;
    size_t done = 0;
    for (; done < n && e == RS_OK; done++) {
        e = check_id(s, "users", done, "id", users[done].id);
        if (e == RS_OK)
            e = canonical_attrs(s, "users", done, users[done].attrs, &rows[done].attrs_json);
        rows[done].id = users[done].id;
    }
    if (e == RS_OK)
        e = rs__store_in_write_tx(s, put_users_fn, rows, n, stats);
    for (size_t i = 0; i < done; i++)
        rs_free(rows[i].attrs_json);
    rs_free(rows);
    return e;
}

static rs_err put_items_fn(rs_store *s, const void *rows, size_t n, rs_write_stats *st)
{
    return s->ops->put_items(s, rows, n, st);
}

static rs_err item_row(rs_store *s, size_t i, const rs_item *it, rs__item_row *row)
{
    rs_err e;
    if ((e = check_id(s, "items", i, "id", it->id)) ||
        (e = check_text(s, "items", i, "title", it->title)) ||
        (e = check_text(s, "items", i, "category", it->category)) ||
        (e = check_text(s, "items", i, "brand", it->brand)) ||
        (e = canonical_tags(s, i, it, &row->tags_json)) ||
        (e = canonical_attrs(s, "items", i, it->attrs, &row->attrs_json)))
        return e;
    row->id = it->id;
    row->title = it->title ? it->title : "";
    row->category = it->category ? it->category : "";
    row->brand = it->brand ? it->brand : "";
    row->hidden = it->hidden;
    return RS_OK;
}

rs_err rs_store_put_items(rs_store *s, const rs_item *items, size_t n, rs_write_stats *stats)
{
    s->errmsg[0] = '\0';
    rs__item_row *rows = rs_xcalloc(n ? n : 1, sizeof *rows);
    rs_err e = RS_OK;
    size_t done = 0;
    for (; done < n && e == RS_OK; done++)
        e = item_row(s, done, &items[done], &rows[done]);
    if (e == RS_OK)
        e = rs__store_in_write_tx(s, put_items_fn, rows, n, stats);
    for (size_t i = 0; i < done; i++) {
        rs_free(rows[i].tags_json);
        rs_free(rows[i].attrs_json);
    }
    rs_free(rows);
    return e;
}

static rs_err add_events_fn(rs_store *s, const void *rows, size_t n, rs_write_stats *st)
{
    return s->ops->add_events(s, rows, n, st);
}

rs_err rs_store_add_events(rs_store *s, const rs_event *events, size_t n, rs_write_stats *stats)
{
    const char *why;
    rs_err e;
    s->errmsg[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        const rs_event *ev = &events[i];
        if ((e = check_id(s, "events", i, "user_id", ev->user_id)) ||
            (e = check_id(s, "events", i, "item_id", ev->item_id)))
            return e;
        if (!ev->type)
            return rs__store_fail(s, RS_EINVAL, "events[%zu]: type is missing", i);
        if (rs_type_check(ev->type, strlen(ev->type), &why) != RS_OK)
            return rs__store_fail(s, RS_EINVAL, "events[%zu]: type: %s", i, why);
        if (!isfinite(ev->value))
            return rs__store_fail(s, RS_EINVAL, "events[%zu]: value is not a finite number", i);
        if (ev->ts_ms < RS_TS_MIN_MS || ev->ts_ms > RS_TS_MAX_MS)
            return rs__store_fail(s, RS_EINVAL,
                                  "events[%zu]: timestamp out of range (1970 to 9999)", i);
    }
    if (n == 0)
        return RS_OK;
    return rs__store_in_write_tx(s, add_events_fn, events, n, stats);
}

static rs_err record_import_fn(rs_store *s, const void *rec, size_t n, rs_write_stats *st)
{
    (void)n;
    (void)st;
    return s->ops->record_import(s, rec);
}

rs_err rs_store_record_import(rs_store *s, const rs_import_rec *rec)
{
    s->errmsg[0] = '\0';
    if (!rec->sha256 || strlen(rec->sha256) != 64 || !rec->path || !rec->format)
        return rs__store_fail(s, RS_EINVAL, "import record needs a 64-digit sha256, path and format");
    return rs__store_in_write_tx(s, record_import_fn, rec, 1, NULL);
}

/* --- reads ------------------------------------------------------------------ */

static rs_err check_lookup_id(rs_store *s, const char *what, const char *id)
{
    const char *why;
    if (!id || rs_id_check(id, strlen(id), &why) != RS_OK)
        return rs__store_fail(s, RS_EINVAL, "%s: %s", what, id ? why : "missing");
    return RS_OK;
}

rs_err rs_store_get_user(rs_store *s, const char *id, rs_arena *a, rs_user *out)
{
    s->errmsg[0] = '\0';
    rs_err e = check_lookup_id(s, "user id", id);
    return e ? e : s->ops->get_user(s, id, a, out);
}

rs_err rs_store_find_users(rs_store *s, const char *prefix, const char *after, size_t limit,
                           rs_arena *a, rs_user **out, size_t *n)
{
    const char *why;
    s->errmsg[0] = '\0';
    *out = NULL;
    *n = 0;
    if (!prefix)
        prefix = "";
    if (strlen(prefix) > RS_ID_MAX || !rs_utf8_valid(prefix, strlen(prefix), NULL))
        return rs__store_fail(s, RS_EINVAL, "prefix: not valid UTF-8 of at most 256 bytes");
    if (after && rs_id_check(after, strlen(after), &why) != RS_OK)
        return rs__store_fail(s, RS_EINVAL, "cursor: %s", why);
    if (limit == 0)
        return RS_OK;
    return s->ops->find_users(s, prefix, after, limit, a, out, n);
}

rs_err rs_store_get_item(rs_store *s, const char *id, rs_arena *a, rs_item *out)
{
    s->errmsg[0] = '\0';
    rs_err e = check_lookup_id(s, "item id", id);
    return e ? e : s->ops->get_item(s, id, a, out);
}

rs_err rs_store_list_items(rs_store *s, const char *category, const char *after, size_t limit,
                           rs_arena *a, rs_item **out, size_t *n)
{
    const char *why;
    s->errmsg[0] = '\0';
    *out = NULL;
    *n = 0;
    if (category && rs_text_check(category, strlen(category), &why) != RS_OK)
        return rs__store_fail(s, RS_EINVAL, "category: %s", why);
    if (after && rs_id_check(after, strlen(after), &why) != RS_OK)
        return rs__store_fail(s, RS_EINVAL, "cursor: %s", why);
    if (limit == 0)
        return RS_OK;
    return s->ops->list_items(s, category, after, limit, a, out, n);
}

rs_err rs_store_list_categories(rs_store *s, const char *after, size_t limit, rs_arena *a,
                                rs_category **out, size_t *n)
{
    const char *why;
    s->errmsg[0] = '\0';
    *out = NULL;
    *n = 0;
    if (after && rs_text_check(after, strlen(after), &why) != RS_OK)
        return rs__store_fail(s, RS_EINVAL, "cursor: %s", why);
    if (limit == 0)
        return RS_OK;
    return s->ops->list_categories(s, after, limit, a, out, n);
}

rs_err rs_store_user_events(rs_store *s, const char *user_id, size_t limit, rs_arena *a,
                            rs_event **out, size_t *n)
{
    s->errmsg[0] = '\0';
    *out = NULL;
    *n = 0;
    rs_err e = check_lookup_id(s, "user id", user_id);
    if (e || limit == 0)
        return e;
    return s->ops->user_events(s, user_id, limit, a, out, n);
}

rs_err rs_store_get_counts(rs_store *s, rs_store_counts *out)
{
    s->errmsg[0] = '\0';
    memset(out, 0, sizeof *out);
    return s->ops->get_counts(s, out);
}

rs_err rs_store_scan_users(rs_store *s, rs_user_scan_fn fn, void *ctx)
{
    s->errmsg[0] = '\0';
    return s->ops->scan_users(s, fn, ctx);
}

rs_err rs_store_scan_items(rs_store *s, rs_item_scan_fn fn, void *ctx)
{
    s->errmsg[0] = '\0';
    return s->ops->scan_items(s, fn, ctx);
}

rs_err rs_store_scan_events(rs_store *s, rs_event_scan_fn fn, void *ctx)
{
    s->errmsg[0] = '\0';
    return s->ops->scan_events(s, fn, ctx);
}

rs_err rs_store_event_types(rs_store *s, rs_arena *a, const char ***names, size_t *n)
{
    s->errmsg[0] = '\0';
    return s->ops->event_types(s, a, names, n);
}

rs_err rs_store_find_import(rs_store *s, const char *sha256, rs_arena *a, rs_import_rec *out)
{
    s->errmsg[0] = '\0';
    if (!sha256 || strlen(sha256) != 64)
        return rs__store_fail(s, RS_EINVAL, "sha256 must be 64 hex digits");
    return s->ops->find_import(s, sha256, a, out);
}

/* --- helpers for backends --------------------------------------------------- */

void rs__store_tags_parse(const char *json, rs_arena *a, const char *const **tags, size_t *n)
{
    *tags = NULL;
    *n = 0;
    json_t *arr = json ? json_loads(json, 0, NULL) : NULL;
    if (!json_is_array(arr)) {
        json_decref(arr);
        return;
    }
    size_t len = json_array_size(arr);
    const char **out = rs_arena_alloc(a, (len ? len : 1) * sizeof *out);
    size_t k = 0;
    for (size_t i = 0; i < len; i++) {
        const char *t = json_string_value(json_array_get(arr, i));
        if (t)
            out[k++] = rs_arena_strdup(a, t);
    }
    json_decref(arr);
    *tags = out;
    *n = k;
}
