/* Reading S3's listing and error documents (see s3_xml.h). */
#include "s3_xml.h"

#include <string.h>

#define S3_KEY_MAX 1024 /* S3's longest key, in bytes */

/* True when c may follow an element name inside its start tag. */
static int ends_name(char c)
{
    return c == '>' || c == '/' || c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int rs__xml_next(const char *xml, size_t len, const char *tag, size_t *pos,
                 rs__xml_span *inner)
{
    size_t tn = strlen(tag);
    size_t at = *pos;
    while (at < len) {
        const char *lt = memchr(xml + at, '<', len - at);
        if (!lt)
            return 0;
        size_t i = (size_t)(lt - xml) + 1;
        at = i;
        if (len - i <= tn || memcmp(xml + i, tag, tn) != 0 || !ends_name(xml[i + tn]))
            continue;
        const char *gt = memchr(xml + i + tn, '>', len - i - tn);
        if (!gt)
            return 0;
        size_t body = (size_t)(gt - xml) + 1;
        if (gt[-1] == '/') { /* <Tag/> or <Tag attr="x"/> */
            *inner = (rs__xml_span){xml + body, 0};
            *pos = body;
            return 1;
        }
        /* The end tag: "</" tag ">" */
        for (size_t j = body; j + tn + 3 <= len; j++) {
            if (xml[j] == '<' && xml[j + 1] == '/' && memcmp(xml + j + 2, tag, tn) == 0 &&
                xml[j + 2 + tn] == '>') {
                *inner = (rs__xml_span){xml + body, j - body};
                *pos = j + tn + 3;
                return 1;
            }
        }
        return 0;
    }
    return 0;
}

/* Writes code point cp as UTF-8 into out[*o..cap-1). */
static rs_err put_utf8(uint32_t cp, char *out, size_t cap, size_t *o)
{
    unsigned char b[4];
    size_t n;
    if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return RS_EPARSE;
    if (cp < 0x80) {
        b[0] = (unsigned char)cp;
        n = 1;
    } else if (cp < 0x800) {
        b[0] = (unsigned char)(0xC0 | (cp >> 6));
        b[1] = (unsigned char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        b[0] = (unsigned char)(0xE0 | (cp >> 12));
        b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        b[2] = (unsigned char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        b[0] = (unsigned char)(0xF0 | (cp >> 18));
        b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
        b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        b[3] = (unsigned char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    if (*o + n >= cap)
        return RS_ETOOBIG;
    memcpy(out + *o, b, n);
    *o += n;
    return RS_OK;
}

/* Decodes the entity at p[0..n) (between '&' and ';') into out. */
static rs_err put_entity(const char *p, size_t n, char *out, size_t cap, size_t *o)
{
    static const struct {
        const char *name;
        char c;
    } named[] = {{"amp", '&'}, {"lt", '<'}, {"gt", '>'}, {"quot", '"'}, {"apos", '\''}};
    for (size_t i = 0; i < RS_ARRAY_LEN(named); i++)
        if (n == strlen(named[i].name) && memcmp(p, named[i].name, n) == 0)
            return put_utf8((uint32_t)(unsigned char)named[i].c, out, cap, o);
    if (n < 2 || p[0] != '#')
        return RS_EPARSE;
    int hex = p[1] == 'x';
    size_t i = hex ? 2 : 1;
    if (i == n || n - i > 8)
        return RS_EPARSE;
    uint32_t cp = 0;
    for (; i < n; i++) {
        char c = p[i];
        uint32_t d;
        if (c >= '0' && c <= '9')
            d = (uint32_t)(c - '0');
        else if (hex && c >= 'a' && c <= 'f')
            d = (uint32_t)(c - 'a' + 10);
        else if (hex && c >= 'A' && c <= 'F')
            d = (uint32_t)(c - 'A' + 10);
        else
            return RS_EPARSE;
        cp = cp * (hex ? 16 : 10) + d;
        if (cp > 0x10FFFF)
            return RS_EPARSE;
    }
    return put_utf8(cp, out, cap, o);
}

rs_err rs__xml_text(rs__xml_span in, char *out, size_t cap)
{
    if (cap == 0)
        return RS_ETOOBIG;
    size_t o = 0;
    out[0] = '\0';
    for (size_t i = 0; i < in.n; i++) {
        char c = in.p[i];
        rs_err e = RS_OK;
        if (c == '<' || c == '\0') {
            e = RS_EPARSE;
        } else if (c == '&') {
            const char *semi = memchr(in.p + i, ';', in.n - i);
            if (!semi)
                e = RS_EPARSE;
            else
                e = put_entity(in.p + i + 1, (size_t)(semi - in.p) - i - 1, out, cap, &o);
            if (semi)
                i = (size_t)(semi - in.p);
        } else if (o + 1 >= cap) {
            e = RS_ETOOBIG;
        } else {
            out[o++] = c;
        }
        if (e) {
            out[0] = '\0';
            return e;
        }
    }
    out[o] = '\0';
    return RS_OK;
}

/* The decoded text of the first element named tag, or "" (truncated to
 * fit when too long). */
static void first_text(const char *xml, size_t len, const char *tag, char *out, size_t cap)
{
    size_t pos = 0;
    rs__xml_span s;
    if (cap == 0)
        return;
    out[0] = '\0';
    if (!rs__xml_next(xml, len, tag, &pos, &s) || rs__xml_text(s, out, cap) != RS_ETOOBIG)
        return;
    /* Too long: keep a prefix. Decoding never makes text longer, so cap - 1
     * bytes of it fit once an entity cut in two is dropped. */
    s.n = cap - 1;
    const char *amp = memrchr(s.p, '&', s.n);
    if (amp && !memchr(amp, ';', s.n - (size_t)(amp - s.p)))
        s.n = (size_t)(amp - s.p);
    if (rs__xml_text(s, out, cap) != RS_OK)
        out[0] = '\0';
}

void rs__s3_error_parse(const char *xml, size_t len, char *code, size_t code_cap, char *msg,
                        size_t msg_cap)
{
    first_text(xml, len, "Code", code, code_cap);
    first_text(xml, len, "Message", msg, msg_cap);
}

/* Parses a decimal size with no sign, blanks or overflow. */
static rs_err parse_size(rs__xml_span s, uint64_t *out)
{
    uint64_t v = 0;
    if (s.n == 0 || s.n > 20)
        return RS_EPARSE;
    for (size_t i = 0; i < s.n; i++) {
        if (s.p[i] < '0' || s.p[i] > '9')
            return RS_EPARSE;
        uint64_t d = (uint64_t)(s.p[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return RS_EPARSE;
        v = v * 10 + d;
    }
    *out = v;
    return RS_OK;
}

rs_err rs__s3_list_parse(const char *xml, size_t len, rs__s3_entry_fn fn, void *ctx,
                         int *truncated, char *next_token, size_t token_cap, const char **why)
{
    rs__xml_span s;
    size_t pos = 0;
    *truncated = 0;
    if (token_cap)
        next_token[0] = '\0';
    if (!rs__xml_next(xml, len, "ListBucketResult", &pos, &s)) {
        *why = "no <ListBucketResult> in the answer";
        return RS_EPARSE;
    }
    const char *doc = s.p;
    size_t n = s.n;
    char key[S3_KEY_MAX + 1];
    rs__xml_span c, k, z;
    for (pos = 0; rs__xml_next(doc, n, "Contents", &pos, &c);) {
        size_t kp = 0, zp = 0;
        uint64_t size;
        if (!rs__xml_next(c.p, c.n, "Key", &kp, &k) || !rs__xml_next(c.p, c.n, "Size", &zp, &z)) {
            *why = "an object without <Key> or <Size>";
            return RS_EPARSE;
        }
        if (rs__xml_text(k, key, sizeof key) != RS_OK || !key[0]) {
            *why = "an object key that is empty, longer than 1024 bytes or badly escaped";
            return RS_EPARSE;
        }
        if (parse_size(z, &size) != RS_OK) {
            *why = "an object <Size> that is not a number";
            return RS_EPARSE;
        }
        if (fn(ctx, key, size) != 0)
            return RS_ECANCELED;
    }
    pos = 0;
    if (rs__xml_next(doc, n, "IsTruncated", &pos, &s))
        *truncated = s.n == 4 && memcmp(s.p, "true", 4) == 0;
    pos = 0;
    if (rs__xml_next(doc, n, "NextContinuationToken", &pos, &s) &&
        rs__xml_text(s, next_token, token_cap) != RS_OK) {
        *why = "a continuation token that is too long or badly escaped";
        return RS_EPARSE;
    }
    return RS_OK;
}
