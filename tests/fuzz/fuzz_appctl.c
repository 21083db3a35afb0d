/* libFuzzer target: application control. Input byte 0 even: the group map
 * parser on the rest, then host lookups of every suffix of the input. Odd:
 * the rest cut into chunks (a selector byte, 2-byte length each): a
 * selector with its high bit clear feeds the chunk to a worker as an IP
 * packet of one of a few flows (nDPI on hostile bytes, the capped tables),
 * one with it set shows the chunk as the Host/SNI (and method, URI) of an
 * HTTP, TLS or QUIC transaction of that flow (the names read from our
 * parsers); each flow's app object is written, and every flow ended. */
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "guard/guard.h"

static om_appctl ac;
static om_appctl_worker *w;

struct chunk {
	const uint8_t *p;
	uint32_t n;
};

static const uint8_t *chunk_buffer(const om_proto_tx *tx, enum om_tx_buf b, uint32_t idx,
                                   uint32_t *ret_len)
{
	const struct chunk *c = tx->priv;
	if (idx || (b != OM_TXB_HTTP_HOST && b != OM_TXB_TLS_SNI && b != OM_TXB_HTTP_METHOD &&
	            b != OM_TXB_HTTP_URI_RAW))
		return NULL;
	*ret_len = c->n;
	return c->n ? c->p : NULL;
}

static void init(void)
{
	if (w)
		return;
	char err[256];
	om_app_policy pol;
	memset(&pol, 0, sizeof(pol));
	om_app_policy_set(&pol, "online_storage", OM_APP_ACT_BLOCK);
	if (om_appctl_setup(&ac, NULL, &pol, 4, 2, 8, err, sizeof(err)) < 0 ||
	    om_appctl_worker_new(&ac, &w) < 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (!(data[0] & 1)) {
		om_app_map *m = NULL;
		char err[512];
		if (om_app_map_parse((const char *)data + 1, size - 1, &m, err, sizeof(err)) == 0) {
			for (size_t i = 1; i < size && i < 256; i++)
				om_app_map_host(m, (const char *)data + i, size - i < 200 ? size - i : 200,
				                NULL);
			om_app_map_free(m);
		}
		return 0;
	}
	init();
	om_flow f[6];
	memset(f, 0, sizeof(f));
	for (int i = 0; i < 6; i++) {
		f[i].proto = i & 1 ? IPPROTO_UDP : IPPROTO_TCP;
		f[i].flow_id = (uint64_t)i + 1;
	}
	size_t pos = 1;
	om_usec ts = 1700000000000000ull;
	while (pos + 3 <= size) {
		unsigned which = data[pos] % 6;
		size_t n = (size_t)data[pos + 1] << 8 | data[pos + 2];
		pos += 3;
		if (n > size - pos)
			n = size - pos;
		/* a copy of exactly n bytes, so that a read past it is caught */
		uint8_t *pk = malloc(n ? n : 1);
		if (!pk)
			break;
		memcpy(pk, data + pos, n);
		om_packet p;
		memset(&p, 0, sizeof(p));
		p.ts = ts;
		ts += 1000;
		p.l3 = pk;
		p.l3_len = (uint32_t)n;
		om_app_info info;
		if (data[pos - 3] & 0x80) {
			static const char *const protos[] = {"http", "tls", "quic", "dns"};
			struct chunk c = {pk, (uint32_t)n};
			om_proto_tx tx = {.app_proto = protos[(data[pos - 3] >> 3) & 3],
			                  .progress = OM_TX_REQUEST,
			                  .buffer = chunk_buffer,
			                  .priv = &c};
			om_appctl_tx(w, &f[which], &tx, &info);
		} else {
			om_appctl_packet(w, &f[which], &p, &info);
		}
		om_appctl_flow(w, &f[which], &info);
		om_buf b;
		om_buf_init(&b, 4096);
		om_json j;
		om_json_init(&j, &b);
		om_json_obj_open(&j, NULL);
		om_appctl_json(w, &f[which], &j);
		om_json_obj_close(&j);
		om_buf_free(&b);
		free(pk);
		pos += n;
	}
	for (int i = 0; i < 6; i++) {
		om_app_info info;
		om_appctl_flow_end(w, &f[i], &info);
	}
	return 0;
}
