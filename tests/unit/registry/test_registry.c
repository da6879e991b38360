/* The model registry (src/registry/registry.c) against a real SQLite store
 * and a real file:// model store in the test folder: the promotion policy
 * and its notes, promotion by hand, the rollback chain, retention of rows
 * and artifacts, publish failures that must leave nothing behind, and
 * fetching with its checksum check. Also the run helpers of runs.c:
 * reaping runs whose process died, run ids and the JSON exports. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <jansson.h>
#include <math.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "fixtures.h"
#include "core/alloc.h"
#include "core/timeutil.h"
#include "registry/registry.h"
#include "registry/runs.h"
#include "store/store.h"

static int counter;

/* A small artifact file with distinct content; returns its path (static
 * rotating buffer of test_util.h). */
static const char *artifact(const char *content)
{
    char name[64];
    snprintf(name, sizeof name, "artifact-%d", ++counter);
    return rs_test_write(name, content, (size_t)-1);
}

static int count_object(void *ctx, const char *key, uint64_t size)
{
    (void)key;
    (void)size;
    ++*(size_t *)ctx;
    return 0;
}

static size_t n_objects(rs_objstore *o)
{
    size_t n = 0;
    rs_diag d = {{0}};
    assert_int_equal(rs_objstore_list(o, count_object, &n, &d), RS_OK);
    return n;
}

static bool file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* The local path of a file:// URI. */
static const char *uri_path(const char *uri)
{
    assert_true(strncmp(uri, "file://", 7) == 0);
    return uri + 7;
}

typedef struct pub {
    rs_store *s;
    rs_objstore *o;
    const char *name;
    rs_registry_policy policy;
} pub;

/* Publishes a new artifact with content `content` and held-out ndcg
 * `score` (NaN: none; then metrics are left out). */
static rs_registry_result publish(const pub *p, const char *run_id, const char *content,
                                  double score)
{
    char metrics[64];
    if (!isnan(score))
        snprintf(metrics, sizeof metrics, "{\"ndcg\": %.17g, \"k\": 10}", score);
    const rs_registry_entry e = {.name = p->name,
                                 .run_id = run_id,
                                 .artifact = artifact(content),
                                 .metrics = isnan(score) ? NULL : metrics,
                                 .score = score};
    rs_registry_result r;
    rs_diag d = {{0}};
    if (rs_registry_publish(p->s, p->o, &e, &p->policy, &r, &d))
        fail_msg("publish %s: %s", content, d.msg);
    return r;
}

/* The stages of name's versions, newest first ("3:production 2:archived"). */
static const char *stages(rs_store *s, const char *name, char *buf, size_t cap)
{
    rs_arena a;
    rs_arena_init(&a, 0);
    rs_model_version *vs;
    size_t n, used = 0;
    assert_int_equal(rs_store_list_model_versions(s, name, &a, &vs, &n), RS_OK);
    buf[0] = '\0';
    for (size_t i = 0; i < n && used < cap; i++)
        used += (size_t)snprintf(buf + used, cap - used, "%s%llu:%s", i ? " " : "",
                                 (unsigned long long)vs[i].version, vs[i].stage);
    rs_arena_destroy(&a);
    return buf;
}

/* Version `version` of name into *v (strings in arena a). */
static void get_version(rs_store *s, const char *name, uint64_t version, rs_arena *a,
                        rs_model_version *v)
{
    if (rs_store_get_model_version(s, name, version, a, v))
        fail_msg("version %llu of %s: %s", (unsigned long long)version, name,
                 rs_store_errmsg(s));
}

/* Promotion times are in milliseconds: steps that the rollback order
 * depends on are kept apart by a little more than one. */
static void next_ms(void)
{
    const int64_t t = rs_now_ms();
    while (rs_now_ms() <= t)
        usleep(200);
}

/* --- policy ----------------------------------------------------------------------- */

static void test_policy_parse_and_default(void **state)
{
    (void)state;
    assert_int_equal(rs_promote_mode_parse("auto"), RS_PROMOTE_AUTO);
    assert_int_equal(rs_promote_mode_parse("always"), RS_PROMOTE_ALWAYS);
    assert_int_equal(rs_promote_mode_parse("never"), RS_PROMOTE_NEVER);
    assert_int_equal(rs_promote_mode_parse("Auto"), -1);
    assert_int_equal(rs_promote_mode_parse(""), -1);
    assert_int_equal(rs_promote_mode_parse("sometimes"), -1);
    const rs_registry_policy p = rs_registry_policy_default();
    assert_int_equal(p.mode, RS_PROMOTE_AUTO);
    assert_float_equal(p.tolerance, RS_REGISTRY_DEFAULT_TOLERANCE, 0);
    assert_float_equal(p.tolerance, 0.01, 0);
    assert_int_equal(p.keep, RS_REGISTRY_DEFAULT_KEEP);
    assert_int_equal(p.keep, 10);
}

static void test_policy_auto(void **state)
{
    (void)state;
    char dir[600], buf[256];
    pub p = {.s = open_store(), .o = open_objects(dir, sizeof dir), .name = "default",
             .policy = rs_registry_policy_default()};
    rs_arena a;
    rs_arena_init(&a, 0);
    rs_model_version v;

    /* The first version goes to production. */
    rs_registry_result r = publish(&p, "run-1", "one", 0.30);
    assert_int_equal(r.version, 1);
    assert_true(r.promoted);
    assert_int_equal(r.replaced, 0);
    assert_non_null(strstr(r.note, "no version was in production"));
    get_version(p.s, "default", 1, &a, &v);
    assert_string_equal(v.stage, "production");
    assert_string_equal(v.note, r.note);
    assert_true(v.promoted_ms > 0);
    assert_non_null(v.run_id);
    assert_string_equal(v.run_id, "run-1");
    const int64_t v1_promoted = v.promoted_ms;

    /* Better: promoted; the old one archived with a note naming the new. */
    r = publish(&p, "run-2", "two", 0.31);
    assert_int_equal(r.version, 2);
    assert_true(r.promoted);
    assert_int_equal(r.replaced, 1);
    assert_non_null(strstr(r.note, "promoted"));
    get_version(p.s, "default", 1, &a, &v);
    assert_string_equal(v.stage, "archived");
    assert_string_equal(v.note, "replaced by version 2");
    assert_int_equal(v.promoted_ms, v1_promoted); /* kept: the rollback order needs it */

    /* Equal: promoted. */
    r = publish(&p, "run-3", "three", 0.31);
    assert_true(r.promoted);
    assert_int_equal(r.replaced, 2);
    /* Slightly worse but within the 1% tolerance (bar 0.3069): promoted. */
    r = publish(&p, "run-4", "four", 0.3075);
    assert_true(r.promoted);
    assert_int_equal(r.version, 4);
    assert_int_equal(r.replaced, 3);
    get_version(p.s, "default", 3, &a, &v);
    assert_string_equal(v.note, "replaced by version 4");

    /* Worse: a candidate, with both scores in the note. */
    r = publish(&p, "run-5", "five", 0.25);
    assert_int_equal(r.version, 5);
    assert_false(r.promoted);
    assert_int_equal(r.replaced, 0);
    assert_non_null(strstr(r.note, "kept as a candidate"));
    assert_non_null(strstr(r.note, "0.2500"));
    assert_non_null(strstr(r.note, "0.3075"));
    assert_non_null(strstr(r.note, "version 4"));
    get_version(p.s, "default", 5, &a, &v);
    assert_string_equal(v.stage, "candidate");
    assert_string_equal(v.note, r.note);
    assert_int_equal(v.promoted_ms, 0);

    /* Not evaluated (NaN): a candidate. */
    r = publish(&p, "run-6", "six", NAN);
    assert_false(r.promoted);
    assert_non_null(strstr(r.note, "not evaluated"));
    assert_string_equal(stages(p.s, "default", buf, sizeof buf),
                        "6:candidate 5:candidate 4:production 3:archived 2:archived "
                        "1:archived");
    get_version(p.s, "default", 0, &a, &v);
    assert_int_equal(v.version, 4);
    assert_string_equal(v.metrics, "{\"k\":10,\"ndcg\":0.3075}");
    /* What was registered matches the artifact. */
    char sha[RS_SHA256_HEX];
    rs_diag d = {{0}};
    assert_int_equal(rs_sha256_file(uri_path(v.uri), sha, &d), RS_OK);
    assert_string_equal(v.checksum, sha);
    assert_int_equal(v.size_bytes, 4); /* "four" */
    assert_non_null(strstr(v.uri, "model-run-4.rsm"));
    assert_int_equal(n_objects(p.o), 6);

    rs_arena_destroy(&a);
    rs_objstore_close(p.o);
    rs_store_close(p.s);
}

static void test_policy_tolerance_edges(void **state)
{
    (void)state;
    char dir[600];
    pub p = {.s = open_store(), .o = open_objects(dir, sizeof dir), .name = "tol",
             .policy = rs_registry_policy_default()};
    p.policy.tolerance = 0.1;
    assert_true(publish(&p, "t1", "a", 0.5).promoted);
    assert_false(publish(&p, "t2", "b", 0.449).promoted); /* bar 0.45 */
    assert_true(publish(&p, "t3", "c", 0.451).promoted);
    /* Zero tolerance: equal still passes, a hair worse does not. */
    p.policy.tolerance = 0;
    assert_true(publish(&p, "t4", "d", 0.451).promoted);
    assert_false(publish(&p, "t5", "e", 0.4509).promoted);
    rs_objstore_close(p.o);
    rs_store_close(p.s);
}

static void test_policy_production_without_score(void **state)
{
    (void)state;
    char dir[600];
    pub p = {.s = open_store(), .o = open_objects(dir, sizeof dir), .name = "m",
             .policy = rs_registry_policy_default()};
    rs_registry_result r = publish(&p, "u1", "unscored", NAN);
    assert_true(r.promoted); /* first: nothing to compare with */
    r = publish(&p, "u2", "scored", 0.01);
    assert_true(r.promoted);
    assert_int_equal(r.replaced, 1);
    assert_non_null(strstr(r.note, "no held-out score"));
    rs_objstore_close(p.o);
    rs_store_close(p.s);
}

static void test_policy_modes(void **state)
{
    (void)state;
    char dir[600], buf[128];
    pub p = {.s = open_store(), .o = open_objects(dir, sizeof dir), .name = "never",
             .policy = rs_registry_policy_default()};
    /* never: even the first version stays a candidate. */
    p.policy.mode = RS_PROMOTE_NEVER;
    rs_registry_result r = publish(&p, "n1", "n1", 0.9);
    assert_false(r.promoted);
    assert_non_null(strstr(r.note, "automatic promotion is off"));
    rs_arena a;
    rs_arena_init(&a, 0);
    rs_model_version v;
    assert_int_equal(rs_store_get_model_version(p.s, "never", 0, &a, &v), RS_ENOTFOUND);

    /* always: worse and unevaluated versions go to production too. */
    p.name = "always";
    p.policy.mode = RS_PROMOTE_ALWAYS;
    assert_true(publish(&p, "a1", "a1", 0.9).promoted);
    r = publish(&p, "a2", "a2", 0.1);
    assert_true(r.promoted);
    assert_int_equal(r.replaced, 1);
    assert_non_null(strstr(r.note, "every new version is promoted"));
    r = publish(&p, "a3", "a3", NAN);
    assert_true(r.promoted);
    assert_int_equal(r.replaced, 2);
    assert_string_equal(stages(p.s, "always", buf, sizeof buf),
                        "3:production 2:archived 1:archived");
    get_version(p.s, "always", 2, &a, &v);
    assert_string_equal(v.note, "replaced by version 3");
    rs_arena_destroy(&a);
    rs_objstore_close(p.o);
    rs_store_close(p.s);
}

/* --- promotion and rollback --------------------------------------------------------- */

static void test_promote_by_hand(void **state)
{
    (void)state;
    char dir[600], buf[128];
    pub p = {.s = open_store(), .o = open_objects(dir, sizeof dir), .name = "m",
             .policy = rs_registry_policy_default()};
    rs_arena a;
    rs_arena_init(&a, 0);
    rs_model_version v;
    rs_diag d = {{0}};
    uint64_t replaced = 99;
    /* With nothing in production, promoting replaces nothing. */
    p.policy.mode = RS_PROMOTE_NEVER;
    publish(&p, "p1", "p1", 0.5);
    publish(&p, "p2", "p2", 0.1);
    assert_int_equal(rs_registry_promote(p.s, "m", 1, &replaced, &d), RS_OK);
    assert_int_equal(replaced, 0);
    get_version(p.s, "m", 1, &a, &v);
    assert_string_equal(v.stage, "production");
    assert_string_equal(v.note, "promoted by hand");
    assert_true(v.promoted_ms > 0);

    /* Promoting a worse candidate by hand works; the old one is archived. */
    next_ms();
    assert_int_equal(rs_registry_promote(p.s, "m", 2, &replaced, &d), RS_OK);
    assert_int_equal(replaced, 1);
    assert_string_equal(stages(p.s, "m", buf, sizeof buf), "2:production 1:archived");
    get_version(p.s, "m", 1, &a, &v);
    assert_string_equal(v.note, "replaced by version 2");
    get_version(p.s, "m", 2, &a, &v);
    const int64_t promoted = v.promoted_ms;
    assert_true(promoted > 0);

    /* Promoting the production version is a no-op. */
    next_ms();
    replaced = 99;
    assert_int_equal(rs_registry_promote(p.s, "m", 2, &replaced, &d), RS_OK);
    assert_int_equal(replaced, 0);
    get_version(p.s, "m", 2, &a, &v);
    assert_string_equal(v.stage, "production");
    assert_int_equal(v.promoted_ms, promoted);
    assert_string_equal(stages(p.s, "m", buf, sizeof buf), "2:production 1:archived");

    /* Unknown versions and names. */
    assert_int_equal(rs_registry_promote(p.s, "m", 9, &replaced, &d), RS_ENOTFOUND);
    assert_non_null(strstr(d.msg, "9"));
    assert_int_equal(rs_registry_promote(p.s, "nobody", 1, &replaced, &d), RS_ENOTFOUND);
    assert_int_equal(rs_registry_promote(p.s, "bad name", 1, &replaced, &d), RS_EINVAL);
    assert_string_equal(stages(p.s, "m", buf, sizeof buf), "2:production 1:archived");
    rs_arena_destroy(&a);
    rs_objstore_close(p.o);
    rs_store_close(p.s);
}

static void test_rollback_chain(void **state)
{
    (void)state;
    char dir[600], buf[128];
    pub p = {.s = open_store(), .o = open_objects(dir, sizeof dir), .name = "m",
             .policy = rs_registry_policy_default()};
    p.policy.mode = RS_PROMOTE_ALWAYS;
    rs_arena a;
    rs_arena_init(&a, 0);
    rs_model_version v;
    rs_diag d = {{0}};
    uint64_t restored = 99, retired = 99;

    /* Nothing in production: nothing to roll back. */
    assert_int_equal(rs_registry_rollback(p.s, "m", &restored, &retired, &d), RS_ENOTFOUND);
    assert_non_null(strstr(d.msg, "no version of m is in production"));
    assert_int_equal(restored, 0);
    assert_int_equal(retired, 0);

    publish(&p, "r1", "r1", 0.1);
    /* Only one version ever promoted: nothing to go back to. */
    assert_int_equal(rs_registry_rollback(p.s, "m", &restored, &retired, &d), RS_ENOTFOUND);
    assert_non_null(strstr(d.msg, "no earlier production version"));
    next_ms();
    publish(&p, "r2", "r2", 0.2);
    next_ms();
    publish(&p, "r3", "r3", 0.3);
    /* A candidate published after them is never a rollback target. */
    p.policy.mode = RS_PROMOTE_NEVER;
    publish(&p, "r4", "r4", 0.9);
    assert_string_equal(stages(p.s, "m", buf, sizeof buf),
                        "4:candidate 3:production 2:archived 1:archived");

    assert_int_equal(rs_registry_rollback(p.s, "m", &restored, &retired, &d), RS_OK);
    assert_int_equal(restored, 2);
    assert_int_equal(retired, 3);
    assert_string_equal(stages(p.s, "m", buf, sizeof buf),
                        "4:candidate 3:archived 2:production 1:archived");
    get_version(p.s, "m", 3, &a, &v);
    assert_string_equal(v.note, "rolled back to version 2");
    assert_int_equal(v.promoted_ms, 0); /* forgotten, so the next rollback goes further */
    get_version(p.s, "m", 2, &a, &v);
    assert_string_equal(v.note, "restored by a rollback");
    assert_true(v.promoted_ms > 0);

    assert_int_equal(rs_registry_rollback(p.s, "m", &restored, &retired, &d), RS_OK);
    assert_int_equal(restored, 1);
    assert_int_equal(retired, 2);
    assert_string_equal(stages(p.s, "m", buf, sizeof buf),
                        "4:candidate 3:archived 2:archived 1:production");

    restored = retired = 99;
    assert_int_equal(rs_registry_rollback(p.s, "m", &restored, &retired, &d), RS_ENOTFOUND);
    assert_int_equal(restored, 0);
    assert_int_equal(retired, 0);
    assert_string_equal(stages(p.s, "m", buf, sizeof buf),
                        "4:candidate 3:archived 2:archived 1:production");

    /* Promoting after the rollbacks: v3 back by hand, then a rollback
     * returns to v1, the version it replaced. */
    next_ms();
    uint64_t replaced;
    assert_int_equal(rs_registry_promote(p.s, "m", 3, &replaced, &d), RS_OK);
    assert_int_equal(replaced, 1);
    assert_int_equal(rs_registry_rollback(p.s, "m", &restored, &retired, &d), RS_OK);
    assert_int_equal(restored, 1);
    assert_int_equal(retired, 3);
    /* And publishing goes on from there. */
    p.policy.mode = RS_PROMOTE_AUTO;
    rs_registry_result r = publish(&p, "r5", "r5", 0.5);
    assert_int_equal(r.version, 5);
    assert_true(r.promoted);
    assert_int_equal(r.replaced, 1);
    rs_arena_destroy(&a);
    rs_objstore_close(p.o);
    rs_store_close(p.s);
}

/* --- retention ----------------------------------------------------------------------- */

static void test_retention(void **state)
{
    (void)state;
    char dir[600], buf[256];
    pub p = {.s = open_store(), .o = open_objects(dir, sizeof dir), .name = "m",
             .policy = rs_registry_policy_default()};
    rs_registry_result r[6];

    /* Everything promoted, keep 2: the older ones go, rows and files. */
    p.policy.mode = RS_PROMOTE_ALWAYS;
    p.policy.keep = 2;
    for (int i = 0; i < 4; i++) {
        char run[16];
        snprintf(run, sizeof run, "a%d", i + 1);
        next_ms();
        r[i] = publish(&p, run, run, 0.1 * (i + 1));
    }
    assert_string_equal(stages(p.s, "m", buf, sizeof buf), "4:production 3:archived");
    assert_false(file_exists(uri_path(r[0].uri)));
    assert_false(file_exists(uri_path(r[1].uri)));
    assert_true(file_exists(uri_path(r[2].uri)));
    assert_true(file_exists(uri_path(r[3].uri)));
    assert_int_equal(n_objects(p.o), 2);

    /* Production and the rollback target are kept even past `keep`. */
    p.name = "b";
    p.policy.mode = RS_PROMOTE_AUTO;
    next_ms();
    r[0] = publish(&p, "b1", "b1", 0.5);
    next_ms();
    r[1] = publish(&p, "b2", "b2", 0.6); /* production; b1 is the rollback target */
    p.policy.mode = RS_PROMOTE_NEVER;
    for (int i = 2; i < 6; i++) {
        char run[16];
        snprintf(run, sizeof run, "b%d", i + 1);
        r[i] = publish(&p, run, run, 0.9);
    }
    assert_string_equal(stages(p.s, "b", buf, sizeof buf),
                        "6:candidate 5:candidate 2:production 1:archived");
    for (int i = 0; i < 6; i++)
        if (file_exists(uri_path(r[i].uri)) != (i != 2 && i != 3))
            fail_msg("version %d's artifact: %s", i + 1,
                     file_exists(uri_path(r[i].uri)) ? "still there" : "deleted");
    uint64_t restored, retired;
    rs_diag d = {{0}};
    assert_int_equal(rs_registry_rollback(p.s, "b", &restored, &retired, &d), RS_OK);
    assert_int_equal(restored, 1);

    /* keep 0 keeps everything. */
    p.name = "c";
    p.policy.keep = 0;
    for (int i = 0; i < 4; i++) {
        char run[16];
        snprintf(run, sizeof run, "c%d", i + 1);
        publish(&p, run, run, 0.5);
    }
    assert_string_equal(stages(p.s, "c", buf, sizeof buf),
                        "4:candidate 3:candidate 2:candidate 1:candidate");
    rs_objstore_close(p.o);
    rs_store_close(p.s);
}

/* --- publish failures ------------------------------------------------------------------ */

static void test_publish_failures(void **state)
{
    (void)state;
    char dir[600], buf[128];
    pub p = {.s = open_store(), .o = open_objects(dir, sizeof dir), .name = "m",
             .policy = rs_registry_policy_default()};
    rs_registry_result r;
    rs_diag d = {{0}};

    /* A missing artifact: an error, nothing uploaded or registered. */
    rs_registry_entry e = {.name = "m", .run_id = "x1", .artifact = rs_test_path("no-such-file"),
                           .score = 0.5};
    assert_int_equal(rs_registry_publish(p.s, p.o, &e, &p.policy, &r, &d), RS_EIO);
    assert_non_null(strstr(d.msg, "no-such-file"));
    assert_string_equal(stages(p.s, "m", buf, sizeof buf), "");
    assert_int_equal(n_objects(p.o), 0);
    /* A folder is not an artifact either. */
    e.artifact = rs_test_dir();
    assert_int_not_equal(rs_registry_publish(p.s, p.o, &e, &p.policy, &r, &d), RS_OK);
    assert_string_equal(stages(p.s, "m", buf, sizeof buf), "");
    assert_int_equal(n_objects(p.o), 0);

    /* The store refuses the version: the uploaded object is deleted again. */
    e = (rs_registry_entry){.name = "bad name", .run_id = "x2", .artifact = artifact("x2"),
                            .score = 0.5};
    assert_int_equal(rs_registry_publish(p.s, p.o, &e, &p.policy, &r, &d), RS_EINVAL);
    assert_non_null(strstr(d.msg, "model name"));
    assert_int_equal(n_objects(p.o), 0);

    /* A refused version must not disturb production: the archiving of the
     * old production version happens in the same transaction. */
    rs_registry_result first = publish(&p, "x3", "x3", 0.5);
    assert_true(first.promoted);
    e = (rs_registry_entry){.name = "m", .run_id = "x4", .artifact = artifact("x4"),
                            .metrics = "[\"not an object\"]", .score = 0.9};
    assert_int_equal(rs_registry_publish(p.s, p.o, &e, &p.policy, &r, &d), RS_EINVAL);
    assert_non_null(strstr(d.msg, "metrics"));
    assert_string_equal(stages(p.s, "m", buf, sizeof buf), "1:production");
    assert_int_equal(n_objects(p.o), 1);
    assert_true(file_exists(uri_path(first.uri)));

    /* A run id that cannot name an object: refused before anything. */
    e = (rs_registry_entry){.name = "m", .run_id = "bad run", .artifact = artifact("x5"),
                            .score = 0.9};
    assert_int_not_equal(rs_registry_publish(p.s, p.o, &e, &p.policy, &r, &d), RS_OK);
    assert_string_equal(stages(p.s, "m", buf, sizeof buf), "1:production");
    assert_int_equal(n_objects(p.o), 1);

    /* The store inside a read transaction cannot register: nothing stays. */
    assert_int_equal(rs_store_begin_read(p.s), RS_OK);
    e = (rs_registry_entry){.name = "m", .run_id = "x6", .artifact = artifact("x6"),
                            .score = 0.9};
    assert_int_not_equal(rs_registry_publish(p.s, p.o, &e, &p.policy, &r, &d), RS_OK);
    assert_int_equal(rs_store_commit(p.s), RS_OK);
    assert_string_equal(stages(p.s, "m", buf, sizeof buf), "1:production");
    assert_int_equal(n_objects(p.o), 1);
    rs_objstore_close(p.o);
    rs_store_close(p.s);
}

/* Describes into failure the first two versions of "m" that share an
 * artifact, and what fetching them gives; "" when none do. */
static void find_shared(const pub *p, char *failure, size_t cap)
{
    rs_arena a;
    rs_arena_init(&a, 0);
    rs_model_version *vs;
    size_t n;
    assert_int_equal(rs_store_list_model_versions(p->s, "m", &a, &vs, &n), RS_OK);
    failure[0] = '\0';
    for (size_t i = 0; i < n && !failure[0]; i++)
        for (size_t j = i + 1; j < n && !failure[0]; j++) {
            if (strcmp(vs[i].uri, vs[j].uri) != 0)
                continue;
            /* Show the damage: one of the two no longer loads. */
            char path[1024];
            bool temporary;
            rs_diag d = {{0}};
            const rs_model_version *bad = &vs[j];
            if (rs_registry_fetch(p->o, &vs[i], rs_test_dir(), path, sizeof path, &temporary,
                                  &d) != RS_OK)
                bad = &vs[i];
            else if (rs_registry_fetch(p->o, bad, rs_test_dir(), path, sizeof path,
                                       &temporary, &d) == RS_OK)
                snprintf(d.msg, sizeof d.msg, "ok");
            snprintf(failure, cap,
                     "versions %llu and %llu share the artifact %s; fetching version %llu: %s",
                     (unsigned long long)vs[j].version, (unsigned long long)vs[i].version,
                     vs[i].uri, (unsigned long long)bad->version, d.msg);
        }
    rs_arena_destroy(&a);
}

/* Versions published without a run id are named by the time in ms; two
 * published within one millisecond (trainers sharing a registry, or one
 * fast caller) must still get their own objects, or the second overwrites
 * the first's artifact, whose checksum then fails, and retention of one
 * deletes the other's. Four processes, each with its own handles, wait
 * at a barrier and then publish at the same moment; a few rounds. */
static void test_publish_without_run_id_distinct_objects(void **state)
{
    (void)state;
    char dir[600], failure[1024] = "";
    pub p = {.s = open_store(), .o = open_objects(dir, sizeof dir), .name = "m",
             .policy = rs_registry_policy_default()};
    p.policy.mode = RS_PROMOTE_NEVER;
    p.policy.keep = 0;
    enum { PROCESSES = 4, ROUNDS = 5 };
    for (int round = 0; round < ROUNDS && !failure[0]; round++) {
        int ready[2], go[2];
        assert_int_equal(pipe(ready), 0);
        assert_int_equal(pipe(go), 0);
        pid_t children[PROCESSES];
        fflush(NULL);
        for (int c = 0; c < PROCESSES; c++) {
            children[c] = fork();
            assert_true(children[c] >= 0);
            if (children[c] != 0)
                continue;
            /* Its own handles: connections do not cross a fork. */
            close(ready[0]);
            close(go[1]);
            pub q = p;
            rs_diag d = {{0}};
            char objects_url[700], content[32], name[32];
            snprintf(objects_url, sizeof objects_url, "file://%s", dir);
            snprintf(content, sizeof content, "round %d process %d", round, c);
            snprintf(name, sizeof name, "barrier-%d-%d", round, c);
            const rs_registry_entry e = {.name = "m",
                                         .artifact = rs_test_write(name, content, (size_t)-1),
                                         .score = 0.5};
            rs_registry_result r;
            char byte = 'r';
            if (rs_store_open(store_url, &q.s, &d) || rs_objstore_open(objects_url, &q.o, &d) ||
                write(ready[1], &byte, 1) != 1)
                _exit(3);
            if (read(go[0], &byte, 1) != 0) /* end of file: go */
                _exit(4);
            if (rs_registry_publish(q.s, q.o, &e, &q.policy, &r, &d))
                _exit(5);
            rs_objstore_close(q.o);
            rs_store_close(q.s);
            _exit(0);
        }
        close(ready[1]);
        close(go[0]);
        for (int c = 0; c < PROCESSES; c++) {
            char byte;
            assert_int_equal(read(ready[0], &byte, 1), 1);
        }
        close(go[1]); /* everyone at once */
        close(ready[0]);
        for (int c = 0; c < PROCESSES; c++) {
            int status;
            assert_int_equal(waitpid(children[c], &status, 0), children[c]);
            assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        }
        find_shared(&p, failure, sizeof failure);
    }
    rs_objstore_close(p.o);
    rs_store_close(p.s);
    if (failure[0])
        fail_msg("%s", failure);
}

/* --- fetch ----------------------------------------------------------------------------- */

static void test_fetch(void **state)
{
    (void)state;
    char dir[600], other_dir[600];
    pub p = {.s = open_store(), .o = open_objects(dir, sizeof dir), .name = "m",
             .policy = rs_registry_policy_default()};
    rs_registry_result r = publish(&p, "f1", "fetch me", 0.5);
    rs_arena a;
    rs_arena_init(&a, 0);
    rs_model_version v;
    get_version(p.s, "m", r.version, &a, &v);
    char path[1024];
    bool temporary = true;
    rs_diag d = {{0}};

    /* A file:// store hands out the object itself. */
    assert_int_equal(rs_registry_fetch(p.o, &v, rs_test_dir(), path, sizeof path, &temporary,
                                       &d),
                     RS_OK);
    assert_false(temporary);
    assert_string_equal(path, uri_path(v.uri));
    assert_true(strncmp(path, dir, strlen(dir)) == 0);

    /* From a model store in another folder: the version's own store. */
    rs_objstore *other = open_objects(other_dir, sizeof other_dir);
    temporary = true;
    assert_int_equal(rs_registry_fetch(other, &v, rs_test_dir(), path, sizeof path, &temporary,
                                       &d),
                     RS_OK);
    assert_false(temporary);
    assert_string_equal(path, uri_path(v.uri));
    assert_int_equal(n_objects(other), 0);

    /* The file changed after publishing: RS_ECORRUPT, from either store. */
    FILE *f = fopen(uri_path(v.uri), "ab");
    assert_non_null(f);
    fputs("!", f);
    fclose(f);
    assert_int_equal(rs_registry_fetch(p.o, &v, rs_test_dir(), path, sizeof path, &temporary,
                                       &d),
                     RS_ECORRUPT);
    assert_false(temporary);
    assert_non_null(strstr(d.msg, "checksum"));
    assert_int_equal(rs_registry_fetch(other, &v, rs_test_dir(), path, sizeof path, &temporary,
                                       &d),
                     RS_ECORRUPT);
    /* A wrong registered checksum is the same. */
    rs_model_version forged = v;
    forged.checksum = "0000000000000000000000000000000000000000000000000000000000000000";
    assert_int_equal(rs_registry_fetch(p.o, &forged, rs_test_dir(), path, sizeof path,
                                       &temporary, &d),
                     RS_ECORRUPT);

    /* The artifact gone: an error, not a success. */
    assert_int_equal(unlink(uri_path(v.uri)), 0);
    assert_int_not_equal(rs_registry_fetch(p.o, &v, rs_test_dir(), path, sizeof path,
                                           &temporary, &d),
                         RS_OK);
    assert_false(temporary);
    /* A URI naming no store. */
    rs_model_version bad = v;
    bad.uri = "nowhere";
    assert_int_equal(rs_registry_fetch(p.o, &bad, rs_test_dir(), path, sizeof path, &temporary,
                                       &d),
                     RS_EINVAL);
    rs_arena_destroy(&a);
    rs_objstore_close(other);
    rs_objstore_close(p.o);
    rs_store_close(p.s);
}

/* --- runs.c ------------------------------------------------------------------------------ */

static rs_run running(const char *id, const char *host, int64_t pid)
{
    return (rs_run){.id = id, .kind = "train", .status = "running", .model = "popularity",
                    .started_ms = rs_now_ms(), .host = host, .pid = pid};
}

static void test_runs_reap(void **state)
{
    (void)state;
    rs_store *s = open_store();
    char host[RS_HOST_CAP];
    rs_run_host(host);
    assert_true(host[0] != '\0');

    /* A pid that surely does not exist: a child that has exited and been
     * waited for. */
    fflush(NULL);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0)
        _exit(0);
    int status;
    assert_int_equal(waitpid(child, &status, 0), child);

    rs_run dead = running("dead", host, child);
    rs_run alive = running("alive", host, getpid());
    rs_run elsewhere = running("elsewhere", "another-host.example", child);
    rs_run finished = running("finished", host, child);
    finished.status = "finished";
    finished.ended_ms = finished.started_ms + 1;
    rs_run no_pid = running("no-pid", host, 0);
    const rs_run *all[] = {&dead, &alive, &elsewhere, &finished, &no_pid};
    for (size_t i = 0; i < RS_ARRAY_LEN(all); i++)
        assert_int_equal(rs_store_put_run(s, all[i]), RS_OK);

    size_t reaped = 99;
    rs_diag d = {{0}};
    assert_int_equal(rs_runs_reap(s, &reaped, &d), RS_OK);
    assert_int_equal(reaped, 1);
    rs_arena a;
    rs_arena_init(&a, 0);
    rs_run r;
    assert_int_equal(rs_store_get_run(s, "dead", &a, &r), RS_OK);
    assert_string_equal(r.status, "failed");
    assert_non_null(r.error);
    assert_non_null(strstr(r.error, "exited before it finished"));
    assert_true(r.ended_ms >= r.started_ms);
    assert_string_equal(r.model, "popularity"); /* the rest of the record is kept */
    assert_int_equal(r.pid, child);
    const char *untouched[] = {"alive", "elsewhere", "no-pid"};
    for (size_t i = 0; i < RS_ARRAY_LEN(untouched); i++) {
        assert_int_equal(rs_store_get_run(s, untouched[i], &a, &r), RS_OK);
        assert_string_equal(r.status, "running");
        assert_null(r.error);
        assert_int_equal(r.ended_ms, 0);
    }
    assert_int_equal(rs_store_get_run(s, "finished", &a, &r), RS_OK);
    assert_string_equal(r.status, "finished");
    assert_null(r.error);
    /* Reaping again finds nothing; NULL for the count is fine. */
    assert_int_equal(rs_runs_reap(s, &reaped, &d), RS_OK);
    assert_int_equal(reaped, 0);
    assert_int_equal(rs_runs_reap(s, NULL, &d), RS_OK);
    rs_arena_destroy(&a);
    rs_store_close(s);
}

static void test_run_ids(void **state)
{
    (void)state;
    rs_store *s = open_store();
    char a[RS_RUN_ID_CAP], b[RS_RUN_ID_CAP];
    rs_run_new_id(a);
    rs_run_new_id(b);
    /* "20261123-101500-3f9a1c" */
    assert_int_equal(strlen(a), 22);
    assert_true(a[8] == '-' && a[15] == '-');
    assert_int_equal(strspn(a, "0123456789"), 8);
    assert_int_equal(strspn(a + 9, "0123456789"), 6);
    assert_int_equal(strspn(a + 16, "0123456789abcdef"), 6);
    assert_string_not_equal(a, b);
    /* The current year leads, and the id is a valid run id. */
    char year[16];
    const time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    snprintf(year, sizeof year, "%04d", tm.tm_year + 1900);
    assert_true(strncmp(a, year, 4) == 0);
    rs_run r = running(a, "h", 1);
    assert_int_equal(rs_store_put_run(s, &r), RS_OK);
    rs_store_close(s);
}

static void test_json_exports(void **state)
{
    (void)state;
    const rs_run r = {.id = "r1", .kind = "train", .status = "finished", .model = "als",
                      .started_ms = 10, .ended_ms = 20, .params = "{\"als\":{\"factors\":8}}",
                      .metrics = "{\"ndcg\":0.5}", .data = NULL, .timings = "not json",
                      .version = 3, .note = "n", .host = "h", .pid = 7};
    char *text = rs_run_json(&r);
    json_error_t err;
    json_t *j = json_loads(text, 0, &err);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "id")), "r1");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(
                         json_object_get(j, "params"), "als"), "factors")),
                     8);
    assert_true(json_is_object(json_object_get(j, "data")));
    assert_true(json_is_object(json_object_get(j, "timings")));
    assert_true(json_is_null(json_object_get(j, "parent_id")));
    assert_true(json_is_null(json_object_get(j, "error")));
    assert_true(json_is_null(json_object_get(j, "artifact_uri")));
    assert_int_equal(json_integer_value(json_object_get(j, "version")), 3);
    assert_int_equal(json_integer_value(json_object_get(j, "ended_ms")), 20);
    assert_int_equal(json_integer_value(json_object_get(j, "pid")), 7);
    json_decref(j);
    rs_free(text);
    /* A running run has no end and no version. */
    const rs_run run = {.id = "r2", .kind = "tune", .status = "running", .started_ms = 1};
    text = rs_run_json(&run);
    j = json_loads(text, 0, &err);
    assert_non_null(j);
    assert_true(json_is_null(json_object_get(j, "ended_ms")));
    assert_true(json_is_null(json_object_get(j, "version")));
    assert_string_equal(json_string_value(json_object_get(j, "model")), "");
    json_decref(j);
    rs_free(text);

    const rs_model_version v = {.name = "m", .version = 2, .uri = "file:///x/m.rsm",
                                .checksum = "ab", .size_bytes = 5, .stage = "production",
                                .metrics = "{\"ndcg\":0.25}", .created_ms = 3};
    text = rs_model_version_json(&v);
    j = json_loads(text, 0, &err);
    assert_non_null(j);
    assert_int_equal(json_integer_value(json_object_get(j, "version")), 2);
    assert_true(json_is_null(json_object_get(j, "run_id")));
    assert_true(json_is_null(json_object_get(j, "promoted_ms")));
    assert_string_equal(json_string_value(json_object_get(j, "note")), "");
    assert_float_equal(json_number_value(json_object_get(json_object_get(j, "metrics"), "ndcg")),
                       0.25, 0);
    json_decref(j);
    rs_free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_policy_parse_and_default),
        cmocka_unit_test(test_policy_auto),
        cmocka_unit_test(test_policy_tolerance_edges),
        cmocka_unit_test(test_policy_production_without_score),
        cmocka_unit_test(test_policy_modes),
        cmocka_unit_test(test_promote_by_hand),
        cmocka_unit_test(test_rollback_chain),
        cmocka_unit_test(test_retention),
        cmocka_unit_test(test_publish_failures),
        cmocka_unit_test(test_publish_without_run_id_distinct_objects),
        cmocka_unit_test(test_fetch),
        cmocka_unit_test(test_runs_reap),
        cmocka_unit_test(test_run_ids),
        cmocka_unit_test(test_json_exports),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    if (rc == 0)
        rs_test_cleanup();
    return rc;
}
