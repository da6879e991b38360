/* bench_train: seconds per ALS iteration and peak memory, for both
 * solvers, at k = 64 on 2 threads.
 *
 *   bench_train [SHARED_DATA_DIR [EVENTS [SOLVER]]]
 *
 * EVENTS defaults to 10000000; SOLVER is cg, cholesky or both (default).
 *
 * Data sets: MovieLens 100K (u.data: a full 15-iteration fit, 7 runs; the
 * median and the best are reported), and
 * EVENTS generated events (100,000 users and 60,000 items at 10M; the
 * catalogue is generated once into the build folder and reused). Every
 * event counts once (repeats are summed). One JSON line per (data set,
 * solver) on stdout; progress on stderr. */
#include <math.h>
#include <stdint.h>
#include <sys/stat.h>

#include "bench_util.h"
#include "core/timeutil.h"
#include "data/generate.h"
#include "models/als.h"

#define THREADS 2
#define FACTORS 64

typedef struct timing {
    double sum, first;
    unsigned n;
} timing;

static void on_iter(void *ctx, const rs_als_iter *it)
{
    timing *t = ctx;
    if (it->iteration == 1)
        t->first = it->seconds;
    else
        t->sum += it->seconds;
    t->n = it->iteration;
    fprintf(stderr, "  iteration %u/%u: %.3f s\n", it->iteration, it->iterations, it->seconds);
}

/* The solvers to measure: -1 for both. */
static int only_solver = -1;

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Fits `runs` times per solver (the machine's noise is large next to a
 * sub-second fit) and reports the median and the best run. */
static int measure(const char *name, const rs_csr *m, unsigned iterations, int runs)
{
    for (int s = 0; s < 2; s++) {
        if (only_solver >= 0 && s != only_solver)
            continue;
        double per_iter[16], total[16];
        long base = 0, peak = 0;
        for (int run = 0; run < runs; run++) {
            rs_als_opts o;
            rs_als_opts_default(&o);
            o.factors = FACTORS;
            o.iterations = iterations;
            o.threads = THREADS;
            o.solver = (rs_als_solver)s;
            timing t = {0};
            o.progress = on_iter;
            o.progress_ctx = &t;
            fprintf(stderr, "%s, %s, run %d/%d:\n", name, rs_als_solver_name(o.solver), run + 1,
                    runs);
            if (run == 0) {
                base = bench_status_kib("VmRSS");
                bench_reset_peak();
            }
            rs_als_model model;
            rs_diag d = {{0}};
            double t0 = rs_mono_s();
            if (rs_als_fit(m, &o, &model, &d)) {
                fprintf(stderr, "bench_train: %s\n", d.msg);
                return 1;
            }
            total[run] = rs_mono_s() - t0;
            if (run == 0)
                peak = bench_status_kib("VmHWM");
            per_iter[run] = t.n > 1 ? t.sum / (t.n - 1) : t.first;
            rs_als_destroy(&model);
        }
        qsort(per_iter, (size_t)runs, sizeof(double), cmp_double);
        qsort(total, (size_t)runs, sizeof(double), cmp_double);
        printf("{\"bench\":\"train\",\"dataset\":\"%s\",\"solver\":\"%s\",\"commit\":\"%s\","
               "\"users\":%u,\"items\":%u,\"interactions\":%zu,\"factors\":%d,\"threads\":%d,"
               "\"iterations\":%u,\"runs\":%d,\"seconds_per_iteration\":%.4f,"
               "\"seconds_per_iteration_best\":%.4f,\"fit_seconds\":%.4f,"
               "\"fit_seconds_best\":%.4f,\"peak_rss_mb\":%.1f,\"fit_added_rss_mb\":%.1f}\n",
               name, rs_als_solver_name((rs_als_solver)s), bench_commit(), m->n_rows, m->n_cols,
               m->nnz, FACTORS, THREADS, iterations, runs, per_iter[runs / 2], per_iter[0],
               total[runs / 2], total[0], peak / 1024.0, (peak - base) / 1024.0);
        fflush(stdout);
    }
    return 0;
}

/* Builds the CSR of u.data-like triplets with n_users x n_items. */
static int to_csr(uint32_t *u, uint32_t *i, float *r, size_t n, rs_csr *m)
{
    uint32_t nu = 0, ni = 0;
    for (size_t j = 0; j < n; j++) {
        nu = u[j] + 1 > nu ? u[j] + 1 : nu;
        ni = i[j] + 1 > ni ? i[j] + 1 : ni;
    }
    int rc = rs_csr_from_coo(nu, ni, u, i, r, NULL, n, RS_AGG_SUM, m) != RS_OK;
    rs_free(u);
    rs_free(i);
    rs_free(r);
    return rc;
}

static int movielens(const char *root)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/ml-100k/u.data", root);
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "bench_train: %s is absent; skipping ml-100k\n", path);
        return 0;
    }
    uint32_t *u, *i;
    float *r;
    size_t n;
    rs_csr m;
    if (bench_read_ratings(path, '\t', 0, &u, &i, &r, &n) || to_csr(u, i, r, n, &m))
        return 1;
    int rc = measure("ml-100k", &m, 15, 7);
    rs_csr_destroy(&m);
    return rc;
}

static int generated(uint64_t events)
{
    const uint32_t users = (uint32_t)(events / 100), items = (uint32_t)(events * 6 / 1000);
    char dir[4096], path[4200];
    snprintf(dir, sizeof dir, "%s/bench-data-%llu", RS_BENCH_DATA_DIR,
             (unsigned long long)events);
    snprintf(path, sizeof path, "%s/events.csv", dir);
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "bench_train: generating %llu events into %s (once)\n",
                (unsigned long long)events, dir);
        mkdir(dir, 0755);
        rs_gen_opts g = {.users = users, .items = items, .events = events, .seed = 42};
        rs_gen_report rep;
        rs_diag d = {{0}};
        if (rs_generate(dir, &g, &rep, &d)) {
            fprintf(stderr, "bench_train: %s\n", d.msg);
            return 1;
        }
    }
    uint32_t *u, *i;
    float *r;
    size_t n;
    rs_csr m;
    fprintf(stderr, "bench_train: reading %s\n", path);
    if (bench_read_ratings(path, ',', 1, &u, &i, &r, &n))
        return 1;
    for (size_t j = 0; j < n; j++)
        r[j] = 1.0f; /* every event counts once */
    if (to_csr(u, i, r, n, &m))
        return 1;
    char name[64];
    snprintf(name, sizeof name, "generated-%llu", (unsigned long long)events);
    int rc = measure(name, &m, 4, 1);
    rs_csr_destroy(&m);
    return rc;
}

int main(int argc, char **argv)
{
    const char *root = argc > 1 ? argv[1] : getenv("RS_SHARED_DATA");
    if (!root || !*root)
        root = RS_SHARED_DATA;
    uint64_t events = argc > 2 ? strtoull(argv[2], NULL, 10) : 10000000ull;
    if (argc > 3 && strcmp(argv[3], "both") != 0) {
        only_solver = rs_als_solver_parse(argv[3]);
        if (only_solver < 0) {
            fprintf(stderr, "bench_train: SOLVER must be cg, cholesky or both, not '%s'\n",
                    argv[3]);
            return 2;
        }
    }
    int rc = movielens(root);
    rc |= generated(events);
    return rc;
}
