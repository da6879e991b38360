/* The string id <-> dense index map of core/idmap.h: intern/find/get round
 * trip for 100k generated ids through many rehashes, indices dense in
 * insertion order, duplicates returning the same index with added=false,
 * multibyte UTF-8 ids, 256-byte ids differing only in the last byte,
 * prefixes and embedded NULs, absent ids giving RS_INDEX_NONE, memory
 * accounting and freeing NULL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "core/idmap.h"
#include "core/text.h"

#define N_IDS 100000

/* The i-th generated id: a mix of short and long, ASCII and multibyte. */
static size_t gen_id(char *buf, size_t cap, uint32_t i)
{
    int n;
    switch (i % 4) {
    case 0: n = snprintf(buf, cap, "u%u", i); break;
    case 1: n = snprintf(buf, cap, "caf\xc3\xa9-%u", i); break;
    case 2: n = snprintf(buf, cap, "\xf0\x9f\x98\x80%u\xe2\x82\xac", i); break;
    default:
        n = snprintf(buf, cap, "item/%08x/some-longer-path-like-id/%u", i * 2654435761u, i);
        break;
    }
    return (size_t)n;
}

static void intern_ok(rs_idmap *m, const char *id, size_t len, uint32_t want, bool want_added)
{
    uint32_t idx = 12345;
    bool added = !want_added;
    assert_int_equal(rs_idmap_intern(m, id, len, &idx, &added), RS_OK);
    assert_int_equal(idx, want);
    assert_int_equal(added, want_added);
}

static void check_get(const rs_idmap *m, uint32_t idx, const char *id, size_t len)
{
    size_t got_len = 9999;
    const char *got = rs_idmap_get(m, idx, &got_len);
    assert_int_equal(got_len, len);
    assert_memory_equal(got, id, len);
    assert_int_equal(got[len], '\0');
    assert_non_null(rs_idmap_get(m, idx, NULL));
}

static void test_empty(void **state)
{
    (void)state;
    rs_idmap *m = rs_idmap_new();
    assert_int_equal(rs_idmap_size(m), 0);
    assert_int_equal(rs_idmap_find(m, "u1", 2), RS_INDEX_NONE);
    assert_int_equal(rs_idmap_find(m, "", 0), RS_INDEX_NONE);
    assert_true(rs_idmap_memory(m) > 0);
    rs_idmap_free(m);
    rs_idmap_free(NULL);
}

static void test_round_trip_100k(void **state)
{
    (void)state;
    rs_idmap *m = rs_idmap_new();
    char id[128];
    size_t total_len = 0;
    size_t mem0 = rs_idmap_memory(m);
    for (uint32_t i = 0; i < N_IDS; i++) {
        size_t len = gen_id(id, sizeof id, i);
        total_len += len;
        assert_int_equal(rs_id_check(id, len, NULL), RS_OK);
        intern_ok(m, id, len, i, true);
        assert_int_equal(rs_idmap_size(m), (size_t)i + 1);
        /* A sample of earlier ids is still found while the table grows. */
        if (i % 997 == 0) {
            for (uint32_t j = 0; j <= i; j += 1 + i / 50) {
                char prev[128];
                size_t plen = gen_id(prev, sizeof prev, j);
                assert_int_equal(rs_idmap_find(m, prev, plen), j);
            }
        }
    }
    assert_int_equal(rs_idmap_size(m), N_IDS);
    /* Memory covers at least the bytes, the offsets and the slots. */
    size_t mem = rs_idmap_memory(m);
    assert_true(mem > mem0);
    assert_true(mem >= total_len + N_IDS + 8 * (size_t)N_IDS + 4 * 2 * (size_t)N_IDS);

    for (uint32_t i = 0; i < N_IDS; i++) {
        size_t len = gen_id(id, sizeof id, i);
        assert_int_equal(rs_idmap_find(m, id, len), i);
        check_get(m, i, id, len);
    }
    /* Interning again gives the same indices and adds nothing. */
    for (uint32_t i = 0; i < N_IDS; i += 3) {
        size_t len = gen_id(id, sizeof id, i);
        intern_ok(m, id, len, i, false);
    }
    assert_int_equal(rs_idmap_size(m), N_IDS);
    assert_int_equal(rs_idmap_memory(m), mem);
    /* Ids that were never added. */
    for (uint32_t i = N_IDS; i < N_IDS + 2000; i++) {
        size_t len = gen_id(id, sizeof id, i);
        assert_int_equal(rs_idmap_find(m, id, len), RS_INDEX_NONE);
    }
    assert_int_equal(rs_idmap_find(m, "u", 1), RS_INDEX_NONE);
    assert_int_equal(rs_idmap_find(m, "u1 ", 3), RS_INDEX_NONE);
    assert_int_equal(rs_idmap_find(m, "U1", 2), RS_INDEX_NONE);
    rs_idmap_free(m);
}

static void test_added_may_be_null(void **state)
{
    (void)state;
    rs_idmap *m = rs_idmap_new();
    uint32_t idx = 99;
    assert_int_equal(rs_idmap_intern(m, "a", 1, &idx, NULL), RS_OK);
    assert_int_equal(idx, 0);
    assert_int_equal(rs_idmap_intern(m, "b", 1, &idx, NULL), RS_OK);
    assert_int_equal(idx, 1);
    assert_int_equal(rs_idmap_intern(m, "a", 1, &idx, NULL), RS_OK);
    assert_int_equal(idx, 0);
    assert_int_equal(rs_idmap_size(m), 2);
    rs_idmap_free(m);
}

/* 256-byte ids that differ only in their last byte, one per byte value,
 * interleaved with 255- and 256-byte ids differing in the first byte. */
static void test_long_ids_last_byte(void **state)
{
    (void)state;
    rs_idmap *m = rs_idmap_new();
    char id[RS_ID_MAX];
    memset(id, 'x', sizeof id);
    for (uint32_t b = 0; b < 256; b++) {
        id[RS_ID_MAX - 1] = (char)b;
        intern_ok(m, id, RS_ID_MAX, b, true);
    }
    for (uint32_t b = 0; b < 256; b++) {
        id[RS_ID_MAX - 1] = (char)b;
        assert_int_equal(rs_idmap_find(m, id, RS_ID_MAX), b);
        check_get(m, b, id, RS_ID_MAX);
        intern_ok(m, id, RS_ID_MAX, b, false);
    }
    /* The 255-byte prefix is a different id. */
    assert_int_equal(rs_idmap_find(m, id, RS_ID_MAX - 1), RS_INDEX_NONE);
    intern_ok(m, id, RS_ID_MAX - 1, 256, true);
    check_get(m, 256, id, RS_ID_MAX - 1);
    /* Differing only in the first byte. */
    id[0] = 'y';
    id[RS_ID_MAX - 1] = 'x';
    assert_int_equal(rs_idmap_find(m, id, RS_ID_MAX), RS_INDEX_NONE);
    intern_ok(m, id, RS_ID_MAX, 257, true);
    assert_int_equal(rs_idmap_size(m), 258);
    rs_idmap_free(m);
}

/* Short ids that differ only in the last byte, for every length 1..17:
 * shorter than, exactly, and just past one and two hash words. */
static void test_short_ids_last_byte(void **state)
{
    (void)state;
    rs_idmap *m = rs_idmap_new();
    char id[17];
    memset(id, 'k', sizeof id);
    uint32_t next = 0;
    for (size_t len = 1; len <= sizeof id; len++) {
        for (uint32_t b = 0; b < 256; b++) {
            id[len - 1] = (char)b;
            intern_ok(m, id, len, next++, true);
        }
        id[len - 1] = 'k';
    }
    assert_int_equal(rs_idmap_size(m), 17 * 256);
    /* Everything is found again at its index. */
    uint32_t want = 0;
    for (size_t len = 1; len <= sizeof id; len++) {
        for (uint32_t b = 0; b < 256; b++) {
            id[len - 1] = (char)b;
            assert_int_equal(rs_idmap_find(m, id, len), want);
            check_get(m, want, id, len);
            want++;
        }
        id[len - 1] = 'k';
    }
    rs_idmap_free(m);
}

static void test_prefixes_and_nul(void **state)
{
    (void)state;
    rs_idmap *m = rs_idmap_new();
    intern_ok(m, "a", 1, 0, true);
    intern_ok(m, "ab", 2, 1, true);
    intern_ok(m, "abc", 3, 2, true);
    intern_ok(m, "a\0b", 3, 3, true);
    intern_ok(m, "a\0", 2, 4, true);
    intern_ok(m, "", 0, 5, true);
    intern_ok(m, "a", 1, 0, false);
    intern_ok(m, "", 0, 5, false);
    assert_int_equal(rs_idmap_find(m, "a\0b", 3), 3);
    assert_int_equal(rs_idmap_find(m, "a\0c", 3), RS_INDEX_NONE);
    assert_int_equal(rs_idmap_find(m, "abcd", 4), RS_INDEX_NONE);
    /* Only len bytes are read. */
    assert_int_equal(rs_idmap_find(m, "abX", 2), 1);
    check_get(m, 3, "a\0b", 3);
    check_get(m, 5, "", 0);
    rs_idmap_free(m);
}

static void test_utf8_ids(void **state)
{
    (void)state;
    static const char *const ids[] = {
        "Mis\xc3\xa9rables", "Mise\xcc\x81rables", /* precomposed vs combining: distinct */
        "\xe6\x97\xa5\xe6\x9c\xac",                 /* Japanese */
        "\xf0\x9f\x98\x80",  "\xf0\x9f\x98\x81",    /* emoji differing in the last byte */
        "\xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82", /* Cyrillic */
        "user 42",           ("user\xc2\xa0" "42"), /* space vs no-break space */
    };
    rs_idmap *m = rs_idmap_new();
    for (uint32_t i = 0; i < RS_ARRAY_LEN(ids); i++)
        intern_ok(m, ids[i], strlen(ids[i]), i, true);
    for (uint32_t i = 0; i < RS_ARRAY_LEN(ids); i++) {
        assert_int_equal(rs_idmap_find(m, ids[i], strlen(ids[i])), i);
        check_get(m, i, ids[i], strlen(ids[i]));
    }
    /* 64 four-byte characters: a 256-byte multibyte id. */
    char big[RS_ID_MAX];
    for (int k = 0; k < 64; k++)
        memcpy(big + 4 * k, "\xf0\x9f\x98\x80", 4);
    assert_int_equal(rs_id_check(big, sizeof big, NULL), RS_OK);
    uint32_t n = (uint32_t)RS_ARRAY_LEN(ids);
    intern_ok(m, big, sizeof big, n, true);
    big[sizeof big - 1] = (char)0x81;
    intern_ok(m, big, sizeof big, n + 1, true);
    big[sizeof big - 1] = (char)0x80;
    assert_int_equal(rs_idmap_find(m, big, sizeof big), n);
    rs_idmap_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_round_trip_100k),
        cmocka_unit_test(test_added_may_be_null),
        cmocka_unit_test(test_long_ids_last_byte),
        cmocka_unit_test(test_short_ids_last_byte),
        cmocka_unit_test(test_prefixes_and_nul),
        cmocka_unit_test(test_utf8_ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
