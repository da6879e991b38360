/* Private to the scoring files (score.c, score_index.c): how a block of
 * scores is offered to the top-k selection, and the exact per-item scoring
 * that both use, so that the compact index returns what the fp32 kernel
 * returns, bit for bit. */
#ifndef RS_MODELS_SCORE_IMPL_H
#define RS_MODELS_SCORE_IMPL_H

#include <math.h>

#include "models/score.h"

/* The score a block's items are compared with before they are offered:
 * the k-th best held, or -INFINITY while fewer than k are held. */
static inline float rs__score_threshold(const rs_topk *t)
{
    return t->n == t->k ? t->heap[0].score : -INFINITY;
}

/* Offers (item, score) to t; keep (may be NULL) is asked only when the
 * item would enter. */
static inline void rs__score_offer(rs_topk *t, uint32_t item, float score, rs_item_filter keep,
                                   void *ctx)
{
    if (t->n == t->k && !rs_scored_better(score, item, t->heap[0].score, t->heap[0].index))
        return;
    if (keep && !keep(ctx, item))
        return;
    rs_topk_push(t, item, score);
}

/* out[j] = x . Y[items[j]] for j < n, with Y row-major (., factors): each
 * summed over f in order, one multiply-add per factor, compiled as
 * rs_score_topk_blocked's kernel is (fused where it is), so each equals
 * the kernel's lane for that item bit for bit. */
void rs__score_rows(const float *Y, uint32_t factors, const float *x, const uint32_t *items,
                    size_t n, float *out);

#endif
