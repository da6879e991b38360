/* Fuzz target for the delimited-text reader (data/csv.h). The first byte
 * picks the options (delimiter, quoting, small limits so the "too long" and
 * "too many fields" paths are reached); the rest is the text. Checks that
 * every record has at least one field, that fields lie inside the reader's
 * buffer and are NUL-terminated, that line numbers never go backwards and
 * that reading always ends. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "data/csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    static const char delims[] = {',', '\t', '|', ';'};
    rs_csv_opts o = {
        .delim = delims[data[0] & 3],
        .quotes = (data[0] & 4) == 0,
        .max_record = (data[0] & 8) ? 64 : 0,
        .max_fields = (data[0] & 16) ? 4 : 0,
    };
    rs_csv *c;
    if (rs_csv_open_mem((const char *)data + 1, size - 1, &o, &c) != RS_OK)
        abort();
    uint64_t last_line = 0, records = 0;
    for (;;) {
        const rs_csv_field *f;
        size_t n;
        rs_diag d = {{0}};
        rs_err e = rs_csv_next(c, &f, &n, &d);
        if (e == RS_ENOTFOUND)
            break;
        if (rs_csv_line(c) < last_line || rs_csv_line(c) == 0)
            abort();
        last_line = rs_csv_line(c);
        if (e == RS_EPARSE) {
            if (strncmp(d.msg, "line ", 5) != 0)
                abort();
        } else if (e == RS_OK) {
            if (n == 0)
                abort();
            for (size_t i = 0; i < n; i++)
                if (f[i].p[f[i].len] != '\0')
                    abort();
        } else {
            abort();
        }
        if (++records > size + 1) /* each record consumes at least one byte */
            abort();
    }
    if (rs_csv_offset(c) != size - 1)
        abort();
    rs_csv_close(c);
    return 0;
}
