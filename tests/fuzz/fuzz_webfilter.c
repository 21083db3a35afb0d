/* libFuzzer target: the web filter's list importers (plain, hosts, CSV;
 * the first byte picks the format) and lookups of every line of the input
 * in what was built. */
#include <stdint.h>
#include <string.h>

#include "guard/guard.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!size)
		return 0;
	om_wf_builder *b = NULL;
	if (om_wf_builder_new(&b) < 0)
		return 0;
	enum om_wf_format fmt = (enum om_wf_format)(data[0] % 4);
	const char *text = (const char *)data + 1;
	size_t len = size - 1;
	om_wf_import_stats st = {0};
	om_wf_import_buf(b, fmt, text, len, (data[0] & 0x80) ? "fuzz" : NULL, &st);
	for (const char *p = text, *end = text + len; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		const char *slash = memchr(p, '/', n);
		size_t hl = slash ? (size_t)(slash - p) : n;
		om_wf_match m;
		om_wf_builder_lookup(b, p, hl, slash, slash ? n - hl : 0, &m);
		p = nl ? nl + 1 : end;
	}
	om_wf_builder_free(b);
	return 0;
}
