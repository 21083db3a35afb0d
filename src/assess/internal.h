/* internal.h: what the files of src/assess share (not a public header). */
#ifndef OMAMORI_ASSESS_INTERNAL_H
#define OMAMORI_ASSESS_INTERNAL_H

#include "assess/assess.h"

/* Reads a whole file (at most OM_ASSESS_MAX_FILE bytes) into b, which the
 * caller frees; errors name the file and say what to do. */
int om_assess_read_file(const char *path, om_buf *b, enum om_lang lang, char *err, size_t errlen);
bool om_assess_date_ok(const char *s); /* YYYY-MM-DD with a real month and day */
const char *om_assess_answer_label(enum om_assess_answer a, enum om_lang lang);

/* CSV (RFC 4180: quotes, doubled quotes, CRLF or LF, a UTF-8 BOM skipped).
 * Calls row for each record with its 1-based line; a row callback's
 * negative return stops the parse and is returned. A record of more than
 * OM_CSV_MAX_FIELDS fields or a field longer than OM_CSV_MAX_FIELD bytes is
 * -E2BIG, an unterminated quote -EINVAL; *ret_line says where. */
#define OM_CSV_MAX_FIELDS 32
#define OM_CSV_MAX_FIELD 1024
typedef int (*om_csv_row_fn)(void *user, size_t line, unsigned nf, char **fields);
int om_assess_csv_parse(const char *data, size_t len, om_csv_row_fn row, void *user,
                        size_t *ret_line);
/* Appends s as one CSV field (quoted when needed). */
void om_assess_csv_field(om_buf *b, const char *s, bool last);
/* Thousands separators: 1234567 -> "1,234,567" (buf >= 32). */
const char *om_assess_yen(uint64_t v, char *buf, size_t n);

/* Appends s padded with spaces to width terminal columns (Japanese: 2 a
 * character). */
void om_assess_put_padded(om_buf *out, const char *s, unsigned width);

/* libyaml's loader slows down with the square of the nesting depth, and a
 * megabyte of '[' would take it many minutes: a file is first walked as
 * events and refused (-EINVAL, err set with its line) when it nests deeper
 * than OM_ASSESS_YAML_MAX_DEPTH or has more than OM_ASSESS_YAML_MAX_EVENTS
 * events; only then is it loaded. Syntax errors are reported here too. */
#define OM_ASSESS_YAML_MAX_DEPTH 16
#define OM_ASSESS_YAML_MAX_EVENTS 200000
int om_assess_yaml_check(const char *data, size_t len, const char *name, enum om_lang lang,
                         char *err, size_t errlen);

#endif
