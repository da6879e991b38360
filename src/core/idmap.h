/* Maps external string ids (users' and items' own ids: arbitrary UTF-8 up
 * to RS_ID_MAX bytes) to dense indices 0..n-1 and back. Indices are given
 * in insertion order and never change, so they can index factor matrices.
 *
 * Layout: every id is copied once into one growing blob (NUL-terminated)
 * with an offsets array, and an open-addressing hash table of indices
 * (linear probing, load factor at most 1/2) finds them. Memory is about
 * len + 1 + 8 + 8..16 bytes per id. Not thread-safe for writers; concurrent
 * readers of a map nobody modifies are fine. */
#ifndef RS_CORE_IDMAP_H
#define RS_CORE_IDMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "err.h"

/* The largest number of ids a map holds: indices fit in uint32_t with one
 * value to spare as "none". */
#define RS_IDMAP_MAX_IDS (UINT32_MAX - 1u)
#define RS_INDEX_NONE UINT32_MAX

typedef struct rs_idmap rs_idmap;

/* An empty map. Aborts on out of memory (it is small until used). */
rs_idmap *rs_idmap_new(void);
/* Frees the map and every id in it. Accepts NULL. */
void rs_idmap_free(rs_idmap *m);

/* The number of ids held. */
size_t rs_idmap_size(const rs_idmap *m);

/* Looks id[0..len) up. Returns its index, or RS_INDEX_NONE. */
uint32_t rs_idmap_find(const rs_idmap *m, const char *id, size_t len);

/* Returns the index of id[0..len), adding it when absent (*added tells
 * which; it may be NULL). The id is copied; it is not validated here
 * (callers check it with rs_id_check first). Errors: RS_ETOOBIG past
 * RS_IDMAP_MAX_IDS ids, RS_ENOMEM; the map is unchanged then. */
RS_MUST_USE rs_err rs_idmap_intern(rs_idmap *m, const char *id, size_t len, uint32_t *index,
                                   bool *added);

/* The id at `index` (NUL-terminated, borrowed until the map changes or is
 * freed); *len gets its length when len is not NULL. index must be < size. */
const char *rs_idmap_get(const rs_idmap *m, uint32_t index, size_t *len);

/* The bytes the map has allocated, for memory accounting. */
size_t rs_idmap_memory(const rs_idmap *m);

#endif
