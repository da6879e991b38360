/* Lookups into the error table of err.h, and the diagnostic helpers. */
#include "err.h"

#include <stdio.h>
#include <stdlib.h>

typedef struct err_row {
    rs_err code;
    const char *name;
    const char *msg;
    int http;
    int exit_code;
} err_row;

static const err_row rows[] = {
#define RS_ERR_ROW(name, code, msg, http, exit) {RS_##name, #name, msg, http, exit},
    RS_ERR_MAP(RS_ERR_ROW)
#undef RS_ERR_ROW
};

static const err_row *find(rs_err e)
{
    for (size_t i = 0; i < RS_ARRAY_LEN(rows); i++)
        if (rows[i].code == e)
            return &rows[i];
    return NULL;
}

const char *rs_err_name(rs_err e)
{
    const err_row *r = find(e);
    return r ? r->name : "EUNKNOWN";
}

const char *rs_err_str(rs_err e)
{
    const err_row *r = find(e);
    return r ? r->msg : "unknown error";
}

int rs_err_http_status(rs_err e)
{
    const err_row *r = find(e);
    return r ? r->http : 500;
}

int rs_err_exit_code(rs_err e)
{
    const err_row *r = find(e);
    return r ? r->exit_code : 1;
}

/* Drops a UTF-8 sequence that truncation cut short at the end of msg
 * (len bytes), so that a cut message is still valid text. */
static void trim_partial_utf8(char *msg, size_t len)
{
    size_t start = len;
    while (start > 0 && ((unsigned char)msg[start - 1] & 0xC0) == 0x80 && len - start < 3)
        start--;
    if (start == 0 || ((unsigned char)msg[start - 1] & 0x80) == 0)
        return; /* ends in ASCII */
    const unsigned char lead = (unsigned char)msg[start - 1];
    const size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
    if (len - (start - 1) < need)
        msg[start - 1] = '\0';
}

rs_err rs_diag_vfail(rs_diag *d, rs_err e, const char *fmt, va_list ap)
{
    if (d) {
        const int n = vsnprintf(d->msg, sizeof d->msg, fmt, ap);
        if (n >= (int)sizeof d->msg)
            trim_partial_utf8(d->msg, sizeof d->msg - 1);
    }
    return e;
}

rs_err rs_diag_fail(rs_diag *d, rs_err e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    rs_diag_vfail(d, e, fmt, ap);
    va_end(ap);
    return e;
}

void rs_assert_fail(const char *expr, const char *file, int line)
{
    fprintf(stderr, "recsys: assertion failed: %s (%s:%d)\n", expr, file, line);
    abort();
}
