/* libFuzzer target: the drill target-list readers. The input is read as
 * CSV and as XLSX (it is a zip when it starts with PK), and each sheet that
 * parses goes through the header mapping and row checks; every target that
 * passes must have a valid address and rows must keep increasing lines. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "drill/drill.h"

static void check(const om_drill_sheet *s)
{
	for (size_t i = 1; i < s->nrows; i++)
		if (s->row[i].line <= s->row[i - 1].line)
			abort();
	om_drill_targets t;
	char err[1024];
	if (om_drill_targets_from_sheet("fuzz", s, &t, OM_LANG_JA, err, sizeof(err)) == 0) {
		for (size_t i = 0; i < t.n; i++)
			if (!om_drill_mail_valid(t.t[i].mail) || !t.t[i].custom_json)
				abort();
		om_drill_targets_free(&t);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	om_drill_sheet s;
	char err[1024];
	om_i18n_init();
	if (om_drill_csv_parse("fuzz", (const char *)data, size, &s, OM_LANG_EN, err, sizeof(err)) ==
	    0) {
		check(&s);
		om_drill_sheet_free(&s);
	}
	if (om_drill_xlsx_parse("fuzz", data, size, &s, OM_LANG_EN, err, sizeof(err)) == 0) {
		check(&s);
		om_drill_sheet_free(&s);
	}
	return 0;
}
