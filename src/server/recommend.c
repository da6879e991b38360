/* GET /v1/recommend: a user's top items by one of three strategies:
 *   collab      the user's ALS vector (or its real-time fold-in) against
 *               the item factors
 *   hybrid      the same vector against the hybrid's item vectors, plus
 *               the items written since the model was trained, scored by
 *               their content (server/fresh.h); a user with no vector and
 *               no events gets the content profile of `category`
 *   popularity  the most interacted-with items
 * auto is hybrid when the served version has one, else collab; each falls
 * back to the next when it cannot answer (counted in the metrics).
 * diversity re-ranks by maximal marginal relevance (models/rerank.h) and
 * explain adds a reason to every item. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/text.h"
#include "core/topk.h"
#include "models/rerank.h"
#include "models/score.h"
#include "server/handlers.h"

#define MAX_EXCLUDE 1000
#define MAX_HISTORY 500 /* history items compared when explaining */

static const char *const params[] = {"user_id", "n",         "strategy",  "category", "exclude",
                                     "exclude_seen", "diversity", "explain", NULL};

enum { S_POPULARITY, S_COLLAB, S_HYBRID };
static const char *const strategy_names[] = {"popularity", "collab", "hybrid"};

typedef struct request {
    rs_service *s;
    rs_snapshot *snap;
    const rs_bundle *b;
    const char *user_id, *exclude_list, *category_name;
    uint32_t user, category;
    bool empty, explain, cached, profile;
    float diversity;
    size_t n;
    int used;                 /* S_* */
    float *x;                 /* the user's vector (factors floats), or NULL */
    uint32_t *touched;        /* fold-in: every item the user has */
    const uint32_t *row;      /* the user's items, ascending */
    size_t n_row;
    uint32_t *ex;             /* excluded items, ascending */
    size_t n_ex;
} request;

static int cmp_u32(const void *a, const void *b)
{
    const uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* The items to leave out, ascending: the user's items (when exclude_seen)
 * and the exclude list's known items. Returns false (400 set) for a bad or
 * over-long exclude list. */
static bool exclusions(request *r, bool seen, rs_http_response *resp)
{
    const size_t n_seen = seen ? r->n_row : 0;
    size_t n_list = 0;
    for (const char *p = r->exclude_list; p && *p; p += strcspn(p, ",") + (p[strcspn(p, ",")] == ',')) {
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
    r->ex = rs_xmalloc((n_seen + n_list + 1) * sizeof *r->ex);
    if (n_seen)
        memcpy(r->ex, r->row, n_seen * sizeof *r->ex);
    r->n_ex = n_seen;
    for (const char *p = r->exclude_list; p && *p;) {
        const size_t len = strcspn(p, ",");
        const uint32_t i = rs_idmap_find(r->b->items, p, len);
        if (i != RS_INDEX_NONE)
            r->ex[r->n_ex++] = i;
        p += len + (p[len] == ',');
    }
    if (r->n_ex > n_seen)
        qsort(r->ex, r->n_ex, sizeof *r->ex, cmp_u32);
    return true;
}

/* What a recommendation may not contain: the exclusions, hidden items
 * and, with a category, items outside it. */
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

static bool parse_diversity(const rs_http_request *req, rs_http_response *resp, float *out)
{
    const char *v = rs_http_query(req, "diversity");
    *out = 0.0f;
    if (!v)
        return true;
    char *end;
    const double d = strtod(v, &end);
    if (!*v || *end || !(d >= 0.0 && d <= 1.0)) {
        rs_http_problem(resp, 400, "diversity must be a number from 0 to 1, not '%.60s'", v);
        return false;
    }
    *out = (float)d;
    return true;
}

/* The user's items and vector: a fold-in since this version when there is
 * one, else the model's row. */
static void load_user(request *r)
{
    const rs_bundle *b = r->b;
    r->user = rs_idmap_find(b->users, r->user_id, strlen(r->user_id));
    if (b->models & RS_MODEL_ALS)
        r->x = rs_xmalloc(b->als.factors * sizeof *r->x);
    r->cached = r->snap->foldin &&
                rs_foldin_get(r->snap->foldin, r->user_id, r->x, &r->touched, &r->n_row);
    r->row = r->touched;
    if (!r->cached && r->user != RS_INDEX_NONE && r->user < b->seen.n_rows) {
        r->row = b->seen.indices + b->seen.indptr[r->user];
        r->n_row = (size_t)(b->seen.indptr[r->user + 1] - b->seen.indptr[r->user]);
    }
    if (!r->cached && r->x && r->user != RS_INDEX_NONE && r->user < b->als.n_users)
        memcpy(r->x, b->als.user_factors + (size_t)r->user * b->als.factors,
               b->als.factors * sizeof *r->x);
    else if (!r->cached) {
        rs_free(r->x);
        r->x = NULL;
    }
}

/* A user with no vector: the content profile of the requested category. */
static void content_profile(request *r)
{
    const rs_bundle *b = r->b;
    uint32_t idx[RS_CONTENT_MAX_ROW];
    float val[RS_CONTENT_MAX_ROW];
    const rs_item it = {.id = "", .category = r->category_name};
    const size_t n = rs_content_features(&b->content, &it, idx, val);
    r->x = rs_xmalloc(b->als.factors * sizeof *r->x);
    rs_hybrid_content_vector(&b->hybrid, idx, val, n, r->x);
    r->profile = true;
}

/* Settles the strategy from the one asked for, falling back (and counting
 * why) when the served version or the user cannot support it. */
static void choose_strategy(request *r, const char *asked)
{
    const unsigned models = r->b->models;
    int want = !strcmp(asked, "popularity") ? S_POPULARITY
               : !strcmp(asked, "collab")   ? S_COLLAB
               : !strcmp(asked, "hybrid")   ? S_HYBRID
               : (models & RS_MODEL_HYBRID) ? S_HYBRID
                                            : S_COLLAB;
    if (want == S_HYBRID && !(models & RS_MODEL_HYBRID))
        want = S_COLLAB;
    if (want == S_COLLAB && !(models & RS_MODEL_ALS)) {
        rs_metrics_fallback(&r->s->metrics, RS_FALLBACK_NO_MODEL);
        want = S_POPULARITY;
    }
    if (want == S_HYBRID && !r->x && r->category_name && !r->empty)
        content_profile(r);
    if (want != S_POPULARITY && !r->x) {
        rs_metrics_fallback(&r->s->metrics, RS_FALLBACK_UNKNOWN_USER);
        want = S_POPULARITY;
    }
    r->used = want;
}

/* The candidates, best first, into top (cap slots): the list itself, or
 * the pool the re-ranking picks from. */
static size_t score(request *r, size_t cap, rs_scored *top)
{
    const rs_snapshot *snap = r->snap;
    if (r->empty)
        return 0;
    if (r->used == S_POPULARITY) {
        rs_pop_query q = {RS_POP_COUNT, r->category, r->ex, r->n_ex, snap->hidden, cap};
        return rs_popularity_top(&r->b->pop, &q, top);
    }
    item_rules rules = {r->b, snap->hidden, r->ex, r->n_ex, r->category};
    if (r->used == S_COLLAB)
        return rs_score_topk_index(snap->item_index, r->x, cap, allowed, &rules, top, NULL);
    size_t got = rs_score_topk_index(snap->hyb_index, r->x, cap, allowed, &rules, top, NULL);
    if (!snap->fresh)
        return got;
    /* Merge in the items written since the model was trained. */
    rs_scored *heap = rs_xmalloc(cap * sizeof *heap);
    rs_topk t;
    rs_topk_init(&t, heap, cap);
    for (size_t j = 0; j < got; j++)
        rs_topk_push(&t, top[j].index, top[j].score);
    rs_fresh_query q = {r->x, r->category, r->exclude_list, r->b->als.n_items};
    rs_fresh_score(snap->fresh, &q, &t);
    got = rs_topk_finish(&t);
    memcpy(top, heap, got * sizeof *top);
    rs_free(heap);
    return got;
}

static bool is_fresh(const request *r, uint32_t index)
{
    return index >= rs_idmap_size(r->b->items);
}

/* The factor vector of a listed item (copied into buf for a fresh one),
 * or NULL without one; and its category. */
static const float *item_vector(const request *r, uint32_t index, float *buf, uint32_t *category)
{
    const rs_bundle *b = r->b;
    if (is_fresh(r, index)) {
        char id[RS_ID_MAX + 1];
        *category = rs_fresh_get(r->snap->fresh, index - b->als.n_items, id, buf, NULL);
        return buf;
    }
    *category = b->item_category[index];
    if (r->used == S_HYBRID || (r->used == S_POPULARITY && (b->models & RS_MODEL_HYBRID)))
        return b->hybrid.item_factors + (size_t)index * b->hybrid.factors;
    if (b->models & RS_MODEL_ALS)
        return b->als.item_factors + (size_t)index * b->als.factors;
    return NULL;
}

/* Re-ranks the pool top[0..got) for diversity; returns the list length. */
static size_t diversify(const request *r, rs_scored *top, size_t got)
{
    const uint32_t k = (r->b->models & RS_MODEL_ALS) ? r->b->als.factors : 0;
    const float **vec = rs_xmalloc((got + 1) * sizeof *vec);
    uint32_t *cat = rs_xmalloc((got + 1) * sizeof *cat);
    float *bufs = rs_xmalloc(((size_t)got * k + 1) * sizeof *bufs);
    void *scratch = rs_xmalloc(rs_mmr_scratch_bytes(got) + 1);
    for (size_t j = 0; j < got; j++)
        vec[j] = item_vector(r, top[j].index, bufs + j * k, &cat[j]);
    rs_mmr_input in = {top, got, vec, k, cat};
    const size_t n = rs_mmr_rerank(&in, r->diversity, r->n, scratch);
    rs_free(scratch);
    rs_free(bufs);
    rs_free(cat);
    rs_free(vec);
    return n;
}

static float cosine(const float *a, const float *b, uint32_t k)
{
    float dot = 0.0f, na = 0.0f, nb = 0.0f;
    for (uint32_t c = 0; c < k; c++) {
        dot += a[c] * b[c];
        na += a[c] * a[c];
        nb += b[c] * b[c];
    }
    return na > 0.0f && nb > 0.0f ? dot / sqrtf(na * nb) : -INFINITY;
}

/* The history item most like v, or RS_INDEX_NONE. */
static uint32_t closest_history(const request *r, const float *v)
{
    const rs_bundle *b = r->b;
    const float *Y = r->used == S_HYBRID ? b->hybrid.item_factors : b->als.item_factors;
    uint32_t best = RS_INDEX_NONE;
    float best_cos = -INFINITY;
    for (size_t j = 0; j < r->n_row && j < MAX_HISTORY; j++) {
        const float c = cosine(Y + (size_t)r->row[j] * b->als.factors, v, b->als.factors);
        if (c > best_cos) {
            best_cos = c;
            best = r->row[j];
        }
    }
    return best;
}

static bool follows(const request *r, uint32_t category)
{
    for (size_t j = 0; j < r->n_row && j < MAX_HISTORY && category != RS_INDEX_NONE; j++)
        if (r->b->item_category[r->row[j]] == category)
            return true;
    return false;
}

/* {"kind", "text"[, "item_id"][, "category"]}: why the item is listed. */
static json_t *reason(const request *r, uint32_t index)
{
    const rs_bundle *b = r->b;
    char text[RS_ID_MAX + RS_TEXT_MAX + 64], cat[RS_TEXT_MAX + 1] = "", id[RS_ID_MAX + 1];
    float *buf = rs_xmalloc(((b->models & RS_MODEL_ALS) ? b->als.factors : 1) * sizeof *buf);
    uint32_t c = RS_INDEX_NONE;
    const float *v = NULL;
    json_t *o;
    if (is_fresh(r, index)) {
        c = rs_fresh_get(r->snap->fresh, index - b->als.n_items, id, buf, cat);
    } else {
        v = item_vector(r, index, buf, &c);
        if (c != RS_INDEX_NONE)
            snprintf(cat, sizeof cat, "%s", rs_idmap_get(b->categories, c, NULL));
    }
    const uint32_t liked = r->used != S_POPULARITY && v && r->n_row ? closest_history(r, v)
                                                                    : RS_INDEX_NONE;
    if (is_fresh(r, index)) {
        snprintf(text, sizeof text, "new%s%s%s", *cat ? " in " : "", cat,
                 *cat && follows(r, c) ? " you follow" : "");
        o = json_pack("{s:s,s:s}", "kind", "new", "text", text);
    } else if (liked != RS_INDEX_NONE) {
        const char *liked_id = rs_idmap_get(b->items, liked, NULL);
        snprintf(text, sizeof text, "because you liked %s", liked_id);
        o = json_pack("{s:s,s:s,s:s}", "kind", "liked", "text", text, "item_id", liked_id);
    } else if (r->profile) {
        snprintf(text, sizeof text, "matches %s", r->category_name);
        o = json_pack("{s:s,s:s}", "kind", "profile", "text", text);
    } else {
        snprintf(text, sizeof text, "popular%s%s", *cat ? " in " : "", cat);
        o = json_pack("{s:s,s:s}", "kind", "popular", "text", text);
    }
    if (*cat)
        json_object_set_new(o, "category", json_string(cat));
    rs_free(buf);
    return o;
}

/* The "items" array of the answer. */
static json_t *item_list(const request *r, const rs_scored *top, size_t n)
{
    json_t *items = json_array();
    for (size_t j = 0; j < n; j++) {
        char id[RS_ID_MAX + 1];
        const uint32_t i = top[j].index;
        if (is_fresh(r, i))
            rs_fresh_get(r->snap->fresh, i - r->b->als.n_items, id, NULL, NULL);
        else
            snprintf(id, sizeof id, "%s", rs_idmap_get(r->b->items, i, NULL));
        json_t *o = json_pack("{s:s,s:f}", "item_id", id, "score", (double)top[j].score);
        if (r->explain)
            json_object_set_new(o, "reason", reason(r, i));
        json_array_append_new(items, o);
    }
    return items;
}

static void answer(request *r, rs_http_response *resp)
{
    const size_t cap = r->diversity > 0.0f ? rs_mmr_pool(r->n) : r->n;
    rs_scored *top = rs_xmalloc(cap * sizeof *top);
    size_t got = score(r, cap, top);
    if (r->diversity > 0.0f)
        got = diversify(r, top, got);
    char version[24];
    rs__reply_json(resp, 200,
                   json_pack("{s:s,s:s,s:s,s:o}", "user_id", r->user_id, "strategy",
                             strategy_names[r->used], "model_version",
                             rs__version_text(r->snap, version), "items",
                             item_list(r, top, got < r->n ? got : r->n)));
    rs_free(top);
}

/* The strategy of a request that names none: auto where the hybrid role
 * is mounted, else the one strategy role mounted (collab before
 * popularity). */
static const char *default_strategy(unsigned roles)
{
    return (roles & RS_ROLE_HYBRID)   ? "auto"
           : (roles & RS_ROLE_COLLAB) ? "collab"
                                      : "popularity";
}

/* Whether a server with these roles answers a strategy (auto belongs to
 * the hybrid role). */
static bool strategy_mounted(unsigned roles, const char *strategy)
{
    const unsigned need = !strcmp(strategy, "collab")       ? RS_ROLE_COLLAB
                          : !strcmp(strategy, "popularity") ? RS_ROLE_POPULARITY
                                                            : RS_ROLE_HYBRID;
    return (roles & need) != 0;
}

void rs__h_recommend(rs_service *s, const rs_http_request *req, const char *arg,
                     rs_http_response *resp)
{
    (void)arg;
    request r = {.s = s};
    const char *strategy = rs_http_query(req, "strategy");
    int64_t n;
    bool seen;
    if (!rs__query_only(req, resp, params) || !rs__query_id(req, resp, "user_id", &r.user_id) ||
        !rs__query_int(req, resp, "n", 10, 1, RS_MAX_N, &n) ||
        !rs__query_bool(req, resp, "exclude_seen", true, &seen) ||
        !rs__query_bool(req, resp, "explain", false, &r.explain) ||
        !parse_diversity(req, resp, &r.diversity))
        return;
    if (!strategy)
        strategy = default_strategy(s->roles);
    if (strcmp(strategy, "auto") && strcmp(strategy, "collab") && strcmp(strategy, "hybrid") &&
        strcmp(strategy, "popularity")) {
        rs_http_problem(resp, 400,
                        "strategy must be auto, collab, hybrid or popularity, not '%.60s'",
                        strategy);
        return;
    }
    if (!strategy_mounted(s->roles, strategy)) {
        char roles[80];
        rs_roles_format(s->roles, roles, sizeof roles);
        rs_http_problem(resp, 404,
                        "strategy %s is not served by this server: its roles are %s (--roles)",
                        strategy, roles);
        return;
    }
    if (!(r.snap = rs__serving(s, resp)))
        return;
    r.b = &r.snap->b;
    r.n = (size_t)n;
    r.exclude_list = rs_http_query(req, "exclude");
    r.category_name = rs_http_query(req, "category");
    r.category = rs__category_filter(r.b, r.category_name, &r.empty);
    load_user(&r);
    if (exclusions(&r, seen, resp)) {
        choose_strategy(&r, strategy);
        answer(&r, resp);
    }
    rs_free(r.ex);
    rs_free(r.x);
    rs_free(r.touched);
    rs_snapshot_release(r.snap);
}
