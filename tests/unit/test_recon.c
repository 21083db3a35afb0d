/* Unit tests for scan detection (src/guard/recon.c). Packets are built by
 * hand; every expected value is derived from what the test feeds. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guard/guard.h"

#define SEC 1000000ull
#define T0 (1700000000ull * SEC)
#define AT(s) (T0 + (om_usec)(s) * SEC)
#define MAX_ALERTS 64

typedef struct sink {
	om_recon_alert a[MAX_ALERTS];
	unsigned n;
	unsigned total;
} sink;

static void collect(void *user, const om_recon_alert *a)
{
	sink *k = user;
	if (k->n < MAX_ALERTS)
		k->a[k->n++] = *a;
	k->total++;
}

static om_guard_config cfg;
static om_base_config base;
static sink out;

static void addr(const char *s, om_addr *a)
{
	assert_int_equal(om_addr_parse(s, a), 0);
}

static void addr_v4(uint32_t host, om_addr *a)
{
	uint8_t b[4] = { (uint8_t)(host >> 24), (uint8_t)(host >> 16), (uint8_t)(host >> 8),
	                 (uint8_t)host };
	om_addr_from_v4(a, b);
}

static int setup(void **state)
{
	(void)state;
	om_config_part parts[] = {{&om_base_config_schema, &base}, {&om_guard_config_schema, &cfg}};
	om_config_defaults(parts, 2);
	base.home_net.count = 1;
	assert_int_equal(om_cidr_parse("192.168.1.0/24", &base.home_net.net[0]), 0);
	cfg.recon_window = 60;
	cfg.recon_vertical_ports = 20;
	cfg.recon_horizontal_hosts = 20;
	cfg.recon_sweep_hosts = 10;
	cfg.recon_max_sources = 65536;
	memset(&out, 0, sizeof(out));
	return 0;
}

static om_packet tcp(om_usec ts, const om_addr *src, const om_addr *dst, uint16_t dport,
                     uint8_t flags)
{
	om_packet p;
	memset(&p, 0, sizeof(p));
	p.ts = ts;
	p.flags = (om_addr_is_v4(src) ? OM_PKT_IPV4 : OM_PKT_IPV6) | OM_PKT_TCP | OM_PKT_HAS_PORTS;
	p.ip_ver = om_addr_is_v4(src) ? 4 : 6;
	p.proto = IPPROTO_TCP;
	p.src = *src;
	p.dst = *dst;
	p.sport = 40000;
	p.dport = dport;
	p.tcp_flags = flags;
	return p;
}

static om_packet udp(om_usec ts, const om_addr *src, const om_addr *dst, uint16_t dport)
{
	om_packet p = tcp(ts, src, dst, dport, 0);
	p.flags = (p.flags & ~OM_PKT_TCP) | OM_PKT_UDP;
	p.proto = IPPROTO_UDP;
	return p;
}

static om_packet icmp(om_usec ts, const om_addr *src, const om_addr *dst, uint8_t type)
{
	om_packet p;
	memset(&p, 0, sizeof(p));
	p.ts = ts;
	bool v4 = om_addr_is_v4(src);
	p.flags = (v4 ? OM_PKT_IPV4 : OM_PKT_IPV6) | OM_PKT_ICMP;
	p.ip_ver = v4 ? 4 : 6;
	p.proto = v4 ? IPPROTO_ICMP : IPPROTO_ICMPV6;
	p.src = *src;
	p.dst = *dst;
	p.icmp_type = type;
	return p;
}

static void feed(om_recon *r, om_packet p)
{
	om_recon_packet(r, &p);
}

static om_recon *new_recon(void)
{
	om_recon *r = om_recon_new(&cfg, &base, 60, collect, &out);
	assert_non_null(r);
	return r;
}

/* ---- cases -------------------------------------------------------------- */

static void test_kind_names(void **state)
{
	(void)state;
	assert_string_equal(om_recon_kind_name(OM_RECON_VERTICAL), "portscan.vertical");
	assert_string_equal(om_recon_kind_name(OM_RECON_HORIZONTAL), "portscan.horizontal");
	assert_string_equal(om_recon_kind_name(OM_RECON_SWEEP), "pingsweep");
}

/* 25 ports on one host, one a second, fed in descending order. */
static void test_vertical(void **state)
{
	(void)state;
	om_addr s, d;
	addr("203.0.113.5", &s);
	addr("192.168.1.10", &d);
	om_recon *r = new_recon();
	for (int i = 0; i < 25; i++)
		feed(r, tcp(AT(i), &s, &d, (uint16_t)(2000 - 10 * i), OM_TH_SYN));
	assert_int_equal(out.n, 0); /* the alert comes when the episode closes */
	/* last probe at 24 s: quiet for a whole window only after 84 s */
	om_recon_expire(r, AT(84));
	assert_int_equal(out.n, 0);
	om_recon_expire(r, AT(84) + 1);
	assert_int_equal(out.n, 1);
	om_recon_flush(r);
	assert_int_equal(out.n, 1);

	const om_recon_alert *a = &out.a[0];
	assert_int_equal(a->kind, OM_RECON_VERTICAL);
	assert_memory_equal(&a->src, &s, sizeof(s));
	assert_memory_equal(&a->target_host, &d, sizeof(d));
	assert_int_equal(a->first_seen, AT(0));
	assert_int_equal(a->last_seen, AT(24));
	assert_int_equal(a->packets, 25);
	assert_int_equal(a->port_count, 25);
	assert_int_equal(a->host_count, 1);
	assert_int_equal(a->nhosts, 1);
	assert_memory_equal(&a->hosts[0], &d, sizeof(d));
	assert_int_equal(a->proto, IPPROTO_TCP);
	assert_false(a->host_count_capped);
	assert_int_equal(a->nports, 25);
	for (int i = 0; i < 25; i++)
		assert_int_equal(a->ports[i], 1760 + 10 * i); /* ascending */

	const om_recon_stats *st = om_recon_stats_get(r);
	assert_int_equal(st->probes, 25);
	assert_int_equal(st->alerts, 1);
	assert_int_equal(st->sources, 0); /* expired with its episode */
	assert_int_equal(st->sources_max, 1);
	om_recon_free(r);
}

static void test_below_threshold(void **state)
{
	(void)state;
	om_addr s, d;
	addr("203.0.113.5", &s);
	addr("192.168.1.10", &d);
	om_recon *r = new_recon();
	for (int i = 0; i < 19; i++)
		feed(r, tcp(AT(i), &s, &d, (uint16_t)(100 + i), OM_TH_SYN));
	om_recon_flush(r);
	assert_int_equal(out.n, 0);
	assert_int_equal(om_recon_stats_get(r)->probes, 19);
	om_recon_free(r);
}

static void test_not_probes(void **state)
{
	(void)state;
	om_addr s, d;
	addr("203.0.113.5", &s);
	addr("192.168.1.10", &d);
	om_recon *r = new_recon();
	const uint8_t flags[] = { OM_TH_SYN | OM_TH_ACK, OM_TH_ACK, OM_TH_RST,
	                          OM_TH_FIN | OM_TH_ACK, OM_TH_RST | OM_TH_ACK, 0 };
	for (unsigned f = 0; f < OM_ARRAY_SIZE(flags); f++)
		for (int i = 0; i < 30; i++)
			feed(r, tcp(AT(i), &s, &d, (uint16_t)(1 + i), flags[f]));
	/* echo replies, unreachables: not probes */
	for (int i = 0; i < 30; i++) {
		om_addr h;
		addr_v4(0xC0A80100u + (uint32_t)i, &h);
		feed(r, icmp(AT(i), &s, &h, 0));
		feed(r, icmp(AT(i), &s, &h, 3));
	}
	/* malformed or partial: TCP without ports, a held fragment, an ICMPv4
	 * echo request type carried as ICMPv6, a packet without an IP layer */
	for (int i = 0; i < 30; i++) {
		om_packet p = tcp(AT(40), &s, &d, (uint16_t)(500 + i), OM_TH_SYN);
		p.flags &= ~OM_PKT_HAS_PORTS;
		feed(r, p);
		p = tcp(AT(40), &s, &d, (uint16_t)(600 + i), OM_TH_SYN);
		p.flags |= OM_PKT_FRAGMENT;
		feed(r, p);
		om_addr h;
		addr_v4(0xC0A80100u + (uint32_t)i, &h);
		p = icmp(AT(40), &s, &h, 8);
		p.proto = IPPROTO_ICMPV6;
		feed(r, p);
		p = tcp(AT(40), &s, &d, (uint16_t)(700 + i), OM_TH_SYN);
		p.flags = OM_PKT_ARP;
		feed(r, p);
	}
	om_recon_packet(r, NULL);
	om_recon_packet(NULL, NULL);
	om_recon_expire(NULL, 0);
	om_recon_flush(NULL);
	assert_null(om_recon_free(NULL));
	om_recon_flush(r);
	assert_int_equal(out.n, 0);
	assert_int_equal(om_recon_stats_get(r)->probes, 0);
	assert_int_equal(om_recon_stats_get(r)->sources_max, 0);
	om_recon_free(r);
}

static void test_internal_source(void **state)
{
	(void)state;
	om_addr s, d;
	addr("192.168.1.77", &s);
	addr("198.51.100.1", &d);
	om_recon *r = new_recon();
	for (int i = 0; i < 40; i++)
		feed(r, tcp(AT(i), &s, &d, (uint16_t)(1 + i), OM_TH_SYN));
	for (int i = 0; i < 40; i++) {
		om_addr h;
		addr_v4(0xC6336400u + (uint32_t)i, &h); /* 198.51.100.i */
		feed(r, icmp(AT(50), &s, &h, 8));
	}
	om_recon_flush(r);
	assert_int_equal(out.n, 0);
	assert_int_equal(om_recon_stats_get(r)->probes, 0);
	assert_int_equal(om_recon_stats_get(r)->sources_max, 0);
	om_recon_free(r);
}

/* 25 hosts on TCP 445, one every half second. */
static void test_horizontal(void **state)
{
	(void)state;
	om_addr s;
	addr("198.51.100.200", &s);
	om_recon *r = new_recon();
	for (int i = 0; i < 25; i++) {
		om_addr h;
		addr_v4(0xC0A80101u + (uint32_t)i, &h); /* 192.168.1.1 + i */
		feed(r, tcp(AT(0) + (om_usec)i * 500000u, &s, &h, 445, OM_TH_SYN));
	}
	om_recon_flush(r);
	assert_int_equal(out.n, 1);
	const om_recon_alert *a = &out.a[0];
	assert_int_equal(a->kind, OM_RECON_HORIZONTAL);
	assert_memory_equal(&a->src, &s, sizeof(s));
	assert_int_equal(a->target_port, 445);
	assert_int_equal(a->host_count, 25);
	assert_int_equal(a->port_count, 1);
	assert_int_equal(a->nports, 1);
	assert_int_equal(a->ports[0], 445);
	assert_int_equal(a->packets, 25);
	assert_int_equal(a->first_seen, AT(0));
	assert_int_equal(a->last_seen, AT(12)); /* 24 * 0.5 s */
	assert_int_equal(a->nhosts, 25);
	for (int i = 0; i < 25; i++) {
		om_addr h;
		addr_v4(0xC0A80101u + (uint32_t)i, &h);
		assert_memory_equal(&a->hosts[i], &h, sizeof(h)); /* in the order touched */
	}
	assert_int_equal(a->proto, IPPROTO_TCP);
	om_recon_free(r);
}

/* UDP counts too; a horizontal scan of 1000 hosts goes past the exact host
 * limit of an episode (384, docs/guard.md) and says so. */
static void test_horizontal_udp_many_hosts(void **state)
{
	(void)state;
	om_addr s;
	addr("198.51.100.201", &s);
	om_recon *r = new_recon();
	for (uint32_t i = 0; i < 1000; i++) {
		om_addr h;
		addr_v4(0x0A000000u + i, &h); /* 10.0.0.0 + i */
		feed(r, udp(AT(0) + i * 10000u, &s, &h, 161));
	}
	om_recon_flush(r);
	assert_int_equal(out.n, 1);
	const om_recon_alert *a = &out.a[0];
	assert_int_equal(a->kind, OM_RECON_HORIZONTAL);
	assert_int_equal(a->target_port, 161);
	assert_int_equal(a->proto, IPPROTO_UDP);
	assert_int_equal(a->packets, 1000);
	assert_int_equal(a->host_count, 384);
	assert_true(a->host_count_capped);
	assert_int_equal(a->nhosts, OM_RECON_LIST_MAX);
	assert_int_equal(a->last_seen, AT(0) + 999 * 10000u);
	om_recon_free(r);
}

static void test_sweep_v4(void **state)
{
	(void)state;
	om_addr s;
	addr("203.0.113.66", &s);
	om_recon *r = new_recon();
	for (int i = 0; i < 12; i++) {
		om_addr h;
		addr_v4(0xC0A80101u + (uint32_t)i, &h);
		feed(r, icmp(AT(i * 2), &s, &h, 8));
		feed(r, icmp(AT(i * 2), &s, &h, 0)); /* a reply in the wrong direction */
	}
	om_recon_flush(r);
	assert_int_equal(out.n, 1);
	const om_recon_alert *a = &out.a[0];
	assert_int_equal(a->kind, OM_RECON_SWEEP);
	assert_int_equal(a->host_count, 12);
	assert_int_equal(a->port_count, 0);
	assert_int_equal(a->nports, 0);
	assert_int_equal(a->packets, 12);
	assert_int_equal(a->first_seen, AT(0));
	assert_int_equal(a->last_seen, AT(22));
	assert_int_equal(a->proto, IPPROTO_ICMP);
	assert_int_equal(a->nhosts, 12);
	om_recon_free(r);
}

static void test_sweep_v6(void **state)
{
	(void)state;
	om_addr s;
	addr("2001:db8:bad::1", &s);
	om_recon *r = new_recon();
	for (int i = 0; i < 15; i++) {
		char buf[64];
		om_addr h;
		snprintf(buf, sizeof(buf), "2001:db8:1::%x", i + 1);
		addr(buf, &h);
		feed(r, icmp(AT(i), &s, &h, 128));
		feed(r, icmp(AT(i), &s, &h, 129)); /* echo reply: not a probe */
	}
	/* 9 distinct hosts from another source: below the threshold of 10 */
	om_addr s2;
	addr("2001:db8:bad::2", &s2);
	for (int i = 0; i < 9; i++) {
		char buf[64];
		om_addr h;
		snprintf(buf, sizeof(buf), "2001:db8:1::%x", i + 1);
		addr(buf, &h);
		feed(r, icmp(AT(20), &s2, &h, 128));
		feed(r, icmp(AT(21), &s2, &h, 128));
	}
	om_recon_flush(r);
	assert_int_equal(out.n, 1);
	const om_recon_alert *a = &out.a[0];
	assert_int_equal(a->kind, OM_RECON_SWEEP);
	assert_memory_equal(&a->src, &s, sizeof(s));
	assert_int_equal(a->host_count, 15);
	assert_int_equal(a->packets, 15);
	assert_int_equal(a->first_seen, AT(0));
	assert_int_equal(a->last_seen, AT(14));
	assert_int_equal(a->proto, IPPROTO_ICMPV6);
	assert_int_equal(om_recon_stats_get(r)->probes, 15 + 18);
	om_recon_free(r);
}

static void test_two_episodes(void **state)
{
	(void)state;
	om_addr s, d;
	addr("203.0.113.5", &s);
	addr("192.168.1.10", &d);
	om_recon *r = new_recon();
	for (int i = 0; i < 25; i++)
		feed(r, tcp(AT(i), &s, &d, (uint16_t)(1 + i), OM_TH_SYN));
	/* quiet from 24 s to 200 s: the first probe of the second burst closes
	 * the first episode on the way in */
	feed(r, tcp(AT(200), &s, &d, 1, OM_TH_SYN));
	assert_int_equal(out.n, 1);
	for (int i = 1; i < 30; i++)
		feed(r, tcp(AT(200 + i), &s, &d, (uint16_t)(1 + i), OM_TH_SYN));
	om_recon_flush(r);
	assert_int_equal(out.n, 2);
	assert_int_equal(out.a[0].port_count, 25);
	assert_int_equal(out.a[0].first_seen, AT(0));
	assert_int_equal(out.a[0].last_seen, AT(24));
	assert_int_equal(out.a[1].port_count, 30);
	assert_int_equal(out.a[1].packets, 30);
	assert_int_equal(out.a[1].first_seen, AT(200));
	assert_int_equal(out.a[1].last_seen, AT(229));
	om_recon_free(r);
}

/* 40 ports, one every 10 s: at most 7 probes are ever inside a 60 s window. */
static void test_slow_scan(void **state)
{
	(void)state;
	om_addr s, d;
	addr("203.0.113.5", &s);
	addr("192.168.1.10", &d);
	om_recon *r = new_recon();
	for (int i = 0; i < 40; i++) {
		feed(r, tcp(AT(i * 10), &s, &d, (uint16_t)(1 + i), OM_TH_SYN));
		om_recon_expire(r, AT(i * 10 + 5));
	}
	om_recon_flush(r);
	assert_int_equal(out.n, 0);
	assert_int_equal(om_recon_stats_get(r)->probes, 40);
	om_recon_free(r);
}

/* 20 ports 3 s apart: 57 s from first to last, all inside the window. */
static void test_scan_at_window_edge(void **state)
{
	(void)state;
	om_addr s, d;
	addr("203.0.113.5", &s);
	addr("192.168.1.10", &d);
	om_recon *r = new_recon();
	for (int i = 0; i < 20; i++)
		feed(r, tcp(AT(i * 3), &s, &d, (uint16_t)(1 + i), OM_TH_SYN));
	om_recon_flush(r);
	assert_int_equal(out.n, 1);
	assert_int_equal(out.a[0].port_count, 20);
	assert_int_equal(out.a[0].last_seen, AT(57));
	om_recon_free(r);
}

/* Three sources interleaved: A vertical, B horizontal, C too few. Two more
 * sources with the same timestamps check the address tie-break. */
static void run_interleaved(sink *k)
{
	om_addr a, b, c, x, t9, t3;
	addr("203.0.113.10", &a);
	addr("203.0.113.11", &b);
	addr("203.0.113.12", &c);
	addr("192.168.1.10", &x);
	addr("198.51.100.9", &t9);
	addr("198.51.100.3", &t3);
	memset(k, 0, sizeof(*k));
	om_recon *r = om_recon_new(&cfg, &base, 60, collect, k);
	assert_non_null(r);
	for (int i = 0; i < 25; i++) {
		feed(r, tcp(AT(i), &a, &x, (uint16_t)(8000 + i), OM_TH_SYN));
		if (i < 5)
			feed(r, udp(AT(i) + SEC / 4, &c, &x, (uint16_t)(53 + i)));
		if (i < 22) {
			om_addr h;
			addr_v4(0xC0A80101u + (uint32_t)i, &h);
			feed(r, tcp(AT(i) + SEC / 2, &b, &h, 22, OM_TH_SYN));
		}
	}
	for (int i = 0; i < 10; i++) {
		om_addr h;
		addr_v4(0xC0A80101u + (uint32_t)i, &h);
		feed(r, icmp(AT(30), &t9, &h, 8));
		feed(r, icmp(AT(30), &t3, &h, 8));
	}
	om_recon_flush(r);
	om_recon_free(r);
}

static void test_interleaved(void **state)
{
	(void)state;
	sink k1, k2;
	run_interleaved(&k1);
	assert_int_equal(k1.n, 4);
	/* order of last_seen: B (21.5 s), A (24 s), then the two sweeps at 30 s
	 * ordered by address */
	om_addr a, b, t9, t3;
	addr("203.0.113.10", &a);
	addr("203.0.113.11", &b);
	addr("198.51.100.9", &t9);
	addr("198.51.100.3", &t3);
	assert_int_equal(k1.a[0].kind, OM_RECON_HORIZONTAL);
	assert_memory_equal(&k1.a[0].src, &b, sizeof(b));
	assert_int_equal(k1.a[0].host_count, 22);
	assert_int_equal(k1.a[0].last_seen, AT(21) + SEC / 2);
	assert_int_equal(k1.a[1].kind, OM_RECON_VERTICAL);
	assert_memory_equal(&k1.a[1].src, &a, sizeof(a));
	assert_int_equal(k1.a[1].port_count, 25);
	assert_int_equal(k1.a[1].ports[0], 8000);
	assert_int_equal(k1.a[1].ports[24], 8024);
	assert_int_equal(k1.a[2].kind, OM_RECON_SWEEP);
	assert_memory_equal(&k1.a[2].src, &t3, sizeof(t3));
	assert_int_equal(k1.a[3].kind, OM_RECON_SWEEP);
	assert_memory_equal(&k1.a[3].src, &t9, sizeof(t9));
	assert_int_equal(k1.a[3].host_count, 10);

	/* same input, same alerts in the same order */
	run_interleaved(&k2);
	assert_int_equal(k2.n, k1.n);
	for (unsigned i = 0; i < k1.n; i++) {
		assert_int_equal(k2.a[i].kind, k1.a[i].kind);
		assert_memory_equal(&k2.a[i].src, &k1.a[i].src, sizeof(om_addr));
		assert_int_equal(k2.a[i].first_seen, k1.a[i].first_seen);
		assert_int_equal(k2.a[i].last_seen, k1.a[i].last_seen);
		assert_int_equal(k2.a[i].packets, k1.a[i].packets);
		assert_int_equal(k2.a[i].port_count, k1.a[i].port_count);
		assert_int_equal(k2.a[i].host_count, k1.a[i].host_count);
		assert_memory_equal(k2.a[i].hosts, k1.a[i].hosts, k1.a[i].nhosts * sizeof(om_addr));
	}
}

/* A source in a vertical and a horizontal episode at once: 25 hosts x 25
 * ports, host-major. */
static void test_vertical_and_horizontal(void **state)
{
	(void)state;
	om_addr s;
	addr("203.0.113.99", &s);
	om_recon *r = new_recon();
	/* 5 hosts x 25 ports, then port 25 on 20 more hosts */
	for (uint32_t h = 0; h < 5; h++)
		for (uint32_t p = 1; p <= 25; p++) {
			om_addr d;
			addr_v4(0xC0A80101u + h, &d);
			feed(r, tcp(AT(0) + (h * 25 + p) * 1000u, &s, &d, (uint16_t)p, OM_TH_SYN));
		}
	for (uint32_t h = 5; h < 25; h++) {
		om_addr d;
		addr_v4(0xC0A80101u + h, &d);
		feed(r, tcp(AT(1) + h * 1000u, &s, &d, 25, OM_TH_SYN));
	}
	om_recon_flush(r);
	assert_int_equal(out.n, 2);
	/* both close at flush with the same last_seen: kind order */
	assert_int_equal(out.a[0].kind, OM_RECON_VERTICAL);
	assert_int_equal(out.a[1].kind, OM_RECON_HORIZONTAL);
	assert_int_equal(out.a[1].target_port, 25);
	/* vertical: opens at the 20th port of the first host, seeded with those
	 * 20 probes, then every later port probe extends it: 145 in all */
	assert_int_equal(out.a[0].packets, 145);
	assert_int_equal(out.a[0].port_count, 25);
	assert_int_equal(out.a[0].host_count, 25);
	assert_int_equal(out.a[0].first_seen, AT(0) + 1000u);
	/* horizontal: opens at the 20th host on port 25 (host 19). By then 140
	 * distinct (host, port) records were made and the window keeps 128 per
	 * source, so ports 1..12 of the first host are forgotten: the episode is
	 * seeded with 128 probes from port 13 of the first host on, then 5 more */
	assert_int_equal(out.a[1].packets, 133);
	assert_int_equal(out.a[1].host_count, 25);
	assert_int_equal(out.a[1].port_count, 25);
	assert_int_equal(out.a[1].first_seen, AT(0) + 13000u);
	assert_int_equal(out.a[0].last_seen, AT(1) + 24000u);
	assert_int_equal(out.a[1].last_seen, AT(1) + 24000u);
	om_recon_free(r);
}

static void test_source_cap_eviction(void **state)
{
	(void)state;
	cfg.recon_max_sources = 4;
	om_addr s, d;
	addr("203.0.113.5", &s);
	addr("192.168.1.10", &d);
	om_recon *r = new_recon();
	for (int i = 0; i < 25; i++)
		feed(r, tcp(AT(i), &s, &d, (uint16_t)(1 + i), OM_TH_SYN));
	for (uint32_t k = 0; k < 3; k++) {
		om_addr o;
		addr_v4(0xCB007164u + k, &o); /* 203.0.113.100 + k */
		feed(r, tcp(AT(25 + k), &o, &d, 80, OM_TH_SYN));
	}
	assert_int_equal(out.n, 0);
	assert_int_equal(om_recon_stats_get(r)->source_evictions, 0);
	/* a fifth source: the least recently seen (the scanner) goes, and its
	 * open episode is reported at once */
	om_addr o;
	addr_v4(0xCB007170u, &o);
	feed(r, tcp(AT(30), &o, &d, 80, OM_TH_SYN));
	assert_int_equal(out.n, 1);
	assert_memory_equal(&out.a[0].src, &s, sizeof(s));
	assert_int_equal(out.a[0].port_count, 25);
	/* six more new sources: six more evictions, nothing to report */
	for (uint32_t k = 0; k < 6; k++) {
		addr_v4(0xCB0071C8u + k, &o);
		feed(r, tcp(AT(31), &o, &d, 80, OM_TH_SYN));
	}
	const om_recon_stats *st = om_recon_stats_get(r);
	assert_int_equal(st->source_evictions, 7);
	assert_int_equal(st->sources, 4);
	assert_int_equal(st->sources_max, 4);
	om_recon_flush(r);
	assert_int_equal(out.n, 1);
	assert_int_equal(st->sources, 0);
	om_recon_free(r);
}

static void test_repeated_probe(void **state)
{
	(void)state;
	om_addr s, d;
	addr("203.0.113.5", &s);
	addr("192.168.1.10", &d);
	om_recon *r = new_recon();
	for (int i = 0; i < 5; i++)
		feed(r, tcp(AT(i), &s, &d, 80, OM_TH_SYN));
	for (int i = 0; i < 19; i++)
		feed(r, tcp(AT(5 + i), &s, &d, (uint16_t)(1 + i), OM_TH_SYN));
	for (int i = 0; i < 3; i++)
		feed(r, tcp(AT(24 + i), &s, &d, 80, OM_TH_SYN));
	om_recon_flush(r);
	assert_int_equal(out.n, 1);
	const om_recon_alert *a = &out.a[0];
	assert_int_equal(a->port_count, 20);
	assert_int_equal(a->packets, 27);
	assert_int_equal(a->first_seen, AT(0));
	assert_int_equal(a->last_seen, AT(26));
	assert_int_equal(a->nports, 20);
	for (int i = 0; i < 19; i++)
		assert_int_equal(a->ports[i], 1 + i);
	assert_int_equal(a->ports[19], 80);
	assert_int_equal(om_recon_stats_get(r)->probes, 27);
	om_recon_free(r);
}

/* The window keeps 128 records per source (docs/guard.md). Port 7 on 19
 * hosts, 109 unrelated records, then port 7 on a 20th host: the oldest
 * record (port 7 on the first host) is dropped to make room, so the window
 * holds 19 hosts on port 7, not 20: no alert. */
static void test_window_limit(void **state)
{
	(void)state;
	om_addr s;
	addr("203.0.113.77", &s);
	om_recon *r = new_recon();
	om_usec t = AT(0);
	for (uint32_t i = 0; i < 19; i++) {
		om_addr h;
		addr_v4(0x0A010000u + i, &h); /* 10.1.0.i */
		feed(r, tcp(t++, &s, &h, 7, OM_TH_SYN));
	}
	for (uint32_t i = 0; i < 109; i++) {
		om_addr h;
		addr_v4(0x0A020000u + i, &h); /* one port on each of 109 other hosts */
		feed(r, tcp(t++, &s, &h, (uint16_t)(3000 + i), OM_TH_SYN));
	}
	om_addr h;
	addr_v4(0x0A010000u + 19, &h);
	feed(r, tcp(t++, &s, &h, 7, OM_TH_SYN));
	om_recon_flush(r);
	assert_int_equal(out.n, 0);
	assert_int_equal(om_recon_stats_get(r)->probes, 129);
	om_recon_free(r);
}

/* Every port of one host, 1 ms apart: the window keeps only 128 records,
 * the episode still counts all 65536 ports exactly. */
static void test_full_port_scan(void **state)
{
	(void)state;
	om_addr s, d;
	addr("203.0.113.5", &s);
	addr("192.168.1.10", &d);
	om_recon *r = new_recon();
	for (uint32_t p = 0; p < 65536; p++)
		feed(r, tcp(AT(0) + p * 1000u, &s, &d, (uint16_t)p, OM_TH_SYN));
	om_recon_flush(r);
	assert_int_equal(out.n, 1);
	const om_recon_alert *a = &out.a[0];
	assert_int_equal(a->kind, OM_RECON_VERTICAL);
	assert_int_equal(a->port_count, 65536);
	assert_int_equal(a->packets, 65536);
	assert_int_equal(a->host_count, 1);
	assert_int_equal(a->nports, OM_RECON_LIST_MAX);
	for (int i = 0; i < OM_RECON_LIST_MAX; i++)
		assert_int_equal(a->ports[i], i);
	assert_int_equal(a->first_seen, AT(0));
	assert_int_equal(a->last_seen, AT(0) + 65535u * 1000u);
	om_recon_free(r);
}

/* More scanning sources at once than the episode pool holds (16 for a cap
 * of 64 sources): the oldest episode is reported early, nothing is lost. */
static void test_episode_pool(void **state)
{
	(void)state;
	cfg.recon_max_sources = 64;
	om_addr d;
	addr("192.168.1.10", &d);
	om_recon *r = new_recon();
	for (uint32_t k = 0; k < 17; k++) {
		om_addr s;
		addr_v4(0xCB007100u + k, &s);
		for (uint32_t p = 1; p <= 20; p++)
			feed(r, tcp(AT(k) + p * 1000u, &s, &d, (uint16_t)p, OM_TH_SYN));
	}
	assert_int_equal(out.n, 1);
	om_addr first;
	addr_v4(0xCB007100u, &first);
	assert_memory_equal(&out.a[0].src, &first, sizeof(first));
	assert_int_equal(om_recon_stats_get(r)->episodes_forced, 1);
	om_recon_flush(r);
	assert_int_equal(out.n, 17);
	assert_int_equal(om_recon_stats_get(r)->alerts, 17);
	om_recon_free(r);
}

/* A hostile flood: one SYN from each of 1,000,000 distinct sources inside
 * one window. The tracked sources never pass the cap. */
static void test_flood(void **state)
{
	(void)state;
	om_addr d;
	addr("192.168.1.10", &d);
	om_recon *r = new_recon();
	for (uint32_t i = 0; i < 1000000; i++) {
		om_addr s;
		addr_v4(0x64400000u + i, &s); /* 100.64.0.0 + i */
		feed(r, tcp(AT(0) + i * 50u, &s, &d, 443, OM_TH_SYN));
	}
	const om_recon_stats *st = om_recon_stats_get(r);
	assert_int_equal(st->probes, 1000000);
	assert_int_equal(st->sources, 65536);
	assert_int_equal(st->sources_max, 65536);
	assert_int_equal(st->source_evictions, 1000000 - 65536);
	om_recon_flush(r);
	assert_int_equal(out.n, 0);
	assert_int_equal(st->sources, 0);
	om_recon_free(r);
}


/* A server outside answering datagrams sent from inside (NTP, DNS) reaches
 * many client ports of one host: not a scan. The same datagrams unasked,
 * or after the UDP timeout, are probes. */
static void test_udp_answers(void **state)
{
	(void)state;
	om_addr server, client;
	addr("198.51.100.123", &server);
	addr("192.168.1.20", &client);
	om_recon *r = new_recon();
	for (unsigned i = 0; i < 30; i++) {
		om_packet q = udp(AT(i), &client, &server, 123);
		q.sport = (uint16_t)(50000 + i);
		feed(r, q);
		om_packet a = udp(AT(i) + 1000, &server, &client, (uint16_t)(50000 + i));
		a.sport = 123;
		feed(r, a);
	}
	om_recon_flush(r);
	assert_int_equal(out.total, 0);
	assert_int_equal(om_recon_stats_get(r)->udp_answers, 30);
	assert_int_equal(om_recon_stats_get(r)->probes, 0);
	om_recon_free(r);

	/* the same answers with no request before them: a vertical scan of 30 ports */
	memset(&out, 0, sizeof(out));
	r = new_recon();
	for (unsigned i = 0; i < 30; i++) {
		om_packet a = udp(AT(i) + 1000, &server, &client, (uint16_t)(50000 + i));
		a.sport = 123;
		feed(r, a);
	}
	om_recon_flush(r);
	assert_int_equal(out.total, 1);
	assert_int_equal(out.a[0].kind, OM_RECON_VERTICAL);
	assert_int_equal(out.a[0].port_count, 30);
	assert_int_equal(om_recon_stats_get(r)->udp_answers, 0);
	om_recon_free(r);

	/* requests, then answers after the UDP timeout (cfg 60 s): probes again */
	memset(&out, 0, sizeof(out));
	r = new_recon();
	for (unsigned i = 0; i < 30; i++) {
		om_packet q = udp(AT(i), &client, &server, 123);
		q.sport = (uint16_t)(50000 + i);
		feed(r, q);
	}
	for (unsigned i = 0; i < 30; i++) {
		om_packet a = udp(AT(200 + i), &server, &client, (uint16_t)(50000 + i));
		a.sport = 123;
		feed(r, a);
	}
	om_recon_flush(r);
	assert_int_equal(out.total, 1);
	assert_int_equal(om_recon_stats_get(r)->udp_answers, 0);
	/* an answer must match the ports: from another source port it is a probe */
	om_recon_free(r);
	memset(&out, 0, sizeof(out));
	r = new_recon();
	for (unsigned i = 0; i < 30; i++) {
		om_packet q = udp(AT(i), &client, &server, 123);
		q.sport = (uint16_t)(50000 + i);
		feed(r, q);
		om_packet a = udp(AT(i) + 1000, &server, &client, (uint16_t)(50000 + i));
		a.sport = 124;
		feed(r, a);
	}
	om_recon_flush(r);
	assert_int_equal(out.total, 1);
	assert_int_equal(om_recon_stats_get(r)->udp_answers, 0);
	om_recon_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_kind_names, setup),
		cmocka_unit_test_setup(test_vertical, setup),
		cmocka_unit_test_setup(test_below_threshold, setup),
		cmocka_unit_test_setup(test_not_probes, setup),
		cmocka_unit_test_setup(test_internal_source, setup),
		cmocka_unit_test_setup(test_horizontal, setup),
		cmocka_unit_test_setup(test_horizontal_udp_many_hosts, setup),
		cmocka_unit_test_setup(test_sweep_v4, setup),
		cmocka_unit_test_setup(test_sweep_v6, setup),
		cmocka_unit_test_setup(test_two_episodes, setup),
		cmocka_unit_test_setup(test_slow_scan, setup),
		cmocka_unit_test_setup(test_scan_at_window_edge, setup),
		cmocka_unit_test_setup(test_interleaved, setup),
		cmocka_unit_test_setup(test_vertical_and_horizontal, setup),
		cmocka_unit_test_setup(test_source_cap_eviction, setup),
		cmocka_unit_test_setup(test_repeated_probe, setup),
		cmocka_unit_test_setup(test_window_limit, setup),
		cmocka_unit_test_setup(test_full_port_scan, setup),
		cmocka_unit_test_setup(test_episode_pool, setup),
		cmocka_unit_test_setup(test_flood, setup),
		cmocka_unit_test_setup(test_udp_answers, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
