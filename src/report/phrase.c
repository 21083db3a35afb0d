/* phrase: where a line of Japanese text may break.
 *
 * Japanese is written without spaces, and the Unicode line breaking rules
 * (UAX #14) allow a break between almost any two kana or kanji, so a narrow
 * box can split a word ("監視" -> "監" / "視"). These phrase rules allow a
 * break only between phrases (文節): after a run of hiragana (the particles
 * and endings that close a phrase) when a kanji, katakana or Latin word
 * follows, after punctuation and closing brackets, before opening brackets,
 * and at spaces (except between a number and its counter: "7 件"). Never
 * before closing punctuation or after an opening bracket (kinsoku). Text
 * that is not Japanese keeps its spaces as the only break points. The
 * writers use it: HTML puts <wbr> at the allowed points under
 * word-break:keep-all; the PDF writer forbids breaks inside the phrases
 * through pango's allow-breaks attribute. */
#include "report/report.h"

#include <string.h>

enum cls { C_OTHER, C_ALNUM, C_HIRA, C_KATA, C_KANJI, C_OPEN, C_CLOSE, C_SPACE };

/* Decodes the UTF-8 character starting at s[i] (i < len); 0xFFFD when bad. */
static uint32_t dec(const unsigned char *s, size_t len, size_t i, size_t *ret_n)
{
	unsigned char c = s[i];
	size_t n = c < 0x80             ? 1
	           : (c & 0xe0) == 0xc0 ? 2
	           : (c & 0xf0) == 0xe0 ? 3
	           : (c & 0xf8) == 0xf0 ? 4
	                                : 1;
	if (i + n > len) {
		*ret_n = 1;
		return 0xfffd;
	}
	uint32_t cp = n == 1 ? c : n == 2 ? c & 0x1f : n == 3 ? c & 0x0f : c & 0x07;
	for (size_t k = 1; k < n; k++)
		cp = (cp << 6) | (s[i + k] & 0x3f);
	*ret_n = n;
	return cp;
}

/* The start of the character that ends just before i (i > 0). */
static size_t prev_start(const unsigned char *s, size_t i)
{
	size_t k = i - 1;
	while (k > 0 && (s[k] & 0xc0) == 0x80 && i - k < 4)
		k--;
	return k;
}

static enum cls classify(uint32_t c)
{
	if (c == ' ' || c == 0x3000 || c == '\t' || c == '\n')
		return C_SPACE;
	if ((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))
		return C_ALNUM;
	if (c >= 0x3041 && c <= 0x309f)
		return C_HIRA;
	if ((c >= 0x30a0 && c <= 0x30ff) || (c >= 0x31f0 && c <= 0x31ff) ||
	    (c >= 0xff66 && c <= 0xff9f))
		return C_KATA;
	if ((c >= 0x4e00 && c <= 0x9fff) || (c >= 0x3400 && c <= 0x4dbf) ||
	    (c >= 0xf900 && c <= 0xfaff) || c == 0x3005 || c == 0x3006)
		return C_KANJI;
	switch (c) {
	case 0x300c:
	case 0x300e:
	case 0xff08:
	case 0xff3b:
	case 0x3010:
	case 0x3008:
	case 0x300a:
	case 0x3014:
	case '(':
	case '[':
	case 0x201c:
	case 0x2018: return C_OPEN;
	case 0x300d:
	case 0x300f:
	case 0xff09:
	case 0xff3d:
	case 0x3011:
	case 0x3009:
	case 0x300b:
	case 0x3015:
	case ')':
	case ']':
	case 0x201d:
	case 0x2019:
	case 0x3001:
	case 0x3002:
	case 0xff0c:
	case 0xff0e:
	case 0x30fb:
	case 0xff1a:
	case 0xff1b:
	case 0xff01:
	case 0xff1f:
	case ',':
	case '.':
	case ':':
	case ';':
	case '!':
	case '?':
	case 0x301c:
	case 0xff5e: return C_CLOSE;
	default: return C_OTHER;
	}
}

static bool cjk(enum cls c)
{
	return c == C_HIRA || c == C_KATA || c == C_KANJI;
}

bool om_text_break_ok(const char *text, size_t len, size_t off)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t n;

	if (!text || off == 0 || off >= len || (s[off] & 0xc0) == 0x80)
		return false;
	size_t ps = prev_start(s, off);
	enum cls a = classify(dec(s, len, ps, &n));
	enum cls b = classify(dec(s, len, off, &n));

	if (b == C_CLOSE || a == C_OPEN || b == C_SPACE)
		return false;
	if (a == C_SPACE) {
		/* "7 件": a number stays with its counter */
		if (ps > 0 && cjk(b)) {
			enum cls z = classify(dec(s, len, prev_start(s, ps), &n));
			if (z == C_ALNUM && s[prev_start(s, ps)] >= '0' &&
			    s[prev_start(s, ps)] <= '9')
				return false;
		}
		return true;
	}
	if (a == C_CLOSE)
		return b != C_ALNUM || (s[ps] & 0x80); /* "3.5", "a,b": not inside ASCII */
	if (b == C_OPEN)
		return cjk(a);
	if (a == C_HIRA && (b == C_KANJI || b == C_KATA || b == C_ALNUM || b == C_OTHER))
		return true;
	return false;
}

void om_buf_put_html_phrases(om_buf *b, const char *s)
{
	size_t len = strlen(s);
	for (size_t i = 0; i < len; i++) {
		char one[2] = {s[i], 0};
		if (om_text_break_ok(s, len, i))
			om_buf_puts(b, "<wbr>");
		if (s[i] == ' ' && i > 0 && i + 1 < len && !om_text_break_ok(s, len, i + 1))
			om_buf_puts(b, "\xc2\xa0"); /* "7 件": a browser breaks at any space */
		else
			om_buf_put_html(b, one);
	}
}
