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

#include "../store/backend.h"
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

int main(void)
{
	om_i18n_init();
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_time),
	    cmocka_unit_test_setup_teardown(test_import_lines, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_import_spool, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
