/* Bayesian biased MF by Gibbs sampling (Salakhutdinov and Mnih, "Bayesian
 * probabilistic matrix factorization using MCMC", 2008), with biases and a
 * diagonal prior per side. See mf.h for the model.
 *
 * Each user's row [p_u, b_u] has a Gaussian prior with per-dimension mean
 * and precision, themselves drawn each sweep from a Normal-Gamma
 * hyperprior given all users' rows (items likewise); the rating noise
 * precision tau has a Gamma hyperprior. A sweep draws every user row from
 * its Gaussian conditional (precision diag(lambda) + tau Z^T Z over the
 * user's items' rows z = [q_i, 1], built with ssyrk and factored by
 * Cholesky), then every item row, then the hyperparameters.
 *
 * The prediction is the posterior mean: the average over the sweeps after
 * burn-in. Its interaction part (1/S) sum_s P_s Q_s^T has rank up to
 * S * factors; it is compressed back to `factors` dimensions by a
 * randomized SVD (Halko, Martinsson and Tropp 2011, one power iteration),
 * which on MovieLens 100K loses nothing measurable, so the model has the
 * size and the scoring cost of a plain MF. Only the kept samples are held
 * in memory: S * (users + items) * factors floats, capped by
 * MAX_SAMPLE_BYTES (the latest samples are kept past it). */
#include "models/mf_impl.h"

#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <string.h>

#include "core/alloc.h"
#include "core/rng.h"
#include "core/timeutil.h"

/* LAPACK (bundled with OpenBLAS), Fortran calling convention. */
void spotrf_(const char *uplo, const int *n, float *a, const int *lda, int *info);
void spotrs_(const char *uplo, const int *n, const int *nrhs, const float *a, const int *lda,
             float *b, const int *ldb, int *info);
void strtrs_(const char *uplo, const char *trans, const char *diag, const int *n,
             const int *nrhs, const float *a, const int *lda, float *b, const int *ldb,
             int *info);
void sgeqrf_(const int *m, const int *n, float *a, const int *lda, float *tau, float *work,
             const int *lwork, int *info);
void sorgqr_(const int *m, const int *n, const int *k, float *a, const int *lda,
             const float *tau, float *work, const int *lwork, int *info);
void sgesvd_(const char *jobu, const char *jobvt, const int *m, const int *n, float *a,
             const int *lda, float *s, float *u, const int *ldu, float *vt, const int *ldvt,
             float *work, const int *lwork, int *info);

#define BLOCK 256                      /* rows per ssyrk call */
#define MAX_SAMPLE_BYTES (1ull << 30) /* memory for the kept samples */
#define OVERSAMPLE 10                  /* extra columns of the randomized SVD */
/* Normal-Gamma hyperprior of each dimension's mean and precision, and the
 * Gamma prior of the noise precision: weak, in units of the scaled
 * ratings. */
#define BETA0 2.0
#define A0 2.0
#define B0 1.0
#define TAU_A0 1.0
#define TAU_B0 1.0

/* One side's rows (n, D = factors + 1): [p, b], and their prior. */
typedef struct side {
    const rs_csr *m;  /* this side's rows x the other side; values are
                       * scaled, centred ratings */
    uint32_t n;
    float *rows;
    double *mu, *lambda;  /* D each */
} side;

/* Draws the prior's per-dimension mean and precision given the rows. */
static void draw_prior(side *s, int D, rs_rng *g)
{
    for (int f = 0; f < D; f++) {
        double sum = 0, sum2 = 0;
        for (uint32_t r = 0; r < s->n; r++) {
            const double v = s->rows[(size_t)r * D + f];
            sum += v;
            sum2 += v * v;
        }
        const double n = s->n, mean = n > 0 ? sum / n : 0;
        const double bn = BETA0 + n, mun = n * mean / bn;
        const double an = A0 + n / 2.0;
        double ss = sum2 - n * mean * mean;
        ss = ss > 0 ? ss : 0;
        const double bb = B0 + 0.5 * ss + BETA0 * n * mean * mean / (2.0 * bn);
        const double lam = rs_rng_gamma(g, an) / bb;
        s->lambda[f] = lam;
        s->mu[f] = mun + rs_rng_normal(g) / sqrt(bn * lam);
    }
}

/* Draws row r of s given the other side's rows o (n_o, D). scratch:
 * D*D + 2*D + BLOCK*(D + 1) floats. Returns 0 or the LAPACK error. */
static int draw_row(const side *s, const float *o, int D, uint32_t r, float tau, rs_rng *g,
                    float *scratch)
{
    const int k = D - 1;
    float *A = scratch, *rhs = A + (size_t)D * D, *z = rhs + D, *Z = z + D;
    float *t = Z + (size_t)BLOCK * D;
    for (int a = 0; a < D; a++) {
        memset(A + (size_t)a * D, 0, (size_t)D * sizeof *A);
        A[(size_t)a * D + a] = (float)s->lambda[a];
        rhs[a] = (float)(s->lambda[a] * s->mu[a]);
    }
    const uint64_t lo = s->m->indptr[r], hi = s->m->indptr[r + 1];
    for (uint64_t j0 = lo; j0 < hi; j0 += BLOCK) {
        const uint64_t j1 = hi - j0 < BLOCK ? hi : j0 + BLOCK;
        const int nb = (int)(j1 - j0);
        for (uint64_t j = j0; j < j1; j++) {
            const float *q = o + (size_t)s->m->indices[j] * D;
            float *zr = Z + (size_t)(j - j0) * D;
            memcpy(zr, q, (size_t)k * sizeof *zr);
            zr[k] = 1.0f;                    /* our bias meets a constant 1 */
            t[j - j0] = s->m->values[j] - q[k]; /* the other's bias is known */
        }
        /* A += tau Z^T Z (upper, row-major = LAPACK's lower); rhs += tau Z^T t */
        cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, D, nb, tau, Z, D, 1.0f, A, D);
        cblas_sgemv(CblasRowMajor, CblasTrans, nb, D, tau, Z, D, t, 1, 1.0f, rhs, 1);
    }
    int info = 0, one = 1;
    spotrf_("L", &D, A, &D, &info);
    if (info)
        return info;
    spotrs_("L", &D, &one, A, &D, rhs, &D, &info); /* rhs = the conditional mean */
    if (info)
        return info;
    for (int a = 0; a < D; a++)
        z[a] = (float)rs_rng_normal(g);
    strtrs_("L", "T", "N", &D, &one, A, &D, z, &D, &info); /* z ~ N(0, A^-1) */
    if (info)
        return info;
    float *x = s->rows + (size_t)r * D;
    for (int a = 0; a < D; a++)
        x[a] = rhs[a] + z[a];
    return 0;
}

/* Draws every row of s; rows with no ratings draw from the prior alone.
 * Returns the number of rows whose system failed (kept as they were). */
static uint64_t draw_side(side *s, const float *o, int D, float tau, uint64_t seed,
                          uint64_t stream0, float *scratch, size_t per_thread, int threads)
{
    uint64_t failed = 0;
#pragma omp parallel for schedule(dynamic, 32) num_threads(threads) reduction(+ : failed)
    for (uint32_t r = 0; r < s->n; r++) {
        rs_rng g;
        rs_rng_init_stream(&g, seed, stream0 + r);
        failed += draw_row(s, o, D, r, tau, &g, scratch + (size_t)omp_get_thread_num() * per_thread) != 0;
    }
    return failed;
}

/* The sum of squared training errors of the current sample. */
static double sse(const rs_csr *R, const float *U, const float *V, int D, int threads)
{
    const int k = D - 1;
    double total = 0;
#pragma omp parallel for schedule(static) num_threads(threads) reduction(+ : total)
    for (uint32_t u = 0; u < R->n_rows; u++) {
        const float *p = U + (size_t)u * D;
        for (uint64_t j = R->indptr[u]; j < R->indptr[u + 1]; j++) {
            const float *q = V + (size_t)R->indices[j] * D;
            float pred = p[k] + q[k];
            for (int f = 0; f < k; f++)
                pred += p[f] * q[f];
            const double e = R->values[j] - pred;
            total += e * e;
        }
    }
    return total;
}

/* Replaces the columns of Z (m, n), column-major, by an orthonormal basis
 * of their span. */
static rs_err orthonormalise(float *Z, int m, int n, rs_diag *diag)
{
    float *tau = rs_try_malloc((size_t)n * sizeof *tau), query = 0;
    int lwork = -1, info = 0;
    sgeqrf_(&m, &n, Z, &m, tau, &query, &lwork, &info);
    float q2 = 0;
    sorgqr_(&m, &n, &n, Z, &m, tau, &q2, &lwork, &info);
    lwork = (int)(query > q2 ? query : q2) + 1;
    float *work = rs_try_malloc((size_t)lwork * sizeof *work);
    if (!tau || !work) {
        rs_free(tau);
        rs_free(work);
        return rs_diag_fail(diag, RS_ENOMEM, "mf: out of memory for the factor compression");
    }
    sgeqrf_(&m, &n, Z, &m, tau, work, &lwork, &info);
    if (!info)
        sorgqr_(&m, &n, &n, Z, &m, tau, work, &lwork, &info);
    rs_free(tau);
    rs_free(work);
    if (info)
        return rs_diag_fail(diag, RS_EINTERNAL, "mf: QR failed (LAPACK info %d)", info);
    return RS_OK;
}

/* The kept samples: Xs (nu, c) and Ys (ni, c) row-major, c = S * k, sample
 * s in columns [s k, s k + k). */
typedef struct samples {
    float *X, *Y;
    uint32_t nu, ni;
    int k, cap, n;  /* samples held and the most that fit */
    uint64_t taken; /* samples offered */
} samples;

static void keep_sample(samples *S, const float *U, const float *V, int D)
{
    const int slot = (int)(S->taken++ % (uint64_t)S->cap), c = S->cap * S->k;
    for (uint32_t r = 0; r < S->nu; r++)
        memcpy(S->X + (size_t)r * c + (size_t)slot * S->k, U + (size_t)r * D,
               (size_t)S->k * sizeof(float));
    for (uint32_t r = 0; r < S->ni; r++)
        memcpy(S->Y + (size_t)r * c + (size_t)slot * S->k, V + (size_t)r * D,
               (size_t)S->k * sizeof(float));
    S->n = S->n < S->cap ? S->n + 1 : S->cap;
}

/* The best rank-k approximation of M = (1/n) X Y^T (X, Y the kept samples)
 * as user (nu, k) and item (ni, k) factors, row-major, by a randomized SVD
 * with one power iteration. */
static rs_err compress(const samples *S, uint64_t seed, float *uf, float *itf, rs_diag *diag)
{
    const int nu = (int)S->nu, ni = (int)S->ni, k = S->k, c = S->cap * S->k;
    const float inv = 1.0f / (float)S->n;
    int l = k + OVERSAMPLE;
    l = l > S->n * k ? S->n * k : l;
    l = l > nu ? nu : l;
    l = l > ni ? ni : l;
    /* Column-major work: Zu (nu, l), Zi (ni, l), T (c, l). The row-major
     * samples X (nu, c) read as column-major are X^T (c, nu). Slots never
     * filled are zero and add nothing. */
    float *Zu = rs_try_calloc((size_t)nu * l, sizeof(float));
    float *Zi = rs_try_calloc((size_t)ni * l, sizeof(float));
    float *T = rs_try_calloc((size_t)c * l, sizeof(float));
    float *sv = rs_try_malloc((size_t)l * sizeof(float));
    float *Ub = rs_try_malloc((size_t)ni * l * sizeof(float));
    float *Vt = rs_try_malloc((size_t)l * l * sizeof(float));
    rs_err e = RS_OK;
    if (!Zu || !Zi || !T || !sv || !Ub || !Vt) {
        e = rs_diag_fail(diag, RS_ENOMEM, "mf: out of memory for the factor compression");
        goto out;
    }
    rs_rng g;
    rs_rng_init_stream(&g, seed, UINT64_C(1) << 62);
    for (size_t x = 0; x < (size_t)ni * l; x++)
        Zi[x] = (float)rs_rng_normal(&g);
    /* Zu = M Zi, then Zi = orth(M^T orth(Zu)), Zu = orth(M Zi). */
    for (int pass = 0; pass < 2; pass++) {
        cblas_sgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, c, l, ni, 1.0f, S->Y, c, Zi, ni,
                    0.0f, T, c);
        cblas_sgemm(CblasColMajor, CblasTrans, CblasNoTrans, nu, l, c, inv, S->X, c, T, c, 0.0f,
                    Zu, nu);
        if ((e = orthonormalise(Zu, nu, l, diag)))
            goto out;
        cblas_sgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, c, l, nu, 1.0f, S->X, c, Zu, nu,
                    0.0f, T, c);
        cblas_sgemm(CblasColMajor, CblasTrans, CblasNoTrans, ni, l, c, inv, S->Y, c, T, c, 0.0f,
                    Zi, ni);
        if (pass == 0 && (e = orthonormalise(Zi, ni, l, diag)))
            goto out;
    }
    /* Now Zi = M^T Q with Q = Zu orthonormal: M ~ Q Zi^T. SVD Zi = Ub s Vt
     * gives M ~ (Q Vt^T s^1/2) (Ub s^1/2)^T. */
    int info = 0, lwork = -1;
    float query = 0;
    sgesvd_("S", "S", &ni, &l, Zi, &ni, sv, Ub, &ni, Vt, &l, &query, &lwork, &info);
    lwork = (int)query + 1;
    float *work = rs_try_malloc((size_t)lwork * sizeof *work);
    if (!work) {
        e = rs_diag_fail(diag, RS_ENOMEM, "mf: out of memory for the factor compression");
        goto out;
    }
    sgesvd_("S", "S", &ni, &l, Zi, &ni, sv, Ub, &ni, Vt, &l, work, &lwork, &info);
    rs_free(work);
    if (info) {
        e = rs_diag_fail(diag, RS_EINTERNAL, "mf: SVD failed (LAPACK info %d)", info);
        goto out;
    }
    /* QV (nu, l) = Q Vt^T, column-major. */
    float *QV = rs_try_malloc((size_t)nu * l * sizeof(float));
    if (!QV) {
        e = rs_diag_fail(diag, RS_ENOMEM, "mf: out of memory for the factor compression");
        goto out;
    }
    cblas_sgemm(CblasColMajor, CblasNoTrans, CblasTrans, nu, l, l, 1.0f, Zu, nu, Vt, l, 0.0f,
                QV, nu);
    const int r = k < l ? k : l;
    memset(uf, 0, (size_t)nu * k * sizeof *uf);
    memset(itf, 0, (size_t)ni * k * sizeof *itf);
    for (int f = 0; f < r; f++) {
        const float w = sqrtf(sv[f] > 0 ? sv[f] : 0);
        for (int u = 0; u < nu; u++)
            uf[(size_t)u * k + f] = QV[(size_t)f * nu + u] * w;
        for (int i = 0; i < ni; i++)
            itf[(size_t)i * k + f] = Ub[(size_t)f * ni + i] * w;
    }
    rs_free(QV);
out:
    rs_free(Zu);
    rs_free(Zi);
    rs_free(T);
    rs_free(sv);
    rs_free(Ub);
    rs_free(Vt);
    return e;
}

rs_err rs__mf_fit_gibbs(const rs_csr *R, const rs_mf_opts *o, rs_mf_model *m, float scale,
                        rs_diag *diag)
{
    const int k = (int)o->factors, D = k + 1;
    const int threads = o->threads > 0 ? o->threads : omp_get_max_threads();
    const uint32_t nu = R->n_rows, ni = R->n_cols;
    const uint32_t kept_max = o->iterations - o->burn_in;
    const size_t per_sample = ((size_t)nu + ni) * (size_t)k * sizeof(float);
    size_t cap = per_sample ? MAX_SAMPLE_BYTES / per_sample : kept_max;
    cap = cap < 1 ? 1 : cap > kept_max ? kept_max : cap;
    const size_t per_thread = (size_t)D * D + 2 * (size_t)D + (size_t)BLOCK * (D + 1) + 16;

    rs_csr C = {0}, Ct = {0};  /* centred, scaled ratings and their transpose */
    side su = {.m = &C, .n = nu}, si = {.m = &Ct, .n = ni};
    samples S = {.nu = nu, .ni = ni, .k = k, .cap = (int)cap};
    su.rows = rs_try_calloc(nu ? nu : 1, (size_t)D * sizeof(float));
    si.rows = rs_try_calloc(ni ? ni : 1, (size_t)D * sizeof(float));
    su.mu = rs_try_calloc(2 * (size_t)D, sizeof(double));
    si.mu = rs_try_calloc(2 * (size_t)D, sizeof(double));
    double *bias_sum = rs_try_calloc((size_t)nu + ni, sizeof(double));
    float *scratch = rs_try_malloc((size_t)threads * per_thread * sizeof(float));
    S.X = rs_try_calloc(nu ? nu : 1, cap * k * sizeof(float));
    S.Y = rs_try_calloc(ni ? ni : 1, cap * k * sizeof(float));
    rs_err e = RS_OK;
    if (!su.rows || !si.rows || !su.mu || !si.mu || !bias_sum || !scratch || !S.X || !S.Y ||
        rs_csr_copy(R, &C) != RS_OK) {
        e = rs_diag_fail(diag, RS_ENOMEM, "mf: out of memory for %u x %u x %d factors", nu, ni,
                         k);
        goto out;
    }
    su.lambda = su.mu + D;
    si.lambda = si.mu + D;
    for (size_t j = 0; j < C.nnz; j++)
        C.values[j] = C.values[j] / scale - m->mean;
    if (rs_csr_transpose(&C, &Ct) != RS_OK) {
        e = rs_diag_fail(diag, RS_ENOMEM, "mf: out of memory for the item-major ratings");
        goto out;
    }
    rs_rng g;
    rs_rng_init(&g, o->seed);
    for (size_t x = 0; x < (size_t)nu * D; x++)
        su.rows[x] = (x % D == (size_t)k) ? 0.0f : (float)(rs_rng_normal(&g) * o->init_std);
    for (size_t x = 0; x < (size_t)ni * D; x++)
        si.rows[x] = (x % D == (size_t)k) ? 0.0f : (float)(rs_rng_normal(&g) * o->init_std);

    const int blas_threads = openblas_get_num_threads();
    openblas_set_num_threads(1);
    float tau = 2.0f;
    uint64_t failed = 0;
    for (uint32_t sweep = 1; sweep <= o->iterations; sweep++) {
        const double t0 = rs_mono_s();
        const uint64_t stream = (uint64_t)sweep * ((uint64_t)nu + ni);
        draw_prior(&su, D, &g);
        failed += draw_side(&su, si.rows, D, tau, o->seed, stream, scratch, per_thread, threads);
        draw_prior(&si, D, &g);
        failed += draw_side(&si, su.rows, D, tau, o->seed, stream + nu, scratch, per_thread,
                            threads);
        const double err = sse(&C, su.rows, si.rows, D, threads);
        if (!isfinite(err)) {
            e = rs_diag_fail(diag, RS_EINTERNAL, "mf: the sampler diverged (non-finite error)");
            break;
        }
        tau = (float)(rs_rng_gamma(&g, TAU_A0 + (double)C.nnz / 2.0) / (TAU_B0 + err / 2.0));
        if (sweep > o->burn_in) {
            keep_sample(&S, su.rows, si.rows, D);
            for (uint32_t u = 0; u < nu; u++)
                bias_sum[u] += su.rows[(size_t)u * D + k];
            for (uint32_t i = 0; i < ni; i++)
                bias_sum[nu + i] += si.rows[(size_t)i * D + k];
        }
        if (o->progress)
            o->progress(o->progress_ctx, sweep, scale * sqrt(err / (double)C.nnz),
                        rs_mono_s() - t0);
    }
    openblas_set_num_threads(threads);
    (void)failed; /* a row whose system failed keeps its previous draw */
    if (!e)
        e = compress(&S, o->seed, m->user_factors, m->item_factors, diag);
    openblas_set_num_threads(blas_threads);
    if (!e) {
        const double n = (double)(o->iterations - o->burn_in);
        for (uint32_t u = 0; u < nu; u++)
            m->user_bias[u] = (float)(bias_sum[u] / n);
        for (uint32_t i = 0; i < ni; i++)
            m->item_bias[i] = (float)(bias_sum[nu + i] / n);
    }
out:
    rs_csr_destroy(&C);
    rs_csr_destroy(&Ct);
    rs_free(su.rows);
    rs_free(si.rows);
    rs_free(su.mu);
    rs_free(si.mu);
    rs_free(bias_sum);
    rs_free(scratch);
    rs_free(S.X);
    rs_free(S.Y);
    return e;
}
