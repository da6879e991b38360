/* Sparse interaction matrices in compressed sparse row form (CSR), and
 * their transposes (the CSC view of the same matrix is the CSR of its
 * transpose). Rows are users and columns items for the user-major matrix;
 * rs_csr_transpose gives the item-major one.
 *
 * Building: events arrive grouped by row, each row's entries in time order
 * (which is how the store streams them). The builder appends straight into
 * the final arrays and, when a row is complete, sorts it by column (stable)
 * and merges duplicates by the chosen rule. With an exact nnz hint the peak
 * memory is the final matrix plus one row of scratch, with no triplet copy.
 * For data in arbitrary order rs_csr_from_coo sorts first. */
#ifndef RS_CORE_CSR_H
#define RS_CORE_CSR_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "err.h"

/* How entries for the same (row, column) combine. */
typedef enum rs_agg {
    RS_AGG_SUM,   /* add the values (interaction counts) */
    RS_AGG_MAX,   /* keep the largest */
    RS_AGG_LAST,  /* keep the latest in time order (a re-rating replaces) */
} rs_agg;

/* Parses "sum", "max", "last"; returns -1 otherwise. */
int rs_agg_parse(const char *s);
const char *rs_agg_name(rs_agg a);

typedef struct rs_csr {
    uint32_t n_rows, n_cols;
    size_t nnz;
    uint64_t *indptr;   /* n_rows + 1 offsets; row r is [indptr[r], indptr[r+1]) */
    uint32_t *indices;  /* nnz column indices, ascending and unique per row */
    float *values;      /* nnz values */
} rs_csr;

/* Frees the arrays and zeroes the struct. Accepts an all-zero struct. */
void rs_csr_destroy(rs_csr *m);

/* Bytes held by the three arrays. */
size_t rs_csr_memory(const rs_csr *m);

/* The transpose of m (so the CSC form of m) into *out: rows of out are the
 * columns of m, each with its row indices ascending. RS_ENOMEM leaves *out
 * zeroed. */
RS_MUST_USE rs_err rs_csr_transpose(const rs_csr *m, rs_csr *out);

/* Deep copy. */
RS_MUST_USE rs_err rs_csr_copy(const rs_csr *m, rs_csr *out);

/* Checks the structural invariants (offsets monotone, indices in range,
 * ascending and unique per row, values finite). Returns RS_ECORRUPT with a
 * reason in *why on the first violation. For tests and loaders. */
RS_MUST_USE rs_err rs_csr_validate(const rs_csr *m, const char **why);

typedef struct rs_csr_builder {
    rs_csr m;            /* the matrix being built; owned until finish */
    size_t cap;          /* entries allocated in m.indices / m.values */
    rs_agg agg;
    uint32_t row;        /* the row currently being appended to */
    size_t row_start;    /* where that row starts in indices/values */
    void *scratch;       /* sort scratch, one row long at most; owned */
    size_t scratch_cap;  /* entries in scratch */
} rs_csr_builder;

/* Prepares a builder for an n_rows x n_cols matrix. nnz_hint sizes the
 * arrays up front (pass the event count: duplicates only make the result
 * smaller); they grow by half again when it is too small. RS_ENOMEM leaves
 * nothing allocated. */
RS_MUST_USE rs_err rs_csr_builder_init(rs_csr_builder *b, uint32_t n_rows, uint32_t n_cols,
                                       size_t nnz_hint, rs_agg agg);

/* Appends one entry. Rows must not decrease from call to call; within a
 * row, later calls are later in time (RS_AGG_LAST keeps the last one).
 * Errors: RS_EINVAL for a row or column out of range or a row that goes
 * backwards, or a non-finite value; RS_ENOMEM when the arrays cannot grow.
 * On error the builder is unchanged and still usable. */
RS_MUST_USE rs_err rs_csr_builder_add(rs_csr_builder *b, uint32_t row, uint32_t col, float value);

/* Completes the matrix into *out (moving the arrays out) and releases the
 * builder. The arrays are shrunk to the final nnz. */
void rs_csr_builder_finish(rs_csr_builder *b, rs_csr *out);

/* Releases an unfinished builder. */
void rs_csr_builder_destroy(rs_csr_builder *b);

/* Builds a matrix from n triplets in any order. ts (may be NULL) gives each
 * entry's time for RS_AGG_LAST; without it the later position wins, as it
 * also does for equal times. Errors as for the builder; *out is zeroed on
 * error. Uses O(n) temporary memory. */
RS_MUST_USE rs_err rs_csr_from_coo(uint32_t n_rows, uint32_t n_cols, const uint32_t *rows,
                                   const uint32_t *cols, const float *vals, const int64_t *ts,
                                   size_t n, rs_agg agg, rs_csr *out);

#endif
