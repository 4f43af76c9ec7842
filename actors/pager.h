/*
 * pager: one actor per streamed result (docs/protocol.md section 7).
 *
 * Credit: the client grants pages (the initial `credit`, then `credit`
 * messages); the pager sends a page only while sent < granted, and asks
 * Cassandra for the next page only while the client has credit left and
 * nothing is held: memory per stream is one Cassandra page held plus the
 * client pages in transit (at most the credit), whatever the result size.
 * Excess credit (granted - sent above max_credit) ends the stream with
 * `bad_request`.
 *
 * Pages: a Cassandra page is cut into client pages of at most
 * max_page_bytes encoded bytes (a larger single row travels alone), each
 * costing one credit; seq counts from 0; columns ride on seq 0; the client
 * page that ends a Cassandra page carries its paging_state when more rows
 * exist. The end is `done` {pages, rows}, or an `error`.
 *
 * Deadlines: each Cassandra fetch gets timeout_ms. Zero credit for lease_ms
 * ends the stream with `timeout`.
 *
 * The terminal reply goes to the session (SESSION_END), which frees the id
 * and forwards it; then the pager stops. Stopped from outside (the session
 * ended) it sends nothing and frees everything.
 */
#ifndef GW_PAGER_H
#define GW_PAGER_H

#include "front.h"

/* Spawn argument; read during the spawn only (exec's slices are copied). */
typedef struct gw_pager_cfg {
    gw_client_t client;       /* where pages go */
    rt_addr_t session;        /* where the terminal reply goes */
    rt_addr_t cluster;
    uint64_t id;              /* the client's request id */
    uint64_t arrival_us;      /* uv_hrtime clock, microseconds */
    const gw_exec_t *exec;    /* QUERY or EXECUTE; deadline and paging_state
                                 are set per fetch */
    uint32_t timeout_ms;      /* per Cassandra fetch */
    uint32_t credit;          /* initial credit */
    uint64_t max_credit;
    uint64_t max_page_bytes;
    uint64_t lease_ms;        /* zero-credit bound */
} gw_pager_cfg_t;

extern const rt_actor_def_t gw_pager_def;

#endif /* GW_PAGER_H */
