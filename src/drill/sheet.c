/* drill: reading target lists. CSV (RFC 4180) and the first worksheet of an
 * XLSX file (a zip of XML: libzip and expat) become one sheet of text
 * cells, each row with the line or row number it came from, so that the
 * checks in targets.c report the same line numbers a user sees. Both are
 * hostile input: every length is checked against the caps in drill.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <expat.h>
#include <zip.h>

#include "drill/drill.h"

static void fail_at(char *err, size_t errlen, enum om_lang lang, const char *name, unsigned line,
                    const char *key, ...)
{
	char what[512];
	va_list ap;
	va_start(ap, key);
	vsnprintf(what, sizeof(what), om_msg(lang, key), ap);
	va_end(ap);
	if (err && errlen)
		snprintf(err, errlen, "%s:%u: %s", name, line, what);
}

void om_drill_sheet_free(om_drill_sheet *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nrows; i++) {
		for (unsigned c = 0; c < s->row[i].ncells; c++)
			free(s->row[i].cell[c]);
		free(s->row[i].cell);
	}
	free(s->row);
	memset(s, 0, sizeof(*s));
}

static int sheet_add_row(om_drill_sheet *s, unsigned line)
{
	if (s->nrows >= OM_DRILL_MAX_ROWS + 1)
		return -E2BIG;
	struct om_drill_srow *r = realloc(s->row, (s->nrows + 1) * sizeof(*r));
	if (!r)
		return -ENOMEM;
	s->row = r;
	r[s->nrows] = (struct om_drill_srow){.line = line};
	s->nrows++;
	return 0;
}

/* Sets cell idx of the last row (filling the gap with empty cells). */
static int sheet_set_cell(om_drill_sheet *s, unsigned idx, const char *v, size_t n)
{
	struct om_drill_srow *r = &s->row[s->nrows - 1];
	if (idx >= OM_DRILL_MAX_COLS)
		return -E2BIG;
	if (n > OM_DRILL_MAX_FIELD)
		return -EMSGSIZE;
	if (idx >= r->ncells) {
		char **c = realloc(r->cell, (idx + 1) * sizeof(*c));
		if (!c)
			return -ENOMEM;
		r->cell = c;
		for (unsigned i = r->ncells; i <= idx; i++)
			c[i] = NULL;
		r->ncells = idx + 1;
	}
	char *d = malloc(n + 1);
	if (!d)
		return -ENOMEM;
	memcpy(d, v, n);
	d[n] = 0;
	free(r->cell[idx]);
	r->cell[idx] = d;
	return 0;
}

static int cap_error(int r, char *err, size_t errlen, enum om_lang lang, const char *name,
                     unsigned line)
{
	if (r == -E2BIG)
		fail_at(err, errlen, lang, name, line, "drill.err.too_big", OM_DRILL_MAX_ROWS,
		        OM_DRILL_MAX_COLS);
	else if (r == -EMSGSIZE)
		fail_at(err, errlen, lang, name, line, "drill.err.field_long", OM_DRILL_MAX_FIELD);
	else
		fail_at(err, errlen, lang, name, line, "drill.err.nomem");
	return r == -ENOMEM ? r : -EINVAL;
}

int om_drill_csv_parse(const char *name, const char *data, size_t len, om_drill_sheet *ret,
                       enum om_lang lang, char *err, size_t errlen)
{
	om_drill_sheet s = {0};
	om_buf f;
	size_t i = 0;
	unsigned line = 1;
	int r;
	char sep = ',';

	if (len > OM_DRILL_MAX_FILE) {
		fail_at(err, errlen, lang, name, 0, "drill.err.file_big", OM_DRILL_MAX_FILE >> 20);
		return -EINVAL;
	}
	if (len >= 3 && !memcmp(data, "\xef\xbb\xbf", 3))
		i = 3;
	/* the separator: a tab in the first line and no comma means TSV */
	{
		size_t k = i;
		bool tab = false, comma = false;
		for (; k < len && data[k] != '\n'; k++) {
			tab |= data[k] == '\t';
			comma |= data[k] == ',';
		}
		if (tab && !comma)
			sep = '\t';
	}
	om_buf_init(&f, OM_DRILL_MAX_FIELD + 8);
	while (i < len) {
		unsigned start = line, col = 0;
		r = sheet_add_row(&s, start);
		if (r < 0)
			goto cap;
		for (;;) {
			om_buf_reset(&f);
			bool quoted = false;
			if (i < len && data[i] == '"') {
				quoted = true;
				i++;
				for (;;) {
					if (i >= len) {
						fail_at(err, errlen, lang, name, start,
						        "drill.err.csv_quote");
						r = -EINVAL;
						goto out;
					}
					if (data[i] == '"') {
						if (i + 1 < len && data[i + 1] == '"') {
							i += 2;
							if (om_buf_putc(&f, '"') < 0)
								goto field_long;
							continue;
						}
						i++;
						break;
					}
					if (data[i] == '\n')
						line++;
					if (om_buf_putc(&f, data[i]) < 0)
						goto field_long;
					i++;
				}
			}
			while (i < len && data[i] != sep && data[i] != '\n' && data[i] != '\r') {
				if (quoted || data[i] == '"') {
					fail_at(err, errlen, lang, name, line,
					        "drill.err.csv_quote");
					r = -EINVAL;
					goto out;
				}
				if (om_buf_putc(&f, data[i]) < 0)
					goto field_long;
				i++;
			}
			if (f.len > OM_DRILL_MAX_FIELD)
				goto field_long;
			r = sheet_set_cell(&s, col, f.len ? f.data : "", f.len);
			if (r < 0)
				goto cap;
			col++;
			if (i < len && data[i] == sep) {
				i++;
				continue;
			}
			if (i < len && data[i] == '\r')
				i++;
			if (i < len && data[i] == '\n')
				i++;
			line++;
			break;
		}
		/* a row with one empty cell is a blank line: dropped */
		struct om_drill_srow *last = &s.row[s.nrows - 1];
		if (last->ncells == 1 && !*last->cell[0]) {
			free(last->cell[0]);
			free(last->cell);
			s.nrows--;
		}
	}
	om_buf_free(&f);
	*ret = s;
	return 0;
field_long:
	r = -EMSGSIZE;
cap:
	r = cap_error(r, err, errlen, lang, name, line);
out:
	om_buf_free(&f);
	om_drill_sheet_free(&s);
	return r;
}

/* ---- XLSX ---- */

#define XLSX_MAX_PART (32u << 20)
#define XLSX_MAX_STRINGS 1000000u

struct xstrings {
	size_t n, cap;
	char **s;
	om_buf cur;
	int in_si, in_t, in_rph;
	bool bad;
};

static void xs_start(void *u, const char *el, const char **attr)
{
	struct xstrings *x = u;
	(void)attr;
	const char *l = strchr(el, ':') ? strchr(el, ':') + 1 : el;
	if (!strcmp(l, "si")) {
		x->in_si = 1;
		om_buf_reset(&x->cur);
	} else if (!strcmp(l, "rPh")) {
		x->in_rph++; /* phonetic guide (furigana): not part of the text */
	} else if (!strcmp(l, "t") && x->in_si) {
		x->in_t = 1;
	}
}

static void xs_end(void *u, const char *el)
{
	struct xstrings *x = u;
	const char *l = strchr(el, ':') ? strchr(el, ':') + 1 : el;
	if (!strcmp(l, "t")) {
		x->in_t = 0;
	} else if (!strcmp(l, "rPh")) {
		x->in_rph--;
	} else if (!strcmp(l, "si") && x->in_si) {
		x->in_si = 0;
		if (x->n >= XLSX_MAX_STRINGS) {
			x->bad = true;
			return;
		}
		if (x->n == x->cap) {
			size_t nc = x->cap ? x->cap * 2 : 64;
			char **p = realloc(x->s, nc * sizeof(*p));
			if (!p) {
				x->bad = true;
				return;
			}
			x->s = p;
			x->cap = nc;
		}
		x->s[x->n] = strdup(om_buf_cstr(&x->cur));
		if (!x->s[x->n]) {
			x->bad = true;
			return;
		}
		x->n++;
	}
}

static void xs_text(void *u, const char *s, int n)
{
	struct xstrings *x = u;
	if (x->in_si && x->in_t && !x->in_rph && n > 0 && om_buf_append(&x->cur, s, (size_t)n) < 0)
		x->bad = true;
}

struct xsheet {
	om_drill_sheet *s;
	const struct xstrings *ss;
	om_buf v;
	int in_v, in_is_t;
	unsigned row, col;
	bool in_row, in_c, str_shared, str_inline;
	int err;
	unsigned err_row;
	const char *err_key;
};

/* Column index of a cell reference "BC12" (0-based), or -1. */
static int col_of_ref(const char *ref)
{
	unsigned c = 0, k = 0;
	for (; ref[k] >= 'A' && ref[k] <= 'Z'; k++) {
		c = c * 26 + (unsigned)(ref[k] - 'A' + 1);
		if (c > OM_DRILL_MAX_COLS)
			return (int)OM_DRILL_MAX_COLS;
	}
	return k == 0 ? -1 : (int)c - 1;
}

static void xw_start(void *u, const char *el, const char **attr)
{
	struct xsheet *x = u;
	if (x->err)
		return;
	const char *l = strchr(el, ':') ? strchr(el, ':') + 1 : el;
	if (!strcmp(l, "row")) {
		unsigned rn = x->row + 1;
		for (int i = 0; attr[i]; i += 2) {
			uint64_t v;
			if (!strcmp(attr[i], "r") && om_parse_u64(attr[i + 1], 1, 1048576, &v) == 0)
				rn = (unsigned)v;
		}
		if (rn <= x->row) {
			x->err = -EINVAL;
			x->err_key = "drill.err.xlsx_bad";
			x->err_row = rn;
			return;
		}
		x->row = rn;
		x->col = 0;
		x->in_row = true;
		int r = sheet_add_row(x->s, rn);
		if (r < 0) {
			x->err = r;
			x->err_row = rn;
		}
	} else if (!strcmp(l, "c") && x->in_row) {
		x->in_c = true;
		x->str_shared = x->str_inline = false;
		om_buf_reset(&x->v);
		for (int i = 0; attr[i]; i += 2) {
			if (!strcmp(attr[i], "r")) {
				int c = col_of_ref(attr[i + 1]);
				if (c >= 0)
					x->col = (unsigned)c;
			} else if (!strcmp(attr[i], "t")) {
				x->str_shared = !strcmp(attr[i + 1], "s");
				x->str_inline = !strcmp(attr[i + 1], "inlineStr");
			}
		}
	} else if (!strcmp(l, "v") && x->in_c) {
		x->in_v = 1;
	} else if (!strcmp(l, "t") && x->in_c && x->str_inline) {
		x->in_is_t = 1;
	}
}

static void xw_end(void *u, const char *el)
{
	struct xsheet *x = u;
	if (x->err)
		return;
	const char *l = strchr(el, ':') ? strchr(el, ':') + 1 : el;
	if (!strcmp(l, "v")) {
		x->in_v = 0;
	} else if (!strcmp(l, "t")) {
		x->in_is_t = 0;
	} else if (!strcmp(l, "c") && x->in_c) {
		x->in_c = false;
		const char *val = om_buf_cstr(&x->v);
		size_t vn = x->v.len;
		if (x->str_shared) {
			uint64_t idx;
			if (om_parse_u64(val, 0, UINT32_MAX, &idx) < 0 || idx >= x->ss->n) {
				x->err = -EINVAL;
				x->err_key = "drill.err.xlsx_bad";
				x->err_row = x->row;
				return;
			}
			val = x->ss->s[idx];
			vn = strlen(val);
		}
		int r = sheet_set_cell(x->s, x->col, val, vn);
		if (r < 0) {
			x->err = r;
			x->err_row = x->row;
		}
		x->col++;
	} else if (!strcmp(l, "row")) {
		x->in_row = false;
	}
}

static void xw_text(void *u, const char *s, int n)
{
	struct xsheet *x = u;
	if (!x->err && x->in_c && (x->in_v || x->in_is_t) && n > 0 &&
	    om_buf_append(&x->v, s, (size_t)n) < 0) {
		x->err = -EMSGSIZE;
		x->err_row = x->row;
	}
}

/* Reads a part of the zip whole (capped). -ENOENT when absent. */
static int zip_part(zip_t *z, const char *part, char **ret, size_t *ret_len)
{
	zip_stat_t st;
	if (zip_stat(z, part, 0, &st) < 0)
		return -ENOENT;
	if (!(st.valid & ZIP_STAT_SIZE) || st.size > XLSX_MAX_PART)
		return -EFBIG;
	zip_file_t *f = zip_fopen(z, part, 0);
	if (!f)
		return -EINVAL;
	char *buf = malloc(st.size + 1);
	if (!buf) {
		zip_fclose(f);
		return -ENOMEM;
	}
	zip_int64_t got = zip_fread(f, buf, st.size);
	zip_fclose(f);
	if (got < 0 || (zip_uint64_t)got != st.size) {
		free(buf);
		return -EINVAL;
	}
	buf[st.size] = 0;
	*ret = buf;
	*ret_len = st.size;
	return 0;
}

static int xml_parse(const char *buf, size_t len, void *user, XML_StartElementHandler st,
                     XML_EndElementHandler en, XML_CharacterDataHandler tx)
{
	XML_Parser p = XML_ParserCreate("UTF-8");
	if (!p)
		return -ENOMEM;
	XML_SetUserData(p, user);
	XML_SetElementHandler(p, st, en);
	XML_SetCharacterDataHandler(p, tx);
	int ok = XML_Parse(p, buf, (int)len, 1) == XML_STATUS_OK;
	XML_ParserFree(p);
	return ok ? 0 : -EINVAL;
}

int om_drill_xlsx_parse(const char *name, const void *data, size_t len, om_drill_sheet *ret,
                        enum om_lang lang, char *err, size_t errlen)
{
	zip_error_t ze;
	zip_error_init(&ze);
	zip_source_t *src = zip_source_buffer_create(data, len, 0, &ze);
	zip_t *z = NULL;
	char *ssx = NULL, *shx = NULL;
	size_t ssn = 0, shn = 0;
	struct xstrings xs = {0};
	om_drill_sheet s = {0};
	int r = -EINVAL;

	om_buf_init(&xs.cur, OM_DRILL_MAX_FIELD * 4);
	if (len > OM_DRILL_MAX_FILE) {
		fail_at(err, errlen, lang, name, 0, "drill.err.file_big", OM_DRILL_MAX_FILE >> 20);
		goto out;
	}
	if (!src || !(z = zip_open_from_source(src, ZIP_RDONLY, &ze))) {
		if (src)
			zip_source_free(src);
		fail_at(err, errlen, lang, name, 0, "drill.err.xlsx_zip");
		goto out;
	}
	r = zip_part(z, "xl/sharedStrings.xml", &ssx, &ssn);
	if (r == 0) {
		if (xml_parse(ssx, ssn, &xs, xs_start, xs_end, xs_text) < 0 || xs.bad) {
			fail_at(err, errlen, lang, name, 0, "drill.err.xlsx_bad");
			r = -EINVAL;
			goto out;
		}
	} else if (r != -ENOENT) {
		fail_at(err, errlen, lang, name, 0, "drill.err.xlsx_bad");
		r = -EINVAL;
		goto out;
	}
	r = zip_part(z, "xl/worksheets/sheet1.xml", &shx, &shn);
	if (r < 0) {
		fail_at(err, errlen, lang, name, 0, "drill.err.xlsx_nosheet");
		r = -EINVAL;
		goto out;
	}
	struct xsheet xw = {.s = &s, .ss = &xs};
	om_buf_init(&xw.v, OM_DRILL_MAX_FIELD + 8);
	int pr = xml_parse(shx, shn, &xw, xw_start, xw_end, xw_text);
	om_buf_free(&xw.v);
	if (xw.err) {
		if (xw.err_key) {
			fail_at(err, errlen, lang, name, xw.err_row, xw.err_key);
			r = -EINVAL;
		} else {
			r = cap_error(xw.err, err, errlen, lang, name, xw.err_row);
		}
		goto out;
	}
	if (pr < 0) {
		fail_at(err, errlen, lang, name, xw.row, "drill.err.xlsx_bad");
		r = -EINVAL;
		goto out;
	}
	/* drop rows with no text at all */
	size_t w = 0;
	for (size_t i = 0; i < s.nrows; i++) {
		bool any = false;
		for (unsigned c = 0; c < s.row[i].ncells; c++)
			any |= s.row[i].cell[c] && *s.row[i].cell[c];
		if (any) {
			s.row[w++] = s.row[i];
		} else {
			for (unsigned c = 0; c < s.row[i].ncells; c++)
				free(s.row[i].cell[c]);
			free(s.row[i].cell);
		}
	}
	s.nrows = w;
	*ret = s;
	memset(&s, 0, sizeof(s));
	r = 0;
out:
	if (z)
		zip_discard(z);
	free(ssx);
	free(shx);
	for (size_t i = 0; i < xs.n; i++)
		free(xs.s[i]);
	free(xs.s);
	om_buf_free(&xs.cur);
	om_drill_sheet_free(&s);
	return r;
}
