/* internal.h: private to the report module: what the programme
 * statistics and the all-companies run read from the report's gathering. */
#ifndef OMAMORI_REPORT_INTERNAL_H
#define OMAMORI_REPORT_INTERNAL_H

#include "report/report.h"

#include <pthread.h>

/* One tenant's month, counted as its report counts it (its own time zone):
 * per category whether it was monitored and its events, and the tenant's
 * metadata. 0 or a negative errno with err set. */
typedef struct report_counts {
	bool monitored[6];
	uint64_t count[6];
	bool has_data;
	om_store_tenant_meta meta;
} report_counts;
int report_tenant_counts(om_store *s, const char *tenant, const char *month, enum om_lang lang,
                         report_counts *ret, char *err, size_t errlen);

/* om_report_pdf with om_doc_pdf2's flags (OM_DOC_NOSYNC); store_lock
 * (may be NULL) is held while the store is read. */
int report_pdf_flags(om_store *s, pthread_mutex_t *store_lock, const om_report_opts *o,
                     const char *path, unsigned flags, bool *ret_has_data, char *err,
                     size_t errlen);

/* The PDF writer's fonts (pdffont.c): a font map of the Japanese font with
 * its subroutines expanded, from a pool (one per thread drawing at once);
 * NULL when it cannot be had (then the system's default font map serves).
 * Give it back with report_pdf_fontmap_release (NULL is fine). */
typedef struct _PangoFontMap PangoFontMap;
PangoFontMap *report_pdf_fontmap_acquire(void);
void report_pdf_fontmap_release(PangoFontMap *m);

#endif
