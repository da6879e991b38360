/* The model hyperparameter flags shared by train, eval and tune, and their
 * conversion into rs_model_params. The defaults are the library's own
 * (the RS_*_DEFAULT_* macros of each model's header), so --help shows
 * exactly what the library would use. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "models/fit.h"

static const char *const confidences[] = {"binary", "raw", "log1p", NULL};
static const char *const solvers[] = {"cg", "cholesky", NULL};
static const char *const knn_weights[] = {"cosine", "bm25", NULL};
static const char *const mf_solvers[] = {"gibbs", "sgd", NULL};

#define P(field) offsetof(cli_params, field)

const cli_opt cli_param_opts[] = {
    {"factors", CLI_INT, P(factors), RS_XSTR(RS_ALS_DEFAULT_FACTORS), false, "K", "als: latent factors", NULL, 1, 1024},
    {"iterations", CLI_INT, P(iterations), RS_XSTR(RS_ALS_DEFAULT_ITERATIONS), false, "N", "als: alternating iterations",
     NULL, 1, 1000},
    {"reg", CLI_F64, P(reg), RS_XSTR(RS_ALS_DEFAULT_REG), false, "L", "als: L2 regularisation per row", NULL, 0, 1e6},
    {"reg-count", CLI_F64, P(reg_count), RS_XSTR(RS_ALS_DEFAULT_REG_COUNT), false, "L",
     "als: plus this much per interaction of the row", NULL, 0, 1e6},
    {"reg-by-count", CLI_BOOL, P(reg_by_count), "false", false, NULL,
     "als: scale the regularisation by each user's/item's count (ALS-WR)", NULL, 0, 0},
    {"alpha", CLI_F64, P(alpha), RS_XSTR(RS_ALS_DEFAULT_ALPHA), false, "A", "als: confidence c = 1 + alpha * f(value)",
     NULL, 0, 1e6},
    {"confidence", CLI_ENUM, P(confidence), "log1p", false, "F", "als: f in the confidence",
     confidences, 0, 0},
    {"solver", CLI_ENUM, P(solver), "cg", false, "S", "als: solver", solvers, 0, 0},
    {"cg-steps", CLI_INT, P(cg_steps), RS_XSTR(RS_ALS_DEFAULT_CG_STEPS), false, "N", "als: conjugate gradient steps",
     NULL, 1, 100},
    {"similar", CLI_INT, P(similar), RS_XSTR(RS_SIMILAR_DEFAULT_NEIGHBOURS), false, "N", "similar: neighbours kept per item",
     NULL, 1, 10000},
    {"neighbours", CLI_INT, P(neighbours), RS_XSTR(RS_KNN_DEFAULT_NEIGHBOURS), false, "N", "knn: neighbours per item",
     NULL, 1, 100000},
    {"knn-weight", CLI_ENUM, P(knn_weight), "bm25", false, "W", "knn: weighting",
     knn_weights, 0, 0},
    {"bm25-k1", CLI_F64, P(bm25_k1), RS_XSTR(RS_KNN_DEFAULT_BM25_K1), false, "K1", "knn: BM25 k1", NULL, 0, 100},
    {"bm25-b", CLI_F64, P(bm25_b), RS_XSTR(RS_KNN_DEFAULT_BM25_B), false, "B", "knn: BM25 b", NULL, 0, 1},
    {"mf-factors", CLI_INT, P(mf_factors), RS_XSTR(RS_MF_DEFAULT_FACTORS), false, "K", "mf: latent factors", NULL, 1,
     1024},
    {"mf-solver", CLI_ENUM, P(mf_solver), "gibbs", false, "S",
     "mf: how to fit (Bayesian sampling needs no tuning)", mf_solvers, 0, 0},
    {"mf-iterations", CLI_INT, P(mf_iterations), RS_XSTR(RS_MF_DEFAULT_ITERATIONS), false, "N",
     "mf: sweeps (gibbs) or epochs (sgd)", NULL, 1, 10000},
    {"mf-burn-in", CLI_INT, P(mf_burn_in), RS_XSTR(RS_MF_DEFAULT_BURN_IN), false, "N",
     "mf: sweeps discarded before averaging (gibbs)", NULL, 0, 10000},
    {"mf-reg", CLI_F64, P(mf_reg), RS_XSTR(RS_MF_DEFAULT_REG), false, "L", "mf: L2 regularisation (SGD)", NULL, 0, 1e6},
    {"mf-lr", CLI_F64, P(mf_lr), RS_XSTR(RS_MF_DEFAULT_LR), false, "R", "mf: learning rate (SGD)", NULL, 0, 10},
    {"hybrid-reg", CLI_F64, P(hybrid_reg), RS_XSTR(RS_HYBRID_DEFAULT_REG), false, "L",
     "hybrid: ridge penalty of the content-to-factors map", NULL, 1e-6, 1e6},
    {"hybrid-blend", CLI_F64, P(hybrid_blend), RS_XSTR(RS_HYBRID_DEFAULT_BLEND), false, "N",
     "hybrid: interactions at which an item's collaborative and content vectors weigh alike",
     NULL, 0, 1e6},
    {"hybrid-min-count", CLI_INT, P(hybrid_min_count), RS_XSTR(RS_HYBRID_DEFAULT_MIN_COUNT),
     false, "N", "hybrid: interactions an item needs to train the map", NULL, 1, 1e9},
    {"min-df", CLI_INT, P(min_df), RS_XSTR(RS_CONTENT_DEFAULT_MIN_DF), false, "N",
     "hybrid: items a content term must appear on", NULL, 1, 1e9},
    {"max-terms", CLI_INT, P(max_terms), RS_XSTR(RS_CONTENT_DEFAULT_MAX_TERMS), false, "N",
     "hybrid: content terms kept (the most frequent)", NULL, 1, 16384},
    {"half-life", CLI_DURATION, P(half_life), "7d", false, "DURATION",
     "popularity: half-life of the trending score", NULL, 0, 0},
    {"threads", CLI_INT, P(threads), "0", false, "N", "threads (0: all cores)", NULL, 0, 1024},
};
const size_t cli_n_param_opts = RS_ARRAY_LEN(cli_param_opts);

void cli_params_apply(const cli_params *c, rs_model_params *p)
{
    rs_model_params_default(p);
    p->als.factors = (uint32_t)c->factors;
    p->als.iterations = (uint32_t)c->iterations;
    p->als.reg = (float)c->reg;
    p->als.reg_by_count = c->reg_by_count;
    p->als.reg_count = (float)c->reg_count;
    p->als.alpha = (float)c->alpha;
    p->als.conf = (rs_als_conf)c->confidence;
    p->als.solver = (rs_als_solver)c->solver;
    p->als.cg_steps = (uint32_t)c->cg_steps;
    p->similar.neighbours = (uint32_t)c->similar;
    p->knn.neighbours = (uint32_t)c->neighbours;
    p->knn.weight = (rs_knn_weight)c->knn_weight;
    p->knn.bm25_k1 = (float)c->bm25_k1;
    p->knn.bm25_b = (float)c->bm25_b;
    p->mf.factors = (uint32_t)c->mf_factors;
    p->mf.solver = (rs_mf_solver)c->mf_solver;
    p->mf.iterations = (uint32_t)c->mf_iterations;
    p->mf.burn_in = (uint32_t)c->mf_burn_in;
    p->mf.reg = (float)c->mf_reg;
    p->mf.lr = (float)c->mf_lr;
    p->hybrid.reg = (float)c->hybrid_reg;
    p->hybrid.blend = (float)c->hybrid_blend;
    p->hybrid.min_count = (uint32_t)c->hybrid_min_count;
    p->content.min_df = (uint32_t)c->min_df;
    p->content.max_terms = (uint32_t)c->max_terms;
    p->half_life_ms = (double)c->half_life;
    p->threads = (int)c->threads;
}

unsigned cli_parse_flags(const char *cmd, const char *flag, const char *list,
                         unsigned (*parse)(const char *name), const char *known)
{
    unsigned flags = 0;
    for (const char *p = list; *p;) {
        size_t len = strcspn(p, ",");
        char name[32];
        unsigned f = 0;
        if (len < sizeof name) {
            memcpy(name, p, len);
            name[len] = '\0';
            f = parse(name);
        }
        if (!f) {
            cli_error(cmd, "--%s: unknown %s '%.*s' (%ss: %s, or all)", flag, flag, (int)len, p,
                      flag, known);
            return 0;
        }
        flags |= f;
        p += len + (p[len] == ',');
    }
    if (!flags)
        cli_error(cmd, "--%s: no %s named", flag, flag);
    return flags;
}

static unsigned parse_model(const char *name)
{
    if (!strcmp(name, "all"))
        return RS_MODEL_POPULARITY | RS_MODEL_ALS | RS_MODEL_SIMILAR | RS_MODEL_KNN |
               RS_MODEL_MF | RS_MODEL_HYBRID;
    return rs_model_parse(name);
}

unsigned cli_parse_models(const char *cmd, const char *list)
{
    return cli_parse_flags(cmd, "model", list, parse_model, "popularity, als, similar, knn, mf, hybrid");
}
