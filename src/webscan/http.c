/* http.c: the scanner's HTTP client on libcurl's multi interface. One
 * cookie jar for the scan (a curl share), a rate limit (requests per
 * second, spaced evenly) and a cap on parallel requests; redirects are not
 * followed here (the crawler decides what is in scope). Bodies and headers
 * are kept up to hard caps and truncated beyond. */
#include "webscan/internal.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

struct ws_http {
	struct ws_http_opts o;
	CURLM *multi;
	CURLSH *share;
	uint64_t requests;
	double next_at; /* monotonic seconds of the next allowed start */
	char userpwd[512];
};

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int ws_http_new(const struct ws_http_opts *o, ws_http **ret, char *err, size_t errlen)
{
	static bool global;
	if (!global) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			snprintf(err, errlen, "%s", om_tr("webscan.err.curl_init"));
			return -ENOMEM;
		}
		global = true;
	}
	ws_http *h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->o = *o;
	if (h->o.rate <= 0)
		h->o.rate = 10;
	if (!h->o.concurrency)
		h->o.concurrency = 4;
	if (!h->o.timeout_ms)
		h->o.timeout_ms = 20000;
	h->multi = curl_multi_init();
	h->share = curl_share_init();
	if (!h->multi || !h->share) {
		ws_http_free(h);
		snprintf(err, errlen, "%s", om_tr("webscan.err.curl_init"));
		return -ENOMEM;
	}
	curl_share_setopt(h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_COOKIE);
	curl_share_setopt(h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	curl_multi_setopt(h->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)h->o.concurrency);
	if (o->http_user)
		snprintf(h->userpwd, sizeof(h->userpwd), "%s:%s", o->http_user,
		         o->http_password ? o->http_password : "");
	*ret = h;
	return 0;
}

ws_http *ws_http_free(ws_http *h)
{
	if (!h)
		return NULL;
	if (h->multi)
		curl_multi_cleanup(h->multi);
	if (h->share)
		curl_share_cleanup(h->share);
	free(h);
	return NULL;
}

uint64_t ws_http_requests(const ws_http *h)
{
	return h->requests;
}

void ws_req_reset(ws_req *r)
{
	om_buf_free(&r->headers);
	om_buf_free(&r->body);
	r->done = false;
	r->status = 0;
	r->curl_code = 0;
	r->secs = 0;
	r->ctype[0] = '\0';
	r->location[0] = '\0';
}

void ws_req_free(ws_req *r)
{
	om_buf_free(&r->headers);
	om_buf_free(&r->body);
}

static size_t on_body(char *p, size_t sz, size_t n, void *user)
{
	ws_req *r = user;
	size_t len = sz * n;
	if (!r->body.toobig)
		om_buf_append(&r->body, p, len); /* past the cap: truncated, marked toobig */
	return len;
}

static size_t on_header(char *p, size_t sz, size_t n, void *user)
{
	ws_req *r = user;
	size_t len = sz * n;
	/* a new status line starts a new response (100 Continue, auth) */
	if (len > 5 && !strncmp(p, "HTTP/", 5))
		om_buf_reset(&r->headers);
	if (!r->headers.toobig)
		om_buf_append(&r->headers, p, len);
	return len;
}

bool ws_header_get(const char *hdrs, size_t len, const char *name, unsigned nth, char *out,
                   size_t outlen)
{
	size_t nl = strlen(name);
	const char *p = hdrs, *end = hdrs + len;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			eol = end;
		if ((size_t)(eol - p) > nl && !strncasecmp(p, name, nl) && p[nl] == ':') {
			if (nth == 0) {
				const char *v = p + nl + 1;
				while (v < eol && (*v == ' ' || *v == '\t'))
					v++;
				const char *ve = eol;
				while (ve > v && (ve[-1] == '\r' || ve[-1] == ' '))
					ve--;
				size_t vl = (size_t)(ve - v);
				if (vl >= outlen)
					vl = outlen - 1;
				memcpy(out, v, vl);
				out[vl] = '\0';
				return true;
			}
			nth--;
		}
		p = eol + 1;
	}
	return false;
}

static CURL *make_easy(ws_http *h, ws_req *r, curl_mime **ret_mime)
{
	CURL *e = curl_easy_init();
	if (!e)
		return NULL;
	om_buf_init(&r->body, WS_MAX_BODY);
	om_buf_init(&r->headers, WS_MAX_HEADERS);
	curl_easy_setopt(e, CURLOPT_URL, r->url);
	curl_easy_setopt(e, CURLOPT_SHARE, h->share);
	curl_easy_setopt(e, CURLOPT_COOKIEFILE, "");
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(e, CURLOPT_PRIVATE, r);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, r->timeout_ms ? r->timeout_ms : h->o.timeout_ms);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
	curl_easy_setopt(e, CURLOPT_USERAGENT,
	                 h->o.user_agent ? h->o.user_agent : "omamori-webscan/" OMAMORI_VERSION);
	if (h->o.insecure) {
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (h->userpwd[0]) {
		curl_easy_setopt(e, CURLOPT_USERPWD, h->userpwd);
		curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)(CURLAUTH_BASIC | CURLAUTH_DIGEST));
	}
	const char *m = r->method ? r->method : "GET";
	if (!strcmp(m, "HEAD")) {
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	} else if (!strcmp(m, "POST")) {
		if (r->mime) {
			curl_mime *mime = curl_mime_init(e);
			for (size_t i = 0; i < r->nmime; i++) {
				curl_mimepart *part = curl_mime_addpart(mime);
				curl_mime_name(part, r->mime[i].name);
				const char *v = r->mime[i].value ? r->mime[i].value : "";
				curl_mime_data(part, v, CURL_ZERO_TERMINATED);
				if (r->mime[i].filename) {
					curl_mime_filename(part, r->mime[i].filename);
					curl_mime_type(part, r->mime[i].filetype
					                         ? r->mime[i].filetype
					                         : "application/octet-stream");
				}
			}
			curl_easy_setopt(e, CURLOPT_MIMEPOST, mime);
			*ret_mime = mime;
		} else {
			curl_easy_setopt(e, CURLOPT_POST, 1L);
			curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, r->post ? r->post : "");
		}
	}
	return e;
}

static void finish(CURL *e, CURLcode code)
{
	ws_req *r = NULL;
	curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&r);
	r->done = true;
	r->curl_code = (int)code;
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &r->status);
	curl_easy_getinfo(e, CURLINFO_TOTAL_TIME, &r->secs);
	om_buf_cstr(&r->body);
	om_buf_cstr(&r->headers);
	if (!ws_header_get(r->headers.data, r->headers.len, "content-type", 0, r->ctype,
	                   sizeof(r->ctype)))
		r->ctype[0] = '\0';
	if (!ws_header_get(r->headers.data, r->headers.len, "location", 0, r->location,
	                   sizeof(r->location)))
		r->location[0] = '\0';
}

int ws_http_run(ws_http *h, ws_req *reqs, size_t n, unsigned conc)
{
	if (!conc || conc > h->o.concurrency)
		conc = h->o.concurrency;
	size_t next = 0, running = 0;
	CURL **easy = calloc(n ? n : 1, sizeof(*easy));
	curl_mime **mimes = calloc(n ? n : 1, sizeof(*mimes));
	if (!easy || !mimes) {
		free(easy);
		free(mimes);
		return -ENOMEM;
	}
	int rc = 0;
	double interval = 1.0 / h->o.rate;
	while (next < n || running > 0) {
		bool stop =
		    (h->o.stop && *h->o.stop) || (h->o.deadline && om_time_now() >= h->o.deadline);
		if (stop) {
			rc = -EINTR;
			next = n; /* start nothing more; let running ones finish */
		}
		double now = mono();
		while (next < n && running < conc && now >= h->next_at) {
			ws_req_reset(&reqs[next]);
			CURL *e = make_easy(h, &reqs[next], &mimes[next]);
			if (!e) {
				rc = -ENOMEM;
				next = n;
				break;
			}
			easy[next] = e;
			curl_multi_add_handle(h->multi, e);
			running++;
			next++;
			h->requests++;
			if (h->next_at < now - interval)
				h->next_at = now; /* idle time does not build up credit */
			h->next_at += interval;
		}
		int still = 0;
		curl_multi_perform(h->multi, &still);
		CURLMsg *m;
		int left;
		while ((m = curl_multi_info_read(h->multi, &left))) {
			if (m->msg != CURLMSG_DONE)
				continue;
			finish(m->easy_handle, m->data.result);
			curl_multi_remove_handle(h->multi, m->easy_handle);
			running--;
		}
		long wait_ms = 50;
		if (next < n && running < conc) {
			double d = h->next_at - mono();
			wait_ms = d <= 0 ? 0 : (long)(d * 1000) + 1;
			if (wait_ms > 50)
				wait_ms = 50;
		}
		if (running > 0 || wait_ms > 0)
			curl_multi_poll(h->multi, NULL, 0, (int)wait_ms, NULL);
	}
	for (size_t i = 0; i < n; i++) {
		if (easy[i])
			curl_easy_cleanup(easy[i]);
		if (mimes[i])
			curl_mime_free(mimes[i]);
	}
	free(easy);
	free(mimes);
	return rc;
}

/* ---- TLS: protocol and certificate ------------------------------------------ */

static long tls_probe(ws_scan *s, const char *url, long sslversion, bool verify, char *errbuf)
{
	CURL *e = curl_easy_init();
	if (!e)
		return -1;
	errbuf[0] = '\0';
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	curl_easy_setopt(e, CURLOPT_CONNECT_ONLY, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT, 15L);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(e, CURLOPT_SSLVERSION, sslversion);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, verify ? 1L : 0L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, verify ? 2L : 0L);
	CURLcode c = curl_easy_perform(e);
	curl_easy_cleanup(e);
	(void)s;
	return (long)c;
}

void ws_tls_check(ws_scan *s, const char *url)
{
	char eb[CURL_ERROR_SIZE];
	long c = tls_probe(s, url, CURL_SSLVERSION_DEFAULT, true, eb);
	if (c == CURLE_PEER_FAILED_VERIFICATION || c == CURLE_SSL_CACERT_BADFILE ||
	    c == CURLE_SSL_CERTPROBLEM) {
		ws_add(s, WS_TLS, url, "CONNECT", NULL, WS_HIGH, WS_HIGH, url, eb,
		       "webscan.detail.tls_cert");
	}
	c = tls_probe(s, url, CURL_SSLVERSION_TLSv1_0 | CURL_SSLVERSION_MAX_TLSv1_1, false, eb);
	if (c == CURLE_OK)
		ws_add(s, WS_TLS, url, "CONNECT", NULL, WS_MEDIUM, WS_HIGH, url,
		       om_tr("webscan.detail.tls_legacy_evidence"), "webscan.detail.tls_legacy");
}
