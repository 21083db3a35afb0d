/* libFuzzer target: the line-based feed importers (plain lists, CSV with
 * or without a header, the abuse.ch CSVs with their comment headers). The
 * first byte picks the format; the indicators found are looked up again. */
#include <stdint.h>
#include <string.h>

#include "guard/guard.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum om_intel_format fmts[] = {OM_INTEL_FMT_AUTO,    OM_INTEL_FMT_PLAIN,
	                                            OM_INTEL_FMT_CSV,     OM_INTEL_FMT_URLHAUS,
	                                            OM_INTEL_FMT_FEODO,   OM_INTEL_FMT_THREATFOX,
	                                            OM_INTEL_FMT_SSLBL};
	if (!size)
		return 0;
	enum om_intel_format f = fmts[data[0] % (sizeof(fmts) / sizeof(fmts[0]))];
	om_intel_builder *b = NULL;
	if (om_intel_builder_new(&b) < 0)
		return 0;
	om_intel_import_stats st;
	memset(&st, 0, sizeof(st));
	om_intel_import_opts o = {.type = (enum om_intel_type)(data[0] >> 4) % OM_INTEL_TYPES};
	om_intel_import_buf(b, f, (const char *)data + 1, size - 1, &o, &st);
	om_intel_hit h;
	/* every line as a lookup of each type */
	const char *s = (const char *)data + 1, *end = (const char *)data + size;
	for (unsigned n = 0; s < end && n < 64; n++) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t len = nl ? (size_t)(nl - s) : (size_t)(end - s);
		for (int t = 0; t < OM_INTEL_TYPES; t++)
			om_intel_builder_lookup(b, (enum om_intel_type)t, s, len, 1000, &h);
		s += len + 1;
	}
	om_intel_builder_free(b);
	return 0;
}
