/* match.c: the per-worker side. A packet's payload and each transaction
 * buffer are scanned once by the Hyperscan database of their fast
 * patterns; the rules found, plus those without a fast pattern, are then
 * checked in full: header, flow, flowbits, then every buffer's keywords in
 * rule order (content chains with backtracking, pcre, byte_*, isdataat,
 * bsize), then thresholds. */
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "detect/internal.h"

#define FB_SLOTS 16384u /* flows with flowbits per worker */
#define FB_BITS 16u     /* bits set per flow */
#define XB_SLOTS 16384u /* xbits per worker */
#define TH_SLOTS 65536u /* threshold trackers per worker */
#define TH_WAYS 8u      /* a key's tracker is one of 8 neighbouring slots */
#define XF_MAX 65536u   /* bytes of a transformed buffer */
#define STEPS_MAX 4096u /* content/pcre attempts per rule and buffer */
#define MULTI_MAX 32u   /* values of a multi-valued buffer inspected */
#define SW_MAX 4096u    /* bytes of stream before new data kept for matching */
#define SC_MAX 65536u   /* new stream bytes inspected at once */
#define MK_SLOTS 4096u  /* flows with stream matches of mixed rules per worker */
#define SF_SLOTS 4096u  /* flow directions whose stream finds are kept per worker */
#define SF_MAX 32u      /* finds kept per flow direction */

struct fb_slot {
	uint64_t flow_id;
	uint16_t bits[FB_BITS];
	uint8_t n;
	bool used;
};
struct xb_slot {
	uint64_t key;
	om_usec expire;
};
struct th_slot {
	uint64_t key;
	om_usec start;
	uint32_t count;
};

/* the stream rules the prefilter found in the last deliveries of a flow
 * direction, so that the next delivery scans only its new bytes and the
 * end of the window a pattern can begin in (the longest pattern less one
 * byte) instead of the whole window: the finds are complete for every
 * pattern that lies in [from, end) (each with at, the end of the scan
 * that found it, at or past the pattern's end); those with at past the
 * window's start are candidates again (a rule whose fast pattern is in the
 * window while another keyword ends in the new bytes) */
struct sf_slot {
	uint64_t key; /* flow_id * 2 + dir + 1; 0: none */
	uint64_t from, end;
	const struct dt_pf *pf; /* the database that found them */
	uint32_t n;
	uint32_t rule[SF_MAX];
	uint64_t at[SF_MAX];
};

/* mixed rules whose payload part matched the stream of a flow direction,
 * waiting for the direction's next transaction: a bit per mixed rule and
 * direction (in the worker's mkbits) */
struct mk_slot {
	uint64_t flow_id;
	bool used;
	bool any[2];
};

struct om_detect_worker {
	const om_detect *d;
	om_detect_alert_fn fn;
	void *user;
	hs_scratch_t *scratch;
	uint32_t *stamp, gen;
	uint32_t *cand, ncand;
	uint32_t *ctmp; /* the candidates' sort */
	pcre2_match_data *md;
	int64_t vars[DT_MAX_EXTRACT];
	uint8_t *xf[2];
	struct fb_slot *fb;
	struct xb_slot *xb;
	struct th_slot *th;
	unsigned steps;
	int64_t need;            /* stream: a match must end past this offset; -1 none */
	int64_t base;            /* where absolute positions count from (stream: the new bytes) */
	uint32_t *scand, nscand; /* stream rules found, checked after the parsers */
	struct ev *spend;        /* the stream delivery they wait on (NULL: none) */
	uint8_t *sbuf;           /* stream: the window, then the new bytes */
	struct mk_slot *mk;
	struct sf_slot *sf;
	uint64_t *mkbits; /* MK_SLOTS x 2 x mkw words */
	uint32_t mkw;     /* words per slot and direction */
	/* the application protocol names seen (static strings) and their
	 * database index in struct dt_apf's db_of (app index + 1, 0: none) */
	struct {
		const char *name;
		uint8_t ai;
	} apc[16];
	uint32_t napc;
	om_detect_stats st;
};

/* what is being inspected */
enum ev_mode { EV_PKT = 0, EV_STREAM, EV_TX };

struct ev {
	om_flow *f;
	const om_packet *p;
	const om_proto_tx *tx;
	int dir;
	const om_addr *src, *dst;
	uint16_t sp, dp;
	uint8_t ipproto;
	om_usec now;
	enum om_tx_verdict verdict;
	enum ev_mode mode;
	const uint8_t *sb; /* EV_STREAM: window and new bytes */
	uint32_t sbl, swl; /* their length, the window's */
	bool sstart;       /* the window begins at the stream's first byte */
};

om_detect_worker *om_detect_worker_new(const om_detect *d, om_detect_alert_fn fn, void *user)
{
	if (!d || !d->compiled)
		return NULL;
	om_detect_worker *w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->d = d;
	w->fn = fn;
	w->user = user;
	w->stamp = calloc(d->nrules + 1, sizeof(uint32_t));
	w->cand = calloc(d->nrules + 1, sizeof(uint32_t));
	w->ctmp = calloc(d->nrules + 1, sizeof(uint32_t));
	w->md = pcre2_match_data_create(32, NULL);
	w->xf[0] = malloc(XF_MAX * 2 + 2);
	w->xf[1] = malloc(XF_MAX * 2 + 2);
	w->fb = calloc(FB_SLOTS, sizeof(*w->fb));
	w->xb = calloc(XB_SLOTS, sizeof(*w->xb));
	w->th = calloc(TH_SLOTS, sizeof(*w->th));
	w->sbuf = malloc(SW_MAX + SC_MAX);
	w->scand = calloc(d->nrules + 1, sizeof(uint32_t));
	w->spend = calloc(1, sizeof(*w->spend));
	w->mk = calloc(MK_SLOTS, sizeof(*w->mk));
	w->sf = calloc(SF_SLOTS, sizeof(*w->sf));
	w->mkw = (d->n_mixed + 63) / 64 ? (d->n_mixed + 63) / 64 : 1;
	w->mkbits = calloc((size_t)MK_SLOTS * 2 * w->mkw, sizeof(uint64_t));
	w->need = -1;
	bool ok = w->stamp && w->cand && w->ctmp && w->md && w->xf[0] && w->xf[1] && w->fb &&
	          w->xb && w->th && w->sbuf && w->mk && w->sf && w->mkbits && w->scand && w->spend;
	if (ok && d->proto_scratch && hs_clone_scratch(d->proto_scratch, &w->scratch) != HS_SUCCESS)
		ok = false;
	if (!ok)
		return om_detect_worker_free(w);
	return w;
}

om_detect_worker *om_detect_worker_free(om_detect_worker *w)
{
	if (!w)
		return NULL;
	if (w->scratch)
		hs_free_scratch(w->scratch);
	if (w->md)
		pcre2_match_data_free(w->md);
	free(w->stamp);
	free(w->cand);
	free(w->ctmp);
	free(w->xf[0]);
	free(w->xf[1]);
	free(w->fb);
	free(w->xb);
	free(w->th);
	free(w->sbuf);
	free(w->mk);
	free(w->sf);
	free(w->mkbits);
	free(w->scand);
	free(w->spend);
	free(w);
	return NULL;
}

void om_detect_worker_stats(const om_detect_worker *w, om_detect_stats *ret)
{
	*ret = w->st;
}

/* ---- helpers ------------------------------------------------------------------------ */

static uint64_t mix(uint64_t h, uint64_t x)
{
	h ^= x + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
	h *= 0xff51afd7ed558ccdull;
	return h ^ (h >> 33);
}

static uint64_t addr_hash(const om_addr *a)
{
	uint64_t x, y;
	memcpy(&x, a->b, 8);
	memcpy(&y, a->b + 8, 8);
	return mix(mix(0, x), y);
}

static const uint8_t *find(const uint8_t *h, size_t hl, const uint8_t *n, size_t nl, bool nocase)
{
	if (nl == 0 || nl > hl)
		return NULL;
	if (!nocase)
		return memmem(h, hl, n, nl);
	int f = tolower(n[0]);
	for (size_t i = 0; i + nl <= hl; i++) {
		if (tolower(h[i]) != f)
			continue;
		size_t k = 1;
		while (k < nl && tolower(h[i + k]) == tolower(n[k]))
			k++;
		if (k == nl)
			return h + i;
	}
	return NULL;
}

static int64_t num(const om_detect_worker *w, const struct dt_num *n)
{
	return n->var >= 0 ? w->vars[n->var] : n->v;
}

static bool size_ok(int op, uint64_t lo, uint64_t hi, uint64_t x)
{
	switch (op) {
	case 0: return x == lo;
	case 1: return x < lo;
	case 2: return x > lo;
	case 3: return x > lo && x < hi;
	case 4: return x != lo;
	case 5: return x <= lo;
	case 6: return x >= lo;
	default: return true;
	}
}

/* reads nbytes at pos as byte_* do; false when out of the buffer or not a number */
static bool read_num(const struct dt_match *m, const uint8_t *b, uint32_t bl, int64_t pos,
                     uint64_t *ret)
{
	uint32_t nb = m->u.b.nbytes;
	if (pos < 0 || (uint64_t)pos + nb > bl)
		return false;
	const uint8_t *p = b + pos;
	uint64_t v = 0;
	if (m->u.b.bflags & DT_BF_STRING) {
		char tmp[24];
		memcpy(tmp, p, nb);
		tmp[nb] = '\0';
		char *end;
		errno = 0;
		v = strtoull(tmp, &end, m->u.b.base ? m->u.b.base : 10);
		if (end == tmp || errno)
			return false;
	} else if (m->u.b.bflags & DT_BF_LITTLE) {
		for (uint32_t i = nb; i-- > 0;)
			v = v << 8 | p[i];
	} else {
		for (uint32_t i = 0; i < nb; i++)
			v = v << 8 | p[i];
	}
	if (m->u.b.bitmask) {
		v &= m->u.b.bitmask;
		uint64_t bm = m->u.b.bitmask;
		while (bm && !(bm & 1)) {
			bm >>= 1;
			v >>= 1;
		}
	}
	*ret = v;
	return true;
}

static bool next_relative(const struct dt_match *const *ms, uint32_t n, uint32_t i)
{
	return i + 1 < n && (ms[i + 1]->flags & DT_CF_RELATIVE);
}

/* the keywords ms[i..n) on one buffer; prev is the end of the last match,
 * hi the furthest end of a content or pcre matched so far (on the stream
 * a match counts only when that lies in the new bytes: past w->need) */
static bool match_list(om_detect_worker *w, const struct dt_match *const *ms, uint32_t n,
                       uint32_t i, const uint8_t *b, uint32_t bl, int64_t prev, int64_t hi)
{
	if (i == n)
		return w->need < 0 || hi > w->need;
	const struct dt_match *m = ms[i];
	if (++w->steps > STEPS_MAX)
		return false;
	switch (m->type) {
	case DT_M_CONTENT: {
		int64_t start, end = bl;
		uint32_t len = m->u.c.len;
		if (m->flags & DT_CF_RELATIVE) {
			start =
			    prev + ((m->flags & DT_CF_HAS_DISTANCE) ? num(w, &m->u.c.distance) : 0);
			if (m->flags & DT_CF_HAS_WITHIN) {
				int64_t e = start + num(w, &m->u.c.within);
				if (e < end)
					end = e;
			}
			if (m->flags & DT_CF_HAS_OFFSET)
				start += num(w, &m->u.c.offset);
			if (m->flags & DT_CF_HAS_DEPTH) {
				int64_t e = prev + num(w, &m->u.c.depth);
				if (e < end)
					end = e;
			}
		} else {
			/* anchored at the buffer's start (on the stream: the
			 * new bytes'); unanchored it may begin in the window */
			bool anch =
			    m->flags & (DT_CF_HAS_OFFSET | DT_CF_HAS_DEPTH | DT_CF_STARTSWITH);
			start = anch ? w->base : 0;
			if (m->flags & DT_CF_HAS_OFFSET)
				start += num(w, &m->u.c.offset);
			if (m->flags & DT_CF_HAS_DEPTH) {
				int64_t e = start + num(w, &m->u.c.depth);
				if (e < end)
					end = e;
			}
			if (m->flags & DT_CF_STARTSWITH) {
				start = w->base;
				end = w->base + len;
			}
		}
		if (start < 0)
			start = 0;
		/* the last keyword on the stream: only a match ending in the
		 * new bytes will do */
		if (w->need >= 0 && i + 1 == n && hi <= w->need && !(m->flags & DT_CF_NEGATED) &&
		    w->need + 1 - (int64_t)len > start)
			start = w->need + 1 - (int64_t)len;
		if (m->flags & DT_CF_ENDSWITH) {
			/* only a match that ends the buffer */
			if ((int64_t)bl - (int64_t)len < start)
				start = end + 1; /* nothing fits */
			else
				start = (int64_t)bl - len;
		}
		bool neg = m->flags & DT_CF_NEGATED;
		bool nocase = m->flags & DT_CF_NOCASE;
		if (end > (int64_t)bl)
			end = bl;
		if (start > end || end - start < (int64_t)len) {
			return neg ? match_list(w, ms, n, i + 1, b, bl, prev, hi) : false;
		}
		const uint8_t *hit =
		    find(b + start, (size_t)(end - start), m->u.c.pat, len, nocase);
		if (neg)
			return hit ? false : match_list(w, ms, n, i + 1, b, bl, prev, hi);
		bool back = next_relative(ms, n, i) || w->need >= 0;
		while (hit) {
			int64_t pos = hit - b;
			int64_t e2 = pos + len;
			if (match_list(w, ms, n, i + 1, b, bl, e2, e2 > hi ? e2 : hi))
				return true;
			if (!back || w->steps > STEPS_MAX)
				return false;
			w->steps++;
			if (pos + 1 + (int64_t)len > end)
				break;
			hit = find(b + pos + 1, (size_t)(end - pos - 1), m->u.c.pat, len, nocase);
		}
		return false;
	}
	case DT_M_PCRE: {
		int64_t from = m->u.re.relative ? prev : m->u.re.anchored ? w->base : 0;
		if (from > (int64_t)bl)
			return m->u.re.negated ? match_list(w, ms, n, i + 1, b, bl, prev, hi)
			                       : false;
		/* the subject starts at the previous match (so that ^ anchors
		 * there), as Suricata passes it */
		PCRE2_SIZE at = 0;
		for (;;) {
			int rc = pcre2_match(m->u.re.code, b + from, bl - (uint32_t)from, at, 0,
			                     w->md, NULL);
			if (m->u.re.negated)
				return rc < 0 ? match_list(w, ms, n, i + 1, b, bl, prev, hi)
				              : false;
			if (rc < 0)
				return false;
			PCRE2_SIZE *ov = pcre2_get_ovector_pointer(w->md);
			int64_t e2 = from + (int64_t)ov[1];
			if (match_list(w, ms, n, i + 1, b, bl, e2, e2 > hi ? e2 : hi))
				return true;
			/* on the stream the next match may end in the new bytes */
			if (w->need < 0 || ++w->steps > STEPS_MAX ||
			    ov[0] + 1 > bl - (uint32_t)from)
				return false;
			at = ov[0] + 1;
		}
	}
	case DT_M_BYTE_TEST: {
		int64_t pos =
		    num(w, &m->u.b.offset) + ((m->u.b.bflags & DT_BF_RELATIVE) ? prev : w->base);
		uint64_t v, x = (uint64_t)num(w, &m->u.b.value);
		if (!read_num(m, b, bl, pos, &v))
			return false;
		bool ok;
		switch (m->u.b.op) {
		case DT_EQ: ok = v == x; break;
		case DT_LT: ok = v < x; break;
		case DT_GT: ok = v > x; break;
		case DT_LE: ok = v <= x; break;
		case DT_GE: ok = v >= x; break;
		case DT_AND: ok = (v & x) != 0; break;
		case DT_OR: ok = (v ^ x) != 0; break;
		default: ok = v != x; break;
		}
		if (m->u.b.bflags & DT_BF_NEGOP)
			ok = !ok;
		return ok && match_list(w, ms, n, i + 1, b, bl, prev, hi);
	}
	case DT_M_BYTE_JUMP: {
		int64_t pos =
		    num(w, &m->u.b.offset) + ((m->u.b.bflags & DT_BF_RELATIVE) ? prev : w->base);
		uint64_t v;
		if (!read_num(m, b, bl, pos, &v))
			return false;
		int64_t j = (int64_t)(v * (uint64_t)m->u.b.multiplier);
		if (m->u.b.bflags & DT_BF_ALIGN)
			j = (j + 3) & ~(int64_t)3;
		int64_t np;
		if (m->u.b.bflags & DT_BF_FROM_BEGINNING)
			np = w->base + j;
		else if (m->u.b.bflags & DT_BF_FROM_END)
			np = (int64_t)bl + j;
		else
			np = pos + m->u.b.nbytes + j;
		np += m->u.b.post_offset;
		if (np < 0 || np > (int64_t)bl)
			return false;
		return match_list(w, ms, n, i + 1, b, bl, np, hi);
	}
	case DT_M_BYTE_EXTRACT: {
		int64_t pos =
		    num(w, &m->u.b.offset) + ((m->u.b.bflags & DT_BF_RELATIVE) ? prev : w->base);
		uint64_t v;
		if (!read_num(m, b, bl, pos, &v))
			return false;
		v *= (uint64_t)m->u.b.multiplier;
		w->vars[m->u.b.var] = (int64_t)v;
		return match_list(w, ms, n, i + 1, b, bl, pos + m->u.b.nbytes, hi);
	}
	case DT_M_BYTE_MATH: {
		int64_t pos =
		    num(w, &m->u.b.offset) + ((m->u.b.bflags & DT_BF_RELATIVE) ? prev : w->base);
		uint64_t v, r = (uint64_t)num(w, &m->u.b.value);
		if (!read_num(m, b, bl, pos, &v))
			return false;
		switch (m->u.b.math_op) {
		case 1: v += r; break;
		case 2: v -= r; break;
		case 3: v *= r; break;
		case 4:
			if (!r)
				return false;
			v /= r;
			break;
		case 5: v = r < 64 ? v << r : 0; break;
		default: v = r < 64 ? v >> r : 0; break;
		}
		w->vars[m->u.b.var] = (int64_t)v;
		return match_list(w, ms, n, i + 1, b, bl, prev, hi);
	}
	case DT_M_ISDATAAT: {
		int64_t at = num(w, &m->u.isdataat.pos);
		bool ok =
		    m->u.isdataat.relative ? prev + at <= (int64_t)bl : w->base + at < (int64_t)bl;
		if (m->u.isdataat.negated)
			ok = !ok;
		return ok && match_list(w, ms, n, i + 1, b, bl, prev, hi);
	}
	case DT_M_BSIZE:
		return size_ok(m->u.size.op, m->u.size.lo, m->u.size.hi, bl) &&
		       match_list(w, ms, n, i + 1, b, bl, prev, hi);
	default: return false;
	}
}

static uint32_t xform_apply(uint8_t x, const uint8_t *in, uint32_t n, uint8_t *out)
{
	uint32_t o = 0;
	switch (x) {
	case DT_X_LOWER:
		for (uint32_t i = 0; i < n; i++)
			out[o++] = (uint8_t)tolower(in[i]);
		break;
	case DT_X_UPPER:
		for (uint32_t i = 0; i < n; i++)
			out[o++] = (uint8_t)toupper(in[i]);
		break;
	case DT_X_DOTPREFIX:
		out[o++] = '.';
		memcpy(out + 1, in, n);
		o += n;
		break;
	case DT_X_STRIP_WS:
		for (uint32_t i = 0; i < n; i++)
			if (!isspace(in[i]))
				out[o++] = in[i];
		break;
	case DT_X_COMPRESS_WS:
		for (uint32_t i = 0; i < n; i++) {
			if (isspace(in[i])) {
				if (o && out[o - 1] == ' ')
					continue;
				out[o++] = ' ';
			} else {
				out[o++] = in[i];
			}
		}
		break;
	case DT_X_URL_DECODE:
		for (uint32_t i = 0; i < n; i++) {
			if (in[i] == '%' && i + 2 < n && isxdigit(in[i + 1]) &&
			    isxdigit(in[i + 2])) {
				char h[3] = {(char)in[i + 1], (char)in[i + 2], 0};
				out[o++] = (uint8_t)strtoul(h, NULL, 16);
				i += 2;
			} else if (in[i] == '+') {
				out[o++] = ' ';
			} else {
				out[o++] = in[i];
			}
		}
		break;
	case DT_X_HEADER_LOWER: {
		bool name = true;
		for (uint32_t i = 0; i < n; i++) {
			if (in[i] == '\n')
				name = true;
			else if (in[i] == ':')
				name = false;
			out[o++] = name ? (uint8_t)tolower(in[i]) : in[i];
		}
		break;
	}
	default:
		memcpy(out, in, n);
		o = n;
		break;
	}
	return o;
}

/* b transformed by the chain x[0..nx) (each step on at most XF_MAX bytes)
 * into the worker's buffers; b itself without transforms */
static const uint8_t *xf_chain(om_detect_worker *w, const uint8_t *x, unsigned nx, const uint8_t *b,
                               uint32_t *bl)
{
	for (unsigned k = 0; k < nx; k++) {
		uint32_t in = *bl < XF_MAX ? *bl : XF_MAX;
		*bl = xform_apply(x[k], b, in, w->xf[k & 1]);
		b = w->xf[k & 1];
	}
	return b;
}

/* the buffer of one keyword group: the payload or a transaction's */
static const uint8_t *get_buf(const struct ev *e, int buf, uint32_t idx, uint32_t *len)
{
	if (buf == DT_BUF_PKT) {
		if (idx)
			return NULL;
		if (e->mode == EV_STREAM) {
			*len = e->sbl;
			return e->sb;
		}
		if (!e->p)
			return NULL;
		*len = e->p->payload_len;
		return e->p->payload;
	}
	if (!e->tx)
		return NULL;
	return om_tx_get(e->tx, (enum om_tx_buf)(buf - 1), idx, len);
}

static bool buffers_match(om_detect_worker *w, const struct dt_rule *r, const struct ev *e)
{
	const struct dt_match *ms[DT_MAX_MATCHES];
	bool done[DT_MAX_MATCHES] = {false};
	for (uint32_t i = 0; i < r->nm; i++) {
		if (done[i])
			continue;
		int buf = r->m[i].buf;
		/* a mixed rule: the payload on the stream, the buffers on the
		 * transaction (its payload part matched before: a mark) */
		if (r->mixed && ((e->mode == EV_TX) == (buf == DT_BUF_PKT)))
			continue;
		uint32_t n = 0;
		for (uint32_t k = i; k < r->nm; k++)
			if (r->m[k].buf == buf) {
				ms[n++] = &r->m[k];
				done[k] = true;
			}
		const uint8_t *xf = NULL;
		unsigned nx = 0;
		for (unsigned k = 0; k < r->nxf; k++)
			if (r->xf[k].buf == buf) {
				xf = r->xf[k].x;
				nx = r->xf[k].n;
			}
		bool ok = false;
		for (uint32_t idx = 0; idx < MULTI_MAX && !ok; idx++) {
			uint32_t bl = 0;
			const uint8_t *b = get_buf(e, buf, idx, &bl);
			if (!b)
				break;
			b = xf_chain(w, xf, nx, b, &bl);
			w->steps = 0;
			bool st = e->mode == EV_STREAM && buf == DT_BUF_PKT;
			w->need = st ? (int64_t)e->swl : -1;
			w->base = st ? (int64_t)e->swl : 0;
			ok = match_list(w, ms, n, 0, b, bl, w->base, -1);
			/* anchored keywords also count from the stream's start
			 * while the window holds it (a first message cut
			 * across segments) */
			if (!ok && st && r->anchored && e->sstart && e->swl) {
				w->steps = 0;
				w->base = 0;
				ok = match_list(w, ms, n, 0, b, bl, 0, -1);
			}
			w->need = -1;
			w->base = 0;
		}
		if (!ok)
			return false;
	}
	return true;
}

/* ---- flowbits, xbits, thresholds ------------------------------------------------------------- */

static struct fb_slot *fb_get(om_detect_worker *w, const om_flow *f, bool create)
{
	if (!f)
		return NULL;
	struct fb_slot *s = &w->fb[mix(0, f->flow_id) % FB_SLOTS];
	if (s->used && s->flow_id == f->flow_id)
		return s;
	if (!create)
		return NULL;
	if (s->used)
		w->st.flowbit_evictions++;
	memset(s, 0, sizeof(*s));
	s->used = true;
	s->flow_id = f->flow_id;
	return s;
}

static bool fb_isset(const struct fb_slot *s, uint16_t bit)
{
	if (!s)
		return false;
	for (unsigned i = 0; i < s->n; i++)
		if (s->bits[i] == bit)
			return true;
	return false;
}

static uint64_t xb_key(const struct dt_flowbit *fb, uint16_t bit, const struct ev *e)
{
	uint64_t h = mix(0x5851f42d4c957f2dull, bit);
	if (fb->xbits_track == 1 || fb->xbits_track == 3)
		h = mix(h, addr_hash(e->src));
	if (fb->xbits_track == 2 || fb->xbits_track == 3)
		h = mix(h, addr_hash(e->dst));
	return h | 1;
}

static bool bit_isset(om_detect_worker *w, const struct dt_flowbit *fb, uint16_t bit,
                      const struct ev *e)
{
	if (fb->xbits_track) {
		uint64_t k = xb_key(fb, bit, e);
		const struct xb_slot *s = &w->xb[k % XB_SLOTS];
		return s->key == k && (s->expire == 0 || s->expire >= e->now);
	}
	return fb_isset(fb_get(w, e->f, false), bit);
}

static bool bits_check(om_detect_worker *w, const struct dt_rule *r, const struct ev *e)
{
	for (unsigned i = 0; i < r->nfb; i++) {
		const struct dt_flowbit *fb = &r->fb[i];
		if (fb->op != DT_FB_ISSET && fb->op != DT_FB_ISNOTSET)
			continue;
		unsigned set = 0;
		for (unsigned k = 0; k < fb->nnames; k++)
			set += bit_isset(w, fb, fb->names[k], e);
		bool ok;
		if (fb->op == DT_FB_ISSET)
			ok = fb->any ? set > 0 : set == fb->nnames;
		else
			ok = fb->any ? set < fb->nnames : set == 0;
		if (!ok)
			return false;
	}
	return true;
}

static void bits_apply(om_detect_worker *w, const struct dt_rule *r, const struct ev *e)
{
	for (unsigned i = 0; i < r->nfb; i++) {
		const struct dt_flowbit *fb = &r->fb[i];
		if (fb->op != DT_FB_SET && fb->op != DT_FB_UNSET && fb->op != DT_FB_TOGGLE)
			continue;
		uint16_t bit = fb->names[0];
		if (fb->xbits_track) {
			uint64_t k = xb_key(fb, bit, e);
			struct xb_slot *s = &w->xb[k % XB_SLOTS];
			bool set = s->key == k && (s->expire == 0 || s->expire >= e->now);
			bool want = fb->op == DT_FB_SET || (fb->op == DT_FB_TOGGLE && !set);
			if (want) {
				s->key = k;
				s->expire =
				    fb->expire ? e->now + (om_usec)fb->expire * 1000000ull : 0;
			} else if (s->key == k) {
				s->key = 0;
			}
			continue;
		}
		struct fb_slot *s = fb_get(w, e->f, fb->op != DT_FB_UNSET);
		if (!s)
			continue;
		bool set = fb_isset(s, bit);
		bool want = fb->op == DT_FB_SET || (fb->op == DT_FB_TOGGLE && !set);
		if (want && !set && s->n < FB_BITS) {
			s->bits[s->n++] = bit;
		} else if (!want && set) {
			for (unsigned k = 0; k < s->n; k++)
				if (s->bits[k] == bit) {
					s->bits[k] = s->bits[--s->n];
					break;
				}
		}
	}
}

/* true: alert now */
static bool th_pass(om_detect_worker *w, const struct dt_rule *r, const struct dt_threshold *t,
                    const struct ev *e, unsigned salt)
{
	uint64_t k = mix(mix(salt, r->gid), r->sid);
	if (t->track == DT_TR_SRC || t->track == DT_TR_BOTH)
		k = mix(k, addr_hash(e->src));
	if (t->track == DT_TR_DST || t->track == DT_TR_BOTH)
		k = mix(k, addr_hash(e->dst));
	k |= 1;
	/* the key's slot among TH_WAYS (a set): its own, else a free one,
	 * else the one whose window started first */
	struct th_slot *set = &w->th[(k % (TH_SLOTS / TH_WAYS)) * TH_WAYS], *s = NULL;
	for (unsigned i = 0; i < TH_WAYS && !s; i++)
		if (set[i].key == k)
			s = &set[i];
	for (unsigned i = 0; i < TH_WAYS && !s; i++)
		if (!set[i].key)
			s = &set[i];
	if (!s) {
		s = &set[0];
		for (unsigned i = 1; i < TH_WAYS; i++)
			if (set[i].start < s->start)
				s = &set[i];
	}
	om_usec win = (om_usec)t->seconds * 1000000ull;
	if (s->key != k || e->now >= s->start + win) {
		if (s->key && s->key != k)
			w->st.threshold_evictions++;
		s->key = k;
		s->start = e->now;
		s->count = 0;
	}
	s->count++;
	switch (t->type) {
	case DT_TH_LIMIT: return s->count <= t->count;
	case DT_TH_THRESHOLD:
		if (s->count >= t->count) {
			s->count = 0;
			return true;
		}
		return false;
	case DT_TH_BOTH: return s->count == t->count;
	default: return s->count > t->count; /* detection_filter */
	}
}

/* ---- the report category of an alert --------------------------------------------------------- */

static bool is_home(const om_detect *d, const om_addr *a)
{
	if (d->home.count == 0) {
		/* the private ranges */
		static const char *const priv[] = {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
		                                   "fc00::/7"};
		for (size_t i = 0; i < 4; i++) {
			om_cidr c;
			if (om_cidr_parse(priv[i], &c) == 0 && om_cidr_contains(&c, a))
				return true;
		}
		return false;
	}
	for (unsigned i = 0; i < d->home.count; i++)
		if (om_cidr_contains(&d->home.net[i], a))
			return true;
	return false;
}

static void categorise(const om_detect *d, const struct dt_rule *r, const struct ev *e,
                       om_detect_alert *a)
{
	const char *cls = r->cls >= 0 ? d->cls[r->cls].name : "";
	bool src_in = e->src && is_home(d, e->src);
	bool dst_in = e->dst && is_home(d, e->dst);
	/* the inside host of a rule with target: keyword */
	if (r->target == 1)
		src_in = !src_in ? false : src_in;
	if (!strcmp(cls, "trojan-activity") || !strcmp(cls, "command-and-control") ||
	    !strcmp(cls, "domain-c2") || !strcmp(cls, "targeted-activity")) {
		if (src_in) {
			a->category = "c2";
			a->advice = "detect.c2";
			return;
		}
		if (dst_in) {
			a->category = "web_malware";
			a->advice = "detect.malware_download";
			return;
		}
	}
	if (!strcmp(cls, "exploit-kit") || !strcmp(cls, "social-engineering") ||
	    !strcmp(cls, "credential-theft")) {
		a->category = "web_malware";
		a->advice = "detect.web_malware";
		return;
	}
	if (!strcmp(cls, "attempted-recon") || !strcmp(cls, "network-scan")) {
		a->category = "recon";
		a->advice = "detect.recon";
		return;
	}
	if (!strcmp(cls, "inappropriate-content") || !strcmp(cls, "policy-violation") ||
	    !strcmp(cls, "pup-activity") || !strcmp(cls, "coin-mining")) {
		a->category = "harmful_web";
		a->advice = "detect.policy";
		return;
	}
	if (!src_in && dst_in) {
		a->category = "intrusion";
		a->advice = "detect.intrusion";
		return;
	}
	a->category = "intrusion";
	a->advice = src_in ? "detect.inside_suspicious" : "detect.intrusion";
}

/* ---- rules ----------------------------------------------------------------------------------- */

static bool est(const struct ev *e)
{
	const om_flow *f = e->f;
	if (!f)
		return false;
	if (f->proto == IPPROTO_TCP)
		return e->tx ||
		       (f->tcp_state >= OM_TCP_ESTABLISHED && f->tcp_state != OM_TCP_RESET);
	return f->pkts[0] && f->pkts[1];
}

static bool header_ok(const om_detect *d, const struct dt_rule *r, const struct ev *e)
{
	(void)d;
	switch (r->proto) {
	case DT_P_TCP:
		if (e->ipproto != IPPROTO_TCP)
			return false;
		break;
	case DT_P_UDP:
		if (e->ipproto != IPPROTO_UDP)
			return false;
		break;
	case DT_P_ICMP:
		if (e->ipproto != IPPROTO_ICMP && e->ipproto != IPPROTO_ICMPV6)
			return false;
		break;
	case DT_P_APP: {
		if (e->mode == EV_STREAM && r->mixed)
			break; /* the transaction's protocol is checked with it */
		const char *ap = e->tx ? e->tx->app_proto : e->f ? om_app_proto_name(e->f) : NULL;
		if (!ap || strcmp(ap, r->app))
			return false;
		break;
	}
	default: break;
	}
	bool ports = e->ipproto == IPPROTO_TCP || e->ipproto == IPPROTO_UDP;
	bool fwd = (!ports || (dt_ports_match(r->sp, e->sp) && dt_ports_match(r->dp, e->dp))) &&
	           dt_addr_match(r->src, e->src) && dt_addr_match(r->dst, e->dst);
	if (fwd)
		return true;
	if (!r->bidir)
		return false;
	return (!ports || (dt_ports_match(r->sp, e->dp) && dt_ports_match(r->dp, e->sp))) &&
	       dt_addr_match(r->src, e->dst) && dt_addr_match(r->dst, e->src);
}

static uint64_t *mk_row(om_detect_worker *w, const struct mk_slot *s, int dir)
{
	return w->mkbits + ((size_t)(s - w->mk) * 2 + (size_t)dir) * w->mkw;
}

static struct mk_slot *mk_get(om_detect_worker *w, const om_flow *f, bool create)
{
	struct mk_slot *s = &w->mk[mix(7, f->flow_id) % MK_SLOTS];
	if (s->used && s->flow_id == f->flow_id)
		return s;
	if (!create)
		return NULL;
	if (s->used)
		w->st.mark_evictions++;
	s->used = true;
	s->flow_id = f->flow_id;
	s->any[0] = s->any[1] = false;
	memset(mk_row(w, s, 0), 0, 2 * w->mkw * sizeof(uint64_t));
	return s;
}

/* the payload part of mixed rule r matched the stream of direction dir */
static void mk_set(om_detect_worker *w, const struct dt_rule *r, const om_flow *f, int dir)
{
	struct mk_slot *s = mk_get(w, f, true);
	mk_row(w, s, dir)[r->midx / 64] |= 1ull << (r->midx % 64);
	s->any[dir] = true;
}

static bool mk_isset(om_detect_worker *w, const struct dt_rule *r, const om_flow *f, int dir)
{
	const struct mk_slot *s = mk_get(w, f, false);
	return s && s->any[dir] && (mk_row(w, s, dir)[r->midx / 64] >> (r->midx % 64) & 1);
}

/* the marked rules as candidates; with clear_dir >= 0 the marks of rules
 * checked at a transaction of that direction are used up instead */
static void mk_walk(om_detect_worker *w, struct mk_slot *s, int clear_dir)
{
	const om_detect *d = w->d;
	for (int md = 0; md < 2; md++) {
		if (!s->any[md])
			continue;
		uint64_t *row = mk_row(w, s, md);
		bool left = false;
		for (uint32_t k = 0; k < w->mkw; k++) {
			for (uint64_t b = row[k]; b; b &= b - 1) {
				uint32_t ri = d->mixed[k * 64 + (uint32_t)__builtin_ctzll(b)];
				if (clear_dir >= 0) {
					if (d->rules[ri]->tx_dir == clear_dir)
						row[k] &= ~(1ull << __builtin_ctzll(b));
				} else if (w->stamp[ri] != w->gen) {
					w->stamp[ri] = w->gen;
					w->cand[w->ncand++] = ri;
				}
			}
			left = left || row[k];
		}
		s->any[md] = left;
	}
}

static void check_rule(om_detect_worker *w, const struct dt_rule *r, struct ev *e)
{
	const om_detect *d = w->d;
	w->st.rules_checked++;
	/* the cheap tests first (they have no effects: any order gives the
	 * same answer) */
	if (r->flow) {
		if ((r->flow & DT_FL_TOSERVER) && e->dir != OM_DIR_TOSERVER)
			return;
		if ((r->flow & DT_FL_TOCLIENT) && e->dir != OM_DIR_TOCLIENT)
			return;
		if ((r->flow & DT_FL_ESTABLISHED) && !est(e))
			return;
		if ((r->flow & DT_FL_NOT_ESTABLISHED) && est(e))
			return;
	}
	if (r->dsize_op >= 0 &&
	    (!e->p || !size_ok(r->dsize_op, r->dsize_lo, r->dsize_hi, e->p->payload_len)))
		return;
	if (r->itype_op >= 0 || r->icode_op >= 0 || r->ttl_op >= 0 || r->tcpflags_mode >= 0 ||
	    r->ip_proto >= 0) {
		const om_packet *p = e->p;
		if (!p)
			return;
		bool icmp = p->proto == IPPROTO_ICMP || p->proto == IPPROTO_ICMPV6;
		if (r->itype_op >= 0 &&
		    (!icmp || !size_ok(r->itype_op, r->itype_lo, r->itype_hi, p->icmp_type)))
			return;
		if (r->icode_op >= 0 &&
		    (!icmp || !size_ok(r->icode_op, r->icode_lo, r->icode_hi, p->icmp_code)))
			return;
		if (r->ttl_op >= 0 && !size_ok(r->ttl_op, r->ttl_lo, r->ttl_hi, p->ttl))
			return;
		if (r->ip_proto >= 0 && p->proto != r->ip_proto)
			return;
		if (r->tcpflags_mode >= 0) {
			if (p->proto != IPPROTO_TCP)
				return;
			uint8_t fl = p->tcp_flags & r->tcpflags_mask;
			bool ok;
			switch (r->tcpflags_mode) {
			case '+': ok = (fl & r->tcpflags) == r->tcpflags; break;
			case '*': ok = (fl & r->tcpflags) != 0; break;
			case '!': ok = (fl & r->tcpflags) == 0; break;
			default: ok = fl == r->tcpflags; break;
			}
			if (!ok)
				return;
		}
	}
	if (!header_ok(d, r, e))
		return;
	if (r->urilen_op >= 0) {
		uint32_t ul = 0;
		if (!e->tx ||
		    !om_tx_get(e->tx, r->urilen_raw ? OM_TXB_HTTP_URI_RAW : OM_TXB_HTTP_URI, 0,
		               &ul) ||
		    !size_ok(r->urilen_op, r->urilen_lo, r->urilen_hi, ul))
			return;
	}
	bool marking = r->mixed && e->mode == EV_STREAM;
	if (r->mixed && e->mode == EV_TX &&
	    !mk_isset(w, r, e->f,
	              (r->flow & DT_FL_TOSERVER)   ? OM_DIR_TOSERVER
	              : (r->flow & DT_FL_TOCLIENT) ? OM_DIR_TOCLIENT
	                                           : r->tx_dir))
		return;
	if (!marking && !bits_check(w, r, e))
		return;
	if (!buffers_match(w, r, e))
		return;
	if (marking) {
		mk_set(w, r, e->f, e->dir);
		return;
	}
	bits_apply(w, r, e);
	if (r->noalert)
		return;
	if (r->has_filter && !th_pass(w, r, &r->df, e, 2))
		return;
	if (r->has_threshold && !th_pass(w, r, &r->th, e, 1)) {
		w->st.suppressed++;
		return;
	}
	if (r->action == OM_DA_PASS)
		return;
	om_detect_alert a;
	memset(&a, 0, sizeof(a));
	a.sid = r->sid;
	a.gid = r->gid;
	a.rev = r->rev;
	a.action = (enum om_detect_action)r->action;
	a.msg = r->msg;
	a.class_name = r->cls >= 0 ? d->cls[r->cls].name : "";
	a.class_desc = r->cls >= 0 ? d->cls[r->cls].desc : "";
	a.priority = r->priority ? r->priority : r->cls >= 0 ? d->cls[r->cls].priority : 3;
	a.metadata = r->metadata;
	a.flow = e->f;
	a.dir = e->dir;
	a.pkt = e->p;
	a.tx = e->tx;
	categorise(d, r, e, &a);
	w->st.alerts++;
	if (e->f) {
		e->f->flags |= OM_FLOW_F_ALERTED;
		if (r->action == OM_DA_DROP || r->action == OM_DA_REJECT)
			e->f->flags |= OM_FLOW_F_DROP;
		if (r->action == OM_DA_REJECT)
			e->f->flags |= OM_FLOW_F_REJECT;
	}
	enum om_tx_verdict v = r->action == OM_DA_REJECT ? OM_TX_VERDICT_REJECT
	                       : r->action == OM_DA_DROP ? OM_TX_VERDICT_DROP
	                                                 : OM_TX_VERDICT_ALERT;
	if (v > e->verdict)
		e->verdict = v;
	if (w->fn)
		w->fn(w->user, &a);
}

static int on_hs(unsigned id, unsigned long long from, unsigned long long to, unsigned fl,
                 void *ctx)
{
	(void)from;
	(void)to;
	(void)fl;
	struct {
		om_detect_worker *w;
		const struct dt_pf *pf;
	} *c = ctx;
	om_detect_worker *w = c->w;
	/* the rules of pattern id (every rule of it: one find for all) */
	for (uint32_t k = c->pf->off[id]; k < c->pf->off[id + 1]; k++) {
		uint32_t ri = c->pf->rules[k];
		if (w->stamp[ri] != w->gen) {
			w->stamp[ri] = w->gen;
			w->cand[w->ncand++] = ri;
		}
	}
	return 0;
}

static void scan_pf(om_detect_worker *w, const struct dt_pf *pf, const uint8_t *b, uint32_t bl)
{
	if (!pf->db || bl < pf->minlen || !bl)
		return; /* nothing, or too short for any of its patterns */
	struct {
		om_detect_worker *w;
		const struct dt_pf *pf;
	} c = {w, pf};
	hs_scan(pf->db, (const char *)b, bl, 0, w->scratch, on_hs, &c);
}

static void scan(om_detect_worker *w, int buf, const uint8_t *b, uint32_t bl)
{
	scan_pf(w, &w->d->pf[buf], b, bl);
}

/* the candidates into rule order: insertion for a few, else a radix sort
 * by 9 bits in two passes (rule indexes are below 2^18) with the worker's
 * second array; no allocation */
static void cand_sort(om_detect_worker *w)
{
	uint32_t *v = w->cand, n = w->ncand;
	if (n <= 32) {
		for (uint32_t i = 1; i < n; i++) {
			uint32_t x = v[i], j = i;
			for (; j > 0 && v[j - 1] > x; j--)
				v[j] = v[j - 1];
			v[j] = x;
		}
		return;
	}
	uint32_t *t = w->ctmp;
	for (unsigned pass = 0; pass < 2; pass++) {
		unsigned sh = pass * 9;
		uint32_t cnt[513] = {0};
		for (uint32_t i = 0; i < n; i++)
			cnt[((v[i] >> sh) & 511) + 1]++;
		for (unsigned k = 1; k < 513; k++)
			cnt[k] += cnt[k - 1];
		for (uint32_t i = 0; i < n; i++)
			t[cnt[(v[i] >> sh) & 511]++] = v[i];
		uint32_t *sw = v;
		v = t;
		t = sw;
	}
	/* two passes: the sorted run is back in w->cand */
}

static void cand_add(om_detect_worker *w, const struct dt_list *l)
{
	for (uint32_t i = 0; i < l->n; i++) {
		uint32_t ri = l->v[i];
		if (w->stamp[ri] != w->gen) {
			w->stamp[ri] = w->gen;
			w->cand[w->ncand++] = ri;
		}
	}
}

static void new_round(om_detect_worker *w)
{
	w->ncand = 0;
	if (++w->gen == 0) {
		memset(w->stamp, 0, (w->d->nrules + 1) * sizeof(uint32_t));
		w->gen = 1;
	}
}

/* the sorted candidates and the rules of list l (never among them) into
 * one list in rule order */
static void cand_merge(om_detect_worker *w, const struct dt_list *l)
{
	uint32_t *a = w->cand, *o = w->ctmp, na = w->ncand, i = 0, j = 0, k = 0;
	while (i < na && j < l->n)
		o[k++] = a[i] < l->v[j] ? a[i++] : l->v[j++];
	while (i < na)
		o[k++] = a[i++];
	while (j < l->n)
		o[k++] = l->v[j++];
	w->ctmp = a;
	w->cand = o;
	w->ncand = k;
}

/* checks the candidates, and the rules of l and l2 (NULL: none), in rule
 * order */
static void run(om_detect_worker *w, struct ev *e, const struct dt_list *l,
                const struct dt_list *l2)
{
	cand_sort(w);
	if (l && l->n)
		cand_merge(w, l);
	if (l2 && l2->n)
		cand_merge(w, l2);
	w->st.prefilter_hits += w->ncand;
	for (uint32_t i = 0; i < w->ncand; i++)
		check_rule(w, w->d->rules[w->cand[i]], e);
}

/* the flow's application protocol as an index into db_of (app index + 1;
 * 0: one no rule names); -1: not decided yet (or no flow) */
static int flow_app(om_detect_worker *w, const om_flow *f)
{
	const char *name = f ? om_app_proto_name(f) : NULL;
	if (!name)
		return -1;
	for (uint32_t i = 0; i < w->napc; i++)
		if (w->apc[i].name == name)
			return w->apc[i].ai;
	const om_detect *d = w->d;
	uint8_t ai = 0;
	for (uint32_t a = 0; a < d->napps; a++)
		if (!strcmp(d->apps[a], name))
			ai = (uint8_t)(a + 1);
	if (w->napc < sizeof(w->apc) / sizeof(w->apc[0])) {
		w->apc[w->napc].name = name;
		w->apc[w->napc].ai = ai;
		w->napc++;
	}
	return ai;
}

/* the database of kind k and direction dir for a flow whose protocol is
 * ai (flow_app; undecided: -1, which takes database 0's on packets);
 * NULL: the payload databases of every protocol serve (ppf) */
static const struct dt_pf *apf_db(const om_detect *d, int k, int dir, int ai)
{
	if (!d->apf_on || (dir != OM_DIR_TOSERVER && dir != OM_DIR_TOCLIENT))
		return NULL;
	const struct dt_apf *a = &d->apf[k][dir];
	if (k == DT_APF_STREAM)
		return &a->pf[DT_APF_ALLDB];
	uint8_t db = a->db_of[ai < 0 ? 0 : ai];
	return db == DT_APF_ALLDB ? NULL : &a->pf[db];
}

void om_detect_packet(om_detect_worker *w, om_flow *f, const om_packet *p, int dir)
{
	if (!w || !p || !p->ip_ver)
		return;
	const om_detect *d = w->d;
	w->st.packets++;
	struct ev e = {.f = f,
	               .p = p,
	               .dir = dir,
	               .src = &p->src,
	               .dst = &p->dst,
	               .sp = p->sport,
	               .dp = p->dport,
	               .ipproto = p->proto,
	               .now = p->ts};
	/* address-only rules: once per flow and direction (every packet
	 * without a flow) */
	if (!f || f->pkts[dir] == 1) {
		for (uint32_t i = 0; i < d->n_iponly; i++)
			check_rule(w, d->rules[d->iponly[i]], &e);
		/* the reputation lists: only the rules whose list holds the
		 * source (or the destination) */
		uint32_t n;
		const uint32_t *ids = dt_ipidx_find(&d->ipsrc, &p->src, &n);
		for (uint32_t i = 0; i < n; i++)
			check_rule(w, d->rules[ids[i]], &e);
		ids = dt_ipidx_find(&d->ipdst, &p->dst, &n);
		for (uint32_t i = 0; i < n; i++)
			check_rule(w, d->rules[ids[i]], &e);
	}
	/* the payload rules of a TCP flow whose stream takes this packet's
	 * bytes see those on the stream (om_detect_stream), transaction rules
	 * see transactions, flow:only_stream rules never see packets: each
	 * case scans its own database and adds its own rules without a fast
	 * pattern */
	bool streamed = f && f->tcp && (p->flags & OM_PKT_TCP) &&
	                om_stream_dir_end(f, dir) != OM_STREAM_DEPTH &&
	                om_stream_dir_end(f, dir) != OM_STREAM_BYPASS;
	new_round(w);
	/* TCP packets the stream does not inspect: one database, the rules of
	 * this direction and the flow's application protocol (a rule of
	 * another cannot match; undecided, none can) */
	const struct dt_pf *apf = p->payload_len && !streamed && p->proto == IPPROTO_TCP
	                              ? apf_db(d, DT_APF_TCP, dir, flow_app(w, f))
	                              : NULL;
	if (apf) {
		scan_pf(w, apf, p->payload, p->payload_len);
	} else if (p->payload_len && !streamed) {
		/* the stream's rules that see this packet: with the databases
		 * by direction, this direction's (both without one) */
		if (!d->apf_on) {
			scan_pf(w, &d->ppf[DT_PPF_STREAM], p->payload, p->payload_len);
		} else {
			for (int sd = 0; sd < 2; sd++)
				if (sd == dir || (dir != OM_DIR_TOSERVER && dir != OM_DIR_TOCLIENT))
					scan_pf(w, &d->apf[DT_APF_STREAM][sd].pf[DT_APF_ALLDB],
					        p->payload, p->payload_len);
		}
		uint32_t o = 0;
		for (uint32_t i = 0; i < w->ncand; i++) {
			const struct dt_rule *r = d->rules[w->cand[i]];
			if (!r->in_tx && !(r->flow & DT_FL_ONLY_STREAM))
				w->cand[o++] = w->cand[i];
		}
		w->ncand = o;
		scan_pf(w, &d->ppf[DT_PPF_PACKET_OTHER], p->payload, p->payload_len);
	} else if (p->payload_len && d->apf_on &&
	           (dir == OM_DIR_TOSERVER || dir == OM_DIR_TOCLIENT)) {
		/* the rules of this direction whose dsize allows this size */
		scan_pf(w, &d->apf[DT_APF_SPKT][dir].pf[p->payload_len > DT_SPKT_SMALL], p->payload,
		        p->payload_len);
	} else if (p->payload_len) {
		scan_pf(w, &d->ppf[DT_PPF_PACKET_STREAMED], p->payload, p->payload_len);
	}
	/* the rules without a fast pattern: on TCP and UDP those whose
	 * destination ports hold this packet's, and the others */
	const struct dt_portidx *x = &d->pidx[streamed];
	if (x->off && (p->proto == IPPROTO_TCP || p->proto == IPPROTO_UDP)) {
		struct dt_list byport = {x->ids + x->off[p->dport],
		                         x->off[p->dport + 1] - x->off[p->dport]};
		run(w, &e, &x->always, &byport);
	} else {
		run(w, &e, &d->pktl[streamed], NULL);
	}
}

static void ev_flow(struct ev *e, om_flow *f, int dir)
{
	e->f = f;
	e->dir = dir;
	e->src = dir == OM_DIR_TOSERVER ? &f->cli : &f->srv;
	e->dst = dir == OM_DIR_TOSERVER ? &f->srv : &f->cli;
	e->sp = dir == OM_DIR_TOSERVER ? f->cport : f->sport;
	e->dp = dir == OM_DIR_TOSERVER ? f->sport : f->cport;
	e->ipproto = f->proto;
}

/* the stream rules found in the current chunk */
static void stream_run(om_detect_worker *w, struct ev *e)
{
	for (uint32_t i = 0; i < w->nscand; i++)
		check_rule(w, w->d->rules[w->scand[i]], e);
	w->nscand = 0;
}

/* the finds of the scan just made (the candidates) into slot s, which
 * covers the stream from `from` to `end` now; with carry the slot's older
 * finds whose scan ended past from are candidates too */
static void sf_update(om_detect_worker *w, struct sf_slot *s, bool carry, uint64_t from,
                      uint64_t end)
{
	uint32_t rule[SF_MAX];
	uint64_t at[SF_MAX];
	uint32_t n = 0, nf = w->ncand;
	bool full = false;
	for (uint32_t i = 0; i < nf; i++) {
		if (n == SF_MAX) {
			full = true;
			break;
		}
		rule[n] = w->cand[i];
		at[n++] = end;
	}
	for (uint32_t i = 0; carry && i < s->n; i++) {
		uint32_t ri = s->rule[i];
		if (w->stamp[ri] == w->gen)
			continue; /* found again */
		if (s->at[i] > from) {
			w->stamp[ri] = w->gen;
			w->cand[w->ncand++] = ri;
		}
		/* a later window begins at end - SW_MAX or after */
		if (s->at[i] + SW_MAX <= end)
			continue;
		if (n == SF_MAX) {
			full = true;
			continue;
		}
		rule[n] = ri;
		at[n++] = s->at[i];
	}
	if (full) {
		s->key = 0; /* too many: the next delivery scans its whole window */
		return;
	}
	memcpy(s->rule, rule, n * sizeof(rule[0]));
	memcpy(s->at, at, n * sizeof(at[0]));
	s->n = n;
	s->from = from;
	s->end = end;
}

void om_detect_stream(om_detect_worker *w, om_flow *f, int dir, const uint8_t *data, uint32_t len,
                      uint64_t offset, const om_packet *p)
{
	if (!w)
		return;
	w->spend->f = NULL;
	w->nscand = 0;
	const om_detect *d = w->d;
	if (!f || !data || !len || !d->has_stream ||
	    (dir != OM_DIR_TOSERVER && dir != OM_DIR_TOCLIENT))
		return;
	struct ev *e = w->spend;
	memset(e, 0, sizeof(*e));
	ev_flow(e, f, dir);
	e->p = p;
	e->now = p ? p->ts : f->last;
	e->mode = EV_STREAM;
	e->sb = w->sbuf;
	/* the stream rules of this direction (one with flow:to_client cannot
	 * match the client's bytes) */
	const struct dt_pf *spf = d->apf_on ? apf_db(d, DT_APF_STREAM, dir, -1) : NULL;
	if (!spf)
		spf = &d->ppf[DT_PPF_STREAM];
	uint64_t key = f->flow_id * 2 + (uint64_t)dir + 1;
	struct sf_slot *sf = &w->sf[mix(11, key) % SF_SLOTS];
	uint32_t wl = om_stream_window(f, dir, w->sbuf, SW_MAX);
	/* the window begins at the stream's first byte */
	e->sstart = offset == wl;
	while (len) {
		uint32_t n = len < SC_MAX ? len : SC_MAX;
		memcpy(w->sbuf + wl, data, n);
		e->sbl = wl + n;
		e->swl = wl;
		w->st.stream_chunks++;
		w->st.stream_bytes += n;
		new_round(w);
		/* the window too: a rule's fast pattern may lie there while
		 * another of its keywords ends in the new bytes. What the last
		 * deliveries found there is kept (sf_slot): then only the
		 * window's end that a pattern ending in the new bytes can
		 * begin in is scanned again */
		uint64_t from = offset - wl, end = offset + n;
		bool carry =
		    sf->key == key && sf->end == offset && sf->pf == spf && from >= sf->from;
		uint32_t ovl = wl;
		if (carry && spf->maxlen && spf->maxlen - 1 < wl)
			ovl = spf->maxlen - 1;
		scan_pf(w, spf, w->sbuf + wl - ovl, ovl + n);
		if (!carry) {
			sf->key = key;
			sf->pf = spf;
			sf->n = 0;
		}
		sf_update(w, sf, carry, from, end);
		cand_sort(w);
		if (d->streaml.n)
			cand_merge(w, &d->streaml);
		w->st.prefilter_hits += w->ncand;
		for (uint32_t i = 0; i < w->ncand; i++) {
			const struct dt_rule *r = d->rules[w->cand[i]];
			if (!r->stream)
				continue;
			if (r->mixed)
				check_rule(w, r, e); /* notes the match for the transaction */
			else
				w->scand[w->nscand++] = w->cand[i];
		}
		w->ncand = 0;
		data += n;
		len -= n;
		offset += n;
		if (len) {
			/* more than one chunk: the earlier ones are checked now,
			 * the next keeps a window of what came before */
			stream_run(w, e);
			uint32_t keep = e->sbl < SW_MAX ? e->sbl : SW_MAX;
			memmove(w->sbuf, w->sbuf + e->sbl - keep, keep);
			e->sstart = e->sstart && keep == e->sbl;
			wl = keep;
		}
	}
}

void om_detect_stream_end(om_detect_worker *w)
{
	if (!w || !w->spend->f)
		return;
	stream_run(w, w->spend);
	w->spend->f = NULL;
}

enum om_tx_verdict om_detect_tx(om_detect_worker *w, om_flow *f, const om_proto_tx *tx)
{
	if (!w || !f || !tx)
		return OM_TX_VERDICT_ACCEPT;
	const om_detect *d = w->d;
	w->st.txs++;
	int dir = tx->dir;
	struct ev e = {.f = f,
	               .tx = tx,
	               .dir = dir,
	               .src = dir == OM_DIR_TOSERVER ? &f->cli : &f->srv,
	               .dst = dir == OM_DIR_TOSERVER ? &f->srv : &f->cli,
	               .sp = dir == OM_DIR_TOSERVER ? f->cport : f->sport,
	               .dp = dir == OM_DIR_TOSERVER ? f->sport : f->cport,
	               .ipproto = f->proto,
	               .now = f->last,
	               .mode = EV_TX};
	new_round(w);
	int di = dir == OM_DIR_TOCLIENT;
	for (int b = 1; b < DT_NBUFS; b++) {
		if (!d->txneed[b])
			continue;
		for (uint32_t idx = 0; idx < MULTI_MAX; idx++) {
			uint32_t bl = 0;
			const uint8_t *p = om_tx_get(tx, (enum om_tx_buf)(b - 1), idx, &bl);
			if (!p)
				break;
			/* the rules without a fast pattern that need this buffer */
			if (idx == 0)
				cand_add(w, &d->txl[b][di]);
			scan(w, b, p, bl);
		}
	}
	/* transformed buffers: each value transformed once and scanned */
	for (uint32_t c = 0; c < d->nxpf; c++) {
		const struct dt_xpf *x = &d->xpf[c];
		for (uint32_t idx = 0; idx < MULTI_MAX; idx++) {
			uint32_t bl = 0;
			const uint8_t *p = om_tx_get(tx, (enum om_tx_buf)(x->buf - 1), idx, &bl);
			if (!p)
				break;
			p = xf_chain(w, x->x, x->n, p, &bl);
			scan_pf(w, &x->pf, p, bl);
		}
	}
	cand_add(w, &d->txl[0][di]);
	/* mixed rules whose payload part the stream matched */
	struct mk_slot *mk = mk_get(w, f, false);
	if (mk)
		mk_walk(w, mk, -1);
	/* each rule once per transaction: when its last direction is done */
	uint32_t o = 0;
	for (uint32_t i = 0; i < w->ncand; i++) {
		const struct dt_rule *r = d->rules[w->cand[i]];
		if (r->in_tx && r->tx_dir == dir)
			w->cand[o++] = w->cand[i];
	}
	w->ncand = o;
	run(w, &e, NULL, NULL);
	/* the stream matches waited for this transaction: they are used up */
	if (mk)
		mk_walk(w, mk, dir);
	return e.verdict;
}

/* ---- reload ------------------------------------------------------------------------------------
 */

#include <pthread.h>

struct om_detect_slot {
	pthread_mutex_t lock;
	om_detect *cur;
	unsigned refs;  /* workers holding cur */
	om_detect *old; /* swapped out, freed when its holders are done */
	unsigned oldrefs;
};

om_detect_slot *om_detect_slot_new(om_detect *first)
{
	om_detect_slot *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	pthread_mutex_init(&s->lock, NULL);
	s->cur = first;
	return s;
}

const om_detect *om_detect_slot_acquire(om_detect_slot *s)
{
	pthread_mutex_lock(&s->lock);
	const om_detect *d = s->cur;
	s->refs++;
	pthread_mutex_unlock(&s->lock);
	return d;
}

void om_detect_slot_release(om_detect_slot *s, const om_detect *d)
{
	pthread_mutex_lock(&s->lock);
	if (d == s->cur) {
		s->refs--;
	} else if (d == s->old && --s->oldrefs == 0) {
		om_detect_free(s->old);
		s->old = NULL;
	}
	pthread_mutex_unlock(&s->lock);
}

int om_detect_slot_swap(om_detect_slot *s, om_detect *d)
{
	pthread_mutex_lock(&s->lock);
	if (s->old) {
		/* the set before the current one is still in use */
		pthread_mutex_unlock(&s->lock);
		return -EBUSY;
	}
	if (s->refs == 0) {
		om_detect_free(s->cur);
	} else {
		s->old = s->cur;
		s->oldrefs = s->refs;
	}
	s->cur = d;
	s->refs = 0;
	pthread_mutex_unlock(&s->lock);
	return 0;
}

om_detect_slot *om_detect_slot_free(om_detect_slot *s)
{
	if (!s)
		return NULL;
	om_detect_free(s->cur);
	om_detect_free(s->old);
	pthread_mutex_destroy(&s->lock);
	free(s);
	return NULL;
}

/* ---- the hub: transactions from proto's observer to the engine's workers ------------------ */

#define HUB_MAX 64

struct om_detect_hub {
	const om_detect *d;
	om_detect_worker *w[HUB_MAX];
};

om_detect_hub *om_detect_hub_new(const om_detect *d)
{
	om_detect_hub *h = calloc(1, sizeof(*h));
	if (h)
		h->d = d;
	return h;
}

om_detect_hub *om_detect_hub_free(om_detect_hub *h)
{
	free(h);
	return NULL;
}

const om_detect *om_detect_hub_rules(const om_detect_hub *h)
{
	return h ? h->d : NULL;
}

void om_detect_hub_bind(om_detect_hub *h, unsigned index, om_detect_worker *w)
{
	if (h && index < HUB_MAX)
		h->w[index] = w;
}

/* The observer's context is the worker's cell, not the detect worker
 * itself: a reload binds a new detect worker into the cell (on the
 * worker's own thread, between two packets) and proto need not know. */
static void *hub_worker_new(void *user, unsigned index)
{
	om_detect_hub *h = user;
	return index < HUB_MAX ? &h->w[index] : NULL;
}

static enum om_tx_verdict hub_on_tx(void *wctx, om_flow *f, const om_proto_tx *tx)
{
	om_detect_worker *w = *(om_detect_worker **)wctx;
	return w ? om_detect_tx(w, f, tx) : OM_TX_VERDICT_ACCEPT;
}

int om_detect_attach(om_detect_hub *h, om_proto *p)
{
	om_proto_observer o = {.name = "detect",
	                       .worker_new = hub_worker_new,
	                       .worker_free = NULL,
	                       .on_tx = hub_on_tx,
	                       .user = h};
	return om_proto_add_observer(p, &o);
}
