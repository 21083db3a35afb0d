/* libFuzzer target for the tls parser (src/proto/tls.c, tlshello.c),
 * driven through the real flow table, TCP reassembly and app-layer with
 * the proto module's worker (tests/fuzz/fuzz_tls_fx.h). Input:
 *   byte 0: bits 0-1 choose app-layer.tls.max-handshake (65536, 1024,
 *           4096, 2048)
 *   then chunks: ctl, length (2 bytes, big-endian, cut to what is left),
 *           the bytes; ctl bit 0: direction (1: from the server), bit 7:
 *           a FIN follows from that side
 * after a TCP handshake. Every record written must be a whole JSON object;
 * every state, buffer and slot must come back (the sanitizers and the
 * fixture's checks catch the rest). Seeds: tests/fuzz/seeds-tls. */
#include "fuzz_tls_fx.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	static const uint32_t maxhs[4] = {0, 1024, 4096, 2048};
	if (n < 1)
		return 0;
	struct tfx x;
	tfx_init(&x, maxhs[d[0] & 3], 0);
	tfx_seg(&x, OM_DIR_TOSERVER, OM_TH_SYN, NULL, 0);
	tfx_seg(&x, OM_DIR_TOCLIENT, OM_TH_SYN | OM_TH_ACK, NULL, 0);
	tfx_seg(&x, OM_DIR_TOSERVER, OM_TH_ACK, NULL, 0);
	size_t i = 1;
	while (i + 3 <= n) {
		uint8_t ctl = d[i];
		size_t len = (size_t)(d[i + 1] << 8 | d[i + 2]);
		i += 3;
		if (len > n - i)
			len = n - i;
		int dir = (ctl & 1) ? OM_DIR_TOCLIENT : OM_DIR_TOSERVER;
		if (len)
			tfx_seg(&x, dir, OM_TH_ACK | OM_TH_PUSH, d + i, (uint32_t)len);
		if (ctl & 0x80)
			tfx_seg(&x, dir, OM_TH_ACK | OM_TH_FIN, NULL, 0);
		i += len;
	}
	tfx_free(&x);
	return 0;
}
