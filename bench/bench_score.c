/* bench_score: microseconds per query of the serving scan, the top n of
 * x . Y[i] over every item, for the exact fp32 kernel
 * (rs_score_topk_blocked) and the compact index (rs_score_topk_index), and
 * a check that both return the same items with bit-identical scores.
 *
 *   bench_score [QUERIES [ROUNDS]]      (default 1000 queries, 5 rounds)
 *
 * Item factors and query vectors are standard normal ("normal"), or with
 * item norms spread over two orders of magnitude and queries leaning
 * towards a few items ("skewed", closer to trained factors), at 20,000 and
 * 100,000 items of 64 factors, n = 10. Each round times every query once
 * with one method, then once with the other (so each scan finds the cache
 * as a server running only that method would); p50 and p99 are over all
 * rounds. One JSON line per (data set, method) on stdout; exits 1 if the
 * methods ever disagree. */
#include <math.h>
#include <stdint.h>
#include <time.h>

#include "bench_util.h"
#include "core/rng.h"
#include "models/score.h"

#define FACTORS 64
#define TOP_N 10

typedef struct data {
    const char *name;
    uint32_t n_items;
    float *Y, *Yt, *X; /* (n_items, FACTORS), blocked, (queries, FACTORS) */
} data;

static double now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e6 + (double)t.tv_nsec * 1e-3;
}

static int by_value(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The q-quantile of v[0..n) (sorts v). */
static double quantile(double *v, size_t n, double q)
{
    qsort(v, n, sizeof *v, by_value);
    return v[(size_t)(q * (double)(n - 1))];
}

static void generate(data *d, const char *name, uint32_t n_items, size_t queries, bool skewed)
{
    rs_rng g;
    rs_rng_init(&g, n_items + (skewed ? 7u : 0u));
    d->name = name;
    d->n_items = n_items;
    d->Y = rs_xmalloc((size_t)n_items * FACTORS * sizeof *d->Y);
    d->X = rs_xmalloc(queries * FACTORS * sizeof *d->X);
    for (uint32_t i = 0; i < n_items; i++) {
        const double norm = skewed ? exp(1.2 * rs_rng_normal(&g)) : 1.0;
        for (size_t f = 0; f < FACTORS; f++)
            d->Y[(size_t)i * FACTORS + f] = (float)(norm * rs_rng_normal(&g));
    }
    for (size_t u = 0; u < queries; u++) {
        const float *lean = d->Y + (size_t)rs_rng_below(&g, n_items) * FACTORS;
        for (size_t f = 0; f < FACTORS; f++)
            d->X[u * FACTORS + f] =
                (float)(rs_rng_normal(&g) + (skewed ? 0.5 * lean[f] : 0.0));
    }
    d->Yt = rs_xmalloc(rs_blocked_floats(n_items, FACTORS) * sizeof *d->Yt);
    rs_block_factors(d->Y, n_items, FACTORS, d->Yt);
}

static void print_line(const data *d, const char *what, double *us, size_t n, size_t queries,
                       const char *extra)
{
    const double p99 = quantile(us, n, 0.99), p50 = quantile(us, n, 0.5);
    printf("{\"bench\":\"score\",\"what\":\"%s\",\"data\":\"%s\",\"items\":%u,\"factors\":%d,"
           "\"n\":%d,\"queries\":%zu,\"samples\":%zu,\"us_p50\":%.2f,\"us_p99\":%.2f,"
           "\"ops_per_s\":%.0f,\"threads\":1%s,\"commit\":\"%s\"}\n",
           what, d->name, d->n_items, FACTORS, TOP_N, queries, n, p50, p99, 1e6 / p50, extra,
           bench_commit());
}

/* Times both methods on d; returns 0, or 1 when they disagree. */
static int run(const data *d, size_t queries, int rounds)
{
    rs_item_index *ix;
    if (rs_item_index_new(d->Y, d->Yt, d->n_items, FACTORS, &ix)) {
        fprintf(stderr, "bench_score: out of memory\n");
        return 1;
    }
    const size_t samples = queries * (size_t)rounds;
    double *t_exact = rs_xmalloc(samples * sizeof *t_exact);
    double *t_index = rs_xmalloc(samples * sizeof *t_index);
    rs_scored *want = rs_xmalloc(queries * TOP_N * sizeof *want);
    rs_scored got[TOP_N];
    size_t rescored = 0, disagree = 0, sink = 0;
    rs_score_stats st = {0};
    for (int r = 0; r < rounds; r++) {
        for (size_t u = 0; u < queries; u++) {
            const double t0 = now_us();
            sink += rs_score_topk_blocked(d->Yt, d->n_items, FACTORS, d->X + u * FACTORS, TOP_N,
                                          NULL, NULL, want + u * TOP_N);
            t_exact[(size_t)r * queries + u] = now_us() - t0;
        }
        for (size_t u = 0; u < queries; u++) {
            const double t0 = now_us();
            size_t n = rs_score_topk_index(ix, d->X + u * FACTORS, TOP_N, NULL, NULL, got, &st);
            t_index[(size_t)r * queries + u] = now_us() - t0;
            rescored += st.rescored;
            disagree += n != TOP_N || memcmp(got, want + u * TOP_N, sizeof got) != 0;
        }
    }
    print_line(d, "exact_fp32", t_exact, samples, queries, "");
    char extra[160];
    snprintf(extra, sizeof extra,
             ",\"compact\":%s,\"rescored_per_query\":%.1f,\"index_bytes_per_item\":%.1f,"
             "\"disagreements\":%zu",
             rs_item_index_compact(ix) ? "true" : "false", (double)rescored / (double)samples,
             rs_item_index_compact(ix) ? FACTORS + 4.0 : 0.0, disagree);
    print_line(d, "index", t_index, samples, queries, extra);
    fflush(stdout);
    rs_item_index_free(ix);
    rs_free(t_exact);
    rs_free(t_index);
    rs_free(want);
    (void)sink;
    return disagree != 0;
}

int main(int argc, char **argv)
{
    const size_t queries = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000;
    const int rounds = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 5;
    if (queries == 0 || rounds <= 0) {
        fprintf(stderr, "usage: bench_score [QUERIES [ROUNDS]]\n");
        return 2;
    }
    const struct {
        const char *name;
        uint32_t items;
        bool skewed;
    } sets[] = {{"normal", 20000, false}, {"normal", 100000, false}, {"skewed", 20000, true},
                {"skewed", 100000, true}};
    int status = 0;
    for (size_t s = 0; s < sizeof sets / sizeof sets[0]; s++) {
        data d;
        generate(&d, sets[s].name, sets[s].items, queries, sets[s].skewed);
        status |= run(&d, queries, rounds);
        rs_free(d.Y);
        rs_free(d.Yt);
        rs_free(d.X);
    }
    return status;
}
