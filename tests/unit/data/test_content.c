/* Item content features of data/content.h: the terms each field gives
 * (categories, brands, lower-cased tags, title words without stop words or
 * bare numbers, string and standardised, clipped numeric attributes), the
 * min_df and max_terms cuts, unit-length rows with ascending columns, and
 * rs_content_features agreeing with the builder's rows, ignoring unknown
 * terms and malformed attributes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/idmap.h"
#include "data/content.h"

/* The column of term s, or RS_INDEX_NONE. */
static uint32_t col(const rs_content *c, const char *s)
{
    return rs_idmap_find(c->terms, s, strlen(s));
}

/* The value of column c in row r of f, or 0 when absent. */
static float cell(const rs_csr *f, uint32_t r, uint32_t c)
{
    for (uint64_t j = f->indptr[r]; j < f->indptr[r + 1]; j++)
        if (f->indices[j] == c)
            return f->values[j];
    return 0.0f;
}

static void build(const rs_item *items, size_t n, uint32_t min_df, uint32_t max_terms,
                  rs_content *vocab, rs_csr *f)
{
    rs_content_builder *cb = rs_content_builder_new();
    assert_non_null(cb);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(rs_content_builder_add(cb, &items[i]), RS_OK);
    rs_content_opts o = {.min_df = min_df, .max_terms = max_terms};
    assert_int_equal(rs_content_builder_finish(cb, &o, vocab, f), RS_OK);
    rs_content_builder_free(cb);
    assert_int_equal(f->n_rows, n);
    assert_int_equal(f->n_cols, rs_idmap_size(vocab->terms));
}

/* Whether rs_content_features on each item gives the builder's row for it;
 * the first difference into why. */
static bool same_rows(const rs_content *vocab, const rs_csr *f, const rs_item *items, char *why,
                      size_t why_len)
{
    uint32_t *idx = rs_xmalloc(RS_CONTENT_MAX_ROW * sizeof *idx);
    float *val = rs_xmalloc(RS_CONTENT_MAX_ROW * sizeof *val);
    bool same = true;
    for (uint32_t i = 0; i < f->n_rows && same; i++) {
        const uint64_t lo = f->indptr[i], hi = f->indptr[i + 1];
        const size_t n = rs_content_features(vocab, &items[i], idx, val);
        if (n != hi - lo) {
            snprintf(why, why_len, "item %u: %zu features, the builder's row has %zu", i, n,
                     (size_t)(hi - lo));
            same = false;
        }
        for (size_t j = 0; j < n && same; j++)
            if (idx[j] != f->indices[lo + j] || fabsf(val[j] - f->values[lo + j]) > 1e-6f) {
                snprintf(why, why_len, "item %u entry %zu: %u=%g, the builder's %u=%g", i, j,
                         idx[j], (double)val[j], f->indices[lo + j], (double)f->values[lo + j]);
                same = false;
            }
    }
    rs_free(idx);
    rs_free(val);
    return same;
}

/* Every non-empty row has unit length, strictly ascending columns below
 * n_cols and no zero values; rs_content_features on the same item gives
 * the same row. */
static void check_rows(const rs_content *vocab, const rs_csr *f, const rs_item *items)
{
    for (uint32_t i = 0; i < f->n_rows; i++) {
        const uint64_t lo = f->indptr[i], hi = f->indptr[i + 1];
        double norm = 0;
        for (uint64_t j = lo; j < hi; j++) {
            assert_true(f->indices[j] < f->n_cols);
            if (j > lo)
                assert_true(f->indices[j] > f->indices[j - 1]);
            assert_true(f->values[j] != 0.0f);
            norm += (double)f->values[j] * f->values[j];
        }
        if (hi > lo)
            assert_float_equal(norm, 1.0, 1e-5);
    }
    char why[200];
    if (!same_rows(vocab, f, items, why, sizeof why))
        fail_msg("%s", why);
}

static const char *const tags0[] = {"SciFi", "Space"};
static const char *const tags1[] = {"space"};

/* Terms per item (min_df 1):
 *   0  c:Books b:Acme t:scifi t:space w:space w:odyssey w:robot a:lang=en n:pages
 *   1  c:Books b:Zeta t:space w:robot w:dreams w:space w:r2d2 a:lang=fr n:pages
 *   2  c:Music w:space w:oddity (the attributes are not JSON) */
static const rs_item catalogue[] = {
    {.id = "i0",
     .title = "The 2001 Space Odyssey of a Robot",
     .category = "Books",
     .brand = "Acme",
     .tags = tags0,
     .n_tags = 2,
     .attrs = "{\"lang\": \"en\", \"pages\": 300}"},
    {.id = "i1",
     .title = "ROBOT dreams in space: R2D2, 42",
     .category = "Books",
     .brand = "Zeta",
     .tags = tags1,
     .n_tags = 1,
     .attrs = "{\"lang\": \"fr\", \"pages\": 100}"},
    {.id = "i2", .title = "Space -- Oddity", .category = "Music", .attrs = "{not json"},
};

static void test_terms(void **state)
{
    (void)state;
    rs_content v;
    rs_csr f;
    build(catalogue, 3, 1, 0, &v, &f);
    const char *const present[] = {"c:Books",  "c:Music", "b:Acme",   "b:Zeta",
                                   "t:scifi",  "t:space", "w:space",  "w:odyssey",
                                   "w:robot",  "w:dreams", "w:r2d2",  "w:oddity",
                                   "a:lang=en", "a:lang=fr", "n:pages"};
    for (size_t i = 0; i < RS_ARRAY_LEN(present); i++)
        if (col(&v, present[i]) == RS_INDEX_NONE)
            fail_msg("no term %s", present[i]);
    /* Tags and title words are lower-cased; stop words, one-letter words
     * and bare numbers are dropped. */
    const char *const absent[] = {"t:SciFi", "t:Space", "w:Space", "w:ROBOT",
                                  "w:the",   "w:The",   "w:of",    "w:a",
                                  "w:2001",  "w:42",    "n:lang",  "a:pages=300"};
    for (size_t i = 0; i < RS_ARRAY_LEN(absent); i++)
        if (col(&v, absent[i]) != RS_INDEX_NONE)
            fail_msg("unexpected term %s", absent[i]);
    assert_int_equal(f.n_cols, RS_ARRAY_LEN(present));
    /* Item 2's attributes are not JSON: its row is its category and two
     * words, nothing else. */
    assert_int_equal(f.indptr[3] - f.indptr[2], 3);
    assert_true(cell(&f, 2, col(&v, "c:Music")) > 0);
    assert_true(cell(&f, 2, col(&v, "w:space")) > 0);
    assert_true(cell(&f, 2, col(&v, "w:oddity")) > 0);
    /* Weights: IDF log((1 + items) / (1 + df)) + 1 of the others, the
     * numeric attribute standardised (pages 300 and 100: mean 200,
     * deviation 100, so +1 and -1). */
    const uint32_t pages = col(&v, "n:pages"), space = col(&v, "w:space");
    assert_float_equal(v.mean[pages], 200.0, 1e-3);
    assert_float_equal(v.weight[pages], 0.01, 1e-6);
    assert_true(v.mean[space] == 0.0f);
    assert_float_equal(v.weight[space], 1.0, 1e-6);                   /* df 3 of 3 */
    assert_float_equal(v.weight[col(&v, "c:Music")], log(2.0) + 1, 1e-5); /* df 1 */
    assert_float_equal(v.weight[col(&v, "c:Books")], log(4.0 / 3) + 1, 1e-5);
    /* n:pages is +1 in item 0 and -1 in item 1, w:space 1 x IDF 1 in both. */
    assert_float_equal(cell(&f, 0, pages) / cell(&f, 0, space), 1.0, 1e-5);
    assert_float_equal(cell(&f, 1, pages) / cell(&f, 1, space), -1.0, 1e-5);
    check_rows(&v, &f, catalogue);
    rs_csr_destroy(&f);
    rs_content_destroy(&v);
}

static void test_min_df_and_max_terms(void **state)
{
    (void)state;
    rs_content v;
    rs_csr f;
    /* min_df 2: only the terms of two or more items. */
    build(catalogue, 3, 2, 0, &v, &f);
    const char *const kept[] = {"c:Books", "t:space", "w:space", "w:robot", "n:pages"};
    for (size_t i = 0; i < RS_ARRAY_LEN(kept); i++)
        if (col(&v, kept[i]) == RS_INDEX_NONE)
            fail_msg("no term %s", kept[i]);
    assert_int_equal(f.n_cols, RS_ARRAY_LEN(kept));
    assert_int_equal(col(&v, "t:scifi"), RS_INDEX_NONE);
    assert_int_equal(col(&v, "c:Music"), RS_INDEX_NONE);
    check_rows(&v, &f, catalogue);
    rs_csr_destroy(&f);
    rs_content_destroy(&v);

    /* The default min_df is 2 as well. */
    build(catalogue, 3, 0, 0, &v, &f);
    assert_int_equal(f.n_cols, RS_ARRAY_LEN(kept));
    rs_csr_destroy(&f);
    rs_content_destroy(&v);

    /* max_terms 3: w:space (3 items) and two of the df-2 terms, never a
     * term of one item. */
    build(catalogue, 3, 1, 3, &v, &f);
    assert_int_equal(f.n_cols, 3);
    assert_int_not_equal(col(&v, "w:space"), RS_INDEX_NONE);
    for (uint32_t c = 0; c < f.n_cols; c++) {
        size_t len;
        const char *t = rs_idmap_get(v.terms, c, &len);
        bool frequent = false;
        for (size_t i = 0; i < RS_ARRAY_LEN(kept); i++)
            frequent = frequent || (strlen(kept[i]) == len && !memcmp(kept[i], t, len));
        if (!frequent)
            fail_msg("max_terms kept the rare term %.*s", (int)len, t);
    }
    check_rows(&v, &f, catalogue);
    rs_csr_destroy(&f);
    rs_content_destroy(&v);
}

/* 21 items of one category; item 20 is far out on two numeric attributes
 * (price above, depth below) and must be clipped to +-3. */
static void test_numeric_clipping(void **state)
{
    (void)state;
    enum { N = 21 };
    rs_item items[N];
    for (int i = 0; i < N; i++)
        items[i] = (rs_item){.id = "x",
                             .category = "X",
                             .attrs = i < N - 1 ? "{\"price\": 10, \"depth\": 0, \"new\": true}"
                                                : "{\"price\": 1000, \"depth\": -1000, "
                                                  "\"new\": false}"};
    rs_content v;
    rs_csr f;
    build(items, N, 2, 0, &v, &f);
    const uint32_t cat = col(&v, "c:X"), price = col(&v, "n:price"), depth = col(&v, "n:depth");
    const uint32_t fresh = col(&v, "n:new");
    assert_int_not_equal(cat, RS_INDEX_NONE);
    assert_int_not_equal(price, RS_INDEX_NONE);
    assert_int_not_equal(depth, RS_INDEX_NONE);
    assert_int_not_equal(fresh, RS_INDEX_NONE); /* booleans are numeric */
    assert_float_equal(v.weight[cat], 1.0, 1e-6);  /* on every item: IDF 1 */
    /* The outlier's z-scores are about +-4.5: clipped to exactly +-3
     * relative to the category's 1 x 1. */
    const float c20 = cell(&f, N - 1, cat);
    assert_true(c20 > 0);
    assert_float_equal(cell(&f, N - 1, price) / c20, 3.0, 1e-5);
    assert_float_equal(cell(&f, N - 1, depth) / c20, -3.0, 1e-5);
    /* The booleans: 20 x 1 and 1 x 0 give z = -sqrt(20) for false, also
     * clipped. */
    assert_float_equal(cell(&f, N - 1, fresh) / c20, -3.0, 1e-5);
    /* The ordinary items are standardised, not clipped. */
    const double want = (10.0 - v.mean[price]) * v.weight[price];
    assert_true(fabs(want) < 1);
    assert_float_equal(cell(&f, 0, price) / cell(&f, 0, cat), want, 1e-5);
    check_rows(&v, &f, items);
    rs_csr_destroy(&f);
    rs_content_destroy(&v);
}

static void test_new_items(void **state)
{
    (void)state;
    rs_content v;
    rs_csr f;
    build(catalogue, 3, 1, 0, &v, &f);
    uint32_t idx[RS_CONTENT_MAX_ROW];
    float val[RS_CONTENT_MAX_ROW];

    /* Nothing known: no features. */
    static const char *const unknown_tags[] = {"Unheard"};
    rs_item it = {.id = "n0",
                  .title = "Zebra crossing",
                  .category = "Garden",
                  .brand = "Nobody",
                  .tags = unknown_tags,
                  .n_tags = 1,
                  .attrs = "{\"colour\": \"red\", \"width\": 3}"};
    assert_int_equal(rs_content_features(&v, &it, idx, val), 0);
    it = (rs_item){.id = "n1"};
    assert_int_equal(rs_content_features(&v, &it, idx, val), 0);

    /* A copy of item 0 with broken attributes: item 0's terms without
     * a: or n:, still unit length and ascending. */
    const char *const broken[] = {"{\"lang\": \"en\"", "[1, 2]", "\"en\"", "", "{\"lang\":}"};
    for (size_t b = 0; b < RS_ARRAY_LEN(broken); b++) {
        it = catalogue[0];
        it.attrs = broken[b];
        size_t n = rs_content_features(&v, &it, idx, val);
        assert_int_equal(n, 7);
        double norm = 0;
        for (size_t j = 0; j < n; j++) {
            size_t len;
            const char *t = rs_idmap_get(v.terms, idx[j], &len);
            assert_true(t[0] != 'a' && t[0] != 'n');
            if (j > 0)
                assert_true(idx[j] > idx[j - 1]);
            norm += (double)val[j] * val[j];
        }
        assert_float_equal(norm, 1.0, 1e-5);
    }

    /* Known and unknown terms mixed: the unknown ones change nothing. */
    uint32_t idx2[RS_CONTENT_MAX_ROW];
    float val2[RS_CONTENT_MAX_ROW];
    it = catalogue[2];
    size_t n = rs_content_features(&v, &it, idx, val);
    it.title = "Space Oddity Zebra";
    it.tags = unknown_tags;
    it.n_tags = 1;
    assert_int_equal(rs_content_features(&v, &it, idx2, val2), n);
    assert_memory_equal(idx, idx2, n * sizeof *idx);
    for (size_t j = 0; j < n; j++)
        assert_float_equal(val[j], val2[j], 1e-6);
    rs_csr_destroy(&f);
    rs_content_destroy(&v);
}

/* Items with many attributes (the store allows 64 KiB of them): a
 * vocabulary term after more than RS_CONTENT_MAX_ROW unknown ones must
 * still give the builder's row and rs_content_features the same answer. */
static void test_long_rows_match(void **state)
{
    (void)state;
    enum { JUNK = RS_CONTENT_MAX_ROW + 100 };
    const size_t cap = JUNK * 24 + 64;
    char *attrs = rs_xmalloc(cap);
    size_t len = 0;
    attrs[len++] = '{';
    for (int k = 0; k < JUNK; k++)
        len += (size_t)snprintf(attrs + len, cap - len, "\"k%d\": \"v\", ", k);
    len += (size_t)snprintf(attrs + len, cap - len, "\"colour\": \"red\"}");
    assert_true(len < cap);
    const rs_item items[] = {
        {.id = "long", .category = "A", .attrs = attrs},
        {.id = "s1", .category = "A", .attrs = "{\"colour\": \"red\"}"},
        {.id = "s2", .category = "B", .attrs = "{\"colour\": \"red\"}"},
        {.id = "s3", .category = "B", .attrs = "{\"colour\": \"blue\"}"},
    };
    rs_content v;
    rs_csr f;
    build(items, RS_ARRAY_LEN(items), 2, 0, &v, &f);
    const bool known = col(&v, "a:colour=red") != RS_INDEX_NONE;
    char why[200];
    const bool same = same_rows(&v, &f, items, why, sizeof why);
    rs_csr_destroy(&f);
    rs_content_destroy(&v);
    rs_free(attrs);
    assert_true(known);
    if (!same)
        fail_msg("%s", why);
}

static void test_empty(void **state)
{
    (void)state;
    rs_content v;
    rs_csr f;
    build(NULL, 0, 0, 0, &v, &f);
    assert_int_equal(f.nnz, 0);
    assert_int_equal(f.n_cols, 0);
    rs_csr_destroy(&f);
    rs_content_destroy(&v);
    rs_content zero = {0};
    rs_content_destroy(&zero);
    rs_content_builder_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_terms),          cmocka_unit_test(test_min_df_and_max_terms),
        cmocka_unit_test(test_numeric_clipping), cmocka_unit_test(test_new_items),
        cmocka_unit_test(test_long_rows_match),  cmocka_unit_test(test_empty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
