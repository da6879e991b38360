/* The Tree-structured Parzen Estimator (see tpe.h).
 *
 * Each dimension lives in a transformed space: x itself, or log x for the
 * log kinds; integer kinds widen [lo, hi] by half a unit on each side
 * (before the log) so that every whole number owns an interval of the same
 * width. An estimator over m values v_j of one dimension is the mixture
 *
 *     p(y) = sum_j w_j N_[low,high](y; v_j, s_j) + w_p N_[low,high](y; mid, high - low)
 *
 * of Gaussians truncated to [low, high], the last being the prior (mid the
 * centre). Weights: 1 each while m < 25, older values ramping down from 1
 * beyond that (optuna's default_weights), the prior prior_weight, all
 * normalised. Bandwidths as in optuna's univariate estimator: s_j is the
 * larger of the gaps to v_j's neighbours among the sorted values, the
 * prior's centre and the bounds, with the outermost two measured inward
 * only, then clipped to [(high - low) / min(100, m + 2), high - low].
 * Integer kinds score a value by the mass of its interval rather than a
 * density.
 *
 * All storage is allocated by rs_tpe_new and when observations grow;
 * proposals use scratch sized for the observations, grown with them. */
#include "tpe.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "core/alloc.h"
#include "core/rng.h"

#define RAMP_FLAT 25      /* newest observations at full weight (optuna) */
#define TRUNC_TRIES 64    /* rejection draws before falling back to uniform */
#define TINY 1e-300       /* floor of a probability before its log */

struct rs_tpe {
    rs_tpe_dim *dims;
    size_t n_dims;
    rs_tpe_opts o;
    rs_rng rng;
    /* Observations in the order recorded: x (n, n_dims) row-major in the
     * original space, their scores, and the ranking key parts. */
    double *x, *score;
    uint8_t *pruned;
    uint32_t *step;
    size_t n, cap;
    /* Scratch for a proposal, sized for cap observations plus the prior:
     * the ranking, one group's values, its mixture (mu, sigma, weight) and
     * the sorting buffer for the bandwidths. */
    size_t *order, *sorted;
    double *vals, *mu, *sigma, *w, *l_mu, *l_sigma, *l_w;
};

static const char *const status_names[] = {"finished", "pruned", "failed"};

const char *rs_trial_status_name(rs_trial_status s)
{
    return (unsigned)s < RS_ARRAY_LEN(status_names) ? status_names[s] : "?";
}

void rs_tpe_opts_default(rs_tpe_opts *o)
{
    *o = (rs_tpe_opts){.n_startup = RS_TPE_DEFAULT_STARTUP,
                       .n_candidates = RS_TPE_DEFAULT_CANDIDATES,
                       .gamma = RS_TPE_DEFAULT_GAMMA,
                       .max_good = RS_TPE_DEFAULT_MAX_GOOD,
                       .prior_weight = 1.0,
                       .seed = 0};
}

static bool is_int(rs_tpe_kind k)
{
    return k == RS_TPE_INT || k == RS_TPE_LOG_INT;
}

static bool is_log(rs_tpe_kind k)
{
    return k == RS_TPE_LOG || k == RS_TPE_LOG_INT;
}

static rs_err check_dim(const rs_tpe_dim *d, rs_diag *diag)
{
    const char *name = d->name ? d->name : "?";
    if ((unsigned)d->kind > RS_TPE_LOG_INT)
        return rs_diag_fail(diag, RS_EINVAL, "tpe: %s: unknown kind", name);
    if (!isfinite(d->lo) || !isfinite(d->hi) || !(d->lo < d->hi))
        return rs_diag_fail(diag, RS_EINVAL, "tpe: %s: needs finite bounds lo < hi", name);
    if (is_int(d->kind) && (d->lo != floor(d->lo) || d->hi != floor(d->hi)))
        return rs_diag_fail(diag, RS_EINVAL, "tpe: %s: integer bounds must be whole", name);
    if (d->kind == RS_TPE_LOG && !(d->lo > 0))
        return rs_diag_fail(diag, RS_EINVAL, "tpe: %s: a log range needs lo > 0", name);
    if (d->kind == RS_TPE_LOG_INT && !(d->lo >= 1))
        return rs_diag_fail(diag, RS_EINVAL, "tpe: %s: a log integer range needs lo >= 1", name);
    return RS_OK;
}

rs_err rs_tpe_new(const rs_tpe_dim *dims, size_t n_dims, const rs_tpe_opts *o, rs_tpe **out,
                  rs_diag *diag)
{
    *out = NULL;
    if (n_dims == 0)
        return rs_diag_fail(diag, RS_EINVAL, "tpe: the search space has no dimensions");
    for (size_t i = 0; i < n_dims; i++) {
        rs_err e = check_dim(&dims[i], diag);
        if (e)
            return e;
    }
    if (o->n_candidates == 0 || !(o->gamma > 0 && o->gamma <= 1) || o->max_good == 0 ||
        !(o->prior_weight > 0) || !isfinite(o->prior_weight))
        return rs_diag_fail(diag, RS_EINVAL, "tpe: needs candidates >= 1, gamma in (0, 1], "
                                             "max_good >= 1 and a positive prior weight");
    rs_tpe *t = rs_xcalloc(1, sizeof *t);
    t->dims = rs_xmalloc(n_dims * sizeof *t->dims);
    memcpy(t->dims, dims, n_dims * sizeof *dims);
    t->n_dims = n_dims;
    t->o = *o;
    rs_rng_init(&t->rng, o->seed);
    *out = t;
    return RS_OK;
}

void rs_tpe_free(rs_tpe *t)
{
    if (!t)
        return;
    rs_free(t->dims);
    rs_free(t->x);
    rs_free(t->score);
    rs_free(t->pruned);
    rs_free(t->step);
    rs_free(t->order);
    rs_free(t->sorted);
    rs_free(t->vals);
    rs_free(t->mu);
    rs_free(t->sigma);
    rs_free(t->w);
    rs_free(t->l_mu);
    rs_free(t->l_sigma);
    rs_free(t->l_w);
    rs_free(t);
}

size_t rs_tpe_count(const rs_tpe *t)
{
    return t->n;
}

/* ---- the transformed space ----------------------------------------------- */

/* The dimension's bounds in the transformed space. */
static void bounds(const rs_tpe_dim *d, double *low, double *high)
{
    double lo = d->lo, hi = d->hi;
    if (is_int(d->kind)) {
        lo -= 0.5;
        hi += 0.5;
    }
    *low = is_log(d->kind) ? log(lo) : lo;
    *high = is_log(d->kind) ? log(hi) : hi;
}

static double forward(const rs_tpe_dim *d, double x)
{
    return is_log(d->kind) ? log(x) : x;
}

/* Back to the original space: rounded and kept within [lo, hi]. */
static double backward(const rs_tpe_dim *d, double y)
{
    double x = is_log(d->kind) ? exp(y) : y;
    if (is_int(d->kind))
        x = round(x);
    return x < d->lo ? d->lo : x > d->hi ? d->hi : x;
}

/* ---- observations --------------------------------------------------------- */

/* Grows the observation arrays and the proposal scratch to hold n + 1. */
static void grow(rs_tpe *t)
{
    if (t->n < t->cap)
        return;
    const size_t cap = t->cap ? 2 * t->cap : 16, m = cap + 1, d = t->n_dims;
    t->x = rs_xreallocarray(t->x, cap * d, sizeof *t->x);
    t->score = rs_xreallocarray(t->score, cap, sizeof *t->score);
    t->pruned = rs_xreallocarray(t->pruned, cap, sizeof *t->pruned);
    t->step = rs_xreallocarray(t->step, cap, sizeof *t->step);
    t->order = rs_xreallocarray(t->order, m, sizeof *t->order);
    t->sorted = rs_xreallocarray(t->sorted, m, sizeof *t->sorted);
    t->vals = rs_xreallocarray(t->vals, m, sizeof *t->vals);
    t->mu = rs_xreallocarray(t->mu, m, sizeof *t->mu);
    t->sigma = rs_xreallocarray(t->sigma, m, sizeof *t->sigma);
    t->w = rs_xreallocarray(t->w, m, sizeof *t->w);
    t->l_mu = rs_xreallocarray(t->l_mu, m, sizeof *t->l_mu);
    t->l_sigma = rs_xreallocarray(t->l_sigma, m, sizeof *t->l_sigma);
    t->l_w = rs_xreallocarray(t->l_w, m, sizeof *t->l_w);
    t->cap = cap;
}

rs_err rs_tpe_observe(rs_tpe *t, const double *x, rs_trial_status status, double score,
                      uint32_t step)
{
    for (size_t i = 0; i < t->n_dims; i++)
        if (!(x[i] >= t->dims[i].lo && x[i] <= t->dims[i].hi))
            return RS_EINVAL;
    if (status == RS_TRIAL_FAILED || !isfinite(score))
        return RS_OK;
    grow(t);
    memcpy(t->x + t->n * t->n_dims, x, t->n_dims * sizeof *x);
    t->score[t->n] = score;
    t->pruned[t->n] = status == RS_TRIAL_PRUNED;
    t->step[t->n] = status == RS_TRIAL_PRUNED ? step : 0;
    t->n++;
    return RS_OK;
}

/* Does observation a rank above b? Finished before pruned; finished by
 * score; pruned by the step reached, then score; ties by age. */
static bool ranks_above(const rs_tpe *t, size_t a, size_t b)
{
    if (t->pruned[a] != t->pruned[b])
        return !t->pruned[a];
    if (t->pruned[a] && t->step[a] != t->step[b])
        return t->step[a] > t->step[b];
    if (t->score[a] != t->score[b])
        return t->score[a] > t->score[b];
    return a < b;
}

/* t->order[0..n) = the observations best first (insertion sort: n is a
 * trial count, small). */
static void rank(rs_tpe *t)
{
    for (size_t i = 0; i < t->n; i++) {
        size_t j = i;
        while (j > 0 && ranks_above(t, i, t->order[j - 1])) {
            t->order[j] = t->order[j - 1];
            j--;
        }
        t->order[j] = i;
    }
}

/* Sorts idx[0..n) ascending (insertion sort; n is small). */
static void sort_idx(size_t *idx, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        size_t v = idx[i], j = i;
        for (; j > 0 && idx[j - 1] > v; j--)
            idx[j] = idx[j - 1];
        idx[j] = v;
    }
}

/* ---- one estimator --------------------------------------------------------- */

typedef struct parzen {
    const double *mu, *sigma, *w;  /* m + 1 components, the prior last */
    size_t m;
    double low, high;
} parzen;

/* optuna's default_weights(m): ones for the newest RAMP_FLAT, a linear
 * ramp from 1/m up to 1 over the older ones (vals are in age order). */
static double age_weight(size_t j, size_t m)
{
    if (m < RAMP_FLAT || j >= m - RAMP_FLAT)
        return 1.0;
    const size_t n_ramp = m - RAMP_FLAT;
    if (n_ramp == 1)
        return 1.0 / (double)m;
    return 1.0 / (double)m + (1.0 - 1.0 / (double)m) * (double)j / (double)(n_ramp - 1);
}

/* Builds the estimator over vals[0..m) (transformed, in age order) into
 * mu/sigma/w (m + 1 each), using sorted (m + 1) as scratch. */
static parzen fit_parzen(const double *vals, size_t m, double low, double high,
                         double prior_weight, double *mu, double *sigma, double *w,
                         size_t *sorted)
{
    const double mid = 0.5 * (low + high), range = high - low;
    for (size_t j = 0; j < m; j++)
        mu[j] = vals[j];
    mu[m] = mid;
    /* Neighbour gaps among the values and the prior's centre, in sorted
     * order with the bounds at both ends. */
    for (size_t j = 0; j <= m; j++) {
        size_t v = j, i = j;
        for (; i > 0 && mu[sorted[i - 1]] > mu[v]; i--)
            sorted[i] = sorted[i - 1];
        sorted[i] = v;
    }
    const size_t c = m + 1; /* sorted centres */
    for (size_t i = 0; i < c; i++) {
        const double left = mu[sorted[i]] - (i > 0 ? mu[sorted[i - 1]] : low);
        const double right = (i + 1 < c ? mu[sorted[i + 1]] : high) - mu[sorted[i]];
        double s = left > right ? left : right;
        if (c >= 2 && i == 0)
            s = right; /* the outermost look inward only */
        if (c >= 2 && i == c - 1)
            s = left;
        sigma[sorted[i]] = s;
    }
    const double min_sigma = range / fmin(100.0, (double)m + 2.0);
    double total = prior_weight;
    for (size_t j = 0; j < m; j++) {
        sigma[j] = fmin(fmax(sigma[j], min_sigma), range);
        w[j] = age_weight(j, m);
        total += w[j];
    }
    sigma[m] = range;
    w[m] = prior_weight;
    for (size_t j = 0; j <= m; j++)
        w[j] /= total;
    return (parzen){mu, sigma, w, m, low, high};
}

static double phi_cdf(double z)
{
    return 0.5 * erfc(-z / sqrt(2.0));
}

/* log p(y) for a real dimension, or the log of the mass of [a, b] for an
 * integer one (a <= b, both within [low, high]). */
static double log_prob(const parzen *p, bool interval, double y, double a, double b)
{
    double sum = 0;
    for (size_t j = 0; j <= p->m; j++) {
        const double s = p->sigma[j], mu = p->mu[j];
        const double z = phi_cdf((p->high - mu) / s) - phi_cdf((p->low - mu) / s);
        if (!(z > 0))
            continue;
        double v;
        if (interval) {
            v = phi_cdf((b - mu) / s) - phi_cdf((a - mu) / s);
        } else {
            const double u = (y - mu) / s;
            v = exp(-0.5 * u * u) / (s * sqrt(2.0 * M_PI));
        }
        sum += p->w[j] * v / z;
    }
    return log(sum > TINY ? sum : TINY);
}

/* One draw from the mixture, within [low, high]. */
static double draw(const parzen *p, rs_rng *g)
{
    const double u = rs_rng_uniform(g);
    double acc = 0;
    size_t j = 0;
    for (; j < p->m; j++) {
        acc += p->w[j];
        if (u < acc)
            break;
    }
    for (int tries = 0; tries < TRUNC_TRIES; tries++) {
        const double y = p->mu[j] + p->sigma[j] * rs_rng_normal(g);
        if (y >= p->low && y <= p->high)
            return y;
    }
    return p->low + (p->high - p->low) * rs_rng_uniform(g);
}

/* ---- proposals -------------------------------------------------------------- */

/* The transformed values of dimension d for the observations idx[0..m). */
static void column(const rs_tpe *t, size_t d, const size_t *idx, size_t m, double *out)
{
    for (size_t j = 0; j < m; j++)
        out[j] = forward(&t->dims[d], t->x[idx[j] * t->n_dims + d]);
}

/* The score log l - log g of a candidate y (transformed) of dimension d. */
static double ratio(const rs_tpe_dim *dim, const parzen *l, const parzen *g, double *y)
{
    const double x = backward(dim, *y);
    if (!is_int(dim->kind)) {
        *y = forward(dim, x);
        return log_prob(l, false, *y, 0, 0) - log_prob(g, false, *y, 0, 0);
    }
    double a = forward(dim, x - 0.5), b = forward(dim, x + 0.5);
    a = a < l->low ? l->low : a;
    b = b > l->high ? l->high : b;
    *y = forward(dim, x);
    return log_prob(l, true, 0, a, b) - log_prob(g, true, 0, a, b);
}

/* The value of dimension d with the best ratio among n_candidates draws
 * from l, l over the good observations good[0..n_good), g over the rest. */
static double propose_dim(rs_tpe *t, size_t d, const size_t *good, size_t n_good,
                          const size_t *bad, size_t n_bad)
{
    const rs_tpe_dim *dim = &t->dims[d];
    double low, high;
    bounds(dim, &low, &high);
    column(t, d, good, n_good, t->vals);
    parzen l = fit_parzen(t->vals, n_good, low, high, t->o.prior_weight, t->l_mu, t->l_sigma,
                          t->l_w, t->sorted);
    column(t, d, bad, n_bad, t->vals);
    parzen g = fit_parzen(t->vals, n_bad, low, high, t->o.prior_weight, t->mu, t->sigma, t->w,
                          t->sorted);
    double best = 0, best_score = -INFINITY;
    for (uint32_t c = 0; c < t->o.n_candidates; c++) {
        double y = draw(&l, &t->rng);
        const double r = ratio(dim, &l, &g, &y);
        if (c == 0 || r > best_score) {
            best = y;
            best_score = r;
        }
    }
    return backward(dim, best);
}

void rs_tpe_suggest(rs_tpe *t, double *x)
{
    if (t->n < t->o.n_startup || t->n == 0) {
        for (size_t d = 0; d < t->n_dims; d++) {
            double low, high;
            bounds(&t->dims[d], &low, &high);
            x[d] = backward(&t->dims[d], low + (high - low) * rs_rng_uniform(&t->rng));
        }
        return;
    }
    rank(t);
    size_t n_good = (size_t)ceil(t->o.gamma * (double)t->n);
    n_good = n_good < 1 ? 1 : n_good > t->o.max_good ? t->o.max_good : n_good;
    /* Both groups back in age order, for the weights. The good group
     * stays at the front of order, the bad one follows. */
    size_t *good = t->order, *bad = t->order + n_good;
    sort_idx(good, n_good);
    sort_idx(bad, t->n - n_good);
    for (size_t d = 0; d < t->n_dims; d++)
        x[d] = propose_dim(t, d, good, n_good, bad, t->n - n_good);
}
