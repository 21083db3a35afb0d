/* net: capture files, packet decoding, IP defragmentation, the flow table and
 * TCP reassembly. Uses base only. Everything here is per worker thread: no
 * locks, no malloc per packet, every table with a hard cap. */
#ifndef OMAMORI_NET_H
#define OMAMORI_NET_H

#include "base/base.h"

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
	/* table internals */
	struct om_flow *hnext; /* hash chain */
	struct om_flow *lru_prev, *lru_next;
	uint32_t hash;
} om_flow;

#define OM_FLOW_F_MIDSTREAM 0x01 /* first packet seen was not a SYN */

typedef struct om_flow_stats {
	uint64_t created, ended, active, active_max;
	uint64_t evicted;     /* emergency evictions because the table was full */
	uint64_t memcap_hits; /* times the table was full */
	uint64_t tcp, udp, icmp, other;
} om_flow_stats;

typedef struct om_flow_table om_flow_table;
typedef void (*om_flow_end_cb)(void *user, om_flow *f, enum om_flow_end why);

typedef struct om_flow_config {
	uint64_t max_flows;
	uint64_t hash_size; /* 0: next power of two >= max_flows */
	uint32_t timeout_new, timeout_est, timeout_closed, timeout_udp, timeout_icmp;
	om_flow_end_cb on_end; /* called before a flow is released */
	void *user;
	/* judges TCP packets and owns the TCP state (om_stream_track); without
	 * it f->tcp_state stays OM_TCP_NONE */
	struct om_stream_ctx *stream;
} om_flow_config;

/* All flows are preallocated (max_flows * sizeof(om_flow)). */
om_flow_table *om_flow_table_new(const om_flow_config *cfg);
om_flow_table *om_flow_table_free(om_flow_table *t); /* ends nothing: call flush first */
/* Finds or creates the flow of a decoded packet and updates its counters,
 * flags and state (the TCP state as the configured stream judges it, and
 * port reuse as the stream decides). *ret_dir is OM_DIR_TOSERVER or OM_DIR_TOCLIENT. When the
 * table is full, the least recently used flow is ended (OM_FLOW_END_EVICTED)
 * to make room. Returns NULL only for packets without an IP layer. */
om_flow *om_flow_get(om_flow_table *t, const om_packet *p, int *ret_dir);
/* Ends flows whose timeout has passed at capture time now. Cheap to call
 * often: walks from the LRU end and stops at the first live flow. */
void om_flow_table_expire(om_flow_table *t, om_usec now);
/* Ends every flow (end of input). */
void om_flow_table_flush(om_flow_table *t, enum om_flow_end why);
const om_flow_stats *om_flow_table_stats(const om_flow_table *t);
/* Symmetric hash of the packet's flow key: the same for both directions. */
uint32_t om_flow_hash_packet(const om_packet *p);

/* ======================================================================== */
/* TCP reassembly and TCP state                                              */
/* ======================================================================== */
/* The stream is the one owner of a TCP flow's state. om_flow_get asks it
 * (om_stream_track, through om_flow_config.stream) to judge each TCP packet:
 * window tracking per direction (sequence and acknowledgement numbers, the
 * advertised window, scaled when both SYN and SYN/ACK offered scaling)
 * decides whether an RST, FIN or SYN is valid. The verdict sets
 * f->tcp_state; an invalid packet raises an event (Suricata 7 names, e.g.
 * "stream.rst_invalid_ack", "stream.fin_out_of_window",
 * "stream.est_syn_resend_diff_seq") and changes nothing: no state change, no
 * reassembly, no port-reuse split.
 *
 * Reassembly, per direction: in-order data is handed to on_data at once;
 * out-of-order segments are held in pooled blocks (counted by block size
 * against the worker's memcap and the flow's own cap) until the hole is
 * filled. Which bytes win where segments overlap follows the target-based
 * policy of the receiving host (om_stream_configure). The last delivered
 * bytes of each direction are kept (overlap_window) so that a
 * retransmission that rewrites delivered data raises
 * "stream.reassembly_overlap_different_data" (once per flow direction). A
 * hole that is not filled when the flow ends, or when a cap forces it, is
 * reported to on_gap and skipped. After `depth` bytes a direction stops
 * delivering (0 = unlimited). Midstream pickup: a flow whose first packet
 * is an ACK starts at the first sequence number seen. Design notes:
 * docs/net.md. */
typedef struct om_stream_stats {
	uint64_t segments, bytes_delivered;
	uint64_t ooo_segments;    /* held out of order */
	uint64_t retransmissions; /* wholly already-seen segments */
	uint64_t overlaps;        /* partly already-seen segments */
	uint64_t overlap_diff;    /* overlaps with different bytes */
	uint64_t gaps;            /* holes skipped */
	uint64_t memcap_hits;     /* the worker's memcap forced a gap */
	uint64_t depth_reached;
	uint64_t midstream;
	uint64_t mem_in_use, mem_max; /* bytes really held: blocks, cache, states */
	uint64_t flow_memcap_hits;    /* a flow's own cap forced a gap */
	uint64_t mem_segments;        /* block bytes of held out-of-order segments */
	uint64_t mem_windows;         /* block bytes of delivered-bytes windows */
	uint64_t mem_cache;           /* free blocks kept for reuse */
	uint64_t mem_states;          /* per-flow state slabs */
	uint64_t block_mallocs;       /* blocks taken from malloc (not the cache) */
	uint64_t window_unchecked;    /* directions without a delivered window (memcap) */
	uint64_t invalid;             /* packets judged invalid and ignored */
} om_stream_stats;

/* Target-based overlap policies (as Suricata's stream engine names them). */
enum om_stream_policy {
	OM_POLICY_BSD = 0,
	OM_POLICY_FIRST,
	OM_POLICY_LAST,
	OM_POLICY_LINUX,
	OM_POLICY_OLD_LINUX,
	OM_POLICY_SOLARIS,
	OM_POLICY_HPUX10,
	OM_POLICY_HPUX11,
	OM_POLICY_IRIX,
	OM_POLICY_MACOS,
	OM_POLICY_WINDOWS,
	OM_POLICY_VISTA,
	OM_POLICY_WINDOWS2K3,
	OM_POLICY_COUNT
};
const char *om_stream_policy_name(enum om_stream_policy p);
/* Returns 0 and the policy named (e.g. "windows", "old-linux"), -EINVAL if
 * the name is unknown. */
int om_stream_policy_parse(const char *name, enum om_stream_policy *ret);

/* Why a direction stopped delivering. */
enum om_stream_end {
	OM_STREAM_END_FIN = 0,
	OM_STREAM_END_RST,
	OM_STREAM_END_DEPTH,
	OM_STREAM_END_FLOW,    /* the flow ended: end of input, forced (port reuse) */
	OM_STREAM_END_TIMEOUT, /* the flow ended by its timeout */
	OM_STREAM_END_EVICTED  /* the flow was evicted (table full) */
};
const char *om_stream_end_name(enum om_stream_end e);
/* The end reason for the directions still open when a flow ends why. */
enum om_stream_end om_stream_end_of(enum om_flow_end why);

/* on_data flags */
#define OM_STREAM_DATA_HELD 0x01u /* bytes from held segments, not this packet */

typedef struct om_stream_callbacks {
	/* data: in-order bytes of one direction, offset counted from the first
	 * byte of that direction's stream; flags: OM_STREAM_DATA_* */
	void (*on_data)(void *user, om_flow *f, int dir, const uint8_t *data, uint32_t len,
	                uint64_t offset, unsigned flags);
	/* a hole of len bytes at offset was skipped */
	void (*on_gap)(void *user, om_flow *f, int dir, uint64_t offset, uint64_t len);
	/* stream event (e.g. "stream.rst_invalid_ack"); may be NULL */
	void (*on_event)(void *user, om_flow *f, const char *event);
	void *user;
	/* a direction delivers nothing more (called once per direction); may
	 * be NULL */
	void (*on_end)(void *user, om_flow *f, int dir, enum om_stream_end why);
} om_stream_callbacks;

#define OM_STREAM_MAX_POLICIES 64
typedef struct om_stream_policy_net {
	om_cidr net;
	enum om_stream_policy policy;
} om_stream_policy_net;

typedef struct om_stream_config {
	uint64_t flow_memcap;    /* block bytes of out-of-order data one flow may hold */
	uint32_t overlap_window; /* delivered bytes kept per direction; 0 = none */
	enum om_stream_policy default_policy;
	const om_stream_policy_net *nets; /* first match wins, by receiving host */
	unsigned nnets;                   /* <= OM_STREAM_MAX_POLICIES */
} om_stream_config;

typedef struct om_stream_ctx om_stream_ctx;
/* Defaults: no per-flow cap beyond memcap, a 1 KiB delivered window, BSD. */
om_stream_ctx *om_stream_new(uint64_t depth, uint64_t memcap, const om_stream_callbacks *cb);
om_stream_ctx *om_stream_free(om_stream_ctx *s);
/* Sets caps and policies (for flows that start afterwards). -EINVAL if a
 * value is out of range (nnets too large, policy unknown). */
int om_stream_configure(om_stream_ctx *s, const om_stream_config *c);
/* Judges a TCP packet of f (window tracking, RST/FIN/SYN validity) and sets
 * f->tcp_state. om_flow_get calls it; om_stream_packet calls it itself when
 * the packet was not judged yet. */
void om_stream_track(om_stream_ctx *s, om_flow *f, const om_packet *p, int dir);
/* Whether TCP packet p (direction dir of f) starts a new connection on the
 * finished flow f (port reuse): a plain SYN after a valid close or reset,
 * not a retransmission of the old SYN. om_flow_get asks it. */
bool om_stream_starts_new(const om_flow *f, const om_packet *p, int dir);
/* Feeds a decoded TCP packet of flow f in direction dir to reassembly. */
void om_stream_packet(om_stream_ctx *s, om_flow *f, const om_packet *p, int dir);
/* Flushes what is held (reporting gaps) and frees f->tcp; call when a flow
 * ends. Safe to call twice. The directions still open end with why
 * (om_stream_flow_end: OM_STREAM_END_FLOW). */
void om_stream_flow_end(om_stream_ctx *s, om_flow *f);
void om_stream_flow_end_why(om_stream_ctx *s, om_flow *f, enum om_stream_end why);
const om_stream_stats *om_stream_stats_get(const om_stream_ctx *s);

#endif
