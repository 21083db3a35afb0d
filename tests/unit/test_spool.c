/* Unit tests for the spool: records round trip, segments roll by size, the
 * size cap drops and counts, a reader resumes from its committed position,
 * stops at a torn tail and goes on past it once a later segment exists,
 * skips a corrupt record's segment, and follows a writer that is still
 * writing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/base.h"

static char dir[64];
static char err[512];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/omamori-spool-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static om_spool *wopen(uint64_t seg, uint64_t max)
{
	om_spool_opts o;
	om_spool_opts_default(&o);
	o.fsync = OM_SPOOL_FSYNC_BATCH;
	if (seg)
		o.segment_bytes = seg;
	if (max)
		o.max_bytes = max;
	om_spool *s;
	assert_int_equal(om_spool_open(dir, &o, &s, err, sizeof(err)), 0);
	return s;
}

static om_spool_reader *ropen(const char *name)
{
	om_spool_reader *r;
	int rc = om_spool_reader_open(dir, name, &r, err, sizeof(err));
	if (rc < 0)
		fail_msg("reader: %s", err);
	return r;
}

/* Reads the next record and compares it with want (NULL: expect the end). */
static void expect_rec(om_spool_reader *r, const char *want)
{
	const char *d;
	size_t n;
	int rc = om_spool_read(r, &d, &n);
	if (!want) {
		assert_int_equal(rc, 0);
		return;
	}
	assert_int_equal(rc, 1);
	assert_int_equal(n, strlen(want));
	assert_memory_equal(d, want, n);
}

static size_t count_segments(void)
{
	DIR *d = opendir(dir);
	assert_non_null(d);
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL)
		if (strlen(de->d_name) == 24 && !strcmp(de->d_name + 20, ".seg"))
			n++;
	closedir(d);
	return n;
}

static void seg_file(uint64_t seq, char *out, size_t n)
{
	snprintf(out, n, "%s/%020llu.seg", dir, (unsigned long long)seq);
}

static void test_round_trip(void **state)
{
	(void)state;
	om_spool *s = wopen(0, 0);
	/* nothing is created before the first record */
	assert_int_equal(count_segments(), 0);
	assert_int_equal(om_spool_append(s, "a\nbb\nccc\n", 9), 0);
	/* a last line without '\n' is a record too; empty lines are not */
	assert_int_equal(om_spool_append(s, "\ndddd", 5), 0);
	om_spool_stats st;
	om_spool_stats_get(s, &st);
	assert_int_equal(st.records, 4);
	assert_int_equal(st.bytes, 4 * 8 + 1 + 2 + 3 + 4);
	assert_int_equal(st.segments, 1);
	assert_true(st.fsyncs >= 1); /* batch policy */
	om_spool_close(s);
	/* the file: 16-byte header, then the framed records */
	char path[128];
	seg_file(1, path, sizeof(path));
	struct stat sb;
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_size, 16 + 4 * 8 + 10);
	om_spool_reader *r = ropen("t");
	expect_rec(r, "a");
	expect_rec(r, "bb");
	expect_rec(r, "ccc");
	expect_rec(r, "dddd");
	expect_rec(r, NULL);
	om_spool_reader_close(r);
}

static void test_segments_and_resume(void **state)
{
	(void)state;
	/* 16 + 2 x (8 + 30) = 92 <= 100: two records a segment */
	om_spool *s = wopen(100, 0);
	char line[64];
	for (int i = 0; i < 10; i++) {
		snprintf(line, sizeof(line), "%02d-%027d\n", i, 0);
		assert_int_equal(strlen(line), 31);
		assert_int_equal(om_spool_append(s, line, 31), 0);
	}
	om_spool_stats st;
	om_spool_stats_get(s, &st);
	assert_int_equal(st.segments, 5);
	om_spool_close(s);
	assert_int_equal(count_segments(), 5);

	om_spool_reader *r = ropen("c1");
	for (int i = 0; i < 3; i++) {
		snprintf(line, sizeof(line), "%02d-%027d", i, 0);
		expect_rec(r, line);
	}
	assert_int_equal(om_spool_commit(r), 0);
	/* read further without committing: lost on reopen, read again */
	expect_rec(r, "03-000000000000000000000000000");
	om_spool_reader_close(r);
	r = ropen("c1");
	for (int i = 3; i < 10; i++) {
		snprintf(line, sizeof(line), "%02d-%027d", i, 0);
		expect_rec(r, line);
	}
	expect_rec(r, NULL);
	om_spool_reader_stats rs;
	om_spool_reader_stats_get(r, &rs);
	assert_int_equal(rs.torn, 0);
	assert_int_equal(om_spool_commit(r), 0);
	om_spool_reader_close(r);
	/* another consumer has its own position */
	r = ropen("c2");
	expect_rec(r, "00-000000000000000000000000000");
	om_spool_reader_close(r);
	/* a new writer starts a new segment after the last; c1 reads on */
	s = wopen(100, 0);
	assert_int_equal(om_spool_append(s, "more\n", 5), 0);
	om_spool_close(s);
	char path[128];
	seg_file(6, path, sizeof(path));
	assert_int_equal(access(path, F_OK), 0);
	r = ropen("c1");
	expect_rec(r, "more");
	expect_rec(r, NULL);
	om_spool_reader_close(r);
}

/* inspect's store writer: a new consumer starts at the run's own segment */
static void test_start_at(void **state)
{
	(void)state;
	om_spool *s = wopen(0, 0);
	assert_int_equal(om_spool_first_segment(s), 1);
	assert_int_equal(om_spool_append(s, "old\n", 4), 0);
	om_spool_close(s);
	s = wopen(0, 0);
	assert_int_equal(om_spool_first_segment(s), 2);
	assert_int_equal(om_spool_append(s, "new\n", 4), 0);
	om_spool_reader *r = ropen("fresh");
	om_spool_reader_start_at(r, om_spool_first_segment(s));
	expect_rec(r, "new");
	expect_rec(r, NULL);
	assert_int_equal(om_spool_commit(r), 0);
	om_spool_reader_close(r);
	/* a consumer with a position keeps it (leftovers of a failed run) */
	r = ropen("old");
	expect_rec(r, "old");
	assert_int_equal(om_spool_commit(r), 0);
	om_spool_reader_close(r);
	om_spool_close(s);
	s = wopen(0, 0);
	assert_int_equal(om_spool_append(s, "third\n", 6), 0);
	r = ropen("old");
	om_spool_reader_start_at(r, om_spool_first_segment(s));
	expect_rec(r, "new");
	expect_rec(r, "third");
	expect_rec(r, NULL);
	om_spool_reader_close(r);
	om_spool_close(s);
}

static void test_prune(void **state)
{
	(void)state;
	uint64_t removed = 99;
	om_spool *s = wopen(40, 0); /* one record a segment */
	for (int i = 0; i < 4; i++)
		assert_int_equal(om_spool_append(s, "0123456789\n", 11), 0);
	om_spool_close(s);
	assert_int_equal(count_segments(), 4);
	/* no consumer: nothing goes */
	assert_int_equal(om_spool_prune(dir, &removed), 0);
	assert_int_equal(removed, 0);
	om_spool_reader *a = ropen("a"), *b = ropen("b");
	for (int i = 0; i < 3; i++)
		expect_rec(a, "0123456789");
	expect_rec(b, "0123456789");
	assert_int_equal(om_spool_commit(a), 0); /* a in segment 3 */
	assert_int_equal(om_spool_commit(b), 0); /* b in segment 1 */
	assert_int_equal(om_spool_prune(dir, &removed), 0);
	assert_int_equal(removed, 0);
	expect_rec(b, "0123456789");
	expect_rec(b, "0123456789");
	assert_int_equal(om_spool_commit(b), 0); /* b in segment 3 too */
	assert_int_equal(om_spool_prune(dir, &removed), 0);
	assert_int_equal(removed, 2);
	assert_int_equal(count_segments(), 2);
	om_spool_reader_close(a);
	om_spool_reader_close(b);
	/* both go on where they were */
	a = ropen("a");
	expect_rec(a, "0123456789");
	expect_rec(a, NULL);
	om_spool_reader_close(a);
}

static void test_cap(void **state)
{
	(void)state;
	/* 16 + 5 x (8 + 12) = 116 <= 120 */
	om_spool *s = wopen(0, 120);
	for (int i = 0; i < 8; i++)
		assert_int_equal(om_spool_append(s, "0123456789ab\n", 13), 0);
	om_spool_stats st;
	om_spool_stats_get(s, &st);
	assert_int_equal(st.records, 5);
	assert_int_equal(st.dropped, 3);
	om_spool_close(s);
	/* the cap counts what earlier runs left: a new writer drops at once */
	s = wopen(0, 120);
	assert_int_equal(om_spool_append(s, "x\n", 2), 0);
	om_spool_stats_get(s, &st);
	assert_int_equal(st.records, 0);
	assert_int_equal(st.dropped, 1);
	om_spool_close(s);
	om_spool_reader *r = ropen("t");
	for (int i = 0; i < 5; i++)
		expect_rec(r, "0123456789ab");
	expect_rec(r, NULL);
	om_spool_reader_close(r);
}

static void append_raw(const char *path, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_APPEND);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, p, n), (ssize_t)n);
	close(fd);
}

static void test_torn_tail(void **state)
{
	(void)state;
	om_spool *s = wopen(0, 0);
	assert_int_equal(om_spool_append(s, "one\ntwo\n", 8), 0);
	om_spool_close(s);
	/* a crash in the middle of a record: its header and half its bytes */
	char path[128];
	seg_file(1, path, sizeof(path));
	const uint8_t torn[] = {10, 0, 0, 0, 0xde, 0xad, 0xbe, 0xef, 'h', 'a', 'l'};
	append_raw(path, torn, sizeof(torn));
	om_spool_reader *r = ropen("t");
	expect_rec(r, "one");
	expect_rec(r, "two");
	/* stops cleanly: the rest may still come */
	expect_rec(r, NULL);
	expect_rec(r, NULL);
	assert_int_equal(om_spool_commit(r), 0);
	om_spool_reader_close(r);
	/* the next run writes a new segment: the torn record is passed over */
	s = wopen(0, 0);
	assert_int_equal(om_spool_append(s, "three\n", 6), 0);
	om_spool_close(s);
	r = ropen("t");
	expect_rec(r, "three");
	expect_rec(r, NULL);
	om_spool_reader_stats rs;
	om_spool_reader_stats_get(r, &rs);
	assert_int_equal(rs.torn, 1);
	om_spool_reader_close(r);
}

static void test_corrupt_record(void **state)
{
	(void)state;
	om_spool *s = wopen(0, 0);
	assert_int_equal(om_spool_append(s, "first\nsecond\nthird\n", 19), 0);
	om_spool_close(s);
	s = wopen(0, 0);
	assert_int_equal(om_spool_append(s, "next\n", 5), 0);
	om_spool_close(s);
	/* flip one byte of "second": its CRC no longer matches */
	char path[128];
	seg_file(1, path, sizeof(path));
	int fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "X", 1, 16 + 8 + 5 + 8 + 2), 1);
	close(fd);
	om_spool_reader *r = ropen("t");
	expect_rec(r, "first");
	expect_rec(r, "next"); /* the rest of the damaged segment is skipped */
	expect_rec(r, NULL);
	om_spool_reader_stats rs;
	om_spool_reader_stats_get(r, &rs);
	assert_int_equal(rs.torn, 1);
	om_spool_reader_close(r);
	/* the scanner agrees: one valid record, ending at 16 + 8 + 5 */
	size_t n;
	FILE *f = fopen(path, "rb");
	uint8_t buf[256];
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	size_t end;
	assert_int_equal(om_spool_scan(buf, n, &end), 1);
	assert_int_equal(end, 16 + 8 + 5);
}

static void test_follow_writer(void **state)
{
	(void)state;
	om_spool *s = wopen(64, 0);
	om_spool_reader *r = ropen("t");
	expect_rec(r, NULL); /* nothing yet, not even a segment */
	assert_int_equal(om_spool_append(s, "a1\n", 3), 0);
	expect_rec(r, "a1");
	expect_rec(r, NULL);
	/* records that roll into later segments while the reader waits */
	char line[32];
	for (int i = 0; i < 6; i++) {
		snprintf(line, sizeof(line), "line-%d-0123456789\n", i);
		assert_int_equal(om_spool_append(s, line, strlen(line)), 0);
	}
	for (int i = 0; i < 6; i++) {
		snprintf(line, sizeof(line), "line-%d-0123456789", i);
		expect_rec(r, line);
	}
	expect_rec(r, NULL);
	om_spool_close(s);
	om_spool_reader_stats rs;
	om_spool_reader_stats_get(r, &rs);
	assert_int_equal(rs.torn, 0);
	assert_int_equal(rs.records, 7);
	om_spool_reader_close(r);
}

static void test_options_and_state(void **state)
{
	(void)state;
	/* the record checksum: CRC-32C's check value, and the table path's
	 * agreement on lengths that are not multiples of 8 */
	assert_int_equal(om_crc32c("123456789", 9), 0xe3069283u);
	assert_int_equal(om_crc32c("", 0), 0);
	assert_int_equal(om_crc32c("a", 1), 0xc1d04330u);
	om_spool_opts o;
	om_spool_opts_default(&o);
	assert_int_equal(o.fsync, OM_SPOOL_FSYNC_INTERVAL);
	assert_int_equal(o.fsync_interval_ms, 1000);
	assert_int_equal(om_spool_fsync_parse("none", &o), 0);
	assert_int_equal(o.fsync, OM_SPOOL_FSYNC_NONE);
	assert_int_equal(om_spool_fsync_parse("interval:250", &o), 0);
	assert_int_equal(o.fsync, OM_SPOOL_FSYNC_INTERVAL);
	assert_int_equal(o.fsync_interval_ms, 250);
	assert_int_equal(om_spool_fsync_parse("interval:0", &o), -EINVAL);
	assert_int_equal(om_spool_fsync_parse("sometimes", &o), -EINVAL);
	assert_int_equal(om_spool_fsync_parse("batch", &o), 0);
	/* interval: a sync at most every 10 s, so none for quick appends */
	om_spool_opts_default(&o);
	o.fsync = OM_SPOOL_FSYNC_INTERVAL;
	o.fsync_interval_ms = 10000;
	om_spool *s;
	assert_int_equal(om_spool_open(dir, &o, &s, err, sizeof(err)), 0);
	for (int i = 0; i < 5; i++)
		assert_int_equal(om_spool_append(s, "r\n", 2), 0);
	om_spool_stats st;
	om_spool_stats_get(s, &st);
	assert_int_equal(st.fsyncs, 0);
	om_spool_close(s);
	/* a damaged position file is refused with a message, not guessed */
	char path[128];
	snprintf(path, sizeof(path), "%s/bad.offset", dir);
	FILE *f = fopen(path, "w");
	fputs("twelve\n", f);
	fclose(f);
	om_spool_reader *r;
	assert_int_equal(om_spool_reader_open(dir, "bad", &r, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, path));
	/* consumer names are plain */
	assert_int_equal(om_spool_reader_open(dir, "../x", &r, err, sizeof(err)), -EINVAL);
	/* one writer at a time */
	om_spool *s2;
	assert_int_equal(om_spool_open(dir, &o, &s, err, sizeof(err)), 0);
	assert_int_equal(om_spool_open(dir, &o, &s2, err, sizeof(err)), -EBUSY);
	assert_non_null(strstr(err, dir));
	om_spool_close(s);
	assert_int_equal(om_spool_open(dir, &o, &s2, err, sizeof(err)), 0);
	om_spool_close(s2);
	/* a spool directory that cannot be made */
	assert_true(om_spool_open("/nonexistent/dir/spool", &o, &s, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "/nonexistent/dir/spool"));
}

int main(void)
{
	om_i18n_init();
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_segments_and_resume, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cap, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_start_at, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_prune, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_torn_tail, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_corrupt_record, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_follow_writer, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_options_and_state, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
