/* The table of items the served model has not seen (see fresh.h). */
#include "server/fresh.h"

#include <pthread.h>
#include <string.h>

#include "core/alloc.h"
#include "core/text.h"

typedef struct fresh_item {
    uint32_t category;   /* bundle category index or RS_INDEX_NONE */
    uint32_t cat_name;   /* index in names, or RS_INDEX_NONE */
    bool hidden;
} fresh_item;

struct rs_fresh {
    const rs_bundle *b;
    pthread_mutex_t lock;
    rs_idmap *ids;       /* slot <-> item id */
    rs_idmap *names;     /* category names of fresh items */
    fresh_item *items;
    float *vecs;         /* slots x factors */
    size_t cap;
};

rs_fresh *rs_fresh_new(const rs_bundle *b)
{
    if (!(b->models & RS_MODEL_HYBRID))
        return NULL;
    rs_fresh *f = rs_xcalloc(1, sizeof *f);
    f->b = b;
    pthread_mutex_init(&f->lock, NULL);
    f->ids = rs_idmap_new();
    f->names = rs_idmap_new();
    return f;
}

void rs_fresh_free(rs_fresh *f)
{
    if (!f)
        return;
    pthread_mutex_destroy(&f->lock);
    rs_idmap_free(f->ids);
    rs_idmap_free(f->names);
    rs_free(f->items);
    rs_free(f->vecs);
    rs_free(f);
}

/* The slot for id, added when absent; RS_INDEX_NONE when out of memory. */
static uint32_t slot_for(rs_fresh *f, const char *id)
{
    const size_t k = f->b->hybrid.factors;
    uint32_t slot;
    if (rs_idmap_intern(f->ids, id, strlen(id), &slot, NULL) != RS_OK)
        return RS_INDEX_NONE;
    if (slot >= f->cap) {
        const size_t cap = f->cap ? f->cap * 2 : 64;
        fresh_item *items = rs_try_reallocarray(f->items, cap, sizeof *items);
        if (items)
            f->items = items;
        float *vecs = rs_try_reallocarray(f->vecs, cap * k, sizeof *vecs);
        if (vecs)
            f->vecs = vecs;
        if (!items || !vecs)
            return RS_INDEX_NONE;
        f->cap = cap;
    }
    return slot;
}

void rs_fresh_put(rs_fresh *f, const rs_item *it)
{
    const rs_bundle *b = f->b;
    if (rs_idmap_find(b->items, it->id, strlen(it->id)) != RS_INDEX_NONE)
        return;
    /* The content vector is computed before taking the lock. */
    uint32_t idx[RS_CONTENT_MAX_ROW];
    float val[RS_CONTENT_MAX_ROW];
    const size_t n = rs_content_features(&b->content, it, idx, val);
    float *v = rs_xmalloc(b->hybrid.factors * sizeof *v);
    rs_hybrid_content_vector(&b->hybrid, idx, val, n, v);
    const char *cat = it->category ? it->category : "";
    fresh_item fi = {.category = *cat ? rs_idmap_find(b->categories, cat, strlen(cat))
                                      : RS_INDEX_NONE,
                     .cat_name = RS_INDEX_NONE, .hidden = it->hidden};
    pthread_mutex_lock(&f->lock);
    const uint32_t slot = slot_for(f, it->id);
    if (slot != RS_INDEX_NONE && (!*cat || rs_idmap_intern(f->names, cat, strlen(cat),
                                                           &fi.cat_name, NULL) == RS_OK)) {
        f->items[slot] = fi;
        memcpy(f->vecs + (size_t)slot * b->hybrid.factors, v, b->hybrid.factors * sizeof *v);
    }
    pthread_mutex_unlock(&f->lock);
    rs_free(v);
}

/* True when id[0..len) is an entry of the comma-separated list. */
static bool listed(const char *list, const char *id, size_t len)
{
    for (const char *p = list; p && *p;) {
        const size_t n = strcspn(p, ",");
        if (n == len && !memcmp(p, id, len))
            return true;
        p += n + (p[n] == ',');
    }
    return false;
}

void rs_fresh_score(rs_fresh *f, const rs_fresh_query *q, rs_topk *top)
{
    const size_t k = f->b->hybrid.factors;
    pthread_mutex_lock(&f->lock);
    const size_t n = rs_idmap_size(f->ids);
    for (size_t s = 0; s < n; s++) {
        const fresh_item *fi = &f->items[s];
        if (fi->hidden || (q->category != RS_INDEX_NONE && fi->category != q->category))
            continue;
        size_t len;
        const char *id = rs_idmap_get(f->ids, (uint32_t)s, &len);
        if (q->exclude && listed(q->exclude, id, len))
            continue;
        const float *v = f->vecs + s * k;
        float score = 0.0f;
        for (size_t c = 0; c < k; c++)
            score += q->x[c] * v[c];
        rs_topk_push(top, q->base + (uint32_t)s, score);
    }
    pthread_mutex_unlock(&f->lock);
}

uint32_t rs_fresh_get(rs_fresh *f, uint32_t slot, char *id, float *vec, char *category)
{
    const size_t k = f->b->hybrid.factors;
    pthread_mutex_lock(&f->lock);
    size_t len;
    const char *s = rs_idmap_get(f->ids, slot, &len);
    memcpy(id, s, len + 1);
    const fresh_item *fi = &f->items[slot];
    if (vec)
        memcpy(vec, f->vecs + (size_t)slot * k, k * sizeof *vec);
    if (category) {
        const char *name = fi->cat_name != RS_INDEX_NONE
                               ? rs_idmap_get(f->names, fi->cat_name, &len) : "";
        memcpy(category, name, strlen(name) + 1);
    }
    const uint32_t c = fi->category;
    pthread_mutex_unlock(&f->lock);
    return c;
}
