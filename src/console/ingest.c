/* console: ingest of a gateway's pushed batch. The body is gzip; it is
 * inflated in chunks and split into lines, each stored through the store's
 * importer for the gateway's own tenant (a line naming another tenant is
 * refused). Idempotence rests on two things: the batch id (a batch already
 * recorded is acknowledged without being read again) and the store's
 * per-event key (a batch resent after a crash half-way through counts each
 * event once). */
#include <errno.h>
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

static int store_line(om_store *s, const char *tenant, const char *gateway, const char *p, size_t n,
                      con_ingest_result *res, con_desk_auto *desk)
{
	int r;

	if (n == 0)
		return 0;
	res->lines++;
	r = om_store_import_line_for(s, p, n, tenant, gateway);
	if (r != -EINVAL && desk)
		con_desk_auto_note(desk, p, n); /* a serious event opens a ticket */
	if (r == 1)
		res->stored++;
	else if (r == 0)
		res->ignored++;
	else if (r == -EINVAL)
		res->invalid++;
	else
		return r;
	return 0;
}

int con_ingest_gzip(om_store *s, const char *tenant, const char *gateway, const void *body,
                    size_t len, con_ingest_result *ret)
{
	z_stream z;
	unsigned char out[65536];
	char *line = malloc(CON_LINE_MAX);
	size_t ll = 0, total = 0;
	bool overlong = false;
	con_ingest_result res = {0};
	int r = 0, zr;
	/* the desk's candidates; without memory for them the batch is still
	 * stored, only no ticket is opened by itself */
	con_desk_auto *desk = calloc(1, sizeof(*desk));

	if (!line) {
		free(desk);
		return -ENOMEM;
	}
	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) {
		free(line);
		free(desk);
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
					res.invalid++;
				else
					r = store_line(s, tenant, gateway, line, ll, &res, desk);
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
		r = overlong ? (res.invalid++, 0)
		             : store_line(s, tenant, gateway, line, ll, &res, desk);
	inflateEnd(&z);
	free(line);
	if (r == 0)
		r = om_store_flush(s);
	if (r == 0 && desk)
		con_desk_auto_open(s, tenant, desk, om_time_now(), NULL);
	free(desk);
	if (r == 0)
		*ret = res;
	return r;
}
