/* recsys serve: the HTTP API over the store and the current model
 * version. Runs until SIGTERM or SIGINT (then stops accepting, finishes
 * the requests in flight and exits 0, as PID 1 in a container must); checks
 * the model store for a new version every --poll and on SIGHUP, and swaps
 * it in without dropping a request. */
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
#include "server/http.h"
#include "server/service.h"

typedef struct serve_conf {
    const char *db, *models, *listen, *roles, *api_key, *api_key_read;
    int64_t threads, body_limit, timeout, poll, retrain_every, foldin_users;
    bool quiet;
} serve_conf;

static const cli_opt opts[] = {
    {"db", CLI_STR, offsetof(serve_conf, db), "sqlite://recsys.db", false, "URL", "the store",
     NULL, 0, 0},
    {"models", CLI_STR, offsetof(serve_conf, models), "file://models", false, "URL",
     "the model store", NULL, 0, 0},
    {"listen", CLI_STR, offsetof(serve_conf, listen), "127.0.0.1:8080", false, "HOST:PORT",
     "address to serve HTTP on (port 0: any free port, printed at start)", NULL, 0, 0},
    {"threads", CLI_INT, offsetof(serve_conf, threads), "0", false, "N",
     "HTTP worker threads (0: one per core; never fewer than 2)", NULL, 0, 1024},
    {"body-limit", CLI_INT, offsetof(serve_conf, body_limit), "1048576", false, "BYTES",
     "largest request body accepted", NULL, 1024, 1 << 30},
    {"timeout", CLI_DURATION, offsetof(serve_conf, timeout), "30s", false, "DURATION",
     "close connections idle this long", NULL, 0, 0},
    {"poll", CLI_DURATION, offsetof(serve_conf, poll), "10s", false, "DURATION",
     "check the model store for a new version this often (also on SIGHUP)", NULL, 0, 0},
    {"foldin-users", CLI_INT, offsetof(serve_conf, foldin_users), "100000", false, "N",
     "users whose recommendations follow their new events at once (LRU)", NULL, 1, 1e8},
    {"quiet", CLI_BOOL, offsetof(serve_conf, quiet), "false", false, NULL,
     "no access-log line per request", NULL, 0, 0},
    {"roles", CLI_STR, offsetof(serve_conf, roles), "all", false, "LIST",
     "endpoints to mount (only 'all' in this version)", NULL, 0, 0},
    {"retrain-every", CLI_DURATION, offsetof(serve_conf, retrain_every), "0", false,
     "DURATION", "retrain in the background this often (not in this version)", NULL, 0, 0},
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
    };
}

/* The thread that waits for the signals (set once, at startup). */
static pthread_t signal_waiter;

/* Runs when a stop or reload signal reaches a thread that does not block
 * it: one a library started before the signals were blocked (OpenBLAS
 * starts its pool when loaded). The signal is handed to the waiting
 * thread, which blocks it, so it stays pending there until sigtimedwait
 * takes it; without this, a SIGTERM arriving while that thread is busy
 * (reloading a model) would kill the process instead of stopping it. */
static void forward_signal(int sig)
{
    const int saved = errno;
    pthread_kill(signal_waiter, sig);
    errno = saved;
}

/* Makes SIGTERM, SIGINT and SIGHUP reach only sigtimedwait in this thread:
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

/* Waits for signals; reloads the model on SIGHUP and every poll_ms. */
static void wait_for_stop(rs_service *svc, const sigset_t *set, int64_t poll_ms)
{
    for (;;) {
        struct timespec ts = {(time_t)(poll_ms / 1000), (long)(poll_ms % 1000) * 1000000L};
        siginfo_t info;
        int sig = sigtimedwait(set, &info, poll_ms > 0 ? &ts : NULL);
        if (sig == SIGTERM || sig == SIGINT) {
            rs_log_info("stopping", RS_S("signal", sig == SIGTERM ? "TERM" : "INT"));
            return;
        }
        if (sig < 0 && errno != EAGAIN)
            continue; /* EINTR */
        bool swapped;
        rs_diag d = {{0}};
        if (rs_service_reload(svc, &swapped, &d) != RS_OK)
            rs_log_warn("new model refused; serving the previous one", RS_S("reason", d.msg));
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
    rs_err e = rs_service_init(&svc, c->db, c->models, c->foldin_users, &d);
    if (!e && (e = rs_service_set_keys(&svc, c->api_key, c->api_key_read, &d)))
        rs_service_destroy(&svc);
    if (e) {
        cli_error("serve", "%s", d.msg);
        return rs_err_exit_code(e);
    }
    openblas_set_num_threads(1); /* requests run in parallel, not their BLAS calls */
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    rs_http_opts ho = {
        .host = host,
        .port = port,
        .threads = c->threads ? c->threads : (unsigned)(cores > 2 ? cores : 2),
        .body_limit = c->body_limit,
        .timeout_s = (unsigned)(c->timeout_ms / 1000),
        .access_log = c->access_log,
        .handler = rs_service_handle,
        .ctx = &svc,
    };
    rs_http *h;
    if ((e = rs_http_start(&ho, &h, &d))) {
        rs_service_destroy(&svc);
        cli_error("serve", "%s", d.msg);
        return rs_err_exit_code(e);
    }
    printf("serving on http://%s:%u\n", host, (unsigned)rs_http_port(h));
    fflush(stdout);
    rs_log_info("serving", RS_S("host", host), RS_U("port", rs_http_port(h)),
                RS_U("threads", ho.threads), RS_S("api_key", svc.has_key ? "set" : "none"),
                RS_S("read_key", svc.has_read_key ? "set" : "none"));
    wait_for_stop(&svc, &set, c->poll_ms);
    rs_http_stop(h);
    rs_service_destroy(&svc);
    rs_log_info("stopped");
    return 0;
}

static int run(const void *conf, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    const serve_conf *c = conf;
    if (strcmp(c->roles, "all") != 0) {
        cli_error("serve", "--roles: only 'all' is available in this version");
        return 2;
    }
    if (c->retrain_every) {
        cli_error("serve", "--retrain-every is not available in this version; refusing to "
                           "start without it");
        return 2;
    }
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
    };
    return cli_serve(&sc);
}

const cli_cmd cli_cmd_serve = {
    .name = "serve",
    .summary = "serve recommendations and the API over HTTP",
    .args = "",
    .description =
        "Serves the HTTP API (recommendations, users, items, events, /healthz, /readyz,\n"
        "/metrics; described at /docs and /openapi.json) from the store and the model\n"
        "store's current version. With --api-key, writes need 'Authorization: Bearer KEY';\n"
        "set it through RECSYS_API_KEY rather than the command line. A new\n"
        "version is picked up every --poll and on SIGHUP, loaded and verified beside the\n"
        "one serving, then swapped in; a version that fails to load is refused and the\n"
        "previous one keeps serving. SIGTERM or SIGINT stop it gracefully. Errors are\n"
        "application/problem+json. Example:\n"
        "  recsys serve --db sqlite://shop.db --models file://models --listen 0.0.0.0:8080",
    .opts = opts,
    .n_opts = RS_ARRAY_LEN(opts),
    .conf_size = sizeof(serve_conf),
    .min_args = 0,
    .max_args = 0,
    .run = run,
};
