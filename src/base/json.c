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

void om_json_escape(om_buf *b, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	om_buf_putc(b, '"');
	size_t i = 0;
	while (i < n) {
		unsigned char c = s[i];
		size_t run = i;
		/* copy plain runs in one go */
		while (run < n && s[run] >= 0x20 && s[run] < 0x80 && s[run] != '"' &&
		       s[run] != '\\')
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

/* Keys are program constants: plain ASCII ones are copied as they are. */
static void json_key(om_json *j, const char *key)
{
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

static void json_open(om_json *j, const char *key, char c)
{
	json_key(j, key);
	om_buf_putc(j->b, c);
	assert(j->depth + 1 < OM_JSON_MAX_DEPTH);
	j->depth++;
	j->need_comma[j->depth] = false;
}

static void json_close(om_json *j, char c)
{
	assert(j->depth > 0);
	om_buf_putc(j->b, c);
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

/* Decimal digits of v into out; returns their number (at most 20). */
static size_t u64_digits(uint64_t v, char out[24])
{
	char rev[24];
	size_t n = 0;
	do {
		rev[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (size_t i = 0; i < n; i++)
		out[i] = rev[n - 1 - i];
	return n;
}

void om_json_u64(om_json *j, const char *key, uint64_t v)
{
	char tmp[24];
	size_t n = u64_digits(v, tmp);
	json_key(j, key);
	om_buf_append(j->b, tmp, n);
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
