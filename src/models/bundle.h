/* A model version: everything `recsys train` produces and the server
 * answers from, saved as one artifact file (models/artifact.h) and loaded
 * back by mapping that file. The id maps, each item's category and hidden
 * flag, the training interactions (to leave out what a user already has),
 * and whichever models were trained: popularity, implicit ALS, similar
 * items, item-kNN, explicit MF, and the hybrid with its content
 * vocabulary.
 *
 * A loaded bundle's arrays point into the mapped file (no copy); only the
 * id maps are rebuilt, as hash tables. Every section is checked against
 * the dimensions before use, so a damaged file is refused, never trusted.
 * A bundle is immutable once built or loaded and may be read from any
 * number of threads. */
#ifndef RS_MODELS_BUNDLE_H
#define RS_MODELS_BUNDLE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/common.h"
#include "core/csr.h"
#include "core/err.h"
#include "core/idmap.h"
#include "data/content.h"
#include "models/als.h"
#include "models/artifact.h"
#include "models/hybrid.h"
#include "models/knn.h"
#include "models/mf.h"
#include "models/popularity.h"

/* Which models a bundle holds (bit flags). */
enum {
    RS_MODEL_POPULARITY = 1u << 0,
    RS_MODEL_ALS = 1u << 1,
    RS_MODEL_SIMILAR = 1u << 2,
    RS_MODEL_KNN = 1u << 3,
    RS_MODEL_MF = 1u << 4,
    RS_MODEL_HYBRID = 1u << 5,
    RS_MODEL_LAST = RS_MODEL_HYBRID,
};
#define RS_MODEL_COUNT 6

typedef struct rs_bundle {
    unsigned models;           /* RS_MODEL_* flags */
    char *meta;                /* JSON object text: version, parameters,
                                * metrics, data fingerprint (owned) */
    rs_idmap *users, *items, *categories;
    uint32_t *item_category;   /* n_items; RS_INDEX_NONE: none */
    uint8_t *item_hidden;      /* n_items flags */
    rs_csr seen;               /* n_users x n_items training interactions */
    rs_popularity pop;
    rs_als_model als;
    rs_csr similar;            /* ranked neighbours from ALS item factors */
    rs_knn_model knn;
    rs_mf_model mf;
    rs_content content;        /* the hybrid's vocabulary */
    rs_hybrid_model hybrid;
    rs_artifact *file;         /* when loaded: owns the memory above */
} rs_bundle;

/* Parses a model name ("popularity", "als", "similar", "knn", "mf",
 * "hybrid") to
 * its flag; 0 when unknown. */
unsigned rs_model_parse(const char *name);
const char *rs_model_name(unsigned flag);

/* Writes the bundle to path atomically. Errors: RS_EIO, RS_ENOMEM. */
RS_MUST_USE rs_err rs_bundle_save(const rs_bundle *b, const char *path, rs_diag *diag);

/* Maps and verifies path into *out. Errors: those of rs_artifact_open, and
 * RS_ECORRUPT when a section is missing or inconsistent (diag names it).
 * *out is zeroed on error. */
RS_MUST_USE rs_err rs_bundle_load(const char *path, rs_bundle *out, rs_diag *diag);

/* Frees what the bundle owns: a built bundle's models and maps, or a
 * loaded bundle's maps and mapping. Accepts a zeroed struct. */
void rs_bundle_destroy(rs_bundle *b);

#endif
