/* libFuzzer target for the flow table: chains, caps, eviction order,
 * emergency mode and handles, with small tables so that every limit is hit.
 *   header (4 bytes): max_flows 1..32, hash_size 1..16 (power of two after
 *     rounding), max_chain 1..8, emergency_pct 50..100
 *   then records of 8 bytes: op, proto, src host, sport, dst host, dport,
 *     tcp flags, time step
 *   op & 3: 0..1 a packet, 2 expire at the current time, 3 a handle check
 * Invariants checked after every record: the flow returned carries the
 * packet's key in one of its directions; active = created - ended, never
 * above max_flows, and on_end was called once per ended flow; no lookup
 * visited more than max_chain entries; the emergency flag and counter agree;
 * a handle taken from a flow finds that flow while it lives and nothing once
 * it has ended (recorded in on_end), even when its entry is reused. */
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/net.h"

#define NHANDLES 64

struct kept {
	om_flow_handle h;
	om_addr cli, srv;
	uint16_t cport, sport;
	uint8_t proto;
	bool ended;
};

struct state {
	uint64_t ends;
	struct kept k[NHANDLES];
	unsigned nk;
};

static bool same_key(const om_flow *f, const struct kept *k)
{
	return f->proto == k->proto && f->cport == k->cport && f->sport == k->sport &&
	       !memcmp(&f->cli, &k->cli, sizeof(om_addr)) && !memcmp(&f->srv, &k->srv, sizeof(om_addr));
}

static void on_end(void *u, om_flow *f, enum om_flow_end why)
{
	struct state *s = u;
	(void)why;
	s->ends++;
	om_flow_handle h = om_flow_handle_of(f);
	for (unsigned i = 0; i < s->nk; i++)
		if (s->k[i].h.idx == h.idx && s->k[i].h.gen == h.gen) {
			if (!same_key(f, &s->k[i]))
				abort();
			s->k[i].ended = true;
		}
}

static void addr(om_addr *a, uint8_t host)
{
	const uint8_t b[4] = {10, 0, 0, (uint8_t)(host & 7)};
	om_addr_from_v4(a, b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 4)
		return 0;
	struct state s;
	memset(&s, 0, sizeof(s));
	om_flow_config c = {
	    .max_flows = 1 + data[0] % 32,
	    .hash_size = 1 + data[1] % 16,
	    .max_chain = 1 + data[2] % 8,
	    .emergency_pct = 50 + data[3] % 51,
	    .timeout_new = 3,
	    .timeout_est = 20,
	    .timeout_closed = 2,
	    .timeout_udp = 10,
	    .timeout_icmp = 5,
	    .on_end = on_end,
	    .user = &s,
	};
	om_flow_table *t = om_flow_table_new(&c);
	if (!t)
		abort();
	om_usec now = 1000000;
	for (size_t o = 4; o + 8 <= size; o += 8) {
		const uint8_t *r = data + o;
		now += (om_usec)r[7] * 50000;
		unsigned op = r[0] & 3;
		if (op == 2) {
			om_flow_table_expire(t, now);
		} else if (op == 3 && s.nk) {
			struct kept *k = &s.k[r[1] % s.nk];
			om_flow *f = om_flow_from_handle(t, k->h);
			if (k->ended ? f != NULL : (f == NULL || !same_key(f, k)))
				abort();
		} else if (op < 2) {
			om_packet p;
			memset(&p, 0, sizeof(p));
			p.ts = now;
			p.ip_ver = 4;
			p.flags = OM_PKT_IPV4;
			static const uint8_t protos[4] = {IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP, 47};
			p.proto = protos[r[1] & 3];
			addr(&p.src, r[2]);
			addr(&p.dst, r[4]);
			if (p.proto == IPPROTO_TCP || p.proto == IPPROTO_UDP) {
				p.flags |= OM_PKT_HAS_PORTS |
				           (p.proto == IPPROTO_TCP ? OM_PKT_TCP : OM_PKT_UDP);
				p.sport = r[3] & 7;
				p.dport = r[5] & 7;
				p.tcp_flags = r[6];
			} else if (p.proto == IPPROTO_ICMP) {
				p.flags |= OM_PKT_ICMP;
				p.icmp_type = r[6] & 1 ? 8 : 0;
			}
			p.wirelen = 60;
			p.l3_len = 40;
			int dir = -1;
			om_flow *f = om_flow_get(t, &p, &dir);
			if (!f || (dir != OM_DIR_TOSERVER && dir != OM_DIR_TOCLIENT) || f->proto != p.proto)
				abort();
			const om_addr *from = dir == OM_DIR_TOSERVER ? &f->cli : &f->srv;
			if (memcmp(from, &p.src, sizeof(om_addr)))
				abort();
			if ((p.flags & OM_PKT_HAS_PORTS) &&
			    (dir == OM_DIR_TOSERVER ? f->cport : f->sport) != p.sport)
				abort();
			if (op == 1 && s.nk < NHANDLES) {
				struct kept *k = &s.k[s.nk++];
				k->h = om_flow_handle_of(f);
				k->cli = f->cli, k->srv = f->srv;
				k->cport = f->cport, k->sport = f->sport;
				k->proto = f->proto;
				k->ended = false;
			}
		}
		const om_flow_stats *st = om_flow_table_stats(t);
		if (st->active != st->created - st->ended || st->active > c.max_flows ||
		    st->ended != s.ends || om_flow_table_probe(t)->chain_max > c.max_chain ||
		    st->in_emergency != (uint64_t)om_flow_table_emergency(t) ||
		    st->emergency_entered < st->emergency_left ||
		    st->emergency_entered - st->emergency_left != st->in_emergency ||
		    st->evicted != st->evicted_new + st->evicted_closed + st->evicted_est +
		                       st->chain_evicted)
			abort();
	}
	om_flow_table_flush(t, OM_FLOW_END_SHUTDOWN);
	const om_flow_stats *st = om_flow_table_stats(t);
	if (st->active != 0 || st->ended != st->created || s.ends != st->created)
		abort();
	for (unsigned i = 0; i < s.nk; i++)
		if (!s.k[i].ended || om_flow_from_handle(t, s.k[i].h))
			abort();
	om_flow_table_free(t);
	return 0;
}
