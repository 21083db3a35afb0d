/* yara.c: optional YARA rules (libyara) on the bytes the anti-virus scans.
 * The compiled rules are read-only and libyara scans them from several
 * threads at once (one scanner context per call). */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <yara.h>

#include "guard/av_internal.h"

struct av_yara {
	YR_RULES *rules;
	unsigned nrules;
};

static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned init_refs;

struct compile_err {
	char *err;
	size_t errlen;
	int errors;
};

static void on_compile(int level, const char *file, int line, const YR_RULE *rule, const char *msg,
                       void *user)
{
	struct compile_err *ce = user;
	(void)rule;
	if (level != YARA_ERROR_LEVEL_ERROR || ce->errors++)
		return;
	snprintf(ce->err, ce->errlen, om_tr("av.err.yara_rule"), file ? file : "?", line, msg);
}

static int add_file(YR_COMPILER *c, const char *path, struct compile_err *ce)
{
	FILE *fp = fopen(path, "re");
	if (!fp) {
		int r = -errno;
		snprintf(ce->err, ce->errlen, om_tr("av.err.yara_open"), path, strerror(-r));
		return r;
	}
	int n = yr_compiler_add_file(c, fp, NULL, path);
	fclose(fp);
	return n ? -EINVAL : 0;
}

static bool yara_name(const char *n)
{
	size_t l = strlen(n);
	return (l > 4 && !strcmp(n + l - 4, ".yar")) || (l > 5 && !strcmp(n + l - 5, ".yara"));
}

int av_yara_open(const char *path, av_yara **ret, char *err, size_t errlen)
{
	struct stat st;
	if (stat(path, &st) < 0) {
		int r = -errno;
		snprintf(err, errlen, om_tr("av.err.yara_open"), path, strerror(-r));
		return r;
	}
	pthread_mutex_lock(&init_lock);
	int r = init_refs ? ERROR_SUCCESS : yr_initialize();
	if (r == ERROR_SUCCESS)
		init_refs++;
	pthread_mutex_unlock(&init_lock);
	if (r != ERROR_SUCCESS) {
		snprintf(err, errlen, "%s", om_tr("err.nomem"));
		return -ENOMEM;
	}
	av_yara *y = calloc(1, sizeof(*y));
	YR_COMPILER *c = NULL;
	struct compile_err ce = {err, errlen, 0};
	r = 0;
	if (!y || yr_compiler_create(&c) != ERROR_SUCCESS) {
		snprintf(err, errlen, "%s", om_tr("err.nomem"));
		r = -ENOMEM;
		goto out;
	}
	yr_compiler_set_callback(c, on_compile, &ce);
	if (S_ISDIR(st.st_mode)) {
		struct dirent **names = NULL;
		int n = scandir(path, &names, NULL, alphasort);
		if (n < 0) {
			r = -errno;
			snprintf(err, errlen, om_tr("av.err.yara_open"), path, strerror(-r));
			goto out;
		}
		unsigned added = 0;
		for (int i = 0; i < n; i++) {
			char p[OM_AV_PATH_MAX + 256];
			if (!r && yara_name(names[i]->d_name)) {
				snprintf(p, sizeof(p), "%s/%s", path, names[i]->d_name);
				r = add_file(c, p, &ce);
				added++;
			}
			free(names[i]);
		}
		free(names);
		if (!r && !added) {
			snprintf(err, errlen, om_tr("av.err.yara_none"), path);
			r = -ENOENT;
		}
	} else {
		r = add_file(c, path, &ce);
	}
	if (r)
		goto out;
	if (yr_compiler_get_rules(c, &y->rules) != ERROR_SUCCESS) {
		snprintf(err, errlen, "%s", om_tr("err.nomem"));
		r = -ENOMEM;
		goto out;
	}
	YR_RULE *rule;
	yr_rules_foreach(y->rules, rule)
	{
		y->nrules++;
	}
out:
	if (c)
		yr_compiler_destroy(c);
	if (r) {
		av_yara_close(y);
		return r;
	}
	*ret = y;
	return 0;
}

void av_yara_close(av_yara *y)
{
	if (!y)
		return;
	if (y->rules)
		yr_rules_destroy(y->rules);
	free(y);
	pthread_mutex_lock(&init_lock);
	if (init_refs && !--init_refs)
		yr_finalize();
	pthread_mutex_unlock(&init_lock);
}

unsigned av_yara_rules(const av_yara *y)
{
	return y ? y->nrules : 0;
}

struct match {
	char *rule;
	size_t rulesz;
};

static int on_scan(YR_SCAN_CONTEXT *ctx, int msg, void *data, void *user)
{
	(void)ctx;
	if (msg == CALLBACK_MSG_RULE_MATCHING) {
		const YR_RULE *rule = data;
		struct match *m = user;
		snprintf(m->rule, m->rulesz, "%s", rule->identifier);
		return CALLBACK_ABORT; /* the first rule is enough */
	}
	return CALLBACK_CONTINUE;
}

int av_yara_scan(av_yara *y, const uint8_t *buf, size_t len, char *rule, size_t rulesz)
{
	struct match m = {rule, rulesz};
	rule[0] = '\0';
	int r = yr_rules_scan_mem(y->rules, buf, len, SCAN_FLAGS_FAST_MODE, on_scan, &m, 0);
	return r == ERROR_SUCCESS || r == ERROR_CALLBACK_ERROR ? 0 : -EIO;
}
