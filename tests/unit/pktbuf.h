/* pktbuf.h: building packets byte by byte in unit tests (network byte
 * order). Include after cmocka.h; define PKTBUF_MAX first for a bigger
 * buffer. */
#ifndef OMAMORI_TEST_PKTBUF_H
#define OMAMORI_TEST_PKTBUF_H

#include <stdint.h>
#include <string.h>

#ifndef PKTBUF_MAX
#define PKTBUF_MAX 4096
#endif

typedef struct {
	uint8_t b[PKTBUF_MAX];
	size_t n;
} pkt;

static inline void put(pkt *k, const void *d, size_t n)
{
	assert_true(k->n + n <= sizeof(k->b));
	if (n)
		memcpy(k->b + k->n, d, n);
	k->n += n;
}

static inline void p8(pkt *k, uint8_t v)
{
	put(k, &v, 1);
}

static inline void p16(pkt *k, uint16_t v)
{
	p8(k, (uint8_t)(v >> 8));
	p8(k, (uint8_t)v);
}

static inline void p32(pkt *k, uint32_t v)
{
	p16(k, (uint16_t)(v >> 16));
	p16(k, (uint16_t)v);
}

/* The Internet checksum of n bytes (odd length padded with a zero byte). */
static inline uint16_t cksum(const uint8_t *b, size_t n)
{
	uint32_t s = 0;
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)b[i] << 8 | b[i + 1];
	if (n & 1)
		s += (uint32_t)b[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

#endif
