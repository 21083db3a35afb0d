/* net: capture files, packet decoding, IP defragmentation, the flow table and
 * TCP reassembly. Uses base only. Everything here is per worker thread: no
 * locks, no malloc per packet, every table with a hard cap. */
#ifndef OMAMORI_NET_H
#define OMAMORI_NET_H

#include "base/base.h"

/* ======================================================================== */
/* Settings (the flow:, stream: and defrag: sections of the configuration)   */
/* ======================================================================== */
typedef struct om_net_config {
	/* flow table */
	uint64_t flow_max;         /* max concurrent flows per worker */
	uint64_t flow_hash_size;   /* buckets; 0 = derived from flow_max */
	uint32_t flow_timeout_new; /* seconds */
	uint32_t flow_timeout_est;
	uint32_t flow_timeout_closed;
	uint32_t flow_timeout_udp;
	uint32_t flow_timeout_icmp;
	uint32_t flow_max_chain;          /* longest hash chain; 0 = derived */
	uint32_t flow_emergency_pct;      /* % of flow_max in use that starts emergency mode */
	uint32_t flow_emergency_recovery; /* % free again that ends it */
	uint32_t flow_emerg_timeout_new;  /* seconds, in emergency mode */
	uint32_t flow_emerg_timeout_est;
	uint32_t flow_emerg_timeout_closed;
	/* TCP reassembly */
	uint64_t stream_depth;  /* bytes per direction handed to app-layer; 0 = no limit */
	uint64_t stream_memcap; /* bytes of out-of-order data held per worker */
	/* IP defragmentation */
	uint64_t defrag_memcap;  /* bytes per worker */
	uint32_t defrag_timeout; /* seconds */
	uint32_t defrag_max_trackers;
} om_net_config;
extern const om_config_schema om_net_config_schema;

/* ======================================================================== */
/* Capture file reading (pcap and pcapng through libpcap)                    */
/* ======================================================================== */
typedef struct om_pcap om_pcap;
/* On error returns -errno or -EINVAL and writes a message into err. */
int om_pcap_open(const char *path, om_pcap **ret, char *err, size_t errlen);
/* Returns 1 with a packet, 0 at the end of the file, -EIO if the file is cut
 * short or damaged (err says where; the packets before it were returned). */
int om_pcap_next(om_pcap *p, const uint8_t **data, uint32_t *caplen, uint32_t *wirelen, om_usec *ts,
                 char *err, size_t errlen);
int om_pcap_linktype(const om_pcap *p); /* DLT_* */
om_pcap *om_pcap_close(om_pcap *p);

/* Zero-copy reading. A classic pcap file that is a regular file is read
 * through a read-only mapping, in windows of some tens of MB; pcapng and
 * other inputs go through libpcap. In mapped mode the data of a packet stays
 * valid while its window is held: om_pcap_current_span() gives the window of the
 * last packet returned (NULL in libpcap mode, where data is valid only until
 * the next call), and om_pcap_span_ref/unref (thread-safe) keep it mapped
 * after the reader has moved on. A window is unmapped when the reader has
 * left it and the last reference is dropped, so memory stays bounded. The
 * file must not be truncated while it is read. */
typedef struct om_pcap_span om_pcap_span;
om_pcap_span *om_pcap_current_span(om_pcap *p);
void om_pcap_span_ref(om_pcap_span *s);
void om_pcap_span_unref(om_pcap_span *s);

/* ======================================================================== */
/* Decoded packet                                                            */
/* ======================================================================== */
/* Anomaly reasons. Names (om_anomaly_name) follow Suricata's decoder event
 * naming, e.g. "ipv4.trunc_pkt". */
enum om_anomaly {
	OM_ANOM_NONE = 0,
	OM_ANOM_LINK_UNSUPPORTED,
	OM_ANOM_ETH_TRUNC,
	OM_ANOM_VLAN_TRUNC,
	OM_ANOM_VLAN_TOO_MANY,
	OM_ANOM_ARP_TRUNC,
	OM_ANOM_ARP_INVALID,
	OM_ANOM_IPV4_TRUNC,
	OM_ANOM_IPV4_HLEN_TOO_SMALL,
	OM_ANOM_IPV4_IPLEN_SMALLER_THAN_HLEN,
	OM_ANOM_IPV4_OPT_INVALID,
	OM_ANOM_IPV4_WRONG_VERSION,
	OM_ANOM_IPV4_FRAG_OVERLAP,
	OM_ANOM_IPV4_FRAG_TOO_LARGE,
	OM_ANOM_IPV6_TRUNC,
	OM_ANOM_IPV6_WRONG_VERSION,
	OM_ANOM_IPV6_EXTHDR_INVALID,
	OM_ANOM_IPV6_EXTHDR_TOO_MANY,
	OM_ANOM_IPV6_FRAG_OVERLAP,
	OM_ANOM_IPV6_FRAG_TOO_LARGE,
	OM_ANOM_FRAG_MEMCAP,
	OM_ANOM_TCP_TRUNC,
	OM_ANOM_TCP_HLEN_TOO_SMALL,
	OM_ANOM_TCP_OPT_INVALID,
	OM_ANOM_UDP_TRUNC,
	OM_ANOM_UDP_LEN_INVALID,
	OM_ANOM_ICMPV4_TRUNC,
	OM_ANOM_ICMPV6_TRUNC,
	OM_ANOM_ICMPV6_IN_IPV4,
	OM_ANOM_COUNT
};
const char *om_anomaly_name(enum om_anomaly a);

/* packet flags */
#define OM_PKT_IPV4 0x0001u
#define OM_PKT_IPV6 0x0002u
#define OM_PKT_TCP 0x0004u
#define OM_PKT_UDP 0x0008u
#define OM_PKT_ICMP 0x0010u /* ICMPv4 or ICMPv6 */
#define OM_PKT_ARP 0x0020u
#define OM_PKT_REASSEMBLED 0x0040u /* built from IP fragments */
#define OM_PKT_FRAGMENT 0x0080u    /* a fragment held for reassembly: no L4 */
#define OM_PKT_HAS_PORTS 0x0100u   /* sport/dport valid (TCP/UDP) */

/* TCP flags */
#define OM_TH_FIN 0x01
#define OM_TH_SYN 0x02
#define OM_TH_RST 0x04
#define OM_TH_PUSH 0x08
#define OM_TH_ACK 0x10
#define OM_TH_URG 0x20
#define OM_TH_ECE 0x40
#define OM_TH_CWR 0x80

typedef struct om_packet {
	/* input, set by the caller of om_decode */
	om_usec ts;
	const uint8_t *raw;
	uint32_t caplen;
	uint32_t wirelen;
	int linktype; /* DLT_EN10MB, DLT_RAW, DLT_LINUX_SLL, DLT_NULL, ... */

	/* output of om_decode */
	uint32_t flags;
	enum om_anomaly anomaly; /* first problem found, OM_ANOM_NONE if clean */
	uint16_t vlan[2];
	uint8_t vlan_count;
	uint8_t ip_ver; /* 4, 6 or 0 */
	uint8_t proto;  /* IPPROTO_* of the L4 header (after IPv6 ext headers) */
	uint8_t ttl;
	om_addr src, dst;
	uint16_t sport, dport;        /* TCP/UDP */
	uint8_t icmp_type, icmp_code; /* ICMP/ICMPv6 */
	uint8_t tcp_flags;
	uint32_t tcp_seq, tcp_ack;
	uint16_t tcp_win;
	uint8_t tcp_wscale;     /* 0xff if no window scale option */
	const uint8_t *l3;      /* start of the IP header */
	uint32_t l3_len;        /* IP total length (after defrag: whole datagram) */
	const uint8_t *payload; /* L4 payload */
	uint32_t payload_len;
} om_packet;

/* ======================================================================== */
/* Decoder with IPv4/IPv6 defragmentation                                    */
/* ======================================================================== */
/* Fragment overlap policy: first-wins (a byte already received is never
 * replaced; a fragment that overlaps with different bytes raises
 * *_FRAG_OVERLAP once). Documented in docs/net.md. */
typedef struct om_decode_stats {
	uint64_t packets, bytes;
	uint64_t ipv4, ipv6, tcp, udp, icmp, arp, other;
	uint64_t invalid;          /* packets with an anomaly */
	uint64_t frag_received;    /* fragments seen */
	uint64_t frag_reassembled; /* datagrams rebuilt */
	uint64_t frag_timeouts;
	uint64_t frag_memcap_hits;
	uint64_t anomaly[OM_ANOM_COUNT];
} om_decode_stats;

typedef struct om_decoder om_decoder;
/* memcap: bytes held by fragment trackers; max_trackers: datagrams in progress;
 * timeout: seconds (capture time) before an incomplete datagram is dropped. */
om_decoder *om_decoder_new(uint64_t memcap, uint32_t max_trackers, uint32_t timeout);
om_decoder *om_decoder_free(om_decoder *d);
/* Decodes p->raw. Returns 0 when p describes a complete L3/L4 packet (possibly
 * a reassembled datagram, whose bytes stay valid until the next call), 1 when
 * the packet was consumed without a result (a fragment held for reassembly,
 * ARP, an unknown ethertype), -EINVAL when malformed (p->anomaly says why; the
 * fields decoded before the problem are valid). Never reads past caplen. */
int om_decode(om_decoder *d, om_packet *p);
const om_decode_stats *om_decoder_stats(const om_decoder *d);

/* Light, stateless parse for dispatching and scan detection: fills ip_ver,
 * proto, src, dst, sport, dport, tcp_flags, icmp_type/code and flags from the
 * first fragment only. Returns 0 if an IP header was found. */
int om_decode_peek(om_packet *p);

/* ======================================================================== */
/* Flow table                                                                */
/* ======================================================================== */
enum om_flow_state { OM_FLOW_NEW = 0, OM_FLOW_ESTABLISHED, OM_FLOW_CLOSED };
enum om_flow_end {
	OM_FLOW_END_TIMEOUT = 0,
	OM_FLOW_END_FORCED,
	OM_FLOW_END_SHUTDOWN,
	OM_FLOW_END_EVICTED
};
enum om_tcp_state {
	OM_TCP_NONE = 0,
	OM_TCP_SYN_SENT,
	OM_TCP_SYN_RECV,
	OM_TCP_ESTABLISHED,
	OM_TCP_FIN_WAIT,
	OM_TCP_CLOSING,
	OM_TCP_CLOSED,
	OM_TCP_RESET
};
const char *om_flow_state_name(enum om_flow_state s);
const char *om_flow_end_name(enum om_flow_end e);
const char *om_tcp_state_name(enum om_tcp_state s);

#define OM_DIR_TOSERVER 0
#define OM_DIR_TOCLIENT 1

struct om_tcp_stream; /* private to stream.c */

typedef struct om_flow {
	/* key: the initiator ("client") side first */
	om_addr cli, srv;
	uint16_t cport, sport;
	uint8_t proto;
	uint8_t ip_ver;
	uint16_t vlan;    /* outer VLAN id, part of the key */
	uint64_t flow_id; /* stable: derived from key and start time */
	om_usec start, last;
	uint64_t pkts[2], bytes[2]; /* [OM_DIR_TOSERVER], [OM_DIR_TOCLIENT] */
	uint8_t tcp_flags[2];       /* flags seen per direction */
	enum om_flow_state state;
	enum om_tcp_state tcp_state;
	uint32_t flags;            /* OM_FLOW_F_* */
	struct om_tcp_stream *tcp; /* reassembly state, NULL until first TCP packet */
	void *app;                 /* for the app-layer */
	/* The table's own links (chain, lists, generation) live in a private
	 * wrapper in flow.c: an om_flow is only ever one handed out by a table. */
} om_flow;

#define OM_FLOW_F_MIDSTREAM 0x01 /* first packet seen was not a SYN */

/* Every field is a uint64_t: the engine sums tables word by word. */
typedef struct om_flow_stats {
	uint64_t created, ended, active, active_max;
	uint64_t evicted;     /* flows ended to make room (all causes below) */
	uint64_t memcap_hits; /* times the table was full */
	uint64_t tcp, udp, icmp, other;
	/* emergency mode (nearly full table) */
	uint64_t emergency_entered, emergency_left;
	uint64_t in_emergency; /* 1 while in emergency mode */
	/* evictions because the table was full, by the class of the victim */
	uint64_t evicted_new, evicted_closed, evicted_est;
	uint64_t chain_evicted; /* evictions because a hash chain was at its cap */
} om_flow_stats;

/* Lookup cost, for tests and benchmarks: lookups, chain entries visited in
 * all of them, and the most visited in one. */
typedef struct om_flow_probe_stats {
	uint64_t lookups, compares, chain_max;
} om_flow_probe_stats;

typedef struct om_flow_table om_flow_table;
typedef void (*om_flow_end_cb)(void *user, om_flow *f, enum om_flow_end why);
/* entered: true when emergency mode starts, false when it ends; now: the
 * latest capture time the table has seen. */
typedef void (*om_flow_emergency_cb)(void *user, bool entered, om_usec now,
                                     const om_flow_stats *st);

typedef struct om_flow_config {
	uint64_t max_flows;
	uint64_t hash_size; /* 0: next power of two >= max_flows */
	uint32_t timeout_new, timeout_est, timeout_closed, timeout_udp, timeout_icmp;
	/* Longest hash chain (0: 16 per flow per bucket on average). A new flow
	 * whose chain is at the cap ends that chain's least recently used flow
	 * (OM_FLOW_END_EVICTED, counted in chain_evicted). */
	uint32_t max_chain;
	/* Emergency mode: starts when emergency_pct % of max_flows are in use
	 * (0: 95), ends when emergency_recovery_pct % are free again (0: 30).
	 * Meanwhile every timeout is at most its emergency value (seconds; 0:
	 * new 5 for TCP and 10 for others, established 100, closed 10). */
	uint32_t emergency_pct, emergency_recovery_pct;
	uint32_t emerg_timeout_new, emerg_timeout_est, emerg_timeout_closed;
	om_flow_end_cb on_end;             /* called before a flow is released */
	om_flow_emergency_cb on_emergency; /* may be NULL */
	void *user;
} om_flow_config;

/* All flows are preallocated (max_flows entries). Bucket placement uses a
 * keyed hash with a random key per table (getrandom(2)). Returns NULL for an
 * impossible configuration or without memory. */
om_flow_table *om_flow_table_new(const om_flow_config *cfg);
om_flow_table *om_flow_table_free(om_flow_table *t); /* ends nothing: call flush first */
/* Finds or creates the flow of a decoded packet and updates its counters,
 * flags and state. *ret_dir is OM_DIR_TOSERVER or OM_DIR_TOCLIENT. When the
 * table is full a flow is ended to make room: one whose timeout has passed
 * (OM_FLOW_END_TIMEOUT), else the least recently used unestablished or closed
 * flow, else the least recently used established one (OM_FLOW_END_EVICTED).
 * Returns NULL only for packets without an IP layer. */
om_flow *om_flow_get(om_flow_table *t, const om_packet *p, int *ret_dir);
/* Ends flows whose timeout has passed at capture time now. Cheap to call
 * often: walks from the LRU end and stops at the first live flow. */
void om_flow_table_expire(om_flow_table *t, om_usec now);
/* Ends every flow (end of input). */
void om_flow_table_flush(om_flow_table *t, enum om_flow_end why);
const om_flow_stats *om_flow_table_stats(const om_flow_table *t);
const om_flow_probe_stats *om_flow_table_probe(const om_flow_table *t);
bool om_flow_table_emergency(const om_flow_table *t);
/* Symmetric hash of the packet's flow key: the same for both directions.
 * Keyed with the process key (om_hash_key_process): the same in every
 * thread of one process, unpredictable from outside, different per run. */
uint32_t om_flow_hash_packet(const om_packet *p);

/* A reference from one flow to another (an FTP data channel to its control
 * channel) that cannot dangle: it names a table entry and the generation of
 * that entry, and the entry's generation changes when its flow ends. A handle
 * is valid only with the table that made it (flows of one address pair are
 * always on the same worker). {0, 0} names no flow. */
typedef struct om_flow_handle {
	uint32_t idx, gen;
} om_flow_handle;
om_flow_handle om_flow_handle_of(const om_flow *f); /* f may be NULL */
/* The flow the handle names, or NULL when it has ended (even if its entry now
 * holds another flow). */
om_flow *om_flow_from_handle(om_flow_table *t, om_flow_handle h);

/* ======================================================================== */
/* TCP reassembly                                                            */
/* ======================================================================== */
/* Per direction: in-order data is handed to on_data at once; out-of-order
 * segments are held (counted against memcap) until the hole is filled.
 * Overlap policy: first-wins (bytes already accepted are never replaced; a
 * retransmission with different bytes raises a "stream.overlap_diff" event).
 * A hole that is not filled when the flow ends, or when memcap forces it, is
 * reported to on_gap and skipped. After `depth` bytes a direction stops
 * delivering (0 = unlimited). Midstream pickup: a flow whose first packet is
 * not a SYN starts at the first sequence number seen. */
typedef struct om_stream_stats {
	uint64_t segments, bytes_delivered;
	uint64_t ooo_segments;    /* held out of order */
	uint64_t retransmissions; /* wholly already-seen segments */
	uint64_t overlaps;        /* partly already-seen segments */
	uint64_t overlap_diff;    /* overlaps with different bytes */
	uint64_t gaps;            /* holes skipped */
	uint64_t memcap_hits;
	uint64_t depth_reached;
	uint64_t midstream;
	uint64_t mem_in_use, mem_max;
} om_stream_stats;

typedef struct om_stream_callbacks {
	/* data: in-order bytes of one direction, offset counted from the first
	 * byte of that direction's stream */
	void (*on_data)(void *user, om_flow *f, int dir, const uint8_t *data, uint32_t len,
	                uint64_t offset);
	/* a hole of len bytes at offset was skipped */
	void (*on_gap)(void *user, om_flow *f, int dir, uint64_t offset, uint64_t len);
	/* stream event (e.g. "stream.overlap_diff"); may be NULL */
	void (*on_event)(void *user, om_flow *f, const char *event);
	void *user;
} om_stream_callbacks;

typedef struct om_stream_ctx om_stream_ctx;
om_stream_ctx *om_stream_new(uint64_t depth, uint64_t memcap, const om_stream_callbacks *cb);
om_stream_ctx *om_stream_free(om_stream_ctx *s);
/* Feeds a decoded TCP packet of flow f in direction dir. */
void om_stream_packet(om_stream_ctx *s, om_flow *f, const om_packet *p, int dir);
/* Flushes what is held (reporting gaps) and frees f->tcp; call when a flow ends. */
void om_stream_flow_end(om_stream_ctx *s, om_flow *f);
const om_stream_stats *om_stream_stats_get(const om_stream_ctx *s);

#endif
