/* internal.h: private to the engine: what gateway.c gives the live loop. */
#ifndef OMAMORI_ENGINE_INTERNAL_H
#define OMAMORI_ENGINE_INTERNAL_H

#include "engine/engine.h"

/* A raw IPv4 socket for resets and ICMP errors (opened as root, kept after
 * the privilege drop); -1 when it cannot be had. */
int om_gw_raw_socket(void);
/* Sends the reject for a decoded packet p (IPv4): a TCP reset to both ends,
 * or ICMP "communication administratively prohibited" to the sender for
 * anything else. Returns 0 or -errno (-ENOTSUP for IPv6 and non-IP). */
int om_gw_reject(int fd, const om_packet *p);
/* Builds the reject into buf (for tests): the first packet (to the sender)
 * and, for TCP, the second (to the receiver) at buf + *ret_len1. */
int om_gw_reject_build(const om_packet *p, uint8_t *buf, size_t cap, size_t *ret_len1,
                       size_t *ret_len2);
/* Becomes user (its uid, gid and groups), keeping CAP_NET_ADMIN only. */
int om_gw_drop_privileges(const char *user, char *err, size_t errlen);

#endif
