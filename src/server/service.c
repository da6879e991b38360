/* The serving state: store and model snapshots (see service.h). */
#include "server/service.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/timeutil.h"
#include "eval/train.h"
#include "registry/registry.h"

rs_snapshot *rs_service_acquire(rs_service *s)
{
    pthread_mutex_lock(&s->lock);
    rs_snapshot *snap = s->cur;
    if (snap)
        atomic_fetch_add(&snap->refs, 1);
    pthread_mutex_unlock(&s->lock);
    return snap;
}

void rs_snapshot_release(rs_snapshot *snap)
{
    if (snap && atomic_fetch_sub(&snap->refs, 1) == 1) {
        rs_foldin_free(snap->foldin); /* it borrows the bundle */
        rs_bundle_destroy(&snap->b);
        rs_item_index_free(snap->item_index); /* it borrows the factors */
        rs_free(snap->item_blocked);
        rs_item_index_free(snap->hyb_index);
        rs_free(snap->hyb_blocked);
        rs_fresh_free(snap->fresh);
        rs_free(snap->hidden);
        rs_free(snap);
    }
}

/* Brings a snapshot up to date with an item as the store holds it. */
static void note_item(rs_snapshot *snap, const rs_item *it)
{
    const uint32_t i = rs_idmap_find(snap->b.items, it->id, strlen(it->id));
    if (i != RS_INDEX_NONE)
        __atomic_store_n(&snap->hidden[i], (uint8_t)it->hidden, __ATOMIC_RELAXED);
    else if (snap->fresh)
        rs_fresh_put(snap->fresh, it);
}

static int on_store_item(void *ctx, int64_t key, const rs_item *item)
{
    (void)key;
    note_item(ctx, item);
    return 0;
}

/* The snapshot's view of the catalogue as the store holds it now: items
 * may have been hidden, or created, since the model was trained. */
static rs_err load_items(rs_service *s, rs_snapshot *snap, rs_diag *diag)
{
    const size_t n = rs_idmap_size(snap->b.items);
    snap->hidden = rs_xmalloc(n ? n : 1);
    memcpy(snap->hidden, snap->b.item_hidden, n);
    rs_store *st = rs_store_pool_acquire(&s->stores);
    rs_err e = rs_store_scan_items(st, on_store_item, snap);
    if (e)
        rs_diag_fail(diag, e, "reading the items: %s", rs_store_errmsg(st));
    rs_store_pool_release(&s->stores, st);
    return e;
}

void rs_service_item_written(rs_service *s, const rs_item *it)
{
    rs_snapshot *snap = rs_service_acquire(s);
    if (!snap)
        return;
    note_item(snap, it);
    rs_snapshot_release(snap);
}

/* The blocked copy of a factor matrix and its scoring index. */
static rs_err index_factors(const float *Y, uint32_t n_items, uint32_t factors, float **blocked,
                            rs_item_index **index)
{
    const size_t n = rs_blocked_floats(n_items, factors);
    *blocked = rs_xmalloc((n ? n : 1) * sizeof **blocked);
    rs_block_factors(Y, n_items, factors, *blocked);
    return rs_item_index_new(Y, *blocked, n_items, factors, index);
}

bool rs_key_digest(const char *key, unsigned char out[RS_KEY_DIGEST])
{
    unsigned int len = RS_KEY_DIGEST;
    return EVP_Digest(key, strlen(key), out, &len, EVP_sha256(), NULL) == 1;
}

rs_err rs_service_set_keys(rs_service *s, const char *key, const char *read_key,
                           rs_diag *diag)
{
    s->has_key = key && *key;
    s->has_read_key = read_key && *read_key;
    if ((s->has_key && !rs_key_digest(key, s->key)) ||
        (s->has_read_key && !rs_key_digest(read_key, s->read_key)))
        return rs_diag_fail(diag, RS_EIO, "cannot hash the API keys (OpenSSL failed)");
    return RS_OK;
}

/* What the bundle's metadata says of the version: when it was trained and
 * its held-out ndcg and recall (NaN when absent). */
static void read_meta(rs_snapshot *snap)
{
    snap->ndcg = snap->recall = NAN;
    json_t *meta = snap->b.meta ? json_loads(snap->b.meta, 0, NULL) : NULL;
    json_t *created = json_object_get(meta, "created_ms");
    snap->trained_ms = json_is_integer(created) ? (int64_t)json_integer_value(created) : 0;
    json_t *metrics = json_object_get(meta, "metrics");
    json_t *ndcg = json_object_get(metrics, "ndcg"), *recall = json_object_get(metrics, "recall");
    if (json_is_number(ndcg))
        snap->ndcg = json_number_value(ndcg);
    if (json_is_number(recall))
        snap->recall = json_number_value(recall);
    json_decref(meta);
}

/* Builds what the server adds to a bundle: the scoring layout and index of
 * the ALS item factors, the fold-in cache and the current hidden flags. On
 * error the snapshot is freed. */
static rs_err prepare(rs_service *s, rs_snapshot *snap, const char *what, rs_diag *diag)
{
    const rs_als_model *als = &snap->b.als;
    rs_err e = RS_OK;
    atomic_init(&snap->refs, 1); /* the service's own reference, once installed */
    read_meta(snap);
    if (snap->b.models & RS_MODEL_ALS) {
        snap->foldin = rs_foldin_new(&snap->b, s->foldin_capacity);
        e = index_factors(als->item_factors, als->n_items, als->factors, &snap->item_blocked,
                          &snap->item_index);
    }
    if (!e && (snap->b.models & RS_MODEL_HYBRID)) {
        snap->fresh = rs_fresh_new(&snap->b);
        e = index_factors(snap->b.hybrid.item_factors, als->n_items, als->factors,
                          &snap->hyb_blocked, &snap->hyb_index);
    }
    if (e)
        rs_diag_fail(diag, e, "no memory for the item index of %s", what);
    if (e || (e = load_items(s, snap, diag))) {
        rs_snapshot_release(snap);
        atomic_fetch_add(&s->metrics.reload_failures, 1);
    }
    return e;
}

/* Makes snap the served snapshot; the old one is freed when its last
 * request is done. */
static void install(rs_service *s, rs_snapshot *snap, double t0)
{
    snap->load_seconds = rs_mono_s() - t0;
    snap->loaded_ms = rs_now_ms();
    if (!snap->trained_ms || !snap->version)
        snap->trained_ms = snap->loaded_ms;
    pthread_mutex_lock(&s->lock);
    rs_snapshot *old = s->cur;
    s->cur = snap;
    pthread_mutex_unlock(&s->lock);
    rs_snapshot_release(old);
    atomic_fetch_add(&s->metrics.reloads, 1);
}

/* With no model published: popularity computed from the store as version
 * 0, recomputed when the number of events has changed since. A store
 * without events leaves nothing to serve (not an error). */
static rs_err serve_popularity(rs_service *s, bool *swapped, rs_diag *diag)
{
    rs_store_counts counts;
    rs_store *st = rs_store_pool_acquire(&s->stores);
    rs_err e = rs_store_get_counts(st, &counts);
    if (e)
        rs_diag_fail(diag, e, "counting the store's events: %s", rs_store_errmsg(st));
    rs_store_pool_release(&s->stores, st);
    if (e)
        return e;
    rs_snapshot *cur = rs_service_acquire(s);
    const bool same = cur && cur->version == 0 && cur->store_events == counts.events;
    rs_snapshot_release(cur);
    if (same || counts.events == 0)
        return RS_OK;
    rs_snapshot *snap = rs_xcalloc(1, sizeof *snap);
    const double t0 = rs_mono_s();
    rs_train_opts o = {.models = RS_MODEL_POPULARITY, .agg = RS_AGG_SUM, .evaluate = false};
    rs_model_params_default(&o.eval.params);
    st = rs_store_pool_acquire(&s->stores);
    e = rs_train(st, &o, &snap->b, NULL, diag);
    rs_store_pool_release(&s->stores, st);
    if (e) {
        rs_free(snap);
        return e == RS_EINVAL ? RS_OK : e; /* EINVAL: no usable events yet */
    }
    if ((e = prepare(s, snap, "the store's popularity", diag)))
        return e;
    snap->store_events = counts.events;
    install(s, snap, t0);
    rs_log_info("no model published: serving popularity from the store",
                RS_U("events", counts.events), RS_F("seconds", snap->load_seconds));
    *swapped = true;
    return RS_OK;
}

/* The production version of the registry into *v (in arena a); *found
 * says whether there is one. */
static rs_err production_version(rs_service *s, rs_arena *a, rs_model_version *v, bool *found,
                                 rs_diag *diag)
{
    rs_store *st = rs_store_pool_acquire(&s->stores);
    rs_err e = rs_store_get_model_version(st, s->model_name, 0, a, v);
    if (e && e != RS_ENOTFOUND)
        rs_diag_fail(diag, e, "reading the registry: %s", rs_store_errmsg(st));
    rs_store_pool_release(&s->stores, st);
    *found = e == RS_OK;
    return e == RS_ENOTFOUND ? RS_OK : e;
}

/* Fetches, loads and installs version v. */
static rs_err load_version(rs_service *s, const rs_model_version *v, rs_diag *diag)
{
    char path[4200];
    bool temporary;
    const double t0 = rs_mono_s();
    rs_err e = rs_registry_fetch(s->objects, v, s->tmp_dir, path, sizeof path, &temporary, diag);
    if (e) {
        atomic_fetch_add(&s->metrics.reload_failures, 1);
        return e;
    }
    rs_snapshot *snap = rs_xcalloc(1, sizeof *snap);
    e = rs_bundle_load(path, &snap->b, diag);
    if (temporary)
        unlink(path); /* the loaded file stays mapped */
    if (e) {
        rs_free(snap);
        atomic_fetch_add(&s->metrics.reload_failures, 1);
        return e;
    }
    if ((e = prepare(s, snap, v->uri, diag)))
        return e;
    snap->version = v->version;
    install(s, snap, t0);
    rs_log_info("model loaded", RS_U("version", v->version), RS_S("uri", v->uri),
                RS_F("seconds", snap->load_seconds));
    return RS_OK;
}

static rs_err reload_locked(rs_service *s, bool *swapped, rs_diag *diag)
{
    rs_arena a;
    rs_arena_init(&a, 4096);
    rs_model_version v;
    bool found;
    rs_err e = production_version(s, &a, &v, &found, diag);
    if (!e && !found)
        e = serve_popularity(s, swapped, diag);
    if (e || !found) {
        rs_arena_destroy(&a);
        return e;
    }
    rs_snapshot *cur = rs_service_acquire(s);
    const bool same = cur && cur->version == v.version;
    rs_snapshot_release(cur);
    const bool refused = v.version == s->refused_version &&
                         !strcmp(v.checksum, s->refused_checksum);
    if (!same && !refused) {
        e = load_version(s, &v, diag);
        if (!e)
            *swapped = true;
        else if (e == RS_ECORRUPT || e == RS_EVERSION) {
            /* Its content is wrong: fetching it again cannot help. */
            s->refused_version = v.version;
            memcpy(s->refused_checksum, v.checksum, sizeof s->refused_checksum);
        }
    }
    rs_arena_destroy(&a);
    return e;
}

rs_err rs_service_reload(rs_service *s, bool *swapped, rs_diag *diag)
{
    *swapped = false;
    pthread_mutex_lock(&s->reload_lock);
    const rs_err e = reload_locked(s, swapped, diag);
    pthread_mutex_unlock(&s->reload_lock);
    return e;
}

rs_err rs_service_init(rs_service *s, const rs_service_opts *o, rs_diag *diag)
{
    memset(s, 0, sizeof *s);
    s->foldin_capacity = o->foldin_capacity;
    s->started_ms = rs_now_ms();
    s->roles = o->roles ? o->roles : RS_ROLES_ALL;
    rs_metrics_init(&s->metrics);
    if (strlen(o->model_name) >= sizeof s->model_name ||
        strlen(o->tmp_dir) >= sizeof s->tmp_dir)
        return rs_diag_fail(diag, RS_EINVAL, "model name or temporary folder too long");
    memcpy(s->model_name, o->model_name, strlen(o->model_name) + 1);
    memcpy(s->tmp_dir, o->tmp_dir, strlen(o->tmp_dir) + 1);
    rs_err e = rs_objstore_open(o->models_url, &s->objects, diag);
    if (e)
        return e;
    if ((e = rs_store_pool_open(&s->stores, o->db_url, o->store_handles, diag))) {
        rs_objstore_close(s->objects);
        return e;
    }
    pthread_mutex_init(&s->lock, NULL);
    pthread_mutex_init(&s->reload_lock, NULL);
    bool swapped;
    if ((e = rs_service_reload(s, &swapped, diag))) {
        rs_service_destroy(s);
        return e;
    }
    return RS_OK;
}

void rs_service_destroy(rs_service *s)
{
    rs_snapshot_release(s->cur);
    s->cur = NULL;
    rs_store_pool_close(&s->stores);
    rs_objstore_close(s->objects);
    s->objects = NULL;
    pthread_mutex_destroy(&s->lock);
    pthread_mutex_destroy(&s->reload_lock);
}
