/* libFuzzer target: the exercise scenario loader (YAML, validation, the
 * event graph) on arbitrary bytes, and for a file it accepts, the analysis
 * (best and worst paths, path count) and the debrief. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "exercise/exercise.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	if (!init) {
		om_i18n_init();
		init = 1;
	}
	om_scenario *s = NULL;
	char err[512];
	if (om_scenario_parse((const char *)data, size, "fuzz.yaml", &s, err, sizeof(err)) < 0)
		return 0;
	om_ex_play *p = malloc(sizeof(*p));
	if (p && om_ex_worst_path(s, p) == 0) {
		om_buf b;
		om_buf_init(&b, 1 << 22);
		om_ex_debrief_text(s, p, OM_LANG_EN, &b);
		om_ex_debrief_json(s, p, OM_LANG_JA, &b);
		om_buf_free(&b);
	}
	if (p)
		om_ex_best_path(s, p);
	(void)om_ex_path_count(s);
	free(p);
	om_scenario_free(s);
	return 0;
}
