/* Timestamps and durations of core/timeutil.h: rs_time_parse on epoch
 * seconds and milliseconds, decimal seconds, ISO 8601 dates with and
 * without a time, fractions, Z and numeric offsets, leap years, the range
 * limits and garbage; rs_time_format and its round trip with the parser;
 * rs_duration_parse units and errors; the clocks. Expected values were
 * computed independently (Python's datetime in UTC). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

#include "core/timeutil.h"

typedef struct good {
    const char *s;
    int64_t ms;
} good;

static const good goods[] = {
    /* Integer epoch seconds, then milliseconds above 1e11. */
    {"0", 0},
    {"1", 1000},
    {"1700000000", INT64_C(1700000000000)},
    {"100000000000", INT64_C(100000000000000)}, /* exactly 1e11: still seconds */
    {"100000000001", INT64_C(100000000001)},    /* above: milliseconds (1973) */
    {"1700000000123", INT64_C(1700000000123)},
    {"253402300799999", RS_TS_MAX_MS},
    {"00000000000000001", 1000},                /* 17 digits with leading zeros */
    /* Decimal seconds; digits past the millisecond are dropped. */
    {"1700000000.25", INT64_C(1700000000250)},
    {"1700000000.5", INT64_C(1700000000500)},
    {"1700000000.123456", INT64_C(1700000000123)},
    {"0.001", 1},
    {"0.0009", 0},
    {"253402300799.999", RS_TS_MAX_MS},
    /* ISO 8601 / RFC 3339. */
    {"1970-01-01", 0},
    {"1970-01-01T00:00:00Z", 0},
    {"2024-05-01", INT64_C(1714521600000)},
    {"2024-05-01T12:00:00Z", INT64_C(1714564800000)},
    {"2024-05-01t12:00:00z", INT64_C(1714564800000)},
    {"2024-05-01 12:00:00Z", INT64_C(1714564800000)},
    {"2024-05-01T12:00:00", INT64_C(1714564800000)},
    {"2024-05-01T12:00", INT64_C(1714564800000)},
    {"2024-05-01T12:00:00.5+02:00", INT64_C(1714557600500)},
    {"2024-05-01T12:00:00+0200", INT64_C(1714557600000)},
    {"2024-05-01T12:00:00-05:30", INT64_C(1714584600000)},
    {"2024-05-01T12:00:00-0530", INT64_C(1714584600000)},
    {"2024-05-01T12:00:00+00:00", INT64_C(1714564800000)},
    {"2024-05-01T12:00:00,25Z", INT64_C(1714564800250)},
    {"2024-05-01T12:00:00.123456789Z", INT64_C(1714564800123)},
    {"2024-05-01T12:00:00.07Z", INT64_C(1714564800070)},
    {"2024-02-29", INT64_C(1709164800000)},
    {"2000-02-29", INT64_C(951782400000)},
    {"2016-12-31T23:59:60Z", INT64_C(1483228799000)}, /* leap second */
    {"9999-12-31T23:59:59.999Z", RS_TS_MAX_MS},
    {"9999-12-31T23:59:59.999+00:01", RS_TS_MAX_MS - 60000},
};

static const char *const bads[] = {
    "",
    "abc",
    "12abc",
    "1.2.3",
    "1.",
    ".5",
    "+5",
    " 5",
    "5 ",
    "-1",
    "-1700000000",
    "1e9",
    "0x10",
    "253402300800000",         /* one ms past the maximum */
    "253402300800.0",          /* one second past, as decimal seconds */
    "99999999999999999",       /* 17 digits, out of range */
    "123456789012345678901",   /* 21 digits */
    "2023-02-29",              /* not a leap year */
    "2100-02-29",              /* century, not a leap year */
    "2024-02-30",
    "2024-04-31",
    "2024-13-01",
    "2024-00-10",
    "2024-01-00",
    "2024-5-01",
    "2024/05/01",
    "2024-05-01T",
    "2024-05-01X12:00:00",
    "2024-05-01T24:00:00Z",
    "2024-05-01T12:60:00Z",
    "2024-05-01T12:00:61Z",
    "2024-05-01T1:00:00Z",
    "2024-05-01T12:00:00.Z",
    "2024-05-01T12:00:00+24:00",
    "2024-05-01T12:00:00+02:60",
    "2024-05-01T12:00:00+02",
    "2024-05-01T12:00:00Z ",
    "2024-05-01T12:00:00ZZ",
    "2024-05-01junk",
    "1969-12-31T23:59:59.999Z",
    "1970-01-01T00:30:00+01:00", /* before the epoch once the offset applies */
    "0000-01-01",
    "9999-12-31T23:59:59.999-00:01",
    "10000-01-01",
    "10000-01-01T00:00:00Z",
};

static void test_parse_good(void **state)
{
    (void)state;
    for (size_t i = 0; i < RS_ARRAY_LEN(goods); i++) {
        int64_t ms = -12345;
        const char *why = "unset";
        rs_err e = rs_time_parse(goods[i].s, strlen(goods[i].s), &ms, &why);
        if (e != RS_OK)
            fail_msg("\"%s\": %s", goods[i].s, why);
        if (ms != goods[i].ms)
            fail_msg("\"%s\": got %lld, want %lld", goods[i].s, (long long)ms,
                     (long long)goods[i].ms);
        /* why is optional. */
        assert_int_equal(rs_time_parse(goods[i].s, strlen(goods[i].s), &ms, NULL), RS_OK);
    }
}

static void test_parse_bad(void **state)
{
    (void)state;
    for (size_t i = 0; i < RS_ARRAY_LEN(bads); i++) {
        int64_t ms = 0;
        const char *why = NULL;
        rs_err e = rs_time_parse(bads[i], strlen(bads[i]), &ms, &why);
        if (e != RS_EPARSE)
            fail_msg("\"%s\": got %d (%lld), want EPARSE", bads[i], e, (long long)ms);
        assert_non_null(why);
        assert_true(strlen(why) > 0);
        assert_int_equal(rs_time_parse(bads[i], strlen(bads[i]), &ms, NULL), RS_EPARSE);
    }
}

static void test_parse_reasons(void **state)
{
    (void)state;
    int64_t ms;
    const char *why = NULL;
    assert_int_equal(rs_time_parse("2023-02-29", 10, &ms, &why), RS_EPARSE);
    assert_string_equal(why, "bad day of month");
    assert_int_equal(rs_time_parse("-5", 2, &ms, &why), RS_EPARSE);
    assert_non_null(strstr(why, "out of range"));
    assert_int_equal(rs_time_parse("1969-12-31", 10, &ms, &why), RS_EPARSE);
    assert_non_null(strstr(why, "out of range"));
}

/* Only s[0..len) is read: the parser works on views into larger lines. */
static void test_parse_respects_len(void **state)
{
    (void)state;
    int64_t ms;
    const char *line = "1700000000,u1,i2";
    assert_int_equal(rs_time_parse(line, 10, &ms, NULL), RS_OK);
    assert_int_equal(ms, INT64_C(1700000000000));
    const char *iso = "2024-05-01T12:00:00Z,extra";
    assert_int_equal(rs_time_parse(iso, 20, &ms, NULL), RS_OK);
    assert_int_equal(ms, INT64_C(1714564800000));
    assert_int_equal(rs_time_parse(iso, 10, &ms, NULL), RS_OK);
    assert_int_equal(ms, INT64_C(1714521600000));
    assert_int_equal(rs_time_parse(iso, 0, &ms, NULL), RS_EPARSE);
}

static void test_format_values(void **state)
{
    (void)state;
    static const good cases[] = {
        {"1970-01-01T00:00:00.000Z", 0},
        {"1970-01-01T00:00:00.001Z", 1},
        {"2023-11-14T22:13:20.123Z", INT64_C(1700000000123)},
        {"2024-02-29T00:00:00.000Z", INT64_C(1709164800000)},
        {"2000-02-29T00:00:00.000Z", INT64_C(951782400000)},
        {"2024-05-01T10:00:00.500Z", INT64_C(1714557600500)},
        {"9999-12-31T23:59:59.999Z", RS_TS_MAX_MS},
        {"1969-12-31T23:59:59.999Z", -1},
    };
    for (size_t i = 0; i < RS_ARRAY_LEN(cases); i++) {
        char buf[32];
        memset(buf, '#', sizeof buf);
        size_t n = rs_time_format(cases[i].ms, buf, sizeof buf);
        assert_int_equal(n, 24);
        assert_string_equal(buf, cases[i].s);
    }
}

static void test_round_trip(void **state)
{
    (void)state;
    int64_t fixed[] = {0, 1, 999, 1000, 86399999, 86400000, INT64_C(951782400000),
                       INT64_C(1709164800000), INT64_C(1700000000123), RS_TS_MAX_MS,
                       RS_TS_MAX_MS - 1};
    char buf[32];
    for (size_t i = 0; i < RS_ARRAY_LEN(fixed); i++) {
        size_t n = rs_time_format(fixed[i], buf, sizeof buf);
        int64_t back = -1;
        assert_int_equal(rs_time_parse(buf, n, &back, NULL), RS_OK);
        assert_int_equal(back, fixed[i]);
    }
    /* A spread of values across the whole range (a fixed LCG). */
    uint64_t x = 12345;
    for (int i = 0; i < 20000; i++) {
        x = x * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
        int64_t ms = (int64_t)((x >> 11) % (uint64_t)(RS_TS_MAX_MS + 1));
        size_t n = rs_time_format(ms, buf, sizeof buf);
        assert_int_equal(n, 24);
        int64_t back = -1;
        assert_int_equal(rs_time_parse(buf, n, &back, NULL), RS_OK);
        assert_int_equal(back, ms);
    }
}

static void test_duration(void **state)
{
    (void)state;
    static const good cases[] = {
        {"90s", 90000},     {"15m", 900000},    {"6h", 21600000}, {"7d", 604800000},
        {"500ms", 500},     {"30", 30000},      {"0", 0},         {"1.5h", 5400000},
        {".5s", 500},       {"0.25", 250},      {"0ms", 0},       {"1d", 86400000},
        {"2.5ms", 3},       {"365d", INT64_C(31536000000)},
    };
    for (size_t i = 0; i < RS_ARRAY_LEN(cases); i++) {
        int64_t ms = -1;
        if (rs_duration_parse(cases[i].s, &ms) != RS_OK)
            fail_msg("\"%s\" rejected", cases[i].s);
        if (ms != cases[i].ms)
            fail_msg("\"%s\": got %lld, want %lld", cases[i].s, (long long)ms,
                     (long long)cases[i].ms);
    }
    static const char *const dbad[] = {"",    "s",    "ms",   "-5s",  "5x",   "5 s",
                                       " 5",  "5S",   "5sec", "abc",  ".",    "1e400",
                                       "0x10", "1e3", "5mm",  "5hs",  "inf",  "nan",
                                       "1e19s"};
    for (size_t i = 0; i < RS_ARRAY_LEN(dbad); i++) {
        int64_t ms = 77;
        if (rs_duration_parse(dbad[i], &ms) != RS_EPARSE)
            fail_msg("\"%s\" accepted as %lld ms", dbad[i], (long long)ms);
        assert_int_equal(ms, 77);
    }
    int64_t ms = 77;
    assert_int_equal(rs_duration_parse(NULL, &ms), RS_EPARSE);
}

static void test_clocks(void **state)
{
    (void)state;
    int64_t now = rs_now_ms();
    assert_true(now > INT64_C(1700000000000)); /* after November 2023 */
    assert_true(now < RS_TS_MAX_MS);
    double a = rs_mono_s();
    double b = rs_mono_s();
    assert_true(b >= a);
    assert_true(a > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_good),
        cmocka_unit_test(test_parse_bad),
        cmocka_unit_test(test_parse_reasons),
        cmocka_unit_test(test_parse_respects_len),
        cmocka_unit_test(test_format_values),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_duration),
        cmocka_unit_test(test_clocks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
