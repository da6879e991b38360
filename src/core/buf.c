/* Capped growable buffer; see buf.h. */
#include "buf.h"

#include <stdio.h>
#include <string.h>

#include "alloc.h"

void rs_buf_init(rs_buf *b, size_t max)
{
    b->data = NULL;
    b->len = b->cap = 0;
    b->max = max;
}

void rs_buf_destroy(rs_buf *b)
{
    rs_free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void rs_buf_reset(rs_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

/* Makes room for `extra` more bytes plus the NUL. */
static rs_err grow(rs_buf *b, size_t extra)
{
    if (extra > b->max || b->len > b->max - extra) {
        rs_buf_destroy(b);
        return RS_ETOOBIG;
    }
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return RS_OK;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    char *p = rs_try_reallocarray(b->data, cap, 1);
    if (!p) {
        rs_buf_destroy(b);
        return RS_ENOMEM;
    }
    b->data = p;
    b->cap = cap;
    return RS_OK;
}

rs_err rs_buf_append(rs_buf *b, const void *p, size_t n)
{
    rs_err e = grow(b, n);
    if (e)
        return e;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return RS_OK;
}

rs_err rs_buf_puts(rs_buf *b, const char *s)
{
    return rs_buf_append(b, s, strlen(s));
}

rs_err rs_buf_putc(rs_buf *b, char c)
{
    return rs_buf_append(b, &c, 1);
}

rs_err rs_buf_printf(rs_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        rs_buf_destroy(b);
        return RS_EINVAL;
    }
    rs_err e = grow(b, (size_t)n);
    if (e)
        return e;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return RS_OK;
}

char *rs_buf_take(rs_buf *b, size_t *len)
{
    char *p = b->data ? b->data : rs_xstrdup("");
    if (len)
        *len = b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}

const char *rs_buf_str(const rs_buf *b)
{
    return b->data ? b->data : "";
}
