/*
 * Fuzz target for cql_type and cql_value.
 *
 * Input layout: byte 0 picks the mode.
 *   0x00..0xEF  a type from the table below (byte % count); the rest is a
 *               value body of that type
 *   0xF0..0xFE  the rest starts with an [option] type (cql_type_read); what
 *               follows it is the value body
 *   0xFF        the rest is a CQL type string (cql_type_parse + format)
 * For every decoded value: validate agrees with decode, the value formats
 * (into a short and a sized buffer), re-encodes, decodes back equal, and
 * compares equal to itself under cql_order.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cql_order.h"
#include "cql_value.h"

static const char *const types[] = {
    "int", "bigint", "smallint", "tinyint", "boolean", "float", "double", "text", "ascii",
    "blob", "uuid", "timeuuid", "inet", "date", "time", "timestamp", "varint", "decimal",
    "duration", "counter", "list<int>", "set<text>", "map<text, frozen<list<int>>>",
    "tuple<int, text, varint>", "frozen<list<frozen<tuple<decimal, duration>>>>",
    "map<frozen<set<timeuuid>>, frozen<map<inet, date>>>", "'org.example.Custom'",
    "org.apache.cassandra.db.marshal.UserType(ks,61,62:Int32Type,63:UTF8Type)",
};

static void check_type(const cql_type_t *t, cql_arena_t *a)
{
    char buf[256];
    int n = cql_type_format(t, buf, sizeof buf);
    if (n < 0)
        return;
    cql_wr_t w;
    cql_wr_init(&w);
    cql_type_write(&w, t);
    if (cql_wr_error(&w) == 0) {
        cql_rd_t r;
        cql_type_t *back;
        cql_rd_init(&r, w.data, w.len);
        if (cql_type_read(&r, a, &back) == 0 && !cql_type_equal(t, back))
            abort();
    }
    cql_wr_close(&w);
    cql_type_t *c = cql_type_clone(t, a);
    if (c != NULL && !cql_type_equal(t, c))
        abort();
}

static void check_value(const cql_type_t *t, cql_bytes_t in, cql_arena_t *a)
{
    cql_value_t v;
    int rc = cql_value_decode(t, in, a, &v);
    int vrc = cql_value_validate(t, in);
    if (rc != CQLMQ_ENOMEM && rc != vrc)
        abort();
    if (rc != 0)
        return;
    char small[16], *big;
    int n = cql_value_format(t, &v, small, sizeof small);
    if (n >= 0) {
        big = malloc((size_t)n + 1);
        if (big != NULL && cql_value_format(t, &v, big, (size_t)n + 1) != n)
            abort();
        free(big);
    }
    if (cql_value_check(t, &v) != 0)
        abort();
    cql_wr_t w;
    cql_wr_init(&w);
    cql_value_encode_body(&w, t, &v);
    if (cql_wr_error(&w) == 0) {
        cql_value_t back;
        cql_bytes_t again = {w.data, (int32_t)w.len};
        if (v.state != CQL_VALUE_SET)
            again.len = in.len; /* markers have no body */
        rc = cql_value_decode(t, again, a, &back);
        if (rc != CQLMQ_ENOMEM && (rc != 0 || !cql_value_equal(&v, &back)))
            abort();
        /* duration (vints may be non-minimal) is ordered bytewise: skip */
        if (v.state == CQL_VALUE_SET && cql_order_supported(t, true) == 0 &&
            cql_order_compare(t, in, again) != 0)
            abort();
    }
    cql_wr_close(&w);
    if (cql_order_compare(t, in, in) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    cql_arena_t a;
    cql_arena_init(&a, 1 << 20);
    cql_type_t *t = NULL;
    const uint8_t *rest = data + 1;
    size_t nrest = size - 1;
    if (data[0] == 0xFF) {
        if (cql_type_parse((const char *)rest, nrest, &a, NULL, NULL, NULL, &t) == 0)
            check_type(t, &a);
        cql_arena_close(&a);
        return 0;
    }
    if (data[0] >= 0xF0) {
        cql_rd_t r;
        cql_rd_init(&r, rest, nrest);
        if (cql_type_read(&r, &a, &t) != 0) {
            cql_arena_close(&a);
            return 0;
        }
        rest += r.pos;
        nrest -= r.pos;
    } else {
        const char *s = types[data[0] % (sizeof types / sizeof types[0])];
        if (cql_type_parse(s, strlen(s), &a, NULL, NULL, NULL, &t) != 0)
            abort();
    }
    check_type(t, &a);
    cql_bytes_t in = {rest, (int32_t)(nrest > INT32_MAX ? INT32_MAX : nrest)};
    check_value(t, in, &a);
    cql_arena_close(&a);
    return 0;
}
