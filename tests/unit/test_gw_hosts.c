/*
 * Unit tests of the host table (actors/hosts.c): addresses, round-robin
 * with a local DC, and system.local / system.peers(_v2) rows.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <string.h>

#include "cql_result.h"
#include "hosts.h"

static struct sockaddr_storage addr_of(const char *s)
{
    struct sockaddr_storage sa;
    cr_assert_eq(gw_addr_parse(s, strlen(s), 9042, &sa), 0, "parse %s", s);
    return sa;
}

Test(gw_hosts, addresses_parse_with_and_without_ports)
{
    char buf[GW_ADDR_STR];
    struct sockaddr_storage sa = addr_of("127.0.0.3");
    gw_addr_format((struct sockaddr *)&sa, buf, sizeof buf);
    cr_assert_str_eq(buf, "127.0.0.3:9042");
    sa = addr_of("10.1.2.3:19042");
    gw_addr_format((struct sockaddr *)&sa, buf, sizeof buf);
    cr_assert_str_eq(buf, "10.1.2.3:19042");
    sa = addr_of("[::1]:7000");
    gw_addr_format((struct sockaddr *)&sa, buf, sizeof buf);
    cr_assert_str_eq(buf, "[::1]:7000");
    sa = addr_of("::1");
    cr_assert_eq(sa.ss_family, AF_INET6);
    const char *bad[] = {"", "host.example", "1.2.3.4:0", "1.2.3.4:70000", "1.2.3.4:x", "[::1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_eq(gw_addr_parse(bad[i], strlen(bad[i]), 9042, &sa), CQLMQ_EINVAL, "%s",
                     bad[i]);
}

static gw_hosts_t *table(void)
{
    gw_hosts_t *t = calloc(1, sizeof *t);
    gw_hosts_init(t);
    return t;
}

static int add(gw_hosts_t *t, const char *a, const char *dc)
{
    bool created;
    struct sockaddr_storage sa = addr_of(a);
    int i = gw_hosts_add(t, (struct sockaddr *)&sa, &created);
    cr_assert_geq(i, 0);
    snprintf(t->h[i].info.dc, sizeof t->h[i].info.dc, "%s", dc);
    return i;
}

Test(gw_hosts, adding_twice_finds_the_same_host_and_removal_frees_the_index)
{
    gw_hosts_t *t = table();
    int a = add(t, "127.0.0.1", "dc1"), b = add(t, "127.0.0.2", "dc1");
    bool created;
    struct sockaddr_storage sa = addr_of("127.0.0.2");
    cr_assert_eq(gw_hosts_add(t, (struct sockaddr *)&sa, &created), b);
    cr_assert_not(created);
    cr_assert_eq(gw_hosts_find(t, (struct sockaddr *)&sa), b);
    gw_hosts_remove(t, a);
    cr_assert_eq(gw_hosts_count(t, false), 1);
    int c = add(t, "127.0.0.9", "dc1");
    cr_assert_eq(c, a, "the freed index is reused");
    gw_hosts_close(t);
    free(t);
}

Test(gw_hosts, round_robin_visits_every_up_host_in_turn)
{
    gw_hosts_t *t = table();
    for (int i = 1; i <= 3; i++) {
        char a[32];
        snprintf(a, sizeof a, "127.0.0.%d", i);
        add(t, a, "dc1");
    }
    int count[3] = {0};
    for (int k = 0; k < 30; k++)
        count[gw_hosts_pick(t, NULL, NULL, NULL)]++;
    cr_assert(count[0] == 10 && count[1] == 10 && count[2] == 10);
    t->h[1].up = false;
    for (int k = 0; k < 10; k++)
        cr_assert_neq(gw_hosts_pick(t, NULL, NULL, NULL), 1, "a down host is skipped");
    t->h[0].up = t->h[2].up = false;
    cr_assert_eq(gw_hosts_pick(t, NULL, NULL, NULL), -1);
    gw_hosts_close(t);
    free(t);
}

static bool only_even(int i, void *ud)
{
    (void)ud;
    return i % 2 == 0;
}

Test(gw_hosts, the_local_dc_is_preferred_and_others_used_only_when_it_cannot_serve)
{
    gw_hosts_t *t = table();
    int l1 = add(t, "127.0.0.1", "east"), r1 = add(t, "127.0.0.2", "west");
    int l2 = add(t, "127.0.0.3", "east");
    for (int k = 0; k < 20; k++) {
        int h = gw_hosts_pick(t, "east", NULL, NULL);
        cr_assert(h == l1 || h == l2, "local only while local hosts are up");
    }
    t->h[l1].up = t->h[l2].up = false;
    cr_assert_eq(gw_hosts_pick(t, "east", NULL, NULL), r1, "remote when no local host is up");
    t->h[l1].up = t->h[l2].up = true;
    /* The predicate (e.g. a free stream id) decides too. */
    for (int k = 0; k < 6; k++) {
        int h = gw_hosts_pick(t, "west", only_even, NULL);
        cr_assert(h == l1 || h == l2, "west's only host is refused: east serves");
    }
    gw_hosts_close(t);
    free(t);
}

/* ---- system table rows ---- */

static cql_col_spec_t col(cql_arena_t *a, const char *name, cql_type_kind_t kind)
{
    cql_col_spec_t c;
    memset(&c, 0, sizeof c);
    c.keyspace = (cql_str_t){"system", 6};
    c.table = (cql_str_t){"peers_v2", 8};
    c.name = (cql_str_t){name, strlen(name)};
    if (kind == CQL_TYPE_SET)
        cr_assert_eq(cql_type_parse("set<text>", 9, a, NULL, NULL, NULL, &c.type), 0);
    else
        c.type = cql_type_new(a, kind);
    cr_assert_not_null(c.type);
    return c;
}

typedef struct got {
    gw_peer_t p[4];
    int n;
} got_t;

static void collect(gw_peer_t *p, void *ud)
{
    got_t *g = ud;
    g->p[g->n] = *p;
    p->tokens = NULL; /* stolen */
    g->n++;
}

static cql_bytes_t b(const void *p, int n) { return (cql_bytes_t){p, n}; }

/* Builds a peers_v2-like RESULT and decodes it into *m. */
static void build_peers(cql_wr_t *w, cql_arena_t *a, cql_msg_t *m, bool with_native)
{
    cql_col_spec_t cols[6] = {col(a, "peer", CQL_TYPE_INET), col(a, "native_address", CQL_TYPE_INET),
                              col(a, "native_port", CQL_TYPE_INT),
                              col(a, "data_center", CQL_TYPE_VARCHAR),
                              col(a, "host_id", CQL_TYPE_UUID), col(a, "tokens", CQL_TYPE_SET)};
    cql_meta_t meta;
    memset(&meta, 0, sizeof meta);
    meta.ncols = 6;
    meta.cols = cols;
    cql_rows_builder_t rb;
    cr_assert_eq(cql_rows_begin(&rb, w, 4, &meta), 0);
    uint8_t ip2[4] = {127, 0, 0, 2}, ip7[4] = {10, 0, 0, 7}, port[4] = {0, 0, 0x4a, 0x38};
    uint8_t id[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    /* set<text> {"-5", "300"} */
    uint8_t toks[] = {0, 0, 0, 2, 0, 0, 0, 3, '3', '0', '0', 0, 0, 0, 2, '-', '5'};
    cql_bytes_t row1[6] = {b(ip2, 4), with_native ? b(ip7, 4) : b(NULL, -1), b(port, 4),
                           b("dc9", 3), b(id, 16), b(toks, sizeof toks)};
    cql_bytes_t row2[6] = {b(NULL, -1), b(NULL, -1), b(NULL, -1), b("x", 1), b(NULL, -1),
                           b(NULL, -1)}; /* no address: skipped */
    cql_rows_add_row(&rb, row1);
    cql_rows_add_row(&rb, row2);
    cr_assert_eq(cql_rows_finish(&rb), 0);
    cr_assert_eq(cql_msg_decode(4, CQL_OP_RESULT, 0, w->data, w->len, a, m), 0);
}

Test(gw_hosts, peers_v2_rows_give_native_address_port_dc_id_and_sorted_tokens)
{
    cql_wr_t w;
    cql_arena_t a;
    cql_msg_t m;
    cql_wr_init(&w);
    cql_arena_init(&a, 0);
    build_peers(&w, &a, &m, true);
    got_t g = {.n = 0};
    struct sockaddr_storage ctl = addr_of("127.0.0.1");
    cr_assert_eq(gw_hosts_parse_rows(&m.u.result.u.rows, false, (struct sockaddr *)&ctl, 9042,
                                     collect, &g),
                 0);
    cr_assert_eq(g.n, 1, "the row without an address is skipped");
    char buf[GW_ADDR_STR];
    gw_addr_format((struct sockaddr *)&g.p[0].addr, buf, sizeof buf);
    cr_assert_str_eq(buf, "10.0.0.7:19000");
    cr_assert_str_eq(g.p[0].dc, "dc9");
    cr_assert(g.p[0].has_host_id);
    cr_assert_eq(g.p[0].host_id[15], 16);
    cr_assert_eq(g.p[0].ntokens, 2);
    cr_assert_eq(g.p[0].tokens[0], -5);
    cr_assert_eq(g.p[0].tokens[1], 300);
    free(g.p[0].tokens);
    cql_arena_close(&a);
    cql_wr_close(&w);
}

Test(gw_hosts, without_native_address_the_peer_column_is_used)
{
    cql_wr_t w;
    cql_arena_t a;
    cql_msg_t m;
    cql_wr_init(&w);
    cql_arena_init(&a, 0);
    build_peers(&w, &a, &m, false);
    got_t g = {.n = 0};
    struct sockaddr_storage ctl = addr_of("127.0.0.1");
    cr_assert_eq(gw_hosts_parse_rows(&m.u.result.u.rows, false, (struct sockaddr *)&ctl, 9042,
                                     collect, &g),
                 0);
    char buf[GW_ADDR_STR];
    gw_addr_format((struct sockaddr *)&g.p[0].addr, buf, sizeof buf);
    cr_assert_str_eq(buf, "127.0.0.2:19000");
    free(g.p[0].tokens);
    /* The local row takes the control connection's address. */
    g.n = 0;
    cr_assert_eq(gw_hosts_parse_rows(&m.u.result.u.rows, true, (struct sockaddr *)&ctl, 9042,
                                     collect, &g),
                 0);
    cr_assert_eq(g.n, 2);
    gw_addr_format((struct sockaddr *)&g.p[0].addr, buf, sizeof buf);
    cr_assert_str_eq(buf, "127.0.0.1:9042");
    free(g.p[0].tokens);
    free(g.p[1].tokens);
    cql_arena_close(&a);
    cql_wr_close(&w);
}

Test(gw_hosts, malformed_token_sets_are_refused)
{
    cql_wr_t w;
    cql_arena_t a;
    cql_wr_init(&w);
    cql_arena_init(&a, 0);
    cql_col_spec_t cols[2] = {col(&a, "peer", CQL_TYPE_INET), col(&a, "tokens", CQL_TYPE_SET)};
    cql_meta_t meta;
    memset(&meta, 0, sizeof meta);
    meta.ncols = 2;
    meta.cols = cols;
    cql_rows_builder_t rb;
    cr_assert_eq(cql_rows_begin(&rb, &w, 4, &meta), 0);
    uint8_t ip[4] = {127, 0, 0, 2};
    uint8_t toks[] = {0, 0, 0, 9, 0, 0, 0, 1, '1'}; /* claims 9 elements */
    cql_bytes_t row[2] = {b(ip, 4), b(toks, sizeof toks)};
    cql_rows_add_row(&rb, row);
    cr_assert_eq(cql_rows_finish(&rb), 0);
    cql_msg_t m;
    cr_assert_eq(cql_msg_decode(4, CQL_OP_RESULT, 0, w.data, w.len, &a, &m), 0);
    got_t g = {.n = 0};
    struct sockaddr_storage ctl = addr_of("127.0.0.1");
    cr_assert_eq(gw_hosts_parse_rows(&m.u.result.u.rows, false, (struct sockaddr *)&ctl, 9042,
                                     collect, &g),
                 CQLMQ_EMALFORMED);
    cr_assert_eq(g.n, 0);
    cql_arena_close(&a);
    cql_wr_close(&w);
}
