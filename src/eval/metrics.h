/* Offline evaluation metrics, each defined once in docs/metrics.md.
 * Per-user ranking metrics take the recommended list (item indices, best
 * first, at most k of them, no duplicates) and the user's test items
 * (ascending, unique). Pure functions, thread-safe. */
#ifndef RS_EVAL_METRICS_H
#define RS_EVAL_METRICS_H

#include <stddef.h>
#include <stdint.h>

typedef struct rs_user_metrics {
    double precision;  /* hits / k */
    double recall;     /* hits / |test| */
    double ndcg;       /* binary-relevance DCG / ideal DCG over min(k, |test|) */
    double ap;         /* average precision at k, normalised by min(k, |test|) */
    double hit;        /* 1 when any recommended item is a test item */
} rs_user_metrics;

/* Ranking metrics of one user's list ranked[0..n) (n <= k) against
 * test[0..n_test) (n_test >= 1). */
void rs_metrics_user(const uint32_t *ranked, size_t n, size_t k, const uint32_t *test,
                     size_t n_test, rs_user_metrics *out);

/* Intra-list diversity: the share of unordered pairs of the list whose
 * items have different categories (category[item]; RS_INDEX_NONE counts
 * as a category of its own). 0 for lists shorter than two. */
double rs_metrics_diversity(const uint32_t *ranked, size_t n, const uint32_t *category);

/* Novelty: the mean over the list of -log2((users_with[i] + 1) /
 * (n_users + 1)), where users_with[i] is the number of training users
 * with item i. 0 for an empty list. */
double rs_metrics_novelty(const uint32_t *ranked, size_t n, const uint32_t *users_with,
                          uint32_t n_users);

/* Root mean squared and mean absolute error of pred against truth over n
 * pairs (NaN when n = 0). */
void rs_metrics_errors(const float *pred, const float *truth, size_t n, double *rmse,
                       double *mae);

#endif
