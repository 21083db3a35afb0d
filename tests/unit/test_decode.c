/* Unit tests for the packet decoder (src/net/decode.c) and capture file
 * reading (src/net/pcap.c). Packets are built byte by byte here; expected
 * values come from the bytes written, not from the decoder. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <pcap/dlt.h>

#include "net/net.h"

/* ---- packet building ---------------------------------------------------- */

#include "pktbuf.h"

static void set16(pkt *k, size_t at, uint16_t v)
{
	k->b[at] = (uint8_t)(v >> 8);
	k->b[at + 1] = (uint8_t)v;
}


static void eth(pkt *k, uint16_t type)
{
	static const uint8_t macs[12] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55,
	                                 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb};
	put(k, macs, 12);
	p16(k, type);
}

/* IPv4 header 192.0.2.1 -> 198.51.100.2, TTL 64; returns its offset. */
static size_t ip4(pkt *k, uint8_t proto, const uint8_t *opt, size_t optlen, uint16_t id,
                  uint16_t frag)
{
	size_t at = k->n;
	p8(k, (uint8_t)(0x40 | (20 + optlen) / 4));
	p8(k, 0);
	p16(k, 0); /* total length, set by ip4_end */
	p16(k, id);
	p16(k, frag);
	p8(k, 64);
	p8(k, proto);
	p16(k, 0);
	static const uint8_t a[8] = {192, 0, 2, 1, 198, 51, 100, 2};
	put(k, a, 8);
	if (optlen)
		put(k, opt, optlen);
	return at;
}
static void ip4_end(pkt *k, size_t at)
{
	set16(k, at + 2, (uint16_t)(k->n - at));
	size_t hl = (size_t)(k->b[at] & 0x0f) * 4;
	set16(k, at + 10, 0);
	set16(k, at + 10, cksum(k->b + at, hl));
}

/* IPv6 header 2001:db8::1 -> 2001:db8::2, hop limit 64. */
static size_t ip6(pkt *k, uint8_t nh)
{
	size_t at = k->n;
	p32(k, 0x60000000);
	p16(k, 0);
	p8(k, nh);
	p8(k, 64);
	static const uint8_t a[32] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
	                              0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
	put(k, a, 32);
	return at;
}
static void ip6_end(pkt *k, size_t at)
{
	set16(k, at + 4, (uint16_t)(k->n - at - 40));
}

static void tcp(pkt *k, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
                uint16_t win, const uint8_t *opt, size_t optlen)
{
	p16(k, sport);
	p16(k, dport);
	p32(k, seq);
	p32(k, ack);
	p8(k, (uint8_t)(((20 + optlen) / 4) << 4));
	p8(k, flags);
	p16(k, win);
	p16(k, 0);
	p16(k, 0);
	if (optlen)
		put(k, opt, optlen);
}

static void udp(pkt *k, uint16_t sport, uint16_t dport, const void *data, size_t n)
{
	p16(k, sport);
	p16(k, dport);
	p16(k, (uint16_t)(8 + n));
	p16(k, 0);
	put(k, data, n);
}

static om_decoder *dec;

static int setup(void **state)
{
	(void)state;
	dec = om_decoder_new(1 << 20, 64, 30);
	return dec ? 0 : -1;
}
static int teardown(void **state)
{
	(void)state;
	dec = om_decoder_free(dec);
	return 0;
}

static int run(om_packet *p, int lt, const pkt *k)
{
	memset(p, 0, sizeof(*p));
	p->raw = k->b;
	p->caplen = (uint32_t)k->n;
	p->wirelen = (uint32_t)k->n;
	p->linktype = lt;
	p->ts = 1000000;
	return om_decode(dec, p);
}

static void assert_addr(const om_addr *a, const char *want)
{
	char buf[64];
	om_addr_str(a, buf, sizeof(buf));
	assert_string_equal(buf, want);
}

/* ---- clean packets ------------------------------------------------------- */

static void test_eth_ipv4_tcp(void **state)
{
	(void)state;
	/* MSS 1460, NOP, WS 7, SACK permitted, timestamps = 20 bytes */
	static const uint8_t opts[20] = {2, 4,  0x05, 0xb4, 1, 3, 3, 7, 4, 2,
	                                 8, 10, 0,    0,    0, 1, 0, 0, 0, 0};
	pkt k = {0};
	om_packet p;
	eth(&k, 0x0800);
	size_t at = ip4(&k, 6, NULL, 0, 1, 0x4000);
	tcp(&k, 40000, 443, 0x01020304, 0xa0b0c0d0, OM_TH_SYN | OM_TH_ACK, 29200, opts, 20);
	put(&k, "hello", 5);
	ip4_end(&k, at);
	uint64_t tcp_before = om_decoder_stats(dec)->tcp;

	assert_int_equal(run(&p, DLT_EN10MB, &k), 0);
	assert_int_equal(p.anomaly, OM_ANOM_NONE);
	assert_int_equal(p.flags, OM_PKT_IPV4 | OM_PKT_TCP | OM_PKT_HAS_PORTS);
	assert_int_equal(p.ip_ver, 4);
	assert_int_equal(p.proto, 6);
	assert_int_equal(p.ttl, 64);
	assert_addr(&p.src, "192.0.2.1");
	assert_addr(&p.dst, "198.51.100.2");
	assert_int_equal(p.sport, 40000);
	assert_int_equal(p.dport, 443);
	assert_int_equal(p.tcp_seq, 0x01020304);
	assert_int_equal(p.tcp_ack, 0xa0b0c0d0);
	assert_int_equal(p.tcp_flags, OM_TH_SYN | OM_TH_ACK);
	assert_int_equal(p.tcp_win, 29200);
	assert_int_equal(p.tcp_wscale, 7);
	assert_ptr_equal(p.l3, k.b + 14);
	assert_int_equal(p.l3_len, 20 + 40 + 5);
	assert_int_equal(p.payload_len, 5);
	assert_memory_equal(p.payload, "hello", 5);
	assert_int_equal(p.vlan_count, 0);
	assert_int_equal(om_decoder_stats(dec)->tcp, tcp_before + 1);
}

static void test_tcp_wscale(void **state)
{
	(void)state;
	pkt k = {0};
	om_packet p;
	/* shift 20 is capped at 14 (RFC 7323) */
	static const uint8_t ws[4] = {1, 3, 3, 20};
	size_t at = ip4(&k, 6, NULL, 0, 1, 0);
	tcp(&k, 1, 2, 0, 0, OM_TH_SYN, 1024, ws, 4);
	ip4_end(&k, at);
	assert_int_equal(run(&p, DLT_RAW, &k), 0);
	assert_int_equal(p.tcp_wscale, 14);

	/* no window scale option: 0xff; EOL ends the list, junk after it is ignored */
	static const uint8_t eol[4] = {0, 0xee, 0xee, 0xee};
	k.n = 0;
	at = ip4(&k, 6, NULL, 0, 1, 0);
	tcp(&k, 1, 2, 0, 0, OM_TH_ACK, 1024, eol, 4);
	ip4_end(&k, at);
	assert_int_equal(run(&p, DLT_RAW, &k), 0);
	assert_int_equal(p.tcp_wscale, 0xff);
	assert_int_equal(p.payload_len, 0);
}

static void test_eth_padding_udp(void **state)
{
	(void)state;
	pkt k = {0};
	om_packet p;
	eth(&k, 0x0800);
	size_t at = ip4(&k, 17, NULL, 0, 9, 0);
	udp(&k, 5353, 53, "abcd", 4);
	ip4_end(&k, at);
	/* pad the frame to the Ethernet minimum of 60 bytes */
	while (k.n < 60)
		p8(&k, 0xee);
	assert_int_equal(run(&p, DLT_EN10MB, &k), 0);
	assert_int_equal(p.flags, OM_PKT_IPV4 | OM_PKT_UDP | OM_PKT_HAS_PORTS);
	assert_int_equal(p.l3_len, 32);
	assert_int_equal(p.sport, 5353);
	assert_int_equal(p.dport, 53);
	assert_int_equal(p.payload_len, 4);
	assert_memory_equal(p.payload, "abcd", 4);
}

static void test_icmp(void **state)
{
	(void)state;
	pkt k = {0};
	om_packet p;
	size_t at = ip4(&k, 1, NULL, 0, 2, 0);
	static const uint8_t echo[12] = {8, 0, 0, 0, 0, 1, 0, 7, 'p', 'i', 'n', 'g'};
	put(&k, echo, 12);
	ip4_end(&k, at);
	assert_int_equal(run(&p, DLT_RAW, &k), 0);
	assert_int_equal(p.flags, OM_PKT_IPV4 | OM_PKT_ICMP);
	assert_int_equal(p.icmp_type, 8);
	assert_int_equal(p.icmp_code, 0);
	assert_int_equal(p.payload_len, 4);

	/* ICMPv6 echo request over IPv6 */
	k.n = 0;
	at = ip6(&k, 58);
	static const uint8_t echo6[8] = {128, 0, 0, 0, 0, 1, 0, 1};
	put(&k, echo6, 8);
	ip6_end(&k, at);
	assert_int_equal(run(&p, DLT_RAW, &k), 0);
	assert_int_equal(p.flags, OM_PKT_IPV6 | OM_PKT_ICMP);
	assert_int_equal(p.proto, 58);
	assert_int_equal(p.icmp_type, 128);
	assert_int_equal(p.payload_len, 0);
}

static void test_ipv6_tcp_udp(void **state)
{
	(void)state;
	pkt k = {0};
	om_packet p;
	eth(&k, 0x86dd);
	size_t at = ip6(&k, 6);
	tcp(&k, 50000, 22, 7, 0, OM_TH_SYN, 64800, NULL, 0);
	ip6_end(&k, at);
	assert_int_equal(run(&p, DLT_EN10MB, &k), 0);
	assert_int_equal(p.flags, OM_PKT_IPV6 | OM_PKT_TCP | OM_PKT_HAS_PORTS);
	assert_int_equal(p.ip_ver, 6);
	assert_int_equal(p.ttl, 64);
	assert_addr(&p.src, "2001:db8::1");
	assert_addr(&p.dst, "2001:db8::2");
	assert_int_equal(p.sport, 50000);
	assert_int_equal(p.dport, 22);
	assert_int_equal(p.l3_len, 60);

	k.n = 0;
	at = ip6(&k, 17);
	udp(&k, 547, 546, "xyz", 3);
	ip6_end(&k, at);
	assert_int_equal(run(&p, DLT_IPV6, &k), 0);
	assert_int_equal(p.flags, OM_PKT_IPV6 | OM_PKT_UDP | OM_PKT_HAS_PORTS);
	assert_int_equal(p.payload_len, 3);
}

static void test_ipv6_ext_chain(void **state)
{
	(void)state;
	pkt k = {0};
	om_packet p;
	/* hop-by-hop (PadN 4) -> destination options (Pad1 x6) -> routing
	 * (type 2, 24 bytes) -> AH (24 bytes) -> UDP */
	size_t at = ip6(&k, 0);
	static const uint8_t hbh[8] = {60, 0, 1, 4, 0, 0, 0, 0};
	static const uint8_t dst[8] = {43, 0, 0, 0, 0, 0, 0, 0};
	uint8_t rh[24] = {51, 2, 2, 1};
	uint8_t ah[24] = {17, 4};
	put(&k, hbh, 8);
	put(&k, dst, 8);
	put(&k, rh, 24);
	put(&k, ah, 24);
	udp(&k, 1000, 2000, "data", 4);
	ip6_end(&k, at);
	assert_int_equal(run(&p, DLT_RAW, &k), 0);
	assert_int_equal(p.anomaly, OM_ANOM_NONE);
	assert_int_equal(p.proto, 17);
	assert_int_equal(p.sport, 1000);
	assert_int_equal(p.payload_len, 4);
	assert_ptr_equal(p.payload, k.b + 40 + 8 + 8 + 24 + 24 + 8);
	assert_int_equal(p.l3_len, k.n);

	/* atomic fragment (offset 0, M=0) is not held for reassembly */
	k.n = 0;
	at = ip6(&k, 44);
	static const uint8_t atomic[8] = {17, 0, 0, 0, 0, 0, 0, 9};
	put(&k, atomic, 8);
	udp(&k, 1, 2, "a", 1);
	ip6_end(&k, at);
	assert_int_equal(run(&p, DLT_RAW, &k), 0);
	assert_false(p.flags & OM_PKT_FRAGMENT);
	assert_int_equal(p.proto, 17);

	/* ESP and "no next header" end the chain */
	k.n = 0;
	at = ip6(&k, 50);
	p32(&k, 0x1000);
	p32(&k, 1);
	ip6_end(&k, at);
	assert_int_equal(run(&p, DLT_RAW, &k), 0);
	assert_int_equal(p.proto, 50);
	assert_int_equal(p.payload_len, 8);
	k.n = 0;
	at = ip6(&k, 59);
	ip6_end(&k, at);
	assert_int_equal(run(&p, DLT_RAW, &k), 0);
	assert_int_equal(p.proto, 59);
	assert_int_equal(p.payload_len, 0);
}

static void test_ipv6_ext_anomalies(void **state)
{
	(void)state;
	pkt k = {0};
	om_packet p;
	size_t at;

	/* hop-by-hop after another header */
	at = ip6(&k, 60);
	static const uint8_t d0[8] = {0, 0, 1, 4, 0, 0, 0, 0};
	static const uint8_t h0[8] = {17, 0, 1, 4, 0, 0, 0, 0};
	put(&k, d0, 8);
	put(&k, h0, 8);
	udp(&k, 1, 2, NULL, 0);
	ip6_end(&k, at);
	assert_int_equal(run(&p, DLT_RAW, &k), -EINVAL);
	assert_int_equal(p.anomaly, OM_ANOM_IPV6_EXTHDR_INVALID);
	assert_int_equal(p.ip_ver, 6); /* decoded before the problem */

	/* 9 destination option headers: one more than the cap of 8 */
	k.n = 0;
	at = ip6(&k, 60);
	for (int i = 0; i < 9; i++) {
		uint8_t h[8] = {i == 8 ? 17 : 60, 0, 1, 4, 0, 0, 0, 0};
		put(&k, h, 8);
	}
	udp(&k, 1, 2, NULL, 0);
	ip6_end(&k, at);
	assert_int_equal(run(&p, DLT_RAW, &k), -EINVAL);
	assert_int_equal(p.anomaly, OM_ANOM_IPV6_EXTHDR_TOO_MANY);
	/* 8 of them are fine */
	k.n = 0;
	at = ip6(&k, 60);
	for (int i = 0; i < 8; i++) {
		uint8_t h[8] = {i == 7 ? 17 : 60, 0, 1, 4, 0, 0, 0, 0};
		put(&k, h, 8);
	}
	udp(&k, 1, 2, NULL, 0);
	ip6_end(&k, at);
	assert_int_equal(run(&p, DLT_RAW, &k), 0);

	/* header length (2 -> 24 bytes) runs past the payload */
	k.n = 0;
	at = ip6(&k, 60);
	static const uint8_t big[8] = {17, 2, 1, 4, 0, 0, 0, 0};
	put(&k, big, 8);
	ip6_end(&k, at);
	assert_int_equal(run(&p, DLT_RAW, &k), -EINVAL);
	assert_int_equal(p.anomaly, OM_ANOM_IPV6_TRUNC);

	/* PadN claiming 9 bytes inside an 8-byte header */
	k.n = 0;
	at = ip6(&k, 0);
	static const uint8_t padn[8] = {17, 0, 1, 9, 0, 0, 0, 0};
	put(&k, padn, 8);
	udp(&k, 1, 2, NULL, 0);
	ip6_end(&k, at);
	assert_int_equal(run(&p, DLT_RAW, &k), -EINVAL);
	assert_int_equal(p.anomaly, OM_ANOM_IPV6_EXTHDR_INVALID);

	/* AH with payload length 0 (shorter than its fixed part) */
	k.n = 0;
	at = ip6(&k, 51);
	static const uint8_t ah0[8] = {17, 0, 0, 0, 0, 0, 0, 1};
	put(&k, ah0, 8);
	udp(&k, 1, 2, NULL, 0);
	ip6_end(&k, at);
	assert_int_equal(run(&p, DLT_RAW, &k), -EINVAL);
	assert_int_equal(p.anomaly, OM_ANOM_IPV6_EXTHDR_INVALID);

	/* two fragment headers */
	k.n = 0;
	at = ip6(&k, 44);
	static const uint8_t f1[8] = {44, 0, 0, 0, 0, 0, 0, 1};
	static const uint8_t f2[8] = {17, 0, 0, 0, 0, 0, 0, 2};
	put(&k, f1, 8);
	put(&k, f2, 8);
	udp(&k, 1, 2, NULL, 0);
	ip6_end(&k, at);
	assert_int_equal(run(&p, DLT_RAW, &k), -EINVAL);
	assert_int_equal(p.anomaly, OM_ANOM_IPV6_EXTHDR_INVALID);

	/* fragment header cut short: 4 bytes of it in the payload */
	k.n = 0;
	at = ip6(&k, 44);
	p32(&k, 0x11000000);
	ip6_end(&k, at);
	assert_int_equal(run(&p, DLT_RAW, &k), -EINVAL);
	assert_int_equal(p.anomaly, OM_ANOM_IPV6_TRUNC);
}

static void test_ipv6_anomalies(void **state)
{
	(void)state;
	pkt k = {0};
	om_packet p;
	size_t at = ip6(&k, 17);
	udp(&k, 1, 2, "abc", 3);
	ip6_end(&k, at);

	pkt s = k;
	s.n = 39;
	assert_int_equal(run(&p, DLT_IPV6, &s), -EINVAL);
	assert_int_equal(p.anomaly, OM_ANOM_IPV6_TRUNC);

	s = k;
	s.b[0] = 0x50;
	assert_int_equal(run(&p, DLT_IPV6, &s), -EINVAL);
	assert_int_equal(p.anomaly, OM_ANOM_IPV6_WRONG_VERSION);

	s = k;
	set16(&s, 4, 12); /* payload length 12, 11 present */
	assert_int_equal(run(&p, DLT_IPV6, &s), -EINVAL);
	assert_int_equal(p.anomaly, OM_ANOM_IPV6_TRUNC);
}

static void test_vlan(void **state)
{
	(void)state;
	static const uint16_t outer[] = {0x8100, 0x88a8, 0x9100};
	for (size_t i = 0; i < 3; i++) {
		pkt k = {0};
		om_packet p;
		eth(&k, outer[i]);
		p16(&k, 0x2064); /* PCP 1, VLAN 100 */
		p16(&k, 0x8100);
		p16(&k, 0x00c8); /* VLAN 200 */
		p16(&k, 0x0800);
		size_t at = ip4(&k, 17, NULL, 0, 1, 0);
		udp(&k, 7, 8, NULL, 0);
		ip4_end(&k, at);
		assert_int_equal(run(&p, DLT_EN10MB, &k), 0);
		assert_int_equal(p.vlan_count, 2);
		assert_int_equal(p.vlan[0], 100);
		assert_int_equal(p.vlan[1], 200);
		assert_int_equal(p.sport, 7);
		assert_ptr_equal(p.l3, k.b + 22);
	}

	/* single tag */
	pkt k = {0};
	om_packet p;
	eth(&k, 0x8100);
	p16(&k, 0x0fff);
	p16(&k, 0x86dd);
	size_t at = ip6(&k, 17);
	udp(&k, 7, 8, NULL, 0);
	ip6_end(&k, at);
	assert_int_equal(run(&p, DLT_EN10MB, &k), 0);
	assert_int_equal(p.vlan_count, 1);
	assert_int_equal(p.vlan[0], 4095);
	assert_int_equal(p.ip_ver, 6);

	/* three tags */
	k.n = 0;
	eth(&k, 0x88a8);
	p16(&k, 1);
	p16(&k, 0x8100);
	p16(&k, 2);
	p16(&k, 0x8100);
	p16(&k, 3);
	p16(&k, 0x0800);
	assert_int_equal(run(&p, DLT_EN10MB, &k), -EINVAL);
	assert_int_equal(p.anomaly, OM_ANOM_VLAN_TOO_MANY);

	/* tag cut after two bytes */
	k.n = 0;
	eth(&k, 0x8100);
	p16(&k, 5);
	assert_int_equal(run(&p, DLT_EN10MB, &k), -EINVAL);
	assert_int_equal(p.anomaly, OM_ANOM_VLAN_TRUNC);
}

static void arp_body(pkt *k, uint16_t htype, uint16_t ptype, uint8_t hl, uint8_t pl, uint16_t op)
{
	p16(k, htype);
	p16(k, ptype);
	p8(k, hl);
	p8(k, pl);
	p16(k, op);
	static const uint8_t body[20] = {2, 0, 0, 0, 0, 1, 192, 0, 2, 1,
	                                 0, 0, 0, 0, 0, 0, 192, 0, 2, 254};
	put(k, body, 20);
}

static void test_arp(void **state)
{
	(void)state;
	pkt k = {0};
	om_packet p;
	eth(&k, 0x0806);
	arp_body(&k, 1, 0x0800, 6, 4, 1);
	uint64_t arp_before = om_decoder_stats(dec)->arp;
	assert_int_equal(run(&p, DLT_EN10MB, &k), 1);
	assert_int_equal(p.flags, OM_PKT_ARP);
	assert_int_equal(p.anomaly, OM_ANOM_NONE);
	assert_int_equal(p.ip_ver, 0);
	assert_addr(&p.src, "192.0.2.1");
	assert_addr(&p.dst, "192.0.2.254");
	assert_int_equal(om_decoder_stats(dec)->arp, arp_before + 1);

	pkt s = k;
	s.n = 14 + 20; /* 28 needed */
	assert_int_equal(run(&p, DLT_EN10MB, &s), -EINVAL);
	assert_int_equal(p.anomaly, OM_ANOM_ARP_TRUNC);
	s.n = 14 + 7;
	assert_int_equal(run(&p, DLT_EN10MB, &s), -EINVAL);
	assert_int_equal(p.anomaly, OM_ANOM_ARP_TRUNC);

	k.n = 0;
	eth(&k, 0x0806);
	arp_body(&k, 1, 0x0800, 5, 4, 1); /* Ethernet with a 5-byte address */
	assert_int_equal(run(&p, DLT_EN10MB, &k), -EINVAL);
	assert_int_equal(p.anomaly, OM_ANOM_ARP_INVALID);
	k.n = 0;
	eth(&k, 0x0806);
	arp_body(&k, 1, 0x0800, 6, 4, 0); /* opcode 0 */
	assert_int_equal(run(&p, DLT_EN10MB, &k), -EINVAL);
	assert_int_equal(p.anomaly, OM_ANOM_ARP_INVALID);
}

static void test_unknown_ethertype(void **state)
{
	(void)state;
	pkt k = {0};
	om_packet p;
	eth(&k, 0x88cc); /* LLDP */
	put(&k, "\x02\x07\x04", 3);
	uint64_t other = om_decoder_stats(dec)->other;
	assert_int_equal(run(&p, DLT_EN10MB, &k), 1);
	assert_int_equal(p.anomaly, OM_ANOM_NONE);
	assert_int_equal(p.ip_ver, 0);
	assert_int_equal(om_decoder_stats(dec)->other, other + 1);

	k.n = 13;
	assert_int_equal(run(&p, DLT_EN10MB, &k), -EINVAL);
	assert_int_equal(p.anomaly, OM_ANOM_ETH_TRUNC);
}

static void test_link_types(void **state)
{
	(void)state;
	pkt ip = {0};
	size_t at = ip4(&ip, 17, NULL, 0, 3, 0);
	udp(&ip, 11, 12, "q", 1);
	ip4_end(&ip, at);
	pkt ip6p = {0};
	at = ip6(&ip6p, 17);
	udp(&ip6p, 13, 14, "r", 1);
	ip6_end(&ip6p, at);
	om_packet p;

	assert_int_equal(run(&p, DLT_RAW, &ip), 0);
	assert_int_equal(p.sport, 11);
	assert_int_equal(run(&p, DLT_RAW, &ip6p), 0);
	assert_int_equal(p.sport, 13);
	assert_int_equal(run(&p, 101, &ip), 0); /* LINKTYPE_RAW */
	assert_int_equal(p.ip_ver, 4);
	assert_int_equal(run(&p, DLT_IPV4, &ip), 0);
	assert_int_equal(p.ip_ver, 4);
	assert_int_equal(run(&p, DLT_IPV6, &ip6p), 0);
	assert_int_equal(p.ip_ver, 6);
	/* IPv6 bytes on an IPv4-only link */
	assert_int_equal(run(&p, DLT_IPV4, &ip6p), -EINVAL);
	assert_int_equal(p.anomaly, OM_ANOM_IPV4_WRONG_VERSION);

	/* Linux cooked v1: 16 bytes, protocol at 14 */
	pkt k = {0};
	static const uint8_t sll[14] = {0, 0, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0};
	put(&k, sll, 14);
	p16(&k, 0x0800);
	put(&k, ip.b, ip.n);
	assert_int_equal(run(&p, DLT_LINUX_SLL, &k), 0);
	assert_int_equal(p.dport, 12);
	k.n = 15;
	assert_int_equal(run(&p, DLT_LINUX_SLL, &k), -EINVAL);
	assert_int_equal(p.anomaly, OM_ANOM_ETH_TRUNC);

	/* Linux cooked v2: 20 bytes, protocol at 0 */
	k.n = 0;
	p16(&k, 0x86dd);
	static const uint8_t sll2[18] = {0};
	put(&k, sll2, 18);
	put(&k, ip6p.b, ip6p.n);
	assert_int_equal(run(&p, DLT_LINUX_SLL2, &k), 0);
	assert_int_equal(p.dport, 14);

	/* BSD loopback: family 2 little-endian, 2 big-endian, 30 (macOS AF_INET6) */
	k.n = 0;
	put(&k, "\x02\x00\x00\x00", 4);
	put(&k, ip.b, ip.n);
	assert_int_equal(run(&p, DLT_NULL, &k), 0);
	assert_int_equal(p.ip_ver, 4);
	k.n = 0;
	put(&k, "\x00\x00\x00\x02", 4);
	put(&k, ip.b, ip.n);
	assert_int_equal(run(&p, DLT_NULL, &k), 0);
	assert_int_equal(p.ip_ver, 4);
	k.n = 0;
	put(&k, "\x1e\x00\x00\x00", 4);
	put(&k, ip6p.b, ip6p.n);
	assert_int_equal(run(&p, DLT_NULL, &k), 0);
	assert_int_equal(p.ip_ver, 6);
	k.n = 0;
	put(&k, "\x07\x00\x00\x00", 4); /* unknown family */
	assert_int_equal(run(&p, DLT_NULL, &k), 1);
	k.n = 3;
	assert_int_equal(run(&p, DLT_NULL, &k), -EINVAL);
	assert_int_equal(p.anomaly, OM_ANOM_ETH_TRUNC);

	assert_int_equal(run(&p, 147 /* DLT_USER0 */, &ip), -EINVAL);
	assert_int_equal(p.anomaly, OM_ANOM_LINK_UNSUPPORTED);

	/* empty and NULL raw */
	memset(&p, 0, sizeof(p));
	p.linktype = DLT_EN10MB;
	assert_int_equal(om_decode(dec, &p), -EINVAL);
	assert_int_equal(p.anomaly, OM_ANOM_ETH_TRUNC);
}

/* ---- IPv4 anomalies ------------------------------------------------------ */

static void ip4_udp(pkt *k, const uint8_t *opt, size_t optlen)
{
	k->n = 0;
	size_t at = ip4(k, 17, opt, optlen, 1, 0);
	udp(k, 1, 2, "zz", 2);
	ip4_end(k, at);
}

static void expect(pkt *k, enum om_anomaly a)
{
	om_packet p;
	assert_int_equal(run(&p, DLT_RAW, k), -EINVAL);
	assert_int_equal(p.anomaly, a);
}

static void test_ipv4_anomalies(void **state)
{
	(void)state;
	pkt k;
	om_packet p;

	ip4_udp(&k, NULL, 0);
	k.n = 19;
	expect(&k, OM_ANOM_IPV4_TRUNC);

	ip4_udp(&k, NULL, 0);
	k.b[0] = 0x45 + 0x10; /* version 5 */
	expect(&k, OM_ANOM_IPV4_WRONG_VERSION);

	ip4_udp(&k, NULL, 0);
	k.b[0] = 0x44; /* 16-byte header */
	expect(&k, OM_ANOM_IPV4_HLEN_TOO_SMALL);

	ip4_udp(&k, NULL, 0);
	set16(&k, 2, 10);
	expect(&k, OM_ANOM_IPV4_IPLEN_SMALLER_THAN_HLEN);

	ip4_udp(&k, NULL, 0);
	set16(&k, 2, 31); /* 30 bytes present */
	expect(&k, OM_ANOM_IPV4_TRUNC);

	ip4_udp(&k, NULL, 0);
	k.b[0] = 0x4f; /* 60-byte header, 30 bytes present, total length 30 */
	expect(&k, OM_ANOM_IPV4_IPLEN_SMALLER_THAN_HLEN);
	set16(&k, 2, 70); /* total length 70: the header itself is cut */
	expect(&k, OM_ANOM_IPV4_TRUNC);

	/* valid options: NOP, record route with room for one address, EOL */
	static const uint8_t rr[8] = {1, 7, 7, 4, 0, 0, 0, 0};
	ip4_udp(&k, rr, 8);
	assert_int_equal(run(&p, DLT_RAW, &k), 0);
	assert_int_equal(p.sport, 1);
	assert_int_equal(p.l3_len, 38);
	/* router alert */
	static const uint8_t ra[4] = {148, 4, 0, 0};
	ip4_udp(&k, ra, 4);
	assert_int_equal(run(&p, DLT_RAW, &k), 0);

	static const uint8_t bad_len1[4] = {7, 1, 0, 0};   /* length below 2 */
	static const uint8_t bad_over[4] = {1, 1, 68, 12}; /* runs past the header */
	static const uint8_t bad_ra[4] = {148, 3, 0, 0};   /* router alert must be 4 */
	static const uint8_t bad_ts[4] = {68, 4, 4, 0};    /* timestamp pointer below 5 */
	static const uint8_t bad_rr[4] = {7, 4, 4, 0};     /* route length not 3 + 4n */
	static const uint8_t bad_lone[4] = {1, 1, 1, 130}; /* type byte with no length */
	const uint8_t *bads[] = {bad_len1, bad_over, bad_ra, bad_ts, bad_rr, bad_lone};
	for (size_t i = 0; i < OM_ARRAY_SIZE(bads); i++) {
		ip4_udp(&k, bads[i], 4);
		assert_int_equal(run(&p, DLT_RAW, &k), -EINVAL);
		assert_int_equal(p.anomaly, OM_ANOM_IPV4_OPT_INVALID);
		assert_int_equal(p.ip_ver, 4);
		assert_addr(&p.src, "192.0.2.1");
	}
}

static void test_l4_anomalies(void **state)
{
	(void)state;
	pkt k = {0};
	size_t at;

	/* TCP: 19 bytes */
	at = ip4(&k, 6, NULL, 0, 1, 0);
	tcp(&k, 1, 2, 0, 0, 0, 0, NULL, 0);
	k.n--;
	ip4_end(&k, at);
	expect(&k, OM_ANOM_TCP_TRUNC);

	/* TCP data offset 4 (16 bytes) */
	k.n = 0;
	at = ip4(&k, 6, NULL, 0, 1, 0);
	tcp(&k, 1, 2, 0, 0, 0, 0, NULL, 0);
	k.b[32] = 0x40;
	ip4_end(&k, at);
	expect(&k, OM_ANOM_TCP_HLEN_TOO_SMALL);

	/* TCP data offset 6 (24 bytes) with 20 present */
	k.b[32] = 0x60;
	expect(&k, OM_ANOM_TCP_TRUNC);

	static const uint8_t o_len1[4] = {2, 1, 0, 0};
	static const uint8_t o_mss3[4] = {2, 3, 5, 1};
	static const uint8_t o_ws4[4] = {3, 4, 7, 0};
	static const uint8_t o_over[4] = {1, 1, 30, 6};
	static const uint8_t o_lone[4] = {1, 1, 1, 19};
	static const uint8_t o_sack9[12] = {5, 9, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1};
	static const uint8_t o_ts8[12] = {8, 8, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1};
	struct {
		const uint8_t *o;
		size_t n;
	} bads[] = {{o_len1, 4}, {o_mss3, 4},   {o_ws4, 4}, {o_over, 4},
	            {o_lone, 4}, {o_sack9, 12}, {o_ts8, 12}};
	for (size_t i = 0; i < OM_ARRAY_SIZE(bads); i++) {
		om_packet p;
		k.n = 0;
		at = ip4(&k, 6, NULL, 0, 1, 0);
		tcp(&k, 80, 81, 0, 0, OM_TH_SYN, 0, bads[i].o, bads[i].n);
		ip4_end(&k, at);
		/* kept, as the receiving host keeps it: an anomaly, the
		 * header length still gives the (empty) payload */
		assert_int_equal(run(&p, DLT_RAW, &k), 0);
		assert_int_equal(p.anomaly, OM_ANOM_TCP_OPT_INVALID);
		assert_int_equal(p.sport, 80);
		assert_int_equal(p.payload_len, 0);
		assert_int_equal(p.tcp_wscale, 0xff);
	}

	/* UDP: 7 bytes */
	k.n = 0;
	at = ip4(&k, 17, NULL, 0, 1, 0);
	put(&k, "\0\1\0\2\0\7\0", 7);
	ip4_end(&k, at);
	expect(&k, OM_ANOM_UDP_TRUNC);
	/* UDP length 7, and UDP length past the IP payload */
	k.n = 0;
	at = ip4(&k, 17, NULL, 0, 1, 0);
	udp(&k, 1, 2, "ab", 2);
	ip4_end(&k, at);
	set16(&k, 24, 7);
	expect(&k, OM_ANOM_UDP_LEN_INVALID);
	set16(&k, 24, 11);
	expect(&k, OM_ANOM_UDP_LEN_INVALID);
	/* UDP length shorter than the IP payload: the UDP length wins */
	set16(&k, 24, 9);
	om_packet p;
	assert_int_equal(run(&p, DLT_RAW, &k), 0);
	assert_int_equal(p.payload_len, 1);

	/* ICMPv4 with 4 bytes */
	k.n = 0;
	at = ip4(&k, 1, NULL, 0, 1, 0);
	p32(&k, 0x08000000);
	ip4_end(&k, at);
	expect(&k, OM_ANOM_ICMPV4_TRUNC);

	/* ICMPv6 with 4 bytes */
	k.n = 0;
	at = ip6(&k, 58);
	p32(&k, 0x80000000);
	ip6_end(&k, at);
	expect(&k, OM_ANOM_ICMPV6_TRUNC);

	/* ICMPv6 carried by IPv4 */
	k.n = 0;
	at = ip4(&k, 58, NULL, 0, 1, 0);
	p32(&k, 0x80000000);
	p32(&k, 0);
	ip4_end(&k, at);
	expect(&k, OM_ANOM_ICMPV6_IN_IPV4);

	/* an unknown protocol is a complete packet with an opaque payload */
	k.n = 0;
	at = ip4(&k, 47, NULL, 0, 1, 0); /* GRE */
	p32(&k, 0x00000800);
	ip4_end(&k, at);
	assert_int_equal(run(&p, DLT_RAW, &k), 0);
	assert_int_equal(p.proto, 47);
	assert_int_equal(p.payload_len, 4);
	assert_false(p.flags & OM_PKT_HAS_PORTS);
}

/* Every prefix of a valid frame, in a buffer of exactly that size. The
 * expected anomaly follows from where the cut falls. */
static void test_every_truncation(void **state)
{
	(void)state;
	static const uint8_t opts[8] = {2, 4, 5, 0xb4, 3, 3, 2, 0};
	pkt k = {0};
	eth(&k, 0x8100);
	p16(&k, 10);
	p16(&k, 0x0800);
	size_t at = ip4(&k, 6, NULL, 0, 1, 0);
	tcp(&k, 1, 2, 3, 4, OM_TH_ACK, 5, opts, 8);
	put(&k, "payload", 7);
	ip4_end(&k, at);
	for (size_t n = 0; n < k.n; n++) {
		uint8_t *b = malloc(n ? n : 1);
		assert_non_null(b);
		memcpy(b, k.b, n);
		om_packet p;
		memset(&p, 0, sizeof(p));
		p.raw = b;
		p.caplen = (uint32_t)n;
		p.linktype = DLT_EN10MB;
		assert_int_equal(om_decode(dec, &p), -EINVAL);
		enum om_anomaly want = n < 14   ? OM_ANOM_ETH_TRUNC
		                       : n < 18 ? OM_ANOM_VLAN_TRUNC
		                                : OM_ANOM_IPV4_TRUNC;
		assert_int_equal(p.anomaly, want);
		free(b);
	}
}

static void test_anomaly_names(void **state)
{
	(void)state;
	assert_string_equal(om_anomaly_name(OM_ANOM_IPV4_TRUNC), "ipv4.trunc_pkt");
	assert_string_equal(om_anomaly_name(OM_ANOM_VLAN_TOO_MANY), "vlan.too_many_layers");
	assert_string_equal(om_anomaly_name(OM_ANOM_IPV6_FRAG_OVERLAP), "ipv6.frag_overlap");
	assert_string_equal(om_anomaly_name(OM_ANOM_ICMPV6_IN_IPV4), "ipv4.icmpv6");
	assert_string_equal(om_anomaly_name(OM_ANOM_COUNT), "unknown");
	assert_string_equal(om_anomaly_name((enum om_anomaly) - 1), "unknown");
	for (int a = 1; a < OM_ANOM_COUNT; a++) {
		const char *n = om_anomaly_name((enum om_anomaly)a);
		assert_non_null(strchr(n, '.'));
		assert_string_not_equal(n, "unknown");
		for (int b = 1; b < a; b++)
			assert_string_not_equal(n, om_anomaly_name((enum om_anomaly)b));
	}
}

static void test_stats(void **state)
{
	(void)state;
	om_decoder *d = om_decoder_new(1 << 16, 4, 10);
	assert_non_null(d);
	pkt k = {0};
	eth(&k, 0x0800);
	size_t at = ip4(&k, 17, NULL, 0, 1, 0);
	udp(&k, 1, 2, "x", 1);
	ip4_end(&k, at);
	om_packet p;
	memset(&p, 0, sizeof(p));
	p.raw = k.b;
	p.caplen = (uint32_t)k.n;
	p.linktype = DLT_EN10MB;
	assert_int_equal(om_decode(d, &p), 0);
	p.caplen = 20;
	assert_int_equal(om_decode(d, &p), -EINVAL);
	const om_decode_stats *st = om_decoder_stats(d);
	assert_int_equal(st->packets, 2);
	assert_int_equal(st->bytes, k.n + 20);
	assert_int_equal(st->ipv4, 1); /* the cut one never had an IPv4 header */
	assert_int_equal(st->udp, 1);
	assert_int_equal(st->invalid, 1);
	assert_int_equal(st->anomaly[OM_ANOM_IPV4_TRUNC], 1);
	om_decoder_free(d);
	assert_null(om_decoder_free(NULL));
}

static void test_peek(void **state)
{
	(void)state;
	pkt k = {0};
	om_packet p;
	/* first fragment of a TCP SYN: ports and flags from it */
	eth(&k, 0x0800);
	size_t at = ip4(&k, 6, NULL, 0, 77, 0x2000);
	tcp(&k, 3333, 25, 1, 0, OM_TH_SYN, 0, NULL, 0);
	ip4_end(&k, at);
	memset(&p, 0, sizeof(p));
	p.raw = k.b;
	p.caplen = (uint32_t)k.n;
	p.linktype = DLT_EN10MB;
	uint64_t packets = om_decoder_stats(dec)->packets;
	assert_int_equal(om_decode_peek(&p), 0);
	assert_int_equal(p.ip_ver, 4);
	assert_int_equal(p.proto, 6);
	assert_true(p.flags & OM_PKT_FRAGMENT);
	assert_true(p.flags & OM_PKT_HAS_PORTS);
	assert_int_equal(p.sport, 3333);
	assert_int_equal(p.dport, 25);
	assert_int_equal(p.tcp_flags, OM_TH_SYN);
	assert_int_equal(om_decoder_stats(dec)->packets, packets); /* stateless */

	/* a later fragment: no ports */
	set16(&k, 14 + 6, 0x0003);
	ip4_end(&k, 14);
	assert_int_equal(om_decode_peek(&p), 0);
	assert_true(p.flags & OM_PKT_FRAGMENT);
	assert_false(p.flags & OM_PKT_HAS_PORTS);
	assert_int_equal(p.sport, 0);

	/* IPv6 first fragment of UDP */
	k.n = 0;
	at = ip6(&k, 44);
	static const uint8_t fh[8] = {17, 0, 0, 1, 0, 0, 0, 5};
	put(&k, fh, 8);
	udp(&k, 500, 4500, "abcdefgh", 8);
	ip6_end(&k, at);
	memset(&p, 0, sizeof(p));
	p.raw = k.b;
	p.caplen = (uint32_t)k.n;
	p.linktype = DLT_RAW;
	assert_int_equal(om_decode_peek(&p), 0);
	assert_int_equal(p.ip_ver, 6);
	assert_int_equal(p.proto, 17);
	assert_int_equal(p.sport, 500);
	assert_int_equal(p.dport, 4500);

	/* not IP */
	k.n = 0;
	eth(&k, 0x0806);
	arp_body(&k, 1, 0x0800, 6, 4, 2);
	p.raw = k.b;
	p.caplen = (uint32_t)k.n;
	p.linktype = DLT_EN10MB;
	assert_int_equal(om_decode_peek(&p), -ENOENT);
	p.caplen = 5;
	assert_int_equal(om_decode_peek(&p), -EINVAL);
	assert_int_equal(p.anomaly, OM_ANOM_ETH_TRUNC);
}

/* ---- capture files -------------------------------------------------------- */

static void le16(pkt *k, uint16_t v)
{
	p8(k, (uint8_t)v);
	p8(k, (uint8_t)(v >> 8));
}
static void le32(pkt *k, uint32_t v)
{
	le16(k, (uint16_t)v);
	le16(k, (uint16_t)(v >> 16));
}

static void write_file(const char *path, const uint8_t *b, size_t n)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(b, 1, n, f), n);
	fclose(f);
}

static void pcap_record(pkt *k, uint32_t sec, uint32_t usec, const uint8_t *d, uint32_t n)
{
	le32(k, sec);
	le32(k, usec);
	le32(k, n);
	le32(k, n + 4); /* wire length larger than the capture */
	put(k, d, n);
}

static void test_pcap_file(void **state)
{
	(void)state;
	char dir[] = "/tmp/om_decode_test.XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[128];
	snprintf(path, sizeof(path), "%s/two.pcap", dir);

	static const uint8_t f1[20] = {0x45, 0, 0, 20, 0, 1, 0, 0, 64, 17};
	static const uint8_t f2[6] = {1, 2, 3, 4, 5, 6};
	pkt k = {0};
	le32(&k, 0xa1b2c3d4);
	le16(&k, 2);
	le16(&k, 4);
	le32(&k, 0);
	le32(&k, 0);
	le32(&k, 65535);
	le32(&k, DLT_RAW);
	pcap_record(&k, 1700000000, 250000, f1, 20);
	pcap_record(&k, 1700000001, 999999, f2, 6);
	write_file(path, k.b, k.n);

	om_pcap *pc = NULL;
	char err[512] = "";
	const uint8_t *d;
	uint32_t cl, wl;
	om_usec ts;
	assert_int_equal(om_pcap_open(path, &pc, err, sizeof(err)), 0);
	assert_int_equal(om_pcap_linktype(pc), DLT_RAW);
	assert_int_equal(om_pcap_next(pc, &d, &cl, &wl, &ts, err, sizeof(err)), 1);
	assert_int_equal(cl, 20);
	assert_int_equal(wl, 24);
	assert_int_equal(ts, 1700000000ull * 1000000 + 250000);
	assert_memory_equal(d, f1, 20);
	assert_int_equal(om_pcap_next(pc, &d, &cl, &wl, &ts, err, sizeof(err)), 1);
	assert_int_equal(ts, 1700000001ull * 1000000 + 999999);
	assert_memory_equal(d, f2, 6);
	assert_int_equal(om_pcap_next(pc, &d, &cl, &wl, &ts, err, sizeof(err)), 0);
	assert_null(om_pcap_close(pc));

	/* cut inside the second record's data */
	write_file(path, k.b, k.n - 3);
	assert_int_equal(om_pcap_open(path, &pc, err, sizeof(err)), 0);
	assert_int_equal(om_pcap_next(pc, &d, &cl, &wl, &ts, err, sizeof(err)), 1);
	err[0] = 0;
	assert_int_equal(om_pcap_next(pc, &d, &cl, &wl, &ts, err, sizeof(err)), -EIO);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "packet 2"));
	/* and it stays failed */
	assert_int_equal(om_pcap_next(pc, &d, &cl, &wl, &ts, err, sizeof(err)), -EIO);
	om_pcap_close(pc);

	/* cut inside the second record's header */
	write_file(path, k.b, 24 + 16 + 20 + 5);
	assert_int_equal(om_pcap_open(path, &pc, err, sizeof(err)), 0);
	assert_int_equal(om_pcap_next(pc, &d, &cl, &wl, &ts, err, sizeof(err)), 1);
	assert_int_equal(om_pcap_next(pc, &d, &cl, &wl, &ts, err, sizeof(err)), -EIO);
	assert_non_null(strstr(err, "packet 2"));
	om_pcap_close(pc);

	/* not a capture file, and no file at all */
	write_file(path, (const uint8_t *)"hello world, not a pcap", 23);
	assert_int_equal(om_pcap_open(path, &pc, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, path));
	unlink(path);
	assert_int_equal(om_pcap_open(path, &pc, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, path));
	assert_null(om_pcap_close(NULL));
	rmdir(dir);
}

static void pcapng_block(pkt *k, uint32_t type, const pkt *body)
{
	uint32_t pad = (uint32_t)((4 - body->n % 4) % 4);
	uint32_t len = (uint32_t)(12 + body->n + pad);
	le32(k, type);
	le32(k, len);
	put(k, body->b, body->n);
	for (uint32_t i = 0; i < pad; i++)
		p8(k, 0);
	le32(k, len);
}

static void test_pcapng_file(void **state)
{
	(void)state;
	char dir[] = "/tmp/om_decode_test.XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[128];
	snprintf(path, sizeof(path), "%s/one.pcapng", dir);
	pkt k = {0}, b = {0};
	le32(&b, 0x1a2b3c4d); /* section header */
	le16(&b, 1);
	le16(&b, 0);
	le32(&b, 0xffffffff);
	le32(&b, 0xffffffff);
	pcapng_block(&k, 0x0a0d0d0a, &b);
	b.n = 0; /* interface: Ethernet, default microsecond resolution */
	le16(&b, DLT_EN10MB);
	le16(&b, 0);
	le32(&b, 65535);
	pcapng_block(&k, 1, &b);
	/* enhanced packet: 1700000000.5 s = 1700000000500000 us */
	uint64_t t = 1700000000500000ull;
	b.n = 0;
	le32(&b, 0);
	le32(&b, (uint32_t)(t >> 32));
	le32(&b, (uint32_t)t);
	le32(&b, 15);
	le32(&b, 60);
	put(&b, "abcdefghijklmno", 15);
	pcapng_block(&k, 6, &b);
	write_file(path, k.b, k.n);

	om_pcap *pc = NULL;
	char err[512];
	const uint8_t *d;
	uint32_t cl, wl;
	om_usec ts;
	assert_int_equal(om_pcap_open(path, &pc, err, sizeof(err)), 0);
	assert_int_equal(om_pcap_linktype(pc), DLT_EN10MB);
	assert_int_equal(om_pcap_next(pc, &d, &cl, &wl, &ts, err, sizeof(err)), 1);
	assert_int_equal(cl, 15);
	assert_int_equal(wl, 60);
	assert_int_equal(ts, t);
	assert_memory_equal(d, "abcdefghijklmno", 15);
	assert_int_equal(om_pcap_next(pc, &d, &cl, &wl, &ts, err, sizeof(err)), 0);
	om_pcap_close(pc);

	/* the packet block cut in half */
	write_file(path, k.b, k.n - 20);
	assert_int_equal(om_pcap_open(path, &pc, err, sizeof(err)), 0);
	assert_int_equal(om_pcap_next(pc, &d, &cl, &wl, &ts, err, sizeof(err)), -EIO);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "packet 1"));
	om_pcap_close(pc);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_eth_ipv4_tcp),
	    cmocka_unit_test(test_tcp_wscale),
	    cmocka_unit_test(test_eth_padding_udp),
	    cmocka_unit_test(test_icmp),
	    cmocka_unit_test(test_ipv6_tcp_udp),
	    cmocka_unit_test(test_ipv6_ext_chain),
	    cmocka_unit_test(test_ipv6_ext_anomalies),
	    cmocka_unit_test(test_ipv6_anomalies),
	    cmocka_unit_test(test_vlan),
	    cmocka_unit_test(test_arp),
	    cmocka_unit_test(test_unknown_ethertype),
	    cmocka_unit_test(test_link_types),
	    cmocka_unit_test(test_ipv4_anomalies),
	    cmocka_unit_test(test_l4_anomalies),
	    cmocka_unit_test(test_every_truncation),
	    cmocka_unit_test(test_anomaly_names),
	    cmocka_unit_test(test_stats),
	    cmocka_unit_test(test_peek),
	    cmocka_unit_test(test_pcap_file),
	    cmocka_unit_test(test_pcapng_file),
	};
	/* Error texts are checked in English, the second language. */
	om_lang_set_thread(OM_LANG_EN);
	return cmocka_run_group_tests(tests, setup, teardown);
}
