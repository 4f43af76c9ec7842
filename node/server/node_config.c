/*
 * node_config: defaults, command-line parsing and validation of the
 * embedded cluster's settings (see node_config.h for the flags).
 *
 * The parser is table-driven: one row per flag with its handler, so the
 * usage text and the accepted flags are declared side by side. Every value
 * is checked (numbers fully consumed and in range, names of allowed
 * characters, lengths within the fixed buffers); the first problem ends the
 * parse with a message naming the flag.
 */
#include "node_config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cqlmq/error.h"

static const char usage_text[] =
    "usage: cqlmq-node [options]\n"
    "  An in-memory, Cassandra-compatible test cluster (CQL native protocol v3/v4).\n"
    "\n"
    "  --nodes N              nodes on 127.0.0.1 ... 127.0.0.N (default 1, max 64)\n"
    "  --port P               CQL port shared by every node (default 9042;\n"
    "                         0 = pick a free port)\n"
    "  --dc NAME:COUNT[,...]  data centres in node order, e.g. dc1:3,dc2:2\n"
    "                         (default: one DC \"datacenter1\"; racks are \"rack1\")\n"
    "  --control ENDPOINT     fault-control ZeroMQ socket, e.g. tcp://127.0.0.1:5599\n"
    "                         or tcp://127.0.0.1:* (default: none)\n"
    "  --auth USER:PASSWORD   require PasswordAuthenticator logins; repeatable\n"
    "  --cluster-name NAME    cluster name (default cqlmq)\n"
    "  --tokens N             tokens per node, 1..16 (default 1)\n"
    "  --max-frame BYTES      largest request frame accepted (default 16777216)\n"
    "  --log-size N           activity-log entries kept (default 10000, 0 = off)\n"
    "  --release-version V    release_version shown in system.local (default 4.0.11)\n"
    "  --quiet                do not print the ready line\n"
    "  --help, -h             this text\n"
    "\n"
    "  On start it prints one line: \"cqlmq-node ready port=P control=E nodes=N\".\n"
    "  SIGINT or SIGTERM stops it cleanly.\n";

const char *node_config_usage(void) { return usage_text; }

void node_config_init(node_config_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->nnodes = 1;
    cfg->port = NODE_DEFAULT_PORT;
    cfg->ndcs = 1;
    snprintf(cfg->dcs[0].name, sizeof cfg->dcs[0].name, "%s", NODE_DEFAULT_DC);
    cfg->dcs[0].count = 1;
    snprintf(cfg->cluster_name, sizeof cfg->cluster_name, "%s", NODE_DEFAULT_CLUSTER_NAME);
    snprintf(cfg->release_version, sizeof cfg->release_version, "%s", NODE_DEFAULT_RELEASE);
    cfg->tokens = 1;
    cfg->max_frame = (size_t)16 << 20;
    cfg->log_size = NODE_DEFAULT_LOG_SIZE;
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return CQLMQ_ECONFIG;
}

/* A decimal integer in [lo, hi], the whole string. */
static int parse_int(const char *s, long long lo, long long hi, long long *out)
{
    char *end;
    if (!s || !*s || *s == ' ' || *s == '+')
        return CQLMQ_EINVAL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || v < lo || v > hi)
        return CQLMQ_EINVAL;
    *out = v;
    return 0;
}

bool node_config_name_ok(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.'))
            return false;
    }
    return true;
}

/* Copies s into dst[cap] or fails when it does not fit. */
static bool copy_str(char *dst, size_t cap, const char *s, size_t n)
{
    if (n >= cap)
        return false;
    memcpy(dst, s, n);
    dst[n] = '\0';
    return true;
}

/* --dc NAME:COUNT[,NAME:COUNT...] */
static int parse_dcs(node_config_t *cfg, const char *v, char *err, size_t errlen)
{
    int n = 0;
    const char *p = v;
    while (1) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        const char *colon = memchr(p, ':', len);
        if (!colon)
            return fail(err, errlen, "--dc: expected NAME:COUNT, got \"%.*s\"", (int)len, p);
        size_t nlen = (size_t)(colon - p);
        char num[16];
        size_t clen = len - nlen - 1;
        long long count;
        if (n == NODE_MAX_DCS)
            return fail(err, errlen, "--dc: more than %d data centres", NODE_MAX_DCS);
        if (!node_config_name_ok(p, nlen) ||
            !copy_str(cfg->dcs[n].name, sizeof cfg->dcs[n].name, p, nlen))
            return fail(err, errlen, "--dc: bad data centre name \"%.*s\"", (int)nlen, p);
        if (!copy_str(num, sizeof num, colon + 1, clen) ||
            parse_int(num, 1, NODE_MAX_NODES, &count))
            return fail(err, errlen, "--dc: bad node count \"%.*s\" (1..%d)", (int)clen,
                        colon + 1, NODE_MAX_NODES);
        for (int i = 0; i < n; i++)
            if (strcmp(cfg->dcs[i].name, cfg->dcs[n].name) == 0)
                return fail(err, errlen, "--dc: data centre \"%s\" given twice", cfg->dcs[i].name);
        cfg->dcs[n++].count = (int)count;
        if (!comma)
            break;
        p = comma + 1;
    }
    cfg->ndcs = n;
    return 0;
}

static int parse_auth(node_config_t *cfg, const char *v, char *err, size_t errlen)
{
    const char *colon = strchr(v, ':');
    if (!colon || colon == v)
        return fail(err, errlen, "--auth: expected USER:PASSWORD");
    if (cfg->nusers == NODE_MAX_USERS)
        return fail(err, errlen, "--auth: more than %d users", NODE_MAX_USERS);
    node_user_conf_t *u = &cfg->users[cfg->nusers];
    if (!copy_str(u->user, sizeof u->user, v, (size_t)(colon - v)) ||
        !copy_str(u->password, sizeof u->password, colon + 1, strlen(colon + 1)))
        return fail(err, errlen, "--auth: user or password longer than %d bytes", NODE_CRED_MAX);
    cfg->nusers++;
    return 0;
}

enum { F_NODES, F_PORT, F_DC, F_CONTROL, F_AUTH, F_CLUSTER, F_TOKENS, F_FRAME, F_LOG,
       F_RELEASE, F_QUIET, F_HELP };

typedef struct flag_def {
    const char *name; /* without the leading "--" */
    int id;
    bool takes_value;
} flag_def_t;

static const flag_def_t flags[] = {
    {"nodes", F_NODES, true},           {"port", F_PORT, true},
    {"dc", F_DC, true},                 {"control", F_CONTROL, true},
    {"auth", F_AUTH, true},             {"cluster-name", F_CLUSTER, true},
    {"tokens", F_TOKENS, true},         {"max-frame", F_FRAME, true},
    {"log-size", F_LOG, true},          {"release-version", F_RELEASE, true},
    {"quiet", F_QUIET, false},          {"help", F_HELP, false},
};

static int apply(node_config_t *cfg, const flag_def_t *f, const char *v, bool *nodes_set,
                 char *err, size_t errlen)
{
    long long n;
    switch (f->id) {
    case F_NODES:
        if (parse_int(v, 1, NODE_MAX_NODES, &n))
            return fail(err, errlen, "--nodes: expected 1..%d, got \"%s\"", NODE_MAX_NODES, v);
        cfg->nnodes = (int)n;
        *nodes_set = true;
        return 0;
    case F_PORT:
        if (parse_int(v, 0, 65535, &n))
            return fail(err, errlen, "--port: expected 0..65535, got \"%s\"", v);
        cfg->port = (int)n;
        return 0;
    case F_DC: return parse_dcs(cfg, v, err, errlen);
    case F_CONTROL:
        if (!*v || !copy_str(cfg->control, sizeof cfg->control, v, strlen(v)) ||
            !strstr(v, "://"))
            return fail(err, errlen, "--control: expected a ZeroMQ endpoint such as "
                                     "tcp://127.0.0.1:5599, got \"%s\"", v);
        return 0;
    case F_AUTH: return parse_auth(cfg, v, err, errlen);
    case F_CLUSTER:
        if (!*v || !copy_str(cfg->cluster_name, sizeof cfg->cluster_name, v, strlen(v)))
            return fail(err, errlen, "--cluster-name: 1..%d bytes", NODE_CLUSTER_NAME_MAX);
        return 0;
    case F_TOKENS:
        if (parse_int(v, 1, NODE_MAX_TOKENS, &n))
            return fail(err, errlen, "--tokens: expected 1..%d, got \"%s\"", NODE_MAX_TOKENS, v);
        cfg->tokens = (int)n;
        return 0;
    case F_FRAME:
        if (parse_int(v, NODE_MIN_FRAME, (long long)1 << 30, &n))
            return fail(err, errlen, "--max-frame: expected %d..1073741824, got \"%s\"",
                        NODE_MIN_FRAME, v);
        cfg->max_frame = (size_t)n;
        return 0;
    case F_LOG:
        if (parse_int(v, 0, 10000000, &n))
            return fail(err, errlen, "--log-size: expected 0..10000000, got \"%s\"", v);
        cfg->log_size = (uint32_t)n;
        return 0;
    case F_RELEASE:
        if (!node_config_name_ok(v, strlen(v)) ||
            !copy_str(cfg->release_version, sizeof cfg->release_version, v, strlen(v)))
            return fail(err, errlen, "--release-version: bad version \"%s\"", v);
        return 0;
    case F_QUIET: cfg->quiet = true; return 0;
    default: return NODE_CONFIG_HELP;
    }
}

int node_config_parse(node_config_t *cfg, int argc, char *const *argv, char *err, size_t errlen)
{
    bool nodes_set = false, dc_set = false;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "-h") == 0)
            return NODE_CONFIG_HELP;
        if (strncmp(arg, "--", 2) != 0)
            return fail(err, errlen, "unexpected argument \"%s\" (see --help)", arg);
        const char *name = arg + 2;
        const char *eq = strchr(name, '=');
        size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
        const flag_def_t *f = NULL;
        for (size_t k = 0; k < sizeof flags / sizeof flags[0]; k++)
            if (strlen(flags[k].name) == nlen && strncmp(flags[k].name, name, nlen) == 0)
                f = &flags[k];
        if (!f)
            return fail(err, errlen, "unknown flag \"--%.*s\" (see --help)", (int)nlen, name);
        const char *v = NULL;
        if (f->takes_value) {
            if (eq)
                v = eq + 1;
            else if (i + 1 < argc)
                v = argv[++i];
            else
                return fail(err, errlen, "--%s needs a value", f->name);
        } else if (eq) {
            return fail(err, errlen, "--%s takes no value", f->name);
        }
        if (f->id == F_DC)
            dc_set = true;
        int rc = apply(cfg, f, v, &nodes_set, err, errlen);
        if (rc)
            return rc;
    }
    if (dc_set) {
        int sum = 0;
        for (int i = 0; i < cfg->ndcs; i++)
            sum += cfg->dcs[i].count;
        if (nodes_set && sum != cfg->nnodes)
            return fail(err, errlen, "--nodes %d does not match the %d nodes of --dc",
                        cfg->nnodes, sum);
        if (sum > NODE_MAX_NODES)
            return fail(err, errlen, "--dc: %d nodes in all, at most %d", sum, NODE_MAX_NODES);
        cfg->nnodes = sum;
    } else {
        cfg->dcs[0].count = cfg->nnodes;
    }
    return node_config_validate(cfg, err, errlen);
}

int node_config_validate(const node_config_t *cfg, char *err, size_t errlen)
{
    if (cfg->nnodes < 1 || cfg->nnodes > NODE_MAX_NODES)
        return fail(err, errlen, "nodes: expected 1..%d", NODE_MAX_NODES);
    if (cfg->port < 0 || cfg->port > 65535)
        return fail(err, errlen, "port: expected 0..65535");
    if (cfg->ndcs < 1 || cfg->ndcs > NODE_MAX_DCS)
        return fail(err, errlen, "dcs: expected 1..%d", NODE_MAX_DCS);
    int sum = 0;
    for (int i = 0; i < cfg->ndcs; i++) {
        const char *nm = cfg->dcs[i].name;
        size_t len = strnlen(nm, sizeof cfg->dcs[i].name);
        if (len == sizeof cfg->dcs[i].name || !node_config_name_ok(nm, len) ||
            cfg->dcs[i].count < 1)
            return fail(err, errlen, "dc %d: bad name or count", i);
        sum += cfg->dcs[i].count;
    }
    if (sum != cfg->nnodes)
        return fail(err, errlen, "data centre counts add up to %d, not %d nodes", sum,
                    cfg->nnodes);
    if (cfg->tokens < 1 || cfg->tokens > NODE_MAX_TOKENS)
        return fail(err, errlen, "tokens: expected 1..%d", NODE_MAX_TOKENS);
    if (cfg->max_frame < NODE_MIN_FRAME || cfg->max_frame > ((size_t)1 << 30))
        return fail(err, errlen, "max_frame: expected %d..1073741824", NODE_MIN_FRAME);
    if (cfg->nusers < 0 || cfg->nusers > NODE_MAX_USERS)
        return fail(err, errlen, "users: at most %d", NODE_MAX_USERS);
    if (strnlen(cfg->control, sizeof cfg->control) == sizeof cfg->control ||
        strnlen(cfg->cluster_name, sizeof cfg->cluster_name) == sizeof cfg->cluster_name ||
        !cfg->cluster_name[0] ||
        strnlen(cfg->release_version, sizeof cfg->release_version) ==
            sizeof cfg->release_version)
        return fail(err, errlen, "a string setting is not terminated");
    return 0;
}

int node_config_dc_of(const node_config_t *cfg, int node_index)
{
    if (node_index < 0)
        return -1;
    for (int i = 0, first = 0; i < cfg->ndcs; first += cfg->dcs[i].count, i++)
        if (node_index < first + cfg->dcs[i].count)
            return i;
    return -1;
}

bool node_config_check_user(const node_config_t *cfg, const char *user, size_t user_len,
                            const char *password, size_t password_len)
{
    for (int i = 0; i < cfg->nusers; i++) {
        const node_user_conf_t *u = &cfg->users[i];
        if (strlen(u->user) == user_len && memcmp(u->user, user, user_len) == 0 &&
            strlen(u->password) == password_len &&
            memcmp(u->password, password, password_len) == 0)
            return true;
    }
    return false;
}
