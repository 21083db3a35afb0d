/* libFuzzer: the console's parsers of request data (form bodies, cookies,
 * batch ids, the search page's query values, the statistics' CSV records)
 * and the template layer's escaping of any value. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "console/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static con_form f;
	char out[96];
	char *s = malloc(size + 1);

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	con_form_parse(&f, (const char *)data, size);
	for (size_t i = 0; i < f.n; i++)
		(void)con_form_get(&f, f.f[i].name);
	(void)con_cookie_get(s, "om_session", out, sizeof(out));
	(void)con_batch_id_ok(s);
	{
		om_usec t, a, b;
		int sev;
		int64_t id;
		char m[8];
		(void)con_day_start("Asia/Tokyo", s, size & 1, &t);
		(void)con_month_bounds("Asia/Tokyo", s, &a, &b);
		(void)con_month_of(s, 0, (int)(size % 25) - 12, m);
		(void)con_severity_parse(s, &sev);
		(void)con_id_parse(s, &id);
		(void)con_category_ok(s);
	}
	{
		/* CSV records: each takes at least one byte, together all of them,
		 * and every field stored is terminated within its buffer */
		static char fields[8][CON_CSV_FIELD_MAX];
		size_t off = 0, n, k;
		while ((k = con_csv_record((const char *)data + off, size - off, fields, 8, &n)) > 0) {
			if (n > 8 || k > size - off)
				abort();
			for (size_t i = 0; i < n; i++)
				if (!memchr(fields[i], '\0', CON_CSV_FIELD_MAX))
					abort();
			off += k;
		}
		if (off != size)
			abort();
	}
	{
		/* an escaped value never opens a tag or an attribute */
		om_buf b;
		const char *v[] = {s};
		om_buf_init(&b, 1024 * 1024);
		if (con_html(&b, "{0}", v, 1) == 0)
			for (const char *o = om_buf_cstr(&b); *o; o++)
				if (*o == '<' || *o == '>' || *o == '"' || *o == '\'')
					abort();
		om_buf_free(&b);
	}
	free(s);
	return 0;
}
