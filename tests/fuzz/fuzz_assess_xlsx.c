/* libFuzzer target: the risk sheet's XLSX reader (zip, shared strings and
 * the first worksheet's XML) on an image in memory. */
#include <stdint.h>

#include "assess/assess.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static om_assess_risk r;
	char err[512];
	om_i18n_init();
	om_assess_risk_xlsx_parse(&r, "fuzz", data, size, OM_LANG_EN, err, sizeof(err));
	return 0;
}
