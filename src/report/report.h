/* report: the monthly company report. Uses base and store. */
#ifndef OMAMORI_REPORT_H
#define OMAMORI_REPORT_H

#include "base/base.h"
#include "store/store.h"

enum om_report_format { OM_REPORT_TEXT = 0, OM_REPORT_JSON, OM_REPORT_HTML };

typedef struct om_report_opts {
	const char *tenant;
	const char *month; /* "YYYY-MM", validated by om_report_build */
	enum om_report_format format;
	enum om_lang lang;
} om_report_opts;

/* The six report categories of DESIGN.md, in report order. */
extern const char *const om_report_categories[6];

/* Checks the options alone (month form, tenant, format, language), so that
 * a caller can refuse bad options before opening the store. Returns 0 or
 * -EINVAL with err set, in the report's language. */
int om_report_check(const om_report_opts *o, char *err, size_t errlen);

/* Builds the report into out. On error returns -EINVAL (bad options) or
 * another negative errno and writes a message into err. */
int om_report_build(om_store *s, const om_report_opts *o, om_buf *out, char *err, size_t errlen);

#endif
