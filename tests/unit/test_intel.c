/* Unit tests for threat intelligence (src/guard/intel*.c): the database
 * (each indicator type, longest network first, suffix matching at label
 * boundaries, expiry at lookup, the file round trip and damaged files),
 * type detection, the importers on small inputs written here, the live
 * database's swap on reload, and the matcher at a flow's start. */
/* clang-format off: cmocka needs these first, in this order */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "guard/guard.h"

static om_intel_builder *mk(void)
{
	om_intel_builder *b = NULL;
	assert_int_equal(om_intel_builder_new(&b), 0);
	return b;
}

static int add(om_intel_builder *b, enum om_intel_type t, const char *v, const char *src,
               uint8_t conf, int64_t expires)
{
	om_intel_ind ind = {.type = t,
	                    .value = v,
	                    .len = strlen(v),
	                    .source = src,
	                    .confidence = conf,
	                    .threat = OM_INTEL_THREAT_C2,
	                    .expires = expires};
	return om_intel_builder_add(b, &ind);
}

static const char *text(const om_intel_hit *h)
{
	static char buf[2100];
	om_intel_hit_text(h, buf, sizeof(buf));
	return buf;
}

static void test_detect(void **state)
{
	(void)state;
	struct {
		const char *v;
		int t;
	} cases[] = {
	    {"192.0.2.1", OM_INTEL_IP},
	    {"192.0.2.0/24", OM_INTEL_IP},
	    {"2001:db8::/32", OM_INTEL_IP},
	    {"  evil.example ", OM_INTEL_DOMAIN},
	    {"http://evil.example/x", OM_INTEL_URL},
	    {"evil.example/x", OM_INTEL_URL},
	    {"d41d8cd98f00b204e9800998ecf8427e", OM_INTEL_MD5},
	    {"da39a3ee5e6b4b0d3255bfef95601890afd80709", OM_INTEL_SHA1},
	    {"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", OM_INTEL_SHA256},
	    {"t13d1516h2_8daaf6152771_b186095e22b6", OM_INTEL_JA4},
	    {"localhost", -EINVAL}, /* no dot: not a domain indicator */
	    {"192.0.2.0/33", -EINVAL},
	    {"", -EINVAL},
	    {"a b.example", -EINVAL},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(om_intel_detect_type(cases[i].v, strlen(cases[i].v)), cases[i].t);
}

static void test_threat_words(void **state)
{
	(void)state;
	struct {
		const char *w;
		enum om_intel_threat t;
	} cases[] = {{"botnet_cc", OM_INTEL_THREAT_C2},
	             {"Dridex C&C", OM_INTEL_THREAT_C2},
	             {"payload_delivery", OM_INTEL_THREAT_MALWARE},
	             {"malware_download", OM_INTEL_THREAT_MALWARE},
	             {"Phishing", OM_INTEL_THREAT_PHISHING},
	             {"malicious-activity", OM_INTEL_THREAT_OTHER}};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(om_intel_threat_from_text(cases[i].w, strlen(cases[i].w)),
		                 cases[i].t);
}

static void test_addresses(void **state)
{
	(void)state;
	om_intel_builder *b = mk();
	assert_int_equal(add(b, OM_INTEL_AUTO, "198.51.100.0/24", "wide", 50, 0), 0);
	assert_int_equal(add(b, OM_INTEL_AUTO, "198.51.100.128/25", "narrow", 60, 0), 0);
	assert_int_equal(add(b, OM_INTEL_AUTO, "198.51.100.7", "host", 70, 0), 0);
	assert_int_equal(add(b, OM_INTEL_AUTO, "2001:db8::/32", "v6", 80, 0), 0);
	/* the host bits of a network do not matter */
	assert_int_equal(add(b, OM_INTEL_IP, "198.51.100.99/24", "again", 10, 0), 1);
	assert_int_equal(add(b, OM_INTEL_IP, "not-an-address", NULL, 10, 0), -EINVAL);
	om_intel_hit h;
	/* longest prefix first */
	assert_int_equal(om_intel_builder_lookup(b, OM_INTEL_AUTO, "198.51.100.7", 12, 0, &h), 0);
	assert_string_equal(h.source, "host");
	assert_string_equal(text(&h), "198.51.100.7");
	assert_int_equal(om_intel_builder_lookup(b, OM_INTEL_AUTO, "198.51.100.200", 14, 0, &h), 0);
	assert_string_equal(h.source, "narrow");
	assert_string_equal(text(&h), "198.51.100.128/25");
	assert_int_equal(om_intel_builder_lookup(b, OM_INTEL_AUTO, "198.51.100.127", 14, 0, &h), 0);
	assert_string_equal(h.source, "wide");
	assert_int_equal(h.confidence, 50); /* the second add had less */
	assert_int_equal(om_intel_builder_lookup(b, OM_INTEL_AUTO, "198.51.101.1", 12, 0, &h),
	                 -ENOENT);
	assert_int_equal(om_intel_builder_lookup(b, OM_INTEL_AUTO, "2001:db8:ffff::1", 16, 0, &h),
	                 0);
	assert_string_equal(text(&h), "2001:db8::/32");
	assert_int_equal(om_intel_builder_lookup(b, OM_INTEL_AUTO, "2001:db9::1", 11, 0, &h),
	                 -ENOENT);
	/* lengths on each side of a 64-bit word of the length set (/64, /63) */
	assert_int_equal(add(b, OM_INTEL_IP, "2001:db8:1:2::/64", "v6-64", 80, 0), 0);
	assert_int_equal(add(b, OM_INTEL_IP, "2001:db8:1:4::/63", "v6-63", 80, 0), 0);
	assert_int_equal(om_intel_builder_lookup(b, OM_INTEL_IP, "2001:db8:1:2::5", 15, 0, &h), 0);
	assert_string_equal(h.source, "v6-64");
	assert_int_equal(om_intel_builder_lookup(b, OM_INTEL_IP, "2001:db8:1:5::1", 15, 0, &h), 0);
	assert_string_equal(h.source, "v6-63");
	assert_int_equal(om_intel_builder_lookup(b, OM_INTEL_IP, "2001:db8:1:3::1", 15, 0, &h), 0);
	assert_string_equal(h.source, "v6");
	/* a v6 network never covers a v4 address (the mapped form) */
	om_intel_builder_free(b);
	b = mk();
	assert_int_equal(add(b, OM_INTEL_IP, "::/0", "all6", 50, 0), 0);
	assert_int_equal(om_intel_builder_lookup(b, OM_INTEL_IP, "192.0.2.1", 9, 0, &h), -ENOENT);
	assert_int_equal(om_intel_builder_lookup(b, OM_INTEL_IP, "2001:db8::1", 11, 0, &h), 0);
	om_intel_builder_free(b);
}

static void test_names_urls_hashes(void **state)
{
	(void)state;
	om_intel_builder *b = mk();
	assert_int_equal(add(b, OM_INTEL_DOMAIN, "Evil.Example.", "d", 50, 0), 0);
	assert_int_equal(
	    add(b, OM_INTEL_URL, "https://user@dl.example:8080/a/b.exe?x=1#frag", "u", 50, 0), 0);
	assert_int_equal(add(b, OM_INTEL_URL, "http://dl.example/c", "u2", 50, 0), 0);
	assert_int_equal(add(b, OM_INTEL_SHA256,
	                     "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
	                     "h", 50, 0),
	                 0);
	assert_int_equal(add(b, OM_INTEL_JA3, "72a589da586844d7f0818ce684948eea", "j", 50, 0), 0);
	assert_int_equal(add(b, OM_INTEL_CERT_SHA1,
	                     "7c:0d:4d:4e:4a:52:a0:e2:d5:b8:f5:cb:4b:0e:8d:8c:07:d5:f0:a1", "c", 50,
	                     0),
	                 0);
	assert_int_equal(add(b, OM_INTEL_SHA256, "abcd", "h", 50, 0), -EINVAL);
	om_intel_hit h;
	const char *yes[] = {"evil.example", "WWW.EVIL.EXAMPLE", "a.b.evil.example."};
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(
		    om_intel_builder_lookup(b, OM_INTEL_DOMAIN, yes[i], strlen(yes[i]), 0, &h), 0);
		assert_string_equal(text(&h), "evil.example");
	}
	const char *no[] = {"notevil.example", "example", "evil.example.org"};
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(
		    om_intel_builder_lookup(b, OM_INTEL_DOMAIN, no[i], strlen(no[i]), 0, &h),
		    -ENOENT);
	/* URLs: exact path with the query, or without it; scheme, user, port,
	 * fragment dropped */
	assert_int_equal(
	    om_intel_builder_lookup(b, OM_INTEL_URL, "http://DL.example/a/b.exe?x=1", 29, 0, &h),
	    0);
	assert_string_equal(text(&h), "dl.example/a/b.exe?x=1");
	assert_int_equal(
	    om_intel_builder_lookup(b, OM_INTEL_URL, "dl.example/a/b.exe?x=2", 22, 0, &h), -ENOENT);
	assert_int_equal(
	    om_intel_builder_lookup(b, OM_INTEL_URL, "dl.example/c?session=9", 22, 0, &h), 0);
	assert_string_equal(h.source, "u2");
	assert_int_equal(om_intel_builder_lookup(b, OM_INTEL_URL, "dl.example/cc", 13, 0, &h),
	                 -ENOENT);
	assert_int_equal(om_intel_builder_lookup(
	                     b, OM_INTEL_AUTO,
	                     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", 64,
	                     0, &h),
	                 0);
	assert_int_equal(h.type, OM_INTEL_SHA256);
	/* 32 hex digits: tried as MD5, then as JA3 */
	assert_int_equal(om_intel_builder_lookup(b, OM_INTEL_AUTO,
	                                         "72A589DA586844D7F0818CE684948EEA", 32, 0, &h),
	                 0);
	assert_int_equal(h.type, OM_INTEL_JA3);
	assert_int_equal(
	    om_intel_builder_lookup(b, OM_INTEL_MD5, "72a589da586844d7f0818ce684948eea", 32, 0, &h),
	    -ENOENT);
	assert_int_equal(om_intel_builder_lookup(b, OM_INTEL_CERT_SHA1,
	                                         "7c0d4d4e4a52a0e2d5b8f5cb4b0e8d8c07d5f0a1", 40, 0,
	                                         &h),
	                 0);
	om_intel_builder_free(b);
}

static void test_expiry(void **state)
{
	(void)state;
	om_intel_builder *b = mk();
	assert_int_equal(add(b, OM_INTEL_IP, "192.0.2.0/24", "net", 50, 2000), 0);
	assert_int_equal(add(b, OM_INTEL_IP, "192.0.2.1", "host", 50, 1000), 0);
	om_intel_hit h;
	assert_int_equal(om_intel_builder_lookup(b, OM_INTEL_IP, "192.0.2.1", 9, 999, &h), 0);
	assert_string_equal(h.source, "host");
	/* the host has expired: the network behind it still answers */
	assert_int_equal(om_intel_builder_lookup(b, OM_INTEL_IP, "192.0.2.1", 9, 1000, &h), 0);
	assert_string_equal(h.source, "net");
	assert_int_equal(om_intel_builder_lookup(b, OM_INTEL_IP, "192.0.2.1", 9, 2000, &h),
	                 -ENOENT);
	/* now 0: nothing expires */
	assert_int_equal(om_intel_builder_lookup(b, OM_INTEL_IP, "192.0.2.1", 9, 0, &h), 0);
	/* a later expiry (or none) wins when an indicator comes again */
	assert_int_equal(add(b, OM_INTEL_IP, "192.0.2.1", "host", 40, 0), 1);
	assert_int_equal(om_intel_builder_lookup(b, OM_INTEL_IP, "192.0.2.1", 9, 5000, &h), 0);
	assert_int_equal(h.expires, 0);
	om_intel_builder_free(b);
}

static char path[] = "/tmp/test_intel_XXXXXX";

static void test_file(void **state)
{
	(void)state;
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	om_intel_builder *b = mk();
	char v[32];
	for (unsigned i = 0; i < 5000; i++) {
		snprintf(v, sizeof(v), "10.%u.%u.1", i / 256, i % 256);
		assert_int_equal(
		    add(b, OM_INTEL_IP, v, i % 2 ? "odd" : "even", 50, i < 10 ? 100 : 0), 0);
	}
	assert_int_equal(add(b, OM_INTEL_DOMAIN, "c2.example", "d", 90, 0), 0);
	assert_int_equal(om_intel_builder_write(b, path), 0);
	om_intel_builder_free(b);
	om_intel_db *db = NULL;
	assert_int_equal(om_intel_db_open(path, &db), 0);
	om_intel_hit h;
	assert_int_equal(om_intel_db_lookup(db, OM_INTEL_AUTO, "10.19.135.1", 11, 0, &h), 0);
	assert_string_equal(h.source, 4999 % 2 ? "odd" : "even");
	assert_int_equal(om_intel_db_lookup_domain(db, "x.c2.example", 12, 0, &h), 0);
	assert_int_equal(h.confidence, 90);
	om_intel_db_stats st;
	om_intel_db_stats_get(db, 200, &st);
	assert_int_equal(st.total, 5001);
	assert_int_equal(st.by_type[OM_INTEL_IP], 5000);
	assert_int_equal(st.expired, 10);
	assert_int_equal(st.sources, 3);
	/* the types it holds: the matcher asks for nothing else */
	assert_true(om_intel_db_has(db, OM_INTEL_IP));
	assert_true(om_intel_db_has(db, OM_INTEL_DOMAIN));
	assert_false(om_intel_db_has(db, OM_INTEL_URL));
	assert_false(om_intel_db_has(db, OM_INTEL_JA3));
	assert_false(om_intel_db_has(db, OM_INTEL_JA4));
	assert_false(om_intel_db_has(db, OM_INTEL_TYPES));
	assert_false(om_intel_db_has(NULL, OM_INTEL_IP));
	/* expire: a merge at a time leaves out what expired by then */
	b = mk();
	assert_int_equal(om_intel_builder_merge(b, db, 200), 0);
	assert_int_equal(om_intel_builder_count(b), 4991);
	om_intel_builder_free(b);
	/* merge leaving a source out (a feed fetched again) */
	b = mk();
	const char *skip[] = {"odd"};
	assert_int_equal(om_intel_builder_merge_except(b, db, 0, skip, 1), 0);
	assert_int_equal(om_intel_builder_count(b), 2501);
	om_intel_builder_free(b);
	db = om_intel_db_close(db);
	/* damaged: cut short, a wrong magic */
	FILE *f = fopen(path, "r+b");
	assert_non_null(f);
	assert_int_equal(ftruncate(fileno(f), 20000), 0);
	fclose(f);
	assert_int_equal(om_intel_db_open(path, &db), -EINVAL);
	f = fopen(path, "wb");
	fputs("OMWFDB1\nsomething else entirely", f);
	fclose(f);
	assert_int_equal(om_intel_db_open(path, &db), -EINVAL);
	assert_int_equal(om_intel_db_open("/nonexistent/intel.db", &db), -ENOENT);
	unlink(path);
}

/* The filter of an opened database: every listed key passes (a lookup of
 * it still finds it), and of keys not listed at most one in 15 does (one
 * bit per tag let about one in nine through; three bits of one word, about
 * one in 25). */
static void test_filter(void **state)
{
	(void)state;
	char p[] = "/tmp/test_intel_filter_XXXXXX";
	int fd = mkstemp(p);
	assert_true(fd >= 0);
	close(fd);
	om_intel_builder *b = mk();
	enum { N = 100000 };
	char v[64];
	for (unsigned i = 0; i < N; i++) {
		snprintf(v, sizeof(v), "d%u.c2-%u.example", i, i % 1000);
		assert_int_equal(add(b, OM_INTEL_DOMAIN, v, "f", 80, 0), 0);
	}
	assert_int_equal(om_intel_builder_write(b, p), 0);
	om_intel_builder_free(b);
	om_intel_db *db = NULL;
	assert_int_equal(om_intel_db_open(p, &db), 0);
	om_intel_hit h;
	for (unsigned i = 0; i < N; i++) {
		int k = snprintf(v, sizeof(v), "d%u.c2-%u.example", i, i % 1000);
		assert_true(om_intel_db_filter_passes(db, OM_INTEL_DOMAIN, (const uint8_t *)v,
		                                      (size_t)k));
		if (i % 97 == 0)
			assert_int_equal(om_intel_db_lookup_domain(db, v, (size_t)k, 0, &h), 0);
	}
	unsigned passed = 0;
	for (unsigned i = 0; i < N; i++) {
		int k = snprintf(v, sizeof(v), "www.n%u.office.example", i);
		passed += om_intel_db_filter_passes(db, OM_INTEL_DOMAIN, (const uint8_t *)v, (size_t)k);
		assert_int_equal(om_intel_db_lookup_domain(db, v, (size_t)k, 0, &h), -ENOENT);
	}
	assert_true(passed < N / 15);
	/* another type's key of the same bytes is another record */
	int k = snprintf(v, sizeof(v), "d1.c2-1.example");
	assert_int_equal(om_intel_db_lookup(db, OM_INTEL_URL, v, (size_t)k, 0, &h), -ENOENT);
	om_intel_db_close(db);
	unlink(p);
}

static void test_import(void **state)
{
	(void)state;
	om_intel_builder *b = mk();
	om_intel_import_stats st;
	memset(&st, 0, sizeof(st));
	const char *plain = "# list\n192.0.2.9\n\nbad value here\nbad.example # trailing comment\n";
	assert_int_equal(om_intel_import_buf(b, OM_INTEL_FMT_AUTO, plain, strlen(plain), NULL, &st),
	                 0);
	assert_int_equal(st.format, OM_INTEL_FMT_PLAIN);
	assert_int_equal(st.added, 2);
	assert_int_equal(st.rejected, 1);
	assert_int_equal(st.nproblems, 1);
	assert_int_equal(st.problem[0].line, 4);
	assert_false(st.problem[0].object);
	om_intel_hit h;
	assert_int_equal(om_intel_builder_lookup(b, OM_INTEL_AUTO, "bad.example", 11, 0, &h), 0);
	assert_string_equal(h.source, "local");
	/* CSV with quoted fields holding commas, a named source column */
	memset(&st, 0, sizeof(st));
	const char *csv = "value,source,confidence\n\"evil,comma.example\",x,1\n"
	                  "\"q.example\",\"feed, one\",101\n";
	assert_int_equal(om_intel_import_buf(b, OM_INTEL_FMT_AUTO, csv, strlen(csv), NULL, &st), 0);
	assert_int_equal(st.format, OM_INTEL_FMT_CSV);
	assert_int_equal(st.added, 1);
	assert_int_equal(st.rejected, 1);
	assert_int_equal(st.problem[0].line, 2);
	assert_int_equal(om_intel_builder_lookup(b, OM_INTEL_AUTO, "q.example", 9, 0, &h), 0);
	assert_string_equal(h.source, "feed, one");
	assert_int_equal(h.confidence, 100);
	/* JSON syntax error: the line */
	memset(&st, 0, sizeof(st));
	const char *bad = "{\"type\": \"bundle\",\n\"objects\": [\n}\n";
	assert_int_equal(om_intel_import_buf(b, OM_INTEL_FMT_STIX, bad, strlen(bad), NULL, &st),
	                 -EINVAL);
	assert_int_equal(st.problem[0].line, 3);
	/* STIX: an AND of two comparisons gives both values */
	memset(&st, 0, sizeof(st));
	const char *stix =
	    "{\"type\":\"bundle\",\"objects\":[{\"type\":\"indicator\",\"pattern_type\":"
	    "\"stix\",\"pattern\":\"[domain-name:value = 'a.stix.example' AND "
	    "ipv4-addr:value = '192.0.2.77']\"}]}";
	assert_int_equal(om_intel_import_buf(b, OM_INTEL_FMT_AUTO, stix, strlen(stix), NULL, &st),
	                 0);
	assert_int_equal(st.format, OM_INTEL_FMT_STIX);
	assert_int_equal(st.added, 2);
	assert_int_equal(om_intel_builder_lookup(b, OM_INTEL_AUTO, "192.0.2.77", 10, 0, &h), 0);
	assert_string_equal(h.source, "stix");
	/* MISP composite types keep the address */
	memset(&st, 0, sizeof(st));
	const char *misp = "{\"Event\":{\"Attribute\":[{\"type\":\"ip-dst|port\",\"value\":"
	                   "\"192.0.2.78|8443\"}]}}";
	assert_int_equal(om_intel_import_buf(b, OM_INTEL_FMT_AUTO, misp, strlen(misp), NULL, &st),
	                 0);
	assert_int_equal(st.format, OM_INTEL_FMT_MISP);
	assert_int_equal(om_intel_builder_lookup(b, OM_INTEL_AUTO, "192.0.2.78", 10, 0, &h), 0);
	assert_string_equal(h.source, "misp");
	om_intel_builder_free(b);
}

static void test_live_reload(void **state)
{
	(void)state;
	char p[] = "/tmp/test_intel_live_XXXXXX";
	int fd = mkstemp(p);
	assert_true(fd >= 0);
	close(fd);
	om_intel_builder *b = mk();
	assert_int_equal(add(b, OM_INTEL_IP, "192.0.2.1", "one", 50, 0), 0);
	assert_int_equal(om_intel_builder_write(b, p), 0);
	om_intel_builder_free(b);
	om_intel_live *l = NULL;
	assert_int_equal(om_intel_live_open(p, 2, &l), 0);
	const om_intel_db *d0 = om_intel_live_get(l, 0);
	const om_intel_db *d1 = om_intel_live_get(l, 1);
	assert_ptr_equal(d0, d1);
	assert_int_equal(om_intel_live_reload(l), 0); /* unchanged */
	/* a new file renamed over the old one */
	b = mk();
	assert_int_equal(add(b, OM_INTEL_IP, "192.0.2.2", "two", 50, 0), 0);
	assert_int_equal(om_intel_builder_write(b, p), 0);
	om_intel_builder_free(b);
	assert_int_equal(om_intel_live_reload(l), 1);
	assert_int_equal(om_intel_live_generation(l), 2);
	/* worker 1 has not taken the new one yet: its old mapping still works */
	om_intel_hit h;
	assert_int_equal(om_intel_db_lookup(d1, OM_INTEL_IP, "192.0.2.1", 9, 0, &h), 0);
	const om_intel_db *n0 = om_intel_live_get(l, 0);
	assert_int_equal(om_intel_db_lookup(n0, OM_INTEL_IP, "192.0.2.2", 9, 0, &h), 0);
	assert_int_equal(om_intel_db_lookup(n0, OM_INTEL_IP, "192.0.2.1", 9, 0, &h), -ENOENT);
	assert_int_equal(om_intel_db_lookup(d1, OM_INTEL_IP, "192.0.2.1", 9, 0, &h), 0);
	(void)om_intel_live_get(l, 1);
	/* a damaged replacement is refused; the good one stays */
	/* (replaced by rename, as every writer must: a file changed in place
	 * would change under the mapping) */
	char q[64];
	snprintf(q, sizeof(q), "%s.new", p);
	FILE *f = fopen(q, "wb");
	fputs("garbage that is longer than nothing", f);
	fclose(f);
	assert_int_equal(rename(q, p), 0);
	assert_int_equal(om_intel_live_reload(l), -EINVAL);
	assert_int_equal(
	    om_intel_db_lookup(om_intel_live_get(l, 0), OM_INTEL_IP, "192.0.2.2", 9, 0, &h), 0);
	om_intel_live_free(l);
	unlink(p);
}

struct seen {
	unsigned n;
	char field[32], host[64], ind[64];
};

static void on_ev(void *user, om_flow *f, const om_intel_event *ev)
{
	(void)f;
	struct seen *s = user;
	s->n++;
	snprintf(s->field, sizeof(s->field), "%s", ev->field);
	om_addr_str(&ev->host, s->host, sizeof(s->host));
	om_intel_hit_text(ev->hit, s->ind, sizeof(s->ind));
}

static void test_flow_start(void **state)
{
	(void)state;
	char p[] = "/tmp/test_intel_flow_XXXXXX";
	int fd = mkstemp(p);
	assert_true(fd >= 0);
	close(fd);
	om_intel_builder *b = mk();
	assert_int_equal(add(b, OM_INTEL_IP, "203.0.113.0/24", "net", 80, 0), 0);
	assert_int_equal(add(b, OM_INTEL_IP, "198.51.100.5", "low", 10, 0), 0);
	assert_int_equal(om_intel_builder_write(b, p), 0);
	om_intel_builder_free(b);
	om_base_config base;
	memset(&base, 0, sizeof(base));
	om_cidr_parse("192.168.0.0/16", &base.home_net.net[0]);
	base.home_net.count = 1;
	struct seen s;
	memset(&s, 0, sizeof(s));
	om_intel_matcher m = {.base = &base, .min_confidence = 50, .cb = on_ev, .user = &s};
	assert_int_equal(om_intel_live_open(p, 1, &m.live), 0);
	om_flow f;
	memset(&f, 0, sizeof(f));
	om_addr_parse("192.168.1.5", &f.cli);
	om_addr_parse("203.0.113.9", &f.srv);
	f.last = 1000000;
	assert_true(om_intel_flow_start(&m, 0, &f));
	assert_int_equal(s.n, 1);
	assert_string_equal(s.field, "flow.dest_ip");
	assert_string_equal(s.host, "192.168.1.5");
	assert_string_equal(s.ind, "203.0.113.0/24");
	assert_true(f.flags & OM_FLOW_F_ALERTED);
	assert_false(f.flags & OM_FLOW_F_DROP);
	/* inbound: the internal host is the server */
	memset(&f, 0, sizeof(f));
	om_addr_parse("203.0.113.10", &f.cli);
	om_addr_parse("192.168.1.6", &f.srv);
	m.block = true;
	assert_true(om_intel_flow_start(&m, 0, &f));
	assert_string_equal(s.field, "flow.src_ip");
	assert_string_equal(s.host, "192.168.1.6");
	assert_true(f.flags & OM_FLOW_F_DROP);
	/* below min-confidence: nothing */
	memset(&f, 0, sizeof(f));
	om_addr_parse("192.168.1.5", &f.cli);
	om_addr_parse("198.51.100.5", &f.srv);
	assert_false(om_intel_flow_start(&m, 0, &f));
	assert_int_equal(s.n, 2);
	/* an address the database does not list (remembered as such), then a
	 * database that lists it and one of the office's own addresses: the
	 * reload forgets what the old one did not list; an address in
	 * home-net is no indicator, the outside end alone is looked up */
	memset(&f, 0, sizeof(f));
	om_addr_parse("192.168.1.7", &f.cli);
	om_addr_parse("198.51.100.99", &f.srv);
	m.block = false;
	assert_false(om_intel_flow_start(&m, 0, &f));
	assert_false(om_intel_flow_start(&m, 0, &f));
	b = mk();
	assert_int_equal(add(b, OM_INTEL_IP, "198.51.100.99", "new", 80, 0), 0);
	assert_int_equal(add(b, OM_INTEL_IP, "192.168.1.7", "inside", 80, 0), 0);
	char q[sizeof(p) + 4];
	snprintf(q, sizeof(q), "%s.new", p);
	assert_int_equal(om_intel_builder_write(b, q), 0);
	om_intel_builder_free(b);
	assert_int_equal(rename(q, p), 0);
	assert_int_equal(om_intel_live_reload(m.live), 1);
	s.n = 0;
	assert_true(om_intel_flow_start(&m, 0, &f));
	assert_int_equal(s.n, 1);
	assert_string_equal(s.field, "flow.dest_ip");
	assert_string_equal(s.ind, "198.51.100.99");
	/* without home-net both ends are looked up */
	m.base = NULL;
	s.n = 0;
	assert_true(om_intel_flow_start(&m, 0, &f));
	assert_int_equal(s.n, 2);
	om_intel_live_free(m.live);
	unlink(p);
}

/* A DNS response as the parser shows it to observers: its answers'
 * addresses and names in text. */
struct fake_tx {
	om_proto_tx tx;
	const char *ans[8];
};

static const uint8_t *fake_buffer(const om_proto_tx *tx, enum om_tx_buf b, uint32_t idx,
                                  uint32_t *ret_len)
{
	const struct fake_tx *t = (const struct fake_tx *)tx;
	if (b != OM_TXB_DNS_ANSWER_NAME || idx >= 8 || !t->ans[idx])
		return NULL;
	*ret_len = (uint32_t)strlen(t->ans[idx]);
	return (const uint8_t *)t->ans[idx];
}

/* An intel observer's worker over a database written from b (freed here),
 * with a flow and a DNS answer transaction to give it. */
struct dns_obs {
	char path[32];
	struct seen s;
	om_intel_matcher m;
	om_proto_observer o;
	void *w;
	om_flow f;
	struct fake_tx t;
};

static void dns_obs_open(struct dns_obs *x, om_intel_builder *b)
{
	memset(x, 0, sizeof(*x));
	snprintf(x->path, sizeof(x->path), "/tmp/test_intel_dns_XXXXXX");
	int fd = mkstemp(x->path);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(om_intel_builder_write(b, x->path), 0);
	om_intel_builder_free(b);
	x->m = (om_intel_matcher){.min_confidence = 50, .cb = on_ev, .user = &x->s};
	assert_int_equal(om_intel_live_open(x->path, 1, &x->m.live), 0);
	om_intel_observer(&x->o, &x->m);
	x->w = x->o.worker_new(x->o.user, 0);
	assert_non_null(x->w);
	x->f.last = 1000000;
	x->t.tx.app_proto = "dns";
	x->t.tx.dir = OM_DIR_TOCLIENT;
	x->t.tx.progress = OM_TX_REQUEST | OM_TX_RESPONSE;
	x->t.tx.buffer = fake_buffer;
}

static void dns_obs_close(struct dns_obs *x)
{
	x->o.worker_free(x->w, x->o.user);
	om_intel_live_free(x->m.live);
	unlink(x->path);
}

/* Answers are addresses when inet_pton takes them (dotted IPv4 without
 * leading zeros, IPv6) and names otherwise: an address in the database
 * matches as "dns.answer", a name shaped like an address is looked up as
 * a name. */
static void test_dns_answers(void **state)
{
	(void)state;
	om_intel_builder *b = mk();
	assert_int_equal(add(b, OM_INTEL_IP, "203.0.113.7", "v4", 80, 0), 0);
	assert_int_equal(add(b, OM_INTEL_IP, "2001:db8::7", "v6", 80, 0), 0);
	assert_int_equal(add(b, OM_INTEL_DOMAIN, "c2.example", "name", 80, 0), 0);
	struct dns_obs x;
	dns_obs_open(&x, b);
	static const struct {
		const char *ans;
		bool hit;
		const char *ind;
	} cases[] = {
	    {"203.0.113.7", true, "203.0.113.7"},
	    {"2001:db8::7", true, "2001:db8::7"},
	    {"203.0.113.07", false, NULL},  /* a leading zero: no address */
	    {"203.0.113.7.", false, NULL},  /* a name */
	    {"203.0.113", false, NULL},     /* three numbers */
	    {"203.0.113.7.1", false, NULL}, /* five */
	    {"203.0.113.256", false, NULL}, /* past 255 */
	    {"0.0.0.0", false, NULL},
	    {"www.c2.example", true, "c2.example"},
	    {"c2.example.org", false, NULL},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		x.t.ans[0] = cases[i].ans;
		unsigned n = x.s.n;
		enum om_tx_verdict v = x.o.on_tx(x.w, &x.f, &x.t.tx);
		assert_int_equal(v, cases[i].hit ? OM_TX_VERDICT_ALERT : OM_TX_VERDICT_ACCEPT);
		assert_int_equal(x.s.n, n + (cases[i].hit ? 1 : 0));
		if (cases[i].hit) {
			assert_string_equal(x.s.field, "dns.answer");
			assert_string_equal(x.s.ind, cases[i].ind);
		}
	}
	/* several answers: every one is looked at */
	x.t.ans[0] = "www.unlisted.example";
	x.t.ans[1] = "198.51.100.1";
	x.t.ans[2] = "203.0.113.7";
	x.s.n = 0;
	assert_int_equal(x.o.on_tx(x.w, &x.f, &x.t.tx), OM_TX_VERDICT_ALERT);
	assert_int_equal(x.s.n, 1);
	dns_obs_close(&x);
}

/* Answers against a database of every address (0.0.0.0/0, ::/0): an
 * answer matches exactly when om_addr_parse takes it for an address, for
 * strings of digits, dots, colons and a few letters (the matcher parses
 * IPv4 text itself). */
static void test_dns_answers_parse(void **state)
{
	(void)state;
	om_intel_builder *b = mk();
	assert_int_equal(add(b, OM_INTEL_IP, "0.0.0.0/0", "all4", 80, 0), 0);
	assert_int_equal(add(b, OM_INTEL_IP, "::/0", "all6", 80, 0), 0);
	struct dns_obs d;
	dns_obs_open(&d, b);
	static const char alpha[] = "0123456789.....::ax";
	uint32_t x = 12345;
	unsigned hits = 0;
	for (int i = 0; i < 20000; i++) {
		char str[24];
		x = x * 1103515245u + 12345u;
		size_t n = (x >> 16) % 20;
		for (size_t k = 0; k < n; k++) {
			x = x * 1103515245u + 12345u;
			str[k] = alpha[(x >> 16) % (sizeof(alpha) - 1)];
		}
		str[n] = '\0';
		if (i % 7 == 0 && n >= 7) /* more of the dotted quads */
			snprintf(str, sizeof(str), "%u.%u.%u.%u", (x >> 8) % 300, (x >> 12) % 260,
			         (x >> 4) % 10, (x >> 20) % 256);
		om_addr a;
		bool want = om_addr_parse(str, &a) == 0;
		d.t.ans[0] = str;
		unsigned before = d.s.n;
		d.o.on_tx(d.w, &d.f, &d.t.tx);
		assert_int_equal(d.s.n - before, want ? 1u : 0u);
		hits += want;
	}
	assert_true(hits > 500);
	dns_obs_close(&d);
}

/* The database of each tenant: its policy's intel.db, the "default"
 * entry's, the shared intel.db; a bad intel: part names file and line. */
static void test_tenant_db(void **state)
{
	(void)state;
	static om_guard_config g;
	om_config_part parts[] = {{&om_guard_config_schema, &g}};
	om_config_defaults(parts, 1);
	assert_null(om_guard_intel_db(&g, "office-a")); /* nothing configured */
	char cfg[] = "/tmp/omamori-intel-tenants-XXXXXX";
	int fd = mkstemp(cfg);
	assert_true(fd >= 0);
	const char *y = "intel:\n  db: /srv/shared.db\npolicy:\n  tenants:\n    office-a:\n"
	                "      intel:\n        db: /srv/a.db\n    office-b:\n      appctl:\n"
	                "        sns: block\n";
	assert_int_equal(write(fd, y, strlen(y)), (ssize_t)strlen(y));
	close(fd);
	char err[512] = "";
	assert_int_equal(om_config_load(parts, 1, cfg, err, sizeof(err)), 0);
	assert_string_equal(om_guard_intel_db(&g, "office-a"), "/srv/a.db");
	assert_string_equal(om_guard_intel_db(&g, "office-b"), "/srv/shared.db");
	assert_string_equal(om_guard_intel_db(&g, "office-z"), "/srv/shared.db");
	assert_string_equal(om_guard_intel_db(&g, NULL), "/srv/shared.db");
	/* a "default" entry with a database serves tenants without an entry */
	y = "policy:\n  tenants:\n    default:\n      intel:\n        db: /srv/d.db\n"
	    "    office-a:\n      intel:\n        db: /srv/a.db\n";
	fd = open(cfg, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, y, strlen(y)), (ssize_t)strlen(y));
	close(fd);
	om_config_defaults(parts, 1);
	assert_int_equal(om_config_load(parts, 1, cfg, err, sizeof(err)), 0);
	assert_string_equal(om_guard_intel_db(&g, "office-a"), "/srv/a.db");
	assert_string_equal(om_guard_intel_db(&g, "office-z"), "/srv/d.db");
	/* intel: takes db: only */
	y = "policy:\n  tenants:\n    x:\n      intel:\n        path: /srv/x.db\n";
	fd = open(cfg, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, y, strlen(y)), (ssize_t)strlen(y));
	close(fd);
	assert_int_equal(om_config_load(parts, 1, cfg, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, ":5"));
	assert_non_null(strstr(err, "intel:"));
	unlink(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_detect),     cmocka_unit_test(test_threat_words),
	    cmocka_unit_test(test_addresses),  cmocka_unit_test(test_names_urls_hashes),
	    cmocka_unit_test(test_expiry),     cmocka_unit_test(test_file), cmocka_unit_test(test_filter),
	    cmocka_unit_test(test_import),     cmocka_unit_test(test_live_reload),
	    cmocka_unit_test(test_flow_start), cmocka_unit_test(test_dns_answers), cmocka_unit_test(test_dns_answers_parse),
	    cmocka_unit_test(test_tenant_db),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
