/* Unit tests for the app-layer contract (src/net/applayer.c and its hooks in
 * stream.c). Small parsers written here ("hello": a line protocol the client
 * opens with HELLO; "banner": a server that speaks first with "220 "; "lazy":
 * a parser that needs a whole line) are driven through the real flow table
 * and the real TCP reassembly with crafted packets, wired the way the engine
 * wires them. */
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "net/net.h"

#define SEC 1000000ULL
#define BUFN 8192

/* ---- the test parsers ------------------------------------------------------ */

struct pstate {
	struct plog *log;
	const char *name;
	void *wctx; /* the parser's worker context, when it has one */
	uint8_t buf[2][BUFN];
	uint32_t len[2];
	int calls[2], held[2]; /* data calls, of which marked held */
	int ngaps[2];
	uint64_t gap[2];
	int nend[2];
	enum om_app_end why[2];
	int after_end;  /* data or gap after that direction's end */
	char order[64]; /* 'c'/'s': data to server/client, 'g' gap, 'E'/'e' end */
	int norder;
};

struct plog {
	int news, frees;
	struct pstate last; /* copy of the last state freed */
};

static struct plog plog;

static void note(struct pstate *s, char c)
{
	if (s->norder < (int)sizeof(s->order) - 1)
		s->order[s->norder++] = c;
}

static void *p_new(om_flow *f, void *user, void *wctx)
{
	(void)wctx;
	(void)f;
	struct pstate *s = calloc(1, sizeof(*s));
	assert_non_null(s);
	s->log = &plog;
	s->name = user;
	plog.news++;
	return s;
}

static bool has(const uint8_t *d, uint32_t n, const char *w)
{
	size_t wl = strlen(w);
	for (uint32_t i = 0; i + wl <= n; i++)
		if (!memcmp(d + i, w, wl))
			return true;
	return false;
}

static int p_data(void *st, om_flow *f, int dir, const uint8_t *d, uint32_t n, unsigned flags)
{
	struct pstate *s = st;
	assert_true(n > 0);
	if (s->nend[dir])
		s->after_end++;
	if (s->len[dir] + n <= BUFN)
		memcpy(s->buf[dir] + s->len[dir], d, n);
	s->len[dir] += n;
	s->calls[dir]++;
	if (flags & OM_APP_DATA_HELD)
		s->held[dir]++;
	note(s, dir == OM_DIR_TOSERVER ? 'c' : 's');
	if (has(d, n, "BYPASS1"))
		om_app_bypass(f, 1u << dir);
	else if (has(d, n, "BYPASS"))
		om_app_bypass(f, OM_APP_BYPASS_BOTH);
	if (has(d, n, "DEEPER"))
		assert_int_equal(om_app_set_depth(f, dir, 100), 0);
	if (has(d, n, "ERROR"))
		return -EPROTO;
	return 0;
}

static void p_gap(void *st, om_flow *f, int dir, uint64_t len)
{
	(void)f;
	struct pstate *s = st;
	if (s->nend[dir])
		s->after_end++;
	s->ngaps[dir]++;
	s->gap[dir] += len;
	note(s, 'g');
}

static void p_end(void *st, om_flow *f, int dir, enum om_app_end why)
{
	(void)f;
	struct pstate *s = st;
	s->nend[dir]++;
	s->why[dir] = why;
	note(s, dir == OM_DIR_TOSERVER ? 'E' : 'e');
}

static void p_free(void *st, void *user)
{
	(void)user;
	struct pstate *s = st;
	/* end comes exactly once per direction, before the state goes */
	assert_int_equal(s->nend[0], 1);
	assert_int_equal(s->nend[1], 1);
	plog.frees++;
	plog.last = *s;
	free(s);
}

/* yes / no / need more for a fixed opening */
static enum om_app_probe opening(const uint8_t *d, uint32_t n, const char *w)
{
	size_t wl = strlen(w);
	size_t m = n < wl ? n : wl;
	if (memcmp(d, w, m))
		return OM_APP_PROBE_NO;
	return n >= wl ? OM_APP_PROBE_YES : OM_APP_PROBE_MORE;
}

static int hello_probes;

static enum om_app_probe hello_probe(const om_flow *f, const uint8_t *d, uint32_t n, void *wctx)
{
	(void)f;
	(void)wctx;
	hello_probes++;
	return opening(d, n, "HELLO");
}

static enum om_app_probe banner_probe(const om_flow *f, const uint8_t *d, uint32_t n, void *wctx)
{
	(void)f;
	(void)wctx;
	return opening(d, n, "220 ");
}

/* a whole line is needed: "LAZY..." then a newline */
static int lazy_probes;

static enum om_app_probe lazy_probe(const om_flow *f, const uint8_t *d, uint32_t n, void *wctx)
{
	(void)f;
	(void)wctx;
	lazy_probes++;
	const uint8_t *nl = memchr(d, '\n', n);
	if (!nl)
		return OM_APP_PROBE_MORE;
	return n >= 4 && !memcmp(d, "LAZY", 4) ? OM_APP_PROBE_YES : OM_APP_PROBE_NO;
}

static const om_app_parser hello = {
    .name = "hello",
    .ipprotos = OM_APP_TCP | OM_APP_UDP,
    .ports = {7777},
    .probe_ts = hello_probe,
    .state_new = p_new,
    .data = p_data,
    .gap = p_gap,
    .end = p_end,
    .state_free = p_free,
    .user = "hello",
};

static const om_app_parser banner = {
    .name = "banner",
    .ipprotos = OM_APP_TCP,
    .ports = {25, 587},
    .probe_tc = banner_probe,
    .state_new = p_new,
    .data = p_data,
    .gap = p_gap,
    .end = p_end,
    .state_free = p_free,
    .user = "banner",
};

static const om_app_parser lazy = {
    .name = "lazy",
    .ipprotos = OM_APP_TCP,
    .probe_ts = lazy_probe,
    .state_new = p_new,
    .data = p_data,
    .gap = p_gap,
    .end = p_end,
    .state_free = p_free,
    .user = "lazy",
};

/* ---- the fixture: flow table + stream + app-layer, as the engine wires them - */

#define CLI 0 /* sender: the client */
#define SRV 1

struct fx {
	om_app_registry *reg;
	om_app_ctx *app;
	om_stream_ctx *st;
	om_flow_table *ft;
	om_usec now;
	uint16_t cport, sport;
	int ends;
	const char *end_name; /* app_proto of the last flow ended */
	enum om_flow_end end_why;
	om_app_stats stats; /* at the end (fx_done) */
};

static uint64_t fx_stream_memcap = 1 << 20;

static void fx_data(void *u, om_flow *f, int dir, const uint8_t *d, uint32_t len, uint64_t off,
                    unsigned flags)
{
	(void)off;
	struct fx *x = u;
	om_app_tcp_data(x->app, f, dir, d, len, (flags & OM_STREAM_DATA_HELD) ? OM_APP_DATA_HELD : 0);
}

static void fx_gap(void *u, om_flow *f, int dir, uint64_t off, uint64_t len)
{
	(void)off;
	struct fx *x = u;
	om_app_tcp_gap(x->app, f, dir, len);
}

static void fx_end(void *u, om_flow *f, enum om_flow_end why)
{
	struct fx *x = u;
	if (f->proto == IPPROTO_TCP)
		om_stream_flow_end(x->st, f);
	x->end_name = om_app_flow_end(x->app, f, why);
	x->end_why = why;
	x->ends++;
	assert_null(f->app);
}

static void fx_init(struct fx *x, const om_app_parser *const *ps, uint64_t depth,
                    const om_app_config *acfg, uint64_t max_flows)
{
	memset(x, 0, sizeof(*x));
	memset(&plog, 0, sizeof(plog));
	hello_probes = lazy_probes = 0;
	x->reg = om_app_registry_new();
	assert_non_null(x->reg);
	for (; *ps; ps++)
		assert_int_equal(om_app_register(x->reg, *ps, NULL), 0);
	om_app_registry_seal(x->reg);
	x->app = om_app_new(x->reg, acfg);
	assert_non_null(x->app);
	om_stream_callbacks cb = {fx_data, fx_gap, NULL, x, NULL};
	x->st = om_stream_new(depth, fx_stream_memcap, &cb);
	assert_non_null(x->st);
	om_flow_config fc = {
	    .max_flows = max_flows ? max_flows : 64,
	    .timeout_new = 30,
	    .timeout_est = 300,
	    .timeout_closed = 10,
	    .timeout_udp = 60,
	    .timeout_icmp = 20,
	    .on_end = fx_end,
	    .stream = x->st,
	    .user = x,
	};
	x->ft = om_flow_table_new(&fc);
	assert_non_null(x->ft);
	om_app_set_flow_table(x->app, x->ft);
	x->now = 1700000000 * SEC;
	x->cport = 40000;
	x->sport = 9999;
}

static void fx_done(struct fx *x)
{
	om_flow_table_flush(x->ft, OM_FLOW_END_SHUTDOWN);
	x->stats = *om_app_stats_get(x->app);
	assert_int_equal(x->stats.active, 0);
	assert_int_equal(x->stats.buffer_mem, 0);
	/* no segment or window held once every flow ended (the stream keeps
	 * its free-block cache and state slabs, counted apart) */
	assert_int_equal(om_stream_stats_get(x->st)->mem_segments, 0);
	assert_int_equal(om_stream_stats_get(x->st)->mem_windows, 0);
	assert_int_equal(plog.news, plog.frees);
	om_flow_table_free(x->ft);
	om_stream_free(x->st);
	om_app_free(x->app);
	om_app_registry_free(x->reg);
}

static void v4(om_addr *a, uint8_t last)
{
	const uint8_t b[4] = {192, 0, 2, last};
	om_addr_from_v4(a, b);
}

static const uint32_t isn[2] = {1000, 5000};

/* A TCP segment from one side; off is the stream offset of its first byte
 * (UINT32_MAX for a SYN, which takes the sequence number before 0). */
static om_flow *seg(struct fx *x, int from, uint8_t flags, uint32_t off, const void *data,
                    uint32_t len)
{
	om_packet p;
	memset(&p, 0, sizeof(p));
	x->now += 1000;
	p.ts = x->now;
	p.ip_ver = 4;
	p.proto = IPPROTO_TCP;
	p.flags = OM_PKT_IPV4 | OM_PKT_TCP | OM_PKT_HAS_PORTS;
	v4(from == CLI ? &p.src : &p.dst, 1);
	v4(from == CLI ? &p.dst : &p.src, 2);
	p.sport = from == CLI ? x->cport : x->sport;
	p.dport = from == CLI ? x->sport : x->cport;
	p.tcp_flags = flags;
	p.tcp_seq = isn[from] + 1 + off;
	p.tcp_ack = isn[!from] + 1;
	p.tcp_win = 65535;
	p.tcp_wscale = 0xff;
	p.payload = data;
	p.payload_len = len;
	p.caplen = p.wirelen = 54 + len;
	int dir;
	om_flow *f = om_flow_get(x->ft, &p, &dir);
	assert_non_null(f);
	assert_int_equal(dir, from == CLI ? OM_DIR_TOSERVER : OM_DIR_TOCLIENT);
	om_stream_packet(x->st, f, &p, dir);
	om_app_tcp_update(x->app, f);
	return f;
}

static om_flow *sdata(struct fx *x, int from, uint32_t off, const char *s)
{
	return seg(x, from, OM_TH_ACK | OM_TH_PUSH, off, s, (uint32_t)strlen(s));
}

static om_flow *handshake(struct fx *x)
{
	seg(x, CLI, OM_TH_SYN, UINT32_MAX, NULL, 0);
	seg(x, SRV, OM_TH_SYN | OM_TH_ACK, UINT32_MAX, NULL, 0);
	return seg(x, CLI, OM_TH_ACK, 0, NULL, 0);
}

static om_flow *udp(struct fx *x, int from, const char *s)
{
	om_packet p;
	memset(&p, 0, sizeof(p));
	x->now += 1000;
	p.ts = x->now;
	p.ip_ver = 4;
	p.proto = IPPROTO_UDP;
	p.flags = OM_PKT_IPV4 | OM_PKT_UDP | OM_PKT_HAS_PORTS;
	v4(from == CLI ? &p.src : &p.dst, 1);
	v4(from == CLI ? &p.dst : &p.src, 2);
	p.sport = from == CLI ? x->cport : x->sport;
	p.dport = from == CLI ? x->sport : x->cport;
	p.payload = (const uint8_t *)s;
	p.payload_len = (uint32_t)strlen(s);
	p.caplen = p.wirelen = 42 + p.payload_len;
	int dir;
	om_flow *f = om_flow_get(x->ft, &p, &dir);
	assert_non_null(f);
	om_app_udp(x->app, f, dir, p.payload, p.payload_len);
	return f;
}

static struct pstate *state(om_flow *f)
{
	struct pstate *s = om_app_state(f);
	assert_non_null(s);
	return s;
}

static void assert_bytes(const struct pstate *s, int dir, const char *want)
{
	assert_int_equal(s->len[dir], strlen(want));
	assert_memory_equal(s->buf[dir], want, strlen(want));
}

static const om_app_parser *const hello_banner[] = {&hello, &banner, NULL};

/* ---- registry ------------------------------------------------------------ */

static void test_registry(void **unused)
{
	(void)unused;
	om_app_registry *r = om_app_registry_new();
	int id = -1;
	om_app_parser bad = hello;
	bad.name = NULL;
	assert_int_equal(om_app_register(r, &bad, &id), -EINVAL);
	bad.name = "a-name-far-too-long";
	assert_int_equal(om_app_register(r, &bad, &id), -EINVAL);
	bad.name = "failed"; /* reserved for flows no parser took */
	assert_int_equal(om_app_register(r, &bad, &id), -EINVAL);
	bad = hello;
	bad.probe_ts = NULL;
	assert_int_equal(om_app_register(r, &bad, &id), -EINVAL);
	bad = hello;
	bad.data = NULL;
	assert_int_equal(om_app_register(r, &bad, &id), -EINVAL);
	bad = hello;
	bad.ipprotos = 0;
	assert_int_equal(om_app_register(r, &bad, &id), -EINVAL);
	bad = hello;
	bad.flags = 0x80;
	assert_int_equal(om_app_register(r, &bad, &id), -EINVAL);
	assert_int_equal(id, -1); /* untouched on error */
	/* a context needs a sealed registry */
	assert_null(om_app_new(r, NULL));

	assert_int_equal(om_app_register(r, &hello, &id), 0);
	assert_int_equal(id, 0);
	assert_int_equal(om_app_register(r, &hello, &id), -EEXIST);
	assert_int_equal(om_app_register(r, &banner, &id), 0);
	assert_int_equal(id, 1);
	static om_app_parser many[OM_APP_MAX_PARSERS];
	static char names[OM_APP_MAX_PARSERS][8];
	for (int i = 2; i < OM_APP_MAX_PARSERS; i++) {
		many[i] = hello;
		snprintf(names[i], sizeof(names[i]), "p%d", i);
		many[i].name = names[i];
		assert_int_equal(om_app_register(r, &many[i], &id), 0);
		assert_int_equal(id, i);
	}
	om_app_parser one = hello;
	one.name = "one-more";
	assert_int_equal(om_app_register(r, &one, &id), -ENOSPC);
	assert_int_equal(om_app_registry_count(r), OM_APP_MAX_PARSERS);
	assert_ptr_equal(om_app_registry_parser(r, 1), &banner);
	assert_null(om_app_registry_parser(r, OM_APP_MAX_PARSERS));
	assert_null(om_app_registry_parser(r, -1));

	om_app_registry_free(r);
	r = om_app_registry_new();
	assert_int_equal(om_app_register(r, &hello, NULL), 0);
	om_app_registry_seal(r);
	assert_int_equal(om_app_register(r, &banner, &id), -EBUSY);
	om_app_ctx *a = om_app_new(r, NULL);
	assert_non_null(a);
	om_app_free(a);
	om_app_registry_free(r);
	assert_string_equal(om_app_end_name(OM_APP_END_EVICTED), "evicted");
	assert_string_equal(om_app_end_name(OM_APP_END_DEPTH), "depth");
}

/* ---- detection ----------------------------------------------------------- */

/* hello's port hint is 7777; on 9999 it is found by its content */
static void test_detect_unusual_port(void **unused)
{
	(void)unused;
	struct fx x;
	fx_init(&x, hello_banner, 0, NULL, 0);
	om_flow *f = handshake(&x);
	assert_null(om_app_proto_name(f)); /* no data yet: no slot */
	assert_null(f->app);
	sdata(&x, CLI, 0, "HELLO world\r\n");
	assert_string_equal(om_app_proto_name(f), "hello");
	assert_int_equal(om_app_parser_id(f), 0);
	sdata(&x, SRV, 0, "hi\r\n");
	struct pstate *s = state(f);
	assert_bytes(s, OM_DIR_TOSERVER, "HELLO world\r\n");
	assert_bytes(s, OM_DIR_TOCLIENT, "hi\r\n");
	/* both came straight from their packets */
	assert_int_equal(s->held[0] + s->held[1], 0);
	assert_string_equal(s->order, "cs");
	fx_done(&x);
	assert_string_equal(x.end_name, "hello");
	assert_int_equal(plog.news, 1);
	assert_int_equal(plog.last.why[0], OM_APP_END_SHUTDOWN);
	assert_int_equal(plog.last.why[1], OM_APP_END_SHUTDOWN);
	assert_int_equal(x.stats.detected, 1);
	assert_int_equal(x.stats.flows, 1);
}

/* The server speaks first (an SMTP-like banner) on an unusual port; the
 * client's bytes are given to the parser too. */
static void test_detect_server_first(void **unused)
{
	(void)unused;
	struct fx x;
	fx_init(&x, hello_banner, 0, NULL, 0);
	x.sport = 2525;
	om_flow *f = handshake(&x);
	sdata(&x, SRV, 0, "220 mail.example ready\r\n");
	assert_string_equal(om_app_proto_name(f), "banner");
	sdata(&x, CLI, 0, "EHLO me\r\n");
	struct pstate *s = state(f);
	assert_string_equal(s->name, "banner");
	assert_bytes(s, OM_DIR_TOCLIENT, "220 mail.example ready\r\n");
	assert_bytes(s, OM_DIR_TOSERVER, "EHLO me\r\n");
	assert_string_equal(s->order, "sc");
	fx_done(&x);
	assert_string_equal(x.end_name, "banner");
}

/* The client sends something no parser recognises before the banner: its
 * bytes are held and given first (they came first), marked held. */
static void test_detect_client_bytes_before_banner(void **unused)
{
	(void)unused;
	struct fx x;
	fx_init(&x, hello_banner, 0, NULL, 0);
	x.sport = 2525;
	om_flow *f = handshake(&x);
	sdata(&x, CLI, 0, "QUIT\r\n");
	assert_null(om_app_proto_name(f)); /* undecided: the server may still speak */
	sdata(&x, SRV, 0, "220 ");
	struct pstate *s = state(f);
	assert_string_equal(s->name, "banner");
	assert_string_equal(s->order, "cs");
	assert_bytes(s, OM_DIR_TOSERVER, "QUIT\r\n");
	assert_int_equal(s->held[OM_DIR_TOSERVER], 1);
	assert_bytes(s, OM_DIR_TOCLIENT, "220 ");
	assert_int_equal(s->held[OM_DIR_TOCLIENT], 0);
	fx_done(&x);
}

/* "HEL" is not enough to tell (need more); the parser then gets the whole
 * stream from its first byte: the held "HEL" and the packet's "LO x". */
static void test_detect_across_segments(void **unused)
{
	(void)unused;
	struct fx x;
	fx_init(&x, hello_banner, 0, NULL, 0);
	om_flow *f = handshake(&x);
	sdata(&x, CLI, 0, "HEL");
	assert_null(om_app_proto_name(f));
	assert_null(om_app_state(f));
	sdata(&x, CLI, 3, "LO x\n");
	struct pstate *s = state(f);
	assert_bytes(s, OM_DIR_TOSERVER, "HELLO x\n");
	assert_int_equal(s->calls[0], 2);
	assert_int_equal(s->held[0], 1); /* "HEL", from the detection buffer */
	sdata(&x, CLI, 8, "more\n");
	assert_bytes(s, OM_DIR_TOSERVER, "HELLO x\nmore\n");
	assert_int_equal(s->held[0], 1);
	fx_done(&x);
}

/* Out-of-order segments reach the parser marked held: before detection
 * (the second half arrives first) and after it. */
static void test_out_of_order_marked_held(void **unused)
{
	(void)unused;
	struct fx x;
	fx_init(&x, hello_banner, 0, NULL, 0);
	om_flow *f = handshake(&x);
	sdata(&x, CLI, 3, "LO x\n"); /* held by the stream */
	assert_null(f->app);
	sdata(&x, CLI, 0, "HEL"); /* fills the hole: "HEL" from the packet, then "LO x\n" */
	struct pstate *s = state(f);
	assert_bytes(s, OM_DIR_TOSERVER, "HELLO x\n");
	assert_int_equal(s->calls[0], 2);
	assert_int_equal(s->held[0],
	                 2); /* "HEL" from the detection buffer, the rest from the stream */
	/* after detection: "cc" ahead of "bb" */
	sdata(&x, CLI, 10, "cc");
	assert_int_equal(s->calls[0], 2);
	sdata(&x, CLI, 8, "bb");
	assert_bytes(s, OM_DIR_TOSERVER, "HELLO x\nbbcc");
	assert_int_equal(s->calls[0], 4);
	assert_int_equal(s->held[0], 3); /* "bb" from its packet, "cc" held */
	fx_done(&x);
}

/* Port hints decide the order only: two parsers that both accept the
 * bytes, the one whose hint names the server port wins, otherwise the one
 * registered first. */
static enum om_app_probe twin_probe(const om_flow *f, const uint8_t *d, uint32_t n, void *wctx)
{
	return hello_probe(f, d, n, wctx);
}

static void test_port_hint_order(void **unused)
{
	(void)unused;
	om_app_parser twin = hello;
	twin.name = "twin";
	twin.ports[0] = 2222;
	twin.probe_ts = twin_probe;
	twin.user = "twin";
	const om_app_parser *const ps[] = {&hello, &twin, NULL};
	struct fx x;
	fx_init(&x, ps, 0, NULL, 0);
	x.sport = 2222;
	om_flow *f = handshake(&x);
	sdata(&x, CLI, 0, "HELLO\n");
	assert_string_equal(om_app_proto_name(f), "twin");
	x.sport = 3333;
	f = handshake(&x);
	sdata(&x, CLI, 0, "HELLO\n");
	assert_string_equal(om_app_proto_name(f), "hello");
	fx_done(&x);
}

/* Per-worker contexts and a parser known by an expectation, as FTP data
 * will be: "ctl" (a control channel opened with "CTL") notes in its worker
 * context the port the client announced ("EXPECT 5000"); "dat" has no
 * content of its own: its probes look the flow up in ctl's worker context,
 * and it is asked before everyone (OM_APP_PARSER_FIRST), so a data flow
 * whose bytes look like a control channel is still "dat". */
struct ctl_worker {
	uint16_t expect_port;
	int news;
};

static int ctl_workers, ctl_worker_frees, ctl_id = -1;

static void *ctl_worker_new(void *user)
{
	(void)user;
	ctl_workers++;
	return calloc(1, sizeof(struct ctl_worker));
}

static void ctl_worker_free(void *wctx, void *user)
{
	(void)user;
	ctl_worker_frees++;
	free(wctx);
}

static enum om_app_probe ctl_probe(const om_flow *f, const uint8_t *d, uint32_t n, void *wctx)
{
	(void)f;
	assert_non_null(wctx);
	return opening(d, n, "CTL");
}

static void *ctl_new(om_flow *f, void *user, void *wctx)
{
	struct ctl_worker *w = wctx;
	assert_ptr_equal(wctx, om_app_worker_ctx(f, ctl_id));
	w->news++;
	struct pstate *s = p_new(f, user, NULL);
	s->wctx = wctx;
	return s;
}

/* "EXPECT <port>": the client will open a data connection to that port */
static int ctl_data(void *st, om_flow *f, int dir, const uint8_t *d, uint32_t n, unsigned fl)
{
	struct pstate *s = st;
	struct ctl_worker *w = s->wctx;
	if (n >= 12 && !memcmp(d, "EXPECT ", 7))
		w->expect_port = (uint16_t)strtoul((const char *)d + 7, NULL, 10);
	return p_data(st, f, dir, d, n, fl);
}

static void *null_worker_new(void *user)
{
	(void)user;
	return NULL;
}

static enum om_app_probe dat_probe(const om_flow *f, const uint8_t *d, uint32_t n, void *wctx)
{
	(void)d;
	(void)n;
	assert_null(wctx); /* dat has no worker context of its own */
	const struct ctl_worker *w = om_app_worker_ctx(f, ctl_id);
	assert_non_null(w);
	return w->expect_port && f->sport == w->expect_port ? OM_APP_PROBE_YES : OM_APP_PROBE_NO;
}

static void test_expectation_worker_ctx(void **unused)
{
	(void)unused;
	om_app_parser ctl = hello;
	ctl.name = "ctl";
	ctl.ports[0] = 2121;
	ctl.probe_ts = ctl_probe;
	ctl.worker_new = ctl_worker_new;
	ctl.worker_free = ctl_worker_free;
	ctl.state_new = ctl_new;
	ctl.data = ctl_data;
	ctl.user = "ctl";
	om_app_parser dat = hello;
	dat.name = "dat";
	dat.flags = OM_APP_PARSER_FIRST;
	dat.ports[0] = 0;
	dat.probe_ts = dat_probe;
	dat.probe_tc = dat_probe;
	dat.user = "dat";
	om_app_parser bad = dat;
	bad.flags = 0x80;
	const om_app_parser *const ps[] = {&ctl, &dat, NULL};
	ctl_workers = ctl_worker_frees = 0;
	struct fx x;
	fx_init(&x, ps, 0, NULL, 0);
	assert_int_equal(om_app_register(x.reg, &bad, NULL), -EBUSY);
	ctl_id = 0;
	assert_int_equal(ctl_workers, 1); /* one per context */
	x.sport = 2121;
	om_flow *c = handshake(&x);
	sdata(&x, CLI, 0, "CTL hello\n");
	assert_string_equal(om_app_proto_name(c), "ctl");
	/* before the announcement, a data flow that looks like control is ctl */
	x.sport = 5000;
	x.cport = 40100;
	om_flow *d1 = handshake(&x);
	sdata(&x, CLI, 0, "CTL look-alike\n");
	assert_string_equal(om_app_proto_name(d1), "ctl");
	/* the control flow announces port 5000: the next flow there is dat,
	 * whatever its bytes, and from either side */
	x.sport = 2121;
	x.cport = 40000;
	sdata(&x, CLI, 10, "EXPECT 5000\n");
	x.sport = 5000;
	x.cport = 40101;
	om_flow *d2 = handshake(&x);
	sdata(&x, SRV, 0, "CTL bytes of a file\n");
	assert_string_equal(om_app_proto_name(d2), "dat");
	assert_int_equal(om_app_parser_id(d2), 1);
	/* the data flow's parser reaches the control flow through its handle */
	om_flow_handle hc = om_app_flow_handle(c);
	assert_ptr_equal(om_app_flow_from_handle(d2, hc), c);
	om_flow_handle none = {0, 0};
	assert_null(om_app_flow_from_handle(d2, none));
	fx_done(&x);
	assert_int_equal(ctl_worker_frees, 1);
	assert_int_equal(plog.news, 3);

	/* a worker context that cannot be made: no app-layer context, and the
	 * worker contexts already made are freed */
	om_app_registry *r = om_app_registry_new();
	om_app_parser ctl2 = ctl;
	ctl2.name = "ctl2";
	ctl2.worker_new = null_worker_new;
	ctl2.worker_free = NULL;
	assert_int_equal(om_app_register(r, &ctl, NULL), 0);
	assert_int_equal(om_app_register(r, &ctl2, NULL), 0);
	om_app_registry_seal(r);
	assert_null(om_app_new(r, NULL));
	assert_int_equal(ctl_workers, 2);
	assert_int_equal(ctl_worker_frees, 2);
	om_app_registry_free(r);
	r = om_app_registry_new();
	ctl.worker_new = NULL;
	assert_int_equal(om_app_register(r, &ctl, NULL), -EINVAL); /* free without new */
	om_app_registry_free(r);
}

/* No parser recognises the bytes within the limit (4 KiB by default):
 * the flow is "failed" and its bytes go nowhere. */
static void test_detect_failure_after_limit(void **unused)
{
	(void)unused;
	const om_app_parser *const ps[] = {&hello, &banner, &lazy, NULL};
	struct fx x;
	fx_init(&x, ps, 0, NULL, 0);
	om_flow *f = handshake(&x);
	char chunk[501];
	memset(chunk, 'L', 500);
	chunk[500] = '\0';
	/* lazy says "need more" until a newline: 8 chunks are 4000 bytes */
	for (uint32_t i = 0; i < 8; i++)
		sdata(&x, CLI, i * 500, chunk);
	assert_null(om_app_proto_name(f));
	sdata(&x, CLI, 4000, chunk);       /* 4500: past the limit */
	assert_null(om_app_proto_name(f)); /* the server may still speak */
	sdata(&x, SRV, 0, "250 no\r\n");   /* banner says no: nothing left */
	assert_string_equal(om_app_proto_name(f), "failed");
	int probes = lazy_probes;
	/* lazy was asked on each of the 9 chunks, with at most 4096 bytes */
	assert_int_equal(probes, 9);
	sdata(&x, CLI, 4500, "LAZY\n");
	assert_int_equal(lazy_probes, probes);
	assert_int_equal(plog.news, 0);
	const om_app_stats *as = om_app_stats_get(x.app);
	assert_int_equal(as->failed, 1);
	assert_int_equal(as->detected, 0);
	assert_int_equal(as->buffer_mem, 0); /* released at once */
	fx_done(&x);
	assert_string_equal(x.end_name, "failed");
}

/* The limit comes from the configuration: with 64 bytes, a first line of
 * 70 bytes is too late, one of 60 bytes is found. */
static void test_detect_limit_config(void **unused)
{
	(void)unused;
	const om_app_parser *const ps[] = {&lazy, NULL};
	om_app_config c = {.detect_limit = 64};
	struct fx x;
	fx_init(&x, ps, 0, &c, 0);
	char line[80];
	memset(line, 'x', sizeof(line));
	memcpy(line, "LAZY", 4);
	line[69] = '\n';
	line[70] = '\0';
	om_flow *f = handshake(&x);
	sdata(&x, CLI, 0, line);
	sdata(&x, SRV, 0, "ok\n"); /* lazy has no toclient probe: that side is done */
	assert_string_equal(om_app_proto_name(f), "failed");
	line[59] = '\n';
	line[60] = '\0';
	x.cport++;
	f = handshake(&x);
	sdata(&x, CLI, 0, line);
	assert_string_equal(om_app_proto_name(f), "lazy");
	fx_done(&x);
}

/* One-byte segments: every byte is held and the probes are bounded (not one
 * round per byte for the whole limit). */
static void test_detect_one_byte_segments(void **unused)
{
	(void)unused;
	const om_app_parser *const ps[] = {&lazy, NULL};
	struct fx x;
	fx_init(&x, ps, 0, NULL, 0);
	om_flow *f = handshake(&x);
	static char text[3001];
	memset(text, 'y', 3000);
	memcpy(text, "LAZY", 4);
	text[2999] = '\n';
	for (uint32_t i = 0; i < 3000; i++) {
		char b[2] = {text[i], 0};
		sdata(&x, CLI, i, b);
	}
	/* 16 eager rounds, then at 32, 64, ... 2048 and every 512 bytes */
	assert_int_equal(lazy_probes, 16 + 9);
	/* the newline came at 3000, between two rounds: the FIN gives the
	 * last look */
	assert_null(om_app_proto_name(f));
	seg(&x, CLI, OM_TH_ACK | OM_TH_FIN, 3000, NULL, 0);
	assert_string_equal(om_app_proto_name(f), "lazy");
	assert_int_equal(lazy_probes, 16 + 9 + 1);
	struct pstate *s = state(f);
	assert_int_equal(s->len[0], 3000);
	assert_memory_equal(s->buf[0], text, 3000);
	assert_int_equal(s->why[0], OM_APP_END_FIN);
	fx_done(&x);
}

/* A flow where only the client speaks, no parser: "failed" when it ends. */
static void test_failed_at_end(void **unused)
{
	(void)unused;
	struct fx x;
	fx_init(&x, hello_banner, 0, NULL, 0);
	om_flow *f = handshake(&x);
	sdata(&x, CLI, 0, "GET / HTTP/1.0\r\n");
	assert_null(om_app_proto_name(f));
	fx_done(&x);
	assert_string_equal(x.end_name, "failed");
	assert_int_equal(plog.news, 0);
}

/* ---- gaps, ends ------------------------------------------------------------ */

static void test_gap(void **unused)
{
	(void)unused;
	struct fx x;
	fx_init(&x, hello_banner, 0, NULL, 0);
	om_flow *f = handshake(&x);
	sdata(&x, CLI, 0, "HELLO\n");
	sdata(&x, CLI, 10, "tail"); /* bytes 6..9 never come */
	struct pstate *s = state(f);
	assert_int_equal(s->ngaps[0], 0);
	fx_done(&x);
	assert_int_equal(plog.last.ngaps[0], 1);
	assert_int_equal(plog.last.gap[0], 4);
	assert_int_equal(plog.last.len[0], 10);
	assert_memory_equal(plog.last.buf[0] + 6, "tail", 4);
	assert_int_equal(plog.last.held[0], 1);
	assert_string_equal(plog.last.order, "cgcEe");
	assert_int_equal(plog.last.after_end, 0);
}

/* A hole in the client's direction is still open when the banner is found:
 * the parser gets "AB" held from before, and the hole when the stream gives
 * up on it (here at the end), then "GH". */
static void test_hole_then_detection(void **unused)
{
	(void)unused;
	struct fx x;
	fx_init(&x, hello_banner, 0, NULL, 0);
	x.sport = 25;
	om_flow *f = handshake(&x);
	sdata(&x, CLI, 0, "AB");
	sdata(&x, CLI, 6, "GH"); /* CDEF missing */
	sdata(&x, SRV, 0, "220 x\r\n");
	/* the stream skips the hole only at the end: "GH" is still held there */
	assert_string_equal(om_app_proto_name(f), "banner");
	fx_done(&x);
	assert_bytes(&plog.last, OM_DIR_TOSERVER, "ABGH");
	assert_int_equal(plog.last.gap[0], 4);
	assert_string_equal(plog.last.order, "csgcEe");
}

/* A gap before detection in the client's direction (the stream skips the
 * hole at once: no memory to hold "GH"): detection there stops; the banner
 * is found on the server's side, and the parser gets the client's held
 * bytes, then the hole and what followed it as one gap. */
static void test_gap_before_detection(void **unused)
{
	(void)unused;
	struct fx x;
	fx_stream_memcap = 0;
	fx_init(&x, hello_banner, 0, NULL, 0);
	fx_stream_memcap = 1 << 20;
	x.sport = 25;
	om_flow *f = handshake(&x);
	sdata(&x, CLI, 0, "AB");
	sdata(&x, CLI, 6, "GH"); /* CDEF missing */
	assert_null(om_app_proto_name(f));
	sdata(&x, SRV, 0, "220 x\r\n");
	assert_string_equal(om_app_proto_name(f), "banner");
	fx_done(&x);
	assert_bytes(&plog.last, OM_DIR_TOSERVER, "AB");
	assert_int_equal(plog.last.gap[0], 6);
	assert_string_equal(plog.last.order, "cgsEe");
}

static void test_end_fin(void **unused)
{
	(void)unused;
	struct fx x;
	fx_init(&x, hello_banner, 0, NULL, 0);
	om_flow *f = handshake(&x);
	sdata(&x, CLI, 0, "HELLO\n");
	seg(&x, CLI, OM_TH_ACK | OM_TH_FIN, 6, NULL, 0);
	struct pstate *s = state(f);
	assert_int_equal(s->nend[0], 1);
	assert_int_equal(s->why[0], OM_APP_END_FIN);
	assert_int_equal(s->nend[1], 0);
	sdata(&x, SRV, 0, "bye\n");
	seg(&x, SRV, OM_TH_ACK | OM_TH_FIN, 4, NULL, 0);
	assert_int_equal(s->nend[1], 1);
	assert_int_equal(s->why[1], OM_APP_END_FIN);
	seg(&x, CLI, OM_TH_ACK, 7, NULL, 0);
	fx_done(&x);
	assert_string_equal(plog.last.order, "cEse");
	assert_int_equal(x.end_why, OM_FLOW_END_SHUTDOWN);
}

/* A FIN whose data is not all there yet: the end comes when the hole is
 * filled, after the last bytes. */
static void test_end_fin_after_held(void **unused)
{
	(void)unused;
	struct fx x;
	fx_init(&x, hello_banner, 0, NULL, 0);
	om_flow *f = handshake(&x);
	sdata(&x, CLI, 0, "HELLO\n");
	seg(&x, CLI, OM_TH_ACK | OM_TH_FIN | OM_TH_PUSH, 8, "zz", 2);
	struct pstate *s = state(f);
	assert_int_equal(s->nend[0], 0);
	sdata(&x, CLI, 6, "yy");
	assert_int_equal(s->nend[0], 1);
	assert_bytes(s, OM_DIR_TOSERVER, "HELLO\nyyzz");
	fx_done(&x);
	assert_string_equal(plog.last.order, "cccEe");
}

static void test_end_rst(void **unused)
{
	(void)unused;
	struct fx x;
	fx_init(&x, hello_banner, 0, NULL, 0);
	om_flow *f = handshake(&x);
	sdata(&x, CLI, 0, "HELLO\n");
	seg(&x, SRV, OM_TH_RST | OM_TH_ACK, 0, NULL, 0);
	struct pstate *s = state(f);
	assert_int_equal(s->nend[0], 1);
	assert_int_equal(s->nend[1], 1);
	assert_int_equal(s->why[0], OM_APP_END_RST);
	assert_int_equal(s->why[1], OM_APP_END_RST);
	fx_done(&x);
}

/* An RST before detection ends both directions: nothing can be detected
 * any more, so the flow is "failed" at once. */
static void test_end_rst_undecided(void **unused)
{
	(void)unused;
	struct fx x;
	fx_init(&x, hello_banner, 0, NULL, 0);
	om_flow *f = handshake(&x);
	sdata(&x, CLI, 0, "HEL");
	seg(&x, SRV, OM_TH_RST | OM_TH_ACK, 0, NULL, 0);
	assert_string_equal(om_app_proto_name(f), "failed");
	fx_done(&x);
	assert_int_equal(plog.news, 0);
}

/* Depth 16: the parser gets 16 bytes and end(depth) with that packet. */
static void test_end_depth(void **unused)
{
	(void)unused;
	struct fx x;
	fx_init(&x, hello_banner, 16, NULL, 0);
	om_flow *f = handshake(&x);
	sdata(&x, CLI, 0, "HELLO 0123456789abcdef");
	struct pstate *s = state(f);
	assert_int_equal(s->len[0], 16);
	assert_int_equal(s->nend[0], 1);
	assert_int_equal(s->why[0], OM_APP_END_DEPTH);
	sdata(&x, CLI, 22, "more");
	assert_int_equal(s->len[0], 16);
	fx_done(&x);
	assert_int_equal(plog.last.why[1], OM_APP_END_SHUTDOWN);
	assert_int_equal(plog.last.after_end, 0);
}

static void test_end_timeout(void **unused)
{
	(void)unused;
	struct fx x;
	fx_init(&x, hello_banner, 0, NULL, 0);
	handshake(&x);
	sdata(&x, CLI, 0, "HELLO\n");
	om_flow_table_expire(x.ft, x.now + 301 * SEC);
	assert_int_equal(x.ends, 1);
	assert_int_equal(x.end_why, OM_FLOW_END_TIMEOUT);
	assert_string_equal(x.end_name, "hello");
	assert_int_equal(plog.frees, 1);
	assert_int_equal(plog.last.why[0], OM_APP_END_TIMEOUT);
	assert_int_equal(plog.last.why[1], OM_APP_END_TIMEOUT);
	fx_done(&x);
	assert_int_equal(x.ends, 1);
	assert_int_equal(plog.frees, 1);
}

/* A table of 4 flows and 40 connections: every state is freed exactly once,
 * 36 of them on eviction, the last 4 on shutdown. */
static void test_eviction_destructor_once(void **unused)
{
	(void)unused;
	struct fx x;
	fx_init(&x, hello_banner, 0, NULL, 4);
	int evicted = 0;
	for (int i = 0; i < 40; i++) {
		x.cport = (uint16_t)(41000 + i);
		handshake(&x);
		sdata(&x, CLI, 0, "HELLO\n");
		if (x.ends > evicted) {
			assert_int_equal(x.end_why, OM_FLOW_END_EVICTED);
			assert_int_equal(plog.last.why[0], OM_APP_END_EVICTED);
			evicted = x.ends;
		}
	}
	assert_int_equal(plog.news, 40);
	assert_int_equal(plog.frees, 36);
	assert_int_equal(om_flow_table_stats(x.ft)->evicted, 36);
	assert_int_equal(om_app_stats_get(x.app)->active, 4);
	fx_done(&x);
	assert_int_equal(plog.frees, 40);
	assert_int_equal(x.end_why, OM_FLOW_END_SHUTDOWN);
}

/* ---- bypass and depth -------------------------------------------------------- */

static void test_bypass_both(void **unused)
{
	(void)unused;
	struct fx x;
	fx_init(&x, hello_banner, 0, NULL, 0);
	om_flow *f = handshake(&x);
	sdata(&x, CLI, 0, "HELLO BYPASS\n");
	struct pstate *s = state(f);
	uint64_t before = om_stream_stats_get(x.st)->bytes_delivered;
	sdata(&x, CLI, 13, "ignored\n");
	sdata(&x, SRV, 0, "ignored too\n");
	uint64_t mem = om_stream_stats_get(x.st)->mem_in_use;
	sdata(&x, SRV, 20, "not held"); /* out of order */
	assert_int_equal(s->len[0], 13);
	assert_int_equal(s->len[1], 0);
	/* the stream stopped reassembling: nothing delivered, nothing held */
	assert_int_equal(om_stream_stats_get(x.st)->bytes_delivered, before);
	assert_int_equal(om_stream_stats_get(x.st)->mem_in_use, mem);
	assert_int_equal(om_app_stats_get(x.app)->bypassed, 2);
	assert_int_equal(s->nend[0] + s->nend[1], 0);
	fx_done(&x);
	/* still ended once per direction, with the flow */
	assert_int_equal(plog.last.why[0], OM_APP_END_SHUTDOWN);
	assert_int_equal(plog.last.ngaps[1], 0);
}

/* Bypass of the client's side only; held out-of-order bytes of that side
 * are released; the server's side goes on. */
static void test_bypass_one_direction(void **unused)
{
	(void)unused;
	struct fx x;
	fx_init(&x, hello_banner, 0, NULL, 0);
	om_flow *f = handshake(&x);
	sdata(&x, CLI, 0, "HELLO\n");
	sdata(&x, CLI, 20, "held"); /* out of order, held by the stream */
	uint64_t held = om_stream_stats_get(x.st)->mem_segments;
	assert_true(held > 0);
	sdata(&x, CLI, 6, "BYPASS1\n"); /* fills part of the hole, asks for bypass */
	assert_int_equal(om_stream_stats_get(x.st)->mem_segments, 0);
	sdata(&x, SRV, 0, "still here\n");
	sdata(&x, CLI, 14, "nothing\n");
	struct pstate *s = state(f);
	assert_bytes(s, OM_DIR_TOSERVER, "HELLO\nBYPASS1\n");
	assert_bytes(s, OM_DIR_TOCLIENT, "still here\n");
	assert_int_equal(om_stream_dir_end(f, OM_DIR_TOSERVER), OM_STREAM_BYPASS);
	assert_int_equal(om_stream_dir_end(f, OM_DIR_TOCLIENT), OM_STREAM_OPEN);
	fx_done(&x);
	assert_int_equal(plog.last.ngaps[0], 0); /* no gap for the bypassed side */
}

/* A bypassed direction does not follow the stream's FIN: it ends with the
 * flow, here ended early by port reuse (a new SYN on a closed connection). */
static void test_bypass_then_forced_end(void **unused)
{
	(void)unused;
	struct fx x;
	fx_init(&x, hello_banner, 0, NULL, 0);
	handshake(&x);
	sdata(&x, CLI, 0, "HELLO BYPASS1\n"); /* 14 bytes */
	seg(&x, CLI, OM_TH_ACK | OM_TH_FIN, 14, NULL, 0);
	seg(&x, SRV, OM_TH_ACK | OM_TH_FIN, 0, NULL, 0);
	seg(&x, CLI, OM_TH_ACK, 15, NULL, 0);
	assert_int_equal(x.ends, 0);
	/* port reuse: a SYN with a new ISN (the old one would be a resent SYN) */
	seg(&x, CLI, OM_TH_SYN, 99999, NULL, 0);
	assert_int_equal(x.ends, 1);
	assert_int_equal(x.end_why, OM_FLOW_END_FORCED);
	assert_int_equal(plog.frees, 1);
	assert_int_equal(plog.last.why[OM_DIR_TOSERVER], OM_APP_END_FORCED);
	assert_int_equal(plog.last.why[OM_DIR_TOCLIENT], OM_APP_END_FIN);
	assert_string_equal(plog.last.order, "ce"
	                                     "E");
	fx_done(&x);
}

/* A parser error bypasses the flow. */
static void test_parser_error(void **unused)
{
	(void)unused;
	struct fx x;
	fx_init(&x, hello_banner, 0, NULL, 0);
	om_flow *f = handshake(&x);
	sdata(&x, CLI, 0, "HELLO ERROR\n");
	sdata(&x, SRV, 0, "x\n");
	struct pstate *s = state(f);
	assert_int_equal(s->len[1], 0);
	assert_int_equal(om_app_stats_get(x.app)->parse_errors, 1);
	assert_string_equal(om_app_proto_name(f), "hello"); /* still what it is */
	fx_done(&x);
}

/* Depth 16 for the context; the parser asks for 100 on its side. */
static void test_larger_depth(void **unused)
{
	(void)unused;
	struct fx x;
	fx_init(&x, hello_banner, 16, NULL, 0);
	om_flow *f = handshake(&x);
	sdata(&x, CLI, 0, "HELLO DEEPER\n"); /* 13 bytes */
	char big[200];
	memset(big, 'd', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	sdata(&x, CLI, 13, big);
	sdata(&x, SRV, 0, "0123456789abcdefXYZ");
	struct pstate *s = state(f);
	assert_int_equal(s->len[0], 100);
	assert_int_equal(s->why[0], OM_APP_END_DEPTH);
	assert_int_equal(s->len[1], 16); /* the other side keeps the context's */
	assert_int_equal(s->why[1], OM_APP_END_DEPTH);
	assert_int_equal(om_app_set_depth(f, OM_DIR_TOSERVER, 0), 0);
	fx_done(&x);
}

/* ---- UDP ------------------------------------------------------------------------ */

static void test_udp(void **unused)
{
	(void)unused;
	struct fx x;
	fx_init(&x, hello_banner, 0, NULL, 0);
	x.sport = 5353;
	om_flow *f = udp(&x, CLI, "HELLO 1");
	assert_string_equal(om_app_proto_name(f), "hello");
	udp(&x, SRV, "answer");
	udp(&x, CLI, "two");
	struct pstate *s = state(f);
	assert_int_equal(s->calls[0], 2);
	assert_int_equal(s->calls[1], 1);
	assert_bytes(s, OM_DIR_TOSERVER, "HELLO 1two");
	assert_int_equal(om_app_set_depth(f, OM_DIR_TOSERVER, 5), -EOPNOTSUPP);
	/* datagrams are probed one by one: an unknown one, then another */
	x.cport++;
	f = udp(&x, CLI, "nope");
	assert_null(om_app_proto_name(f));
	udp(&x, SRV, "nope"); /* no toclient probe for UDP either */
	assert_string_equal(om_app_proto_name(f), "failed");
	fx_done(&x);
	assert_int_equal(plog.news, 1);
	assert_int_equal(plog.last.why[0], OM_APP_END_SHUTDOWN);
}

/* ---- limits --------------------------------------------------------------------- */

/* One slot at most: the second flow is not detected (and counted); no
 * detection buffer for a third flow that needs one. */
static void test_slot_and_buffer_caps(void **unused)
{
	(void)unused;
	om_app_config c = {.max_flows = 1};
	struct fx x;
	fx_init(&x, hello_banner, 0, &c, 0);
	om_flow *f1 = handshake(&x);
	sdata(&x, CLI, 0, "HELLO\n");
	om_usec t1 = x.now;
	x.cport++;
	om_flow *f2 = handshake(&x);
	sdata(&x, CLI, 0, "HELLO\n");
	assert_string_equal(om_app_proto_name(f1), "hello");
	assert_null(om_app_proto_name(f2));
	assert_int_equal(om_app_stats_get(x.app)->slot_memcap, 1);
	/* the first flow times out and frees the slot: the second one must
	 * not take it now, its parser would miss the first 6 bytes */
	om_flow_table_expire(x.ft, t1 + 300 * SEC);
	assert_int_equal(x.ends, 1);
	assert_int_equal(om_app_stats_get(x.app)->active, 0);
	sdata(&x, CLI, 6, "HELLO again\n");
	assert_null(om_app_proto_name(f2));
	assert_null(om_app_state(f2));
	assert_int_equal(om_app_stats_get(x.app)->slot_memcap, 1); /* counted once per flow */
	assert_int_equal(plog.news, 1);
	fx_done(&x);
	assert_null(x.end_name);

	/* room for no detection buffer: "HEL" cannot be held, so failed; a
	 * flow decided on its first bytes needs none */
	om_app_config c2 = {.detect_memcap = 100};
	fx_init(&x, hello_banner, 0, &c2, 0);
	f1 = handshake(&x);
	sdata(&x, CLI, 0, "HEL");
	assert_string_equal(om_app_proto_name(f1), "failed");
	assert_int_equal(om_app_stats_get(x.app)->buffer_memcap, 1);
	x.cport++;
	f2 = handshake(&x);
	sdata(&x, CLI, 0, "HELLO\n");
	assert_string_equal(om_app_proto_name(f2), "hello");
	fx_done(&x);
}

/* A context without TCP or UDP parsers stays out of the way. */
static void test_no_parsers(void **unused)
{
	(void)unused;
	const om_app_parser *const none[] = {NULL};
	struct fx x;
	fx_init(&x, none, 0, NULL, 0);
	om_flow *f = handshake(&x);
	sdata(&x, CLI, 0, "HELLO\n");
	assert_null(f->app);
	assert_null(om_app_proto_name(f));
	fx_done(&x);
	assert_null(x.end_name);
	assert_int_equal(x.stats.flows, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_registry),
	    cmocka_unit_test(test_detect_unusual_port),
	    cmocka_unit_test(test_detect_server_first),
	    cmocka_unit_test(test_detect_client_bytes_before_banner),
	    cmocka_unit_test(test_detect_across_segments),
	    cmocka_unit_test(test_out_of_order_marked_held),
	    cmocka_unit_test(test_port_hint_order),
	    cmocka_unit_test(test_expectation_worker_ctx),
	    cmocka_unit_test(test_detect_failure_after_limit),
	    cmocka_unit_test(test_detect_limit_config),
	    cmocka_unit_test(test_detect_one_byte_segments),
	    cmocka_unit_test(test_failed_at_end),
	    cmocka_unit_test(test_gap),
	    cmocka_unit_test(test_hole_then_detection),
	    cmocka_unit_test(test_gap_before_detection),
	    cmocka_unit_test(test_end_fin),
	    cmocka_unit_test(test_end_fin_after_held),
	    cmocka_unit_test(test_end_rst),
	    cmocka_unit_test(test_end_rst_undecided),
	    cmocka_unit_test(test_end_depth),
	    cmocka_unit_test(test_end_timeout),
	    cmocka_unit_test(test_eviction_destructor_once),
	    cmocka_unit_test(test_bypass_both),
	    cmocka_unit_test(test_bypass_one_direction),
	    cmocka_unit_test(test_bypass_then_forced_end),
	    cmocka_unit_test(test_parser_error),
	    cmocka_unit_test(test_larger_depth),
	    cmocka_unit_test(test_udp),
	    cmocka_unit_test(test_slot_and_buffer_caps),
	    cmocka_unit_test(test_no_parsers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
