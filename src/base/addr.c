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

void om_addr_str(const om_addr *a, char *buf, size_t n)
{
	if (om_addr_is_v4(a))
		inet_ntop(AF_INET, a->b + 12, buf, (socklen_t)n);
	else
		inet_ntop(AF_INET6, a->b, buf, (socklen_t)n);
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

bool om_cidr_contains(const om_cidr *c, const om_addr *a)
{
	unsigned full = c->prefix / 8, rem = c->prefix % 8;
	if (memcmp(c->addr.b, a->b, full) != 0)
		return false;
	if (rem == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff00u >> rem);
	return (a->b[full] & mask) == c->addr.b[full];
}
