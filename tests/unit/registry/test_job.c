/* The training job (src/registry/job.c) end to end on a real SQLite store
 * and a file:// model store: a popularity run with evaluation finishes with
 * its metrics, data fingerprint and timings recorded and a version whose
 * artifact is in the model folder with a matching checksum; a run recorded
 * ahead is taken over; a job on an empty store fails, records why, and
 * registers nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <dirent.h>
#include <jansson.h>
#include <math.h>
#include <sys/stat.h>

#include "fixtures.h"
#include "core/timeutil.h"
#include "models/bundle.h"
#include "models/fit.h"
#include "registry/job.h"

/* A tiny deterministic data set: 40 users, 30 items with a popularity
 * skew, about 10 views each. */
static void add_events(rs_store *s)
{
    enum { USERS = 40, PER_USER = 10 };
    static rs_event ev[USERS * PER_USER];
    static char uid[USERS][16], iid[USERS * PER_USER][16];
    size_t n = 0;
    uint64_t x = 12345;
    for (int u = 0; u < USERS; u++) {
        snprintf(uid[u], sizeof uid[u], "user%d", u);
        for (int k = 0; k < PER_USER; k++) {
            x = x * 6364136223846793005u + 1442695040888963407u;
            const unsigned r = (unsigned)(x >> 33) % 900;
            snprintf(iid[n], sizeof iid[n], "item%u", (r * r) / 27000); /* 0..29, skewed */
            ev[n] = (rs_event){.user_id = uid[u], .item_id = iid[n], .type = "view",
                               .value = 1, .ts_ms = 1700000000000 + (int64_t)n * 1000};
            n++;
        }
    }
    rs_write_stats st = {0};
    assert_int_equal(rs_store_add_events(s, ev, n, &st), RS_OK);
    assert_int_equal(st.events_added, n);
}

static rs_job_opts popularity_job(void)
{
    rs_job_opts o = {.kind = "train", .name = "default",
                     .policy = rs_registry_policy_default(), .tmp_dir = rs_test_dir()};
    o.train = (rs_train_opts){.models = RS_MODEL_POPULARITY, .agg = RS_AGG_SUM,
                              .evaluate = true};
    o.train.eval.split = (rs_split_opts){.kind = RS_SPLIT_RANDOM, .test_fraction = 0.2,
                                         .seed = 1};
    o.train.eval.k = 10;
    rs_model_params_default(&o.train.eval.params);
    return o;
}

/* Parses a stored JSON object; the caller frees it. */
static json_t *parse(const char *text)
{
    json_error_t err;
    json_t *j = json_loads(text, 0, &err);
    if (!json_is_object(j))
        fail_msg("not a JSON object: %s", text);
    return j;
}

/* The number of files in dir whose name starts with prefix. */
static size_t files_starting(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)))
        n += strncmp(de->d_name, prefix, strlen(prefix)) == 0;
    closedir(d);
    return n;
}

static void test_job_popularity_evaluated(void **state)
{
    (void)state;
    rs_store *s = open_store();
    char dir[600];
    rs_objstore *objects = open_objects(dir, sizeof dir);
    add_events(s);
    const rs_job_opts o = popularity_job();
    rs_job_result res;
    rs_diag d = {{0}};
    const int64_t before = rs_now_ms();
    if (rs_job_train(s, objects, &o, &res, &d))
        fail_msg("job: %s", d.msg);
    assert_true(res.run_id[0] != '\0');
    assert_int_equal(res.users, 40);
    assert_true(res.items > 10 && res.items <= 30);
    assert_true(res.interactions > 0 && res.interactions <= 400);
    assert_false(isnan(res.score));
    assert_true(res.score > 0 && res.score <= 1);
    assert_non_null(res.primary);
    assert_string_equal(res.primary, "popularity");
    assert_int_equal(res.reg.version, 1);
    assert_true(res.reg.promoted);

    /* The run: finished, with everything filled. */
    rs_arena a;
    rs_arena_init(&a, 0);
    rs_run r;
    assert_int_equal(rs_store_get_run(s, res.run_id, &a, &r), RS_OK);
    assert_string_equal(r.kind, "train");
    assert_string_equal(r.status, "finished");
    assert_string_equal(r.model, "popularity");
    assert_null(r.parent_id);
    assert_true(r.started_ms >= before);
    assert_true(r.ended_ms >= r.started_ms && r.ended_ms <= rs_now_ms());
    assert_null(r.error);
    assert_non_null(r.artifact_uri);
    assert_string_equal(r.artifact_uri, res.reg.uri);
    assert_int_equal(r.version, 1);
    assert_non_null(r.note);
    assert_non_null(strstr(r.note, "promoted"));
    char host[RS_HOST_CAP];
    rs_run_host(host);
    assert_string_equal(r.host, host);
    assert_int_equal(r.pid, getpid());

    json_t *metrics = parse(r.metrics);
    assert_true(json_is_number(json_object_get(metrics, "ndcg")));
    assert_float_equal(json_number_value(json_object_get(metrics, "ndcg")), res.score, 1e-9);
    assert_true(json_is_object(json_object_get(json_object_get(metrics, "models"),
                                               "popularity")));
    json_t *data = parse(r.data);
    assert_int_equal(json_integer_value(json_object_get(data, "users")), 40);
    assert_int_equal(json_integer_value(json_object_get(data, "events")), 400);
    assert_int_equal(json_integer_value(json_object_get(data, "interactions")),
                     (json_int_t)res.interactions);
    assert_true(json_is_string(json_object_get(data, "hash")));
    json_t *timings = parse(r.timings);
    const char *phases[] = {"load", "evaluate", "fit", "save", "publish", "total"};
    for (size_t i = 0; i < RS_ARRAY_LEN(phases); i++) {
        json_t *t = json_object_get(timings, phases[i]);
        if (!json_is_number(t) || json_number_value(t) < 0)
            fail_msg("timings.%s missing or negative: %s", phases[i], r.timings);
    }
    assert_true(json_number_value(json_object_get(timings, "total")) >=
                json_number_value(json_object_get(timings, "fit")));
    /* The recorded parameters read back into what the job used. */
    rs_model_params p;
    rs_model_params_default(&p);
    p.als.factors = 1;
    assert_int_equal(rs_model_params_from_json(r.params, &p, &d), RS_OK);
    assert_int_equal(p.als.factors, o.train.eval.params.als.factors);

    /* The version: production, the run's, its artifact in the model folder. */
    rs_model_version v;
    assert_int_equal(rs_store_get_model_version(s, "default", 0, &a, &v), RS_OK);
    assert_int_equal(v.version, 1);
    assert_non_null(v.run_id);
    assert_string_equal(v.run_id, res.run_id);
    assert_string_equal(v.uri, res.reg.uri);
    assert_string_equal(v.checksum, res.reg.checksum);
    json_t *vm = parse(v.metrics);
    assert_true(json_equal(vm, metrics));
    json_decref(vm);
    char prefix[700];
    snprintf(prefix, sizeof prefix, "file://%s/", dir);
    assert_true(strncmp(v.uri, prefix, strlen(prefix)) == 0);
    const char *path = v.uri + strlen("file://");
    char sha[RS_SHA256_HEX];
    assert_int_equal(rs_sha256_file(path, sha, &d), RS_OK);
    assert_string_equal(sha, v.checksum);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(v.size_bytes, (uint64_t)st.st_size);
    assert_true(st.st_size > 0);
    rs_bundle b;
    if (rs_bundle_load(path, &b, &d))
        fail_msg("the artifact does not load: %s", d.msg);
    assert_true(b.models & RS_MODEL_POPULARITY);
    rs_bundle_destroy(&b);
    /* The local copy written before the upload is gone. */
    assert_int_equal(files_starting(rs_test_dir(), ".recsys-train-"), 0);

    json_decref(metrics);
    json_decref(data);
    json_decref(timings);

    /* A second job on the same data scores the same and is promoted. */
    rs_job_result res2;
    if (rs_job_train(s, objects, &o, &res2, &d))
        fail_msg("second job: %s", d.msg);
    assert_int_equal(res2.reg.version, 2);
    assert_true(res2.reg.promoted);
    assert_int_equal(res2.reg.replaced, 1);
    assert_float_equal(res2.score, res.score, 1e-12);
    assert_string_not_equal(res2.run_id, res.run_id);
    assert_string_not_equal(res2.reg.uri, res.reg.uri);
    rs_arena_destroy(&a);
    rs_objstore_close(objects);
    rs_store_close(s);
}

/* A run recorded ahead (what POST /v1/train does before its thread runs
 * the job) is taken over, not duplicated. */
static void test_job_takes_over_recorded_run(void **state)
{
    (void)state;
    rs_store *s = open_store();
    char dir[600];
    rs_objstore *objects = open_objects(dir, sizeof dir);
    add_events(s);
    rs_job_opts o = popularity_job();
    o.kind = "retrain";
    o.train.evaluate = false;
    char id[RS_RUN_ID_CAP];
    rs_diag d = {{0}};
    assert_int_equal(rs_job_record_start(s, &o, "retrain", id, &d), RS_OK);
    rs_arena a;
    rs_arena_init(&a, 0);
    rs_run r;
    assert_int_equal(rs_store_get_run(s, id, &a, &r), RS_OK);
    assert_string_equal(r.status, "running");
    o.run_id = id;
    rs_job_result res;
    if (rs_job_train(s, objects, &o, &res, &d))
        fail_msg("job: %s", d.msg);
    assert_string_equal(res.run_id, id);
    assert_true(isnan(res.score));
    rs_run *list;
    size_t n;
    assert_int_equal(rs_store_list_runs(s, NULL, NULL, 10, &a, &list, &n), RS_OK);
    assert_int_equal(n, 1);
    assert_string_equal(list[0].id, id);
    assert_string_equal(list[0].kind, "retrain");
    assert_string_equal(list[0].status, "finished");
    assert_string_equal(list[0].metrics, "{}"); /* not evaluated */
    assert_int_equal(list[0].version, 1);
    /* Without an evaluation the first version still goes to production. */
    assert_true(res.reg.promoted);
    rs_arena_destroy(&a);
    rs_objstore_close(objects);
    rs_store_close(s);
}

static int count_object(void *ctx, const char *key, uint64_t size)
{
    (void)key;
    (void)size;
    ++*(size_t *)ctx;
    return 0;
}

static void test_job_empty_store_fails(void **state)
{
    (void)state;
    rs_store *s = open_store();
    char dir[600];
    rs_objstore *objects = open_objects(dir, sizeof dir);
    const rs_job_opts o = popularity_job();
    rs_job_result res;
    rs_diag d = {{0}};
    const rs_err e = rs_job_train(s, objects, &o, &res, &d);
    assert_int_equal(e, RS_EINVAL);
    assert_non_null(strstr(d.msg, "no events"));
    assert_true(res.run_id[0] != '\0');
    assert_int_equal(res.reg.version, 0);

    rs_arena a;
    rs_arena_init(&a, 0);
    rs_run r;
    assert_int_equal(rs_store_get_run(s, res.run_id, &a, &r), RS_OK);
    assert_string_equal(r.status, "failed");
    assert_non_null(r.error);
    assert_string_equal(r.error, d.msg);
    assert_true(r.ended_ms >= r.started_ms && r.ended_ms > 0);
    assert_null(r.artifact_uri);
    assert_int_equal(r.version, 0);
    assert_null(r.note);
    assert_string_equal(r.metrics, "{}");
    assert_string_equal(r.model, "popularity");
    json_t *timings = parse(r.timings);
    assert_true(json_is_number(json_object_get(timings, "total")));
    json_decref(timings);

    /* Nothing registered or uploaded, nothing left behind. */
    rs_model_version *vs;
    size_t n;
    assert_int_equal(rs_store_list_model_versions(s, "default", &a, &vs, &n), RS_OK);
    assert_int_equal(n, 0);
    rs_model_version v;
    assert_int_equal(rs_store_get_model_version(s, "default", 0, &a, &v), RS_ENOTFOUND);
    size_t objs = 0;
    assert_int_equal(rs_objstore_list(objects, count_object, &objs, &d), RS_OK);
    assert_int_equal(objs, 0);
    assert_int_equal(files_starting(rs_test_dir(), ".recsys-train-"), 0);
    /* A NULL diagnostic is allowed. */
    assert_int_equal(rs_job_train(s, objects, &o, &res, NULL), RS_EINVAL);
    rs_arena_destroy(&a);
    rs_objstore_close(objects);
    rs_store_close(s);
}

/* A step failing after training (here: the artifact cannot be written to
 * tmp_dir) fails the run with the reason recorded, whatever that reason's
 * text: a diagnostic is cut at 511 bytes, which may split a multi-byte
 * character of a long non-ASCII path, and the run must still be marked
 * failed rather than left "running". */
static void test_job_failure_after_training_recorded(void **state)
{
    (void)state;
    rs_store *s = open_store();
    char dir[600];
    rs_objstore *objects = open_objects(dir, sizeof dir);
    add_events(s);
    static const char *const stems[] = {"/nonexistent-ascii-folder", "/nonexistent"};
    for (size_t k = 0; k < RS_ARRAY_LEN(stems); k++) {
        /* "cannot create " + stem, then 2-byte characters: with the 12-byte
         * stem one of them straddles byte 511. */
        char tmp[1024];
        size_t n = (size_t)snprintf(tmp, sizeof tmp, "%s", stems[k]);
        for (int i = 0; i < 300 && n + 2 < sizeof tmp; i++)
            n += (size_t)snprintf(tmp + n, sizeof tmp - n, k ? "\xc3\xa9" : "ab");
        rs_job_opts o = popularity_job();
        o.tmp_dir = tmp;
        rs_job_result res;
        rs_diag d = {{0}};
        assert_int_equal(rs_job_train(s, objects, &o, &res, &d), RS_EIO);
        assert_non_null(strstr(d.msg, "cannot create"));
        rs_arena a;
        rs_arena_init(&a, 0);
        rs_run r;
        assert_int_equal(rs_store_get_run(s, res.run_id, &a, &r), RS_OK);
        const bool failed = !strcmp(r.status, "failed") && r.error && r.error[0];
        char status[16];
        snprintf(status, sizeof status, "%s", r.status);
        rs_arena_destroy(&a);
        if (!failed) {
            rs_objstore_close(objects);
            rs_store_close(s);
            fail_msg("tmp_dir of %zu bytes (%s): the run is '%s' after the job failed with "
                     "'%.40s...'", strlen(tmp), k ? "non-ASCII" : "ASCII", status, d.msg);
        }
    }
    rs_arena a;
    rs_arena_init(&a, 0);
    rs_model_version *vs;
    size_t n;
    assert_int_equal(rs_store_list_model_versions(s, "default", &a, &vs, &n), RS_OK);
    assert_int_equal(n, 0);
    rs_arena_destroy(&a);
    rs_objstore_close(objects);
    rs_store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_job_popularity_evaluated),
        cmocka_unit_test(test_job_takes_over_recorded_run),
        cmocka_unit_test(test_job_empty_store_fails),
        cmocka_unit_test(test_job_failure_after_training_recorded),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    if (rc == 0)
        rs_test_cleanup();
    return rc;
}
