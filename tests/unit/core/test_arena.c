/* The bump allocator of core/arena.h: every allocation is aligned for
 * max_align_t whatever the sizes before it, allocations never overlap,
 * allocations bigger than a chunk work, zalloc zeroes, reset reuses the
 * newest chunk, and strdup/strndup copy and terminate. Run under ASan and
 * valgrind, overlapping or out-of-chunk writes are caught too. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdalign.h>
#include <stdint.h>
#include <string.h>

#include "core/arena.h"
#include "core/common.h"

#define ALIGN alignof(max_align_t)

typedef struct span {
    unsigned char *p;
    size_t n;
} span;

static void test_alignment_and_no_overlap(void **state)
{
    (void)state;
    rs_arena a;
    rs_arena_init(&a, 256);
    static span spans[2000];
    size_t n = 0;
    uint32_t x = 7;
    for (size_t i = 0; i < RS_ARRAY_LEN(spans); i++) {
        x = x * 1103515245u + 12345u;
        size_t size = (x >> 16) % 97; /* 0..96, odd sizes included */
        if (i % 50 == 0)
            size = 1000 + i; /* bigger than a chunk */
        unsigned char *p = rs_arena_alloc(&a, size);
        assert_non_null(p);
        assert_int_equal((uintptr_t)p % ALIGN, 0);
        memset(p, (int)(i & 0xff), size);
        spans[n++] = (span){p, size};
    }
    /* Every span still holds its own fill byte: nothing overlapped. */
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < spans[i].n; k++)
            assert_int_equal(spans[i].p[k], (unsigned char)(i & 0xff));
    rs_arena_destroy(&a);
    assert_null(a.head);
}

static void test_odd_chunk_size(void **state)
{
    (void)state;
    /* A chunk size that is not a multiple of the alignment. */
    rs_arena a;
    rs_arena_init(&a, 100);
    for (size_t size = 1; size < 300; size += 7) {
        void *p = rs_arena_alloc(&a, size);
        assert_int_equal((uintptr_t)p % ALIGN, 0);
        memset(p, 0xab, size);
    }
    rs_arena_destroy(&a);
}

static void test_default_chunk(void **state)
{
    (void)state;
    rs_arena a;
    rs_arena_init(&a, 0);
    assert_int_equal(a.chunk_size, 16384);
    assert_null(a.head); /* nothing allocated until first use */
    void *p = rs_arena_alloc(&a, 10);
    void *q = rs_arena_alloc(&a, 10);
    assert_non_null(a.head);
    /* Small allocations are bumped within one chunk, one aligned step apart. */
    assert_int_equal((unsigned char *)q - (unsigned char *)p, (10 + ALIGN - 1) / ALIGN * ALIGN);
    /* A zero-byte allocation still gives an aligned, non-NULL pointer. */
    void *z = rs_arena_alloc(&a, 0);
    assert_non_null(z);
    assert_int_equal((uintptr_t)z % ALIGN, 0);
    rs_arena_destroy(&a);
    rs_arena_destroy(&a); /* an empty arena destroys again */
}

static void test_large(void **state)
{
    (void)state;
    rs_arena a;
    rs_arena_init(&a, 1024);
    unsigned char *small = rs_arena_alloc(&a, 8);
    memset(small, 1, 8);
    size_t big_n = 1 << 20;
    unsigned char *big = rs_arena_alloc(&a, big_n);
    assert_int_equal((uintptr_t)big % ALIGN, 0);
    memset(big, 2, big_n);
    unsigned char *after = rs_arena_alloc(&a, 8);
    memset(after, 3, 8);
    assert_int_equal(small[7], 1);
    assert_int_equal(big[0], 2);
    assert_int_equal(big[big_n - 1], 2);
    assert_int_equal(after[0], 3);
    /* A chunk of exactly the chunk size fits in one allocation too. */
    unsigned char *exact = rs_arena_alloc(&a, 1024);
    memset(exact, 4, 1024);
    assert_int_equal(big[big_n - 1], 2);
    rs_arena_destroy(&a);
}

static void test_zalloc(void **state)
{
    (void)state;
    rs_arena a;
    rs_arena_init(&a, 512);
    for (int round = 0; round < 3; round++) {
        unsigned char *dirty = rs_arena_alloc(&a, 400);
        memset(dirty, 0xff, 400);
        rs_arena_reset(&a);
        unsigned char *z = rs_arena_zalloc(&a, 400);
        for (size_t i = 0; i < 400; i++)
            assert_int_equal(z[i], 0);
        unsigned char *z2 = rs_arena_zalloc(&a, 3000);
        for (size_t i = 0; i < 3000; i++)
            assert_int_equal(z2[i], 0);
        rs_arena_reset(&a);
    }
    rs_arena_destroy(&a);
}

static void test_reset_reuses(void **state)
{
    (void)state;
    rs_arena a;
    rs_arena_init(&a, 4096);
    rs_arena_reset(&a); /* reset before first use is harmless */
    assert_null(a.head);
    unsigned char *last = NULL;
    for (int i = 0; i < 200; i++) {
        last = rs_arena_alloc(&a, 100); /* spills into several chunks */
        memset(last, 0x5a, 100);
    }
    rs_arena_reset(&a);
    assert_non_null(a.head);
    /* The newest chunk is kept and reused from its start: the next pointer
     * lies in the chunk that held the last allocation, at or before it. */
    unsigned char *again = rs_arena_alloc(&a, 100);
    assert_true(again <= last);
    assert_true((size_t)(last - again) < 4096);
    memset(again, 0, 100);
    /* After a reset the kept chunk is reused from its start: two resets in a
     * row give the same first pointer. */
    rs_arena_reset(&a);
    void *p1 = rs_arena_alloc(&a, 64);
    rs_arena_reset(&a);
    void *p2 = rs_arena_alloc(&a, 64);
    assert_ptr_equal(p1, p2);
    memset(p2, 0, 64);
    rs_arena_destroy(&a);
    /* The arena can be initialised again after destroy. */
    rs_arena_init(&a, 64);
    memset(rs_arena_alloc(&a, 64), 1, 64);
    rs_arena_destroy(&a);
}

static void test_strdup(void **state)
{
    (void)state;
    rs_arena a;
    rs_arena_init(&a, 64);
    const char *src = "Mis\xc3\xa9rables";
    char *s = rs_arena_strdup(&a, src);
    assert_string_equal(s, src);
    assert_ptr_not_equal(s, src);
    char *e = rs_arena_strdup(&a, "");
    assert_string_equal(e, "");
    char *part = rs_arena_strndup(&a, "hello world", 5);
    assert_string_equal(part, "hello");
    char *nul = rs_arena_strndup(&a, "a\0b", 3);
    assert_memory_equal(nul, "a\0b\0", 4);
    assert_int_equal((uintptr_t)part % ALIGN, 0);
    /* A string longer than the chunk. */
    char longs[500];
    memset(longs, 'q', sizeof longs - 1);
    longs[sizeof longs - 1] = '\0';
    char *l = rs_arena_strdup(&a, longs);
    assert_string_equal(l, longs);
    /* The earlier copies are intact. */
    assert_string_equal(s, src);
    assert_string_equal(part, "hello");
    rs_arena_destroy(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alignment_and_no_overlap),
        cmocka_unit_test(test_odd_chunk_size),
        cmocka_unit_test(test_default_chunk),
        cmocka_unit_test(test_large),
        cmocka_unit_test(test_zalloc),
        cmocka_unit_test(test_reset_reuses),
        cmocka_unit_test(test_strdup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
