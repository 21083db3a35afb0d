/* libFuzzer: the console's parsers of request data (form bodies, cookies,
 * batch ids). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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
	free(s);
	return 0;
}
