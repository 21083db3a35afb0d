/* spool.c: the durable local spool between the event producers and their
 * consumers (the store writer, the console's ingest). Writers append framed
 * records to segment files; readers follow them from a committed position.
 * Format in base.h and docs/eve.md. A writer never rewrites what it wrote
 * and never reopens an older segment, so a crash can only leave a torn
 * record at the end of the last segment of that run; readers stop there
 * and, once a later segment exists, go on with it. */
#include "base/base.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define SEG_HDR 16
#define REC_HDR 8
#define IOV_RECS 512 /* records per writev */
#define READ_CHUNK (64u * 1024)
#define PATH_MAXLEN 4096
static const uint8_t seg_magic[8] = {'O', 'M', 'S', 'P', 'O', 'O', 'L', 0};

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* CRC-32C (Castagnoli, reflected polynomial 0x82f63b78, initial and final
 * XOR 0xffffffff: the CRC of iSCSI, ext4 and LevelDB). With SSE 4.2 the CPU
 * computes it (the crc32 instruction, 8 bytes a step): every event line is
 * checksummed (by the engine's sink thread, beside the packet path), and a
 * table-driven CRC cost a fifth of a run of malformed packets. */
static uint32_t crc_table[256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;
static bool crc_hw;

static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0x82f63b78u : c >> 1;
		crc_table[i] = c;
	}
#if defined(__x86_64__)
	crc_hw = __builtin_cpu_supports("sse4.2");
#endif
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) static uint32_t crc_sse42(uint32_t c, const uint8_t *p, size_t n)
{
	uint64_t c64 = c;
	for (; n >= 8; p += 8, n -= 8) {
		uint64_t v;
		memcpy(&v, p, 8);
		c64 = __builtin_ia32_crc32di(c64, v);
	}
	c = (uint32_t)c64;
	for (; n; p++, n--)
		c = __builtin_ia32_crc32qi(c, *p);
	return c;
}
#endif

uint32_t om_crc32c(const void *data, size_t n)
{
	const uint8_t *p = data;
	uint32_t c = 0xffffffffu;
	pthread_once(&crc_once, crc_init);
#if defined(__x86_64__)
	if (crc_hw)
		return ~crc_sse42(c, p, n);
#endif
	for (; n; p++, n--)
		c = crc_table[(c ^ *p) & 0xff] ^ (c >> 8);
	return ~c;
}

static uint32_t crc(const void *p, size_t n)
{
	return om_crc32c(p, n);
}

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* 1: a complete valid record of *ret_len payload bytes; 0: incomplete;
 * -1: not a record (zero or oversized length, CRC mismatch). */
static int parse_record(const uint8_t *p, size_t avail, uint32_t *ret_len)
{
	if (avail < REC_HDR)
		return 0;
	uint32_t len = get32(p);
	if (len == 0 || len > OM_SPOOL_MAX_RECORD)
		return -1;
	if (avail - REC_HDR < len)
		return 0;
	if (crc(p + REC_HDR, len) != get32(p + 4))
		return -1;
	*ret_len = len;
	return 1;
}

size_t om_spool_scan(const uint8_t *data, size_t len, size_t *ret_end)
{
	size_t n = 0, pos = SEG_HDR;
	if (len < SEG_HDR || memcmp(data, seg_magic, 8) != 0 || get32(data + 8) != 1) {
		*ret_end = 0;
		return 0;
	}
	for (;;) {
		uint32_t rl;
		if (parse_record(data + pos, len - pos, &rl) != 1)
			break;
		pos += REC_HDR + rl;
		n++;
	}
	*ret_end = pos;
	return n;
}

static int seg_path(char *out, size_t n, const char *dir, uint64_t seq)
{
	int w = snprintf(out, n, "%s/%020" PRIu64 ".seg", dir, seq);
	return w < 0 || (size_t)w >= n ? -ENAMETOOLONG : 0;
}

/* "<20 digits>.seg" */
static bool seg_name(const char *name, uint64_t *ret)
{
	if (strlen(name) != 24 || strcmp(name + 20, ".seg") != 0)
		return false;
	uint64_t v = 0;
	for (int i = 0; i < 20; i++) {
		if (name[i] < '0' || name[i] > '9')
			return false;
		uint64_t d = (uint64_t)(name[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*ret = v;
	return true;
}

/* Sums the segments' sizes; the highest sequence and the lowest one above
 * `above` (UINT64_MAX when none). */
static int scan_dir(const char *dir, uint64_t *ret_total, uint64_t *ret_max, bool *ret_any,
                    uint64_t above, uint64_t *ret_next)
{
	DIR *d = opendir(dir);
	if (!d)
		return -errno;
	uint64_t total = 0, max = 0, next = UINT64_MAX;
	bool any = false;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		uint64_t seq;
		if (!seg_name(de->d_name, &seq))
			continue;
		struct stat st;
		if (fstatat(dirfd(d), de->d_name, &st, 0) == 0)
			total += (uint64_t)st.st_size;
		if (!any || seq > max)
			max = seq;
		any = true;
		if (seq > above && seq < next)
			next = seq;
	}
	closedir(d);
	if (ret_total)
		*ret_total = total;
	if (ret_max)
		*ret_max = max;
	if (ret_any)
		*ret_any = any;
	if (ret_next)
		*ret_next = next;
	return 0;
}

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int r = fsync(fd) < 0 ? -errno : 0;
	close(fd);
	return r;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* ---- writer ----------------------------------------------------------------- */

struct om_spool {
	pthread_mutex_t lock;
	char dir[PATH_MAXLEN];
	om_spool_opts o;
	int fd;             /* current segment, -1 before the first record */
	int lock_fd;        /* "writer.lock", flock()ed: one writer at a time */
	uint64_t seq;       /* of the current (or next) segment */
	uint64_t first_seq; /* of this writer's first segment */
	uint64_t seg_size;  /* bytes in the current segment */
	uint64_t total;     /* bytes in all segments of the directory */
	uint64_t last_sync; /* mono_ms of the last fsync */
	uint64_t last_rescan;
	bool dirty, warned;
	int error; /* sticky I/O failure */
	om_spool_stats st;
	/* records framed but not yet written: header i and its line */
	struct iovec iov[2 * IOV_RECS];
	uint8_t hdr[IOV_RECS][REC_HDR];
	unsigned nrec;
	uint64_t pending; /* bytes in iov */
};

void om_spool_opts_default(om_spool_opts *o)
{
	o->segment_bytes = 64ull * 1024 * 1024;
	o->max_bytes = 4ull * 1024 * 1024 * 1024;
	o->fsync = OM_SPOOL_FSYNC_INTERVAL;
	o->fsync_interval_ms = 1000;
}

int om_spool_fsync_parse(const char *s, om_spool_opts *o)
{
	if (!strcmp(s, "none")) {
		o->fsync = OM_SPOOL_FSYNC_NONE;
	} else if (!strcmp(s, "batch")) {
		o->fsync = OM_SPOOL_FSYNC_BATCH;
	} else if (!strcmp(s, "interval")) {
		o->fsync = OM_SPOOL_FSYNC_INTERVAL;
	} else if (!strncmp(s, "interval:", 9)) {
		uint64_t ms;
		if (om_parse_u64(s + 9, 1, 3600000, &ms) < 0)
			return -EINVAL;
		o->fsync = OM_SPOOL_FSYNC_INTERVAL;
		o->fsync_interval_ms = (uint32_t)ms;
	} else {
		return -EINVAL;
	}
	return 0;
}

int om_spool_open(const char *dir, const om_spool_opts *o, om_spool **ret, char *err, size_t errlen)
{
	if (strlen(dir) + 32 >= PATH_MAXLEN) {
		snprintf(err, errlen, om_tr("err.spool.path_too_long"), dir);
		return -ENAMETOOLONG;
	}
	if (mkdir(dir, 0750) < 0 && errno != EEXIST) {
		int r = errno;
		snprintf(err, errlen, om_tr("err.spool.dir"), dir, strerror(r));
		return -r;
	}
	/* one writer at a time: two would pick the same next segment, and a
	 * reader would take a segment one of them still writes as finished */
	char lpath[PATH_MAXLEN + 16];
	snprintf(lpath, sizeof(lpath), "%s/writer.lock", dir);
	int lfd = open(lpath, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (lfd < 0) {
		int e = errno;
		snprintf(err, errlen, om_tr("err.spool.dir"), dir, strerror(e));
		return -e;
	}
	if (flock(lfd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;
		close(lfd);
		if (e == EWOULDBLOCK) {
			snprintf(err, errlen, om_tr("err.spool.busy"), dir);
			return -EBUSY;
		}
		snprintf(err, errlen, om_tr("err.spool.dir"), dir, strerror(e));
		return -e;
	}
	uint64_t total, max;
	bool any;
	int r = scan_dir(dir, &total, &max, &any, 0, NULL);
	if (r < 0) {
		close(lfd);
		snprintf(err, errlen, om_tr("err.spool.dir"), dir, strerror(-r));
		return r;
	}
	om_spool *s = calloc(1, sizeof(*s));
	if (!s) {
		close(lfd);
		snprintf(err, errlen, "%s", om_tr("err.nomem"));
		return -ENOMEM;
	}
	s->lock_fd = lfd;
	pthread_mutex_init(&s->lock, NULL);
	snprintf(s->dir, sizeof(s->dir), "%s", dir);
	s->o = *o;
	if (s->o.segment_bytes < SEG_HDR + REC_HDR + 1)
		s->o.segment_bytes = SEG_HDR + REC_HDR + 1;
	s->fd = -1;
	s->seq = s->first_seq = any ? max + 1 : 1;
	s->total = total;
	s->last_sync = s->last_rescan = mono_ms();
	*ret = s;
	return 0;
}

static int do_sync(om_spool *s)
{
	if (s->fd < 0 || !s->dirty)
		return 0;
	if (fdatasync(s->fd) < 0)
		return -errno;
	s->dirty = false;
	s->st.fsyncs++;
	s->last_sync = mono_ms();
	return 0;
}

/* Writes the framed records out (one writev for up to IOV_RECS). */
static int stage_flush(om_spool *s)
{
	struct iovec *v = s->iov;
	int cnt = (int)(2 * s->nrec);
	int r = 0;
	while (cnt > 0) {
		ssize_t w = writev(s->fd, v, cnt);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			break;
		}
		/* a short write: skip what went out */
		while (cnt > 0 && (size_t)w >= v->iov_len) {
			w -= (ssize_t)v->iov_len;
			v++;
			cnt--;
		}
		if (cnt > 0) {
			v->iov_base = (uint8_t *)v->iov_base + w;
			v->iov_len -= (size_t)w;
		}
	}
	s->nrec = 0;
	s->pending = 0;
	if (r == 0)
		s->dirty = true;
	return r;
}

static int segment_start(om_spool *s)
{
	char path[PATH_MAXLEN + 32];
	int r;
	if (s->fd >= 0) {
		if ((r = stage_flush(s)) < 0)
			return r;
		if (s->o.fsync != OM_SPOOL_FSYNC_NONE && (r = do_sync(s)) < 0)
			return r;
		close(s->fd);
		s->fd = -1;
		s->seq++;
	}
	if ((r = seg_path(path, sizeof(path), s->dir, s->seq)) < 0)
		return r;
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0640);
	if (fd < 0)
		return -errno;
	uint8_t h[SEG_HDR];
	memcpy(h, seg_magic, 8);
	put32(h + 8, 1);
	put32(h + 12, 0);
	if ((r = write_all(fd, h, sizeof(h))) < 0) {
		close(fd);
		return r;
	}
	s->fd = fd;
	s->dirty = true;
	s->seg_size = SEG_HDR;
	s->total += SEG_HDR;
	s->st.segments++;
	/* the new name must survive a crash as well as the data */
	if (s->o.fsync != OM_SPOOL_FSYNC_NONE && (r = fsync_dir(s->dir)) < 0)
		return r;
	return 0;
}

static void drop(om_spool *s)
{
	s->st.dropped++;
	if (!s->warned) {
		s->warned = true;
		om_warn(om_tr("warn.spool.full"), s->dir, (unsigned long long)s->o.max_bytes);
	}
}

static int append_one(om_spool *s, const char *line, size_t n)
{
	int r;
	uint64_t need = REC_HDR + (uint64_t)n;
	if (n == 0)
		return 0;
	if (n > OM_SPOOL_MAX_RECORD) {
		drop(s);
		return 0;
	}
	bool roll = s->fd < 0 || (s->seg_size > SEG_HDR && s->seg_size + need > s->o.segment_bytes);
	uint64_t extra = roll ? SEG_HDR : 0;
	if (s->total + need + extra > s->o.max_bytes) {
		/* a consumer may have removed segments since: look again, once a
		 * second at most */
		uint64_t now = mono_ms();
		uint64_t total;
		if (now - s->last_rescan >= 1000 &&
		    scan_dir(s->dir, &total, NULL, NULL, 0, NULL) == 0) {
			s->last_rescan = now;
			s->total = total + s->pending;
		}
		if (s->total + need + extra > s->o.max_bytes) {
			drop(s);
			return 0;
		}
	}
	if (roll && (r = segment_start(s)) < 0)
		return r;
	/* the line stays where the caller has it until stage_flush, which
	 * om_spool_append calls before it returns */
	uint8_t *h = s->hdr[s->nrec];
	put32(h, (uint32_t)n);
	put32(h + 4, crc(line, n));
	s->iov[2 * s->nrec] = (struct iovec){h, REC_HDR};
	s->iov[2 * s->nrec + 1] = (struct iovec){(void *)line, n};
	s->nrec++;
	s->pending += need;
	s->seg_size += need;
	s->total += need;
	s->st.records++;
	s->st.bytes += need;
	if (s->nrec == IOV_RECS)
		return stage_flush(s);
	return 0;
}

int om_spool_append(om_spool *s, const char *data, size_t len)
{
	int r = 0;
	pthread_mutex_lock(&s->lock);
	if (s->error) {
		r = s->error;
		goto out;
	}
	size_t i = 0;
	while (i < len && r == 0) {
		const char *nl = memchr(data + i, '\n', len - i);
		size_t n = nl ? (size_t)(nl - (data + i)) : len - i;
		r = append_one(s, data + i, n);
		i += n + 1;
	}
	if (r == 0 && s->fd >= 0)
		r = stage_flush(s);
	/* start the disk writes now, without waiting for them, so that the
	 * next fsync (interval, end of run) finds little left to do */
	if (r == 0 && s->fd >= 0 && s->o.fsync != OM_SPOOL_FSYNC_NONE)
		(void)sync_file_range(s->fd, 0, 0, SYNC_FILE_RANGE_WRITE);
	if (r == 0 && s->fd >= 0) {
		if (s->o.fsync == OM_SPOOL_FSYNC_BATCH ||
		    (s->o.fsync == OM_SPOOL_FSYNC_INTERVAL &&
		     mono_ms() - s->last_sync >= s->o.fsync_interval_ms))
			r = do_sync(s);
	}
	if (r < 0)
		s->error = r;
out:
	pthread_mutex_unlock(&s->lock);
	return r;
}

int om_spool_sync(om_spool *s)
{
	pthread_mutex_lock(&s->lock);
	int r = s->error;
	if (!r && s->fd >= 0) {
		r = stage_flush(s);
		if (!r && s->o.fsync != OM_SPOOL_FSYNC_NONE)
			r = do_sync(s);
		if (r < 0)
			s->error = r;
	}
	pthread_mutex_unlock(&s->lock);
	return r;
}

uint64_t om_spool_first_segment(const om_spool *s)
{
	return s->first_seq;
}

void om_spool_stats_get(om_spool *s, om_spool_stats *ret)
{
	pthread_mutex_lock(&s->lock);
	*ret = s->st;
	pthread_mutex_unlock(&s->lock);
}

om_spool *om_spool_close(om_spool *s)
{
	if (!s)
		return NULL;
	if (s->fd >= 0) {
		if (!s->error) {
			pthread_mutex_lock(&s->lock);
			int r = stage_flush(s);
			if (r == 0 && s->o.fsync != OM_SPOOL_FSYNC_NONE)
				do_sync(s);
			pthread_mutex_unlock(&s->lock);
		}
		close(s->fd);
	}
	close(s->lock_fd);
	pthread_mutex_destroy(&s->lock);
	free(s);
	return NULL;
}

/* ---- reader ----------------------------------------------------------------- */

struct om_spool_reader {
	char dir[PATH_MAXLEN];
	char state[PATH_MAXLEN + 64];
	int fd;
	uint64_t seq, pos;  /* next record: segment and offset in it */
	bool fresh;         /* no committed position was found */
	uint8_t *buf;       /* bytes [buf_off, buf_off + buf_len) of the segment */
	const uint8_t *cur; /* set by fill() */
	size_t buf_len, buf_cap;
	uint64_t buf_off;
	om_spool_reader_stats st;
};

static bool name_ok(const char *n)
{
	if (!n[0] || strlen(n) > 32)
		return false;
	for (const char *p = n; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'))
			return false;
	return true;
}

/* "<seq> <offset>\n" */
static int read_state(const char *path, uint64_t *ret_seq, uint64_t *ret_pos)
{
	char text[64];
	FILE *f = fopen(path, "r");
	if (!f)
		return -errno;
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	char *sp = strchr(text, ' '), *nl = strchr(text, '\n');
	if (!sp || !nl || nl < sp)
		return -EINVAL;
	*sp = '\0';
	*nl = '\0';
	uint64_t seq, pos;
	if (om_parse_u64(text, 0, UINT64_MAX, &seq) < 0 ||
	    om_parse_u64(sp + 1, SEG_HDR, UINT64_MAX, &pos) < 0)
		return -EINVAL;
	*ret_seq = seq;
	*ret_pos = pos;
	return 0;
}

int om_spool_reader_open(const char *dir, const char *name, om_spool_reader **ret, char *err,
                         size_t errlen)
{
	if (strlen(dir) + 64 >= PATH_MAXLEN || !name_ok(name)) {
		snprintf(err, errlen, om_tr("err.spool.path_too_long"), dir);
		return -EINVAL;
	}
	uint64_t first;
	int r = scan_dir(dir, NULL, NULL, NULL, 0, &first);
	if (r < 0) {
		snprintf(err, errlen, om_tr("err.spool.dir"), dir, strerror(-r));
		return r;
	}
	om_spool_reader *rd = calloc(1, sizeof(*rd));
	if (!rd) {
		snprintf(err, errlen, "%s", om_tr("err.nomem"));
		return -ENOMEM;
	}
	snprintf(rd->dir, sizeof(rd->dir), "%s", dir);
	snprintf(rd->state, sizeof(rd->state), "%s/%s.offset", dir, name);
	rd->fd = -1;
	r = read_state(rd->state, &rd->seq, &rd->pos);
	if (r == -ENOENT) {
		/* never committed: the oldest segment (sequences start at 1) */
		rd->seq = first == UINT64_MAX ? 1 : first;
		rd->pos = SEG_HDR;
		rd->fresh = true;
	} else if (r < 0) {
		snprintf(err, errlen, om_tr("err.spool.state"), rd->state,
		         r == -EINVAL ? om_tr("err.spool.state_bad") : strerror(-r));
		free(rd);
		return r;
	}
	*ret = rd;
	return 0;
}

/* Makes [off, off + n) available in buf as far as the file has it; returns
 * how many bytes from off are there (may be fewer than n) and sets r->cur to
 * off's byte. Bytes are moved to the front only when more must be read. */
static ssize_t fill(om_spool_reader *r, uint64_t off, size_t n)
{
	if (off < r->buf_off || off > r->buf_off + r->buf_len) {
		r->buf_off = off;
		r->buf_len = 0;
	}
	size_t skip = (size_t)(off - r->buf_off);
	if (r->buf_len - skip >= n) {
		r->cur = r->buf + skip;
		return (ssize_t)(r->buf_len - skip);
	}
	if (skip) {
		memmove(r->buf, r->buf + skip, r->buf_len - skip);
		r->buf_len -= skip;
		r->buf_off = off;
	}
	size_t want = n > READ_CHUNK ? n : READ_CHUNK;
	if (want > r->buf_cap) {
		uint8_t *nb = realloc(r->buf, want);
		if (!nb)
			return -ENOMEM;
		r->buf = nb;
		r->buf_cap = want;
	}
	while (r->buf_len < n) {
		ssize_t got = pread(r->fd, r->buf + r->buf_len, r->buf_cap - r->buf_len,
		                    (off_t)(r->buf_off + r->buf_len));
		if (got < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (got == 0)
			break;
		r->buf_len += (size_t)got;
	}
	r->cur = r->buf;
	return (ssize_t)r->buf_len;
}

static bool exists(const char *dir, uint64_t seq)
{
	char path[PATH_MAXLEN + 32];
	struct stat st;
	return seg_path(path, sizeof(path), dir, seq) == 0 && stat(path, &st) == 0;
}

/* The segment after the current one, UINT64_MAX if none yet. */
static uint64_t next_seq(om_spool_reader *r)
{
	if (exists(r->dir, r->seq + 1))
		return r->seq + 1;
	uint64_t next;
	if (scan_dir(r->dir, NULL, NULL, NULL, r->seq, &next) < 0)
		return UINT64_MAX;
	return next;
}

static void seg_leave(om_spool_reader *r, uint64_t next, bool torn)
{
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
	r->buf_len = 0;
	r->buf_off = 0;
	if (torn)
		r->st.torn++;
	r->st.segments++;
	r->seq = next;
	r->pos = SEG_HDR;
}

int om_spool_read(om_spool_reader *r, const char **ret_data, size_t *ret_len)
{
	for (;;) {
		if (r->fd < 0) {
			char path[PATH_MAXLEN + 32];
			int e = seg_path(path, sizeof(path), r->dir, r->seq);
			if (e < 0)
				return e;
			r->fd = open(path, O_RDONLY | O_CLOEXEC);
			if (r->fd < 0) {
				if (errno != ENOENT)
					return -errno;
				uint64_t next = next_seq(r);
				if (next == UINT64_MAX)
					return 0;
				r->seq = next; /* removed: go on with the next one */
				r->pos = SEG_HDR;
				continue;
			}
			r->buf_len = 0;
			r->buf_off = 0;
			ssize_t n = fill(r, 0, SEG_HDR);
			if (n < 0)
				return (int)n;
			bool ok = n >= SEG_HDR && memcmp(r->cur, seg_magic, 8) == 0 &&
			          get32(r->cur + 8) == 1;
			if (!ok) {
				uint64_t next = next_seq(r);
				close(r->fd);
				r->fd = -1;
				if (next == UINT64_MAX)
					return 0; /* a writer may be starting it */
				seg_leave(r, next, true);
				continue;
			}
		}
		ssize_t n = fill(r, r->pos, REC_HDR);
		if (n < 0)
			return (int)n;
		uint32_t len = 0;
		int pr = parse_record(r->cur, (size_t)n, &len);
		if (pr == 0 && n >= REC_HDR) {
			n = fill(r, r->pos, REC_HDR + (size_t)get32(r->cur));
			if (n < 0)
				return (int)n;
			pr = parse_record(r->cur, (size_t)n, &len);
		}
		if (pr == 1) {
			*ret_data = (const char *)r->cur + REC_HDR;
			*ret_len = len;
			r->pos += REC_HDR + len;
			r->st.records++;
			return 1;
		}
		/* nothing complete here now: the segment is over only when a later
		 * one exists and this one still has nothing complete (the writer
		 * finishes a segment before it starts the next) */
		uint64_t next = next_seq(r);
		if (next == UINT64_MAX)
			return 0;
		if (pr == 0) {
			n = fill(r, r->pos, REC_HDR);
			if (n < 0)
				return (int)n;
			if (n >= REC_HDR && parse_record(r->cur, (size_t)n, &len) == 0)
				n = fill(r, r->pos, REC_HDR + (size_t)get32(r->cur));
			if (n < 0)
				return (int)n;
			if (parse_record(r->cur, (size_t)n, &len) == 1)
				continue;
		}
		seg_leave(r, next, n > 0);
	}
}

int om_spool_commit(om_spool_reader *r)
{
	char tmp[sizeof(r->state) + 8], text[64];
	snprintf(tmp, sizeof(tmp), "%s.tmp", r->state);
	int len = snprintf(text, sizeof(text), "%" PRIu64 " %" PRIu64 "\n", r->seq, r->pos);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0)
		return -errno;
	int e = write_all(fd, (const uint8_t *)text, (size_t)len);
	if (e == 0 && fsync(fd) < 0)
		e = -errno;
	if (close(fd) < 0 && e == 0)
		e = -errno;
	if (e == 0 && rename(tmp, r->state) < 0)
		e = -errno;
	if (e == 0)
		e = fsync_dir(r->dir);
	if (e < 0)
		unlink(tmp);
	return e;
}

int om_spool_prune(const char *dir, uint64_t *ret_removed)
{
	DIR *d = opendir(dir);
	if (!d)
		return -errno;
	/* the oldest segment a consumer still needs */
	uint64_t keep = UINT64_MAX;
	bool consumers = false;
	int r = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name);
		if (n <= 7 || strcmp(de->d_name + n - 7, ".offset") != 0)
			continue;
		char path[PATH_MAXLEN + 300];
		uint64_t seq, pos;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (read_state(path, &seq, &pos) < 0) {
			r = -EINVAL; /* unreadable: keep everything */
			break;
		}
		consumers = true;
		if (seq < keep)
			keep = seq;
	}
	uint64_t removed = 0;
	if (r == 0 && consumers) {
		rewinddir(d);
		while ((de = readdir(d)) != NULL) {
			uint64_t seq;
			if (seg_name(de->d_name, &seq) && seq < keep) {
				if (unlinkat(dirfd(d), de->d_name, 0) < 0) {
					r = -errno;
					break;
				}
				removed++;
			}
		}
	}
	closedir(d);
	if (r == 0)
		*ret_removed = removed;
	return r;
}

void om_spool_reader_start_at(om_spool_reader *r, uint64_t seq)
{
	if (r->fresh && r->fd < 0 && seq > r->seq) {
		r->seq = seq;
		r->pos = SEG_HDR;
	}
}

void om_spool_reader_stats_get(const om_spool_reader *r, om_spool_reader_stats *ret)
{
	*ret = r->st;
}

om_spool_reader *om_spool_reader_close(om_spool_reader *r)
{
	if (!r)
		return NULL;
	if (r->fd >= 0)
		close(r->fd);
	free(r->buf);
	free(r);
	return NULL;
}
