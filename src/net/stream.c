/* stream.c: TCP reassembly, one byte stream per direction. In-order payload
 * is handed to on_data straight from the packet (no copy, no allocation);
 * out-of-order payload is copied into a sorted, non-overlapping segment list
 * per direction, bounded by the context's memcap. Overlaps are first-wins.
 * Sequence numbers are compared with serial-number arithmetic and mapped to
 * 64-bit stream offsets, so wraparound at 2^32 is invisible to callers.
 * Per-flow state comes from a pool of slabs. Design notes: docs/net.md. */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "net/net.h"

/* Held out-of-order bytes [off, off + len). */
struct seg {
	struct seg *prev, *next;
	uint64_t off;
	uint32_t len;
	uint8_t cls; /* size class of the block (SEG_NOCLASS: malloc'd to size) */
	uint8_t data[];
};

#define D_INIT 0x01   /* next_seq is known */
#define D_FIN 0x02    /* fin_off is known */
#define D_CLOSED 0x04 /* no more data: RST, FIN reached, or flushed */
#define D_DEPTH 0x08  /* depth reached */
#define D_RST 0x10    /* closed by a valid RST */
#define D_BYPASS 0x20 /* om_stream_bypass: deliver nothing more */

struct dirstate {
	uint32_t next_seq; /* sequence number of the next byte expected */
	uint64_t next_off; /* its stream offset: bytes delivered or skipped */
	uint64_t fin_off;  /* offset of the FIN, if D_FIN */
	struct seg *head, *tail;
	uint32_t nsegs;
	uint8_t flags;
	uint64_t depth; /* om_stream_set_depth; 0: the context's */
};

struct om_tcp_stream {
	struct dirstate d[2];
	struct om_tcp_stream *next_free;
	bool in_use;
};

/* Pool: slabs of SLAB_N states, at most MAX_STATES in all. The flow table's
 * max_flows bounds the states in use; this cap is a second line. */
#define SLAB_N 64
#define MAX_STATES (1u << 20)
/* Held segments per direction: bounds the O(n) insertion walk. Exceeding it
 * is treated like the memcap. */
#define MAX_SEGS_PER_DIR 4096
/* An RST is trusted when its sequence number lies this far ahead of what
 * has been delivered (window scaling allows up to 1 GiB windows). */
#define RST_WINDOW (1u << 30)

struct slab {
	struct slab *next;
	struct om_tcp_stream s[SLAB_N];
};

/* Segment blocks are recycled per context in power-of-two size classes from
 * 128 bytes to 2 KiB (a full-size Ethernet segment and its header), so that
 * the steady state of out-of-order traffic does not call malloc. The cache
 * of free blocks is capped; memcap accounting stays by exact size. */
#define SEG_CLASSES 5
#define SEG_CLASS_MIN 128u
#define SEG_NOCLASS 0xff
#define SEG_CACHE_MAX (4u * 1024 * 1024)

struct om_stream_ctx {
	uint64_t depth, memcap;
	uint64_t seg_mem; /* bytes of held segments (headers included) */
	om_stream_callbacks cb;
	struct slab *slabs;
	struct om_tcp_stream *free;
	struct seg *seg_cache[SEG_CLASSES]; /* free blocks, chained through next */
	uint64_t seg_cache_bytes;
	uint32_t nstates;
	om_stream_stats stats;
	/* payload of the packet being fed, to tell on_data whether its bytes
	 * come from it (om_stream_data_held) */
	const uint8_t *pkt_data;
	uint32_t pkt_len;
	bool held;
};

om_stream_ctx *om_stream_new(uint64_t depth, uint64_t memcap, const om_stream_callbacks *cb)
{
	om_stream_ctx *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->depth = depth;
	s->memcap = memcap;
	if (cb)
		s->cb = *cb;
	return s;
}

static inline size_t class_size(unsigned c)
{
	return (size_t)SEG_CLASS_MIN << c;
}

static struct seg *seg_block(om_stream_ctx *s, size_t total)
{
	unsigned c = 0;
	while (c < SEG_CLASSES && class_size(c) < total)
		c++;
	struct seg *g;
	if (c == SEG_CLASSES) {
		g = malloc(total);
		if (g)
			g->cls = SEG_NOCLASS;
		return g;
	}
	g = s->seg_cache[c];
	if (g) {
		s->seg_cache[c] = g->next;
		s->seg_cache_bytes -= class_size(c);
		return g;
	}
	g = malloc(class_size(c));
	if (g)
		g->cls = (uint8_t)c;
	return g;
}

static void seg_release(om_stream_ctx *s, struct seg *g)
{
	if (g->cls == SEG_NOCLASS || s->seg_cache_bytes + class_size(g->cls) > SEG_CACHE_MAX) {
		free(g);
		return;
	}
	g->next = s->seg_cache[g->cls];
	s->seg_cache[g->cls] = g;
	s->seg_cache_bytes += class_size(g->cls);
}

/* Unlinks a held segment from its direction and frees it. */
static void seg_drop(om_stream_ctx *s, struct dirstate *d, struct seg *g)
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
	uint64_t sz = sizeof(*g) + g->len;
	s->seg_mem -= sz;
	s->stats.mem_in_use -= sz;
	seg_release(s, g);
}

/* The last held segment (trimmed by a FIN) and the first (just delivered). */
static void seg_pop_tail(om_stream_ctx *s, struct dirstate *d)
{
	seg_drop(s, d, d->tail);
}

static void seg_pop_head(om_stream_ctx *s, struct dirstate *d)
{
	seg_drop(s, d, d->head);
}

static void dir_free_segs(om_stream_ctx *s, struct dirstate *d)
{
	while (d->head)
		seg_pop_head(s, d);
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
				dir_free_segs(s, &sl->s[i].d[0]);
				dir_free_segs(s, &sl->s[i].d[1]);
			}
		}
		free(sl);
		sl = n;
	}
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

static void mem_add(om_stream_ctx *s, uint64_t n)
{
	s->stats.mem_in_use += n;
	if (s->stats.mem_in_use > s->stats.mem_max)
		s->stats.mem_max = s->stats.mem_in_use;
}

static struct om_tcp_stream *state_get(om_stream_ctx *s)
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
	}
	struct om_tcp_stream *t = s->free;
	s->free = t->next_free;
	memset(t, 0, sizeof(*t));
	t->in_use = true;
	mem_add(s, sizeof(*t));
	return t;
}

static void state_put(om_stream_ctx *s, struct om_tcp_stream *t)
{
	t->in_use = false;
	t->next_free = s->free;
	s->free = t;
	s->stats.mem_in_use -= sizeof(*t);
}

/* ---- delivery ------------------------------------------------------------ */

static void advance(struct dirstate *d, uint64_t n)
{
	d->next_off += n;
	d->next_seq += (uint32_t)n;
}

static inline uint64_t dir_depth(const om_stream_ctx *s, const struct dirstate *d)
{
	return d->depth ? d->depth : s->depth;
}

/* Called after next_off moved: stops the direction at depth or FIN. */
static void check_limits(om_stream_ctx *s, struct dirstate *d)
{
	if ((d->flags & D_BYPASS) && !(d->flags & D_CLOSED)) {
		d->flags |= D_CLOSED;
		dir_free_segs(s, d);
	}
	if (dir_depth(s, d) && d->next_off >= dir_depth(s, d) && !(d->flags & D_DEPTH)) {
		d->flags |= D_DEPTH | D_CLOSED;
		s->stats.depth_reached++;
		dir_free_segs(s, d);
	}
	if ((d->flags & D_FIN) && d->next_off >= d->fin_off) {
		d->flags |= D_CLOSED;
		dir_free_segs(s, d);
	}
}

static void deliver(om_stream_ctx *s, om_flow *f, int dir, struct dirstate *d, const uint8_t *data,
                    uint64_t len)
{
	if (!len || (d->flags & D_BYPASS))
		return;
	uintptr_t a = (uintptr_t)data, pa = (uintptr_t)s->pkt_data;
	s->held = !s->pkt_data || a < pa || a >= pa + s->pkt_len;
	if (s->cb.on_data)
		s->cb.on_data(s->cb.user, f, dir, data, (uint32_t)len, d->next_off);
	s->stats.bytes_delivered += len;
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
}

/* Delivers held segments that start at next_off. */
static void drain(om_stream_ctx *s, om_flow *f, int dir, struct dirstate *d)
{
	struct seg *g;
	while (!(d->flags & D_CLOSED) && (g = d->head) && g->off <= d->next_off) {
		/* held segments never start before next_off (trimmed at insert
		 * and on delivery), so g->off == next_off here */
		deliver(s, f, dir, d, g->data, g->len);
		seg_pop_head(s, d);
		check_limits(s, d);
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
			check_limits(s, d);
			drain(s, f, dir, d);
		} else {
			gap(s, f, dir, d, target - d->next_off);
			check_limits(s, d);
		}
	}
}

static void overlap_event(om_stream_ctx *s, om_flow *f)
{
	s->stats.overlap_diff++;
	if (s->cb.on_event)
		s->cb.on_event(s->cb.user, f, "stream.overlap_diff");
}

/* Segment [start, end) with start <= next_off < end: delivered from the
 * packet except where held segments (received earlier) cover it, whose bytes
 * win. Sets *ret_overlap if a held segment was covered, *ret_diff if its
 * bytes differed. */
static void process_inorder(om_stream_ctx *s, om_flow *f, int dir, struct dirstate *d,
                            const uint8_t *data, uint64_t start, uint64_t end, bool *ret_overlap,
                            bool *ret_diff)
{
	while (!(d->flags & D_CLOSED) && d->next_off < end) {
		uint64_t p = d->next_off;
		struct seg *g = d->head;
		if (g && g->off <= p) {
			uint64_t ge = g->off + g->len;
			uint64_t oe = ge < end ? ge : end;
			*ret_overlap = true;
			if (oe > p && memcmp(g->data + (p - g->off), data + (p - start), oe - p))
				*ret_diff = true;
			deliver(s, f, dir, d, g->data + (p - g->off), ge - p);
			seg_pop_head(s, d);
			check_limits(s, d);
		} else {
			uint64_t lim = g && g->off < end ? g->off : end;
			deliver(s, f, dir, d, data + (p - start), lim - p);
			check_limits(s, d);
		}
	}
	drain(s, f, dir, d);
}

static struct seg *seg_new(om_stream_ctx *s, uint64_t off, const uint8_t *data, uint64_t len)
{
	struct seg *g = seg_block(s, sizeof(*g) + len);
	if (!g)
		return NULL;
	g->off = off;
	g->len = (uint32_t)len;
	memcpy(g->data, data, len);
	s->seg_mem += sizeof(*g) + len;
	mem_add(s, sizeof(*g) + len);
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

enum hold_res { HOLD_OK, HOLD_NOTHING_NEW, HOLD_NOMEM };

/* Holds [start, end) (start > next_off) in the sorted list, keeping only the
 * bytes not held yet (first-wins). *ret_overlap: some bytes were already
 * held; *ret_diff: some of those differed. Nothing is inserted on
 * HOLD_NOMEM. */
static enum hold_res hold(om_stream_ctx *s, struct dirstate *d, const uint8_t *data, uint64_t start,
                          uint64_t end, bool *ret_overlap, bool *ret_diff)
{
	/* first pass: what would be new; compare what is already held */
	uint64_t need = 0, pieces = 0, p = start;
	struct seg *g;
	for (g = seg_first(d, start); g && p < end; g = g->next) {
		uint64_t ge = g->off + g->len;
		if (ge <= p)
			continue;
		if (g->off >= end)
			break;
		if (g->off > p) {
			need += g->off - p;
			pieces++;
		}
		uint64_t os = g->off > p ? g->off : p, oe = ge < end ? ge : end;
		*ret_overlap = true;
		if (memcmp(g->data + (os - g->off), data + (os - start), oe - os))
			*ret_diff = true;
		p = ge;
	}
	if (p < end) {
		need += end - p;
		pieces++;
	}
	if (!pieces)
		return HOLD_NOTHING_NEW;
	if (s->seg_mem + need + pieces * sizeof(struct seg) > s->memcap ||
	    d->nsegs + pieces > MAX_SEGS_PER_DIR)
		return HOLD_NOMEM;

	/* second pass: insert the new pieces. A malloc failure (not the
	 * memcap, checked above) loses the remaining bytes like a dropped
	 * packet: they become a gap unless retransmitted. */
	p = start;
	for (g = seg_first(d, start); g && p < end; g = g->next) {
		uint64_t ge = g->off + g->len;
		if (ge <= p)
			continue;
		if (g->off >= end)
			break;
		if (g->off > p) {
			struct seg *n = seg_new(s, p, data + (p - start), g->off - p);
			if (!n)
				return HOLD_OK;
			seg_insert_before(d, g, n);
		}
		p = ge;
	}
	if (p < end) {
		struct seg *n = seg_new(s, p, data + (p - start), end - p);
		if (n)
			seg_insert_before(d, g, n);
	}
	return HOLD_OK;
}

/* Drops held bytes at or after off (a FIN ends the stream there). */
static void trim_after(om_stream_ctx *s, struct dirstate *d, uint64_t off)
{
	struct seg *g;
	while ((g = d->tail) && g->off + g->len > off) {
		if (g->off >= off) {
			seg_pop_tail(s, d);
		} else {
			uint64_t cut = g->off + g->len - off;
			g->len -= (uint32_t)cut;
			s->seg_mem -= cut;
			s->stats.mem_in_use -= cut;
		}
	}
}

/* Reports and delivers everything held, then closes the direction. */
static void dir_flush(om_stream_ctx *s, om_flow *f, int dir, struct dirstate *d, bool to_fin)
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
	d->flags |= D_CLOSED;
	dir_free_segs(s, d);
}

/* ---- packets ------------------------------------------------------------- */

static inline int64_t seq_diff(uint32_t a, uint32_t b)
{
	return (int64_t)(int32_t)(a - b);
}

void om_stream_packet(om_stream_ctx *s, om_flow *f, const om_packet *p, int dir)
{
	if (!f || p->proto != IPPROTO_TCP || (dir != OM_DIR_TOSERVER && dir != OM_DIR_TOCLIENT))
		return;
	if (!f->tcp) {
		f->tcp = state_get(s);
		if (!f->tcp) {
			s->stats.memcap_hits++;
			return;
		}
	}
	struct om_tcp_stream *st = f->tcp;
	struct dirstate *d = &st->d[dir];
	uint8_t fl = p->tcp_flags;
	uint32_t seq = p->tcp_seq;
	s->stats.segments++;
	check_limits(s, &st->d[0]); /* a bypass asked for since the last packet */
	check_limits(s, &st->d[1]);
	s->pkt_data = p->payload;
	s->pkt_len = p->payload ? p->payload_len : 0;

	if (fl & OM_TH_RST) {
		/* an RST far from the expected sequence number is ignored:
		 * it would let a blind attacker end inspection */
		if (d->flags & D_INIT) {
			int64_t rel = seq_diff(seq, d->next_seq);
			if (rel < 0 || rel > (int64_t)RST_WINDOW) {
				if (s->cb.on_event)
					s->cb.on_event(s->cb.user, f, "stream.rst_invalid");
				return;
			}
		}
		st->d[0].flags |= D_RST;
		st->d[1].flags |= D_RST;
		dir_flush(s, f, 0, &st->d[0], false);
		dir_flush(s, f, 1, &st->d[1], false);
		return;
	}

	if (fl & OM_TH_SYN) {
		if (!(d->flags & D_INIT)) {
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
		trim_after(s, d, d->fin_off);
		check_limits(s, d);
	}
	if (!len || (d->flags & D_CLOSED))
		return;

	if (send <= (int64_t)d->next_off) {
		s->stats.retransmissions++;
		return;
	}
	const uint8_t *data = p->payload;
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
			deliver(s, f, dir, d, data, end - start);
			check_limits(s, d);
			return;
		}
		process_inorder(s, f, dir, d, data, start, end, &overlap, &diff);
	} else {
		s->stats.ooo_segments++;
		enum hold_res r = hold(s, d, data, start, end, &overlap, &diff);
		if (r == HOLD_NOTHING_NEW) {
			s->stats.retransmissions++;
			if (diff)
				overlap_event(s, f);
			return;
		}
		if (r == HOLD_NOMEM) {
			/* skip the hole rather than lose in-order data: what is
			 * held below this segment is delivered, the holes are
			 * reported as gaps, and the segment is then in order */
			s->stats.memcap_hits++;
			skip_to(s, f, dir, d, start);
			if (!(d->flags & D_CLOSED) && d->next_off < end)
				process_inorder(s, f, dir, d, data, start, end, &overlap, &diff);
		}
	}
	if (overlap)
		s->stats.overlaps++;
	if (diff)
		overlap_event(s, f);
}

void om_stream_flow_end(om_stream_ctx *s, om_flow *f)
{
	if (!f || !f->tcp)
		return;
	struct om_tcp_stream *st = f->tcp;
	s->pkt_data = NULL; /* what is flushed now is held data */
	dir_flush(s, f, 0, &st->d[0], true);
	dir_flush(s, f, 1, &st->d[1], true);
	state_put(s, st);
	f->tcp = NULL;
}

/* ---- app-layer hooks ------------------------------------------------------ */

bool om_stream_data_held(const om_stream_ctx *s)
{
	return s->held;
}

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
	uint8_t fl = f->tcp->d[dir].flags;
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
