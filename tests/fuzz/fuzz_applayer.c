/* libFuzzer target for the app-layer contract: detection, the held bytes
 * given to a parser once chosen, bypass, depth and the per-flow slot, driven
 * through the real flow table (2 flows at most, so flows get evicted) and TCP
 * reassembly. Input:
 *   header: limit selector, stream depth selector, stream memcap selector,
 *           detection memcap selector
 *   packet: ctl, tcp flags, seq offset (2 bytes), len, len bytes (cut to
 *           what is left)
 *   ctl bit 0: direction; bits 1-2: which of 4 client ports; bit 4: UDP
 *   instead of TCP; bit 5: time jumps 400 s (flows expire); bit 6: the
 *   offset is negative.
 * Four parsers: fixed openings ("HELLO" from the client, "220 " from the
 * server), one that needs a whole line, and one whose answer is a byte of
 * the data. Their data callbacks bypass, change depth or fail on marker
 * bytes. Invariants: a parser sees each TCP direction exactly as the stream
 * delivered it from offset 0 (held bytes, then the rest; what was not held
 * as gaps), never data after that direction's end; end comes once per
 * direction and state_free once, after both; at the end every slot, buffer
 * and state is back. */
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/net.h"

#define MODEL 8192
#define NFLOWS 4

/* what the stream delivered to the engine, per client port and direction */
static uint8_t smodel[NFLOWS][2][MODEL];
static uint64_t sdelivered[NFLOWS][2];
static long news, frees;

struct st {
	int fi;
	bool tcp;
	uint64_t pos[2];
	int ends[2];
};

static int flow_index(const om_flow *f)
{
	/* the client is whoever spoke first: the test port is on either side */
	int fi = (int)f->cport - 1000;
	if (fi < 0 || fi >= NFLOWS)
		fi = (int)f->sport - 1000;
	if (fi < 0 || fi >= NFLOWS)
		abort();
	return fi;
}

static void *p_new(om_flow *f, void *user, void *wctx)
{
	(void)wctx;
	(void)user;
	struct st *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->fi = flow_index(f);
	s->tcp = f->proto == IPPROTO_TCP;
	news++;
	return s;
}

static int p_data(void *state, om_flow *f, int dir, const uint8_t *d, uint32_t n, unsigned fl)
{
	struct st *s = state;
	(void)fl;
	if (!n || !d || dir < 0 || dir > 1 || s->ends[dir] || om_app_state(f) != s)
		abort();
	if (s->tcp) {
		for (uint32_t i = 0; i < n; i++) {
			uint64_t o = s->pos[dir] + i;
			if (o < MODEL &&
			    (o >= sdelivered[s->fi][dir] || smodel[s->fi][dir][o] != d[i]))
				abort();
		}
	}
	s->pos[dir] += n;
	switch (d[n - 1]) {
	case 0xb1: om_app_bypass(f, 1u << dir); break;
	case 0xb2: om_app_bypass(f, OM_APP_BYPASS_BOTH); break;
	case 0xd1: om_app_set_depth(f, dir, 3000); break;
	case 0xd2: om_app_set_depth(f, !dir, 50); break;
	case 0xee: return -1;
	default: break;
	}
	return 0;
}

static void p_gap(void *state, om_flow *f, int dir, uint64_t len)
{
	struct st *s = state;
	(void)f;
	if (!len || dir < 0 || dir > 1 || s->ends[dir] || !s->tcp)
		abort();
	s->pos[dir] += len;
}

static void p_end(void *state, om_flow *f, int dir, enum om_app_end why)
{
	struct st *s = state;
	(void)f;
	if (dir < 0 || dir > 1 || s->ends[dir]++ || why >= OM_APP_END_COUNT)
		abort();
}

static void p_free(void *state, void *user)
{
	(void)user;
	struct st *s = state;
	if (s->ends[0] != 1 || s->ends[1] != 1)
		abort();
	frees++;
	free(s);
}

static enum om_app_probe opening(const uint8_t *d, uint32_t n, const char *w)
{
	size_t wl = strlen(w), m = n < wl ? n : wl;
	if (!n || memcmp(d, w, m))
		return OM_APP_PROBE_NO;
	return n >= wl ? OM_APP_PROBE_YES : OM_APP_PROBE_MORE;
}

static enum om_app_probe hello_probe(const om_flow *f, const uint8_t *d, uint32_t n, void *wctx)
{
	(void)f;
	(void)wctx;
	return opening(d, n, "HELLO");
}

static enum om_app_probe banner_probe(const om_flow *f, const uint8_t *d, uint32_t n, void *wctx)
{
	(void)f;
	(void)wctx;
	return opening(d, n, "220 ");
}

static long workers;

static void *w_new(void *user)
{
	(void)user;
	workers++;
	return calloc(1, sizeof(long));
}

static void w_free(void *wctx, void *user)
{
	(void)user;
	workers--;
	free(wctx);
}

/* a whole line "LINE...\n"; counts its probes in its worker context */
static enum om_app_probe line_probe(const om_flow *f, const uint8_t *d, uint32_t n, void *wctx)
{
	if (!wctx || om_app_worker_ctx(f, 2) != wctx)
		abort();
	(*(long *)wctx)++;
	if (!memchr(d, '\n', n))
		return OM_APP_PROBE_MORE;
	return n >= 4 && !memcmp(d, "LINE", 4) ? OM_APP_PROBE_YES : OM_APP_PROBE_NO;
}

static enum om_app_probe byte_probe(const om_flow *f, const uint8_t *d, uint32_t n, void *wctx)
{
	(void)f;
	(void)wctx;
	uint8_t b = d[n - 1];
	return b < 0x10 ? OM_APP_PROBE_YES : b < 0x80 ? OM_APP_PROBE_MORE : OM_APP_PROBE_NO;
}

#define PARSER(nm, protos, ts, tc, port, wn, wf)                                                   \
	{                                                                                          \
		.name = nm, .ipprotos = protos, .ports = {port}, .probe_ts = ts, .probe_tc = tc,   \
		.state_new = p_new, .data = p_data, .gap = p_gap, .end = p_end,                    \
		.state_free = p_free, .worker_new = wn, .worker_free = wf,                         \
	}

static const om_app_parser parsers[] = {
    PARSER("hello", OM_APP_TCP | OM_APP_UDP, hello_probe, NULL, 80, NULL, NULL),
    PARSER("banner", OM_APP_TCP, NULL, banner_probe, 25, NULL, NULL),
    PARSER("line", OM_APP_TCP, line_probe, NULL, 0, w_new, w_free),
    PARSER("byte", OM_APP_TCP | OM_APP_UDP, byte_probe, byte_probe, 53, NULL, NULL),
};

static om_app_registry *reg;

struct ctx {
	om_stream_ctx *st;
	om_app_ctx *app;
};

static void on_data(void *u, om_flow *f, int dir, const uint8_t *data, uint32_t len, uint64_t off,
                    unsigned flags)
{
	struct ctx *c = u;
	int fi = flow_index(f);
	if (off != sdelivered[fi][dir])
		abort();
	for (uint32_t i = 0; i < len && off + i < MODEL; i++)
		smodel[fi][dir][off + i] = data[i];
	sdelivered[fi][dir] = off + len;
	om_app_tcp_data(c->app, f, dir, data, len,
	                (flags & OM_STREAM_DATA_HELD) ? OM_APP_DATA_HELD : 0);
}

static void on_gap(void *u, om_flow *f, int dir, uint64_t off, uint64_t len)
{
	struct ctx *c = u;
	int fi = flow_index(f);
	if (off != sdelivered[fi][dir])
		abort();
	/* bytes of a gap are never given to a parser: mark them unknown */
	sdelivered[fi][dir] = off + len;
	if (off < MODEL)
		memset(smodel[fi][dir] + off, 0, (size_t)(off + len < MODEL ? len : MODEL - off));
	om_app_tcp_gap(c->app, f, dir, len);
}

static void on_end(void *u, om_flow *f, enum om_flow_end why)
{
	struct ctx *c = u;
	if (f->proto == IPPROTO_TCP)
		om_stream_flow_end(c->st, f);
	const char *name = om_app_flow_end(c->app, f, why);
	if (f->app || (name && !name[0]))
		abort();
	if (f->proto == IPPROTO_TCP) {
		int fi = flow_index(f);
		sdelivered[fi][0] = sdelivered[fi][1] = 0;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 4)
		return 0;
	if (!reg) {
		reg = om_app_registry_new();
		for (size_t i = 0; i < sizeof(parsers) / sizeof(parsers[0]); i++)
			if (om_app_register(reg, &parsers[i], NULL))
				abort();
		om_app_registry_seal(reg);
	}
	static const uint32_t limits[4] = {16, 100, 1000, 4096};
	static const uint64_t depths[4] = {0, 10, 200, 5000};
	static const uint64_t memcaps[4] = {0, 300, 5000, 1 << 20};
	static const uint64_t detcaps[4] = {1, 9000, 20000, 1 << 20};
	struct ctx c;
	om_app_config ac = {.detect_limit = limits[data[0] & 3],
	                    .max_flows = (data[0] & 4) ? 1 : 0,
	                    .detect_memcap = detcaps[data[3] & 3]};
	c.app = om_app_new(reg, &ac);
	om_stream_callbacks cb = {on_data, on_gap, NULL, &c, NULL};
	c.st = om_stream_new(depths[data[1] & 3], memcaps[data[2] & 3], &cb);
	om_flow_config fc = {.stream = c.st,
	                     .max_flows = 2,
	                     .timeout_new = 30,
	                     .timeout_est = 300,
	                     .timeout_closed = 10,
	                     .timeout_udp = 60,
	                     .timeout_icmp = 20,
	                     .on_end = on_end,
	                     .user = &c};
	om_flow_table *ft = om_flow_table_new(&fc);
	if (!c.app || !c.st || !ft)
		abort();
	memset(sdelivered, 0, sizeof(sdelivered));
	news = frees = 0;
	const uint32_t isn[2] = {0x10000000u, 0xfffff000u};
	om_usec now = 1700000000ull * 1000000;
	size_t i = 4;
	while (i + 5 <= size) {
		uint8_t ctl = data[i], fl = data[i + 1];
		uint32_t off = (uint32_t)data[i + 2] << 8 | data[i + 3];
		uint32_t len = data[i + 4];
		i += 5;
		if (len > size - i)
			len = (uint32_t)(size - i);
		int from = ctl & 1, fi = (ctl >> 1) & 3;
		bool isudp = ctl & 0x10;
		now += (ctl & 0x20) ? 400ull * 1000000 : 1000;
		om_packet p;
		memset(&p, 0, sizeof(p));
		p.ts = now;
		p.ip_ver = 4;
		p.proto = isudp ? IPPROTO_UDP : IPPROTO_TCP;
		p.flags = OM_PKT_IPV4 | OM_PKT_HAS_PORTS | (isudp ? OM_PKT_UDP : OM_PKT_TCP);
		const uint8_t a[4] = {192, 0, 2, 1}, b[4] = {192, 0, 2, 2};
		om_addr_from_v4(from ? &p.dst : &p.src, a);
		om_addr_from_v4(from ? &p.src : &p.dst, b);
		uint16_t cport = (uint16_t)(1000 + fi);
		uint16_t sport = (fi & 1) ? 80 : 2525;
		p.sport = from ? sport : cport;
		p.dport = from ? cport : sport;
		p.tcp_flags = fl;
		p.tcp_seq = (ctl & 0x40) ? isn[from] - off : isn[from] + off;
		p.tcp_wscale = 0xff;
		p.payload = data + i;
		p.payload_len = len;
		p.caplen = p.wirelen = 54 + len;
		i += len;
		int dir;
		om_flow *f = om_flow_get(ft, &p, &dir);
		if (!f)
			continue;
		if (isudp) {
			om_app_udp(c.app, f, dir, p.payload, p.payload_len);
		} else {
			om_stream_packet(c.st, f, &p, dir);
			om_app_tcp_update(c.app, f);
		}
		om_flow_table_expire(ft, now);
	}
	om_flow_table_flush(ft, OM_FLOW_END_SHUTDOWN);
	const om_app_stats *as = om_app_stats_get(c.app);
	/* nothing held once every flow ended (the stream keeps its free-block
	 * cache and state slabs, counted apart) */
	const om_stream_stats *ss = om_stream_stats_get(c.st);
	if (as->active || as->buffer_mem || news != frees || ss->mem_segments || ss->mem_windows)
		abort();
	om_flow_table_free(ft);
	om_stream_free(c.st);
	om_app_free(c.app);
	if (workers)
		abort();
	return 0;
}
