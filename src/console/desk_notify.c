/* console: the desk's notifications. A change that the company must hear
 * of (a ticket opened or closed, a device isolated or released, a domain
 * blocked, a visit) puts a message in the store's outbox, in the company's
 * language (its desk contact); `omamori desk notify` sends the outbox by
 * mail (SMTP through libcurl, as the drill does) and to the company's
 * webhook (a JSON POST). The request that caused it never waits for a mail
 * server. A message is tried CON_NOTIFY_TRIES times. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "console/internal.h"
#include "drill/drill.h"

/* snprintf that cuts without a warning: every text here has a cap and a
 * cut one is still right to show */
static void sfmt(char *out, size_t n, const char *fmt, ...) OM_PRINTF(3, 4);
static void sfmt(char *out, size_t n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(out, n, fmt, ap);
	va_end(ap);
}

#define CON_NOTIFY_TRIES 5

void con_desk_notify(om_store *s, const om_store_ticket *t, const char *what, om_usec now)
{
	om_store_desk_contact c;
	om_store_desk_message m;
	enum om_lang lang = OM_LANG_JA;
	char key[96], kk[96];

	if (om_store_desk_contact_get(s, t->tenant, &c) < 0 || (!c.mail[0] && !c.webhook[0]))
		return;
	om_lang_parse(c.lang, &lang);
	sfmt(key, sizeof(key), "desk.notify.%s", what);
	const char *msg = om_msg(lang, key);
	if (!strcmp(msg, key))
		return; /* not a change the company is told of */
	memset(&m, 0, sizeof(m));
	sfmt(m.tenant, sizeof(m.tenant), "%s", t->tenant);
	m.ticket = t->id;
	m.created = now;
	sfmt(m.subject, sizeof(m.subject), om_msg(lang, "desk.notify.subject"), (long long)t->id,
	     t->title);
	sfmt(kk, sizeof(kk), "desk.kind.%s", t->kind);
	sfmt(m.body, sizeof(m.body), om_msg(lang, "desk.notify.body"), msg, (long long)t->id,
	     t->title, om_msg(lang, kk), t->device[0] ? t->device : "-");
	if (c.mail[0]) {
		sfmt(m.channel, sizeof(m.channel), "mail");
		sfmt(m.dest, sizeof(m.dest), "%s", c.mail);
		om_store_desk_outbox_add(s, &m);
	}
	if (c.webhook[0]) {
		sfmt(m.channel, sizeof(m.channel), "webhook");
		sfmt(m.dest, sizeof(m.dest), "%s", c.webhook);
		om_store_desk_outbox_add(s, &m);
	}
}

/* A header value without CR or LF (a title comes from a user). */
static void header_safe(char *s)
{
	for (; *s; s++)
		if (*s == '\r' || *s == '\n')
			*s = ' ';
}

/* RFC 2047 "B" encoding of a UTF-8 subject. */
static void subject_b64(om_buf *b, const char *s)
{
	static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t n = strlen(s);
	om_buf_puts(b, "=?UTF-8?B?");
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned char)s[i] << 16;
		if (i + 1 < n)
			v |= (unsigned char)s[i + 1] << 8;
		if (i + 2 < n)
			v |= (unsigned char)s[i + 2];
		om_buf_putc(b, t[(v >> 18) & 63]);
		om_buf_putc(b, t[(v >> 12) & 63]);
		om_buf_putc(b, i + 1 < n ? t[(v >> 6) & 63] : '=');
		om_buf_putc(b, i + 2 < n ? t[v & 63] : '=');
	}
	om_buf_puts(b, "?=");
}

int con_desk_mail_format(const char *from, const om_store_desk_message *m, om_buf *out)
{
	char subj[256], to[512], date[64];

	sfmt(subj, sizeof(subj), "%s", m->subject);
	sfmt(to, sizeof(to), "%s", m->dest);
	header_safe(subj);
	header_safe(to);
	om_time_iso(m->created, date, sizeof(date));
	om_buf_printf(out, "From: %s\r\nTo: %s\r\nSubject: ", from, to);
	subject_b64(out, subj);
	om_buf_printf(out,
	              "\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n"
	              "Content-Transfer-Encoding: 8bit\r\nX-Omamori-Ticket: %lld\r\n\r\n",
	              (long long)m->ticket);
	/* lines end in CRLF here; curl does the dot-stuffing */
	for (const char *p = m->body; *p; p++) {
		if (*p == '\n')
			om_buf_putc(out, '\r');
		om_buf_putc(out, *p);
	}
	return om_buf_puts(out, "\r\n");
}

static size_t sink(char *p, size_t sz, size_t n, void *u)
{
	(void)p;
	(void)u;
	return sz * n;
}

static int webhook_post(const om_store_desk_message *m, const char *cacert, char *err,
                        size_t errlen)
{
	CURL *h = curl_easy_init();
	om_buf b;
	om_json j;
	long code = 0;
	char eb[CURL_ERROR_SIZE] = "";
	struct curl_slist *hd = NULL;

	if (!h)
		return -ENOMEM;
	om_buf_init(&b, 64 * 1024);
	om_json_init(&j, &b);
	om_json_obj_open(&j, NULL);
	om_json_str(&j, "tenant", m->tenant);
	om_json_i64(&j, "ticket", m->ticket);
	om_json_str(&j, "subject", m->subject);
	om_json_str(&j, "text", m->body);
	om_json_obj_close(&j);
	hd = curl_slist_append(hd, "Content-Type: application/json");
	curl_easy_setopt(h, CURLOPT_URL, m->dest);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, om_buf_cstr(&b));
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, eb);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	if (cacert && *cacert)
		curl_easy_setopt(h, CURLOPT_CAINFO, cacert);
	CURLcode cr = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	curl_slist_free_all(hd);
	curl_easy_cleanup(h);
	om_buf_free(&b);
	if (cr != CURLE_OK) {
		sfmt(err, errlen, "%s", eb[0] ? eb : curl_easy_strerror(cr));
		return -EAGAIN;
	}
	if (code < 200 || code > 299) {
		sfmt(err, errlen, "HTTP %ld", code);
		return -EAGAIN;
	}
	return 0;
}

int con_desk_send_outbox(om_store *s, const con_notify_options *o, unsigned *ret_sent,
                         unsigned *ret_failed)
{
	om_store_desk_message *m = calloc(64, sizeof(*m));
	om_drill_smtp smtp = {.url = o->smtp, .cacert = o->cacert, .insecure = o->insecure};
	size_t n = 0;
	unsigned sent = 0, failed = 0;
	int r;

	if (!m)
		return -ENOMEM;
	r = om_store_desk_outbox_pending(s, CON_NOTIFY_TRIES, m, 64, &n);
	for (size_t i = 0; r == 0 && i < n; i++) {
		char err[256] = "";
		int sr;
		if (!strcmp(m[i].channel, "mail")) {
			if (!o->smtp || !o->from) {
				continue; /* no mail server given: left for a run that has one */
			}
			om_buf b;
			om_buf_init(&b, 64 * 1024);
			con_desk_mail_format(o->from, &m[i], &b);
			sr = om_drill_smtp_send(&smtp, o->from, m[i].dest, om_buf_cstr(&b), b.len,
			                        err, sizeof(err));
			om_buf_free(&b);
		} else {
			sr = webhook_post(&m[i], o->cacert, err, sizeof(err));
		}
		om_store_desk_outbox_done(s, m[i].id, sr == 0 ? om_time_now() : 0,
		                          sr == 0 ? "" : err);
		if (sr == 0)
			sent++;
		else
			failed++;
	}
	om_drill_smtp_close(&smtp);
	free(m);
	if (ret_sent)
		*ret_sent = sent;
	if (ret_failed)
		*ret_failed = failed;
	return r;
}
