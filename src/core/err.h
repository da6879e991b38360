/* The library's one error convention. Every fallible function returns an
 * rs_err: 0 is success, negative values are errors. One table (RS_ERR_MAP)
 * yields the enum, its message, the HTTP status an endpoint answers with and
 * the exit code the CLI returns. Detail text travels separately: on the
 * handle (rs_store_errmsg) or in an rs_diag filled by parsers. */
#ifndef RS_CORE_ERR_H
#define RS_CORE_ERR_H

#include <stdarg.h>
#include <stdint.h>

#include "common.h"

/*      name          code  message                      http exit */
#define RS_ERR_MAP(X)                                                     \
    X(OK,               0, "success",                    200, 0)          \
    X(EINVAL,          -1, "invalid argument",           400, 2)          \
    X(EPARSE,          -2, "malformed input",            400, 3)          \
    X(ENOTFOUND,       -3, "not found",                  404, 4)          \
    X(EEXIST,          -4, "already exists",             409, 1)          \
    X(ETOOBIG,         -5, "too large",                  413, 1)          \
    X(ENOMEM,          -6, "out of memory",              503, 1)          \
    X(EIO,             -7, "input/output error",         500, 1)          \
    X(ESTORE,          -8, "database error",             503, 1)          \
    X(ECORRUPT,        -9, "corrupt data",               500, 1)          \
    X(EVERSION,       -10, "unsupported version",        500, 1)          \
    X(EUNSUPPORTED,   -11, "not supported",              501, 1)          \
    X(EUNAVAIL,       -12, "temporarily unavailable",    503, 1)          \
    X(ECANCELED,      -13, "canceled",                   503, 1)          \
    X(EAUTH,          -14, "unauthorized",               401, 1)          \
    X(ECONFLICT,      -15, "conflict",                   409, 1)          \
    X(EINTERNAL,      -16, "internal error",             500, 1)

typedef enum rs_err {
#define RS_ERR_ENUM(name, code, msg, http, exit) RS_##name = (code),
    RS_ERR_MAP(RS_ERR_ENUM)
#undef RS_ERR_ENUM
} rs_err;

/* The symbolic name ("EPARSE"), or "EUNKNOWN" for a value not in the table. */
const char *rs_err_name(rs_err e);
/* A lower-case message ("malformed input"). Never NULL. */
const char *rs_err_str(rs_err e);
/* The HTTP status an endpoint answers with for this error (500 if unknown). */
int rs_err_http_status(rs_err e);
/* The CLI exit code for this error: 0 success, 1 failure, 2 usage,
 * 3 malformed input data, 4 not found. */
int rs_err_exit_code(rs_err e);

/* A diagnostic for parsers and openers: where and why something failed.
 * Caller-allocated; functions that take an rs_diag * accept NULL. */
typedef struct rs_diag {
    char msg[512];   /* one line, no trailing newline; "" when none */
} rs_diag;

/* Formats a message into d (when d is not NULL) and returns e, so that error
 * paths read `return rs_diag_fail(d, RS_EPARSE, "line %d: ...", n);`. */
rs_err rs_diag_fail(rs_diag *d, rs_err e, const char *fmt, ...) RS_PRINTF(3, 4);
rs_err rs_diag_vfail(rs_diag *d, rs_err e, const char *fmt, va_list ap) RS_PRINTF(3, 0);

#endif
