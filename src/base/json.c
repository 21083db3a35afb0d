/* json.c: a small streaming JSON writer into an om_buf. Output is always
 * valid JSON, whatever bytes the strings hold. Nesting deeper than
 * OM_JSON_MAX_DEPTH is a programmer error (assert). */
#include "base/base.h"

#include <assert.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

void om_json_init(om_json *j, om_buf *b)
{
	memset(j, 0, sizeof(*j));
	j->b = b;
}

/* Length of a valid UTF-8 sequence at s (max n bytes), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len;
	uint32_t cp;
	if (c < 0x80)
		return 1;
	if ((c & 0xe0) == 0xc0) {
		len = 2;
		cp = c & 0x1f;
	} else if ((c & 0xf0) == 0xe0) {
		len = 3;
		cp = c & 0x0f;
	} else if ((c & 0xf8) == 0xf0) {
		len = 4;
		cp = c & 0x07;
	} else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* Bytes that go into a JSON string as they are: printable ASCII but the
 * quote and the backslash. */
#define P1(c) ((c) >= 0x20 && (c) < 0x7f && (c) != '"' && (c) != '\\')
#define P4(c) P1(c), P1(c + 1), P1(c + 2), P1(c + 3)
#define P16(c) P4(c), P4(c + 4), P4(c + 8), P4(c + 12)
#define P64(c) P16(c), P16(c + 16), P16(c + 32), P16(c + 48)
static const bool plain_byte[256] = {P64(0), P64(64), P64(128), P64(192)};

/* Room for n more bytes and the terminating NUL without growing. */
static inline bool room(const om_buf *b, size_t n)
{
	return b->len + n < b->cap && b->len + n <= b->max;
}

/* memcpy for the short pieces of an event (keys, values, digits) without
 * the call: two overlapping loads and stores cover every length from 4 to
 * 32, all inside both buffers. n must be at most 32. */
static inline void copy_le32(char *d, const char *s, size_t n)
{
	if (n >= 8 && n <= 16) {
		uint64_t x, y;
		memcpy(&x, s, 8);
		memcpy(&y, s + n - 8, 8);
		memcpy(d, &x, 8);
		memcpy(d + n - 8, &y, 8);
	} else if (n > 16 && n <= 32) {
		uint64_t x[2], y[2];
		memcpy(x, s, 16);
		memcpy(y, s + n - 16, 16);
		memcpy(d, x, 16);
		memcpy(d + n - 16, y, 16);
	} else if (n >= 4 && n < 8) {
		uint32_t x, y;
		memcpy(&x, s, 4);
		memcpy(&y, s + n - 4, 4);
		memcpy(d, &x, 4);
		memcpy(d + n - 4, &y, 4);
	} else {
		for (size_t i = 0; i < n; i++)
			d[i] = s[i];
	}
}

/* The same for any length: longer ones go to memcpy. */
static inline void copy_small(char *d, const char *s, size_t n)
{
	if (n <= 32)
		copy_le32(d, s, n);
	else
		memcpy(d, s, n);
}

/* om_buf_putc without the call, for the brackets and commas. */
static inline void put1(om_buf *b, char c)
{
	if (room(b, 1)) {
		b->data[b->len++] = c;
		b->data[b->len] = '\0';
		return;
	}
	om_buf_putc(b, c);
}

/* True if one of the 8 bytes in x is not plain (a control byte, DEL or
 * above, the quote or the backslash): the exact byte-wise tests on a word. */
#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL
static inline bool nonplain8(uint64_t x)
{
	uint64_t lt20 = (x - ONES * 0x20) & ~x;                /* a byte < 0x20 */
	uint64_t gt7e = (x + ONES * (127 - 0x7e)) | x;         /* a byte > 0x7e */
	uint64_t q = x ^ (ONES * '"'), bs = x ^ (ONES * '\\'); /* zero where equal */
	uint64_t eq = ((q - ONES) & ~q) | ((bs - ONES) & ~bs);
	return ((lt20 | gt7e | eq) & HIGHS) != 0;
}

/* The common case of a value: plain bytes that fit. Writes
 * [pre]"s"[post] and returns true, or writes nothing and returns false. */
static inline bool put_plain(om_buf *b, char pre, const char *s, size_t n, char post)
{
	if (!room(b, n + 4))
		return false;
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t x;
		memcpy(&x, u + i, 8);
		if (nonplain8(x))
			return false;
	}
	for (; i < n; i++)
		if (!plain_byte[u[i]])
			return false;
	char *d = b->data + b->len;
	if (pre)
		*d++ = pre;
	*d++ = '"';
	copy_small(d, s, n);
	d += n;
	*d++ = '"';
	if (post)
		*d++ = post;
	*d = '\0';
	b->len = (size_t)(d - b->data);
	return true;
}

void om_json_escape(om_buf *b, const char *str, size_t n)
{
	if (put_plain(b, 0, str, n, 0))
		return;
	const unsigned char *s = (const unsigned char *)str;
	om_buf_putc(b, '"');
	size_t i = 0;
	while (i < n) {
		unsigned char c = s[i];
		size_t run = i;
		/* copy plain runs in one go */
		while (run < n && plain_byte[s[run]])
			run++;
		if (run > i) {
			om_buf_append(b, s + i, run - i);
			i = run;
			continue;
		}
		c = s[i];
		if (c == '"') {
			om_buf_puts(b, "\\\"");
			i++;
		} else if (c == '\\') {
			om_buf_puts(b, "\\\\");
			i++;
		} else if (c == '\n') {
			om_buf_puts(b, "\\n");
			i++;
		} else if (c == '\r') {
			om_buf_puts(b, "\\r");
			i++;
		} else if (c == '\t') {
			om_buf_puts(b, "\\t");
			i++;
		} else if (c < 0x20) {
			om_buf_printf(b, "\\u%04x", c);
			i++;
		} else {
			size_t l = utf8_len(s + i, n - i);
			if (l == 0) {
				om_buf_printf(b, "\\u00%02x", c);
				i++;
			} else {
				om_buf_append(b, s + i, l);
				i += l;
			}
		}
	}
	om_buf_putc(b, '"');
}

/* Keys are program constants: plain ASCII ones are copied as they are.
 * The fast path copies and checks in one pass, straight into the buffer,
 * and commits only a plain key that fit. */
static void json_key(om_json *j, const char *key)
{
	om_buf *b = j->b;
	if (key && room(b, 68)) {
		char *d = b->data + b->len;
		size_t o = 0;
		if (j->need_comma[j->depth])
			d[o++] = ',';
		d[o++] = '"';
		size_t i = 0;
		for (; i < 64 && key[i] && plain_byte[(unsigned char)key[i]]; i++)
			d[o++] = key[i];
		if (!key[i]) {
			d[o++] = '"';
			d[o++] = ':';
			d[o] = '\0';
			b->len += o;
			j->need_comma[j->depth] = true;
			return;
		}
	}
	if (j->need_comma[j->depth])
		om_buf_putc(j->b, ',');
	j->need_comma[j->depth] = true;
	if (key) {
		size_t n = strlen(key);
		bool plain = n < 64;
		for (size_t i = 0; plain && i < n; i++)
			plain = key[i] >= 0x20 && key[i] < 0x7f && key[i] != '"' && key[i] != '\\';
		if (plain) {
			char tmp[68];
			tmp[0] = '"';
			memcpy(tmp + 1, key, n);
			tmp[n + 1] = '"';
			tmp[n + 2] = ':';
			om_buf_append(j->b, tmp, n + 3);
		} else {
			om_json_escape(j->b, key, n);
			om_buf_putc(j->b, ':');
		}
	}
}

/* A literal key (OM_JK): quoted, with its colon, qn bytes. */
static inline void json_qkey(om_json *j, const char *qk, size_t qn)
{
#ifndef NDEBUG
	assert(qn >= 3 && qk[0] == '"' && qk[qn - 2] == '"' && qk[qn - 1] == ':');
	for (size_t i = 1; i + 2 < qn; i++)
		assert(plain_byte[(unsigned char)qk[i]]);
#endif
	om_buf *b = j->b;
	bool comma = j->need_comma[j->depth];
	j->need_comma[j->depth] = true;
	if (room(b, qn + 1)) {
		char *d = b->data + b->len;
		if (comma)
			*d++ = ',';
		copy_small(d, qk, qn);
		d[qn] = '\0';
		b->len = (size_t)(d + qn - b->data);
		return;
	}
	if (comma)
		om_buf_putc(b, ',');
	om_buf_append(b, qk, qn);
}

static void json_open(om_json *j, const char *key, char c)
{
	json_key(j, key);
	put1(j->b, c);
	assert(j->depth + 1 < OM_JSON_MAX_DEPTH);
	j->depth++;
	j->need_comma[j->depth] = false;
}

static void json_close(om_json *j, char c)
{
	assert(j->depth > 0);
	put1(j->b, c);
	j->depth--;
}

void om_json_obj_open(om_json *j, const char *key)
{
	json_open(j, key, '{');
}
void om_json_obj_close(om_json *j)
{
	json_close(j, '}');
}
void om_json_arr_open(om_json *j, const char *key)
{
	json_open(j, key, '[');
}
void om_json_arr_close(om_json *j)
{
	json_close(j, ']');
}

void om_json_kobj_open(om_json *j, const char *qk, size_t qn)
{
	json_qkey(j, qk, qn);
	put1(j->b, '{');
	assert(j->depth + 1 < OM_JSON_MAX_DEPTH);
	j->depth++;
	j->need_comma[j->depth] = false;
}

void om_json_kstr(om_json *j, const char *qk, size_t qn, const char *val)
{
	json_qkey(j, qk, qn);
	om_json_escape(j->b, val, strlen(val));
}

void om_json_kbool(om_json *j, const char *qk, size_t qn, bool v)
{
	json_qkey(j, qk, qn);
	om_buf *b = j->b;
	if (room(b, 5)) {
		memcpy(b->data + b->len, v ? "true" : "false", v ? 5 : 6);
		b->len += v ? 4 : 5;
		return;
	}
	om_buf_puts(b, v ? "true" : "false");
}

void om_json_str(om_json *j, const char *key, const char *val)
{
	json_key(j, key);
	om_json_escape(j->b, val, strlen(val));
}

void om_json_strn(om_json *j, const char *key, const char *val, size_t n)
{
	json_key(j, key);
	om_json_escape(j->b, val, n);
}

/* Decimal digits of v into out; returns their number (at most 20; the
 * buffers are 32 bytes so that copy_small may take them whole). Two
 * digits a step, from the end. */
static size_t u64_digits(uint64_t v, char out[32])
{
	static const char d2[] = "00010203040506070809101112131415161718192021222324"
	                         "25262728293031323334353637383940414243444546474849"
	                         "50515253545556575859606162636465666768697071727374"
	                         "75767778798081828384858687888990919293949596979899";
	char rev[32];
	char *p = rev + sizeof(rev);
	while (v >= 100) {
		unsigned r = (unsigned)(v % 100);
		v /= 100;
		p -= 2;
		memcpy(p, d2 + 2 * r, 2);
	}
	if (v >= 10) {
		p -= 2;
		memcpy(p, d2 + 2 * v, 2);
	} else {
		*--p = (char)('0' + v);
	}
	size_t n = (size_t)(rev + sizeof(rev) - p);
	copy_le32(out, p, n);
	return n;
}

void om_json_u64(om_json *j, const char *key, uint64_t v)
{
	char tmp[32];
	size_t n = u64_digits(v, tmp);
	json_key(j, key);
	om_buf *b = j->b;
	if (room(b, n)) {
		copy_le32(b->data + b->len, tmp, n);
		b->len += n;
		b->data[b->len] = '\0';
		return;
	}
	om_buf_append(b, tmp, n);
}

void om_json_ku64(om_json *j, const char *qk, size_t qn, uint64_t v)
{
	char tmp[32];
	size_t n = u64_digits(v, tmp);
	json_qkey(j, qk, qn);
	om_buf *b = j->b;
	if (room(b, n)) {
		copy_le32(b->data + b->len, tmp, n);
		b->len += n;
		b->data[b->len] = '\0';
		return;
	}
	om_buf_append(b, tmp, n);
}

void om_json_i64(om_json *j, const char *key, int64_t v)
{
	char tmp[24];
	int n = snprintf(tmp, sizeof(tmp), "%" PRId64, v);
	json_key(j, key);
	om_buf_append(j->b, tmp, (size_t)n);
}

void om_json_bool(om_json *j, const char *key, bool v)
{
	json_key(j, key);
	om_buf_puts(j->b, v ? "true" : "false");
}

void om_json_double(om_json *j, const char *key, double v)
{
	json_key(j, key);
	if (!isfinite(v))
		om_buf_puts(j->b, "null");
	else
		om_buf_printf(j->b, "%.6g", v);
}

void om_json_null(om_json *j, const char *key)
{
	json_key(j, key);
	om_buf_puts(j->b, "null");
}

void om_json_raw(om_json *j, const char *key, const char *raw)
{
	json_key(j, key);
	om_buf_puts(j->b, raw);
}

void om_json_members(om_json *j, const char *members, size_t n)
{
	if (!n)
		return;
	if (j->need_comma[j->depth])
		om_buf_putc(j->b, ',');
	j->need_comma[j->depth] = true;
	om_buf_append(j->b, members, n);
}
