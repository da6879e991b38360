/* The serving state: store, model snapshots, per-thread scratch (see
 * service.h). */
#include "server/service.h"

#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/timeutil.h"
#include "models/publish.h"

/* A pool thread's scoring buffer. */
typedef struct scratch {
    float *p;
    size_t cap;
} scratch;

static void free_scratch(void *p)
{
    scratch *s = p;
    rs_free(s->p);
    rs_free(s);
}

float *rs_service_scratch(rs_service *s, size_t floats)
{
    scratch *sc = pthread_getspecific(s->scratch_key);
    if (!sc) {
        sc = rs_try_calloc(1, sizeof *sc);
        if (!sc || pthread_setspecific(s->scratch_key, sc) != 0) {
            rs_free(sc);
            return NULL;
        }
    }
    if (sc->cap < floats) {
        float *p = rs_try_reallocarray(sc->p, floats, sizeof *p);
        if (!p)
            return NULL;
        sc->p = p;
        sc->cap = floats;
    }
    return sc->p;
}

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
        rs_bundle_destroy(&snap->b);
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
                       rs_diag *diag)
{
    memset(s, 0, sizeof *s);
    rs_metrics_init(&s->metrics);
    rs_err e = rs_model_dir_from_url(models_url, s->model_dir, sizeof s->model_dir, diag);
    if (e)
        return e;
    if ((e = rs_store_open(db_url, &s->store, diag)))
        return e;
    pthread_mutex_init(&s->lock, NULL);
    pthread_mutex_init(&s->store_lock, NULL);
    if (pthread_key_create(&s->scratch_key, free_scratch) != 0) {
        rs_store_close(s->store);
        return rs_diag_fail(diag, RS_ENOMEM, "no thread-local key for the scoring buffers");
    }
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
    /* The calling thread's buffer (pool threads freed theirs on exit). */
    scratch *mine = pthread_getspecific(s->scratch_key);
    if (mine) {
        pthread_setspecific(s->scratch_key, NULL);
        free_scratch(mine);
    }
    pthread_key_delete(s->scratch_key);
    pthread_mutex_destroy(&s->lock);
    pthread_mutex_destroy(&s->store_lock);
}
