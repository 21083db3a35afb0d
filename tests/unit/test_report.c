/* Unit tests for the monthly report: counts per category from a database of
 * known events, "not monitored" versus 0, the JSON form, HTML escaping of
 * hostile names, languages and option validation. */
#include <dirent.h>
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

#include "../store/backend.h"
#include "report/report.h"

/* 2024-06-01T00:00:00Z = 1704067200 (2024-01-01) + 152 days * 86400. */
#define JUNE1_2024 1717200000ull
#define MAY1_2024 (JUNE1_2024 - 31ull * 86400ull)
#define DAY 86400ull
#define HOUR 3600ull
#define HOSTILE "<script>alert(1)</script>\"&'"

struct fixture {
	char dir[256];
	char path[640];
	om_store *s;
	struct tmpdb t; /* on PostgreSQL (tests/store/with-pg) */
};

static unsigned seq;

static void add(om_store *s, const char *tenant, const char *cat, uint64_t ts_sec, const char *src,
                const char *dst)
{
	char eve[256];
	om_store_event ev = {0};
	snprintf(eve, sizeof(eve), "{\"event_type\":\"alert\",\"seq\":%u}", seq++);
	ev.ts = ts_sec * 1000000ull;
	ev.tenant = tenant;
	ev.gateway = "gw1";
	ev.event_type = "alert";
	ev.category = cat;
	ev.severity = 2;
	ev.action = "blocked";
	ev.src_ip = src;
	ev.dest_ip = dst;
	ev.proto = "TCP";
	ev.eve_json = eve;
	assert_int_equal(om_store_add_event(s, &ev), 0);
}

/* Marks hours [first, first + n) from day0 (seconds) watched for cat. */
static int watch(om_store *s, const char *tenant, const char *cat, uint64_t day0, unsigned first,
                 unsigned n)
{
	for (unsigned h = first; h < first + n; h++) {
		if (om_store_add_watched(s, tenant, "gw1", cat, (day0 + h * HOUR) * 1000000ull,
		                         10) < 0)
			return -1;
	}
	return 0;
}

/* acme, May 2024: the gateway watched recon, c2, web_malware and spam every
 * hour of May; harmful_web only on 05-02 (old per-day coverage record).
 *   recon        4: 3 on 05-01 from 203.0.113.9, 1 on 05-31 23:59:59 from
 *                   203.0.113.7 (plus one on 06-01 00:00:00, June)
 *   c2           2: on 05-10 from 192.168.1.5 to 198.51.100.1
 *   web_malware  1: on 05-15
 *   mail_malware not monitored
 *   spam         5: on 05-20
 *   harmful_web  0: monitored on 05-02 (coverage), no events
 * big: 1234 spam on 05-03. HOSTILE: 1 recon on 05-04.
 * leap: recon coverage on 2024-02-10 and 2023-02-10.
 * short: a 30 ms capture on 2024-05-07 at 10:00:00.010, recon and c2
 *   watched that one hour, no events.
 * twopk: one packet at 1970-01-01T00:00:00.5Z, one at 2024-05-03T10:20:30Z.
 * parted: recon and c2 watched all May, spam on days 1 to 12, no events. */
static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[256];
	const char *base = getenv("TMPDIR");

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "%s/omamori-report-XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/events.db", f->dir);
	if (tb_pg()) {
		tmpdb_make(&f->t);
		snprintf(f->path, sizeof(f->path), "%s", f->t.path);
	}
	if (om_store_open(f->path, &f->s, err, sizeof(err)) < 0)
		return -1;
	om_store *s = f->s;
	add(s, "acme", "recon", MAY1_2024 + 60, "203.0.113.9", "192.168.1.10");
	add(s, "acme", "recon", MAY1_2024 + 120, "203.0.113.9", "192.168.1.10");
	add(s, "acme", "recon", MAY1_2024 + 180, "203.0.113.9", "192.168.1.11");
	add(s, "acme", "recon", JUNE1_2024 - 1, "203.0.113.7", "192.168.1.10");
	add(s, "acme", "recon", JUNE1_2024, "203.0.113.6", "192.168.1.10");
	add(s, "acme", "c2", MAY1_2024 + 9 * DAY + 5, "192.168.1.5", "198.51.100.1");
	add(s, "acme", "c2", MAY1_2024 + 9 * DAY + 6, "192.168.1.5", "198.51.100.1");
	add(s, "acme", "web_malware", MAY1_2024 + 14 * DAY, "198.51.100.80", "192.168.1.7");
	for (int i = 0; i < 5; i++)
		add(s, "acme", "spam", MAY1_2024 + 19 * DAY + (uint64_t)i, "198.51.100.25",
		    "192.168.1.3");
	if (om_store_add_coverage(s, "acme", "gw1", "harmful_web", "2024-05-02") < 0)
		return -1;
	if (watch(s, "acme", "recon", MAY1_2024, 0, 31 * 24) < 0 ||
	    watch(s, "acme", "c2", MAY1_2024, 0, 31 * 24) < 0 ||
	    watch(s, "acme", "web_malware", MAY1_2024, 0, 31 * 24) < 0 ||
	    watch(s, "acme", "spam", MAY1_2024, 0, 31 * 24) < 0)
		return -1;
	const om_usec short_ts = ((MAY1_2024 + 6 * DAY + 10 * HOUR) * 1000000ull) + 10000;
	if (om_store_add_watched(s, "short", "gw1", "recon", short_ts, 3) < 0 ||
	    om_store_add_watched(s, "short", "gw1", "c2", short_ts, 3) < 0)
		return -1;
	if (om_store_add_watched(s, "twopk", "gw1", "recon", 500000, 1) < 0 ||
	    om_store_add_watched(s, "twopk", "gw1", "recon",
	                         (MAY1_2024 + 2 * DAY + 10 * HOUR + 1230) * 1000000ull, 1) < 0)
		return -1;
	if (watch(s, "parted", "recon", MAY1_2024, 0, 31 * 24) < 0 ||
	    watch(s, "parted", "c2", MAY1_2024, 0, 31 * 24) < 0 ||
	    watch(s, "parted", "spam", MAY1_2024, 0, 12 * 24) < 0)
		return -1;
	/* bakery: only scans watched (all May), 7 scans */
	if (watch(s, "bakery", "recon", MAY1_2024, 0, 31 * 24) < 0)
		return -1;
	for (int i = 0; i < 7; i++)
		add(s, "bakery", "recon", MAY1_2024 + (uint64_t)i * DAY, "203.0.113.50",
		    "192.168.1.20");
	for (int i = 0; i < 1234; i++)
		add(s, "big", "spam", MAY1_2024 + 2 * DAY + (uint64_t)i, "198.51.100.25",
		    "192.168.1.3");
	add(s, HOSTILE, "recon", MAY1_2024 + 3 * DAY, "<img src=x onerror=alert(1)>",
	    "192.168.1.10");
	if (om_store_add_coverage(s, "leap", "gw1", "recon", "2024-02-10") < 0 ||
	    om_store_add_coverage(s, "leap", "gw1", "recon", "2023-02-10") < 0)
		return -1;
	/* the fixture's counts are by UTC days */
	const char *utc[] = {"acme", "short", "twopk", "parted", "big", HOSTILE, "leap", "bakery"};
	for (size_t i = 0; i < sizeof(utc) / sizeof(utc[0]); i++) {
		if (om_store_tenant_meta_set(s, utc[i], "timezone", "UTC") < 0)
			return -1;
	}
	if (om_store_flush(s) < 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char p[660];
	const char *suffix[] = {"", "-wal", "-shm"};
	om_store_close(f->s);
	if (f->t.name[0])
		tmpdb_remove(&f->t);
	for (size_t i = 0; !f->t.name[0] && i < 3; i++) {
		snprintf(p, sizeof(p), "%s%s", f->path, suffix[i]);
		unlink(p);
	}
	rmdir(f->dir);
	free(f);
	return 0;
}

static int build(struct fixture *f, const char *tenant, const char *month,
                 enum om_report_format fmt, enum om_lang lang, om_buf *out, char *err,
                 size_t errlen)
{
	om_report_opts o = {.tenant = tenant, .month = month, .format = fmt, .lang = lang};
	om_buf_init(out, 8u << 20);
	return om_report_build(f->s, &o, out, err, errlen);
}

static size_t count_occ(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

/* True if a catalogue key leaked into the output (a missing message). */
static bool has_key(const char *s)
{
	const char *keys[] = {"report.title",     "report.label.",        "report.summary.",
	                      "report.category.", "report.not_monitored", "report.count",
	                      "report.chart.",    "report.top_",          "report.col.",
	                      "report.none",      "report.footer",        "report.generated_from",
	                      "report.overview.", "report.categories."};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (strstr(s, keys[i]))
			return true;
	}
	return false;
}

/* The text of HTML with the <wbr> line-break hints taken out and U+00A0
 * back to spaces (in place). */
static const char *no_wbr(const char *html)
{
	char *h = (char *)html, *o = h;
	for (const char *p = h; *p;) {
		if (!strncmp(p, "<wbr>", 5)) {
			p += 5;
			continue;
		}
		if (!strncmp(p, "\xc2\xa0", 2)) { /* a space kept with its number */
			*o++ = ' ';
			p += 2;
			continue;
		}
		*o++ = *p++;
	}
	*o = 0;
	return h;
}

/* ---- a small strict JSON checker (RFC 8259 grammar, no extensions) ---- */
static const char *js_value(const char *p, int depth);
static const char *js_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}
static const char *js_string(const char *p)
{
	if (*p++ != '"')
		return NULL;
	while (*p != '"') {
		unsigned char c = (unsigned char)*p;
		if (c < 0x20)
			return NULL;
		if (c == '\\') {
			p++;
			if (*p == 'u') {
				for (int i = 1; i <= 4; i++) {
					char h = p[i];
					if (!((h >= '0' && h <= '9') || (h >= 'a' && h <= 'f') ||
					      (h >= 'A' && h <= 'F')))
						return NULL;
				}
				p += 5;
				continue;
			}
			if (!strchr("\"\\/bfnrt", *p) || !*p)
				return NULL;
		}
		p++;
	}
	return p + 1;
}
static const char *js_number(const char *p)
{
	if (*p == '-')
		p++;
	if (*p == '0')
		p++;
	else if (*p >= '1' && *p <= '9')
		while (*p >= '0' && *p <= '9')
			p++;
	else
		return NULL;
	if (*p == '.') {
		p++;
		if (!(*p >= '0' && *p <= '9'))
			return NULL;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	return p;
}
static const char *js_value(const char *p, int depth)
{
	if (depth > 32)
		return NULL;
	p = js_ws(p);
	if (*p == '{' || *p == '[') {
		char close = *p == '{' ? '}' : ']';
		bool obj = *p == '{';
		p = js_ws(p + 1);
		if (*p == close)
			return p + 1;
		for (;;) {
			if (obj) {
				p = js_string(js_ws(p));
				if (!p)
					return NULL;
				p = js_ws(p);
				if (*p++ != ':')
					return NULL;
			}
			p = js_value(p, depth + 1);
			if (!p)
				return NULL;
			p = js_ws(p);
			if (*p == close)
				return p + 1;
			if (*p++ != ',')
				return NULL;
		}
	}
	if (*p == '"')
		return js_string(p);
	if (!strncmp(p, "true", 4))
		return p + 4;
	if (!strncmp(p, "false", 5))
		return p + 5;
	if (!strncmp(p, "null", 4))
		return p + 4;
	return js_number(p);
}
static bool json_valid(const char *s)
{
	const char *p = js_value(s, 0);
	return p && *js_ws(p) == 0;
}

/* The JSON text of one category object: from its "category" key up to the
 * next category (or the end). Returned in buf. */
static const char *cat_segment(const char *json, const char *cat, char *buf, size_t n)
{
	char key[64];
	snprintf(key, sizeof(key), "{\"category\":\"%s\"", cat);
	const char *p = strstr(json, key);
	assert_non_null(p);
	const char *e = strstr(p + 1, "{\"category\":");
	size_t len = e ? (size_t)(e - p) : strlen(p);
	assert_true(len < n);
	memcpy(buf, p, len);
	buf[len] = 0;
	return buf;
}

static void test_json_counts(void **state)
{
	struct fixture *f = *state;
	om_buf b;
	char err[256] = "";
	static char seg[32768];

	assert_int_equal(
	    build(f, "acme", "2024-05", OM_REPORT_JSON, OM_LANG_EN, &b, err, sizeof(err)), 0);
	const char *j = om_buf_cstr(&b);
	assert_true(json_valid(j));
	/* the union of the categories: every hour of May */
	assert_non_null(strstr(j, "{\"tenant\":\"acme\",\"month\":\"2024-05\",\"lang\":\"en\","
	                          "\"generated_from\":\"capture timestamps\",\"days_in_month\":31,"
	                          "\"watched_days\":31,\"watched_hours\":744,\"categories\":["));

	/* all six, in report order */
	const char *order[] = {"recon", "c2", "web_malware", "mail_malware", "spam", "harmful_web"};
	const char *prev = j;
	for (size_t i = 0; i < 6; i++) {
		char key[64];
		snprintf(key, sizeof(key), "\"category\":\"%s\"", order[i]);
		const char *p = strstr(j, key);
		assert_non_null(p);
		assert_true(p > prev);
		prev = p;
		assert_int_equal(count_occ(j, key), 1);
	}
	assert_int_equal(count_occ(j, "\"category\":"), 6);

	assert_non_null(strstr(j, "\"category\":\"recon\",\"monitored\":true,\"count\":4,"));
	assert_non_null(strstr(j, "\"category\":\"c2\",\"monitored\":true,\"count\":2,"));
	assert_non_null(strstr(j, "\"category\":\"web_malware\",\"monitored\":true,\"count\":1,"));
	assert_non_null(
	    strstr(j, "\"category\":\"mail_malware\",\"monitored\":false,\"count\":null,"));
	assert_non_null(strstr(j, "\"category\":\"spam\",\"monitored\":true,\"count\":5,"));
	assert_non_null(strstr(j, "\"category\":\"harmful_web\",\"monitored\":true,\"count\":0,"));
	/* watched time per category */
	assert_non_null(strstr(j, "\"count\":4,\"watched_days\":31,\"watched_hours\":744,"
	                          "\"days_in_month\":31,"));
	assert_non_null(strstr(j, "\"mail_malware\",\"monitored\":false,\"count\":null,"
	                          "\"watched_days\":0,\"watched_hours\":0,\"days_in_month\":31,"));
	assert_non_null(strstr(j, "\"harmful_web\",\"monitored\":true,\"count\":0,"
	                          "\"watched_days\":1,\"watched_hours\":24,\"days_in_month\":31,"));

	/* recon: every day of May, with the events on the 1st and the 31st */
	cat_segment(j, "recon", seg, sizeof(seg));
	assert_int_equal(count_occ(seg, "{\"day\":"), 31);
	assert_non_null(strstr(seg, "{\"day\":\"2024-05-01\",\"count\":3,\"watched_hours\":24}"));
	assert_non_null(strstr(seg, "{\"day\":\"2024-05-02\",\"count\":0,\"watched_hours\":24}"));
	assert_non_null(strstr(seg, "{\"day\":\"2024-05-31\",\"count\":1,\"watched_hours\":24}"));
	assert_null(strstr(seg, "2024-06-01"));
	assert_null(strstr(seg, "2024-05-32"));
	assert_non_null(strstr(seg, "\"top_sources\":[{\"ip\":\"203.0.113.9\",\"count\":3},"
	                            "{\"ip\":\"203.0.113.7\",\"count\":1}]"));
	assert_non_null(strstr(seg, "\"top_targets\":[{\"ip\":\"192.168.1.10\",\"count\":3},"
	                            "{\"ip\":\"192.168.1.11\",\"count\":1}]"));
	assert_non_null(strstr(seg, "\"title\":\"Scans from the internet\""));

	/* not monitored: nothing per day, no tables */
	cat_segment(j, "mail_malware", seg, sizeof(seg));
	assert_non_null(strstr(seg, "\"daily\":[],\"top_sources\":[],\"top_targets\":[]"));

	/* monitored on one day, no events: that day is 0, the 30 days nobody
	 * watched have no count */
	cat_segment(j, "harmful_web", seg, sizeof(seg));
	assert_int_equal(count_occ(seg, "{\"day\":"), 31);
	assert_non_null(strstr(seg, "{\"day\":\"2024-05-02\",\"count\":0,\"watched_hours\":24}"));
	assert_int_equal(count_occ(seg, "\"count\":0,"), 2); /* the category's and 05-02's */
	assert_int_equal(count_occ(seg, "\"count\":null,\"watched_hours\":0}"), 30);
	om_buf_free(&b);

	/* June holds the one event at 2024-06-01T00:00:00Z; nothing else was
	 * monitored in June. */
	assert_int_equal(
	    build(f, "acme", "2024-06", OM_REPORT_JSON, OM_LANG_EN, &b, err, sizeof(err)), 0);
	j = om_buf_cstr(&b);
	assert_true(json_valid(j));
	assert_non_null(strstr(j, "\"category\":\"recon\",\"monitored\":true,\"count\":1,"
	                          "\"watched_days\":1,\"watched_hours\":1,\"days_in_month\":30,"));
	assert_int_equal(count_occ(j, "\"monitored\":false,\"count\":null"), 5);
	cat_segment(j, "recon", seg, sizeof(seg));
	assert_int_equal(count_occ(seg, "{\"day\":"), 30);
	assert_non_null(strstr(seg, "{\"day\":\"2024-06-01\",\"count\":1,\"watched_hours\":1}"));
	assert_int_equal(count_occ(seg, "\"count\":null,\"watched_hours\":0}"), 29);
	om_buf_free(&b);

	/* A month without any data: six times null, never 0. */
	assert_int_equal(
	    build(f, "acme", "2024-03", OM_REPORT_JSON, OM_LANG_JA, &b, err, sizeof(err)), 0);
	j = om_buf_cstr(&b);
	assert_true(json_valid(j));
	assert_int_equal(count_occ(j, "\"monitored\":false,\"count\":null"), 6);
	assert_null(strstr(j, "\"count\":0"));
	assert_non_null(strstr(j, "\"lang\":\"ja\""));
	om_buf_free(&b);
}

static void test_json_leap_and_big(void **state)
{
	struct fixture *f = *state;
	om_buf b;
	char err[256];
	static char seg[32768];

	assert_int_equal(
	    build(f, "leap", "2024-02", OM_REPORT_JSON, OM_LANG_EN, &b, err, sizeof(err)), 0);
	cat_segment(om_buf_cstr(&b), "recon", seg, sizeof(seg));
	assert_int_equal(count_occ(seg, "{\"day\":"), 29);
	assert_non_null(strstr(seg, "2024-02-29"));
	om_buf_free(&b);
	assert_int_equal(
	    build(f, "leap", "2023-02", OM_REPORT_JSON, OM_LANG_EN, &b, err, sizeof(err)), 0);
	cat_segment(om_buf_cstr(&b), "recon", seg, sizeof(seg));
	assert_int_equal(count_occ(seg, "{\"day\":"), 28);
	assert_null(strstr(seg, "2023-02-29"));
	om_buf_free(&b);

	assert_int_equal(
	    build(f, "big", "2024-05", OM_REPORT_JSON, OM_LANG_EN, &b, err, sizeof(err)), 0);
	assert_non_null(strstr(om_buf_cstr(&b), "\"category\":\"spam\",\"monitored\":true,"
	                                        "\"count\":1234,"));
	om_buf_free(&b);
	assert_int_equal(
	    build(f, "big", "2024-05", OM_REPORT_TEXT, OM_LANG_EN, &b, err, sizeof(err)), 0);
	assert_non_null(strstr(om_buf_cstr(&b), "[Spam] 1,234\n"));
	/* spam alone calls for no action on the first page */
	assert_non_null(strstr(om_buf_cstr(&b), "What must I do?\n  - Nothing urgent."));
	om_buf_free(&b);
}

static void test_text(void **state)
{
	struct fixture *f = *state;
	om_buf en, ja;
	char err[256];

	assert_int_equal(
	    build(f, "acme", "2024-05", OM_REPORT_TEXT, OM_LANG_EN, &en, err, sizeof(err)), 0);
	assert_int_equal(
	    build(f, "acme", "2024-05", OM_REPORT_TEXT, OM_LANG_JA, &ja, err, sizeof(err)), 0);
	const char *e = om_buf_cstr(&en), *j = om_buf_cstr(&ja);
	assert_string_not_equal(e, j);

	/* English: the title first, the three questions answered, then one line
	 * per category. From outside: recon 4 + web_malware 1 + spam 5 = 10
	 * (mail not monitored); getting through: c2 = 2. */
	assert_memory_equal(e, "Monthly security report\n", 24);
	const char *q1 = strstr(e, "Were we attacked?");
	const char *q2 = strstr(e, "Did anything get through?");
	const char *q3 = strstr(e, "What must I do?");
	const char *first_cat = strstr(e, "[Scans from the internet] 4\n");
	assert_non_null(q1);
	assert_non_null(q2);
	assert_non_null(q3);
	assert_non_null(first_cat);
	assert_true(q1 < q2 && q2 < q3 && q3 < first_cat);
	/* the attacks sentence names what was watched and seen, in report
	 * order, and nothing else (mail was not watched) */
	assert_non_null(strstr(e,
	                       "Yes. 10 attacks or unwanted items from the internet were recorded "
	                       "(Scans from the internet 4, Malware downloaded from the web 1, "
	                       "Spam 5)."));
	assert_non_null(strstr(e, "servers 2 times"));
	/* not watched: no section of its own, one grouped line at the end */
	assert_null(strstr(e, "[Malware in received email]"));
	assert_non_null(strstr(e, "[Not watched this month] not monitored: Malware in received "
	                          "email\n"));
	/* watched on one day only: never "0" about the other 30 */
	assert_non_null(strstr(e, "Month: 2024-05\nIssued: "));
	assert_non_null(strstr(e,
	                       "\nTime watched: 31 of 31 days (744 of 744 hours)\nMonths, days and "
	                       "times are those of the time zone UTC.\n"));
	assert_null(strstr(e, "No data has been received"));
	assert_non_null(strstr(e,
	                       "[Visits to harmful websites] none seen in the time watched "
	                       "(1 of 31 days)\n  Time watched: 1 of 31 days (24 of 744 hours)\n"));
	assert_null(strstr(e, "[Visits to harmful websites] 0"));
	assert_non_null(strstr(e, "  - Some areas were watched for only part of the month"));
	/* the fully watched ones have no line of their own */
	assert_non_null(strstr(e, "[Scans from the internet] 4\n  Someone on the internet"));
	assert_non_null(strstr(e, "[Suspicious connections from inside to attackers] 2\n"));
	assert_non_null(strstr(e,
	                       "Not watched this month (1 of 6 areas): Malware in received email. "
	                       "Ask your support provider"));
	/* c2 advice comes first in "what must I do" */
	const char *adv_c2 =
	    strstr(e, "  - Suspicious connections from inside to attackers: If there are "
	              "any, call your support provider now.");
	assert_non_null(adv_c2);
	assert_true(adv_c2 > q3 && adv_c2 < first_cat);

	/* Japanese */
	assert_non_null(strstr(j, "月次セキュリティレポート"));
	assert_null(strstr(j, "Monthly security report"));
	assert_non_null(strstr(j, "攻撃を受けましたか？"));
	assert_non_null(strstr(j, "合計 10 件"));
	assert_non_null(strstr(j, "[外部からの偵察（ポートスキャン）] 4 件\n"));
	assert_null(strstr(j, "[メールで届いたウイルス]"));
	assert_non_null(
	    strstr(j, "[今月は監視していなかった項目] 監視対象外: メールで届いたウイルス\n"));
	assert_non_null(
	    strstr(j, "（外部からの偵察（ポートスキャン） 4、Web からダウンロードされたウイルス 1、"
	              "迷惑メール 5）を合計 10 件"));
	assert_non_null(strstr(
	    j, "[有害な Web サイトへのアクセス] 監視した期間（31 日のうち 1 日）には検出なし\n"));
	assert_non_null(strstr(j, "監視した期間: 31 日のうち 31 日（744 時間のうち 744 時間）\n"));
	assert_false(has_key(j)); /* no untranslated key leaked */
	assert_false(has_key(e));
	om_buf_free(&en);
	om_buf_free(&ja);

	/* A month without monitoring: questions answered as unknown. */
	assert_int_equal(
	    build(f, "acme", "2024-03", OM_REPORT_TEXT, OM_LANG_EN, &en, err, sizeof(err)), 0);
	e = om_buf_cstr(&en);
	assert_non_null(strstr(e, "Were we attacked?\n  Not watched this month: this report cannot "
	                          "say"));
	assert_non_null(strstr(e, "Did anything get through?\n  Not watched this month:"));
	assert_null(strstr(e, "Unknown"));
	assert_non_null(strstr(e,
	                       "Not watched this month (6 of 6 areas): Scans from the internet, "
	                       "Suspicious connections from inside to attackers, Malware "
	                       "downloaded from the web, Malware in received email, Spam, Visits "
	                       "to harmful websites. Ask"));
	/* the six unwatched areas share one line and one paragraph */
	assert_int_equal(count_occ(e, "[Not watched this month] not monitored: "), 1);
	assert_int_equal(count_occ(e, "This area was not monitored this month"), 1);
	assert_int_equal(count_occ(e, "\n["), 1);
	om_buf_free(&en);

	/* A hostile tenant cannot send terminal escapes. */
	assert_int_equal(build(f, "evil\x1b[2J\rname", "2024-05", OM_REPORT_TEXT, OM_LANG_EN, &en,
	                       err, sizeof(err)),
	                 0);
	assert_null(strchr(om_buf_cstr(&en), '\x1b'));
	assert_null(strchr(om_buf_cstr(&en), '\r'));
	assert_non_null(strstr(om_buf_cstr(&en), "evil?[2J?name"));
	om_buf_free(&en);
}

static void test_html(void **state)
{
	struct fixture *f = *state;
	om_buf b;
	char err[256];

	assert_int_equal(
	    build(f, "acme", "2024-05", OM_REPORT_HTML, OM_LANG_JA, &b, err, sizeof(err)), 0);
	const char *h = om_buf_cstr(&b);
	assert_memory_equal(h, "<!DOCTYPE html>", 15);
	assert_non_null(strstr(h, "<html lang=\"ja\">"));
	assert_non_null(strstr(h, "月次セキュリティレポート"));
	/* a chart for each of the 5 monitored categories, 31 bars each, each
	 * chart with an accessible title */
	assert_int_equal(count_occ(h, "<svg "), 5);
	assert_int_equal(count_occ(h, "</svg>"), 5);
	assert_int_equal(count_occ(h, "<rect "), 5 * 31);
	assert_int_equal(count_occ(h, "role=\"img\""), 5);
	assert_non_null(strstr(h, "<title id=\"chart-recon-t\">"));
	assert_null(strstr(h, "chart-mail_malware"));
	assert_non_null(strstr(h, "<title>2024-05-01: 3</title>"));
	assert_non_null(strstr(h, "<title>2024-05-02: 0</title>"));
	/* harmful_web was watched on 05-02 only: 30 pale days, no number */
	assert_int_equal(count_occ(h, "<rect class=\"nw\""), 30);
	assert_int_equal(count_occ(h, ": 監視なし</title>"), 30);
	assert_non_null(strstr(h, "監視した期間（31 日のうち 1 日）には検出なし"));
	assert_non_null(strstr(h, "<li class=\"pw\"><a href=\"#cat-harmful_web\">"));
	assert_non_null(strstr(h, "<title>2024-05-31: 1</title>"));
	assert_non_null(strstr(h, "監視対象外"));
	assert_non_null(strstr(h, "<td>203.0.113.9</td><td class=\"c\">3</td>"));
	/* self-contained */
	assert_non_null(strstr(h, "<style>"));
	assert_null(strstr(h, "<link"));
	assert_null(strstr(h, "<script"));
	assert_null(strstr(h, "src="));
	assert_null(strstr(h, "url("));
	assert_null(strstr(h, "@import"));
	assert_false(has_key(h));
	om_buf_free(&b);

	assert_int_equal(
	    build(f, "acme", "2024-05", OM_REPORT_HTML, OM_LANG_EN, &b, err, sizeof(err)), 0);
	h = om_buf_cstr(&b);
	assert_non_null(strstr(h, "<html lang=\"en\">"));
	assert_non_null(strstr(h, "Monthly security report"));
	assert_null(strstr(h, "月次セキュリティレポート"));
	om_buf_free(&b);
}

static void test_html_hostile(void **state)
{
	struct fixture *f = *state;
	om_buf b;
	char err[256];
	int r;

	assert_int_equal(
	    build(f, HOSTILE, "2024-05", OM_REPORT_HTML, OM_LANG_EN, &b, err, sizeof(err)), 0);
	const char *h = om_buf_cstr(&b);
	assert_null(strstr(h, "<script"));
	assert_null(strstr(h, "<img"));
	assert_non_null(strstr(h, "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&amp;&#39;"));
	assert_non_null(strstr(h, "&lt;img src=x onerror=alert(1)&gt;"));
	assert_int_equal(count_occ(h, "<svg "), 1);
	om_buf_free(&b);

	/* JSON stays valid with the same name. */
	assert_int_equal(
	    build(f, HOSTILE, "2024-05", OM_REPORT_JSON, OM_LANG_EN, &b, err, sizeof(err)), 0);
	assert_true(json_valid(om_buf_cstr(&b)));
	assert_non_null(strstr(om_buf_cstr(&b), "\"count\":1,"));
	om_buf_free(&b);

	/* Control characters and bytes that are not UTF-8 in a name. A
	 * PostgreSQL store holds only UTF-8 and refuses the name as bad input. */
	r = build(f, "a\"b\\c\n\x01\xff\xc3", "2024-05", OM_REPORT_JSON, OM_LANG_EN, &b, err,
	          sizeof(err));
	assert_int_equal(r, tb_pg() ? -EINVAL : 0);
	if (r == 0)
		assert_true(json_valid(om_buf_cstr(&b)));
	om_buf_free(&b);
}

/* Finding 6: a 30 ms capture is one watched hour of one day. The month's
 * report says so and never "no attacks this month". */
static void test_short_capture(void **state)
{
	struct fixture *f = *state;
	om_buf b;
	char err[256];
	static char seg[32768];

	assert_int_equal(
	    build(f, "short", "2024-05", OM_REPORT_TEXT, OM_LANG_EN, &b, err, sizeof(err)), 0);
	const char *e = om_buf_cstr(&b);
	assert_non_null(strstr(e, "Time watched: 1 of 31 days (1 of 744 hours)\n"));
	assert_non_null(strstr(e,
	                       "Were we attacked?\n  None seen in the time watched (1 of 31 days)."
	                       " The rest of the month was not watched"));
	assert_non_null(strstr(e, "Did anything get through?\n  No sign of it in the time watched "
	                          "(1 of 31 days)."));
	assert_non_null(strstr(e, "[Scans from the internet] none seen in the time watched "
	                          "(1 of 31 days)\n"));
	assert_null(strstr(e, "this month were recorded"));
	assert_null(strstr(e, "No attacks from the internet were recorded this month"));
	assert_null(strstr(e, "No device in your office contacted"));
	assert_null(strstr(e, "] 0\n"));
	assert_null(strstr(e, "31 of 31"));
	assert_non_null(strstr(e, "  - Some areas were watched for only part of the month"));
	om_buf_free(&b);

	assert_int_equal(
	    build(f, "short", "2024-05", OM_REPORT_TEXT, OM_LANG_JA, &b, err, sizeof(err)), 0);
	e = om_buf_cstr(&b);
	assert_non_null(strstr(e, "監視した期間: 31 日のうち 1 日（744 時間のうち 1 時間）\n"));
	assert_non_null(
	    strstr(e, "監視した期間（31 日のうち 1 日）には、インターネットからの攻撃は"));
	assert_null(strstr(e, "今月はインターネットからの攻撃は記録されていません"));
	assert_null(strstr(e, "] 0 件"));
	om_buf_free(&b);

	assert_int_equal(
	    build(f, "short", "2024-05", OM_REPORT_JSON, OM_LANG_EN, &b, err, sizeof(err)), 0);
	const char *j = om_buf_cstr(&b);
	assert_true(json_valid(j));
	assert_non_null(strstr(j, "\"days_in_month\":31,\"watched_days\":1,\"watched_hours\":1,"));
	assert_non_null(strstr(j, "{\"category\":\"recon\",\"monitored\":true,\"count\":0,"
	                          "\"watched_days\":1,\"watched_hours\":1,\"days_in_month\":31,"));
	cat_segment(j, "recon", seg, sizeof(seg));
	assert_int_equal(count_occ(seg, "{\"day\":"), 31);
	assert_non_null(strstr(seg, "{\"day\":\"2024-05-07\",\"count\":0,\"watched_hours\":1}"));
	assert_int_equal(count_occ(seg, "\"count\":null,\"watched_hours\":0}"), 30);
	om_buf_free(&b);

	assert_int_equal(
	    build(f, "short", "2024-05", OM_REPORT_HTML, OM_LANG_EN, &b, err, sizeof(err)), 0);
	const char *h = om_buf_cstr(&b);
	assert_int_equal(count_occ(h, "<svg "), 2);
	assert_int_equal(count_occ(h, "<rect class=\"nw\""), 2 * 30);
	assert_non_null(strstr(h, "<title>2024-05-07: 0</title>"));
	assert_non_null(strstr(h, "<title>2024-05-08: not watched</title>"));
	assert_non_null(strstr(h, "Time watched: <strong>1 of 31 days (1 of 744 hours)</strong>"));
	assert_non_null(strstr(h, "<li class=\"pw\"><a href=\"#cat-recon\">"));
	assert_int_equal(count_occ(h, "Days drawn in pale grey were not watched"), 2);
	assert_null(strstr(h, "this month."));
	om_buf_free(&b);
}

/* Finding 6 at report level: packets in 1970 and 2024 watch two hours; the
 * months between were not monitored. */
static void test_two_packets(void **state)
{
	struct fixture *f = *state;
	om_buf b;
	char err[256];

	assert_int_equal(
	    build(f, "twopk", "2024-05", OM_REPORT_JSON, OM_LANG_EN, &b, err, sizeof(err)), 0);
	assert_non_null(strstr(om_buf_cstr(&b), "\"recon\",\"monitored\":true,\"count\":0,"
	                                        "\"watched_days\":1,\"watched_hours\":1,"));
	om_buf_free(&b);
	assert_int_equal(
	    build(f, "twopk", "1970-01", OM_REPORT_JSON, OM_LANG_EN, &b, err, sizeof(err)), 0);
	assert_non_null(strstr(om_buf_cstr(&b), "\"recon\",\"monitored\":true,\"count\":0,"
	                                        "\"watched_days\":1,\"watched_hours\":1,"));
	om_buf_free(&b);
	const char *between[] = {"1970-02", "1999-06", "2024-04", "2024-06"};
	for (size_t i = 0; i < OM_ARRAY_SIZE(between); i++) {
		assert_int_equal(
		    build(f, "twopk", between[i], OM_REPORT_JSON, OM_LANG_EN, &b, err, sizeof(err)),
		    0);
		assert_int_equal(count_occ(om_buf_cstr(&b), "\"monitored\":false,\"count\":null"),
		                 6);
		assert_non_null(strstr(om_buf_cstr(&b), "\"watched_days\":0,\"watched_hours\":0,"
		                                        "\"categories\""));
		om_buf_free(&b);
	}
}

/* One area watched all month, another for 12 days, no events: the full one
 * is 0, the partial one says how long it was watched. */
static void test_partly_watched(void **state)
{
	struct fixture *f = *state;
	om_buf b;
	char err[256];

	assert_int_equal(
	    build(f, "parted", "2024-05", OM_REPORT_TEXT, OM_LANG_EN, &b, err, sizeof(err)), 0);
	const char *e = om_buf_cstr(&b);
	assert_non_null(strstr(e, "Time watched: 31 of 31 days (744 of 744 hours)\n"));
	assert_non_null(strstr(e, "Were we attacked?\n  None seen, but not every area was watched "
	                          "for the whole month"));
	/* c2 was watched every hour: a real "no" */
	assert_non_null(strstr(e, "Did anything get through?\n  No sign of it. No device in your "
	                          "office contacted attackers' servers."));
	assert_non_null(strstr(e, "[Scans from the internet] 0\n  Someone on the internet"));
	assert_non_null(strstr(e, "[Spam] none seen in the time watched (12 of 31 days)\n"
	                          "  Time watched: 12 of 31 days (288 of 744 hours)\n"));
	assert_int_equal(count_occ(e, "  Time watched: "), 1);
	om_buf_free(&b);

	assert_int_equal(
	    build(f, "parted", "2024-05", OM_REPORT_JSON, OM_LANG_EN, &b, err, sizeof(err)), 0);
	assert_non_null(strstr(om_buf_cstr(&b), "\"spam\",\"monitored\":true,\"count\":0,"
	                                        "\"watched_days\":12,\"watched_hours\":288,"
	                                        "\"days_in_month\":31,"));
	assert_non_null(strstr(om_buf_cstr(&b), "{\"day\":\"2024-05-12\",\"count\":0,"
	                                        "\"watched_hours\":24},{\"day\":\"2024-05-13\","
	                                        "\"count\":null,\"watched_hours\":0}"));
	om_buf_free(&b);
}

/* The bakery owner's reading of a month where only scans were watched: the
 * summary says scans are everyday background with nothing to do, names no
 * malware or spam, and the five unwatched areas share one line. */
static void test_bakery(void **state)
{
	struct fixture *f = *state;
	om_buf b;
	char err[256];

	assert_int_equal(
	    build(f, "bakery", "2024-05", OM_REPORT_TEXT, OM_LANG_EN, &b, err, sizeof(err)), 0);
	const char *e = om_buf_cstr(&b);
	const char *sum = strstr(e, "== Summary ==");
	const char *cats = strstr(e, "== Results by area ==");
	assert_non_null(sum);
	assert_non_null(cats);
	assert_true(sum < cats);
	char head[4096];
	size_t n = (size_t)(cats - sum);
	assert_true(n < sizeof(head));
	memcpy(head, sum, n);
	head[n] = 0;
	assert_non_null(strstr(head,
	                       "Were we attacked?\n  7 scans from the internet were recorded. "
	                       "Every business connected to the internet receives such scans "
	                       "every day"));
	assert_null(strstr(head, "Yes."));
	assert_null(strstr(head, "Unknown"));
	assert_null(strstr(head, "alware ("));
	assert_null(strstr(head, "spam,"));
	/* the only malware and spam words in the summary are the names of what
	 * was not watched, in the one grouped line */
	assert_int_equal(count_occ(head, "Spam"), 1);
	assert_non_null(strstr(head,
	                       "Not watched this month (5 of 6 areas): Suspicious connections "
	                       "from inside to attackers, Malware downloaded from the web, "
	                       "Malware in received email, Spam, Visits to harmful websites."));
	assert_non_null(strstr(e, "[Scans from the internet] 7\n"));
	assert_int_equal(count_occ(e, "This area was not monitored this month"), 1);
	assert_int_equal(count_occ(e, "\n["), 2);
	om_buf_free(&b);

	assert_int_equal(
	    build(f, "bakery", "2024-05", OM_REPORT_HTML, OM_LANG_JA, &b, err, sizeof(err)), 0);
	const char *h = no_wbr(om_buf_cstr(&b));
	assert_non_null(strstr(h, "偵察（ポートスキャン）を 7 件記録しました。"));
	assert_int_equal(count_occ(h, "<section id=\"cat-"), 2);
	assert_non_null(strstr(h, "<section id=\"cat-not-watched\">"));
	assert_non_null(strstr(h, "<a href=\"#cat-not-watched\">"));
	assert_int_equal(count_occ(h, "今月監視されていなかったため"), 1);
	om_buf_free(&b);
}

/* Time zone month edges. tokyo (default zone Asia/Tokyo, UTC+9): scans at
 * 2024-05-31T14:59:59Z (= 05-31 23:59:59 JST, May) and 2024-05-31T15:00:00Z
 * (= 06-01 00:00 JST, June), recon watched every UTC hour from 2024-04-30
 * 15:00Z to 2024-06-30 15:00Z (all of May and June in JST). */
static void test_timezone_edges(void **state)
{
	struct fixture *f = *state;
	om_store *s = f->s;
	om_buf b;
	char err[256];
	bool has = false;

	add(s, "tokyo", "recon", JUNE1_2024 - 9 * HOUR - 1, "203.0.113.1", "192.168.1.2");
	add(s, "tokyo", "recon", JUNE1_2024 - 9 * HOUR, "203.0.113.1", "192.168.1.2");
	assert_int_equal(watch(s, "tokyo", "recon", MAY1_2024 - 9 * HOUR, 0, 61 * 24), 0);
	assert_int_equal(om_store_tenant_meta_set(s, "tokyo", "display_name", "Tokyo Bakery"), 0);
	assert_int_equal(
	    om_store_tenant_meta_set(s, "tokyo", "contact", "Support Co. 03-0000-0000"), 0);
	assert_int_equal(om_store_flush(s), 0);

	om_report_opts o = {
	    .tenant = "tokyo", .month = "2024-05", .format = OM_REPORT_JSON, .lang = OM_LANG_EN};
	om_buf_init(&b, 8u << 20);
	assert_int_equal(om_report_build2(s, &o, &b, &has, err, sizeof(err)), 0);
	const char *j = om_buf_cstr(&b);
	assert_true(has);
	assert_non_null(strstr(j, "\"category\":\"recon\",\"monitored\":true,\"count\":1,"
	                          "\"watched_days\":31,\"watched_hours\":744,"));
	assert_non_null(strstr(j, "{\"day\":\"2024-05-31\",\"count\":1,\"watched_hours\":24}"));
	assert_non_null(strstr(j, "\"timezone\":\"Asia/Tokyo\",\"display_name\":\"Tokyo "
	                          "Bakery\""));
	assert_non_null(strstr(j, "\"contact\":\"Support Co. 03-0000-0000\",\"has_data\":true,"));
	om_buf_free(&b);

	o.month = "2024-06";
	om_buf_init(&b, 8u << 20);
	assert_int_equal(om_report_build2(s, &o, &b, &has, err, sizeof(err)), 0);
	assert_non_null(strstr(om_buf_cstr(&b), "\"category\":\"recon\",\"monitored\":true,"
	                                        "\"count\":1,\"watched_days\":30,"));
	assert_non_null(strstr(om_buf_cstr(&b), "{\"day\":\"2024-06-01\",\"count\":1,"));
	om_buf_free(&b);

	/* the same data counted by UTC: both in May, June watched from 06-01 */
	o.timezone = "UTC";
	o.month = "2024-05";
	om_buf_init(&b, 8u << 20);
	assert_int_equal(om_report_build2(s, &o, &b, &has, err, sizeof(err)), 0);
	assert_non_null(strstr(om_buf_cstr(&b), "\"category\":\"recon\",\"monitored\":true,"
	                                        "\"count\":2,"));
	om_buf_free(&b);

	o.format = OM_REPORT_TEXT;
	o.timezone = NULL;
	om_buf_init(&b, 8u << 20);
	assert_int_equal(om_report_build2(s, &o, &b, &has, err, sizeof(err)), 0);
	assert_non_null(strstr(om_buf_cstr(&b), "Company: Tokyo Bakery\n"));
	assert_non_null(
	    strstr(om_buf_cstr(&b), "Your support provider: Support Co. 03-0000-0000\n"));
	assert_non_null(strstr(om_buf_cstr(&b), "time zone Asia/Tokyo."));
	om_buf_free(&b);

	/* bad values are refused */
	assert_int_equal(om_store_tenant_meta_set(s, "tokyo", "timezone", "Mars/Olympus"), -EINVAL);
	assert_int_equal(om_store_tenant_meta_set(s, "tokyo", "timezone", "../etc/passwd"),
	                 -EINVAL);
	assert_int_equal(om_store_tenant_meta_set(s, "tokyo", "colour", "red"), -EINVAL);
	assert_int_equal(om_store_tenant_meta_set(s, "tokyo", "display_name", "a\nb"), -EINVAL);
}

/* A tenant without any data: the report says so and tells the caller. */
static void test_no_data(void **state)
{
	struct fixture *f = *state;
	om_buf b;
	char err[256];
	bool has = true;
	om_report_opts o = {
	    .tenant = "nobody", .month = "2024-05", .format = OM_REPORT_TEXT, .lang = OM_LANG_EN};

	om_buf_init(&b, 8u << 20);
	assert_int_equal(om_report_build2(f->s, &o, &b, &has, err, sizeof(err)), 0);
	assert_false(has);
	assert_non_null(
	    strstr(om_buf_cstr(&b), "No data has been received for this company at all"));
	om_buf_free(&b);
	/* acme has data, only not in March: not "no data" */
	o.tenant = "acme";
	o.month = "2024-03";
	om_buf_init(&b, 8u << 20);
	assert_int_equal(om_report_build2(f->s, &o, &b, &has, err, sizeof(err)), 0);
	assert_true(has);
	assert_null(strstr(om_buf_cstr(&b), "No data has been received"));
	om_buf_free(&b);
}

static void test_bad_options(void **state)
{
	struct fixture *f = *state;
	om_buf b;
	char err[256];
	const char *bad[] = {"2024-13",    "2024-00", "2024-5",  "2024-005", "24-05",   "2024/05",
	                     "2024-05-01", "",        "abcd-ef", "2024-0a",  "1969-12", " 2024-05"};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		assert_int_equal(
		    build(f, "acme", bad[i], OM_REPORT_JSON, OM_LANG_EN, &b, err, sizeof(err)),
		    -EINVAL);
		assert_non_null(strstr(err, "YYYY-MM"));
		assert_int_equal(b.len, 0);
		om_buf_free(&b);
	}
	err[0] = 0;
	assert_int_equal(build(f, "acme", NULL, OM_REPORT_JSON, OM_LANG_EN, &b, err, sizeof(err)),
	                 -EINVAL);
	assert_non_null(strstr(err, "YYYY-MM"));
	om_buf_free(&b);
	/* the Japanese message, from the catalogue */
	assert_int_equal(
	    build(f, "acme", "2024-13", OM_REPORT_TEXT, OM_LANG_JA, &b, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "対象月「2024-13」"));
	om_buf_free(&b);

	assert_int_equal(
	    build(f, NULL, "2024-05", OM_REPORT_JSON, OM_LANG_EN, &b, err, sizeof(err)), -EINVAL);
	om_buf_free(&b);
	assert_int_equal(build(f, "", "2024-05", OM_REPORT_JSON, OM_LANG_EN, &b, err, sizeof(err)),
	                 -EINVAL);
	om_buf_free(&b);
	assert_int_equal(
	    build(f, "acme", "2024-05", (enum om_report_format)7, OM_LANG_EN, &b, err, sizeof(err)),
	    -EINVAL);
	om_buf_free(&b);
	assert_int_equal(
	    build(f, "acme", "2024-05", OM_REPORT_JSON, (enum om_lang)9, &b, err, sizeof(err)),
	    -EINVAL);
	om_buf_free(&b);

	/* An output limit too small for the report: an error, nothing half
	 * written. */
	om_report_opts o = {
	    .tenant = "acme", .month = "2024-05", .format = OM_REPORT_HTML, .lang = OM_LANG_EN};
	om_buf_init(&b, 512);
	assert_int_equal(om_report_build(f->s, &o, &b, err, sizeof(err)), -ENOBUFS);
	assert_int_equal(b.len, 0);
	om_buf_free(&b);
	om_buf_init(&b, 4096);
	assert_int_equal(om_report_build(NULL, &o, &b, err, sizeof(err)), -EINVAL);
	assert_int_equal(om_report_build(f->s, NULL, &b, err, sizeof(err)), -EINVAL);
	om_buf_free(&b);
}

/* ---- second edition ------------------------------------------------------ */

/* Devices are named from the inventory, else "inside"/"outside"; the JSON
 * top lists keep their form and the names come in an added list. */
static void test_devices(void **state)
{
	struct fixture *f = *state;
	om_store *s = f->s;
	om_buf b;
	char err[256], label[128];

	assert_int_equal(om_store_device_set(s, "acme", "192.168.1.10", "Register PC"), 0);
	assert_int_equal(om_store_device_get(s, "acme", "192.168.1.10", label, sizeof(label)), 1);
	assert_string_equal(label, "Register PC");
	assert_int_equal(om_store_device_get(s, "acme", "192.168.1.11", label, sizeof(label)), 0);
	assert_int_equal(om_store_device_set(s, "acme", "192.168.1.10; DROP", "x"), -EINVAL);
	assert_int_equal(om_store_device_set(s, "acme", "192.168.1.12", "a\tb"), -EINVAL);

	assert_int_equal(
	    build(f, "acme", "2024-05", OM_REPORT_TEXT, OM_LANG_EN, &b, err, sizeof(err)), 0);
	const char *t = om_buf_cstr(&b);
	assert_non_null(strstr(t, "  Top 5 sources: on the internet (203.0.113.9): 3; on the "
	                          "internet (203.0.113.7): 1\n"));
	assert_non_null(strstr(t, "  Top 5 targets: Register PC (192.168.1.10): 3; a device in "
	                          "your office (192.168.1.11): 1\n"));
	om_buf_free(&b);

	assert_int_equal(
	    build(f, "acme", "2024-05", OM_REPORT_HTML, OM_LANG_EN, &b, err, sizeof(err)), 0);
	assert_non_null(strstr(om_buf_cstr(&b), "<tr><td>Register PC</td><td>192.168.1.10</td>"
	                                        "<td class=\"c\">3</td></tr>"));
	om_buf_free(&b);

	assert_int_equal(
	    build(f, "acme", "2024-05", OM_REPORT_JSON, OM_LANG_EN, &b, err, sizeof(err)), 0);
	const char *j = om_buf_cstr(&b);
	assert_true(json_valid(j));
	/* the first edition's form is kept */
	assert_non_null(strstr(j, "\"top_targets\":[{\"ip\":\"192.168.1.10\",\"count\":3},"));
	assert_non_null(strstr(j, "\"addresses\":[{\"ip\":\"203.0.113.9\",\"where\":\"outside\","
	                          "\"device\":\"\"},"));
	assert_non_null(strstr(j, "{\"ip\":\"192.168.1.10\",\"where\":\"inside\","
	                          "\"device\":\"Register PC\"}"));
	/* each address once, though it is a target in two categories */
	assert_int_equal(count_occ(j, "{\"ip\":\"192.168.1.10\",\"where\""), 1);
	assert_non_null(strstr(j, "\"coverage_percent\":100}"));
	om_buf_free(&b);
	assert_int_equal(om_store_device_set(s, "acme", "192.168.1.10", ""), 0);
	assert_int_equal(om_store_device_get(s, "acme", "192.168.1.10", label, sizeof(label)), 0);

	/* IPv6: unique-local and link-local are inside, global outside */
	add(s, "six", "recon", MAY1_2024 + 100, "2001:db8::1", "fd00::5");
	add(s, "six", "recon", MAY1_2024 + 101, "fe80::1", "2001:db8::2");
	assert_int_equal(om_store_tenant_meta_set(s, "six", "timezone", "UTC"), 0);
	assert_int_equal(om_store_flush(s), 0);
	assert_int_equal(
	    build(f, "six", "2024-05", OM_REPORT_JSON, OM_LANG_EN, &b, err, sizeof(err)), 0);
	j = om_buf_cstr(&b);
	assert_non_null(strstr(j, "{\"ip\":\"2001:db8::1\",\"where\":\"outside\""));
	assert_non_null(strstr(j, "{\"ip\":\"fe80::1\",\"where\":\"inside\""));
	assert_non_null(strstr(j, "{\"ip\":\"fd00::5\",\"where\":\"inside\""));
	assert_non_null(strstr(j, "{\"ip\":\"2001:db8::2\",\"where\":\"outside\""));
	/* one event proves its own hour only: 1 of 744 hours is 0 percent */
	assert_non_null(strstr(j, "\"coverage_percent\":0}"));
	om_buf_free(&b);
}

/* The phrase rules themselves. */
static void test_phrase_rules(void **state)
{
	(void)state;
	struct {
		const char *text, *before; /* the break asked about is before `before` */
		bool ok;
	} cases[] = {
	    {"監視していなかったため、社内", "視", false},   /* inside a kanji word */
	    {"監視していなかったため、社内", "して", false}, /* okurigana stays */
	    {"監視していなかったため、社内", "社内", true},  /* after the comma */
	    {"監視していなかったため、社内", "、", false},   /* never before a comma */
	    {"インターネットからの偵察", "ネット", false},   /* inside katakana */
	    {"インターネットからの偵察", "偵察", true},      /* particle, then a word */
	    {"（ポートスキャン）を", "ポート", false},       /* after an opening bracket */
	    {"（ポートスキャン）を", "）", false},           /* before a closing one */
	    {"偵察（ポート", "（", true},                    /* before an opening one */
	    {"合計 7 件記録", "件", false},                  /* a number and its counter */
	    {"合計 7 件記録", "7", true},                    /* after a plain space */
	    {"Windows などの", "など", true},
	    {"hello world", "world", true},
	    {"hello world", "llo", false},
	    {"3.5 GB", "5", false},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *t = cases[i].text;
		const char *p = strstr(t, cases[i].before);
		assert_non_null(p);
		if (om_text_break_ok(t, strlen(t), (size_t)(p - t)) != cases[i].ok) {
			print_error("case %zu: %s before %s\n", i, t, cases[i].before);
			fail();
		}
	}
	/* not at a continuation byte, not at the ends */
	const char *t = "監視";
	assert_false(om_text_break_ok(t, strlen(t), 1));
	assert_false(om_text_break_ok(t, strlen(t), 0));
	assert_false(om_text_break_ok(t, strlen(t), strlen(t)));
}

static bool wide_word_char(const unsigned char *p)
{
	/* kanji (U+4E00..9FFF: E4..E9 lead bytes) or katakana (U+30A0..30FF:
	 * E3 82 A0 .. E3 83 BF) */
	if (p[0] >= 0xe4 && p[0] <= 0xe9)
		return true;
	return p[0] == 0xe3 && ((p[1] == 0x82 && p[2] >= 0xa0) || p[1] == 0x83);
}

/* Japanese HTML: line-break hints between phrases, never inside a kanji or
 * katakana word, and the page keeps words whole (keep-all). The chart has a
 * visible title and readable labels. */
static void test_html_breaks_and_chart(void **state)
{
	struct fixture *f = *state;
	om_buf b;
	char err[256];

	assert_int_equal(
	    build(f, "acme", "2024-05", OM_REPORT_HTML, OM_LANG_JA, &b, err, sizeof(err)), 0);
	const char *h = om_buf_cstr(&b);
	assert_non_null(strstr(h, "word-break:keep-all"));
	assert_true(count_occ(h, "<wbr>") > 50);
	size_t checked = 0;
	for (const char *p = h; (p = strstr(p, "<wbr>")) != NULL; p += 5) {
		const unsigned char *a = (const unsigned char *)p - 3,
		                    *z = (const unsigned char *)p + 5;
		if ((const char *)a >= h && wide_word_char(a) && wide_word_char(z)) {
			print_error("word split at: %.40s\n", (const char *)a);
			fail();
		}
		checked++;
	}
	assert_true(checked > 50);
	/* a number stays with its counter: no break at that space either */
	assert_non_null(strstr(h, "（6\xc2\xa0項目のうち"));
	/* and the hints never land in the page title or inside the SVG */
	assert_null(strstr(strstr(h, "<title>"), "<wbr></title>"));
	const char *svg = strstr(h, "<svg");
	assert_non_null(svg);
	const char *svg_end = strstr(svg, "</svg>");
	char chart[8192];
	assert_true((size_t)(svg_end - svg) < sizeof(chart));
	memcpy(chart, svg, (size_t)(svg_end - svg));
	chart[svg_end - svg] = 0;
	assert_null(strstr(chart, "<wbr>"));
	/* a visible title (not only <title>) */
	assert_non_null(
	    strstr(chart, "<text class=\"ct\" x=\"64\" y=\"22\">外部からの偵察（ポートスキャン）"
	                  "：2024-05 の日ごとの件数</text>"));
	assert_non_null(strstr(h, "svg text{font-size:15px;"));
	om_buf_free(&b);

	/* English has no hints */
	assert_int_equal(
	    build(f, "acme", "2024-05", OM_REPORT_HTML, OM_LANG_EN, &b, err, sizeof(err)), 0);
	assert_null(strstr(om_buf_cstr(&b), "<wbr>"));
	assert_non_null(strstr(om_buf_cstr(&b), "<text class=\"ct\" x=\"64\" y=\"22\">Scans from "
	                                        "the internet: events per day, 2024-05</text>"));
	om_buf_free(&b);
}

/* The display name: the metadata's, else the console's name, else the id. */
static void test_console_name(void **state)
{
	struct fixture *f = *state;
	om_store *s = f->s;
	om_buf b;
	char err[256];

	assert_int_equal(om_store_tenant_add(s, "consoleco", "Console Bakery"), 0);
	assert_int_equal(watch(s, "consoleco", "recon", MAY1_2024, 0, 24), 0);
	assert_int_equal(om_store_flush(s), 0);
	assert_int_equal(
	    build(f, "consoleco", "2024-05", OM_REPORT_TEXT, OM_LANG_EN, &b, err, sizeof(err)), 0);
	assert_non_null(strstr(om_buf_cstr(&b), "Company: Console Bakery\n"));
	om_buf_free(&b);
	assert_int_equal(om_store_tenant_meta_set(s, "consoleco", "display_name", "Meta Name"), 0);
	assert_int_equal(
	    build(f, "consoleco", "2024-05", OM_REPORT_TEXT, OM_LANG_EN, &b, err, sizeof(err)), 0);
	assert_non_null(strstr(om_buf_cstr(&b), "Company: Meta Name\n"));
	om_buf_free(&b);
	assert_int_equal(build(f, "consoleco", "2024-05", OM_REPORT_HTML, OM_LANG_EN, &b, err,
	                       sizeof(err)),
	                 0);
	assert_non_null(strstr(om_buf_cstr(&b), "<title>Monthly security report - Meta Name - "
	                                        "2024-05</title>"));
	om_buf_free(&b);
	assert_int_equal(
	    build(f, "acme", "2024-05", OM_REPORT_TEXT, OM_LANG_EN, &b, err, sizeof(err)), 0);
	assert_non_null(strstr(om_buf_cstr(&b), "Company: acme\n"));
	om_buf_free(&b);
}

/* The PDF is written (its text is checked by pdftotext in tests/report);
 * a PDF to a buffer is refused with a message. */
static void test_pdf(void **state)
{
	struct fixture *f = *state;
	char err[256], path[400], head[8] = "";
	bool has = false;
	om_buf b;

	snprintf(path, sizeof(path), "%s/acme.pdf", f->dir);
	om_report_opts o = {
	    .tenant = "acme", .month = "2024-05", .format = OM_REPORT_PDF, .lang = OM_LANG_JA};
	assert_int_equal(om_report_pdf(f->s, &o, path, &has, err, sizeof(err)), 0);
	assert_true(has);
	FILE *fp = fopen(path, "rb");
	assert_non_null(fp);
	assert_int_equal(fread(head, 1, 5, fp), 5);
	fclose(fp);
	assert_memory_equal(head, "%PDF-", 5);
	unlink(path);
	om_buf_init(&b, 1 << 20);
	assert_int_equal(om_report_build(f->s, &o, &b, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "-o"));
	om_buf_free(&b);
}

/* Every company's report in one call: one file per tenant, hostile ids
 * made safe, tenants without data counted. */
static void test_all(void **state)
{
	struct fixture *f = *state;
	char err[256], dir[400], path[1024];
	size_t written = 0, nodata = 0;

	snprintf(dir, sizeof(dir), "%s/all", f->dir);
	assert_int_equal(om_store_tenant_meta_set(f->s, "empty-co", "display_name", "Empty"), 0);
	assert_int_equal(om_report_all(f->s, "2024-05", dir, OM_REPORT_JSON, OM_LANG_EN, &written,
	                               &nodata, err, sizeof(err)),
	                 0);
	size_t ntenants = 0;
	char(*names)[OM_STORE_TENANT_MAX + 1] = calloc(100, sizeof(*names));
	assert_non_null(names);
	assert_int_equal(om_store_tenants(f->s, names, 100, &ntenants), 0);
	assert_int_equal(written, ntenants);
	assert_true(nodata >= 1); /* empty-co */
	snprintf(path, sizeof(path), "%s/acme-2024-05.json", dir);
	assert_int_equal(access(path, R_OK), 0);
	snprintf(path, sizeof(path), "%s/empty-co-2024-05.json", dir);
	assert_int_equal(access(path, R_OK), 0);
	/* the hostile id's file stays in dir and has no markup characters */
	DIR *dd = opendir(dir);
	assert_non_null(dd);
	struct dirent *de;
	size_t files = 0;
	while ((de = readdir(dd)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		files++;
		assert_null(strpbrk(de->d_name, "<>\"'&/ "));
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		unlink(path);
	}
	closedir(dd);
	rmdir(dir);
	assert_int_equal(files, ntenants);
	free(names);
	/* PDFs (rendered by several workers where there are CPUs): one per
	 * tenant, each a PDF */
	assert_int_equal(om_report_all(f->s, "2024-05", dir, OM_REPORT_PDF, OM_LANG_JA, &written,
	                               &nodata, err, sizeof(err)),
	                 0);
	assert_int_equal(written, ntenants);
	dd = opendir(dir);
	assert_non_null(dd);
	files = 0;
	while ((de = readdir(dd)) != NULL) {
		char head[8] = "";
		if (de->d_name[0] == '.')
			continue;
		files++;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		FILE *fp = fopen(path, "rb");
		assert_non_null(fp);
		assert_int_equal(fread(head, 1, 5, fp), 5);
		fclose(fp);
		assert_memory_equal(head, "%PDF-", 5);
		unlink(path);
	}
	closedir(dd);
	rmdir(dir);
	assert_int_equal(files, ntenants);
	/* a bad month is refused before anything is written */
	assert_int_equal(om_report_all(f->s, "2024-13", dir, OM_REPORT_JSON, OM_LANG_EN, &written,
	                               &nodata, err, sizeof(err)),
	                 -EINVAL);
	assert_int_equal(access(dir, F_OK), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_json_counts),
	    cmocka_unit_test(test_json_leap_and_big),
	    cmocka_unit_test(test_text),
	    cmocka_unit_test(test_html),
	    cmocka_unit_test(test_html_hostile),
	    cmocka_unit_test(test_short_capture),
	    cmocka_unit_test(test_two_packets),
	    cmocka_unit_test(test_partly_watched),
	    cmocka_unit_test(test_bakery),
	    cmocka_unit_test(test_timezone_edges),
	    cmocka_unit_test(test_no_data),
	    cmocka_unit_test(test_bad_options),
	    cmocka_unit_test(test_devices),
	    cmocka_unit_test(test_phrase_rules),
	    cmocka_unit_test(test_html_breaks_and_chart),
	    cmocka_unit_test(test_console_name),
	    cmocka_unit_test(test_pdf),
	    cmocka_unit_test(test_all),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
