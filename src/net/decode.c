/* decode.c: packet decoding from the link layer to L4 (Ethernet with 802.1Q
 * and QinQ tags, Linux cooked capture, BSD loopback, raw IP; ARP, IPv4 with
 * options, IPv6 with extension headers, TCP with options, UDP, ICMP and
 * ICMPv6), the decoder statistics and the hand-off to defrag.c.
 *
 * Every length read from a packet is checked before the bytes it covers are
 * touched; a packet that fails a check gets the first anomaly found in
 * p->anomaly and om_decode returns -EINVAL. Fields decoded before the problem
 * stay valid. Checksums are not verified (offloading makes captured checksums
 * unreliable). */
#include <errno.h>
#include <pcap/dlt.h>
#include <stdlib.h>
#include <string.h>

#include "net/defrag.h"

#define IPV6_MAX_EXTHDRS 8 /* extension headers followed before giving up */
#define VLAN_MAX 2

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

#define LINKTYPE_RAW 101 /* as written in files; libpcap usually maps it to DLT_RAW */
#define LINKTYPE_LOOP 108

enum {
	P_HOPOPTS = 0,
	P_ICMP = 1,
	P_TCP = 6,
	P_UDP = 17,
	P_ROUTING = 43,
	P_FRAGMENT = 44,
	P_ESP = 50,
	P_AH = 51,
	P_ICMPV6 = 58,
	P_NONE = 59,
	P_DSTOPTS = 60,
};

struct om_decoder {
	om_decode_stats st;
	om_defrag *df;
	uint8_t *out; /* the last reassembled datagram */
};

/* One decoding pass. d is NULL for om_decode_peek. */
struct dctx {
	om_decoder *d;
	om_decode_stats *st;
	bool peek;
	bool reasm; /* decoding a datagram rebuilt from fragments */
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
    [OM_ANOM_IPV4_OPT_INVALID] = "ipv4.opt_invalid",
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
    [OM_ANOM_UDP_TRUNC] = "udp.pkt_too_small",
    [OM_ANOM_UDP_LEN_INVALID] = "udp.hlen_invalid",
    [OM_ANOM_ICMPV4_TRUNC] = "icmpv4.pkt_too_small",
    [OM_ANOM_ICMPV6_TRUNC] = "icmpv6.pkt_too_small",
    [OM_ANOM_ICMPV6_IN_IPV4] = "ipv4.icmpv6",
};

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

static void reset_output(om_packet *p)
{
	p->flags = 0;
	p->anomaly = OM_ANOM_NONE;
	p->vlan[0] = p->vlan[1] = 0;
	p->vlan_count = 0;
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
		return bad(p, OM_ANOM_TCP_HLEN_TOO_SMALL);
	if (hlen > len)
		return bad(p, OM_ANOM_TCP_TRUNC);

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
	if (ulen < UDP_HLEN || ulen > len)
		return bad(p, OM_ANOM_UDP_LEN_INVALID);
	p->payload = b + UDP_HLEN;
	p->payload_len = ulen - UDP_HLEN;
	c->st->udp++;
	return 0;
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
	p->payload = b;
	p->payload_len = len;
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

static int decode_ipv4(struct dctx *c, om_packet *p, const uint8_t *b, uint32_t len);
static int decode_ipv6(struct dctx *c, om_packet *p, const uint8_t *b, uint32_t len);

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

static int reassembled(struct dctx *c, om_packet *p, uint8_t ver, uint32_t len)
{
	struct dctx rc = *c;
	rc.reasm = true;
	p->flags = (p->flags & ~OM_PKT_FRAGMENT) | OM_PKT_REASSEMBLED;
	return ver == 4 ? decode_ipv4(&rc, p, c->d->out, len) : decode_ipv6(&rc, p, c->d->out, len);
}

static int fragment(struct dctx *c, om_packet *p, om_frag_in *fi)
{
	enum om_anomaly an = OM_ANOM_NONE;
	uint32_t len = 0;
	fi->ts = p->ts;
	fi->vlan[0] = p->vlan[0];
	fi->vlan[1] = p->vlan[1];
	fi->src = &p->src;
	fi->dst = &p->dst;
	int r = om_defrag_insert(c->d->df, fi, c->d->out, &len, &an, c->st);
	if (an != OM_ANOM_NONE && p->anomaly == OM_ANOM_NONE)
		p->anomaly = an;
	if (r != 0)
		return r;
	return reassembled(c, p, fi->ver, len);
}

static int decode_ipv4(struct dctx *c, om_packet *p, const uint8_t *b, uint32_t len)
{
	if (len < IPV4_HLEN)
		return bad(p, OM_ANOM_IPV4_TRUNC);
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
		return bad(p, OM_ANOM_IPV6_TRUNC);
	if (b[0] >> 4 != 6)
		return bad(p, OM_ANOM_IPV6_WRONG_VERSION);
	uint32_t end = IPV6_HLEN + rd16(b + 4);
	if (end > len)
		return bad(p, OM_ANOM_IPV6_TRUNC);

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
				return bad(p, OM_ANOM_IPV6_TRUNC);
			if (nh == P_AH) {
				if (b[off + 1] < 1) /* the fixed part alone is 12 bytes */
					return bad(p, OM_ANOM_IPV6_EXTHDR_INVALID);
				hl = ((uint32_t)b[off + 1] + 2) * 4;
			} else {
				hl = ((uint32_t)b[off + 1] + 1) * 8;
			}
			if (hl > end - off)
				return bad(p, OM_ANOM_IPV6_TRUNC);
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
				return bad(p, OM_ANOM_IPV6_TRUNC);
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
	while (type == ETHERTYPE_VLAN || type == ETHERTYPE_QINQ || type == ETHERTYPE_QINQ_OLD) {
		if (len < 4)
			return bad(p, OM_ANOM_VLAN_TRUNC);
		if (p->vlan_count >= VLAN_MAX)
			return bad(p, OM_ANOM_VLAN_TOO_MANY);
		p->vlan[p->vlan_count++] = rd16(b) & 0x0fff;
		type = rd16(b + 2);
		b += 4;
		len -= 4;
	}
	switch (type) {
	case ETHERTYPE_IPV4: return decode_ipv4(c, p, b, len);
	case ETHERTYPE_IPV6: return decode_ipv6(c, p, b, len);
	case ETHERTYPE_ARP: return decode_arp(c, p, b, len);
	default: c->st->other++; return 1;
	}
}

static int decode_raw(struct dctx *c, om_packet *p, const uint8_t *b, uint32_t len)
{
	if (len < 1)
		return bad(p, OM_ANOM_IPV4_TRUNC);
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
	default: return bad(p, OM_ANOM_LINK_UNSUPPORTED);
	}
}

/* ---- public -------------------------------------------------------------- */

om_decoder *om_decoder_new(uint64_t memcap, uint32_t max_trackers, uint32_t timeout)
{
	om_decoder *d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->out = malloc(OM_DEFRAG_OUT_MAX);
	d->df = om_defrag_new(memcap, max_trackers, timeout ? timeout : 60);
	if (!d->out || !d->df)
		return om_decoder_free(d);
	return d;
}

om_decoder *om_decoder_free(om_decoder *d)
{
	if (!d)
		return NULL;
	om_defrag_free(d->df);
	free(d->out);
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

int om_decode_peek(om_packet *p)
{
	om_decode_stats scratch = {0};
	struct dctx c = {.st = &scratch, .peek = true};
	reset_output(p);
	int r = decode_link(&c, p);
	if (p->ip_ver != 0)
		return 0;
	return r < 0 ? r : -ENOENT;
}
