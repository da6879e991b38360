/* All-pairs item cosine on factors, kept as top neighbours (see similar.h).
 *
 * Shapes: F is (n, k) row-major, U its rows scaled to unit length. A block
 * of B items gives S = U[b0:b0+B] . U^T, a (B, n) matrix, by one sgemm;
 * each row of S then feeds a top-k heap. Memory: U plus B x n floats per
 * thread. */
#include "similar.h"

#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <string.h>

#include "core/alloc.h"

#define BLOCK 256

const uint32_t *rs_similar_get(const rs_csr *sim, uint32_t item, const float **scores, size_t *n)
{
    if (item >= sim->n_rows) {
        *n = 0;
        *scores = NULL;
        return NULL;
    }
    uint64_t a = sim->indptr[item], b = sim->indptr[item + 1];
    *n = (size_t)(b - a);
    *scores = sim->values + a;
    return sim->indices + a;
}

/* U = F with rows scaled to unit length; zero rows stay zero. Returns
 * whether each row is non-zero in live[]. */
static void normalise_rows(const float *F, uint32_t n, uint32_t k, float *U, uint8_t *live)
{
    for (uint32_t i = 0; i < n; i++) {
        const float *f = F + (size_t)i * k;
        float *u = U + (size_t)i * k;
        double ss = 0;
        for (uint32_t j = 0; j < k; j++)
            ss += (double)f[j] * f[j];
        live[i] = ss > 0;
        float inv = ss > 0 ? (float)(1.0 / sqrt(ss)) : 0.0f;
        for (uint32_t j = 0; j < k; j++)
            u[j] = f[j] * inv;
    }
}

rs_err rs_similar_fit(const float *factors, uint32_t n_items, uint32_t k,
                      const rs_similar_opts *o, rs_csr *out, rs_diag *diag)
{
    memset(out, 0, sizeof *out);
    if (k == 0)
        return rs_diag_fail(diag, RS_EINVAL, "similar items need factors (k = 0)");
    const uint32_t nb = o->neighbours ? o->neighbours : RS_SIMILAR_DEFAULT_NEIGHBOURS;
    const uint32_t kk = n_items > 1 ? (nb < n_items - 1 ? nb : n_items - 1) : 0;
    const int threads = o->threads > 0 ? o->threads : omp_get_max_threads();

    float *U = rs_try_calloc(n_items ? n_items : 1, (size_t)k * sizeof(float));
    uint8_t *live = rs_try_calloc(n_items ? n_items : 1, 1);
    uint64_t *indptr = rs_try_calloc((size_t)n_items + 1, sizeof *indptr);
    uint32_t *idx = rs_try_calloc((size_t)n_items * kk + 1, sizeof *idx);
    float *val = rs_try_calloc((size_t)n_items * kk + 1, sizeof *val);
    float *S = rs_try_calloc((size_t)threads * BLOCK, (size_t)(n_items ? n_items : 1) * sizeof(float));
    rs_scored *heaps = rs_try_calloc((size_t)threads * (kk + 1), sizeof *heaps);
    uint32_t *got = rs_try_calloc(n_items ? n_items : 1, sizeof *got);
    if (!U || !live || !indptr || !idx || !val || !S || !heaps || !got) {
        rs_free(U), rs_free(live), rs_free(indptr), rs_free(idx), rs_free(val);
        rs_free(S), rs_free(heaps), rs_free(got);
        return rs_diag_fail(diag, RS_ENOMEM, "out of memory for the similarities of %u items",
                            n_items);
    }
    normalise_rows(factors, n_items, k, U, live);

    const uint32_t n_blocks = (n_items + BLOCK - 1) / BLOCK;
    int blas_threads = openblas_get_num_threads();
    openblas_set_num_threads(1);
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
    for (uint32_t blk = 0; blk < n_blocks; blk++) {
        const int t = omp_get_thread_num();
        float *s = S + (size_t)t * BLOCK * n_items;
        rs_scored *heap = heaps + (size_t)t * (kk + 1);
        const uint32_t b0 = blk * BLOCK;
        const uint32_t bn = n_items - b0 < BLOCK ? n_items - b0 : BLOCK;
        /* s (bn, n) = U[b0:b0+bn] (bn, k) . U^T (k, n) */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)bn, (int)n_items, (int)k,
                    1.0f, U + (size_t)b0 * k, (int)k, U, (int)k, 0.0f, s, (int)n_items);
        for (uint32_t r = 0; r < bn; r++) {
            const uint32_t i = b0 + r;
            uint32_t m = 0;
            if (live[i] && kk) {
                rs_topk top;
                rs_topk_init(&top, heap, kk);
                const float *row = s + (size_t)r * n_items;
                for (uint32_t j = 0; j < n_items; j++)
                    if (j != i && live[j])
                        rs_topk_push(&top, j, row[j]);
                m = (uint32_t)rs_topk_finish(&top);
                for (uint32_t q = 0; q < m; q++) {
                    idx[(size_t)i * kk + q] = heap[q].index;
                    val[(size_t)i * kk + q] = heap[q].score;
                }
            }
            got[i] = m;
        }
    }
    openblas_set_num_threads(blas_threads);

    /* Compact the fixed-stride rows into CSR order (in place: rows only
     * move towards the front). */
    size_t w = 0;
    for (uint32_t i = 0; i < n_items; i++) {
        indptr[i] = w;
        memmove(idx + w, idx + (size_t)i * kk, got[i] * sizeof *idx);
        memmove(val + w, val + (size_t)i * kk, got[i] * sizeof *val);
        w += got[i];
    }
    indptr[n_items] = w;
    rs_free(U), rs_free(live), rs_free(S), rs_free(heaps), rs_free(got);
    *out = (rs_csr){.n_rows = n_items, .n_cols = n_items, .nnz = w, .indptr = indptr,
                    .indices = idx, .values = val};
    return RS_OK;
}
