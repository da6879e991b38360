/* Train/test splits of a user x item matrix for offline evaluation:
 *   random    per user, a seeded random share of the user's items
 *   temporal  per user, the user's latest items
 *   time      one global cut: everything at or after a time is test
 * Per-user splits keep at least one item of every user in training and
 * hold out round(fraction x n) of a user's n items.
 *
 * Two cold-start protocols replace the split kind:
 *   cold-items  a seeded random share (test_fraction) of the items is held
 *               out entirely: every interaction with them is test, so no
 *               model sees them in training
 *   cold-users  a seeded random share (test_fraction) of the users with
 *               more than `keep` interactions keeps only its first `keep`
 *               (by time; random without times) in training; the rest of
 *               theirs is test, and nobody else has test entries
 * The result depends only on the matrix, the times and the options. */
#ifndef RS_DATA_SPLIT_H
#define RS_DATA_SPLIT_H

#include <stdint.h>

#include "core/common.h"
#include "core/csr.h"
#include "core/err.h"

typedef enum rs_split_kind { RS_SPLIT_RANDOM, RS_SPLIT_TEMPORAL, RS_SPLIT_TIME_CUT } rs_split_kind;

/* "random", "temporal", "time" -> kind; -1 otherwise. */
int rs_split_parse(const char *s);
const char *rs_split_name(rs_split_kind k);

typedef enum rs_protocol {
    RS_PROTOCOL_NORMAL,
    RS_PROTOCOL_COLD_ITEMS,
    RS_PROTOCOL_COLD_USERS,
} rs_protocol;

/* "normal", "cold-items", "cold-users" -> protocol; -1 otherwise. */
int rs_protocol_parse(const char *s);
const char *rs_protocol_name(rs_protocol p);

typedef struct rs_split_opts {
    rs_protocol protocol;
    rs_split_kind kind;    /* normal protocol */
    double test_fraction;  /* in (0, 1) */
    uint64_t seed;         /* random */
    int64_t cut_ms;        /* time: the cut; 0 picks the time before which
                            * 1 - test_fraction of the entries fall */
    uint32_t keep;         /* cold-users: interactions kept, 1 or more */
} rs_split_opts;

/* Partitions the entries of m into *train and *test (both m's shape).
 * ts: m->nnz entry times aligned with m->indices; needed by temporal and
 * time (RS_EINVAL when NULL), ignored by random. Errors: RS_EINVAL (bad
 * options; diag names them), RS_ENOMEM. Outputs are zeroed on error. */
RS_MUST_USE rs_err rs_split(const rs_csr *m, const int64_t *ts, const rs_split_opts *o,
                            rs_csr *train, rs_csr *test, rs_diag *diag);

#endif
