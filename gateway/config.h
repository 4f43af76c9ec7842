/*
 * gw_config: cqlmqd's settings, from three sources in this order of
 * precedence:
 *
 *   1. command-line flags          --max-in-flight 2048
 *   2. CQLMQ_* environment vars    CQLMQ_MAX_IN_FLIGHT=2048
 *   3. an optional config file     max_in_flight = 2048
 *      (--config FILE or CQLMQ_CONFIG; `key = value` lines, `#` comments,
 *      keys spelled like the flags with `_` or `-`)
 *
 * Every option is declared once in GW_CONFIG_OPTIONS (name, kind, bounds,
 * help); the three parsers, the environment names and --help come from
 * that table. A list option (--bind) given in a source replaces the list
 * of the sources below it; several --bind flags add up.
 *
 * gw_config_t is a plain value (fixed arrays, no heap).
 */
#ifndef GW_CONFIG_H
#define GW_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GW_CFG_MAX_BINDS 16
#define GW_CFG_ENDPOINT_MAX 255
#define GW_CFG_HOSTS_MAX 511    /* --contact-points text */
#define GW_CFG_NAME_MAX 48  /* --local-dc (hosts.h GW_NAME_MAX) */
#define GW_CFG_PATH_MAX 1023

/* Returned by gw_config_parse when --help was given. */
#define GW_CONFIG_HELP 1

/* Kinds: U64 (bounded unsigned), STR (text up to max bytes), BOOL (flag
 * without value; "1/0/true/false/yes/no/on/off" from env or file), BIND
 * (repeatable endpoint), LEVEL (log level name).
 * X(name, KIND, field, min, max, "help") */
#define GW_CONFIG_OPTIONS(X)                                                                  \
    X(bind, BIND, binds, 0, 0, "ENDPOINT to bind (tcp://host:port, ipc://path); repeatable")  \
    X(contact_points, STR, contact_points, 1, GW_CFG_HOSTS_MAX,                                   \
      "host:port[,host:port...] of Cassandra nodes (default 127.0.0.1:9042)")                 \
    X(local_dc, STR, local_dc, 1, GW_CFG_NAME_MAX, "the data centre to prefer")                   \
    X(embedded, BOOL, embedded, 0, 1, "run the embedded node in this process and use it")     \
    X(nodes, U64, nodes, 1, 64, "embedded: number of nodes (default 1)")                      \
    X(embedded_port, U64, embedded_port, 0, 65535, "embedded: CQL port (default 0: any free)") \
    X(log_level, LEVEL, log_level, 0, 0, "debug, info, warn, error or off (default info)")    \
    X(loops, U64, loops, 1, 64, "loop threads (default 2)")                                   \
    X(drain_ms, U64, drain_ms, 0, 3600000, "on SIGTERM, time for in-flight work (10000)")     \
    X(max_message_bytes, U64, max_message_bytes, 1024, 256u << 20, "largest request")         \
    X(max_in_flight, U64, max_in_flight, 1, 1000000, "requests in flight per client")         \
    X(max_streams, U64, max_streams, 1, 100000, "open streams per client")                    \
    X(max_credit, U64, max_credit, 1, 4096, "outstanding page credit per stream")             \
    X(max_page_bytes, U64, max_page_bytes, 1024, 256u << 20, "encoded bytes per page")        \
    X(default_page_size, U64, default_page_size, 1, 1000000, "rows per page by default")      \
    X(default_timeout_ms, U64, default_timeout_ms, 1, 3600000, "request deadline by default") \
    X(max_timeout_ms, U64, max_timeout_ms, 1, 3600000, "largest request deadline")            \
    X(lease_ms, U64, lease_ms, 100, 3600000, "session lease: silence that ends a session")    \
    X(config, STR, config_path, 1, GW_CFG_PATH_MAX, "read settings from this file")

typedef struct gw_config {
    char binds[GW_CFG_MAX_BINDS][GW_CFG_ENDPOINT_MAX + 1]; /* nbinds endpoints */
    int nbinds;                                    /* 0: the default bind */
    char contact_points[GW_CFG_HOSTS_MAX + 1];         /* "" = default */
    char local_dc[GW_CFG_NAME_MAX + 1];                /* "" = none */
    bool embedded;
    uint64_t nodes;
    uint64_t embedded_port;
    int log_level;                                 /* gw_log_level_t */
    uint64_t loops;
    uint64_t drain_ms;
    uint64_t max_message_bytes;
    uint64_t max_in_flight;
    uint64_t max_streams;
    uint64_t max_credit;
    uint64_t max_page_bytes;
    uint64_t default_page_size;
    uint64_t default_timeout_ms;
    uint64_t max_timeout_ms;
    uint64_t lease_ms;
    char config_path[GW_CFG_PATH_MAX + 1];             /* "" = no file */
} gw_config_t;

#define GW_DEFAULT_BIND "tcp://127.0.0.1:5570"
#define GW_DEFAULT_CONTACT "127.0.0.1:9042"

/* The defaults (docs/operations.md lists them). */
void gw_config_init(gw_config_t *c);

/* Fills c from argv[1..argc), the environment (envp: NULL-terminated
 * "NAME=value" strings, usually `environ`; NULL = none) and the config
 * file, with the precedence above, over the defaults. Returns
 *   0               c is complete and valid
 *   GW_CONFIG_HELP  --help / -h was given
 *   CQLMQ_ECONFIG   a bad flag, value, variable, file or line; err gets
 *                   one line saying which and why
 * err may be NULL when errlen is 0. */
int gw_config_parse(gw_config_t *c, int argc, char *const *argv, char *const *envp, char *err,
                    size_t errlen);

/* Cross-field checks (default <= max timeout, endpoints' schemes, ...).
 * Returns 0 or CQLMQ_ECONFIG with a message. */
int gw_config_validate(const gw_config_t *c, char *err, size_t errlen);

/* Writes the --help text into buf (always NUL-terminated). */
void gw_config_usage(char *buf, size_t len);

#endif /* GW_CONFIG_H */
