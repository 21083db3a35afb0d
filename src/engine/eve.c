/* eve.c: EVE JSON line output with size and daily rotation. Rotation renames
 * the current file to FILE.N (N counting up from 1) and opens a new one.
 * The file is opened at the first block written, in append mode as
 * Suricata does (truncate on request), so that a run that fails before its
 * first event neither creates nor changes the file; om_eve_open only checks
 * that it could be written.
 *
 * A full disk: a block is written whole or not at all (what a failed
 * write left is cut off again, so the file holds only complete lines).
 * When the file system is full the oldest rotated file (the lowest N) is
 * removed and the block tried again, until it fits or none is left. Then,
 * live (the gateway), the block is dropped from the log and counted (the
 * spool, with its own cap, still has the events) and writing goes on with
 * the next block; offline the error stops the run as any write error does. */
#include "engine/engine.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct om_eve {
	pthread_mutex_t lock;
	FILE *f; /* standard output only */
	int fd;  /* the file, -1 while not open */
	bool is_stdout;
	char path[4096];
	uint64_t rotate_bytes;
	bool daily;
	uint64_t written;
	char day[16];
	uint64_t rotations;
	bool truncate; /* the first open truncates */
	int error;     /* first write error, sticky */
	bool live;     /* flush every block (the gateway: readers follow the file) */
	uint64_t dropped_blocks, dropped_lines, removed_files;
	bool full; /* the last block found the disk full (warned once per episode) */
};

void om_eve_set_live(om_eve *e, bool live)
{
	e->live = live;
}

int om_eve_open(const char *path, uint64_t rotate_bytes, bool daily, om_eve **ret, char *err,
                size_t errlen)
{
	om_eve *e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	pthread_mutex_init(&e->lock, NULL);
	e->fd = -1;
	if (strcmp(path, "-") == 0) {
		e->f = stdout;
		e->is_stdout = true;
	} else {
		if (strlen(path) >= sizeof(e->path) - 32) {
			snprintf(err, errlen, om_tr("err.eve.path_too_long"), path);
			free(e);
			return -ENAMETOOLONG;
		}
		snprintf(e->path, sizeof(e->path), "%s", path);
		/* will it open? (an existing file writable, or a new one in a
		 * writable directory) without creating or touching it */
		char dir[sizeof(e->path)];
		snprintf(dir, sizeof(dir), "%s", path);
		int ok = access(path, W_OK);
		if (ok < 0 && errno == ENOENT)
			ok = access(dirname(dir), W_OK | X_OK);
		if (ok < 0) {
			int r = errno;
			snprintf(err, errlen, "%s: %s", path, strerror(r));
			free(e);
			return -r;
		}
		e->rotate_bytes = rotate_bytes;
		e->daily = daily;
	}
	*ret = e;
	return 0;
}

static int open_file(om_eve *e, bool truncate)
{
	e->fd =
	    open(e->path, O_WRONLY | O_CREAT | O_CLOEXEC | (truncate ? O_TRUNC : O_APPEND), 0644);
	return e->fd < 0 ? -errno : 0;
}

static bool remove_oldest(om_eve *e);

static int eve_rotate(om_eve *e)
{
	if (close(e->fd) != 0 && !e->error)
		e->error = -errno;
	e->fd = -1;
	char dst[4200];
	for (uint64_t n = e->rotations + 1;; n++) {
		snprintf(dst, sizeof(dst), "%s.%llu", e->path, (unsigned long long)n);
		FILE *probe = fopen(dst, "r");
		if (!probe)
			break;
		fclose(probe);
	}
	if (rename(e->path, dst) != 0) {
		int r = -errno;
		/* the file stays where it is: go on writing into it */
		if (open_file(e, false) == 0)
			return e->live ? 0 : r;
		return r;
	}
	e->rotations++;
	e->written = 0;
	int r = open_file(e, true);
	/* a full file system may refuse even the new file: make room */
	while (r == -ENOSPC || r == -EDQUOT) {
		if (!remove_oldest(e))
			break;
		r = open_file(e, true);
	}
	return r;
}

/* Removes the oldest rotated file (FILE.N, the lowest N there is); false
 * when there is none. */
static bool remove_oldest(om_eve *e)
{
	char p[4200];
	for (uint64_t n = 1; n <= e->rotations + 64; n++) {
		snprintf(p, sizeof(p), "%s.%llu", e->path, (unsigned long long)n);
		if (unlink(p) == 0) {
			e->removed_files++;
			om_log(OM_LOG_WARN, om_tr("warn.eve.removed_old"), p);
			return true;
		}
	}
	return false;
}

/* Writes the whole block at the end of the file, or nothing: what a failed
 * write left is cut off again; *ret_torn when that failed too (the file
 * then ends in a partial line: the block must not be written after it). */
static int write_all(om_eve *e, const char *data, size_t len, bool *ret_torn)
{
	off_t start = lseek(e->fd, 0, SEEK_END);
	size_t off = 0;
	*ret_torn = false;
	while (off < len) {
		ssize_t n = write(e->fd, data + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int r = n < 0 ? -errno : -ENOSPC;
			if (off && (start < 0 || ftruncate(e->fd, start) != 0)) {
				om_log(OM_LOG_WARN, om_tr("warn.eve.cut"), e->path,
				       strerror(errno));
				*ret_torn = true;
			}
			return r;
		}
		off += (size_t)n;
	}
	return 0;
}

static size_t count_lines(const char *data, size_t len)
{
	size_t n = 0;
	for (const char *p = data; (p = memchr(p, '\n', len - (size_t)(p - data))); p++)
		n++;
	return n;
}

/* The block into the file, making room when the disk is full: 0 written,
 * 1 left out (live, disk full), or -errno. */
static int write_block(om_eve *e, const char *data, size_t len)
{
	for (;;) {
		bool torn;
		int r = write_all(e, data, len, &torn);
		if (r == 0) {
			if (e->full)
				om_log(OM_LOG_WARN, om_tr("warn.eve.resumed"), e->path,
				       (unsigned long long)e->dropped_lines);
			e->full = false;
			return 0;
		}
		bool full = r == -ENOSPC || r == -EDQUOT;
		if (!full || torn || !remove_oldest(e)) {
			if (!e->live || !full)
				return r;
			/* live: the log loses this block, the box keeps going */
			if (!e->full)
				om_log(OM_LOG_ERROR, om_tr("err.eve.full"), e->path);
			e->full = true;
			e->dropped_blocks++;
			e->dropped_lines += count_lines(data, len);
			return 1;
		}
	}
}

int om_eve_write(om_eve *e, const char *data, size_t len, const char *day)
{
	int r = 0;
	if (!len)
		return 0;
	pthread_mutex_lock(&e->lock);
	/* the first block opens the file; live, a file lost to a full disk
	 * is opened again (appending) by the next block */
	if (e->fd < 0 && !e->is_stdout && !e->error && (!e->rotations || e->live)) {
		struct stat st;
		r = open_file(e, e->truncate && !e->rotations);
		if (r == 0 && fstat(e->fd, &st) == 0)
			e->written = (uint64_t)st.st_size; /* size rotation counts what is there */
	}
	if (r < 0 && e->live && e->rotations && (r == -ENOSPC || r == -EDQUOT)) {
		e->dropped_blocks++;
		e->dropped_lines += count_lines(data, len);
		e->full = true;
		r = 0; /* the next block tries again */
		goto out;
	}
	if (r < 0)
		goto out;
	if (!e->is_stdout) {
		bool rot = false;
		if (e->rotate_bytes && e->written && e->written + len > e->rotate_bytes)
			rot = true;
		if (e->daily && day) {
			if (e->day[0] && strcmp(e->day, day) != 0 && e->written)
				rot = true;
			snprintf(e->day, sizeof(e->day), "%s", day);
		}
		if (rot && (r = eve_rotate(e)) < 0) {
			if (e->live) {
				/* no file now: this block is left out, the next one
				 * tries to open the file again */
				e->dropped_blocks++;
				e->dropped_lines += count_lines(data, len);
				e->full = true;
				r = 0;
			}
			goto out;
		}
	}
	if (e->is_stdout) {
		if (fwrite(data, 1, len, e->f) != len)
			r = errno ? -errno : -EIO;
		else if (e->live && fflush(e->f) != 0)
			r = -errno;
		goto out;
	}
	if (e->fd < 0) {
		r = -EIO;
		goto out;
	}
	r = write_block(e, data, len);
	if (r == 0)
		e->written += len;
	else if (r == 1)
		r = 0; /* left out and counted: not an error live */
out:
	if (r < 0 && !e->error)
		e->error = r;
	pthread_mutex_unlock(&e->lock);
	return r;
}

om_eve *om_eve_close(om_eve *e)
{
	if (!e)
		return NULL;
	if (e->is_stdout)
		fflush(e->f);
	if (e->fd >= 0)
		close(e->fd);
	pthread_mutex_destroy(&e->lock);
	free(e);
	return NULL;
}

void om_eve_set_truncate(om_eve *e, bool truncate)
{
	e->truncate = truncate;
}

uint64_t om_eve_rotations(const om_eve *e)
{
	return e->rotations;
}

void om_eve_full_stats(om_eve *e, uint64_t *ret_dropped_lines, uint64_t *ret_removed_files)
{
	pthread_mutex_lock(&e->lock);
	*ret_dropped_lines = e->dropped_lines;
	*ret_removed_files = e->removed_files;
	pthread_mutex_unlock(&e->lock);
}
