/*
 * gw_config: flags > environment > config file, from one option table.
 * See config.h.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cqlmq/error.h"
#include "log.h"

enum { K_U64, K_STR, K_BOOL, K_BIND, K_LEVEL };
#define KIND_U64 K_U64
#define KIND_STR K_STR
#define KIND_BOOL K_BOOL
#define KIND_BIND K_BIND
#define KIND_LEVEL K_LEVEL

typedef struct opt {
    const char *name;  /* snake_case; flags use dashes */
    int kind;
    size_t offset;
    uint64_t min, max; /* U64: value bounds; STR: length bounds */
    const char *help;
} opt_t;

static const opt_t opts[] = {
#define OPT_ROW_(name, KIND, field, mn, mx, help) \
    {#name, KIND_##KIND, offsetof(gw_config_t, field), (uint64_t)(mn), (uint64_t)(mx), help},
    GW_CONFIG_OPTIONS(OPT_ROW_)
#undef OPT_ROW_
};
#define NOPTS (sizeof opts / sizeof opts[0])

/* Where a value came from, for messages and list replacement. */
enum { SRC_FILE = 1, SRC_ENV = 2, SRC_FLAG = 3 };

typedef struct parse {
    gw_config_t *c;
    int bind_src;    /* source that last set binds (a new source replaces) */
    char *err;
    size_t errlen;
} parse_t;

static int fail(parse_t *p, const char *fmt, ...)
{
    if (p->errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->err, p->errlen, fmt, ap);
        va_end(ap);
    }
    return CQLMQ_ECONFIG;
}

void gw_config_init(gw_config_t *c)
{
    memset(c, 0, sizeof *c);
    c->nodes = 1;
    c->embedded_port = 0;
    c->log_level = GW_LOG_INFO;
    c->loops = 2;
    c->drain_ms = 10000;
    c->max_message_bytes = 4u << 20;
    c->max_in_flight = 1024;
    c->max_streams = 32;
    c->max_credit = 16;
    c->max_page_bytes = 1u << 20;
    c->default_page_size = 5000;
    c->default_timeout_ms = 10000;
    c->max_timeout_ms = 120000;
    c->lease_ms = 30000;
}

/* The option of a name spelled with '_' or '-' (n bytes), or NULL. */
static const opt_t *find_opt(const char *name, size_t n)
{
    for (size_t i = 0; i < NOPTS; i++) {
        const char *o = opts[i].name;
        if (strlen(o) != n)
            continue;
        size_t k = 0;
        for (; k < n; k++) {
            char a = name[k] == '-' ? '_' : name[k];
            if (a != o[k])
                break;
        }
        if (k == n)
            return &opts[i];
    }
    return NULL;
}

static void flag_name(const opt_t *o, char *buf, size_t len)
{
    size_t k = 0;
    for (; o->name[k] != '\0' && k + 1 < len; k++)
        buf[k] = o->name[k] == '_' ? '-' : o->name[k];
    buf[k] = '\0';
}

/* Sets option o from text v; `where` names the source in messages. */
static int set_opt(parse_t *p, const opt_t *o, const char *v, int src, const char *where)
{
    gw_config_t *c = p->c;
    void *field = (char *)c + o->offset;
    char fl[64];
    flag_name(o, fl, sizeof fl);
    switch (o->kind) {
    case K_U64: {
        if (*v == '\0' || !isdigit((unsigned char)*v))
            return fail(p, "%s: %s expects a number, got '%s'", where, fl, v);
        errno = 0;
        char *end;
        unsigned long long x = strtoull(v, &end, 10);
        if (errno != 0 || *end != '\0')
            return fail(p, "%s: %s expects a number, got '%s'", where, fl, v);
        if (x < o->min || x > o->max)
            return fail(p, "%s: %s must be between %llu and %llu, got %s", where, fl,
                        (unsigned long long)o->min, (unsigned long long)o->max, v);
        *(uint64_t *)field = x;
        return 0;
    }
    case K_STR: {
        size_t n = strlen(v);
        if (n < o->min || n > o->max)
            return fail(p, "%s: %s must be %llu to %llu bytes long", where, fl,
                        (unsigned long long)o->min, (unsigned long long)o->max);
        memcpy(field, v, n + 1);
        return 0;
    }
    case K_BOOL: {
        static const char *const yes[] = {"1", "true", "yes", "on"};
        static const char *const no[] = {"0", "false", "no", "off"};
        for (size_t i = 0; i < 4; i++) {
            if (strcasecmp(v, yes[i]) == 0) {
                *(bool *)field = true;
                return 0;
            }
            if (strcasecmp(v, no[i]) == 0) {
                *(bool *)field = false;
                return 0;
            }
        }
        return fail(p, "%s: %s expects true or false, got '%s'", where, fl, v);
    }
    case K_LEVEL: {
        int lv = gw_log_level_parse(v);
        if (lv < 0)
            return fail(p, "%s: %s must be debug, info, warn, error or off, got '%s'", where,
                        fl, v);
        *(int *)field = lv;
        return 0;
    }
    case K_BIND: {
        if (p->bind_src != src) {
            c->nbinds = 0; /* a higher source replaces the list */
            p->bind_src = src;
        }
        /* the environment may list several, comma-separated */
        const char *s = v;
        do {
            const char *comma = src == SRC_ENV ? strchr(s, ',') : NULL;
            size_t n = comma ? (size_t)(comma - s) : strlen(s);
            if (n == 0 || n > GW_CFG_ENDPOINT_MAX)
                return fail(p, "%s: %s expects an endpoint of 1 to %d bytes", where, fl,
                            GW_CFG_ENDPOINT_MAX);
            if (c->nbinds == GW_CFG_MAX_BINDS)
                return fail(p, "%s: more than %d endpoints to bind", where, GW_CFG_MAX_BINDS);
            memcpy(c->binds[c->nbinds], s, n);
            c->binds[c->nbinds][n] = '\0';
            c->nbinds++;
            s = comma ? comma + 1 : NULL;
        } while (s != NULL);
        return 0;
    }
    }
    return fail(p, "%s: internal: bad option kind", where);
}

/* ---- sources ---- */

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

static int parse_file(parse_t *p, const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return fail(p, "config file %s: %s", path, strerror(errno));
    char line[4096];
    int lineno = 0, rc = 0;
    while (rc == 0 && fgets(line, sizeof line, f) != NULL) {
        lineno++;
        char where[GW_CFG_PATH_MAX + 32];
        snprintf(where, sizeof where, "%s:%d", path, lineno);
        if (strchr(line, '\n') == NULL && !feof(f)) {
            rc = fail(p, "%s: line longer than %zu bytes", where, sizeof line - 2);
            break;
        }
        char *s = trim(line);
        if (*s == '\0' || *s == '#')
            continue;
        char *eq = strchr(s, '=');
        if (eq == NULL) {
            rc = fail(p, "%s: expected `key = value`", where);
            break;
        }
        *eq = '\0';
        char *key = trim(s), *val = trim(eq + 1);
        size_t vn = strlen(val);
        if (vn >= 2 && (val[0] == '"' || val[0] == '\'') && val[vn - 1] == val[0]) {
            val[vn - 1] = '\0';
            val++;
        }
        const opt_t *o = find_opt(key, strlen(key));
        if (o == NULL) {
            rc = fail(p, "%s: unknown key '%s'", where, key);
            break;
        }
        if (strcmp(o->name, "config") == 0) {
            rc = fail(p, "%s: `config` cannot be set inside a config file", where);
            break;
        }
        rc = set_opt(p, o, val, SRC_FILE, where);
    }
    if (rc == 0 && ferror(f))
        rc = fail(p, "config file %s: read error", path);
    fclose(f);
    return rc;
}

/* The value of NAME in envp, or NULL. */
static const char *env_get(char *const *envp, const char *name)
{
    size_t n = strlen(name);
    for (; envp != NULL && *envp != NULL; envp++)
        if (strncmp(*envp, name, n) == 0 && (*envp)[n] == '=')
            return *envp + n + 1;
    return NULL;
}

static void env_name(const opt_t *o, char *buf, size_t len)
{
    size_t k = (size_t)snprintf(buf, len, "CQLMQ_");
    for (size_t i = 0; o->name[i] != '\0' && k + 1 < len; i++)
        buf[k++] = (char)toupper((unsigned char)o->name[i]);
    buf[k] = '\0';
}

static int parse_env(parse_t *p, char *const *envp)
{
    for (size_t i = 0; i < NOPTS; i++) {
        if (strcmp(opts[i].name, "config") == 0)
            continue; /* already used to find the file */
        char name[64];
        env_name(&opts[i], name, sizeof name);
        const char *v = env_get(envp, name);
        if (v == NULL)
            continue;
        int rc = set_opt(p, &opts[i], v, SRC_ENV, name);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* Walks the flags; with apply false it only finds --config and --help and
 * checks the names, so the file and the environment can go first. */
static int parse_flags(parse_t *p, int argc, char *const *argv, bool apply, const char **cfg,
                       bool *help)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            *help = true;
            continue;
        }
        if (strncmp(a, "--", 2) != 0)
            return fail(p, "unexpected argument '%s' (see --help)", a);
        const char *name = a + 2, *eq = strchr(name, '=');
        size_t n = eq ? (size_t)(eq - name) : strlen(name);
        const opt_t *o = find_opt(name, n);
        if (o == NULL)
            return fail(p, "unknown flag '%.*s' (see --help)", (int)(n + 2), a);
        const char *v;
        if (eq != NULL) {
            v = eq + 1;
        } else if (o->kind == K_BOOL) {
            v = "true";
        } else {
            if (i + 1 >= argc)
                return fail(p, "flag --%.*s needs a value", (int)n, name);
            v = argv[++i];
        }
        if (strcmp(o->name, "config") == 0) {
            if (*v == '\0')
                return fail(p, "flag --config needs a file name");
            *cfg = v;
            continue;
        }
        if (apply) {
            char where[80];
            snprintf(where, sizeof where, "flag --%.*s", (int)(n < 60 ? n : 60), name);
            int rc = set_opt(p, o, v, SRC_FLAG, where);
            if (rc != 0)
                return rc;
        }
    }
    return 0;
}

int gw_config_parse(gw_config_t *c, int argc, char *const *argv, char *const *envp, char *err,
                    size_t errlen)
{
    parse_t p = {c, 0, err, errlen};
    if (errlen > 0)
        err[0] = '\0';
    const char *cfg = NULL;
    bool help = false;
    int rc = parse_flags(&p, argc, argv, false, &cfg, &help);
    if (rc != 0)
        return rc;
    if (help)
        return GW_CONFIG_HELP;
    if (cfg == NULL)
        cfg = env_get(envp, "CQLMQ_CONFIG");
    if (cfg != NULL && *cfg != '\0') {
        if (strlen(cfg) > GW_CFG_PATH_MAX)
            return fail(&p, "config file name longer than %d bytes", GW_CFG_PATH_MAX);
        snprintf(c->config_path, sizeof c->config_path, "%s", cfg);
        if ((rc = parse_file(&p, cfg)) != 0)
            return rc;
    }
    if ((rc = parse_env(&p, envp)) != 0)
        return rc;
    if ((rc = parse_flags(&p, argc, argv, true, &cfg, &help)) != 0)
        return rc;
    return gw_config_validate(c, err, errlen);
}

/* host:port[,host:port...] with ports 1..65535. */
static int check_hosts(parse_t *p, const char *s)
{
    if (*s == '\0')
        return 0;
    const char *item = s;
    for (;;) {
        const char *comma = strchr(item, ',');
        size_t n = comma ? (size_t)(comma - item) : strlen(item);
        const char *colon = NULL;
        for (size_t k = 0; k < n; k++)
            if (item[k] == ':')
                colon = item + k;
        if (n == 0 || colon == NULL || colon == item)
            return fail(p, "contact point '%.*s' is not host:port", (int)n, item);
        unsigned long port = 0;
        size_t digits = (size_t)(item + n - colon - 1);
        if (digits == 0 || digits > 5)
            return fail(p, "contact point '%.*s' has no valid port", (int)n, item);
        for (const char *d = colon + 1; d < item + n; d++) {
            if (!isdigit((unsigned char)*d))
                return fail(p, "contact point '%.*s' has no valid port", (int)n, item);
            port = port * 10 + (unsigned long)(*d - '0');
        }
        if (port == 0 || port > 65535)
            return fail(p, "contact point '%.*s': port out of range", (int)n, item);
        if (comma == NULL)
            return 0;
        item = comma + 1;
    }
}

int gw_config_validate(const gw_config_t *c, char *err, size_t errlen)
{
    parse_t p = {(gw_config_t *)c, 0, err, errlen};
    for (int i = 0; i < c->nbinds; i++) {
        const char *e = c->binds[i];
        if (strncmp(e, "tcp://", 6) != 0 && strncmp(e, "ipc://", 6) != 0 &&
            strncmp(e, "inproc://", 9) != 0)
            return fail(&p, "bind endpoint '%s' must start with tcp://, ipc:// or inproc://", e);
        if (strchr(e, '/') + 2 == e + strlen(e))
            return fail(&p, "bind endpoint '%s' has no address", e);
    }
    if (c->default_timeout_ms > c->max_timeout_ms)
        return fail(&p, "default-timeout-ms (%llu) is above max-timeout-ms (%llu)",
                    (unsigned long long)c->default_timeout_ms,
                    (unsigned long long)c->max_timeout_ms);
    if (c->embedded && c->contact_points[0] != '\0')
        return fail(&p, "--embedded and --contact-points exclude each other");
    return check_hosts(&p, c->contact_points);
}

void gw_config_usage(char *buf, size_t len)
{
    size_t k = 0;
#define APPEND_(...)                                                        \
    do {                                                                    \
        int n_ = snprintf(buf + k, k < len ? len - k : 0, __VA_ARGS__);     \
        if (n_ > 0)                                                         \
            k += (size_t)n_;                                                \
    } while (0)
    APPEND_("usage: cqlmqd [flags]\n\n"
            "The cqlmq gateway: clients speak ZeroMQ + msgpack (docs/protocol.md), cqlmqd\n"
            "owns the Cassandra connections. Precedence: flags > CQLMQ_* environment\n"
            "variables > config file (`key = value` lines).\n\n");
    for (size_t i = 0; i < NOPTS; i++) {
        char fl[64], env[64];
        flag_name(&opts[i], fl, sizeof fl);
        env_name(&opts[i], env, sizeof env);
        const char *arg = opts[i].kind == K_BOOL ? "" : opts[i].kind == K_U64 ? " N" : " VALUE";
        APPEND_("  --%s%s\n      %s [%s]\n", fl, arg, opts[i].help, env);
    }
    APPEND_("  --help, -h\n      this text\n\nBad input exits with status 2.\n");
#undef APPEND_
    if (len > 0 && k >= len)
        buf[len - 1] = '\0';
}
