/* The evaluation loop (see evaluate.h). Per-user metrics land in an array
 * indexed by user and are summed in user order afterwards, so the means
 * are the same whatever the thread count and schedule. */
#include "evaluate.h"

#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdbool.h>
#include <string.h>

#include "core/alloc.h"
#include "core/timeutil.h"
#include "eval/metrics.h"

typedef struct per_user {
    rs_user_metrics m;
    double diversity, novelty;
    uint32_t *ranked;  /* k slots in the shared lists array */
    size_t n;
} per_user;

static void free_all(void *a, void *b, void *c, void *d, void *e, void *f)
{
    rs_free(a);
    rs_free(b);
    rs_free(c);
    rs_free(d);
    rs_free(e);
    rs_free(f);
}

/* The entries of m with a value of at least 0 into *out: the held-out
 * items that count as relevant (a negative value is a dislike). */
static rs_err positives(const rs_csr *m, rs_csr *out)
{
    rs_err e = rs_csr_copy(m, out);
    if (e)
        return e;
    size_t w = 0;
    for (uint32_t u = 0; u < m->n_rows; u++) {
        const uint64_t a = m->indptr[u], b = m->indptr[u + 1];
        out->indptr[u] = w;
        for (uint64_t j = a; j < b; j++)
            if (m->values[j] >= 0) {
                out->indices[w] = m->indices[j];
                out->values[w++] = m->values[j];
            }
    }
    out->indptr[m->n_rows] = w;
    out->nnz = w;
    return RS_OK;
}

static rs_err eval_relevant(const rs_recommender *r, const rs_csr *train, const rs_csr *test,
                            const rs_eval_opts *o, rs_eval_result *out, rs_diag *diag);

rs_err rs_eval_topk(const rs_recommender *r, const rs_csr *train, const rs_csr *test,
                    const rs_eval_opts *o, rs_eval_result *out, rs_diag *diag)
{
    memset(out, 0, sizeof *out);
    if (train->n_rows != test->n_rows || train->n_cols != test->n_cols)
        return rs_diag_fail(diag, RS_EINVAL, "train and test matrices differ in shape");
    bool negative = false;
    for (size_t j = 0; j < test->nnz && !negative; j++)
        negative = test->values[j] < 0;
    if (!negative)
        return eval_relevant(r, train, test, o, out, diag);
    rs_csr relevant;
    if (positives(test, &relevant) != RS_OK)
        return rs_diag_fail(diag, RS_ENOMEM, "out of memory for the held-out matrix");
    const rs_err e = eval_relevant(r, train, &relevant, o, out, diag);
    rs_csr_destroy(&relevant);
    return e;
}

/* rs_eval_topk with every held-out entry relevant. */
static rs_err eval_relevant(const rs_recommender *r, const rs_csr *train, const rs_csr *test,
                            const rs_eval_opts *o, rs_eval_result *out, rs_diag *diag)
{
    const double t0 = rs_mono_s();
    const size_t k = o->k ? o->k : 10;
    const uint32_t nu = test->n_rows, ni = test->n_cols;
    const int threads = o->threads > 0 ? o->threads : omp_get_max_threads();

    per_user *pu = rs_try_calloc(nu ? nu : 1, sizeof *pu);
    uint8_t *evaluated = rs_try_calloc(nu ? nu : 1, 1);
    uint8_t *shown = rs_try_calloc(ni ? ni : 1, 1);
    uint32_t *lists = rs_try_calloc(nu ? nu : 1, k * sizeof *lists);
    uint32_t *users_with = rs_try_calloc(ni ? ni : 1, sizeof *users_with);
    const size_t per_thread = k * sizeof(rs_scored) + r->scratch_bytes + 64;
    char *scratch = rs_try_calloc((size_t)threads, per_thread);
    if (!pu || !evaluated || !shown || !lists || !users_with || !scratch) {
        free_all(pu, evaluated, shown, lists, users_with, scratch);
        return rs_diag_fail(diag, RS_ENOMEM, "out of memory evaluating %u users", nu);
    }
    uint32_t train_users = 0;
    for (uint32_t u = 0; u < nu; u++) {
        train_users += train->indptr[u + 1] > train->indptr[u];
        for (uint64_t j = train->indptr[u]; j < train->indptr[u + 1]; j++)
            users_with[train->indices[j]]++;
    }

    rs_err err = RS_OK;
    /* Models may call BLAS per user: keep OpenBLAS single-threaded here. */
    const int blas_threads = openblas_get_num_threads();
    openblas_set_num_threads(1);
#pragma omp parallel num_threads(threads)
    {
        char *mine = scratch + (size_t)omp_get_thread_num() * per_thread;
        rs_scored *list = (rs_scored *)mine;
        char *end = (char *)(list + k);
        void *model_scratch = end + (64 - (uintptr_t)end % 64) % 64;
#pragma omp for schedule(dynamic, 64)
        for (uint32_t u = 0; u < nu; u++) {
            const uint64_t ta = test->indptr[u], tb = test->indptr[u + 1];
            rs_err e;
#pragma omp atomic read
            e = err;
            if (ta == tb || e)
                continue;
            const uint64_t a = train->indptr[u], b = train->indptr[u + 1];
            size_t n = 0;
            e = r->recommend(r->model, u, train->indices + a, (size_t)(b - a), k, list, &n,
                             model_scratch);
            if (e) {
#pragma omp atomic write
                err = e;
                continue;
            }
            uint32_t *ranked = lists + (size_t)u * k;
            for (size_t i = 0; i < n; i++)
                ranked[i] = list[i].index;
            pu[u].ranked = ranked;
            pu[u].n = n;
            rs_metrics_user(ranked, n, k, test->indices + ta, (size_t)(tb - ta), &pu[u].m);
            pu[u].diversity = o->item_category ? rs_metrics_diversity(ranked, n, o->item_category)
                                               : NAN;
            pu[u].novelty = rs_metrics_novelty(ranked, n, users_with, train_users);
            evaluated[u] = 1;
        }
    }
    openblas_set_num_threads(blas_threads);
    if (err) {
        free_all(pu, evaluated, shown, lists, users_with, scratch);
        return rs_diag_fail(diag, err, "%s: recommending failed: %s", r->name, rs_err_str(err));
    }

    for (uint32_t u = 0; u < nu; u++) {
        if (!evaluated[u])
            continue;
        out->users++;
        out->precision += pu[u].m.precision;
        out->recall += pu[u].m.recall;
        out->ndcg += pu[u].m.ndcg;
        out->map += pu[u].m.ap;
        out->hit_rate += pu[u].m.hit;
        out->diversity += pu[u].diversity;
        out->novelty += pu[u].novelty;
        for (size_t i = 0; i < pu[u].n; i++)
            shown[pu[u].ranked[i]] = 1;
    }
    const double n = out->users ? (double)out->users : NAN;
    out->precision /= n;
    out->recall /= n;
    out->ndcg /= n;
    out->map /= n;
    out->hit_rate /= n;
    out->diversity /= n;
    out->novelty /= n;
    size_t distinct = 0;
    for (uint32_t i = 0; i < ni; i++)
        distinct += shown[i];
    out->coverage = ni ? (double)distinct / ni : NAN;
    out->seconds = rs_mono_s() - t0;
    free_all(pu, evaluated, shown, lists, users_with, scratch);
    return RS_OK;
}

rs_err rs_eval_rating(rs_predict_fn predict, const void *model, const rs_csr *test, double *rmse,
                      double *mae, rs_diag *diag)
{
    float *pred = rs_try_malloc((test->nnz ? test->nnz : 1) * sizeof *pred);
    if (!pred)
        return rs_diag_fail(diag, RS_ENOMEM, "out of memory predicting %zu ratings", test->nnz);
    for (uint32_t u = 0; u < test->n_rows; u++)
        for (uint64_t j = test->indptr[u]; j < test->indptr[u + 1]; j++)
            pred[j] = predict(model, u, test->indices[j]);
    rs_metrics_errors(pred, test->values, test->nnz, rmse, mae);
    rs_free(pred);
    return RS_OK;
}
