/* Internal to the explicit MF model: the solvers behind rs_mf_fit. */
#ifndef RS_MODELS_MF_IMPL_H
#define RS_MODELS_MF_IMPL_H

#include "models/mf.h"

/* Each solver fits m, whose arrays rs_mf_fit has allocated (zeroed) and
 * whose mean it has set, in scaled units: a rating v is v / scale, the
 * mean is already scaled. rs_mf_fit scales the result back. */
RS_MUST_USE rs_err rs__mf_fit_gibbs(const rs_csr *R, const rs_mf_opts *o, rs_mf_model *m,
                                    float scale, rs_diag *diag);

#endif
