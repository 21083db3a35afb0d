/* crawl.c: breadth-first crawl of the site in scope. Seeds: the target,
 * robots.txt and sitemap.xml; then links, frames, form targets, URLs in
 * inline scripts and in JSON answers, redirects. Each page is checked
 * passively as it arrives; query strings and forms become insertion points
 * for the active checks (one per action, method and set of field names). */
#include "webscan/internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

bool ws_seen_add(ws_scan *s, const char *key)
{
	if (!s->seen)
		return true;
	uint64_t h = om_hash64(key, strlen(key), 0x7365656e);
	if (!h)
		h = 1;
	if (s->nseen * 2 >= s->seen_cap)
		return false; /* full: the crawl is at its page limit anyway */
	size_t i = (size_t)(h & (s->seen_cap - 1));
	while (s->seen[i]) {
		if (s->seen[i] == h)
			return false;
		i = (i + 1) & (s->seen_cap - 1);
	}
	s->seen[i] = h;
	s->nseen++;
	return true;
}

static void enqueue(ws_scan *s, const char *url, int depth)
{
	if (!url || (unsigned)depth > s->o->max_depth || !ws_in_scope(s, url))
		return;
	if (s->qtail >= s->qcap || !ws_seen_add(s, url))
		return;
	s->queue[s->qtail] = url;
	s->qdepth[s->qtail] = depth;
	s->qtail++;
}

bool ws_token_name(const char *name)
{
	static const char *const k[] = {"csrf",     "xsrf",         "token",
	                                "nonce",    "authenticity", "__requestverification",
	                                "_wpnonce", "formkey"};
	for (size_t i = 0; i < OM_ARRAY_SIZE(k); i++)
		if (strcasestr(name, k[i]))
			return true;
	return false;
}

static int cmp_field(const void *a, const void *b)
{
	const ws_field *x = a, *y = b;
	return strcmp(x->name, y->name);
}

static void add_point(ws_scan *s, const char *url, const char *method, bool multipart,
                      const ws_field *fields, size_t n, const char *page)
{
	if (!n || !url || s->npoints >= WS_MAX_POINTS || !ws_in_scope(s, url))
		return;
	if (s->o->get_only && strcmp(method, "GET"))
		return;
	ws_field sorted[WS_MAX_FORM_FIELDS];
	if (n > WS_MAX_FORM_FIELDS)
		n = WS_MAX_FORM_FIELDS;
	memcpy(sorted, fields, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), cmp_field);
	char *base =
	    strcmp(method, "GET") ? ws_strdup(&s->arena, url) : ws_url_noquery(&s->arena, url);
	om_buf key;
	om_buf_init(&key, 65536);
	om_buf_printf(&key, "point %s %s", method, base ? base : "");
	for (size_t i = 0; i < n; i++)
		om_buf_printf(&key, " %s", sorted[i].name);
	bool fresh = ws_seen_add(s, om_buf_cstr(&key));
	om_buf_free(&key);
	if (!fresh || !base)
		return;
	ws_point *p = &s->points[s->npoints++];
	memset(p, 0, sizeof(*p));
	p->url = base;
	p->method = method;
	p->multipart = multipart;
	p->page = page;
	memcpy(p->fields, fields, n * sizeof(ws_field));
	p->nfields = n;
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(fields[i].type, "hidden") && ws_token_name(fields[i].name))
			p->has_token = true;
		if (!strcmp(fields[i].type, "password"))
			p->has_password = true;
	}
}

void ws_point_req(ws_scan *s, const ws_point *p, size_t idx, const char *value, ws_req *r)
{
	memset(r, 0, sizeof(*r));
	r->method = p->method;
	if (p->multipart && !strcmp(p->method, "POST")) {
		ws_field *m = ws_alloc(&s->arena, (p->nfields ? p->nfields : 1) * sizeof(*m));
		if (!m) {
			r->url = p->url;
			return;
		}
		for (size_t i = 0; i < p->nfields; i++) {
			m[i] = p->fields[i];
			if (i == idx)
				m[i].value = value;
			if (!strcmp(p->fields[i].type, "file") && !m[i].filename) {
				m[i].filename = "omamori.txt";
				m[i].filetype = "text/plain";
				if (i != idx)
					m[i].value = "omamori webscan test file";
			}
		}
		r->url = p->url;
		r->mime = m;
		r->nmime = p->nfields;
		return;
	}
	om_buf b;
	om_buf_init(&b, 1u << 20);
	for (size_t i = 0; i < p->nfields; i++) {
		if (!strcmp(p->fields[i].type, "file"))
			continue;
		if (b.len)
			om_buf_putc(&b, '&');
		ws_urlencode(&b, p->fields[i].name);
		om_buf_putc(&b, '=');
		ws_urlencode(&b, i == idx ? value : p->fields[i].value);
	}
	const char *q = b.len ? om_buf_cstr(&b) : "";
	if (!strcmp(p->method, "GET")) {
		r->url = ws_printf(&s->arena, "%s%s%s", p->url, *q ? "?" : "", q);
	} else {
		r->url = p->url;
		r->post = ws_strdup(&s->arena, q);
	}
	om_buf_free(&b);
}

int ws_point_refresh(ws_scan *s, ws_point *p)
{
	if (!p->has_token || !p->page)
		return 0;
	ws_req r = {.url = p->page, .method = "GET"};
	int rc = ws_fetch(s, &r, 1, 1);
	if (rc < 0 || !r.done || !r.body.data) {
		ws_req_free(&r);
		return rc;
	}
	ws_html h;
	if (ws_html_parse(&s->arena, r.body.data, r.body.len, r.url, &h) == 0) {
		for (size_t i = 0; i < h.nforms; i++) {
			ws_form *f = &h.forms[i];
			char *fa = strcmp(f->method, "GET") ? ws_strdup(&s->arena, f->action)
			                                    : ws_url_noquery(&s->arena, f->action);
			if (!fa || strcmp(fa, p->url) || strcmp(f->method, p->method))
				continue;
			for (size_t j = 0; j < f->nfields; j++) {
				if (strcmp(f->fields[j].type, "hidden"))
					continue;
				for (size_t k = 0; k < p->nfields; k++)
					if (!strcmp(p->fields[k].name, f->fields[j].name))
						p->fields[k].value = f->fields[j].value;
			}
			break;
		}
		ws_html_free(&h);
	}
	ws_req_free(&r);
	return 0;
}

struct url_cb {
	ws_scan *s;
	int depth;
};

static void found_url(void *user, const char *url)
{
	struct url_cb *c = user;
	enqueue(c->s, url, c->depth);
	/* a URL with a query string is also an insertion point */
	const char *q = strchr(url, '?');
	if (q && ws_in_scope(c->s, url)) {
		ws_field f[WS_MAX_FORM_FIELDS];
		size_t n = ws_query_parse(&c->s->arena, q + 1, f, WS_MAX_FORM_FIELDS);
		add_point(c->s, url, "GET", false, f, n, NULL);
	}
}

static bool is_html(const ws_req *r)
{
	if (r->ctype[0])
		return strcasestr(r->ctype, "html") != NULL;
	const char *b = r->body.data;
	return b && (strcasestr(b, "<html") || strcasestr(b, "<body") || strcasestr(b, "<form"));
}

static void robots(ws_scan *s, const ws_req *r)
{
	if (r->status != 200 || !r->body.data)
		return;
	struct url_cb c = {s, 1};
	const char *p = r->body.data, *end = p + r->body.len;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			eol = end;
		char line[1024];
		size_t n = (size_t)(eol - p);
		if (n >= sizeof(line))
			n = sizeof(line) - 1;
		memcpy(line, p, n);
		line[n] = '\0';
		char *hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		const char *v = NULL;
		if (!strncasecmp(line, "disallow:", 9))
			v = line + 9;
		else if (!strncasecmp(line, "allow:", 6))
			v = line + 6;
		else if (!strncasecmp(line, "sitemap:", 8))
			v = line + 8;
		if (v) {
			while (*v == ' ' || *v == '\t')
				v++;
			char *e = (char *)v + strcspn(v, " \t\r*$");
			*e = '\0';
			if (*v)
				found_url(&c, ws_url_resolve(&s->arena, r->url, v));
		}
		p = eol + 1;
	}
}

static void sitemap(ws_scan *s, const ws_req *r)
{
	if (r->status != 200 || !r->body.data)
		return;
	struct url_cb c = {s, 1};
	const char *p = r->body.data;
	while ((p = strcasestr(p, "<loc>"))) {
		p += 5;
		const char *e = strcasestr(p, "</loc>");
		if (!e || e - p > WS_MAX_URL)
			break;
		char *u = ws_strndup(&s->arena, p, (size_t)(e - p));
		found_url(&c, ws_url_resolve(&s->arena, r->url, u));
		p = e;
	}
}

static void page_done(ws_scan *s, const ws_req *r, int depth)
{
	if (s->npages < s->cap_pages) {
		ws_page *pg = &s->pages[s->npages++];
		pg->url = r->url;
		pg->status = r->status;
		pg->html = is_html(r);
		pg->body_hash = om_hash64(r->body.data ? r->body.data : "", r->body.len, 1);
	}
	struct url_cb c = {s, depth + 1};
	if (r->status >= 300 && r->status < 400 && r->location[0]) {
		found_url(&c, ws_url_resolve(&s->arena, r->url, r->location));
		ws_passive(s, r, NULL);
		return;
	}
	const char *body = r->body.data ? r->body.data : "";
	/* a backup or configuration copy reached by a link (a listing shows
	 * config.inc.php.dist) */
	if (r->status == 200 && ws_backup_name(r->url) && ws_backup_content(r->url, r) &&
	    !ws_soft404(s, r->url, r))
		ws_add(s, WS_BACKUP_FILE, r->url, "GET", NULL, WS_HIGH, WS_HIGH, ws_req_text(s, r),
		       ws_excerpt(s, r, NULL), "webscan.detail.backup");
	if (!is_html(r)) {
		ws_passive(s, r, NULL);
		if (strcasestr(r->ctype, "json") || strcasestr(r->ctype, "javascript"))
			ws_extract_urls(&s->arena, body, r->body.len, r->url, found_url, &c);
		return;
	}
	ws_html h;
	if (ws_html_parse(&s->arena, body, r->body.len, r->url, &h) < 0)
		return;
	ws_passive(s, r, &h);
	if (s->on_page && r->status == 200)
		s->on_page(s->on_page_user, s, r, &h);
	for (size_t i = 0; i < h.nlinks; i++)
		found_url(&c, h.links[i]);
	for (size_t i = 0; i < h.nscript_src; i++)
		enqueue(s, h.script_src[i], depth + 1);
	for (size_t i = 0; i < h.nscripts; i++) {
		const char *sc = h.scripts[i];
		ws_extract_urls(&s->arena, sc, strlen(sc), r->url, found_url, &c);
		const char *line = NULL;
		if (ws_dom_xss(&s->arena, sc, strlen(sc), &line))
			ws_add(s, WS_XSS_DOM, r->url, "GET", NULL, WS_HIGH, WS_MEDIUM,
			       ws_printf(&s->arena, "GET %s", r->url), line, "webscan.detail.dom");
	}
	for (size_t i = 0; i < h.nforms; i++) {
		ws_form *f = &h.forms[i];
		if (!ws_in_scope(s, f->action))
			continue;
		add_point(s, f->action, f->method, f->multipart, f->fields, f->nfields, r->url);
		if (!strcmp(f->method, "GET") && !f->has_password) {
			/* a GET form submitted as found reaches its result page */
			ws_point tmp = {.url = ws_url_noquery(&s->arena, f->action),
			                .method = "GET"};
			if (tmp.url) {
				memcpy(tmp.fields, f->fields, f->nfields * sizeof(ws_field));
				tmp.nfields = f->nfields;
				ws_req fr;
				ws_point_req(s, &tmp, SIZE_MAX, NULL, &fr);
				enqueue(s, fr.url, depth + 1);
			}
		}
	}
	ws_html_free(&h);
}

int ws_crawl(ws_scan *s)
{
	unsigned maxp = s->o->max_pages ? s->o->max_pages : 500;
	if (maxp > WS_MAX_PAGES)
		maxp = WS_MAX_PAGES;
	s->cap_pages = maxp;
	s->pages = ws_alloc(&s->arena, maxp * sizeof(ws_page));
	s->seen_cap = 1024;
	while (s->seen_cap < (size_t)maxp * 16 + 2 * WS_MAX_POINTS)
		s->seen_cap *= 2;
	s->seen = ws_alloc(&s->arena, s->seen_cap * sizeof(uint64_t));
	s->qcap = (size_t)maxp * 8 + 64;
	s->queue = ws_alloc(&s->arena, s->qcap * sizeof(char *));
	s->qdepth = ws_alloc(&s->arena, s->qcap * sizeof(int));
	s->points = ws_alloc(&s->arena, WS_MAX_POINTS * sizeof(ws_point));
	if (!s->pages || !s->seen || !s->queue || !s->qdepth || !s->points)
		return -ENOMEM;
	const char *root =
	    ws_printf(&s->arena, "%s://%s:%u", s->target.scheme, s->target.host, s->target.port);
	/* robots.txt and sitemap.xml first (they live at the root, outside a
	 * path-prefix scope; only their in-scope URLs are followed) */
	ws_req seed[2] = {{.url = ws_printf(&s->arena, "%s/robots.txt", root), .method = "GET"},
	                  {.url = ws_printf(&s->arena, "%s/sitemap.xml", root), .method = "GET"}};
	ws_seen_add(s, s->o->target);
	s->queue[s->qtail] = s->o->target;
	s->qdepth[s->qtail++] = 0;
	int rc = ws_fetch(s, seed, 2, 0);
	if (rc < 0)
		return rc;
	robots(s, &seed[0]);
	sitemap(s, &seed[1]);
	ws_req_free(&seed[0]);
	ws_req_free(&seed[1]);
	unsigned conc = s->o->concurrency ? s->o->concurrency : 4;
	size_t bmax = conc * 2;
	ws_req *batch = calloc(bmax, sizeof(*batch));
	int *bdepth = calloc(bmax, sizeof(*bdepth));
	if (!batch || !bdepth) {
		free(batch);
		free(bdepth);
		return -ENOMEM;
	}
	rc = 0;
	while (s->qhead < s->qtail && s->npages < maxp) {
		size_t n = 0;
		while (n < bmax && s->qhead < s->qtail && s->npages + n < maxp) {
			memset(&batch[n], 0, sizeof(batch[n]));
			batch[n].url = s->queue[s->qhead];
			batch[n].method = "GET";
			bdepth[n] = s->qdepth[s->qhead];
			s->qhead++;
			n++;
		}
		rc = ws_fetch(s, batch, n, 0);
		for (size_t i = 0; i < n; i++) {
			if (batch[i].done && batch[i].curl_code == 0)
				page_done(s, &batch[i], bdepth[i]);
			ws_req_free(&batch[i]);
		}
		ws_progress(s, false);
		if (rc < 0 || s->arena.failed)
			break;
	}
	free(batch);
	free(bdepth);
	if (s->arena.failed)
		return -ENOMEM;
	return rc;
}

bool ws_soft404(ws_scan *s, const char *url, const ws_req *r)
{
	/* the answer of this directory to a name that cannot exist */
	char *dir = ws_url_noquery(&s->arena, url);
	if (!dir)
		return true;
	char *sl = strrchr(dir, '/');
	if (sl)
		sl[1] = '\0';
	size_t k = 0;
	for (; k < s->nsoft404; k++)
		if (!strcmp(s->soft404_dir[k], dir))
			break;
	if (k == s->nsoft404) {
		if (k == OM_ARRAY_SIZE(s->soft404_dir))
			k = 0; /* reuse the first slot: the cache is a cache */
		char m[WS_MARK_LEN + 1];
		ws_mark(s, m);
		ws_req p = {.url = ws_printf(&s->arena, "%s%s.html", dir, m), .method = "GET"};
		if (ws_fetch(s, &p, 1, 1) < 0) {
			ws_req_free(&p);
			return true;
		}
		s->soft404_dir[k] = dir;
		s->soft404_status[k] = p.status;
		s->soft404_hash[k] = p.body.len;
		if (k == s->nsoft404)
			s->nsoft404++;
		ws_req_free(&p);
	}
	if (r->status != 200)
		return true;
	if (s->soft404_status[k] != 200)
		return false;
	/* both 200: alike in length means the same "not found" page */
	uint64_t l0 = s->soft404_hash[k];
	uint64_t l1 = r->body.len;
	uint64_t d = l0 > l1 ? l0 - l1 : l1 - l0;
	return d * 10 <= (l0 > l1 ? l0 : l1) + 40;
}
