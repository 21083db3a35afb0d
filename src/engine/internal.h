/* internal.h: private to the engine: what gateway.c gives the live loop. */
#ifndef OMAMORI_ENGINE_INTERNAL_H
#define OMAMORI_ENGINE_INTERNAL_H

#include <stdatomic.h>

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
/* The block page's redirect for a blocked HTTP request (TCP data from the
 * client, IPv4 or IPv6 without extension headers): to the client, as from
 * the server, "302 Found" to location with FIN; to the server a reset. fd
 * is the IPv4 raw socket, fd6 the IPv6 one. 0 or -errno (-EINVAL: not a
 * request's data segment, or location holds CR/LF; -ENOTSUP: no socket
 * for the family). */
int om_gw_redirect(int fd, int fd6, const om_packet *p, const char *location);
int om_gw_redirect_build(const om_packet *p, const char *location, uint8_t *buf, size_t cap,
                         size_t *ret_len1, size_t *ret_len2);
/* The DNS sinkhole: for a standard UDP query with one question (over IPv4
 * or IPv6), the answer from the resolver it asked: A with a4 for an A
 * question, AAAA with a6 for AAAA, each there is for ANY (TTL 60), and
 * NOERROR with no answer when the family asked for has no address (a4 or
 * a6 NULL). -EINVAL for anything else (nothing sent). */
int om_gw_sinkhole(int fd, int fd6, const om_packet *p, const om_addr *a4, const om_addr *a6);
int om_gw_sinkhole_build(const om_packet *p, const om_addr *a4, const om_addr *a6, uint8_t *buf,
                         size_t cap, size_t *ret_len);
/* The block page server (blockpage.c). quarantined tells whether a host
 * is isolated (called from the page's thread). */
typedef struct om_gw_page om_gw_page;
typedef bool (*om_gw_quar_fn)(void *user, const om_addr *a);
typedef struct om_gw_req {
	char method[8];
	char path[256];
} om_gw_req;
int om_gw_page_new(const char *contact, om_gw_quar_fn quarantined, void *user, om_gw_page **ret);
/* Listens on addr:port (before the privilege drop; once for an IPv4 and
 * once for an IPv6 address, -ENOSPC past two); om_gw_page_run then
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
/* ---- reload (gateway.c) ----------------------------------------------------- */
/* The hand-over of what a reload built to the workers, without a lock on
 * their side: the control thread offers a generation (after writing what
 * it built); each worker, between two batches, sees it (one atomic load a
 * batch), installs its part and acknowledges; the control thread frees
 * what was replaced only once every worker has acknowledged. */
#define OM_GW_WORKERS_MAX 64
typedef struct om_gw_handover {
	atomic_uint gen;                     /* the generation offered */
	atomic_uint seen[OM_GW_WORKERS_MAX]; /* the last one each worker took */
	unsigned n;
} om_gw_handover;
void om_gw_handover_init(om_gw_handover *h, unsigned workers);
/* Offers the next generation; -EBUSY while the one before is not taken by
 * every worker. */
int om_gw_handover_offer(om_gw_handover *h);
/* Worker side: true (and the generation) when one is offered that this
 * worker has not taken yet. */
bool om_gw_handover_pending(const om_gw_handover *h, unsigned worker, unsigned *ret_gen);
void om_gw_handover_ack(om_gw_handover *h, unsigned worker, unsigned gen);
/* Whether worker took the offered generation; whether every worker did. */
bool om_gw_handover_taken(const om_gw_handover *h, unsigned worker);
bool om_gw_handover_done(const om_gw_handover *h);

/* The IPS rule set of a reload: the configuration's rules.files and the
 * command line's --rules files (extra), compiled. Refused (-EINVAL, the
 * running set stays) when it has more rules with syntax errors than the
 * running set (running_syntax): a rule just written wrong would otherwise
 * be left out without a word. err says why in the thread's language;
 * *ret_st counts what was loaded. */
int om_gw_rules_build(const om_detect_config *cfg, const om_config_nets *home,
                      const char *const *extra, unsigned nextra, uint64_t running_syntax,
                      om_detect **ret, om_detect_load_stats *ret_st, char *err, size_t errlen);
/* The guards' policy of s's tenant (policy.tenants, else "default") for a
 * reload: the web filter (*ret_wf set up, or *ret_use_wf false without a
 * database) and the application policy (*ret_app, zero without one).
 * -errno with err set; nothing is left open then. */
int om_gw_policy_build(const om_settings *s, om_wf_filter *ret_wf, bool *ret_use_wf,
                       om_app_policy *ret_app, char *err, size_t errlen);

/* Becomes user (its uid, gid and groups), keeping CAP_NET_ADMIN only. */
int om_gw_drop_privileges(const char *user, char *err, size_t errlen);

#endif
