/* Implicit ALS (see als.h).
 *
 * Shapes: ui is (n_users, n_items) CSR, iu its transpose; X (n_users, k)
 * and Y (n_items, k) row-major; G = Y^T Y (k, k), full symmetric (the
 * exact solver updates the upper triangle in row-major order, the lower
 * one in LAPACK's column-major view, hence "L" in spotrf/spotrs).
 *
 * The CG solver copies each row's item vectors into a contiguous block
 * first (prefetching ahead), so its four passes over them run from cache
 * rather than from scattered memory.
 *
 * A warm start (rs_als_opts.init_item_factors) only replaces Y's random
 * start, so the first user half-step solves against the given items. The
 * progress and stop callbacks see X and Y in place through a view.
 *
 * A half-iteration solves every row of one side against the other side's
 * fixed factors, rows in parallel (OpenMP, dynamic chunks: row lengths are
 * heavy-tailed), each thread with scratch allocated once. OpenBLAS runs
 * single-threaded inside the parallel loops and with all threads for G.
 *
 * Defaults, from a grid search on MovieLens 100K and latest-small (random
 * 80/20 per user, nDCG@10; bench/quality prints the figures): confidence
 * log1p with alpha 2.5 beats binary (ratings carry some signal) and raw
 * (which over-weights them); the regulariser reg + reg_count x n with reg
 * 25 and reg_count 0.08 beats both the plain lambda (best 0.443 on 100K,
 * at 50) and pure ALS-WR (0.435); 64 factors, 15 iterations. The classic
 * reg 0.01 badly over-fits these sparse data (0.347). */
#include "als.h"

#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <string.h>

#include "core/alloc.h"
#include "core/rng.h"
#include "core/timeutil.h"
#include "models/vec.h"

/* LAPACK (bundled with OpenBLAS), Fortran calling convention. */
void spotrf_(const char *uplo, const int *n, float *a, const int *lda, int *info);
void spotrs_(const char *uplo, const int *n, const int *nrhs, const float *a, const int *lda,
             float *b, const int *ldb, int *info);

#define GATHER_BLOCK 256 /* rows per ssyrk call in the exact solver */
#define GATHER_ROWS 2048 /* longest row the CG solver copies contiguous */
#define CHUNK 32         /* rows per OpenMP work unit */

static const char *const conf_names[] = {"binary", "raw", "log1p"};
static const char *const solver_names[] = {"cg", "cholesky"};

int rs_als_conf_parse(const char *s)
{
    for (int i = 0; i < (int)RS_ARRAY_LEN(conf_names); i++)
        if (!strcmp(s, conf_names[i]))
            return i;
    return -1;
}

const char *rs_als_conf_name(rs_als_conf c)
{
    return (unsigned)c < RS_ARRAY_LEN(conf_names) ? conf_names[c] : "?";
}

int rs_als_solver_parse(const char *s)
{
    for (int i = 0; i < (int)RS_ARRAY_LEN(solver_names); i++)
        if (!strcmp(s, solver_names[i]))
            return i;
    return -1;
}

const char *rs_als_solver_name(rs_als_solver s)
{
    return (unsigned)s < RS_ARRAY_LEN(solver_names) ? solver_names[s] : "?";
}

void rs_als_opts_default(rs_als_opts *o)
{
    memset(o, 0, sizeof *o);
    o->factors = RS_ALS_DEFAULT_FACTORS;
    o->iterations = RS_ALS_DEFAULT_ITERATIONS;
    o->reg = (float)RS_ALS_DEFAULT_REG;
    o->reg_count = (float)RS_ALS_DEFAULT_REG_COUNT;
    o->alpha = (float)RS_ALS_DEFAULT_ALPHA;
    o->conf = RS_ALS_CONF_LOG1P;
    o->solver = RS_ALS_CG;
    o->cg_steps = RS_ALS_DEFAULT_CG_STEPS;
    o->seed = 42;
}

/* c - 1 for an entry's value, negated for negative feedback (a negative
 * value: preference 0). Entries hold this signed value during a fit. */
static inline float conf_m1(const rs_als_opts *o, float v)
{
    const float a = fabsf(v);
    float c = o->alpha;
    switch (o->conf) {
    case RS_ALS_CONF_BINARY: break;
    case RS_ALS_CONF_RAW: c = o->alpha * a; break;
    case RS_ALS_CONF_LOG1P: c = o->alpha * log1pf(a); break;
    }
    return v < 0 ? -c : c;
}

/* The preference times the confidence, p c, of an entry holding cm1:
 * 1 + cm1 for a positive one, 0 for negative feedback. */
static inline float pref_c(float cm1)
{
    return cm1 < 0 ? 0.0f : 1.0f + cm1;
}

/* One half-iteration's fixed inputs. */
typedef struct half {
    const rs_csr *m;     /* rows to solve; columns index the fixed side;
                          * values hold c - 1 */
    const float *Y;      /* fixed side (m->n_cols, k) */
    float *X;            /* solved side (m->n_rows, k) */
    const float *G;      /* Y^T Y (k, k), upper */
    const rs_als_opts *o;
    int k;
} half;

static inline float row_reg(const half *h, uint64_t n)
{
    const float base = h->o->reg_by_count ? h->o->reg * (float)n : h->o->reg;
    return base + h->o->reg_count * (float)n;
}

/* ---- conjugate gradient -------------------------------------------------- */

/* out (k) = (G + reg I) v, G (k, k) full symmetric row-major: as a sum of
 * G's rows scaled by v (four at a time), which needs no horizontal sums. */
RS_VEC_HOT static void apply_g(const float *G, int k, float reg, const float *v, float *out)
{
#pragma omp simd
    for (int f = 0; f < k; f++)
        out[f] = reg * v[f];
    int i = 0;
    for (; i + 4 <= k; i += 4) {
        const float *g0 = G + (size_t)i * k, *g1 = g0 + k, *g2 = g1 + k, *g3 = g2 + k;
        const float v0 = v[i], v1 = v[i + 1], v2 = v[i + 2], v3 = v[i + 3];
#pragma omp simd
        for (int f = 0; f < k; f++)
            out[f] += v0 * g0[f] + v1 * g1[f] + v2 * g2[f] + v3 * g3[f];
    }
    for (; i < k; i++) {
        const float *g = G + (size_t)i * k;
        const float vi = v[i];
#pragma omp simd
        for (int f = 0; f < k; f++)
            out[f] += vi * g[f];
    }
}

/* The weight of entry j in a pass: |cm1_j| t for A v, p_j c_j - |cm1_j| t
 * for the right-hand side (t = y_j . v). */
static inline float pass_w(float cm1, float t, int rhs)
{
    const float w = fabsf(cm1) * t;
    return rhs ? pref_c(cm1) - w : w;
}

/* One pass over a row's entries, y_j the j-th of Yu (n, k) contiguous:
 * out += sum_j w_j y_j with w_j = pass_w(cm1_j, y_j . v). */
RS_VEC_HOT static void pass_scalar(const float *Yu, const float *cm1, size_t n, int k, const float *v,
                            float *out, int rhs)
{
    for (size_t j = 0; j < n; j++) {
        const float *y = Yu + j * k;
        float t = 0.0f;
#pragma omp simd reduction(+ : t)
        for (int f = 0; f < k; f++)
            t += y[f] * v[f];
        const float w = pass_w(cm1[j], t, rhs);
#pragma omp simd
        for (int f = 0; f < k; f++)
            out[f] += w * y[f];
    }
}

/* The same for k a multiple of 16, four entries at a time: four dot
 * products in vector accumulators reduced together, then one update of
 * out. Row j is Y + idx[j] * k, or Y + j * k when idx is NULL (inlined
 * into both uses, so the test folds away). */
static inline __attribute__((always_inline)) void
pass16_body(const float *Y, const uint32_t *idx, const float *cm1, size_t n, int k,
            const float *v, float *out, int rhs)
{
#define ROW(j) (Y + (idx ? (size_t)idx[j] : (j)) * (size_t)k)
    size_t j = 0;
    for (; j + 4 <= n; j += 4) {
        if (idx && j + 16 < n)
            for (int q = 12; q < 16; q++)
                __builtin_prefetch(ROW(j + q));
        const float *y0 = ROW(j), *y1 = ROW(j + 1), *y2 = ROW(j + 2), *y3 = ROW(j + 3);
        float t[4];
        rs_v16_dot4(y0, y1, y2, y3, v, (size_t)k, t);
        const float w0 = pass_w(cm1[j], t[0], rhs), w1 = pass_w(cm1[j + 1], t[1], rhs),
                    w2 = pass_w(cm1[j + 2], t[2], rhs), w3 = pass_w(cm1[j + 3], t[3], rhs);
        for (int f = 0; f < k; f += 16) {
            rs_v16 o = rs_v16_load(out + f);
            o += w0 * rs_v16_load(y0 + f) + w1 * rs_v16_load(y1 + f);
            o += w2 * rs_v16_load(y2 + f) + w3 * rs_v16_load(y3 + f);
            rs_v16_store(out + f, o);
        }
    }
    for (; j < n; j++) {
        const float *y = ROW(j);
        rs_v16 acc = {0};
        for (int f = 0; f < k; f += 16)
            acc += rs_v16_load(y + f) * rs_v16_load(v + f);
        float t[4];
        rs_v16_hsum4(acc, acc, acc, acc, t);
        const float w = pass_w(cm1[j], t[0], rhs);
        for (int f = 0; f < k; f += 16)
            rs_v16_store(out + f, rs_v16_load(out + f) + w * rs_v16_load(y + f));
    }
#undef ROW
}

RS_VEC_HOT static void pass16(const float *Yu, const float *cm1, size_t n, int k, const float *v,
                       float *out, int rhs)
{
    pass16_body(Yu, NULL, cm1, n, k, v, out, rhs);
}

RS_VEC_HOT static void pass16_indexed(const float *Y, const uint32_t *idx, const float *cm1, size_t n,
                               int k, const float *v, float *out, int rhs)
{
    pass16_body(Y, idx, cm1, n, k, v, out, rhs);
}

static void pass(const float *Yu, const float *cm1, size_t n, int k, const float *v, float *out,
                 int rhs)
{
    if (k % 16 == 0)
        pass16(Yu, cm1, n, k, v, out, rhs);
    else
        pass_scalar(Yu, cm1, n, k, v, out, rhs);
}

/* The same reading rows in place (for rows too long to gather). */
RS_VEC_HOT static void pass_indexed(const float *Y, const uint32_t *idx, const float *cm1, size_t n,
                             int k, const float *v, float *out, int rhs)
{
    if (k % 16 == 0) {
        pass16_indexed(Y, idx, cm1, n, k, v, out, rhs);
        return;
    }
    for (size_t j = 0; j < n; j++) {
        if (j + 8 < n)
            __builtin_prefetch(Y + (size_t)idx[j + 8] * k);
        const float *y = Y + (size_t)idx[j] * k;
        float t = 0.0f;
#pragma omp simd reduction(+ : t)
        for (int f = 0; f < k; f++)
            t += y[f] * v[f];
        const float w = pass_w(cm1[j], t, rhs);
#pragma omp simd
        for (int f = 0; f < k; f++)
            out[f] += w * y[f];
    }
}

/* Copies the rows idx[0..n) of Y into Yu (n, k), prefetching ahead. */
RS_VEC_HOT static void gather(const float *Y, const uint32_t *idx, size_t n, int k, float *Yu)
{
    for (size_t j = 0; j < n; j++) {
        if (j + 16 < n)
            __builtin_prefetch(Y + (size_t)idx[j + 16] * k);
        const float *y = Y + (size_t)idx[j] * k;
        float *o = Yu + j * k;
        if (k % 16 == 0)
            for (int f = 0; f < k; f += 16)
                rs_v16_store(o + f, rs_v16_load(y + f));
        else
            memcpy(o, y, (size_t)k * sizeof *o);
    }
}

RS_VEC_HOT static float dot(const float *x, const float *y, int k)
{
    float s = 0.0f;
#pragma omp simd reduction(+ : s)
    for (int f = 0; f < k; f++)
        s += x[f] * y[f];
    return s;
}

/* A few CG steps on (G + reg I + Y_u^T (C_u - I) Y_u) x = Y_u^T c_u from
 * the current x. scratch: 3k floats, then room for GATHER_ROWS rows of k
 * (rows longer than that are read in place). */
RS_VEC_HOT static void solve_cg(const half *h, uint32_t row, float *scratch)
{
    const int k = h->k;
    const uint64_t a = h->m->indptr[row], b = h->m->indptr[row + 1];
    const size_t n = (size_t)(b - a);
    float *x = h->X + (size_t)row * k, *r = scratch, *p = scratch + k, *ap = scratch + 2 * k;
    float *Yu = scratch + 3 * k;
    if (n == 0) {
        memset(x, 0, (size_t)k * sizeof *x);
        return;
    }
    const float reg = row_reg(h, n);
    const uint32_t *idx = h->m->indices + a;
    const float *cm1 = h->m->values + a;
    const bool gathered = n <= GATHER_ROWS;
    if (gathered)
        gather(h->Y, idx, n, k, Yu);
    /* r = b - A x = sum p c y - (G + reg I) x - sum |cm1| (y . x) y */
    apply_g(h->G, k, reg, x, r);
    for (int f = 0; f < k; f++)
        r[f] = -r[f];
    if (gathered)
        pass(Yu, cm1, n, k, x, r, 1);
    else
        pass_indexed(h->Y, idx, cm1, n, k, x, r, 1);
    memcpy(p, r, (size_t)k * sizeof *p);
    float rs_old = dot(r, r, k);
    for (uint32_t it = 0; it < h->o->cg_steps && rs_old > 1e-20f; it++) {
        apply_g(h->G, k, reg, p, ap);
        if (gathered)
            pass(Yu, cm1, n, k, p, ap, 0);
        else
            pass_indexed(h->Y, idx, cm1, n, k, p, ap, 0);
        const float pap = dot(p, ap, k);
        if (!(pap > 0.0f))
            break;
        const float step = rs_old / pap;
#pragma omp simd
        for (int f = 0; f < k; f++) {
            x[f] += step * p[f];
            r[f] -= step * ap[f];
        }
        const float rs_new = dot(r, r, k);
        const float beta = rs_new / rs_old;
#pragma omp simd
        for (int f = 0; f < k; f++)
            p[f] = r[f] + beta * p[f];
        rs_old = rs_new;
    }
}

/* ---- exact solve ---------------------------------------------------------- */

/* Builds A = G + reg I + sum |cm1| y y^T and rhs = sum p c y, then solves by
 * Cholesky. scratch: k*k + k + GATHER_BLOCK*k floats. Returns 0, or the
 * LAPACK info when A is not positive definite (x is left as it was). */
RS_VEC_HOT static int solve_exact(const half *h, uint32_t row, float *scratch)
{
    const int k = h->k;
    const uint64_t a = h->m->indptr[row], b = h->m->indptr[row + 1];
    float *x = h->X + (size_t)row * k;
    if (a == b) {
        memset(x, 0, (size_t)k * sizeof *x);
        return 0;
    }
    float *A = scratch, *rhs = A + (size_t)k * k, *gath = rhs + k;
    memcpy(A, h->G, (size_t)k * k * sizeof *A);
    const float reg = row_reg(h, b - a);
    for (int f = 0; f < k; f++)
        A[(size_t)f * k + f] += reg;
    memset(rhs, 0, (size_t)k * sizeof *rhs);
    for (uint64_t j0 = a; j0 < b; j0 += GATHER_BLOCK) {
        const uint64_t j1 = b - j0 < GATHER_BLOCK ? b : j0 + GATHER_BLOCK;
        for (uint64_t j = j0; j < j1; j++) {
            const float *y = h->Y + (size_t)h->m->indices[j] * k;
            const float cm1 = h->m->values[j];
            const float s = sqrtf(fabsf(cm1)), c = pref_c(cm1);
            float *g = gath + (size_t)(j - j0) * k;
            for (int f = 0; f < k; f++) {
                g[f] = s * y[f];
                rhs[f] += c * y[f];
            }
        }
        /* A (k, k) += gath^T gath, gath (j1 - j0, k) */
        cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, k, (int)(j1 - j0), 1.0f, gath, k,
                    1.0f, A, k);
    }
    int info = 0, one = 1;
    spotrf_("L", &k, A, &k, &info);
    if (info)
        return info;
    spotrs_("L", &k, &one, A, &k, rhs, &k, &info);
    if (info)
        return info;
    memcpy(x, rhs, (size_t)k * sizeof *x);
    return 0;
}

/* ---- the fit -------------------------------------------------------------- */

/* G = Y^T Y (full): each thread's share of the rows into its own scratch
 * (at least k * k floats each) with single-threaded BLAS, then summed. No
 * BLAS thread pool is ever woken, so none spins against the OpenMP
 * threads, and the sum's order depends only on the thread count. */
static void gram(const float *Y, uint32_t n, int k, float *G, float *scratch, size_t per_thread,
                 int threads)
{
#pragma omp parallel num_threads(threads)
    {
        const int t = omp_get_thread_num(), nt = omp_get_num_threads();
        const uint32_t lo = (uint32_t)((uint64_t)n * t / nt);
        const uint32_t hi = (uint32_t)((uint64_t)n * (t + 1) / nt);
        float *part = scratch + (size_t)t * per_thread;
        cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, k, (int)(hi - lo), 1.0f,
                    Y + (size_t)lo * k, k, 0.0f, part, k);
    }
    memcpy(G, scratch, (size_t)k * k * sizeof *G);
    for (int t = 1; t < threads; t++) {
        const float *part = scratch + (size_t)t * per_thread;
        for (size_t x = 0; x < (size_t)k * k; x++)
            G[x] += part[x];
    }
    for (int i = 0; i < k; i++) /* mirror the upper triangle: G is used in full */
        for (int j = 0; j < i; j++)
            G[(size_t)i * k + j] = G[(size_t)j * k + i];
}

/* Solves every row of h->m; returns the number of rows whose exact system
 * was not positive definite. */
static uint64_t solve_all(const half *h, float *scratch, size_t per_thread, int threads)
{
    uint64_t failed = 0;
    const uint32_t n = h->m->n_rows;
#pragma omp parallel for schedule(dynamic, CHUNK) num_threads(threads) reduction(+ : failed)
    for (uint32_t row = 0; row < n; row++) {
        float *s = scratch + (size_t)omp_get_thread_num() * per_thread;
        if (h->o->solver == RS_ALS_CHOLESKY)
            failed += solve_exact(h, row, s) != 0;
        else
            solve_cg(h, row, s);
    }
    return failed;
}

/* The mean loss per pair, with G = Y^T Y of the current Y; ui's values
 * hold c - 1. */
static double loss(const rs_csr *ui, const float *X, const float *Y, const float *G,
                   const rs_als_opts *o, int k, const rs_csr *iu, int threads)
{
    double total = 0, reg = 0;
#pragma omp parallel for schedule(dynamic, CHUNK) num_threads(threads) reduction(+ : total, reg)
    for (uint32_t u = 0; u < ui->n_rows; u++) {
        const float *x = X + (size_t)u * k;
        float gx[1024];
        cblas_ssymv(CblasRowMajor, CblasUpper, k, 1.0f, G, k, x, 1, 0.0f, gx, 1);
        double t = dot(x, gx, k);
        for (uint64_t j = ui->indptr[u]; j < ui->indptr[u + 1]; j++) {
            const float xy = dot(x, Y + (size_t)ui->indices[j] * k, k);
            const float cm1 = ui->values[j], c = 1.0f + fabsf(cm1), p = cm1 < 0 ? 0.0f : 1.0f;
            t += c * (p - xy) * (p - xy) - (double)xy * xy;
        }
        total += t;
        const uint64_t n = ui->indptr[u + 1] - ui->indptr[u];
        reg += ((o->reg_by_count ? o->reg * (double)n : o->reg) + o->reg_count * (double)n) *
               dot(x, x, k);
    }
    for (uint32_t i = 0; i < iu->n_rows; i++) {
        const uint64_t n = iu->indptr[i + 1] - iu->indptr[i];
        reg += ((o->reg_by_count ? o->reg * (double)n : o->reg) + o->reg_count * (double)n) *
               dot(Y + (size_t)i * k, Y + (size_t)i * k, k);
    }
    return (total + reg) / ((double)ui->n_rows * ui->n_cols);
}

static rs_err check_opts(const rs_als_opts *o, rs_diag *diag)
{
    if (o->factors == 0 || o->factors > 1024)
        return rs_diag_fail(diag, RS_EINVAL, "als: factors must be 1..1024, not %u", o->factors);
    if (o->iterations == 0)
        return rs_diag_fail(diag, RS_EINVAL, "als: iterations must be at least 1");
    if (!(o->reg >= 0) || !isfinite(o->reg))
        return rs_diag_fail(diag, RS_EINVAL, "als: reg must be >= 0");
    if (!(o->reg_count >= 0) || !isfinite(o->reg_count))
        return rs_diag_fail(diag, RS_EINVAL, "als: reg_count must be >= 0");
    if (!(o->alpha >= 0) || !isfinite(o->alpha))
        return rs_diag_fail(diag, RS_EINVAL, "als: alpha must be >= 0");
    if ((unsigned)o->conf >= RS_ARRAY_LEN(conf_names))
        return rs_diag_fail(diag, RS_EINVAL, "als: unknown confidence function");
    if ((unsigned)o->solver >= RS_ARRAY_LEN(solver_names))
        return rs_diag_fail(diag, RS_EINVAL, "als: unknown solver");
    if (o->solver == RS_ALS_CG && o->cg_steps == 0)
        return rs_diag_fail(diag, RS_EINVAL, "als: cg_steps must be at least 1");
    return RS_OK;
}

/* Small random start: each row from its own stream, so the start does not
 * depend on threads. Rows with no entries start (and stay) at zero. */
static void init_factors(float *F, const rs_csr *m, int k, uint64_t seed, uint64_t stream0)
{
    for (uint32_t r = 0; r < m->n_rows; r++) {
        float *f = F + (size_t)r * k;
        if (m->indptr[r + 1] == m->indptr[r])
            continue;
        rs_rng g;
        rs_rng_init_stream(&g, seed, stream0 + r);
        for (int j = 0; j < k; j++)
            f[j] = (float)(rs_rng_uniform(&g) * 0.01);
    }
}

static bool all_finite(const float *a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(a[i]))
            return false;
    return true;
}

/* Warm start: copies the rows of o->init_item_factors that init_mask
 * allows over Y (n_items, k), which holds the random start. Returns the
 * first used row that is not finite, or n_items when all are. */
static uint32_t warm_start(float *Y, uint32_t n_items, int k, const rs_als_opts *o)
{
    for (uint32_t i = 0; i < n_items; i++) {
        if (o->init_mask && !o->init_mask[i])
            continue;
        const float *src = o->init_item_factors + (size_t)i * k;
        if (!all_finite(src, (size_t)k))
            return i;
        memcpy(Y + (size_t)i * k, src, (size_t)k * sizeof *Y);
    }
    return n_items;
}

rs_err rs_als_fit(const rs_csr *ui, const rs_als_opts *o, rs_als_model *out, rs_diag *diag)
{
    memset(out, 0, sizeof *out);
    rs_err e = check_opts(o, diag);
    if (e)
        return e;
    const int k = (int)o->factors;
    const int threads = o->threads > 0 ? o->threads : omp_get_max_threads();
    const size_t exact = (size_t)k * k + (size_t)k + (size_t)GATHER_BLOCK * k;
    const size_t cg = 3 * (size_t)k + (size_t)GATHER_ROWS * k;
    size_t per_thread = o->solver == RS_ALS_CHOLESKY ? exact : cg;
    per_thread = (per_thread > (size_t)k * k ? per_thread : (size_t)k * k) + 64; /* and gram */
    rs_csr uc = {0}, iu = {0};
    float *X = rs_try_calloc(ui->n_rows ? ui->n_rows : 1, (size_t)k * sizeof(float));
    float *Y = rs_try_calloc(ui->n_cols ? ui->n_cols : 1, (size_t)k * sizeof(float));
    float *G = rs_try_calloc((size_t)k * k, sizeof(float));
    float *scratch = rs_try_calloc((size_t)threads, per_thread * sizeof(float));
    if (!X || !Y || !G || !scratch || rs_csr_copy(ui, &uc) != RS_OK) {
        e = rs_diag_fail(diag, RS_ENOMEM, "als: out of memory for %u x %u factors of %d",
                         ui->n_rows, ui->n_cols, k);
        goto fail;
    }
    /* The confidences, once: uc is ui with values c - 1, iu its transpose. */
    for (size_t j = 0; j < uc.nnz; j++)
        uc.values[j] = conf_m1(o, uc.values[j]);
    if (rs_csr_transpose(&uc, &iu) != RS_OK) {
        e = rs_diag_fail(diag, RS_ENOMEM, "als: out of memory for the item-major matrix");
        goto fail;
    }
    init_factors(X, ui, k, o->seed, 0);
    init_factors(Y, &iu, k, o->seed, (uint64_t)1 << 40);
    if (o->init_item_factors) {
        const uint32_t bad = warm_start(Y, ui->n_cols, k, o);
        if (bad < ui->n_cols) {
            e = rs_diag_fail(diag, RS_EINVAL,
                             "als: the warm start's item %u has a non-finite factor", bad);
            goto fail;
        }
    }

    const int blas_threads = openblas_get_num_threads();
    openblas_set_num_threads(1); /* parallel over rows instead */
    uint64_t failed = 0;
    /* What the callbacks see: the factors as they stand. */
    const rs_als_model view = {ui->n_rows, ui->n_cols, o->factors, X, Y};
    uint32_t stopped = 0;
    for (uint32_t it = 1; it <= o->iterations && !stopped; it++) {
        const double t0 = rs_mono_s();
        gram(Y, ui->n_cols, k, G, scratch, per_thread, threads);
        half hu = {&uc, Y, X, G, o, k};
        failed += solve_all(&hu, scratch, per_thread, threads);
        gram(X, ui->n_rows, k, G, scratch, per_thread, threads);
        half hi = {&iu, X, Y, G, o, k};
        failed += solve_all(&hi, scratch, per_thread, threads);
        rs_als_iter rep = {it, o->iterations, rs_mono_s() - t0, NAN, &view};
        if (o->compute_loss) {
            gram(Y, ui->n_cols, k, G, scratch, per_thread, threads);
            rep.loss = loss(&uc, X, Y, G, o, k, &iu, threads);
        }
        if (o->progress)
            o->progress(o->progress_ctx, &rep);
        if (o->stop && o->stop(o->stop_ctx, &rep))
            stopped = it;
    }
    openblas_set_num_threads(blas_threads);
    (void)failed; /* rows kept their previous vector; only possible with reg 0 */
    if (stopped) {
        e = rs_diag_fail(diag, RS_ECANCELED, "als: stopped early after iteration %u of %u",
                         stopped, o->iterations);
        goto fail;
    }
    if (!all_finite(X, (size_t)ui->n_rows * k) || !all_finite(Y, (size_t)ui->n_cols * k)) {
        e = rs_diag_fail(diag, RS_EINTERNAL, "als: the fit diverged (non-finite factors); "
                                             "try a larger reg or a smaller alpha");
        goto fail;
    }
    rs_free(G);
    rs_free(scratch);
    rs_csr_destroy(&uc);
    rs_csr_destroy(&iu);
    *out = (rs_als_model){ui->n_rows, ui->n_cols, o->factors, X, Y};
    return RS_OK;
fail:
    rs_free(X);
    rs_free(Y);
    rs_free(G);
    rs_free(scratch);
    rs_csr_destroy(&uc);
    rs_csr_destroy(&iu);
    return e;
}

void rs_als_gram(const rs_als_model *m, float *G)
{
    const int k = (int)m->factors;
    cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, k, (int)m->n_items, 1.0f,
                m->item_factors, k, 0.0f, G, k);
    for (int i = 0; i < k; i++)
        for (int j = 0; j < i; j++)
            G[(size_t)i * k + j] = G[(size_t)j * k + i];
}

size_t rs_als_fold_in_scratch(const rs_als_model *m, size_t n)
{
    const size_t k = m->factors;
    return k * k + k + (size_t)GATHER_BLOCK * k + 2 * n + 16;
}

int rs_als_fold_in(const rs_als_model *m, const float *G, const rs_als_opts *o,
                   const uint32_t *items, const float *values, size_t n, float *x, float *scratch)
{
    const size_t k = m->factors;
    float *cm1 = scratch + k * k + k + (size_t)GATHER_BLOCK * k;
    uint32_t *idx = (uint32_t *)(cm1 + n);
    for (size_t j = 0; j < n; j++) {
        cm1[j] = conf_m1(o, values[j]);
        idx[j] = items[j];
    }
    /* One user's row as a CSR of one row, solved as in a training step. */
    uint64_t indptr[2] = {0, n};
    rs_csr row = {.n_rows = 1, .n_cols = m->n_items, .nnz = n, .indptr = indptr,
                  .indices = idx, .values = cm1};
    half h = {&row, m->item_factors, x, G, o, (int)k};
    return solve_exact(&h, 0, scratch);
}

void rs_als_destroy(rs_als_model *m)
{
    rs_free(m->user_factors);
    rs_free(m->item_factors);
    memset(m, 0, sizeof *m);
}

size_t rs_als_scratch_bytes(const rs_als_model *m)
{
    return (size_t)m->n_items * sizeof(float);
}

void rs_als_score(const rs_als_model *m, const float *x, const uint32_t *items, size_t n,
                  float *out)
{
    for (size_t i = 0; i < n; i++)
        out[i] = items[i] < m->n_items
                     ? dot(x, m->item_factors + (size_t)items[i] * m->factors, (int)m->factors)
                     : NAN;
}

rs_err rs_als_recommend(const void *model, uint32_t user, const uint32_t *exclude,
                        size_t n_exclude, size_t k, rs_scored *out, size_t *n, void *scratch)
{
    const rs_als_model *m = model;
    *n = 0;
    if (user >= m->n_users || k == 0)
        return RS_OK;
    float *scores = scratch;
    const float *x = m->user_factors + (size_t)user * m->factors;
    /* scores (n_items) = Y (n_items, k) . x (k) */
    cblas_sgemv(CblasRowMajor, CblasNoTrans, (int)m->n_items, (int)m->factors, 1.0f,
                m->item_factors, (int)m->factors, x, 1, 0.0f, scores, 1);
    for (size_t j = 0; j < n_exclude; j++)
        if (exclude[j] < m->n_items)
            scores[exclude[j]] = NAN; /* NaN never enters a top-k */
    rs_topk t;
    rs_topk_init(&t, out, k);
    for (uint32_t i = 0; i < m->n_items; i++)
        rs_topk_push(&t, i, scores[i]);
    *n = rs_topk_finish(&t);
    return RS_OK;
}
