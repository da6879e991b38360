/* The delimited-text reader of data/csv.h: RFC 4180 quoting, line
 * endings, byte order marks, blank lines, other delimiters, every kind of
 * malformed record (reported with its line, reading resumes after it),
 * records longer than the read buffer, and reading from files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "../test_util.h"
#include "core/alloc.h"
#include "data/csv.h"

/* Reads all of `text` and renders every record as "[f1|f2|...]" (fields
 * joined by '|') or "E<line>:<reason>" for a rejected one, each followed by
 * "@<line>" and separated by spaces. */
static char *render(const char *text, size_t len, const rs_csv_opts *o)
{
    rs_csv *c;
    assert_int_equal(rs_csv_open_mem(text, len, o, &c), RS_OK);
    size_t cap = 4096, used = 0;
    char *out = rs_xmalloc(cap);
    out[0] = '\0';
    for (;;) {
        const rs_csv_field *f;
        size_t n;
        rs_diag d = {{0}};
        rs_err e = rs_csv_next(c, &f, &n, &d);
        if (e == RS_ENOTFOUND)
            break;
        char rec[1024];
        int w = 0;
        if (e == RS_EPARSE) {
            w = snprintf(rec, sizeof rec, "E<%s>", d.msg);
        } else {
            assert_int_equal(e, RS_OK);
            assert_true(n >= 1);
            w = snprintf(rec, sizeof rec, "[");
            for (size_t i = 0; i < n; i++) {
                assert_int_equal(f[i].p[f[i].len], '\0');
                w += snprintf(rec + w, sizeof rec - (size_t)w, "%s%.*s", i ? "|" : "",
                              (int)f[i].len, f[i].p);
            }
            w += snprintf(rec + w, sizeof rec - (size_t)w, "]");
        }
        snprintf(rec + w, sizeof rec - (size_t)w, "@%llu ", (unsigned long long)rs_csv_line(c));
        size_t rl = strlen(rec);
        if (used + rl + 1 > cap) {
            cap = (used + rl + 1) * 2;
            out = rs_xrealloc(out, cap);
        }
        memcpy(out + used, rec, rl + 1);
        used += rl;
    }
    rs_csv_close(c);
    if (used)
        out[used - 1] = '\0'; /* drop the trailing space */
    return out;
}

static void expect(const char *text, const rs_csv_opts *o, const char *want)
{
    char *got = render(text, strlen(text), o);
    assert_string_equal(got, want);
    rs_free(got);
}

static void test_plain_records(void **state)
{
    (void)state;
    expect("a,b,c\n1,2,3\n", NULL, "[a|b|c]@1 [1|2|3]@2");
    expect("a,b\n1,2", NULL, "[a|b]@1 [1|2]@2");                 /* no final newline */
    expect("a,b,\n,,\n", NULL, "[a|b|]@1 [||]@2");                /* empty fields */
    expect("solo\n", NULL, "[solo]@1");
    expect("", NULL, "");
}

static void test_quoting(void **state)
{
    (void)state;
    expect("\"a,b\",c\n", NULL, "[a,b|c]@1");
    expect("\"say \"\"hi\"\"\",x\n", NULL, "[say \"hi\"|x]@1");
    expect("\"\",x\n", NULL, "[|x]@1");
    /* A quoted newline keeps the record together; line numbers count it. */
    expect("id,text\n1,\"two\nlines\"\n2,z\n", NULL, "[id|text]@1 [1|two\nlines]@2 [2|z]@4");
    /* With quoting off, '"' is an ordinary byte. */
    rs_csv_opts raw = {.delim = ',', .quotes = false};
    expect("a\"b,\"c\"\n", &raw, "[a\"b|\"c\"]@1");
}

static void test_line_endings_bom_blank(void **state)
{
    (void)state;
    expect("a,b\r\n1,2\r\n", NULL, "[a|b]@1 [1|2]@2");
    expect("\"x\r\ny\",2\r\n", NULL, "[x\r\ny|2]@1");             /* CRLF inside quotes kept */
    expect("\xef\xbb\xbf" "id,v\n1,2\n", NULL, "[id|v]@1 [1|2]@2");
    expect("\n\na\n\r\n\nb\n\n", NULL, "[a]@3 [b]@6");
}

static void test_other_delimiters(void **state)
{
    (void)state;
    rs_csv_opts tab = {.delim = '\t', .quotes = false};
    expect("196\t242\t3\t881250949\n186\t302\t3\t891717742\n", &tab,
           "[196|242|3|881250949]@1 [186|302|3|891717742]@2");
    rs_csv_opts pipe = {.delim = '|', .quotes = false};
    expect("1|Toy Story (1995)|01-Jan-1995||http://x|0|1\n", &pipe,
           "[1|Toy Story (1995)|01-Jan-1995||http://x|0|1]@1");
}

static void test_malformed_records_resume(void **state)
{
    (void)state;
    expect("a,b\n\"x\"y,1\nc,d\n", NULL,
           "[a|b]@1 E<line 2: text after a closing quote>@2 [c|d]@3");
    expect("a,b\nx\"y,1\nc,d\n", NULL,
           "[a|b]@1 E<line 2: quote inside an unquoted field (quote the whole field and double "
           "inner quotes)>@2 [c|d]@3");
    expect("a,b\n\"open,1\n", NULL, "[a|b]@1 E<line 2: unterminated quoted field>@2");
    rs_csv_opts few = {.delim = ',', .quotes = true, .max_fields = 3};
    expect("1,2,3\n1,2,3,4\n5,6\n", &few,
           "[1|2|3]@1 E<line 2: too many fields>@2 [5|6]@3");
    rs_csv_opts small = {.delim = ',', .quotes = true, .max_record = 8};
    expect("short\nthis line is too long\nok\n", &small,
           "[short]@1 E<line 2: record too long>@2 [ok]@3");
}

/* Records far larger than the initial read buffer, quoted and not. */
static void test_long_records(void **state)
{
    (void)state;
    size_t big = 300000;
    char *text = rs_xmalloc(2 * big + 64);
    size_t n = 0;
    text[n++] = '"';
    for (size_t i = 0; i < big; i++)
        text[n++] = i % 1000 == 999 ? '\n' : 'q';
    memcpy(text + n, "\",1\n", 4);
    n += 4;
    memset(text + n, 'u', big);
    n += big;
    memcpy(text + n, ",2\nend\n", 7);
    n += 7;
    rs_csv *c;
    assert_int_equal(rs_csv_open_mem(text, n, NULL, &c), RS_OK);
    const rs_csv_field *f;
    size_t nf;
    assert_int_equal(rs_csv_next(c, &f, &nf, NULL), RS_OK);
    assert_int_equal(nf, 2);
    assert_int_equal(f[0].len, big);
    assert_string_equal(f[1].p, "1");
    assert_int_equal(rs_csv_next(c, &f, &nf, NULL), RS_OK);
    assert_int_equal(rs_csv_line(c), 1 + big / 1000 + 1);
    assert_int_equal(f[0].len, big);
    assert_string_equal(f[1].p, "2");
    assert_int_equal(rs_csv_next(c, &f, &nf, NULL), RS_OK);
    assert_string_equal(f[0].p, "end");
    assert_int_equal(rs_csv_next(c, &f, &nf, NULL), RS_ENOTFOUND);
    assert_int_equal(nf, 0);
    rs_csv_close(c);
    rs_free(text);
}

static void test_files(void **state)
{
    (void)state;
    rs_csv *c;
    rs_diag d = {{0}};
    assert_int_equal(rs_csv_open(rs_test_path("missing.csv"), NULL, &c, &d), RS_EIO);
    assert_non_null(strstr(d.msg, "missing.csv"));
    assert_non_null(strstr(d.msg, "No such file"));

    const char *p = rs_test_write("f.csv", "user_id,item_id\nu1,i1\nu2,i2\n", (size_t)-1);
    assert_int_equal(rs_csv_open(p, NULL, &c, &d), RS_OK);
    assert_int_equal(rs_csv_size(c), 28);
    const rs_csv_field *f;
    size_t n;
    int records = 0;
    while (rs_csv_next(c, &f, &n, &d) == RS_OK)
        records++;
    assert_int_equal(records, 3);
    assert_int_equal(rs_csv_offset(c), 28);
    rs_csv_close(c);
    rs_csv_close(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_records),
        cmocka_unit_test(test_quoting),
        cmocka_unit_test(test_line_endings_bom_blank),
        cmocka_unit_test(test_other_delimiters),
        cmocka_unit_test(test_malformed_records_resume),
        cmocka_unit_test(test_long_records),
        cmocka_unit_test(test_files),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    if (rc == 0)
        rs_test_cleanup();
    return rc;
}
