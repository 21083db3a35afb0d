/* stream.c: TCP state and reassembly, one byte stream per direction.
 *
 * State: om_stream_track judges every TCP packet before the flow table files
 * the flow (it is called from om_flow_get): per direction it tracks the
 * sequence numbers sent, the acknowledgements and the advertised window
 * (scaled when both sides offered window scaling), decides whether an RST,
 * FIN or SYN is valid, and sets f->tcp_state. An invalid packet raises an
 * event and is ignored by everything that follows: the state machine exists
 * here only.
 *
 * Reassembly: in-order payload is handed to on_data straight from the packet
 * (no copy, no allocation); out-of-order payload is copied into a sorted,
 * non-overlapping segment list per direction. Blocks come from per-context
 * size classes (128 B to 128 KiB) and are recycled, so the steady state does
 * not call malloc; the memory counted is the blocks' size, the cache of free
 * blocks included. Overlaps of held data follow the receiving host's
 * target-based policy; the last delivered bytes of each direction are kept
 * in a small ring so that a rewrite of delivered data is seen. Sequence
 * numbers are compared with serial-number arithmetic and mapped to 64-bit
 * stream offsets, so wraparound at 2^32 is invisible to callers. Per-flow
 * state comes from a pool of slabs. Design notes: docs/net.md. */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "net/net.h"

/* Held out-of-order bytes [off, off + len), or a delivered-bytes ring. */
struct seg {
	union {
		struct seg *prev;    /* held segment: list links */
		const uint8_t *lazy; /* ring: its whole content is still in the
		                      * pinned capture window at lazy (ring_lazy) */
	};
	struct seg *next;
	uint64_t off;
	uint32_t len;
	uint32_t bsize; /* bytes of the block, header included */
	uint8_t cls;    /* size class of the block (SEG_NOCLASS: malloc'd to size) */
	uint8_t data[];
};

#define D_INIT 0x01    /* next_seq is known */
#define D_FIN 0x02     /* fin_off is known */
#define D_CLOSED 0x04  /* no more data: RST, FIN reached, or flushed */
#define D_DEPTH 0x08   /* depth reached */
#define D_ENDED 0x10   /* on_end was called */
#define D_OVLEV 0x20   /* overlap event raised for this direction */
#define D_NORING 0x40  /* no delivered ring (memcap): rewrites not checked */
#define D_RST 0x80     /* closed by a valid RST */
#define D_BYPASS 0x100 /* om_stream_bypass: deliver nothing more */

struct dirstate {
	uint32_t next_seq; /* sequence number of the next byte expected */
	uint64_t next_off; /* its stream offset: bytes delivered or skipped */
	uint64_t fin_off;  /* offset of the FIN, if D_FIN */
	struct seg *head, *tail;
	struct seg *ring; /* last delivered bytes: ring->len bytes before next_off */
	uint32_t nsegs;
	uint16_t flags;
	uint8_t policy; /* enum om_stream_policy of the receiving host */
	uint64_t depth; /* om_stream_set_depth; 0: the context's */
};

/* Tracking of what one side sent (T_* flags). */
#define T_INIT 0x01 /* next_seq known */
#define T_SYN 0x02  /* isn known (its SYN was seen) */
#define T_ACK 0x04  /* last_ack valid */
#define T_WIN 0x08  /* win valid */
#define T_FIN 0x10  /* a valid FIN was sent */
#define T_WS 0x20   /* offered window scaling in its SYN */

struct trk {
	uint32_t isn;      /* sequence number of its SYN */
	uint32_t next_seq; /* one past the highest sequence number sent */
	uint32_t last_ack; /* highest plausible acknowledgement it sent */
	uint32_t win;      /* its receive window, scaled */
	uint8_t wscale;    /* shift it offered */
	uint8_t flags;
};

/* Verdicts of om_stream_track for om_stream_packet. */
#define V_NONE 0   /* not judged */
#define V_OK 1     /* valid */
#define V_IGNORE 2 /* invalid or no session: reassembly ignores it */

struct om_tcp_stream {
	struct dirstate d[2];
	struct trk t[2];
	uint64_t held; /* block bytes of held segments of this flow */
	struct om_tcp_stream *next_free;
	uint8_t verdict;
	bool scaled; /* both SYN and SYN/ACK offered window scaling */
	bool in_use;
};

/* Pool: slabs of SLAB_N states, at most MAX_STATES in all. The flow table's
 * max_flows bounds the states in use; this cap is a second line. */
#define SLAB_N 64
#define MAX_STATES (1u << 20)
/* Held segments per direction: bounds the O(n) insertion walk. Exceeding it
 * is treated like the memcap. */
#define MAX_SEGS_PER_DIR 4096
/* The smallest window an RST or FIN is checked against: a window smaller
 * than this (or a zero window) does not make an RST at the edge invalid. */
#define MIN_WINDOW 65535u
/* Window assumed when the peer's is unknown (midstream, scaling unknown):
 * the largest a scaled window can be. */
#define UNKNOWN_WINDOW (1u << 30)

struct slab {
	struct slab *next;
	struct om_tcp_stream s[SLAB_N];
};

/* Segment blocks are recycled per context in power-of-two size classes from
 * 128 bytes to 128 KiB (any IP datagram's payload fits), so that the steady
 * state of out-of-order traffic does not call malloc. The cache of free
 * blocks is capped, counted in mem_in_use and emptied before the memcap
 * refuses a block. */
#define SEG_CLASSES 11
#define SEG_CLASS_MIN 128u
#define SEG_NOCLASS 0xff
#define SEG_CACHE_MAX (4u * 1024 * 1024)

#define DEFAULT_OVERLAP_WINDOW 1024u
#define MAX_OVERLAP_WINDOW (64u * 1024)

/* Rings whose content is still in the capture window (a full ring's worth
 * delivered from one packet of a mapped capture): their bytes are copied
 * only when they are compared, when the ring takes bytes from elsewhere, or
 * when the stream moves on to another window. Without app-layer parsers
 * nothing else reads the payload, so most payload bytes are never touched. */
#define LAZY_MAX 4096u

struct om_stream_ctx {
	uint64_t depth, memcap, flow_memcap;
	uint64_t held;  /* block bytes of held segments and rings */
	uint64_t cache; /* block bytes in the free-block cache */
	uint64_t rings; /* block bytes of delivered rings (part of held) */
	uint32_t overlap_window;
	uint8_t default_policy;
	om_stream_policy_net nets[OM_STREAM_MAX_POLICIES];
	unsigned nnets;
	om_stream_callbacks cb;
	struct slab *slabs;
	struct om_tcp_stream *free;
	struct seg *seg_cache[SEG_CLASSES]; /* free blocks, chained through next */
	uint32_t nstates;
	om_stream_stats stats;
	/* lazy rings (ring_lazy): the window they point into (a reference is
	 * held), the window of the packet being processed, and the directions
	 * that may have one (checked when flushed: d->ring->lazy) */
	om_pcap_span *pin, *cur_span;
	unsigned nlazy;
	struct dirstate *lazy[LAZY_MAX];
};

/* ---- names ---------------------------------------------------------------- */

static const char *const policy_names[OM_POLICY_COUNT] = {
    [OM_POLICY_BSD] = "bsd",
    [OM_POLICY_FIRST] = "first",
    [OM_POLICY_LAST] = "last",
    [OM_POLICY_LINUX] = "linux",
    [OM_POLICY_OLD_LINUX] = "old-linux",
    [OM_POLICY_SOLARIS] = "solaris",
    [OM_POLICY_HPUX10] = "hpux10",
    [OM_POLICY_HPUX11] = "hpux11",
    [OM_POLICY_IRIX] = "irix",
    [OM_POLICY_MACOS] = "macos",
    [OM_POLICY_WINDOWS] = "windows",
    [OM_POLICY_VISTA] = "vista",
    [OM_POLICY_WINDOWS2K3] = "windows2k3",
};

const char *om_stream_policy_name(enum om_stream_policy p)
{
	if ((unsigned)p >= OM_POLICY_COUNT)
		return "unknown";
	return policy_names[p];
}

int om_stream_policy_parse(const char *name, enum om_stream_policy *ret)
{
	if (!name)
		return -EINVAL;
	for (unsigned i = 0; i < OM_POLICY_COUNT; i++) {
		if (!strcmp(name, policy_names[i])) {
			*ret = (enum om_stream_policy)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *om_stream_end_name(enum om_stream_end e)
{
	switch (e) {
	case OM_STREAM_END_FIN: return "fin";
	case OM_STREAM_END_RST: return "rst";
	case OM_STREAM_END_DEPTH: return "depth";
	case OM_STREAM_END_BYPASS: return "bypass";
	case OM_STREAM_END_FLOW: return "flow_end";
	case OM_STREAM_END_TIMEOUT: return "timeout";
	case OM_STREAM_END_EVICTED: return "evicted";
	}
	return "unknown";
}

enum om_stream_end om_stream_end_of(enum om_flow_end why)
{
	switch (why) {
	case OM_FLOW_END_TIMEOUT: return OM_STREAM_END_TIMEOUT;
	case OM_FLOW_END_EVICTED: return OM_STREAM_END_EVICTED;
	default: return OM_STREAM_END_FLOW;
	}
}

/* ---- context and memory ----------------------------------------------------- */

om_stream_ctx *om_stream_new(uint64_t depth, uint64_t memcap, const om_stream_callbacks *cb)
{
	om_stream_ctx *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->depth = depth;
	s->memcap = memcap;
	s->flow_memcap = memcap;
	s->overlap_window = DEFAULT_OVERLAP_WINDOW;
	s->default_policy = OM_POLICY_BSD;
	if (cb)
		s->cb = *cb;
	return s;
}

int om_stream_configure(om_stream_ctx *s, const om_stream_config *c)
{
	if (!s || !c || c->nnets > OM_STREAM_MAX_POLICIES || (c->nnets && !c->nets) ||
	    (unsigned)c->default_policy >= OM_POLICY_COUNT ||
	    c->overlap_window > MAX_OVERLAP_WINDOW)
		return -EINVAL;
	for (unsigned i = 0; i < c->nnets; i++)
		if ((unsigned)c->nets[i].policy >= OM_POLICY_COUNT)
			return -EINVAL;
	s->flow_memcap = c->flow_memcap ? c->flow_memcap : s->memcap;
	s->overlap_window = c->overlap_window;
	s->default_policy = (uint8_t)c->default_policy;
	if (c->nnets)
		memcpy(s->nets, c->nets, c->nnets * sizeof(c->nets[0]));
	s->nnets = c->nnets;
	return 0;
}

static void mem_update(om_stream_ctx *s)
{
	s->stats.mem_segments = s->held - s->rings;
	s->stats.mem_windows = s->rings;
	s->stats.mem_cache = s->cache;
	s->stats.mem_in_use = s->held + s->cache + s->stats.mem_states;
	if (s->stats.mem_in_use > s->stats.mem_max)
		s->stats.mem_max = s->stats.mem_in_use;
}

static inline size_t class_size(unsigned c)
{
	return (size_t)SEG_CLASS_MIN << c;
}

/* Size of the block that holds total bytes (header included). */
static size_t block_size(size_t total, unsigned *ret_c)
{
	unsigned c = 0;
	while (c < SEG_CLASSES && class_size(c) < total)
		c++;
	*ret_c = c;
	return c == SEG_CLASSES ? total : class_size(c);
}

/* Frees cached blocks, largest first, until need more bytes fit the memcap
 * or the cache is empty. */
static void cache_shrink(om_stream_ctx *s, uint64_t need)
{
	for (unsigned c = SEG_CLASSES; c-- > 0 && s->held + s->cache + need > s->memcap;) {
		struct seg *g;
		while (s->held + s->cache + need > s->memcap && (g = s->seg_cache[c]) != NULL) {
			s->seg_cache[c] = g->next;
			s->cache -= g->bsize;
			free(g);
		}
	}
}

/* A block for total bytes, or NULL if the memcap (after emptying the cache)
 * or malloc refuses. Counted in s->held. */
static struct seg *blk_get(om_stream_ctx *s, size_t total)
{
	unsigned c;
	size_t bs = block_size(total, &c);
	struct seg *g = c < SEG_CLASSES ? s->seg_cache[c] : NULL;
	if (g) {
		s->seg_cache[c] = g->next;
		s->cache -= bs;
	} else {
		if (s->held + s->cache + bs > s->memcap)
			cache_shrink(s, bs);
		if (s->held + bs > s->memcap)
			return NULL;
		g = malloc(bs);
		if (!g)
			return NULL;
		s->stats.block_mallocs++;
		g->cls = c < SEG_CLASSES ? (uint8_t)c : SEG_NOCLASS;
		g->bsize = (uint32_t)bs;
	}
	s->held += bs;
	mem_update(s);
	return g;
}

static void blk_put(om_stream_ctx *s, struct seg *g)
{
	s->held -= g->bsize;
	if (g->cls == SEG_NOCLASS || s->cache + g->bsize > SEG_CACHE_MAX) {
		free(g);
	} else {
		g->next = s->seg_cache[g->cls];
		s->seg_cache[g->cls] = g;
		s->cache += g->bsize;
	}
	mem_update(s);
}

/* Unlinks a held segment from its direction and frees it. */
static void seg_drop(om_stream_ctx *s, struct om_tcp_stream *st, struct dirstate *d, struct seg *g)
{
	if (g->prev)
		g->prev->next = g->next;
	else
		d->head = g->next;
	if (g->next)
		g->next->prev = g->prev;
	else
		d->tail = g->prev;
	d->nsegs--;
	st->held -= g->bsize;
	blk_put(s, g);
}

static void dir_free_segs(om_stream_ctx *s, struct om_tcp_stream *st, struct dirstate *d)
{
	while (d->head)
		seg_drop(s, st, d, d->head);
	if (d->ring) {
		s->rings -= d->ring->bsize;
		d->ring->lazy = NULL;
		blk_put(s, d->ring);
		d->ring = NULL;
	}
}

om_stream_ctx *om_stream_free(om_stream_ctx *s)
{
	if (!s)
		return NULL;
	struct slab *sl = s->slabs;
	while (sl) {
		struct slab *n = sl->next;
		for (int i = 0; i < SLAB_N; i++) {
			if (sl->s[i].in_use) {
				dir_free_segs(s, &sl->s[i], &sl->s[i].d[0]);
				dir_free_segs(s, &sl->s[i], &sl->s[i].d[1]);
			}
		}
		free(sl);
		sl = n;
	}
	om_pcap_span_unref(s->pin);
	for (unsigned c = 0; c < SEG_CLASSES; c++) {
		struct seg *g;
		while ((g = s->seg_cache[c]) != NULL) {
			s->seg_cache[c] = g->next;
			free(g);
		}
	}
	free(s);
	return NULL;
}

const om_stream_stats *om_stream_stats_get(const om_stream_ctx *s)
{
	return &s->stats;
}

static uint8_t policy_for(const om_stream_ctx *s, const om_addr *host)
{
	for (unsigned i = 0; i < s->nnets; i++)
		if (om_cidr_contains(&s->nets[i].net, host))
			return (uint8_t)s->nets[i].policy;
	return s->default_policy;
}

static struct om_tcp_stream *state_get(om_stream_ctx *s, const om_flow *f)
{
	if (!s->free) {
		if (s->nstates >= MAX_STATES)
			return NULL;
		struct slab *sl = calloc(1, sizeof(*sl));
		if (!sl)
			return NULL;
		sl->next = s->slabs;
		s->slabs = sl;
		for (int i = SLAB_N; i-- > 0;) {
			sl->s[i].next_free = s->free;
			s->free = &sl->s[i];
		}
		s->nstates += SLAB_N;
		s->stats.mem_states += sizeof(*sl);
		mem_update(s);
	}
	struct om_tcp_stream *t = s->free;
	s->free = t->next_free;
	memset(t, 0, sizeof(*t));
	t->in_use = true;
	/* the receiver of each direction decides how its overlaps resolve */
	t->d[OM_DIR_TOSERVER].policy = policy_for(s, &f->srv);
	t->d[OM_DIR_TOCLIENT].policy = policy_for(s, &f->cli);
	return t;
}

static void state_put(om_stream_ctx *s, struct om_tcp_stream *t)
{
	t->in_use = false;
	t->next_free = s->free;
	s->free = t;
}

static void event(om_stream_ctx *s, om_flow *f, const char *name)
{
	if (s->cb.on_event)
		s->cb.on_event(s->cb.user, f, name);
}

/* ---- TCP state ------------------------------------------------------------ */

static inline int64_t seq_diff(uint32_t a, uint32_t b)
{
	return (int64_t)(int32_t)(a - b);
}

/* The window the receiver (o) offers to the sender: at least MIN_WINDOW,
 * UNKNOWN_WINDOW when it never advertised one we can scale. */
static uint64_t peer_window(const struct trk *o)
{
	if (!(o->flags & T_WIN))
		return UNKNOWN_WINDOW;
	return o->win > MIN_WINDOW ? o->win : MIN_WINDOW;
}

/* Whether seq lies in [L, L + W] for the left edge L the receiver expects:
 * the acknowledgement it last sent, or what the sender sent so far. True
 * when neither is known (nothing to judge by). */
static bool seq_in_window(const struct trk *d, const struct trk *o, uint32_t seq)
{
	uint64_t w = peer_window(o);
	bool known = false;
	if (o->flags & T_ACK) {
		known = true;
		int64_t r = seq_diff(seq, o->last_ack);
		if (r >= 0 && (uint64_t)r <= w)
			return true;
	}
	if (d->flags & T_INIT) {
		known = true;
		int64_t r = seq_diff(seq, d->next_seq);
		if (r >= 0 && (uint64_t)r <= w)
			return true;
	}
	return !known;
}

/* An acknowledgement of data the peer never sent (when its start was seen). */
static bool ack_ahead(const struct trk *o, uint32_t ack)
{
	return (o->flags & T_SYN) && seq_diff(ack, o->next_seq) > 0;
}

static void track_ack(struct om_tcp_stream *st, struct trk *d, const struct trk *o,
                      const om_packet *p)
{
	if (!(p->tcp_flags & OM_TH_ACK))
		return;
	uint32_t ack = p->tcp_ack;
	/* plausible: not ahead of what the peer sent, not before its start */
	bool ok = !(o->flags & T_INIT) || seq_diff(ack, o->next_seq) <= 0;
	if (ok && (o->flags & T_SYN) && seq_diff(ack, o->isn) <= 0)
		ok = false;
	if (ok && (!(d->flags & T_ACK) || seq_diff(ack, d->last_ack) > 0)) {
		d->last_ack = ack;
		d->flags |= T_ACK;
	}
	if (p->tcp_flags & OM_TH_SYN) {
		d->win = p->tcp_win; /* never scaled in a SYN (RFC 7323) */
		d->flags |= T_WIN;
	} else if ((d->flags & T_SYN) && (o->flags & T_SYN)) {
		/* handshake seen: the scale is known (0 unless both offered) */
		d->win = (uint32_t)p->tcp_win << (st->scaled ? d->wscale : 0);
		d->flags |= T_WIN;
	}
	/* midstream the scale is unknown: the window stays unknown */
}

static void track_seq(struct trk *d, const om_packet *p)
{
	uint32_t end = p->tcp_seq + (p->payload ? p->payload_len : 0);
	if (p->tcp_flags & OM_TH_SYN)
		end++;
	if (p->tcp_flags & OM_TH_FIN)
		end++;
	if (!(d->flags & T_INIT) || seq_diff(end, d->next_seq) > 0)
		d->next_seq = end;
	d->flags |= T_INIT;
}

static void syn_seen(struct trk *d, const om_packet *p)
{
	d->isn = p->tcp_seq;
	d->next_seq = p->tcp_seq + 1 + (p->payload ? p->payload_len : 0);
	d->flags = (uint8_t)((d->flags & ~(T_FIN | T_WS)) | T_INIT | T_SYN);
	if (p->tcp_wscale != 0xff) {
		d->wscale = p->tcp_wscale > 14 ? 14 : p->tcp_wscale;
		d->flags |= T_WS;
	}
}

/* A SYN or SYN/ACK on a connection past its handshake: never valid. */
static const char *late_syn_event(const struct om_tcp_stream *st, const om_packet *p, int dir)
{
	bool ack = p->tcp_flags & OM_TH_ACK;
	const struct trk *d = &st->t[dir];
	bool same = (d->flags & T_SYN) && d->isn == p->tcp_seq;
	if (dir == OM_DIR_TOSERVER) {
		if (ack)
			return "stream.est_synack_toserver";
		return same ? "stream.est_syn_resend" : "stream.est_syn_resend_diff_seq";
	}
	if (!ack)
		return "stream.est_syn_toclient";
	return same ? "stream.est_synack_resend" : "stream.est_synack_resend_with_diff_seq";
}

/* Judges p; returns V_OK or V_IGNORE and moves f->tcp_state. */
static uint8_t judge(om_stream_ctx *s, om_flow *f, struct om_tcp_stream *st, const om_packet *p,
                     int dir)
{
	uint8_t fl = p->tcp_flags;
	bool syn = fl & OM_TH_SYN, ack = fl & OM_TH_ACK, rst = fl & OM_TH_RST, fin = fl & OM_TH_FIN;
	struct trk *d = &st->t[dir], *o = &st->t[dir ^ 1];

	if (f->tcp_state == OM_TCP_NONE) {
		/* no session yet: only a SYN, a SYN/ACK or (midstream) an ACK
		 * starts one. SYN+FIN is not a SYN; FIN and NULL probes and
		 * lone RSTs start nothing. Suricata's fin_but_no_session and
		 * rst_but_no_session are left out of the events (its own rules
		 * disable them as very common); they are counted as invalid. */
		if (rst || (fin && (syn || !ack)))
			return V_IGNORE;
		if (syn && !ack) {
			syn_seen(d, p);
			d->win = p->tcp_win;
			d->flags |= T_WIN;
			f->tcp_state = OM_TCP_SYN_SENT;
			return V_OK;
		}
		if (syn && ack) {
			syn_seen(d, p);
			track_ack(st, d, o, p);
			o->next_seq = p->tcp_ack;
			o->flags |= T_INIT;
			f->tcp_state = OM_TCP_SYN_RECV;
			f->flags |= OM_FLOW_F_MIDSTREAM;
			return V_OK;
		}
		if (ack) {
			track_seq(d, p);
			track_ack(st, d, o, p);
			if (!(o->flags & T_INIT)) {
				o->next_seq = p->tcp_ack;
				o->flags |= T_INIT;
			}
			f->tcp_state = OM_TCP_ESTABLISHED;
			f->flags |= OM_FLOW_F_MIDSTREAM;
			if (fin) {
				d->flags |= T_FIN;
				f->tcp_state = OM_TCP_FIN_WAIT;
			}
			return V_OK;
		}
		return V_IGNORE; /* NULL, URG/PSH-only probes */
	}

	if (syn && fin) {
		event(s, f, "stream.fin_syn");
		return V_IGNORE;
	}

	if (rst) {
		if (!seq_in_window(d, o, p->tcp_seq)) {
			event(s, f, "stream.rst_invalid");
			return V_IGNORE;
		}
		if (ack && ack_ahead(o, p->tcp_ack)) {
			event(s, f, "stream.rst_invalid_ack");
			return V_IGNORE;
		}
		f->tcp_state = OM_TCP_RESET;
		return V_OK;
	}

	if (syn) {
		switch (f->tcp_state) {
		case OM_TCP_SYN_SENT:
			if (dir == OM_DIR_TOSERVER && !ack) {
				/* a new attempt: the client may pick a new ISN */
				syn_seen(d, p);
				d->win = p->tcp_win;
				d->flags |= T_WIN;
				return V_OK;
			}
			if (dir == OM_DIR_TOCLIENT && ack) {
				if ((o->flags & T_SYN) && p->tcp_ack != o->isn + 1) {
					event(s, f, "stream.3whs_synack_with_wrong_ack");
					return V_IGNORE;
				}
				syn_seen(d, p);
				st->scaled = (d->flags & T_WS) && (o->flags & T_WS);
				if (!st->scaled) {
					d->wscale = 0;
					o->wscale = 0;
				}
				track_ack(st, d, o, p);
				f->tcp_state = OM_TCP_SYN_RECV;
				return V_OK;
			}
			if (dir == OM_DIR_TOCLIENT) {
				/* the server's own SYN: a four-way (simultaneous
				 * open) handshake */
				syn_seen(d, p);
				d->win = p->tcp_win;
				d->flags |= T_WIN;
				return V_OK;
			}
			if ((d->flags & T_SYN) && (o->flags & T_SYN)) {
				/* the client answers the server's SYN */
				st->scaled = (d->flags & T_WS) && (o->flags & T_WS);
				track_ack(st, d, o, p);
				f->tcp_state = OM_TCP_SYN_RECV;
				return V_OK;
			}
			event(s, f, "stream.3whs_synack_in_wrong_direction");
			return V_IGNORE;
		case OM_TCP_SYN_RECV:
			if (dir == OM_DIR_TOCLIENT && ack) {
				if ((d->flags & T_SYN) && d->isn == p->tcp_seq)
					return V_OK; /* SYN/ACK resent */
				event(s, f, "stream.3whs_synack_resend_with_diff_seq");
				return V_IGNORE;
			}
			if (dir == OM_DIR_TOSERVER && !ack) {
				if ((d->flags & T_SYN) && d->isn == p->tcp_seq)
					return V_OK; /* SYN resent */
				event(s, f, "stream.3whs_syn_resend_diff_seq_on_syn_recv");
				return V_IGNORE;
			}
			event(s, f,
			      ack ? "stream.3whs_synack_toserver_on_syn_recv"
			          : "stream.3whs_syn_toclient_on_syn_recv");
			return V_IGNORE;
		case OM_TCP_CLOSED:
		case OM_TCP_RESET:
			/* not a new connection (om_flow_get would have split
			 * the flow): the old SYN resent */
			return V_IGNORE;
		default: event(s, f, late_syn_event(st, p, dir)); return V_IGNORE;
		}
	}

	/* an acknowledgement of data the peer never sent (its start seen):
	 * the packet is not from this connection (Suricata: pkt_invalid_ack) */
	if (ack && f->tcp_state != OM_TCP_SYN_SENT && ack_ahead(o, p->tcp_ack)) {
		event(s, f, "stream.pkt_invalid_ack");
		return V_IGNORE;
	}

	/* data beyond what the receiver allows (its window known): not
	 * accepted by the receiver, so not reassembled either */
	uint32_t plen = p->payload ? p->payload_len : 0;
	if (plen && f->tcp_state >= OM_TCP_ESTABLISHED && f->tcp_state <= OM_TCP_CLOSING &&
	    (o->flags & T_WIN) && (d->flags & T_INIT)) {
		uint32_t left = (o->flags & T_ACK) ? o->last_ack : d->next_seq;
		int64_t r = seq_diff(p->tcp_seq + plen, left);
		if (r > 0 && (uint64_t)r > peer_window(o)) {
			event(s, f, "stream.est_packet_out_of_window");
			return V_IGNORE;
		}
	}

	if (fin && (d->flags & T_INIT)) {
		uint32_t pos = p->tcp_seq + (p->payload ? p->payload_len : 0);
		int64_t r = seq_diff(pos, d->next_seq);
		if (r > 0 && (uint64_t)r > peer_window(o) && !seq_in_window(d, o, pos)) {
			event(s, f, "stream.fin_out_of_window");
			return V_IGNORE;
		}
	}

	track_seq(d, p);
	track_ack(st, d, o, p);
	switch (f->tcp_state) {
	case OM_TCP_SYN_SENT:
		if (ack)
			f->tcp_state = OM_TCP_ESTABLISHED; /* SYN/ACK missed */
		break;
	case OM_TCP_SYN_RECV:
		if (ack)
			f->tcp_state = OM_TCP_ESTABLISHED;
		break;
	case OM_TCP_CLOSING:
		if (ack && !fin)
			f->tcp_state = OM_TCP_CLOSED;
		break;
	default: break;
	}
	if (fin) {
		d->flags |= T_FIN;
		switch (f->tcp_state) {
		case OM_TCP_CLOSING:
		case OM_TCP_CLOSED:
		case OM_TCP_RESET: break;
		default: f->tcp_state = (o->flags & T_FIN) ? OM_TCP_CLOSING : OM_TCP_FIN_WAIT;
		}
	}
	return V_OK;
}

static bool valid_call(const om_flow *f, const om_packet *p, int dir)
{
	return f && p->proto == IPPROTO_TCP && (dir == OM_DIR_TOSERVER || dir == OM_DIR_TOCLIENT);
}

void om_stream_track(om_stream_ctx *s, om_flow *f, const om_packet *p, int dir)
{
	if (!s || !valid_call(f, p, dir))
		return;
	if (!f->tcp) {
		f->tcp = state_get(s, f);
		if (!f->tcp) {
			s->stats.memcap_hits++;
			return;
		}
	}
	struct om_tcp_stream *st = f->tcp;
	st->verdict = judge(s, f, st, p, dir);
	if (st->verdict == V_IGNORE)
		s->stats.invalid++;
}

bool om_stream_starts_new(const om_flow *f, const om_packet *p, int dir)
{
	if (!f || f->proto != IPPROTO_TCP ||
	    (f->tcp_state != OM_TCP_CLOSED && f->tcp_state != OM_TCP_RESET))
		return false;
	if ((p->tcp_flags & (OM_TH_SYN | OM_TH_ACK | OM_TH_RST | OM_TH_FIN)) != OM_TH_SYN)
		return false;
	const struct om_tcp_stream *st = f->tcp;
	if (st && (st->t[dir].flags & T_SYN) && st->t[dir].isn == p->tcp_seq)
		return false; /* the old SYN resent */
	return true;
}

/* ---- delivery ------------------------------------------------------------ */

static void advance(struct dirstate *d, uint64_t n)
{
	d->next_off += n;
	d->next_seq += (uint32_t)n;
}

/* Stops a direction for good: frees what it holds and tells on_end once. */
static void dir_close(om_stream_ctx *s, om_flow *f, int dir, struct dirstate *d,
                      enum om_stream_end why)
{
	d->flags |= D_CLOSED;
	dir_free_segs(s, f->tcp, d);
	if (!(d->flags & D_ENDED)) {
		d->flags |= D_ENDED;
		if (s->cb.on_end)
			s->cb.on_end(s->cb.user, f, dir, why);
	}
}

static inline uint64_t dir_depth(const om_stream_ctx *s, const struct dirstate *d)
{
	return d->depth ? d->depth : s->depth;
}

/* Called after next_off moved (and at each packet, for a bypass asked for
 * since the last one): stops the direction at bypass, depth or FIN. */
static void check_limits(om_stream_ctx *s, om_flow *f, int dir, struct dirstate *d)
{
	if (d->flags & D_CLOSED)
		return;
	if (d->flags & D_BYPASS) {
		dir_close(s, f, dir, d, OM_STREAM_END_BYPASS);
		return;
	}
	if (dir_depth(s, d) && d->next_off >= dir_depth(s, d) && !(d->flags & D_DEPTH)) {
		d->flags |= D_DEPTH;
		s->stats.depth_reached++;
		dir_close(s, f, dir, d, OM_STREAM_END_DEPTH);
		return;
	}
	if ((d->flags & D_FIN) && d->next_off >= d->fin_off)
		dir_close(s, f, dir, d, OM_STREAM_END_FIN);
}

/* The delivered window: the last ring->len bytes before next_off, in a ring
 * of cap bytes whose next write position is ring->off. Filled before
 * next_off moves past data; no division on this path. */
static inline uint32_t ring_cap(const struct seg *r)
{
	return r->bsize - (uint32_t)sizeof(*r);
}

/* Copies a lazy ring's bytes out of the capture window. */
static inline void ring_fill(struct seg *r)
{
	if (r && r->lazy) {
		memcpy(r->data, r->lazy, ring_cap(r));
		r->lazy = NULL;
	}
}

/* Fills every lazy ring: the pinned window is about to be let go. */
static void lazy_flush(om_stream_ctx *s)
{
	for (unsigned i = 0; i < s->nlazy; i++)
		ring_fill(s->lazy[i]->ring);
	s->nlazy = 0;
}

/* A full ring's worth of the current packet: if it lies in the packet's
 * mapped window, the ring only points at it (the window is pinned until
 * every such ring is filled). False when the bytes must be copied. */
static bool ring_lazy(om_stream_ctx *s, struct dirstate *d, const uint8_t *data)
{
	struct seg *r = d->ring;
	uint32_t cap = ring_cap(r);
	om_pcap_span *sp = s->cur_span;
	if (!sp || !om_pcap_span_holds(sp, data, cap))
		return false;
	if (sp != s->pin) {
		lazy_flush(s);
		om_pcap_span_unref(s->pin);
		om_pcap_span_ref(sp);
		s->pin = sp;
	}
	if (!r->lazy) {
		if (s->nlazy == LAZY_MAX)
			lazy_flush(s);
		s->lazy[s->nlazy++] = d;
	}
	r->lazy = data;
	r->off = 0; /* full: data[0, cap) are the last cap bytes, in order */
	r->len = cap;
	return true;
}

static void ring_put(om_stream_ctx *s, struct dirstate *d, const uint8_t *data, uint64_t len)
{
	if (!s->overlap_window || (d->flags & D_NORING))
		return;
	if (!d->ring) {
		/* windows may take a quarter of the memcap, so that they never
		 * crowd out held data */
		unsigned c;
		size_t bs = block_size(s->overlap_window, &c);
		d->ring = s->rings + bs <= s->memcap / 4 ? blk_get(s, s->overlap_window) : NULL;
		if (!d->ring) {
			d->flags |= D_NORING;
			s->stats.window_unchecked++;
			return;
		}
		d->ring->len = 0;
		d->ring->off = 0;
		d->ring->lazy = NULL;
		s->rings += d->ring->bsize;
		mem_update(s);
	}
	struct seg *r = d->ring;
	uint32_t cap = ring_cap(r);
	if (len >= cap && ring_lazy(s, d, data + (len - cap)))
		return;
	ring_fill(r);
	if (len > cap) {
		data += len - cap;
		len = cap;
	}
	uint32_t pos = (uint32_t)r->off;
	uint32_t n = cap - pos < len ? cap - pos : (uint32_t)len;
	memcpy(r->data + pos, data, n);
	if (n < len)
		memcpy(r->data, data + n, len - n);
	pos += (uint32_t)len;
	r->off = pos >= cap ? pos - cap : pos;
	r->len = (uint32_t)(r->len + len > cap ? cap : r->len + len);
}

/* Compares [start, end) (below next_off) of a segment with the delivered
 * bytes still kept; a difference is a rewrite of delivered data. */
static void ring_check(om_stream_ctx *s, om_flow *f, struct dirstate *d, const uint8_t *data,
                       uint64_t start, uint64_t end)
{
	struct seg *r = d->ring;
	if (!r || !r->len)
		return;
	ring_fill(r);
	uint64_t lo = d->next_off - r->len;
	uint64_t a = start > lo ? start : lo, b = end < d->next_off ? end : d->next_off;
	uint32_t cap = ring_cap(r);
	bool diff = false;
	for (uint64_t o = a; o < b && !diff;) {
		/* the byte at next_off - k sits k bytes before the write position */
		uint64_t back = d->next_off - o;
		uint32_t pos = (uint32_t)((r->off + cap - back % cap) % cap);
		uint64_t n = cap - pos;
		if (n > b - o)
			n = b - o;
		if (memcmp(r->data + pos, data + (o - start), n))
			diff = true;
		o += n;
	}
	if (!diff)
		return;
	s->stats.overlap_diff++;
	if (!(d->flags & D_OVLEV)) {
		d->flags |= D_OVLEV;
		event(s, f, "stream.reassembly_overlap_different_data");
	}
}

static void deliver(om_stream_ctx *s, om_flow *f, int dir, struct dirstate *d, const uint8_t *data,
                    uint64_t len, unsigned flags)
{
	if (!len || (d->flags & D_BYPASS))
		return;
	if (s->cb.on_data)
		s->cb.on_data(s->cb.user, f, dir, data, (uint32_t)len, d->next_off, flags);
	s->stats.bytes_delivered += len;
	ring_put(s, d, data, len);
	advance(d, len);
}

static void gap(om_stream_ctx *s, om_flow *f, int dir, struct dirstate *d, uint64_t len)
{
	if (!len || (d->flags & D_BYPASS))
		return;
	if (s->cb.on_gap)
		s->cb.on_gap(s->cb.user, f, dir, d->next_off, len);
	s->stats.gaps++;
	advance(d, len);
	if (d->ring) {
		d->ring->len = 0; /* the kept bytes no longer end at next_off */
		d->ring->lazy = NULL;
	}
}

/* Delivers held segments that start at next_off. */
static void drain(om_stream_ctx *s, om_flow *f, int dir, struct dirstate *d)
{
	struct seg *g;
	while (!(d->flags & D_CLOSED) && (g = d->head) && g->off <= d->next_off) {
		/* held segments never start before next_off (trimmed at insert
		 * and on delivery), so g->off == next_off here */
		deliver(s, f, dir, d, g->data, g->len, OM_STREAM_DATA_HELD);
		seg_drop(s, f->tcp, d, g);
		check_limits(s, f, dir, d);
	}
}

/* Skips holes up to target: delivers the held data below it and reports the
 * holes between as gaps. next_off may end past target when a held segment
 * straddles it. */
static void skip_to(om_stream_ctx *s, om_flow *f, int dir, struct dirstate *d, uint64_t target)
{
	struct seg *g;
	while (!(d->flags & D_CLOSED) && d->next_off < target) {
		g = d->head;
		if (g && g->off < target) {
			gap(s, f, dir, d, g->off - d->next_off);
			check_limits(s, f, dir, d);
			drain(s, f, dir, d);
		} else {
			gap(s, f, dir, d, target - d->next_off);
			check_limits(s, f, dir, d);
		}
	}
}

/* Target-based overlap resolution for a new segment [ns, ne) over held
 * bytes [os, oe): true if the new bytes win (Suricata's reading of Novak
 * and Sturges, "Target-Based TCP Stream Reassembly", 2007). */
static bool new_wins(uint8_t pol, uint64_t ns, uint64_t ne, uint64_t os, uint64_t oe)
{
	bool sol = pol == OM_POLICY_SOLARIS || pol == OM_POLICY_HPUX11;
	switch (pol) {
	case OM_POLICY_LAST: return true;
	case OM_POLICY_FIRST:
	case OM_POLICY_VISTA: return false;
	default: break;
	}
	if (ns == os) {
		if (ne < oe)
			return false;
		if (ne > oe && pol == OM_POLICY_LINUX)
			return true;
		return sol || pol == OM_POLICY_OLD_LINUX;
	}
	if (ns < os) {
		if (ne >= oe && sol)
			return true;
		return !sol; /* every policy left but first and vista */
	}
	return ne > oe && sol;
}

static void overlap_event(om_stream_ctx *s, om_flow *f, struct dirstate *d)
{
	s->stats.overlap_diff++;
	if (!(d->flags & D_OVLEV)) {
		d->flags |= D_OVLEV;
		event(s, f, "stream.reassembly_overlap_different_data");
	}
}

/* Segment [start, end) with start <= next_off < end: delivered from the
 * packet except where held segments (received earlier) cover it; there the
 * policy picks the bytes. Sets *ret_overlap if a held segment was covered,
 * *ret_diff if its bytes differed. */
static void process_inorder(om_stream_ctx *s, om_flow *f, int dir, struct dirstate *d,
                            const uint8_t *data, uint64_t start, uint64_t end, bool *ret_overlap,
                            bool *ret_diff)
{
	if (start < d->next_off)
		ring_check(s, f, d, data, start, d->next_off);
	while (!(d->flags & D_CLOSED) && d->next_off < end) {
		uint64_t p = d->next_off;
		struct seg *g = d->head;
		if (g && g->off <= p) {
			uint64_t ge = g->off + g->len;
			uint64_t oe = ge < end ? ge : end;
			*ret_overlap = true;
			if (oe > p && memcmp(g->data + (p - g->off), data + (p - start), oe - p)) {
				*ret_diff = true;
				if (new_wins(d->policy, start, end, g->off, ge))
					memcpy(g->data + (p - g->off), data + (p - start), oe - p);
			}
			deliver(s, f, dir, d, g->data + (p - g->off), ge - p, OM_STREAM_DATA_HELD);
			seg_drop(s, f->tcp, d, g);
			check_limits(s, f, dir, d);
		} else {
			uint64_t lim = g && g->off < end ? g->off : end;
			deliver(s, f, dir, d, data + (p - start), lim - p, 0);
			check_limits(s, f, dir, d);
		}
	}
	drain(s, f, dir, d);
}

static struct seg *seg_new(om_stream_ctx *s, struct om_tcp_stream *st, uint64_t off,
                           const uint8_t *data, uint64_t len)
{
	struct seg *g = blk_get(s, sizeof(*g) + len);
	if (!g)
		return NULL;
	g->off = off;
	g->len = (uint32_t)len;
	memcpy(g->data, data, len);
	st->held += g->bsize;
	return g;
}

/* Inserts g before at (at the tail if at is NULL). */
static void seg_insert_before(struct dirstate *d, struct seg *at, struct seg *g)
{
	if (!at) {
		g->next = NULL;
		g->prev = d->tail;
		if (d->tail)
			d->tail->next = g;
		else
			d->head = g;
		d->tail = g;
	} else {
		g->next = at;
		g->prev = at->prev;
		if (at->prev)
			at->prev->next = g;
		else
			d->head = g;
		at->prev = g;
	}
	d->nsegs++;
}

/* First held segment that may overlap or follow [start, ...). */
static struct seg *seg_first(struct dirstate *d, uint64_t start)
{
	if (d->tail && d->tail->off + d->tail->len <= start)
		return NULL; /* common case: after everything held */
	return d->head;
}

enum hold_res { HOLD_OK, HOLD_NOTHING_NEW, HOLD_NOMEM, HOLD_FLOWCAP };

/* Holds [start, end) (start > next_off) in the sorted list: the bytes not
 * held yet are inserted, and where bytes are held already the policy decides
 * whose stay. *ret_overlap: some bytes were already held; *ret_diff: some of
 * those differed. Nothing changes on HOLD_NOMEM or HOLD_FLOWCAP. */
static enum hold_res hold(om_stream_ctx *s, struct om_tcp_stream *st, struct dirstate *d,
                          const uint8_t *data, uint64_t start, uint64_t end, bool *ret_overlap,
                          bool *ret_diff)
{
	/* first pass: the blocks the new pieces need; compare what is held */
	uint64_t need = 0, pieces = 0, p = start;
	unsigned c;
	struct seg *g;
	for (g = seg_first(d, start); g && p < end; g = g->next) {
		uint64_t ge = g->off + g->len;
		if (ge <= p)
			continue;
		if (g->off >= end)
			break;
		if (g->off > p) {
			need += block_size(sizeof(struct seg) + (g->off - p), &c);
			pieces++;
		}
		uint64_t os = g->off > p ? g->off : p, oe = ge < end ? ge : end;
		*ret_overlap = true;
		if (memcmp(g->data + (os - g->off), data + (os - start), oe - os))
			*ret_diff = true;
		p = ge;
	}
	if (p < end) {
		need += block_size(sizeof(struct seg) + (end - p), &c);
		pieces++;
	}
	if (pieces) {
		if (s->held + need > s->memcap || d->nsegs + pieces > MAX_SEGS_PER_DIR)
			return HOLD_NOMEM;
		if (st->held + need > s->flow_memcap)
			return HOLD_FLOWCAP;
	}

	/* second pass: the policy over held bytes, then the new pieces. A
	 * malloc failure (not a cap, checked above) loses the remaining bytes
	 * like a dropped packet: they become a gap unless retransmitted. */
	p = start;
	for (g = seg_first(d, start); g && p < end; g = g->next) {
		uint64_t ge = g->off + g->len;
		if (ge <= p)
			continue;
		if (g->off >= end)
			break;
		if (g->off > p) {
			struct seg *n = seg_new(s, st, p, data + (p - start), g->off - p);
			if (!n)
				return HOLD_OK;
			seg_insert_before(d, g, n);
		}
		uint64_t os = g->off > p ? g->off : p, oe = ge < end ? ge : end;
		if (*ret_diff && new_wins(d->policy, start, end, g->off, ge))
			memcpy(g->data + (os - g->off), data + (os - start), oe - os);
		p = ge;
	}
	if (!pieces)
		return HOLD_NOTHING_NEW;
	if (p < end) {
		struct seg *n = seg_new(s, st, p, data + (p - start), end - p);
		if (n)
			seg_insert_before(d, g, n);
	}
	return HOLD_OK;
}

/* Drops held bytes at or after off (a FIN ends the stream there). The block
 * of a cut segment stays as it is. */
static void trim_after(om_stream_ctx *s, struct om_tcp_stream *st, struct dirstate *d, uint64_t off)
{
	struct seg *g;
	while ((g = d->tail) && g->off + g->len > off) {
		if (g->off >= off)
			seg_drop(s, st, d, g);
		else
			g->len -= (uint32_t)(g->off + g->len - off);
	}
}

/* Reports and delivers everything held, then closes the direction. */
static void dir_flush(om_stream_ctx *s, om_flow *f, int dir, struct dirstate *d, bool to_fin,
                      enum om_stream_end why)
{
	if (!(d->flags & D_CLOSED)) {
		if (d->tail)
			skip_to(s, f, dir, d, d->tail->off + d->tail->len);
		if (to_fin && (d->flags & D_FIN) && d->next_off < d->fin_off) {
			uint64_t end = d->fin_off;
			if (dir_depth(s, d) && end > dir_depth(s, d))
				end = dir_depth(s, d);
			if (end > d->next_off)
				skip_to(s, f, dir, d, end);
		}
	}
	dir_close(s, f, dir, d, why);
}

/* ---- packets ------------------------------------------------------------- */

static void stream_packet(om_stream_ctx *s, om_flow *f, const om_packet *p, int dir);

void om_stream_packet(om_stream_ctx *s, om_flow *f, const om_packet *p, int dir)
{
	if (!s || !valid_call(f, p, dir))
		return;
	s->cur_span = p->span;
	stream_packet(s, f, p, dir);
	s->cur_span = NULL;
}

static void stream_packet(om_stream_ctx *s, om_flow *f, const om_packet *p, int dir)
{
	if (!f->tcp || f->tcp->verdict == V_NONE)
		om_stream_track(s, f, p, dir);
	if (!f->tcp)
		return;
	struct om_tcp_stream *st = f->tcp;
	struct dirstate *d = &st->d[dir];
	uint8_t verdict = st->verdict;
	st->verdict = V_NONE;
	uint8_t fl = p->tcp_flags;
	uint32_t seq = p->tcp_seq;
	s->stats.segments++;
	check_limits(s, f, 0, &st->d[0]); /* a bypass asked for since the last packet */
	check_limits(s, f, 1, &st->d[1]);
	if (verdict != V_OK)
		return;

	if (fl & OM_TH_RST) {
		st->d[0].flags |= D_RST;
		st->d[1].flags |= D_RST;
		dir_flush(s, f, 0, &st->d[0], false, OM_STREAM_END_RST);
		dir_flush(s, f, 1, &st->d[1], false, OM_STREAM_END_RST);
		return;
	}

	if (fl & OM_TH_SYN) {
		/* a SYN judged valid starts the direction (again, if the
		 * client chose a new ISN before any data) */
		if (!(d->flags & D_INIT) || (d->next_off == 0 && !d->head)) {
			d->flags |= D_INIT;
			d->next_seq = seq + 1;
			d->next_off = 0;
		}
		seq++; /* the SYN takes one sequence number; data follows it */
	} else if (!(d->flags & D_INIT)) {
		d->flags |= D_INIT;
		d->next_seq = seq;
		d->next_off = 0;
		s->stats.midstream++;
	}

	uint32_t len = p->payload ? p->payload_len : 0;
	/* stream offsets of the payload; may lie before 0 after a midstream
	 * pickup */
	int64_t sstart = (int64_t)d->next_off + seq_diff(seq, d->next_seq);
	int64_t send = sstart + len;

	if ((fl & OM_TH_FIN) && !(d->flags & (D_FIN | D_CLOSED)) && send >= (int64_t)d->next_off) {
		d->flags |= D_FIN;
		d->fin_off = (uint64_t)send;
		trim_after(s, st, d, d->fin_off);
		check_limits(s, f, dir, d);
	}
	if (!len || (d->flags & D_CLOSED))
		return;

	const uint8_t *data = p->payload;
	if (send <= (int64_t)d->next_off) {
		s->stats.retransmissions++;
		if (send > 0) {
			int64_t a = sstart < 0 ? 0 : sstart;
			ring_check(s, f, d, data + (a - sstart), (uint64_t)a, (uint64_t)send);
		}
		return;
	}
	if (sstart < 0) {
		data += -sstart;
		sstart = 0;
	}
	uint64_t start = (uint64_t)sstart, end = (uint64_t)send;
	if ((d->flags & D_FIN) && end > d->fin_off)
		end = d->fin_off; /* bytes after the FIN */
	if (dir_depth(s, d) && end > dir_depth(s, d))
		end = dir_depth(s, d); /* bytes past depth (out of order) */
	if (end <= start)
		return;

	bool overlap = start < d->next_off, diff = false;
	if (start <= d->next_off) {
		if (start == d->next_off && !d->head) {
			/* the hot path: exactly in order, nothing held */
			deliver(s, f, dir, d, data, end - start, 0);
			check_limits(s, f, dir, d);
			return;
		}
		process_inorder(s, f, dir, d, data, start, end, &overlap, &diff);
	} else {
		s->stats.ooo_segments++;
		enum hold_res r = hold(s, st, d, data, start, end, &overlap, &diff);
		if (r == HOLD_NOTHING_NEW) {
			s->stats.retransmissions++;
			if (diff)
				overlap_event(s, f, d);
			return;
		}
		if (r == HOLD_NOMEM || r == HOLD_FLOWCAP) {
			/* skip the hole rather than lose in-order data: what is
			 * held below this segment is delivered, the holes are
			 * reported as gaps, and the segment is then in order.
			 * A flow over its own cap pays alone. */
			if (r == HOLD_NOMEM)
				s->stats.memcap_hits++;
			else
				s->stats.flow_memcap_hits++;
			skip_to(s, f, dir, d, start);
			if (!(d->flags & D_CLOSED) && d->next_off < end)
				process_inorder(s, f, dir, d, data, start, end, &overlap, &diff);
		}
	}
	if (overlap)
		s->stats.overlaps++;
	if (diff)
		overlap_event(s, f, d);
}

void om_stream_flow_end_why(om_stream_ctx *s, om_flow *f, enum om_stream_end why)
{
	if (!s || !f || !f->tcp)
		return;
	struct om_tcp_stream *st = f->tcp;
	dir_flush(s, f, 0, &st->d[0], true, why);
	dir_flush(s, f, 1, &st->d[1], true, why);
	state_put(s, st);
	f->tcp = NULL;
}

void om_stream_flow_end(om_stream_ctx *s, om_flow *f)
{
	om_stream_flow_end_why(s, f, OM_STREAM_END_FLOW);
}

/* ---- app-layer hooks ------------------------------------------------------ */

void om_stream_bypass(om_flow *f, int dir)
{
	if (!f || !f->tcp || (dir != OM_DIR_TOSERVER && dir != OM_DIR_TOCLIENT))
		return;
	/* only a flag: the held segments may be in the middle of delivery;
	 * check_limits frees them once the current delivery returns */
	f->tcp->d[dir].flags |= D_BYPASS;
}

int om_stream_set_depth(om_flow *f, int dir, uint64_t depth)
{
	if (!f || !f->tcp || (dir != OM_DIR_TOSERVER && dir != OM_DIR_TOCLIENT))
		return -ENOENT;
	f->tcp->d[dir].depth = depth;
	return 0;
}

enum om_stream_dir_end om_stream_dir_end(const om_flow *f, int dir)
{
	if (!f || !f->tcp || (dir != OM_DIR_TOSERVER && dir != OM_DIR_TOCLIENT))
		return OM_STREAM_OPEN;
	uint16_t fl = f->tcp->d[dir].flags;
	if (!(fl & D_CLOSED))
		return OM_STREAM_OPEN;
	if (fl & D_RST)
		return OM_STREAM_RST;
	if (fl & D_BYPASS)
		return OM_STREAM_BYPASS;
	if (fl & D_DEPTH)
		return OM_STREAM_DEPTH;
	return OM_STREAM_FIN;
}

uint32_t om_stream_window(const om_flow *f, int dir, uint8_t *buf, uint32_t cap)
{
	if (!f || !f->tcp || (dir != OM_DIR_TOSERVER && dir != OM_DIR_TOCLIENT) || !buf)
		return 0;
	const struct seg *r = f->tcp->d[dir].ring;
	if (!r || !r->len || !cap)
		return 0;
	uint32_t rcap = ring_cap(r);
	uint32_t n = r->len < cap ? r->len : cap;
	/* a lazy ring's bytes are still in the capture window (ring_lazy),
	 * not in its block */
	const uint8_t *src = r->lazy ? r->lazy : r->data;
	/* the n bytes before the write position, oldest first */
	uint32_t start = (uint32_t)((r->off + rcap - n) % rcap);
	uint32_t first = rcap - start < n ? rcap - start : n;
	memcpy(buf, src + start, first);
	if (first < n)
		memcpy(buf + first, src, n - first);
	return n;
}
