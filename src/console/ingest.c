/* console: ingest of a gateway's pushed batch. The body is gzip; it is
 * inflated in chunks and split into lines, each mapped by the store's
 * importer for the gateway's own tenant (a line naming another tenant is
 * refused). Idempotence rests on two things: the batch id (a batch already
 * recorded is acknowledged without being read again) and the store's
 * per-event key (a batch resent after a crash half-way through counts each
 * event once).
 *
 * The server parses a batch on its connection's thread, without the store
 * (con_ingest_parse), and submits it to the group commit
 * (con_ingest_submit): a writer thread of its own writes the batches queued
 * meanwhile in one transaction with their batch records and the gateways'
 * health, and each is answered only after that commit (the connection
 * waits suspended, its thread serves others). */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "console/internal.h"

bool con_batch_id_ok(const char *id)
{
	size_t n = 0;

	if (!id)
		return false;
	for (const char *p = id; *p; p++, n++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.'))
			return false;
	return n >= 1 && n <= 64;
}

/* What the lines of a body go to: the store at once, or a parsed set. */
struct sink {
	om_store *s; /* or */
	om_store_parsed *parsed;
	const char *tenant, *gateway;
	con_desk_auto *desk; /* the desk's candidates, or NULL */
	con_ingest_result res;
};

static int sink_line(struct sink *k, const char *p, size_t n)
{
	int r;

	if (n == 0)
		return 0;
	k->res.lines++;
	if (k->parsed)
		r = om_store_parsed_add(k->parsed, p, n, k->tenant, k->gateway);
	else
		r = om_store_import_line_for(k->s, p, n, k->tenant, k->gateway);
	if (r == 1)
		k->res.stored++;
	else if (r == 0)
		k->res.ignored++;
	else if (r == -EINVAL)
		k->res.invalid++;
	else
		return r;
	if (r != -EINVAL && k->desk)
		con_desk_auto_note(k->desk, p, n); /* a serious event opens a ticket */
	return 0;
}

/* An empty set of the desk's candidates. Only its counts are set: the
 * candidates are read up to n, and zeroing all of them (84 KiB) for every
 * batch cost a page fault per 4 KiB. */
static con_desk_auto *desk_new(void)
{
	con_desk_auto *d = malloc(sizeof(*d));
	if (d) {
		d->n = 0;
		d->dropped = 0;
	}
	return d;
}

/* Inflates body and gives each line to k. */
static int inflate_lines(struct sink *k, const void *body, size_t len)
{
	z_stream z;
	unsigned char out[65536];
	char *line = malloc(CON_LINE_MAX);
	size_t ll = 0, total = 0;
	bool overlong = false;
	int r = 0, zr;

	if (!line)
		return -ENOMEM;
	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) {
		free(line);
		return -ENOMEM;
	}
	z.next_in = (Bytef *)(uintptr_t)body;
	z.avail_in = (uInt)len;
	do {
		z.next_out = out;
		z.avail_out = sizeof(out);
		zr = inflate(&z, Z_NO_FLUSH);
		if (zr != Z_OK && zr != Z_STREAM_END) {
			r = -EINVAL;
			break;
		}
		size_t got = sizeof(out) - z.avail_out;
		total += got;
		if (total > CON_INGEST_PLAIN_MAX) {
			r = -E2BIG;
			break;
		}
		for (size_t i = 0; i < got && r == 0; i++) {
			if (out[i] == '\n') {
				if (overlong)
					k->res.invalid++;
				else
					r = sink_line(k, line, ll);
				ll = 0;
				overlong = false;
			} else if (ll < CON_LINE_MAX) {
				line[ll++] = (char)out[i];
			} else {
				overlong = true;
			}
		}
		if (zr == Z_OK && z.avail_in == 0 && z.avail_out != 0) {
			r = -EINVAL; /* truncated stream */
			break;
		}
	} while (r == 0 && zr != Z_STREAM_END);
	if (r == 0 && ll > 0)
		r = overlong ? (k->res.invalid++, 0) : sink_line(k, line, ll);
	inflateEnd(&z);
	free(line);
	return r;
}

int con_ingest_gzip(om_store *s, const char *tenant, const char *gateway, const void *body,
                    size_t len, con_ingest_result *ret)
{
	/* the desk's candidates; without memory for them the batch is still
	 * stored, only no ticket is opened by itself */
	struct sink k = {.s = s, .tenant = tenant, .gateway = gateway, .desk = desk_new()};
	int r = inflate_lines(&k, body, len);

	if (r == 0)
		r = om_store_flush(s);
	if (r == 0 && k.desk)
		con_desk_auto_open(s, tenant, k.desk, om_time_now(), NULL);
	free(k.desk);
	if (r == 0)
		*ret = k.res;
	return r;
}

int con_ingest_parse(const char *tenant, const char *gateway, const void *body, size_t len,
                     om_store_parsed **ret_parsed, con_desk_auto **ret_desk, con_ingest_result *ret)
{
	struct sink k = {.tenant = tenant, .gateway = gateway};
	int r = om_store_parsed_new(CON_INGEST_PARSED_MAX, &k.parsed);

	if (r < 0)
		return r;
	if (ret_desk)
		k.desk = desk_new(); /* NULL: no ticket opened by itself */
	r = inflate_lines(&k, body, len);
	if (r < 0) {
		om_store_parsed_free(k.parsed);
		free(k.desk);
		return r;
	}
	*ret_parsed = k.parsed;
	if (ret_desk)
		*ret_desk = k.desk;
	*ret = k.res;
	return 0;
}

/* ---- group commit ---- */

void con_ingest_queue_init(con_ingest_queue *q)
{
	memset(q, 0, sizeof(*q));
	pthread_mutex_init(&q->m, NULL);
	pthread_cond_init(&q->cv, NULL);
	pthread_cond_init(&q->work, NULL);
	q->max_bytes = CON_INGEST_QUEUED_MAX;
}

size_t con_ingest_queued(con_ingest_queue *q)
{
	size_t n = 0;

	pthread_mutex_lock(&q->m);
	for (const con_ingest_job *j = q->head; j; j = j->next)
		n++;
	pthread_mutex_unlock(&q->m);
	return n;
}

void con_ingest_queue_destroy(con_ingest_queue *q)
{
	con_ingest_stop(q);
	pthread_cond_destroy(&q->work);
	pthread_cond_destroy(&q->cv);
	pthread_mutex_destroy(&q->m);
}

/* The order in which a group's batches are written: by gateway, then batch
 * id (stable: equal ones keep their queue order). */
static int job_cmp(const con_ingest_job *a, const con_ingest_job *b)
{
	int c = strcmp(a->gateway, b->gateway);
	return c ? c : strcmp(a->batch_id, b->batch_id);
}

/* Writes jobs [0, n) in one transaction; 0 when committed. In three
 * passes, so that the events of all the batches go to the store together
 * (on PostgreSQL in large multi-row statements, not cut at each batch by a
 * query that waits for its answer): which batches were recorded already
 * (nothing of them is written again; a batch twice in the group counts
 * once), then the events, then the batch records and the gateways' health. */
static int write_group(om_store *s, con_ingest_job **jobs, size_t n)
{
	con_ingest_result saved[CON_INGEST_GROUP_MAX];
	int r;

	for (size_t i = 0; i < n; i++)
		saved[i] = jobs[i]->res;
	/* Everything written in the order of the gateways (and batch ids), not
	 * of the queue: two writers (PostgreSQL) then take the locks of the
	 * rows they share (the events of a batch that is in both groups, its
	 * record, the gateway's health row) in one order, the events before the
	 * records before the rollups (which the store writes in key order), so
	 * that neither waits for the other while holding what the other waits
	 * for. In queue order, groups [a, b] and [b, a] deadlocked. */
	size_t order[CON_INGEST_GROUP_MAX];
	for (size_t i = 0; i < n; i++) {
		size_t k = i;
		for (; k > 0 && job_cmp(jobs[order[k - 1]], jobs[i]) > 0; k--)
			order[k] = order[k - 1];
		order[k] = i;
	}
	om_store_set_batch_size(s, UINT_MAX); /* one commit, at the end */
	r = om_store_begin(s);
	for (size_t i = 0; r == 0 && i < n; i++) {
		con_ingest_job *j = jobs[i];
		int seen = om_store_batch_seen(s, j->gateway, j->batch_id);
		for (size_t k = 0; seen == 0 && k < i; k++)
			if (!jobs[k]->seen && !strcmp(jobs[k]->gateway, j->gateway) &&
			    !strcmp(jobs[k]->batch_id, j->batch_id))
				seen = 1;
		if (seen < 0)
			r = seen;
		else if (seen) {
			j->seen = true;
			j->res.stored = j->res.ignored = j->res.invalid = 0;
		}
	}
	for (size_t i = 0; r == 0 && i < n; i++) {
		con_ingest_job *j = jobs[order[i]];
		om_store_parsed_counts c;
		if (j->seen)
			continue;
		r = om_store_parsed_write(s, j->parsed, &c);
		if (r < 0)
			break;
		/* the lines the parse kept, as the store took them */
		j->res.stored -= c.invalid + c.ignored;
		j->res.invalid += c.invalid;
		j->res.ignored += c.ignored;
	}
	for (size_t i = 0; r == 0 && i < n; i++) {
		con_ingest_job *j = jobs[order[i]];
		if (!j->seen)
			r = om_store_batch_record(s, j->gateway, j->batch_id, j->res.stored,
			                          j->now);
		if (r == 0 && j->health)
			r = om_store_gateway_seen_tx(s, j->gateway, j->now,
			                             j->version ? j->version : "", j->res.stored,
			                             j->drops, j->backlog);
	}
	if (r == 0)
		r = om_store_flush(s);
	if (r < 0) {
		om_store_discard(s);
		for (size_t i = 0; i < n; i++) {
			jobs[i]->res = saved[i];
			jobs[i]->seen = false;
		}
	}
	return r;
}

/* A writer: takes every queued job (up to the cap), writes them in one
 * transaction holding its store's lock, marks them done and tells their
 * owners (on_done, under q->m). With two writers, one takes the next
 * group while the other commits. */
static void *writer_main(void *arg)
{
	con_ingest_writer *w = arg;
	con_ingest_queue *q = w->q;

	pthread_mutex_lock(&q->m);
	for (;;) {
		while (!q->head && !q->stopping)
			pthread_cond_wait(&q->work, &q->m);
		if (!q->head)
			break; /* stopping, and nothing left to write */
		con_ingest_job *group[CON_INGEST_GROUP_MAX];
		size_t n = 0;
		while (q->head && n < CON_INGEST_GROUP_MAX) {
			group[n++] = q->head;
			q->head = q->head->next;
		}
		if (!q->head)
			q->tail = NULL;
		q->writing++;
		pthread_mutex_unlock(&q->m);

		pthread_mutex_lock(w->store_lock);
		int r = write_group(w->s, group, n);
		if (r < 0 && n > 1) {
			/* one bad batch must not fail the others: each alone */
			for (size_t i = 0; i < n; i++)
				group[i]->rc = write_group(w->s, &group[i], 1);
		} else {
			for (size_t i = 0; i < n; i++)
				group[i]->rc = r;
		}
		pthread_mutex_unlock(w->store_lock);

		pthread_mutex_lock(&q->m);
		q->groups++;
		q->batches += n;
		/* a job is its owner's again once done: not touched after that */
		for (size_t i = 0; i < n; i++) {
			con_ingest_job *j = group[i];
			q->queued_bytes -= j->queued_size;
			j->done = true;
			if (j->on_done)
				j->on_done(j);
		}
		q->writing--;
		pthread_cond_broadcast(&q->cv);
	}
	pthread_mutex_unlock(&q->m);
	return NULL;
}

int con_ingest_start(con_ingest_queue *q, om_store *s, pthread_mutex_t *store_lock)
{
	pthread_mutex_lock(&q->m);
	if (q->stopping || q->nwriters == CON_INGEST_WRITERS_MAX) {
		pthread_mutex_unlock(&q->m);
		return -E2BIG;
	}
	con_ingest_writer *w = &q->w[q->nwriters];
	w->q = q;
	w->s = s;
	w->store_lock = store_lock;
	int e = pthread_create(&w->thread, NULL, writer_main, w);
	if (e == 0) {
		q->nwriters++;
		q->running = true;
	}
	pthread_mutex_unlock(&q->m);
	return -e;
}

void con_ingest_stop(con_ingest_queue *q)
{
	pthread_mutex_lock(&q->m);
	if (!q->running) {
		pthread_mutex_unlock(&q->m);
		return;
	}
	q->stopping = true;
	pthread_cond_broadcast(&q->work);
	pthread_mutex_unlock(&q->m);
	for (unsigned i = 0; i < q->nwriters; i++)
		pthread_join(q->w[i].thread, NULL);
	q->nwriters = 0;
	q->running = false;
}

int con_ingest_submit(con_ingest_queue *q, con_ingest_job *j)
{
	j->done = false;
	j->seen = false;
	j->rc = 0;
	j->next = NULL;
	pthread_mutex_lock(&q->m);
	if (q->stopping || !q->running) {
		pthread_mutex_unlock(&q->m);
		return -ESHUTDOWN;
	}
	size_t size = om_store_parsed_bytes(j->parsed);
	/* sizes are capped (CON_INGEST_PARSED_MAX each): no overflow */
	if (q->queued_bytes && q->queued_bytes + size > q->max_bytes) {
		pthread_mutex_unlock(&q->m);
		return -ENOBUFS;
	}
	j->queued_size = size;
	q->queued_bytes += size;
	if (q->tail)
		q->tail->next = j;
	else
		q->head = j;
	q->tail = j;
	pthread_cond_signal(&q->work);
	pthread_mutex_unlock(&q->m);
	return 0;
}

int con_ingest_commit(con_ingest_queue *q, const char *gateway, const char *batch_id,
                      om_store_parsed *parsed, om_usec now, con_ingest_result *res, bool *ret_seen)
{
	con_ingest_job job = {
	    .gateway = gateway, .batch_id = batch_id, .parsed = parsed, .now = now, .res = *res};
	int r = con_ingest_submit(q, &job);

	if (r < 0)
		return r;
	/* the job lives on this stack until it is done: the writer never
	 * touches it after that */
	pthread_mutex_lock(&q->m);
	while (!job.done)
		pthread_cond_wait(&q->cv, &q->m);
	pthread_mutex_unlock(&q->m);
	if (job.rc == 0) {
		*res = job.res;
		*ret_seen = job.seen;
	}
	return job.rc;
}
