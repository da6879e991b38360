/* Loading an rs_dataset from the store; see dataset.h. Store keys become
 * dense indices through a lookup table indexed by key (keys are nearly
 * dense in practice), or binary search when they are sparse. */
#include "dataset.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>

#include "core/alloc.h"
#include "core/hash.h"
#include "data/import.h"

/* Maps store keys (ascending as scanned) to dense indices 0..n-1. */
typedef struct key_index {
    int64_t *keys;      /* keys[i] = key of dense index i, ascending */
    size_t n, cap;
    uint32_t *direct;   /* direct[key] = index + 1 (0: unknown), or NULL */
    int64_t max_key;
} key_index;

static rs_err key_push(key_index *k, int64_t key)
{
    if (k->n == k->cap) {
        size_t cap = k->cap ? k->cap * 2 : 1024;
        int64_t *keys = rs_try_reallocarray(k->keys, cap, sizeof *keys);
        if (!keys)
            return RS_ENOMEM;
        k->keys = keys;
        k->cap = cap;
    }
    k->keys[k->n++] = key;
    if (key > k->max_key)
        k->max_key = key;
    return RS_OK;
}

/* Builds the direct table when keys are dense enough for it to be small. */
static void key_finish(key_index *k)
{
    if (k->max_key < 0 || (uint64_t)k->max_key > 4 * (uint64_t)k->n + 4096)
        return;
    k->direct = rs_try_calloc((size_t)k->max_key + 1, sizeof *k->direct);
    if (!k->direct)
        return; /* binary search still works */
    for (size_t i = 0; i < k->n; i++)
        if (k->keys[i] >= 0)
            k->direct[k->keys[i]] = (uint32_t)i + 1;
}

static uint32_t key_lookup(const key_index *k, int64_t key)
{
    if (k->direct)
        return key >= 0 && key <= k->max_key && k->direct[key] ? k->direct[key] - 1 : RS_INDEX_NONE;
    size_t lo = 0, hi = k->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (k->keys[mid] < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < k->n && k->keys[lo] == key ? (uint32_t)lo : RS_INDEX_NONE;
}

static void key_destroy(key_index *k)
{
    rs_free(k->keys);
    rs_free(k->direct);
}

/* One user's events as they arrive (in time order), to derive the time of
 * the latest event of each pair when the user's row is complete. */
typedef struct pair_time {
    uint32_t item;
    int64_t ts;
} pair_time;

typedef struct loader {
    rs_dataset *d;
    key_index users, items;
    rs_csr_builder b;
    pair_time *row;        /* the current user's events */
    size_t row_n, row_cap;
    uint32_t row_user;
    size_t ts_n, ts_cap;   /* entries filled / allocated in d->ts_ms */
    size_t attr_cap;       /* entries allocated in item_category / item_hidden */
    rs_content_builder *content;  /* with opts.content */
    rs_err err;
} loader;

static int by_item_then_time(const void *a, const void *b)
{
    const pair_time *x = a, *y = b;
    if (x->item != y->item)
        return x->item < y->item ? -1 : 1;
    return (x->ts > y->ts) - (x->ts < y->ts);
}

/* Appends the latest time of each distinct item of the buffered row to
 * d->ts_ms: sorted by item, these line up with the row's CSR entries,
 * which hold the same distinct items in ascending order. */
static rs_err flush_row_times(loader *l)
{
    if (!l->row_n)
        return RS_OK;
    qsort(l->row, l->row_n, sizeof *l->row, by_item_then_time);
    for (size_t i = 0; i < l->row_n; i++) {
        if (i + 1 < l->row_n && l->row[i + 1].item == l->row[i].item)
            continue;
        if (l->ts_n == l->ts_cap) {
            size_t cap = l->ts_cap ? l->ts_cap * 2 : 1024;
            int64_t *ts = rs_try_reallocarray(l->d->ts_ms, cap, sizeof *ts);
            if (!ts)
                return RS_ENOMEM;
            l->d->ts_ms = ts;
            l->ts_cap = cap;
        }
        l->d->ts_ms[l->ts_n++] = l->row[i].ts;
    }
    l->row_n = 0;
    return RS_OK;
}

static rs_err push_row_time(loader *l, uint32_t user, uint32_t item, int64_t ts)
{
    rs_err e;
    if (user != l->row_user && (e = flush_row_times(l)))
        return e;
    l->row_user = user;
    if (l->row_n == l->row_cap) {
        size_t cap = l->row_cap ? l->row_cap * 2 : 256;
        pair_time *row = rs_try_reallocarray(l->row, cap, sizeof *row);
        if (!row)
            return RS_ENOMEM;
        l->row = row;
        l->row_cap = cap;
    }
    l->row[l->row_n++] = (pair_time){item, ts};
    return RS_OK;
}

static int on_user(void *ctx, int64_t key, const char *id)
{
    loader *l = ctx;
    uint32_t idx;
    if ((l->err = rs_idmap_intern(l->d->users, id, strlen(id), &idx, NULL)) ||
        (l->err = key_push(&l->users, key)))
        return 1;
    return 0;
}

/* Records the category and hidden flag of item idx, growing the arrays by
 * doubling. */
static rs_err item_attrs_push(loader *l, uint32_t idx, const rs_item *it)
{
    rs_dataset *d = l->d;
    if (idx >= l->attr_cap) {
        size_t cap = l->attr_cap ? l->attr_cap * 2 : 1024;
        uint32_t *cat = rs_try_reallocarray(d->item_category, cap, sizeof *cat);
        if (!cat)
            return RS_ENOMEM;
        d->item_category = cat;
        uint8_t *hidden = rs_try_reallocarray(d->item_hidden, cap, 1);
        if (!hidden)
            return RS_ENOMEM;
        d->item_hidden = hidden;
        l->attr_cap = cap;
    }
    uint32_t c = RS_INDEX_NONE;
    if (it->category && it->category[0]) {
        rs_err e = rs_idmap_intern(d->categories, it->category, strlen(it->category), &c, NULL);
        if (e)
            return e;
    }
    d->item_category[idx] = c;
    d->item_hidden[idx] = it->hidden ? 1 : 0;
    return RS_OK;
}

static int on_item(void *ctx, int64_t key, const rs_item *it)
{
    loader *l = ctx;
    uint32_t idx;
    if ((l->err = rs_idmap_intern(l->d->items, it->id, strlen(it->id), &idx, NULL)) ||
        (l->err = key_push(&l->items, key)) || (l->err = item_attrs_push(l, idx, it)) ||
        (l->content && (l->err = rs_content_builder_add(l->content, it))))
        return 1;
    return 0;
}

static int on_event(void *ctx, const rs_event_row *r)
{
    loader *l = ctx;
    uint32_t u = key_lookup(&l->users, r->user_key), i = key_lookup(&l->items, r->item_key);
    if (u == RS_INDEX_NONE || i == RS_INDEX_NONE) {
        l->err = RS_ECORRUPT; /* an event whose user or item is not in the snapshot */
        return 1;
    }
    if ((l->err = rs_csr_builder_add(&l->b, u, i, r->value)) ||
        (l->err = push_row_time(l, u, i, r->ts_ms)))
        return 1;
    uint32_t value_bits;
    memcpy(&value_bits, &r->value, sizeof value_bits);
    uint64_t h = l->d->fingerprint ^ (uint64_t)r->user_key;
    h = rs_hash_mix(h) ^ (uint64_t)r->item_key ^ ((uint64_t)(uint32_t)r->type << 40);
    h = rs_hash_mix(h) ^ (uint64_t)r->ts_ms;
    l->d->fingerprint = rs_hash_mix(h ^ value_bits);
    l->d->events++;
    return 0;
}

static rs_err fail(rs_store *s, loader *l, rs_err e, rs_diag *diag, const char *what)
{
    if (e == RS_ECANCELED)
        e = l->err;
    if (e == RS_ECORRUPT)
        return rs_diag_fail(diag, e, "%s: an event refers to a user or item that is missing", what);
    if (e == RS_ENOMEM)
        return rs_diag_fail(diag, e, "%s: out of memory", what);
    return rs_diag_fail(diag, e, "%s: %s", what, rs_store_errmsg(s));
}

rs_err rs_dataset_load(rs_store *s, const rs_dataset_opts *opts, rs_dataset *out, rs_diag *diag)
{
    memset(out, 0, sizeof *out);
    out->users = rs_idmap_new();
    out->items = rs_idmap_new();
    out->categories = rs_idmap_new();
    loader l = {.d = out, .users = {.max_key = -1}, .items = {.max_key = -1},
                .content = opts->content ? rs_content_builder_new() : NULL};
    rs_store_counts counts;
    bool building = false;
    rs_err e = rs_store_begin_read(s);
    if (e) {
        e = fail(s, &l, e, diag, "reading the store");
        goto out;
    }
    if ((e = rs_store_get_counts(s, &counts)) ||
        (e = rs_store_scan_users(s, on_user, &l))) {
        e = fail(s, &l, e, diag, "reading users");
        goto out;
    }
    if ((e = rs_store_scan_items(s, on_item, &l))) {
        e = fail(s, &l, e, diag, "reading items");
        goto out;
    }
    if (l.content &&
        (e = rs_content_builder_finish(l.content, &opts->content_opts, &out->content,
                                       &out->features))) {
        e = fail(s, &l, e, diag, "building the item features");
        goto out;
    }
    key_finish(&l.users);
    key_finish(&l.items);
    /* The event count is an exact size hint: repeats only shrink the matrix. */
    e = rs_csr_builder_init(&l.b, (uint32_t)l.users.n, (uint32_t)l.items.n, counts.events,
                            opts->agg);
    if (e) {
        e = fail(s, &l, e, diag, "building the matrix");
        goto out;
    }
    building = true;
    /* The times take the same exact hint, so they never grow by copying. */
    if (counts.events > 0) {
        out->ts_ms = rs_try_reallocarray(NULL, counts.events, sizeof *out->ts_ms);
        if (!out->ts_ms) {
            e = fail(s, &l, RS_ENOMEM, diag, "building the matrix");
            goto out;
        }
        l.ts_cap = counts.events;
    }
    if ((e = rs_store_scan_events(s, on_event, &l))) {
        e = fail(s, &l, e, diag, "reading events");
        goto out;
    }
    if ((e = flush_row_times(&l))) {
        e = fail(s, &l, e, diag, "reading events");
        goto out;
    }
    out->newest_event_ms = counts.newest_event_ms;
    rs_csr_builder_finish(&l.b, &out->ui);
    building = false;
    RS_ASSERT(l.ts_n == out->ui.nnz);
    if (l.ts_n && l.ts_n < l.ts_cap) { /* repeats merged: give the tail back */
        int64_t *ts = rs_try_reallocarray(out->ts_ms, l.ts_n, sizeof *ts);
        if (ts)
            out->ts_ms = ts;
    }
out:
    if (building)
        rs_csr_builder_destroy(&l.b);
    rs_store_rollback(s);
    key_destroy(&l.users);
    key_destroy(&l.items);
    rs_free(l.row);
    rs_content_builder_free(l.content);
    if (e)
        rs_dataset_destroy(out);
    return e;
}

void rs_dataset_destroy(rs_dataset *d)
{
    rs_idmap_free(d->users);
    rs_idmap_free(d->items);
    rs_idmap_free(d->categories);
    rs_csr_destroy(&d->ui);
    rs_free(d->ts_ms);
    rs_free(d->item_category);
    rs_free(d->item_hidden);
    rs_content_destroy(&d->content);
    rs_csr_destroy(&d->features);
    memset(d, 0, sizeof *d);
}

static void count_bad_row(void *ctx, const char *file, uint64_t line, const char *reason)
{
    (void)file;
    (void)line;
    (void)reason;
    ++*(uint64_t *)ctx;
}

rs_err rs_dataset_from_files(const char *const *paths, size_t n_paths, int format,
                             const rs_dataset_opts *opts, rs_dataset *out, uint64_t *bad_rows,
                             rs_diag *diag)
{
    memset(out, 0, sizeof *out);
    const char *tmp = getenv("TMPDIR");
    char dir[4096], url[4200];
    snprintf(dir, sizeof dir, "%s/recsys-data-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir))
        return rs_diag_fail(diag, RS_EIO, "cannot create a temporary folder %s: %s", dir,
                            strerror(errno));
    snprintf(url, sizeof url, "sqlite://%s/data.db", dir);
    rs_store *s = NULL;
    uint64_t bad = 0;
    rs_err e = rs_store_open(url, &s, diag);
    if (!e) {
        rs_import_opts io = {.format = (rs_import_format)format, .on_bad_row = count_bad_row,
                             .ctx = &bad};
        rs_import_report r;
        e = rs_import(s, paths, n_paths, &io, &r, diag);
        if (!e)
            e = rs_dataset_load(s, opts, out, diag);
        rs_store_close(s);
    }
    static const char *const files[] = {"data.db", "data.db-wal", "data.db-shm", "data.db-journal"};
    for (size_t i = 0; i < RS_ARRAY_LEN(files); i++) {
        char p[4300];
        snprintf(p, sizeof p, "%s/%s", dir, files[i]);
        unlink(p);
    }
    rmdir(dir);
    if (bad_rows)
        *bad_rows = bad;
    return e;
}
