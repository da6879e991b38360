/* logfmt lines on stderr; see log.h. */
#include "log.h"

#include <math.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "timeutil.h"

/* The threshold is the one piece of process-wide state in the library: set
 * once by the CLI at startup, read by every thread. */
static _Atomic int threshold = RS_LOG_INFO;

static const char *const level_names[] = {"debug", "info", "warn", "error", "off"};

void rs_log_set_level(rs_log_level level)
{
    atomic_store_explicit(&threshold, (int)level, memory_order_relaxed);
}

rs_log_level rs_log_get_level(void)
{
    return (rs_log_level)atomic_load_explicit(&threshold, memory_order_relaxed);
}

int rs_log_enabled(rs_log_level level)
{
    return (int)level >= atomic_load_explicit(&threshold, memory_order_relaxed) &&
           level < RS_LOG_OFF;
}

int rs_log_level_parse(const char *s)
{
    for (size_t i = 0; i < RS_ARRAY_LEN(level_names); i++)
        if (strcmp(s, level_names[i]) == 0)
            return (int)i;
    if (strcmp(s, "warning") == 0)
        return RS_LOG_WARN;
    return -1;
}

const char *rs_log_level_name(rs_log_level level)
{
    return (unsigned)level < RS_ARRAY_LEN(level_names) ? level_names[level] : "?";
}

/* A bounded writer: appends while there is room and remembers truncation. */
typedef struct out {
    char *buf;
    size_t cap, len;
} out;

static void put(out *o, const char *s, size_t n)
{
    size_t room = o->cap - 1 - o->len;
    if (n > room)
        n = room;
    memcpy(o->buf + o->len, s, n);
    o->len += n;
}

static void putc_(out *o, char c)
{
    put(o, &c, 1);
}

/* Writes a value, quoted and escaped when it is empty or holds a space,
 * '=', '"', a control character or a backslash. */
static void put_value(out *o, const char *s)
{
    if (!s)
        s = "";
    int quote = *s == '\0';
    for (const unsigned char *p = (const unsigned char *)s; *p && !quote; p++)
        quote = *p <= ' ' || *p == '=' || *p == '"' || *p == '\\' || *p == 0x7f;
    if (!quote) {
        put(o, s, strlen(s));
        return;
    }
    putc_(o, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char esc[8];
        switch (*p) {
        case '"': put(o, "\\\"", 2); break;
        case '\\': put(o, "\\\\", 2); break;
        case '\n': put(o, "\\n", 2); break;
        case '\r': put(o, "\\r", 2); break;
        case '\t': put(o, "\\t", 2); break;
        default:
            if (*p < 0x20 || *p == 0x7f) {
                snprintf(esc, sizeof esc, "\\x%02x", *p);
                put(o, esc, 4);
            } else {
                putc_(o, (char)*p);
            }
        }
    }
    putc_(o, '"');
}

size_t rs_log_format(char *buf, size_t cap, int64_t ts_ms, rs_log_level level,
                     const char *msg, const rs_kv *kv, size_t n_kv)
{
    out o = {buf, cap, 0};
    char tmp[64];
    if (cap == 0)
        return 0;
    size_t n = rs_time_format(ts_ms, tmp, sizeof tmp);
    put(&o, "ts=", 3);
    put(&o, tmp, n);
    put(&o, " level=", 7);
    put(&o, rs_log_level_name(level), strlen(rs_log_level_name(level)));
    put(&o, " msg=", 5);
    put_value(&o, msg);
    for (size_t i = 0; i < n_kv; i++) {
        putc_(&o, ' ');
        put(&o, kv[i].key, strlen(kv[i].key));
        putc_(&o, '=');
        switch (kv[i].type) {
        case RS_KV_STR: put_value(&o, kv[i].v.s); break;
        case RS_KV_I64: n = (size_t)snprintf(tmp, sizeof tmp, "%lld", (long long)kv[i].v.i); put(&o, tmp, n); break;
        case RS_KV_U64: n = (size_t)snprintf(tmp, sizeof tmp, "%llu", (unsigned long long)kv[i].v.u); put(&o, tmp, n); break;
        case RS_KV_F64:
            if (isfinite(kv[i].v.f))
                n = (size_t)snprintf(tmp, sizeof tmp, "%.6g", kv[i].v.f);
            else
                n = (size_t)snprintf(tmp, sizeof tmp, "%s", isnan(kv[i].v.f) ? "NaN" : kv[i].v.f > 0 ? "+Inf" : "-Inf");
            put(&o, tmp, n);
            break;
        case RS_KV_END: break;
        }
    }
    /* Always end with a newline, even when the line was truncated. */
    if (o.len == cap - 1 && cap > 1)
        o.len--;
    putc_(&o, '\n');
    buf[o.len] = '\0';
    return o.len;
}

void rs_log_emit(rs_log_level level, const char *msg, ...)
{
    if (!rs_log_enabled(level))
        return;
    rs_kv kv[32];
    size_t n = 0;
    va_list ap;
    va_start(ap, msg);
    for (;;) {
        rs_kv f = va_arg(ap, rs_kv);
        if (f.type == RS_KV_END)
            break;
        if (n < RS_ARRAY_LEN(kv))
            kv[n++] = f;
    }
    va_end(ap);
    char line[4096];
    size_t len = rs_log_format(line, sizeof line, rs_now_ms(), level, msg, kv, n);
    fwrite(line, 1, len, stderr);
}
