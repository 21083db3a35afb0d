/* console: tickets by mail. `omamori desk mail` reads the desk's mailbox
 * over IMAP (libcurl, as the drill reads its report box): every mail not
 * yet marked with our keyword is parsed (con_desk_mail_parse), its sender
 * looked up among the companies' desk contacts, and it becomes a ticket of
 * that company, or a comment on the ticket its subject names
 * ("[... #N]", the subject of our notifications); a mail from an unknown
 * sender is left for a person (counted, not answered). The parser takes
 * hostile input: headers are unfolded within caps, only the first text
 * part is read, base64 and quoted-printable are decoded, and RFC 2047
 * encoded words in UTF-8 are decoded in the subject. */
#include <curl/curl.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "console/internal.h"

#define MAIL_KEYWORD "OmamoriDeskRead"
#define MAIL_MAX (1024u * 1024)
#define MAIL_UIDS_MAX 1000

static void sfmt(char *out, size_t n, const char *fmt, ...) OM_PRINTF(3, 4);
static void sfmt(char *out, size_t n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(out, n, fmt, ap);
	va_end(ap);
}

/* ---- the parser ---- */

static int b64v(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Appends the decoded base64 of p[0..n) to out (at most cap - 1 bytes). */
static size_t b64_decode(const char *p, size_t n, char *out, size_t len, size_t cap)
{
	unsigned v = 0;
	int bits = 0;
	for (size_t i = 0; i < n && len + 1 < cap; i++) {
		int d = b64v((unsigned char)p[i]);
		if (d < 0)
			continue; /* line ends, padding, junk */
		v = (v << 6) | (unsigned)d;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[len++] = (char)((v >> bits) & 0xff);
		}
	}
	return len;
}

static int hexv(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static size_t qp_decode(const char *p, size_t n, char *out, size_t len, size_t cap, bool header)
{
	for (size_t i = 0; i < n && len + 1 < cap; i++) {
		if (p[i] == '=' && i + 2 < n && hexv((unsigned char)p[i + 1]) >= 0 &&
		    hexv((unsigned char)p[i + 2]) >= 0) {
			out[len++] = (char)(hexv((unsigned char)p[i + 1]) * 16 +
			                    hexv((unsigned char)p[i + 2]));
			i += 2;
		} else if (p[i] == '=' && i + 1 < n && (p[i + 1] == '\r' || p[i + 1] == '\n')) {
			/* a soft line break */
			i++;
			if (p[i] == '\r' && i + 1 < n && p[i + 1] == '\n')
				i++;
		} else if (header && p[i] == '_') {
			out[len++] = ' ';
		} else {
			out[len++] = p[i];
		}
	}
	return len;
}

/* A header value with RFC 2047 words in UTF-8 decoded (other charsets are
 * kept as written), control characters made spaces. */
static void header_decode(const char *v, size_t n, char *out, size_t cap)
{
	size_t len = 0;
	for (size_t i = 0; i < n && len + 1 < cap;) {
		if (v[i] == '=' && i + 1 < n && v[i + 1] == '?') {
			/* =?charset?enc?text?= */
			const char *cs = v + i + 2, *end = v + n;
			const char *q1 = memchr(cs, '?', (size_t)(end - cs));
			if (q1 && q1 + 2 < end && q1[2] == '?') {
				char enc = q1[1];
				const char *txt = q1 + 3;
				const char *q2 = NULL;
				for (const char *p = txt; p + 1 < end; p++)
					if (p[0] == '?' && p[1] == '=') {
						q2 = p;
						break;
					}
				if (q2 && (size_t)(q1 - cs) == 5 && !strncasecmp(cs, "utf-8", 5)) {
					if (enc == 'B' || enc == 'b')
						len = b64_decode(txt, (size_t)(q2 - txt), out, len,
						                 cap);
					else if (enc == 'Q' || enc == 'q')
						len = qp_decode(txt, (size_t)(q2 - txt), out, len,
						                cap, true);
					i = (size_t)(q2 + 2 - v);
					/* white space between two encoded words is dropped */
					size_t j = i;
					while (j < n && (v[j] == ' ' || v[j] == '\t'))
						j++;
					if (j + 1 < n && v[j] == '=' && v[j + 1] == '?')
						i = j;
					continue;
				}
			}
		}
		out[len++] = v[i++];
	}
	out[len] = '\0';
	for (char *p = out; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
}

/* The address in a From value: the part in <...>, else the value. */
static void address_of(const char *v, char *out, size_t cap)
{
	const char *lt = strrchr(v, '<'), *gt = lt ? strchr(lt, '>') : NULL;
	const char *p = v;
	size_t n = strlen(v);
	if (lt && gt) {
		p = lt + 1;
		n = (size_t)(gt - p);
	}
	while (n && (*p == ' ' || *p == '\t'))
		p++, n--;
	while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	if (n >= cap)
		n = 0;
	for (size_t i = 0; i < n; i++) {
		char c = p[i];
		out[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	out[n] = '\0';
	if (!strchr(out, '@') || strpbrk(out, " \t\"<>,;"))
		out[0] = '\0';
}

struct hdrs {
	char from[512], subject[1024], ctype[512], cte[64];
};

/* Reads the header block of p[0..n) (unfolding continuation lines);
 * returns the offset of the body. */
static size_t read_headers(const char *p, size_t n, struct hdrs *h)
{
	size_t i = 0;
	char line[2048];
	memset(h, 0, sizeof(*h));
	while (i < n) {
		size_t ll = 0;
		/* one logical line */
		for (;;) {
			size_t s = i;
			while (i < n && p[i] != '\n')
				i++;
			size_t e = i;
			if (e > s && p[e - 1] == '\r')
				e--;
			if (i < n)
				i++;
			if (ll == 0 && e == s)
				return i; /* the empty line: the body starts */
			for (size_t k = s; k < e && ll + 1 < sizeof(line); k++)
				line[ll++] = p[k];
			if (i < n && (p[i] == ' ' || p[i] == '\t'))
				continue;
			break;
		}
		line[ll] = '\0';
		char *colon = strchr(line, ':');
		if (!colon)
			continue;
		*colon = '\0';
		const char *v = colon + 1;
		while (*v == ' ' || *v == '\t')
			v++;
		if (!strcasecmp(line, "from"))
			sfmt(h->from, sizeof(h->from), "%s", v);
		else if (!strcasecmp(line, "subject"))
			sfmt(h->subject, sizeof(h->subject), "%s", v);
		else if (!strcasecmp(line, "content-type"))
			sfmt(h->ctype, sizeof(h->ctype), "%s", v);
		else if (!strcasecmp(line, "content-transfer-encoding"))
			sfmt(h->cte, sizeof(h->cte), "%s", v);
	}
	return n;
}

static bool boundary_of(const char *ctype, char *out, size_t cap)
{
	const char *b = strcasestr(ctype, "boundary=");
	if (!b)
		return false;
	b += 9;
	size_t n = 0;
	if (*b == '"') {
		b++;
		while (b[n] && b[n] != '"')
			n++;
	} else {
		while (b[n] && b[n] != ';' && b[n] != ' ' && b[n] != '\t')
			n++;
	}
	if (n == 0 || n + 1 > cap || n > 70)
		return false;
	memcpy(out, b, n);
	out[n] = '\0';
	return true;
}

static size_t body_decode(const struct hdrs *h, const char *p, size_t n, char *out, size_t cap)
{
	size_t len;
	if (!strncasecmp(h->cte, "base64", 6))
		len = b64_decode(p, n, out, 0, cap);
	else if (!strncasecmp(h->cte, "quoted-printable", 16))
		len = qp_decode(p, n, out, 0, cap, false);
	else {
		len = n < cap - 1 ? n : cap - 1;
		memcpy(out, p, len);
	}
	out[len] = '\0';
	return len;
}

int con_desk_mail_parse(const char *msg, size_t len, con_desk_mail *ret)
{
	struct hdrs h, ph;
	con_desk_mail m;

	if (!msg || len == 0 || len > MAIL_MAX)
		return -EINVAL;
	memset(&m, 0, sizeof(m));
	size_t body = read_headers(msg, len, &h);
	address_of(h.from, m.from, sizeof(m.from));
	if (!m.from[0])
		return -EINVAL;
	header_decode(h.subject, strlen(h.subject), m.subject, sizeof(m.subject));
	const char *p = msg + body;
	size_t n = len - body;
	char bnd[80];
	/* multipart (one level, as mail clients write a plain message with an
	 * attachment or an HTML copy): the first text/plain part */
	if (!strncasecmp(h.ctype, "multipart/", 10) && boundary_of(h.ctype, bnd, sizeof(bnd))) {
		char delim[84];
		sfmt(delim, sizeof(delim), "--%s", bnd);
		size_t dl = strlen(delim);
		const char *q = p, *end = p + n;
		const char *found = NULL;
		size_t found_n = 0;
		while ((q = memmem(q, (size_t)(end - q), delim, dl)) != NULL) {
			q += dl;
			if (q + 2 <= end && q[0] == '-' && q[1] == '-')
				break;
			/* the rest of the delimiter line */
			const char *nl = memchr(q, '\n', (size_t)(end - q));
			if (!nl)
				break;
			q = nl + 1;
			const char *next = memmem(q, (size_t)(end - q), delim, dl);
			const char *pe = next ? next : end;
			size_t pb = read_headers(q, (size_t)(pe - q), &ph);
			if (!ph.ctype[0] || !strncasecmp(ph.ctype, "text/plain", 10)) {
				found = q + pb;
				found_n = (size_t)(pe - q) - pb;
				break;
			}
			q = pe;
		}
		if (found)
			m.body_len = body_decode(&ph, found, found_n, m.body, sizeof(m.body));
	} else if (!h.ctype[0] || !strncasecmp(h.ctype, "text/", 5)) {
		m.body_len = body_decode(&h, p, n, m.body, sizeof(m.body));
	}
	/* "[omamori desk #12] ..." names the ticket it answers */
	const char *hash = strstr(m.subject, "#");
	if (hash && strstr(m.subject, "[") && strstr(m.subject, "[") < hash) {
		char *e;
		long long id = strtoll(hash + 1, &e, 10);
		if (e != hash + 1 && *e == ']' && id > 0)
			m.ticket = id;
	}
	/* the kind from words of the subject and the text (ja and en); "other"
	 * when none fits: staff set it */
	static const struct {
		const char *word, *kind;
	} words[] = {
	    {"暗号", "encrypted"},     {"encrypt", "encrypted"},    {"ransom", "encrypted"},
	    {"身代金", "encrypted"},   {"振込", "payment"},         {"支払", "payment"},
	    {"payment", "payment"},    {"invoice", "payment"},      {"紛失", "lost_device"},
	    {"なくし", "lost_device"}, {"lost", "lost_device"},     {"stolen", "lost_device"},
	    {"ポップアップ", "popup"}, {"警告", "popup"},           {"pop-up", "popup"},
	    {"popup", "popup"},        {"メール", "mail_opened"},   {"attachment", "mail_opened"},
	    {"添付", "mail_opened"},   {"phishing", "mail_opened"},
	};
	sfmt(m.kind, sizeof(m.kind), "other");
	for (size_t i = 0; i < OM_ARRAY_SIZE(words); i++)
		if (strcasestr(m.subject, words[i].word) || strcasestr(m.body, words[i].word)) {
			sfmt(m.kind, sizeof(m.kind), "%s", words[i].kind);
			break;
		}
	if (!m.subject[0])
		sfmt(m.subject, sizeof(m.subject), "(no subject)");
	*ret = m;
	return 0;
}

/* ---- intake ---- */

int con_desk_mail_ingest(om_store *s, const char *msg, size_t len, om_usec now,
                         con_desk_mail_stats *st)
{
	con_desk_mail *m = calloc(1, sizeof(*m));
	char tenant[64];
	int r;

	if (!m)
		return -ENOMEM;
	if (con_desk_mail_parse(msg, len, m) < 0) {
		st->invalid++;
		free(m);
		return 0;
	}
	r = om_store_desk_contact_by_mail(s, m->from, tenant, sizeof(tenant));
	if (r == -ENOENT) {
		st->unknown++;
		om_log(OM_LOG_WARN, om_tr("desk.mail.unknown"), m->from);
		free(m);
		return 0;
	}
	if (r < 0) {
		free(m);
		return r;
	}
	om_store_ticket t;
	if (m->ticket && om_store_ticket_get(s, m->ticket, &t) == 0 && !strcmp(t.tenant, tenant)) {
		char text[OM_DESK_TEXT_MAX + 1];
		sfmt(text, sizeof(text), "%s", m->body[0] ? m->body : m->subject);
		r = con_desk_comment(s, &t, m->from, false, text, now);
		if (r == 0)
			st->comments++;
	} else {
		memset(&t, 0, sizeof(t));
		sfmt(t.tenant, sizeof(t.tenant), "%s", tenant);
		sfmt(t.kind, sizeof(t.kind), "%s", m->kind);
		sfmt(t.source, sizeof(t.source), "mail");
		sfmt(t.title, sizeof(t.title), "%s", m->subject);
		sfmt(t.body, sizeof(t.body), "%s", m->body);
		sfmt(t.opened_by, sizeof(t.opened_by), "%s", m->from);
		int64_t id;
		r = con_desk_open(s, &t, NULL, m->from, now, &id);
		if (r == 0) {
			st->tickets++;
			con_desk_notify(s, &t, "opened", now);
		}
	}
	free(m);
	return r < 0 && r != -EINVAL ? r : 0;
}

static size_t collect(char *p, size_t sz, size_t n, void *user)
{
	om_buf *b = user;
	return om_buf_append(b, p, sz * n) < 0 ? 0 : sz * n;
}

/* The UIDs of "* SEARCH 1 2 3" lines. */
static size_t search_uids(const char *p, size_t n, uint64_t *uids, size_t max)
{
	size_t k = 0;
	const char *e = p + n;
	for (const char *l = p; l < e && k < max;) {
		const char *eol = memchr(l, '\n', (size_t)(e - l));
		if (!eol)
			eol = e;
		if ((size_t)(eol - l) > 9 && !strncmp(l, "* SEARCH ", 9)) {
			const char *q = l + 9;
			while (q < eol && k < max) {
				uint64_t v = 0;
				int d = 0;
				while (q < eol && *q >= '0' && *q <= '9' && d < 19)
					v = v * 10 + (uint64_t)(*q++ - '0'), d++;
				if (d && v)
					uids[k++] = v;
				while (q < eol && (*q < '0' || *q > '9'))
					q++;
			}
		}
		l = eol + 1;
	}
	return k;
}

int con_desk_mail_poll(om_store *s, const con_mail_options *o, con_desk_mail_stats *ret, char *err,
                       size_t errlen)
{
	CURL *h;
	om_buf b;
	char url[1024], eb[CURL_ERROR_SIZE] = "";
	uint64_t *uids = calloc(MAIL_UIDS_MAX, sizeof(*uids));
	size_t nu = 0, ul = strlen(o->url);
	con_desk_mail_stats st = {0};
	int rc = 0;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	h = curl_easy_init();
	if (!h || !uids) {
		free(uids);
		if (h)
			curl_easy_cleanup(h);
		return -ENOMEM;
	}
	while (ul && o->url[ul - 1] == '/')
		ul--;
	om_buf_init(&b, MAIL_MAX);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, eb);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 20L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 120L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "imap,imaps");
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
	if (o->user && *o->user) {
		curl_easy_setopt(h, CURLOPT_USERNAME, o->user);
		curl_easy_setopt(h, CURLOPT_PASSWORD, o->password ? o->password : "");
	}
	if (o->cacert && *o->cacert)
		curl_easy_setopt(h, CURLOPT_CAINFO, o->cacert);
	if (o->insecure) {
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	sfmt(url, sizeof(url), "%.*s", (int)ul, o->url);
	curl_easy_setopt(h, CURLOPT_URL, url);
	/* our keyword marks what was read: a person reading the box in a mail
	 * client hides nothing from the desk */
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "UID SEARCH UNKEYWORD " MAIL_KEYWORD);
	CURLcode cr = curl_easy_perform(h);
	if (cr != CURLE_OK) {
		sfmt(err, errlen, "%s: %s", url, eb[0] ? eb : curl_easy_strerror(cr));
		rc = cr == CURLE_LOGIN_DENIED ? -EACCES : -EIO;
		goto out;
	}
	nu = search_uids(b.data ? b.data : "", b.len, uids, MAIL_UIDS_MAX);
	for (size_t i = 0; i < nu; i++) {
		om_buf_reset(&b);
		sfmt(url, sizeof(url), "%.*s/;UID=%llu", (int)ul, o->url,
		     (unsigned long long)uids[i]);
		curl_easy_setopt(h, CURLOPT_URL, url);
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, NULL);
		if (curl_easy_perform(h) != CURLE_OK) {
			st.invalid++; /* too large or unreadable: the rest go on */
			continue;
		}
		st.mails++;
		rc = con_desk_mail_ingest(s, b.data ? b.data : "", b.len, om_time_now(), &st);
		if (rc < 0) {
			sfmt(err, errlen, "%s", strerror(-rc));
			goto out;
		}
		char cmd[96];
		sfmt(cmd, sizeof(cmd), "UID STORE %llu +FLAGS (" MAIL_KEYWORD ")",
		     (unsigned long long)uids[i]);
		sfmt(url, sizeof(url), "%.*s", (int)ul, o->url);
		curl_easy_setopt(h, CURLOPT_URL, url);
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, cmd);
		om_buf_reset(&b);
		curl_easy_perform(h);
	}
out:
	free(uids);
	om_buf_free(&b);
	curl_easy_cleanup(h);
	if (rc == 0)
		*ret = st;
	return rc;
}
