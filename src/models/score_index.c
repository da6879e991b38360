/* The compact item index of score.h: an int8 copy of the item factors,
 * scanned with AVX-512 VNNI for the few items that might enter the top k;
 * those are scored exactly (rs__score_rows, score.c) and offered just as
 * rs_score_topk_blocked offers them, so the answer is the fp32 kernel's.
 * The copy is built only where the CPU has VNNI (checked at run time, so
 * one binary runs on any x86-64); elsewhere queries use the fp32 kernel.
 * The bound that makes skipping safe is derived at query_bound. */
#include "models/score.h"

#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "models/score_impl.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HAVE_VNNI_KERNEL 1
/* The instruction sets the compact scan is compiled for (no build flags:
 * the attribute is per function, and it runs only after cpu_has_vnni). */
#define VNNI_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))
#define VNNI_INLINE static inline __attribute__((always_inline)) VNNI_TARGET
#else
#define HAVE_VNNI_KERNEL 0
#endif

/* Items per block: one 512-bit vector of int32 or float lanes. */
#define LANES 16
/* Bytes of a block per group of 4 factors: 4 bytes for each of 16 items. */
#define GROUP_BYTES 64
/* The quantisation rounding, as a fraction of the scale: 1/2, plus room
 * for the float division (checked for every factor at build time). */
#define HALF_STEP (0.5 + 0x1p-12)
/* Largest factors are quantised only in [MIN_ABS, MAX_ABS] (also the
 * range of max |x| the compact path accepts): products and sums then stay
 * far from float overflow and underflow, which the bound does not model. */
#define MIN_ABS 0x1p-50f
#define MAX_ABS 0x1p50f

struct rs_item_index {
    const float *Y;       /* borrowed: (n_items, factors) row-major */
    const float *Yt;      /* borrowed: the same, blocked (rs_block_factors) */
    uint32_t n_items, factors;
    uint32_t groups;      /* ceil(factors / 4) */
    size_t block_bytes;   /* GROUP_BYTES * groups bytes, then LANES float scales */
    /* The compact copy, 64-byte aligned inside raw (which owns it), or
     * NULL when queries use the fp32 kernel. Block b holds items 16b..:
     * byte GROUP_BYTES * g + 4 * q + j is 128 + round(Y[16b + q][4g + j] /
     * s), 128 (that is 0) past the last factor or item; then float s[q]:
     * the item's scale, 0 for an all-zero item or one past the last, and
     * +INFINITY for one that is not quantised (always rescored). */
    uint8_t *blocks;
    void *raw;
};

/* A query vector quantised for the compact scan: x[f] ~ t * qx[f] with
 * qx[f] in [-127, 127]. An item's upper bound is U_i = s_i * (t * dot_i +
 * c), dot_i = sum_f qx[f] * q_if = the VNNI sum minus offset. */
typedef struct query {
    uint32_t xq[RS_SCORE_INDEX_MAX_FACTORS / 4];  /* qx, 4 int8 per group */
    int32_t offset;                               /* 128 * sum_f qx[f] */
    float t, c;
} query;

static bool cpu_has_vnni(void)
{
#if HAVE_VNNI_KERNEL
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni");
#else
    return false;
#endif
}

/* Quantises item y (factors floats) into lane q of block: returns its
 * scale s = max |y| / 127, with |y[f] - s * byte'[f]| <= HALF_STEP * s;
 * 0 for an all-zero item, +INFINITY (bytes left at 0) for one that is not
 * finite or whose largest factor is outside [MIN_ABS, MAX_ABS]. */
static float quantise_item(const float *y, uint32_t factors, uint8_t *block, unsigned q)
{
    float m = 0.0f;
    bool finite = true;
    for (uint32_t f = 0; f < factors; f++) {
        finite = finite && isfinite(y[f]);
        m = fmaxf(m, fabsf(y[f]));
    }
    if (finite && m == 0.0f)
        return 0.0f;
    if (!finite || m < MIN_ABS || m > MAX_ABS)
        return INFINITY;
    const float s = m / 127.0f;
    for (uint32_t f = 0; f < factors; f++) {
        double r = nearbyint((double)y[f] / s); /* |r| <= 127, up to the division's rounding */
        r = fmin(fmax(r, -127.0), 127.0);
        RS_ASSERT(fabs((double)y[f] - (double)s * r) <= HALF_STEP * s);
        block[GROUP_BYTES * (f / 4) + 4 * q + f % 4] = (uint8_t)(128 + (int)r);
    }
    return s;
}

/* Fills the compact copy from Y: 128 everywhere (0 after the offset),
 * then each item's bytes and scale. */
static void build_blocks(rs_item_index *ix)
{
    const size_t n_blocks = ((size_t)ix->n_items + LANES - 1) / LANES;
    const size_t scales = (size_t)GROUP_BYTES * ix->groups;
    for (size_t b = 0; b < n_blocks; b++) {
        uint8_t *block = ix->blocks + b * ix->block_bytes;
        memset(block, 128, scales);
        memset(block + scales, 0, LANES * sizeof(float));
    }
    for (uint32_t i = 0; i < ix->n_items; i++) {
        uint8_t *block = ix->blocks + (size_t)(i / LANES) * ix->block_bytes;
        const float s = quantise_item(ix->Y + (size_t)i * ix->factors, ix->factors, block,
                                      i % LANES);
        memcpy(block + scales + (i % LANES) * sizeof(float), &s, sizeof s);
    }
}

rs_err rs_item_index_new(const float *Y, const float *Yt, uint32_t n_items, uint32_t factors,
                         rs_item_index **out)
{
    rs_item_index *ix = rs_xmalloc(sizeof *ix);
    *ix = (rs_item_index){.Y = Y, .Yt = Yt, .n_items = n_items, .factors = factors,
                          .groups = (factors + 3) / 4};
    ix->block_bytes = (size_t)GROUP_BYTES * ix->groups + LANES * sizeof(float);
    if (n_items > 0 && factors >= 1 && factors <= RS_SCORE_INDEX_MAX_FACTORS &&
        cpu_has_vnni()) {
        const size_t n_blocks = ((size_t)n_items + LANES - 1) / LANES;
        ix->raw = rs_try_malloc(n_blocks * ix->block_bytes + 63);
        if (!ix->raw) {
            rs_free(ix);
            return RS_ENOMEM;
        }
        ix->blocks = (uint8_t *)(((uintptr_t)ix->raw + 63) & ~(uintptr_t)63);
        build_blocks(ix);
    }
    *out = ix;
    return RS_OK;
}

void rs_item_index_free(rs_item_index *ix)
{
    if (!ix)
        return;
    rs_free(ix->raw);
    rs_free(ix);
}

bool rs_item_index_compact(const rs_item_index *ix)
{
    return ix->blocks != NULL;
}

/* Quantises x for the compact scan and sets c so that U_i >= the fp32
 * score of every quantised item i. Returns false when x is not finite or
 * max |x| is outside [MIN_ABS, MAX_ABS] (all zero included): the caller
 * then uses the fp32 kernel.
 *
 * The bound. Write y = Y[i], y^ = s q (its quantised value, e = y - y^,
 * |e_f| <= HALF_STEP s), x^ = t qx (d = x - x^, d_f computed here). Then,
 * in real arithmetic, x . y = x^ . y^ + x . e + d . y^, with x^ . y^ = s t
 * dot exactly, |x . e| <= |x|_1 HALF_STEP s and |d . y^| <= |d|_1 127 s.
 * The fp32 score (factors multiply-adds) is within (factors + 1) 2^-24
 * sum_f |x_f y_f| <= (factors + 1) 2^-24 |x|_1 127 s of x . y, and U's own
 * two roundings cost at most 4.02 2^-24 127 s (|x|_1 + |d|_1); rho below
 * covers both twice over. dot is exact (|dot| <= 127^2 * factors < 2^24,
 * the sums in int32 far from overflow). */
static bool query_bound(const float *x, uint32_t factors, query *qu)
{
    float xmax = 0.0f;
    bool finite = true;
    for (uint32_t f = 0; f < factors; f++) {
        finite = finite && isfinite(x[f]);
        xmax = fmaxf(xmax, fabsf(x[f]));
    }
    if (!finite || xmax < MIN_ABS || xmax > MAX_ABS)
        return false;
    const float t = xmax / 127.0f;
    double x1 = 0.0, d1 = 0.0;
    int32_t sum = 0;
    memset(qu->xq, 0, (factors + 3) / 4 * sizeof qu->xq[0]);
    for (uint32_t f = 0; f < factors; f++) {
        double r = nearbyint((double)x[f] / t);
        r = fmin(fmax(r, -127.0), 127.0);
        const int8_t b = (int8_t)r;
        sum += b;
        x1 += fabs((double)x[f]);
        d1 += fabs((double)x[f] - (double)t * r);
        qu->xq[f / 4] |= (uint32_t)(uint8_t)b << (8 * (f % 4));
    }
    const double rho = (factors + 32.0) * 0x1p-23;
    const double c = x1 * HALF_STEP + 127.0 * d1 + 127.0 * rho * (x1 + d1);
    qu->offset = 128 * sum;
    qu->t = t;
    qu->c = (float)(c * (1.0 + 0x1p-20)); /* rounded up to float */
    return true;
}

#if HAVE_VNNI_KERNEL
/* The upper bounds U of a block's 16 items from their VNNI sums. */
VNNI_INLINE __m512 block_bound(__m512i acc, const uint8_t *block, const rs_item_index *ix,
                               const query *qu)
{
    const __m512 dot = _mm512_cvtepi32_ps(_mm512_sub_epi32(acc, _mm512_set1_epi32(qu->offset)));
    const __m512 v = _mm512_fmadd_ps(dot, _mm512_set1_ps(qu->t), _mm512_set1_ps(qu->c));
    return _mm512_mul_ps(v, _mm512_load_ps(block + (size_t)GROUP_BYTES * ix->groups));
}

/* Items whose bound reached the threshold, waiting to be scored exactly:
 * scoring them several at a time lets their sums run side by side. */
#define CANDIDATES_FLUSH 16
typedef struct candidates {
    uint32_t items[CANDIDATES_FLUSH + LANES];
    float exact[CANDIDATES_FLUSH + LANES];
    size_t n;
    size_t rescored;
} candidates;

/* Scores the waiting candidates exactly and offers them in item order, as
 * offer_block of score.c offers them. Waiting never loses an item the fp32
 * kernel would take: a candidate was checked against a threshold no higher
 * than the one the kernel would have held, and is offered only when its
 * score reaches the current one (the kernel compares with the threshold at
 * its block's start, but then rs__score_offer turns away whatever is below
 * the current one, so the same items reach keep in the same order). */
static void flush(const rs_item_index *ix, const float *x, candidates *c, rs_topk *t,
                  rs_item_filter keep, void *ctx)
{
    rs__score_rows(ix->Y, ix->factors, x, c->items, c->n, c->exact);
    for (size_t j = 0; j < c->n; j++) /* >=: a NaN score is never offered, as there */
        if (c->exact[j] >= rs__score_threshold(t))
            rs__score_offer(t, c->items[j], c->exact[j], keep, ctx);
    c->rescored += c->n;
    c->n = 0;
}

/* Queues the items of block b whose bound reaches the threshold; every
 * other item's score is below it, so the fp32 kernel would not take it
 * either. */
VNNI_INLINE void offer_bounds(const rs_item_index *ix, __m512 bound, size_t b, const float *x,
                              candidates *c, rs_topk *t, rs_item_filter keep, void *ctx)
{
    unsigned pass = _mm512_cmp_ps_mask(bound, _mm512_set1_ps(rs__score_threshold(t)),
                                       _CMP_GE_OQ);
    for (; pass; pass &= pass - 1) {
        const uint32_t i = (uint32_t)(b * LANES) + (uint32_t)__builtin_ctz(pass);
        if (i < ix->n_items)
            c->items[c->n++] = i;
    }
    if (c->n >= CANDIDATES_FLUSH)
        flush(ix, x, c, t, keep, ctx);
}

/* The compact scan: every block's VNNI sums (one vpdpbusd per group of 4
 * factors: 16 items' 4 unsigned item bytes times the query's 4 signed
 * bytes), four blocks at a time for four independent chains, then their
 * bounds offered in block order. */
VNNI_TARGET static size_t scan_compact(const rs_item_index *ix, const query *qu,
                                       const float *x, rs_topk *t, rs_item_filter keep,
                                       void *ctx)
{
    const size_t n_blocks = ((size_t)ix->n_items + LANES - 1) / LANES, bb = ix->block_bytes;
    candidates c;
    c.n = c.rescored = 0;
    size_t b = 0;
    for (; b + 4 <= n_blocks; b += 4) {
        const uint8_t *p = ix->blocks + b * bb;
        __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
        for (uint32_t g = 0; g < ix->groups; g++) {
            const __m512i xg = _mm512_set1_epi32((int)qu->xq[g]);
            const uint8_t *pg = p + (size_t)GROUP_BYTES * g;
            a0 = _mm512_dpbusd_epi32(a0, _mm512_load_si512(pg), xg);
            a1 = _mm512_dpbusd_epi32(a1, _mm512_load_si512(pg + bb), xg);
            a2 = _mm512_dpbusd_epi32(a2, _mm512_load_si512(pg + 2 * bb), xg);
            a3 = _mm512_dpbusd_epi32(a3, _mm512_load_si512(pg + 3 * bb), xg);
        }
        offer_bounds(ix, block_bound(a0, p, ix, qu), b, x, &c, t, keep, ctx);
        offer_bounds(ix, block_bound(a1, p + bb, ix, qu), b + 1, x, &c, t, keep, ctx);
        offer_bounds(ix, block_bound(a2, p + 2 * bb, ix, qu), b + 2, x, &c, t, keep, ctx);
        offer_bounds(ix, block_bound(a3, p + 3 * bb, ix, qu), b + 3, x, &c, t, keep, ctx);
    }
    for (; b < n_blocks; b++) {
        const uint8_t *p = ix->blocks + b * bb;
        __m512i a = _mm512_setzero_si512();
        for (uint32_t g = 0; g < ix->groups; g++)
            a = _mm512_dpbusd_epi32(a, _mm512_load_si512(p + (size_t)GROUP_BYTES * g),
                                    _mm512_set1_epi32((int)qu->xq[g]));
        offer_bounds(ix, block_bound(a, p, ix, qu), b, x, &c, t, keep, ctx);
    }
    flush(ix, x, &c, t, keep, ctx);
    return c.rescored;
}
#endif

size_t rs_score_topk_index(const rs_item_index *ix, const float *x, size_t k,
                           rs_item_filter keep, void *ctx, rs_scored *out,
                           rs_score_stats *stats)
{
    if (stats)
        *stats = (rs_score_stats){.compact = false, .rescored = 0};
    if (k == 0)
        return 0;
    query qu;
    if (!ix->blocks || !query_bound(x, ix->factors, &qu)) {
        if (stats)
            stats->rescored = ix->n_items;
        return rs_score_topk_blocked(ix->Yt, ix->n_items, ix->factors, x, k, keep, ctx, out);
    }
    rs_topk t;
    rs_topk_init(&t, out, k);
    size_t rescored = 0;
#if HAVE_VNNI_KERNEL
    rescored = scan_compact(ix, &qu, x, &t, keep, ctx);
#endif
    if (stats)
        *stats = (rs_score_stats){.compact = true, .rescored = rescored};
    return rs_topk_finish(&t);
}
