/* spam_token.c: the anti-spam tokenizer. It reads a message as proto shows
 * it (email.* buffers, already MIME-decoded and converted to UTF-8 by the
 * mail parser) and gives the Bayesian classifier its tokens: words of
 * Latin text, character bigrams of Japanese and Chinese text (which has no
 * spaces between words), header words prefixed by their field, header
 * names, URL hosts and attachment extensions. HTML tags are skipped. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "guard/guard.h"

#define WORD_MIN 3
#define WORD_MAX 20
#define TOK_MAX 96 /* prefix + token */

static char lc(char c)
{
	return (unsigned)((unsigned char)c - 'A') < 26u ? (char)(c | 0x20) : c;
}

static bool is_alpha(unsigned char c)
{
	return (unsigned)((c | 0x20) - 'a') < 26u;
}

struct emit {
	om_spam_token_fn fn;
	void *user;
	const char *prefix;
	size_t plen;
	/* body text: each word with the one before it is a token too */
	bool pairs;
	char prev[WORD_MAX * 4 + 8];
	size_t prevl;
};

static void put(struct emit *e, const char *t, size_t n)
{
	char b[TOK_MAX];
	if (e->plen + n > sizeof(b))
		n = sizeof(b) - e->plen;
	memcpy(b, e->prefix, e->plen);
	memcpy(b + e->plen, t, n);
	e->fn(e->user, b, e->plen + n);
}

/* one UTF-8 code point at s (n > 0); *len its bytes (1 for a bad byte) */
static uint32_t utf8_next(const unsigned char *s, size_t n, size_t *len)
{
	unsigned c = s[0];
	size_t need = c < 0x80             ? 1
	              : (c & 0xe0) == 0xc0 ? 2
	              : (c & 0xf0) == 0xe0 ? 3
	              : (c & 0xf8) == 0xf0 ? 4
	                                   : 0;
	if (!need || need > n) {
		*len = 1;
		return 0xfffd;
	}
	uint32_t cp = need == 1 ? c : need == 2 ? c & 0x1f : need == 3 ? c & 0x0f : c & 0x07;
	for (size_t i = 1; i < need; i++) {
		if ((s[i] & 0xc0) != 0x80) {
			*len = 1;
			return 0xfffd;
		}
		cp = cp << 6 | (s[i] & 0x3f);
	}
	*len = need;
	return cp;
}

/* Hiragana, Katakana (full and half width), CJK ideographs, and the
 * iteration and prolonged-sound marks that live inside words */
static bool is_cjk(uint32_t c)
{
	return (c >= 0x3040 && c <= 0x30ff) || (c >= 0x3400 && c <= 0x4dbf) ||
	       (c >= 0x4e00 && c <= 0x9fff) || (c >= 0xf900 && c <= 0xfaff) ||
	       (c >= 0xff66 && c <= 0xff9f) || c == 0x3005 || c == 0x30fc;
}

/* letters and digits of words: ASCII, Latin-1 and Latin Extended letters,
 * and the fullwidth forms of ASCII (folded to ASCII) */
static bool is_word(uint32_t c)
{
	return (c < 0x80 && ((c | 0x20) - 'a' < 26u || c - '0' < 10u || c == '$' || c == '\'' ||
	                     c == '-' || c == '_')) ||
	       (c >= 0xc0 && c <= 0x24f && c != 0xd7 && c != 0xf7) || (c >= 0xff10 && c <= 0xff5a);
}

static void word_out(struct emit *e, const char *w, size_t n, size_t chars)
{
	/* trim the joiners at the ends ("--", "'s") */
	while (n && (w[n - 1] == '-' || w[n - 1] == '\'' || w[n - 1] == '_'))
		n--, chars--;
	while (n && (w[0] == '-' || w[0] == '\'' || w[0] == '_'))
		w++, n--, chars--;
	if (chars < WORD_MIN)
		return;
	if (chars > WORD_MAX) {
		/* SpamBayes' trick: a long word says little by itself, its
		 * first letter and length class say something */
		char t[16];
		int l = snprintf(t, sizeof(t), "skip:%c %zu", w[0], chars / 10 * 10);
		put(e, t, (size_t)l);
		e->prevl = 0;
		return;
	}
	put(e, w, n);
	if (!e->pairs)
		return;
	if (e->prevl) {
		char b[TOK_MAX];
		size_t bl = e->prevl + 1 + n;
		if (bl <= sizeof(b)) {
			memcpy(b, e->prev, e->prevl);
			b[e->prevl] = ' ';
			memcpy(b + e->prevl + 1, w, n);
			put(e, b, bl);
		}
	}
	if (n <= sizeof(e->prev)) {
		memcpy(e->prev, w, n);
		e->prevl = n;
	}
}

static size_t put_utf8(char *o, uint32_t c)
{
	if (c < 0x80) {
		o[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		o[0] = (char)(0xc0 | c >> 6);
		o[1] = (char)(0x80 | (c & 0x3f));
		return 2;
	}
	if (c < 0x10000) {
		o[0] = (char)(0xe0 | c >> 12);
		o[1] = (char)(0x80 | (c >> 6 & 0x3f));
		o[2] = (char)(0x80 | (c & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | c >> 18);
	o[1] = (char)(0x80 | (c >> 12 & 0x3f));
	o[2] = (char)(0x80 | (c >> 6 & 0x3f));
	o[3] = (char)(0x80 | (c & 0x3f));
	return 4;
}

void om_spam_tokenize_text(const char *prefix, const char *s, size_t n, om_spam_token_fn fn,
                           void *user)
{
	struct emit e = {
	    .fn = fn, .user = user, .prefix = prefix, .plen = strlen(prefix), .pairs = !prefix[0]};
	if (e.plen > TOK_MAX / 2)
		e.plen = TOK_MAX / 2;
	const unsigned char *p = (const unsigned char *)s;
	char word[WORD_MAX * 4 + 8];
	size_t wl = 0, wchars = 0;
	uint32_t prev_cjk = 0;   /* the CJK character before this one, or 0 */
	bool run_single = false; /* the CJK run so far is one character */
	bool tag = false;        /* inside an HTML tag */
	char tname[16] = "tag:";
	size_t tl = SIZE_MAX; /* bytes of the tag's name so far; SIZE_MAX: done */
	size_t i = 0;
	while (i < n) {
		size_t len;
		uint32_t c = utf8_next(p + i, n - i, &len);
		i += len;
		if (tag) {
			/* the tag's name is a token of its own ("tag:font") */
			if (tl != SIZE_MAX && c < 0x80 &&
			    (is_alpha((unsigned char)c) || c - '0' < 10u) && tl < 12) {
				tname[4 + tl++] = lc((char)c);
			} else if (tl != SIZE_MAX) {
				if (tl)
					e.fn(e.user, tname, 4 + tl);
				tl = SIZE_MAX;
			}
			if (c == '>')
				tag = false;
			continue;
		}
		if (c == '<' && i < n && (is_alpha(p[i]) || p[i] == '/' || p[i] == '!')) {
			tag = true;
			tl = is_alpha(p[i]) ? 0 : SIZE_MAX;
			c = ' ';
		}
		if (is_cjk(c)) {
			if (wl)
				word_out(&e, word, wl, wchars);
			wl = wchars = 0;
			if (prev_cjk) {
				char b[8];
				size_t bl = put_utf8(b, prev_cjk);
				bl += put_utf8(b + bl, c);
				put(&e, b, bl);
				run_single = false;
			} else {
				run_single = true;
			}
			prev_cjk = c;
			continue;
		}
		if (prev_cjk && run_single) {
			char b[4];
			size_t bl = put_utf8(b, prev_cjk);
			put(&e, b, bl);
		}
		prev_cjk = 0;
		run_single = false;
		if (is_word(c)) {
			if (c >= 0xff10 && c <= 0xff5a)
				c -= 0xfee0; /* fullwidth to ASCII */
			if (c - 'A' < 26u)
				c |= 0x20;
			if (wl + 4 < sizeof(word))
				wl += put_utf8(word + wl, c);
			wchars++;
			continue;
		}
		if (wl)
			word_out(&e, word, wl, wchars);
		wl = wchars = 0;
	}
	if (prev_cjk && run_single) {
		char b[4];
		size_t bl = put_utf8(b, prev_cjk);
		put(&e, b, bl);
	}
	if (wl)
		word_out(&e, word, wl, wchars);
}

/* ---- headers ---------------------------------------------------------------- */

static bool name_is(const char *f, size_t n, const char *name)
{
	size_t l = strlen(name);
	if (n != l)
		return false;
	for (size_t i = 0; i < l; i++)
		if ((f[i] | 0x20) != name[i])
			return false;
	return true;
}

/* the domain of the first address in v ("Name <a@b.example>"), lower case */
static size_t addr_domain(const char *v, size_t n, char *out, size_t cap)
{
	const char *at = NULL;
	const char *lt = memchr(v, '<', n);
	if (lt) {
		n -= (size_t)(lt - v);
		v = lt;
	}
	at = memchr(v, '@', n);
	if (!at)
		return 0;
	size_t l = 0;
	for (const char *q = at + 1; q < v + n && l + 1 < cap; q++) {
		unsigned char c = (unsigned char)*q;
		if (c == '>' || c == ' ' || c == ',' || c == ';' || c == ')' || c == '"')
			break;
		out[l++] = lc((char)c);
	}
	out[l] = '\0';
	return l;
}

static void header_tokens(const char *h, size_t n, om_spam_token_fn fn, void *user)
{
	struct emit e = {.fn = fn, .user = user, .prefix = "", .plen = 0};
	const char *end = h + n;
	while (h < end) {
		const char *nl = memchr(h, '\n', (size_t)(end - h));
		size_t ll = nl ? (size_t)(nl - h) : (size_t)(end - h);
		const char *colon = memchr(h, ':', ll);
		if (colon) {
			size_t fl = (size_t)(colon - h);
			const char *v = colon + 1;
			size_t vl = ll - fl - 1;
			char t[TOK_MAX];
			int tl = snprintf(t, sizeof(t), "hdr:%.*s", (int)(fl < 40 ? fl : 40), h);
			for (int k = 4; k < tl; k++)
				t[k] = lc(t[k]);
			put(&e, t, (size_t)tl);
			char dom[OM_SPAM_DOMAIN_LEN];
			if (name_is(h, fl, "subject")) {
				om_spam_tokenize_text("subject:", v, vl, fn, user);
			} else if (name_is(h, fl, "from") || name_is(h, fl, "reply-to") ||
			           name_is(h, fl, "return-path") || name_is(h, fl, "sender")) {
				char pre[16];
				snprintf(pre, sizeof(pre), "%c:", lc(h[0]));
				if (name_is(h, fl, "reply-to"))
					memcpy(pre, "rt:", 4);
				om_spam_tokenize_text(pre, v, vl, fn, user);
				size_t dl = addr_domain(v, vl, dom, sizeof(dom));
				if (dl) {
					tl = snprintf(t, sizeof(t), "%sdom:%s", pre, dom);
					put(&e, t, (size_t)tl);
				}
			} else if (name_is(h, fl, "message-id")) {
				size_t dl = addr_domain(v, vl, dom, sizeof(dom));
				if (dl) {
					tl = snprintf(t, sizeof(t), "mid:%s", dom);
					put(&e, t, (size_t)tl);
				}
			} else if (name_is(h, fl, "x-mailer") || name_is(h, fl, "user-agent") ||
			           name_is(h, fl, "content-type") || name_is(h, fl, "received") ||
			           name_is(h, fl, "to") || name_is(h, fl, "cc")) {
				char pre[16];
				snprintf(pre, sizeof(pre), "%.3s:", h);
				for (int k = 0; k < 3; k++)
					pre[k] = lc(pre[k]);
				om_spam_tokenize_text(pre, v, vl, fn, user);
			}
		}
		h += ll + (nl ? 1 : 0);
	}
}

/* "https://www.Example.com:8080/x" -> "url:www.example.com", and its last
 * two labels "url:example.com" */
static void url_tokens(const char *u, size_t n, om_spam_token_fn fn, void *user)
{
	struct emit e = {.fn = fn, .user = user, .prefix = "url:", .plen = 4};
	const char *p = memchr(u, ':', n);
	if (!p || (size_t)(p - u) + 3 > n || p[1] != '/' || p[2] != '/')
		return;
	p += 3;
	char host[OM_SPAM_DOMAIN_LEN];
	size_t hl = 0;
	for (; p < u + n && hl + 1 < sizeof(host); p++) {
		unsigned char c = (unsigned char)*p;
		if (c == '/' || c == ':' || c == '?' || c == '#')
			break;
		if (c == '@') { /* user info */
			hl = 0;
			continue;
		}
		host[hl++] = lc((char)c);
	}
	if (!hl)
		return;
	put(&e, host, hl);
	size_t dots = 0, i = hl;
	while (i > 0) {
		if (host[i - 1] == '.' && ++dots == 2)
			break;
		i--;
	}
	if (i > 0)
		put(&e, host + i, hl - i);
}

void om_spam_tokenize(const om_proto_tx *tx, om_spam_token_fn fn, void *user)
{
	uint32_t n;
	const uint8_t *v = om_tx_get(tx, OM_TXB_EMAIL_HEADERS, 0, &n);
	if (v) {
		header_tokens((const char *)v, n, fn, user);
	} else if ((v = om_tx_get(tx, OM_TXB_EMAIL_SUBJECT, 0, &n))) {
		om_spam_tokenize_text("subject:", (const char *)v, n, fn, user);
	}
	if ((v = om_tx_get(tx, OM_TXB_EMAIL_BODY, 0, &n)))
		om_spam_tokenize_text("", (const char *)v, n, fn, user);
	for (uint32_t i = 0; i < 256 && (v = om_tx_get(tx, OM_TXB_EMAIL_URL, i, &n)); i++)
		url_tokens((const char *)v, n, fn, user);
	for (uint32_t i = 0; i < 64 && (v = om_tx_get(tx, OM_TXB_EMAIL_ATTACHMENT, i, &n)); i++) {
		const char *dot = NULL;
		for (uint32_t k = 0; k < n; k++)
			if (v[k] == '.')
				dot = (const char *)v + k;
		if (dot) {
			struct emit e = {.fn = fn, .user = user, .prefix = "att:", .plen = 4};
			size_t el = n - (size_t)(dot - (const char *)v);
			char t[16];
			size_t l = 0;
			for (size_t k = 0; k < el && l < sizeof(t); k++)
				t[l++] = lc(dot[k]);
			put(&e, t, l);
		}
	}
}
