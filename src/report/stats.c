/* stats: the programme statistics for the government office.
 *
 * For one month, over every company (tenant) that had at least one
 * category watched in that month: per category the companies monitored,
 * the companies affected (at least one event), the share affected and the
 * events, for all companies together and by industry, size and region
 * (tenant metadata; "unknown" when not set). Each company is counted in its
 * own time zone, exactly as its monthly report counts it.
 *
 * Anonymisation (docs/report.md, "Programme statistics"):
 *  - no company name, id, address or IP is written; only group labels
 *    (the metadata values) and counts;
 *  - groups of fewer than K companies are merged into one group "other"
 *    (so a rare label cannot point at one company); when "other" itself has
 *    fewer than K companies, its row is suppressed whole;
 *  - primary: a count of companies (monitored, affected) from 1 to K - 1 is
 *    suppressed, and with it that cell's events and share (the events of
 *    one or two companies are theirs); a monitored count suppressed takes
 *    its affected count and events with it;
 *  - secondary: every column of every dimension sums to the published
 *    "all" row, so a column with exactly one suppressed cell gets a second
 *    one (the smallest remaining value, the first on ties), repeated until
 *    no column has exactly one. A single group equals the total, which then
 *    carries the same primary suppression.
 * Suppressed cells are "x" in CSV and XLSX and null in JSON. */
#include "report/internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xlsxwriter.h>

#define NCAT 6
#define NDIM 4
#define MAX_GROUPS 256

/* ---- suppression -------------------------------------------------------- */

static void second_pass(unsigned n, const uint64_t *vals, size_t stride, bool *supp, size_t sstride,
                        bool *changed)
{
	unsigned ns = 0;
	for (unsigned g = 0; g < n; g++)
		ns += supp[g * sstride];
	if (ns != 1)
		return;
	int best = -1;
	for (unsigned g = 0; g < n; g++) {
		if (supp[g * sstride])
			continue;
		if (best < 0 || vals[g * stride] < vals[(unsigned)best * stride])
			best = (int)g;
	}
	if (best >= 0) {
		supp[(unsigned)best * sstride] = true;
		*changed = true;
	}
}

void om_stats_suppress(unsigned n, unsigned ncols, const uint64_t *sizes, const uint64_t *cells,
                       unsigned k, bool *supp_size, bool *supp_cell)
{
	for (unsigned g = 0; g < n; g++) {
		supp_size[g] = sizes[g] > 0 && sizes[g] < k;
		for (unsigned c = 0; c < ncols; c++) {
			uint64_t v = cells[g * ncols + c];
			supp_cell[g * ncols + c] = supp_size[g] || (v > 0 && v < k);
		}
	}
	bool changed = true;
	while (changed) {
		changed = false;
		second_pass(n, sizes, 1, supp_size, 1, &changed);
		for (unsigned c = 0; c < ncols; c++)
			second_pass(n, cells + c, ncols, supp_cell + c, ncols, &changed);
	}
}

/* ---- gathering ---------------------------------------------------------- */

/* Per group: companies, and per category monitored, affected, events. */
struct group {
	char label[256]; /* a metadata value (at most 255 bytes): never cut */
	uint64_t size;
	uint64_t mon[NCAT], aff[NCAT], ev[NCAT];
};

struct dim {
	const char *name; /* all, industry, size, region */
	unsigned n;
	struct group g[MAX_GROUPS + 2];
	/* suppression of size and of the columns (mon, aff, ev per category) */
	bool s_size[MAX_GROUPS + 2];
	bool s_mon[MAX_GROUPS + 2][NCAT], s_aff[MAX_GROUPS + 2][NCAT], s_ev[MAX_GROUPS + 2][NCAT];
};

static const char *dim_value(const report_counts *rc, int d)
{
	switch (d) {
	case 1: return rc->meta.industry;
	case 2: return rc->meta.size;
	case 3: return rc->meta.region;
	default: return "all";
	}
}

static struct group *group_of(struct dim *dm, const char *label)
{
	for (unsigned i = 0; i < dm->n; i++) {
		if (!strcmp(dm->g[i].label, label))
			return &dm->g[i];
	}
	if (dm->n >= MAX_GROUPS)
		label = "other";
	for (unsigned i = 0; i < dm->n; i++) {
		if (!strcmp(dm->g[i].label, label))
			return &dm->g[i];
	}
	struct group *g = &dm->g[dm->n++];
	memset(g, 0, sizeof(*g));
	snprintf(g->label, sizeof(g->label), "%s", label);
	return g;
}

static void group_add(struct group *dst, const struct group *src)
{
	dst->size += src->size;
	for (int c = 0; c < NCAT; c++) {
		dst->mon[c] += src->mon[c];
		dst->aff[c] += src->aff[c];
		dst->ev[c] += src->ev[c];
	}
}

static int cmp_group(const void *a, const void *b)
{
	const struct group *x = a, *y = b;
	bool xo = !strcmp(x->label, "other"), yo = !strcmp(y->label, "other");
	bool xu = !strcmp(x->label, "unknown"), yu = !strcmp(y->label, "unknown");
	if (xo != yo)
		return xo ? 1 : -1; /* "other" and "unknown" last */
	if (xu != yu)
		return xu ? 1 : -1;
	return strcmp(x->label, y->label);
}

/* Groups under K merged into "other"; sorted; suppression applied. */
static void dim_finish(struct dim *dm)
{
	struct group other;
	unsigned m = 0;
	bool any_other = false;
	memset(&other, 0, sizeof(other));
	snprintf(other.label, sizeof(other.label), "other");
	for (unsigned i = 0; i < dm->n; i++) {
		if (strcmp(dm->name, "all") != 0 &&
		    (dm->g[i].size < OM_STATS_K || !strcmp(dm->g[i].label, "other"))) {
			group_add(&other, &dm->g[i]);
			any_other = true;
		} else {
			dm->g[m++] = dm->g[i];
		}
	}
	if (any_other)
		dm->g[m++] = other;
	dm->n = m;
	qsort(dm->g, dm->n, sizeof(dm->g[0]), cmp_group);

	static _Thread_local uint64_t sizes[MAX_GROUPS + 2], cells[(MAX_GROUPS + 2) * NCAT * 2];
	static _Thread_local bool ssz[MAX_GROUPS + 2], scell[(MAX_GROUPS + 2) * NCAT * 2];
	/* columns: monitored and affected per category; the events follow the
	 * affected cell (they are one company's when it is) */
	for (unsigned g = 0; g < dm->n; g++) {
		sizes[g] = dm->g[g].size;
		for (int c = 0; c < NCAT; c++) {
			cells[g * NCAT * 2 + (unsigned)c * 2] = dm->g[g].mon[c];
			cells[g * NCAT * 2 + (unsigned)c * 2 + 1] = dm->g[g].aff[c];
		}
	}
	om_stats_suppress(dm->n, NCAT * 2, sizes, cells, OM_STATS_K, ssz, scell);
	for (unsigned g = 0; g < dm->n; g++) {
		dm->s_size[g] = ssz[g];
		for (int c = 0; c < NCAT; c++) {
			bool sm = scell[g * NCAT * 2 + (unsigned)c * 2];
			bool sa = scell[g * NCAT * 2 + (unsigned)c * 2 + 1];
			/* a monitored count of fewer than K companies hides what they had */
			bool pm = dm->g[g].mon[c] > 0 && dm->g[g].mon[c] < OM_STATS_K;
			dm->s_mon[g][c] = sm;
			dm->s_aff[g][c] = sa || pm;
			dm->s_ev[g][c] = sa || pm;
		}
	}
	/* the affected columns may have gained a lone suppression from pm */
	bool changed = true;
	while (changed) {
		changed = false;
		for (int c = 0; c < NCAT; c++) {
			static _Thread_local uint64_t v[MAX_GROUPS + 2];
			static _Thread_local bool s[MAX_GROUPS + 2];
			for (unsigned g = 0; g < dm->n; g++) {
				v[g] = dm->g[g].aff[c];
				s[g] = dm->s_aff[g][c];
			}
			second_pass(dm->n, v, 1, s, 1, &changed);
			for (unsigned g = 0; g < dm->n; g++) {
				dm->s_aff[g][c] = s[g];
				dm->s_ev[g][c] = s[g];
			}
		}
	}
}

struct stats {
	uint64_t companies;
	struct dim dim[NDIM];
};

static int gather(om_store *s, const char *month, enum om_lang lang, struct stats *st, char *err,
                  size_t errlen)
{
	static const char *const names[NDIM] = {"all", "industry", "size", "region"};
	size_t n = 0;
	char(*tenants)[OM_STORE_TENANT_MAX + 1] = calloc(OM_REPORT_TENANTS_MAX, sizeof(*tenants));
	if (!tenants)
		return -ENOMEM;
	int r = om_store_tenants(s, tenants, OM_REPORT_TENANTS_MAX, &n);
	if (r < 0) {
		free(tenants);
		snprintf(err, errlen, "%s", om_msg(lang, "report.error.store"));
		return r;
	}
	for (int d = 0; d < NDIM; d++)
		st->dim[d].name = names[d];
	for (size_t i = 0; i < n; i++) {
		report_counts rc;
		r = report_tenant_counts(s, tenants[i], month, lang, &rc, err, errlen);
		if (r < 0)
			break;
		bool any = false;
		for (int c = 0; c < NCAT; c++)
			any = any || rc.monitored[c];
		if (!any)
			continue; /* not in the programme this month */
		st->companies++;
		for (int d = 0; d < NDIM; d++) {
			const char *v = dim_value(&rc, d);
			struct group *g = group_of(&st->dim[d], *v ? v : "unknown");
			g->size++;
			for (int c = 0; c < NCAT; c++) {
				g->mon[c] += rc.monitored[c];
				g->aff[c] += rc.monitored[c] && rc.count[c] > 0;
				g->ev[c] += rc.count[c];
			}
		}
	}
	free(tenants);
	if (r < 0)
		return r;
	for (int d = 0; d < NDIM; d++)
		dim_finish(&st->dim[d]);
	return 0;
}

/* ---- writers ------------------------------------------------------------ */

static bool share_of(const struct dim *dm, unsigned g, int c, double *ret)
{
	if (dm->s_mon[g][c] || dm->s_aff[g][c] || dm->g[g].mon[c] == 0)
		return false;
	*ret = (double)dm->g[g].aff[c] * 100.0 / (double)dm->g[g].mon[c];
	return true;
}

/* A CSV field: quoted, quotes doubled, and a leading = + - @ defused so that
 * a spreadsheet does not run a label as a formula. */
static void csv_field(om_buf *b, const char *s)
{
	om_buf_putc(b, '"');
	if (*s == '=' || *s == '+' || *s == '-' || *s == '@')
		om_buf_putc(b, '\'');
	for (; *s; s++) {
		if (*s == '"')
			om_buf_putc(b, '"');
		om_buf_putc(b, (unsigned char)*s < 0x20 ? ' ' : *s);
	}
	om_buf_putc(b, '"');
}

static void csv_num(om_buf *b, bool supp, uint64_t v)
{
	if (supp)
		om_buf_puts(b, ",x");
	else
		om_buf_printf(b, ",%" PRIu64, v);
}

static void write_csv(const struct stats *st, om_buf *b)
{
	om_buf_puts(b, "dimension,group,companies,category,companies_monitored,"
	               "companies_affected,share_affected_percent,events\r\n");
	for (int d = 0; d < NDIM; d++) {
		const struct dim *dm = &st->dim[d];
		for (unsigned g = 0; g < dm->n; g++) {
			for (int c = 0; c < NCAT; c++) {
				double sh;
				om_buf_printf(b, "%s,", dm->name);
				csv_field(b, dm->g[g].label);
				csv_num(b, dm->s_size[g], dm->g[g].size);
				om_buf_printf(b, ",%s", om_report_categories[c]);
				csv_num(b, dm->s_mon[g][c], dm->g[g].mon[c]);
				csv_num(b, dm->s_aff[g][c], dm->g[g].aff[c]);
				if (share_of(dm, g, c, &sh))
					om_buf_printf(b, ",%.1f", sh);
				else
					om_buf_puts(b, dm->g[g].mon[c] == 0 && !dm->s_mon[g][c]
					                   ? ","
					                   : ",x");
				csv_num(b, dm->s_ev[g][c], dm->g[g].ev[c]);
				om_buf_puts(b, "\r\n");
			}
		}
	}
}

static void json_num(om_json *j, const char *key, bool supp, uint64_t v)
{
	if (supp)
		om_json_null(j, key);
	else
		om_json_u64(j, key, v);
}

static void write_json(const struct stats *st, const char *month, om_buf *b)
{
	om_json j;
	om_json_init(&j, b);
	om_json_obj_open(&j, NULL);
	om_json_str(&j, "month", month);
	om_json_u64(&j, "k", OM_STATS_K);
	om_json_arr_open(&j, "rows");
	for (int d = 0; d < NDIM; d++) {
		const struct dim *dm = &st->dim[d];
		for (unsigned g = 0; g < dm->n; g++) {
			for (int c = 0; c < NCAT; c++) {
				double sh;
				om_json_obj_open(&j, NULL);
				om_json_str(&j, "dimension", dm->name);
				om_json_str(&j, "group", dm->g[g].label);
				json_num(&j, "companies", dm->s_size[g], dm->g[g].size);
				om_json_str(&j, "category", om_report_categories[c]);
				json_num(&j, "companies_monitored", dm->s_mon[g][c],
				         dm->g[g].mon[c]);
				json_num(&j, "companies_affected", dm->s_aff[g][c],
				         dm->g[g].aff[c]);
				if (share_of(dm, g, c, &sh))
					om_json_double(&j, "share_affected_percent",
					               (double)(int64_t)(sh * 10.0 + 0.5) / 10.0);
				else
					om_json_null(&j, "share_affected_percent");
				json_num(&j, "events", dm->s_ev[g][c], dm->g[g].ev[c]);
				om_json_bool(&j, "suppressed",
				             dm->s_size[g] || dm->s_mon[g][c] || dm->s_aff[g][c]);
				om_json_obj_close(&j);
			}
		}
	}
	om_json_arr_close(&j);
	om_json_obj_close(&j);
	om_buf_putc(b, '\n');
}

static void xlsx_num(lxw_worksheet *ws, int row, int col, bool supp, uint64_t v, lxw_format *f)
{
	if (supp)
		worksheet_write_string(ws, (lxw_row_t)row, (lxw_col_t)col, "x", f);
	else
		worksheet_write_number(ws, (lxw_row_t)row, (lxw_col_t)col, (double)v, NULL);
}

static int write_xlsx(const struct stats *st, const char *month, enum om_lang lang,
                      const char *path, char *err, size_t errlen)
{
	lxw_workbook *wb = workbook_new(path);
	if (!wb) {
		snprintf(err, errlen, om_msg(lang, "report.error.outdir_make"), path,
		         "cannot create the workbook");
		return -EIO;
	}
	lxw_format *bold = workbook_add_format(wb);
	format_set_bold(bold);
	lxw_format *grey = workbook_add_format(wb);
	format_set_font_color(grey, LXW_COLOR_GRAY);
	format_set_align(grey, LXW_ALIGN_RIGHT);
	lxw_worksheet *ws = workbook_add_worksheet(wb, "stats");
	static const char *const head[] = {"dimension",
	                                   "group",
	                                   "companies",
	                                   "category",
	                                   "companies_monitored",
	                                   "companies_affected",
	                                   "share_affected_percent",
	                                   "events"};
	for (int i = 0; i < 8; i++)
		worksheet_write_string(ws, 0, (lxw_col_t)i, head[i], bold);
	int row = 1;
	for (int d = 0; d < NDIM; d++) {
		const struct dim *dm = &st->dim[d];
		for (unsigned g = 0; g < dm->n; g++) {
			for (int c = 0; c < NCAT; c++, row++) {
				double sh;
				worksheet_write_string(ws, (lxw_row_t)row, 0, dm->name, NULL);
				worksheet_write_string(ws, (lxw_row_t)row, 1, dm->g[g].label, NULL);
				xlsx_num(ws, row, 2, dm->s_size[g], dm->g[g].size, grey);
				worksheet_write_string(ws, (lxw_row_t)row, 3,
				                       om_report_categories[c], NULL);
				xlsx_num(ws, row, 4, dm->s_mon[g][c], dm->g[g].mon[c], grey);
				xlsx_num(ws, row, 5, dm->s_aff[g][c], dm->g[g].aff[c], grey);
				if (share_of(dm, g, c, &sh))
					worksheet_write_number(
					    ws, (lxw_row_t)row, 6,
					    (double)(int64_t)(sh * 10.0 + 0.5) / 10.0, NULL);
				else if (dm->s_mon[g][c] || dm->s_aff[g][c])
					worksheet_write_string(ws, (lxw_row_t)row, 6, "x", grey);
				xlsx_num(ws, row, 7, dm->s_ev[g][c], dm->g[g].ev[c], grey);
			}
		}
	}
	worksheet_set_column(ws, 0, 7, 18, NULL);
	/* one sheet per dimension, a row per group and four columns per
	 * category, headed by the category's title in the report's language */
	for (int d = 0; d < NDIM; d++) {
		const struct dim *dm = &st->dim[d];
		lxw_worksheet *w = workbook_add_worksheet(wb, dm->name);
		char key[96], h[512];
		worksheet_write_string(w, 0, 0, om_msg(lang, "report.stats.col.group"), bold);
		worksheet_write_string(w, 0, 1, om_msg(lang, "report.stats.col.companies"), bold);
		static const char *const sub[] = {
		    "report.stats.col.monitored", "report.stats.col.affected",
		    "report.stats.col.share", "report.stats.col.events"};
		for (int c = 0; c < NCAT; c++) {
			snprintf(key, sizeof(key), "report.category.%s.title",
			         om_report_categories[c]);
			for (int k = 0; k < 4; k++) {
				snprintf(h, sizeof(h), "%s: %s", om_msg(lang, key),
				         om_msg(lang, sub[k]));
				worksheet_write_string(w, 0, (lxw_col_t)(2 + c * 4 + k), h, bold);
			}
		}
		for (unsigned g = 0; g < dm->n; g++) {
			lxw_row_t rr = (lxw_row_t)(g + 1);
			worksheet_write_string(w, rr, 0, dm->g[g].label, NULL);
			xlsx_num(w, (int)rr, 1, dm->s_size[g], dm->g[g].size, grey);
			for (int c = 0; c < NCAT; c++) {
				int col = 2 + c * 4;
				double sh;
				xlsx_num(w, (int)rr, col, dm->s_mon[g][c], dm->g[g].mon[c], grey);
				xlsx_num(w, (int)rr, col + 1, dm->s_aff[g][c], dm->g[g].aff[c],
				         grey);
				if (share_of(dm, g, c, &sh))
					worksheet_write_number(
					    w, rr, (lxw_col_t)(col + 2),
					    (double)(int64_t)(sh * 10.0 + 0.5) / 10.0, NULL);
				else if (dm->s_mon[g][c] || dm->s_aff[g][c])
					worksheet_write_string(w, rr, (lxw_col_t)(col + 2), "x",
					                       grey);
				xlsx_num(w, (int)rr, col + 3, dm->s_ev[g][c], dm->g[g].ev[c], grey);
			}
		}
		worksheet_set_column(w, 0, 0, 16, NULL);
		worksheet_set_column(w, 1, 2 + NCAT * 4, 12, NULL);
		worksheet_freeze_panes(w, 1, 2);
	}
	lxw_worksheet *notes = workbook_add_worksheet(wb, "notes");
	char line[512];
	snprintf(line, sizeof(line), "%s", om_msg(lang, "report.stats.note_title"));
	worksheet_write_string(notes, 0, 0, line, bold);
	worksheet_write_string(notes, 1, 0, month, NULL);
	snprintf(line, sizeof(line), om_msg(lang, "report.stats.note_k"), OM_STATS_K);
	worksheet_write_string(notes, 2, 0, line, NULL);
	worksheet_write_string(notes, 3, 0, om_msg(lang, "report.stats.note_rules"), NULL);
	lxw_error e = workbook_close(wb);
	if (e != LXW_NO_ERROR) {
		snprintf(err, errlen, om_msg(lang, "report.error.outdir_make"), path,
		         lxw_strerror(e));
		return -EIO;
	}
	return 0;
}

int om_report_stats(om_store *s, const char *month, enum om_stats_format format, enum om_lang lang,
                    om_buf *out, const char *path, char *err, size_t errlen)
{
	enum om_lang l = (unsigned)lang < OM_LANG_COUNT ? lang : OM_LANG_JA;
	om_report_opts chk = {.tenant = "all", .month = month, .format = OM_REPORT_JSON, .lang = l};
	om_i18n_init();
	if (om_report_check(&chk, err, errlen) < 0)
		return -EINVAL;
	if (!s || (format == OM_STATS_XLSX && (!path || !*path)) ||
	    (format != OM_STATS_XLSX && !out) || (unsigned)format > OM_STATS_XLSX) {
		snprintf(err, errlen, "%s", om_msg(l, "report.error.stats_args"));
		return -EINVAL;
	}
	struct stats *st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	int r = gather(s, month, l, st, err, errlen);
	if (r == 0) {
		size_t start = out ? out->len : 0;
		if (format == OM_STATS_CSV)
			write_csv(st, out);
		else if (format == OM_STATS_JSON)
			write_json(st, month, out);
		else
			r = write_xlsx(st, month, l, path, err, errlen);
		if (out && out->toobig) {
			out->len = start;
			snprintf(err, errlen, "%s", om_msg(l, "report.error.too_big"));
			r = -ENOBUFS;
		}
	}
	free(st);
	return r;
}
