/* internal.h: private to the engine: what gateway.c gives the live loop. */
#ifndef OMAMORI_ENGINE_INTERNAL_H
#define OMAMORI_ENGINE_INTERNAL_H

#include "engine/engine.h"

/* A raw IPv4 socket for resets and ICMP errors (opened as root, kept after
 * the privilege drop); -1 when it cannot be had. */
int om_gw_raw_socket(void);
/* A raw IPv6 socket (the IPv6 header is ours), -1 when it cannot be had. */
int om_gw_raw6_socket(void);
/* Sends the reject for a decoded packet p: a TCP reset to both ends, or
 * ICMP (ICMPv6) "communication administratively prohibited" to the sender
 * for anything else; fd for IPv4, fd6 for IPv6 (IPv6 packets with
 * extension headers are not answered). Returns 0 or -errno (-ENOTSUP
 * without the socket or for non-IP). */
int om_gw_reject(int fd, int fd6, const om_packet *p);
/* Builds the reject into buf (for tests): the first packet (to the sender)
 * and, for TCP, the second (to the receiver) at buf + *ret_len1. */
int om_gw_reject_build(const om_packet *p, uint8_t *buf, size_t cap, size_t *ret_len1,
                       size_t *ret_len2);
/* The block page's redirect for a blocked HTTP request (IPv4 TCP data from
 * the client): to the client, as from the server, "302 Found" to location
 * with FIN; to the server a reset. 0 or -errno (-EINVAL: not a request's
 * data segment, or location holds CR/LF). */
int om_gw_redirect(int fd, const om_packet *p, const char *location);
int om_gw_redirect_build(const om_packet *p, const char *location, uint8_t *buf, size_t cap,
                         size_t *ret_len1, size_t *ret_len2);
/* The DNS sinkhole: for a standard IPv4/UDP query with one question, the
 * answer from the resolver it asked: A (or AAAA) answer for that name
 * (TTL 60) when the question asks for answer's family (or ANY), NOERROR
 * with no answer otherwise. -EINVAL for anything else (nothing sent). */
int om_gw_sinkhole(int fd, const om_packet *p, const om_addr *answer);
int om_gw_sinkhole_build(const om_packet *p, const om_addr *answer, uint8_t *buf, size_t cap,
                         size_t *ret_len);
/* The block page server (blockpage.c). quarantined tells whether a host
 * is isolated (called from the page's thread). */
typedef struct om_gw_page om_gw_page;
typedef bool (*om_gw_quar_fn)(void *user, const om_addr *a);
typedef struct om_gw_req {
	char method[8];
	char path[256];
} om_gw_req;
int om_gw_page_new(const char *contact, om_gw_quar_fn quarantined, void *user, om_gw_page **ret);
/* Listens on addr:port (before the privilege drop); om_gw_page_run then
 * starts the page's thread (after it: the thread that reads hostile
 * requests never holds more than the process keeps). */
int om_gw_page_listen(om_gw_page *pg, const om_addr *addr, uint16_t port, char *err, size_t errlen);
int om_gw_page_run(om_gw_page *pg, char *err, size_t errlen);
om_gw_page *om_gw_page_free(om_gw_page *pg);
/* What was blocked for cli (why: a catalogue key; category may be NULL),
 * shown when cli opens the page; from any thread. */
void om_gw_page_note(om_gw_page *pg, const om_addr *cli, const char *host, size_t hlen,
                     const char *why, const char *category);
/* A request's line: 0, -EAGAIN (not complete yet), -E2BIG (headers over
 * 4 KiB), -EINVAL (not an HTTP/1 request line). */
int om_gw_page_parse(const char *buf, size_t len, om_gw_req *ret);
/* The whole HTTP answer for rq from cli. */
int om_gw_page_render(om_gw_page *pg, const om_addr *cli, const om_gw_req *rq, om_buf *out);
uint64_t om_gw_page_served(const om_gw_page *pg);
/* The watchdog's test: a worker whose last round (beat) is more than limit
 * before now; false when beat is after now. */
bool om_gw_stuck(om_usec now, om_usec beat, om_usec limit);
/* Becomes user (its uid, gid and groups), keeping CAP_NET_ADMIN only. */
int om_gw_drop_privileges(const char *user, char *err, size_t errlen);

#endif
