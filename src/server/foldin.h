/* Real-time updates of the served model: when events arrive for a user,
 * the user's factor vector is recomputed against the fixed item factors
 * (one k x k solve, rs_als_fold_in) from the user's training interactions
 * plus everything received since, and kept in a bounded LRU cache beside
 * the model version it belongs to. Recommendations for a cached user use
 * that vector and leave out every item the user has touched, so a new
 * event changes the next answer at once and a brand-new user gets
 * personal results after a few events. Thread-safe (one mutex). */
#ifndef RS_SERVER_FOLDIN_H
#define RS_SERVER_FOLDIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/common.h"
#include "core/err.h"
#include "models/bundle.h"

typedef struct rs_foldin rs_foldin;

/* A cache for bundle b (borrowed; must outlive it) holding at most
 * capacity users. NULL when b has no ALS model. The ALS settings come from
 * the parameters recorded in b's metadata (library defaults for any that
 * are missing). */
rs_foldin *rs_foldin_new(const rs_bundle *b, size_t capacity);
void rs_foldin_free(rs_foldin *f);

/* Adds a user's new interactions (model item indices, values summed into
 * what the user already has) and recomputes the vector. Errors: RS_ENOMEM,
 * RS_EINTERNAL when the system cannot be solved. */
RS_MUST_USE rs_err rs_foldin_add(rs_foldin *f, const char *user_id, const uint32_t *items,
                                 const float *values, size_t n);

/* When user_id is cached: copies its vector into x (factors floats), sets
 * *items (ascending, caller frees with rs_free) and *n, returns true. */
bool rs_foldin_get(rs_foldin *f, const char *user_id, float *x, uint32_t **items, size_t *n);

#endif
