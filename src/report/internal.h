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

/* The support desk's section (desk.c): the company's tickets open at some
 * time of the month, each with what was done (its trail) and the desk's
 * last answer. */
#define REPORT_DESK_TICKETS 50
#define REPORT_DESK_DONE 24
typedef struct report_desk_done {
	om_usec ts;
	char action[32];
	char detail[256];
} report_desk_done;
typedef struct report_desk_item {
	om_store_ticket ticket;
	report_desk_done done[REPORT_DESK_DONE];
	size_t ndone;
	char advice[1024];
} report_desk_item;
typedef struct report_desk {
	report_desk_item *item;
	size_t n;
} report_desk;
/* How times are shown: the month's local midnights as the report has them. */
typedef struct report_desk_view {
	enum om_lang lang;
	const char *month;
	const om_usec *bound;
	int ndays;
} report_desk_view;
int report_desk_gather(om_store *s, const char *tenant, om_usec from, om_usec to, report_desk *ret);
void report_desk_free(report_desk *d);
void report_desk_text(const report_desk *d, const report_desk_view *v, om_buf *b);
void report_desk_html(const report_desk *d, const report_desk_view *v, om_buf *b);
void report_desk_json(const report_desk *d, const report_desk_view *v, om_json *j);
void report_desk_doc(const report_desk *d, const report_desk_view *v, om_doc *doc);

/* The PDF writer's fonts (pdffont.c): a font map of the Japanese font with
 * its subroutines expanded, from a pool (one per thread drawing at once);
 * NULL when it cannot be had (then the system's default font map serves).
 * Give it back with report_pdf_fontmap_release (NULL is fine). */
typedef struct _PangoFontMap PangoFontMap;
PangoFontMap *report_pdf_fontmap_acquire(void);
void report_pdf_fontmap_release(PangoFontMap *m);

#endif
