/* drill: mail templates and their variables. The shipped templates
 * (data/drill/templates/NAME.LANG.txt) and pages are built into the binary
 * by embed-data.py. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "drill/drill.h"

extern const unsigned om_drill_files_n;
extern const char *const om_drill_file_names[];
extern const char *const om_drill_file_texts[];
extern const size_t om_drill_file_lens[];

#define TPL_DIR "templates/"

static void set_err(char *err, size_t errlen, enum om_lang lang, const char *name, unsigned line,
                    const char *key, const char *arg)
{
	if (err && errlen) {
		char what[512];
		snprintf(what, sizeof(what), om_msg(lang, key), arg ? arg : "");
		snprintf(err, errlen, "%s:%u: %s", name, line, what);
	}
}

static const char *const var_names[] = {
    "name",       "mail",        "organisation", "department",  "role",
    "date",       "sender",      "link",         "report_link", "open_url",
    "attach_url", "landing_url", "title",        "token",       "submit_url",
};

static bool var_known(const char *v, size_t n)
{
	if (n > 7 && !memcmp(v, "custom.", 7))
		return true;
	for (size_t i = 0; i < OM_ARRAY_SIZE(var_names); i++)
		if (strlen(var_names[i]) == n && !memcmp(var_names[i], v, n))
			return true;
	return false;
}

/* Checks every {{...}} of text names a known variable. */
static int check_vars(const char *text, size_t len, const char **ret_bad, size_t *ret_badlen)
{
	for (size_t i = 0; i + 1 < len; i++) {
		if (text[i] != '{' || text[i + 1] != '{')
			continue;
		const char *end = NULL;
		for (size_t k = i + 2; k + 1 < len && k < i + 80; k++)
			if (text[k] == '}' && text[k + 1] == '}') {
				end = text + k;
				break;
			}
		if (!end || !var_known(text + i + 2, (size_t)(end - text - i - 2))) {
			*ret_bad = text + i;
			*ret_badlen = end ? (size_t)(end - text - i + 2) : 2;
			return -EINVAL;
		}
		i = (size_t)(end - text) + 1;
	}
	return 0;
}

int om_drill_template_parse(const char *name, const char *text, size_t len, om_drill_template *ret,
                            enum om_lang lang, char *err, size_t errlen)
{
	om_drill_template t = {.lang = lang};
	snprintf(t.name, sizeof(t.name), "%s", name);
	size_t i = 0;
	unsigned line = 1;
	bool sep = false;
	while (i < len) {
		size_t e = i;
		while (e < len && text[e] != '\n')
			e++;
		size_t n = e - i;
		if (n && text[i + n - 1] == '\r')
			n--;
		if (n == 3 && !memcmp(text + i, "---", 3)) {
			sep = true;
			i = e < len ? e + 1 : e;
			line++;
			break;
		}
		const char *colon = memchr(text + i, ':', n);
		if (!colon) {
			set_err(err, errlen, lang, name, line, "drill.err.tpl_header", NULL);
			return -EINVAL;
		}
		size_t kn = (size_t)(colon - text - i);
		const char *v = colon + 1;
		size_t vn = n - kn - 1;
		while (vn && *v == ' ')
			v++, vn--;
		const char **dst = NULL;
		size_t *dlen = NULL;
		if (kn == 7 && !memcmp(text + i, "subject", 7))
			dst = &t.subject, dlen = &t.subject_len;
		else if (kn == 9 && !memcmp(text + i, "from-name", 9))
			dst = &t.from_name, dlen = &t.from_name_len;
		else if (kn == 10 && !memcmp(text + i, "attachment", 10))
			dst = &t.attachment, dlen = &t.attachment_len;
		if (!dst) {
			char key[64];
			snprintf(key, sizeof(key), "%.*s", (int)(kn < 60 ? kn : 60), text + i);
			set_err(err, errlen, lang, name, line, "drill.err.tpl_key", key);
			return -EINVAL;
		}
		*dst = v;
		*dlen = vn;
		i = e < len ? e + 1 : e;
		line++;
	}
	if (!sep || !t.subject || !t.subject_len) {
		set_err(err, errlen, lang, name, line, "drill.err.tpl_incomplete", NULL);
		return -EINVAL;
	}
	t.body = text + i;
	t.body_len = len - i;
	const char *parts[] = {t.subject, t.from_name, t.attachment, t.body};
	size_t plen[] = {t.subject_len, t.from_name_len, t.attachment_len, t.body_len};
	for (int k = 0; k < 4; k++) {
		const char *bad;
		size_t badlen;
		if (parts[k] && check_vars(parts[k], plen[k], &bad, &badlen) < 0) {
			unsigned l = 1;
			for (const char *p = text; p < bad; p++)
				l += *p == '\n';
			char b[96];
			snprintf(b, sizeof(b), "%.*s", (int)(badlen < 80 ? badlen : 80), bad);
			set_err(err, errlen, lang, name, l, "drill.err.tpl_var", b);
			return -EINVAL;
		}
	}
	*ret = t;
	return 0;
}

static bool is_template(unsigned i)
{
	return !strncmp(om_drill_file_names[i], TPL_DIR, strlen(TPL_DIR));
}

unsigned om_drill_template_count(void)
{
	unsigned n = 0;
	for (unsigned i = 0; i < om_drill_files_n; i++)
		n += is_template(i);
	return n;
}

/* "templates/invoice.ja.txt" -> name "invoice", lang ja. */
static int shipped(unsigned fi, om_drill_template *ret)
{
	const char *base = om_drill_file_names[fi] + strlen(TPL_DIR);
	const char *dot = strchr(base, '.');
	enum om_lang lang = OM_LANG_EN;
	if (!dot)
		return -EINVAL;
	if (!strncmp(dot, ".ja.", 4))
		lang = OM_LANG_JA;
	char name[64];
	snprintf(name, sizeof(name), "%.*s", (int)(dot - base), base);
	char err[256];
	return om_drill_template_parse(name, om_drill_file_texts[fi], om_drill_file_lens[fi], ret,
	                               lang, err, sizeof(err));
}

int om_drill_template_get(unsigned i, om_drill_template *ret)
{
	for (unsigned f = 0; f < om_drill_files_n; f++)
		if (is_template(f) && i-- == 0)
			return shipped(f, ret);
	return -ENOENT;
}

int om_drill_template_find(const char *name, enum om_lang lang, om_drill_template *ret)
{
	for (unsigned i = 0; i < om_drill_template_count(); i++) {
		om_drill_template t;
		if (om_drill_template_get(i, &t) == 0 && !strcmp(t.name, name) && t.lang == lang) {
			*ret = t;
			return 0;
		}
	}
	return -ENOENT;
}

/* The value of a custom field in the target's JSON object (a flat object
 * of strings as targets.c writes it); unescapes \" and \\. */
static int custom_value(const char *json, const char *key, size_t kn, om_buf *out)
{
	if (!json)
		return 0;
	const char *p = json;
	while ((p = strchr(p, '"'))) {
		const char *k = p + 1, *q = k;
		while (*q && *q != '"')
			q += (*q == '\\' && q[1]) ? 2 : 1;
		if (!*q)
			return 0;
		bool match = (size_t)(q - k) == kn && !memcmp(k, key, kn);
		const char *v = strchr(q + 1, '"');
		if (!v)
			return 0;
		v++;
		const char *ve = v;
		while (*ve && *ve != '"')
			ve += (*ve == '\\' && ve[1]) ? 2 : 1;
		if (match) {
			for (const char *c = v; c < ve; c++) {
				if (*c == '\\' && c + 1 < ve) {
					c++;
					om_buf_putc(out, *c == 'n' ? '\n' : *c == 't' ? '\t' : *c);
				} else {
					om_buf_putc(out, *c);
				}
			}
			return 0;
		}
		if (!*ve)
			return 0;
		p = ve + 1;
	}
	return 0;
}

static const char *nz(const char *s)
{
	return s ? s : "";
}

int om_drill_expand(const char *text, size_t len, const om_drill_vars *v,
                    enum om_drill_expand_mode mode, om_buf *out)
{
	om_buf val;
	om_buf_init(&val, 1u << 16);
	int r = 0;
	for (size_t i = 0; i < len;) {
		if (i + 1 < len && text[i] == '{' && text[i + 1] == '{') {
			const char *end = NULL;
			for (size_t k = i + 2; k + 1 < len && k < i + 80; k++)
				if (text[k] == '}' && text[k + 1] == '}') {
					end = text + k;
					break;
				}
			const char *n = text + i + 2;
			size_t nn = end ? (size_t)(end - n) : 0;
			if (!end || !var_known(n, nn)) {
				r = -EINVAL;
				break;
			}
			const om_store_drill_target *t = v->target;
			const char *s = NULL;
			om_buf_reset(&val);
#define IS(x) (nn == strlen(x) && !memcmp(n, x, nn))
			if (IS("name"))
				s = t ? t->name : NULL;
			else if (IS("mail"))
				s = t ? t->mail : NULL;
			else if (IS("organisation"))
				s = t ? t->organisation : NULL;
			else if (IS("department"))
				s = t ? t->department : NULL;
			else if (IS("role"))
				s = t ? t->role : NULL;
			else if (IS("date"))
				s = v->date;
			else if (IS("sender"))
				s = v->sender;
			else if (IS("link"))
				s = v->link;
			else if (IS("report_link"))
				s = v->report_link;
			else if (IS("open_url"))
				s = v->open_url;
			else if (IS("attach_url"))
				s = v->attach_url;
			else if (IS("landing_url"))
				s = v->landing_url;
			else if (IS("token"))
				s = v->token;
			else if (IS("submit_url"))
				s = v->submit_url;
			else if (IS("title"))
				s = v->title;
			else if (nn > 7 && !memcmp(n, "custom.", 7))
				custom_value(t ? t->custom_json : NULL, n + 7, nn - 7, &val),
				    s = NULL;
			bool is_link = IS("link") || IS("report_link");
#undef IS
			const char *vs = s ? s : om_buf_cstr(&val);
			if (mode == OM_DRILL_HTML_LINKS && is_link && *vs) {
				om_buf_puts(out, "<a href=\"");
				om_buf_put_html(out, vs);
				om_buf_puts(out, "\">");
				om_buf_put_html(out, vs);
				om_buf_puts(out, "</a>");
			} else if (mode != OM_DRILL_TEXT) {
				om_buf_put_html(out, vs);
			} else {
				om_buf_puts(out, nz(vs));
			}
			i = (size_t)(end - text) + 2;
			continue;
		}
		om_buf_putc(out, text[i]);
		i++;
	}
	om_buf_free(&val);
	if (!r && out->toobig)
		r = -E2BIG;
	return r;
}

static int page(const char *file, const om_drill_vars *v, om_buf *out)
{
	for (unsigned i = 0; i < om_drill_files_n; i++)
		if (!strcmp(om_drill_file_names[i], file))
			return om_drill_expand(om_drill_file_texts[i], om_drill_file_lens[i], v,
			                       OM_DRILL_HTML, out);
	return -ENOENT;
}

int om_drill_landing(enum om_lang lang, const om_drill_vars *v, om_buf *out)
{
	return page(lang == OM_LANG_JA ? "landing.ja.html" : "landing.en.html", v, out);
}

/* The attachment page (used by mime.c). */
int om_drill_attachment_page(enum om_lang lang, const om_drill_vars *v, om_buf *out);
int om_drill_attachment_page(enum om_lang lang, const om_drill_vars *v, om_buf *out)
{
	return page(lang == OM_LANG_JA ? "attachment.ja.html" : "attachment.en.html", v, out);
}
