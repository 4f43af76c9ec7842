/*
 * Interoperability: values transcoded by wire_value are decoded by the real
 * python msgpack library (python3-msgpack), as a Python client would:
 * timestamps become msgpack.Timestamp (and datetimes), our extensions
 * ExtType, maps with non-str keys need strict_map_key=False. The test pipes
 * one msgpack array into /usr/bin/python3, which checks every item and
 * exits non-zero on a mismatch. Skipped when python3-msgpack is missing.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

#include "cql_arena.h"
#include "cql_type.h"
#include "wire_value.h"

#define PYTHON "/usr/bin/python3"

static const char script[] =
    "import sys, math, datetime, decimal, uuid, msgpack\n"
    "from msgpack import ExtType, Timestamp\n"
    "data = sys.stdin.buffer.read()\n"
    "v = msgpack.unpackb(data, strict_map_key=False)\n"
    "def dec(e):\n"
    "    scale = int.from_bytes(e.data[:4], 'big', signed=True)\n"
    "    return decimal.Decimal(int.from_bytes(e.data[4:], 'big', signed=True)).scaleb(-scale)\n"
    "want = [\n"
    "    Timestamp(1, 500000000),\n"
    "    Timestamp(-1, 999000000),\n"
    "    Timestamp(17179869184, 0),\n"
    "    ExtType(2, uuid.UUID('01234567-89ab-cdef-0123-456789abcdef').bytes),\n"
    "    ExtType(5, (-1).to_bytes(4, 'big', signed=True)),\n"
    "    ExtType(4, (2**64).to_bytes(9, 'big', signed=True)),\n"
    "    2**63,\n"
    "    -2**63,\n"
    "    'h\\u00e9llo',\n"
    "    {7: True},\n"
    "    {'street': 'x', 'zip': None},\n"
    "    None,\n"
    "    ExtType(9, b''),\n"
    "    None,\n"
    "    [1, None],\n"
    "    ExtType(7, bytes.fromhex('00000001' '00000002' '0000000000000003')),\n"
    "    ExtType(8, bytes([127, 0, 0, 1])),\n"
    "    b'\\xde\\xad',\n"
    "    None,\n"
    "]\n"
    "bad = []\n"
    "for i, (g, w) in enumerate(zip(v, want)):\n"
    "    if i in (11, 13, 18):\n"
    "        continue\n"
    "    if g != w:\n"
    "        bad.append((i, g, w))\n"
    "if len(v) != len(want): bad.append(('len', len(v), len(want)))\n"
    "if not (isinstance(v[11], float) and math.isnan(v[11])): bad.append((11, v[11]))\n"
    "if not isinstance(v[13], ExtType) or dec(v[13]) != decimal.Decimal('123.45'): bad.append((13, v[13]))\n"
    "if not (isinstance(v[18], float) and v[18] == 0 and math.copysign(1, v[18]) < 0): bad.append((18, v[18]))\n"
    "dt = v[0].to_datetime()\n"
    "if dt != datetime.datetime(1970, 1, 1, 0, 0, 1, 500000, tzinfo=datetime.timezone.utc):\n"
    "    bad.append(('datetime', dt))\n"
    "if bad:\n"
    "    print('mismatch:', bad, file=sys.stderr)\n"
    "    sys.exit(1)\n";

static cql_arena_t arena;

static void put(mpk_wr_t *w, const char *type, const void *p, int32_t n)
{
    cql_type_t *t = NULL;
    if (strcmp(type, "address") == 0) {
        t = cql_arena_calloc(&arena, 1, sizeof *t);
        t->kind = CQL_TYPE_UDT;
        t->nsub = 2;
        t->sub = cql_arena_calloc(&arena, 2, sizeof *t->sub);
        cql_type_parse("text", 4, &arena, NULL, NULL, NULL, &t->sub[0]);
        cql_type_parse("int", 3, &arena, NULL, NULL, NULL, &t->sub[1]);
        t->field_names = cql_arena_calloc(&arena, 2, sizeof(char *));
        t->field_names[0] = "street";
        t->field_names[1] = "zip";
    } else {
        cr_assert_eq(cql_type_parse(type, strlen(type), &arena, NULL, NULL, NULL, &t), 0);
    }
    int rc = wire_value_to_mpk(w, t, (cql_bytes_t){n >= 0 ? p : NULL, n});
    cr_assert_eq(rc, 0, "%s: %s", type, cqlmq_err_name(rc));
}

static bool have_python_msgpack(void)
{
    return system(PYTHON " -c 'import msgpack' >/dev/null 2>&1") == 0;
}

Test(wire_value_python, a_python_client_decodes_every_extension_as_documented)
{
    if (!have_python_msgpack())
        cr_skip_test("python3-msgpack is not installed");
    cql_arena_init(&arena, 0);
    mpk_wr_t w;
    mpk_wr_init(&w);
    mpk_wr_array(&w, 19);
    put(&w, "timestamp", "\0\0\0\0\0\0\x05\xdc", 8);
    put(&w, "timestamp", "\xff\xff\xff\xff\xff\xff\xff\xff", 8);
    put(&w, "timestamp", "\0\0\x0f\xa0\0\0\0\0", 8);
    put(&w, "uuid", "\x01\x23\x45\x67\x89\xab\xcd\xef\x01\x23\x45\x67\x89\xab\xcd\xef", 16);
    put(&w, "date", "\x7f\xff\xff\xff", 4);
    put(&w, "varint", "\x01\0\0\0\0\0\0\0\0", 9);
    put(&w, "varint", "\x00\x80\0\0\0\0\0\0\0", 9);
    put(&w, "bigint", "\x80\0\0\0\0\0\0\0", 8);
    put(&w, "text", "h\xc3\xa9llo", 6);
    put(&w, "map<int, boolean>", "\0\0\0\x01\0\0\0\x04\0\0\0\x07\0\0\0\x01\x01", 17);
    put(&w, "address", "\0\0\0\x01x", 5);
    put(&w, "double", "\x7f\xf8\0\0\0\0\0\0", 8);
    put(&w, "int", "", 0);
    put(&w, "decimal", "\0\0\0\x02\x30\x39", 6);
    put(&w, "list<int>", "\0\0\0\x02\0\0\0\x04\0\0\0\x01\xff\xff\xff\xff", 16);
    put(&w, "duration", "\x02\x04\x06", 3);
    put(&w, "inet", "\x7f\0\0\x01", 4);
    put(&w, "blob", "\xde\xad", 2);
    put(&w, "float", "\x80\0\0\0", 4);
    cr_assert_eq(mpk_wr_error(&w), 0);

    /* the script travels in the environment: stdin carries the msgpack */
    setenv("CQLMQ_WIRE_PY", script, 1);
    FILE *p = popen(PYTHON " -c 'import os; exec(os.environ[\"CQLMQ_WIRE_PY\"])'", "w");
    cr_assert_not_null(p);
    cr_assert_eq(fwrite(w.data, 1, w.len, p), w.len);
    int status = pclose(p);
    cr_assert_eq(status, 0, "python rejected the values (status %d)", status);
    mpk_wr_close(&w);
    cql_arena_close(&arena);
}
