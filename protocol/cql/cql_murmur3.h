/*
 * cql_murmur3: the token of Cassandra's Murmur3Partitioner.
 *
 * Cassandra hashes a partition key with its own port of MurmurHash3
 * x64_128 (org.apache.cassandra.utils.MurmurHash.hash3_x64_128), seed 0,
 * and takes h1 only, as a signed int64. Its port differs from the reference
 * C code for keys whose length is not a multiple of 16: the tail bytes are
 * Java bytes, so a tail byte >= 0x80 is sign-extended before it is shifted
 * (it sets all the higher bits of k1/k2). The partitioner also maps
 * INT64_MIN to INT64_MAX, because INT64_MIN is the minimum token.
 *
 * The key bytes are the serialized value of the partition key column (int:
 * 4 bytes big endian, text: its UTF-8, ...). A key of several columns is the
 * composite: for each component a u16 big-endian length, the bytes, a 0x00.
 *
 * The hasher streams: a key may be fed in pieces (the composite is hashed
 * without being built). No allocation anywhere.
 */
#ifndef CQL_MURMUR3_H
#define CQL_MURMUR3_H

#include <stddef.h>
#include <stdint.h>

#include "cql_buf.h"

/* Incremental hasher. Invariants: ntail < 16 bytes wait in tail; h1, h2
 * include every full 16-byte block seen; len counts all bytes fed. */
typedef struct cql_murmur3 {
    uint64_t h1, h2;  /* running state */
    uint64_t len;     /* bytes fed so far */
    uint8_t tail[16]; /* bytes of an incomplete block */
    size_t ntail;     /* bytes in tail, < 16 */
} cql_murmur3_t;

void cql_murmur3_init(cql_murmur3_t *m);
void cql_murmur3_update(cql_murmur3_t *m, const void *p, size_t n);
/* h1 of everything fed (Cassandra's quirky tail included), as a signed
 * int64, without the INT64_MIN mapping. The hasher may not be fed again. */
int64_t cql_murmur3_final(cql_murmur3_t *m);

/* The partitioner's mapping of a hash to a token: INT64_MIN (the minimum
 * token, which no key may have) becomes INT64_MAX. */
static inline int64_t cql_murmur3_hash_to_token(int64_t h)
{
    return h == INT64_MIN ? INT64_MAX : h;
}

/* Cassandra's MurmurHash.hash3_x64_128(key, 0, len, 0)[0]. */
int64_t cql_murmur3_hash(const void *key, size_t len);

/* The partitioner's token of a serialized key: the hash, with INT64_MIN
 * mapped to INT64_MAX. The empty key gives 0 (as the drivers compute it;
 * Cassandra itself rejects empty partition keys). */
int64_t cql_murmur3_token(const void *key, size_t len);

/* Token of a partition key given as its n >= 1 serialized components: the
 * bytes themselves when n == 1, the composite otherwise. Returns 0 and sets
 * *out, CQLMQ_EINVAL (n == 0, or a component is null / not set) or
 * CQLMQ_ERANGE (a component of a composite is longer than 65535 bytes). */
int cql_murmur3_token_parts(const cql_bytes_t *parts, size_t n, int64_t *out);

/* Appends the partition key bytes of n >= 1 components to w: the bytes when
 * n == 1, otherwise the composite (u16 BE length, bytes, 0x00 for each).
 * Errors as cql_murmur3_token_parts, or the writer's (CQLMQ_ENOMEM); the
 * writer's sticky error is set too. */
int cql_murmur3_key_build(cql_wr_t *w, const cql_bytes_t *parts, size_t n);

#endif /* CQL_MURMUR3_H */
