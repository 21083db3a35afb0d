/* fuzz_gateway: the gateway's packet-facing code on hostile input: the
 * reject builder (it reads the offending packet's IP and TCP headers to
 * answer them) and the policy block-list match on names taken from packets.
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
			if ((out[0] >> 4) != 4 || (size_t)(out[2] << 8 | out[3]) != l1)
				abort();
		}
	}
	(void)om_gw_name_blocked(&g, (const char *)pkt, size > 300 ? 300 : size);
	free(pkt);
	return 0;
}
