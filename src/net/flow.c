/* flow.c: the per-worker flow table. Bidirectional 5-tuple plus every VLAN
 * id and the tunnel discriminator as key, preallocated entries with a free
 * list, a power-of-two bucket array with chaining, and one LRU list per
 * timeout class so that expiry can walk each list from its oldest entry and
 * stop at the first live flow.
 *
 * Under attack: buckets are chosen by a keyed hash (SipHash-1-3) with a
 * random key per table, so an outsider cannot aim packets at one bucket; a
 * chain never grows past a cap (the new flow ends the least recently used
 * flow of that chain), so no lookup walks more than the cap; when the table is
 * nearly full it enters an emergency mode with shorter timeouts, and when an
 * entry is needed unestablished and closed flows are ended before established
 * ones. No allocation after om_flow_table_new. Design notes: docs/net.md. */
#include <errno.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "net/net.h"

/* Timeout classes. Every flow of a class has the same timeout, so a list
 * ordered by last activity is also ordered by deadline. UDP, ICMP and other
 * protocols have one timeout each but two classes (one direction seen, both
 * seen) so that a full table ends the one-sided ones first. */
enum tclass {
	TC_TCP_NEW,
	TC_TCP_EST,
	TC_TCP_CLOSED,
	TC_UDP_NEW,
	TC_UDP_EST,
	TC_ICMP_NEW,
	TC_ICMP_EST,
	TC_OTHER_NEW,
	TC_OTHER_EST,
	TC_COUNT
};

/* Classes that an emergency eviction spares as long as another has a flow. */
static const bool class_established[TC_COUNT] = {
    [TC_TCP_EST] = true, [TC_UDP_EST] = true, [TC_ICMP_EST] = true, [TC_OTHER_EST] = true};

/* A table entry: the public flow and the table's own links. Users only ever
 * see &entry->pub. */
struct flow_entry {
	om_flow pub;
	struct flow_entry *hnext; /* hash chain, or free list */
	struct flow_entry *lru_prev, *lru_next;
	uint32_t hash; /* low half of the keyed hash: bucket and quick compare */
	uint32_t idx;  /* position in the entry array, for handles */
	uint32_t gen;  /* changes each time the entry is released; never 0 in use */
	uint8_t cls;   /* the list it is on */
	bool used;
};

/* Three cache lines: a lookup loads whole lines, and the tables of a
 * million flows are sized by it. */
_Static_assert(sizeof(struct flow_entry) <= 192, "a flow entry grew past three cache lines");

static inline struct flow_entry *entry_of(const om_flow *f)
{
	return (struct flow_entry *)((char *)(uintptr_t)f - offsetof(struct flow_entry, pub));
}

struct lru {
	struct flow_entry *head, *tail; /* head: least recently used */
};

struct om_flow_table {
	om_flow_config cfg;
	om_hash_key key;          /* random per table: bucket placement */
	struct flow_entry *flows; /* max_flows entries */
	om_tunnel_layer *tunnels; /* max_flows: tunnels[i] for flows[i] (om_flow.tunnel) */
	struct flow_entry **buckets;
	uint64_t nbuckets;       /* power of two */
	struct flow_entry *free; /* chained through hnext */
	uint64_t unused;         /* flows[unused..] never handed out: not yet touched,
	                          * so a large table costs memory only as it fills */
	uint32_t max_chain;      /* longest chain allowed */
	uint64_t emerg_enter;    /* active flows at which emergency mode starts */
	uint64_t emerg_leave;    /* ... and below which it ends */
	bool emergency;
	om_usec now; /* latest time seen, for callbacks */
	struct lru lists[TC_COUNT];
	om_usec tmo_normal[TC_COUNT]; /* microseconds */
	om_usec tmo_emerg[TC_COUNT];
	const om_usec *timeout; /* one of the two above */
	om_flow_stats stats;
	om_flow_probe_stats probe;
	/* om_flow_prefetch: the key words and bucket hash of the packet seen
	 * before its lookup, for the next om_flow_get only */
	uint64_t hint_w[6];
	uint32_t hint_hash;
	uint8_t hint_nw; /* 0: none */
};

#define USEC_PER_SEC 1000000ULL
/* flow_id only (never bucket placement): fixed so that the same capture
 * gives the same ids on every run, which EVE consumers and tests compare.
 * It is not secret and need not be: ids are printed in every event. */
#define FLOWID_SEED 0x666c6f7769643031ULL
#define FLOWID_MASK ((1ULL << 51) - 1) /* fits a JSON number exactly */
#define MAX_BUCKETS (1ULL << 31)
/* Chain cap at one flow per bucket on average (scaled by the load otherwise).
 * With a keyed hash the chain lengths of a full table are Poisson with mean
 * 1, and P(length >= 16) = e^-1 * (1/16! + 1/17! + ...) < 2 * 10^-14. */
#define CHAIN_CAP_BASE 16u
#define CHAIN_CAP_MAX 4096u

/* Emergency mode defaults, after Suricata's flow settings: enter when 95 %
 * of the entries are in use (Suricata: when no spare flow is left), leave
 * when 30 % are free again (Suricata's emergency-recovery: 30), and the
 * emergency timeouts of its default suricata.yaml (tcp emergency-new 5,
 * others 10; emergency-established 100; tcp emergency-closed 10). */
#define EMERG_ENTER_PCT 95u
#define EMERG_RECOVERY_PCT 30u
#define EMERG_TCP_NEW 5u
#define EMERG_NEW 10u
#define EMERG_EST 100u
#define EMERG_CLOSED 10u

/* Flow key of a packet, in packet order (a = sender). */
struct pkey {
	const om_addr *a, *b;
	uint16_t pa, pb;
	uint8_t proto;
	uint16_t vlan[OM_VLAN_MAX]; /* 0 past the packet's tags */
	uint32_t tunnel;            /* om_packet.tunnel_id */
	bool icmp_reply;            /* ICMP reply: the sender is the server */
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
	for (unsigned i = 0; i < OM_VLAN_MAX; i++)
		k->vlan[i] = i < p->vlan_count ? (uint16_t)(p->vlan[i] & 0x0fff) : 0;
	k->tunnel = p->tunnel_id;
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
 * first. 47 bytes. */
#define KEYBUF_LEN 47
static void canon_key(const om_addr *a, uint16_t pa, const om_addr *b, uint16_t pb, uint8_t proto,
                      const uint16_t vlan[OM_VLAN_MAX], uint32_t tunnel, uint8_t out[KEYBUF_LEN])
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
	for (unsigned i = 0; i < OM_VLAN_MAX; i++) {
		out[36 + 2 * i] = (uint8_t)(vlan[i] >> 8);
		out[37 + 2 * i] = (uint8_t)vlan[i];
	}
	out[42] = (uint8_t)(tunnel >> 24);
	out[43] = (uint8_t)(tunnel >> 16);
	out[44] = (uint8_t)(tunnel >> 8);
	out[45] = (uint8_t)tunnel;
	out[46] = proto;
}

static uint64_t key_hash64(const om_hash_key *key, const struct pkey *k)
{
	uint8_t buf[KEYBUF_LEN];
	canon_key(k->a, k->pa, k->b, k->pb, k->proto, k->vlan, k->tunnel, buf);
	return om_siphash(key, buf, sizeof(buf));
}

/* The bucket hash of a packet's key is om_siphash_words over these words:
 * the key with the lower endpoint first, built without a byte buffer. When
 * both addresses are IPv4 (in their mapped form) only their four bytes go
 * in: 3 words (24 bytes) instead of 6 (48). The two forms have different
 * lengths, which SipHash takes in, and each is a one-to-one image of the
 * key, so the placement stays a keyed function of the whole key. Any total
 * order of the endpoints does (only placement uses it): native words. */
static const uint8_t v4_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
_Static_assert(OM_VLAN_MAX == 3, "key_words packs three VLAN ids");
static inline __attribute__((always_inline)) unsigned key_words(const struct pkey *k, uint64_t w[6])
{
	uint64_t a[2], b[2];
	memcpy(a, k->a->b, 16);
	memcpy(b, k->b->b, 16);
	uint16_t pa = k->pa, pb = k->pb;
	if (a[0] > b[0] || (a[0] == b[0] && (a[1] > b[1] || (a[1] == b[1] && pa > pb)))) {
		uint64_t t0 = a[0], t1 = a[1];
		a[0] = b[0];
		a[1] = b[1];
		b[0] = t0;
		b[1] = t1;
		uint16_t tp = pa;
		pa = pb;
		pb = tp;
	}
	/* VLAN ids are 12 bits (packet_key masks them), the rest fits */
	uint64_t w4 = (uint64_t)pa | (uint64_t)pb << 16 | (uint64_t)k->vlan[0] << 32 |
	              (uint64_t)k->vlan[1] << 48;
	uint64_t w5 = (uint64_t)k->vlan[2] | (uint64_t)k->proto << 16 | (uint64_t)k->tunnel << 32;
	if (memcmp(k->a->b, v4_prefix, 12) == 0 && memcmp(k->b->b, v4_prefix, 12) == 0) {
		uint32_t va, vb;
		memcpy(&va, (const uint8_t *)a + 12, 4);
		memcpy(&vb, (const uint8_t *)b + 12, 4);
		w[0] = (uint64_t)va | (uint64_t)vb << 32;
		w[1] = w4;
		w[2] = w5;
		return 3;
	}
	w[0] = a[0];
	w[1] = a[1];
	w[2] = b[0];
	w[3] = b[1];
	w[4] = w4;
	w[5] = w5;
	return 6;
}

/* Keyed with the process key (every thread agrees on it, no outsider knows
 * it). The tables use their own keys, so dispatch and bucket placement are
 * independent. */
uint32_t om_flow_hash_packet(const om_packet *p)
{
	struct pkey k;
	packet_key(p, &k, false);
	return (uint32_t)(key_hash64(om_hash_key_process(), &k) >> 32);
}

static uint64_t flow_id_of(const om_flow *f)
{
	uint8_t buf[KEYBUF_LEN + 8];
	canon_key(&f->cli, f->cport, &f->srv, f->sport, f->proto, f->vlan, f->tunnel_id, buf);
	for (int i = 0; i < 8; i++)
		buf[KEYBUF_LEN + i] = (uint8_t)(f->start >> (8 * i));
	uint64_t id = om_hash64(buf, sizeof(buf), FLOWID_SEED) & FLOWID_MASK;
	return id ? id : 1;
}

/* ---- LRU lists ---------------------------------------------------------- */

static enum tclass class_of(const om_flow *f)
{
	bool est = f->state == OM_FLOW_ESTABLISHED;
	switch (f->proto) {
	case IPPROTO_TCP:
		if (f->state == OM_FLOW_CLOSED)
			return TC_TCP_CLOSED;
		return est ? TC_TCP_EST : TC_TCP_NEW;
	case IPPROTO_UDP: return est ? TC_UDP_EST : TC_UDP_NEW;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6: return est ? TC_ICMP_EST : TC_ICMP_NEW;
	default: return est ? TC_OTHER_EST : TC_OTHER_NEW;
	}
}

/* The list an entry is on is remembered in the entry, so that removal does
 * not depend on the flow's state staying as it was when it was appended. */
static inline void lru_remove(om_flow_table *t, struct flow_entry *e)
{
	struct lru *l = &t->lists[e->cls];
	if (e->lru_prev)
		e->lru_prev->lru_next = e->lru_next;
	else
		l->head = e->lru_next;
	if (e->lru_next)
		e->lru_next->lru_prev = e->lru_prev;
	else
		l->tail = e->lru_prev;
	e->lru_prev = e->lru_next = NULL;
}

static inline void lru_append(om_flow_table *t, struct flow_entry *e, enum tclass c)
{
	struct lru *l = &t->lists[c];
	e->cls = (uint8_t)c;
	e->lru_next = NULL;
	e->lru_prev = l->tail;
	if (l->tail)
		l->tail->lru_next = e;
	else
		l->head = e;
	l->tail = e;
}

/* ---- table -------------------------------------------------------------- */

static om_usec emerg_timeout(uint32_t normal, uint32_t cfg, uint32_t dflt)
{
	uint32_t v = cfg ? cfg : dflt;
	return (om_usec)(v < normal ? v : normal) * USEC_PER_SEC;
}

/* The entry and bucket arrays: zeroed anonymous mappings that cost memory
 * only where touched, with transparent huge pages asked for. Every packet
 * looks up a random bucket and a scattered entry; in 4 KiB pages an 8 MiB
 * bucket array alone is 2048 TLB entries, and the page walks were a large
 * part of the lookup. */
#define HUGE_MIN (2u * 1024 * 1024)
static void *table_alloc(size_t n, size_t size)
{
	if (n == 0 || size > SIZE_MAX / n)
		return NULL;
	void *m = mmap(NULL, n * size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return NULL;
#ifdef MADV_HUGEPAGE
	if (n * size >= HUGE_MIN)
		(void)madvise(m, n * size, MADV_HUGEPAGE); /* a hint: without it, small pages */
#endif
	return m;
}

/* The same in small pages (touched sparsely: a page each where used). */
static void *table_alloc_small(size_t n, size_t size)
{
	if (n == 0 || size > SIZE_MAX / n)
		return NULL;
	void *m = mmap(NULL, n * size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return m == MAP_FAILED ? NULL : m;
}

static void table_release(void *m, size_t n, size_t size)
{
	if (m)
		munmap(m, n * size);
}

om_flow_table *om_flow_table_new(const om_flow_config *cfg)
{
	if (!cfg || cfg->max_flows == 0 ||
	    cfg->max_flows > (SIZE_MAX / sizeof(struct flow_entry)) || cfg->max_flows > UINT32_MAX)
		return NULL;
	if (cfg->emergency_pct > 100 || cfg->emergency_recovery_pct > 100)
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
	t->flows = table_alloc((size_t)cfg->max_flows, sizeof(struct flow_entry));
	t->buckets = table_alloc((size_t)p2, sizeof(struct flow_entry *));
	t->tunnels = table_alloc_small((size_t)cfg->max_flows, sizeof(om_tunnel_layer));
	if (!t->flows || !t->buckets || !t->tunnels)
		return om_flow_table_free(t);
	/* A table without a kernel random source still gets a key that no
	 * remote sender knows (clocks, addresses); nothing else to do. */
	(void)om_hash_key_random(&t->key);

	uint64_t load = (cfg->max_flows + p2 - 1) / p2;
	uint64_t cap = cfg->max_chain ? cfg->max_chain : CHAIN_CAP_BASE * load;
	t->max_chain = (uint32_t)(cap > CHAIN_CAP_MAX ? CHAIN_CAP_MAX : cap);

	uint64_t enter = cfg->emergency_pct ? cfg->emergency_pct : EMERG_ENTER_PCT;
	uint64_t rec =
	    cfg->emergency_recovery_pct ? cfg->emergency_recovery_pct : EMERG_RECOVERY_PCT;
	uint64_t leave = 100 - rec;
	if (leave > enter)
		leave = enter;
	/* enter at ceil(enter% of max), at least 1; leave below leave% */
	t->emerg_enter = (cfg->max_flows * enter + 99) / 100;
	if (t->emerg_enter == 0)
		t->emerg_enter = 1;
	t->emerg_leave = cfg->max_flows * leave / 100;
	if (t->emerg_leave > t->emerg_enter)
		t->emerg_leave = t->emerg_enter;

	om_usec *n = t->tmo_normal, *e = t->tmo_emerg;
	n[TC_TCP_NEW] = cfg->timeout_new * USEC_PER_SEC;
	n[TC_TCP_EST] = cfg->timeout_est * USEC_PER_SEC;
	n[TC_TCP_CLOSED] = cfg->timeout_closed * USEC_PER_SEC;
	n[TC_UDP_NEW] = n[TC_UDP_EST] = cfg->timeout_udp * USEC_PER_SEC;
	n[TC_ICMP_NEW] = n[TC_ICMP_EST] = cfg->timeout_icmp * USEC_PER_SEC;
	n[TC_OTHER_NEW] = n[TC_OTHER_EST] = cfg->timeout_udp * USEC_PER_SEC;
	e[TC_TCP_NEW] = emerg_timeout(cfg->timeout_new, cfg->emerg_timeout_new, EMERG_TCP_NEW);
	e[TC_TCP_EST] = emerg_timeout(cfg->timeout_est, cfg->emerg_timeout_est, EMERG_EST);
	e[TC_TCP_CLOSED] =
	    emerg_timeout(cfg->timeout_closed, cfg->emerg_timeout_closed, EMERG_CLOSED);
	e[TC_UDP_NEW] = emerg_timeout(cfg->timeout_udp, cfg->emerg_timeout_new, EMERG_NEW);
	e[TC_UDP_EST] = emerg_timeout(cfg->timeout_udp, cfg->emerg_timeout_est, EMERG_EST);
	e[TC_ICMP_NEW] = emerg_timeout(cfg->timeout_icmp, cfg->emerg_timeout_new, EMERG_NEW);
	e[TC_ICMP_EST] = emerg_timeout(cfg->timeout_icmp, cfg->emerg_timeout_est, EMERG_EST);
	e[TC_OTHER_NEW] = emerg_timeout(cfg->timeout_udp, cfg->emerg_timeout_new, EMERG_NEW);
	e[TC_OTHER_EST] = emerg_timeout(cfg->timeout_udp, cfg->emerg_timeout_est, EMERG_EST);
	t->timeout = t->tmo_normal;
	return t;
}

om_flow_table *om_flow_table_free(om_flow_table *t)
{
	if (!t)
		return NULL;
	table_release(t->flows, (size_t)t->cfg.max_flows, sizeof(struct flow_entry));
	table_release(t->buckets, (size_t)t->nbuckets, sizeof(struct flow_entry *));
	table_release(t->tunnels, (size_t)t->cfg.max_flows, sizeof(om_tunnel_layer));
	free(t);
	return NULL;
}

const om_flow_stats *om_flow_table_stats(const om_flow_table *t)
{
	return &t->stats;
}

const om_flow_probe_stats *om_flow_table_probe(const om_flow_table *t)
{
	return &t->probe;
}

bool om_flow_table_emergency(const om_flow_table *t)
{
	return t->emergency;
}

static inline struct flow_entry **bucket_of(om_flow_table *t, uint32_t h)
{
	return &t->buckets[h & (t->nbuckets - 1)];
}

/* Emergency mode follows the number of flows in use, with hysteresis. */
static void emergency_check(om_flow_table *t)
{
	bool was = t->emergency;
	if (!was && t->stats.active >= t->emerg_enter) {
		t->emergency = true;
		t->timeout = t->tmo_emerg;
		t->stats.emergency_entered++;
	} else if (was && t->stats.active < t->emerg_leave) {
		t->emergency = false;
		t->timeout = t->tmo_normal;
		t->stats.emergency_left++;
	} else {
		return;
	}
	t->stats.in_emergency = t->emergency;
	if (t->cfg.on_emergency)
		t->cfg.on_emergency(t->cfg.user, t->emergency, t->now, &t->stats);
}

/* Unlinks f from its bucket and list, reports it and returns it to the free
 * list. The chain walk is bounded by max_chain. */
static void flow_end(om_flow_table *t, om_flow *f, enum om_flow_end why)
{
	struct flow_entry *e = entry_of(f);
	for (struct flow_entry **pp = bucket_of(t, e->hash); *pp; pp = &(*pp)->hnext) {
		if (*pp == e) {
			*pp = e->hnext;
			break;
		}
	}
	lru_remove(t, e);
	if (t->cfg.on_end)
		t->cfg.on_end(t->cfg.user, f, why);
	om_stream_flow_end_why(t->cfg.stream, f, om_stream_end_of(why)); /* if on_end did not */
	memset(&e->pub, 0, sizeof(e->pub));
	e->used = false;
	e->gen = e->gen + 1 ? e->gen + 1 : 1; /* handles to it are now stale */
	e->hnext = t->free;
	t->free = e;
	t->stats.ended++;
	t->stats.active--;
	emergency_check(t);
}

static inline om_usec deadline(const om_flow_table *t, enum tclass c, const om_flow *f)
{
	return f->last + t->timeout[c];
}

/* Index of the list whose head has the smallest key: the oldest last-seen
 * (by_deadline false) or the earliest deadline (true). Only lists whose
 * class is in `which` (bit per class) count. -1 if all are empty. */
#define ALL_CLASSES ((1u << TC_COUNT) - 1)
static int oldest_head(const om_flow_table *t, bool by_deadline, unsigned which)
{
	int best = -1;
	om_usec bv = 0;
	for (int c = 0; c < TC_COUNT; c++) {
		const struct flow_entry *h = t->lists[c].head;
		if (!h || !(which & (1u << c)))
			continue;
		om_usec v = by_deadline ? deadline(t, (enum tclass)c, &h->pub) : h->pub.last;
		if (best < 0 || v < bv) {
			best = c;
			bv = v;
		}
	}
	return best;
}

void om_flow_table_expire(om_flow_table *t, om_usec now)
{
	if (now > t->now)
		t->now = now;
	for (int c = 0; c < TC_COUNT; c++) {
		struct flow_entry *e;
		/* re-read the timeout each time: ending a flow may leave
		 * emergency mode and lengthen it */
		while ((e = t->lists[c].head) && deadline(t, (enum tclass)c, &e->pub) <= now)
			flow_end(t, &e->pub, OM_FLOW_END_TIMEOUT);
	}
}

void om_flow_table_flush(om_flow_table *t, enum om_flow_end why)
{
	int c;
	while ((c = oldest_head(t, false, ALL_CLASSES)) >= 0)
		flow_end(t, &t->lists[c].head->pub, why);
}

/* Ends one flow to make room: a flow whose timeout has passed at now if
 * there is one (a timeout, not an eviction), else the least recently used
 * unestablished or closed flow, and only when there is none of those the
 * least recently used established one. */
static void make_room(om_flow_table *t, om_usec now)
{
	unsigned weak = 0;
	for (int c = 0; c < TC_COUNT; c++)
		if (!class_established[c])
			weak |= 1u << c;
	int c = oldest_head(t, true, ALL_CLASSES);
	if (c < 0)
		return; /* cannot happen: max_flows > 0 */
	if (deadline(t, (enum tclass)c, &t->lists[c].head->pub) <= now) {
		flow_end(t, &t->lists[c].head->pub, OM_FLOW_END_TIMEOUT);
		return;
	}
	c = oldest_head(t, false, weak);
	if (c >= 0) {
		if (c == TC_TCP_CLOSED)
			t->stats.evicted_closed++;
		else
			t->stats.evicted_new++;
	} else {
		c = oldest_head(t, false, ALL_CLASSES & ~weak);
		t->stats.evicted_est++;
	}
	t->stats.evicted++;
	flow_end(t, &t->lists[c].head->pub, OM_FLOW_END_EVICTED);
}

/* A free entry; when none is left, makes room first. */
static struct flow_entry *flow_alloc(om_flow_table *t, om_usec now)
{
	struct flow_entry *e;
	if (!t->free && t->unused < t->cfg.max_flows) {
		e = &t->flows[t->unused];
		e->idx = (uint32_t)t->unused++;
	} else {
		if (unlikely(!t->free)) {
			t->stats.memcap_hits++;
			make_room(t, now);
			if (!t->free)
				return NULL;
		}
		e = t->free;
		t->free = e->hnext;
	}
	e->hnext = NULL;
	e->used = true;
	if (e->gen == 0)
		e->gen = 1;
	return e;
}

/* ---- handles ---------------------------------------------------------------- */

om_flow_handle om_flow_handle_of(const om_flow *f)
{
	om_flow_handle h = {0, 0};
	if (f) {
		const struct flow_entry *e = entry_of(f);
		h.idx = e->idx;
		h.gen = e->gen;
	}
	return h;
}

om_flow *om_flow_from_handle(om_flow_table *t, om_flow_handle h)
{
	if (!t || h.gen == 0 || h.idx >= t->unused)
		return NULL;
	struct flow_entry *e = &t->flows[h.idx];
	if (!e->used || e->gen != h.gen)
		return NULL;
	return &e->pub;
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
	if (f->proto != k->proto || f->tunnel_id != k->tunnel || f->ip_ver != ip_ver ||
	    memcmp(f->vlan, k->vlan, sizeof(f->vlan)) != 0)
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

/* The key fields of a new flow beyond the addresses and ports, and what
 * the EVE tunnel object needs: the packet's outermost IP tunnel layer. */
static void key_store(om_flow_table *t, struct flow_entry *e, const struct pkey *k,
                      const om_packet *p)
{
	om_flow *f = &e->pub;
	memcpy(f->vlan, k->vlan, sizeof(f->vlan));
	f->vlan_count = p->vlan_count < OM_VLAN_MAX ? p->vlan_count : OM_VLAN_MAX;
	f->tunnel_id = k->tunnel;
	unsigned depth = 0;
	const om_tunnel_layer *root = om_tunnel_root(p->tunnel, p->tunnel_count, &depth);
	if (root) {
		t->tunnels[e->idx] = *root;
		f->tunnel = &t->tunnels[e->idx];
	}
	f->tunnel_depth = (uint8_t)depth;
}

/* Bytes of a packet for the flow counters: on the wire, or the IP datagram
 * when it was rebuilt from fragments or travelled inside a tunnel (the
 * outer headers belong to the tunnel's own flow). */
static uint64_t packet_bytes(const om_packet *p)
{
	if ((p->flags & (OM_PKT_REASSEMBLED | OM_PKT_TUNNEL)) || !p->wirelen)
		return p->l3_len;
	return p->wirelen;
}

void om_flow_prefetch(om_flow_table *t, const om_packet *p)
{
	t->hint_nw = 0;
	if (p->ip_ver != 4 && p->ip_ver != 6)
		return;
	struct pkey k;
	packet_key(p, &k, true);
	unsigned nw = key_words(&k, t->hint_w);
	t->hint_hash = (uint32_t)om_siphash_words(&t->key, t->hint_w, nw);
	t->hint_nw = (uint8_t)nw;
	__builtin_prefetch(bucket_of(t, t->hint_hash));
}

void om_flow_prefetch_entry(om_flow_table *t)
{
	if (!t->hint_nw)
		return;
	const struct flow_entry *e = *bucket_of(t, t->hint_hash);
	if (e) {
		__builtin_prefetch(e);        /* the key */
		__builtin_prefetch(&e->hash); /* hash, links */
	}
}

om_flow *om_flow_get(om_flow_table *t, const om_packet *p, int *ret_dir)
{
	if (p->ip_ver != 4 && p->ip_ver != 6)
		return NULL;
	struct pkey k;
	packet_key(p, &k, true);
	uint64_t w[6];
	unsigned nw = key_words(&k, w);
	uint32_t h;
	/* equal words are an equal key (key_words is one-to-one) */
	bool same = t->hint_nw == nw;
	for (unsigned i = 0; same && i < nw; i++)
		same = t->hint_w[i] == w[i];
	if (same) {
		h = t->hint_hash;
		t->probe.hints++;
	} else {
		h = (uint32_t)om_siphash_words(&t->key, w, nw);
	}
	t->hint_nw = 0;
	struct flow_entry **b = bucket_of(t, h);
	struct flow_entry *e, *lru = NULL;
	om_flow *f = NULL;
	int dir = OM_DIR_TOSERVER;
	bool first = false;
	uint32_t walked = 0;

	if (p->ts > t->now)
		t->now = p->ts;
	for (e = *b; e; e = e->hnext) {
		walked++;
		if (e->hash == h && key_match(&e->pub, &k, p->ip_ver, &dir)) {
			f = &e->pub;
			break;
		}
		if (!lru || e->pub.last < lru->pub.last)
			lru = e;
	}
	t->probe.lookups++;
	t->probe.compares += walked;
	if (walked > t->probe.chain_max)
		t->probe.chain_max = walked;

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
		/* Not found, so the whole chain was walked: at the cap, the
		 * least recently used flow of the chain makes room. */
		if (!e && walked >= t->max_chain && lru) {
			t->stats.chain_evicted++;
			t->stats.evicted++;
			flow_end(t, &lru->pub, OM_FLOW_END_EVICTED);
		}
		e = flow_alloc(t, p->ts);
		if (!e)
			return NULL;
		f = &e->pub;
		first = true;
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
		key_store(t, e, &k, p);
		f->start = f->last = p->ts;
		f->flow_id = flow_id_of(f);
		f->state = OM_FLOW_NEW;
		e->hash = h;
		e->hnext = *b;
		*b = e;
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
		lru_remove(t, e);
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
	lru_append(t, e, class_of(f));
	if (first)
		emergency_check(t); /* after the flow is in place: the callback may look */
	*ret_dir = dir;
	return f;
}
