/* Diversifying a ranked list by maximal marginal relevance (Carbonell and
 * Goldstein 1998): from a pool of candidates, best first, pick one at a
 * time the candidate that maximises
 *
 *     (1 - lambda) rel(i) - lambda max_{j picked} sim(i, j)
 *
 * where rel is the candidate's score scaled to [0, 1] over the pool and
 * sim(i, j) = 1/2 [same category] + 1/2 max(0, cos(v_i, v_j)) mixes the
 * catalogue's categories with the model's factor similarity. lambda = 0
 * keeps the ranking; lambda = 1 ignores the scores after the first pick.
 * Pure and thread-safe. */
#ifndef RS_MODELS_RERANK_H
#define RS_MODELS_RERANK_H

#include <stddef.h>
#include <stdint.h>

#include "core/topk.h"

/* The pool to draw k from when diversifying: a few times k, so that there
 * is something to trade relevance for. */
static inline size_t rs_mmr_pool(size_t k)
{
    return k * 5 < 50 ? 50 : k * 5;
}

/* The candidates' data: vec and category are aligned with the pool as
 * given and stay so; only the pool is reordered. */
typedef struct rs_mmr_input {
    rs_scored *pool;          /* n candidates, best first; reordered */
    size_t n;
    const float *const *vec;  /* n factor vectors (NULL entries: no factor
                               * similarity) */
    uint32_t factors;
    const uint32_t *category; /* n categories; RS_INDEX_NONE matches nothing */
} rs_mmr_input;

/* Reorders in->pool so that its first min(k, n) entries are the
 * diversified list, in pick order (scores unchanged); returns that count.
 * scratch: rs_mmr_scratch_bytes(n) bytes. */
size_t rs_mmr_rerank(rs_mmr_input *in, float lambda, size_t k, void *scratch);
size_t rs_mmr_scratch_bytes(size_t n);

#endif
