/* recon: scan detection. Finds vertical port scans (many ports on one host),
 * horizontal scans (one port on many hosts) and ICMP ping sweeps from sources
 * outside home-net, and reports one alert per scan episode when it closes.
 *
 * Data layout (all preallocated in om_recon_new, nothing allocated per packet):
 *  - sources: an array of recon_max_sources slots, a hash on the address and
 *    a list ordered by last probe time (least recently seen first), used both
 *    for expiry and for eviction at the cap;
 *  - pairs: a shared pool of (host, port) probe records, each owned by one
 *    source and kept on that source's list in last-touch order; these are the
 *    sliding window the thresholds are checked against (at most
 *    RECON_PAIRS_PER_SOURCE per source);
 *  - episodes: a pool of open scan episodes with exact distinct counting
 *    (a 65536-bit port bitmap and a bounded host set).
 * Time is capture time only. Design and limits: docs/guard.md. */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "guard/guard.h"

#define RECON_PAIRS_PER_SOURCE 128u /* window records per source; thresholds are capped to it */
#define RECON_EP_HOST_SLOTS 512u    /* host set slots per episode */
#define RECON_EP_HOST_EXACT 384u    /* distinct hosts counted exactly per episode */
#define RECON_MAX_SOURCES_LIMIT (1u << 24)
#define RECON_NONE UINT32_MAX

enum { KIND_PORT = 0, KIND_ECHO = 1 }; /* probe families */

typedef struct recon_pair {
	om_addr host;
	om_usec first, last; /* first and last probe while in the window */
	uint32_t packets;
	uint32_t prev, next; /* the owner's list (oldest first) or the free list */
	uint16_t port;
	uint8_t kind;
} recon_pair;

typedef struct recon_source {
	om_addr addr;
	om_usec last_seen;
	uint32_t hnext;
	uint32_t lru_prev, lru_next;
	uint32_t pair_head, pair_tail, npairs;
	uint32_t ep[3]; /* open episode per enum om_recon_kind, or RECON_NONE */
	bool used;
} recon_source;

typedef struct recon_episode {
	om_recon_alert a;            /* filled as the episode goes; ports sorted at close */
	uint32_t src;                /* owning source */
	uint32_t lru_prev, lru_next; /* by last extension; next doubles as free link */
	bool host_capped;            /* more distinct hosts than RECON_EP_HOST_EXACT */
	uint64_t portbits[65536 / 64];
	uint64_t hostused[RECON_EP_HOST_SLOTS / 64];
	om_addr hostset[RECON_EP_HOST_SLOTS];
} recon_episode;

struct om_recon {
	const om_base_config *base;
	om_recon_cb cb;
	void *user;
	om_usec now;     /* capture clock: the largest time seen */
	om_usec window;  /* microseconds */
	uint32_t thr[3]; /* effective thresholds; 0 = that detection is off */
	om_hash_key key; /* random: packets choose the addresses hashed */

	recon_source *src;
	uint32_t nsrc_max;
	uint32_t *buckets;
	uint32_t nbuckets; /* power of two */
	uint32_t src_free; /* free list through hnext */
	uint32_t lru_head, lru_tail;

	recon_pair *pairs;
	uint32_t npairs_max;
	uint32_t pair_free;

	recon_episode *eps;
	uint32_t neps_max;
	uint32_t ep_free;
	uint32_t ep_head, ep_tail;

	uint32_t *scratch; /* nsrc_max source indexes, for ordered closing */

	/* UDP sent from inside to outside, so that the answers (a DNS or NTP
	 * server replying to many client ports) are not taken for a scan of
	 * those ports: a direct-mapped cache of the expected reply's tuple. A
	 * slot overwritten by another conversation only makes a reply count
	 * as a probe again, as it did without the cache. */
	struct udp_sent {
		uint64_t tag; /* hash of the reply's (src, dst, sport, dport); 0 = empty */
		om_usec ts;
	} * udp;
	om_usec udp_timeout;
	om_recon_stats st;
	om_recon_cb open_cb; /* om_recon_set_open_cb */
	void *open_user;
};

#define RECON_UDP_SLOTS (1u << 16)

const char *om_recon_kind_name(enum om_recon_kind k)
{
	switch (k) {
	case OM_RECON_VERTICAL: return "portscan.vertical";
	case OM_RECON_HORIZONTAL: return "portscan.horizontal";
	case OM_RECON_SWEEP: return "pingsweep";
	}
	return "unknown";
}

/* ---- small helpers ------------------------------------------------------ */

static uint32_t src_hash(const om_recon *r, const om_addr *a)
{
	return (uint32_t)om_siphash(&r->key, a->b, sizeof(a->b)) & (r->nbuckets - 1);
}

static bool window_expired(const om_recon *r, om_usec t)
{
	/* quiet since before now - window, without underflow */
	return t + r->window < r->now;
}

static void lru_unlink(recon_source *s, uint32_t i, uint32_t *head, uint32_t *tail)
{
	recon_source *e = &s[i];
	if (e->lru_prev != RECON_NONE)
		s[e->lru_prev].lru_next = e->lru_next;
	else
		*head = e->lru_next;
	if (e->lru_next != RECON_NONE)
		s[e->lru_next].lru_prev = e->lru_prev;
	else
		*tail = e->lru_prev;
	e->lru_prev = e->lru_next = RECON_NONE;
}

static void lru_append(recon_source *s, uint32_t i, uint32_t *head, uint32_t *tail)
{
	s[i].lru_prev = *tail;
	s[i].lru_next = RECON_NONE;
	if (*tail != RECON_NONE)
		s[*tail].lru_next = i;
	else
		*head = i;
	*tail = i;
}

static void ep_unlink(om_recon *r, uint32_t i)
{
	recon_episode *e = &r->eps[i];
	if (e->lru_prev != RECON_NONE)
		r->eps[e->lru_prev].lru_next = e->lru_next;
	else
		r->ep_head = e->lru_next;
	if (e->lru_next != RECON_NONE)
		r->eps[e->lru_next].lru_prev = e->lru_prev;
	else
		r->ep_tail = e->lru_prev;
	e->lru_prev = e->lru_next = RECON_NONE;
}

static void ep_append(om_recon *r, uint32_t i)
{
	recon_episode *e = &r->eps[i];
	e->lru_prev = r->ep_tail;
	e->lru_next = RECON_NONE;
	if (r->ep_tail != RECON_NONE)
		r->eps[r->ep_tail].lru_next = i;
	else
		r->ep_head = i;
	r->ep_tail = i;
}

static void pair_unlink(om_recon *r, recon_source *s, uint32_t i)
{
	recon_pair *p = &r->pairs[i];
	if (p->prev != RECON_NONE)
		r->pairs[p->prev].next = p->next;
	else
		s->pair_head = p->next;
	if (p->next != RECON_NONE)
		r->pairs[p->next].prev = p->prev;
	else
		s->pair_tail = p->prev;
	p->prev = p->next = RECON_NONE;
}

static void pair_append(om_recon *r, recon_source *s, uint32_t i)
{
	recon_pair *p = &r->pairs[i];
	p->prev = s->pair_tail;
	p->next = RECON_NONE;
	if (s->pair_tail != RECON_NONE)
		r->pairs[s->pair_tail].next = i;
	else
		s->pair_head = i;
	s->pair_tail = i;
}

static void pair_release(om_recon *r, recon_source *s, uint32_t i)
{
	pair_unlink(r, s, i);
	s->npairs--;
	r->pairs[i].next = r->pair_free;
	r->pair_free = i;
}

/* ---- episodes ----------------------------------------------------------- */

/* Adds one probe to an episode's distinct counts and lists. */
static void ep_count(recon_episode *e, const om_addr *host, uint16_t port, uint8_t kind)
{
	om_recon_alert *a = &e->a;

	if (kind == KIND_PORT) {
		uint64_t bit = 1ull << (port & 63);
		if (!(e->portbits[port >> 6] & bit)) {
			e->portbits[port >> 6] |= bit;
			a->port_count++;
			if (a->nports < OM_RECON_LIST_MAX)
				a->ports[a->nports++] = port;
		}
	}
	/* host set: open addressing; the slot is derived from the address bytes
	 * (FNV-1a), which keeps the set deterministic across runs */
	uint32_t h = 2166136261u;
	for (size_t k = 0; k < sizeof(host->b); k++)
		h = (h ^ host->b[k]) * 16777619u;
	for (uint32_t n = 0; n < RECON_EP_HOST_SLOTS; n++) {
		uint32_t slot = (h + n) & (RECON_EP_HOST_SLOTS - 1);
		if (!(e->hostused[slot >> 6] & (1ull << (slot & 63)))) {
			if (a->host_count >= RECON_EP_HOST_EXACT) {
				e->host_capped = true; /* counted no further: a lower bound */
				return;
			}
			e->hostused[slot >> 6] |= 1ull << (slot & 63);
			e->hostset[slot] = *host;
			a->host_count++;
			if (a->nhosts < OM_RECON_LIST_MAX)
				a->hosts[a->nhosts++] = *host;
			return;
		}
		if (memcmp(&e->hostset[slot], host, sizeof(*host)) == 0)
			return;
	}
	e->host_capped = true;
}

static int cmp_u16(const void *x, const void *y)
{
	uint16_t a = *(const uint16_t *)x, b = *(const uint16_t *)y;
	return (a > b) - (a < b);
}

static void ep_close(om_recon *r, uint32_t ei)
{
	recon_episode *e = &r->eps[ei];
	recon_source *s = &r->src[e->src];
	om_recon_alert a = e->a;

	qsort(a.ports, a.nports, sizeof(a.ports[0]), cmp_u16);
	a.host_count_capped = e->host_capped;
	s->ep[a.kind] = RECON_NONE;
	ep_unlink(r, ei);
	e->lru_next = r->ep_free;
	r->ep_free = ei;
	r->st.alerts++;
	if (r->cb)
		r->cb(r->user, &a);
}

/* Opens an episode of kind k for source si, seeded with the source's window
 * records of the matching family. */
static void ep_open(om_recon *r, uint32_t si, enum om_recon_kind k, const om_addr *thost,
                    uint16_t tport, uint8_t proto)
{
	recon_source *s = &r->src[si];
	uint8_t fam = k == OM_RECON_SWEEP ? KIND_ECHO : KIND_PORT;

	if (r->ep_free == RECON_NONE) {
		/* pool full: the least recently extended episode is reported now */
		r->st.episodes_forced++;
		ep_close(r, r->ep_head);
	}
	uint32_t ei = r->ep_free;
	recon_episode *e = &r->eps[ei];
	r->ep_free = e->lru_next;

	memset(&e->a, 0, sizeof(e->a));
	memset(e->portbits, 0, sizeof(e->portbits));
	memset(e->hostused, 0, sizeof(e->hostused));
	e->host_capped = false;
	e->src = si;
	e->a.kind = k;
	e->a.src = s->addr;
	e->a.proto = proto;
	if (k == OM_RECON_VERTICAL)
		e->a.target_host = *thost;
	else if (k == OM_RECON_HORIZONTAL)
		e->a.target_port = tport;
	e->a.first_seen = UINT64_MAX;
	e->a.last_seen = r->now;
	for (uint32_t pi = s->pair_head; pi != RECON_NONE; pi = r->pairs[pi].next) {
		const recon_pair *p = &r->pairs[pi];
		if (p->kind != fam)
			continue;
		if (p->first < e->a.first_seen)
			e->a.first_seen = p->first;
		e->a.packets += p->packets;
		ep_count(e, &p->host, p->port, p->kind);
	}
	if (e->a.first_seen == UINT64_MAX)
		e->a.first_seen = r->now;
	s->ep[k] = ei;
	ep_append(r, ei);
	if (r->open_cb)
		r->open_cb(r->open_user, &e->a);
}

/* ---- sources ------------------------------------------------------------ */

static void src_release(om_recon *r, uint32_t si)
{
	recon_source *s = &r->src[si];

	for (int k = 0; k < 3; k++)
		if (s->ep[k] != RECON_NONE)
			ep_close(r, s->ep[k]);
	while (s->pair_head != RECON_NONE)
		pair_release(r, s, s->pair_head);

	uint32_t *pp = &r->buckets[src_hash(r, &s->addr)];
	while (*pp != si)
		pp = &r->src[*pp].hnext;
	*pp = s->hnext;
	lru_unlink(r->src, si, &r->lru_head, &r->lru_tail);
	s->used = false;
	s->hnext = r->src_free;
	r->src_free = si;
	r->st.sources--;
}

static int cmp_addr(const om_addr *a, const om_addr *b)
{
	return memcmp(a->b, b->b, sizeof(a->b));
}

static int cmp_src(const void *x, const void *y, void *ctx)
{
	const recon_source *srcs = ctx;
	const recon_source *a = &srcs[*(const uint32_t *)x];
	const recon_source *b = &srcs[*(const uint32_t *)y];
	if (a->last_seen != b->last_seen)
		return a->last_seen < b->last_seen ? -1 : 1;
	return cmp_addr(&a->addr, &b->addr);
}

/* Releases the n sources in r->scratch in (last_seen, address) order. */
static void release_sorted(om_recon *r, uint32_t n)
{
	qsort_r(r->scratch, n, sizeof(r->scratch[0]), cmp_src, r->src);
	for (uint32_t i = 0; i < n; i++)
		src_release(r, r->scratch[i]);
}

static void expire_now(om_recon *r)
{
	uint32_t n = 0;
	/* the list is ordered by last_seen, so the stale ones are a prefix */
	for (uint32_t i = r->lru_head; i != RECON_NONE && window_expired(r, r->src[i].last_seen);
	     i = r->src[i].lru_next)
		r->scratch[n++] = i;
	if (n)
		release_sorted(r, n);
}

static void evict_lru(om_recon *r)
{
	r->st.source_evictions++;
	src_release(r, r->lru_head);
}

static uint32_t src_get(om_recon *r, const om_addr *a)
{
	uint32_t b = src_hash(r, a);
	for (uint32_t i = r->buckets[b]; i != RECON_NONE; i = r->src[i].hnext)
		if (cmp_addr(&r->src[i].addr, a) == 0)
			return i;

	if (r->src_free == RECON_NONE)
		evict_lru(r);
	uint32_t si = r->src_free;
	recon_source *s = &r->src[si];
	r->src_free = s->hnext;
	memset(s, 0, sizeof(*s));
	s->addr = *a;
	s->used = true;
	s->pair_head = s->pair_tail = RECON_NONE;
	s->lru_prev = s->lru_next = RECON_NONE;
	for (int k = 0; k < 3; k++)
		s->ep[k] = RECON_NONE;
	s->hnext = r->buckets[b];
	r->buckets[b] = si;
	lru_append(r->src, si, &r->lru_head, &r->lru_tail);
	s->last_seen = r->now;
	if (++r->st.sources > r->st.sources_max)
		r->st.sources_max = r->st.sources;
	return si;
}

/* ---- public ------------------------------------------------------------- */

om_recon *om_recon_new(const om_guard_config *cfg, const om_base_config *base, uint32_t udp_timeout,
                       om_recon_cb cb, void *user)
{
	if (!cfg || !base)
		return NULL;
	om_recon *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->base = base;
	r->cb = cb;
	r->user = user;
	r->window = (om_usec)cfg->recon_window * 1000000u;
	uint32_t want[3] = {cfg->recon_vertical_ports, cfg->recon_horizontal_hosts,
	                    cfg->recon_sweep_hosts};
	for (int k = 0; k < 3; k++) {
		r->thr[k] = want[k];
		if (want[k] > RECON_PAIRS_PER_SOURCE) {
			om_warn(om_tr("warn.recon.threshold"),
			        om_recon_kind_name((enum om_recon_kind)k), want[k],
			        RECON_PAIRS_PER_SOURCE, RECON_PAIRS_PER_SOURCE);
			r->thr[k] = RECON_PAIRS_PER_SOURCE;
		}
	}
	(void)om_hash_key_random(&r->key); /* on failure still unknown remotely */

	uint32_t n = cfg->recon_max_sources;
	if (n == 0)
		n = 1;
	if (n > RECON_MAX_SOURCES_LIMIT)
		n = RECON_MAX_SOURCES_LIMIT;
	r->nsrc_max = n;
	r->nbuckets = 1;
	while (r->nbuckets < n)
		r->nbuckets <<= 1;
	r->npairs_max = n * 2 + 4 * RECON_PAIRS_PER_SOURCE;
	r->neps_max = n / 128;
	if (r->neps_max < 16)
		r->neps_max = 16;
	if (r->neps_max > 512)
		r->neps_max = 512;

	r->src = calloc(n, sizeof(*r->src));
	r->buckets = malloc((size_t)r->nbuckets * sizeof(*r->buckets));
	r->pairs = calloc(r->npairs_max, sizeof(*r->pairs));
	r->eps = calloc(r->neps_max, sizeof(*r->eps));
	r->scratch = malloc((size_t)n * sizeof(*r->scratch));
	r->udp = calloc(RECON_UDP_SLOTS, sizeof(*r->udp));
	r->udp_timeout = (om_usec)(udp_timeout ? udp_timeout : 60) * 1000000u;
	if (!r->src || !r->buckets || !r->pairs || !r->eps || !r->scratch || !r->udp)
		return om_recon_free(r);

	for (uint32_t i = 0; i < r->nbuckets; i++)
		r->buckets[i] = RECON_NONE;
	for (uint32_t i = 0; i < n; i++)
		r->src[i].hnext = i + 1 < n ? i + 1 : RECON_NONE;
	r->src_free = 0;
	r->lru_head = r->lru_tail = RECON_NONE;
	for (uint32_t i = 0; i < r->npairs_max; i++)
		r->pairs[i].next = i + 1 < r->npairs_max ? i + 1 : RECON_NONE;
	r->pair_free = 0;
	for (uint32_t i = 0; i < r->neps_max; i++)
		r->eps[i].lru_next = i + 1 < r->neps_max ? i + 1 : RECON_NONE;
	r->ep_free = 0;
	r->ep_head = r->ep_tail = RECON_NONE;
	return r;
}

om_recon *om_recon_free(om_recon *r)
{
	if (!r)
		return NULL;
	free(r->src);
	free(r->buckets);
	free(r->pairs);
	free(r->eps);
	free(r->scratch);
	free(r->udp);
	free(r);
	return NULL;
}

/* Hash of a UDP tuple as (from, to, from port, to port); never 0. */
static uint64_t udp_tag(const om_recon *r, const om_addr *from, const om_addr *to, uint16_t fp,
                        uint16_t tp)
{
	uint8_t k[36];
	memcpy(k, from->b, 16);
	memcpy(k + 16, to->b, 16);
	k[32] = (uint8_t)(fp >> 8);
	k[33] = (uint8_t)fp;
	k[34] = (uint8_t)(tp >> 8);
	k[35] = (uint8_t)tp;
	uint64_t h = om_siphash(&r->key, k, sizeof(k));
	return h ? h : 1;
}

/* Outbound UDP: remember the tuple its answer will have. Inbound UDP:
 * true when it answers a datagram sent from inside within the UDP timeout. */
static bool udp_is_answer(om_recon *r, const om_packet *p, bool src_home)
{
	if (p->proto != IPPROTO_UDP || !(p->flags & OM_PKT_HAS_PORTS))
		return false;
	if (src_home) {
		if (om_base_is_home(r->base, &p->dst))
			return false;
		uint64_t tag = udp_tag(r, &p->dst, &p->src, p->dport, p->sport);
		struct udp_sent *u = &r->udp[tag & (RECON_UDP_SLOTS - 1)];
		u->tag = tag;
		u->ts = p->ts;
		return false;
	}
	uint64_t tag = udp_tag(r, &p->src, &p->dst, p->sport, p->dport);
	const struct udp_sent *u = &r->udp[tag & (RECON_UDP_SLOTS - 1)];
	return u->tag == tag && p->ts >= u->ts && p->ts - u->ts <= r->udp_timeout;
}

/* Classifies a packet: returns true for a probe, with its family and port. */
static bool is_probe(const om_packet *p, uint8_t *kind, uint16_t *port)
{
	if (!(p->flags & (OM_PKT_IPV4 | OM_PKT_IPV6)) || (p->flags & OM_PKT_FRAGMENT))
		return false;
	if ((p->flags & (OM_PKT_TCP | OM_PKT_HAS_PORTS)) == (OM_PKT_TCP | OM_PKT_HAS_PORTS) &&
	    p->proto == IPPROTO_TCP) {
		if ((p->tcp_flags & (OM_TH_SYN | OM_TH_ACK)) != OM_TH_SYN)
			return false;
		*kind = KIND_PORT;
		*port = p->dport;
		return true;
	}
	if ((p->flags & (OM_PKT_UDP | OM_PKT_HAS_PORTS)) == (OM_PKT_UDP | OM_PKT_HAS_PORTS) &&
	    p->proto == IPPROTO_UDP) {
		*kind = KIND_PORT;
		*port = p->dport;
		return true;
	}
	if (p->flags & OM_PKT_ICMP) {
		if ((p->proto == IPPROTO_ICMP && p->icmp_type == 8) ||
		    (p->proto == IPPROTO_ICMPV6 && p->icmp_type == 128)) {
			*kind = KIND_ECHO;
			*port = 0;
			return true;
		}
	}
	return false;
}

void om_recon_packet(om_recon *r, const om_packet *p)
{
	uint8_t kind;
	uint16_t port;

	if (!r || !p)
		return;
	if (p->ts > r->now)
		r->now = p->ts;
	expire_now(r);
	bool src_home = om_base_is_home(r->base, &p->src);
	if (udp_is_answer(r, p, src_home)) {
		r->st.udp_answers++;
		return;
	}
	if (src_home || !is_probe(p, &kind, &port))
		return;
	r->st.probes++;

	uint32_t si = src_get(r, &p->src);
	recon_source *s = &r->src[si];
	s->last_seen = r->now;
	lru_unlink(r->src, si, &r->lru_head, &r->lru_tail);
	lru_append(r->src, si, &r->lru_head, &r->lru_tail);

	/* slide the window */
	while (s->pair_head != RECON_NONE && window_expired(r, r->pairs[s->pair_head].last))
		pair_release(r, s, s->pair_head);

	/* one pass over the window: find this probe's record and count, among
	 * the others, the ports on its host, the hosts on its port and the
	 * hosts pinged (the counts matter only when the record is new) */
	uint32_t pi, same_host = 1, same_port = 1, echo = kind == KIND_ECHO;
	for (pi = s->pair_head; pi != RECON_NONE; pi = r->pairs[pi].next) {
		const recon_pair *q = &r->pairs[pi];
		if (q->kind != kind)
			continue;
		bool host_eq = cmp_addr(&q->host, &p->dst) == 0;
		if (q->port == port && host_eq)
			break;
		echo += kind == KIND_ECHO;
		same_host += host_eq;
		same_port += q->port == port;
	}
	bool fresh = pi == RECON_NONE;
	if (!fresh) {
		if (r->pairs[pi].packets != UINT32_MAX) /* saturates */
			r->pairs[pi].packets++;
		r->pairs[pi].last = r->now;
		pair_unlink(r, s, pi);
		pair_append(r, s, pi);
	} else {
		/* make room: this source's oldest record goes at the per-source
		 * limit, another source (the least recently seen) when the shared
		 * pool is empty */
		while (s->npairs >= RECON_PAIRS_PER_SOURCE ||
		       (r->pair_free == RECON_NONE && r->lru_head == si)) {
			const recon_pair *q = &r->pairs[s->pair_head];
			if (q->kind == kind) {
				bool host_eq = cmp_addr(&q->host, &p->dst) == 0;
				echo -= kind == KIND_ECHO;
				same_host -= host_eq;
				same_port -= q->port == port;
			}
			pair_release(r, s, s->pair_head);
		}
		while (r->pair_free == RECON_NONE && r->lru_head != si)
			evict_lru(r);
		if (r->pair_free == RECON_NONE)
			return; /* cannot happen: the pool holds more than one source's limit */
		pi = r->pair_free;
		r->pair_free = r->pairs[pi].next;
		recon_pair *q = &r->pairs[pi];
		q->host = p->dst;
		q->port = port;
		q->kind = kind;
		q->first = q->last = r->now;
		q->packets = 1;
		pair_append(r, s, pi);
		s->npairs++;
	}

	/* extend the open episodes of this family */
	enum om_recon_kind kinds_port[2] = {OM_RECON_VERTICAL, OM_RECON_HORIZONTAL};
	enum om_recon_kind kinds_echo[1] = {OM_RECON_SWEEP};
	const enum om_recon_kind *ks = kind == KIND_PORT ? kinds_port : kinds_echo;
	unsigned nk = kind == KIND_PORT ? 2 : 1;
	for (unsigned i = 0; i < nk; i++) {
		uint32_t ei = s->ep[ks[i]];
		if (ei == RECON_NONE)
			continue;
		recon_episode *e = &r->eps[ei];
		e->a.last_seen = r->now;
		e->a.packets++;
		ep_count(e, &p->dst, port, kind);
		ep_unlink(r, ei);
		ep_append(r, ei);
	}
	if (!fresh)
		return; /* distinct counts in the window did not change */

	/* check the thresholds over the window */
	if (kind == KIND_PORT) {
		if (r->thr[OM_RECON_VERTICAL] && s->ep[OM_RECON_VERTICAL] == RECON_NONE &&
		    same_host >= r->thr[OM_RECON_VERTICAL])
			ep_open(r, si, OM_RECON_VERTICAL, &p->dst, port, p->proto);
		/* ep_open may have closed an episode of this source to make room,
		 * but never the source itself */
		if (r->thr[OM_RECON_HORIZONTAL] && s->ep[OM_RECON_HORIZONTAL] == RECON_NONE &&
		    same_port >= r->thr[OM_RECON_HORIZONTAL])
			ep_open(r, si, OM_RECON_HORIZONTAL, &p->dst, port, p->proto);
	} else if (r->thr[OM_RECON_SWEEP] && s->ep[OM_RECON_SWEEP] == RECON_NONE &&
	           echo >= r->thr[OM_RECON_SWEEP]) {
		ep_open(r, si, OM_RECON_SWEEP, &p->dst, 0, p->proto);
	}
}

void om_recon_expire(om_recon *r, om_usec now)
{
	if (!r)
		return;
	if (now > r->now)
		r->now = now;
	expire_now(r);
}

void om_recon_flush(om_recon *r)
{
	if (!r)
		return;
	uint32_t n = 0;
	for (uint32_t i = r->lru_head; i != RECON_NONE; i = r->src[i].lru_next)
		r->scratch[n++] = i;
	if (n)
		release_sorted(r, n);
}

void om_recon_set_open_cb(om_recon *r, om_recon_cb cb, void *user)
{
	r->open_cb = cb;
	r->open_user = user;
}

const om_recon_stats *om_recon_stats_get(const om_recon *r)
{
	return r ? &r->st : NULL;
}
