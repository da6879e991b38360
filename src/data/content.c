/* Item content features (see content.h): turning an item's fields into
 * terms, choosing the vocabulary over a catalogue, and weighting. */
#include "content.h"

#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/text.h"

/* Title words that carry no content. */
static const char *const stop_words[] = {
    "a",   "an",  "and", "are", "as",  "at",  "be",  "by",  "de",   "del",  "der", "des",
    "die", "du",  "el",  "en",  "et",  "for", "from", "il", "in",   "is",   "it",  "its",
    "la",  "las", "le",  "les", "los", "of",  "on",  "or",  "the", "this", "to",  "un",
    "une", "with",
};

static bool is_stop_word(const char *w, size_t len)
{
    for (size_t i = 0; i < RS_ARRAY_LEN(stop_words); i++)
        if (strlen(stop_words[i]) == len && !memcmp(stop_words[i], w, len))
            return true;
    return false;
}

/* ---- terms of one item ------------------------------------------------- */

/* Receives each term of an item with its raw value. */
typedef rs_err (*term_fn)(void *ctx, const char *term, size_t len, float raw);

#define TERM_MAX (RS_TEXT_MAX + 256)

/* prefix + text[0..len) (lower-cased when asked) as one term. */
static rs_err emit(term_fn fn, void *ctx, const char *prefix, const char *text, size_t len,
                   bool lower, float raw)
{
    char buf[TERM_MAX];
    size_t p = strlen(prefix);
    if (len == 0 || p + len > sizeof buf)
        return RS_OK;
    memcpy(buf, prefix, p);
    for (size_t i = 0; i < len; i++)
        buf[p + i] = lower ? (char)tolower((unsigned char)text[i]) : text[i];
    return fn(ctx, buf, p + len, raw);
}

static bool word_byte(unsigned char c)
{
    return isalnum(c) || c >= 0x80;
}

static rs_err title_terms(const char *title, term_fn fn, void *ctx)
{
    for (const char *p = title; *p;) {
        if (!word_byte((unsigned char)*p)) {
            p++;
            continue;
        }
        const char *w = p;
        bool digits = true;
        while (*p && word_byte((unsigned char)*p)) {
            digits = digits && isdigit((unsigned char)*p);
            p++;
        }
        const size_t len = (size_t)(p - w);
        char low[64];
        if (len < 2 || len > sizeof low || digits)
            continue;
        for (size_t i = 0; i < len; i++)
            low[i] = (char)tolower((unsigned char)w[i]);
        if (is_stop_word(low, len))
            continue;
        rs_err e = emit(fn, ctx, "w:", low, len, false, 1.0f);
        if (e)
            return e;
    }
    return RS_OK;
}

/* Numbers and booleans become n:<key>, short strings a:<key>=<value>. */
static rs_err attr_terms(const char *attrs, term_fn fn, void *ctx)
{
    json_t *root = json_loads(attrs, 0, NULL);
    if (!json_is_object(root)) {
        json_decref(root);
        return RS_OK; /* the store only holds objects; anything else has no terms */
    }
    rs_err e = RS_OK;
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v) {
        const size_t klen = strlen(key);
        if (klen == 0 || klen > 128)
            continue;
        if (json_is_number(v) || json_is_boolean(v)) {
            double x = json_is_boolean(v) ? (json_is_true(v) ? 1.0 : 0.0) : json_number_value(v);
            if (isfinite(x) && fabs(x) < 1e30)
                e = emit(fn, ctx, "n:", key, klen, false, (float)x);
        } else if (json_is_string(v) && json_string_length(v) <= 128) {
            char kv[300];
            int len = snprintf(kv, sizeof kv, "%s=%s", key, json_string_value(v));
            if (len > 0 && (size_t)len < sizeof kv && strlen(kv) == (size_t)len)
                e = emit(fn, ctx, "a:", kv, (size_t)len, false, 1.0f);
        }
        if (e)
            break;
    }
    json_decref(root);
    return e;
}

static rs_err item_terms(const rs_item *it, term_fn fn, void *ctx)
{
    rs_err e = RS_OK;
    if (it->category && (e = emit(fn, ctx, "c:", it->category, strlen(it->category), false, 1)))
        return e;
    if (it->brand && (e = emit(fn, ctx, "b:", it->brand, strlen(it->brand), false, 1)))
        return e;
    for (size_t t = 0; t < it->n_tags; t++)
        if ((e = emit(fn, ctx, "t:", it->tags[t], strlen(it->tags[t]), true, 1)))
            return e;
    if (it->title && (e = title_terms(it->title, fn, ctx)))
        return e;
    if (it->attrs && (e = attr_terms(it->attrs, fn, ctx)))
        return e;
    return RS_OK;
}

/* ---- rows -------------------------------------------------------------- */

typedef struct entry {
    uint32_t term;
    float value;
} entry;

static int by_term(const void *a, const void *b)
{
    const entry *x = a, *y = b;
    return (x->term > y->term) - (x->term < y->term);
}

/* Sorts a row by term and adds up repeated terms (a word's frequency).
 * Returns the new length. */
static size_t merge_row(entry *row, size_t n)
{
    if (n < 2)
        return n;
    qsort(row, n, sizeof *row, by_term);
    size_t m = 1;
    for (size_t i = 1; i < n; i++) {
        if (row[i].term == row[m - 1].term)
            row[m - 1].value += row[i].value;
        else
            row[m++] = row[i];
    }
    return m;
}

static bool numeric_term(const rs_content *c, uint32_t col)
{
    return rs_idmap_get(c->terms, col, NULL)[0] == 'n';
}

/* Weights a merged row in place (raw values become feature values) and
 * scales it to unit length. */
static void weigh_row(const rs_content *c, entry *row, size_t n)
{
    double norm = 0;
    for (size_t i = 0; i < n; i++) {
        const uint32_t t = row[i].term;
        float v;
        if (numeric_term(c, t)) {
            v = (row[i].value - c->mean[t]) * c->weight[t];
            v = v > 3.0f ? 3.0f : v < -3.0f ? -3.0f : v;
        } else {
            v = row[i].value * c->weight[t];
        }
        row[i].value = v;
        norm += (double)v * v;
    }
    const float scale = norm > 0 ? (float)(1.0 / sqrt(norm)) : 0.0f;
    for (size_t i = 0; i < n; i++)
        row[i].value *= scale;
}

typedef struct lookup {
    const rs_content *c;
    entry row[RS_CONTENT_MAX_ROW];
    size_t n, terms;
} lookup;

/* Only an item's first RS_CONTENT_MAX_ROW terms count, known or not, as
 * in the builder, so that both see the same terms. */
static rs_err on_known_term(void *ctx, const char *term, size_t len, float raw)
{
    lookup *l = ctx;
    if (l->terms++ >= RS_CONTENT_MAX_ROW)
        return RS_OK;
    uint32_t col = rs_idmap_find(l->c->terms, term, len);
    if (col != RS_INDEX_NONE)
        l->row[l->n++] = (entry){col, raw};
    return RS_OK;
}

size_t rs_content_features(const rs_content *c, const rs_item *it, uint32_t *idx, float *val)
{
    lookup *l = rs_xmalloc(sizeof *l);
    l->c = c;
    l->n = l->terms = 0;
    if (c->terms)
        (void)item_terms(it, on_known_term, l); /* on_known_term never fails */
    size_t n = merge_row(l->row, l->n);
    weigh_row(c, l->row, n);
    size_t out = 0;
    for (size_t i = 0; i < n; i++)
        if (l->row[i].value != 0.0f) {
            idx[out] = l->row[i].term;
            val[out++] = l->row[i].value;
        }
    rs_free(l);
    return out;
}

void rs_content_destroy(rs_content *c)
{
    rs_idmap_free(c->terms);
    rs_free(c->weight);
    rs_free(c->mean);
    memset(c, 0, sizeof *c);
}

/* ---- building over a catalogue ----------------------------------------- */

struct rs_content_builder {
    rs_idmap *raw;        /* every term seen */
    uint32_t *df;         /* per raw term: items having it */
    double *sum, *sumsq;  /* per raw term: numeric statistics */
    size_t term_cap;
    entry *entries;       /* every item's merged row, back to back */
    size_t n_entries, entry_cap;
    uint64_t *row_end;    /* per item: end of its row in entries */
    size_t n_items, item_cap;
    entry row[RS_CONTENT_MAX_ROW];  /* the item being added */
    size_t row_n;
};

rs_content_builder *rs_content_builder_new(void)
{
    rs_content_builder *cb = rs_xcalloc(1, sizeof *cb);
    cb->raw = rs_idmap_new();
    return cb;
}

void rs_content_builder_free(rs_content_builder *cb)
{
    if (!cb)
        return;
    rs_idmap_free(cb->raw);
    rs_free(cb->df);
    rs_free(cb->sum);
    rs_free(cb->sumsq);
    rs_free(cb->entries);
    rs_free(cb->row_end);
    rs_free(cb);
}

/* Grows *p (of elem-byte entries, *cap of them) to hold at least need. */
static bool grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return true;
    size_t n = *cap ? *cap * 2 : 1024;
    while (n < need)
        n *= 2;
    void *q = rs_try_reallocarray(*p, n, elem);
    if (!q)
        return false;
    *p = q;
    *cap = n;
    return true;
}

/* Doubles the per-term arrays. */
static bool grow_terms(rs_content_builder *cb)
{
    const size_t cap = cb->term_cap ? cb->term_cap * 2 : 1024;
    uint32_t *df = rs_try_reallocarray(cb->df, cap, sizeof *df);
    if (df)
        cb->df = df;
    double *sum = rs_try_reallocarray(cb->sum, cap, sizeof *sum);
    if (sum)
        cb->sum = sum;
    double *sumsq = rs_try_reallocarray(cb->sumsq, cap, sizeof *sumsq);
    if (sumsq)
        cb->sumsq = sumsq;
    if (!df || !sum || !sumsq)
        return false;
    cb->term_cap = cap;
    return true;
}

static rs_err on_raw_term(void *ctx, const char *term, size_t len, float raw)
{
    rs_content_builder *cb = ctx;
    uint32_t t;
    bool added;
    rs_err e = rs_idmap_intern(cb->raw, term, len, &t, &added);
    if (e)
        return e;
    if (added) {
        if (t >= cb->term_cap && !grow_terms(cb))
            return RS_ENOMEM;
        cb->df[t] = 0;
        cb->sum[t] = cb->sumsq[t] = 0;
    }
    if (cb->row_n < RS_CONTENT_MAX_ROW)
        cb->row[cb->row_n++] = (entry){t, raw};
    return RS_OK;
}

rs_err rs_content_builder_add(rs_content_builder *cb, const rs_item *it)
{
    cb->row_n = 0;
    rs_err e = item_terms(it, on_raw_term, cb);
    if (e)
        return e;
    const size_t n = merge_row(cb->row, cb->row_n);
    void *entries = cb->entries, *ends = cb->row_end;
    bool ok = grow(&entries, &cb->entry_cap, cb->n_entries + n, sizeof *cb->entries);
    cb->entries = entries;
    ok = ok && grow(&ends, &cb->item_cap, cb->n_items + 1, sizeof *cb->row_end);
    cb->row_end = ends;
    if (!ok)
        return RS_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        const entry en = cb->row[i];
        cb->df[en.term]++;
        cb->sum[en.term] += en.value;
        cb->sumsq[en.term] += (double)en.value * en.value;
        cb->entries[cb->n_entries++] = en;
    }
    cb->row_end[cb->n_items++] = cb->n_entries;
    return RS_OK;
}

/* A term with its document frequency, for the max_terms cut: most
 * frequent first, ties to the term seen first. */
typedef struct term_df {
    uint32_t df, term;
} term_df;

static int by_df(const void *a, const void *b)
{
    const term_df *x = a, *y = b;
    if (x->df != y->df)
        return x->df > y->df ? -1 : 1;
    return (x->term > y->term) - (x->term < y->term);
}

static int by_index(const void *a, const void *b)
{
    const uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* The kept raw terms, in the order they were first seen. */
static uint32_t *choose_terms(const rs_content_builder *cb, const rs_content_opts *o,
                              size_t *n_out)
{
    const size_t n_raw = rs_idmap_size(cb->raw);
    const uint32_t min_df = o && o->min_df ? o->min_df : RS_CONTENT_DEFAULT_MIN_DF;
    const uint32_t max_terms = o && o->max_terms ? o->max_terms : RS_CONTENT_DEFAULT_MAX_TERMS;
    uint32_t *keep = rs_try_reallocarray(NULL, n_raw ? n_raw : 1, sizeof *keep);
    if (!keep)
        return NULL;
    size_t n = 0;
    for (size_t t = 0; t < n_raw; t++)
        if (cb->df[t] >= min_df)
            keep[n++] = (uint32_t)t;
    if (n > max_terms) {
        term_df *order = rs_try_reallocarray(NULL, n, sizeof *order);
        if (!order) {
            rs_free(keep);
            return NULL;
        }
        for (size_t j = 0; j < n; j++)
            order[j] = (term_df){cb->df[keep[j]], keep[j]};
        qsort(order, n, sizeof *order, by_df);
        n = max_terms;
        for (size_t j = 0; j < n; j++)
            keep[j] = order[j].term;
        rs_free(order);
        qsort(keep, n, sizeof *keep, by_index);
    }
    *n_out = n;
    return keep;
}

/* The vocabulary of the chosen terms, with their weights. */
static rs_err make_vocab(const rs_content_builder *cb, const uint32_t *keep, size_t n,
                         rs_content *v)
{
    v->terms = rs_idmap_new();
    v->weight = rs_try_reallocarray(NULL, n ? n : 1, sizeof *v->weight);
    v->mean = rs_try_reallocarray(NULL, n ? n : 1, sizeof *v->mean);
    if (!v->weight || !v->mean)
        return RS_ENOMEM;
    const double items = (double)cb->n_items;
    for (size_t j = 0; j < n; j++) {
        const uint32_t t = keep[j];
        size_t len;
        const char *name = rs_idmap_get(cb->raw, t, &len);
        uint32_t col;
        rs_err e = rs_idmap_intern(v->terms, name, len, &col, NULL);
        if (e)
            return e;
        const double df = cb->df[t];
        if (name[0] == 'n') {
            const double mean = cb->sum[t] / df;
            const double var = cb->sumsq[t] / df - mean * mean;
            v->mean[j] = (float)mean;
            v->weight[j] = var > 1e-12 ? (float)(1.0 / sqrt(var)) : 0.0f;
        } else {
            v->mean[j] = 0.0f;
            v->weight[j] = (float)(log((1.0 + items) / (1.0 + df)) + 1.0);
        }
    }
    return RS_OK;
}

/* The feature matrix: each item's row mapped to the vocabulary and
 * weighted. */
static rs_err make_features(const rs_content_builder *cb, const rs_content *v,
                            const uint32_t *col_of, rs_csr *f)
{
    f->n_rows = (uint32_t)cb->n_items;
    f->n_cols = (uint32_t)rs_idmap_size(v->terms);
    f->indptr = rs_try_calloc(cb->n_items + 1, sizeof *f->indptr);
    f->indices = rs_try_reallocarray(NULL, cb->n_entries ? cb->n_entries : 1,
                                     sizeof *f->indices);
    f->values = rs_try_reallocarray(NULL, cb->n_entries ? cb->n_entries : 1, sizeof *f->values);
    entry *row = rs_try_reallocarray(NULL, RS_CONTENT_MAX_ROW, sizeof *row);
    if (!f->indptr || !f->indices || !f->values || !row) {
        rs_free(row);
        return RS_ENOMEM;
    }
    size_t nnz = 0, start = 0;
    for (size_t i = 0; i < cb->n_items; i++) {
        size_t n = 0;
        for (size_t j = start; j < cb->row_end[i]; j++)
            if (col_of[cb->entries[j].term] != RS_INDEX_NONE)
                row[n++] = (entry){col_of[cb->entries[j].term], cb->entries[j].value};
        start = cb->row_end[i];
        weigh_row(v, row, n); /* columns ascend: they keep the raw terms' order */
        for (size_t j = 0; j < n; j++)
            if (row[j].value != 0.0f) {
                f->indices[nnz] = row[j].term;
                f->values[nnz++] = row[j].value;
            }
        f->indptr[i + 1] = nnz;
    }
    f->nnz = nnz;
    rs_free(row);
    return RS_OK;
}

rs_err rs_content_builder_finish(rs_content_builder *cb, const rs_content_opts *o,
                                 rs_content *vocab, rs_csr *features)
{
    memset(vocab, 0, sizeof *vocab);
    memset(features, 0, sizeof *features);
    size_t n_keep = 0;
    const size_t n_raw = rs_idmap_size(cb->raw);
    uint32_t *keep = choose_terms(cb, o, &n_keep);
    uint32_t *col_of = rs_try_reallocarray(NULL, n_raw ? n_raw : 1, sizeof *col_of);
    rs_err e = keep && col_of ? RS_OK : RS_ENOMEM;
    if (!e) {
        for (size_t t = 0; t < n_raw; t++)
            col_of[t] = RS_INDEX_NONE;
        for (size_t j = 0; j < n_keep; j++)
            col_of[keep[j]] = (uint32_t)j;
        e = make_vocab(cb, keep, n_keep, vocab);
    }
    if (!e)
        e = make_features(cb, vocab, col_of, features);
    rs_free(keep);
    rs_free(col_of);
    if (e) {
        rs_content_destroy(vocab);
        rs_csr_destroy(features);
    }
    return e;
}
