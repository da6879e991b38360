/* The recommendation endpoints: /v1/recommend, /v1/similar, /v1/popular.
 * Each takes a reference to the served snapshot for the whole request, so
 * a model swap never changes a model under it. */
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

#define MAX_N 1000
#define MAX_EXCLUDE 1000

static const char *const recommend_params[] = {"user_id", "n", "strategy", "category",
                                               "exclude", "exclude_seen", NULL};
static const char *const similar_params[] = {"item_id", "n", NULL};
static const char *const popular_params[] = {"n", "category", "window", NULL};

/* The served snapshot, or NULL after answering 503 when there is none. */
static rs_snapshot *serving(rs_service *s, rs_http_response *resp)
{
    rs_snapshot *snap = rs_service_acquire(s);
    if (!snap)
        rs_http_problem(resp, 503, RS_NOTHING_TO_SERVE);
    return snap;
}

/* The snapshot's version as the decimal string the responses carry. */
static const char *version_text(const rs_snapshot *snap, char buf[24])
{
    snprintf(buf, 24, "%llu", (unsigned long long)snap->version);
    return buf;
}

/* The category filter: RS_INDEX_NONE for none, or the category's index;
 * *empty is set for a category the model does not know (nothing can
 * match). */
static uint32_t category_filter(const rs_bundle *b, const char *name, bool *empty)
{
    *empty = false;
    if (!name)
        return RS_INDEX_NONE;
    uint32_t c = b->categories ? rs_idmap_find(b->categories, name, strlen(name)) : RS_INDEX_NONE;
    *empty = c == RS_INDEX_NONE;
    return c;
}

static int cmp_u32(const void *a, const void *b)
{
    const uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* The items to leave out, ascending: the user's items row[0..n_seen) and
 * the exclude list's known items. Caller frees. Returns false (400 set)
 * for an over-long exclude list. */
static bool exclusions(const rs_bundle *b, const uint32_t *row, size_t n_seen, const char *list,
                       rs_http_response *resp, uint32_t **out, size_t *n_out)
{
    size_t n_list = 0;
    for (const char *p = list; p && *p; p += strcspn(p, ",") + (p[strcspn(p, ",")] == ',')) {
        const size_t len = strcspn(p, ",");
        const char *why = NULL;
        if (len && rs_id_check(p, len, &why) != RS_OK) { /* empty entries are skipped */
            rs_http_problem(resp, 400, "exclude, entry %zu: %s", n_list + 1, why);
            return false;
        }
        n_list++;
    }
    if (n_list > MAX_EXCLUDE) {
        rs_http_problem(resp, 400, "exclude lists %zu items; at most %d", n_list, MAX_EXCLUDE);
        return false;
    }
    uint32_t *ex = rs_xmalloc((n_seen + n_list + 1) * sizeof *ex);
    if (n_seen)
        memcpy(ex, row, n_seen * sizeof *ex);
    size_t n = n_seen;
    for (const char *p = list; p && *p;) {
        size_t len = strcspn(p, ",");
        uint32_t i = rs_idmap_find(b->items, p, len);
        if (i != RS_INDEX_NONE)
            ex[n++] = i;
        p += len + (p[len] == ',');
    }
    if (n > n_seen)
        qsort(ex, n, sizeof *ex, cmp_u32);
    *out = ex;
    *n_out = n;
    return true;
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

/* What a recommendation may not contain: the exclusions (ascending),
 * hidden items and, with a category, items outside it. */
typedef struct item_rules {
    const rs_bundle *b;
    const uint8_t *hidden;
    const uint32_t *ex;
    size_t n_ex;
    uint32_t category;
} item_rules;

static int allowed(void *ctx, uint32_t item)
{
    const item_rules *r = ctx;
    return !__atomic_load_n(&r->hidden[item], __ATOMIC_RELAXED) &&
           (r->category == RS_INDEX_NONE || r->b->item_category[item] == r->category) &&
           !rs_sorted_contains(r->ex, r->n_ex, item);
}

void rs__h_recommend(rs_service *s, const rs_http_request *req, const char *arg,
                     rs_http_response *resp)
{
    (void)arg;
    const char *user_id, *strategy = rs_http_query(req, "strategy");
    int64_t n;
    bool seen;
    if (!rs__query_only(req, resp, recommend_params) ||
        !rs__query_id(req, resp, "user_id", &user_id) ||
        !rs__query_int(req, resp, "n", 10, 1, MAX_N, &n) ||
        !rs__query_bool(req, resp, "exclude_seen", true, &seen))
        return;
    if (!strategy)
        strategy = "auto";
    if (!strcmp(strategy, "hybrid")) {
        rs_http_problem(resp, 501, "strategy hybrid is not available in this version");
        return;
    }
    const bool want_collab = !strcmp(strategy, "auto") || !strcmp(strategy, "collab");
    if (!want_collab && strcmp(strategy, "popularity") != 0) {
        rs_http_problem(resp, 400,
                        "strategy must be auto, collab, hybrid or popularity, not '%.60s'",
                        strategy);
        return;
    }
    rs_snapshot *snap = serving(s, resp);
    if (!snap)
        return;
    const rs_bundle *b = &snap->b;
    const uint32_t user = rs_idmap_find(b->users, user_id, strlen(user_id));
    bool empty;
    const uint32_t category = category_filter(b, rs_http_query(req, "category"), &empty);
    /* A user with events since this model version: the folded-in vector
     * and every item touched; otherwise the model's row. */
    float *folded = (b->models & RS_MODEL_ALS) ? rs_xmalloc(b->als.factors * sizeof *folded)
                                               : NULL;
    uint32_t *touched = NULL;
    size_t n_touched = 0;
    const bool cached =
        snap->foldin && rs_foldin_get(snap->foldin, user_id, folded, &touched, &n_touched);
    const uint32_t *row = touched;
    size_t n_row = n_touched;
    if (!cached && user != RS_INDEX_NONE && user < b->seen.n_rows) {
        row = b->seen.indices + b->seen.indptr[user];
        n_row = (size_t)(b->seen.indptr[user + 1] - b->seen.indptr[user]);
    }
    uint32_t *ex = NULL;
    size_t n_ex = 0;
    if (!exclusions(b, row, seen ? n_row : 0, rs_http_query(req, "exclude"), resp, &ex,
                    &n_ex)) {
        rs_free(folded);
        rs_free(touched);
        rs_snapshot_release(snap);
        return;
    }
    rs_scored *top = rs_xmalloc((size_t)n * sizeof *top);
    size_t got = 0;
    const char *used = "popularity";
    if (want_collab && !(b->models & RS_MODEL_ALS))
        rs_metrics_fallback(&s->metrics, RS_FALLBACK_NO_MODEL);
    else if (want_collab && !cached && (user == RS_INDEX_NONE || user >= b->als.n_users))
        rs_metrics_fallback(&s->metrics, RS_FALLBACK_UNKNOWN_USER);
    else if (want_collab)
        used = "collab";
    if (empty) {
        got = 0;
    } else if (!strcmp(used, "collab")) {
        const float *x =
            cached ? folded : b->als.user_factors + (size_t)user * b->als.factors;
        item_rules rules = {b, snap->hidden, ex, n_ex, category};
        got = rs_score_topk_index(snap->item_index, x, (size_t)n, allowed, &rules, top, NULL);
    } else {
        rs_pop_query q = {RS_POP_COUNT, category, ex, n_ex, snap->hidden, (size_t)n};
        got = rs_popularity_top(&b->pop, &q, top);
    }
    char version[24];
    rs__reply_json(resp, 200,
                   json_pack("{s:s,s:s,s:s,s:o}", "user_id", user_id, "strategy", used,
                             "model_version", version_text(snap, version), "items",
                             item_list(b, top, got)));
    rs_free(top);
    rs_free(ex);
    rs_free(folded);
    rs_free(touched);
    rs_snapshot_release(snap);
}

void rs__h_similar(rs_service *s, const rs_http_request *req, const char *arg,
                     rs_http_response *resp)
{
    (void)arg;
    const char *item_id;
    int64_t n;
    if (!rs__query_only(req, resp, similar_params) ||
        !rs__query_id(req, resp, "item_id", &item_id) ||
        !rs__query_int(req, resp, "n", 10, 1, MAX_N, &n))
        return;
    rs_snapshot *snap = serving(s, resp);
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
                                 version_text(snap, version), "items", item_list(b, top, got)));
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
        !rs__query_int(req, resp, "n", 10, 1, MAX_N, &n))
        return;
    const char *window = rs_http_query(req, "window");
    if (window && (rs_duration_parse(window, &window_ms) != RS_OK || window_ms <= 0)) {
        rs_http_problem(resp, 400, "window must be a duration like 7d or 12h, not '%.60s'",
                        window);
        return;
    }
    rs_snapshot *snap = serving(s, resp);
    if (!snap)
        return;
    const rs_bundle *b = &snap->b;
    bool empty;
    const uint32_t category = category_filter(b, rs_http_query(req, "category"), &empty);
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
                             version_text(snap, version), "items", item_list(b, top, got)));
    rs_free(top);
    rs_snapshot_release(snap);
}
