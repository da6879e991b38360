/* UTF-8 validation, id/type/text rules and Latin-1 conversion; see text.h. */
#include "text.h"

#include <string.h>

bool rs_utf8_valid(const char *str, size_t len, size_t *bad_at)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < len) {
        /* Fast path over ASCII, eight bytes at a time. */
        if (i + 8 <= len) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            if (!(w & UINT64_C(0x8080808080808080))) {
                i += 8;
                continue;
            }
        }
        unsigned c = s[i];
        size_t n;
        unsigned min;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xc2 && c <= 0xdf) {
            n = 1, min = 0x80;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 2, min = 0x800;
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 3, min = 0x10000;
        } else {
            goto bad;
        }
        if (len - i <= n)
            goto bad;
        unsigned cp = c & (0x3f >> n);
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                goto bad;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            goto bad;
        i += n + 1;
    }
    return true;
bad:
    if (bad_at)
        *bad_at = i;
    return false;
}

static rs_err why_fail(const char **why, const char *msg)
{
    if (why)
        *why = msg;
    return RS_EINVAL;
}

static bool has_control(const char *s, size_t len, bool allow_tab)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && !(allow_tab && c == '\t')) || c == 0x7f)
            return true;
    }
    return false;
}

rs_err rs_id_check(const char *s, size_t len, const char **why)
{
    if (len == 0)
        return why_fail(why, "empty id");
    if (len > RS_ID_MAX)
        return why_fail(why, "id longer than 256 bytes");
    if (!rs_utf8_valid(s, len, NULL))
        return why_fail(why, "id is not valid UTF-8");
    if (has_control(s, len, false))
        return why_fail(why, "id contains a control character");
    return RS_OK;
}

rs_err rs_type_check(const char *s, size_t len, const char **why)
{
    if (len == 0)
        return why_fail(why, "empty event type");
    if (len > RS_TYPE_MAX)
        return why_fail(why, "event type longer than 32 bytes");
    if (!(s[0] >= 'a' && s[0] <= 'z'))
        return why_fail(why, "event type must start with a lower-case letter");
    for (size_t i = 1; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return why_fail(why, "event type may hold only a-z, 0-9, '_' and '-'");
    }
    return RS_OK;
}

rs_err rs_text_check(const char *s, size_t len, const char **why)
{
    if (len > RS_TEXT_MAX)
        return why_fail(why, "text longer than 1024 bytes");
    if (!rs_utf8_valid(s, len, NULL))
        return why_fail(why, "text is not valid UTF-8");
    if (has_control(s, len, true))
        return why_fail(why, "text contains a control character");
    return RS_OK;
}

char *rs_latin1_to_utf8(rs_arena *a, const char *s, size_t len)
{
    char *out = rs_arena_alloc(a, 2 * len + 1);
    size_t j = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80) {
            out[j++] = (char)c;
        } else {
            out[j++] = (char)(0xc0 | (c >> 6));
            out[j++] = (char)(0x80 | (c & 0x3f));
        }
    }
    out[j] = '\0';
    return out;
}

const char *rs_trim(const char *s, size_t *len)
{
    size_t n = *len;
    while (n && (*s == ' ' || *s == '\t'))
        s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    *len = n;
    return s;
}
