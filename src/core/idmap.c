/* String id <-> dense index map; see idmap.h for the layout. */
#include "idmap.h"

#include <string.h>

#include "alloc.h"
#include "hash.h"

struct rs_idmap {
    char *blob;          /* ids, each followed by a NUL; owned */
    size_t blob_len, blob_cap;
    uint64_t *offs;      /* offs[i] = start of id i in blob; n + 1 used */
    size_t n, offs_cap;
    uint32_t *slots;     /* index + 1 of the id in each slot, 0 = empty */
    size_t n_slots;      /* a power of two, >= 2n */
};

rs_idmap *rs_idmap_new(void)
{
    rs_idmap *m = rs_xcalloc(1, sizeof *m);
    m->offs_cap = 16;
    m->offs = rs_xmalloc(m->offs_cap * sizeof *m->offs);
    m->offs[0] = 0;
    m->n_slots = 32;
    m->slots = rs_xcalloc(m->n_slots, sizeof *m->slots);
    return m;
}

void rs_idmap_free(rs_idmap *m)
{
    if (!m)
        return;
    rs_free(m->blob);
    rs_free(m->offs);
    rs_free(m->slots);
    rs_free(m);
}

size_t rs_idmap_size(const rs_idmap *m)
{
    return m->n;
}

static size_t id_len(const rs_idmap *m, uint32_t i)
{
    return (size_t)(m->offs[i + 1] - m->offs[i] - 1);
}

/* The slot holding id, or the empty slot where it would go. */
static size_t probe(const uint32_t *slots, size_t n_slots, const rs_idmap *m, const char *id,
                    size_t len, uint64_t h)
{
    size_t mask = n_slots - 1;
    for (size_t s = (size_t)h & mask;; s = (s + 1) & mask) {
        uint32_t v = slots[s];
        if (v == 0)
            return s;
        uint32_t i = v - 1;
        if (id_len(m, i) == len && memcmp(m->blob + m->offs[i], id, len) == 0)
            return s;
    }
}

uint32_t rs_idmap_find(const rs_idmap *m, const char *id, size_t len)
{
    size_t s = probe(m->slots, m->n_slots, m, id, len, rs_hash_bytes(id, len));
    return m->slots[s] ? m->slots[s] - 1 : RS_INDEX_NONE;
}

static rs_err rehash(rs_idmap *m, size_t n_slots)
{
    uint32_t *slots = rs_try_calloc(n_slots, sizeof *slots);
    if (!slots)
        return RS_ENOMEM;
    for (uint32_t i = 0; i < m->n; i++) {
        const char *id = m->blob + m->offs[i];
        size_t s = probe(slots, n_slots, m, id, id_len(m, i), rs_hash_bytes(id, id_len(m, i)));
        slots[s] = i + 1;
    }
    rs_free(m->slots);
    m->slots = slots;
    m->n_slots = n_slots;
    return RS_OK;
}

rs_err rs_idmap_intern(rs_idmap *m, const char *id, size_t len, uint32_t *index, bool *added)
{
    uint64_t h = rs_hash_bytes(id, len);
    size_t s = probe(m->slots, m->n_slots, m, id, len, h);
    if (m->slots[s]) {
        *index = m->slots[s] - 1;
        if (added)
            *added = false;
        return RS_OK;
    }
    if (m->n >= RS_IDMAP_MAX_IDS)
        return RS_ETOOBIG;

    /* Reserve everything first so that a failure leaves the map unchanged. */
    if (m->blob_len + len + 1 > m->blob_cap) {
        size_t cap = m->blob_cap ? m->blob_cap : 1024;
        while (cap < m->blob_len + len + 1)
            cap *= 2;
        char *blob = rs_try_reallocarray(m->blob, cap, 1);
        if (!blob)
            return RS_ENOMEM;
        m->blob = blob;
        m->blob_cap = cap;
    }
    if (m->n + 2 > m->offs_cap) {
        uint64_t *offs = rs_try_reallocarray(m->offs, m->offs_cap * 2, sizeof *offs);
        if (!offs)
            return RS_ENOMEM;
        m->offs = offs;
        m->offs_cap *= 2;
    }
    if (2 * (m->n + 1) > m->n_slots) {
        rs_err e = rehash(m, m->n_slots * 2);
        if (e)
            return e;
        s = probe(m->slots, m->n_slots, m, id, len, h);
    }

    uint32_t i = (uint32_t)m->n;
    memcpy(m->blob + m->blob_len, id, len);
    m->blob[m->blob_len + len] = '\0';
    m->blob_len += len + 1;
    m->offs[i + 1] = m->blob_len;
    m->slots[s] = i + 1;
    m->n++;
    *index = i;
    if (added)
        *added = true;
    return RS_OK;
}

const char *rs_idmap_get(const rs_idmap *m, uint32_t index, size_t *len)
{
    RS_ASSERT(index < m->n);
    if (len)
        *len = id_len(m, index);
    return m->blob + m->offs[index];
}

size_t rs_idmap_memory(const rs_idmap *m)
{
    return sizeof *m + m->blob_cap + m->offs_cap * sizeof *m->offs +
           m->n_slots * sizeof *m->slots;
}
