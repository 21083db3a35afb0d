/* libFuzzer target for the spool reader. The input is one segment file as a
 * crash or a disk could leave it. Checked: the reader returns exactly the
 * records that om_spool_scan finds valid, byte for byte, then stops; with a
 * later segment present it goes on to that segment's record and nothing
 * else; it never reads past the file. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/base.h"

static char dir[64];

static int put(uint64_t seq, const uint8_t *data, size_t size)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/%020llu.seg", dir, (unsigned long long)seq);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return -1;
	ssize_t w = write(fd, data, size);
	close(fd);
	return w == (ssize_t)size ? 0 : -1;
}

static void cleanup(void)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/%020llu.seg", dir, 1ull);
	unlink(path);
	snprintf(path, sizeof(path), "%s/%020llu.seg", dir, 2ull);
	unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	if (!dir[0]) {
		snprintf(dir, sizeof(dir), "/tmp/omamori-fuzz-spool-XXXXXX");
		if (!mkdtemp(dir))
			abort();
	}
	cleanup();
	if (put(1, data, size) < 0)
		return 0;
	size_t end;
	size_t want = om_spool_scan(data, size, &end);
	if (end > size)
		abort();
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1) {
			/* a later segment: a writer's next run */
			om_spool *s;
			om_spool_opts o;
			om_spool_opts_default(&o);
			o.fsync = OM_SPOOL_FSYNC_NONE;
			if (om_spool_open(dir, &o, &s, err, sizeof(err)) < 0)
				abort();
			if (om_spool_append(s, "tail\n", 5) < 0)
				abort();
			om_spool_close(s);
		}
		om_spool_reader *r;
		if (om_spool_reader_open(dir, "fuzz", &r, err, sizeof(err)) < 0)
			abort();
		size_t got = 0, pos = 16;
		const char *rec;
		size_t len;
		int n;
		while ((n = om_spool_read(r, &rec, &len)) == 1) {
			if (got < want) {
				/* the same bytes as in the input */
				if (pos + 8 + len > size || memcmp(data + pos + 8, rec, len) != 0)
					abort();
				pos += 8 + len;
			} else if (pass == 0 || len != 4 || memcmp(rec, "tail", 4) != 0) {
				abort();
			}
			got++;
		}
		if (n < 0)
			abort();
		/* a valid segment header is needed for any record */
		if (got != want + (size_t)pass)
			abort();
		om_spool_reader_close(r);
	}
	cleanup();
	return 0;
}
