/*
 * cqlmqd configuration: defaults, precedence flags > environment > file,
 * list replacement for --bind, and a clear error for every kind of bad
 * input; and the JSON log lines.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "cqlmq/error.h"
#include "log.h"

static char err[512];

static int parse(gw_config_t *c, char *const *argv, char *const *envp)
{
    int argc = 0;
    while (argv[argc] != NULL)
        argc++;
    gw_config_init(c);
    return gw_config_parse(c, argc, argv, envp, err, sizeof err);
}

/* Writes text to a fresh temporary file; returns its path (static). */
static const char *tmpfile_with(const char *text)
{
    static char path[64];
    snprintf(path, sizeof path, "/tmp/gwapp_cfg_XXXXXX");
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

Test(gwapp_config, no_input_gives_the_documented_defaults)
{
    gw_config_t c;
    char *argv[] = {"cqlmqd", NULL};
    cr_assert_eq(parse(&c, argv, NULL), 0, "%s", err);
    cr_assert_eq(c.nbinds, 0);
    cr_assert_eq(c.max_in_flight, 1024);
    cr_assert_eq(c.max_streams, 32);
    cr_assert_eq(c.max_credit, 16);
    cr_assert_eq(c.lease_ms, 30000);
    cr_assert_eq(c.log_level, GW_LOG_INFO);
    cr_assert_not(c.embedded);
}

Test(gwapp_config, flags_beat_environment_which_beats_the_file)
{
    const char *path = tmpfile_with("# comment\n"
                                    "max_in_flight = 10\n"
                                    "max-streams = 11\n"
                                    "lease_ms = \"12000\"\n"
                                    "local_dc = dc-file\n"
                                    "bind = tcp://127.0.0.1:1\n"
                                    "bind = tcp://127.0.0.1:2\n");
    char cfgenv[128];
    snprintf(cfgenv, sizeof cfgenv, "CQLMQ_CONFIG=%s", path);
    char *envp[] = {cfgenv, "CQLMQ_MAX_STREAMS=21", "CQLMQ_LEASE_MS=22000",
                    "CQLMQ_LOG_LEVEL=debug", "PATH=/bin", NULL};
    char *argv[] = {"cqlmqd", "--lease-ms", "33000", "--embedded", NULL};
    gw_config_t c;
    cr_assert_eq(parse(&c, argv, envp), 0, "%s", err);
    cr_assert_eq(c.max_in_flight, 10, "file only");
    cr_assert_eq(c.max_streams, 21, "environment over file");
    cr_assert_eq(c.lease_ms, 33000, "flag over environment");
    cr_assert_str_eq(c.local_dc, "dc-file");
    cr_assert_eq(c.log_level, GW_LOG_DEBUG);
    cr_assert(c.embedded);
    cr_assert_eq(c.nbinds, 2, "the file's list");
    cr_assert_str_eq(c.binds[1], "tcp://127.0.0.1:2");
    unlink(path);
}

Test(gwapp_config, bind_flags_replace_lower_sources_and_add_up)
{
    char *envp[] = {"CQLMQ_BIND=tcp://127.0.0.1:7,ipc:///tmp/x.sock", NULL};
    gw_config_t c;
    char *none[] = {"cqlmqd", NULL};
    cr_assert_eq(parse(&c, none, envp), 0, "%s", err);
    cr_assert_eq(c.nbinds, 2);
    cr_assert_str_eq(c.binds[1], "ipc:///tmp/x.sock");
    char *argv[] = {"cqlmqd", "--bind", "tcp://127.0.0.1:8", "--bind=ipc:///tmp/y", NULL};
    cr_assert_eq(parse(&c, argv, envp), 0, "%s", err);
    cr_assert_eq(c.nbinds, 2);
    cr_assert_str_eq(c.binds[0], "tcp://127.0.0.1:8");
    cr_assert_str_eq(c.binds[1], "ipc:///tmp/y");
}

Test(gwapp_config, a_config_flag_names_the_file_and_help_is_reported)
{
    const char *path = tmpfile_with("max_credit = 99\n");
    char *argv[] = {"cqlmqd", "--config", (char *)path, NULL};
    gw_config_t c;
    cr_assert_eq(parse(&c, argv, NULL), 0, "%s", err);
    cr_assert_eq(c.max_credit, 99);
    unlink(path);
    char *help[] = {"cqlmqd", "--max-credit", "5", "-h", NULL};
    cr_assert_eq(parse(&c, help, NULL), GW_CONFIG_HELP);
    char usage[8192];
    gw_config_usage(usage, sizeof usage);
    cr_assert_not_null(strstr(usage, "--contact-points"));
    cr_assert_not_null(strstr(usage, "CQLMQ_LEASE_MS"));
}

/* Each bad input is CQLMQ_ECONFIG with a message containing `needle`. */
static void bad(char *const *argv, char *const *envp, const char *needle)
{
    gw_config_t c;
    cr_assert_eq(parse(&c, argv, envp), CQLMQ_ECONFIG, "accepted %s", argv[1] ? argv[1] : "");
    cr_assert_not_null(strstr(err, needle), "message '%s' lacks '%s'", err, needle);
}

Test(gwapp_config, bad_input_is_a_clear_error)
{
    bad((char *[]){"cqlmqd", "--nope", NULL}, NULL, "unknown flag '--nope'");
    bad((char *[]){"cqlmqd", "positional", NULL}, NULL, "unexpected argument");
    bad((char *[]){"cqlmqd", "--max-in-flight", NULL}, NULL, "needs a value");
    bad((char *[]){"cqlmqd", "--max-in-flight", "lots", NULL}, NULL, "expects a number");
    bad((char *[]){"cqlmqd", "--max-in-flight", "-5", NULL}, NULL, "expects a number");
    bad((char *[]){"cqlmqd", "--max-in-flight", "0", NULL}, NULL, "between 1 and");
    bad((char *[]){"cqlmqd", "--max-credit", "99999999999999999999999", NULL}, NULL,
        "expects a number");
    bad((char *[]){"cqlmqd", "--log-level", "loud", NULL}, NULL, "log-level");
    bad((char *[]){"cqlmqd", "--embedded=maybe", NULL}, NULL, "true or false");
    bad((char *[]){"cqlmqd", "--bind", "http://x", NULL}, NULL, "must start with tcp://");
    bad((char *[]){"cqlmqd", "--bind", "tcp://", NULL}, NULL, "has no address");
    bad((char *[]){"cqlmqd", "--contact-points", "hostonly", NULL}, NULL, "not host:port");
    bad((char *[]){"cqlmqd", "--contact-points", "h:70000", NULL}, NULL, "port");
    bad((char *[]){"cqlmqd", "--contact-points", "a:1,,b:2", NULL}, NULL, "not host:port");
    bad((char *[]){"cqlmqd", "--embedded", "--contact-points", "a:1", NULL}, NULL, "exclude");
    bad((char *[]){"cqlmqd", "--default-timeout-ms", "9000", "--max-timeout-ms", "100", NULL},
        NULL, "above max-timeout-ms");
    bad((char *[]){"cqlmqd", "--config", "/nonexistent/cqlmqd.conf", NULL}, NULL,
        "/nonexistent/cqlmqd.conf");
    bad((char *[]){"cqlmqd", NULL}, (char *[]){"CQLMQ_MAX_STREAMS=x", NULL}, "CQLMQ_MAX_STREAMS");
    const char *p = tmpfile_with("max_streams = 4\nbogus_key = 1\n");
    char cfgenv[128];
    snprintf(cfgenv, sizeof cfgenv, "CQLMQ_CONFIG=%s", p);
    bad((char *[]){"cqlmqd", NULL}, (char *[]){cfgenv, NULL}, ":2: unknown key 'bogus_key'");
    unlink(p);
    p = tmpfile_with("just words\n");
    snprintf(cfgenv, sizeof cfgenv, "CQLMQ_CONFIG=%s", p);
    bad((char *[]){"cqlmqd", NULL}, (char *[]){cfgenv, NULL}, "key = value");
    unlink(p);
    char many[GW_CFG_MAX_BINDS * 2 + 2][32];
    char *argv[GW_CFG_MAX_BINDS * 2 + 4];
    argv[0] = "cqlmqd";
    int n = 1;
    for (int i = 0; i <= GW_CFG_MAX_BINDS; i++) {
        argv[n++] = "--bind";
        snprintf(many[i], sizeof many[i], "tcp://127.0.0.1:%d", 1000 + i);
        argv[n++] = many[i];
    }
    argv[n] = NULL;
    bad(argv, NULL, "more than 16 endpoints");
}

Test(gwapp_log, lines_are_json_objects_with_escaped_strings_and_levels_filter)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    gw_log_t lg;
    gw_log_init(&lg, GW_LOG_INFO, f);
    gw_log(&lg, GW_LOG_DEBUG, "hidden", GW_LOG_END);
    gw_log(&lg, GW_LOG_WARN, "quote \" and \\ and \n", GW_LS("endpoint", "tcp://x\x01"),
           GW_LI("n", -42), GW_LOG_END);
    gw_log_hook(&lg, GW_LOG_ERROR, "hooked", "detail");
    fflush(f);
    cr_assert_null(strstr(buf, "hidden"));
    cr_assert_not_null(strstr(buf, "\"level\":\"warn\",\"msg\":\"quote \\\" and \\\\ and \\n\""),
                       "%s", buf);
    cr_assert_not_null(strstr(buf, "\"endpoint\":\"tcp://x\\u0001\",\"n\":-42}\n"), "%s", buf);
    cr_assert_not_null(strstr(buf, "\"level\":\"error\",\"msg\":\"hooked\",\"detail\":\"detail\"}"));
    int lines = 0;
    for (char *p = buf; *p; p++)
        lines += *p == '\n';
    cr_assert_eq(lines, 2);
    gw_log_close(&lg);
    fclose(f);
    free(buf);
    cr_assert_eq(gw_log_level_parse("WARNING"), GW_LOG_WARN);
    cr_assert_eq(gw_log_level_parse("nope"), CQLMQ_ENOTFOUND);
}

Test(gwapp_log, a_huge_line_is_cut_and_stays_valid)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    gw_log_t lg;
    gw_log_init(&lg, GW_LOG_DEBUG, f);
    char *big = malloc(20000);
    memset(big, '"', 19999);
    big[19999] = '\0';
    gw_log(&lg, GW_LOG_INFO, "big", GW_LS("v", big), GW_LOG_END);
    fflush(f);
    cr_assert_leq(len, 4096);
    cr_assert_eq(buf[len - 1], '\n');
    cr_assert_eq(buf[len - 2], '}');
    /* the cut never leaves a lone backslash before the closing quote */
    cr_assert_eq(buf[len - 3], '"');
    cr_assert_neq(buf[len - 4] == '\\' && buf[len - 5] != '\\', true);
    gw_log_close(&lg);
    fclose(f);
    free(buf);
    free(big);
}
