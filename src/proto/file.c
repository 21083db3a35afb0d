/* file.c: file extraction. A parser opens a file, feeds its bytes and
 * closes it; this file hashes it (md5, sha1, sha256), types it (libmagic,
 * on its first bytes), stores it (by sha256, under limits that never fill
 * the disk), hands it to the subscribers, writes its fileinfo record, and
 * keeps the verdicts that are still pending for the inline hold. The
 * interface is docs/files.md. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <magic.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "proto/digest.h"
#include "proto/internal.h"

#define NAME_MAX_KEPT 1024u
#define MAGIC_PREFIX 4096u /* bytes libmagic looks at */
#define CTX_MAX 4096u      /* bytes of the transaction's members kept */
#define HOLD_MAX 64u       /* files awaiting a verdict per worker */
#define POST_MAX 1024u     /* posted answers not yet applied, per worker */
#define MAX_WORKERS 64u
#define SPARE_MAX 32u /* closed files kept per worker for the next opens */

/* ---- settings -------------------------------------------------------------- */

#define F(m)                                                                                       \
	offsetof(struct om_proto_files_config, m), sizeof(((struct om_proto_files_config *)0)->m)
static const om_config_key files_keys[] = {
    {"files.hash", OM_CK_BOOL, F(hash), 0, 0, "config.help.files.hash", NULL, NULL},
    {"files.magic", OM_CK_BOOL, F(magic), 0, 0, "config.help.files.magic", NULL, NULL},
    {"files.max-file", OM_CK_U64, F(max_file), 1, UINT64_MAX, "config.help.files.max-file", NULL,
     NULL},
    {"files.max-open", OM_CK_U64, F(max_open), 1, 1u << 20, "config.help.files.max-open", NULL,
     NULL},
    {"files.store.dir", OM_CK_STR, F(store_dir), 0, 0, "config.help.files.store.dir", NULL, NULL},
    {"files.store.max-bytes", OM_CK_U64, F(store_max_bytes), 0, UINT64_MAX,
     "config.help.files.store.max-bytes", NULL, NULL},
    {"files.store.max-files", OM_CK_U64, F(store_max_files), 0, UINT64_MAX,
     "config.help.files.store.max-files", NULL, NULL},
    {"files.store.min-free", OM_CK_U64, F(store_min_free), 0, UINT64_MAX,
     "config.help.files.store.min-free", NULL, NULL},
    {"files.hold-ms", OM_CK_U32, F(hold_ms), 0, 60000, "config.help.files.hold-ms", NULL, NULL},
};
#undef F

static void files_defaults(void *obj)
{
	struct om_proto_files_config *c = obj;
	c->hash = true;
	c->magic = true;
	c->max_file = 100ull << 20;
	c->max_open = 4096;
	c->store_dir[0] = '\0';
	c->store_max_bytes = 1ull << 30;
	c->store_max_files = 10000;
	c->store_min_free = 1ull << 30;
	c->hold_ms = 2000;
}

const om_config_schema proto_files_schema = {
    "files",        files_keys, OM_ARRAY_SIZE(files_keys), sizeof(struct om_proto_files_config),
    files_defaults, NULL,
};

/* ---- shared state: the store's accounting and the posted verdicts ------------ */

struct post {
	uint64_t file_seq;
	uint32_t subscriber;
	enum om_file_verdict v;
};

struct proto_files_shared {
	pthread_mutex_t lock;
	uint64_t store_bytes, store_files; /* what the store holds */
	bool store_on;
	/* per worker: answers posted from other threads */
	struct post *posts[MAX_WORKERS];
	unsigned nposts[MAX_WORKERS];
	bool worker_live[MAX_WORKERS];
};

static int mkdir_p1(const char *path)
{
	if (mkdir(path, 0750) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* Counts what an existing store holds (two levels: xx/sha256). */
static void store_scan(struct proto_files_shared *s, const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (strlen(e->d_name) != 2 || e->d_name[0] == '.')
			continue;
		char sub[OM_PROTO_PATH_MAX + 8];
		snprintf(sub, sizeof(sub), "%s/%s", dir, e->d_name);
		DIR *d2 = opendir(sub);
		if (!d2)
			continue;
		struct dirent *e2;
		while ((e2 = readdir(d2))) {
			if (e2->d_name[0] == '.')
				continue;
			struct stat st;
			if (fstatat(dirfd(d2), e2->d_name, &st, 0) == 0 && S_ISREG(st.st_mode)) {
				s->store_files++;
				s->store_bytes += (uint64_t)st.st_size;
			}
		}
		closedir(d2);
	}
	closedir(d);
}

int proto_files_init(om_proto *p, char *err, size_t errlen)
{
	struct proto_files_shared *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "%s", strerror(ENOMEM));
		return -ENOMEM;
	}
	pthread_mutex_init(&s->lock, NULL);
	p->files = s;
	const char *dir = p->cfg.files.store_dir;
	if (dir[0]) {
		char tmp[OM_PROTO_PATH_MAX + 8];
		snprintf(tmp, sizeof(tmp), "%s/tmp", dir);
		int r = mkdir_p1(dir);
		if (r == 0)
			r = mkdir_p1(tmp);
		if (r < 0) {
			snprintf(err, errlen, om_tr("err.files.store_dir"), dir, strerror(-r));
			return r;
		}
		store_scan(s, dir);
		s->store_on = true;
	}
	if (p->cfg.files.magic) {
		/* fail early, here, rather than in every worker */
		magic_t m = magic_open(MAGIC_NONE);
		if (!m || magic_load(m, NULL) != 0) {
			snprintf(err, errlen, om_tr("err.files.magic"), m ? magic_error(m) : "");
			if (m)
				magic_close(m);
			return -ENOENT;
		}
		magic_close(m);
	}
	return 0;
}

void proto_files_fini(om_proto *p)
{
	struct proto_files_shared *s = p->files;
	if (!s)
		return;
	for (unsigned i = 0; i < MAX_WORKERS; i++)
		free(s->posts[i]);
	pthread_mutex_destroy(&s->lock);
	free(s);
	p->files = NULL;
}

/* ---- per worker ---------------------------------------------------------------- */

struct held {
	uint64_t file_seq;
	om_flow_handle flow;
	om_usec deadline;
	uint32_t pending; /* a bit per subscriber still to answer */
	enum om_file_verdict v;
};

struct proto_files_worker {
	magic_t magic;
	uint64_t open, seq;
	struct held held[HOLD_MAX];
	unsigned nheld;
	/* the last decided verdict per flow is kept on the flow's files only
	 * while held; afterwards in this small table */
	struct {
		om_flow_handle flow;
		enum om_file_verdict v;
	} decided[HOLD_MAX];
	unsigned ndecided_next;
	/* closed files kept with their digest contexts and context buffer
	 * (a file is 10 KiB; opening one took a calloc, three EVP_MD_CTX_new
	 * and a buffer, and closing gave them all back) */
	om_file *spare[SPARE_MAX];
	unsigned nspare;
};

static void file_destroy(om_file *file);

int proto_files_worker_init(struct om_proto_worker *w)
{
	struct proto_files_worker *fw = calloc(1, sizeof(*fw));
	if (!fw)
		return -ENOMEM;
	if (w->p->cfg.files.magic) {
		fw->magic = magic_open(MAGIC_NONE);
		if (!fw->magic || magic_load(fw->magic, NULL) != 0) {
			if (fw->magic)
				magic_close(fw->magic);
			free(fw);
			return -ENOENT;
		}
	}
	if (w->index < MAX_WORKERS) {
		struct proto_files_shared *s = w->p->files;
		pthread_mutex_lock(&s->lock);
		if (!s->posts[w->index])
			s->posts[w->index] = calloc(POST_MAX, sizeof(struct post));
		s->worker_live[w->index] = s->posts[w->index] != NULL;
		pthread_mutex_unlock(&s->lock);
	}
	w->files = fw;
	return 0;
}

void proto_files_worker_fini(struct om_proto_worker *w)
{
	struct proto_files_worker *fw = w->files;
	if (!fw)
		return;
	if (w->index < MAX_WORKERS) {
		struct proto_files_shared *s = w->p->files;
		pthread_mutex_lock(&s->lock);
		s->worker_live[w->index] = false;
		s->nposts[w->index] = 0;
		pthread_mutex_unlock(&s->lock);
	}
	if (fw->magic)
		magic_close(fw->magic);
	for (unsigned i = 0; i < fw->nspare; i++)
		file_destroy(fw->spare[i]);
	free(fw);
	w->files = NULL;
}

/* ---- files ---------------------------------------------------------------------- */

struct om_file {
	/* cleared at every open (up to mdc) */
	struct om_proto_worker *w;
	om_flow *flow;
	om_file_info info;
	uint64_t seq;
	uint32_t head_len;
	bool typed, ignoring;
	EVP_MD_CTX *md[3]; /* the digests being computed (NULL: none, or given up) */
	void *sub_state[OM_PROTO_MAX_SUBSCRIBERS];
	bool sub_done[OM_PROTO_MAX_SUBSCRIBERS];
	int store_fd;
	bool stored;
	/* kept from one use of a spare file to the next */
	EVP_MD_CTX *mdc[3]; /* md's contexts, owned */
	om_buf ctx;         /* the transaction's members for fileinfo */
	/* written before they are read */
	uint8_t digest[3][32];
	uint8_t name[NAME_MAX_KEPT];
	char magic[256];
	uint8_t head[MAGIC_PREFIX];
	char store_tmp[OM_PROTO_PATH_MAX + 64];
};

static void file_destroy(om_file *file)
{
	for (int i = 0; i < 3; i++)
		EVP_MD_CTX_free(file->mdc[i]);
	om_buf_free(&file->ctx);
	free(file);
}

/* A file of the worker's spares, or a new one; cleared up to mdc. */
static om_file *file_get(struct proto_files_worker *fw)
{
	om_file *file;
	if (fw->nspare) {
		file = fw->spare[--fw->nspare];
	} else {
		file = malloc(sizeof(*file));
		if (!file)
			return NULL;
		memset(file->mdc, 0, sizeof(file->mdc));
		om_buf_init(&file->ctx, CTX_MAX);
	}
	memset(file, 0, offsetof(om_file, mdc));
	om_buf_reset(&file->ctx);
	return file;
}

static void file_put(struct proto_files_worker *fw, om_file *file)
{
	if (fw->nspare < SPARE_MAX && !file->ctx.toobig)
		fw->spare[fw->nspare++] = file;
	else
		file_destroy(file);
}

const char *om_file_state_name(enum om_file_state s)
{
	switch (s) {
	case OM_FILE_OPEN: return "OPEN";
	case OM_FILE_CLOSED: return "CLOSED";
	case OM_FILE_TRUNCATED: return "TRUNCATED";
	case OM_FILE_ERROR: return "ERROR";
	}
	return "UNKNOWN";
}

const om_file_info *om_file_get_info(const om_file *file)
{
	return &file->info;
}

om_flow *om_file_flow(const om_file *file)
{
	return file->flow;
}

static bool store_room(struct om_proto_worker *w, uint64_t more)
{
	const struct om_proto_files_config *c = &w->p->cfg.files;
	struct proto_files_shared *s = w->p->files;
	struct statvfs vf;
	if (statvfs(c->store_dir, &vf) == 0 &&
	    (uint64_t)vf.f_bavail * vf.f_frsize < c->store_min_free + more)
		return false;
	pthread_mutex_lock(&s->lock);
	bool ok =
	    s->store_files < c->store_max_files && s->store_bytes + more <= c->store_max_bytes;
	pthread_mutex_unlock(&s->lock);
	return ok;
}

om_file *proto_file_open(om_flow *f, int dir, const char *app_proto, const uint8_t *name,
                         size_t name_len, uint64_t tx_id, om_proto_body_fn ctx, void *ctx_arg)
{
	struct om_proto_worker *w = proto_worker(f);
	if (!w)
		return NULL;
	struct proto_files_worker *fw = w->files;
	const struct om_proto_files_config *c = &w->p->cfg.files;
	if (fw->open >= c->max_open) {
		w->stats.files_limit++;
		return NULL;
	}
	om_file *file = file_get(fw);
	if (!file) {
		w->stats.files_limit++;
		return NULL;
	}
	file->w = w;
	file->flow = f;
	file->seq = ++fw->seq;
	file->store_fd = -1;
	size_t n = name_len < NAME_MAX_KEPT ? name_len : NAME_MAX_KEPT;
	if (n)
		memcpy(file->name, name, n);
	file->info.name = file->name;
	file->info.name_len = n;
	file->info.app_proto = app_proto;
	file->info.dir = dir;
	file->info.file_id = (uint32_t)file->seq;
	file->info.tx_id = tx_id;
	file->info.state = OM_FILE_OPEN;
	/* without libmagic there is nothing to type: the first bytes are not
	 * kept (a 4 KiB copy per file) */
	file->typed = !fw->magic;
	if (c->hash) {
		for (int i = 0; i < 3; i++) {
			if (!file->mdc[i])
				file->mdc[i] = EVP_MD_CTX_new();
			if (!file->mdc[i] ||
			    !EVP_DigestInit_ex(file->mdc[i], proto_md((enum proto_md)i), NULL)) {
				file_destroy(file);
				w->stats.files_limit++;
				return NULL;
			}
			file->md[i] = file->mdc[i];
		}
	}
	if (ctx) {
		om_json j;
		om_json_init(&j, &file->ctx);
		om_json_obj_open(&j, NULL);
		ctx(&j, ctx_arg);
		om_json_obj_close(&j);
	}
	if (c->store_dir[0] && !store_room(w, 0)) {
		w->stats.store_refused++; /* the store is full: the file is still inspected */
	} else if (c->store_dir[0]) {
		snprintf(file->store_tmp, sizeof(file->store_tmp), "%s/tmp/%u-%llu.part",
		         c->store_dir, w->index, (unsigned long long)file->seq);
		file->store_fd =
		    open(file->store_tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	}
	for (unsigned i = 0; i < w->p->nsubs; i++) {
		const om_file_subscriber *s = &w->p->subs[i];
		file->sub_state[i] = s->open ? s->open(file, s->user) : NULL;
		file->sub_done[i] = !file->sub_state[i];
	}
	fw->open++;
	w->stats.files++;
	return file;
}

static void type_file(om_file *file)
{
	struct proto_files_worker *fw = file->w->files;
	file->typed = true;
	if (!fw->magic || !file->head_len)
		return;
	const char *m = magic_buffer(fw->magic, file->head, file->head_len);
	if (m) {
		snprintf(file->magic, sizeof(file->magic), "%s", m);
		file->info.magic = file->magic;
	}
}

static void store_drop(om_file *file)
{
	if (file->store_fd >= 0) {
		close(file->store_fd);
		file->store_fd = -1;
		unlink(file->store_tmp);
	}
}

static void feed(om_file *file, const uint8_t *data, size_t len)
{
	if (!file->typed) {
		size_t k = MAGIC_PREFIX - file->head_len;
		if (k > len)
			k = len;
		memcpy(file->head + file->head_len, data, k);
		file->head_len += (uint32_t)k;
		if (file->head_len == MAGIC_PREFIX)
			type_file(file);
	}
	for (int i = 0; i < 3; i++)
		if (file->md[i])
			EVP_DigestUpdate(file->md[i], data, len);
	if (file->store_fd >= 0) {
		const struct om_proto_files_config *c = &file->w->p->cfg.files;
		if (file->info.size > c->store_max_bytes)
			store_drop(file);
		else {
			size_t off = 0;
			while (off < len) {
				ssize_t k = write(file->store_fd, data + off, len - off);
				if (k < 0 && errno == EINTR)
					continue;
				if (k <= 0) {
					store_drop(file); /* a full disk loses the copy, not the
					                     inspection */
					break;
				}
				off += (size_t)k;
			}
		}
	}
	const om_proto *p = file->w->p;
	for (unsigned i = 0; i < p->nsubs; i++) {
		if (file->sub_done[i] || !p->subs[i].chunk)
			continue;
		if (p->subs[i].chunk(file->sub_state[i], file, data, len) < 0)
			file->sub_done[i] = true;
	}
}

int proto_file_data(om_file *file, const uint8_t *data, size_t len)
{
	if (!file || file->ignoring || !len)
		return 0;
	uint64_t max = file->w->p->cfg.files.max_file;
	if (file->info.size + len > max) {
		size_t keep = (size_t)(max - file->info.size);
		if (keep)
			feed(file, data, keep);
		file->info.size += keep;
		file->ignoring = true; /* closed as truncated by the parser's close */
		return 0;
	}
	feed(file, data, len);
	file->info.size += len;
	return 0;
}

void proto_file_gap(om_file *file, uint64_t len)
{
	if (!file || !len)
		return;
	file->info.gaps += len;
	/* the hashes and the stored copy are of bytes that are not the file */
	for (int i = 0; i < 3; i++)
		file->md[i] = NULL; /* its context is kept for the file's next use */
	store_drop(file);
}

static void hex(char *out, const uint8_t *d, size_t n)
{
	static const char hx[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hx[d[i] >> 4];
		out[2 * i + 1] = hx[d[i] & 15];
	}
	out[2 * n] = '\0';
}

/* Moves the stored copy to its place, by sha256 (a copy already there is
 * kept and this one removed). */
static void store_finish(om_file *file)
{
	if (file->store_fd < 0)
		return;
	struct om_proto_worker *w = file->w;
	const struct om_proto_files_config *c = &w->p->cfg.files;
	int fd = file->store_fd;
	file->store_fd = -1;
	if (close(fd) < 0 || !file->info.sha256 || file->info.state != OM_FILE_CLOSED ||
	    !store_room(w, file->info.size)) {
		unlink(file->store_tmp);
		if (file->info.state == OM_FILE_CLOSED)
			w->stats.store_refused++;
		return;
	}
	char h[65], sub[OM_PROTO_PATH_MAX + 8], dst[OM_PROTO_PATH_MAX + 80];
	hex(h, file->info.sha256, 32);
	snprintf(sub, sizeof(sub), "%s/%.2s", c->store_dir, h);
	snprintf(dst, sizeof(dst), "%s/%s", sub, h);
	struct stat st;
	if (stat(dst, &st) == 0) {
		unlink(file->store_tmp);
		file->stored = true;
		return;
	}
	if (mkdir_p1(sub) < 0 || rename(file->store_tmp, dst) < 0) {
		unlink(file->store_tmp);
		w->stats.store_refused++;
		return;
	}
	struct proto_files_shared *s = w->p->files;
	pthread_mutex_lock(&s->lock);
	s->store_files++;
	s->store_bytes += file->info.size;
	pthread_mutex_unlock(&s->lock);
	file->stored = true;
	w->stats.files_stored++;
}

static void fileinfo_body(om_json *j, void *arg)
{
	om_file *file = arg;
	const om_file_info *in = &file->info;
	/* the transaction's members ("http": {...}) come first, as Suricata's */
	if (file->ctx.len > 2)
		om_json_members(j, om_buf_cstr(&file->ctx) + 1, file->ctx.len - 2);
	om_json_obj_open(j, "fileinfo");
	om_json_strn(j, "filename", (const char *)in->name, in->name_len);
	if (in->magic)
		om_json_str(j, "magic", in->magic);
	om_json_bool(j, "gaps", in->gaps > 0);
	om_json_str(j, "state", om_file_state_name(in->state));
	char h[65];
	if (in->md5) {
		hex(h, in->md5, 16);
		om_json_str(j, "md5", h);
		hex(h, in->sha1, 20);
		om_json_str(j, "sha1", h);
		hex(h, in->sha256, 32);
		om_json_str(j, "sha256", h);
	}
	om_json_bool(j, "stored", file->stored);
	/* as Suricata: the id of a stored file only (it counts per worker, so
	 * it would differ between runs with different worker counts) */
	if (file->stored)
		om_json_u64(j, "file_id", in->file_id);
	om_json_u64(j, "size", in->size);
	om_json_u64(j, "tx_id", in->tx_id);
	/* what the subscribers add (the anti-virus verdict) */
	const om_proto *p = file->w->p;
	for (unsigned i = 0; i < p->nsubs; i++)
		if (file->sub_state[i] && p->subs[i].fileinfo)
			p->subs[i].fileinfo(file->sub_state[i], file, j);
	om_json_obj_close(j);
}

static enum om_file_verdict stricter(enum om_file_verdict a, enum om_file_verdict b)
{
	/* DROP > ALERT > ACCEPT; PENDING is not a verdict */
	if (a == OM_FILE_DROP || b == OM_FILE_DROP)
		return OM_FILE_DROP;
	if (a == OM_FILE_ALERT || b == OM_FILE_ALERT)
		return OM_FILE_ALERT;
	return OM_FILE_ACCEPT;
}

static void decided(struct proto_files_worker *fw, om_flow_handle h, enum om_file_verdict v)
{
	for (unsigned i = 0; i < HOLD_MAX; i++)
		if (fw->decided[i].flow.idx == h.idx && fw->decided[i].flow.gen == h.gen) {
			fw->decided[i].v = stricter(fw->decided[i].v, v);
			return;
		}
	unsigned i = fw->ndecided_next++ % HOLD_MAX;
	fw->decided[i].flow = h;
	fw->decided[i].v = v;
}

void proto_file_close(om_file *file, enum om_file_state state)
{
	if (!file)
		return;
	struct om_proto_worker *w = file->w;
	struct proto_files_worker *fw = w->files;
	const om_proto *p = w->p;
	if (file->ignoring && state == OM_FILE_CLOSED)
		state = OM_FILE_TRUNCATED;
	file->info.state = state;
	if (!file->typed)
		type_file(file);
	if (file->md[0] && file->md[1] && file->md[2]) {
		unsigned n;
		for (int i = 0; i < 3; i++)
			EVP_DigestFinal_ex(file->md[i], file->digest[i], &n);
		file->info.md5 = file->digest[0];
		file->info.sha1 = file->digest[1];
		file->info.sha256 = file->digest[2];
	}
	if (state == OM_FILE_TRUNCATED)
		w->stats.files_truncated++;
	else if (state == OM_FILE_ERROR)
		w->stats.files_error++;
	store_finish(file);
	/* the subscribers' verdicts */
	enum om_file_verdict v = OM_FILE_ACCEPT;
	uint32_t pending = 0;
	for (unsigned i = 0; i < p->nsubs; i++) {
		if (!file->sub_state[i])
			continue;
		enum om_file_verdict sv = OM_FILE_ACCEPT;
		if (p->subs[i].close) {
			om_file_ticket t = {file->seq, w->index, i};
			sv = p->subs[i].close(file->sub_state[i], file, t);
		}
		if (sv == OM_FILE_PENDING)
			pending |= 1u << i;
		else
			v = stricter(v, sv);
	}
	om_flow_handle h = om_app_flow_handle(file->flow);
	if (pending && fw->nheld < HOLD_MAX) {
		struct held *hd = &fw->held[fw->nheld++];
		hd->file_seq = file->seq;
		hd->flow = h;
		hd->deadline = file->flow->last + (om_usec)p->cfg.files.hold_ms * 1000u;
		hd->pending = pending;
		hd->v = v;
		w->stats.held++;
	} else {
		if (pending) /* no room to wait: what is known decides */
			w->stats.hold_timeouts++;
		decided(fw, h, v);
	}
	om_proto_event ev = {.event_type = "fileinfo",
	                     .dir = file->info.dir,
	                     .body = fileinfo_body,
	                     .arg = file,
	                     .meta = NULL};
	proto_event(file->flow, &ev);
	/* freed after fileinfo, which may read what close left */
	for (unsigned i = 0; i < p->nsubs; i++)
		if (file->sub_state[i] && p->subs[i].free)
			p->subs[i].free(file->sub_state[i], p->subs[i].user);
	fw->open--;
	file_put(fw, file);
}

/* ---- verdicts ---------------------------------------------------------------------- */

int om_file_verdict_post(om_proto *p, om_file_ticket t, enum om_file_verdict v)
{
	struct proto_files_shared *s = p->files;
	if (t.worker >= MAX_WORKERS || t.subscriber >= OM_PROTO_MAX_SUBSCRIBERS ||
	    v == OM_FILE_PENDING)
		return -EINVAL;
	int r = 0;
	pthread_mutex_lock(&s->lock);
	if (!s->worker_live[t.worker])
		r = -ENOENT;
	else if (s->nposts[t.worker] >= POST_MAX)
		r = -ENOSPC;
	else
		s->posts[t.worker][s->nposts[t.worker]++] =
		    (struct post){t.file_seq, t.subscriber, v};
	pthread_mutex_unlock(&s->lock);
	return r;
}

static void release(struct proto_files_worker *fw, unsigned i)
{
	decided(fw, fw->held[i].flow, fw->held[i].v);
	fw->held[i] = fw->held[--fw->nheld];
}

unsigned om_proto_worker_poll(om_proto_worker *w, om_usec now)
{
	struct proto_files_worker *fw = w->files;
	struct proto_files_shared *s = w->p->files;
	unsigned released = 0;
	if (w->index < MAX_WORKERS && fw->nheld) {
		struct post posts[POST_MAX];
		unsigned n;
		pthread_mutex_lock(&s->lock);
		n = s->nposts[w->index];
		if (n)
			memcpy(posts, s->posts[w->index], n * sizeof(posts[0]));
		s->nposts[w->index] = 0;
		pthread_mutex_unlock(&s->lock);
		for (unsigned k = 0; k < n; k++)
			for (unsigned i = 0; i < fw->nheld; i++) {
				struct held *hd = &fw->held[i];
				if (hd->file_seq != posts[k].file_seq ||
				    !(hd->pending & (1u << posts[k].subscriber)))
					continue;
				hd->pending &= ~(1u << posts[k].subscriber);
				hd->v = stricter(hd->v, posts[k].v);
				if (!hd->pending) {
					release(fw, i);
					released++;
				}
				break;
			}
	}
	for (unsigned i = 0; i < fw->nheld;) {
		if (now >= fw->held[i].deadline) {
			w->stats.hold_timeouts++;
			release(fw, i);
			released++;
		} else {
			i++;
		}
	}
	return released;
}

bool om_proto_flow_held(const om_flow *f)
{
	struct om_proto_worker *w = proto_worker(f);
	if (!w || !w->files->nheld)
		return false;
	om_flow_handle h = om_app_flow_handle(f);
	for (unsigned i = 0; i < w->files->nheld; i++)
		if (w->files->held[i].flow.idx == h.idx && w->files->held[i].flow.gen == h.gen)
			return true;
	return false;
}

enum om_file_verdict om_proto_flow_verdict(const om_flow *f)
{
	struct om_proto_worker *w = proto_worker(f);
	if (!w)
		return OM_FILE_ACCEPT;
	om_flow_handle h = om_app_flow_handle(f);
	enum om_file_verdict v = OM_FILE_ACCEPT;
	for (unsigned i = 0; i < HOLD_MAX; i++)
		if (w->files->decided[i].flow.idx == h.idx &&
		    w->files->decided[i].flow.gen == h.gen)
			v = stricter(v, w->files->decided[i].v);
	return v;
}
