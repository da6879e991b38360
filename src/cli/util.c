/* Output helpers for the CLI: opening the store with a readable error,
 * progress lines, number formatting and folder creation. */
#include "cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/timeutil.h"

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
