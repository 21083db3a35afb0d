/* fuzz_phrase: the Japanese phrase line breaker on arbitrary bytes (stored
 * names reach it): om_text_break_ok at every offset, and the HTML writer
 * with <wbr>, whose output must be the escaped input with only <wbr>
 * added (and some spaces written as U+00A0). */
#include <stdlib.h>
#include <string.h>

#include "report/report.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	if (size > 4096)
		return 0;
	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = 0;
	size_t len = strlen(s);
	for (size_t i = 0; i <= len + 1; i++)
		(void)om_text_break_ok(s, len, i);
	om_buf a, b;
	om_buf_init(&a, 1 << 20);
	om_buf_init(&b, 1 << 20);
	om_buf_put_html_phrases(&a, s);
	om_buf_put_html(&b, s);
	/* a without its <wbr> is b */
	const char *p = om_buf_cstr(&a), *q = om_buf_cstr(&b);
	while (*p || *q) {
		if (!strncmp(p, "<wbr>", 5)) {
			p += 5;
			continue;
		}
		if (!strncmp(p, "\xc2\xa0", 2) && *q == ' ') { /* a space kept with its number */
			p += 2;
			q++;
			continue;
		}
		if (*p != *q)
			abort();
		p++;
		q++;
	}
	om_buf_free(&a);
	om_buf_free(&b);
	free(s);
	return 0;
}
