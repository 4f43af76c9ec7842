/*
 * cqlmqd as a process: bad flags exit 2; SIGTERM drains (new requests get
 * shutting_down, a request in flight still gets its result) and the
 * process exits 0.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#include "protocol/wire/mpk.h"

static const char *cqlmqd(void)
{
    const char *p = getenv("CQLMQD");
    return p ? p : "cqlmqd";
}

/* Starts cqlmqd with args; its stderr comes back through *err_fd. */
static pid_t spawn(char *const *argv, int *err_fd)
{
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        dup2(fds[1], 2);
        close(fds[0]);
        close(fds[1]);
        execv(cqlmqd(), argv);
        _exit(127);
    }
    close(fds[1]);
    *err_fd = fds[0];
    return pid;
}

/* Reads stderr lines until one contains `what`; copies the value of the
 * JSON key `key` of that line into out. */
static void wait_line(int fd, const char *what, const char *key, char *out, size_t len)
{
    static char buf[65536];
    static size_t have;
    for (int spins = 0; spins < 200; spins++) {
        char *nl;
        while ((nl = memchr(buf, '\n', have)) != NULL) {
            *nl = '\0';
            bool hit = strstr(buf, what) != NULL;
            if (hit && key != NULL) {
                char pat[64];
                snprintf(pat, sizeof pat, "\"%s\":\"", key);
                char *v = strstr(buf, pat);
                cr_assert_not_null(v, "no %s in %s", key, buf);
                v += strlen(pat);
                char *e = strchr(v, '"');
                snprintf(out, len, "%.*s", (int)(e - v), v);
            }
            size_t used = (size_t)(nl + 1 - buf);
            memmove(buf, nl + 1, have - used);
            have -= used;
            if (hit)
                return;
        }
        struct pollfd p = {fd, POLLIN, 0};
        cr_assert_gt(poll(&p, 1, 100 * 50), 0, "no '%s' line", what);
        ssize_t n = read(fd, buf + have, sizeof buf - have - 1);
        cr_assert_gt(n, 0, "stderr closed before '%s'", what);
        have += (size_t)n;
    }
    cr_assert_fail("no '%s' line", what);
}

static void sendmap(void *s, const char *op, uint64_t id, const char *cql, const char *extra_key,
                    uint64_t extra)
{
    mpk_wr_t w;
    mpk_wr_init(&w);
    mpk_wr_map(&w, 2 + (cql != NULL) + (extra_key != NULL) + (strcmp(op, "hello") == 0));
    mpk_wr_cstr(&w, "op");
    mpk_wr_cstr(&w, op);
    mpk_wr_cstr(&w, "id");
    mpk_wr_uint(&w, id);
    if (cql) {
        mpk_wr_cstr(&w, "cql");
        mpk_wr_cstr(&w, cql);
    }
    if (extra_key) {
        mpk_wr_cstr(&w, extra_key);
        mpk_wr_uint(&w, extra);
    }
    if (strcmp(op, "hello") == 0) {
        mpk_wr_cstr(&w, "protocol");
        mpk_wr_uint(&w, 1);
    }
    cr_assert_eq(zmq_send(s, w.data, w.len, 0), (int)w.len);
    mpk_wr_close(&w);
}

/* Receives one reply; returns its id and copies op and code. */
static uint64_t recv_reply(void *s, char *op, char *code)
{
    char buf[65536];
    zmq_pollitem_t it = {s, 0, ZMQ_POLLIN, 0};
    cr_assert_eq(zmq_poll(&it, 1, 10000), 1, "a reply");
    int n = zmq_recv(s, buf, sizeof buf, 0);
    cr_assert_gt(n, 0);
    mpk_rd_t r;
    uint32_t pairs;
    uint64_t id = 0;
    op[0] = code[0] = '\0';
    mpk_rd_init(&r, buf, (size_t)n);
    cr_assert_eq(mpk_rd_map(&r, &pairs), 0);
    for (uint32_t i = 0; i < pairs; i++) {
        mpk_str_t k, v;
        cr_assert_eq(mpk_rd_str(&r, &k), 0);
        if (mpk_str_eq(k, "op") || mpk_str_eq(k, "code")) {
            cr_assert_eq(mpk_rd_str(&r, &v), 0);
            char *d = mpk_str_eq(k, "op") ? op : code;
            snprintf(d, 32, "%.*s", (int)v.len, v.ptr);
        } else if (mpk_str_eq(k, "id")) {
            cr_assert_eq(mpk_rd_uint(&r, &id), 0);
        } else {
            cr_assert_eq(mpk_rd_skip(&r), 0);
        }
    }
    return id;
}

Test(gw_drain, bad_flags_exit_with_status_2_and_a_message)
{
    char *argv[] = {(char *)"cqlmqd", (char *)"--max-in-flight", (char *)"zero", NULL};
    int err;
    pid_t pid = spawn(argv, &err);
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    cr_assert(WIFEXITED(st));
    cr_assert_eq(WEXITSTATUS(st), 2);
    char buf[512];
    ssize_t n = read(err, buf, sizeof buf - 1);
    cr_assert_gt(n, 0);
    buf[n] = '\0';
    cr_assert_not_null(strstr(buf, "max-in-flight"), "message: %s", buf);
    close(err);
}

Test(gw_drain, sigterm_finishes_work_in_flight_refuses_new_work_and_exits_0, .timeout = 60)
{
    char *argv[] = {(char *)"cqlmqd", (char *)"--embedded", (char *)"--bind",
                    (char *)"tcp://127.0.0.1:*", (char *)"--drain-ms", (char *)"5000", NULL};
    int err;
    pid_t pid = spawn(argv, &err);
    char control[256], endpoint[256];
    wait_line(err, "embedded node started", "control", control, sizeof control);
    wait_line(err, "\"ready\"", "endpoint", endpoint, sizeof endpoint);

    void *ctx = zmq_ctx_new();
    int zero = 0;
    /* a latency fault keeps one request in flight across the SIGTERM */
    void *ctl = zmq_socket(ctx, ZMQ_DEALER);
    zmq_setsockopt(ctl, ZMQ_LINGER, &zero, sizeof zero);
    cr_assert_eq(zmq_connect(ctl, control), 0);
    mpk_wr_t w;
    mpk_wr_init(&w);
    mpk_wr_map(&w, 4);
    mpk_wr_cstr(&w, "cmd");
    mpk_wr_cstr(&w, "fault");
    mpk_wr_cstr(&w, "action");
    mpk_wr_cstr(&w, "latency");
    mpk_wr_cstr(&w, "query");
    mpk_wr_cstr(&w, "slow_marker");
    mpk_wr_cstr(&w, "ms");
    mpk_wr_uint(&w, 800);
    zmq_send(ctl, "", 0, ZMQ_SNDMORE);
    zmq_send(ctl, w.data, w.len, 0);
    mpk_wr_close(&w);
    char buf[4096];
    zmq_pollitem_t it = {ctl, 0, ZMQ_POLLIN, 0};
    cr_assert_eq(zmq_poll(&it, 1, 5000), 1);
    zmq_recv(ctl, buf, sizeof buf, 0);
    zmq_recv(ctl, buf, sizeof buf, 0);

    void *s = zmq_socket(ctx, ZMQ_DEALER);
    zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero);
    cr_assert_eq(zmq_connect(s, endpoint), 0);
    char op[32], code[32];
    sendmap(s, "hello", 1, NULL, NULL, 0);
    cr_assert_eq(recv_reply(s, op, code), 1);
    cr_assert_str_eq(op, "hello");
    /* wait until the gateway reaches the node */
    for (int i = 0; i < 100; i++) {
        sendmap(s, "query", 2, "SELECT release_version FROM system.local", NULL, 0);
        recv_reply(s, op, code);
        if (strcmp(op, "result") == 0)
            break;
        usleep(50000);
    }
    cr_assert_str_eq(op, "result");

    sendmap(s, "query", 3,
            "SELECT release_version FROM system.local WHERE key = 'slow_marker'", NULL, 0);
    usleep(150000);
    cr_assert_eq(kill(pid, SIGTERM), 0);
    wait_line(err, "\"msg\":\"draining\"", NULL, NULL, 0); /* the front's, not main's */
    sendmap(s, "query", 4, "SELECT release_version FROM system.local", NULL, 0);
    cr_assert_eq(recv_reply(s, op, code), 4, "the new request is refused first");
    cr_assert_str_eq(code, "shutting_down");
    cr_assert_eq(recv_reply(s, op, code), 3, "then the one in flight ends");
    cr_assert_str_eq(op, "result", "in-flight request: %s %s", op, code);

    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    cr_assert(WIFEXITED(st));
    cr_assert_eq(WEXITSTATUS(st), 0);
    zmq_close(s);
    zmq_close(ctl);
    zmq_ctx_term(ctx);
    close(err);
}
