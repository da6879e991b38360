/* The popularity model: how many users interacted with each item, a
 * time-decayed "trending" score, and both rankings split by category. It
 * is the fallback for users the collaborative models do not know and the
 * baseline every other model must beat.
 *
 * Counts are distinct users per item (one user viewing an item a hundred
 * times counts once), which is what ranks well for the next user. The
 * trending score of an item is the sum over its users of
 * 2^(-(ref - t) / half_life), with t the time of that user's latest event
 * on the item and ref the newest event in the data: an item bought by ten
 * users this week outranks one bought by twenty users a year ago.
 *
 * A fitted model is immutable; queries are thread-safe. */
#ifndef RS_MODELS_POPULARITY_H
#define RS_MODELS_POPULARITY_H

#include <stddef.h>
#include <stdint.h>

#include "core/common.h"
#include "core/csr.h"
#include "core/err.h"
#include "core/topk.h"

typedef enum rs_pop_kind { RS_POP_COUNT, RS_POP_TRENDING } rs_pop_kind;

typedef struct rs_popularity {
    uint32_t n_items, n_categories;
    float *count;        /* n_items: distinct users per item */
    float *trend;        /* n_items: time-decayed score (see above) */
    uint32_t *order[2];  /* [kind]: n_items item indices, best first (ties: lower index) */
    /* [kind]: the same orders grouped by category: the items of category c
     * are by_cat[kind][cat_start[c] .. cat_start[c+1]), best first. Items
     * without a category are left out. */
    uint32_t *by_cat[2];
    uint32_t *cat_start; /* n_categories + 1 offsets */
    int64_t ref_ms;      /* the time trending is measured from */
    double half_life_ms;
} rs_popularity;

typedef struct rs_pop_opts {
    double half_life_ms;     /* > 0; 7 days when 0 */
    const int64_t *ts_ms;    /* ui.nnz entry times (NULL: trending = count) */
    int64_t ref_ms;          /* the "now" of trending; 0: the newest entry time */
    const uint32_t *item_category; /* n_items category ids or RS_INDEX_NONE; may be NULL */
    uint32_t n_categories;
} rs_pop_opts;

/* Fits the model from the user x item matrix. Errors: RS_EINVAL (bad half
 * life, a category id out of range), RS_ENOMEM. *out is zeroed on error. */
RS_MUST_USE rs_err rs_popularity_fit(const rs_csr *ui, const rs_pop_opts *o, rs_popularity *out,
                                     rs_diag *diag);

/* Frees the arrays; accepts a zeroed struct. */
void rs_popularity_destroy(rs_popularity *p);

/* A query: the best k items of a ranking, optionally within one category,
 * never an excluded item (exclude: ascending item indices, e.g. the user's
 * seen items) nor a hidden one (hidden: n_items flags, may be NULL). */
typedef struct rs_pop_query {
    rs_pop_kind kind;
    uint32_t category;          /* RS_INDEX_NONE for all items */
    const uint32_t *exclude;
    size_t n_exclude;
    const uint8_t *hidden;
    size_t k;
} rs_pop_query;

/* Writes up to q->k items best first into out and returns how many. The
 * score is the count or the trending score. An unknown category gives 0. */
size_t rs_popularity_top(const rs_popularity *p, const rs_pop_query *q, rs_scored *out);

/* The recommender interface of eval/evaluate.h: global counts, the user's
 * items excluded. Needs no scratch. */
RS_MUST_USE rs_err rs_popularity_recommend(const void *model, uint32_t user,
                                           const uint32_t *exclude, size_t n_exclude, size_t k,
                                           rs_scored *out, size_t *n, void *scratch);

/* True when item is in the ascending array a[0..n) (binary search). */
int rs_sorted_contains(const uint32_t *a, size_t n, uint32_t item);

#endif
