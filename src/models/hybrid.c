/* Fitting the hybrid model (see hybrid.h): the ridge system is built from
 * the sparse feature rows (each item adds its row's outer product, so the
 * cost is the sum of squared row lengths, not items x terms^2), solved by
 * Cholesky, and applied to every item in parallel. */
#include "hybrid.h"

#include <math.h>
#include <omp.h>
#include <string.h>

#include "core/alloc.h"

void spotrf_(const char *uplo, const int *n, float *a, const int *lda, int *info);
void spotrs_(const char *uplo, const int *n, const int *nrhs, const float *a, const int *lda,
             float *b, const int *ldb, int *info);

/* The largest system solved in memory: (terms + 1)^2 floats. */
#define MAX_TERMS 16384

void rs_hybrid_opts_default(rs_hybrid_opts *o)
{
    *o = (rs_hybrid_opts){.reg = RS_HYBRID_DEFAULT_REG,
                          .blend = RS_HYBRID_DEFAULT_BLEND,
                          .min_count = RS_HYBRID_DEFAULT_MIN_COUNT};
}

static rs_err check(const rs_csr *f, const rs_csr *ui, const rs_als_model *als,
                    const rs_hybrid_opts *o, rs_diag *diag)
{
    if (f->n_rows != ui->n_cols || als->n_items != ui->n_cols || als->n_users != ui->n_rows)
        return rs_diag_fail(diag, RS_EINVAL,
                            "hybrid: features for %u items, interactions %u x %u, ALS %u x %u",
                            f->n_rows, ui->n_rows, ui->n_cols, als->n_users, als->n_items);
    if (f->n_cols > MAX_TERMS)
        return rs_diag_fail(diag, RS_EINVAL, "hybrid: %u content terms; at most %d",
                            f->n_cols, MAX_TERMS);
    if (!(o->reg > 0) || !isfinite(o->reg))
        return rs_diag_fail(diag, RS_EINVAL, "hybrid: reg must be positive");
    if (!(o->blend >= 0) || !isfinite(o->blend))
        return rs_diag_fail(diag, RS_EINVAL, "hybrid: blend must be 0 or more");
    return RS_OK;
}

/* Interactions per item (column counts of ui). */
static uint32_t *item_counts(const rs_csr *ui)
{
    uint32_t *n = rs_try_calloc(ui->n_cols ? ui->n_cols : 1, sizeof *n);
    if (n)
        for (size_t j = 0; j < ui->nnz; j++)
            n[ui->indices[j]]++;
    return n;
}

/* A (d x d, column-major, both triangles) += the outer product of item i's
 * row with its intercept; B (d x k, column-major) += row^T y_i. */
static void add_item(const rs_csr *f, uint32_t i, const float *y, int d, int k, float *A,
                     float *B)
{
    const uint64_t lo = f->indptr[i], hi = f->indptr[i + 1];
    const size_t one = (size_t)d - 1; /* the intercept's column */
    for (uint64_t a = lo; a <= hi; a++) {
        const size_t ca = a < hi ? f->indices[a] : one;
        const float va = a < hi ? f->values[a] : 1.0f;
        for (uint64_t b = lo; b <= hi; b++) {
            const size_t cb = b < hi ? f->indices[b] : one;
            A[cb * (size_t)d + ca] += va * (b < hi ? f->values[b] : 1.0f);
        }
        for (int c = 0; c < k; c++)
            B[(size_t)c * (size_t)d + ca] += va * y[c];
    }
}

rs_err rs_hybrid_fit(const rs_csr *features, const rs_csr *ui, const rs_als_model *als,
                     const rs_hybrid_opts *o, rs_hybrid_model *out, rs_diag *diag)
{
    memset(out, 0, sizeof *out);
    rs_err e = check(features, ui, als, o, diag);
    if (e)
        return e;
    const int d = (int)features->n_cols + 1, k = (int)als->factors;
    const uint32_t ni = als->n_items;
    uint32_t *counts = item_counts(ui);
    float *A = rs_try_calloc((size_t)d * (size_t)d, sizeof *A);
    float *B = rs_try_calloc((size_t)d * (size_t)k, sizeof *B);
    out->map = rs_try_reallocarray(NULL, (size_t)d * (size_t)k, sizeof *out->map);
    out->item_factors = rs_try_reallocarray(NULL, (size_t)ni * (size_t)k + 1, sizeof(float));
    if (!counts || !A || !B || !out->map || !out->item_factors) {
        e = rs_diag_fail(diag, RS_ENOMEM, "hybrid: out of memory for %d content terms", d - 1);
        goto out;
    }
    for (uint32_t i = 0; i < ni; i++)
        if (counts[i] >= o->min_count && counts[i] > 0)
            add_item(features, i, als->item_factors + (size_t)i * (size_t)k, d, k, A, B);
    /* The intercept is barely penalised: the mean item vector is not a
     * content effect to shrink away. */
    for (int t = 0; t < d; t++)
        A[(size_t)t * (size_t)d + (size_t)t] += t + 1 < d ? o->reg : 1e-3f * o->reg;
    int info = 0;
    spotrf_("L", &d, A, &d, &info);
    if (info == 0)
        spotrs_("L", &d, &k, A, &d, B, &d, &info);
    if (info != 0) {
        e = rs_diag_fail(diag, RS_EINTERNAL, "hybrid: the ridge system is singular (LAPACK %d)",
                         info);
        goto out;
    }
    for (int t = 0; t < d; t++)
        for (int c = 0; c < k; c++)
            out->map[(size_t)t * (size_t)k + (size_t)c] = B[(size_t)c * (size_t)d + (size_t)t];
    out->n_items = ni;
    out->factors = (uint32_t)k;
    out->n_terms = features->n_cols;

    const int threads = o->threads > 0 ? o->threads : omp_get_max_threads();
#pragma omp parallel for schedule(static) num_threads(threads)
    for (uint32_t i = 0; i < ni; i++) {
        float *v = out->item_factors + (size_t)i * (size_t)k;
        const uint64_t lo = features->indptr[i], hi = features->indptr[i + 1];
        rs_hybrid_content_vector(out, features->indices + lo, features->values + lo,
                                 (size_t)(hi - lo), v);
        const float w = counts[i] ? (float)counts[i] / ((float)counts[i] + o->blend) : 0.0f;
        const float *y = als->item_factors + (size_t)i * (size_t)k;
        for (int c = 0; c < k; c++)
            v[c] = w * y[c] + (1.0f - w) * v[c];
    }
out:
    rs_free(counts);
    rs_free(A);
    rs_free(B);
    if (e)
        rs_hybrid_destroy(out);
    return e;
}

void rs_hybrid_content_vector(const rs_hybrid_model *m, const uint32_t *idx, const float *val,
                              size_t n, float *out)
{
    const size_t k = m->factors;
    memcpy(out, m->map + (size_t)m->n_terms * k, k * sizeof *out);
    for (size_t j = 0; j < n; j++) {
        const float *row = m->map + (size_t)idx[j] * k;
        for (size_t c = 0; c < k; c++)
            out[c] += val[j] * row[c];
    }
}

rs_als_model rs_hybrid_view(const rs_hybrid_model *m, const rs_als_model *als)
{
    rs_als_model v = *als;
    v.item_factors = m->item_factors;
    return v;
}

void rs_hybrid_destroy(rs_hybrid_model *m)
{
    rs_free(m->map);
    rs_free(m->item_factors);
    memset(m, 0, sizeof *m);
}
