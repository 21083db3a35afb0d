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
	uint64_t stream_depth;          /* bytes per direction handed to app-layer; 0 = no limit */
	uint64_t stream_memcap;         /* bytes of out-of-order data held per worker */
	uint64_t stream_flow_memcap;    /* bytes of out-of-order data one flow may hold */
	uint32_t stream_overlap_window; /* delivered bytes kept per direction; 0 = none */
	char stream_default_policy[16]; /* overlap policy name, e.g. "bsd" */
	struct om_net_policy {          /* per receiving network, first match wins */
		om_cidr net;
		char policy[16];
	} stream_policies[OM_CONFIG_MAX_NETS];
	unsigned stream_policy_count;
	/* IP defragmentation */
	uint64_t defrag_memcap;  /* bytes per worker */
	uint32_t defrag_timeout; /* seconds */
	uint32_t defrag_max_trackers;
	/* app-layer protocol detection */
	uint32_t app_detect_limit;  /* bytes per direction probed before "failed" */
	uint64_t app_detect_memcap; /* bytes of detection buffers per worker */
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
/* true if [p, p + n) lies inside the window's mapping */
bool om_pcap_span_holds(const om_pcap_span *s, const void *p, size_t n);

/* ======================================================================== */
/* Capture sources (capture.c, capture_afpacket.c, capture_nfq.c)            */
/* ======================================================================== */
/* One interface for every packet source: a worker asks for the next batch,
 * gives each packet of it a verdict, and releases the batch. A live source
 * belongs to one worker (a socket or a queue per worker: no dispatcher).
 *
 *   file      a pcap/pcapng file (om_pcap); verdicts are ignored
 *   afpacket  TPACKET_V3 ring on an interface, PACKET_FANOUT by flow hash so
 *             that every socket of a fanout group gets whole flows; passive:
 *             verdicts are recorded, nothing is dropped
 *   nfqueue   one netfilter queue; verdicts go back to the kernel in
 *             batches (one NFQNL_MSG_VERDICT_BATCH when a run of packets
 *             all pass), the fail-open flag lets the kernel accept when the
 *             queue is full (configurable)
 *
 * The data of a batch stays valid until om_capture_release(). A packet
 * given OM_VERDICT_HOLD keeps its place in the kernel queue (nfqueue only)
 * and must later get a final verdict through om_capture_verdict_id(). */
enum om_verdict { OM_VERDICT_ACCEPT = 0, OM_VERDICT_HOLD, OM_VERDICT_REJECT, OM_VERDICT_DROP };

enum om_capture_kind { OM_CAPTURE_FILE = 1, OM_CAPTURE_AFPACKET, OM_CAPTURE_NFQUEUE };

typedef struct om_capture_pkt {
	const uint8_t *data;
	uint32_t caplen, wirelen;
	om_usec ts;
	int linktype; /* DLT_*: nfqueue gives raw IP (DLT_RAW) */
	uint32_t id;  /* nfqueue packet id; a running number otherwise */
	uint32_t mark;
	uint32_t indev, outdev; /* interface indexes when known, else 0 */
} om_capture_pkt;

typedef struct om_capture_opts {
	enum om_capture_kind kind;
	const char *path;      /* file */
	const char *ifname;    /* afpacket */
	uint16_t fanout_group; /* afpacket: sockets with the same group share the flows */
	uint32_t ring_bytes;   /* afpacket: ring size (default 8 MiB, at most 1 GiB) */
	uint16_t queue;        /* nfqueue: queue number */
	uint32_t queue_maxlen; /* nfqueue: kernel queue length (default 4096) */
	bool fail_open;        /* nfqueue: accept when the queue is full */
	uint32_t max_held;     /* nfqueue: most packets held at once (default 1024) */
} om_capture_opts;

typedef struct om_capture_stats {
	uint64_t packets, bytes;
	uint64_t accepted, dropped, rejected, held;
	uint64_t kernel_drops;   /* packets the kernel lost (ring or queue full) */
	uint64_t hold_overflows; /* holds refused: max_held reached, accepted instead */
	uint64_t verdict_errors; /* verdicts the kernel did not take */
	uint64_t bypassed;       /* accepted with the bypass mark (om_capture_verdict_mark) */
} om_capture_stats;

typedef struct om_capture om_capture;

/* On error returns -errno and writes what is wrong and what to do into err. */
int om_capture_open(const om_capture_opts *o, om_capture **ret, char *err, size_t errlen);
/* Waits at most timeout_ms (0: do not wait) for packets and returns up to
 * max of them in pkts: the count, 0 when none came in time, -ENODATA at the
 * end of a file, another -errno on a failure. */
int om_capture_next_batch(om_capture *c, om_capture_pkt *pkts, unsigned max, int timeout_ms);
/* The verdict for a packet of the current batch. Passive sources count it. */
int om_capture_verdict(om_capture *c, const om_capture_pkt *p, enum om_verdict v);
/* Accepts p with mark set on it (nfqueue: the packet's mark, which the
 * gateway's ruleset saves on the connection so that its later packets skip
 * the queue). -EOPNOTSUPP for sources without marks (nothing changes). */
int om_capture_verdict_mark(om_capture *c, const om_capture_pkt *p, uint32_t mark);
/* The final verdict for a held packet (nfqueue), at any time after its
 * batch was released. -ENOENT if id is not held. */
int om_capture_verdict_id(om_capture *c, uint32_t id, enum om_verdict v);
/* Ends the batch: sends the verdicts not yet sent; the batch's data is no
 * longer valid. */
int om_capture_release(om_capture *c);
bool om_capture_is_inline(const om_capture *c);
bool om_capture_is_live(const om_capture *c);
void om_capture_stats_get(const om_capture *c, om_capture_stats *ret);
om_capture *om_capture_close(om_capture *c);
const char *om_verdict_name(enum om_verdict v);

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
	OM_ANOM_IPV4_PKT_TOO_SMALL, /* less than an IPv4 header */
	OM_ANOM_IPV6_PKT_TOO_SMALL, /* less than an IPv6 header */
	OM_ANOM_IPV6_TRUNC_EXTHDR,  /* an extension header runs past the payload */
	OM_ANOM_TCP_INVALID_OPTLEN, /* data offset below 5 words */
	OM_ANOM_UDP_PKT_TOO_SMALL,  /* UDP length field beyond the IP payload */
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
	bool reassembled;      /* the outer datagram was rebuilt from fragments */
	uint32_t l3_len;       /* the outer IP datagram's length (IP tunnels) */
} om_tunnel_layer;

typedef struct om_packet {
	/* input, set by the caller of om_decode */
	om_usec ts;
	const uint8_t *raw;
	uint32_t caplen;
	uint32_t wirelen;
	int linktype; /* DLT_EN10MB, DLT_RAW, DLT_LINUX_SLL, DLT_NULL, ... */
	/* the mapped capture window raw lies in (om_pcap), or NULL: the
	 * stream may then keep pointers into it instead of copying, holding
	 * a reference to the window (om_pcap_span_ref) */
	om_pcap_span *span;

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
struct om_app_flow;   /* private to applayer.c */

typedef struct om_flow {
	/* key: the initiator ("client") side first */
	om_addr cli, srv;
	uint16_t cport, sport;
	uint8_t proto;
	uint8_t ip_ver;
	uint16_t vlan[OM_VLAN_MAX]; /* every VLAN id, part of the key (0: no tag) */
	uint8_t vlan_count;
	uint8_t tunnel_depth; /* IP tunnel layers around the flow's packets */
	uint32_t tunnel_id;   /* om_packet.tunnel_id, part of the key */
	/* the outermost IP layer at creation, NULL for none (kept by the
	 * table beside the flow: few flows have one, and every flow of a full
	 * table would pay for the room) */
	const om_tunnel_layer *tunnel;
	uint64_t flow_id; /* stable: derived from key and start time */
	om_usec start, last;
	uint64_t pkts[2], bytes[2]; /* [OM_DIR_TOSERVER], [OM_DIR_TOCLIENT] */
	uint8_t tcp_flags[2];       /* flags seen per direction */
	enum om_flow_state state;
	enum om_tcp_state tcp_state;
	uint32_t flags;            /* OM_FLOW_F_* */
	struct om_tcp_stream *tcp; /* reassembly state, NULL until first TCP packet */
	struct om_app_flow *app;   /* app-layer slot (applayer.c), NULL until first data */
	/* The table's own links (chain, lists, generation) live in a private
	 * wrapper in flow.c: an om_flow is only ever one handed out by a table. */
} om_flow;

#define OM_FLOW_F_MIDSTREAM 0x01 /* first packet seen was not a SYN */
/* what inspection decided on the flow (set by the engine and proto's
 * observers; the inline gateway acts on DROP and REJECT) */
#define OM_FLOW_F_ALERTED 0x02 /* something alerted on it */
#define OM_FLOW_F_DROP 0x04    /* drop its remaining packets */
#define OM_FLOW_F_REJECT 0x08  /* reset it (with DROP) */
/* application control (guard) has finished with the flow: its packets need
 * not be looked up there again */
#define OM_FLOW_F_APPCTL_DONE 0x10
/* the inline gateway let the flow's connection skip the queue (bypass): its
 * counts stop at that packet */
#define OM_FLOW_F_BYPASSED 0x20

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
	uint64_t hints; /* lookups whose bucket hash came from om_flow_prefetch */
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
	/* judges TCP packets and owns the TCP state (om_stream_track); without
	 * it f->tcp_state stays OM_TCP_NONE */
	struct om_stream_ctx *stream;
} om_flow_config;

/* All flows are preallocated (max_flows entries). Bucket placement uses a
 * keyed hash with a random key per table (getrandom(2)). Returns NULL for an
 * impossible configuration or without memory. */
om_flow_table *om_flow_table_new(const om_flow_config *cfg);
om_flow_table *om_flow_table_free(om_flow_table *t); /* ends nothing: call flush first */
/* Finds or creates the flow of a decoded packet and updates its counters,
 * flags and state (the TCP state as the configured stream judges it, and
 * port reuse as the stream decides). *ret_dir is OM_DIR_TOSERVER or
 * OM_DIR_TOCLIENT. When the table is full a flow is ended to make room: one
 * whose timeout has passed (OM_FLOW_END_TIMEOUT), else the least recently used
 * unestablished or closed flow, else the least recently used established one
 * (OM_FLOW_END_EVICTED). Returns NULL only for packets without an IP layer. */
om_flow *om_flow_get(om_flow_table *t, const om_packet *p, int *ret_dir);

/* Starts the next lookup early: from a packet as om_decode_peek leaves it,
 * computes its key's bucket hash and asks the CPU for the bucket, so that
 * the load overlaps the work before om_flow_get (the full decode). The next
 * om_flow_get of the table (only the next) takes the hash when its packet
 * has the same key and computes its own otherwise; results never depend on
 * it. om_flow_prefetch_entry then asks for the first entry of that bucket.
 * Only the thread that owns the table may call them. */
void om_flow_prefetch(om_flow_table *t, const om_packet *p);
void om_flow_prefetch_entry(om_flow_table *t);
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
	OM_STREAM_END_EVICTED, /* the flow was evicted (table full) */
	OM_STREAM_END_BYPASS   /* om_stream_bypass: the app-layer wants no more */
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

/* Hooks for the app-layer (docs/applayer.md). */
/* Stops delivering one direction: no more on_data or on_gap for it; its held
 * bytes are dropped (at once, or when the current delivery returns if called
 * from a callback). May be called from callbacks. */
void om_stream_bypass(om_flow *f, int dir);
/* Sets the depth of one direction (0: the context's depth; a depth may be
 * larger or smaller than the context's). A direction that has already closed
 * stays closed. May be called from callbacks. Returns 0, or -ENOENT if the
 * flow has no stream state. */
int om_stream_set_depth(om_flow *f, int dir, uint64_t depth);
/* Why a direction stopped delivering: 0 while it is open. */
enum om_stream_dir_end {
	OM_STREAM_OPEN = 0,
	OM_STREAM_FIN,    /* everything up to the FIN was delivered */
	OM_STREAM_RST,    /* a valid RST ended both directions */
	OM_STREAM_DEPTH,  /* depth reached */
	OM_STREAM_BYPASS, /* om_stream_bypass */
};
enum om_stream_dir_end om_stream_dir_end(const om_flow *f, int dir);
/* The delivered bytes still kept for direction dir (the overlap window):
 * copies the last min(kept, cap) of them, oldest first, into buf and returns
 * how many. Called from on_data, they are the bytes just before that call's
 * data. 0 when nothing is kept (no stream state, no window, after a gap). */
uint32_t om_stream_window(const om_flow *f, int dir, uint8_t *buf, uint32_t cap);

/* ======================================================================== */
/* App-layer contract: parser registry, detection, per-flow slot             */
/* ======================================================================== */
/* The contract for parser authors is docs/applayer.md. In short: parsers
 * register at start-up into an om_app_registry, which is then sealed and
 * shared read-only by all workers. Each worker has its own om_app_ctx; the
 * engine feeds it the reassembled TCP stream (om_app_tcp_data / _gap /
 * _update), UDP datagrams (om_app_udp) and flow ends (om_app_flow_end).
 * Detection looks at the content of both directions; ports are hints for
 * the order in which parsers are asked. */
#define OM_APP_MAX_PARSERS 32
#define OM_APP_MAX_PORTS 8
#define OM_APP_NAME_MAX 16 /* bytes of a parser name, with the NUL */

/* IP protocols a parser speaks (om_app_parser.ipprotos) */
#define OM_APP_TCP 0x1u
#define OM_APP_UDP 0x2u

/* om_app_parser.probe_*: answer on the first bytes of a direction */
enum om_app_probe {
	OM_APP_PROBE_NO = 0, /* not this protocol: not asked again in this direction */
	OM_APP_PROBE_YES,    /* this protocol: the parser is attached */
	OM_APP_PROBE_MORE    /* cannot tell yet: ask again with more bytes */
};

/* data flags */
#define OM_APP_DATA_HELD                                                                           \
	0x1u /* bytes not from the current packet (held                                            \
	      * segments or the detection buffer) */

/* why a direction ended (om_app_parser.end) */
enum om_app_end {
	OM_APP_END_FIN = 0,  /* the peer's FIN: everything before it delivered */
	OM_APP_END_RST,      /* a valid RST */
	OM_APP_END_DEPTH,    /* the direction's depth was reached */
	OM_APP_END_TIMEOUT,  /* the flow timed out */
	OM_APP_END_EVICTED,  /* the flow was evicted (table full) */
	OM_APP_END_SHUTDOWN, /* end of input or shutdown */
	OM_APP_END_FORCED,   /* the flow was ended early (TCP port reuse) */
	OM_APP_END_COUNT
};
const char *om_app_end_name(enum om_app_end e);

/* om_app_parser.flags */
#define OM_APP_PARSER_FIRST                                                                        \
	0x1u /* probed before every other parser: for a                                            \
	      * parser that knows a flow by an expectation                                         \
	      * (an FTP data connection), not its bytes */

/* A parser describes itself with this (static, read-only) structure. Every
 * callback gets the flow and the state made by state_new. Callbacks run on
 * the flow's worker thread, one at a time per worker. */
typedef struct om_app_parser {
	const char *name;  /* EVE app_proto: "http", "tls"; < OM_APP_NAME_MAX bytes */
	unsigned ipprotos; /* OM_APP_TCP | OM_APP_UDP */
	unsigned flags;    /* OM_APP_PARSER_* */
	uint16_t ports[OM_APP_MAX_PORTS]; /* server ports tried first (0 ends the list) */
	/* Probes: the first len bytes of the direction (TCP) or one datagram
	 * (UDP); wctx is the parser's per-worker context. NULL: the parser
	 * cannot be detected in that direction. */
	enum om_app_probe (*probe_ts)(const om_flow *f, const uint8_t *data, uint32_t len,
	                              void *wctx);
	enum om_app_probe (*probe_tc)(const om_flow *f, const uint8_t *data, uint32_t len,
	                              void *wctx);
	/* Optional per-worker context (tables the flows of one worker share,
	 * such as expected FTP data connections): made for each worker when
	 * its om_app_ctx is created (NULL: no memory, the context fails),
	 * freed with it. */
	void *(*worker_new)(void *user);
	void (*worker_free)(void *wctx, void *user);
	/* New per-flow state (NULL: no memory; the flow is then "failed"). */
	void *(*state_new)(om_flow *f, void *user, void *wctx);
	/* Bytes of one direction, in stream order. 0, or a negative errno when
	 * the parser gives up: both directions are then bypassed. */
	int (*data)(void *state, om_flow *f, int dir, const uint8_t *data, uint32_t len,
	            unsigned flags);
	/* len bytes of one direction were lost; may be NULL */
	void (*gap)(void *state, om_flow *f, int dir, uint64_t len);
	/* Exactly once per direction, after its last data or gap; may be NULL */
	void (*end)(void *state, om_flow *f, int dir, enum om_app_end why);
	/* Exactly once, after both ends; accepts what state_new returned */
	void (*state_free)(void *state, void *user);
	void *user; /* the parser's own configuration, given to state_new/free */
} om_app_parser;

typedef struct om_app_registry om_app_registry;
om_app_registry *om_app_registry_new(void);
om_app_registry *om_app_registry_free(om_app_registry *r);
/* Adds a parser (the structure must outlive the registry). Returns 0 with
 * *ret_id, or -EINVAL (no name, name too long, no probe, no data callback,
 * no IP protocol), -EEXIST (the name is taken), -ENOSPC (more than
 * OM_APP_MAX_PARSERS) or -EBUSY (the registry is sealed). */
int om_app_register(om_app_registry *r, const om_app_parser *p, int *ret_id);
/* No more registrations; from now on the registry may be shared by threads. */
void om_app_registry_seal(om_app_registry *r);
unsigned om_app_registry_count(const om_app_registry *r);
const om_app_parser *om_app_registry_parser(const om_app_registry *r, int id);

typedef struct om_app_config {
	uint32_t detect_limit;  /* bytes per direction probed before "failed"; 0: 4096 */
	uint64_t max_flows;     /* per-flow slots at most; 0: 1 << 20 */
	uint64_t detect_memcap; /* bytes of detection buffers; 0: 64 MiB */
} om_app_config;

typedef struct om_app_stats {
	uint64_t flows;         /* flows that got a slot */
	uint64_t detected;      /* flows given to a parser */
	uint64_t failed;        /* flows no parser took */
	uint64_t probes;        /* probe calls */
	uint64_t slot_memcap;   /* flows with data that got no slot (max_flows) */
	uint64_t buffer_memcap; /* directions that could not hold bytes (detect_memcap) */
	uint64_t parse_errors;  /* data callbacks that returned an error */
	uint64_t state_nomem;   /* state_new returned NULL */
	uint64_t bypassed;      /* directions bypassed */
	uint64_t active;        /* slots in use */
	uint64_t buffer_mem;    /* bytes of detection buffers in use */
} om_app_stats;

typedef struct om_app_ctx om_app_ctx;
/* One per worker. reg must be sealed and outlive the context. cfg may be
 * NULL (defaults). Returns NULL on -EINVAL (unsealed registry) or no memory. */
om_app_ctx *om_app_new(const om_app_registry *reg, const om_app_config *cfg);
/* The worker's flow table, so that parsers can look flow handles up (the
 * engine sets it once after making both). */
void om_app_set_flow_table(om_app_ctx *a, om_flow_table *t);
/* For parsers: the handle of a flow, and the flow a handle names, looked up
 * in the table of the worker that runs f (both flows of a handle are on one
 * worker). NULL when the named flow has ended, even if its entry was reused,
 * or when f has no app-layer slot. */
om_flow_handle om_app_flow_handle(const om_flow *f);
om_flow *om_app_flow_from_handle(const om_flow *f, om_flow_handle h);
/* Frees what is left; flows must have been ended first (om_app_flow_end). */
om_app_ctx *om_app_free(om_app_ctx *a);
const om_app_stats *om_app_stats_get(const om_app_ctx *a);

/* Engine side. Reassembled TCP bytes of one direction (from on_data; flags
 * OM_APP_DATA_HELD when on_data's flags have OM_STREAM_DATA_HELD), a gap (from on_gap), and, after
 * each TCP packet was fed to the stream, om_app_tcp_update to pass on the
 * directions that ended (FIN, RST, depth). */
void om_app_tcp_data(om_app_ctx *a, om_flow *f, int dir, const uint8_t *data, uint32_t len,
                     unsigned flags);
void om_app_tcp_gap(om_app_ctx *a, om_flow *f, int dir, uint64_t len);
void om_app_tcp_update(om_app_ctx *a, om_flow *f);
/* One UDP datagram's payload. */
void om_app_udp(om_app_ctx *a, om_flow *f, int dir, const uint8_t *data, uint32_t len);
/* The flow ends (call from the flow table's on_end, after
 * om_stream_flow_end): the directions not ended yet get end(why), the state
 * is freed and the slot released. Returns the flow's final app_proto name
 * (see om_app_proto_name; a flow that had data but no parser is "failed"),
 * a static string, or NULL. */
const char *om_app_flow_end(om_app_ctx *a, om_flow *f, enum om_flow_end why);

/* Parser and engine side. */
/* The flow's app_proto for events: the parser's name, "failed" when no
 * parser took it, NULL while undecided or without data. Static storage. */
const char *om_app_proto_name(const om_flow *f);
/* The parser attached to the flow (its id in the registry), or -1. */
int om_app_parser_id(const om_flow *f);
/* The attached parser's state, or NULL. */
void *om_app_state(const om_flow *f);
/* The per-worker context of parser id on the worker of flow f (while the
 * flow has a slot: during probes and callbacks), or NULL. Lets one parser
 * reach another's tables (FTP data reaching FTP's expectations). */
void *om_app_worker_ctx(const om_flow *f, int id);
/* One pointer per worker for the module the parsers belong to (proto's
 * worker context: its event sink and file tracker), set by the engine once
 * after om_app_new; parsers reach it from any flow of that worker (while the
 * flow has a slot), NULL otherwise. */
void om_app_set_worker_user(om_app_ctx *a, void *user);
void *om_app_worker_user(const om_flow *f);
/* Bypass: no more data for these directions (a bit per direction:
 * 1 << OM_DIR_TOSERVER, 1 << OM_DIR_TOCLIENT); the stream stops
 * reassembling them. end() is still called, when the flow ends. */
#define OM_APP_BYPASS_TS (1u << OM_DIR_TOSERVER)
#define OM_APP_BYPASS_TC (1u << OM_DIR_TOCLIENT)
#define OM_APP_BYPASS_BOTH (OM_APP_BYPASS_TS | OM_APP_BYPASS_TC)
void om_app_bypass(om_flow *f, unsigned dirs);
/* Asks for a different stream depth in one direction (TCP only; see
 * om_stream_set_depth). Returns 0, -EOPNOTSUPP (not TCP) or -ENOENT. */
int om_app_set_depth(om_flow *f, int dir, uint64_t depth);

#endif
