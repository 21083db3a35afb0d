/* console: form and cookie parsing, the escaping template layer, passwords
 * and tokens, the login rate limit. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "console/internal.h"
#include "report/report.h"

static void test_form(void **state)
{
	con_form f;
	(void)state;

	con_form_parse(&f, "user=a%20b&password=x+y%26z&empty=&flag&bad=%zz&cut=%4", 54);
	assert_string_equal(con_form_get(&f, "user"), "a b");
	assert_string_equal(con_form_get(&f, "password"), "x y&z");
	assert_string_equal(con_form_get(&f, "empty"), "");
	assert_string_equal(con_form_get(&f, "flag"), "");
	assert_null(con_form_get(&f, "bad"));
	assert_null(con_form_get(&f, "cut"));
	assert_int_equal(f.bad, 2);
	/* a NUL byte smuggled in as %00 drops the field */
	con_form_parse(&f, "u=a%00b", 7);
	assert_null(con_form_get(&f, "u"));
	assert_int_equal(f.bad, 1);
	/* the field cap */
	char many[400];
	size_t n = 0;
	for (int i = 0; i < 40; i++)
		n += (size_t)snprintf(many + n, sizeof(many) - n, "f%d=1&", i);
	con_form_parse(&f, many, n);
	assert_int_equal(f.n, CON_FORM_MAX_FIELDS);
	assert_int_equal(f.bad, 40 - CON_FORM_MAX_FIELDS);
}

static void test_cookie(void **state)
{
	char v[16];
	(void)state;

	assert_int_equal(con_cookie_get("a=1; om_session=xyz; b=2", "om_session", v, sizeof(v)), 0);
	assert_string_equal(v, "xyz");
	assert_int_equal(con_cookie_get("xom_session=1", "om_session", v, sizeof(v)), -ENOENT);
	assert_int_equal(
	    con_cookie_get("om_session=0123456789abcdefXYZ", "om_session", v, sizeof(v)), -E2BIG);
	assert_int_equal(con_cookie_get(NULL, "om_session", v, sizeof(v)), -ENOENT);
}

static void test_html(void **state)
{
	om_buf b;
	const char *v[] = {"<b>\"x\"&'", "<i>ok</i>"};
	(void)state;

	om_buf_init(&b, 4096);
	assert_int_equal(con_html(&b, "<p title=\"{0}\">{0}</p>{!1}{x}{", v, 2), 0);
	assert_string_equal(om_buf_cstr(&b), "<p title=\"&lt;b&gt;&quot;x&quot;&amp;&#39;\">"
	                                     "&lt;b&gt;&quot;x&quot;&amp;&#39;</p><i>ok</i>{x}{");
	assert_int_equal(con_html(&b, "{2}", v, 2), -EINVAL);
	om_buf_free(&b);
}

static void test_password(void **state)
{
	char h[160], tok[64], tok2[64], th[65];
	(void)state;

	assert_int_equal(con_auth_init(), 0);
	assert_int_equal(con_password_hash("short", h, sizeof(h)), -EINVAL);
	assert_int_equal(con_password_hash("a long password", h, sizeof(h)), 0);
	assert_memory_equal(h, "$argon2id$", 10);
	assert_true(con_password_verify(h, "a long password"));
	assert_false(con_password_verify(h, "a long passworD"));
	assert_false(con_password_verify("garbage", "a long password"));
	con_token(tok);
	con_token(tok2);
	assert_int_equal(strlen(tok), 43);
	assert_string_not_equal(tok, tok2);
	con_token_hash(tok, th);
	assert_int_equal(strlen(th), 64);
	assert_true(con_str_eq(tok, tok));
	assert_false(con_str_eq(tok, tok2));
	assert_false(con_str_eq("", ""));
}

static void test_ratelimit(void **state)
{
	static con_ratelimit rl;
	om_usec t = 1000000;
	(void)state;

	for (int i = 0; i < CON_RL_MAX_FAILS; i++) {
		assert_true(con_rl_allowed(&rl, "alice", t));
		con_rl_fail(&rl, "alice", t);
	}
	assert_false(con_rl_allowed(&rl, "alice", t + 1));
	assert_true(con_rl_allowed(&rl, "bob", t + 1));
	/* the window passes */
	assert_true(con_rl_allowed(&rl, "alice", t + CON_RL_WINDOW_USEC + 1));
	con_rl_fail(&rl, "carol", t);
	con_rl_clear(&rl, "carol");
	assert_true(con_rl_allowed(&rl, "carol", t));
}

static void test_roles(void **state)
{
	int r;
	(void)state;

	assert_int_equal(con_role_parse("company-viewer", &r), 0);
	assert_int_equal(r, OM_ROLE_COMPANY_VIEWER);
	assert_int_equal(con_role_parse("root", &r), -EINVAL);
	assert_string_equal(con_role_name(OM_ROLE_PROVIDER_ADMIN), "provider-admin");
}

static void test_batch_id(void **state)
{
	(void)state;
	assert_true(con_batch_id_ok("abc-1_2.3"));
	assert_false(con_batch_id_ok(""));
	assert_false(con_batch_id_ok(NULL));
	assert_false(con_batch_id_ok("a b"));
	assert_false(con_batch_id_ok("../x/y"));
	char id[66];
	memset(id, 'a', 65);
	id[65] = '\0';
	assert_false(con_batch_id_ok(id));
	id[64] = '\0';
	assert_true(con_batch_id_ok(id));
}

static void test_ingest_gzip(void **state)
{
	om_store *s;
	char err[256], path[64];
	con_ingest_result res;
	(void)state;

	snprintf(path, sizeof(path), "/tmp/test_console.%d.db", (int)getpid());
	unlink(path);
	assert_int_equal(om_store_open(path, &s, err, sizeof(err)), 0);
	/* not gzip at all */
	assert_int_equal(con_ingest_gzip(s, "t", "g", "hello", 5, &res), -EINVAL);
	/* the empty gzip stream of "" (gzip -n < /dev/null): no lines */
	static const unsigned char empty[] = {0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00,
	                                      0x00, 0x00, 0x03, 0x03, 0x00, 0x00, 0x00,
	                                      0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
	assert_int_equal(con_ingest_gzip(s, "t", "g", empty, sizeof(empty), &res), 0);
	assert_int_equal(res.lines, 0);
	/* truncated: the header only */
	assert_int_equal(con_ingest_gzip(s, "t", "g", empty, 10, &res), -EINVAL);
	/* "x\n{}\n" (gzip -n): two lines, neither is a stored event */
	static const unsigned char two[] = {0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	                                    0x03, 0xab, 0xe0, 0xaa, 0xae, 0xe5, 0x02, 0x00, 0x63,
	                                    0xd5, 0xdd, 0x42, 0x05, 0x00, 0x00, 0x00};
	assert_int_equal(con_ingest_gzip(s, "t", "g", two, sizeof(two), &res), 0);
	assert_int_equal(res.lines, 2);
	assert_int_equal(res.stored, 0);
	om_store_close(s);
	unlink(path);
}

/* Months and days in the tenant's zone. Asia/Tokyo is UTC+9 without
 * daylight saving: 2024-05-01 00:00 JST is 2024-04-30 15:00 UTC
 * (1714489200 s since the epoch: 19843 days * 86400 + 15 h). */
static void test_zone_bounds(void **state)
{
	om_usec from, to, t;
	char m[8], buf[32];

	(void)state;
	assert_int_equal(con_month_bounds("Asia/Tokyo", "2024-05", &from, &to), 0);
	assert_int_equal(from, 1714489200ull * 1000000);
	assert_int_equal(to - from, 31ull * 86400 * 1000000);
	assert_int_equal(con_month_bounds("UTC", "2024-12", &from, &to), 0);
	assert_int_equal(to - from, 31ull * 86400 * 1000000); /* into January of 2025 */
	assert_int_equal(con_month_bounds("UTC", "2024-02", &from, &to), 0);
	assert_int_equal(to - from, 29ull * 86400 * 1000000); /* a leap year */
	assert_int_equal(con_month_bounds("Asia/Tokyo", "2024-13", &from, &to), -EINVAL);
	assert_int_equal(con_month_bounds("Asia/Tokyo", "2024-5", &from, &to), -EINVAL);
	assert_int_equal(con_month_bounds("No/Such_Zone", "2024-05", &from, &to), -EINVAL);
	/* 2024-04-30 15:00 UTC is already May in Tokyo, still April in UTC */
	assert_int_equal(con_month_of("Asia/Tokyo", 1714489200ull * 1000000, 0, m), 0);
	assert_string_equal(m, "2024-05");
	assert_int_equal(con_month_of("UTC", 1714489200ull * 1000000, 0, m), 0);
	assert_string_equal(m, "2024-04");
	assert_int_equal(con_month_of("Asia/Tokyo", 1714489200ull * 1000000, -5, m), 0);
	assert_string_equal(m, "2023-12");
	assert_int_equal(con_local_time("Asia/Tokyo", 1714489200ull * 1000000, buf, sizeof(buf)),
	                 0);
	assert_string_equal(buf, "2024-05-01 00:00:00");
	assert_int_equal(con_day_start("Asia/Tokyo", "2024-05-01", false, &t), 0);
	assert_int_equal(t, 1714489200ull * 1000000);
	assert_int_equal(con_day_start("Asia/Tokyo", "2024-05-31", true, &t), 0);
	assert_int_equal(t, (1714489200ull + 31ull * 86400) * 1000000); /* June 1st, JST */
	assert_int_equal(con_day_start("Asia/Tokyo", "2024-02-30", false, &t), -EINVAL);
	assert_int_equal(con_day_start("Asia/Tokyo", "2023-02-29", false, &t), -EINVAL);
	assert_int_equal(con_day_start("Asia/Tokyo", "2024-02-29", false, &t), 0);
	assert_int_equal(con_day_start("Asia/Tokyo", "2024/05/01", false, &t), -EINVAL);
	assert_int_equal(con_day_start("Asia/Tokyo", "", false, &t), -EINVAL);
}

static void test_query_values(void **state)
{
	int sev = -1;
	int64_t id = -1;

	(void)state;
	assert_int_equal(con_severity_parse("", &sev), 0);
	assert_int_equal(sev, 0);
	assert_int_equal(con_severity_parse(NULL, &sev), 0);
	assert_int_equal(con_severity_parse("2", &sev), 0);
	assert_int_equal(sev, 2);
	assert_int_equal(con_severity_parse("4", &sev), -EINVAL);
	assert_int_equal(con_severity_parse("12", &sev), -EINVAL);
	assert_int_equal(con_severity_parse("1 ", &sev), -EINVAL);
	assert_int_equal(con_id_parse("42", &id), 0);
	assert_int_equal(id, 42);
	assert_int_equal(con_id_parse("1 or 1=1", &id), -EINVAL);
	assert_int_equal(con_id_parse("-1", &id), -EINVAL);
	assert_int_equal(con_id_parse("", &id), -EINVAL);
	assert_int_equal(con_id_parse("1234567890123456789", &id), -EINVAL); /* 19 digits */
	assert_true(con_category_ok("recon"));
	assert_true(con_category_ok("harmful_web"));
	assert_false(con_category_ok("recon'"));
	assert_false(con_category_ok(""));
}

static void test_trend(void **state)
{
	char t[32];

	(void)state;
	con_trend(19, 0, t, sizeof(t));
	assert_string_equal(t, "\u2191 +19");
	con_trend(3, 10, t, sizeof(t));
	assert_string_equal(t, "\u2193 -7");
	con_trend(5, 5, t, sizeof(t));
	assert_string_equal(t, "\u2192 0");
}

/* Who needs attention first: a threat from inside beats a silent gateway,
 * which beats a company without data, which beats the quiet ones; within a
 * level the larger count first, then the id. */
static void test_attention(void **state)
{
	con_attention a[5] = {0};

	(void)state;
	snprintf(a[0].tenant, sizeof(a[0].tenant), "quiet");
	a[0].gateways = 1;
	a[0].events_month = 100;
	snprintf(a[1].tenant, sizeof(a[1].tenant), "silent");
	a[1].gateways = 2;
	a[1].silent = 1;
	snprintf(a[2].tenant, sizeof(a[2].tenant), "threat-small");
	a[2].gateways = 1;
	a[2].threats_week = 1;
	a[2].silent = 1;
	snprintf(a[3].tenant, sizeof(a[3].tenant), "nodata");
	snprintf(a[4].tenant, sizeof(a[4].tenant), "threat-big");
	a[4].gateways = 1;
	a[4].threats_week = 9;
	for (int i = 0; i < 5; i++)
		con_attention_rate(&a[i]);
	assert_int_equal(a[1].level, CON_ATTN_SILENT);
	assert_int_equal(a[3].level, CON_ATTN_NO_DATA);
	con_attention_sort(a, 5);
	assert_string_equal(a[0].tenant, "threat-big");
	assert_string_equal(a[1].tenant, "threat-small");
	assert_string_equal(a[2].tenant, "silent");
	assert_string_equal(a[3].tenant, "nodata");
	assert_string_equal(a[4].tenant, "quiet");
}

/* The statistics' CSV as the page reads it: quotes, doubled quotes,
 * commas inside quotes, an empty last field, CRLF and a last record
 * without a line end; a field longer than its buffer is cut. */
static void test_csv_record(void **state)
{
	static char f[4][CON_CSV_FIELD_MAX];
	const char *csv = "all,\"a,\"\"b\"\"\",\r\nx\n\"\"";
	size_t len = strlen(csv), n, k, off = 0;

	(void)state;
	k = con_csv_record(csv, len, f, 4, &n);
	assert_int_equal(k, 16); /* 4 + 9 (the quoted field) + 1 + CRLF */
	assert_int_equal(n, 3);
	assert_string_equal(f[0], "all");
	assert_string_equal(f[1], "a,\"b\"");
	assert_string_equal(f[2], "");
	off += k;
	k = con_csv_record(csv + off, len - off, f, 4, &n);
	assert_int_equal(k, 2);
	assert_int_equal(n, 1);
	assert_string_equal(f[0], "x");
	off += k;
	k = con_csv_record(csv + off, len - off, f, 4, &n);
	assert_int_equal(k, 2);
	assert_int_equal(n, 1);
	assert_string_equal(f[0], "");
	off += k;
	assert_int_equal(con_csv_record(csv + off, len - off, f, 4, &n), 0);
	assert_int_equal(n, 0);
	/* more fields than room: the first ones kept, the count capped */
	k = con_csv_record("1,2,3,4,5,6\n", 12, f, 4, &n);
	assert_int_equal(k, 12);
	assert_int_equal(n, 4);
	assert_string_equal(f[3], "4");
	/* a long field is cut, not overrun */
	char big[600];
	memset(big, 'y', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	k = con_csv_record(big, strlen(big), f, 4, &n);
	assert_int_equal(k, strlen(big));
	assert_int_equal(n, 1);
	assert_int_equal(strlen(f[0]), CON_CSV_FIELD_MAX - 1);
}

/* The static files are built in from data/console. */
static void test_static_files(void **state)
{
	bool css = false, js = false;

	(void)state;
	for (const con_static_file *f = con_static_files; f->path; f++) {
		if (!strcmp(f->path, "/static/console.css"))
			css = f->len > 100 && strstr((const char *)f->data, "section.card");
		if (!strcmp(f->path, "/static/console.js"))
			js = f->len > 100 && !strcmp(f->type, "text/javascript; charset=utf-8");
	}
	assert_true(css);
	assert_true(js);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_form),        cmocka_unit_test(test_cookie),
	    cmocka_unit_test(test_html),        cmocka_unit_test(test_password),
	    cmocka_unit_test(test_ratelimit),   cmocka_unit_test(test_roles),
	    cmocka_unit_test(test_batch_id),    cmocka_unit_test(test_ingest_gzip),
	    cmocka_unit_test(test_zone_bounds), cmocka_unit_test(test_query_values),
	    cmocka_unit_test(test_trend),       cmocka_unit_test(test_attention),
	    cmocka_unit_test(test_csv_record),  cmocka_unit_test(test_static_files),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
