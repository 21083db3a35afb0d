/* libFuzzer target: what the tracking server reads from a request — the
 * path, the user agent and the client address — and the address ranges an
 * operator gives. The input is split at the first two NUL bytes into path,
 * user agent and address. A path that parses gives a valid token that the
 * URL builder makes back into the same path; nothing crashes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "drill/drill.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	const char *z1 = memchr(p, 0, size);
	size_t plen = z1 ? (size_t)(z1 - p) : size;
	char ua[512] = "", ip[128] = "";
	if (z1) {
		const char *u = z1 + 1;
		size_t rest = size - plen - 1;
		const char *z2 = memchr(u, 0, rest);
		size_t ul = z2 ? (size_t)(z2 - u) : rest;
		if (ul >= sizeof(ua))
			ul = sizeof(ua) - 1;
		memcpy(ua, u, ul);
		if (z2) {
			size_t il = rest - (size_t)(z2 - u) - 1;
			if (il >= sizeof(ip))
				il = sizeof(ip) - 1;
			memcpy(ip, z2 + 1, il);
		}
	}
	enum om_drill_kind k;
	char tok[OM_DRILL_TOKEN_LEN + 1];
	if (om_drill_track_parse(p, plen, &k, tok) == 0) {
		if (!om_drill_token_valid(tok, strlen(tok)) || (unsigned)k > OM_DRILL_EV_LANDING)
			abort();
		om_buf b;
		om_buf_init(&b, 4096);
		if (om_drill_track_url("", k, tok, &b) < 0)
			abort();
		const char *q = memchr(p, '?', plen);
		size_t cmp = q ? (size_t)(q - p) : plen;
		if (b.len != cmp || memcmp(b.data, p, cmp))
			abort();
		om_buf_free(&b);
	}
	om_drill_scan_cfg c;
	om_drill_scan_defaults(&c);
	om_drill_scan_net_add(&c, ip);
	om_drill_scan_net_add(&c, "192.0.2.0/24");
	unsigned f = om_drill_scan_request(&c, ip, ua);
	if (f & ~(OM_DRILL_SCAN_UA | OM_DRILL_SCAN_RANGE))
		abort();
	/* the bytes as a run of events of one recipient */
	om_drill_ev ev[64];
	size_t n = 0;
	int64_t at = 0;
	for (size_t i = 0; i + 1 < size && n < 64; i += 2, n++) {
		at += data[i + 1] * 100000LL;
		ev[n] = (om_drill_ev){.kind = (enum om_drill_kind)(data[i] % OM_DRILL_EV__COUNT),
		                      .at = at,
		                      .web = data[i] & 0x80};
	}
	om_drill_scan_timing(&c, 1, ev, n);
	return 0;
}
