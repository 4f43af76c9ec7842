/*
 * backoff: reconnection delays, exponential with full jitter (the AWS
 * architecture blog's "full jitter"): attempt n waits a uniformly random
 * time in [1, min(cap, base * 2^n)] ms, so a fleet of gateways that lost
 * the same node does not reconnect in lockstep. One per host (and one for
 * the control connection). Pure: the caller keeps time; the random state
 * is per object (xorshift64*), seeded by the caller, so tests are
 * deterministic and nothing is global.
 *
 * Invariants: base_ms >= 1; cap_ms >= base_ms; rng != 0.
 */
#ifndef GW_BACKOFF_H
#define GW_BACKOFF_H

#include <stdint.h>

typedef struct gw_backoff {
    uint64_t base_ms;  /* first ceiling */
    uint64_t cap_ms;   /* largest ceiling */
    uint32_t attempt;  /* failures since the last reset */
    uint64_t rng;      /* xorshift64* state */
} gw_backoff_t;

/* base 0 becomes 1, cap below base becomes base, seed 0 a fixed constant. */
void gw_backoff_init(gw_backoff_t *b, uint64_t base_ms, uint64_t cap_ms, uint64_t seed);
/* The ceiling of the next delay: min(cap, base * 2^attempt). */
uint64_t gw_backoff_ceiling(const gw_backoff_t *b);
/* The next delay in ms (1 .. ceiling), and one more attempt counted. */
uint64_t gw_backoff_next(gw_backoff_t *b);
/* Back to the first ceiling (a connection succeeded, or the host came UP). */
static inline void gw_backoff_reset(gw_backoff_t *b) { b->attempt = 0; }

/* The random source used above, shared by the gateway's other helpers. */
uint64_t gw_rand(uint64_t *state);

#endif /* GW_BACKOFF_H */
