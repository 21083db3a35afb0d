/* fuzz_decode: the packet decoder, its tunnels and IP defragmentation on
 * hostile input. The whole input is decoded once as an Ethernet frame, once
 * as raw IP and once as the link type its first byte selects (also through
 * the stateless peek, the outer view of a tunnelled packet and the EVE
 * tunnel object); then it is cut into records
 * [link type selector][length, 2 bytes][bytes] fed one after another to a
 * decoder with a small memcap and few trackers, so that fragment state,
 * eviction and timeouts are exercised across packets. Every packet is copied
 * into a buffer of exactly its length so that an over-read is caught. */
#include <pcap/dlt.h>
#include <stdlib.h>
#include <string.h>

#include "net/net.h"

static const int links[] = {DLT_EN10MB,     DLT_RAW,       DLT_IPV4,   DLT_IPV6, DLT_LINUX_SLL,
                            DLT_LINUX_SLL2, DLT_NULL,      108,        101,      DLT_PPP,
                            DLT_PPP_SERIAL, DLT_PPP_ETHER, DLT_C_HDLC, 9999};
#define NLINKS (sizeof(links) / sizeof(links[0]))

/* What a decoded packet promises about its tunnel layers. */
static void check_tunnels(const om_packet *p)
{
	if (p->tunnel_count > OM_TUNNEL_MAX || p->vlan_count > OM_VLAN_MAX)
		abort();
	if (p->tunnel_count && p->tunnel_id == 0 &&
	    om_tunnel_root(p->tunnel, p->tunnel_count, NULL) != NULL)
		abort();
	for (unsigned i = 0; i < p->tunnel_count; i++)
		if (p->tunnel[i].kind == OM_TUN_NONE || p->tunnel[i].kind >= OM_TUN_COUNT ||
		    p->tunnel[i].vlan_count > p->vlan_count)
			abort();
	unsigned depth = 0;
	const om_tunnel_layer *root = om_tunnel_root(p->tunnel, p->tunnel_count, &depth);
	om_packet o;
	if ((om_packet_outer(p, &o) == 0) != (root != NULL))
		abort();
	if (root && (o.ip_ver != 4 && o.ip_ver != 6))
		abort();
	om_buf b;
	om_buf_init(&b, 4096);
	om_json j;
	om_json_init(&j, &b);
	om_json_obj_open(&j, NULL);
	om_tunnel_json(&j, root, depth, 1);
	om_json_obj_close(&j);
	if (b.toobig)
		abort();
	om_buf_free(&b);
}

static void one(om_decoder *d, int linktype, const uint8_t *data, size_t len, om_usec ts)
{
	uint8_t *copy = malloc(len ? len : 1);
	if (!copy)
		return;
	memcpy(copy, data, len);
	om_packet p;
	memset(&p, 0, sizeof(p));
	p.raw = copy;
	p.caplen = (uint32_t)len;
	p.wirelen = (uint32_t)len;
	p.linktype = linktype;
	p.ts = ts;
	int r = om_decode(d, &p);
	if (r == 0 && p.payload_len) {
		/* touch the result: the payload must lie within l3 */
		volatile uint8_t x = p.payload[0] ^ p.payload[p.payload_len - 1];
		(void)x;
		if (p.payload < p.l3 || p.payload + p.payload_len > p.l3 + p.l3_len)
			abort();
	}
	if (r < 0 && p.anomaly == OM_ANOM_NONE)
		abort();
	check_tunnels(&p);
	(void)om_anomaly_name(p.anomaly);
	om_packet q;
	memset(&q, 0, sizeof(q));
	q.raw = copy;
	q.caplen = (uint32_t)len;
	q.linktype = linktype;
	(void)om_decode_peek(&q);
	if (q.tunnel_count > OM_TUNNEL_MAX || q.vlan_count > OM_VLAN_MAX)
		abort();
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	om_decoder *d = om_decoder_new(16 * 1024, 8, 5);
	if (!d)
		return 0;
	one(d, DLT_EN10MB, data, size, 0);
	one(d, DLT_RAW, data, size, 0);
	if (size > 0)
		one(d, links[data[0] % NLINKS], data + 1, size - 1, 0);

	om_decoder *s = om_decoder_new(24 * 1024, 4, 3);
	om_usec ts = 1000000;
	size_t i = 0;
	while (s && i + 3 <= size) {
		uint8_t sel = data[i];
		size_t n = (size_t)data[i + 1] << 8 | data[i + 2];
		i += 3;
		if (n > size - i)
			n = size - i;
		ts += (om_usec)(sel >> 4) * 500000u; /* capture time moves 0 to 7.5 s */
		one(s, links[(sel & 0x0f) % NLINKS], data + i, n, ts);
		i += n;
	}
	const om_decode_stats *st = s ? om_decoder_stats(s) : NULL;
	if (st && st->invalid > st->packets)
		abort();
	om_decoder_free(s);
	om_decoder_free(d);
	return 0;
}
