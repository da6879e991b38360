/* Maximal marginal relevance re-ranking (see rerank.h). O(k n factors):
 * after each pick only the similarity to the new pick is computed. */
#include "rerank.h"

#include <math.h>
#include <string.h>

#include "core/idmap.h"

/* Per original candidate position: relevance, norm, the largest
 * similarity to anything picked; and the slot order. */
typedef struct mmr_state {
    float *rel, *norm, *max_sim;
    uint32_t *order;   /* slots [0, t) picked, the rest remaining */
    rs_scored *orig;   /* the pool as given */
} mmr_state;

size_t rs_mmr_scratch_bytes(size_t n)
{
    return n * (3 * sizeof(float) + sizeof(uint32_t) + sizeof(rs_scored));
}

static float similarity(const rs_mmr_input *in, const mmr_state *st, uint32_t a, uint32_t b)
{
    float sim = 0.0f;
    if (in->category && in->category[a] != RS_INDEX_NONE && in->category[a] == in->category[b])
        sim += 0.5f;
    const float *va = in->vec ? in->vec[a] : NULL, *vb = in->vec ? in->vec[b] : NULL;
    if (va && vb && st->norm[a] > 0.0f && st->norm[b] > 0.0f) {
        float dot = 0.0f;
        for (uint32_t c = 0; c < in->factors; c++)
            dot += va[c] * vb[c];
        const float cos = dot / (st->norm[a] * st->norm[b]);
        sim += cos > 0.0f ? 0.5f * cos : 0.0f;
    }
    return sim;
}

static void init_state(const rs_mmr_input *in, void *scratch, mmr_state *st)
{
    const size_t n = in->n;
    st->rel = scratch;
    st->norm = st->rel + n;
    st->max_sim = st->norm + n;
    st->order = (uint32_t *)(st->max_sim + n);
    st->orig = (rs_scored *)(st->order + n);
    memcpy(st->orig, in->pool, n * sizeof *st->orig);
    float lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        lo = fminf(lo, in->pool[i].score);
        hi = fmaxf(hi, in->pool[i].score);
    }
    const float span = hi > lo ? hi - lo : 1.0f;
    for (size_t i = 0; i < n; i++) {
        const float *v = in->vec ? in->vec[i] : NULL;
        float s = 0.0f;
        for (uint32_t c = 0; v && c < in->factors; c++)
            s += v[c] * v[c];
        st->rel[i] = (in->pool[i].score - lo) / span;
        st->norm[i] = sqrtf(s);
        st->max_sim[i] = 0.0f;
        st->order[i] = (uint32_t)i;
    }
}

size_t rs_mmr_rerank(rs_mmr_input *in, float lambda, size_t k, void *scratch)
{
    const size_t n = in->n, want = k < n ? k : n;
    if (!(lambda > 0.0f) || n < 2)
        return want;
    mmr_state st;
    init_state(in, scratch, &st);
    for (size_t t = 0; t < want; t++) {
        size_t best = t;
        float best_v = -INFINITY;
        for (size_t s = t; s < n; s++) {
            const uint32_t o = st.order[s];
            const float v = (1.0f - lambda) * st.rel[o] - lambda * st.max_sim[o];
            if (v > best_v) { /* ties keep the better-ranked candidate */
                best_v = v;
                best = s;
            }
        }
        const uint32_t p = st.order[best];
        st.order[best] = st.order[t];
        st.order[t] = p;
        for (size_t s = t + 1; s < n; s++) {
            const uint32_t o = st.order[s];
            const float sim = similarity(in, &st, o, p);
            if (sim > st.max_sim[o])
                st.max_sim[o] = sim;
        }
    }
    for (size_t t = 0; t < n; t++)
        in->pool[t] = st.orig[st.order[t]];
    return want;
}
