/* Unit tests for the flow table (src/net/flow.c): keys and directions, TCP
 * states, timeouts per state, expiry order, eviction, flush and flow ids. */
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
#define MAXENDS 64

struct ends {
	int n;
	struct {
		uint64_t flow_id;
		uint16_t cport;
		enum om_flow_end why;
		enum om_flow_state state;
	} e[MAXENDS];
};

static void on_end(void *u, om_flow *f, enum om_flow_end why)
{
	struct ends *x = u;
	if (x->n < MAXENDS) {
		x->e[x->n].flow_id = f->flow_id;
		x->e[x->n].cport = f->cport;
		x->e[x->n].why = why;
		x->e[x->n].state = f->state;
	}
	x->n++;
}

/* The stream that owns the TCP state of every table made by table(); its
 * events are recorded (the last one and a count). */
static om_stream_ctx *g_ts;
static char g_last_event[64];
static int g_events;
static void ts_event(void *u, om_flow *f, const char *ev)
{
	(void)u, (void)f;
	snprintf(g_last_event, sizeof(g_last_event), "%s", ev);
	g_events++;
}

static int teardown_stream(void **state)
{
	(void)state;
	g_ts = om_stream_free(g_ts);
	return 0;
}

static om_flow_table *table(uint64_t max, uint64_t hash_size, struct ends *e)
{
	if (!g_ts) {
		om_stream_callbacks cb = {NULL, NULL, ts_event, NULL, NULL};
		g_ts = om_stream_new(0, 1 << 20, &cb);
		assert_non_null(g_ts);
	}
	om_flow_config c = {
	    .stream = g_ts,
	    .max_flows = max,
	    .hash_size = hash_size,
	    .timeout_new = 30,
	    .timeout_est = 300,
	    .timeout_closed = 10,
	    .timeout_udp = 60,
	    .timeout_icmp = 20,
	    .on_end = on_end,
	    .user = e,
	};
	om_flow_table *t = om_flow_table_new(&c);
	assert_non_null(t);
	return t;
}

static void v4(om_addr *a, uint8_t last)
{
	const uint8_t b[4] = {192, 0, 2, last};
	om_addr_from_v4(a, b);
}

/* host numbers are the last octet of 192.0.2.x */
static om_packet pkt(uint8_t proto, uint8_t src, uint16_t sport, uint8_t dst, uint16_t dport,
                     uint8_t tcp_flags, om_usec ts)
{
	om_packet p;
	memset(&p, 0, sizeof(p));
	p.ts = ts;
	p.ip_ver = 4;
	p.proto = proto;
	v4(&p.src, src);
	v4(&p.dst, dst);
	p.flags = OM_PKT_IPV4;
	if (proto == IPPROTO_TCP || proto == IPPROTO_UDP) {
		p.flags |= OM_PKT_HAS_PORTS | (proto == IPPROTO_TCP ? OM_PKT_TCP : OM_PKT_UDP);
		p.sport = sport;
		p.dport = dport;
	}
	p.tcp_flags = tcp_flags;
	p.wirelen = 60;
	p.l3_len = 46;
	return p;
}

static om_flow *get(om_flow_table *t, om_packet p, int *dir)
{
	return om_flow_get(t, &p, dir);
}

/* A TCP packet with sequence and acknowledgement numbers. */
static om_packet tcpp(uint8_t src, uint16_t sport, uint8_t dst, uint16_t dport, uint8_t flags,
                      uint32_t seq, uint32_t ack, om_usec ts)
{
	om_packet p = pkt(IPPROTO_TCP, src, sport, dst, dport, flags, ts);
	p.tcp_seq = seq;
	p.tcp_ack = ack;
	p.tcp_win = 65535;
	p.tcp_wscale = 0xff;
	return p;
}

static void test_direction(void **state)
{
	(void)state;
	struct ends e = {0};
	om_flow_table *t = table(16, 0, &e);
	int dir = -1;
	om_flow *f = get(t, pkt(IPPROTO_TCP, 1, 40000, 2, 80, OM_TH_SYN, 1 * SEC), &dir);
	assert_non_null(f);
	assert_int_equal(dir, OM_DIR_TOSERVER);
	om_addr a1, a2;
	v4(&a1, 1);
	v4(&a2, 2);
	assert_memory_equal(&f->cli, &a1, sizeof(a1));
	assert_memory_equal(&f->srv, &a2, sizeof(a2));
	assert_int_equal(f->cport, 40000);
	assert_int_equal(f->sport, 80);
	assert_int_equal(f->ip_ver, 4);
	assert_int_equal(f->proto, IPPROTO_TCP);

	om_flow *g =
	    get(t, pkt(IPPROTO_TCP, 2, 80, 1, 40000, OM_TH_SYN | OM_TH_ACK, 2 * SEC), &dir);
	assert_ptr_equal(f, g);
	assert_int_equal(dir, OM_DIR_TOCLIENT);
	get(t, pkt(IPPROTO_TCP, 1, 40000, 2, 80, OM_TH_ACK, 3 * SEC), &dir);
	assert_int_equal(dir, OM_DIR_TOSERVER);
	assert_int_equal(f->pkts[0], 2);
	assert_int_equal(f->pkts[1], 1);
	assert_int_equal(f->bytes[0], 120);
	assert_int_equal(f->bytes[1], 60);
	assert_int_equal(f->tcp_flags[0], OM_TH_SYN | OM_TH_ACK);
	assert_int_equal(f->tcp_flags[1], OM_TH_SYN | OM_TH_ACK);
	assert_int_equal(f->start, 1 * SEC);
	assert_int_equal(f->last, 3 * SEC);
	assert_int_equal(om_flow_table_stats(t)->created, 1);
	assert_int_equal(om_flow_table_stats(t)->tcp, 1);

	/* another source port is another flow; so is the same tuple over UDP */
	om_flow *h = get(t, pkt(IPPROTO_TCP, 1, 40001, 2, 80, OM_TH_SYN, 4 * SEC), &dir);
	assert_ptr_not_equal(h, f);
	om_flow *u = get(t, pkt(IPPROTO_UDP, 1, 40000, 2, 80, 0, 4 * SEC), &dir);
	assert_ptr_not_equal(u, f);
	assert_int_equal(om_flow_table_stats(t)->created, 3);
	assert_int_equal(om_flow_table_stats(t)->active, 3);
	assert_int_equal(om_flow_table_stats(t)->udp, 1);

	/* a packet without an IP layer has no flow */
	om_packet arp = pkt(0, 1, 0, 2, 0, 0, 5 * SEC);
	arp.ip_ver = 0;
	assert_null(om_flow_get(t, &arp, &dir));

	om_flow_table_flush(t, OM_FLOW_END_SHUTDOWN);
	om_flow_table_free(t);
}

/* SYN/ACK or ICMP reply seen first: its sender is the server */
static void test_answer_first(void **state)
{
	(void)state;
	struct ends e = {0};
	om_flow_table *t = table(16, 0, &e);
	int dir = -1;
	om_flow *f = get(t, pkt(IPPROTO_TCP, 2, 80, 1, 40000, OM_TH_SYN | OM_TH_ACK, SEC), &dir);
	assert_int_equal(dir, OM_DIR_TOCLIENT);
	assert_int_equal(f->cport, 40000);
	assert_int_equal(f->sport, 80);
	assert_true(f->flags & OM_FLOW_F_MIDSTREAM);
	assert_int_equal(f->tcp_state, OM_TCP_SYN_RECV);

	/* ICMP echo: request and reply share a flow, reply first */
	om_packet rep = pkt(IPPROTO_ICMP, 9, 0, 8, 0, 0, SEC);
	rep.icmp_type = 0;
	om_flow *i = om_flow_get(t, &rep, &dir);
	assert_int_equal(dir, OM_DIR_TOCLIENT);
	om_addr a8;
	v4(&a8, 8);
	assert_memory_equal(&i->cli, &a8, sizeof(a8));
	om_packet req = pkt(IPPROTO_ICMP, 8, 0, 9, 0, 0, 2 * SEC);
	req.icmp_type = 8;
	assert_ptr_equal(om_flow_get(t, &req, &dir), i);
	assert_int_equal(dir, OM_DIR_TOSERVER);
	assert_int_equal(i->state, OM_FLOW_ESTABLISHED);
	/* an error message between the same hosts is its own flow */
	om_packet unr = pkt(IPPROTO_ICMP, 9, 0, 8, 0, 0, 2 * SEC);
	unr.icmp_type = 3;
	unr.icmp_code = 3;
	om_flow *j = om_flow_get(t, &unr, &dir);
	assert_ptr_not_equal(j, i);
	assert_int_equal(om_flow_table_stats(t)->icmp, 2);
	/* ICMPv6 echo request/reply */
	om_packet q6 = req, r6 = rep;
	q6.ip_ver = r6.ip_ver = 6;
	q6.proto = r6.proto = IPPROTO_ICMPV6;
	memset(q6.src.b, 0, 16);
	q6.src.b[0] = 0x20, q6.src.b[1] = 0x01, q6.src.b[15] = 1;
	memset(q6.dst.b, 0, 16);
	q6.dst.b[0] = 0x20, q6.dst.b[1] = 0x01, q6.dst.b[15] = 2;
	q6.icmp_type = 128;
	r6.src = q6.dst;
	r6.dst = q6.src;
	r6.icmp_type = 129;
	om_flow *k = om_flow_get(t, &q6, &dir);
	assert_int_equal(dir, OM_DIR_TOSERVER);
	assert_ptr_equal(om_flow_get(t, &r6, &dir), k);
	assert_int_equal(dir, OM_DIR_TOCLIENT);
	om_flow_table_flush(t, OM_FLOW_END_SHUTDOWN);
	assert_int_equal(e.n, 4);
	om_flow_table_free(t);
}

/* ICMP echo with the header in place, as the decoder leaves it: the
 * identifier separates concurrent pings between the same two hosts. */
static om_packet icmp_echo(uint8_t *buf, uint8_t src, uint8_t dst, uint8_t type, uint16_t id,
                           om_usec ts)
{
	om_packet p = pkt(IPPROTO_ICMP, src, 0, dst, 0, 0, ts);
	memset(buf, 0, 36);
	buf[0] = 0x45;
	buf[20] = type;
	buf[24] = (uint8_t)(id >> 8);
	buf[25] = (uint8_t)id;
	p.flags |= OM_PKT_ICMP;
	p.icmp_type = type;
	p.l3 = buf;
	p.l3_len = 36;
	p.payload = buf + 28;
	p.payload_len = 8;
	return p;
}

static void test_icmp_id(void **state)
{
	(void)state;
	struct ends e = {0};
	om_flow_table *t = table(16, 0, &e);
	uint8_t b1[36], b2[36], b3[36], b4[36];
	int dir;
	om_packet q1 = icmp_echo(b1, 1, 2, 8, 0x1234, SEC);
	om_packet q2 = icmp_echo(b2, 1, 2, 8, 0x4321, SEC);
	om_packet r1 = icmp_echo(b3, 2, 1, 0, 0x1234, SEC);
	om_packet r2 = icmp_echo(b4, 2, 1, 0, 0x4321, SEC);
	om_flow *f1 = om_flow_get(t, &q1, &dir);
	om_flow *f2 = om_flow_get(t, &q2, &dir);
	assert_ptr_not_equal(f1, f2);
	assert_int_equal(f1->cport, 0x1234);
	assert_ptr_equal(om_flow_get(t, &r2, &dir), f2);
	assert_int_equal(dir, OM_DIR_TOCLIENT);
	assert_ptr_equal(om_flow_get(t, &r1, &dir), f1);
	assert_int_equal(dir, OM_DIR_TOCLIENT);
	/* the dispatch hash ignores the identifier: a peeked packet (no
	 * header reachable) lands on the same worker */
	om_packet peek = q1;
	peek.payload = NULL;
	peek.l3 = NULL;
	assert_int_equal(om_flow_hash_packet(&q1), om_flow_hash_packet(&peek));
	assert_int_equal(om_flow_hash_packet(&q1), om_flow_hash_packet(&r2));
	/* a payload pointer that cannot follow an 8-byte header is not read */
	om_packet bad = q1;
	bad.payload = b1 + 4;
	om_flow *f0 = om_flow_get(t, &bad, &dir);
	assert_int_equal(f0->cport, 0);
	om_flow_table_flush(t, OM_FLOW_END_SHUTDOWN);
	assert_int_equal(e.n, 3);
	om_flow_table_free(t);
}

static void test_vlan(void **state)
{
	(void)state;
	struct ends e = {0};
	om_flow_table *t = table(16, 0, &e);
	int dir;
	om_packet a = pkt(IPPROTO_UDP, 1, 5353, 2, 53, 0, SEC);
	a.vlan_count = 1;
	a.vlan[0] = 10;
	om_packet b = a;
	b.vlan[0] = 20;
	om_flow *fa = om_flow_get(t, &a, &dir), *fb = om_flow_get(t, &b, &dir);
	assert_ptr_not_equal(fa, fb);
	assert_int_equal(fa->vlan[0], 10);
	assert_int_equal(fa->vlan_count, 1);
	assert_int_equal(fb->vlan[0], 20);
	/* every tag is part of the key: QinQ with another inner tag is
	 * another flow, the same inner tag finds it again */
	om_packet c = a;
	c.vlan_count = 2;
	c.vlan[1] = 99;
	om_flow *fc = om_flow_get(t, &c, &dir);
	assert_ptr_not_equal(fc, fa);
	assert_int_equal(fc->vlan_count, 2);
	assert_int_equal(fc->vlan[1], 99);
	assert_ptr_equal(om_flow_get(t, &c, &dir), fc);
	om_packet c3 = c;
	c3.vlan_count = 3;
	c3.vlan[2] = 7;
	assert_ptr_not_equal(om_flow_get(t, &c3, &dir), fc);
	/* so is the tunnel discriminator */
	om_packet tu = a;
	tu.tunnel_id = 0x1234;
	om_flow *ft = om_flow_get(t, &tu, &dir);
	assert_ptr_not_equal(ft, fa);
	assert_int_equal(ft->tunnel_id, 0x1234);
	tu.tunnel_id = 0x1235;
	assert_ptr_not_equal(om_flow_get(t, &tu, &dir), ft);
	/* untagged is another flow again */
	om_packet d = a;
	d.vlan_count = 0;
	d.vlan[0] = 0;
	om_flow *fd = om_flow_get(t, &d, &dir);
	assert_ptr_not_equal(fd, fa);
	assert_ptr_not_equal(fd, fb);
	/* the reverse direction on vlan 20 finds flow b */
	om_packet r = pkt(IPPROTO_UDP, 2, 53, 1, 5353, 0, 2 * SEC);
	r.vlan_count = 1;
	r.vlan[0] = 20;
	assert_ptr_equal(om_flow_get(t, &r, &dir), fb);
	assert_int_equal(dir, OM_DIR_TOCLIENT);
	om_flow_table_flush(t, OM_FLOW_END_SHUTDOWN);
	om_flow_table_free(t);
}

/* The outermost tunnel layer of a flow's first packet is kept beside the
 * flow (om_flow.tunnel): a plain flow has none, a tunnelled one keeps its
 * layer while other flows come and go, and an entry used again for a plain
 * flow has none. A flow entry is three cache lines. */
static void test_tunnel_layer(void **state)
{
	(void)state;
	struct ends e = {0};
	om_flow_table *t = table(4, 0, &e);
	int dir;
	om_packet a = pkt(IPPROTO_UDP, 1, 5353, 2, 53, 0, SEC);
	om_flow *fa = om_flow_get(t, &a, &dir);
	assert_null(fa->tunnel);
	om_packet tu = pkt(IPPROTO_UDP, 3, 5353, 4, 53, 0, SEC);
	tu.flags |= OM_PKT_TUNNEL;
	tu.tunnel_id = 77;
	tu.tunnel_count = 1;
	tu.tunnel[0].kind = OM_TUN_GRE;
	tu.tunnel[0].ip_ver = 4;
	tu.tunnel[0].proto = 47;
	tu.tunnel[0].id = 0xabcd;
	v4(&tu.tunnel[0].src, 100);
	v4(&tu.tunnel[0].dst, 101);
	om_flow *ft = om_flow_get(t, &tu, &dir);
	assert_non_null(ft->tunnel);
	assert_int_equal(ft->tunnel->kind, OM_TUN_GRE);
	assert_int_equal(ft->tunnel->id, 0xabcd);
	assert_int_equal(ft->tunnel_depth, 1);
	assert_memory_equal(&ft->tunnel->src, &tu.tunnel[0].src, sizeof(om_addr));
	/* the packet's own copy goes away: the flow's stays */
	memset(&tu.tunnel[0], 0, sizeof(tu.tunnel[0]));
	om_packet b = pkt(IPPROTO_UDP, 5, 5353, 6, 53, 0, SEC);
	om_flow *fb = om_flow_get(t, &b, &dir);
	assert_null(fb->tunnel);
	assert_int_equal(ft->tunnel->id, 0xabcd);
	assert_int_equal(ft->tunnel->proto, 47);
	/* after the tunnelled flow ends, its entry serves a plain flow */
	om_flow_table_expire(t, 100 * SEC);
	assert_int_equal(om_flow_table_stats(t)->active, 0);
	om_packet c = pkt(IPPROTO_UDP, 3, 5353, 4, 53, 0, 101 * SEC);
	om_flow *fc = om_flow_get(t, &c, &dir);
	assert_null(fc->tunnel);
	assert_int_equal(fc->tunnel_depth, 0);
	om_flow_table_flush(t, OM_FLOW_END_SHUTDOWN);
	om_flow_table_free(t);
}

static void test_tcp_states(void **state)
{
	(void)state;
	struct ends e = {0};
	om_flow_table *t = table(16, 0, &e);
	int dir;
	/* client 1:1000 ISN 100, server 2:22 ISN 500 */
	om_flow *f = get(t, tcpp(1, 1000, 2, 22, OM_TH_SYN, 100, 0, SEC), &dir);
	assert_int_equal(f->tcp_state, OM_TCP_SYN_SENT);
	assert_int_equal(f->state, OM_FLOW_NEW);
	assert_false(f->flags & OM_FLOW_F_MIDSTREAM);
	get(t, tcpp(2, 22, 1, 1000, OM_TH_SYN | OM_TH_ACK, 500, 101, SEC), &dir);
	assert_int_equal(f->tcp_state, OM_TCP_SYN_RECV);
	assert_int_equal(f->state, OM_FLOW_NEW);
	get(t, tcpp(1, 1000, 2, 22, OM_TH_ACK, 101, 501, SEC), &dir);
	assert_int_equal(f->tcp_state, OM_TCP_ESTABLISHED);
	assert_int_equal(f->state, OM_FLOW_ESTABLISHED);
	get(t, tcpp(1, 1000, 2, 22, OM_TH_ACK | OM_TH_FIN, 101, 501, SEC), &dir);
	assert_int_equal(f->tcp_state, OM_TCP_FIN_WAIT);
	assert_int_equal(f->state, OM_FLOW_ESTABLISHED);                          /* half-closed */
	get(t, tcpp(1, 1000, 2, 22, OM_TH_ACK | OM_TH_FIN, 101, 501, SEC), &dir); /* again */
	assert_int_equal(f->tcp_state, OM_TCP_FIN_WAIT);
	get(t, tcpp(2, 22, 1, 1000, OM_TH_ACK | OM_TH_FIN, 501, 102, SEC), &dir);
	assert_int_equal(f->tcp_state, OM_TCP_CLOSING);
	assert_int_equal(f->state, OM_FLOW_CLOSED);
	get(t, tcpp(1, 1000, 2, 22, OM_TH_ACK, 102, 502, SEC), &dir);
	assert_int_equal(f->tcp_state, OM_TCP_CLOSED);
	assert_int_equal(f->state, OM_FLOW_CLOSED);

	/* RST from either side */
	om_flow *g = get(t, tcpp(1, 1001, 2, 22, OM_TH_SYN, 100, 0, SEC), &dir);
	get(t, tcpp(2, 22, 1, 1001, OM_TH_RST | OM_TH_ACK, 0, 101, SEC), &dir);
	assert_int_equal(g->tcp_state, OM_TCP_RESET);
	assert_int_equal(g->state, OM_FLOW_CLOSED);
	/* a later ACK does not reopen it */
	get(t, tcpp(1, 1001, 2, 22, OM_TH_ACK, 101, 1, SEC), &dir);
	assert_int_equal(g->state, OM_FLOW_CLOSED);

	/* midstream: trusted (established) only once both sides spoke */
	om_flow *m = get(t, tcpp(1, 1002, 2, 22, OM_TH_ACK, 7000, 9000, SEC), &dir);
	assert_true(m->flags & OM_FLOW_F_MIDSTREAM);
	assert_int_equal(m->tcp_state, OM_TCP_ESTABLISHED);
	assert_int_equal(m->state, OM_FLOW_NEW);
	get(t, tcpp(2, 22, 1, 1002, OM_TH_ACK, 9000, 7000, SEC), &dir);
	assert_int_equal(m->state, OM_FLOW_ESTABLISHED);

	/* UDP: new, then established when the other side answers */
	om_flow *u = get(t, pkt(IPPROTO_UDP, 1, 53000, 2, 53, 0, SEC), &dir);
	assert_int_equal(u->state, OM_FLOW_NEW);
	assert_int_equal(u->tcp_state, OM_TCP_NONE);
	get(t, pkt(IPPROTO_UDP, 2, 53, 1, 53000, 0, SEC), &dir);
	assert_int_equal(u->state, OM_FLOW_ESTABLISHED);

	/* the old SYN resent on the closed connection is not a new one */
	uint64_t old_id = f->flow_id;
	assert_ptr_equal(get(t, tcpp(1, 1000, 2, 22, OM_TH_SYN, 100, 0, SEC), &dir), f);
	assert_int_equal(e.n, 0);
	/* port reuse: a SYN with a new ISN on a closed connection starts a
	 * new flow */
	om_flow *n = get(t, tcpp(1, 1000, 2, 22, OM_TH_SYN, 90000, 0, 2 * SEC), &dir);
	assert_int_equal(e.n, 1);
	assert_int_equal(e.e[0].why, OM_FLOW_END_FORCED);
	assert_int_equal(e.e[0].flow_id, old_id);
	assert_int_equal(n->tcp_state, OM_TCP_SYN_SENT);
	assert_int_equal(n->pkts[0], 1);
	assert_int_equal(n->start, 2 * SEC);
	assert_int_not_equal(n->flow_id, old_id);

	om_flow_table_flush(t, OM_FLOW_END_SHUTDOWN);
	om_flow_table_free(t);
}

/* Each state's timeout, checked one microsecond before and at the deadline. */
static void test_timeouts(void **state)
{
	(void)state;
	static const struct {
		const char *what;
		om_usec timeout;
	} cases[] = {
	    {"tcp new", 30}, {"tcp est", 300}, {"tcp closed", 10}, {"udp", 60}, {"icmp", 20}};
	for (size_t k = 0; k < OM_ARRAY_SIZE(cases); k++) {
		struct ends e = {0};
		om_flow_table *t = table(16, 0, &e);
		int dir;
		om_usec t0 = 1000 * SEC;
		switch (k) {
		case 0: get(t, pkt(IPPROTO_TCP, 1, 1, 2, 2, OM_TH_SYN, t0), &dir); break;
		case 1:
			get(t, pkt(IPPROTO_TCP, 1, 1, 2, 2, OM_TH_SYN, t0 - 2), &dir);
			get(t, pkt(IPPROTO_TCP, 2, 2, 1, 1, OM_TH_SYN | OM_TH_ACK, t0 - 1), &dir);
			get(t, pkt(IPPROTO_TCP, 1, 1, 2, 2, OM_TH_ACK, t0), &dir);
			break;
		case 2:
			get(t, pkt(IPPROTO_TCP, 1, 1, 2, 2, OM_TH_SYN, t0 - 1), &dir);
			get(t, pkt(IPPROTO_TCP, 2, 2, 1, 1, OM_TH_RST, t0), &dir);
			break;
		case 3: get(t, pkt(IPPROTO_UDP, 1, 1, 2, 2, 0, t0), &dir); break;
		case 4: {
			om_packet p = pkt(IPPROTO_ICMP, 1, 0, 2, 0, 0, t0);
			p.icmp_type = 8;
			om_flow_get(t, &p, &dir);
			break;
		}
		}
		om_usec dl = t0 + cases[k].timeout * SEC;
		om_flow_table_expire(t, dl - 1);
		assert_int_equal(e.n, 0);
		assert_int_equal(om_flow_table_stats(t)->active, 1);
		om_flow_table_expire(t, dl);
		assert_int_equal(e.n, 1);
		assert_int_equal(e.e[0].why, OM_FLOW_END_TIMEOUT);
		assert_int_equal(om_flow_table_stats(t)->active, 0);
		assert_int_equal(om_flow_table_stats(t)->ended, 1);
		om_flow_table_free(t);
	}
}

/* A flow that was seen earlier but has a longer timeout must not shield a
 * later one with a shorter timeout from expiry. */
static void test_expiry_across_states(void **state)
{
	(void)state;
	struct ends e = {0};
	om_flow_table *t = table(16, 0, &e);
	int dir;
	/* A: established at 100 s (deadline 400 s) */
	get(t, pkt(IPPROTO_TCP, 1, 1, 2, 2, OM_TH_SYN, 100 * SEC), &dir);
	get(t, pkt(IPPROTO_TCP, 2, 2, 1, 1, OM_TH_SYN | OM_TH_ACK, 100 * SEC), &dir);
	get(t, pkt(IPPROTO_TCP, 1, 1, 2, 2, OM_TH_ACK, 100 * SEC), &dir);
	/* B: new at 200 s (deadline 230 s) */
	get(t, pkt(IPPROTO_TCP, 1, 3, 2, 2, OM_TH_SYN, 200 * SEC), &dir);
	om_flow_table_expire(t, 230 * SEC);
	assert_int_equal(e.n, 1);
	assert_int_equal(e.e[0].cport, 3);
	assert_int_equal(e.e[0].state, OM_FLOW_NEW);
	om_flow_table_expire(t, 399 * SEC);
	assert_int_equal(e.n, 1);
	om_flow_table_expire(t, 400 * SEC);
	assert_int_equal(e.n, 2);
	assert_int_equal(e.e[1].cport, 1);
	om_flow_table_free(t);
}

/* A packet arriving after its flow's timeout starts a new flow even when
 * expiry has not run, so results do not depend on how often it runs. */
static void test_timeout_at_lookup(void **state)
{
	(void)state;
	struct ends e = {0};
	om_flow_table *t = table(16, 0, &e);
	int dir;
	om_flow *f = get(t, pkt(IPPROTO_UDP, 1, 5000, 2, 53, 0, 10 * SEC), &dir);
	uint64_t id1 = f->flow_id;
	/* one microsecond before the deadline: same flow */
	f = get(t, pkt(IPPROTO_UDP, 2, 53, 1, 5000, 0, 70 * SEC - 1), &dir);
	assert_int_equal(f->flow_id, id1);
	assert_int_equal(e.n, 0);
	/* at the deadline (last + 60 s): the old flow ends, a new one starts
	 * with this packet's sender as the client */
	f = get(t, pkt(IPPROTO_UDP, 2, 53, 1, 5000, 0, 130 * SEC - 1), &dir);
	assert_int_equal(e.n, 1);
	assert_int_equal(e.e[0].why, OM_FLOW_END_TIMEOUT);
	assert_int_equal(e.e[0].flow_id, id1);
	assert_int_not_equal(f->flow_id, id1);
	assert_int_equal(dir, OM_DIR_TOSERVER);
	assert_int_equal(f->cport, 53);
	assert_int_equal(f->start, 130 * SEC - 1);
	assert_int_equal(om_flow_table_stats(t)->active, 1);
	assert_int_equal(om_flow_table_stats(t)->created, 2);
	om_flow_table_flush(t, OM_FLOW_END_SHUTDOWN);
	om_flow_table_free(t);
}

/* Within one state, flows end oldest first, and activity renews a flow. */
static void test_expiry_order(void **state)
{
	(void)state;
	struct ends e = {0};
	om_flow_table *t = table(16, 0, &e);
	int dir;
	for (uint16_t i = 1; i <= 5; i++)
		get(t, pkt(IPPROTO_UDP, 1, i, 2, 53, 0, i * SEC), &dir);
	/* flow 2 is active again at 10 s */
	get(t, pkt(IPPROTO_UDP, 2, 53, 1, 2, 0, 10 * SEC), &dir);
	/* at 64 s flows 1, 3, 4 (last 1, 3, 4 s) have passed 60 s */
	om_flow_table_expire(t, 64 * SEC);
	assert_int_equal(e.n, 3);
	assert_int_equal(e.e[0].cport, 1);
	assert_int_equal(e.e[1].cport, 3);
	assert_int_equal(e.e[2].cport, 4);
	om_flow_table_expire(t, 70 * SEC);
	assert_int_equal(e.n, 5);
	assert_int_equal(e.e[3].cport, 5);
	assert_int_equal(e.e[4].cport, 2);
	assert_int_equal(om_flow_table_stats(t)->active, 0);
	assert_int_equal(om_flow_table_stats(t)->active_max, 5);
	om_flow_table_free(t);
}

static void test_eviction(void **state)
{
	(void)state;
	struct ends e = {0};
	om_flow_table *t = table(3, 0, &e);
	int dir;
	for (uint16_t i = 1; i <= 3; i++)
		get(t, pkt(IPPROTO_UDP, 1, i, 2, 53, 0, i * SEC), &dir);
	assert_int_equal(om_flow_table_stats(t)->memcap_hits, 0);
	/* full: the 4th flow evicts the least recently used, flow 1 */
	om_flow *f4 = get(t, pkt(IPPROTO_UDP, 1, 4, 2, 53, 0, 4 * SEC), &dir);
	assert_non_null(f4);
	assert_int_equal(f4->cport, 4);
	assert_int_equal(e.n, 1);
	assert_int_equal(e.e[0].cport, 1);
	assert_int_equal(e.e[0].why, OM_FLOW_END_EVICTED);
	assert_int_equal(om_flow_table_stats(t)->evicted, 1);
	assert_int_equal(om_flow_table_stats(t)->memcap_hits, 1);
	assert_int_equal(om_flow_table_stats(t)->active, 3);
	/* flow 2 is used again, so flow 3 is now the least recent */
	get(t, pkt(IPPROTO_UDP, 1, 2, 2, 53, 0, 5 * SEC), &dir);
	get(t, pkt(IPPROTO_UDP, 1, 5, 2, 53, 0, 6 * SEC), &dir);
	assert_int_equal(e.n, 2);
	assert_int_equal(e.e[1].cport, 3);
	assert_int_equal(om_flow_table_stats(t)->evicted, 2);
	/* when a flow has already timed out it is ended as a timeout, not
	 * evicted: flows 4 (4 s), 2 (5 s), 5 (6 s); at 64.5 s flow 4 is due */
	get(t, pkt(IPPROTO_UDP, 1, 6, 2, 53, 0, 64 * SEC + SEC / 2), &dir);
	assert_int_equal(e.n, 3);
	assert_int_equal(e.e[2].cport, 4);
	assert_int_equal(e.e[2].why, OM_FLOW_END_TIMEOUT);
	assert_int_equal(om_flow_table_stats(t)->evicted, 2);
	assert_int_equal(om_flow_table_stats(t)->memcap_hits, 3);
	assert_int_equal(om_flow_table_stats(t)->created, 6);
	assert_int_equal(om_flow_table_stats(t)->ended, 3);
	assert_int_equal(om_flow_table_stats(t)->active_max, 3);
	om_flow_table_flush(t, OM_FLOW_END_SHUTDOWN);
	om_flow_table_free(t);
}

/* One entry, hash with one bucket: every path through a single slot. */
static void test_tiny_table(void **state)
{
	(void)state;
	struct ends e = {0};
	om_flow_table *t = table(1, 1, &e);
	int dir;
	for (uint16_t i = 1; i <= 50; i++) {
		om_flow *f = get(t, pkt(IPPROTO_TCP, 1, i, 2, 80, OM_TH_SYN, i * SEC), &dir);
		assert_non_null(f);
		assert_int_equal(f->cport, i);
	}
	assert_int_equal(e.n, 49);
	assert_int_equal(om_flow_table_stats(t)->evicted, 49);
	om_flow_table_flush(t, OM_FLOW_END_SHUTDOWN);
	assert_int_equal(e.n, 50);
	om_flow_table_free(t);
}

static void test_flush(void **state)
{
	(void)state;
	struct ends e = {0};
	om_flow_table *t = table(64, 8, &e);
	int dir;
	/* mixed states, last-seen times 5, 3, 1, 4, 2 s */
	get(t, pkt(IPPROTO_UDP, 1, 1, 2, 53, 0, 5 * SEC), &dir);
	get(t, pkt(IPPROTO_TCP, 1, 2, 2, 80, OM_TH_SYN, 3 * SEC), &dir);
	om_packet ic = pkt(IPPROTO_ICMP, 1, 0, 2, 0, 0, 1 * SEC);
	ic.icmp_type = 8;
	om_flow_get(t, &ic, &dir);
	get(t, pkt(IPPROTO_TCP, 1, 4, 2, 80, OM_TH_ACK, 4 * SEC), &dir);
	om_packet gre = pkt(47, 1, 0, 2, 0, 0, 2 * SEC);
	om_flow_get(t, &gre, &dir);
	assert_int_equal(om_flow_table_stats(t)->other, 1);
	om_flow_table_flush(t, OM_FLOW_END_SHUTDOWN);
	assert_int_equal(e.n, 5);
	for (int i = 0; i < 5; i++)
		assert_int_equal(e.e[i].why, OM_FLOW_END_SHUTDOWN);
	/* ended least recently used first: icmp (1), gre (2), tcp 2, tcp 4, udp */
	assert_int_equal(e.e[2].cport, 2);
	assert_int_equal(e.e[3].cport, 4);
	assert_int_equal(e.e[4].cport, 1);
	assert_int_equal(om_flow_table_stats(t)->active, 0);
	assert_int_equal(om_flow_table_stats(t)->ended, 5);
	/* the table is reusable after a flush */
	assert_non_null(get(t, pkt(IPPROTO_UDP, 1, 1, 2, 53, 0, 6 * SEC), &dir));
	om_flow_table_flush(t, OM_FLOW_END_SHUTDOWN);
	assert_int_equal(e.n, 6);
	om_flow_table_free(t);
}

/* The same flows created in another order, in tables of other sizes (as
 * with another number of workers), have the same ids. */
static void test_flow_id_stable(void **state)
{
	(void)state;
	enum { N = 40 };
	uint64_t ids[2][N];
	for (int run = 0; run < 2; run++) {
		struct ends e = {0};
		om_flow_table *t = run ? table(4096, 0, &e) : table(N, 4, &e);
		for (int k = 0; k < N; k++) {
			int i = run ? N - 1 - k : k;
			int dir;
			/* in run 1 the first packet of odd flows is the reply */
			om_packet p =
			    pkt(IPPROTO_UDP, (uint8_t)(10 + i), (uint16_t)(1000 + i), 1, 53, 0,
			        (om_usec)(1700000000ULL * SEC + (uint64_t)i * 1234));
			if (run && (i & 1)) {
				om_packet r = pkt(IPPROTO_UDP, 1, 53, (uint8_t)(10 + i),
				                  (uint16_t)(1000 + i), 0, p.ts);
				p = r;
			}
			om_flow *f = om_flow_get(t, &p, &dir);
			ids[run][i] = f->flow_id;
			assert_true(f->flow_id != 0);
			assert_true(f->flow_id < (1ULL << 51));
		}
		om_flow_table_flush(t, OM_FLOW_END_SHUTDOWN);
		om_flow_table_free(t);
	}
	for (int i = 0; i < N; i++) {
		assert_int_equal(ids[0][i], ids[1][i]);
		for (int j = 0; j < i; j++)
			assert_int_not_equal(ids[0][i], ids[0][j]);
	}
	/* another start time gives another id */
	struct ends e = {0};
	om_flow_table *t = table(4, 0, &e);
	int dir;
	om_flow *f = get(t, pkt(IPPROTO_UDP, 10, 1000, 1, 53, 0, 1700000000ULL * SEC + 1), &dir);
	assert_int_not_equal(f->flow_id, ids[0][0]);
	om_flow_table_free(t);
}

static void test_hash_symmetric(void **state)
{
	(void)state;
	om_packet a = pkt(IPPROTO_TCP, 1, 1234, 2, 443, OM_TH_SYN, 0);
	om_packet b = pkt(IPPROTO_TCP, 2, 443, 1, 1234, OM_TH_ACK, 0);
	assert_int_equal(om_flow_hash_packet(&a), om_flow_hash_packet(&b));
	/* endpoints where address and port order disagree */
	om_packet c = pkt(IPPROTO_UDP, 1, 60000, 2, 53, 0, 0);
	om_packet d = pkt(IPPROTO_UDP, 2, 53, 1, 60000, 0, 0);
	assert_int_equal(om_flow_hash_packet(&c), om_flow_hash_packet(&d));
	om_packet q = pkt(IPPROTO_ICMP, 1, 0, 2, 0, 0, 0), r = pkt(IPPROTO_ICMP, 2, 0, 1, 0, 0, 0);
	q.icmp_type = 8;
	r.icmp_type = 0;
	assert_int_equal(om_flow_hash_packet(&q), om_flow_hash_packet(&r));
	/* the key matters: ports, protocol, vlan */
	om_packet e = a;
	e.sport = 1235;
	assert_int_not_equal(om_flow_hash_packet(&a), om_flow_hash_packet(&e));
	om_packet v = a;
	v.vlan_count = 1;
	v.vlan[0] = 7;
	assert_int_not_equal(om_flow_hash_packet(&a), om_flow_hash_packet(&v));
	/* spread: 1000 source ports give (nearly) 1000 distinct hashes */
	uint32_t hs[1000];
	int dup = 0;
	for (int i = 0; i < 1000; i++) {
		om_packet p = pkt(IPPROTO_TCP, 1, (uint16_t)(2000 + i), 2, 80, 0, 0);
		hs[i] = om_flow_hash_packet(&p);
		for (int j = 0; j < i; j++)
			dup += hs[j] == hs[i];
	}
	assert_true(dup <= 1);
}

static void test_names_and_config(void **state)
{
	(void)state;
	assert_string_equal(om_flow_state_name(OM_FLOW_NEW), "new");
	assert_string_equal(om_flow_state_name(OM_FLOW_ESTABLISHED), "established");
	assert_string_equal(om_flow_state_name(OM_FLOW_CLOSED), "closed");
	assert_string_equal(om_flow_state_name((enum om_flow_state)42), "unknown");
	assert_string_equal(om_flow_end_name(OM_FLOW_END_TIMEOUT), "timeout");
	assert_string_equal(om_flow_end_name(OM_FLOW_END_FORCED), "forced");
	assert_string_equal(om_flow_end_name(OM_FLOW_END_SHUTDOWN), "shutdown");
	assert_string_equal(om_flow_end_name(OM_FLOW_END_EVICTED), "evicted");
	assert_string_equal(om_tcp_state_name(OM_TCP_SYN_SENT), "syn_sent");
	assert_string_equal(om_tcp_state_name(OM_TCP_ESTABLISHED), "established");
	assert_string_equal(om_tcp_state_name(OM_TCP_RESET), "reset");
	assert_string_equal(om_tcp_state_name((enum om_tcp_state)99), "unknown");

	om_flow_config c = {0};
	assert_null(om_flow_table_new(&c)); /* max_flows 0 */
	assert_null(om_flow_table_new(NULL));
	c.max_flows = 10;
	c.hash_size = 1ULL << 40; /* absurd */
	assert_null(om_flow_table_new(&c));
	c.max_flows = UINT64_MAX;
	c.hash_size = 0;
	assert_null(om_flow_table_new(&c));
	assert_null(om_flow_table_free(NULL));
	/* no callback configured */
	c.max_flows = 2;
	om_flow_table *t = om_flow_table_new(&c);
	assert_non_null(t);
	int dir;
	for (uint16_t i = 0; i < 5; i++)
		assert_non_null(get(t, pkt(IPPROTO_UDP, 1, i, 2, 53, 0, SEC), &dir));
	om_flow_table_flush(t, OM_FLOW_END_SHUTDOWN);
	om_flow_table_free(t);
}

/* ---- the table under attack ---------------------------------------------- */

/* The bucket hash before keyed hashing: om_hash64 with this fixed seed over
 * the 39-byte canonical key (lower endpoint's address, higher's address,
 * lower's port, higher's port, VLAN, protocol; big-endian numbers). */
#define OLD_SEED 0x6f6d616d6f726931ULL
#define GOLD 0x9e3779b97f4a7c15ULL
#define TAILC 0xa0761d6478bd642fULL

static uint64_t le64(const uint8_t *b, size_t n)
{
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++)
		v |= (uint64_t)b[i] << (8 * i);
	return v;
}

static uint64_t unxorshift(uint64_t y, int s)
{
	uint64_t x = y;
	for (int k = s; k < 64; k += s)
		x ^= y >> k;
	return x;
}

static uint64_t inv_odd(uint64_t c)
{
	uint64_t x = c; /* Newton: each step doubles the correct low bits */
	for (int i = 0; i < 6; i++)
		x *= 2 - c * x;
	return x;
}

/* om_mix64 is a bijection; this is its inverse. */
static uint64_t unmix64(uint64_t x)
{
	x = unxorshift(x, 31);
	x *= inv_odd(0x94d049bb133111ebULL);
	x = unxorshift(x, 27);
	x *= inv_odd(0xbf58476d1ce4e5b9ULL);
	x = unxorshift(x, 30);
	return x;
}

/* An IPv6 SYN from fd00::/64 (client port sport) to 2001:db8::1 port 80
 * whose OLD bucket hash is exactly `target`: the client's last 64 bits are
 * solved backwards through om_hash64's last two steps. Returns the key
 * bytes in kb too, for the check. */
static om_packet craft_collider(uint16_t sport, uint64_t target, uint8_t kb[39])
{
	uint8_t srv[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
	uint8_t cli[16] = {0xfd};
	memcpy(kb, srv, 16);
	memcpy(kb + 16, cli, 16);
	kb[32] = 0, kb[33] = 80;
	kb[34] = (uint8_t)(sport >> 8), kb[35] = (uint8_t)sport;
	kb[36] = kb[37] = 0;
	kb[38] = IPPROTO_TCP;
	uint64_t h = om_mix64(OLD_SEED ^ (39 * GOLD));
	for (int i = 0; i < 3; i++)
		h = om_mix64(h ^ le64(kb + 8 * i, 8)) + GOLD;
	uint64_t h4 = unmix64(target) ^ le64(kb + 32, 7) ^ TAILC;
	uint64_t v3 = unmix64(h4 - GOLD) ^ h;
	for (int i = 0; i < 8; i++)
		kb[24 + i] = cli[8 + i] = (uint8_t)(v3 >> (8 * i));

	om_packet p;
	memset(&p, 0, sizeof(p));
	p.ip_ver = 6;
	p.proto = IPPROTO_TCP;
	p.flags = OM_PKT_IPV6 | OM_PKT_TCP | OM_PKT_HAS_PORTS;
	memcpy(p.src.b, cli, 16);
	memcpy(p.dst.b, srv, 16);
	p.sport = sport;
	p.dport = 80;
	p.tcp_flags = OM_TH_SYN;
	p.ts = SEC;
	p.wirelen = 74;
	p.l3_len = 60;
	return p;
}

/* 20,000 SYNs that all had the same 64-bit bucket hash under the old fixed
 * seed (one chain of 20,000: about 2 * 10^8 key comparisons to insert them)
 * spread over the buckets of a keyed table: short chains, a few comparisons
 * per lookup. */
static void test_collision_flood(void **state)
{
	(void)state;
	enum { N = 20000 };
	struct ends e = {0};
	om_flow_table *t = table(32768, 0, &e);
	int dir;
	for (uint32_t i = 0; i < N; i++) {
		uint8_t kb[39];
		om_packet p = craft_collider((uint16_t)(1024 + i), 0x5eed5eed5eed5eedULL, kb);
		/* the crafting is right: every key collides under the old hash */
		assert_int_equal(om_hash64(kb, sizeof(kb), OLD_SEED), 0x5eed5eed5eed5eedULL);
		om_flow *f = om_flow_get(t, &p, &dir);
		assert_non_null(f);
		assert_int_equal(f->pkts[0], 1); /* each one a new flow */
	}
	const om_flow_probe_stats *ps = om_flow_table_probe(t);
	const om_flow_stats *st = om_flow_table_stats(t);
	assert_int_equal(st->created, N);
	assert_int_equal(st->active, N);
	assert_int_equal(ps->lookups, N);
	/* 20,000 flows in 32,768 buckets: chains of a few; the cap is 16 */
	assert_true(ps->chain_max <= 16);
	assert_true(ps->compares <= 2 * N);
	assert_int_equal(st->chain_evicted, 0);
	/* and every one is found again */
	for (uint32_t i = 0; i < N; i += 97) {
		uint8_t kb[39];
		om_packet p = craft_collider((uint16_t)(1024 + i), 0x5eed5eed5eed5eedULL, kb);
		om_flow *f = om_flow_get(t, &p, &dir);
		assert_int_equal(f->pkts[0], 2);
	}
	assert_int_equal(st->created, N);
	om_flow_table_flush(t, OM_FLOW_END_SHUTDOWN);
	om_flow_table_free(t);

	/* the per-flow dispatch hash was the old hash's high half, the same
	 * for all of them (one worker for the whole flood): now keyed, spread
	 * over all 16 residues a dispatch modulo 16 would use */
	unsigned per[16] = {0};
	for (uint32_t i = 0; i < N; i++) {
		uint8_t kb[39];
		om_packet p = craft_collider((uint16_t)(1024 + i), 0x5eed5eed5eed5eedULL, kb);
		per[om_flow_hash_packet(&p) % 16]++;
	}
	for (int i = 0; i < 16; i++)
		assert_true(per[i] > N / 16 / 2 && per[i] < N / 16 * 2);
}

/* om_flow_prefetch: the next lookup takes the hash only for the same key,
 * only once, and finds the same flows as without it. */
static void test_prefetch_hint(void **state)
{
	(void)state;
	struct ends e = {0};
	om_flow_table *t = table(64, 0, &e);
	const om_flow_probe_stats *ps = om_flow_table_probe(t);
	int dir;
	om_packet a = pkt(IPPROTO_UDP, 1, 1000, 2, 53, 0, SEC);
	om_packet b = pkt(IPPROTO_UDP, 3, 1000, 2, 53, 0, SEC);
	om_packet ar = pkt(IPPROTO_UDP, 2, 53, 1, 1000, 0, SEC + 1); /* a's answer */

	om_flow_prefetch_entry(t); /* nothing asked for: nothing to do */
	om_flow_prefetch(t, &a);
	om_flow_prefetch_entry(t); /* an empty bucket */
	om_flow *fa = om_flow_get(t, &a, &dir);
	assert_non_null(fa);
	assert_int_equal(ps->hints, 1);
	assert_int_equal(fa->pkts[0], 1);

	/* a hint for another key is not taken, and b still gets its own flow */
	om_flow_prefetch(t, &a);
	om_flow *fb = om_flow_get(t, &b, &dir);
	assert_int_equal(ps->hints, 1);
	assert_ptr_not_equal(fb, fa);
	assert_int_equal(om_flow_table_stats(t)->created, 2);
	/* ... and is gone after that lookup */
	assert_ptr_equal(om_flow_get(t, &a, &dir), fa);
	assert_int_equal(ps->hints, 1);

	/* the reverse direction has the same key: the hint serves it */
	om_flow_prefetch(t, &ar);
	om_flow_prefetch_entry(t);
	assert_ptr_equal(om_flow_get(t, &ar, &dir), fa);
	assert_int_equal(dir, OM_DIR_TOCLIENT);
	assert_int_equal(ps->hints, 2);
	assert_int_equal(fa->pkts[0], 2);
	assert_int_equal(fa->pkts[1], 1);

	/* a packet without IP asks for nothing */
	om_packet none;
	memset(&none, 0, sizeof(none));
	om_flow_prefetch(t, &a);
	om_flow_prefetch(t, &none);
	assert_ptr_equal(om_flow_get(t, &a, &dir), fa);
	assert_int_equal(ps->hints, 2);
	assert_int_equal(om_flow_table_stats(t)->created, 2);
	om_flow_table_flush(t, OM_FLOW_END_SHUTDOWN);
	om_flow_table_free(t);
}

/* At the chain cap the new flow ends the least recently used flow of its
 * chain; one bucket makes every flow share a chain. */
static void test_chain_cap(void **state)
{
	(void)state;
	struct ends e = {0};
	om_flow_config c = {.max_flows = 64,
	                    .hash_size = 1,
	                    .max_chain = 4,
	                    .timeout_new = 30,
	                    .timeout_est = 300,
	                    .timeout_closed = 10,
	                    .timeout_udp = 60,
	                    .timeout_icmp = 20,
	                    .on_end = on_end,
	                    .user = &e};
	om_flow_table *t = om_flow_table_new(&c);
	assert_non_null(t);
	int dir;
	for (uint16_t i = 1; i <= 4; i++)
		get(t, pkt(IPPROTO_UDP, 1, i, 2, 53, 0, i * SEC), &dir);
	/* flow 1 is used again: flow 2 is now the least recent */
	get(t, pkt(IPPROTO_UDP, 1, 1, 2, 53, 0, 5 * SEC), &dir);
	assert_int_equal(e.n, 0);
	get(t, pkt(IPPROTO_UDP, 1, 5, 2, 53, 0, 6 * SEC), &dir);
	assert_int_equal(e.n, 1);
	assert_int_equal(e.e[0].cport, 2);
	assert_int_equal(e.e[0].why, OM_FLOW_END_EVICTED);
	for (uint16_t i = 6; i <= 20; i++)
		get(t, pkt(IPPROTO_UDP, 1, i, 2, 53, 0, (i + 1) * SEC), &dir);
	const om_flow_stats *st = om_flow_table_stats(t);
	assert_int_equal(st->chain_evicted, 16);
	assert_int_equal(st->evicted, 16);
	assert_int_equal(st->memcap_hits, 0); /* the table itself was never full */
	assert_int_equal(st->active, 4);
	assert_true(om_flow_table_probe(t)->chain_max <= 4);
	om_flow_table_flush(t, OM_FLOW_END_SHUTDOWN);
	om_flow_table_free(t);
}

/* A valid three-way handshake (the stream judges the numbers). */
static void handshake(om_flow_table *t, uint16_t port, om_usec ts)
{
	int dir;
	om_packet p = pkt(IPPROTO_TCP, 1, port, 2, 22, OM_TH_SYN, ts);
	p.tcp_seq = 100;
	get(t, p, &dir);
	p = pkt(IPPROTO_TCP, 2, 22, 1, port, OM_TH_SYN | OM_TH_ACK, ts);
	p.tcp_seq = 500;
	p.tcp_ack = 101;
	get(t, p, &dir);
	p = pkt(IPPROTO_TCP, 1, port, 2, 22, OM_TH_ACK, ts);
	p.tcp_seq = 101;
	p.tcp_ack = 501;
	om_flow *f = get(t, p, &dir);
	assert_int_equal(f->state, OM_FLOW_ESTABLISHED);
}

struct ends_by_state {
	uint64_t est, other;
};
static void count_end_state(void *u, om_flow *f, enum om_flow_end why)
{
	struct ends_by_state *x = u;
	(void)why;
	if (f->state == OM_FLOW_ESTABLISHED)
		x->est++;
	else
		x->other++;
}

/* A SYN flood into a full table of idle established flows ends SYN-only
 * flows, not the established ones (by least recent use alone every
 * established flow would go: they are all older than the SYNs). */
static void test_syn_flood_spares_established(void **state)
{
	(void)state;
	struct ends_by_state x = {0};
	om_flow_table_free(table(16, 0, NULL)); /* makes the stream g_ts */
	om_flow_config c = {.stream = g_ts,
	                    .max_flows = 100,
	                    .timeout_new = 30,
	                    .timeout_est = 300,
	                    .timeout_closed = 10,
	                    .timeout_udp = 60,
	                    .timeout_icmp = 20,
	                    .on_end = count_end_state,
	                    .user = &x};
	om_flow_table *t = om_flow_table_new(&c);
	assert_non_null(t);
	for (uint16_t i = 0; i < 100; i++)
		handshake(t, (uint16_t)(1000 + i), SEC + i);
	const om_flow_stats *st = om_flow_table_stats(t);
	assert_int_equal(st->active, 100);
	assert_true(om_flow_table_emergency(t));
	/* 20 s later (within the emergency established timeout of 100 s),
	 * 1000 SYNs from one host */
	int dir;
	for (uint16_t i = 0; i < 1000; i++)
		get(t, pkt(IPPROTO_TCP, 3, (uint16_t)(20000 + i), 2, 80, OM_TH_SYN, 21 * SEC + i),
		    &dir);
	/* the first SYN found only established flows and took one; every later
	 * one took a SYN-only flow */
	assert_int_equal(x.est, 1);
	assert_int_equal(x.other, 999);
	assert_int_equal(st->evicted_est, 1);
	assert_int_equal(st->evicted_new, 999);
	assert_int_equal(st->evicted, 1000);
	/* the 99 other established flows are all still there */
	om_flow_table_expire(t, 22 * SEC);
	assert_int_equal(x.est, 1);
	om_flow_table_flush(t, OM_FLOW_END_SHUTDOWN);
	assert_int_equal(x.est, 100);
	om_flow_table_free(t);
}

struct emerg_log {
	int entered, left;
	om_usec when[4];
};
static void on_emerg(void *u, bool entered, om_usec now, const om_flow_stats *st)
{
	struct emerg_log *l = u;
	(void)st;
	if (l->entered + l->left < 4)
		l->when[l->entered + l->left] = now;
	if (entered)
		l->entered++;
	else
		l->left++;
}

/* Emergency mode: entered once at 95 % use, shorter timeouts meanwhile, left
 * below 70 % use (30 % free). */
static void test_emergency_mode(void **state)
{
	(void)state;
	struct emerg_log l = {0};
	om_flow_config c = {.max_flows = 100,
	                    .timeout_new = 30,
	                    .timeout_est = 300,
	                    .timeout_closed = 10,
	                    .timeout_udp = 60,
	                    .timeout_icmp = 20,
	                    .on_emergency = on_emerg,
	                    .user = &l};
	om_flow_table *t = om_flow_table_new(&c);
	assert_non_null(t);
	int dir;
	for (uint16_t i = 0; i < 94; i++)
		get(t, pkt(IPPROTO_UDP, 1, (uint16_t)(100 + i), 2, 53, 0, SEC), &dir);
	assert_false(om_flow_table_emergency(t));
	/* normal UDP timeout: 60 s; nothing ends at 20 s */
	om_flow_table_expire(t, 20 * SEC);
	assert_int_equal(om_flow_table_stats(t)->active, 94);
	get(t, pkt(IPPROTO_UDP, 1, 999, 2, 53, 0, 21 * SEC), &dir);
	assert_true(om_flow_table_emergency(t));
	assert_int_equal(l.entered, 1);
	assert_int_equal(l.when[0], 21 * SEC);
	/* more flows while in emergency: no second "entered" */
	for (uint16_t i = 0; i < 3; i++)
		get(t, pkt(IPPROTO_UDP, 1, (uint16_t)(2000 + i), 2, 53, 0, 21 * SEC), &dir);
	assert_int_equal(l.entered, 1);
	/* emergency UDP timeout for one-sided flows: 10 s. At 21 s the 94
	 * flows of 1 s are 20 s old: they end, oldest first, until fewer than
	 * 70 are in use (98 - 29 = 69); then the table has recovered and the
	 * normal 60 s applies to the rest again */
	om_flow_table_expire(t, 21 * SEC);
	const om_flow_stats *st = om_flow_table_stats(t);
	assert_int_equal(st->active, 69);
	assert_false(om_flow_table_emergency(t));
	assert_int_equal(l.left, 1);
	assert_int_equal(l.when[1], 21 * SEC);
	assert_int_equal(st->emergency_entered, 1);
	assert_int_equal(st->emergency_left, 1);
	assert_int_equal(st->in_emergency, 0);
	/* the 65 left of 1 s end at 61 s, the four of 21 s at 81 s */
	om_flow_table_expire(t, 60 * SEC);
	assert_int_equal(st->active, 69);
	om_flow_table_expire(t, 61 * SEC);
	assert_int_equal(st->active, 4);
	om_flow_table_expire(t, 80 * SEC);
	assert_int_equal(st->active, 4);
	om_flow_table_expire(t, 81 * SEC);
	assert_int_equal(st->active, 0);
	assert_int_equal(l.entered, 1);
	om_flow_table_free(t);

	/* bad percentages are refused */
	c.emergency_pct = 101;
	assert_null(om_flow_table_new(&c));
	c.emergency_pct = 0;
	c.emergency_recovery_pct = 200;
	assert_null(om_flow_table_new(&c));
}

/* Handles name one flow; once it ends, the handle names nothing, even when
 * the same entry holds a new flow. */
static void test_handles(void **state)
{
	(void)state;
	struct ends e = {0};
	om_flow_table *t = table(1, 1, &e);
	int dir;
	om_flow_handle none = om_flow_handle_of(NULL);
	assert_int_equal(none.gen, 0);
	assert_null(om_flow_from_handle(t, none));

	om_flow *a = get(t, pkt(IPPROTO_TCP, 1, 21000, 2, 21, OM_TH_SYN, SEC), &dir);
	om_flow_handle ha = om_flow_handle_of(a);
	assert_ptr_equal(om_flow_from_handle(t, ha), a);
	assert_ptr_equal(om_flow_from_handle(t, om_flow_handle_of(a)), a);
	/* a second flow takes the only entry: the first is evicted */
	om_flow *b = get(t, pkt(IPPROTO_TCP, 1, 30000, 2, 20, OM_TH_SYN, 2 * SEC), &dir);
	assert_ptr_equal(b, a);                  /* same memory ... */
	assert_null(om_flow_from_handle(t, ha)); /* ... but not the same flow */
	om_flow_handle hb = om_flow_handle_of(b);
	assert_int_equal(hb.idx, ha.idx);
	assert_int_not_equal(hb.gen, ha.gen);
	assert_ptr_equal(om_flow_from_handle(t, hb), b);
	/* out of range and never-used entries */
	om_flow_handle bad = {7, hb.gen};
	assert_null(om_flow_from_handle(t, bad));
	assert_null(om_flow_from_handle(NULL, hb));
	om_flow_table_flush(t, OM_FLOW_END_SHUTDOWN);
	assert_null(om_flow_from_handle(t, hb));
	om_flow_table_free(t);
}

/* Flow table and reassembly together, as the engine wires them. */
static om_stream_ctx *g_stream;
static uint64_t g_delivered;
static void end_with_stream(void *u, om_flow *f, enum om_flow_end why)
{
	(void)u, (void)why;
	om_stream_flow_end(g_stream, f);
}
static void count_data(void *u, om_flow *f, int dir, const uint8_t *d, uint32_t len, uint64_t off,
                       unsigned flags)
{
	(void)u, (void)f, (void)dir, (void)d, (void)off, (void)flags;
	g_delivered += len;
}

static void test_with_stream(void **state)
{
	(void)state;
	om_stream_callbacks cb = {count_data, NULL, NULL, NULL, NULL};
	g_stream = om_stream_new(0, 1 << 20, &cb);
	om_flow_config c = {.max_flows = 2,
	                    .timeout_new = 30,
	                    .timeout_est = 300,
	                    .timeout_closed = 10,
	                    .timeout_udp = 60,
	                    .timeout_icmp = 20,
	                    .on_end = end_with_stream,
	                    .stream = g_stream};
	om_flow_table *t = om_flow_table_new(&c);
	int dir;
	for (uint16_t i = 0; i < 10; i++) {
		om_packet p = pkt(IPPROTO_TCP, 1, (uint16_t)(100 + i), 2, 80, OM_TH_ACK, i * SEC);
		p.tcp_seq = 1000;
		p.payload = (const uint8_t *)"0123456789";
		p.payload_len = 10;
		om_flow *f = om_flow_get(t, &p, &dir);
		om_stream_packet(g_stream, f, &p, dir);
		/* an out-of-order segment held in each flow */
		p.tcp_seq = 1020;
		om_stream_packet(g_stream, f, &p, dir);
	}
	om_flow_table_flush(t, OM_FLOW_END_SHUTDOWN);
	assert_int_equal(g_delivered, 200);
	const om_stream_stats *m = om_stream_stats_get(g_stream);
	assert_int_equal(m->mem_segments, 0);
	assert_int_equal(m->mem_windows, 0);
	assert_int_equal(m->mem_in_use, m->mem_cache + m->mem_states);
	assert_int_equal(m->gaps, 10);
	om_flow_table_free(t);
	om_stream_free(g_stream);
}

/* ---- the stream owns the TCP state (findings 2 and 4) -------------------- */

struct trec {
	uint64_t delivered[2];
	int events;
	char ev[8][64];
};
static struct trec g_tr;
static void tr_data(void *u, om_flow *f, int dir, const uint8_t *d, uint32_t len, uint64_t off,
                    unsigned flags)
{
	(void)u, (void)f, (void)d, (void)off, (void)flags;
	g_tr.delivered[dir] += len;
}
static void tr_event(void *u, om_flow *f, const char *ev)
{
	(void)u, (void)f;
	if (g_tr.events < 8)
		snprintf(g_tr.ev[g_tr.events], sizeof(g_tr.ev[0]), "%s", ev);
	g_tr.events++;
}

struct wired {
	om_stream_ctx *s;
	om_flow_table *t;
	struct ends e;
};

/* A flow table and a stream wired as the engine wires them. */
static void wired_new(struct wired *w)
{
	memset(&g_tr, 0, sizeof(g_tr));
	memset(w, 0, sizeof(*w));
	om_stream_callbacks cb = {tr_data, NULL, tr_event, NULL, NULL};
	w->s = om_stream_new(0, 1 << 20, &cb);
	assert_non_null(w->s);
	om_flow_config c = {.max_flows = 16,
	                    .timeout_new = 30,
	                    .timeout_est = 300,
	                    .timeout_closed = 10,
	                    .timeout_udp = 60,
	                    .timeout_icmp = 20,
	                    .on_end = on_end,
	                    .user = &w->e,
	                    .stream = w->s};
	w->t = om_flow_table_new(&c);
	assert_non_null(w->t);
}

static void wired_free(struct wired *w)
{
	om_flow_table_flush(w->t, OM_FLOW_END_SHUTDOWN);
	om_flow_table_free(w->t);
	const om_stream_stats *m = om_stream_stats_get(w->s);
	assert_int_equal(m->mem_segments + m->mem_windows, 0);
	om_stream_free(w->s);
}

/* Both get and reassembly, as the engine's per-packet pipeline. */
static om_flow *wpkt(struct wired *w, om_packet p, const char *data)
{
	int dir;
	if (data) {
		p.payload = (const uint8_t *)data;
		p.payload_len = (uint32_t)strlen(data);
	}
	om_flow *f = om_flow_get(w->t, &p, &dir);
	assert_non_null(f);
	om_stream_packet(w->s, f, &p, dir);
	return f;
}

/* Client 1:40000 ISN 1000, server 2:80 ISN 5000; wscale offers (0xff none). */
static om_flow *connect3(struct wired *w, uint8_t cws, uint8_t sws, uint16_t cwin)
{
	om_packet p = tcpp(1, 40000, 2, 80, OM_TH_SYN, 1000, 0, SEC);
	p.tcp_wscale = cws;
	om_flow *f = wpkt(w, p, NULL);
	p = tcpp(2, 80, 1, 40000, OM_TH_SYN | OM_TH_ACK, 5000, 1001, SEC);
	p.tcp_wscale = sws;
	wpkt(w, p, NULL);
	p = tcpp(1, 40000, 2, 80, OM_TH_ACK, 1001, 5001, SEC);
	p.tcp_win = cwin;
	wpkt(w, p, NULL);
	assert_int_equal(f->tcp_state, OM_TCP_ESTABLISHED);
	return f;
}

/* Finding 2: a spoofed out-of-window RST and then a SYN with the attacker's
 * ISN used to end the flow and start a new one, so that the real
 * connection's later data never reached on_data. Now both are invalid
 * events and change nothing. */
static void test_spoofed_rst_and_syn(void **state)
{
	(void)state;
	struct wired w;
	wired_new(&w);
	om_flow *f = connect3(&w, 0xff, 0xff, 65535);
	wpkt(&w, tcpp(1, 40000, 2, 80, OM_TH_ACK | OM_TH_PUSH, 1001, 5001, SEC), "GET /a");
	assert_int_equal(g_tr.delivered[0], 6);

	/* the attacker, blind, as the server: an RST far from the window */
	wpkt(&w, tcpp(2, 80, 1, 40000, OM_TH_RST, 5001 + 0x10000000u, 0, SEC), NULL);
	assert_int_equal(f->tcp_state, OM_TCP_ESTABLISHED);
	assert_int_equal(f->state, OM_FLOW_ESTABLISHED);
	assert_int_equal(g_tr.events, 1);
	assert_string_equal(g_tr.ev[0], "stream.rst_invalid");
	/* then as the client: a SYN with its own ISN */
	assert_ptr_equal(wpkt(&w, tcpp(1, 40000, 2, 80, OM_TH_SYN, 777777, 0, SEC), NULL), f);
	assert_int_equal(w.e.n, 0); /* no port-reuse split */
	assert_int_equal(g_tr.events, 2);
	assert_string_equal(g_tr.ev[1], "stream.est_syn_resend_diff_seq");
	assert_int_equal(f->tcp_state, OM_TCP_ESTABLISHED);
	/* the real connection goes on and is still inspected */
	assert_ptr_equal(
	    wpkt(&w, tcpp(1, 40000, 2, 80, OM_TH_ACK | OM_TH_PUSH, 1007, 5001, SEC), "GET /b"), f);
	assert_int_equal(g_tr.delivered[0], 12);
	assert_int_equal(f->pkts[0], 5); /* SYN, ACK, data, the SYN, data */

	/* data acknowledging what the server never sent is not of this
	 * connection: ignored, not reassembled */
	wpkt(&w, tcpp(1, 40000, 2, 80, OM_TH_ACK | OM_TH_PUSH, 1013, 5001 + 70000, SEC),
	     "INJECTED");
	assert_int_equal(g_tr.delivered[0], 12);
	assert_string_equal(g_tr.ev[2], "stream.pkt_invalid_ack");
	g_tr.events--; /* keep the numbering below */
	/* data far beyond the server's window: not accepted, not held */
	wpkt(&w, tcpp(1, 40000, 2, 80, OM_TH_ACK | OM_TH_PUSH, 1013 + 200000, 5001, SEC), "AHEAD");
	assert_string_equal(g_tr.ev[2], "stream.est_packet_out_of_window");
	assert_int_equal(om_stream_stats_get(w.s)->mem_segments, 0);
	g_tr.events--;
	/* an RST with an acknowledgement of data never sent is invalid too */
	wpkt(&w, tcpp(2, 80, 1, 40000, OM_TH_RST | OM_TH_ACK, 5001, 1013 + 50000, SEC), NULL);
	assert_string_equal(g_tr.ev[2], "stream.rst_invalid_ack");
	assert_int_equal(f->tcp_state, OM_TCP_ESTABLISHED);
	/* a FIN beyond the window is ignored */
	wpkt(&w, tcpp(1, 40000, 2, 80, OM_TH_FIN | OM_TH_ACK, 1013 + 0x01000000u, 5001, SEC), NULL);
	assert_string_equal(g_tr.ev[3], "stream.fin_out_of_window");
	assert_int_equal(f->tcp_state, OM_TCP_ESTABLISHED);
	/* the real RST, in the window, ends it */
	wpkt(&w, tcpp(2, 80, 1, 40000, OM_TH_RST | OM_TH_ACK, 5001, 1013, SEC), NULL);
	assert_int_equal(f->tcp_state, OM_TCP_RESET);
	assert_int_equal(f->state, OM_FLOW_CLOSED);
	assert_int_equal(g_tr.events, 4);
	wired_free(&w);
}

/* The window an RST is checked against is scaled only when both sides
 * offered window scaling in the handshake. */
static void test_rst_window_scaling(void **state)
{
	(void)state;
	for (int both = 0; both < 2; both++) {
		struct wired w;
		wired_new(&w);
		/* the client offers 7 always, the server only when both */
		om_flow *f = connect3(&w, 7, both ? 7 : 0xff, 1000);
		/* 1000 << 7 = 128000 bytes of window when scaled; 1000 (the
		 * 65535 floor) when not: an RST 100000 past the edge */
		wpkt(&w, tcpp(2, 80, 1, 40000, OM_TH_RST, 5001 + 100000, 0, SEC), NULL);
		if (both) {
			assert_int_equal(f->tcp_state, OM_TCP_RESET);
			assert_int_equal(g_tr.events, 0);
		} else {
			assert_int_equal(f->tcp_state, OM_TCP_ESTABLISHED);
			assert_string_equal(g_tr.ev[0], "stream.rst_invalid");
		}
		wired_free(&w);
	}
}

/* Finding 4: SYN+FIN is not a SYN (an unanswered probe stays a new flow with
 * the short timeout); NULL and FIN probes start no session; FIN+SYN+URG
 * after an RST is not port reuse. */
static void test_probes(void **state)
{
	(void)state;
	struct wired w;
	wired_new(&w);
	om_flow *sf = wpkt(&w, tcpp(1, 50000, 2, 7001, OM_TH_SYN | OM_TH_FIN, 1, 0, SEC), NULL);
	assert_int_equal(sf->tcp_state, OM_TCP_NONE);
	assert_int_equal(sf->state, OM_FLOW_NEW);
	om_flow *nf = wpkt(&w, tcpp(1, 50001, 2, 7002, 0, 1, 0, SEC), NULL);
	assert_int_equal(nf->tcp_state, OM_TCP_NONE);
	om_flow *ff = wpkt(&w, tcpp(1, 50002, 2, 7003, OM_TH_FIN, 1, 0, SEC), NULL);
	assert_int_equal(ff->tcp_state, OM_TCP_NONE);
	assert_int_equal(ff->state, OM_FLOW_NEW);
	assert_int_equal(g_tr.events, 0);
	/* all three end at the new-flow timeout (30 s), not the 300 s of an
	 * established one */
	om_flow_table_expire(w.t, 31 * SEC);
	assert_int_equal(w.e.n, 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(w.e.e[i].why, OM_FLOW_END_TIMEOUT);
		assert_int_equal(w.e.e[i].state, OM_FLOW_NEW);
	}

	/* a connection reset, then FIN+SYN+URG with a new ISN */
	w.e.n = 0;
	om_packet p = tcpp(1, 40000, 2, 80, OM_TH_SYN, 1000, 0, 40 * SEC);
	om_flow *f = wpkt(&w, p, NULL);
	wpkt(&w, tcpp(2, 80, 1, 40000, OM_TH_RST | OM_TH_ACK, 0, 1001, 40 * SEC), NULL);
	assert_int_equal(f->tcp_state, OM_TCP_RESET);
	om_flow *g =
	    wpkt(&w, tcpp(1, 40000, 2, 80, OM_TH_FIN | OM_TH_SYN | OM_TH_URG, 424242, 0, 40 * SEC),
	         NULL);
	assert_ptr_equal(g, f);
	assert_int_equal(w.e.n, 0);
	assert_int_equal(f->tcp_state, OM_TCP_RESET);
	assert_string_equal(g_tr.ev[0], "stream.fin_syn");
	/* a plain SYN with a new ISN is port reuse */
	g = wpkt(&w, tcpp(1, 40000, 2, 80, OM_TH_SYN, 424242, 0, 40 * SEC), NULL);
	assert_int_equal(w.e.n, 1);
	assert_int_equal(w.e.e[0].why, OM_FLOW_END_FORCED);
	assert_int_equal(g->tcp_state, OM_TCP_SYN_SENT);
	wired_free(&w);
}

/* SYN-time events on an established connection: each is ignored. */
static void test_late_syns(void **state)
{
	(void)state;
	struct wired w;
	wired_new(&w);
	om_flow *f = connect3(&w, 0xff, 0xff, 65535);
	wpkt(&w, tcpp(1, 40000, 2, 80, OM_TH_SYN, 1000, 0, SEC), NULL);
	wpkt(&w, tcpp(2, 80, 1, 40000, OM_TH_SYN | OM_TH_ACK, 5000, 1001, SEC), NULL);
	wpkt(&w, tcpp(2, 80, 1, 40000, OM_TH_SYN | OM_TH_ACK, 9999, 1001, SEC), NULL);
	wpkt(&w, tcpp(1, 40000, 2, 80, OM_TH_SYN | OM_TH_ACK, 3, 5001, SEC), NULL);
	wpkt(&w, tcpp(2, 80, 1, 40000, OM_TH_SYN, 3, 0, SEC), NULL);
	assert_int_equal(g_tr.events, 5);
	assert_string_equal(g_tr.ev[0], "stream.est_syn_resend");
	assert_string_equal(g_tr.ev[1], "stream.est_synack_resend");
	assert_string_equal(g_tr.ev[2], "stream.est_synack_resend_with_diff_seq");
	assert_string_equal(g_tr.ev[3], "stream.est_synack_toserver");
	assert_string_equal(g_tr.ev[4], "stream.est_syn_toclient");
	assert_int_equal(f->tcp_state, OM_TCP_ESTABLISHED);
	assert_int_equal(w.e.n, 0);
	/* a four-way handshake: the server answers with its own SYN, the
	 * client with a SYN/ACK */
	om_flow *q = wpkt(&w, tcpp(1, 40002, 2, 80, OM_TH_SYN, 1000, 0, SEC), NULL);
	wpkt(&w, tcpp(2, 80, 1, 40002, OM_TH_SYN, 5000, 0, SEC), NULL);
	assert_int_equal(q->tcp_state, OM_TCP_SYN_SENT);
	wpkt(&w, tcpp(1, 40002, 2, 80, OM_TH_SYN | OM_TH_ACK, 1000, 5001, SEC), NULL);
	assert_int_equal(q->tcp_state, OM_TCP_SYN_RECV);
	wpkt(&w, tcpp(2, 80, 1, 40002, OM_TH_ACK, 5001, 1001, SEC), NULL);
	assert_int_equal(q->tcp_state, OM_TCP_ESTABLISHED);
	assert_int_equal(g_tr.events, 5);
	/* a SYN/ACK that does not acknowledge the SYN is ignored */
	om_flow *h = wpkt(&w, tcpp(1, 40001, 2, 80, OM_TH_SYN, 1000, 0, SEC), NULL);
	wpkt(&w, tcpp(2, 80, 1, 40001, OM_TH_SYN | OM_TH_ACK, 5000, 77, SEC), NULL);
	assert_int_equal(h->tcp_state, OM_TCP_SYN_SENT);
	assert_string_equal(g_tr.ev[5], "stream.3whs_synack_with_wrong_ack");
	wired_free(&w);
}

/* A flow that times out ends its open directions with "timeout". */
static int g_end_why[2] = {-1, -1};
static void tr_end(void *u, om_flow *f, int dir, enum om_stream_end why)
{
	(void)u, (void)f;
	g_end_why[dir] = (int)why;
}

static void test_stream_end_reason(void **state)
{
	(void)state;
	om_stream_callbacks cb = {NULL, NULL, NULL, NULL, tr_end};
	om_stream_ctx *s = om_stream_new(0, 1 << 20, &cb);
	struct ends e = {0};
	om_flow_config c = {.max_flows = 4,
	                    .timeout_new = 30,
	                    .timeout_est = 300,
	                    .timeout_closed = 10,
	                    .timeout_udp = 60,
	                    .timeout_icmp = 20,
	                    .on_end = on_end,
	                    .user = &e,
	                    .stream = s};
	om_flow_table *t = om_flow_table_new(&c);
	int dir;
	om_packet p = tcpp(1, 40000, 2, 80, OM_TH_SYN, 1000, 0, SEC);
	om_flow *f = om_flow_get(t, &p, &dir);
	om_stream_packet(s, f, &p, dir);
	om_flow_table_expire(t, 40 * SEC);
	assert_int_equal(e.n, 1);
	assert_int_equal(g_end_why[0], OM_STREAM_END_TIMEOUT);
	assert_int_equal(g_end_why[1], OM_STREAM_END_TIMEOUT);
	assert_int_equal(om_stream_end_of(OM_FLOW_END_EVICTED), OM_STREAM_END_EVICTED);
	assert_int_equal(om_stream_end_of(OM_FLOW_END_SHUTDOWN), OM_STREAM_END_FLOW);
	assert_string_equal(om_stream_end_name(OM_STREAM_END_TIMEOUT), "timeout");
	om_flow_table_free(t);
	om_stream_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_direction),
	    cmocka_unit_test(test_answer_first),
	    cmocka_unit_test(test_icmp_id),
	    cmocka_unit_test(test_vlan),
	    cmocka_unit_test(test_tunnel_layer),
	    cmocka_unit_test(test_tcp_states),
	    cmocka_unit_test(test_timeouts),
	    cmocka_unit_test(test_expiry_across_states),
	    cmocka_unit_test(test_timeout_at_lookup),
	    cmocka_unit_test(test_expiry_order),
	    cmocka_unit_test(test_eviction),
	    cmocka_unit_test(test_tiny_table),
	    cmocka_unit_test(test_flush),
	    cmocka_unit_test(test_flow_id_stable),
	    cmocka_unit_test(test_hash_symmetric),
	    cmocka_unit_test(test_names_and_config),
	    cmocka_unit_test(test_with_stream),
	    cmocka_unit_test(test_collision_flood),
	    cmocka_unit_test(test_chain_cap),
	    cmocka_unit_test(test_prefetch_hint),
	    cmocka_unit_test(test_syn_flood_spares_established),
	    cmocka_unit_test(test_emergency_mode),
	    cmocka_unit_test(test_handles),
	    cmocka_unit_test(test_spoofed_rst_and_syn),
	    cmocka_unit_test(test_rst_window_scaling),
	    cmocka_unit_test(test_probes),
	    cmocka_unit_test(test_late_syns),
	    cmocka_unit_test(test_stream_end_reason),
	};
	return cmocka_run_group_tests(tests, NULL, teardown_stream);
}
