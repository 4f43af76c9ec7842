/*
 * gw_log: the gateway's log, one JSON object per line on a stream (stderr
 * for cqlmqd), filtered by a level.
 *
 *   {"ts":"2026-11-22T19:30:00.123Z","level":"info","msg":"listening",
 *    "endpoint":"tcp://127.0.0.1:5570"}
 *
 * Fields after "msg" are typed pairs ending with GW_LOG_END:
 *
 *   gw_log(lg, GW_LOG_INFO, "listening", GW_LS("endpoint", ep),
 *          GW_LI("sessions", n), GW_LOG_END);
 *
 * Strings are escaped as JSON requires (quotes, backslashes, control
 * bytes); a line is written with one fwrite under a mutex, so lines from
 * several threads never interleave. A logger is an object the caller owns:
 * no global logger exists.
 */
#ifndef GW_LOG_H
#define GW_LOG_H

#include <pthread.h>
#include <stdio.h>

/* X(NAME, "name"), most verbose first. */
#define GW_LOG_LEVEL_MAP(X) \
    X(DEBUG, "debug")       \
    X(INFO, "info")         \
    X(WARN, "warn")         \
    X(ERROR, "error")       \
    X(OFF, "off")

typedef enum gw_log_level {
#define GW_LOG_LEVEL_ENUM_(name, str) GW_LOG_##name,
    GW_LOG_LEVEL_MAP(GW_LOG_LEVEL_ENUM_)
#undef GW_LOG_LEVEL_ENUM_
    GW_LOG_LEVEL_COUNT_
} gw_log_level_t;

/* Pair kinds of the variadic list. */
enum { GW_LOG_END_ = 0, GW_LOG_STR_ = 1, GW_LOG_INT_ = 2 };
#define GW_LOG_END GW_LOG_END_
#define GW_LS(key, str) GW_LOG_STR_, (const char *)(key), (const char *)(str)
#define GW_LI(key, val) GW_LOG_INT_, (const char *)(key), (long long)(val)

/* Invariant: out is a valid stream while the logger is in use. */
typedef struct gw_log {
    gw_log_level_t level; /* lines below this level are dropped */
    FILE *out;            /* borrowed; stderr for cqlmqd */
    pthread_mutex_t mu;   /* one line at a time */
} gw_log_t;

void gw_log_init(gw_log_t *lg, gw_log_level_t level, FILE *out);
void gw_log_close(gw_log_t *lg);

/* "info" for GW_LOG_INFO; NULL out of range. */
const char *gw_log_level_name(int level);
/* The level of a name (case-insensitive), or CQLMQ_ENOTFOUND. */
int gw_log_level_parse(const char *s);

/* True when a line of this level would be written (lg may be NULL). */
static inline int gw_log_enabled(const gw_log_t *lg, gw_log_level_t level)
{
    return lg != NULL && level >= lg->level && level < GW_LOG_OFF;
}

/* Writes one line (see above); lg may be NULL (nothing is written). Lines
 * longer than 4 KiB are cut (the JSON stays valid). */
void gw_log(gw_log_t *lg, gw_log_level_t level, const char *msg, ...);

/* A gw_log-shaped hook for code that must not depend on this module (the
 * actors): logs `msg` with an optional "detail" string. ud is a gw_log_t. */
void gw_log_hook(void *ud, int level, const char *msg, const char *detail);

#endif /* GW_LOG_H */
