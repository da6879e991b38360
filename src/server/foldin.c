/* The fold-in cache (see foldin.h): a chained hash table of users with a
 * doubly linked recency list; the least recently updated or read user
 * goes when the cache is full. */
#include "server/foldin.h"

#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/hash.h"
#include "models/als.h"

typedef struct entry {
    char *id;
    uint32_t *items;  /* ascending, distinct */
    float *values;    /* summed interaction values, per item */
    size_t n, cap;
    float *x;         /* factors floats */
    struct entry *next_in_bucket, *newer, *older;
} entry;

struct rs_foldin {
    const rs_bundle *b;
    rs_als_opts opts;
    float *G;                 /* Y^T Y */
    entry **buckets;
    size_t n_buckets, size, capacity;
    entry *newest, *oldest;
    pthread_mutex_t lock;
};

/* The ALS settings the model was trained with, from its metadata. */
static void training_opts(const rs_bundle *b, rs_als_opts *o)
{
    rs_als_opts_default(o);
    json_t *meta = b->meta ? json_loads(b->meta, 0, NULL) : NULL;
    json_t *als = json_object_get(json_object_get(meta, "params"), "als");
    json_t *v;
    if ((v = json_object_get(als, "reg")) && json_is_number(v))
        o->reg = (float)json_number_value(v);
    if ((v = json_object_get(als, "reg_count")) && json_is_number(v))
        o->reg_count = (float)json_number_value(v);
    if ((v = json_object_get(als, "alpha")) && json_is_number(v))
        o->alpha = (float)json_number_value(v);
    if ((v = json_object_get(als, "reg_by_count")) && json_is_boolean(v))
        o->reg_by_count = json_is_true(v);
    if ((v = json_object_get(als, "confidence")) && json_is_string(v)) {
        int c = rs_als_conf_parse(json_string_value(v));
        if (c >= 0)
            o->conf = (rs_als_conf)c;
    }
    json_decref(meta);
}

rs_foldin *rs_foldin_new(const rs_bundle *b, size_t capacity)
{
    if (!(b->models & RS_MODEL_ALS) || capacity == 0)
        return NULL;
    rs_foldin *f = rs_xcalloc(1, sizeof *f);
    f->b = b;
    training_opts(b, &f->opts);
    const size_t k = b->als.factors;
    f->G = rs_xmalloc(k * k * sizeof *f->G);
    rs_als_gram(&b->als, f->G);
    f->capacity = capacity;
    f->n_buckets = 1;
    while (f->n_buckets < capacity)
        f->n_buckets *= 2;
    f->buckets = rs_xcalloc(f->n_buckets, sizeof *f->buckets);
    pthread_mutex_init(&f->lock, NULL);
    return f;
}

static void entry_free(entry *e)
{
    rs_free(e->id);
    rs_free(e->items);
    rs_free(e->values);
    rs_free(e->x);
    rs_free(e);
}

void rs_foldin_free(rs_foldin *f)
{
    if (!f)
        return;
    for (entry *e = f->newest, *next; e; e = next) {
        next = e->older;
        entry_free(e);
    }
    rs_free(f->buckets);
    rs_free(f->G);
    pthread_mutex_destroy(&f->lock);
    rs_free(f);
}

static entry **slot(rs_foldin *f, const char *id)
{
    entry **p = &f->buckets[rs_hash_bytes(id, strlen(id)) & (f->n_buckets - 1)];
    while (*p && strcmp((*p)->id, id) != 0)
        p = &(*p)->next_in_bucket;
    return p;
}

static void unlink_recency(rs_foldin *f, entry *e)
{
    *(e->newer ? &e->newer->older : &f->newest) = e->older;
    *(e->older ? &e->older->newer : &f->oldest) = e->newer;
    e->newer = e->older = NULL;
}

static void make_newest(rs_foldin *f, entry *e)
{
    e->older = f->newest;
    if (f->newest)
        f->newest->newer = e;
    f->newest = e;
    if (!f->oldest)
        f->oldest = e;
}

static void evict_oldest(rs_foldin *f)
{
    entry *e = f->oldest;
    unlink_recency(f, e);
    *slot(f, e->id) = e->next_in_bucket;
    entry_free(e);
    f->size--;
}

/* A new entry holding the user's training interactions. */
static entry *entry_new(rs_foldin *f, const char *id)
{
    entry *e = rs_xcalloc(1, sizeof *e);
    e->id = rs_xstrdup(id);
    e->x = rs_xcalloc(f->b->als.factors, sizeof *e->x);
    const rs_csr *seen = &f->b->seen;
    const uint32_t u = rs_idmap_find(f->b->users, id, strlen(id));
    if (u != RS_INDEX_NONE && u < seen->n_rows) {
        const uint64_t a = seen->indptr[u], z = seen->indptr[u + 1];
        e->n = e->cap = (size_t)(z - a);
        e->items = rs_xmalloc((e->cap ? e->cap : 1) * sizeof *e->items);
        e->values = rs_xmalloc((e->cap ? e->cap : 1) * sizeof *e->values);
        memcpy(e->items, seen->indices + a, e->n * sizeof *e->items);
        memcpy(e->values, seen->values + a, e->n * sizeof *e->values);
    }
    return e;
}

/* Adds value to item in e's sorted lists. */
static void entry_add(entry *e, uint32_t item, float value)
{
    size_t lo = 0, hi = e->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (e->items[mid] < item)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < e->n && e->items[lo] == item) {
        e->values[lo] += value;
        return;
    }
    if (e->n == e->cap) {
        e->cap = e->cap ? e->cap * 2 : 8;
        e->items = rs_xreallocarray(e->items, e->cap, sizeof *e->items);
        e->values = rs_xreallocarray(e->values, e->cap, sizeof *e->values);
    }
    memmove(e->items + lo + 1, e->items + lo, (e->n - lo) * sizeof *e->items);
    memmove(e->values + lo + 1, e->values + lo, (e->n - lo) * sizeof *e->values);
    e->items[lo] = item;
    e->values[lo] = value;
    e->n++;
}

rs_err rs_foldin_add(rs_foldin *f, const char *user_id, const uint32_t *items,
                     const float *values, size_t n)
{
    pthread_mutex_lock(&f->lock);
    entry **p = slot(f, user_id), *e = *p;
    if (e) {
        unlink_recency(f, e);
    } else {
        e = entry_new(f, user_id);
        *p = e;
        f->size++;
    }
    make_newest(f, e);
    for (size_t j = 0; j < n; j++)
        entry_add(e, items[j], values[j]);
    float *scratch = rs_xmalloc(rs_als_fold_in_scratch(&f->b->als, e->n) * sizeof *scratch);
    const int info = rs_als_fold_in(&f->b->als, f->G, &f->opts, e->items, e->values, e->n, e->x,
                                    scratch);
    rs_free(scratch);
    while (f->size > f->capacity)
        evict_oldest(f);
    pthread_mutex_unlock(&f->lock);
    return info ? RS_EINTERNAL : RS_OK;
}

bool rs_foldin_get(rs_foldin *f, const char *user_id, float *x, uint32_t **items, size_t *n)
{
    pthread_mutex_lock(&f->lock);
    entry *e = *slot(f, user_id);
    if (e) {
        unlink_recency(f, e);
        make_newest(f, e);
        memcpy(x, e->x, f->b->als.factors * sizeof *x);
        *items = rs_xmalloc((e->n ? e->n : 1) * sizeof **items);
        memcpy(*items, e->items, e->n * sizeof **items);
        *n = e->n;
    }
    pthread_mutex_unlock(&f->lock);
    return e != NULL;
}

