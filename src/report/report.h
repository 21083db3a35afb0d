/* report: the monthly company report. Uses base and store. */
#ifndef OMAMORI_REPORT_H
#define OMAMORI_REPORT_H

#include "base/base.h"
#include "store/store.h"

enum om_report_format { OM_REPORT_TEXT = 0, OM_REPORT_JSON, OM_REPORT_HTML, OM_REPORT_PDF };

typedef struct om_report_opts {
	const char *tenant;
	const char *month; /* "YYYY-MM", validated by om_report_build */
	enum om_report_format format;
	enum om_lang lang;
	/* An IANA zone for months, days and times; NULL: the tenant's own
	 * (tenant metadata "timezone", default Asia/Tokyo). */
	const char *timezone;
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
/* Like om_report_build; in addition *ret_has_data (may be NULL) tells
 * whether the tenant has any data at all (a report of a tenant without any
 * is still written and says so; the CLI then exits non-zero). */
int om_report_build2(om_store *s, const om_report_opts *o, om_buf *out, bool *ret_has_data,
                     char *err, size_t errlen);
/* The report as an A4 PDF written to path (through the om_doc model below;
 * Japanese broken between phrases). *ret_has_data as above. */
int om_report_pdf(om_store *s, const om_report_opts *o, const char *path, bool *ret_has_data,
                  char *err, size_t errlen);

/* Every company's report for one month into dir (created if missing), one
 * file per tenant, named <tenant>-<month>.<txt|json|html|pdf> (a tenant id
 * with characters outside [A-Za-z0-9._-] is written with them as '_' and a
 * hash suffix). Each tenant is counted in its own time zone. Tenants
 * without any data get a report that says so and are counted in
 * *ret_nodata. *ret_written (may be NULL) is the number of files written.
 * Returns 0 when every report was written, else the first error (the other
 * reports are still attempted). At most OM_REPORT_TENANTS_MAX tenants
 * (-E2BIG beyond, after writing those). */
#define OM_REPORT_TENANTS_MAX 20000
int om_report_all(om_store *s, const char *month, const char *dir, enum om_report_format format,
                  enum om_lang lang, size_t *ret_written, size_t *ret_nodata, char *err,
                  size_t errlen);

/* ---- programme statistics (stats.c) ------------------------------------- */
/* The pilot's table for the government office: per category the companies
 * monitored and affected (at least one event), the share affected and the
 * events, for all companies and by industry, size and region (the tenant
 * metadata; "unknown" when not set). Anonymised: no name, address or IP;
 * a cell of fewer than OM_STATS_K companies (other than 0) is suppressed,
 * a group of fewer than OM_STATS_K companies is suppressed whole, and
 * further cells are suppressed so that no suppressed cell can be recovered
 * from the published totals. docs/report.md describes the rules. */
#define OM_STATS_K 3
enum om_stats_format { OM_STATS_CSV = 0, OM_STATS_JSON, OM_STATS_XLSX };
/* CSV and JSON into out; XLSX needs path (out unused). */
int om_report_stats(om_store *s, const char *month, enum om_stats_format format, enum om_lang lang,
                    om_buf *out, const char *path, char *err, size_t errlen);

/* The suppression itself, on one table (exposed for its tests): n groups,
 * sizes[n] companies per group, cells[n * ncols] counts (row-major); the
 * totals of every column and of sizes are published. Sets supp_size[n]
 * and supp_cell[n * ncols]. */
void om_stats_suppress(unsigned n, unsigned ncols, const uint64_t *sizes, const uint64_t *cells,
                       unsigned k, bool *supp_size, bool *supp_cell);

/* ---- the command line: 'omamori report' and 'omamori tenant' ------------ */
/* argv[0] is "report" or "tenant"; db and tenant are the defaults (state
 * directory database, configured tenant). Returns the exit status. */
int om_report_main(int argc, char **argv, enum om_lang lang, const char *db, const char *tenant);
int om_tenant_main(int argc, char **argv, enum om_lang lang, const char *db);

/* ---- line breaking (phrase.c) ------------------------------------------- */
/* Whether a line may break before byte off of text[0..len): Japanese only
 * between phrases (after particles, punctuation; never splitting a word of
 * kanji or katakana), other text at spaces. */
bool om_text_break_ok(const char *text, size_t len, size_t off);
/* s HTML-escaped, with <wbr> where a line may break (for use under CSS
 * word-break: keep-all), and a space where it may not (a number and its
 * counter) written as U+00A0. */
void om_buf_put_html_phrases(om_buf *b, const char *s);

/* ---- documents: one model, written as HTML or PDF ------------------------ */
/* The services (assessment kit, exercise debrief, drill results, web scan
 * report) build a document once from these blocks and write it as HTML
 * (self-contained, inline SVG charts) or PDF (cairo + pango, Noto CJK
 * fonts, A4). Text is UTF-8 and may be Japanese; the writers wrap it. A
 * document holds copies of everything given to it (an arena per document);
 * every call after an allocation failure is ignored and the writers then
 * return -ENOMEM. The design note is docs/doc.md. */
typedef struct om_doc om_doc;
enum om_doc_mark { OM_DOC_PLAIN = 0, OM_DOC_GOOD, OM_DOC_WARN, OM_DOC_BAD, OM_DOC_DECIDE };
om_doc *om_doc_new(const char *title, enum om_lang lang);
om_doc *om_doc_free(om_doc *d);
/* level 1..3 */
void om_doc_heading(om_doc *d, int level, const char *text);
/* A paragraph; mark colours it (OM_DOC_DECIDE: a passage the reader must
 * decide or fill in, shown highlighted). */
void om_doc_para(om_doc *d, enum om_doc_mark mark, const char *text);
void om_doc_bullet(om_doc *d, enum om_doc_mark mark, const char *text);
/* A table of rows x cols cells (row-major, rows >= 1); the first row is the
 * header. marks may be NULL, or one mark per cell. */
void om_doc_table(om_doc *d, unsigned rows, unsigned cols, const char *const *cells,
                  const enum om_doc_mark *marks);
/* A horizontal bar chart: n labelled values (>= 0), unit appended to each. */
void om_doc_bars(om_doc *d, const char *title, unsigned n, const char *const *labels,
                 const double *values, const char *unit);
/* A radar chart of n axes (3..12) scored 0..max, one or two series (the
 * second NULL or an earlier date's scores, drawn dashed); names label the
 * series. */
void om_doc_radar(om_doc *d, const char *title, unsigned n, const char *const *axes, double max,
                  const double *series1, const char *name1, const double *series2,
                  const char *name2);
void om_doc_pagebreak(om_doc *d);
/* Writers: 0 or a negative errno with err set. */
int om_doc_html(const om_doc *d, om_buf *out, char *err, size_t errlen);
int om_doc_pdf(const om_doc *d, const char *path, char *err, size_t errlen);
/* om_doc_pdf with flags: OM_DOC_NOSYNC leaves out the fsync before the
 * rename (a caller writing many files syncs once at the end). */
#define OM_DOC_NOSYNC 1u
int om_doc_pdf2(const om_doc *d, const char *path, unsigned flags, char *err, size_t errlen);
/* The radar chart alone as an SVG document (for the assessment's radar). */
int om_doc_radar_svg(unsigned n, const char *const *axes, double max, const double *series1,
                     const char *name1, const double *series2, const char *name2, om_buf *out);

#endif
