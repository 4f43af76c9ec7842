/*
 * Fuzz target: the value transcoder both ways on untrusted bytes.
 *   byte 0, bit 7 clear: msgpack -> CQL (wire_value_from_mpk) for the type
 *     chosen by the low bits; whatever it accepts must transcode back to
 *     msgpack (wire_value_to_mpk) without error: the gateway only ever
 *     sends Cassandra values it could also read back.
 *   bit 7 set: the rest is a serialized CQL value for wire_value_to_mpk
 *     (Cassandra's bytes are untrusted too); its output must be exactly one
 *     well-formed msgpack value.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cql_arena.h"
#include "wire_value.h"

static const char *const types[] = {
    "boolean", "tinyint", "smallint", "int", "bigint", "varint", "float", "double", "decimal",
    "text", "ascii", "blob", "uuid", "timeuuid", "timestamp", "date", "time", "duration", "inet",
    "list<int>", "set<text>", "map<text, int>", "tuple<int, text, uuid>",
    "list<frozen<map<int, frozen<list<timestamp>>>>>", "map<frozen<tuple<int, date>>, varint>",
    "frozen<list<frozen<set<decimal>>>>", "'org.example.Custom'", "counter", "udt",
};
#define NTYPES (sizeof types / sizeof types[0])

static cql_type_t *make_type(cql_arena_t *a, size_t i)
{
    cql_type_t *t = NULL;
    if (strcmp(types[i], "udt") == 0) {
        t = cql_arena_calloc(a, 1, sizeof *t);
        t->kind = CQL_TYPE_UDT;
        t->nsub = 3;
        t->sub = cql_arena_calloc(a, 3, sizeof *t->sub);
        t->field_names = cql_arena_calloc(a, 3, sizeof(char *));
        static const char *const fn[] = {"street", "zip", "tags"};
        static const char *const ft[] = {"text", "int", "list<text>"};
        for (int k = 0; k < 3; k++) {
            t->field_names[k] = (char *)fn[k];
            if (cql_type_parse(ft[k], strlen(ft[k]), a, NULL, NULL, NULL, &t->sub[k]) != 0)
                abort();
        }
        return t;
    }
    if (cql_type_parse(types[i], strlen(types[i]), a, NULL, NULL, NULL, &t) != 0)
        abort();
    return t;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    cql_arena_t a;
    cql_arena_init(&a, 0);
    const cql_type_t *t = make_type(&a, (data[0] & 0x7f) % NTYPES);
    mpk_wr_t mw;
    mpk_wr_init(&mw);
    if (data[0] & 0x80) {
        int rc = wire_value_to_mpk(&mw, t, (cql_bytes_t){data + 1, (int32_t)(size - 1)});
        if (rc == 0) {
            mpk_rd_t r;
            mpk_rd_init(&r, mw.data, mw.len);
            if (mpk_rd_skip(&r) != 0 || !mpk_rd_done(&r))
                abort();
        } else if (mw.len != 0) {
            abort();
        }
    } else {
        cql_wr_t cw;
        mpk_rd_t r;
        wire_diag_t d;
        cql_wr_init(&cw);
        mpk_rd_init(&r, data + 1, size - 1);
        int rc = wire_value_from_mpk(&cw, t, &r, &d);
        if (rc == 0) {
            int32_t len = (int32_t)cql_load_u32(cw.data);
            if (len < -2 || (len >= 0 && (size_t)len != cw.len - 4))
                abort();
            cql_bytes_t v = {len >= 0 ? cw.data + 4 : NULL, len};
            if (wire_value_to_mpk(&mw, t, v) != 0)
                abort();
        } else if (cw.len != 0 || r.pos != 0 || d.msg[0] == '\0') {
            abort();
        }
        cql_wr_close(&cw);
    }
    mpk_wr_close(&mw);
    cql_arena_close(&a);
    return 0;
}
