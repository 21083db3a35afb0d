/* fuzz_decode: the packet decoder and IP defragmentation on hostile input.
 * The whole input is decoded once as an Ethernet frame and once as raw IP
 * (also through the stateless peek); then it is cut into records
 * [link type selector][length, 2 bytes][bytes] fed one after another to a
 * decoder with a small memcap and few trackers, so that fragment state,
 * eviction and timeouts are exercised across packets. Every packet is copied
 * into a buffer of exactly its length so that an over-read is caught. */
#include <pcap/dlt.h>
#include <stdlib.h>
#include <string.h>

#include "net/net.h"

static const int links[] = {DLT_EN10MB,     DLT_RAW,  DLT_IPV4, DLT_IPV6, DLT_LINUX_SLL,
                            DLT_LINUX_SLL2, DLT_NULL, 108,      101,      9999};

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
	(void)om_anomaly_name(p.anomaly);
	om_packet q;
	memset(&q, 0, sizeof(q));
	q.raw = copy;
	q.caplen = (uint32_t)len;
	q.linktype = linktype;
	(void)om_decode_peek(&q);
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
		one(s, links[(sel & 0x0f) % (sizeof(links) / sizeof(links[0]))], data + i, n, ts);
		i += n;
	}
	const om_decode_stats *st = s ? om_decoder_stats(s) : NULL;
	if (st && st->invalid > st->packets)
		abort();
	om_decoder_free(s);
	om_decoder_free(d);
	return 0;
}
