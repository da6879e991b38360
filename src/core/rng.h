/* A seeded, fast pseudo-random generator: xoshiro256** (Blackman and Vigna
 * 2018), seeded through splitmix64 so that any 64-bit seed, 0 included,
 * gives a good state. Deterministic across platforms for a seed. Each
 * thread uses its own rs_rng (split streams with rs_rng_init_stream). */
#ifndef RS_CORE_RNG_H
#define RS_CORE_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct rs_rng {
    uint64_t s[4];
} rs_rng;

void rs_rng_init(rs_rng *r, uint64_t seed);
/* An independent stream for (seed, stream): for per-thread or per-user
 * generators that must not depend on scheduling. */
void rs_rng_init_stream(rs_rng *r, uint64_t seed, uint64_t stream);

uint64_t rs_rng_u64(rs_rng *r);
/* Uniform in [0, n) without modulo bias (Lemire's method); n >= 1. */
uint32_t rs_rng_below(rs_rng *r, uint32_t n);
/* Uniform double in [0, 1) with 53 random bits. */
double rs_rng_uniform(rs_rng *r);
/* Standard normal (Marsaglia's polar method; no cached second value, so
 * the state alone determines the sequence). */
double rs_rng_normal(rs_rng *r);
/* Gamma with the given shape (> 0) and rate 1 (Marsaglia and Tsang's
 * method; shapes below 1 by the usual boost U^(1/shape)). Divide by a rate
 * to get other rates. */
double rs_rng_gamma(rs_rng *r, double shape);
/* Fisher-Yates shuffle. */
void rs_rng_shuffle_u32(rs_rng *r, uint32_t *a, size_t n);

#endif
