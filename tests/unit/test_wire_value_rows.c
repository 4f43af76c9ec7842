/*
 * Tests for wire_rows: a Rows result becomes [[v1, v2...], ...] and its
 * metadata [[name, type], ...]; a byte cap or a row cap stops at a row
 * boundary and the iterator resumes from there (one Cassandra page cut into
 * several client pages); a single row larger than the cap travels alone;
 * broken rows content or cells are errors that leave the writer as it was.
 */
#include <criterion/criterion.h>
#include <stdio.h>

#include "cql_arena.h"
#include "cql_result.h"
#include "cql_type.h"
#include "wire_rows.h"

static cql_arena_t arena;
static void setup(void) { cql_arena_init(&arena, 0); }
static void teardown(void) { cql_arena_close(&arena); }
TestSuite(wire_rows, .init = setup, .fini = teardown);

static cql_type_t *ty(const char *s)
{
    cql_type_t *t = NULL;
    cr_assert_eq(cql_type_parse(s, strlen(s), &arena, NULL, NULL, NULL, &t), 0, "type %s", s);
    return t;
}

/* Columns (id int, name text, tags list<text>). */
static cql_meta_t meta3(void)
{
    static const char *names[] = {"id", "name", "tags"};
    static const char *types[] = {"int", "text", "list<text>"};
    cql_meta_t m = {0};
    m.flags = CQL_MF_GLOBAL_TABLES_SPEC;
    m.ncols = 3;
    m.keyspace = (cql_str_t){"ks", 2};
    m.table = (cql_str_t){"t", 1};
    m.cols = cql_arena_calloc(&arena, 3, sizeof *m.cols);
    for (int i = 0; i < 3; i++) {
        m.cols[i].keyspace = m.keyspace;
        m.cols[i].table = m.table;
        m.cols[i].name = (cql_str_t){names[i], strlen(names[i])};
        m.cols[i].type = ty(types[i]);
    }
    return m;
}

/* n rows: (i, "n<i>" padded to name_len, [] or null tags on odd rows). */
static void build_rows(cql_wr_t *w, int n, size_t name_len)
{
    char name[256];
    for (int i = 0; i < n; i++) {
        cql_wr_i32(w, 4);
        cql_wr_i32(w, i);
        memset(name, 'x', sizeof name);
        int k = snprintf(name, sizeof name, "n%d", i);
        size_t len = name_len > (size_t)k ? name_len : (size_t)k;
        cql_wr_i32(w, (int32_t)len);
        cql_wr_raw(w, name, len);
        if (i % 2) {
            cql_wr_i32(w, -1);
        } else {
            cql_wr_i32(w, 4);
            cql_wr_i32(w, 0);
        }
    }
}

static cql_result_rows_t rows_of(const cql_meta_t *m, const cql_wr_t *w, int n)
{
    cql_result_rows_t r = {0};
    r.meta = *m;
    r.nrows = n;
    r.content = w->data;
    r.content_len = w->len;
    return r;
}

Test(wire_rows, columns_are_name_and_type_string_pairs)
{
    cql_meta_t m = meta3();
    m.cols[2].type = ty("map<text, frozen<list<int>>>");
    mpk_wr_t w;
    mpk_wr_init(&w);
    cr_assert_eq(wire_columns_write(&w, &m), 0);
    static const char want[] = "\x93\x92\xa2id\xa3int\x92\xa4name\xa4text\x92\xa4tags"
                               "\xbcmap<text, frozen<list<int>>>";
    cr_assert_eq(w.len, sizeof want - 1);
    cr_assert_arr_eq(w.data, want, sizeof want - 1);
    cql_meta_t nometa = {.flags = CQL_MF_NO_METADATA, .ncols = 2};
    cr_assert_eq(wire_columns_write(&w, &nometa), CQLMQ_EINVAL);
    mpk_wr_close(&w);
}

Test(wire_rows, rows_become_arrays_of_cells_in_column_order)
{
    cql_meta_t m = meta3();
    cql_wr_t cw;
    cql_wr_init(&cw);
    build_rows(&cw, 2, 0);
    cql_result_rows_t rows = rows_of(&m, &cw, 2);
    cql_rows_iter_t it;
    cql_rows_iter_init(&it, &rows);
    mpk_wr_t w;
    uint32_t n;
    mpk_wr_init(&w);
    wire_rows_cap_t cap = {0, 0};
    cr_assert_eq(wire_rows_write(&w, &it, &m, &cap, &n), 0);
    cr_assert_eq(n, 2);
    static const uint8_t want[] = {0x92, 0x93, 0x00, 0xa2, 'n', '0', 0x90, 0x93, 0x01, 0xa2, 'n', '1', 0xc0};
    cr_assert_eq(w.len, sizeof want);
    cr_assert_arr_eq(w.data, want, sizeof want);
    /* at the end: another call gives an empty array */
    mpk_wr_reset(&w);
    cr_assert_eq(wire_rows_write(&w, &it, &m, &cap, &n), 0);
    cr_assert_eq(n, 0);
    cr_assert_eq(w.len, 1);
    cr_assert_eq(w.data[0], 0x90);
    mpk_wr_close(&w);
    cql_wr_close(&cw);
}

/* Counts the rows of an encoded array and checks it is exactly one value. */
static uint32_t count_rows(const mpk_wr_t *w, size_t from)
{
    mpk_rd_t r;
    uint32_t n;
    mpk_rd_init(&r, w->data + from, w->len - from);
    cr_assert_eq(mpk_rd_array(&r, &n), 0);
    for (uint32_t i = 0; i < n; i++)
        cr_assert_eq(mpk_rd_skip(&r), 0);
    cr_assert(mpk_rd_done(&r), "the array is exactly the output");
    return n;
}

Test(wire_rows, a_byte_cap_splits_one_result_into_pages_at_row_boundaries)
{
    cql_meta_t m = meta3();
    cql_wr_t cw;
    cql_wr_init(&cw);
    build_rows(&cw, 100, 40); /* each row ~ 46 msgpack bytes */
    cql_result_rows_t rows = rows_of(&m, &cw, 100);
    cql_rows_iter_t it;
    cql_rows_iter_init(&it, &rows);
    wire_rows_cap_t cap = {0, 500};
    uint32_t total = 0, pages = 0, n;
    int next_id = 0;
    mpk_wr_t w;
    mpk_wr_init(&w);
    while (wire_rows_left(&it) > 0) {
        mpk_wr_reset(&w);
        cr_assert_eq(wire_rows_write(&w, &it, &m, &cap, &n), 0);
        cr_assert_gt(n, 0);
        cr_assert_leq(w.len, 500, "page of %zu bytes", w.len);
        cr_assert_eq(count_rows(&w, 0), n);
        /* the first row of this page is the one after the last of the previous page */
        mpk_rd_t r;
        uint32_t k;
        int64_t id;
        mpk_rd_init(&r, w.data, w.len);
        mpk_rd_array(&r, &k);
        mpk_rd_array(&r, &k);
        mpk_rd_int(&r, &id);
        cr_assert_eq(id, next_id);
        next_id += (int)n;
        total += n;
        pages++;
    }
    cr_assert_eq(total, 100);
    cr_assert_geq(pages, 10);
    mpk_wr_close(&w);
    cql_wr_close(&cw);
}

Test(wire_rows, a_row_larger_than_the_cap_travels_alone)
{
    cql_meta_t m = meta3();
    cql_wr_t cw;
    cql_wr_init(&cw);
    build_rows(&cw, 3, 200);
    cql_result_rows_t rows = rows_of(&m, &cw, 3);
    cql_rows_iter_t it;
    cql_rows_iter_init(&it, &rows);
    wire_rows_cap_t cap = {0, 50};
    mpk_wr_t w;
    uint32_t n;
    mpk_wr_init(&w);
    for (int i = 0; i < 3; i++) {
        mpk_wr_reset(&w);
        cr_assert_eq(wire_rows_write(&w, &it, &m, &cap, &n), 0);
        cr_assert_eq(n, 1);
        cr_assert_gt(w.len, 200);
    }
    cr_assert_eq(wire_rows_left(&it), 0);
    mpk_wr_close(&w);
    cql_wr_close(&cw);
}

Test(wire_rows, a_row_cap_limits_rows_and_headers_stay_minimal)
{
    cql_meta_t m = meta3();
    cql_wr_t cw;
    cql_wr_init(&cw);
    build_rows(&cw, 70000 / 10, 0); /* 7000 rows */
    cql_result_rows_t rows = rows_of(&m, &cw, 7000);
    cql_rows_iter_t it;
    cql_rows_iter_init(&it, &rows);
    mpk_wr_t w;
    uint32_t n;
    mpk_wr_init(&w);
    wire_rows_cap_t cap = {5000, 0};
    cr_assert_eq(wire_rows_write(&w, &it, &m, &cap, &n), 0);
    cr_assert_eq(n, 5000);
    cr_assert_eq(w.data[0], 0xdc, "array 16 header");
    cr_assert_eq(cql_load_u16(w.data + 1), 5000);
    cr_assert_eq(count_rows(&w, 0), 5000);
    /* 2000 left, but a byte cap stops after a few: the header shrinks to a fixarray */
    mpk_wr_reset(&w);
    cap = (wire_rows_cap_t){0, 40};
    cr_assert_eq(wire_rows_write(&w, &it, &m, &cap, &n), 0);
    cr_assert_lt(n, 15);
    cr_assert_eq(w.data[0], 0x90 | n);
    cr_assert_eq(count_rows(&w, 0), n);
    mpk_wr_close(&w);
    cql_wr_close(&cw);
}

Test(wire_rows, broken_content_is_an_error_and_the_writer_is_restored)
{
    cql_meta_t m = meta3();
    cql_wr_t cw;
    cql_wr_init(&cw);
    build_rows(&cw, 2, 0);
    mpk_wr_t w;
    uint32_t n;
    wire_rows_cap_t cap = {0, 0};
    mpk_wr_init(&w);
    mpk_wr_cstr(&w, "before");
    size_t before = w.len;

    cql_result_rows_t rows = rows_of(&m, &cw, 3); /* claims one row more */
    cql_rows_iter_t it;
    cql_rows_iter_init(&it, &rows);
    cr_assert_eq(wire_rows_write(&w, &it, &m, &cap, &n), CQLMQ_ETRUNCATED);
    cr_assert_eq(w.len, before);

    rows = rows_of(&m, &cw, 1); /* one row fewer: bytes left over */
    cql_rows_iter_init(&it, &rows);
    cr_assert_eq(wire_rows_write(&w, &it, &m, &cap, &n), CQLMQ_ETRAILING);
    cr_assert_eq(w.len, before);

    /* a cell of the wrong size */
    cql_wr_reset(&cw);
    cql_wr_i32(&cw, 2);
    cql_wr_raw(&cw, "\x00\x01", 2);
    cql_wr_i32(&cw, -1);
    cql_wr_i32(&cw, -1);
    rows = rows_of(&m, &cw, 1);
    cql_rows_iter_init(&it, &rows);
    cr_assert_eq(wire_rows_write(&w, &it, &m, &cap, &n), CQLMQ_EBADTYPE);
    cr_assert_eq(w.len, before);

    /* types that do not match the rows */
    cql_meta_t two = m;
    two.ncols = 2;
    cql_rows_iter_init(&it, &rows);
    cr_assert_eq(wire_rows_write(&w, &it, &two, &cap, &n), CQLMQ_EINVAL);
    mpk_wr_close(&w);
    cql_wr_close(&cw);
}

Test(wire_rows, wide_rows_beyond_the_stack_bound_work)
{
    enum { COLS = 100 };
    cql_meta_t m = {0};
    m.ncols = COLS;
    m.cols = cql_arena_calloc(&arena, COLS, sizeof *m.cols);
    for (int i = 0; i < COLS; i++) {
        m.cols[i].name = (cql_str_t){"c", 1};
        m.cols[i].type = ty("tinyint");
    }
    cql_wr_t cw;
    cql_wr_init(&cw);
    for (int i = 0; i < COLS; i++) {
        cql_wr_i32(&cw, 1);
        cql_wr_u8(&cw, (uint8_t)i);
    }
    cql_result_rows_t rows = rows_of(&m, &cw, 1);
    cql_rows_iter_t it;
    cql_rows_iter_init(&it, &rows);
    mpk_wr_t w;
    uint32_t n;
    wire_rows_cap_t cap = {0, 0};
    mpk_wr_init(&w);
    cr_assert_eq(wire_rows_write(&w, &it, &m, &cap, &n), 0);
    cr_assert_eq(n, 1);
    cr_assert_eq(w.len, 1 + 3 + COLS); /* [ [ 100 positive fixints ] ] */
    cr_assert_eq(w.data[w.len - 1], COLS - 1);
    mpk_wr_close(&w);
    cql_wr_close(&cw);
}

/* ---- udts ------------------------------------------------------------ */

/* A UDT node with the given fields (types already built). */
static cql_type_t *udt(const char *name, size_t n, const char *const *fields, cql_type_t **types)
{
    cql_type_t *t = cql_arena_calloc(&arena, 1, sizeof *t);
    t->kind = CQL_TYPE_UDT;
    t->keyspace = "ks";
    t->name = name;
    t->nsub = n;
    t->sub = cql_arena_calloc(&arena, n ? n : 1, sizeof *t->sub);
    t->field_names = cql_arena_calloc(&arena, n ? n : 1, sizeof *t->field_names);
    for (size_t i = 0; i < n; i++) {
        t->sub[i] = types[i];
        t->field_names[i] = (char *)fields[i];
    }
    return t;
}

/* A container of kind around the given sub-types. */
static cql_type_t *coll(cql_type_kind_t kind, size_t n, cql_type_t **subs)
{
    cql_type_t *t = cql_arena_calloc(&arena, 1, sizeof *t);
    t->kind = kind;
    t->nsub = n;
    t->sub = cql_arena_calloc(&arena, n, sizeof *t->sub);
    memcpy(t->sub, subs, n * sizeof *subs);
    return t;
}

/* t as Cassandra's result metadata carries it: written as an [option] and
 * read back (so no frozen flag anywhere). */
static cql_type_t *as_metadata(const cql_type_t *t)
{
    cql_wr_t cw;
    cql_wr_init(&cw);
    cql_type_write(&cw, t);
    cr_assert_eq(cw.err, 0);
    cql_rd_t r;
    cql_rd_init(&r, cw.data, cw.len);
    cql_type_t *out = NULL;
    cr_assert_eq(cql_type_read(&r, &arena, &out), 0);
    cql_wr_close(&cw);
    return out;
}

static cql_meta_t meta_of(int n, const char *const *names, cql_type_t **types)
{
    cql_meta_t m = {0};
    m.ncols = n;
    m.cols = cql_arena_calloc(&arena, (size_t)n, sizeof *m.cols);
    for (int i = 0; i < n; i++) {
        m.cols[i].name = (cql_str_t){names[i], strlen(names[i])};
        m.cols[i].type = as_metadata(types[i]);
    }
    return m;
}

/* msgpack (maps, arrays, strs only) as text: {"k": ["a", "b"]}. */
static void dump(mpk_rd_t *r, char *buf, size_t cap, size_t *len)
{
    mpk_obj_t o;
    cr_assert_eq(mpk_rd_any(r, &o), 0);
#define PUT(...) (*len += (size_t)snprintf(buf + *len, cap - *len, __VA_ARGS__))
    if (o.type == MPK_STR) {
        PUT("\"%.*s\"", (int)o.v.str.len, o.v.str.ptr);
    } else if (o.type == MPK_ARRAY || o.type == MPK_MAP) {
        bool map = o.type == MPK_MAP;
        PUT(map ? "{" : "[");
        for (uint32_t i = 0; i < o.v.count; i++) {
            if (i > 0)
                PUT(", ");
            dump(r, buf, cap, len);
            if (map) {
                PUT(": ");
                dump(r, buf, cap, len);
            }
        }
        PUT(map ? "}" : "]");
    } else {
        cr_assert_fail("unexpected msgpack type %d", (int)o.type);
    }
    cr_assert(*len < cap);
#undef PUT
}

static const char *udts_text(const cql_meta_t *const *metas, size_t n)
{
    static char buf[2048];
    mpk_wr_t w;
    mpk_wr_init(&w);
    cr_assert_eq(wire_udts_write(&w, metas, n), 0);
    mpk_rd_t r;
    mpk_rd_init(&r, w.data, w.len);
    size_t len = 0;
    dump(&r, buf, sizeof buf, &len);
    cr_assert(mpk_rd_done(&r));
    mpk_wr_close(&w);
    return buf;
}

/* addr (street text, loc frozen<tuple<double, double>>, tags frozen<set<text>>)
 * and person (name text, home frozen<addr>, past frozen<list<frozen<addr>>>). */
static cql_type_t *addr_type(void)
{
    cql_type_t *d = cql_type_new(&arena, CQL_TYPE_DOUBLE);
    cql_type_t *txt = cql_type_new(&arena, CQL_TYPE_VARCHAR);
    cql_type_t *fields[] = {txt, coll(CQL_TYPE_TUPLE, 2, (cql_type_t *[]){d, d}),
                            coll(CQL_TYPE_SET, 1, (cql_type_t *[]){txt})};
    return udt("addr", 3, (const char *[]){"street", "loc", "tags"}, fields);
}

static cql_type_t *person_type(cql_type_t *addr)
{
    cql_type_t *fields[] = {cql_type_new(&arena, CQL_TYPE_VARCHAR), addr,
                            coll(CQL_TYPE_LIST, 1, (cql_type_t *[]){addr})};
    return udt("person", 3, (const char *[]){"name", "home", "past"}, fields);
}

Test(wire_rows, udts_map_every_udt_name_to_its_typed_fields_nested_ones_included)
{
    cql_type_t *addr = addr_type();
    cql_type_t *person = person_type(addr);
    cql_type_t *types[] = {cql_type_new(&arena, CQL_TYPE_INT),
                           coll(CQL_TYPE_MAP, 2, (cql_type_t *[]){cql_type_new(&arena, CQL_TYPE_VARCHAR), person}),
                           addr};
    cql_meta_t m = meta_of(3, (const char *[]){"k", "people", "a"}, types);
    cr_assert(wire_meta_has_udt(&m));
    const cql_meta_t *metas[] = {&m};
    cr_assert_str_eq(udts_text(metas, 1),
                     "{\"person\": [[\"name\", \"text\"], [\"home\", \"frozen<addr>\"], "
                     "[\"past\", \"frozen<list<frozen<addr>>>\"]], "
                     "\"addr\": [[\"street\", \"text\"], [\"loc\", \"frozen<tuple<double, double>>\"], "
                     "[\"tags\", \"frozen<set<text>>\"]]}");
    /* the type strings of the columns name the same keys */
    mpk_wr_t w;
    mpk_wr_init(&w);
    cr_assert_eq(wire_columns_write(&w, &m), 0);
    mpk_rd_t r;
    mpk_rd_init(&r, w.data, w.len);
    char buf[512];
    size_t len = 0;
    dump(&r, buf, sizeof buf, &len);
    cr_assert_str_eq(buf, "[[\"k\", \"int\"], [\"people\", \"map<text, frozen<person>>\"], [\"a\", \"addr\"]]");
    mpk_wr_close(&w);
}

Test(wire_rows, udts_of_several_metadata_are_one_map_with_each_name_once)
{
    cql_type_t *addr = addr_type();
    cql_meta_t bind = meta_of(2, (const char *[]){"a", "b"},
                              (cql_type_t *[]){addr, coll(CQL_TYPE_SET, 1, (cql_type_t *[]){addr})});
    cql_meta_t res = meta_of(1, (const char *[]){"p"}, (cql_type_t *[]){person_type(addr)});
    const cql_meta_t *metas[] = {&bind, NULL, &res};
    const char *s = udts_text(metas, 3);
    cr_assert(strncmp(s, "{\"addr\": [[\"street\"", 18) == 0, "%s", s);
    cr_assert(strstr(s, "\"person\": [[\"name\", \"text\"]") != NULL, "%s", s);
    cr_assert_null(strstr(strstr(s, "\"addr\"") + 1, "\"addr\": "), "addr once: %s", s);
    /* nothing to say: an empty map */
    cql_meta_t plain = meta_of(1, (const char *[]){"k"}, (cql_type_t *[]){cql_type_new(&arena, CQL_TYPE_INT)});
    const cql_meta_t *none[] = {&plain};
    cr_assert_str_eq(udts_text(none, 1), "{}");
}

Test(wire_rows, udt_names_are_keyed_as_the_type_strings_print_them)
{
    cql_type_t *inner = udt("Inner Type", 1, (const char *[]){"X"},
                            (cql_type_t *[]){cql_type_new(&arena, CQL_TYPE_INT)});
    cql_type_t *outer = udt("Outer", 1, (const char *[]){"in"}, (cql_type_t *[]){inner});
    cql_meta_t m = meta_of(1, (const char *[]){"c"},
                           (cql_type_t *[]){coll(CQL_TYPE_LIST, 1, (cql_type_t *[]){outer})});
    const cql_meta_t *metas[] = {&m};
    cr_assert_str_eq(udts_text(metas, 1),
                     "{\"\"Outer\"\": [[\"in\", \"frozen<\"Inner Type\">\"]], "
                     "\"\"Inner Type\"\": [[\"X\", \"int\"]]}");
}

Test(wire_rows, only_metadata_with_a_udt_says_it_has_one)
{
    cql_meta_t m = meta3();
    m.cols[2].type = ty("map<text, frozen<list<tuple<int, set<int>>>>>");
    cr_assert_not(wire_meta_has_udt(&m));
    cql_meta_t nometa = {.flags = CQL_MF_NO_METADATA, .ncols = 2};
    cr_assert_not(wire_meta_has_udt(&nometa));
    cr_assert_not(wire_meta_has_udt(NULL));
    cql_type_t *tup = coll(CQL_TYPE_TUPLE, 2, (cql_type_t *[]){cql_type_new(&arena, CQL_TYPE_INT),
                                                               coll(CQL_TYPE_LIST, 1, (cql_type_t *[]){addr_type()})});
    m.cols[2].type = tup;
    cr_assert(wire_meta_has_udt(&m));
}

Test(wire_rows, udts_nested_beyond_the_bound_are_refused)
{
    cql_type_t *t = addr_type();
    for (int i = 0; i < 2 * CQL_TYPE_MAX_DEPTH + 1; i++)
        t = coll(CQL_TYPE_LIST, 1, (cql_type_t *[]){t});
    cql_meta_t m = {0};
    m.ncols = 1;
    m.cols = cql_arena_calloc(&arena, 1, sizeof *m.cols);
    m.cols[0].type = t;
    const cql_meta_t *metas[] = {&m};
    mpk_wr_t w;
    mpk_wr_init(&w);
    cr_assert_eq(wire_udts_write(&w, metas, 1), CQLMQ_ELIMIT);
    mpk_wr_close(&w);
}

Test(wire_rows, many_distinct_udts_outgrow_the_stack_set)
{
    enum { N = 40 };
    cql_type_t *subs[N];
    static char names[N][8];
    for (int i = 0; i < N; i++) {
        snprintf(names[i], sizeof names[i], "u%d", i);
        subs[i] = udt(names[i], 1, (const char *[]){"f"}, (cql_type_t *[]){cql_type_new(&arena, CQL_TYPE_INT)});
    }
    cql_meta_t m = meta_of(1, (const char *[]){"c"}, (cql_type_t *[]){coll(CQL_TYPE_TUPLE, N, subs)});
    const cql_meta_t *metas[] = {&m};
    mpk_wr_t w;
    mpk_wr_init(&w);
    cr_assert_eq(wire_udts_write(&w, metas, 1), 0);
    mpk_rd_t r;
    mpk_rd_init(&r, w.data, w.len);
    uint32_t n;
    cr_assert_eq(mpk_rd_map(&r, &n), 0);
    cr_assert_eq(n, N);
    mpk_str_t k;
    cr_assert_eq(mpk_rd_str(&r, &k), 0);
    cr_assert(mpk_str_eq(k, "u0"));
    mpk_wr_close(&w);
}
