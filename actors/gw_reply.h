/*
 * gw_reply: building and sending gw_result replies (gw_msgs.h), shared by
 * the cluster actor (errors, prepare replies) and the connection actor
 * (successful results, sent straight to the requester).
 *
 * A reply goes to (to, corr): the requester's address and the correlation
 * id of its GW_MSG_EXEC request; any actor on the sending loop may send
 * it (the runtime matches replies by correlation id only).
 */
#ifndef GW_REPLY_H
#define GW_REPLY_H

#include <stdint.h>

#include "cqlmq/runtime.h"
#include "gw_msgs.h"

/* The stable error code string of a gateway status (gw_result.status):
 * "busy", "no_host", "timeout", "unprepared", "bad_request", "cancelled",
 * "internal"; NULL for 0 and CQLMQ_ESERVER (whose code comes from the CQL
 * error). */
const char *gw_status_code(int status);

/* Starts a reply message to (to, corr) and returns its writer; finish it
 * with rt_msg_end(self). */
mpk_wr_t *gw_reply_begin(rt_actor_t *self, rt_addr_t to, uint64_t corr);

/* Sends res. Returns rt_msg_end's code. */
int gw_reply_send(rt_actor_t *self, rt_addr_t to, uint64_t corr, const gw_result_t *res);

/* Sends an error of the gateway's own (status != 0, not ESERVER); message
 * NULL = cqlmq_strerror(status). host may be NULL. */
int gw_reply_status(rt_actor_t *self, rt_addr_t to, uint64_t corr, int status,
                    const char *message, const char *host, uint32_t attempts);

/* Sends the error a CQL ERROR body carries: status CQLMQ_ESERVER, code,
 * message, cql_code and details. An undecodable body becomes status
 * CQLMQ_EMALFORMED, code "internal". */
int gw_reply_cql_error(rt_actor_t *self, rt_addr_t to, uint64_t corr, int version,
                       uint8_t flags, const uint8_t *body, size_t len, const char *host,
                       uint32_t attempts);

/* The CQL error code of an ERROR body (envelope skipped), or -1 if it
 * cannot be read. */
int32_t gw_error_code_of(int version, uint8_t flags, const uint8_t *body, size_t len);

#endif /* GW_REPLY_H */
