/* The model registry (see registry.h): publishing, the promotion policy,
 * promotion and rollback by hand, retention, and fetching an artifact for
 * loading. Every change of stages happens inside one store transaction. */
#include "registry/registry.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "registry/runs.h"
#include "core/timeutil.h"

int rs_promote_mode_parse(const char *s)
{
    static const char *const names[] = {"auto", "always", "never"};
    for (size_t i = 0; i < RS_ARRAY_LEN(names); i++)
        if (!strcmp(s, names[i]))
            return (int)i;
    return -1;
}

rs_registry_policy rs_registry_policy_default(void)
{
    return (rs_registry_policy){.mode = RS_PROMOTE_AUTO,
                                .tolerance = RS_REGISTRY_DEFAULT_TOLERANCE,
                                .keep = RS_REGISTRY_DEFAULT_KEEP};
}

static rs_err store_fail(rs_store *s, rs_diag *diag, rs_err e, const char *what)
{
    return rs_diag_fail(diag, e, "%s: %s", what, rs_store_errmsg(s));
}

/* The held-out ndcg recorded in a version's metrics; NaN when none. */
static double version_score(const rs_model_version *v)
{
    json_t *m = json_loads(v->metrics ? v->metrics : "{}", 0, NULL);
    json_t *ndcg = json_object_get(m, "ndcg");
    const double score = json_is_number(ndcg) ? json_number_value(ndcg) : NAN;
    json_decref(m);
    return score;
}

/* The policy's verdict on a new version with `score` against production
 * (NULL when nothing is in production), with the reason in note. */
static bool should_promote(const rs_registry_policy *p, double score,
                           const rs_model_version *prod, char *note, size_t cap)
{
    if (p->mode == RS_PROMOTE_NEVER) {
        snprintf(note, cap, "kept as a candidate: automatic promotion is off");
        return false;
    }
    if (p->mode == RS_PROMOTE_ALWAYS) {
        snprintf(note, cap, "promoted: every new version is promoted");
        return true;
    }
    if (!prod) {
        snprintf(note, cap, "promoted: no version was in production");
        return true;
    }
    const double base = version_score(prod);
    if (isnan(score)) {
        snprintf(note, cap,
                 "kept as a candidate: it was not evaluated, so it cannot be compared with "
                 "production version %llu",
                 (unsigned long long)prod->version);
        return false;
    }
    if (isnan(base)) {
        snprintf(note, cap, "promoted: production version %llu has no held-out score",
                 (unsigned long long)prod->version);
        return true;
    }
    const double bar = base * (1.0 - p->tolerance);
    if (score >= bar) {
        snprintf(note, cap,
                 "promoted: held-out ndcg %.4f >= %.4f (production version %llu's %.4f less "
                 "%.3g%%)",
                 score, bar, (unsigned long long)prod->version, base, p->tolerance * 100);
        return true;
    }
    snprintf(note, cap,
             "kept as a candidate: held-out ndcg %.4f < %.4f (production version %llu's %.4f "
             "less %.3g%%)",
             score, bar, (unsigned long long)prod->version, base, p->tolerance * 100);
    return false;
}

/* The production version of name into *prod; *found says whether there is
 * one. */
static rs_err production(rs_store *s, const char *name, rs_arena *a, rs_model_version *prod,
                         bool *found, rs_diag *diag)
{
    rs_err e = rs_store_get_model_version(s, name, 0, a, prod);
    *found = e == RS_OK;
    if (e == RS_ENOTFOUND)
        return RS_OK;
    return e ? store_fail(s, diag, e, "reading the production version") : RS_OK;
}

/* Registers the uploaded artifact and applies the policy, in one
 * transaction. */
static rs_err register_version(rs_store *s, const rs_registry_entry *en,
                               const rs_registry_policy *p, rs_registry_result *out,
                               rs_diag *diag)
{
    rs_arena a;
    rs_arena_init(&a, 4096);
    rs_err e = rs_store_begin(s);
    if (e) {
        rs_arena_destroy(&a);
        return store_fail(s, diag, e, "registering the version");
    }
    rs_model_version prod;
    bool has_prod;
    if ((e = production(s, en->name, &a, &prod, &has_prod, diag)))
        goto fail;
    out->promoted = should_promote(p, en->score, has_prod ? &prod : NULL, out->note,
                                   sizeof out->note);
    const int64_t now = rs_now_ms();
    if (out->promoted && has_prod &&
        (e = rs_store_set_model_stage(s, en->name, prod.version, "archived", 0, NULL))) {
        store_fail(s, diag, e, "archiving the production version");
        goto fail;
    }
    rs_model_version v = {.name = en->name,
                          .run_id = en->run_id,
                          .uri = out->uri,
                          .checksum = out->checksum,
                          .size_bytes = out->size_bytes,
                          .stage = out->promoted ? "production" : "candidate",
                          .metrics = en->metrics,
                          .note = out->note,
                          .promoted_ms = out->promoted ? now : 0};
    if ((e = rs_store_add_model_version(s, &v))) {
        store_fail(s, diag, e, "registering the version");
        goto fail;
    }
    out->version = v.version;
    if (out->promoted && has_prod) {
        char note[64];
        snprintf(note, sizeof note, "replaced by version %llu", (unsigned long long)v.version);
        out->replaced = prod.version;
        if ((e = rs_store_set_model_stage(s, en->name, prod.version, "archived", 0, note))) {
            store_fail(s, diag, e, "archiving the production version");
            goto fail;
        }
    }
    if ((e = rs_store_commit(s)))
        store_fail(s, diag, e, "registering the version");
    rs_arena_destroy(&a);
    return e;
fail:
    rs_store_rollback(s);
    rs_arena_destroy(&a);
    return e;
}

/* The version a rollback returns to: the most recently promoted one that
 * is not in production; NULL when none. */
static const rs_model_version *rollback_target(const rs_model_version *vs, size_t n)
{
    const rs_model_version *best = NULL;
    for (size_t i = 0; i < n; i++)
        if (strcmp(vs[i].stage, "production") != 0 && vs[i].promoted_ms > 0 &&
            (!best || vs[i].promoted_ms > best->promoted_ms))
            best = &vs[i];
    return best;
}

/* Deletes the versions beyond the newest `keep`, except production and
 * the rollback target: the store's record first, so that no reader is
 * sent to a deleted artifact, then the artifact. */
static void apply_retention(rs_store *s, rs_objstore *objects, const char *name, size_t keep)
{
    if (keep == 0)
        return;
    rs_arena a;
    rs_arena_init(&a, 8192);
    rs_model_version *vs;
    size_t n;
    if (rs_store_list_model_versions(s, name, &a, &vs, &n) != RS_OK) {
        rs_log_warn("cannot list versions to delete old ones", RS_S("reason", rs_store_errmsg(s)));
        rs_arena_destroy(&a);
        return;
    }
    const rs_model_version *target = rollback_target(vs, n);
    for (size_t i = keep; i < n; i++) {
        const rs_model_version *v = &vs[i];
        if (v == target || !strcmp(v->stage, "production"))
            continue;
        char key[512];
        rs_diag d = {{0}};
        if (rs_store_delete_model_version(s, name, v->version) != RS_OK) {
            rs_log_warn("cannot delete an old version", RS_U("version", v->version),
                        RS_S("reason", rs_store_errmsg(s)));
            continue;
        }
        if (rs_objstore_key(objects, v->uri, key, sizeof key, &d) != RS_OK ||
            rs_objstore_delete(objects, key, &d) != RS_OK)
            rs_log_warn("cannot delete an old version's artifact", RS_U("version", v->version),
                        RS_S("uri", v->uri), RS_S("reason", d.msg));
        else
            rs_log_info("deleted an old version", RS_U("version", v->version),
                        RS_S("uri", v->uri));
    }
    rs_arena_destroy(&a);
}

rs_err rs_registry_publish(rs_store *s, rs_objstore *objects, const rs_registry_entry *en,
                           const rs_registry_policy *p, rs_registry_result *out, rs_diag *diag)
{
    memset(out, 0, sizeof *out);
    struct stat st;
    if (stat(en->artifact, &st) != 0)
        return rs_diag_fail(diag, RS_EIO, "cannot read %s: %s", en->artifact, strerror(errno));
    out->size_bytes = (uint64_t)st.st_size;
    char key[128], id[RS_RUN_ID_CAP];
    if (!en->run_id)
        rs_run_new_id(id); /* time and random digits: unique enough to never collide */
    snprintf(key, sizeof key, "model-%s.rsm", en->run_id ? en->run_id : id);
    rs_err e;
    if ((e = rs_sha256_file(en->artifact, out->checksum, diag)) ||
        (e = rs_objstore_uri(objects, key, out->uri, sizeof out->uri, diag)) ||
        (e = rs_objstore_put_file(objects, key, en->artifact, out->checksum, diag)))
        return e;
    if ((e = register_version(s, en, p, out, diag))) {
        rs_diag ignored;
        if (rs_objstore_delete(objects, key, &ignored) != RS_OK)
            rs_log_warn("cannot delete an unregistered artifact", RS_S("uri", out->uri),
                        RS_S("reason", ignored.msg));
        return e;
    }
    rs_log_info("registered a model version", RS_S("name", en->name),
                RS_U("version", out->version), RS_S("stage", out->promoted ? "production"
                                                                            : "candidate"),
                RS_S("uri", out->uri), RS_S("note", out->note));
    apply_retention(s, objects, en->name, p->keep);
    return RS_OK;
}

rs_err rs_registry_promote(rs_store *s, const char *name, uint64_t version, uint64_t *replaced,
                           rs_diag *diag)
{
    *replaced = 0;
    rs_arena a;
    rs_arena_init(&a, 4096);
    rs_model_version v, prod;
    bool has_prod;
    rs_err e = rs_store_begin(s);
    if (e) {
        rs_arena_destroy(&a);
        return store_fail(s, diag, e, "promoting");
    }
    if ((e = rs_store_get_model_version(s, name, version, &a, &v))) {
        store_fail(s, diag, e, "promoting");
        goto out;
    }
    if ((e = production(s, name, &a, &prod, &has_prod, diag)))
        goto out;
    if (has_prod && prod.version == version)
        goto out; /* already there */
    char note[64];
    snprintf(note, sizeof note, "replaced by version %llu", (unsigned long long)version);
    if (has_prod && (e = rs_store_set_model_stage(s, name, prod.version, "archived", 0, note))) {
        store_fail(s, diag, e, "archiving the production version");
        goto out;
    }
    if ((e = rs_store_set_model_stage(s, name, version, "production", rs_now_ms(),
                                      "promoted by hand"))) {
        store_fail(s, diag, e, "promoting");
        goto out;
    }
    *replaced = has_prod ? prod.version : 0;
out:
    if (e)
        rs_store_rollback(s);
    else if ((e = rs_store_commit(s)))
        store_fail(s, diag, e, "promoting");
    rs_arena_destroy(&a);
    return e;
}

rs_err rs_registry_rollback(rs_store *s, const char *name, uint64_t *restored, uint64_t *retired,
                            rs_diag *diag)
{
    *restored = *retired = 0;
    rs_arena a;
    rs_arena_init(&a, 8192);
    rs_model_version *vs;
    size_t n;
    rs_err e = rs_store_begin(s);
    if (e) {
        rs_arena_destroy(&a);
        return store_fail(s, diag, e, "rolling back");
    }
    if ((e = rs_store_list_model_versions(s, name, &a, &vs, &n))) {
        store_fail(s, diag, e, "rolling back");
        goto out;
    }
    const rs_model_version *cur = NULL;
    for (size_t i = 0; i < n && !cur; i++)
        if (!strcmp(vs[i].stage, "production"))
            cur = &vs[i];
    const rs_model_version *target = rollback_target(vs, n);
    if (!cur || !target) {
        e = rs_diag_fail(diag, RS_ENOTFOUND,
                         cur ? "no earlier production version of %s to roll back to"
                             : "no version of %s is in production",
                         name);
        goto out;
    }
    char note[64];
    snprintf(note, sizeof note, "rolled back to version %llu",
             (unsigned long long)target->version);
    /* Forgetting its promotion time makes a second rollback go further
     * back instead of returning to it. */
    if ((e = rs_store_set_model_stage(s, name, cur->version, "archived", -1, note)) ||
        (e = rs_store_set_model_stage(s, name, target->version, "production", 0,
                                      "restored by a rollback"))) {
        store_fail(s, diag, e, "rolling back");
        goto out;
    }
    *restored = target->version;
    *retired = cur->version;
out:
    if (e)
        rs_store_rollback(s);
    else if ((e = rs_store_commit(s)))
        store_fail(s, diag, e, "rolling back");
    rs_arena_destroy(&a);
    return e;
}

/* The artifact of version v from the model store `objects` when the URI
 * is in it, else from the store its URI names (a server may be pointed
 * at another model store than the one the version was published to). */
static rs_err fetch_from(rs_objstore *objects, bool redirect, const rs_model_version *v,
                         const char *tmp_dir, char *path, size_t cap, bool *temporary,
                         char sha[RS_SHA256_HEX], rs_diag *diag)
{
    char key[512];
    if (rs_objstore_key(objects, v->uri, key, sizeof key, redirect ? NULL : diag) != RS_OK) {
        if (!redirect)
            return RS_EINVAL;
        char url[1024];
        const char *slash = strrchr(v->uri, '/');
        const size_t n = slash ? (size_t)(slash - v->uri) : 0;
        if (n == 0 || n >= sizeof url)
            return rs_diag_fail(diag, RS_EINVAL, "version %llu has a malformed URI '%s'",
                                (unsigned long long)v->version, v->uri);
        memcpy(url, v->uri, n);
        url[n] = '\0';
        rs_objstore *other;
        rs_err e = rs_objstore_open(url, &other, diag);
        if (!e)
            e = fetch_from(other, false, v, tmp_dir, path, cap, temporary, sha, diag);
        rs_objstore_close(other);
        return e;
    }
    rs_err e = rs_objstore_local_path(objects, key, path, cap, diag);
    if (e == RS_OK)
        return rs_sha256_file(path, sha, diag);
    if (e != RS_EUNSUPPORTED)
        return e;
    if ((size_t)snprintf(path, cap, "%s/.recsys-fetch-%d-%llu.rsm", tmp_dir, (int)getpid(),
                         (unsigned long long)v->version) >= cap)
        return rs_diag_fail(diag, RS_EINVAL, "temporary folder name too long");
    if ((e = rs_objstore_get_file(objects, key, path, sha, diag)))
        return e;
    *temporary = true;
    return RS_OK;
}

rs_err rs_registry_fetch(rs_objstore *objects, const rs_model_version *v, const char *tmp_dir,
                         char *path, size_t cap, bool *temporary, rs_diag *diag)
{
    *temporary = false;
    char sha[RS_SHA256_HEX];
    rs_err e = fetch_from(objects, true, v, tmp_dir, path, cap, temporary, sha, diag);
    if (e)
        return e;
    if (strcmp(sha, v->checksum) != 0) {
        if (*temporary)
            unlink(path);
        *temporary = false;
        return rs_diag_fail(diag, RS_ECORRUPT,
                            "version %llu's artifact %s does not match its checksum (SHA-256 "
                            "%.12s..., registered %.12s...)",
                            (unsigned long long)v->version, v->uri, sha, v->checksum);
    }
    return RS_OK;
}
