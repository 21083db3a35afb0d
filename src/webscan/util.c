/* util.c: the scan's arena, URL handling (libcurl's URL API) and query
 * strings. */
#include "webscan/internal.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ws_chunk {
	struct ws_chunk *next;
	size_t size, used;
	max_align_t data[];
};

void ws_arena_init(ws_arena *a, size_t max)
{
	memset(a, 0, sizeof(*a));
	a->max = max;
}

void ws_arena_free(ws_arena *a)
{
	struct ws_chunk *c = a->head;
	while (c) {
		struct ws_chunk *n = c->next;
		free(c);
		c = n;
	}
	a->head = NULL;
	a->used = 0;
}

void *ws_alloc(ws_arena *a, size_t n)
{
	if (a->failed)
		return NULL;
	n = (n + 15) & ~(size_t)15;
	struct ws_chunk *c = a->head;
	if (!c || c->size - c->used < n) {
		size_t sz = n > 65536 ? n : 65536;
		if (a->used + sz > a->max) {
			a->failed = true;
			om_warn("webscan: memory limit of %zu bytes reached", a->max);
			return NULL;
		}
		c = malloc(sizeof(*c) + sz);
		if (!c) {
			a->failed = true;
			return NULL;
		}
		c->size = sz;
		c->used = 0;
		c->next = a->head;
		a->head = c;
		a->used += sz;
	}
	void *p = (char *)c->data + c->used;
	c->used += n;
	memset(p, 0, n);
	return p;
}

char *ws_strndup(ws_arena *a, const char *s, size_t n)
{
	char *p = ws_alloc(a, n + 1);
	if (!p)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *ws_strdup(ws_arena *a, const char *s)
{
	return s ? ws_strndup(a, s, strlen(s)) : NULL;
}

char *ws_printf(ws_arena *a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	char *p = ws_alloc(a, (size_t)n + 1);
	if (!p)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

/* ---- URLs ------------------------------------------------------------------ */

char *ws_url_resolve(ws_arena *a, const char *base, const char *ref)
{
	if (!ref)
		return NULL;
	while (*ref == ' ' || *ref == '\t' || *ref == '\n' || *ref == '\r')
		ref++;
	size_t rl = strlen(ref);
	while (rl && (ref[rl - 1] == ' ' || ref[rl - 1] == '\n' || ref[rl - 1] == '\r'))
		rl--;
	if (rl == 0 || rl > WS_MAX_URL)
		return NULL;
	if (!strncasecmp(ref, "javascript:", 11) || !strncasecmp(ref, "mailto:", 7) ||
	    !strncasecmp(ref, "data:", 5) || !strncasecmp(ref, "tel:", 4))
		return NULL;
	char tmp[WS_MAX_URL + 1];
	memcpy(tmp, ref, rl);
	tmp[rl] = '\0';
	CURLU *u = curl_url();
	if (!u)
		return NULL;
	char *out = NULL, *res = NULL;
	if (base && curl_url_set(u, CURLUPART_URL, base, 0) != CURLUE_OK)
		goto out;
	if (curl_url_set(u, CURLUPART_URL, tmp, CURLU_URLENCODE | CURLU_NON_SUPPORT_SCHEME) !=
	    CURLUE_OK)
		goto out;
	char *scheme = NULL;
	if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK)
		goto out;
	bool web = !strcasecmp(scheme, "http") || !strcasecmp(scheme, "https");
	curl_free(scheme);
	if (!web)
		goto out;
	curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0);
	if (curl_url_get(u, CURLUPART_URL, &out, 0) != CURLUE_OK)
		goto out;
	if (strlen(out) <= WS_MAX_URL)
		res = ws_strdup(a, out);
out:
	curl_free(out);
	curl_url_cleanup(u);
	return res;
}

int ws_url_split(ws_arena *a, const char *url, ws_url *ret)
{
	CURLU *u = curl_url();
	if (!u)
		return -ENOMEM;
	int r = -EINVAL;
	char *scheme = NULL, *host = NULL, *path = NULL, *query = NULL, *port = NULL;
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK)
		goto out;
	if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK)
		goto out;
	if (strcasecmp(scheme, "http") && strcasecmp(scheme, "https"))
		goto out;
	curl_url_get(u, CURLUPART_QUERY, &query, 0);
	uint64_t pn = 0;
	if (om_parse_u64(port, 1, 65535, &pn) < 0)
		goto out;
	ws_url w = {ws_strdup(a, scheme), ws_strdup(a, host), ws_strdup(a, path),
	            query ? ws_strdup(a, query) : NULL, (unsigned)pn};
	if (!w.scheme || !w.host || !w.path) {
		r = -ENOMEM;
		goto out;
	}
	*ret = w;
	r = 0;
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(path);
	curl_free(query);
	curl_free(port);
	curl_url_cleanup(u);
	return r;
}

char *ws_url_noquery(ws_arena *a, const char *url)
{
	size_t n = strcspn(url, "?#");
	return ws_strndup(a, url, n);
}

void ws_urlencode(om_buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.' || *p == '~') {
			om_buf_putc(b, (char)*p);
		} else {
			char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
			om_buf_append(b, e, 3);
		}
	}
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static char *urldecode(ws_arena *a, const char *s, size_t n)
{
	char *out = ws_alloc(a, n + 1);
	if (!out)
		return NULL;
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '+') {
			out[o++] = ' ';
		} else if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 &&
		           hexval(s[i + 2]) >= 0) {
			out[o++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
			i += 2;
		} else {
			out[o++] = s[i];
		}
	}
	out[o] = '\0';
	return out;
}

size_t ws_query_parse(ws_arena *a, const char *q, ws_field *out, size_t max)
{
	size_t n = 0;
	if (!q)
		return 0;
	while (*q && n < max) {
		size_t len = strcspn(q, "&;");
		if (len) {
			const char *eq = memchr(q, '=', len);
			size_t kl = eq ? (size_t)(eq - q) : len;
			out[n].name = urldecode(a, q, kl);
			out[n].value = eq ? urldecode(a, eq + 1, len - kl - 1) : ws_strdup(a, "");
			out[n].type = "query";
			if (out[n].name && out[n].value && out[n].name[0])
				n++;
		}
		q += len;
		if (*q)
			q++;
	}
	return n;
}
