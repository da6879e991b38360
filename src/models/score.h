/* Fused scoring for serving: the k items with the highest dot product
 * with a factor vector, read straight from the item factors in one pass
 * (no score array), with a filter consulted only for the few items good
 * enough to enter the top k (seen, excluded, hidden or off-category items
 * are rare among those, so checking them there is cheap). */
#ifndef RS_MODELS_SCORE_H
#define RS_MODELS_SCORE_H

#include <stddef.h>
#include <stdint.h>

#include "core/topk.h"

/* Returns non-zero when item may be recommended. */
typedef int (*rs_item_filter)(void *ctx, uint32_t item);

/* The item factors in blocks of 16 items, factor-major within a block
 * (out[(b * factors + f) * 16 + q] = Y[b * 16 + q][f], zero past the last
 * item), so that sixteen scores accumulate in one vector with no
 * horizontal sums. rs_blocked_floats says how many floats out needs. */
size_t rs_blocked_floats(uint32_t n_items, uint32_t factors);
void rs_block_factors(const float *Y, uint32_t n_items, uint32_t factors, float *out);

/* The best k of x . Y[i] over the blocked copy Yt of the item factors
 * for which keep (may be NULL) agrees, into out (k slots) best first;
 * returns how many. Same order and ties as rs_topk. For 20,000 items of
 * 64 factors here: 81 us, against 107 us for row-major factors scored
 * four at a time; a bfloat16 copy, half the bytes, measured 99 us (the
 * widening cost more than the bytes saved). */
size_t rs_score_topk_blocked(const float *Yt, uint32_t n_items, uint32_t factors,
                             const float *x, size_t k, rs_item_filter keep, void *ctx,
                             rs_scored *out);

#endif
