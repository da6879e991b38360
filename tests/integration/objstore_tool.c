/* A small driver of the model store (src/registry/objstore.h) for the
 * integration tests: one operation per run, results on stdout, the
 * diagnostic on stderr.
 *
 *   objstore_tool URL put KEY FILE [SHA256]   prints "URI SHA256 SIZE"
 *   objstore_tool URL get KEY FILE            prints the SHA-256 received
 *   objstore_tool URL list                    prints "KEY SIZE" lines
 *   objstore_tool URL delete KEY
 *   objstore_tool URL uri KEY                 prints the URI (checked back to KEY)
 *
 * put uses SHA256 as the payload hash when given (to test a wrong one).
 * Exit status: 0 ok, 1 error, 2 usage, 3 not found (RS_ENOTFOUND), 4 corrupt
 * (RS_ECORRUPT). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "registry/objstore.h"

static int status_of(rs_err e)
{
    switch (e) {
    case RS_OK:
        return 0;
    case RS_ENOTFOUND:
        return 3;
    case RS_ECORRUPT:
        return 4;
    default:
        return 1;
    }
}

static int print_entry(void *ctx, const char *key, uint64_t size)
{
    (void)ctx;
    printf("%s %" PRIu64 "\n", key, size);
    return 0;
}

static rs_err op_put(rs_objstore *s, int argc, char **argv, rs_diag *d)
{
    char sha[RS_SHA256_HEX], uri[1024];
    rs_err e = argc == 6 ? RS_OK : rs_sha256_file(argv[4], sha, d);
    const char *hash = argc == 6 ? argv[5] : sha;
    if (!e)
        e = rs_objstore_put_file(s, argv[3], argv[4], hash, d);
    if (!e)
        e = rs_objstore_uri(s, argv[3], uri, sizeof uri, d);
    struct stat st;
    if (!e && stat(argv[4], &st) == 0)
        printf("%s %s %lld\n", uri, hash, (long long)st.st_size);
    return e;
}

static rs_err op_uri(rs_objstore *s, int argc, char **argv, rs_diag *d)
{
    (void)argc;
    const char *key = argv[3];
    char uri[1024], back[256];
    rs_err e = rs_objstore_uri(s, key, uri, sizeof uri, d);
    if (!e)
        e = rs_objstore_key(s, uri, back, sizeof back, d);
    if (!e && strcmp(back, key) != 0)
        e = rs_diag_fail(d, RS_EINTERNAL, "%s gave back the key '%s', not '%s'", uri, back, key);
    if (!e)
        printf("%s\n", uri);
    return e;
}

/* The operations: name, the argument counts they take, and the call. */
typedef rs_err (*op_fn)(rs_objstore *s, int argc, char **argv, rs_diag *d);

static rs_err op_get(rs_objstore *s, int argc, char **argv, rs_diag *d)
{
    (void)argc;
    char sha[RS_SHA256_HEX];
    rs_err e = rs_objstore_get_file(s, argv[3], argv[4], sha, d);
    if (!e)
        printf("%s\n", sha);
    return e;
}

static rs_err op_list(rs_objstore *s, int argc, char **argv, rs_diag *d)
{
    (void)argc, (void)argv;
    return rs_objstore_list(s, print_entry, NULL, d);
}

static rs_err op_delete(rs_objstore *s, int argc, char **argv, rs_diag *d)
{
    (void)argc;
    return rs_objstore_delete(s, argv[3], d);
}

static const struct {
    const char *name;
    int min_argc, max_argc;
    op_fn fn;
} ops[] = {
    {"put", 5, 6, op_put},
    {"get", 5, 5, op_get},
    {"list", 3, 3, op_list},
    {"delete", 4, 4, op_delete},
    {"uri", 4, 4, op_uri},
};

int main(int argc, char **argv)
{
    op_fn fn = NULL;
    for (size_t i = 0; argc >= 3 && i < sizeof ops / sizeof ops[0]; i++)
        if (!strcmp(argv[2], ops[i].name) && argc >= ops[i].min_argc && argc <= ops[i].max_argc)
            fn = ops[i].fn;
    if (!fn) {
        fprintf(stderr, "usage: objstore_tool URL put KEY FILE [SHA256] | get KEY FILE | list "
                        "| delete KEY | uri KEY\n");
        return 2;
    }
    rs_diag d = {{0}};
    rs_objstore *s;
    rs_err e = rs_objstore_open(argv[1], &s, &d);
    if (!e) {
        e = fn(s, argc, argv, &d);
        rs_objstore_close(s);
    }
    if (e)
        fprintf(stderr, "objstore_tool: %s: %s\n", rs_err_name(e), d.msg);
    fflush(stdout);
    return status_of(e);
}
