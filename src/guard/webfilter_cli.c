/* webfilter_cli.c: 'omamori webfilter import|lookup|stats [--db FILE]'.
 * An import reads the existing database (when there is one), adds the
 * lists and replaces the file atomically, so a running reader keeps the
 * old mapping until it reopens. Exit status 0 ok, 1 failure, 2 usage. */
#include "guard/guard.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define WF_PATHS_MAX 256

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

static int parse_format(const char *s, enum om_wf_format *ret)
{
	static const struct {
		const char *name;
		enum om_wf_format f;
	} fmts[] = {{"auto", OM_WF_FMT_AUTO},
	            {"plain", OM_WF_FMT_PLAIN},
	            {"hosts", OM_WF_FMT_HOSTS},
	            {"csv", OM_WF_FMT_CSV},
	            {"squidguard", OM_WF_FMT_SQUIDGUARD}};
	for (size_t i = 0; i < OM_ARRAY_SIZE(fmts); i++)
		if (!strcmp(s, fmts[i].name)) {
			*ret = fmts[i].f;
			return 0;
		}
	return -EINVAL;
}

/* The categories of a match as "a,b". */
static void cat_list(const om_wf_db *db, uint64_t cats, char *buf, size_t n)
{
	size_t o = 0;
	buf[0] = '\0';
	for (uint32_t i = 0; i < om_wf_db_categories(db) && o < n; i++)
		if (cats & (1ULL << i))
			o += (size_t)snprintf(buf + o, n - o, "%s%s", o ? "," : "",
			                      om_wf_db_category(db, i));
}

static int do_import(enum om_lang lang, const char *db, const char **paths, int npaths,
                     enum om_wf_format fmt, const char *category)
{
	om_wf_builder *b = NULL;
	om_wf_db *old = NULL;
	int rc = 1;
	if (om_wf_builder_new(&b) < 0) {
		say(lang, "webfilter.err.memory");
		return 1;
	}
	int e = om_wf_db_open(db, &old);
	if (e == 0) {
		e = om_wf_builder_merge(b, old);
		old = om_wf_db_close(old);
		if (e < 0) {
			say(lang, "webfilter.err.db_open", db, strerror(-e));
			goto out;
		}
	} else if (e != -ENOENT) {
		say(lang, "webfilter.err.db_open", db, strerror(-e));
		goto out;
	}
	for (int i = 0; i < npaths; i++) {
		om_wf_import_stats st = {0};
		e = om_wf_import_path(b, paths[i], fmt, category, &st);
		if (e == -EINVAL && category) {
			say(lang, "webfilter.err.category", category);
			goto out;
		}
		if (e < 0) {
			say(lang, "webfilter.err.import", paths[i], strerror(-e));
			goto out;
		}
		for (uint64_t k = 0; k < st.nproblems && k < OM_WF_IMPORT_PROBLEMS; k++)
			say(lang, "webfilter.err.line", paths[i], st.problem[k].file[0] ? "/" : "",
			    st.problem[k].file, (unsigned long long)st.problem[k].line,
			    om_msg(lang, st.problem[k].why));
		if (st.nproblems > OM_WF_IMPORT_PROBLEMS)
			say(lang, "webfilter.err.more",
			    (unsigned long long)(st.nproblems - OM_WF_IMPORT_PROBLEMS));
		out(lang, "webfilter.msg.imported", paths[i], (unsigned long long)st.lines,
		    (unsigned long long)st.added, (unsigned long long)st.rejected);
	}
	e = om_wf_builder_write(b, db);
	if (e < 0) {
		say(lang, "webfilter.err.write", db, strerror(-e));
		goto out;
	}
	out(lang, "webfilter.msg.saved", db, (unsigned long long)om_wf_builder_rules(b));
	rc = 0;
out:
	om_wf_builder_free(b);
	return rc;
}

static int open_db(enum om_lang lang, const char *path, om_wf_db **ret)
{
	int e = om_wf_db_open(path, ret);
	if (e < 0) {
		say(lang, e == -EINVAL ? "webfilter.err.db_bad" : "webfilter.err.db_open", path,
		    strerror(-e));
		return -1;
	}
	return 0;
}

static int do_lookup(enum om_lang lang, const char *path, const char **names, int n)
{
	om_wf_db *db;
	if (open_db(lang, path, &db) < 0)
		return 1;
	for (int i = 0; i < n; i++) {
		const char *s = names[i], *sch = strstr(s, "://");
		if (sch)
			s = sch + 3;
		const char *slash = strchr(s, '/');
		size_t hl = slash ? (size_t)(slash - s) : strlen(s);
		om_wf_match m;
		int e = om_wf_db_lookup(db, s, hl, slash, slash ? strlen(slash) : 0, &m);
		if (e == -EINVAL) {
			out(lang, "webfilter.msg.bad_name", names[i]);
		} else if (e < 0) {
			out(lang, "webfilter.msg.nomatch", names[i]);
		} else {
			char cats[OM_WF_CAT_MAX * OM_WF_CAT_NAME_MAX];
			cat_list(db, m.cats, cats, sizeof(cats));
			out(lang, "webfilter.msg.match", names[i], cats, (int)m.rule_len, m.rule);
		}
	}
	om_wf_db_close(db);
	return 0;
}

static int do_stats(enum om_lang lang, const char *path)
{
	om_wf_db *db;
	if (open_db(lang, path, &db) < 0)
		return 1;
	uint64_t counts[OM_WF_CAT_MAX];
	om_wf_db_category_counts(db, counts);
	out(lang, "webfilter.msg.stats", path, (unsigned long long)om_wf_db_rules(db),
	    (unsigned)om_wf_db_categories(db));
	for (uint32_t i = 0; i < om_wf_db_categories(db); i++)
		printf("  %-24s %llu\n", om_wf_db_category(db, i), (unsigned long long)counts[i]);
	om_wf_db_close(db);
	return 0;
}

int om_webfilter_main(int argc, char **argv, enum om_lang lang, const char *default_db)
{
	const char *sub = NULL, *db = default_db, *category = NULL;
	const char *args[WF_PATHS_MAX];
	int nargs = 0;
	enum om_wf_format fmt = OM_WF_FMT_AUTO;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(om_msg(lang, "help.webfilter"), stdout);
			return 0;
		}
		if (!strcmp(a, "--db") || !strcmp(a, "--format") || !strcmp(a, "--category")) {
			if (i + 1 >= argc) {
				say(lang, "webfilter.err.value", a);
				return 2;
			}
			const char *v = argv[++i];
			if (a[2] == 'd')
				db = v;
			else if (a[2] == 'c')
				category = v;
			else if (parse_format(v, &fmt) < 0) {
				say(lang, "webfilter.err.format", v);
				return 2;
			}
		} else if (a[0] == '-' && a[1]) {
			say(lang, "webfilter.err.option", a);
			return 2;
		} else if (!sub) {
			sub = a;
		} else if (nargs < WF_PATHS_MAX) {
			args[nargs++] = a;
		} else {
			say(lang, "webfilter.err.too_many", WF_PATHS_MAX);
			return 2;
		}
	}
	if (!sub) {
		fputs(om_msg(lang, "help.webfilter"), stdout);
		return 2;
	}
	if (!db) {
		say(lang, "webfilter.err.no_db");
		return 2;
	}
	if (!strcmp(sub, "import")) {
		if (!nargs) {
			say(lang, "webfilter.err.import_what");
			return 2;
		}
		return do_import(lang, db, args, nargs, fmt, category);
	}
	if (!strcmp(sub, "lookup")) {
		if (!nargs) {
			say(lang, "webfilter.err.lookup_what");
			return 2;
		}
		return do_lookup(lang, db, args, nargs);
	}
	if (!strcmp(sub, "stats") && !nargs)
		return do_stats(lang, db);
	say(lang, "webfilter.err.command", sub);
	return 2;
}
