/* libFuzzer target: webscan's readers of hostile input. The first byte
 * picks one: the HTML reader (links, forms, hidden elements, DOM hash), the
 * marker contexts and the XSS proof, the DOM XSS analysis and the
 * obfuscation test of a script, URLs in script and JSON text, query
 * strings, and the tamper baseline file. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "webscan/internal.h"

static void on_url(void *user, const char *url)
{
	size_t *n = user;
	*n += strlen(url);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	unsigned which = data[0] % 6;
	const char *text = (const char *)data + 1;
	size_t len = size - 1;
	/* most readers take NUL-terminated text */
	char *z = malloc(len + 1);
	if (!z)
		return 0;
	memcpy(z, text, len);
	z[len] = '\0';
	ws_arena a;
	ws_arena_init(&a, 64u * 1024 * 1024);
	size_t n = 0;
	switch (which) {
	case 0: {
		ws_html h;
		if (ws_html_parse(&a, text, len, "http://127.0.0.1:8080/dir/page.php?x=1", &h) == 0) {
			ws_print p;
			ws_print_make(&a, "http://127.0.0.1:8080/dir/page.php", &h, 1, &p);
			for (size_t i = 0; i < h.nforms; i++)
				n += h.forms[i].nfields;
			ws_html_free(&h);
		}
		break;
	}
	case 1:
		n += ws_html_contexts(text, len, "omzabcdefghi");
		n += ws_html_has_attr(text, len, "data-omzabcdefghi");
		n += ws_html_has_js_url(text, len, "omzabcdefghi");
		break;
	case 2: {
		const char *line = NULL;
		n += ws_dom_xss(&a, z, len, &line);
		n += ws_script_obfuscated(z, len);
		break;
	}
	case 3:
		ws_extract_urls(&a, text, len, "http://127.0.0.1/a/", on_url, &n);
		break;
	case 4: {
		ws_field f[WS_MAX_FORM_FIELDS];
		n += ws_query_parse(&a, z, f, WS_MAX_FORM_FIELDS);
		n += ws_sql_error(text, len, NULL) + ws_passwd_leak(text, len);
		n += (size_t)(ws_similarity(text, len / 2, text + len / 2, len - len / 2) * 10);
		break;
	}
	case 5: {
		ws_print *p = calloc(8, sizeof(*p));
		char err[256];
		size_t np = 0;
		if (p && ws_baseline_parse(&a, text, len, p, 8, &np, err, sizeof(err)) == 0) {
			om_buf b;
			om_buf_init(&b, 1u << 24);
			ws_baseline_write(p, np, &b);
			om_buf_free(&b);
		}
		free(p);
		break;
	}
	}
	(void)n;
	ws_arena_free(&a);
	free(z);
	return 0;
}
