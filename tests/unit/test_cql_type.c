/*
 * Tests of cql_type: [option] reading and writing (golden bytes, nesting,
 * malformed input, depth and count bombs), CQL and Java type strings, the
 * system_schema formatter, clone and equality.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "cql_type.h"

static cql_arena_t arena;

static void setup(void) { cql_arena_init(&arena, 0); }
static void teardown(void) { cql_arena_close(&arena); }

TestSuite(cql_type, .init = setup, .fini = teardown);

static int read_bytes(const uint8_t *p, size_t n, cql_type_t **out, size_t *consumed)
{
    cql_rd_t r;
    cql_rd_init(&r, p, n);
    int rc = cql_type_read(&r, &arena, out);
    if (consumed)
        *consumed = r.pos;
    return rc;
}

static void assert_writes(const cql_type_t *t, const uint8_t *want, size_t n)
{
    cql_wr_t w;
    cql_wr_init(&w);
    cql_type_write(&w, t);
    cr_assert_eq(cql_wr_error(&w), 0);
    cr_assert_eq(w.len, n, "wrote %zu bytes, want %zu", w.len, n);
    cr_assert_arr_eq(w.data, want, n);
    cql_wr_close(&w);
}

static const char *fmt(const cql_type_t *t)
{
    static char buf[512];
    int n = cql_type_format(t, buf, sizeof buf);
    cr_assert(n >= 0 && (size_t)n < sizeof buf, "format returned %d", n);
    return buf;
}

Test(cql_type, reads_and_writes_every_native_option)
{
    static const int ids[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0B, 0x0C,
                              0x0D, 0x0E, 0x0F, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        uint8_t b[2] = {0, (uint8_t)ids[i]};
        cql_type_t *t;
        size_t used;
        cr_assert_eq(read_bytes(b, 2, &t, &used), 0, "id %#x", ids[i]);
        cr_assert_eq(used, 2);
        cr_assert_eq((int)t->kind, ids[i]);
        cr_assert_eq(t->nsub, 0);
        cr_assert_not(t->frozen);
        assert_writes(t, b, 2);
    }
}

Test(cql_type, reads_nested_collections_from_golden_bytes)
{
    /* map<text, list<int>> */
    static const uint8_t b[] = {0x00, 0x21, 0x00, 0x0D, 0x00, 0x20, 0x00, 0x09};
    cql_type_t *t;
    cr_assert_eq(read_bytes(b, sizeof b, &t, NULL), 0);
    cr_assert_eq(t->kind, CQL_TYPE_MAP);
    cr_assert_eq(t->nsub, 2);
    cr_assert_eq(t->sub[0]->kind, CQL_TYPE_VARCHAR);
    cr_assert_eq(t->sub[1]->kind, CQL_TYPE_LIST);
    cr_assert_eq(t->sub[1]->sub[0]->kind, CQL_TYPE_INT);
    assert_writes(t, b, sizeof b);
    cr_assert_str_eq(fmt(t), "map<text, frozen<list<int>>>");
}

Test(cql_type, reads_udt_tuple_and_custom_options)
{
    static const uint8_t b[] = {
        0x00, 0x30,                         /* UDT */
        0x00, 0x02, 'k', 's',               /* keyspace */
        0x00, 0x04, 'a', 'd', 'd', 'r',     /* name */
        0x00, 0x02,                         /* 2 fields */
        0x00, 0x03, 'z', 'i', 'p', 0x00, 0x09,
        0x00, 0x03, 't', 'a', 'g', 0x00, 0x31, 0x00, 0x02, 0x00, 0x0D, /* tuple<text, */
        0x00, 0x00, 0x00, 0x03, 'a', '.', 'B'                          /* 'a.B'> */
    };
    cql_type_t *t;
    cr_assert_eq(read_bytes(b, sizeof b, &t, NULL), 0);
    cr_assert_eq(t->kind, CQL_TYPE_UDT);
    cr_assert_str_eq(t->keyspace, "ks");
    cr_assert_str_eq(t->name, "addr");
    cr_assert_eq(t->nsub, 2);
    cr_assert_str_eq(t->field_names[0], "zip");
    cr_assert_str_eq(t->field_names[1], "tag");
    cr_assert_eq(t->sub[1]->kind, CQL_TYPE_TUPLE);
    cr_assert_eq(t->sub[1]->nsub, 2);
    cr_assert_eq(t->sub[1]->sub[1]->kind, CQL_TYPE_CUSTOM);
    cr_assert_str_eq(t->sub[1]->sub[1]->custom_class, "a.B");
    assert_writes(t, b, sizeof b);
    cr_assert_str_eq(fmt(t), "addr");
    cr_assert_str_eq(fmt(t->sub[1]), "frozen<tuple<text, 'a.B'>>");
}

Test(cql_type, rejects_unknown_ids_and_empty_tuples)
{
    static const uint8_t unknown[] = {0x00, 0x0A};
    static const uint8_t big[] = {0x00, 0x40};
    static const uint8_t empty_tuple[] = {0x00, 0x31, 0x00, 0x00};
    cql_type_t *t;
    size_t used = 99;
    cr_assert_eq(read_bytes(unknown, 2, &t, &used), CQLMQ_EMALFORMED);
    cr_assert_eq(used, 0, "reader left where it was");
    cr_assert_eq(read_bytes(big, 2, &t, NULL), CQLMQ_EMALFORMED);
    cr_assert_eq(read_bytes(empty_tuple, 4, &t, NULL), CQLMQ_EMALFORMED);
}

Test(cql_type, reports_truncation_at_every_cut_and_restores_the_reader)
{
    static const uint8_t b[] = {0x00, 0x21, 0x00, 0x0D, 0x00, 0x30, 0x00, 0x01, 'k', 0x00,
                                0x01, 'n', 0x00, 0x01, 0x00, 0x01, 'f', 0x00, 0x09};
    for (size_t cut = 0; cut < sizeof b; cut++) {
        cql_type_t *t;
        size_t used = 99;
        cr_assert_eq(read_bytes(b, cut, &t, &used), CQLMQ_ETRUNCATED, "cut %zu", cut);
        cr_assert_eq(used, 0);
    }
    cql_type_t *t;
    cr_assert_eq(read_bytes(b, sizeof b, &t, NULL), 0);
    cr_assert_str_eq(fmt(t), "map<text, frozen<n>>");
}

Test(cql_type, rejects_options_nested_deeper_than_the_limit)
{
    uint8_t b[2 * 64 + 2];
    for (int depth = 30; depth <= 34; depth++) {
        size_t n = 0;
        for (int i = 0; i < depth; i++) {
            b[n++] = 0x00;
            b[n++] = 0x20; /* list< */
        }
        b[n++] = 0x00;
        b[n++] = 0x09;
        cql_type_t *t;
        int rc = read_bytes(b, n, &t, NULL);
        if (depth < CQL_TYPE_MAX_DEPTH)
            cr_assert_eq(rc, 0, "depth %d", depth);
        else
            cr_assert_eq(rc, CQLMQ_EMALFORMED, "depth %d", depth);
    }
    /* a long bomb of 10000 list ids is refused without recursing far */
    static uint8_t bomb[20002];
    for (size_t i = 0; i < 10000; i++) {
        bomb[2 * i] = 0;
        bomb[2 * i + 1] = 0x20;
    }
    bomb[20000] = 0;
    bomb[20001] = 9;
    cql_type_t *t;
    cr_assert_eq(read_bytes(bomb, sizeof bomb, &t, NULL), CQLMQ_EMALFORMED);
}

Test(cql_type, checks_counts_against_remaining_bytes_before_allocating)
{
    /* a UDT claiming 65535 fields and a tuple claiming 65535 components */
    static const uint8_t udt[] = {0x00, 0x30, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0x00, 0x00};
    static const uint8_t tup[] = {0x00, 0x31, 0xFF, 0xFF, 0x00, 0x09};
    cql_arena_t small;
    cql_arena_init(&small, 1024);
    cql_rd_t r;
    cql_type_t *t;
    cql_rd_init(&r, udt, sizeof udt);
    cr_assert_eq(cql_type_read(&r, &small, &t), CQLMQ_ETRUNCATED);
    cql_rd_init(&r, tup, sizeof tup);
    cr_assert_eq(cql_type_read(&r, &small, &t), CQLMQ_ETRUNCATED);
    cr_assert_lt(small.used, 256u, "allocated %zu bytes", small.used);
    cql_arena_close(&small);
}

Test(cql_type, reports_arena_exhaustion_as_nomem)
{
    static const uint8_t b[] = {0x00, 0x21, 0x00, 0x0D, 0x00, 0x20, 0x00, 0x09};
    cql_arena_t tiny;
    cql_arena_init(&tiny, 64);
    cql_rd_t r;
    cql_rd_init(&r, b, sizeof b);
    cql_type_t *t;
    cr_assert_eq(cql_type_read(&r, &tiny, &t), CQLMQ_ENOMEM);
    cr_assert_eq(r.pos, 0);
    cql_arena_close(&tiny);
}

Test(cql_type, writing_an_overdeep_tree_sets_erange)
{
    cql_type_t *t = cql_type_new(&arena, CQL_TYPE_INT);
    for (int i = 0; i < 40; i++) {
        cql_type_t *l = cql_arena_calloc(&arena, 1, sizeof *l);
        l->kind = CQL_TYPE_LIST;
        l->nsub = 1;
        l->sub = cql_arena_calloc(&arena, 1, sizeof *l->sub);
        l->sub[0] = t;
        t = l;
    }
    cql_wr_t w;
    cql_wr_init(&w);
    cql_type_write(&w, t);
    cr_assert_eq(cql_wr_error(&w), CQLMQ_ERANGE);
    cql_wr_close(&w);
}

/* ---- strings --------------------------------------------------------- */

static int lookup(void *ud, const char *ks, const char *name, cql_arena_t *a, cql_type_t **out)
{
    int *calls = ud;
    (*calls)++;
    if (strcmp(name, "address") != 0 && strcmp(name, "Addr") != 0)
        return CQLMQ_ENOTFOUND;
    cql_type_t *t = cql_arena_calloc(a, 1, sizeof *t);
    t->kind = CQL_TYPE_UDT;
    t->keyspace = cql_arena_strndup(a, ks, strlen(ks));
    t->name = cql_arena_strndup(a, name, strlen(name));
    t->nsub = 2;
    t->sub = cql_arena_calloc(a, 2, sizeof *t->sub);
    t->field_names = cql_arena_calloc(a, 2, sizeof *t->field_names);
    t->sub[0] = cql_type_new(a, CQL_TYPE_VARCHAR);
    t->field_names[0] = cql_arena_strndup(a, "street", 6);
    t->sub[1] = cql_type_new(a, CQL_TYPE_INT);
    t->field_names[1] = cql_arena_strndup(a, "zip", 3);
    *out = t;
    return 0;
}

static int parse(const char *s, cql_type_t **out)
{
    static int calls;
    return cql_type_parse(s, strlen(s), &arena, "ks", lookup, &calls, out);
}

static const struct {
    const char *in, *out;
} round_trips[] = {
    {"int", "int"},
    {"VARCHAR", "text"},
    {"Text", "text"},
    {"  bigint  ", "bigint"},
    {"list<int>", "list<int>"},
    {"LIST < INT >", "list<int>"},
    {"frozen<set<uuid>>", "frozen<set<uuid>>"},
    {"map<text,frozen<list<int>>>", "map<text, frozen<list<int>>>"},
    {"map<text, list<int>>", "map<text, frozen<list<int>>>"},
    {"tuple<int,text>", "frozen<tuple<int, text>>"},
    {"frozen<tuple<int, text>>", "frozen<tuple<int, text>>"},
    {"list<frozen<tuple<int, text, varint>>>", "list<frozen<tuple<int, text, varint>>>"},
    {"frozen<address>", "frozen<address>"},
    {"address", "address"},
    {"map<frozen<address>, duration>", "map<frozen<address>, duration>"},
    {"ks.address", "address"},
    {"\"Addr\"", "\"Addr\""},
    {"'org.example.My''Type'", "'org.example.My''Type'"},
    {"org.apache.cassandra.db.marshal.Int32Type", "int"},
    {"Int32Type", "int"},
    {"org.apache.cassandra.db.marshal.UTF8Type", "text"},
    {"org.apache.cassandra.db.marshal.DateType", "timestamp"},
    {"org.apache.cassandra.db.marshal.SimpleDateType", "date"},
    {"org.apache.cassandra.db.marshal.DurationType", "duration"},
    {"org.apache.cassandra.db.marshal.ListType(org.apache.cassandra.db.marshal.Int32Type)",
     "list<int>"},
    {"org.apache.cassandra.db.marshal.MapType(org.apache.cassandra.db.marshal.UTF8Type,"
     "org.apache.cassandra.db.marshal.ListType(org.apache.cassandra.db.marshal.Int32Type))",
     "map<text, frozen<list<int>>>"},
    {"org.apache.cassandra.db.marshal.FrozenType(org.apache.cassandra.db.marshal.SetType("
     "org.apache.cassandra.db.marshal.TimeUUIDType))",
     "frozen<set<timeuuid>>"},
    {"org.apache.cassandra.db.marshal.ReversedType(org.apache.cassandra.db.marshal.LongType)",
     "bigint"},
    {"org.apache.cassandra.db.marshal.TupleType(Int32Type,BytesType)",
     "frozen<tuple<int, blob>>"},
    {"org.apache.cassandra.db.marshal.FrozenType(org.apache.cassandra.db.marshal.UserType(ks,"
     "61646472657373,737472656574:org.apache.cassandra.db.marshal.UTF8Type,"
     "7a6970:org.apache.cassandra.db.marshal.Int32Type))",
     "frozen<address>"},
    {"org.apache.cassandra.db.marshal.CompositeType(Int32Type,UTF8Type)",
     "'org.apache.cassandra.db.marshal.CompositeType(Int32Type,UTF8Type)'"},
    {"com.example.Custom", "'com.example.Custom'"},
};

Test(cql_type, parses_and_formats_cql_and_java_type_strings)
{
    for (size_t i = 0; i < sizeof round_trips / sizeof round_trips[0]; i++) {
        cql_type_t *t;
        int rc = parse(round_trips[i].in, &t);
        cr_assert_eq(rc, 0, "%s: %s", round_trips[i].in, cqlmq_err_name(rc));
        cr_assert_str_eq(fmt(t), round_trips[i].out, "%s", round_trips[i].in);
        /* the formatted text parses to an equal type and formats the same */
        cql_type_t *again;
        cr_assert_eq(parse(round_trips[i].out, &again), 0, "%s", round_trips[i].out);
        cr_assert(cql_type_equal(t, again), "%s", round_trips[i].out);
        cr_assert_str_eq(fmt(again), round_trips[i].out);
    }
}

Test(cql_type, parses_java_user_types_with_hex_names)
{
    cql_type_t *t;
    const char *s = "org.apache.cassandra.db.marshal.UserType(ks,61646472657373,"
                    "737472656574:org.apache.cassandra.db.marshal.UTF8Type,"
                    "7a6970:org.apache.cassandra.db.marshal.Int32Type)";
    cr_assert_eq(parse(s, &t), 0);
    cr_assert_eq(t->kind, CQL_TYPE_UDT);
    cr_assert_str_eq(t->keyspace, "ks");
    cr_assert_str_eq(t->name, "address");
    cr_assert_eq(t->nsub, 2);
    cr_assert_str_eq(t->field_names[0], "street");
    cr_assert_str_eq(t->field_names[1], "zip");
    cr_assert_eq(t->sub[1]->kind, CQL_TYPE_INT);
    cr_assert_not(t->frozen);
}

Test(cql_type, resolves_udt_names_through_the_callback)
{
    int calls = 0;
    cql_type_t *t;
    cr_assert_eq(cql_type_parse("list<frozen<address>>", 21, &arena, "ks", lookup, &calls, &t), 0);
    cr_assert_eq(calls, 1);
    cr_assert_eq(t->sub[0]->kind, CQL_TYPE_UDT);
    cr_assert(t->sub[0]->frozen);
    cr_assert_str_eq(t->sub[0]->keyspace, "ks");
    cr_assert_eq(cql_type_parse("other.ADDRESS", 13, &arena, "ks", lookup, &calls, &t), 0);
    cr_assert_str_eq(t->keyspace, "other", "qualified names use their own keyspace");
    cr_assert_str_eq(t->name, "address", "unquoted names fold to lower case");
    cr_assert_eq(cql_type_parse("nosuch", 6, &arena, "ks", lookup, &calls, &t), CQLMQ_ENOTFOUND);
    cr_assert_eq(cql_type_parse("address", 7, &arena, "ks", NULL, NULL, &t), CQLMQ_ENOTFOUND);
    cr_assert_eq(cql_type_parse("address", 7, &arena, NULL, lookup, &calls, &t),
                 CQLMQ_ENOTFOUND);
}

Test(cql_type, rejects_malformed_type_strings)
{
    static const char *bad[] = {"",          "list<int",     "list<>",        "map<int>",
                                "map<int,int,int>", "frozen<int>", "int int",   "tuple<>",
                                "list<int>>", "'unterminated", "\"unterminated", "<int>",
                                "list(int)", "set<int,>",     "Int32Type(",   "ListType(Int32Type",
                                "org.apache.cassandra.db.marshal.UserType(ks,6g,)",
                                "foo<int>",  "list<int> x",  "map<,int>"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cql_type_t *t;
        int rc = parse(bad[i], &t);
        cr_assert(rc == CQLMQ_ESYNTAX, "'%s' gave %s", bad[i], cqlmq_err_name(rc));
    }
}

Test(cql_type, rejects_type_strings_nested_deeper_than_the_limit)
{
    char s[1024];
    for (int depth = 30; depth <= 34; depth++) {
        size_t n = 0;
        for (int i = 0; i < depth; i++)
            n += (size_t)sprintf(s + n, "frozen<list<");
        n += (size_t)sprintf(s + n, "int");
        for (int i = 0; i < depth; i++)
            n += (size_t)sprintf(s + n, ">>");
        cql_type_t *t;
        int rc = parse(s, &t);
        /* each frozen<list<...>> costs two levels */
        if (2 * depth < CQL_TYPE_MAX_DEPTH)
            cr_assert_eq(rc, 0, "depth %d", depth);
        else
            cr_assert_eq(rc, CQLMQ_ESYNTAX, "depth %d", depth);
    }
    static char bomb[60000];
    for (size_t i = 0; i < 10000; i++)
        memcpy(bomb + 5 * i, "list<", 5);
    cql_type_t *t;
    cr_assert_eq(cql_type_parse(bomb, 50000, &arena, NULL, NULL, NULL, &t), CQLMQ_ESYNTAX);
}

Test(cql_type, format_counts_like_snprintf_when_the_buffer_is_short)
{
    cql_type_t *t;
    cr_assert_eq(parse("map<text, frozen<list<int>>>", &t), 0);
    char buf[8];
    memset(buf, 'x', sizeof buf);
    cr_assert_eq(cql_type_format(t, buf, sizeof buf), 28);
    cr_assert_str_eq(buf, "map<tex");
    cr_assert_eq(cql_type_format(t, NULL, 0), 28);
}

Test(cql_type, clones_deeply_and_compares_structurally)
{
    cql_type_t *t;
    cr_assert_eq(parse("map<frozen<address>, frozen<tuple<int, 'a.B'>>>", &t), 0);
    cql_arena_t other;
    cql_arena_init(&other, 0);
    cql_type_t *c = cql_type_clone(t, &other);
    cr_assert_not_null(c);
    cr_assert(cql_type_equal(t, c));
    cr_assert_neq(c->sub[0]->name, t->sub[0]->name, "strings are copied");
    cr_assert_str_eq(fmt(c), fmt(t));
    /* differences that matter */
    c->sub[0]->field_names[0][0] = 'S';
    cr_assert_not(cql_type_equal(t, c));
    c->sub[0]->field_names[0][0] = 's';
    cr_assert(cql_type_equal(t, c));
    ((char *)c->sub[1]->sub[1]->custom_class)[0] = 'x';
    cr_assert_not(cql_type_equal(t, c));
    cql_arena_close(&other);

    cql_type_t *x, *y;
    cr_assert_eq(parse("list<int>", &x), 0);
    cr_assert_eq(parse("frozen<list<int>>", &y), 0);
    cr_assert(cql_type_equal(x, y), "frozen is ignored");
    cr_assert_eq(parse("set<int>", &y), 0);
    cr_assert_not(cql_type_equal(x, y));
    cr_assert_eq(parse("list<bigint>", &y), 0);
    cr_assert_not(cql_type_equal(x, y));

    cql_arena_t tiny;
    cql_arena_init(&tiny, 32);
    cr_assert_null(cql_type_clone(t, &tiny));
    cql_arena_close(&tiny);
}

Test(cql_type, names_kinds_and_builds_native_types)
{
    cr_assert_str_eq(cql_type_kind_name(CQL_TYPE_VARCHAR), "text");
    cr_assert_str_eq(cql_type_kind_name(CQL_TYPE_LIST), "list");
    cr_assert_str_eq(cql_type_kind_name(CQL_TYPE_DURATION), "duration");
    cr_assert_null(cql_type_kind_name(0x0A));
    cr_assert_null(cql_type_kind_name(-1));
    cql_type_t *t = cql_type_new(&arena, CQL_TYPE_TIMEUUID);
    cr_assert_not_null(t);
    cr_assert_eq(t->kind, CQL_TYPE_TIMEUUID);
    cr_assert_null(cql_type_new(&arena, CQL_TYPE_LIST));
    cr_assert_null(cql_type_new(&arena, CQL_TYPE_CUSTOM));
}

Test(cql_type, duration_travels_as_a_custom_class_before_v5_and_reads_back_as_duration)
{
    cql_arena_t a;
    cql_arena_init(&a, 0);
    cql_type_t *d = cql_type_new(&a, CQL_TYPE_DURATION);
    cql_wr_t w;
    cql_wr_init(&w);
    cql_type_write_version(&w, d, 4);
    cr_assert_eq(cql_wr_error(&w), 0);
    cr_assert_eq(cql_load_u16(w.data), CQL_TYPE_CUSTOM);
    cql_rd_t r;
    cql_rd_init(&r, w.data, w.len);
    cql_type_t *back;
    cr_assert_eq(cql_type_read(&r, &a, &back), 0);
    cr_assert_eq(back->kind, CQL_TYPE_DURATION);
    cr_assert_null(back->custom_class);
    cr_assert_eq(cql_rd_left(&r), 0);
    cql_wr_reset(&w);
    cql_type_write_version(&w, d, 5);
    cr_assert_eq(w.len, 2);
    cr_assert_eq(cql_load_u16(w.data), CQL_TYPE_DURATION);
    cql_wr_close(&w);
    cql_arena_close(&a);
}
