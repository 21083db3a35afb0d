/* flow.c: the per-worker flow table. Bidirectional 5-tuple plus outer VLAN
 * key, preallocated entries with a free list, a power-of-two bucket array with
 * chaining, and one LRU list per timeout class so that expiry can walk each
 * list from its oldest entry and stop at the first live flow. When the table
 * is full the least recently used flow is ended to make room. No allocation
 * after om_flow_table_new. Design notes: docs/net.md. */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "net/net.h"

/* Timeout classes. Every flow of a class has the same timeout, so a list
 * ordered by last activity is also ordered by deadline. */
enum tclass { TC_TCP_NEW, TC_TCP_EST, TC_TCP_CLOSED, TC_UDP, TC_ICMP, TC_OTHER, TC_COUNT };

struct lru {
	om_flow *head, *tail; /* head: least recently used */
};

struct om_flow_table {
	om_flow_config cfg;
	om_flow *flows; /* max_flows entries */
	om_flow **buckets;
	uint64_t nbuckets; /* power of two */
	om_flow *free;     /* chained through hnext */
	uint64_t unused;   /* flows[unused..] never handed out: not yet touched,
	                    * so a large table costs memory only as it fills */
	struct lru lists[TC_COUNT];
	om_usec timeout[TC_COUNT]; /* microseconds */
	om_flow_stats stats;
};

#define USEC_PER_SEC 1000000ULL
#define HASH_SEED 0x6f6d616d6f726931ULL /* fixed: hashes must not vary per run */
#define FLOWID_SEED 0x666c6f7769643031ULL
#define FLOWID_MASK ((1ULL << 51) - 1) /* fits a JSON number exactly */
#define MAX_BUCKETS (1ULL << 31)

/* Flow key of a packet, in packet order (a = sender). */
struct pkey {
	const om_addr *a, *b;
	uint16_t pa, pb;
	uint8_t proto;
	uint16_t vlan;
	bool icmp_reply; /* ICMP reply: the sender is the server */
};

/* ---- names -------------------------------------------------------------- */

const char *om_flow_state_name(enum om_flow_state s)
{
	switch (s) {
	case OM_FLOW_NEW: return "new";
	case OM_FLOW_ESTABLISHED: return "established";
	case OM_FLOW_CLOSED: return "closed";
	}
	return "unknown";
}

const char *om_flow_end_name(enum om_flow_end e)
{
	switch (e) {
	case OM_FLOW_END_TIMEOUT: return "timeout";
	case OM_FLOW_END_FORCED: return "forced";
	case OM_FLOW_END_SHUTDOWN: return "shutdown";
	case OM_FLOW_END_EVICTED: return "evicted";
	}
	return "unknown";
}

/* Suricata's EVE "tcp.state" spellings. */
const char *om_tcp_state_name(enum om_tcp_state s)
{
	switch (s) {
	case OM_TCP_NONE: return "none";
	case OM_TCP_SYN_SENT: return "syn_sent";
	case OM_TCP_SYN_RECV: return "syn_recv";
	case OM_TCP_ESTABLISHED: return "established";
	case OM_TCP_FIN_WAIT: return "fin_wait1";
	case OM_TCP_CLOSING: return "closing";
	case OM_TCP_CLOSED: return "closed";
	case OM_TCP_RESET: return "reset";
	}
	return "unknown";
}

/* ---- keys and hashing --------------------------------------------------- */

/* ICMP query/response pairs: a request and its reply share one flow, keyed on
 * the request type. Returns true if type is part of such a pair. */
static bool icmp_pair(uint8_t ip_ver, uint8_t type, uint8_t *ret_req, bool *ret_reply)
{
	static const uint8_t v4[][2] = {{8, 0}, {13, 14}, {15, 16}, {17, 18}, {10, 9}};
	static const uint8_t v6[][2] = {{128, 129}, {139, 140}, {133, 134}};
	const uint8_t(*t)[2] = ip_ver == 6 ? v6 : v4;
	size_t n = ip_ver == 6 ? OM_ARRAY_SIZE(v6) : OM_ARRAY_SIZE(v4);
	for (size_t i = 0; i < n; i++) {
		if (type == t[i][0] || type == t[i][1]) {
			*ret_req = t[i][0];
			*ret_reply = type == t[i][1];
			return true;
		}
	}
	return false;
}

/* The identifier of an ICMP query or reply: the decoder hands over the
 * payload after the 8-byte ICMP header, whose bytes 4-5 hold it. 0 when the
 * header is not reachable (a peeked packet, a hand-built one). */
static uint16_t icmp_id(const om_packet *p)
{
	if (!(p->flags & OM_PKT_ICMP) || !p->payload || !p->l3 || p->payload < p->l3 + 8)
		return 0;
	return (uint16_t)(p->payload[-4] << 8 | p->payload[-3]);
}

/* with_id: include the ICMP query identifier (the table key does; the
 * public hash does not, so that a peeked packet dispatches like a decoded
 * one). */
static void packet_key(const om_packet *p, struct pkey *k, bool with_id)
{
	k->a = &p->src;
	k->b = &p->dst;
	k->proto = p->proto;
	k->vlan = p->vlan_count ? (uint16_t)(p->vlan[0] & 0x0fff) : 0;
	k->icmp_reply = false;
	k->pa = k->pb = 0;
	if ((p->proto == IPPROTO_TCP || p->proto == IPPROTO_UDP || p->proto == IPPROTO_SCTP) &&
	    (p->flags & OM_PKT_HAS_PORTS)) {
		k->pa = p->sport;
		k->pb = p->dport;
	} else if (p->proto == IPPROTO_ICMP || p->proto == IPPROTO_ICMPV6) {
		/* Query/reply: the identifier plays the client port and the
		 * request type the server port, so a request and its reply
		 * meet in one flow. Anything else (errors, router messages):
		 * type and code on both sides, so that only the addresses
		 * tell the direction. */
		uint8_t req;
		bool reply;
		if (icmp_pair(p->ip_ver, p->icmp_type, &req, &reply)) {
			uint16_t id = with_id ? icmp_id(p) : 0;
			uint16_t cls = (uint16_t)(0x8000u | req);
			k->pa = reply ? cls : id;
			k->pb = reply ? id : cls;
			k->icmp_reply = reply;
		} else {
			k->pa = k->pb = (uint16_t)((p->icmp_type << 8) | p->icmp_code);
		}
	}
}

/* Canonical (direction-free) serialisation of a key: the lower endpoint
 * first. 39 bytes. */
#define KEYBUF_LEN 39
static void canon_key(const om_addr *a, uint16_t pa, const om_addr *b, uint16_t pb, uint8_t proto,
                      uint16_t vlan, uint8_t out[KEYBUF_LEN])
{
	int c = memcmp(a->b, b->b, 16);
	if (c > 0 || (c == 0 && pa > pb)) {
		const om_addr *t = a;
		a = b;
		b = t;
		uint16_t tp = pa;
		pa = pb;
		pb = tp;
	}
	memcpy(out, a->b, 16);
	memcpy(out + 16, b->b, 16);
	out[32] = (uint8_t)(pa >> 8);
	out[33] = (uint8_t)pa;
	out[34] = (uint8_t)(pb >> 8);
	out[35] = (uint8_t)pb;
	out[36] = (uint8_t)(vlan >> 8);
	out[37] = (uint8_t)vlan;
	out[38] = proto;
}

static uint64_t key_hash64(const struct pkey *k)
{
	uint8_t buf[KEYBUF_LEN];
	canon_key(k->a, k->pa, k->b, k->pb, k->proto, k->vlan, buf);
	return om_hash64(buf, sizeof(buf), HASH_SEED);
}

/* The public hash (worker dispatch) takes the high half, the bucket index the
 * low half: a worker whose flows all share some hash bits still uses all its
 * buckets. */
uint32_t om_flow_hash_packet(const om_packet *p)
{
	struct pkey k;
	packet_key(p, &k, false);
	return (uint32_t)(key_hash64(&k) >> 32);
}

static uint64_t flow_id_of(const om_flow *f)
{
	uint8_t buf[KEYBUF_LEN + 8];
	canon_key(&f->cli, f->cport, &f->srv, f->sport, f->proto, f->vlan, buf);
	for (int i = 0; i < 8; i++)
		buf[KEYBUF_LEN + i] = (uint8_t)(f->start >> (8 * i));
	uint64_t id = om_hash64(buf, sizeof(buf), FLOWID_SEED) & FLOWID_MASK;
	return id ? id : 1;
}

/* ---- LRU lists ---------------------------------------------------------- */

static enum tclass class_of(const om_flow *f)
{
	switch (f->proto) {
	case IPPROTO_TCP:
		if (f->state == OM_FLOW_CLOSED)
			return TC_TCP_CLOSED;
		return f->state == OM_FLOW_ESTABLISHED ? TC_TCP_EST : TC_TCP_NEW;
	case IPPROTO_UDP: return TC_UDP;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6: return TC_ICMP;
	default: return TC_OTHER;
	}
}

static inline void lru_remove(struct lru *l, om_flow *f)
{
	if (f->lru_prev)
		f->lru_prev->lru_next = f->lru_next;
	else
		l->head = f->lru_next;
	if (f->lru_next)
		f->lru_next->lru_prev = f->lru_prev;
	else
		l->tail = f->lru_prev;
	f->lru_prev = f->lru_next = NULL;
}

static inline void lru_append(struct lru *l, om_flow *f)
{
	f->lru_next = NULL;
	f->lru_prev = l->tail;
	if (l->tail)
		l->tail->lru_next = f;
	else
		l->head = f;
	l->tail = f;
}

/* ---- table -------------------------------------------------------------- */

om_flow_table *om_flow_table_new(const om_flow_config *cfg)
{
	if (!cfg || cfg->max_flows == 0 || cfg->max_flows > (SIZE_MAX / sizeof(om_flow)) ||
	    cfg->max_flows > UINT32_MAX)
		return NULL;
	uint64_t nb = cfg->hash_size ? cfg->hash_size : cfg->max_flows;
	if (nb > MAX_BUCKETS)
		return NULL;
	uint64_t p2 = 1;
	while (p2 < nb)
		p2 <<= 1;

	om_flow_table *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->cfg = *cfg;
	t->nbuckets = p2;
	t->flows = calloc((size_t)cfg->max_flows, sizeof(om_flow));
	t->buckets = calloc((size_t)p2, sizeof(om_flow *));
	if (!t->flows || !t->buckets)
		return om_flow_table_free(t);
	t->timeout[TC_TCP_NEW] = cfg->timeout_new * USEC_PER_SEC;
	t->timeout[TC_TCP_EST] = cfg->timeout_est * USEC_PER_SEC;
	t->timeout[TC_TCP_CLOSED] = cfg->timeout_closed * USEC_PER_SEC;
	t->timeout[TC_UDP] = cfg->timeout_udp * USEC_PER_SEC;
	t->timeout[TC_ICMP] = cfg->timeout_icmp * USEC_PER_SEC;
	t->timeout[TC_OTHER] = cfg->timeout_udp * USEC_PER_SEC;
	return t;
}

om_flow_table *om_flow_table_free(om_flow_table *t)
{
	if (!t)
		return NULL;
	free(t->flows);
	free(t->buckets);
	free(t);
	return NULL;
}

const om_flow_stats *om_flow_table_stats(const om_flow_table *t)
{
	return &t->stats;
}

static inline om_flow **bucket_of(om_flow_table *t, uint32_t h)
{
	return &t->buckets[h & (t->nbuckets - 1)];
}

/* Unlinks f from its bucket and list, reports it and returns it to the free
 * list. */
static void flow_end(om_flow_table *t, om_flow *f, enum om_flow_end why)
{
	for (om_flow **pp = bucket_of(t, f->hash); *pp; pp = &(*pp)->hnext) {
		if (*pp == f) {
			*pp = f->hnext;
			break;
		}
	}
	lru_remove(&t->lists[class_of(f)], f);
	if (t->cfg.on_end)
		t->cfg.on_end(t->cfg.user, f, why);
	om_stream_flow_end_why(t->cfg.stream, f, om_stream_end_of(why)); /* if on_end did not */
	memset(f, 0, sizeof(*f));
	f->hnext = t->free;
	t->free = f;
	t->stats.ended++;
	t->stats.active--;
}

static inline om_usec deadline(const om_flow_table *t, enum tclass c, const om_flow *f)
{
	return f->last + t->timeout[c];
}

/* Index of the list whose head has the smallest key: the oldest last-seen
 * (by_deadline false) or the earliest deadline (true). -1 if all empty. */
static int oldest_head(const om_flow_table *t, bool by_deadline)
{
	int best = -1;
	om_usec bv = 0;
	for (int c = 0; c < TC_COUNT; c++) {
		const om_flow *h = t->lists[c].head;
		if (!h)
			continue;
		om_usec v = by_deadline ? deadline(t, (enum tclass)c, h) : h->last;
		if (best < 0 || v < bv) {
			best = c;
			bv = v;
		}
	}
	return best;
}

void om_flow_table_expire(om_flow_table *t, om_usec now)
{
	for (int c = 0; c < TC_COUNT; c++) {
		om_flow *f;
		while ((f = t->lists[c].head) && deadline(t, (enum tclass)c, f) <= now)
			flow_end(t, f, OM_FLOW_END_TIMEOUT);
	}
}

void om_flow_table_flush(om_flow_table *t, enum om_flow_end why)
{
	int c;
	while ((c = oldest_head(t, false)) >= 0)
		flow_end(t, t->lists[c].head, why);
}

/* A free entry; when none is left, ends a flow whose timeout has passed at
 * now, else the least recently used one. */
static om_flow *flow_alloc(om_flow_table *t, om_usec now)
{
	if (!t->free && t->unused < t->cfg.max_flows) {
		om_flow *f = &t->flows[t->unused++];
		return f;
	}
	if (unlikely(!t->free)) {
		t->stats.memcap_hits++;
		int c = oldest_head(t, true);
		if (c < 0)
			return NULL; /* cannot happen: max_flows > 0 */
		if (deadline(t, (enum tclass)c, t->lists[c].head) <= now) {
			flow_end(t, t->lists[c].head, OM_FLOW_END_TIMEOUT);
		} else {
			c = oldest_head(t, false);
			t->stats.evicted++;
			flow_end(t, t->lists[c].head, OM_FLOW_END_EVICTED);
		}
	}
	om_flow *f = t->free;
	t->free = f->hnext;
	f->hnext = NULL;
	return f;
}

/* Flow state from what has been seen. A flow never leaves CLOSED. */
static void state_update(om_flow *f)
{
	if (f->state == OM_FLOW_CLOSED)
		return;
	bool both = f->pkts[0] && f->pkts[1];
	if (f->proto != IPPROTO_TCP) {
		if (both)
			f->state = OM_FLOW_ESTABLISHED;
		return;
	}
	switch (f->tcp_state) {
	case OM_TCP_CLOSING:
	case OM_TCP_CLOSED:
	case OM_TCP_RESET: f->state = OM_FLOW_CLOSED; break;
	case OM_TCP_ESTABLISHED:
	case OM_TCP_FIN_WAIT:
		/* A midstream pickup is only trusted once both sides spoke:
		 * a lone ACK (scan) stays in the short "new" timeout. */
		if (!(f->flags & OM_FLOW_F_MIDSTREAM) || both)
			f->state = OM_FLOW_ESTABLISHED;
		break;
	default: break;
	}
}

static inline bool key_match(const om_flow *f, const struct pkey *k, uint8_t ip_ver, int *dir)
{
	if (f->proto != k->proto || f->vlan != k->vlan || f->ip_ver != ip_ver)
		return false;
	if (f->cport == k->pa && f->sport == k->pb && !memcmp(&f->cli, k->a, sizeof(om_addr)) &&
	    !memcmp(&f->srv, k->b, sizeof(om_addr))) {
		*dir = OM_DIR_TOSERVER;
		return true;
	}
	if (f->cport == k->pb && f->sport == k->pa && !memcmp(&f->cli, k->b, sizeof(om_addr)) &&
	    !memcmp(&f->srv, k->a, sizeof(om_addr))) {
		*dir = OM_DIR_TOCLIENT;
		return true;
	}
	return false;
}

static uint64_t packet_bytes(const om_packet *p)
{
	if ((p->flags & OM_PKT_REASSEMBLED) || !p->wirelen)
		return p->l3_len;
	return p->wirelen;
}

om_flow *om_flow_get(om_flow_table *t, const om_packet *p, int *ret_dir)
{
	if (p->ip_ver != 4 && p->ip_ver != 6)
		return NULL;
	struct pkey k;
	packet_key(p, &k, true);
	uint64_t h64 = key_hash64(&k);
	uint32_t h = (uint32_t)h64;
	om_flow **b = bucket_of(t, h);
	om_flow *f;
	int dir = OM_DIR_TOSERVER;

	for (f = *b; f; f = f->hnext)
		if (f->hash == h && key_match(f, &k, p->ip_ver, &dir))
			break;

	/* A flow whose timeout has passed is over even if expiry has not run
	 * yet: the result must not depend on how often expire is called (the
	 * engine's output is the same for any number of workers). */
	if (f && deadline(t, class_of(f), f) <= p->ts) {
		flow_end(t, f, OM_FLOW_END_TIMEOUT);
		f = NULL;
	}

	/* TCP port reuse: the stream decides whether a SYN on a finished
	 * connection starts a new one (only a valid close or reset finishes
	 * it, and a resent SYN does not start one). */
	if (f && om_stream_starts_new(f, p, dir)) {
		flow_end(t, f, OM_FLOW_END_FORCED);
		f = NULL;
	}

	if (!f) {
		f = flow_alloc(t, p->ts);
		if (!f)
			return NULL;
		/* The initiator is the client, except when the first packet
		 * is an answer (SYN/ACK, ICMP reply): then its sender is the
		 * server. */
		bool swap = k.icmp_reply ||
		            (p->proto == IPPROTO_TCP &&
		             (p->tcp_flags & (OM_TH_SYN | OM_TH_ACK)) == (OM_TH_SYN | OM_TH_ACK));
		dir = swap ? OM_DIR_TOCLIENT : OM_DIR_TOSERVER;
		f->cli = swap ? *k.b : *k.a;
		f->srv = swap ? *k.a : *k.b;
		f->cport = swap ? k.pb : k.pa;
		f->sport = swap ? k.pa : k.pb;
		f->proto = k.proto;
		f->ip_ver = p->ip_ver;
		f->vlan = k.vlan;
		f->start = f->last = p->ts;
		f->flow_id = flow_id_of(f);
		f->hash = h;
		f->state = OM_FLOW_NEW;
		f->hnext = *b;
		*b = f;
		t->stats.created++;
		t->stats.active++;
		if (t->stats.active > t->stats.active_max)
			t->stats.active_max = t->stats.active;
		switch (f->proto) {
		case IPPROTO_TCP: t->stats.tcp++; break;
		case IPPROTO_UDP: t->stats.udp++; break;
		case IPPROTO_ICMP:
		case IPPROTO_ICMPV6: t->stats.icmp++; break;
		default: t->stats.other++; break;
		}
	} else {
		lru_remove(&t->lists[class_of(f)], f);
		if (p->ts > f->last)
			f->last = p->ts;
	}

	f->pkts[dir]++;
	f->bytes[dir] += packet_bytes(p);
	if (f->proto == IPPROTO_TCP) {
		/* the stream owns the TCP state: it judges the packet and
		 * sets f->tcp_state before the flow is filed by class */
		om_stream_track(t->cfg.stream, f, p, dir);
		f->tcp_flags[dir] |= p->tcp_flags;
	}
	state_update(f);
	lru_append(&t->lists[class_of(f)], f);
	*ret_dir = dir;
	return f;
}
