/* console ingest: pushed batches parsed without the store and written by the
 * group commit (src/console/ingest.c). Batches queued while one thread
 * writes are committed together by the next writer; every caller returns
 * only after the commit holding its batch (a second connection sees its
 * events); a batch pushed twice into one group is stored once; the counts
 * are those of the direct path. Runs on SQLite and on PostgreSQL
 * (tests/store/backend.h). */
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
#include <pthread.h>
#include <zlib.h>

#include "../store/backend.h"
#include "console/internal.h"

#define THREADS 8

/* A gzip body of n alert lines of gateway g<gw> of tenant t<gw>, plus a
 * flow line (not stored) and a line of another tenant (refused). */
static unsigned char *body(int gw, int n, size_t *ret_len)
{
	size_t cap = (size_t)n * 600 + 2048, len = 0;
	char *text = malloc(cap);
	assert_non_null(text);
	for (int i = 0; i < n; i++)
		len += (size_t)snprintf(
		    text + len, cap - len,
		    "{\"timestamp\":\"2024-05-01T10:%02d:%02d.000000+0000\",\"event_type\":\"alert\","
		    "\"src_ip\":\"203.0.113.%d\",\"src_port\":40000,\"dest_ip\":\"192.168.1.2\","
		    "\"dest_port\":22,\"proto\":\"TCP\",\"alert\":{\"signature_id\":9000001,"
		    "\"signature\":\"scan\"},\"omamori\":{\"category\":\"recon\",\"severity\":2,"
		    "\"tenant\":\"t%d\",\"gateway\":\"g%d\"}}\n",
		    i / 60, i % 60, i % 250 + 1, gw, gw);
	len += (size_t)snprintf(text + len, cap - len,
	                        "{\"event_type\":\"flow\",\"omamori\":{\"tenant\":\"t%d\"}}\n"
	                        "{\"timestamp\":\"2024-05-01T11:00:00.000000+0000\","
	                        "\"event_type\":\"alert\",\"alert\":{},\"omamori\":{"
	                        "\"category\":\"recon\",\"tenant\":\"other\",\"gateway\":\"g%d\"}}\n",
	                        gw, gw);
	uLongf zlen = compressBound((uLong)len) + 64;
	unsigned char *z = malloc(zlen);
	assert_non_null(z);
	z_stream zs;
	memset(&zs, 0, sizeof(zs));
	assert_int_equal(deflateInit2(&zs, 1, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY),
	                 Z_OK);
	zs.next_in = (Bytef *)text;
	zs.avail_in = (uInt)len;
	zs.next_out = z;
	zs.avail_out = (uInt)zlen;
	assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
	*ret_len = zlen - zs.avail_out;
	deflateEnd(&zs);
	free(text);
	return z;
}

struct shared {
	con_ingest_queue q;
	pthread_mutex_t store_lock;
	om_store *s;
	const char *path;
};

struct push {
	struct shared *sh;
	int gw, n;
	char gateway[16], tenant[16], batch[16];
	int rc;
	bool seen;
	con_ingest_result res;
	int64_t visible; /* events of the gateway another connection saw on return */
};

static void *push_thread(void *arg)
{
	struct push *p = arg;
	size_t len;
	unsigned char *z = body(p->gw, p->n, &len);
	om_store_parsed *parsed = NULL;
	p->rc = con_ingest_parse(p->tenant, p->gateway, z, len, &parsed, NULL, &p->res);
	if (p->rc == 0)
		p->rc = con_ingest_commit(&p->sh->q, p->gateway, p->batch, parsed, 1000, &p->res,
		                          &p->seen);
	om_store_parsed_free(parsed);
	free(z);
	if (p->rc == 0) {
		char sql[128];
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM events WHERE gateway = '%s'",
		         p->gateway);
		p->visible = raw_int(p->sh->path, sql);
	}
	return NULL;
}

static void test_group_commit(void **state)
{
	(void)state;
	struct tmpdb t;
	struct shared sh;
	struct push p[THREADS];
	pthread_t th[THREADS];
	char err[256] = "";

	tmpdb_make(&t);
	memset(&sh, 0, sizeof(sh));
	con_ingest_queue_init(&sh.q);
	pthread_mutex_init(&sh.store_lock, NULL);
	sh.path = t.path;
	assert_int_equal(om_store_open(t.path, &sh.s, err, sizeof(err)), 0);
	assert_int_equal(con_ingest_start(&sh.q, sh.s, &sh.store_lock), 0);
	/* held: the writer takes the first pusher's batch and waits for it, the
	 * other seven queue up behind, and are written together next */
	pthread_mutex_lock(&sh.store_lock);
	for (int i = 0; i < THREADS; i++) {
		memset(&p[i], 0, sizeof(p[i]));
		p[i].sh = &sh;
		/* pushers 6 and 7 push one batch (gateway 6's b6) twice */
		p[i].gw = i == 7 ? 6 : i;
		p[i].n = 50 + i;
		if (i == 7)
			p[i].n = p[6].n;
		snprintf(p[i].gateway, sizeof(p[i].gateway), "g%d", p[i].gw);
		snprintf(p[i].tenant, sizeof(p[i].tenant), "t%d", p[i].gw);
		snprintf(p[i].batch, sizeof(p[i].batch), "b%d", p[i].gw);
	}
	assert_int_equal(pthread_create(&th[0], NULL, push_thread, &p[0]), 0);
	/* the first one has taken its job (the queue is empty again) */
	for (int w = 0; w < 2000; w++) {
		pthread_mutex_lock(&sh.q.m);
		bool taken = sh.q.writing;
		pthread_mutex_unlock(&sh.q.m);
		if (taken)
			break;
		usleep(5000);
	}
	for (int i = 1; i < THREADS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, push_thread, &p[i]), 0);
	for (int w = 0; w < 2000 && (int)con_ingest_queued(&sh.q) < THREADS - 1; w++)
		usleep(5000);
	assert_int_equal((int)con_ingest_queued(&sh.q), THREADS - 1);
	pthread_mutex_unlock(&sh.store_lock);
	for (int i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);

	/* two commits for eight batches */
	assert_int_equal(sh.q.groups, 2);
	assert_int_equal(sh.q.batches, THREADS);
	int seen = 0;
	int64_t total = 0;
	for (int i = 0; i < THREADS; i++) {
		assert_int_equal(p[i].rc, 0);
		/* the events were committed before the call returned */
		assert_int_equal(p[i].visible, p[i].n);
		assert_int_equal(p[i].res.lines, p[i].n + 2);
		if (p[i].seen) {
			seen++;
			assert_int_equal(p[i].res.stored, 0);
			continue;
		}
		assert_int_equal(p[i].res.stored, p[i].n);
		assert_int_equal(p[i].res.ignored, 1);
		assert_int_equal(p[i].res.invalid, 1);
		total += p[i].n;
	}
	/* b6 pushed twice in one group: stored once, the other a duplicate */
	assert_int_equal(seen, 1);
	con_ingest_stop(&sh.q);
	om_store_close(sh.s);
	assert_int_equal(raw_int(t.path, "SELECT count(*) FROM events"), total);
	assert_int_equal(raw_int(t.path, "SELECT sum(count) FROM rollup_daily"), total);
	assert_int_equal(raw_int(t.path, "SELECT count(*) FROM console_batches"), THREADS - 1);
	assert_int_equal(raw_int(t.path, "SELECT events FROM console_batches WHERE batch_id = 'b3'"),
	                 53);
	pthread_mutex_destroy(&sh.store_lock);
	con_ingest_queue_destroy(&sh.q);
	tmpdb_remove(&t);
}

/* A batch recorded by an earlier commit: nothing written again. */
static void test_recorded_batch(void **state)
{
	(void)state;
	struct tmpdb t;
	struct shared sh;
	struct push p;
	char err[256] = "";

	tmpdb_make(&t);
	memset(&sh, 0, sizeof(sh));
	con_ingest_queue_init(&sh.q);
	pthread_mutex_init(&sh.store_lock, NULL);
	sh.path = t.path;
	assert_int_equal(om_store_open(t.path, &sh.s, err, sizeof(err)), 0);
	assert_int_equal(con_ingest_start(&sh.q, sh.s, &sh.store_lock), 0);
	for (int round = 0; round < 2; round++) {
		memset(&p, 0, sizeof(p));
		p.sh = &sh;
		p.gw = 1;
		p.n = 30;
		snprintf(p.gateway, sizeof(p.gateway), "g1");
		snprintf(p.tenant, sizeof(p.tenant), "t1");
		snprintf(p.batch, sizeof(p.batch), "b1");
		push_thread(&p);
		assert_int_equal(p.rc, 0);
		assert_int_equal(p.seen, round == 1);
		assert_int_equal(p.res.stored, round == 0 ? 30 : 0);
		assert_int_equal(p.visible, 30);
	}
	con_ingest_stop(&sh.q);
	om_store_close(sh.s);
	assert_int_equal(raw_int(t.path, "SELECT count(*) FROM events"), 30);
	assert_int_equal(raw_int(t.path, "SELECT count(*) FROM console_batches"), 1);
	pthread_mutex_destroy(&sh.store_lock);
	con_ingest_queue_destroy(&sh.q);
	tmpdb_remove(&t);
}


/* PostgreSQL: two writers on connections of their own, many pushers at
 * once, a batch pushed twice: every batch committed once, all answered. */
static void test_two_writers(void **state)
{
	(void)state;
	enum { N = 40 };
	struct tmpdb t;
	struct shared sh;
	struct push p[N];
	pthread_t th[N];
	pthread_mutex_t lock2;
	om_store *s2 = NULL;
	char err[256] = "";

	if (!tb_pg()) {
		skip(); /* one writer on SQLite (one writer at a time there) */
		return;
	}
	tmpdb_make(&t);
	memset(&sh, 0, sizeof(sh));
	con_ingest_queue_init(&sh.q);
	pthread_mutex_init(&sh.store_lock, NULL);
	pthread_mutex_init(&lock2, NULL);
	sh.path = t.path;
	assert_int_equal(om_store_open(t.path, &sh.s, err, sizeof(err)), 0);
	assert_int_equal(om_store_open(t.path, &s2, err, sizeof(err)), 0);
	assert_int_equal(con_ingest_start(&sh.q, sh.s, &sh.store_lock), 0);
	assert_int_equal(con_ingest_start(&sh.q, s2, &lock2), 0);
	assert_int_equal(con_ingest_start(&sh.q, s2, &lock2), -E2BIG);
	int64_t total = 0;
	for (int i = 0; i < N; i++) {
		memset(&p[i], 0, sizeof(p[i]));
		p[i].sh = &sh;
		p[i].gw = i == N - 1 ? 0 : i; /* the last pushes gateway 0's batch again */
		p[i].n = 1500 + (i == N - 1 ? 0 : i);
		snprintf(p[i].gateway, sizeof(p[i].gateway), "g%d", p[i].gw);
		snprintf(p[i].tenant, sizeof(p[i].tenant), "t%d", p[i].gw);
		snprintf(p[i].batch, sizeof(p[i].batch), "b%d", p[i].gw);
		if (i < N - 1)
			total += p[i].n;
	}
	for (int i = 0; i < N; i++)
		assert_int_equal(pthread_create(&th[i], NULL, push_thread, &p[i]), 0);
	for (int i = 0; i < N; i++)
		pthread_join(th[i], NULL);
	int seen = 0;
	for (int i = 0; i < N; i++) {
		assert_int_equal(p[i].rc, 0);
		assert_int_equal(p[i].visible, p[i].n);
		seen += p[i].seen;
	}
	assert_int_equal(seen, 1);
	con_ingest_stop(&sh.q);
	assert_int_equal(sh.q.batches, N);
	om_store_close(s2);
	om_store_close(sh.s);
	assert_int_equal(raw_int(t.path, "SELECT count(*) FROM events"), total);
	assert_int_equal(raw_int(t.path, "SELECT sum(count) FROM rollup_daily"), total);
	assert_int_equal(raw_int(t.path, "SELECT count(*) FROM console_batches"), N - 1);
	pthread_mutex_destroy(&lock2);
	pthread_mutex_destroy(&sh.store_lock);
	con_ingest_queue_destroy(&sh.q);
	tmpdb_remove(&t);
}


/* The queue's cap on parsed sets: past it a batch is refused (unless none
 * waits), and the space is given back when the queued ones are written. */
static void test_queue_cap(void **state)
{
	(void)state;
	struct tmpdb t;
	om_store *s = NULL;
	pthread_mutex_t lock;
	con_ingest_queue q;
	char err[256] = "";
	om_store_parsed *set[3];
	con_ingest_job job[3];

	tmpdb_make(&t);
	pthread_mutex_init(&lock, NULL);
	con_ingest_queue_init(&q);
	assert_int_equal(q.max_bytes, CON_INGEST_QUEUED_MAX);
	assert_int_equal(om_store_open(t.path, &s, err, sizeof(err)), 0);
	assert_int_equal(con_ingest_start(&q, s, &lock), 0);
	for (int i = 0; i < 3; i++) {
		size_t len;
		unsigned char *z = body(i, 40, &len);
		char gw[8], tn[8];
		con_ingest_result res;
		snprintf(gw, sizeof(gw), "g%d", i);
		snprintf(tn, sizeof(tn), "t%d", i);
		assert_int_equal(con_ingest_parse(tn, gw, z, len, &set[i], NULL, &res), 0);
		free(z);
		job[i] = (con_ingest_job){
		    .gateway = i == 0 ? "g0" : i == 1 ? "g1" : "g2", .batch_id = "b", .parsed = set[i],
		    .res = res};
	}
	size_t one = om_store_parsed_bytes(set[0]);
	assert_true(one > 0);
	/* room for one set and a half: the first goes in, the second not */
	q.max_bytes = one + one / 2;
	pthread_mutex_lock(&lock); /* the writer waits with what it took */
	assert_int_equal(con_ingest_submit(&q, &job[0]), 0);
	assert_int_equal(con_ingest_submit(&q, &job[1]), -ENOBUFS);
	pthread_mutex_unlock(&lock);
	pthread_mutex_lock(&q.m);
	while (!job[0].done)
		pthread_cond_wait(&q.cv, &q.m);
	assert_int_equal(q.queued_bytes, 0);
	pthread_mutex_unlock(&q.m);
	/* nothing queued: even a set larger than the cap goes in */
	q.max_bytes = 1;
	assert_int_equal(con_ingest_submit(&q, &job[2]), 0);
	con_ingest_stop(&q);
	assert_true(job[2].done);
	assert_int_equal(job[0].rc, 0);
	assert_int_equal(job[2].rc, 0);
	for (int i = 0; i < 3; i++)
		om_store_parsed_free(set[i]);
	om_store_close(s);
	assert_int_equal(raw_int(t.path, "SELECT count(*) FROM events"), 80);
	con_ingest_queue_destroy(&q);
	pthread_mutex_destroy(&lock);
	tmpdb_remove(&t);
}

/* A group is written in the order of its gateways, whatever the order of
 * the queue: two writers (PostgreSQL) then lock the rows they share in one
 * order (in queue order, groups [a, b] and [b, a] could deadlock). The
 * events' ids show the order they were written in. */
static void test_group_order(void **state)
{
	(void)state;
	struct tmpdb t;
	om_store *s = NULL;
	pthread_mutex_t lock;
	con_ingest_queue q;
	char err[256] = "";
	static const char *const gws[4] = {"g9", "g2", "g0", "g1"};
	static const char *const tns[4] = {"t9", "t2", "t0", "t1"};
	om_store_parsed *set[4];
	con_ingest_job job[4];

	tmpdb_make(&t);
	pthread_mutex_init(&lock, NULL);
	con_ingest_queue_init(&q);
	assert_int_equal(om_store_open(t.path, &s, err, sizeof(err)), 0);
	assert_int_equal(con_ingest_start(&q, s, &lock), 0);
	for (int i = 0; i < 4; i++) {
		size_t len;
		unsigned char *z = body(gws[i][1] - '0', 20, &len);
		con_ingest_result res;
		assert_int_equal(con_ingest_parse(tns[i], gws[i], z, len, &set[i], NULL, &res), 0);
		free(z);
		job[i] = (con_ingest_job){.gateway = gws[i], .batch_id = "b", .parsed = set[i], .res = res};
	}
	/* the writer takes g9's batch alone and waits for the lock; g2, g0 and
	 * g1 queue up behind it and are written together next */
	pthread_mutex_lock(&lock);
	assert_int_equal(con_ingest_submit(&q, &job[0]), 0);
	for (int w = 0; w < 2000; w++) {
		pthread_mutex_lock(&q.m);
		bool taken = q.writing;
		pthread_mutex_unlock(&q.m);
		if (taken)
			break;
		usleep(5000);
	}
	for (int i = 1; i < 4; i++)
		assert_int_equal(con_ingest_submit(&q, &job[i]), 0);
	pthread_mutex_unlock(&lock);
	con_ingest_stop(&q);
	assert_int_equal(q.groups, 2);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(job[i].rc, 0);
		om_store_parsed_free(set[i]);
	}
	om_store_close(s);
	assert_int_equal(raw_int(t.path, "SELECT count(*) FROM events"), 80);
	/* g9 first (its own group), then g0, g1, g2 */
	assert_int_equal(raw_int(t.path, "SELECT max(id) FROM events WHERE gateway = 'g9'") <
	                     raw_int(t.path, "SELECT min(id) FROM events WHERE gateway = 'g0'"),
	                 1);
	assert_int_equal(raw_int(t.path, "SELECT max(id) FROM events WHERE gateway = 'g0'") <
	                     raw_int(t.path, "SELECT min(id) FROM events WHERE gateway = 'g1'"),
	                 1);
	assert_int_equal(raw_int(t.path, "SELECT max(id) FROM events WHERE gateway = 'g1'") <
	                     raw_int(t.path, "SELECT min(id) FROM events WHERE gateway = 'g2'"),
	                 1);
	assert_int_equal(raw_int(t.path, "SELECT sum(count) FROM rollup_daily"), 80);
	con_ingest_queue_destroy(&q);
	pthread_mutex_destroy(&lock);
	tmpdb_remove(&t);
}

/* The parse refuses what the direct path refuses. */
static void test_parse_errors(void **state)
{
	(void)state;
	om_store_parsed *parsed = NULL;
	con_ingest_result res;
	assert_int_equal(con_ingest_parse("t", "g", "hello", 5, &parsed, NULL, &res), -EINVAL);
	assert_null(parsed);
	size_t len;
	unsigned char *z = body(1, 3, &len);
	/* truncated */
	assert_int_equal(con_ingest_parse("t1", "g1", z, len - 9, &parsed, NULL, &res), -EINVAL);
	assert_null(parsed);
	assert_int_equal(con_ingest_parse("t1", "g1", z, len, &parsed, NULL, &res), 0);
	assert_int_equal(om_store_parsed_lines(parsed), 3);
	assert_int_equal(res.lines, 5);
	assert_int_equal(res.stored, 3);
	om_store_parsed_free(parsed);
	free(z);
}

int main(void)
{
	om_i18n_init();
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_group_commit),
	    cmocka_unit_test(test_recorded_batch),
	    cmocka_unit_test(test_two_writers),
	    cmocka_unit_test(test_queue_cap),
	    cmocka_unit_test(test_group_order),
	    cmocka_unit_test(test_parse_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
