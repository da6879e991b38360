/* The metric definitions of docs/metrics.md. */
#include "metrics.h"

#include <math.h>


/* Binary search in the ascending test set. */
static int contains(const uint32_t *a, size_t n, uint32_t x)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (a[mid] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && a[lo] == x;
}

void rs_metrics_user(const uint32_t *ranked, size_t n, size_t k, const uint32_t *test,
                     size_t n_test, rs_user_metrics *out)
{
    if (n > k)
        n = k;
    double dcg = 0, idcg = 0, ap = 0;
    size_t hits = 0;
    for (size_t i = 0; i < n; i++) {
        if (!contains(test, n_test, ranked[i]))
            continue;
        hits++;
        dcg += 1.0 / log2((double)i + 2.0);
        ap += (double)hits / (double)(i + 1);
    }
    const size_t ideal = n_test < k ? n_test : k;
    for (size_t i = 0; i < ideal; i++)
        idcg += 1.0 / log2((double)i + 2.0);
    out->precision = (double)hits / (double)k;
    out->recall = (double)hits / (double)n_test;
    out->ndcg = idcg > 0 ? dcg / idcg : 0;
    out->ap = ideal ? ap / (double)ideal : 0;
    out->hit = hits > 0;
}

double rs_metrics_diversity(const uint32_t *ranked, size_t n, const uint32_t *category)
{
    if (n < 2)
        return 0;
    size_t differ = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            differ += category[ranked[i]] != category[ranked[j]];
    return (double)differ / ((double)n * (double)(n - 1) / 2.0);
}

double rs_metrics_novelty(const uint32_t *ranked, size_t n, const uint32_t *users_with,
                          uint32_t n_users)
{
    if (!n)
        return 0;
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum -= log2(((double)users_with[ranked[i]] + 1.0) / ((double)n_users + 1.0));
    return sum / (double)n;
}

void rs_metrics_errors(const float *pred, const float *truth, size_t n, double *rmse, double *mae)
{
    if (!n) {
        *rmse = *mae = NAN;
        return;
    }
    double se = 0, ae = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)pred[i] - (double)truth[i];
        se += d * d;
        ae += fabs(d);
    }
    *rmse = sqrt(se / (double)n);
    *mae = ae / (double)n;
}
