/* libFuzzer target for TCP reassembly (and, on the side, the flow table).
 * The input is a small header and a sequence of segments fed to one flow
 * with a small memcap:
 *   header: memcap selector, depth selector, server ISN (4 bytes)
 *   segment: ctl, tcp flags, seq offset (2 bytes, or 4 when ctl & 0x80),
 *            len, len bytes (cut to what is left)
 *   ctl bit 0 is the direction; bit 1 makes the offset negative.
 * Invariants checked: per direction, data and gaps are reported at strictly
 * contiguous offsets with non-zero lengths, never past depth; held memory
 * stays within memcap; after the flow ends every byte is returned and the
 * per-flow state is gone. A first-wins model of the first MODEL bytes of
 * each direction checks the content: every byte delivered is the first byte
 * fed at its offset, and a gap never covers a byte that was fed. */
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/net.h"

#define MODEL 16384

struct chk {
	uint64_t next[2];
	uint64_t delivered;
	uint64_t depth;
};

static uint8_t model[2][MODEL];
static uint8_t mset[2][MODEL];

static void on_data(void *u, om_flow *f, int dir, const uint8_t *data, uint32_t len, uint64_t off,
                    unsigned flags)
{
	struct chk *c = u;
	(void)f;
	if (dir < 0 || dir > 1 || off != c->next[dir] || len == 0 || !data)
		abort();
	for (uint32_t i = 0; i < len && off + i < MODEL; i++)
		if (!mset[dir][off + i] || model[dir][off + i] != data[i])
			abort();
	/* touch every byte so that the sanitizer checks the range */
	volatile uint8_t sink = 0;
	for (uint32_t i = 0; i < len; i++)
		sink ^= data[i];
	(void)sink;
	c->next[dir] += len;
	c->delivered += len;
	if (c->depth && c->next[dir] > c->depth)
		abort();
}

static void on_gap(void *u, om_flow *f, int dir, uint64_t off, uint64_t len)
{
	struct chk *c = u;
	(void)f;
	if (dir < 0 || dir > 1 || off != c->next[dir] || len == 0)
		abort();
	for (uint64_t i = 0; i < len && off + i < MODEL; i++)
		if (mset[dir][off + i])
			abort();
	c->next[dir] += len;
	if (c->depth && c->next[dir] > c->depth)
		abort();
}

static void on_event(void *u, om_flow *f, const char *ev)
{
	(void)u, (void)f;
	if (!ev || strncmp(ev, "stream.", 7))
		abort();
}

static void flow_end_cb(void *u, om_flow *f, enum om_flow_end why)
{
	(void)u, (void)why;
	if (!f || f->tcp)
		abort(); /* this table's flows never get stream state */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 6)
		return 0;
	static const uint64_t memcaps[4] = {0, 100, 600, 4096};
	static const uint64_t depths[4] = {0, 0, 50, 1000};
	uint64_t memcap = memcaps[data[0] & 3];
	struct chk c = {{0, 0}, 0, depths[data[1] & 3]};
	uint32_t isn[2];
	isn[0] = 0xffffff00u; /* client: close to the wrap */
	isn[1] = (uint32_t)data[2] | (uint32_t)data[3] << 8 | (uint32_t)data[4] << 16 |
	         (uint32_t)data[5] << 24;
	data += 6;
	size -= 6;

	om_stream_callbacks cb = {on_data, on_gap, on_event, &c};
	om_stream_ctx *s = om_stream_new(c.depth, memcap, &cb);
	om_flow_config fc = {.max_flows = 4,
	                     .hash_size = 2,
	                     .timeout_new = 1,
	                     .timeout_est = 5,
	                     .timeout_closed = 1,
	                     .timeout_udp = 2,
	                     .timeout_icmp = 1,
	                     .on_end = flow_end_cb};
	om_flow_table *t = om_flow_table_new(&fc);
	if (!s || !t)
		abort();
	om_flow f;
	memset(&f, 0, sizeof(f));
	f.proto = IPPROTO_TCP;

	memset(mset, 0, sizeof(mset));
	bool based[2] = {false, false};
	uint32_t base[2] = {0, 0};
	om_usec ts = 0;
	while (size >= 5) {
		uint8_t ctl = data[0];
		om_packet p;
		memset(&p, 0, sizeof(p));
		p.ip_ver = 4;
		p.proto = IPPROTO_TCP;
		p.flags = OM_PKT_IPV4 | OM_PKT_TCP | OM_PKT_HAS_PORTS;
		p.tcp_flags = data[1];
		uint32_t off = (uint32_t)data[2] | (uint32_t)data[3] << 8;
		size_t hdr = 4;
		if (ctl & 0x80) {
			if (size < 7)
				break;
			off |= (uint32_t)data[4] << 16 | (uint32_t)data[5] << 24;
			hdr = 6;
		}
		uint32_t len = data[hdr];
		hdr++;
		data += hdr;
		size -= hdr;
		if (len > size)
			len = (uint32_t)size;
		int dir = ctl & 1;
		p.tcp_seq = (ctl & 2) ? isn[dir] - off : isn[dir] + off;
		/* a copy, so that reading past len is caught */
		uint8_t *buf = len ? malloc(len) : NULL;
		if (len) {
			memcpy(buf, data, len);
			p.payload = buf;
			p.payload_len = len;
		}
		data += len;
		size -= len;

		/* the model: offsets by serial arithmetic from the next byte
		 * expected; an RST carries no stream data */
		if (!(p.tcp_flags & OM_TH_RST)) {
			uint32_t dseq = p.tcp_seq + ((p.tcp_flags & OM_TH_SYN) ? 1 : 0);
			if (!based[dir]) {
				based[dir] = true;
				base[dir] = dseq;
			}
			uint32_t nseq = base[dir] + (uint32_t)c.next[dir];
			int64_t o = (int64_t)c.next[dir] + (int32_t)(dseq - nseq);
			for (uint32_t i = 0; i < len; i++) {
				int64_t q = o + i;
				if (q >= (int64_t)c.next[dir] && q < MODEL && !mset[dir][q]) {
					mset[dir][q] = 1;
					model[dir][q] = buf[i];
				}
			}
		}
		om_stream_packet(s, &f, &p, dir);
		const om_stream_stats *st = om_stream_stats_get(s);
		if (st->mem_in_use > memcap + 1024)
			abort();

		/* the flow table sees the same packets on a few 5-tuples */
		ts += (om_usec)(ctl & 0x3c) * 100000u;
		p.ts = ts;
		uint8_t a[4] = {10, 0, 0, (uint8_t)(1 + ((ctl >> 2) & 1))};
		uint8_t b[4] = {10, 0, 0, (uint8_t)(3 + ((ctl >> 3) & 1))};
		om_addr_from_v4(dir ? &p.dst : &p.src, a);
		om_addr_from_v4(dir ? &p.src : &p.dst, b);
		p.sport = dir ? 80 : (uint16_t)(1000 + ((ctl >> 4) & 3));
		p.dport = dir ? (uint16_t)(1000 + ((ctl >> 4) & 3)) : 80;
		if (ctl & 0x40)
			p.proto = IPPROTO_UDP;
		int fdir;
		om_flow *g = om_flow_get(t, &p, &fdir);
		if (!g || (fdir != 0 && fdir != 1) || om_flow_table_stats(t)->active > 4)
			abort();
		om_flow_table_expire(t, ts);
		free(buf);
	}

	om_stream_flow_end(s, &f);
	const om_stream_stats *st = om_stream_stats_get(s);
	if (f.tcp || st->mem_in_use != 0 || st->bytes_delivered != c.delivered)
		abort();
	om_flow_table_flush(t, OM_FLOW_END_SHUTDOWN);
	const om_flow_stats *fs = om_flow_table_stats(t);
	if (fs->active != 0 || fs->created != fs->ended)
		abort();
	om_flow_table_free(t);
	om_stream_free(s);
	return 0;
}
