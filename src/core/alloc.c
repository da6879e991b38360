/* Allocation wrappers; see alloc.h for the two families and their rules. */
#include "alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

RS_NORETURN static void oom(size_t size)
{
    fprintf(stderr, "recsys: out of memory allocating %zu bytes\n", size);
    abort();
}

static int mul_overflows(size_t n, size_t size, size_t *out)
{
    return __builtin_mul_overflow(n, size, out);
}

void *rs_xmalloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (!p)
        oom(size);
    return p;
}

void *rs_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        oom(n * size);
    return p;
}

void *rs_xrealloc(void *p, size_t size)
{
    void *q = realloc(p, size ? size : 1);
    if (!q)
        oom(size);
    return q;
}

void *rs_xreallocarray(void *p, size_t n, size_t size)
{
    size_t total;
    if (mul_overflows(n, size, &total))
        oom(SIZE_MAX);
    return rs_xrealloc(p, total);
}

char *rs_xstrdup(const char *s)
{
    return rs_xstrndup(s, strlen(s));
}

char *rs_xstrndup(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *p = rs_xmalloc(len + 1);
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

void *rs_try_malloc(size_t size)
{
    return malloc(size ? size : 1);
}

void *rs_try_calloc(size_t n, size_t size)
{
    size_t total;
    if (mul_overflows(n, size, &total))
        return NULL;
    return calloc(total ? total : 1, 1);
}

void *rs_try_reallocarray(void *p, size_t n, size_t size)
{
    size_t total;
    if (mul_overflows(n, size, &total))
        return NULL;
    return realloc(p, total ? total : 1);
}

void rs_free(void *p)
{
    free(p);
}
