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
	/* tunnels and link types */
	OM_ANOM_TOO_MANY_LAYERS, /* more than OM_TUNNEL_MAX encapsulations */
	OM_ANOM_GRE_TRUNC,
	OM_ANOM_GRE_WRONG_VERSION,
	OM_ANOM_GRE_V0_RECUR,
	OM_ANOM_GRE_V0_FLAGS,
	OM_ANOM_GRE_V0_HDR_TOO_BIG,
	OM_ANOM_GRE_V0_MALFORMED_SRE,
	OM_ANOM_GRE_V1_CHKSUM,
	OM_ANOM_GRE_V1_ROUTE,
	OM_ANOM_GRE_V1_SSR,
	OM_ANOM_GRE_V1_RECUR,
	OM_ANOM_GRE_V1_FLAGS,
	OM_ANOM_GRE_V1_NO_KEY,
	OM_ANOM_GRE_V1_WRONG_PROTOCOL,
	OM_ANOM_GRE_V1_HDR_TOO_BIG,
	OM_ANOM_ERSPAN_TRUNC,
	OM_ANOM_ERSPAN_UNSUPPORTED_VERSION,
	OM_ANOM_ERSPAN_TOO_MANY_VLAN,
	OM_ANOM_VXLAN_UNKNOWN_PAYLOAD,
	OM_ANOM_GENEVE_UNKNOWN_PAYLOAD,
	OM_ANOM_MPLS_HDR_TRUNC,
	OM_ANOM_MPLS_PKT_TRUNC,
	OM_ANOM_MPLS_BAD_LABEL_ROUTER_ALERT,
	OM_ANOM_MPLS_BAD_LABEL_IMPLICIT_NULL,
	OM_ANOM_MPLS_BAD_LABEL_RESERVED,
	OM_ANOM_MPLS_UNKNOWN_PAYLOAD,
	OM_ANOM_PPPOE_TRUNC,
	OM_ANOM_PPPOE_WRONG_CODE,
	OM_ANOM_PPPOE_MALFORMED_TAGS,
	OM_ANOM_PPP_TRUNC,
	OM_ANOM_PPP_IPV4_TRUNC,
	OM_ANOM_PPP_IPV6_TRUNC,
	OM_ANOM_PPP_WRONG_TYPE,
	OM_ANOM_VNTAG_TRUNC,
	OM_ANOM_CHDLC_TRUNC,
	OM_ANOM_IPV4_IN_IPV6_TRUNC,
	OM_ANOM_IPV4_IN_IPV6_WRONG_VERSION,
	OM_ANOM_IPV6_IN_IPV6_TRUNC,
	OM_ANOM_IPV6_IN_IPV6_WRONG_VERSION,
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
#define OM_PKT_TUNNEL 0x0200u      /* the L3/L4 fields describe a packet inside a tunnel */

/* TCP flags */
#define OM_TH_FIN 0x01
#define OM_TH_SYN 0x02
#define OM_TH_RST 0x04
#define OM_TH_PUSH 0x08
#define OM_TH_ACK 0x10
#define OM_TH_URG 0x20
#define OM_TH_ECE 0x40
#define OM_TH_CWR 0x80

/* Encapsulations. The decoded packet describes the innermost packet; the
 * layers it was carried in are kept outermost first in om_packet.tunnel[]. */
enum om_tunnel_kind {
	OM_TUN_NONE = 0,
	OM_TUN_GRE,    /* GRE version 0 (RFC 2784/2890), also Ethernet over GRE */
	OM_TUN_ERSPAN, /* ERSPAN type I, II or III over GRE */
	OM_TUN_PPTP,   /* enhanced GRE version 1 with PPP (RFC 2637) */
	OM_TUN_IPIP,   /* IPv4 in IPv4 (protocol 4) */
	OM_TUN_6IN4,   /* IPv6 in IPv4 (protocol 41) */
	OM_TUN_4IN6,   /* IPv4 in IPv6 */
	OM_TUN_6IN6,   /* IPv6 in IPv6 */
	OM_TUN_TEREDO, /* IPv6 in UDP 3544 (RFC 4380) */
	OM_TUN_VXLAN,  /* Ethernet in UDP 4789 (RFC 7348) */
	OM_TUN_GENEVE, /* UDP 6081 (RFC 8926) */
	OM_TUN_MPLS,   /* an MPLS label stack (no outer addresses) */
	OM_TUN_PPPOE,  /* a PPPoE session (no outer addresses) */
	OM_TUN_COUNT
};
const char *om_tunnel_kind_name(enum om_tunnel_kind k);

/* Encapsulation layers followed before decoder.too_many_layers: the packet
 * is then handed on as the deepest layer decoded, its payload opaque. */
#define OM_TUNNEL_MAX 4
#define OM_VLAN_MAX 3 /* VLAN tags over all layers */

typedef struct om_tunnel_layer {
	om_addr src, dst;      /* the outer IP header that carried the layer */
	uint32_t id;           /* GRE key, ERSPAN session, PPTP call id, VNI, MPLS bottom label,
	                        * PPPoE session; 0 if none */
	uint16_t sport, dport; /* UDP tunnels: outer ports */
	uint8_t kind;          /* enum om_tunnel_kind */
	uint8_t ip_ver;        /* of the outer header; 0 for MPLS and PPPoE */
	uint8_t proto;         /* outer IP protocol (47, 17, 4, 41) */
	uint8_t vlan_count;    /* VLAN tags in om_packet.vlan[] outside this layer */
} om_tunnel_layer;

typedef struct om_packet {
	/* input, set by the caller of om_decode */
	om_usec ts;
	const uint8_t *raw;
	uint32_t caplen;
	uint32_t wirelen;
	int linktype; /* DLT_EN10MB, DLT_RAW, DLT_LINUX_SLL, DLT_NULL, ... */

	/* output of om_decode */
	uint32_t flags;
	enum om_anomaly anomaly;    /* first problem found, OM_ANOM_NONE if clean */
	uint16_t vlan[OM_VLAN_MAX]; /* every tag, outermost first, across all layers */
	uint8_t vlan_count;
	uint8_t tunnel_count; /* layers in tunnel[] */
	uint32_t tunnel_id;   /* discriminator of the layers, the same both ways; 0: none */
	uint8_t ip_ver;       /* 4, 6 or 0 */
	uint8_t proto;        /* IPPROTO_* of the L4 header (after IPv6 ext headers) */
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
	om_tunnel_layer tunnel[OM_TUNNEL_MAX]; /* outermost first: tunnel[i] is at depth i + 1 */
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
	uint64_t tunnel[OM_TUN_COUNT]; /* layers decoded, by kind */
	uint64_t pppoe_discovery;      /* PPPoE discovery frames (0x8863) */
	uint64_t vntag, chdlc, ppp;    /* VN-Tag headers, Cisco HDLC and PPP frames */
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
 * first fragment only. Returns 0 if an IP header was found. It goes through
 * VLAN, VN-Tag, MPLS and PPPoE but never into an IP tunnel: it gives the
 * OUTER IP header, so every packet of a tunnel dispatches alike. */
int om_decode_peek(om_packet *p);

/* The outermost layer of t[0..n) that an IP header carried (NULL if none)
 * and, in *ret_depth, how many such layers there are. */
const om_tunnel_layer *om_tunnel_root(const om_tunnel_layer *t, unsigned n, unsigned *ret_depth);
/* A packet view of the outermost IP packet of a tunnelled p (addresses,
 * protocol, UDP ports, outer VLAN tags; no payload), so that the tunnel
 * itself gets a flow. Returns 0, or -ENOENT when p was in no IP tunnel. */
int om_packet_outer(const om_packet *p, om_packet *ret);
/* Writes EVE's "tunnel" object as Suricata does for packets inside a tunnel:
 * src_ip, src_port, dest_ip, dest_port, proto of the outermost packet,
 * depth (IP tunnel layers), and when pcap_cnt is not 0 pcap_cnt and
 * pkt_src. Writes nothing when root is NULL. */
void om_tunnel_json(om_json *j, const om_tunnel_layer *root, unsigned depth, uint64_t pcap_cnt);

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
	uint16_t vlan[OM_VLAN_MAX]; /* every VLAN id, part of the key (0: no tag) */
	uint8_t vlan_count;
	uint8_t tunnel_depth;   /* IP tunnel layers around the flow's packets */
	uint32_t tunnel_id;     /* om_packet.tunnel_id, part of the key */
	om_tunnel_layer tunnel; /* the outermost IP layer at creation (kind 0: none) */
	uint64_t flow_id;       /* stable: derived from key and start time */
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
} om_flow_config;

/* All flows are preallocated (max_flows * sizeof(om_flow)). */
om_flow_table *om_flow_table_new(const om_flow_config *cfg);
om_flow_table *om_flow_table_free(om_flow_table *t); /* ends nothing: call flush first */
/* Finds or creates the flow of a decoded packet and updates its counters,
 * flags and state. *ret_dir is OM_DIR_TOSERVER or OM_DIR_TOCLIENT. When the
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
