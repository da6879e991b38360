/* Train/test splits (see split.h). Each split marks every entry as train
 * or test, then both matrices are copied out in one pass. */
#include "split.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/rng.h"

static const char *const names[] = {"random", "temporal", "time"};

int rs_split_parse(const char *s)
{
    for (int i = 0; i < (int)RS_ARRAY_LEN(names); i++)
        if (!strcmp(s, names[i]))
            return i;
    return -1;
}

const char *rs_split_name(rs_split_kind k)
{
    return (unsigned)k < RS_ARRAY_LEN(names) ? names[k] : "?";
}

static const char *const protocols[] = {"normal", "cold-items", "cold-users"};

int rs_protocol_parse(const char *s)
{
    for (int i = 0; i < (int)RS_ARRAY_LEN(protocols); i++)
        if (!strcmp(s, protocols[i]))
            return i;
    return -1;
}

const char *rs_protocol_name(rs_protocol p)
{
    return (unsigned)p < RS_ARRAY_LEN(protocols) ? protocols[p] : "?";
}

/* How many of a user's n entries go to test. */
static size_t n_test(size_t n, double fraction)
{
    if (n < 2)
        return 0;
    size_t t = (size_t)floor(fraction * (double)n + 0.5);
    return t > n - 1 ? n - 1 : t;
}

/* Random: a partial Fisher-Yates shuffle of the row's positions with the
 * user's own stream picks the test entries. */
static void mark_random(const rs_csr *m, const rs_split_opts *o, uint8_t *is_test,
                        uint32_t *perm)
{
    for (uint32_t u = 0; u < m->n_rows; u++) {
        const size_t a = m->indptr[u], n = m->indptr[u + 1] - a, t = n_test(n, o->test_fraction);
        if (!t)
            continue;
        rs_rng r;
        rs_rng_init_stream(&r, o->seed, u);
        for (size_t i = 0; i < n; i++)
            perm[i] = (uint32_t)i;
        for (size_t i = 0; i < t; i++) {
            size_t j = i + rs_rng_below(&r, (uint32_t)(n - i));
            uint32_t x = perm[i];
            perm[i] = perm[j];
            perm[j] = x;
            is_test[a + perm[i]] = 1;
        }
    }
}

/* Temporal: the latest entries of each user; among equal times the higher
 * column counts as later. */
typedef struct timed {
    int64_t ts;
    uint32_t pos;
} timed;

static int by_time(const void *x, const void *y)
{
    const timed *a = x, *b = y;
    if (a->ts != b->ts)
        return a->ts < b->ts ? -1 : 1;
    return (a->pos > b->pos) - (a->pos < b->pos);
}

static void mark_temporal(const rs_csr *m, const int64_t *ts, double fraction, uint8_t *is_test,
                          timed *tmp)
{
    for (uint32_t u = 0; u < m->n_rows; u++) {
        const size_t a = m->indptr[u], n = m->indptr[u + 1] - a, t = n_test(n, fraction);
        if (!t)
            continue;
        for (size_t i = 0; i < n; i++)
            tmp[i] = (timed){ts[a + i], (uint32_t)i};
        qsort(tmp, n, sizeof *tmp, by_time);
        for (size_t i = n - t; i < n; i++)
            is_test[a + tmp[i].pos] = 1;
    }
}

static int cmp_i64(const void *x, const void *y)
{
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
    return (a > b) - (a < b);
}

/* Time cut: entries at or after the cut are test. */
static rs_err mark_time_cut(const rs_csr *m, const int64_t *ts, const rs_split_opts *o,
                            uint8_t *is_test)
{
    int64_t cut = o->cut_ms;
    if (!cut && m->nnz) {
        int64_t *sorted = rs_try_malloc(m->nnz * sizeof *sorted);
        if (!sorted)
            return RS_ENOMEM;
        memcpy(sorted, ts, m->nnz * sizeof *sorted);
        qsort(sorted, m->nnz, sizeof *sorted, cmp_i64);
        size_t at = (size_t)floor((1.0 - o->test_fraction) * (double)m->nnz);
        cut = sorted[at < m->nnz ? at : m->nnz - 1];
        rs_free(sorted);
    }
    for (size_t j = 0; j < m->nnz; j++)
        is_test[j] = ts[j] >= cut;
    return RS_OK;
}

/* Cold items: a random share of the columns, all of whose entries are
 * test. */
static rs_err mark_cold_items(const rs_csr *m, const rs_split_opts *o, uint8_t *is_test)
{
    uint32_t *perm = rs_try_malloc((m->n_cols ? m->n_cols : 1) * sizeof *perm);
    uint8_t *cold = rs_try_calloc(m->n_cols ? m->n_cols : 1, 1);
    if (!perm || !cold) {
        rs_free(perm);
        rs_free(cold);
        return RS_ENOMEM;
    }
    for (uint32_t i = 0; i < m->n_cols; i++)
        perm[i] = i;
    rs_rng r;
    rs_rng_init(&r, o->seed);
    rs_rng_shuffle_u32(&r, perm, m->n_cols);
    const size_t n_cold = (size_t)floor(o->test_fraction * (double)m->n_cols + 0.5);
    for (size_t i = 0; i < n_cold; i++)
        cold[perm[i]] = 1;
    for (size_t j = 0; j < m->nnz; j++)
        is_test[j] = cold[m->indices[j]];
    rs_free(perm);
    rs_free(cold);
    return RS_OK;
}

/* Cold users: a random share of the users with more than o->keep entries
 * keeps only its first o->keep (by time, or a random choice without
 * times) in training. */
static void mark_cold_users(const rs_csr *m, const int64_t *ts, const rs_split_opts *o,
                            uint8_t *is_test, timed *tmp)
{
    for (uint32_t u = 0; u < m->n_rows; u++) {
        const size_t a = m->indptr[u], n = m->indptr[u + 1] - a;
        rs_rng r;
        rs_rng_init_stream(&r, o->seed, u);
        if (n <= o->keep || rs_rng_uniform(&r) >= o->test_fraction)
            continue;
        for (size_t i = 0; i < n; i++)
            tmp[i] = (timed){ts ? ts[a + i] : (int64_t)rs_rng_u64(&r) >> 1, (uint32_t)i};
        qsort(tmp, n, sizeof *tmp, by_time);
        for (size_t i = o->keep; i < n; i++)
            is_test[a + tmp[i].pos] = 1;
    }
}

/* Copies the entries with is_test == want into out. */
static rs_err extract(const rs_csr *m, const uint8_t *is_test, uint8_t want, rs_csr *out)
{
    size_t nnz = 0;
    for (size_t j = 0; j < m->nnz; j++)
        nnz += is_test[j] == want;
    out->n_rows = m->n_rows;
    out->n_cols = m->n_cols;
    out->indptr = rs_try_calloc((size_t)m->n_rows + 1, sizeof *out->indptr);
    out->indices = rs_try_malloc((nnz ? nnz : 1) * sizeof *out->indices);
    out->values = rs_try_malloc((nnz ? nnz : 1) * sizeof *out->values);
    if (!out->indptr || !out->indices || !out->values) {
        rs_csr_destroy(out);
        return RS_ENOMEM;
    }
    size_t w = 0;
    for (uint32_t u = 0; u < m->n_rows; u++) {
        for (uint64_t j = m->indptr[u]; j < m->indptr[u + 1]; j++)
            if (is_test[j] == want) {
                out->indices[w] = m->indices[j];
                out->values[w] = m->values[j];
                w++;
            }
        out->indptr[u + 1] = w;
    }
    out->nnz = w;
    return RS_OK;
}

rs_err rs_split(const rs_csr *m, const int64_t *ts, const rs_split_opts *o, rs_csr *train,
                rs_csr *test, rs_diag *diag)
{
    memset(train, 0, sizeof *train);
    memset(test, 0, sizeof *test);
    if (!(o->test_fraction > 0.0 && o->test_fraction < 1.0))
        return rs_diag_fail(diag, RS_EINVAL, "the test fraction must be between 0 and 1, not %g",
                            o->test_fraction);
    if (o->kind != RS_SPLIT_RANDOM && o->kind != RS_SPLIT_TEMPORAL && o->kind != RS_SPLIT_TIME_CUT)
        return rs_diag_fail(diag, RS_EINVAL, "unknown split kind %d", (int)o->kind);
    if (o->protocol == RS_PROTOCOL_COLD_USERS && o->keep < 1)
        return rs_diag_fail(diag, RS_EINVAL, "cold-users must keep at least 1 interaction");
    if (o->protocol == RS_PROTOCOL_NORMAL && o->kind != RS_SPLIT_RANDOM && !ts)
        return rs_diag_fail(diag, RS_EINVAL, "the %s split needs event times",
                            rs_split_name(o->kind));
    size_t longest = 0;
    for (uint32_t u = 0; u < m->n_rows; u++)
        if (m->indptr[u + 1] - m->indptr[u] > longest)
            longest = m->indptr[u + 1] - m->indptr[u];
    uint8_t *is_test = rs_try_calloc(m->nnz ? m->nnz : 1, 1);
    void *tmp = rs_try_malloc((longest ? longest : 1) * sizeof(timed));
    rs_err e = is_test && tmp ? RS_OK : RS_ENOMEM;
    if (!e && o->protocol == RS_PROTOCOL_COLD_ITEMS) {
        e = mark_cold_items(m, o, is_test);
    } else if (!e && o->protocol == RS_PROTOCOL_COLD_USERS) {
        mark_cold_users(m, ts, o, is_test, tmp);
    } else if (!e) {
        switch (o->kind) {
        case RS_SPLIT_RANDOM: mark_random(m, o, is_test, tmp); break;
        case RS_SPLIT_TEMPORAL: mark_temporal(m, ts, o->test_fraction, is_test, tmp); break;
        case RS_SPLIT_TIME_CUT: e = mark_time_cut(m, ts, o, is_test); break;
        }
    }
    if (!e && !(e = extract(m, is_test, 0, train)))
        if ((e = extract(m, is_test, 1, test)))
            rs_csr_destroy(train);
    rs_free(is_test);
    rs_free(tmp);
    if (e)
        return rs_diag_fail(diag, e, "out of memory splitting %zu interactions", m->nnz);
    return RS_OK;
}
