/* An interaction data set ready for training: the users and items as dense
 * indices (with their external ids) and the user x item matrix in CSR form.
 * Loaded from the store in one read snapshot: users and items are numbered
 * in store-key order, and events stream straight into the CSR builder
 * grouped by user, so the peak memory is about the final matrix plus the id
 * maps (no copy of the events is ever held). */
#ifndef RS_DATA_DATASET_H
#define RS_DATA_DATASET_H

#include "core/csr.h"
#include "core/idmap.h"
#include "data/content.h"
#include "store/store.h"

typedef struct rs_dataset {
    rs_idmap *users;   /* dense user index <-> user id */
    rs_idmap *items;   /* dense item index <-> item id */
    rs_csr ui;         /* n_users x n_items; value = events combined by the rule */
    int64_t *ts_ms;    /* ui.nnz times aligned with ui.indices: the latest
                        * event of each (user, item) pair, in ms */
    rs_idmap *categories;     /* dense category index <-> category name */
    uint32_t *item_category;  /* n_items category indices; RS_INDEX_NONE
                               * for an item without a category */
    uint8_t *item_hidden;     /* n_items flags: 1 = never recommend */
    rs_content content;       /* with opts.content: the items' vocabulary */
    rs_csr features;          /* with opts.content: n_items x terms */
    uint64_t events;   /* events read */
    int64_t newest_event_ms;
    uint64_t fingerprint;  /* a hash of every event read, in scan order: the
                            * same store contents give the same value */
} rs_dataset;

typedef struct rs_dataset_opts {
    rs_agg agg;       /* how repeated (user, item) events combine */
    bool content;     /* also build the items' content features */
    rs_content_opts content_opts;
} rs_dataset_opts;

/* Loads everything the store holds. Errors: the store's (diag says what),
 * RS_ENOMEM when the matrix does not fit. *out is empty on error. */
RS_MUST_USE rs_err rs_dataset_load(rs_store *s, const rs_dataset_opts *opts, rs_dataset *out,
                                   rs_diag *diag);

/* Loads a data set straight from files in one of the import formats
 * (data/import.h), through a temporary SQLite store under $TMPDIR (or
 * /tmp) that is removed before returning. Malformed rows are skipped and
 * counted in *bad_rows (may be NULL). Errors: the importer's and the
 * store's, RS_EIO when no temporary folder can be made. */
RS_MUST_USE rs_err rs_dataset_from_files(const char *const *paths, size_t n_paths, int format,
                                         const rs_dataset_opts *opts, rs_dataset *out,
                                         uint64_t *bad_rows, rs_diag *diag);

/* Frees everything; accepts an all-zero struct. */
void rs_dataset_destroy(rs_dataset *d);

#endif
