/* Items the served model has never seen: created (or first seen in the
 * store) after it was trained. With a hybrid model each gets its content
 * vector (models/hybrid.h) at once, so a new item is recommendable the
 * moment it is written, without a retrain. One table per snapshot, filled
 * from the store when the snapshot is loaded and by every item write
 * since. Thread-safe (one mutex): writers add or update, recommendation
 * requests score. Items are addressed by slot: 0..n in insertion order. */
#ifndef RS_SERVER_FRESH_H
#define RS_SERVER_FRESH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/idmap.h"
#include "core/topk.h"
#include "models/bundle.h"
#include "store/store.h"

typedef struct rs_fresh rs_fresh;

/* A table for bundle b (borrowed; must outlive it); NULL when b has no
 * hybrid model. */
rs_fresh *rs_fresh_new(const rs_bundle *b);
void rs_fresh_free(rs_fresh *f);

/* Adds an item the bundle does not know, or updates it (its content
 * vector, category and hidden flag). Items of the bundle are ignored. */
void rs_fresh_put(rs_fresh *f, const rs_item *it);

/* What may be recommended. */
typedef struct rs_fresh_query {
    const float *x;           /* the user's factor vector */
    uint32_t category;        /* a bundle category index, or RS_INDEX_NONE: any */
    const char *exclude;      /* a comma-separated list of item ids, or NULL */
    uint32_t base;            /* added to slots in what is pushed */
} rs_fresh_query;

/* Pushes (base + slot, x . v) of every visible fresh item allowed by q
 * into top. */
void rs_fresh_score(rs_fresh *f, const rs_fresh_query *q, rs_topk *top);

/* Copies slot's id (RS_ID_MAX + 1 bytes), its content vector (factors
 * floats; vec may be NULL) and its category's name (RS_TEXT_MAX + 1
 * bytes, "" for none; may be NULL). Returns the bundle category index of
 * the slot (RS_INDEX_NONE when the bundle has no such category). */
uint32_t rs_fresh_get(rs_fresh *f, uint32_t slot, char *id, float *vec, char *category);

#endif
