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

/* `omamori drill ...`; argv[0] is "drill". Returns the exit status. */
int om_drill_main(int argc, char **argv, enum om_lang lang);

#endif
