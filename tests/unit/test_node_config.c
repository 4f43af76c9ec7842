/*
 * Unit tests: cqlmq-node's command line (node_config) and the topology it
 * produces (node_topo): addresses, data centres, tokens, host ids, and the
 * topology changes (nodes added with new tokens, removed, slots reused).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "node_config.h"
#include "node_topo.h"

static char err[256];

/* Parses a NULL-terminated argument list over the defaults. */
static int parse(node_config_t *cfg, const char *const *args)
{
    char *argv[32] = {"cqlmq-node"};
    int argc = 1;
    while (args[argc - 1])
        argv[argc] = (char *)args[argc - 1], argc++;
    node_config_init(cfg);
    err[0] = '\0';
    return node_config_parse(cfg, argc, argv, err, sizeof err);
}

#define PARSE(cfg, ...) parse(cfg, (const char *const[]){__VA_ARGS__, NULL})

Test(node_config, defaults_are_one_node_on_9042_in_datacenter1)
{
    node_config_t cfg;
    cr_assert_eq(parse(&cfg, (const char *const[]){NULL}), 0);
    cr_assert_eq(cfg.nnodes, 1);
    cr_assert_eq(cfg.port, 9042);
    cr_assert_eq(cfg.ndcs, 1);
    cr_assert_str_eq(cfg.dcs[0].name, "datacenter1");
    cr_assert_eq(cfg.nusers, 0);
    cr_assert_str_eq(cfg.control, "");
}

Test(node_config, flags_accept_separate_and_equals_values)
{
    node_config_t cfg;
    cr_assert_eq(PARSE(&cfg, "--nodes", "3", "--port=0", "--control", "tcp://127.0.0.1:*",
                       "--cluster-name=test", "--tokens", "4", "--quiet"),
                 0, "%s", err);
    cr_assert_eq(cfg.nnodes, 3);
    cr_assert_eq(cfg.dcs[0].count, 3);
    cr_assert_eq(cfg.port, 0);
    cr_assert_str_eq(cfg.control, "tcp://127.0.0.1:*");
    cr_assert_str_eq(cfg.cluster_name, "test");
    cr_assert_eq(cfg.tokens, 4);
    cr_assert(cfg.quiet);
}

Test(node_config, dc_list_sets_the_node_count_and_order)
{
    node_config_t cfg;
    cr_assert_eq(PARSE(&cfg, "--dc", "east:2,west:3"), 0, "%s", err);
    cr_assert_eq(cfg.nnodes, 5);
    cr_assert_eq(cfg.ndcs, 2);
    cr_assert_eq(node_config_dc_of(&cfg, 0), 0);
    cr_assert_eq(node_config_dc_of(&cfg, 1), 0);
    cr_assert_eq(node_config_dc_of(&cfg, 2), 1);
    cr_assert_eq(node_config_dc_of(&cfg, 4), 1);
    cr_assert_eq(node_config_dc_of(&cfg, 5), -1);
    cr_assert_eq(PARSE(&cfg, "--nodes", "5", "--dc", "east:2,west:3"), 0);
}

Test(node_config, bad_values_are_rejected_with_a_message_naming_the_flag)
{
    node_config_t cfg;
    static const char *const cases[][3] = {
        {"--nodes", "0", "--nodes"},        {"--nodes", "65", "--nodes"},
        {"--nodes", "3x", "--nodes"},       {"--port", "70000", "--port"},
        {"--port", "-1", "--port"},         {"--port", "", "--port"},
        {"--dc", "east", "--dc"},           {"--dc", "east:0", "--dc"},
        {"--dc", "e st:1", "--dc"},         {"--dc", "a:1,a:2", "twice"},
        {"--dc", ":1", "--dc"},             {"--auth", "nopassword", "--auth"},
        {"--auth", ":pw", "--auth"},        {"--tokens", "17", "--tokens"},
        {"--control", "127.0.0.1", "--control"}, {"--max-frame", "10", "--max-frame"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc = PARSE(&cfg, cases[i][0], cases[i][1]);
        cr_assert_eq(rc, CQLMQ_ECONFIG, "%s %s accepted", cases[i][0], cases[i][1]);
        cr_assert(strstr(err, cases[i][2]), "message \"%s\" lacks \"%s\"", err, cases[i][2]);
    }
}

Test(node_config, unknown_flags_missing_values_and_mismatches_are_errors)
{
    node_config_t cfg;
    cr_assert_eq(PARSE(&cfg, "--bogus"), CQLMQ_ECONFIG);
    cr_assert(strstr(err, "unknown flag"));
    cr_assert_eq(PARSE(&cfg, "--nodes"), CQLMQ_ECONFIG);
    cr_assert(strstr(err, "needs a value"));
    cr_assert_eq(PARSE(&cfg, "positional"), CQLMQ_ECONFIG);
    cr_assert_eq(PARSE(&cfg, "--quiet=yes"), CQLMQ_ECONFIG);
    cr_assert_eq(PARSE(&cfg, "--nodes", "2", "--dc", "a:1,b:2"), CQLMQ_ECONFIG);
    cr_assert(strstr(err, "does not match"));
    char dcs[400] = "";
    for (int i = 0; i < 17; i++)
        snprintf(dcs + strlen(dcs), sizeof dcs - strlen(dcs), "%sd%d:1", i ? "," : "", i);
    cr_assert_eq(PARSE(&cfg, "--dc", dcs), CQLMQ_ECONFIG);
}

Test(node_config, help_is_reported_and_usage_lists_every_flag)
{
    node_config_t cfg;
    cr_assert_eq(PARSE(&cfg, "--help"), NODE_CONFIG_HELP);
    cr_assert_eq(PARSE(&cfg, "--nodes", "2", "-h"), NODE_CONFIG_HELP);
    const char *u = node_config_usage();
    const char *flags[] = {"--nodes", "--port", "--dc", "--control", "--auth", "--help"};
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
        cr_assert(strstr(u, flags[i]), "usage lacks %s", flags[i]);
}

Test(node_config, auth_users_are_checked_exactly)
{
    node_config_t cfg;
    cr_assert_eq(PARSE(&cfg, "--auth", "alice:s3:cret", "--auth", "bob:"), 0, "%s", err);
    cr_assert_eq(cfg.nusers, 2);
    cr_assert(node_config_check_user(&cfg, "alice", 5, "s3:cret", 7));
    cr_assert(node_config_check_user(&cfg, "bob", 3, "", 0));
    cr_assert_not(node_config_check_user(&cfg, "alice", 5, "s3:cre", 6));
    cr_assert_not(node_config_check_user(&cfg, "alic", 4, "s3:cret", 7));
    cr_assert_not(node_config_check_user(&cfg, "carol", 5, "", 0));
}

Test(node_topo, nodes_get_addresses_dcs_and_distinct_v4_host_ids)
{
    node_config_t cfg;
    node_topo_t t;
    cr_assert_eq(PARSE(&cfg, "--dc", "dc1:2,dc2:1", "--port", "9999"), 0);
    cr_assert_eq(node_topo_build(&t, &cfg), 0);
    cr_assert_eq(t.topo.nnodes, 3);
    for (int i = 0; i < 3; i++) {
        const node_topo_node_t *n = &t.topo.nodes[i];
        cr_assert_eq(n->index, i);
        cr_assert_eq(n->address.size, 4);
        cr_assert_eq(n->address.addr[0], 127);
        cr_assert_eq(n->address.addr[3], i + 1);
        cr_assert_eq(n->native_port, 9999);
        cr_assert_str_eq(n->rack, "rack1");
        cr_assert(n->up);
        cr_assert_eq(n->host_id[6] >> 4, 4, "version 4 uuid");
        cr_assert_eq(n->host_id[8] & 0xC0, 0x80, "RFC 4122 variant");
        for (int k = 0; k < i; k++)
            cr_assert_neq(memcmp(n->host_id, t.topo.nodes[k].host_id, 16), 0);
    }
    cr_assert_str_eq(t.topo.nodes[1].dc, "dc1");
    cr_assert_str_eq(t.topo.nodes[2].dc, "dc2");
    cr_assert_str_eq(t.topo.cluster_name, "cqlmq");
    node_topo_set_port(&t, 1234);
    cr_assert_eq(node_topo_inet(&t, 2).port, 1234);
    node_topo_set_up(&t, 1, false);
    cr_assert_not(t.topo.nodes[1].up);
    node_topo_set_up(&t, 99, false); /* ignored */
}

Test(node_topo, tokens_are_evenly_spaced_and_interleaved)
{
    node_config_t cfg;
    node_topo_t t;
    cr_assert_eq(PARSE(&cfg, "--nodes", "4", "--tokens", "2"), 0);
    cr_assert_eq(node_topo_build(&t, &cfg), 0);
    /* 8 tokens: k * 2^61 - 2^63, dealt round robin */
    for (int k = 0; k < 8; k++) {
        int64_t want = (int64_t)(0x8000000000000000ull + (uint64_t)k * (1ull << 61));
        cr_assert_eq(t.topo.nodes[k % 4].tokens[k / 4], want, "token %d", k);
    }
    cr_assert_eq(t.topo.nodes[0].ntokens, 2);
    cr_assert_eq(PARSE(&cfg, "--nodes", "3"), 0);
    cr_assert_eq(node_topo_build(&t, &cfg), 0);
    cr_assert_eq(t.topo.nodes[0].tokens[0], INT64_MIN);
    cr_assert(t.topo.nodes[0].tokens[0] < t.topo.nodes[1].tokens[0]);
    cr_assert(t.topo.nodes[1].tokens[0] < t.topo.nodes[2].tokens[0]);
}

Test(node_topo, an_invalid_config_is_refused)
{
    node_config_t cfg;
    node_topo_t t;
    node_config_init(&cfg);
    cfg.nnodes = 2; /* dc counts still say 1 */
    cr_assert_eq(node_topo_build(&t, &cfg), CQLMQ_ECONFIG);
    char uuid[37];
    uint8_t id[16] = {0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0,
                      0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef};
    node_uuid_format(id, uuid);
    cr_assert_str_eq(uuid, "12345678-9abc-def0-0123-456789abcdef");
}

#define P2(n) ((int64_t)1 << (n))

Test(node_topo, an_added_node_takes_the_midpoints_of_the_widest_gaps)
{
    node_config_t cfg;
    node_topo_t t;
    cr_assert_eq(PARSE(&cfg, "--nodes", "2", "--tokens", "2", "--port", "9100"), 0);
    cr_assert_eq(node_topo_build(&t, &cfg), 0);
    /* ring: -2^63 (0), -2^62 (1), 0 (0), 2^62 (1): four equal gaps */
    cr_assert_eq(node_topo_add(&t, 2, "dc9", "r7"), 0);
    const node_topo_node_t *n = &t.topo.nodes[2];
    cr_assert_eq(t.topo.nnodes, 3);
    cr_assert_eq(t.nmembers, 3);
    cr_assert(node_topo_member(&t, 2));
    cr_assert_eq(n->ntokens, 2);
    cr_assert_eq(n->tokens[0], INT64_MIN + P2(61), "first of the equal gaps");
    cr_assert_eq(n->tokens[1], -P2(61), "then the first gap left at 2^62");
    cr_assert_eq(t.topo.nodes[0].tokens[0], INT64_MIN, "the others keep their tokens");
    cr_assert_eq(t.topo.nodes[1].tokens[1], P2(62));
    cr_assert_str_eq(n->dc, "dc9");
    cr_assert_str_eq(n->rack, "r7");
    cr_assert_str_eq(t.topo.nodes[0].rack, "rack1");
    cr_assert_eq(n->address.addr[3], 3);
    cr_assert_eq(n->native_port, 9100);
    cr_assert(n->up);
    cr_assert_not(n->removed);
    for (int k = 0; k < 2; k++)
        cr_assert_neq(memcmp(n->host_id, t.topo.nodes[k].host_id, 16), 0);

    /* the host id of an added node is the one a bigger cluster's node has */
    node_topo_t big;
    cr_assert_eq(PARSE(&cfg, "--nodes", "3", "--tokens", "2"), 0);
    cr_assert_eq(node_topo_build(&big, &cfg), 0);
    cr_assert_eq(memcmp(n->host_id, big.topo.nodes[2].host_id, 16), 0);
}

Test(node_topo, a_removed_node_leaves_a_slot_that_a_later_add_reuses_with_a_new_id)
{
    node_config_t cfg;
    node_topo_t t;
    cr_assert_eq(PARSE(&cfg, "--nodes", "4"), 0);
    cr_assert_eq(node_topo_build(&t, &cfg), 0);
    uint8_t old_id[16];
    memcpy(old_id, t.topo.nodes[1].host_id, 16);
    int64_t old_token = t.topo.nodes[1].tokens[0];

    cr_assert_eq(node_topo_remove(&t, 1), 0);
    cr_assert(t.topo.nodes[1].removed);
    cr_assert_not(t.topo.nodes[1].up);
    cr_assert_not(node_topo_member(&t, 1));
    cr_assert_eq(t.topo.nnodes, 4, "a hole in the middle keeps the slot count");
    cr_assert_eq(t.nmembers, 3);
    cr_assert_eq(node_topo_remove(&t, 1), CQLMQ_ERANGE, "already removed");
    cr_assert_eq(node_topo_remove(&t, 3), 0);
    cr_assert_eq(t.topo.nnodes, 3, "trailing removed slots are trimmed");

    cr_assert_eq(node_topo_add(&t, 1, "datacenter1", "rack1"), 0);
    cr_assert(node_topo_member(&t, 1));
    cr_assert_neq(memcmp(t.topo.nodes[1].host_id, old_id, 16), 0, "a new host id");
    /* ring -2^63, 0, 2^62: the widest gap is -2^63..0 */
    cr_assert_eq(t.topo.nodes[1].tokens[0], -P2(62));
    cr_assert_eq(t.topo.nodes[1].tokens[0], old_token, "the same midpoint as before");
    cr_assert_eq(node_topo_add(&t, 3, "datacenter1", "rack1"), 0);
    cr_assert_eq(t.topo.nnodes, 4);
    for (int i = 0; i < 4; i++)
        for (int k = 0; k < i; k++)
            cr_assert_neq(memcmp(t.topo.nodes[i].host_id, t.topo.nodes[k].host_id, 16), 0,
                          "host ids %d and %d", i, k);
}

Test(node_topo, bad_slots_and_names_are_refused_without_changes)
{
    node_config_t cfg;
    node_topo_t t;
    cr_assert_eq(PARSE(&cfg, "--nodes", "2"), 0);
    cr_assert_eq(node_topo_build(&t, &cfg), 0);
    node_topo_t before = t;
    char long_name[NODE_DC_NAME_MAX + 2];
    memset(long_name, 'a', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    cr_assert_eq(node_topo_add(&t, 1, "dc1", "rack1"), CQLMQ_ERANGE, "a member's slot");
    cr_assert_eq(node_topo_add(&t, -1, "dc1", "rack1"), CQLMQ_ERANGE);
    cr_assert_eq(node_topo_add(&t, NODE_MAX_NODES, "dc1", "rack1"), CQLMQ_ERANGE);
    cr_assert_eq(node_topo_add(&t, 2, "dc 1", "rack1"), CQLMQ_EINVAL);
    cr_assert_eq(node_topo_add(&t, 2, "dc1", ""), CQLMQ_EINVAL);
    cr_assert_eq(node_topo_add(&t, 2, long_name, "rack1"), CQLMQ_EINVAL);
    cr_assert_eq(node_topo_remove(&t, 5), CQLMQ_ERANGE);
    cr_assert_eq(node_topo_remove(&t, -1), CQLMQ_ERANGE);
    cr_assert_eq(memcmp(&t, &before, sizeof t), 0, "nothing changed");
    long_name[NODE_DC_NAME_MAX] = '\0'; /* exactly the longest name */
    cr_assert_eq(node_topo_add(&t, 2, long_name, long_name), 0);
}

Test(node_topo, sixty_four_nodes_of_sixteen_tokens_never_share_a_token)
{
    node_config_t cfg;
    node_topo_t t;
    cr_assert_eq(PARSE(&cfg, "--nodes", "1", "--tokens", "16"), 0);
    cr_assert_eq(node_topo_build(&t, &cfg), 0);
    for (int i = 1; i < NODE_MAX_NODES; i++)
        cr_assert_eq(node_topo_add(&t, i, "datacenter1", "rack1"), 0, "node %d", i);
    cr_assert_eq(t.nmembers, NODE_MAX_NODES);
    cr_assert_eq(t.topo.nnodes, NODE_MAX_NODES);
    static int64_t all[NODE_MAX_NODES * NODE_MAX_TOKENS];
    size_t n = 0;
    for (int i = 0; i < NODE_MAX_NODES; i++)
        for (size_t k = 0; k < t.topo.nodes[i].ntokens; k++)
            all[n++] = t.topo.nodes[i].tokens[k];
    cr_assert_eq(n, 1024);
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < i; k++)
            cr_assert_neq(all[i], all[k], "tokens %zu and %zu", i, k);
}
