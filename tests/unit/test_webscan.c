/* Unit tests for webscan's pure parts: the evidence tests of the checks
 * (database errors, /etc/passwd, answer similarity, token strength,
 * version banners), the HTML reader (forms with every field kind, links,
 * hidden links, directory listings, the DOM hash that ignores tokens), the
 * marker contexts and the XSS proof by parsing, the static DOM XSS
 * analysis, obfuscated scripts, URL handling, and the tamper baseline file
 * (round trip, errors by line, MinHash similarity). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "webscan/internal.h"

#define S(x) x, strlen(x)

static void test_sql_errors(void **state)
{
	(void)state;
	const char *dbms = NULL;
	assert_true(ws_sql_error(S("Database error: near \"'\": syntax error"), &dbms));
	assert_string_equal(dbms, "SQLite");
	assert_true(ws_sql_error(
	    S("You have an error in your SQL syntax; check the manual that corresponds"), &dbms));
	assert_string_equal(dbms, "MySQL");
	assert_true(ws_sql_error(S("ERROR: unterminated quoted string at or near \"'\""), &dbms));
	assert_string_equal(dbms, "PostgreSQL");
	assert_true(
	    ws_sql_error(S("Unclosed quotation mark after the character string ''."), &dbms));
	assert_string_equal(dbms, "SQL Server");
	assert_true(ws_sql_error(S("ORA-01756: quoted string not properly terminated"), &dbms));
	/* ordinary text about SQL is not an error message */
	assert_false(ws_sql_error(S("<p>We use SQL databases near the station.</p>"), NULL));
	assert_false(ws_sql_error(S("near \"here\" is fine, no error at all"), NULL));
}

static void test_passwd(void **state)
{
	(void)state;
	assert_true(ws_passwd_leak(S("<pre>root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1")));
	assert_true(ws_passwd_leak(S("; for 16-bit app support\n[fonts]\n[extensions]\n")));
	assert_false(ws_passwd_leak(S("root: the administrator; x:0:0 is not a line")));
	assert_false(ws_passwd_leak(S("root:")));
	assert_false(ws_passwd_leak(S("")));
}

static void test_similarity(void **state)
{
	(void)state;
	const char *a = "<html><body><p>In stock.</p><p>Delivery in two days.</p></body></html>";
	const char *b = "<html><body><p>Not found.</p></body></html>";
	assert_true(ws_similarity(S(a), S(a)) == 1.0);
	double d = ws_similarity(S(a), S(b));
	assert_true(d < 0.9);
	assert_true(d > 0.0);
	assert_true(ws_similarity("", 0, "", 0) == 1.0);
}

static void test_tokens(void **state)
{
	(void)state;
	assert_true(ws_token_name("csrf_token"));
	assert_true(ws_token_name("authenticity_token"));
	assert_true(ws_token_name("__RequestVerificationToken"));
	assert_false(ws_token_name("email"));
	assert_true(ws_token_value_strong("9f86d081884c7d659a2feaa0c55ad015"));
	assert_false(ws_token_value_strong("12345678901234567890"));
	assert_false(ws_token_value_strong("aaaaaaaaaaaaaaaaaaaa"));
	assert_false(ws_token_value_strong("abc123"));
}

static void test_banners(void **state)
{
	(void)state;
	assert_true(ws_version_banner("Apache/2.4.1 (Unix)"));
	assert_true(ws_version_banner("PHP/5.4.45"));
	assert_true(ws_version_banner("WordPress 4.7.1"));
	assert_true(ws_version_banner("nginx/1.18.0"));
	assert_false(ws_version_banner("Apache"));
	assert_false(ws_version_banner("WordPress"));
	assert_false(ws_version_banner("PHP"));
}

static const char page[] =
    "<html><head><title>Shop</title><meta name=generator content='Joomla! 3.9.1'></head><body>"
    "<a href='/a.php?x=1#frag'>a</a> <a href='b.html'>b</a> <a href='javascript:void(0)'>j</a>"
    "<a href='mailto:x@example.com'>m</a>"
    "<div style='display: none'><a href='http://spam.example/buy'>x</a></div>"
    "<iframe src='//other.example/f'></iframe><script src='/js/app.js'></script>"
    "<script>var u = '/api/items.json';</script>"
    "<form method=POST action='save.php' enctype='multipart/form-data'>"
    "<input type=hidden name=csrf_token value=abc><input name=title value='t'>"
    "<input type=checkbox name=ok><input type=file name=doc>"
    "<select name=color><option value=r>red<option value=g selected>green</select>"
    "<textarea name=body>hello</textarea><button name=go value=1>Go</button>"
    "<input type=image name=img><input type=password name=pw>"
    "</form><p>Visible   text</p></body></html>";

static void test_html_parse(void **state)
{
	(void)state;
	ws_arena a;
	ws_arena_init(&a, 1u << 24);
	ws_html h;
	assert_int_equal(ws_html_parse(&a, S(page), "http://127.0.0.1:8080/dir/index.php", &h), 0);
	assert_string_equal(h.title, "Shop");
	assert_string_equal(h.generator, "Joomla! 3.9.1");
	/* links resolved, fragment dropped, javascript: and mailto: left out */
	bool a1 = false, b1 = false;
	for (size_t i = 0; i < h.nlinks; i++) {
		a1 |= !strcmp(h.links[i], "http://127.0.0.1:8080/a.php?x=1");
		b1 |= !strcmp(h.links[i], "http://127.0.0.1:8080/dir/b.html");
		assert_null(strstr(h.links[i], "javascript"));
		assert_null(strstr(h.links[i], "mailto"));
	}
	assert_true(a1 && b1);
	assert_int_equal(h.nhidden_links, 1);
	assert_string_equal(h.hidden_links[0], "http://spam.example/buy");
	assert_int_equal(h.niframe_src, 1);
	assert_string_equal(h.iframe_src[0], "http://other.example/f");
	assert_int_equal(h.nscript_src, 1);
	assert_int_equal(h.nscripts, 1);
	assert_int_equal(h.nforms, 1);
	ws_form *f = &h.forms[0];
	assert_string_equal(f->method, "POST");
	assert_true(f->multipart && f->has_file && f->has_password);
	assert_string_equal(f->action, "http://127.0.0.1:8080/dir/save.php");
	const char *want[][3] = {{"csrf_token", "abc", "hidden"}, {"title", "t", "text"},
	                         {"ok", "on", "checkbox"},        {"doc", "", "file"},
	                         {"color", "g", "select"},        {"body", "hello", "textarea"},
	                         {"go", "1", "submit"},           {"pw", "", "password"}};
	assert_int_equal(f->nfields, OM_ARRAY_SIZE(want));
	for (size_t i = 0; i < OM_ARRAY_SIZE(want); i++) {
		assert_string_equal(f->fields[i].name, want[i][0]);
		assert_string_equal(f->fields[i].value, want[i][1]);
		assert_string_equal(f->fields[i].type, want[i][2]);
	}
	assert_non_null(strstr(om_buf_cstr(&h.text), "Visible text"));
	assert_null(strstr(om_buf_cstr(&h.text), "spam"));
	assert_false(h.dir_listing);
	ws_html_free(&h);
	ws_arena_free(&a);
}

static void test_dom_hash(void **state)
{
	(void)state;
	ws_arena a;
	ws_arena_init(&a, 1u << 24);
	ws_html h1, h2, h3;
	const char *p1 = "<p>hi</p><input type=hidden name=t value=111><script nonce=a>x</script>";
	const char *p2 = "<p>hi</p><input type=hidden name=t value=222><script nonce=b>x</script>";
	const char *p3 = "<p>hi</p><input type=hidden name=t value=222><script nonce=b>y</script>";
	assert_int_equal(ws_html_parse(&a, S(p1), "http://h/", &h1), 0);
	assert_int_equal(ws_html_parse(&a, S(p2), "http://h/", &h2), 0);
	assert_int_equal(ws_html_parse(&a, S(p3), "http://h/", &h3), 0);
	assert_true(h1.dom_hash == h2.dom_hash);
	assert_true(h2.dom_hash != h3.dom_hash);
	ws_html_free(&h1);
	ws_html_free(&h2);
	ws_html_free(&h3);
	ws_html dl;
	assert_int_equal(ws_html_parse(&a, S("<title>Index of /files/</title><a href=a.txt>a</a>"),
	                               "http://h/", &dl),
	                 0);
	assert_true(dl.dir_listing);
	ws_html_free(&dl);
	ws_arena_free(&a);
}

static void test_contexts(void **state)
{
	(void)state;
	const char *m = "omzabcdefghi";
	assert_int_equal(ws_html_contexts(S("<p>omzabcdefghi</p>"), m), WS_CTX_TEXT);
	assert_int_equal(ws_html_contexts(S("<input value=\"omzabcdefghi\">"), m), WS_CTX_ATTR_DQ);
	assert_int_equal(ws_html_contexts(S("<input value='x omzabcdefghi'>"), m), WS_CTX_ATTR_SQ);
	assert_int_equal(ws_html_contexts(S("<input value=omzabcdefghi>"), m), WS_CTX_ATTR_UQ);
	assert_int_equal(ws_html_contexts(S("<a href=\"omzabcdefghi\">"), m),
	                 WS_CTX_ATTR_DQ | WS_CTX_URL_ATTR);
	assert_int_equal(ws_html_contexts(S("<script>var a='omzabcdefghi';</script>"), m),
	                 WS_CTX_SCRIPT);
	assert_int_equal(ws_html_contexts(S("<!-- omzabcdefghi -->"), m), WS_CTX_COMMENT);
	assert_int_equal(ws_html_contexts(S("<p>nothing</p>"), m), 0);
}

static void test_xss_proof(void **state)
{
	(void)state;
	/* our payload became an element with our attribute */
	assert_true(
	    ws_html_has_attr(S("<p>x<b data-omz123456789=1>x</b></p>"), "data-omz123456789"));
	assert_true(
	    ws_html_has_attr(S("<input value=\"\" data-omz123456789=\"1\">"), "data-omz123456789"));
	/* the same characters escaped: text, not markup (a string search would
	 * be fooled) */
	assert_false(
	    ws_html_has_attr(S("<p>&lt;b data-omz123456789=1&gt;</p>"), "data-omz123456789"));
	assert_false(ws_html_has_attr(S("<input value=\"&quot; data-omz123456789=&quot;1\">"),
	                              "data-omz123456789"));
	assert_false(ws_html_has_attr(S("<textarea><b data-omz123456789=1></textarea>"),
	                              "data-omz123456789"));
	assert_true(ws_html_has_js_url(S("<a href=' javascript:omzq()'>x</a>"), "omzq"));
	assert_false(ws_html_has_js_url(S("<a href='/x?javascript:omzq()'>x</a>"), "omzq"));
}

static void test_dom_xss(void **state)
{
	(void)state;
	ws_arena a;
	ws_arena_init(&a, 1u << 20);
	const char *line = NULL;
	const char *v1 = "var params = new URLSearchParams(window.location.search);\n"
	                 "var who = params.get('name');\n"
	                 "document.getElementById('out').innerHTML = 'Hi ' + who;";
	assert_true(ws_dom_xss(&a, S(v1), &line));
	assert_non_null(strstr(line, "innerHTML"));
	assert_true(ws_dom_xss(&a, S("document.write(location.hash.substring(1));"), NULL));
	assert_true(ws_dom_xss(&a, S("var h = decodeURIComponent(location.hash); eval(h);"), NULL));
	assert_true(ws_dom_xss(&a, S("$('#x').html(document.location.href)"), NULL));
	const char *s1 = "var params = new URLSearchParams(window.location.search);\n"
	                 "var who = params.get('name');\n"
	                 "document.getElementById('out').textContent = 'Hi ' + who;";
	assert_false(ws_dom_xss(&a, S(s1), NULL));
	assert_false(
	    ws_dom_xss(&a, S("el.innerHTML = encodeURIComponent(location.search);"), NULL));
	assert_false(ws_dom_xss(&a, S("el.innerHTML = '<b>hello</b>';"), NULL));
	/* a comparison is not an assignment */
	assert_false(ws_dom_xss(&a, S("if (location.hash == '#a') { el.innerHTML = 'x'; }"), NULL));
	/* a source in a comment or a string does nothing */
	assert_false(ws_dom_xss(&a, S("// location.search\nel.innerHTML = 'x';"), NULL));
	ws_arena_free(&a);
}

static void test_obfuscated(void **state)
{
	(void)state;
	char buf[600];
	memcpy(buf, "eval(atob('", 11);
	for (int i = 0; i < 200; i++)
		buf[11 + i] = "QUJDRA"[i % 6];
	memcpy(buf + 211, "'));", 5);
	assert_true(ws_script_obfuscated(buf, strlen(buf)));
	assert_false(ws_script_obfuscated(S("var x = 1; document.getElementById('a').focus();")));
	assert_false(ws_script_obfuscated(S("eval('1+1')")));
}

static void test_urls(void **state)
{
	(void)state;
	ws_arena a;
	ws_arena_init(&a, 1u << 20);
	assert_string_equal(ws_url_resolve(&a, "http://h:81/a/b.php", "../c.php?x=1#f"),
	                    "http://h:81/c.php?x=1");
	assert_null(ws_url_resolve(&a, "http://h/", "javascript:alert(1)"));
	assert_null(ws_url_resolve(&a, "http://h/", "ftp://h/x"));
	assert_null(ws_url_resolve(&a, "http://h/", ""));
	ws_url u;
	assert_int_equal(ws_url_split(&a, "https://example.com/x/y?z=1", &u), 0);
	assert_int_equal(u.port, 443);
	assert_string_equal(u.path, "/x/y");
	assert_string_equal(u.query, "z=1");
	assert_int_equal(ws_url_split(&a, "gopher://x/", &u), -EINVAL);
	ws_field f[4];
	assert_int_equal(ws_query_parse(&a, "a=1+2&b=%3Cx%3E&&c&=bad&d=%zz", f, 4), 4);
	assert_string_equal(f[0].value, "1 2");
	assert_string_equal(f[1].value, "<x>");
	assert_string_equal(f[2].name, "c");
	assert_string_equal(f[2].value, "");
	assert_string_equal(f[3].value, "%zz");
	om_buf b;
	om_buf_init(&b, 1024);
	ws_urlencode(&b, "a b&c=d/é");
	assert_string_equal(om_buf_cstr(&b), "a%20b%26c%3Dd%2F%C3%A9");
	om_buf_free(&b);
	ws_arena_free(&a);
}

struct urls {
	const char *got[8];
	size_t n;
};

static void on_url(void *user, const char *url)
{
	struct urls *u = user;
	if (u->n < 8)
		u->got[u->n++] = url;
}

static void test_extract_urls(void **state)
{
	(void)state;
	ws_arena a;
	ws_arena_init(&a, 1u << 20);
	struct urls u = {.n = 0};
	const char *t = "{\"next\":\"\\/api\\/page2.json\",\"name\":\"a b\",\"x\":\"list.php?p=2\","
	                "'y':'https://h/abs', z: '//cdn/x', w: 'not a url'}";
	ws_extract_urls(&a, S(t), "http://h/dir/", on_url, &u);
	assert_int_equal(u.n, 3);
	assert_string_equal(u.got[0], "http://h/api/page2.json");
	assert_string_equal(u.got[1], "http://h/dir/list.php?p=2");
	assert_string_equal(u.got[2], "https://h/abs");
	ws_arena_free(&a);
}

static void test_baseline(void **state)
{
	(void)state;
	ws_arena a;
	ws_arena_init(&a, 1u << 24);
	ws_html h;
	const char *p = "<p>one two three four five six seven eight</p>"
	                "<a href='http://other.example/x'>o</a><script src='/s.js'></script>";
	assert_int_equal(ws_html_parse(&a, S(p), "http://h/p", &h), 0);
	ws_print pr[2];
	ws_print_make(&a, "http://h/p", &h, 1234, &pr[0]);
	ws_html_free(&h);
	assert_int_equal(pr[0].nitems, 2);
	assert_string_equal(pr[0].items[0], "L other.example");
	assert_string_equal(pr[0].items[1], "S http://h/s.js");
	pr[1] = pr[0];
	pr[1].url = "http://h/q";
	om_buf b;
	om_buf_init(&b, 1u << 20);
	ws_baseline_write(pr, 2, &b);
	ws_print back[4];
	size_t n = 0;
	char err[256];
	assert_int_equal(ws_baseline_parse(&a, b.data, b.len, back, 4, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 2);
	assert_string_equal(back[1].url, "http://h/q");
	assert_true(back[0].ts == 1234 && back[0].dom_hash == pr[0].dom_hash);
	assert_int_equal(back[0].text_len, pr[0].text_len);
	assert_int_equal(back[0].nitems, 2);
	assert_true(ws_minhash_similarity(&back[0], &pr[0]) == 1.0);
	/* too many pages for the table */
	assert_int_equal(ws_baseline_parse(&a, b.data, b.len, back, 1, &n, err, sizeof(err)),
	                 -EINVAL);
	om_buf_free(&b);
	static const struct {
		const char *text, *err;
	} bad[] = {
	    {"", "line 1: empty"},
	    {"something else\n", "line 1: not a baseline"},
	    {"omamori-webscan-baseline 1\npage http://h/ 1 zz 3\n", "line 2: bad number"},
	    {"omamori-webscan-baseline 1\npage http://h/ 1 ab\n", "line 2: 'page URL"},
	    {"omamori-webscan-baseline 1\nitem L x\n", "line 2: 'mh', 'item'"},
	    {"omamori-webscan-baseline 1\npage http://h/ 1 ab 3\nend\n", "line 3: page without"},
	    {"omamori-webscan-baseline 1\npage http://h/ 1 ab 3\nmh 1 2\n", "line 3: 'mh' needs"},
	    {"omamori-webscan-baseline 1\npage http://h/ 1 ab 3\nitem Q x\n", "line 3: 'item K"},
	    {"omamori-webscan-baseline 1\npage ftp://h/ 1 ab 3\n", "line 2: the page URL"},
	    {"omamori-webscan-baseline 1\npage http://h/ 1 ab 3", "line 2: the last line"},
	    {"omamori-webscan-baseline 1\npage http://h/ 1 ab 3\n", "line 2: the last page"},
	};
	assert_int_equal(om_i18n_init(), 0);
	om_lang_set_thread(OM_LANG_EN);
	for (size_t i = 0; i < OM_ARRAY_SIZE(bad); i++) {
		err[0] = '\0';
		int r = ws_baseline_parse(&a, bad[i].text, strlen(bad[i].text), back, 4, &n, err,
		                          sizeof(err));
		assert_int_equal(r, -EINVAL);
		if (!strstr(err, bad[i].err))
			fail_msg("case %zu: '%s' does not contain '%s'", i, err, bad[i].err);
	}
	ws_arena_free(&a);
}

static void test_minhash(void **state)
{
	(void)state;
	ws_arena a;
	ws_arena_init(&a, 1u << 24);
	const char *t1 = "<p>Welcome to our fruit shop in the old town. We sell apples, pears and "
	                 "cherries from local farms every morning.</p>";
	const char *t2 = "<p>Welcome to our fruit shop in the old town. We sell apples, pears and "
	                 "cherries from local farms every evening.</p>";
	const char *t3 = "<p>HACKED BY THE NIGHT CREW. Your security is a joke, pay us now.</p>";
	ws_html h1, h2, h3;
	ws_print p1, p2, p3;
	assert_int_equal(ws_html_parse(&a, S(t1), "http://h/", &h1), 0);
	assert_int_equal(ws_html_parse(&a, S(t2), "http://h/", &h2), 0);
	assert_int_equal(ws_html_parse(&a, S(t3), "http://h/", &h3), 0);
	ws_print_make(&a, "http://h/", &h1, 1, &p1);
	ws_print_make(&a, "http://h/", &h2, 1, &p2);
	ws_print_make(&a, "http://h/", &h3, 1, &p3);
	/* one word of 20 changed: most shingles stay; a new text shares none */
	assert_true(ws_minhash_similarity(&p1, &p2) > 0.6);
	assert_true(ws_minhash_similarity(&p1, &p3) < 0.1);
	ws_html_free(&h1);
	ws_html_free(&h2);
	ws_html_free(&h3);
	ws_arena_free(&a);
}

static void test_classes(void **state)
{
	(void)state;
	enum ws_class c;
	assert_int_equal(WS_CLASS_COUNT, 18);
	assert_int_equal(ws_class_parse("sqli_blind", &c), 0);
	assert_int_equal(c, WS_SQLI_BLIND);
	assert_int_equal(ws_class_parse("xss", &c), -EINVAL);
	assert_string_equal(ws_level_name(WS_HIGH), "high");
	/* every class has a title and advice in both catalogues */
	assert_int_equal(om_i18n_init(), 0);
	for (int i = 0; i < WS_CLASS_COUNT; i++) {
		char k[64];
		for (int l = 0; l < OM_LANG_COUNT; l++) {
			snprintf(k, sizeof(k), "webscan.advice.%s", ws_class_names[i]);
			assert_string_not_equal(om_msg((enum om_lang)l, k), k);
			snprintf(k, sizeof(k), "webscan.class.%s", ws_class_names[i]);
			assert_string_not_equal(om_msg((enum om_lang)l, k), k);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sql_errors),   cmocka_unit_test(test_passwd),
	    cmocka_unit_test(test_similarity),   cmocka_unit_test(test_tokens),
	    cmocka_unit_test(test_banners),      cmocka_unit_test(test_html_parse),
	    cmocka_unit_test(test_dom_hash),     cmocka_unit_test(test_contexts),
	    cmocka_unit_test(test_xss_proof),    cmocka_unit_test(test_dom_xss),
	    cmocka_unit_test(test_obfuscated),   cmocka_unit_test(test_urls),
	    cmocka_unit_test(test_extract_urls), cmocka_unit_test(test_baseline),
	    cmocka_unit_test(test_minhash),      cmocka_unit_test(test_classes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
