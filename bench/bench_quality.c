/* bench_quality: the models x metrics table on public MovieLens data.
 *
 *   bench_quality [SHARED_DATA_DIR]   (default: the build's RS_SHARED_DATA)
 *
 * Ranking: ml-100k (u.data) and ml-latest-small (ratings.csv), random 80/20
 * split per user with seed 42, every rating counted as a positive
 * interaction, metrics at 10 (docs/metrics.md). Rating prediction: RMSE of
 * the explicit MF model on the canonical ml-100k u1.base / u1.test split.
 * One JSON line per result on stdout, a readable table on stderr. Data
 * sets that are absent are skipped with a message. */
#include <math.h>
#include <stdint.h>
#include <sys/stat.h>

#include "bench_util.h"
#include "core/alloc.h"
#include "core/log.h"
#include "core/timeutil.h"
#include "data/csv.h"
#include "data/dataset.h"
#include "data/import.h"
#include "eval/evaluate.h"
#include "eval/experiment.h"
#include "models/mf.h"

typedef struct variant {
    const char *label;
    unsigned model;
    void (*tweak)(rs_model_params *p);
} variant;

static void als_cholesky(rs_model_params *p)
{
    p->als.solver = RS_ALS_CHOLESKY;
}

static void als_classic(rs_model_params *p)
{
    p->als.reg = 0.01f;
    p->als.reg_count = 0;
}

static void knn_cosine(rs_model_params *p)
{
    p->knn.weight = RS_KNN_COSINE;
}

static const variant variants[] = {
    {"popularity", RS_MODEL_POPULARITY, NULL},
    {"als (cg)", RS_MODEL_ALS, NULL},
    {"als (cholesky)", RS_MODEL_ALS, als_cholesky},
    {"als (reg 0.01)", RS_MODEL_ALS, als_classic},
    {"similar", RS_MODEL_SIMILAR, NULL},
    {"knn (bm25)", RS_MODEL_KNN, NULL},
    {"knn (cosine)", RS_MODEL_KNN, knn_cosine},
    {"mf", RS_MODEL_MF, NULL},
};

typedef struct sink {
    const char *dataset, *label;
} sink;

static void on_result(void *ctx, const rs_model_result *r)
{
    const sink *s = ctx;
    char buf[2048];
    rs_model_result_json(r, RS_METRIC_ALL, buf, sizeof buf);
    printf("{\"bench\":\"quality\",\"dataset\":\"%s\",\"variant\":\"%s\",\"commit\":\"%s\","
           "\"result\":%s}\n",
           s->dataset, s->label, bench_commit(), buf);
    fflush(stdout);
    fprintf(stderr, "| %-16s | %-15s | %.4f | %.4f | %.4f | %.4f | %.3f | %7.3f |\n", s->dataset,
            s->label, r->topk.precision, r->topk.recall, r->topk.ndcg, r->topk.map,
            r->topk.coverage, r->fit_seconds);
}

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static int ranking(const char *root, const char *name, const char *probe, int format)
{
    char dir[4096], file[4200];
    snprintf(dir, sizeof dir, "%s/%s", root, name);
    snprintf(file, sizeof file, "%s/%s", dir, probe);
    if (!exists(file)) {
        fprintf(stderr, "bench_quality: %s is absent; skipping %s\n", file, name);
        return 0;
    }
    rs_dataset d;
    rs_dataset_opts dopts = {.agg = RS_AGG_LAST};
    rs_diag diag = {{0}};
    const char *paths[1] = {dir};
    if (rs_dataset_from_files(paths, 1, format, &dopts, &d, NULL, &diag)) {
        fprintf(stderr, "bench_quality: %s: %s\n", name, diag.msg);
        return 1;
    }
    int rc = 0;
    for (size_t v = 0; v < RS_ARRAY_LEN(variants) && !rc; v++) {
        rs_experiment_opts o = {.models = variants[v].model, .k = 10};
        o.split = (rs_split_opts){.kind = RS_SPLIT_RANDOM, .test_fraction = 0.2, .seed = 42};
        rs_model_params_default(&o.params);
        if (variants[v].tweak)
            variants[v].tweak(&o.params);
        sink s = {name, variants[v].label};
        if (rs_experiment_run(&d, &o, on_result, &s, &diag)) {
            fprintf(stderr, "bench_quality: %s %s: %s\n", name, variants[v].label, diag.msg);
            rc = 1;
        }
    }
    rs_dataset_destroy(&d);
    return rc;
}

static int rmse_u1(const char *root)
{
    char base[4096], test[4096];
    snprintf(base, sizeof base, "%s/ml-100k/u1.base", root);
    snprintf(test, sizeof test, "%s/ml-100k/u1.test", root);
    if (!exists(base) || !exists(test)) {
        fprintf(stderr, "bench_quality: %s is absent; skipping the RMSE\n", base);
        return 0;
    }
    uint32_t *bu, *bi, *tu, *ti;
    float *br, *tr;
    size_t bn, tn;
    if (bench_read_ratings(base, '\t', 0, &bu, &bi, &br, &bn) ||
        bench_read_ratings(test, '\t', 0, &tu, &ti, &tr, &tn))
        return 1;
    const uint32_t nu = 943, ni = 1682;
    rs_csr train, tst;
    rs_mf_model m;
    rs_mf_opts o;
    rs_mf_opts_default(&o);
    rs_diag d = {{0}};
    int rc = 1;
    if (!rs_csr_from_coo(nu, ni, bu, bi, br, NULL, bn, RS_AGG_LAST, &train) &&
        !rs_csr_from_coo(nu, ni, tu, ti, tr, NULL, tn, RS_AGG_LAST, &tst)) {
        double t0 = rs_mono_s();
        if (!rs_mf_fit(&train, &o, &m, &d)) {
            double fit = rs_mono_s() - t0, rmse, mae;
            if (!rs_eval_rating(rs_mf_predict, &m, &tst, &rmse, &mae, &d)) {
                printf("{\"bench\":\"quality\",\"dataset\":\"ml-100k u1\",\"variant\":\"mf\","
                       "\"commit\":\"%s\",\"rmse\":%.4f,\"mae\":%.4f,\"fit_seconds\":%.3f,"
                       "\"factors\":%u,\"epochs\":%u}\n",
                       bench_commit(), rmse, mae, fit, o.factors, o.iterations);
                fprintf(stderr, "\nml-100k u1.base/u1.test: mf RMSE %.4f, MAE %.4f (fit %.2f s)\n",
                        rmse, mae, fit);
                rc = 0;
            }
            rs_mf_destroy(&m);
        }
        rs_csr_destroy(&train);
        rs_csr_destroy(&tst);
    }
    if (rc)
        fprintf(stderr, "bench_quality: u1: %s\n", d.msg);
    rs_free(bu), rs_free(bi), rs_free(br), rs_free(tu), rs_free(ti), rs_free(tr);
    return rc;
}

int main(int argc, char **argv)
{
    const char *root = argc > 1 ? argv[1] : getenv("RS_SHARED_DATA");
    if (!root || !*root)
        root = RS_SHARED_DATA;
    rs_log_set_level(RS_LOG_WARN);
    fprintf(stderr, "| %-16s | %-15s | prec@10 | rec@10 | ndcg@10 | map@10 | cover | fit s |\n",
            "data", "model");
    int rc = ranking(root, "ml-100k", "u.data", RS_IMPORT_MOVIELENS_100K);
    rc |= ranking(root, "ml-latest-small", "ratings.csv", RS_IMPORT_MOVIELENS_CSV);
    rc |= rmse_u1(root);
    return rc;
}
