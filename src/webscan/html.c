/* html.c: reading pages with gumbo (an HTML5 parser: the same tree a
 * browser builds). Links, forms with every field, scripts, iframes, hidden
 * elements, visible text and a normalised DOM hash; where a probe marker
 * landed (its context), and whether a payload became markup. The tree is
 * walked with an explicit, capped stack: hostile nesting cannot exhaust the
 * C stack. */
#include "webscan/internal.h"

#include <ctype.h>
#include <errno.h>
#include <gumbo.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define WS_WALK_MAX (1u << 20) /* nodes on the walk stack */

struct walk {
	const GumboNode **node;
	bool *hidden;
	size_t n, cap;
	bool overflow;
};

static int walk_init(struct walk *w)
{
	w->cap = 1024;
	w->n = 0;
	w->overflow = false;
	w->node = malloc(w->cap * sizeof(*w->node));
	w->hidden = malloc(w->cap * sizeof(*w->hidden));
	if (!w->node || !w->hidden) {
		free(w->node);
		free(w->hidden);
		return -ENOMEM;
	}
	return 0;
}

static void walk_free(struct walk *w)
{
	free(w->node);
	free(w->hidden);
}

static void walk_push(struct walk *w, const GumboNode *n, bool hidden)
{
	if (w->n == w->cap) {
		if (w->cap >= WS_WALK_MAX) {
			w->overflow = true;
			return;
		}
		size_t nc = w->cap * 2;
		const GumboNode **a = realloc(w->node, nc * sizeof(*a));
		if (!a) {
			w->overflow = true;
			return;
		}
		w->node = a;
		bool *b = realloc(w->hidden, nc * sizeof(*b));
		if (!b) {
			w->overflow = true;
			return;
		}
		w->hidden = b;
		w->cap = nc;
	}
	w->node[w->n] = n;
	w->hidden[w->n] = hidden;
	w->n++;
}

/* children pushed in reverse so that they pop in document order */
static void push_children(struct walk *w, const GumboNode *n, bool hidden)
{
	const GumboVector *c = NULL;
	if (n->type == GUMBO_NODE_ELEMENT || n->type == GUMBO_NODE_TEMPLATE)
		c = &n->v.element.children;
	else if (n->type == GUMBO_NODE_DOCUMENT)
		c = &n->v.document.children;
	if (!c)
		return;
	for (size_t i = c->length; i > 0; i--)
		walk_push(w, c->data[i - 1], hidden);
}

static const char *attr(const GumboNode *n, const char *name)
{
	if (n->type != GUMBO_NODE_ELEMENT)
		return NULL;
	const GumboAttribute *a = gumbo_get_attribute(&n->v.element.attributes, name);
	return a ? a->value : NULL;
}

static const char *tagname(const GumboNode *n)
{
	return gumbo_normalized_tagname(n->v.element.tag);
}

/* an element hidden by its own attributes or style */
static bool hides(const GumboNode *n)
{
	if (attr(n, "hidden"))
		return true;
	const char *st = attr(n, "style");
	if (!st)
		return false;
	char s[256];
	size_t o = 0;
	for (const char *p = st; *p && o + 1 < sizeof(s); p++)
		if (!isspace((unsigned char)*p))
			s[o++] = (char)tolower((unsigned char)*p);
	s[o] = '\0';
	return strstr(s, "display:none") || strstr(s, "visibility:hidden") || strstr(s, "left:-") ||
	       strstr(s, "top:-") || strstr(s, "font-size:0") || strstr(s, "opacity:0;") ||
	       (o >= 9 && !strcmp(s + o - 9, "opacity:0")) || strstr(s, "height:0;width:0") ||
	       strstr(s, "width:0;height:0");
}

static void add_str(ws_arena *a, const char ***arr, size_t *n, size_t *cap, const char *s)
{
	if (!s || *n >= WS_MAX_LINKS)
		return;
	for (size_t i = 0; i < *n && i < 64; i++)
		if (!strcmp((*arr)[i], s))
			return;
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 16;
		const char **na = ws_alloc(a, nc * sizeof(*na));
		if (!na)
			return;
		if (*n)
			memcpy(na, *arr, *n * sizeof(*na));
		*arr = na;
		*cap = nc;
	}
	(*arr)[(*n)++] = s;
}

static void collect_text(const GumboNode *n, om_buf *out)
{
	/* text of a textarea or option: its text children */
	const GumboVector *c = &n->v.element.children;
	for (size_t i = 0; i < c->length; i++) {
		const GumboNode *t = c->data[i];
		if (t->type == GUMBO_NODE_TEXT || t->type == GUMBO_NODE_WHITESPACE ||
		    t->type == GUMBO_NODE_CDATA)
			om_buf_puts(out, t->v.text.text);
	}
}

static void form_field(ws_arena *a, ws_form *f, const char *name, const char *value,
                       const char *type)
{
	if (!name || !*name || f->nfields >= WS_MAX_FORM_FIELDS)
		return;
	ws_field *fl = &f->fields[f->nfields++];
	fl->name = ws_strdup(a, name);
	fl->value = ws_strdup(a, value ? value : "");
	fl->type = ws_strdup(a, type);
	if (!fl->name || !fl->value || !fl->type)
		f->nfields--;
}

static void read_form(ws_arena *a, const GumboNode *form, const char *base, ws_form *f)
{
	const char *act = attr(form, "action");
	f->action = ws_url_resolve(a, base, act && *act ? act : base);
	const char *m = attr(form, "method");
	f->method = m && !strcasecmp(m, "post") ? "POST" : "GET";
	const char *enc = attr(form, "enctype");
	f->multipart = enc && !strcasecmp(enc, "multipart/form-data");
	struct walk w;
	if (walk_init(&w) < 0)
		return;
	push_children(&w, form, false);
	while (w.n) {
		const GumboNode *n = w.node[--w.n];
		if (n->type != GUMBO_NODE_ELEMENT)
			continue;
		GumboTag t = n->v.element.tag;
		const char *name = attr(n, "name");
		if (t == GUMBO_TAG_INPUT) {
			const char *type = attr(n, "type");
			char lt[32] = "text";
			if (type) {
				size_t i = 0;
				for (; type[i] && i + 1 < sizeof(lt); i++)
					lt[i] = (char)tolower((unsigned char)type[i]);
				lt[i] = '\0';
			}
			if (!strcmp(lt, "password"))
				f->has_password = true;
			if (!strcmp(lt, "file"))
				f->has_file = true;
			if ((!strcmp(lt, "checkbox") || !strcmp(lt, "radio")) && !attr(n, "value"))
				form_field(a, f, name, "on", lt);
			else if (!strcmp(lt, "image") || !strcmp(lt, "reset"))
				continue;
			else
				form_field(a, f, name, attr(n, "value"), lt);
			continue;
		}
		if (t == GUMBO_TAG_TEXTAREA) {
			om_buf b;
			om_buf_init(&b, 65536);
			collect_text(n, &b);
			form_field(a, f, name, b.len ? om_buf_cstr(&b) : "", "textarea");
			om_buf_free(&b);
			continue;
		}
		if (t == GUMBO_TAG_BUTTON) {
			const char *type = attr(n, "type");
			if (name && (!type || !strcasecmp(type, "submit")))
				form_field(a, f, name, attr(n, "value"), "submit");
			continue;
		}
		if (t == GUMBO_TAG_SELECT) {
			/* the selected option, else the first; options of
			 * nested optgroups too */
			const char *first = NULL, *sel = NULL;
			struct walk w2;
			if (walk_init(&w2) == 0) {
				push_children(&w2, n, false);
				while (w2.n) {
					const GumboNode *o = w2.node[--w2.n];
					if (o->type != GUMBO_NODE_ELEMENT)
						continue;
					if (o->v.element.tag == GUMBO_TAG_OPTION) {
						const char *v = attr(o, "value");
						om_buf b;
						om_buf_init(&b, 4096);
						if (!v) {
							collect_text(o, &b);
							v = ws_strdup(a,
							              b.len ? om_buf_cstr(&b) : "");
						}
						om_buf_free(&b);
						if (!first)
							first = v;
						if (attr(o, "selected") && !sel)
							sel = v;
					} else {
						push_children(&w2, o, false);
					}
				}
				walk_free(&w2);
			}
			form_field(a, f, name, sel ? sel : first ? first : "", "select");
			continue;
		}
		push_children(&w, n, false);
	}
	walk_free(&w);
}

static bool is_url_attr(const char *name)
{
	return !strcmp(name, "href") || !strcmp(name, "src") || !strcmp(name, "action") ||
	       !strcmp(name, "formaction") || !strcmp(name, "data");
}

static bool volatile_attr(const char *tag, const GumboNode *n, const char *name)
{
	if (!strcmp(name, "nonce") || !strcmp(name, "integrity"))
		return true;
	if (!strcmp(tag, "input") && !strcmp(name, "value")) {
		const char *t = attr(n, "type");
		return t && !strcasecmp(t, "hidden");
	}
	if (!strcmp(tag, "meta") && !strcmp(name, "content")) {
		const char *nm = attr(n, "name");
		return nm && (strstr(nm, "csrf") || strstr(nm, "token"));
	}
	return false;
}

static uint64_t mixin(uint64_t h, const char *s, size_t n)
{
	return om_mix64(h + om_hash64(s, n, 0x77656273));
}

static void text_collapse(om_buf *out, const char *s)
{
	for (const char *p = s; *p; p++) {
		if (isspace((unsigned char)*p)) {
			if (out->len && out->data[out->len - 1] != ' ')
				om_buf_putc(out, ' ');
		} else {
			om_buf_putc(out, *p);
		}
	}
}

int ws_html_parse(ws_arena *a, const char *html, size_t len, const char *base, ws_html *ret)
{
	ws_html h;
	memset(&h, 0, sizeof(h));
	om_buf_init(&h.text, 1u << 20);
	GumboOutput *g = gumbo_parse_with_options(&kGumboDefaultOptions, html, len);
	if (!g)
		return -ENOMEM;
	struct walk w;
	if (walk_init(&w) < 0) {
		gumbo_destroy_output(&kGumboDefaultOptions, g);
		return -ENOMEM;
	}
	size_t cl = 0, cs = 0, css = 0, cif = 0, chl = 0, cin = 0;
	size_t cforms = 0;
	uint64_t dh = 0x6f6d616d6f7269ULL;
	bool https = base && !strncasecmp(base, "https:", 6);
	push_children(&w, g->document, false);
	while (w.n) {
		w.n--;
		const GumboNode *n = w.node[w.n];
		bool hidden = w.hidden[w.n];
		if (n->type == GUMBO_NODE_TEXT || n->type == GUMBO_NODE_CDATA) {
			const GumboNode *p = n->parent;
			GumboTag pt = p && p->type == GUMBO_NODE_ELEMENT ? p->v.element.tag
			                                                 : GUMBO_TAG_UNKNOWN;
			if (pt == GUMBO_TAG_SCRIPT) {
				const char *txt = ws_strdup(a, n->v.text.text);
				if (txt && h.nscripts < WS_MAX_LINKS) {
					add_str(a, &h.scripts, &h.nscripts, &cs, txt);
				}
				dh = mixin(dh, n->v.text.text, strlen(n->v.text.text));
				continue;
			}
			if (pt == GUMBO_TAG_STYLE || pt == GUMBO_TAG_NOSCRIPT ||
			    pt == GUMBO_TAG_TEXTAREA || pt == GUMBO_TAG_TITLE)
				continue;
			if (!hidden) {
				if (h.text.len)
					om_buf_putc(&h.text, ' ');
				text_collapse(&h.text, n->v.text.text);
			}
			om_buf tb;
			om_buf_init(&tb, 1u << 20);
			text_collapse(&tb, n->v.text.text);
			if (tb.len)
				dh = mixin(dh, tb.data, tb.len);
			om_buf_free(&tb);
			continue;
		}
		if (n->type != GUMBO_NODE_ELEMENT && n->type != GUMBO_NODE_TEMPLATE)
			continue;
		GumboTag t = n->v.element.tag;
		const char *tn = tagname(n);
		if (!tn || !*tn)
			tn = "unknown";
		dh = mixin(dh, tn, strlen(tn));
		const GumboVector *av = &n->v.element.attributes;
		for (size_t i = 0; i < av->length; i++) {
			const GumboAttribute *at = av->data[i];
			if (volatile_attr(tn, n, at->name))
				continue;
			dh = mixin(dh, at->name, strlen(at->name));
			dh = mixin(dh, at->value, strlen(at->value));
		}
		bool hid = hidden || hides(n);
		const char *href = NULL;
		switch (t) {
		case GUMBO_TAG_A:
		case GUMBO_TAG_AREA: href = attr(n, "href"); break;
		case GUMBO_TAG_LINK: {
			href = attr(n, "href");
			const char *rel = attr(n, "rel");
			if (https && href && !strncasecmp(href, "http:", 5) && rel &&
			    strcasestr(rel, "stylesheet"))
				add_str(a, &h.insecure_refs, &h.ninsecure, &cin,
				        ws_strdup(a, href));
			break;
		}
		case GUMBO_TAG_FRAME:
		case GUMBO_TAG_IFRAME: {
			const char *src = attr(n, "src");
			char *u = ws_url_resolve(a, base, src);
			add_str(a, &h.links, &h.nlinks, &cl, u);
			add_str(a, &h.iframe_src, &h.niframe_src, &cif, u);
			if (https && src && !strncasecmp(src, "http:", 5))
				add_str(a, &h.insecure_refs, &h.ninsecure, &cin, u);
			break;
		}
		case GUMBO_TAG_SCRIPT: {
			const char *src = attr(n, "src");
			if (src) {
				char *u = ws_url_resolve(a, base, src);
				add_str(a, &h.script_src, &h.nscript_src, &css, u);
				if (https && !strncasecmp(src, "http:", 5))
					add_str(a, &h.insecure_refs, &h.ninsecure, &cin, u);
			}
			break;
		}
		case GUMBO_TAG_IMG: {
			const char *src = attr(n, "src");
			if (https && src && !strncasecmp(src, "http:", 5))
				add_str(a, &h.insecure_refs, &h.ninsecure, &cin,
				        ws_url_resolve(a, base, src));
			break;
		}
		case GUMBO_TAG_FORM:
			if (h.nforms < 256) {
				if (h.nforms == cforms) {
					size_t nc = cforms ? cforms * 2 : 4;
					ws_form *nf = ws_alloc(a, nc * sizeof(*nf));
					if (nf) {
						if (h.nforms)
							memcpy(nf, h.forms, h.nforms * sizeof(*nf));
						h.forms = nf;
						cforms = nc;
					}
				}
				if (h.nforms < cforms) {
					ws_form *f = &h.forms[h.nforms];
					memset(f, 0, sizeof(*f));
					read_form(a, n, base, f);
					if (f->action)
						h.nforms++;
				}
			}
			break;
		case GUMBO_TAG_META: {
			const char *nm = attr(n, "name");
			const char *ct = attr(n, "content");
			if (nm && ct && !strcasecmp(nm, "generator") && !h.generator)
				h.generator = ws_strdup(a, ct);
			const char *he = attr(n, "http-equiv");
			if (he && ct && !strcasecmp(he, "refresh")) {
				const char *u = strcasestr(ct, "url=");
				if (u)
					add_str(a, &h.links, &h.nlinks, &cl,
					        ws_url_resolve(a, base, u + 4));
			}
			break;
		}
		case GUMBO_TAG_TITLE:
			if (!h.title) {
				om_buf tb;
				om_buf_init(&tb, 4096);
				collect_text(n, &tb);
				om_buf tc;
				om_buf_init(&tc, 4096);
				if (tb.len)
					text_collapse(&tc, om_buf_cstr(&tb));
				h.title = ws_strdup(a, tc.len ? om_buf_cstr(&tc) : "");
				om_buf_free(&tb);
				om_buf_free(&tc);
			}
			break;
		default: break;
		}
		if (href) {
			char *u = ws_url_resolve(a, base, href);
			add_str(a, &h.links, &h.nlinks, &cl, u);
			if (hid && u)
				add_str(a, &h.hidden_links, &h.nhidden_links, &chl, u);
		}
		push_children(&w, n, hid);
	}
	if (h.title && (!strncasecmp(h.title, "Index of /", 10) ||
	                !strncasecmp(h.title, "Directory listing for", 21)))
		h.dir_listing = true;
	h.dom_hash = dh;
	walk_free(&w);
	gumbo_destroy_output(&kGumboDefaultOptions, g);
	if (a->failed) {
		om_buf_free(&h.text);
		return -ENOMEM;
	}
	*ret = h;
	return 0;
}

void ws_html_free(ws_html *h)
{
	if (h)
		om_buf_free(&h->text);
}

/* ---- markers and payloads ----------------------------------------------------- */

typedef bool (*visit_fn)(const GumboNode *n, void *user); /* true: stop */

static bool visit(const char *html, size_t len, visit_fn fn, void *user)
{
	GumboOutput *g = gumbo_parse_with_options(&kGumboDefaultOptions, html, len);
	if (!g)
		return false;
	struct walk w;
	bool hit = false;
	if (walk_init(&w) == 0) {
		walk_push(&w, g->document, false);
		while (w.n && !hit) {
			const GumboNode *n = w.node[--w.n];
			hit = fn(n, user);
			push_children(&w, n, false);
		}
		walk_free(&w);
	}
	gumbo_destroy_output(&kGumboDefaultOptions, g);
	return hit;
}

struct ctx_state {
	const char *marker;
	unsigned mask;
};

static bool ctx_visit(const GumboNode *n, void *user)
{
	struct ctx_state *st = user;
	if (n->type == GUMBO_NODE_TEXT || n->type == GUMBO_NODE_CDATA) {
		if (!strstr(n->v.text.text, st->marker))
			return false;
		const GumboNode *p = n->parent;
		GumboTag pt =
		    p && p->type == GUMBO_NODE_ELEMENT ? p->v.element.tag : GUMBO_TAG_UNKNOWN;
		if (pt == GUMBO_TAG_SCRIPT)
			st->mask |= WS_CTX_SCRIPT;
		else if (pt == GUMBO_TAG_STYLE)
			st->mask |= WS_CTX_STYLE;
		else
			st->mask |= WS_CTX_TEXT;
		return false;
	}
	if (n->type == GUMBO_NODE_COMMENT) {
		if (strstr(n->v.text.text, st->marker))
			st->mask |= WS_CTX_COMMENT;
		return false;
	}
	if (n->type != GUMBO_NODE_ELEMENT)
		return false;
	const GumboVector *av = &n->v.element.attributes;
	for (size_t i = 0; i < av->length; i++) {
		const GumboAttribute *at = av->data[i];
		if (!strstr(at->value, st->marker))
			continue;
		const char *ov = at->original_value.data;
		char q = ov && at->original_value.length ? ov[0] : 0;
		st->mask |= q == '"' ? WS_CTX_ATTR_DQ : q == '\'' ? WS_CTX_ATTR_SQ : WS_CTX_ATTR_UQ;
		if (!strncasecmp(at->name, "on", 2))
			st->mask |= WS_CTX_EVENT_ATTR;
		if (is_url_attr(at->name) && !strncmp(at->value, st->marker, strlen(st->marker)))
			st->mask |= WS_CTX_URL_ATTR;
	}
	return false;
}

unsigned ws_html_contexts(const char *html, size_t len, const char *marker)
{
	struct ctx_state st = {marker, 0};
	visit(html, len, ctx_visit, &st);
	return st.mask;
}

static bool attr_visit(const GumboNode *n, void *user)
{
	if (n->type != GUMBO_NODE_ELEMENT)
		return false;
	return gumbo_get_attribute(&n->v.element.attributes, user) != NULL;
}

bool ws_html_has_attr(const char *html, size_t len, const char *attr_name)
{
	return visit(html, len, attr_visit, (void *)attr_name);
}

static bool jsurl_visit(const GumboNode *n, void *user)
{
	if (n->type != GUMBO_NODE_ELEMENT)
		return false;
	const GumboVector *av = &n->v.element.attributes;
	for (size_t i = 0; i < av->length; i++) {
		const GumboAttribute *at = av->data[i];
		if (!is_url_attr(at->name))
			continue;
		const char *v = at->value;
		while (*v && isspace((unsigned char)*v))
			v++;
		if (!strncasecmp(v, "javascript:", 11) && strstr(v, user))
			return true;
	}
	return false;
}

bool ws_html_has_js_url(const char *html, size_t len, const char *marker)
{
	return visit(html, len, jsurl_visit, (void *)marker);
}

static bool looks_like_url(const char *s, size_t n)
{
	if (n < 2 || n > 512)
		return false;
	for (size_t i = 0; i < n; i++)
		if (isspace((unsigned char)s[i]) || s[i] == '<' || s[i] == '>' || s[i] == '{' ||
		    s[i] == '}' || s[i] == '+' || s[i] == '\\')
			return false;
	if (!strncmp(s, "http://", 7) || !strncmp(s, "https://", 8))
		return true;
	if (s[0] == '/' && s[1] != '/' && s[1] != '*')
		return true;
	static const char *const ext[] = {".php",  ".html", ".htm", ".json", ".asp",
	                                  ".aspx", ".jsp",  ".cgi", ".txt"};
	const char *q = memchr(s, '?', n);
	size_t pn = q ? (size_t)(q - s) : n;
	for (size_t i = 0; i < OM_ARRAY_SIZE(ext); i++) {
		size_t el = strlen(ext[i]);
		if (pn > el && !strncasecmp(s + pn - el, ext[i], el))
			return isalnum((unsigned char)s[0]) || s[0] == '.';
	}
	return false;
}

void ws_extract_urls(ws_arena *a, const char *text, size_t len, const char *base,
                     void (*cb)(void *user, const char *url), void *user)
{
	char tmp[520];
	for (size_t i = 0; i < len; i++) {
		char q = text[i];
		if (q != '"' && q != '\'' && q != '`')
			continue;
		size_t j = i + 1, o = 0;
		while (j < len && text[j] != q && text[j] != '\n' && o + 1 < sizeof(tmp)) {
			if (text[j] == '\\' && j + 1 < len && text[j + 1] == '/') {
				tmp[o++] = '/';
				j += 2;
				continue;
			}
			tmp[o++] = text[j++];
		}
		if (j >= len || text[j] != q) {
			i = j;
			continue;
		}
		tmp[o] = '\0';
		if (looks_like_url(tmp, o)) {
			char *u = ws_url_resolve(a, base, tmp);
			if (u)
				cb(user, u);
		}
		i = j;
	}
}
