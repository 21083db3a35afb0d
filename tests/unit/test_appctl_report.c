/* Unit tests for application use in the store (src/store/appctl.c) and the
 * report's "application use" section (src/report/report.c): EVE appctl
 * events imported (again: nothing doubles), flows summed per group and
 * internal host, hosts ordered by bytes, the cap on listed hosts, the
 * scenario of each group, the month's bounds in the tenant's zone. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "../store/backend.h"
#include "report/report.h"
#include "store/store.h"

struct fx {
	struct tmpdb t;
	om_store *s;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	tmpdb_make(&f->t);
	char err[256];
	assert_int_equal(om_store_open(f->t.path, &f->s, err, sizeof(err)), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	om_store_close(f->s);
	tmpdb_remove(&f->t);
	free(f);
	return 0;
}

/* An appctl event as the engine writes it (the fields the store reads). */
static int import(om_store *s, const char *tenant, uint64_t flow_id, const char *host,
                  const char *group, const char *app, const char *start, const char *end,
                  unsigned bts, unsigned btc, const char *action)
{
	char line[1024];
	int n = snprintf(line, sizeof(line),
	                 "{\"timestamp\":\"%s\",\"flow_id\":%llu,\"event_type\":\"appctl\","
	                 "\"src_ip\":\"%s\",\"src_port\":40000,\"dest_ip\":\"203.0.113.80\","
	                 "\"dest_port\":443,\"proto\":\"TCP\",\"app\":{\"proto\":\"TLS\","
	                 "\"name\":\"%s\"},\"appctl\":{\"group\":\"%s\",\"application\":\"%s\","
	                 "\"policy\":\"log\",\"bytes_toserver\":%u,\"bytes_toclient\":%u,"
	                 "\"start\":\"%s\",\"end\":\"%s\"},\"omamori\":{\"severity\":3,"
	                 "\"action\":\"%s\",\"tenant\":\"%s\",\"gateway\":\"gw1\"}}",
	                 end, (unsigned long long)flow_id, host, app, group, app, bts, btc, start,
	                 end, action, tenant);
	return om_store_import_line(s, line, (size_t)n);
}

struct rows {
	om_store_appctl_use u[16];
	size_t n;
};

static int collect(void *user, const om_store_appctl_use *u)
{
	struct rows *r = user;
	if (r->n < 16)
		r->u[r->n++] = *u;
	return 0;
}

static void test_store(void **state)
{
	struct fx *f = *state;
	om_store *s = f->s;
	assert_int_equal(import(s, "acme", 1, "192.168.1.10", "online_storage", "Dropbox",
	                        "2026-11-03T01:00:00.000000+0000", "2026-11-03T01:10:00.000000+0000",
	                        1000, 200, "detected"),
	                 1);
	/* the same event again: stored once */
	assert_int_equal(import(s, "acme", 1, "192.168.1.10", "online_storage", "Dropbox",
	                        "2026-11-03T01:00:00.000000+0000", "2026-11-03T01:10:00.000000+0000",
	                        1000, 200, "detected"),
	                 0);
	assert_int_equal(import(s, "acme", 2, "192.168.1.10", "online_storage", "GoogleDrive",
	                        "2026-11-04T02:00:00.000000+0000", "2026-11-04T02:00:05.000000+0000",
	                        50, 50, "blocked"),
	                 1);
	assert_int_equal(import(s, "other", 3, "10.0.0.5", "sns", "Facebook",
	                        "2026-11-04T02:00:00.000000+0000", "2026-11-04T02:00:05.000000+0000",
	                        5, 5, "detected"),
	                 1);
	/* bad data: an end before the start, a negative byte count */
	assert_int_equal(import(s, "acme", 4, "192.168.1.10", "sns", "X",
	                        "2026-11-04T02:00:00.000000+0000", "2026-11-04T01:00:00.000000+0000",
	                        5, 5, "detected"),
	                 -EINVAL);
	static const char neg[] =
	    "{\"timestamp\":\"2026-11-04T02:00:00.000000+0000\",\"flow_id\":9,\"event_type\":"
	    "\"appctl\",\"src_ip\":\"1.2.3.4\",\"appctl\":{\"group\":\"sns\",\"application\":\"X\","
	    "\"bytes_toserver\":-1,\"bytes_toclient\":0,\"start\":\"2026-11-04T02:00:00.000000+0000\","
	    "\"end\":\"2026-11-04T02:00:00.000000+0000\"},\"omamori\":{\"tenant\":\"acme\","
	    "\"gateway\":\"gw1\"}}";
	assert_int_equal(om_store_import_line(s, neg, strlen(neg)), -EINVAL);
	struct rows r = {0};
	om_usec from, to;
	assert_int_equal(om_store_parse_time("2026-11-01T00:00:00.000000+0000", &from), 0);
	assert_int_equal(om_store_parse_time("2026-12-01T00:00:00.000000+0000", &to), 0);
	assert_int_equal(om_store_appctl_range(s, "acme", from, to, collect, &r), 0);
	assert_int_equal(r.n, 2); /* Dropbox and GoogleDrive on one host */
	assert_string_equal(r.u[0].app, "Dropbox");
	assert_int_equal(r.u[0].bytes, 1200);
	assert_int_equal(r.u[0].flows, 1);
	assert_int_equal(r.u[0].blocked, 0);
	assert_string_equal(r.u[1].app, "GoogleDrive");
	assert_int_equal(r.u[1].blocked, 1);
	/* a range that ends before the second flow starts */
	memset(&r, 0, sizeof(r));
	assert_int_equal(om_store_parse_time("2026-11-04T00:00:00.000000+0000", &to), 0);
	assert_int_equal(om_store_appctl_range(s, "acme", from, to, collect, &r), 0);
	assert_int_equal(r.n, 1);
}

static json_t *report_json(om_store *s, const char *tenant, const char *month)
{
	om_buf b;
	om_buf_init(&b, 1 << 22);
	char err[256];
	om_report_opts o = {.tenant = tenant,
	                    .month = month,
	                    .format = OM_REPORT_JSON,
	                    .lang = OM_LANG_EN,
	                    .timezone = "Asia/Tokyo"};
	assert_int_equal(om_report_build(s, &o, &b, err, sizeof(err)), 0);
	json_error_t je;
	json_t *j = json_loadb(b.data, b.len, 0, &je);
	assert_non_null(j);
	om_buf_free(&b);
	return j;
}

static void test_report(void **state)
{
	struct fx *f = *state;
	om_store *s = f->s;
	/* 12 hosts used online storage; host .1 the most, .12 the least */
	for (unsigned h = 1; h <= 12; h++) {
		char ip[32];
		snprintf(ip, sizeof(ip), "192.168.1.%u", h);
		assert_int_equal(import(s, "acme", 100 + h, ip, "online_storage", "Dropbox",
		                        "2026-11-10T00:00:00.000000+0000",
		                        "2026-11-10T00:30:00.000000+0000", 10000u - h * 100, 0,
		                        "detected"),
		                 1);
	}
	/* one host, two web-mail services, two flows */
	assert_int_equal(import(s, "acme", 200, "192.168.1.20", "webmail", "GMail",
	                        "2026-11-05T00:00:00.000000+0000", "2026-11-05T00:01:00.000000+0000",
	                        300, 700, "detected"),
	                 1);
	assert_int_equal(import(s, "acme", 201, "192.168.1.20", "webmail", "YahooMail",
	                        "2026-11-06T00:00:00.000000+0000", "2026-11-06T00:01:00.000000+0000",
	                        1000, 0, "detected"),
	                 1);
	/* Tokyo's November starts at 2026-10-31T15:00Z: this flow is in it */
	assert_int_equal(import(s, "acme", 300, "192.168.1.30", "remote_access", "SSH",
	                        "2026-10-31T16:00:00.000000+0000", "2026-10-31T17:00:00.000000+0000",
	                        1, 1, "detected"),
	                 1);
	/* and this one, in UTC's November, is Tokyo's December */
	assert_int_equal(import(s, "acme", 301, "192.168.1.31", "remote_access", "SSH",
	                        "2026-11-30T16:00:00.000000+0000", "2026-11-30T17:00:00.000000+0000",
	                        1, 1, "detected"),
	                 1);
	json_t *j = report_json(s, "acme", "2026-11");
	/* the first edition's keys are still there */
	assert_non_null(json_object_get(j, "categories"));
	assert_non_null(json_object_get(j, "has_data"));
	json_t *au = json_object_get(j, "application_use");
	assert_true(json_is_array(au));
	/* report order: online storage, remote access (insider), web mail */
	assert_int_equal(json_array_size(au), 3);
	json_t *g0 = json_array_get(au, 0), *g1 = json_array_get(au, 1), *g2 = json_array_get(au, 2);
	assert_string_equal(json_string_value(json_object_get(g0, "group")), "online_storage");
	assert_string_equal(json_string_value(json_object_get(g0, "scenario")), "insider_leak");
	assert_string_equal(json_string_value(json_object_get(g1, "group")), "remote_access");
	assert_string_equal(json_string_value(json_object_get(g1, "scenario")), "insider_leak");
	assert_string_equal(json_string_value(json_object_get(g2, "group")), "webmail");
	assert_string_equal(json_string_value(json_object_get(g2, "scenario")), "careless_leak");
	/* 10 hosts listed, by bytes; 2 more counted; totals over all 12 */
	json_t *hosts = json_object_get(g0, "hosts");
	assert_int_equal(json_array_size(hosts), 10);
	assert_string_equal(json_string_value(json_object_get(json_array_get(hosts, 0), "ip")),
	                    "192.168.1.1");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(hosts, 0), "bytes")),
	                 9900);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(hosts, 9), "bytes")),
	                 9000);
	assert_int_equal(json_integer_value(json_object_get(g0, "more_hosts")), 2);
	/* sum over h = 1..12 of 10000 - 100 h = 120000 - 7800 */
	assert_int_equal(json_integer_value(json_object_get(g0, "bytes")), 112200);
	assert_int_equal(json_integer_value(json_object_get(g0, "flows")), 12);
	/* only the flow inside Tokyo's November */
	json_t *rh = json_object_get(g1, "hosts");
	assert_int_equal(json_array_size(rh), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(rh, 0), "ip")),
	                    "192.168.1.30");
	/* one web-mail host: both services, both flows, first and last seen */
	json_t *wh = json_array_get(json_object_get(g2, "hosts"), 0);
	assert_int_equal(json_integer_value(json_object_get(wh, "bytes")), 2000);
	assert_int_equal(json_integer_value(json_object_get(wh, "flows")), 2);
	json_t *apps = json_object_get(wh, "applications");
	assert_int_equal(json_array_size(apps), 2);
	assert_string_equal(json_string_value(json_array_get(apps, 0)), "GMail");
	assert_string_equal(json_string_value(json_array_get(apps, 1)), "YahooMail");
	assert_string_equal(json_string_value(json_object_get(wh, "first_seen")),
	                    "2026-11-05T00:00:00.000000+0000");
	assert_string_equal(json_string_value(json_object_get(wh, "last_seen")),
	                    "2026-11-06T00:01:00.000000+0000");
	assert_non_null(strstr(json_string_value(json_object_get(g2, "advice")), "web mail"));
	json_decref(j);
	/* another tenant sees none of it */
	j = report_json(s, "nobody", "2026-11");
	assert_int_equal(json_array_size(json_object_get(j, "application_use")), 0);
	json_decref(j);

	/* the text report has the section, with local times */
	om_buf b;
	om_buf_init(&b, 1 << 22);
	char err[256];
	om_report_opts o = {.tenant = "acme",
	                    .month = "2026-11",
	                    .format = OM_REPORT_TEXT,
	                    .lang = OM_LANG_EN,
	                    .timezone = "Asia/Tokyo"};
	assert_int_equal(om_report_build(s, &o, &b, err, sizeof(err)), 0);
	om_buf_putc(&b, '\0');
	assert_non_null(strstr(b.data, "== Application use =="));
	assert_non_null(strstr(b.data, "and 2 more computers"));
	/* 2026-11-05T00:00Z is 09:00 in Tokyo */
	assert_non_null(strstr(b.data, "192.168.1.20: 2000 B, 2 connections, 2026-11-05 09:00"));
	om_buf_free(&b);
}

int main(void)
{
	om_i18n_init();
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_store, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_report, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
