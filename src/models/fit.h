/* Fitting a chosen set of models on one interaction matrix into a bundle:
 * the step `recsys train` runs on all the data and `recsys eval` runs on
 * the training part of a split. Hyperparameters of every model live in one
 * rs_model_params so that the CLI, the tuner and the run tracker pass them
 * around as one value. */
#ifndef RS_MODELS_FIT_H
#define RS_MODELS_FIT_H

#include <stdint.h>

#include "core/common.h"
#include "core/csr.h"
#include "core/err.h"
#include "data/content.h"
#include "models/bundle.h"
#include "models/similar.h"

typedef struct rs_model_params {
    rs_als_opts als;
    rs_mf_opts mf;
    rs_knn_opts knn;
    rs_similar_opts similar;
    rs_hybrid_opts hybrid;
    rs_content_opts content;  /* the hybrid's vocabulary */
    double half_life_ms;   /* trending popularity */
    int threads;           /* 0: the OpenMP default; copied into each model's options */
} rs_model_params;

/* The defaults of every model (see each model's header for why). */
void rs_model_params_default(rs_model_params *p);

/* p as a JSON object {"als": {"factors": 64, ...}, "hybrid": {...}, ...}
 * (models/params_json.c); free with rs_free. */
char *rs_model_params_json(const rs_model_params *p);

/* Overrides the parameters of p named in json (the shape above; sections
 * and keys left out keep their value). RS_EINVAL names an unknown
 * parameter or a bad value; p is unchanged then. */
RS_MUST_USE rs_err rs_model_params_from_json(const char *json, rs_model_params *p,
                                             rs_diag *diag);

/* What the models are fitted on. Borrowed for the call. */
typedef struct rs_fit_input {
    const rs_csr *ui;               /* n_users x n_items */
    const int64_t *ts_ms;           /* ui->nnz entry times, or NULL */
    const uint32_t *item_category;  /* n_items, or NULL */
    uint32_t n_categories;
    const rs_csr *features;         /* n_items x terms content (data/content.h);
                                     * needed by the hybrid */
} rs_fit_input;

/* Fits `models` (RS_MODEL_* flags; SIMILAR and HYBRID also fit ALS, whose
 * factors they use) into b->pop / als / similar / knn / mf / hybrid and
 * sets b->models. b->seen becomes a copy of in->ui. seconds[i] receives the fit
 * time of the model with flag 1 << i (may be NULL). Progress is logged at
 * info level. Errors: the models' (RS_EINVAL for a bad parameter, diag
 * names it; RS_ENOMEM); the bundle's models are freed then. */
RS_MUST_USE rs_err rs_fit_models(const rs_fit_input *in, unsigned models,
                                 const rs_model_params *p, rs_bundle *b, double seconds[RS_MODEL_COUNT],
                                 rs_diag *diag);

#endif
