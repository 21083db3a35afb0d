/* Unit tests for the programme statistics: the suppression rules on their
 * own (edge cases, and the property that no column is left with exactly
 * one hidden cell), and the table from a store of known companies, with
 * totals worked out by hand. */
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

#define MAY1_2024 (1717200000ull - 31ull * 86400ull)
#define HOUR 3600ull

/* Groups {5, 1, 4}, k 3: the group of 1 is hidden whole; its size is then
 * the only hidden size, so the smallest other (4) is hidden too. In the
 * cell column {3, 1, 2} the hidden row and the 2 (primary) make two. */
static void test_suppress_row(void **state)
{
	(void)state;
	const uint64_t sizes[] = {5, 1, 4}, cells[] = {3, 1, 2};
	bool ss[3], sc[3];
	om_stats_suppress(3, 1, sizes, cells, 3, ss, sc);
	assert_false(ss[0]);
	assert_true(ss[1]);
	assert_true(ss[2]);
	assert_false(sc[0]);
	assert_true(sc[1]);
	assert_true(sc[2]);
}

/* One primary cell among zeros: a zero is hidden with it (the first on
 * ties), else 2 = total - 0 - 0 would give it back. */
static void test_suppress_zeros(void **state)
{
	(void)state;
	const uint64_t sizes[] = {5, 5, 5}, cells[] = {0, 2, 0};
	bool ss[3], sc[3];
	om_stats_suppress(3, 1, sizes, cells, 3, ss, sc);
	assert_false(ss[0] || ss[1] || ss[2]);
	assert_true(sc[0]);
	assert_true(sc[1]);
	assert_false(sc[2]);
}

/* Nothing below k: nothing hidden; k itself is shown. */
static void test_suppress_none(void **state)
{
	(void)state;
	const uint64_t sizes[] = {3, 9}, cells[] = {3, 0, 0, 9};
	bool ss[2], sc[4];
	om_stats_suppress(2, 2, sizes, cells, 3, ss, sc);
	for (int i = 0; i < 2; i++)
		assert_false(ss[i]);
	for (int i = 0; i < 4; i++)
		assert_false(sc[i]);
}

/* A single group equals the total: its primary cell stays the only one
 * hidden (the total carries the same rule). */
static void test_suppress_single(void **state)
{
	(void)state;
	const uint64_t sizes[] = {7}, cells[] = {1};
	bool ss[1], sc[1];
	om_stats_suppress(1, 1, sizes, cells, 3, ss, sc);
	assert_false(ss[0]);
	assert_true(sc[0]);
}

/* Random tables: every cell of 1..k-1 is hidden, every cell of a hidden
 * group under k is hidden, and no column (sizes included) has exactly one hidden
 * cell when there are two groups or more. */
static void test_suppress_property(void **state)
{
	(void)state;
	uint64_t sizes[8], cells[8 * 4];
	bool ss[8], sc[8 * 4];
	uint32_t x = 12345;
	for (int round = 0; round < 20000; round++) {
		x = x * 1103515245u + 12345u;
		unsigned n = 2 + (x >> 16) % 7, nc = 1 + (x >> 8) % 4;
		for (unsigned g = 0; g < n; g++) {
			x = x * 1103515245u + 12345u;
			sizes[g] = 1 + (x >> 16) % 8;
			for (unsigned c = 0; c < nc; c++) {
				x = x * 1103515245u + 12345u;
				cells[g * nc + c] = (x >> 16) % (sizes[g] + 1);
			}
		}
		om_stats_suppress(n, nc, sizes, cells, 3, ss, sc);
		unsigned hid = 0;
		for (unsigned g = 0; g < n; g++) {
			hid += ss[g];
			assert_true(ss[g] || sizes[g] >= 3);
			for (unsigned c = 0; c < nc; c++) {
				uint64_t v = cells[g * nc + c];
				if ((v > 0 && v < 3) || sizes[g] < 3)
					assert_true(sc[g * nc + c]);
			}
		}
		assert_int_not_equal(hid, 1);
		for (unsigned c = 0; c < nc; c++) {
			unsigned h = 0;
			for (unsigned g = 0; g < n; g++)
				h += sc[g * nc + c];
			assert_int_not_equal(h, 1);
		}
	}
}

static void add(om_store *s, const char *tenant, const char *cat, uint64_t ts)
{
	static unsigned seq;
	char eve[128];
	om_store_event ev = {0};
	snprintf(eve, sizeof(eve), "{\"event_type\":\"alert\",\"seq\":%u}", seq++);
	ev.ts = ts * 1000000ull;
	ev.tenant = tenant;
	ev.gateway = "gw1";
	ev.event_type = "alert";
	ev.category = cat;
	ev.severity = 2;
	ev.action = "blocked";
	ev.src_ip = "203.0.113.77";
	ev.dest_ip = "192.168.9.9";
	ev.proto = "TCP";
	ev.eve_json = eve;
	assert_int_equal(om_store_add_event(s, &ev), 0);
}

/* Companies (all watched recon in May 2024, Tokyo time; events at noon):
 *   retail-1..4  industry retail, size 1-9,   region Tokyo; recon events
 *                1, 2, 3, 0 -> 3 affected, 6 events
 *   food-1..2    industry food,   size 10-49, region Osaka; recon 5, 0
 *   it-1         industry it,     size 10-49, region Osaka; recon 0
 *   idle         metadata only, nothing watched: not in the programme
 * all: 7 companies, recon monitored 7, affected 4, share 57.1 %, events 11.
 * industry: retail 4 (shown); food 2 and it 1 are under k and merged into
 *   "other" = 3 companies, affected 1 (food-1) -> 1 < k hidden; the
 *   affected column then has one hidden cell and the smallest other (retail
 *   3) is hidden too. Events follow affected.
 * size: 1-9 = 4 (3 affected), 10-49 = 3 (1 affected: hidden, and 1-9's 3
 *   with it by the secondary rule).
 * region: Tokyo 4, Osaka 3: as size. */
static void test_table(void **state)
{
	(void)state;
	char dir[256], path[300], err[256];
	om_store *s = NULL;
	const char *base = getenv("TMPDIR");
	snprintf(dir, sizeof(dir), "%s/omamori-stats-XXXXXX", base && *base ? base : "/tmp");
	assert_non_null(mkdtemp(dir));
	struct tmpdb db;
	tmpdb_make(&db);
	assert_int_equal(om_store_open(db.path, &s, err, sizeof(err)), 0);
	struct {
		const char *id, *ind, *size, *reg;
		int events;
	} co[] = {
	    {"retail-1", "retail", "1-9", "Tokyo", 1}, {"retail-2", "retail", "1-9", "Tokyo", 2},
	    {"retail-3", "retail", "1-9", "Tokyo", 3}, {"retail-4", "retail", "1-9", "Tokyo", 0},
	    {"food-1", "food", "10-49", "Osaka", 5},   {"food-2", "food", "10-49", "Osaka", 0},
	    {"it-1", "it", "10-49", "Osaka", 0},
	};
	for (size_t i = 0; i < sizeof(co) / sizeof(co[0]); i++) {
		assert_int_equal(om_store_tenant_meta_set(s, co[i].id, "industry", co[i].ind), 0);
		assert_int_equal(om_store_tenant_meta_set(s, co[i].id, "size", co[i].size), 0);
		assert_int_equal(om_store_tenant_meta_set(s, co[i].id, "region", co[i].reg), 0);
		/* May in Tokyo: from 2024-04-30T15:00Z, 744 hours */
		for (unsigned h = 0; h < 744; h++)
			assert_int_equal(
			    om_store_add_watched(s, co[i].id, "gw1", "recon",
			                         (MAY1_2024 - 9 * HOUR + h * HOUR) * 1000000ull, 5),
			    0);
		for (int e = 0; e < co[i].events; e++)
			add(s, co[i].id, "recon", MAY1_2024 + 3 * HOUR + (uint64_t)e);
	}
	assert_int_equal(om_store_tenant_meta_set(s, "idle", "industry", "retail"), 0);
	assert_int_equal(om_store_flush(s), 0);

	om_buf b;
	om_buf_init(&b, 1 << 20);
	assert_int_equal(
	    om_report_stats(s, "2024-05", OM_STATS_CSV, OM_LANG_EN, &b, NULL, err, sizeof(err)), 0);
	const char *c = om_buf_cstr(&b);
	assert_non_null(strstr(c, "dimension,group,companies,category,companies_monitored,"
	                          "companies_affected,share_affected_percent,events\r\n"));
	assert_non_null(strstr(c, "\r\nall,\"all\",7,recon,7,4,57.1,11\r\n"));
	assert_non_null(strstr(c, "\r\nall,\"all\",7,c2,0,0,,0\r\n"));
	assert_non_null(strstr(c, "\r\nindustry,\"retail\",4,recon,4,x,x,x\r\n"));
	assert_non_null(strstr(c, "\r\nindustry,\"other\",3,recon,3,x,x,x\r\n"));
	assert_null(strstr(c, "\"food\""));
	assert_null(strstr(c, "\"it\""));
	assert_non_null(strstr(c, "\r\nsize,\"1-9\",4,recon,4,x,x,x\r\n"));
	assert_non_null(strstr(c, "\r\nsize,\"10-49\",3,recon,3,x,x,x\r\n"));
	assert_non_null(strstr(c, "\r\nregion,\"Osaka\",3,recon,3,x,x,x\r\n"));
	/* no company id, no address */
	assert_null(strstr(c, "retail-"));
	assert_null(strstr(c, "food-1"));
	assert_null(strstr(c, "idle"));
	assert_null(strstr(c, "203.0.113"));
	assert_null(strstr(c, "192.168"));
	om_buf_free(&b);

	/* a fourth affected retail company: retail 4 of 4 and other 1 of 3;
	 * other's 1 is still hidden, and so is retail's 4 (the only other cell) */
	add(s, "retail-4", "recon", MAY1_2024 + 5 * HOUR);
	assert_int_equal(om_store_flush(s), 0);
	om_buf_init(&b, 1 << 20);
	assert_int_equal(
	    om_report_stats(s, "2024-05", OM_STATS_JSON, OM_LANG_EN, &b, NULL, err, sizeof(err)),
	    0);
	const char *j = om_buf_cstr(&b);
	assert_non_null(strstr(j, "{\"month\":\"2024-05\",\"k\":3,\"rows\":["));
	assert_non_null(strstr(j, "{\"dimension\":\"all\",\"group\":\"all\",\"companies\":7,"
	                          "\"category\":\"recon\",\"companies_monitored\":7,"
	                          "\"companies_affected\":5,\"share_affected_percent\":71.4,"
	                          "\"events\":12,\"suppressed\":false}"));
	assert_non_null(strstr(j,
	                       "{\"dimension\":\"industry\",\"group\":\"retail\",\"companies\":4,"
	                       "\"category\":\"recon\",\"companies_monitored\":4,"
	                       "\"companies_affected\":null,\"share_affected_percent\":null,"
	                       "\"events\":null,\"suppressed\":true}"));
	om_buf_free(&b);

	/* XLSX to a file (a zip) */
	snprintf(path, sizeof(path), "%s/s.xlsx", dir);
	assert_int_equal(
	    om_report_stats(s, "2024-05", OM_STATS_XLSX, OM_LANG_JA, NULL, path, err, sizeof(err)),
	    0);
	FILE *f = fopen(path, "rb");
	char head[4] = "";
	assert_non_null(f);
	assert_int_equal(fread(head, 1, 2, f), 2);
	fclose(f);
	assert_memory_equal(head, "PK", 2);
	unlink(path);
	/* bad arguments */
	assert_int_equal(
	    om_report_stats(s, "2024-5", OM_STATS_CSV, OM_LANG_EN, &b, NULL, err, sizeof(err)),
	    -EINVAL);
	assert_int_equal(
	    om_report_stats(s, "2024-05", OM_STATS_XLSX, OM_LANG_EN, NULL, NULL, err, sizeof(err)),
	    -EINVAL);

	om_store_close(s);
	tmpdb_remove(&db);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_suppress_row),      cmocka_unit_test(test_suppress_zeros),
	    cmocka_unit_test(test_suppress_none),     cmocka_unit_test(test_suppress_single),
	    cmocka_unit_test(test_suppress_property), cmocka_unit_test(test_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
