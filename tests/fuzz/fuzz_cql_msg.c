/*
 * fuzz_cql_msg: the message decoder for every opcode, both versions, any
 * envelope flags. A message that decodes must encode, and its encoding must
 * be a fixed point (decode + encode gives the same bytes again).
 *
 * Input: byte 0 picks the version (3 + bit 0), byte 1 the opcode (mod
 * 0x11), byte 2 the frame flags; the rest is the body.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cql_msg.h"
#include "cql_result.h"

static void walk_rows(const cql_msg_t *m, cql_arena_t *a)
{
    if (m->opcode != CQL_OP_RESULT || m->u.result.kind != CQL_RESULT_ROWS)
        return;
    const cql_result_rows_t *rows = &m->u.result.u.rows;
    cql_bytes_t *cells = cql_arena_calloc(a, (size_t)rows->meta.ncols + 1, sizeof(*cells));
    if (cells == NULL)
        return;
    cql_rows_iter_t it;
    cql_rows_iter_init(&it, rows);
    int rc;
    while ((rc = cql_rows_next(&it, cells)) == 1)
        for (int32_t i = 0; i < rows->meta.ncols; i++)
            if (cells[i].len > 0 && cells[i].ptr[cells[i].len - 1] == 0xfe && cells[i].len == 7)
                break; /* touch the last byte */
    if ((rc == 0) != (cql_rows_validate(rows) == 0))
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3)
        return 0;
    int version = 3 + (data[0] & 1);
    uint8_t opcode = (uint8_t)(data[1] % CQL_OPCODE_LIMIT);
    uint8_t flags = data[2];
    size_t len = size - 3;
    uint8_t *body = malloc(len ? len : 1); /* exact size: ASan sees overreads */
    memcpy(body, data + 3, len);
    cql_arena_t a;
    cql_arena_init(&a, 1 << 20);
    cql_msg_t m;
    int rc = cql_msg_decode(version, opcode, flags, body, len, &a, &m);
    if (rc == 0 || rc == CQLMQ_ETRAILING) {
        walk_rows(&m, &a);
        cql_wr_t w1, w2;
        cql_wr_init(&w1);
        cql_wr_init(&w2);
        if (cql_msg_encode(&w1, version, &m) != 0)
            __builtin_trap();
        cql_arena_t a2;
        cql_arena_init(&a2, 0);
        cql_msg_t m2;
        if (cql_msg_decode(version, opcode, m.flags, w1.data, w1.len, &a2, &m2) != 0)
            __builtin_trap();
        if (cql_msg_encode(&w2, version, &m2) != 0 || w1.len != w2.len ||
            (w1.len && memcmp(w1.data, w2.data, w1.len) != 0))
            __builtin_trap();
        cql_arena_close(&a2);
        cql_wr_close(&w1);
        cql_wr_close(&w2);
    }
    cql_arena_close(&a);
    free(body);
    return 0;
}
