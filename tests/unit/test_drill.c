/* Unit tests for the drill target lists: CSV quoting, separators, BOM and
 * line numbers (a quoted cell over two lines moves the later rows down);
 * Japanese and English headers; every refusal names the line a user sees;
 * XLSX built here with libzip (shared strings, inline strings, numbers,
 * gaps between rows and cells, furigana left out); the store: import,
 * update on re-import, groups, exclusions by address and by domain. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <iconv.h>
#include <zip.h>

#include "../store/backend.h"
#include "drill/drill.h"

static int load_csv(const char *csv, om_drill_targets *t, char *err, size_t errlen)
{
	om_drill_sheet s;
	int r = om_drill_csv_parse("t.csv", csv, strlen(csv), &s, OM_LANG_EN, err, errlen);
	if (r < 0)
		return r;
	r = om_drill_targets_from_sheet("t.csv", &s, t, OM_LANG_EN, err, errlen);
	om_drill_sheet_free(&s);
	return r;
}

static void test_csv_quotes_lines(void **state)
{
	(void)state;
	/* line 1 header, 2 a quoted comma, 3-4 a quoted line break (in a
	 * custom column: allowed? no, control characters are refused, so the
	 * break is in the last check below), 3 doubled quotes */
	const char *csv = "\xef\xbb\xbfname,mail,department,role\r\n"
	                  "\"Sato, Ken\",ken@example.jp,Sales,Manager\r\n"
	                  "\"Say \"\"hi\"\"\",hi@example.jp,,\r\n"
	                  "\r\n"
	                  "  Ito  ,  ito@EXAMPLE.jp ,Office,\n";
	om_drill_sheet s;
	char err[512] = "";
	assert_int_equal(
	    om_drill_csv_parse("t.csv", csv, strlen(csv), &s, OM_LANG_EN, err, sizeof(err)), 0);
	/* the blank line 4 is dropped; Ito stays on line 5 */
	assert_int_equal(s.nrows, 4);
	assert_int_equal(s.row[0].line, 1);
	assert_int_equal(s.row[3].line, 5);
	assert_string_equal(s.row[1].cell[0], "Sato, Ken");
	assert_string_equal(s.row[2].cell[0], "Say \"hi\"");
	om_drill_targets t;
	assert_int_equal(om_drill_targets_from_sheet("t.csv", &s, &t, OM_LANG_EN, err, sizeof(err)),
	                 0);
	assert_int_equal(t.n, 3);
	assert_string_equal(t.t[2].name, "Ito");
	assert_string_equal(t.t[2].mail, "ito@example.jp"); /* trimmed, domain lower-cased */
	assert_string_equal(t.t[0].role, "Manager");
	assert_string_equal(t.t[0].custom_json, "{}");
	om_drill_targets_free(&t);
	om_drill_sheet_free(&s);
}

static void test_csv_multiline_line_numbers(void **state)
{
	(void)state;
	/* a custom cell (note) spans lines 2-3, so the bad address is on line 4;
	 * a line break in a name is refused */
	const char *csv = "mail,note\na@example.jp,\"two\nlines\"\nbad@,y\n";
	om_drill_targets t;
	char err[512] = "";
	assert_int_equal(load_csv(csv, &t, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "t.csv:4:"));
	assert_non_null(strstr(err, "'bad@'"));
	assert_int_equal(load_csv("mail,name\na@example.jp,\"A\nB\"\n", &t, err, sizeof(err)),
	                 -EINVAL);
	assert_non_null(strstr(err, "t.csv:2:"));
	assert_non_null(strstr(err, "column 2"));
}

static void test_headers_ja_and_custom(void **state)
{
	(void)state;
	const char *csv = "氏名\tメールアドレス\t部署\t役職\t会社\t社員番号\tグループ\n"
	                  "山田　太郎\ttaro@example.co.jp\t営業部\t部長\t山田商店\t0012\t役員\n";
	om_drill_targets t;
	char err[512] = "";
	assert_int_equal(load_csv(csv, &t, err, sizeof(err)), 0);
	assert_int_equal(t.n, 1);
	assert_string_equal(t.t[0].name, "山田　太郎"); /* inner ideographic space kept */
	assert_string_equal(t.t[0].department, "営業部");
	assert_string_equal(t.t[0].role, "部長");
	assert_string_equal(t.t[0].organisation, "山田商店");
	assert_string_equal(t.t[0].group, "役員");
	assert_string_equal(t.t[0].custom_json, "{\"社員番号\":\"0012\"}");
	om_drill_targets_free(&t);
}

struct refusal {
	const char *csv;
	const char *where; /* "t.csv:LINE:" */
	const char *what;  /* a piece of the English message */
};

static void test_refusals(void **state)
{
	(void)state;
	static const struct refusal cases[] = {
	    {"", "t.csv:1:", "empty"},
	    {"name,department\nA,B\n", "t.csv:1:", "no mail column"},
	    {"mail,email\na@example.jp,b@example.jp\n", "t.csv:1:", "twice in the header"},
	    {"mail,name\na@example.jp,A\n,B\n", "t.csv:3:", "empty"},
	    {"mail\na@example.jp\nb@example\n", "t.csv:3:", "'b@example'"},
	    {"mail\na@example.jp\na@b@example.jp\n", "t.csv:3:", "'a@b@example.jp'"},
	    {"mail\n\"a b\"@example.jp\n", "t.csv:2:", "quote"},
	    {"mail,name\na@example.jp,\"open\n", "t.csv:2:", "not closed"},
	    {"mail\na@example.jp\nb@example.jp\nA@EXAMPLE.JP\n", "t.csv:4:", "line 2"},
	    {"mail,name\na@example.jp,A,extra\n", "t.csv:2:", "column 3"},
	    {"mail,name\na@example.jp,\x82\xa0\n", "t.csv:2:", "not UTF-8"}, /* Shift_JIS */
	    {"mail,name\na@example.jp,\"x\ty\"\n", "t.csv:2:", "control"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		om_drill_targets t;
		char err[512] = "";
		int r = load_csv(cases[i].csv, &t, err, sizeof(err));
		if (r != -EINVAL || !strstr(err, cases[i].where) || !strstr(err, cases[i].what))
			print_error("case %zu: r=%d err=%s\n", i, r, err);
		assert_int_equal(r, -EINVAL);
		assert_non_null(strstr(err, cases[i].where));
		assert_non_null(strstr(err, cases[i].what));
	}
}

static void test_mail_valid(void **state)
{
	(void)state;
	assert_true(om_drill_mail_valid("a.b+c@mail.example.co.jp"));
	assert_false(om_drill_mail_valid("a..b@example.jp"));
	assert_false(om_drill_mail_valid(".a@example.jp"));
	assert_false(om_drill_mail_valid("a@-"));
	assert_false(om_drill_mail_valid("a@example..jp"));
	assert_false(om_drill_mail_valid("a@example.jp."));
	assert_false(om_drill_mail_valid("a@exa_mple.jp"));
	assert_false(om_drill_mail_valid("a<b>@example.jp"));
	assert_false(om_drill_mail_valid("@example.jp"));
}

/* ---- XLSX ---- */

static void *make_xlsx(const char *shared, const char *sheet, size_t *ret_len)
{
	zip_error_t ze;
	zip_error_init(&ze);
	zip_source_t *buf = zip_source_buffer_create(NULL, 0, 0, &ze);
	assert_non_null(buf);
	zip_source_keep(buf);
	zip_t *z = zip_open_from_source(buf, ZIP_TRUNCATE, &ze);
	assert_non_null(z);
	if (shared) {
		zip_source_t *s = zip_source_buffer(z, shared, strlen(shared), 0);
		assert_true(zip_file_add(z, "xl/sharedStrings.xml", s, 0) >= 0);
	}
	if (sheet) {
		zip_source_t *s = zip_source_buffer(z, sheet, strlen(sheet), 0);
		assert_true(zip_file_add(z, "xl/worksheets/sheet1.xml", s, 0) >= 0);
	}
	assert_int_equal(zip_close(z), 0);
	assert_int_equal(zip_source_open(buf), 0);
	zip_source_seek(buf, 0, SEEK_END);
	zip_int64_t n = zip_source_tell(buf);
	zip_source_seek(buf, 0, SEEK_SET);
	void *out = malloc((size_t)n);
	assert_int_equal(zip_source_read(buf, out, (zip_uint64_t)n), n);
	zip_source_close(buf);
	zip_source_free(buf);
	*ret_len = (size_t)n;
	return out;
}

static const char xl_shared[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
    "<sst xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\">"
    "<si><t>氏名</t></si><si><t>メールアドレス</t></si><si><t>部署</t></si>"
    "<si><r><t>山田</t></r><r><t xml:space=\"preserve\"> 太郎</t></r>"
    "<rPh sb=\"0\" eb=\"2\"><t>ヤマダ</t></rPh></si>"
    "<si><t>taro@example.co.jp</t></si><si><t>営業部</t></si></sst>";

static void test_xlsx(void **state)
{
	(void)state;
	/* row 1 header; row 2 empty (dropped); row 3 Yamada (shared strings,
	 * furigana left out); row 5 an inline string and a number; row 6 a bad
	 * address in B6 */
	const char *sheet =
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
	    "<worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\">"
	    "<sheetData>"
	    "<row r=\"1\"><c r=\"A1\" t=\"s\"><v>0</v></c><c r=\"B1\" t=\"s\"><v>1</v></c>"
	    "<c r=\"C1\" t=\"s\"><v>2</v></c><c r=\"D1\" "
	    "t=\"inlineStr\"><is><t>番号</t></is></c></row>"
	    "<row r=\"2\"></row>"
	    "<row r=\"3\"><c r=\"A3\" t=\"s\"><v>3</v></c><c r=\"B3\" t=\"s\"><v>4</v></c>"
	    "<c r=\"C3\" t=\"s\"><v>5</v></c></row>"
	    "<row r=\"5\"><c r=\"B5\" t=\"inlineStr\"><is><t>ito@example.jp</t></is></c>"
	    "<c r=\"D5\"><v>42</v></c></row>"
	    "%s"
	    "</sheetData></worksheet>";
	char xml[4096];
	snprintf(xml, sizeof(xml), sheet, "");
	size_t n;
	void *x = make_xlsx(xl_shared, xml, &n);
	om_drill_sheet s;
	om_drill_targets t;
	char err[512] = "";
	int r = om_drill_xlsx_parse("t.xlsx", x, n, &s, OM_LANG_EN, err, sizeof(err));
	if (r)
		print_error("%s\n", err);
	assert_int_equal(r, 0);
	assert_int_equal(s.nrows, 3);
	assert_int_equal(s.row[1].line, 3);
	assert_int_equal(s.row[2].line, 5);
	assert_int_equal(
	    om_drill_targets_from_sheet("t.xlsx", &s, &t, OM_LANG_EN, err, sizeof(err)), 0);
	assert_string_equal(t.t[0].name, "山田 太郎");
	assert_string_equal(t.t[0].mail, "taro@example.co.jp");
	assert_string_equal(t.t[0].department, "営業部");
	assert_string_equal(t.t[1].mail, "ito@example.jp");
	assert_string_equal(t.t[1].name, "");
	assert_string_equal(t.t[1].custom_json, "{\"番号\":\"42\"}");
	om_drill_targets_free(&t);
	om_drill_sheet_free(&s);
	free(x);

	snprintf(xml, sizeof(xml), sheet,
	         "<row r=\"6\"><c r=\"B6\" t=\"inlineStr\"><is><t>nope</t></is></c></row>");
	x = make_xlsx(xl_shared, xml, &n);
	assert_int_equal(om_drill_xlsx_parse("t.xlsx", x, n, &s, OM_LANG_EN, err, sizeof(err)), 0);
	assert_int_equal(
	    om_drill_targets_from_sheet("t.xlsx", &s, &t, OM_LANG_EN, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "t.xlsx:6:"));
	om_drill_sheet_free(&s);
	free(x);

	/* a shared string index past the table: refused with its row */
	snprintf(xml, sizeof(xml), sheet, "<row r=\"7\"><c r=\"B7\" t=\"s\"><v>99</v></c></row>");
	x = make_xlsx(xl_shared, xml, &n);
	assert_int_equal(om_drill_xlsx_parse("t.xlsx", x, n, &s, OM_LANG_EN, err, sizeof(err)),
	                 -EINVAL);
	assert_non_null(strstr(err, "t.xlsx:7:"));
	free(x);

	/* no sheet; not a zip */
	x = make_xlsx(xl_shared, NULL, &n);
	assert_int_equal(om_drill_xlsx_parse("t.xlsx", x, n, &s, OM_LANG_EN, err, sizeof(err)),
	                 -EINVAL);
	assert_non_null(strstr(err, "first worksheet"));
	free(x);
	assert_int_equal(
	    om_drill_xlsx_parse("t.xlsx", "PK\x03\x04junk", 8, &s, OM_LANG_EN, err, sizeof(err)),
	    -EINVAL);
}

/* ---- store ---- */

struct seen {
	char mails[8][64];
	bool excluded[8];
	char dept[8][64];
	size_t n;
};

static int collect(void *user, const om_store_drill_target *t)
{
	struct seen *s = user;
	if (s->n < 8) {
		snprintf(s->mails[s->n], 64, "%s", t->mail);
		snprintf(s->dept[s->n], 64, "%s", t->department);
		s->excluded[s->n] = t->excluded;
	}
	s->n++;
	return 0;
}

static void test_store(void **state)
{
	(void)state;
	/* an SQLite file, or a PostgreSQL database (tests/store/backend.h) */
	struct tmpdb tdb;
	tmpdb_make(&tdb);
	const char *path = tdb.path;
	om_store *s = NULL;
	char err[512] = "";
	assert_int_equal(om_store_open(path, &s, err, sizeof(err)), 0);
	om_store_drill_target t[3] = {
	    {.mail = "b@example.jp", .name = "B", .department = "Sales", .group = "g2"},
	    {.mail = "a@example.jp", .name = "A", .department = "Office"},
	    {.mail = "c@other.jp", .name = "C", .department = "Sales"},
	};
	assert_int_equal(om_store_drill_import(s, t, 3, "g1", err, sizeof(err)), 0);
	/* re-import updates a's department, adds nothing */
	t[1].department = "Sales";
	assert_int_equal(om_store_drill_import(s, &t[1], 1, NULL, err, sizeof(err)), 0);
	struct seen all = {0};
	assert_int_equal(om_store_drill_targets(s, NULL, collect, &all), 0);
	assert_int_equal(all.n, 3);
	/* ordered by organisation (all empty), department, mail */
	assert_string_equal(all.mails[0], "a@example.jp");
	assert_string_equal(all.dept[0], "Sales");
	assert_string_equal(all.mails[1], "b@example.jp");
	assert_string_equal(all.mails[2], "c@other.jp");
	struct seen g2 = {0};
	assert_int_equal(om_store_drill_targets(s, "g2", collect, &g2), 0);
	assert_int_equal(g2.n, 1);
	assert_string_equal(g2.mails[0], "b@example.jp");
	struct seen g1 = {0};
	assert_int_equal(om_store_drill_targets(s, "g1", collect, &g1), 0);
	assert_int_equal(g1.n, 3);

	assert_int_equal(om_store_drill_exclude(s, "@other.jp", "partner", false), 0);
	assert_int_equal(om_store_drill_exclude(s, "a@example.jp", "CEO", false), 0);
	struct seen ex = {0};
	assert_int_equal(om_store_drill_targets(s, NULL, collect, &ex), 0);
	assert_true(ex.excluded[0]);  /* a: by address */
	assert_false(ex.excluded[1]); /* b */
	assert_true(ex.excluded[2]);  /* c: by domain */
	assert_int_equal(om_store_drill_exclude(s, "a@example.jp", "", true), 0);
	assert_int_equal(om_store_drill_exclude(s, "a@example.jp", "", true), -ENOENT);
	om_store_close(s);

	/* the tables survive a reopen (the schema statements are idempotent) */
	assert_int_equal(om_store_open(path, &s, err, sizeof(err)), 0);
	struct seen again = {0};
	assert_int_equal(om_store_drill_targets(s, NULL, collect, &again), 0);
	assert_int_equal(again.n, 3);
	assert_false(again.excluded[0]);
	om_store_close(s);
	tmpdb_remove(&tdb);
}

/* ---- templates and mail ---- */

static int b64val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* Decodes base64 (no line breaks) into out; returns the length. */
static size_t unb64(const char *s, size_t n, char *out)
{
	size_t o = 0;
	unsigned acc = 0, bits = 0;
	for (size_t i = 0; i < n && s[i] != '='; i++) {
		int v = b64val(s[i]);
		assert_true(v >= 0);
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (char)((acc >> bits) & 0xff);
		}
	}
	return o;
}

/* Decodes a header of encoded words (as a reader would: each word on its
 * own, whitespace between words dropped) back to UTF-8; checks each word's
 * length (at most 75) and each line's (at most 76 after the field name). */
static void decode_header(const char *h, char *out, size_t outlen)
{
	size_t o = 0;
	const char *p = h;
	while (*p) {
		if (*p == '\r' || *p == '\n' || *p == ' ') {
			p++;
			continue;
		}
		assert_int_equal(strncmp(p, "=?", 2), 0);
		const char *q1 = strchr(p + 2, '?');
		assert_non_null(q1);
		char cs[32];
		snprintf(cs, sizeof(cs), "%.*s", (int)(q1 - p - 2), p + 2);
		assert_int_equal(strncmp(q1, "?B?", 3), 0);
		const char *end = strstr(q1 + 3, "?=");
		assert_non_null(end);
		assert_true(end + 2 - p <= 75);
		char raw[256];
		size_t rn = unb64(q1 + 3, (size_t)(end - q1 - 3), raw);
		iconv_t cd = iconv_open("UTF-8", cs);
		assert_true(cd != (iconv_t)-1);
		char *in = raw, *ob = out + o;
		size_t il = rn, ol = outlen - o - 1;
		assert_true(iconv(cd, &in, &il, &ob, &ol) != (size_t)-1);
		iconv_close(cd);
		o = (size_t)(ob - out);
		p = end + 2;
	}
	out[o] = 0;
	for (const char *l = h; *l;) {
		const char *e = strstr(l, "\r\n");
		size_t n = e ? (size_t)(e - l) : strlen(l);
		assert_true(n <= 76);
		l += n + (e ? 2 : 0);
	}
}

static void test_header_encode(void **state)
{
	(void)state;
	const char *subj = "【ご請求】株式会社さくら製作所 様 今月分のご請求について（再送）";
	for (int cs = 0; cs < 2; cs++) {
		om_buf b;
		om_buf_init(&b, 1 << 16);
		assert_int_equal(
		    om_drill_header_encode(subj, strlen(subj), (enum om_drill_charset)cs, 9, &b),
		    0);
		const char *h = om_buf_cstr(&b);
		assert_non_null(
		    strstr(h, cs == OM_DRILL_CS_UTF8 ? "=?UTF-8?B?" : "=?ISO-2022-JP?B?"));
		char back[1024];
		decode_header(h, back, sizeof(back));
		assert_string_equal(back, subj);
		om_buf_free(&b);
	}
	/* ISO-2022-JP words each end back in ASCII (ESC ( B), as RFC 1468 asks */
	om_buf b;
	om_buf_init(&b, 1 << 16);
	assert_int_equal(om_drill_header_encode(subj, strlen(subj), OM_DRILL_CS_ISO2022JP, 9, &b),
	                 0);
	const char *p = om_buf_cstr(&b);
	while ((p = strstr(p, "=?ISO-2022-JP?B?"))) {
		const char *e = strstr(p, "?=");
		char raw[256];
		size_t n = unb64(p + 16, (size_t)(e - p - 16), raw);
		size_t last = n;
		for (size_t k = 0; k < n; k++)
			if (raw[k] == 0x1b)
				last = k;
		/* the last escape of a word with kanji switches back to ASCII */
		if (last < n) {
			assert_true(last + 3 <= n);
			assert_memory_equal(raw + last, "\x1b(B", 3);
		}
		p = e;
	}
	om_buf_free(&b);
	/* ASCII stays as it is */
	om_buf_init(&b, 1 << 16);
	assert_int_equal(om_drill_header_encode("Invoice 12", 10, OM_DRILL_CS_UTF8, 9, &b), 0);
	assert_string_equal(om_buf_cstr(&b), "Invoice 12");
	om_buf_free(&b);
	/* JIS X 0208 has no emoji: encoding fails, the message falls back */
	om_buf_init(&b, 1 << 16);
	assert_int_equal(
	    om_drill_header_encode("\xf0\x9f\x98\x80", 4, OM_DRILL_CS_ISO2022JP, 9, &b), -EILSEQ);
	om_buf_free(&b);
}

static void test_template_parse(void **state)
{
	(void)state;
	om_drill_template t;
	char err[512] = "";
	const char *ok = "subject: Hi {{name}}\nfrom-name: IT\n---\nDear {{name}} of "
	                 "{{custom.社員番号}}, {{link}}\n";
	assert_int_equal(
	    om_drill_template_parse("t.txt", ok, strlen(ok), &t, OM_LANG_EN, err, sizeof(err)), 0);
	om_store_drill_target tg = {
	    .mail = "a@example.jp", .name = "A<b>", .custom_json = "{\"社員番号\":\"0\\\"7\"}"};
	om_drill_vars v = {.target = &tg, .link = "http://x.invalid/c?a=1&b=2"};
	om_buf b;
	om_buf_init(&b, 1 << 16);
	assert_int_equal(om_drill_expand(t.body, t.body_len, &v, OM_DRILL_TEXT, &b), 0);
	assert_string_equal(om_buf_cstr(&b), "Dear A<b> of 0\"7, http://x.invalid/c?a=1&b=2\n");
	om_buf_reset(&b);
	assert_int_equal(om_drill_expand(t.body, t.body_len, &v, OM_DRILL_HTML_LINKS, &b), 0);
	assert_string_equal(
	    om_buf_cstr(&b),
	    "Dear A&lt;b&gt; of 0&quot;7, <a href=\"http://x.invalid/c?a=1&amp;b=2\">"
	    "http://x.invalid/c?a=1&amp;b=2</a>\n");
	om_buf_free(&b);

	const char *bad_var = "subject: x\n---\nline 3\nhello {{nmae}}\n";
	assert_int_equal(om_drill_template_parse("t.txt", bad_var, strlen(bad_var), &t, OM_LANG_EN,
	                                         err, sizeof(err)),
	                 -EINVAL);
	assert_non_null(strstr(err, "t.txt:4:"));
	assert_non_null(strstr(err, "{{nmae}}"));
	const char *bad_key = "subject: x\nreply-to: y\n---\n";
	assert_int_equal(om_drill_template_parse("t.txt", bad_key, strlen(bad_key), &t, OM_LANG_EN,
	                                         err, sizeof(err)),
	                 -EINVAL);
	assert_non_null(strstr(err, "t.txt:2:"));
	assert_non_null(strstr(err, "reply-to"));
	const char *no_sep = "subject: x\n";
	assert_int_equal(om_drill_template_parse("t.txt", no_sep, strlen(no_sep), &t, OM_LANG_EN,
	                                         err, sizeof(err)),
	                 -EINVAL);
	const char *unclosed = "subject: {{name\n---\n";
	assert_int_equal(om_drill_template_parse("t.txt", unclosed, strlen(unclosed), &t,
	                                         OM_LANG_EN, err, sizeof(err)),
	                 -EINVAL);
}

/* Every shipped template renders in both charsets, reveals nothing of the
 * drill in the mail itself, and carries the token and the open image. */
static void test_shipped_templates(void **state)
{
	(void)state;
	static const char *const names[] = {"invoice", "delivery-failure", "password-expiry",
	                                    "shared-document", "executive-request"};
	om_drill_template t;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		assert_int_equal(om_drill_template_find(names[i], OM_LANG_JA, &t), 0);
		assert_int_equal(om_drill_template_find(names[i], OM_LANG_EN, &t), 0);
	}
	assert_int_equal(om_drill_template_find("seikyusho", OM_LANG_JA, &t), 0);
	assert_int_equal(om_drill_template_find("haisou", OM_LANG_JA, &t), 0);
	assert_int_equal(om_drill_template_find("nonesuch", OM_LANG_JA, &t), -ENOENT);
	assert_int_equal(om_drill_template_count(), 12);
	om_store_drill_target tg = {.mail = "taro@example.co.jp",
	                            .name = "山田 太郎",
	                            .organisation = "さくら製作所",
	                            .department = "営業部",
	                            .custom_json = "{}"};
	om_drill_vars v = {.target = &tg,
	                   .sender = "鈴木",
	                   .date = "2026-12",
	                   .link = "http://t.invalid/c/TOK",
	                   .open_url = "http://t.invalid/o/TOK.png",
	                   .attach_url = "http://t.invalid/a/TOK.png",
	                   .landing_url = "http://t.invalid/l/TOK",
	                   .token = "TOK"};
	for (unsigned i = 0; i < om_drill_template_count(); i++) {
		assert_int_equal(om_drill_template_get(i, &t), 0);
		for (int cs = 0; cs < 2; cs++) {
			om_drill_mail_opts o = {.from_addr = "d@t.invalid",
			                        .msgid_domain = "t.invalid",
			                        .date = 1700000000000000,
			                        .charset = (enum om_drill_charset)cs};
			om_buf b;
			om_buf_init(&b, 4 << 20);
			enum om_drill_charset used;
			assert_int_equal(om_drill_message(&t, &v, &o, &b, &used), 0);
			assert_int_equal(used, cs); /* the samples fit in JIS X 0208 */
			const char *m = om_buf_cstr(&b);
			assert_non_null(strstr(m, "X-Omamori-Drill: TOK\r\n"));
			assert_non_null(strstr(m, "To: taro@example.co.jp\r\n"));
			assert_non_null(strstr(m, cs == OM_DRILL_CS_UTF8 ? "charset=UTF-8"
			                                                 : "charset=ISO-2022-JP"));
			assert_null(strstr(m, "{{"));
			/* only CRLF line ends, no line over 998 */
			for (size_t k = 0, col = 0; k < b.len; k++, col++) {
				if (m[k] == '\n') {
					assert_true(k > 0 && m[k - 1] == '\r');
					col = 0;
				}
				assert_true(col < 998);
			}
			assert_int_equal(!!strstr(m, "Content-Disposition: attachment"),
			                 t.attachment != NULL);
			om_buf_free(&b);
		}
	}
	/* an address that JIS cannot hold falls back to UTF-8 */
	tg.name = "山田 \xf0\x9f\x98\x80";
	assert_int_equal(om_drill_template_find("invoice", OM_LANG_JA, &t), 0);
	om_drill_mail_opts o = {.from_addr = "d@t.invalid", .charset = OM_DRILL_CS_ISO2022JP};
	om_buf b;
	om_buf_init(&b, 4 << 20);
	enum om_drill_charset used;
	assert_int_equal(om_drill_message(&t, &v, &o, &b, &used), 0);
	assert_int_equal(used, OM_DRILL_CS_UTF8);
	assert_null(strstr(om_buf_cstr(&b), "ISO-2022-JP"));
	om_buf_free(&b);
}

static void test_landing(void **state)
{
	(void)state;
	om_store_drill_target tg = {.mail = "a@example.jp", .organisation = "<Sakura & Co>"};
	om_drill_vars v = {.target = &tg, .report_link = "http://t.invalid/r/TOK"};
	om_buf b;
	om_buf_init(&b, 1 << 20);
	assert_int_equal(om_drill_landing(OM_LANG_JA, &v, &b), 0);
	assert_non_null(strstr(om_buf_cstr(&b), "これは訓練メールでした"));
	assert_non_null(strstr(om_buf_cstr(&b), "&lt;Sakura &amp; Co&gt;"));
	assert_non_null(strstr(om_buf_cstr(&b), "href=\"http://t.invalid/r/TOK\""));
	om_buf_reset(&b);
	assert_int_equal(om_drill_landing(OM_LANG_EN, &v, &b), 0);
	assert_non_null(strstr(om_buf_cstr(&b), "This was a drill"));
	om_buf_free(&b);
}

int main(void)
{
	om_i18n_init();
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_csv_quotes_lines),
	    cmocka_unit_test(test_csv_multiline_line_numbers),
	    cmocka_unit_test(test_headers_ja_and_custom),
	    cmocka_unit_test(test_refusals),
	    cmocka_unit_test(test_mail_valid),
	    cmocka_unit_test(test_xlsx),
	    cmocka_unit_test(test_store),
	    cmocka_unit_test(test_header_encode),
	    cmocka_unit_test(test_template_parse),
	    cmocka_unit_test(test_shipped_templates),
	    cmocka_unit_test(test_landing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
