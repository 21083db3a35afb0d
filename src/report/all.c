/* all: every company's monthly report in one call, one file per tenant. */
#include "report/internal.h"

#include <fcntl.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void set_err(char *err, size_t errlen, const char *msg)
{
	if (err && errlen)
		snprintf(err, errlen, "%s", msg);
}

/* A file name of a tenant id: kept as it is when it is made of
 * [A-Za-z0-9._-] and does not start with '.', else those characters with
 * '_' for the others and a hash of the id, so that two ids never share a
 * file and no id can name a path outside dir. */
static void file_name(const char *tenant, const char *month, const char *ext, char *out, size_t n)
{
	char safe[80];
	size_t len = strlen(tenant), k = 0;
	bool clean = len > 0 && len < 64 && tenant[0] != '.';
	for (size_t i = 0; i < len && k < sizeof(safe) - 1; i++) {
		char ch = tenant[i];
		bool ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		          (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-';
		clean = clean && ok;
		if (k < 48) {
			safe[k] = ok && !(k == 0 && ch == '.') ? ch : '_';
			k++;
		}
	}
	safe[k] = 0;
	if (clean)
		snprintf(out, n, "%s-%s.%s", tenant, month, ext);
	else
		snprintf(out, n, "%s~%08" PRIx64 "-%s.%s", safe,
		         om_hash64(tenant, len, 0x6f6d616d6f7269ull) & 0xffffffffu, month, ext);
}

static int write_file(const char *path, const om_buf *b)
{
	char tmp[4200];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	if (!f)
		return -errno;
	size_t wr = b->len ? fwrite(b->data, 1, b->len, f) : 0;
	int e = wr != b->len ? -EIO : 0;
	if (fclose(f) != 0 && !e)
		e = -errno;
	if (!e && rename(tmp, path) != 0)
		e = -errno;
	if (e)
		unlink(tmp);
	return e;
}

int om_report_all(om_store *s, const char *month, const char *dir, enum om_report_format format,
                  enum om_lang lang, size_t *ret_written, size_t *ret_nodata, char *err,
                  size_t errlen)
{
	static const char *const ext[] = {"txt", "json", "html", "pdf"};
	char e1[1024] = "", path[4096], name[160];
	size_t n = 0, written = 0, nodata = 0;
	int first = 0;
	enum om_lang l = (unsigned)lang < OM_LANG_COUNT ? lang : OM_LANG_JA;

	om_i18n_init();
	om_report_opts chk = {.tenant = "all", .month = month, .format = format, .lang = lang};
	if (om_report_check(&chk, err, errlen) < 0)
		return -EINVAL;
	if (!s || !dir || !*dir || strlen(dir) > 3900) {
		set_err(err, errlen, om_msg(l, "report.error.outdir"));
		return -EINVAL;
	}
	if (mkdir(dir, 0750) < 0 && errno != EEXIST) {
		int e = errno;
		snprintf(e1, sizeof(e1), om_msg(l, "report.error.outdir_make"), dir, strerror(e));
		set_err(err, errlen, e1);
		return -e;
	}
	char(*tenants)[OM_STORE_TENANT_MAX + 1] = calloc(OM_REPORT_TENANTS_MAX, sizeof(*tenants));
	if (!tenants)
		return -ENOMEM;
	int r = om_store_tenants(s, tenants, OM_REPORT_TENANTS_MAX, &n);
	if (r < 0 && r != -E2BIG) {
		free(tenants);
		set_err(err, errlen, om_msg(l, "report.error.store"));
		return r;
	}
	if (r == -E2BIG)
		first = -E2BIG;
	om_buf out;
	om_buf_init(&out, 256u * 1024 * 1024);
	for (size_t i = 0; i < n; i++) {
		om_report_opts o = {
		    .tenant = tenants[i], .month = month, .format = format, .lang = lang};
		bool has = true;
		file_name(tenants[i], month, ext[format], name, sizeof(name));
		snprintf(path, sizeof(path), "%s/%s", dir, name);
		if (format == OM_REPORT_PDF) {
			/* one sync for the whole run, at the end */
			r = report_pdf_flags(s, &o, path, OM_DOC_NOSYNC, &has, e1, sizeof(e1));
		} else {
			om_buf_reset(&out);
			r = om_report_build2(s, &o, &out, &has, e1, sizeof(e1));
			if (r == 0 && (r = write_file(path, &out)) < 0) {
				snprintf(e1, sizeof(e1), om_msg(l, "report.error.outdir_make"),
				         path, strerror(-r));
			}
		}
		if (r < 0) {
			if (!first) {
				first = r;
				set_err(err, errlen, e1);
			}
			continue;
		}
		written++;
		nodata += !has;
	}
	om_buf_free(&out);
	free(tenants);
	int dfd = open(dir, O_RDONLY | O_DIRECTORY);
	if (dfd >= 0) {
		if (syncfs(dfd) != 0 && !first) {
			first = -errno;
			snprintf(e1, sizeof(e1), om_msg(l, "report.error.outdir_make"), dir,
			         strerror(-first));
			set_err(err, errlen, e1);
		}
		close(dfd);
	}
	if (first == -E2BIG)
		set_err(err, errlen, om_msg(l, "report.error.too_many"));
	if (ret_written)
		*ret_written = written;
	if (ret_nodata)
		*ret_nodata = nodata;
	return first;
}
