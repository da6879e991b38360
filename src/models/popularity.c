/* Fitting and querying the popularity model (see popularity.h). */
#include "popularity.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/idmap.h"

#define DEFAULT_HALF_LIFE_MS (7.0 * 86400.0 * 1000.0)

int rs_sorted_contains(const uint32_t *a, size_t n, uint32_t item)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (a[mid] < item)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && a[lo] == item;
}

/* Sorting item indices by a score, best first, ties by lower index. The
 * scores travel with the indices so that the comparison needs no context. */
typedef struct ranked {
    float score;
    uint32_t item;
} ranked;

static int by_score_desc(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    return (x->item > y->item) - (x->item < y->item);
}

/* order[0..n) = items sorted by score[]; tmp has n slots. */
static void rank_items(const float *score, uint32_t n, ranked *tmp, uint32_t *order)
{
    for (uint32_t i = 0; i < n; i++)
        tmp[i] = (ranked){score[i], i};
    qsort(tmp, n, sizeof *tmp, by_score_desc);
    for (uint32_t i = 0; i < n; i++)
        order[i] = tmp[i].item;
}

/* Groups order[] by category into by_cat[], keeping the order within each
 * category (a stable counting sort on cat_start offsets). */
static void group_by_category(const uint32_t *order, uint32_t n, const uint32_t *cat,
                              const uint32_t *cat_start, uint32_t n_cats, uint32_t *fill,
                              uint32_t *by_cat)
{
    memcpy(fill, cat_start, n_cats * sizeof *fill);
    for (uint32_t r = 0; r < n; r++) {
        uint32_t c = cat[order[r]];
        if (c != RS_INDEX_NONE)
            by_cat[fill[c]++] = order[r];
    }
}

rs_err rs_popularity_fit(const rs_csr *ui, const rs_pop_opts *o, rs_popularity *out,
                         rs_diag *diag)
{
    memset(out, 0, sizeof *out);
    double half_life = o->half_life_ms > 0 ? o->half_life_ms : DEFAULT_HALF_LIFE_MS;
    if (!isfinite(o->half_life_ms) || o->half_life_ms < 0)
        return rs_diag_fail(diag, RS_EINVAL, "the trending half-life must be positive");
    const uint32_t n = ui->n_cols, nc = o->item_category ? o->n_categories : 0;
    for (uint32_t i = 0; o->item_category && i < n; i++)
        if (o->item_category[i] != RS_INDEX_NONE && o->item_category[i] >= nc)
            return rs_diag_fail(diag, RS_EINVAL, "item %u has category %u of only %u", i,
                                o->item_category[i], nc);

    int64_t ref = o->ref_ms;
    if (!ref && o->ts_ms)
        for (size_t j = 0; j < ui->nnz; j++)
            ref = o->ts_ms[j] > ref ? o->ts_ms[j] : ref;

    rs_popularity *p = out;
    p->n_items = n;
    p->n_categories = nc;
    p->ref_ms = ref;
    p->half_life_ms = half_life;
    p->count = rs_try_calloc(n ? n : 1, sizeof *p->count);
    p->trend = rs_try_calloc(n ? n : 1, sizeof *p->trend);
    p->cat_start = rs_try_calloc((size_t)nc + 1, sizeof *p->cat_start);
    ranked *tmp = rs_try_calloc(n ? n : 1, sizeof *tmp);
    uint32_t *fill = rs_try_calloc(nc ? nc : 1, sizeof *fill);
    for (int k = 0; k < 2; k++) {
        p->order[k] = rs_try_calloc(n ? n : 1, sizeof(uint32_t));
        p->by_cat[k] = rs_try_calloc(n ? n : 1, sizeof(uint32_t));
    }
    if (!p->count || !p->trend || !p->cat_start || !tmp || !fill || !p->order[0] ||
        !p->order[1] || !p->by_cat[0] || !p->by_cat[1]) {
        rs_free(tmp);
        rs_free(fill);
        rs_popularity_destroy(p);
        return rs_diag_fail(diag, RS_ENOMEM, "out of memory for the popularity of %u items", n);
    }

    /* Sums in double per item would need n doubles more; float counts are
     * exact up to 2^24 users per item and trending is approximate anyway. */
    const double rate = -M_LN2 / half_life;
    for (size_t j = 0; j < ui->nnz; j++) {
        uint32_t i = ui->indices[j];
        p->count[i] += 1.0f;
        double age = o->ts_ms ? (double)(ref - o->ts_ms[j]) : 0.0;
        p->trend[i] += (float)exp(rate * (age > 0 ? age : 0));
    }
    for (uint32_t i = 0; i < n; i++)
        if (o->item_category && o->item_category[i] != RS_INDEX_NONE)
            p->cat_start[o->item_category[i] + 1]++;
    for (uint32_t c = 0; c < nc; c++)
        p->cat_start[c + 1] += p->cat_start[c];

    const float *scores[2] = {p->count, p->trend};
    for (int k = 0; k < 2; k++) {
        rank_items(scores[k], n, tmp, p->order[k]);
        if (nc)
            group_by_category(p->order[k], n, o->item_category, p->cat_start, nc, fill,
                              p->by_cat[k]);
    }
    rs_free(tmp);
    rs_free(fill);
    return RS_OK;
}

void rs_popularity_destroy(rs_popularity *p)
{
    rs_free(p->count);
    rs_free(p->trend);
    for (int k = 0; k < 2; k++) {
        rs_free(p->order[k]);
        rs_free(p->by_cat[k]);
    }
    rs_free(p->cat_start);
    memset(p, 0, sizeof *p);
}

size_t rs_popularity_top(const rs_popularity *p, const rs_pop_query *q, rs_scored *out)
{
    const int kind = q->kind == RS_POP_TRENDING;
    const uint32_t *list = p->order[kind];
    size_t len = p->n_items;
    if (q->category != RS_INDEX_NONE) {
        if (q->category >= p->n_categories)
            return 0;
        list = p->by_cat[kind] + p->cat_start[q->category];
        len = p->cat_start[q->category + 1] - p->cat_start[q->category];
    }
    const float *score = kind ? p->trend : p->count;
    size_t n = 0;
    for (size_t r = 0; r < len && n < q->k; r++) {
        uint32_t i = list[r];
        if ((q->hidden && q->hidden[i]) || rs_sorted_contains(q->exclude, q->n_exclude, i))
            continue;
        out[n++] = (rs_scored){i, score[i]};
    }
    return n;
}

rs_err rs_popularity_recommend(const void *model, uint32_t user, const uint32_t *exclude,
                               size_t n_exclude, size_t k, rs_scored *out, size_t *n,
                               void *scratch)
{
    (void)user;
    (void)scratch;
    rs_pop_query q = {.kind = RS_POP_COUNT, .category = RS_INDEX_NONE, .exclude = exclude,
                      .n_exclude = n_exclude, .k = k};
    *n = rs_popularity_top(model, &q, out);
    return RS_OK;
}
