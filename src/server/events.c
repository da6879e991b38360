/* POST /v1/events: one event object, or {"events": [...]} with up to
 * MAX_BATCH of them. The whole body is validated before anything is
 * written; the first bad event rejects the batch with its index, field and
 * reason, and nothing lands. A 201 answer means the events are committed
 * (the store syncs its journal on commit) and folded into their users'
 * vectors in the served model (server/foldin.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/text.h"
#include "core/timeutil.h"
#include "server/handlers.h"

#define MAX_BATCH 10000

/* Fills e from the JSON object o; on a bad field writes "field: reason"
 * into why (cap bytes) and returns false. Strings stay owned by o. */
static bool parse_event(json_t *o, int64_t now_ms, rs_event *e, char *why, size_t cap)
{
    if (!json_is_object(o)) {
        snprintf(why, cap, "is not an object");
        return false;
    }
    *e = (rs_event){.type = "view", .value = 1.0, .ts_ms = now_ms};
    bool has_value = false;
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v) {
        const char *reason = NULL;
        if (!strcmp(key, "user_id") || !strcmp(key, "item_id")) {
            const char *s = json_string_value(v);
            if (!s)
                reason = "must be a string";
            else if (rs_id_check(s, json_string_length(v), &reason) == RS_OK)
                *(!strcmp(key, "user_id") ? &e->user_id : &e->item_id) = s;
        } else if (!strcmp(key, "type")) {
            const char *s = json_string_value(v);
            if (!s)
                reason = "must be a string";
            else if (rs_type_check(s, json_string_length(v), &reason) == RS_OK)
                e->type = s;
        } else if (!strcmp(key, "value")) {
            if (!json_is_number(v) || !isfinite(json_number_value(v)))
                reason = "must be a finite number";
            e->value = json_number_value(v);
            has_value = true;
        } else if (!strcmp(key, "timestamp")) {
            char text[64];
            if (json_is_integer(v))
                snprintf(text, sizeof text, "%lld", (long long)json_integer_value(v));
            else if (json_is_real(v))
                snprintf(text, sizeof text, "%.3f", json_real_value(v));
            else if (json_is_string(v) && json_string_length(v) < sizeof text)
                snprintf(text, sizeof text, "%s", json_string_value(v));
            else
                text[0] = '\0';
            if (!text[0])
                reason = "must be a number (Unix seconds or ms) or an ISO 8601 string";
            else if (rs_time_parse(text, strlen(text), &e->ts_ms, &reason) != RS_OK && !reason)
                reason = "is not a valid timestamp";
        } else {
            reason = "is not a field of an event (user_id, item_id, type, value, timestamp)";
        }
        if (reason) {
            snprintf(why, cap, "%.40s: %s", key, reason);
            return false;
        }
    }
    if (!e->user_id || !e->item_id) {
        snprintf(why, cap, "%s: is required", e->user_id ? "item_id" : "user_id");
        return false;
    }
    if (has_value && !json_object_get(o, "type"))
        e->type = "rating"; /* a value without a type is a rating, as in imports */
    return true;
}

static int by_user(const void *a, const void *b, void *ctx)
{
    const rs_event *ev = ctx;
    const size_t x = *(const size_t *)a, y = *(const size_t *)b;
    const int c = strcmp(ev[x].user_id, ev[y].user_id);
    return c ? c : (x > y) - (x < y);
}

/* Folds the accepted events into their users' vectors in the served
 * model, one solve per user. Items the model does not know are left out
 * (it cannot score them anyway). */
static void fold_in(rs_service *s, const rs_event *events, size_t n)
{
    rs_snapshot *snap = rs_service_acquire(s);
    if (!snap || !snap->foldin) {
        rs_snapshot_release(snap);
        return;
    }
    size_t *order = rs_xmalloc(n * sizeof *order);
    uint32_t *items = rs_xmalloc(n * sizeof *items);
    float *values = rs_xmalloc(n * sizeof *values);
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    qsort_r(order, n, sizeof *order, by_user, (void *)events);
    for (size_t a = 0, z; a < n; a = z) {
        const char *user = events[order[a]].user_id;
        size_t m = 0;
        for (z = a; z < n && !strcmp(events[order[z]].user_id, user); z++) {
            const rs_event *ev = &events[order[z]];
            const uint32_t it = rs_idmap_find(snap->b.items, ev->item_id, strlen(ev->item_id));
            if (it != RS_INDEX_NONE) {
                items[m] = it;
                values[m++] = (float)ev->value;
            }
        }
        if (m && rs_foldin_add(snap->foldin, user, items, values, m) == RS_OK)
            atomic_fetch_add(&s->metrics.foldins, 1);
    }
    rs_free(order);
    rs_free(items);
    rs_free(values);
    rs_snapshot_release(snap);
}

typedef struct add_events {
    rs_event *events;
    size_t n;
    int64_t now_ms;   /* the time of events that give none */
    rs_write_stats stats;
} add_events;

static bool parse_event_record(void *ctx, json_t *o, size_t i, char *why, size_t cap)
{
    add_events *a = ctx;
    return parse_event(o, a->now_ms, &a->events[i], why, cap);
}

static rs_err do_add_events(rs_store *st, void *ctx)
{
    add_events *a = ctx;
    return rs_store_add_events(st, a->events, a->n, &a->stats);
}

void rs__h_events(rs_service *s, const rs_http_request *req, const char *arg,
                  rs_http_response *resp)
{
    (void)arg;
    json_t *list;
    size_t n;
    json_t *doc = rs__write_body(req, resp, "events", MAX_BATCH, &list, &n);
    if (!doc)
        return;
    rs_event *events = rs_xmalloc(n * sizeof *events);
    add_events add = {events, n, rs_now_ms(), {0}};
    if (rs__parse_records(doc, list, n, "events", parse_event_record, &add, resp) &&
        rs__store_write(s, do_add_events, &add, resp)) {
        fold_in(s, events, n); /* the events' strings live in doc */
        atomic_fetch_add(&s->metrics.events, n);
        rs__reply_json(resp, 201,
                       json_pack("{s:I,s:I,s:I}", "accepted", (json_int_t)n, "users_created",
                                 (json_int_t)add.stats.users_created, "items_created",
                                 (json_int_t)add.stats.items_created));
    }
    rs_free(events);
    json_decref(doc);
}
