/* A synthetic catalogue generator for demos, tests and benchmarks. It
 * writes what a real shop would export, with real signal in it:
 *
 *   items.csv   item_id,title,category,brand,tags  (tags '|'-separated)
 *   events.csv  user_id,item_id,value,timestamp,type
 *
 * Items belong to categories and brands and have power-law popularity.
 * Users have a hidden low-rank taste vector and category preferences; each
 * event's item is drawn from the user's taste, the category preferences and
 * the popularity, so collaborative filtering and content features both
 * carry signal that a model can recover. Event types are view, click, like,
 * purchase and rating (value 1..5, higher for better-matching items; other
 * types have value 1). Timestamps fall in a fixed 180-day window ending at
 * 2026-01-01T00:00:00Z and each user's events are in time order.
 *
 * The output is a pure function of (users, items, events, seed): the same
 * parameters give byte-identical files on every machine. */
#ifndef RS_DATA_GENERATE_H
#define RS_DATA_GENERATE_H

#include <stdint.h>

#include "core/common.h"
#include "core/err.h"

typedef struct rs_gen_opts {
    uint32_t users;    /* >= 1 */
    uint32_t items;    /* >= 1 */
    uint64_t events;   /* >= 1; written exactly */
    uint64_t seed;
    uint32_t factors;  /* hidden taste dimensions; 0 means 8 */
    /* Called about every 1% of the events written (may be NULL). */
    void (*progress)(void *ctx, uint64_t events_written, uint64_t events_total);
    void *progress_ctx;
} rs_gen_opts;

typedef struct rs_gen_report {
    uint64_t items_written, events_written;
    uint32_t users_with_events;  /* users that got at least one event */
    uint32_t categories;
} rs_gen_report;

/* Writes items.csv and events.csv into dir (which must exist; files are
 * replaced atomically: written to a temporary name, then renamed).
 * Errors: RS_EINVAL for zero counts (diag names the parameter), RS_EIO
 * with the path and OS reason in diag. */
RS_MUST_USE rs_err rs_generate(const char *dir, const rs_gen_opts *opts, rs_gen_report *report,
                               rs_diag *diag);

#endif
