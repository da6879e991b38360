/* Helpers shared by the benchmarks: memory readings from /proc and the
 * JSON line every result is printed as. */
#ifndef RS_BENCH_UTIL_H
#define RS_BENCH_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "data/csv.h"

/* A field of /proc/self/status in KiB ("VmRSS", "VmHWM"), or -1. */
static inline long bench_status_kib(const char *field)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    char line[256];
    long v = -1;
    size_t n = strlen(field);
    while (fgets(line, sizeof line, f))
        if (strncmp(line, field, n) == 0 && line[n] == ':') {
            v = strtol(line + n + 1, NULL, 10);
            break;
        }
    fclose(f);
    return v;
}

/* Resets the peak resident size (VmHWM) to the current one; returns 0 when
 * the kernel supports it. */
static inline int bench_reset_peak(void)
{
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (!f)
        return -1;
    int ok = fputs("5", f) >= 0;
    return fclose(f) == 0 && ok ? 0 : -1;
}

/* The commit being measured, from RECSYS_COMMIT or "unknown". */
static inline const char *bench_commit(void)
{
    const char *c = getenv("RECSYS_COMMIT");
    return c && *c ? c : "unknown";
}

/* Reads "user<sep>item<sep>value..." lines whose ids are integers (an
 * optional one-letter prefix such as "u17" is skipped) into triplets with
 * 0-based ids (id - 1). skip: header lines to skip. The arrays are
 * rs_xmalloc'd. Returns 0, or 1 after printing why. */
static inline int bench_read_ratings(const char *path, char sep, int skip, uint32_t **u,
                                     uint32_t **i, float **r, size_t *n)
{
    rs_csv_opts co = {.delim = sep, .quotes = false};
    rs_csv *c;
    rs_diag d = {{0}};
    if (rs_csv_open(path, &co, &c, &d)) {
        fprintf(stderr, "%s\n", d.msg);
        return 1;
    }
    size_t cap = 1 << 17;
    *u = rs_xmalloc(cap * sizeof **u);
    *i = rs_xmalloc(cap * sizeof **i);
    *r = rs_xmalloc(cap * sizeof **r);
    *n = 0;
    const rs_csv_field *f;
    size_t nf;
    rs_err e;
    while ((e = rs_csv_next(c, &f, &nf, &d)) == RS_OK) {
        if (skip > 0) {
            skip--;
            continue;
        }
        if (nf < 3)
            continue;
        if (*n == cap) {
            cap *= 2;
            *u = rs_xreallocarray(*u, cap, sizeof **u);
            *i = rs_xreallocarray(*i, cap, sizeof **i);
            *r = rs_xreallocarray(*r, cap, sizeof **r);
        }
        const char *pu = f[0].p + (f[0].p[0] > '9'), *pi = f[1].p + (f[1].p[0] > '9');
        (*u)[*n] = (uint32_t)strtoul(pu, NULL, 10) - 1;
        (*i)[*n] = (uint32_t)strtoul(pi, NULL, 10) - 1;
        (*r)[*n] = strtof(f[2].p, NULL);
        (*n)++;
    }
    rs_csv_close(c);
    if (e != RS_ENOTFOUND)
        fprintf(stderr, "%s: %s\n", path, d.msg);
    return e == RS_ENOTFOUND ? 0 : 1;
}

#endif
