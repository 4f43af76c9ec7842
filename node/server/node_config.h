/*
 * node_config: the settings of an embedded cluster, and the command line
 * that fills them (cqlmq-node, and `cqlmqd --embedded` later).
 *
 * node_config_t is a plain value: fixed-size arrays, no heap, so it can be
 * copied, kept by the cluster and compared in tests. Limits are the
 * NODE_MAX_* constants below; the parser rejects anything beyond them with
 * a message instead of truncating.
 *
 * Flags (see node_config_usage() for the text printed by --help):
 *   --nodes N              N nodes on 127.0.0.1 ... 127.0.0.N (default 1)
 *   --port P               one CQL port for every node (default 9042;
 *                          0 = pick a free one, the same on every node)
 *   --dc NAME:COUNT[,...]  data centres in node order (default one DC,
 *                          "datacenter1"); racks are "rack1"
 *   --control ENDPOINT     ZeroMQ endpoint of the fault-control socket
 *                          (e.g. tcp://127.0.0.1:*; default: none)
 *   --auth USER:PASSWORD   enable PasswordAuthenticator; repeatable
 *   --cluster-name NAME    (default "cqlmq")
 *   --tokens N             tokens per node, 1..NODE_MAX_TOKENS (default 1)
 *   --max-frame BYTES      largest accepted request frame (default 16 MiB)
 *   --log-size N           activity log entries kept (default 10000)
 *   --release-version V    system.local release_version (default 4.0.11)
 *   --quiet                no "ready" line on stdout
 *   --help, -h
 * Both "--flag value" and "--flag=value" are accepted.
 */
#ifndef NODE_CONFIG_H
#define NODE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NODE_MAX_NODES 64       /* 127.0.0.1 .. 127.0.0.64 */
#define NODE_MAX_DCS 16
#define NODE_MAX_TOKENS 16      /* per node */
#define NODE_MAX_USERS 16
#define NODE_DC_NAME_MAX 48     /* bytes, without the NUL */
#define NODE_CRED_MAX 128       /* user name or password, bytes */
#define NODE_ENDPOINT_MAX 255
#define NODE_CLUSTER_NAME_MAX 64
#define NODE_VERSION_MAX 31

#define NODE_DEFAULT_PORT 9042
#define NODE_DEFAULT_DC "datacenter1"
#define NODE_DEFAULT_RACK "rack1"
#define NODE_DEFAULT_CLUSTER_NAME "cqlmq"
#define NODE_DEFAULT_RELEASE "4.0.11"
#define NODE_DEFAULT_LOG_SIZE 10000
#define NODE_MIN_FRAME 4096

/* Returned by node_config_parse when --help was given. */
#define NODE_CONFIG_HELP 1

typedef struct node_dc_conf {
    char name[NODE_DC_NAME_MAX + 1]; /* [A-Za-z0-9_.-]+ */
    int count;                       /* nodes in this DC, >= 1 */
} node_dc_conf_t;

typedef struct node_user_conf {
    char user[NODE_CRED_MAX + 1];     /* non-empty */
    char password[NODE_CRED_MAX + 1]; /* may be empty */
} node_user_conf_t;

/* Invariants after node_config_init or a successful parse: 1 <= nnodes <=
 * NODE_MAX_NODES; ndcs >= 1 and the dcs counts sum to nnodes; every string
 * is NUL-terminated. */
typedef struct node_config {
    int nnodes;                          /* nodes in the cluster */
    int port;                            /* 0..65535; 0 = any free port */
    int ndcs;                            /* data centres, >= 1 */
    node_dc_conf_t dcs[NODE_MAX_DCS];    /* in node order */
    char control[NODE_ENDPOINT_MAX + 1]; /* ZeroMQ endpoint, "" = none */
    int nusers;                          /* 0 = no authentication */
    node_user_conf_t users[NODE_MAX_USERS];
    char cluster_name[NODE_CLUSTER_NAME_MAX + 1];
    char release_version[NODE_VERSION_MAX + 1];
    int tokens;                          /* tokens per node */
    size_t max_frame;                    /* header + body, bytes */
    uint32_t log_size;                   /* activity log capacity */
    bool quiet;                          /* cqlmq-node: no ready line */
} node_config_t;

/* The defaults: one node on port 9042 in "datacenter1", no control socket,
 * no authentication. */
void node_config_init(node_config_t *cfg);

/* Parses argv[1..argc) over cfg (which should hold the defaults). Returns
 *   0                  cfg is complete and valid
 *   NODE_CONFIG_HELP   --help / -h was given (cfg is unspecified)
 *   CQLMQ_ECONFIG      a bad flag or value; err gets a one-line message
 * err may be NULL when errlen is 0. */
int node_config_parse(node_config_t *cfg, int argc, char *const *argv, char *err, size_t errlen);

/* Checks the invariants above (for configs built in code). Returns 0 or
 * CQLMQ_ECONFIG with a message in err. */
int node_config_validate(const node_config_t *cfg, char *err, size_t errlen);

/* True when s[0..n) is a valid data centre or rack name: 1 or more of
 * [A-Za-z0-9_.-] (the caller checks the length against NODE_DC_NAME_MAX). */
bool node_config_name_ok(const char *s, size_t n);

/* The data centre (index into cfg->dcs) of node i, or -1 out of range. */
int node_config_dc_of(const node_config_t *cfg, int node_index);

/* True when user/password match one of the configured users. */
bool node_config_check_user(const node_config_t *cfg, const char *user, size_t user_len,
                            const char *password, size_t password_len);

/* The --help text (static). */
const char *node_config_usage(void);

#endif /* NODE_CONFIG_H */
