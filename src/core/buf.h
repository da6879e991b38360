/* A growable byte buffer with a hard cap. Appends that would pass the cap
 * fail with RS_ETOOBIG and free the buffer, so a caller can never keep
 * working with a silently truncated value. The contents are always
 * NUL-terminated. rs_buf_take moves the bytes out to the caller. */
#ifndef RS_CORE_BUF_H
#define RS_CORE_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "common.h"
#include "err.h"

typedef struct rs_buf {
    char *data;  /* NULL until the first append; owned */
    size_t len;  /* bytes used, excluding the NUL */
    size_t cap;  /* bytes allocated */
    size_t max;  /* the most len may ever be */
} rs_buf;

/* Prepares an empty buffer that will never hold more than max bytes. */
void rs_buf_init(rs_buf *b, size_t max);
/* Frees the contents; the buffer is empty and reusable with the same cap. */
void rs_buf_destroy(rs_buf *b);
/* Empties the buffer but keeps its memory. */
void rs_buf_reset(rs_buf *b);

/* Append bytes / a string / formatted text. On RS_ETOOBIG or RS_ENOMEM the
 * buffer has been freed (as by rs_buf_destroy). */
RS_MUST_USE rs_err rs_buf_append(rs_buf *b, const void *p, size_t n);
RS_MUST_USE rs_err rs_buf_puts(rs_buf *b, const char *s);
RS_MUST_USE rs_err rs_buf_putc(rs_buf *b, char c);
RS_MUST_USE rs_err rs_buf_printf(rs_buf *b, const char *fmt, ...) RS_PRINTF(2, 3);

/* Returns the contents (NUL-terminated, "" when empty) and leaves the buffer
 * empty. The caller frees the result with rs_free. */
char *rs_buf_take(rs_buf *b, size_t *len);

/* The contents as a string; "" when empty. Borrowed until the next change. */
const char *rs_buf_str(const rs_buf *b);

#endif
