/* The model artifact file: one binary file per model version holding named
 * sections (id maps, factors, popularity lists, ...), built to be mapped
 * into memory and used in place, and verified before any byte of it is
 * trusted.
 *
 *   offset 0    header, 64 bytes:
 *                 magic     8 bytes  "RSMODEL\0"
 *                 version   u32      RS_ARTIFACT_VERSION
 *                 sections  u32      number of entries in the table
 *                 size      u64      the whole file's size in bytes
 *                 table     u64      offset of the section table
 *                 sha256    32 bytes of bytes [64, size)
 *   offset 64   section data, each section starting on a 64-byte boundary
 *   table       sections x 32 bytes: name (16 bytes, NUL-padded), offset
 *               (u64), size (u64)
 *
 * Integers are little-endian (the only byte order recsys runs on). A file
 * is written to a temporary name, synced and renamed, so a reader sees
 * either the whole file or none. Writers and readers are not thread-safe;
 * an open artifact is immutable and may be read from any thread. */
#ifndef RS_MODELS_ARTIFACT_H
#define RS_MODELS_ARTIFACT_H

#include <stddef.h>
#include <stdint.h>

#include "core/common.h"
#include "core/err.h"

#define RS_ARTIFACT_VERSION 1u
#define RS_ARTIFACT_NAME_MAX 15  /* bytes in a section name */

typedef struct rs_artifact_writer rs_artifact_writer;

/* Starts writing the artifact that will become `path`. Errors: RS_EIO
 * (diag has the path and the OS reason), RS_ENOMEM. */
RS_MUST_USE rs_err rs_artifact_create(const char *path, rs_artifact_writer **out, rs_diag *diag);

/* Appends a section (data copied to the file now). Names are unique,
 * 1..RS_ARTIFACT_NAME_MAX bytes. Errors: RS_EINVAL (bad or repeated name),
 * RS_EIO. After an error the writer can only be aborted. */
RS_MUST_USE rs_err rs_artifact_add(rs_artifact_writer *w, const char *name, const void *data,
                                   size_t size, rs_diag *diag);

/* Writes the table and header, syncs and renames the file into place, and
 * frees the writer (also on error, which removes the temporary file). */
RS_MUST_USE rs_err rs_artifact_commit(rs_artifact_writer *w, rs_diag *diag);

/* Abandons the file and frees the writer. Accepts NULL. */
void rs_artifact_abort(rs_artifact_writer *w);

typedef struct rs_artifact rs_artifact;

/* Maps the file and verifies it: magic, version, sizes, the section table
 * and the checksum. Errors: RS_EIO (cannot read), RS_ECORRUPT (not an
 * artifact, truncated, or damaged: diag says which), RS_EVERSION (written
 * by a newer recsys). */
RS_MUST_USE rs_err rs_artifact_open(const char *path, rs_artifact **out, rs_diag *diag);

/* The same over bytes already in memory (borrowed: they must outlive the
 * artifact and stay unchanged). */
RS_MUST_USE rs_err rs_artifact_open_mem(const void *data, size_t size, rs_artifact **out,
                                        rs_diag *diag);

/* The bytes of a section (64-byte aligned in the file), or NULL when there
 * is no such section. */
const void *rs_artifact_section(const rs_artifact *a, const char *name, size_t *size);

/* The file's SHA-256 of everything after the header, as 64 hex digits. */
const char *rs_artifact_digest(const rs_artifact *a);

/* Unmaps and frees. Accepts NULL. */
void rs_artifact_close(rs_artifact *a);

#endif
