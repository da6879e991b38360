/* Text validation shared by every input path: UTF-8 well-formedness, the
 * rules for external ids and event type names, and Latin-1 conversion for
 * legacy files. All functions are pure and thread-safe. */
#ifndef RS_CORE_TEXT_H
#define RS_CORE_TEXT_H

#include <stdbool.h>
#include <stddef.h>

#include "common.h"
#include "err.h"
#include "arena.h"

/* The longest external id (user or item) in bytes. */
#define RS_ID_MAX 256
/* The longest event type name in bytes. */
#define RS_TYPE_MAX 32
/* The longest free text field (title, category, brand, tag) in bytes. */
#define RS_TEXT_MAX 1024

/* True when s[0..len) is well-formed UTF-8 (no overlongs, no surrogates, no
 * code point above U+10FFFF). On failure *bad_at (when not NULL) is the
 * byte offset of the first bad sequence. */
bool rs_utf8_valid(const char *s, size_t len, size_t *bad_at);

/* Checks an external id: 1..RS_ID_MAX bytes of UTF-8 without control
 * characters (U+0000..U+001F, U+007F). Returns RS_OK, or RS_EINVAL with a
 * static reason in *why. Any other string is a valid id: ids are whatever
 * the user's own systems use. */
RS_MUST_USE rs_err rs_id_check(const char *s, size_t len, const char **why);

/* Checks an event type name: 1..RS_TYPE_MAX bytes of [a-z0-9_-], starting
 * with a letter. Returns RS_OK or RS_EINVAL with a reason in *why. */
RS_MUST_USE rs_err rs_type_check(const char *s, size_t len, const char **why);

/* Checks a free text field: at most RS_TEXT_MAX bytes of UTF-8 without
 * control characters other than tab. */
RS_MUST_USE rs_err rs_text_check(const char *s, size_t len, const char **why);

/* Converts ISO-8859-1 bytes to UTF-8 in the arena. */
char *rs_latin1_to_utf8(rs_arena *a, const char *s, size_t len);

/* Trims ASCII spaces and tabs at both ends of s[0..*len) in place of the
 * view: returns the new start and updates *len. */
const char *rs_trim(const char *s, size_t *len);

#endif
