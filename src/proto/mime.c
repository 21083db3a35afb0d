/* mime.c: the streaming MIME decoder (see mime.h and docs/proto-mail.md).
 *
 * Input is cut into lines here (a line longer than max_line is passed on
 * in pieces and can be no boundary); each line goes to the header reader
 * or to the body of the current part. Boundaries are checked on every line
 * against the open multiparts, innermost first, so a part that never ends
 * cannot hide the rest of the message. What is kept: one line, one header
 * field, the boundary stack, the decoded strings of the top-level header
 * and the attachment names (a fixed arena) and the URLs (another). */
#include <errno.h>
#include <iconv.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "proto/internal.h"
#include "proto/mime.h"

#define ARENA_MAX 16384u   /* decoded header strings and attachment names */
#define URLS_MAX 8192u     /* URL text */
#define TOKEN_MAX 1024u    /* one URL candidate */
#define BOUNDARY_MAX 80u   /* RFC 2046: 1 to 70 characters */
#define DEPTH_HARD 32u     /* max_depth is capped by this */
#define FIELD_NAME_MAX 76u /* a header name longer than this is malformed */
#define NAME_MAX_KEPT 1024u
#define CTYPE_MAX 64u
#define CHARSET_MAX 40u
#define PARAMS_MAX 48u
#define CONV_CARRY 16u
#define B64OUT_MAX 4096u /* decoded base64 bytes collected before they go out */

/* top-level header fields kept (Suricata's names in EVE) */
enum hf {
	HF_FROM,
	HF_TO,
	HF_CC,
	HF_BCC,
	HF_REPLY_TO,
	HF_SUBJECT,
	HF_DATE,
	HF_MESSAGE_ID,
	HF_IN_REPLY_TO,
	HF_X_MAILER,
	HF_USER_AGENT,
	HF_ORGANIZATION,
	HF_N
};
static const char *const hf_header[HF_N] = {
    "from", "to",         "cc",          "bcc",      "reply-to",   "subject",
    "date", "message-id", "in-reply-to", "x-mailer", "user-agent", "organization",
};
static const char *const hf_eve[HF_N] = {
    "from", "to",         "cc",          "bcc",      "reply_to",   "subject",
    "date", "message_id", "in_reply_to", "x_mailer", "user_agent", "organization",
};
/* written as arrays split at commas (outside quotes and angle brackets) */
static const bool hf_list[HF_N] = {
    [HF_TO] = true, [HF_CC] = true, [HF_BCC] = true, [HF_REPLY_TO] = true};

enum enc { ENC_NONE = 0, ENC_B64, ENC_QP };
enum where { W_HEADER, W_BODY, W_SKIP }; /* W_SKIP: preamble, epilogue, parts past a limit */

/* a streaming charset converter into UTF-8 */
struct conv {
	iconv_t cd; /* (iconv_t)-1: none (UTF-8 or unknown: bytes pass) */
	uint8_t carry[CONV_CARRY];
	size_t ncarry;
};

struct urlset {
	char *buf; /* URLS_MAX bytes: the decoder's url_buf[] */
	size_t used;
	uint32_t *off, *len;
	uint32_t n;
};

struct part {
	char ctype[CTYPE_MAX];
	char charset[CHARSET_MAX];
	char boundary[BOUNDARY_MAX];
	uint8_t name[NAME_MAX_KEPT];
	size_t name_len;
	enum enc enc;
	bool disposition, has_name;
	bool attachment; /* Content-Disposition: attachment */
};

struct mime {
	struct mime_limits lim;
	struct mime_ops ops;
	void *user;
	enum mime_status status;
	uint32_t parts;
	/* line assembly */
	uint8_t *line;
	size_t line_len;
	bool line_long; /* the current line overflowed: its rest is body */
	/* header reading */
	uint8_t *field;
	size_t field_len;
	bool field_long;
	bool hdr_piece; /* the last header line given was a piece of a longer one */
	bool top;       /* the header block being read is the message's own */
	struct part cur;
	enum where where;
	uint8_t bound_len[DEPTH_HARD];
	unsigned nbounds;
	unsigned rfc822; /* message/rfc822 nesting inside the current part */
	/* body of the current part */
	bool text; /* text/plain or text/html: scanned for URLs */
	uint64_t scanned;
	void *file;
	bool pending_nl, pending_cr; /* the line break before the next body line */
	uint8_t b64[4];
	unsigned nb64;
	size_t b64out_len;
	bool b64_bad, qp_bad;
	struct conv conv;
	/* URL candidate */
	size_t token_len;
	bool token_long;
	/* results */
	size_t arena_len;
	uint32_t hf_off[HF_N], hf_len[HF_N];
	bool hf_set[HF_N];
	uint32_t *att_off, *att_len;
	uint32_t natt;
	/* URLs: all we find (http, https, ftp; case and scheme kept), and
	 * Suricata's list (http only, scheme stripped, lower case, each part's
	 * newest first) */
	struct urlset all, eve;
	uint32_t eve_part; /* first of the current part's entries in eve */
	uint32_t eve_top;  /* entries of the message's own (top-level) body */
	bool top_body;     /* the current body is the top-level one */
	size_t etoken_len;
	bool arena_full;
	bool partial;
	/* kept for the observers (lim.max_text > 0) */
	char *hdr;
	size_t hdr_len;
	char *kept; /* the body text */
	size_t kept_len;
	uint8_t *heads; /* MIME_HEAD_MAX per listed attachment, up to HEADS_KEPT of them */
	uint32_t *head_len;
	int cur_att; /* the listed attachment being read, or -1 */
	/* ---- the large buffers, last: a reused decoder clears only what comes
	 * before them (each is read only up to its length member above) */
	/* the boundaries of the open multiparts (bound_len, nbounds), outermost
	 * first */
	char bounds[DEPTH_HARD][BOUNDARY_MAX];
	/* decoded base64 bytes not yet given out (b64out_len): given out when
	 * full, at the end of each mime_feed and before the part ends */
	uint8_t b64out[B64OUT_MAX + 4]; /* + 4: a quantum is stored as a word */
	char token[TOKEN_MAX];          /* URL candidate (token_len) */
	char etoken[TOKEN_MAX];         /* Suricata's URL candidate (etoken_len) */
	char arena[ARENA_MAX];          /* decoded header strings and names (arena_len) */
	char url_buf[2][URLS_MAX];      /* all.buf and eve.buf (up to their used) */
};
#define HEADS_KEPT 16u

static void anomaly(mime *m, const char *ev)
{
	if (m->ops.anomaly)
		m->ops.anomaly(m->user, ev);
}

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static bool ieq(const uint8_t *a, size_t n, const char *b)
{
	size_t bl = strlen(b);
	if (n != bl)
		return false;
	for (size_t i = 0; i < n; i++)
		if (lower(a[i]) != lower((unsigned char)b[i]))
			return false;
	return true;
}

static bool is_ws(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = lower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* base64 digit values; 0x80: not a digit */
static const uint8_t b64tab[256] = {
#define X8 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80
    X8, X8, X8, X8, X8, 0x80, 0x80, 0x80, 62,   0x80, 0x80, 0x80, 63,   52,   53, 54,
    55, 56, 57, 58, 59, 60,   61,   0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0,  1,
    2,  3,  4,  5,  6,  7,    8,    9,    10,   11,   12,   13,   14,   15,   16, 17,
    18, 19, 20, 21, 22, 23,   24,   25,   0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 26, 27,
    28, 29, 30, 31, 32, 33,   34,   35,   36,   37,   38,   39,   40,   41,   42, 43,
    44, 45, 46, 47, 48, 49,   50,   51,   0x80, 0x80, 0x80, 0x80, 0x80, X8,   X8, X8,
    X8, X8, X8, X8, X8, X8,   X8,   X8,   X8,   X8,   X8,   X8,   X8,
#undef X8
};

static int b64val(int c)
{
	uint8_t v = b64tab[(uint8_t)c];
	return v & 0x80 ? -1 : v;
}

/* Two digits at once: b64pair[c0 | c1 << 8] is their 12 bits, or
 * B64PAIR_BAD when either is not a digit (made once per process from
 * b64tab; 128 KiB, of which a base64 text touches about 12 KiB). */
#define B64PAIR_BAD 0x8000u
static uint16_t b64pair[65536];
static pthread_once_t b64pair_once = PTHREAD_ONCE_INIT;

static void b64pair_init(void)
{
	for (unsigned i = 0; i < 65536; i++) {
		unsigned a = b64tab[i & 0xff], b = b64tab[i >> 8];
		b64pair[i] = (uint16_t)((a | b) & 0x80 ? B64PAIR_BAD : a << 6 | b);
	}
}

/* Eight quanta (32 digits, 24 bytes) at a time with AVX2 where the CPU has
 * it: b64_runs decodes whole runs of 32 digits from src into o and returns
 * how many runs it took, stopping before the first run with a byte that
 * is not a digit (white space, '=', a stray byte: left to the per-quantum
 * path). It writes 4 bytes past the last run's 24 (o must have room). */
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

__attribute__((target("avx2"))) static size_t b64_runs_avx2(const uint8_t *src, size_t runs,
                                                            uint8_t *o)
{
	/* a digit's value is the byte plus an offset that depends on its
	 * range: A-Z -65, a-z -71, 0-9 +4, '+' +19, '/' +16; a byte in none
	 * of them (also every byte >= 0x80, negative as a signed byte) stops */
	const __m256i pack1 = _mm256_set1_epi32(0x01400140); /* a * 64 + b */
	const __m256i pack2 = _mm256_set1_epi32(0x00011000); /* ab * 4096 + cd */
	const __m256i order =
	    _mm256_setr_epi8(2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1, 2, 1, 0, 6, 5,
	                     4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1);
	size_t r = 0;
	for (; r < runs; r++, src += 32, o += 24) {
		__m256i in = _mm256_loadu_si256((const __m256i *)src);
		__m256i up = _mm256_and_si256(_mm256_cmpgt_epi8(in, _mm256_set1_epi8('A' - 1)),
		                              _mm256_cmpgt_epi8(_mm256_set1_epi8('Z' + 1), in));
		__m256i lo = _mm256_and_si256(_mm256_cmpgt_epi8(in, _mm256_set1_epi8('a' - 1)),
		                              _mm256_cmpgt_epi8(_mm256_set1_epi8('z' + 1), in));
		__m256i dg = _mm256_and_si256(_mm256_cmpgt_epi8(in, _mm256_set1_epi8('0' - 1)),
		                              _mm256_cmpgt_epi8(_mm256_set1_epi8('9' + 1), in));
		__m256i pl = _mm256_cmpeq_epi8(in, _mm256_set1_epi8('+'));
		__m256i sl = _mm256_cmpeq_epi8(in, _mm256_set1_epi8('/'));
		__m256i ok = _mm256_or_si256(_mm256_or_si256(up, lo), _mm256_or_si256(dg, pl));
		ok = _mm256_or_si256(ok, sl);
		if ((uint32_t)_mm256_movemask_epi8(ok) != 0xffffffffu)
			break;
		__m256i off = _mm256_and_si256(up, _mm256_set1_epi8(-65));
		off = _mm256_or_si256(off, _mm256_and_si256(lo, _mm256_set1_epi8(-71)));
		off = _mm256_or_si256(off, _mm256_and_si256(dg, _mm256_set1_epi8(4)));
		off = _mm256_or_si256(off, _mm256_and_si256(pl, _mm256_set1_epi8(19)));
		off = _mm256_or_si256(off, _mm256_and_si256(sl, _mm256_set1_epi8(16)));
		__m256i v = _mm256_add_epi8(in, off);
		/* per quantum of digits a b c d (one 32-bit word): 24 bits, its
		 * three bytes first in each 128-bit half */
		v = _mm256_madd_epi16(_mm256_maddubs_epi16(v, pack1), pack2);
		v = _mm256_shuffle_epi8(v, order);
		_mm_storeu_si128((__m128i *)o, _mm256_castsi256_si128(v));
		_mm_storeu_si128((__m128i *)(o + 12), _mm256_extracti128_si256(v, 1));
	}
	return r;
}

static int b64_avx2 = -1; /* -1: not yet asked (a race writes the same value) */

static size_t b64_runs(const uint8_t *src, size_t runs, uint8_t *o)
{
	if (b64_avx2 < 0)
		b64_avx2 = __builtin_cpu_supports("avx2") ? 1 : 0;
	return b64_avx2 ? b64_runs_avx2(src, runs, o) : 0;
}
#else
static size_t b64_runs(const uint8_t *src, size_t runs, uint8_t *o)
{
	(void)src;
	(void)runs;
	(void)o;
	return 0;
}
#endif

/* ---- charsets ---------------------------------------------------------------- */

static bool charset_is_utf8(const char *cs)
{
	const uint8_t *c = (const uint8_t *)cs;
	size_t n = strlen(cs);
	return !n || ieq(c, n, "utf-8") || ieq(c, n, "utf8") || ieq(c, n, "us-ascii") ||
	       ieq(c, n, "ascii");
}

/* glibc's names for the Japanese charsets mail uses; Shift_JIS as the
 * Windows superset that mailers actually send */
static const char *charset_name(const char *cs)
{
	const uint8_t *c = (const uint8_t *)cs;
	size_t n = strlen(cs);
	if (ieq(c, n, "shift_jis") || ieq(c, n, "shift-jis") || ieq(c, n, "sjis") ||
	    ieq(c, n, "x-sjis") || ieq(c, n, "windows-31j") || ieq(c, n, "cp932"))
		return "CP932";
	if (ieq(c, n, "iso-2022-jp") || ieq(c, n, "csiso2022jp"))
		return "ISO-2022-JP";
	return cs;
}

static iconv_t open_conv(const char *cs)
{
	if (charset_is_utf8(cs))
		return (iconv_t)-1;
	return iconv_open("UTF-8", charset_name(cs));
}

/* Converts n bytes with cd into out (cap bytes), appending; returns the new
 * length. An undecodable byte becomes U+FFFD. With flush false, an
 * incomplete sequence at the end is left: *used says how much was taken. */
static size_t convert(iconv_t cd, const uint8_t *in, size_t n, size_t *used, bool flush, char *out,
                      size_t olen, size_t cap)
{
	char *ip = (char *)(uintptr_t)in;
	size_t il = n;
	while (il > 0 && olen + 4 < cap) {
		char *op = out + olen;
		size_t ol = cap - olen - 1;
		size_t r = iconv(cd, &ip, &il, &op, &ol);
		olen = (size_t)(op - out);
		if (r != (size_t)-1)
			break;
		if (errno == E2BIG)
			break;
		if (errno == EINVAL && !flush)
			break;
		/* EILSEQ, or an incomplete tail at the end */
		if (olen + 3 < cap) {
			memcpy(out + olen, "\xef\xbf\xbd", 3);
			olen += 3;
		}
		ip++;
		il--;
	}
	if (flush && olen + 8 < cap) {
		char *op = out + olen;
		size_t ol = cap - olen - 1;
		iconv(cd, NULL, NULL, &op, &ol);
		olen = (size_t)(op - out);
	}
	if (used)
		*used = n - il;
	return olen;
}

/* Appends in (in charset cs) to out as UTF-8; returns the new length. */
static size_t to_utf8(const char *cs, const uint8_t *in, size_t n, char *out, size_t olen,
                      size_t cap)
{
	iconv_t cd = open_conv(cs);
	if (cd == (iconv_t)-1) {
		size_t k = n < cap - 1 - olen ? n : cap - 1 - olen;
		memcpy(out + olen, in, k);
		return olen + k;
	}
	olen = convert(cd, in, n, NULL, true, out, olen, cap);
	iconv_close(cd);
	return olen;
}

/* Raw header text: ISO-2022-JP when it has escape sequences (old Japanese
 * mailers send it unencoded), else as it is. */
static size_t raw_text(const uint8_t *in, size_t n, char *out, size_t olen, size_t cap)
{
	if (memchr(in, 0x1b, n))
		return to_utf8("ISO-2022-JP", in, n, out, olen, cap);
	return to_utf8("utf-8", in, n, out, olen, cap);
}

/* ---- RFC 2047 encoded-words ---------------------------------------------------- */

/* Parses an encoded-word at in[0..n): =?charset[*lang]?B|Q?text?=. Returns its
 * length, or 0 when it is none. */
static size_t encoded_word(const uint8_t *in, size_t n, const uint8_t **cs, size_t *cs_len,
                           int *kind, const uint8_t **txt, size_t *txt_len)
{
	if (n < 8 || in[0] != '=' || in[1] != '?')
		return 0;
	size_t i = 2;
	while (i < n && in[i] != '?' && !is_ws(in[i]))
		i++;
	if (i >= n || in[i] != '?' || i == 2 || i - 2 >= CHARSET_MAX)
		return 0;
	*cs = in + 2;
	*cs_len = i - 2;
	const uint8_t *star = memchr(*cs, '*', *cs_len); /* RFC 2231 language */
	if (star)
		*cs_len = (size_t)(star - *cs);
	if (i + 3 >= n || in[i + 2] != '?')
		return 0;
	int k = lower(in[i + 1]);
	if (k != 'b' && k != 'q')
		return 0;
	*kind = k;
	size_t t = i + 3;
	size_t e = t;
	while (e + 1 < n && !(in[e] == '?' && in[e + 1] == '=') && !is_ws(in[e]))
		e++;
	if (e + 1 >= n || in[e] != '?' || in[e + 1] != '=')
		return 0;
	*txt = in + t;
	*txt_len = e - t;
	return e + 2;
}

/* Decodes B or Q text, appending raw bytes to out; returns the new length. */
static size_t word_bytes(int kind, const uint8_t *t, size_t n, uint8_t *out, size_t olen,
                         size_t cap)
{
	if (kind == 'b') {
		uint32_t acc = 0;
		int bits = 0;
		for (size_t i = 0; i < n && olen < cap; i++) {
			int v = b64val(t[i]);
			if (v < 0)
				continue;
			acc = (acc << 6) | (uint32_t)v;
			bits += 6;
			if (bits >= 8) {
				bits -= 8;
				out[olen++] = (uint8_t)(acc >> bits);
			}
		}
		return olen;
	}
	for (size_t i = 0; i < n && olen < cap; i++) {
		if (t[i] == '_') {
			out[olen++] = ' ';
		} else if (t[i] == '=' && i + 2 < n + 0 && hexval(t[i + 1]) >= 0 &&
		           hexval(t[i + 2]) >= 0) {
			out[olen++] = (uint8_t)(hexval(t[i + 1]) << 4 | hexval(t[i + 2]));
			i += 2;
		} else {
			out[olen++] = t[i];
		}
	}
	return olen;
}

size_t mime_decode_header(const uint8_t *in, size_t n, char *out, size_t cap)
{
	if (!cap)
		return 0;
	size_t olen = 0;
	size_t i = 0;
	size_t plain = 0; /* start of the text not yet written */
	while (i < n && olen + 1 < cap) {
		const uint8_t *cs, *txt;
		size_t csl, tl;
		int kind;
		size_t wl =
		    in[i] == '=' ? encoded_word(in + i, n - i, &cs, &csl, &kind, &txt, &tl) : 0;
		if (!wl) {
			i++;
			continue;
		}
		olen = raw_text(in + plain, i - plain, out, olen, cap);
		/* this word and those that follow it with the same charset,
		 * separated by white space only (which RFC 2047 drops) */
		uint8_t raw[1024];
		size_t rl = word_bytes(kind, txt, tl, raw, 0, sizeof(raw));
		char charset[CHARSET_MAX];
		memcpy(charset, cs, csl);
		charset[csl] = '\0';
		i += wl;
		for (;;) {
			size_t j = i;
			while (j < n && is_ws(in[j]))
				j++;
			const uint8_t *cs2, *txt2;
			size_t csl2, tl2;
			int kind2;
			size_t wl2 =
			    j < n ? encoded_word(in + j, n - j, &cs2, &csl2, &kind2, &txt2, &tl2)
			          : 0;
			if (!wl2)
				break;
			if (csl2 != csl || !ieq(cs2, csl2, charset)) {
				/* another charset: write what we have, go on from there */
				olen = to_utf8(charset, raw, rl, out, olen, cap);
				rl = 0;
				memcpy(charset, cs2, csl2);
				charset[csl2] = '\0';
				csl = csl2;
			}
			rl = word_bytes(kind2, txt2, tl2, raw, rl, sizeof(raw));
			i = j + wl2;
		}
		olen = to_utf8(charset, raw, rl, out, olen, cap);
		plain = i;
	}
	if (plain < n)
		olen = raw_text(in + plain, n - plain, out, olen, cap);
	out[olen] = '\0';
	return olen;
}

/* ---- results ------------------------------------------------------------------- */

static bool arena_put(mime *m, const char *s, size_t n, uint32_t *ret_off)
{
	if (m->arena_len + n > ARENA_MAX) {
		if (!m->arena_full)
			anomaly(m, "MIME_LONG_HEADER_VALUE");
		m->arena_full = true;
		return false;
	}
	memcpy(m->arena + m->arena_len, s, n);
	*ret_off = (uint32_t)m->arena_len;
	m->arena_len += n;
	return true;
}

static void add_url(mime *m, struct urlset *u, const char *s, size_t n)
{
	for (uint32_t i = 0; i < u->n; i++)
		if (u->len[i] == n && !memcmp(u->buf + u->off[i], s, n))
			return;
	if (u->n >= m->lim.max_urls || u->used + n > URLS_MAX)
		return;
	memcpy(u->buf + u->used, s, n);
	u->off[u->n] = (uint32_t)u->used;
	u->len[u->n] = (uint32_t)n;
	u->used += n;
	u->n++;
}

/* ---- URLs in text ------------------------------------------------------------- */

static bool url_delim(unsigned char c)
{
	return c <= ' ' || c == '"' || c == '\'' || c == '<' || c == '>' || c == '(' || c == ')' ||
	       c == '{' || c == '}' || c == '\\' || c == '^' || c == '`' || c == '|' || c == 0x7f;
}

static size_t find_scheme(const char *t, size_t n)
{
	static const char *const schemes[] = {"http://", "https://", "ftp://"};
	for (size_t i = 0; i < n; i++) {
		for (size_t s = 0; s < OM_ARRAY_SIZE(schemes); s++) {
			size_t sl = strlen(schemes[s]);
			if (i + sl < n && ieq((const uint8_t *)t + i, sl, schemes[s]))
				return i;
		}
	}
	return n;
}

static void token_end(mime *m)
{
	size_t n = m->token_len;
	m->token_len = 0;
	m->token_long = false;
	size_t at = find_scheme(m->token, n);
	if (at >= n)
		return;
	const char *u = m->token + at;
	n -= at;
	/* sentence punctuation after a URL is not part of it: ASCII, and
	 * Japanese (、 。 」 ） ， ． in UTF-8) */
	static const char *const jp[] = {"\xe3\x80\x81", "\xe3\x80\x82", "\xe3\x80\x8d",
	                                 "\xef\xbc\x89", "\xef\xbc\x8c", "\xef\xbc\x8e"};
	for (bool more = true; more && n;) {
		more = false;
		if (strchr(".,;:!?", u[n - 1])) {
			n--;
			more = true;
			continue;
		}
		for (size_t k = 0; k < OM_ARRAY_SIZE(jp) && n >= 3; k++)
			if (!memcmp(u + n - 3, jp[k], 3)) {
				n -= 3;
				more = true;
				break;
			}
	}
	const char *host = memchr(u, ':', n);
	if (!host || (size_t)(host - u) + 3 >= n)
		return;
	add_url(m, &m->all, u, n);
}

/* Suricata's URL tokens: white space, quotes, <, > and ] end them; the text
 * after the first "http://" (any case) of a token is a URL, lower-cased */
static bool eve_delim(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '"' || c == '\'' ||
	       c == '<' || c == '>' || c == ']' || c == 0;
}

static void etoken_end(mime *m)
{
	size_t n = m->etoken_len;
	m->etoken_len = 0;
	for (size_t i = 0; i + 7 <= n; i++) {
		if (!ieq((const uint8_t *)m->etoken + i, 7, "http://"))
			continue;
		char low[TOKEN_MAX];
		size_t l = 0;
		for (size_t k = i + 7; k < n; k++)
			low[l++] = (char)lower((unsigned char)m->etoken[k]);
		if (l)
			add_url(m, &m->eve, low, l);
		return;
	}
}

static void scan_eve(mime *m, const uint8_t *d, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (eve_delim(d[i])) {
			if (m->etoken_len)
				etoken_end(m);
		} else if (m->etoken_len < TOKEN_MAX) {
			m->etoken[m->etoken_len++] = (char)d[i];
		}
	}
}

/* UTF-8 text of a text part */
static void scan_text(mime *m, const char *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)t[i];
		if (url_delim(c)) {
			if (m->token_len)
				token_end(m);
			continue;
		}
		if (m->token_len < TOKEN_MAX)
			m->token[m->token_len++] = (char)c;
		else
			m->token_long = true;
	}
}

/* the body text kept for the observers: text parts that are not attachments */
static void keep_text(mime *m, const char *t, size_t n)
{
	if (!n || !m->kept || m->cur.attachment || m->cur.has_name)
		return;
	size_t room = m->lim.max_text - m->kept_len;
	if (n > room)
		n = room;
	memcpy(m->kept + m->kept_len, t, n);
	m->kept_len += n;
}

/* decoded bytes of a text part: converted, then scanned */
static void text_bytes(mime *m, const uint8_t *d, size_t n, bool flush)
{
	if (m->scanned >= m->lim.max_body)
		return;
	if (n > m->lim.max_body - m->scanned)
		n = (size_t)(m->lim.max_body - m->scanned);
	m->scanned += n;
	/* Suricata does not look into attachments */
	if (d && !m->cur.attachment && !m->cur.has_name)
		scan_eve(m, d, n);
	if (m->conv.cd == (iconv_t)-1) {
		scan_text(m, (const char *)d, n);
		keep_text(m, (const char *)d, n);
		return;
	}
	char out[2048];
	uint8_t tmp[CONV_CARRY + 512];
	while (n > 0) {
		size_t take = n < 512 ? n : 512;
		memcpy(tmp, m->conv.carry, m->conv.ncarry);
		memcpy(tmp + m->conv.ncarry, d, take);
		size_t tot = m->conv.ncarry + take, used = 0;
		size_t ol = convert(m->conv.cd, tmp, tot, &used, false, out, 0, sizeof(out));
		scan_text(m, out, ol);
		keep_text(m, out, ol);
		/* an incomplete sequence waits for the next bytes (512 bytes in
		 * give at most 1,536 out: the output never fills) */
		size_t left = tot - used;
		if (left > CONV_CARRY)
			left = CONV_CARRY;
		memmove(m->conv.carry, tmp + tot - left, left);
		m->conv.ncarry = left;
		d += take;
		n -= take;
	}
	if (flush) {
		size_t ol = convert(m->conv.cd, m->conv.carry, m->conv.ncarry, NULL, true, out, 0,
		                    sizeof(out));
		scan_text(m, out, ol);
		keep_text(m, out, ol);
		m->conv.ncarry = 0;
	}
}

/* ---- parts --------------------------------------------------------------------- */

static void body_out(mime *m, const uint8_t *d, size_t n)
{
	if (!n)
		return;
	if (m->file && m->ops.part_data)
		m->ops.part_data(m->user, m->file, d, n);
	if (m->heads && m->cur_att >= 0) {
		uint32_t *hl = &m->head_len[m->cur_att];
		size_t take = n < MIME_HEAD_MAX - *hl ? n : MIME_HEAD_MAX - *hl;
		memcpy(m->heads + (size_t)m->cur_att * MIME_HEAD_MAX + *hl, d, take);
		*hl += (uint32_t)take;
	}
	if (m->text)
		text_bytes(m, d, n, false);
}

/* gives out the decoded base64 bytes collected */
static void b64_flush(mime *m)
{
	size_t n = m->b64out_len;
	m->b64out_len = 0;
	body_out(m, m->b64out, n);
}

static void part_finish(mime *m, bool complete)
{
	b64_flush(m);
	if (m->where == W_BODY) {
		if (m->cur.enc == ENC_B64 && m->nb64 > 1) {
			/* an unpadded last quantum */
			uint8_t o[3];
			uint32_t acc = 0;
			for (unsigned i = 0; i < m->nb64; i++)
				acc |= (uint32_t)m->b64[i] << (18 - 6 * i);
			o[0] = (uint8_t)(acc >> 16);
			o[1] = (uint8_t)(acc >> 8);
			body_out(m, o, m->nb64 - 1);
		}
		if (m->text) {
			text_bytes(m, NULL, 0, true);
			if (m->token_len)
				token_end(m);
			if (m->etoken_len)
				etoken_end(m);
		}
		/* Suricata keeps each part's URLs newest first */
		for (uint32_t a = m->eve_part, b = m->eve.n; a + 1 < b; a++, b--) {
			uint32_t o = m->eve.off[a], l = m->eve.len[a];
			m->eve.off[a] = m->eve.off[b - 1];
			m->eve.len[a] = m->eve.len[b - 1];
			m->eve.off[b - 1] = o;
			m->eve.len[b - 1] = l;
		}
		if (m->top_body)
			m->eve_top = m->eve.n;
	}
	m->nb64 = 0;
	if (m->file && m->ops.part_close)
		m->ops.part_close(m->user, m->file, complete);
	m->file = NULL;
	m->cur_att = -1;
	if (m->kept && m->kept_len && m->kept_len < m->lim.max_text &&
	    m->kept[m->kept_len - 1] != '\n')
		m->kept[m->kept_len++] = '\n'; /* parts do not run into each other */
	if (m->conv.cd != (iconv_t)-1)
		iconv_close(m->conv.cd);
	m->conv.cd = (iconv_t)-1;
	m->conv.ncarry = 0;
	m->text = false;
	m->top_body = false;
	m->eve_part = m->eve.n;
	m->pending_nl = false;
}

/* a new header block: a part after a boundary, or an embedded message */
static void headers_begin(mime *m, bool top)
{
	memset(&m->cur, 0, sizeof(m->cur));
	m->where = W_HEADER;
	m->top = top;
	m->field_len = 0;
	m->field_long = false;
	m->hdr_piece = false;
	m->b64_bad = m->qp_bad = false;
	m->scanned = 0;
}

/* One parameter of a structured header: name, RFC 2231 section (-1: none),
 * extended (the value is charset'lang'%XX), value. */
struct param {
	const uint8_t *name;
	size_t name_len;
	int section;
	bool ext;
	const uint8_t *val;
	size_t val_len;
	bool quoted;
};

/* Splits "main; a=b; c*0*=..." into the main token and parameters. */
static size_t parse_params(const uint8_t *v, size_t n, const uint8_t **main_tok, size_t *main_len,
                           struct param *ps, size_t max)
{
	size_t i = 0, np = 0;
	while (i < n && is_ws(v[i]))
		i++;
	size_t s = i;
	while (i < n && v[i] != ';')
		i++;
	size_t e = i;
	while (e > s && is_ws(v[e - 1]))
		e--;
	*main_tok = v + s;
	*main_len = e - s;
	while (i < n && np < max) {
		i++; /* ';' */
		while (i < n && is_ws(v[i]))
			i++;
		size_t ns = i;
		while (i < n && v[i] != '=' && v[i] != ';' && !is_ws(v[i]))
			i++;
		size_t ne = i;
		while (i < n && is_ws(v[i]))
			i++;
		if (i >= n || v[i] != '=') {
			while (i < n && v[i] != ';')
				i++;
			continue;
		}
		i++;
		while (i < n && is_ws(v[i]))
			i++;
		struct param *p = &ps[np];
		memset(p, 0, sizeof(*p));
		p->section = -1;
		/* name, name*, name*N, name*N* */
		size_t nl = ne - ns;
		if (nl && v[ns + nl - 1] == '*') {
			p->ext = true;
			nl--;
		}
		const uint8_t *star = memchr(v + ns, '*', nl);
		if (star) {
			size_t k = (size_t)(star - (v + ns)) + 1;
			int sec = 0;
			bool ok = k < nl;
			for (; k < nl; k++) {
				if (v[ns + k] < '0' || v[ns + k] > '9' || sec > 999) {
					ok = false;
					break;
				}
				sec = sec * 10 + (v[ns + k] - '0');
			}
			if (!ok)
				continue;
			p->section = sec;
			nl = (size_t)(star - (v + ns));
		}
		p->name = v + ns;
		p->name_len = nl;
		if (i < n && v[i] == '"') {
			i++;
			size_t vs = i;
			while (i < n && v[i] != '"') {
				if (v[i] == '\\' && i + 1 < n)
					i++;
				i++;
			}
			p->val = v + vs;
			p->val_len = i - vs;
			p->quoted = true;
			if (i < n)
				i++;
			while (i < n && v[i] != ';')
				i++;
		} else {
			size_t vs = i;
			while (i < n && v[i] != ';')
				i++;
			size_t ve = i;
			while (ve > vs && is_ws(v[ve - 1]))
				ve--;
			p->val = v + vs;
			p->val_len = ve - vs;
		}
		np++;
	}
	return np;
}

/* A parameter's value in UTF-8: RFC 2231 sections joined in order (charset
 * from the first), else the plain value with RFC 2047 words decoded (as
 * Japanese mailers write filenames). Returns the length, 0 when absent. */
static size_t param_value(const struct param *ps, size_t np, const char *name, char *out,
                          size_t cap)
{
	const struct param *plain = NULL;
	int maxsec = -1;
	bool any2231 = false;
	for (size_t k = 0; k < np; k++) {
		if (!ieq(ps[k].name, ps[k].name_len, name))
			continue;
		if (ps[k].section < 0 && !ps[k].ext) {
			if (!plain)
				plain = &ps[k];
			continue;
		}
		any2231 = true;
		if (ps[k].section > maxsec)
			maxsec = ps[k].section;
	}
	if (!any2231) {
		if (!plain)
			return 0;
		uint8_t tmp[NAME_MAX_KEPT];
		size_t tl = 0;
		for (size_t i = 0; i < plain->val_len && tl < sizeof(tmp); i++) {
			if (plain->quoted && plain->val[i] == '\\' && i + 1 < plain->val_len)
				i++;
			tmp[tl++] = plain->val[i];
		}
		return mime_decode_header(tmp, tl, out, cap);
	}
	uint8_t raw[NAME_MAX_KEPT];
	size_t rl = 0;
	char charset[CHARSET_MAX] = "";
	if (maxsec < 0)
		maxsec = 0;
	for (int sec = 0; sec <= maxsec && sec < 64; sec++) {
		const struct param *p = NULL;
		for (size_t k = 0; k < np && !p; k++)
			if (ieq(ps[k].name, ps[k].name_len, name) &&
			    (ps[k].section == sec || (sec == 0 && ps[k].section < 0 && ps[k].ext)))
				p = &ps[k];
		if (!p)
			break; /* a missing section ends the value (RFC 2231 3.) */
		const uint8_t *v = p->val;
		size_t vl = p->val_len;
		if (p->ext && sec == 0) {
			const uint8_t *q1 = memchr(v, '\'', vl);
			const uint8_t *q2 =
			    q1 ? memchr(q1 + 1, '\'', vl - (size_t)(q1 + 1 - v)) : NULL;
			if (q1 && q2) {
				size_t cl = (size_t)(q1 - v);
				if (cl < sizeof(charset)) {
					memcpy(charset, v, cl);
					charset[cl] = '\0';
				}
				vl -= (size_t)(q2 + 1 - v);
				v = q2 + 1;
			}
		}
		for (size_t i = 0; i < vl && rl < sizeof(raw); i++) {
			if (p->ext && v[i] == '%' && i + 2 < vl + 0 && hexval(v[i + 1]) >= 0 &&
			    hexval(v[i + 2]) >= 0) {
				raw[rl++] = (uint8_t)(hexval(v[i + 1]) << 4 | hexval(v[i + 2]));
				i += 2;
			} else {
				raw[rl++] = v[i];
			}
		}
	}
	size_t ol = to_utf8(charset, raw, rl, out, 0, cap);
	out[ol] = '\0';
	return ol;
}

static void copy_lower(char *dst, size_t cap, const uint8_t *s, size_t n)
{
	if (n >= cap)
		n = cap - 1;
	for (size_t i = 0; i < n; i++)
		dst[i] = (char)lower(s[i]);
	dst[n] = '\0';
}

/* a top-level field kept for the observers as "Name: value\n" (decoded);
 * a field that does not fit whole is left out */
static void keep_header(mime *m, const uint8_t *name, size_t nl, const uint8_t *v, size_t vl)
{
	char tmp[4096];
	size_t l = mime_decode_header(v, vl, tmp, sizeof(tmp));
	if (m->hdr_len + nl + l + 3 > MIME_HEADERS_MAX)
		return;
	memcpy(m->hdr + m->hdr_len, name, nl);
	m->hdr_len += nl;
	m->hdr[m->hdr_len++] = ':';
	m->hdr[m->hdr_len++] = ' ';
	for (size_t i = 0; i < l; i++)
		m->hdr[m->hdr_len++] = tmp[i] == '\n' || tmp[i] == '\r' ? ' ' : tmp[i];
	m->hdr[m->hdr_len++] = '\n';
}

static void header_field(mime *m, const uint8_t *f, size_t n)
{
	const uint8_t *colon = memchr(f, ':', n);
	if (!colon) {
		anomaly(m, "MIME_PARSE_FAILED");
		return;
	}
	size_t nl = (size_t)(colon - f);
	while (nl && is_ws(f[nl - 1]))
		nl--;
	if (nl > FIELD_NAME_MAX) {
		anomaly(m, "MIME_LONG_HEADER_NAME");
		return;
	}
	const uint8_t *v = colon + 1;
	size_t vl = n - (size_t)(v - f);
	while (vl && is_ws(*v)) {
		v++;
		vl--;
	}
	while (vl && is_ws(v[vl - 1]))
		vl--;
	struct param ps[PARAMS_MAX];
	const uint8_t *mt;
	size_t ml;
	if (ieq(f, nl, "content-type")) {
		size_t np = parse_params(v, vl, &mt, &ml, ps, PARAMS_MAX);
		copy_lower(m->cur.ctype, sizeof(m->cur.ctype), mt, ml);
		char tmp[NAME_MAX_KEPT];
		size_t bl = param_value(ps, np, "boundary", tmp, sizeof(tmp));
		if (bl >= BOUNDARY_MAX) {
			anomaly(m, "MIME_LONG_BOUNDARY");
			bl = 0;
		}
		memcpy(m->cur.boundary, tmp, bl);
		m->cur.boundary[bl] = '\0';
		size_t cl = param_value(ps, np, "charset", tmp, sizeof(tmp));
		if (cl < CHARSET_MAX) {
			memcpy(m->cur.charset, tmp, cl);
			m->cur.charset[cl] = '\0';
		}
		if (!m->cur.has_name) {
			size_t l = param_value(ps, np, "name", tmp, sizeof(tmp));
			if (l) {
				memcpy(m->cur.name, tmp, l);
				m->cur.name_len = l;
				m->cur.has_name = true;
			}
		}
	} else if (ieq(f, nl, "content-disposition")) {
		size_t np = parse_params(v, vl, &mt, &ml, ps, PARAMS_MAX);
		m->cur.attachment = ieq(mt, ml, "attachment");
		m->cur.disposition = m->cur.attachment || ieq(mt, ml, "inline");
		char tmp[NAME_MAX_KEPT];
		size_t l = param_value(ps, np, "filename", tmp, sizeof(tmp));
		if (l) {
			/* the disposition's filename wins over Content-Type's name */
			memcpy(m->cur.name, tmp, l);
			m->cur.name_len = l;
			m->cur.has_name = true;
		}
	} else if (ieq(f, nl, "content-transfer-encoding")) {
		if (ieq(v, vl, "base64"))
			m->cur.enc = ENC_B64;
		else if (ieq(v, vl, "quoted-printable"))
			m->cur.enc = ENC_QP;
	}
	if (!m->top)
		return;
	if (m->hdr)
		keep_header(m, f, nl, v, vl);
	for (int h = 0; h < HF_N; h++) {
		if (!ieq(f, nl, hf_header[h]))
			continue;
		if (m->hf_set[h]) {
			anomaly(m, "DUPLICATE_FIELDS");
			return;
		}
		char tmp[4096];
		size_t l = mime_decode_header(v, vl, tmp, sizeof(tmp));
		uint32_t off;
		if (arena_put(m, tmp, l, &off)) {
			m->hf_off[h] = off;
			m->hf_len[h] = (uint32_t)l;
			m->hf_set[h] = true;
		}
		return;
	}
}

static void field_flush(mime *m)
{
	if (m->field_len)
		header_field(m, m->field, m->field_len);
	m->field_len = 0;
	m->field_long = false;
}

static bool starts_with(const char *s, const char *p)
{
	return !strncmp(s, p, strlen(p));
}

/* the blank line after a header block */
static void headers_end(mime *m)
{
	field_flush(m);
	if (m->top)
		m->status = MIME_ST_HEADER_READY;
	if (!m->cur.ctype[0])
		memcpy(m->cur.ctype, "text/plain", sizeof("text/plain")); /* RFC 2045 5.2 */
	m->parts++;
	if (m->parts > m->lim.max_parts) {
		if (m->parts == m->lim.max_parts + 1)
			anomaly(m, "MIME_TOO_MANY_PARTS");
		m->where = W_SKIP;
		return;
	}
	if (starts_with(m->cur.ctype, "multipart/")) {
		if (!m->cur.boundary[0]) {
			anomaly(m, "MIME_MALFORMED_MSG");
			m->where = W_BODY; /* read as text */
		} else if (m->nbounds >= m->lim.max_depth || m->nbounds >= DEPTH_HARD) {
			anomaly(m, "MIME_TOO_DEEP");
			m->where = W_SKIP;
			return;
		} else {
			size_t bl = strlen(m->cur.boundary);
			memcpy(m->bounds[m->nbounds], m->cur.boundary, bl);
			m->bound_len[m->nbounds] = (uint8_t)bl;
			m->nbounds++;
			m->where = W_SKIP; /* the preamble */
			return;
		}
	}
	if (!strcmp(m->cur.ctype, "message/rfc822") && m->cur.enc == ENC_NONE &&
	    !m->cur.disposition) {
		if (m->rfc822 + m->nbounds < m->lim.max_depth) {
			m->rfc822++;
			headers_begin(m, false);
			return;
		}
		anomaly(m, "MIME_TOO_DEEP");
	}
	m->where = W_BODY;
	m->pending_nl = false;
	m->nb64 = 0;
	m->status = MIME_ST_BODY_STARTED;
	m->top_body = m->top;
	m->eve_part = m->eve.n;
	m->text = !strcmp(m->cur.ctype, "text/plain") || !strcmp(m->cur.ctype, "text/html");
	if (m->text)
		m->conv.cd = open_conv(m->cur.charset);
	bool file = m->cur.disposition || m->cur.has_name;
	if (file) {
		/* the attachment list names files; a nameless inline part is
		 * extracted but not listed */
		if (m->cur.name_len && m->natt < m->lim.max_parts) {
			uint32_t off;
			if (arena_put(m, (const char *)m->cur.name, m->cur.name_len, &off)) {
				m->att_off[m->natt] = off;
				m->att_len[m->natt] = (uint32_t)m->cur.name_len;
				if (m->heads && m->natt < HEADS_KEPT)
					m->cur_att = (int)m->natt;
				m->natt++;
			}
		}
		if (m->ops.part_open) {
			struct mime_part_info pi = {m->cur.name, m->cur.name_len, m->cur.ctype,
			                            m->nbounds};
			m->file = m->ops.part_open(m->user, &pi);
		}
	}
}

/* one line of a part's body (without its line break) */
static void body_line(mime *m, const uint8_t *l, size_t n, bool cr, bool nl)
{
	switch (m->cur.enc) {
	case ENC_B64: {
		/* decoded into m->b64out, which goes out when full (b64_flush) */
		uint8_t *o = m->b64out;
		size_t ol = m->b64out_len;
		size_t i = 0;
		while (i < n) {
			if (ol + 3 > B64OUT_MAX) {
				m->b64out_len = ol;
				b64_flush(m);
				ol = 0;
			}
			if (!m->nb64) {
				/* whole quanta of four digits, three bytes each */
				size_t q = (n - i) / 4, room = (B64OUT_MAX - ol) / 3;
				if (q > room)
					q = room;
				const uint8_t *src = l + i;
				/* runs of eight quanta, then one by one (writes up
				 * to 4 bytes past the output: b64out has room) */
				size_t k = 8 * b64_runs(src, q / 8, o + ol);
				src += 4 * k;
				ol += 3 * k;
				for (; k < q; k++, src += 4) {
					uint32_t hi = b64pair[src[0] | (unsigned)src[1] << 8],
					         lo = b64pair[src[2] | (unsigned)src[3] << 8];
					if ((hi | lo) & B64PAIR_BAD)
						break;
					/* the three bytes in one word store; its fourth byte
					 * is overwritten by the next quantum (b64out has
					 * room for it) */
					uint32_t v = hi << 12 | lo;
					uint8_t w[4] = {(uint8_t)(v >> 16), (uint8_t)(v >> 8),
					                (uint8_t)v, 0};
					memcpy(o + ol, w, 4);
					ol += 3;
				}
				i += 4 * k;
				if (i >= n)
					break;
				if (k == q && ol + 3 > B64OUT_MAX)
					continue; /* full: flushed above */
			}
			/* one character: padding, white space, a stray byte, or a
			 * quantum begun on an earlier line */
			int v = b64val(l[i]);
			if (v < 0) {
				if (l[i] == '=') {
					/* padding ends the quantum */
					if (m->nb64 >= 2) {
						uint32_t acc = 0;
						for (unsigned k2 = 0; k2 < m->nb64; k2++)
							acc |= (uint32_t)m->b64[k2]
							       << (18 - 6 * k2);
						o[ol++] = (uint8_t)(acc >> 16);
						if (m->nb64 == 3)
							o[ol++] = (uint8_t)(acc >> 8);
					}
					m->nb64 = 0;
				} else if (!is_ws(l[i]) && !m->b64_bad) {
					m->b64_bad = true;
					anomaly(m, "MIME_INVALID_BASE64");
				}
			} else {
				m->b64[m->nb64++] = (uint8_t)v;
				if (m->nb64 == 4) {
					uint32_t acc = (uint32_t)m->b64[0] << 18 |
					               (uint32_t)m->b64[1] << 12 |
					               (uint32_t)m->b64[2] << 6 | m->b64[3];
					o[ol++] = (uint8_t)(acc >> 16);
					o[ol++] = (uint8_t)(acc >> 8);
					o[ol++] = (uint8_t)acc;
					m->nb64 = 0;
				}
			}
			i++;
		}
		m->b64out_len = ol;
		return;
	}
	case ENC_QP: {
		if (m->pending_nl)
			body_out(m, (const uint8_t *)"\r\n", 2);
		m->pending_nl = false;
		size_t e = n;
		while (e && (l[e - 1] == ' ' || l[e - 1] == '\t'))
			e--;
		bool soft = false;
		uint8_t o[256];
		size_t ol = 0;
		for (size_t i = 0; i < e; i++) {
			if (ol + 1 >= sizeof(o)) {
				body_out(m, o, ol);
				ol = 0;
			}
			if (l[i] != '=') {
				o[ol++] = l[i];
				continue;
			}
			if (i + 1 == e) {
				soft = true;
				break;
			}
			if (i + 2 < e + 0 && hexval(l[i + 1]) >= 0 && hexval(l[i + 2]) >= 0) {
				o[ol++] = (uint8_t)(hexval(l[i + 1]) << 4 | hexval(l[i + 2]));
				i += 2;
				continue;
			}
			if (!m->qp_bad) {
				m->qp_bad = true;
				anomaly(m, "MIME_INVALID_QP");
			}
			o[ol++] = '=';
		}
		body_out(m, o, ol);
		m->pending_nl = nl && !soft;
		return;
	}
	default:
		if (m->pending_nl)
			body_out(m, (const uint8_t *)(m->pending_cr ? "\r\n" : "\n"),
			         m->pending_cr ? 2 : 1);
		body_out(m, l, n);
		m->pending_nl = nl;
		m->pending_cr = cr;
		return;
	}
}

/* a line starting "--": a boundary of an open multipart? Returns its level
 * + 1 (negative for the closing form), 0 for none. */
static int boundary_of(const mime *m, const uint8_t *l, size_t n)
{
	if (n < 3 || l[0] != '-' || l[1] != '-')
		return 0;
	for (unsigned k = m->nbounds; k-- > 0;) {
		size_t bl = m->bound_len[k];
		if (n < 2 + bl || memcmp(l + 2, m->bounds[k], bl))
			continue;
		size_t r = 2 + bl;
		bool close = r + 1 < n + 0 && l[r] == '-' && l[r + 1] == '-';
		if (close)
			r += 2;
		while (r < n && (l[r] == ' ' || l[r] == '\t'))
			r++;
		if (r != n)
			continue;
		return close ? -(int)(k + 1) : (int)(k + 1);
	}
	return 0;
}

/* a complete line (or a piece of an overlong one: whole false) */
static void line(mime *m, const uint8_t *l, size_t n, bool cr, bool nl, bool whole)
{
	int b = whole && m->nbounds ? boundary_of(m, l, n) : 0;
	if (b) {
		if (m->where == W_HEADER)
			field_flush(m);
		part_finish(m, true);
		m->rfc822 = 0;
		unsigned level = (unsigned)(b < 0 ? -b : b);
		m->nbounds = level; /* inner multiparts left open end here */
		if (b < 0) {
			m->nbounds = level - 1;
			m->where = W_SKIP; /* the epilogue */
			m->status = MIME_ST_BODY_END_BOUNDARY;
		} else {
			headers_begin(m, false);
		}
		return;
	}
	if (m->where == W_HEADER) {
		bool continuing = m->hdr_piece; /* the rest of a line begun earlier */
		m->hdr_piece = !nl;
		if (!continuing) {
			if (n == 0 && nl) {
				headers_end(m);
				return;
			}
			if (!((l[0] == ' ' || l[0] == '\t') && m->field_len)) {
				field_flush(m);
				if (m->top && m->status < MIME_ST_HEADER_STARTED)
					m->status = MIME_ST_HEADER_STARTED;
			}
			/* else folded: unfolding removes the line break only */
		}
		size_t room = m->lim.max_header - m->field_len;
		if (n > room) {
			if (!m->field_long)
				anomaly(m, "MIME_LONG_HEADER_VALUE");
			m->field_long = true;
			n = room;
		}
		memcpy(m->field + m->field_len, l, n);
		m->field_len += n;
		return;
	}
	if (m->where == W_BODY)
		body_line(m, l, n, cr, nl);
}

/* Up to SPARES_MAX decoders per thread are kept when freed and taken again
 * by the next mime_new with the same limits: a mail flow makes one per
 * message, and its buffers (about 200 KiB with max_text) were given back
 * to the system and faulted in again each time (one spare was not enough
 * for a worker with several mail flows open at once). */
#define SPARES_MAX 8u
struct spares {
	mime *m[SPARES_MAX];
	unsigned n;
};
static void destroy(mime *m);

static void spares_release(void *p)
{
	struct spares *sp = p;
	for (unsigned i = 0; i < sp->n; i++)
		destroy(sp->m[i]);
}

/* this thread's spares (made at the first call), or NULL */
static struct spares *thread_spares(void)
{
	return proto_thread_block(PROTO_THREAD_MIME, sizeof(struct spares), spares_release);
}

static bool same_limits(const struct mime_limits *a, const struct mime_limits *b)
{
	return a->max_line == b->max_line && a->max_header == b->max_header &&
	       a->max_depth == b->max_depth && a->max_parts == b->max_parts &&
	       a->max_body == b->max_body && a->max_urls == b->max_urls &&
	       a->max_text == b->max_text;
}

/* A spare decoder made like new: every member zero but its buffers (those
 * of the attachments' names and the URLs are read only up to natt and n,
 * the heads' lengths are cleared again). */
static mime *reuse(mime *m, const struct mime_limits *lim)
{
	uint8_t *line = m->line, *field = m->field, *heads = m->heads;
	uint32_t *att_off = m->att_off, *att_len = m->att_len, *head_len = m->head_len;
	uint32_t *u_off[2] = {m->all.off, m->eve.off}, *u_len[2] = {m->all.len, m->eve.len};
	char *hdr = m->hdr, *kept = m->kept;
	memset(m, 0, offsetof(struct mime, bounds)); /* the buffers after it are not read
	                                                 before they are written */
	m->lim = *lim;
	m->line = line;
	m->field = field;
	m->att_off = att_off;
	m->att_len = att_len;
	for (int k = 0; k < 2; k++) {
		struct urlset *u = k ? &m->eve : &m->all;
		u->buf = m->url_buf[k];
		u->off = u_off[k];
		u->len = u_len[k];
	}
	m->hdr = hdr;
	m->kept = kept;
	m->heads = heads;
	m->head_len = head_len;
	if (head_len)
		memset(head_len, 0, HEADS_KEPT * sizeof(uint32_t));
	return m;
}

mime *mime_new(const struct mime_limits *l, const struct mime_ops *ops, void *user)
{
	struct mime_limits lim = *l;
	if (lim.max_line < 80)
		lim.max_line = 80;
	if (lim.max_header < 80)
		lim.max_header = 80;
	if (lim.max_depth > DEPTH_HARD)
		lim.max_depth = DEPTH_HARD;
	if (!lim.max_parts)
		lim.max_parts = 1;
	pthread_once(&b64pair_once, b64pair_init);
	struct spares *sp = thread_spares();
	mime *m = NULL;
	for (unsigned i = sp ? sp->n : 0; i-- > 0;)
		if (same_limits(&sp->m[i]->lim, &lim)) {
			m = reuse(sp->m[i], &lim);
			sp->m[i] = sp->m[--sp->n];
			break;
		}
	if (!m) {
		m = calloc(1, sizeof(*m));
		if (!m)
			return NULL;
		m->lim = lim;
		m->line = malloc(m->lim.max_line);
		m->field = malloc(m->lim.max_header);
		m->att_off = calloc(m->lim.max_parts, sizeof(uint32_t));
		m->att_len = calloc(m->lim.max_parts, sizeof(uint32_t));
		for (int k = 0; k < 2; k++) {
			struct urlset *u = k ? &m->eve : &m->all;
			u->buf = m->url_buf[k];
			u->off = calloc(m->lim.max_urls + 1, sizeof(uint32_t));
			u->len = calloc(m->lim.max_urls + 1, sizeof(uint32_t));
		}
		if (m->lim.max_text) {
			m->hdr = malloc(MIME_HEADERS_MAX);
			m->kept = malloc(m->lim.max_text);
			m->heads = malloc((size_t)HEADS_KEPT * MIME_HEAD_MAX);
			m->head_len = calloc(HEADS_KEPT, sizeof(uint32_t));
			if (!m->hdr || !m->kept || !m->heads || !m->head_len) {
				destroy(m);
				return NULL;
			}
		}
		if (!m->line || !m->field || !m->att_off || !m->att_len || !m->all.off ||
		    !m->all.len || !m->eve.off || !m->eve.len) {
			destroy(m);
			return NULL;
		}
	}
	if (ops)
		m->ops = *ops;
	m->user = user;
	m->conv.cd = (iconv_t)-1;
	m->cur_att = -1;
	headers_begin(m, true);
	return m;
}

static void destroy(mime *m)
{
	free(m->line);
	free(m->field);
	free(m->att_off);
	free(m->att_len);
	free(m->all.off);
	free(m->all.len);
	free(m->eve.off);
	free(m->eve.len);
	free(m->hdr);
	free(m->kept);
	free(m->heads);
	free(m->head_len);
	free(m);
}

mime *mime_free(mime *m)
{
	if (!m)
		return NULL;
	part_finish(m, false);
	if (m->conv.cd != (iconv_t)-1) {
		iconv_close(m->conv.cd);
		m->conv.cd = (iconv_t)-1;
	}
	struct spares *sp = thread_spares();
	if (sp && sp->n < SPARES_MAX) {
		sp->m[sp->n++] = m; /* kept for one of the thread's next messages */
		return NULL;
	}
	destroy(m);
	return NULL;
}

static void feed_lines(mime *m, const uint8_t *d, size_t n)
{
	while (n > 0) {
		const uint8_t *lf = memchr(d, '\n', n);
		size_t take = lf ? (size_t)(lf - d) : n;
		size_t room = m->lim.max_line - m->line_len;
		if (take > room) {
			/* an overlong line: what is held goes on as a piece */
			memcpy(m->line + m->line_len, d, room);
			m->line_len += room;
			if (!m->line_long)
				anomaly(m, "MIME_LONG_LINE");
			line(m, m->line, m->line_len, false, false, false);
			m->line_long = true;
			m->line_len = 0;
			d += room;
			n -= room;
			continue;
		}
		if (lf && !m->line_len) {
			/* a whole line in the input: decoded where it is */
			size_t ll = take;
			bool cr = ll && d[ll - 1] == '\r';
			line(m, d, cr ? ll - 1 : ll, cr, true, !m->line_long);
			m->line_long = false;
			d += take + 1;
			n -= take + 1;
			continue;
		}
		memcpy(m->line + m->line_len, d, take);
		m->line_len += take;
		if (!lf)
			return;
		size_t ll = m->line_len;
		bool cr = ll && m->line[ll - 1] == '\r';
		if (cr)
			ll--;
		line(m, m->line, ll, cr, true, !m->line_long);
		m->line_long = false;
		m->line_len = 0;
		d += take + 1;
		n -= take + 1;
	}
}

void mime_feed(mime *m, const uint8_t *d, size_t n)
{
	if (m->status == MIME_ST_PARSE_DONE || m->status == MIME_ST_PARSE_ERROR)
		return;
	feed_lines(m, d, n);
	b64_flush(m);
}

void mime_end(mime *m, bool complete)
{
	if (m->status == MIME_ST_PARSE_DONE || m->status == MIME_ST_PARSE_ERROR)
		return;
	if (m->line_len) {
		size_t ll = m->line_len;
		bool cr = m->line[ll - 1] == '\r';
		line(m, m->line, cr ? ll - 1 : ll, cr, false, !m->line_long);
		m->line_len = 0;
	}
	if (m->where == W_HEADER) {
		field_flush(m);
		if (m->top && m->status < MIME_ST_HEADER_READY)
			m->status = MIME_ST_HEADER_READY;
	}
	bool open_parts = m->nbounds > 0;
	part_finish(m, complete && !open_parts);
	if (complete && open_parts && !m->partial)
		anomaly(m, "MIME_MALFORMED_MSG");
	m->where = W_SKIP;
	m->status = complete ? MIME_ST_PARSE_DONE : MIME_ST_PARSE_ERROR;
}

void mime_set_partial(mime *m)
{
	m->partial = true;
}

enum mime_status mime_status(const mime *m)
{
	return m->status;
}

const char *mime_status_name(enum mime_status s)
{
	static const char *const names[] = {"NONE",         "HEADER_STARTED",    "HEADER_READY",
	                                    "BODY_STARTED", "BODY_END_BOUNDARY", "PARSE_DONE",
	                                    "PARSE_ERROR"};
	return (unsigned)s < OM_ARRAY_SIZE(names) ? names[s] : "NONE";
}

uint32_t mime_parts(const mime *m)
{
	return m->parts;
}

/* a comma-separated address list as an array (commas inside quotes or <>
 * do not split) */
static void write_list(om_json *j, const char *key, const char *s, size_t n)
{
	om_json_arr_open(j, key);
	size_t i = 0;
	while (i < n) {
		size_t st = i;
		bool q = false;
		int angle = 0;
		while (i < n) {
			char c = s[i];
			if (c == '"' && (i == st || s[i - 1] != '\\'))
				q = !q;
			else if (!q && c == '<')
				angle++;
			else if (!q && c == '>' && angle)
				angle--;
			else if (!q && !angle && c == ',')
				break;
			i++;
		}
		size_t e = i;
		while (st < e && is_ws((unsigned char)s[st]))
			st++;
		while (e > st && is_ws((unsigned char)s[e - 1]))
			e--;
		if (e > st)
			om_json_strn(j, NULL, s + st, e - st);
		i++;
	}
	om_json_arr_close(j);
}

/* a URL without scheme (Suricata's form): host, then path */
static void url_flags(const char *u, size_t n, bool *v6, bool *v4, bool *exe)
{
	if (n && u[0] == '[')
		*v6 = true;
	size_t e = 0, dots = 0;
	bool digits = n > 0;
	for (; e < n && u[e] != '/' && u[e] != ':' && u[e] != '?'; e++) {
		if (u[e] == '.')
			dots++;
		else if (u[e] < '0' || u[e] > '9')
			digits = false;
	}
	if (digits && dots == 3)
		*v4 = true;
	size_t pe = e;
	while (pe < n && u[pe] != '?' && u[pe] != '#')
		pe++;
	if (pe >= 4 && ieq((const uint8_t *)u + pe - 4, 4, ".exe"))
		*exe = true;
}

void mime_write_urls(om_json *j, const char *key, const mime *m)
{
	if (!m->all.n)
		return;
	om_json_arr_open(j, key);
	for (uint32_t i = 0; i < m->all.n; i++)
		om_json_strn(j, NULL, m->all.buf + m->all.off[i], m->all.len[i]);
	om_json_arr_close(j);
}

const char *mime_field(const mime *m, enum mime_field f, size_t *ret_len)
{
	static const enum hf map[] = {HF_FROM, HF_TO, HF_SUBJECT};
	if ((unsigned)f >= OM_ARRAY_SIZE(map) || !m->hf_set[map[f]])
		return NULL;
	*ret_len = m->hf_len[map[f]];
	return m->arena + m->hf_off[map[f]];
}

const char *mime_url(const mime *m, uint32_t idx, size_t *ret_len)
{
	if (idx >= m->all.n)
		return NULL;
	*ret_len = m->all.len[idx];
	return m->all.buf + m->all.off[idx];
}

const char *mime_headers(const mime *m, size_t *ret_len)
{
	if (!m->hdr)
		return NULL;
	*ret_len = m->hdr_len;
	return m->hdr;
}

const char *mime_text(const mime *m, size_t *ret_len)
{
	if (!m->kept)
		return NULL;
	*ret_len = m->kept_len;
	return m->kept;
}

const char *mime_attachment(const mime *m, uint32_t idx, size_t *ret_len)
{
	if (idx >= m->natt)
		return NULL;
	*ret_len = m->att_len[idx];
	return m->arena + m->att_off[idx];
}

const uint8_t *mime_attachment_head(const mime *m, uint32_t idx, size_t *ret_len)
{
	if (!m->heads || idx >= m->natt || idx >= HEADS_KEPT)
		return NULL;
	*ret_len = m->head_len[idx];
	return m->heads + (size_t)idx * MIME_HEAD_MAX;
}

bool mime_has_urls(const mime *m)
{
	return m->all.n > 0;
}

void mime_write_email(om_json *j, const mime *m)
{
	om_json_obj_open(j, "email");
	om_json_str(j, "status", mime_status_name(m->status));
	for (int h = 0; h < HF_N; h++) {
		if (!m->hf_set[h])
			continue;
		const char *s = m->arena + m->hf_off[h];
		if (hf_list[h])
			write_list(j, hf_eve[h], s, m->hf_len[h]);
		else
			om_json_strn(j, hf_eve[h], s, m->hf_len[h]);
	}
	if (m->natt) {
		om_json_arr_open(j, "attachment");
		for (uint32_t i = 0; i < m->natt; i++)
			om_json_strn(j, NULL, m->arena + m->att_off[i], m->att_len[i]);
		om_json_arr_close(j);
	}
	if (m->eve.n) {
		/* Suricata's flags, on the URLs of the message's own body (not
		 * of its parts): a literal IPv6 or IPv4 host, an executable */
		if (m->eve_top) {
			bool v6 = false, v4 = false, exe = false;
			for (uint32_t i = 0; i < m->eve_top; i++)
				url_flags(m->eve.buf + m->eve.off[i], m->eve.len[i], &v6, &v4,
				          &exe);
			om_json_bool(j, "has_ipv6_url", v6);
			om_json_bool(j, "has_ipv4_url", v4);
			om_json_bool(j, "has_exe_url", exe);
		}
		om_json_arr_open(j, "url");
		for (uint32_t i = 0; i < m->eve.n; i++)
			om_json_strn(j, NULL, m->eve.buf + m->eve.off[i], m->eve.len[i]);
		om_json_arr_close(j);
	}
	om_json_obj_close(j);
}
