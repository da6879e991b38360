/* The model artifact file and the bundle saved in it: a round trip keeps
 * every section and every model's answers; a truncated, damaged, foreign
 * or newer file is refused with a clear error and never crashes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <sys/stat.h>

#include "../test_util.h"
#include "core/alloc.h"
#include "core/log.h"
#include "core/rng.h"
#include "models/artifact.h"
#include "models/bundle.h"
#include "models/fit.h"

/* Reads a whole file into a malloc'd buffer. */
static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc(*len ? *len : 1);
    assert_int_equal(fread(b, 1, *len, f), *len);
    fclose(f);
    return b;
}

static void spit(const char *path, const unsigned char *b, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, len, f), len);
    fclose(f);
}

static const char *write_sample(const char *name)
{
    const char *p = rs_test_path(name);
    rs_artifact_writer *w;
    rs_diag d = {{0}};
    assert_int_equal(rs_artifact_create(p, &w, &d), RS_OK);
    float v[5] = {1, 2, 3, 4, 5};
    assert_int_equal(rs_artifact_add(w, "floats", v, sizeof v, &d), RS_OK);
    assert_int_equal(rs_artifact_add(w, "text", "hello", 5, &d), RS_OK);
    assert_int_equal(rs_artifact_add(w, "empty", NULL, 0, &d), RS_OK);
    assert_int_equal(rs_artifact_add(w, "text", "again", 5, &d), RS_EINVAL);
    assert_int_equal(rs_artifact_add(w, "a-name-too-long-x", "x", 1, &d), RS_EINVAL);
    assert_int_equal(rs_artifact_commit(w, &d), RS_OK);
    return p;
}

static void test_round_trip(void **state)
{
    (void)state;
    const char *p = write_sample("a.rsm");
    rs_artifact *a;
    rs_diag d = {{0}};
    assert_int_equal(rs_artifact_open(p, &a, &d), RS_OK);
    size_t n;
    const float *v = rs_artifact_section(a, "floats", &n);
    assert_non_null(v);
    assert_int_equal(n, 5 * sizeof(float));
    assert_int_equal((uintptr_t)v % 64, 0);
    assert_true(v[4] == 5.0f);
    const char *t = rs_artifact_section(a, "text", &n);
    assert_int_equal(n, 5);
    assert_memory_equal(t, "hello", 5);
    assert_non_null(rs_artifact_section(a, "empty", &n));
    assert_int_equal(n, 0);
    assert_null(rs_artifact_section(a, "missing", &n));
    assert_int_equal(strlen(rs_artifact_digest(a)), 64);
    rs_artifact_close(a);
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);
}

/* Every truncation of the file is refused. */
static void test_truncated(void **state)
{
    (void)state;
    const char *p = write_sample("t.rsm");
    size_t len;
    unsigned char *b = slurp(p, &len);
    for (size_t cut = 0; cut < len; cut += cut < 128 ? 1 : 37) {
        rs_artifact *a = NULL;
        rs_diag d = {{0}};
        rs_err e = rs_artifact_open_mem(b, cut, &a, &d);
        assert_int_equal(e, RS_ECORRUPT);
        assert_null(a);
        assert_true(d.msg[0] != '\0');
    }
    spit(rs_test_path("t2.rsm"), b, len / 2);
    rs_artifact *a;
    rs_diag d = {{0}};
    assert_int_equal(rs_artifact_open(rs_test_path("t2.rsm"), &a, &d), RS_ECORRUPT);
    assert_non_null(strstr(d.msg, "t2.rsm"));
    free(b);
}

/* Flipping any single byte is detected (header fields or checksum). */
static void test_corrupt_bytes(void **state)
{
    (void)state;
    const char *p = write_sample("c.rsm");
    size_t len;
    unsigned char *b = slurp(p, &len);
    for (size_t i = 0; i < len; i++) {
        if (i >= 8 && i < 12)
            continue; /* the version field: tested below */
        b[i] ^= 0x5a;
        rs_artifact *a = NULL;
        rs_diag d = {{0}};
        rs_err e = rs_artifact_open_mem(b, len, &a, &d);
        if (e == RS_OK)
            fail_msg("flipping byte %zu was not detected", i);
        assert_int_equal(e, RS_ECORRUPT);
        b[i] ^= 0x5a;
    }
    free(b);
}

static void test_version_and_magic(void **state)
{
    (void)state;
    const char *p = write_sample("v.rsm");
    size_t len;
    unsigned char *b = slurp(p, &len);
    uint32_t v = RS_ARTIFACT_VERSION + 1;
    memcpy(b + 8, &v, 4);
    rs_artifact *a;
    rs_diag d = {{0}};
    assert_int_equal(rs_artifact_open_mem(b, len, &a, &d), RS_EVERSION);
    assert_non_null(strstr(d.msg, "newer"));
    memcpy(b, "NOTMODEL", 8);
    assert_int_equal(rs_artifact_open_mem(b, len, &a, &d), RS_ECORRUPT);
    assert_non_null(strstr(d.msg, "not a recsys model"));
    assert_int_equal(rs_artifact_open(rs_test_path("missing.rsm"), &a, &d), RS_EIO);
    free(b);
}

/* A small bundle with every model, fitted on random data. */
static void make_bundle(rs_bundle *b)
{
    enum { NU = 60, NI = 40 };
    uint32_t rows[NU * 8], cols[NU * 8];
    float vals[NU * 8];
    size_t n = 0;
    rs_rng r;
    rs_rng_init(&r, 7);
    for (uint32_t u = 0; u < NU; u++)
        for (int j = 0; j < 8; j++) {
            rows[n] = u;
            cols[n] = (u * 3 + rs_rng_below(&r, 12)) % NI;
            vals[n] = (float)(1 + rs_rng_below(&r, 5));
            n++;
        }
    rs_csr ui;
    assert_int_equal(rs_csr_from_coo(NU, NI, rows, cols, vals, NULL, n, RS_AGG_LAST, &ui), RS_OK);
    memset(b, 0, sizeof *b);
    b->users = rs_idmap_new();
    b->items = rs_idmap_new();
    b->categories = rs_idmap_new();
    char id[32];
    uint32_t idx;
    for (uint32_t u = 0; u < NU; u++) {
        snprintf(id, sizeof id, "user-%u", u);
        assert_int_equal(rs_idmap_intern(b->users, id, strlen(id), &idx, NULL), RS_OK);
    }
    for (uint32_t i = 0; i < NI; i++) {
        snprintf(id, sizeof id, "item-%u", i);
        assert_int_equal(rs_idmap_intern(b->items, id, strlen(id), &idx, NULL), RS_OK);
    }
    assert_int_equal(rs_idmap_intern(b->categories, "odd", 3, &idx, NULL), RS_OK);
    assert_int_equal(rs_idmap_intern(b->categories, "even", 4, &idx, NULL), RS_OK);
    b->item_category = rs_xcalloc(NI, sizeof(uint32_t));
    b->item_hidden = rs_xcalloc(NI, 1);
    for (uint32_t i = 0; i < NI; i++)
        b->item_category[i] = i % 7 == 0 ? RS_INDEX_NONE : i % 2;
    b->item_hidden[3] = 1;
    rs_model_params p;
    rs_model_params_default(&p);
    p.als.factors = 8;
    p.mf.factors = 4;
    p.mf.iterations = 5;
    p.mf.burn_in = 2;
    p.similar.neighbours = 5;
    p.knn.neighbours = 5;
    p.threads = 1;
    rs_fit_input in = {.ui = &ui, .item_category = b->item_category, .n_categories = 2};
    rs_diag d = {{0}};
    unsigned all = RS_MODEL_POPULARITY | RS_MODEL_ALS | RS_MODEL_SIMILAR | RS_MODEL_KNN |
                   RS_MODEL_MF;
    rs_log_set_level(RS_LOG_OFF);
    assert_int_equal(rs_fit_models(&in, all, &p, b, NULL, &d), RS_OK);
    b->meta = rs_xstrdup("{\"test\":true}");
    rs_csr_destroy(&ui);
}

static void test_bundle_round_trip(void **state)
{
    (void)state;
    rs_bundle b, l;
    make_bundle(&b);
    const char *p = rs_test_path("bundle.rsm");
    rs_diag d = {{0}};
    assert_int_equal(rs_bundle_save(&b, p, &d), RS_OK);
    assert_int_equal(rs_bundle_load(p, &l, &d), RS_OK);
    assert_int_equal(l.models, b.models);
    assert_string_equal(l.meta, b.meta);
    assert_int_equal(rs_idmap_size(l.users), rs_idmap_size(b.users));
    assert_int_equal(rs_idmap_find(l.items, "item-17", 7), 17);
    assert_int_equal(rs_idmap_find(l.categories, "even", 4), 1);
    assert_memory_equal(l.item_category, b.item_category, 40 * sizeof(uint32_t));
    assert_int_equal(l.item_hidden[3], 1);
    assert_int_equal(l.seen.nnz, b.seen.nnz);

    /* Every model answers the same from the file. */
    rs_scored x[10], y[10];
    float scratch[64];
    size_t nx, ny;
    for (uint32_t u = 0; u < 60; u += 7) {
        const uint32_t *ex = b.seen.indices + b.seen.indptr[u];
        size_t nex = b.seen.indptr[u + 1] - b.seen.indptr[u];
        assert_int_equal(rs_als_recommend(&b.als, u, ex, nex, 10, x, &nx, scratch), RS_OK);
        assert_int_equal(rs_als_recommend(&l.als, u, ex, nex, 10, y, &ny, scratch), RS_OK);
        assert_int_equal(nx, ny);
        assert_memory_equal(x, y, nx * sizeof *x);
        assert_int_equal(rs_knn_recommend(&b.knn, u, ex, nex, 10, x, &nx, scratch), RS_OK);
        assert_int_equal(rs_knn_recommend(&l.knn, u, ex, nex, 10, y, &ny, scratch), RS_OK);
        assert_int_equal(nx, ny);
        for (size_t i = 0; i < nx; i++)
            assert_int_equal(x[i].index, y[i].index);
        assert_true(rs_mf_predict(&b.mf, u, 5) == rs_mf_predict(&l.mf, u, 5));
    }
    rs_pop_query q = {.kind = RS_POP_TRENDING, .category = 1, .k = 10};
    nx = rs_popularity_top(&b.pop, &q, x);
    ny = rs_popularity_top(&l.pop, &q, y);
    assert_int_equal(nx, ny);
    assert_memory_equal(x, y, nx * sizeof *x);
    const float *sx, *sy;
    size_t mx, my;
    const uint32_t *nbx = rs_similar_get(&b.similar, 9, &sx, &mx);
    const uint32_t *nby = rs_similar_get(&l.similar, 9, &sy, &my);
    assert_int_equal(mx, my);
    assert_memory_equal(nbx, nby, mx * sizeof *nbx);
    rs_bundle_destroy(&l);
    rs_bundle_destroy(&b);
}

/* A bundle whose sections disagree with its dimensions is refused even
 * though its checksum is right (as if written by a buggy version). */
static void test_bundle_inconsistent(void **state)
{
    (void)state;
    const char *p = rs_test_path("bad.rsm");
    rs_artifact_writer *w;
    rs_diag d = {{0}};
    assert_int_equal(rs_artifact_create(p, &w, &d), RS_OK);
    uint64_t dims[6] = {2, 3, 0, RS_MODEL_ALS, 4, 0};
    assert_int_equal(rs_artifact_add(w, "dims", dims, sizeof dims, &d), RS_OK);
    assert_int_equal(rs_artifact_commit(w, &d), RS_OK);
    rs_bundle b;
    assert_int_equal(rs_bundle_load(p, &b, &d), RS_ECORRUPT);
    assert_non_null(strstr(d.msg, "section"));

    rs_bundle good;
    make_bundle(&good);
    const char *gp = rs_test_path("good.rsm");
    assert_int_equal(rs_bundle_save(&good, gp, &d), RS_OK);
    rs_bundle_destroy(&good);
    size_t len;
    unsigned char *bytes = slurp(gp, &len);
    spit(gp, bytes, len - 1);
    assert_int_equal(rs_bundle_load(gp, &b, &d), RS_ECORRUPT);
    assert_non_null(strstr(d.msg, "good.rsm"));
    free(bytes);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_corrupt_bytes),
        cmocka_unit_test(test_version_and_magic),
        cmocka_unit_test(test_bundle_round_trip),
        cmocka_unit_test(test_bundle_inconsistent),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    if (rc == 0)
        rs_test_cleanup();
    return rc;
}
