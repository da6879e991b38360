/* logfmt lines of core/log.h: rs_log_format output byte for byte at a fixed
 * timestamp, quoting and escaping of awkward string values, integer and
 * float fields (NaN, infinities), truncation that still ends the line with
 * a newline, level names and parsing, the threshold seen by rs_log_enabled,
 * and that rs_log_emit writes (or skips) one line on stderr. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <fcntl.h>
#include <math.h>

#include "../test_util.h"
#include "core/log.h"
#include "core/timeutil.h"

/* 2023-11-14T22:13:20.123Z */
#define TS INT64_C(1700000000123)
#define PREFIX "ts=2023-11-14T22:13:20.123Z "

static char line[4096];

static const char *fmt(rs_log_level lvl, const char *msg, const rs_kv *kv, size_t n)
{
    size_t len = rs_log_format(line, sizeof line, TS, lvl, msg, kv, n);
    assert_int_equal(len, strlen(line));
    return line;
}

/* The line for one string field s=<value>. */
static const char *one_str(const char *value)
{
    rs_kv kv[] = {RS_S("s", value)};
    return fmt(RS_LOG_INFO, "m", kv, 1);
}

static const char *one_f(double v)
{
    rs_kv kv[] = {RS_F("f", v)};
    return fmt(RS_LOG_INFO, "m", kv, 1);
}

static void test_format_basic(void **state)
{
    (void)state;
    assert_string_equal(fmt(RS_LOG_INFO, "hello", NULL, 0),
                        PREFIX "level=info msg=hello\n");
    rs_kv kv[] = {RS_U("events", 100000), RS_S("file", "/tmp/a.csv"), RS_I("delta", -5),
                  RS_F("ratio", 0.5)};
    assert_string_equal(fmt(RS_LOG_WARN, "import finished", kv, 4),
                        PREFIX "level=warn msg=\"import finished\" events=100000 "
                               "file=/tmp/a.csv delta=-5 ratio=0.5\n");
    assert_string_equal(fmt(RS_LOG_DEBUG, "x", NULL, 0), PREFIX "level=debug msg=x\n");
    assert_string_equal(fmt(RS_LOG_ERROR, "x", NULL, 0), PREFIX "level=error msg=x\n");
}

static void test_format_epoch_zero(void **state)
{
    (void)state;
    size_t n = rs_log_format(line, sizeof line, 0, RS_LOG_INFO, "m", NULL, 0);
    assert_string_equal(line, "ts=1970-01-01T00:00:00.000Z level=info msg=m\n");
    assert_int_equal(n, strlen(line));
}

static void test_quoting(void **state)
{
    (void)state;
    assert_string_equal(one_str("plain"), PREFIX "level=info msg=m s=plain\n");
    assert_string_equal(one_str("two words"), PREFIX "level=info msg=m s=\"two words\"\n");
    assert_string_equal(one_str(""), PREFIX "level=info msg=m s=\"\"\n");
    assert_string_equal(one_str(NULL), PREFIX "level=info msg=m s=\"\"\n");
    assert_string_equal(one_str("k=v"), PREFIX "level=info msg=m s=\"k=v\"\n");
    assert_string_equal(one_str("say \"hi\""),
                        PREFIX "level=info msg=m s=\"say \\\"hi\\\"\"\n");
    assert_string_equal(one_str("a\"b"), PREFIX "level=info msg=m s=\"a\\\"b\"\n");
    assert_string_equal(one_str("back\\slash"), PREFIX "level=info msg=m s=\"back\\\\slash\"\n");
    assert_string_equal(one_str("a\nb"), PREFIX "level=info msg=m s=\"a\\nb\"\n");
    assert_string_equal(one_str("a\r\tb"), PREFIX "level=info msg=m s=\"a\\r\\tb\"\n");
    assert_string_equal(one_str("\x01z\x1f"), PREFIX "level=info msg=m s=\"\\x01z\\x1f\"\n");
    assert_string_equal(one_str("del\x7f"), PREFIX "level=info msg=m s=\"del\\x7f\"\n");
    /* Non-ASCII UTF-8 is written as it is, without quotes. */
    assert_string_equal(one_str("Mis\xc3\xa9rables"),
                        PREFIX "level=info msg=m s=Mis\xc3\xa9rables\n");
    /* The message follows the same rules. */
    assert_string_equal(fmt(RS_LOG_INFO, "", NULL, 0), PREFIX "level=info msg=\"\"\n");
    assert_string_equal(fmt(RS_LOG_INFO, "a=b\n", NULL, 0),
                        PREFIX "level=info msg=\"a=b\\n\"\n");
}

static void test_numbers(void **state)
{
    (void)state;
    rs_kv kv[] = {RS_I("min", INT64_MIN), RS_I("max", INT64_MAX), RS_U("u", UINT64_MAX),
                  RS_I("zero", 0)};
    assert_string_equal(fmt(RS_LOG_INFO, "m", kv, 4),
                        PREFIX "level=info msg=m min=-9223372036854775808 "
                               "max=9223372036854775807 u=18446744073709551615 zero=0\n");
    assert_string_equal(one_f(NAN), PREFIX "level=info msg=m f=NaN\n");
    assert_string_equal(one_f(INFINITY), PREFIX "level=info msg=m f=+Inf\n");
    assert_string_equal(one_f(-INFINITY), PREFIX "level=info msg=m f=-Inf\n");
    assert_string_equal(one_f(0.0), PREFIX "level=info msg=m f=0\n");
    assert_string_equal(one_f(1.0 / 3.0), PREFIX "level=info msg=m f=0.333333\n");
    assert_string_equal(one_f(-2.5), PREFIX "level=info msg=m f=-2.5\n");
    assert_string_equal(one_f(1e20), PREFIX "level=info msg=m f=1e+20\n");
    assert_string_equal(one_f(123456789.0), PREFIX "level=info msg=m f=1.23457e+08\n");
}

/* Every capacity below the full length gives a prefix of the full line
 * with its last byte replaced by a newline. */
static void test_truncation(void **state)
{
    (void)state;
    rs_kv kv[] = {RS_S("file", "some \"quoted\" path\n"), RS_U("n", 123456), RS_F("x", NAN)};
    char full[512];
    size_t full_len = rs_log_format(full, sizeof full, TS, RS_LOG_INFO, "a message", kv, 3);
    assert_int_equal(full_len, strlen(full));
    assert_int_equal(full[full_len - 1], '\n');
    assert_string_equal(full, PREFIX "level=info msg=\"a message\" "
                                     "file=\"some \\\"quoted\\\" path\\n\" n=123456 x=NaN\n");

    for (size_t cap = 2; cap <= full_len + 1; cap++) {
        char buf[512];
        memset(buf, '#', sizeof buf);
        size_t n = rs_log_format(buf, cap, TS, RS_LOG_INFO, "a message", kv, 3);
        assert_int_equal(n, RS_MIN(cap - 1, full_len));
        assert_int_equal(strlen(buf), n);
        assert_int_equal(buf[n - 1], '\n');
        assert_memory_equal(buf, full, n - 1);
        /* Nothing written past the capacity. */
        assert_int_equal(buf[cap], '#');
    }
    /* A bigger buffer gives the whole line. */
    char buf[600];
    assert_int_equal(rs_log_format(buf, sizeof buf, TS, RS_LOG_INFO, "a message", kv, 3),
                     full_len);
    assert_string_equal(buf, full);

    /* cap 1 holds only the NUL; cap 0 writes nothing. */
    buf[0] = 'x';
    assert_int_equal(rs_log_format(buf, 1, TS, RS_LOG_INFO, "m", NULL, 0), 0);
    assert_int_equal(buf[0], '\0');
    buf[0] = 'x';
    assert_int_equal(rs_log_format(buf, 0, TS, RS_LOG_INFO, "m", NULL, 0), 0);
    assert_int_equal(buf[0], 'x');
}

static void test_level_names(void **state)
{
    (void)state;
    static const char *const names[] = {"debug", "info", "warn", "error", "off"};
    for (int i = 0; i < 5; i++) {
        assert_string_equal(rs_log_level_name((rs_log_level)i), names[i]);
        assert_int_equal(rs_log_level_parse(names[i]), i);
    }
    assert_int_equal(rs_log_level_parse("warning"), RS_LOG_WARN);
    assert_int_equal(rs_log_level_parse(""), -1);
    assert_int_equal(rs_log_level_parse("INFO"), -1);
    assert_int_equal(rs_log_level_parse("verbose"), -1);
    assert_int_equal(rs_log_level_parse("info "), -1);
    assert_string_equal(rs_log_level_name((rs_log_level)5), "?");
    assert_string_equal(rs_log_level_name((rs_log_level)-1), "?");
}

static void test_threshold(void **state)
{
    (void)state;
    rs_log_level saved = rs_log_get_level();
    for (int t = RS_LOG_DEBUG; t <= RS_LOG_OFF; t++) {
        rs_log_set_level((rs_log_level)t);
        assert_int_equal(rs_log_get_level(), t);
        for (int l = RS_LOG_DEBUG; l <= RS_LOG_ERROR; l++)
            assert_int_equal(rs_log_enabled((rs_log_level)l) != 0, l >= t);
        /* OFF is a threshold, never a level that is written. */
        assert_false(rs_log_enabled(RS_LOG_OFF));
    }
    rs_log_set_level(saved);
}

/* Runs fn with stderr sent to a file and returns what it wrote. */
static const char *capture_stderr(void (*fn)(void))
{
    static char got[8192];
    const char *path = rs_test_path("stderr.txt");
    fflush(stderr);
    int saved = dup(2);
    assert_true(saved >= 0);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(dup2(fd, 2), 2);
    close(fd);
    fn();
    fflush(stderr);
    assert_int_equal(dup2(saved, 2), 2);
    close(saved);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t n = fread(got, 1, sizeof got - 1, f);
    fclose(f);
    got[n] = '\0';
    return got;
}

static void emit_some(void)
{
    rs_log_set_level(RS_LOG_WARN);
    rs_log_debug("hidden debug");
    rs_log_info("hidden info", RS_I("x", 1));
    rs_log_warn("disk low", RS_U("free_mb", 12), RS_S("dir", "/var/lib"));
    rs_log_error("boom");
    rs_log_set_level(RS_LOG_OFF);
    rs_log_error("hidden error");
}

static void test_emit(void **state)
{
    (void)state;
    rs_log_level saved = rs_log_get_level();
    const char *got = capture_stderr(emit_some);
    rs_log_set_level(saved);

    assert_null(strstr(got, "hidden"));
    const char *w = strstr(got, " level=warn msg=\"disk low\" free_mb=12 dir=/var/lib\n");
    const char *e = strstr(got, " level=error msg=boom\n");
    assert_non_null(w);
    assert_non_null(e);
    assert_true(w < e);
    /* Exactly two lines, each starting with a timestamp. */
    assert_memory_equal(got, "ts=", 3);
    const char *nl = strchr(got, '\n');
    assert_non_null(nl);
    assert_memory_equal(nl + 1, "ts=", 3);
    assert_null(strchr(strchr(nl + 1, '\n') + 1, '\n'));
    /* The timestamp is the current time, in the 24-byte ISO form. */
    int64_t ts;
    const char *why = NULL;
    assert_int_equal(rs_time_parse(got + 3, 24, &ts, &why), RS_OK);
    assert_int_equal(got[3 + 24], ' ');
    assert_true(llabs(rs_now_ms() - ts) < 60000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_basic),
        cmocka_unit_test(test_format_epoch_zero),
        cmocka_unit_test(test_quoting),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_level_names),
        cmocka_unit_test(test_threshold),
        cmocka_unit_test(test_emit),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    if (rc == 0)
        rs_test_cleanup();
    return rc;
}
