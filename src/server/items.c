/* The item endpoints: POST /v1/items (one item or {"items": [...]},
 * created or replaced whole), GET /v1/items (by category, paged),
 * GET /v1/items/{id} and PATCH /v1/items/{id} (the fields given). Writes
 * are validated as a whole and committed in one transaction before the
 * answer; hiding an item takes it out of recommendations at once.
 * GET /v1/items?ids=a,b,c lists the items asked for (several lookups in
 * one request). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/text.h"
#include "core/timeutil.h"
#include "server/handlers.h"

#define MAX_BATCH 10000
#define MAX_LIMIT 1000
#define MAX_IDS 100

static json_t *item_json(const rs_item *it)
{
    char created[40], updated[40];
    rs_time_format(it->created_ms, created, sizeof created);
    rs_time_format(it->updated_ms, updated, sizeof updated);
    json_t *tags = json_array();
    for (size_t i = 0; i < it->n_tags; i++)
        json_array_append_new(tags, json_string(it->tags[i]));
    return json_pack("{s:s,s:s,s:s,s:s,s:o,s:o,s:b,s:s,s:s}", "item_id", it->id, "title",
                     it->title ? it->title : "", "category", it->category ? it->category : "",
                     "brand", it->brand ? it->brand : "", "tags", tags, "attributes",
                     rs__attrs_json(it->attrs), "hidden", it->hidden, "created_at", created,
                     "updated_at", updated);
}

/* The tags of v (an array of strings) in arena a, or the reason not. */
static const char *parse_tags(json_t *v, rs_arena *a, rs_item *it)
{
    if (!json_is_array(v))
        return "must be an array of strings";
    if (json_array_size(v) > RS_MAX_TAGS)
        return "holds more than 64 tags";
    const char **tags = rs_arena_alloc(a, (json_array_size(v) + 1) * sizeof *tags);
    size_t i;
    json_t *t;
    json_array_foreach(v, i, t) {
        if (!json_is_string(t))
            return "must be an array of strings";
        tags[i] = json_string_value(t);
    }
    it->tags = tags;
    it->n_tags = json_array_size(v);
    return NULL;
}

/* Field bits: which fields a body gave. */
enum { F_ID = 1, F_TITLE = 2, F_CATEGORY = 4, F_BRAND = 8, F_TAGS = 16, F_ATTRS = 32,
       F_HIDDEN = 64 };

/* Fills the fields of it that the JSON object o gives (strings stay owned
 * by o; tags and attributes in arena a) and sets *given to their bits; on
 * a bad field writes "field: reason" into why. */
static bool parse_item(json_t *o, rs_arena *a, rs_item *it, unsigned *given, char *why,
                       size_t cap)
{
    *given = 0;
    if (!json_is_object(o)) {
        snprintf(why, cap, "is not an object");
        return false;
    }
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v) {
        const char *reason = NULL;
        const char **text = !strcmp(key, "title")      ? &it->title
                            : !strcmp(key, "category") ? &it->category
                            : !strcmp(key, "brand")    ? &it->brand
                                                       : NULL;
        if (!strcmp(key, "item_id")) {
            if (!json_is_string(v))
                reason = "must be a string";
            else if (rs_id_check(json_string_value(v), json_string_length(v), &reason) == RS_OK)
                it->id = json_string_value(v);
            *given |= F_ID;
        } else if (text) {
            if (!json_is_string(v))
                reason = "must be a string";
            *text = json_string_value(v);
            *given |= text == &it->title ? F_TITLE : text == &it->category ? F_CATEGORY : F_BRAND;
        } else if (!strcmp(key, "tags")) {
            reason = parse_tags(v, a, it);
            *given |= F_TAGS;
        } else if (!strcmp(key, "attributes")) {
            reason = rs__attrs_text(v, a, &it->attrs);
            *given |= F_ATTRS;
        } else if (!strcmp(key, "hidden")) {
            if (!json_is_boolean(v))
                reason = "must be true or false";
            it->hidden = json_is_true(v);
            *given |= F_HIDDEN;
        } else {
            reason = "is not a field of an item (item_id, title, category, brand, tags, "
                     "attributes, hidden)";
        }
        if (reason) {
            snprintf(why, cap, "%.40s: %s", key, reason);
            return false;
        }
    }
    return true;
}

typedef struct put_items {
    rs_item *items;
    size_t n;
    unsigned patch;   /* PATCH: the fields given (items[0] holds them) */
    rs_write_stats stats;
    rs_arena arena;
    rs_item back;     /* the stored item, for a single write */
} put_items;

/* Copies the fields given of from into to. */
static void apply_patch(rs_item *to, const rs_item *from, unsigned given)
{
    if (given & F_TITLE)
        to->title = from->title;
    if (given & F_CATEGORY)
        to->category = from->category;
    if (given & F_BRAND)
        to->brand = from->brand;
    if (given & F_TAGS) {
        to->tags = from->tags;
        to->n_tags = from->n_tags;
    }
    if (given & F_ATTRS)
        to->attrs = from->attrs;
    if (given & F_HIDDEN)
        to->hidden = from->hidden;
}

static rs_err do_put_items(rs_store *st, void *ctx)
{
    put_items *p = ctx;
    rs_err e = RS_OK;
    if (p->patch) {
        rs_item cur;
        if ((e = rs_store_get_item(st, p->items[0].id, &p->arena, &cur)))
            return e;
        apply_patch(&cur, &p->items[0], p->patch);
        p->items[0] = cur;
    }
    if (!e)
        e = rs_store_put_items(st, p->items, p->n, &p->stats);
    if (!e && p->n == 1)
        e = rs_store_get_item(st, p->items[0].id, &p->arena, &p->back);
    return e;
}

/* Writes p's items; on success tells the served model which are hidden. */
static bool write_items(rs_service *s, put_items *p, rs_http_response *resp)
{
    if (!rs__store_write(s, do_put_items, p, resp))
        return false;
    for (size_t i = 0; i < p->n; i++)
        rs_service_item_written(s, &p->items[i]);
    return true;
}

/* A whole item of a POST body: item_id is required. */
static bool parse_item_record(void *ctx, json_t *o, size_t i, char *why, size_t cap)
{
    put_items *p = ctx;
    unsigned given;
    if (!parse_item(o, &p->arena, &p->items[i], &given, why, cap))
        return false;
    if (!(given & F_ID)) {
        snprintf(why, cap, "item_id: is required");
        return false;
    }
    return true;
}

void rs__h_items_post(rs_service *s, const rs_http_request *req, const char *arg,
                      rs_http_response *resp)
{
    (void)arg;
    json_t *list;
    size_t n;
    json_t *doc = rs__write_body(req, resp, "items", MAX_BATCH, &list, &n);
    if (!doc)
        return;
    put_items p = {.items = rs_xcalloc(n, sizeof *p.items), .n = n};
    rs_arena_init(&p.arena, 16384);
    if (rs__parse_records(doc, list, n, "items", parse_item_record, &p, resp) &&
        write_items(s, &p, resp))
        rs__reply_written(resp, list != NULL, p.stats.items_created, p.stats.items_updated,
                          list ? NULL : item_json(&p.back));
    rs_arena_destroy(&p.arena);
    rs_free(p.items);
    json_decref(doc);
}

void rs__h_item_patch(rs_service *s, const rs_http_request *req, const char *arg,
                      rs_http_response *resp)
{
    if (!rs__query_only(req, resp, (const char *const[]){NULL}) ||
        !rs__check_id(resp, "item id", arg, strlen(arg)))
        return;
    json_t *doc = rs__body_json(req, resp);
    if (!doc)
        return;
    rs_item patch = {0};
    put_items p = {.items = &patch, .n = 1};
    rs_arena_init(&p.arena, 4096);
    char why[200];
    unsigned given;
    if (!parse_item(doc, &p.arena, &patch, &given, why, sizeof why)) {
        rs__batch_problem(resp, NULL, 0, why);
    } else if ((given & F_ID) && strcmp(patch.id, arg) != 0) {
        rs_http_problem(resp, 400, "item_id: an item's id cannot change; nothing was written");
    } else if (!(given & ~(unsigned)F_ID)) {
        rs_http_problem(resp, 400, "the body changes no field (title, category, brand, tags, "
                                   "attributes, hidden)");
    } else {
        patch.id = arg;
        p.patch = given;
        if (write_items(s, &p, resp))
            rs__reply_json(resp, 200, item_json(&p.back));
    }
    rs_arena_destroy(&p.arena);
    json_decref(doc);
}

typedef struct list_items {
    const char *category, *after, *id;
    const char *ids[MAX_IDS]; /* with ?ids=: the ids asked (in arena) */
    size_t n_ids;
    size_t limit;
    rs_arena arena;
    rs_item *items;
    size_t n;
    rs_item one;
} list_items;

static rs_err do_list_items(rs_store *st, void *ctx)
{
    list_items *l = ctx;
    return rs_store_list_items(st, l->category, l->after, l->limit, &l->arena, &l->items,
                               &l->n);
}

static rs_err do_get_item(rs_store *st, void *ctx)
{
    list_items *l = ctx;
    return rs_store_get_item(st, l->id, &l->arena, &l->one);
}

static int cmp_ids(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The items of l->ids that exist, filtered and paged like any list: of
 * l->category when given, after l->after, at most l->limit, in id order. */
static rs_err do_get_items(rs_store *st, void *ctx)
{
    list_items *l = ctx;
    qsort(l->ids, l->n_ids, sizeof *l->ids, cmp_ids);
    l->items = rs_arena_alloc(&l->arena, l->n_ids * sizeof *l->items);
    for (size_t i = 0; i < l->n_ids && l->n < l->limit; i++) {
        const bool repeated = i && !strcmp(l->ids[i], l->ids[i - 1]);
        if (repeated || (l->after && strcmp(l->ids[i], l->after) <= 0))
            continue;
        rs_item *it = &l->items[l->n];
        const rs_err e = rs_store_get_item(st, l->ids[i], &l->arena, it);
        if (e && e != RS_ENOTFOUND)
            return e;
        if (!e && (!l->category || !strcmp(it->category ? it->category : "", l->category)))
            l->n++;
    }
    return RS_OK;
}

/* Splits the ids parameter (comma-separated, empty entries skipped) into
 * l->ids; false after a 400 for a bad id or too many. */
static bool parse_ids(const char *ids, list_items *l, rs_http_response *resp)
{
    for (const char *p = ids; *p;) {
        const size_t len = strcspn(p, ",");
        if (len) {
            if (l->n_ids == MAX_IDS) {
                rs_http_problem(resp, 400, "ids lists more than %d items", MAX_IDS);
                return false;
            }
            const char *why;
            if (rs_id_check(p, len, &why) != RS_OK) {
                rs_http_problem(resp, 400, "ids, entry %zu: %s", l->n_ids + 1, why);
                return false;
            }
            l->ids[l->n_ids++] = rs_arena_strndup(&l->arena, p, len);
        }
        p += len + (p[len] == ',');
    }
    return true;
}

void rs__h_items_list(rs_service *s, const rs_http_request *req, const char *arg,
                      rs_http_response *resp)
{
    (void)arg;
    static const char *const params[] = {"category", "limit", "cursor", "ids", NULL};
    list_items l = {0};
    int64_t limit;
    if (!rs__query_only(req, resp, params) ||
        !rs__query_text(req, resp, "category", 1024, &l.category) ||
        !rs__query_text(req, resp, "cursor", RS_ID_MAX, &l.after) ||
        !rs__query_int(req, resp, "limit", 50, 1, MAX_LIMIT, &limit))
        return;
    l.limit = (size_t)limit;
    rs_arena_init(&l.arena, 65536);
    const char *ids = rs_http_query(req, "ids");
    if (ids ? parse_ids(ids, &l, resp) &&
                  rs__store_read(s, do_get_items, &l, resp)
            : rs__store_read(s, do_list_items, &l, resp)) {
        json_t *arr = json_array();
        for (size_t i = 0; i < l.n; i++)
            json_array_append_new(arr, item_json(&l.items[i]));
        json_t *next = l.n == l.limit ? json_string(l.items[l.n - 1].id) : json_null();
        rs__reply_json(resp, 200, json_pack("{s:o,s:o}", "items", arr, "next_cursor", next));
    }
    rs_arena_destroy(&l.arena);
}

void rs__h_item_get(rs_service *s, const rs_http_request *req, const char *arg,
                    rs_http_response *resp)
{
    list_items l = {.id = arg};
    if (!rs__query_only(req, resp, (const char *const[]){NULL}) ||
        !rs__check_id(resp, "item id", arg, strlen(arg)))
        return;
    rs_arena_init(&l.arena, 4096);
    if (rs__store_read(s, do_get_item, &l, resp))
        rs__reply_json(resp, 200, item_json(&l.one));
    rs_arena_destroy(&l.arena);
}
