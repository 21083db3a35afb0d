/* intel_cli.c: 'omamori intel import|lookup|stats|expire|update [--db FILE]'.
 * An import or update reads the database it finds, adds to it and replaces
 * the file atomically, so a running gateway swaps to the new mapping at its
 * next reload check and a reader never sees half a file. `update` fetches
 * the configured feeds that are due (HTTP(S) with libcurl, or a local
 * directory) and replaces each feed's own indicators with what it gave.
 * Exit status 0 ok, 1 failure, 2 usage. */
#include "guard/guard.h"

#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define ARGS_MAX 256
#define FETCH_MAX (256u * 1024 * 1024) /* one feed download at most */
#define DIR_FILES_MAX 1024

static void say(enum om_lang lang, const char *key, ...)
{
	va_list ap;
	char line[2048];
	va_start(ap, key);
	vsnprintf(line, sizeof(line), om_msg(lang, key), ap);
	va_end(ap);
	fprintf(stderr, "omamori: %s\n", line);
}

static void out(enum om_lang lang, const char *key, ...)
{
	va_list ap;
	char line[4096];
	va_start(ap, key);
	vsnprintf(line, sizeof(line), om_msg(lang, key), ap);
	va_end(ap);
	printf("%s\n", line);
}

struct opts {
	const char *db;
	enum om_intel_format fmt;
	om_intel_import_opts imp;
	int64_t now; /* 0: the clock */
	bool force;
};

static int64_t now_of(const struct opts *o)
{
	return o->now ? o->now : (int64_t)time(NULL);
}

static void time_text(int64_t t, char *buf, size_t n)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (!t || !gmtime_r(&tt, &tm) || !strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, n, "-");
}

/* The problems an import remembered, as "FILE:LINE: reason". */
static void say_problems(enum om_lang lang, const char *path, const om_intel_import_stats *st)
{
	for (unsigned i = 0; i < st->nproblems; i++)
		say(lang, st->problem[i].object ? "intel.err.object" : "intel.err.line", path,
		    (unsigned long long)st->problem[i].line, om_msg(lang, st->problem[i].why));
	if (st->rejected > st->nproblems)
		say(lang, "intel.err.more", (unsigned long long)(st->rejected - st->nproblems));
}

/* A builder with the database's indicators (none when it does not exist). */
static int load(enum om_lang lang, const char *db, int64_t now, const char *const *skip,
                unsigned nskip, om_intel_builder **ret)
{
	om_intel_builder *b;
	if (om_intel_builder_new(&b) < 0) {
		say(lang, "intel.err.memory");
		return -ENOMEM;
	}
	om_intel_db *old = NULL;
	int e = om_intel_db_open(db, &old);
	if (e == 0) {
		e = om_intel_builder_merge_except(b, old, now, skip, nskip);
		om_intel_db_close(old);
	} else if (e == -ENOENT) {
		e = 0;
	}
	if (e < 0) {
		say(lang, e == -EINVAL ? "intel.err.db_bad" : "intel.err.db_open", db,
		    strerror(-e));
		om_intel_builder_free(b);
		return e;
	}
	*ret = b;
	return 0;
}

static int save(enum om_lang lang, const om_intel_builder *b, const char *db)
{
	int e = om_intel_builder_write(b, db);
	if (e < 0) {
		say(lang, "intel.err.write", db, strerror(-e));
		return e;
	}
	out(lang, "intel.msg.saved", db, (unsigned long long)om_intel_builder_count(b));
	return 0;
}

static int import_one(enum om_lang lang, om_intel_builder *b, const char *path,
                      enum om_intel_format fmt, const om_intel_import_opts *imp)
{
	om_intel_import_stats st;
	memset(&st, 0, sizeof(st));
	int e = om_intel_import_path(b, path, fmt, imp, &st);
	say_problems(lang, path, &st);
	if (e < 0) {
		if (e == -EINVAL)
			say(lang, "intel.err.unreadable", path, om_intel_format_name(st.format));
		else
			say(lang, "intel.err.import", path, strerror(-e));
		return e;
	}
	out(lang, "intel.msg.imported", path, om_intel_format_name(st.format),
	    (unsigned long long)st.lines, (unsigned long long)st.added,
	    (unsigned long long)st.updated, (unsigned long long)st.rejected);
	return 0;
}

static int do_import(enum om_lang lang, const struct opts *o, const char **paths, int n)
{
	om_intel_builder *b;
	if (load(lang, o->db, 0, NULL, 0, &b) < 0)
		return 1;
	int rc = 0;
	for (int i = 0; i < n && !rc; i++)
		if (import_one(lang, b, paths[i], o->fmt, &o->imp) < 0)
			rc = 1;
	if (!rc && save(lang, b, o->db) < 0)
		rc = 1;
	om_intel_builder_free(b);
	return rc;
}

static int open_db(enum om_lang lang, const char *path, om_intel_db **ret)
{
	int e = om_intel_db_open(path, ret);
	if (e < 0) {
		say(lang, e == -EINVAL ? "intel.err.db_bad" : "intel.err.db_open", path,
		    strerror(-e));
		return -1;
	}
	return 0;
}

static int do_lookup(enum om_lang lang, const struct opts *o, const char **vals, int n)
{
	om_intel_db *db;
	if (open_db(lang, o->db, &db) < 0)
		return 1;
	int rc = 0;
	for (int i = 0; i < n; i++) {
		om_intel_hit h;
		int e =
		    om_intel_db_lookup(db, o->imp.type, vals[i], strlen(vals[i]), now_of(o), &h);
		if (e == -EINVAL) {
			out(lang, "intel.msg.bad_value", vals[i]);
			rc = 1;
		} else if (e < 0) {
			out(lang, "intel.msg.nomatch", vals[i]);
		} else {
			char txt[OM_INTEL_VALUE_MAX * 2 + 8], exp[32];
			om_intel_hit_text(&h, txt, sizeof(txt));
			time_text(h.expires, exp, sizeof(exp));
			out(lang, "intel.msg.match", vals[i], om_intel_type_name(h.type), txt,
			    h.source, (unsigned)h.confidence, om_intel_threat_name(h.threat), exp);
		}
	}
	om_intel_db_close(db);
	return rc;
}

static int do_stats(enum om_lang lang, const struct opts *o)
{
	om_intel_db *db;
	if (open_db(lang, o->db, &db) < 0)
		return 1;
	om_intel_db_stats *st = malloc(sizeof(*st));
	if (!st) {
		om_intel_db_close(db);
		say(lang, "intel.err.memory");
		return 1;
	}
	om_intel_db_stats_get(db, now_of(o), st);
	char built[32];
	time_text(st->built, built, sizeof(built));
	out(lang, "intel.msg.stats", o->db, (unsigned long long)st->total, (unsigned)st->sources,
	    built, (unsigned long long)st->file_bytes, (unsigned long long)st->expired);
	for (int t = 1; t < OM_INTEL_TYPES; t++)
		printf("  %-12s %llu\n", om_intel_type_name((enum om_intel_type)t),
		       (unsigned long long)st->by_type[t]);
	for (uint32_t i = 0; i < st->sources; i++)
		printf("  [%s] %llu\n", om_intel_db_source(db, i) ? om_intel_db_source(db, i) : "?",
		       (unsigned long long)st->by_source[i]);
	free(st);
	om_intel_db_close(db);
	return 0;
}

static int do_expire(enum om_lang lang, const struct opts *o)
{
	om_intel_db *db;
	if (open_db(lang, o->db, &db) < 0)
		return 1;
	om_intel_db_stats st;
	om_intel_db_stats_get(db, now_of(o), &st);
	om_intel_db_close(db);
	om_intel_builder *b;
	if (load(lang, o->db, now_of(o), NULL, 0, &b) < 0)
		return 1;
	int rc = save(lang, b, o->db) < 0 ? 1 : 0;
	if (!rc)
		out(lang, "intel.msg.expired", (unsigned long long)st.expired);
	om_intel_builder_free(b);
	return rc;
}

/* ---- update: the configured feeds ----------------------------------------- */

struct fetch {
	char *buf;
	size_t len, cap;
	bool toobig;
};

static size_t fetch_write(char *p, size_t size, size_t n, void *user)
{
	struct fetch *f = user;
	size_t add = size * n;
	if (f->len + add > FETCH_MAX) {
		f->toobig = true;
		return 0;
	}
	if (f->len + add + 1 > f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 65536;
		while (cap < f->len + add + 1)
			cap *= 2;
		char *nb = realloc(f->buf, cap);
		if (!nb)
			return 0;
		f->buf = nb;
		f->cap = cap;
	}
	memcpy(f->buf + f->len, p, add);
	f->len += add;
	return add;
}

/* Downloads url; -EIO with the reason in why. */
static int fetch_url(const char *url, struct fetch *f, char *why, size_t whylen)
{
	CURL *c = curl_easy_init();
	if (!c)
		return -ENOMEM;
	char errbuf[CURL_ERROR_SIZE] = "";
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 600L);
	curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "omamori-intel");
	curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, fetch_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, f);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	CURLcode r = curl_easy_perform(c);
	curl_easy_cleanup(c);
	if (r != CURLE_OK) {
		snprintf(why, whylen, "%s",
		         f->toobig   ? "too big"
		         : errbuf[0] ? errbuf
		                     : curl_easy_strerror(r));
		return -EIO;
	}
	return 0;
}

/* The time of each feed's last successful update: "<db>.feeds", lines of
 * "<name> <unix seconds>". */
struct feed_state {
	char name[OM_INTEL_FEEDS_MAX][48];
	int64_t last[OM_INTEL_FEEDS_MAX];
	unsigned n;
};

static void state_load(const char *path, struct feed_state *s)
{
	memset(s, 0, sizeof(*s));
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	char line[128];
	while (s->n < OM_INTEL_FEEDS_MAX && fgets(line, sizeof(line), f)) {
		char *sp = strchr(line, ' ');
		if (!sp || (size_t)(sp - line) >= sizeof(s->name[0]))
			continue;
		*sp = '\0';
		uint64_t v;
		char *nl = strchr(sp + 1, '\n');
		if (nl)
			*nl = '\0';
		if (om_parse_u64(sp + 1, 0, INT64_MAX, &v) < 0)
			continue;
		memcpy(s->name[s->n], line, (size_t)(sp - line) + 1);
		s->last[s->n++] = (int64_t)v;
	}
	fclose(f);
}

static int64_t state_get(const struct feed_state *s, const char *name)
{
	for (unsigned i = 0; i < s->n; i++)
		if (!strcmp(s->name[i], name))
			return s->last[i];
	return 0;
}

static void state_set(struct feed_state *s, const char *name, int64_t t)
{
	for (unsigned i = 0; i < s->n; i++)
		if (!strcmp(s->name[i], name)) {
			s->last[i] = t;
			return;
		}
	if (s->n < OM_INTEL_FEEDS_MAX) {
		snprintf(s->name[s->n], sizeof(s->name[0]), "%s", name);
		s->last[s->n++] = t;
	}
}

static int state_save(const char *path, const struct feed_state *s)
{
	char tmp[4300];
	snprintf(tmp, sizeof(tmp), "%.4200s.tmp", path);
	FILE *f = fopen(tmp, "w");
	if (!f)
		return -errno;
	for (unsigned i = 0; i < s->n; i++)
		fprintf(f, "%s %lld\n", s->name[i], (long long)s->last[i]);
	int e = fclose(f) == 0 ? 0 : -errno;
	if (!e && rename(tmp, path) != 0)
		e = -errno;
	return e;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every regular file of dir (sorted, dot files left out) into b. */
static int import_dir(enum om_lang lang, om_intel_builder *b, const om_intel_feed *fd,
                      const om_intel_import_opts *imp)
{
	DIR *d = opendir(fd->dir);
	if (!d) {
		int e = -errno;
		say(lang, "intel.err.feed_dir", fd->name, fd->dir, strerror(-e));
		return e;
	}
	char *names[DIR_FILES_MAX] = {NULL};
	unsigned n = 0;
	struct dirent *de;
	while ((de = readdir(d)) && n < DIR_FILES_MAX)
		if (de->d_name[0] != '.' && (names[n] = strdup(de->d_name)) != NULL)
			n++;
	closedir(d);
	qsort(names, n, sizeof(names[0]), cmp_str);
	int rc = 0;
	for (unsigned i = 0; i < n; i++) {
		char path[4096];
		struct stat st;
		snprintf(path, sizeof(path), "%s/%s", fd->dir, names[i]);
		if (!rc && stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
		    import_one(lang, b, path, (enum om_intel_format)fd->format, imp) < 0)
			rc = -EINVAL;
		free(names[i]);
	}
	return rc;
}

static int import_url(enum om_lang lang, om_intel_builder *b, const om_intel_feed *fd,
                      const om_intel_import_opts *imp)
{
	struct fetch f = {0};
	char why[CURL_ERROR_SIZE + 16] = "";
	int e = fetch_url(fd->url, &f, why, sizeof(why));
	if (e < 0) {
		say(lang, "intel.err.fetch", fd->name, fd->url, why);
		free(f.buf);
		return e;
	}
	om_intel_import_stats st;
	memset(&st, 0, sizeof(st));
	e = om_intel_import_buf(b, (enum om_intel_format)fd->format, f.buf ? f.buf : "", f.len, imp,
	                        &st);
	say_problems(lang, fd->url, &st);
	free(f.buf);
	if (e < 0) {
		say(lang, "intel.err.unreadable", fd->url, om_intel_format_name(st.format));
		return e;
	}
	out(lang, "intel.msg.imported", fd->url, om_intel_format_name(st.format),
	    (unsigned long long)st.lines, (unsigned long long)st.added,
	    (unsigned long long)st.updated, (unsigned long long)st.rejected);
	return 0;
}

static int do_update(enum om_lang lang, const struct opts *o, const om_guard_config *cfg)
{
	if (!cfg || !cfg->intel_nfeeds) {
		say(lang, "intel.err.no_feeds");
		return 1;
	}
	char spath[4200];
	snprintf(spath, sizeof(spath), "%s.feeds", o->db);
	struct feed_state fs;
	state_load(spath, &fs);
	int64_t now = now_of(o);
	const char *due[OM_INTEL_FEEDS_MAX];
	unsigned ndue = 0;
	for (unsigned i = 0; i < cfg->intel_nfeeds; i++) {
		const om_intel_feed *fd = &cfg->intel_feeds[i];
		int64_t last = state_get(&fs, fd->name);
		if (!o->force && last && now < last + (int64_t)fd->interval) {
			out(lang, "intel.msg.not_due", fd->name,
			    (long long)(last + (int64_t)fd->interval - now));
			continue;
		}
		due[ndue++] = fd->name;
	}
	if (!ndue)
		return 0;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	/* fetch each due feed into a builder of its own: one that fails
	 * keeps its indicators from the last update */
	const char *done[OM_INTEL_FEEDS_MAX];
	om_intel_builder *got[OM_INTEL_FEEDS_MAX] = {0};
	unsigned ndone = 0, failed = 0;
	for (unsigned i = 0; i < cfg->intel_nfeeds; i++) {
		const om_intel_feed *fd = &cfg->intel_feeds[i];
		bool isdue = false;
		for (unsigned k = 0; k < ndue; k++)
			isdue |= due[k] == fd->name;
		if (!isdue)
			continue;
		om_intel_import_opts imp = {.source = fd->name,
		                            .confidence = (uint8_t)fd->confidence,
		                            .expires = fd->ttl ? now + (int64_t)fd->ttl : 0};
		om_intel_builder *fb;
		if (om_intel_builder_new(&fb) < 0) {
			say(lang, "intel.err.memory");
			failed++;
			continue;
		}
		int e =
		    fd->url[0] ? import_url(lang, fb, fd, &imp) : import_dir(lang, fb, fd, &imp);
		if (e < 0) {
			om_intel_builder_free(fb);
			failed++;
			continue;
		}
		got[ndone] = fb;
		done[ndone++] = fd->name;
	}
	curl_global_cleanup();
	int rc = failed ? 1 : 0;
	om_intel_builder *b = NULL;
	if (ndone && load(lang, o->db, now, done, ndone, &b) == 0) {
		/* the fresh feeds over what is kept */
		for (unsigned i = 0; i < ndone && b; i++) {
			int e = om_intel_builder_absorb(b, got[i]);
			if (e < 0) {
				say(lang, "intel.err.write", o->db, strerror(-e));
				b = om_intel_builder_free(b);
			}
		}
		if (b && save(lang, b, o->db) == 0) {
			for (unsigned i = 0; i < ndone; i++)
				state_set(&fs, done[i], now);
			if (state_save(spath, &fs) < 0)
				say(lang, "intel.err.write", spath, strerror(errno));
		} else {
			rc = 1;
		}
		om_intel_builder_free(b);
	} else if (ndone) {
		rc = 1;
	}
	for (unsigned i = 0; i < ndone; i++)
		om_intel_builder_free(got[i]);
	return rc;
}

/* ---- arguments ------------------------------------------------------------- */

static int parse_opt(enum om_lang lang, const char *a, const char *v, struct opts *o)
{
	uint64_t n;
	if (!strcmp(a, "--db")) {
		o->db = v;
	} else if (!strcmp(a, "--format")) {
		int f = om_intel_format_from_name(v);
		if (f < 0) {
			say(lang, "intel.err.format", v);
			return -1;
		}
		o->fmt = (enum om_intel_format)f;
	} else if (!strcmp(a, "--type")) {
		int t = om_intel_type_from_name(v);
		if (t < 0) {
			say(lang, "intel.err.type", v);
			return -1;
		}
		o->imp.type = (enum om_intel_type)t;
	} else if (!strcmp(a, "--source")) {
		if (!*v || strlen(v) >= OM_INTEL_SOURCE_MAX) {
			say(lang, "intel.err.source", v, OM_INTEL_SOURCE_MAX - 1);
			return -1;
		}
		o->imp.source = v;
	} else if (!strcmp(a, "--confidence")) {
		if (om_parse_u64(v, 0, 100, &n) < 0) {
			say(lang, "intel.err.number", a, v, 0, 100);
			return -1;
		}
		o->imp.confidence = (uint8_t)n;
	} else if (!strcmp(a, "--ttl")) {
		if (om_parse_u64(v, 1, 3650 * 86400ull, &n) < 0) {
			say(lang, "intel.err.number", a, v, 1, 3650 * 86400);
			return -1;
		}
		o->imp.expires = (int64_t)time(NULL) + (int64_t)n;
	} else if (!strcmp(a, "--now")) {
		if (om_parse_u64(v, 1, INT64_MAX, &n) < 0) {
			say(lang, "intel.err.number", a, v, 1, INT32_MAX);
			return -1;
		}
		o->now = (int64_t)n;
	} else {
		return 1;
	}
	return 0;
}

int om_intel_main(int argc, char **argv, enum om_lang lang, const char *default_db,
                  const om_guard_config *cfg)
{
	struct opts o;
	memset(&o, 0, sizeof(o));
	o.db = cfg && cfg->intel_db[0] ? cfg->intel_db : default_db;
	const char *sub = NULL;
	const char *args[ARGS_MAX];
	int nargs = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(om_msg(lang, "help.intel"), stdout);
			return 0;
		}
		if (!strcmp(a, "--force")) {
			o.force = true;
			continue;
		}
		if (a[0] == '-' && a[1] == '-') {
			if (i + 1 >= argc) {
				say(lang, "intel.err.value", a);
				return 2;
			}
			int r = parse_opt(lang, a, argv[i + 1], &o);
			if (r < 0)
				return 2;
			if (r > 0) {
				say(lang, "intel.err.option", a);
				return 2;
			}
			i++;
		} else if (a[0] == '-' && a[1]) {
			say(lang, "intel.err.option", a);
			return 2;
		} else if (!sub) {
			sub = a;
		} else if (nargs < ARGS_MAX) {
			args[nargs++] = a;
		} else {
			say(lang, "intel.err.too_many", ARGS_MAX);
			return 2;
		}
	}
	if (!sub) {
		fputs(om_msg(lang, "help.intel"), stdout);
		return 2;
	}
	if (!o.db || !o.db[0]) {
		say(lang, "intel.err.no_db");
		return 2;
	}
	if (!strcmp(sub, "import")) {
		if (!nargs) {
			say(lang, "intel.err.import_what");
			return 2;
		}
		return do_import(lang, &o, args, nargs);
	}
	if (!strcmp(sub, "lookup")) {
		if (!nargs) {
			say(lang, "intel.err.lookup_what");
			return 2;
		}
		return do_lookup(lang, &o, args, nargs);
	}
	if (!strcmp(sub, "stats") && !nargs)
		return do_stats(lang, &o);
	if (!strcmp(sub, "expire") && !nargs)
		return do_expire(lang, &o);
	if (!strcmp(sub, "update") && !nargs)
		return do_update(lang, &o, cfg);
	say(lang, "intel.err.command", sub);
	return 2;
}
