/* console: the template layer. Every value is HTML-escaped unless the
 * template asks for raw HTML with {!N}, which is only used for fragments
 * built by this same function. */
#include <errno.h>

#include "console/internal.h"

int con_html(om_buf *b, const char *tpl, const char *const *vals, size_t nvals)
{
	int r = 0;

	for (const char *p = tpl; *p && r == 0; p++) {
		bool raw = false;
		const char *q = p + 1;
		if (*p != '{') {
			r = om_buf_putc(b, *p);
			continue;
		}
		if (*q == '!') {
			raw = true;
			q++;
		}
		if (*q < '0' || *q > '9' || q[1] != '}') {
			r = om_buf_putc(b, *p);
			continue;
		}
		size_t idx = (size_t)(*q - '0');
		if (idx >= nvals)
			return -EINVAL;
		const char *v = vals[idx] ? vals[idx] : "";
		r = raw ? om_buf_puts(b, v) : om_buf_put_html(b, v);
		p = q + 1;
	}
	return r;
}
