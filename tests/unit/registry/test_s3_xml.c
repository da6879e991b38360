/* Reading S3's XML: elements found by exact name, text decoded from
 * entities and character references, ListObjectsV2 pages (objects, the
 * truncation flag and the continuation token) and error documents; bad
 * input is refused with a reason, never read past its end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "../test_util.h"
#include "registry/s3_xml.h"

static rs__xml_span span(const char *s)
{
    return (rs__xml_span){s, strlen(s)};
}

static void test_text(void **state)
{
    (void)state;
    char out[64];
    assert_int_equal(rs__xml_text(span("a&amp;b&lt;c&gt;&quot;&apos;"), out, sizeof out), RS_OK);
    assert_string_equal(out, "a&b<c>\"'");
    assert_int_equal(rs__xml_text(span("&#65;&#x42;&#xe9;&#x1F600;"), out, sizeof out), RS_OK);
    assert_string_equal(out, "AB\xc3\xa9\xf0\x9f\x98\x80");
    assert_int_equal(rs__xml_text(span(""), out, sizeof out), RS_OK);
    assert_string_equal(out, "");

    static const char *const bad[] = {"&nbsp;", "&amp",   "&#;",    "&#x;",   "&#0;",
                                      "&#xD800;", "&#x110000;", "&#12a;", "a<b>c</b>"};
    for (size_t i = 0; i < RS_ARRAY_LEN(bad); i++) {
        snprintf(out, sizeof out, "junk");
        if (rs__xml_text(span(bad[i]), out, sizeof out) != RS_EPARSE)
            fail_msg("'%s' was accepted", bad[i]);
        assert_string_equal(out, "");
    }
    char small[4];
    assert_int_equal(rs__xml_text(span("abcd"), small, sizeof small), RS_ETOOBIG);
    assert_int_equal(rs__xml_text(span("abc"), small, sizeof small), RS_OK);
    assert_int_equal(rs__xml_text(span("ab&#xe9;"), small, sizeof small), RS_ETOOBIG);
}

static void test_next(void **state)
{
    (void)state;
    const char *doc = "<R><KeyCount>2</KeyCount><Key>a</Key><Key/><Key x=\"1\">b</Key>"
                      "<Key>unclosed";
    size_t len = strlen(doc), pos = 0;
    rs__xml_span s;
    assert_int_equal(rs__xml_next(doc, len, "Key", &pos, &s), 1);
    assert_int_equal(s.n, 1);
    assert_memory_equal(s.p, "a", 1);
    assert_int_equal(rs__xml_next(doc, len, "Key", &pos, &s), 1);
    assert_int_equal(s.n, 0);
    assert_int_equal(rs__xml_next(doc, len, "Key", &pos, &s), 1);
    assert_memory_equal(s.p, "b", 1);
    assert_int_equal(rs__xml_next(doc, len, "Key", &pos, &s), 0);
    pos = 0;
    assert_int_equal(rs__xml_next(doc, len, "Missing", &pos, &s), 0);
    /* A document cut inside a tag name. */
    pos = 0;
    assert_int_equal(rs__xml_next("<Ke", 3, "Key", &pos, &s), 0);
}

typedef struct page {
    char keys[512];
    int stop_after, seen;
} page;

static int collect(void *ctx, const char *key, uint64_t size)
{
    page *p = ctx;
    size_t n = strlen(p->keys);
    snprintf(p->keys + n, sizeof p->keys - n, "%s=%llu;", key, (unsigned long long)size);
    return p->stop_after && ++p->seen >= p->stop_after;
}

static const char page_doc[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
    "<Name>models</Name><Prefix>p/</Prefix><KeyCount>2</KeyCount><MaxKeys>2</MaxKeys>"
    "<IsTruncated>true</IsTruncated>"
    "<Contents><Key>p/a&amp;b</Key><LastModified>2024-01-01T00:00:00.000Z</LastModified>"
    "<ETag>&quot;0cc175b9c0f1b6a831c399e269772661&quot;</ETag><Size>1</Size>"
    "<StorageClass>STANDARD</StorageClass></Contents>"
    "<Contents><Key>p/model-1.rsm</Key><Size>18446744073709551615</Size></Contents>"
    "<ContinuationToken>old</ContinuationToken>"
    "<NextContinuationToken>1ab/c+d=</NextContinuationToken></ListBucketResult>";

static void test_list_page(void **state)
{
    (void)state;
    page p = {{0}, 0, 0};
    int truncated = 0;
    char token[64];
    const char *why = NULL;
    assert_int_equal(rs__s3_list_parse(page_doc, strlen(page_doc), collect, &p, &truncated,
                                       token, sizeof token, &why),
                     RS_OK);
    assert_string_equal(p.keys, "p/a&b=1;p/model-1.rsm=18446744073709551615;");
    assert_true(truncated);
    assert_string_equal(token, "1ab/c+d=");

    page stop = {{0}, 1, 0};
    assert_int_equal(rs__s3_list_parse(page_doc, strlen(page_doc), collect, &stop, &truncated,
                                       token, sizeof token, &why),
                     RS_ECANCELED);
    assert_string_equal(stop.keys, "p/a&b=1;");

    const char *last = "<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>";
    page none = {{0}, 0, 0};
    assert_int_equal(rs__s3_list_parse(last, strlen(last), collect, &none, &truncated, token,
                                       sizeof token, &why),
                     RS_OK);
    assert_false(truncated);
    assert_string_equal(token, "");
    assert_string_equal(none.keys, "");
}

static void test_bad_pages(void **state)
{
    (void)state;
    static const struct {
        const char *doc, *why;
    } cases[] = {
        {"<Error><Code>x</Code></Error>", "no <ListBucketResult>"},
        {"<ListBucketResult><Contents><Size>1</Size></Contents></ListBucketResult>",
         "without <Key>"},
        {"<ListBucketResult><Contents><Key>k</Key></Contents></ListBucketResult>",
         "without <Key> or <Size>"},
        {"<ListBucketResult><Contents><Key>k</Key><Size>-1</Size></Contents></ListBucketResult>",
         "not a number"},
        {"<ListBucketResult><Contents><Key>k</Key><Size>18446744073709551616</Size>"
         "</Contents></ListBucketResult>",
         "not a number"},
        {"<ListBucketResult><Contents><Key>&bad;</Key><Size>1</Size></Contents>"
         "</ListBucketResult>",
         "badly escaped"},
        {"<ListBucketResult><Contents><Key></Key><Size>1</Size></Contents></ListBucketResult>",
         "empty"},
    };
    for (size_t i = 0; i < RS_ARRAY_LEN(cases); i++) {
        page p = {{0}, 0, 0};
        int truncated;
        char token[64];
        const char *why = "";
        assert_int_equal(rs__s3_list_parse(cases[i].doc, strlen(cases[i].doc), collect, &p,
                                           &truncated, token, sizeof token, &why),
                         RS_EPARSE);
        if (!strstr(why, cases[i].why))
            fail_msg("case %zu: '%s' lacks '%s'", i, why, cases[i].why);
    }
    /* A token that does not fit. */
    const char *doc = "<ListBucketResult><IsTruncated>true</IsTruncated>"
                      "<NextContinuationToken>0123456789</NextContinuationToken>"
                      "</ListBucketResult>";
    page p = {{0}, 0, 0};
    int truncated;
    char token[8];
    const char *why = "";
    assert_int_equal(rs__s3_list_parse(doc, strlen(doc), collect, &p, &truncated, token,
                                       sizeof token, &why),
                     RS_EPARSE);
    assert_non_null(strstr(why, "continuation token"));
}

static void test_error_doc(void **state)
{
    (void)state;
    const char *doc = "<?xml version=\"1.0\"?><Error><Code>SignatureDoesNotMatch</Code>"
                      "<Message>The request signature we calculated does not match &amp; "
                      "so on</Message><StringToSign>x</StringToSign></Error>";
    char code[32], msg[128];
    rs__s3_error_parse(doc, strlen(doc), code, sizeof code, msg, sizeof msg);
    assert_string_equal(code, "SignatureDoesNotMatch");
    assert_string_equal(msg, "The request signature we calculated does not match & so on");

    /* Too long: a prefix, never an entity cut in two. */
    char small[16];
    rs__s3_error_parse(doc, strlen(doc), code, sizeof code, small, sizeof small);
    assert_string_equal(small, "The request sig");
    const char *amp = "<Error><Message>abcdefghijklm&amp;zzzz</Message></Error>";
    rs__s3_error_parse(amp, strlen(amp), code, sizeof code, small, sizeof small);
    assert_string_equal(small, "abcdefghijklm");
    assert_string_equal(code, "");

    rs__s3_error_parse("not xml", 7, code, sizeof code, msg, sizeof msg);
    assert_string_equal(code, "");
    assert_string_equal(msg, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text),      cmocka_unit_test(test_next),
        cmocka_unit_test(test_list_page), cmocka_unit_test(test_bad_pages),
        cmocka_unit_test(test_error_doc),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    if (rc == 0)
        rs_test_cleanup();
    return rc;
}
