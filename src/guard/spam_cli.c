/* spam_cli.c: 'omamori spam train|check|stats'. train reads every file
 * under the --ham and --spam directories as one message each (RFC 5322,
 * as mail servers and the public corpora store them) and adds it to the
 * token database; check scores messages and says why, in the user's
 * language. */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "guard/guard.h"

#define MSG_FILE_MAX (16u * 1024 * 1024) /* a bigger file is skipped */
#define DIR_DEPTH_MAX 8
#define PATH_LEN 4096

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
	va_start(ap, key);
	vprintf(om_msg(lang, key), ap);
	va_end(ap);
	putchar('\n');
}

void om_spam_mail_limits(struct om_proto_mail_config *c)
{
	memset(c, 0, sizeof(*c));
	c->smtp = c->pop3 = c->imap = true;
	c->max_line = 4096;
	c->max_header = 16384;
	c->max_depth = 8;
	c->max_parts = 256;
	c->max_body = 1ull << 20;
	c->max_urls = 64;
	c->max_text = 65536;
}

int om_spam_read_file(const char *path, uint8_t **ret, size_t *ret_len)
{
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return -errno;
	struct stat st;
	if (fstat(fileno(fp), &st) < 0 || !S_ISREG(st.st_mode)) {
		fclose(fp);
		return -EINVAL;
	}
	if ((uint64_t)st.st_size > MSG_FILE_MAX) {
		fclose(fp);
		return -EFBIG;
	}
	size_t n = (size_t)st.st_size;
	uint8_t *b = malloc(n ? n : 1);
	if (!b) {
		fclose(fp);
		return -ENOMEM;
	}
	if (n && fread(b, 1, n, fp) != n) {
		free(b);
		fclose(fp);
		return -EIO;
	}
	fclose(fp);
	*ret = b;
	*ret_len = n;
	return 0;
}

/* ---- train ------------------------------------------------------------------- */

struct train {
	om_spam_db *db;
	om_spam_corr *corr; /* good mail's senders become correspondents */
	om_spam_config cfg; /* only for the correspondents (no domains) */
	struct om_proto_mail_config mc;
	bool spam;
	uint64_t count, skipped;
	int err;
	enum om_lang lang;
};

static void train_tx(void *user, const om_proto_tx *tx)
{
	struct train *t = user;
	int r = om_spam_db_train(t->db, tx, t->spam);
	if (r < 0 && !t->err)
		t->err = r;
	if (!t->spam && t->corr) {
		om_spam_result res;
		memset(&res, 0, sizeof(res));
		om_spam_learn(&t->cfg, tx, &res, (int64_t)time(NULL));
	}
}

static int walk(struct train *t, const char *dir, unsigned depth)
{
	DIR *d = opendir(dir);
	if (!d)
		return -errno;
	struct dirent *e;
	int r = 0;
	while (r == 0 && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char p[PATH_LEN];
		if ((size_t)snprintf(p, sizeof(p), "%s/%s", dir, e->d_name) >= sizeof(p))
			continue;
		struct stat st;
		if (stat(p, &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			if (depth < DIR_DEPTH_MAX)
				r = walk(t, p, depth + 1);
			continue;
		}
		uint8_t *b;
		size_t n;
		if (om_spam_read_file(p, &b, &n) < 0) {
			t->skipped++;
			continue;
		}
		if (om_proto_mail_message(&t->mc, b, n, train_tx, t) < 0)
			r = -ENOMEM;
		free(b);
		t->count++;
		if (t->err == -ENOMEM)
			r = -ENOMEM;
	}
	closedir(d);
	return r;
}

/* --tenant T: spam-T.db beside the global database */
static int tenant_db(const char *global, const char *tenant, char *out, size_t cap)
{
	for (const char *q = tenant; *q; q++)
		if (!((unsigned)((*q | 0x20) - 'a') < 26u || (unsigned)(*q - '0') < 10u ||
		      *q == '-' || *q == '_'))
			return -EINVAL;
	if (!tenant[0] || strlen(tenant) > 63)
		return -EINVAL;
	const char *slash = strrchr(global, '/');
	int dl = slash ? (int)(slash - global + 1) : 0;
	if ((size_t)snprintf(out, cap, "%.*sspam-%s.db", dl, global, tenant) >= cap)
		return -ENAMETOOLONG;
	return 0;
}

static int load_db(enum om_lang lang, const char *path, bool missing_ok, om_spam_db **ret)
{
	int e = om_spam_db_load(path, ret);
	if (e == 0)
		return 0;
	if (e == -ENOENT && missing_ok)
		return om_spam_db_new(ret);
	if (e == -EINVAL || e == -E2BIG)
		say(lang, "spam.err.db_bad", path);
	else
		say(lang, "spam.err.db_open", path, strerror(-e));
	return e;
}

static int cmd_train(enum om_lang lang, const char *db, const char *ham, const char *spam,
                     bool reset)
{
	if (!ham && !spam) {
		say(lang, "spam.err.train_usage");
		return 2;
	}
	struct train t;
	memset(&t, 0, sizeof(t));
	t.lang = lang;
	om_spam_mail_limits(&t.mc);
	int e = reset ? om_spam_db_new(&t.db) : load_db(lang, db, true, &t.db);
	if (e < 0)
		return 1;
	/* the senders of good mail are the company's correspondents (the
	 * history beside the database; first contact from look-alikes) */
	char cpath[PATH_LEN + 8];
	om_spam_config_init(&t.cfg);
	if (ham && om_spam_corr_path(db, cpath, sizeof(cpath)) == 0 &&
	    (e = om_spam_corr_open(cpath, 0, &t.corr)) < 0)
		say(lang, "spam.warn.corr", cpath, strerror(-e));
	t.cfg.corr = t.corr;
	int rc = 1;
	uint64_t nh = 0, ns = 0;
	const char *dirs[2] = {ham, spam};
	for (int k = 0; k < 2; k++) {
		if (!dirs[k])
			continue;
		t.spam = k == 1;
		t.count = 0;
		e = walk(&t, dirs[k], 0);
		if (e < 0) {
			say(lang, e == -ENOMEM ? "spam.err.memory" : "spam.err.dir", dirs[k],
			    strerror(-e));
			goto out;
		}
		if (k)
			ns = t.count;
		else
			nh = t.count;
	}
	if (t.err == -ENOSPC)
		say(lang, "spam.err.full", db, (unsigned long long)OM_SPAM_DB_MAX);
	if ((e = om_spam_db_save(t.db, db)) < 0) {
		say(lang, "spam.err.db_save", db, strerror(-e));
		goto out;
	}
	uint64_t th, ts, tt;
	om_spam_db_counts(t.db, &th, &ts, &tt);
	out(lang, "spam.msg.trained", (unsigned long long)nh, (unsigned long long)ns, db,
	    (unsigned long long)th, (unsigned long long)ts, (unsigned long long)tt);
	if (t.skipped)
		say(lang, "spam.warn.skipped", (unsigned long long)t.skipped);
	rc = 0;
out:
	om_spam_corr_close(t.corr);
	om_spam_db_free(t.db);
	return rc;
}

/* ---- check ------------------------------------------------------------------- */

struct check {
	const om_spam_config *cfg;
	const om_spam_env *env; /* NULL: no DKIM/DMARC of our own */
	om_spam_result r;
};

static void check_tx(void *user, const om_proto_tx *tx)
{
	struct check *c = user;
	om_spam_check(c->cfg, tx, c->env, &c->r);
}

static int cmd_check(enum om_lang lang, om_spam_config *cfg, const char *const *files, int nfiles,
                     bool json)
{
	struct om_proto_mail_config mc;
	om_spam_mail_limits(&mc);
	int rc = 0;
	for (int i = 0; i < nfiles; i++) {
		uint8_t *b;
		size_t n;
		int e = om_spam_read_file(files[i], &b, &n);
		if (e < 0) {
			say(lang, "spam.err.file", files[i], strerror(-e));
			rc = 1;
			continue;
		}
		struct check c;
		memset(&c, 0, sizeof(c));
		c.cfg = cfg;
		om_spam_env env;
		memset(&env, 0, sizeof(env));
		if (cfg->auth) { /* --dkim: the message's DKIM and DMARC, checked here */
			om_spam_auth_verify(cfg->auth, b, n, NULL, OM_AUTH_UNKNOWN, &env);
			/* DNS without an answer: the message's own header is read instead */
			if (env.dkim == OM_AUTH_TEMPERROR)
				env.dkim = OM_AUTH_UNKNOWN;
			if (env.dmarc == OM_AUTH_TEMPERROR)
				env.dmarc = OM_AUTH_UNKNOWN;
			c.env = &env;
		}
		e = om_proto_mail_message(&mc, b, n, check_tx, &c);
		free(b);
		if (e < 0) {
			say(lang, "spam.err.memory", files[i], strerror(-e));
			return 1;
		}
		if (json) {
			om_buf ob;
			om_json j;
			om_buf_init(&ob, 1u << 16);
			om_json_init(&j, &ob);
			om_json_obj_open(&j, NULL);
			om_json_str(&j, "file", files[i]);
			om_spam_write(&j, &c.r);
			om_json_obj_close(&j);
			printf("%.*s\n", (int)ob.len, (const char *)ob.data);
			om_buf_free(&ob);
			continue;
		}
		out(lang,
		    c.r.verdict == OM_SPAM_SPAM ? "spam.msg.check_spam" : "spam.msg.check_ham",
		    files[i], c.r.score);
		for (unsigned k = 0; k < c.r.nreasons; k++) {
			char key[96];
			snprintf(key, sizeof(key), "spam.reason.%s", c.r.reasons[k]);
			printf("  - %s\n", om_msg(lang, key));
		}
		if (c.r.targeted) {
			out(lang, "spam.msg.targeted");
			for (unsigned k = 0; k < c.r.nsigns; k++) {
				char key[96];
				snprintf(key, sizeof(key), "spam.sign.%s", c.r.signs[k]);
				printf("  - %s\n", om_msg(lang, key));
			}
			printf("  %s\n", om_msg(lang, "advice.targeted_mail"));
		}
	}
	return rc;
}

int om_spam_main(int argc, char **argv, enum om_lang lang, const char *default_db)
{
	const char *sub = NULL, *db = NULL, *tenant = NULL, *ham = NULL, *spam = NULL;
	const char *files[256];
	int nfiles = 0;
	bool reset = false, json = false, dkim = false;
	const char *dnsfile = NULL, *inteldb = NULL;
	om_spam_auth_ctx *auth = NULL;
	om_intel_db *idb = NULL;
	om_spam_config *cfg = calloc(1, sizeof(*cfg));
	if (!cfg) {
		say(lang, "spam.err.memory", "-", strerror(ENOMEM));
		return 1;
	}
	om_spam_config_init(cfg);
	int rc = 2;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(om_msg(lang, "help.spam"), stdout);
			rc = 0;
			goto out;
		}
		if (!strcmp(a, "--reset")) {
			reset = true;
		} else if (!strcmp(a, "--json")) {
			json = true;
		} else if (!strcmp(a, "--dkim")) {
			dkim = true;
		} else if (!strcmp(a, "--db") || !strcmp(a, "--tenant") || !strcmp(a, "--ham") ||
		           !strcmp(a, "--spam") || !strcmp(a, "--own") || !strcmp(a, "--partner") ||
		           !strcmp(a, "--threshold") || !strcmp(a, "--dns-file") ||
		           !strcmp(a, "--intel-db")) {
			if (i + 1 >= argc) {
				say(lang, "spam.err.value", a);
				goto out;
			}
			const char *v = argv[++i];
			if (!strcmp(a, "--db"))
				db = v;
			else if (!strcmp(a, "--dns-file"))
				dnsfile = v, dkim = true;
			else if (!strcmp(a, "--intel-db"))
				inteldb = v;
			else if (!strcmp(a, "--tenant"))
				tenant = v;
			else if (!strcmp(a, "--ham"))
				ham = v;
			else if (!strcmp(a, "--spam"))
				spam = v;
			else if (!strcmp(a, "--threshold")) {
				char *end;
				double t = strtod(v, &end);
				if (*end || end == v || t < -100 || t > 100) {
					say(lang, "spam.err.threshold", v);
					goto out;
				}
				cfg->threshold = t;
			} else if (om_spam_config_domains(cfg, a[2] == 'p', v) < 0) {
				say(lang, "spam.err.domains", a, v, OM_SPAM_DOMAINS_MAX);
				goto out;
			}
		} else if (a[0] == '-' && a[1]) {
			say(lang, "spam.err.option", a);
			goto out;
		} else if (!sub) {
			sub = a;
		} else if (nfiles < (int)OM_ARRAY_SIZE(files)) {
			files[nfiles++] = a;
		} else {
			say(lang, "spam.err.too_many", (int)OM_ARRAY_SIZE(files));
			goto out;
		}
	}
	char tpath[PATH_LEN];
	if (!db) {
		db = default_db;
		if (tenant) {
			if (tenant_db(default_db, tenant, tpath, sizeof(tpath)) < 0) {
				say(lang, "spam.err.tenant", tenant);
				goto out;
			}
			db = tpath;
		}
	}
	if (!sub) {
		fputs(om_msg(lang, "help.spam"), stderr);
		goto out;
	}
	if (!strcmp(sub, "train")) {
		rc = cmd_train(lang, db, ham, spam, reset);
	} else if (!strcmp(sub, "check")) {
		if (!nfiles) {
			say(lang, "spam.err.check_usage");
			goto out;
		}
		om_spam_db *d = NULL;
		int e = om_spam_db_load(db, &d);
		if (e < 0 && e != -ENOENT) {
			load_db(lang, db, false, &d);
			rc = 1;
			goto out;
		}
		if (e == -ENOENT)
			say(lang, "spam.warn.untrained", db);
		cfg->db = d;
		if (dkim && (e = om_spam_auth_new(dnsfile, &auth)) < 0) {
			say(lang, "milter.err.dkim", dnsfile ? dnsfile : "-", strerror(-e));
			om_spam_db_free(d);
			rc = 1;
			goto out;
		}
		if (inteldb && (e = om_intel_db_open(inteldb, &idb)) < 0) {
			say(lang, "err.intel.open", inteldb, strerror(-e), inteldb);
			om_spam_db_free(d);
			rc = 1;
			goto out;
		}
		cfg->auth = auth;
		cfg->intel_db = idb;
		rc = cmd_check(lang, cfg, files, nfiles, json);
		om_spam_db_free(d);
	} else if (!strcmp(sub, "stats")) {
		om_spam_db *d = NULL;
		if (load_db(lang, db, false, &d) < 0) {
			rc = 1;
			goto out;
		}
		uint64_t h, s, t;
		om_spam_db_counts(d, &h, &s, &t);
		out(lang, "spam.msg.stats", db, (unsigned long long)h, (unsigned long long)s,
		    (unsigned long long)t);
		om_spam_db_free(d);
		/* the correspondent history beside it, when there is one */
		char cpath[PATH_LEN + 8];
		struct stat cst;
		om_spam_corr *corr = NULL;
		if (om_spam_corr_path(db, cpath, sizeof(cpath)) == 0 && stat(cpath, &cst) == 0 &&
		    om_spam_corr_open(cpath, 0, &corr) == 0) {
			unsigned nc;
			uint64_t dropped;
			om_spam_corr_stats(corr, &nc, &dropped);
			out(lang, "spam.msg.corr", cpath, nc, (unsigned long long)dropped);
			om_spam_corr_close(corr);
		}
		rc = 0;
	} else {
		say(lang, "spam.err.sub", sub);
	}
out:
	om_intel_db_close(idb);
	om_spam_auth_free(auth);
	free(cfg);
	return rc;
}
