/* Sparse matrices of core/csr.h: the builder against a naive dense
 * reference on random data (rows in non-decreasing order, random columns,
 * many duplicates, long rows) for each aggregation rule, including LAST
 * keeping the latest entry; empty rows, empty matrices and zero rows;
 * errors that leave the builder usable; nnz hints too small and exact;
 * transpose (twice is the identity) and copy; rs_csr_validate on every
 * kind of corruption; rs_csr_from_coo on shuffled triplets with and
 * without times against the builder on sorted input; rs_csr_memory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/csr.h"

#define MAX_R 40
#define MAX_C 50
#define MAX_EV 6000

/* A small local generator (xorshift64*), independent of core/rng. */
static uint64_t rs_state = 0x2545f4914f6cdd1du;

static uint32_t rnd(uint32_t n)
{
    rs_state ^= rs_state >> 12;
    rs_state ^= rs_state << 25;
    rs_state ^= rs_state >> 27;
    return (uint32_t)(((rs_state * UINT64_C(2685821657736338717)) >> 32) % n);
}

typedef struct event {
    uint32_t row, col;
    float val;
    int64_t ts;
} event;

/* The naive dense reference: events applied in order. */
typedef struct dense {
    uint32_t n_rows, n_cols;
    bool present[MAX_R][MAX_C];
    float val[MAX_R][MAX_C];
} dense;

static void dense_apply(dense *d, const event *ev, size_t n, rs_agg agg)
{
    for (size_t i = 0; i < n; i++) {
        const event *e = &ev[i];
        float *v = &d->val[e->row][e->col];
        if (!d->present[e->row][e->col]) {
            d->present[e->row][e->col] = true;
            *v = e->val;
        } else if (agg == RS_AGG_SUM) {
            *v += e->val;
        } else if (agg == RS_AGG_MAX) {
            *v = e->val > *v ? e->val : *v;
        } else {
            *v = e->val;
        }
    }
}

/* m equals d exactly and passes validation. */
static void assert_matches_dense(const rs_csr *m, const dense *d)
{
    const char *why = NULL;
    if (rs_csr_validate(m, &why) != RS_OK)
        fail_msg("invalid matrix: %s", why);
    assert_int_equal(m->n_rows, d->n_rows);
    assert_int_equal(m->n_cols, d->n_cols);
    size_t nnz = 0;
    for (uint32_t r = 0; r < d->n_rows; r++) {
        uint64_t k = m->indptr[r];
        for (uint32_t c = 0; c < d->n_cols; c++) {
            if (!d->present[r][c])
                continue;
            nnz++;
            if (k >= m->indptr[r + 1] || m->indices[k] != c)
                fail_msg("row %u: missing column %u", r, c);
            if (m->values[k] != d->val[r][c])
                fail_msg("(%u, %u) = %g, want %g", r, c, (double)m->values[k],
                         (double)d->val[r][c]);
            k++;
        }
        if (k != m->indptr[r + 1])
            fail_msg("row %u has extra entries", r);
    }
    assert_int_equal(m->nnz, nnz);
}

static void assert_csr_equal(const rs_csr *a, const rs_csr *b)
{
    assert_int_equal(a->n_rows, b->n_rows);
    assert_int_equal(a->n_cols, b->n_cols);
    assert_int_equal(a->nnz, b->nnz);
    assert_memory_equal(a->indptr, b->indptr, ((size_t)a->n_rows + 1) * sizeof *a->indptr);
    if (a->nnz) {
        assert_memory_equal(a->indices, b->indices, a->nnz * sizeof *a->indices);
        assert_memory_equal(a->values, b->values, a->nnz * sizeof *a->values);
    }
}

/* Random events: rows non-decreasing, some rows skipped, some very long
 * (past the insertion-sort cut-off), columns from a narrow or wide range so
 * that duplicates are common, small whole values so sums are exact, and
 * strictly increasing times. */
static size_t gen_events(event *ev, uint32_t n_rows, uint32_t n_cols, size_t max_ev)
{
    size_t n = 0;
    int64_t ts = 1000;
    for (uint32_t r = 0; r < n_rows; r++) {
        uint32_t kind = rnd(6);
        size_t len = kind == 0 ? 0 : kind == 1 ? 1 : kind == 5 ? 20 + rnd(150) : rnd(12);
        uint32_t span = rnd(2) ? n_cols : 1 + rnd(RS_MIN(n_cols, 6u));
        uint32_t base = rnd(n_cols - span + 1);
        for (size_t i = 0; i < len && n < max_ev; i++) {
            ev[n++] = (event){r, base + rnd(span), (float)((int)rnd(21) - 10), ts};
            ts += 1 + rnd(3);
        }
    }
    return n;
}

static rs_csr build(const event *ev, size_t n, uint32_t n_rows, uint32_t n_cols, size_t hint,
                    rs_agg agg)
{
    rs_csr_builder b;
    assert_int_equal(rs_csr_builder_init(&b, n_rows, n_cols, hint, agg), RS_OK);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(rs_csr_builder_add(&b, ev[i].row, ev[i].col, ev[i].val), RS_OK);
    rs_csr m;
    rs_csr_builder_finish(&b, &m);
    return m;
}

static void test_agg_names(void **state)
{
    (void)state;
    assert_int_equal(rs_agg_parse("sum"), RS_AGG_SUM);
    assert_int_equal(rs_agg_parse("max"), RS_AGG_MAX);
    assert_int_equal(rs_agg_parse("last"), RS_AGG_LAST);
    assert_int_equal(rs_agg_parse("SUM"), -1);
    assert_int_equal(rs_agg_parse(""), -1);
    assert_int_equal(rs_agg_parse("mean"), -1);
    assert_string_equal(rs_agg_name(RS_AGG_SUM), "sum");
    assert_string_equal(rs_agg_name(RS_AGG_MAX), "max");
    assert_string_equal(rs_agg_name(RS_AGG_LAST), "last");
}

/* A hand-computed example for each rule. */
static void test_small_by_hand(void **state)
{
    (void)state;
    const event ev[] = {{0, 2, 1, 0}, {0, 1, 5, 0}, {0, 2, 3, 0}, {2, 0, 4, 0}, {2, 0, 2, 0},
                        {2, 3, -1, 0}};
    const float want_sum[] = {5, 4, 6, -1}, want_max[] = {5, 3, 4, -1},
                want_last[] = {5, 3, 2, -1};
    const float *wants[] = {want_sum, want_max, want_last};
    const rs_agg aggs[] = {RS_AGG_SUM, RS_AGG_MAX, RS_AGG_LAST};
    for (int a = 0; a < 3; a++) {
        rs_csr m = build(ev, RS_ARRAY_LEN(ev), 4, 4, 0, aggs[a]);
        assert_int_equal(m.nnz, 4);
        const uint64_t indptr[] = {0, 2, 2, 4, 4};
        const uint32_t indices[] = {1, 2, 0, 3};
        assert_memory_equal(m.indptr, indptr, sizeof indptr);
        assert_memory_equal(m.indices, indices, sizeof indices);
        assert_memory_equal(m.values, wants[a], 4 * sizeof(float));
        /* (rows + 1) offsets of 8 bytes, then 4 + 4 bytes per entry. */
        assert_int_equal(rs_csr_memory(&m), 5 * 8 + 4 * 8);
        rs_csr_destroy(&m);
        assert_null(m.indptr);
        assert_int_equal(m.nnz, 0);
        rs_csr_destroy(&m); /* an all-zero struct is accepted */
    }
}

static void test_random_vs_dense(void **state)
{
    (void)state;
    static event ev[MAX_EV];
    static dense d;
    const rs_agg aggs[] = {RS_AGG_SUM, RS_AGG_MAX, RS_AGG_LAST};
    for (int rep = 0; rep < 60; rep++) {
        uint32_t n_rows = 1 + rnd(MAX_R), n_cols = 1 + rnd(MAX_C);
        size_t n = gen_events(ev, n_rows, n_cols, MAX_EV);
        for (int a = 0; a < 3; a++) {
            memset(&d, 0, sizeof d);
            d.n_rows = n_rows;
            d.n_cols = n_cols;
            dense_apply(&d, ev, n, aggs[a]);
            size_t final_nnz = 0;
            for (uint32_t r = 0; r < n_rows; r++)
                for (uint32_t c = 0; c < n_cols; c++)
                    final_nnz += d.present[r][c];
            /* Hints: default, far too small, the final nnz (smaller than the
             * events when there are duplicates), and the exact event count. */
            size_t hints[] = {0, 1, final_nnz, n};
            rs_csr first = {0};
            for (size_t h = 0; h < RS_ARRAY_LEN(hints); h++) {
                rs_csr m = build(ev, n, n_rows, n_cols, hints[h], aggs[a]);
                assert_matches_dense(&m, &d);
                assert_int_equal(rs_csr_memory(&m), ((size_t)n_rows + 1) * 8 + m.nnz * 8);
                if (h == 0)
                    first = m;
                else {
                    assert_csr_equal(&m, &first);
                    rs_csr_destroy(&m);
                }
            }
            rs_csr_destroy(&first);
        }
    }
}

/* LAST keeps the latest value even when the same column appears many
 * times across a long row that takes the merge-sort path. */
static void test_last_keeps_latest(void **state)
{
    (void)state;
    rs_csr_builder b;
    assert_int_equal(rs_csr_builder_init(&b, 2, 10, 0, RS_AGG_LAST), RS_OK);
    for (int i = 0; i < 100; i++)
        assert_int_equal(rs_csr_builder_add(&b, 1, (uint32_t)(9 - i % 10), (float)i), RS_OK);
    rs_csr m;
    rs_csr_builder_finish(&b, &m);
    assert_int_equal(m.nnz, 10);
    assert_int_equal(m.indptr[1], 0);
    for (uint32_t c = 0; c < 10; c++) {
        /* Column c was last written at i = 90 + (9 - c). */
        assert_int_equal(m.indices[c], c);
        assert_true(m.values[c] == (float)(99 - c));
    }
    rs_csr_destroy(&m);
}

static void test_empty_shapes(void **state)
{
    (void)state;
    const rs_agg aggs[] = {RS_AGG_SUM, RS_AGG_MAX, RS_AGG_LAST};
    for (int a = 0; a < 3; a++) {
        /* A 5 x 7 matrix with no entries. */
        rs_csr m = build(NULL, 0, 5, 7, 0, aggs[a]);
        assert_int_equal(m.nnz, 0);
        for (int r = 0; r <= 5; r++)
            assert_int_equal(m.indptr[r], 0);
        assert_int_equal(rs_csr_validate(&m, NULL), RS_OK);
        assert_int_equal(rs_csr_memory(&m), 6 * 8);
        rs_csr t;
        assert_int_equal(rs_csr_transpose(&m, &t), RS_OK);
        assert_int_equal(t.n_rows, 7);
        assert_int_equal(t.n_cols, 5);
        assert_int_equal(t.nnz, 0);
        assert_int_equal(rs_csr_validate(&t, NULL), RS_OK);
        rs_csr_destroy(&t);
        rs_csr_destroy(&m);

        /* Zero rows: nothing can be added, the result is valid. */
        rs_csr_builder b;
        assert_int_equal(rs_csr_builder_init(&b, 0, 3, 10, aggs[a]), RS_OK);
        assert_int_equal(rs_csr_builder_add(&b, 0, 0, 1.0f), RS_EINVAL);
        rs_csr_builder_finish(&b, &m);
        assert_int_equal(m.n_rows, 0);
        assert_int_equal(m.nnz, 0);
        assert_int_equal(m.indptr[0], 0);
        assert_int_equal(rs_csr_validate(&m, NULL), RS_OK);
        assert_int_equal(rs_csr_memory(&m), 8);
        assert_int_equal(rs_csr_transpose(&m, &t), RS_OK);
        assert_int_equal(t.n_rows, 3);
        assert_int_equal(rs_csr_validate(&t, NULL), RS_OK);
        rs_csr_destroy(&t);
        rs_csr_destroy(&m);

        /* Zero columns. */
        assert_int_equal(rs_csr_builder_init(&b, 3, 0, 0, aggs[a]), RS_OK);
        assert_int_equal(rs_csr_builder_add(&b, 0, 0, 1.0f), RS_EINVAL);
        rs_csr_builder_finish(&b, &m);
        assert_int_equal(m.indptr[3], 0);
        assert_int_equal(rs_csr_validate(&m, NULL), RS_OK);
        rs_csr_destroy(&m);
    }

    /* Entries only in the first and the last row; rows between are empty. */
    const event ev[] = {{0, 1, 2, 0}, {9, 0, 3, 0}, {9, 0, 4, 0}};
    rs_csr m = build(ev, 3, 10, 2, 0, RS_AGG_SUM);
    const uint64_t indptr[] = {0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2};
    assert_memory_equal(m.indptr, indptr, sizeof indptr);
    assert_true(m.values[1] == 7.0f);
    rs_csr_destroy(&m);
    /* Only the last row. */
    const event last[] = {{4, 2, 1, 0}};
    m = build(last, 1, 5, 3, 1, RS_AGG_MAX);
    const uint64_t ip2[] = {0, 0, 0, 0, 0, 1};
    assert_memory_equal(m.indptr, ip2, sizeof ip2);
    rs_csr_destroy(&m);
}

/* Bad calls mixed into a random stream fail with RS_EINVAL and change
 * nothing: the result equals the reference built from the good calls. */
static void test_errors_leave_builder_usable(void **state)
{
    (void)state;
    static event ev[MAX_EV];
    static dense d;
    for (int rep = 0; rep < 20; rep++) {
        uint32_t n_rows = 2 + rnd(MAX_R - 1), n_cols = 1 + rnd(MAX_C);
        size_t n = gen_events(ev, n_rows, n_cols, MAX_EV);
        rs_agg agg = (rs_agg)(rep % 3);
        rs_csr_builder b;
        assert_int_equal(rs_csr_builder_init(&b, n_rows, n_cols, rep % 2 ? 1 : 0, agg),
                         RS_OK);
        for (size_t i = 0; i < n; i++) {
            uint32_t r = ev[i].row, c = ev[i].col;
            switch (rnd(8)) {
            case 0:
                /* Only a real step back: the builder is already on row r. */
                if (i > 0 && ev[i - 1].row == r && r > 0)
                    assert_int_equal(rs_csr_builder_add(&b, r - 1, c, 1.0f), RS_EINVAL);
                break;
            case 1: assert_int_equal(rs_csr_builder_add(&b, r, n_cols, 1.0f), RS_EINVAL); break;
            case 2: assert_int_equal(rs_csr_builder_add(&b, n_rows, c, 1.0f), RS_EINVAL); break;
            case 3: assert_int_equal(rs_csr_builder_add(&b, r, c, NAN), RS_EINVAL); break;
            case 4: assert_int_equal(rs_csr_builder_add(&b, r, c, INFINITY), RS_EINVAL); break;
            case 5: assert_int_equal(rs_csr_builder_add(&b, r, c, -INFINITY), RS_EINVAL); break;
            case 6:
                assert_int_equal(rs_csr_builder_add(&b, UINT32_MAX, UINT32_MAX, 1.0f),
                                 RS_EINVAL);
                break;
            default: break;
            }
            assert_int_equal(rs_csr_builder_add(&b, r, c, ev[i].val), RS_OK);
        }
        rs_csr m;
        rs_csr_builder_finish(&b, &m);
        memset(&d, 0, sizeof d);
        d.n_rows = n_rows;
        d.n_cols = n_cols;
        dense_apply(&d, ev, n, agg);
        assert_matches_dense(&m, &d);
        rs_csr_destroy(&m);
    }

    /* A row going backwards right after moving to a new row. */
    rs_csr_builder b;
    assert_int_equal(rs_csr_builder_init(&b, 3, 3, 0, RS_AGG_SUM), RS_OK);
    assert_int_equal(rs_csr_builder_add(&b, 0, 2, 1.0f), RS_OK);
    assert_int_equal(rs_csr_builder_add(&b, 0, 0, 1.0f), RS_OK);
    assert_int_equal(rs_csr_builder_add(&b, 2, 1, 5.0f), RS_OK);
    assert_int_equal(rs_csr_builder_add(&b, 1, 1, 5.0f), RS_EINVAL);
    assert_int_equal(rs_csr_builder_add(&b, 0, 1, 5.0f), RS_EINVAL);
    assert_int_equal(rs_csr_builder_add(&b, 2, 1, 1.0f), RS_OK);
    rs_csr m;
    rs_csr_builder_finish(&b, &m);
    const uint64_t indptr[] = {0, 2, 2, 3};
    const uint32_t indices[] = {0, 2, 1};
    const float values[] = {1, 1, 6};
    assert_memory_equal(m.indptr, indptr, sizeof indptr);
    assert_memory_equal(m.indices, indices, sizeof indices);
    assert_memory_equal(m.values, values, sizeof values);
    rs_csr_destroy(&m);

    /* An unfinished builder is released by destroy (checked by ASan and
     * valgrind for leaks). */
    assert_int_equal(rs_csr_builder_init(&b, 3, 3, 1, RS_AGG_SUM), RS_OK);
    for (int i = 0; i < 50; i++)
        assert_int_equal(rs_csr_builder_add(&b, 1, (uint32_t)(2 - i % 3), 1.0f), RS_OK);
    assert_int_equal(rs_csr_builder_add(&b, 2, 0, 1.0f), RS_OK); /* closes row 1 */
    rs_csr_builder_destroy(&b);
}

static void test_transpose_and_copy(void **state)
{
    (void)state;
    static event ev[MAX_EV];
    for (int rep = 0; rep < 40; rep++) {
        uint32_t n_rows = 1 + rnd(MAX_R), n_cols = 1 + rnd(MAX_C);
        size_t n = gen_events(ev, n_rows, n_cols, MAX_EV);
        rs_csr m = build(ev, n, n_rows, n_cols, n, RS_AGG_SUM);
        rs_csr t, tt, c;
        assert_int_equal(rs_csr_transpose(&m, &t), RS_OK);
        const char *why = NULL;
        if (rs_csr_validate(&t, &why) != RS_OK)
            fail_msg("transpose invalid: %s", why);
        assert_int_equal(t.n_rows, n_cols);
        assert_int_equal(t.n_cols, n_rows);
        assert_int_equal(t.nnz, m.nnz);
        /* Every entry of m is at its mirrored place in t. */
        for (uint32_t r = 0; r < m.n_rows; r++) {
            for (uint64_t k = m.indptr[r]; k < m.indptr[r + 1]; k++) {
                uint32_t col = m.indices[k];
                bool found = false;
                for (uint64_t q = t.indptr[col]; q < t.indptr[col + 1]; q++)
                    if (t.indices[q] == r) {
                        assert_true(t.values[q] == m.values[k]);
                        found = true;
                    }
                assert_true(found);
            }
        }
        assert_int_equal(rs_csr_transpose(&t, &tt), RS_OK);
        assert_csr_equal(&tt, &m);
        assert_int_equal(rs_csr_copy(&m, &c), RS_OK);
        assert_csr_equal(&c, &m);
        assert_ptr_not_equal(c.indptr, m.indptr);
        assert_ptr_not_equal(c.values, m.values);
        rs_csr_destroy(&t);
        rs_csr_destroy(&tt);
        rs_csr_destroy(&c);
        rs_csr_destroy(&m);
    }
}

/* A fresh 3 x 4 matrix: row 0 = {0: 1, 2: 2}, row 1 = {}, row 2 = {1: 3, 3: 4}. */
static rs_csr sample(void)
{
    const event ev[] = {{0, 0, 1, 0}, {0, 2, 2, 0}, {2, 1, 3, 0}, {2, 3, 4, 0}};
    rs_csr m = build(ev, 4, 3, 4, 4, RS_AGG_SUM);
    assert_int_equal(rs_csr_validate(&m, NULL), RS_OK);
    return m;
}

static void expect_corrupt(rs_csr *m, const char *reason_part)
{
    const char *why = NULL;
    assert_int_equal(rs_csr_validate(m, &why), RS_ECORRUPT);
    assert_non_null(why);
    if (!strstr(why, reason_part))
        fail_msg("reason \"%s\" lacks \"%s\"", why, reason_part);
    assert_int_equal(rs_csr_validate(m, NULL), RS_ECORRUPT);
    rs_csr_destroy(m);
}

static void test_validate(void **state)
{
    (void)state;
    rs_csr m = sample();
    m.indptr[0] = 1;
    expect_corrupt(&m, "indptr[0]");

    m = sample();
    m.indptr[3] = 3;
    expect_corrupt(&m, "nnz");

    m = sample();
    m.nnz = 5;
    expect_corrupt(&m, "nnz");

    /* Offsets that decrease: row 1 would end before it starts. */
    m = sample();
    m.indptr[2] = 1;
    expect_corrupt(&m, "offsets");

    /* An offset past nnz followed by smaller ones: must be caught before
     * any entry past the arrays is read (ASan checks the reads). */
    m = sample();
    m.indptr[1] = 1000;
    expect_corrupt(&m, "offsets");
    m = sample();
    m.indptr[1] = UINT64_MAX;
    expect_corrupt(&m, "offsets");

    m = sample();
    m.indices[3] = 4;
    expect_corrupt(&m, "column index out of range");
    m = sample();
    m.indices[0] = UINT32_MAX;
    expect_corrupt(&m, "column index out of range");

    m = sample();
    m.indices[0] = 2; /* row 0 becomes {2, 2}: a duplicate */
    expect_corrupt(&m, "ascending");
    m = sample();
    m.indices[2] = 3;
    m.indices[3] = 1; /* row 2 becomes {3, 1}: descending */
    expect_corrupt(&m, "ascending");

    m = sample();
    m.values[1] = NAN;
    expect_corrupt(&m, "non-finite");
    m = sample();
    m.values[3] = INFINITY;
    expect_corrupt(&m, "non-finite");
    m = sample();
    m.values[2] = -INFINITY;
    expect_corrupt(&m, "non-finite");

    /* The sample itself and its transpose are valid. */
    m = sample();
    rs_csr t;
    assert_int_equal(rs_csr_transpose(&m, &t), RS_OK);
    assert_int_equal(rs_csr_validate(&t, NULL), RS_OK);
    const uint64_t tptr[] = {0, 1, 2, 3, 4};
    const uint32_t tidx[] = {0, 2, 0, 2};
    const float tval[] = {1, 3, 2, 4};
    assert_memory_equal(t.indptr, tptr, sizeof tptr);
    assert_memory_equal(t.indices, tidx, sizeof tidx);
    assert_memory_equal(t.values, tval, sizeof tval);
    rs_csr_destroy(&t);
    rs_csr_destroy(&m);
}

typedef struct pos_event {
    event e;
    size_t pos;
} pos_event;

static int cmp_row_ts_pos(const void *a, const void *b)
{
    const pos_event *x = a, *y = b;
    if (x->e.row != y->e.row)
        return x->e.row < y->e.row ? -1 : 1;
    if (x->e.ts != y->e.ts)
        return x->e.ts < y->e.ts ? -1 : 1;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* Times drawn from a tiny range, so most entries tie: equal times must
 * keep their array order (the later position wins under LAST). The
 * reference orders by (row, time, position) and applies in that order. */
static void test_from_coo_equal_times(void **state)
{
    (void)state;
    static event ev[MAX_EV];
    static pos_event pe[MAX_EV];
    static uint32_t rows[MAX_EV], cols[MAX_EV];
    static float vals[MAX_EV];
    static int64_t ts[MAX_EV];
    static dense d;
    for (int rep = 0; rep < 30; rep++) {
        uint32_t n_rows = 1 + rnd(8), n_cols = 1 + rnd(6);
        size_t n = gen_events(ev, n_rows, n_cols, MAX_EV);
        for (size_t i = n; i > 1; i--) {
            size_t j = rnd((uint32_t)i);
            event tmp = ev[i - 1];
            ev[i - 1] = ev[j];
            ev[j] = tmp;
        }
        for (size_t i = 0; i < n; i++) {
            ev[i].ts = rnd(4);
            ev[i].val = (float)i; /* distinct values show which entry won */
            rows[i] = ev[i].row;
            cols[i] = ev[i].col;
            vals[i] = ev[i].val;
            ts[i] = ev[i].ts;
            pe[i] = (pos_event){ev[i], i};
        }
        qsort(pe, n, sizeof *pe, cmp_row_ts_pos);
        for (size_t i = 0; i < n; i++)
            ev[i] = pe[i].e;
        memset(&d, 0, sizeof d);
        d.n_rows = n_rows;
        d.n_cols = n_cols;
        dense_apply(&d, ev, n, RS_AGG_LAST);
        rs_csr got;
        assert_int_equal(
            rs_csr_from_coo(n_rows, n_cols, rows, cols, vals, ts, n, RS_AGG_LAST, &got), RS_OK);
        assert_matches_dense(&got, &d);
        rs_csr_destroy(&got);
    }
}

/* Shuffled triplets with times give the same matrix as the builder on the
 * same events sorted by (row, time). */
static void test_from_coo(void **state)
{
    (void)state;
    static event ev[MAX_EV], sorted[MAX_EV];
    static uint32_t rows[MAX_EV], cols[MAX_EV];
    static float vals[MAX_EV];
    static int64_t ts[MAX_EV];
    static dense d;
    for (int rep = 0; rep < 40; rep++) {
        uint32_t n_rows = 1 + rnd(MAX_R), n_cols = 1 + rnd(MAX_C);
        size_t n = gen_events(ev, n_rows, n_cols, MAX_EV);
        memcpy(sorted, ev, n * sizeof *ev); /* generated in (row, time) order */
        /* Shuffle the triplets. */
        for (size_t i = n; i > 1; i--) {
            size_t j = rnd((uint32_t)i);
            event tmp = ev[i - 1];
            ev[i - 1] = ev[j];
            ev[j] = tmp;
        }
        for (size_t i = 0; i < n; i++) {
            rows[i] = ev[i].row;
            cols[i] = ev[i].col;
            vals[i] = ev[i].val;
            ts[i] = ev[i].ts;
        }
        for (int a = 0; a < 3; a++) {
            rs_agg agg = (rs_agg)a;
            rs_csr want = build(sorted, n, n_rows, n_cols, 0, agg);
            rs_csr got;
            assert_int_equal(rs_csr_from_coo(n_rows, n_cols, rows, cols, vals, ts, n, agg, &got),
                             RS_OK);
            assert_csr_equal(&got, &want);
            rs_csr_destroy(&got);
            rs_csr_destroy(&want);

            /* Without times the later position wins: the reference applies
             * the shuffled events in their array order. */
            assert_int_equal(
                rs_csr_from_coo(n_rows, n_cols, rows, cols, vals, NULL, n, agg, &got), RS_OK);
            memset(&d, 0, sizeof d);
            d.n_rows = n_rows;
            d.n_cols = n_cols;
            dense_apply(&d, ev, n, agg);
            assert_matches_dense(&got, &d);
            rs_csr_destroy(&got);
        }
    }

    /* Equal times: the later position wins; an earlier time at a later
     * position loses. */
    const uint32_t r[] = {1, 0, 1, 1, 1};
    const uint32_t c[] = {0, 0, 0, 1, 1};
    const float v[] = {10, 5, 20, 30, 40};
    const int64_t t[] = {100, 7, 100, 200, 150};
    rs_csr m;
    assert_int_equal(rs_csr_from_coo(2, 2, r, c, v, t, 5, RS_AGG_LAST, &m), RS_OK);
    const uint64_t ip[] = {0, 1, 3};
    const float vv[] = {5, 20, 30};
    assert_memory_equal(m.indptr, ip, sizeof ip);
    assert_memory_equal(m.values, vv, sizeof vv);
    rs_csr_destroy(&m);
    /* The same without times: position order only. */
    assert_int_equal(rs_csr_from_coo(2, 2, r, c, v, NULL, 5, RS_AGG_LAST, &m), RS_OK);
    const float vn[] = {5, 20, 40};
    assert_memory_equal(m.values, vn, sizeof vn);
    rs_csr_destroy(&m);
}

static void test_from_coo_edges(void **state)
{
    (void)state;
    rs_csr m;
    /* No triplets. */
    assert_int_equal(rs_csr_from_coo(3, 2, NULL, NULL, NULL, NULL, 0, RS_AGG_SUM, &m), RS_OK);
    assert_int_equal(m.nnz, 0);
    assert_int_equal(m.indptr[3], 0);
    assert_int_equal(rs_csr_validate(&m, NULL), RS_OK);
    rs_csr_destroy(&m);
    assert_int_equal(rs_csr_from_coo(0, 0, NULL, NULL, NULL, NULL, 0, RS_AGG_SUM, &m), RS_OK);
    assert_int_equal(m.n_rows, 0);
    rs_csr_destroy(&m);

    /* Errors zero *out. */
    const uint32_t r[] = {0, 1}, c[] = {0, 1};
    const float v[] = {1, 2}, vnan[] = {1, NAN}, vinf[] = {INFINITY, 1};
    const struct {
        uint32_t n_rows, n_cols;
        const float *vals;
    } bad[] = {{1, 2, v}, {2, 1, v}, {2, 2, vnan}, {2, 2, vinf}};
    for (size_t i = 0; i < RS_ARRAY_LEN(bad); i++) {
        memset(&m, 0x5a, sizeof m);
        assert_int_equal(rs_csr_from_coo(bad[i].n_rows, bad[i].n_cols, r, c, bad[i].vals, NULL,
                                         2, RS_AGG_SUM, &m),
                         RS_EINVAL);
        assert_null(m.indptr);
        assert_null(m.indices);
        assert_null(m.values);
        assert_int_equal(m.nnz, 0);
        rs_csr_destroy(&m);
    }
    assert_int_equal(rs_csr_from_coo(2, 2, r, c, v, NULL, 2, RS_AGG_MAX, &m), RS_OK);
    assert_int_equal(m.nnz, 2);
    assert_int_equal(rs_csr_memory(&m), 3 * 8 + 2 * 8);
    rs_csr_destroy(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_agg_names),
        cmocka_unit_test(test_small_by_hand),
        cmocka_unit_test(test_random_vs_dense),
        cmocka_unit_test(test_last_keeps_latest),
        cmocka_unit_test(test_empty_shapes),
        cmocka_unit_test(test_errors_leave_builder_usable),
        cmocka_unit_test(test_transpose_and_copy),
        cmocka_unit_test(test_validate),
        cmocka_unit_test(test_from_coo),
        cmocka_unit_test(test_from_coo_equal_times),
        cmocka_unit_test(test_from_coo_edges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
