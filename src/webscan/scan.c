/* scan.c: one scan from start to end. The safety gate (loopback and private
 * targets only, unless acknowledged or verified by a site token), the
 * findings table, login and login again, the fetch wrapper that notices a
 * lost session, and the run: crawl, active checks, site checks, output. */
#include "webscan/internal.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

const char *const ws_class_names[WS_CLASS_COUNT] = {
    "xss_reflected",  "xss_stored",     "xss_dom",   "sqli",   "sqli_blind",    "os_command",
    "path_traversal", "file_inclusion", "dir_index", "csrf",   "open_redirect", "file_upload",
    "backup_file",    "info_leak",      "header",    "cookie", "tls",           "banner",
};

int ws_class_parse(const char *s, enum ws_class *ret)
{
	for (int i = 0; i < WS_CLASS_COUNT; i++)
		if (!strcmp(s, ws_class_names[i])) {
			*ret = (enum ws_class)i;
			return 0;
		}
	return -EINVAL;
}

const char *ws_level_name(enum ws_level l)
{
	static const char *const n[] = {"none", "low", "medium", "high"};
	return l <= WS_HIGH ? n[l] : "none";
}

void om_webscan_opts_default(om_webscan_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->rate = 10;
	o->concurrency = 4;
	o->max_pages = 500;
	o->max_depth = 8;
	o->format = "text";
}

void ws_mark(ws_scan *s, char out[WS_MARK_LEN + 1])
{
	static const char al[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	uint8_t r[9];
	if (om_random_bytes(r, sizeof(r)) < 0) {
		uint64_t x = om_mix64(om_time_now() + s->rndn++);
		memcpy(r, &x, 8);
		r[8] = (uint8_t)s->rndn;
	}
	memcpy(out, "omz", 3);
	for (int i = 0; i < 9; i++)
		out[3 + i] = al[r[i] % 36];
	out[WS_MARK_LEN] = '\0';
}

/* ---- scope ------------------------------------------------------------------ */

bool ws_in_scope(ws_scan *s, const char *url)
{
	if (!url || strlen(url) > WS_MAX_URL)
		return false;
	ws_arena tmp;
	ws_arena_init(&tmp, 1u << 20);
	ws_url u;
	bool ok = ws_url_split(&tmp, url, &u) == 0 && !strcasecmp(u.host, s->target.host) &&
	          u.port == s->target.port && !strcasecmp(u.scheme, s->target.scheme) &&
	          !strncmp(u.path, s->scope_prefix, strlen(s->scope_prefix));
	ws_arena_free(&tmp);
	if (!ok)
		return false;
	for (size_t i = 0; i < s->nexcl; i++)
		if (regexec(&s->excl[i], url, 0, NULL, 0) == 0)
			return false;
	return true;
}

/* ---- findings --------------------------------------------------------------- */

static bool same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

void ws_add(ws_scan *s, enum ws_class cls, const char *url, const char *method, const char *param,
            enum ws_level sev, enum ws_level conf, const char *request, const char *excerpt,
            const char *detail)
{
	char *u = ws_url_noquery(&s->arena, url ? url : "");
	if (!u)
		return;
	/* a folder is one finding, asked for with its slash or without */
	if (cls == WS_DIR_INDEX && *u && u[strlen(u) - 1] != '/')
		u = ws_printf(&s->arena, "%s/", u);
	if (!u)
		return;
	for (size_t i = 0; i < s->nfindings; i++) {
		ws_finding *f = &s->findings[i];
		if (f->cls == cls && !strcmp(f->url, u) && same(f->param, param)) {
			if (conf > f->confidence) {
				f->confidence = conf;
				f->request = ws_strdup(&s->arena, request);
				f->excerpt = ws_strdup(&s->arena, excerpt);
			}
			return;
		}
	}
	if (s->nfindings >= WS_MAX_FINDINGS) {
		if (!s->dropped_findings++)
			om_warn("webscan: more than %u findings; the rest are counted, not kept",
			        WS_MAX_FINDINGS);
		return;
	}
	ws_finding *f = &s->findings[s->nfindings];
	f->cls = cls;
	f->url = u;
	f->method = ws_strdup(&s->arena, method ? method : "GET");
	f->param = ws_strdup(&s->arena, param);
	f->severity = sev;
	f->confidence = conf;
	f->request = ws_strdup(&s->arena, request ? request : "");
	f->excerpt = ws_strdup(&s->arena, excerpt ? excerpt : "");
	f->detail = ws_strdup(&s->arena, detail ? detail : "");
	if (f->method && f->url && f->request && f->excerpt && f->detail)
		s->nfindings++;
	ws_progress(s, false);
}

const char *ws_req_text(ws_scan *s, const ws_req *r)
{
	const char *m = r->method ? r->method : "GET";
	if (r->mime) {
		om_buf b;
		om_buf_init(&b, 4096);
		om_buf_printf(&b, "%s %s (multipart:", m, r->url);
		for (size_t i = 0; i < r->nmime; i++)
			om_buf_printf(&b, " %s=%.80s", r->mime[i].name,
			              r->mime[i].value ? r->mime[i].value : "");
		om_buf_puts(&b, ")");
		char *t = ws_strdup(&s->arena, om_buf_cstr(&b));
		om_buf_free(&b);
		return t;
	}
	if (r->post)
		return ws_printf(&s->arena, "%s %s\n\n%.2000s", m, r->url, r->post);
	return ws_printf(&s->arena, "%s %s", m, r->url);
}

const char *ws_excerpt(ws_scan *s, const ws_req *r, const char *needle)
{
	const char *b = r->body.data ? r->body.data : "";
	size_t len = r->body.len;
	size_t at = 0;
	if (needle && *needle) {
		const char *p = memmem(b, len, needle, strlen(needle));
		if (p)
			at = (size_t)(p - b);
	}
	size_t from = at > 120 ? at - 120 : 0;
	size_t to = at + 200 < len ? at + 200 : len;
	/* do not cut a UTF-8 sequence in two */
	while (from > 0 && ((unsigned char)b[from] & 0xc0) == 0x80)
		from--;
	while (to < len && ((unsigned char)b[to] & 0xc0) == 0x80)
		to++;
	return ws_strndup(&s->arena, b + from, to - from);
}

void ws_progress(ws_scan *s, bool force)
{
	if (!s->progress)
		return;
	om_usec now = om_time_now();
	if (!force && now - s->last_progress < 500000)
		return;
	s->last_progress = now;
	char line[256];
	snprintf(line, sizeof(line), om_msg(s->lang, "webscan.progress"), s->npages,
	         (unsigned long long)ws_http_requests(s->http), s->nfindings);
	fprintf(stderr, "\r%s   %s", line, force ? "\n" : "");
	fflush(stderr);
}

/* ---- login ------------------------------------------------------------------ */

static bool user_field(const ws_field *f)
{
	static const char *const names[] = {"user", "login", "email",   "mail",
	                                    "name", "uid",   "account", "id"};
	if (strcmp(f->type, "text") && strcmp(f->type, "email"))
		return false;
	for (size_t i = 0; i < OM_ARRAY_SIZE(names); i++)
		if (strcasestr(f->name, names[i]))
			return true;
	return false;
}

int ws_login(ws_scan *s)
{
	const om_webscan_opts *o = s->o;
	if (!o->login_url)
		return 0;
	ws_req r = {.url = o->login_url, .method = "GET"};
	int rc = ws_http_run(s->http, &r, 1, 1);
	if (rc == -EINTR) { /* stopped: no error of the site's */
		ws_req_free(&r);
		return rc;
	}
	if (rc < 0 || !r.done || r.status != 200) {
		ws_req_free(&r);
		om_err("%s", om_tr("webscan.err.login_page"));
		return rc < 0 ? rc : -EIO;
	}
	ws_html h;
	if (ws_html_parse(&s->arena, r.body.data ? r.body.data : "", r.body.len, o->login_url, &h) <
	    0) {
		ws_req_free(&r);
		return -ENOMEM;
	}
	ws_req_free(&r);
	ws_form *lf = NULL;
	for (size_t i = 0; i < h.nforms && !lf; i++)
		if (h.forms[i].has_password)
			lf = &h.forms[i];
	ws_html_free(&h);
	if (!lf) {
		om_err("%s", om_tr("webscan.err.login_form"));
		return -ENOENT;
	}
	/* every field as the form carries it (hidden tokens included), user and
	 * password filled in */
	bool user_set = false;
	for (size_t i = 0; i < lf->nfields; i++) {
		ws_field *f = &lf->fields[i];
		if (!strcmp(f->type, "password")) {
			f->value = o->password ? o->password : "";
		} else if (!user_set && user_field(f)) {
			f->value = o->user ? o->user : "";
			user_set = true;
		}
	}
	for (size_t i = 0; i < lf->nfields && !user_set; i++)
		if (!strcmp(lf->fields[i].type, "text") || !strcmp(lf->fields[i].type, "email")) {
			lf->fields[i].value = o->user ? o->user : "";
			user_set = true;
		}
	ws_point p = {.url = lf->action, .method = lf->method, .multipart = lf->multipart};
	memcpy(p.fields, lf->fields, lf->nfields * sizeof(ws_field));
	p.nfields = lf->nfields;
	ws_req lr;
	ws_point_req(s, &p, SIZE_MAX, NULL, &lr);
	rc = ws_http_run(s->http, &lr, 1, 1);
	bool ok = rc == 0 && lr.done && lr.status > 0 && lr.status < 400;
	/* the answer to a successful login does not ask for the password again
	 * (after one redirect within the site) */
	const char *next =
	    lr.location[0] ? ws_url_resolve(&s->arena, lf->action, lr.location) : NULL;
	bool form_again = false;
	if (ok && next && ws_in_scope(s, next)) {
		ws_req f = {.url = next, .method = "GET"};
		ws_http_run(s->http, &f, 1, 1);
		form_again = f.body.data && (strcasestr(f.body.data, "type=\"password\"") ||
		                             strcasestr(f.body.data, "type='password'") ||
		                             strcasestr(f.body.data, "type=password"));
		ws_req_free(&f);
	} else if (ok && lr.body.data) {
		form_again = strcasestr(lr.body.data, "type=\"password\"") ||
		             strcasestr(lr.body.data, "type='password'") ||
		             strcasestr(lr.body.data, "type=password");
	}
	ws_req_free(&lr);
	if (rc == -EINTR)
		return rc;
	if (!ok || form_again) {
		om_err("%s", om_tr("webscan.err.login_failed"));
		return -EACCES;
	}
	s->logged_in = true;
	s->login_action = ws_url_noquery(&s->arena, lf->action);
	return 0;
}

static bool logged_out(ws_scan *s, const ws_req *r)
{
	if (!s->logged_in || !r->done)
		return false;
	char *u = ws_url_noquery(&s->arena, r->url);
	char *lu = ws_url_noquery(&s->arena, s->o->login_url);
	if (!u || !lu || !strcmp(u, lu) || (s->login_action && !strcmp(u, s->login_action)))
		return false;
	if (r->status >= 300 && r->status < 400 && r->location[0]) {
		char *to = ws_url_resolve(&s->arena, r->url, r->location);
		char *tq = to ? ws_url_noquery(&s->arena, to) : NULL;
		return tq && (!strcmp(tq, lu) || (s->login_action && !strcmp(tq, s->login_action)));
	}
	if (r->status == 401 || r->status == 403)
		return false;
	const char *b = r->body.data;
	if (!b || !(strcasestr(b, "type=\"password\"") || strcasestr(b, "type='password'") ||
	            strcasestr(b, "type=password")))
		return false;
	ws_html h;
	if (ws_html_parse(&s->arena, b, r->body.len, r->url, &h) < 0)
		return false;
	bool out = false;
	for (size_t i = 0; i < h.nforms; i++) {
		char *fa = ws_url_noquery(&s->arena, h.forms[i].action);
		if (h.forms[i].has_password && fa &&
		    (!strcmp(fa, lu) || (s->login_action && !strcmp(fa, s->login_action))))
			out = true;
	}
	ws_html_free(&h);
	return out;
}

int ws_fetch(ws_scan *s, ws_req *reqs, size_t n, unsigned conc)
{
	int rc = ws_http_run(s->http, reqs, n, conc);
	if (rc < 0 || !s->logged_in)
		return rc;
	size_t lost = 0;
	for (size_t i = 0; i < n; i++)
		if (logged_out(s, &reqs[i]))
			lost++;
	if (!lost)
		return 0;
	if (s->relogins >= WS_MAX_RELOGIN) {
		if (s->relogins++ == WS_MAX_RELOGIN)
			om_warn("%s", om_tr("webscan.warn.relogin_limit"));
		return 0;
	}
	s->relogins++;
	om_info("webscan: session lost, logging in again");
	if (ws_login(s) < 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (!logged_out(s, &reqs[i]))
			continue;
		rc = ws_http_run(s->http, &reqs[i], 1, 1);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* ---- the safety gate ----------------------------------------------------------- */

static bool private_addr(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		uint32_t a = ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr);
		return (a >> 24) == 127 || (a >> 24) == 10 || (a >> 20) == (172u << 4 | 1) ||
		       (a >> 16) == (192u << 8 | 168) || (a >> 16) == (169u << 8 | 254);
	}
	if (sa->sa_family == AF_INET6) {
		const uint8_t *b = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
		static const uint8_t lo[16] = {[15] = 1};
		if (!memcmp(b, lo, 16))
			return true;
		if ((b[0] & 0xfe) == 0xfc || (b[0] == 0xfe && (b[1] & 0xc0) == 0x80))
			return true;
		static const uint8_t mapped[12] = {[10] = 0xff, [11] = 0xff};
		if (!memcmp(b, mapped, 12)) {
			struct sockaddr_in v4 = {.sin_family = AF_INET};
			memcpy(&v4.sin_addr, b + 12, 4);
			return private_addr((const struct sockaddr *)&v4);
		}
	}
	return false;
}

/* 1: every address of host is loopback or private; 0: not; <0: unresolved */
static int host_private(const char *host)
{
	char h[256];
	size_t n = strlen(host);
	if (n >= sizeof(h))
		return -EINVAL;
	/* [v6] as libcurl gives it */
	if (host[0] == '[' && n > 2) {
		memcpy(h, host + 1, n - 2);
		h[n - 2] = '\0';
	} else {
		memcpy(h, host, n + 1);
	}
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
	struct addrinfo *res = NULL;
	if (getaddrinfo(h, NULL, &hints, &res) != 0)
		return -ENOENT;
	int all = 1;
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next)
		if (!private_addr(ai->ai_addr))
			all = 0;
	freeaddrinfo(res);
	return all;
}

static int verify_token(ws_scan *s, char *err, size_t errlen)
{
	char *u = ws_printf(&s->arena, "%s://%s:%u/.well-known/omamori-webscan.txt",
	                    s->target.scheme, s->target.host, s->target.port);
	ws_req r = {.url = u, .method = "GET"};
	int rc = ws_http_run(s->http, &r, 1, 1);
	bool ok = rc == 0 && r.done && r.status == 200 && r.body.data &&
	          strstr(r.body.data, s->o->site_token) && strlen(s->o->site_token) >= 16;
	ws_req_free(&r);
	if (!ok) {
		snprintf(err, errlen, om_msg(s->lang, "webscan.err.token"), u ? u : "");
		return -EPERM;
	}
	return 0;
}

/* ---- the run ---------------------------------------------------------------- */

int ws_scan_setup(ws_scan *s, const om_webscan_opts *o, enum om_lang lang, char *err, size_t errlen)
{
	memset(s, 0, sizeof(*s));
	ws_arena_init(&s->arena, WS_ARENA_MAX);
	s->o = o;
	s->lang = lang;
	s->progress = o->progress;
	if (!o->target || ws_url_split(&s->arena, o->target, &s->target) < 0) {
		snprintf(err, errlen, om_msg(lang, "webscan.err.target"),
		         o->target ? o->target : "");
		return -EINVAL;
	}
	if (o->login_url) {
		ws_url lu;
		if (ws_url_split(&s->arena, o->login_url, &lu) < 0 ||
		    strcasecmp(lu.host, s->target.host) || lu.port != s->target.port) {
			snprintf(err, errlen, om_msg(lang, "webscan.err.login_url"), o->login_url);
			return -EINVAL;
		}
	}
	/* scope: the target's directory */
	const char *path = s->target.path;
	const char *slash = strrchr(path, '/');
	s->scope_prefix = ws_strndup(&s->arena, path, slash ? (size_t)(slash - path) + 1 : 0);
	if (o->nexcludes > WS_MAX_EXCLUDES) {
		snprintf(err, errlen, om_msg(lang, "webscan.err.too_many_excludes"),
		         WS_MAX_EXCLUDES);
		return -EINVAL;
	}
	for (unsigned i = 0; i < o->nexcludes; i++) {
		if (regcomp(&s->excl[s->nexcl], o->excludes[i],
		            REG_EXTENDED | REG_NOSUB | REG_ICASE)) {
			snprintf(err, errlen, om_msg(lang, "webscan.err.exclude"), o->excludes[i]);
			return -EINVAL;
		}
		s->nexcl++;
	}
	/* links that end the session are never followed */
	if (regcomp(&s->excl[s->nexcl], "log-?out|sign-?out|log-?off|abmelden",
	            REG_EXTENDED | REG_NOSUB | REG_ICASE) == 0)
		s->nexcl++;
	/* nor those whose name says they destroy or reset something (a
	 * "reset the database" button is not ours to press) */
	if (regcomp(&s->excl[s->nexcl],
	            "(^|[/_.=-])(setup|install|reset|drop|delete|remove|destroy|truncate|wipe|"
	            "uninstall)([/_.?&=-]|$)",
	            REG_EXTENDED | REG_NOSUB | REG_ICASE) == 0)
		s->nexcl++;
	s->findings = ws_alloc(&s->arena, WS_MAX_FINDINGS * sizeof(ws_finding));
	if (!s->findings)
		return -ENOMEM;
	int priv = host_private(s->target.host);
	if (priv < 0) {
		snprintf(err, errlen, om_msg(lang, "webscan.err.resolve"), s->target.host);
		return -EINVAL;
	}
	struct ws_http_opts ho = {
	    .rate = o->rate,
	    .concurrency = o->concurrency,
	    .insecure = o->insecure,
	    .stop = o->stop,
	    .http_user = o->login_url ? NULL : o->user,
	    .http_password = o->login_url ? NULL : o->password,
	};
	s->started = om_time_now();
	if (o->max_time)
		ho.deadline = s->started + (om_usec)o->max_time * 1000000u;
	int r = ws_http_new(&ho, &s->http, err, errlen);
	if (r < 0)
		return r;
	if (!priv && !o->i_own) {
		if (!o->site_token) {
			snprintf(err, errlen, om_msg(lang, "webscan.err.not_private"),
			         s->target.host);
			return -EPERM;
		}
		r = verify_token(s, err, errlen);
		if (r < 0)
			return r;
	}
	return 0;
}

void ws_scan_free(ws_scan *s)
{
	for (size_t i = 0; i < s->nexcl; i++)
		regfree(&s->excl[i]);
	s->http = ws_http_free(s->http);
	ws_arena_free(&s->arena);
}

int om_webscan_run(const om_webscan_opts *o, enum om_lang lang, char *err, size_t errlen)
{
	ws_scan *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	int r = ws_scan_setup(s, o, lang, err, errlen);
	if (r < 0)
		goto out;
	if (o->login_url) {
		r = ws_login(s);
		if (r == -EINTR) {
			/* stopped while logging in: the result says so (nothing
			 * was checked) */
			s->stopped = true;
		} else if (r < 0) {
			snprintf(err, errlen, om_msg(lang, "webscan.err.login"), o->login_url);
			goto out;
		}
	}
	if (!s->stopped) {
		if (o->baseline && (r = ws_scan_tamper_begin(s, o->baseline, err, errlen)) < 0)
			goto out;
		r = ws_crawl(s);
		ws_scan_tamper_end(s);
		if (r == -EINTR)
			s->stopped = true;
		else if (r < 0)
			goto fail;
	}
	if (!s->stopped) {
		r = ws_check_points(s);
		if (r == -EINTR)
			s->stopped = true;
		else if (r < 0)
			goto fail;
	}
	if (!s->stopped) {
		r = ws_check_site(s);
		if (r == -EINTR)
			s->stopped = true;
		else if (r < 0)
			goto fail;
	}
	s->finished = om_time_now();
	ws_progress(s, true);
	if (s->stopped)
		om_warn("%s", om_tr("webscan.warn.stopped"));
	r = ws_output(s, o->format, o->output, err, errlen);
	goto out;
fail:
	snprintf(err, errlen, om_msg(lang, "webscan.err.scan"), strerror(-r));
out:
	ws_scan_free(s);
	free(s);
	return r;
}
