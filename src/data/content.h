/* Item content features: what the hybrid model (models/hybrid.h) learns
 * from, so that an item nobody has touched yet still has a vector.
 *
 * Each item becomes a sparse row over a vocabulary of terms:
 *   c:<category>        one-hot, IDF weighted
 *   b:<brand>           one-hot, IDF weighted
 *   t:<tag>             lower-cased, IDF weighted
 *   w:<title word>      lower-cased ASCII letters and digits (other bytes
 *                       kept), stop words and bare numbers dropped, term
 *                       frequency x IDF
 *   a:<key>=<value>     a string attribute, IDF weighted
 *   n:<key>             a numeric (or boolean) attribute, standardised by
 *                       the training items' mean and deviation, clipped
 *                       to +-3
 * and the row is scaled to unit length. Terms on fewer than min_df items
 * are dropped (they cannot generalise), and at most max_terms of the most
 * frequent are kept. The vocabulary and its weights are saved with the
 * model, so an item created after training gets exactly the features it
 * would have had (rs_content_features). */
#ifndef RS_DATA_CONTENT_H
#define RS_DATA_CONTENT_H

#include <stddef.h>
#include <stdint.h>

#include "core/common.h"
#include "core/csr.h"
#include "core/err.h"
#include "core/idmap.h"
#include "store/store.h"

#define RS_CONTENT_DEFAULT_MIN_DF 2
#define RS_CONTENT_DEFAULT_MAX_TERMS 4096

typedef struct rs_content_opts {
    uint32_t min_df;     /* RS_CONTENT_DEFAULT_MIN_DF when 0 */
    uint32_t max_terms;  /* RS_CONTENT_DEFAULT_MAX_TERMS when 0 */
} rs_content_opts;

/* The vocabulary. Built: everything owned. Loaded from a model file: the
 * arrays point into the mapping and only `terms` is owned. */
typedef struct rs_content {
    rs_idmap *terms;   /* term text <-> column */
    float *weight;     /* per term: IDF, or 1/deviation of a numeric one */
    float *mean;       /* per term: a numeric term's mean, 0 for the others */
} rs_content;

/* The longest feature row an item can have (terms of one item). */
#define RS_CONTENT_MAX_ROW 1024

/* An item's feature row under vocabulary c: columns ascending into
 * idx[0..n), values into val, unit length (or empty when the item has no
 * known term). idx and val hold RS_CONTENT_MAX_ROW entries. Returns n. */
size_t rs_content_features(const rs_content *c, const rs_item *it, uint32_t *idx, float *val);

/* Frees a built vocabulary; accepts a zeroed struct. */
void rs_content_destroy(rs_content *c);

/* Builds the vocabulary and feature matrix over a catalogue: items are
 * added in their index order, then finish makes the n_items x n_terms
 * matrix (rows ascending, unit length). */
typedef struct rs_content_builder rs_content_builder;

rs_content_builder *rs_content_builder_new(void);
/* Errors: RS_ENOMEM; the builder can only be freed then. */
RS_MUST_USE rs_err rs_content_builder_add(rs_content_builder *cb, const rs_item *it);
/* Errors: RS_ENOMEM. Outputs are zeroed on error. */
RS_MUST_USE rs_err rs_content_builder_finish(rs_content_builder *cb, const rs_content_opts *o,
                                             rs_content *vocab, rs_csr *features);
void rs_content_builder_free(rs_content_builder *cb);

#endif
