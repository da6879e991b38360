/* The capped buffer of core/buf.h: appends of bytes, strings, characters
 * and formatted text (with embedded NULs and growth past the first
 * allocation); the cap reached exactly succeeds and one byte past fails with
 * RS_ETOOBIG and frees the buffer; reset, destroy and reuse; take moves the
 * bytes out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"

static void test_empty(void **state)
{
    (void)state;
    rs_buf b;
    rs_buf_init(&b, 100);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.max, 100);
    assert_string_equal(rs_buf_str(&b), "");
    size_t len = 99;
    char *s = rs_buf_take(&b, &len);
    assert_non_null(s);
    assert_string_equal(s, "");
    assert_int_equal(len, 0);
    rs_free(s);
    rs_buf_destroy(&b);
    rs_buf_destroy(&b); /* twice is harmless */
}

static void test_appends(void **state)
{
    (void)state;
    rs_buf b;
    rs_buf_init(&b, 1 << 20);
    assert_int_equal(rs_buf_puts(&b, "hello"), RS_OK);
    assert_int_equal(rs_buf_putc(&b, ','), RS_OK);
    assert_int_equal(rs_buf_append(&b, " world!!", 6), RS_OK);
    assert_int_equal(rs_buf_printf(&b, " %d-%s-%03u", 42, "x", 7u), RS_OK);
    assert_string_equal(rs_buf_str(&b), "hello, world 42-x-007");
    assert_int_equal(b.len, strlen("hello, world 42-x-007"));
    /* Appending nothing changes nothing. */
    assert_int_equal(rs_buf_append(&b, "", 0), RS_OK);
    assert_int_equal(rs_buf_puts(&b, ""), RS_OK);
    assert_int_equal(rs_buf_printf(&b, "%s", ""), RS_OK);
    assert_string_equal(rs_buf_str(&b), "hello, world 42-x-007");
    rs_buf_destroy(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
}

static void test_embedded_nul(void **state)
{
    (void)state;
    rs_buf b;
    rs_buf_init(&b, 64);
    assert_int_equal(rs_buf_append(&b, "a\0b", 3), RS_OK);
    assert_int_equal(rs_buf_putc(&b, '\0'), RS_OK);
    assert_int_equal(b.len, 4);
    assert_memory_equal(b.data, "a\0b\0", 5); /* plus the terminating NUL */
    size_t len;
    char *s = rs_buf_take(&b, &len);
    assert_int_equal(len, 4);
    assert_memory_equal(s, "a\0b\0", 5);
    rs_free(s);
}

/* Many appends through several reallocations keep every byte. */
static void test_growth(void **state)
{
    (void)state;
    rs_buf b;
    rs_buf_init(&b, 1 << 20);
    size_t want = 0;
    for (int i = 0; i < 5000; i++) {
        assert_int_equal(rs_buf_printf(&b, "%d;", i), RS_OK);
        char tmp[16];
        want += (size_t)snprintf(tmp, sizeof tmp, "%d;", i);
        assert_int_equal(b.len, want);
        assert_true(b.cap > b.len);
        assert_int_equal(b.data[b.len], '\0');
    }
    /* Check the contents by re-reading them. */
    const char *p = rs_buf_str(&b);
    for (int i = 0; i < 5000; i++) {
        char *end;
        long v = strtol(p, &end, 10);
        assert_int_equal(v, i);
        assert_int_equal(*end, ';');
        p = end + 1;
    }
    assert_int_equal(*p, '\0');
    rs_buf_destroy(&b);
}

static void test_cap_exact(void **state)
{
    (void)state;
    char block[300];
    memset(block, 'z', sizeof block);
    /* Filling to exactly max in pieces succeeds... */
    rs_buf b;
    rs_buf_init(&b, 300);
    assert_int_equal(rs_buf_append(&b, block, 299), RS_OK);
    assert_int_equal(rs_buf_putc(&b, 'z'), RS_OK);
    assert_int_equal(b.len, 300);
    assert_memory_equal(b.data, block, 300);
    assert_int_equal(b.data[300], '\0');
    /* ...and one more byte fails, freeing the buffer. */
    assert_int_equal(rs_buf_putc(&b, 'z'), RS_ETOOBIG);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_string_equal(rs_buf_str(&b), "");
    /* The buffer is usable again, with the same cap. */
    assert_int_equal(b.max, 300);
    assert_int_equal(rs_buf_append(&b, block, 300), RS_OK);
    assert_int_equal(rs_buf_append(&b, "", 0), RS_OK);
    assert_int_equal(rs_buf_append(&b, "y", 1), RS_ETOOBIG);
    assert_null(b.data);

    /* A single append over the cap from empty. */
    assert_int_equal(rs_buf_append(&b, block, 301), RS_ETOOBIG);
    assert_null(b.data);
    /* A single append of exactly the cap from empty. */
    assert_int_equal(rs_buf_append(&b, block, 300), RS_OK);
    assert_int_equal(b.len, 300);
    rs_buf_destroy(&b);
}

static void test_cap_printf_and_puts(void **state)
{
    (void)state;
    rs_buf b;
    rs_buf_init(&b, 10);
    assert_int_equal(rs_buf_printf(&b, "%05d", 123), RS_OK);
    assert_int_equal(rs_buf_printf(&b, "%s", "abcde"), RS_OK);
    assert_string_equal(rs_buf_str(&b), "00123abcde");
    assert_int_equal(rs_buf_printf(&b, "%d", 1), RS_ETOOBIG);
    assert_null(b.data);

    assert_int_equal(rs_buf_puts(&b, "0123456789"), RS_OK);
    rs_buf_reset(&b);
    assert_int_equal(rs_buf_puts(&b, "01234567890"), RS_ETOOBIG);
    assert_null(b.data);

    /* A huge append must not wrap around the cap arithmetic. */
    assert_int_equal(rs_buf_puts(&b, "ab"), RS_OK);
    assert_int_equal(rs_buf_append(&b, "x", SIZE_MAX), RS_ETOOBIG);
    assert_null(b.data);
    assert_int_equal(rs_buf_append(&b, "x", SIZE_MAX - 1), RS_ETOOBIG);

    /* max 0: only empty contents fit. */
    rs_buf z;
    rs_buf_init(&z, 0);
    assert_int_equal(rs_buf_append(&z, "", 0), RS_OK);
    assert_string_equal(rs_buf_str(&z), "");
    assert_int_equal(rs_buf_putc(&z, 'a'), RS_ETOOBIG);
    assert_null(z.data);
    rs_buf_destroy(&z);
}

static void test_reset_keeps_memory(void **state)
{
    (void)state;
    rs_buf b;
    rs_buf_init(&b, 1000);
    assert_int_equal(rs_buf_puts(&b, "some text that is long enough"), RS_OK);
    char *data = b.data;
    size_t cap = b.cap;
    rs_buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_ptr_equal(b.data, data);
    assert_int_equal(b.cap, cap);
    assert_string_equal(rs_buf_str(&b), "");
    assert_int_equal(rs_buf_puts(&b, "new"), RS_OK);
    assert_ptr_equal(b.data, data);
    assert_string_equal(rs_buf_str(&b), "new");
    rs_buf_destroy(&b);
    rs_buf_reset(&b); /* on an empty buffer */
    assert_string_equal(rs_buf_str(&b), "");
}

static void test_take(void **state)
{
    (void)state;
    rs_buf b;
    rs_buf_init(&b, 100);
    assert_int_equal(rs_buf_printf(&b, "id=%s", "u42"), RS_OK);
    size_t len = 0;
    char *s = rs_buf_take(&b, &len);
    assert_string_equal(s, "id=u42");
    assert_int_equal(len, 6);
    /* The buffer is empty and owns nothing now. */
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, 0);
    assert_string_equal(rs_buf_str(&b), "");
    /* It can be filled again without touching the taken string. */
    assert_int_equal(rs_buf_puts(&b, "next"), RS_OK);
    assert_string_equal(s, "id=u42");
    char *t = rs_buf_take(&b, NULL);
    assert_string_equal(t, "next");
    rs_free(s);
    rs_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_appends),
        cmocka_unit_test(test_embedded_nul),
        cmocka_unit_test(test_growth),
        cmocka_unit_test(test_cap_exact),
        cmocka_unit_test(test_cap_printf_and_puts),
        cmocka_unit_test(test_reset_keeps_memory),
        cmocka_unit_test(test_take),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
