/* applayer.c: the app-layer contract. A registry of parsers (filled at
 * start-up, then sealed and shared read-only by the workers), protocol
 * detection by content in both directions, and the per-flow slot that ties a
 * flow to its parser's state. Everything after the registry is per worker:
 * slots and detection buffers come from per-context pools with hard caps, so
 * the steady state does not call malloc. The contract for parser authors is
 * docs/applayer.md. */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "net/net.h"

struct om_app_registry {
	const om_app_parser *p[OM_APP_MAX_PARSERS];
	unsigned n;
	unsigned ipprotos; /* union over the parsers */
	bool sealed;
};

/* Detection buffers of one flow: the first bytes of each direction, held
 * while no parser has been chosen, so that the chosen one sees its stream
 * from the first byte. Pooled per context; limit bytes per direction. */
struct detect {
	uint32_t len[2];    /* bytes held (a prefix of the direction) */
	uint32_t probed[2]; /* len at the last probe */
	uint32_t rounds[2]; /* probe rounds */
	struct detect *next_free;
	uint8_t buf[]; /* [dir * limit] */
};

enum status { ST_UNDECIDED = 0, ST_DETECTED, ST_FAILED };

#define NO_DIR 0xff

struct om_app_flow {
	om_app_ctx *ctx;
	void *state;        /* the parser's, ST_DETECTED only */
	struct detect *det; /* ST_UNDECIDED only, NULL until bytes are held */
	uint32_t no[2];     /* parsers that answered NO, per direction */
	uint32_t seen[2];   /* bytes seen before detection (saturating) */
	int8_t parser;      /* registry id, -1 */
	uint8_t status;     /* enum status */
	uint8_t done;       /* bit per direction: no more probing */
	uint8_t gapped;     /* bit per direction: a gap before detection */
	uint8_t closed;     /* bit per direction: the stream ended (why[]) */
	uint8_t ended;      /* bit per direction: end() called */
	uint8_t bypass;     /* bit per direction */
	uint8_t first_dir;  /* direction of the flow's first byte, NO_DIR */
	uint8_t why[2];     /* enum om_app_end, when closed */
	bool in_use;
	struct om_app_flow *next_free;
};

#define SLAB_N 64

struct slab {
	struct slab *next;
	struct om_app_flow s[SLAB_N];
};

struct om_app_ctx {
	const om_app_registry *reg;
	uint32_t limit;
	uint64_t max_flows, nslots;
	uint64_t max_det, ndet;
	size_t det_size;
	struct slab *slabs;
	struct om_app_flow *free_slots;
	struct detect *free_det;
	/* The slot of every flow that found none free: such a flow stays out
	 * of detection for good, since bytes went by that no parser would see
	 * (a slot found later would make them look like the stream's start) */
	struct om_app_flow overflow;
	void *wctx[OM_APP_MAX_PARSERS]; /* the parsers' worker contexts */
	om_flow_table *flows;           /* the worker's table, for handle lookups */
	void *worker_user;              /* the parsers' module's worker context */
	om_app_stats stats;
};

#define DEFAULT_LIMIT 4096u
#define DEFAULT_MAX_FLOWS (1u << 20)
#define DEFAULT_DETECT_MEMCAP (64ull << 20)
/* Probe rounds per direction on every new byte; after that only when the
 * held bytes doubled or grew by PROBE_STEP, or at the limit. A flow sent in
 * one-byte segments then costs O(log limit + limit / PROBE_STEP) rounds,
 * not O(limit). */
#define PROBE_EAGER 16u
#define PROBE_STEP 512u

static const char failed_name[] = "failed";

/* ---- registry ------------------------------------------------------------- */

om_app_registry *om_app_registry_new(void)
{
	return calloc(1, sizeof(om_app_registry));
}

om_app_registry *om_app_registry_free(om_app_registry *r)
{
	free(r);
	return NULL;
}

int om_app_register(om_app_registry *r, const om_app_parser *p, int *ret_id)
{
	if (!r || !p)
		return -EINVAL;
	if (r->sealed)
		return -EBUSY;
	if (!p->name || !p->name[0] || strlen(p->name) >= OM_APP_NAME_MAX ||
	    !strcmp(p->name, failed_name) || (!p->probe_ts && !p->probe_tc) || !p->data ||
	    !(p->ipprotos & (OM_APP_TCP | OM_APP_UDP)) ||
	    (p->ipprotos & ~(OM_APP_TCP | OM_APP_UDP)) || (p->flags & ~OM_APP_PARSER_FIRST) ||
	    (!p->worker_new && p->worker_free))
		return -EINVAL;
	for (unsigned i = 0; i < r->n; i++)
		if (!strcmp(r->p[i]->name, p->name))
			return -EEXIST;
	if (r->n >= OM_APP_MAX_PARSERS)
		return -ENOSPC;
	r->p[r->n] = p;
	r->ipprotos |= p->ipprotos;
	if (ret_id)
		*ret_id = (int)r->n;
	r->n++;
	return 0;
}

void om_app_registry_seal(om_app_registry *r)
{
	if (r)
		r->sealed = true;
}

unsigned om_app_registry_count(const om_app_registry *r)
{
	return r ? r->n : 0;
}

const om_app_parser *om_app_registry_parser(const om_app_registry *r, int id)
{
	if (!r || id < 0 || (unsigned)id >= r->n)
		return NULL;
	return r->p[id];
}

const char *om_app_end_name(enum om_app_end e)
{
	switch (e) {
	case OM_APP_END_FIN: return "fin";
	case OM_APP_END_RST: return "rst";
	case OM_APP_END_DEPTH: return "depth";
	case OM_APP_END_TIMEOUT: return "timeout";
	case OM_APP_END_EVICTED: return "evicted";
	case OM_APP_END_SHUTDOWN: return "shutdown";
	case OM_APP_END_FORCED: return "forced";
	case OM_APP_END_COUNT: break;
	}
	return "unknown";
}

/* ---- context and pools ---------------------------------------------------- */

om_app_ctx *om_app_new(const om_app_registry *reg, const om_app_config *cfg)
{
	if (!reg || !reg->sealed)
		return NULL;
	om_app_ctx *a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	a->reg = reg;
	a->limit = cfg && cfg->detect_limit ? cfg->detect_limit : DEFAULT_LIMIT;
	a->max_flows = cfg && cfg->max_flows ? cfg->max_flows : DEFAULT_MAX_FLOWS;
	uint64_t memcap = cfg && cfg->detect_memcap ? cfg->detect_memcap : DEFAULT_DETECT_MEMCAP;
	a->det_size = sizeof(struct detect) + 2 * (size_t)a->limit;
	a->max_det = memcap / a->det_size;
	a->overflow.ctx = a;
	a->overflow.parser = -1;
	a->overflow.status = ST_FAILED;
	a->overflow.first_dir = NO_DIR;
	for (unsigned i = 0; i < reg->n; i++) {
		const om_app_parser *p = reg->p[i];
		if (!p->worker_new)
			continue;
		a->wctx[i] = p->worker_new(p->user);
		if (!a->wctx[i])
			return om_app_free(a);
	}
	return a;
}

static void release_state(om_app_ctx *a, struct om_app_flow *s)
{
	if (s->status == ST_DETECTED && s->state) {
		const om_app_parser *p = a->reg->p[s->parser];
		if (p->state_free)
			p->state_free(s->state, p->user);
	}
	s->state = NULL;
}

om_app_ctx *om_app_free(om_app_ctx *a)
{
	if (!a)
		return NULL;
	struct slab *sl = a->slabs;
	while (sl) {
		struct slab *n = sl->next;
		for (int i = 0; i < SLAB_N; i++) {
			/* flows that were never ended: free what hangs off them
			 * (no end() calls: the flows are gone) */
			if (sl->s[i].in_use) {
				release_state(a, &sl->s[i]);
				free(sl->s[i].det);
			}
		}
		free(sl);
		sl = n;
	}
	struct detect *d;
	while ((d = a->free_det) != NULL) {
		a->free_det = d->next_free;
		free(d);
	}
	for (unsigned i = 0; i < a->reg->n; i++) {
		const om_app_parser *p = a->reg->p[i];
		if (a->wctx[i] && p->worker_free)
			p->worker_free(a->wctx[i], p->user);
	}
	free(a);
	return NULL;
}

const om_app_stats *om_app_stats_get(const om_app_ctx *a)
{
	return &a->stats;
}

static struct om_app_flow *slot_get(om_app_ctx *a, om_flow *f)
{
	if (a->stats.active >= a->max_flows)
		return NULL;
	if (!a->free_slots) {
		struct slab *sl = calloc(1, sizeof(*sl));
		if (!sl)
			return NULL;
		sl->next = a->slabs;
		a->slabs = sl;
		for (int i = SLAB_N; i-- > 0;) {
			sl->s[i].next_free = a->free_slots;
			a->free_slots = &sl->s[i];
		}
		a->nslots += SLAB_N;
	}
	struct om_app_flow *s = a->free_slots;
	a->free_slots = s->next_free;
	memset(s, 0, sizeof(*s));
	s->ctx = a;
	s->parser = -1;
	s->first_dir = NO_DIR;
	s->in_use = true;
	a->stats.flows++;
	a->stats.active++;
	f->app = s;
	return s;
}

static void det_put(om_app_ctx *a, struct om_app_flow *s)
{
	if (!s->det)
		return;
	s->det->next_free = a->free_det;
	a->free_det = s->det;
	s->det = NULL;
	a->stats.buffer_mem -= a->det_size;
}

static struct detect *det_get(om_app_ctx *a, struct om_app_flow *s)
{
	if (s->det)
		return s->det;
	struct detect *d = a->free_det;
	if (d) {
		a->free_det = d->next_free;
	} else {
		if (a->ndet >= a->max_det)
			return NULL;
		d = malloc(a->det_size);
		if (!d)
			return NULL;
		a->ndet++;
	}
	memset(d, 0, sizeof(*d));
	s->det = d;
	a->stats.buffer_mem += a->det_size;
	return d;
}

static void slot_put(om_app_ctx *a, om_flow *f, struct om_app_flow *s)
{
	release_state(a, s);
	det_put(a, s);
	s->in_use = false;
	s->next_free = a->free_slots;
	a->free_slots = s;
	a->stats.active--;
	f->app = NULL;
}

static inline bool is_overflow(const struct om_app_flow *s)
{
	return s == &s->ctx->overflow;
}

/* ---- accessors -------------------------------------------------------------- */

const char *om_app_proto_name(const om_flow *f)
{
	const struct om_app_flow *s = f ? f->app : NULL;
	if (!s || is_overflow(s))
		return NULL;
	if (s->status == ST_DETECTED)
		return s->ctx->reg->p[s->parser]->name;
	if (s->status == ST_FAILED)
		return failed_name;
	return NULL;
}

int om_app_parser_id(const om_flow *f)
{
	const struct om_app_flow *s = f ? f->app : NULL;
	return s && s->status == ST_DETECTED ? s->parser : -1;
}

void *om_app_state(const om_flow *f)
{
	const struct om_app_flow *s = f ? f->app : NULL;
	return s && s->status == ST_DETECTED ? s->state : NULL;
}

void om_app_set_worker_user(om_app_ctx *a, void *user)
{
	a->worker_user = user;
}

void *om_app_worker_user(const om_flow *f)
{
	const struct om_app_flow *s = f ? f->app : NULL;
	return s ? s->ctx->worker_user : NULL;
}

void *om_app_worker_ctx(const om_flow *f, int id)
{
	const struct om_app_flow *s = f ? f->app : NULL;
	if (!s || id < 0 || (unsigned)id >= s->ctx->reg->n)
		return NULL;
	return s->ctx->wctx[id];
}

void om_app_bypass(om_flow *f, unsigned dirs)
{
	struct om_app_flow *s = f ? f->app : NULL;
	if (!s || is_overflow(s))
		return;
	for (int dir = 0; dir < 2; dir++) {
		unsigned bit = 1u << dir;
		if (!(dirs & bit) || (s->bypass & bit))
			continue;
		s->bypass |= bit;
		s->ctx->stats.bypassed++;
		if (f->proto == IPPROTO_TCP)
			om_stream_bypass(f, dir);
	}
}

int om_app_set_depth(om_flow *f, int dir, uint64_t depth)
{
	if (!f || f->proto != IPPROTO_TCP)
		return -EOPNOTSUPP;
	return om_stream_set_depth(f, dir, depth);
}

/* ---- delivery to the parser --------------------------------------------------- */

static const om_app_parser *parser_of(const struct om_app_flow *s)
{
	return s->ctx->reg->p[s->parser];
}

static void give_data(struct om_app_flow *s, om_flow *f, int dir, const uint8_t *data, uint32_t len,
                      unsigned flags)
{
	if (!len || (s->bypass & (1u << dir)) || (s->ended & (1u << dir)))
		return;
	int r = parser_of(s)->data(s->state, f, dir, data, len, flags);
	if (r < 0) {
		s->ctx->stats.parse_errors++;
		om_app_bypass(f, OM_APP_BYPASS_BOTH);
	}
}

static void give_gap(struct om_app_flow *s, om_flow *f, int dir, uint64_t len)
{
	const om_app_parser *p = parser_of(s);
	if (!len || (s->bypass & (1u << dir)) || (s->ended & (1u << dir)) || !p->gap)
		return;
	p->gap(s->state, f, dir, len);
}

static void give_end(struct om_app_flow *s, om_flow *f, int dir, enum om_app_end why)
{
	const om_app_parser *p = parser_of(s);
	if (s->ended & (1u << dir))
		return;
	s->ended |= (uint8_t)(1u << dir);
	if (p->end)
		p->end(s->state, f, dir, why);
}

/* ---- detection ------------------------------------------------------------------ */

static bool port_hint(const om_app_parser *p, uint16_t port)
{
	for (unsigned i = 0; i < OM_APP_MAX_PORTS && p->ports[i]; i++)
		if (p->ports[i] == port)
			return true;
	return false;
}

/* The order in which parsers are asked: those flagged FIRST, then those
 * whose port hints name the flow's server port, then the others; in
 * registration order inside each. */
static int rank(const om_app_parser *p, const om_flow *f)
{
	if (p->flags & OM_APP_PARSER_FIRST)
		return 0;
	return port_hint(p, f->sport) ? 1 : 2;
}

/* Offers the bytes to every parser still in the running for this direction,
 * in rank order. Returns the id of the first that says yes, or -1; marks the
 * direction done when none can say yes any more. */
static int probe_all(om_app_ctx *a, struct om_app_flow *s, om_flow *f, int dir, const uint8_t *data,
                     uint32_t len)
{
	const om_app_registry *r = a->reg;
	unsigned proto = f->proto == IPPROTO_TCP ? OM_APP_TCP : OM_APP_UDP;
	bool more = false;
	for (int pass = 0; pass < 3; pass++) {
		for (unsigned i = 0; i < r->n; i++) {
			const om_app_parser *p = r->p[i];
			if ((s->no[dir] & (1u << i)) || !(p->ipprotos & proto) ||
			    rank(p, f) != pass)
				continue;
			enum om_app_probe (*probe)(const om_flow *, const uint8_t *, uint32_t,
			                           void *) =
			    dir == OM_DIR_TOSERVER ? p->probe_ts : p->probe_tc;
			if (!probe)
				continue;
			a->stats.probes++;
			switch (probe(f, data, len, a->wctx[i])) {
			case OM_APP_PROBE_YES: return (int)i;
			case OM_APP_PROBE_MORE: more = true; break;
			case OM_APP_PROBE_NO:
			default: s->no[dir] |= 1u << i; break;
			}
		}
	}
	if (!more)
		s->done |= (uint8_t)(1u << dir);
	return -1;
}

static void fail(om_app_ctx *a, struct om_app_flow *s)
{
	s->status = ST_FAILED;
	det_put(a, s);
	a->stats.failed++;
}

/* Failed once no direction can be detected any more. */
static void check_failed(om_app_ctx *a, struct om_app_flow *s)
{
	if (s->status == ST_UNDECIDED && (s->done & 3u) == 3u)
		fail(a, s);
}

/* Parser id chose the flow on bytes of dir: the current chunk (data, len,
 * flags), after the old bytes held before it. Gives the parser the held bytes
 * of both directions, the direction of the flow's first byte first (for TCP),
 * then the chunk, then the ends already seen. */
static void attach(om_app_ctx *a, struct om_app_flow *s, om_flow *f, int id, int dir,
                   const uint8_t *data, uint32_t len, unsigned flags, uint32_t old)
{
	const om_app_parser *p = a->reg->p[id];
	void *st = p->state_new ? p->state_new(f, p->user, a->wctx[id]) : NULL;
	if (p->state_new && !st) {
		a->stats.state_nomem++;
		fail(a, s);
		return;
	}
	s->parser = (int8_t)id;
	s->state = st;
	s->status = ST_DETECTED;
	a->stats.detected++;
	bool tcp = f->proto == IPPROTO_TCP;
	int first = s->first_dir == NO_DIR ? dir : s->first_dir;
	for (int k = 0; k < 2; k++) {
		int x = k == 0 ? first : !first;
		if (x == dir) {
			if (old && s->det)
				give_data(s, f, x, s->det->buf + (size_t)x * a->limit, old,
				          OM_APP_DATA_HELD);
			give_data(s, f, x, data, len, flags);
		} else if (tcp) {
			uint32_t held = s->det ? s->det->len[x] : 0;
			if (held)
				give_data(s, f, x, s->det->buf + (size_t)x * a->limit, held,
				          OM_APP_DATA_HELD);
			if (s->seen[x] > held)
				give_gap(s, f, x, s->seen[x] - held);
		}
		if (s->closed & (1u << x))
			give_end(s, f, x, (enum om_app_end)s->why[x]);
	}
	det_put(a, s);
}

static bool should_probe(const struct detect *d, int dir, uint32_t limit)
{
	uint32_t held = d->len[dir], last = d->probed[dir];
	if (held <= last)
		return false;
	return d->rounds[dir] < PROBE_EAGER || held >= limit || held / 2 >= last ||
	       held - last >= PROBE_STEP;
}

static uint32_t sat_add(uint32_t a, uint64_t b)
{
	return b >= UINT32_MAX - a ? UINT32_MAX : a + (uint32_t)b;
}

static struct om_app_flow *slot_for(om_app_ctx *a, om_flow *f, unsigned proto)
{
	if (!a || !f || !(a->reg->ipprotos & proto))
		return NULL;
	if (f->app)
		return f->app;
	struct om_app_flow *s = slot_get(a, f);
	if (!s) {
		a->stats.slot_memcap++;
		f->app = &a->overflow;
		return NULL;
	}
	return s;
}

void om_app_tcp_data(om_app_ctx *a, om_flow *f, int dir, const uint8_t *data, uint32_t len,
                     unsigned flags)
{
	if (!len || (dir != OM_DIR_TOSERVER && dir != OM_DIR_TOCLIENT))
		return;
	struct om_app_flow *s = slot_for(a, f, OM_APP_TCP);
	if (!s || (s->bypass & (1u << dir)))
		return;
	if (s->status == ST_DETECTED) {
		give_data(s, f, dir, data, len, flags);
		return;
	}
	if (s->status == ST_FAILED)
		return;

	unsigned bit = 1u << dir;
	if (s->first_dir == NO_DIR)
		s->first_dir = (uint8_t)dir;
	uint32_t lim = a->limit;
	bool first = s->seen[dir] == 0 && !(s->gapped & bit);
	if (first && !(s->done & bit)) {
		/* the common case: decided on the first chunk, straight from the
		 * packet, without copying */
		uint32_t plen = len < lim ? len : lim;
		int id = probe_all(a, s, f, dir, data, plen);
		if (id >= 0) {
			attach(a, s, f, id, dir, data, len, flags, 0);
			return;
		}
		check_failed(a, s);
		if (s->status != ST_UNDECIDED)
			return;
	}
	/* hold a prefix of the direction while the flow is undecided */
	struct detect *d = s->det;
	uint32_t old = d ? d->len[dir] : 0;
	bool contiguous = !(s->gapped & bit) && s->seen[dir] == old;
	if (contiguous && old < lim) {
		d = det_get(a, s);
		if (!d) {
			/* no buffer: the flow cannot be detected from its first
			 * byte any more */
			a->stats.buffer_memcap++;
			fail(a, s);
			return;
		}
		uint32_t n = len < lim - old ? len : lim - old;
		memcpy(d->buf + (size_t)dir * lim + old, data, n);
		d->len[dir] = old + n;
		if (first) {
			d->probed[dir] = d->len[dir];
			d->rounds[dir] = 1;
		}
	}
	s->seen[dir] = sat_add(s->seen[dir], len);
	if (!(s->done & bit) && contiguous && d && should_probe(d, dir, lim)) {
		d->probed[dir] = d->len[dir];
		d->rounds[dir]++;
		int id = probe_all(a, s, f, dir, d->buf + (size_t)dir * lim, d->len[dir]);
		if (id >= 0) {
			attach(a, s, f, id, dir, data, len, flags, old);
			return;
		}
	}
	if (!d || d->len[dir] >= lim || s->seen[dir] != d->len[dir])
		s->done |= (uint8_t)bit; /* the limit, or bytes that could not be held */
	check_failed(a, s);
}

void om_app_tcp_gap(om_app_ctx *a, om_flow *f, int dir, uint64_t len)
{
	if (!len || (dir != OM_DIR_TOSERVER && dir != OM_DIR_TOCLIENT))
		return;
	struct om_app_flow *s = slot_for(a, f, OM_APP_TCP);
	if (!s)
		return;
	if (s->status == ST_DETECTED) {
		give_gap(s, f, dir, len);
		return;
	}
	if (s->status == ST_FAILED)
		return;
	/* detection cannot look past a hole; the bytes held before it are
	 * still given to a parser chosen by the other direction, then the
	 * hole and what followed it as one gap */
	if (s->first_dir == NO_DIR)
		s->first_dir = (uint8_t)dir;
	s->seen[dir] = sat_add(s->seen[dir], len);
	s->gapped |= (uint8_t)(1u << dir);
	s->done |= (uint8_t)(1u << dir);
	check_failed(a, s);
}

/* A last probe over what the probe rounds held back (at the end of the
 * direction or of the flow). Returns true if a parser took the flow. */
static bool last_look(om_app_ctx *a, struct om_app_flow *s, om_flow *f, int dir)
{
	unsigned bit = 1u << dir;
	struct detect *d = s->det;
	if ((s->done & bit) || !d || (s->gapped & bit) || d->len[dir] <= d->probed[dir])
		return false;
	d->probed[dir] = d->len[dir];
	d->rounds[dir]++;
	int id = probe_all(a, s, f, dir, d->buf + (size_t)dir * a->limit, d->len[dir]);
	if (id < 0)
		return false;
	/* everything was held: all of it is "old" bytes */
	attach(a, s, f, id, dir, NULL, 0, 0, d->len[dir]);
	return true;
}

static enum om_app_end end_of_stream(enum om_stream_dir_end e)
{
	switch (e) {
	case OM_STREAM_RST: return OM_APP_END_RST;
	case OM_STREAM_DEPTH: return OM_APP_END_DEPTH;
	default: return OM_APP_END_FIN;
	}
}

void om_app_tcp_update(om_app_ctx *a, om_flow *f)
{
	struct om_app_flow *s = f ? f->app : NULL;
	if (!a || !s || is_overflow(s))
		return;
	for (int dir = 0; dir < 2; dir++) {
		unsigned bit = 1u << dir;
		if (s->closed & bit)
			continue;
		enum om_stream_dir_end e = om_stream_dir_end(f, dir);
		/* a bypassed direction ends with the flow (or an RST) */
		if (e == OM_STREAM_OPEN || e == OM_STREAM_BYPASS)
			continue;
		s->closed |= (uint8_t)bit;
		s->why[dir] = (uint8_t)end_of_stream(e);
		if (s->status == ST_DETECTED) {
			give_end(s, f, dir, (enum om_app_end)s->why[dir]);
		} else if (s->status == ST_UNDECIDED) {
			if (last_look(a, s, f, dir))
				continue;
			s->done |= (uint8_t)bit;
			check_failed(a, s);
		}
	}
}

void om_app_udp(om_app_ctx *a, om_flow *f, int dir, const uint8_t *data, uint32_t len)
{
	if (!len || (dir != OM_DIR_TOSERVER && dir != OM_DIR_TOCLIENT))
		return;
	struct om_app_flow *s = slot_for(a, f, OM_APP_UDP);
	if (!s || (s->bypass & (1u << dir)))
		return;
	if (s->status == ST_DETECTED) {
		give_data(s, f, dir, data, len, 0);
		return;
	}
	if (s->status == ST_FAILED)
		return;
	unsigned bit = 1u << dir;
	if (s->first_dir == NO_DIR)
		s->first_dir = (uint8_t)dir;
	if (!(s->done & bit)) {
		/* each datagram on its own: datagrams are not joined */
		int id = probe_all(a, s, f, dir, data, len < a->limit ? len : a->limit);
		if (id >= 0) {
			attach(a, s, f, id, dir, data, len, 0, 0);
			return;
		}
	}
	s->seen[dir] = sat_add(s->seen[dir], len);
	if (s->seen[dir] >= a->limit)
		s->done |= (uint8_t)bit;
	check_failed(a, s);
}

static enum om_app_end end_of_flow(enum om_flow_end why)
{
	switch (why) {
	case OM_FLOW_END_TIMEOUT: return OM_APP_END_TIMEOUT;
	case OM_FLOW_END_EVICTED: return OM_APP_END_EVICTED;
	case OM_FLOW_END_SHUTDOWN: return OM_APP_END_SHUTDOWN;
	case OM_FLOW_END_FORCED:
	default: return OM_APP_END_FORCED;
	}
}

const char *om_app_flow_end(om_app_ctx *a, om_flow *f, enum om_flow_end why)
{
	struct om_app_flow *s = f ? f->app : NULL;
	if (!a || !s)
		return NULL;
	if (is_overflow(s)) {
		f->app = NULL;
		return NULL;
	}
	for (int dir = 0; dir < 2 && s->status == ST_UNDECIDED; dir++)
		last_look(a, s, f, dir);
	if (s->status == ST_DETECTED) {
		enum om_app_end e = end_of_flow(why);
		for (int dir = 0; dir < 2; dir++)
			give_end(s, f, dir,
			         (s->closed & (1u << dir)) ? (enum om_app_end)s->why[dir] : e);
	} else if (s->status == ST_UNDECIDED) {
		fail(a, s); /* it had bytes, and no parser took them */
	}
	const char *name = om_app_proto_name(f);
	slot_put(a, f, s);
	return name;
}

/* ---- flow handles for parsers --------------------------------------------- */

void om_app_set_flow_table(om_app_ctx *a, om_flow_table *t)
{
	if (a)
		a->flows = t;
}

om_flow_handle om_app_flow_handle(const om_flow *f)
{
	return om_flow_handle_of(f);
}

om_flow *om_app_flow_from_handle(const om_flow *f, om_flow_handle h)
{
	if (!f || !f->app || !f->app->ctx || !f->app->ctx->flows)
		return NULL;
	return om_flow_from_handle(f->app->ctx->flows, h);
}
