/* The allocation module: the only place that calls malloc/free directly.
 *
 * Two families:
 *   rs_x*   small allocations whose size the program controls (structs,
 *           short strings, bounded buffers). Out of memory aborts with a
 *           message: there is no sensible recovery from a failed 64-byte
 *           allocation.
 *   rs_try_* allocations sized by user data (matrices, import buffers,
 *           request bodies). They return NULL on failure or on a size that
 *           overflows, so that a too-large job fails cleanly with RS_ENOMEM
 *           instead of killing a server.
 * rs_free accepts NULL. */
#ifndef RS_CORE_ALLOC_H
#define RS_CORE_ALLOC_H

#include <stddef.h>

void *rs_xmalloc(size_t size);
void *rs_xcalloc(size_t n, size_t size);
void *rs_xrealloc(void *p, size_t size);
/* Grows an array of n elements of `size` bytes; aborts on overflow or OOM. */
void *rs_xreallocarray(void *p, size_t n, size_t size);
char *rs_xstrdup(const char *s);
char *rs_xstrndup(const char *s, size_t n);

void *rs_try_malloc(size_t size);
/* n * size bytes, zeroed; NULL on overflow or failure. */
void *rs_try_calloc(size_t n, size_t size);
/* n * size bytes; NULL on overflow or failure (p is then left untouched). */
void *rs_try_reallocarray(void *p, size_t n, size_t size);

void rs_free(void *p);

#endif
