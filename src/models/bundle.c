/* Saving and loading model bundles (see bundle.h). Each array is one
 * artifact section; the "dims" section says how long each must be, and the
 * loader checks every section against it before pointing into the file. */
#include "bundle.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/text.h"

/* The "dims" section: fixed little-endian u64 fields. */
enum { D_USERS, D_ITEMS, D_CATS, D_MODELS, D_ALS_K, D_MF_K, D__N };

static const struct {
    unsigned flag;
    const char *name;
} model_names[] = {
    {RS_MODEL_POPULARITY, "popularity"}, {RS_MODEL_ALS, "als"}, {RS_MODEL_SIMILAR, "similar"},
    {RS_MODEL_KNN, "knn"},               {RS_MODEL_MF, "mf"},
    {RS_MODEL_HYBRID, "hybrid"},
};

unsigned rs_model_parse(const char *name)
{
    for (size_t i = 0; i < RS_ARRAY_LEN(model_names); i++)
        if (!strcmp(model_names[i].name, name))
            return model_names[i].flag;
    return 0;
}

const char *rs_model_name(unsigned flag)
{
    for (size_t i = 0; i < RS_ARRAY_LEN(model_names); i++)
        if (model_names[i].flag == flag)
            return model_names[i].name;
    return "?";
}

/* ---- saving ------------------------------------------------------------ */

typedef struct saver {
    rs_artifact_writer *w;
    rs_diag *diag;
    rs_err e;
} saver;

static void add(saver *s, const char *name, const void *data, size_t size)
{
    if (!s->e)
        s->e = rs_artifact_add(s->w, name, data, size, s->diag);
}

/* An id map as "<p>.ids" (the ids, each NUL-terminated, back to back) and
 * "<p>.off" (n + 1 u64 offsets into it). */
static void add_ids(saver *s, const char *p, const rs_idmap *m)
{
    size_t n = rs_idmap_size(m), total = 0;
    uint64_t *off = rs_xmalloc((n + 1) * sizeof *off);
    for (size_t i = 0; i < n; i++) {
        size_t len;
        rs_idmap_get(m, (uint32_t)i, &len);
        off[i] = total;
        total += len + 1;
    }
    off[n] = total;
    char *blob = rs_xmalloc(total ? total : 1);
    for (size_t i = 0; i < n; i++) {
        size_t len;
        const char *id = rs_idmap_get(m, (uint32_t)i, &len);
        memcpy(blob + off[i], id, len + 1);
    }
    char name[RS_ARTIFACT_NAME_MAX + 1];
    snprintf(name, sizeof name, "%s.ids", p);
    add(s, name, blob, total);
    snprintf(name, sizeof name, "%s.off", p);
    add(s, name, off, (n + 1) * sizeof *off);
    rs_free(blob);
    rs_free(off);
}

/* A CSR as "<p>.ptr", "<p>.idx" and, when with_values, "<p>.val". */
static void add_csr(saver *s, const char *p, const rs_csr *m, bool with_values)
{
    char name[RS_ARTIFACT_NAME_MAX + 1];
    snprintf(name, sizeof name, "%s.ptr", p);
    add(s, name, m->indptr, ((size_t)m->n_rows + 1) * sizeof *m->indptr);
    snprintf(name, sizeof name, "%s.idx", p);
    add(s, name, m->indices, m->nnz * sizeof *m->indices);
    if (with_values) {
        snprintf(name, sizeof name, "%s.val", p);
        add(s, name, m->values, m->nnz * sizeof *m->values);
    }
}

rs_err rs_bundle_save(const rs_bundle *b, const char *path, rs_diag *diag)
{
    saver s = {.diag = diag};
    if ((s.e = rs_artifact_create(path, &s.w, diag)))
        return s.e;
    const uint64_t nu = rs_idmap_size(b->users), ni = rs_idmap_size(b->items);
    uint64_t dims[D__N] = {nu, ni, rs_idmap_size(b->categories), b->models,
                           b->models & RS_MODEL_ALS ? b->als.factors : 0,
                           b->models & RS_MODEL_MF ? b->mf.factors : 0};
    add(&s, "dims", dims, sizeof dims);
    add(&s, "meta", b->meta ? b->meta : "{}", strlen(b->meta ? b->meta : "{}"));
    add_ids(&s, "user", b->users);
    add_ids(&s, "item", b->items);
    add_ids(&s, "cat", b->categories);
    add(&s, "item.cat", b->item_category, ni * sizeof *b->item_category);
    add(&s, "item.hidden", b->item_hidden, ni);
    add_csr(&s, "seen", &b->seen, true);
    if (b->models & RS_MODEL_POPULARITY) {
        const rs_popularity *p = &b->pop;
        double when[2] = {(double)p->ref_ms, p->half_life_ms};
        add(&s, "pop.time", when, sizeof when);
        add(&s, "pop.count", p->count, ni * sizeof(float));
        add(&s, "pop.trend", p->trend, ni * sizeof(float));
        add(&s, "pop.order", p->order[0], ni * sizeof(uint32_t));
        add(&s, "pop.order.t", p->order[1], ni * sizeof(uint32_t));
        add(&s, "pop.catstart", p->cat_start, (p->n_categories + 1) * sizeof(uint32_t));
        add(&s, "pop.bycat", p->by_cat[0], p->cat_start[p->n_categories] * sizeof(uint32_t));
        add(&s, "pop.bycat.t", p->by_cat[1], p->cat_start[p->n_categories] * sizeof(uint32_t));
    }
    if (b->models & RS_MODEL_ALS) {
        add(&s, "als.user", b->als.user_factors, nu * b->als.factors * sizeof(float));
        add(&s, "als.item", b->als.item_factors, ni * b->als.factors * sizeof(float));
    }
    if (b->models & RS_MODEL_SIMILAR)
        add_csr(&s, "sim", &b->similar, true);
    if (b->models & RS_MODEL_KNN)
        add_csr(&s, "knn", &b->knn.sim, true);
    if (b->models & RS_MODEL_MF) {
        const rs_mf_model *m = &b->mf;
        float scalars[3] = {m->mean, m->min_rating, m->max_rating};
        add(&s, "mf.scalars", scalars, sizeof scalars);
        add(&s, "mf.ubias", m->user_bias, nu * sizeof(float));
        add(&s, "mf.ibias", m->item_bias, ni * sizeof(float));
        add(&s, "mf.user", m->user_factors, nu * m->factors * sizeof(float));
        add(&s, "mf.item", m->item_factors, ni * m->factors * sizeof(float));
    }
    if (b->models & RS_MODEL_HYBRID) {
        const rs_hybrid_model *h = &b->hybrid;
        const uint64_t terms = h->n_terms;
        add(&s, "hyb.dims", &terms, sizeof terms);
        add_ids(&s, "term", b->content.terms);
        add(&s, "term.weight", b->content.weight, terms * sizeof(float));
        add(&s, "term.mean", b->content.mean, terms * sizeof(float));
        add(&s, "hyb.map", h->map, (terms + 1) * h->factors * sizeof(float));
        add(&s, "hyb.item", h->item_factors, ni * h->factors * sizeof(float));
    }
    if (s.e) {
        rs_artifact_abort(s.w);
        return s.e;
    }
    return rs_artifact_commit(s.w, diag);
}

/* ---- loading ----------------------------------------------------------- */

typedef struct loader {
    const rs_artifact *a;
    rs_diag *diag;
    rs_err e;
} loader;

/* The section `name`, which must hold exactly `count` elements of `elem`
 * bytes (count = SIZE_MAX: any whole number of elements, returned in
 * *count_out). NULL after recording RS_ECORRUPT otherwise. */
static const void *section(loader *l, const char *name, size_t elem, size_t count,
                           size_t *count_out)
{
    if (l->e)
        return NULL;
    size_t size;
    const void *p = rs_artifact_section(l->a, name, &size);
    if (!p) {
        l->e = rs_diag_fail(l->diag, RS_ECORRUPT, "model file has no '%s' section", name);
        return NULL;
    }
    if (count == SIZE_MAX ? size % elem != 0 : size / elem != count || size % elem != 0) {
        l->e = rs_diag_fail(l->diag, RS_ECORRUPT, "model file section '%s' has the wrong size",
                            name);
        return NULL;
    }
    if (count_out)
        *count_out = size / elem;
    return p;
}

static void corrupt(loader *l, const char *what)
{
    if (!l->e)
        l->e = rs_diag_fail(l->diag, RS_ECORRUPT, "model file is inconsistent: %s", what);
}

/* Rebuilds an id map from "<p>.ids" / "<p>.off" holding n ids. */
static rs_idmap *load_ids(loader *l, const char *p, size_t n)
{
    char name[RS_ARTIFACT_NAME_MAX + 1];
    size_t total = 0;
    snprintf(name, sizeof name, "%s.off", p);
    const uint64_t *off = section(l, name, sizeof *off, n + 1, NULL);
    snprintf(name, sizeof name, "%s.ids", p);
    const char *blob = section(l, name, 1, SIZE_MAX, &total);
    rs_idmap *m = rs_idmap_new();
    if (!off || !blob)
        return m;
    if (off[0] != 0 || off[n] != total) {
        corrupt(l, "id offsets");
        return m;
    }
    for (size_t i = 0; i < n; i++) {
        if (off[i + 1] <= off[i] || off[i + 1] > total || blob[off[i + 1] - 1] != '\0') {
            corrupt(l, "id offsets");
            return m;
        }
        size_t len = (size_t)(off[i + 1] - off[i] - 1);
        uint32_t idx;
        bool added;
        rs_err e = rs_idmap_intern(m, blob + off[i], len, &idx, &added);
        if (e) {
            l->e = rs_diag_fail(l->diag, e, "cannot rebuild the %s ids", p);
            return m;
        }
        if (!added) {
            corrupt(l, "a repeated id");
            return m;
        }
    }
    return m;
}

/* Points *m at "<p>.*" sections for an n_rows x n_cols matrix; checks the
 * offsets and column bounds (and ascending columns when sorted). */
static void load_csr(loader *l, const char *p, uint32_t n_rows, uint32_t n_cols, bool sorted,
                     rs_csr *m)
{
    char name[RS_ARTIFACT_NAME_MAX + 1];
    size_t nnz = 0, nval = 0;
    snprintf(name, sizeof name, "%s.ptr", p);
    const uint64_t *ptr = section(l, name, sizeof *ptr, (size_t)n_rows + 1, NULL);
    snprintf(name, sizeof name, "%s.idx", p);
    const uint32_t *idx = section(l, name, sizeof *idx, SIZE_MAX, &nnz);
    snprintf(name, sizeof name, "%s.val", p);
    const float *val = section(l, name, sizeof *val, SIZE_MAX, &nval);
    if (l->e)
        return;
    if (nval != nnz || ptr[0] != 0 || ptr[n_rows] != nnz) {
        corrupt(l, p);
        return;
    }
    for (uint32_t r = 0; r < n_rows; r++) {
        if (ptr[r + 1] < ptr[r]) {
            corrupt(l, p);
            return;
        }
        for (uint64_t j = ptr[r]; j < ptr[r + 1]; j++)
            if (idx[j] >= n_cols || !isfinite(val[j]) ||
                (sorted && j > ptr[r] && idx[j] <= idx[j - 1])) {
                corrupt(l, p);
                return;
            }
    }
    *m = (rs_csr){.n_rows = n_rows, .n_cols = n_cols, .nnz = nnz, .indptr = (uint64_t *)ptr,
                  .indices = (uint32_t *)idx, .values = (float *)val};
}

/* Every entry of a[0..n) is below bound. */
static bool all_below(const uint32_t *a, size_t n, uint32_t bound)
{
    for (size_t i = 0; i < n; i++)
        if (a[i] >= bound)
            return false;
    return true;
}

static bool all_finite(const float *a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(a[i]))
            return false;
    return true;
}

static void load_popularity(loader *l, rs_bundle *b, uint32_t ni, uint32_t nc)
{
    rs_popularity *p = &b->pop;
    const double *when = section(l, "pop.time", sizeof(double), 2, NULL);
    p->count = (float *)section(l, "pop.count", sizeof(float), ni, NULL);
    p->trend = (float *)section(l, "pop.trend", sizeof(float), ni, NULL);
    p->order[0] = (uint32_t *)section(l, "pop.order", sizeof(uint32_t), ni, NULL);
    p->order[1] = (uint32_t *)section(l, "pop.order.t", sizeof(uint32_t), ni, NULL);
    p->cat_start = (uint32_t *)section(l, "pop.catstart", sizeof(uint32_t), (size_t)nc + 1, NULL);
    if (l->e)
        return;
    for (uint32_t c = 0; c < nc; c++)
        if (p->cat_start[c + 1] < p->cat_start[c])
            corrupt(l, "popularity categories");
    if (p->cat_start[0] != 0 || p->cat_start[nc] > ni)
        corrupt(l, "popularity categories");
    size_t in_cats = l->e ? 0 : p->cat_start[nc];
    p->by_cat[0] = (uint32_t *)section(l, "pop.bycat", sizeof(uint32_t), in_cats, NULL);
    p->by_cat[1] = (uint32_t *)section(l, "pop.bycat.t", sizeof(uint32_t), in_cats, NULL);
    if (l->e)
        return;
    if (!all_below(p->order[0], ni, ni) || !all_below(p->order[1], ni, ni) ||
        !all_below(p->by_cat[0], in_cats, ni) || !all_below(p->by_cat[1], in_cats, ni) ||
        !all_finite(p->count, ni) || !all_finite(p->trend, ni))
        corrupt(l, "popularity lists");
    p->n_items = ni;
    p->n_categories = nc;
    p->ref_ms = (int64_t)when[0];
    p->half_life_ms = when[1];
}

/* Points a factor matrix of n rows x k at a section and checks it. */
static float *load_factors(loader *l, const char *name, size_t n, size_t k)
{
    float *f = (float *)section(l, name, sizeof(float), n * k, NULL);
    if (f && !all_finite(f, n * k))
        corrupt(l, name);
    return f;
}

/* The hybrid shares the ALS factor count. */
static void load_hybrid(loader *l, rs_bundle *b, uint32_t ni)
{
    const uint64_t *terms = section(l, "hyb.dims", sizeof *terms, 1, NULL);
    if (!terms || !(b->models & RS_MODEL_ALS) || *terms > 65536) {
        corrupt(l, "hybrid dimensions");
        return;
    }
    rs_hybrid_model *h = &b->hybrid;
    h->n_items = ni;
    h->factors = b->als.factors;
    h->n_terms = (uint32_t)*terms;
    b->content.terms = load_ids(l, "term", h->n_terms);
    b->content.weight = load_factors(l, "term.weight", h->n_terms, 1);
    b->content.mean = load_factors(l, "term.mean", h->n_terms, 1);
    h->map = load_factors(l, "hyb.map", (size_t)h->n_terms + 1, h->factors);
    h->item_factors = load_factors(l, "hyb.item", ni, h->factors);
}

static void load_models(loader *l, rs_bundle *b, const uint64_t *dims)
{
    const uint32_t nu = (uint32_t)dims[D_USERS], ni = (uint32_t)dims[D_ITEMS];
    const uint32_t nc = (uint32_t)dims[D_CATS];
    b->item_category = (uint32_t *)section(l, "item.cat", sizeof(uint32_t), ni, NULL);
    b->item_hidden = (uint8_t *)section(l, "item.hidden", 1, ni, NULL);
    for (uint32_t i = 0; !l->e && i < ni; i++)
        if (b->item_category[i] != RS_INDEX_NONE && b->item_category[i] >= nc)
            corrupt(l, "item categories");
    load_csr(l, "seen", nu, ni, true, &b->seen);
    if (b->models & RS_MODEL_POPULARITY)
        load_popularity(l, b, ni, nc);
    if (b->models & RS_MODEL_ALS) {
        b->als = (rs_als_model){.n_users = nu, .n_items = ni, .factors = (uint32_t)dims[D_ALS_K]};
        b->als.user_factors = load_factors(l, "als.user", nu, b->als.factors);
        b->als.item_factors = load_factors(l, "als.item", ni, b->als.factors);
    }
    if (b->models & RS_MODEL_SIMILAR)
        load_csr(l, "sim", ni, ni, false, &b->similar);
    if (b->models & RS_MODEL_KNN) {
        load_csr(l, "knn", ni, ni, false, &b->knn.sim);
        b->knn.user_items = b->seen;
    }
    if (b->models & RS_MODEL_MF) {
        rs_mf_model *m = &b->mf;
        const float *sc = section(l, "mf.scalars", sizeof(float), 3, NULL);
        m->n_users = nu;
        m->n_items = ni;
        m->factors = (uint32_t)dims[D_MF_K];
        m->user_bias = load_factors(l, "mf.ubias", nu, 1);
        m->item_bias = load_factors(l, "mf.ibias", ni, 1);
        m->user_factors = load_factors(l, "mf.user", nu, m->factors);
        m->item_factors = load_factors(l, "mf.item", ni, m->factors);
        if (sc && all_finite(sc, 3)) {
            m->mean = sc[0];
            m->min_rating = sc[1];
            m->max_rating = sc[2];
        } else {
            corrupt(l, "mf scalars");
        }
    }
    if (b->models & RS_MODEL_HYBRID)
        load_hybrid(l, b, ni);
}

rs_err rs_bundle_load(const char *path, rs_bundle *out, rs_diag *diag)
{
    memset(out, 0, sizeof *out);
    rs_err e = rs_artifact_open(path, &out->file, diag);
    if (e)
        return e;
    loader l = {.a = out->file, .diag = diag};
    const uint64_t *dims = section(&l, "dims", sizeof(uint64_t), D__N, NULL);
    size_t meta_len = 0;
    const char *meta = section(&l, "meta", 1, SIZE_MAX, &meta_len);
    if (dims && (dims[D_USERS] >= RS_INDEX_NONE || dims[D_ITEMS] >= RS_INDEX_NONE ||
                 dims[D_CATS] >= RS_INDEX_NONE || dims[D_ALS_K] > 4096 ||
                 dims[D_MF_K] > 4096 || dims[D_MODELS] >> RS_MODEL_COUNT))
        corrupt(&l, "dimensions");
    if (!l.e) {
        out->models = (unsigned)dims[D_MODELS];
        out->meta = rs_xstrndup(meta, meta_len);
        out->users = load_ids(&l, "user", dims[D_USERS]);
        out->items = load_ids(&l, "item", dims[D_ITEMS]);
        out->categories = load_ids(&l, "cat", dims[D_CATS]);
        load_models(&l, out, dims);
    }
    if (l.e) {
        rs_err le = l.e;
        rs_diag d = *diag;
        rs_bundle_destroy(out);
        rs_diag_fail(diag, le, "%s: %s", path, d.msg);
        return le;
    }
    return RS_OK;
}

void rs_bundle_destroy(rs_bundle *b)
{
    rs_free(b->meta);
    rs_idmap_free(b->users);
    rs_idmap_free(b->items);
    rs_idmap_free(b->categories);
    if (b->file) {
        rs_idmap_free(b->content.terms);
        rs_artifact_close(b->file);
    } else {
        rs_free(b->item_category);
        rs_free(b->item_hidden);
        rs_csr_destroy(&b->seen);
        rs_popularity_destroy(&b->pop);
        rs_als_destroy(&b->als);
        rs_csr_destroy(&b->similar);
        rs_knn_destroy(&b->knn);
        rs_mf_destroy(&b->mf);
        rs_content_destroy(&b->content);
        rs_hybrid_destroy(&b->hybrid);
    }
    memset(b, 0, sizeof *b);
}
