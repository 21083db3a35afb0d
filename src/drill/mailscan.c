/* drill: reading a mail that came back — to the report address (a drill
 * mail forwarded, attached, or its link pasted) or as a bounce (a delivery
 * status notification, RFC 3464). Hostile input: every read is bounded by
 * the given length, the nesting of encoded parts is capped, and nothing is
 * kept but tokens and the bounce's recipient. */
#include <string.h>
#include <strings.h>

#include "drill/drill.h"

#define SCAN_DEPTH 3

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static void add_token(om_drill_mailscan *m, const char *t)
{
	for (unsigned i = 0; i < m->ntokens; i++)
		if (!memcmp(m->token[i], t, OM_DRILL_TOKEN_LEN))
			return;
	if (m->ntokens >= OM_DRILL_SCAN_TOKENS)
		return;
	memcpy(m->token[m->ntokens], t, OM_DRILL_TOKEN_LEN);
	m->token[m->ntokens][OM_DRILL_TOKEN_LEN] = 0;
	m->ntokens++;
}

/* A token is 32 hex digits not part of a longer run of them. */
static bool token_at(const char *p, const char *end)
{
	if ((size_t)(end - p) < OM_DRILL_TOKEN_LEN)
		return false;
	for (unsigned i = 0; i < OM_DRILL_TOKEN_LEN; i++)
		if (!is_hex(p[i]))
			return false;
	return p + OM_DRILL_TOKEN_LEN == end || !is_hex(p[OM_DRILL_TOKEN_LEN]);
}

static const char *find_ci(const char *p, const char *end, const char *needle)
{
	size_t nl = strlen(needle);
	for (; (size_t)(end - p) >= nl; p++)
		if (!strncasecmp(p, needle, nl))
			return p;
	return NULL;
}

/* Tokens after "X-Omamori-Drill:" and in tracking paths "/t/X/". */
static void scan_plain(om_drill_mailscan *m, const char *p, const char *end)
{
	const char *h = p;
	while ((h = find_ci(h, end, "x-omamori-drill:"))) {
		h += 16;
		while (h < end && (*h == ' ' || *h == '\t'))
			h++;
		if (token_at(h, end))
			add_token(m, h);
	}
	for (const char *q = p; q + 5 <= end; q++) {
		if (q[0] != '/' || q[1] != 't' || q[2] != '/' || q[4] != '/')
			continue;
		if (!strchr("ocasrl", q[3]) || !q[3])
			continue;
		if (token_at(q + 5, end))
			add_token(m, q + 5);
	}
}

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

static void scan(om_drill_mailscan *m, const char *p, size_t len, int depth);

/* Runs of base64 lines (at least 16 characters each, up to a blank line or
 * another character), decoded and scanned again. */
static void scan_base64(om_drill_mailscan *m, const char *p, const char *end, int depth,
                        om_buf *tmp)
{
	const char *line = p;
	while (line < end) {
		const char *eol = memchr(line, '\n', (size_t)(end - line));
		if (!eol)
			eol = end;
		const char *le = eol;
		if (le > line && le[-1] == '\r')
			le--;
		bool b64 = le - line >= 16;
		for (const char *c = line; b64 && c < le; c++)
			if (b64v((unsigned char)*c) < 0 && *c != '=')
				b64 = false;
		if (!b64) {
			line = eol < end ? eol + 1 : end;
			continue;
		}
		/* decode this run of lines */
		om_buf_reset(tmp);
		unsigned acc = 0, nb = 0;
		while (line < end) {
			eol = memchr(line, '\n', (size_t)(end - line));
			if (!eol)
				eol = end;
			le = eol;
			if (le > line && le[-1] == '\r')
				le--;
			bool ok = le > line;
			for (const char *c = line; ok && c < le; c++)
				if (b64v((unsigned char)*c) < 0 && *c != '=')
					ok = false;
			if (!ok)
				break;
			for (const char *c = line; c < le; c++) {
				int v = b64v((unsigned char)*c);
				if (v < 0)
					continue;
				acc = (acc << 6) | (unsigned)v;
				nb += 6;
				if (nb >= 8) {
					nb -= 8;
					om_buf_putc(tmp, (char)((acc >> nb) & 0xff));
				}
			}
			line = eol < end ? eol + 1 : end;
		}
		if (tmp->len && !tmp->toobig) {
			om_buf inner;
			om_buf_init(&inner, OM_DRILL_MAX_MAIL);
			om_buf_append(&inner, tmp->data, tmp->len);
			if (!inner.toobig)
				scan(m, inner.data, inner.len, depth + 1);
			om_buf_free(&inner);
		}
	}
}

static int hexv(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Quoted-printable undone over the whole text (soft line breaks joined,
 * =XX decoded), scanned again: a URL in a QP body may be split. */
static void scan_qp(om_drill_mailscan *m, const char *p, const char *end, int depth, om_buf *tmp)
{
	if (!memchr(p, '=', (size_t)(end - p)))
		return;
	om_buf_reset(tmp);
	bool changed = false;
	for (const char *c = p; c < end; c++) {
		if (*c == '=' && end - c >= 2 && c[1] == '\n') {
			c += 1, changed = true;
		} else if (*c == '=' && end - c >= 3 && c[1] == '\r' && c[2] == '\n') {
			c += 2, changed = true;
		} else if (*c == '=' && end - c >= 3 && hexv(c[1]) >= 0 && hexv(c[2]) >= 0) {
			om_buf_putc(tmp, (char)(hexv(c[1]) * 16 + hexv(c[2])));
			c += 2, changed = true;
		} else {
			om_buf_putc(tmp, *c);
		}
	}
	if (changed && !tmp->toobig)
		scan_plain(m, tmp->data, tmp->data + tmp->len);
	(void)depth;
}

/* A header field's value within the first block (the headers) or, for the
 * DSN fields, anywhere: copied trimmed. */
static bool field(const char *p, const char *end, const char *name, char *out, size_t outlen)
{
	const char *h = p;
	size_t nl = strlen(name);
	while ((h = find_ci(h, end, name))) {
		if (h == p || h[-1] == '\n') {
			h += nl;
			while (h < end && (*h == ' ' || *h == '\t'))
				h++;
			size_t i = 0;
			while (h < end && *h != '\r' && *h != '\n' && i + 1 < outlen)
				out[i++] = *h++;
			while (i && (out[i - 1] == ' ' || out[i - 1] == '\t'))
				i--;
			out[i] = 0;
			return true;
		}
		h += nl;
	}
	return false;
}

static bool has_word(const char *s, const char *w)
{
	return find_ci(s, s + strlen(s), w) != NULL;
}

static void scan(om_drill_mailscan *m, const char *p, size_t len, int depth)
{
	if (depth > SCAN_DEPTH || len == 0)
		return;
	const char *end = p + len;
	scan_plain(m, p, end);
	om_buf tmp;
	om_buf_init(&tmp, OM_DRILL_MAX_MAIL);
	scan_qp(m, p, end, depth, &tmp);
	scan_base64(m, p, end, depth, &tmp);
	om_buf_free(&tmp);
}

void om_drill_mail_scan(const char *data, size_t len, om_drill_mailscan *ret)
{
	memset(ret, 0, sizeof(*ret));
	if (len > OM_DRILL_MAX_MAIL)
		len = OM_DRILL_MAX_MAIL;
	const char *end = data + len;
	/* the top headers end at the first empty line */
	const char *hend = end;
	for (const char *c = data; c + 1 < end; c++)
		if (c[0] == '\n' &&
		    (c[1] == '\n' || (c[1] == '\r' && c + 2 < end && c[2] == '\n'))) {
			hend = c + 1;
			break;
		}
	char v[512];
	if (field(data, hend, "content-type:", v, sizeof(v)) && has_word(v, "multipart/report") &&
	    has_word(v, "delivery-status"))
		ret->dsn = true;
	if (ret->dsn) {
		if (field(data, end, "action:", v, sizeof(v)) && !strncasecmp(v, "failed", 6))
			ret->failed = true;
		if (field(data, end, "final-recipient:", v, sizeof(v))) {
			const char *a = strchr(v, ';');
			a = a ? a + 1 : v;
			while (*a == ' ')
				a++;
			size_t i = 0;
			for (;
			     a[i] && a[i] != ' ' && a[i] != '>' && i + 1 < sizeof(ret->final_rcpt);
			     i++)
				ret->final_rcpt[i] =
				    (char)((a[i] >= 'A' && a[i] <= 'Z') ? a[i] + 32 : a[i]);
			ret->final_rcpt[i] = 0;
			if (ret->final_rcpt[0] == '<')
				memmove(ret->final_rcpt, ret->final_rcpt + 1,
				        strlen(ret->final_rcpt));
		}
	}
	scan(ret, data, len, 0);
}
