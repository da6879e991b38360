/* The little XML the s3:// model store reads: a ListObjectsV2 page
 * (ListBucketResult) and an error document (<Error><Code>, <Message>).
 * Not a general XML parser: it finds elements by name, which is enough for
 * these documents because the elements read never nest in themselves and
 * any '<' inside a key or message arrives escaped. Text is decoded from
 * the five named entities and numeric character references. */
#ifndef RS_REGISTRY_S3_XML_H
#define RS_REGISTRY_S3_XML_H

#include <stddef.h>
#include <stdint.h>

#include "core/common.h"
#include "core/err.h"

/* The raw content of an element: bytes p[0..n), borrowed from the
 * document. */
typedef struct rs__xml_span {
    const char *p;
    size_t n;
} rs__xml_span;

/* Finds the next element named tag ("Key", not "KeyCount") in
 * xml[*pos..len), sets *inner to its content and *pos past its end tag.
 * An empty element (<Tag/>) has empty content. Returns 1 when found, 0
 * when there is none (or it is not closed). */
int rs__xml_next(const char *xml, size_t len, const char *tag, size_t *pos,
                 rs__xml_span *inner);

/* Decodes the text content in into out (cap bytes, always NUL-terminated
 * when cap > 0). Errors: RS_EPARSE for an unknown or malformed entity, a
 * character reference outside Unicode, a NUL, or markup inside the text;
 * RS_ETOOBIG when the text does not fit. */
RS_MUST_USE rs_err rs__xml_text(rs__xml_span in, char *out, size_t cap);

/* Reads S3's error document: the text of <Code> and <Message>, each ""
 * when absent or undecodable (truncated to fit). */
void rs__s3_error_parse(const char *xml, size_t len, char *code, size_t code_cap, char *msg,
                        size_t msg_cap);

/* Called for each object of a listing page, in document order, with the
 * object's full key (decoded) and size. Returns 0 to go on. */
typedef int (*rs__s3_entry_fn)(void *ctx, const char *key, uint64_t size);

/* Reads one ListObjectsV2 page: calls fn for every <Contents>, then sets
 * *truncated (the page's <IsTruncated>) and next_token (its
 * <NextContinuationToken>, "" when absent). Errors: RS_EPARSE with a
 * static reason in *why when the page is malformed (a <Contents> without
 * <Key> or <Size>, a key over 1024 bytes, a bad size, no
 * <ListBucketResult>); RS_ECANCELED when fn stopped the page. */
RS_MUST_USE rs_err rs__s3_list_parse(const char *xml, size_t len, rs__s3_entry_fn fn,
                                     void *ctx, int *truncated, char *next_token,
                                     size_t token_cap, const char **why);

#endif
