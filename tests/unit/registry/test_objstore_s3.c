/* Opening s3:// model stores, which contacts nothing: the URL is made
 * canonical, credentials and settings come from the environment and are
 * checked with messages naming the variable, and object URIs map to keys
 * and back. Requests themselves are tested against a real S3-compatible
 * server in tests/integration/s3.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "../test_util.h"
#include "registry/objstore.h"

static const char *const vars[] = {
    "AWS_ACCESS_KEY_ID",   "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
    "AWS_REGION",          "AWS_DEFAULT_REGION",    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3", "RECSYS_S3_PATH_STYLE",  "RECSYS_S3_TIMEOUT",
    "RECSYS_S3_PAGE_SIZE",
};

/* Clears every setting, then sets the credentials unless told not to. */
static int reset_env(void **state)
{
    (void)state;
    for (size_t i = 0; i < RS_ARRAY_LEN(vars); i++)
        unsetenv(vars[i]);
    setenv("AWS_ACCESS_KEY_ID", "AKID", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "secret", 1);
    return 0;
}

/* Opens url and expects `want`; on failure the diag must contain msg. */
static void expect_open(const char *url, rs_err want, const char *msg)
{
    rs_objstore *s = NULL;
    rs_diag d = {{0}};
    rs_err e = rs_objstore_open(url, &s, &d);
    if (e != want)
        fail_msg("%s: got %s (%s), want %s", url, rs_err_name(e), d.msg, rs_err_name(want));
    if (e == RS_OK) {
        rs_objstore_close(s);
        return;
    }
    assert_null(s);
    if (msg && !strstr(d.msg, msg))
        fail_msg("%s: '%s' lacks '%s'", url, d.msg, msg);
}

static void test_canonical_url(void **state)
{
    (void)state;
    static const struct {
        const char *url, *canonical;
    } cases[] = {
        {"s3://bucket", "s3://bucket"},
        {"s3://bucket/", "s3://bucket"},
        {"s3://my.bucket-1/some/prefix", "s3://my.bucket-1/some/prefix"},
        {"s3://bucket//some//prefix/", "s3://bucket/some/prefix"},
        {"s3://bucket/A_b.c~d", "s3://bucket/A_b.c~d"},
    };
    for (size_t i = 0; i < RS_ARRAY_LEN(cases); i++) {
        rs_objstore *s;
        rs_diag d = {{0}};
        assert_int_equal(rs_objstore_open(cases[i].url, &s, &d), RS_OK);
        assert_string_equal(rs_objstore_url(s), cases[i].canonical);
        rs_objstore_close(s);
    }
}

static void test_uri_and_key(void **state)
{
    (void)state;
    rs_objstore *s;
    rs_diag d = {{0}};
    char uri[300], key[256];
    assert_int_equal(rs_objstore_open("s3://bucket/p/q", &s, &d), RS_OK);
    assert_int_equal(rs_objstore_uri(s, "model-7.rsm", uri, sizeof uri, &d), RS_OK);
    assert_string_equal(uri, "s3://bucket/p/q/model-7.rsm");
    assert_int_equal(rs_objstore_key(s, uri, key, sizeof key, &d), RS_OK);
    assert_string_equal(key, "model-7.rsm");
    assert_int_equal(rs_objstore_key(s, "s3://bucket/p/model-7.rsm", key, sizeof key, &d),
                     RS_EINVAL);
    assert_int_equal(rs_objstore_key(s, "s3://bucket/p/q/r/model-7.rsm", key, sizeof key, &d),
                     RS_EINVAL);
    assert_int_equal(rs_objstore_local_path(s, "model-7.rsm", uri, sizeof uri, &d),
                     RS_EUNSUPPORTED);
    assert_non_null(strstr(d.msg, "not a local folder"));
    rs_objstore_close(s);

    assert_int_equal(rs_objstore_open("s3://bucket", &s, &d), RS_OK);
    assert_int_equal(rs_objstore_uri(s, "k", uri, sizeof uri, &d), RS_OK);
    assert_string_equal(uri, "s3://bucket/k");
    assert_int_equal(rs_objstore_key(s, "s3://bucket/k", key, sizeof key, &d), RS_OK);
    assert_string_equal(key, "k");
    rs_objstore_close(s);
}

static void test_credentials(void **state)
{
    (void)state;
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_SECRET_ACCESS_KEY");
    expect_open("s3://bucket/p", RS_EINVAL,
                "s3://bucket/p: no S3 credentials: set AWS_ACCESS_KEY_ID and "
                "AWS_SECRET_ACCESS_KEY");
    setenv("AWS_ACCESS_KEY_ID", "AKID", 1);
    expect_open("s3://bucket/p", RS_EINVAL, "set AWS_SECRET_ACCESS_KEY");
    setenv("AWS_SECRET_ACCESS_KEY", "", 1);
    expect_open("s3://bucket/p", RS_EINVAL, "set AWS_SECRET_ACCESS_KEY");
    unsetenv("AWS_ACCESS_KEY_ID");
    setenv("AWS_SECRET_ACCESS_KEY", "secret", 1);
    expect_open("s3://bucket/p", RS_EINVAL, "set AWS_ACCESS_KEY_ID");
    setenv("AWS_ACCESS_KEY_ID", "AKID", 1);
    setenv("AWS_SESSION_TOKEN", "bad\r\ntoken", 1);
    expect_open("s3://bucket/p", RS_EINVAL, "AWS_SESSION_TOKEN");
    setenv("AWS_SESSION_TOKEN", "token", 1);
    expect_open("s3://bucket/p", RS_OK, NULL);
}

static void test_settings(void **state)
{
    (void)state;
    setenv("AWS_ENDPOINT_URL", "ftp://127.0.0.1:9000", 1);
    expect_open("s3://bucket", RS_EINVAL, "AWS_ENDPOINT_URL='ftp://127.0.0.1:9000'");
    setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9000/path", 1);
    expect_open("s3://bucket", RS_EINVAL, "scheme, host and port only");
    setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9000/", 1);
    expect_open("s3://bucket", RS_OK, NULL);
    /* The S3-specific variable wins. */
    setenv("AWS_ENDPOINT_URL_S3", "http://", 1);
    expect_open("s3://bucket", RS_EINVAL, "AWS_ENDPOINT_URL_S3");
    unsetenv("AWS_ENDPOINT_URL_S3");

    /* Virtual-hosted addressing needs a name to put the bucket in front of. */
    setenv("RECSYS_S3_PATH_STYLE", "false", 1);
    expect_open("s3://bucket", RS_EINVAL, "set RECSYS_S3_PATH_STYLE=true");
    setenv("AWS_ENDPOINT_URL", "http://s3.localhost:9000", 1);
    expect_open("s3://bucket", RS_OK, NULL);
    setenv("RECSYS_S3_PATH_STYLE", "maybe", 1);
    expect_open("s3://bucket", RS_EINVAL, "RECSYS_S3_PATH_STYLE must be true or false");
    unsetenv("RECSYS_S3_PATH_STYLE");

    setenv("AWS_REGION", "eu west", 1);
    expect_open("s3://bucket", RS_EINVAL, "bad AWS_REGION");
    setenv("AWS_REGION", "eu-west-1", 1);
    expect_open("s3://bucket", RS_OK, NULL);

    static const char *const bad_numbers[] = {"0", "-1", "ten", "5s", "1001"};
    for (size_t i = 0; i < RS_ARRAY_LEN(bad_numbers); i++) {
        setenv("RECSYS_S3_PAGE_SIZE", bad_numbers[i], 1);
        expect_open("s3://bucket", RS_EINVAL, "RECSYS_S3_PAGE_SIZE");
    }
    setenv("RECSYS_S3_PAGE_SIZE", "2", 1);
    setenv("RECSYS_S3_TIMEOUT", "0", 1);
    expect_open("s3://bucket", RS_EINVAL,
                "RECSYS_S3_TIMEOUT='0' is not a whole number in 1..86400");
    setenv("RECSYS_S3_TIMEOUT", "30", 1);
    expect_open("s3://bucket", RS_OK, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_canonical_url, reset_env),
        cmocka_unit_test_setup(test_uri_and_key, reset_env),
        cmocka_unit_test_setup(test_credentials, reset_env),
        cmocka_unit_test_setup(test_settings, reset_env),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    if (rc == 0)
        rs_test_cleanup();
    return rc;
}
