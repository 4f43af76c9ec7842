/*
 * backoff: exponential backoff with full jitter (see backoff.h).
 */
#include "backoff.h"

uint64_t gw_rand(uint64_t *state)
{
    uint64_t x = *state ? *state : UINT64_C(0x9E3779B97F4A7C15);
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * UINT64_C(0x2545F4914F6CDD1D);
}

void gw_backoff_init(gw_backoff_t *b, uint64_t base_ms, uint64_t cap_ms, uint64_t seed)
{
    b->base_ms = base_ms ? base_ms : 1;
    b->cap_ms = cap_ms < b->base_ms ? b->base_ms : cap_ms;
    b->attempt = 0;
    b->rng = seed ? seed : UINT64_C(0x853C49E6748FEA9B);
}

uint64_t gw_backoff_ceiling(const gw_backoff_t *b)
{
    uint64_t c = b->base_ms;
    for (uint32_t i = 0; i < b->attempt && c < b->cap_ms; i++)
        c *= 2; /* stops at cap, so no overflow */
    return c < b->cap_ms ? c : b->cap_ms;
}

uint64_t gw_backoff_next(gw_backoff_t *b)
{
    uint64_t ceiling = gw_backoff_ceiling(b);
    if (b->attempt < 64)
        b->attempt++;
    return 1 + gw_rand(&b->rng) % ceiling;
}
