/* libFuzzer target: the assessment kit's YAML/JSON readers, the answer
 * file (om_assess_sheet_parse) and the workshop file, on the same input. */
#include <stdint.h>
#include <stdlib.h>

#include "assess/assess.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static om_assess_sheet s;
	static om_assess_workshop w;
	char err[512];
	om_i18n_init();
	om_assess_sheet_init(&s);
	if (om_assess_sheet_parse(&s, "fuzz", (const char *)data, size, OM_LANG_JA, err,
	                          sizeof(err)) == 0) {
		om_assess_result r;
		om_assess_score(&s, &r);
		if (r.ndepts < 1 || r.ndepts > OM_ASSESS_MAX_DEPTS || r.score > 100 || r.score < -25)
			abort();
	}
	om_assess_workshop_init(&w);
	om_assess_workshop_parse(&w, "fuzz", (const char *)data, size, OM_LANG_EN, err, sizeof(err));
	return 0;
}
