/* bench_import: how fast events import into SQLite, and how much memory
 * building the training matrix from them takes.
 *
 *   bench_import [EVENTS [USERS [ITEMS]]]     (default 1000000 50000 20000)
 *
 * Generates a catalogue (not timed), imports items.csv and events.csv into
 * a fresh database through the same code as `recsys import`, then, in a
 * fresh process, loads the user x item matrix from the store and reports
 * the peak resident memory the load added, next to the matrix's own size:
 * matrix_bytes is the CSR arrays (row offsets, columns, values);
 * matrix_and_times_bytes adds the time of each entry, which the data set
 * also holds (for temporal splits and trending).
 * Prints one JSON line per result. */
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_util.h"
#include "core/timeutil.h"
#include "data/dataset.h"
#include "data/generate.h"
#include "data/import.h"

static int die(const char *what, const char *msg)
{
    fprintf(stderr, "bench_import: %s: %s\n", what, msg);
    return 1;
}

/* Child mode: load the matrix from the store at url and report memory. */
static int measure_load(const char *url)
{
    rs_store *s;
    rs_diag d = {{0}};
    if (rs_store_open(url, &s, &d))
        return die("open", d.msg);
    long base = bench_status_kib("VmRSS");
    if (bench_reset_peak() != 0)
        return die("reset peak", "/proc/self/clear_refs is not writable");
    double t0 = rs_mono_s();
    rs_dataset ds;
    rs_dataset_opts o = {.agg = RS_AGG_SUM};
    if (rs_dataset_load(s, &o, &ds, &d))
        return die("load", d.msg);
    double secs = rs_mono_s() - t0;
    long peak = bench_status_kib("VmHWM");
    size_t matrix = rs_csr_memory(&ds.ui);
    size_t with_times = matrix + ds.ui.nnz * sizeof *ds.ts_ms;
    size_t maps = rs_idmap_memory(ds.users) + rs_idmap_memory(ds.items);
    double added = (double)(peak - base) * 1024.0;
    printf("{\"bench\":\"import\",\"what\":\"load_csr\",\"events\":%llu,\"users\":%zu,"
           "\"items\":%zu,\"nnz\":%zu,\"seconds\":%.3f,\"matrix_bytes\":%zu,"
           "\"idmap_bytes\":%zu,\"peak_added_bytes\":%.0f,\"peak_over_matrix\":%.2f,"
           "\"matrix_and_times_bytes\":%zu,\"peak_over_matrix_and_times\":%.2f,"
           "\"peak_over_matrix_and_maps\":%.2f,\"commit\":\"%s\"}\n",
           (unsigned long long)ds.events, rs_idmap_size(ds.users), rs_idmap_size(ds.items),
           ds.ui.nnz, secs, matrix, maps, added, added / (double)matrix, with_times,
           added / (double)with_times, added / (double)(matrix + maps), bench_commit());
    rs_dataset_destroy(&ds);
    rs_store_close(s);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--load") == 0)
        return measure_load(argv[2]);
    uint64_t events = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000;
    uint32_t users = argc > 2 ? (uint32_t)strtoul(argv[2], NULL, 10) : 50000;
    uint32_t items = argc > 3 ? (uint32_t)strtoul(argv[3], NULL, 10) : 20000;

    char dir[] = "/tmp/rs-bench-import-XXXXXX";
    if (!mkdtemp(dir))
        return die("mkdtemp", "failed");
    rs_gen_opts g = {.users = users, .items = items, .events = events, .seed = 42};
    rs_gen_report gr;
    rs_diag d = {{0}};
    if (rs_generate(dir, &g, &gr, &d))
        return die("generate", d.msg);

    char url[256], items_csv[256], events_csv[256];
    snprintf(url, sizeof url, "sqlite://%s/bench.db", dir);
    snprintf(items_csv, sizeof items_csv, "%s/items.csv", dir);
    snprintf(events_csv, sizeof events_csv, "%s/events.csv", dir);
    rs_store *s;
    if (rs_store_open(url, &s, &d))
        return die("open", d.msg);
    rs_import_report r;
    const char *p = items_csv;
    rs_import_opts io = {.format = RS_IMPORT_ITEMS_CSV, .strict = true};
    if (rs_import(s, &p, 1, &io, &r, &d))
        return die("import items", d.msg);
    p = events_csv;
    io.format = RS_IMPORT_EVENTS_CSV;
    if (rs_import(s, &p, 1, &io, &r, &d))
        return die("import events", d.msg);
    rs_store_close(s);
    printf("{\"bench\":\"import\",\"what\":\"import_events\",\"events\":%llu,\"users\":%u,"
           "\"items\":%u,\"seconds\":%.3f,\"events_per_s\":%.0f,\"threads\":1,"
           "\"commit\":\"%s\"}\n",
           (unsigned long long)r.events, users, items, r.seconds, (double)r.events / r.seconds,
           bench_commit());
    fflush(stdout);

    pid_t pid = fork();
    if (pid == 0) {
        execl("/proc/self/exe", argv[0], "--load", url, (char *)NULL);
        _exit(127);
    }
    int status = 1;
    waitpid(pid, &status, 0);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "bench_import: could not remove %s\n", dir);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
