/* risk.c: the risk sheet. An asset register with confidentiality,
 * integrity and availability (1..3), threat and vulnerability levels
 * (1..3) -> likelihood -> risk value 1..9, the controls chosen and an
 * implementation plan with owners and dates. In and out as CSV and XLSX
 * (written with libxlsxwriter; read as the zip of XML it is, with libzip
 * and expat: shared strings and the first worksheet).
 *
 * importance = max(C, I, A) and risk = importance x likelihood follow IPA's
 * guideline (中小企業の情報セキュリティ対策ガイドライン 第3.1版, 2023,
 * appendix 7); likelihood from threat t and vulnerability v is the table
 * the Tokyo Metropolitan Government's SME programme teaches (令和5年度中小
 * 企業サイバーセキュリティ対策継続支援事業, 2023): 3/3 -> 3, 3/2 and 2/3 -> 2,
 * all else 1, which is max(1, t + v - 3). */
#include "assess/assess.h"
#include "assess/internal.h"

#include <errno.h>
#include <expat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xlsxwriter.h>
#include <zip.h>

static const char *const risk_cols[] = {"asset",        "owner",  "confidentiality", "integrity",
                                        "availability", "threat", "vulnerability",   "control",
                                        "plan_owner",   "due"};
#define NCOLS 10
static const char *const risk_out_cols[] = {"importance", "likelihood", "risk"};

unsigned om_assess_likelihood(unsigned threat, unsigned vuln)
{
	int v = (int)threat + (int)vuln - 3;
	return v < 1 ? 1u : v > 3 ? 3u : (unsigned)v;
}

struct rload {
	om_assess_risk *r;
	bool header;
	int col[NCOLS];
	const char *name;
	enum om_lang lang;
	char *err;
	size_t errlen;
};

static int rfail(struct rload *l, size_t line, const char *field, const char *key)
{
	snprintf(l->err, l->errlen, om_msg(l->lang, "assess.err.at"), l->name, (unsigned long)line,
	         field, om_msg(l->lang, key));
	return -EINVAL;
}

static int level(struct rload *l, size_t line, const char *field, const char *s, unsigned *ret)
{
	uint64_t v;
	if (om_parse_u64(s, 1, 3, &v) < 0)
		return rfail(l, line, field, "assess.err.level");
	*ret = (unsigned)v;
	return 0;
}

static int text(struct rload *l, size_t line, const char *field, const char *s, char *dst, size_t n)
{
	if (strlen(s) >= n)
		return rfail(l, line, field, "assess.err.too_long");
	memcpy(dst, s, strlen(s) + 1);
	return 0;
}

static int risk_row(void *user, size_t line, unsigned nf, char **f)
{
	struct rload *l = user;
	if (!l->header) {
		for (int c = 0; c < NCOLS; c++) {
			l->col[c] = -1;
			for (unsigned k = 0; k < nf; k++)
				if (!strcmp(f[k], risk_cols[c]))
					l->col[c] = (int)k;
			/* control, plan_owner and due may be absent */
			if (c < 7 && l->col[c] < 0)
				return rfail(l, line, risk_cols[c], "assess.err.csv_column");
		}
		l->header = true;
		return 0;
	}
	if (l->r->n >= OM_ASSESS_MAX_ROWS)
		return rfail(l, line, "-", "assess.err.too_many_rows");
	om_assess_risk_row row;
	memset(&row, 0, sizeof(row));
	const char *v[NCOLS];
	for (int c = 0; c < NCOLS; c++) {
		v[c] = "";
		if (l->col[c] >= 0) {
			if ((unsigned)l->col[c] >= nf)
				return rfail(l, line, risk_cols[c], "assess.err.csv_missing");
			v[c] = f[l->col[c]];
		}
	}
	int rc;
	if (!v[0][0])
		return rfail(l, line, "asset", "assess.err.want_text");
	if ((rc = text(l, line, "asset", v[0], row.asset, sizeof(row.asset))) < 0 ||
	    (rc = text(l, line, "owner", v[1], row.owner, sizeof(row.owner))) < 0 ||
	    (rc = level(l, line, "confidentiality", v[2], &row.c)) < 0 ||
	    (rc = level(l, line, "integrity", v[3], &row.i)) < 0 ||
	    (rc = level(l, line, "availability", v[4], &row.a)) < 0 ||
	    (rc = level(l, line, "threat", v[5], &row.threat)) < 0 ||
	    (rc = level(l, line, "vulnerability", v[6], &row.vuln)) < 0 ||
	    (rc = text(l, line, "control", v[7], row.control, sizeof(row.control))) < 0 ||
	    (rc = text(l, line, "plan_owner", v[8], row.plan_owner, sizeof(row.plan_owner))) < 0 ||
	    (rc = text(l, line, "due", v[9], row.due, sizeof(row.due))) < 0)
		return rc;
	if (row.due[0] && !om_assess_date_ok(row.due))
		return rfail(l, line, "due", "assess.err.date");
	row.importance = row.c > row.i ? row.c : row.i;
	if (row.a > row.importance)
		row.importance = row.a;
	row.likelihood = om_assess_likelihood(row.threat, row.vuln);
	row.risk = row.importance * row.likelihood;
	l->r->row[l->r->n++] = row;
	return 0;
}

int om_assess_risk_csv(om_assess_risk *r, const char *name, const char *data, size_t len,
                       enum om_lang lang, char *err, size_t errlen)
{
	struct rload l = {.r = r, .name = name, .lang = lang, .err = err, .errlen = errlen};
	if (errlen)
		err[0] = 0;
	r->n = 0;
	size_t line = 0;
	int rc = om_assess_csv_parse(data, len, risk_row, &l, &line);
	if (rc < 0 && !err[0])
		snprintf(err, errlen, om_msg(lang, "assess.err.csv"), name, (unsigned long)line);
	if (rc == 0 && !l.header) {
		snprintf(err, errlen, om_msg(lang, "assess.err.csv_empty"), name);
		rc = -EINVAL;
	}
	return rc;
}

static void row_fields(const om_assess_risk_row *w, char num[6][8], const char *v[13])
{
	snprintf(num[0], 8, "%u", w->c);
	snprintf(num[1], 8, "%u", w->i);
	snprintf(num[2], 8, "%u", w->a);
	snprintf(num[3], 8, "%u", w->threat);
	snprintf(num[4], 8, "%u", w->vuln);
	v[0] = w->asset;
	v[1] = w->owner;
	v[2] = num[0];
	v[3] = num[1];
	v[4] = num[2];
	v[5] = num[3];
	v[6] = num[4];
	v[7] = w->control;
	v[8] = w->plan_owner;
	v[9] = w->due;
}

void om_assess_risk_write_csv(const om_assess_risk *r, om_buf *out)
{
	for (int c = 0; c < NCOLS; c++)
		om_assess_csv_field(out, risk_cols[c], false);
	for (int c = 0; c < 3; c++)
		om_assess_csv_field(out, risk_out_cols[c], c == 2);
	for (unsigned k = 0; k < r->n; k++) {
		const om_assess_risk_row *w = &r->row[k];
		char num[6][8], extra[3][8];
		const char *v[13];
		row_fields(w, num, v);
		for (int c = 0; c < NCOLS; c++)
			om_assess_csv_field(out, v[c], false);
		snprintf(extra[0], 8, "%u", w->importance);
		snprintf(extra[1], 8, "%u", w->likelihood);
		snprintf(extra[2], 8, "%u", w->risk);
		for (int c = 0; c < 3; c++)
			om_assess_csv_field(out, extra[c], c == 2);
	}
}

int om_assess_risk_write_xlsx(const om_assess_risk *r, const char *path, enum om_lang lang,
                              char *err, size_t errlen)
{
	lxw_workbook *wb = workbook_new(path);
	if (!wb) {
		snprintf(err, errlen, om_msg(lang, "assess.err.write"), path, "xlsx");
		return -EIO;
	}
	lxw_worksheet *ws = workbook_add_worksheet(wb, "risk");
	lxw_format *bold = workbook_add_format(wb);
	format_set_bold(bold);
	for (int c = 0; c < NCOLS; c++)
		worksheet_write_string(ws, 0, (lxw_col_t)c, risk_cols[c], bold);
	for (int c = 0; c < 3; c++)
		worksheet_write_string(ws, 0, (lxw_col_t)(NCOLS + c), risk_out_cols[c], bold);
	for (unsigned k = 0; k < r->n; k++) {
		const om_assess_risk_row *w = &r->row[k];
		char num[6][8];
		const char *v[13];
		row_fields(w, num, v);
		lxw_row_t row = (lxw_row_t)(k + 1);
		for (int c = 0; c < NCOLS; c++) {
			if (c >= 2 && c <= 6)
				worksheet_write_number(ws, row, (lxw_col_t)c,
				                       (double)(v[c][0] - '0'), NULL);
			else
				worksheet_write_string(ws, row, (lxw_col_t)c, v[c], NULL);
		}
		worksheet_write_number(ws, row, NCOLS, w->importance, NULL);
		worksheet_write_number(ws, row, NCOLS + 1, w->likelihood, NULL);
		worksheet_write_number(ws, row, NCOLS + 2, w->risk, NULL);
	}
	worksheet_set_column(ws, 0, 0, 28, NULL);
	worksheet_set_column(ws, 7, 7, 40, NULL);
	lxw_error e = workbook_close(wb);
	if (e != LXW_NO_ERROR) {
		snprintf(err, errlen, om_msg(lang, "assess.err.write"), path, lxw_strerror(e));
		return -EIO;
	}
	return 0;
}

/* ---- XLSX in: shared strings and the first sheet's cells -> CSV ----------- */

#define XLSX_MAX_PART (8u << 20)
#define XLSX_MAX_STRINGS 100000

struct xs {
	/* shared strings */
	char **str;
	size_t nstr;
	om_buf cur;
	bool in_si, in_t;
	/* sheet */
	char **strtab;
	size_t nstrtab;
	om_buf *csv;
	unsigned row, col;
	bool in_v, in_is_t, shared, inline_str;
	om_buf val;
	bool bad;
};

static void xs_start(void *u, const XML_Char *el, const XML_Char **at)
{
	struct xs *x = u;
	(void)at;
	if (!strcmp(el, "si")) {
		x->in_si = true;
		om_buf_reset(&x->cur);
	} else if (!strcmp(el, "t") && x->in_si) {
		x->in_t = true;
	}
}

static void xs_end(void *u, const XML_Char *el)
{
	struct xs *x = u;
	if (!strcmp(el, "t")) {
		x->in_t = false;
	} else if (!strcmp(el, "si") && x->in_si) {
		x->in_si = false;
		if (x->nstr >= XLSX_MAX_STRINGS) {
			x->bad = true;
			return;
		}
		char **n = realloc(x->str, (x->nstr + 1) * sizeof(char *));
		if (!n) {
			x->bad = true;
			return;
		}
		x->str = n;
		x->str[x->nstr] = strdup(om_buf_cstr(&x->cur));
		if (!x->str[x->nstr]) {
			x->bad = true;
			return;
		}
		x->nstr++;
	}
}

static void xs_text(void *u, const XML_Char *s, int len)
{
	struct xs *x = u;
	if (x->in_t && om_buf_append(&x->cur, s, (size_t)len) < 0)
		x->bad = true;
	if ((x->in_v || x->in_is_t) && om_buf_append(&x->val, s, (size_t)len) < 0)
		x->bad = true;
}

/* "B12" -> column 1 (0-based), row 12 */
static bool cell_ref(const char *r, unsigned *col, unsigned *row)
{
	unsigned c = 0, w = 0;
	while (*r >= 'A' && *r <= 'Z') {
		c = c * 26 + (unsigned)(*r - 'A' + 1);
		if (c > 16384)
			return false;
		r++;
	}
	uint64_t v;
	if (!c || om_parse_u64(r, 1, 1048576, &v) < 0)
		return false;
	w = (unsigned)v;
	*col = c - 1;
	*row = w;
	return true;
}

static void sh_start(void *u, const XML_Char *el, const XML_Char **at)
{
	struct xs *x = u;
	if (!strcmp(el, "c")) {
		x->shared = x->inline_str = false;
		om_buf_reset(&x->val);
		unsigned col = 0, row = 0;
		bool have = false;
		for (int i = 0; at[i]; i += 2) {
			if (!strcmp(at[i], "r"))
				have = cell_ref(at[i + 1], &col, &row);
			else if (!strcmp(at[i], "t"))
				x->shared = !strcmp(at[i + 1], "s"),
				x->inline_str = !strcmp(at[i + 1], "inlineStr");
		}
		if (!have || row < x->row || (row == x->row && col < x->col) ||
		    col >= OM_CSV_MAX_FIELDS) {
			x->bad = true;
			return;
		}
		/* new rows and skipped cells become line breaks and empty fields */
		if (x->row == 0)
			x->row = row;
		while (x->row < row) {
			om_buf_putc(x->csv, '\n');
			x->row++;
			x->col = 0;
		}
		while (x->col < col) {
			om_buf_putc(x->csv, ',');
			x->col++;
		}
	} else if (!strcmp(el, "v")) {
		x->in_v = true;
	} else if (!strcmp(el, "t") && x->inline_str) {
		x->in_is_t = true;
	}
}

static void sh_end(void *u, const XML_Char *el)
{
	struct xs *x = u;
	if (!strcmp(el, "v")) {
		x->in_v = false;
	} else if (!strcmp(el, "t")) {
		x->in_is_t = false;
	} else if (!strcmp(el, "c") && !x->bad) {
		const char *v = om_buf_cstr(&x->val);
		if (x->shared) {
			uint64_t i;
			if (om_parse_u64(v, 0, x->nstrtab ? x->nstrtab - 1 : 0, &i) < 0 ||
			    !x->nstrtab) {
				x->bad = true;
				return;
			}
			v = x->strtab[i];
		}
		if (x->col > 0)
			om_buf_putc(x->csv, ',');
		om_buf csvf;
		om_buf_init(&csvf, OM_CSV_MAX_FIELD * 2 + 4);
		om_assess_csv_field(&csvf, v, true);
		if (csvf.len)
			om_buf_append(x->csv, csvf.data, csvf.len - 1);
		om_buf_free(&csvf);
		x->col++;
	}
}

static int read_part(zip_t *z, const char *name, om_buf *b)
{
	zip_stat_t st;
	if (zip_stat(z, name, 0, &st) < 0)
		return -ENOENT;
	if (!(st.valid & ZIP_STAT_SIZE) || st.size > XLSX_MAX_PART)
		return -EFBIG;
	zip_file_t *f = zip_fopen(z, name, 0);
	if (!f)
		return -EIO;
	om_buf_init(b, XLSX_MAX_PART + 1);
	char chunk[8192];
	zip_int64_t n;
	int rc = 0;
	while ((n = zip_fread(f, chunk, sizeof(chunk))) > 0)
		if (om_buf_append(b, chunk, (size_t)n) < 0) {
			rc = -EFBIG;
			break;
		}
	if (n < 0)
		rc = -EIO;
	zip_fclose(f);
	if (rc < 0)
		om_buf_free(b);
	return rc;
}

static int parse_xml(const om_buf *b, struct xs *x, XML_StartElementHandler s,
                     XML_EndElementHandler e)
{
	XML_Parser p = XML_ParserCreate("UTF-8");
	if (!p)
		return -ENOMEM;
	XML_SetUserData(p, x);
	XML_SetElementHandler(p, s, e);
	XML_SetCharacterDataHandler(p, xs_text);
	int ok = XML_Parse(p, b->data ? b->data : "", (int)b->len, 1) == XML_STATUS_OK;
	XML_ParserFree(p);
	return ok && !x->bad ? 0 : -EINVAL;
}

int om_assess_risk_xlsx_parse(om_assess_risk *r, const char *name, const void *data, size_t len,
                              enum om_lang lang, char *err, size_t errlen)
{
	zip_error_t ze;
	zip_error_init(&ze);
	zip_source_t *zs = zip_source_buffer_create(data, len, 0, &ze);
	zip_t *z = zs ? zip_open_from_source(zs, ZIP_RDONLY, &ze) : NULL;
	zip_error_fini(&ze);
	if (!z) {
		if (zs)
			zip_source_free(zs);
		snprintf(err, errlen, om_msg(lang, "assess.err.xlsx"), name);
		return -EINVAL;
	}
	struct xs x;
	memset(&x, 0, sizeof(x));
	om_buf_init(&x.cur, OM_CSV_MAX_FIELD);
	om_buf_init(&x.val, OM_CSV_MAX_FIELD);
	om_buf csv, part;
	om_buf_init(&csv, OM_ASSESS_MAX_FILE);
	x.csv = &csv;
	int rc = read_part(z, "xl/sharedStrings.xml", &part);
	if (rc == 0) {
		rc = parse_xml(&part, &x, xs_start, xs_end);
		om_buf_free(&part);
	} else if (rc == -ENOENT) {
		rc = 0; /* a sheet of numbers only */
	}
	if (rc == 0) {
		x.strtab = x.str;
		x.nstrtab = x.nstr;
		rc = read_part(z, "xl/worksheets/sheet1.xml", &part);
		if (rc == 0) {
			rc = parse_xml(&part, &x, sh_start, sh_end);
			om_buf_free(&part);
		}
	}
	if (rc == 0 && csv.toobig)
		rc = -EFBIG;
	if (rc < 0)
		snprintf(err, errlen, om_msg(lang, "assess.err.xlsx"), name);
	else
		rc = om_assess_risk_csv(r, name, csv.data ? csv.data : "", csv.len, lang, err,
		                        errlen);
	for (size_t i = 0; i < x.nstr; i++)
		free(x.str[i]);
	free(x.str);
	om_buf_free(&x.cur);
	om_buf_free(&x.val);
	om_buf_free(&csv);
	zip_close(z); /* frees the source */
	return rc;
}

int om_assess_risk_xlsx_read(om_assess_risk *r, const char *path, enum om_lang lang, char *err,
                             size_t errlen)
{
	om_buf b;
	int rc = om_assess_read_file(path, &b, lang, err, errlen);
	if (rc < 0)
		return rc;
	rc = om_assess_risk_xlsx_parse(r, path, b.data ? b.data : "", b.len, lang, err, errlen);
	om_buf_free(&b);
	return rc;
}
