/* Top-k selection: keep the k highest-scoring (index, score) pairs out of a
 * stream, with a min-heap of size k. Pushing a candidate that cannot enter
 * costs one comparison, so scoring loops stay tight. Ties are broken by the
 * lower index, which makes results deterministic. NaN scores never enter.
 * The heap storage is caller-provided (no allocation). */
#ifndef RS_CORE_TOPK_H
#define RS_CORE_TOPK_H

#include <stddef.h>
#include <stdint.h>

typedef struct rs_scored {
    uint32_t index;
    float score;
} rs_scored;

typedef struct rs_topk {
    rs_scored *heap;  /* caller-owned storage of at least k entries */
    size_t k, n;      /* capacity and entries held */
} rs_topk;

/* Starts a selection of at most k entries in `storage` (k >= 1 slots). */
void rs_topk_init(rs_topk *t, rs_scored *storage, size_t k);

/* True when (index, score) ranks above (other_index, other_score). */
static inline int rs_scored_better(float score, uint32_t index, float other_score,
                                   uint32_t other_index)
{
    return score > other_score || (score == other_score && index < other_index);
}

void rs_topk_push_slow(rs_topk *t, uint32_t index, float score);

/* Offers a candidate. */
static inline void rs_topk_push(rs_topk *t, uint32_t index, float score)
{
    if (t->n == t->k && !rs_scored_better(score, index, t->heap[0].score, t->heap[0].index))
        return;
    if (score != score) /* NaN */
        return;
    rs_topk_push_slow(t, index, score);
}

/* The smallest score held when full (candidates at or below it with a
 * higher index cannot enter), or -INFINITY when not full. */
float rs_topk_threshold(const rs_topk *t);

/* Sorts the held entries best first in the storage and returns how many
 * there are. The selection is finished: push no more. */
size_t rs_topk_finish(rs_topk *t);

/* Convenience: the top k of scores[0..n) into out (k slots), best first;
 * returns the count. */
size_t rs_topk_select(const float *scores, size_t n, size_t k, rs_scored *out);

#endif
