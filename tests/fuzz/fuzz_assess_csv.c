/* libFuzzer target: the assessment kit's CSV readers (the risk sheet and
 * the enrolment list) on the same input, and the risk sheet written back
 * as CSV and read again (it must give the same rows). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "assess/assess.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static om_assess_risk r, r2;
	char err[512];
	om_i18n_init();
	if (om_assess_risk_csv(&r, "fuzz", (const char *)data, size, OM_LANG_JA, err, sizeof(err)) ==
	    0) {
		om_buf b;
		om_buf_init(&b, 64u << 20);
		om_assess_risk_write_csv(&r, &b);
		if (om_assess_risk_csv(&r2, "again", b.data ? b.data : "", b.len, OM_LANG_JA, err,
		                       sizeof(err)) != 0 ||
		    r2.n != r.n)
			abort();
		for (unsigned i = 0; i < r.n; i++)
			if (strcmp(r.row[i].asset, r2.row[i].asset) || r.row[i].risk != r2.row[i].risk ||
			    r.row[i].risk < 1 || r.row[i].risk > 9)
				abort();
		om_buf_free(&b);
	}
	om_buf out;
	om_buf_init(&out, 16u << 20);
	om_assess_enrol((const char *)data, size, "fuzz", 3, OM_LANG_EN, &out, err, sizeof(err));
	om_buf_free(&out);
	return 0;
}
