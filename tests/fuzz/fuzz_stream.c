/* libFuzzer target for TCP state and reassembly (src/net/stream.c), alone
 * and wired to the flow table as the engine wires them.
 * The input is a small header and a sequence of segments:
 *   header: [0] memcap (bits 0-1), flow cap (bits 2-3), policy (bits 4-7);
 *           [1] depth (bits 0-1), delivered window (bits 2-3);
 *           [2..5] server ISN
 *   segment: ctl, tcp flags, seq offset (2 bytes, or 4 when ctl & 0x80),
 *            ack byte, window byte, len, len bytes (cut to what is left)
 *   ctl bit 0 is the direction; bit 1 makes the offset negative; bits 2-5
 *   pick the flow table's 5-tuple and the time step; bit 6 sends the packet
 *   to the table as UDP. The ack is the peer's ISN + 1 + 64 * ack byte; the
 *   window byte gives the window (bits 0-6, << 9) and whether the packet
 *   offers window scaling (bit 7, shift = ack byte & 15).
 * Invariants checked: per direction, data and gaps are reported at strictly
 * contiguous offsets with non-zero lengths, never past depth; on_end comes
 * once per direction and nothing is delivered after it; events are stream
 * events; the memory counted is the sum of its parts and the blocks held
 * stay within memcap (plus the one block a segment larger than the memcap
 * passes through); after the flows end every block is returned and no
 * per-flow state is left. (The content is checked by the unit tests: which
 * bytes win depends on the policy and on which packets the stream judged
 * invalid, which a model here would have to copy.) */
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/net.h"

struct chk {
	uint64_t next[2];
	uint64_t delivered;
	uint64_t depth;
	int ended[2];
	om_flow *f; /* the flow fed directly; others come from the table */
};

static void on_data(void *u, om_flow *f, int dir, const uint8_t *data, uint32_t len, uint64_t off,
                    unsigned flags)
{
	struct chk *c = u;
	if (dir < 0 || dir > 1 || len == 0 || !data || (flags & ~OM_STREAM_DATA_HELD))
		abort();
	/* touch every byte so that the sanitizer checks the range */
	volatile uint8_t sink = 0;
	for (uint32_t i = 0; i < len; i++)
		sink ^= data[i];
	(void)sink;
	if (f != c->f)
		return;
	if (off != c->next[dir] || c->ended[dir])
		abort();
	c->next[dir] += len;
	c->delivered += len;
	if (c->depth && c->next[dir] > c->depth)
		abort();
}

static void on_gap(void *u, om_flow *f, int dir, uint64_t off, uint64_t len)
{
	struct chk *c = u;
	if (dir < 0 || dir > 1 || len == 0)
		abort();
	if (f != c->f)
		return;
	if (off != c->next[dir] || c->ended[dir])
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

static void on_end(void *u, om_flow *f, int dir, enum om_stream_end why)
{
	struct chk *c = u;
	if (dir < 0 || dir > 1 || (unsigned)why > OM_STREAM_END_EVICTED)
		abort();
	if (f == c->f && c->ended[dir]++)
		abort();
}

static om_stream_ctx *g_table_stream;
static void flow_end_cb(void *u, om_flow *f, enum om_flow_end why)
{
	(void)u, (void)why;
	if (!f)
		abort();
	om_stream_flow_end(g_table_stream, f);
}

static void check_mem(const om_stream_ctx *s, uint64_t memcap)
{
	const om_stream_stats *st = om_stream_stats_get(s);
	if (st->mem_in_use != st->mem_segments + st->mem_windows + st->mem_cache + st->mem_states)
		abort();
	if (st->mem_segments + st->mem_windows + st->mem_cache > memcap + (128u << 10))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 6)
		return 0;
	static const uint64_t memcaps[4] = {0, 600, 4096, 65536};
	static const uint64_t flowcaps[4] = {0, 300, 2048, 1u << 20};
	static const uint64_t depths[4] = {0, 0, 50, 1000};
	static const uint32_t windows[4] = {0, 128, 2048, 5000};
	uint64_t memcap = memcaps[data[0] & 3];
	struct chk c;
	memset(&c, 0, sizeof(c));
	c.depth = depths[data[1] & 3];
	om_stream_config sc = {.flow_memcap = flowcaps[(data[0] >> 2) & 3],
	                       .overlap_window = windows[(data[1] >> 2) & 3],
	                       .default_policy =
	                           (enum om_stream_policy)((data[0] >> 4) % OM_POLICY_COUNT)};
	uint32_t isn[2];
	isn[0] = 0xffffff00u; /* client: close to the wrap */
	isn[1] = (uint32_t)data[2] | (uint32_t)data[3] << 8 | (uint32_t)data[4] << 16 |
	         (uint32_t)data[5] << 24;
	data += 6;
	size -= 6;

	om_stream_callbacks cb = {on_data, on_gap, on_event, &c, on_end};
	om_stream_ctx *s = om_stream_new(c.depth, memcap, &cb);
	om_stream_ctx *s2 = om_stream_new(c.depth, memcap, &cb);
	if (!s || !s2 || om_stream_configure(s, &sc) < 0 || om_stream_configure(s2, &sc) < 0)
		abort();
	g_table_stream = s2;
	om_flow_config fc = {.max_flows = 4,
	                     .hash_size = 2,
	                     .timeout_new = 1,
	                     .timeout_est = 5,
	                     .timeout_closed = 1,
	                     .timeout_udp = 2,
	                     .timeout_icmp = 1,
	                     .on_end = flow_end_cb,
	                     .stream = s2};
	om_flow_table *t = om_flow_table_new(&fc);
	if (!t)
		abort();
	om_flow f;
	memset(&f, 0, sizeof(f));
	f.proto = IPPROTO_TCP;
	c.f = &f;

	om_usec ts = 0;
	unsigned fed = 0;
	while (size >= 7) {
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
			if (size < 9)
				break;
			off |= (uint32_t)data[4] << 16 | (uint32_t)data[5] << 24;
			hdr = 6;
		}
		int dir = ctl & 1;
		uint8_t ackb = data[hdr], winb = data[hdr + 1];
		uint32_t len = data[hdr + 2];
		hdr += 3;
		data += hdr;
		size -= hdr;
		if (len > size)
			len = (uint32_t)size;
		p.tcp_seq = (ctl & 2) ? isn[dir] - off : isn[dir] + off;
		p.tcp_ack = isn[dir ^ 1] + 1 + 64u * ackb;
		p.tcp_win = (uint16_t)((winb & 0x7f) << 9);
		p.tcp_wscale = (winb & 0x80) ? (uint8_t)(ackb & 15) : 0xff;
		/* a copy, so that reading past len is caught */
		uint8_t *buf = len ? malloc(len) : NULL;
		if (len) {
			memcpy(buf, data, len);
			p.payload = buf;
			p.payload_len = len;
		}
		data += len;
		size -= len;

		om_stream_packet(s, &f, &p, dir);
		fed++;
		check_mem(s, memcap);

		/* the flow table and its stream see the same packets on a few
		 * 5-tuples */
		ts += (om_usec)(ctl & 0x3c) * 100000u;
		p.ts = ts;
		uint8_t a[4] = {10, 0, 0, (uint8_t)(1 + ((ctl >> 2) & 1))};
		uint8_t b[4] = {10, 0, 0, (uint8_t)(3 + ((ctl >> 3) & 1))};
		om_addr_from_v4(dir ? &p.dst : &p.src, a);
		om_addr_from_v4(dir ? &p.src : &p.dst, b);
		p.sport = dir ? 80 : (uint16_t)(1000 + ((ctl >> 4) & 3));
		p.dport = dir ? (uint16_t)(1000 + ((ctl >> 4) & 3)) : 80;
		if (ctl & 0x40) {
			p.proto = IPPROTO_UDP;
			p.flags = OM_PKT_IPV4 | OM_PKT_UDP | OM_PKT_HAS_PORTS;
		}
		int fdir;
		om_flow *g = om_flow_get(t, &p, &fdir);
		if (!g || (fdir != 0 && fdir != 1) || om_flow_table_stats(t)->active > 4)
			abort();
		if (g->proto == IPPROTO_TCP && (p.flags & OM_PKT_TCP))
			om_stream_packet(s2, g, &p, fdir);
		check_mem(s2, memcap);
		om_flow_table_expire(t, ts);
		free(buf);
	}

	om_stream_flow_end(s, &f);
	const om_stream_stats *st = om_stream_stats_get(s);
	if (f.tcp || st->mem_segments || st->mem_windows || st->bytes_delivered != c.delivered)
		abort();
	/* each direction of a flow with state ends exactly once */
	if (c.ended[0] != (fed ? 1 : 0) || c.ended[1] != (fed ? 1 : 0))
		abort();
	om_flow_table_flush(t, OM_FLOW_END_SHUTDOWN);
	const om_flow_stats *fs = om_flow_table_stats(t);
	if (fs->active != 0 || fs->created != fs->ended)
		abort();
	st = om_stream_stats_get(s2);
	if (st->mem_segments || st->mem_windows)
		abort();
	om_flow_table_free(t);
	om_stream_free(s);
	om_stream_free(s2);
	return 0;
}
