/* Unit tests for TCP reassembly (src/net/stream.c). Expected streams are
 * built here from the segments fed, with a first-wins byte model. */
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "net/net.h"

#define CAP 8192
#define MAXGAPS 32

struct rec {
	uint8_t buf[2][CAP];
	uint64_t next[2];      /* where the next delivery must start */
	uint64_t delivered[2]; /* bytes delivered */
	int nonconsecutive;    /* deliveries not at next[] */
	struct {
		int dir;
		uint64_t off, len;
	} gaps[MAXGAPS];
	int ngaps;
	int ev_diff, ev_rst, ev_other;
	int calls, held_calls;
	int ends[2];
	enum om_stream_end end_why[2];
	char last_event[64];
};

static void on_data(void *u, om_flow *f, int dir, const uint8_t *data, uint32_t len, uint64_t off,
                    unsigned flags)
{
	(void)f;
	struct rec *r = u;
	r->calls++;
	if (flags & OM_STREAM_DATA_HELD)
		r->held_calls++;
	if (off != r->next[dir])
		r->nonconsecutive++;
	if (off + len <= CAP)
		memcpy(r->buf[dir] + off, data, len);
	r->next[dir] = off + len;
	r->delivered[dir] += len;
}

static void on_gap(void *u, om_flow *f, int dir, uint64_t off, uint64_t len)
{
	(void)f;
	struct rec *r = u;
	if (off != r->next[dir])
		r->nonconsecutive++;
	if (r->ngaps < MAXGAPS) {
		r->gaps[r->ngaps].dir = dir;
		r->gaps[r->ngaps].off = off;
		r->gaps[r->ngaps].len = len;
	}
	r->ngaps++;
	r->next[dir] = off + len;
}

static void on_event(void *u, om_flow *f, const char *ev)
{
	(void)f;
	struct rec *r = u;
	snprintf(r->last_event, sizeof(r->last_event), "%s", ev);
	if (!strcmp(ev, "stream.reassembly_overlap_different_data"))
		r->ev_diff++;
	else if (!strcmp(ev, "stream.rst_invalid"))
		r->ev_rst++;
	else
		r->ev_other++;
}

static void on_end(void *u, om_flow *f, int dir, enum om_stream_end why)
{
	(void)f;
	struct rec *r = u;
	r->ends[dir]++;
	r->end_why[dir] = why;
}

struct fx {
	struct rec r;
	om_stream_ctx *s;
	om_flow f;
};

static struct fx *fx_new(uint64_t depth, uint64_t memcap)
{
	struct fx *x = calloc(1, sizeof(*x));
	assert_non_null(x);
	om_stream_callbacks cb = {on_data, on_gap, on_event, &x->r, on_end};
	x->s = om_stream_new(depth, memcap, &cb);
	assert_non_null(x->s);
	x->f.proto = IPPROTO_TCP;
	return x;
}

/* Ends the flow and checks that every byte of memory came back. */
static void fx_end(struct fx *x)
{
	om_stream_flow_end(x->s, &x->f);
	assert_null(x->f.tcp);
	const om_stream_stats *m = om_stream_stats_get(x->s);
	assert_int_equal(m->mem_segments, 0);
	assert_int_equal(m->mem_windows, 0);
	assert_int_equal(m->mem_in_use, m->mem_cache + m->mem_states);
	assert_int_equal(x->r.nonconsecutive, 0);
}

static void fx_free(struct fx *x)
{
	om_stream_free(x->s);
	free(x);
}

static void feed(struct fx *x, int dir, uint8_t flags, uint32_t seq, const void *data, uint32_t len)
{
	om_packet p;
	memset(&p, 0, sizeof(p));
	p.ip_ver = 4;
	p.proto = IPPROTO_TCP;
	p.flags = OM_PKT_IPV4 | OM_PKT_TCP | OM_PKT_HAS_PORTS;
	p.tcp_flags = flags;
	p.tcp_seq = seq;
	p.payload = data;
	p.payload_len = len;
	om_stream_packet(x->s, &x->f, &p, dir);
}

static const om_stream_stats *st(struct fx *x)
{
	return om_stream_stats_get(x->s);
}

/* A stream of n pseudo-random bytes (reference content). */
static void fill(uint8_t *b, size_t n, uint32_t seed)
{
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		b[i] = (uint8_t)(seed >> 16);
	}
}

#define ISN 1000u /* client ISN: data starts at ISN + 1 */
#define SISN 70000u

static void feed_ack(struct fx *x, int dir, uint8_t flags, uint32_t seq, uint32_t ack, uint16_t win,
                     const void *data, uint32_t len)
{
	om_packet p;
	memset(&p, 0, sizeof(p));
	p.ip_ver = 4;
	p.proto = IPPROTO_TCP;
	p.flags = OM_PKT_IPV4 | OM_PKT_TCP | OM_PKT_HAS_PORTS;
	p.tcp_flags = flags;
	p.tcp_seq = seq;
	p.tcp_ack = ack;
	p.tcp_win = win;
	p.tcp_wscale = 0xff;
	p.payload = data;
	p.payload_len = len;
	om_stream_packet(x->s, &x->f, &p, dir);
}

static void handshake(struct fx *x)
{
	feed_ack(x, 0, OM_TH_SYN, ISN, 0, 65535, NULL, 0);
	feed_ack(x, 1, OM_TH_SYN | OM_TH_ACK, SISN, ISN + 1, 65535, NULL, 0);
	feed_ack(x, 0, OM_TH_ACK, ISN + 1, SISN + 1, 65535, NULL, 0);
}

/* ---- tests ---------------------------------------------------------------- */

static void test_in_order(void **state)
{
	(void)state;
	struct fx *x = fx_new(0, 1 << 20);
	handshake(x);
	feed(x, 0, OM_TH_ACK | OM_TH_PUSH, ISN + 1, "hello ", 6);
	feed(x, 0, OM_TH_ACK | OM_TH_PUSH, ISN + 7, "world", 5);
	feed(x, 1, OM_TH_ACK | OM_TH_PUSH, SISN + 1, "ok", 2);
	assert_int_equal(x->r.delivered[0], 11);
	assert_memory_equal(x->r.buf[0], "hello world", 11);
	assert_int_equal(x->r.delivered[1], 2);
	assert_memory_equal(x->r.buf[1], "ok", 2);
	assert_int_equal(x->r.calls, 3); /* one call per in-order segment */
	assert_int_equal(st(x)->ooo_segments, 0);
	assert_int_equal(st(x)->bytes_delivered, 13);
	assert_int_equal(st(x)->midstream, 0);
	fx_end(x);
	assert_int_equal(x->r.ngaps, 0);
	fx_free(x);
}

/* In-order data is handed over without a copy: the pointer is the packet's. */
static const uint8_t *zc_seen;
static void on_data_ptr(void *u, om_flow *f, int dir, const uint8_t *d, uint32_t len, uint64_t off,
                        unsigned flags)
{
	(void)u, (void)f, (void)dir, (void)len, (void)off;
	assert_int_equal(flags, 0); /* from the packet */
	zc_seen = d;
}

static void test_zero_copy(void **state)
{
	(void)state;
	om_stream_callbacks cb = {on_data_ptr, NULL, NULL, NULL, NULL};
	om_stream_ctx *s = om_stream_new(0, 4096, &cb);
	om_flow f;
	memset(&f, 0, sizeof(f));
	f.proto = IPPROTO_TCP;
	static const uint8_t payload[] = "abcdef";
	om_packet p;
	memset(&p, 0, sizeof(p));
	p.proto = IPPROTO_TCP;
	p.tcp_flags = OM_TH_ACK;
	p.tcp_seq = 5;
	p.payload = payload;
	p.payload_len = 6;
	om_stream_packet(s, &f, &p, 0);
	assert_ptr_equal(zc_seen, payload);
	om_stream_flow_end(s, &f);
	om_stream_free(s);
}

static void test_ooo_two(void **state)
{
	(void)state;
	struct fx *x = fx_new(0, 1 << 20);
	handshake(x);
	feed(x, 0, OM_TH_ACK, ISN + 1 + 4, "BBBB", 4);
	assert_int_equal(x->r.delivered[0], 0);
	assert_true(st(x)->mem_segments > 0);
	feed(x, 0, OM_TH_ACK, ISN + 1, "AAAA", 4);
	assert_int_equal(x->r.delivered[0], 8);
	assert_memory_equal(x->r.buf[0], "AAAABBBB", 8);
	assert_int_equal(st(x)->ooo_segments, 1);
	fx_end(x);
	assert_int_equal(x->r.ngaps, 0);
	fx_free(x);
}

static void test_ooo_three_all_orders(void **state)
{
	(void)state;
	static const int perms[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2},
	                                {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
	uint8_t ref[30];
	fill(ref, sizeof(ref), 7);
	for (int k = 0; k < 6; k++) {
		struct fx *x = fx_new(0, 1 << 20);
		handshake(x);
		for (int i = 0; i < 3; i++) {
			int sg = perms[k][i];
			feed(x, 0, OM_TH_ACK, ISN + 1 + 10u * sg, ref + 10 * sg, 10);
		}
		assert_int_equal(x->r.delivered[0], 30);
		assert_memory_equal(x->r.buf[0], ref, 30);
		/* a segment is held when it arrives while one before it is
		 * still missing */
		int held = 0, next = 0;
		bool have[3] = {false};
		for (int i = 0; i < 3; i++) {
			int sg = perms[k][i];
			have[sg] = true;
			if (sg != next)
				held++;
			while (next < 3 && have[next])
				next++;
		}
		assert_int_equal(st(x)->ooo_segments, held);
		fx_end(x);
		assert_int_equal(x->r.ngaps, 0);
		fx_free(x);
	}
}

static void test_retransmission(void **state)
{
	(void)state;
	struct fx *x = fx_new(0, 1 << 20);
	handshake(x);
	feed(x, 0, OM_TH_ACK, ISN + 1, "abcd", 4);
	feed(x, 0, OM_TH_ACK, ISN + 1, "abcd", 4); /* delivered already */
	feed(x, 0, OM_TH_ACK, ISN + 9, "ijkl", 4); /* held */
	feed(x, 0, OM_TH_ACK, ISN + 9, "ijkl", 4); /* held already */
	assert_int_equal(st(x)->retransmissions, 2);
	assert_int_equal(x->r.delivered[0], 4);
	feed(x, 0, OM_TH_ACK, ISN + 5, "efgh", 4);
	assert_int_equal(x->r.delivered[0], 12);
	assert_memory_equal(x->r.buf[0], "abcdefghijkl", 12);
	assert_int_equal(st(x)->overlaps, 0);
	assert_int_equal(x->r.ev_diff, 0);
	fx_end(x);
	fx_free(x);
}

/* Overlaps with a held segment H = [10, 20): every shape, with the same and
 * with different bytes. The expected stream is the first-wins model: a byte
 * keeps the value of the first segment that carried it. */
static void test_overlap_shapes(void **state)
{
	(void)state;
	static const struct {
		const char *name;
		uint32_t off, len;
	} shapes[] = {
	    {"before", 5, 10},   /* [5,15) */
	    {"after", 15, 10},   /* [15,25) */
	    {"inside", 12, 6},   /* [12,18) */
	    {"covering", 5, 20}, /* [5,25) */
	    {"exact", 10, 10},   /* [10,20): a retransmission */
	};
	uint8_t ref[30];
	fill(ref, sizeof(ref), 3);
	for (size_t k = 0; k < OM_ARRAY_SIZE(shapes); k++) {
		for (int differ = 0; differ < 2; differ++) {
			struct fx *x = fx_new(0, 1 << 20);
			om_stream_config sc = {.overlap_window = 2048,
			                       .default_policy = OM_POLICY_FIRST};
			assert_int_equal(om_stream_configure(x->s, &sc), 0);
			handshake(x);
			uint8_t model[30];
			bool set[30] = {false};
			/* segment 1: the held H */
			feed(x, 0, OM_TH_ACK, ISN + 1 + 10, ref + 10, 10);
			for (int i = 10; i < 20; i++)
				model[i] = ref[i], set[i] = true;
			/* segment 2: the overlapping one */
			uint8_t seg[30];
			memcpy(seg, ref + shapes[k].off, shapes[k].len);
			if (differ)
				for (uint32_t i = 0; i < shapes[k].len; i++)
					seg[i] ^= 0x5a;
			feed(x, 0, OM_TH_ACK, ISN + 1 + shapes[k].off, seg, shapes[k].len);
			for (uint32_t i = 0; i < shapes[k].len; i++) {
				uint32_t o = shapes[k].off + i;
				if (!set[o])
					model[o] = seg[i], set[o] = true;
			}
			/* segment 3: the rest, [0, 30) */
			feed(x, 0, OM_TH_ACK, ISN + 1, ref, 30);
			for (int i = 0; i < 30; i++)
				if (!set[i])
					model[i] = ref[i], set[i] = true;

			assert_int_equal(x->r.delivered[0], 30);
			assert_memory_equal(x->r.buf[0], model, 30);
			/* "inside" and "exact" carry no new byte: counted as
			 * retransmissions; the others as overlaps. Segment 3
			 * always overlaps what is held. */
			bool wholly_seen =
			    shapes[k].off >= 10 && shapes[k].off + shapes[k].len <= 20;
			if (wholly_seen) {
				assert_int_equal(st(x)->retransmissions, 1);
				assert_int_equal(st(x)->overlaps, 1);
			} else {
				assert_int_equal(st(x)->retransmissions, 0);
				assert_int_equal(st(x)->overlaps, 2);
			}
			/* segment 2 differs from H where they overlap; segment 3
			 * then differs from segment 2's held bytes if any */
			if (differ) {
				/* the event once per direction, every one counted */
				assert_int_equal(x->r.ev_diff, 1);
				assert_true(st(x)->overlap_diff >= 1);
			} else {
				assert_int_equal(x->r.ev_diff, 0);
			}
			fx_end(x);
			assert_int_equal(x->r.ngaps, 0);
			fx_free(x);
		}
	}
}

/* Overlap with bytes already delivered: they cannot be replaced and only
 * the new tail is delivered; the rewrite of delivered bytes is seen in the
 * kept window and flagged once for the direction. */
static void test_overlap_delivered(void **state)
{
	(void)state;
	struct fx *x = fx_new(0, 1 << 20);
	handshake(x);
	feed(x, 0, OM_TH_ACK, ISN + 1, "0123456789", 10);
	feed(x, 0, OM_TH_ACK, ISN + 1 + 5, "XXXXXabcde", 10);
	assert_int_equal(x->r.delivered[0], 15);
	assert_memory_equal(x->r.buf[0], "0123456789abcde", 15);
	assert_int_equal(st(x)->overlaps, 1);
	assert_int_equal(x->r.ev_diff, 1);
	/* an identical retransmission is no rewrite; a second rewrite (a
	 * wholly old segment) is counted but not raised again */
	feed(x, 0, OM_TH_ACK, ISN + 1, "0123456789", 10);
	assert_int_equal(st(x)->overlap_diff, 1);
	feed(x, 0, OM_TH_ACK, ISN + 1 + 2, "zz", 2);
	assert_int_equal(st(x)->overlap_diff, 2);
	assert_int_equal(x->r.ev_diff, 1);
	assert_int_equal(x->r.delivered[0], 15);
	fx_end(x);
	fx_free(x);
}

/* Payload from a mapped capture: the delivered-bytes ring keeps a pointer
 * into the capture window instead of a copy, and copies the bytes when the
 * stream moves to another window. The rewrite check must see the bytes
 * that were delivered, before and after the window is let go (it is
 * unmapped then: a stale pointer would crash or compare garbage). */
#define BIGREC 2000u
#define FILLREC 262144u
static void put_rec(FILE *fp, const uint8_t *d, uint32_t n)
{
	uint32_t h[4] = {1, 0, n, n};
	assert_int_equal(fwrite(h, sizeof(h), 1, fp), 1);
	assert_int_equal(fwrite(d, 1, n, fp), n);
}

static void feed_span(om_stream_ctx *s, om_flow *f, int dir, uint32_t seq, const uint8_t *data,
                      uint32_t len, om_pcap_span *span)
{
	om_packet p;
	memset(&p, 0, sizeof(p));
	p.ip_ver = 4;
	p.proto = IPPROTO_TCP;
	p.flags = OM_PKT_IPV4 | OM_PKT_TCP | OM_PKT_HAS_PORTS;
	p.tcp_flags = OM_TH_ACK;
	p.tcp_seq = seq;
	p.tcp_ack = SISN + 1;
	p.tcp_win = 65535;
	p.tcp_wscale = 0xff;
	p.payload = data;
	p.payload_len = len;
	p.span = span;
	om_stream_packet(s, f, &p, dir);
}

static void test_overlap_mapped(void **state)
{
	(void)state;
	char path[] = "/tmp/omamori-stream-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	FILE *fp = fdopen(fd, "wb");
	assert_non_null(fp);
	uint32_t gh[6] = {0xa1b2c3d4, 2 | (4u << 16), 0, 0, 262144, 1};
	assert_int_equal(fwrite(gh, sizeof(gh), 1, fp), 1);
	static uint8_t a[BIGREC], b[BIGREC], fill_rec[FILLREC];
	fill(a, sizeof(a), 7);
	fill(b, sizeof(b), 8);
	put_rec(fp, a, BIGREC);
	/* enough filler that the last record is in the next 32 MiB window */
	for (int i = 0; i < 132; i++)
		put_rec(fp, fill_rec, FILLREC);
	put_rec(fp, b, BIGREC);
	assert_int_equal(fclose(fp), 0);

	char err[256];
	om_pcap *pc;
	assert_int_equal(om_pcap_open(path, &pc, err, sizeof(err)), 0);
	const uint8_t *d, *da = NULL, *db = NULL;
	uint32_t cl, wl;
	om_usec ts;
	assert_int_equal(om_pcap_next(pc, &d, &cl, &wl, &ts, err, sizeof(err)), 1);
	assert_int_equal(cl, BIGREC);
	da = d;
	om_pcap_span *sa = om_pcap_current_span(pc);
	assert_non_null(sa);
	assert_true(om_pcap_span_holds(sa, da, BIGREC));

	/* two flows on one context */
	struct fx *x = fx_new(0, 1 << 20);
	handshake(x);
	om_flow keep = x->f, f2;
	memset(&x->f, 0, sizeof(x->f));
	x->f.proto = IPPROTO_TCP;
	handshake(x);
	f2 = x->f;
	x->f = keep;

	/* flow 1 delivers the first record from the mapped window */
	feed_span(x->s, &x->f, 0, ISN + 1, da, BIGREC, sa);
	assert_int_equal(x->r.delivered[0], BIGREC);
	/* the same bytes again (from elsewhere): no rewrite; changed: one */
	uint8_t copy[BIGREC];
	memcpy(copy, a, sizeof(copy));
	feed_span(x->s, &x->f, 0, ISN + 1 + BIGREC - 500, copy + BIGREC - 500, 500, NULL);
	assert_int_equal(st(x)->overlap_diff, 0);
	/* deliver it from the window again, so that the ring points there */
	feed_span(x->s, &x->f, 0, ISN + 1 + BIGREC, da, BIGREC, sa);
	assert_int_equal(x->r.delivered[0], 2 * BIGREC);

	/* the reader moves on to the next window; the stream still holds the
	 * first one */
	for (int i = 0; i < 133; i++) {
		assert_int_equal(om_pcap_next(pc, &d, &cl, &wl, &ts, err, sizeof(err)), 1);
	}
	assert_int_equal(cl, BIGREC);
	db = d;
	om_pcap_span *sb = om_pcap_current_span(pc);
	assert_true(sb != sa);
	/* flow 2 delivers from the new window: flow 1's ring is copied and
	 * the old window let go */
	feed_span(x->s, &f2, 0, ISN + 1, db, BIGREC, sb);
	assert_int_equal(x->r.delivered[0], 2 * BIGREC + BIGREC);
	/* flow 1: an identical retransmission of its last bytes, then a
	 * rewrite of them */
	feed_span(x->s, &x->f, 0, ISN + 1 + 2 * BIGREC - 900, copy + BIGREC - 900, 900, NULL);
	assert_int_equal(st(x)->overlap_diff, 0);
	memset(copy, 'Z', sizeof(copy));
	feed_span(x->s, &x->f, 0, ISN + 1 + 2 * BIGREC - 900, copy, 900, NULL);
	assert_int_equal(st(x)->overlap_diff, 1);
	assert_int_equal(x->r.ev_diff, 1);
	/* flow 2's ring still points into the current window */
	uint8_t copyb[BIGREC];
	memcpy(copyb, b, sizeof(copyb));
	copyb[BIGREC - 1] ^= 1;
	feed_span(x->s, &f2, 0, ISN + 1 + BIGREC - 10, copyb + BIGREC - 10, 10, NULL);
	assert_int_equal(st(x)->overlap_diff, 2);

	om_stream_flow_end(x->s, &f2);
	x->r.nonconsecutive = 0; /* both flows were recorded as one */
	fx_end(x);
	fx_free(x);
	om_pcap_close(pc);
	unlink(path);
}

static void test_gap_filled_later(void **state)
{
	(void)state;
	struct fx *x = fx_new(0, 1 << 20);
	handshake(x);
	feed(x, 0, OM_TH_ACK, ISN + 1, "aaaa", 4);
	feed(x, 0, OM_TH_ACK, ISN + 9, "cccc", 4);
	feed(x, 0, OM_TH_ACK, ISN + 13, "dddd", 4);
	assert_int_equal(x->r.delivered[0], 4);
	feed(x, 0, OM_TH_ACK, ISN + 5, "bbbb", 4);
	assert_int_equal(x->r.delivered[0], 16);
	assert_memory_equal(x->r.buf[0], "aaaabbbbccccdddd", 16);
	fx_end(x);
	assert_int_equal(x->r.ngaps, 0);
	assert_int_equal(st(x)->gaps, 0);
	fx_free(x);
}

static void test_gap_never_filled(void **state)
{
	(void)state;
	uint8_t a[100], c[100];
	memset(a, 'a', sizeof(a));
	memset(c, 'c', sizeof(c));
	struct fx *x = fx_new(0, 1 << 20);
	handshake(x);
	feed(x, 0, OM_TH_ACK, ISN + 1, a, 100);       /* [0,100) */
	feed(x, 0, OM_TH_ACK, ISN + 1 + 200, c, 100); /* [200,300) */
	/* FIN at offset 400: [300,400) is missing too */
	feed(x, 0, OM_TH_ACK | OM_TH_FIN, ISN + 1 + 400, NULL, 0);
	assert_int_equal(x->r.delivered[0], 100);
	assert_int_equal(x->r.ngaps, 0);
	fx_end(x);
	assert_int_equal(x->r.ngaps, 2);
	assert_int_equal(x->r.gaps[0].dir, 0);
	assert_int_equal(x->r.gaps[0].off, 100);
	assert_int_equal(x->r.gaps[0].len, 100);
	assert_int_equal(x->r.gaps[1].off, 300);
	assert_int_equal(x->r.gaps[1].len, 100);
	assert_int_equal(x->r.delivered[0], 200);
	assert_memory_equal(x->r.buf[0] + 200, c, 100);
	assert_int_equal(st(x)->gaps, 2);
	fx_free(x);
}

static void test_memcap_skips_hole(void **state)
{
	(void)state;
	uint8_t b[400];
	fill(b, sizeof(b), 11);
	/* 300 bytes: one 100-byte segment and its header fit, a second
	 * 200-byte one does not */
	struct fx *x = fx_new(0, 300);
	handshake(x);
	feed(x, 0, OM_TH_ACK, ISN + 1, b, 10);            /* [0,10) */
	feed(x, 0, OM_TH_ACK, ISN + 1 + 50, b + 50, 100); /* held [50,150) */
	assert_int_equal(st(x)->memcap_hits, 0);
	assert_int_equal(x->r.delivered[0], 10);
	feed(x, 0, OM_TH_ACK, ISN + 1 + 200, b + 200, 200); /* [200,400) no room */
	assert_int_equal(st(x)->memcap_hits, 1);
	/* holes [10,50) and [150,200) skipped, all data delivered */
	assert_int_equal(x->r.ngaps, 2);
	assert_int_equal(x->r.gaps[0].off, 10);
	assert_int_equal(x->r.gaps[0].len, 40);
	assert_int_equal(x->r.gaps[1].off, 150);
	assert_int_equal(x->r.gaps[1].len, 50);
	assert_int_equal(x->r.delivered[0], 10 + 100 + 200);
	assert_memory_equal(x->r.buf[0] + 50, b + 50, 100);
	assert_memory_equal(x->r.buf[0] + 200, b + 200, 200);
	/* the late hole data is now old */
	feed(x, 0, OM_TH_ACK, ISN + 1 + 10, b + 10, 40);
	assert_int_equal(x->r.delivered[0], 310);
	assert_int_equal(st(x)->retransmissions, 1);
	/* a single segment bigger than the memcap goes straight through */
	feed(x, 0, OM_TH_ACK, ISN + 1 + 1000, b, 350);
	assert_int_equal(st(x)->memcap_hits, 2);
	assert_int_equal(x->r.gaps[2].off, 400);
	assert_int_equal(x->r.gaps[2].len, 600);
	assert_int_equal(x->r.delivered[0], 660);
	fx_end(x);
	fx_free(x);
}

/* memcap is per context: one flow's held data limits another's */
static void test_memcap_shared(void **state)
{
	(void)state;
	uint8_t b[200];
	fill(b, sizeof(b), 5);
	struct fx *x = fx_new(0, 300);
	om_flow g;
	memset(&g, 0, sizeof(g));
	g.proto = IPPROTO_TCP;
	handshake(x);
	feed(x, 0, OM_TH_ACK, ISN + 1 + 100, b, 200); /* flow f holds 200 */
	om_packet p;
	memset(&p, 0, sizeof(p));
	p.proto = IPPROTO_TCP;
	p.tcp_flags = OM_TH_SYN;
	p.tcp_seq = 0;
	/* flow g uses direction 1 so that the recorder keeps the two apart */
	om_stream_packet(x->s, &g, &p, 1);
	p.tcp_flags = OM_TH_ACK;
	p.tcp_seq = 1 + 50;
	p.payload = b;
	p.payload_len = 150;
	om_stream_packet(x->s, &g, &p, 1); /* no room: skip [0,50) */
	assert_int_equal(st(x)->memcap_hits, 1);
	assert_int_equal(x->r.ngaps, 1);
	assert_int_equal(x->r.gaps[0].dir, 1);
	assert_int_equal(x->r.gaps[0].off, 0);
	assert_int_equal(x->r.gaps[0].len, 50);
	assert_int_equal(x->r.delivered[1], 150);
	assert_memory_equal(x->r.buf[1] + 50, b, 150);
	om_stream_flow_end(x->s, &g);
	fx_end(x);
	fx_free(x);
}

static void test_depth(void **state)
{
	(void)state;
	struct fx *x = fx_new(10, 1 << 20);
	handshake(x);
	feed(x, 0, OM_TH_ACK, ISN + 1, "abcdef", 6);
	feed(x, 0, OM_TH_ACK, ISN + 7, "ghijkl", 6);
	assert_int_equal(x->r.delivered[0], 10);
	assert_memory_equal(x->r.buf[0], "abcdefghij", 10);
	assert_int_equal(st(x)->depth_reached, 1);
	feed(x, 0, OM_TH_ACK, ISN + 13, "mnop", 4);
	assert_int_equal(x->r.delivered[0], 10);
	assert_int_equal(st(x)->depth_reached, 1);
	/* out-of-order data past depth is not held */
	feed(x, 1, OM_TH_ACK, SISN + 1 + 20, "zzzz", 4);
	feed(x, 1, OM_TH_ACK, SISN + 1, "0123456789AB", 12);
	assert_int_equal(x->r.delivered[1], 10);
	assert_int_equal(st(x)->depth_reached, 2);
	fx_end(x);
	assert_int_equal(x->r.ngaps, 0);
	fx_free(x);
}

static void test_depth_no_hold(void **state)
{
	(void)state;
	struct fx *x = fx_new(10, 1 << 20);
	feed(x, 0, OM_TH_SYN, 0, NULL, 0);
	uint64_t base = st(x)->mem_segments; /* the per-flow state */
	feed(x, 0, OM_TH_ACK, 1 + 20, "zzzz", 4);
	assert_int_equal(st(x)->mem_segments, base);
	feed(x, 0, OM_TH_ACK, 1 + 8, "yyyy", 4); /* [8,12): [8,10) held */
	assert_true(st(x)->mem_segments > base);
	feed(x, 0, OM_TH_ACK, 1, "xxxxxxxx", 8);
	assert_int_equal(x->r.delivered[0], 10);
	assert_memory_equal(x->r.buf[0], "xxxxxxxxyy", 10);
	assert_int_equal(st(x)->mem_segments, base);
	fx_end(x);
	fx_free(x);
}

static void test_syn_with_data(void **state)
{
	(void)state;
	struct fx *x = fx_new(0, 1 << 20);
	feed(x, 0, OM_TH_SYN, 100, "abc", 3);
	feed(x, 0, OM_TH_SYN, 100, "abc", 3); /* SYN retransmitted */
	feed(x, 0, OM_TH_ACK, 104, "def", 3);
	assert_int_equal(x->r.delivered[0], 6);
	assert_memory_equal(x->r.buf[0], "abcdef", 6);
	assert_int_equal(st(x)->retransmissions, 1);
	assert_int_equal(st(x)->midstream, 0);
	fx_end(x);
	fx_free(x);
}

static void test_midstream(void **state)
{
	(void)state;
	struct fx *x = fx_new(0, 1 << 20);
	feed(x, 0, OM_TH_ACK, 5000, "xyz", 3);
	assert_int_equal(x->r.delivered[0], 3);
	assert_int_equal(st(x)->midstream, 1);
	/* bytes before the pickup point are dropped, the new tail kept:
	 * [4990,5010) -> offsets [3,10) are new */
	uint8_t b[20];
	fill(b, sizeof(b), 9);
	feed(x, 0, OM_TH_ACK, 4990, b, 20);
	assert_int_equal(x->r.delivered[0], 10);
	assert_memory_equal(x->r.buf[0] + 3, b + 13, 7);
	/* entirely before the pickup point */
	feed(x, 0, OM_TH_ACK, 4000, b, 20);
	assert_int_equal(x->r.delivered[0], 10);
	fx_end(x);
	fx_free(x);
}

static void test_wraparound(void **state)
{
	(void)state;
	uint8_t b[30];
	fill(b, sizeof(b), 13);
	const uint32_t isn = 0xfffffff0u;
	struct fx *x = fx_new(0, 1 << 20);
	feed(x, 0, OM_TH_SYN, isn, NULL, 0);
	/* offsets [0,10) at 0xfffffff1, [10,20) crosses 2^32, [20,30) after */
	feed(x, 0, OM_TH_ACK, isn + 1, b, 10);
	feed(x, 0, OM_TH_ACK, (uint32_t)(isn + 1 + 20), b + 20, 10);
	assert_int_equal((uint32_t)(isn + 1 + 20), 5u);
	assert_int_equal(x->r.delivered[0], 10);
	feed(x, 0, OM_TH_ACK, isn + 1 + 10, b + 10, 10);
	assert_int_equal(x->r.delivered[0], 30);
	assert_memory_equal(x->r.buf[0], b, 30);
	/* an old segment from before the wrap is still recognised as old */
	feed(x, 0, OM_TH_ACK, isn + 1, b, 10);
	assert_int_equal(st(x)->retransmissions, 1);
	fx_end(x);
	assert_int_equal(x->r.ngaps, 0);
	fx_free(x);
}

static void test_rst(void **state)
{
	(void)state;
	struct fx *x = fx_new(0, 1 << 20);
	handshake(x);
	feed(x, 0, OM_TH_ACK, ISN + 1, "aaaa", 4);
	feed(x, 0, OM_TH_ACK, ISN + 9, "cccc", 4); /* held, hole [4,8) */
	/* an RST far outside the window is ignored */
	feed(x, 1, OM_TH_RST, SISN + 0x80000000u, NULL, 0);
	assert_int_equal(x->r.ev_rst, 1);
	feed(x, 0, OM_TH_ACK, ISN + 13, "dddd", 4);
	assert_true(st(x)->mem_segments > 0);
	/* a valid RST ends both directions: held data is reported now */
	feed(x, 1, OM_TH_RST | OM_TH_ACK, SISN + 1, NULL, 0);
	assert_int_equal(x->r.ngaps, 1);
	assert_int_equal(x->r.gaps[0].off, 4);
	assert_int_equal(x->r.gaps[0].len, 4);
	assert_int_equal(x->r.delivered[0], 12);
	assert_memory_equal(x->r.buf[0] + 8, "ccccdddd", 8);
	/* nothing after the RST */
	feed(x, 0, OM_TH_ACK, ISN + 17, "eeee", 4);
	feed(x, 1, OM_TH_ACK, SISN + 1, "ffff", 4);
	assert_int_equal(x->r.delivered[0], 12);
	assert_int_equal(x->r.delivered[1], 0);
	fx_end(x);
	assert_int_equal(x->r.ngaps, 1);
	fx_free(x);
}

static void test_fin(void **state)
{
	(void)state;
	struct fx *x = fx_new(0, 1 << 20);
	handshake(x);
	uint64_t base = st(x)->mem_segments;
	/* FIN with data arrives first, out of order */
	feed(x, 0, OM_TH_ACK | OM_TH_FIN, ISN + 5, "bbbb", 4);
	feed(x, 0, OM_TH_ACK, ISN + 1, "aaaa", 4);
	assert_int_equal(x->r.delivered[0], 8);
	/* data after the FIN is not part of the stream */
	feed(x, 0, OM_TH_ACK, ISN + 9, "zzzz", 4);
	assert_int_equal(x->r.delivered[0], 8);
	assert_int_equal(st(x)->mem_segments, base);
	fx_end(x);
	assert_int_equal(x->r.ngaps, 0);
	fx_free(x);
}

/* A FIN below held data cuts it: held bytes past the FIN are dropped. */
static void test_fin_trims_held(void **state)
{
	(void)state;
	struct fx *x = fx_new(0, 1 << 20);
	handshake(x);
	uint64_t base = st(x)->mem_segments;
	feed(x, 0, OM_TH_ACK, ISN + 1 + 10, "KKKKKLLLLL", 10); /* held [10,20) */
	feed(x, 0, OM_TH_ACK, ISN + 1 + 30, "MMMM", 4);        /* held [30,34) */
	feed(x, 0, OM_TH_ACK | OM_TH_FIN, ISN + 1 + 15, NULL, 0);
	feed(x, 0, OM_TH_ACK, ISN + 1, "0123456789", 10);
	assert_int_equal(x->r.delivered[0], 15);
	assert_memory_equal(x->r.buf[0], "0123456789KKKKK", 15);
	assert_int_equal(st(x)->mem_segments, base);
	fx_end(x);
	assert_int_equal(x->r.ngaps, 0);
	assert_int_equal(x->r.delivered[0], 15);
	fx_free(x);
}

static void test_both_directions(void **state)
{
	(void)state;
	uint8_t c[40], s[40];
	fill(c, sizeof(c), 21);
	fill(s, sizeof(s), 22);
	struct fx *x = fx_new(0, 1 << 20);
	handshake(x);
	/* client: 2,0,3,1; server: 3,2,1,0 (10-byte segments), interleaved */
	static const int co[4] = {2, 0, 3, 1}, so[4] = {3, 2, 1, 0};
	for (int i = 0; i < 4; i++) {
		feed(x, 0, OM_TH_ACK, ISN + 1 + 10u * co[i], c + 10 * co[i], 10);
		feed(x, 1, OM_TH_ACK, SISN + 1 + 10u * so[i], s + 10 * so[i], 10);
	}
	assert_int_equal(x->r.delivered[0], 40);
	assert_int_equal(x->r.delivered[1], 40);
	assert_memory_equal(x->r.buf[0], c, 40);
	assert_memory_equal(x->r.buf[1], s, 40);
	/* a hole in one direction does not hold the other back */
	feed(x, 0, OM_TH_ACK, ISN + 1 + 50, c, 5);
	feed(x, 1, OM_TH_ACK, SISN + 1 + 40, s, 5);
	assert_int_equal(x->r.delivered[1], 45);
	assert_int_equal(x->r.delivered[0], 40);
	fx_end(x);
	assert_int_equal(x->r.ngaps, 1);
	assert_int_equal(x->r.gaps[0].dir, 0);
	assert_int_equal(x->r.gaps[0].off, 40);
	assert_int_equal(x->r.gaps[0].len, 10);
	fx_free(x);
}

static void test_hostile(void **state)
{
	(void)state;
	struct fx *x = fx_new(0, 1 << 20);
	handshake(x);
	/* length without a payload pointer */
	feed(x, 0, OM_TH_ACK, ISN + 1, NULL, 1000);
	assert_int_equal(x->r.delivered[0], 0);
	/* not TCP, bad direction */
	om_packet p;
	memset(&p, 0, sizeof(p));
	p.proto = IPPROTO_UDP;
	p.payload = (const uint8_t *)"x";
	p.payload_len = 1;
	om_stream_packet(x->s, &x->f, &p, 0);
	p.proto = IPPROTO_TCP;
	om_stream_packet(x->s, &x->f, &p, 2);
	om_stream_packet(x->s, &x->f, &p, -1);
	assert_int_equal(x->r.delivered[0], 0);
	/* 2^31 ahead reads as behind: dropped, not held */
	uint64_t m = st(x)->mem_segments;
	feed(x, 0, OM_TH_ACK, ISN + 1 + 0x80000000u, "q", 1);
	assert_int_equal(st(x)->mem_segments, m);
	/* far ahead, past the receiver's window (known from the handshake):
	 * the receiver would drop it, so it is ignored */
	feed(x, 0, OM_TH_ACK, ISN + 1 + 0x7ffffff0u, "w", 1);
	assert_string_equal(x->r.last_event, "stream.est_packet_out_of_window");
	assert_int_equal(st(x)->mem_segments, m);
	fx_end(x);
	assert_int_equal(x->r.ngaps, 0);
	/* flow end twice and on a flow without state are harmless */
	om_stream_flow_end(x->s, &x->f);
	om_stream_flow_end(x->s, NULL);
	fx_free(x);

	/* midstream the window is unknown: far ahead is held, then reported
	 * at the end */
	x = fx_new(0, 1 << 20);
	feed(x, 0, OM_TH_ACK, ISN + 1, "v", 1);
	feed(x, 0, OM_TH_ACK, ISN + 2 + 0x7ffffff0u, "w", 1);
	fx_end(x);
	assert_int_equal(x->r.ngaps, 1);
	assert_int_equal(x->r.gaps[0].dir, 0);
	assert_int_equal(x->r.gaps[0].off, 1);
	assert_int_equal(x->r.gaps[0].len, 0x7ffffff0u);
	assert_int_equal(x->r.delivered[0], 2);
	fx_free(x);
	assert_null(om_stream_free(NULL));
}

/* Many tiny out-of-order segments: the per-direction segment cap acts like
 * the memcap (holes skipped), so insertion stays cheap. */
static void test_many_tiny_segments(void **state)
{
	(void)state;
	struct fx *x = fx_new(0, 1 << 30);
	handshake(x);
	uint8_t one = 'z';
	for (uint32_t i = 0; i < 5000; i++)
		feed(x, 1, OM_TH_ACK, SISN + 1 + 1 + 2 * i, &one, 1);
	assert_int_equal(st(x)->memcap_hits, 1);
	/* the 4097th segment forced the 4096 holes before it to be skipped */
	assert_int_equal(x->r.delivered[1], 4097);
	assert_int_equal(st(x)->gaps, 4097);
	fx_end(x);
	assert_int_equal(x->r.delivered[1], 5000);
	assert_int_equal(st(x)->gaps, 5000);
	fx_free(x);
}

/* ---- policies, memory, ends ------------------------------------------------ */

/* Target-based overlap: a held segment H = [10,20) of 'o' bytes, then a
 * segment N of 'n' bytes overlapping it; the holes are then filled. Which
 * bytes the stream delivers where N and H overlap follows the receiver's
 * policy. The expectations are read from Suricata's overlap handling (the
 * case analysis of Novak and Sturges): for each shape, the policies whose
 * new bytes win. */
#define PB(x) (1u << OM_POLICY_##x)
static void test_policies(void **state)
{
	(void)state;
	const unsigned ALL = (1u << OM_POLICY_COUNT) - 1;
	const unsigned OLDSTART = PB(BSD) | PB(HPUX10) | PB(IRIX) | PB(WINDOWS) | PB(WINDOWS2K3) |
	                          PB(OLD_LINUX) | PB(LINUX) | PB(MACOS);
	static const struct {
		uint32_t off, len;
		unsigned new_wins;
	} shapes[] = {
	    {10, 5, 0},                                         /* same start, shorter */
	    {10, 10, PB(OLD_LINUX) | PB(SOLARIS) | PB(HPUX11)}, /* exact */
	    {10, 15, PB(LINUX) | PB(OLD_LINUX) | PB(SOLARIS) | PB(HPUX11)}, /* same start, longer */
	    {5, 10, 0},                         /* before, ends inside */
	    {5, 20, 0},                         /* before, covers */
	    {15, 10, PB(SOLARIS) | PB(HPUX11)}, /* after, ends after */
	    {12, 6, 0},                         /* inside */
	};
	unsigned extra[OM_ARRAY_SIZE(shapes)] = {
	    0, 0, 0, OLDSTART, OLDSTART | PB(SOLARIS) | PB(HPUX11), 0, 0};
	for (size_t k = 0; k < OM_ARRAY_SIZE(shapes); k++) {
		for (unsigned pol = 0; pol < OM_POLICY_COUNT; pol++) {
			unsigned wins = shapes[k].new_wins | extra[k] | PB(LAST);
			wins &= ALL & ~(PB(FIRST) | PB(VISTA));
			bool nw = wins & (1u << pol);
			struct fx *x = fx_new(0, 1 << 20);
			om_stream_config sc = {.default_policy = (enum om_stream_policy)pol,
			                       .overlap_window = 2048};
			assert_int_equal(om_stream_configure(x->s, &sc), 0);
			handshake(x);
			uint8_t o[10], n[30], lead[10];
			memset(o, 'o', sizeof(o));
			memset(n, 'n', sizeof(n));
			memset(lead, '.', sizeof(lead));
			feed(x, 0, OM_TH_ACK, ISN + 1 + 10, o, 10);
			feed(x, 0, OM_TH_ACK, ISN + 1 + shapes[k].off, n, shapes[k].len);
			uint32_t first = shapes[k].off < 10 ? shapes[k].off : 10;
			feed(x, 0, OM_TH_ACK, ISN + 1, lead, first);
			uint32_t end =
			    shapes[k].off + shapes[k].len > 20 ? shapes[k].off + shapes[k].len : 20;
			assert_int_equal(x->r.delivered[0], end);
			for (uint32_t i = 0; i < end; i++) {
				bool in_n = i >= shapes[k].off && i < shapes[k].off + shapes[k].len;
				bool in_o = i >= 10 && i < 20;
				char want = i < first ? '.' : in_o ? (in_n && nw ? 'n' : 'o') : 'n';
				if (x->r.buf[0][i] != (uint8_t)want)
					fail_msg("shape %zu policy %s byte %u: %c, want %c", k,
					         om_stream_policy_name((enum om_stream_policy)pol),
					         i, x->r.buf[0][i], want);
			}
			assert_int_equal(x->r.ev_diff, 1);
			fx_end(x);
			fx_free(x);
		}
	}
	/* names and the receiving host's policy per network */
	enum om_stream_policy p;
	for (unsigned i = 0; i < OM_POLICY_COUNT; i++) {
		assert_int_equal(om_stream_policy_parse(om_stream_policy_name(i), &p), 0);
		assert_int_equal(p, i);
	}
	assert_int_equal(om_stream_policy_parse("beos", &p), -EINVAL);
	assert_string_equal(om_stream_policy_name(OM_POLICY_OLD_LINUX), "old-linux");
}

/* The receiver's network picks the policy: the same overlap toward a
 * "last" host and toward a "first" host. */
static void test_policy_per_net(void **state)
{
	(void)state;
	for (int toward_last = 0; toward_last < 2; toward_last++) {
		struct fx *x = fx_new(0, 1 << 20);
		om_stream_policy_net nets[2];
		assert_int_equal(om_cidr_parse("10.1.0.0/16", &nets[0].net), 0);
		nets[0].policy = OM_POLICY_LAST;
		assert_int_equal(om_cidr_parse("10.0.0.0/8", &nets[1].net), 0);
		nets[1].policy = OM_POLICY_FIRST;
		om_stream_config sc = {.default_policy = OM_POLICY_BSD,
		                       .overlap_window = 2048,
		                       .nets = nets,
		                       .nnets = 2};
		assert_int_equal(om_stream_configure(x->s, &sc), 0);
		/* the server (receiver of direction 0) */
		assert_int_equal(om_addr_parse(toward_last ? "10.1.2.3" : "10.2.2.3", &x->f.srv),
		                 0);
		assert_int_equal(om_addr_parse("192.0.2.1", &x->f.cli), 0);
		handshake(x);
		feed(x, 0, OM_TH_ACK, ISN + 1 + 10, "oooooooooo", 10);
		feed(x, 0, OM_TH_ACK, ISN + 1 + 10, "nnnnnnnnnn", 10);
		feed(x, 0, OM_TH_ACK, ISN + 1, "..........", 10);
		assert_memory_equal(x->r.buf[0] + 10, toward_last ? "nnnnnnnnnn" : "oooooooooo",
		                    10);
		fx_end(x);
		fx_free(x);
	}
	om_stream_ctx *s = om_stream_new(0, 4096, NULL);
	om_stream_config bad = {.default_policy = OM_POLICY_COUNT};
	assert_int_equal(om_stream_configure(s, &bad), -EINVAL);
	bad.default_policy = OM_POLICY_BSD;
	bad.nnets = OM_STREAM_MAX_POLICIES + 1;
	assert_int_equal(om_stream_configure(s, &bad), -EINVAL);
	om_stream_free(s);
}

/* mem_in_use is what is really held: blocks by their size (a 100-byte
 * segment takes a 256-byte block, a 3000-byte one a 4096-byte block, the
 * delivered window (1 KiB by default) a 1024-byte block), free blocks kept for reuse, and the
 * state slabs. Segments over 2 KiB come from the pool too: a second flow
 * reuses the blocks without malloc. */
static void test_mem_accounting(void **state)
{
	(void)state;
	static uint8_t b[4000];
	fill(b, sizeof(b), 9);
	struct fx *x = fx_new(0, 1 << 20);
	handshake(x);
	const om_stream_stats *m = st(x);
	assert_int_equal(m->mem_segments, 0);
	assert_true(m->mem_states > 0);
	assert_int_equal(m->mem_in_use, m->mem_states);
	feed(x, 0, OM_TH_ACK, ISN + 1 + 10, b + 10, 100);    /* held */
	feed(x, 0, OM_TH_ACK, ISN + 1 + 200, b + 200, 3000); /* held */
	assert_int_equal(m->mem_segments, 256 + 4096);
	assert_int_equal(m->mem_windows, 0);
	assert_int_equal(m->block_mallocs, 2);
	assert_int_equal(m->mem_in_use, m->mem_segments + m->mem_states);
	feed(x, 0, OM_TH_ACK, ISN + 1, b, 10);             /* [0,10): delivers the first */
	feed(x, 0, OM_TH_ACK, ISN + 1 + 110, b + 110, 90); /* fills the hole */
	assert_int_equal(x->r.delivered[0], 3200);
	assert_memory_equal(x->r.buf[0], b, 3200);
	assert_int_equal(m->mem_segments, 0);
	assert_int_equal(m->mem_windows, 1024);
	assert_int_equal(m->mem_cache, 256 + 4096);
	assert_int_equal(m->block_mallocs, 3);
	assert_int_equal(m->mem_in_use, m->mem_windows + m->mem_cache + m->mem_states);
	assert_int_equal(x->r.held_calls, 2); /* the two held segments */
	fx_end(x);
	/* another flow: blocks from the cache, no malloc */
	om_flow g;
	memset(&g, 0, sizeof(g));
	g.proto = IPPROTO_TCP;
	om_packet p;
	memset(&p, 0, sizeof(p));
	p.proto = IPPROTO_TCP;
	p.tcp_flags = OM_TH_ACK;
	p.tcp_seq = 1 + 500;
	p.payload = b;
	p.payload_len = 3000;
	om_stream_packet(x->s, &g, &p, 1); /* midstream: [0,3000) delivered */
	p.tcp_seq = 1 + 3500 + 500;
	om_stream_packet(x->s, &g, &p, 1); /* held at 3500 */
	assert_int_equal(m->block_mallocs, 3);
	assert_int_equal(m->mem_segments, 4096);
	om_stream_flow_end(x->s, &g);
	assert_int_equal(m->mem_segments + m->mem_windows, 0);
	assert_int_equal(m->mem_in_use, m->mem_cache + m->mem_states);
	fx_free(x);
}

/* Finding 8: one flow holding out-of-order data up to its own cap takes the
 * gaps itself; another flow in the same worker still holds its data. */
static void test_hog_flow(void **state)
{
	(void)state;
	static uint8_t b[1000];
	fill(b, sizeof(b), 13);
	struct fx *x = fx_new(0, 64 * 1024);
	om_stream_config sc = {.flow_memcap = 16 * 1024, .overlap_window = 0};
	assert_int_equal(om_stream_configure(x->s, &sc), 0);
	handshake(x);
	/* the hog: 1000-byte segments (1024-byte blocks) each past a hole */
	for (uint32_t i = 0; i < 60; i++)
		feed(x, 0, OM_TH_ACK, ISN + 1 + 2000 * (i + 1), b, 1000);
	assert_true(st(x)->flow_memcap_hits > 0);
	assert_int_equal(st(x)->memcap_hits, 0);
	assert_true(st(x)->mem_segments <= 16 * 1024);
	assert_true(x->r.ngaps > 0);
	int hog_gaps = x->r.ngaps;
	/* the other flow (direction 1 of another flow record) holds 8 KiB */
	om_flow g;
	memset(&g, 0, sizeof(g));
	g.proto = IPPROTO_TCP;
	om_packet p;
	memset(&p, 0, sizeof(p));
	p.proto = IPPROTO_TCP;
	p.tcp_flags = OM_TH_SYN;
	p.tcp_seq = 0;
	om_stream_packet(x->s, &g, &p, 1);
	p.tcp_flags = OM_TH_ACK;
	for (uint32_t i = 0; i < 8; i++) {
		p.tcp_seq = 1 + 1000 * (i + 1);
		p.payload = b;
		p.payload_len = 1000;
		om_stream_packet(x->s, &g, &p, 1);
	}
	p.tcp_seq = 1;
	om_stream_packet(x->s, &g, &p, 1);      /* fills [0,1000) */
	assert_int_equal(x->r.ngaps, hog_gaps); /* no gap for it */
	assert_int_equal(x->r.delivered[1], 9000);
	assert_int_equal(st(x)->memcap_hits, 0);
	om_stream_flow_end(x->s, &g);
	fx_end(x);
	fx_free(x);
}

/* on_end: once per direction, with the reason */
static void test_on_end(void **state)
{
	(void)state;
	struct fx *x = fx_new(0, 1 << 20);
	handshake(x);
	feed(x, 0, OM_TH_ACK | OM_TH_FIN, ISN + 1, "abc", 3);
	assert_int_equal(x->r.ends[0], 1);
	assert_int_equal(x->r.end_why[0], OM_STREAM_END_FIN);
	assert_int_equal(x->r.ends[1], 0);
	fx_end(x);
	assert_int_equal(x->r.ends[0], 1);
	assert_int_equal(x->r.ends[1], 1);
	assert_int_equal(x->r.end_why[1], OM_STREAM_END_FLOW);
	fx_free(x);

	x = fx_new(4, 1 << 20);
	handshake(x);
	feed(x, 1, OM_TH_ACK, SISN + 1, "abcdef", 6);
	assert_int_equal(x->r.end_why[1], OM_STREAM_END_DEPTH);
	feed_ack(x, 0, OM_TH_RST, ISN + 1, 0, 0, NULL, 0);
	assert_int_equal(x->r.ends[0], 1);
	assert_int_equal(x->r.end_why[0], OM_STREAM_END_RST);
	assert_int_equal(x->r.ends[1], 1);
	fx_end(x);
	assert_int_equal(x->r.ends[0] + x->r.ends[1], 2);
	fx_free(x);
	assert_string_equal(om_stream_end_name(OM_STREAM_END_RST), "rst");
}

/* Finding 3: a data segment with a 9-byte timestamp option is decoded with
 * tcp.opt_invalid_len and kept: its bytes are reassembled, no gap. */
static void test_bad_option_kept(void **state)
{
	(void)state;
	uint8_t fr[14 + 20 + 32 + 10];
	memset(fr, 0, sizeof(fr));
	fr[12] = 0x08;
	uint8_t *ip = fr + 14;
	ip[0] = 0x45;
	ip[3] = (uint8_t)(20 + 32 + 10);
	ip[8] = 64;
	ip[9] = IPPROTO_TCP;
	ip[12] = 192, ip[13] = 0, ip[14] = 2, ip[15] = 1;
	ip[16] = 192, ip[17] = 0, ip[18] = 2, ip[19] = 2;
	uint8_t *t = ip + 20;
	t[1] = 99, t[3] = 80;
	uint32_t seq = ISN + 1;
	t[4] = (uint8_t)(seq >> 24), t[5] = (uint8_t)(seq >> 16), t[6] = (uint8_t)(seq >> 8),
	t[7] = (uint8_t)seq;
	t[12] = 8 << 4; /* 32-byte header */
	t[13] = OM_TH_ACK | OM_TH_PUSH;
	static const uint8_t opt[12] = {8, 9, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1};
	memcpy(t + 20, opt, sizeof(opt));
	memcpy(t + 32, "tsdata1234", 10);
	/* the IPv4 header checksum */
	uint32_t sum = 0;
	for (int i = 0; i < 20; i += 2)
		sum += (uint32_t)(ip[i] << 8 | ip[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	ip[10] = (uint8_t)(~sum >> 8), ip[11] = (uint8_t)~sum;

	om_decoder *d = om_decoder_new(1 << 20, 16, 60);
	om_packet p;
	memset(&p, 0, sizeof(p));
	p.raw = fr;
	p.caplen = p.wirelen = sizeof(fr);
	p.linktype = 1; /* DLT_EN10MB */
	assert_int_equal(om_decode(d, &p), 0);
	assert_int_equal(p.anomaly, OM_ANOM_TCP_OPT_INVALID);
	assert_string_equal(om_anomaly_name(p.anomaly), "tcp.opt_invalid_len");
	assert_int_equal(p.payload_len, 10);
	assert_int_equal(p.tcp_wscale, 0xff);

	struct fx *x = fx_new(0, 1 << 20);
	handshake(x);
	om_stream_packet(x->s, &x->f, &p, 0);
	feed(x, 0, OM_TH_ACK, ISN + 11, "more-data!", 10);
	fx_end(x);
	assert_int_equal(x->r.ngaps, 0);
	assert_int_equal(x->r.delivered[0], 20);
	assert_memory_equal(x->r.buf[0], "tsdata1234more-data!", 20);
	fx_free(x);
	om_decoder_free(d);
}

/* The delivered window is a ring: after it wrapped, a rewrite of the bytes
 * still kept is seen, one of older bytes is not (they are gone). A 256-byte
 * window is one 256-byte block, its header included. */
static void test_window_ring(void **state)
{
	(void)state;
	static uint8_t b[1000], c[1000];
	fill(b, sizeof(b), 21);
	struct fx *x = fx_new(0, 1 << 20);
	om_stream_config sc = {.overlap_window = 256};
	assert_int_equal(om_stream_configure(x->s, &sc), 0);
	handshake(x);
	for (uint32_t i = 0; i < 10; i++)
		feed(x, 0, OM_TH_ACK, ISN + 1 + 100 * i, b + 100 * i, 100);
	assert_int_equal(x->r.delivered[0], 1000);
	assert_int_equal(st(x)->mem_windows, 256);
	/* the last 100 bytes again, unchanged: nothing */
	feed(x, 0, OM_TH_ACK, ISN + 1 + 900, b + 900, 100);
	assert_int_equal(st(x)->overlap_diff, 0);
	/* bytes 700-759 changed: older than the window (it keeps at most the
	 * last 256 bytes), not seen */
	memcpy(c, b, sizeof(c));
	for (int i = 700; i < 760; i++)
		c[i] ^= 0xff;
	feed(x, 0, OM_TH_ACK, ISN + 1 + 700, c + 700, 60);
	assert_int_equal(st(x)->overlap_diff, 0);
	/* a segment [850,950) with byte 920 changed: across the ring's wrap */
	memcpy(c, b, sizeof(c));
	c[920] ^= 1;
	feed(x, 0, OM_TH_ACK, ISN + 1 + 850, c + 850, 100);
	assert_int_equal(st(x)->overlap_diff, 1);
	assert_int_equal(x->r.ev_diff, 1);
	/* the very last byte changed: seen, counted, not raised again */
	memcpy(c, b, sizeof(c));
	c[999] ^= 1;
	feed(x, 0, OM_TH_ACK, ISN + 1 + 990, c + 990, 10);
	assert_int_equal(st(x)->overlap_diff, 2);
	assert_int_equal(x->r.ev_diff, 1);
	fx_end(x);
	fx_free(x);
}

/* ---- the configuration's stream section ----------------------------------- */

static int load_yaml(om_net_config *c, const char *text, char *err, size_t errlen)
{
	char path[] = "/tmp/omamori-stream-cfg-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	FILE *f = fdopen(fd, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	om_config_part part = {&om_net_config_schema, c};
	om_config_defaults(&part, 1);
	int r = om_config_load(&part, 1, path, err, errlen);
	unlink(path);
	return r;
}

static void test_stream_config(void **state)
{
	(void)state;
	assert_int_equal(om_i18n_init(), 0);
	om_lang_set_thread(OM_LANG_EN);
	om_net_config c;
	om_config_part part = {&om_net_config_schema, &c};
	char err[512] = "";
	/* defaults */
	om_config_defaults(&part, 1);
	assert_string_equal(c.stream_default_policy, "bsd");
	assert_int_equal(c.stream_overlap_window, 1024);
	assert_int_equal(c.stream_flow_memcap, 4u << 20);
	assert_int_equal(c.stream_policy_count, 0);
	assert_int_equal(load_yaml(&c,
	                           "stream:\n"
	                           "  flow-memcap: 1048576\n"
	                           "  overlap-window: 4096\n"
	                           "  default-policy: linux\n"
	                           "  policies:\n"
	                           "    - {net: 10.0.0.0/8, policy: windows}\n"
	                           "    - net: 192.168.1.0/24\n"
	                           "      policy: old-linux\n",
	                           err, sizeof(err)),
	                 0);
	assert_int_equal(c.stream_flow_memcap, 1048576);
	assert_int_equal(c.stream_overlap_window, 4096);
	assert_string_equal(c.stream_default_policy, "linux");
	assert_int_equal(c.stream_policy_count, 2);
	assert_string_equal(c.stream_policies[0].policy, "windows");
	assert_string_equal(c.stream_policies[1].policy, "old-linux");
	om_addr a;
	assert_int_equal(om_addr_parse("10.9.9.9", &a), 0);
	assert_true(om_cidr_contains(&c.stream_policies[0].net, &a));
	/* the dump loads again to the same section */
	om_buf out;
	om_buf_init(&out, 65536);
	om_config_dump(&part, 1, &out);
	assert_non_null(strstr(om_buf_cstr(&out), "- {net: 10.0.0.0/8, policy: windows}"));
	om_net_config c2;
	assert_int_equal(load_yaml(&c2, om_buf_cstr(&out), err, sizeof(err)), 0);
	assert_memory_equal(&c, &c2, sizeof(c));
	om_buf_free(&out);

	/* errors say what is wrong and what to do */
	assert_int_equal(load_yaml(&c, "stream:\n  default-policy: beos\n", err, sizeof(err)),
	                 -EINVAL);
	assert_non_null(
	    strstr(err, "'beos' is not a stream overlap policy; use one of: bsd, first, last"));
	assert_int_equal(load_yaml(&c,
	                           "stream:\n  policies:\n    - {net: 10.0.0.0/8, policy: amiga}\n",
	                           err, sizeof(err)),
	                 -EINVAL);
	assert_non_null(strstr(err, "'amiga'"));
	assert_non_null(strstr(err, ":3:")); /* the line of the bad value */
	assert_int_equal(
	    load_yaml(&c, "stream:\n  policies:\n    - {net: 10.0.0.0/8}\n", err, sizeof(err)),
	    -EINVAL);
	assert_non_null(strstr(err, "each item needs exactly net and policy"));
	assert_int_equal(load_yaml(&c, "stream:\n  policies:\n    - {net: ten, policy: bsd}\n", err,
	                           sizeof(err)),
	                 -EINVAL);
	assert_non_null(strstr(err, "'ten' is not a network"));
	assert_int_equal(load_yaml(&c, "stream:\n  policies: windows\n", err, sizeof(err)),
	                 -EINVAL);
	assert_int_equal(
	    load_yaml(&c, "stream:\n  memcap: 1048576\n  flow-memcap: 2097152\n", err, sizeof(err)),
	    -EINVAL);
	assert_non_null(strstr(err, "lower stream.flow-memcap or raise stream.memcap"));
	assert_int_equal(load_yaml(&c, "stream:\n  overlap-window: 70000\n", err, sizeof(err)),
	                 -EINVAL);

	/* every name the configuration accepts is a policy of the stream, and
	 * the other way round */
	for (unsigned i = 0; i < OM_POLICY_COUNT; i++) {
		char y[128];
		snprintf(y, sizeof(y), "stream:\n  default-policy: %s\n",
		         om_stream_policy_name((enum om_stream_policy)i));
		assert_int_equal(load_yaml(&c, y, err, sizeof(err)), 0);
		enum om_stream_policy p;
		assert_int_equal(om_stream_policy_parse(c.stream_default_policy, &p), 0);
		assert_int_equal(p, i);
	}
}

/* Contexts freed with flows still holding data release everything (checked
 * by the sanitizer build). */
static void test_free_with_live_flows(void **state)
{
	(void)state;
	struct fx *x = fx_new(0, 1 << 20);
	handshake(x);
	feed(x, 0, OM_TH_ACK, ISN + 9, "cccc", 4);
	x->s = om_stream_free(x->s);
	assert_null(x->s);
	free(x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_in_order),
	    cmocka_unit_test(test_zero_copy),
	    cmocka_unit_test(test_ooo_two),
	    cmocka_unit_test(test_ooo_three_all_orders),
	    cmocka_unit_test(test_retransmission),
	    cmocka_unit_test(test_overlap_shapes),
	    cmocka_unit_test(test_overlap_delivered),
	    cmocka_unit_test(test_overlap_mapped),
	    cmocka_unit_test(test_gap_filled_later),
	    cmocka_unit_test(test_gap_never_filled),
	    cmocka_unit_test(test_memcap_skips_hole),
	    cmocka_unit_test(test_memcap_shared),
	    cmocka_unit_test(test_depth),
	    cmocka_unit_test(test_depth_no_hold),
	    cmocka_unit_test(test_syn_with_data),
	    cmocka_unit_test(test_midstream),
	    cmocka_unit_test(test_wraparound),
	    cmocka_unit_test(test_rst),
	    cmocka_unit_test(test_fin),
	    cmocka_unit_test(test_fin_trims_held),
	    cmocka_unit_test(test_both_directions),
	    cmocka_unit_test(test_hostile),
	    cmocka_unit_test(test_many_tiny_segments),
	    cmocka_unit_test(test_free_with_live_flows),
	    cmocka_unit_test(test_policies),
	    cmocka_unit_test(test_policy_per_net),
	    cmocka_unit_test(test_mem_accounting),
	    cmocka_unit_test(test_hog_flow),
	    cmocka_unit_test(test_on_end),
	    cmocka_unit_test(test_bad_option_kept),
	    cmocka_unit_test(test_stream_config),
	    cmocka_unit_test(test_window_ring),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
