/* console: parsing of form bodies and cookies (data from the network). */
#include <errno.h>
#include <string.h>

#include "console/internal.h"

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes p[0..n) into out (cap outlen incl. NUL). Returns 0 or -1 when the
 * value does not fit, has a bad escape or a NUL byte. */
static int decode(const char *p, size_t n, char *out, size_t outlen)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		char c = p[i];
		if (c == '+') {
			c = ' ';
		} else if (c == '%') {
			int h, l;
			if (i + 2 >= n)
				return -1;
			h = hexval(p[i + 1]);
			l = hexval(p[i + 2]);
			if (h < 0 || l < 0)
				return -1;
			c = (char)(h * 16 + l);
			i += 2;
		}
		if (c == '\0' || o + 1 >= outlen)
			return -1;
		out[o++] = c;
	}
	out[o] = '\0';
	return 0;
}

void con_form_parse(con_form *f, const char *data, size_t len)
{
	size_t i = 0;

	f->n = 0;
	f->bad = 0;
	while (i < len) {
		size_t end = i, eq;
		while (end < len && data[end] != '&')
			end++;
		eq = i;
		while (eq < end && data[eq] != '=')
			eq++;
		if (end > i) {
			if (f->n >= CON_FORM_MAX_FIELDS) {
				f->bad++;
			} else {
				con_field *fl = &f->f[f->n];
				size_t vstart = eq < end ? eq + 1 : end;
				if (decode(data + i, eq - i, fl->name, sizeof(fl->name)) < 0 ||
				    decode(data + vstart, end - vstart, fl->value,
				           sizeof(fl->value)) < 0)
					f->bad++;
				else
					f->n++;
			}
		}
		i = end + 1;
	}
}

const char *con_form_get(const con_form *f, const char *name)
{
	for (size_t i = 0; i < f->n; i++)
		if (!strcmp(f->f[i].name, name))
			return f->f[i].value;
	return NULL;
}

int con_cookie_get(const char *h, const char *name, char *out, size_t outlen)
{
	size_t nl = strlen(name);

	if (!h || !outlen)
		return -ENOENT;
	while (*h) {
		while (*h == ' ' || *h == ';')
			h++;
		const char *end = strchr(h, ';');
		size_t len = end ? (size_t)(end - h) : strlen(h);
		if (len > nl && !strncmp(h, name, nl) && h[nl] == '=') {
			size_t vl = len - nl - 1;
			if (vl + 1 > outlen)
				return -E2BIG;
			memcpy(out, h + nl + 1, vl);
			out[vl] = '\0';
			return 0;
		}
		if (!end)
			break;
		h = end + 1;
	}
	return -ENOENT;
}
