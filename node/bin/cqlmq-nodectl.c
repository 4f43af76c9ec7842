/*
 * cqlmq-nodectl: sends one control command to a running cqlmq-node and
 * prints the reply as JSON.
 *
 *   cqlmq-nodectl [-e ENDPOINT] [-t TIMEOUT_MS] COMMAND [KEY=VALUE ...]
 *
 * ENDPOINT defaults to $CQLMQ_NODE_CONTROL. Values: integers become
 * msgpack integers, true/false booleans, [a,b,c] arrays of strings,
 * hex:0A1B binary, anything else a string. Examples:
 *   cqlmq-nodectl -e tcp://127.0.0.1:5599 stop node=1
 *   cqlmq-nodectl fault action=error error=read_timeout query="FROM ks.t" count=2
 *   cqlmq-nodectl log opcode=QUERY
 *   cqlmq-nodectl add_node dc=dc2 rack=rack2
 *   cqlmq-nodectl remove_node node=3
 * Exit status: 0 ok, 1 the node replied with an error, 2 usage, 3 no reply
 * within the timeout (default 5000 ms).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "mpk.h"

static void usage(FILE *f)
{
    fputs("usage: cqlmq-nodectl [-e ENDPOINT] [-t TIMEOUT_MS] COMMAND [KEY=VALUE ...]\n"
          "  commands: ping status stop start pause resume fault unfault faults clear\n"
          "            close_after disconnect forget_prepared log clear_log connections\n"
          "            add_node remove_node\n"
          "  ENDPOINT defaults to $CQLMQ_NODE_CONTROL; see docs/embedded-node.md\n",
          f);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Writes one KEY=VALUE argument's value. Returns 0 or -1 (bad hex). */
static int put_value(mpk_wr_t *w, const char *v)
{
    char *end;
    if (*v && strcmp(v, "-") != 0) {
        errno = 0;
        long long n = strtoll(v, &end, 10);
        if (!*end && !errno) {
            mpk_wr_int(w, n);
            return 0;
        }
    }
    if (strcmp(v, "true") == 0 || strcmp(v, "false") == 0) {
        mpk_wr_bool(w, v[0] == 't');
        return 0;
    }
    size_t len = strlen(v);
    if (strncmp(v, "hex:", 4) == 0) {
        size_t n = (len - 4) / 2;
        uint8_t buf[512];
        if ((len - 4) % 2 || n > sizeof buf)
            return -1;
        for (size_t i = 0; i < n; i++) {
            int hi = hexval(v[4 + 2 * i]), lo = hexval(v[5 + 2 * i]);
            if (hi < 0 || lo < 0)
                return -1;
            buf[i] = (uint8_t)(hi << 4 | lo);
        }
        mpk_wr_bin(w, buf, n);
        return 0;
    }
    if (len >= 2 && v[0] == '[' && v[len - 1] == ']') {
        uint32_t count = len > 2 ? 1 : 0;
        for (size_t i = 1; i + 1 < len; i++)
            count += v[i] == ',';
        mpk_wr_array(w, count);
        const char *p = v + 1, *stop = v + len - 1;
        while (count && p <= stop) {
            const char *comma = memchr(p, ',', (size_t)(stop - p));
            const char *e = comma ? comma : stop;
            mpk_wr_str(w, p, (size_t)(e - p));
            p = e + 1;
        }
        return 0;
    }
    mpk_wr_cstr(w, v);
    return 0;
}

static void print_str(const char *p, size_t n)
{
    putchar('"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20)
            printf("\\u%04x", c);
        else
            putchar(c);
    }
    putchar('"');
}

/* Prints one value as JSON; returns 0 or a reader error. */
static int print_value(mpk_rd_t *r, int depth)
{
    mpk_obj_t o;
    int rc = depth > 32 ? CQLMQ_ELIMIT : mpk_rd_any(r, &o);
    if (rc)
        return rc;
    switch (o.type) {
    case MPK_NIL: fputs("null", stdout); break;
    case MPK_BOOL: fputs(o.v.b ? "true" : "false", stdout); break;
    case MPK_UINT: printf("%llu", (unsigned long long)o.v.u); break;
    case MPK_INT: printf("%lld", (long long)o.v.i); break;
    case MPK_F32: printf("%g", (double)o.v.f32); break;
    case MPK_F64: printf("%g", o.v.f64); break;
    case MPK_STR: print_str(o.v.str.ptr, o.v.str.len); break;
    case MPK_BIN:
        fputs("\"hex:", stdout);
        for (uint32_t i = 0; i < o.v.bin.len; i++)
            printf("%02x", o.v.bin.ptr[i]);
        putchar('"');
        break;
    case MPK_EXT: printf("\"<ext %d, %u bytes>\"", o.v.ext.type, o.v.ext.len); break;
    case MPK_ARRAY:
    case MPK_MAP: {
        bool map = o.type == MPK_MAP;
        putchar(map ? '{' : '[');
        for (uint32_t i = 0; i < o.v.count; i++) {
            if (i)
                fputs(", ", stdout);
            if ((rc = print_value(r, depth + 1)))
                return rc;
            if (map) {
                fputs(": ", stdout);
                if ((rc = print_value(r, depth + 1)))
                    return rc;
            }
        }
        putchar(map ? '}' : ']');
        break;
    }
    }
    return 0;
}

/* True when the reply map has "ok": true. */
static bool reply_ok(const uint8_t *p, size_t n)
{
    mpk_rd_t r;
    uint32_t count;
    mpk_rd_init(&r, p, n);
    if (mpk_rd_map(&r, &count))
        return false;
    for (uint32_t i = 0; i < count; i++) {
        mpk_str_t k;
        bool b;
        if (mpk_rd_str(&r, &k))
            return false;
        if (mpk_str_eq(k, "ok"))
            return mpk_rd_bool(&r, &b) == 0 && b;
        if (mpk_rd_skip(&r))
            return false;
    }
    return false;
}

int main(int argc, char **argv)
{
    const char *endpoint = getenv("CQLMQ_NODE_CONTROL");
    int timeout = 5000, i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if ((strcmp(argv[i], "-e") == 0 || strcmp(argv[i], "--endpoint") == 0) && i + 1 < argc)
            endpoint = argv[++i];
        else if ((strcmp(argv[i], "-t") == 0 || strcmp(argv[i], "--timeout") == 0) &&
                 i + 1 < argc)
            timeout = atoi(argv[++i]);
        else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "cqlmq-nodectl: unknown option %s\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    if (i >= argc || !endpoint || !*endpoint || timeout <= 0) {
        fprintf(stderr, "cqlmq-nodectl: %s\n",
                i >= argc ? "no command" : "no endpoint (-e or $CQLMQ_NODE_CONTROL)");
        usage(stderr);
        return 2;
    }
    mpk_wr_t w;
    mpk_wr_init(&w);
    mpk_wr_map(&w, (uint32_t)(argc - i));
    mpk_wr_cstr(&w, "cmd");
    mpk_wr_cstr(&w, argv[i]);
    for (int k = i + 1; k < argc; k++) {
        const char *eq = strchr(argv[k], '=');
        if (!eq || eq == argv[k]) {
            fprintf(stderr, "cqlmq-nodectl: expected KEY=VALUE, got \"%s\"\n", argv[k]);
            return 2;
        }
        mpk_wr_str(&w, argv[k], (size_t)(eq - argv[k]));
        if (put_value(&w, eq + 1)) {
            fprintf(stderr, "cqlmq-nodectl: bad hex value in \"%s\"\n", argv[k]);
            return 2;
        }
    }
    if (mpk_wr_error(&w)) {
        fprintf(stderr, "cqlmq-nodectl: %s\n", cqlmq_strerror(mpk_wr_error(&w)));
        return 2;
    }
    void *ctx = zmq_ctx_new();
    void *s = zmq_socket(ctx, ZMQ_REQ);
    int zero = 0;
    zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(s, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    zmq_setsockopt(s, ZMQ_SNDTIMEO, &timeout, sizeof timeout);
    int status = 3;
    if (zmq_connect(s, endpoint) != 0) {
        fprintf(stderr, "cqlmq-nodectl: cannot connect to %s: %s\n", endpoint,
                zmq_strerror(zmq_errno()));
        status = 2;
    } else if (zmq_send(s, w.data, w.len, 0) < 0) {
        fprintf(stderr, "cqlmq-nodectl: send failed: %s\n", zmq_strerror(zmq_errno()));
    } else {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, s, 0) < 0) {
            fprintf(stderr, "cqlmq-nodectl: no reply from %s within %d ms\n", endpoint,
                    timeout);
        } else {
            mpk_rd_t r;
            mpk_rd_init(&r, zmq_msg_data(&m), zmq_msg_size(&m));
            if (print_value(&r, 0) == 0) {
                putchar('\n');
                status = reply_ok(zmq_msg_data(&m), zmq_msg_size(&m)) ? 0 : 1;
            } else {
                fprintf(stderr, "cqlmq-nodectl: the reply is not valid msgpack\n");
                status = 1;
            }
        }
        zmq_msg_close(&m);
    }
    zmq_close(s);
    zmq_ctx_term(ctx);
    mpk_wr_close(&w);
    return status;
}
