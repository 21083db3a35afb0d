/* Unit tests for the document model (src/report/doc.c): every block type in
 * HTML, escaping of <&>"', cleaning of bad UTF-8, refusal of bad arguments,
 * and the PDF writer read back with pdftotext/pdfinfo/pdffonts (poppler):
 * text and Japanese present, the CJK font embedded, page breaks, a table
 * longer than a page continued with its header. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "report/report.h"

#define HOSTILE "<b>&\"x'</b>"
#define HOSTILE_ESC "&lt;b&gt;&amp;&quot;x&#39;&lt;/b&gt;"

static char *html_of(om_doc *d)
{
	om_buf b;
	om_buf_init(&b, 4u << 20);
	char err[256] = "";
	assert_int_equal(om_doc_html(d, &b, err, sizeof(err)), 0);
	char *s = strdup(om_buf_cstr(&b));
	om_buf_free(&b);
	return s;
}

static unsigned count(const char *hay, const char *needle)
{
	unsigned n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

static void test_html_blocks(void **state)
{
	(void)state;
	om_doc *d = om_doc_new("Report title", OM_LANG_EN);
	assert_non_null(d);
	om_doc_heading(d, 1, "Section one");
	om_doc_heading(d, 2, "Sub two");
	om_doc_heading(d, 3, "Sub three");
	om_doc_para(d, OM_DOC_PLAIN, "Plain line one\nline two");
	om_doc_para(d, OM_DOC_DECIDE, "Fill this in");
	om_doc_bullet(d, OM_DOC_GOOD, "good item");
	om_doc_bullet(d, OM_DOC_BAD, "bad item");
	om_doc_para(d, OM_DOC_WARN, "after the list");
	const char *cells[] = {"Name", "Amount", "alpha", "12", "beta", "7"};
	const enum om_doc_mark marks[] = {0, 0, OM_DOC_GOOD, 0, OM_DOC_BAD, OM_DOC_WARN};
	om_doc_table(d, 3, 2, cells, marks);
	const char *labels[] = {"first bar", "second bar"};
	const double values[] = {1234567, 0};
	om_doc_bars(d, "Costs", 2, labels, values, " yen");
	const char *axes[] = {"A", "B", "C", "D"};
	const double s1[] = {4, 3, 2, 1}, s2[] = {1, 1, 1, 1};
	om_doc_radar(d, "Scores", 4, axes, 4, s1, "now", s2, "before");
	om_doc_pagebreak(d);
	om_doc_para(d, OM_DOC_PLAIN, "last");
	char *h = html_of(d);

	assert_non_null(strstr(h, "<!DOCTYPE html>"));
	assert_non_null(strstr(h, "<html lang=\"en\">"));
	assert_non_null(strstr(h, "<meta charset=\"utf-8\">"));
	assert_non_null(strstr(h, "<title>Report title</title>"));
	assert_non_null(strstr(h, "<style>"));
	/* self-contained: nothing fetched from elsewhere */
	assert_null(strstr(h, "<link"));
	assert_null(strstr(h, "<script"));
	assert_null(strstr(h, "src="));
	assert_non_null(strstr(h, "<h1>Report title</h1>"));
	assert_non_null(strstr(h, "<h2>Section one</h2>"));
	assert_non_null(strstr(h, "<h3>Sub two</h3>"));
	assert_non_null(strstr(h, "<h4>Sub three</h4>"));
	assert_non_null(strstr(h, "<p>Plain line one<br>line two</p>"));
	assert_non_null(strstr(h, "<p class=\"m-decide\">Fill this in</p>"));
	/* both bullets in one list, closed before the next paragraph */
	assert_non_null(strstr(h, "<ul>\n<li class=\"m-good\">good item</li>\n"
	                          "<li class=\"m-bad\">bad item</li>\n</ul>\n"
	                          "<p class=\"m-warn\">after the list</p>"));
	assert_non_null(strstr(h, "<thead><tr><th scope=\"col\">Name</th><th scope=\"col\">Amount"
	                          "</th></tr></thead>"));
	assert_non_null(strstr(h, "<tr><td class=\"m-good\">alpha</td><td>12</td></tr>"));
	assert_non_null(strstr(h, "<tr><td class=\"m-bad\">beta</td><td class=\"m-warn\">7</td>"));
	/* bars: an inline SVG, the value with separators and the unit */
	assert_non_null(strstr(h, "<figcaption>Costs</figcaption>\n<svg xmlns="));
	assert_non_null(strstr(h, ">first bar</text>"));
	assert_non_null(strstr(h, "1,234,567 yen</text>"));
	assert_non_null(strstr(h, ">0 yen</text>"));
	/* the largest bar is the full 480 units, the zero one has no length */
	assert_non_null(strstr(h, "width=\"480.0\""));
	assert_non_null(strstr(h, "width=\"0.0\""));
	/* radar: 5 rings + 2 series = 7 polygons, the second dashed */
	assert_non_null(strstr(h, "<figcaption>Scores</figcaption>"));
	assert_int_equal(count(h, "<polygon"), 7);
	assert_int_equal(count(h, "stroke-dasharray=\"6 4\""), 2); /* series and legend */
	assert_non_null(strstr(h, ">before</text>"));
	/* series 1 at axis 0 (top) with 4/4: radius 150 above the centre (260,220) */
	assert_non_null(strstr(h, "points=\"260.0,70.0 "));
	assert_non_null(strstr(h, "<div class=\"pb\"></div>\n<p>last</p>"));
	assert_non_null(strstr(h, "</main>\n</body>\n</html>\n"));
	free(h);
	om_doc_free(d);
}

static void test_html_escaping(void **state)
{
	(void)state;
	om_doc *d = om_doc_new(HOSTILE, OM_LANG_JA);
	om_doc_heading(d, 1, HOSTILE);
	om_doc_para(d, OM_DOC_PLAIN, HOSTILE);
	om_doc_bullet(d, OM_DOC_PLAIN, HOSTILE);
	const char *cells[] = {HOSTILE, HOSTILE};
	om_doc_table(d, 2, 1, cells, NULL);
	const char *labels[] = {HOSTILE};
	const double v[] = {1};
	om_doc_bars(d, HOSTILE, 1, labels, v, HOSTILE);
	const char *axes[] = {HOSTILE, "b", "c"};
	const double s[] = {1, 1, 1};
	om_doc_radar(d, HOSTILE, 3, axes, 1, s, HOSTILE, NULL, NULL);
	char *h = html_of(d);
	assert_non_null(strstr(h, "<html lang=\"ja\">"));
	assert_null(strstr(h, "<b>"));
	assert_null(strstr(h, "&\""));
	/* title twice, heading, paragraph, bullet, 2 cells, bars caption,
	 * aria-label, label, unit, radar caption, aria-label, axis, name */
	assert_int_equal(count(h, HOSTILE_ESC), 15);
	free(h);
	om_doc_free(d);
}

static void test_clean_text(void **state)
{
	(void)state;
	/* a lone continuation byte, an overlong '/', a surrogate, a control */
	om_doc *d = om_doc_new("t", OM_LANG_EN);
	om_doc_para(d, OM_DOC_PLAIN, "a\x80" "b\xc0\xaf" "c\xed\xa0\x80" "d\x01" "e\xe6\x97\xa5");
	char *h = html_of(d);
	assert_non_null(strstr(h, "<p>a\xef\xbf\xbd" "b\xef\xbf\xbd\xef\xbf\xbd"
	                          "c\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" "d e\xe6\x97\xa5</p>"));
	free(h);
	om_doc_free(d);
}

static void test_bad_args(void **state)
{
	(void)state;
	assert_int_equal(om_i18n_init(), 0);
	char err[256];
	om_buf b;
	om_buf_init(&b, 1 << 20);

	const char *axes[] = {"a", "b"};
	const double s[] = {1, 2, 3};
	om_doc *d = om_doc_new("t", OM_LANG_EN);
	om_doc_radar(d, "r", 2, axes, 5, s, "x", NULL, NULL); /* 2 axes: too few */
	om_doc_para(d, OM_DOC_PLAIN, "ignored after the error");
	err[0] = 0;
	assert_int_equal(om_doc_html(d, &b, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "om_doc_radar"));
	assert_int_equal(b.len, 0);
	om_doc_free(d);

	d = om_doc_new("t", OM_LANG_EN);
	const char *ax3[] = {"a", "b", "c"};
	om_doc_radar(d, "r", 3, ax3, 2, s, "x", NULL, NULL); /* 3 > max 2 */
	assert_int_equal(om_doc_html(d, &b, err, sizeof(err)), -EINVAL);
	om_doc_free(d);

	d = om_doc_new("t", OM_LANG_EN);
	const double neg[] = {-1};
	const char *lab[] = {"x"};
	om_doc_bars(d, "b", 1, lab, neg, "");
	assert_int_equal(om_doc_html(d, &b, err, sizeof(err)), -EINVAL);
	om_doc_free(d);

	d = om_doc_new("t", OM_LANG_EN);
	om_doc_heading(d, 4, "x");
	assert_int_equal(om_doc_html(d, &b, err, sizeof(err)), -EINVAL);
	assert_int_equal(om_doc_pdf(d, "never.pdf", err, sizeof(err)), -EINVAL);
	assert_int_equal(access("never.pdf", F_OK), -1);
	om_doc_free(d);

	d = om_doc_new("t", OM_LANG_EN);
	om_doc_table(d, 0, 2, lab, NULL);
	assert_int_equal(om_doc_html(d, &b, err, sizeof(err)), -EINVAL);
	om_doc_free(d);

	/* too large for the output buffer: -ENOBUFS, buffer left as it was */
	om_buf small;
	om_buf_init(&small, 64);
	d = om_doc_new("t", OM_LANG_EN);
	om_doc_para(d, OM_DOC_PLAIN, "x");
	assert_int_equal(om_doc_html(d, &small, err, sizeof(err)), -ENOBUFS);
	assert_int_equal(small.len, 0);
	om_buf_free(&small);
	om_doc_free(d);

	/* NULL documents (allocation failure) */
	assert_int_equal(om_doc_html(NULL, &b, err, sizeof(err)), -ENOMEM);
	om_doc_para(NULL, OM_DOC_PLAIN, "x");
	assert_null(om_doc_free(NULL));
	om_buf_free(&b);
}

static void test_radar_svg(void **state)
{
	(void)state;
	om_buf b;
	om_buf_init(&b, 1 << 20);
	const char *axes[] = {"one", "two", "three", "four", "five"};
	const double s1[] = {5, 0, 5, 0, 5};
	assert_int_equal(om_doc_radar_svg(5, axes, 5, s1, "me", NULL, NULL, &b), 0);
	const char *s = om_buf_cstr(&b);
	assert_int_equal(strncmp(s, "<svg xmlns=\"http://www.w3.org/2000/svg\"", 39), 0);
	assert_non_null(strstr(s, ">three</text>"));
	assert_non_null(strstr(s, ">me</text>"));
	assert_int_equal(count(s, "<polygon"), 6);
	assert_non_null(strstr(s, "</svg>\n"));
	/* value 0 sits on the centre */
	assert_non_null(strstr(s, " 260.0,220.0 "));
	size_t len = b.len;
	assert_int_equal(om_doc_radar_svg(13, axes, 5, s1, "me", NULL, NULL, &b), -EINVAL);
	assert_int_equal(om_doc_radar_svg(5, axes, 0, s1, "me", NULL, NULL, &b), -EINVAL);
	assert_int_equal(b.len, len);
	om_buf_free(&b);
}

/* ---- PDF --------------------------------------------------------------- */

static char tmpdir[64];

static int pdf_setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/omamori-doc-XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	/* the PDF writer's expanded font copies (pdffont.c) in a folder of
	 * this test's own, made by the first PDF */
	char fonts[96];
	snprintf(fonts, sizeof(fonts), "%s/fonts", tmpdir);
	return setenv("OMAMORI_FONT_CACHE", fonts, 1);
}

static int pdf_teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* The output of a poppler command on path (first 1 MiB). */
static char *run(const char *fmt, const char *path)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), fmt, path);
	FILE *f = popen(cmd, "r");
	assert_non_null(f);
	size_t cap = 1u << 20, n = 0;
	char *out = malloc(cap + 1);
	assert_non_null(out);
	size_t k;
	while (n < cap && (k = fread(out + n, 1, cap - n, f)) > 0)
		n += k;
	out[n] = 0;
	assert_int_equal(pclose(f), 0);
	return out;
}

static int pages(const char *path)
{
	char *info = run("pdfinfo '%s'", path);
	char *p = strstr(info, "Pages:");
	assert_non_null(p);
	int n = (int)strtol(p + 6, NULL, 10);
	free(info);
	return n;
}

static void test_pdf_text(void **state)
{
	(void)state;
	char path[128];
	snprintf(path, sizeof(path), "%s/a.pdf", tmpdir);
	om_doc *d = om_doc_new("情報セキュリティ報告", OM_LANG_JA);
	om_doc_heading(d, 1, "第一章 概要");
	om_doc_para(d, OM_DOC_PLAIN, "ランサムウェアに感染したときは、まずネットワークから切り離します。");
	om_doc_para(d, OM_DOC_DECIDE, "責任者の名前をここに書く");
	om_doc_bullet(d, OM_DOC_GOOD, "Backups tested monthly");
	const char *cells[] = {"項目", "金額", "調査費用", "3,000,000"};
	om_doc_table(d, 2, 2, cells, NULL);
	const char *labels[] = {"復旧費用"};
	const double v[] = {2500000};
	om_doc_bars(d, "被害額", 1, labels, v, "円");
	const char *axes[] = {"組織", "技術", "人", "物理"};
	const double s1[] = {3, 2, 4, 1};
	om_doc_radar(d, "自己診断", 4, axes, 4, s1, "今回", NULL, NULL);
	om_doc_pagebreak(d);
	om_doc_para(d, OM_DOC_PLAIN, "Second page <&>\" text");
	char err[256] = "";
	assert_int_equal(om_doc_pdf(d, path, err, sizeof(err)), 0);
	om_doc_free(d);

	char *txt = run("pdftotext -enc UTF-8 '%s' -", path);
	assert_non_null(strstr(txt, "情報セキュリティ報告"));
	assert_non_null(strstr(txt, "第一章 概要"));
	assert_non_null(strstr(txt, "まずネットワークから切り離します"));
	assert_non_null(strstr(txt, "責任者の名前をここに書く"));
	assert_non_null(strstr(txt, "Backups tested monthly"));
	assert_non_null(strstr(txt, "調査費用"));
	assert_non_null(strstr(txt, "2,500,000円"));
	assert_non_null(strstr(txt, "自己診断"));
	assert_non_null(strstr(txt, "物理"));
	free(txt);
	/* the page break: the last paragraph alone on page 2, escaping not needed */
	assert_int_equal(pages(path), 2);
	txt = run("pdftotext -enc UTF-8 -f 2 -l 2 '%s' -", path);
	assert_non_null(strstr(txt, "Second page <&>\" text"));
	assert_null(strstr(txt, "調査費用"));
	free(txt);
	/* Japanese set in Noto Sans CJK JP, embedded */
	char *fonts = run("pdffonts '%s'", path);
	assert_non_null(strstr(fonts, "NotoSansCJKjp"));
	free(fonts);
	char *info = run("pdfinfo '%s'", path);
	assert_non_null(strstr(info, "Title:"));
	assert_non_null(strstr(info, " 情報セキュリティ報告\n"));
	/* A4: 595.276 x 841.89 points */
	assert_non_null(strstr(info, "595.276 x 841.89 pts (A4)"));
	free(info);
	/* no temporary file left */
	char tmp[160];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	assert_int_equal(access(tmp, F_OK), -1);
}

/* The Japanese font is embedded as a subset of the glyphs drawn only (its
 * copy with the subroutines expanded): a page of Japanese in both weights
 * is well under 300 KB (the installed font's subroutines alone made it
 * about 1.8 MB), and the copies are in the cache folder. */
static void test_pdf_font_size(void **state)
{
	(void)state;
	char path[128], dir[128];
	struct stat st;
	snprintf(path, sizeof(path), "%s/font.pdf", tmpdir);
	om_doc *d = om_doc_new("月次セキュリティレポート", OM_LANG_JA);
	om_doc_heading(d, 2, "今月のまとめ：攻撃は防がれました");
	for (int i = 0; i < 20; i++)
		om_doc_para(d, OM_DOC_PLAIN,
		            "インターネットからの探索は毎日のように届く背景の雑音です。"
		            "ゲートウェイが止めたので、お店で何かをする必要はありません。"
		            "不審な通信、ウイルス付きのメール、迷惑メール、危険なサイト。");
	char err[256] = "";
	assert_int_equal(om_doc_pdf(d, path, err, sizeof(err)), 0);
	om_doc_free(d);
	assert_int_equal(stat(path, &st), 0);
	assert_true(st.st_size < 300 * 1000);
	char *fonts = run("pdffonts '%s'", path);
	assert_non_null(strstr(fonts, "NotoSansCJKjp-Regular"));
	assert_non_null(strstr(fonts, "NotoSansCJKjp-Bold"));
	free(fonts);
	char *txt = run("pdftotext -enc UTF-8 '%s' -", path);
	assert_non_null(strstr(txt, "背景の雑音です"));
	free(txt);
	snprintf(dir, sizeof(dir), "%s/fonts", tmpdir);
	char *ls = run("ls '%s'", dir);
	assert_non_null(strstr(ls, "NotoSansCJK-Regular"));
	assert_non_null(strstr(ls, "NotoSansCJK-Bold"));
	free(ls);
}

static void test_pdf_long_table(void **state)
{
	(void)state;
	char path[128];
	snprintf(path, sizeof(path), "%s/long.pdf", tmpdir);
	enum { ROWS = 151, COLS = 3 };
	static char text[ROWS * COLS][48];
	const char *cells[ROWS * COLS];
	for (int r = 0; r < ROWS; r++) {
		for (int c = 0; c < COLS; c++) {
			if (r == 0)
				snprintf(text[c], sizeof(text[c]), "HeaderCol%d", c);
			else
				snprintf(text[r * COLS + c], sizeof(text[0]), "row%03dcol%d", r, c);
			cells[r * COLS + c] = text[r * COLS + c];
		}
	}
	om_doc *d = om_doc_new("Long table", OM_LANG_EN);
	om_doc_para(d, OM_DOC_PLAIN, "A paragraph long enough to wrap: "
	                             "the quick brown fox jumps over the lazy dog, again and again, "
	                             "until the line is far wider than an A4 page can hold in one "
	                             "line at this size of type, so that it must wrap.");
	om_doc_table(d, ROWS, COLS, cells, NULL);
	char err[256] = "";
	assert_int_equal(om_doc_pdf(d, path, err, sizeof(err)), 0);
	om_doc_free(d);
	/* 150 rows of about 19 pt on pages of about 740 pt: 4 or more pages */
	int n = pages(path);
	assert_true(n >= 4);
	char *all = run("pdftotext -enc UTF-8 '%s' -", path);
	/* every row is there once; the header once per page */
	for (int r = 1; r < ROWS; r++) {
		char want[32];
		snprintf(want, sizeof(want), "row%03dcol2", r);
		assert_int_equal(count(all, want), 1);
	}
	assert_int_equal((int)count(all, "HeaderCol1"), n);
	assert_non_null(strstr(all, "must wrap."));
	free(all);
	/* the last page starts with the header again */
	char fmt[96];
	snprintf(fmt, sizeof(fmt), "pdftotext -enc UTF-8 -f %d -l %d '%%s' -", n, n);
	char *last = run(fmt, path);
	assert_non_null(strstr(last, "HeaderCol0"));
	free(last);
}

static void test_pdf_errors(void **state)
{
	(void)state;
	assert_int_equal(om_i18n_init(), 0);
	char path[160], err[256] = "";
	snprintf(path, sizeof(path), "%s/no-such-dir/x.pdf", tmpdir);
	om_doc *d = om_doc_new("t", OM_LANG_EN);
	om_doc_para(d, OM_DOC_PLAIN, "x");
	assert_int_equal(om_doc_pdf(d, path, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "no-such-dir/x.pdf"));
	assert_non_null(strstr(err, "folder"));
	assert_int_equal(om_doc_pdf(d, "", err, sizeof(err)), -EINVAL);
	om_doc_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_html_blocks),
	    cmocka_unit_test(test_html_escaping),
	    cmocka_unit_test(test_clean_text),
	    cmocka_unit_test(test_bad_args),
	    cmocka_unit_test(test_radar_svg),
	    cmocka_unit_test(test_pdf_text),
	    cmocka_unit_test(test_pdf_font_size),
	    cmocka_unit_test(test_pdf_long_table),
	    cmocka_unit_test(test_pdf_errors),
	};
	return cmocka_run_group_tests(tests, pdf_setup, pdf_teardown);
}
