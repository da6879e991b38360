/* The user endpoints: POST /v1/users (one user or {"users": [...]}),
 * GET /v1/users (by id prefix, paged), GET /v1/users/{id} and
 * GET /v1/users/{id}/events. Writes are validated as a whole and
 * committed in one transaction before the answer. */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/text.h"
#include "core/timeutil.h"
#include "server/handlers.h"

#define MAX_BATCH 10000
#define MAX_LIMIT 1000

static json_t *user_json(const rs_user *u)
{
    char created[40];
    rs_time_format(u->created_ms, created, sizeof created);
    return json_pack("{s:s,s:o,s:s}", "user_id", u->id, "attributes",
                     rs__attrs_json(u->attrs), "created_at", created);
}

/* Fills u from the JSON object o (the attributes' text in arena a); on a
 * bad field writes "field: reason" into why. */
static bool parse_user(json_t *o, rs_user *u, rs_arena *a, char *why, size_t cap)
{
    *u = (rs_user){0};
    if (!json_is_object(o)) {
        snprintf(why, cap, "is not an object");
        return false;
    }
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v) {
        const char *reason = NULL;
        if (!strcmp(key, "user_id")) {
            if (!json_is_string(v))
                reason = "must be a string";
            else if (rs_id_check(json_string_value(v), json_string_length(v), &reason) == RS_OK)
                u->id = json_string_value(v);
        } else if (!strcmp(key, "attributes")) {
            reason = rs__attrs_text(v, a, &u->attrs);
        } else {
            reason = "is not a field of a user (user_id, attributes)";
        }
        if (reason) {
            snprintf(why, cap, "%.40s: %s", key, reason);
            return false;
        }
    }
    if (!u->id) {
        snprintf(why, cap, "user_id: is required");
        return false;
    }
    return true;
}

typedef struct put_users {
    rs_user *users;
    size_t n;
    rs_write_stats stats;
    rs_arena arena;   /* the attributes, and the read-back of a single user */
    rs_user back;
} put_users;

static rs_err do_put_users(rs_store *st, void *ctx)
{
    put_users *p = ctx;
    rs_err e = rs_store_put_users(st, p->users, p->n, &p->stats);
    if (!e && p->n == 1)
        e = rs_store_get_user(st, p->users[0].id, &p->arena, &p->back);
    return e;
}

static bool parse_user_record(void *ctx, json_t *o, size_t i, char *why, size_t cap)
{
    put_users *p = ctx;
    return parse_user(o, &p->users[i], &p->arena, why, cap);
}

void rs__h_users_post(rs_service *s, const rs_http_request *req, const char *arg,
                      rs_http_response *resp)
{
    (void)arg;
    json_t *list;
    size_t n;
    json_t *doc = rs__write_body(req, resp, "users", MAX_BATCH, &list, &n);
    if (!doc)
        return;
    put_users p = {.users = rs_xcalloc(n, sizeof *p.users), .n = n};
    rs_arena_init(&p.arena, 16384);
    if (rs__parse_records(doc, list, n, "users", parse_user_record, &p, resp) &&
        rs__store_write(s, do_put_users, &p, resp))
        rs__reply_written(resp, list != NULL, p.stats.users_created, n - p.stats.users_created,
                          list ? NULL : user_json(&p.back));
    rs_arena_destroy(&p.arena);
    rs_free(p.users);
    json_decref(doc);
}

typedef struct find_users {
    const char *prefix, *after;
    size_t limit;
    rs_arena arena;
    rs_user *users;
    size_t n;
} find_users;

static rs_err do_find_users(rs_store *st, void *ctx)
{
    find_users *f = ctx;
    return rs_store_find_users(st, f->prefix, f->after, f->limit, &f->arena, &f->users, &f->n);
}

void rs__h_users_list(rs_service *s, const rs_http_request *req, const char *arg,
                      rs_http_response *resp)
{
    (void)arg;
    static const char *const params[] = {"q", "limit", "cursor", NULL};
    find_users f = {0};
    int64_t limit;
    if (!rs__query_only(req, resp, params) ||
        !rs__query_text(req, resp, "q", RS_ID_MAX, &f.prefix) ||
        !rs__query_text(req, resp, "cursor", RS_ID_MAX, &f.after) ||
        !rs__query_int(req, resp, "limit", 50, 1, MAX_LIMIT, &limit))
        return;
    f.prefix = f.prefix ? f.prefix : "";
    f.limit = (size_t)limit;
    rs_arena_init(&f.arena, 16384);
    if (rs__store_read(s, do_find_users, &f, resp)) {
        json_t *arr = json_array();
        for (size_t i = 0; i < f.n; i++)
            json_array_append_new(arr, user_json(&f.users[i]));
        json_t *next = f.n == f.limit ? json_string(f.users[f.n - 1].id) : json_null();
        rs__reply_json(resp, 200, json_pack("{s:o,s:o}", "users", arr, "next_cursor", next));
    }
    rs_arena_destroy(&f.arena);
}

typedef struct get_user {
    const char *id;
    size_t limit;   /* events wanted; 0 for the user alone */
    rs_arena arena;
    rs_user user;
    rs_event *events;
    size_t n;
} get_user;

static rs_err do_get_user(rs_store *st, void *ctx)
{
    get_user *g = ctx;
    rs_err e = rs_store_get_user(st, g->id, &g->arena, &g->user);
    if (!e && g->limit)
        e = rs_store_user_events(st, g->id, g->limit, &g->arena, &g->events, &g->n);
    return e;
}

void rs__h_user_get(rs_service *s, const rs_http_request *req, const char *arg,
                    rs_http_response *resp)
{
    get_user g = {.id = arg};
    if (!rs__query_only(req, resp, (const char *const[]){NULL}) ||
        !rs__check_id(resp, "user id", arg, strlen(arg)))
        return;
    rs_arena_init(&g.arena, 4096);
    if (rs__store_read(s, do_get_user, &g, resp))
        rs__reply_json(resp, 200, user_json(&g.user));
    rs_arena_destroy(&g.arena);
}

void rs__h_user_events(rs_service *s, const rs_http_request *req, const char *arg,
                       rs_http_response *resp)
{
    static const char *const params[] = {"limit", NULL};
    get_user g = {.id = arg};
    int64_t limit;
    if (!rs__query_only(req, resp, params) ||
        !rs__query_int(req, resp, "limit", 50, 1, MAX_LIMIT, &limit) ||
        !rs__check_id(resp, "user id", arg, strlen(arg)))
        return;
    g.limit = (size_t)limit;
    rs_arena_init(&g.arena, 16384);
    if (rs__store_read(s, do_get_user, &g, resp)) {
        json_t *arr = json_array();
        for (size_t i = 0; i < g.n; i++) {
            const rs_event *ev = &g.events[i];
            char ts[40];
            rs_time_format(ev->ts_ms, ts, sizeof ts);
            json_array_append_new(arr, json_pack("{s:s,s:s,s:f,s:s}", "item_id", ev->item_id,
                                                 "type", ev->type, "value", ev->value,
                                                 "timestamp", ts));
        }
        rs__reply_json(resp, 200, json_pack("{s:s,s:o}", "user_id", g.id, "events", arr));
    }
    rs_arena_destroy(&g.arena);
}
