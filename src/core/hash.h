/* A fast 64-bit hash for strings in hash tables (not for security or
 * checksums). Multiply-xorshift over 8-byte words, in the spirit of
 * wyhash/rapidhash; good avalanche for short keys such as ids. */
#ifndef RS_CORE_HASH_H
#define RS_CORE_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline uint64_t rs_hash_mix(uint64_t x)
{
    x ^= x >> 32;
    x *= UINT64_C(0xd6e8feb86659fd93);
    x ^= x >> 32;
    x *= UINT64_C(0xd6e8feb86659fd93);
    x ^= x >> 32;
    return x;
}

static inline uint64_t rs_hash_bytes(const void *data, size_t len)
{
    const unsigned char *p = (const unsigned char *)data;
    uint64_t h = UINT64_C(0x9e3779b97f4a7c15) ^ (len * UINT64_C(0xff51afd7ed558ccd));
    while (len >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = rs_hash_mix(h ^ w) + UINT64_C(0x9e3779b97f4a7c15);
        p += 8;
        len -= 8;
    }
    uint64_t w = 0;
    memcpy(&w, p, len);
    return rs_hash_mix(h ^ w ^ ((uint64_t)len << 56));
}

#endif
