/* output.c: the scan's result in five forms. JSON (the stable form of
 * docs/webscan.md) and SARIF 2.1.0 for developers; text for the terminal;
 * HTML and PDF (the document model of report) for the company: per page a
 * danger level and the classes with a problem, per class "problem / no
 * problem", then each finding with its evidence and what to do. */
#include "report/report.h"
#include "webscan/internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *advice(ws_scan *s, enum ws_class c)
{
	char key[64];
	snprintf(key, sizeof(key), "webscan.advice.%s", ws_class_names[c]);
	return om_msg(s->lang, key);
}

static const char *class_title(ws_scan *s, enum ws_class c)
{
	char key[64];
	snprintf(key, sizeof(key), "webscan.class.%s", ws_class_names[c]);
	return om_msg(s->lang, key);
}

static const char *level_text(ws_scan *s, enum ws_level l)
{
	char key[64];
	snprintf(key, sizeof(key), "webscan.level.%s", ws_level_name(l));
	return om_msg(s->lang, key);
}

/* A finding's detail is a catalogue key, with one argument after '|'
 * ("webscan.detail.sqli_error|SQLite") for the messages that have a %s. */
static const char *detail_text(ws_scan *s, const ws_finding *f)
{
	const char *bar = strchr(f->detail, '|');
	char key[64];
	size_t kl = bar ? (size_t)(bar - f->detail) : strlen(f->detail);
	if (kl >= sizeof(key))
		return f->detail;
	memcpy(key, f->detail, kl);
	key[kl] = '\0';
	const char *msg = om_msg(s->lang, key);
	if (!bar || !strstr(msg, "%s"))
		return msg;
	return ws_printf(&s->arena, msg, bar + 1);
}

static void iso(om_usec t, char *buf, size_t n)
{
	om_time_iso(t, buf, n);
}

static void json_out(ws_scan *s, om_buf *b)
{
	om_json j;
	om_json_init(&j, b);
	char t0[40], t1[40];
	iso(s->started, t0, sizeof(t0));
	iso(s->finished, t1, sizeof(t1));
	om_json_obj_open(&j, NULL);
	om_json_str(&j, "target", s->o->target);
	om_json_str(&j, "started", t0);
	om_json_str(&j, "finished", t1);
	om_json_u64(&j, "requests", ws_http_requests(s->http));
	om_json_u64(&j, "pages", s->npages);
	om_json_arr_open(&j, "findings");
	for (size_t i = 0; i < s->nfindings; i++) {
		const ws_finding *f = &s->findings[i];
		om_json_obj_open(&j, NULL);
		om_json_str(&j, "class", ws_class_names[f->cls]);
		om_json_str(&j, "url", f->url);
		om_json_str(&j, "method", f->method);
		if (f->param)
			om_json_str(&j, "param", f->param);
		else
			om_json_null(&j, "param");
		om_json_str(&j, "severity", ws_level_name(f->severity));
		om_json_str(&j, "confidence", ws_level_name(f->confidence));
		om_json_obj_open(&j, "evidence");
		om_json_str(&j, "request", f->request);
		om_json_str(&j, "response_excerpt", f->excerpt);
		om_json_obj_close(&j);
		om_json_str(&j, "advice", advice(s, f->cls));
		om_json_obj_close(&j);
	}
	om_json_arr_close(&j);
	om_json_obj_close(&j);
	om_buf_putc(b, '\n');
}

static const char *sarif_level(enum ws_level l)
{
	return l == WS_HIGH ? "error" : l == WS_MEDIUM ? "warning" : "note";
}

static void sarif_out(ws_scan *s, om_buf *b)
{
	om_json j;
	om_json_init(&j, b);
	om_json_obj_open(&j, NULL);
	om_json_str(&j, "$schema", "https://json.schemastore.org/sarif-2.1.0.json");
	om_json_str(&j, "version", "2.1.0");
	om_json_arr_open(&j, "runs");
	om_json_obj_open(&j, NULL);
	om_json_obj_open(&j, "tool");
	om_json_obj_open(&j, "driver");
	om_json_str(&j, "name", "omamori-webscan");
	om_json_str(&j, "version", OMAMORI_VERSION);
	om_json_arr_open(&j, "rules");
	for (int c = 0; c < WS_CLASS_COUNT; c++) {
		om_json_obj_open(&j, NULL);
		om_json_str(&j, "id", ws_class_names[c]);
		om_json_obj_open(&j, "shortDescription");
		om_json_str(&j, "text", class_title(s, (enum ws_class)c));
		om_json_obj_close(&j);
		om_json_obj_open(&j, "help");
		om_json_str(&j, "text", advice(s, (enum ws_class)c));
		om_json_obj_close(&j);
		om_json_obj_close(&j);
	}
	om_json_arr_close(&j);
	om_json_obj_close(&j);
	om_json_obj_close(&j);
	om_json_arr_open(&j, "results");
	for (size_t i = 0; i < s->nfindings; i++) {
		const ws_finding *f = &s->findings[i];
		om_json_obj_open(&j, NULL);
		om_json_str(&j, "ruleId", ws_class_names[f->cls]);
		om_json_u64(&j, "ruleIndex", (uint64_t)f->cls);
		om_json_str(&j, "level", sarif_level(f->severity));
		om_json_obj_open(&j, "message");
		om_buf m;
		om_buf_init(&m, 8192);
		om_buf_printf(&m, "%s: %s", class_title(s, f->cls), detail_text(s, f));
		if (f->param)
			om_buf_printf(&m, " (%s)", f->param);
		om_json_str(&j, "text", om_buf_cstr(&m));
		om_buf_free(&m);
		om_json_obj_close(&j);
		om_json_arr_open(&j, "locations");
		om_json_obj_open(&j, NULL);
		om_json_obj_open(&j, "physicalLocation");
		om_json_obj_open(&j, "artifactLocation");
		om_json_str(&j, "uri", f->url);
		om_json_obj_close(&j);
		om_json_obj_close(&j);
		om_json_obj_close(&j);
		om_json_arr_close(&j);
		om_json_obj_open(&j, "properties");
		om_json_str(&j, "method", f->method);
		if (f->param)
			om_json_str(&j, "param", f->param);
		om_json_str(&j, "confidence", ws_level_name(f->confidence));
		om_json_str(&j, "request", f->request);
		om_json_str(&j, "response_excerpt", f->excerpt);
		om_json_obj_close(&j);
		om_json_obj_close(&j);
	}
	om_json_arr_close(&j);
	om_json_obj_close(&j);
	om_json_arr_close(&j);
	om_json_obj_close(&j);
	om_buf_putc(b, '\n');
}

/* ---- the result view: per page and per class ------------------------------------ */

struct urlrow {
	const char *url;
	enum ws_level danger;
	bool cls[WS_CLASS_COUNT];
};

static size_t by_url(ws_scan *s, struct urlrow *rows, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < s->nfindings; i++) {
		const ws_finding *f = &s->findings[i];
		size_t k = 0;
		for (; k < n; k++)
			if (!strcmp(rows[k].url, f->url))
				break;
		if (k == n) {
			if (n == max)
				continue;
			memset(&rows[n], 0, sizeof(rows[n]));
			rows[n].url = f->url;
			n++;
		}
		if (f->severity > rows[k].danger)
			rows[k].danger = f->severity;
		rows[k].cls[f->cls] = true;
	}
	return n;
}

static void classes_found(ws_scan *s, bool out[WS_CLASS_COUNT])
{
	memset(out, 0, WS_CLASS_COUNT * sizeof(bool));
	for (size_t i = 0; i < s->nfindings; i++)
		out[s->findings[i].cls] = true;
}

static void text_out(ws_scan *s, om_buf *b)
{
	char t0[40], t1[40];
	iso(s->started, t0, sizeof(t0));
	iso(s->finished, t1, sizeof(t1));
	om_buf_printf(b, "%s\n", om_msg(s->lang, "webscan.doc.title"));
	om_buf_printf(b, "%s: %s\n", om_msg(s->lang, "webscan.label.target"), s->o->target);
	om_buf_printf(b, "%s: %s - %s\n", om_msg(s->lang, "webscan.label.time"), t0, t1);
	om_buf_printf(b, "%s: %zu, %s: %llu\n", om_msg(s->lang, "webscan.label.pages"), s->npages,
	              om_msg(s->lang, "webscan.label.requests"),
	              (unsigned long long)ws_http_requests(s->http));
	if (s->stopped)
		om_buf_printf(b, "%s\n", om_msg(s->lang, "webscan.doc.stopped"));
	om_buf_printf(b, "\n%s\n", om_msg(s->lang, "webscan.doc.by_class"));
	bool found[WS_CLASS_COUNT];
	classes_found(s, found);
	for (int c = 0; c < WS_CLASS_COUNT; c++)
		om_buf_printf(b, "  %-16s %s  (%s)\n", ws_class_names[c],
		              om_msg(s->lang, found[c] ? "webscan.problem" : "webscan.no_problem"),
		              class_title(s, (enum ws_class)c));
	struct urlrow *rows = calloc(WS_MAX_FINDINGS, sizeof(*rows));
	size_t nr = rows ? by_url(s, rows, WS_MAX_FINDINGS) : 0;
	om_buf_printf(b, "\n%s\n", om_msg(s->lang, "webscan.doc.by_page"));
	if (!nr)
		om_buf_printf(b, "  %s\n", om_msg(s->lang, "webscan.doc.nothing"));
	for (size_t i = 0; i < nr; i++) {
		om_buf_printf(b, "  [%s] %s:", level_text(s, rows[i].danger), rows[i].url);
		for (int c = 0; c < WS_CLASS_COUNT; c++)
			if (rows[i].cls[c])
				om_buf_printf(b, " %s", ws_class_names[c]);
		om_buf_putc(b, '\n');
	}
	free(rows);
	om_buf_printf(b, "\n%s\n", om_msg(s->lang, "webscan.doc.tamper"));
	if (!s->tamper)
		om_buf_printf(b, "  %s\n", om_msg(s->lang, "webscan.doc.tamper_not_run"));
	for (size_t i = 0; i < s->ntamper; i++) {
		const ws_tamper_row *t = &s->tamper_rows[i];
		char bt[40], ct[40];
		iso(t->baseline, bt, sizeof(bt));
		iso(t->checked, ct, sizeof(ct));
		om_buf_printf(b, "  %s: %s%s%s (%s %s, %s %s)\n", t->url,
		              om_msg(s->lang, t->changes ? "webscan.doc.tamper_changed"
		                                         : "webscan.doc.tamper_unchanged"),
		              t->changes ? " " : "", t->changes ? t->changes : "",
		              om_msg(s->lang, "webscan.label.baseline"), bt,
		              om_msg(s->lang, "webscan.label.checked"), ct);
	}
	om_buf_printf(b, "\n%s\n", om_msg(s->lang, "webscan.doc.findings"));
	for (size_t i = 0; i < s->nfindings; i++) {
		const ws_finding *f = &s->findings[i];
		om_buf_printf(b, "\n%zu. %s [%s] %s %s%s%s\n", i + 1, ws_class_names[f->cls],
		              level_text(s, f->severity), f->method, f->url,
		              f->param ? " param=" : "", f->param ? f->param : "");
		om_buf_printf(b, "   %s: %s\n", om_msg(s->lang, "webscan.label.confidence"),
		              level_text(s, f->confidence));
		om_buf_printf(b, "   %s: %s\n", om_msg(s->lang, "webscan.label.detail"),
		              detail_text(s, f));
		om_buf_printf(b, "   %s: %.300s\n", om_msg(s->lang, "webscan.label.request"),
		              f->request);
		om_buf_printf(b, "   %s: %.300s\n", om_msg(s->lang, "webscan.label.excerpt"),
		              f->excerpt);
		om_buf_printf(b, "   %s: %s\n", om_msg(s->lang, "webscan.label.advice"),
		              advice(s, f->cls));
	}
}

static om_doc *doc_build(ws_scan *s)
{
	om_doc *d = om_doc_new(om_msg(s->lang, "webscan.doc.title"), s->lang);
	if (!d)
		return NULL;
	char t0[40], t1[40], line[1024];
	iso(s->started, t0, sizeof(t0));
	iso(s->finished, t1, sizeof(t1));
	om_doc_heading(d, 1, om_msg(s->lang, "webscan.doc.title"));
	snprintf(line, sizeof(line), "%s: %s", om_msg(s->lang, "webscan.label.target"),
	         s->o->target);
	om_doc_para(d, OM_DOC_PLAIN, line);
	snprintf(line, sizeof(line), "%s: %s - %s / %s: %zu / %s: %llu",
	         om_msg(s->lang, "webscan.label.time"), t0, t1,
	         om_msg(s->lang, "webscan.label.pages"), s->npages,
	         om_msg(s->lang, "webscan.label.requests"),
	         (unsigned long long)ws_http_requests(s->http));
	om_doc_para(d, OM_DOC_PLAIN, line);
	if (s->stopped)
		om_doc_para(d, OM_DOC_WARN, om_msg(s->lang, "webscan.doc.stopped"));
	bool found[WS_CLASS_COUNT];
	classes_found(s, found);
	unsigned nfound = 0;
	for (int c = 0; c < WS_CLASS_COUNT; c++)
		nfound += found[c];
	om_doc_para(
	    d, nfound ? OM_DOC_BAD : OM_DOC_GOOD,
	    om_msg(s->lang, nfound ? "webscan.doc.summary_bad" : "webscan.doc.summary_good"));

	om_doc_heading(d, 2, om_msg(s->lang, "webscan.doc.by_class"));
	const char *cells[(WS_CLASS_COUNT + 1) * 2];
	enum om_doc_mark marks[(WS_CLASS_COUNT + 1) * 2];
	cells[0] = om_msg(s->lang, "webscan.label.class");
	cells[1] = om_msg(s->lang, "webscan.label.result");
	marks[0] = marks[1] = OM_DOC_PLAIN;
	for (int c = 0; c < WS_CLASS_COUNT; c++) {
		cells[2 + c * 2] = class_title(s, (enum ws_class)c);
		cells[3 + c * 2] =
		    om_msg(s->lang, found[c] ? "webscan.problem" : "webscan.no_problem");
		marks[2 + c * 2] = OM_DOC_PLAIN;
		marks[3 + c * 2] = found[c] ? OM_DOC_BAD : OM_DOC_GOOD;
	}
	om_doc_table(d, WS_CLASS_COUNT + 1, 2, cells, marks);

	om_doc_heading(d, 2, om_msg(s->lang, "webscan.doc.by_page"));
	struct urlrow *rows = calloc(WS_MAX_FINDINGS, sizeof(*rows));
	size_t nr = rows ? by_url(s, rows, WS_MAX_FINDINGS) : 0;
	if (!nr) {
		om_doc_para(d, OM_DOC_GOOD, om_msg(s->lang, "webscan.doc.nothing"));
	} else {
		size_t ncell = (nr + 1) * 3;
		const char **pc = calloc(ncell, sizeof(*pc));
		enum om_doc_mark *pm = calloc(ncell, sizeof(*pm));
		if (pc && pm) {
			pc[0] = om_msg(s->lang, "webscan.label.url");
			pc[1] = om_msg(s->lang, "webscan.label.danger");
			pc[2] = om_msg(s->lang, "webscan.label.problems");
			for (size_t i = 0; i < nr; i++) {
				om_buf cl;
				om_buf_init(&cl, 4096);
				for (int c = 0; c < WS_CLASS_COUNT; c++)
					if (rows[i].cls[c])
						om_buf_printf(&cl, "%s%s", cl.len ? ", " : "",
						              class_title(s, (enum ws_class)c));
				pc[(i + 1) * 3] = rows[i].url;
				pc[(i + 1) * 3 + 1] = level_text(s, rows[i].danger);
				pc[(i + 1) * 3 + 2] = ws_strdup(&s->arena, om_buf_cstr(&cl));
				pm[(i + 1) * 3 + 1] = rows[i].danger == WS_HIGH     ? OM_DOC_BAD
				                      : rows[i].danger == WS_MEDIUM ? OM_DOC_WARN
				                                                    : OM_DOC_PLAIN;
				om_buf_free(&cl);
			}
			om_doc_table(d, (unsigned)nr + 1, 3, pc, pm);
		}
		free(pc);
		free(pm);
	}
	free(rows);

	om_doc_heading(d, 2, om_msg(s->lang, "webscan.doc.tamper"));
	if (!s->tamper) {
		om_doc_para(d, OM_DOC_PLAIN, om_msg(s->lang, "webscan.doc.tamper_not_run"));
	} else if (s->ntamper) {
		size_t ncell = (s->ntamper + 1) * 4;
		const char **tc = calloc(ncell, sizeof(*tc));
		enum om_doc_mark *tm = calloc(ncell, sizeof(*tm));
		if (tc && tm) {
			tc[0] = om_msg(s->lang, "webscan.label.url");
			tc[1] = om_msg(s->lang, "webscan.label.result");
			tc[2] = om_msg(s->lang, "webscan.label.baseline");
			tc[3] = om_msg(s->lang, "webscan.label.checked");
			for (size_t i = 0; i < s->ntamper; i++) {
				const ws_tamper_row *t = &s->tamper_rows[i];
				char bt[40], ct[40];
				iso(t->baseline, bt, sizeof(bt));
				iso(t->checked, ct, sizeof(ct));
				size_t k = (i + 1) * 4;
				tc[k] = t->url;
				tc[k + 1] =
				    t->changes
				        ? ws_printf(&s->arena, "%s: %s",
				                    om_msg(s->lang, "webscan.doc.tamper_changed"),
				                    t->changes)
				        : om_msg(s->lang, "webscan.doc.tamper_unchanged");
				tm[k + 1] = t->changes ? OM_DOC_BAD : OM_DOC_GOOD;
				tc[k + 2] = ws_strdup(&s->arena, bt);
				tc[k + 3] = ws_strdup(&s->arena, ct);
			}
			om_doc_table(d, (unsigned)s->ntamper + 1, 4, tc, tm);
		}
		free(tc);
		free(tm);
	}

	/* how many findings per class, as bars */
	const char *labels[WS_CLASS_COUNT];
	double values[WS_CLASS_COUNT];
	unsigned nb = 0;
	for (int c = 0; c < WS_CLASS_COUNT; c++) {
		if (!found[c])
			continue;
		double n = 0;
		for (size_t i = 0; i < s->nfindings; i++)
			n += s->findings[i].cls == (enum ws_class)c;
		labels[nb] = class_title(s, (enum ws_class)c);
		values[nb++] = n;
	}
	if (nb)
		om_doc_bars(d, om_msg(s->lang, "webscan.doc.chart"), nb, labels, values, "");

	om_doc_heading(d, 2, om_msg(s->lang, "webscan.doc.findings"));
	for (size_t i = 0; i < s->nfindings; i++) {
		const ws_finding *f = &s->findings[i];
		snprintf(line, sizeof(line), "%zu. %s — %s", i + 1, class_title(s, f->cls), f->url);
		om_doc_heading(d, 3, line);
		snprintf(line, sizeof(line), "%s: %s / %s: %s / %s %s%s%s",
		         om_msg(s->lang, "webscan.label.danger"), level_text(s, f->severity),
		         om_msg(s->lang, "webscan.label.confidence"), level_text(s, f->confidence),
		         f->method, f->url, f->param ? " param=" : "", f->param ? f->param : "");
		om_doc_para(d, f->severity == WS_HIGH ? OM_DOC_BAD : OM_DOC_WARN, line);
		snprintf(line, sizeof(line), "%s: %s", om_msg(s->lang, "webscan.label.detail"),
		         detail_text(s, f));
		om_doc_para(d, OM_DOC_PLAIN, line);
		snprintf(line, sizeof(line), "%s: %.600s", om_msg(s->lang, "webscan.label.request"),
		         f->request);
		om_doc_para(d, OM_DOC_PLAIN, line);
		snprintf(line, sizeof(line), "%s: %.600s", om_msg(s->lang, "webscan.label.excerpt"),
		         f->excerpt);
		om_doc_para(d, OM_DOC_PLAIN, line);
		snprintf(line, sizeof(line), "%s: %s", om_msg(s->lang, "webscan.label.advice"),
		         advice(s, f->cls));
		om_doc_para(d, OM_DOC_DECIDE, line);
	}
	return d;
}

static int write_out(const char *path, const om_buf *b, char *err, size_t errlen)
{
	FILE *f = stdout;
	if (path && strcmp(path, "-")) {
		f = fopen(path, "w");
		if (!f) {
			snprintf(err, errlen, om_tr("webscan.err.output"), path, strerror(errno));
			return -errno;
		}
	}
	size_t w = fwrite(b->data ? b->data : "", 1, b->len, f);
	int c = f == stdout ? fflush(f) : fclose(f);
	if (w != b->len || c) {
		snprintf(err, errlen, om_tr("webscan.err.output"), path ? path : "-",
		         strerror(errno));
		return -EIO;
	}
	return 0;
}

int ws_output(ws_scan *s, const char *format, const char *path, char *err, size_t errlen)
{
	om_buf b;
	om_buf_init(&b, 256u * 1024 * 1024);
	int r = 0;
	if (!format || !strcmp(format, "text")) {
		text_out(s, &b);
	} else if (!strcmp(format, "json")) {
		json_out(s, &b);
	} else if (!strcmp(format, "sarif")) {
		sarif_out(s, &b);
	} else if (!strcmp(format, "html") || !strcmp(format, "pdf")) {
		om_doc *d = doc_build(s);
		if (!d) {
			om_buf_free(&b);
			return -ENOMEM;
		}
		if (format[0] == 'h') {
			r = om_doc_html(d, &b, err, errlen);
		} else {
			r = om_doc_pdf(d, path, err, errlen);
			om_doc_free(d);
			om_buf_free(&b);
			return r;
		}
		om_doc_free(d);
	}
	if (r == 0 && b.toobig)
		r = -ENOBUFS;
	if (r == 0)
		r = write_out(path, &b, err, errlen);
	om_buf_free(&b);
	return r;
}
