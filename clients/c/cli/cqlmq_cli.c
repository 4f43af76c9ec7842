/*
 * cqlmq: the command-line client of cqlmqd.
 *
 *   cqlmq --endpoint E query CQL [--param V]... [--format table|json|csv]
 *         [--consistency C] [--page-size N] [--timeout MS] [--keyspace K]
 *   cqlmq --endpoint E ping
 *   cqlmq --endpoint E stats
 *
 * Queries are streamed: rows go to stdout page by page as they arrive (the
 * client grants credit as pages are written), so a result of any size
 * needs one page of memory. A progress line goes to stderr, only when
 * stderr is a terminal. With --param, the statement is prepared first to
 * learn the type of each bind marker, and each value is parsed as cqlsh
 * parses a literal of that type (cqlmq_params_literal).
 *
 * Exit status: 0 success, 1 an error (printed with its code on stderr),
 * 2 bad usage (usage on stderr).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cqlc_output.h"
#include "cqlmq/client.h"
#include "wire_error.h"

#define MAX_PARAMS 1024

typedef struct cli {
    const char *endpoint;
    const char *command;      /* query, ping, stats */
    const char *cql;
    const char *params[MAX_PARAMS];
    int nparams;
    cqlc_out_fmt_t format;
    const char *consistency;
    const char *keyspace;
    uint32_t page_size;
    uint32_t timeout_ms;
} cli_t;

static void usage(FILE *f)
{
    fputs("usage: cqlmq --endpoint E <command> [options]\n"
          "\n"
          "commands:\n"
          "  query CQL      run one statement; rows are streamed to stdout\n"
          "  ping           round trip to cqlmqd\n"
          "  stats          the gateway's counters\n"
          "\n"
          "options:\n"
          "  --endpoint E         cqlmqd endpoint (tcp://host:port, ipc://path)\n"
          "  --param V            a bind value, as a CQL literal of its marker's type\n"
          "                       (repeat in marker order; text may be given bare)\n"
          "  --format F           table (default), json (one object per line), csv\n"
          "  --consistency C      one two three quorum all local_quorum each_quorum\n"
          "                       local_one any\n"
          "  --keyspace K         keyspace of the statement\n"
          "  --page-size N        rows per page\n"
          "  --timeout MS         request timeout\n"
          "  -h, --help           this text\n",
          f);
}

static int bad_usage(const char *fmt, const char *arg)
{
    fputs("cqlmq: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs("\n", stderr);
    usage(stderr);
    return 2;
}

static bool parse_u32(const char *s, uint32_t *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (*s == '\0' || *s == '-' || *end != '\0' || errno != 0 || v == 0 || v > INT32_MAX)
        return false;
    *out = (uint32_t)v;
    return true;
}

/* Returns -1 to go on, else an exit status. */
static int parse_args(cli_t *a, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            usage(stdout);
            return 0;
        }
        if (arg[0] == '-' && arg[1] == '-') {
            if (val == NULL)
                return bad_usage("%s needs a value", arg);
            i++;
            if (strcmp(arg, "--endpoint") == 0) {
                a->endpoint = val;
            } else if (strcmp(arg, "--param") == 0) {
                if (a->nparams >= MAX_PARAMS)
                    return bad_usage("too many %s", arg);
                a->params[a->nparams++] = val;
            } else if (strcmp(arg, "--format") == 0) {
                if (cqlc_out_fmt_parse(val, &a->format) != 0)
                    return bad_usage("unknown format '%s'", val);
            } else if (strcmp(arg, "--consistency") == 0) {
                if (wire_consistency_parse(val, strlen(val)) < 0)
                    return bad_usage("unknown consistency '%s'", val);
                a->consistency = val;
            } else if (strcmp(arg, "--keyspace") == 0) {
                a->keyspace = val;
            } else if (strcmp(arg, "--page-size") == 0) {
                if (!parse_u32(val, &a->page_size))
                    return bad_usage("bad page size '%s'", val);
            } else if (strcmp(arg, "--timeout") == 0) {
                if (!parse_u32(val, &a->timeout_ms))
                    return bad_usage("bad timeout '%s'", val);
            } else {
                return bad_usage("unknown option %s", arg);
            }
        } else if (arg[0] == '-' && arg[1] != '\0') {
            return bad_usage("unknown option %s", arg);
        } else if (a->command == NULL) {
            a->command = arg;
        } else if (strcmp(a->command, "query") == 0 && a->cql == NULL) {
            a->cql = arg;
        } else {
            return bad_usage("unexpected argument '%s'", arg);
        }
    }
    if (a->endpoint == NULL)
        return bad_usage("%s", "--endpoint is required");
    if (a->command == NULL)
        return bad_usage("%s", "a command is required");
    if (strcmp(a->command, "query") && strcmp(a->command, "ping") && strcmp(a->command, "stats"))
        return bad_usage("unknown command '%s'", a->command);
    if (strcmp(a->command, "query") == 0 && a->cql == NULL)
        return bad_usage("%s", "query needs a CQL statement");
    if (strcmp(a->command, "query") != 0 && a->nparams > 0)
        return bad_usage("%s", "--param only goes with query");
    return -1;
}

static int report(const cqlmq_errinfo_t *e, int rc)
{
    if (e != NULL && e->rc != 0) {
        fprintf(stderr, "cqlmq: error %s: %s", e->code, e->message);
        if (e->cql_code >= 0)
            fprintf(stderr, " (cql code 0x%04x)", (unsigned)e->cql_code);
        fputs("\n", stderr);
    } else {
        fprintf(stderr, "cqlmq: error %s: %s\n", cqlmq_err_name(rc), cqlmq_strerror(rc));
    }
    return 1;
}

/* Prepares the statement and binds each --param as its marker's type. */
static int bind_params(cqlmq_client_t *c, const cli_t *a, cqlmq_result_t **prepared,
                       cqlmq_params_t **params)
{
    int rc = cqlmq_prepare(c, a->cql, a->keyspace, prepared);
    if (rc != 0)
        return report(cqlmq_client_error(c), rc);
    uint32_t n = cqlmq_result_param_count(*prepared);
    if (n != (uint32_t)a->nparams) {
        fprintf(stderr, "cqlmq: error invalid: the statement has %u bind marker%s, %d --param given\n",
                n, n == 1 ? "" : "s", a->nparams);
        return 1;
    }
    if (cqlmq_params_new(params) != 0)
        return report(NULL, CQLMQ_ENOMEM);
    for (uint32_t i = 0; i < n; i++) {
        cqlmq_errinfo_t err;
        memset(&err, 0, sizeof err);
        const char *type = cqlmq_result_param_type(*prepared, i);
        rc = cqlmq_params_literal(*params, type, a->params[i], strlen(a->params[i]), &err);
        if (rc != 0) {
            fprintf(stderr, "cqlmq: error invalid: parameter %u (%s %s): %s\n", i + 1,
                    cqlmq_result_param_name(*prepared, i), type, err.message);
            cqlmq_error_clear(&err);
            return 1;
        }
    }
    return 0;
}

static int run_query(cqlmq_client_t *c, const cli_t *a)
{
    cqlmq_result_t *prepared = NULL;
    cqlmq_params_t *params = NULL;
    cqlmq_stream_t *s = NULL;
    cqlc_out_t out;
    int status = 0, rc;
    bool tty = isatty(STDERR_FILENO);

    cqlc_out_init(&out, stdout, a->format);
    if (a->nparams > 0 && (status = bind_params(c, a, &prepared, &params)) != 0)
        goto done;
    cqlmq_query_opts_t o = {0};
    o.keyspace = a->keyspace;
    o.consistency = a->consistency;
    o.page_size = a->page_size;
    o.timeout_ms = a->timeout_ms;
    o.params = params;
    if ((rc = cqlmq_query_stream(c, a->cql, prepared, &o, &s)) != 0) {
        status = report(cqlmq_client_error(c), rc);
        goto done;
    }
    const cqlmq_result_t *page;
    while ((rc = cqlmq_stream_next_page(s, &page)) == 1) {
        if ((rc = cqlc_out_page(&out, page)) != 0) {
            status = report(NULL, rc);
            goto done;
        }
        if (tty) {
            uint64_t pages, rows;
            cqlmq_stream_totals(s, &pages, &rows);
            fprintf(stderr, "\r%llu rows, %llu pages", (unsigned long long)rows,
                    (unsigned long long)pages);
        }
    }
    if (tty)
        fputs("\r\033[K", stderr);
    if (rc < 0) {
        cqlc_out_finish(&out);
        status = report(cqlmq_stream_error(s), rc);
        goto done;
    }
    if (cqlc_out_finish(&out) != 0)
        status = report(NULL, CQLMQ_EIO);
done:
    cqlmq_stream_free(&s);
    cqlmq_params_free(&params);
    cqlmq_result_free(&prepared);
    cqlc_out_close(&out);
    return status;
}

static int run_ping(cqlmq_client_t *c)
{
    uint64_t rtt;
    int rc = cqlmq_ping(c, &rtt);
    if (rc != 0)
        return report(cqlmq_client_error(c), rc);
    printf("pong from %s: %.3f ms\n", cqlmq_client_server(c), (double)rtt / 1000.0);
    return 0;
}

static int run_stats(cqlmq_client_t *c)
{
    cqlmq_result_t *res = NULL;
    int rc = cqlmq_stats(c, &res);
    if (rc != 0)
        return report(cqlmq_client_error(c), rc);
    /* Every field of the reply but its head, in the order sent: the
     * counters are additive (docs/operations.md). */
    cqlmq_value_t msg, key, val;
    cqlmq_iter_t it;
    cqlc_sb_t line;
    cqlc_sb_init(&line);
    cqlmq_result_message(res, &msg);
    if (cqlmq_value_iter(&msg, &it) == 0) {
        while (cqlmq_iter_next_pair(&it, &key, &val) == 1) {
            const char *k;
            size_t n;
            if (cqlmq_value_text(&key, &k, &n) != 0 || (n == 2 && memcmp(k, "op", 2) == 0) ||
                (n == 2 && memcmp(k, "id", 2) == 0))
                continue;
            cqlc_sb_reset(&line);
            if (cqlc_format(&line, &val, CQLC_STYLE_TEXT) == 0)
                printf("%.*s: %s\n", (int)n, k, line.p ? line.p : "");
        }
    }
    cqlc_sb_close(&line);
    cqlmq_result_free(&res);
    return 0;
}

int main(int argc, char **argv)
{
    cli_t a;
    memset(&a, 0, sizeof a);
    int status = parse_args(&a, argc, argv);
    if (status >= 0)
        return status;

    cqlmq_client_opts_t opts;
    cqlmq_client_opts_init(&opts);
    opts.client_name = "cqlmq-cli/0.1.0";
    opts.timeout_ms = a.timeout_ms;
    opts.connect_timeout_ms = a.timeout_ms ? a.timeout_ms : 5000;
    cqlmq_client_t *c = NULL;
    int rc = cqlmq_client_new(a.endpoint, &opts, &c);
    if (rc != 0) {
        fprintf(stderr, "cqlmq: error %s: cannot use endpoint '%s': %s\n", cqlmq_err_name(rc),
                a.endpoint, cqlmq_strerror(rc));
        return 1;
    }
    if (strcmp(a.command, "ping") == 0)
        status = run_ping(c);
    else if (strcmp(a.command, "stats") == 0)
        status = run_stats(c);
    else
        status = run_query(c, &a);
    cqlmq_client_free(&c);
    return status;
}
