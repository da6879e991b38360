/* Similar items from learned item factors: the cosine between item
 * vectors, precomputed at training time as each item's top neighbours so
 * that a /v1/similar query is a table lookup. The all-pairs cosine runs as
 * blocked matrix products (sgemm on unit-normalised factors) with OpenMP
 * across blocks and a top-k heap per item. */
#ifndef RS_MODELS_SIMILAR_H
#define RS_MODELS_SIMILAR_H

#include <stddef.h>
#include <stdint.h>

#include "core/common.h"
#include "core/csr.h"
#include "core/err.h"
#include "core/topk.h"

#define RS_SIMILAR_DEFAULT_NEIGHBOURS 50

typedef struct rs_similar_opts {
    uint32_t neighbours;  /* per item; 50 when 0 */
    int threads;          /* 0: the OpenMP default */
} rs_similar_opts;

/* Fills *out (n_items rows) with each item's most similar other items, best
 * first within a row (so column indices are NOT ascending: this CSR is a
 * list of ranked neighbour lists), values the cosine. Items whose factors
 * are all zero (never seen in training) get no neighbours and are nobody's
 * neighbour. factors: n_items x k row-major.
 * Errors: RS_EINVAL (k = 0), RS_ENOMEM. *out is zeroed on error. */
RS_MUST_USE rs_err rs_similar_fit(const float *factors, uint32_t n_items, uint32_t k,
                                  const rs_similar_opts *o, rs_csr *out, rs_diag *diag);

/* The neighbour list of item (borrowed from sim), with its length in *n.
 * An item out of range has none. */
const uint32_t *rs_similar_get(const rs_csr *sim, uint32_t item, const float **scores, size_t *n);

#endif
