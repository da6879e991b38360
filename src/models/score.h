/* Fused scoring for serving: the k items with the highest dot product
 * with a factor vector, read straight from the item factors in one pass
 * (no score array), with a filter consulted only for the few items good
 * enough to enter the top k (seen, excluded, hidden or off-category items
 * are rare among those, so checking them there is cheap). Two ways in:
 * rs_score_topk_blocked over fp32 factors, and rs_score_topk_index over a
 * prepared index that scans a compact int8 copy and returns the very same
 * answer. */
#ifndef RS_MODELS_SCORE_H
#define RS_MODELS_SCORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/common.h"
#include "core/err.h"
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
 * returns how many. Same order and ties as rs_topk. Each score is summed
 * over the factors in order, one multiply-add per factor (fused where the
 * CPU has FMA). For 20,000 items of 64 factors here: 81 us, against 107
 * us for row-major factors scored four at a time; a bfloat16 copy, half
 * the bytes, measured 99 us (the widening cost more than the bytes
 * saved). rs_score_topk_index is faster where the CPU allows. */
size_t rs_score_topk_blocked(const float *Yt, uint32_t n_items, uint32_t factors,
                             const float *x, size_t k, rs_item_filter keep, void *ctx,
                             rs_scored *out);

/* A prepared index over the item factors for rs_score_topk_index. On a CPU
 * with AVX-512 VNNI it holds a compact copy: per item a scale s_i =
 * max_f |Y[i][f]| / 127 and bytes Y[i][f] / s_i rounded (offset by 128), in
 * blocks of 16 items, 1/4 of the fp32 bytes plus 4 bytes an item (for
 * 64 factors, 1.36 MB against 5.12 MB at 20,000 items). Elsewhere it holds
 * nothing of its own and queries use rs_score_topk_blocked. */
typedef struct rs_item_index rs_item_index;

/* Builds the index for n_items items of `factors` factors: Y row-major
 * (n_items, factors) and Yt its blocked copy (rs_block_factors), both
 * borrowed, unchanged, and read by every query: they must outlive the
 * index. Takes one pass over Y (about 10 ms for 20,000 x 64). Returns
 * RS_ENOMEM, with *out untouched, when the compact copy cannot be
 * allocated. Items whose factors are not finite, or whose largest factor
 * is outside [2^-50, 2^50] (zero is fine), are not quantised: every query
 * scores them exactly. */
RS_MUST_USE rs_err rs_item_index_new(const float *Y, const float *Yt, uint32_t n_items,
                                     uint32_t factors, rs_item_index **out);

/* Frees the index (not the factors it borrows); accepts NULL. */
void rs_item_index_free(rs_item_index *ix);

/* True when queries scan the compact copy (the CPU has AVX-512 VNNI and
 * 1 <= factors <= RS_SCORE_INDEX_MAX_FACTORS), false when they fall back
 * to rs_score_topk_blocked. */
bool rs_item_index_compact(const rs_item_index *ix);

/* Above this many factors the int32 sums could lose exactness in float:
 * the index keeps no compact copy. */
#define RS_SCORE_INDEX_MAX_FACTORS 1024

/* What one rs_score_topk_index query did, for tests and benchmarks. */
typedef struct rs_score_stats {
    bool compact;          /* the compact copy was scanned */
    size_t rescored;       /* items scored exactly from Y (all, in effect, on fallback) */
} rs_score_stats;

/* Exactly rs_score_topk_blocked(Yt, n_items, factors, x, k, keep, ctx, out)
 * for the index's factors: the same items in the same order with
 * bit-identical scores, and keep consulted for the same items in the same
 * order. stats may be NULL. Thread-safe: the index is only read.
 *
 * How, on the compact path: x is quantised per query to int8 with scale
 * t = max|x| / 127, and a whole block's 16 approximate scores
 * s_i * t * sum_f qx_f q_if come from one VNNI multiply-add per 4 factors.
 * Each approximation gets a rigorous upper bound U_i >= the fp32 score:
 * |x . e_i| <= |x|_1 * s_i / 2 for the item's rounding e_i, |d . y^_i| <=
 * |d|_1 * 127 s_i for the query's rounding d, plus the fp32 rounding of the
 * exact sum and of U itself (relative 2 (factors + 32) 2^-24). Only the
 * items with U_i >= the current k-th exact score are scored exactly, from
 * Y in fp32 with rs_score_topk_blocked's arithmetic, and offered in item
 * order exactly as it offers them; the others provably cannot enter. So
 * the answer never depends on the quantisation; only the time does: on
 * random 64-factor data a query rescores about 1% of the items, on data
 * full of near-ties (scores closer than the bound, about 2% of |x|_1 * max
 * |Y[i]| at 64 factors) it can rescore them all and be slower than
 * rs_score_topk_blocked. x that is not finite, all zero, or with max |x|
 * outside [2^-50, 2^50] falls back to rs_score_topk_blocked. */
size_t rs_score_topk_index(const rs_item_index *ix, const float *x, size_t k,
                           rs_item_filter keep, void *ctx, rs_scored *out,
                           rs_score_stats *stats);

#endif
