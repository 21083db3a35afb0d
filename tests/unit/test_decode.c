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
	assert_int_equal(p.anomaly, OM_ANOM_IPV6_TRUNC_EXTHDR);

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
	assert_int_equal(p.anomaly, OM_ANOM_IPV6_TRUNC_EXTHDR);
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
	assert_int_equal(p.anomaly, OM_ANOM_IPV6_PKT_TOO_SMALL);

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

	/* three tags (0x88a8, 0x9100, 0x8100) are kept */
	k.n = 0;
	eth(&k, 0x88a8);
	p16(&k, 1);
	p16(&k, 0x9100);
	p16(&k, 2);
	p16(&k, 0x8100);
	p16(&k, 3);
	p16(&k, 0x0800);
	at = ip4(&k, 17, NULL, 0, 1, 0);
	udp(&k, 7, 8, NULL, 0);
	ip4_end(&k, at);
	assert_int_equal(run(&p, DLT_EN10MB, &k), 0);
	assert_int_equal(p.vlan_count, 3);
	assert_int_equal(p.vlan[0], 1);
	assert_int_equal(p.vlan[1], 2);
	assert_int_equal(p.vlan[2], 3);
	assert_int_equal(p.dport, 8);

	/* a fourth is one too many */
	k.n = 0;
	eth(&k, 0x88a8);
	p16(&k, 1);
	p16(&k, 0x8100);
	p16(&k, 2);
	p16(&k, 0x8100);
	p16(&k, 3);
	p16(&k, 0x8100);
	p16(&k, 4);
	p16(&k, 0x0800);
	assert_int_equal(run(&p, DLT_EN10MB, &k), -EINVAL);
	assert_int_equal(p.anomaly, OM_ANOM_VLAN_TOO_MANY);
	assert_int_equal(p.vlan_count, 3);

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
	expect(&k, OM_ANOM_IPV4_PKT_TOO_SMALL);

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
	expect(&k, OM_ANOM_TCP_INVALID_OPTLEN);

	/* TCP data offset 6 (24 bytes) with 20 present */
	k.b[32] = 0x60;
	expect(&k, OM_ANOM_TCP_HLEN_TOO_SMALL);

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
	expect(&k, OM_ANOM_UDP_PKT_TOO_SMALL);
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
	at = ip4(&k, 253, NULL, 0, 1, 0); /* experimental */
	p32(&k, 0x00000800);
	ip4_end(&k, at);
	assert_int_equal(run(&p, DLT_RAW, &k), 0);
	assert_int_equal(p.proto, 253);
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
		/* Ethernet 14, VLAN tag 4, then less than the 20-byte IPv4
		 * header, or less than its total length */
		enum om_anomaly want = n < 14        ? OM_ANOM_ETH_TRUNC
		                       : n < 18      ? OM_ANOM_VLAN_TRUNC
		                       : n < 18 + 20 ? OM_ANOM_IPV4_PKT_TOO_SMALL
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
	assert_int_equal(st->anomaly[OM_ANOM_IPV4_PKT_TOO_SMALL], 1); /* 6 bytes of IPv4 */
	om_decoder_free(d);
	assert_null(om_decoder_free(NULL));
}

/* The reader starts each flow lookup from the light parse: for plain TCP and
 * UDP over IPv4 and IPv6 its key is the full decode's, so the lookup takes
 * the hint (a speed matter only: om_flow_get checks the key). */
static void test_peek_key_is_decode_key(void **state)
{
	(void)state;
	om_stream_callbacks cb = {0};
	om_stream_ctx *st = om_stream_new(0, 1 << 20, &cb);
	om_flow_config c = {.stream = st, .max_flows = 64, .timeout_new = 30,
	                    .timeout_est = 300, .timeout_closed = 10, .timeout_udp = 60,
	                    .timeout_icmp = 20};
	om_flow_table *t = om_flow_table_new(&c);
	assert_non_null(t);
	for (int i = 0; i < 4; i++) {
		pkt k = {0};
		size_t at;
		if (i < 2) {
			eth(&k, 0x0800);
			at = ip4(&k, i ? 17 : 6, NULL, 0, 77, 0);
		} else {
			eth(&k, 0x86dd);
			at = ip6(&k, i == 3 ? 17 : 6);
		}
		if (i & 1)
			udp(&k, 5353, 53, "q", 1);
		else
			tcp(&k, 3333, 25, 1, 0, OM_TH_SYN, 0, NULL, 0);
		if (i < 2)
			ip4_end(&k, at);
		else
			ip6_end(&k, at);
		om_packet peek, full;
		memset(&peek, 0, sizeof(peek));
		peek.raw = k.b;
		peek.caplen = (uint32_t)k.n;
		peek.linktype = DLT_EN10MB;
		full = peek;
		assert_int_equal(om_decode_peek(&peek), 0);
		assert_int_equal(om_decode(dec, &full), 0);
		om_flow_prefetch(t, &peek);
		int dir;
		assert_non_null(om_flow_get(t, &full, &dir));
		assert_int_equal(om_flow_table_probe(t)->hints, (uint64_t)i + 1);
	}
	om_flow_table_flush(t, OM_FLOW_END_SHUTDOWN);
	om_flow_table_free(t);
	om_stream_free(st);
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

/* ---- tunnels and link types ----------------------------------------------- */

/* Inner packets use other addresses than the outer ip4()/ip6() headers. */
static const uint8_t IN4[8] = {10, 0, 0, 1, 10, 0, 0, 2};
static const uint8_t OUT4B[8] = {192, 0, 2, 9, 198, 51, 100, 9}; /* a second tunnel */

static size_t ip4x(pkt *k, uint8_t proto, const uint8_t a[8], uint16_t id, uint16_t frag)
{
	size_t at = k->n;
	p8(k, 0x45);
	p8(k, 0);
	p16(k, 0);
	p16(k, id);
	p16(k, frag);
	p8(k, 64);
	p8(k, proto);
	p16(k, 0);
	put(k, a, 8);
	return at;
}

/* Swaps the addresses of the IPv4 header at `at` (the other direction). */
static void ip4_swap(pkt *k, size_t at)
{
	uint8_t t[4];
	memcpy(t, k->b + at + 12, 4);
	memcpy(k->b + at + 12, k->b + at + 16, 4);
	memcpy(k->b + at + 16, t, 4);
	ip4_end(k, at);
}

/* IPv6 2001:db8::<s> -> 2001:db8::<d> */
static size_t ip6x(pkt *k, uint8_t nh, uint8_t s, uint8_t d)
{
	size_t at = ip6(k, nh);
	k->b[at + 23] = s;
	k->b[at + 39] = d;
	return at;
}

/* The inner packet of most tests: 10.0.0.1:1000 -> 10.0.0.2:53, "hi". */
static void inner_udp4(pkt *k)
{
	size_t at = ip4x(k, 17, IN4, 7, 0);
	udp(k, 1000, 53, "hi", 2);
	ip4_end(k, at);
}

static void gre_hdr(pkt *k, uint16_t flags, uint16_t proto, uint32_t key, uint32_t seq)
{
	p16(k, flags);
	p16(k, proto);
	if (flags & 0xc000) {
		p16(k, 0); /* checksum */
		p16(k, 0); /* offset */
	}
	if (flags & 0x2000)
		p32(k, key);
	if (flags & 0x1000)
		p32(k, seq);
}

static void assert_inner_udp4(const om_packet *p)
{
	assert_int_equal(p->ip_ver, 4);
	assert_addr(&p->src, "10.0.0.1");
	assert_addr(&p->dst, "10.0.0.2");
	assert_int_equal(p->proto, 17);
	assert_int_equal(p->sport, 1000);
	assert_int_equal(p->dport, 53);
	assert_int_equal(p->payload_len, 2);
	assert_memory_equal(p->payload, "hi", 2);
	assert_true(p->flags & OM_PKT_TUNNEL);
	assert_true(p->flags & OM_PKT_UDP);
	assert_false(p->flags & OM_PKT_IPV6);
}

static void test_gre(void **state)
{
	(void)state;
	pkt k = {0};
	om_packet p;
	uint64_t before = om_decoder_stats(dec)->tunnel[OM_TUN_GRE];

	/* checksum, key and sequence number present */
	size_t at = ip4(&k, 47, NULL, 0, 1, 0);
	gre_hdr(&k, 0xb000, 0x0800, 0xabcd, 5);
	inner_udp4(&k);
	ip4_end(&k, at);
	assert_int_equal(run(&p, DLT_RAW, &k), 0);
	assert_int_equal(p.anomaly, OM_ANOM_NONE);
	assert_inner_udp4(&p);
	assert_int_equal(p.tunnel_count, 1);
	assert_int_equal(p.tunnel[0].kind, OM_TUN_GRE);
	assert_int_equal(p.tunnel[0].id, 0xabcd);
	assert_int_equal(p.tunnel[0].ip_ver, 4);
	assert_int_equal(p.tunnel[0].proto, 47);
	assert_addr(&p.tunnel[0].src, "192.0.2.1");
	assert_addr(&p.tunnel[0].dst, "198.51.100.2");
	assert_int_equal(p.l3_len, 20 + 8 + 2); /* the inner datagram */
	assert_int_equal(om_decoder_stats(dec)->tunnel[OM_TUN_GRE], before + 1);
	uint32_t id = p.tunnel_id;
	assert_int_not_equal(id, 0);

	/* the other direction of the tunnel: the same discriminator */
	ip4_swap(&k, at);
	assert_int_equal(run(&p, DLT_RAW, &k), 0);
	assert_int_equal(p.tunnel_id, id);
	/* another key: another tunnel */
	k.b[at + 20 + 8] ^= 1;
	assert_int_equal(run(&p, DLT_RAW, &k), 0);
	assert_int_not_equal(p.tunnel_id, id);
	/* other outer addresses: another tunnel */
	k.n = 0;
	at = ip4x(&k, 47, OUT4B, 1, 0);
	gre_hdr(&k, 0xb000, 0x0800, 0xabcd, 5);
	inner_udp4(&k);
	ip4_end(&k, at);
	assert_int_equal(run(&p, DLT_RAW, &k), 0);
	assert_int_not_equal(p.tunnel_id, id);

	/* plain GRE over IPv6, carrying IPv6 */
	k.n = 0;
	at = ip6(&k, 47);
	gre_hdr(&k, 0, 0x86dd, 0, 0);
	size_t in = ip6x(&k, 17, 0x11, 0x22);
	udp(&k, 5, 6, "x", 1);
	ip6_end(&k, in);
	ip6_end(&k, at);
	assert_int_equal(run(&p, DLT_RAW, &k), 0);
	assert_int_equal(p.ip_ver, 6);
	assert_addr(&p.src, "2001:db8::11");
	assert_int_equal(p.dport, 6);
	assert_int_equal(p.tunnel[0].ip_ver, 6);
	assert_addr(&p.tunnel[0].src, "2001:db8::1");

	/* Ethernet over GRE with an inner VLAN tag */
	k.n = 0;
	eth(&k, 0x8100);
	p16(&k, 10);
	p16(&k, 0x0800);
	at = ip4(&k, 47, NULL, 0, 1, 0);
	gre_hdr(&k, 0x2000, 0x6558, 77, 0);
	eth(&k, 0x8100);
	p16(&k, 20);
	p16(&k, 0x0800);
	inner_udp4(&k);
	ip4_end(&k, at);
	assert_int_equal(run(&p, DLT_EN10MB, &k), 0);
	assert_inner_udp4(&p);
	assert_int_equal(p.vlan_count, 2);
	assert_int_equal(p.vlan[0], 10);
	assert_int_equal(p.vlan[1], 20);
	assert_int_equal(p.tunnel[0].vlan_count, 1);

	/* source routes (RFC 1701): one entry of 4 bytes, then the null one */
	k.n = 0;
	at = ip4(&k, 47, NULL, 0, 1, 0);
	p16(&k, 0x4000);
	p16(&k, 0x0800);
	p32(&k, 0); /* checksum and offset */
	p16(&k, 0x0800);
	p8(&k, 0);
	p8(&k, 4);
	p32(&k, 0x0a000001);
	p32(&k, 0); /* null entry */
	inner_udp4(&k);
	ip4_end(&k, at);
	assert_int_equal(run(&p, DLT_RAW, &k), 0);
	assert_inner_udp4(&p);
	/* an entry longer than the packet */
	k.b[at + 20 + 8 + 3] = 200;
	assert_int_equal(run(&p, DLT_RAW, &k), -EINVAL);
	assert_int_equal(p.anomaly, OM_ANOM_GRE_V0_MALFORMED_SRE);

	/* another payload protocol: the GRE packet itself, opaque */
	k.n = 0;
	at = ip4(&k, 47, NULL, 0, 1, 0);
	gre_hdr(&k, 0, 0x1234, 0, 0);
	p32(&k, 0);
	ip4_end(&k, at);
	assert_int_equal(run(&p, DLT_RAW, &k), 0);
	assert_int_equal(p.tunnel_count, 0);
	assert_int_equal(p.proto, 47);
	assert_int_equal(p.payload_len, 8);
	assert_false(p.flags & OM_PKT_TUNNEL);

	/* malformed headers */
	static const struct {
		uint16_t flags;
		size_t len; /* GRE bytes kept */
		enum om_anomaly want;
	} badv[] = {
	    {0x0000, 3, OM_ANOM_GRE_TRUNC},
	    {0x0002, 4, OM_ANOM_GRE_WRONG_VERSION},
	    {0x0100, 4, OM_ANOM_GRE_V0_RECUR},
	    {0x0008, 4, OM_ANOM_GRE_V0_FLAGS},
	    {0x0080, 4, OM_ANOM_GRE_V0_FLAGS},
	    {0x3000, 8, OM_ANOM_GRE_V0_HDR_TOO_BIG}, /* key and sequence: 12 needed */
	    {0x4000, 8, OM_ANOM_GRE_V0_MALFORMED_SRE},
	};
	for (size_t i = 0; i < OM_ARRAY_SIZE(badv); i++) {
		k.n = 0;
		at = ip4(&k, 47, NULL, 0, 1, 0);
		p16(&k, badv[i].flags);
		p16(&k, 0x0800);
		p32(&k, 0);
		p32(&k, 0);
		k.n = at + 20 + badv[i].len;
		ip4_end(&k, at);
		expect(&k, badv[i].want);
	}

	/* the inner packet cut short: its own anomaly, the layer is kept */
	k.n = 0;
	at = ip4(&k, 47, NULL, 0, 1, 0);
	gre_hdr(&k, 0, 0x0800, 0, 0);
	p32(&k, 0x45000000);
	ip4_end(&k, at);
	assert_int_equal(run(&p, DLT_RAW, &k), -EINVAL);
	assert_int_equal(p.anomaly, OM_ANOM_IPV4_PKT_TOO_SMALL); /* 4 bytes of it */
	assert_int_equal(p.tunnel_count, 1);
}

/* PPTP's enhanced GRE (version 1) carrying PPP */
static size_t pptp_hdr(pkt *k, uint16_t flags, uint16_t proto, uint16_t call, uint16_t plen)
{
	size_t at = k->n;
	p16(k, flags);
	p16(k, proto);
	p16(k, plen);
	p16(k, call);
	if (flags & 0x1000)
		p32(k, 1); /* sequence */
	if (flags & 0x0080)
		p32(k, 0); /* acknowledgment */
	return at;
}

static void test_pptp(void **state)
{
	(void)state;
	pkt k = {0};
	om_packet p;
	size_t at = ip4(&k, 47, NULL, 0, 1, 0);
	size_t g = pptp_hdr(&k, 0x3081, 0x880b, 0x1111, 0);
	size_t ppp = k.n;
	p8(&k, 0xff);
	p8(&k, 0x03);
	p16(&k, 0x0021);
	inner_udp4(&k);
	set16(&k, g + 4, (uint16_t)(k.n - ppp));
	ip4_end(&k, at);
	assert_int_equal(run(&p, DLT_RAW, &k), 0);
	assert_inner_udp4(&p);
	assert_int_equal(p.tunnel_count, 1);
	assert_int_equal(p.tunnel[0].kind, OM_TUN_PPTP);
	assert_int_equal(p.tunnel[0].id, 0x1111);
	uint32_t id = p.tunnel_id;
	/* the answer names the other end's call id: still the same tunnel */
	set16(&k, g + 6, 0x2222);
	ip4_swap(&k, at);
	assert_int_equal(run(&p, DLT_RAW, &k), 0);
	assert_int_equal(p.tunnel_id, id);

	/* the payload length bounds the PPP frame: 2 bytes less cuts UDP */
	set16(&k, g + 4, (uint16_t)(k.n - ppp - 2));
	ip4_end(&k, at);
	assert_int_equal(run(&p, DLT_RAW, &k), -EINVAL);
	assert_int_equal(p.anomaly, OM_ANOM_IPV4_TRUNC);

	/* an acknowledgment alone: the GRE packet, nothing inside */
	k.n = 0;
	at = ip4(&k, 47, NULL, 0, 1, 0);
	pptp_hdr(&k, 0x2081, 0x880b, 0x1111, 0);
	ip4_end(&k, at);
	assert_int_equal(run(&p, DLT_RAW, &k), 0);
	assert_int_equal(p.tunnel_count, 0);
	assert_int_equal(p.proto, 47);

	/* LCP: counted and consumed; an even protocol is not PPP */
	uint16_t protos[2] = {0xc021, 0x0020};
	for (int i = 0; i < 2; i++) {
		k.n = 0;
		at = ip4(&k, 47, NULL, 0, 1, 0);
		pptp_hdr(&k, 0x3001, 0x880b, 0x1111, 6);
		p8(&k, 0xff);
		p8(&k, 0x03);
		p16(&k, protos[i]);
		p16(&k, 0);
		ip4_end(&k, at);
		int r = run(&p, DLT_RAW, &k);
		if (i == 0) {
			assert_int_equal(r, 1);
			assert_int_equal(p.anomaly, OM_ANOM_NONE);
		} else {
			assert_int_equal(r, -EINVAL);
			assert_int_equal(p.anomaly, OM_ANOM_PPP_WRONG_TYPE);
		}
	}

	static const struct {
		uint16_t flags, proto;
		size_t len;
		enum om_anomaly want;
	} badv[] = {
	    {0xb001, 0x880b, 12, OM_ANOM_GRE_V1_CHKSUM},
	    {0x7001, 0x880b, 12, OM_ANOM_GRE_V1_ROUTE},
	    {0x3801, 0x880b, 12, OM_ANOM_GRE_V1_SSR},
	    {0x3101, 0x880b, 12, OM_ANOM_GRE_V1_RECUR},
	    {0x3009, 0x880b, 12, OM_ANOM_GRE_V1_FLAGS},
	    {0x1001, 0x880b, 12, OM_ANOM_GRE_V1_NO_KEY},
	    {0x3001, 0x0800, 12, OM_ANOM_GRE_V1_WRONG_PROTOCOL},
	    {0x3081, 0x880b, 12, OM_ANOM_GRE_V1_HDR_TOO_BIG}, /* 16 needed */
	};
	for (size_t i = 0; i < OM_ARRAY_SIZE(badv); i++) {
		k.n = 0;
		at = ip4(&k, 47, NULL, 0, 1, 0);
		p16(&k, badv[i].flags);
		p16(&k, badv[i].proto);
		for (int w = 0; w < 4; w++)
			p32(&k, 0);
		k.n = at + 20 + badv[i].len;
		ip4_end(&k, at);
		expect(&k, badv[i].want);
	}
}

static void test_erspan(void **state)
{
	(void)state;
	pkt k = {0};
	om_packet p;
	/* type I: no sequence number, no ERSPAN header */
	size_t at = ip4(&k, 47, NULL, 0, 1, 0);
	gre_hdr(&k, 0, 0x88be, 0, 0);
	eth(&k, 0x0800);
	inner_udp4(&k);
	ip4_end(&k, at);
	assert_int_equal(run(&p, DLT_RAW, &k), 0);
	assert_inner_udp4(&p);
	assert_int_equal(p.tunnel[0].kind, OM_TUN_ERSPAN);
	assert_int_equal(p.tunnel[0].id, 0);

	/* type II: version 1, session 0x155 */
	k.n = 0;
	at = ip4(&k, 47, NULL, 0, 1, 0);
	gre_hdr(&k, 0x1000, 0x88be, 0, 9);
	size_t e = k.n;
	p16(&k, 0x1000 | 33); /* version 1, VLAN 33 */
	p16(&k, 0x0155);
	p32(&k, 0);
	eth(&k, 0x0800);
	inner_udp4(&k);
	ip4_end(&k, at);
	assert_int_equal(run(&p, DLT_RAW, &k), 0);
	assert_inner_udp4(&p);
	assert_int_equal(p.tunnel[0].kind, OM_TUN_ERSPAN);
	assert_int_equal(p.tunnel[0].id, 0x155);
	/* the header's VLAN id is one of the packet's tags */
	assert_int_equal(p.vlan_count, 1);
	assert_int_equal(p.vlan[0], 33);
	assert_int_equal(p.tunnel[0].vlan_count, 0);
	/* ... and one too many after three outer tags */
	pkt q = {0};
	eth(&q, 0x8100);
	p16(&q, 1);
	p16(&q, 0x8100);
	p16(&q, 2);
	p16(&q, 0x8100);
	p16(&q, 3);
	p16(&q, 0x0800);
	put(&q, k.b, k.n);
	assert_int_equal(run(&p, DLT_EN10MB, &q), -EINVAL);
	assert_int_equal(p.anomaly, OM_ANOM_ERSPAN_TOO_MANY_VLAN);
	k.b[e] = 0x20; /* version 2 under the type II protocol */
	ip4_end(&k, at);
	expect(&k, OM_ANOM_ERSPAN_UNSUPPORTED_VERSION);
	k.n = e + 7;
	k.b[e] = 0x10;
	ip4_end(&k, at);
	expect(&k, OM_ANOM_ERSPAN_TRUNC);

	/* type III: version 2, with the 8-byte platform subheader (O flag) */
	k.n = 0;
	at = ip4(&k, 47, NULL, 0, 1, 0);
	gre_hdr(&k, 0x1000, 0x22eb, 0, 9);
	e = k.n;
	p16(&k, 0x2000);
	p16(&k, 0x0201);
	p32(&k, 12345678); /* timestamp */
	p16(&k, 0);        /* security group tag */
	p8(&k, 0);         /* P, frame type 0 (Ethernet), hardware id */
	p8(&k, 0x01);      /* O: the subheader follows */
	p32(&k, 0);
	p32(&k, 0);
	eth(&k, 0x0800);
	inner_udp4(&k);
	ip4_end(&k, at);
	assert_int_equal(run(&p, DLT_RAW, &k), 0);
	assert_inner_udp4(&p);
	assert_int_equal(p.tunnel[0].id, 0x201);
	k.b[e] = 0x10;
	ip4_end(&k, at);
	expect(&k, OM_ANOM_ERSPAN_UNSUPPORTED_VERSION);
	k.b[e] = 0x20;
	k.n = e + 16; /* O set, 20 needed */
	ip4_end(&k, at);
	expect(&k, OM_ANOM_ERSPAN_TRUNC);
}

static void test_ip_in_ip(void **state)
{
	(void)state;
	pkt k = {0};
	om_packet p;
	/* IPv4 in IPv4 */
	size_t at = ip4(&k, 4, NULL, 0, 1, 0);
	inner_udp4(&k);
	ip4_end(&k, at);
	assert_int_equal(run(&p, DLT_RAW, &k), 0);
	assert_inner_udp4(&p);
	assert_int_equal(p.tunnel[0].kind, OM_TUN_IPIP);
	assert_int_equal(p.tunnel[0].proto, 4);

	/* IPv6 in IPv4 (6in4) */
	k.n = 0;
	at = ip4(&k, 41, NULL, 0, 1, 0);
	size_t in = ip6x(&k, 17, 0x11, 0x22);
	udp(&k, 5, 6, "x", 1);
	ip6_end(&k, in);
	ip4_end(&k, at);
	assert_int_equal(run(&p, DLT_RAW, &k), 0);
	assert_int_equal(p.ip_ver, 6);
	assert_int_equal(p.flags & (OM_PKT_IPV4 | OM_PKT_IPV6), OM_PKT_IPV6);
	assert_addr(&p.dst, "2001:db8::22");
	assert_int_equal(p.tunnel[0].kind, OM_TUN_6IN4);
	assert_addr(&p.tunnel[0].src, "192.0.2.1");
	/* cut: the inner decoder's anomaly */
	k.n = at + 20 + 30;
	ip4_end(&k, at);
	expect(&k, OM_ANOM_IPV6_PKT_TOO_SMALL); /* 30 of its 40 header bytes */

	/* IPv4 in IPv6 and IPv6 in IPv6 */
	k.n = 0;
	at = ip6(&k, 4);
	inner_udp4(&k);
	ip6_end(&k, at);
	assert_int_equal(run(&p, DLT_RAW, &k), 0);
	assert_inner_udp4(&p);
	assert_int_equal(p.tunnel[0].kind, OM_TUN_4IN6);
	assert_int_equal(p.tunnel[0].ip_ver, 6);
	k.b[at + 40] = 0x55;
	expect(&k, OM_ANOM_IPV4_IN_IPV6_WRONG_VERSION);
	k.n = at + 40 + 19;
	ip6_end(&k, at);
	expect(&k, OM_ANOM_IPV4_IN_IPV6_TRUNC);

	k.n = 0;
	at = ip6(&k, 41);
	in = ip6x(&k, 17, 0x11, 0x22);
	udp(&k, 5, 6, "x", 1);
	ip6_end(&k, in);
	ip6_end(&k, at);
	assert_int_equal(run(&p, DLT_RAW, &k), 0);
	assert_addr(&p.src, "2001:db8::11");
	assert_int_equal(p.tunnel[0].kind, OM_TUN_6IN6);
	k.b[at + 40] = 0x45;
	expect(&k, OM_ANOM_IPV6_IN_IPV6_WRONG_VERSION);
	k.n = at + 40 + 39;
	ip6_end(&k, at);
	expect(&k, OM_ANOM_IPV6_IN_IPV6_TRUNC);
}

/* Outer IPv4 + UDP sport -> dport around the payload written by body(). */
static size_t udp_outer_begin(pkt *k, uint16_t sport, uint16_t dport)
{
	size_t at = ip4(k, 17, NULL, 0, 1, 0);
	p16(k, sport);
	p16(k, dport);
	p16(k, 0);
	p16(k, 0);
	return at;
}
static void udp_outer_end(pkt *k, size_t at)
{
	set16(k, at + 24, (uint16_t)(k->n - at - 20));
	ip4_end(k, at);
}

static void test_vxlan(void **state)
{
	(void)state;
	pkt k = {0};
	om_packet p;
	size_t at = udp_outer_begin(&k, 51000, 4789);
	size_t v = k.n;
	p32(&k, 0x08000000);
	p32(&k, 42 << 8);
	eth(&k, 0x0800);
	inner_udp4(&k);
	udp_outer_end(&k, at);
	assert_int_equal(run(&p, DLT_RAW, &k), 0);
	assert_int_equal(p.anomaly, OM_ANOM_NONE);
	assert_inner_udp4(&p);
	assert_int_equal(p.tunnel_count, 1);
	assert_int_equal(p.tunnel[0].kind, OM_TUN_VXLAN);
	assert_int_equal(p.tunnel[0].id, 42);
	assert_int_equal(p.tunnel[0].proto, 17);
	assert_int_equal(p.tunnel[0].sport, 51000);
	assert_int_equal(p.tunnel[0].dport, 4789);
	uint32_t id = p.tunnel_id;
	/* another source port (per inner flow) and the other direction: the
	 * same tunnel */
	set16(&k, at + 20, 52000);
	ip4_swap(&k, at);
	assert_int_equal(run(&p, DLT_RAW, &k), 0);
	assert_int_equal(p.tunnel_id, id);
	/* another VNI: another tunnel */
	k.b[v + 6] = 43;
	assert_int_equal(run(&p, DLT_RAW, &k), 0);
	assert_int_not_equal(p.tunnel_id, id);

	/* without the I flag it is plain UDP */
	k.b[v] = 0;
	assert_int_equal(run(&p, DLT_RAW, &k), 0);
	assert_int_equal(p.tunnel_count, 0);
	assert_int_equal(p.dport, 4789);
	assert_int_equal(p.anomaly, OM_ANOM_NONE);
	k.b[v] = 0x08;

	/* an inner ethertype nobody knows */
	set16(&k, v + 8 + 12, 0x1234);
	assert_int_equal(run(&p, DLT_RAW, &k), 1);
	assert_int_equal(p.anomaly, OM_ANOM_VXLAN_UNKNOWN_PAYLOAD);
	/* inner ARP is fine */
	k.n = 0;
	at = udp_outer_begin(&k, 51000, 4789);
	p32(&k, 0x08000000);
	p32(&k, 42 << 8);
	eth(&k, 0x0806);
	arp_body(&k, 1, 0x0800, 6, 4, 1);
	udp_outer_end(&k, at);
	assert_int_equal(run(&p, DLT_RAW, &k), 1);
	assert_int_equal(p.anomaly, OM_ANOM_NONE);
	assert_int_equal(p.tunnel_count, 1);
}

static void test_geneve(void **state)
{
	(void)state;
	pkt k = {0};
	om_packet p;
	/* two words of options: one option with one word of data */
	size_t at = udp_outer_begin(&k, 40000, 6081);
	size_t g = k.n;
	p8(&k, 2);
	p8(&k, 0);
	p16(&k, 0x6558);
	p32(&k, 7 << 8);
	p16(&k, 0x0102); /* option class */
	p8(&k, 1);       /* type */
	p8(&k, 1);       /* one word */
	p32(&k, 0xdeadbeef);
	eth(&k, 0x0800);
	inner_udp4(&k);
	udp_outer_end(&k, at);
	assert_int_equal(run(&p, DLT_RAW, &k), 0);
	assert_inner_udp4(&p);
	assert_int_equal(p.tunnel[0].kind, OM_TUN_GENEVE);
	assert_int_equal(p.tunnel[0].id, 7);
	/* an option longer than the options */
	k.b[g + 11] = 2;
	assert_int_equal(run(&p, DLT_RAW, &k), 0);
	assert_int_equal(p.tunnel_count, 0);
	assert_int_equal(p.dport, 6081);
	k.b[g + 11] = 1;
	/* options past the datagram */
	k.b[g] = 60;
	assert_int_equal(run(&p, DLT_RAW, &k), 0);
	assert_int_equal(p.tunnel_count, 0);
	k.b[g] = 2;
	/* version 1 */
	k.b[g] = 0x42;
	assert_int_equal(run(&p, DLT_RAW, &k), 0);
	assert_int_equal(p.tunnel_count, 0);
	k.b[g] = 2;
	/* a payload type nobody knows: the anomaly on the UDP packet */
	set16(&k, g + 2, 0x9999);
	assert_int_equal(run(&p, DLT_RAW, &k), 0);
	assert_int_equal(p.anomaly, OM_ANOM_GENEVE_UNKNOWN_PAYLOAD);
	assert_int_equal(p.tunnel_count, 0);
	assert_int_equal(p.dport, 6081);

	/* IPv4 directly, no options */
	k.n = 0;
	at = udp_outer_begin(&k, 40000, 6081);
	p8(&k, 0);
	p8(&k, 0);
	p16(&k, 0x0800);
	p32(&k, 8 << 8);
	inner_udp4(&k);
	udp_outer_end(&k, at);
	assert_int_equal(run(&p, DLT_RAW, &k), 0);
	assert_inner_udp4(&p);
	assert_int_equal(p.tunnel[0].id, 8);
}

static void test_teredo(void **state)
{
	(void)state;
	pkt k = {0};
	om_packet p;
	/* an authentication header (id 2, auth 3 bytes) and an origin indication */
	size_t at = udp_outer_begin(&k, 3544, 40001);
	p16(&k, 0x0001);
	p8(&k, 2);
	p8(&k, 3);
	put(&k, "idaut", 5);
	put(&k, "noncenon", 8);
	p8(&k, 0);
	p16(&k, 0x0000);
	p16(&k, 0x1234);
	p32(&k, 0xc0000201);
	size_t in = ip6x(&k, 17, 0x11, 0x22);
	udp(&k, 5, 6, "x", 1);
	ip6_end(&k, in);
	udp_outer_end(&k, at);
	assert_int_equal(run(&p, DLT_RAW, &k), 0);
	assert_int_equal(p.ip_ver, 6);
	assert_addr(&p.src, "2001:db8::11");
	assert_int_equal(p.dport, 6);
	assert_int_equal(p.tunnel[0].kind, OM_TUN_TEREDO);
	assert_int_equal(p.tunnel[0].sport, 3544);
	/* the IPv6 length does not fill the datagram: plain UDP */
	set16(&k, in + 4, 8);
	assert_int_equal(run(&p, DLT_RAW, &k), 0);
	assert_int_equal(p.tunnel_count, 0);
	assert_int_equal(p.ip_ver, 4);
	assert_int_equal(p.sport, 3544);
	assert_int_equal(p.anomaly, OM_ANOM_NONE);
	/* not IPv6 at all */
	k.n = 0;
	at = udp_outer_begin(&k, 40001, 3544);
	put(&k, "hello, this is no IPv6 packet, it is just some text", 51);
	udp_outer_end(&k, at);
	assert_int_equal(run(&p, DLT_RAW, &k), 0);
	assert_int_equal(p.tunnel_count, 0);
	assert_int_equal(p.payload_len, 51);
}

static void test_mpls(void **state)
{
	(void)state;
	pkt k = {0};
	om_packet p;
	/* two labels, IPv4 by its first nibble */
	eth(&k, 0x8847);
	p32(&k, 100u << 12 | 64);
	p32(&k, 200u << 12 | 0x100 | 64);
	inner_udp4(&k);
	assert_int_equal(run(&p, DLT_EN10MB, &k), 0);
	assert_int_equal(p.ip_ver, 4);
	assert_addr(&p.src, "10.0.0.1");
	assert_int_equal(p.tunnel_count, 1);
	assert_int_equal(p.tunnel[0].kind, OM_TUN_MPLS);
	assert_int_equal(p.tunnel[0].id, 200);
	assert_int_equal(p.tunnel[0].ip_ver, 0);
	assert_false(p.flags & OM_PKT_TUNNEL);
	/* labels change per hop and direction: not part of the discriminator */
	uint32_t id = p.tunnel_id;
	k.b[14 + 4] ^= 0x10;
	assert_int_equal(run(&p, DLT_EN10MB, &k), 0);
	assert_int_equal(p.tunnel_id, id);
	om_packet q;
	memset(&q, 0, sizeof(q));
	q.raw = k.b;
	q.caplen = (uint32_t)k.n;
	q.linktype = DLT_EN10MB;
	assert_int_equal(om_decode_peek(&q), 0); /* peek goes through MPLS */
	assert_addr(&q.src, "10.0.0.1");

	/* explicit null labels: IPv4 (0) and IPv6 (2) */
	k.n = 0;
	eth(&k, 0x8848);
	p32(&k, 0x100 | 64);
	inner_udp4(&k);
	assert_int_equal(run(&p, DLT_EN10MB, &k), 0);
	assert_addr(&p.dst, "10.0.0.2");
	k.n = 0;
	eth(&k, 0x8847);
	p32(&k, 2u << 12 | 0x100 | 64);
	size_t in = ip6x(&k, 17, 0x11, 0x22);
	udp(&k, 5, 6, "x", 1);
	ip6_end(&k, in);
	assert_int_equal(run(&p, DLT_EN10MB, &k), 0);
	assert_int_equal(p.ip_ver, 6);

	/* a pseudowire: control word, then Ethernet */
	k.n = 0;
	eth(&k, 0x8847);
	p32(&k, 300u << 12 | 0x100 | 64);
	p32(&k, 0);
	eth(&k, 0x0800);
	inner_udp4(&k);
	assert_int_equal(run(&p, DLT_EN10MB, &k), 0);
	assert_addr(&p.src, "10.0.0.1");

	static const struct {
		uint32_t label;
		uint8_t first; /* first payload byte */
		enum om_anomaly want;
	} badv[] = {
	    {1, 0x45, OM_ANOM_MPLS_BAD_LABEL_ROUTER_ALERT},
	    {3, 0x45, OM_ANOM_MPLS_BAD_LABEL_IMPLICIT_NULL},
	    {7, 0x45, OM_ANOM_MPLS_BAD_LABEL_RESERVED},
	    {500, 0x95, OM_ANOM_MPLS_UNKNOWN_PAYLOAD},
	};
	for (size_t i = 0; i < OM_ARRAY_SIZE(badv); i++) {
		k.n = 0;
		eth(&k, 0x8847);
		p32(&k, badv[i].label << 12 | 0x100 | 64);
		p8(&k, badv[i].first);
		p8(&k, 0);
		assert_int_equal(run(&p, DLT_EN10MB, &k), -EINVAL);
		assert_int_equal(p.anomaly, badv[i].want);
	}
	/* the stack cut short, nothing after it, too many labels */
	k.n = 0;
	eth(&k, 0x8847);
	p16(&k, 0x0010);
	assert_int_equal(run(&p, DLT_EN10MB, &k), -EINVAL);
	assert_int_equal(p.anomaly, OM_ANOM_MPLS_HDR_TRUNC);
	k.n = 0;
	eth(&k, 0x8847);
	p32(&k, 100u << 12 | 0x100 | 64);
	assert_int_equal(run(&p, DLT_EN10MB, &k), -EINVAL);
	assert_int_equal(p.anomaly, OM_ANOM_MPLS_PKT_TRUNC);
	k.n = 0;
	eth(&k, 0x8847);
	for (int i = 0; i < 17; i++)
		p32(&k, 100u << 12 | 64);
	inner_udp4(&k);
	assert_int_equal(run(&p, DLT_EN10MB, &k), -EINVAL);
	assert_int_equal(p.anomaly, OM_ANOM_TOO_MANY_LAYERS);
}

static void test_pppoe(void **state)
{
	(void)state;
	pkt k = {0};
	om_packet p;
	eth(&k, 0x8864);
	p8(&k, 0x11);
	p8(&k, 0);
	p16(&k, 0x0abc);
	p16(&k, 0);
	p16(&k, 0x0021);
	inner_udp4(&k);
	set16(&k, 14 + 4, (uint16_t)(k.n - 14 - 6));
	put(&k, "\0\0\0\0", 4); /* Ethernet padding after the session */
	assert_int_equal(run(&p, DLT_EN10MB, &k), 0);
	assert_int_equal(p.ip_ver, 4);
	assert_addr(&p.src, "10.0.0.1");
	assert_int_equal(p.tunnel[0].kind, OM_TUN_PPPOE);
	assert_int_equal(p.tunnel[0].id, 0x0abc);
	uint32_t id = p.tunnel_id;
	assert_int_not_equal(id, 0);
	k.b[14 + 3] = 0xbd; /* another session */
	assert_int_equal(run(&p, DLT_EN10MB, &k), 0);
	assert_int_not_equal(p.tunnel_id, id);
	/* length past the frame, code not 0, header cut */
	set16(&k, 14 + 4, 500);
	assert_int_equal(run(&p, DLT_EN10MB, &k), -EINVAL);
	assert_int_equal(p.anomaly, OM_ANOM_PPPOE_TRUNC);
	set16(&k, 14 + 4, 10);
	k.b[14 + 1] = 0x09;
	assert_int_equal(run(&p, DLT_EN10MB, &k), -EINVAL);
	assert_int_equal(p.anomaly, OM_ANOM_PPPOE_WRONG_CODE);
	k.n = 14 + 5;
	assert_int_equal(run(&p, DLT_EN10MB, &k), -EINVAL);
	assert_int_equal(p.anomaly, OM_ANOM_PPPOE_TRUNC);

	/* IPv6 in PPPoE; LCP consumed */
	k.n = 0;
	eth(&k, 0x8864);
	p32(&k, 0x11000001);
	p16(&k, 0);
	p16(&k, 0x0057);
	size_t in = ip6x(&k, 17, 0x11, 0x22);
	udp(&k, 5, 6, "x", 1);
	ip6_end(&k, in);
	set16(&k, 14 + 4, (uint16_t)(k.n - 14 - 6));
	assert_int_equal(run(&p, DLT_EN10MB, &k), 0);
	assert_int_equal(p.ip_ver, 6);
	set16(&k, 14 + 6, 0xc021);
	assert_int_equal(run(&p, DLT_EN10MB, &k), 1);
	assert_int_equal(p.anomaly, OM_ANOM_NONE);
	set16(&k, 14 + 6, 0x0057);
	k.n = 14 + 8 + 39; /* the IPv6 header cut */
	set16(&k, 14 + 4, 2 + 39);
	assert_int_equal(run(&p, DLT_EN10MB, &k), -EINVAL);
	assert_int_equal(p.anomaly, OM_ANOM_PPP_IPV6_TRUNC);

	/* discovery: a PADI with a service-name tag and the end-of-list tag */
	k.n = 0;
	eth(&k, 0x8863);
	p8(&k, 0x11);
	p8(&k, 0x09);
	p16(&k, 0);
	p16(&k, 12);
	p16(&k, 0x0101);
	p16(&k, 4);
	put(&k, "isp1", 4);
	p32(&k, 0);
	uint64_t disc = om_decoder_stats(dec)->pppoe_discovery;
	assert_int_equal(run(&p, DLT_EN10MB, &k), 1);
	assert_int_equal(p.anomaly, OM_ANOM_NONE);
	assert_int_equal(om_decoder_stats(dec)->pppoe_discovery, disc + 1);
	set16(&k, 14 + 6 + 2, 9); /* tag past the payload */
	assert_int_equal(run(&p, DLT_EN10MB, &k), -EINVAL);
	assert_int_equal(p.anomaly, OM_ANOM_PPPOE_MALFORMED_TAGS);
	k.b[14 + 1] = 0x42;
	assert_int_equal(run(&p, DLT_EN10MB, &k), -EINVAL);
	assert_int_equal(p.anomaly, OM_ANOM_PPPOE_WRONG_CODE);
	k.b[14 + 1] = 0x09;
	set16(&k, 14 + 4, 13);
	assert_int_equal(run(&p, DLT_EN10MB, &k), -EINVAL);
	assert_int_equal(p.anomaly, OM_ANOM_PPPOE_TRUNC);
}

static void test_vntag(void **state)
{
	(void)state;
	pkt k = {0};
	om_packet p;
	eth(&k, 0x8926);
	p32(&k, 0x80010002);
	p16(&k, 0x8100);
	p16(&k, 12);
	p16(&k, 0x0800);
	inner_udp4(&k);
	uint64_t n = om_decoder_stats(dec)->vntag;
	assert_int_equal(run(&p, DLT_EN10MB, &k), 0);
	assert_addr(&p.src, "10.0.0.1");
	assert_int_equal(p.vlan_count, 1);
	assert_int_equal(p.vlan[0], 12);
	assert_int_equal(om_decoder_stats(dec)->vntag, n + 1);
	k.n = 14 + 5;
	assert_int_equal(run(&p, DLT_EN10MB, &k), -EINVAL);
	assert_int_equal(p.anomaly, OM_ANOM_VNTAG_TRUNC);
	k.n = 0;
	eth(&k, 0x8926);
	p32(&k, 0);
	p16(&k, 0x8926);
	p32(&k, 0);
	p16(&k, 0x0800);
	inner_udp4(&k);
	assert_int_equal(run(&p, DLT_EN10MB, &k), -EINVAL);
	assert_int_equal(p.anomaly, OM_ANOM_TOO_MANY_LAYERS);
}

static void test_ppp_links(void **state)
{
	(void)state;
	pkt k = {0};
	om_packet p;
	/* DLT_PPP with address and control */
	p8(&k, 0xff);
	p8(&k, 0x03);
	p16(&k, 0x0021);
	inner_udp4(&k);
	assert_int_equal(run(&p, DLT_PPP, &k), 0);
	assert_addr(&p.src, "10.0.0.1");
	assert_int_equal(p.tunnel_count, 0);
	assert_int_equal(run(&p, DLT_PPP_SERIAL, &k), 0);
	assert_addr(&p.src, "10.0.0.1");
	/* without them, protocol compressed to one byte */
	k.n = 0;
	p8(&k, 0x21);
	inner_udp4(&k);
	assert_int_equal(run(&p, DLT_PPP, &k), 0);
	assert_addr(&p.dst, "10.0.0.2");
	/* IPv6 */
	k.n = 0;
	p16(&k, 0x0057);
	size_t in = ip6x(&k, 17, 0x11, 0x22);
	udp(&k, 5, 6, "x", 1);
	ip6_end(&k, in);
	assert_int_equal(run(&p, DLT_PPP, &k), 0);
	assert_int_equal(p.ip_ver, 6);
	/* Cisco HDLC, alone and inside PPP_SERIAL */
	k.n = 0;
	p8(&k, 0x0f);
	p8(&k, 0x00);
	p16(&k, 0x0800);
	inner_udp4(&k);
	assert_int_equal(run(&p, DLT_C_HDLC, &k), 0);
	assert_addr(&p.src, "10.0.0.1");
	assert_int_equal(run(&p, DLT_PPP_SERIAL, &k), 0);
	assert_addr(&p.src, "10.0.0.1");
	k.b[0] = 0x8f;
	set16(&k, 2, 0x8035); /* SLARP: consumed */
	assert_int_equal(run(&p, DLT_C_HDLC, &k), 1);
	k.n = 3;
	assert_int_equal(run(&p, DLT_C_HDLC, &k), -EINVAL);
	assert_int_equal(p.anomaly, OM_ANOM_CHDLC_TRUNC);
	/* PPP cut short */
	k.n = 0;
	p8(&k, 0xff);
	p8(&k, 0x03);
	assert_int_equal(run(&p, DLT_PPP, &k), -EINVAL);
	assert_int_equal(p.anomaly, OM_ANOM_PPP_TRUNC);
	p8(&k, 0x00);
	assert_int_equal(run(&p, DLT_PPP, &k), -EINVAL);
	assert_int_equal(p.anomaly, OM_ANOM_PPP_TRUNC);
	p8(&k, 0x21);
	put(&k, "\x45\0\0\0", 4);
	assert_int_equal(run(&p, DLT_PPP, &k), -EINVAL);
	assert_int_equal(p.anomaly, OM_ANOM_PPP_IPV4_TRUNC);
	/* PPPoE without Ethernet (DLT_PPP_ETHER) */
	k.n = 0;
	p32(&k, 0x11000005);
	p16(&k, 0);
	p16(&k, 0x0021);
	inner_udp4(&k);
	set16(&k, 4, (uint16_t)(k.n - 6));
	assert_int_equal(run(&p, DLT_PPP_ETHER, &k), 0);
	assert_int_equal(p.tunnel[0].kind, OM_TUN_PPPOE);
	assert_addr(&p.src, "10.0.0.1");
}

/* Five IP-in-IP headers, then the IPv4/UDP packet: that makes five layers.
 * Four are followed; the packet stays the fourth inner header (10.0.0.14)
 * with the last IPv4/UDP packet (20 + 8 + 2 bytes) as its opaque payload. */
static void test_depth_limit(void **state)
{
	(void)state;
	pkt k = {0};
	om_packet p;
	size_t at[6];
	at[0] = ip4(&k, 4, NULL, 0, 1, 0);
	for (int i = 1; i <= 4; i++) {
		uint8_t a[8] = {10, 0, 0, (uint8_t)(10 + i), 10, 0, 1, (uint8_t)(10 + i)};
		at[i] = ip4x(&k, 4, a, 1, 0);
	}
	at[5] = ip4x(&k, 17, IN4, 1, 0);
	udp(&k, 1000, 53, "hi", 2);
	for (int i = 5; i >= 0; i--)
		ip4_end(&k, at[i]);
	assert_int_equal(run(&p, DLT_RAW, &k), 0);
	assert_int_equal(p.anomaly, OM_ANOM_TOO_MANY_LAYERS);
	assert_int_equal(p.tunnel_count, OM_TUNNEL_MAX);
	assert_addr(&p.src, "10.0.0.14");
	assert_int_equal(p.proto, 4);
	assert_int_equal(p.payload_len, 20 + 8 + 2);
	assert_addr(&p.tunnel[3].src, "10.0.0.13");
	/* four headers are fine */
	pkt s = {0};
	put(&s, k.b + at[1], k.n - at[1]);
	assert_int_equal(run(&p, DLT_RAW, &s), 0);
	assert_int_equal(p.anomaly, OM_ANOM_NONE);
	assert_int_equal(p.tunnel_count, 4);
	assert_inner_udp4(&p);
	/* the same limit for UDP tunnels: the fifth VXLAN stays UDP */
	k.n = 0;
	size_t u[5];
	for (int i = 0; i < 5; i++) {
		if (i)
			eth(&k, 0x0800);
		u[i] = udp_outer_begin(&k, 50000, 4789);
		p32(&k, 0x08000000);
		p32(&k, (uint32_t)i << 8);
	}
	eth(&k, 0x0800);
	inner_udp4(&k);
	for (int i = 4; i >= 0; i--)
		udp_outer_end(&k, u[i]);
	assert_int_equal(run(&p, DLT_RAW, &k), 0);
	assert_int_equal(p.anomaly, OM_ANOM_TOO_MANY_LAYERS);
	assert_int_equal(p.tunnel_count, 4);
	assert_int_equal(p.dport, 4789);
	assert_int_equal(p.tunnel[3].id, 3);
}

/* GRE around an inner IPv4 fragment with the given id and offset. */
static void gre_frag(pkt *k, const uint8_t outer[8], uint32_t key, uint16_t frag, const void *d,
                     size_t n)
{
	k->n = 0;
	size_t at = ip4x(k, 47, outer, 1, 0);
	gre_hdr(k, 0x2000, 0x0800, key, 0);
	size_t in = ip4x(k, 17, IN4, 99, frag);
	put(k, d, n);
	ip4_end(k, in);
	ip4_end(k, at);
}

static void test_tunnel_fragments(void **state)
{
	(void)state;
	om_packet p;
	pkt k = {0}, a = {0}, b = {0};
	static const uint8_t OUT4[8] = {192, 0, 2, 1, 198, 51, 100, 2};
	/* the inner datagram: UDP 1000 -> 53 with 16 bytes, cut at 8 */
	uint8_t dg[24];
	pkt u = {0};
	udp(&u, 1000, 53, "0123456789abcdef", 16);
	memcpy(dg, u.b, 24);

	/* inner fragments inside one tunnel */
	gre_frag(&a, OUT4, 5, 0x2000, dg, 8);
	gre_frag(&b, OUT4, 5, 0x0001, dg + 8, 16);
	assert_int_equal(run(&p, DLT_RAW, &a), 1);
	assert_true(p.flags & OM_PKT_FRAGMENT);
	assert_int_equal(run(&p, DLT_RAW, &b), 0);
	assert_true(p.flags & OM_PKT_REASSEMBLED);
	assert_int_equal(p.tunnel_count, 1);
	assert_int_equal(p.dport, 53);
	assert_int_equal(p.payload_len, 16);
	assert_memory_equal(p.payload, "0123456789abcdef", 16);

	/* the same inner datagram id in two tunnels (other key, other outer
	 * addresses) never mixes */
	gre_frag(&a, OUT4, 5, 0x2000, dg, 8);
	gre_frag(&b, OUT4, 6, 0x0001, dg + 8, 16);
	assert_int_equal(run(&p, DLT_RAW, &a), 1);
	assert_int_equal(run(&p, DLT_RAW, &b), 1);
	gre_frag(&b, OUT4B, 5, 0x0001, dg + 8, 16);
	assert_int_equal(run(&p, DLT_RAW, &b), 1);
	gre_frag(&b, OUT4, 5, 0x0001, dg + 8, 16); /* the right one completes */
	assert_int_equal(run(&p, DLT_RAW, &b), 0);
	assert_int_equal(p.payload_len, 16);

	/* outer fragments carrying GRE, whose inner packet is itself a
	 * fragment: both rebuilt, each into its own buffer */
	gre_frag(&a, OUT4, 5, 0x2000, dg, 8); /* inner first fragment, pending */
	assert_int_equal(run(&p, DLT_RAW, &a), 1);
	gre_frag(&k, OUT4, 5, 0x0001, dg + 8, 16); /* the whole GRE packet */
	size_t glen = k.n - 20;                    /* GRE + inner fragment: 8 + 20 + 16 = 44 */
	assert_int_equal(glen, 44);
	pkt f1 = {0}, f2 = {0};
	size_t o1 = ip4x(&f1, 47, OUT4, 0x777, 0x2000);
	put(&f1, k.b + 20, 24);
	ip4_end(&f1, o1);
	size_t o2 = ip4x(&f2, 47, OUT4, 0x777, 3); /* offset 24 */
	put(&f2, k.b + 20 + 24, glen - 24);
	ip4_end(&f2, o2);
	assert_int_equal(run(&p, DLT_RAW, &f1), 1);
	assert_int_equal(run(&p, DLT_RAW, &f2), 0);
	assert_int_equal(p.tunnel_count, 1);
	assert_int_equal(p.tunnel[0].id, 5);
	assert_addr(&p.src, "10.0.0.1");
	assert_int_equal(p.dport, 53);
	assert_memory_equal(p.payload, "0123456789abcdef", 16);
}

static void test_tunnel_peek_outer_json(void **state)
{
	(void)state;
	pkt k = {0};
	om_packet p, o;
	/* VXLAN on VLAN 5: peek and the outer view give the outer UDP packet */
	eth(&k, 0x8100);
	p16(&k, 5);
	p16(&k, 0x0800);
	size_t at = udp_outer_begin(&k, 51000, 4789);
	p32(&k, 0x08000000);
	p32(&k, 42 << 8);
	eth(&k, 0x8100);
	p16(&k, 6);
	p16(&k, 0x0800);
	inner_udp4(&k);
	udp_outer_end(&k, at);
	memset(&o, 0, sizeof(o));
	o.raw = k.b;
	o.caplen = (uint32_t)k.n;
	o.linktype = DLT_EN10MB;
	assert_int_equal(om_decode_peek(&o), 0);
	assert_addr(&o.src, "192.0.2.1");
	assert_int_equal(o.dport, 4789);
	assert_int_equal(o.tunnel_count, 0);

	assert_int_equal(run(&p, DLT_EN10MB, &k), 0);
	assert_int_equal(p.vlan_count, 2);
	assert_int_equal(om_packet_outer(&p, &o), 0);
	assert_int_equal(o.ip_ver, 4);
	assert_int_equal(o.proto, 17);
	assert_addr(&o.src, "192.0.2.1");
	assert_addr(&o.dst, "198.51.100.2");
	assert_int_equal(o.sport, 51000);
	assert_int_equal(o.dport, 4789);
	assert_true(o.flags & OM_PKT_HAS_PORTS);
	assert_int_equal(o.vlan_count, 1); /* the inner tag is not the tunnel's */
	assert_int_equal(o.vlan[0], 5);
	assert_int_equal(o.tunnel_count, 0);
	assert_int_equal(o.wirelen, k.n);

	unsigned depth = 9;
	const om_tunnel_layer *root = om_tunnel_root(p.tunnel, p.tunnel_count, &depth);
	assert_ptr_equal(root, &p.tunnel[0]);
	assert_int_equal(depth, 1);
	om_buf b;
	om_buf_init(&b, 4096);
	om_json j;
	om_json_init(&j, &b);
	om_json_obj_open(&j, NULL);
	om_tunnel_json(&j, root, depth, 17);
	om_json_obj_close(&j);
	assert_string_equal(om_buf_cstr(&b),
	                    "{\"tunnel\":{\"src_ip\":\"192.0.2.1\",\"src_port\":51000,"
	                    "\"dest_ip\":\"198.51.100.2\",\"dest_port\":4789,\"proto\":\"UDP\","
	                    "\"depth\":1,\"pcap_cnt\":17,\"pkt_src\":\"wire/pcap\"}}");
	om_buf_reset(&b);
	om_json_init(&j, &b);
	om_json_obj_open(&j, NULL);
	om_tunnel_json(&j, NULL, 0, 17);
	om_json_obj_close(&j);
	assert_string_equal(om_buf_cstr(&b), "{}");
	om_buf_free(&b);

	/* MPLS alone is no IP tunnel: no outer view, no root */
	k.n = 0;
	eth(&k, 0x8847);
	p32(&k, 100u << 12 | 0x100 | 64);
	inner_udp4(&k);
	assert_int_equal(run(&p, DLT_EN10MB, &k), 0);
	assert_int_equal(p.tunnel_count, 1);
	assert_null(om_tunnel_root(p.tunnel, p.tunnel_count, &depth));
	assert_int_equal(depth, 0);
	assert_int_equal(om_packet_outer(&p, &o), -ENOENT);

	/* GRE: peek stops at the outer header */
	k.n = 0;
	at = ip4(&k, 47, NULL, 0, 1, 0);
	gre_hdr(&k, 0, 0x0800, 0, 0);
	inner_udp4(&k);
	ip4_end(&k, at);
	memset(&o, 0, sizeof(o));
	o.raw = k.b;
	o.caplen = (uint32_t)k.n;
	o.linktype = DLT_RAW;
	assert_int_equal(om_decode_peek(&o), 0);
	assert_int_equal(o.proto, 47);
	assert_addr(&o.src, "192.0.2.1");
	assert_string_equal(om_tunnel_kind_name(OM_TUN_VXLAN), "vxlan");
	assert_string_equal(om_tunnel_kind_name(OM_TUN_COUNT), "unknown");
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
	    cmocka_unit_test(test_peek_key_is_decode_key),
	    cmocka_unit_test(test_gre),
	    cmocka_unit_test(test_pptp),
	    cmocka_unit_test(test_erspan),
	    cmocka_unit_test(test_ip_in_ip),
	    cmocka_unit_test(test_vxlan),
	    cmocka_unit_test(test_geneve),
	    cmocka_unit_test(test_teredo),
	    cmocka_unit_test(test_mpls),
	    cmocka_unit_test(test_pppoe),
	    cmocka_unit_test(test_vntag),
	    cmocka_unit_test(test_ppp_links),
	    cmocka_unit_test(test_depth_limit),
	    cmocka_unit_test(test_tunnel_fragments),
	    cmocka_unit_test(test_tunnel_peek_outer_json),
	    cmocka_unit_test(test_pcap_file),
	    cmocka_unit_test(test_pcapng_file),
	};
	/* Error texts are checked in English, the second language. */
	om_lang_set_thread(OM_LANG_EN);
	return cmocka_run_group_tests(tests, setup, teardown);
}
