/* The serving state: store and model snapshots (see service.h). */
#include "server/service.h"

#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/timeutil.h"
#include "models/publish.h"

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
        rs_free(snap->item_blocked);
        rs_free(snap);
    }
}

rs_err rs_service_reload(rs_service *s, bool *swapped, rs_diag *diag)
{
    *swapped = false;
    uint64_t version;
    char path[4200];
    rs_err e = rs_model_dir_current(s->model_dir, &version, path, sizeof path, diag);
    if (e == RS_ENOTFOUND)
        return RS_OK; /* nothing published yet */
    if (e)
        return e;
    rs_snapshot *cur = rs_service_acquire(s);
    const bool same = cur && cur->version == version;
    rs_snapshot_release(cur);
    if (same)
        return RS_OK;
    rs_snapshot *snap = rs_xcalloc(1, sizeof *snap);
    const double t0 = rs_mono_s();
    if ((e = rs_bundle_load(path, &snap->b, diag))) {
        rs_free(snap);
        atomic_fetch_add(&s->metrics.reload_failures, 1);
        return e;
    }
    const rs_als_model *als = &snap->b.als;
    if (snap->b.models & RS_MODEL_ALS) {
        const size_t n = rs_blocked_floats(als->n_items, als->factors);
        snap->item_blocked = rs_xmalloc((n ? n : 1) * sizeof *snap->item_blocked);
        rs_block_factors(als->item_factors, als->n_items, als->factors, snap->item_blocked);
        snap->foldin = rs_foldin_new(&snap->b, s->foldin_capacity);
    }
    snap->version = version;
    snap->load_seconds = rs_mono_s() - t0;
    snap->loaded_ms = rs_now_ms();
    atomic_init(&snap->refs, 1); /* the service's own reference */
    pthread_mutex_lock(&s->lock);
    rs_snapshot *old = s->cur;
    s->cur = snap;
    pthread_mutex_unlock(&s->lock);
    rs_snapshot_release(old); /* freed when its last request is done */
    atomic_fetch_add(&s->metrics.reloads, 1);
    rs_log_info("model loaded", RS_U("version", version), RS_S("path", path),
                RS_F("seconds", snap->load_seconds));
    *swapped = true;
    return RS_OK;
}

rs_err rs_service_init(rs_service *s, const char *db_url, const char *models_url,
                       size_t foldin_capacity, rs_diag *diag)
{
    memset(s, 0, sizeof *s);
    s->foldin_capacity = foldin_capacity;
    rs_metrics_init(&s->metrics);
    rs_err e = rs_model_dir_from_url(models_url, s->model_dir, sizeof s->model_dir, diag);
    if (e)
        return e;
    if ((e = rs_store_open(db_url, &s->store, diag)))
        return e;
    pthread_mutex_init(&s->lock, NULL);
    pthread_mutex_init(&s->store_lock, NULL);
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
    rs_store_close(s->store);
    s->store = NULL;
    pthread_mutex_destroy(&s->lock);
    pthread_mutex_destroy(&s->store_lock);
}
