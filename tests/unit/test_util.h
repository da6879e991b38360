/* Helpers shared by the unit tests: temporary paths and file writing. Each
 * test process creates its own folder under $TMPDIR and removes it on
 * success. */
#ifndef RS_TEST_UTIL_H
#define RS_TEST_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A fresh folder for this test process: $TMPDIR/rs-test-XXXXXX. */
static inline const char *rs_test_dir(void)
{
    static char dir[512];
    if (!dir[0]) {
        const char *t = getenv("TMPDIR");
        snprintf(dir, sizeof dir, "%s/rs-test-XXXXXX", t && *t ? t : "/tmp");
        if (!mkdtemp(dir)) {
            perror("mkdtemp");
            abort();
        }
    }
    return dir;
}

/* dir/name in a static rotating buffer (four live at once). */
static inline const char *rs_test_path(const char *name)
{
    static char bufs[4][600];
    static int next;
    char *b = bufs[next++ % 4];
    snprintf(b, sizeof bufs[0], "%s/%s", rs_test_dir(), name);
    return b;
}

/* Writes `len` bytes (or strlen when len is (size_t)-1) to dir/name and
 * returns the path. */
static inline const char *rs_test_write(const char *name, const char *data, size_t len)
{
    const char *p = rs_test_path(name);
    FILE *f = fopen(p, "wb");
    if (!f) {
        perror(p);
        abort();
    }
    if (len == (size_t)-1)
        len = strlen(data);
    fwrite(data, 1, len, f);
    fclose(f);
    return p;
}

/* Removes the test folder and its contents. */
static inline void rs_test_cleanup(void)
{
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", rs_test_dir());
    if (system(cmd) != 0)
        fprintf(stderr, "warning: could not remove %s\n", rs_test_dir());
}

#endif
