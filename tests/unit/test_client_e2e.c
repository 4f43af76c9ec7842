/*
 * The C client and the cqlmq CLI against a real cqlmqd with its embedded
 * node (`cqlmqd --embedded`). Skipped when no cqlmqd is found: $CQLMQD, or
 * cqlmqd next to this test's executable (both land in <build>/bin).
 */
#include <criterion/criterion.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cqlmq/client.h"

static char bindir[PATH_MAX];
static char daemon_path[PATH_MAX + 16];
static pid_t pid = -1;
static int err_fd = -1;
static char endpoint[256];

static bool find_daemon(void)
{
    ssize_t n = readlink("/proc/self/exe", bindir, sizeof bindir - 1);
    if (n <= 0)
        return false;
    bindir[n] = '\0';
    dirname(bindir);
    const char *env = getenv("CQLMQD");
    if (env != NULL)
        snprintf(daemon_path, sizeof daemon_path, "%s", env);
    else
        snprintf(daemon_path, sizeof daemon_path, "%s/cqlmqd", bindir);
    return access(daemon_path, X_OK) == 0;
}

/* Reads stderr (JSON log lines) until the "ready" line; takes its endpoint. */
static bool wait_ready(void)
{
    static char buf[65536];
    size_t have = 0;
    for (int spins = 0; spins < 200; spins++) {
        struct pollfd p = {err_fd, POLLIN, 0};
        if (poll(&p, 1, 100) <= 0)
            continue;
        ssize_t n = read(err_fd, buf + have, sizeof buf - have - 1);
        if (n <= 0)
            return false;
        have += (size_t)n;
        buf[have] = '\0';
        char *line = strstr(buf, "\"ready\"");
        char *ep = line ? strstr(line, "\"endpoint\":\"") : NULL;
        if (ep != NULL) {
            ep += strlen("\"endpoint\":\"");
            char *end = strchr(ep, '"');
            if (end != NULL) {
                snprintf(endpoint, sizeof endpoint, "%.*s", (int)(end - ep), ep);
                return true;
            }
        }
        if (have > sizeof buf / 2)
            have = 0;
    }
    return false;
}

static void start(void)
{
    if (!find_daemon())
        return;
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        dup2(fds[1], 2);
        close(fds[0]);
        close(fds[1]);
        execl(daemon_path, "cqlmqd", "--embedded", "--bind", "tcp://127.0.0.1:*", (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    err_fd = fds[0];
    cr_assert(wait_ready(), "cqlmqd did not say it was ready");
}

static void stop(void)
{
    if (pid > 0) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        close(err_fd);
    }
}

TestSuite(client_e2e, .init = start, .fini = stop, .timeout = 60);

/* Waits until the gateway reaches its node. */
static void warm_up(cqlmq_client_t *c)
{
    for (int i = 0; i < 100; i++) {
        cqlmq_result_t *r = NULL;
        if (cqlmq_query(c, "SELECT release_version FROM system.local", NULL, &r) == 0) {
            cqlmq_result_free(&r);
            return;
        }
        usleep(100000);
    }
    cr_assert_fail("no result from system.local: %s", cqlmq_client_error(c)->message);
}

static void exec_ok(cqlmq_client_t *c, const char *cql)
{
    cqlmq_result_t *r = NULL;
    cr_assert_eq(cqlmq_query(c, cql, NULL, &r), 0, "%s: %s %s", cql, cqlmq_client_error(c)->code,
                 cqlmq_client_error(c)->message);
    cqlmq_result_free(&r);
}

Test(client_e2e, writes_reads_and_streams_through_a_real_cqlmqd)
{
    if (pid < 0)
        cr_skip_test("no cqlmqd (set CQLMQD or build it)");
    cqlmq_client_t *c = NULL;
    cr_assert_eq(cqlmq_client_new(endpoint, NULL, &c), 0);
    cr_assert_eq(cqlmq_client_connect(c), 0, "%s", cqlmq_client_error(c)->message);
    warm_up(c);
    exec_ok(c, "CREATE KEYSPACE IF NOT EXISTS e2e WITH replication = "
               "{'class': 'SimpleStrategy', 'replication_factor': 1}");
    exec_ok(c, "CREATE TABLE IF NOT EXISTS e2e.t (k int, c int, v text, tags map<text, int>, "
               "PRIMARY KEY (k, c))");
    cqlmq_result_t *prep = NULL;
    cr_assert_eq(cqlmq_prepare(c, "INSERT INTO e2e.t (k, c, v, tags) VALUES (?, ?, ?, ?)", NULL,
                               &prep), 0, "%s", cqlmq_client_error(c)->message);
    cr_assert_eq(cqlmq_result_param_count(prep), 4);
    for (int i = 0; i < 30; i++) {
        cqlmq_params_t *p = NULL;
        char ck[16];
        cr_assert_eq(cqlmq_params_new(&p), 0);
        snprintf(ck, sizeof ck, "%d", i);
        for (uint32_t k = 0; k < 4; k++) {
            static const char *const lits[4] = {"1", NULL, "'it''s'", "{'a': 1}"};
            const char *lit = k == 1 ? ck : lits[k];
            cr_assert_eq(cqlmq_params_literal(p, cqlmq_result_param_type(prep, k), lit,
                                              strlen(lit), NULL), 0);
        }
        cqlmq_query_opts_t o = {.params = p};
        cqlmq_result_t *r = NULL;
        cr_assert_eq(cqlmq_execute(c, prep, &o, &r), 0, "%s", cqlmq_client_error(c)->message);
        cqlmq_result_free(&r);
        cqlmq_params_free(&p);
    }
    cqlmq_result_free(&prep);

    cqlmq_stream_t *s = NULL;
    cqlmq_query_opts_t o = {.page_size = 7};
    cr_assert_eq(cqlmq_query_stream(c, "SELECT c, v, tags FROM e2e.t WHERE k = 1", NULL, &o, &s), 0);
    cqlmq_row_t row;
    int n = 0, rc;
    while ((rc = cqlmq_stream_next_row(s, &row)) == 1) {
        cqlmq_value_t v;
        int64_t ci;
        char buf[64];
        cr_assert_eq(cqlmq_row_value(&row, 0, &v), 0);
        cr_assert_eq(cqlmq_value_int64(&v, &ci), 0);
        cr_assert_eq(ci, n);
        cr_assert_eq(cqlmq_row_value(&row, 2, &v), 0);
        cr_assert_gt(cqlmq_value_format(&v, buf, sizeof buf), 0);
        cr_assert_str_eq(buf, "{'a': 1}");
        n++;
    }
    cr_assert_eq(rc, 0, "%s", cqlmq_stream_error(s)->message);
    cr_assert_eq(n, 30);
    uint64_t pages;
    cqlmq_stream_totals(s, &pages, NULL);
    cr_assert_geq(pages, 5, "30 rows in pages of 7");
    cqlmq_stream_free(&s);

    cqlmq_result_t *r = NULL;
    cr_assert_eq(cqlmq_query(c, "SELECT * FROM e2e.nosuchtable", NULL, &r), CQLMQ_ESERVER);
    cr_assert_str_eq(cqlmq_client_error(c)->code, "invalid");
    uint64_t rtt;
    cr_assert_eq(cqlmq_ping(c, &rtt), 0);
    cqlmq_client_free(&c);

    /* The CLI, when it was built next to this test. */
    char cli[PATH_MAX + 16], cmd[PATH_MAX * 2];
    snprintf(cli, sizeof cli, "%s/cqlmq", bindir);
    if (access(cli, X_OK) != 0)
        return;
    snprintf(cmd, sizeof cmd,
             "%s --endpoint %s query 'SELECT c, v FROM e2e.t WHERE k = ? AND c < ?' "
             "--param 1 --param 3 --format csv --page-size 2",
             cli, endpoint);
    FILE *f = popen(cmd, "r");
    cr_assert_not_null(f);
    char out[256] = "";
    size_t got = fread(out, 1, sizeof out - 1, f);
    out[got] = '\0';
    cr_assert_eq(pclose(f), 0);
    cr_assert_str_eq(out, "c,v\r\n0,it's\r\n1,it's\r\n2,it's\r\n");
}
