/* The model store's URL dispatch and key rules, and its file:// backend:
 * bad URLs and keys are refused with clear messages; a put/get round trip
 * keeps the bytes and reports their SHA-256; listings come sorted and skip
 * what is not an object; deletes of missing objects succeed; a folder
 * given relative is made absolute. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <limits.h>
#include <sys/stat.h>

#include "../test_util.h"
#include "registry/objstore.h"

/* The SHA-256 of "hello\n" and of "abc". */
#define SHA_HELLO "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"
#define SHA_ABC "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

static rs_objstore *open_dir(const char *name)
{
    char url[700];
    snprintf(url, sizeof url, "file://%s", rs_test_path(name));
    rs_objstore *s = NULL;
    rs_diag d = {{0}};
    assert_int_equal(rs_objstore_open(url, &s, &d), RS_OK);
    return s;
}

/* Reads a small file into buf (NUL-terminated). */
static void read_text(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t n = fread(buf, 1, cap - 1, f);
    buf[n] = '\0';
    fclose(f);
}

static void test_bad_urls(void **state)
{
    (void)state;
    static const struct {
        const char *url;
        rs_err want;
        const char *msg;
    } cases[] = {
        {"", RS_EINVAL, "empty model store URL"},
        {"models", RS_EINVAL, "did you mean file://models"},
        {"gs://bucket", RS_EINVAL, "unknown model store URL scheme in 'gs://bucket'"},
        {"file://", RS_EINVAL, "names no folder"},
        {"s3://", RS_EINVAL, "bad bucket name ''"},
        {"s3://Upper/x", RS_EINVAL, "bad bucket name 'Upper'"},
        {"s3://ab", RS_EINVAL, "bad bucket name 'ab'"},
        {"s3://bucket/a/../b", RS_EINVAL, "bad prefix segment '..'"},
        {"s3://bucket/a b", RS_EINVAL, "bad prefix segment 'a b'"},
    };
    for (size_t i = 0; i < RS_ARRAY_LEN(cases); i++) {
        rs_objstore *s = (rs_objstore *)&s;
        rs_diag d = {{0}};
        assert_int_equal(rs_objstore_open(cases[i].url, &s, &d), cases[i].want);
        assert_null(s);
        if (!strstr(d.msg, cases[i].msg))
            fail_msg("%s: '%s' lacks '%s'", cases[i].url, d.msg, cases[i].msg);
    }
    /* A folder that cannot be made: a file is in the way. */
    rs_test_write("plain-file", "x", 1);
    char url[700];
    snprintf(url, sizeof url, "file://%s/sub", rs_test_path("plain-file"));
    rs_objstore *s;
    rs_diag d = {{0}};
    assert_int_equal(rs_objstore_open(url, &s, &d), RS_EIO);
    assert_non_null(strstr(d.msg, "plain-file"));
}

static void test_bad_keys(void **state)
{
    (void)state;
    rs_objstore *s = open_dir("keys");
    char long_key[300];
    memset(long_key, 'k', 256);
    long_key[256] = '\0';
    static const struct {
        const char *key;
        const char *why;
    } cases[] = {
        {"", "empty key"},
        {".hidden", "may not start with '.'"},
        {"..", "may not start with '.'"},
        {"a/b", "'/' is not allowed"},
        {"sp ace", "only letters, digits"},
        {"caf\xc3\xa9", "only letters, digits"},
        {NULL, "longer than 255 bytes"},
    };
    char src[600]; /* rs_test_path's buffers rotate: keep a copy */
    snprintf(src, sizeof src, "%s", rs_test_write("k.txt", "hello\n", (size_t)-1));
    for (size_t i = 0; i < RS_ARRAY_LEN(cases); i++) {
        const char *key = cases[i].key ? cases[i].key : long_key;
        rs_diag d = {{0}};
        char buf[600], sha[RS_SHA256_HEX];
        assert_int_equal(rs_objstore_put_file(s, key, src, SHA_HELLO, &d), RS_EINVAL);
        if (!strstr(d.msg, cases[i].why) || !strstr(d.msg, "bad object key"))
            fail_msg("key '%s': '%s' lacks '%s'", key, d.msg, cases[i].why);
        assert_int_equal(rs_objstore_get_file(s, key, rs_test_path("x"), sha, &d), RS_EINVAL);
        assert_int_equal(rs_objstore_delete(s, key, &d), RS_EINVAL);
        assert_int_equal(rs_objstore_uri(s, key, buf, sizeof buf, &d), RS_EINVAL);
        assert_int_equal(rs_objstore_local_path(s, key, buf, sizeof buf, &d), RS_EINVAL);
    }
    /* 255 bytes is the longest key. */
    long_key[255] = '\0';
    rs_diag d = {{0}};
    assert_int_equal(rs_objstore_put_file(s, long_key, src, SHA_HELLO, &d), RS_OK);
    /* The SHA-256 must look like one. */
    assert_int_equal(rs_objstore_put_file(s, "k", src, "abc", &d), RS_EINVAL);
    assert_non_null(strstr(d.msg, "64 lower-case hex digits"));
    assert_int_equal(rs_objstore_put_file(s, "k", src, NULL, &d), RS_EINVAL);
    rs_objstore_close(s);
}

static void test_round_trip(void **state)
{
    (void)state;
    rs_objstore *s = open_dir("rt");
    rs_diag d = {{0}};
    char sha[RS_SHA256_HEX];
    const char *src = rs_test_write("hello.txt", "hello\n", (size_t)-1);
    assert_int_equal(rs_sha256_file(src, sha, &d), RS_OK);
    assert_string_equal(sha, SHA_HELLO);
    assert_int_equal(rs_objstore_put_file(s, "model-1.rsm", src, sha, &d), RS_OK);

    const char *dst = rs_test_path("hello.out");
    char got[RS_SHA256_HEX], text[64];
    assert_int_equal(rs_objstore_get_file(s, "model-1.rsm", dst, got, &d), RS_OK);
    assert_string_equal(got, SHA_HELLO);
    read_text(dst, text, sizeof text);
    assert_string_equal(text, "hello\n");

    /* A put replaces the object. */
    const char *abc = rs_test_write("abc.txt", "abc", (size_t)-1);
    assert_int_equal(rs_objstore_put_file(s, "model-1.rsm", abc, SHA_ABC, &d), RS_OK);
    assert_int_equal(rs_objstore_get_file(s, "model-1.rsm", dst, got, &d), RS_OK);
    assert_string_equal(got, SHA_ABC);

    /* A hash that does not match the file stores nothing and keeps the old
     * object; no temporary file is left behind. */
    assert_int_equal(rs_objstore_put_file(s, "model-1.rsm", src, SHA_ABC, &d), RS_ECORRUPT);
    assert_non_null(strstr(d.msg, "nothing was stored"));
    assert_int_equal(rs_objstore_get_file(s, "model-1.rsm", dst, got, &d), RS_OK);
    assert_string_equal(got, SHA_ABC);

    /* An unreadable source. */
    assert_int_equal(
        rs_objstore_put_file(s, "model-2.rsm", rs_test_path("missing"), SHA_ABC, &d), RS_EIO);
    assert_non_null(strstr(d.msg, "cannot read"));
    rs_objstore_close(s);

    char cmd[800];
    snprintf(cmd, sizeof cmd, "test -z \"$(ls -A '%s' | grep -v '^model-1.rsm$')\"",
             rs_test_path("rt"));
    assert_int_equal(system(cmd), 0);
}

static void test_get_missing(void **state)
{
    (void)state;
    rs_objstore *s = open_dir("missing");
    rs_diag d = {{0}};
    char sha[RS_SHA256_HEX] = "x";
    const char *dst = rs_test_write("stale.out", "old", (size_t)-1);
    assert_int_equal(rs_objstore_get_file(s, "nope.rsm", dst, sha, &d), RS_ENOTFOUND);
    assert_non_null(strstr(d.msg, "no object 'nope.rsm'"));
    assert_string_equal(sha, "");
    /* The destination is removed, as after any failed download. */
    struct stat st;
    assert_int_equal(stat(dst, &st), -1);
    assert_int_equal(rs_objstore_delete(s, "nope.rsm", &d), RS_OK);
    rs_objstore_close(s);
}

/* Collects listed keys into a newline-separated string. */
typedef struct listing {
    char text[512];
    int stop_after; /* stop after this many keys; 0 never */
    int seen;
} listing;

static int collect(void *ctx, const char *key, uint64_t size)
{
    listing *l = ctx;
    size_t n = strlen(l->text);
    snprintf(l->text + n, sizeof l->text - n, "%s:%llu\n", key, (unsigned long long)size);
    return l->stop_after && ++l->seen >= l->stop_after;
}

static void test_list(void **state)
{
    (void)state;
    rs_objstore *s = open_dir("list");
    rs_diag d = {{0}};
    const char *src = rs_test_write("l.txt", "abc", (size_t)-1);
    const char *keys[] = {"model-2.rsm", "model-10.rsm", "CURRENT", "a_b", "Z-9"};
    for (size_t i = 0; i < RS_ARRAY_LEN(keys); i++)
        assert_int_equal(rs_objstore_put_file(s, keys[i], src, SHA_ABC, &d), RS_OK);
    /* Not objects: a temporary upload, a hidden file, a folder, a bad name. */
    rs_test_write("list/.put-ABCDEF", "partial", (size_t)-1);
    rs_test_write("list/.hidden", "x", (size_t)-1);
    rs_test_write("list/with space", "x", (size_t)-1);
    assert_int_equal(mkdir(rs_test_path("list/sub.rsm"), 0755), 0);

    listing l = {{0}, 0, 0};
    assert_int_equal(rs_objstore_list(s, collect, &l, &d), RS_OK);
    assert_string_equal(l.text, "CURRENT:3\nZ-9:3\na_b:3\nmodel-10.rsm:3\nmodel-2.rsm:3\n");

    listing stop = {{0}, 2, 0};
    assert_int_equal(rs_objstore_list(s, collect, &stop, &d), RS_ECANCELED);
    assert_string_equal(stop.text, "CURRENT:3\nZ-9:3\n");

    assert_int_equal(rs_objstore_delete(s, "a_b", &d), RS_OK);
    listing after = {{0}, 0, 0};
    assert_int_equal(rs_objstore_list(s, collect, &after, &d), RS_OK);
    assert_null(strstr(after.text, "a_b"));
    rs_objstore_close(s);

    rs_objstore *empty = open_dir("list-empty");
    listing none = {{0}, 0, 0};
    assert_int_equal(rs_objstore_list(empty, collect, &none, &d), RS_OK);
    assert_string_equal(none.text, "");
    rs_objstore_close(empty);
}

static void test_uri_and_paths(void **state)
{
    (void)state;
    rs_objstore *s = open_dir("uri/nested/");
    rs_diag d = {{0}};
    char real[PATH_MAX], want[PATH_MAX + 64], buf[PATH_MAX + 64], key[256];
    assert_non_null(realpath(rs_test_path("uri/nested"), real));
    snprintf(want, sizeof want, "file://%s", real);
    assert_string_equal(rs_objstore_url(s), want);

    assert_int_equal(rs_objstore_uri(s, "model-3.rsm", buf, sizeof buf, &d), RS_OK);
    snprintf(want, sizeof want, "file://%s/model-3.rsm", real);
    assert_string_equal(buf, want);
    assert_int_equal(rs_objstore_key(s, buf, key, sizeof key, &d), RS_OK);
    assert_string_equal(key, "model-3.rsm");

    /* URIs of other stores, or not naming a key of this one. */
    const char *foreign[] = {"file:///elsewhere/model-3.rsm", "s3://b/model-3.rsm", ""};
    for (size_t i = 0; i < RS_ARRAY_LEN(foreign); i++) {
        assert_int_equal(rs_objstore_key(s, foreign[i], key, sizeof key, &d), RS_EINVAL);
        assert_non_null(strstr(d.msg, "is not in the model store"));
    }
    snprintf(buf, sizeof buf, "file://%s/sub/model-3.rsm", real);
    assert_int_equal(rs_objstore_key(s, buf, key, sizeof key, &d), RS_EINVAL);
    assert_non_null(strstr(d.msg, "does not name an object"));
    snprintf(buf, sizeof buf, "file://%smodel-3.rsm", real);
    assert_int_equal(rs_objstore_key(s, buf, key, sizeof key, &d), RS_EINVAL);

    /* Buffers too small. */
    char tiny[8];
    assert_int_equal(rs_objstore_uri(s, "model-3.rsm", tiny, sizeof tiny, &d), RS_EINVAL);
    assert_int_equal(rs_objstore_local_path(s, "model-3.rsm", tiny, sizeof tiny, &d), RS_EINVAL);

    assert_int_equal(rs_objstore_local_path(s, "model-3.rsm", buf, sizeof buf, &d), RS_OK);
    snprintf(want, sizeof want, "%s/model-3.rsm", real);
    assert_string_equal(buf, want);
    rs_objstore_close(s);
}

static void test_relative_folder(void **state)
{
    (void)state;
    char cwd[PATH_MAX];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(rs_test_dir()), 0);
    rs_objstore *s;
    rs_diag d = {{0}};
    assert_int_equal(rs_objstore_open("file://rel/models", &s, &d), RS_OK);
    assert_int_equal(chdir(cwd), 0);

    char real[PATH_MAX], want[PATH_MAX + 8];
    assert_non_null(realpath(rs_test_path("rel/models"), real));
    snprintf(want, sizeof want, "file://%s", real);
    assert_string_equal(rs_objstore_url(s), want);
    /* Still the same folder after the working directory changed. */
    const char *src = rs_test_write("r.txt", "abc", (size_t)-1);
    assert_int_equal(rs_objstore_put_file(s, "m", src, SHA_ABC, &d), RS_OK);
    struct stat st;
    assert_int_equal(stat(rs_test_path("rel/models/m"), &st), 0);
    rs_objstore_close(s);
}

static void test_sha256_file(void **state)
{
    (void)state;
    char sha[RS_SHA256_HEX];
    rs_diag d = {{0}};
    assert_int_equal(rs_sha256_file(rs_test_write("abc", "abc", (size_t)-1), sha, &d), RS_OK);
    assert_string_equal(sha, SHA_ABC);
    assert_int_equal(rs_sha256_file(rs_test_write("empty", "", 0), sha, &d), RS_OK);
    assert_string_equal(sha, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assert_int_equal(rs_sha256_file(rs_test_path("no-such-file"), sha, &d), RS_EIO);
    assert_non_null(strstr(d.msg, "no-such-file"));
    assert_string_equal(sha, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_urls),       cmocka_unit_test(test_bad_keys),
        cmocka_unit_test(test_round_trip),     cmocka_unit_test(test_get_missing),
        cmocka_unit_test(test_list),           cmocka_unit_test(test_uri_and_paths),
        cmocka_unit_test(test_relative_folder), cmocka_unit_test(test_sha256_file),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    if (rc == 0)
        rs_test_cleanup();
    return rc;
}
