/* GET /v1/status: what the server is serving, in one answer for people
 * and dashboards: the model version and its age, the store's counts, and
 * whether a training runs. */
#include <stdio.h>

#include "core/timeutil.h"
#include "models/bundle.h"
#include "server/handlers.h"
#include "server/scheduler.h"

/* ms as an RFC 3339 string, or null for 0. */
static json_t *time_json(int64_t ms)
{
    if (!ms)
        return json_null();
    char text[40];
    rs_time_format(ms, text, sizeof text);
    return json_string(text);
}

/* The served snapshot's description, or null when nothing is served. */
static json_t *model_json(const rs_service *s, const rs_snapshot *snap, int64_t now)
{
    if (!snap)
        return json_null();
    const rs_bundle *b = &snap->b;
    json_t *models = json_array(), *strategies = json_array();
    for (unsigned f = 1; f <= RS_MODEL_LAST; f <<= 1)
        if (b->models & f)
            json_array_append_new(models, json_string(rs_model_name(f)));
    if (b->models & RS_MODEL_ALS)
        json_array_append_new(strategies, json_string("collab"));
    if (b->models & RS_MODEL_HYBRID)
        json_array_append_new(strategies, json_string("hybrid"));
    json_array_append_new(strategies, json_string("popularity"));
    const int64_t trained = snap->version ? snap->trained_ms : 0;
    return json_pack("{s:s,s:I,s:o,s:f,s:o,s:o,s:o,s:I,s:I}", "name", s->model_name,
                     "version", (json_int_t)snap->version, "loaded_at",
                     time_json(snap->loaded_ms), "age_seconds",
                     (double)(now - snap->trained_ms) / 1000.0,
                     "created_at", time_json(trained), "models", models, "strategies",
                     strategies, "users", b->users ? (json_int_t)rs_idmap_size(b->users) : 0,
                     "items", b->items ? (json_int_t)rs_idmap_size(b->items) : 0);
}

static rs_err do_counts(rs_store *st, void *ctx)
{
    return rs_store_get_counts(st, ctx);
}

void rs__h_status(rs_service *s, const rs_http_request *req, const char *arg,
                  rs_http_response *resp)
{
    (void)arg;
    rs_store_counts counts;
    if (!rs__query_only(req, resp, (const char *const[]){NULL}) ||
        !rs__store_read(s, do_counts, &counts, resp))
        return;
    const int64_t now = rs_now_ms();
    rs_snapshot *snap = rs_service_acquire(s);
    json_t *model = model_json(s, snap, now);
    rs_snapshot_release(snap);

    char run[RS_RUN_ID_CAP] = "";
    int64_t every_ms = 0;
    if (s->scheduler) {
        rs_scheduler_current(s->scheduler, run);
        every_ms = rs_scheduler_every_ms(s->scheduler);
    }
    char roles[80];
    rs_roles_format(s->roles, roles, sizeof roles);
    json_t *training = json_pack(
        "{s:b,s:o,s:o}", "in_progress", run[0] != '\0', "run_id",
        run[0] ? json_string(run) : json_null(), "retrain_every_seconds",
        every_ms ? json_real((double)every_ms / 1000.0) : json_null());
    rs__reply_json(
        resp, 200,
        json_pack("{s:{s:s,s:o,s:f,s:s},s:o,s:{s:I,s:I,s:I,s:o},s:o}", "service", "version",
                  RS_VERSION, "started_at", time_json(s->started_ms), "uptime_seconds",
                  (double)(now - s->started_ms) / 1000.0, "roles", roles, "model", model,
                  "store", "users",
                  (json_int_t)counts.users, "items", (json_int_t)counts.items, "events",
                  (json_int_t)counts.events, "newest_event_at",
                  time_json(counts.newest_event_ms), "training", training));
}
