/* Bump allocator over a list of chunks; see arena.h. */
#include "arena.h"

#include <stdalign.h>
#include <stdint.h>
#include <string.h>

#include "alloc.h"
#include "common.h"

struct rs_arena_chunk {
    rs_arena_chunk *next;
    size_t cap, used;
    alignas(max_align_t) unsigned char data[];
};

void rs_arena_init(rs_arena *a, size_t chunk_size)
{
    a->head = NULL;
    a->chunk_size = chunk_size ? chunk_size : 16384;
}

void rs_arena_destroy(rs_arena *a)
{
    rs_arena_chunk *c = a->head;
    while (c) {
        rs_arena_chunk *next = c->next;
        rs_free(c);
        c = next;
    }
    a->head = NULL;
}

void rs_arena_reset(rs_arena *a)
{
    if (!a->head)
        return;
    rs_arena_chunk *keep = a->head;
    rs_arena_chunk *c = keep->next;
    while (c) {
        rs_arena_chunk *next = c->next;
        rs_free(c);
        c = next;
    }
    keep->next = NULL;
    keep->used = 0;
}

void *rs_arena_alloc(rs_arena *a, size_t size)
{
    const size_t align = alignof(max_align_t);
    if (size > SIZE_MAX - sizeof(rs_arena_chunk) - align)
        return rs_xmalloc(SIZE_MAX); /* aborts: no arena request may be that large */
    size = (size + align - 1) & ~(align - 1);
    rs_arena_chunk *c = a->head;
    if (!c || c->cap - c->used < size) {
        size_t cap = RS_MAX(a->chunk_size, size);
        c = rs_xmalloc(sizeof *c + cap);
        c->cap = cap;
        c->used = 0;
        c->next = a->head;
        a->head = c;
    }
    void *p = c->data + c->used;
    c->used += size;
    return p;
}

void *rs_arena_zalloc(rs_arena *a, size_t size)
{
    void *p = rs_arena_alloc(a, size);
    memset(p, 0, size);
    return p;
}

char *rs_arena_strndup(rs_arena *a, const char *s, size_t n)
{
    char *p = rs_arena_alloc(a, n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *rs_arena_strdup(rs_arena *a, const char *s)
{
    return rs_arena_strndup(a, s, strlen(s));
}
