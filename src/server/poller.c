/* The model poller thread (see poller.h). */
#include "server/poller.h"

#include <pthread.h>
#include <time.h>

#include "core/alloc.h"
#include "core/log.h"

struct rs_poller {
    rs_service *svc;
    int64_t poll_ms;
    pthread_t thread;
    pthread_mutex_t lock;  /* guards stop and due */
    pthread_cond_t wake;
    bool stop, due;
    atomic_bool cancel;    /* set at the stop: the model store gives up */
};

/* Waits until a reload is due or the stop; false to stop. Called and
 * returns with the lock held. */
static bool next_reload(rs_poller *p)
{
    if (!p->due && !p->stop) {
        if (p->poll_ms > 0) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += (time_t)(p->poll_ms / 1000);
            ts.tv_nsec += (long)(p->poll_ms % 1000) * 1000000L;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&p->wake, &p->lock, &ts);
        } else {
            while (!p->due && !p->stop)
                pthread_cond_wait(&p->wake, &p->lock);
        }
    }
    p->due = false;
    return !p->stop;
}

static void *thread_main(void *arg)
{
    rs_poller *p = arg;
    pthread_mutex_lock(&p->lock);
    while (next_reload(p)) {
        pthread_mutex_unlock(&p->lock);
        bool swapped;
        rs_diag d = {{0}};
        if (rs_service_reload(p->svc, &swapped, &d) != RS_OK && !atomic_load(&p->cancel))
            rs_log_warn("new model refused; serving the previous one", RS_S("reason", d.msg));
        pthread_mutex_lock(&p->lock);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

rs_err rs_poller_start(rs_service *svc, int64_t poll_ms, rs_poller **out, rs_diag *diag)
{
    rs_poller *p = rs_xcalloc(1, sizeof *p);
    p->svc = svc;
    p->poll_ms = poll_ms;
    atomic_init(&p->cancel, false);
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->wake, NULL);
    rs_objstore_set_cancel(svc->objects, &p->cancel);
    if (pthread_create(&p->thread, NULL, thread_main, p) != 0) {
        rs_objstore_set_cancel(svc->objects, NULL);
        pthread_mutex_destroy(&p->lock);
        pthread_cond_destroy(&p->wake);
        rs_free(p);
        *out = NULL;
        return rs_diag_fail(diag, RS_ENOMEM, "cannot start the model poller thread");
    }
    *out = p;
    return RS_OK;
}

void rs_service_reload_soon(rs_service *s)
{
    if (s->poller)
        rs_poller_wake(s->poller);
}

void rs_poller_wake(rs_poller *p)
{
    pthread_mutex_lock(&p->lock);
    p->due = true;
    pthread_cond_signal(&p->wake);
    pthread_mutex_unlock(&p->lock);
}

void rs_poller_stop(rs_poller *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    p->stop = true;
    atomic_store(&p->cancel, true);
    pthread_cond_signal(&p->wake);
    pthread_mutex_unlock(&p->lock);
    pthread_join(p->thread, NULL);
    rs_objstore_set_cancel(p->svc->objects, NULL);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->wake);
    rs_free(p);
}
