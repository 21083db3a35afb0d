/* ftp_craft.h: writing TCP conversations into a capture file for the FTP
 * tests (tests/unit/test_proto_ftp.c) and the FTP fuzz target
 * (tests/fuzz/fuzz_ftp.c): Ethernet + IPv4 + TCP frames with consistent
 * sequence and acknowledgement numbers, a three-way handshake per
 * connection, payloads cut into segments, FIN and RST. */
#ifndef OMAMORI_TEST_FTP_CRAFT_H
#define OMAMORI_TEST_FTP_CRAFT_H

#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define FC_MSS 1400

typedef struct fc_conn {
	uint8_t a[16], b[16]; /* a opens the connection; IPv4 in the first 4 bytes */
	bool v6;              /* IPv6 (no extension headers) */
	uint16_t ap, bp;
	uint32_t seq[2]; /* next sequence number: [0] a->b, [1] b->a */
} fc_conn;

typedef struct fc_cap {
	pcap_t *pd;
	pcap_dumper_t *d;
	uint64_t t; /* microseconds */
	uint8_t frame[14 + 60 + FC_MSS];
} fc_cap;

static inline uint16_t fc_csum(const uint8_t *p, size_t n)
{
	uint32_t s = 0;
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static inline void fc_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void fc_be32(uint8_t *p, uint32_t v)
{
	fc_be16(p, (uint16_t)(v >> 16));
	fc_be16(p + 2, (uint16_t)v);
}

/* Opens the capture on f (Ethernet, capture time from t0). 0 or -1. */
static inline int fc_open(fc_cap *c, FILE *f, uint64_t t0)
{
	memset(c, 0, sizeof(*c));
	c->pd = pcap_open_dead(DLT_EN10MB, 65535);
	if (!c->pd)
		return -1;
	c->d = pcap_dump_fopen(c->pd, f);
	if (!c->d) {
		pcap_close(c->pd);
		return -1;
	}
	c->t = t0;
	return 0;
}

/* Flushes and closes (f too). */
static inline void fc_close(fc_cap *c)
{
	pcap_dump_close(c->d);
	pcap_close(c->pd);
}

/* One segment of k in direction dir (0: a->b). */
static inline void fc_seg(fc_cap *c, fc_conn *k, int dir, uint8_t flags, const uint8_t *p, size_t n)
{
	uint8_t *f = c->frame;
	size_t iplen = k->v6 ? 40 : 20;
	memset(f, 0, 14 + iplen + 20);
	uint8_t *ip = f + 14, *t = ip + iplen;
	if (k->v6) {
		f[12] = 0x86;
		f[13] = 0xdd;
		ip[0] = 0x60;
		fc_be16(ip + 4, (uint16_t)(20 + n));
		ip[6] = 6;
		ip[7] = 64;
		memcpy(ip + 8, dir ? k->b : k->a, 16);
		memcpy(ip + 24, dir ? k->a : k->b, 16);
	} else {
		f[12] = 0x08;
		ip[0] = 0x45;
		fc_be16(ip + 2, (uint16_t)(40 + n));
		ip[8] = 64;
		ip[9] = 6;
		memcpy(ip + 12, dir ? k->b : k->a, 4);
		memcpy(ip + 16, dir ? k->a : k->b, 4);
		fc_be16(ip + 10, fc_csum(ip, 20));
	}
	fc_be16(t, dir ? k->bp : k->ap);
	fc_be16(t + 2, dir ? k->ap : k->bp);
	fc_be32(t + 4, k->seq[dir]);
	if (flags & 0x10)
		fc_be32(t + 8, k->seq[!dir]);
	t[12] = 5 << 4;
	t[13] = flags;
	fc_be16(t + 14, 65535);
	if (n)
		memcpy(t + 20, p, n);
	struct pcap_pkthdr h;
	h.ts.tv_sec = (time_t)(c->t / 1000000);
	h.ts.tv_usec = (suseconds_t)(c->t % 1000000);
	h.caplen = h.len = (bpf_u_int32)(14 + iplen + 20 + n);
	pcap_dump((u_char *)c->d, &h, f);
	c->t += 100;
	k->seq[dir] += (uint32_t)n + ((flags & 0x03) ? 1u : 0u); /* SYN and FIN count */
}

/* The three-way handshake. */
static inline void fc_connect(fc_cap *c, fc_conn *k)
{
	if (!k->seq[0])
		k->seq[0] = 1000;
	if (!k->seq[1])
		k->seq[1] = 50000;
	fc_seg(c, k, 0, 0x02, NULL, 0);
	fc_seg(c, k, 1, 0x12, NULL, 0);
	fc_seg(c, k, 0, 0x10, NULL, 0);
}

/* Payload in segments of at most mss bytes (0: FC_MSS); the receiver
 * acknowledges every 32 KiB, so that the sender stays inside the window. */
static inline void fc_send(fc_cap *c, fc_conn *k, int dir, const void *p, size_t n, size_t mss)
{
	const uint8_t *b = p;
	size_t unacked = 0;
	if (!mss || mss > FC_MSS)
		mss = FC_MSS;
	while (n) {
		size_t m = n < mss ? n : mss;
		fc_seg(c, k, dir, 0x18, b, m);
		b += m;
		n -= m;
		unacked += m;
		if (unacked >= 32768) {
			fc_seg(c, k, !dir, 0x10, NULL, 0);
			unacked = 0;
		}
	}
}

static inline void fc_sends(fc_cap *c, fc_conn *k, int dir, const char *s)
{
	fc_send(c, k, dir, s, strlen(s), 0);
}

/* FIN from dir, acknowledged by the other side. */
static inline void fc_fin(fc_cap *c, fc_conn *k, int dir)
{
	fc_seg(c, k, dir, 0x11, NULL, 0);
	fc_seg(c, k, !dir, 0x10, NULL, 0);
}

static inline void fc_rst(fc_cap *c, fc_conn *k, int dir)
{
	fc_seg(c, k, dir, 0x14, NULL, 0);
}

/* Lets time pass (for timeouts). */
static inline void fc_wait(fc_cap *c, uint64_t usec)
{
	c->t += usec;
}

#endif
