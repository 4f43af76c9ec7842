/*
 * bench_gwapp_stream: the gateway end to end in one process (embedded
 * node on its thread, gateway on a 2-loop runtime, a DEALER client over
 * tcp):
 *   1. small requests: N queries pipelined W at a time -> requests/s
 *   2. one stream of ROWS rows (default 1,000,000; ~100-byte rows) read
 *      with credit C, granting one page per page read -> rows/s, pages,
 *      and the process's RSS growth while streaming (memory must stay
 *      bounded by the credit, not grow with the result).
 * usage: bench_gwapp_stream [rows] [credit]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "cqlmq/gateway.h"
#include "embedded.h"
#include "protocol/wire/mpk.h"
#include "bench_util.h"

static void *sock;

static size_t rss(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long a = 0, b = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &a, &b) != 2)
            b = 0;
        fclose(f);
    }
    return (size_t)b * (size_t)sysconf(_SC_PAGESIZE);
}

static void die(const char *what)
{
    fprintf(stderr, "bench_gwapp_stream: %s\n", what);
    exit(1);
}

static void send_wr(mpk_wr_t *w)
{
    if (zmq_send(sock, w->data, w->len, 0) != (int)w->len)
        die("send");
    mpk_wr_reset(w);
}

/* Receives one reply: its op (first chars) and, for pages, the row count. */
static void recv_reply(char op[16], uint32_t *nrows, bool *ok)
{
    zmq_msg_t m;
    zmq_msg_init(&m);
    if (zmq_msg_recv(&m, sock, 0) < 0)
        die("recv");
    mpk_rd_t r;
    uint32_t n;
    mpk_rd_init(&r, zmq_msg_data(&m), zmq_msg_size(&m));
    *ok = true;
    op[0] = '\0';
    *nrows = 0;
    if (mpk_rd_map(&r, &n) != 0)
        die("reply");
    for (uint32_t i = 0; i < n; i++) {
        mpk_str_t k, v;
        if (mpk_rd_str(&r, &k) != 0)
            die("key");
        if (mpk_str_eq(k, "op") && mpk_rd_str(&r, &v) == 0) {
            snprintf(op, 16, "%.*s", (int)v.len, v.ptr);
            *ok = strcmp(op, "error") != 0;
        } else if (mpk_str_eq(k, "rows") && strcmp(op, "page") == 0) {
            if (mpk_rd_array(&r, nrows) != 0)
                die("rows");
            for (uint32_t j = 0; j < *nrows; j++)
                mpk_rd_skip(&r);
        } else if (mpk_rd_skip(&r) != 0) {
            die("skip");
        }
    }
    zmq_msg_close(&m);
}

static void query(mpk_wr_t *w, uint64_t id, const char *cql)
{
    mpk_wr_map(w, 3);
    mpk_wr_cstr(w, "op");
    mpk_wr_cstr(w, "query");
    mpk_wr_cstr(w, "id");
    mpk_wr_uint(w, id);
    mpk_wr_cstr(w, "cql");
    mpk_wr_cstr(w, cql);
    send_wr(w);
}

int main(int argc, char **argv)
{
    long rows = argc > 1 ? atol(argv[1]) : 1000000;
    long credit = argc > 2 ? atol(argv[2]) : 2;
    gw_embedded_t *node;
    if (gw_embedded_start(1, 0, &node) != 0)
        die("node");
    char contacts[256];
    gw_embedded_contact_points(node, contacts, sizeof contacts);
    cqlmq_runtime_t *rt;
    cqlmq_runtime_opts_t ro = {.loops = 2};
    cqlmq_runtime_new(&ro, &rt);
    cqlmq_gateway_opts_t o;
    cqlmq_gateway_opts_init(&o);
    o.binds[0] = "tcp://127.0.0.1:*";
    o.nbinds = 1;
    o.contact_points = contacts;
    cqlmq_gateway_t *gw;
    if (cqlmq_gateway_start(rt, &o, &gw) != 0 || cqlmq_runtime_start(rt) != 0)
        die("gateway");
    void *ctx = zmq_ctx_new();
    sock = zmq_socket(ctx, ZMQ_DEALER);
    int zero = 0, hwm = 1000000;
    zmq_setsockopt(sock, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(sock, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt(sock, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_connect(sock, cqlmq_gateway_endpoint(gw, 0));

    mpk_wr_t w;
    mpk_wr_init(&w);
    char op[16];
    uint32_t nr;
    bool ok;
    mpk_wr_map(&w, 3);
    mpk_wr_cstr(&w, "op");
    mpk_wr_cstr(&w, "hello");
    mpk_wr_cstr(&w, "id");
    mpk_wr_uint(&w, 1);
    mpk_wr_cstr(&w, "protocol");
    mpk_wr_uint(&w, 1);
    send_wr(&w);
    recv_reply(op, &nr, &ok);
    for (int i = 0;; i++) { /* until the gateway reaches the node */
        query(&w, 2, "SELECT release_version FROM system.local");
        recv_reply(op, &nr, &ok);
        if (ok)
            break;
        if (i > 200)
            die("not ready");
        usleep(20000);
    }
    query(&w, 3, "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', "
                 "'replication_factor': 1}");
    recv_reply(op, &nr, &ok);
    query(&w, 4, "CREATE TABLE ks.t (k int, c int, v text, PRIMARY KEY (k, c))");
    recv_reply(op, &nr, &ok);
    if (!ok)
        die("schema");

    /* 1. pipelined small requests */
    enum { NQ = 50000, WIN = 256 };
    double t0 = bench_now_s();
    long sent = 0, got = 0;
    while (got < NQ) {
        while (sent < NQ && sent - got < WIN)
            query(&w, 100 + (uint64_t)sent++, "SELECT release_version FROM system.local");
        recv_reply(op, &nr, &ok);
        if (!ok)
            die("query failed");
        got++;
    }
    double t1 = bench_now_s();
    printf("requests: %d pipelined %d deep: %.0f req/s\n", NQ, WIN, NQ / (t1 - t0));

    /* fill: unlogged batches of 500 literal inserts, 4 in flight */
    char v[101];
    memset(v, 'x', 100);
    v[100] = '\0';
    t0 = bench_now_s();
    long nb = (rows + 499) / 500, bs = 0, bg = 0;
    char stmt[256];
    while (bg < nb) {
        while (bs < nb && bs - bg < 4) {
            long lo = bs * 500, hi = lo + 500 < rows ? lo + 500 : rows;
            mpk_wr_map(&w, 4);
            mpk_wr_cstr(&w, "op");
            mpk_wr_cstr(&w, "batch");
            mpk_wr_cstr(&w, "id");
            mpk_wr_uint(&w, 1000000 + (uint64_t)bs);
            mpk_wr_cstr(&w, "kind");
            mpk_wr_cstr(&w, "unlogged");
            mpk_wr_cstr(&w, "statements");
            mpk_wr_array(&w, (uint32_t)(hi - lo));
            for (long c = lo; c < hi; c++) {
                snprintf(stmt, sizeof stmt, "INSERT INTO ks.t (k, c, v) VALUES (0, %ld, '%s')", c,
                         v);
                mpk_wr_map(&w, 1);
                mpk_wr_cstr(&w, "cql");
                mpk_wr_cstr(&w, stmt);
            }
            send_wr(&w);
            bs++;
        }
        recv_reply(op, &nr, &ok);
        if (!ok)
            die("batch failed");
        bg++;
    }
    t1 = bench_now_s();
    printf("fill: %ld rows in %.2f s (%.0f rows/s through batches)\n", rows, t1 - t0,
           rows / (t1 - t0));

    /* 2. the stream */
    size_t rss0 = rss(), peak = rss0;
    t0 = bench_now_s();
    mpk_wr_map(&w, 6);
    mpk_wr_cstr(&w, "op");
    mpk_wr_cstr(&w, "query");
    mpk_wr_cstr(&w, "id");
    mpk_wr_uint(&w, 9);
    mpk_wr_cstr(&w, "cql");
    mpk_wr_cstr(&w, "SELECT k, c, v FROM ks.t WHERE k = 0");
    mpk_wr_cstr(&w, "stream");
    mpk_wr_bool(&w, true);
    mpk_wr_cstr(&w, "credit");
    mpk_wr_uint(&w, (uint64_t)credit);
    mpk_wr_cstr(&w, "page_size");
    mpk_wr_uint(&w, 5000);
    send_wr(&w);
    long pages = 0, total = 0;
    for (;;) {
        recv_reply(op, &nr, &ok);
        if (!ok)
            die("stream failed");
        if (strcmp(op, "done") == 0)
            break;
        pages++;
        total += nr;
        mpk_wr_map(&w, 3);
        mpk_wr_cstr(&w, "op");
        mpk_wr_cstr(&w, "credit");
        mpk_wr_cstr(&w, "id");
        mpk_wr_uint(&w, 9);
        mpk_wr_cstr(&w, "n");
        mpk_wr_uint(&w, 1);
        send_wr(&w);
        if (pages % 16 == 0) {
            size_t r = rss();
            if (r > peak)
                peak = r;
        }
    }
    t1 = bench_now_s();
    printf("stream: %ld rows, %ld pages, credit %ld: %.2f s, %.0f rows/s; RSS growth %zu KiB\n",
           total, pages, credit, t1 - t0, total / (t1 - t0), (peak - rss0) >> 10);
    mpk_wr_close(&w);
    zmq_close(sock);
    zmq_ctx_term(ctx);
    cqlmq_gateway_free(&gw);
    cqlmq_runtime_free(&rt);
    gw_embedded_stop(&node);
    return total == rows ? 0 : 1;
}
