/* http_session.h: writes TCP sessions (IPv4 over Ethernet, handshake,
 * data in segments of a chosen size with valid acknowledgments, FINs) into
 * a pcap file held in memory, for the HTTP parser's unit tests and fuzz
 * target. Several sessions may go into one capture. */
#ifndef OMAMORI_TEST_HTTP_SESSION_H
#define OMAMORI_TEST_HTTP_SESSION_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct hcap {
	uint8_t *buf;
	size_t len, cap;
	uint64_t usec; /* capture time of the next packet */
};

struct hsess {
	struct hcap *c;
	uint8_t cli[4], srv[4];
	uint16_t cport, sport;
	uint32_t seq[2]; /* next sequence number: [0] client, [1] server */
};

static inline void hcap_put(struct hcap *c, const void *d, size_t n)
{
	if (c->len + n > c->cap) {
		size_t cap = c->cap ? c->cap : 65536;
		while (cap < c->len + n)
			cap *= 2;
		uint8_t *nb = realloc(c->buf, cap);
		if (!nb)
			abort();
		c->buf = nb;
		c->cap = cap;
	}
	memcpy(c->buf + c->len, d, n);
	c->len += n;
}

static inline void hcap_le32(struct hcap *c, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
	hcap_put(c, b, 4);
}

static inline void hcap_init(struct hcap *c, uint64_t usec)
{
	memset(c, 0, sizeof(*c));
	c->usec = usec;
	hcap_le32(c, 0xa1b2c3d4);
	uint8_t ver[4] = {2, 0, 4, 0};
	hcap_put(c, ver, 4);
	hcap_le32(c, 0);
	hcap_le32(c, 0);
	hcap_le32(c, 65535);
	hcap_le32(c, 1); /* Ethernet */
}

static inline uint16_t hcap_sum(const uint8_t *p, size_t n, uint32_t s)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* One segment from dir (0: client to server) with flags and payload. */
static inline void hsess_pkt(struct hsess *s, int dir, uint8_t flags, const uint8_t *d, size_t n)
{
	uint8_t f[14 + 20 + 20 + 1500];
	if (n > 1500)
		abort();
	memset(f, 0, 54);
	f[12] = 0x08;
	uint8_t *ip = f + 14, *t = ip + 20;
	const uint8_t *src = dir ? s->srv : s->cli, *dst = dir ? s->cli : s->srv;
	uint16_t sp = dir ? s->sport : s->cport, dp = dir ? s->cport : s->sport;
	ip[0] = 0x45;
	uint16_t tot = (uint16_t)(40 + n);
	ip[2] = (uint8_t)(tot >> 8);
	ip[3] = (uint8_t)tot;
	ip[8] = 64;
	ip[9] = 6;
	memcpy(ip + 12, src, 4);
	memcpy(ip + 16, dst, 4);
	uint16_t c = (uint16_t)~hcap_sum(ip, 20, 0);
	ip[10] = (uint8_t)(c >> 8);
	ip[11] = (uint8_t)c;
	t[0] = (uint8_t)(sp >> 8);
	t[1] = (uint8_t)sp;
	t[2] = (uint8_t)(dp >> 8);
	t[3] = (uint8_t)dp;
	uint32_t seq = s->seq[dir], ack = (flags & 0x10) ? s->seq[!dir] : 0;
	for (int i = 0; i < 4; i++) {
		t[4 + i] = (uint8_t)(seq >> (24 - 8 * i));
		t[8 + i] = (uint8_t)(ack >> (24 - 8 * i));
	}
	t[12] = 5 << 4;
	t[13] = flags;
	t[14] = 0xff;
	t[15] = 0xff;
	if (n)
		memcpy(t + 20, d, n);
	/* pseudo header + segment */
	uint8_t ph[12];
	memcpy(ph, src, 4);
	memcpy(ph + 4, dst, 4);
	ph[8] = 0;
	ph[9] = 6;
	ph[10] = (uint8_t)((20 + n) >> 8);
	ph[11] = (uint8_t)(20 + n);
	uint32_t sum = hcap_sum(ph, 12, 0);
	c = (uint16_t)~hcap_sum(t, 20 + n, sum);
	t[16] = (uint8_t)(c >> 8);
	t[17] = (uint8_t)c;
	s->seq[dir] += (uint32_t)n + ((flags & 0x03) ? 1 : 0); /* SYN and FIN count one */
	size_t flen = 54 + n;
	struct hcap *cp = s->c;
	hcap_le32(cp, (uint32_t)(cp->usec / 1000000));
	hcap_le32(cp, (uint32_t)(cp->usec % 1000000));
	hcap_le32(cp, (uint32_t)flen);
	hcap_le32(cp, (uint32_t)flen);
	hcap_put(cp, f, flen);
	cp->usec += 100;
}

/* The handshake of a new session between 10.0.0.1:cport and 10.0.0.2:sport. */
static inline void hsess_open(struct hsess *s, struct hcap *c, uint16_t cport, uint16_t sport)
{
	memset(s, 0, sizeof(*s));
	s->c = c;
	const uint8_t a[4] = {10, 0, 0, 1}, b[4] = {10, 0, 0, 2};
	memcpy(s->cli, a, 4);
	memcpy(s->srv, b, 4);
	s->cport = cport;
	s->sport = sport;
	s->seq[0] = 1000;
	s->seq[1] = 5000;
	hsess_pkt(s, 0, 0x02, NULL, 0);
	hsess_pkt(s, 1, 0x12, NULL, 0);
	hsess_pkt(s, 0, 0x10, NULL, 0);
}

/* n bytes from dir in segments of seg bytes (1..1460), each acknowledged. */
static inline void hsess_send(struct hsess *s, int dir, const void *d, size_t n, size_t seg)
{
	const uint8_t *p = d;
	if (seg == 0 || seg > 1460)
		seg = 1460;
	for (size_t off = 0; off < n; off += seg) {
		size_t k = n - off < seg ? n - off : seg;
		hsess_pkt(s, dir, 0x18, p + off, k);
		hsess_pkt(s, !dir, 0x10, NULL, 0);
	}
}

static inline void hsess_str(struct hsess *s, int dir, const char *str, size_t seg)
{
	hsess_send(s, dir, str, strlen(str), seg);
}

/* FIN from the client, FIN from the server, last ACK. */
static inline void hsess_close(struct hsess *s)
{
	hsess_pkt(s, 0, 0x11, NULL, 0);
	hsess_pkt(s, 1, 0x11, NULL, 0);
	hsess_pkt(s, 0, 0x10, NULL, 0);
}

/* The fuzz target's script (tests/fuzz/fuzz_http.c) as one session on
 * port 80: the first byte chooses the segment size, then records of
 * [direction byte][length, 2 bytes big endian][bytes]; a direction byte
 * with bits 1 and 2 set is a hole of 1 to 4096 sequence numbers. */
static inline void hsess_script(struct hcap *c, const uint8_t *data, size_t size)
{
	struct hsess s;
	hsess_open(&s, c, 40000, 80);
	size_t seg = 1460;
	if (size)
		seg = data[0] < 128 ? 1 + (size_t)data[0] % 16 : 1 + (size_t)data[0] * 8;
	size_t off = 1;
	while (off + 3 <= size) {
		int dir = data[off] & 1;
		int hole = (data[off] & 6) == 6;
		size_t n = (size_t)data[off + 1] << 8 | data[off + 2];
		off += 3;
		if (hole) {
			s.seq[dir] += (uint32_t)(n % 4096 + 1);
			continue;
		}
		if (n > size - off)
			n = size - off;
		hsess_send(&s, dir, data + off, n, seg);
		off += n;
	}
	hsess_close(&s);
}

#endif
