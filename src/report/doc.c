/* doc: one document model (headings, paragraphs, bullets, tables, bar and
 * radar charts, page breaks) written as self-contained HTML or as an A4 PDF
 * (cairo + pango, Noto Sans CJK JP). The services build a document once
 * and choose the writer. Every string is copied into the document's arena
 * and cleaned on the way in (invalid UTF-8 becomes U+FFFD, control
 * characters other than newline and tab become spaces), so both writers
 * only ever see valid text. The design note is docs/doc.md. */
#include <cairo-pdf.h>
#include <cairo.h>
#include <errno.h>
#include <math.h>
#include <pango/pangocairo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report/internal.h"
#include "report/report.h"

/* Hard caps: a document is built by our own code, but its text may come
 * from users (scenario files, answers, scanned pages). */
#define DOC_MAX_BYTES (32u * 1024 * 1024) /* arena, all chunks */
#define DOC_CHUNK 65536u
#define DOC_MAX_BLOCKS 100000u
#define DOC_MAX_CELLS 200000u /* rows * cols of one table */
#define DOC_MAX_COLS 32u
#define DOC_MAX_BARS 1000u
#define DOC_RADAR_MIN 3u
#define DOC_RADAR_MAX 12u

enum blk_kind { B_HEADING, B_PARA, B_BULLET, B_TABLE, B_BARS, B_RADAR, B_BREAK };

struct blk {
	struct blk *next;
	enum blk_kind kind;
	int level;
	enum om_doc_mark mark;
	const char *text; /* heading, paragraph, bullet; the title of a chart */
	unsigned rows, cols, n;
	const char **cells; /* table: rows*cols; bars: labels; radar: axes */
	enum om_doc_mark *marks;
	double *values;  /* bars; radar series 1 */
	double *values2; /* radar series 2 or NULL */
	const char *unit, *name1, *name2;
	double max;
};

struct chunk {
	struct chunk *next;
	size_t used, cap;
	_Alignas(max_align_t) unsigned char data[];
};

struct om_doc {
	struct chunk *chunks;
	size_t total;
	struct blk *first, *last;
	unsigned nblocks;
	const char *title;
	enum om_lang lang;
	int err;       /* 0, -ENOMEM or -EINVAL: later calls are ignored */
	char what[64]; /* the call that was refused (-EINVAL) */
};

/* ---- arena -------------------------------------------------------------- */

static void *doc_alloc(om_doc *d, size_t n)
{
	if (d->err)
		return NULL;
	n = (n + 15) & ~(size_t)15;
	if (!d->chunks || d->chunks->cap - d->chunks->used < n) {
		size_t cap = n > DOC_CHUNK ? n : DOC_CHUNK;
		if (d->total + cap > DOC_MAX_BYTES) {
			d->err = -ENOMEM;
			return NULL;
		}
		struct chunk *c = malloc(sizeof(*c) + cap);
		if (!c) {
			d->err = -ENOMEM;
			return NULL;
		}
		c->used = 0;
		c->cap = cap;
		c->next = d->chunks;
		d->chunks = c;
		d->total += cap;
	}
	void *p = d->chunks->data + d->chunks->used;
	d->chunks->used += n;
	memset(p, 0, n);
	return p;
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if invalid. */
static size_t utf8_len(const unsigned char *s)
{
	unsigned c = s[0];
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
			return 0;
		if (c == 0xe0 && s[1] < 0xa0)
			return 0; /* overlong */
		if (c == 0xed && s[1] >= 0xa0)
			return 0; /* surrogates */
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 || (s[3] & 0xc0) != 0x80)
			return 0;
		if (c == 0xf0 && s[1] < 0x90)
			return 0;
		if (c == 0xf4 && s[1] >= 0x90)
			return 0;
		return 4;
	}
	return 0;
}

/* A cleaned copy of s (NULL is taken as ""). */
static const char *doc_str(om_doc *d, const char *s)
{
	if (!s)
		s = "";
	size_t n = strlen(s);
	if (n > DOC_MAX_BYTES / 3) {
		d->err = -ENOMEM;
		return NULL;
	}
	char *out = doc_alloc(d, n * 3 + 1); /* each bad byte may become 3 */
	if (!out)
		return NULL;
	size_t o = 0;
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		size_t l = utf8_len(p);
		if (l == 0) {
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
			p++;
		} else if (l == 1) {
			unsigned char c = *p++;
			out[o++] =
			    (c < 0x20 && c != '\n' && c != '\t') || c == 0x7f ? ' ' : (char)c;
		} else {
			memcpy(out + o, p, l);
			o += l;
			p += l;
		}
	}
	out[o] = 0;
	return out;
}

static struct blk *doc_block(om_doc *d, enum blk_kind kind)
{
	if (!d || d->err)
		return NULL;
	if (d->nblocks >= DOC_MAX_BLOCKS) {
		d->err = -ENOMEM;
		return NULL;
	}
	struct blk *b = doc_alloc(d, sizeof(*b));
	if (!b)
		return NULL;
	b->kind = kind;
	return b;
}

static void doc_link(om_doc *d, struct blk *b)
{
	if (d->err)
		return; /* a part of b failed: b is not shown */
	if (d->last)
		d->last->next = b;
	else
		d->first = b;
	d->last = b;
	d->nblocks++;
}

static void doc_invalid(om_doc *d, const char *what)
{
	if (!d || d->err)
		return;
	d->err = -EINVAL;
	snprintf(d->what, sizeof(d->what), "%s", what);
}

static bool mark_ok(enum om_doc_mark m)
{
	return (unsigned)m <= OM_DOC_DECIDE;
}

/* ---- building ----------------------------------------------------------- */

om_doc *om_doc_new(const char *title, enum om_lang lang)
{
	om_doc *d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->lang = (unsigned)lang < OM_LANG_COUNT ? lang : OM_LANG_JA;
	d->title = doc_str(d, title);
	return d;
}

om_doc *om_doc_free(om_doc *d)
{
	if (!d)
		return NULL;
	struct chunk *c = d->chunks;
	while (c) {
		struct chunk *n = c->next;
		free(c);
		c = n;
	}
	free(d);
	return NULL;
}

void om_doc_heading(om_doc *d, int level, const char *text)
{
	if (!d || d->err)
		return;
	if (level < 1 || level > 3) {
		doc_invalid(d, "om_doc_heading: level");
		return;
	}
	struct blk *b = doc_block(d, B_HEADING);
	if (!b)
		return;
	b->level = level;
	b->text = doc_str(d, text);
	doc_link(d, b);
}

static void doc_textblock(om_doc *d, enum blk_kind kind, enum om_doc_mark mark, const char *text,
                          const char *what)
{
	if (!d || d->err)
		return;
	if (!mark_ok(mark)) {
		doc_invalid(d, what);
		return;
	}
	struct blk *b = doc_block(d, kind);
	if (!b)
		return;
	b->mark = mark;
	b->text = doc_str(d, text);
	doc_link(d, b);
}

void om_doc_para(om_doc *d, enum om_doc_mark mark, const char *text)
{
	doc_textblock(d, B_PARA, mark, text, "om_doc_para: mark");
}

void om_doc_bullet(om_doc *d, enum om_doc_mark mark, const char *text)
{
	doc_textblock(d, B_BULLET, mark, text, "om_doc_bullet: mark");
}

void om_doc_table(om_doc *d, unsigned rows, unsigned cols, const char *const *cells,
                  const enum om_doc_mark *marks)
{
	if (!d || d->err)
		return;
	if (rows < 1 || cols < 1 || cols > DOC_MAX_COLS || !cells) {
		doc_invalid(d, "om_doc_table: rows, cols or cells");
		return;
	}
	if ((uint64_t)rows * cols > DOC_MAX_CELLS) {
		d->err = -ENOMEM;
		return;
	}
	size_t n = (size_t)rows * cols;
	if (marks) {
		for (size_t i = 0; i < n; i++) {
			if (!mark_ok(marks[i])) {
				doc_invalid(d, "om_doc_table: marks");
				return;
			}
		}
	}
	struct blk *b = doc_block(d, B_TABLE);
	if (!b)
		return;
	b->rows = rows;
	b->cols = cols;
	b->cells = doc_alloc(d, n * sizeof(*b->cells));
	b->marks = doc_alloc(d, n * sizeof(*b->marks));
	if (!b->cells || !b->marks)
		return;
	for (size_t i = 0; i < n; i++) {
		b->cells[i] = doc_str(d, cells[i]);
		b->marks[i] = marks ? marks[i] : OM_DOC_PLAIN;
	}
	doc_link(d, b);
}

static bool values_ok(const double *v, unsigned n, double lo, double hi)
{
	for (unsigned i = 0; i < n; i++) {
		if (!isfinite(v[i]) || v[i] < lo || v[i] > hi)
			return false;
	}
	return true;
}

void om_doc_bars(om_doc *d, const char *title, unsigned n, const char *const *labels,
                 const double *values, const char *unit)
{
	if (!d || d->err)
		return;
	if (n > DOC_MAX_BARS || (n > 0 && (!labels || !values)) ||
	    (n > 0 && !values_ok(values, n, 0, 1e300))) {
		doc_invalid(d, "om_doc_bars: n, labels or values");
		return;
	}
	struct blk *b = doc_block(d, B_BARS);
	if (!b)
		return;
	b->n = n;
	b->text = doc_str(d, title);
	b->unit = doc_str(d, unit);
	b->cells = doc_alloc(d, (n ? n : 1) * sizeof(*b->cells));
	b->values = doc_alloc(d, (n ? n : 1) * sizeof(*b->values));
	if (!b->cells || !b->values)
		return;
	for (unsigned i = 0; i < n; i++) {
		b->cells[i] = doc_str(d, labels[i]);
		b->values[i] = values[i];
	}
	doc_link(d, b);
}

static bool radar_args_ok(unsigned n, const char *const *axes, double max, const double *s1,
                          const double *s2)
{
	if (n < DOC_RADAR_MIN || n > DOC_RADAR_MAX || !axes || !s1)
		return false;
	if (!isfinite(max) || max <= 0)
		return false;
	return values_ok(s1, n, 0, max) && (!s2 || values_ok(s2, n, 0, max));
}

void om_doc_radar(om_doc *d, const char *title, unsigned n, const char *const *axes, double max,
                  const double *series1, const char *name1, const double *series2,
                  const char *name2)
{
	if (!d || d->err)
		return;
	if (!radar_args_ok(n, axes, max, series1, series2)) {
		doc_invalid(d, "om_doc_radar: n, axes, max or series");
		return;
	}
	struct blk *b = doc_block(d, B_RADAR);
	if (!b)
		return;
	b->n = n;
	b->max = max;
	b->text = doc_str(d, title);
	b->name1 = doc_str(d, name1);
	b->name2 = series2 ? doc_str(d, name2) : NULL;
	b->cells = doc_alloc(d, n * sizeof(*b->cells));
	b->values = doc_alloc(d, n * sizeof(double));
	b->values2 = series2 ? doc_alloc(d, n * sizeof(double)) : NULL;
	if (!b->cells || !b->values || (series2 && !b->values2))
		return;
	for (unsigned i = 0; i < n; i++) {
		b->cells[i] = doc_str(d, axes[i]);
		b->values[i] = series1[i];
		if (series2)
			b->values2[i] = series2[i];
	}
	doc_link(d, b);
}

void om_doc_pagebreak(om_doc *d)
{
	struct blk *b = doc_block(d, B_BREAK);
	if (b)
		doc_link(d, b);
}

/* ---- shared helpers ----------------------------------------------------- */

static void set_err(char *err, size_t errlen, const char *fmt, ...) OM_PRINTF(3, 4);
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || errlen == 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* The document's own failure, as the writers report it. */
static int doc_failed(const om_doc *d, char *err, size_t errlen)
{
	if (!d) {
		set_err(err, errlen, "%s", om_msg(om_lang_thread(), "report.doc.error.nomem"));
		return -ENOMEM;
	}
	if (d->err == -EINVAL)
		set_err(err, errlen, om_msg(d->lang, "report.doc.error.invalid"), d->what);
	else
		set_err(err, errlen, "%s", om_msg(d->lang, "report.doc.error.nomem"));
	return d->err;
}

/* A number as text: whole numbers with thousands separators, others with
 * one decimal. */
static void fmt_value(double v, char *buf, size_t n)
{
	if (v < 1e15 && v == floor(v)) {
		char tmp[32];
		int len = snprintf(tmp, sizeof(tmp), "%.0f", v);
		size_t o = 0;
		for (int i = 0; i < len && o + 2 < n; i++) {
			if (i > 0 && (len - i) % 3 == 0)
				buf[o++] = ',';
			buf[o++] = tmp[i];
		}
		buf[o] = 0;
	} else {
		snprintf(buf, n, "%.1f", v);
	}
}

/* ---- HTML --------------------------------------------------------------- */

static const char html_css[] =
    "body{font-family:\"Noto Sans CJK JP\",\"Hiragino Sans\",\"Yu Gothic\",Meiryo,sans-serif;"
    "color:#1f2933;background:#fff;margin:0;line-height:1.6}"
    "main{max-width:52em;margin:0 auto;padding:1.5em}"
    "h1{font-size:1.7em;border-bottom:3px solid #2f6fb3;padding-bottom:.2em}"
    "h2{font-size:1.35em;margin-top:1.6em;border-bottom:1px solid #c3cad6}"
    "h3{font-size:1.15em;margin-top:1.3em}h4{font-size:1em;margin-top:1.1em}"
    "p{margin:.6em 0}ul{padding-left:1.4em}"
    "table{border-collapse:collapse;margin:.8em 0;width:100%}"
    "th,td{border:1px solid #c3cad6;padding:.3em .5em;text-align:left;vertical-align:top}"
    "th{background:#eef1f6}"
    ".m-good{color:#1e7b3a}.m-warn{color:#9a6200}.m-bad{color:#b42318}"
    ".m-decide{background:#fff3a3;outline:1px dashed #b89b00}"
    "td.m-good{background:#e6f4ea}td.m-warn{background:#fdf1dc}td.m-bad{background:#fde8e6}"
    "figure{margin:1em 0}figcaption{font-weight:bold;margin-bottom:.3em}"
    "svg{max-width:100%;height:auto}"
    ".pb{height:0}@media print{.pb{break-after:page}main{max-width:none}}";

static const char *mark_class(enum om_doc_mark m)
{
	switch (m) {
	case OM_DOC_GOOD: return "m-good";
	case OM_DOC_WARN: return "m-warn";
	case OM_DOC_BAD: return "m-bad";
	case OM_DOC_DECIDE: return "m-decide";
	default: return NULL;
	}
}

static void put_class(om_buf *b, enum om_doc_mark m)
{
	const char *c = mark_class(m);
	if (c)
		om_buf_printf(b, " class=\"%s\"", c);
}

/* Escaped text with newlines as <br>. */
static void put_text(om_buf *b, const char *s)
{
	const char *nl;
	while ((nl = strchr(s, '\n'))) {
		char tmp[1024];
		size_t n = (size_t)(nl - s);
		while (n > 0) { /* escape piecewise: lines may be long */
			size_t k = n < sizeof(tmp) - 1 ? n : sizeof(tmp) - 1;
			memcpy(tmp, s, k);
			tmp[k] = 0;
			om_buf_put_html(b, tmp);
			s += k;
			n -= k;
		}
		om_buf_puts(b, "<br>");
		s = nl + 1;
	}
	om_buf_put_html(b, s);
}

static void svg_bars(om_buf *b, const struct blk *k)
{
	const int w = 640, row = 38, bar_w = 480;
	int h = (int)k->n * row + 8;
	double max = 0;
	for (unsigned i = 0; i < k->n; i++)
		max = k->values[i] > max ? k->values[i] : max;
	om_buf_printf(b,
	              "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
	              "width=\"%d\" height=\"%d\" role=\"img\" aria-label=\"",
	              w, h, w, h);
	om_buf_put_html(b, k->text);
	om_buf_puts(b, "\">\n");
	for (unsigned i = 0; i < k->n; i++) {
		int y = (int)i * row;
		double len = max > 0 ? k->values[i] / max * bar_w : 0;
		char v[48];
		fmt_value(k->values[i], v, sizeof(v));
		om_buf_printf(b, "<text x=\"0\" y=\"%d\" font-size=\"13\" fill=\"#1f2933\">",
		              y + 14);
		om_buf_put_html(b, k->cells[i]);
		om_buf_printf(b,
		              "</text><rect x=\"0\" y=\"%d\" width=\"%.1f\" height=\"14\" "
		              "fill=\"#2f6fb3\"/><text x=\"%.1f\" y=\"%d\" font-size=\"12\" "
		              "fill=\"#4a5568\">",
		              y + 19, len < 1 && k->values[i] > 0 ? 1.0 : len, len + 6, y + 31);
		om_buf_put_html(b, v);
		om_buf_put_html(b, k->unit);
		om_buf_puts(b, "</text>\n");
	}
	om_buf_puts(b, "</svg>\n");
}

/* Radar geometry shared by SVG and PDF: the point of axis i at value v. */
static void radar_point(unsigned n, unsigned i, double r, double cx, double cy, double *x,
                        double *y)
{
	double a = -M_PI / 2 + 2 * M_PI * i / n;
	*x = cx + r * cos(a);
	*y = cy + r * sin(a);
}

static void svg_series(om_buf *b, unsigned n, const double *v, double max, double cx, double cy,
                       double r, const char *colour, bool dashed)
{
	om_buf_puts(b, "<polygon points=\"");
	for (unsigned i = 0; i < n; i++) {
		double x, y;
		radar_point(n, i, r * v[i] / max, cx, cy, &x, &y);
		om_buf_printf(b, "%s%.1f,%.1f", i ? " " : "", x, y);
	}
	om_buf_printf(
	    b, "\" fill=\"%s\" fill-opacity=\"%s\" stroke=\"%s\" stroke-width=\"2\"%s/>\n", colour,
	    dashed ? "0.08" : "0.25", colour, dashed ? " stroke-dasharray=\"6 4\"" : "");
}

static void svg_radar(om_buf *b, const char *title, unsigned n, const char *const *axes, double max,
                      const double *s1, const char *name1, const double *s2, const char *name2)
{
	const double w = 520, cx = 260, cy = 220, r = 150;
	double h = 470;
	om_buf_printf(b,
	              "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %.0f %.0f\" "
	              "width=\"%.0f\" height=\"%.0f\" role=\"img\"",
	              w, h, w, h);
	if (title && *title) {
		om_buf_puts(b, " aria-label=\"");
		om_buf_put_html(b, title);
		om_buf_puts(b, "\"");
	}
	om_buf_puts(b, ">\n");
	for (int ring = 1; ring <= 5; ring++) {
		om_buf_puts(b, "<polygon points=\"");
		for (unsigned i = 0; i < n; i++) {
			double x, y;
			radar_point(n, i, r * ring / 5, cx, cy, &x, &y);
			om_buf_printf(b, "%s%.1f,%.1f", i ? " " : "", x, y);
		}
		om_buf_puts(b, "\" fill=\"none\" stroke=\"#d5dbe5\" stroke-width=\"1\"/>\n");
	}
	for (unsigned i = 0; i < n; i++) {
		double x, y, lx, ly;
		radar_point(n, i, r, cx, cy, &x, &y);
		radar_point(n, i, r + 14, cx, cy, &lx, &ly);
		const char *anchor = lx < cx - 5 ? "end" : lx > cx + 5 ? "start" : "middle";
		om_buf_printf(b,
		              "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
		              "stroke=\"#b0b8c6\" stroke-width=\"1\"/>\n"
		              "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\" fill=\"#1f2933\" "
		              "text-anchor=\"%s\">",
		              cx, cy, x, y, lx,
		              ly + (ly > cy + 5   ? 12
		                    : ly < cy - 5 ? -2
		                                  : 4),
		              anchor);
		om_buf_put_html(b, axes[i]);
		om_buf_puts(b, "</text>\n");
	}
	if (s2)
		svg_series(b, n, s2, max, cx, cy, r, "#8a94a6", true);
	svg_series(b, n, s1, max, cx, cy, r, "#2f6fb3", false);
	/* legend */
	double ly = h - 22;
	om_buf_printf(b,
	              "<rect x=\"20\" y=\"%.0f\" width=\"18\" height=\"4\" fill=\"#2f6fb3\"/>"
	              "<text x=\"44\" y=\"%.0f\" font-size=\"12\" fill=\"#1f2933\">",
	              ly - 4, ly + 1);
	om_buf_put_html(b, name1 ? name1 : "");
	om_buf_puts(b, "</text>\n");
	if (s2) {
		om_buf_printf(
		    b,
		    "<line x1=\"260\" y1=\"%.0f\" x2=\"278\" y2=\"%.0f\" stroke=\"#8a94a6\" "
		    "stroke-width=\"2\" stroke-dasharray=\"6 4\"/>"
		    "<text x=\"284\" y=\"%.0f\" font-size=\"12\" fill=\"#1f2933\">",
		    ly - 2, ly - 2, ly + 1);
		om_buf_put_html(b, name2 ? name2 : "");
		om_buf_puts(b, "</text>\n");
	}
	om_buf_puts(b, "</svg>\n");
}

int om_doc_radar_svg(unsigned n, const char *const *axes, double max, const double *series1,
                     const char *name1, const double *series2, const char *name2, om_buf *out)
{
	if (!out || !radar_args_ok(n, axes, max, series1, series2))
		return -EINVAL;
	/* the axis and series names go through the same cleaning as documents */
	om_doc *d = om_doc_new("", OM_LANG_EN);
	if (!d)
		return -ENOMEM;
	om_doc_radar(d, "", n, axes, max, series1, name1, series2, name2);
	int r = d->err;
	if (r == 0) {
		const struct blk *k = d->first;
		size_t before = out->len;
		svg_radar(out, NULL, k->n, k->cells, k->max, k->values, k->name1, k->values2,
		          k->name2);
		if (out->toobig) {
			out->len = before;
			r = -ENOBUFS;
		}
	}
	om_doc_free(d);
	return r;
}

int om_doc_html(const om_doc *d, om_buf *out, char *err, size_t errlen)
{
	if (!d || d->err)
		return doc_failed(d, err, errlen);
	if (!out) {
		set_err(err, errlen, "om_doc_html: no output buffer");
		return -EINVAL;
	}
	size_t before = out->len;
	om_buf *b = out;
	om_buf_printf(b, "<!DOCTYPE html>\n<html lang=\"%s\">\n<head>\n<meta charset=\"utf-8\">\n",
	              om_lang_name(d->lang));
	om_buf_puts(b, "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	               "<title>");
	om_buf_put_html(b, d->title);
	om_buf_printf(b, "</title>\n<style>%s</style>\n</head>\n<body>\n<main>\n<h1>", html_css);
	om_buf_put_html(b, d->title);
	om_buf_puts(b, "</h1>\n");
	bool in_list = false;
	for (const struct blk *k = d->first; k; k = k->next) {
		if (k->kind != B_BULLET && in_list) {
			om_buf_puts(b, "</ul>\n");
			in_list = false;
		}
		switch (k->kind) {
		case B_HEADING:
			om_buf_printf(b, "<h%d>", k->level + 1);
			put_text(b, k->text);
			om_buf_printf(b, "</h%d>\n", k->level + 1);
			break;
		case B_PARA:
			om_buf_puts(b, "<p");
			put_class(b, k->mark);
			om_buf_puts(b, ">");
			put_text(b, k->text);
			om_buf_puts(b, "</p>\n");
			break;
		case B_BULLET:
			if (!in_list) {
				om_buf_puts(b, "<ul>\n");
				in_list = true;
			}
			om_buf_puts(b, "<li");
			put_class(b, k->mark);
			om_buf_puts(b, ">");
			put_text(b, k->text);
			om_buf_puts(b, "</li>\n");
			break;
		case B_TABLE:
			om_buf_puts(b, "<table>\n<thead><tr>");
			for (unsigned c = 0; c < k->cols; c++) {
				om_buf_puts(b, "<th scope=\"col\"");
				put_class(b, k->marks[c]);
				om_buf_puts(b, ">");
				put_text(b, k->cells[c]);
				om_buf_puts(b, "</th>");
			}
			om_buf_puts(b, "</tr></thead>\n<tbody>\n");
			for (unsigned r = 1; r < k->rows; r++) {
				om_buf_puts(b, "<tr>");
				for (unsigned c = 0; c < k->cols; c++) {
					size_t i = (size_t)r * k->cols + c;
					om_buf_puts(b, "<td");
					put_class(b, k->marks[i]);
					om_buf_puts(b, ">");
					put_text(b, k->cells[i]);
					om_buf_puts(b, "</td>");
				}
				om_buf_puts(b, "</tr>\n");
			}
			om_buf_puts(b, "</tbody>\n</table>\n");
			break;
		case B_BARS:
			om_buf_puts(b, "<figure class=\"bars\">\n<figcaption>");
			put_text(b, k->text);
			om_buf_puts(b, "</figcaption>\n");
			svg_bars(b, k);
			om_buf_puts(b, "</figure>\n");
			break;
		case B_RADAR:
			om_buf_puts(b, "<figure class=\"radar\">\n<figcaption>");
			put_text(b, k->text);
			om_buf_puts(b, "</figcaption>\n");
			svg_radar(b, k->text, k->n, k->cells, k->max, k->values, k->name1,
			          k->values2, k->name2);
			om_buf_puts(b, "</figure>\n");
			break;
		case B_BREAK: om_buf_puts(b, "<div class=\"pb\"></div>\n"); break;
		}
	}
	if (in_list)
		om_buf_puts(b, "</ul>\n");
	om_buf_puts(b, "</main>\n</body>\n</html>\n");
	if (out->toobig) {
		out->len = before;
		if (out->data)
			out->data[before] = 0;
		set_err(err, errlen, "%s", om_msg(d->lang, "report.doc.error.too_big"));
		return -ENOBUFS;
	}
	return 0;
}

/* ---- PDF ---------------------------------------------------------------- */

#define PT_PER_MM (72.0 / 25.4)
#define A4_W (210 * PT_PER_MM)
#define A4_H (297 * PT_PER_MM)
#define MARGIN (18 * PT_PER_MM)
#define CONTENT_W (A4_W - 2 * MARGIN)
#define BOTTOM (A4_H - MARGIN)
#define FONT_FAMILY "Noto Sans CJK JP"

struct pdf {
	cairo_t *cr;
	PangoContext *ctx;
	double y;
	int page;
	bool page_empty; /* nothing drawn on this page yet */
	bool ja;         /* Japanese: lines break between phrases only */
};

/* Japanese: pango (UAX #14) may break between any two kana or kanji and so
 * splits words in a narrow box; forbid breaks inside each phrase of
 * om_text_break_ok (phrase.c). A phrase longer than 72 bytes (24 kana or
 * kanji) keeps pango's breaks, so that a run without any phrase boundary
 * still fits. */
static void pdf_phrases(PangoLayout *l, const char *text)
{
	size_t len = strlen(text), from = 0;
	PangoAttrList *al = pango_attr_list_new();
	for (size_t i = 1; i <= len; i++) {
		if (i < len && !om_text_break_ok(text, len, i))
			continue;
		if (i - from > 3 && i - from <= 72) {
			PangoAttribute *a = pango_attr_allow_breaks_new(FALSE);
			a->start_index = (guint)from;
			a->end_index = (guint)i;
			pango_attr_list_insert(al, a);
		}
		from = i;
	}
	pango_layout_set_attributes(l, al);
	pango_attr_list_unref(al);
}

struct rgb {
	double r, g, b;
};
static const struct rgb c_text = {0.12, 0.16, 0.2}, c_rule = {0.76, 0.79, 0.84},
                        c_blue = {0.18, 0.44, 0.70}, c_grey = {0.54, 0.58, 0.65},
                        c_head = {0.93, 0.95, 0.965};

static void set_rgb(cairo_t *cr, struct rgb c)
{
	cairo_set_source_rgb(cr, c.r, c.g, c.b);
}

static struct rgb mark_text(enum om_doc_mark m)
{
	switch (m) {
	case OM_DOC_GOOD: return (struct rgb){0.12, 0.48, 0.23};
	case OM_DOC_WARN: return (struct rgb){0.60, 0.38, 0.0};
	case OM_DOC_BAD: return (struct rgb){0.71, 0.14, 0.09};
	default: return c_text;
	}
}

static bool mark_fill(enum om_doc_mark m, struct rgb *ret)
{
	switch (m) {
	case OM_DOC_GOOD: *ret = (struct rgb){0.90, 0.96, 0.92}; return true;
	case OM_DOC_WARN: *ret = (struct rgb){0.99, 0.945, 0.86}; return true;
	case OM_DOC_BAD: *ret = (struct rgb){0.99, 0.91, 0.90}; return true;
	case OM_DOC_DECIDE: *ret = (struct rgb){1.0, 0.95, 0.64}; return true;
	default: return false;
	}
}

static PangoLayout *pdf_layout(struct pdf *p, const char *text, double size, bool bold,
                               double width)
{
	PangoLayout *l = pango_layout_new(p->ctx);
	PangoFontDescription *fd = pango_font_description_new();
	pango_font_description_set_family(fd, FONT_FAMILY);
	pango_font_description_set_absolute_size(fd, size * PANGO_SCALE);
	pango_font_description_set_weight(fd, bold ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL);
	pango_layout_set_font_description(l, fd);
	pango_font_description_free(fd);
	if (width > 0) {
		pango_layout_set_width(l, (int)(width * PANGO_SCALE));
		pango_layout_set_wrap(l, PANGO_WRAP_WORD_CHAR);
	}
	pango_layout_set_text(l, text, -1);
	if (p->ja && width > 0)
		pdf_phrases(l, text);
	return l;
}

static double layout_h(PangoLayout *l)
{
	int w, h;
	pango_layout_get_size(l, &w, &h);
	return (double)h / PANGO_SCALE;
}

static double layout_w(PangoLayout *l)
{
	int w, h;
	pango_layout_get_size(l, &w, &h);
	return (double)w / PANGO_SCALE;
}

static void pdf_footer(struct pdf *p)
{
	char num[16];
	snprintf(num, sizeof(num), "%d", p->page);
	PangoLayout *l = pdf_layout(p, num, 8, false, 0);
	set_rgb(p->cr, c_grey);
	cairo_move_to(p->cr, (A4_W - layout_w(l)) / 2, A4_H - MARGIN / 2 - layout_h(l) / 2);
	pango_cairo_show_layout(p->cr, l);
	g_object_unref(l);
}

static void pdf_new_page(struct pdf *p)
{
	pdf_footer(p);
	cairo_show_page(p->cr);
	p->page++;
	p->y = MARGIN;
	p->page_empty = true;
}

/* Makes room for h points, starting a new page if this one has too little
 * (a block taller than a page is started at the top of one). */
static void pdf_need(struct pdf *p, double h)
{
	if (p->y + h > BOTTOM && !p->page_empty)
		pdf_new_page(p);
	p->page_empty = false;
}

/* Draws a layout line by line at x, breaking pages between lines. */
static void pdf_lines(struct pdf *p, PangoLayout *l, double x, struct rgb colour,
                      const struct rgb *fill)
{
	PangoLayoutIter *it = pango_layout_get_iter(l);
	do {
		PangoRectangle lg;
		pango_layout_iter_get_line_extents(it, NULL, &lg);
		double top = (double)lg.y / PANGO_SCALE;
		double lh = (double)lg.height / PANGO_SCALE;
		double base = (double)pango_layout_iter_get_baseline(it) / PANGO_SCALE - top;
		pdf_need(p, lh);
		PangoLayoutLine *line = pango_layout_iter_get_line_readonly(it);
		if (fill) {
			set_rgb(p->cr, *fill);
			cairo_rectangle(p->cr, x - 3, p->y, (double)lg.width / PANGO_SCALE + 6, lh);
			cairo_fill(p->cr);
		}
		set_rgb(p->cr, colour);
		cairo_move_to(p->cr, x + (double)lg.x / PANGO_SCALE, p->y + base);
		pango_cairo_show_layout_line(p->cr, line);
		p->y += lh;
	} while (pango_layout_iter_next_line(it));
	pango_layout_iter_free(it);
}

static void pdf_text(struct pdf *p, const struct blk *k, double indent, double gap_after)
{
	PangoLayout *l = pdf_layout(p, k->text, 10.5, false, CONTENT_W - indent);
	struct rgb fill;
	bool has_fill = k->mark == OM_DOC_DECIDE && mark_fill(k->mark, &fill);
	if (indent > 0) {
		/* the bullet goes with the first line */
		PangoLayoutIter *it = pango_layout_get_iter(l);
		PangoRectangle lg;
		pango_layout_iter_get_line_extents(it, NULL, &lg);
		pango_layout_iter_free(it);
		if (p->y + (double)lg.height / PANGO_SCALE > BOTTOM && !p->page_empty)
			pdf_new_page(p);
		PangoLayout *dot = pdf_layout(p, "\xe2\x80\xa2", 10.5, false, 0);
		set_rgb(p->cr, mark_text(k->mark));
		cairo_move_to(p->cr, MARGIN + 4, p->y);
		pango_cairo_show_layout(p->cr, dot);
		g_object_unref(dot);
	}
	pdf_lines(p, l, MARGIN + indent, mark_text(k->mark), has_fill ? &fill : NULL);
	g_object_unref(l);
	p->y += gap_after;
}

static void pdf_heading(struct pdf *p, const struct blk *k)
{
	static const double size[] = {0, 16, 13, 11.5};
	PangoLayout *l = pdf_layout(p, k->text, size[k->level], true, CONTENT_W);
	double h = layout_h(l);
	if (!p->page_empty)
		p->y += size[k->level] * 0.8;
	/* keep the heading with about three lines of what follows */
	if (p->y + h + 45 > BOTTOM && !p->page_empty)
		pdf_new_page(p);
	pdf_lines(p, l, MARGIN, k->level == 1 ? c_blue : c_text, NULL);
	g_object_unref(l);
	if (k->level == 1) {
		set_rgb(p->cr, c_rule);
		cairo_set_line_width(p->cr, 0.8);
		cairo_move_to(p->cr, MARGIN, p->y + 2);
		cairo_line_to(p->cr, MARGIN + CONTENT_W, p->y + 2);
		cairo_stroke(p->cr);
		p->y += 4;
	}
	p->y += 5;
}

#define CELL_PAD 4.0
#define TABLE_SIZE 9.5

/* Column widths: every column gets a floor, the rest goes by how wide each
 * column's text wants to be. */
static void table_widths(struct pdf *p, const struct blk *k, double *w)
{
	double want[DOC_MAX_COLS], sum = 0;
	for (unsigned c = 0; c < k->cols; c++) {
		want[c] = 10;
		for (unsigned r = 0; r < k->rows && r < 200; r++) {
			PangoLayout *l =
			    pdf_layout(p, k->cells[(size_t)r * k->cols + c], TABLE_SIZE, r == 0, 0);
			double lw = layout_w(l);
			g_object_unref(l);
			want[c] = lw > want[c] ? lw : want[c];
		}
		if (want[c] > CONTENT_W * 0.6)
			want[c] = CONTENT_W * 0.6;
		want[c] += 2 * CELL_PAD;
		sum += want[c];
	}
	double floor_w = CONTENT_W * 0.4 / k->cols;
	double rest = CONTENT_W - floor_w * k->cols;
	for (unsigned c = 0; c < k->cols; c++)
		w[c] = floor_w + rest * want[c] / sum;
}

/* One row: returns its height; draws it at p->y when draw. */
static double table_row(struct pdf *p, const struct blk *k, unsigned r, const double *w, bool draw)
{
	PangoLayout *ls[DOC_MAX_COLS];
	double h = 0;
	for (unsigned c = 0; c < k->cols; c++) {
		ls[c] = pdf_layout(p, k->cells[(size_t)r * k->cols + c], TABLE_SIZE, r == 0,
		                   w[c] - 2 * CELL_PAD);
		double lh = layout_h(ls[c]);
		h = lh > h ? lh : h;
	}
	h += 2 * CELL_PAD;
	double x = MARGIN;
	for (unsigned c = 0; c < k->cols; c++) {
		if (draw) {
			enum om_doc_mark m = k->marks[(size_t)r * k->cols + c];
			struct rgb fill;
			bool filled = mark_fill(m, &fill);
			if (!filled && r == 0) {
				fill = c_head;
				filled = true;
			}
			if (filled) {
				set_rgb(p->cr, fill);
				cairo_rectangle(p->cr, x, p->y, w[c], h);
				cairo_fill(p->cr);
			}
			set_rgb(p->cr, c_rule);
			cairo_set_line_width(p->cr, 0.6);
			cairo_rectangle(p->cr, x, p->y, w[c], h);
			cairo_stroke(p->cr);
			set_rgb(p->cr, mark_text(m));
			cairo_move_to(p->cr, x + CELL_PAD, p->y + CELL_PAD);
			pango_cairo_show_layout(p->cr, ls[c]);
		}
		x += w[c];
		g_object_unref(ls[c]);
	}
	return h;
}

static void pdf_table(struct pdf *p, const struct blk *k)
{
	double w[DOC_MAX_COLS];
	table_widths(p, k, w);
	double head_h = table_row(p, k, 0, w, false);
	p->y += 4;
	/* the header and the first row together */
	double first_h = k->rows > 1 ? table_row(p, k, 1, w, false) : 0;
	pdf_need(p, head_h + first_h);
	p->y += table_row(p, k, 0, w, true);
	for (unsigned r = 1; r < k->rows; r++) {
		double h = table_row(p, k, r, w, false);
		if (p->y + h > BOTTOM) {
			/* the table goes on: a new page, the header again */
			pdf_new_page(p);
			p->page_empty = false;
			p->y += table_row(p, k, 0, w, true);
		}
		/* a row taller than a whole page is cut at the page's foot */
		p->y += table_row(p, k, r, w, true);
	}
	p->y += 8;
}

static void pdf_caption(struct pdf *p, const char *text, double keep)
{
	PangoLayout *l = pdf_layout(p, text, 11, true, CONTENT_W);
	double h = layout_h(l);
	if (!p->page_empty)
		p->y += 6;
	pdf_need(p, h + keep);
	set_rgb(p->cr, c_text);
	cairo_move_to(p->cr, MARGIN, p->y);
	pango_cairo_show_layout(p->cr, l);
	g_object_unref(l);
	p->y += h + 4;
}

static void pdf_bars(struct pdf *p, const struct blk *k)
{
	double max = 0;
	for (unsigned i = 0; i < k->n; i++)
		max = k->values[i] > max ? k->values[i] : max;
	const double bar_max = CONTENT_W * 0.75, bar_h = 9;
	pdf_caption(p, k->text, k->n ? 34 : 0);
	for (unsigned i = 0; i < k->n; i++) {
		PangoLayout *l = pdf_layout(p, k->cells[i], 9.5, false, CONTENT_W);
		double lh = layout_h(l);
		pdf_need(p, lh + bar_h + 6);
		set_rgb(p->cr, c_text);
		cairo_move_to(p->cr, MARGIN, p->y);
		pango_cairo_show_layout(p->cr, l);
		g_object_unref(l);
		p->y += lh + 1;
		double len = max > 0 ? k->values[i] / max * bar_max : 0;
		if (len < 1 && k->values[i] > 0)
			len = 1;
		set_rgb(p->cr, c_blue);
		cairo_rectangle(p->cr, MARGIN, p->y, len, bar_h);
		cairo_fill(p->cr);
		char v[48], vt[512];
		fmt_value(k->values[i], v, sizeof(v));
		snprintf(vt, sizeof(vt), "%s%s", v, k->unit);
		PangoLayout *vl = pdf_layout(p, vt, 8.5, false, 0);
		set_rgb(p->cr, c_grey);
		cairo_move_to(p->cr, MARGIN + len + 5, p->y + bar_h / 2 - layout_h(vl) / 2);
		pango_cairo_show_layout(p->cr, vl);
		g_object_unref(vl);
		p->y += bar_h + 5;
	}
	p->y += 6;
}

static void pdf_radar(struct pdf *p, const struct blk *k)
{
	const double r = 105, size = 2 * r + 80, legend = 20;
	pdf_caption(p, k->text, size + legend);
	cairo_t *cr = p->cr;
	double cx = MARGIN + CONTENT_W / 2, cy = p->y + r + 36;
	cairo_set_line_width(cr, 0.6);
	for (int ring = 1; ring <= 5; ring++) {
		for (unsigned i = 0; i < k->n; i++) {
			double x, y;
			radar_point(k->n, i, r * ring / 5, cx, cy, &x, &y);
			if (i == 0)
				cairo_move_to(cr, x, y);
			else
				cairo_line_to(cr, x, y);
		}
		cairo_close_path(cr);
		cairo_set_source_rgb(cr, 0.84, 0.86, 0.9);
		cairo_stroke(cr);
	}
	for (unsigned i = 0; i < k->n; i++) {
		double x, y, lx, ly;
		radar_point(k->n, i, r, cx, cy, &x, &y);
		cairo_move_to(cr, cx, cy);
		cairo_line_to(cr, x, y);
		cairo_set_source_rgb(cr, 0.69, 0.72, 0.78);
		cairo_stroke(cr);
		radar_point(k->n, i, r + 8, cx, cy, &lx, &ly);
		PangoLayout *l = pdf_layout(p, k->cells[i], 8.5, false, 110);
		double lw = layout_w(l), lh = layout_h(l);
		if (lx < cx - 5)
			lx -= lw;
		else if (lx <= cx + 5)
			lx -= lw / 2;
		if (ly < cy - 5)
			ly -= lh;
		else if (ly <= cy + 5)
			ly -= lh / 2;
		set_rgb(cr, c_text);
		cairo_move_to(cr, lx, ly);
		pango_cairo_show_layout(cr, l);
		g_object_unref(l);
	}
	for (int s = 1; s >= 0; s--) {
		const double *v = s ? k->values2 : k->values;
		if (!v)
			continue;
		for (unsigned i = 0; i < k->n; i++) {
			double x, y;
			radar_point(k->n, i, r * v[i] / k->max, cx, cy, &x, &y);
			if (i == 0)
				cairo_move_to(cr, x, y);
			else
				cairo_line_to(cr, x, y);
		}
		cairo_close_path(cr);
		struct rgb c = s ? c_grey : c_blue;
		cairo_set_source_rgba(cr, c.r, c.g, c.b, s ? 0.08 : 0.25);
		cairo_fill_preserve(cr);
		set_rgb(cr, c);
		cairo_set_line_width(cr, 1.6);
		double dash[] = {5, 3};
		cairo_set_dash(cr, dash, s ? 2 : 0, 0);
		cairo_stroke(cr);
		cairo_set_dash(cr, NULL, 0, 0);
	}
	p->y += size;
	/* legend */
	double x = MARGIN;
	for (int s = 0; s < 2; s++) {
		const char *name = s ? k->name2 : k->name1;
		if (s && !k->values2)
			break;
		struct rgb c = s ? c_grey : c_blue;
		set_rgb(cr, c);
		cairo_set_line_width(cr, 2);
		double dash[] = {5, 3};
		cairo_set_dash(cr, dash, s ? 2 : 0, 0);
		cairo_move_to(cr, x, p->y + 6);
		cairo_line_to(cr, x + 18, p->y + 6);
		cairo_stroke(cr);
		cairo_set_dash(cr, NULL, 0, 0);
		PangoLayout *l = pdf_layout(p, name ? name : "", 9, false, CONTENT_W / 2 - 30);
		set_rgb(cr, c_text);
		cairo_move_to(cr, x + 24, p->y);
		pango_cairo_show_layout(cr, l);
		g_object_unref(l);
		x += CONTENT_W / 2;
	}
	p->y += legend;
}

static void pdf_doc(struct pdf *p, const om_doc *d)
{
	PangoLayout *t = pdf_layout(p, d->title, 20, true, CONTENT_W);
	pdf_lines(p, t, MARGIN, c_text, NULL);
	g_object_unref(t);
	set_rgb(p->cr, c_blue);
	cairo_set_line_width(p->cr, 2);
	cairo_move_to(p->cr, MARGIN, p->y + 3);
	cairo_line_to(p->cr, MARGIN + CONTENT_W, p->y + 3);
	cairo_stroke(p->cr);
	p->y += 14;
	const struct blk *prev = NULL;
	for (const struct blk *k = d->first; k; prev = k, k = k->next) {
		switch (k->kind) {
		case B_HEADING: pdf_heading(p, k); break;
		case B_PARA: pdf_text(p, k, 0, 6); break;
		case B_BULLET:
			if (!prev || prev->kind != B_BULLET)
				p->y += 2;
			pdf_text(p, k, 14, 2);
			break;
		case B_TABLE: pdf_table(p, k); break;
		case B_BARS: pdf_bars(p, k); break;
		case B_RADAR: pdf_radar(p, k); break;
		case B_BREAK:
			if (!p->page_empty)
				pdf_new_page(p);
			break;
		}
		if (k->kind == B_BULLET && (!k->next || k->next->kind != B_BULLET))
			p->y += 4;
	}
	pdf_footer(p);
}

struct pdf_sink {
	FILE *f;
	int err;
};

static cairo_status_t pdf_write(void *closure, const unsigned char *data, unsigned int len)
{
	struct pdf_sink *s = closure;
	if (s->err)
		return CAIRO_STATUS_WRITE_ERROR;
	if (fwrite(data, 1, len, s->f) != len) {
		s->err = errno ? -errno : -EIO;
		return CAIRO_STATUS_WRITE_ERROR;
	}
	return CAIRO_STATUS_SUCCESS;
}

int om_doc_pdf(const om_doc *d, const char *path, char *err, size_t errlen)
{
	return om_doc_pdf2(d, path, 0, err, errlen);
}

int om_doc_pdf2(const om_doc *d, const char *path, unsigned flags, char *err, size_t errlen)
{
	if (!d || d->err)
		return doc_failed(d, err, errlen);
	if (!path || !*path || strlen(path) > 4000) {
		set_err(err, errlen, om_msg(d->lang, "report.doc.error.open"), path ? path : "",
		        strerror(EINVAL));
		return -EINVAL;
	}
	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	struct pdf_sink sink = {.f = fopen(tmp, "wb")};
	if (!sink.f) {
		int e = errno;
		set_err(err, errlen, om_msg(d->lang, "report.doc.error.open"), path, strerror(e));
		return -e;
	}
	cairo_surface_t *s = cairo_pdf_surface_create_for_stream(pdf_write, &sink, A4_W, A4_H);
	cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_TITLE, d->title);
	cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_CREATOR, "omamori " OMAMORI_VERSION);
	cairo_t *cr = cairo_create(s);
	/* the expanded copy of the font when there is one (pdffont.c) */
	PangoFontMap *fm = report_pdf_fontmap_acquire();
	PangoContext *ctx = fm ? pango_font_map_create_context(fm) : pango_cairo_create_context(cr);
	if (fm)
		pango_cairo_update_context(cr, ctx);
	pango_context_set_language(ctx,
	                           pango_language_from_string(d->lang == OM_LANG_JA ? "ja" : "en"));
	struct pdf p = {.cr = cr,
	                .ctx = ctx,
	                .y = MARGIN,
	                .page = 1,
	                .page_empty = true,
	                .ja = d->lang == OM_LANG_JA};
	if (cairo_status(cr) == CAIRO_STATUS_SUCCESS)
		pdf_doc(&p, d);
	g_object_unref(ctx);
	report_pdf_fontmap_release(fm);
	cairo_status_t st = cairo_status(cr);
	cairo_destroy(cr);
	cairo_surface_finish(s);
	if (st == CAIRO_STATUS_SUCCESS)
		st = cairo_surface_status(s);
	cairo_surface_destroy(s);
	int r = 0;
	if (fflush(sink.f) != 0 && !sink.err)
		sink.err = -errno;
	if (!(flags & OM_DOC_NOSYNC) && fsync(fileno(sink.f)) != 0 && !sink.err && errno != EINVAL)
		sink.err = -errno;
	if (fclose(sink.f) != 0 && !sink.err)
		sink.err = -errno;
	if (sink.err || st != CAIRO_STATUS_SUCCESS) {
		r = sink.err ? sink.err : -EIO;
		set_err(err, errlen, om_msg(d->lang, "report.doc.error.pdf"), path,
		        sink.err ? strerror(-sink.err) : cairo_status_to_string(st));
		unlink(tmp);
		return r;
	}
	if (rename(tmp, path) != 0) {
		r = -errno;
		set_err(err, errlen, om_msg(d->lang, "report.doc.error.open"), path, strerror(-r));
		unlink(tmp);
		return r;
	}
	return 0;
}

/* Sanitizer builds only: fontconfig keeps its configuration in memory it
 * never frees, and cairo 1.16's PDF font subsetting loses a few hundred
 * bytes per embedded font in cairo_surface_finish. Neither is ours to fix,
 * and both would fail every test that writes a PDF under LeakSanitizer. The
 * libraries' stacks are too short (no frame pointers) to match anything
 * narrower than the library. */
#if defined(__SANITIZE_ADDRESS__)
#define DOC_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define DOC_LSAN 1
#endif
#endif
#ifdef DOC_LSAN
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:libfontconfig.so\nleak:libcairo.so\n";
}
/* ... and without the table of suppressions used on stderr, which tests
 * that count a command's error lines would take for errors */
const char *__lsan_default_options(void);
const char *__lsan_default_options(void)
{
	return "print_suppressions=0";
}
#endif
