/* drill: the drill mail as Japanese mail clients expect it. Headers in RFC
 * 2047 encoded words (B encoding, ISO-2022-JP or UTF-8), the text part in
 * ISO-2022-JP 7bit (or UTF-8 base64 when the text has characters outside
 * JIS X 0208, or when asked), an HTML part with the open image, and an HTML
 * attachment that calls back (never a macro). */
#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "drill/drill.h"

int om_drill_attachment_page(enum om_lang lang, const om_drill_vars *v, om_buf *out);

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void base64(om_buf *out, const unsigned char *p, size_t n, size_t wrap)
{
	size_t col = 0;
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)p[i] << 16;
		if (i + 1 < n)
			v |= (unsigned)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		char q[4] = {b64[(v >> 18) & 63], b64[(v >> 12) & 63],
		             i + 1 < n ? b64[(v >> 6) & 63] : '=', i + 2 < n ? b64[v & 63] : '='};
		om_buf_append(out, q, 4);
		col += 4;
		if (wrap && col >= wrap && i + 3 < n) {
			om_buf_puts(out, "\r\n");
			col = 0;
		}
	}
}

/* UTF-8 -> ISO-2022-JP, the escape back to ASCII at the end included.
 * -EILSEQ when a character has no JIS X 0208 form. */
static int to_jis(const char *s, size_t n, om_buf *out)
{
	iconv_t cd = iconv_open("ISO-2022-JP", "UTF-8");
	if (cd == (iconv_t)-1)
		return -errno;
	char tmp[1024];
	char *in = (char *)(uintptr_t)s;
	size_t left = n;
	int r = 0;
	while (left) {
		char *o = tmp;
		size_t ol = sizeof(tmp);
		size_t k = iconv(cd, &in, &left, &o, &ol);
		om_buf_append(out, tmp, (size_t)(o - tmp));
		if (k == (size_t)-1 && errno != E2BIG) {
			r = errno == EILSEQ || errno == EINVAL ? -EILSEQ : -errno;
			break;
		}
	}
	if (!r) {
		char *o = tmp;
		size_t ol = sizeof(tmp);
		iconv(cd, NULL, NULL, &o, &ol);
		om_buf_append(out, tmp, (size_t)(o - tmp));
	}
	iconv_close(cd);
	return r;
}

static bool ascii_printable(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return false;
	return true;
}

/* Length of the UTF-8 character at s (1 for a stray byte). */
static size_t u8len(const char *s, size_t left)
{
	unsigned char c = (unsigned char)*s;
	size_t n = c < 0x80             ? 1
	           : (c & 0xe0) == 0xc0 ? 2
	           : (c & 0xf0) == 0xe0 ? 3
	           : (c & 0xf8) == 0xf0 ? 4
	                                : 1;
	return n > left ? left : n;
}

int om_drill_header_encode(const char *s, size_t n, enum om_drill_charset cs, size_t first_col,
                           om_buf *out)
{
	if (ascii_printable(s, n)) {
		om_buf_append(out, s, n);
		return 0;
	}
	/* chunks of source text small enough that each encoded word stays
	 * within 75 characters: at most 42 bytes of encoded text (56 base64
	 * characters + at most 18 of "=?ISO-2022-JP?B?" and "?="); an
	 * ISO-2022-JP chunk is converted on its own, so it starts and ends in
	 * ASCII */
	const char *prefix = cs == OM_DRILL_CS_UTF8 ? "=?UTF-8?B?" : "=?ISO-2022-JP?B?";
	size_t col = first_col;
	om_buf jis;
	om_buf_init(&jis, 4096);
	int r = 0;
	for (size_t i = 0; i < n;) {
		/* the longest run of characters whose encoding fits the line: the
		 * first word on the field's line, the next ones on lines of their own */
		size_t take = 0, room = i > 0 ? 1 : col, maxraw = 42;
		size_t avail = 76 > room + strlen(prefix) + 2 ? 76 - room - strlen(prefix) - 2 : 0;
		if (avail / 4 * 3 < maxraw)
			maxraw = avail / 4 * 3 < 12 ? 12 : avail / 4 * 3;
		const unsigned char *raw = (const unsigned char *)s + i;
		size_t rawn = 0;
		while (i + take < n) {
			size_t l = u8len(s + i + take, n - i - take);
			if (cs == OM_DRILL_CS_UTF8) {
				if (take + l > maxraw)
					break;
			} else {
				om_buf_reset(&jis);
				r = to_jis(s + i, take + l, &jis);
				if (r < 0)
					goto done;
				if (jis.len > maxraw)
					break;
			}
			take += l;
		}
		if (take == 0) {
			r = -EINVAL;
			break;
		}
		rawn = take;
		if (cs == OM_DRILL_CS_ISO2022JP) {
			om_buf_reset(&jis);
			r = to_jis(s + i, take, &jis);
			if (r < 0)
				break;
			raw = (const unsigned char *)jis.data;
			rawn = jis.len;
		}
		size_t wlen = strlen(prefix) + (rawn + 2) / 3 * 4 + 2;
		if (i > 0) {
			/* folding: a new line starting with a space between words */
			om_buf_puts(out, "\r\n ");
			col = 1;
		}
		om_buf_puts(out, prefix);
		base64(out, raw, rawn, 0);
		om_buf_puts(out, "?=");
		col += wlen;
		i += take;
	}
done:
	om_buf_free(&jis);
	if (!r && out->toobig)
		r = -E2BIG;
	return r;
}

static void header(om_buf *out, const char *name, const char *value, size_t n,
                   enum om_drill_charset cs)
{
	om_buf_puts(out, name);
	om_buf_puts(out, ": ");
	om_drill_header_encode(value, n, cs, strlen(name) + 2, out);
	om_buf_puts(out, "\r\n");
}

/* Text with LF line ends as CRLF. */
static void crlf(om_buf *out, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r'))
			om_buf_putc(out, '\r');
		om_buf_putc(out, s[i]);
	}
}

/* RFC 2231 percent-encoding of a parameter value. */
static void pct(om_buf *out, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    strchr("-._~", c))
			om_buf_putc(out, (char)c);
		else
			om_buf_printf(out, "%%%02X", c);
	}
}

int om_drill_message(const om_drill_template *t, const om_drill_vars *v,
                     const om_drill_mail_opts *o, om_buf *out, enum om_drill_charset *ret_charset)
{
	om_buf subj, from, body, html, att, aname, jis;
	int r;
	om_buf_init(&subj, 4096);
	om_buf_init(&from, 1024);
	om_buf_init(&body, 1u << 20);
	om_buf_init(&html, 1u << 20);
	om_buf_init(&att, 1u << 20);
	om_buf_init(&aname, 1024);
	om_buf_init(&jis, 2u << 20);
	enum om_drill_charset cs = o->charset;

	if ((r = om_drill_expand(t->subject, t->subject_len, v, OM_DRILL_TEXT, &subj)) < 0 ||
	    (r = om_drill_expand(t->from_name ? t->from_name : "", t->from_name_len, v,
	                         OM_DRILL_TEXT, &from)) < 0 ||
	    (r = om_drill_expand(t->body, t->body_len, v, OM_DRILL_TEXT, &body)) < 0 ||
	    (r = om_drill_expand(t->body, t->body_len, v, OM_DRILL_HTML_LINKS, &html)) < 0)
		goto out;
	/* header values are one line */
	for (size_t i = 0; i < subj.len; i++)
		if (subj.data[i] == '\r' || subj.data[i] == '\n')
			subj.data[i] = ' ';
	for (size_t i = 0; i < from.len; i++)
		if (from.data[i] == '\r' || from.data[i] == '\n' || from.data[i] == '"')
			from.data[i] = ' ';
	if (cs == OM_DRILL_CS_ISO2022JP) {
		om_buf probe;
		om_buf_init(&probe, 4u << 20);
		if (to_jis(om_buf_cstr(&body), body.len, &jis) < 0 ||
		    to_jis(om_buf_cstr(&subj), subj.len, &probe) < 0 ||
		    to_jis(om_buf_cstr(&from), from.len, &probe) < 0)
			cs = OM_DRILL_CS_UTF8; /* a character JIS cannot hold */
		om_buf_free(&probe);
	}

	char date[64];
	time_t secs = (time_t)(o->date / 1000000);
	struct tm tm;
	gmtime_r(&secs, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	uint64_t rnd = 0;
	om_random_bytes(&rnd, sizeof(rnd));
	const char *token = v->token && *v->token ? v->token : "0";
	char boundary[80], alt[80];
	snprintf(boundary, sizeof(boundary), "=_omd_%016llx_m", (unsigned long long)rnd);
	snprintf(alt, sizeof(alt), "=_omd_%016llx_a", (unsigned long long)rnd);

	if (from.len) {
		om_buf_puts(out, "From: ");
		om_drill_header_encode(from.data, from.len, cs, 6, out);
		om_buf_printf(out, " <%s>\r\n", o->from_addr);
	} else {
		om_buf_printf(out, "From: %s\r\n", o->from_addr);
	}
	om_buf_printf(out, "To: %s\r\n", v->target ? v->target->mail : "");
	header(out, "Subject", om_buf_cstr(&subj), subj.len, cs);
	om_buf_printf(out, "Date: %s\r\n", date);
	om_buf_printf(out, "Message-ID: <%s.%016llx@%s>\r\n", token, (unsigned long long)rnd,
	              o->msgid_domain ? o->msgid_domain : "drill.invalid");
	om_buf_printf(out, "X-Omamori-Drill: %s\r\n", token);
	om_buf_puts(out, "MIME-Version: 1.0\r\n");
	om_buf_printf(out, "Content-Type: multipart/mixed; boundary=\"%s\"\r\n\r\n", boundary);
	om_buf_printf(out, "--%s\r\nContent-Type: multipart/alternative; boundary=\"%s\"\r\n\r\n",
	              boundary, alt);
	if (cs == OM_DRILL_CS_ISO2022JP) {
		om_buf_printf(out,
		              "--%s\r\nContent-Type: text/plain; charset=ISO-2022-JP\r\n"
		              "Content-Transfer-Encoding: 7bit\r\n\r\n",
		              alt);
		crlf(out, jis.data ? jis.data : "", jis.len);
	} else {
		om_buf_printf(out,
		              "--%s\r\nContent-Type: text/plain; charset=UTF-8\r\n"
		              "Content-Transfer-Encoding: base64\r\n\r\n",
		              alt);
		om_buf crl;
		om_buf_init(&crl, 2u << 20);
		crlf(&crl, body.data ? body.data : "", body.len);
		base64(out, (const unsigned char *)(crl.data ? crl.data : ""), crl.len, 76);
		om_buf_free(&crl);
	}
	om_buf_puts(out, "\r\n");
	/* the HTML part: the body's lines, links, and the open image */
	om_buf page;
	om_buf_init(&page, 2u << 20);
	om_buf_puts(&page, "<!DOCTYPE html><html><head><meta charset=\"utf-8\"></head><body>\n"
	                   "<div style=\"font-family:sans-serif;white-space:pre-wrap\">");
	om_buf_append(&page, html.data ? html.data : "", html.len);
	om_buf_puts(&page, "</div>\n");
	if (v->open_url && *v->open_url) {
		om_buf_puts(&page, "<img src=\"");
		om_buf_put_html(&page, v->open_url);
		om_buf_puts(&page, "\" width=\"1\" height=\"1\" alt=\"\">\n");
	}
	om_buf_puts(&page, "</body></html>\n");
	om_buf_printf(out,
	              "--%s\r\nContent-Type: text/html; charset=UTF-8\r\n"
	              "Content-Transfer-Encoding: base64\r\n\r\n",
	              alt);
	base64(out, (const unsigned char *)page.data, page.len, 76);
	om_buf_printf(out, "\r\n--%s--\r\n", alt);
	om_buf_free(&page);

	if (t->attachment && t->attachment_len) {
		if ((r = om_drill_expand(t->attachment, t->attachment_len, v, OM_DRILL_TEXT,
		                         &aname)) < 0)
			goto out;
		om_drill_vars av = *v;
		av.title = om_buf_cstr(&aname);
		if ((r = om_drill_attachment_page(t->lang, &av, &att)) < 0)
			goto out;
		om_buf_printf(out, "--%s\r\nContent-Type: text/html; charset=UTF-8; name=\"",
		              boundary);
		om_drill_header_encode(aname.data, aname.len, cs, 0, out);
		om_buf_puts(out, "\"\r\nContent-Disposition: attachment;\r\n filename*=UTF-8''");
		pct(out, om_buf_cstr(&aname));
		om_buf_puts(out, "\r\nContent-Transfer-Encoding: base64\r\n\r\n");
		base64(out, (const unsigned char *)att.data, att.len, 76);
		om_buf_puts(out, "\r\n");
	}
	om_buf_printf(out, "--%s--\r\n", boundary);
	r = out->toobig ? -E2BIG : 0;
	if (!r && ret_charset)
		*ret_charset = cs;
out:
	om_buf_free(&subj);
	om_buf_free(&from);
	om_buf_free(&body);
	om_buf_free(&html);
	om_buf_free(&att);
	om_buf_free(&aname);
	om_buf_free(&jis);
	return r;
}
