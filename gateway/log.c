/*
 * gw_log: JSON lines on a stream. See log.h.
 */
#include "log.h"

#include <stdarg.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>

#include "cqlmq/error.h"

#define LINE_MAX_ 4096

static const char *const level_names[] = {
#define GW_LOG_LEVEL_NAME_(name, str) str,
    GW_LOG_LEVEL_MAP(GW_LOG_LEVEL_NAME_)
#undef GW_LOG_LEVEL_NAME_
};

void gw_log_init(gw_log_t *lg, gw_log_level_t level, FILE *out)
{
    lg->level = level;
    lg->out = out;
    pthread_mutex_init(&lg->mu, NULL);
}

void gw_log_close(gw_log_t *lg) { pthread_mutex_destroy(&lg->mu); }

const char *gw_log_level_name(int level)
{
    if (level < 0 || level >= GW_LOG_LEVEL_COUNT_)
        return NULL;
    return level_names[level];
}

int gw_log_level_parse(const char *s)
{
    for (int i = 0; i < GW_LOG_LEVEL_COUNT_; i++)
        if (strcasecmp(s, level_names[i]) == 0)
            return i;
    if (strcasecmp(s, "warning") == 0)
        return GW_LOG_WARN;
    return CQLMQ_ENOTFOUND;
}

/* A bounded line buffer: appends stop at the end, keeping room for the
 * closing "}\n". */
typedef struct line {
    char buf[LINE_MAX_];
    size_t len;
    size_t cap; /* usable bytes (buf minus the reserved tail) */
} line_t;

static void put(line_t *l, const char *s, size_t n)
{
    if (n > l->cap - l->len)
        n = l->cap - l->len;
    memcpy(l->buf + l->len, s, n);
    l->len += n;
}

static void putc_(line_t *l, char c) { put(l, &c, 1); }

/* A JSON string; a cut never splits an escape. */
static void put_json_str(line_t *l, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    putc_(l, '"');
    for (; s != NULL && *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        char esc[7];
        size_t n;
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            n = 2;
        } else if (c == '\n') {
            memcpy(esc, "\\n", 2);
            n = 2;
        } else if (c < 0x20 || c == 0x7f) {
            memcpy(esc, "\\u00", 4);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            n = 6;
        } else {
            esc[0] = (char)c;
            n = 1;
        }
        if (l->cap - l->len < n + 1)
            break; /* keep room for the closing quote */
        put(l, esc, n);
    }
    if (l->len >= l->cap)
        l->len = l->cap - 1;
    putc_(l, '"');
}

static void put_key(line_t *l, const char *k)
{
    putc_(l, ',');
    put_json_str(l, k);
    putc_(l, ':');
}

void gw_log(gw_log_t *lg, gw_log_level_t level, const char *msg, ...)
{
    if (!gw_log_enabled(lg, level))
        return;
    line_t l;
    l.len = 0;
    l.cap = sizeof l.buf - 2;

    struct timeval tv;
    struct tm tm;
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    char ts[64];
    int n = snprintf(ts, sizeof ts, "{\"ts\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03dZ\",\"level\":",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec, (int)(tv.tv_usec / 1000));
    put(&l, ts, (size_t)n);
    put_json_str(&l, level_names[level]);
    put_key(&l, "msg");
    put_json_str(&l, msg);

    va_list ap;
    va_start(ap, msg);
    for (;;) {
        int kind = va_arg(ap, int);
        if (kind == GW_LOG_END_)
            break;
        const char *key = va_arg(ap, const char *);
        put_key(&l, key);
        if (kind == GW_LOG_STR_) {
            put_json_str(&l, va_arg(ap, const char *));
        } else {
            char num[32];
            int k = snprintf(num, sizeof num, "%lld", va_arg(ap, long long));
            put(&l, num, (size_t)k);
        }
    }
    va_end(ap);
    l.buf[l.len++] = '}';
    l.buf[l.len++] = '\n';

    pthread_mutex_lock(&lg->mu);
    fwrite(l.buf, 1, l.len, lg->out);
    fflush(lg->out);
    pthread_mutex_unlock(&lg->mu);
}

void gw_log_hook(void *ud, int level, const char *msg, const char *detail)
{
    gw_log_t *lg = ud;
    if (detail != NULL)
        gw_log(lg, (gw_log_level_t)level, msg, GW_LS("detail", detail), GW_LOG_END);
    else
        gw_log(lg, (gw_log_level_t)level, msg, GW_LOG_END);
}
