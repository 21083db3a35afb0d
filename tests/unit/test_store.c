/* Unit tests for the event store: migrations, batching, duplicate
 * suppression, coverage, report queries, UTC month boundaries and survival of
 * a kill -9 in the middle of an import. They run on SQLite, and again on
 * PostgreSQL under tests/store/with-pg (tests/store/backend.h); the few
 * checks of one backend's own machinery say which. */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "../store/backend.h"
#include "base/base.h"
#include "store/store.h"

/* 2024-06-01T00:00:00Z: 2024-01-01 is 1704067200, plus 31+29+31+30+31 = 152
 * days of 86400 s. */
#define JUNE1_2024 1717200000ull
#define MAY1_2024 (JUNE1_2024 - 31ull * 86400ull)
#define USEC 1000000ull

/* Fills ev with an alert; the EVE line is unique per (seq, ts). */
static void mk_event(om_store_event *ev, char *eve, size_t evelen, const char *tenant,
                     const char *gateway, const char *category, om_usec ts_sec,
                     const char *src, const char *dst, unsigned seq)
{
	snprintf(eve, evelen,
	         "{\"timestamp\":\"%llu\",\"event_type\":\"alert\",\"src_ip\":\"%s\","
	         "\"dest_ip\":\"%s\",\"seq\":%u}",
	         (unsigned long long)ts_sec, src ? src : "", dst ? dst : "", seq);
	memset(ev, 0, sizeof(*ev));
	ev->ts = ts_sec * USEC;
	ev->tenant = tenant;
	ev->gateway = gateway;
	ev->event_type = "alert";
	ev->category = category;
	ev->severity = 2;
	ev->action = "blocked";
	ev->src_ip = src;
	ev->src_port = 40000;
	ev->dest_ip = dst;
	ev->dest_port = 22;
	ev->proto = "TCP";
	ev->signature = "OMAMORI RECON vertical port scan";
	ev->signature_id = 9000001;
	ev->eve_json = eve;
}

static void add(om_store *s, const char *tenant, const char *gw, const char *cat, om_usec ts,
                const char *src, const char *dst, unsigned seq)
{
	om_store_event ev;
	char eve[512];
	mk_event(&ev, eve, sizeof(eve), tenant, gw, cat, ts, src, dst, seq);
	assert_int_equal(om_store_add_event(s, &ev), 0);
}

static void test_migrate_from_empty(void **state)
{
	(void)state;
	struct tmpdb t;
	om_store *s = NULL;
	char err[256] = "";
	int from = -1, to = -1;

	tmpdb_make(&t);
	assert_int_equal(om_store_open_nomigrate(t.path, &s, err, sizeof(err)), 0);
	assert_int_equal(om_store_schema_version(s), 0);
	assert_true(om_store_latest_version() >= 1);
	assert_int_equal(om_store_migrate(s, &from, &to, err, sizeof(err)), 0);
	assert_int_equal(from, 0);
	assert_int_equal(to, om_store_latest_version());
	assert_int_equal(om_store_schema_version(s), om_store_latest_version());
	/* Migrating again is a no-op. */
	assert_int_equal(om_store_migrate(s, &from, &to, err, sizeof(err)), 0);
	assert_int_equal(from, om_store_latest_version());
	assert_int_equal(to, om_store_latest_version());
	s = om_store_close(s);
	assert_null(s);

	/* The three tables exist (the old per-day coverage table is gone). */
	assert_int_equal(raw_table_count(t.path, "events"), 1);
	assert_int_equal(raw_table_count(t.path, "rollup_daily"), 1);
	assert_int_equal(raw_table_count(t.path, "watched"), 1);
	assert_int_equal(raw_table_count(t.path, "coverage"), 0);
	if (tb_pg()) {
		/* the version in its one-row table */
		assert_int_equal(raw_int(t.path, "SELECT count(*) FROM omamori_schema"), 1);
		assert_int_equal(raw_int(t.path, "SELECT version FROM omamori_schema"),
		                 om_store_latest_version());
		/* 64-bit columns where SQLite's INTEGER is 64 bits */
		assert_string_equal(raw_text(t.path, "SELECT data_type FROM information_schema.columns"
		                                     " WHERE table_name = 'events' AND"
		                                     " column_name = 'ts_usec'"),
		                    "bigint");
	} else {
		/* the file is in WAL mode */
		assert_string_equal(raw_text(t.path, "PRAGMA journal_mode"), "wal");
		assert_int_equal(raw_int(t.path, "PRAGMA user_version"), om_store_latest_version());
	}
	tmpdb_remove(&t);
}

/* The number of indexes of the events table (the primary key's included on
 * PostgreSQL; SQLite's rowid has none). */
static int64_t events_index_count(const char *path)
{
	return raw_int(path, tb_pg() ? "SELECT count(*) FROM pg_indexes WHERE schemaname ="
	                               " current_schema() AND tablename = 'events'"
	                             : "SELECT count(*) FROM sqlite_master WHERE type = 'index'"
	                               " AND tbl_name = 'events'");
}

/* Version 5: a store of version 4 (with the report's index on tenant,
 * category and day and the console's on tenant and time) keeps one index
 * on tenant, time and category for both, and its reads still find their
 * rows. */
static void test_migrate_v5_indexes(void **state)
{
	(void)state;
	struct tmpdb t;
	om_store *s = NULL;
	char err[256] = "";
	uint64_t total = 0;

	tmpdb_make(&t);
	assert_int_equal(om_store_open(t.path, &s, err, sizeof(err)), 0);
	add(s, "acme", "gw1", "recon", MAY1_2024 + 10, "203.0.113.9", "192.168.1.10", 1);
	add(s, "acme", "gw1", "c2", MAY1_2024 + 20, "203.0.113.9", "192.168.1.11", 2);
	om_store_close(s);
	/* a new store: the key, the one index (and PostgreSQL's primary key) */
	assert_int_equal(raw_index_count(t.path, "events_tenant_ts"), 1);
	assert_int_equal(raw_index_count(t.path, "events_key"), 1);
	assert_int_equal(raw_index_count(t.path, "events_tenant_category_day"), 0);
	assert_int_equal(raw_index_count(t.path, "console_events_tenant_ts"), 0);
	assert_int_equal(events_index_count(t.path), tb_pg() ? 3 : 2);

	/* back to what version 4 and the console's schema of then left */
	raw_exec(t.path,
	         "DROP INDEX events_tenant_ts;"
	         "CREATE INDEX events_tenant_category_day ON events (tenant, category, day);"
	         "CREATE INDEX console_events_tenant_ts ON events (tenant, ts_usec);");
	raw_exec(t.path,
	         tb_pg() ? "UPDATE omamori_schema SET version = 4" : "PRAGMA user_version = 4");
	assert_int_equal(events_index_count(t.path), tb_pg() ? 4 : 3);
	assert_int_equal(om_store_open(t.path, &s, err, sizeof(err)), 0);
	assert_int_equal(om_store_schema_version(s), om_store_latest_version());
	assert_int_equal(om_store_month_total(s, "acme", "2024-05", "recon", &total), 0);
	assert_int_equal(total, 1);
	assert_int_equal(om_store_range_count(s, "acme", "c2", MAY1_2024 * USEC,
	                                      (MAY1_2024 + 86400) * USEC, &total),
	                 0);
	assert_int_equal(total, 1);
	om_store_close(s);
	assert_int_equal(raw_index_count(t.path, "events_tenant_ts"), 1);
	assert_int_equal(raw_index_count(t.path, "events_tenant_category_day"), 0);
	assert_int_equal(raw_index_count(t.path, "console_events_tenant_ts"), 0);
	assert_int_equal(events_index_count(t.path), tb_pg() ? 3 : 2);
	tmpdb_remove(&t);
}

/* The stored event key is what it always was: two om_hash64 chains (the
 * seeds of attempt 0) over the length-framed tenant, gateway and line, in
 * hex. Keys of stores written before must keep matching the same events. */
static void key_update(uint64_t *h, const char *p)
{
	uint64_t len = strlen(p);
	*h = om_hash64(&len, sizeof(len), *h);
	*h = om_hash64(p, len, *h);
}

static void test_event_key_unchanged(void **state)
{
	(void)state;
	struct tmpdb t;
	om_store *s = NULL;
	char err[256] = "", want[33];
	om_store_event ev;
	char eve[512];

	tmpdb_make(&t);
	assert_int_equal(om_store_open(t.path, &s, err, sizeof(err)), 0);
	mk_event(&ev, eve, sizeof(eve), "acme", "gw1", "recon", MAY1_2024 + 10, "203.0.113.9",
	         "192.168.1.10", 1);
	assert_int_equal(om_store_add_event(s, &ev), 0);
	uint64_t h1 = 0x6f6d616d6f726901ull, h2 = 0x5f6b65795f736564ull;
	const char *f[3] = {ev.tenant, ev.gateway, ev.eve_json};
	for (int i = 0; i < 3; i++)
		key_update(&h1, f[i]);
	for (int i = 0; i < 3; i++)
		key_update(&h2, f[i]);
	snprintf(want, sizeof(want), "%016" PRIx64 "%016" PRIx64, h1, h2);
	om_store_close(s);
	assert_string_equal(raw_text(t.path, "SELECT event_key FROM events"), want);
	tmpdb_remove(&t);
}

static void test_reopen_idempotent(void **state)
{
	(void)state;
	struct tmpdb t;
	om_store *s = NULL;
	char err[256] = "";

	tmpdb_make(&t);
	assert_int_equal(om_store_open(t.path, &s, err, sizeof(err)), 0);
	add(s, "acme", "gw1", "recon", MAY1_2024 + 10, "203.0.113.9", "192.168.1.10", 1);
	add(s, "acme", "gw1", "recon", MAY1_2024 + 20, "203.0.113.9", "192.168.1.11", 2);
	om_store_close(s);

	for (int i = 0; i < 3; i++) {
		assert_int_equal(om_store_open(t.path, &s, err, sizeof(err)), 0);
		assert_int_equal(om_store_schema_version(s), om_store_latest_version());
		uint64_t total = 99;
		assert_int_equal(om_store_month_total(s, "acme", "2024-05", "recon", &total), 0);
		assert_int_equal(total, 2);
		om_store_close(s);
	}
	assert_int_equal(raw_int(t.path, "SELECT count(*) FROM events"), 2);
	tmpdb_remove(&t);
}

static void test_newer_schema_rejected(void **state)
{
	(void)state;
	struct tmpdb t;
	om_store *s = NULL;
	char err[256] = "";
	char sql[64];

	tmpdb_make(&t);
	assert_int_equal(om_store_open(t.path, &s, err, sizeof(err)), 0);
	om_store_close(s);
	snprintf(sql, sizeof(sql),
	         tb_pg() ? "UPDATE omamori_schema SET version = %d" : "PRAGMA user_version = %d",
	         om_store_latest_version() + 1);
	raw_exec(t.path, sql);

	s = NULL;
	assert_int_equal(om_store_open(t.path, &s, err, sizeof(err)), -EPROTONOSUPPORT);
	assert_null(s);
	assert_non_null(strstr(err, "newer"));
	/* Opening without migrating works (to report the version); migrating
	 * does not. */
	assert_int_equal(om_store_open_nomigrate(t.path, &s, err, sizeof(err)), 0);
	assert_int_equal(om_store_schema_version(s), om_store_latest_version() + 1);
	err[0] = 0;
	assert_int_equal(om_store_migrate(s, NULL, NULL, err, sizeof(err)), -EPROTONOSUPPORT);
	assert_non_null(strstr(err, "newer"));
	om_store_close(s);
	tmpdb_remove(&t);
}

static void test_foreign_files_rejected(void **state)
{
	(void)state;
	struct tmpdb t;
	om_store *s = NULL;
	char err[256] = "";
	FILE *f;

	/* Another application's database: a marked SQLite file, or a
	 * PostgreSQL database with tables of its own. */
	tmpdb_make(&t);
	raw_exec(t.path, tb_pg() ? "CREATE TABLE x (a INTEGER)"
	                         : "PRAGMA application_id = 42; CREATE TABLE x (a);");
	assert_int_equal(om_store_open(t.path, &s, err, sizeof(err)), -EBADMSG);
	assert_null(s);
	assert_non_null(strstr(err, tb_pg() ? "none of omamori's" : "not an omamori database"));
	/* and nothing was created in it */
	assert_int_equal(raw_table_count(t.path, "events"), 0);
	tmpdb_remove(&t);

	if (tb_pg()) {
		/* A database that does not exist, with a password in the URL:
		 * the error says so and does not repeat the password. */
		char url[600];
		snprintf(url, sizeof(url), "postgresql://omamori:s3cret@/omt_absent?host=%s",
		         tb_pg_host());
		err[0] = 0;
		assert_int_equal(om_store_open(url, &s, err, sizeof(err)), -ECONNREFUSED);
		assert_null(s);
		assert_non_null(strstr(err, "omt_absent"));
		assert_non_null(strstr(err, "cannot connect to PostgreSQL"));
		assert_null(strstr(err, "s3cret"));
		goto bad_args;
	}

	/* Not a database at all. */
	tmpdb_make(&t);
	f = fopen(t.path, "w");
	assert_non_null(f);
	for (int i = 0; i < 200; i++)
		fputs("this is not sqlite\n", f);
	fclose(f);
	err[0] = 0;
	assert_true(om_store_open(t.path, &s, err, sizeof(err)) < 0);
	assert_null(s);
	assert_true(err[0] != 0);
	tmpdb_remove(&t);

bad_args:
	/* Bad arguments. */
	assert_int_equal(om_store_open("", &s, err, sizeof(err)), -EINVAL);
	assert_int_equal(om_store_open(NULL, &s, err, sizeof(err)), -EINVAL);
	assert_null(om_store_close(NULL));
}

static void test_batch_commit(void **state)
{
	(void)state;
	struct tmpdb t;
	om_store *s = NULL;
	char err[256] = "";

	tmpdb_make(&t);
	assert_int_equal(om_store_open(t.path, &s, err, sizeof(err)), 0);
	om_store_set_batch_size(s, 10);
	for (unsigned i = 0; i < 25; i++)
		add(s, "acme", "gw1", "c2", MAY1_2024 + i, "192.168.1.5", "198.51.100.1", i);
	/* Another connection sees the two committed batches only. */
	assert_int_equal(raw_int(t.path, "SELECT count(*) FROM events"), 20);
	assert_int_equal(raw_int(t.path, "SELECT sum(count) FROM rollup_daily"), 20);
	assert_int_equal(om_store_flush(s), 0);
	assert_int_equal(raw_int(t.path, "SELECT count(*) FROM events"), 25);
	assert_int_equal(om_store_flush(s), 0); /* nothing pending: no-op */
	for (unsigned i = 25; i < 28; i++)
		add(s, "acme", "gw1", "c2", MAY1_2024 + i, "192.168.1.5", "198.51.100.1", i);
	om_store_close(s); /* close commits the rest */
	assert_int_equal(raw_int(t.path, "SELECT count(*) FROM events"), 28);
	assert_int_equal(raw_int(t.path, "SELECT sum(count) FROM rollup_daily"), 28);
	tmpdb_remove(&t);
}

static void test_duplicates_ignored(void **state)
{
	(void)state;
	struct tmpdb t;
	om_store *s = NULL;
	char err[256] = "";
	uint64_t total = 0;

	tmpdb_make(&t);
	assert_int_equal(om_store_open(t.path, &s, err, sizeof(err)), 0);
	/* The same capture imported twice, the second time after a reopen. */
	for (int round = 0; round < 2; round++) {
		for (unsigned i = 0; i < 5; i++)
			add(s, "acme", "gw1", "spam", MAY1_2024 + 100 * i, "198.51.100.3",
			    "192.168.1.2", i);
		/* and once more inside the same batch */
		add(s, "acme", "gw1", "spam", MAY1_2024, "198.51.100.3", "192.168.1.2", 0);
		om_store_close(s);
		assert_int_equal(om_store_open(t.path, &s, err, sizeof(err)), 0);
	}
	assert_int_equal(om_store_month_total(s, "acme", "2024-05", "spam", &total), 0);
	assert_int_equal(total, 5);
	/* The same EVE line from another gateway or tenant is another event. */
	add(s, "acme", "gw2", "spam", MAY1_2024, "198.51.100.3", "192.168.1.2", 0);
	add(s, "other", "gw1", "spam", MAY1_2024, "198.51.100.3", "192.168.1.2", 0);
	om_store_flush(s);
	assert_int_equal(om_store_month_total(s, "acme", "2024-05", "spam", &total), 0);
	assert_int_equal(total, 6);
	assert_int_equal(om_store_month_total(s, "other", "2024-05", "spam", &total), 0);
	assert_int_equal(total, 1);
	om_store_close(s);
	assert_int_equal(raw_int(t.path, "SELECT count(*) FROM events"), 7);
	assert_int_equal(raw_int(t.path, "SELECT sum(count) FROM rollup_daily"), 7);
	tmpdb_remove(&t);
}

/* 2024-05-03T00:00:00Z */
#define MAY3_2024 (MAY1_2024 + 2ull * 86400ull)
#define HOUR 3600ull

static void test_coverage(void **state)
{
	(void)state;
	struct tmpdb t;
	om_store *s = NULL;
	char err[256] = "";
	uint64_t total = 99;
	om_store_watched w;

	tmpdb_make(&t);
	assert_int_equal(om_store_open(t.path, &s, err, sizeof(err)), 0);
	/* The old per-day API: the whole day, once however often it is said. */
	assert_int_equal(om_store_add_coverage(s, "acme", "gw1", "recon", "2024-05-03"), 0);
	assert_int_equal(om_store_add_coverage(s, "acme", "gw1", "recon", "2024-05-03"), 0);
	assert_int_equal(om_store_add_coverage(s, "acme", "gw1", "spam", "2024-04-30"), 0);
	assert_int_equal(om_store_add_coverage(s, "acme", "gw1", "spam", "2024-02-29"), 0);
	/* bad days, including ones that are not on the calendar */
	assert_int_equal(om_store_add_coverage(s, "acme", "gw1", "recon", "2024-5-03"), -EINVAL);
	assert_int_equal(om_store_add_coverage(s, "acme", "gw1", "recon", "2024-13-01"), -EINVAL);
	assert_int_equal(om_store_add_coverage(s, "acme", "gw1", "recon", "2024-05-32"), -EINVAL);
	assert_int_equal(om_store_add_coverage(s, "acme", "gw1", "recon", "2024-02-30"), -EINVAL);
	assert_int_equal(om_store_add_coverage(s, "acme", "gw1", "recon", "2023-02-29"), -EINVAL);
	assert_int_equal(om_store_add_coverage(s, "acme", "gw1", "recon", "2024-04-31"), -EINVAL);
	assert_int_equal(om_store_add_coverage(s, "acme", "gw1", "recon", "1969-12-31"), -EINVAL);
	assert_int_equal(om_store_add_coverage(s, "acme", "gw1", "recon", "2024-05-03x"), -EINVAL);
	assert_int_equal(om_store_add_coverage(s, "acme", "gw1", "recon", "2024-05-0x"), -EINVAL);
	assert_int_equal(om_store_add_coverage(s, "acme", "gw1", "recon", NULL), -EINVAL);
	assert_int_equal(om_store_add_coverage(s, "acme", "gw1", "", "2024-05-03"), -EINVAL);
	om_store_flush(s);

	assert_int_equal(om_store_monitored(s, "acme", "2024-05", "recon"), 1);
	assert_int_equal(om_store_monitored(s, "acme", "2024-05", "spam"), 0);
	assert_int_equal(om_store_monitored(s, "acme", "2024-04", "spam"), 1);
	assert_int_equal(om_store_monitored(s, "acme", "2024-06", "recon"), 0);
	assert_int_equal(om_store_monitored(s, "other", "2024-05", "recon"), 0);
	/* one day of May: 24 hours of 24 on day 3, nothing else */
	assert_int_equal(om_store_month_watched(s, "acme", NULL, "2024-05", "recon", &w), 0);
	assert_int_equal(w.ndays, 31);
	assert_int_equal(w.days, 1);
	assert_int_equal(w.hours, 24);
	assert_int_equal(w.packets, 0); /* not known from a per-day record */
	assert_int_equal(w.day_hours[2], 24);
	assert_int_equal(w.day_hours[1] + w.day_hours[3], 0);
	/* hours 48..71 of the month: bytes 6, 7 and 8 full, the rest empty */
	assert_int_equal(w.hour_map[5], 0);
	assert_int_equal(w.hour_map[6] & w.hour_map[7] & w.hour_map[8], 0xff);
	assert_int_equal(w.hour_map[9], 0);
	/* the last day of April and of a leap February */
	assert_int_equal(om_store_month_watched(s, "acme", NULL, "2024-04", "spam", &w), 0);
	assert_int_equal(w.ndays, 30);
	assert_int_equal(w.days, 1);
	assert_int_equal(w.day_hours[29], 24);
	assert_int_equal(om_store_month_watched(s, "acme", NULL, "2024-02", "spam", &w), 0);
	assert_int_equal(w.ndays, 29);
	assert_int_equal(w.day_hours[28], 24);
	/* monitored, no events: 0, not an error */
	assert_int_equal(om_store_month_total(s, "acme", "2024-05", "recon", &total), 0);
	assert_int_equal(total, 0);
	/* An event proves its category was watched in its hour, and only then. */
	add(s, "acme", "gw1", "c2", MAY1_2024 + 3600 + 59, "192.168.1.5", "198.51.100.1", 1);
	assert_int_equal(om_store_monitored(s, "acme", "2024-05", "c2"), 1);
	assert_int_equal(om_store_month_watched(s, "acme", NULL, "2024-05", "c2", &w), 0);
	assert_int_equal(w.days, 1);
	assert_int_equal(w.hours, 1);
	assert_int_equal(w.day_hours[0], 1);
	assert_int_equal(w.hour_map[0], 1u << 1);
	/* ... and the coverage record that arrives later gives the count */
	assert_int_equal(om_store_add_watched(s, "acme", "gw1", "c2", (MAY1_2024 + 3600) * USEC, 42),
	                 0);
	assert_int_equal(om_store_month_watched(s, "acme", NULL, "2024-05", "c2", &w), 0);
	assert_int_equal(w.hours, 1);
	assert_int_equal(w.packets, 42);
	om_store_close(s);
	/* 24 + 24 + 24 hours and the c2 hour */
	assert_int_equal(raw_int(t.path, "SELECT count(*) FROM watched"), 73);
	tmpdb_remove(&t);
}

static void test_watched_hours(void **state)
{
	(void)state;
	struct tmpdb t;
	om_store *s = NULL;
	char err[256] = "";
	om_store_watched w;

	tmpdb_make(&t);
	assert_int_equal(om_store_open(t.path, &s, err, sizeof(err)), 0);
	/* gw1 watched May 3 from 10:00 to 12:59 (3 hours) and May 31 23:00;
	 * gw2 watched May 3 11:00 (shared with gw1) and 14:00. */
	assert_int_equal(
	    om_store_add_watched(s, "acme", "gw1", "recon", (MAY3_2024 + 10 * HOUR) * USEC, 100), 0);
	assert_int_equal(
	    om_store_add_watched(s, "acme", "gw1", "recon", (MAY3_2024 + 11 * HOUR) * USEC, 200), 0);
	assert_int_equal(
	    om_store_add_watched(s, "acme", "gw1", "recon", (MAY3_2024 + 12 * HOUR) * USEC, 300), 0);
	assert_int_equal(om_store_add_watched(s, "acme", "gw1", "recon", (JUNE1_2024 - HOUR) * USEC, 5),
	                 0);
	assert_int_equal(
	    om_store_add_watched(s, "acme", "gw2", "recon", (MAY3_2024 + 11 * HOUR) * USEC, 7), 0);
	assert_int_equal(
	    om_store_add_watched(s, "acme", "gw2", "recon", (MAY3_2024 + 14 * HOUR) * USEC, 9), 0);
	/* Re-imports of the same hour: the larger count stays, the hour is one.
	 * A microsecond inside the hour is the same hour. */
	assert_int_equal(
	    om_store_add_watched(s, "acme", "gw1", "recon", (MAY3_2024 + 10 * HOUR) * USEC, 100), 0);
	assert_int_equal(
	    om_store_add_watched(s, "acme", "gw1", "recon", (MAY3_2024 + 10 * HOUR) * USEC + 1, 60), 0);
	assert_int_equal(om_store_add_watched(s, "acme", "gw1", "recon",
	                                      (MAY3_2024 + 11 * HOUR + 3599) * USEC + 999999, 250),
	                 0);
	/* Noise: another category, tenant and month (June 1 00:00). */
	assert_int_equal(om_store_add_watched(s, "acme", "gw1", "spam", MAY3_2024 * USEC, 1), 0);
	assert_int_equal(om_store_add_watched(s, "zeta", "gw1", "recon", MAY3_2024 * USEC, 1), 0);
	assert_int_equal(om_store_add_watched(s, "acme", "gw1", "recon", JUNE1_2024 * USEC, 1), 0);
	om_store_flush(s);
	assert_int_equal(raw_int(t.path, "SELECT count(*) FROM watched"), 9);

	/* The tenant: hours 10, 11, 12, 14 of day 3 and 23 of day 31. */
	assert_int_equal(om_store_month_watched(s, "acme", NULL, "2024-05", "recon", &w), 0);
	assert_int_equal(w.ndays, 31);
	assert_int_equal(w.days, 2);
	assert_int_equal(w.hours, 5);
	assert_int_equal(w.packets, 100 + 250 + 300 + 5 + 7 + 9);
	assert_int_equal(w.day_hours[2], 4);
	assert_int_equal(w.day_hours[30], 1);
	/* hour 48 + 10 = 58: byte 7 bit 2; 59, 60: bits 3, 4; 62: bit 6 */
	assert_int_equal(w.hour_map[7], (1u << 2) | (1u << 3) | (1u << 4) | (1u << 6));
	assert_int_equal(w.hour_map[OM_STORE_MONTH_HOURS / 8 - 1], 0x80); /* hour 743 */
	/* Per gateway. */
	assert_int_equal(om_store_month_watched(s, "acme", "gw1", "2024-05", "recon", &w), 0);
	assert_int_equal(w.days, 2);
	assert_int_equal(w.hours, 4);
	assert_int_equal(w.packets, 100 + 250 + 300 + 5);
	assert_int_equal(om_store_month_watched(s, "acme", "gw2", "2024-05", "recon", &w), 0);
	assert_int_equal(w.days, 1);
	assert_int_equal(w.hours, 2);
	assert_int_equal(w.packets, 16);
	assert_int_equal(om_store_month_watched(s, "acme", "gw3", "2024-05", "recon", &w), 0);
	assert_int_equal(w.days + w.hours, 0);
	/* June: one hour; April: nothing. */
	assert_int_equal(om_store_month_watched(s, "acme", NULL, "2024-06", "recon", &w), 0);
	assert_int_equal(w.ndays, 30);
	assert_int_equal(w.hours, 1);
	assert_int_equal(w.hour_map[0], 1);
	assert_int_equal(om_store_month_watched(s, "acme", NULL, "2024-04", "recon", &w), 0);
	assert_int_equal(w.days + w.hours, 0);
	assert_int_equal(om_store_monitored(s, "acme", "2024-04", "recon"), 0);

	/* Bad arguments; ret is left alone. */
	w.hours = 12345;
	assert_int_equal(om_store_month_watched(s, "acme", NULL, "2024-13", "recon", &w), -EINVAL);
	assert_int_equal(om_store_month_watched(s, "acme", NULL, "2024-05", NULL, &w), -EINVAL);
	assert_int_equal(om_store_month_watched(s, NULL, NULL, "2024-05", "recon", &w), -EINVAL);
	assert_int_equal(w.hours, 12345);
	assert_int_equal(om_store_month_watched(s, "acme", NULL, "2024-05", "recon", NULL), -EINVAL);
	assert_int_equal(om_store_add_watched(s, "acme", "gw1", "", MAY3_2024 * USEC, 1), -EINVAL);
	assert_int_equal(om_store_add_watched(s, "acme", NULL, "recon", MAY3_2024 * USEC, 1),
	                 -EINVAL);
	assert_int_equal(om_store_add_watched(NULL, "acme", "gw1", "recon", MAY3_2024 * USEC, 1),
	                 -EINVAL);
	assert_int_equal(om_store_add_watched(s, "acme", "gw1", "recon", UINT64_MAX, 1), -ERANGE);
	/* A huge packet count saturates instead of wrapping. */
	assert_int_equal(om_store_add_watched(s, "big", "gw1", "recon", MAY3_2024 * USEC, UINT64_MAX),
	                 0);
	assert_int_equal(om_store_add_watched(s, "big", "gw2", "recon", MAY3_2024 * USEC, UINT64_MAX),
	                 0);
	assert_int_equal(om_store_month_watched(s, "big", NULL, "2024-05", "recon", &w), 0);
	assert_int_equal(w.hours, 1);
	assert_true(w.packets >= (uint64_t)INT64_MAX);
	om_store_close(s);
	tmpdb_remove(&t);
}

/* Finding 6: a capture with one packet in 1970 and one in 2024 is two
 * watched hours, two rows, not the 19,845 days in between. */
static void test_two_packets_two_hours(void **state)
{
	(void)state;
	struct tmpdb t;
	om_store *s = NULL;
	char err[256] = "";
	om_store_watched w;

	tmpdb_make(&t);
	assert_int_equal(om_store_open(t.path, &s, err, sizeof(err)), 0);
	/* 1970-01-01T00:00:00.5Z and 2024-05-03T10:20:30Z */
	assert_int_equal(om_store_add_watched(s, "acme", "gw1", "recon", 500000, 1), 0);
	assert_int_equal(om_store_add_watched(s, "acme", "gw1", "recon",
	                                      (MAY3_2024 + 10 * HOUR + 1230) * USEC, 1),
	                 0);
	om_store_close(s);
	assert_int_equal(raw_int(t.path, "SELECT count(*) FROM watched"), 2);
	assert_int_equal(raw_int(t.path, "SELECT min(hour) FROM watched"), 0);
	assert_int_equal(raw_int(t.path, "SELECT max(hour) FROM watched"),
	                 (int64_t)((MAY3_2024 + 10 * HOUR) * USEC));

	assert_int_equal(om_store_open(t.path, &s, err, sizeof(err)), 0);
	assert_int_equal(om_store_month_watched(s, "acme", NULL, "1970-01", "recon", &w), 0);
	assert_int_equal(w.days, 1);
	assert_int_equal(w.hours, 1);
	assert_int_equal(om_store_month_watched(s, "acme", NULL, "2024-05", "recon", &w), 0);
	assert_int_equal(w.days, 1);
	assert_int_equal(w.hours, 1);
	assert_int_equal(w.day_hours[2], 1);
	/* nothing in between was watched */
	assert_int_equal(om_store_monitored(s, "acme", "1999-06", "recon"), 0);
	assert_int_equal(om_store_monitored(s, "acme", "2024-04", "recon"), 0);
	assert_int_equal(om_store_monitored(s, "acme", "1970-02", "recon"), 0);
	om_store_close(s);
	tmpdb_remove(&t);
}

/* The schema as released at version 2 (migrations 1 and 2, verbatim). */
static const char schema_v2[] =
    "PRAGMA application_id = 1869439341;"
    "CREATE TABLE events ("
    "  id INTEGER PRIMARY KEY,"
    "  ts_usec INTEGER NOT NULL,"
    "  day TEXT NOT NULL,"
    "  tenant TEXT NOT NULL,"
    "  gateway TEXT NOT NULL,"
    "  event_type TEXT NOT NULL,"
    "  category TEXT,"
    "  severity INTEGER,"
    "  action TEXT,"
    "  src_ip TEXT,"
    "  src_port INTEGER,"
    "  dest_ip TEXT,"
    "  dest_port INTEGER,"
    "  proto TEXT,"
    "  signature TEXT,"
    "  signature_id INTEGER,"
    "  eve TEXT NOT NULL,"
    "  event_key TEXT NOT NULL UNIQUE);"
    "CREATE TABLE rollup_daily ("
    "  tenant TEXT NOT NULL,"
    "  gateway TEXT NOT NULL,"
    "  day TEXT NOT NULL,"
    "  category TEXT NOT NULL,"
    "  count INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY (tenant, category, day, gateway)) WITHOUT ROWID;"
    "CREATE TABLE coverage ("
    "  tenant TEXT NOT NULL,"
    "  gateway TEXT NOT NULL,"
    "  category TEXT NOT NULL,"
    "  day TEXT NOT NULL,"
    "  PRIMARY KEY (tenant, category, day, gateway)) WITHOUT ROWID;"
    "CREATE INDEX events_tenant_category_day ON events (tenant, category, day);"
    "PRAGMA user_version = 2;";

static void test_migrate_from_v2(void **state)
{
	(void)state;
	struct tmpdb t;
	om_store *s = NULL;
	char err[256] = "";
	int from = -1, to = -1;
	uint64_t total = 0;
	om_store_watched w;

	/* PostgreSQL stores were born after version 3: no old file to convert */
	if (tb_pg())
		skip();
	tmpdb_make(&t);
	raw_exec(t.path, schema_v2);
	/* What a version-2 omamori wrote: an event on May 1 with its rollup and
	 * coverage, coverage for May 3 on two gateways and for April 30, and a
	 * day the old check let through although it is not on the calendar. */
	raw_exec(t.path,
	         "INSERT INTO events (ts_usec, day, tenant, gateway, event_type, category, eve,"
	         " event_key) VALUES (1714521660000000, '2024-05-01', 'acme', 'gw1', 'alert',"
	         " 'recon', '{\"seq\":1}', '00000000000000000000000000000001');"
	         "INSERT INTO rollup_daily VALUES ('acme', 'gw1', '2024-05-01', 'recon', 1);"
	         "INSERT INTO coverage VALUES ('acme', 'gw1', 'recon', '2024-05-01');"
	         "INSERT INTO coverage VALUES ('acme', 'gw1', 'recon', '2024-05-03');"
	         "INSERT INTO coverage VALUES ('acme', 'gw2', 'recon', '2024-05-03');"
	         "INSERT INTO coverage VALUES ('acme', 'gw1', 'spam', '2024-04-30');"
	         "INSERT INTO coverage VALUES ('acme', 'gw1', 'spam', '2024-02-31');");
	assert_int_equal(raw_int(t.path, "PRAGMA user_version"), 2);

	assert_int_equal(om_store_open_nomigrate(t.path, &s, err, sizeof(err)), 0);
	assert_int_equal(om_store_migrate(s, &from, &to, err, sizeof(err)), 0);
	assert_int_equal(from, 2);
	assert_int_equal(to, om_store_latest_version());
	assert_int_equal(om_store_schema_version(s), om_store_latest_version());
	/* Events and counts are untouched. */
	assert_int_equal(om_store_month_total(s, "acme", "2024-05", "recon", &total), 0);
	assert_int_equal(total, 1);
	/* Each old day is its whole day; the two gateways' May 3 is one day. */
	assert_int_equal(om_store_month_watched(s, "acme", NULL, "2024-05", "recon", &w), 0);
	assert_int_equal(w.days, 2);
	assert_int_equal(w.hours, 48);
	assert_int_equal(w.day_hours[0], 24);
	assert_int_equal(w.day_hours[1], 0);
	assert_int_equal(w.day_hours[2], 24);
	assert_int_equal(om_store_month_watched(s, "acme", "gw2", "2024-05", "recon", &w), 0);
	assert_int_equal(w.days, 1);
	assert_int_equal(w.day_hours[2], 24);
	assert_int_equal(om_store_month_watched(s, "acme", NULL, "2024-04", "spam", &w), 0);
	assert_int_equal(w.days, 1);
	assert_int_equal(w.day_hours[29], 24);
	/* "2024-02-31" was dropped, not moved to March. */
	assert_int_equal(om_store_monitored(s, "acme", "2024-02", "spam"), 0);
	assert_int_equal(om_store_monitored(s, "acme", "2024-03", "spam"), 0);
	/* The store works on: the same event again is still one. */
	assert_int_equal(om_store_add_watched(s, "acme", "gw1", "recon", MAY3_2024 * USEC, 10), 0);
	om_store_close(s);
	assert_int_equal(raw_int(t.path, "SELECT count(*) FROM watched"), 4 * 24);
	assert_int_equal(raw_int(t.path, "SELECT sum(packets) FROM watched"), 10);
	assert_int_equal(raw_int(t.path, "SELECT count(*) FROM sqlite_master WHERE name = 'coverage'"),
	                 0);
	assert_string_equal(raw_text(t.path, "PRAGMA integrity_check"), "ok");
	/* version 4 rebuilt events: the row and its id kept, the key unique per
	 * tenant and gateway (one index); version 5 put the index on tenant,
	 * time and category in place of the report's and the console's */
	assert_int_equal(raw_int(t.path, "SELECT count(*) FROM events WHERE id = 1 AND event_key ="
	                                 " '00000000000000000000000000000001'"),
	                 1);
	assert_int_equal(raw_index_count(t.path, "events_key"), 1);
	assert_int_equal(raw_index_count(t.path, "events_tenant_category_day"), 0);
	assert_int_equal(raw_index_count(t.path, "events_tenant_ts"), 1);
	assert_int_equal(raw_int(t.path, "SELECT count(*) FROM sqlite_master WHERE type = 'index'"
	                                 " AND tbl_name = 'events'"),
	                 2);
	tmpdb_remove(&t);
}

/* The event key is unique per tenant and gateway (version 4): the same
 * line of two gateways is two events, of one gateway one, on both
 * backends; the old table-wide UNIQUE is gone. */
static void test_event_key_per_gateway(void **state)
{
	(void)state;
	struct tmpdb t;
	om_store *s = NULL;
	char err[256] = "";

	tmpdb_make(&t);
	assert_int_equal(om_store_open(t.path, &s, err, sizeof(err)), 0);
	for (int round = 0; round < 2; round++) {
		add(s, "acme", "gw1", "recon", MAY1_2024 + 60, "203.0.113.9", "192.168.1.10", 7);
		add(s, "acme", "gw2", "recon", MAY1_2024 + 60, "203.0.113.9", "192.168.1.10", 7);
		add(s, "beta", "gw1", "recon", MAY1_2024 + 60, "203.0.113.9", "192.168.1.10", 7);
		assert_int_equal(om_store_flush(s), 0);
	}
	om_store_close(s);
	assert_int_equal(raw_int(t.path, "SELECT count(*) FROM events"), 3);
	assert_int_equal(raw_int(t.path, "SELECT sum(count) FROM rollup_daily"), 3);
	assert_int_equal(raw_index_count(t.path, "events_key"), 1);
	if (tb_pg())
		assert_int_equal(raw_int(t.path, "SELECT count(*) FROM pg_constraint"
		                                 " WHERE conname = 'events_event_key_key'"),
		                 0);
	else
		assert_int_equal(raw_int(t.path, "SELECT count(*) FROM sqlite_master"
		                                 " WHERE name LIKE 'sqlite_autoindex_events%'"),
		                 0);
	tmpdb_remove(&t);
}

static void test_queries(void **state)
{
	(void)state;
	struct tmpdb t;
	om_store *s = NULL;
	char err[256] = "";
	om_store_count c[8];
	size_t n = 99;
	uint64_t total = 0;
	unsigned seq = 0;

	tmpdb_make(&t);
	assert_int_equal(om_store_open(t.path, &s, err, sizeof(err)), 0);
	/* May 1: 3 from .9 (to .10, .10, .11); May 2: 2 from .7 (to .10);
	 * May 20: 1 from .8 (to .12), on another gateway. */
	add(s, "acme", "gw1", "recon", MAY1_2024 + 60, "203.0.113.9", "192.168.1.10", seq++);
	add(s, "acme", "gw1", "recon", MAY1_2024 + 120, "203.0.113.9", "192.168.1.10", seq++);
	add(s, "acme", "gw1", "recon", MAY1_2024 + 180, "203.0.113.9", "192.168.1.11", seq++);
	add(s, "acme", "gw1", "recon", MAY1_2024 + 86400 + 5, "203.0.113.7", "192.168.1.10", seq++);
	add(s, "acme", "gw1", "recon", MAY1_2024 + 86400 + 6, "203.0.113.7", "192.168.1.10", seq++);
	add(s, "acme", "gw2", "recon", MAY1_2024 + 19 * 86400, "203.0.113.8", "192.168.1.12", seq++);
	/* Noise: other category, other tenant, an event without category. */
	add(s, "acme", "gw1", "c2", MAY1_2024 + 60, "192.168.1.5", "198.51.100.1", seq++);
	add(s, "zeta", "gw1", "recon", MAY1_2024 + 60, "203.0.113.9", "192.168.9.9", seq++);
	add(s, "acme", "gw1", NULL, MAY1_2024 + 60, "203.0.113.9", "192.168.1.10", seq++);
	om_store_flush(s);

	assert_int_equal(om_store_month_total(s, "acme", "2024-05", "recon", &total), 0);
	assert_int_equal(total, 6);
	assert_int_equal(om_store_month_total(s, "acme", "2024-05", "c2", &total), 0);
	assert_int_equal(total, 1);

	assert_int_equal(om_store_month_daily(s, "acme", "2024-05", "recon", c, 8, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(c[0].key, "2024-05-01");
	assert_int_equal(c[0].count, 3);
	assert_string_equal(c[1].key, "2024-05-02");
	assert_int_equal(c[1].count, 2);
	assert_string_equal(c[2].key, "2024-05-20");
	assert_int_equal(c[2].count, 1);

	assert_int_equal(om_store_month_top(s, "acme", "2024-05", "recon", true, c, 8, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(c[0].key, "203.0.113.9");
	assert_int_equal(c[0].count, 3);
	assert_string_equal(c[1].key, "203.0.113.7");
	assert_int_equal(c[1].count, 2);
	assert_string_equal(c[2].key, "203.0.113.8");
	assert_int_equal(c[2].count, 1);

	assert_int_equal(om_store_month_top(s, "acme", "2024-05", "recon", false, c, 2, &n), 0);
	assert_int_equal(n, 2); /* limited to max */
	assert_string_equal(c[0].key, "192.168.1.10");
	assert_int_equal(c[0].count, 4);
	/* .11 and .12 tie with 1: ascending address breaks the tie */
	assert_string_equal(c[1].key, "192.168.1.11");
	assert_int_equal(c[1].count, 1);

	/* Empty month. */
	assert_int_equal(om_store_month_daily(s, "acme", "2024-04", "recon", c, 8, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(om_store_month_total(s, "acme", "2024-04", "recon", &total), 0);
	assert_int_equal(total, 0);

	/* Bad months and arguments. */
	const char *bad[] = {"2024-13", "2024-00", "2024-5", "24-05", "2024/05", "2024-05-01",
	                     "", "abcd-ef", "2024-0a"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(om_store_month_total(s, "acme", bad[i], "recon", &total), -EINVAL);
		assert_int_equal(om_store_monitored(s, "acme", bad[i], "recon"), -EINVAL);
		assert_int_equal(om_store_month_daily(s, "acme", bad[i], "recon", c, 8, &n), -EINVAL);
		assert_int_equal(om_store_month_top(s, "acme", bad[i], "recon", true, c, 8, &n),
		                 -EINVAL);
	}
	assert_int_equal(om_store_month_total(s, "acme", NULL, "recon", &total), -EINVAL);
	assert_int_equal(om_store_month_total(s, NULL, "2024-05", "recon", &total), -EINVAL);

	om_store_event ev;
	char eve[256];
	mk_event(&ev, eve, sizeof(eve), "acme", "gw1", "recon", MAY1_2024, "1.2.3.4", "5.6.7.8", 1);
	ev.eve_json = NULL;
	assert_int_equal(om_store_add_event(s, &ev), -EINVAL);
	mk_event(&ev, eve, sizeof(eve), "acme", "gw1", "recon", MAY1_2024, "1.2.3.4", "5.6.7.8", 1);
	ev.tenant = NULL;
	assert_int_equal(om_store_add_event(s, &ev), -EINVAL);
	assert_int_equal(om_store_add_event(s, NULL), -EINVAL);
	om_store_close(s);
	tmpdb_remove(&t);
}

/* A batch much larger than PostgreSQL's pipeline (256 statements) and its
 * rollup table, with duplicates inside the batch and across batches, read
 * back before and after the commit by the same connection: the counts are
 * those of SQLite, which has neither. Strings that are not UTF-8 are refused
 * on PostgreSQL (the server would abort the whole batch) and kept on SQLite;
 * either way the rest of the batch is stored. */
static void test_large_batch_own_reads(void **state)
{
	(void)state;
	struct tmpdb t;
	om_store *s = NULL;
	char err[256] = "";
	uint64_t total = 0;
	om_store_count c[40];
	size_t n = 0;

	tmpdb_make(&t);
	assert_int_equal(om_store_open(t.path, &s, err, sizeof(err)), 0);
	om_store_set_batch_size(s, 5000);
	/* 3000 events on 31 days, 2 gateways: 62 rollup rows; every 10th again */
	for (unsigned i = 0; i < 3000; i++) {
		char gw[8];
		snprintf(gw, sizeof(gw), "gw%u", i % 2);
		add(s, "acme", gw, "recon", MAY1_2024 + (i % 31) * 86400ull + i, "203.0.113.9",
		    "192.168.1.10", i);
		if (i % 10 == 0)
			add(s, "acme", gw, "recon", MAY1_2024 + (i % 31) * 86400ull + i,
			    "203.0.113.9", "192.168.1.10", i);
	}
	/* not committed yet: this connection reads its own batch */
	assert_int_equal(om_store_month_total(s, "acme", "2024-05", "recon", &total), 0);
	assert_int_equal(total, 3000);
	assert_int_equal(om_store_month_daily(s, "acme", "2024-05", "recon", c, 40, &n), 0);
	assert_int_equal(n, 31);
	/* 3000 = 31 * 96 + 24: the first 24 days have 97 events */
	assert_int_equal(c[0].count, 97);
	assert_int_equal(c[30].count, 96);
	/* more of the same after reading, then bad text */
	for (unsigned i = 0; i < 500; i++)
		add(s, "acme", "gw0", "recon", MAY1_2024 + i, "203.0.113.9", "192.168.1.10", i);
	om_store_event ev;
	char eve[256];
	mk_event(&ev, eve, sizeof(eve), "acme", "gw0", "recon", MAY1_2024, "203.0.113.9",
	         "192.168.1.10", 99999);
	ev.signature = "bad \xff\xfe text";
	assert_int_equal(om_store_add_event(s, &ev), tb_pg() ? -EINVAL : 0);
	ev.signature = "ok";
	ev.tenant = "\xc0\xaf"; /* an overlong '/' */
	snprintf(eve, sizeof(eve), "{\"seq\":100000}");
	assert_int_equal(om_store_add_event(s, &ev), tb_pg() ? -EINVAL : 0);
	assert_int_equal(om_store_flush(s), 0);
	assert_int_equal(om_store_month_total(s, "acme", "2024-05", "recon", &total), 0);
	/* of the 500 on gw0 at MAY1 + i, those with i a multiple of 62 (i % 31
	 * == 0 on gw0: i = 0, 62, ..., 496) repeat a line of the first loop;
	 * SQLite also kept the bad signature's event of tenant acme */
	uint64_t want = 3000 + 500 - 9 + (tb_pg() ? 0 : 1);
	assert_int_equal(total, want);
	om_store_close(s);
	assert_int_equal(raw_int(t.path, "SELECT count(*) FROM events WHERE tenant = 'acme'"),
	                 (int64_t)want);
	assert_int_equal(raw_int(t.path, "SELECT sum(count) FROM rollup_daily WHERE tenant = 'acme'"),
	                 (int64_t)want);
	assert_int_equal(raw_int(t.path, "SELECT count(*) FROM rollup_daily"), 62 + (tb_pg() ? 0 : 1));
	tmpdb_remove(&t);
}

static void test_hostile_strings(void **state)
{
	(void)state;
	struct tmpdb t;
	om_store *s = NULL;
	char err[256] = "";
	om_store_count c[4];
	size_t n = 0;
	uint64_t total = 0;
	const char *tenant = "x'); DROP TABLE events; --";

	tmpdb_make(&t);
	assert_int_equal(om_store_open(t.path, &s, err, sizeof(err)), 0);
	add(s, tenant, "gw\"1", "recon", MAY1_2024, "203.0.113.9'--", "<b>", 1);
	om_store_flush(s);
	assert_int_equal(om_store_month_total(s, tenant, "2024-05", "recon", &total), 0);
	assert_int_equal(total, 1);
	assert_int_equal(om_store_month_top(s, tenant, "2024-05", "recon", true, c, 4, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(c[0].key, "203.0.113.9'--");
	om_store_close(s);
	assert_int_equal(raw_int(t.path, "SELECT count(*) FROM events"), 1);
	tmpdb_remove(&t);
}

static void test_month_boundary_utc(void **state)
{
	(void)state;
	struct tmpdb t;
	om_store *s = NULL;
	char err[256] = "";
	om_store_count c[4];
	size_t n = 0;
	uint64_t total = 0;

	tmpdb_make(&t);
	assert_int_equal(om_store_open(t.path, &s, err, sizeof(err)), 0);
	/* 2024-05-31T23:59:59Z, 2024-06-01T00:00:00Z, 2024-04-30T23:59:59Z */
	add(s, "acme", "gw1", "recon", JUNE1_2024 - 1, "203.0.113.9", "192.168.1.10", 1);
	add(s, "acme", "gw1", "recon", JUNE1_2024, "203.0.113.9", "192.168.1.10", 2);
	add(s, "acme", "gw1", "recon", MAY1_2024 - 1, "203.0.113.9", "192.168.1.10", 3);
	add(s, "acme", "gw1", "recon", MAY1_2024, "203.0.113.9", "192.168.1.10", 4);
	om_store_flush(s);
	assert_int_equal(om_store_month_total(s, "acme", "2024-05", "recon", &total), 0);
	assert_int_equal(total, 2);
	assert_int_equal(om_store_month_total(s, "acme", "2024-06", "recon", &total), 0);
	assert_int_equal(total, 1);
	assert_int_equal(om_store_month_total(s, "acme", "2024-04", "recon", &total), 0);
	assert_int_equal(total, 1);
	assert_int_equal(om_store_month_daily(s, "acme", "2024-05", "recon", c, 4, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(c[0].key, "2024-05-01");
	assert_string_equal(c[1].key, "2024-05-31");
	assert_int_equal(om_store_month_daily(s, "acme", "2024-06", "recon", c, 4, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(c[0].key, "2024-06-01");
	om_store_close(s);
	tmpdb_remove(&t);
}

/* Four processes open (and so migrate) the same new database at once:
 * each succeeds, and the schema is made once. */
static void test_concurrent_open(void **state)
{
	(void)state;
	struct tmpdb t;
	pid_t pid[4];
	int status;

	tmpdb_make(&t);
	for (int i = 0; i < 4; i++) {
		pid[i] = fork();
		assert_true(pid[i] >= 0);
		if (pid[i] == 0) {
			om_store *s = NULL;
			char err[256];
			if (om_store_open(t.path, &s, err, sizeof(err)) < 0) {
				fprintf(stderr, "child %d: %s\n", i, err);
				_exit(1);
			}
			add(s, "acme", "gw1", "recon", MAY1_2024 + (unsigned)i, "203.0.113.9",
			    "192.168.1.10", (unsigned)i);
			_exit(om_store_flush(s) == 0 && om_store_schema_version(s) ==
			                                    om_store_latest_version()
			          ? 0
			          : 2);
		}
	}
	for (int i = 0; i < 4; i++) {
		assert_int_equal(waitpid(pid[i], &status, 0), pid[i]);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	assert_int_equal(raw_int(t.path, "SELECT count(*) FROM events"), 4);
	if (tb_pg())
		assert_int_equal(raw_int(t.path, "SELECT count(*) FROM omamori_schema"), 1);
	tmpdb_remove(&t);
}

/* PostgreSQL only: the server ends the store's session in the middle of a
 * batch (as a restart of the server would). The store says so (a negative
 * errno, no crash, no hang), the batch is lost as a whole, and a new store
 * on the same database works. */
static void test_server_gone(void **state)
{
	(void)state;
	struct tmpdb t;
	om_store *s = NULL;
	char err[256] = "", sql[256];
	om_store_event ev;
	char eve[256];
	int r = 0;

	if (!tb_pg())
		skip();
	tmpdb_make(&t);
	assert_int_equal(om_store_open(t.path, &s, err, sizeof(err)), 0);
	om_store_set_batch_size(s, 100000);
	for (unsigned i = 0; i < 300; i++)
		add(s, "acme", "gw1", "recon", MAY1_2024 + i, "203.0.113.9", "192.168.1.10", i);
	snprintf(sql, sizeof(sql),
	         "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '%s'",
	         t.name);
	tb_pg_admin(sql);
	for (unsigned i = 300; i < 2000 && r == 0; i++) {
		mk_event(&ev, eve, sizeof(eve), "acme", "gw1", "recon", MAY1_2024 + i, "203.0.113.9",
		         "192.168.1.10", i);
		r = om_store_add_event(s, &ev);
	}
	if (r == 0)
		r = om_store_flush(s);
	assert_true(r < 0);
	om_store_close(s);
	assert_int_equal(raw_int(t.path, "SELECT count(*) FROM events"), 0);
	assert_int_equal(om_store_open(t.path, &s, err, sizeof(err)), 0);
	add(s, "acme", "gw1", "recon", MAY1_2024, "203.0.113.9", "192.168.1.10", 0);
	assert_int_equal(om_store_flush(s), 0);
	om_store_close(s);
	assert_int_equal(raw_int(t.path, "SELECT count(*) FROM events"), 1);
	tmpdb_remove(&t);
}

/* ---- kill -9 in the middle of an import ---- */

#define CRASH_BATCH 200u
#define CRASH_PAUSED UINT64_MAX

/* Child: imports events in batches of CRASH_BATCH and writes the number of
 * committed events to fd after each commit. With pause_after > 0 it stops
 * half way through batch pause_after + 1 (uncommitted rows written), says
 * CRASH_PAUSED and waits to be killed. Never returns. */
static void crash_child(const char *path, int fd, unsigned pause_after)
{
	om_store *s = NULL;
	char err[256];
	char eve[256];
	om_store_event ev;
	uint64_t committed = 0;

	if (om_store_open(path, &s, err, sizeof(err)) < 0)
		_exit(2);
	om_store_set_batch_size(s, CRASH_BATCH);
	for (unsigned i = 0; i < 10000000u; i++) {
		if (pause_after && committed == (uint64_t)pause_after * CRASH_BATCH &&
		    i == committed + CRASH_BATCH / 2) {
			uint64_t m = CRASH_PAUSED;
			if (write(fd, &m, sizeof(m)) != (ssize_t)sizeof(m))
				_exit(3);
			for (;;)
				pause();
		}
		mk_event(&ev, eve, sizeof(eve), "acme", "gw1", i % 3 ? "recon" : "c2",
		         MAY1_2024 + (i % (31u * 86400u)), "203.0.113.9", "192.168.1.10", i);
		if (om_store_add_event(s, &ev) < 0)
			_exit(4);
		if ((i + 1) % CRASH_BATCH == 0) {
			committed = i + 1;
			if (write(fd, &committed, sizeof(committed)) != (ssize_t)sizeof(committed))
				_exit(5);
		}
	}
	_exit(6);
}

/* Reads reports until the child dies (EOF); returns the last count seen. */
static uint64_t drain(int fd, uint64_t last)
{
	uint64_t v;
	while (read(fd, &v, sizeof(v)) == (ssize_t)sizeof(v)) {
		if (v != CRASH_PAUSED)
			last = v;
	}
	return last;
}

static void check_after_crash(const char *path, uint64_t lo, uint64_t hi)
{
	om_store *s = NULL;
	char err[256] = "";

	/* Reopening recovers the WAL (SQLite); the store must be consistent:
	 * on PostgreSQL the server rolled the dead client's batch back. */
	assert_int_equal(om_store_open(path, &s, err, sizeof(err)), 0);
	om_store_close(s);
	if (!tb_pg())
		assert_string_equal(raw_text(path, "PRAGMA integrity_check"), "ok");
	int64_t n = raw_int(path, "SELECT count(*) FROM events");
	assert_true(n >= 0);
	assert_int_equal((uint64_t)n % CRASH_BATCH, 0);
	assert_in_range((uint64_t)n, lo, hi);
	/* Events and rollups were committed together. */
	assert_int_equal(raw_int(path, "SELECT coalesce(sum(count), 0) FROM rollup_daily"), n);
}

static void test_kill9_paused_mid_batch(void **state)
{
	(void)state;
	struct tmpdb t;
	int p[2];
	uint64_t v, last = 0;
	pid_t pid;
	int status;

	tmpdb_make(&t);
	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		crash_child(t.path, p[1], 7);
	}
	close(p[1]);
	/* Wait until the child sits in the middle of batch 8. */
	for (;;) {
		assert_int_equal(read(p[0], &v, sizeof(v)), (ssize_t)sizeof(v));
		if (v == CRASH_PAUSED)
			break;
		last = v;
	}
	assert_int_equal(kill(pid, SIGKILL), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	last = drain(p[0], last);
	close(p[0]);
	assert_int_equal(last, 7u * CRASH_BATCH);
	check_after_crash(t.path, last, last);
	tmpdb_remove(&t);
}

static void test_kill9_random_time(void **state)
{
	(void)state;
	struct tmpdb t;
	int p[2];
	uint64_t v, last = 0;
	pid_t pid;
	int status;
	struct timespec ts;

	for (int round = 0; round < 3; round++) {
		tmpdb_make(&t);
		assert_int_equal(pipe(p), 0);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			close(p[0]);
			crash_child(t.path, p[1], 0);
		}
		close(p[1]);
		last = 0;
		/* Let a few batches commit, then kill at an arbitrary moment. */
		for (int k = 0; k < 3; k++) {
			assert_int_equal(read(p[0], &v, sizeof(v)), (ssize_t)sizeof(v));
			last = v;
		}
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec = 0;
		ts.tv_nsec = (ts.tv_nsec % 20) * 1000000L + 100000L;
		nanosleep(&ts, NULL);
		assert_int_equal(kill(pid, SIGKILL), 0);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
		last = drain(p[0], last);
		close(p[0]);
		/* The child reports after each COMMIT returns, so a kill between a
		 * COMMIT and its report leaves one more batch than reported. */
		check_after_crash(t.path, last, last + CRASH_BATCH);
		tmpdb_remove(&t);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_migrate_from_empty),
		cmocka_unit_test(test_reopen_idempotent),
		cmocka_unit_test(test_newer_schema_rejected),
		cmocka_unit_test(test_foreign_files_rejected),
		cmocka_unit_test(test_batch_commit),
		cmocka_unit_test(test_duplicates_ignored),
		cmocka_unit_test(test_migrate_v5_indexes),
		cmocka_unit_test(test_event_key_unchanged),
		cmocka_unit_test(test_coverage),
		cmocka_unit_test(test_watched_hours),
		cmocka_unit_test(test_two_packets_two_hours),
		cmocka_unit_test(test_migrate_from_v2),
		cmocka_unit_test(test_event_key_per_gateway),
		cmocka_unit_test(test_queries),
		cmocka_unit_test(test_hostile_strings),
		cmocka_unit_test(test_large_batch_own_reads),
		cmocka_unit_test(test_month_boundary_utc),
		cmocka_unit_test(test_concurrent_open),
		cmocka_unit_test(test_server_gone),
		cmocka_unit_test(test_kill9_paused_mid_batch),
		cmocka_unit_test(test_kill9_random_time),
	};
	/* Error texts are checked in English, the second language. */
	om_lang_set_thread(OM_LANG_EN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
