/* util.c: files, dates, CSV and number formatting for the assessment kit. */
#include "assess/assess.h"
#include "assess/internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

int om_assess_read_file(const char *path, om_buf *b, enum om_lang lang, char *err, size_t errlen)
{
	om_buf_init(b, OM_ASSESS_MAX_FILE + 1);
	FILE *f = fopen(path, "rb");
	if (!f) {
		int e = errno;
		snprintf(err, errlen, om_msg(lang, "assess.err.open"), path, strerror(e));
		return -e;
	}
	char chunk[8192];
	size_t n;
	int rc = 0;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (om_buf_append(b, chunk, n) < 0) {
			snprintf(err, errlen, om_msg(lang, "assess.err.file_big"), path,
			         (unsigned)(OM_ASSESS_MAX_FILE >> 10));
			rc = -EFBIG;
			break;
		}
	}
	if (rc == 0 && ferror(f)) {
		snprintf(err, errlen, om_msg(lang, "assess.err.open"), path, strerror(EIO));
		rc = -EIO;
	}
	fclose(f);
	if (rc < 0)
		om_buf_free(b);
	else
		om_buf_cstr(b);
	return rc;
}

bool om_assess_date_ok(const char *s)
{
	static const unsigned mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return false;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return false;
	unsigned y =
	    (unsigned)((s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0'));
	unsigned m = (unsigned)((s[5] - '0') * 10 + (s[6] - '0'));
	unsigned d = (unsigned)((s[8] - '0') * 10 + (s[9] - '0'));
	if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
		return false;
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return !(m == 2 && d == 29 && !leap);
}

const char *om_assess_answer_label(enum om_assess_answer a, enum om_lang lang)
{
	char key[32];
	snprintf(key, sizeof(key), "assess.answer.%s", om_assess_answer_name(a));
	return om_msg(lang, key);
}

int om_assess_csv_parse(const char *data, size_t len, om_csv_row_fn row, void *user,
                        size_t *ret_line)
{
	char *store = malloc((size_t)OM_CSV_MAX_FIELDS * (OM_CSV_MAX_FIELD + 1));
	if (!store)
		return -ENOMEM;
	char *fields[OM_CSV_MAX_FIELDS];
	for (unsigned i = 0; i < OM_CSV_MAX_FIELDS; i++)
		fields[i] = store + (size_t)i * (OM_CSV_MAX_FIELD + 1);
	size_t i = 0, line = 1, rec_line = 1;
	int rc = 0;
	if (len >= 3 && !memcmp(data, "\xef\xbb\xbf", 3))
		i = 3;
	while (i < len) {
		unsigned nf = 0;
		size_t fl = 0;
		bool quoted = false, end_rec = false, blank = true;
		rec_line = line;
		fields[0][0] = 0;
		while (!end_rec) {
			if (i >= len) {
				if (quoted) {
					rc = -EINVAL;
					goto out;
				}
				end_rec = true;
				break;
			}
			char ch = data[i++];
			if (quoted) {
				if (ch == '"') {
					if (i < len && data[i] == '"') {
						i++;
					} else {
						quoted = false;
						continue;
					}
				} else if (ch == '\n') {
					line++;
				}
			} else if (ch == '"' && fl == 0) {
				quoted = true;
				blank = false;
				continue;
			} else if (ch == ',' || ch == '\n' || ch == '\r') {
				if (ch == '\r') {
					if (i < len && data[i] == '\n')
						i++;
				}
				fields[nf][fl] = 0;
				if (ch == ',') {
					blank = false;
					if (++nf >= OM_CSV_MAX_FIELDS) {
						rc = -E2BIG;
						goto out;
					}
					fl = 0;
					fields[nf][0] = 0;
					continue;
				}
				line++;
				end_rec = true;
				break;
			}
			if (fl >= OM_CSV_MAX_FIELD) {
				rc = -E2BIG;
				goto out;
			}
			if (ch == 0) {
				rc = -EINVAL;
				goto out;
			}
			fields[nf][fl++] = ch;
			blank = false;
		}
		fields[nf][fl] = 0;
		if (blank && nf == 0)
			continue; /* empty line */
		if ((rc = row(user, rec_line, nf + 1, fields)) < 0)
			goto out;
	}
out:
	if (rc < 0 && ret_line)
		*ret_line = rec_line;
	free(store);
	return rc;
}

void om_assess_csv_field(om_buf *b, const char *s, bool last)
{
	bool q = strpbrk(s, ",\"\r\n") != NULL;
	if (q) {
		om_buf_putc(b, '"');
		for (const char *p = s; *p; p++) {
			if (*p == '"')
				om_buf_putc(b, '"');
			om_buf_putc(b, *p);
		}
		om_buf_putc(b, '"');
	} else {
		om_buf_puts(b, s);
	}
	om_buf_putc(b, last ? '\n' : ',');
}

const char *om_assess_yen(uint64_t v, char *buf, size_t n)
{
	char digits[32];
	int len = snprintf(digits, sizeof(digits), "%llu", (unsigned long long)v);
	size_t o = 0;
	for (int i = 0; i < len && o + 2 < n; i++) {
		if (i > 0 && (len - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = digits[i];
	}
	buf[o] = 0;
	return buf;
}

/* Appends s padded with spaces to width columns: ASCII counts 1, text of
 * three or four UTF-8 bytes a character (Japanese) counts 2. */
void om_assess_put_padded(om_buf *out, const char *s, unsigned width)
{
	unsigned w = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if ((*p & 0xc0) != 0x80)
			w += *p >= 0xe0 ? 2 : 1;
	om_buf_puts(out, s);
	while (w++ < width)
		om_buf_putc(out, ' ');
}

int om_assess_yaml_check(const char *data, size_t len, const char *name, enum om_lang lang,
                         char *err, size_t errlen)
{
	yaml_parser_t p;
	yaml_event_t ev;
	if (!yaml_parser_initialize(&p))
		return -ENOMEM;
	yaml_parser_set_input_string(&p, (const unsigned char *)data, len);
	int depth = 0, rc = 0;
	size_t events = 0;
	for (;;) {
		if (!yaml_parser_parse(&p, &ev)) {
			snprintf(err, errlen, om_msg(lang, "assess.err.syntax"), name,
			         (unsigned long)p.problem_mark.line + 1,
			         p.problem ? p.problem : "?");
			rc = -EINVAL;
			break;
		}
		yaml_event_type_t t = ev.type;
		size_t line = ev.start_mark.line + 1;
		yaml_event_delete(&ev);
		if (t == YAML_SEQUENCE_START_EVENT || t == YAML_MAPPING_START_EVENT)
			depth++;
		else if (t == YAML_SEQUENCE_END_EVENT || t == YAML_MAPPING_END_EVENT)
			depth--;
		if (depth > OM_ASSESS_YAML_MAX_DEPTH || ++events > OM_ASSESS_YAML_MAX_EVENTS) {
			snprintf(err, errlen, om_msg(lang, "assess.err.nesting"), name,
			         (unsigned long)line, OM_ASSESS_YAML_MAX_DEPTH);
			rc = -EINVAL;
			break;
		}
		if (t == YAML_STREAM_END_EVENT)
			break;
	}
	yaml_parser_delete(&p);
	return rc;
}
