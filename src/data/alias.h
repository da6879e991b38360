/* Walker's alias method: after O(n) set-up, draws an index from a fixed
 * discrete distribution in O(1) with one 64-bit random number. The data
 * generator uses it to pick items by popularity; models can reuse it for
 * popularity-weighted negative sampling. Tables are built with Vose's
 * numerically stable variant (M. D. Vose 1991, "A linear algorithm for
 * generating random numbers with a given distribution"). */
#ifndef RS_DATA_ALIAS_H
#define RS_DATA_ALIAS_H

#include <stdint.h>

#include "core/common.h"
#include "core/err.h"
#include "core/rng.h"

typedef struct rs_alias {
    uint32_t n;        /* outcomes; >= 1 once initialised */
    uint32_t *accept;  /* n thresholds: keep column i when the low 32 random
                        * bits are below accept[i]; owned */
    uint32_t *alias;   /* n alternatives taken otherwise; owned */
} rs_alias;

/* Builds the table for weights w[0..n) (borrowed; need not sum to 1).
 * Errors: RS_EINVAL when n is 0, a weight is negative or not finite, or all
 * are 0; RS_ENOMEM (sized by n). On error *a is left empty (safe to
 * destroy). Outcomes of weight 0 are never drawn. */
RS_MUST_USE rs_err rs_alias_init(rs_alias *a, const double *w, uint32_t n);

/* Frees the table; accepts a zeroed or destroyed struct. */
void rs_alias_destroy(rs_alias *a);

/* Draws an index in [0, n). The column comes from the high 32 bits by a
 * multiply-shift (bias below n / 2^32) and the coin from the low 32 bits, so
 * one call of the generator is enough. Thread-safe for distinct rngs. */
static inline uint32_t rs_alias_sample(const rs_alias *a, rs_rng *r)
{
    uint64_t x = rs_rng_u64(r);
    uint32_t i = (uint32_t)(((x >> 32) * a->n) >> 32);
    return (uint32_t)x < a->accept[i] ? i : a->alias[i];
}

#endif
