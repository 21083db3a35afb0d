/* av.c: the anti-virus engine. One libclamav engine (struct av_db), loaded
 * from the database directory and shared read-only by every thread that
 * scans; a reload builds a new one beside it and swaps the pointer, and the
 * old one is freed when its last scan returns (a reference count). The
 * settings are the av: section of the configuration. */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <clamav.h>

#include "guard/av_internal.h"

/* ---- settings --------------------------------------------------------------------- */

#define F(m) offsetof(om_av_config, m)
static const om_config_key av_keys[] = {
    {"av.enabled", OM_CK_BOOL, F(enabled), 0, 0, 0, "config.help.av.enabled", NULL, NULL},
    {"av.database-dir", OM_CK_STR, F(db_dir), OM_AV_PATH_MAX, 0, 0, "config.help.av.database-dir",
     NULL, NULL},
    {"av.yara-rules", OM_CK_STR, F(yara_rules), OM_AV_PATH_MAX, 0, 0, "config.help.av.yara-rules",
     NULL, NULL},
    {"av.max-file", OM_CK_U64, F(max_file), 0, 1024, 1ULL << 32, "config.help.av.max-file", NULL,
     NULL},
    {"av.max-scan", OM_CK_U64, F(max_scan), 0, 1024, 1ULL << 34, "config.help.av.max-scan", NULL,
     NULL},
    {"av.max-recursion", OM_CK_U32, F(max_recursion), 0, 1, 64, "config.help.av.max-recursion",
     NULL, NULL},
    {"av.max-files", OM_CK_U32, F(max_files), 0, 1, 1000000, "config.help.av.max-files", NULL,
     NULL},
    {"av.memory", OM_CK_U64, F(memory), 0, 1ULL << 20, 1ULL << 36, "config.help.av.memory", NULL,
     NULL},
    {"av.threads", OM_CK_U32, F(threads), 0, 1, OM_AV_THREADS_MAX, "config.help.av.threads", NULL,
     NULL},
    {"av.reload-interval", OM_CK_U32, F(reload_interval), 0, 0, 86400,
     "config.help.av.reload-interval", NULL, NULL},
};
#undef F

static void av_defaults(void *obj)
{
	om_av_config *c = obj;
	memset(c, 0, sizeof(*c));
	c->enabled = false;
	c->max_file = 25ULL << 20; /* ClamAV's own default MaxFileSize is 100 MiB; a
	                              file is held in memory here, so less */
	c->max_scan = 100ULL << 20;
	c->max_recursion = 17; /* ClamAV's defaults */
	c->max_files = 10000;
	c->memory = 256ULL << 20;
	c->threads = 2;
	c->reload_interval = 300;
}

static int av_check(om_config_ctx *c, const void *obj)
{
	const om_av_config *a = obj;
	if (a->max_file > a->memory)
		return om_config_fail(c, NULL, "av.max-file", om_tr("av.err.config_memory"));
	return 0;
}

const om_config_schema om_av_config_schema = {
    "av", av_keys, OM_ARRAY_SIZE(av_keys), sizeof(om_av_config), av_defaults, av_check,
};

/* ---- skip reasons ---------------------------------------------------------------- */

static const char *const skip_names[] = {"max-file",  "max-scan",  "max-recursion", "max-files",
                                         "encrypted", "truncated", "gap",           "memory",
                                         "scan-time", "error"};

void om_av_skip_names(uint32_t skip, char *out, size_t outsz)
{
	size_t n = 0;
	if (outsz)
		out[0] = '\0';
	for (unsigned i = 0; i < OM_ARRAY_SIZE(skip_names); i++) {
		if (!(skip & (1u << i)) || n >= outsz)
			continue;
		int k = snprintf(out + n, outsz - n, "%s%s", n ? "," : "", skip_names[i]);
		if (k < 0)
			break;
		n += (size_t)k;
	}
}

/* ---- the engine ------------------------------------------------------------------- */

struct av_db {
	struct cl_engine *cl;
	unsigned sigs;
	char version[64];
	atomic_uint refs; /* the current pointer holds one; each scan one */
};

struct om_av {
	om_av_config cfg;
	char dir[OM_AV_PATH_MAX];
	pthread_mutex_t lock; /* db, st */
	struct av_db *db;
	struct cl_stat st;
	bool st_ok;
	av_yara *yara;
	/* the reload thread */
	pthread_t reloader;
	bool reloading;
	pthread_mutex_t stop_lock;
	pthread_cond_t stop_cond;
	bool stop;
	/* av.memory */
	atomic_uint_fast64_t mem_used;
	/* counters */
	atomic_uint_fast64_t files, scanned, infected, skipped, bytes, reloads, reload_errors,
	    memory_refused, queue_full, late;
	struct av_sub *sub;
};

static pthread_once_t cl_once = PTHREAD_ONCE_INIT;
static cl_error_t cl_init_rc = CL_SUCCESS;
/* libclamav's own messages: its errors (they name the database file that
 * does not parse) as warnings under ours, the rest only when debugging */
static void on_cl_msg(enum cl_msg sev, const char *full, const char *msg, void *ctx)
{
	(void)full, (void)ctx;
	size_t n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		n--;
	om_log(sev == CL_MSG_ERROR ? OM_LOG_WARN : OM_LOG_DEBUG, "libclamav: %.*s", (int)n, msg);
}

static void cl_init_once(void)
{
	cl_set_clcb_msg(on_cl_msg);
	cl_init_rc = cl_init(CL_INIT_DEFAULT);
}

static char version_text[40];
static pthread_once_t version_once = PTHREAD_ONCE_INIT;
static void version_fill(void)
{
	snprintf(version_text, sizeof(version_text), "ClamAV %s", cl_retver());
}

const char *om_av_engine_version(void)
{
	pthread_once(&version_once, version_fill);
	return version_text;
}

static void db_unref(struct av_db *d)
{
	if (d && atomic_fetch_sub(&d->refs, 1) == 1) {
		cl_engine_free(d->cl);
		free(d);
	}
}

static struct av_db *db_get(om_av *av)
{
	pthread_mutex_lock(&av->lock);
	struct av_db *d = av->db;
	atomic_fetch_add(&d->refs, 1);
	pthread_mutex_unlock(&av->lock);
	return d;
}

/* "daily.cvd 27400, main.cvd 62" from the signed databases' headers */
static void cvd_versions(const char *dir, char *out, size_t outsz)
{
	static const char *const names[] = {"daily.cvd", "daily.cld",    "main.cvd",
	                                    "main.cld",  "bytecode.cvd", "bytecode.cld"};
	size_t n = 0;
	out[0] = '\0';
	for (unsigned i = 0; i < OM_ARRAY_SIZE(names); i++) {
		char p[OM_AV_PATH_MAX + 32];
		snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
		struct stat st;
		if (stat(p, &st) < 0)
			continue;
		struct cl_cvd *h = cl_cvdhead(p);
		if (!h)
			continue;
		int k =
		    snprintf(out + n, outsz - n, "%s%s %u", n ? ", " : "", names[i], h->version);
		cl_cvdfree(h);
		if (k < 0 || (size_t)k >= outsz - n)
			break;
		n += (size_t)k;
	}
	if (!n)
		snprintf(out, outsz, "local");
}

static const char *cl_why(cl_error_t e)
{
	return cl_strerror(e);
}

static int db_load(om_av *av, struct av_db **ret, char *err, size_t errlen)
{
	struct av_db *d = calloc(1, sizeof(*d));
	if (!d || !(d->cl = cl_engine_new())) {
		free(d);
		snprintf(err, errlen, "%s", om_tr("err.nomem"));
		return -ENOMEM;
	}
	atomic_init(&d->refs, 1);
	struct cl_engine *e = d->cl;
	const om_av_config *c = &av->cfg;
	cl_engine_set_num(e, CL_ENGINE_MAX_FILESIZE, (long long)c->max_file);
	cl_engine_set_num(e, CL_ENGINE_MAX_SCANSIZE, (long long)c->max_scan);
	cl_engine_set_num(e, CL_ENGINE_MAX_RECURSION, c->max_recursion);
	cl_engine_set_num(e, CL_ENGINE_MAX_FILES, c->max_files);
	/* the scanner's temporary files (archives it unpacks) stay with it */
	cl_error_t r = cl_load(av->dir, e, &d->sigs, CL_DB_STDOPT);
	if (r == CL_EOPEN) { /* no database file at all */
		snprintf(err, errlen, om_tr("av.err.db_empty"), av->dir);
		cl_engine_free(e);
		free(d);
		return -ENOENT;
	}
	if (r != CL_SUCCESS) {
		snprintf(err, errlen, om_tr("av.err.db_load"), av->dir, cl_why(r));
		cl_engine_free(e);
		free(d);
		return r == CL_EMEM ? -ENOMEM : -EINVAL;
	}
	if (!d->sigs) {
		snprintf(err, errlen, om_tr("av.err.db_empty"), av->dir);
		cl_engine_free(e);
		free(d);
		return -ENOENT;
	}
	r = cl_engine_compile(e);
	if (r != CL_SUCCESS) {
		snprintf(err, errlen, om_tr("av.err.db_load"), av->dir, cl_why(r));
		cl_engine_free(e);
		free(d);
		return r == CL_EMEM ? -ENOMEM : -EINVAL;
	}
	cvd_versions(av->dir, d->version, sizeof(d->version));
	*ret = d;
	return 0;
}

static void *reload_main(void *arg)
{
	om_av *av = arg;
	pthread_mutex_lock(&av->stop_lock);
	while (!av->stop) {
		struct timespec t;
		clock_gettime(CLOCK_REALTIME, &t);
		t.tv_sec += av->cfg.reload_interval;
		pthread_cond_timedwait(&av->stop_cond, &av->stop_lock, &t);
		if (av->stop)
			break;
		pthread_mutex_unlock(&av->stop_lock);
		char err[512];
		if (om_av_reload_check(av, err, sizeof(err)) < 0)
			fprintf(stderr, "omamori: %s\n", err);
		pthread_mutex_lock(&av->stop_lock);
	}
	pthread_mutex_unlock(&av->stop_lock);
	return NULL;
}

int om_av_open(const om_av_config *cfg, om_av **ret, char *err, size_t errlen)
{
	pthread_once(&cl_once, cl_init_once);
	if (cl_init_rc != CL_SUCCESS) {
		snprintf(err, errlen, om_tr("av.err.init"), cl_why(cl_init_rc));
		return -EIO;
	}
	om_av *av = calloc(1, sizeof(*av));
	if (!av) {
		snprintf(err, errlen, "%s", om_tr("err.nomem"));
		return -ENOMEM;
	}
	av->cfg = *cfg;
	snprintf(av->dir, sizeof(av->dir), "%s", cfg->db_dir[0] ? cfg->db_dir : cl_retdbdir());
	pthread_mutex_init(&av->lock, NULL);
	pthread_mutex_init(&av->stop_lock, NULL);
	pthread_cond_init(&av->stop_cond, NULL);
	struct stat st;
	int r;
	if (stat(av->dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, om_tr("av.err.db_dir"), av->dir);
		r = -ENOENT;
		goto fail;
	}
	/* the directory's state before loading: a change during the load is
	 * seen by the next check */
	av->st_ok = cl_statinidir(av->dir, &av->st) == CL_SUCCESS;
	if ((r = db_load(av, &av->db, err, errlen)) < 0)
		goto fail;
	if (cfg->yara_rules[0] && (r = av_yara_open(cfg->yara_rules, &av->yara, err, errlen)) < 0)
		goto fail;
	if (cfg->reload_interval) {
		if (pthread_create(&av->reloader, NULL, reload_main, av) != 0) {
			snprintf(err, errlen, "%s", om_tr("err.nomem"));
			r = -ENOMEM;
			goto fail;
		}
		av->reloading = true;
	}
	*ret = av;
	return 0;
fail:
	om_av_close(av);
	return r;
}

om_av *om_av_close(om_av *av)
{
	if (!av)
		return NULL;
	if (av->sub)
		av_sub_free(av->sub);
	if (av->reloading) {
		pthread_mutex_lock(&av->stop_lock);
		av->stop = true;
		pthread_cond_signal(&av->stop_cond);
		pthread_mutex_unlock(&av->stop_lock);
		pthread_join(av->reloader, NULL);
	}
	db_unref(av->db);
	if (av->st_ok)
		cl_statfree(&av->st);
	av_yara_close(av->yara);
	pthread_mutex_destroy(&av->lock);
	pthread_mutex_destroy(&av->stop_lock);
	pthread_cond_destroy(&av->stop_cond);
	free(av);
	return NULL;
}

int om_av_reload_check(om_av *av, char *err, size_t errlen)
{
	/* one check at a time: the statistics of the directory are av's */
	static pthread_mutex_t one = PTHREAD_MUTEX_INITIALIZER;
	pthread_mutex_lock(&one);
	int r = 0;
	if (av->st_ok && cl_statchkdir(&av->st) == 0)
		goto out; /* unchanged */
	struct cl_stat st;
	bool st_ok = cl_statinidir(av->dir, &st) == CL_SUCCESS;
	struct av_db *d;
	if ((r = db_load(av, &d, err, errlen)) < 0) {
		atomic_fetch_add(&av->reload_errors, 1);
		/* the same broken state is not loaded again and again: wait
		 * for the next change */
		if (st_ok) {
			if (av->st_ok)
				cl_statfree(&av->st);
			av->st = st;
			av->st_ok = true;
		}
		goto out;
	}
	pthread_mutex_lock(&av->lock);
	struct av_db *old = av->db;
	av->db = d;
	if (av->st_ok)
		cl_statfree(&av->st);
	av->st_ok = st_ok;
	if (st_ok)
		av->st = st;
	pthread_mutex_unlock(&av->lock);
	db_unref(old); /* freed by the last scan that still uses it */
	atomic_fetch_add(&av->reloads, 1);
	r = 1;
out:
	pthread_mutex_unlock(&one);
	return r;
}

void om_av_db_version(om_av *av, char *out, size_t outsz, unsigned *ret_sigs)
{
	struct av_db *d = db_get(av);
	snprintf(out, outsz, "%s", d->version);
	if (ret_sigs)
		*ret_sigs = d->sigs;
	db_unref(d);
}

/* ---- scanning --------------------------------------------------------------------- */

struct scan_ctx {
	om_av_result *r;
	bool found;
};

static uint32_t heuristic_skip(const char *name)
{
	static const struct {
		const char *prefix;
		uint32_t bit;
	} map[] = {
	    {"Heuristics.Limits.Exceeded.MaxFileSize", OM_AV_SKIP_MAX_FILE},
	    {"Heuristics.Limits.Exceeded.MaxScanSize", OM_AV_SKIP_MAX_SCAN},
	    {"Heuristics.Limits.Exceeded.MaxRecursion", OM_AV_SKIP_RECURSION},
	    {"Heuristics.Limits.Exceeded.MaxFiles", OM_AV_SKIP_FILES},
	    {"Heuristics.Limits.Exceeded.MaxScanTime", OM_AV_SKIP_TIME},
	    {"Heuristics.Limits.Exceeded", OM_AV_SKIP_MAX_SCAN},
	    {"Heuristics.Encrypted", OM_AV_SKIP_ENCRYPTED},
	};
	for (unsigned i = 0; i < OM_ARRAY_SIZE(map); i++)
		if (!strncmp(name, map[i].prefix, strlen(map[i].prefix)))
			return map[i].bit;
	return 0;
}

int om_av_scan_buffer(om_av *av, const void *buf, size_t len, const char *name, om_av_result *ret)
{
	om_av_result r;
	memset(&r, 0, sizeof(r));
	/* ClamAV does not look at a file past its MaxFileSize */
	if (len > av->cfg.max_file)
		r.skip |= OM_AV_SKIP_MAX_FILE;
	struct av_db *d = db_get(av);
	snprintf(r.db_version, sizeof(r.db_version), "%s", d->version);
	cl_fmap_t *map = cl_fmap_open_memory(len ? buf : "", len);
	if (!map) {
		db_unref(d);
		return -ENOMEM;
	}
	struct cl_scan_options opt = {
	    .general = CL_SCAN_GENERAL_HEURISTICS,
	    .parse = ~0u,
	    /* the limits and encryption are reported (as "not scanned"), not
	     * counted as malware; ClamAV gives them after any real signature */
	    .heuristic = CL_SCAN_HEURISTIC_EXCEEDS_MAX | CL_SCAN_HEURISTIC_ENCRYPTED_ARCHIVE |
	                 CL_SCAN_HEURISTIC_ENCRYPTED_DOC,
	};
	const char *virname = NULL;
	unsigned long scanned = 0;
	cl_error_t e = cl_scanmap_callback(map, name, &virname, &scanned, d->cl, &opt, NULL);
	cl_fmap_close(map);
	int rc = 0;
	if (e == CL_VIRUS && virname) {
		uint32_t bit = heuristic_skip(virname);
		if (bit) {
			r.skip |= bit;
		} else {
			r.status = OM_AV_INFECTED;
			snprintf(r.engine, sizeof(r.engine), "clamav");
			snprintf(r.signature, sizeof(r.signature), "%s", virname);
		}
	} else if (e != CL_CLEAN && e != CL_VIRUS) {
		/* a file ClamAV cannot take apart is reported, not fatal */
		r.skip |= e == CL_ETIMEOUT ? OM_AV_SKIP_TIME : OM_AV_SKIP_ERROR;
		if (e == CL_EMEM)
			rc = -ENOMEM;
	}
	db_unref(d);
	/* libyara refuses more than its YR_MAX_THREADS scans at once: said
	 * as a scanner error, the ClamAV verdict stands */
	if (av->yara && av_yara_scan(av->yara, buf, len, r.yara_rule, sizeof(r.yara_rule)) < 0)
		r.skip |= OM_AV_SKIP_ERROR;
	if (r.yara_rule[0] && r.status == OM_AV_CLEAN) {
		r.status = OM_AV_INFECTED;
		snprintf(r.engine, sizeof(r.engine), "yara");
		snprintf(r.signature, sizeof(r.signature), "%s", r.yara_rule);
	}
	if (rc < 0)
		return rc;
	r.scanned = len;
	atomic_fetch_add(&av->scanned, 1);
	atomic_fetch_add(&av->bytes, len);
	*ret = r;
	return 0;
}

/* ---- for the subscriber ------------------------------------------------------------ */

bool av_mem_take(om_av *av, uint64_t n)
{
	uint_fast64_t cur = atomic_load(&av->mem_used);
	do {
		if (cur + n > av->cfg.memory)
			return false;
	} while (!atomic_compare_exchange_weak(&av->mem_used, &cur, cur + n));
	return true;
}

void av_mem_give(om_av *av, uint64_t n)
{
	atomic_fetch_sub(&av->mem_used, n);
}

const om_av_config *av_config(const om_av *av)
{
	return &av->cfg;
}

struct av_sub **av_sub_slot(om_av *av)
{
	return &av->sub;
}

void av_count_file(om_av *av, const om_av_result *r)
{
	atomic_fetch_add(&av->files, 1);
	if (r->status == OM_AV_INFECTED)
		atomic_fetch_add(&av->infected, 1);
	if (r->skip)
		atomic_fetch_add(&av->skipped, 1);
}

void av_count(om_av *av, int what)
{
	if (what == AV_C_MEMORY)
		atomic_fetch_add(&av->memory_refused, 1);
	else if (what == AV_C_QUEUE_FULL)
		atomic_fetch_add(&av->queue_full, 1);
	else
		atomic_fetch_add(&av->late, 1);
}

void om_av_stats_get(om_av *av, om_av_stats *ret)
{
	ret->files = atomic_load(&av->files);
	ret->scanned = atomic_load(&av->scanned);
	ret->infected = atomic_load(&av->infected);
	ret->skipped = atomic_load(&av->skipped);
	ret->bytes = atomic_load(&av->bytes);
	ret->reloads = atomic_load(&av->reloads);
	ret->reload_errors = atomic_load(&av->reload_errors);
	ret->memory_refused = atomic_load(&av->memory_refused);
	ret->queue_full = atomic_load(&av->queue_full);
	ret->late = atomic_load(&av->late);
}
