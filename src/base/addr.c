/* addr.c: IPv4/IPv6 addresses (IPv4 held mapped) and CIDR networks. */
#include "base/base.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

static const uint8_t v4_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

void om_addr_from_v4(om_addr *a, const uint8_t v4[4])
{
	memcpy(a->b, v4_prefix, 12);
	memcpy(a->b + 12, v4, 4);
}

bool om_addr_is_v4(const om_addr *a)
{
	return memcmp(a->b, v4_prefix, 12) == 0;
}

/* The text forms are written here rather than by inet_ntop, which formats
 * with sprintf: every event has two addresses and this was a tenth of the
 * cost of a flow record. The output is inet_ntop's, character for
 * character (RFC 5952: lower-case hex, no leading zeros, the first longest
 * run of two or more zero groups as "::"; glibc's embedded IPv4 forms
 * "::a.b.c.d" and "::ffff:a.b.c.d"); tests/unit/test_base.c checks it
 * against inet_ntop. */
static char *put_v4(char *p, const uint8_t v[4])
{
	for (int i = 0; i < 4; i++) {
		unsigned x = v[i];
		if (x >= 100) {
			*p++ = (char)('0' + x / 100);
			*p++ = (char)('0' + x / 10 % 10);
		} else if (x >= 10) {
			*p++ = (char)('0' + x / 10);
		}
		*p++ = (char)('0' + x % 10);
		if (i < 3)
			*p++ = '.';
	}
	return p;
}

static char *put_hex16(char *p, unsigned w)
{
	static const char hx[] = "0123456789abcdef";
	int shift = 12;
	while (shift > 0 && !(w >> shift & 15))
		shift -= 4;
	for (; shift >= 0; shift -= 4)
		*p++ = hx[w >> shift & 15];
	return p;
}

void om_addr_str(const om_addr *a, char *buf, size_t n)
{
	char tmp[48], *p = tmp;
	if (om_addr_is_v4(a)) {
		p = put_v4(p, a->b + 12);
	} else {
		unsigned w[8];
		for (int i = 0; i < 8; i++)
			w[i] = (unsigned)a->b[2 * i] << 8 | a->b[2 * i + 1];
		int best = -1, best_len = 0;
		for (int i = 0; i < 8;) {
			if (w[i]) {
				i++;
				continue;
			}
			int k = i;
			while (k < 8 && !w[k])
				k++;
			if (k - i > best_len)
				best = i, best_len = k - i;
			i = k;
		}
		if (best_len < 2)
			best = -1;
		for (int i = 0; i < 8; i++) {
			if (best >= 0 && i >= best && i < best + best_len) {
				if (i == best)
					*p++ = ':';
				continue;
			}
			if (i)
				*p++ = ':';
			if (i == 6 && best == 0 &&
			    (best_len == 6 || (best_len == 5 && w[5] == 0xffff))) {
				p = put_v4(p, a->b + 12);
				break;
			}
			p = put_hex16(p, w[i]);
		}
		if (best >= 0 && best + best_len == 8)
			*p++ = ':';
	}
	size_t len = (size_t)(p - tmp);
	if (!n)
		return;
	if (len >= n)
		len = n - 1;
	memcpy(buf, tmp, len);
	buf[len] = '\0';
}

int om_addr_parse(const char *s, om_addr *ret)
{
	uint8_t tmp[16];
	if (inet_pton(AF_INET, s, tmp) == 1) {
		om_addr_from_v4(ret, tmp);
		return 0;
	}
	if (inet_pton(AF_INET6, s, tmp) == 1) {
		memcpy(ret->b, tmp, 16);
		return 0;
	}
	return -EINVAL;
}

int om_cidr_parse(const char *s, om_cidr *ret)
{
	char tmp[64];
	size_t n = strlen(s);
	if (n == 0 || n >= sizeof(tmp))
		return -EINVAL;
	memcpy(tmp, s, n + 1);
	char *slash = strchr(tmp, '/');
	uint64_t plen = 0;
	if (slash)
		*slash = '\0';
	om_cidr c;
	memset(&c, 0, sizeof(c));
	if (om_addr_parse(tmp, &c.addr) < 0)
		return -EINVAL;
	bool v4 = om_addr_is_v4(&c.addr) && strchr(tmp, ':') == NULL;
	uint64_t maxp = v4 ? 32 : 128;
	if (slash) {
		if (om_parse_u64(slash + 1, 0, maxp, &plen) < 0)
			return -EINVAL;
	} else
		plen = maxp;
	c.prefix = (uint8_t)(v4 ? plen + 96 : plen);
	/* clear host bits */
	for (unsigned i = 0; i < 16; i++) {
		unsigned bits = c.prefix > i * 8 ? c.prefix - i * 8 : 0;
		if (bits >= 8)
			continue;
		c.addr.b[i] &= (uint8_t)(0xff00u >> bits);
	}
	*ret = c;
	return 0;
}

static inline uint64_t be64(const uint8_t *b)
{
	uint64_t v;
	memcpy(&v, b, 8);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

/* The first prefix bits of a equal those of c (two words under a mask),
 * and c holds no bits past its prefix in the byte the prefix ends in (a
 * network with host bits there contains nothing, as a byte-wise compare of
 * that byte gives). Scan detection asks this twice for every packet. */
bool om_cidr_contains(const om_cidr *c, const om_addr *a)
{
	unsigned pre = c->prefix > 128 ? 128 : c->prefix;
	uint64_t m0 = pre >= 64 ? ~0ULL : pre == 0 ? 0 : ~0ULL << (64 - pre);
	uint64_t m1 = pre <= 64 ? 0 : pre >= 128 ? ~0ULL : ~0ULL << (128 - pre);
	if (((be64(a->b) ^ be64(c->addr.b)) & m0) || ((be64(a->b + 8) ^ be64(c->addr.b + 8)) & m1))
		return false;
	unsigned rem = pre % 8;
	return rem == 0 || (c->addr.b[pre / 8] & (uint8_t) ~(0xff00u >> rem)) == 0;
}
