/* drill: the report mailbox over IMAP (libcurl). Employees forward a
 * suspicious mail (inline or as an attachment) to the report address; a
 * bounce comes back to the envelope sender, which may be the same box.
 * Each unseen mail is fetched (which leaves it seen), scanned for drill
 * tokens by om_drill_mail_scan, and forgotten: only the report event or the
 * bounce is stored. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "drill/drill.h"

#define IMAP_MAX_UIDS 10000u
#define IMAP_KEYWORD "OmamoriDrillRead"

static size_t write_cb(char *p, size_t size, size_t n, void *user)
{
	om_buf *b = user;
	size_t len = size * n;
	if (om_buf_append(b, p, len) < 0)
		return 0; /* too big: curl stops with a write error */
	return len;
}

int om_drill_mail_ingest(om_store *s, const char *data, size_t len, om_usec at,
                         om_drill_poll_stats *st)
{
	om_drill_mailscan m;
	om_drill_mail_scan(data, len, &m);
	unsigned used = 0;
	if (m.dsn) {
		if (!m.failed) {
			st->ignored++;
			return 0;
		}
		for (unsigned i = 0; i < m.ntokens; i++)
			if (om_store_drill_bounce(s, m.token[i], "DSN") == 0)
				used++;
		char tok[64];
		if (!used && m.final_rcpt[0] &&
		    om_store_drill_token_by_mail(s, m.final_rcpt, tok) == 0 &&
		    om_store_drill_bounce(s, tok, "DSN") == 0)
			used++;
		if (used)
			st->bounces++;
		else
			st->ignored++;
		return 0;
	}
	for (unsigned i = 0; i < m.ntokens; i++) {
		om_store_drill_token_info ti;
		if (om_store_drill_token(s, m.token[i], &ti) < 0)
			continue;
		om_store_drill_event e = {
		    .round_id = ti.round,
		    .token = m.token[i],
		    .kind = om_drill_kind_name(OM_DRILL_EV_REPORT),
		    .ip = "",
		    .ua = "",
		    .source = "imap",
		    .at = (int64_t)at,
		};
		int r = om_store_drill_event_add(s, &e);
		if (r < 0)
			return r;
		used++;
	}
	if (used)
		st->reports++;
	else
		st->ignored++;
	return 0;
}

size_t om_drill_imap_uids(const char *resp, size_t len, uint64_t *uids, size_t max)
{
	/* the untagged answer "* SEARCH 3 7 9", on a line of its own */
	size_t n = 0;
	const char *end = resp + len;
	for (const char *l = resp; l < end && n == 0;) {
		const char *eol = memchr(l, '\n', (size_t)(end - l));
		if (!eol)
			eol = end;
		if (eol - l >= 8 && !memcmp(l, "* SEARCH", 8)) {
			const char *p = l + 8;
			while (p < eol && n < max) {
				while (p < eol && *p == ' ')
					p++;
				uint64_t v = 0;
				int nd = 0;
				while (p < eol && *p >= '0' && *p <= '9' && nd < 12)
					v = v * 10 + (uint64_t)(*p++ - '0'), nd++;
				if (!nd || v == 0)
					break;
				uids[n++] = v;
			}
		}
		l = eol < end ? eol + 1 : end;
	}
	return n;
}

static void setup(CURL *h, const om_drill_imap *c, char *errbuf)
{
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 20L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 120L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "imap,imaps");
	if (c->user && *c->user) {
		curl_easy_setopt(h, CURLOPT_USERNAME, c->user);
		curl_easy_setopt(h, CURLOPT_PASSWORD, c->password ? c->password : "");
	}
	if (c->starttls)
		curl_easy_setopt(h, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
	if (c->cacert && *c->cacert)
		curl_easy_setopt(h, CURLOPT_CAINFO, c->cacert);
	if (c->insecure) {
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	}
}

int om_drill_imap_poll(om_store *s, const om_drill_imap *c, om_drill_poll_stats *ret, char *err,
                       size_t errlen)
{
	static bool inited;
	if (!inited) {
		curl_global_init(CURL_GLOBAL_DEFAULT);
		inited = true;
	}
	om_drill_poll_stats st = {0};
	CURL *h = curl_easy_init();
	if (!h)
		return -ENOMEM;
	char errbuf[CURL_ERROR_SIZE] = "";
	om_buf b;
	om_buf_init(&b, OM_DRILL_MAX_MAIL);
	char url[1024];
	size_t ul = strlen(c->url);
	while (ul && c->url[ul - 1] == '/')
		ul--;
	int rc = 0;
	uint64_t *uids = calloc(IMAP_MAX_UIDS, sizeof(*uids));
	size_t nuids = 0;
	if (!uids) {
		rc = -ENOMEM;
		goto out;
	}
	setup(h, c, errbuf);
	snprintf(url, sizeof(url), "%.*s", (int)ul, c->url);
	curl_easy_setopt(h, CURLOPT_URL, url);
	/* our own keyword marks what was read: a person reading the box in a
	 * mail client (which clears \Recent and sets \Seen) hides nothing */
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "UID SEARCH UNKEYWORD " IMAP_KEYWORD);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
	CURLcode cr = curl_easy_perform(h);
	if (cr != CURLE_OK) {
		snprintf(err, errlen, "%s: %s", url, errbuf[0] ? errbuf : curl_easy_strerror(cr));
		rc = cr == CURLE_LOGIN_DENIED ? -EACCES : -EIO;
		goto out;
	}
	nuids = om_drill_imap_uids(b.data ? b.data : "", b.len, uids, IMAP_MAX_UIDS);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, NULL);
	for (size_t i = 0; i < nuids; i++) {
		om_buf_reset(&b);
		snprintf(url, sizeof(url), "%.*s/;UID=%llu", (int)ul, c->url,
		         (unsigned long long)uids[i]);
		curl_easy_setopt(h, CURLOPT_URL, url);
		cr = curl_easy_perform(h);
		if (cr != CURLE_OK) {
			/* one unreadable or too large mail does not stop the rest */
			st.ignored++;
			continue;
		}
		st.mails++;
		rc = om_drill_mail_ingest(s, b.data ? b.data : "", b.len, om_time_now(), &st);
		if (rc < 0) {
			snprintf(err, errlen, "%s", strerror(-rc));
			goto out;
		}
		/* marked read for the next run; a server without keywords reads it
		 * again then (a report counts once a person anyway) */
		char cmd[96];
		snprintf(cmd, sizeof(cmd), "UID STORE %llu +FLAGS (" IMAP_KEYWORD ")",
		         (unsigned long long)uids[i]);
		snprintf(url, sizeof(url), "%.*s", (int)ul, c->url);
		curl_easy_setopt(h, CURLOPT_URL, url);
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, cmd);
		om_buf_reset(&b);
		curl_easy_perform(h);
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, NULL);
	}
out:
	free(uids);
	om_buf_free(&b);
	curl_easy_cleanup(h);
	if (rc == 0)
		*ret = st;
	return rc;
}
