/* decode.c: packet decoding from the link layer to L4 (Ethernet with up to
 * three 802.1Q/802.1ad tags and VN-Tag, Linux cooked capture, BSD loopback,
 * raw IP, PPP, Cisco HDLC; ARP, MPLS, PPPoE, IPv4 with options, IPv6 with
 * extension headers, TCP with options, UDP, ICMP and ICMPv6), the tunnels
 * (GRE with ERSPAN and PPTP, IP in IP, Teredo, VXLAN, Geneve), the decoder
 * statistics and the hand-off to defrag.c.
 *
 * The packet describes the innermost packet; every encapsulation on the way
 * is one entry of p->tunnel[] (at most OM_TUNNEL_MAX, then
 * decoder.too_many_layers and the packet stays what was decoded so far).
 * A header that does not really hold a tunnel (a UDP datagram to port 4789
 * without the VXLAN I flag, Teredo whose payload is not an IPv6 packet of
 * exactly that length) is plain UDP, not an anomaly.
 *
 * Every length read from a packet is checked before the bytes it covers are
 * touched; a packet that fails a check gets the first anomaly found in
 * p->anomaly and om_decode returns -EINVAL. Fields decoded before the problem
 * stay valid. Checksums are not verified (offloading makes captured checksums
 * unreliable). */
#include <errno.h>
#include <pcap/dlt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/defrag.h"

#define IPV6_MAX_EXTHDRS 8                /* extension headers followed before giving up */
#define MPLS_MAX_LABELS 16                /* label stack entries followed before giving up */
#define GRE_MAX_SRE 16                    /* GRE v0 source route entries */
#define TUNNEL_SEED 0x74756e6e656c3031ULL /* fixed: the discriminator is part of flow_id */

#define ETH_HLEN 14
#define SLL_HLEN 16
#define SLL2_HLEN 20
#define NULL_HLEN 4
#define IPV4_HLEN 20
#define IPV6_HLEN 40
#define TCP_HLEN 20
#define UDP_HLEN 8
#define ICMP_HLEN 8
#define ARP_HLEN 8

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_ARP 0x0806
#define ETHERTYPE_IPV6 0x86dd
#define ETHERTYPE_VLAN 0x8100
#define ETHERTYPE_QINQ 0x88a8
#define ETHERTYPE_QINQ_OLD 0x9100
#define ETHERTYPE_VNTAG 0x8926
#define ETHERTYPE_MPLS 0x8847
#define ETHERTYPE_MPLS_MC 0x8848
#define ETHERTYPE_PPPOE_DISC 0x8863
#define ETHERTYPE_PPPOE_SESS 0x8864
#define ETHERTYPE_TEB 0x6558 /* transparent Ethernet bridging */
#define ETHERTYPE_ERSPAN2 0x88be
#define ETHERTYPE_ERSPAN3 0x22eb
#define ETHERTYPE_PPP 0x880b
#define VNTAG_HLEN 6
#define PPPOE_HLEN 6
#define CHDLC_HLEN 4
#define VXLAN_HLEN 8
#define GENEVE_HLEN 8
#define PORT_TEREDO 3544
#define PORT_VXLAN 4789
#define PORT_GENEVE 6081

#define GRE_F_C 0x8000u /* checksum present */
#define GRE_F_R 0x4000u /* routing present */
#define GRE_F_K 0x2000u /* key present */
#define GRE_F_S 0x1000u /* sequence number present */
#define GRE_F_SSR 0x0800u
#define GRE_F_RECUR 0x0700u
#define GRE_F_A 0x0080u /* version 1: acknowledgment present */
#define GRE_F_FLAGS 0x0078u
#define GRE_F_VER 0x0007u

#define LINKTYPE_RAW 101 /* as written in files; libpcap usually maps it to DLT_RAW */
#define LINKTYPE_LOOP 108

enum {
	P_HOPOPTS = 0,
	P_ICMP = 1,
	P_IPIP = 4,
	P_TCP = 6,
	P_UDP = 17,
	P_IPV6 = 41,
	P_ROUTING = 43,
	P_FRAGMENT = 44,
	P_GRE = 47,
	P_ESP = 50,
	P_AH = 51,
	P_ICMPV6 = 58,
	P_NONE = 59,
	P_DSTOPTS = 60,
};

struct om_decoder {
	om_decode_stats st;
	om_defrag *df;
	/* reassembled datagrams: two, used in turn, so that a datagram rebuilt
	 * from fragments carried inside a rebuilt datagram has its own room */
	uint8_t *out[2];
	unsigned outi;
};

/* One decoding pass. d is NULL for om_decode_peek. */
struct dctx {
	om_decoder *d;
	om_decode_stats *st;
	bool peek;
	bool reasm; /* decoding a datagram rebuilt from fragments */
	/* raised (without failing the packet) when the next ethertype looked
	 * at is unknown: the payload type anomaly of VXLAN and Geneve */
	enum om_anomaly unknown;
};

static const char *const anomaly_names[OM_ANOM_COUNT] = {
    [OM_ANOM_NONE] = "none",
    [OM_ANOM_LINK_UNSUPPORTED] = "decoder.unsupported_linktype",
    [OM_ANOM_ETH_TRUNC] = "ethernet.pkt_too_small",
    [OM_ANOM_VLAN_TRUNC] = "vlan.header_too_small",
    [OM_ANOM_VLAN_TOO_MANY] = "vlan.too_many_layers",
    [OM_ANOM_ARP_TRUNC] = "arp.pkt_too_small",
    [OM_ANOM_ARP_INVALID] = "arp.invalid",
    [OM_ANOM_IPV4_TRUNC] = "ipv4.trunc_pkt",
    [OM_ANOM_IPV4_HLEN_TOO_SMALL] = "ipv4.hlen_too_small",
    [OM_ANOM_IPV4_IPLEN_SMALLER_THAN_HLEN] = "ipv4.iplen_smaller_than_hlen",
    [OM_ANOM_IPV4_OPT_INVALID] = "ipv4.opt_invalid_len",
    [OM_ANOM_IPV4_WRONG_VERSION] = "ipv4.wrong_ip_version",
    [OM_ANOM_IPV4_FRAG_OVERLAP] = "ipv4.frag_overlap",
    [OM_ANOM_IPV4_FRAG_TOO_LARGE] = "ipv4.frag_pkt_too_large",
    [OM_ANOM_IPV6_TRUNC] = "ipv6.trunc_pkt",
    [OM_ANOM_IPV6_WRONG_VERSION] = "ipv6.wrong_ip_version",
    [OM_ANOM_IPV6_EXTHDR_INVALID] = "ipv6.exthdr_invalid",
    [OM_ANOM_IPV6_EXTHDR_TOO_MANY] = "ipv6.exthdr_too_many",
    [OM_ANOM_IPV6_FRAG_OVERLAP] = "ipv6.frag_overlap",
    [OM_ANOM_IPV6_FRAG_TOO_LARGE] = "ipv6.frag_pkt_too_large",
    [OM_ANOM_FRAG_MEMCAP] = "defrag.memcap_reached",
    [OM_ANOM_TCP_TRUNC] = "tcp.pkt_too_small",
    [OM_ANOM_TCP_HLEN_TOO_SMALL] = "tcp.hlen_too_small",
    [OM_ANOM_TCP_OPT_INVALID] = "tcp.opt_invalid_len",
    [OM_ANOM_UDP_TRUNC] = "udp.hlen_too_small",
    [OM_ANOM_UDP_LEN_INVALID] = "udp.len_invalid",
    [OM_ANOM_UDP_PKT_TOO_SMALL] = "udp.pkt_too_small",
    [OM_ANOM_IPV4_PKT_TOO_SMALL] = "ipv4.pkt_too_small",
    [OM_ANOM_IPV6_PKT_TOO_SMALL] = "ipv6.pkt_too_small",
    [OM_ANOM_IPV6_TRUNC_EXTHDR] = "ipv6.trunc_exthdr",
    [OM_ANOM_TCP_INVALID_OPTLEN] = "tcp.invalid_optlen",
    [OM_ANOM_ICMPV4_TRUNC] = "icmpv4.pkt_too_small",
    [OM_ANOM_ICMPV6_TRUNC] = "icmpv6.pkt_too_small",
    [OM_ANOM_ICMPV6_IN_IPV4] = "ipv4.icmpv6",
    [OM_ANOM_TOO_MANY_LAYERS] = "decoder.too_many_layers",
    [OM_ANOM_GRE_TRUNC] = "gre.pkt_too_small",
    [OM_ANOM_GRE_WRONG_VERSION] = "gre.wrong_version",
    [OM_ANOM_GRE_V0_RECUR] = "gre.version0_recur",
    [OM_ANOM_GRE_V0_FLAGS] = "gre.version0_flags",
    [OM_ANOM_GRE_V0_HDR_TOO_BIG] = "gre.version0_hdr_too_big",
    [OM_ANOM_GRE_V0_MALFORMED_SRE] = "gre.version0_malformed_sre_hdr",
    [OM_ANOM_GRE_V1_CHKSUM] = "gre.version1_chksum",
    [OM_ANOM_GRE_V1_ROUTE] = "gre.version1_route",
    [OM_ANOM_GRE_V1_SSR] = "gre.version1_ssr",
    [OM_ANOM_GRE_V1_RECUR] = "gre.version1_recur",
    [OM_ANOM_GRE_V1_FLAGS] = "gre.version1_flags",
    [OM_ANOM_GRE_V1_NO_KEY] = "gre.version1_no_key",
    [OM_ANOM_GRE_V1_WRONG_PROTOCOL] = "gre.version1_wrong_protocol",
    [OM_ANOM_GRE_V1_HDR_TOO_BIG] = "gre.version1_hdr_too_big",
    [OM_ANOM_ERSPAN_TRUNC] = "erspan.header_too_small",
    [OM_ANOM_ERSPAN_UNSUPPORTED_VERSION] = "erspan.unsupported_version",
    [OM_ANOM_ERSPAN_TOO_MANY_VLAN] = "erspan.too_many_vlan_layers",
    [OM_ANOM_VXLAN_UNKNOWN_PAYLOAD] = "vxlan.unknown_payload_type",
    [OM_ANOM_GENEVE_UNKNOWN_PAYLOAD] = "geneve.unknown_payload_type",
    [OM_ANOM_MPLS_HDR_TRUNC] = "mpls.header_too_small",
    [OM_ANOM_MPLS_PKT_TRUNC] = "mpls.pkt_too_small",
    [OM_ANOM_MPLS_BAD_LABEL_ROUTER_ALERT] = "mpls.bad_label_router_alert",
    [OM_ANOM_MPLS_BAD_LABEL_IMPLICIT_NULL] = "mpls.bad_label_implicit_null",
    [OM_ANOM_MPLS_BAD_LABEL_RESERVED] = "mpls.bad_label_reserved",
    [OM_ANOM_MPLS_UNKNOWN_PAYLOAD] = "mpls.unknown_payload_type",
    [OM_ANOM_PPPOE_TRUNC] = "pppoe.pkt_too_small",
    [OM_ANOM_PPPOE_WRONG_CODE] = "pppoe.wrong_code",
    [OM_ANOM_PPPOE_MALFORMED_TAGS] = "pppoe.malformed_tags",
    [OM_ANOM_PPP_TRUNC] = "ppp.pkt_too_small",
    [OM_ANOM_PPP_IPV4_TRUNC] = "ppp.ip4_pkt_too_small",
    [OM_ANOM_PPP_IPV6_TRUNC] = "ppp.ip6_pkt_too_small",
    [OM_ANOM_PPP_WRONG_TYPE] = "ppp.wrong_type",
    [OM_ANOM_VNTAG_TRUNC] = "vntag.header_too_small",
    [OM_ANOM_CHDLC_TRUNC] = "chdlc.pkt_too_small",
    [OM_ANOM_IPV4_IN_IPV6_TRUNC] = "ipv6.ipv4_in_ipv6_too_small",
    [OM_ANOM_IPV4_IN_IPV6_WRONG_VERSION] = "ipv6.ipv4_in_ipv6_wrong_version",
    [OM_ANOM_IPV6_IN_IPV6_TRUNC] = "ipv6.ipv6_in_ipv6_too_small",
    [OM_ANOM_IPV6_IN_IPV6_WRONG_VERSION] = "ipv6.ipv6_in_ipv6_wrong_version",
};

static const char *const tunnel_names[OM_TUN_COUNT] = {
    [OM_TUN_NONE] = "none",   [OM_TUN_GRE] = "gre",       [OM_TUN_ERSPAN] = "erspan",
    [OM_TUN_PPTP] = "pptp",   [OM_TUN_IPIP] = "ipip",     [OM_TUN_6IN4] = "6in4",
    [OM_TUN_4IN6] = "4in6",   [OM_TUN_6IN6] = "6in6",     [OM_TUN_TEREDO] = "teredo",
    [OM_TUN_VXLAN] = "vxlan", [OM_TUN_GENEVE] = "geneve", [OM_TUN_MPLS] = "mpls",
    [OM_TUN_PPPOE] = "pppoe",
};

const char *om_tunnel_kind_name(enum om_tunnel_kind k)
{
	if ((unsigned)k >= OM_TUN_COUNT)
		return "unknown";
	return tunnel_names[k];
}

const char *om_anomaly_name(enum om_anomaly a)
{
	if ((unsigned)a >= OM_ANOM_COUNT || !anomaly_names[a])
		return "unknown";
	return anomaly_names[a];
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int bad(om_packet *p, enum om_anomaly a)
{
	if (p->anomaly == OM_ANOM_NONE)
		p->anomaly = a;
	return -EINVAL;
}

/* Records an anomaly without failing the packet. */
static void soft(om_packet *p, enum om_anomaly a)
{
	if (p->anomaly == OM_ANOM_NONE)
		p->anomaly = a;
}

static void reset_output(om_packet *p)
{
	p->flags = 0;
	p->anomaly = OM_ANOM_NONE;
	memset(p->vlan, 0, sizeof(p->vlan));
	p->vlan_count = 0;
	p->tunnel_count = 0;
	p->tunnel_id = 0;
	p->ip_ver = 0;
	p->proto = 0;
	p->ttl = 0;
	memset(&p->src, 0, sizeof(p->src));
	memset(&p->dst, 0, sizeof(p->dst));
	p->sport = p->dport = 0;
	p->icmp_type = p->icmp_code = 0;
	p->tcp_flags = 0;
	p->tcp_seq = p->tcp_ack = 0;
	p->tcp_win = 0;
	p->tcp_wscale = 0xff;
	p->l3 = NULL;
	p->l3_len = 0;
	p->payload = NULL;
	p->payload_len = 0;
}

/* ---- L4 ------------------------------------------------------------------ */

static int decode_ipv4(struct dctx *c, om_packet *p, const uint8_t *b, uint32_t len);
static int decode_ipv6(struct dctx *c, om_packet *p, const uint8_t *b, uint32_t len);
static int decode_gre(struct dctx *c, om_packet *p, const uint8_t *b, uint32_t len);
static int decode_ipip(struct dctx *c, om_packet *p, const uint8_t *b, uint32_t len, int inner);
static int decode_udp_tunnel(struct dctx *c, om_packet *p, const uint8_t *b, uint32_t len);

static int decode_tcp(struct dctx *c, om_packet *p, const uint8_t *b, uint32_t len)
{
	if (len < TCP_HLEN)
		return bad(p, OM_ANOM_TCP_TRUNC);
	p->flags |= OM_PKT_TCP | OM_PKT_HAS_PORTS;
	p->sport = rd16(b);
	p->dport = rd16(b + 2);
	p->tcp_seq = rd32(b + 4);
	p->tcp_ack = rd32(b + 8);
	p->tcp_flags = b[13];
	p->tcp_win = rd16(b + 14);
	uint32_t hlen = (uint32_t)(b[12] >> 4) * 4;
	if (hlen < TCP_HLEN)
		return bad(p, OM_ANOM_TCP_INVALID_OPTLEN);
	if (hlen > len)
		return bad(p, OM_ANOM_TCP_HLEN_TOO_SMALL);
	if (c->peek) {
		/* dispatch and scan detection read no option */
		p->payload = b + hlen;
		p->payload_len = len - hlen;
		return 0;
	}

	/* A bad option is an anomaly, not a reason to drop the segment: the
	 * receiving host keeps it (and so does Suricata), so the header length
	 * still gives the payload. What a bad option would have said (window
	 * scale) is not used; the walk stops at the first bad option. */
	uint8_t wscale = 0xff;
	bool opt_bad = false;
	for (uint32_t i = TCP_HLEN; i < hlen && !opt_bad;) {
		uint8_t kind = b[i];
		if (kind == 0) /* end of options */
			break;
		if (kind == 1) { /* no-op */
			i++;
			continue;
		}
		if (hlen - i < 2) {
			opt_bad = true;
			break;
		}
		uint32_t ol = b[i + 1];
		if (ol < 2 || ol > hlen - i) {
			opt_bad = true;
			break;
		}
		bool ok = true;
		switch (kind) {
		case 2: /* MSS */ ok = ol == 4; break;
		case 3: /* window scale; RFC 7323 caps the shift at 14 */
			ok = ol == 3;
			if (ok)
				wscale = b[i + 2] > 14 ? 14 : b[i + 2];
			break;
		case 4: /* SACK permitted */ ok = ol == 2; break;
		case 5: /* SACK: 1 to 4 blocks */
			ok = ol >= 10 && ol <= 34 && (ol - 2) % 8 == 0;
			break;
		case 8: /* timestamps */ ok = ol == 10; break;
		default: break;
		}
		if (!ok)
			opt_bad = true;
		i += ol;
	}
	if (opt_bad) {
		if (p->anomaly == OM_ANOM_NONE)
			p->anomaly = OM_ANOM_TCP_OPT_INVALID;
		wscale = 0xff;
	}
	p->tcp_wscale = wscale;
	p->payload = b + hlen;
	p->payload_len = len - hlen;
	c->st->tcp++;
	return 0;
}

static int decode_udp(struct dctx *c, om_packet *p, const uint8_t *b, uint32_t len)
{
	if (len < UDP_HLEN)
		return bad(p, OM_ANOM_UDP_TRUNC);
	p->flags |= OM_PKT_UDP | OM_PKT_HAS_PORTS;
	p->sport = rd16(b);
	p->dport = rd16(b + 2);
	uint32_t ulen = rd16(b + 4);
	if (ulen > len)
		return bad(p, OM_ANOM_UDP_PKT_TOO_SMALL);
	if (ulen < UDP_HLEN)
		return bad(p, OM_ANOM_UDP_LEN_INVALID);
	p->payload = b + UDP_HLEN;
	p->payload_len = ulen - UDP_HLEN;
	c->st->udp++;
	if (c->peek)
		return 0;
	return decode_udp_tunnel(c, p, p->payload, p->payload_len);
}

static int decode_icmp(struct dctx *c, om_packet *p, const uint8_t *b, uint32_t len,
                       enum om_anomaly trunc)
{
	if (len < ICMP_HLEN)
		return bad(p, trunc);
	p->flags |= OM_PKT_ICMP;
	p->icmp_type = b[0];
	p->icmp_code = b[1];
	p->payload = b + ICMP_HLEN;
	p->payload_len = len - ICMP_HLEN;
	c->st->icmp++;
	return 0;
}

static int decode_l4(struct dctx *c, om_packet *p, uint8_t proto, const uint8_t *b, uint32_t len)
{
	p->proto = proto;
	switch (proto) {
	case P_TCP: return decode_tcp(c, p, b, len);
	case P_UDP: return decode_udp(c, p, b, len);
	case P_ICMP:
		if (p->ip_ver == 4)
			return decode_icmp(c, p, b, len, OM_ANOM_ICMPV4_TRUNC);
		break;
	case P_ICMPV6:
		if (p->ip_ver == 6)
			return decode_icmp(c, p, b, len, OM_ANOM_ICMPV6_TRUNC);
		return bad(p, OM_ANOM_ICMPV6_IN_IPV4);
	default: break;
	}
	/* an opaque payload, unless it is a tunnel that decodes: then the
	 * inner packet replaces what is set here */
	p->payload = b;
	p->payload_len = len;
	if (!c->peek) {
		switch (proto) {
		case P_GRE: return decode_gre(c, p, b, len);
		case P_IPIP: return decode_ipip(c, p, b, len, 4);
		case P_IPV6: return decode_ipip(c, p, b, len, 6);
		default: break;
		}
	}
	c->st->other++;
	return 0;
}

/* Stateless look at the L4 header of a first fragment: whatever it holds. */
static void peek_l4(om_packet *p, uint8_t proto, const uint8_t *b, uint32_t len)
{
	p->proto = proto;
	if ((proto == P_TCP || proto == P_UDP) && len >= 4) {
		p->flags |= (proto == P_TCP ? OM_PKT_TCP : OM_PKT_UDP) | OM_PKT_HAS_PORTS;
		p->sport = rd16(b);
		p->dport = rd16(b + 2);
		if (proto == P_TCP && len >= 14)
			p->tcp_flags = b[13];
	} else if (((proto == P_ICMP && p->ip_ver == 4) || (proto == P_ICMPV6 && p->ip_ver == 6)) &&
	           len >= 2) {
		p->flags |= OM_PKT_ICMP;
		p->icmp_type = b[0];
		p->icmp_code = b[1];
	}
}

/* ---- IPv4 ---------------------------------------------------------------- */

/* An inner IP header replaces the outer packet's L3 and L4 fields. */
static void inner_reset(om_packet *p)
{
	if (!p->ip_ver)
		return;
	p->flags &= OM_PKT_REASSEMBLED | OM_PKT_TUNNEL;
	p->proto = 0;
	p->sport = p->dport = 0;
	p->icmp_type = p->icmp_code = 0;
	p->tcp_flags = 0;
	p->tcp_seq = p->tcp_ack = 0;
	p->tcp_win = 0;
	p->tcp_wscale = 0xff;
	p->payload = NULL;
	p->payload_len = 0;
}

static bool ipv4_options_valid(const uint8_t *h, uint32_t hlen)
{
	for (uint32_t i = IPV4_HLEN; i < hlen;) {
		uint8_t t = h[i];
		if (t == 0) /* end of list */
			break;
		if (t == 1) { /* no-op */
			i++;
			continue;
		}
		if (hlen - i < 2)
			return false;
		uint32_t ol = h[i + 1];
		if (ol < 2 || ol > hlen - i)
			return false;
		switch (t) {
		case 7:   /* record route */
		case 131: /* loose source route */
		case 137: /* strict source route */
			if (ol < 3 || (ol - 3) % 4 != 0 || h[i + 2] < 4)
				return false;
			break;
		case 68: /* timestamp */
			if (ol < 4 || h[i + 2] < 5)
				return false;
			break;
		case 130: /* security (RFC 1108) */
			if (ol < 3)
				return false;
			break;
		case 148: /* router alert */
			if (ol != 4)
				return false;
			break;
		case 25: /* quick-start */
			if (ol != 8)
				return false;
			break;
		default: break;
		}
		i += ol;
	}
	return true;
}

static int reassembled(struct dctx *c, om_packet *p, uint8_t ver, const uint8_t *out, uint32_t len)
{
	struct dctx rc = *c;
	rc.reasm = true;
	p->flags = (p->flags & ~OM_PKT_FRAGMENT) | OM_PKT_REASSEMBLED;
	return ver == 4 ? decode_ipv4(&rc, p, out, len) : decode_ipv6(&rc, p, out, len);
}

/* Fragments are keyed on their own IP header plus every VLAN id and the
 * tunnel discriminator of the layers around them, so that the same
 * datagram id in two tunnels never mixes. */
static int fragment(struct dctx *c, om_packet *p, om_frag_in *fi)
{
	enum om_anomaly an = OM_ANOM_NONE;
	uint32_t len = 0;
	fi->ts = p->ts;
	memcpy(fi->vlan, p->vlan, sizeof(fi->vlan));
	fi->tunnel = p->tunnel_id;
	fi->src = &p->src;
	fi->dst = &p->dst;
	uint8_t *out = c->d->out[c->d->outi];
	int r = om_defrag_insert(c->d->df, fi, out, &len, &an, c->st);
	if (an != OM_ANOM_NONE && p->anomaly == OM_ANOM_NONE)
		p->anomaly = an;
	if (r != 0)
		return r;
	c->d->outi ^= 1;
	return reassembled(c, p, fi->ver, out, len);
}

static int decode_ipv4(struct dctx *c, om_packet *p, const uint8_t *b, uint32_t len)
{
	if (len < IPV4_HLEN)
		return bad(p, OM_ANOM_IPV4_PKT_TOO_SMALL);
	if (b[0] >> 4 != 4)
		return bad(p, OM_ANOM_IPV4_WRONG_VERSION);
	uint32_t hlen = (uint32_t)(b[0] & 0x0f) * 4;
	if (hlen < IPV4_HLEN)
		return bad(p, OM_ANOM_IPV4_HLEN_TOO_SMALL);
	uint32_t iplen = rd16(b + 2);
	if (iplen < hlen)
		return bad(p, OM_ANOM_IPV4_IPLEN_SMALLER_THAN_HLEN);
	if (hlen > len || iplen > len)
		return bad(p, OM_ANOM_IPV4_TRUNC);

	inner_reset(p);
	p->ip_ver = 4;
	p->flags |= OM_PKT_IPV4;
	p->ttl = b[8];
	p->proto = b[9];
	om_addr_from_v4(&p->src, b + 12);
	om_addr_from_v4(&p->dst, b + 16);
	p->l3 = b;
	p->l3_len = iplen;
	if (!c->reasm)
		c->st->ipv4++;
	if (!ipv4_options_valid(b, hlen))
		return bad(p, OM_ANOM_IPV4_OPT_INVALID);

	uint16_t fo = rd16(b + 6);
	uint32_t off = (uint32_t)(fo & 0x1fff) * 8;
	bool more = fo & 0x2000;
	if (off || more) {
		p->flags |= OM_PKT_FRAGMENT;
		if (c->peek) {
			if (off == 0)
				peek_l4(p, b[9], b + hlen, iplen - hlen);
			return 0;
		}
		om_frag_in fi = {
		    .ver = 4,
		    .proto = b[9],
		    .id = rd16(b + 4),
		    .off = off,
		    .more = more,
		    .hdr = b,
		    .hdr_len = hlen,
		    .data = b + hlen,
		    .len = iplen - hlen,
		};
		return fragment(c, p, &fi);
	}
	return decode_l4(c, p, b[9], b + hlen, iplen - hlen);
}

/* ---- IPv6 ---------------------------------------------------------------- */

/* Hop-by-hop and destination options: a TLV list filling the header. */
static bool ipv6_options_valid(const uint8_t *o, uint32_t len)
{
	for (uint32_t i = 0; i < len;) {
		if (o[i] == 0) { /* Pad1 */
			i++;
			continue;
		}
		if (len - i < 2 || (uint32_t)o[i + 1] > len - i - 2)
			return false;
		i += 2u + o[i + 1];
	}
	return true;
}

static int decode_ipv6(struct dctx *c, om_packet *p, const uint8_t *b, uint32_t len)
{
	if (len < IPV6_HLEN)
		return bad(p, OM_ANOM_IPV6_PKT_TOO_SMALL);
	if (b[0] >> 4 != 6)
		return bad(p, OM_ANOM_IPV6_WRONG_VERSION);
	uint32_t end = IPV6_HLEN + rd16(b + 4);
	if (end > len)
		return bad(p, OM_ANOM_IPV6_TRUNC);

	inner_reset(p);
	p->ip_ver = 6;
	p->flags |= OM_PKT_IPV6;
	p->ttl = b[7];
	memcpy(p->src.b, b + 8, 16);
	memcpy(p->dst.b, b + 24, 16);
	p->l3 = b;
	p->l3_len = end;
	if (!c->reasm)
		c->st->ipv6++;

	uint8_t nh = b[6];
	uint32_t off = IPV6_HLEN, nh_off = 6, count = 0;
	bool seen_frag = c->reasm; /* a rebuilt datagram holds no fragment header */
	for (;;) {
		uint32_t hl;
		switch (nh) {
		case P_HOPOPTS:
		case P_ROUTING:
		case P_DSTOPTS:
		case P_AH:
			if (nh == P_HOPOPTS && off != IPV6_HLEN)
				return bad(p, OM_ANOM_IPV6_EXTHDR_INVALID);
			if (++count > IPV6_MAX_EXTHDRS)
				return bad(p, OM_ANOM_IPV6_EXTHDR_TOO_MANY);
			if (end - off < 2)
				return bad(p, OM_ANOM_IPV6_TRUNC_EXTHDR);
			if (nh == P_AH) {
				if (b[off + 1] < 1) /* the fixed part alone is 12 bytes */
					return bad(p, OM_ANOM_IPV6_EXTHDR_INVALID);
				hl = ((uint32_t)b[off + 1] + 2) * 4;
			} else {
				hl = ((uint32_t)b[off + 1] + 1) * 8;
			}
			if (hl > end - off)
				return bad(p, OM_ANOM_IPV6_TRUNC_EXTHDR);
			if ((nh == P_HOPOPTS || nh == P_DSTOPTS) &&
			    !ipv6_options_valid(b + off + 2, hl - 2))
				return bad(p, OM_ANOM_IPV6_EXTHDR_INVALID);
			nh_off = off;
			nh = b[off];
			off += hl;
			continue;
		case P_FRAGMENT: {
			if (++count > IPV6_MAX_EXTHDRS)
				return bad(p, OM_ANOM_IPV6_EXTHDR_TOO_MANY);
			if (end - off < 8)
				return bad(p, OM_ANOM_IPV6_TRUNC_EXTHDR);
			if (seen_frag)
				return bad(p, OM_ANOM_IPV6_EXTHDR_INVALID);
			seen_frag = true;
			uint8_t fnh = b[off];
			uint16_t fo = rd16(b + off + 2);
			uint32_t foff = fo & 0xfff8u;
			bool more = fo & 1;
			if (foff == 0 && !more) { /* atomic fragment (RFC 6946) */
				nh_off = off;
				nh = fnh;
				off += 8;
				continue;
			}
			p->flags |= OM_PKT_FRAGMENT;
			if (c->peek) {
				p->proto = fnh;
				if (foff == 0)
					peek_l4(p, fnh, b + off + 8, end - off - 8);
				return 0;
			}
			om_frag_in fi = {
			    .ver = 6,
			    .proto = fnh,
			    .id = rd32(b + off + 4),
			    .off = foff,
			    .more = more,
			    .hdr = b,
			    .hdr_len = off,
			    .nh_off = nh_off,
			    .data = b + off + 8,
			    .len = end - off - 8,
			};
			p->proto = fnh;
			return fragment(c, p, &fi);
		}
		default:
			/* ESP (50), no next header (59) and unknown values end the
			 * chain: what follows is handed on as an opaque payload */
			return decode_l4(c, p, nh, b + off, end - off);
		}
	}
}

/* ---- tunnels ------------------------------------------------------------- */

static int decode_ethertype(struct dctx *c, om_packet *p, uint16_t type, const uint8_t *b,
                            uint32_t len);
static int decode_mpls(struct dctx *c, om_packet *p, const uint8_t *b, uint32_t len);

/* Mixes one layer into the tunnel discriminator. The outer addresses go in
 * lower first so that both directions of a tunnel give the same value. Left
 * out because they differ between the two directions of one inner flow:
 * MPLS labels (each hop and direction has its own), PPTP call ids (each end
 * names the other's) and UDP ports (VXLAN and Geneve pick the source port
 * per inner flow). Never 0 once a layer is in. */
static uint32_t layer_mix(uint32_t acc, const om_tunnel_layer *t)
{
	if (t->kind == OM_TUN_MPLS)
		return acc;
	uint8_t buf[1 + 32 + 4 + 4];
	const om_addr *a = &t->src, *b = &t->dst;
	if (memcmp(a->b, b->b, 16) > 0) {
		a = &t->dst;
		b = &t->src;
	}
	uint32_t id = t->kind == OM_TUN_PPTP ? 0 : t->id;
	buf[0] = t->kind;
	memcpy(buf + 1, a->b, 16);
	memcpy(buf + 17, b->b, 16);
	memcpy(buf + 33, &id, 4);
	memcpy(buf + 37, &acc, 4);
	uint32_t h = (uint32_t)om_hash64(buf, sizeof(buf), TUNNEL_SEED);
	return h ? h : 1;
}

/* Adds a layer; ip: carried by the IP header decoded last (its addresses
 * and UDP ports are recorded). NULL when OM_TUNNEL_MAX layers are already
 * in: decoder.too_many_layers is raised and the caller stops there. */
static om_tunnel_layer *tunnel_push(struct dctx *c, om_packet *p, enum om_tunnel_kind kind,
                                    uint32_t id, bool ip)
{
	if (p->tunnel_count >= OM_TUNNEL_MAX) {
		soft(p, OM_ANOM_TOO_MANY_LAYERS);
		return NULL;
	}
	om_tunnel_layer *t = &p->tunnel[p->tunnel_count++];
	memset(t, 0, sizeof(*t));
	t->kind = (uint8_t)kind;
	t->id = id;
	t->vlan_count = p->vlan_count;
	if (ip && p->ip_ver) {
		t->ip_ver = p->ip_ver;
		t->proto = p->proto;
		t->src = p->src;
		t->dst = p->dst;
		t->l3_len = p->l3_len;
		t->reassembled = (p->flags & OM_PKT_REASSEMBLED) != 0;
		if (p->flags & OM_PKT_UDP) {
			t->sport = p->sport;
			t->dport = p->dport;
		}
		p->flags |= OM_PKT_TUNNEL;
	}
	p->tunnel_id = layer_mix(p->tunnel_id, t);
	c->st->tunnel[kind]++;
	return t;
}

/* The depth limit was reached: the packet is what was decoded so far (an
 * outer packet with an opaque payload), or invalid if that is no IP packet. */
static int stop_deep(om_packet *p)
{
	return p->ip_ver ? 0 : -EINVAL;
}

/* A context for what a tunnel carries: fragments inside are their own. */
static struct dctx inner_ctx(const struct dctx *c)
{
	struct dctx ic = *c;
	ic.reasm = false;
	ic.unknown = OM_ANOM_NONE;
	return ic;
}

static int decode_eth(struct dctx *c, om_packet *p, const uint8_t *b, uint32_t len)
{
	if (len < ETH_HLEN)
		return bad(p, OM_ANOM_ETH_TRUNC);
	return decode_ethertype(c, p, rd16(b + 12), b + ETH_HLEN, len - ETH_HLEN);
}

/* PPP: an optional address and control pair (0xff 0x03) when hdlc, then
 * the protocol, one byte when compressed (odd first byte). IPv4 and IPv6
 * are decoded; other valid protocols (LCP, IPCP, compressed data...) are
 * counted and consumed. */
static int decode_ppp(struct dctx *c, om_packet *p, const uint8_t *b, uint32_t len, bool hdlc)
{
	if (hdlc && len >= 2 && b[0] == 0xff && b[1] == 0x03) {
		b += 2;
		len -= 2;
	}
	if (len < 1)
		return bad(p, OM_ANOM_PPP_TRUNC);
	uint16_t proto;
	if (b[0] & 1) {
		proto = b[0];
		b++;
		len--;
	} else {
		if (len < 2)
			return bad(p, OM_ANOM_PPP_TRUNC);
		proto = rd16(b);
		b += 2;
		len -= 2;
	}
	/* RFC 1661: the low bit of the high byte is 0, of the low byte 1 */
	if (!(proto & 1) || (proto & 0x100))
		return bad(p, OM_ANOM_PPP_WRONG_TYPE);
	switch (proto) {
	case 0x0021:
		if (len < IPV4_HLEN)
			return bad(p, OM_ANOM_PPP_IPV4_TRUNC);
		return decode_ipv4(c, p, b, len);
	case 0x0057:
		if (len < IPV6_HLEN)
			return bad(p, OM_ANOM_PPP_IPV6_TRUNC);
		return decode_ipv6(c, p, b, len);
	default: c->st->other++; return 1;
	}
}

static int decode_pppoe_session(struct dctx *c, om_packet *p, const uint8_t *b, uint32_t len)
{
	if (len < PPPOE_HLEN)
		return bad(p, OM_ANOM_PPPOE_TRUNC);
	if (b[1] != 0) /* session data has code 0 */
		return bad(p, OM_ANOM_PPPOE_WRONG_CODE);
	uint32_t plen = rd16(b + 4);
	if (plen > len - PPPOE_HLEN)
		return bad(p, OM_ANOM_PPPOE_TRUNC);
	if (!tunnel_push(c, p, OM_TUN_PPPOE, rd16(b + 2), false))
		return stop_deep(p);
	struct dctx ic = inner_ctx(c);
	return decode_ppp(&ic, p, b + PPPOE_HLEN, plen, false);
}

/* Discovery (PADI, PADO, PADR, PADS, PADT): checked, counted, consumed. */
static int decode_pppoe_discovery(struct dctx *c, om_packet *p, const uint8_t *b, uint32_t len)
{
	c->st->pppoe_discovery++;
	if (len < PPPOE_HLEN)
		return bad(p, OM_ANOM_PPPOE_TRUNC);
	switch (b[1]) {
	case 0x09:
	case 0x07:
	case 0x19:
	case 0x65:
	case 0xa7: break;
	default: return bad(p, OM_ANOM_PPPOE_WRONG_CODE);
	}
	uint32_t plen = rd16(b + 4);
	if (plen > len - PPPOE_HLEN)
		return bad(p, OM_ANOM_PPPOE_TRUNC);
	const uint8_t *t = b + PPPOE_HLEN;
	for (uint32_t i = 0; i < plen;) {
		if (plen - i < 4)
			return bad(p, OM_ANOM_PPPOE_MALFORMED_TAGS);
		uint32_t type = rd16(t + i), tl = rd16(t + i + 2);
		if (tl > plen - i - 4)
			return bad(p, OM_ANOM_PPPOE_MALFORMED_TAGS);
		i += 4 + tl;
		if (type == 0) /* end of list */
			break;
	}
	return 1;
}

/* MPLS: the label stack to its bottom entry, then by the bottom label
 * (explicit null IPv4 or IPv6; router alert, implicit null and the other
 * reserved labels are anomalies) or else by the first nibble: IPv4, IPv6,
 * or 0 for a pseudowire control word followed by Ethernet. */
static int decode_mpls(struct dctx *c, om_packet *p, const uint8_t *b, uint32_t len)
{
	uint32_t label;
	for (unsigned n = 0;; n++) {
		if (n >= MPLS_MAX_LABELS)
			return bad(p, OM_ANOM_TOO_MANY_LAYERS);
		if (len < 4)
			return bad(p, OM_ANOM_MPLS_HDR_TRUNC);
		uint32_t e = rd32(b);
		label = e >> 12;
		b += 4;
		len -= 4;
		if (e & 0x100) /* bottom of stack */
			break;
	}
	if (len == 0)
		return bad(p, OM_ANOM_MPLS_PKT_TRUNC);
	switch (label) {
	case 1: return bad(p, OM_ANOM_MPLS_BAD_LABEL_ROUTER_ALERT);
	case 3: return bad(p, OM_ANOM_MPLS_BAD_LABEL_IMPLICIT_NULL);
	case 0:
	case 2: break;
	default:
		if (label < 16)
			return bad(p, OM_ANOM_MPLS_BAD_LABEL_RESERVED);
		break;
	}
	unsigned nib = label == 0 ? 4 : label == 2 ? 6 : b[0] >> 4u;
	if (nib != 4 && nib != 6 && nib != 0)
		return bad(p, OM_ANOM_MPLS_UNKNOWN_PAYLOAD);
	if (!tunnel_push(c, p, OM_TUN_MPLS, label, false))
		return stop_deep(p);
	struct dctx ic = inner_ctx(c);
	if (nib == 4)
		return decode_ipv4(&ic, p, b, len);
	if (nib == 6)
		return decode_ipv6(&ic, p, b, len);
	if (len < 4)
		return bad(p, OM_ANOM_MPLS_PKT_TRUNC);
	return decode_eth(&ic, p, b + 4, len - 4);
}

/* ERSPAN: type I is GRE 0x88be without a sequence number and no header of
 * its own; type II (version 1) has 8 bytes, type III (version 2) 12 plus an
 * optional 8-byte platform subheader. Ethernet follows (type III: frame
 * type 0; frame type 2, an IP packet, by its first nibble). A VLAN id in
 * the header (the mirrored frame's, when the mirror stripped its tag) is
 * added to the packet's tags, as Suricata does. */
static int decode_erspan(struct dctx *c, om_packet *p, const uint8_t *b, uint32_t len,
                         uint16_t proto, bool seq)
{
	uint32_t id = 0, hl = 0, vlan = 0;
	unsigned ft = 0;
	if (proto == ETHERTYPE_ERSPAN2 && seq) {
		if (len < 8)
			return bad(p, OM_ANOM_ERSPAN_TRUNC);
		if (b[0] >> 4 != 1)
			return bad(p, OM_ANOM_ERSPAN_UNSUPPORTED_VERSION);
		vlan = rd16(b) & 0x0fffu;
		id = rd16(b + 2) & 0x3ffu;
		hl = 8;
	} else if (proto == ETHERTYPE_ERSPAN3) {
		if (len < 12)
			return bad(p, OM_ANOM_ERSPAN_TRUNC);
		if (b[0] >> 4 != 2)
			return bad(p, OM_ANOM_ERSPAN_UNSUPPORTED_VERSION);
		vlan = rd16(b) & 0x0fffu;
		id = rd16(b + 2) & 0x3ffu;
		ft = (b[10] >> 2) & 0x1fu;
		hl = (b[11] & 1) ? 20 : 12;
		if (len < hl)
			return bad(p, OM_ANOM_ERSPAN_TRUNC);
		if (ft != 0 && ft != 2) {
			c->st->other++;
			return 0;
		}
	}
	if (!tunnel_push(c, p, OM_TUN_ERSPAN, id, true))
		return stop_deep(p);
	if (vlan) {
		if (p->vlan_count >= OM_VLAN_MAX)
			return bad(p, OM_ANOM_ERSPAN_TOO_MANY_VLAN);
		p->vlan[p->vlan_count++] = (uint16_t)vlan;
	}
	struct dctx ic = inner_ctx(c);
	b += hl;
	len -= hl;
	if (ft == 2) {
		if (len >= 1 && b[0] >> 4 == 6)
			return decode_ipv6(&ic, p, b, len);
		return decode_ipv4(&ic, p, b, len);
	}
	return decode_eth(&ic, p, b, len);
}

/* GRE version 0 (RFC 2784, with the key and sequence number of RFC 2890
 * and the source routes of RFC 1701) and version 1, the enhanced GRE of
 * PPTP (RFC 2637). The header checks and their anomalies follow Suricata's
 * decoder. A GRE payload of another protocol is left opaque. */
static int decode_gre(struct dctx *c, om_packet *p, const uint8_t *b, uint32_t len)
{
	if (len < 4)
		return bad(p, OM_ANOM_GRE_TRUNC);
	uint32_t fl = rd16(b);
	uint16_t proto = rd16(b + 2);
	uint32_t hl = 4, id = 0;
	enum om_tunnel_kind kind = OM_TUN_GRE;

	switch (fl & GRE_F_VER) {
	case 0:
		if (fl & GRE_F_RECUR)
			return bad(p, OM_ANOM_GRE_V0_RECUR);
		if (fl & (GRE_F_FLAGS | GRE_F_A))
			return bad(p, OM_ANOM_GRE_V0_FLAGS);
		if (fl & (GRE_F_C | GRE_F_R))
			hl += 4; /* checksum and offset */
		if (fl & GRE_F_K)
			hl += 4;
		if (fl & GRE_F_S)
			hl += 4;
		if (hl > len)
			return bad(p, OM_ANOM_GRE_V0_HDR_TOO_BIG);
		if (fl & GRE_F_K)
			id = rd32(b + ((fl & (GRE_F_C | GRE_F_R)) ? 8 : 4));
		if (fl & GRE_F_R) {
			/* source route entries up to the null one */
			for (unsigned n = 0;; n++) {
				if (n >= GRE_MAX_SRE || len - hl < 4)
					return bad(p, OM_ANOM_GRE_V0_MALFORMED_SRE);
				uint32_t af = rd16(b + hl), sl = b[hl + 3];
				hl += 4;
				if (af == 0 && sl == 0)
					break;
				if (sl > len - hl)
					return bad(p, OM_ANOM_GRE_V0_MALFORMED_SRE);
				hl += sl;
			}
		}
		break;
	case 1:
		if (fl & GRE_F_C)
			return bad(p, OM_ANOM_GRE_V1_CHKSUM);
		if (fl & GRE_F_R)
			return bad(p, OM_ANOM_GRE_V1_ROUTE);
		if (fl & GRE_F_SSR)
			return bad(p, OM_ANOM_GRE_V1_SSR);
		if (fl & GRE_F_RECUR)
			return bad(p, OM_ANOM_GRE_V1_RECUR);
		if (fl & GRE_F_FLAGS)
			return bad(p, OM_ANOM_GRE_V1_FLAGS);
		if (!(fl & GRE_F_K))
			return bad(p, OM_ANOM_GRE_V1_NO_KEY);
		if (proto != ETHERTYPE_PPP)
			return bad(p, OM_ANOM_GRE_V1_WRONG_PROTOCOL);
		hl = 8 + ((fl & GRE_F_S) ? 4 : 0) + ((fl & GRE_F_A) ? 4 : 0);
		if (hl > len)
			return bad(p, OM_ANOM_GRE_V1_HDR_TOO_BIG);
		id = rd16(b + 6); /* call id */
		kind = OM_TUN_PPTP;
		/* the key's payload length bounds the PPP frame */
		if (rd16(b + 4) < len - hl)
			len = hl + rd16(b + 4);
		if (!(fl & GRE_F_S) || len == hl) {
			/* an acknowledgment alone: nothing inside */
			c->st->other++;
			return 0;
		}
		break;
	default: return bad(p, OM_ANOM_GRE_WRONG_VERSION);
	}
	b += hl;
	len -= hl;

	switch (proto) {
	case ETHERTYPE_ERSPAN2:
	case ETHERTYPE_ERSPAN3: return decode_erspan(c, p, b, len, proto, (fl & GRE_F_S) != 0);
	case ETHERTYPE_IPV4:
	case ETHERTYPE_IPV6:
	case ETHERTYPE_TEB:
	case ETHERTYPE_MPLS:
	case ETHERTYPE_MPLS_MC: break;
	case ETHERTYPE_PPP:
		if (kind == OM_TUN_PPTP)
			break;
		/* fall through */
	default: c->st->other++; return 0;
	}
	if (!tunnel_push(c, p, kind, id, true))
		return stop_deep(p);
	struct dctx ic = inner_ctx(c);
	switch (proto) {
	case ETHERTYPE_IPV4: return decode_ipv4(&ic, p, b, len);
	case ETHERTYPE_IPV6: return decode_ipv6(&ic, p, b, len);
	case ETHERTYPE_TEB: return decode_eth(&ic, p, b, len);
	case ETHERTYPE_PPP: return decode_ppp(&ic, p, b, len, true);
	default: return decode_mpls(&ic, p, b, len);
	}
}

/* IPv4 (protocol 4) or IPv6 (41) inside IPv4 or IPv6. */
static int decode_ipip(struct dctx *c, om_packet *p, const uint8_t *b, uint32_t len, int inner)
{
	enum om_tunnel_kind kind;
	if (p->ip_ver == 6) {
		kind = inner == 4 ? OM_TUN_4IN6 : OM_TUN_6IN6;
		if (inner == 4 && len < IPV4_HLEN)
			return bad(p, OM_ANOM_IPV4_IN_IPV6_TRUNC);
		if (inner == 4 && b[0] >> 4 != 4)
			return bad(p, OM_ANOM_IPV4_IN_IPV6_WRONG_VERSION);
		if (inner == 6 && len < IPV6_HLEN)
			return bad(p, OM_ANOM_IPV6_IN_IPV6_TRUNC);
		if (inner == 6 && b[0] >> 4 != 6)
			return bad(p, OM_ANOM_IPV6_IN_IPV6_WRONG_VERSION);
	} else {
		kind = inner == 4 ? OM_TUN_IPIP : OM_TUN_6IN4;
	}
	if (!tunnel_push(c, p, kind, 0, true))
		return stop_deep(p);
	struct dctx ic = inner_ctx(c);
	return inner == 4 ? decode_ipv4(&ic, p, b, len) : decode_ipv6(&ic, p, b, len);
}

/* VXLAN (RFC 7348): the I flag must be set; Ethernet follows. */
static int decode_vxlan(struct dctx *c, om_packet *p, const uint8_t *b, uint32_t len)
{
	if (len < VXLAN_HLEN + ETH_HLEN || !(b[0] & 0x08))
		return 0;
	if (!tunnel_push(c, p, OM_TUN_VXLAN, rd32(b + 4) >> 8, true))
		return 0;
	struct dctx ic = inner_ctx(c);
	ic.unknown = OM_ANOM_VXLAN_UNKNOWN_PAYLOAD;
	return decode_eth(&ic, p, b + VXLAN_HLEN, len - VXLAN_HLEN);
}

/* Geneve (RFC 8926): version 0, options that fill their announced length
 * exactly, then Ethernet, IPv4 or IPv6 by the protocol type. */
static int decode_geneve(struct dctx *c, om_packet *p, const uint8_t *b, uint32_t len)
{
	if (len < GENEVE_HLEN || b[0] >> 6 != 0)
		return 0;
	uint32_t end = GENEVE_HLEN + (uint32_t)(b[0] & 0x3f) * 4;
	if (end > len)
		return 0;
	for (uint32_t i = GENEVE_HLEN; i < end;) {
		if (end - i < 4)
			return 0;
		uint32_t ol = 4 + (uint32_t)(b[i + 3] & 0x1f) * 4;
		if (ol > end - i)
			return 0;
		i += ol;
	}
	uint16_t proto = rd16(b + 2);
	if (proto != ETHERTYPE_TEB && proto != ETHERTYPE_IPV4 && proto != ETHERTYPE_IPV6) {
		soft(p, OM_ANOM_GENEVE_UNKNOWN_PAYLOAD);
		return 0;
	}
	if (!tunnel_push(c, p, OM_TUN_GENEVE, rd32(b + 4) >> 8, true))
		return 0;
	struct dctx ic = inner_ctx(c);
	ic.unknown = OM_ANOM_GENEVE_UNKNOWN_PAYLOAD;
	b += end;
	len -= end;
	switch (proto) {
	case ETHERTYPE_IPV4: return decode_ipv4(&ic, p, b, len);
	case ETHERTYPE_IPV6: return decode_ipv6(&ic, p, b, len);
	default: return decode_eth(&ic, p, b, len);
	}
}

/* Teredo (RFC 4380): an optional authentication header (0x0001) and origin
 * indication (0x0000), then an IPv6 packet that fills the datagram exactly.
 * Anything else on port 3544 is plain UDP. */
static int decode_teredo(struct dctx *c, om_packet *p, const uint8_t *b, uint32_t len)
{
	if (len >= 2 && b[0] == 0 && b[1] == 1) {
		if (len < 13)
			return 0;
		uint32_t al = 13u + b[2] + b[3]; /* 4 + id + auth + nonce 8 + confirmation 1 */
		if (al > len)
			return 0;
		b += al;
		len -= al;
	}
	if (len >= 2 && b[0] == 0 && b[1] == 0) {
		if (len < 8)
			return 0;
		b += 8;
		len -= 8;
	}
	if (len < IPV6_HLEN || b[0] >> 4 != 6 || IPV6_HLEN + (uint32_t)rd16(b + 4) != len)
		return 0;
	if (!tunnel_push(c, p, OM_TUN_TEREDO, 0, true))
		return 0;
	struct dctx ic = inner_ctx(c);
	return decode_ipv6(&ic, p, b, len);
}

/* A UDP datagram that may carry a tunnel; 0 leaves it plain UDP. */
static int decode_udp_tunnel(struct dctx *c, om_packet *p, const uint8_t *b, uint32_t len)
{
	if (p->dport == PORT_VXLAN)
		return decode_vxlan(c, p, b, len);
	if (p->dport == PORT_GENEVE)
		return decode_geneve(c, p, b, len);
	if (p->sport == PORT_TEREDO || p->dport == PORT_TEREDO)
		return decode_teredo(c, p, b, len);
	return 0;
}

/* ---- link layer ---------------------------------------------------------- */

static int decode_arp(struct dctx *c, om_packet *p, const uint8_t *b, uint32_t len)
{
	if (len < ARP_HLEN)
		return bad(p, OM_ANOM_ARP_TRUNC);
	uint16_t htype = rd16(b), ptype = rd16(b + 2), op = rd16(b + 6);
	uint32_t hl = b[4], pl = b[5];
	if (hl == 0 || pl == 0 || op == 0 || op > 25 || (htype == 1 && hl != 6) ||
	    (ptype == ETHERTYPE_IPV4 && pl != 4))
		return bad(p, OM_ANOM_ARP_INVALID);
	if (len < ARP_HLEN + 2 * (hl + pl))
		return bad(p, OM_ANOM_ARP_TRUNC);
	p->flags |= OM_PKT_ARP;
	if (ptype == ETHERTYPE_IPV4) { /* sender and target protocol addresses */
		om_addr_from_v4(&p->src, b + ARP_HLEN + hl);
		om_addr_from_v4(&p->dst, b + ARP_HLEN + 2 * hl + pl);
	}
	c->st->arp++;
	return 1;
}

static int decode_ethertype(struct dctx *c, om_packet *p, uint16_t type, const uint8_t *b,
                            uint32_t len)
{
	bool vntag = false;
	for (;;) {
		if (type == ETHERTYPE_VLAN || type == ETHERTYPE_QINQ ||
		    type == ETHERTYPE_QINQ_OLD) {
			if (len < 4)
				return bad(p, OM_ANOM_VLAN_TRUNC);
			if (p->vlan_count >= OM_VLAN_MAX)
				return bad(p, OM_ANOM_VLAN_TOO_MANY);
			p->vlan[p->vlan_count++] = rd16(b) & 0x0fff;
			type = rd16(b + 2);
			b += 4;
			len -= 4;
		} else if (type == ETHERTYPE_VNTAG) {
			/* 4 bytes of tag, then the next ethertype; one per frame */
			if (len < VNTAG_HLEN)
				return bad(p, OM_ANOM_VNTAG_TRUNC);
			if (vntag)
				return bad(p, OM_ANOM_TOO_MANY_LAYERS);
			vntag = true;
			c->st->vntag++;
			type = rd16(b + 4);
			b += VNTAG_HLEN;
			len -= VNTAG_HLEN;
		} else {
			break;
		}
	}
	enum om_anomaly unknown = c->unknown;
	c->unknown = OM_ANOM_NONE;
	switch (type) {
	case ETHERTYPE_IPV4: return decode_ipv4(c, p, b, len);
	case ETHERTYPE_IPV6: return decode_ipv6(c, p, b, len);
	case ETHERTYPE_ARP: return decode_arp(c, p, b, len);
	case ETHERTYPE_MPLS:
	case ETHERTYPE_MPLS_MC: return decode_mpls(c, p, b, len);
	case ETHERTYPE_PPPOE_SESS: return decode_pppoe_session(c, p, b, len);
	case ETHERTYPE_PPPOE_DISC: return decode_pppoe_discovery(c, p, b, len);
	default:
		c->st->other++;
		if (unknown != OM_ANOM_NONE)
			soft(p, unknown);
		return 1;
	}
}

static int decode_raw(struct dctx *c, om_packet *p, const uint8_t *b, uint32_t len)
{
	if (len < 1)
		return bad(p, OM_ANOM_IPV4_PKT_TOO_SMALL);
	if (b[0] >> 4 == 6)
		return decode_ipv6(c, p, b, len);
	return decode_ipv4(c, p, b, len);
}

static int decode_null(struct dctx *c, om_packet *p, const uint8_t *b, uint32_t len)
{
	if (len < NULL_HLEN)
		return bad(p, OM_ANOM_ETH_TRUNC);
	/* the address family in the byte order of the capturing host (DLT_NULL)
	 * or in network order (DLT_LOOP): small numbers either way */
	uint32_t fam =
	    (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
	if (fam > 0xffff)
		fam = rd32(b);
	switch (fam) {
	case 2: /* AF_INET everywhere */ return decode_ipv4(c, p, b + NULL_HLEN, len - NULL_HLEN);
	case 10: /* AF_INET6: Linux */
	case 24: /* NetBSD, OpenBSD */
	case 28: /* FreeBSD */
	case 30: /* macOS */ return decode_ipv6(c, p, b + NULL_HLEN, len - NULL_HLEN);
	default: c->st->other++; return 1;
	}
}

/* Cisco HDLC: address, control, then an ethertype. */
static int decode_chdlc(struct dctx *c, om_packet *p, const uint8_t *b, uint32_t len)
{
	c->st->chdlc++;
	if (len < CHDLC_HLEN)
		return bad(p, OM_ANOM_CHDLC_TRUNC);
	return decode_ethertype(c, p, rd16(b + 2), b + CHDLC_HLEN, len - CHDLC_HLEN);
}

static int decode_link(struct dctx *c, om_packet *p)
{
	const uint8_t *b = p->raw;
	uint32_t len = b ? p->caplen : 0;
	static const uint8_t empty[1];
	if (!b)
		b = empty;

	switch (p->linktype) {
	case DLT_EN10MB:
		if (len < ETH_HLEN)
			return bad(p, OM_ANOM_ETH_TRUNC);
		return decode_ethertype(c, p, rd16(b + 12), b + ETH_HLEN, len - ETH_HLEN);
	case DLT_LINUX_SLL:
		if (len < SLL_HLEN)
			return bad(p, OM_ANOM_ETH_TRUNC);
		return decode_ethertype(c, p, rd16(b + 14), b + SLL_HLEN, len - SLL_HLEN);
	case DLT_LINUX_SLL2:
		if (len < SLL2_HLEN)
			return bad(p, OM_ANOM_ETH_TRUNC);
		return decode_ethertype(c, p, rd16(b), b + SLL2_HLEN, len - SLL2_HLEN);
	case DLT_RAW:
	case LINKTYPE_RAW: return decode_raw(c, p, b, len);
	case DLT_IPV4: return decode_ipv4(c, p, b, len);
	case DLT_IPV6: return decode_ipv6(c, p, b, len);
	case DLT_NULL:
	case LINKTYPE_LOOP: return decode_null(c, p, b, len);
	case DLT_PPP: c->st->ppp++; return decode_ppp(c, p, b, len, true);
	case DLT_PPP_SERIAL:
		/* RFC 1662 framing, or Cisco HDLC framing (address 0x0f/0x8f) */
		if (len >= 1 && (b[0] == 0x0f || b[0] == 0x8f))
			return decode_chdlc(c, p, b, len);
		c->st->ppp++;
		return decode_ppp(c, p, b, len, true);
	case DLT_PPP_ETHER: return decode_pppoe_session(c, p, b, len);
	case DLT_C_HDLC: return decode_chdlc(c, p, b, len);
	default: return bad(p, OM_ANOM_LINK_UNSUPPORTED);
	}
}

/* ---- public -------------------------------------------------------------- */

om_decoder *om_decoder_new(uint64_t memcap, uint32_t max_trackers, uint32_t timeout)
{
	om_decoder *d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->out[0] = malloc(OM_DEFRAG_OUT_MAX);
	d->out[1] = malloc(OM_DEFRAG_OUT_MAX);
	d->df = om_defrag_new(memcap, max_trackers, timeout ? timeout : 60);
	if (!d->out[0] || !d->out[1] || !d->df)
		return om_decoder_free(d);
	return d;
}

om_decoder *om_decoder_free(om_decoder *d)
{
	if (!d)
		return NULL;
	om_defrag_free(d->df);
	free(d->out[0]);
	free(d->out[1]);
	free(d);
	return NULL;
}

int om_decode(om_decoder *d, om_packet *p)
{
	struct dctx c = {.d = d, .st = &d->st};
	reset_output(p);
	d->st.packets++;
	d->st.bytes += p->caplen;
	om_defrag_expire(d->df, p->ts, &d->st);
	int r = decode_link(&c, p);
	if (p->anomaly != OM_ANOM_NONE) {
		d->st.invalid++;
		d->st.anomaly[p->anomaly]++;
	}
	return r;
}

const om_decode_stats *om_decoder_stats(const om_decoder *d)
{
	return &d->st;
}

/* What a peek counts is never read: one scratch per thread, not cleared
 * (clearing the anomaly counters was most of a peek's stores). */
static _Thread_local om_decode_stats peek_scratch;

int om_decode_peek(om_packet *p)
{
	struct dctx c = {.st = &peek_scratch, .peek = true};
	reset_output(p);
	int r = decode_link(&c, p);
	if (p->ip_ver != 0)
		return 0;
	return r < 0 ? r : -ENOENT;
}

const om_tunnel_layer *om_tunnel_root(const om_tunnel_layer *t, unsigned n, unsigned *ret_depth)
{
	const om_tunnel_layer *root = NULL;
	unsigned depth = 0;
	for (unsigned i = 0; i < n && i < OM_TUNNEL_MAX; i++) {
		if (!t[i].ip_ver)
			continue;
		if (!root)
			root = &t[i];
		depth++;
	}
	if (ret_depth)
		*ret_depth = depth;
	return root;
}

int om_packet_outer(const om_packet *p, om_packet *ret)
{
	const om_tunnel_layer *t = om_tunnel_root(p->tunnel, p->tunnel_count, NULL);
	if (!t)
		return -ENOENT;
	memset(ret, 0, sizeof(*ret));
	ret->ts = p->ts;
	ret->raw = p->raw;
	ret->caplen = p->caplen;
	ret->wirelen = p->wirelen;
	ret->linktype = p->linktype;
	ret->flags = t->ip_ver == 4 ? OM_PKT_IPV4 : OM_PKT_IPV6;
	if (t->reassembled) {
		/* a rebuilt datagram counts once, from its IP header, as every
		 * reassembled packet does in its flow */
		ret->flags |= OM_PKT_REASSEMBLED;
		ret->l3_len = t->l3_len;
	}
	if (t->proto == P_UDP)
		ret->flags |= OM_PKT_UDP | OM_PKT_HAS_PORTS;
	ret->ip_ver = t->ip_ver;
	ret->proto = t->proto;
	ret->src = t->src;
	ret->dst = t->dst;
	ret->sport = t->sport;
	ret->dport = t->dport;
	ret->tcp_wscale = 0xff;
	ret->vlan_count = t->vlan_count;
	memcpy(ret->vlan, p->vlan, sizeof(uint16_t) * t->vlan_count);
	return 0;
}

static const char *outer_proto_name(uint8_t proto, char *tmp, size_t n)
{
	switch (proto) {
	case P_UDP: return "UDP";
	case P_GRE: return "GRE";
	case P_IPIP: return "IPv4";
	case P_IPV6: return "IPv6";
	default: snprintf(tmp, n, "%u", proto); return tmp;
	}
}

void om_tunnel_json(om_json *j, const om_tunnel_layer *root, unsigned depth, uint64_t pcap_cnt)
{
	if (!root)
		return;
	char src[64], dst[64], tmp[8];
	om_addr_str(&root->src, src, sizeof(src));
	om_addr_str(&root->dst, dst, sizeof(dst));
	om_json_obj_open(j, "tunnel");
	om_json_str(j, "src_ip", src);
	om_json_u64(j, "src_port", root->sport);
	om_json_str(j, "dest_ip", dst);
	om_json_u64(j, "dest_port", root->dport);
	om_json_str(j, "proto", outer_proto_name(root->proto, tmp, sizeof(tmp)));
	om_json_u64(j, "depth", depth);
	if (pcap_cnt) {
		om_json_u64(j, "pcap_cnt", pcap_cnt);
		om_json_str(j, "pkt_src", "wire/pcap");
	}
	om_json_obj_close(j);
}
