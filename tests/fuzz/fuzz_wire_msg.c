/*
 * Fuzz target: client request decoding (wire_req_decode) on untrusted
 * frames, then what the gateway does next with a decoded request: walk a
 * batch's statements and bind params (by position or name) to a fixed set
 * of bind markers of mixed types. Any crash, over-read, leak or a decoded
 * request that breaks the documented invariants is a finding.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cql_arena.h"
#include "wire_msg.h"
#include "wire_params.h"

static const wire_limits_t lim = {
    .max_message_bytes = 1 << 20, .max_in_flight = 64, .max_streams = 8, .max_credit = 8,
    .max_page_bytes = 1 << 20, .default_page_size = 100, .default_timeout_ms = 5000,
    .max_timeout_ms = 60000, .lease_ms = 30000,
};

static const char *const names[] = {"id", "name", "tags", "at", "score"};
static const char *const types[] = {"uuid", "text", "map<text, frozen<list<int>>>", "timestamp",
                                    "decimal"};

static void bind(cql_arena_t *a, mpk_raw_t params)
{
    cql_meta_t m = {0};
    cql_bytes_t values[5];
    m.ncols = 5;
    m.cols = cql_arena_calloc(a, 5, sizeof *m.cols);
    if (m.cols == NULL)
        return;
    for (int i = 0; i < 5; i++) {
        m.cols[i].name = (cql_str_t){names[i], strlen(names[i])};
        if (cql_type_parse(types[i], strlen(types[i]), a, NULL, NULL, NULL, &m.cols[i].type) != 0)
            abort();
    }
    cql_wr_t w;
    wire_diag_t d;
    cql_wr_init(&w);
    if (wire_params_bind(&w, &m, params, values, &d) == 0) {
        for (int i = 0; i < 5; i++)
            if (values[i].len >= 0 && (values[i].ptr < w.data || values[i].ptr + values[i].len > w.data + w.len))
                abort();
    } else if (d.msg[0] == '\0') {
        abort(); /* every failure says why */
    }
    cql_wr_close(&w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    wire_req_t q;
    wire_diag_t d;
    int rc = wire_req_decode(data, size, &lim, &q, &d);
    if (rc != 0) {
        if (d.msg[0] == '\0')
            abort();
        return 0;
    }
    if (q.id < 1 || q.id > WIRE_ID_MAX || q.op <= WIRE_OP_NONE_ || q.op >= WIRE_OP_COUNT_)
        abort();
    mpk_str_t op;
    uint64_t id;
    if (wire_peek_head(data, size, &op, &id) != 0 || id != q.id)
        abort();
    cql_arena_t a;
    cql_arena_init(&a, 1 << 20);
    if (q.params.len > 0)
        bind(&a, q.params);
    if (q.op == WIRE_OP_BATCH) {
        wire_batch_iter_t it;
        wire_batch_stmt_t st;
        uint32_t n = 0;
        wire_batch_iter_init(&it, &q);
        while ((rc = wire_batch_next(&it, &st)) == 1) {
            n++;
            if (MPK_HAS(&st, wire_batch_stmt, params))
                bind(&a, st.params);
        }
        if (rc != 0 || n != q.nstatements)
            abort();
    }
    cql_arena_close(&a);
    return 0;
}
