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

rs_err rs_diag_vfail(rs_diag *d, rs_err e, const char *fmt, va_list ap)
{
    if (d)
        vsnprintf(d->msg, sizeof d->msg, fmt, ap);
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
