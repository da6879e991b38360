/* The training thread of `recsys serve` (see scheduler.h). */
#include "server/scheduler.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/timeutil.h"

struct rs_scheduler {
    rs_service *svc;
    char *db_url, *models_url, *name, *tmp_dir;
    rs_job_opts job;
    int64_t every_ms;
    pthread_t thread;
    pthread_mutex_t lock;   /* guards what follows */
    pthread_cond_t wake;
    bool stop;
    atomic_bool cancel;     /* set at the stop: a run in progress ends early */
    char pending[RS_RUN_ID_CAP];  /* a recorded run waiting for the thread */
    char current[RS_RUN_ID_CAP];  /* the run in progress */
};

/* Records a run that was recorded as running but never ran as failed. */
static void mark_failed(rs_store *s, const char *id, const char *error)
{
    rs_arena a;
    rs_arena_init(&a, 4096);
    rs_run run;
    if (rs_store_get_run(s, id, &a, &run) == RS_OK) {
        run.status = "failed";
        run.ended_ms = rs_now_ms();
        run.error = error;
        if (rs_store_put_run(s, &run) != RS_OK)
            rs_log_warn("cannot record the end of the run", RS_S("run", id));
    }
    rs_arena_destroy(&a);
}

/* Runs one job on fresh handles and swaps its version in when it went to
 * production. */
static void run_one(rs_scheduler *sc, const char *id, const char *kind)
{
    rs_diag d = {{0}};
    rs_store *s = NULL;
    rs_objstore *objects = NULL;
    rs_err e = rs_store_open(sc->db_url, &s, &d);
    if (!e && !(e = rs_objstore_open(sc->models_url, &objects, &d)))
        rs_objstore_set_cancel(objects, &sc->cancel); /* a stop ends a hanging transfer */
    rs_job_result r;
    if (!e) {
        rs_job_opts o = sc->job;
        o.kind = kind;
        o.run_id = id;
        e = rs_job_train(s, objects, &o, &r, &d);
    } else if (s) {
        mark_failed(s, id, d.msg); /* recorded by a trigger, but it cannot start */
    }
    rs_objstore_close(objects);
    rs_store_close(s);
    atomic_fetch_add(e ? &sc->svc->metrics.train_failed : &sc->svc->metrics.train_finished, 1);
    if (e) {
        rs_log_warn("training failed; the served model is unchanged", RS_S("reason", d.msg));
        return;
    }
    atomic_store(&sc->svc->metrics.train_last_success_ms, (uint64_t)rs_now_ms());
    if (r.reg.promoted)
        rs_service_reload_soon(sc->svc);
}

/* Waits until a run is due or asked for, or the stop; false to stop. The
 * run's id (a triggered run's, already recorded, or a new one for a
 * scheduled run, which the job records) and kind go to id and *kind.
 * Called and returns with the lock held. */
static bool next_run(rs_scheduler *sc, int64_t *due_ms, char id[RS_RUN_ID_CAP],
                     const char **kind)
{
    for (;;) {
        if (sc->stop)
            return false;
        if (sc->pending[0]) {
            memcpy(id, sc->pending, RS_RUN_ID_CAP);
            sc->pending[0] = '\0';
            *kind = "train";
            return true;
        }
        const int64_t now = rs_now_ms();
        if (sc->every_ms > 0 && now >= *due_ms) {
            *due_ms = now + sc->every_ms;
            rs_run_new_id(id);
            *kind = "retrain";
            return true;
        }
        if (sc->every_ms > 0) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            const int64_t wait_ms = *due_ms - now;
            ts.tv_sec += (time_t)(wait_ms / 1000);
            ts.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&sc->wake, &sc->lock, &ts);
        } else {
            pthread_cond_wait(&sc->wake, &sc->lock);
        }
    }
}

static void *thread_main(void *arg)
{
    rs_scheduler *sc = arg;
    /* Training yields the cores to the request threads. */
    if (setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 10) != 0)
        rs_log_debug("cannot lower the training thread's priority", RS_I("errno", errno));
    int64_t due_ms = rs_now_ms() + sc->every_ms;
    pthread_mutex_lock(&sc->lock);
    char id[RS_RUN_ID_CAP];
    const char *kind;
    while (next_run(sc, &due_ms, id, &kind)) {
        memcpy(sc->current, id, RS_RUN_ID_CAP);
        pthread_mutex_unlock(&sc->lock);
        atomic_store(&sc->svc->metrics.train_running, 1);
        run_one(sc, id, kind);
        atomic_store(&sc->svc->metrics.train_running, 0);
        pthread_mutex_lock(&sc->lock);
        sc->current[0] = '\0';
        /* A run that took longer than the interval is not followed by
         * another at once: the next one waits a whole interval, so that
         * trainings never run back to back (and POST /v1/train gets in). */
        const int64_t now = rs_now_ms();
        if (sc->every_ms > 0 && now >= due_ms)
            due_ms = now + sc->every_ms;
    }
    pthread_mutex_unlock(&sc->lock);
    return NULL;
}

static void free_scheduler(rs_scheduler *sc)
{
    rs_free(sc->db_url);
    rs_free(sc->models_url);
    rs_free(sc->name);
    rs_free(sc->tmp_dir);
    pthread_mutex_destroy(&sc->lock);
    pthread_cond_destroy(&sc->wake);
    rs_free(sc);
}

rs_err rs_scheduler_start(rs_service *svc, const rs_scheduler_opts *o, rs_scheduler **out,
                          rs_diag *diag)
{
    *out = NULL;
    if (o->every_ms < 0)
        return rs_diag_fail(diag, RS_EINVAL, "the retraining interval is negative");
    rs_scheduler *sc = rs_xcalloc(1, sizeof *sc);
    sc->svc = svc;
    sc->db_url = rs_xstrdup(o->db_url);
    sc->models_url = rs_xstrdup(o->models_url);
    sc->name = rs_xstrdup(o->job.name);
    sc->tmp_dir = rs_xstrdup(o->job.tmp_dir);
    sc->job = o->job;
    sc->job.name = sc->name;
    sc->job.tmp_dir = sc->tmp_dir;
    atomic_init(&sc->cancel, false);
    sc->job.cancel = &sc->cancel;
    sc->every_ms = o->every_ms;
    pthread_mutex_init(&sc->lock, NULL);
    pthread_cond_init(&sc->wake, NULL);
    if (pthread_create(&sc->thread, NULL, thread_main, sc) != 0) {
        free_scheduler(sc);
        return rs_diag_fail(diag, RS_ENOMEM, "cannot start the training thread");
    }
    *out = sc;
    return RS_OK;
}

rs_err rs_scheduler_trigger(rs_scheduler *sc, char run_id[RS_RUN_ID_CAP], rs_diag *diag)
{
    pthread_mutex_lock(&sc->lock);
    const char *busy = sc->current[0] ? sc->current : sc->pending[0] ? sc->pending : NULL;
    if (busy) {
        memcpy(run_id, busy, RS_RUN_ID_CAP);
        pthread_mutex_unlock(&sc->lock);
        return rs_diag_fail(diag, RS_ECONFLICT, "run %s is in progress; one run at a time",
                            run_id);
    }
    /* Recorded before answering, so the caller can look it up at once. */
    rs_store *st = rs_store_pool_acquire(&sc->svc->stores);
    rs_err e = rs_job_record_start(st, &sc->job, "train", run_id, diag);
    rs_store_pool_release(&sc->svc->stores, st);
    if (!e) {
        memcpy(sc->pending, run_id, RS_RUN_ID_CAP);
        pthread_cond_signal(&sc->wake);
    }
    pthread_mutex_unlock(&sc->lock);
    return e;
}

void rs_scheduler_current(rs_scheduler *sc, char run_id[RS_RUN_ID_CAP])
{
    pthread_mutex_lock(&sc->lock);
    memcpy(run_id, sc->current[0] ? sc->current : sc->pending, RS_RUN_ID_CAP);
    pthread_mutex_unlock(&sc->lock);
}

int64_t rs_scheduler_every_ms(const rs_scheduler *sc)
{
    return sc->every_ms;
}

void rs_scheduler_stop(rs_scheduler *sc)
{
    if (!sc)
        return;
    pthread_mutex_lock(&sc->lock);
    sc->stop = true;
    atomic_store(&sc->cancel, true);
    const bool busy = sc->current[0] != '\0';
    pthread_cond_signal(&sc->wake);
    pthread_mutex_unlock(&sc->lock);
    if (busy)
        rs_log_info("stopping the training run in progress");
    pthread_join(sc->thread, NULL);
    if (sc->pending[0]) {
        rs_store *st = rs_store_pool_acquire(&sc->svc->stores);
        mark_failed(st, sc->pending, "the server stopped before the run started");
        rs_store_pool_release(&sc->svc->stores, st);
    }
    free_scheduler(sc);
}
