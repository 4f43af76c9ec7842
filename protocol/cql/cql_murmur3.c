/*
 * cql_murmur3: Cassandra's MurmurHash3 x64_128 (h1 only) and the
 * Murmur3Partitioner token, streaming, with the sign-extended tail quirk of
 * the Java port (see cql_murmur3.h).
 */
#include "cql_murmur3.h"

#include <string.h>

#define C1 UINT64_C(0x87c37b91114253d5)
#define C2 UINT64_C(0x4cf5ad432745937f)

static inline uint64_t rotl64(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

static inline uint64_t fmix64(uint64_t k)
{
    k ^= k >> 33;
    k *= UINT64_C(0xff51afd7ed558ccd);
    k ^= k >> 33;
    k *= UINT64_C(0xc4ceb9fe1a85ec53);
    k ^= k >> 33;
    return k;
}

static inline uint64_t load_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static inline void block(cql_murmur3_t *m, const uint8_t *p)
{
    uint64_t k1 = load_le64(p), k2 = load_le64(p + 8);
    k1 *= C1;
    k1 = rotl64(k1, 31);
    k1 *= C2;
    m->h1 ^= k1;
    m->h1 = rotl64(m->h1, 27);
    m->h1 += m->h2;
    m->h1 = m->h1 * 5 + 0x52dce729;
    k2 *= C2;
    k2 = rotl64(k2, 33);
    k2 *= C1;
    m->h2 ^= k2;
    m->h2 = rotl64(m->h2, 31);
    m->h2 += m->h1;
    m->h2 = m->h2 * 5 + 0x38495ab5;
}

void cql_murmur3_init(cql_murmur3_t *m)
{
    memset(m, 0, sizeof *m);
}

void cql_murmur3_update(cql_murmur3_t *m, const void *data, size_t n)
{
    const uint8_t *p = data;
    if (n == 0)
        return;
    m->len += n;
    if (m->ntail > 0) {
        size_t take = 16 - m->ntail < n ? 16 - m->ntail : n;
        memcpy(m->tail + m->ntail, p, take);
        m->ntail += take;
        p += take;
        n -= take;
        if (m->ntail < 16)
            return;
        block(m, m->tail);
        m->ntail = 0;
    }
    for (; n >= 16; p += 16, n -= 16)
        block(m, p);
    memcpy(m->tail, p, n);
    m->ntail = n;
}

/* A tail byte as Java sees it: a signed byte widened to a long. */
static inline uint64_t sx(uint8_t b) { return (uint64_t)(int64_t)(int8_t)b; }

int64_t cql_murmur3_final(cql_murmur3_t *m)
{
    const uint8_t *t = m->tail;
    uint64_t k1 = 0, k2 = 0;
    size_t n = m->ntail;
    /* The Java port XORs sign-extended bytes, highest first. */
    for (size_t i = n; i > 8; i--)
        k2 ^= sx(t[i - 1]) << (8 * (i - 9));
    if (n > 8) {
        k2 *= C2;
        k2 = rotl64(k2, 33);
        k2 *= C1;
        m->h2 ^= k2;
    }
    for (size_t i = n < 8 ? n : 8; i > 0; i--)
        k1 ^= sx(t[i - 1]) << (8 * (i - 1));
    if (n > 0) {
        k1 *= C1;
        k1 = rotl64(k1, 31);
        k1 *= C2;
        m->h1 ^= k1;
    }
    uint64_t h1 = m->h1 ^ m->len, h2 = m->h2 ^ m->len;
    h1 += h2;
    h2 += h1;
    h1 = fmix64(h1);
    h2 = fmix64(h2);
    h1 += h2;
    return (int64_t)h1;
}

int64_t cql_murmur3_hash(const void *key, size_t len)
{
    cql_murmur3_t m;
    cql_murmur3_init(&m);
    cql_murmur3_update(&m, key, len);
    return cql_murmur3_final(&m);
}

int64_t cql_murmur3_token(const void *key, size_t len)
{
    return cql_murmur3_hash_to_token(cql_murmur3_hash(key, len));
}

static int check_parts(const cql_bytes_t *parts, size_t n)
{
    if (n == 0)
        return CQLMQ_EINVAL;
    for (size_t i = 0; i < n; i++) {
        if (parts[i].len < 0)
            return CQLMQ_EINVAL;
        if (n > 1 && parts[i].len > UINT16_MAX)
            return CQLMQ_ERANGE;
    }
    return 0;
}

int cql_murmur3_token_parts(const cql_bytes_t *parts, size_t n, int64_t *out)
{
    int rc = check_parts(parts, n);
    if (rc != 0)
        return rc;
    if (n == 1) {
        *out = cql_murmur3_token(parts[0].ptr, (size_t)parts[0].len);
        return 0;
    }
    cql_murmur3_t m;
    cql_murmur3_init(&m);
    for (size_t i = 0; i < n; i++) {
        uint8_t len[2], zero = 0;
        cql_store_u16(len, (uint16_t)parts[i].len);
        cql_murmur3_update(&m, len, 2);
        cql_murmur3_update(&m, parts[i].ptr, (size_t)parts[i].len);
        cql_murmur3_update(&m, &zero, 1);
    }
    *out = cql_murmur3_hash_to_token(cql_murmur3_final(&m));
    return 0;
}

int cql_murmur3_key_build(cql_wr_t *w, const cql_bytes_t *parts, size_t n)
{
    int rc = check_parts(parts, n);
    if (rc != 0) {
        if (w->err == 0)
            w->err = rc;
        return rc;
    }
    if (n == 1) {
        cql_wr_raw(w, parts[0].ptr, (size_t)parts[0].len);
        return cql_wr_error(w);
    }
    for (size_t i = 0; i < n; i++) {
        cql_wr_u16(w, (uint16_t)parts[i].len);
        cql_wr_raw(w, parts[i].ptr, (size_t)parts[i].len);
        cql_wr_u8(w, 0);
    }
    return cql_wr_error(w);
}
