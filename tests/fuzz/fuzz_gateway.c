/* fuzz_gateway: the gateway's packet-facing code on hostile input: the
 * reject builder (it reads the offending packet's IP and TCP headers to
 * answer them), the block page's redirect and the DNS sinkhole (they read
 * the request and the query), the block page's request parser, and the
 * policy block-list match on names taken from packets.
 * The input is one raw IP packet, copied into a buffer of exactly its
 * length so that an over-read is caught; what is built must be well formed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "engine/internal.h"

static om_gateway_config g;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!g.nblocked) {
		snprintf(g.blocked[0], OM_GW_NAME_MAX, "example.com");
		snprintf(g.blocked[1], OM_GW_NAME_MAX, "a.b");
		g.nblocked = 2;
	}
	uint8_t *pkt = malloc(size ? size : 1);
	if (!pkt)
		return 0;
	memcpy(pkt, data, size);
	om_packet p;
	memset(&p, 0, sizeof(p));
	p.raw = pkt;
	p.caplen = (uint32_t)size;
	p.wirelen = (uint32_t)size;
	p.linktype = 101;
	if (om_decode_peek(&p) == 0) {
		uint8_t out[128];
		size_t l1 = 0, l2 = 0;
		if (om_gw_reject_build(&p, out, sizeof(out), &l1, &l2) == 0) {
			if (l1 < 40 || l1 > sizeof(out) || l1 + l2 > sizeof(out))
				abort();
			if ((out[0] >> 4) == 4
			        ? (size_t)(out[2] << 8 | out[3]) != l1
			        : (out[0] >> 4) != 6 || (size_t)(out[4] << 8 | out[5]) + 40 != l1)
				abort();
		}
	}
	if (om_decode_peek(&p) == 0) {
		uint8_t out[1400];
		size_t l1 = 0, l2 = 0;
		if (om_gw_redirect_build(&p, "http://192.0.2.1:8080/", out, sizeof(out), &l1,
		                         &l2) == 0) {
			size_t hl = (out[0] >> 4) == 4 ? 20 : 40;
			if (l1 < hl + 20 || l2 != hl + 20 || l1 + l2 > sizeof(out) ||
			    (hl == 20
			         ? (size_t)(out[2] << 8 | out[3]) != l1
			         : (out[0] >> 4) != 6 || (size_t)(out[4] << 8 | out[5]) + 40 != l1))
				abort();
		}
		/* the page's addresses: both, or one of them */
		om_addr a4, a6;
		om_addr_parse("192.0.2.1", &a4);
		om_addr_parse("2001:db8::1", &a6);
		unsigned pick = size ? data[0] % 3 : 0;
		if (om_gw_sinkhole_build(&p, pick == 2 ? NULL : &a4, pick == 1 ? NULL : &a6, out,
		                         sizeof(out), &l1) == 0) {
			size_t hl = (out[0] >> 4) == 4 ? 20 : 40;
			if (l1 < hl + 8 + 12 || l1 > sizeof(out))
				abort();
			if (hl == 20
			        ? (size_t)(out[2] << 8 | out[3]) != l1 ||
			              (size_t)(out[24] << 8 | out[25]) != l1 - 20
			        : (out[0] >> 4) != 6 || (size_t)(out[4] << 8 | out[5]) != l1 - 40 ||
			              (size_t)(out[44] << 8 | out[45]) != l1 - 40)
				abort();
		}
	}
	om_gw_req rq;
	if (om_gw_page_parse((const char *)pkt, size, &rq) == 0) {
		if (!rq.method[0] || !rq.path[0] || strlen(rq.path) >= sizeof(rq.path))
			abort();
	}
	(void)om_gw_name_blocked(&g, (const char *)pkt, size > 300 ? 300 : size);
	free(pkt);
	return 0;
}
