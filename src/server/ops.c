/* The operational endpoints: /healthz (the process answers), /readyz (the
 * store answers and a model is loaded) and /metrics (Prometheus). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/alloc.h"
#include "core/timeutil.h"
#include "server/handlers.h"

void rs__h_healthz(rs_service *s, const rs_http_request *req, const char *arg,
                     rs_http_response *resp)
{
    (void)arg;
    (void)s;
    (void)req;
    rs__reply_json(resp, 200, json_pack("{s:s}", "status", "ok"));
}

void rs__h_readyz(rs_service *s, const rs_http_request *req, const char *arg,
                     rs_http_response *resp)
{
    (void)arg;
    (void)req;
    rs_store_counts counts;
    rs_store *st = rs_store_pool_acquire(&s->stores);
    rs_err e = rs_store_get_counts(st, &counts);
    char why[300] = "";
    if (e)
        snprintf(why, sizeof why, "%s", rs_store_errmsg(st));
    rs_store_pool_release(&s->stores, st);
    if (e) {
        rs_http_problem(resp, 503, "the store does not answer: %s", why);
        return;
    }
    rs_snapshot *snap = rs_service_acquire(s);
    if (!snap) {
        rs_http_problem(resp, 503, RS_NOTHING_TO_SERVE);
        return;
    }
    rs__reply_json(resp, 200,
                   json_pack("{s:s,s:I,s:I}", "status", "ready", "model_version",
                             (json_int_t)snap->version, "events", (json_int_t)counts.events));
    rs_snapshot_release(snap);
}

void rs__h_metrics(rs_service *s, const rs_http_request *req, const char *arg,
                     rs_http_response *resp)
{
    (void)arg;
    (void)req;
    rs_metrics_model model = {.ndcg = NAN, .recall = NAN};
    rs_snapshot *snap = rs_service_acquire(s);
    if (snap) {
        model.version = snap->version;
        model.load_seconds = snap->load_seconds;
        model.age_seconds = (double)(rs_now_ms() - snap->trained_ms) / 1000.0;
        model.ndcg = snap->ndcg;
        model.recall = snap->recall;
    }
    rs_snapshot_release(snap);
    size_t len = 0;
    char *text = rs_metrics_render(&s->metrics, &model, &len);
    if (!text) {
        rs_http_problem(resp, 500, "out of memory rendering the metrics");
        return;
    }
    rs_free(resp->body);
    resp->body = text;
    resp->len = len;
    resp->status = 200;
    resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
}
