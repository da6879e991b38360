/* The streaming delimited-text reader of csv.h.
 *
 * Records are read from a large buffer refilled from the file. Finding a
 * record's end is a memchr for '\n' on the fast path (a line without any
 * quote); lines with quotes go through a small state machine that knows
 * when a newline is inside a quoted field. Splitting then unquotes fields
 * in place (the output is never longer than the input) and NUL-terminates
 * each one, so no field is ever copied or allocated. */
#include "csv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"

#define DEFAULT_MAX_RECORD (1u << 20)
#define DEFAULT_MAX_FIELDS 1024
#define READ_CHUNK (1u << 20)

struct rs_csv {
    int fd;                  /* -1 when reading from memory */
    const char *mem;         /* memory input (borrowed) */
    size_t mem_len, mem_pos;
    char *buf;               /* buf[pos..len) is unread input; owned */
    size_t cap, len, pos;    /* cap > len always: one spare byte for a NUL */
    bool eof;                /* nothing more to read into buf */
    uint64_t base;           /* input offset of buf[0] */
    uint64_t size;           /* total input size, 0 when unknown */
    uint64_t line;           /* line number of buf[pos] */
    uint64_t rec_line;       /* where the last record started */
    bool bom_checked;
    rs_csv_opts o;
    rs_csv_field *fields;    /* max_fields entries; owned */
};

static void set_opts(rs_csv *c, const rs_csv_opts *opts)
{
    if (opts)
        c->o = *opts;
    else
        c->o = (rs_csv_opts){.delim = ',', .quotes = true};
    if (!c->o.delim)
        c->o.delim = ',';
    if (!c->o.max_record)
        c->o.max_record = DEFAULT_MAX_RECORD;
    if (!c->o.max_fields)
        c->o.max_fields = DEFAULT_MAX_FIELDS;
}

static rs_csv *reader_new(const rs_csv_opts *opts)
{
    rs_csv *c = rs_xcalloc(1, sizeof *c);
    set_opts(c, opts);
    c->fd = -1;
    c->line = 1;
    c->cap = READ_CHUNK + 1;
    c->buf = rs_xmalloc(c->cap);
    c->fields = rs_xmalloc(c->o.max_fields * sizeof *c->fields);
    return c;
}

rs_err rs_csv_open(const char *path, const rs_csv_opts *opts, rs_csv **out, rs_diag *diag)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return rs_diag_fail(diag, RS_EIO, "%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        close(fd);
        return rs_diag_fail(diag, RS_EIO, "%s: is a folder, not a file", path);
    }
    rs_csv *c = reader_new(opts);
    c->fd = fd;
    c->size = S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
    *out = c;
    return RS_OK;
}

rs_err rs_csv_open_mem(const char *data, size_t len, const rs_csv_opts *opts, rs_csv **out)
{
    rs_csv *c = reader_new(opts);
    c->mem = data;
    c->mem_len = len;
    c->size = len;
    *out = c;
    return RS_OK;
}

void rs_csv_close(rs_csv *c)
{
    if (!c)
        return;
    if (c->fd >= 0)
        close(c->fd);
    rs_free(c->buf);
    rs_free(c->fields);
    rs_free(c);
}

uint64_t rs_csv_line(const rs_csv *c)
{
    return c->rec_line;
}

uint64_t rs_csv_offset(const rs_csv *c)
{
    return c->base + c->pos;
}

uint64_t rs_csv_size(const rs_csv *c)
{
    return c->size;
}

/* Moves the unread bytes to the front, grows the buffer when it is full
 * (up to what the longest record needs) and reads more. Returns the number
 * of bytes added (0 at end of input or when the buffer cannot grow) or -1
 * with errno on a read error. */
static long fill(rs_csv *c)
{
    if (c->eof)
        return 0;
    if (c->pos > 0) {
        memmove(c->buf, c->buf + c->pos, c->len - c->pos);
        c->base += c->pos;
        c->len -= c->pos;
        c->pos = 0;
    }
    if (c->len + 1 >= c->cap) {
        size_t limit = c->o.max_record + 2;
        if (c->cap >= limit)
            return 0; /* the caller reports the record as too long */
        size_t cap = c->cap * 2 > limit ? limit : c->cap * 2;
        c->buf = rs_xrealloc(c->buf, cap);
        c->cap = cap;
    }
    size_t room = c->cap - 1 - c->len;
    ssize_t n;
    if (c->fd >= 0) {
        do
            n = read(c->fd, c->buf + c->len, room);
        while (n < 0 && errno == EINTR);
        if (n < 0)
            return -1;
    } else {
        n = (ssize_t)(c->mem_len - c->mem_pos < room ? c->mem_len - c->mem_pos : room);
        memcpy(c->buf + c->len, c->mem + c->mem_pos, (size_t)n);
        c->mem_pos += (size_t)n;
    }
    if (n == 0)
        c->eof = true;
    c->len += (size_t)n;
    return n;
}

static rs_err read_error(rs_csv *c, rs_diag *diag)
{
    return rs_diag_fail(diag, RS_EIO, "line %llu: read error: %s", (unsigned long long)c->line,
                        strerror(errno));
}

/* Makes at least `want` unread bytes available unless the input ends
 * first. Returns RS_OK or RS_EIO. */
static rs_err need(rs_csv *c, size_t want, rs_diag *diag)
{
    while (c->len - c->pos < want && !c->eof) {
        long n = fill(c);
        if (n < 0)
            return read_error(c, diag);
        if (n == 0 && !c->eof)
            break; /* buffer at its limit */
    }
    return RS_OK;
}

/* Skips the rest of the physical line starting at pos (after an error),
 * reading and discarding input as needed. */
static rs_err skip_line(rs_csv *c, rs_diag *diag)
{
    for (;;) {
        char *nl = memchr(c->buf + c->pos, '\n', c->len - c->pos);
        if (nl) {
            c->pos = (size_t)(nl - c->buf) + 1;
            c->line++;
            return RS_OK;
        }
        c->pos = c->len;
        if (c->eof)
            return RS_OK;
        if (fill(c) < 0)
            return read_error(c, diag);
    }
}

typedef enum scan_state { AT_FIELD, UNQUOTED, QUOTED, QUOTE_SEEN } scan_state;

/* Finds the end of the record starting at pos: sets *end to the index of
 * its terminating '\n' (or len at end of input) and *newlines to the
 * newlines inside quoted fields. Returns RS_OK, RS_EPARSE with the reason
 * in *why (unterminated quote, record too long), or RS_EIO. */
static rs_err find_end(rs_csv *c, size_t *end, uint64_t *newlines, const char **why,
                       rs_diag *diag)
{
    size_t scan = 0;  /* bytes of the record examined, relative to pos */
    scan_state st = AT_FIELD;
    bool simple = true;
    *newlines = 0;
    for (;;) {
        char *p = c->buf + c->pos, *lim = c->buf + c->len;
        if (simple) {
            /* Fast path: the line up to '\n' has no quote at all. */
            char *nl = memchr(p + scan, '\n', (size_t)(lim - p) - scan);
            char *stop = nl ? nl : lim;
            if (!c->o.quotes || !memchr(p, '"', (size_t)(stop - p))) {
                if (nl || c->eof) {
                    *end = (size_t)(stop - c->buf);
                    if ((size_t)(stop - p) > c->o.max_record)
                        goto too_long;
                    return RS_OK;
                }
                scan = (size_t)(lim - p);
                goto more;
            }
            simple = false;
            scan = 0;
        }
        for (; p + scan < lim; scan++) {
            char ch = p[scan];
            switch (st) {
            case AT_FIELD:
                if (ch == '"')
                    st = QUOTED;
                else if (ch == '\n')
                    goto done;
                else if (ch != c->o.delim)
                    st = UNQUOTED;
                break;
            case UNQUOTED:
                if (ch == '\n')
                    goto done;
                if (ch == c->o.delim)
                    st = AT_FIELD;
                break;
            case QUOTED:
                if (ch == '"')
                    st = QUOTE_SEEN;
                else if (ch == '\n')
                    ++*newlines;
                break;
            case QUOTE_SEEN:
                if (ch == '"')
                    st = QUOTED;
                else if (ch == '\n')
                    goto done;
                else
                    st = ch == c->o.delim ? AT_FIELD : UNQUOTED;
                break;
            }
            if (scan > c->o.max_record)
                goto too_long;
        }
        if (c->eof) {
            if (st == QUOTED) {
                *why = "unterminated quoted field";
                return RS_EPARSE;
            }
            *end = c->len;
            return RS_OK;
        }
    more:
        if (scan > c->o.max_record)
            goto too_long;
        {
            size_t before = c->len - c->pos;
            long n = fill(c);
            if (n < 0)
                return read_error(c, diag);
            if (n == 0 && !c->eof && c->len - c->pos == before)
                goto too_long;
        }
    }
done:
    *end = c->pos + scan;
    if (scan > c->o.max_record)
        goto too_long;
    return RS_OK;
too_long:
    *why = "record too long";
    return RS_EPARSE;
}

/* Splits the complete record buf[pos..end) into fields in place. Returns
 * RS_OK or RS_EPARSE with the reason in *why. */
static rs_err split(rs_csv *c, size_t end, size_t *n_out, const char **why)
{
    char *p = c->buf + c->pos, *e = c->buf + end;
    if (e > p && e[-1] == '\r')
        e--; /* CRLF: the '\r' cannot be inside quotes, the '\n' was not */
    const char delim = c->o.delim;
    size_t n = 0;
    for (;;) {
        if (n == c->o.max_fields) {
            *why = "too many fields";
            return RS_EPARSE;
        }
        if (c->o.quotes && p < e && *p == '"') {
            char *w = p, *start = p;
            p++;
            for (;;) {
                if (*p == '"') {
                    if (p + 1 < e && p[1] == '"') {
                        *w++ = '"';
                        p += 2;
                        continue;
                    }
                    p++;
                    break;
                }
                *w++ = *p++;
            }
            c->fields[n++] = (rs_csv_field){start, (size_t)(w - start)};
            *w = '\0';
            if (p == e)
                break;
            if (*p != delim) {
                *why = "text after a closing quote";
                return RS_EPARSE;
            }
            p++;
            continue;
        }
        char *q = memchr(p, delim, (size_t)(e - p));
        char *stop = q ? q : e;
        if (c->o.quotes && memchr(p, '"', (size_t)(stop - p))) {
            *why = "quote inside an unquoted field (quote the whole field and double inner quotes)";
            return RS_EPARSE;
        }
        c->fields[n++] = (rs_csv_field){p, (size_t)(stop - p)};
        *stop = '\0';
        if (!q)
            break;
        p = q + 1;
    }
    *n_out = n;
    return RS_OK;
}

rs_err rs_csv_next(rs_csv *c, const rs_csv_field **fields, size_t *n, rs_diag *diag)
{
    rs_err e;
    *n = 0;
    *fields = c->fields;
    if (!c->bom_checked) {
        if ((e = need(c, 3, diag)))
            return e;
        if (c->len - c->pos >= 3 && memcmp(c->buf + c->pos, "\xef\xbb\xbf", 3) == 0)
            c->pos += 3;
        c->bom_checked = true;
    }
    /* Skip blank lines ("\n" or "\r\n"). */
    for (;;) {
        if ((e = need(c, 2, diag)))
            return e;
        if (c->pos >= c->len)
            return RS_ENOTFOUND;
        char ch = c->buf[c->pos];
        if (ch == '\n') {
            c->pos++;
            c->line++;
        } else if (ch == '\r' && c->pos + 1 < c->len && c->buf[c->pos + 1] == '\n') {
            c->pos += 2;
            c->line++;
        } else {
            break;
        }
    }
    c->rec_line = c->line;
    size_t end = 0;
    uint64_t inner = 0;
    const char *why = NULL;
    e = find_end(c, &end, &inner, &why, diag);
    if (e == RS_EIO)
        return e;
    if (e == RS_EPARSE) {
        /* Resume after the first line of the broken record. */
        rs_err se = skip_line(c, diag);
        if (se)
            return se;
        return rs_diag_fail(diag, RS_EPARSE, "line %llu: %s", (unsigned long long)c->rec_line, why);
    }
    e = split(c, end, n, &why);
    c->pos = end < c->len ? end + 1 : c->len;
    c->line += 1 + inner;
    if (e) {
        *n = 0;
        return rs_diag_fail(diag, RS_EPARSE, "line %llu: %s", (unsigned long long)c->rec_line, why);
    }
    return RS_OK;
}
