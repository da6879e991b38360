/* Structured logging: one logfmt line per call on stderr,
 *
 *   ts=2026-11-22T22:27:00.123Z level=info msg="import finished" events=100000
 *
 * Fields are typed key/value pairs built with the RS_S/RS_I/RS_U/RS_F
 * macros; string values are quoted and escaped when they need it:
 *
 *   rs_log_info("import finished", RS_U("events", n), RS_S("file", path));
 *
 * The level threshold is process-wide, set once at startup by the CLI
 * (rs_log_set_level); reading and writing it is atomic. Lines are written
 * with one fwrite each, so concurrent threads never interleave within a
 * line. The library never prints anything else. */
#ifndef RS_CORE_LOG_H
#define RS_CORE_LOG_H

#include <stdint.h>

#include "common.h"

typedef enum rs_log_level {
    RS_LOG_DEBUG = 0,
    RS_LOG_INFO = 1,
    RS_LOG_WARN = 2,
    RS_LOG_ERROR = 3,
    RS_LOG_OFF = 4,
} rs_log_level;

typedef enum rs_kv_type { RS_KV_END, RS_KV_STR, RS_KV_I64, RS_KV_U64, RS_KV_F64 } rs_kv_type;

/* One field. Strings are borrowed for the duration of the call. */
typedef struct rs_kv {
    const char *key;
    rs_kv_type type;
    union {
        const char *s;
        int64_t i;
        uint64_t u;
        double f;
    } v;
} rs_kv;

#define RS_S(k, x) ((rs_kv){.key = (k), .type = RS_KV_STR, .v.s = (x)})
#define RS_I(k, x) ((rs_kv){.key = (k), .type = RS_KV_I64, .v.i = (int64_t)(x)})
#define RS_U(k, x) ((rs_kv){.key = (k), .type = RS_KV_U64, .v.u = (uint64_t)(x)})
#define RS_F(k, x) ((rs_kv){.key = (k), .type = RS_KV_F64, .v.f = (double)(x)})
#define RS_KV_LAST ((rs_kv){.key = NULL, .type = RS_KV_END})

/* Writes one line when `level` is at or above the threshold. The variadic
 * arguments are rs_kv values terminated by RS_KV_LAST; use the macros below,
 * which add the terminator. */
void rs_log_emit(rs_log_level level, const char *msg, ...);

#define rs_log_debug(...) rs_log_emit(RS_LOG_DEBUG, __VA_ARGS__, RS_KV_LAST)
#define rs_log_info(...) rs_log_emit(RS_LOG_INFO, __VA_ARGS__, RS_KV_LAST)
#define rs_log_warn(...) rs_log_emit(RS_LOG_WARN, __VA_ARGS__, RS_KV_LAST)
#define rs_log_error(...) rs_log_emit(RS_LOG_ERROR, __VA_ARGS__, RS_KV_LAST)

void rs_log_set_level(rs_log_level level);
rs_log_level rs_log_get_level(void);
/* True when a line at `level` would be written: lets callers skip building
 * expensive fields. */
int rs_log_enabled(rs_log_level level);
/* Parses "debug", "info", "warn", "error", "off"; returns -1 otherwise. */
int rs_log_level_parse(const char *s);
const char *rs_log_level_name(rs_log_level level);

/* Formats one line into buf (at most cap bytes, always NUL-terminated, ends
 * with '\n' when it fits) without writing it. Returns the length. Exposed
 * for tests. */
size_t rs_log_format(char *buf, size_t cap, int64_t ts_ms, rs_log_level level,
                     const char *msg, const rs_kv *kv, size_t n_kv);

#endif
