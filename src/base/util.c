/* util.c: hashing and strict number parsing. */
#include "base/base.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* A 64-bit multiply-xorshift hash built on om_mix64. Not cryptographic:
 * tables that take keys from packets seed it per process. */
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
