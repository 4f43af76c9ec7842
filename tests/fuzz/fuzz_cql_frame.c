/*
 * fuzz_cql_frame: the streaming frame decoder fed arbitrary bytes in
 * arbitrary chunks, checked against the same bytes fed in one piece (the
 * frames and the final status must be identical), and every frame's body
 * handed to the message decoder (rows walked).
 *
 * Input: byte 0 seeds the chunk sizes; the rest is the stream.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cql_msg.h"
#include "cql_result.h"

#define MAX_FRAMES 64

typedef struct seen {
    cql_frame_header_t h;
    uint64_t hash; /* FNV-1a of the body */
} seen_t;

static uint64_t fnv(const uint8_t *p, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

static void check_body(const cql_frame_t *f)
{
    cql_arena_t a;
    cql_arena_init(&a, 1 << 20);
    cql_msg_t m;
    int rc = cql_msg_decode_frame(f, &a, &m);
    if ((rc == 0 || rc == CQLMQ_ETRAILING) && m.opcode == CQL_OP_RESULT &&
        m.u.result.kind == CQL_RESULT_ROWS) {
        cql_bytes_t *cells = cql_arena_calloc(&a, (size_t)m.u.result.u.rows.meta.ncols + 1,
                                              sizeof(*cells));
        if (cells) {
            cql_rows_iter_t it;
            cql_rows_iter_init(&it, &m.u.result.u.rows);
            while (cql_rows_next(&it, cells) == 1)
                ;
        }
    }
    cql_arena_close(&a);
}

/* Feeds data in chunks (sizes from seed, 0 = one piece); records frames. */
static int run(const uint8_t *data, size_t size, uint32_t seed, seen_t *out, int *nout)
{
    cql_frame_decoder_t d;
    cql_frame_decoder_init(&d, 4096);
    int rc = CQLMQ_EAGAIN;
    size_t pos = 0;
    *nout = 0;
    while (pos < size && (rc == CQLMQ_EAGAIN || rc == 0)) {
        size_t n = size - pos;
        if (seed) {
            seed ^= seed << 13, seed ^= seed >> 17, seed ^= seed << 5;
            n = 1 + seed % 64;
            if (n > size - pos)
                n = size - pos;
        }
        uint8_t *chunk = malloc(n); /* exact size: ASan sees overreads */
        memcpy(chunk, data + pos, n);
        pos += n;
        cql_frame_decoder_feed(&d, chunk, n);
        cql_frame_t f;
        while ((rc = cql_frame_decoder_next(&d, &f)) == 0 && *nout < MAX_FRAMES) {
            out[*nout].h = f.h;
            out[*nout].hash = fnv(f.body, f.h.length);
            (*nout)++;
            check_body(&f);
        }
        if (rc == CQLMQ_ETOOBIG && cql_frame_decoder_discard(&d) == 0)
            rc = 0;
        free(chunk);
        if (rc == 0) /* MAX_FRAMES reached */
            break;
    }
    cql_frame_decoder_close(&d);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint32_t seed = data[0] | 0x100u;
    static seen_t one[MAX_FRAMES], many[MAX_FRAMES];
    int n1, n2;
    int rc1 = run(data + 1, size - 1, 0, one, &n1);
    int rc2 = run(data + 1, size - 1, seed, many, &n2);
    if (n1 < MAX_FRAMES && n2 < MAX_FRAMES && (rc1 != rc2 || n1 != n2))
        __builtin_trap();
    for (int i = 0; i < n1 && i < n2; i++)
        if (memcmp(&one[i].h, &many[i].h, sizeof(one[i].h)) != 0 || one[i].hash != many[i].hash)
            __builtin_trap();
    return 0;
}
