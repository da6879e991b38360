/* The item-list endpoints /v1/similar and /v1/popular, and what every
 * recommendation endpoint shares (recommend.c has /v1/recommend). Each
 * takes a reference to the served snapshot for the whole request, so a
 * model swap never changes a model under it. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/text.h"
#include "core/timeutil.h"
#include "core/topk.h"
#include "models/score.h"
#include "server/handlers.h"


static const char *const similar_params[] = {"item_id", "n", NULL};
static const char *const popular_params[] = {"n", "category", "window", NULL};

rs_snapshot *rs__serving(rs_service *s, rs_http_response *resp)
{
    rs_snapshot *snap = rs_service_acquire(s);
    if (!snap)
        rs_http_problem(resp, 503, RS_NOTHING_TO_SERVE);
    return snap;
}

const char *rs__version_text(const rs_snapshot *snap, char buf[24])
{
    snprintf(buf, 24, "%llu", (unsigned long long)snap->version);
    return buf;
}

uint32_t rs__category_filter(const rs_bundle *b, const char *name, bool *empty)
{
    *empty = false;
    if (!name)
        return RS_INDEX_NONE;
    uint32_t c = b->categories ? rs_idmap_find(b->categories, name, strlen(name)) : RS_INDEX_NONE;
    *empty = c == RS_INDEX_NONE;
    return c;
}

/* {"item_id":..., "score":...} for each of top[0..n). */
static json_t *item_list(const rs_bundle *b, const rs_scored *top, size_t n)
{
    json_t *items = json_array();
    for (size_t j = 0; j < n; j++)
        json_array_append_new(items, json_pack("{s:s,s:f}", "item_id",
                                               rs_idmap_get(b->items, top[j].index, NULL),
                                               "score", (double)top[j].score));
    return items;
}

void rs__h_similar(rs_service *s, const rs_http_request *req, const char *arg,
                     rs_http_response *resp)
{
    (void)arg;
    const char *item_id;
    int64_t n;
    if (!rs__query_only(req, resp, similar_params) ||
        !rs__query_id(req, resp, "item_id", &item_id) ||
        !rs__query_int(req, resp, "n", 10, 1, RS_MAX_N, &n))
        return;
    rs_snapshot *snap = rs__serving(s, resp);
    if (!snap)
        return;
    const rs_bundle *b = &snap->b;
    const uint32_t item = rs_idmap_find(b->items, item_id, strlen(item_id));
    if (!(b->models & RS_MODEL_SIMILAR)) {
        rs_http_problem(resp, 503, "the served model has no item similarities "
                                   "(train with --model similar)");
    } else if (item == RS_INDEX_NONE) {
        rs_http_problem(resp, 404, "no item '%.256s' in the served model", item_id);
    } else {
        rs_scored *top = rs_xmalloc((size_t)n * sizeof *top);
        size_t got = 0;
        for (uint64_t j = b->similar.indptr[item];
             j < b->similar.indptr[item + 1] && got < (size_t)n; j++) {
            const uint32_t other = b->similar.indices[j];
            if (!__atomic_load_n(&snap->hidden[other], __ATOMIC_RELAXED))
                top[got++] = (rs_scored){other, b->similar.values[j]};
        }
        char version[24];
        rs__reply_json(resp, 200,
                       json_pack("{s:s,s:s,s:o}", "item_id", item_id, "model_version",
                                 rs__version_text(snap, version), "items", item_list(b, top, got)));
        rs_free(top);
    }
    rs_snapshot_release(snap);
}

void rs__h_popular(rs_service *s, const rs_http_request *req, const char *arg,
                     rs_http_response *resp)
{
    (void)arg;
    int64_t n, window_ms = 0;
    if (!rs__query_only(req, resp, popular_params) ||
        !rs__query_int(req, resp, "n", 10, 1, RS_MAX_N, &n))
        return;
    const char *window = rs_http_query(req, "window");
    if (window && (rs_duration_parse(window, &window_ms) != RS_OK || window_ms <= 0)) {
        rs_http_problem(resp, 400, "window must be a duration like 7d or 12h, not '%.60s'",
                        window);
        return;
    }
    rs_snapshot *snap = rs__serving(s, resp);
    if (!snap)
        return;
    const rs_bundle *b = &snap->b;
    bool empty;
    const uint32_t category = rs__category_filter(b, rs_http_query(req, "category"), &empty);
    /* A window asks for what is popular lately: the time-decayed ranking
     * (its half-life was fixed when the model was trained). */
    rs_pop_query q = {window ? RS_POP_TRENDING : RS_POP_COUNT, category, NULL, 0,
                      snap->hidden, (size_t)n};
    rs_scored *top = rs_xmalloc((size_t)n * sizeof *top);
    const size_t got = empty ? 0 : rs_popularity_top(&b->pop, &q, top);
    char version[24];
    rs__reply_json(resp, 200,
                   json_pack("{s:s,s:s,s:s,s:o}", "strategy", "popularity", "ranking",
                             window ? "trending" : "count", "model_version",
                             rs__version_text(snap, version), "items", item_list(b, top, got)));
    rs_free(top);
    rs_snapshot_release(snap);
}
