/* Unit tests for IPv4 and IPv6 fragment reassembly (src/net/defrag.c, through
 * om_decode). Fragments are cut by hand from a datagram written here; the
 * expected reassembled bytes follow from the first-wins rule applied to the
 * order in which the fragments are fed. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pcap/dlt.h>

#include "net/net.h"

#define SEC 1000000ull

#define PKTBUF_MAX 70000
#include "pktbuf.h"

/* The datagram: UDP 1111 -> 2222, length 64, then 56 bytes 3*i+1. */
static uint8_t dgram[64];
static uint8_t *big; /* zero bytes for the size tests, past 65535 */

static int group_setup(void **state)
{
	(void)state;
	static const uint8_t h[8] = {0x04, 0x57, 0x08, 0xae, 0x00, 0x40, 0x00, 0x00};
	memcpy(dgram, h, 8);
	for (int i = 8; i < 64; i++)
		dgram[i] = (uint8_t)(3 * i + 1);
	big = calloc(1, 70000);
	return big ? 0 : -1;
}
static int group_teardown(void **state)
{
	(void)state;
	free(big);
	return 0;
}

/* IPv4 fragment 10.0.0.<src> -> 10.0.0.9 of bytes [off, off+n) of d. */
static void frag4(pkt *k, uint8_t src, uint16_t id, uint8_t proto, uint32_t off, bool mf,
                  const uint8_t *d, size_t n, const uint8_t *opt, size_t optlen)
{
	k->n = 0;
	size_t hl = 20 + optlen;
	p8(k, (uint8_t)(0x40 | hl / 4));
	p8(k, 0);
	p16(k, (uint16_t)(hl + n));
	p16(k, id);
	p16(k, (uint16_t)((mf ? 0x2000 : 0) | off / 8));
	p8(k, 64);
	p8(k, proto);
	p16(k, 0);
	const uint8_t a[8] = {10, 0, 0, src, 10, 0, 0, 9};
	put(k, a, 8);
	if (optlen)
		put(k, opt, optlen);
	uint16_t c = cksum(k->b, hl);
	k->b[10] = (uint8_t)(c >> 8);
	k->b[11] = (uint8_t)c;
	put(k, d + off, n);
}

/* IPv6 fragment 2001:db8::a -> 2001:db8::b, optionally after a hop-by-hop
 * header (which then sits in the unfragmentable part). */
static void frag6(pkt *k, bool hbh, uint8_t nh, uint32_t id, uint32_t off, bool m, const uint8_t *d,
                  size_t n)
{
	k->n = 0;
	p32(k, 0x60000000);
	p16(k, (uint16_t)((hbh ? 8 : 0) + 8 + n));
	p8(k, hbh ? 0 : 44);
	p8(k, 64);
	static const uint8_t a[32] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xa,
	                              0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xb};
	put(k, a, 32);
	if (hbh) {
		static const uint8_t h[8] = {44, 0, 1, 4, 0, 0, 0, 0};
		put(k, h, 8);
	}
	p8(k, nh);
	p8(k, 0);
	p16(k, (uint16_t)(off | (m ? 1 : 0)));
	p32(k, id);
	put(k, d + off, n);
}

static om_decoder *dec;
static om_packet pk;

static int feed(const pkt *k, om_usec ts)
{
	memset(&pk, 0, sizeof(pk));
	pk.raw = k->b;
	pk.caplen = (uint32_t)k->n;
	pk.wirelen = (uint32_t)k->n;
	pk.linktype = DLT_RAW;
	pk.ts = ts;
	return om_decode(dec, &pk);
}

static int setup(void **state)
{
	(void)state;
	dec = om_decoder_new(1 << 20, 16, 30);
	return dec ? 0 : -1;
}
static int teardown(void **state)
{
	(void)state;
	dec = om_decoder_free(dec);
	return 0;
}

/* checks pk against the 64-byte dgram rebuilt over IPv4 */
static void assert_v4_whole(const uint8_t *want)
{
	assert_int_equal(pk.anomaly, OM_ANOM_NONE);
	assert_int_equal(pk.flags,
	                 OM_PKT_IPV4 | OM_PKT_UDP | OM_PKT_HAS_PORTS | OM_PKT_REASSEMBLED);
	assert_int_equal(pk.l3_len, 84);
	assert_int_equal(pk.sport, 1111);
	assert_int_equal(pk.dport, 2222);
	assert_int_equal(pk.payload_len, 56);
	assert_memory_equal(pk.payload, want + 8, 56);
	/* the rebuilt header: total length 84, no MF, offset 0, valid checksum */
	assert_int_equal(pk.l3[2] << 8 | pk.l3[3], 84);
	assert_int_equal(pk.l3[6] & 0x3f, 0);
	assert_int_equal(pk.l3[7], 0);
	assert_int_equal(cksum(pk.l3, 20), 0);
}

static void test_v4_in_order(void **state)
{
	(void)state;
	pkt k;
	frag4(&k, 1, 100, 17, 0, true, dgram, 24, NULL, 0);
	assert_int_equal(feed(&k, SEC), 1);
	assert_int_equal(pk.flags, OM_PKT_IPV4 | OM_PKT_FRAGMENT);
	assert_int_equal(pk.anomaly, OM_ANOM_NONE);
	frag4(&k, 1, 100, 17, 24, true, dgram, 24, NULL, 0);
	assert_int_equal(feed(&k, SEC), 1);
	frag4(&k, 1, 100, 17, 48, false, dgram, 16, NULL, 0);
	assert_int_equal(feed(&k, SEC), 0);
	assert_v4_whole(dgram);
	assert_true(pk.l3 < k.b || pk.l3 >= k.b + sizeof(k.b)); /* decoder's buffer */
	const om_decode_stats *st = om_decoder_stats(dec);
	assert_int_equal(st->frag_received, 3);
	assert_int_equal(st->frag_reassembled, 1);
	assert_int_equal(st->ipv4, 3);
	assert_int_equal(st->udp, 1);
	assert_int_equal(st->invalid, 0);
}

static void test_v4_out_of_order(void **state)
{
	(void)state;
	static const uint32_t offs[3] = {0, 24, 48};
	static const int orders[4][3] = {{2, 0, 1}, {1, 2, 0}, {2, 1, 0}, {0, 2, 1}};
	pkt k;
	for (int o = 0; o < 4; o++) {
		for (int i = 0; i < 3; i++) {
			int f = orders[o][i];
			frag4(&k, 1, (uint16_t)(200 + o), 17, offs[f], f != 2, dgram,
			      f == 2 ? 16 : 24, NULL, 0);
			assert_int_equal(feed(&k, SEC), i == 2 ? 0 : 1);
		}
		assert_v4_whole(dgram);
	}
	assert_int_equal(om_decoder_stats(dec)->frag_reassembled, 4);
}

static void test_v4_overlap_same(void **state)
{
	(void)state;
	pkt k;
	frag4(&k, 1, 300, 17, 0, true, dgram, 24, NULL, 0);
	assert_int_equal(feed(&k, SEC), 1);
	frag4(&k, 1, 300, 17, 16, true, dgram, 24, NULL, 0); /* [16,40) */
	assert_int_equal(feed(&k, SEC), 1);
	assert_int_equal(pk.anomaly, OM_ANOM_NONE);
	frag4(&k, 1, 300, 17, 48, false, dgram, 16, NULL, 0);
	assert_int_equal(feed(&k, SEC), 1);
	frag4(&k, 1, 300, 17, 32, true, dgram, 16, NULL, 0); /* [32,48) */
	assert_int_equal(feed(&k, SEC), 0);
	assert_v4_whole(dgram);
	assert_int_equal(om_decoder_stats(dec)->anomaly[OM_ANOM_IPV4_FRAG_OVERLAP], 0);
}

static void test_v4_overlap_differ(void **state)
{
	(void)state;
	uint8_t alt[64];
	for (int i = 0; i < 64; i++)
		alt[i] = dgram[i] ^ 0xff;
	pkt k;
	frag4(&k, 1, 400, 17, 0, true, dgram, 24, NULL, 0); /* A [0,24) */
	assert_int_equal(feed(&k, SEC), 1);
	frag4(&k, 1, 400, 17, 16, true, alt, 16, NULL, 0); /* C [16,32) other bytes */
	assert_int_equal(feed(&k, SEC), 1);
	assert_int_equal(pk.anomaly, OM_ANOM_IPV4_FRAG_OVERLAP);
	frag4(&k, 1, 400, 17, 24, true, dgram, 24, NULL, 0); /* B [24,48) */
	assert_int_equal(feed(&k, SEC), 1);
	assert_int_equal(pk.anomaly, OM_ANOM_NONE); /* raised once per datagram */
	frag4(&k, 1, 400, 17, 48, false, dgram, 16, NULL, 0);
	assert_int_equal(feed(&k, SEC), 0);
	/* first wins byte by byte: [16,24) from A, [24,32) from C, the rest
	 * from B and the last fragment */
	uint8_t want[64];
	memcpy(want, dgram, 64);
	memcpy(want + 24, alt + 24, 8);
	assert_v4_whole(want);
	assert_int_equal(om_decoder_stats(dec)->anomaly[OM_ANOM_IPV4_FRAG_OVERLAP], 1);

	/* a whole fragment sent again with other bytes: the first copy stays */
	frag4(&k, 1, 401, 17, 24, true, dgram, 24, NULL, 0);
	assert_int_equal(feed(&k, SEC), 1);
	frag4(&k, 1, 401, 17, 24, true, alt, 24, NULL, 0);
	assert_int_equal(feed(&k, SEC), 1);
	assert_int_equal(pk.anomaly, OM_ANOM_IPV4_FRAG_OVERLAP);
	frag4(&k, 1, 401, 17, 0, true, dgram, 24, NULL, 0);
	assert_int_equal(feed(&k, SEC), 1);
	frag4(&k, 1, 401, 17, 48, false, dgram, 16, NULL, 0);
	assert_int_equal(feed(&k, SEC), 0);
	assert_v4_whole(dgram);
}

static void test_v4_duplicate(void **state)
{
	(void)state;
	pkt k;
	frag4(&k, 1, 500, 17, 0, true, dgram, 24, NULL, 0);
	assert_int_equal(feed(&k, SEC), 1);
	assert_int_equal(feed(&k, SEC), 1);
	assert_int_equal(pk.anomaly, OM_ANOM_NONE);
	frag4(&k, 1, 500, 17, 48, false, dgram, 16, NULL, 0);
	assert_int_equal(feed(&k, SEC), 1);
	assert_int_equal(feed(&k, SEC), 1);
	frag4(&k, 1, 500, 17, 24, true, dgram, 24, NULL, 0);
	assert_int_equal(feed(&k, SEC), 0);
	assert_v4_whole(dgram);
	const om_decode_stats *st = om_decoder_stats(dec);
	assert_int_equal(st->frag_received, 5);
	assert_int_equal(st->frag_reassembled, 1);
	/* a late duplicate after completion starts a new datagram, held */
	frag4(&k, 1, 500, 17, 24, true, dgram, 24, NULL, 0);
	assert_int_equal(feed(&k, SEC), 1);
}

static void test_v4_last_conflict(void **state)
{
	(void)state;
	pkt k;
	frag4(&k, 1, 600, 17, 0, true, dgram, 24, NULL, 0);
	assert_int_equal(feed(&k, SEC), 1);
	frag4(&k, 1, 600, 17, 48, false, dgram, 16, NULL, 0); /* ends at 64 */
	assert_int_equal(feed(&k, SEC), 1);
	uint8_t longer[80];
	memcpy(longer, dgram, 64);
	memset(longer + 64, 0xaa, 16);
	frag4(&k, 1, 600, 17, 48, false, longer, 32, NULL, 0); /* claims 80 */
	assert_int_equal(feed(&k, SEC), 1);
	assert_int_equal(pk.anomaly, OM_ANOM_IPV4_FRAG_OVERLAP);
	frag4(&k, 1, 600, 17, 24, true, dgram, 24, NULL, 0);
	assert_int_equal(feed(&k, SEC), 0);
	assert_v4_whole(dgram);

	/* data beyond an end already announced is cut at that end */
	frag4(&k, 1, 601, 17, 48, false, dgram, 16, NULL, 0);
	assert_int_equal(feed(&k, SEC), 1);
	frag4(&k, 1, 601, 17, 24, true, longer, 48, NULL, 0); /* [24,72) */
	assert_int_equal(feed(&k, SEC), 1);
	assert_int_equal(pk.anomaly, OM_ANOM_IPV4_FRAG_OVERLAP);
	frag4(&k, 1, 601, 17, 0, true, dgram, 24, NULL, 0);
	assert_int_equal(feed(&k, SEC), 0);
	assert_v4_whole(dgram);
}

static void test_v4_keys(void **state)
{
	(void)state;
	pkt k;
	/* same id from two sources, and same id/source with two protocols */
	frag4(&k, 1, 700, 17, 0, true, dgram, 24, NULL, 0);
	assert_int_equal(feed(&k, SEC), 1);
	frag4(&k, 2, 700, 17, 24, true, dgram, 40, NULL, 0);
	assert_int_equal(feed(&k, SEC), 1);
	frag4(&k, 1, 700, 6, 24, false, dgram, 40, NULL, 0);
	assert_int_equal(feed(&k, SEC), 1);
	frag4(&k, 1, 700, 17, 24, false, dgram, 40, NULL, 0);
	assert_int_equal(feed(&k, SEC), 0);
	assert_v4_whole(dgram);
	char buf[64];
	om_addr_str(&pk.src, buf, sizeof(buf));
	assert_string_equal(buf, "10.0.0.1");
}

/* k wrapped in an outer IPv4 header 192.0.2.<outer> -> 192.0.2.99,
 * protocol 4 (IP in IP). */
static void ipip(pkt *k, uint8_t outer)
{
	pkt in = *k;
	k->n = 0;
	p8(k, 0x45);
	p8(k, 0);
	p16(k, (uint16_t)(20 + in.n));
	p16(k, 1);
	p16(k, 0);
	p8(k, 64);
	p8(k, 4);
	p16(k, 0);
	const uint8_t a[8] = {192, 0, 2, outer, 192, 0, 2, 99};
	put(k, a, 8);
	uint16_t c = cksum(k->b, 20);
	k->b[10] = (uint8_t)(c >> 8);
	k->b[11] = (uint8_t)c;
	put(k, in.b, in.n);
}

/* Fragments inside a tunnel are keyed on the tunnel too: the same inner
 * datagram id between the same inner hosts in two tunnels never mixes. */
static void test_tunnel_keys(void **state)
{
	(void)state;
	pkt k;
	frag4(&k, 1, 800, 17, 0, true, dgram, 24, NULL, 0);
	ipip(&k, 1);
	assert_int_equal(feed(&k, SEC), 1);
	frag4(&k, 1, 800, 17, 24, false, dgram, 40, NULL, 0);
	ipip(&k, 2); /* another tunnel */
	assert_int_equal(feed(&k, SEC), 1);
	frag4(&k, 1, 800, 17, 24, false, dgram, 40, NULL, 0); /* outside any tunnel */
	assert_int_equal(feed(&k, SEC), 1);
	frag4(&k, 1, 800, 17, 24, false, dgram, 40, NULL, 0);
	ipip(&k, 1);
	assert_int_equal(feed(&k, SEC), 0);
	assert_int_equal(pk.flags, OM_PKT_IPV4 | OM_PKT_UDP | OM_PKT_HAS_PORTS |
	                               OM_PKT_REASSEMBLED | OM_PKT_TUNNEL);
	assert_int_equal(pk.tunnel_count, 1);
	assert_int_equal(pk.tunnel[0].kind, OM_TUN_IPIP);
	assert_int_equal(pk.l3_len, 84);
	assert_memory_equal(pk.payload, dgram + 8, 56);
}

static void test_timeout(void **state)
{
	(void)state;
	pkt k;
	frag4(&k, 1, 800, 17, 0, true, dgram, 24, NULL, 0);
	assert_int_equal(feed(&k, 100 * SEC), 1);
	frag4(&k, 1, 800, 17, 24, true, dgram, 24, NULL, 0);
	assert_int_equal(feed(&k, 131 * SEC), 1); /* 31 s later: the first is gone */
	assert_int_equal(om_decoder_stats(dec)->frag_timeouts, 1);
	frag4(&k, 1, 800, 17, 48, false, dgram, 16, NULL, 0);
	assert_int_equal(feed(&k, 132 * SEC), 1);
	frag4(&k, 1, 800, 17, 0, true, dgram, 24, NULL, 0);
	assert_int_equal(feed(&k, 133 * SEC), 0);
	assert_v4_whole(dgram);

	/* the timeout runs from the first fragment, not the last one */
	frag4(&k, 1, 801, 17, 0, true, dgram, 24, NULL, 0);
	assert_int_equal(feed(&k, 200 * SEC), 1);
	frag4(&k, 1, 801, 17, 24, true, dgram, 24, NULL, 0);
	assert_int_equal(feed(&k, 220 * SEC), 1);
	frag4(&k, 1, 801, 17, 48, false, dgram, 16, NULL, 0);
	assert_int_equal(feed(&k, 230 * SEC), 1);
	assert_int_equal(om_decoder_stats(dec)->frag_timeouts, 2);

	/* capture time going backwards expires nothing */
	frag4(&k, 1, 802, 17, 0, true, dgram, 24, NULL, 0);
	assert_int_equal(feed(&k, 300 * SEC), 1);
	frag4(&k, 1, 802, 17, 24, true, dgram, 40, NULL, 0);
	assert_int_equal(feed(&k, 10 * SEC), 1);
	frag4(&k, 1, 802, 17, 48, false, dgram, 16, NULL, 0);
	assert_int_equal(feed(&k, 301 * SEC), 0);
}

static void test_memcap(void **state)
{
	(void)state;
	pkt k;
	/* no memory at all */
	om_decoder *save = dec;
	dec = om_decoder_new(0, 16, 30);
	frag4(&k, 1, 900, 17, 0, true, dgram, 24, NULL, 0);
	assert_int_equal(feed(&k, SEC), 1);
	assert_int_equal(pk.anomaly, OM_ANOM_FRAG_MEMCAP);
	assert_int_equal(om_decoder_stats(dec)->frag_memcap_hits, 1);
	assert_int_equal(om_decoder_stats(dec)->anomaly[OM_ANOM_FRAG_MEMCAP], 1);
	om_decoder_free(dec);

	/* one tracker: a second datagram is refused, the first completes */
	dec = om_decoder_new(1 << 20, 1, 30);
	frag4(&k, 1, 901, 17, 0, true, dgram, 24, NULL, 0);
	assert_int_equal(feed(&k, SEC), 1);
	frag4(&k, 1, 902, 17, 0, true, dgram, 24, NULL, 0);
	assert_int_equal(feed(&k, SEC), 1);
	assert_int_equal(pk.anomaly, OM_ANOM_FRAG_MEMCAP);
	frag4(&k, 1, 901, 17, 24, false, dgram, 40, NULL, 0);
	assert_int_equal(feed(&k, SEC), 0);
	assert_v4_whole(dgram);
	om_decoder_free(dec);

	/* 8 KiB cannot hold a 60000-byte datagram */
	dec = om_decoder_new(8192, 16, 30);
	uint64_t hits = 0;
	bool done = false;
	for (uint32_t off = 0; off < 60000; off += 1440) {
		uint32_t n = 60000 - off < 1440 ? 60000 - off : 1440;
		frag4(&k, 1, 903, 17, off, off + n < 60000, big, n, NULL, 0);
		int r = feed(&k, SEC);
		assert_true(r == 1);
		done |= r == 0;
		hits += pk.anomaly == OM_ANOM_FRAG_MEMCAP;
	}
	assert_false(done);
	assert_true(hits >= 1);
	assert_int_equal(om_decoder_stats(dec)->frag_memcap_hits, hits);
	/* once the leftovers time out, small datagrams fit again */
	frag4(&k, 1, 904, 17, 0, true, dgram, 24, NULL, 0);
	assert_int_equal(feed(&k, 40 * SEC), 1);
	assert_int_equal(pk.anomaly, OM_ANOM_NONE);
	frag4(&k, 1, 904, 17, 24, false, dgram, 40, NULL, 0);
	assert_int_equal(feed(&k, 40 * SEC), 0);
	assert_v4_whole(dgram);
	om_decoder_free(dec);

	/* more than 64 separate pieces of one datagram */
	dec = om_decoder_new(1 << 20, 16, 30);
	for (uint32_t i = 0; i < 65; i++) {
		frag4(&k, 1, 905, 17, i * 16, true, big, 8, NULL, 0);
		assert_int_equal(feed(&k, SEC), 1);
		assert_int_equal(pk.anomaly, i < 64 ? OM_ANOM_NONE : OM_ANOM_FRAG_MEMCAP);
	}
	om_decoder_free(dec);
	dec = save;
}

static void test_v4_too_large(void **state)
{
	(void)state;
	pkt k;
	/* ends at 65512: 65532 with the header, fits */
	frag4(&k, 1, 1000, 17, 65504, true, big, 8, NULL, 0);
	assert_int_equal(feed(&k, SEC), 1);
	assert_int_equal(pk.anomaly, OM_ANOM_NONE);
	/* ends at 65520: 65540 with the header */
	frag4(&k, 1, 1000, 17, 65512, false, big, 8, NULL, 0);
	assert_int_equal(feed(&k, SEC), -EINVAL);
	assert_int_equal(pk.anomaly, OM_ANOM_IPV4_FRAG_TOO_LARGE);
	assert_int_equal(om_decoder_stats(dec)->anomaly[OM_ANOM_IPV4_FRAG_TOO_LARGE], 1);

	/* every fragment fits alone, but the first one's 60-byte header makes
	 * the whole 60 + 65480 = 65540 bytes */
	uint8_t opt[40];
	memset(opt, 1, 39);
	opt[39] = 0;
	int r = 1;
	for (uint32_t off = 0; off < 65480; off += 1440) {
		uint32_t n = 65480 - off < 1440 ? 65480 - off : 1440;
		frag4(&k, 1, 1001, 17, off, off + n < 65480, big, n, off ? NULL : opt,
		      off ? 0 : 40);
		r = feed(&k, SEC);
		if (off + n < 65480)
			assert_int_equal(r, 1);
	}
	assert_int_equal(r, -EINVAL);
	assert_int_equal(pk.anomaly, OM_ANOM_IPV4_FRAG_TOO_LARGE);

	/* the same with a 20-byte header is 65500 bytes: rebuilt */
	for (uint32_t off = 0; off < 65480; off += 1440) {
		uint32_t n = 65480 - off < 1440 ? 65480 - off : 1440;
		frag4(&k, 1, 1002, 17, off, off + n < 65480, big, n, NULL, 0);
		r = feed(&k, SEC);
	}
	assert_int_equal(r, -EINVAL); /* big is all zero: UDP length 0 */
	assert_int_equal(pk.anomaly, OM_ANOM_UDP_LEN_INVALID);
	assert_int_equal(pk.l3_len, 65500);
	assert_true(pk.flags & OM_PKT_REASSEMBLED);
}

static void test_v6(void **state)
{
	(void)state;
	pkt k;
	/* in order, after a hop-by-hop header */
	frag6(&k, true, 17, 0xdead, 0, true, dgram, 32);
	assert_int_equal(feed(&k, SEC), 1);
	assert_int_equal(pk.flags, OM_PKT_IPV6 | OM_PKT_FRAGMENT);
	frag6(&k, true, 17, 0xdead, 32, false, dgram, 32);
	assert_int_equal(feed(&k, SEC), 0);
	assert_int_equal(pk.anomaly, OM_ANOM_NONE);
	assert_int_equal(pk.flags,
	                 OM_PKT_IPV6 | OM_PKT_UDP | OM_PKT_HAS_PORTS | OM_PKT_REASSEMBLED);
	assert_int_equal(pk.l3_len, 40 + 8 + 64);
	assert_int_equal(pk.l3[4] << 8 | pk.l3[5], 72); /* payload length */
	assert_int_equal(pk.l3[6], 0);                  /* hop-by-hop first */
	assert_int_equal(pk.l3[40], 17);                /* then UDP: no fragment header */
	assert_int_equal(pk.proto, 17);
	assert_int_equal(pk.sport, 1111);
	assert_int_equal(pk.payload_len, 56);
	assert_memory_equal(pk.payload, dgram + 8, 56);

	/* out of order, no extension header; the later fragment's next header
	 * differs and is ignored (RFC 8200) */
	frag6(&k, false, 59, 7, 40, false, dgram, 24);
	assert_int_equal(feed(&k, SEC), 1);
	frag6(&k, false, 17, 7, 0, true, dgram, 40);
	assert_int_equal(feed(&k, SEC), 0);
	assert_int_equal(pk.l3_len, 40 + 64);
	assert_int_equal(pk.l3[6], 17);
	assert_int_equal(pk.dport, 2222);
	assert_memory_equal(pk.payload, dgram + 8, 56);

	/* overlap with other bytes */
	uint8_t alt[64];
	for (int i = 0; i < 64; i++)
		alt[i] = (uint8_t)(dgram[i] + 1);
	frag6(&k, false, 17, 8, 0, true, dgram, 40);
	assert_int_equal(feed(&k, SEC), 1);
	frag6(&k, false, 17, 8, 32, false, alt, 32);
	assert_int_equal(feed(&k, SEC), 0);
	assert_int_equal(pk.anomaly, OM_ANOM_IPV6_FRAG_OVERLAP);
	uint8_t want[64];
	memcpy(want, dgram, 40);
	memcpy(want + 40, alt + 40, 24);
	assert_memory_equal(pk.payload, want + 8, 56);
	assert_int_equal(om_decoder_stats(dec)->anomaly[OM_ANOM_IPV6_FRAG_OVERLAP], 1);

	/* too large: 65528 + 16 > 65535 */
	frag6(&k, false, 17, 9, 65528, false, big, 16);
	assert_int_equal(feed(&k, SEC), -EINVAL);
	assert_int_equal(pk.anomaly, OM_ANOM_IPV6_FRAG_TOO_LARGE);
	/* with 8 bytes of extension headers, 65520 + 8 + 8 > 65535 too */
	frag6(&k, true, 17, 9, 65520, false, big, 8);
	assert_int_equal(feed(&k, SEC), -EINVAL);
	assert_int_equal(pk.anomaly, OM_ANOM_IPV6_FRAG_TOO_LARGE);
}

static void test_v6_nested_fragment(void **state)
{
	(void)state;
	/* the fragmentable part starts with another fragment header */
	uint8_t inner[48] = {17, 0, 0, 1, 0, 0, 0, 42};
	memcpy(inner + 8, dgram, 40);
	pkt k;
	frag6(&k, false, 44, 10, 0, true, inner, 24);
	assert_int_equal(feed(&k, SEC), 1);
	frag6(&k, false, 44, 10, 24, false, inner, 24);
	assert_int_equal(feed(&k, SEC), -EINVAL);
	assert_int_equal(pk.anomaly, OM_ANOM_IPV6_EXTHDR_INVALID);
	assert_true(pk.flags & OM_PKT_REASSEMBLED);
}

static void test_hostile_stream(void **state)
{
	(void)state;
	/* a pseudo-random mix of fragments of a few datagrams with random
	 * offsets and lengths: no crash, counters add up */
	om_decoder *save = dec;
	dec = om_decoder_new(32 * 1024, 8, 2);
	uint32_t x = 12345;
	pkt k;
	for (int i = 0; i < 20000; i++) {
		x = x * 1103515245 + 12345;
		uint32_t off = ((x >> 8) % 200) * 8;
		uint32_t n = (x >> 20) % 64;
		bool mf = x & 1;
		if ((x >> 3) & 1)
			frag4(&k, 1, (uint16_t)((x >> 4) & 3), 17, off, mf, big, n, NULL, 0);
		else
			frag6(&k, (x >> 5) & 1, 17, (x >> 4) & 3, off, mf, big, n);
		(void)feed(&k, (om_usec)i * 1000);
	}
	const om_decode_stats *st = om_decoder_stats(dec);
	assert_int_equal(st->packets, 20000);
	assert_true(st->frag_received <= 20000);
	om_decoder_free(dec);
	dec = save;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_v4_in_order, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_v4_out_of_order, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_v4_overlap_same, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_v4_overlap_differ, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_v4_duplicate, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_v4_last_conflict, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_v4_keys, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tunnel_keys, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_memcap, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_v4_too_large, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_v6, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_v6_nested_fragment, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hostile_stream, setup, teardown),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
