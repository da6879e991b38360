/* Fuzz target for the CSV importers (data/import.h) against a real SQLite
 * store. The first byte picks the format (events or items CSV) and strict
 * mode; the rest is the file. Checks the importer's promise: a failed
 * import leaves the store's counts exactly as they were, a successful one
 * adds exactly the events it reports. The database is recreated every few
 * hundred inputs to keep it small. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data/import.h"
#include "store/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[512];
static rs_store *store;
static unsigned runs;

/* Removes the database files and the input, then the folder. */
static void cleanup(void)
{
    rs_store_close(store);
    store = NULL;
    const char *names[] = {"fuzz.db", "fuzz.db-wal", "fuzz.db-shm", "input.csv"};
    char path[600];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
    rmdir(dir);
}

static void fresh_store(void)
{
    char path[600], url[700];
    if (!dir[0]) {
        const char *t = getenv("TMPDIR");
        snprintf(dir, sizeof dir, "%s/rs-fuzz-import-XXXXXX", t && *t ? t : "/tmp");
        if (!mkdtemp(dir))
            abort();
        atexit(cleanup);
    }
    rs_store_close(store);
    store = NULL;
    snprintf(path, sizeof path, "%s/fuzz.db", dir);
    unlink(path);
    snprintf(url, sizeof url, "sqlite://%s", path);
    rs_diag d = {{0}};
    if (rs_store_open(url, &store, &d) != RS_OK) {
        fprintf(stderr, "fuzz_import: %s\n", d.msg);
        abort();
    }
}

static void counts(rs_store_counts *c)
{
    if (rs_store_get_counts(store, c) != RS_OK)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    if (runs++ % 500 == 0)
        fresh_store();
    char path[600];
    snprintf(path, sizeof path, "%s/input.csv", dir);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data + 1, 1, size - 1, f) != size - 1 || fclose(f) != 0)
        abort();

    rs_import_opts o = {
        .format = (data[0] & 1) ? RS_IMPORT_ITEMS_CSV : RS_IMPORT_EVENTS_CSV,
        .strict = (data[0] & 2) != 0,
        .force = true,
    };
    rs_store_counts before, after;
    counts(&before);
    const char *paths[] = {path};
    rs_import_report r;
    rs_diag d = {{0}};
    rs_err e = rs_import(store, paths, 1, &o, &r, &d);
    counts(&after);
    if (e != RS_OK) {
        if (d.msg[0] == '\0')
            abort(); /* every failure names its problem */
        if (memcmp(&before, &after, sizeof before) != 0)
            abort(); /* and writes nothing */
    } else if (after.events != before.events + r.events || r.bad_rows > r.rows) {
        abort();
    }
    return 0;
}
