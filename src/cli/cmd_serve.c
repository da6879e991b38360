/* recsys serve: the HTTP API over the store and the registry's production
 * model version. Runs until SIGTERM or SIGINT (then stops accepting,
 * finishes the requests in flight and exits 0, as PID 1 in a container
 * must); checks the registry for a new production version every --poll
 * and on SIGHUP, and swaps it in without dropping a request; trains in a
 * background thread every --retrain-every and on POST /v1/train. */
#include <cblas.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "core/log.h"
#include "models/fit.h"
#include "server/http.h"
#include "server/poller.h"
#include "server/scheduler.h"
#include "server/service.h"

typedef struct serve_conf {
    const char *db, *models, *listen, *roles, *api_key, *api_key_read, *name, *retrain_model;
    int64_t threads, body_limit, timeout, poll, retrain_every, foldin_users, keep;
    double tolerance;
    bool quiet, warm_start;
} serve_conf;

static const cli_opt opts[] = {
    {"db", CLI_STR, offsetof(serve_conf, db), "sqlite://recsys.db", false, "URL", "the store",
     NULL, 0, 0},
    {"models", CLI_STR, offsetof(serve_conf, models), "file://models", false, "URL",
     "the model store (file://DIR or s3://BUCKET/PREFIX)", NULL, 0, 0},
    {"model-name", CLI_STR, offsetof(serve_conf, name), RS_REGISTRY_DEFAULT_NAME, false,
     "NAME", "the model's name in the registry", NULL, 0, 0},
    {"listen", CLI_STR, offsetof(serve_conf, listen), "127.0.0.1:8080", false, "HOST:PORT",
     "address to serve HTTP on (port 0: any free port, printed at start)", NULL, 0, 0},
    {"threads", CLI_INT, offsetof(serve_conf, threads), "0", false, "N",
     "HTTP worker threads (0: one per core; never fewer than 2)", NULL, 0, 1024},
    {"body-limit", CLI_INT, offsetof(serve_conf, body_limit), "1048576", false, "BYTES",
     "largest request body accepted", NULL, 1024, 1 << 30},
    {"timeout", CLI_DURATION, offsetof(serve_conf, timeout), "30s", false, "DURATION",
     "close connections idle this long", NULL, 0, 0},
    {"poll", CLI_DURATION, offsetof(serve_conf, poll), "10s", false, "DURATION",
     "check the registry for a new production version this often (also on SIGHUP)", NULL, 0,
     0},
    {"foldin-users", CLI_INT, offsetof(serve_conf, foldin_users), "100000", false, "N",
     "users whose recommendations follow their new events at once (LRU)", NULL, 1, 1e8},
    {"quiet", CLI_BOOL, offsetof(serve_conf, quiet), "false", false, NULL,
     "no access-log line per request", NULL, 0, 0},
    {"roles", CLI_STR, offsetof(serve_conf, roles), "all", false, "LIST",
     "endpoints to mount: all, or some of input (users, items, events), collab, hybrid, "
     "popularity (recommendations by that strategy), admin (web UI, runs, models, training)",
     NULL, 0, 0},
    {"retrain-every", CLI_DURATION, offsetof(serve_conf, retrain_every), "0", false,
     "DURATION", "retrain in the background this often (0: only on POST /v1/train)", NULL, 0,
     0},
    {"retrain-model", CLI_STR, offsetof(serve_conf, retrain_model),
     "popularity,als,similar,hybrid", false, "LIST", "models each retraining trains", NULL, 0,
     0},
    {"warm-start", CLI_BOOL, offsetof(serve_conf, warm_start), "false", false, NULL,
     "retraining: start ALS from the production version's item factors", NULL, 0, 0},
    {"tolerance", CLI_F64, offsetof(serve_conf, tolerance), "0.01", false, "F",
     "retraining: relative drop of held-out ndcg still promoted", NULL, 0, 1},
    {"keep-versions", CLI_INT, offsetof(serve_conf, keep), "10", false, "N",
     "retraining: versions kept in the registry (0: all)", NULL, 0, 1e9},
    {"api-key", CLI_STR, offsetof(serve_conf, api_key), NULL, false, "KEY",
     "require 'Authorization: Bearer KEY' on write and admin endpoints", NULL, 0, 0},
    {"api-key-read", CLI_STR, offsetof(serve_conf, api_key_read), NULL, false, "KEY",
     "require this bearer token (or the API key) on read endpoints too", NULL, 0, 0},
};

/* Splits "HOST:PORT". Returns false after printing an error. */
static bool parse_listen(const char *s, char *host, size_t cap, uint16_t *port)
{
    const char *colon = strrchr(s, ':');
    char *end;
    long p = colon ? strtol(colon + 1, &end, 10) : -1;
    if (!colon || colon == s || (size_t)(colon - s) >= cap || !colon[1] || *end || p < 0 ||
        p > 65535) {
        cli_error("serve", "--listen: '%s' is not HOST:PORT (like 127.0.0.1:8080)", s);
        return false;
    }
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = '\0';
    *port = (uint16_t)p;
    return true;
}

cli_serve_conf cli_serve_defaults(const char *db, const char *models, const char *listen)
{
    return (cli_serve_conf){
        .db = db,
        .models = models,
        .listen = listen,
        .body_limit = 1 << 20,
        .timeout_ms = 30000,
        .poll_ms = 10000,
        .foldin_users = 100000,
        .access_log = true,
        .model_name = RS_REGISTRY_DEFAULT_NAME,
        .retrain_models = RS_MODEL_POPULARITY | RS_MODEL_ALS | RS_MODEL_SIMILAR |
                          RS_MODEL_HYBRID,
        .tolerance = RS_REGISTRY_DEFAULT_TOLERANCE,
        .keep_versions = RS_REGISTRY_DEFAULT_KEEP,
    };
}

/* What each training run of the server does: the defaults of `recsys
 * train` with the server's models, tolerance and retention. */
static rs_scheduler_opts scheduler_opts(const cli_serve_conf *c)
{
    rs_scheduler_opts o = {.db_url = c->db, .models_url = c->models,
                           .every_ms = c->retrain_every_ms};
    o.job = (rs_job_opts){.name = c->model_name,
                          .policy = {.mode = RS_PROMOTE_AUTO,
                                     .tolerance = c->tolerance,
                                     .keep = c->keep_versions},
                          .tmp_dir = cli_tmp_dir(),
                          .warm_start = c->warm_start};
    o.job.train = (rs_train_opts){.models = c->retrain_models, .agg = RS_AGG_SUM,
                                  .evaluate = true};
    o.job.train.eval.split = (rs_split_opts){.kind = RS_SPLIT_RANDOM, .test_fraction = 0.2,
                                             .seed = 42};
    o.job.train.eval.k = 10;
    rs_model_params_default(&o.job.train.eval.params);
    return o;
}

/* The thread that waits for the signals (set once, at startup). */
static pthread_t signal_waiter;

/* Runs when a stop or reload signal reaches a thread that does not block
 * it: one a library started before the signals were blocked (OpenBLAS
 * starts its pool when loaded). The signal is handed to the waiting
 * thread, which blocks it, so it stays pending there until sigwaitinfo
 * takes it; without this, such a SIGTERM would kill the process instead
 * of stopping it. */
static void forward_signal(int sig)
{
    const int saved = errno;
    pthread_kill(signal_waiter, sig);
    errno = saved;
}

/* Makes SIGTERM, SIGINT and SIGHUP reach only sigwaitinfo in this thread:
 * blocked here and in every thread started from here on, forwarded from
 * any other. Fills set with them. */
static void route_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGHUP);
    signal_waiter = pthread_self();
    pthread_sigmask(SIG_BLOCK, set, NULL);
    struct sigaction sa = {.sa_handler = forward_signal, .sa_flags = SA_RESTART};
    sigfillset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
}

/* Waits for SIGTERM or SIGINT; SIGHUP asks the poller for a reload. The
 * reloads themselves run in the poller's thread, so a stop is never held
 * up by a download. */
static void wait_for_stop(rs_service *svc, const sigset_t *set)
{
    for (;;) {
        siginfo_t info;
        int sig = sigwaitinfo(set, &info);
        if (sig == SIGTERM || sig == SIGINT) {
            rs_log_info("stopping", RS_S("signal", sig == SIGTERM ? "TERM" : "INT"));
            return;
        }
        if (sig == SIGHUP)
            rs_service_reload_soon(svc);
    }
}

int cli_serve(const cli_serve_conf *c)
{
    char host[256];
    uint16_t port;
    if (!parse_listen(c->listen, host, sizeof host, &port))
        return 2;
    /* Before anything starts threads (the first popularity fit may). */
    sigset_t set;
    route_signals(&set);
    rs_service svc;
    rs_diag d = {{0}};
    const long cores = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned threads = c->threads ? (unsigned)c->threads : (unsigned)(cores > 2 ? cores : 2);
    threads = threads < 2 ? 2 : threads; /* as the HTTP server does */
    const rs_service_opts so = {.db_url = c->db,
                                .models_url = c->models,
                                .model_name = c->model_name,
                                .tmp_dir = cli_tmp_dir(),
                                .foldin_capacity = c->foldin_users,
                                .store_handles = threads + 1 /* and the model poller */,
                                .roles = c->roles};
    rs_err e = rs_service_init(&svc, &so, &d);
    if (!e && (e = rs_service_set_keys(&svc, c->api_key, c->api_key_read, &d)))
        rs_service_destroy(&svc);
    const rs_scheduler_opts sched = scheduler_opts(c);
    if (!e && (e = rs_poller_start(&svc, c->poll_ms, &svc.poller, &d)))
        rs_service_destroy(&svc);
    if (!e && (e = rs_scheduler_start(&svc, &sched, &svc.scheduler, &d))) {
        rs_poller_stop(svc.poller);
        rs_service_destroy(&svc);
    }
    if (e) {
        cli_error("serve", "%s", d.msg);
        return rs_err_exit_code(e);
    }
    openblas_set_num_threads(1); /* requests run in parallel, not their BLAS calls */
    rs_http_opts ho = {
        .host = host,
        .port = port,
        .threads = threads,
        .body_limit = c->body_limit,
        .timeout_s = (unsigned)(c->timeout_ms / 1000),
        .access_log = c->access_log,
        .handler = rs_service_handle,
        .ctx = &svc,
    };
    rs_http *h;
    if ((e = rs_http_start(&ho, &h, &d))) {
        rs_scheduler_stop(svc.scheduler);
        rs_poller_stop(svc.poller);
        rs_service_destroy(&svc);
        cli_error("serve", "%s", d.msg);
        return rs_err_exit_code(e);
    }
    printf("serving on http://%s:%u\n", host, (unsigned)rs_http_port(h));
    fflush(stdout);
    char roles[80];
    rs_roles_format(svc.roles, roles, sizeof roles);
    rs_log_info("serving", RS_S("host", host), RS_U("port", rs_http_port(h)), RS_S("roles", roles),
                RS_U("threads", ho.threads), RS_S("api_key", svc.has_key ? "set" : "none"),
                RS_S("read_key", svc.has_read_key ? "set" : "none"),
                RS_I("retrain_every_ms", c->retrain_every_ms));
    wait_for_stop(&svc, &set);
    rs_http_stop(h);
    rs_scheduler_stop(svc.scheduler);
    rs_poller_stop(svc.poller);
    rs_service_destroy(&svc);
    rs_log_info("stopped");
    return 0;
}

static int run(const void *conf, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    const serve_conf *c = conf;
    unsigned roles;
    rs_diag rd = {{0}};
    if (rs_roles_parse(c->roles, &roles, &rd)) {
        cli_error("serve", "--roles: %s", rd.msg);
        return 2;
    }
    const unsigned retrain_models = cli_parse_models("serve", c->retrain_model);
    if (!retrain_models)
        return 2;
    const cli_serve_conf sc = {
        .db = c->db,
        .models = c->models,
        .listen = c->listen,
        .api_key = c->api_key,
        .api_key_read = c->api_key_read,
        .threads = (unsigned)c->threads,
        .body_limit = (size_t)c->body_limit,
        .timeout_ms = c->timeout,
        .poll_ms = c->poll,
        .foldin_users = (size_t)c->foldin_users,
        .access_log = !c->quiet,
        .model_name = c->name,
        .retrain_every_ms = c->retrain_every,
        .retrain_models = retrain_models,
        .tolerance = c->tolerance,
        .keep_versions = (size_t)c->keep,
        .warm_start = c->warm_start,
        .roles = roles,
    };
    return cli_serve(&sc);
}

const cli_cmd cli_cmd_serve = {
    .name = "serve",
    .summary = "serve recommendations and the API over HTTP",
    .args = "",
    .description =
        "Serves the HTTP API (recommendations, users, items, events, training runs, the\n"
        "model registry, /healthz, /readyz, /metrics; described at /docs and\n"
        "/openapi.json) from the store and the registry's production model version. With\n"
        "--api-key, writes and admin calls need 'Authorization: Bearer KEY'; set it through\n"
        "RECSYS_API_KEY rather than the command line. A new production version is picked\n"
        "up every --poll and on SIGHUP, fetched, checked against its checksum, loaded and\n"
        "verified beside the one serving, then swapped in; a version that fails is refused\n"
        "and the previous one keeps serving. A background thread trains every\n"
        "--retrain-every and on POST /v1/train, one run at a time, and swaps in a version\n"
        "that the promotion policy accepts. SIGTERM or SIGINT stop it gracefully (a\n"
        "training in progress stops early and is recorded as failed). Errors are\n"
        "application/problem+json. Example:\n"
        "  recsys serve --db sqlite://shop.db --models file://models --listen 0.0.0.0:8080\n"
        "               --retrain-every 6h",
    .opts = opts,
    .n_opts = RS_ARRAY_LEN(opts),
    .conf_size = sizeof(serve_conf),
    .min_args = 0,
    .max_args = 0,
    .run = run,
};
