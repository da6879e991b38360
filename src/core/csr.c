/* CSR construction, transposition and checks; see csr.h. */
#include "csr.h"

#include <math.h>
#include <string.h>

#include "alloc.h"

typedef struct entry {
    uint32_t col;
    float val;
} entry;

int rs_agg_parse(const char *s)
{
    if (strcmp(s, "sum") == 0)
        return RS_AGG_SUM;
    if (strcmp(s, "max") == 0)
        return RS_AGG_MAX;
    if (strcmp(s, "last") == 0)
        return RS_AGG_LAST;
    return -1;
}

const char *rs_agg_name(rs_agg a)
{
    switch (a) {
    case RS_AGG_SUM: return "sum";
    case RS_AGG_MAX: return "max";
    case RS_AGG_LAST: return "last";
    }
    return "?";
}

void rs_csr_destroy(rs_csr *m)
{
    rs_free(m->indptr);
    rs_free(m->indices);
    rs_free(m->values);
    memset(m, 0, sizeof *m);
}

size_t rs_csr_memory(const rs_csr *m)
{
    return ((size_t)m->n_rows + 1) * sizeof *m->indptr + m->nnz * (sizeof *m->indices + sizeof *m->values);
}

/* Allocates the three arrays of an n_rows x n_cols matrix with room for nnz
 * entries. On failure everything is freed and m is zeroed. */
static rs_err alloc_matrix(rs_csr *m, uint32_t n_rows, uint32_t n_cols, size_t nnz)
{
    memset(m, 0, sizeof *m);
    m->n_rows = n_rows;
    m->n_cols = n_cols;
    m->indptr = rs_try_calloc((size_t)n_rows + 1, sizeof *m->indptr);
    m->indices = rs_try_reallocarray(NULL, nnz, sizeof *m->indices);
    m->values = rs_try_reallocarray(NULL, nnz, sizeof *m->values);
    if (!m->indptr || !m->indices || !m->values) {
        rs_csr_destroy(m);
        return RS_ENOMEM;
    }
    return RS_OK;
}

rs_err rs_csr_transpose(const rs_csr *m, rs_csr *out)
{
    rs_err e = alloc_matrix(out, m->n_cols, m->n_rows, m->nnz);
    if (e)
        return e;
    out->nnz = m->nnz;
    /* Count entries per column, then prefix-sum into offsets. */
    uint64_t *ptr = out->indptr;
    for (size_t k = 0; k < m->nnz; k++)
        ptr[m->indices[k] + 1]++;
    for (uint32_t c = 0; c < m->n_cols; c++)
        ptr[c + 1] += ptr[c];
    /* Scatter rows in ascending order: each column's rows come out sorted.
     * ptr[c] is used as the fill cursor and shifted back afterwards. */
    for (uint32_t r = 0; r < m->n_rows; r++) {
        for (uint64_t k = m->indptr[r]; k < m->indptr[r + 1]; k++) {
            uint32_t c = m->indices[k];
            uint64_t dst = ptr[c]++;
            out->indices[dst] = r;
            out->values[dst] = m->values[k];
        }
    }
    for (uint32_t c = m->n_cols; c > 0; c--)
        ptr[c] = ptr[c - 1];
    ptr[0] = 0;
    return RS_OK;
}

rs_err rs_csr_copy(const rs_csr *m, rs_csr *out)
{
    rs_err e = alloc_matrix(out, m->n_rows, m->n_cols, m->nnz);
    if (e)
        return e;
    out->nnz = m->nnz;
    memcpy(out->indptr, m->indptr, ((size_t)m->n_rows + 1) * sizeof *m->indptr);
    if (m->nnz) {
        memcpy(out->indices, m->indices, m->nnz * sizeof *m->indices);
        memcpy(out->values, m->values, m->nnz * sizeof *m->values);
    }
    return RS_OK;
}

rs_err rs_csr_validate(const rs_csr *m, const char **why)
{
#define BAD(msg)              \
    do {                      \
        if (why)              \
            *why = (msg);     \
        return RS_ECORRUPT;   \
    } while (0)
    if (m->indptr[0] != 0)
        BAD("indptr[0] is not 0");
    if (m->indptr[m->n_rows] != m->nnz)
        BAD("indptr[n_rows] is not nnz");
    for (uint32_t r = 0; r < m->n_rows; r++) {
        if (m->indptr[r + 1] < m->indptr[r])
            BAD("row offsets decrease");
        /* Checked before the row is read: an offset past nnz would read
         * past the arrays even when a later offset decreases. */
        if (m->indptr[r + 1] > m->nnz)
            BAD("row offsets past nnz");
        for (uint64_t k = m->indptr[r]; k < m->indptr[r + 1]; k++) {
            if (m->indices[k] >= m->n_cols)
                BAD("column index out of range");
            if (k > m->indptr[r] && m->indices[k] <= m->indices[k - 1])
                BAD("column indices not ascending and unique within a row");
            if (!isfinite(m->values[k]))
                BAD("non-finite value");
        }
    }
    return RS_OK;
#undef BAD
}

/* --- builder ---------------------------------------------------------- */

rs_err rs_csr_builder_init(rs_csr_builder *b, uint32_t n_rows, uint32_t n_cols, size_t nnz_hint,
                           rs_agg agg)
{
    memset(b, 0, sizeof *b);
    size_t cap = nnz_hint ? nnz_hint : 64;
    rs_err e = alloc_matrix(&b->m, n_rows, n_cols, cap);
    if (e)
        return e;
    b->cap = cap;
    b->agg = agg;
    return RS_OK;
}

void rs_csr_builder_destroy(rs_csr_builder *b)
{
    rs_csr_destroy(&b->m);
    rs_free(b->scratch);
    memset(b, 0, sizeof *b);
}

/* Stable merge sort of e[0..n) by column, using tmp[0..n). */
static void sort_entries(entry *e, entry *tmp, size_t n)
{
    if (n <= 16) {
        for (size_t i = 1; i < n; i++) {
            entry x = e[i];
            size_t j = i;
            while (j > 0 && e[j - 1].col > x.col) {
                e[j] = e[j - 1];
                j--;
            }
            e[j] = x;
        }
        return;
    }
    size_t h = n / 2;
    sort_entries(e, tmp, h);
    sort_entries(e + h, tmp, n - h);
    if (e[h - 1].col <= e[h].col)
        return;
    memcpy(tmp, e, h * sizeof *e);
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n)
        e[k++] = tmp[i].col <= e[j].col ? tmp[i++] : e[j++];
    while (i < h)
        e[k++] = tmp[i++];
}

static float combine(rs_agg agg, float acc, float v)
{
    switch (agg) {
    case RS_AGG_SUM: return acc + v;
    case RS_AGG_MAX: return v > acc ? v : acc;
    case RS_AGG_LAST: return v;
    }
    return v;
}

/* Stable insertion sort of a row by column in place: the fallback when no
 * scratch memory can be had, so that closing a row never fails. */
static void insertion_sort_row(uint32_t *idx, float *val, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        uint32_t c = idx[i];
        float v = val[i];
        size_t j = i;
        while (j > 0 && idx[j - 1] > c) {
            idx[j] = idx[j - 1];
            val[j] = val[j - 1];
            j--;
        }
        idx[j] = c;
        val[j] = v;
    }
}

/* Sorts the current row by column (stable) and merges duplicates in place. */
static void close_row(rs_csr_builder *b)
{
    size_t start = b->row_start, n = b->m.nnz - start;
    uint32_t *idx = b->m.indices + start;
    float *val = b->m.values + start;
    int sorted = 1;
    for (size_t i = 1; i < n && sorted; i++)
        sorted = idx[i] > idx[i - 1];
    if (sorted)
        return;

    if (b->scratch_cap < 2 * n) {
        void *s = rs_try_reallocarray(b->scratch, 2 * n, sizeof(entry));
        if (s) {
            b->scratch = s;
            b->scratch_cap = 2 * n;
        }
    }
    if (b->scratch_cap >= 2 * n) {
        entry *e = b->scratch, *tmp = e + n;
        for (size_t i = 0; i < n; i++)
            e[i] = (entry){idx[i], val[i]};
        sort_entries(e, tmp, n);
        for (size_t i = 0; i < n; i++) {
            idx[i] = e[i].col;
            val[i] = e[i].val;
        }
    } else {
        insertion_sort_row(idx, val, n);
    }
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        if (w > 0 && idx[w - 1] == idx[i]) {
            val[w - 1] = combine(b->agg, val[w - 1], val[i]);
        } else {
            idx[w] = idx[i];
            val[w] = val[i];
            w++;
        }
    }
    b->m.nnz = start + w;
}

/* Marks rows (b->row, upto] as starting at the current end. */
static void advance_rows(rs_csr_builder *b, uint32_t upto)
{
    for (uint32_t r = b->row + 1; r <= upto; r++)
        b->m.indptr[r] = b->m.nnz;
    b->row = upto;
    b->row_start = b->m.nnz;
}

rs_err rs_csr_builder_add(rs_csr_builder *b, uint32_t row, uint32_t col, float value)
{
    if (row >= b->m.n_rows || col >= b->m.n_cols || row < b->row || !isfinite(value))
        return RS_EINVAL;
    if (row > b->row) {
        close_row(b);
        advance_rows(b, row);
    }
    if (b->m.nnz == b->cap) {
        size_t cap = b->cap + b->cap / 2 + 16;
        uint32_t *idx = rs_try_reallocarray(b->m.indices, cap, sizeof *idx);
        if (!idx)
            return RS_ENOMEM;
        b->m.indices = idx;
        float *val = rs_try_reallocarray(b->m.values, cap, sizeof *val);
        if (!val)
            return RS_ENOMEM;
        b->m.values = val;
        b->cap = cap;
    }
    b->m.indices[b->m.nnz] = col;
    b->m.values[b->m.nnz] = value;
    b->m.nnz++;
    return RS_OK;
}

void rs_csr_builder_finish(rs_csr_builder *b, rs_csr *out)
{
    close_row(b);
    if (b->m.n_rows > 0)
        advance_rows(b, b->m.n_rows);
    else
        b->m.indptr[0] = 0;
    /* Shrinking never needs new memory; keep the old block if it fails. */
    if (b->m.nnz < b->cap) {
        uint32_t *idx = rs_try_reallocarray(b->m.indices, b->m.nnz, sizeof *idx);
        if (idx)
            b->m.indices = idx;
        float *val = rs_try_reallocarray(b->m.values, b->m.nnz, sizeof *val);
        if (val)
            b->m.values = val;
    }
    *out = b->m;
    memset(&b->m, 0, sizeof b->m);
    rs_csr_builder_destroy(b);
}

/* --- unordered input --------------------------------------------------- */

/* Stable merge sort of positions p[0..n) by ts[p], using tmp[0..n). */
static void sort_by_time(uint64_t *p, uint64_t *tmp, size_t n, const int64_t *ts)
{
    if (n < 2)
        return;
    size_t h = n / 2;
    sort_by_time(p, tmp, h, ts);
    sort_by_time(p + h, tmp, n - h, ts);
    if (ts[p[h - 1]] <= ts[p[h]])
        return;
    memcpy(tmp, p, h * sizeof *p);
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n)
        p[k++] = ts[tmp[i]] <= ts[p[j]] ? tmp[i++] : p[j++];
    while (i < h)
        p[k++] = tmp[i++];
}

rs_err rs_csr_from_coo(uint32_t n_rows, uint32_t n_cols, const uint32_t *rows,
                       const uint32_t *cols, const float *vals, const int64_t *ts, size_t n,
                       rs_agg agg, rs_csr *out)
{
    memset(out, 0, sizeof *out);
    for (size_t k = 0; k < n; k++)
        if (rows[k] >= n_rows || cols[k] >= n_cols || !isfinite(vals[k]))
            return RS_EINVAL;

    /* A stable counting sort of positions by row ... */
    uint64_t *start = rs_try_calloc((size_t)n_rows + 1, sizeof *start);
    uint64_t *perm = rs_try_reallocarray(NULL, n, sizeof *perm);
    uint64_t *tmp = rs_try_reallocarray(NULL, n, sizeof *tmp);
    rs_err e = RS_ENOMEM;
    if (!start || !perm || !tmp)
        goto done;
    for (size_t k = 0; k < n; k++)
        start[rows[k] + 1]++;
    for (uint32_t r = 0; r < n_rows; r++)
        start[r + 1] += start[r];
    for (size_t k = 0; k < n; k++)
        perm[start[rows[k]]++] = k;
    for (uint32_t r = n_rows; r > 0; r--)
        start[r] = start[r - 1];
    start[0] = 0;

    /* ... then, when times are given, a stable sort of each row by time. */
    if (ts)
        for (uint32_t r = 0; r < n_rows; r++)
            sort_by_time(perm + start[r], tmp, (size_t)(start[r + 1] - start[r]), ts);

    rs_csr_builder b;
    e = rs_csr_builder_init(&b, n_rows, n_cols, n, agg);
    if (e)
        goto done;
    for (size_t k = 0; k < n; k++) {
        size_t p = perm[k];
        e = rs_csr_builder_add(&b, rows[p], cols[p], vals[p]);
        if (e) {
            rs_csr_builder_destroy(&b);
            goto done;
        }
    }
    rs_csr_builder_finish(&b, out);
done:
    rs_free(start);
    rs_free(perm);
    rs_free(tmp);
    return e;
}
