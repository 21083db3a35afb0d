/* drill: one message out through libcurl's SMTP (smtp:// with STARTTLS,
 * or smtps://), with login. The easy handle is kept between messages so
 * that a round reuses one connection. The SMTP reply code tells a bounce
 * (5xx: the address is refused for good) from a transient failure (4xx,
 * a lost connection), which is tried again later. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "drill/drill.h"

struct upload {
	const char *p;
	size_t left;
};

static size_t read_cb(char *buf, size_t size, size_t nitems, void *user)
{
	struct upload *u = user;
	size_t n = size * nitems;
	if (n > u->left)
		n = u->left;
	memcpy(buf, u->p, n);
	u->p += n;
	u->left -= n;
	return n;
}

int om_drill_smtp_send(om_drill_smtp *c, const char *from, const char *rcpt, const char *msg,
                       size_t len, char *detail, size_t detail_len)
{
	static bool inited;
	if (!inited) {
		curl_global_init(CURL_GLOBAL_DEFAULT);
		inited = true;
	}
	CURL *h = c->curl;
	if (!h) {
		h = curl_easy_init();
		if (!h) {
			snprintf(detail, detail_len, "curl_easy_init failed");
			return -ENOMEM;
		}
		c->curl = h;
	}
	char errbuf[CURL_ERROR_SIZE] = "";
	char fromb[300], rcptb[300];
	snprintf(fromb, sizeof(fromb), "<%s>", from);
	snprintf(rcptb, sizeof(rcptb), "<%s>", rcpt);
	struct curl_slist *rl = curl_slist_append(NULL, rcptb);
	if (!rl) {
		snprintf(detail, detail_len, "out of memory");
		return -ENOMEM;
	}
	struct upload u = {msg, len};
	curl_easy_setopt(h, CURLOPT_URL, c->url);
	curl_easy_setopt(h, CURLOPT_MAIL_FROM, fromb);
	curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rl);
	curl_easy_setopt(h, CURLOPT_READFUNCTION, read_cb);
	curl_easy_setopt(h, CURLOPT_READDATA, &u);
	curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 20L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 120L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	if (c->starttls)
		curl_easy_setopt(h, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
	if (c->user && *c->user) {
		curl_easy_setopt(h, CURLOPT_USERNAME, c->user);
		curl_easy_setopt(h, CURLOPT_PASSWORD, c->password ? c->password : "");
	}
	if (c->cacert && *c->cacert)
		curl_easy_setopt(h, CURLOPT_CAINFO, c->cacert);
	if (c->insecure) {
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	CURLcode cr = curl_easy_perform(h);
	long code = 0;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	curl_slist_free_all(rl);
	curl_easy_setopt(h, CURLOPT_MAIL_RCPT, NULL);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
	if (cr == CURLE_OK) {
		snprintf(detail, detail_len, "%ld", code ? code : 250L);
		return 0;
	}
	snprintf(detail, detail_len, "%ld %s", code, errbuf[0] ? errbuf : curl_easy_strerror(cr));
	if (cr == CURLE_LOGIN_DENIED)
		return -EACCES;
	if (code >= 500 && code < 600)
		return -EPERM;
	/* a failed connection may leave the handle unusable: start again */
	curl_easy_cleanup(h);
	c->curl = NULL;
	return -EAGAIN;
}

void om_drill_smtp_close(om_drill_smtp *c)
{
	if (c && c->curl) {
		curl_easy_cleanup(c->curl);
		c->curl = NULL;
	}
}
