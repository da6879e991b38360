/* Sixteen-float vectors (GCC/clang vector extensions) for the dense
 * kernels of the models: one AVX-512 register, two AVX2 or four SSE ones,
 * depending on the instruction set a function is compiled for. Loads and
 * stores are unaligned. */
#ifndef RS_MODELS_VEC_H
#define RS_MODELS_VEC_H

#include <stddef.h>
#include <string.h>

/* The helpers below are always inlined, so no vector crosses a call and the
 * ABI note compilers give for 64-byte vector arguments does not apply (the
 * pragma holds for the rest of the including file). That note is real for
 * any other function: one that takes or returns an rs_v16 must be
 * RS_VEC_INLINE too, or a caller compiled for AVX-512 and a callee
 * compiled for the baseline disagree on where the vector is. */
#pragma GCC diagnostic ignored "-Wpsabi"
#define RS_VEC_INLINE static inline __attribute__((always_inline))

/* For the hot loops that use these vectors: compiled for AVX-512 and AVX2
 * with FMA as well as the baseline, the best picked at load time, so one
 * binary is fast everywhere (not under the sanitizers, nor with clang,
 * whose target_clones differ). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && \
    !defined(__SANITIZE_ADDRESS__)
#define RS_VEC_HOT __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define RS_VEC_HOT
#endif

typedef float rs_v16 __attribute__((vector_size(64)));
typedef int rs_v16i __attribute__((vector_size(64)));

RS_VEC_INLINE rs_v16 rs_v16_load(const float *p)
{
    rs_v16 v;
    memcpy(&v, p, sizeof v);
    return v;
}

RS_VEC_INLINE void rs_v16_store(float *p, rs_v16 v)
{
    memcpy(p, &v, sizeof v);
}

RS_VEC_INLINE rs_v16 rs_v16_splat(float x)
{
    return (rs_v16){0} + x; /* the scalar is broadcast */
}

/* Lanes picked from the 32 of (a, b) by constant indices. */
#ifdef __clang__
#define RS_V16_SHUFFLE(a, b, ...) __builtin_shufflevector(a, b, __VA_ARGS__)
#else
#define RS_V16_SHUFFLE(a, b, ...) __builtin_shuffle(a, b, (rs_v16i){__VA_ARGS__})
#endif

/* The sums of a, b, c and d's lanes, into s[0..4), by folding all four
 * vectors together (a few shuffles instead of four serial reductions). */
RS_VEC_INLINE void rs_v16_hsum4(rs_v16 a, rs_v16 b, rs_v16 c, rs_v16 d, float s[4])
{
#define RS_LO8 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23
#define RS_HI8 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31
#define RS_LO4 0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27
#define RS_HI4 4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29, 30, 31
    /* ab = [a folded to 8 | b folded to 8], cd likewise */
    const rs_v16 ab = RS_V16_SHUFFLE(a, b, RS_LO8) + RS_V16_SHUFFLE(a, b, RS_HI8);
    const rs_v16 cd = RS_V16_SHUFFLE(c, d, RS_LO8) + RS_V16_SHUFFLE(c, d, RS_HI8);
    /* x = [a 4 | b 4 | c 4 | d 4], then pairs, then single lanes */
    const rs_v16 x = RS_V16_SHUFFLE(ab, cd, RS_LO4) + RS_V16_SHUFFLE(ab, cd, RS_HI4);
    const rs_v16 y = x + RS_V16_SHUFFLE(x, x, 2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13);
    const rs_v16 z = y + RS_V16_SHUFFLE(y, y, 1, 0, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10, 13, 12, 15, 14);
#undef RS_LO8
#undef RS_HI8
#undef RS_LO4
#undef RS_HI4
    s[0] = z[0];
    s[1] = z[4];
    s[2] = z[8];
    s[3] = z[12];
}

/* The dot products of four rows y0..y3 with v, n floats each (n a
 * multiple of 16), into s[0..4). */
RS_VEC_INLINE void rs_v16_dot4(const float *y0, const float *y1, const float *y2,
                               const float *y3, const float *v, size_t n, float s[4])
{
    rs_v16 a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};
    for (size_t f = 0; f < n; f += 16) {
        const rs_v16 vv = rs_v16_load(v + f);
        a0 += rs_v16_load(y0 + f) * vv;
        a1 += rs_v16_load(y1 + f) * vv;
        a2 += rs_v16_load(y2 + f) * vv;
        a3 += rs_v16_load(y3 + f) * vv;
    }
    rs_v16_hsum4(a0, a1, a2, a3, s);
}

#endif
