/* drill: targeted-attack mail drills. This part: the target list (CSV and
 * XLSX import, groups, exclusions) and the `omamori drill` command. Uses
 * base, store and report. */
#ifndef OMAMORI_DRILL_H
#define OMAMORI_DRILL_H

#include "base/base.h"
#include "store/store.h"

/* Hard caps of one imported file. */
#define OM_DRILL_MAX_ROWS 100000u
#define OM_DRILL_MAX_COLS 64u
#define OM_DRILL_MAX_FIELD 512u
#define OM_DRILL_MAX_FILE (64u << 20)

/* A parsed sheet: rows of cells with the line (CSV) or row number (XLSX)
 * each row came from. Row 0 is the header. */
typedef struct om_drill_sheet {
	size_t nrows;
	struct om_drill_srow {
		unsigned line;
		unsigned ncells;
		char **cell;
	} * row;
} om_drill_sheet;

/* The targets read from one file; strings are owned by the list. */
typedef struct om_drill_targets {
	size_t n;
	om_store_drill_target *t;
	om_buf strings; /* backing store of the strings */
	char **owned;
	size_t nowned;
} om_drill_targets;

/* Parses CSV (UTF-8, optional BOM, RFC 4180 quoting, comma or tab
 * separated, CRLF or LF). On error returns -EINVAL with "FILE:LINE: what"
 * in err. */
int om_drill_csv_parse(const char *name, const char *data, size_t len, om_drill_sheet *ret,
                       enum om_lang lang, char *err, size_t errlen);
/* Parses the first worksheet of an XLSX file (shared and inline strings,
 * numbers as written). Errors as om_drill_csv_parse, with the row number. */
int om_drill_xlsx_parse(const char *name, const void *data, size_t len, om_drill_sheet *ret,
                        enum om_lang lang, char *err, size_t errlen);
void om_drill_sheet_free(om_drill_sheet *s);

/* Maps the header (English or Japanese column names: name/氏名,
 * mail/メールアドレス, organisation/会社, department/部署, role/役職,
 * group/グループ; other columns become custom fields) and checks every
 * row: a mail address is required and must look like one, no address twice.
 * The first bad row fails the whole file with its line number. */
int om_drill_targets_from_sheet(const char *name, const om_drill_sheet *s, om_drill_targets *ret,
                                enum om_lang lang, char *err, size_t errlen);
void om_drill_targets_free(om_drill_targets *t);
/* Reads FILE (.xlsx by its zip signature, else CSV) into targets. */
int om_drill_targets_load(const char *path, om_drill_targets *ret, enum om_lang lang, char *err,
                          size_t errlen);

/* 1 if mail looks like an address we can send to, else 0. */
int om_drill_mail_valid(const char *mail);

/* ---- templates ---- */
/* A drill mail template: header lines "key: value" (subject, from-name,
 * attachment), a line "---", then the plain-text body. Values and body hold
 * variables {{name}}, {{mail}}, {{organisation}}, {{department}},
 * {{role}}, {{date}}, {{sender}}, {{link}}, {{report_link}} and
 * {{custom.KEY}} (a custom column of the target list). Strings point into
 * the text given to om_drill_template_parse (the shipped ones are static). */
typedef struct om_drill_template {
	char name[64];
	enum om_lang lang;
	const char *subject, *from_name, *attachment, *body;
	size_t subject_len, from_name_len, attachment_len, body_len;
} om_drill_template;

/* The values of one recipient in one round. URLs are made by the tracking
 * server from the recipient's token; NULL ones expand to "". */
typedef struct om_drill_vars {
	const om_store_drill_target *target;
	const char *sender;      /* the name a template signs with */
	const char *date;        /* e.g. "2026-12" */
	const char *link;        /* the click link */
	const char *report_link; /* "I report this mail" */
	const char *open_url;    /* the open image */
	const char *attach_url;  /* called back by the attachment */
	const char *landing_url; /* the page that reveals the drill */
	const char *token;       /* per recipient and round */
	const char *title;       /* the attachment's name, shown in its page */
} om_drill_vars;

int om_drill_template_parse(const char *name, const char *text, size_t len, om_drill_template *ret,
                            enum om_lang lang, char *err, size_t errlen);
unsigned om_drill_template_count(void);
/* The i-th shipped template (parsed from the embedded text). */
int om_drill_template_get(unsigned i, om_drill_template *ret);
/* A shipped template by name ("invoice") and language: -ENOENT if none. */
int om_drill_template_find(const char *name, enum om_lang lang, om_drill_template *ret);
/* Appends text with its variables replaced. OM_DRILL_HTML: values
 * HTML-escaped (for a page); OM_DRILL_HTML_LINKS: also {{link}} and
 * {{report_link}} as <a> links (for a text body shown as HTML). -EINVAL on
 * an unknown variable, -E2BIG when out is full. */
enum om_drill_expand_mode { OM_DRILL_TEXT, OM_DRILL_HTML, OM_DRILL_HTML_LINKS };
int om_drill_expand(const char *text, size_t len, const om_drill_vars *v,
                    enum om_drill_expand_mode mode, om_buf *out);
/* The landing page (reveals the drill, teaches, offers the report link). */
int om_drill_landing(enum om_lang lang, const om_drill_vars *v, om_buf *out);

/* ---- mail ---- */
enum om_drill_charset {
	OM_DRILL_CS_ISO2022JP, /* text/plain in ISO-2022-JP 7bit (UTF-8 when it cannot) */
	OM_DRILL_CS_UTF8,      /* text/plain in UTF-8 base64 */
};
typedef struct om_drill_mail_opts {
	const char *from_addr; /* the sender address */
	const char *msgid_domain;
	om_usec date;
	enum om_drill_charset charset;
} om_drill_mail_opts;
/* RFC 2047 encoded words for a header value (ISO-2022-JP or UTF-8, B
 * encoding); plain ASCII is kept as it is. Lines folded at 76. */
int om_drill_header_encode(const char *s, size_t n, enum om_drill_charset cs, size_t first_col,
                           om_buf *out);
/* The whole message (RFC 5322, MIME): multipart/mixed of a
 * multipart/alternative (text and HTML with the open image) and, when the
 * template has one, the HTML attachment that calls back. CRLF line ends.
 * Header X-Omamori-Drill carries the token so a mail filter can let drill
 * mail through. ret_charset: the charset actually used for the text. */
int om_drill_message(const om_drill_template *t, const om_drill_vars *v,
                     const om_drill_mail_opts *o, om_buf *out, enum om_drill_charset *ret_charset);

/* `omamori drill ...`; argv[0] is "drill". Returns the exit status. */
int om_drill_main(int argc, char **argv, enum om_lang lang);

#endif
