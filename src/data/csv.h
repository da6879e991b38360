/* A streaming reader for delimited text files: RFC 4180 CSV (quoted fields,
 * "" escapes, quoted newlines) and the simpler tab- or pipe-separated files
 * of older data sets. Built for import speed (hundreds of MB/s: memchr-based
 * scanning over a large read buffer, fields returned in place, no per-field
 * allocation) and for clear errors: every record knows the line it started
 * on, and a malformed record is reported with its line and reason, after
 * which reading resumes at the next line.
 *
 * Lines end with "\n" or "\r\n". A UTF-8 byte order mark at the start of
 * the file is skipped. Blank lines are skipped. Field bytes are returned as
 * they are (no encoding check: callers validate). Not thread-safe. */
#ifndef RS_DATA_CSV_H
#define RS_DATA_CSV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/common.h"
#include "core/err.h"

typedef struct rs_csv_opts {
    char delim;          /* ',' (default when 0), '\t', '|', ... */
    bool quotes;         /* RFC 4180 quoting; when false '"' is ordinary */
    size_t max_record;   /* longest record in bytes; 0 means 1 MiB */
    size_t max_fields;   /* most fields per record; 0 means 1024 */
} rs_csv_opts;

/* One field: bytes [p, p + len), also NUL-terminated at p[len]. Borrowed:
 * valid until the next call to rs_csv_next or rs_csv_close. */
typedef struct rs_csv_field {
    const char *p;
    size_t len;
} rs_csv_field;

typedef struct rs_csv rs_csv;

/* Opens path for reading. opts may be NULL for defaults (comma, quoting on).
 * Errors: RS_EIO (with the OS reason in diag) when the file cannot be
 * opened. */
RS_MUST_USE rs_err rs_csv_open(const char *path, const rs_csv_opts *opts, rs_csv **out,
                               rs_diag *diag);

/* Reads from an in-memory buffer instead of a file (borrowed; must outlive
 * the reader). For tests and fuzzing. */
RS_MUST_USE rs_err rs_csv_open_mem(const char *data, size_t len, const rs_csv_opts *opts,
                                   rs_csv **out);

/* Closes the reader. Accepts NULL. */
void rs_csv_close(rs_csv *c);

/* Reads the next record.
 *   RS_OK       a record: *fields[0..*n) hold it (n >= 1)
 *   RS_ENOTFOUND end of input (*n = 0)
 *   RS_EPARSE   a malformed record (unterminated quote, text after a closing
 *               quote, a quote inside an unquoted field, more than
 *               max_fields fields, longer than max_record); diag says why
 *               as "line N: reason". The rest of that line (or of the
 *               broken quoted field) is skipped; the next call continues
 *               with the following line.
 *   RS_EIO      a read error (diag has the OS reason); reading cannot go on.
 * rs_csv_line tells the line the returned (or rejected) record started on. */
RS_MUST_USE rs_err rs_csv_next(rs_csv *c, const rs_csv_field **fields, size_t *n, rs_diag *diag);

/* The 1-based line number where the last record returned or rejected
 * started. */
uint64_t rs_csv_line(const rs_csv *c);

/* Bytes consumed so far and the total size (0 when unknown), for progress
 * reports. */
uint64_t rs_csv_offset(const rs_csv *c);
uint64_t rs_csv_size(const rs_csv *c);

#endif
