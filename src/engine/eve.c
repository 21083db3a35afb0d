/* eve.c: EVE JSON line output with size and daily rotation. Rotation renames
 * the current file to FILE.N (N counting up from 1) and opens a new one.
 * The file is opened at the first block written, in append mode as
 * Suricata does (truncate on request), so that a run that fails before its
 * first event neither creates nor changes the file; om_eve_open only checks
 * that it could be written. */
#include "engine/engine.h"

#include <errno.h>
#include <libgen.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct om_eve {
	pthread_mutex_t lock;
	FILE *f;
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

static int eve_rotate(om_eve *e)
{
	if (fclose(e->f) != 0 && !e->error)
		e->error = -errno;
	e->f = NULL;
	char dst[4200];
	for (uint64_t n = e->rotations + 1;; n++) {
		snprintf(dst, sizeof(dst), "%s.%llu", e->path, (unsigned long long)n);
		FILE *probe = fopen(dst, "r");
		if (!probe)
			break;
		fclose(probe);
	}
	if (rename(e->path, dst) != 0)
		return -errno;
	e->f = fopen(e->path, "w");
	if (!e->f)
		return -errno;
	e->rotations++;
	e->written = 0;
	return 0;
}

int om_eve_write(om_eve *e, const char *data, size_t len, const char *day)
{
	int r = 0;
	if (!len)
		return 0;
	pthread_mutex_lock(&e->lock);
	if (!e->f && !e->is_stdout && !e->error && !e->rotations) {
		e->f = fopen(e->path, e->truncate ? "w" : "a");
		struct stat st;
		if (!e->f)
			r = -errno;
		else if (fstat(fileno(e->f), &st) == 0)
			e->written = (uint64_t)st.st_size; /* size rotation counts what is there */
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
		if (rot && (r = eve_rotate(e)) < 0)
			goto out;
	}
	if (!e->f) {
		r = -EIO;
		goto out;
	}
	if (fwrite(data, 1, len, e->f) != len) {
		r = -errno;
		if (!r)
			r = -EIO;
	}
	e->written += len;
	if (e->live && fflush(e->f) != 0 && !r)
		r = -errno;
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
	if (e->f) {
		if (e->is_stdout)
			fflush(e->f);
		else
			fclose(e->f);
	}
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
