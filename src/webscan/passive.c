/* passive.c: what every response of the crawl tells without sending
 * anything: security headers, cookie flags, banners with versions, error
 * messages and configuration pages that leak internals, directory listings
 * and (on https pages) subresources fetched over plain http. Each kind is
 * reported once per directory (headers) or once per name (cookies,
 * banners), not on every page. */
#include "webscan/internal.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

bool ws_version_banner(const char *v)
{
	/* "Apache/2.4.1", "PHP/5.6.40", "nginx/1.18.0", "WordPress 5.1",
	 * "ASP.NET 4.0.30319": a product followed by a number with a dot */
	for (const char *p = v; *p; p++) {
		if (!isdigit((unsigned char)*p))
			continue;
		if (p > v && (p[-1] == '/' || p[-1] == ' ' || p[-1] == 'v') && p[1] &&
		    (p[1] == '.' || (isdigit((unsigned char)p[1]) && p[2] == '.')))
			return true;
	}
	return false;
}

static const char *dir_of(ws_scan *s, const char *url)
{
	char *d = ws_url_noquery(&s->arena, url);
	if (!d)
		return "";
	char *sl = strrchr(d, '/');
	if (sl && sl > d && sl[-1] != '/')
		sl[1] = '\0';
	return d;
}

static void headers(ws_scan *s, const ws_req *r)
{
	const char *hd = r->headers.data ? r->headers.data : "";
	size_t hl = r->headers.len;
	char v[1024];
	bool https = !strncasecmp(r->url, "https:", 6);
	const char *dir = dir_of(s, r->url);
	struct {
		const char *name;
		bool missing;
		const char *detail;
	} h[4] = {
	    {"X-Content-Type-Options", true, "webscan.detail.hdr_nosniff"},
	    {"X-Frame-Options", true, "webscan.detail.hdr_frame"},
	    {"Content-Security-Policy", true, "webscan.detail.hdr_csp"},
	    {"Strict-Transport-Security", https, "webscan.detail.hdr_hsts"},
	};
	if (ws_header_get(hd, hl, "x-content-type-options", 0, v, sizeof(v)) &&
	    strcasestr(v, "nosniff"))
		h[0].missing = false;
	if (ws_header_get(hd, hl, "x-frame-options", 0, v, sizeof(v)))
		h[1].missing = false;
	if (ws_header_get(hd, hl, "content-security-policy", 0, v, sizeof(v))) {
		h[2].missing = false;
		if (strcasestr(v, "frame-ancestors"))
			h[1].missing = false;
	}
	if (https && ws_header_get(hd, hl, "strict-transport-security", 0, v, sizeof(v)))
		h[3].missing = false;
	for (size_t i = 0; i < OM_ARRAY_SIZE(h); i++) {
		if (!h[i].missing)
			continue;
		char *key = ws_printf(&s->arena, "hdr %s %s", dir, h[i].name);
		if (!key || !ws_seen_add(s, key))
			continue;
		ws_add(s, WS_HEADER, r->url, "GET", h[i].name, i == 3 ? WS_MEDIUM : WS_LOW, WS_HIGH,
		       ws_req_text(s, r), ws_strndup(&s->arena, hd, hl > 600 ? 600 : hl),
		       h[i].detail);
	}
}

static bool session_like(const char *name)
{
	static const char *const k[] = {"sess",  "sid",      "auth", "token",
	                                "login", "remember", "user", "jwt"};
	for (size_t i = 0; i < OM_ARRAY_SIZE(k); i++)
		if (strcasestr(name, k[i]))
			return true;
	return false;
}

static void cookies(ws_scan *s, const ws_req *r)
{
	const char *hd = r->headers.data ? r->headers.data : "";
	bool https = !strncasecmp(r->url, "https:", 6);
	char v[2048];
	for (unsigned i = 0;
	     i < 64 && ws_header_get(hd, r->headers.len, "set-cookie", i, v, sizeof(v)); i++) {
		size_t nl = strcspn(v, "=;");
		if (!nl || v[nl] != '=')
			continue;
		char *name = ws_strndup(&s->arena, v, nl);
		char *key = ws_printf(&s->arena, "cookie %s", name ? name : "");
		if (!name || !key || !ws_seen_add(s, key))
			continue;
		/* a cookie being deleted (expired, empty) says nothing */
		const char *val = v + nl + 1;
		if (*val == ';' || strcasestr(v, "deleted;") || strcasestr(v, "Max-Age=0"))
			continue;
		bool httponly = strcasestr(v, "; httponly") || strcasestr(v, ";httponly");
		bool secure = strcasestr(v, "; secure") || strcasestr(v, ";secure");
		const char *ss = strcasestr(v, "samesite=");
		bool samesite =
		    ss && (!strncasecmp(ss + 9, "lax", 3) || !strncasecmp(ss + 9, "strict", 6));
		s->cookies_total++;
		if (samesite)
			s->cookies_samesite++;
		/* the missing attributes, by their names: "webscan.detail.cookie|HttpOnly,
		 * SameSite" */
		char detail[256] = "webscan.detail.cookie|";
		size_t o0 = strlen(detail), o = o0;
		if (!httponly)
			o += (size_t)snprintf(detail + o, sizeof(detail) - o, "HttpOnly");
		if (https && !secure && o < sizeof(detail))
			o += (size_t)snprintf(detail + o, sizeof(detail) - o, "%sSecure",
			                      o > o0 ? ", " : "");
		if (!ss && o < sizeof(detail))
			o += (size_t)snprintf(detail + o, sizeof(detail) - o, "%sSameSite",
			                      o > o0 ? ", " : "");
		o -= o0;
		if (!o)
			continue;
		/* only flags that protect something: HttpOnly and Secure on
		 * session-like cookies; a missing SameSite alone is low */
		enum ws_level sev = WS_LOW;
		if ((!httponly || (https && !secure)) && session_like(name))
			sev = WS_MEDIUM;
		if (httponly && (!https || secure) && ss == NULL && !session_like(name))
			continue; /* a preference cookie without SameSite: not worth a line */
		ws_add(s, WS_COOKIE, r->url, r->method, name, sev, WS_HIGH, ws_req_text(s, r),
		       ws_printf(&s->arena, "Set-Cookie: %s", v), detail);
	}
}

static void banners(ws_scan *s, const ws_req *r, const ws_html *h)
{
	const char *hd = r->headers.data ? r->headers.data : "";
	static const char *const names[] = {"server", "x-powered-by", "x-aspnet-version",
	                                    "x-aspnetmvc-version", "x-generator"};
	char v[512];
	for (size_t i = 0; i < OM_ARRAY_SIZE(names); i++) {
		if (!ws_header_get(hd, r->headers.len, names[i], 0, v, sizeof(v)))
			continue;
		if (!ws_version_banner(v) && strcmp(names[i], "x-aspnet-version"))
			continue;
		char *key = ws_printf(&s->arena, "banner %s %s", names[i], v);
		if (!key || !ws_seen_add(s, key))
			continue;
		ws_add(s, WS_BANNER, r->url, "GET", names[i], WS_LOW, WS_HIGH, ws_req_text(s, r),
		       ws_printf(&s->arena, "%s: %s", names[i], v), "webscan.detail.banner");
	}
	if (h && h->generator && ws_version_banner(h->generator)) {
		char *key = ws_printf(&s->arena, "banner generator %s", h->generator);
		if (key && ws_seen_add(s, key))
			ws_add(s, WS_BANNER, r->url, "GET", "meta generator", WS_LOW, WS_HIGH,
			       ws_req_text(s, r),
			       ws_printf(&s->arena, "<meta name=\"generator\" content=\"%s\">",
			                 h->generator),
			       "webscan.detail.banner");
	}
}

static const char *leak_pattern(const char *b, size_t len, const char **ret_what)
{
	static const struct {
		const char *needle, *what;
		bool php; /* counts only with " on line " after it */
	} pats[] = {
	    {"<title>phpinfo()</title>", "webscan.detail.leak_phpinfo", false},
	    {"Fatal error</b>:", "webscan.detail.leak_php", true},
	    {"Warning</b>:", "webscan.detail.leak_php", true},
	    {"Parse error</b>:", "webscan.detail.leak_php", true},
	    {"Notice</b>:", "webscan.detail.leak_php", true},
	    {"Traceback (most recent call last)", "webscan.detail.leak_trace", false},
	    {"Exception in thread \"", "webscan.detail.leak_trace", false},
	    {"Server Error in '/' Application", "webscan.detail.leak_aspnet", false},
	    {"Stack trace:\n#0 /", "webscan.detail.leak_trace", false},
	};
	for (size_t i = 0; i < OM_ARRAY_SIZE(pats); i++) {
		const char *p = memmem(b, len, pats[i].needle, strlen(pats[i].needle));
		if (!p)
			continue;
		if (pats[i].php) {
			size_t rest = len - (size_t)(p - b);
			if (!memmem(p, rest > 2000 ? 2000 : rest, " on line ", 9))
				continue;
		}
		*ret_what = pats[i].what;
		return pats[i].needle;
	}
	return NULL;
}

void ws_passive(ws_scan *s, const ws_req *r, const ws_html *h)
{
	if (!r->done || r->curl_code)
		return;
	bool html = h != NULL;
	/* headers matter on pages: an empty answer (a script that prints
	 * nothing) is not one */
	if (html && r->status == 200 && r->body.len > 0)
		headers(s, r);
	cookies(s, r);
	banners(s, r, h);
	const char *what = NULL;
	const char *needle = r->body.data ? leak_pattern(r->body.data, r->body.len, &what) : NULL;
	if (needle) {
		char *key =
		    ws_printf(&s->arena, "leak %s %s", ws_url_noquery(&s->arena, r->url), what);
		if (key && ws_seen_add(s, key))
			ws_add(s, WS_INFO_LEAK, r->url, r->method, NULL, WS_MEDIUM, WS_HIGH,
			       ws_req_text(s, r), ws_excerpt(s, r, needle), what);
	}
	if (h && h->dir_listing && r->status == 200)
		ws_add(s, WS_DIR_INDEX, r->url, "GET", NULL, WS_MEDIUM, WS_HIGH, ws_req_text(s, r),
		       ws_excerpt(s, r, "Index of"), "the server lists the directory's files");
	if (h && h->ninsecure) {
		char *key = ws_printf(&s->arena, "mixed %s", dir_of(s, r->url));
		if (key && ws_seen_add(s, key))
			ws_add(s, WS_TLS, r->url, "GET", NULL, WS_MEDIUM, WS_HIGH,
			       ws_req_text(s, r), h->insecure_refs[0], "webscan.detail.mixed");
	}
}
