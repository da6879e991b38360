/* The server's store handles (store_pool.h). */
#include "server/store_pool.h"

#include <string.h>

#include "core/alloc.h"

rs_err rs_store_pool_open(rs_store_pool *p, const char *url, size_t n, rs_diag *diag)
{
    memset(p, 0, sizeof *p);
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->freed, NULL);
    n = n ? n : 1;
    p->handles = rs_xcalloc(n, sizeof *p->handles);
    p->idle = rs_xcalloc(n, sizeof *p->idle);
    for (size_t i = 0; i < n; i++) {
        rs_err e = rs_store_open(url, &p->handles[i], diag);
        if (e) {
            rs_store_pool_close(p);
            return e;
        }
        p->n++;
        p->idle[p->n_idle++] = p->handles[i];
    }
    return RS_OK;
}

rs_store *rs_store_pool_acquire(rs_store_pool *p)
{
    pthread_mutex_lock(&p->lock);
    while (p->n_idle == 0)
        pthread_cond_wait(&p->freed, &p->lock);
    rs_store *s = p->idle[--p->n_idle];
    pthread_mutex_unlock(&p->lock);
    return s;
}

void rs_store_pool_release(rs_store_pool *p, rs_store *s)
{
    pthread_mutex_lock(&p->lock);
    p->idle[p->n_idle++] = s;
    pthread_cond_signal(&p->freed);
    pthread_mutex_unlock(&p->lock);
}

void rs_store_pool_close(rs_store_pool *p)
{
    if (!p->handles)
        return;
    for (size_t i = 0; i < p->n; i++)
        rs_store_close(p->handles[i]);
    rs_free(p->handles);
    rs_free(p->idle);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->freed);
    memset(p, 0, sizeof *p);
}
