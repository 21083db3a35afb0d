/* Unit tests for the web filter's category database (src/guard/webfilter.c,
 * webfilter_import.c). Lists are written here; each expected match follows
 * from the rules the test adds (suffix at label boundaries, longest name
 * wins, a URL rule wins over a name rule). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guard/fpcache.h"
#include "guard/guard.h"

static int norm(const char *in, char *out)
{
	return om_wf_norm_host(in, strlen(in), out, 300);
}

static void test_norm_host(void **state)
{
	(void)state;
	char o[300];
	assert_int_equal(norm("WWW.Example.COM.", o), 15);
	assert_string_equal(o, "www.example.com");
	assert_int_equal(norm("example.com:8080", o), 11);
	assert_string_equal(o, "example.com");
	assert_int_equal(norm("[::1]:443", o), 5);
	assert_string_equal(o, "[::1]");
	assert_int_equal(norm("*.example.org", o), 11);
	assert_string_equal(o, "example.org");
	assert_int_equal(norm(".example.org..", o), 11);
	/* UTF-8 names (U-labels) in their A-label form, case folded; an
	 * A-label stays as it is (lowered) */
	assert_int_equal(norm("B\xc3\xbc"
	                      "cher.Example",
	                      o),
	                 21);
	assert_string_equal(o, "xn--bcher-kva.example");
	assert_int_equal(norm("www.\u4f8b\u3048.\u30c6\u30b9\u30c8.", o), 26);
	assert_string_equal(o, "www.xn--r8jz45g.xn--zckzah");
	assert_int_equal(norm("XN--R8JZ45G.xn--zckzah:8080", o), 22);
	assert_string_equal(o, "xn--r8jz45g.xn--zckzah");
	/* full-width letters and the ideographic full stop (UTS 46 mapping) */
	assert_int_equal(norm("\uff25\uff38\uff21\uff2d\uff30\uff2c\uff25\u3002jp", o), 10);
	assert_string_equal(o, "example.jp");
	/* no valid IDN: a symbol IDNA2008 does not allow, a label starting
	 * with a combining mark, bytes that are not UTF-8 */
	assert_int_equal(norm("\u2603.example", o), -EILSEQ);
	assert_int_equal(norm("\u0300abc.jp", o), -EILSEQ);
	assert_int_equal(norm("\xff\xfe.jp", o), -EILSEQ);
	assert_int_equal(norm("", o), -EINVAL);
	assert_int_equal(norm("...", o), -EINVAL);
	assert_int_equal(norm("a..b", o), -EINVAL);
	assert_int_equal(norm("exa mple.com", o), -EINVAL);
	assert_int_equal(norm("example.com:80x", o), -EINVAL);
	assert_int_equal(norm("ex\"ample.com", o), -EINVAL);
	/* the one-pass case and its edges: every allowed byte, the bytes
	 * next to the letters and digits, and names with a byte no name
	 * holds before one past ASCII, judged as without the one-pass case
	 * (the IDN rules first, then the bytes of the result) */
	assert_int_equal(norm("aZ-09_m.Q", o), 9);
	assert_string_equal(o, "az-09_m.q");
	const char *edges[] = {"a@b", "a[b", "a`b", "a{b", "a/b", "a;b", "a\x7f"};
	for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++)
		assert_int_equal(norm(edges[i], o), -EINVAL);
	assert_int_equal(norm("A..B", o), -EINVAL);
	assert_int_equal(norm("exa mple.\u4f8b", o), -EINVAL);
	assert_int_equal(norm("exa\"mple.\u2603", o), -EILSEQ);
}

/* The guards' fingerprint of a name, the last one remembered per thread:
 * always the keyed hash of the bytes given (another name of the same
 * length, in the same buffer, is not taken for the last one). */
static void test_name_fp(void **state)
{
	(void)state;
	const om_hash_key *k = om_hash_key_process();
	char buf[400];
	const char *names[] = {"www.example.com", "www.exampla.com", "www.example.com", "a", "b", ""};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		size_t n = strlen(names[i]);
		memcpy(buf, names[i], n);
		uint64_t want = om_siphash(k, buf, n);
		assert_int_equal(om_guard_name_fp(buf, n), want ? want : 1);
		assert_int_equal(om_guard_name_fp(buf, n), want ? want : 1);
	}
	memset(buf, 'x', sizeof(buf));
	uint64_t want = om_siphash(k, buf, sizeof(buf));
	assert_int_equal(om_guard_name_fp(buf, sizeof(buf)), want ? want : 1);
	buf[399] = 'y';
	want = om_siphash(k, buf, sizeof(buf));
	assert_int_equal(om_guard_name_fp(buf, sizeof(buf)), want ? want : 1);
	/* the parser names' inlined compare: whole names only */
	assert_true(om_guard_ap_is("dns", "dns"));
	assert_true(om_guard_ap_is("http2", "http2"));
	assert_false(om_guard_ap_is("http2", "http"));
	assert_false(om_guard_ap_is("http", "http2"));
	assert_false(om_guard_ap_is("dn", "dns"));
	assert_false(om_guard_ap_is("", "dns"));
	assert_false(om_guard_ap_is("tls", "dns"));
}

static om_wf_builder *mk(void)
{
	om_wf_builder *b = NULL;
	assert_int_equal(om_wf_builder_new(&b), 0);
	return b;
}

static int add(om_wf_builder *b, const char *rule, const char *cat)
{
	return om_wf_builder_add(b, rule, strlen(rule), cat);
}

/* The rule that matched host (and path), "" for none. */
static const char *look(const om_wf_builder *b, const char *host, const char *path)
{
	static char rule[OM_WF_KEY_MAX];
	om_wf_match m;
	int r = om_wf_builder_lookup(b, host, strlen(host), path, path ? strlen(path) : 0, &m);
	if (r < 0)
		return "";
	memcpy(rule, m.rule, m.rule_len);
	rule[m.rule_len] = '\0';
	return rule;
}

static void test_suffix(void **state)
{
	(void)state;
	om_wf_builder *b = mk();
	assert_int_equal(add(b, "example.com", "sns"), 0);
	assert_string_equal(look(b, "example.com", NULL), "example.com");
	assert_string_equal(look(b, "www.example.com", NULL), "example.com");
	assert_string_equal(look(b, "a.b.c.EXAMPLE.com.", NULL), "example.com");
	assert_string_equal(look(b, "www.example.com:8443", NULL), "example.com");
	/* only at label boundaries */
	assert_string_equal(look(b, "badexample.com", NULL), "");
	assert_string_equal(look(b, "example.com.evil.net", NULL), "");
	assert_string_equal(look(b, "com", NULL), "");
	/* address literals match whole, never by suffix */
	assert_int_equal(add(b, "100.80", "sns"), 0);
	assert_int_equal(add(b, "192.0.2.7", "sns"), 0);
	assert_string_equal(look(b, "198.51.100.80", NULL), "");
	assert_string_equal(look(b, "192.0.2.7:8080", NULL), "192.0.2.7");
	assert_string_equal(look(b, "x.100.80", NULL), "100.80");
	/* a rule written with a trailing dot, a wildcard or in capitals is the same rule */
	assert_int_equal(add(b, "Example.COM.", "sns"), 1);
	assert_int_equal(add(b, "*.example.com", "sns"), 1);
	assert_int_equal(om_wf_builder_rules(b), 3);
	assert_int_equal(add(b, "not a name", "sns"), -EINVAL);
	assert_int_equal(add(b, "ok.example", "Bad Category"), -EINVAL);
	om_wf_builder_free(b);
}

static void test_longest(void **state)
{
	(void)state;
	om_wf_builder *b = mk();
	assert_int_equal(add(b, "example.com", "webmail"), 0);
	assert_int_equal(add(b, "files.example.com", "online_storage"), 0);
	om_wf_match m;
	assert_int_equal(om_wf_builder_lookup(b, "x.files.example.com", 19, NULL, 0, &m), 0);
	/* online_storage is the second category: bit 1 only */
	assert_int_equal(m.cats, 2);
	assert_false(m.url);
	assert_int_equal(om_wf_builder_lookup(b, "mail.example.com", 16, NULL, 0, &m), 0);
	assert_int_equal(m.cats, 1);
	/* a rule in two categories */
	assert_int_equal(add(b, "example.com", "sns"), 0);
	assert_int_equal(om_wf_builder_lookup(b, "example.com", 11, NULL, 0, &m), 0);
	assert_int_equal(m.cats, 1 | 4);
	om_wf_builder_free(b);
}

static void test_url_over_domain(void **state)
{
	(void)state;
	om_wf_builder *b = mk();
	assert_int_equal(add(b, "www.example.com", "sns"), 0);
	assert_int_equal(add(b, "http://example.com/downloads/", "malware"), 0);
	assert_int_equal(add(b, "example.com/a/b", "phishing"), 0);
	/* the URL rule of a shorter name wins over the name rule of a longer one */
	assert_string_equal(look(b, "www.example.com", "/downloads/x.exe"),
	                    "example.com/downloads");
	assert_string_equal(look(b, "www.example.com", "/downloads"), "example.com/downloads");
	assert_string_equal(look(b, "www.example.com", "/downloads?id=1"), "example.com/downloads");
	/* only at '/' boundaries */
	assert_string_equal(look(b, "www.example.com", "/downloadsX"), "www.example.com");
	assert_string_equal(look(b, "www.example.com", "/other"), "www.example.com");
	assert_string_equal(look(b, "www.example.com", "/a/b/c"), "example.com/a/b");
	assert_string_equal(look(b, "www.example.com", "/a/bc"), "www.example.com");
	/* the host marker for URL rules is not itself a rule */
	assert_string_equal(look(b, "example.com", NULL), "");
	assert_string_equal(look(b, "example.com", "/"), "");
	assert_int_equal(om_wf_builder_rules(b), 3);
	om_wf_builder_free(b);
}

static void test_import_plain_hosts(void **state)
{
	(void)state;
	om_wf_builder *b = mk();
	om_wf_import_stats st = {0};
	const char *plain = "# a list\n\nads.example\r\n  tracker.example  # comment\nbad name\n";
	assert_int_equal(om_wf_import_buf(b, OM_WF_FMT_AUTO, plain, strlen(plain), "ads", &st), 0);
	assert_int_equal(st.lines, 3);
	assert_int_equal(st.added, 2);
	assert_int_equal(st.rejected, 1);
	assert_string_equal(look(b, "x.tracker.example", NULL), "tracker.example");
	memset(&st, 0, sizeof(st));
	const char *hosts = "127.0.0.1 localhost\n::1 ip6-localhost ip6-loopback\n"
	                    "0.0.0.0 a.example b.example # two names\n"
	                    "0.0.0.0 0.0.0.0\nnot-an-ip c.example\n";
	assert_int_equal(om_wf_import_buf(b, OM_WF_FMT_AUTO, hosts, strlen(hosts), "ads", &st), 0);
	assert_int_equal(st.lines, 5);
	assert_int_equal(st.added, 2);
	assert_int_equal(st.rejected, 1);
	assert_string_equal(look(b, "b.example", NULL), "b.example");
	assert_string_equal(look(b, "localhost", NULL), "");
	assert_string_equal(look(b, "c.example", NULL), "");
	om_wf_builder_free(b);
}

static void test_import_csv(void **state)
{
	(void)state;
	om_wf_builder *b = mk();
	om_wf_import_stats st = {0};
	const char *csv = "domain,category\n"
	                  "dropbox.com,Online Storage\n"
	                  "\"mail.example\",webmail\n"
	                  "x.example,\n"
	                  "y.example,bad!cat\n";
	assert_int_equal(om_wf_import_buf(b, OM_WF_FMT_AUTO, csv, strlen(csv), NULL, &st), 0);
	assert_int_equal(st.lines, 4);
	assert_int_equal(st.added, 3); /* x.example takes the default category */
	assert_int_equal(st.rejected, 1);
	om_wf_match m;
	assert_int_equal(om_wf_builder_lookup(b, "www.dropbox.com", 15, NULL, 0, &m), 0);
	assert_string_equal(look(b, "mail.example", NULL), "mail.example");
	assert_string_equal(look(b, "x.example", NULL), "x.example");
	om_wf_builder_free(b);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_squidguard_and_file(void **state)
{
	(void)state;
	char dir[] = "/tmp/wftestXXXXXX";
	assert_non_null(mkdtemp(dir));
	char p[512];
	snprintf(p, sizeof(p), "%s/adult", dir);
	assert_int_equal(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/adult/domains", dir);
	write_file(p, "adult.example\n");
	snprintf(p, sizeof(p), "%s/adult/urls", dir);
	write_file(p, "site.example/adult/\n");
	snprintf(p, sizeof(p), "%s/gambling", dir);
	assert_int_equal(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/gambling/domains", dir);
	write_file(p, "casino.example\n");
	om_wf_builder *b = mk();
	om_wf_import_stats st = {0};
	assert_int_equal(om_wf_import_path(b, dir, OM_WF_FMT_AUTO, NULL, &st), 0);
	assert_int_equal(st.added, 3);
	assert_string_equal(look(b, "site.example", "/adult/page.html"), "site.example/adult");
	assert_string_equal(look(b, "www.casino.example", NULL), "casino.example");

	/* written, mapped, looked up the same */
	char db[600];
	snprintf(db, sizeof(db), "%s/cats.db", dir);
	assert_int_equal(om_wf_builder_write(b, db), 0);
	om_wf_db *d = NULL;
	assert_int_equal(om_wf_db_open(db, &d), 0);
	assert_int_equal(om_wf_db_rules(d), 3);
	assert_int_equal(om_wf_db_categories(d), 2);
	int ai = om_wf_db_category_index(d, "adult"), gi = om_wf_db_category_index(d, "gambling");
	assert_true(ai >= 0 && gi >= 0 && ai != gi);
	om_wf_match m;
	assert_int_equal(om_wf_db_lookup(d, "m.site.example", 14, "/adult/x", 8, &m), 0);
	assert_int_equal(m.cats, 1ULL << ai);
	assert_true(m.url);
	assert_int_equal(om_wf_db_lookup(d, "casino.example", 14, NULL, 0, &m), 0);
	assert_int_equal(m.cats, 1ULL << gi);
	assert_int_equal(om_wf_db_lookup(d, "site.example", 12, "/other", 6, &m), -ENOENT);
	uint64_t counts[OM_WF_CAT_MAX];
	om_wf_db_category_counts(d, counts);
	assert_int_equal(counts[ai], 2);
	assert_int_equal(counts[gi], 1);

	/* an import adds to the database */
	om_wf_builder *b2 = mk();
	assert_int_equal(add(b2, "casino.example", "ads"), 0);
	assert_int_equal(om_wf_builder_merge(b2, d), 0);
	assert_int_equal(om_wf_builder_rules(b2), 3);
	assert_string_equal(look(b2, "site.example", "/adult"), "site.example/adult");
	om_wf_db_close(d);

	/* a damaged file is refused */
	FILE *f = fopen(db, "r+");
	assert_non_null(f);
	assert_int_equal(ftruncate(fileno(f), 100), 0);
	fclose(f);
	assert_int_equal(om_wf_db_open(db, &d), -EINVAL);
	write_file(db, "not a database at all, but long enough to have a header? no. ......"
	               "................................................................");
	assert_int_equal(om_wf_db_open(db, &d), -EINVAL);
	assert_int_equal(om_wf_import_path(b, "/nonexistent/list", OM_WF_FMT_AUTO, NULL, &st),
	                 -ENOENT);
	om_wf_builder_free(b);
	om_wf_builder_free(b2);
	char cmd[700];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_norm_host), cmocka_unit_test(test_name_fp),
	    cmocka_unit_test(test_suffix),
	    cmocka_unit_test(test_longest),
	    cmocka_unit_test(test_url_over_domain),
	    cmocka_unit_test(test_import_plain_hosts),
	    cmocka_unit_test(test_import_csv),
	    cmocka_unit_test(test_squidguard_and_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
