/* Walker alias tables built with Vose's algorithm; see alias.h. The build
 * is O(n) time with two scratch arrays (n doubles, n indices) that are
 * freed before returning; sampling lives inline in the header. */
#include "alias.h"

#include <math.h>
#include <string.h>

#include "core/alloc.h"

/* Converts a probability in [0, 1] to an acceptance threshold on 32 random
 * bits. A probability that rounds to 2^32 is capped; the caller makes the
 * alias of such a column point at itself, so the cap changes nothing. */
static uint32_t threshold(double p)
{
    double t = p * 4294967296.0;
    if (!(t > 0.0))
        return 0;
    if (t >= 4294967295.0)
        return UINT32_MAX;
    return (uint32_t)t;
}

rs_err rs_alias_init(rs_alias *a, const double *w, uint32_t n)
{
    memset(a, 0, sizeof *a);
    if (n == 0)
        return RS_EINVAL;
    double total = 0.0;
    uint32_t positive = 0; /* some outcome of weight > 0 */
    for (uint32_t i = 0; i < n; i++) {
        if (!isfinite(w[i]) || w[i] < 0.0)
            return RS_EINVAL;
        if (w[i] > 0.0)
            positive = i;
        total += w[i];
    }
    if (!(total > 0.0) || !isfinite(total))
        return RS_EINVAL;

    double *p = rs_try_reallocarray(NULL, n, sizeof *p);
    uint32_t *stack = rs_try_reallocarray(NULL, n, sizeof *stack);
    a->accept = rs_try_reallocarray(NULL, n, sizeof *a->accept);
    a->alias = rs_try_reallocarray(NULL, n, sizeof *a->alias);
    if (!p || !stack || !a->accept || !a->alias) {
        rs_free(p);
        rs_free(stack);
        rs_alias_destroy(a);
        return RS_ENOMEM;
    }
    a->n = n;

    /* Scaled probabilities average 1. Columns below 1 ("small") are filled
     * up from columns above 1 ("large"). One array holds both work lists:
     * small grows up from index 0, large grows down from index n - 1. */
    size_t n_small = 0, n_large = 0;
    for (uint32_t i = 0; i < n; i++) {
        p[i] = w[i] * (double)n / total;
        if (p[i] < 1.0)
            stack[n_small++] = i;
        else
            stack[n - 1 - n_large++] = i;
    }
    while (n_small > 0 && n_large > 0) {
        uint32_t s = stack[--n_small];
        uint32_t l = stack[n - n_large]; /* top of the large list */
        a->accept[s] = threshold(p[s]);
        a->alias[s] = l;
        p[l] = (p[l] + p[s]) - 1.0;
        if (p[l] < 1.0) {
            /* l moves from the large list to the small one. */
            n_large--;
            stack[n_small++] = l;
        }
    }
    /* What is left is 1 up to rounding: such columns keep themselves,
     * except a weight-0 column stranded by rounding, which must never be
     * drawn and always defers to a positive one. */
    while (n_large > 0) {
        uint32_t l = stack[n - n_large--];
        a->accept[l] = UINT32_MAX;
        a->alias[l] = l;
    }
    while (n_small > 0) {
        uint32_t s = stack[--n_small];
        a->accept[s] = w[s] > 0.0 ? UINT32_MAX : 0;
        a->alias[s] = w[s] > 0.0 ? s : positive;
    }
    rs_free(p);
    rs_free(stack);
    return RS_OK;
}

void rs_alias_destroy(rs_alias *a)
{
    rs_free(a->accept);
    rs_free(a->alias);
    memset(a, 0, sizeof *a);
}
