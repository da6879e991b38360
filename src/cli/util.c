/* Output helpers for the CLI: opening the store and the model store with
 * a readable error, loading a data set from files or the store, times,
 * progress lines and number formatting. */
#include "cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/timeutil.h"
#include "data/dataset.h"
#include "registry/objstore.h"

int cli_open_store(const char *cmd, const char *url, rs_store **out)
{
    rs_diag d = {{0}};
    rs_err e = rs_store_open(url, out, &d);
    if (e) {
        cli_error(cmd, "--db: %s", d.msg);
        return e == RS_EINVAL ? 2 : 1;
    }
    return 0;
}

int cli_load_dataset(const char *cmd, const char *data, int format, const char *db,
                     const rs_dataset_opts *opts, rs_dataset *out)
{
    memset(out, 0, sizeof *out);
    rs_diag diag = {{0}};
    rs_err e;
    if (data) {
        uint64_t bad = 0;
        const char *paths[1] = {data};
        e = rs_dataset_from_files(paths, 1, format, opts, out, &bad, &diag);
        if (!e && bad)
            fprintf(stderr, "recsys %s: skipped %llu malformed rows (see 'recsys import')\n",
                    cmd, (unsigned long long)bad);
    } else {
        rs_store *s;
        int rc = cli_open_store(cmd, db, &s);
        if (rc)
            return rc;
        e = rs_dataset_load(s, opts, out, &diag);
        rs_store_close(s);
    }
    if (e) {
        cli_error(cmd, "%s", diag.msg);
        return rs_err_exit_code(e);
    }
    return 0;
}

int cli_open_objstore(const char *cmd, const char *url, rs_objstore **out)
{
    rs_diag d = {{0}};
    rs_err e = rs_objstore_open(url, out, &d);
    if (e) {
        cli_error(cmd, "--models: %s", d.msg);
        return e == RS_EINVAL ? 2 : 1;
    }
    return 0;
}

const char *cli_time(int64_t ms, char *buf, size_t cap)
{
    if (ms <= 0) {
        snprintf(buf, cap, "-");
        return buf;
    }
    const time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    strftime(buf, cap, "%Y-%m-%d %H:%M:%S", &tm);
    return buf;
}

const char *cli_tmp_dir(void)
{
    const char *t = getenv("TMPDIR");
    return t && *t ? t : "/tmp";
}

void cli_progress_init(cli_progress *p, const char *cmd)
{
    p->cmd = cmd;
    p->tty = isatty(STDERR_FILENO);
    p->last = rs_mono_s();
    p->dirty = false;
}

void cli_progress_say(cli_progress *p, bool force, const char *fmt, ...)
{
    double now = rs_mono_s();
    /* A terminal gets updates several times a second, a log every 5 s. */
    if (!force && now - p->last < (p->tty ? 0.2 : 5.0))
        return;
    p->last = now;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%srecsys %s: ", p->tty ? "\r\033[K" : "", p->cmd);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    if (p->tty) {
        p->dirty = true;
    } else {
        fputc('\n', stderr);
    }
    fflush(stderr);
}

void cli_progress_done(cli_progress *p)
{
    if (p->tty && p->dirty) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
    }
    p->dirty = false;
}

const char *cli_thousands(uint64_t v, char *buf, size_t cap)
{
    char digits[32];
    int n = snprintf(digits, sizeof digits, "%llu", (unsigned long long)v);
    size_t j = 0;
    for (int i = 0; i < n && j + 1 < cap; i++) {
        if (i > 0 && (n - i) % 3 == 0 && j + 2 < cap)
            buf[j++] = ',';
        buf[j++] = digits[i];
    }
    buf[j] = '\0';
    return buf;
}
