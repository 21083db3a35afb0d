/* libFuzzer target: the streaming MIME decoder (src/proto/mime.c). Input:
 * byte 0 picks the limits (bit 0: tiny ones, so that every cap is hit) and
 * the size of the pieces the rest is fed in (bits 1-6: 1 to 64 bytes, 0:
 * all at once); byte 1 bit 0: the message ends complete or cut. The email
 * object is written at the end. Invariants: every part opened is closed
 * exactly once, and no file gets bytes after its close. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/mime.h"

struct fz {
	int open, closed;
	uint64_t bytes;
};

static void *f_open(void *user, const struct mime_part_info *pi)
{
	struct fz *z = user;
	if (pi->name_len && !pi->name)
		abort();
	z->open++;
	return z;
}

static void f_data(void *user, void *part, const uint8_t *d, size_t n)
{
	struct fz *z = user;
	if (part != z || z->open != z->closed + 1 || !n || !d)
		abort();
	z->bytes += n;
}

static void f_close(void *user, void *part, bool complete)
{
	(void)complete;
	struct fz *z = user;
	if (part != z || z->open != z->closed + 1)
		abort();
	z->closed++;
}

static void f_anom(void *user, const char *ev)
{
	(void)user;
	if (!ev || (strncmp(ev, "MIME_", 5) && strcmp(ev, "DUPLICATE_FIELDS")))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	static const struct mime_limits big = {4096, 16384, 8, 256, 1u << 20, 64, 65536};
	static const struct mime_limits tiny = {80, 100, 2, 4, 64, 2, 16};
	const struct mime_ops ops = {f_open, f_data, f_close, f_anom};
	struct fz z = {0, 0, 0};
	mime *m = mime_new((data[0] & 1) ? &tiny : &big, &ops, &z);
	if (!m)
		return 0;
	size_t step = (data[0] >> 1) & 63;
	bool complete = data[1] & 1;
	data += 2;
	size -= 2;
	if (!step)
		step = size ? size : 1;
	for (size_t i = 0; i < size; i += step)
		mime_feed(m, data + i, i + step <= size ? step : size - i);
	mime_end(m, complete);
	if (z.open != z.closed)
		abort();
	om_buf b;
	om_buf_init(&b, 1 << 20);
	om_json j;
	om_json_init(&j, &b);
	om_json_obj_open(&j, NULL);
	mime_write_email(&j, m);
	om_json_obj_close(&j);
	om_buf_free(&b);
	mime_free(m);
	return 0;
}
