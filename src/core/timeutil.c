/* Clocks, timestamp parsing (epoch numbers and ISO 8601) and formatting.
 * Calendar arithmetic uses the days-from-civil algorithm so that no
 * locale- or timezone-dependent libc call is involved. */
#include "timeutil.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t rs_now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

double rs_mono_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
 * days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static int is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int m)
{
    static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : dm[m - 1];
}

/* Reads exactly n digits at *p; advances *p. Returns -1 when not digits. */
static int64_t digits(const char **p, const char *end, int n)
{
    int64_t v = 0;
    for (int i = 0; i < n; i++, (*p)++) {
        if (*p >= end || !isdigit((unsigned char)**p))
            return -1;
        v = v * 10 + (**p - '0');
    }
    return v;
}

static rs_err fail(const char **why, const char *msg)
{
    if (why)
        *why = msg;
    return RS_EPARSE;
}

static rs_err check_range(int64_t ms, int64_t *out_ms, const char **why)
{
    if (ms < RS_TS_MIN_MS || ms > RS_TS_MAX_MS)
        return fail(why, "timestamp out of range (1970 to 9999)");
    *out_ms = ms;
    return RS_OK;
}

static rs_err parse_iso(const char *p, const char *end, int64_t *out_ms, const char **why)
{
    int64_t y = digits(&p, end, 4);
    if (y < 0 || p >= end || *p != '-')
        return fail(why, "expected YYYY-MM-DD");
    p++;
    int64_t mo = digits(&p, end, 2);
    if (mo < 1 || mo > 12 || p >= end || *p != '-')
        return fail(why, "bad month");
    p++;
    int64_t d = digits(&p, end, 2);
    if (d < 1 || d > days_in_month(y, (int)mo))
        return fail(why, "bad day of month");
    int64_t h = 0, mi = 0, s = 0, frac_ms = 0, offset_min = 0;
    if (p < end) {
        if (*p != 'T' && *p != 't' && *p != ' ')
            return fail(why, "expected 'T' after the date");
        p++;
        h = digits(&p, end, 2);
        if (h < 0 || h > 23 || p >= end || *p != ':')
            return fail(why, "bad hour");
        p++;
        mi = digits(&p, end, 2);
        if (mi < 0 || mi > 59)
            return fail(why, "bad minute");
        if (p < end && *p == ':') {
            p++;
            s = digits(&p, end, 2);
            if (s < 0 || s > 60)
                return fail(why, "bad second");
            if (s == 60)
                s = 59; /* a leap second maps onto the second before it */
        }
        if (p < end && (*p == '.' || *p == ',')) {
            p++;
            int nd = 0;
            int64_t scale = 100;
            while (p < end && isdigit((unsigned char)*p)) {
                if (nd < 3) {
                    frac_ms += (*p - '0') * scale;
                    scale /= 10;
                }
                nd++;
                p++;
            }
            if (nd == 0)
                return fail(why, "expected digits after the decimal point");
        }
        if (p < end && (*p == 'Z' || *p == 'z')) {
            p++;
        } else if (p < end && (*p == '+' || *p == '-')) {
            int sign = *p == '-' ? -1 : 1;
            p++;
            int64_t oh = digits(&p, end, 2);
            if (oh < 0 || oh > 23)
                return fail(why, "bad timezone offset");
            if (p < end && *p == ':')
                p++;
            int64_t om = digits(&p, end, 2);
            if (om < 0 || om > 59)
                return fail(why, "bad timezone offset");
            offset_min = sign * (oh * 60 + om);
        }
    }
    if (p != end)
        return fail(why, "unexpected characters after the timestamp");
    int64_t days = days_from_civil(y, (int)mo, (int)d);
    int64_t secs = days * 86400 + h * 3600 + mi * 60 + s - offset_min * 60;
    return check_range(secs * 1000 + frac_ms, out_ms, why);
}

rs_err rs_time_parse(const char *s, size_t len, int64_t *out_ms, const char **why)
{
    const char *end = s + len;
    if (len == 0)
        return fail(why, "empty timestamp");
    if (len >= 10 && s[4] == '-')
        return parse_iso(s, end, out_ms, why);

    /* An epoch number: integer seconds or ms, or decimal seconds. */
    const char *p = s;
    if (*p == '-')
        return fail(why, "timestamp out of range (1970 to 9999)");
    int64_t whole = 0;
    int nd = 0;
    while (p < end && isdigit((unsigned char)*p)) {
        if (nd++ > 16)
            return fail(why, "timestamp out of range (1970 to 9999)");
        whole = whole * 10 + (*p++ - '0');
    }
    if (nd == 0)
        return fail(why, "not a timestamp (expected epoch seconds or ISO 8601)");
    if (p == end)
        return check_range(whole > RS_TS_SECONDS_LIMIT ? whole : whole * 1000, out_ms, why);
    if (*p != '.')
        return fail(why, "not a timestamp (expected epoch seconds or ISO 8601)");
    p++;
    int64_t frac_ms = 0, scale = 100;
    int nf = 0;
    while (p < end && isdigit((unsigned char)*p)) {
        if (nf < 3) {
            frac_ms += (*p - '0') * scale;
            scale /= 10;
        }
        nf++;
        p++;
    }
    if (nf == 0 || p != end)
        return fail(why, "not a timestamp (expected epoch seconds or ISO 8601)");
    if (whole > RS_TS_MAX_MS / 1000)
        return fail(why, "timestamp out of range (1970 to 9999)");
    return check_range(whole * 1000 + frac_ms, out_ms, why);
}

size_t rs_time_format(int64_t ms, char *buf, size_t cap)
{
    int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
    int msec = (int)(ms - secs * 1000);
    int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
    int64_t rem = secs - days * 86400;
    int64_t y;
    int m, d;
    civil_from_days(days, &y, &m, &d);
    int n = snprintf(buf, cap, "%04lld-%02d-%02dT%02d:%02d:%02d.%03dZ", (long long)y, m, d,
                     (int)(rem / 3600), (int)(rem % 3600 / 60), (int)(rem % 60), msec);
    if (n < 0)
        return 0;
    return (size_t)n < cap ? (size_t)n : cap - 1;
}

rs_err rs_duration_parse(const char *s, int64_t *out_ms)
{
    char *end;
    if (!s || !*s || !(isdigit((unsigned char)*s) || *s == '.'))
        return RS_EPARSE;
    double v = strtod(s, &end);
    /* strtod also reads exponents and hex ("1e3", "0x10"): only plain
     * decimal digits with an optional point make a duration. */
    if (end == s || end != s + strspn(s, "0123456789.") || !isfinite(v) || v < 0)
        return RS_EPARSE;
    double unit;
    if (strcmp(end, "") == 0 || strcmp(end, "s") == 0)
        unit = 1000;
    else if (strcmp(end, "ms") == 0)
        unit = 1;
    else if (strcmp(end, "m") == 0)
        unit = 60e3;
    else if (strcmp(end, "h") == 0)
        unit = 3600e3;
    else if (strcmp(end, "d") == 0)
        unit = 86400e3;
    else
        return RS_EPARSE;
    double ms = v * unit;
    if (ms > 9.2e18)
        return RS_EPARSE;
    *out_ms = (int64_t)llround(ms);
    return RS_OK;
}
