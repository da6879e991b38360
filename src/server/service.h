/* The state `recsys serve` answers from: the store, the model store and
 * the registry's name for the model, the version being served (a
 * reference-counted snapshot, swapped atomically when another version goes
 * to production), the training scheduler and the metrics.
 * Created once at startup; the request handlers (router.c, recs.c, ops.c)
 * only read it, apart from the snapshot references and the counters. */
#ifndef RS_SERVER_SERVICE_H
#define RS_SERVER_SERVICE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/common.h"
#include "core/err.h"
#include "models/bundle.h"
#include "models/score.h"
#include "registry/objstore.h"
#include "server/foldin.h"
#include "server/fresh.h"
#include "server/http.h"
#include "server/metrics.h"
#include "server/store_pool.h"
#include "store/store.h"

#define RS_KEY_DIGEST 32

/* One loaded model version. Requests hold a reference while they use it;
 * the last reference frees it, so a swap never pulls a model from under a
 * request. */
typedef struct rs_snapshot {
    rs_bundle b;
    float *item_blocked;    /* ALS item factors in the blocked layout of
                             * models/score.h; NULL without ALS */
    rs_item_index *item_index; /* over the ALS item factors (score.h), what
                                * recommendations are scored with; NULL
                                * without ALS */
    rs_foldin *foldin;      /* users updated since this version; NULL
                             * without ALS */
    float *hyb_blocked;     /* the hybrid's item vectors, blocked; NULL
                             * without a hybrid */
    rs_item_index *hyb_index; /* over the hybrid's item vectors */
    rs_fresh *fresh;        /* items the model has not seen, with content
                             * vectors; NULL without a hybrid */
    uint8_t *hidden;        /* n_items flags: the bundle's, then the store's
                             * at load, then every write since (set and
                             * cleared with relaxed atomics by writers) */
    uint64_t version;       /* 0: popularity computed from the store, no
                             * model having been published */
    uint64_t store_events;  /* version 0: the store's events it counts */
    int64_t loaded_ms;      /* wall clock */
    int64_t trained_ms;     /* when the version was trained (its metadata);
                             * loaded_ms for version 0 */
    double ndcg, recall;    /* its held-out metrics (primary model); NaN
                             * when it was not evaluated */
    double load_seconds;
    atomic_int refs;
} rs_snapshot;

struct rs_scheduler;
struct rs_poller;

/* The roles a server can play (--roles): the routes it mounts.
 * /healthz, /readyz, /metrics, /v1/status and the API docs are mounted
 * whatever the roles. */
enum {
    RS_ROLE_INPUT = 1u << 0,       /* users, items, categories, events */
    RS_ROLE_COLLAB = 1u << 1,      /* recommend (strategy collab), similar */
    RS_ROLE_HYBRID = 1u << 2,      /* recommend (hybrid, and auto), similar */
    RS_ROLE_POPULARITY = 1u << 3,  /* recommend (popularity), popular */
    RS_ROLE_ADMIN = 1u << 4,       /* the web UI, runs, models, train */
    RS_ROLES_ALL = (1u << 5) - 1,
};

/* Parses a comma-separated list of role names, or "all". RS_EINVAL names
 * an unknown role. */
RS_MUST_USE rs_err rs_roles_parse(const char *list, unsigned *out, rs_diag *diag);

/* Writes the names of the roles in set ("all", or "input,admin") into buf;
 * returns the length. */
size_t rs_roles_format(unsigned set, char *buf, size_t cap);

typedef struct rs_service {
    char model_name[65];        /* the model's name in the registry */
    char tmp_dir[4096];         /* where remote artifacts are downloaded */
    rs_objstore *objects;       /* guarded by reload_lock */
    pthread_mutex_t reload_lock; /* one reload at a time */
    struct rs_scheduler *scheduler; /* training runs (POST /v1/train); NULL for none */
    struct rs_poller *poller;   /* the model poller thread; NULL for none */
    uint64_t refused_version;   /* a production version that failed its checksum or
                                 * would not load; not fetched again (reload_lock) */
    char refused_checksum[RS_SHA256_HEX];
    rs_store_pool stores;       /* the store handles, one per request thread */
    pthread_mutex_t lock;       /* guards cur */
    rs_snapshot *cur;           /* NULL until a model is loaded */
    rs_metrics metrics;
    size_t foldin_capacity;     /* users kept per model version */
    int64_t started_ms;         /* when rs_service_init ran (wall clock) */
    unsigned roles;             /* RS_ROLE_* mounted */
    bool has_key, has_read_key; /* --api-key, --api-key-read */
    unsigned char key[RS_KEY_DIGEST], read_key[RS_KEY_DIGEST];
} rs_service;

/* Keys are kept and compared as SHA-256 digests, so that a comparison
 * takes the same time whatever the bytes (router.c). */
RS_MUST_USE bool rs_key_digest(const char *key, unsigned char out[RS_KEY_DIGEST]);

/* Sets the API key (write and admin routes) and the read key (read
 * routes); NULL or "" for none. */
RS_MUST_USE rs_err rs_service_set_keys(rs_service *s, const char *key, const char *read_key,
                                       rs_diag *diag);

/* Tells the served snapshot about an item just written: its hidden flag
 * takes effect at once (it stops or starts being recommended), and an
 * item the model has not seen becomes recommendable through its content
 * (with a hybrid model). */
void rs_service_item_written(rs_service *s, const rs_item *it);

/* What a service is started with. */
typedef struct rs_service_opts {
    const char *db_url, *models_url;
    const char *model_name;     /* the registry's name of the model served */
    const char *tmp_dir;        /* for downloads from a remote model store */
    size_t foldin_capacity;     /* users whose vectors follow their events in
                                 * real time (server/foldin.h) */
    size_t store_handles;       /* store handles (connections) to open: the
                                 * request threads plus the server's own */
    unsigned roles;             /* RS_ROLE_* to mount; 0 means all */
} rs_service_opts;

/* Opens the store and the model store, and loads the production version
 * when there is one (having none yet is not an error: see
 * rs_service_reload). Errors: the store's, a malformed model store URL, a
 * production version that cannot be loaded. */
RS_MUST_USE rs_err rs_service_init(rs_service *s, const rs_service_opts *o, rs_diag *diag);

/* Loads the registry's production version when it differs from the one
 * being served: fetches its artifact, checks its checksum, verifies and
 * prepares it beside the served one and swaps it in; *swapped says
 * whether it did. A version that fails is refused (the error says why) and
 * the served one stays; a version refused for its content (checksum,
 * format) is not fetched again while it stays in production, one that
 * could not be fetched is tried again at the next reload. While no version
 * is in production, serves
 * popularity computed from the store's events as version 0 (recomputed
 * when their number changes); with no events either, nothing is served
 * yet. One reload runs at a time. */
RS_MUST_USE rs_err rs_service_reload(rs_service *s, bool *swapped, rs_diag *diag);

/* Asks the model poller to reload now (server/poller.c); returns at once.
 * Without a poller, does nothing. */
void rs_service_reload_soon(rs_service *s);

/* A reference to the served snapshot, or NULL when there is none; give it
 * back with rs_snapshot_release. */
rs_snapshot *rs_service_acquire(rs_service *s);
void rs_snapshot_release(rs_snapshot *snap);

/* Frees everything. Call after the HTTP server has stopped. */
void rs_service_destroy(rs_service *s);

/* The HTTP handler (router.c): ctx is the rs_service. */
void rs_service_handle(void *ctx, const rs_http_request *req, rs_http_response *resp);

#endif
