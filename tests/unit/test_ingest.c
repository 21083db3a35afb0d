/* Unit tests for the store writer: EVE lines mapped onto the store (alert,
 * anomaly, coverage; flow and stats left out; bad lines refused as data),
 * timestamps parsed back, and a spool imported from its committed position
 * with nothing lost or counted twice. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "../store/backend.h"
#include "store/internal.h"
#include "store/store.h"

/* The store is an SQLite file beside the spool, or a PostgreSQL database
 * (tests/store/backend.h). */
static struct tmpdb tdb;
static char dir[64], db[600], spool[128], err[512];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/omamori-ingest-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	tmpdb_make(&tdb);
	snprintf(db, sizeof(db), "%s", tdb.path);
	snprintf(spool, sizeof(spool), "%s/spool", dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	tmpdb_remove(&tdb);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static long long query(const char *sql)
{
	return (long long)raw_int(db, sql);
}

static const char alert[] =
    "{\"timestamp\":\"2024-05-10T00:10:00.000000+0000\",\"event_type\":\"alert\","
    "\"src_ip\":\"203.0.113.9\",\"dest_ip\":\"192.168.1.10\",\"proto\":\"TCP\","
    "\"alert\":{\"action\":\"allowed\",\"gid\":1,\"signature_id\":9000001,\"rev\":1,"
    "\"signature\":\"OMAMORI RECON vertical port scan\",\"severity\":2},"
    "\"omamori\":{\"category\":\"recon\",\"severity\":2,\"action\":\"detected\","
    "\"tenant\":\"t1\",\"gateway\":\"g1\",\"advice\":\"recon.portscan\"}}";
static const char anomaly[] =
    "{\"timestamp\":\"2024-05-11T23:59:59.999999+0000\",\"event_type\":\"anomaly\","
    "\"src_ip\":\"10.0.0.1\",\"src_port\":1000,\"dest_ip\":\"10.0.0.2\",\"dest_port\":80,"
    "\"proto\":\"TCP\",\"pcap_cnt\":7,\"anomaly\":{\"type\":\"stream\",\"event\":"
    "\"stream.gap\"},\"omamori\":{\"severity\":3,\"action\":\"detected\","
    "\"tenant\":\"t1\",\"gateway\":\"g1\"}}";
static const char coverage[] =
    "{\"timestamp\":\"2024-06-02T13:00:00.000000+0000\",\"event_type\":\"coverage\","
    "\"coverage\":{\"start\":\"2024-06-02T13:00:00.000000+0000\",\"end\":"
    "\"2024-06-02T14:00:00.000000+0000\",\"packets\":12,\"categories\":[\"recon\"]},"
    "\"omamori\":{\"tenant\":\"t1\",\"gateway\":\"g1\"}}";
static const char flow[] = "{\"timestamp\":\"2024-05-10T00:10:00.000000+0000\","
                           "\"event_type\":\"flow\",\"flow\":{},\"omamori\":{"
                           "\"tenant\":\"t1\",\"gateway\":\"g1\"}}";

static void test_parse_time(void **state)
{
	(void)state;
	om_usec t;
	assert_int_equal(om_store_parse_time("2024-05-10T00:00:00.000000+0000", &t), 0);
	assert_int_equal(t, 1715299200000000ull);
	assert_int_equal(om_store_parse_time("1970-01-01T00:00:00.000001+0000", &t), 0);
	assert_int_equal(t, 1);
	assert_int_equal(om_store_parse_time("2100-01-01T00:00:00.000000+0000", &t), 0);
	assert_int_equal(t, 4102444800000000ull);
	/* the round trip through om_time_iso */
	char buf[40];
	om_time_iso(1717333199123456ull, buf, sizeof(buf));
	assert_int_equal(om_store_parse_time(buf, &t), 0);
	assert_int_equal(t, 1717333199123456ull);
	const char *bad[] = {"", "2024-05-10T00:00:00.000000+0900", "2024-05-10 00:00:00.000000+0000",
	                     "2024-13-10T00:00:00.000000+0000", "2024-05-10T24:00:00.000000+0000",
	                     "2024-05-10T00:00:00.00000a+0000", "1969-12-31T23:59:59.000000+0000"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(om_store_parse_time(bad[i], &t), -EINVAL);
	assert_int_equal(om_store_parse_time(NULL, &t), -EINVAL);
}

static void test_import_lines(void **state)
{
	(void)state;
	om_store *s;
	assert_int_equal(om_store_open(db, &s, err, sizeof(err)), 0);
	assert_int_equal(om_store_import_line(s, alert, strlen(alert)), 1);
	assert_int_equal(om_store_import_line(s, anomaly, strlen(anomaly)), 1);
	assert_int_equal(om_store_import_line(s, coverage, strlen(coverage)), 1);
	assert_int_equal(om_store_import_line(s, flow, strlen(flow)), 0);
	/* flow and stats lines carry no omamori object: still just not stored */
	const char stats[] = "{\"timestamp\":\"2024-05-10T00:10:00.000000+0000\","
	                     "\"event_type\":\"stats\",\"stats\":{\"uptime\":1}}";
	assert_int_equal(om_store_import_line(s, stats, strlen(stats)), 0);
	/* the skip of lines not for the store looks at the line's own type: an
	 * escaped look-alike in a string before it changes nothing */
	const char tricky[] = "{\"timestamp\":\"2024-05-10T00:20:00.000000+0000\","
	                      "\"in_iface\":\"x\\\"event_type\\\":\\\"flow\","
	                      "\"event_type\":\"anomaly\",\"src_ip\":\"192.0.2.9\","
	                      "\"anomaly\":{\"type\":\"decode\",\"event\":\"ipv4.trunc_pkt\"},"
	                      "\"omamori\":{\"severity\":3,\"tenant\":\"t1\",\"gateway\":\"g1\"}}";
	assert_int_equal(om_store_import_line(s, tricky, strlen(tricky)), 1);
	/* the same alert again: accepted, not counted twice */
	assert_int_equal(om_store_import_line(s, alert, strlen(alert)), 1);
	/* bad data */
	const char *bad[] = {
	    "not json",
	    "[1,2]",
	    "{\"event_type\":\"alert\"}",
	    "{\"event_type\":\"alert\",\"omamori\":{\"tenant\":\"t\",\"gateway\":\"g\"}}",
	    "{\"timestamp\":\"yesterday\",\"event_type\":\"alert\",\"alert\":{},"
	    "\"omamori\":{\"tenant\":\"t\",\"gateway\":\"g\"}}",
	    "{\"event_type\":\"coverage\",\"coverage\":{\"start\":\"x\"},"
	    "\"omamori\":{\"tenant\":\"t\",\"gateway\":\"g\"}}",
	    "{\"event_type\":\"coverage\",\"coverage\":{\"start\":"
	    "\"2024-06-02T13:00:00.000000+0000\",\"packets\":1,\"categories\":[7]},"
	    "\"omamori\":{\"tenant\":\"t\",\"gateway\":\"g\"}}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(om_store_import_line(s, bad[i], strlen(bad[i])), -EINVAL);
	/* a line is not NUL-terminated in the spool: only len bytes count */
	char padded[sizeof(alert) + 8];
	memcpy(padded, alert, sizeof(alert) - 1);
	memcpy(padded + sizeof(alert) - 1, "garbage", 8);
	assert_int_equal(om_store_import_line(s, padded, sizeof(alert) - 1), 1);
	assert_int_equal(om_store_flush(s), 0);
	uint64_t n;
	assert_int_equal(om_store_month_total(s, "t1", "2024-05", "recon", &n), 0);
	assert_int_equal(n, 1);
	/* the coverage hour makes June watched for scans; July is not */
	assert_int_equal(om_store_monitored(s, "t1", "2024-06", "recon"), 1);
	assert_int_equal(om_store_monitored(s, "t1", "2024-07", "recon"), 0);
	om_store_close(s);
	assert_int_equal(query("SELECT count(*) FROM events"), 3); /* alert, anomaly, tricky */
	assert_int_equal(query("SELECT count(*) FROM events WHERE src_ip = '192.0.2.9'"), 1);
	assert_int_equal(query("SELECT dest_port FROM events WHERE event_type = 'anomaly'"
	                       " AND src_ip != '192.0.2.9'"),
	                 80);
	assert_int_equal(query("SELECT ts_usec FROM events WHERE event_type = 'anomaly'"
	                       " AND src_ip != '192.0.2.9'"),
	                 1715471999999999ll);
	assert_int_equal(query("SELECT signature_id FROM events WHERE event_type = 'alert'"),
	                 9000001);
	assert_int_equal(query("SELECT count(*) FROM events WHERE eve = '" /* stored whole */
	                       "{\"timestamp\":\"2024-05-10T00:10:00.000000+0000\","
	                       "\"event_type\":\"alert\",\"src_ip\":\"203.0.113.9\"," /* ... */
	                       "\"dest_ip\":\"192.168.1.10\",\"proto\":\"TCP\",\"alert\":{"
	                       "\"action\":\"allowed\",\"gid\":1,\"signature_id\":9000001,"
	                       "\"rev\":1,\"signature\":\"OMAMORI RECON vertical port scan\","
	                       "\"severity\":2},\"omamori\":{\"category\":\"recon\","
	                       "\"severity\":2,\"action\":\"detected\",\"tenant\":\"t1\","
	                       "\"gateway\":\"g1\",\"advice\":\"recon.portscan\"}}'"),
	                 1);
}

/* A parsed set gives what the direct path gives: the same results per
 * line, the same rows once written; a full set keeps no part of a line. */
static void test_parsed(void **state)
{
	(void)state;
	om_store *s;
	om_store_parsed *p = NULL;
	om_store_parsed_counts c;
	char padded[sizeof(alert) + 8];
	memcpy(padded, alert, sizeof(alert) - 1);
	memcpy(padded + sizeof(alert) - 1, "garbage", 8);
	const char other[] = "{\"timestamp\":\"2024-05-10T00:10:00.000000+0000\","
	                     "\"event_type\":\"alert\",\"alert\":{},\"omamori\":{"
	                     "\"category\":\"recon\",\"tenant\":\"t2\",\"gateway\":\"g1\"}}";
	struct {
		const char *line;
		size_t len;
		int want;
	} lines[] = {
	    {alert, sizeof(alert) - 1, 1},      {anomaly, sizeof(anomaly) - 1, 1},
	    {coverage, sizeof(coverage) - 1, 1}, {flow, sizeof(flow) - 1, 0},
	    {alert, sizeof(alert) - 1, 1},      {"not json", 8, -EINVAL},
	    {other, sizeof(other) - 1, -EINVAL}, {padded, sizeof(alert) - 1, 1},
	};
	assert_int_equal(om_store_parsed_new(1u << 20, &p), 0);
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		assert_int_equal(om_store_parsed_add(p, lines[i].line, lines[i].len, "t1", "g1"),
		                 lines[i].want);
	assert_int_equal(om_store_parsed_lines(p), 5);
	/* nothing touched the store yet */
	assert_int_equal(om_store_open(db, &s, err, sizeof(err)), 0);
	assert_int_equal(om_store_parsed_write(s, p, &c), 0);
	assert_int_equal(c.stored, 5);
	assert_int_equal(c.invalid, 0);
	assert_int_equal(c.ignored, 0);
	/* written again (a resent batch): the same rows */
	assert_int_equal(om_store_parsed_write(s, p, &c), 0);
	assert_int_equal(om_store_flush(s), 0);
	om_store_close(s);
	p = om_store_parsed_free(p);
	assert_null(p);
	assert_int_equal(query("SELECT count(*) FROM events"), 2);
	assert_int_equal(query("SELECT sum(count) FROM rollup_daily"), 1);
	assert_int_equal(query("SELECT count(*) FROM watched WHERE packets = 12"), 1);
	/* stored whole, without the bytes after the line */
	assert_int_equal(query("SELECT count(*) FROM events WHERE eve LIKE '%garbage%'"), 0);

	/* room for less than one alert: refused whole, the set still usable */
	assert_int_equal(om_store_parsed_new(64, &p), 0);
	assert_int_equal(om_store_parsed_add(p, alert, sizeof(alert) - 1, "t1", "g1"), -E2BIG);
	assert_int_equal(om_store_parsed_lines(p), 0);
	assert_int_equal(om_store_parsed_add(p, flow, sizeof(flow) - 1, "t1", "g1"), 0);
	om_store_parsed_free(p);
}

static void test_import_spool(void **state)
{
	(void)state;
	om_spool_opts o;
	om_spool_opts_default(&o);
	o.fsync = OM_SPOOL_FSYNC_NONE;
	om_spool *sp;
	assert_int_equal(om_spool_open(spool, &o, &sp, err, sizeof(err)), 0);
	/* 5000 distinct anomalies (more than one import batch), a flow, junk */
	char line[512];
	for (int i = 0; i < 5000; i++) {
		int n = snprintf(line, sizeof(line),
		                 "{\"timestamp\":\"2024-05-10T00:00:00.000000+0000\","
		                 "\"event_type\":\"anomaly\",\"pcap_cnt\":%d,\"anomaly\":{"
		                 "\"type\":\"decode\",\"event\":\"ipv4.trunc_pkt\"},\"omamori\":{"
		                 "\"severity\":3,\"tenant\":\"t1\",\"gateway\":\"g1\"}}\n",
		                 i + 1);
		assert_int_equal(om_spool_append(sp, line, (size_t)n), 0);
	}
	char more[sizeof(flow) + 16];
	int n = snprintf(more, sizeof(more), "%s\n{junk\n", flow);
	assert_int_equal(om_spool_append(sp, more, (size_t)n), 0);
	om_spool_close(sp);

	om_store *s;
	om_spool_reader *rd;
	om_store_import_stats st = {0};
	assert_int_equal(om_store_open(db, &s, err, sizeof(err)), 0);
	assert_int_equal(om_spool_reader_open(spool, "store", &rd, err, sizeof(err)), 0);
	assert_int_equal(om_store_import_spool(s, rd, NULL, NULL, &st, err, sizeof(err)), 0);
	assert_int_equal(st.records, 5002);
	assert_int_equal(st.stored, 5000);
	assert_int_equal(st.ignored, 1);
	assert_int_equal(st.invalid, 1);
	om_spool_reader_close(rd);
	/* again: resumes after the end, nothing to do */
	memset(&st, 0, sizeof(st));
	assert_int_equal(om_spool_reader_open(spool, "store", &rd, err, sizeof(err)), 0);
	assert_int_equal(om_store_import_spool(s, rd, NULL, NULL, &st, err, sizeof(err)), 0);
	assert_int_equal(st.records, 0);
	om_spool_reader_close(rd);
	/* a reader that lost its position reads everything again: no double count */
	memset(&st, 0, sizeof(st));
	assert_int_equal(om_spool_reader_open(spool, "other", &rd, err, sizeof(err)), 0);
	assert_int_equal(om_store_import_spool(s, rd, NULL, NULL, &st, err, sizeof(err)), 0);
	assert_int_equal(st.records, 5002);
	om_spool_reader_close(rd);
	om_store_close(s);
	assert_int_equal(query("SELECT count(*) FROM events"), 5000);
}


/* ---- the field scanner (evescan.c) against jansson ---- */

static void same_str(const char *a, const char *b)
{
	if (!a || !b)
		assert_true(a == b);
	else
		assert_string_equal(a, b);
}

/* The scanner's answer for line: when it answers, jansson takes the line too
 * and gives the same fields. Returns whether it answered. */
static bool scan_agrees(const char *line)
{
	size_t len = strlen(line);
	char *scratch = malloc(len + 16);
	store_eve_fields a, b;
	assert_non_null(scratch);
	bool ok = store_eve_scan(line, len, scratch, &a);
	json_error_t e;
	json_t *ev = json_loadb(line, len, JSON_REJECT_DUPLICATES, &e);
	if (ok) {
		assert_true(json_is_object(ev));
		store_eve_fields_of(ev, &b);
		same_str(a.event_type, b.event_type);
		same_str(a.timestamp, b.timestamp);
		same_str(a.src_ip, b.src_ip);
		same_str(a.dest_ip, b.dest_ip);
		same_str(a.proto, b.proto);
		same_str(a.tenant, b.tenant);
		same_str(a.gateway, b.gateway);
		same_str(a.category, b.category);
		same_str(a.action, b.action);
		same_str(a.signature, b.signature);
		same_str(a.anomaly_event, b.anomaly_event);
		assert_int_equal(a.has_src_port, b.has_src_port);
		assert_int_equal(a.src_port, b.src_port);
		assert_int_equal(a.has_dest_port, b.has_dest_port);
		assert_int_equal(a.dest_port, b.dest_port);
		assert_int_equal(a.has_severity, b.has_severity);
		assert_int_equal(a.severity, b.severity);
		assert_int_equal(a.has_signature_id, b.has_signature_id);
		assert_int_equal(a.signature_id, b.signature_id);
		assert_int_equal(a.om_obj, b.om_obj);
		assert_int_equal(a.alert_obj, b.alert_obj);
		assert_int_equal(a.anomaly_obj, b.anomaly_obj);
	}
	json_decref(ev);
	free(scratch);
	return ok;
}

static void test_scan(void **state)
{
	(void)state;
	/* read by the scanner itself (the usual lines, escapes, odd types) */
	static const char *const fast[] = {
	    "{\"timestamp\":\"2024-05-01T10:00:00.000000+0000\",\"event_type\":\"alert\","
	    "\"src_ip\":\"203.0.113.9\",\"src_port\":40000,\"dest_ip\":\"192.168.1.2\","
	    "\"dest_port\":22,\"proto\":\"TCP\",\"flow\":{\"pkts\":[1,2.5,-3,true,false,null]},"
	    "\"alert\":{\"signature_id\":9000001,\"signature\":\"scan \\\"x\\\" \\\\ \\/ \\u00e9"
	    "\\u3042\\n\"},\"omamori\":{\"category\":\"recon\",\"severity\":2,\"tenant\":\"t\","
	    "\"gateway\":\"g\",\"action\":\"blocked\"}}",
	    " { \"event_type\" : \"anomaly\" , \"anomaly\" : { \"event\" : \"bad\" } ,"
	    " \"omamori\" : { \"tenant\" : \"t\" , \"gateway\" : \"g\" } }\r",
	    /* wrong types: as jansson, absent */
	    "{\"event_type\":\"alert\",\"src_port\":\"22\",\"dest_port\":22.0,\"proto\":6,"
	    "\"alert\":[],\"omamori\":{\"severity\":\"high\",\"tenant\":1}}",
	    "{\"event_type\":\"alert\",\"alert\":{\"signature_id\":-0,\"signature\":null},"
	    "\"src_port\":-99999999999999999,\"x\":{\"omamori\":{\"tenant\":\"deep\"}}}",
	    "{}",
	    "{\"a\":{},\"b\":[],\"c\":[[]],\"d\":\"\",\"\":0}",
	};
	for (size_t i = 0; i < sizeof(fast) / sizeof(fast[0]); i++)
		assert_true(scan_agrees(fast[i]));
	/* left to jansson: refused by it, or not judged here */
	static const char *const slow[] = {
	    "{\"event_type\":\"alert\",\"event_type\":\"flow\"}", /* duplicate */
	    "{\"omamori\":{\"tenant\":\"a\",\"tenant\":\"b\"}}",     /* duplicate, nested */
	    "{\"a\":1}x",
	    "{\"a\":1,}",
	    "{\"a\":01}",
	    "{\"a\":1e5}",
	    "{\"a\":1.}",
	    "{\"a\":-}",
	    "{\"a\":1234567890123456789}", /* 19 characters */
	    "{\"a\":\"\\u0000\"}",
	    "{\"a\":\"\\ud83d\\ude00\"}",
	    "{\"a\":\"\\x\"}",
	    "{\"a\":\"\\u12\"}",
	    "{\"a\":\"tab\there\"}",
	    "{\"a\":\"caf\xc3\xa9\"}",
	    "{\"\\u0061\":1,\"a\":2}", /* a duplicate jansson sees after unescaping */
	    "{\"a\":tru}",
	    "{\"a\" 1}",
	    "[1]",
	    "\"x\"",
	    "",
	    "{\"a\":[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]}",
	    "{\"a\":\"unterminated}",
	};
	for (size_t i = 0; i < sizeof(slow) / sizeof(slow[0]); i++)
		assert_false(scan_agrees(slow[i]));
	/* an object with many keys: not judged past the cap */
	char big[4096];
	size_t n = 0;
	big[n++] = '{';
	for (int i = 0; i < 60; i++)
		n += (size_t)snprintf(big + n, sizeof(big) - n, "%s\"k%d\":%d", i ? "," : "", i, i);
	big[n++] = '}';
	big[n] = '\0';
	assert_false(scan_agrees(big));
}

int main(void)
{
	om_i18n_init();
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_time),
	    cmocka_unit_test(test_scan),
	    cmocka_unit_test_setup_teardown(test_import_lines, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_import_spool, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_parsed, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
