/* util.c: hashing (a fast mixer and keyed SipHash), random keys and strict
 * number parsing. */
#include "base/base.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

/* A 64-bit multiply-xorshift hash built on om_mix64. Not cryptographic and
 * not a keyed function: its steps can be inverted, so whoever knows the seed
 * (or can learn it) can craft inputs with equal hashes. Packet-keyed tables
 * use om_siphash. */
uint64_t om_hash64(const void *p, size_t n, uint64_t seed)
{
	const uint8_t *s = p;
	uint64_t h = om_mix64(seed ^ (n * 0x9e3779b97f4a7c15ULL));
	while (n >= 8) {
		uint64_t v;
		memcpy(&v, s, 8);
		h = om_mix64(h ^ v) + 0x9e3779b97f4a7c15ULL;
		s += 8;
		n -= 8;
	}
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++)
		v |= (uint64_t)s[i] << (8 * i);
	return om_mix64(h ^ v ^ 0xa0761d6478bd642fULL);
}

/* ---- SipHash ------------------------------------------------------------
 * Written from the description by Aumasson and Bernstein ("SipHash: a fast
 * short-input PRF", 2012): four 64-bit words of state initialised from the
 * key and four constants, each 8-byte little-endian block mixed in with c
 * rounds of add-rotate-xor, the last block carrying the length in its top
 * byte, then d rounds after xoring 0xff into v2. */

static inline uint64_t rotl64(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

struct sipstate {
	uint64_t v0, v1, v2, v3;
};

static inline void sipround(struct sipstate *s)
{
	s->v0 += s->v1;
	s->v1 = rotl64(s->v1, 13);
	s->v1 ^= s->v0;
	s->v0 = rotl64(s->v0, 32);
	s->v2 += s->v3;
	s->v3 = rotl64(s->v3, 16);
	s->v3 ^= s->v2;
	s->v0 += s->v3;
	s->v3 = rotl64(s->v3, 21);
	s->v3 ^= s->v0;
	s->v2 += s->v1;
	s->v1 = rotl64(s->v1, 17);
	s->v1 ^= s->v2;
	s->v2 = rotl64(s->v2, 32);
}

/* One unaligned load, byte-swapped on big-endian hosts only. */
static inline uint64_t load_le64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

/* Inlined into each caller so that the round counts are constants (the
 * flow table hashes every packet's key with it). */
static inline __attribute__((always_inline)) uint64_t
siphash_cd(const om_hash_key *key, const void *data, size_t n, int c, int d)
{
	const uint8_t *p = data;
	struct sipstate s = {
	    .v0 = key->k0 ^ 0x736f6d6570736575ULL,
	    .v1 = key->k1 ^ 0x646f72616e646f6dULL,
	    .v2 = key->k0 ^ 0x6c7967656e657261ULL,
	    .v3 = key->k1 ^ 0x7465646279746573ULL,
	};
	uint64_t last = (uint64_t)(n & 0xff) << 56;
	size_t blocks = n / 8;
	for (size_t i = 0; i < blocks; i++, p += 8) {
		uint64_t m = load_le64(p);
		s.v3 ^= m;
		for (int r = 0; r < c; r++)
			sipround(&s);
		s.v0 ^= m;
	}
	if (n & 7) {
		uint8_t tail[8] = {0};
		memcpy(tail, p, n & 7);
		last |= load_le64(tail);
	}
	s.v3 ^= last;
	for (int r = 0; r < c; r++)
		sipround(&s);
	s.v0 ^= last;
	s.v2 ^= 0xff;
	for (int r = 0; r < d; r++)
		sipround(&s);
	return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

uint64_t om_siphash(const om_hash_key *key, const void *p, size_t n)
{
	return siphash_cd(key, p, n, 1, 3);
}

uint64_t om_siphash_words(const om_hash_key *key, const uint64_t *w, size_t n)
{
	struct sipstate s = {
	    .v0 = key->k0 ^ 0x736f6d6570736575ULL,
	    .v1 = key->k1 ^ 0x646f72616e646f6dULL,
	    .v2 = key->k0 ^ 0x6c7967656e657261ULL,
	    .v3 = key->k1 ^ 0x7465646279746573ULL,
	};
	for (size_t i = 0; i < n; i++) {
		s.v3 ^= w[i];
		sipround(&s);
		s.v0 ^= w[i];
	}
	uint64_t last = (uint64_t)((n * 8) & 0xff) << 56;
	s.v3 ^= last;
	sipround(&s);
	s.v0 ^= last;
	s.v2 ^= 0xff;
	sipround(&s);
	sipround(&s);
	sipround(&s);
	return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

uint64_t om_siphash24(const om_hash_key *key, const void *p, size_t n)
{
	return siphash_cd(key, p, n, 2, 4);
}

/* ---- random keys ---------------------------------------------------------- */

int om_random_bytes(void *buf, size_t n)
{
	uint8_t *b = buf;
	while (n > 0) {
		ssize_t r = getrandom(b, n, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		b += r;
		n -= (size_t)r;
	}
	return 0;
}

int om_hash_key_random(om_hash_key *key)
{
	uint64_t k[2];
	int r = om_random_bytes(k, sizeof(k));
	if (r < 0) {
		/* No kernel source (a very old kernel, a seccomp filter): a
		 * mix of what differs between processes. Guessable by a local
		 * user, still unknown to a remote sender. */
		struct timespec a, b;
		clock_gettime(CLOCK_REALTIME, &a);
		clock_gettime(CLOCK_MONOTONIC, &b);
		k[0] = om_mix64((uint64_t)a.tv_sec * 1000000000ULL + (uint64_t)a.tv_nsec) ^
		       om_mix64((uint64_t)(uintptr_t)key ^ ((uint64_t)getpid() << 32));
		k[1] = om_mix64(k[0] ^ ((uint64_t)b.tv_sec * 1000000000ULL + (uint64_t)b.tv_nsec) ^
		                (uint64_t)(uintptr_t)&a);
	}
	key->k0 = k[0];
	key->k1 = k[1];
	return r;
}

static om_hash_key process_key;
static pthread_once_t process_key_once = PTHREAD_ONCE_INIT;

static void process_key_init(void)
{
	om_hash_key_random(&process_key);
}

const om_hash_key *om_hash_key_process(void)
{
	pthread_once(&process_key_once, process_key_init);
	return &process_key;
}

int om_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *ret)
{
	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
		return -EINVAL;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end)
		return -EINVAL;
	if (v < min || v > max)
		return -ERANGE;
	*ret = v;
	return 0;
}
