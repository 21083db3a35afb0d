/* libFuzzer target: the JSON feed importers (Feodo Tracker and ThreatFox
 * exports, STIX 2.1 bundles with their patterns, MISP events). The first
 * byte picks the format (or detection). */
#include <stdint.h>
#include <string.h>

#include "guard/guard.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum om_intel_format fmts[] = {OM_INTEL_FMT_AUTO, OM_INTEL_FMT_FEODO,
	                                            OM_INTEL_FMT_THREATFOX, OM_INTEL_FMT_STIX,
	                                            OM_INTEL_FMT_MISP};
	if (!size)
		return 0;
	enum om_intel_format f = fmts[data[0] % (sizeof(fmts) / sizeof(fmts[0]))];
	om_intel_builder *b = NULL;
	if (om_intel_builder_new(&b) < 0)
		return 0;
	om_intel_import_stats st;
	memset(&st, 0, sizeof(st));
	om_intel_import_buf(b, f, (const char *)data + 1, size - 1, NULL, &st);
	om_intel_hit h;
	om_intel_builder_lookup(b, OM_INTEL_IP, "192.0.2.1", 9, 0, &h);
	om_intel_builder_lookup(b, OM_INTEL_DOMAIN, "a.b.example", 11, 0, &h);
	om_intel_builder_free(b);
	return 0;
}
