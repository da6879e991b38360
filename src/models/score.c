/* Exact fp32 scoring and top-k selection (see score.h), in 16-float
 * vectors (models/vec.h) compiled for AVX-512, AVX2 and the baseline: in
 * the blocked layout sixteen items' scores accumulate lane by lane. Also
 * the per-item exact scoring the compact index (score_index.c) rescores
 * its candidates with, built here so that it is compiled exactly as the
 * kernel is (same clones, same -ffp-contract). */
#include "models/score.h"

#include <math.h>
#include <stdbool.h>

#include "models/score_impl.h"
#include "models/vec.h"

size_t rs_blocked_floats(uint32_t n_items, uint32_t factors)
{
    return (((size_t)n_items + 15) / 16) * 16 * factors;
}

void rs_block_factors(const float *Y, uint32_t n_items, uint32_t factors, float *out)
{
    const size_t blocks = ((size_t)n_items + 15) / 16;
    for (size_t b = 0; b < blocks; b++)
        for (uint32_t f = 0; f < factors; f++)
            for (size_t q = 0; q < 16; q++) {
                const size_t i = b * 16 + q;
                out[(b * factors + f) * 16 + q] = i < n_items ? Y[i * factors + f] : 0.0f;
            }
}

/* Offers the lanes of a block's scores that can enter: one vector compare
 * against the heap's threshold, then the few lanes that pass. */
RS_VEC_INLINE void offer_block(rs_topk *t, rs_v16 sc, uint32_t first, uint32_t n_items,
                               rs_item_filter keep, void *ctx)
{
    const float thr = rs__score_threshold(t);
    const rs_v16i pass = sc >= rs_v16_splat(thr);
    bool any = false;
    for (int q = 0; q < 16; q++)
        any |= pass[q] != 0;
    if (!any)
        return;
    for (uint32_t q = 0; q < 16 && first + q < n_items; q++)
        if (pass[q])
            rs__score_offer(t, first + q, sc[q], keep, ctx);
}

/* Scores every block of Yt (blocked, see score.h) with x, offering each
 * block to t in item order. Each lane sums x[f] * Yt[..f..] for f = 0, 1,
 * ... in turn from zero, which rs__score_rows repeats for single items. */
RS_VEC_HOT static void scan_blocked(const float *Yt, uint32_t n_items, uint32_t factors,
                                    const float *x, rs_topk *t, rs_item_filter keep, void *ctx)
{
    const size_t blocks = ((size_t)n_items + 15) / 16, stride = (size_t)factors * 16;
    size_t b = 0;
    /* Four blocks (64 items) at a time: four independent FMA chains. */
    for (; b + 4 <= blocks; b += 4) {
        const float *p = Yt + b * stride;
        rs_v16 a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};
        for (uint32_t f = 0; f < factors; f++) {
            const rs_v16 xf = rs_v16_splat(x[f]);
            a0 += xf * rs_v16_load(p + (size_t)f * 16);
            a1 += xf * rs_v16_load(p + stride + (size_t)f * 16);
            a2 += xf * rs_v16_load(p + 2 * stride + (size_t)f * 16);
            a3 += xf * rs_v16_load(p + 3 * stride + (size_t)f * 16);
        }
        offer_block(t, a0, (uint32_t)(b * 16), n_items, keep, ctx);
        offer_block(t, a1, (uint32_t)((b + 1) * 16), n_items, keep, ctx);
        offer_block(t, a2, (uint32_t)((b + 2) * 16), n_items, keep, ctx);
        offer_block(t, a3, (uint32_t)((b + 3) * 16), n_items, keep, ctx);
    }
    for (; b < blocks; b++) {
        const float *p = Yt + b * stride;
        rs_v16 a = {0};
        for (uint32_t f = 0; f < factors; f++)
            a += rs_v16_splat(x[f]) * rs_v16_load(p + (size_t)f * 16);
        offer_block(t, a, (uint32_t)(b * 16), n_items, keep, ctx);
    }
}

size_t rs_score_topk_blocked(const float *Yt, uint32_t n_items, uint32_t factors,
                             const float *x, size_t k, rs_item_filter keep, void *ctx,
                             rs_scored *out)
{
    if (k == 0)
        return 0;
    rs_topk t;
    rs_topk_init(&t, out, k);
    scan_blocked(Yt, n_items, factors, x, &t, keep, ctx);
    return rs_topk_finish(&t);
}

/* Eight items at a time: eight independent sums, enough to keep the
 * multiply-add units busy while each waits on its previous step; each sum
 * is the kernel's lane, term by term (see score_impl.h). The compiler does
 * not reorder a float sum, so vectorising across the eight (as it may)
 * keeps every lane's order. */
#define ROWS 8
RS_VEC_HOT void rs__score_rows(const float *Y, uint32_t factors, const float *x,
                               const uint32_t *items, size_t n, float *out)
{
    for (size_t j = 0; j < n; j += ROWS) {
        const size_t m = n - j < ROWS ? n - j : ROWS;
        const float *y[ROWS];
        for (size_t q = 0; q < ROWS; q++) /* past the end: the last item again */
            y[q] = Y + (size_t)items[j + (q < m ? q : m - 1)] * factors;
        float s[ROWS] = {0};
        for (uint32_t f = 0; f < factors; f++)
            for (size_t q = 0; q < ROWS; q++)
                s[q] += x[f] * y[q][f];
        for (size_t q = 0; q < m; q++)
            out[j + q] = s[q];
    }
}
