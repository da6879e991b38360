/* Item-kNN (see knn.h). For each item i (in parallel), the similarities to
 * every co-occurring item are accumulated in a dense per-thread row over
 * the users of i (from the transposed matrix), with a list of the touched
 * entries, and the top neighbours kept. Cost: sum over users of |I_u|^2. */
#include "knn.h"

#include <math.h>
#include <omp.h>
#include <string.h>

#include "core/alloc.h"

static const char *const weight_names[] = {"cosine", "bm25"};

int rs_knn_weight_parse(const char *s)
{
    for (int i = 0; i < (int)RS_ARRAY_LEN(weight_names); i++)
        if (!strcmp(s, weight_names[i]))
            return i;
    return -1;
}

const char *rs_knn_weight_name(rs_knn_weight w)
{
    return (unsigned)w < RS_ARRAY_LEN(weight_names) ? weight_names[w] : "?";
}

void rs_knn_opts_default(rs_knn_opts *o)
{
    memset(o, 0, sizeof *o);
    o->neighbours = RS_KNN_DEFAULT_NEIGHBOURS;
    o->weight = RS_KNN_BM25;
    o->bm25_k1 = (float)RS_KNN_DEFAULT_BM25_K1;
    o->bm25_b = (float)RS_KNN_DEFAULT_BM25_B;
}

/* The interaction weights of w (a copy of ui's structure) per the opts. */
static void weigh(const rs_csr *ui, const rs_knn_opts *o, const uint32_t *users_with, rs_csr *w)
{
    const double avg = ui->n_rows ? (double)ui->nnz / ui->n_rows : 1.0;
    for (uint32_t u = 0; u < ui->n_rows; u++) {
        const uint64_t a = ui->indptr[u], b = ui->indptr[u + 1];
        const double norm = 1.0 - o->bm25_b + o->bm25_b * (double)(b - a) / avg;
        for (uint64_t j = a; j < b; j++) {
            if (o->weight == RS_KNN_COSINE) {
                w->values[j] = 1.0f;
                continue;
            }
            const uint32_t i = ui->indices[j];
            const double idf = log((double)ui->n_rows / (1.0 + users_with[i]));
            w->values[j] = (float)(idf > 0 ? idf : 0) * (o->bm25_k1 + 1.0f) /
                           (float)(o->bm25_k1 * norm + 1.0);
        }
    }
}

rs_err rs_knn_fit(const rs_csr *ui, const rs_knn_opts *o, rs_knn_model *out, rs_diag *diag)
{
    memset(out, 0, sizeof *out);
    if (o->neighbours == 0)
        return rs_diag_fail(diag, RS_EINVAL, "knn: neighbours must be at least 1");
    if ((unsigned)o->weight >= RS_ARRAY_LEN(weight_names))
        return rs_diag_fail(diag, RS_EINVAL, "knn: unknown weighting");
    if (!(o->bm25_k1 >= 0) || !(o->bm25_b >= 0 && o->bm25_b <= 1))
        return rs_diag_fail(diag, RS_EINVAL, "knn: bm25 k1 must be >= 0 and b in [0, 1]");
    const uint32_t ni = ui->n_cols;
    const uint32_t kk = ni > 1 ? (o->neighbours < ni - 1 ? o->neighbours : ni - 1) : 0;
    const int threads = o->threads > 0 ? o->threads : omp_get_max_threads();

    rs_csr w = {0}, wt = {0};
    uint32_t *users_with = rs_try_calloc(ni ? ni : 1, sizeof *users_with);
    float *norm = rs_try_calloc(ni ? ni : 1, sizeof *norm);
    uint64_t *indptr = rs_try_calloc((size_t)ni + 1, sizeof *indptr);
    uint32_t *idx = rs_try_calloc((size_t)ni * kk + 1, sizeof *idx);
    float *val = rs_try_calloc((size_t)ni * kk + 1, sizeof *val);
    uint32_t *got = rs_try_calloc(ni ? ni : 1, sizeof *got);
    /* Per thread: a dense accumulator, marks (item + 1 of the row that last
     * touched an entry), the touched list and a heap. */
    const size_t per = (size_t)ni * (sizeof(float) + 2 * sizeof(uint32_t)) +
                       (kk + 1) * sizeof(rs_scored);
    char *scratch = rs_try_calloc((size_t)threads, per);
    rs_err e = RS_ENOMEM;
    if (!users_with || !norm || !indptr || !idx || !val || !got || !scratch ||
        rs_csr_copy(ui, &w) != RS_OK)
        goto out;
    for (size_t j = 0; j < ui->nnz; j++)
        users_with[ui->indices[j]]++;
    weigh(ui, o, users_with, &w);
    if (rs_csr_transpose(&w, &wt) != RS_OK)
        goto out;
    for (uint32_t i = 0; i < ni; i++) {
        double s = 0;
        for (uint64_t j = wt.indptr[i]; j < wt.indptr[i + 1]; j++)
            s += (double)wt.values[j] * wt.values[j];
        norm[i] = (float)sqrt(s);
    }

#pragma omp parallel num_threads(threads)
    {
        char *mine = scratch + (size_t)omp_get_thread_num() * per;
        float *acc = (float *)mine;
        uint32_t *mark = (uint32_t *)(acc + ni);
        uint32_t *touched = mark + ni;
        rs_scored *heap = (rs_scored *)(touched + ni);
#pragma omp for schedule(dynamic, 16)
        for (uint32_t i = 0; i < ni; i++) {
            size_t nt = 0;
            for (uint64_t a = wt.indptr[i]; a < wt.indptr[i + 1]; a++) {
                const uint32_t u = wt.indices[a];
                const float wi = wt.values[a];
                for (uint64_t b = w.indptr[u]; b < w.indptr[u + 1]; b++) {
                    const uint32_t j = w.indices[b];
                    if (j == i)
                        continue;
                    if (mark[j] != i + 1) {
                        mark[j] = i + 1;
                        touched[nt++] = j;
                    }
                    acc[j] += wi * w.values[b];
                }
            }
            rs_topk top;
            rs_topk_init(&top, heap, kk ? kk : 1);
            for (size_t t = 0; t < nt; t++) {
                const uint32_t j = touched[t];
                float s = acc[j];
                if (o->weight == RS_KNN_COSINE)
                    s /= norm[i] * norm[j];
                if (s > 0.0f)
                    rs_topk_push(&top, j, s);
                acc[j] = 0.0f;
            }
            const uint32_t m = kk ? (uint32_t)rs_topk_finish(&top) : 0;
            for (uint32_t q = 0; q < m; q++) {
                idx[(size_t)i * kk + q] = heap[q].index;
                val[(size_t)i * kk + q] = heap[q].score;
            }
            got[i] = m;
        }
    }
    /* Compact the fixed-stride rows into CSR order. */
    size_t nnz = 0;
    for (uint32_t i = 0; i < ni; i++) {
        indptr[i] = nnz;
        memmove(idx + nnz, idx + (size_t)i * kk, got[i] * sizeof *idx);
        memmove(val + nnz, val + (size_t)i * kk, got[i] * sizeof *val);
        nnz += got[i];
    }
    indptr[ni] = nnz;
    out->sim = (rs_csr){.n_rows = ni, .n_cols = ni, .nnz = nnz, .indptr = indptr,
                        .indices = idx, .values = val};
    indptr = NULL;
    idx = NULL;
    val = NULL;
    out->user_items = w;
    w = (rs_csr){0};
    e = RS_OK;
out:
    rs_free(users_with);
    rs_free(norm);
    rs_free(indptr);
    rs_free(idx);
    rs_free(val);
    rs_free(got);
    rs_free(scratch);
    rs_csr_destroy(&w);
    rs_csr_destroy(&wt);
    if (e)
        return rs_diag_fail(diag, e, "knn: out of memory for %u items", ni);
    return RS_OK;
}

void rs_knn_destroy(rs_knn_model *m)
{
    rs_csr_destroy(&m->sim);
    rs_csr_destroy(&m->user_items);
}

size_t rs_knn_scratch_bytes(const rs_knn_model *m)
{
    return (size_t)m->sim.n_rows * sizeof(float);
}

rs_err rs_knn_recommend(const void *model, uint32_t user, const uint32_t *exclude,
                        size_t n_exclude, size_t k, rs_scored *out, size_t *n, void *scratch)
{
    const rs_knn_model *m = model;
    const uint32_t ni = m->sim.n_rows;
    float *acc = scratch;
    *n = 0;
    if (k == 0)
        return RS_OK;
    memset(acc, 0, (size_t)ni * sizeof *acc);
    if (user < m->user_items.n_rows)
        for (uint64_t a = m->user_items.indptr[user]; a < m->user_items.indptr[user + 1]; a++) {
            const uint32_t i = m->user_items.indices[a];
            if (i >= ni)
                continue;
            for (uint64_t b = m->sim.indptr[i]; b < m->sim.indptr[i + 1]; b++)
                acc[m->sim.indices[b]] += m->sim.values[b];
        }
    for (size_t j = 0; j < n_exclude; j++)
        if (exclude[j] < ni)
            acc[exclude[j]] = 0.0f;
    rs_topk t;
    rs_topk_init(&t, out, k);
    for (uint32_t i = 0; i < ni; i++)
        if (acc[i] > 0.0f)
            rs_topk_push(&t, i, acc[i]);
    *n = rs_topk_finish(&t);
    return RS_OK;
}
