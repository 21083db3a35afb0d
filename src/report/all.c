/* all: every company's monthly report in one call, one file per tenant. */
#include "report/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
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

/* The shared state of one run: the next tenant to take, the counts and the
 * first error. Workers render PDFs in parallel; the store is read under
 * store_lock, one tenant at a time. */
struct run {
	om_store *s;
	const char *month, *dir;
	enum om_report_format format;
	enum om_lang lang;
	char (*tenants)[OM_STORE_TENANT_MAX + 1];
	size_t n, next, written, nodata;
	int first;
	char err[1024];
	pthread_mutex_t lock;       /* next, counts, first, err */
	pthread_mutex_t store_lock; /* the store connection */
};

static void run_result(struct run *u, int r, bool has, const char *e1)
{
	pthread_mutex_lock(&u->lock);
	if (r < 0) {
		if (!u->first) {
			u->first = r;
			snprintf(u->err, sizeof(u->err), "%s", e1);
		}
	} else {
		u->written++;
		u->nodata += !has;
	}
	pthread_mutex_unlock(&u->lock);
}

static void *run_worker(void *arg)
{
	static const char *const ext[] = {"txt", "json", "html", "pdf"};
	struct run *u = arg;
	char e1[1024], path[4096], name[160];
	enum om_lang l = (unsigned)u->lang < OM_LANG_COUNT ? u->lang : OM_LANG_JA;
	om_buf out;
	om_buf_init(&out, 256u * 1024 * 1024);
	om_lang_set_thread(l);
	for (;;) {
		pthread_mutex_lock(&u->lock);
		size_t i = u->next < u->n ? u->next++ : u->n;
		pthread_mutex_unlock(&u->lock);
		if (i >= u->n)
			break;
		om_report_opts o = {.tenant = u->tenants[i],
		                    .month = u->month,
		                    .format = u->format,
		                    .lang = u->lang};
		bool has = true;
		int r;
		e1[0] = 0;
		file_name(u->tenants[i], u->month, ext[u->format], name, sizeof(name));
		snprintf(path, sizeof(path), "%s/%s", u->dir, name);
		if (u->format == OM_REPORT_PDF) {
			/* one sync for the whole run, at the end */
			r = report_pdf_flags(u->s, &u->store_lock, &o, path, OM_DOC_NOSYNC, &has,
			                     e1, sizeof(e1));
		} else {
			om_buf_reset(&out);
			pthread_mutex_lock(&u->store_lock);
			r = om_report_build2(u->s, &o, &out, &has, e1, sizeof(e1));
			pthread_mutex_unlock(&u->store_lock);
			if (r == 0 && (r = write_file(path, &out)) < 0)
				snprintf(e1, sizeof(e1), om_msg(l, "report.error.outdir_make"),
				         path, strerror(-r));
		}
		run_result(u, r, has, e1);
	}
	om_buf_free(&out);
	return NULL;
}

/* Workers: one per online CPU (at most 8); the PDF rendering is what takes
 * the time, and it needs no store. Text, JSON and HTML run on one. */
static unsigned run_workers(enum om_report_format format, size_t n)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned w = format == OM_REPORT_PDF && cpus > 1 ? (unsigned)(cpus > 8 ? 8 : cpus) : 1;
	return n < w ? (n ? (unsigned)n : 1) : w;
}

int om_report_all(om_store *s, const char *month, const char *dir, enum om_report_format format,
                  enum om_lang lang, size_t *ret_written, size_t *ret_nodata, char *err,
                  size_t errlen)
{
	char e1[1024] = "";
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
	struct run *u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->tenants = calloc(OM_REPORT_TENANTS_MAX, sizeof(*u->tenants));
	if (!u->tenants) {
		free(u);
		return -ENOMEM;
	}
	int r = om_store_tenants(s, u->tenants, OM_REPORT_TENANTS_MAX, &u->n);
	if (r < 0 && r != -E2BIG) {
		free(u->tenants);
		free(u);
		set_err(err, errlen, om_msg(l, "report.error.store"));
		return r;
	}
	u->s = s;
	u->month = month;
	u->dir = dir;
	u->format = format;
	u->lang = lang;
	pthread_mutex_init(&u->lock, NULL);
	pthread_mutex_init(&u->store_lock, NULL);
	pthread_t th[8];
	unsigned nw = run_workers(format, u->n), started = 0;
	/* The report switches TZ to count in each tenant's zone (under a lock)
	 * while other workers render; with TZ already in the environment the
	 * switch only replaces its value (the environment array is never
	 * reallocated under a reader). ":/etc/localtime" is what an unset TZ
	 * means. */
	if (nw > 1 && !getenv("TZ"))
		setenv("TZ", ":/etc/localtime", 1);
	for (unsigned k = 1; k < nw; k++) {
		if (pthread_create(&th[started], NULL, run_worker, u) != 0)
			break; /* fewer workers: the others do the rest */
		started++;
	}
	run_worker(u);
	for (unsigned k = 0; k < started; k++)
		pthread_join(th[k], NULL);
	pthread_mutex_destroy(&u->lock);
	pthread_mutex_destroy(&u->store_lock);

	int first = u->first;
	if (first)
		set_err(err, errlen, u->err);
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
	if (!first && r == -E2BIG) {
		first = -E2BIG;
		set_err(err, errlen, om_msg(l, "report.error.too_many"));
	}
	if (ret_written)
		*ret_written = u->written;
	if (ret_nodata)
		*ret_nodata = u->nodata;
	free(u->tenants);
	free(u);
	return first;
}
