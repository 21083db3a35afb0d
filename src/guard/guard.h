/* guard: security checks that sit after decoding. This first part is scan
 * detection (recon): vertical port scans, horizontal scans and ICMP ping
 * sweeps from sources outside home-net. Uses base and net. */
#ifndef OMAMORI_GUARD_H
#define OMAMORI_GUARD_H

#include "base/base.h"
#include "net/net.h"

/* Settings (the recon: section of the configuration). */
typedef struct om_guard_config {
	uint32_t recon_window;           /* seconds */
	uint32_t recon_vertical_ports;   /* distinct ports on one host */
	uint32_t recon_horizontal_hosts; /* distinct hosts on one port */
	uint32_t recon_sweep_hosts;      /* distinct hosts pinged */
	uint32_t recon_max_sources;      /* tracked sources (memory cap) */
} om_guard_config;
extern const om_config_schema om_guard_config_schema;

enum om_recon_kind { OM_RECON_VERTICAL = 0, OM_RECON_HORIZONTAL, OM_RECON_SWEEP };
const char *om_recon_kind_name(enum om_recon_kind k); /* "portscan.vertical", ... */

#define OM_RECON_LIST_MAX 32 /* ports/hosts listed in an alert; counts are exact */

/* One scan episode of one source. An episode opens when a source crosses a
 * threshold inside the window and closes when the source has been quiet for
 * a whole window (or at the end of input); the alert is given at close. */
typedef struct om_recon_alert {
	enum om_recon_kind kind;
	om_addr src;
	om_usec first_seen, last_seen;
	uint64_t packets;                  /* probe packets of the source during the episode */
	uint32_t port_count;               /* distinct destination ports touched */
	uint32_t host_count;               /* distinct destination hosts touched */
	uint16_t ports[OM_RECON_LIST_MAX]; /* the first ports touched, ascending */
	uint32_t nports;
	om_addr hosts[OM_RECON_LIST_MAX]; /* the first hosts touched */
	uint32_t nhosts;
	/* vertical: the host scanned; horizontal: the port scanned */
	om_addr target_host;
	uint16_t target_port;
	uint8_t proto; /* IPPROTO_TCP/UDP for port scans, ICMP for sweeps */
	/* host_count stopped at the per-episode exact limit (docs/guard.md):
	 * it is then a lower bound */
	bool host_count_capped;
} om_recon_alert;

typedef struct om_recon_stats {
	uint64_t probes; /* packets counted as probes */
	uint64_t sources, sources_max;
	uint64_t source_evictions; /* tracked sources dropped at the cap */
	uint64_t alerts;
	uint64_t episodes_forced; /* episodes closed early because the pool was full */
	uint64_t udp_answers;     /* UDP from outside that answered UDP from inside */
} om_recon_stats;

typedef void (*om_recon_cb)(void *user, const om_recon_alert *a);
typedef struct om_recon om_recon;

/* Uses cfg's recon_* and base's home_net; both must outlive the detector.
 * udp_timeout (seconds) is how long a UDP datagram sent from inside makes
 * an answer from outside not a probe (the flow table's UDP timeout). */
om_recon *om_recon_new(const om_guard_config *cfg, const om_base_config *base, uint32_t udp_timeout,
                       om_recon_cb cb, void *user);
om_recon *om_recon_free(om_recon *r);
/* Feeds one packet parsed at least by om_decode_peek. Probes are: TCP SYN
 * without ACK, UDP datagrams, ICMP/ICMPv6 echo requests, from a source outside
 * home-net; a UDP datagram that answers one sent from inside (same
 * addresses and ports, reversed, within the UDP flow timeout) is not a probe.
 * Other packets only advance the clock. */
void om_recon_packet(om_recon *r, const om_packet *p);
/* Closes the episodes whose source has been quiet since before now - window. */
void om_recon_expire(om_recon *r, om_usec now);
/* Closes every open episode (end of input). */
void om_recon_flush(om_recon *r);
const om_recon_stats *om_recon_stats_get(const om_recon *r);
/* Called as soon as an episode opens (a threshold is crossed), with the
 * episode so far; the alert itself still comes when it closes. The inline
 * gateway blocks the source from here. cb NULL: none. */
void om_recon_set_open_cb(om_recon *r, om_recon_cb cb, void *user);

#endif
