/* av_sub.c: the anti-virus as a file subscriber (docs/files.md). Each file
 * is copied (up to av.max-file, inside the av.memory budget) as its chunks
 * come, and scanned when it ends: on its worker (offline), or by a pool of
 * scanner threads that answer the PENDING verdict with
 * om_file_verdict_post (inline, so the gateway holds the file's last
 * packet meanwhile). Alerts of the pool reach the engine on the worker
 * thread, through om_av_worker_poll. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "guard/av_internal.h"

#define JOBS_MAX 256 /* files queued for the scanner threads at once */
#define WORKERS_MAX 64
#define FIRST_CAP (64u << 10)
#define NAME_KEPT 256

struct job {
	struct job *next;
	om_av_result res;
	om_av_alert a;
	om_file_ticket ticket;
	uint8_t name[NAME_KEPT];
	uint8_t sha256[32];
	uint8_t *buf;
	size_t len;
	uint64_t reserved; /* bytes of av.memory held by buf */
};

struct av_sub {
	om_av *av;
	om_proto *p;
	bool async, drop;
	om_av_alert_cb cb;
	void *user;
	/* the pool */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct job *head, *tail;
	unsigned queued;
	bool stop;
	pthread_t threads[OM_AV_THREADS_MAX];
	unsigned nthreads;
	/* finished infected scans, per worker */
	struct job *done[WORKERS_MAX];
};

/* one file being followed */
struct av_file {
	struct av_sub *s;
	uint8_t *buf;
	size_t len, cap;
	uint64_t reserved;
	uint32_t skip;
	bool scanned, pending;
	om_av_result res;
};

static void file_release(struct av_sub *s, uint8_t *buf, uint64_t reserved)
{
	free(buf);
	if (reserved)
		av_mem_give(s->av, reserved);
}

static void *sub_open(const om_file *file, void *user)
{
	(void)file;
	struct av_sub *s = user;
	struct av_file *af = calloc(1, sizeof(*af));
	if (af)
		af->s = s;
	return af; /* NULL: out of memory, the file goes unscanned */
}

static int sub_chunk(void *st, const om_file *file, const uint8_t *d, size_t n)
{
	(void)file;
	struct av_file *af = st;
	const om_av_config *c = av_config(af->s->av);
	if (af->len + n > c->max_file) {
		n = (size_t)(c->max_file - af->len);
		af->skip |= OM_AV_SKIP_MAX_FILE; /* the first max-file bytes are scanned */
	}
	if (af->len + n > af->cap) {
		size_t cap = af->cap ? af->cap : FIRST_CAP;
		while (cap < af->len + n)
			cap *= 2;
		if (cap > c->max_file)
			cap = (size_t)c->max_file;
		uint8_t *nb = NULL;
		bool took = av_mem_take(af->s->av, cap - af->cap);
		if (took)
			nb = realloc(af->buf, cap);
		if (!nb) {
			if (took)
				av_mem_give(af->s->av, cap - af->cap);
			av_count(af->s->av, AV_C_MEMORY);
			af->skip |= OM_AV_SKIP_MEMORY;
			file_release(af->s, af->buf, af->reserved);
			af->buf = NULL;
			af->len = af->cap = 0;
			af->reserved = 0;
			return -1;
		}
		af->reserved += cap - af->cap;
		af->buf = nb;
		af->cap = cap;
	}
	memcpy(af->buf + af->len, d, n);
	af->len += n;
	return (af->skip & OM_AV_SKIP_MAX_FILE) ? -1 : 0;
}

static bool is_mail(const char *app)
{
	return app && (!strcmp(app, "smtp") || !strcmp(app, "pop3") || !strcmp(app, "imap"));
}

static void snapshot(struct job *j, const om_file *file)
{
	const om_file_info *in = om_file_get_info(file);
	const om_flow *f = om_file_flow(file);
	om_av_alert *a = &j->a;
	memset(a, 0, sizeof(*a));
	a->res = &j->res;
	a->app_proto = in->app_proto; /* the parsers' names are static strings */
	a->mail = is_mail(in->app_proto);
	a->dir = in->dir;
	a->cli = f->cli;
	a->srv = f->srv;
	a->cport = f->cport;
	a->sport = f->sport;
	a->proto = f->proto;
	a->flow_id = f->flow_id;
	a->vlan_count = f->vlan_count;
	for (unsigned i = 0; i < 2 && i < f->vlan_count; i++)
		a->vlan[i] = f->vlan[i];
	size_t nl = in->name_len < NAME_KEPT ? in->name_len : NAME_KEPT;
	memcpy(j->name, in->name, nl);
	a->name = j->name;
	a->name_len = nl;
	a->size = in->size;
	a->tx_id = in->tx_id;
	if (in->sha256) {
		memcpy(j->sha256, in->sha256, 32);
		a->sha256 = j->sha256;
	}
	a->ts = f->last;
}

static void scan_now(struct av_sub *s, struct av_file *af, const om_file *file)
{
	const om_file_info *in = om_file_get_info(file);
	char name[NAME_KEPT];
	size_t nl = in->name_len < sizeof(name) - 1 ? in->name_len : sizeof(name) - 1;
	memcpy(name, in->name, nl);
	name[nl] = '\0';
	if (!(af->skip & OM_AV_SKIP_MEMORY) &&
	    om_av_scan_buffer(s->av, af->buf, af->len, name, &af->res) < 0)
		af->res.skip |= OM_AV_SKIP_ERROR;
	af->res.skip |= af->skip;
	af->scanned = true;
	av_count_file(s->av, &af->res);
}

static enum om_file_verdict verdict_of(const struct av_sub *s, const om_av_result *r)
{
	if (r->status != OM_AV_INFECTED)
		return OM_FILE_ACCEPT;
	return s->drop ? OM_FILE_DROP : OM_FILE_ALERT;
}

static enum om_file_verdict sub_close(void *st, const om_file *file, om_file_ticket t)
{
	struct av_file *af = st;
	struct av_sub *s = af->s;
	const om_file_info *in = om_file_get_info(file);
	if (in->gaps)
		af->skip |= OM_AV_SKIP_GAP;
	if (in->state != OM_FILE_CLOSED && !(af->skip & OM_AV_SKIP_MAX_FILE))
		af->skip |= OM_AV_SKIP_TRUNCATED;
	if (s->async && !(af->skip & OM_AV_SKIP_MEMORY)) {
		struct job *j = calloc(1, sizeof(*j));
		if (j) {
			snapshot(j, file);
			j->ticket = t;
			j->buf = af->buf;
			j->len = af->len;
			j->reserved = af->reserved;
			j->res.skip = af->skip;
			pthread_mutex_lock(&s->lock);
			bool room = s->queued < JOBS_MAX && !s->stop && t.worker < WORKERS_MAX;
			if (room) {
				if (s->tail)
					s->tail->next = j;
				else
					s->head = j;
				s->tail = j;
				s->queued++;
				pthread_cond_signal(&s->cond);
			}
			pthread_mutex_unlock(&s->lock);
			if (room) {
				af->buf = NULL; /* the job's now */
				af->reserved = 0;
				af->pending = true;
				return OM_FILE_PENDING;
			}
			free(j);
		}
		av_count(s->av, AV_C_QUEUE_FULL); /* scanned here, holding this worker */
	}
	scan_now(s, af, file);
	if (af->res.status == OM_AV_INFECTED && s->cb) {
		struct job j;
		snapshot(&j, file);
		j.res = af->res;
		j.a.res = &j.res;
		j.a.blocked = s->drop;
		s->cb(s->user, t.worker, &j.a);
	}
	return verdict_of(s, &af->res);
}

static void sub_free(void *st, void *user)
{
	struct av_file *af = st;
	struct av_sub *s = user;
	file_release(s, af->buf, af->reserved);
	free(af);
}

void om_av_result_json(om_json *j, const om_av_result *r)
{
	om_json_obj_open(j, "av");
	om_json_str(j, "result",
	            r->status == OM_AV_INFECTED     ? "infected"
	            : (r->skip & OM_AV_SKIP_MEMORY) ? "not_scanned"
	                                            : "clean");
	om_json_str(j, "engine", r->status == OM_AV_INFECTED ? r->engine : "clamav");
	om_json_str(j, "version", om_av_engine_version());
	if (r->status == OM_AV_INFECTED)
		om_json_str(j, "signature", r->signature);
	if (r->yara_rule[0])
		om_json_str(j, "yara_rule", r->yara_rule);
	om_json_str(j, "database", r->db_version);
	if (r->skip) {
		char names[160];
		om_av_skip_names(r->skip, names, sizeof(names));
		om_json_arr_open(j, "not_scanned");
		const char *p = names;
		while (*p) {
			const char *e = strchr(p, ',');
			size_t n = e ? (size_t)(e - p) : strlen(p);
			om_json_strn(j, NULL, p, n);
			p += n + (e ? 1 : 0);
		}
		om_json_arr_close(j);
	}
	om_json_obj_close(j);
}

static void sub_fileinfo(void *st, const om_file *file, om_json *j)
{
	(void)file;
	struct av_file *af = st;
	if (af->scanned) {
		om_av_result_json(j, &af->res);
	} else if (af->pending) {
		/* inline: the scanner threads answer; the alert carries the verdict */
		om_json_obj_open(j, "av");
		om_json_str(j, "result", "pending");
		om_json_str(j, "engine", "clamav");
		om_json_str(j, "version", om_av_engine_version());
		om_json_obj_close(j);
	}
}

static void *pool_main(void *arg)
{
	struct av_sub *s = arg;
	for (;;) {
		pthread_mutex_lock(&s->lock);
		while (!s->head && !s->stop)
			pthread_cond_wait(&s->cond, &s->lock);
		struct job *j = s->head;
		if (!j || s->stop) { /* at the end, what is queued is dropped with the rest */
			pthread_mutex_unlock(&s->lock);
			return NULL;
		}
		s->head = j->next;
		if (!s->head)
			s->tail = NULL;
		s->queued--;
		pthread_mutex_unlock(&s->lock);
		j->next = NULL;
		uint32_t skip = j->res.skip;
		char name[NAME_KEPT + 1];
		memcpy(name, j->name, j->a.name_len);
		name[j->a.name_len] = '\0';
		if (om_av_scan_buffer(s->av, j->buf, j->len, name, &j->res) < 0)
			j->res.skip |= OM_AV_SKIP_ERROR;
		j->res.skip |= skip;
		av_count_file(s->av, &j->res);
		file_release(s, j->buf, j->reserved);
		j->buf = NULL;
		j->reserved = 0;
		enum om_file_verdict v = verdict_of(s, &j->res);
		int pr = om_file_verdict_post(s->p, j->ticket, v);
		if (pr < 0)
			av_count(s->av, AV_C_LATE);
		if (j->res.status != OM_AV_INFECTED || !s->cb) {
			free(j);
			continue;
		}
		j->a.blocked = s->drop && pr == 0;
		j->a.res = &j->res;
		pthread_mutex_lock(&s->lock);
		j->next = s->done[j->ticket.worker];
		s->done[j->ticket.worker] = j;
		pthread_mutex_unlock(&s->lock);
	}
}

unsigned om_av_worker_poll(om_av *av, unsigned worker)
{
	struct av_sub *s = *av_sub_slot(av);
	if (!s || worker >= WORKERS_MAX)
		return 0;
	pthread_mutex_lock(&s->lock);
	struct job *list = s->done[worker];
	s->done[worker] = NULL;
	pthread_mutex_unlock(&s->lock);
	/* the list is newest first: give them oldest first */
	struct job *rev = NULL;
	while (list) {
		struct job *n = list->next;
		list->next = rev;
		rev = list;
		list = n;
	}
	unsigned k = 0;
	while (rev) {
		struct job *n = rev->next;
		s->cb(s->user, worker, &rev->a);
		free(rev);
		rev = n;
		k++;
	}
	return k;
}

int om_av_subscribe(om_av *av, om_proto *p, bool async, bool drop, om_av_alert_cb cb, void *user)
{
	struct av_sub **slot = av_sub_slot(av);
	if (*slot)
		return -EBUSY;
	struct av_sub *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->av = av;
	s->p = p;
	s->async = async;
	s->drop = drop;
	s->cb = cb;
	s->user = user;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	*slot = s;
	om_file_subscriber fs = {.name = "av",
	                         .open = sub_open,
	                         .chunk = sub_chunk,
	                         .close = sub_close,
	                         .free = sub_free,
	                         .user = s,
	                         .fileinfo = sub_fileinfo};
	int r = om_proto_add_file_subscriber(p, &fs);
	if (r < 0)
		return r;
	if (async) {
		unsigned n = av_config(av)->threads ? av_config(av)->threads : 1;
		for (; s->nthreads < n && s->nthreads < OM_AV_THREADS_MAX; s->nthreads++)
			if (pthread_create(&s->threads[s->nthreads], NULL, pool_main, s) != 0)
				return -ENOMEM;
	}
	return 0;
}

void av_sub_free(struct av_sub *s)
{
	pthread_mutex_lock(&s->lock);
	s->stop = true;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
	for (unsigned i = 0; i < s->nthreads; i++)
		pthread_join(s->threads[i], NULL);
	/* what was never scanned or never polled */
	for (struct job *j = s->head, *n; j; j = n) {
		n = j->next;
		file_release(s, j->buf, j->reserved);
		free(j);
	}
	for (unsigned w = 0; w < WORKERS_MAX; w++)
		for (struct job *j = s->done[w], *n; j; j = n) {
			n = j->next;
			free(j);
		}
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->cond);
	free(s);
}
