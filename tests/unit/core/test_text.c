/* Text rules of core/text.h: the UTF-8 validator on valid 1-4 byte
 * sequences and every classic invalid case (overlongs, surrogates, above
 * U+10FFFF, truncation, stray continuations, C0/C1/F5+), with the offset of
 * the first bad sequence, and exhaustively against a reference built from
 * the Unicode well-formed byte table; the id, event type and free text
 * rules; Latin-1 conversion; trimming. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "core/text.h"

/* --- UTF-8 ---------------------------------------------------------------- */

/* Reference validator from Unicode 15, Table 3-7 (well-formed UTF-8 byte
 * sequences). Returns true, or false with *bad_at the start of the first
 * ill-formed sequence. */
static bool ref_utf8(const unsigned char *s, size_t len, size_t *bad_at)
{
    size_t i = 0;
    while (i < len) {
        unsigned c = s[i];
        unsigned lo = 0x80, hi = 0xbf;
        size_t n;
        if (c <= 0x7f) {
            i++;
            continue;
        } else if (c >= 0xc2 && c <= 0xdf) {
            n = 1;
        } else if (c == 0xe0) {
            n = 2, lo = 0xa0;
        } else if ((c >= 0xe1 && c <= 0xec) || c == 0xee || c == 0xef) {
            n = 2;
        } else if (c == 0xed) {
            n = 2, hi = 0x9f;
        } else if (c == 0xf0) {
            n = 3, lo = 0x90;
        } else if (c >= 0xf1 && c <= 0xf3) {
            n = 3;
        } else if (c == 0xf4) {
            n = 3, hi = 0x8f;
        } else {
            *bad_at = i;
            return false;
        }
        for (size_t k = 1; k <= n; k++) {
            unsigned lo_k = k == 1 ? lo : 0x80, hi_k = k == 1 ? hi : 0xbf;
            if (i + k >= len || s[i + k] < lo_k || s[i + k] > hi_k) {
                *bad_at = i;
                return false;
            }
        }
        i += n + 1;
    }
    return true;
}

typedef struct u8case {
    const char *s;
    size_t len;
    bool ok;
    size_t bad_at;
} u8case;

#define OK(lit) {lit, sizeof(lit) - 1, true, 0}
#define BAD(lit, at) {lit, sizeof(lit) - 1, false, at}

static const u8case u8cases[] = {
    OK(""),
    OK("plain ascii"),
    OK("a\0b"), /* U+0000 is well-formed UTF-8 */
    OK("\x7f"),
    OK("\xc2\x80"),         /* U+0080 */
    OK("\xc3\xa9"),         /* e acute */
    OK("\xdf\xbf"),         /* U+07FF */
    OK("\xe0\xa0\x80"),     /* U+0800 */
    OK("\xe2\x82\xac"),     /* euro sign */
    OK("\xed\x9f\xbf"),     /* U+D7FF, just below the surrogates */
    OK("\xee\x80\x80"),     /* U+E000, just above */
    OK("\xef\xbf\xbf"),     /* U+FFFF */
    OK("\xf0\x90\x80\x80"), /* U+10000 */
    OK("\xf0\x9f\x98\x80"), /* emoji */
    OK("\xf4\x8f\xbf\xbf"), /* U+10FFFF */
    OK("long ascii run then \xc3\xa9 and \xf0\x9f\x98\x80 and more ascii!"),
    /* Stray continuation bytes. */
    BAD("\x80", 0),
    BAD("\xbf", 0),
    BAD("abc\xbf", 3),
    BAD("\xc3\xa9\xa9", 2),
    /* C0 and C1 are always overlong; F5..FF never start a sequence. */
    BAD("\xc0\x80", 0),
    BAD("\xc0\xaf", 0),
    BAD("\xc1\xbf", 0),
    BAD("\xf5\x80\x80\x80", 0),
    BAD("\xf7\xbf\xbf\xbf", 0),
    BAD("\xf8\x88\x80\x80\x80", 0),
    BAD("\xfc\x84\x80\x80\x80\x80", 0),
    BAD("\xfe", 0),
    BAD("\xff", 0),
    /* Overlong 3- and 4-byte forms. */
    BAD("\xe0\x80\x80", 0),
    BAD("\xe0\x80\xaf", 0),
    BAD("\xe0\x9f\xbf", 0),
    BAD("\xf0\x80\x80\x80", 0),
    BAD("\xf0\x80\x80\xaf", 0),
    BAD("\xf0\x8f\xbf\xbf", 0),
    /* Surrogates U+D800..U+DFFF. */
    BAD("\xed\xa0\x80", 0),
    BAD("\xed\xad\xbf", 0),
    BAD("\xed\xb0\x80", 0),
    BAD("\xed\xbf\xbf", 0),
    BAD("ok\xed\xa0\x80\xed\xb0\x80", 2), /* a surrogate pair, CESU-8 style */
    /* Above U+10FFFF. */
    BAD("\xf4\x90\x80\x80", 0),
    BAD("\xf4\xbf\xbf\xbf", 0),
    /* Truncated at the end. */
    BAD("ab\xc3", 2),
    BAD("ab\xe2\x82", 2),
    BAD("ab\xe2", 2),
    BAD("ab\xf0\x9f\x98", 2),
    BAD("ab\xf0\x9f", 2),
    BAD("ab\xf0", 2),
    /* Truncated by a following byte that is not a continuation. */
    BAD("\xc3" "A", 0),
    BAD("\xe2\x82" "A", 0),
    BAD("\xf0\x9f\x98" "A", 0),
    BAD("\xe2\x82\xe2\x82\xac", 0),
    /* Offsets past the eight-byte ASCII fast path. */
    BAD("1234567\x80", 7),
    BAD("12345678\x80", 8),
    BAD("123456789\x80", 9),
    BAD("abcdefghij\xc3\xa9klmnop\xed\xa0\x80", 18),
    BAD("abcdefgh\xc3\xa9" "abcdefgh\xc3", 18),
};

static void test_utf8_cases(void **state)
{
    (void)state;
    for (size_t i = 0; i < RS_ARRAY_LEN(u8cases); i++) {
        const u8case *c = &u8cases[i];
        size_t at = 9999;
        bool ok = rs_utf8_valid(c->s, c->len, &at);
        if (ok != c->ok)
            fail_msg("case %zu: got %d, want %d", i, ok, c->ok);
        if (!ok && at != c->bad_at)
            fail_msg("case %zu: bad_at %zu, want %zu", i, at, c->bad_at);
        if (ok)
            assert_int_equal(at, 9999); /* untouched on success */
        /* bad_at is optional. */
        assert_int_equal(rs_utf8_valid(c->s, c->len, NULL), c->ok);
        /* The reference agrees with the table. */
        size_t ref_at = 9999;
        assert_int_equal(ref_utf8((const unsigned char *)c->s, c->len, &ref_at), c->ok);
        if (!c->ok)
            assert_int_equal(ref_at, c->bad_at);
    }
}

/* Only s[0..len) is read. */
static void test_utf8_len(void **state)
{
    (void)state;
    assert_true(rs_utf8_valid("ab\xc3\xa9", 2, NULL));
    assert_false(rs_utf8_valid("ab\xc3\xa9", 3, NULL));
    assert_true(rs_utf8_valid("ab\xc3\xa9", 4, NULL));
    assert_true(rs_utf8_valid(NULL, 0, NULL));
}

static void check_vs_ref(const unsigned char *s, size_t len)
{
    size_t at = 0, ref_at = 0;
    bool ok = rs_utf8_valid((const char *)s, len, &at);
    bool ref = ref_utf8(s, len, &ref_at);
    if (ok != ref || (!ok && at != ref_at)) {
        char hex[64] = "";
        for (size_t i = 0; i < len && i < 8; i++)
            snprintf(hex + 3 * i, sizeof hex - 3 * i, "%02x ", s[i]);
        fail_msg("%s: got %d at %zu, reference %d at %zu", hex, ok, at, ref, ref_at);
    }
}

/* Every 1- and 2-byte string, every 3-byte string with a lead byte of
 * 0xC0..0xFF, and every 4-byte string with a lead of 0xF0..0xF7 over a
 * representative set of following bytes, each also behind an 8-byte ASCII
 * prefix (the fast path). */
static void test_utf8_exhaustive(void **state)
{
    (void)state;
    unsigned char b[16];
    for (unsigned x = 0; x < 256; x++) {
        b[0] = (unsigned char)x;
        check_vs_ref(b, 1);
        for (unsigned y = 0; y < 256; y++) {
            b[1] = (unsigned char)y;
            check_vs_ref(b, 2);
        }
    }
    for (unsigned x = 0xc0; x < 0x100; x++)
        for (unsigned y = 0; y < 256; y++)
            for (unsigned z = 0; z < 256; z++) {
                b[0] = (unsigned char)x, b[1] = (unsigned char)y, b[2] = (unsigned char)z;
                check_vs_ref(b, 3);
            }
    static const unsigned char follow[] = {0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0,
                                           0xbf, 0xc0, 0xc3, 0xe0, 0xf0, 0xff};
    size_t nf = sizeof follow;
    memcpy(b, "ABCDEFGH", 8);
    for (unsigned x = 0xf0; x < 0xf8; x++)
        for (size_t i = 0; i < nf; i++)
            for (size_t j = 0; j < nf; j++)
                for (size_t k = 0; k < nf; k++) {
                    unsigned char s[4] = {(unsigned char)x, follow[i], follow[j], follow[k]};
                    check_vs_ref(s, 4);
                    memcpy(b + 8, s, 4);
                    check_vs_ref(b, 12);
                }
}

/* --- ids, types, text -------------------------------------------------- */

static void test_id_rules(void **state)
{
    (void)state;
    const char *why = NULL;
    char id[300];

    assert_int_equal(rs_id_check("", 0, &why), RS_EINVAL);
    assert_non_null(why);
    assert_int_equal(rs_id_check("u1", 2, &why), RS_OK);
    assert_int_equal(rs_id_check("user 42", 7, NULL), RS_OK);
    assert_int_equal(rs_id_check("a=b\"c\\d,e", 9, NULL), RS_OK);
    assert_int_equal(rs_id_check("Mis\xc3\xa9rables", 11, NULL), RS_OK);
    assert_int_equal(rs_id_check("\xf0\x9f\x98\x80", 4, NULL), RS_OK);
    assert_int_equal(rs_id_check("\xc2\x85", 2, NULL), RS_OK); /* C1 control is allowed */

    memset(id, 'a', sizeof id);
    assert_int_equal(rs_id_check(id, 255, NULL), RS_OK);
    assert_int_equal(rs_id_check(id, 256, NULL), RS_OK);
    why = NULL;
    assert_int_equal(rs_id_check(id, 257, &why), RS_EINVAL);
    assert_non_null(why);
    assert_int_equal(rs_id_check(id, 300, NULL), RS_EINVAL);

    /* 64 emoji are exactly 256 bytes; a 2-byte character after 255 bytes
     * makes 257. */
    for (int i = 0; i < 64; i++)
        memcpy(id + 4 * i, "\xf0\x9f\x98\x80", 4);
    assert_int_equal(rs_id_check(id, 256, NULL), RS_OK);
    memset(id, 'a', 255);
    memcpy(id + 255, "\xc3\xa9", 2);
    assert_int_equal(rs_id_check(id, 257, NULL), RS_EINVAL);
    /* Cutting a multi-byte character at the limit is invalid UTF-8. */
    memset(id, 'a', 255);
    memcpy(id + 255, "\xc3\xa9", 2);
    assert_int_equal(rs_id_check(id, 256, NULL), RS_EINVAL);

    /* Control characters: every C0 byte and DEL, at the start, middle, end. */
    for (unsigned c = 0; c < 0x20; c++) {
        char s[3] = {'a', (char)c, 'b'};
        assert_int_equal(rs_id_check(s, 3, NULL), RS_EINVAL);
        assert_int_equal(rs_id_check(s + 1, 1, NULL), RS_EINVAL);
        assert_int_equal(rs_id_check(s, 2, NULL), RS_EINVAL);
    }
    why = NULL;
    assert_int_equal(rs_id_check("a\x7f", 2, &why), RS_EINVAL);
    assert_non_null(strstr(why, "control"));
    assert_int_equal(rs_id_check("a\tb", 3, NULL), RS_EINVAL);

    /* Invalid UTF-8. */
    why = NULL;
    assert_int_equal(rs_id_check("ab\xc3(", 4, &why), RS_EINVAL);
    assert_non_null(strstr(why, "UTF-8"));
    assert_int_equal(rs_id_check("\xed\xa0\x80", 3, NULL), RS_EINVAL);
    assert_int_equal(rs_id_check("\xc0\x80", 2, NULL), RS_EINVAL);
    assert_int_equal(rs_id_check("\xff", 1, NULL), RS_EINVAL);
}

static void test_type_rules(void **state)
{
    (void)state;
    static const char *const good[] = {"view", "add_to_cart", "a", "a-1", "purchase2", "z_"};
    for (size_t i = 0; i < RS_ARRAY_LEN(good); i++)
        assert_int_equal(rs_type_check(good[i], strlen(good[i]), NULL), RS_OK);
    static const char *const bad[] = {"View", "1view", "_view", "-x", "vi ew", "vi.ew",
                                      "caf\xc3\xa9", "viewS", "a/b", "a\nb", "a:b"};
    for (size_t i = 0; i < RS_ARRAY_LEN(bad); i++) {
        const char *why = NULL;
        assert_int_equal(rs_type_check(bad[i], strlen(bad[i]), &why), RS_EINVAL);
        assert_non_null(why);
    }
    char t[40];
    memset(t, 'x', sizeof t);
    assert_int_equal(rs_type_check(t, 32, NULL), RS_OK);
    assert_int_equal(rs_type_check(t, 33, NULL), RS_EINVAL);
    assert_int_equal(rs_type_check("", 0, NULL), RS_EINVAL);
    /* Only len bytes count: "view" inside "view!" is fine. */
    assert_int_equal(rs_type_check("view!", 4, NULL), RS_OK);
    assert_int_equal(rs_type_check("view!", 5, NULL), RS_EINVAL);
}

static void test_text_rules(void **state)
{
    (void)state;
    const char *why = NULL;
    assert_int_equal(rs_text_check("", 0, NULL), RS_OK);
    assert_int_equal(rs_text_check("Les Mis\xc3\xa9rables (1995)", 22, NULL), RS_OK);
    assert_int_equal(rs_text_check("a\tb", 3, NULL), RS_OK);
    assert_int_equal(rs_text_check("a\nb", 3, &why), RS_EINVAL);
    assert_non_null(why);
    assert_int_equal(rs_text_check("a\rb", 3, NULL), RS_EINVAL);
    assert_int_equal(rs_text_check("a\x7f", 2, NULL), RS_EINVAL);
    assert_int_equal(rs_text_check("a\0b", 3, NULL), RS_EINVAL);
    assert_int_equal(rs_text_check("Mis\xe9rables", 10, NULL), RS_EINVAL);
    char big[1100];
    memset(big, 'x', sizeof big);
    assert_int_equal(rs_text_check(big, 1024, NULL), RS_OK);
    assert_int_equal(rs_text_check(big, 1025, NULL), RS_EINVAL);
}

/* --- Latin-1 and trimming ---------------------------------------------- */

static void test_latin1(void **state)
{
    (void)state;
    rs_arena a;
    rs_arena_init(&a, 0);
    char *s = rs_latin1_to_utf8(&a, "Mis\xe9rables", 10);
    assert_string_equal(s, "Mis\xc3\xa9rables");
    assert_true(rs_utf8_valid(s, strlen(s), NULL));
    assert_string_equal(rs_latin1_to_utf8(&a, "", 0), "");
    assert_string_equal(rs_latin1_to_utf8(&a, "plain", 5), "plain");
    assert_string_equal(rs_latin1_to_utf8(&a, "\x80\xa0\xbf\xc0\xff", 5),
                        "\xc2\x80\xc2\xa0\xc2\xbf\xc3\x80\xc3\xbf");
    /* Only len bytes are converted. */
    assert_string_equal(rs_latin1_to_utf8(&a, "\xe9t\xe9", 2), "\xc3\xa9t");

    /* Every byte 1..255: valid UTF-8, 127 + 2 * 128 bytes, and each code
     * point equals the byte. */
    char all[255];
    for (int i = 0; i < 255; i++)
        all[i] = (char)(i + 1);
    char *u = rs_latin1_to_utf8(&a, all, sizeof all);
    size_t n = strlen(u);
    assert_int_equal(n, 127 + 2 * 128);
    assert_true(rs_utf8_valid(u, n, NULL));
    const unsigned char *p = (const unsigned char *)u;
    for (unsigned cp = 1; cp < 256; cp++) {
        unsigned got;
        if (*p < 0x80) {
            got = *p++;
        } else {
            got = ((p[0] & 0x1fu) << 6) | (p[1] & 0x3fu);
            p += 2;
        }
        assert_int_equal(got, cp);
    }
    rs_arena_destroy(&a);
}

static void test_trim(void **state)
{
    (void)state;
    size_t len;
    const char *s = "  a b\t ";
    len = strlen(s);
    const char *t = rs_trim(s, &len);
    assert_int_equal(len, 3);
    assert_memory_equal(t, "a b", 3);
    assert_ptr_equal(t, s + 2);

    len = 0;
    t = rs_trim("", &len);
    assert_int_equal(len, 0);

    len = 4;
    rs_trim(" \t\t ", &len);
    assert_int_equal(len, 0);

    len = 2;
    t = rs_trim("\na", &len); /* only spaces and tabs are trimmed */
    assert_int_equal(len, 2);

    /* Only the view is trimmed: the space after len is not looked at. */
    len = 3;
    t = rs_trim(" ab cd", &len);
    assert_int_equal(len, 2);
    assert_memory_equal(t, "ab", 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8_cases),
        cmocka_unit_test(test_utf8_len),
        cmocka_unit_test(test_utf8_exhaustive),
        cmocka_unit_test(test_id_rules),
        cmocka_unit_test(test_type_rules),
        cmocka_unit_test(test_text_rules),
        cmocka_unit_test(test_latin1),
        cmocka_unit_test(test_trim),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
