/* Min-heap top-k; see topk.h. The heap keeps its worst entry at the root. */
#include "topk.h"

#include <math.h>
#include <stdlib.h>

#include "common.h"

void rs_topk_init(rs_topk *t, rs_scored *storage, size_t k)
{
    RS_ASSERT(k >= 1);
    t->heap = storage;
    t->k = k;
    t->n = 0;
}

/* True when a ranks below b (a is "worse"): the heap order. */
static int worse(const rs_scored *a, const rs_scored *b)
{
    return rs_scored_better(b->score, b->index, a->score, a->index);
}

static void sift_down(rs_scored *h, size_t n, size_t i)
{
    rs_scored x = h[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && worse(&h[c + 1], &h[c]))
            c++;
        if (!worse(&h[c], &x))
            break;
        h[i] = h[c];
        i = c;
    }
    h[i] = x;
}

static void sift_up(rs_scored *h, size_t i)
{
    rs_scored x = h[i];
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!worse(&x, &h[p]))
            break;
        h[i] = h[p];
        i = p;
    }
    h[i] = x;
}

void rs_topk_push_slow(rs_topk *t, uint32_t index, float score)
{
    rs_scored x = {index, score};
    if (t->n < t->k) {
        t->heap[t->n] = x;
        sift_up(t->heap, t->n++);
    } else {
        t->heap[0] = x;
        sift_down(t->heap, t->n, 0);
    }
}

float rs_topk_threshold(const rs_topk *t)
{
    return t->n == t->k ? t->heap[0].score : -INFINITY;
}

size_t rs_topk_finish(rs_topk *t)
{
    /* Heapsort in place: repeatedly move the worst entry to the end. */
    for (size_t n = t->n; n > 1; n--) {
        rs_scored worst = t->heap[0];
        t->heap[0] = t->heap[n - 1];
        sift_down(t->heap, n - 1, 0);
        t->heap[n - 1] = worst;
    }
    return t->n;
}

size_t rs_topk_select(const float *scores, size_t n, size_t k, rs_scored *out)
{
    rs_topk t;
    rs_topk_init(&t, out, k);
    for (size_t i = 0; i < n; i++)
        rs_topk_push(&t, (uint32_t)i, scores[i]);
    return rs_topk_finish(&t);
}
