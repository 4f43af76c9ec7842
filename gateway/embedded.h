/*
 * gw_embedded: the embedded node (node/server) on its own thread and libuv
 * loop, for `cqlmqd --embedded` and the gateway's tests: N nodes on
 * 127.0.0.1 ... 127.0.0.N sharing one CQL port (0 = a free one), with a
 * fault-control socket on a free tcp port.
 */
#ifndef GW_EMBEDDED_H
#define GW_EMBEDDED_H

#include <stddef.h>

typedef struct gw_embedded gw_embedded_t;

/* Starts nodes (1..64) on port (0 = any free port). Returns 0,
 * CQLMQ_ECONFIG, CQLMQ_ENOMEM, CQLMQ_EUV (bind failed), CQLMQ_EZMQ or
 * CQLMQ_EIO (thread). */
int gw_embedded_start(int nodes, int port, gw_embedded_t **out);

/* The CQL port. */
int gw_embedded_port(const gw_embedded_t *e);
/* The control endpoint (tcp://127.0.0.1:N); borrowed. */
const char *gw_embedded_control(const gw_embedded_t *e);
/* "127.0.0.1:P,127.0.0.2:P,..." into buf (NUL-terminated). */
void gw_embedded_contact_points(const gw_embedded_t *e, char *buf, size_t len);

/* Stops the node's loop, joins its thread, frees; *e = NULL; accepts NULL. */
void gw_embedded_stop(gw_embedded_t **e);

#endif /* GW_EMBEDDED_H */
