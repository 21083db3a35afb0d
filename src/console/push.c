/* console: the gateway's push client. Reads the local spool as consumer
 * "console-push", sends records in gzip batches to the console over HTTPS
 * (libcurl) and commits its spool position only when the console has
 * acknowledged the batch: when the console is down nothing is lost (the
 * records stay), and a batch resent after a lost answer has the same id
 * (a hash of its content) and is not counted twice. */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "console/internal.h"

#define PUSH_MAX_RECORDS 5000
#define PUSH_MAX_BYTES (4u * 1024 * 1024)

struct push {
	const char *url, *spool, *cred_file, *enrol, *cacert;
	bool once;
	char cred[80];
	CURL *curl;
};

static size_t collect(char *p, size_t sz, size_t n, void *user)
{
	om_buf *b = user;

	return om_buf_append(b, p, sz * n) < 0 ? 0 : sz * n;
}

/* POSTs body to url + path; the answer goes into resp. Returns the HTTP
 * status or -1 when the console could not be reached. */
static long post(struct push *p, const char *path, const char *const *headers, const void *body,
                 size_t len, om_buf *resp)
{
	char url[1024];
	struct curl_slist *h = NULL;
	long status = -1;

	snprintf(url, sizeof(url), "%s%s", p->url, path);
	for (size_t i = 0; headers && headers[i]; i++)
		h = curl_slist_append(h, headers[i]);
	curl_easy_reset(p->curl);
	curl_easy_setopt(p->curl, CURLOPT_URL, url);
	curl_easy_setopt(p->curl, CURLOPT_POST, 1L);
	curl_easy_setopt(p->curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(p->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(p->curl, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(p->curl, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(p->curl, CURLOPT_WRITEDATA, resp);
	curl_easy_setopt(p->curl, CURLOPT_TIMEOUT, 120L);
	curl_easy_setopt(p->curl, CURLOPT_PROTOCOLS_STR, "https,http");
	if (p->cacert)
		curl_easy_setopt(p->curl, CURLOPT_CAINFO, p->cacert);
	om_buf_reset(resp);
	if (curl_easy_perform(p->curl) == CURLE_OK)
		curl_easy_getinfo(p->curl, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(h);
	return status;
}

/* The value of "key":"..." in a flat JSON answer of ours. */
static int json_field(const char *json, const char *key, char *out, size_t n)
{
	char pat[64];
	const char *p, *e;

	snprintf(pat, sizeof(pat), "\"%s\":\"", key);
	p = strstr(json, pat);
	if (!p)
		return -ENOENT;
	p += strlen(pat);
	e = strchr(p, '"');
	if (!e || (size_t)(e - p) >= n)
		return -EINVAL;
	memcpy(out, p, (size_t)(e - p));
	out[e - p] = '\0';
	return 0;
}

static int load_credential(struct push *p)
{
	FILE *f = fopen(p->cred_file, "r");
	om_buf resp;

	if (f) {
		bool ok = fgets(p->cred, sizeof(p->cred), f) != NULL;
		fclose(f);
		p->cred[strcspn(p->cred, "\r\n")] = '\0';
		if (ok && p->cred[0])
			return 0;
	}
	if (!p->enrol) {
		om_err(om_tr("console.push.no_credential"), p->cred_file);
		return -1;
	}
	char body[256];
	char *esc = curl_easy_escape(p->curl, p->enrol, 0);
	snprintf(body, sizeof(body), "token=%s", esc ? esc : "");
	curl_free(esc);
	om_buf_init(&resp, 65536);
	long st = post(p, "/api/enrol", NULL, body, strlen(body), &resp);
	if (st != 200 ||
	    json_field(om_buf_cstr(&resp), "credential", p->cred, sizeof(p->cred)) < 0) {
		om_err(om_tr("console.push.enrol_failed"), st);
		om_buf_free(&resp);
		return -1;
	}
	om_buf_free(&resp);
	int fd = open(p->cred_file, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || dprintf(fd, "%s\n", p->cred) < 0 || fsync(fd) < 0) {
		om_err(om_tr("console.push.cred_write"), p->cred_file, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static int gzip_buf(const om_buf *in, om_buf *out)
{
	z_stream z;
	unsigned char chunk[65536];
	int zr;

	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -ENOMEM;
	z.next_in = (Bytef *)(uintptr_t)in->data;
	z.avail_in = (uInt)in->len;
	do {
		z.next_out = chunk;
		z.avail_out = sizeof(chunk);
		zr = deflate(&z, Z_FINISH);
		if (om_buf_append(out, chunk, sizeof(chunk) - z.avail_out) < 0) {
			deflateEnd(&z);
			return -E2BIG;
		}
	} while (zr == Z_OK);
	deflateEnd(&z);
	return zr == Z_STREAM_END ? 0 : -EIO;
}

/* Sends one batch until acknowledged (or once: one try). 0 acknowledged. */
static int send_batch(struct push *p, const om_buf *plain)
{
	om_buf gz, resp;
	char bid[40], auth[128], hb[96], ack[80];
	int r = -1;

	snprintf(bid, sizeof(bid), "%016" PRIx64 "%016" PRIx64,
	         om_hash64(plain->data, plain->len, 0x6f6d616d),
	         om_hash64(plain->data, plain->len, 7));
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", p->cred);
	snprintf(hb, sizeof(hb), "X-Batch-Id: %s", bid);
	const char *headers[] = {auth,
	                         hb,
	                         "Content-Type: application/x-ndjson",
	                         "Content-Encoding: gzip",
	                         "X-Gateway-Version: " OMAMORI_VERSION,
	                         NULL};
	om_buf_init(&gz, CON_INGEST_BODY_MAX);
	om_buf_init(&resp, 65536);
	if (gzip_buf(plain, &gz) < 0)
		goto out;
	for (unsigned attempt = 0;; attempt++) {
		long st = post(p, "/api/ingest", headers, gz.data, gz.len, &resp);
		if (st == 200 && json_field(om_buf_cstr(&resp), "ack", ack, sizeof(ack)) == 0 &&
		    !strcmp(ack, bid)) {
			r = 0;
			break;
		}
		if (st == 400 || st == 401) {
			om_err(om_tr("console.push.refused"), st);
			break;
		}
		om_warn(om_tr("console.push.retry"), st);
		if (p->once)
			break;
		unsigned wait = attempt < 6 ? 1u << attempt : 60u;
		sleep(wait);
	}
out:
	om_buf_free(&gz);
	om_buf_free(&resp);
	return r;
}

int con_push_main(int argc, char **argv)
{
	struct push p = {0};
	om_spool_reader *rd = NULL;
	char err[512];
	om_buf plain;
	int rc = 1;

	for (int i = 1; i < argc; i++) {
		const char **dst = NULL;
		if (!strcmp(argv[i], "--spool"))
			dst = &p.spool;
		else if (!strcmp(argv[i], "--credential"))
			dst = &p.cred_file;
		else if (!strcmp(argv[i], "--enrol"))
			dst = &p.enrol;
		else if (!strcmp(argv[i], "--cacert"))
			dst = &p.cacert;
		else if (!strcmp(argv[i], "--once")) {
			p.once = true;
			continue;
		} else if (argv[i][0] != '-' && !p.url) {
			p.url = argv[i];
			continue;
		} else {
			om_err(om_tr("console.err.option"), argv[i]);
			return 2;
		}
		if (i + 1 >= argc) {
			om_err(om_tr("console.err.needs_value"), argv[i]);
			return 2;
		}
		*dst = argv[++i];
	}
	if (!p.url || !p.spool || !p.cred_file) {
		fputs(om_tr("help.console"), stderr);
		return 2;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	p.curl = curl_easy_init();
	if (!p.curl || load_credential(&p) < 0)
		goto out;
	if (om_spool_reader_open(p.spool, "console-push", &rd, err, sizeof(err)) < 0) {
		om_err("%s", err);
		goto out;
	}
	om_buf_init(&plain, PUSH_MAX_BYTES + CON_LINE_MAX);
	for (;;) {
		const char *d;
		size_t n, recs = 0;
		int r;
		om_buf_reset(&plain);
		while (recs < PUSH_MAX_RECORDS && plain.len < PUSH_MAX_BYTES &&
		       (r = om_spool_read(rd, &d, &n)) == 1) {
			if (om_buf_append(&plain, d, n) < 0 || om_buf_putc(&plain, '\n') < 0)
				break;
			recs++;
		}
		if (recs == 0) {
			if (p.once) {
				rc = 0;
				break;
			}
			sleep(1);
			continue;
		}
		if (send_batch(&p, &plain) < 0)
			break;
		if (om_spool_commit(rd) < 0) {
			om_err(om_tr("console.push.commit"), p.spool);
			break;
		}
	}
	om_buf_free(&plain);
out:
	om_spool_reader_close(rd);
	if (p.curl)
		curl_easy_cleanup(p.curl);
	curl_global_cleanup();
	return rc;
}
