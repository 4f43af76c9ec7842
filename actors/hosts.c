/*
 * hosts: host table, round-robin choice and system table rows (hosts.h).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cql_result.h"
#include "hosts.h"

void gw_hosts_init(gw_hosts_t *t) { memset(t, 0, sizeof *t); }

void gw_hosts_close(gw_hosts_t *t)
{
    for (uint32_t i = 0; i < t->n; i++)
        free(t->h[i].info.tokens);
    memset(t, 0, sizeof *t);
}

void gw_addr_format(const struct sockaddr *sa, char *out, size_t outlen)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &a->sin_addr, ip, sizeof ip);
        port = ntohs(a->sin_port);
        snprintf(out, outlen, "%s:%d", ip, port);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof ip);
        port = ntohs(a->sin6_port);
        snprintf(out, outlen, "[%s]:%d", ip, port);
    } else {
        snprintf(out, outlen, "?");
    }
}

int gw_addr_parse(const char *s, size_t n, int default_port, struct sockaddr_storage *out)
{
    char buf[80], *host = buf, *port = NULL;
    if (n == 0 || n >= sizeof buf)
        return CQLMQ_EINVAL;
    memcpy(buf, s, n);
    buf[n] = '\0';
    if (buf[0] == '[') {
        char *end = strchr(buf, ']');
        if (end == NULL)
            return CQLMQ_EINVAL;
        *end = '\0';
        host = buf + 1;
        if (end[1] == ':')
            port = end + 2;
        else if (end[1] != '\0')
            return CQLMQ_EINVAL;
    } else {
        char *colon = strchr(buf, ':');
        if (colon != NULL && strchr(colon + 1, ':') == NULL) { /* not a bare IPv6 */
            *colon = '\0';
            port = colon + 1;
        }
    }
    long p = default_port;
    if (port != NULL) {
        char *end;
        p = strtol(port, &end, 10);
        if (*port == '\0' || *end != '\0')
            return CQLMQ_EINVAL;
    }
    if (p <= 0 || p > 65535)
        return CQLMQ_EINVAL;
    memset(out, 0, sizeof *out);
    struct sockaddr_in *a4 = (struct sockaddr_in *)out;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)out;
    if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)p);
    } else if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)p);
    } else {
        return CQLMQ_EINVAL;
    }
    return 0;
}

bool gw_addr_equal(const struct sockaddr *a, const struct sockaddr *b)
{
    if (a->sa_family != b->sa_family)
        return false;
    if (a->sa_family == AF_INET) {
        const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
        return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
    }
    if (a->sa_family == AF_INET6) {
        const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
        return x->sin6_port == y->sin6_port &&
               memcmp(&x->sin6_addr, &y->sin6_addr, sizeof x->sin6_addr) == 0;
    }
    return false;
}

int gw_hosts_find(const gw_hosts_t *t, const struct sockaddr *addr)
{
    for (uint32_t i = 0; i < t->n; i++)
        if (t->h[i].used && gw_addr_equal((const struct sockaddr *)&t->h[i].info.addr, addr))
            return (int)i;
    return -1;
}

int gw_hosts_add(gw_hosts_t *t, const struct sockaddr *addr, bool *created)
{
    int i = gw_hosts_find(t, addr);
    *created = false;
    if (i >= 0)
        return i;
    for (i = 0; i < GW_MAX_HOSTS && t->h[i].used; i++)
        ;
    if (i == GW_MAX_HOSTS)
        return CQLMQ_ELIMIT;
    gw_host_t *h = &t->h[i];
    memset(h, 0, sizeof *h);
    h->used = true;
    h->up = true;
    memcpy(&h->info.addr, addr,
           addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
    gw_addr_format(addr, h->name, sizeof h->name);
    if ((uint32_t)i >= t->n)
        t->n = (uint32_t)i + 1;
    *created = true;
    return i;
}

void gw_hosts_set_info(gw_hosts_t *t, int i, gw_peer_t *p)
{
    gw_host_t *h = &t->h[i];
    free(h->info.tokens);
    struct sockaddr_storage keep = h->info.addr; /* the key never changes */
    h->info = *p;
    h->info.addr = keep;
    p->tokens = NULL;
    p->ntokens = 0;
}

void gw_hosts_remove(gw_hosts_t *t, int i)
{
    free(t->h[i].info.tokens);
    memset(&t->h[i], 0, sizeof t->h[i]);
    while (t->n > 0 && !t->h[t->n - 1].used)
        t->n--;
}

uint32_t gw_hosts_count(const gw_hosts_t *t, bool up_only)
{
    uint32_t c = 0;
    for (uint32_t i = 0; i < t->n; i++)
        c += t->h[i].used && (!up_only || t->h[i].up);
    return c;
}

int gw_hosts_pick(gw_hosts_t *t, const char *local_dc, bool (*accept)(int i, void *ud),
                  void *ud)
{
    bool prefer = local_dc != NULL && local_dc[0] != '\0';
    if (t->n == 0)
        return -1;
    for (int pass = 0; pass < (prefer ? 2 : 1); pass++) {
        for (uint32_t k = 0; k < t->n; k++) {
            uint32_t i = (t->rr + k) % t->n;
            gw_host_t *h = &t->h[i];
            if (!h->used || !h->up)
                continue;
            bool local = !prefer || strcmp(h->info.dc, local_dc) == 0;
            if (local != (pass == 0))
                continue;
            if (accept != NULL && !accept((int)i, ud))
                continue;
            t->rr = (i + 1) % t->n;
            return (int)i;
        }
    }
    return -1;
}

/* ---- system table rows ---- */

static int col_index(const cql_meta_t *m, const char *name)
{
    for (int32_t i = 0; i < m->ncols && m->cols != NULL; i++)
        if (cql_str_eq(m->cols[i].name, name))
            return (int)i;
    return -1;
}

/* An inet cell into sa (port given). false for null / wrong size. */
static bool cell_inet(cql_bytes_t c, int port, struct sockaddr_storage *sa)
{
    memset(sa, 0, sizeof *sa);
    if (c.len == 4) {
        struct sockaddr_in *a = (struct sockaddr_in *)sa;
        a->sin_family = AF_INET;
        a->sin_port = htons((uint16_t)port);
        memcpy(&a->sin_addr, c.ptr, 4);
        return true;
    }
    if (c.len == 16) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)sa;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons((uint16_t)port);
        memcpy(&a->sin6_addr, c.ptr, 16);
        return true;
    }
    return false;
}

static bool inet_any(const struct sockaddr_storage *sa)
{
    if (sa->ss_family == AF_INET)
        return ((const struct sockaddr_in *)sa)->sin_addr.s_addr == 0;
    static const uint8_t zero[16];
    return memcmp(&((const struct sockaddr_in6 *)sa)->sin6_addr, zero, 16) == 0;
}

static void cell_text(cql_bytes_t c, char *out, size_t cap)
{
    size_t n = c.len > 0 ? (size_t)c.len : 0;
    if (n >= cap)
        n = cap - 1;
    if (n)
        memcpy(out, c.ptr, n);
    out[n] = '\0';
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* set<text> of decimal tokens. */
static int cell_tokens(cql_bytes_t c, gw_peer_t *p)
{
    cql_rd_t r;
    int32_t n;
    if (c.len < 0)
        return 0;
    cql_rd_init(&r, c.ptr, (size_t)c.len);
    if (cql_rd_count32(&r, 4, &n) != 0)
        return CQLMQ_EMALFORMED;
    if (n == 0)
        return 0;
    p->tokens = malloc((size_t)n * sizeof *p->tokens);
    if (p->tokens == NULL)
        return CQLMQ_ENOMEM;
    for (int32_t i = 0; i < n; i++) {
        cql_bytes_t t;
        char buf[32], *end;
        if (cql_rd_bytes(&r, &t) != 0 || t.len <= 0 || t.len >= (int32_t)sizeof buf)
            return CQLMQ_EMALFORMED;
        memcpy(buf, t.ptr, (size_t)t.len);
        buf[t.len] = '\0';
        long long v = strtoll(buf, &end, 10);
        if (*end != '\0')
            return CQLMQ_EMALFORMED;
        p->tokens[p->ntokens++] = v;
    }
    qsort(p->tokens, p->ntokens, sizeof *p->tokens, cmp_i64);
    return 0;
}

int gw_hosts_parse_rows(const cql_result_rows_t *rows, bool local,
                        const struct sockaddr *ctl_addr, int default_port,
                        void (*cb)(gw_peer_t *p, void *ud), void *ud)
{
    const cql_meta_t *m = &rows->meta;
    int c_peer = col_index(m, "peer"), c_rpc = col_index(m, "rpc_address");
    int c_native = col_index(m, "native_address"), c_nport = col_index(m, "native_port");
    int c_dc = col_index(m, "data_center"), c_rack = col_index(m, "rack");
    int c_id = col_index(m, "host_id"), c_tokens = col_index(m, "tokens");
    if (m->ncols <= 0 || m->ncols > CQL_MAX_COLUMNS)
        return CQLMQ_EMALFORMED;
    cql_bytes_t *cells = malloc((size_t)m->ncols * sizeof *cells);
    if (cells == NULL)
        return CQLMQ_ENOMEM;
    cql_rows_iter_t it;
    cql_rows_iter_init(&it, rows);
    int rc;
    while ((rc = cql_rows_next(&it, cells)) == 1) {
        gw_peer_t p;
        memset(&p, 0, sizeof p);
        bool have = false;
        if (local) {
            memcpy(&p.addr, ctl_addr,
                   ctl_addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                   : sizeof(struct sockaddr_in));
            have = true;
        } else {
            int port = default_port;
            if (c_nport >= 0 && cells[c_nport].len == 4)
                port = (int)cql_load_u32(cells[c_nport].ptr);
            if (c_native >= 0)
                have = cell_inet(cells[c_native], port, &p.addr);
            if (!have && c_rpc >= 0)
                have = cell_inet(cells[c_rpc], port, &p.addr) && !inet_any(&p.addr);
            if (!have && c_peer >= 0)
                have = cell_inet(cells[c_peer], port, &p.addr);
        }
        if (!have)
            continue;
        if (c_id >= 0 && cells[c_id].len == 16) {
            memcpy(p.host_id, cells[c_id].ptr, 16);
            p.has_host_id = true;
        }
        if (c_dc >= 0)
            cell_text(cells[c_dc], p.dc, sizeof p.dc);
        if (c_rack >= 0)
            cell_text(cells[c_rack], p.rack, sizeof p.rack);
        if (c_tokens >= 0 && (rc = cell_tokens(cells[c_tokens], &p)) != 0) {
            free(p.tokens);
            free(cells);
            return rc;
        }
        cb(&p, ud);
        free(p.tokens);
    }
    free(cells);
    return rc < 0 ? CQLMQ_EMALFORMED : 0;
}
