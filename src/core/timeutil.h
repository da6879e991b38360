/* Clocks and timestamp text. Timestamps are int64 milliseconds since the
 * Unix epoch (UTC) everywhere in recsys. */
#ifndef RS_CORE_TIMEUTIL_H
#define RS_CORE_TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "err.h"

/* The earliest and latest timestamps accepted from input: 1970-01-01 and
 * 9999-12-31T23:59:59.999Z. */
#define RS_TS_MIN_MS INT64_C(0)
#define RS_TS_MAX_MS INT64_C(253402300799999)

/* Integer epoch values above this are read as milliseconds rather than
 * seconds (1e11 seconds is the year 5138). */
#define RS_TS_SECONDS_LIMIT INT64_C(100000000000)

/* Wall-clock time in ms since the epoch. */
int64_t rs_now_ms(void);
/* Monotonic time in seconds, for measuring durations. */
double rs_mono_s(void);

/* Parses a timestamp from s[0..len): an integer epoch value (seconds, or
 * milliseconds when above RS_TS_SECONDS_LIMIT), a decimal number of seconds
 * ("1700000000.25"), or ISO 8601 / RFC 3339 ("2024-05-01", "2024-05-01T12:00:00Z",
 * "2024-05-01T12:00:00.5+02:00"). Returns RS_EPARSE with a reason in *why
 * (a static string) when malformed or outside [RS_TS_MIN_MS, RS_TS_MAX_MS]. */
RS_MUST_USE rs_err rs_time_parse(const char *s, size_t len, int64_t *out_ms, const char **why);

/* Writes "YYYY-MM-DDTHH:MM:SS.mmmZ" into buf (at least 32 bytes) and
 * returns its length. */
size_t rs_time_format(int64_t ms, char *buf, size_t cap);

/* Parses a duration such as "90s", "15m", "6h", "7d", "500ms" or a plain
 * number of seconds. Returns RS_EPARSE when malformed. */
RS_MUST_USE rs_err rs_duration_parse(const char *s, int64_t *out_ms);

#endif
