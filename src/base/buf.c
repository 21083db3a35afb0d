/* buf.c: bounded growable byte buffers. Every buffer has a maximum size; an
 * append past it fails without changing the buffer and marks it toobig. */
#include "base/base.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void om_buf_init(om_buf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

void om_buf_free(om_buf *b)
{
	if (!b)
		return;
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

void om_buf_reset(om_buf *b)
{
	b->len = 0;
	b->toobig = false;
	if (b->data)
		b->data[0] = '\0';
}

static int buf_reserve(om_buf *b, size_t extra)
{
	size_t need = b->len + extra + 1;
	if (unlikely(need < b->len || need - 1 > b->max)) {
		b->toobig = true;
		return -ENOBUFS;
	}
	if (need <= b->cap)
		return 0;
	size_t ncap = b->cap ? b->cap : 256;
	while (ncap < need)
		ncap *= 2;
	if (ncap > b->max + 1)
		ncap = b->max + 1;
	char *n = realloc(b->data, ncap);
	if (!n)
		return -ENOMEM;
	b->data = n;
	b->cap = ncap;
	return 0;
}

int om_buf_append(om_buf *b, const void *p, size_t n)
{
	/* fast path: room already there */
	if (likely(b->len + n < b->cap && b->len + n <= b->max)) {
		memcpy(b->data + b->len, p, n);
		b->len += n;
		b->data[b->len] = '\0';
		return 0;
	}
	int r = buf_reserve(b, n);
	if (r < 0)
		return r;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int om_buf_puts(om_buf *b, const char *s)
{
	return om_buf_append(b, s, strlen(s));
}

int om_buf_putc(om_buf *b, char c)
{
	if (likely(b->len + 1 < b->cap && b->len + 1 <= b->max)) {
		b->data[b->len++] = c;
		b->data[b->len] = '\0';
		return 0;
	}
	return om_buf_append(b, &c, 1);
}

int om_buf_vprintf(om_buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	char tmp[256];
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return -EINVAL;
	if ((size_t)n < sizeof(tmp))
		return om_buf_append(b, tmp, (size_t)n);
	int r = buf_reserve(b, (size_t)n);
	if (r < 0)
		return r;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int om_buf_printf(om_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = om_buf_vprintf(b, fmt, ap);
	va_end(ap);
	return r;
}

const char *om_buf_cstr(om_buf *b)
{
	if (!b->data)
		return "";
	return b->data;
}

int om_buf_put_html(om_buf *b, const char *s)
{
	int r = 0;
	for (; *s && r == 0; s++) {
		switch (*s) {
		case '<': r = om_buf_puts(b, "&lt;"); break;
		case '>': r = om_buf_puts(b, "&gt;"); break;
		case '&': r = om_buf_puts(b, "&amp;"); break;
		case '"': r = om_buf_puts(b, "&quot;"); break;
		case '\'': r = om_buf_puts(b, "&#39;"); break;
		default: r = om_buf_putc(b, *s); break;
		}
	}
	return r;
}
