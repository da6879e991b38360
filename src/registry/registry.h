/* The model registry: the versions of a named model, recorded in the store
 * (rs_model_version: run, artifact URI, checksum, size, metrics, stage)
 * with their artifacts in the model store (registry/objstore.h).
 *
 * A version is registered only after its artifact has been uploaded
 * completely and verified, so no reader ever sees a half-written model.
 * Exactly one version per name is in production at a time; the servers
 * poll for it and swap it in. The promotion policy decides whether a new
 * version replaces the production one: it does when its held-out ndcg is
 * at least the production version's minus a relative tolerance. */
#ifndef RS_REGISTRY_REGISTRY_H
#define RS_REGISTRY_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/common.h"
#include "core/err.h"
#include "registry/objstore.h"
#include "store/store.h"

#define RS_REGISTRY_DEFAULT_NAME "default"
#define RS_REGISTRY_DEFAULT_TOLERANCE 0.01
#define RS_REGISTRY_DEFAULT_KEEP 10

typedef enum rs_promote_mode {
    RS_PROMOTE_AUTO,    /* by the held-out score (see the file comment) */
    RS_PROMOTE_ALWAYS,  /* every new version goes to production */
    RS_PROMOTE_NEVER,   /* new versions stay candidates until promoted by hand */
} rs_promote_mode;

/* "auto", "always", "never"; -1 for others. */
int rs_promote_mode_parse(const char *s);

typedef struct rs_registry_policy {
    rs_promote_mode mode;
    double tolerance;   /* relative: 0.01 accepts down to 99% of production's score */
    size_t keep;        /* versions kept (older ones and their artifacts are
                         * deleted; production and the version a rollback
                         * would return to are always kept); 0 keeps all */
} rs_registry_policy;

/* The defaults: auto, 1%, keep 10. */
rs_registry_policy rs_registry_policy_default(void);

/* What a new version is registered with. */
typedef struct rs_registry_entry {
    const char *name;          /* the model's name in the registry */
    const char *run_id;        /* the run that made it (NULL for none) */
    const char *artifact;      /* local path of the model file to upload */
    const char *metrics;       /* JSON object (NULL for none) */
    double score;              /* the held-out ndcg the policy compares; NaN when unknown */
} rs_registry_entry;

typedef struct rs_registry_result {
    uint64_t version;
    bool promoted;             /* it is now in production */
    uint64_t replaced;         /* the production version it replaced (0: none) */
    char uri[1024];
    char checksum[RS_SHA256_HEX];
    uint64_t size_bytes;
    char note[512];            /* why it was or was not promoted */
} rs_registry_result;

/* Uploads e->artifact as object "model-RUN.rsm" (a new run-style id
 * without a run; publishing twice from one run is not supported), registers it as the next version of e->name, applies the
 * policy, and then deletes versions beyond policy->keep (failures to
 * delete are logged, not returned). Errors: the model store's (nothing is
 * registered then), the store's (the uploaded object is deleted again). */
RS_MUST_USE rs_err rs_registry_publish(rs_store *s, rs_objstore *objects,
                                       const rs_registry_entry *e,
                                       const rs_registry_policy *policy,
                                       rs_registry_result *out, rs_diag *diag);

/* Puts a version in production by hand (the old one is archived). Errors:
 * RS_ENOTFOUND for an unknown version, the store's. */
RS_MUST_USE rs_err rs_registry_promote(rs_store *s, const char *name, uint64_t version,
                                       uint64_t *replaced, rs_diag *diag);

/* Takes the production version out of production and puts back the one
 * that was in production before it (the most recently promoted other
 * version). Repeated rollbacks walk further back. *restored gets it,
 * *retired the version taken out. Errors: RS_ENOTFOUND when there is no
 * production version or none to go back to. */
RS_MUST_USE rs_err rs_registry_rollback(rs_store *s, const char *name, uint64_t *restored,
                                        uint64_t *retired, rs_diag *diag);

/* Makes version v's artifact available as a local file for loading: the
 * object itself for a file:// store, else a download into tmp_dir whose
 * path is returned with *temporary set (the caller removes it). The
 * artifact is taken from `objects` when its URI is in that store, else
 * from the store the URI names. Either way its SHA-256 is checked against
 * v->checksum. Errors: RS_ECORRUPT on a mismatch, the model store's. */
RS_MUST_USE rs_err rs_registry_fetch(rs_objstore *objects, const rs_model_version *v,
                                     const char *tmp_dir, char *path, size_t cap,
                                     bool *temporary, rs_diag *diag);

#endif
