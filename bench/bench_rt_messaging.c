/*
 * bench_rt_messaging: actor message throughput and round-trip latency, on
 * one loop and across two loops, beside raw libzmq inproc measured in the
 * same run as the floor.
 *
 *   throughput  one sender streams N small msgpack messages (a sequence
 *               number) to one receiver, with a credit window (the receiver
 *               acks every 1024) so mailboxes stay bounded;
 *   latency     one request in flight: ping, pong, repeat; mean round trip,
 *               and p50/p99/p99.9 of the individual round trips (the time
 *               between successive replies, one clock read per round trip).
 * Raw inproc: PUSH->PULL between two threads (16-byte messages) for
 * throughput; PAIR<->PAIR blocking ping-pong for the round trip.
 *
 * Usage: bench_rt_messaging [--json] [messages (default 5000000)] [round trips (200000)]
 * --json prints one JSON object per measurement instead of the table
 * (fields in bench/README.md; bench/run.sh reads them).
 */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "cqlmq/runtime.h"

#include "bench_util.h"


/* One --json line; pct (p50, p99, p99.9 in us) may be NULL. */
static void json_line(const char *group, const char *name, bool peer, double value,
                      const char *unit, const double *pct)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("{\"bench\":\"rt_messaging\",\"group\":\"%s\",\"name\":\"%s\",\"peer\":%s,"
           "\"value\":%.6g,\"unit\":\"%s\"",
           group, name, peer ? "true" : "false", value, unit);
    if (pct)
        printf(",\"p50_us\":%.3f,\"p99_us\":%.3f,\"p999_us\":%.3f", pct[0], pct[1], pct[2]);
    printf(",\"maxrss_kb\":%ld}\n", ru.ru_maxrss);
}

/* ---- raw libzmq ---- */

typedef struct raw {
    void *ctx;
    uint64_t n;
} raw_t;

static void *raw_push(void *arg)
{
    raw_t *r = arg;
    void *s = zmq_socket(r->ctx, ZMQ_PUSH);
    char buf[16] = {0};
    zmq_connect(s, "inproc://raw-tp");
    for (uint64_t i = 0; i < r->n; i++)
        zmq_send(s, buf, sizeof buf, 0);
    zmq_close(s);
    return NULL;
}

static double raw_throughput(uint64_t n)
{
    raw_t r = {zmq_ctx_new(), n};
    void *s = zmq_socket(r.ctx, ZMQ_PULL);
    char buf[16];
    pthread_t th;
    zmq_bind(s, "inproc://raw-tp");
    double t0 = bench_now_s();
    pthread_create(&th, NULL, raw_push, &r);
    for (uint64_t i = 0; i < n; i++)
        zmq_recv(s, buf, sizeof buf, 0);
    double t = bench_now_s() - t0;
    pthread_join(th, NULL);
    zmq_close(s);
    zmq_ctx_term(r.ctx);
    return (double)n / t;
}

static void *raw_echo(void *arg)
{
    raw_t *r = arg;
    void *s = zmq_socket(r->ctx, ZMQ_PAIR);
    char buf[16];
    zmq_connect(s, "inproc://raw-rtt");
    for (uint64_t i = 0; i < r->n; i++) {
        zmq_recv(s, buf, sizeof buf, 0);
        zmq_send(s, buf, sizeof buf, 0);
    }
    zmq_close(s);
    return NULL;
}

/* Mean round trip in us; lat[n] receives each round trip in seconds. */
static double raw_rtt_us(uint64_t n, double *lat)
{
    raw_t r = {zmq_ctx_new(), n};
    void *s = zmq_socket(r.ctx, ZMQ_PAIR);
    char buf[16] = {0};
    pthread_t th;
    zmq_bind(s, "inproc://raw-rtt");
    pthread_create(&th, NULL, raw_echo, &r);
    double t0 = bench_now_s(), prev = t0;
    for (uint64_t i = 0; i < n; i++) {
        zmq_send(s, buf, sizeof buf, 0);
        zmq_recv(s, buf, sizeof buf, 0);
        double t1 = bench_now_s();
        lat[i] = t1 - prev;
        prev = t1;
    }
    double t = bench_now_s() - t0;
    pthread_join(th, NULL);
    zmq_close(s);
    zmq_ctx_term(r.ctx);
    return t / (double)n * 1e6;
}

/* ---- runtime ---- */

enum { M_GO, M_DATA, M_ACK, M_PING, M_PONG, M_COUNT };
#define WINDOW 16384u
#define ACK_EVERY 1024u

typedef struct flow {
    rt_addr_t peer;
    uint64_t n, sent, acked, next;
    double t0, t1;
    double prev; /* pinger: time of the previous pong (or of GO) */
    double *lat; /* pinger: n round trips, seconds; NULL otherwise */
} flow_t;

static int set_state(rt_actor_t *self, void *arg)
{
    rt_set_state(self, arg);
    return 0;
}

static void pump(rt_actor_t *self, flow_t *st)
{
    while (st->sent < st->n && st->sent - st->acked < WINDOW) {
        mpk_wr_t *w = rt_msg_begin(self, st->peer, M_DATA);
        mpk_wr_uint(w, st->sent);
        if (rt_msg_end(self) != 0)
            return;
        st->sent++;
    }
}

static void on_go(rt_actor_t *self, const rt_msg_t *m)
{
    flow_t *st = rt_state(self);
    st->t0 = bench_now_s();
    pump(self, st);
}

static void on_ack(rt_actor_t *self, const rt_msg_t *m)
{
    flow_t *st = rt_state(self);
    mpk_rd_t r;
    mpk_rd_init(&r, m->data, m->len);
    mpk_rd_uint(&r, &st->acked);
    pump(self, st);
}

static void on_data(rt_actor_t *self, const rt_msg_t *m)
{
    flow_t *st = rt_state(self);
    mpk_rd_t r;
    uint64_t seq;
    mpk_rd_init(&r, m->data, m->len);
    if (mpk_rd_uint(&r, &seq) != 0 || seq != st->next) {
        fprintf(stderr, "out of order: %llu\n", (unsigned long long)seq);
        exit(1);
    }
    st->next++;
    if (st->next % ACK_EVERY == 0) {
        mpk_wr_t *w = rt_msg_begin(self, m->from, M_ACK);
        mpk_wr_uint(w, st->next);
        rt_msg_end(self);
    }
    if (st->next == st->n) {
        st->t1 = bench_now_s();
        cqlmq_runtime_stop(rt_loop_runtime(rt_actor_loop(self)));
    }
}

static void on_ping(rt_actor_t *self, const rt_msg_t *m)
{
    rt_send(self, m->from, M_PONG, m->data, m->len);
}

static void on_pong(rt_actor_t *self, const rt_msg_t *m)
{
    flow_t *st = rt_state(self);
    double t = bench_now_s();
    st->lat[st->next] = t - st->prev;
    st->prev = t;
    if (++st->next == st->n) {
        st->t1 = bench_now_s();
        cqlmq_runtime_stop(rt_loop_runtime(rt_actor_loop(self)));
        return;
    }
    mpk_wr_t *w = rt_msg_begin(self, st->peer, M_PING);
    mpk_wr_uint(w, st->next);
    rt_msg_end(self);
}

static void on_go_ping(rt_actor_t *self, const rt_msg_t *m)
{
    flow_t *st = rt_state(self);
    st->t0 = st->prev = bench_now_s();
    mpk_wr_t *w = rt_msg_begin(self, st->peer, M_PING);
    mpk_wr_uint(w, 0);
    rt_msg_end(self);
}

static const rt_handler_cb sender_h[M_COUNT] = {[M_GO] = on_go, [M_ACK] = on_ack};
static const rt_handler_cb receiver_h[M_COUNT] = {[M_DATA] = on_data, [M_PING] = on_ping};
static const rt_handler_cb pinger_h[M_COUNT] = {[M_GO] = on_go_ping, [M_PONG] = on_pong};
static const rt_actor_def_t sender_def = {"sender", sender_h, M_COUNT, 0, 0, set_state, 0};
static const rt_actor_def_t receiver_def = {"receiver", receiver_h, M_COUNT, 0, 0, set_state, 0};
static const rt_actor_def_t pinger_def = {"pinger", pinger_h, M_COUNT, 0, 0, set_state, 0};

/* Runs one scenario; returns elapsed seconds between GO and the end. With
 * latency, lat[n] receives each round trip (seconds). */
static double run(bool across, bool latency, uint64_t n, double *lat)
{
    cqlmq_runtime_t *rt;
    cqlmq_runtime_opts_t o = {.loops = across ? 2 : 1};
    flow_t snd = {0}, rcv = {0};
    rt_addr_t s;
    snd.n = rcv.n = n;
    snd.lat = lat;
    if (cqlmq_runtime_new(&o, &rt) != 0)
        exit(1);
    cqlmq_runtime_spawn(rt, across ? 1 : 0, &receiver_def, &rcv, &snd.peer);
    cqlmq_runtime_spawn(rt, 0, latency ? &pinger_def : &sender_def, &snd, &s);
    cqlmq_runtime_start(rt);
    cqlmq_runtime_send(rt, s, M_GO, NULL, 0);
    cqlmq_runtime_join(rt);
    cqlmq_runtime_free(&rt);
    return latency ? snd.t1 - snd.t0 : rcv.t1 - snd.t0;
}

int main(int argc, char **argv)
{
    bool json = argc > 1 && strcmp(argv[1], "--json") == 0;
    if (json)
        argc--, argv++;
    uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 5000000;
    uint64_t rtts = argc > 2 ? strtoull(argv[2], NULL, 10) : 200000;
    if (rtts < 4)
        rtts = 4;
    double *lat = malloc(sizeof(double) * rtts); /* preallocated: no allocation per sample */
    double raw_pct[3], same_pct[3], cross_pct[3];
    if (lat == NULL)
        return 1;

    double raw_tp = raw_throughput(n);
    double raw_rtt = raw_rtt_us(rtts / 4, lat);
    bench_percentiles_us(lat, rtts / 4, raw_pct);
    double same_tp = (double)n / run(false, false, n, NULL);
    double cross_tp = (double)n / run(true, false, n, NULL);
    double same_rtt = run(false, true, rtts, lat) / (double)rtts * 1e6;
    bench_percentiles_us(lat, rtts, same_pct);
    double cross_rtt = run(true, true, rtts / 4, lat) / (double)(rtts / 4) * 1e6;
    bench_percentiles_us(lat, rtts / 4, cross_pct);
    free(lat);

    if (json) {
        /* Same-loop delivery crosses no thread: it gets its own groups, so
         * it is not compared with a peer that does. */
        const char *tp = "throughput across threads, small messages";
        const char *rt = "round trip across threads, 1 in flight";
        json_line(tp, "raw libzmq inproc PUSH->PULL", true, raw_tp, "msg/s", NULL);
        json_line(tp, "runtime, across 2 loops", false, cross_tp, "msg/s", NULL);
        json_line(rt, "raw libzmq inproc PAIR ping-pong", true, raw_rtt, "us", raw_pct);
        json_line(rt, "runtime, across 2 loops", false, cross_rtt, "us", cross_pct);
        json_line("throughput on one loop (no thread hop, no peer)", "runtime, same loop", false,
                  same_tp, "msg/s", NULL);
        json_line("round trip on one loop (no thread hop, no peer)", "runtime, same loop",
                  false, same_rtt, "us", same_pct);
        return 0;
    }

    printf("cqlmq runtime messaging (%llu messages, %llu round trips)\n",
           (unsigned long long)n, (unsigned long long)rtts);
    printf("  %-34s %12s %14s %22s\n", "path", "msg/s", "RTT mean (us)", "p50/p99/p99.9 (us)");
    printf("  %-34s %12.0f %14.2f %8.2f/%6.2f/%6.2f\n", "raw libzmq inproc (floor)", raw_tp,
           raw_rtt, raw_pct[0], raw_pct[1], raw_pct[2]);
    printf("  %-34s %12.0f %14.2f %8.2f/%6.2f/%6.2f\n", "runtime, same loop", same_tp, same_rtt,
           same_pct[0], same_pct[1], same_pct[2]);
    printf("  %-34s %12.0f %14.2f %8.2f/%6.2f/%6.2f\n", "runtime, across loops (inproc)",
           cross_tp, cross_rtt, cross_pct[0], cross_pct[1], cross_pct[2]);
    printf("  across loops / raw inproc throughput: %.2fx (aim >= 0.5)\n", cross_tp / raw_tp);
    printf("  same loop throughput: %.1f M msg/s (aim >= 5)\n", same_tp / 1e6);
    return 0;
}
