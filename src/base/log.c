/* log.c: one line on stderr per message, prefixed with the program name and
 * the level. Thread-safe (one fprintf per line). */
#include "base/base.h"

#include <stdio.h>

static enum om_log_level log_level = OM_LOG_WARN;

void om_log_set_level(enum om_log_level lvl)
{
	log_level = lvl;
}

void om_log(enum om_log_level lvl, const char *fmt, ...)
{
	static const char *const keys[] = {"log.error", "log.warning", "log.info", "log.debug"};
	if (lvl > log_level)
		return;
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "omamori: %s: %s\n", om_tr(keys[lvl]), line);
}
