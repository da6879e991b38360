/* A bump allocator for memory that lives as long as one request or one
 * query result. Everything allocated from an arena is released together by
 * rs_arena_reset or rs_arena_destroy; nothing is freed one by one.
 * Allocation sizes come from bounded sources (capped ids, limited page
 * sizes), so running out of memory aborts like rs_xmalloc. Not thread-safe:
 * one arena per request or per thread. */
#ifndef RS_CORE_ARENA_H
#define RS_CORE_ARENA_H

#include <stddef.h>

typedef struct rs_arena_chunk rs_arena_chunk;

typedef struct rs_arena {
    rs_arena_chunk *head;  /* newest chunk first; owned */
    size_t chunk_size;     /* default size of a new chunk */
} rs_arena;

/* Prepares an empty arena whose chunks are at least chunk_size bytes
 * (0 picks 16 KiB). Allocates nothing until first use. */
void rs_arena_init(rs_arena *a, size_t chunk_size);
/* Frees every chunk. The arena may be initialised again. */
void rs_arena_destroy(rs_arena *a);
/* Forgets every allocation but keeps the newest chunk for reuse. */
void rs_arena_reset(rs_arena *a);

/* size bytes aligned for any type; never NULL. */
void *rs_arena_alloc(rs_arena *a, size_t size);
/* size bytes, zeroed. */
void *rs_arena_zalloc(rs_arena *a, size_t size);
char *rs_arena_strdup(rs_arena *a, const char *s);
/* Copies n bytes of s and adds a NUL. */
char *rs_arena_strndup(rs_arena *a, const char *s, size_t n);

#endif
