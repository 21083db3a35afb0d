/* craft.c: writes the crafted captures of the pcap regression tests with
 * libpcap's pcap_dump API: malformed packets, IPv4 and IPv6 fragments, TCP
 * segments out of order, retransmitted and missing, QinQ traffic, scan
 * detection thresholds, files cut short, every tunnel kind and the PPP and
 * Cisco HDLC link types. Each packet is built here byte
 * by byte, so the expected events in tests/pcap/<name>.expect can be worked
 * out from this file alone (the packet numbers there are the 1-based order
 * of the add_*() calls in each writer).
 *
 * usage: craft OUTDIR   (writes OUTDIR/<name>.pcap for every crafted capture)
 */
#include <errno.h>
#include <limits.h>
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define T0 1700000000 /* 2023-11-14T22:13:20Z */
#define MAXPKT 2048

static const char *outdir;

struct cap {
	pcap_t *dead;
	pcap_dumper_t *d;
	char path[PATH_MAX];
	int64_t usec; /* capture time of the next packet, from T0 */
	unsigned n;
	long last_record; /* file offset of the last record header */
};

static void die(const char *what)
{
	fprintf(stderr, "craft: %s\n", what);
	exit(1);
}

static void cap_open(struct cap *c, const char *name)
{
	int n = snprintf(c->path, sizeof(c->path), "%s/%s.pcap", outdir, name);
	if (n < 0 || (size_t)n >= sizeof(c->path))
		die("path too long");
	c->dead = pcap_open_dead(DLT_EN10MB, 65535);
	if (!c->dead)
		die("pcap_open_dead failed");
	c->d = pcap_dump_open(c->dead, c->path);
	if (!c->d) {
		fprintf(stderr, "craft: %s: %s\n", c->path, pcap_geterr(c->dead));
		exit(1);
	}
	c->usec = 0;
	c->n = 0;
	c->last_record = 0;
}

static void cap_close(struct cap *c)
{
	pcap_dump_close(c->d);
	pcap_close(c->dead);
}

/* Writes one frame at the current time, then advances the clock by 1 ms. */
static void emit(struct cap *c, const uint8_t *frame, size_t len)
{
	struct pcap_pkthdr h;
	memset(&h, 0, sizeof(h));
	h.ts.tv_sec = T0 + c->usec / 1000000;
	h.ts.tv_usec = c->usec % 1000000;
	h.caplen = (bpf_u_int32)len;
	h.len = (bpf_u_int32)len;
	c->last_record = pcap_dump_ftell(c->d);
	pcap_dump((u_char *)c->d, &h, frame);
	c->usec += 1000;
	c->n++;
}

/* ---- byte helpers -------------------------------------------------------- */
static void wr16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}
static void wr32(uint8_t *p, uint32_t v)
{
	wr16(p, v >> 16);
	wr16(p + 2, v & 0xffff);
}

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t s)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)(p[n - 1] << 8);
	return s;
}
static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

struct ip {
	int ver;
	uint8_t src[16], dst[16];
};

static struct ip v4(unsigned a, unsigned b, unsigned c, unsigned d, unsigned e, unsigned f,
                    unsigned g, unsigned h)
{
	struct ip ip;
	memset(&ip, 0, sizeof(ip));
	ip.ver = 4;
	ip.src[0] = (uint8_t)a, ip.src[1] = (uint8_t)b, ip.src[2] = (uint8_t)c,
	ip.src[3] = (uint8_t)d;
	ip.dst[0] = (uint8_t)e, ip.dst[1] = (uint8_t)f, ip.dst[2] = (uint8_t)g,
	ip.dst[3] = (uint8_t)h;
	return ip;
}

/* "2001:db8:66::<s>" style: prefix words then the last word. */
static struct ip v6(const uint16_t src[8], const uint16_t dst[8])
{
	struct ip ip;
	memset(&ip, 0, sizeof(ip));
	ip.ver = 6;
	for (int i = 0; i < 8; i++) {
		wr16(ip.src + 2 * i, src[i]);
		wr16(ip.dst + 2 * i, dst[i]);
	}
	return ip;
}

/* Ethernet header with optional tags: tags[i] = (tpid << 16) | vid. */
static size_t eth(uint8_t *f, const uint32_t *tags, int ntags, unsigned type)
{
	static const uint8_t dmac[6] = {0x02, 0, 0, 0, 0, 0x02}, smac[6] = {0x02, 0, 0, 0, 0, 0x01};
	memcpy(f, dmac, 6);
	memcpy(f + 6, smac, 6);
	size_t o = 12;
	for (int i = 0; i < ntags; i++) {
		wr16(f + o, tags[i] >> 16);
		wr16(f + o + 2, tags[i] & 0x0fff);
		o += 4;
	}
	wr16(f + o, type);
	return o + 2;
}

/* IPv4 header (20 bytes) with a correct checksum. */
static void ip4hdr(uint8_t *p, const struct ip *ip, unsigned proto, unsigned id, unsigned frag,
                   unsigned totlen)
{
	memset(p, 0, 20);
	p[0] = 0x45;
	wr16(p + 2, totlen);
	wr16(p + 4, id);
	wr16(p + 6, frag);
	p[8] = 64;
	p[9] = (uint8_t)proto;
	memcpy(p + 12, ip->src, 4);
	memcpy(p + 16, ip->dst, 4);
	wr16(p + 10, fold(sum16(p, 20, 0)));
}

static void ip6hdr(uint8_t *p, const struct ip *ip, unsigned nh, unsigned plen)
{
	memset(p, 0, 40);
	p[0] = 0x60;
	wr16(p + 4, plen);
	p[6] = (uint8_t)nh;
	p[7] = 64;
	memcpy(p + 8, ip->src, 16);
	memcpy(p + 24, ip->dst, 16);
}

/* L4 checksum over the pseudo header and seg (whose checksum field is 0). */
static uint16_t l4sum(const struct ip *ip, unsigned proto, const uint8_t *seg, size_t len)
{
	uint32_t s = 0;
	size_t alen = ip->ver == 4 ? 4 : 16;
	s = sum16(ip->src, alen, s);
	s = sum16(ip->dst, alen, s);
	s += proto;
	s += (uint32_t)len;
	return fold(sum16(seg, len, s));
}

/* A complete IP packet: header + l4 bytes. Returns the frame length. */
static size_t ippkt(uint8_t *f, const uint32_t *tags, int ntags, const struct ip *ip,
                    unsigned proto, const uint8_t *l4, size_t l4len)
{
	size_t o;
	if (ip->ver == 4) {
		o = eth(f, tags, ntags, 0x0800);
		ip4hdr(f + o, ip, proto, 0x100, 0x4000, (unsigned)(20 + l4len)); /* DF */
		o += 20;
	} else {
		o = eth(f, tags, ntags, 0x86dd);
		ip6hdr(f + o, ip, proto, (unsigned)l4len);
		o += 40;
	}
	memcpy(f + o, l4, l4len);
	return o + l4len;
}

/* TCP segment with a correct checksum; returns its length. */
static size_t tcpseg(uint8_t *s, const struct ip *ip, unsigned sp, unsigned dp, uint32_t seq,
                     uint32_t ack, unsigned flags, const void *data, size_t dlen)
{
	memset(s, 0, 20);
	wr16(s, sp);
	wr16(s + 2, dp);
	wr32(s + 4, seq);
	wr32(s + 8, ack);
	s[12] = 5 << 4;
	s[13] = (uint8_t)flags;
	wr16(s + 14, 64240);
	if (dlen)
		memcpy(s + 20, data, dlen);
	wr16(s + 16, l4sum(ip, 6, s, 20 + dlen));
	return 20 + dlen;
}

/* UDP datagram; checksum computed (0 would also be legal for IPv4). */
static size_t udpdg(uint8_t *s, const struct ip *ip, unsigned sp, unsigned dp, const void *data,
                    size_t dlen)
{
	wr16(s, sp);
	wr16(s + 2, dp);
	wr16(s + 4, (unsigned)(8 + dlen));
	wr16(s + 6, 0);
	if (dlen)
		memcpy(s + 8, data, dlen);
	uint16_t cs = l4sum(ip, 17, s, 8 + dlen);
	wr16(s + 6, cs ? cs : 0xffff);
	return 8 + dlen;
}

static size_t icmpecho(uint8_t *s, const struct ip *ip, unsigned id, unsigned seq)
{
	memset(s, 0, 16);
	s[0] = ip->ver == 4 ? 8 : 128;
	wr16(s + 4, id);
	wr16(s + 6, seq);
	memcpy(s + 8, "omamori!", 8);
	if (ip->ver == 4)
		wr16(s + 2, fold(sum16(s, 16, 0)));
	else
		wr16(s + 2, l4sum(ip, 58, s, 16));
	return 16;
}

static void add_tcp(struct cap *c, const struct ip *ip, unsigned sp, unsigned dp, uint32_t seq,
                    uint32_t ack, unsigned flags, const char *data)
{
	uint8_t seg[MAXPKT], f[MAXPKT];
	size_t n = tcpseg(seg, ip, sp, dp, seq, ack, flags, data, data ? strlen(data) : 0);
	emit(c, f, ippkt(f, NULL, 0, ip, 6, seg, n));
}

static void add_udp_tagged(struct cap *c, const uint32_t *tags, int ntags, const struct ip *ip,
                           unsigned sp, unsigned dp, const char *data)
{
	uint8_t seg[MAXPKT], f[MAXPKT];
	size_t n = udpdg(seg, ip, sp, dp, data, strlen(data));
	emit(c, f, ippkt(f, tags, ntags, ip, 17, seg, n));
}

static void add_udp(struct cap *c, const struct ip *ip, unsigned sp, unsigned dp, const char *data)
{
	add_udp_tagged(c, NULL, 0, ip, sp, dp, data);
}

static void add_echo(struct cap *c, const struct ip *ip, unsigned id)
{
	uint8_t seg[64], f[MAXPKT];
	size_t n = icmpecho(seg, ip, id, 1);
	emit(c, f, ippkt(f, NULL, 0, ip, ip->ver == 4 ? 1 : 58, seg, n));
}

static struct ip swap(const struct ip *ip)
{
	struct ip r = *ip;
	memcpy(r.src, ip->dst, 16);
	memcpy(r.dst, ip->src, 16);
	return r;
}

/* ======================================================================== */
/* malformed.pcap: one packet per decoder check, between two valid ones.    */
/* ======================================================================== */
static void write_malformed(void)
{
	struct cap c;
	uint8_t f[MAXPKT], s[MAXPKT];
	size_t o, n;
	struct ip ip = v4(198, 51, 100, 7, 192, 168, 1, 20);
	static const uint16_t s6[8] = {0x2001, 0xdb8, 0x7, 0, 0, 0, 0, 7};
	static const uint16_t d6[8] = {0xfd00, 0x1, 0, 0, 0, 0, 0, 0x20};
	struct ip ip6 = v6(s6, d6);

	cap_open(&c, "malformed");

	/* 1: valid UDP 198.51.100.7:40000 -> 192.168.1.20:53 */
	add_udp(&c, &ip, 40000, 53, "abcd");

	/* 2: IPv4 total length 60 but only 28 bytes of IP follow: ipv4.trunc_pkt */
	n = udpdg(s, &ip, 41002, 53, NULL, 0);
	o = eth(f, NULL, 0, 0x0800);
	ip4hdr(f + o, &ip, 17, 2, 0, 60);
	memcpy(f + o + 20, s, n);
	emit(&c, f, o + 20 + n);

	/* 3: 12 bytes after the Ethernet header: ipv4.pkt_too_small */
	o = eth(f, NULL, 0, 0x0800);
	ip4hdr(f + o, &ip, 17, 3, 0, 28);
	emit(&c, f, o + 12);

	/* 4: IHL 4 (16 bytes): ipv4.hlen_too_small */
	n = udpdg(s, &ip, 41004, 53, "abcd", 4);
	o = eth(f, NULL, 0, 0x0800);
	ip4hdr(f + o, &ip, 17, 4, 0, (unsigned)(20 + n));
	f[o] = 0x44;
	memcpy(f + o + 20, s, n);
	emit(&c, f, o + 20 + n);

	/* 5: total length 16 < header length 20: ipv4.iplen_smaller_than_hlen */
	n = udpdg(s, &ip, 41005, 53, "abcd", 4);
	o = eth(f, NULL, 0, 0x0800);
	ip4hdr(f + o, &ip, 17, 5, 0, 16);
	memcpy(f + o + 20, s, n);
	emit(&c, f, o + 20 + n);

	/* 6: version 6 under ethertype IPv4: ipv4.wrong_ip_version */
	n = udpdg(s, &ip, 41006, 53, "abcd", 4);
	o = eth(f, NULL, 0, 0x0800);
	ip4hdr(f + o, &ip, 17, 6, 0, (unsigned)(20 + n));
	f[o] = 0x65;
	memcpy(f + o + 20, s, n);
	emit(&c, f, o + 20 + n);

	/* 7: TCP data offset 4: tcp.invalid_optlen */
	n = tcpseg(s, &ip, 41007, 80, 1, 0, 0x02, NULL, 0);
	s[12] = 4 << 4;
	emit(&c, f, ippkt(f, NULL, 0, &ip, 6, s, n));

	/* 8: 12 bytes of TCP: tcp.pkt_too_small */
	n = tcpseg(s, &ip, 41008, 80, 1, 0, 0x02, NULL, 0);
	emit(&c, f, ippkt(f, NULL, 0, &ip, 6, s, 12));

	/* 9: TCP data offset 15 (60 bytes) in a 20-byte segment: tcp.hlen_too_small */
	n = tcpseg(s, &ip, 41009, 80, 1, 0, 0x02, NULL, 0);
	s[12] = 15 << 4;
	emit(&c, f, ippkt(f, NULL, 0, &ip, 6, s, n));

	/* 10: UDP length 100 in a 12-byte IP payload: udp.pkt_too_small */
	n = udpdg(s, &ip, 41010, 53, "abcd", 4);
	wr16(s + 4, 100);
	emit(&c, f, ippkt(f, NULL, 0, &ip, 17, s, n));

	/* 11: UDP length 4 (< 8): udp.len_invalid */
	n = udpdg(s, &ip, 41011, 53, "abcd", 4);
	wr16(s + 4, 4);
	emit(&c, f, ippkt(f, NULL, 0, &ip, 17, s, n));

	/* 12: 6 bytes of UDP: udp.hlen_too_small */
	n = udpdg(s, &ip, 41012, 53, NULL, 0);
	emit(&c, f, ippkt(f, NULL, 0, &ip, 17, s, 6));

	/* 13: four 802.1Q tags: vlan.too_many_layers */
	{
		static const uint32_t tags[4] = {0x81000000u | 10, 0x81000000u | 20,
		                                 0x81000000u | 30, 0x81000000u | 40};
		n = udpdg(s, &ip, 41013, 53, "abcd", 4);
		emit(&c, f, ippkt(f, tags, 4, &ip, 17, s, n));
	}

	/* 14: 802.1Q ethertype followed by 2 bytes: vlan.header_too_small */
	o = eth(f, NULL, 0, 0x8100);
	f[o] = 0x00;
	f[o + 1] = 0x0a;
	emit(&c, f, o + 2);

	/* 15: a 10-byte frame: ethernet.pkt_too_small */
	eth(f, NULL, 0, 0x0800);
	emit(&c, f, 10);

	/* 16: IPv6 with 12 destination-options headers, each pointing to the
	 * next (an extension header loop), then UDP: ipv6.exthdr_too_many */
	{
		const int nx = 12;
		o = eth(f, NULL, 0, 0x86dd);
		size_t l4 = o + 40 + 8 * (size_t)nx;
		n = udpdg(s, &ip6, 41016, 53, "abcd", 4);
		ip6hdr(f + o, &ip6, 60, (unsigned)(8 * nx + n));
		for (int i = 0; i < nx; i++) {
			uint8_t *h = f + o + 40 + 8 * i;
			memset(h, 0, 8);
			h[0] = i == nx - 1 ? 17 : 60; /* next header */
			h[1] = 0;                     /* 8 bytes */
			h[2] = 1;                     /* PadN */
			h[3] = 4;
		}
		memcpy(f + l4, s, n);
		emit(&c, f, l4 + n);
	}

	/* 17: hop-by-hop header claiming 72 bytes (hdr ext len 8) with 8 bytes
	 * left in the payload: ipv6.trunc_exthdr */
	o = eth(f, NULL, 0, 0x86dd);
	ip6hdr(f + o, &ip6, 0, 8);
	memset(f + o + 40, 0, 8);
	f[o + 40] = 17;
	f[o + 41] = 8;
	f[o + 42] = 1;
	f[o + 43] = 4;
	emit(&c, f, o + 48);

	/* 18: destination options then hop-by-hop (not first): ipv6.exthdr_invalid */
	o = eth(f, NULL, 0, 0x86dd);
	n = udpdg(s, &ip6, 41018, 53, "abcd", 4);
	ip6hdr(f + o, &ip6, 60, (unsigned)(16 + n));
	memset(f + o + 40, 0, 16);
	f[o + 40] = 0; /* next: hop-by-hop */
	f[o + 42] = 1;
	f[o + 43] = 4;
	f[o + 48] = 17;
	f[o + 50] = 1;
	f[o + 51] = 4;
	memcpy(f + o + 56, s, n);
	emit(&c, f, o + 56 + n);

	/* 19: IPv6 payload length 100 with 12 bytes present: ipv6.trunc_pkt */
	n = udpdg(s, &ip6, 41019, 53, "abcd", 4);
	o = eth(f, NULL, 0, 0x86dd);
	ip6hdr(f + o, &ip6, 17, 100);
	memcpy(f + o + 40, s, n);
	emit(&c, f, o + 40 + n);

	/* 20: 4 bytes of ICMPv4: icmpv4.pkt_too_small */
	memset(s, 0, 4);
	s[0] = 8;
	emit(&c, f, ippkt(f, NULL, 0, &ip, 1, s, 4));

	/* 21: IPv4 carrying protocol 58 (ICMPv6): ipv4.icmpv6 */
	n = icmpecho(s, &ip, 21, 1);
	emit(&c, f, ippkt(f, NULL, 0, &ip, 58, s, n));

	/* 22: TCP MSS option with length 3: tcp.opt_invalid_len (the segment is kept) */
	n = tcpseg(s, &ip, 41022, 80, 1, 0, 0x02, NULL, 0);
	s[12] = 6 << 4; /* 24-byte header */
	s[20] = 2;
	s[21] = 3;
	s[22] = 0x05;
	s[23] = 0x00; /* EOL */
	emit(&c, f, ippkt(f, NULL, 0, &ip, 6, s, 24));

	/* 23: IPv4 option with length 1: ipv4.opt_invalid_len */
	n = udpdg(s, &ip, 41023, 53, "abcd", 4);
	o = eth(f, NULL, 0, 0x0800);
	ip4hdr(f + o, &ip, 17, 23, 0, (unsigned)(24 + n));
	f[o] = 0x46;
	f[o + 20] = 0x94; /* router alert, must be length 4 */
	f[o + 21] = 1;
	f[o + 22] = 0;
	f[o + 23] = 0;
	wr16(f + o + 10, 0);
	wr16(f + o + 10, fold(sum16(f + o, 24, 0)));
	memcpy(f + o + 24, s, n);
	emit(&c, f, o + 24 + n);

	/* 24: valid TCP SYN 198.51.100.7:40001 -> 192.168.1.20:80 */
	add_tcp(&c, &ip, 40001, 80, 1000, 0, 0x02, NULL);

	cap_close(&c);
}

/* ======================================================================== */
/* frag4.pcap / frag6.pcap                                                  */
/* ======================================================================== */
/* The datagram of every case: UDP header + 32 bytes, 40 bytes of IP payload,
 * cut into pieces at 8-byte boundaries. */
static size_t frag_payload(uint8_t *p, const struct ip *ip, unsigned sp, unsigned dp, char fill)
{
	char data[33];
	for (int i = 0; i < 32; i++)
		data[i] = (char)(fill + (i % 26));
	data[32] = '\0';
	return udpdg(p, ip, sp, dp, data, 32);
}

static void add_frag4(struct cap *c, const struct ip *ip, unsigned id, const uint8_t *pl,
                      unsigned off, unsigned len, bool more)
{
	uint8_t f[MAXPKT];
	size_t o = eth(f, NULL, 0, 0x0800);
	ip4hdr(f + o, ip, 17, id, (more ? 0x2000u : 0) | (off / 8), 20 + len);
	memcpy(f + o + 20, pl, len);
	emit(c, f, o + 20 + len);
}

static void write_frag4(void)
{
	struct cap c;
	uint8_t a[64], b[64];
	struct ip ip = v4(198, 51, 100, 9, 192, 168, 1, 30);

	cap_open(&c, "frag4");
	/* A, packets 1-3: in order */
	frag_payload(a, &ip, 5001, 7001, 'a');
	add_frag4(&c, &ip, 0x1001, a, 0, 16, true);
	add_frag4(&c, &ip, 0x1001, a + 16, 16, 16, true);
	add_frag4(&c, &ip, 0x1001, a + 32, 32, 8, false);
	/* B, packets 4-6: reversed */
	frag_payload(a, &ip, 5002, 7002, 'a');
	add_frag4(&c, &ip, 0x1002, a + 32, 32, 8, false);
	add_frag4(&c, &ip, 0x1002, a + 16, 16, 16, true);
	add_frag4(&c, &ip, 0x1002, a, 0, 16, true);
	/* C, packets 7-10: packet 8 rewrites the first 16 bytes (the UDP header
	 * with destination port 7999, and other data): overlap, first wins */
	frag_payload(a, &ip, 5003, 7003, 'a');
	frag_payload(b, &ip, 5003, 7999, 'A');
	add_frag4(&c, &ip, 0x1003, a, 0, 16, true);
	add_frag4(&c, &ip, 0x1003, b, 0, 16, true);
	add_frag4(&c, &ip, 0x1003, a + 16, 16, 16, true);
	add_frag4(&c, &ip, 0x1003, a + 32, 32, 8, false);
	/* D, packets 11-14: the middle fragment twice with the same bytes */
	frag_payload(a, &ip, 5004, 7004, 'a');
	add_frag4(&c, &ip, 0x1004, a, 0, 16, true);
	add_frag4(&c, &ip, 0x1004, a + 16, 16, 16, true);
	add_frag4(&c, &ip, 0x1004, a + 16, 16, 16, true);
	add_frag4(&c, &ip, 0x1004, a + 32, 32, 8, false);
	/* E, packets 15-17: packet 16 covers bytes 8-31, its bytes 8-15 differ
	 * from those held */
	frag_payload(a, &ip, 5005, 7005, 'a');
	memcpy(b, a, 40);
	memset(b + 8, 'Z', 8);
	add_frag4(&c, &ip, 0x1005, a, 0, 16, true);
	add_frag4(&c, &ip, 0x1005, b + 8, 8, 24, true);
	add_frag4(&c, &ip, 0x1005, a + 32, 32, 8, false);
	/* F, packet 18: a first fragment whose datagram never completes */
	frag_payload(a, &ip, 5006, 7006, 'a');
	add_frag4(&c, &ip, 0x1006, a, 0, 16, true);
	/* G, packet 19: a fragment at offset 65528 with 16 bytes: the datagram
	 * would be 20 + 65544 bytes */
	frag_payload(a, &ip, 5007, 7007, 'a');
	add_frag4(&c, &ip, 0x1007, a, 65528, 16, false);
	cap_close(&c);
}

static void add_frag6(struct cap *c, const struct ip *ip, uint32_t id, const uint8_t *pl,
                      unsigned off, unsigned len, bool more)
{
	uint8_t f[MAXPKT];
	size_t o = eth(f, NULL, 0, 0x86dd);
	ip6hdr(f + o, ip, 44, 8 + len);
	uint8_t *fh = f + o + 40;
	fh[0] = 17;
	fh[1] = 0;
	wr16(fh + 2, off | (more ? 1u : 0));
	wr32(fh + 4, id);
	memcpy(fh + 8, pl, len);
	emit(c, f, o + 48 + len);
}

static void write_frag6(void)
{
	struct cap c;
	uint8_t a[64], b[64];
	static const uint16_t s6[8] = {0x2001, 0xdb8, 0x9, 0, 0, 0, 0, 9};
	static const uint16_t d6[8] = {0xfd00, 0x1, 0, 0, 0, 0, 0, 0x30};
	struct ip ip = v6(s6, d6);

	cap_open(&c, "frag6");
	/* A, packets 1-3: in order */
	frag_payload(a, &ip, 5101, 7101, 'a');
	add_frag6(&c, &ip, 0x2001, a, 0, 16, true);
	add_frag6(&c, &ip, 0x2001, a + 16, 16, 16, true);
	add_frag6(&c, &ip, 0x2001, a + 32, 32, 8, false);
	/* B, packets 4-6: reversed */
	frag_payload(a, &ip, 5102, 7102, 'a');
	add_frag6(&c, &ip, 0x2002, a + 32, 32, 8, false);
	add_frag6(&c, &ip, 0x2002, a + 16, 16, 16, true);
	add_frag6(&c, &ip, 0x2002, a, 0, 16, true);
	/* C, packets 7-10: packet 9 repeats bytes 16-31 with other bytes */
	frag_payload(a, &ip, 5103, 7103, 'a');
	memcpy(b, a, 40);
	memset(b + 16, 'Z', 16);
	add_frag6(&c, &ip, 0x2003, a, 0, 16, true);
	add_frag6(&c, &ip, 0x2003, a + 16, 16, 16, true);
	add_frag6(&c, &ip, 0x2003, b + 16, 16, 16, true);
	add_frag6(&c, &ip, 0x2003, a + 32, 32, 8, false);
	/* D, packet 11: an atomic fragment (offset 0, M clear) */
	frag_payload(a, &ip, 5104, 7104, 'a');
	add_frag6(&c, &ip, 0x2004, a, 0, 40, false);
	cap_close(&c);
}

/* ======================================================================== */
/* tcp-stream.pcap: out of order, retransmissions, overlap, gap             */
/* ======================================================================== */
static void write_tcp_stream(void)
{
	struct cap c;
	struct ip ip = v4(198, 51, 100, 20, 192, 168, 1, 40);
	struct ip rip = swap(&ip);
	const unsigned S = 0x02, SA = 0x12, A = 0x10, PA = 0x18, FA = 0x11;

	cap_open(&c, "tcp-stream");
	/* Session 1, client port 40100, packets 1-14: 30 request bytes in three
	 * 10-byte segments sent 2, 3, 2 again (same bytes, still held), 1, then 2
	 * once more (same bytes, already delivered); a 20-byte answer; FINs. */
	add_tcp(&c, &ip, 40100, 7000, 1000, 0, S, NULL);                        /* 1 */
	add_tcp(&c, &rip, 7000, 40100, 5000, 1001, SA, NULL);                   /* 2 */
	add_tcp(&c, &ip, 40100, 7000, 1001, 5001, A, NULL);                     /* 3 */
	add_tcp(&c, &ip, 40100, 7000, 1011, 5001, PA, "abcdefghij");            /* 4 */
	add_tcp(&c, &ip, 40100, 7000, 1021, 5001, PA, "ABCDEFGHIJ");            /* 5 */
	add_tcp(&c, &ip, 40100, 7000, 1011, 5001, PA, "abcdefghij");            /* 6 */
	add_tcp(&c, &ip, 40100, 7000, 1001, 5001, PA, "0123456789");            /* 7 */
	add_tcp(&c, &ip, 40100, 7000, 1011, 5001, PA, "abcdefghij");            /* 8 */
	add_tcp(&c, &rip, 7000, 40100, 5001, 1031, A, NULL);                    /* 9 */
	add_tcp(&c, &rip, 7000, 40100, 5001, 1031, PA, "twenty bytes answer."); /* 10 */
	add_tcp(&c, &ip, 40100, 7000, 1031, 5021, A, NULL);                     /* 11 */
	add_tcp(&c, &ip, 40100, 7000, 1031, 5021, FA, NULL);                    /* 12 */
	add_tcp(&c, &rip, 7000, 40100, 5021, 1032, FA, NULL);                   /* 13 */
	add_tcp(&c, &ip, 40100, 7000, 1032, 5022, A, NULL);                     /* 14 */

	/* Session 2, client port 40101, packets 15-23: segment 2 arrives, then
	 * again with other bytes while it is still held: stream.reassembly_overlap_different_data.
	 */
	add_tcp(&c, &ip, 40101, 7000, 2000, 0, S, NULL);             /* 15 */
	add_tcp(&c, &rip, 7000, 40101, 6000, 2001, SA, NULL);        /* 16 */
	add_tcp(&c, &ip, 40101, 7000, 2001, 6001, A, NULL);          /* 17 */
	add_tcp(&c, &ip, 40101, 7000, 2011, 6001, PA, "aaaaaaaaaa"); /* 18 */
	add_tcp(&c, &ip, 40101, 7000, 2011, 6001, PA, "bbbbbbbbbb"); /* 19 */
	add_tcp(&c, &ip, 40101, 7000, 2001, 6001, PA, "0123456789"); /* 20 */
	add_tcp(&c, &ip, 40101, 7000, 2021, 6001, FA, NULL);         /* 21 */
	add_tcp(&c, &rip, 7000, 40101, 6001, 2022, FA, NULL);        /* 22 */
	add_tcp(&c, &ip, 40101, 7000, 2022, 6002, A, NULL);          /* 23 */

	/* Session 3, client port 40102, packets 24-31: bytes 10-19 of the
	 * request are never sent: one stream.gap when the flow ends. */
	add_tcp(&c, &ip, 40102, 7000, 3000, 0, S, NULL);             /* 24 */
	add_tcp(&c, &rip, 7000, 40102, 7000, 3001, SA, NULL);        /* 25 */
	add_tcp(&c, &ip, 40102, 7000, 3001, 7001, A, NULL);          /* 26 */
	add_tcp(&c, &ip, 40102, 7000, 3001, 7001, PA, "0123456789"); /* 27 */
	add_tcp(&c, &ip, 40102, 7000, 3021, 7001, PA, "ABCDEFGHIJ"); /* 28 */
	add_tcp(&c, &ip, 40102, 7000, 3031, 7001, FA, NULL);         /* 29 */
	add_tcp(&c, &rip, 7000, 40102, 7001, 3011, FA, NULL);        /* 30 */
	add_tcp(&c, &ip, 40102, 7000, 3032, 7002, A, NULL);          /* 31 */
	cap_close(&c);
}

/* ======================================================================== */
/* tcp-evasion.pcap: TCP evasions the stream must see through               */
/* ======================================================================== */
/* A TCP segment whose header carries the option bytes opt (a multiple of 4
 * long); returns its length. */
static size_t tcpseg_opts(uint8_t *s, const struct ip *ip, unsigned sp, unsigned dp, uint32_t seq,
                          uint32_t ack, unsigned flags, const uint8_t *opt, size_t olen,
                          const char *data)
{
	size_t dlen = data ? strlen(data) : 0;
	memset(s, 0, 20);
	wr16(s, sp);
	wr16(s + 2, dp);
	wr32(s + 4, seq);
	wr32(s + 8, ack);
	s[12] = (uint8_t)(((20 + olen) / 4) << 4);
	s[13] = (uint8_t)flags;
	wr16(s + 14, 64240);
	memcpy(s + 20, opt, olen);
	if (dlen)
		memcpy(s + 20 + olen, data, dlen);
	wr16(s + 16, l4sum(ip, 6, s, 20 + olen + dlen));
	return 20 + olen + dlen;
}

static void write_tcp_evasion(void)
{
	struct cap c;
	struct ip ip = v4(203, 0, 113, 70, 192, 168, 1, 60);
	struct ip rip = swap(&ip);
	const unsigned S = 0x02, SA = 0x12, A = 0x10, PA = 0x18, FA = 0x11, R = 0x04, RA = 0x14;
	uint8_t seg[MAXPKT], f[MAXPKT];

	cap_open(&c, "tcp-evasion");
	/* A, port 41000, packets 1-10: a blind RST far outside the window as
	 * the server, then a SYN with the attacker's ISN as the client; the
	 * real connection goes on. One flow; both packets are anomalies. */
	add_tcp(&c, &ip, 41000, 8080, 1000, 0, S, NULL);                /* 1 */
	add_tcp(&c, &rip, 8080, 41000, 5000, 1001, SA, NULL);           /* 2 */
	add_tcp(&c, &ip, 41000, 8080, 1001, 5001, A, NULL);             /* 3 */
	add_tcp(&c, &ip, 41000, 8080, 1001, 5001, PA, "first-part");    /* 4 */
	add_tcp(&c, &rip, 8080, 41000, 5001 + 0x10000000u, 0, R, NULL); /* 5 */
	add_tcp(&c, &ip, 41000, 8080, 777777, 0, S, NULL);              /* 6 */
	add_tcp(&c, &ip, 41000, 8080, 1011, 5001, PA, "secondpart");    /* 7 */
	add_tcp(&c, &ip, 41000, 8080, 1021, 5001, FA, NULL);            /* 8 */
	add_tcp(&c, &rip, 8080, 41000, 5001, 1022, FA, NULL);           /* 9 */
	add_tcp(&c, &ip, 41000, 8080, 1022, 5002, A, NULL);             /* 10 */

	/* B, port 41001, packets 11-18: a data segment whose timestamp option
	 * is 9 bytes long: tcp.opt_invalid_len, the segment is kept (no gap) */
	static const uint8_t ts9[12] = {8, 9, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1};
	add_tcp(&c, &ip, 41001, 8080, 2000, 0, S, NULL);      /* 11 */
	add_tcp(&c, &rip, 8080, 41001, 6000, 2001, SA, NULL); /* 12 */
	add_tcp(&c, &ip, 41001, 8080, 2001, 6001, A, NULL);   /* 13 */
	size_t n =
	    tcpseg_opts(seg, &ip, 41001, 8080, 2001, 6001, PA, ts9, sizeof(ts9), "tsdata1234");
	emit(&c, f, ippkt(f, NULL, 0, &ip, 6, seg, n));              /* 14 */
	add_tcp(&c, &ip, 41001, 8080, 2011, 6001, PA, "more-data!"); /* 15 */
	add_tcp(&c, &ip, 41001, 8080, 2021, 6001, FA, NULL);         /* 16 */
	add_tcp(&c, &rip, 8080, 41001, 6001, 2022, FA, NULL);        /* 17 */
	add_tcp(&c, &ip, 41001, 8080, 2022, 6002, A, NULL);          /* 18 */

	/* C, port 41002, packet 19: an unanswered SYN+FIN probe: a new flow */
	add_tcp(&c, &ip, 41002, 8081, 3000, 0, 0x03, NULL); /* 19 */

	/* D, port 41003, packets 20-22: refused, then FIN+SYN+URG with another
	 * ISN: not port reuse (one flow), stream.fin_syn */
	add_tcp(&c, &ip, 41003, 8082, 4000, 0, S, NULL);    /* 20 */
	add_tcp(&c, &rip, 8082, 41003, 0, 4001, RA, NULL);  /* 21 */
	add_tcp(&c, &ip, 41003, 8082, 9000, 0, 0x23, NULL); /* 22 */

	/* E, port 41004, packets 23-30: delivered bytes sent again with other
	 * bytes: stream.reassembly_overlap_different_data */
	add_tcp(&c, &ip, 41004, 8080, 7000, 0, S, NULL);             /* 23 */
	add_tcp(&c, &rip, 8080, 41004, 8000, 7001, SA, NULL);        /* 24 */
	add_tcp(&c, &ip, 41004, 8080, 7001, 8001, A, NULL);          /* 25 */
	add_tcp(&c, &ip, 41004, 8080, 7001, 8001, PA, "AAAAAAAAAA"); /* 26 */
	add_tcp(&c, &ip, 41004, 8080, 7001, 8001, PA, "BBBBBBBBBB"); /* 27 */
	add_tcp(&c, &ip, 41004, 8080, 7011, 8001, FA, NULL);         /* 28 */
	add_tcp(&c, &rip, 8080, 41004, 8001, 7012, FA, NULL);        /* 29 */
	add_tcp(&c, &ip, 41004, 8080, 7012, 8002, A, NULL);          /* 30 */
	cap_close(&c);
}

/* ======================================================================== */
/* qinq.pcap: 802.1ad / 802.1Q tags                                          */
/* ======================================================================== */
static void write_qinq(void)
{
	struct cap c;
	struct ip ip = v4(198, 51, 100, 30, 192, 168, 1, 50);
	struct ip rip = swap(&ip);
	uint8_t seg[MAXPKT], f[MAXPKT];
	size_t n;
	const uint32_t q100_200[2] = {0x88a80000u | 100, 0x81000000u | 200};
	const uint32_t q101_200[2] = {0x88a80000u | 101, 0x81000000u | 200};
	const uint32_t q100_201[2] = {0x88a80000u | 100, 0x81000000u | 201};
	const uint32_t old300_400[2] = {0x91000000u | 300, 0x81000000u | 400};
	const uint32_t one500[1] = {0x81000000u | 500};

	cap_open(&c, "qinq");
	/* 1-2: query and answer on outer 100 / inner 200 */
	add_udp_tagged(&c, q100_200, 2, &ip, 6000, 53, "query");
	add_udp_tagged(&c, q100_200, 2, &rip, 53, 6000, "answer");
	/* 3: the same addresses and ports on outer VLAN 101: another flow */
	add_udp_tagged(&c, q101_200, 2, &ip, 6000, 53, "query");
	/* 4: outer 100, inner 201: every tag is in the key: a third flow */
	add_udp_tagged(&c, q100_201, 2, &ip, 6000, 53, "query");
	/* 5: old-style 0x9100 outer tag, TCP SYN to port 22 */
	n = tcpseg(seg, &ip, 6001, 22, 100, 0, 0x02, NULL, 0);
	emit(&c, f, ippkt(f, old300_400, 2, &ip, 6, seg, n));
	/* 6: a single 802.1Q tag */
	add_udp_tagged(&c, one500, 1, &ip, 6002, 123, "ntp?");
	cap_close(&c);
}

/* ======================================================================== */
/* recon.pcap (and recon-homenet.pcap, the same packets): thresholds         */
/* ======================================================================== */
static void write_recon(const char *name)
{
	struct cap c;
	static const uint16_t s6[8] = {0x2001, 0xdb8, 0x66, 0, 0, 0, 0, 6};
	static const uint16_t d6[8] = {0xfd00, 0x1, 0, 0, 0, 0, 0, 0x61};
	unsigned i;

	cap_open(&c, name);
	/* A 203.0.113.50: SYN to 19 ports (1001-1019) of 192.168.1.60: below 20 */
	struct ip a = v4(203, 0, 113, 50, 192, 168, 1, 60);
	for (i = 0; i < 19; i++)
		add_tcp(&c, &a, 30000, 1001 + i, 1, 0, 0x02, NULL);
	/* B 203.0.113.51: SYN to 25 ports (2001-2025) of 192.168.1.61: vertical */
	struct ip b = v4(203, 0, 113, 51, 192, 168, 1, 61);
	for (i = 0; i < 25; i++)
		add_tcp(&c, &b, 30001, 2001 + i, 1, 0, 0x02, NULL);
	/* D 192.168.1.99 (home-net): SYN to 50 ports of 192.168.1.60 */
	struct ip d = v4(192, 168, 1, 99, 192, 168, 1, 60);
	for (i = 0; i < 50; i++)
		add_tcp(&c, &d, 30003, 4001 + i, 1, 0, 0x02, NULL);
	/* E 203.0.113.53: ACK only to 50 ports: not probes */
	struct ip e = v4(203, 0, 113, 53, 192, 168, 1, 60);
	for (i = 0; i < 50; i++)
		add_tcp(&c, &e, 30004, 5001 + i, 1, 1, 0x10, NULL);
	/* F 2001:db8:66::6: UDP to 30 ports (6001-6030) of fd00:1::61: vertical */
	struct ip f6 = v6(s6, d6);
	for (i = 0; i < 30; i++)
		add_udp(&c, &f6, 30005, 6001 + i, "probe");
	/* G 203.0.113.54: SYN to port 3389 of 25 hosts 192.168.2.1-25: horizontal */
	for (i = 0; i < 25; i++) {
		struct ip g = v4(203, 0, 113, 54, 192, 168, 2, 1 + i);
		add_tcp(&c, &g, 30006, 3389, 1, 0, 0x02, NULL);
	}
	/* H 203.0.113.55: echo requests to 9 hosts 192.168.3.1-9: below 10 */
	for (i = 0; i < 9; i++) {
		struct ip h = v4(203, 0, 113, 55, 192, 168, 3, 1 + i);
		add_echo(&c, &h, 100 + i);
	}
	/* I 203.0.113.56: echo requests to 12 hosts 192.168.4.1-12: sweep */
	for (i = 0; i < 12; i++) {
		struct ip h = v4(203, 0, 113, 56, 192, 168, 4, 1 + i);
		add_echo(&c, &h, 200 + i);
	}
	/* J 203.0.113.57: SYN+FIN to exactly 20 ports (7001-7020): vertical */
	struct ip j = v4(203, 0, 113, 57, 192, 168, 1, 62);
	for (i = 0; i < 20; i++)
		add_tcp(&c, &j, 30008, 7001 + i, 1, 0, 0x03, NULL);
	/* K 203.0.113.58: NULL scan (no flags) of 30 ports: not detected */
	struct ip k = v4(203, 0, 113, 58, 192, 168, 1, 62);
	for (i = 0; i < 30; i++)
		add_tcp(&c, &k, 30009, 8001 + i, 1, 0, 0x00, NULL);
	/* C 203.0.113.52: 15 ports (3001-3015) of 192.168.1.63, then 100 s later
	 * 15 other ports (3016-3030): never 20 inside one 60 s window */
	struct ip cc = v4(203, 0, 113, 52, 192, 168, 1, 63);
	for (i = 0; i < 15; i++)
		add_tcp(&c, &cc, 30002, 3001 + i, 1, 0, 0x02, NULL);
	c.usec += 100 * 1000000LL;
	for (i = 0; i < 15; i++)
		add_tcp(&c, &cc, 30002, 3016 + i, 1, 0, 0x02, NULL);
	cap_close(&c);
}

/* ======================================================================== */
/* truncated-*.pcap: five UDP packets, then a sixth record cut short         */
/* ======================================================================== */
static void write_truncated(const char *name, long keep_of_last)
{
	struct cap c;
	struct ip ip = v4(198, 51, 100, 40, 192, 168, 1, 70);
	char data[101];
	unsigned i;

	memset(data, 'x', 100);
	data[100] = '\0';
	cap_open(&c, name);
	for (i = 0; i < 5; i++)
		add_udp(&c, &ip, 6100 + i, 53, "query");
	add_udp(&c, &ip, 6105, 53, data); /* 16-byte record header + 142-byte frame */
	long cut = c.last_record + keep_of_last;
	cap_close(&c);
	if (truncate(c.path, cut) < 0) {
		fprintf(stderr, "craft: truncate %s: %s\n", c.path, strerror(errno));
		exit(1);
	}
}

/* ======================================================================== */
/* demo-month.pcap: a month (May 2024) of a small office, for `make demo`:  */
/* web and DNS traffic every day, and scans from outside on known days.     */
/* ======================================================================== */
#define DEMO_T 1714521600LL /* 2024-05-01T00:00:00Z */

static void demo_at(struct cap *c, int day, int hour, int min)
{
	c->usec = ((DEMO_T - T0) + (int64_t)(day - 1) * 86400 + hour * 3600 + min * 60) * 1000000LL;
}

static void demo_session(struct cap *c, unsigned pc, unsigned sport)
{
	struct ip up = v4(192, 168, 10, pc, 198, 51, 100, 80);
	struct ip down = swap(&up);
	const char *req = "GET / HTTP/1.1\r\nHost: shop.example\r\n\r\n";
	const char *resp = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
	uint32_t cs = 1000, ss = 5000;
	add_tcp(c, &up, sport, 443, cs, 0, 0x02, NULL);
	add_tcp(c, &down, 443, sport, ss, cs + 1, 0x12, NULL);
	add_tcp(c, &up, sport, 443, cs + 1, ss + 1, 0x10, NULL);
	add_tcp(c, &up, sport, 443, cs + 1, ss + 1, 0x18, req);
	add_tcp(c, &down, 443, sport, ss + 1, cs + 1 + (uint32_t)strlen(req), 0x18, resp);
	add_tcp(c, &up, sport, 443, cs + 1 + (uint32_t)strlen(req), ss + 1 + (uint32_t)strlen(resp),
	        0x11, NULL);
	add_tcp(c, &down, 443, sport, ss + 1 + (uint32_t)strlen(resp),
	        cs + 2 + (uint32_t)strlen(req), 0x11, NULL);
	add_tcp(c, &up, sport, 443, cs + 2 + (uint32_t)strlen(req), ss + 2 + (uint32_t)strlen(resp),
	        0x10, NULL);
}

static void write_demo(void)
{
	struct cap c;
	cap_open(&c, "demo-month");
	for (int d = 1; d <= 31; d++) {
		/* 02:00: a vertical scan of the NAS on days 1, 4, 7, ..., 31
		 * (11 days), 20 + d ports, each answered with a reset */
		if (d % 3 == 1) {
			demo_at(&c, d, 2, 0);
			struct ip sc = v4(203, 0, 113, 10 + (unsigned)(d % 7), 192, 168, 10, 5);
			struct ip rs = swap(&sc);
			for (unsigned port = 1; port <= 20u + (unsigned)d; port++) {
				add_tcp(&c, &sc, 40000 + (unsigned)d, port, 7, 0, 0x02, NULL);
				add_tcp(&c, &rs, port, 40000 + (unsigned)d, 0, 8, 0x14, NULL);
			}
		}
		/* 03:00: port 445 across 192.168.10.1-30 on days 2, 9, 16, 23, 30 */
		if (d % 7 == 2) {
			demo_at(&c, d, 3, 0);
			for (unsigned h = 1; h <= 30; h++) {
				struct ip sc = v4(192, 0, 2, (unsigned)d, 192, 168, 10, h);
				add_tcp(&c, &sc, 50000, 445, 9, 0, 0x02, NULL);
			}
		}
		/* 04:00: a ping sweep of 192.168.10.1-16 on days 5, 15, 25 */
		if (d % 10 == 5) {
			demo_at(&c, d, 4, 0);
			for (unsigned h = 1; h <= 16; h++) {
				struct ip sc = v4(203, 0, 113, 99, 192, 168, 10, h);
				add_echo(&c, &sc, 300 + h);
			}
		}
		/* office hours: eight web sessions and DNS from the PCs */
		demo_at(&c, d, 9, 0);
		for (unsigned k = 0; k < 8; k++) {
			struct ip q = v4(192, 168, 10, 11 + (d + k) % 5, 192, 168, 10, 1);
			add_udp(&c, &q, 53000 + k, 53, "shop.example");
			struct ip a = swap(&q);
			add_udp(&c, &a, 53, 53000 + k, "198.51.100.80");
			demo_session(&c, 11 + (d + k) % 5, 60000 + k);
			c.usec += 60 * 1000000LL;
		}
		/* day 20, 12:00: one damaged packet (IPv4 header cut short) */
		if (d == 20) {
			demo_at(&c, d, 12, 0);
			uint8_t f[64];
			memset(f, 0, sizeof(f));
			f[12] = 0x08;
			f[14] = 0x45;
			emit(&c, f, 24);
		}
	}
	cap_close(&c);
}

/* ======================================================================== */
/* flow-emergency.pcap: a SYN flood into a full flow table                  */
/* ======================================================================== */
/* Read with flow.max-flows 16 (flow-emergency.yaml): 16 established SSH
 * connections from 192.0.2.10 to 192.0.2.20 fill the table (the 16th enters
 * emergency mode), then, 10 s later, 40 SYNs from the same host to port 80.
 * One address pair, so every worker count puts them all on one worker. */
static void write_flow_emergency(void)
{
	struct cap c;
	struct ip ip = v4(192, 0, 2, 10, 192, 0, 2, 20);
	struct ip rip = swap(&ip);
	const unsigned S = 0x02, SA = 0x12, A = 0x10;

	cap_open(&c, "flow-emergency");
	for (unsigned i = 0; i < 16; i++) {
		uint32_t cs = 1000 + i * 100, ss = 9000 + i * 100;
		add_tcp(&c, &ip, 40000 + i, 22, cs, 0, S, NULL);
		add_tcp(&c, &rip, 22, 40000 + i, ss, cs + 1, SA, NULL);
		add_tcp(&c, &ip, 40000 + i, 22, cs + 1, ss + 1, A, NULL);
	}
	c.usec = 10 * 1000000LL;
	for (unsigned i = 0; i < 40; i++)
		add_tcp(&c, &ip, 50000 + i, 80, 7000 + i, 0, S, NULL);
	cap_close(&c);
}

/* ======================================================================== */
/* Tunnels: gre.pcap, tunnels.pcap, tunnel-anomalies.pcap, ppp.pcap,        */
/* chdlc.pcap. The inner packets are built first (IP header and L4), then   */
/* wrapped in the encapsulation, then in the outer IP header and Ethernet.  */
/* ======================================================================== */
enum tk {
	TK_GRE,     /* GRE with a key */
	TK_GRE_TEB, /* Ethernet over GRE */
	TK_ERSPAN1,
	TK_ERSPAN2,
	TK_ERSPAN3,
	TK_PPTP,
	TK_IPIP, /* 4in4, 6in4, 4in6 or 6in6 by the two versions */
	TK_VXLAN,
	TK_GENEVE,
	TK_TEREDO,
	TK_MPLS,
	TK_PPPOE,
	TK_VNTAG,
};

/* An IP packet: header (IPv4 with DF) and l4; returns its length. */
static size_t rawip(uint8_t *o, const struct ip *ip, unsigned proto, const uint8_t *l4, size_t n)
{
	if (ip->ver == 4) {
		ip4hdr(o, ip, proto, 0x100, 0x4000, (unsigned)(20 + n));
		memcpy(o + 20, l4, n);
		return 20 + n;
	}
	ip6hdr(o, ip, proto, (unsigned)n);
	memcpy(o + 40, l4, n);
	return 40 + n;
}

static size_t in_udp(uint8_t *o, const struct ip *ip, unsigned sp, unsigned dp, const char *data)
{
	uint8_t seg[MAXPKT];
	size_t n = udpdg(seg, ip, sp, dp, data, strlen(data));
	return rawip(o, ip, 17, seg, n);
}

static size_t in_tcp(uint8_t *o, const struct ip *ip, unsigned sp, unsigned dp, uint32_t seq,
                     uint32_t ack, unsigned flags, const char *data)
{
	uint8_t seg[MAXPKT];
	size_t n = tcpseg(seg, ip, sp, dp, seq, ack, flags, data, data ? strlen(data) : 0);
	return rawip(o, ip, 6, seg, n);
}

static size_t in_icmp(uint8_t *o, const struct ip *ip, unsigned type, unsigned id, unsigned seq)
{
	uint8_t seg[64];
	icmpecho(seg, ip, id, seq);
	seg[0] = (uint8_t)type;
	seg[2] = seg[3] = 0;
	wr16(seg + 2, fold(sum16(seg, 16, 0)));
	return rawip(o, ip, 1, seg, 16);
}

static unsigned ethertype_of(const uint8_t *in)
{
	return in[0] >> 4 == 6 ? 0x86dd : 0x0800;
}

/* Ethernet header (no tags) + the IP packet in. */
static size_t with_eth(uint8_t *o, const uint8_t *in, size_t n)
{
	size_t e = eth(o, NULL, 0, ethertype_of(in));
	memcpy(o + e, in, n);
	return e + n;
}

/* The outer IP packet of an IP-carried tunnel around the IP packet in.
 * usp: the outer UDP source port (UDP tunnels); id: key, session, VNI. */
static size_t tun_ip(uint8_t *o, enum tk kind, const struct ip *outer, uint32_t id, unsigned usp,
                     const uint8_t *in, size_t n)
{
	uint8_t b[MAXPKT], l2[MAXPKT];
	size_t bl = 0;
	unsigned proto = 47;
	switch (kind) {
	case TK_GRE:
		wr16(b, 0x2000);
		wr16(b + 2, ethertype_of(in));
		wr32(b + 4, id);
		memcpy(b + 8, in, n);
		bl = 8 + n;
		break;
	case TK_GRE_TEB:
		wr16(b, 0x2000);
		wr16(b + 2, 0x6558);
		wr32(b + 4, id);
		bl = 8 + with_eth(b + 8, in, n);
		break;
	case TK_ERSPAN1:
		wr16(b, 0);
		wr16(b + 2, 0x88be);
		bl = 4 + with_eth(b + 4, in, n);
		break;
	case TK_ERSPAN2:
		wr16(b, 0x1000);
		wr16(b + 2, 0x88be);
		wr32(b + 4, 1);           /* sequence */
		wr16(b + 8, 0x1000);      /* version 1, VLAN 0 */
		wr16(b + 10, id & 0x3ff); /* session */
		wr32(b + 12, 0);
		bl = 16 + with_eth(b + 16, in, n);
		break;
	case TK_ERSPAN3:
		wr16(b, 0x1000);
		wr16(b + 2, 0x22eb);
		wr32(b + 4, 1);
		wr16(b + 8, 0x2000); /* version 2 */
		wr16(b + 10, id & 0x3ff);
		wr32(b + 12, 0x01020304); /* timestamp */
		wr32(b + 16, 0);          /* SGT, frame type 0, no subheader */
		bl = 20 + with_eth(b + 20, in, n);
		break;
	case TK_PPTP:
		wr16(b, 0x3001); /* key, sequence, version 1 */
		wr16(b + 2, 0x880b);
		wr16(b + 4, (unsigned)(4 + n));
		wr16(b + 6, id); /* call id */
		wr32(b + 8, 1);
		b[12] = 0xff;
		b[13] = 0x03;
		wr16(b + 14, in[0] >> 4 == 6 ? 0x0057 : 0x0021);
		memcpy(b + 16, in, n);
		bl = 16 + n;
		break;
	case TK_IPIP:
		proto = in[0] >> 4 == 6 ? 41 : 4;
		memcpy(b, in, n);
		bl = n;
		break;
	case TK_VXLAN:
		proto = 17;
		wr32(l2, 0x08000000);
		wr32(l2 + 4, id << 8);
		bl = udpdg(b, outer, usp, 4789, l2, 8 + with_eth(l2 + 8, in, n));
		break;
	case TK_GENEVE:
		proto = 17;
		l2[0] = 2; /* two words of options */
		l2[1] = 0;
		wr16(l2 + 2, 0x6558);
		wr32(l2 + 4, id << 8);
		wr16(l2 + 8, 0x0104); /* option class */
		l2[10] = 1;           /* type */
		l2[11] = 1;           /* one word of data */
		wr32(l2 + 12, 0xfeedf00d);
		bl = udpdg(b, outer, usp, 6081, l2, 16 + with_eth(l2 + 16, in, n));
		break;
	case TK_TEREDO:
		proto = 17;
		/* origin indication, then the IPv6 packet */
		wr16(l2, 0x0000);
		wr16(l2 + 2, ~40000u & 0xffff); /* obfuscated port */
		wr32(l2 + 4, ~0xc0000202u);     /* obfuscated address */
		memcpy(l2 + 8, in, n);
		bl = udpdg(b, outer, usp, id, l2, 8 + n);
		break;
	default: die("tun_ip: not an IP tunnel");
	}
	return rawip(o, outer, proto, b, bl);
}

/* A whole frame: link-level encapsulations, or Ethernet + tun_ip(). */
static void add_tun(struct cap *c, enum tk kind, const struct ip *outer, uint32_t id, unsigned usp,
                    const uint8_t *in, size_t n)
{
	uint8_t f[MAXPKT];
	size_t o;
	switch (kind) {
	case TK_MPLS:
		o = eth(f, NULL, 0, 0x8847);
		wr32(f + o, 1000u << 12 | 64); /* transport label */
		wr32(f + o + 4, id << 12 | 0x100 | 64);
		memcpy(f + o + 8, in, n);
		o += 8 + n;
		break;
	case TK_PPPOE:
		o = eth(f, NULL, 0, 0x8864);
		f[o] = 0x11;
		f[o + 1] = 0;
		wr16(f + o + 2, id);
		wr16(f + o + 4, (unsigned)(2 + n));
		wr16(f + o + 6, in[0] >> 4 == 6 ? 0x0057 : 0x0021);
		memcpy(f + o + 8, in, n);
		o += 8 + n;
		break;
	case TK_VNTAG:
		o = eth(f, NULL, 0, 0x8926);
		wr32(f + o, 0x80050007);
		wr16(f + o + 4, ethertype_of(in));
		memcpy(f + o + 6, in, n);
		o += 6 + n;
		break;
	default: {
		uint8_t ip[MAXPKT];
		size_t l = tun_ip(ip, kind, outer, id, usp, in, n);
		o = with_eth(f, ip, l);
	}
	}
	emit(c, f, o);
}

/* gre.pcap: the case, 40 packets of SSH, DNS, NTP and ICMP inside
 * one GRE tunnel (key 7) between 203.0.113.1 and 203.0.113.2. */
static void write_gre(void)
{
	struct cap c;
	struct ip o = v4(203, 0, 113, 1, 203, 0, 113, 2), ro = swap(&o);
	struct ip ssh = v4(10, 1, 0, 10, 10, 2, 0, 22), rssh = swap(&ssh);
	struct ip dns = v4(10, 1, 0, 10, 10, 2, 0, 53), rdns = swap(&dns);
	struct ip ntp = v4(10, 1, 0, 11, 10, 2, 0, 123), rntp = swap(&ntp);
	struct ip png = v4(10, 1, 0, 12, 10, 2, 0, 1), rpng = swap(&png);
	uint8_t in[MAXPKT];
	size_t n;
	uint32_t cs = 100, ss = 900;

	cap_open(&c, "gre");
	/* 1-3: SSH handshake 10.1.0.10:40022 -> 10.2.0.22:22 */
	n = in_tcp(in, &ssh, 40022, 22, cs, 0, 0x02, NULL);
	add_tun(&c, TK_GRE, &o, 7, 0, in, n);
	n = in_tcp(in, &rssh, 22, 40022, ss, cs + 1, 0x12, NULL);
	add_tun(&c, TK_GRE, &ro, 7, 0, in, n);
	cs++;
	ss++;
	n = in_tcp(in, &ssh, 40022, 22, cs, ss, 0x10, NULL);
	add_tun(&c, TK_GRE, &o, 7, 0, in, n);
	/* 4-27: 12 rounds of 8 bytes each way */
	for (int i = 0; i < 12; i++) {
		n = in_tcp(in, &rssh, 22, 40022, ss, cs, 0x18, "srvdata!");
		add_tun(&c, TK_GRE, &ro, 7, 0, in, n);
		ss += 8;
		n = in_tcp(in, &ssh, 40022, 22, cs, ss, 0x18, "clidata!");
		add_tun(&c, TK_GRE, &o, 7, 0, in, n);
		cs += 8;
	}
	/* 28-30: FIN, FIN/ACK, ACK */
	n = in_tcp(in, &ssh, 40022, 22, cs, ss, 0x11, NULL);
	add_tun(&c, TK_GRE, &o, 7, 0, in, n);
	n = in_tcp(in, &rssh, 22, 40022, ss, cs + 1, 0x11, NULL);
	add_tun(&c, TK_GRE, &ro, 7, 0, in, n);
	n = in_tcp(in, &ssh, 40022, 22, cs + 1, ss + 1, 0x10, NULL);
	add_tun(&c, TK_GRE, &o, 7, 0, in, n);
	/* 31-34: two DNS queries (ports 40001, 40002) and their answers */
	for (unsigned q = 0; q < 2; q++) {
		n = in_udp(in, &dns, 40001 + q, 53, "query");
		add_tun(&c, TK_GRE, &o, 7, 0, in, n);
		n = in_udp(in, &rdns, 53, 40001 + q, "answer");
		add_tun(&c, TK_GRE, &ro, 7, 0, in, n);
	}
	/* 35-36: NTP */
	n = in_udp(in, &ntp, 123, 123, "ntp request 48 bytes............................");
	add_tun(&c, TK_GRE, &o, 7, 0, in, n);
	n = in_udp(in, &rntp, 123, 123, "ntp reply 48 bytes..............................");
	add_tun(&c, TK_GRE, &ro, 7, 0, in, n);
	/* 37-40: two echo requests (id 9) and their replies */
	for (unsigned s = 1; s <= 2; s++) {
		n = in_icmp(in, &png, 8, 9, s);
		add_tun(&c, TK_GRE, &o, 7, 0, in, n);
		n = in_icmp(in, &rpng, 0, 9, s);
		add_tun(&c, TK_GRE, &ro, 7, 0, in, n);
	}
	cap_close(&c);
}

/* tunnels.pcap: a DNS query and its answer through each encapsulation.
 * The inner client port tells them apart: 5000 + the packet pair's number
 * below. The inner addresses are 10.9.0.1 -> 10.9.0.2 (IPv4) or
 * 2001:db8:9::1 -> 2001:db8:9::2 (IPv6). */
static void tun_pair(struct cap *c, enum tk kind, const struct ip *o, uint32_t id, unsigned usp,
                     unsigned rusp, const struct ip *in_ip, unsigned sp)
{
	uint8_t in[MAXPKT];
	struct ip ro = swap(o), rin = swap(in_ip);
	size_t n = in_udp(in, in_ip, sp, 53, "query");
	add_tun(c, kind, o, id, usp, in, n);
	n = in_udp(in, &rin, 53, sp, "answer");
	/* Teredo: id is the client's port, usp the server's */
	add_tun(c, kind, &ro, kind == TK_TEREDO ? usp : id, rusp, in, n);
}

static void write_tunnels(void)
{
	struct cap c;
	static const uint16_t s6[8] = {0x2001, 0xdb8, 0x66, 0, 0, 0, 0, 1};
	static const uint16_t d6[8] = {0x2001, 0xdb8, 0x66, 0, 0, 0, 0, 2};
	static const uint16_t i6s[8] = {0x2001, 0xdb8, 9, 0, 0, 0, 0, 1};
	static const uint16_t i6d[8] = {0x2001, 0xdb8, 9, 0, 0, 0, 0, 2};
	struct ip o4 = v4(198, 51, 100, 1, 198, 51, 100, 2);
	struct ip o6 = v6(s6, d6);
	struct ip in4 = v4(10, 9, 0, 1, 10, 9, 0, 2);
	struct ip in6 = v6(i6s, i6d);

	cap_open(&c, "tunnels");
	/* 1-2 GRE key 1, 3-4 GRE key 2 (the same inner 5-tuple: two flows) */
	tun_pair(&c, TK_GRE, &o4, 1, 0, 0, &in4, 5001);
	tun_pair(&c, TK_GRE, &o4, 2, 0, 0, &in4, 5001);
	tun_pair(&c, TK_GRE_TEB, &o4, 3, 0, 0, &in4, 5003);   /* 5-6 */
	tun_pair(&c, TK_ERSPAN1, &o4, 0, 0, 0, &in4, 5004);   /* 7-8 */
	tun_pair(&c, TK_ERSPAN2, &o4, 100, 0, 0, &in4, 5005); /* 9-10 */
	tun_pair(&c, TK_ERSPAN3, &o4, 101, 0, 0, &in4, 5006); /* 11-12 */
	tun_pair(&c, TK_PPTP, &o4, 77, 0, 0, &in4, 5007);     /* 13-14 */
	tun_pair(&c, TK_IPIP, &o4, 0, 0, 0, &in4, 5008);      /* 15-16 IPv4 in IPv4 */
	tun_pair(&c, TK_IPIP, &o4, 0, 0, 0, &in6, 5009);      /* 17-18 6in4 */
	tun_pair(&c, TK_IPIP, &o6, 0, 0, 0, &in4, 5010);      /* 19-20 4in6 */
	tun_pair(&c, TK_IPIP, &o6, 0, 0, 0, &in6, 5011);      /* 21-22 6in6 */
	/* 23-24 VXLAN VNI 42: the outer source port differs per direction */
	tun_pair(&c, TK_VXLAN, &o4, 42, 50123, 50999, &in4, 5012);
	tun_pair(&c, TK_GENEVE, &o4, 43, 50124, 50998, &in4, 5013); /* 25-26 */
	/* 27-28 Teredo: the server side uses port 3544 both ways */
	tun_pair(&c, TK_TEREDO, &o4, 40000, 3544, 40000, &in6, 5014);
	tun_pair(&c, TK_MPLS, &o4, 2000, 0, 0, &in4, 5015);    /* 29-30 */
	tun_pair(&c, TK_PPPOE, &o4, 0x1234, 0, 0, &in4, 5016); /* 31-32 */
	tun_pair(&c, TK_VNTAG, &o4, 0, 0, 0, &in4, 5017);      /* 33-34 */
	cap_close(&c);
}

/* tunnel-anomalies.pcap: VXLAN inside GRE (two layers), five IP-in-IP
 * layers (one too many), an inner packet cut short, a GRE header with a
 * bad version, and a GRE packet cut in two outer fragments. */
static void write_tunnel_anomalies(void)
{
	struct cap c;
	struct ip o = v4(198, 51, 100, 7, 198, 51, 100, 8);
	struct ip mid = v4(172, 16, 0, 1, 172, 16, 0, 2);
	struct ip in4 = v4(10, 9, 0, 1, 10, 9, 0, 2);
	uint8_t in[MAXPKT], a[MAXPKT], b[MAXPKT], f[MAXPKT];
	size_t n, l;

	cap_open(&c, "tunnel-anomalies");
	/* 1: GRE key 5 around VXLAN VNI 6 around UDP 10.9.0.1:6001 -> 53 */
	n = in_udp(in, &in4, 6001, 53, "query");
	l = tun_ip(a, TK_VXLAN, &mid, 6, 50000, in, n);
	l = tun_ip(b, TK_GRE, &o, 5, 0, a, l);
	emit(&c, f, with_eth(f, b, l));

	/* 2: five IP-in-IP layers around UDP 10.9.0.1:6002 -> 53: the packet
	 * stays the fourth inner header (10.0.0.4 -> 10.0.1.4, protocol 4) */
	n = in_udp(in, &in4, 6002, 53, "query");
	memcpy(a, in, n);
	for (unsigned i = 5; i >= 1; i--) {
		struct ip h = i == 1 ? o : v4(10, 0, 0, i - 1, 10, 0, 1, i - 1);
		n = tun_ip(b, TK_IPIP, &h, 0, 0, a, n);
		memcpy(a, b, n);
	}
	emit(&c, f, with_eth(f, a, n));

	/* 3: GRE around an inner IPv4 header cut to 12 bytes */
	n = in_udp(in, &in4, 6003, 53, "query");
	l = tun_ip(b, TK_GRE, &o, 5, 0, in, n);
	l -= n - 12;
	wr16(b + 2, (unsigned)l);
	b[10] = b[11] = 0;
	wr16(b + 10, fold(sum16(b, 20, 0)));
	emit(&c, f, with_eth(f, b, l));

	/* 4: GRE version 3 */
	l = tun_ip(b, TK_GRE, &o, 5, 0, in, n);
	b[21] |= 3;
	emit(&c, f, with_eth(f, b, l));

	/* 5-6: a GRE packet (key 5, UDP 10.9.0.1:6004 -> 53) sent as two outer
	 * fragments of 24 and the rest of the GRE bytes */
	n = in_udp(in, &in4, 6004, 53, "query with some more bytes");
	l = tun_ip(b, TK_GRE, &o, 5, 0, in, n);
	memcpy(a, b, 20);
	wr16(a + 2, 20 + 24);
	wr16(a + 4, 0x2222);
	wr16(a + 6, 0x2000); /* MF */
	a[10] = a[11] = 0;
	wr16(a + 10, fold(sum16(a, 20, 0)));
	memcpy(a + 20, b + 20, 24);
	emit(&c, f, with_eth(f, a, 44));
	memcpy(a, b, 20);
	wr16(a + 2, (unsigned)(20 + l - 44));
	wr16(a + 4, 0x2222);
	wr16(a + 6, 3); /* offset 24 */
	a[10] = a[11] = 0;
	wr16(a + 10, fold(sum16(a, 20, 0)));
	memcpy(a + 20, b + 44, l - 44);
	emit(&c, f, with_eth(f, a, 20 + l - 44));
	cap_close(&c);
}

/* A capture of another link type. */
static void cap_open_link(struct cap *c, const char *name, int dlt)
{
	int n = snprintf(c->path, sizeof(c->path), "%s/%s.pcap", outdir, name);
	if (n < 0 || (size_t)n >= sizeof(c->path))
		die("path too long");
	c->dead = pcap_open_dead(dlt, 65535);
	if (!c->dead)
		die("pcap_open_dead failed");
	c->d = pcap_dump_open(c->dead, c->path);
	if (!c->d)
		die("pcap_dump_open failed");
	c->usec = 0;
	c->n = 0;
	c->last_record = 0;
}

/* ppp.pcap (DLT_PPP) and chdlc.pcap (DLT_C_HDLC): a DNS query and answer,
 * then one LCP frame (PPP) or SLARP frame (Cisco HDLC), then a frame cut
 * after its link header. */
/* gre-scan.pcap: a vertical port scan carried in a GRE tunnel: 25 SYNs from
 * 203.0.113.77 to ports 3001-3025 of 192.168.1.70, each wrapped in GRE
 * (key 9) between 198.51.100.1 and 198.51.100.2. Scan detection must see
 * the inner packets. */
static void write_gre_scan(void)
{
	struct cap c;
	struct ip o = v4(198, 51, 100, 1, 198, 51, 100, 2);
	struct ip scan = v4(203, 0, 113, 77, 192, 168, 1, 70);
	uint8_t in[MAXPKT];
	cap_open(&c, "gre-scan");
	for (unsigned i = 0; i < 25; i++) {
		size_t n = in_tcp(in, &scan, 45000, 3001 + i, 7000 + i, 0, 0x02, NULL);
		add_tun(&c, TK_GRE, &o, 9, 0, in, n);
	}
	cap_close(&c);
}

static void write_link(const char *name, int dlt)
{
	struct cap c;
	struct ip ip = v4(10, 9, 0, 1, 10, 9, 0, 2), rip = swap(&ip);
	uint8_t in[MAXPKT], f[MAXPKT];
	static const uint8_t ppp_ip[4] = {0xff, 0x03, 0x00, 0x21};
	static const uint8_t hdlc_ip[4] = {0x0f, 0x00, 0x08, 0x00};
	const uint8_t *hdr = dlt == DLT_PPP ? ppp_ip : hdlc_ip;
	size_t n;

	cap_open_link(&c, name, dlt);
	n = in_udp(in, &ip, 7001, 53, "query");
	memcpy(f, hdr, 4);
	memcpy(f + 4, in, n);
	emit(&c, f, 4 + n);
	n = in_udp(in, &rip, 53, 7001, "answer");
	memcpy(f + 4, in, n);
	emit(&c, f, 4 + n);
	if (dlt == DLT_PPP) {
		static const uint8_t lcp[10] = {0xff, 0x03, 0xc0, 0x21, 1, 1, 0, 4, 0, 0};
		emit(&c, lcp, sizeof(lcp));
	} else {
		static const uint8_t slarp[8] = {0x8f, 0x00, 0x80, 0x35, 0, 0, 0, 2};
		emit(&c, slarp, sizeof(slarp));
	}
	emit(&c, hdr, 3);
	cap_close(&c);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: craft OUTDIR\n");
		return 2;
	}
	outdir = argv[1];
	write_malformed();
	write_frag4();
	write_frag6();
	write_tcp_stream();
	write_tcp_evasion();
	write_qinq();
	write_recon("recon");
	write_recon("recon-homenet");
	write_truncated("truncated-data", 16 + 30); /* header and 30 of 142 bytes */
	write_truncated("truncated-header", 7);     /* 7 of the 16 header bytes */
	write_demo();
	write_flow_emergency();
	write_gre();
	write_tunnels();
	write_tunnel_anomalies();
	write_link("ppp", DLT_PPP);
	write_link("chdlc", DLT_C_HDLC);
	write_gre_scan();
	return 0;
}
