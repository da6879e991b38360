/* The server's store handles: one per request thread (a handle serves one
 * thread at a time), handed out and taken back, so that requests use the
 * store in parallel (PostgreSQL connections, SQLite readers beside the
 * writer). Thread-safe. */
#ifndef RS_SERVER_STORE_POOL_H
#define RS_SERVER_STORE_POOL_H

#include <pthread.h>
#include <stddef.h>

#include "core/err.h"
#include "store/store.h"

typedef struct rs_store_pool {
    pthread_mutex_t lock;
    pthread_cond_t freed;
    rs_store **handles;   /* n of them, open */
    rs_store **idle;      /* a stack of the handles not in use */
    size_t n, n_idle;
} rs_store_pool;

/* Opens n (at least 1) handles on url. Errors: the store's. */
RS_MUST_USE rs_err rs_store_pool_open(rs_store_pool *p, const char *url, size_t n, rs_diag *diag);

/* A handle for the calling thread's exclusive use, waiting for one to be
 * given back when all are in use. Give it back with rs_store_pool_release. */
rs_store *rs_store_pool_acquire(rs_store_pool *p);
void rs_store_pool_release(rs_store_pool *p, rs_store *s);

/* Closes every handle (none may be in use). Accepts a zeroed pool, and
 * one whose open failed. */
void rs_store_pool_close(rs_store_pool *p);

#endif
