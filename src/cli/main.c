/* main.c: the omamori command line: git-style subcommands, global options,
 * exit status 0 (ok), 1 (failure), 2 (usage). All user-facing text comes from
 * the message catalogues. */
#include "assess/assess.h"
#include "base/base.h"
#include "console/console.h"
#include "detect/detect.h"
#include "drill/drill.h"
#include "engine/engine.h"
#include "exercise/exercise.h"
#include "guard/guard.h"
#include "report/report.h"
#include "store/store.h"
#include "webscan/webscan.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#define EXIT_USAGE 2

struct cli {
	enum om_lang lang;
	om_settings cfg;
	const char *config_path;
	const char *cmd;
};

static void say_err(const struct cli *c, const char *key, ...)
{
	va_list ap;
	char line[2048];
	va_start(ap, key);
	vsnprintf(line, sizeof(line), om_msg(c->lang, key), ap);
	va_end(ap);
	fprintf(stderr, "omamori: %s\n", line);
}

static void print_help(const struct cli *c, const char *key)
{
	fputs(om_msg(c->lang, key), stdout);
}

/* Lower modules begin a message about a file with "PATH: " and then the
 * reason (theirs, or the library's or system's). Returns the reason, or NULL
 * when msg is not about path. */
static const char *reason_for(const char *msg, const char *path)
{
	size_t n = strlen(path);
	if (n && !strncmp(msg, path, n) && msg[n] == ':' && msg[n + 1] == ' ')
		return msg + n + 2;
	return NULL;
}

/* A database that cannot be opened or brought up to date: our sentence
 * around the store's (or SQLite's) reason, and what to do (hint_key). */
static void say_db_err(const struct cli *c, const char *db, const char *msg, const char *hint_key)
{
	const char *why = reason_for(msg, db);
	char shown[512];
	om_store_target_shown(db, shown, sizeof(shown));
	say_err(c, "err.db_open", shown, why ? why : msg, om_msg(c->lang, hint_key));
}

/* ---- option scanning ------------------------------------------------------ */

struct args {
	int argc;
	char **argv;
	int i;
};

/* Returns the value of option argv[i] (either "--opt=value" or the next
 * argument), or NULL after printing a usage error. */
static const char *opt_value(const struct cli *c, struct args *a, const char *name)
{
	const char *arg = a->argv[a->i];
	const char *eq = strchr(arg, '=');
	if (eq && !strncmp(arg, "--", 2))
		return eq + 1;
	if (a->i + 1 >= a->argc) {
		if (c->cmd)
			say_err(c, "err.usage_missing_value", name, c->cmd);
		else
			say_err(c, "err.usage_missing_value_global", name);
		return NULL;
	}
	return a->argv[++a->i];
}

static bool opt_is(const char *arg, const char *name)
{
	size_t n = strlen(name);
	return !strncmp(arg, name, n) && (arg[n] == '\0' || (arg[n] == '=' && name[1] == '-'));
}

static int ensure_state_dir(const struct cli *c)
{
	char path[sizeof(c->cfg.base.state_dir)];
	snprintf(path, sizeof(path), "%s", c->cfg.base.state_dir);
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0750) < 0 && errno != EEXIST)
			goto fail;
		*p = '/';
	}
	if (mkdir(path, 0750) < 0 && errno != EEXIST)
		goto fail;
	return 0;
fail:
	say_err(c, "err.state_dir", c->cfg.base.state_dir, strerror(errno));
	return -errno;
}

static void state_path(const struct cli *c, const char *name, char *out, size_t n)
{
	snprintf(out, n, "%s/%s", c->cfg.base.state_dir, name);
}

/* The store when no --db is given: store.dsn with store.backend postgresql,
 * else omamori.db in the state directory. */
static void default_db(const struct cli *c, char *out, size_t n)
{
	if (!strcmp(c->cfg.base.store_backend, "postgresql"))
		snprintf(out, n, "%s", c->cfg.base.store_dsn);
	else
		state_path(c, "omamori.db", out, n);
}

/* ---- the store writer: spool -> store, off the packet path ----------------- */

/* The spool consumer name of a database: one committed position per
 * database, so that one spool can feed several. */
static void store_consumer(const char *db, char *out, size_t n)
{
	char abs[PATH_MAX];
	const char *p = realpath(db, abs) ? abs : db;
	snprintf(out, n, "store-%016llx",
	         (unsigned long long)om_hash64(p, strlen(p), 0x73746f7265));
}

struct store_writer {
	const char *db;
	const char *spool_dir;
	uint64_t start_seq; /* a new consumer starts here (0: the oldest segment) */
	pthread_t thread;
	atomic_bool producer_done;
	enum om_lang lang;
	int error;
	char err[1024];
	om_store_import_stats st;
};

static bool writer_done(void *user)
{
	struct store_writer *w = user;
	return atomic_load(&w->producer_done);
}

/* Opens the store and the spool's reader and stores until the end;
 * follow: also what the producer still writes, until writer_done. */
static int store_writer_run(struct store_writer *w, bool follow)
{
	om_store *store = NULL;
	om_spool_reader *rd = NULL;
	char name[64];
	int r = om_store_open(w->db, &store, w->err, sizeof(w->err));
	if (r < 0)
		goto out;
	store_consumer(w->db, name, sizeof(name));
	r = om_spool_reader_open(w->spool_dir, name, &rd, w->err, sizeof(w->err));
	if (r < 0)
		goto out;
	if (w->start_seq)
		om_spool_reader_start_at(rd, w->start_seq);
	r = om_store_import_spool(store, rd, follow ? writer_done : NULL, w, &w->st, w->err,
	                          sizeof(w->err));
out:
	om_spool_reader_close(rd);
	om_store_close(store);
	w->error = r;
	return r;
}

static void *store_writer_main(void *arg)
{
	struct store_writer *w = arg;
	om_lang_set_thread(w->lang);
	/* the packets come first: on a small box this thread yields the CPU
	 * to the workers (best effort; Linux gives threads their own nice) */
	(void)setpriority(PRIO_PROCESS, (id_t)gettid(), 10);
	store_writer_run(w, true);
	return NULL;
}

/* ---- inspect -------------------------------------------------------------- */

/* The rule files of --rules: loaded (unsupported rules skipped with a
 * warning each), compiled, and attached to proto for transactions. */
static int load_rules(struct cli *c, const char *const *files, unsigned n, om_proto *proto,
                      om_detect **ret, om_detect_hub **ret_hub, uint64_t *ret_syntax)
{
	om_detect *d = NULL;
	char err[1024] = "";
	om_detect_load_stats st;
	memset(&st, 0, sizeof(st));
	int r = om_detect_from_config_stats(&c->cfg.detect, &c->cfg.base.home_net, files, n,
	                                    OM_DETECT_WARN_ALL, &st, &d, err, sizeof(err));
	if (r < 0 && r != -ENOMEM && r != -EINVAL) {
		/* a file that cannot be read: "FILE: reason" */
		say_err(c, "err.rules_load", err);
		return r;
	}
	om_detect_hub *hub = r == 0 ? om_detect_hub_new(d) : NULL;
	if (r == 0 && !hub)
		r = -ENOMEM;
	if (r == 0 && proto)
		r = om_detect_attach(hub, proto);
	if (r < 0) {
		say_err(c, "err.rules_compile", err[0] ? err : strerror(-r));
		om_detect_hub_free(hub);
		om_detect_free(d);
		return r;
	}
	*ret = d;
	*ret_hub = hub;
	if (ret_syntax)
		*ret_syntax = st.syntax_errors;
	return 0;
}

/* The proto module and a sealed registry of the parsers the configuration
 * turns on (inspect and the gateway); says what is wrong on failure. On
 * error *ret_proto and *ret_apps may hold what was made (the caller frees
 * them in its cleanup). */
static int start_parsers(struct cli *c, om_proto **ret_proto, om_app_registry **ret_apps)
{
	char err[1024] = "";
	int r = om_proto_new(&c->cfg.proto, ret_proto, err, sizeof(err));
	if (r == 0 && !(*ret_apps = om_app_registry_new()))
		r = -ENOMEM;
	if (r == 0)
		r = om_proto_register(*ret_proto, *ret_apps);
	if (r < 0) {
		say_err(c, "err.proto", err[0] ? err : strerror(-r));
		return r;
	}
	om_app_registry_seal(*ret_apps);
	return 0;
}

/* The anti-spam checks on the messages of a run: the observer with its
 * database (a missing file: rules only) and the company's and partners'
 * domains. */
struct spam_run {
	om_spam_config cfg;
	om_spam_db *db;
	om_spam_corr *corr; /* the correspondent history beside the database */
};

static int spam_setup(struct cli *c, om_proto *proto, const char *db, const char *own,
                      const char *partner, om_wf_filter *wf, om_intel_matcher *im,
                      struct spam_run **ret)
{
	struct spam_run *s = calloc(1, sizeof(*s));
	if (!s) {
		say_err(c, "err.nomem");
		return -ENOMEM;
	}
	om_spam_config_init(&s->cfg);
	int r = om_spam_db_load(db, &s->db);
	if (r < 0 && r != -ENOENT) {
		say_err(c, "spam.err.db_open", db, strerror(-r));
		free(s);
		return r;
	}
	if ((own && om_spam_config_domains(&s->cfg, false, own) < 0) ||
	    (partner && om_spam_config_domains(&s->cfg, true, partner) < 0)) {
		say_err(c, "spam.err.domains", own ? "--spam-own" : "--spam-partner",
		        own ? own : partner, OM_SPAM_DOMAINS_MAX);
		om_spam_db_free(s->db);
		free(s);
		return -EINVAL;
	}
	s->cfg.db = s->db;
	if (wf) { /* links in mail checked against the web filter */
		s->cfg.url_check = om_spam_url_webfilter;
		s->cfg.url_user = wf;
	}
	s->cfg.intel = im; /* and against threat intelligence */
	s->cfg.base = &c->cfg.base;
	char cpath[600];
	if (om_spam_corr_path(db, cpath, sizeof(cpath)) == 0 &&
	    (r = om_spam_corr_open(cpath, 0, &s->corr)) < 0)
		say_err(c, "spam.warn.corr", cpath, strerror(-r));
	s->cfg.corr = s->corr;
	om_proto_observer obs;
	om_spam_observer(&obs, &s->cfg);
	if ((r = om_proto_add_observer(proto, &obs)) < 0) {
		say_err(c, "err.nomem");
		om_spam_corr_close(s->corr);
		om_spam_db_free(s->db);
		free(s);
		return r;
	}
	*ret = s;
	return 0;
}

static void spam_cleanup(struct spam_run *s)
{
	if (s) {
		om_spam_corr_close(s->corr);
		om_spam_db_free(s->db);
		free(s);
	}
}

/* ---- threat intelligence for inspect and the gateway ----------------------- */

/* Opens the intelligence database path for the engine's matcher m (the
 * configuration's intel.min-confidence and intel.block). */
static int intel_open(const struct cli *c, const char *path, unsigned workers, om_intel_matcher *m)
{
	memset(m, 0, sizeof(*m));
	int e = om_intel_live_open(path, workers, &m->live);
	if (e < 0) {
		say_err(c, "err.intel.open", path, strerror(-e), path);
		return e;
	}
	m->base = &c->cfg.base;
	m->min_confidence = (uint8_t)c->cfg.guard.intel_min_confidence;
	m->block = c->cfg.guard.intel_block;
	return 0;
}

/* ---- the guards' policy ---------------------------------------------------- */
/* The web filter and application control of one run, from the tenant's
 * policy in the configuration (policy.tenants) with the command line's
 * --webfilter-* options winning. *use_wf / *use_ac say what is on. */
struct guard_opts {
	const char *wfdb, *wfblock, *wfallow; /* the command line's, or NULL */
	bool appctl;                          /* --appctl */
};

static int guards_setup(struct cli *c, const char *tenant, const struct guard_opts *go,
                        om_wf_filter *wf, bool *use_wf, om_appctl *ac, bool *use_ac)
{
	const om_guard_config *g = &c->cfg.guard;
	const om_guard_tenant *tp = om_guard_tenant_policy(g, tenant);
	char err[1024] = "";
	*use_wf = *use_ac = false;
	const char *db = go->wfdb ? go->wfdb : g->webfilter_db[0] ? g->webfilter_db : NULL;
	if (db) {
		const char *block = go->wfblock                        ? go->wfblock
		                    : tp && tp->wf_block_categories[0] ? tp->wf_block_categories
		                                                       : NULL;
		const char *allow = go->wfallow             ? go->wfallow
		                    : tp && tp->wf_allow[0] ? tp->wf_allow
		                                            : NULL;
		if (om_wf_filter_setup(wf, db, block, allow, err, sizeof(err)) < 0 ||
		    (tp && om_wf_filter_block_list(wf, tp->wf_block, err, sizeof(err)) < 0)) {
			om_wf_filter_cleanup(wf);
			fprintf(stderr, "omamori: %s\n", err);
			return -EINVAL;
		}
		*use_wf = true;
	}
	if (go->appctl || g->appctl_enabled) {
		if (om_appctl_setup(ac, g->appctl_groups[0] ? g->appctl_groups : NULL,
		                    tp ? &tp->app : NULL, g->appctl_max_flows, g->appctl_max_detect,
		                    g->appctl_max_packets, err, sizeof(err)) < 0) {
			fprintf(stderr, "omamori: %s\n", err);
			if (*use_wf)
				om_wf_filter_cleanup(wf);
			*use_wf = false;
			return -EINVAL;
		}
		ac->all_protocols = g->appctl_all_protocols;
		ac->parsers_tls_http = c->cfg.proto.tls.enabled && c->cfg.proto.http.enabled;
		*use_ac = true;
	}
	return 0;
}

/* The anti-virus of inspect and the gateway: the configuration's av:
 * section, the database directory and YARA rules of the command line over
 * it. Offline no reload thread (a run is short). */
static int open_av(struct cli *c, const char *db, const char *yara, bool live, om_av **ret)
{
	om_av_config ac = c->cfg.av;
	if (db)
		snprintf(ac.db_dir, sizeof(ac.db_dir), "%s", db);
	if (yara)
		snprintf(ac.yara_rules, sizeof(ac.yara_rules), "%s", yara);
	if (!live)
		ac.reload_interval = 0;
	char err[1024];
	if (om_av_open(&ac, ret, err, sizeof(err)) < 0) {
		say_err(c, "av.err.open", err);
		return -1;
	}
	return 0;
}

static int cmd_av(struct cli *c, struct args *a)
{
	return om_av_main(a->argc - a->i + 1, a->argv + a->i - 1, c->lang, &c->cfg.av);
}

static int cmd_inspect(struct cli *c, struct args *a)
{
	const char *rfile = NULL, *ofile = NULL, *db = NULL, *tenant = NULL, *gateway = NULL;
	const char *spooldir = NULL, *wfdb = NULL, *wfblock = NULL, *wfallow = NULL;
	const char *spamdb = NULL, *spamown = NULL, *spampartner = NULL;
	struct spam_run *spam = NULL;
	const char *inteldb = NULL;
	const char *avdb = NULL, *yara = NULL;
	bool nodb = false, truncate = false, noapp = false, avon = false, appctl = false;
	const char *rulefiles[64];
	unsigned nrules = 0;
	om_spool_opts so;
	om_spool_opts_default(&so);
	uint64_t workers = 1;
	for (; a->i < a->argc; a->i++) {
		const char *arg = a->argv[a->i];
		const char *v;
		if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
			print_help(c, "help.inspect");
			return 0;
		} else if (!strcmp(arg, "-r") || opt_is(arg, "--read")) {
			if (!(rfile = opt_value(c, a, "-r")))
				return EXIT_USAGE;
		} else if (!strcmp(arg, "-o") || opt_is(arg, "--output")) {
			if (!(ofile = opt_value(c, a, "-o")))
				return EXIT_USAGE;
		} else if (opt_is(arg, "--db")) {
			if (!(db = opt_value(c, a, "--db")))
				return EXIT_USAGE;
		} else if (!strcmp(arg, "--no-db")) {
			nodb = true;
		} else if (!strcmp(arg, "--truncate")) {
			truncate = true;
		} else if (!strcmp(arg, "--no-app-layer")) {
			noapp = true;
		} else if (!strcmp(arg, "--appctl")) {
			appctl = true;
		} else if (opt_is(arg, "--rules")) {
			if (!(v = opt_value(c, a, "--rules")))
				return EXIT_USAGE;
			if (nrules >= OM_ARRAY_SIZE(rulefiles)) {
				say_err(c, "err.usage_bad_value", "--rules", v,
				        om_msg(c->lang, "hint.rules"));
				return EXIT_USAGE;
			}
			rulefiles[nrules++] = v;
		} else if (opt_is(arg, "--spool")) {
			if (!(spooldir = opt_value(c, a, "--spool")))
				return EXIT_USAGE;
		} else if (opt_is(arg, "--spool-fsync")) {
			if (!(v = opt_value(c, a, "--spool-fsync")))
				return EXIT_USAGE;
			if (om_spool_fsync_parse(v, &so) < 0) {
				say_err(c, "err.usage_bad_value", "--spool-fsync", v,
				        om_msg(c->lang, "hint.spool_fsync"));
				return EXIT_USAGE;
			}
		} else if (opt_is(arg, "--spool-max")) {
			if (!(v = opt_value(c, a, "--spool-max")))
				return EXIT_USAGE;
			if (om_parse_u64(v, 1024, UINT64_MAX, &so.max_bytes) < 0) {
				say_err(c, "err.usage_bad_value", "--spool-max", v,
				        om_msg(c->lang, "hint.spool_max"));
				return EXIT_USAGE;
			}
		} else if (opt_is(arg, "--tenant")) {
			if (!(tenant = opt_value(c, a, "--tenant")))
				return EXIT_USAGE;
		} else if (opt_is(arg, "--webfilter-db")) {
			if (!(wfdb = opt_value(c, a, "--webfilter-db")))
				return EXIT_USAGE;
		} else if (opt_is(arg, "--intel-db")) {
			if (!(inteldb = opt_value(c, a, "--intel-db")))
				return EXIT_USAGE;
		} else if (opt_is(arg, "--webfilter-allow")) {
			if (!(wfallow = opt_value(c, a, "--webfilter-allow")))
				return EXIT_USAGE;
		} else if (opt_is(arg, "--webfilter-block")) {
			if (!(wfblock = opt_value(c, a, "--webfilter-block")))
				return EXIT_USAGE;
		} else if (opt_is(arg, "--spam-db")) {
			if (!(spamdb = opt_value(c, a, "--spam-db")))
				return EXIT_USAGE;
		} else if (opt_is(arg, "--spam-own")) {
			if (!(spamown = opt_value(c, a, "--spam-own")))
				return EXIT_USAGE;
		} else if (opt_is(arg, "--spam-partner")) {
			if (!(spampartner = opt_value(c, a, "--spam-partner")))
				return EXIT_USAGE;
		} else if (opt_is(arg, "--gateway")) {
			if (!(gateway = opt_value(c, a, "--gateway")))
				return EXIT_USAGE;
		} else if (!strcmp(arg, "--av")) {
			avon = true;
		} else if (opt_is(arg, "--av-db")) {
			if (!(avdb = opt_value(c, a, "--av-db")))
				return EXIT_USAGE;
			avon = true;
		} else if (opt_is(arg, "--yara")) {
			if (!(yara = opt_value(c, a, "--yara")))
				return EXIT_USAGE;
			avon = true;
		} else if (opt_is(arg, "--workers")) {
			if (!(v = opt_value(c, a, "--workers")))
				return EXIT_USAGE;
			if (om_parse_u64(v, 1, 64, &workers) < 0) {
				say_err(c, "err.usage_bad_value", "--workers", v,
				        om_msg(c->lang, "hint.workers"));
				return EXIT_USAGE;
			}
		} else if (arg[0] != '-' && !rfile) {
			/* 'omamori inspect office.pcap': the capture without -r */
			say_err(c, "err.usage_inspect_file", arg, arg);
			return EXIT_USAGE;
		} else {
			say_err(c, "err.usage_unknown_option", arg, c->cmd);
			return EXIT_USAGE;
		}
	}
	if (!rfile) {
		say_err(c, "err.usage_missing_option", "-r", c->cmd);
		return EXIT_USAGE;
	}
	if (!tenant)
		tenant = c->cfg.base.tenant;
	if (!gateway)
		gateway = c->cfg.base.gateway;
	if (tenant[0] == '\0' || strlen(tenant) > 63) {
		say_err(c, "err.usage_bad_value", "--tenant", tenant,
		        om_msg(c->lang, "hint.tenant"));
		return EXIT_USAGE;
	}
	char dbpath[512], evepath[512], spoolpath[512];
	if ((!db && !nodb) || !ofile || (!spooldir && !nodb)) {
		if (ensure_state_dir(c) < 0)
			return EXIT_FAILURE;
	}
	if (!db) {
		default_db(c, dbpath, sizeof(dbpath));
		db = dbpath;
	}
	if (!ofile) {
		state_path(c, "eve.json", evepath, sizeof(evepath));
		ofile = evepath;
	}
	/* the store is fed from the spool: storing needs one */
	if (!spooldir && !nodb) {
		state_path(c, "spool", spoolpath, sizeof(spoolpath));
		spooldir = spoolpath;
	}

	char err[1024] = "";
	om_eve *eve = NULL;
	om_spool *spool = NULL;
	om_proto *proto = NULL;
	om_app_registry *apps = NULL;
	om_detect *rules = NULL;
	om_detect_hub *hub = NULL;
	struct store_writer sw;
	bool writer = false;
	int rc = EXIT_FAILURE;
	om_wf_filter wf;
	om_intel_matcher im;
	memset(&im, 0, sizeof(im));
	om_appctl ac;
	bool use_wf = false, use_ac = false;
	om_av *av = NULL;
	memset(&wf, 0, sizeof(wf));
	memset(&ac, 0, sizeof(ac));
	memset(&sw, 0, sizeof(sw));
	/* --intel-db, else the tenant's database (its policy's intel.db, else
	 * the shared intel.db) */
	if (!inteldb)
		inteldb = om_guard_intel_db(&c->cfg.guard, tenant);
	if (inteldb && intel_open(c, inteldb, (unsigned)workers, &im) < 0)
		goto out;
	if ((avon || c->cfg.av.enabled) && open_av(c, avdb, yara, false, &av) < 0)
		goto out;
	struct guard_opts gopt = {wfdb, wfblock, wfallow, appctl};
	if (guards_setup(c, tenant, &gopt, &wf, &use_wf, &ac, &use_ac) < 0)
		goto out;
	/* without the parsers nDPI's TLS and HTTP dissectors name those flows */
	if (noapp)
		ac.parsers_tls_http = false;
	if (om_eve_open(ofile, c->cfg.engine.eve_rotate_bytes, c->cfg.engine.eve_rotate_daily, &eve,
	                err, sizeof(err)) < 0) {
		const char *why = reason_for(err, ofile);
		say_err(c, "err.output", ofile, why ? why : err);
		goto out;
	}
	om_eve_set_truncate(eve, truncate);
	/* the parsers (those the configuration turns on) */
	if (!noapp && start_parsers(c, &proto, &apps) < 0)
		goto out;
	if (spamdb && proto &&
	    spam_setup(c, proto, spamdb, spamown, spampartner, wfdb ? &wf : NULL,
	               inteldb ? &im : NULL, &spam) < 0)
		goto out;
	if ((nrules || c->cfg.detect.nfiles) &&
	    load_rules(c, rulefiles, nrules, proto, &rules, &hub, NULL) < 0)
		goto out;
	if (spooldir && om_spool_open(spooldir, &so, &spool, err, sizeof(err)) < 0) {
		say_err(c, "err.spool", err);
		goto out;
	}
	if (!nodb) {
		/* a thread stores what the engine spools; a store that fails
		 * stops only this thread, never the packets */
		sw.db = db;
		sw.spool_dir = spooldir;
		sw.start_seq = om_spool_first_segment(spool);
		sw.lang = c->lang;
		atomic_init(&sw.producer_done, false);
		if (pthread_create(&sw.thread, NULL, store_writer_main, &sw) == 0)
			writer = true;
		else
			snprintf(sw.err, sizeof(sw.err), "%s", om_msg(c->lang, "err.store_thread"));
	}
	om_engine_opts o = {
	    .cfg = &c->cfg,
	    .pcap_path = rfile,
	    .eve = eve,
	    .spool = spool,
	    .tenant = tenant,
	    .gateway = gateway,
	    .workers = (unsigned)workers,
	    .apps = apps && om_app_registry_count(apps) ? apps : NULL,
	    .proto = proto,
	    .detect = hub,
	    .intel = inteldb ? &im : NULL,
	    .webfilter = use_wf ? &wf : NULL,
	    .appctl = use_ac ? &ac : NULL,
	    .av = av,
	};
	om_engine_result res;
	int er = om_engine_inspect(&o, &res, err, sizeof(err));
	if (spool) {
		om_spool_stats ss;
		om_spool_stats_get(spool, &ss);
		spool = om_spool_close(spool); /* synced: the writer reads it all */
		if (er == 0 && ss.dropped)
			say_err(c, "warn.spool_dropped", (unsigned long long)ss.dropped, spooldir);
	}
	if (writer) {
		atomic_store(&sw.producer_done, true);
		pthread_join(sw.thread, NULL);
	}
	if (er < 0) {
		/* the capture could not be opened or is not one: the reader's
		 * message (libpcap's or the system's reason) inside ours */
		const char *why = reason_for(err, rfile);
		if (why)
			say_err(c, "err.capture_open", rfile, why);
		else
			say_err(c, "err.capture", err);
		goto out;
	}
	if (res.truncated)
		say_err(c, "warn.capture_truncated", res.warning);
	if (!nodb && (!writer || sw.error < 0)) {
		/* the events are safe in the spool: say how to store them */
		char shown[512];
		om_store_target_shown(db, shown, sizeof(shown));
		say_err(c, "err.store_writer", shown, sw.err, spooldir, spooldir, shown);
		goto out;
	}
	if (!nodb) {
		/* stored: segments that every reader of the spool (this store,
		 * any other, the console's ingest) has passed are done with, so
		 * the spool does not grow run after run. A failure here loses
		 * nothing (the segments stay). */
		uint64_t removed = 0;
		(void)om_spool_prune(spooldir, &removed);
	}
	if (strcmp(ofile, "-") != 0) {
		char line[1024];
		snprintf(line, sizeof(line), om_msg(c->lang, "msg.inspect_summary"),
		         (unsigned long long)res.packets, (unsigned long long)res.flows,
		         (unsigned long long)res.alerts, (unsigned long long)res.anomalies, ofile);
		fprintf(stderr, "omamori: %s\n", line);
	}
	rc = EXIT_SUCCESS;
out:
	om_spool_close(spool);
	om_eve_close(eve);
	om_av_close(av); /* before proto: it is subscribed to its files */
	om_app_registry_free(apps);
	om_proto_free(proto);
	om_detect_hub_free(hub);
	om_detect_free(rules);
	om_wf_filter_cleanup(&wf);
	spam_cleanup(spam);
	om_intel_live_free(im.live);
	om_appctl_cleanup(&ac);
	return rc;
}

/* ---- store import ---------------------------------------------------------- */

static int group_command(const struct cli *c, const char *sub, const char *help_key,
                         const char *const *subs, size_t nsubs);

static int cmd_store(struct cli *c, struct args *a)
{
	const char *sub = NULL, *dir = NULL, *db = NULL;
	bool prune = false;
	for (; a->i < a->argc; a->i++) {
		const char *arg = a->argv[a->i];
		if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
			print_help(c, "help.store");
			return 0;
		} else if (!strcmp(arg, "--prune")) {
			prune = true;
		} else if (opt_is(arg, "--db")) {
			if (!(db = opt_value(c, a, "--db")))
				return EXIT_USAGE;
		} else if (!sub && arg[0] != '-') {
			sub = arg;
		} else if (sub && !dir && arg[0] != '-') {
			dir = arg;
		} else {
			say_err(c, "err.usage_unknown_option", arg, c->cmd);
			return EXIT_USAGE;
		}
	}
	static const char *const subs[] = {"import"};
	if (group_command(c, sub, "help.store", subs, OM_ARRAY_SIZE(subs)) < 0)
		return EXIT_USAGE;
	if (!dir) {
		say_err(c, "err.usage_missing_option", "SPOOL", c->cmd);
		return EXIT_USAGE;
	}
	struct stat st;
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		say_err(c, "err.spool_not_found", dir);
		return EXIT_FAILURE;
	}
	char dbpath[512];
	if (!db) {
		if (ensure_state_dir(c) < 0)
			return EXIT_FAILURE;
		default_db(c, dbpath, sizeof(dbpath));
		db = dbpath;
	}
	char shown[512];
	om_store_target_shown(db, shown, sizeof(shown));
	struct store_writer sw;
	memset(&sw, 0, sizeof(sw));
	sw.db = db;
	sw.spool_dir = dir;
	sw.lang = c->lang;
	if (store_writer_run(&sw, false) < 0) {
		say_err(c, "err.store_import", dir, shown, sw.err);
		return EXIT_FAILURE;
	}
	char line[1024];
	snprintf(line, sizeof(line), om_msg(c->lang, "msg.store_imported"),
	         (unsigned long long)sw.st.records, (unsigned long long)sw.st.stored,
	         (unsigned long long)sw.st.ignored, (unsigned long long)sw.st.invalid, shown);
	printf("%s\n", line);
	if (prune) {
		uint64_t removed = 0;
		int r = om_spool_prune(dir, &removed);
		if (r < 0) {
			say_err(c, "err.spool_prune", dir,
			        r == -EINVAL ? om_msg(c->lang, "err.spool.state_bad")
			                     : strerror(-r));
			return EXIT_FAILURE;
		}
		snprintf(line, sizeof(line), om_msg(c->lang, "msg.spool_pruned"),
		         (unsigned long long)removed, dir);
		printf("%s\n", line);
	}
	return 0;
}

/* ---- report --------------------------------------------------------------- */

/* The report module parses its own options ('report', 'report --all',
 * 'report stats'); the defaults are the state directory's database and the
 * configured tenant. */
static int cmd_report(struct cli *c, struct args *a)
{
	char db[512];
	default_db(c, db, sizeof(db));
	return om_report_main(a->argc - a->i + 1, a->argv + a->i - 1, c->lang, db,
	                      c->cfg.base.tenant);
}

/* Tenant metadata and the device inventory the report reads. */
static int cmd_tenant(struct cli *c, struct args *a)
{
	char db[512];
	default_db(c, db, sizeof(db));
	if (a->i < a->argc && (!strcmp(a->argv[a->i], "set") || !strcmp(a->argv[a->i], "device")) &&
	    ensure_state_dir(c) < 0)
		return EXIT_FAILURE;
	return om_tenant_main(a->argc - a->i + 1, a->argv + a->i - 1, c->lang, db);
}

/* ---- webscan ------------------------------------------------------------- */

/* The website scan and tamper monitor parse their own options. */
static int cmd_webscan(struct cli *c, struct args *a)
{
	return om_webscan_main(a->argc - a->i + 1, a->argv + a->i - 1, c->lang);
}

/* The mail drills parse their own options. */
static int cmd_drill(struct cli *c, struct args *a)
{
	return om_drill_main(a->argc - a->i + 1, a->argv + a->i - 1, c->lang);
}

/* ---- console ------------------------------------------------------------- */

/* The web console parses its own options and reads the console: section
 * of -c FILE itself (the file is not the gateway's settings). */
static int cmd_console(struct cli *c, struct args *a)
{
	return om_console_main(a->argc - a->i + 1, a->argv + a->i - 1, c->lang, c->config_path);
}

/* ---- spam and milter ------------------------------------------------------- */

/* 'omamori spam ...' (src/guard/spam_cli.c): the global database is
 * spam.db in the state directory. */
static int cmd_spam(struct cli *c, struct args *a)
{
	char path[512];
	state_path(c, "spam.db", path, sizeof(path));
	return om_spam_main(a->argc - a->i + 1, a->argv + a->i - 1, c->lang, path);
}

/* 'omamori milter ...' (src/guard/milter.c): the same spam.db. */
static int cmd_milter(struct cli *c, struct args *a)
{
	char path[512];
	state_path(c, "spam.db", path, sizeof(path));
	return om_milter_main(a->argc - a->i + 1, a->argv + a->i - 1, c->lang, path);
}

/* ---- webfilter ------------------------------------------------------------ */

/* The web filter's category database (src/guard) parses its own options;
 * its default file is webfilter.db in the state directory. */
static int cmd_webfilter(struct cli *c, struct args *a)
{
	char path[512];
	state_path(c, "webfilter.db", path, sizeof(path));
	return om_webfilter_main(a->argc - a->i + 1, a->argv + a->i - 1, c->lang, path);
}

/* ---- command groups ---------------------------------------------------------- */

/* A group (config, db, ...) run without one of its commands prints the
 * group's usage, as 'omamori' alone prints the main one (exit status 2); an
 * unknown one is a usage error that names the group's commands. Returns the
 * index of sub in subs, or -1 after saying what is wrong. */
static int group_command(const struct cli *c, const char *sub, const char *help_key,
                         const char *const *subs, size_t nsubs)
{
	if (!sub) {
		print_help(c, help_key);
		return -1;
	}
	for (size_t i = 0; i < nsubs; i++)
		if (!strcmp(sub, subs[i]))
			return (int)i;
	char list[256] = "";
	for (size_t i = 0, o = 0; i < nsubs && o < sizeof(list); i++)
		o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s", i ? ", " : "", subs[i]);
	say_err(c, "err.usage_unknown_subcommand", sub, c->cmd, list, c->cmd);
	return -1;
}

/* ---- config, db ------------------------------------------------------------ */

static int cmd_config(struct cli *c, struct args *a)
{
	const char *sub = NULL;
	for (; a->i < a->argc; a->i++) {
		const char *arg = a->argv[a->i];
		if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
			print_help(c, "help.config");
			return 0;
		} else if (!sub && arg[0] != '-') {
			sub = arg;
		} else {
			say_err(c, "err.usage_unknown_option", arg, c->cmd);
			return EXIT_USAGE;
		}
	}
	static const char *const subs[] = {"show"};
	if (group_command(c, sub, "help.config", subs, OM_ARRAY_SIZE(subs)) < 0)
		return EXIT_USAGE;
	om_buf out;
	om_buf_init(&out, 1024 * 1024);
	om_settings_dump(&c->cfg, &out);
	fputs(om_buf_cstr(&out), stdout);
	om_buf_free(&out);
	return 0;
}

static int cmd_db(struct cli *c, struct args *a)
{
	const char *sub = NULL, *db = NULL;
	for (; a->i < a->argc; a->i++) {
		const char *arg = a->argv[a->i];
		if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
			print_help(c, "help.db");
			return 0;
		} else if (opt_is(arg, "--db")) {
			if (!(db = opt_value(c, a, "--db")))
				return EXIT_USAGE;
		} else if (!sub && arg[0] != '-') {
			sub = arg;
		} else {
			say_err(c, "err.usage_unknown_option", arg, c->cmd);
			return EXIT_USAGE;
		}
	}
	static const char *const subs[] = {"migrate"};
	if (group_command(c, sub, "help.db", subs, OM_ARRAY_SIZE(subs)) < 0)
		return EXIT_USAGE;
	char dbpath[512];
	if (!db) {
		if (ensure_state_dir(c) < 0)
			return EXIT_FAILURE;
		default_db(c, dbpath, sizeof(dbpath));
		db = dbpath;
	}
	char err[1024] = "";
	om_store *s = NULL;
	int from = 0, to = 0;
	if (om_store_open_nomigrate(db, &s, err, sizeof(err)) < 0 ||
	    om_store_migrate(s, &from, &to, err, sizeof(err)) < 0) {
		say_db_err(c, db, err, "hint.db_migrate");
		om_store_close(s);
		return EXIT_FAILURE;
	}
	om_store_close(s);
	char line[1024];
	char shown[512];
	om_store_target_shown(db, shown, sizeof(shown));
	snprintf(line, sizeof(line), om_msg(c->lang, "msg.db_migrated"), shown, from, to);
	printf("%s\n", line);
	return 0;
}

/* 'omamori assess ...': the assessment kit parses its own options. */
static int cmd_assess(struct cli *c, struct args *a)
{
	return om_assess_main(a->argc - a->i + 1, a->argv + a->i - 1, c->lang);
}

/* 'omamori exercise ...': the exercise module parses its own arguments. */
static int cmd_exercise(struct cli *c, struct args *a)
{
	return om_exercise_main(a->argc - a->i + 1, a->argv + a->i - 1, c->lang);
}

/* 'omamori rules ...': the rule engine parses its own arguments. */
static int cmd_rules(struct cli *c, struct args *a)
{
	return om_detect_rules_main(a->argc - a->i + 1, a->argv + a->i - 1, c->lang,
	                            &c->cfg.base.home_net);
}

/* ---- gateway ----------------------------------------------------------------- */

static volatile int gw_stop, gw_reload;

static void gw_signal(int sig)
{
	if (sig == SIGHUP)
		gw_reload = 1;
	else
		gw_stop = 1;
}

/* 'omamori gateway quarantine add|del|list HOST': edits the list file under
 * the state directory and tells a running gateway (its pid file) to read it. */
static int gw_quarantine(struct cli *c, struct args *a)
{
	const char *sub = a->i < a->argc ? a->argv[a->i++] : NULL;
	const char *host = a->i < a->argc ? a->argv[a->i++] : NULL;
	static const char *const subs[] = {"add", "del", "list"};
	if (group_command(c, sub, "help.gateway", subs, OM_ARRAY_SIZE(subs)) < 0)
		return EXIT_USAGE;
	if (ensure_state_dir(c) < 0)
		return EXIT_FAILURE;
	char path[300], err[1024] = "";
	if (om_gw_quarantine_path(&c->cfg, path, sizeof(path)) < 0)
		return EXIT_FAILURE;
	if (!strcmp(sub, "list")) {
		om_addr_table *t = om_addr_table_new(4096);
		if (!t || om_gw_quarantine_load(path, t, err, sizeof(err)) < 0) {
			say_err(c, "err.gateway.quarantine", err);
			om_addr_table_free(t);
			return EXIT_FAILURE;
		}
		om_addr x;
		om_usec until;
		for (unsigned i = 0; om_addr_table_get(t, i, &x, &until); i++) {
			char s[64];
			om_addr_str(&x, s, sizeof(s));
			printf("%s\n", s);
		}
		om_addr_table_free(t);
		return 0;
	}
	om_addr addr;
	if (!host || om_addr_parse(host, &addr) < 0) {
		say_err(c, "err.usage_bad_value", "HOST", host ? host : "",
		        om_msg(c->lang, "hint.gateway.host"));
		return EXIT_USAGE;
	}
	if (om_gw_quarantine_edit(path, &addr, !strcmp(sub, "add"), err, sizeof(err)) < 0) {
		say_err(c, "err.gateway.quarantine", err);
		return EXIT_FAILURE;
	}
	char pidpath[512];
	state_path(c, "gateway.pid", pidpath, sizeof(pidpath));
	FILE *f = fopen(pidpath, "r");
	long pid = 0;
	if (f) {
		char line[32] = "";
		if (fgets(line, sizeof(line), f))
			pid = strtol(line, NULL, 10);
		fclose(f);
	}
	if (pid > 1 && kill((pid_t)pid, SIGHUP) == 0)
		printf("%s\n", om_msg(c->lang, "msg.gateway.quarantine_sent"));
	else
		printf("%s\n", om_msg(c->lang, "msg.gateway.quarantine_saved"));
	return 0;
}

/* ---- desk: the gateway applies the support desk's commands -------------------- */

/* Tells a running gateway (its pid file) to re-read its lists; false when
 * none runs (the change is saved and read at its start). */
static bool gw_hup(struct cli *c)
{
	char pidpath[512];
	state_path(c, "gateway.pid", pidpath, sizeof(pidpath));
	FILE *f = fopen(pidpath, "r");
	long pid = 0;
	if (f) {
		char line[32] = "";
		if (fgets(line, sizeof(line), f))
			pid = strtol(line, NULL, 10);
		fclose(f);
	}
	return pid > 1 && kill((pid_t)pid, SIGHUP) == 0;
}

#define DESK_BLOCKS_MAX 4096

/* The desk's blocks are the threat intelligence source "desk": the list
 * (desk-blocks in the state directory, one a line) is the truth, and the
 * intel database is rebuilt from the other sources plus that list, so an
 * unblock removes exactly what the desk added. The running gateway maps
 * the new database by itself (its 10-second check) or on SIGHUP. */
static int desk_block(struct cli *c, const char *target, bool add, char *detail, size_t n)
{
	char list[512], tmp[600], dbpath[512];
	static char have[DESK_BLOCKS_MAX][256];
	size_t nh = 0;
	bool found = false;
	int r;

	state_path(c, "desk-blocks", list, sizeof(list));
	/* the database the gateway uses for its tenant, else the state
	 * directory's (which 'intel' commands use) */
	const char *tdb = om_guard_intel_db(&c->cfg.guard, c->cfg.base.tenant);
	if (tdb)
		snprintf(dbpath, sizeof(dbpath), "%s", tdb);
	else
		state_path(c, "intel.db", dbpath, sizeof(dbpath));
	FILE *f = fopen(list, "r");
	if (f) {
		char line[300];
		while (nh < DESK_BLOCKS_MAX && fgets(line, sizeof(line), f)) {
			line[strcspn(line, "\r\n")] = '\0';
			if (!line[0])
				continue;
			if (!strcmp(line, target)) {
				found = true;
				if (!add)
					continue;
			}
			snprintf(have[nh++], sizeof(have[0]), "%.255s", line);
		}
		fclose(f);
	}
	if (add && !found) {
		if (nh >= DESK_BLOCKS_MAX) {
			snprintf(detail, n, "%s", om_msg(c->lang, "desk.apply.full"));
			return -ENOSPC;
		}
		snprintf(have[nh++], sizeof(have[0]), "%.255s", target);
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", list);
	f = fopen(tmp, "w");
	if (!f) {
		snprintf(detail, n, "%s: %s", tmp, strerror(errno));
		return -errno;
	}
	for (size_t i = 0; i < nh; i++)
		fprintf(f, "%s\n", have[i]);
	if (fclose(f) != 0 || rename(tmp, list) != 0) {
		snprintf(detail, n, "%s: %s", list, strerror(errno));
		return -EIO;
	}
	om_intel_builder *b = NULL;
	om_intel_db *db = NULL;
	static const char *const skip[] = {"desk"};
	r = om_intel_builder_new(&b);
	if (r == 0 && om_intel_db_open(dbpath, &db) == 0) {
		r = om_intel_builder_merge_except(b, db, (int64_t)(om_time_now() / 1000000), skip,
		                                  1);
		om_intel_db_close(db);
	}
	for (size_t i = 0; r == 0 && i < nh; i++) {
		om_intel_ind ind = {.type = OM_INTEL_AUTO,
		                    .value = have[i],
		                    .len = strlen(have[i]),
		                    .source = "desk",
		                    .confidence = 100,
		                    .threat = OM_INTEL_THREAT_OTHER};
		int ar = om_intel_builder_add(b, &ind);
		if (ar < 0)
			r = ar;
	}
	if (r == 0)
		r = om_intel_builder_write(b, dbpath);
	om_intel_builder_free(b);
	if (r < 0) {
		snprintf(detail, n, "%s: %s", dbpath, strerror(-r));
		return r;
	}
	gw_hup(c);
	snprintf(detail, n, "%s", add ? "blocked" : "unblocked");
	return 0;
}

static int desk_apply(void *user, const char *kind, const char *target, char *detail, size_t n)
{
	struct cli *c = user;
	bool q = !strcmp(kind, "quarantine"), rel = !strcmp(kind, "release");

	if (!strcmp(kind, "block") || !strcmp(kind, "unblock"))
		return desk_block(c, target, !strcmp(kind, "block"), detail, n);
	if (!q && !rel) {
		snprintf(detail, n, om_msg(c->lang, "desk.apply.unknown"), kind);
		return -EINVAL;
	}
	om_addr addr;
	char path[300], err[1024] = "";
	if (om_addr_parse(target, &addr) < 0) {
		snprintf(detail, n, om_msg(c->lang, "desk.apply.bad_host"), target);
		return -EINVAL;
	}
	if (ensure_state_dir(c) < 0 || om_gw_quarantine_path(&c->cfg, path, sizeof(path)) < 0) {
		snprintf(detail, n, "%s", om_msg(c->lang, "desk.apply.state"));
		return -EIO;
	}
	int r = om_gw_quarantine_edit(path, &addr, q, err, sizeof(err));
	if (r == -ENOENT && rel) {
		/* released already: the same end state */
		snprintf(detail, n, "%s", "not isolated");
		return 0;
	}
	if (r < 0) {
		snprintf(detail, n, "%s", err);
		return r;
	}
	bool told = gw_hup(c);
	snprintf(detail, n, "%s%s", q ? "isolated" : "released",
	         told ? "" : " (gateway not running)");
	return 0;
}

/* 'omamori desk ...': tickets in the store; 'desk poll' runs beside the
 * gateway and applies the desk's commands to it. */
static int cmd_desk(struct cli *c, struct args *a)
{
	return om_desk_main(a->argc - a->i + 1, a->argv + a->i - 1, c->lang, desk_apply, c);
}

static int cmd_gateway(struct cli *c, struct args *a)
{
	bool check = false;
	const char *ofile = NULL, *spooldir = NULL;
	const char *desk_url = NULL, *desk_cred = NULL, *desk_cacert = NULL;
	const char *inteldb = NULL; /* --intel-db, else the tenant's (below) */
	const char *rulefiles[64];
	unsigned nrules = 0;
	uint64_t run_seconds = 0;
	/* the anti-spam checks on received mail: the state directory's
	 * spam.db unless --spam-db says otherwise (missing: rules only) */
	const char *spamdb = NULL, *spamown = NULL, *spampartner = NULL;
	bool nospam = false;
	struct spam_run *spam = NULL;
	for (; a->i < a->argc; a->i++) {
		const char *arg = a->argv[a->i];
		const char *v;
		if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
			print_help(c, "help.gateway");
			return 0;
		} else if (!strcmp(arg, "quarantine")) {
			a->i++;
			return gw_quarantine(c, a);
		} else if (!strcmp(arg, "--check")) {
			check = true;
		} else if (!strcmp(arg, "--passive")) {
			c->cfg.gateway.mode = OM_GW_PASSIVE;
		} else if (!strcmp(arg, "-o") || opt_is(arg, "--output")) {
			if (!(ofile = opt_value(c, a, "-o")))
				return EXIT_USAGE;
		} else if (opt_is(arg, "--spool")) {
			if (!(spooldir = opt_value(c, a, "--spool")))
				return EXIT_USAGE;
		} else if (opt_is(arg, "--intel-db")) {
			if (!(inteldb = opt_value(c, a, "--intel-db")))
				return EXIT_USAGE;
		} else if (opt_is(arg, "--spam-db")) {
			if (!(spamdb = opt_value(c, a, "--spam-db")))
				return EXIT_USAGE;
		} else if (opt_is(arg, "--spam-own")) {
			if (!(spamown = opt_value(c, a, "--spam-own")))
				return EXIT_USAGE;
		} else if (opt_is(arg, "--spam-partner")) {
			if (!(spampartner = opt_value(c, a, "--spam-partner")))
				return EXIT_USAGE;
		} else if (!strcmp(arg, "--no-spam")) {
			nospam = true;
		} else if (opt_is(arg, "--desk")) {
			if (!(desk_url = opt_value(c, a, "--desk")))
				return EXIT_USAGE;
		} else if (opt_is(arg, "--desk-credential")) {
			if (!(desk_cred = opt_value(c, a, "--desk-credential")))
				return EXIT_USAGE;
		} else if (opt_is(arg, "--desk-cacert")) {
			if (!(desk_cacert = opt_value(c, a, "--desk-cacert")))
				return EXIT_USAGE;
		} else if (opt_is(arg, "--rules")) {
			if (!(v = opt_value(c, a, "--rules")))
				return EXIT_USAGE;
			if (nrules >= OM_ARRAY_SIZE(rulefiles)) {
				say_err(c, "err.usage_bad_value", "--rules", v,
				        om_msg(c->lang, "hint.rules"));
				return EXIT_USAGE;
			}
			rulefiles[nrules++] = v;
		} else if (opt_is(arg, "--run-seconds")) {
			if (!(v = opt_value(c, a, "--run-seconds")))
				return EXIT_USAGE;
			if (om_parse_u64(v, 1, 86400 * 365, &run_seconds) < 0) {
				say_err(c, "err.usage_bad_value", "--run-seconds", v,
				        om_msg(c->lang, "hint.gateway.run_seconds"));
				return EXIT_USAGE;
			}
		} else {
			say_err(c, "err.usage_unknown_option", arg, c->cmd);
			return EXIT_USAGE;
		}
	}
	if (check) {
		om_buf out;
		om_buf_init(&out, 1 << 20);
		om_fw_ruleset(&c->cfg.gateway, OM_FW_QUEUE_NONE, &out);
		fputs(om_buf_cstr(&out), stdout);
		om_buf_free(&out);
		if (c->cfg.gateway.mode == OM_GW_INLINE) {
			char why[512];
			enum om_fw_queue q = om_fw_probe_queue(why, sizeof(why));
			fprintf(stderr, "omamori: %s\n", why);
			return q == OM_FW_QUEUE_NONE ? EXIT_FAILURE : 0;
		}
		return 0;
	}
	char evepath[512], spoolpath[512], pidpath[512], err[1024] = "";
	om_log_set_level(OM_LOG_INFO); /* a service: say what it set up and how it ended */
	if (ensure_state_dir(c) < 0)
		return EXIT_FAILURE;
	if (!ofile) {
		state_path(c, "eve.json", evepath, sizeof(evepath));
		ofile = evepath;
	}
	if (!spooldir) {
		state_path(c, "spool", spoolpath, sizeof(spoolpath));
		spooldir = spoolpath;
	}
	om_eve *eve = NULL;
	om_spool *spool = NULL;
	om_proto *proto = NULL;
	om_app_registry *apps = NULL;
	om_av *av = NULL;
	om_detect *rules = NULL;
	om_detect_hub *hub = NULL;
	uint64_t syntax = 0;
	int rc = EXIT_FAILURE;
	om_spool_opts so;
	om_spool_opts_default(&so);
	om_intel_matcher im;
	memset(&im, 0, sizeof(im));
	om_wf_filter wf;
	om_appctl ac;
	bool use_wf = false, use_ac = false;
	memset(&wf, 0, sizeof(wf));
	memset(&ac, 0, sizeof(ac));
	unsigned gw_workers = c->cfg.gateway.workers ? c->cfg.gateway.workers : 1;
	if (!inteldb)
		inteldb = om_guard_intel_db(&c->cfg.guard, c->cfg.base.tenant);
	if (inteldb && intel_open(c, inteldb, gw_workers, &im) < 0)
		goto out;
	struct guard_opts gopt = {NULL, NULL, NULL, false};
	if (guards_setup(c, c->cfg.base.tenant, &gopt, &wf, &use_wf, &ac, &use_ac) < 0)
		goto out;
	if (om_eve_open(ofile, c->cfg.engine.eve_rotate_bytes, c->cfg.engine.eve_rotate_daily, &eve,
	                err, sizeof(err)) < 0) {
		say_err(c, "err.output", ofile, err);
		goto out;
	}
	om_eve_set_live(eve, true);
	if (om_spool_open(spooldir, &so, &spool, err, sizeof(err)) < 0) {
		say_err(c, "err.spool", err);
		goto out;
	}
	if (start_parsers(c, &proto, &apps) < 0)
		goto out;
	char spampath[512];
	if (!spamdb) {
		state_path(c, "spam.db", spampath, sizeof(spampath));
		spamdb = spampath;
	}
	if (!nospam && spam_setup(c, proto, spamdb, spamown, spampartner, use_wf ? &wf : NULL,
	                          inteldb ? &im : NULL, &spam) < 0)
		goto out;
	if ((nrules || c->cfg.detect.nfiles) &&
	    load_rules(c, rulefiles, nrules, proto, &rules, &hub, &syntax) < 0)
		goto out;
	/* without rules an empty hub: a reload (SIGHUP) may bring the first */
	if (!hub && proto &&
	    (!(hub = om_detect_hub_new(NULL)) || om_detect_attach(hub, proto) < 0)) {
		say_err(c, "err.nomem");
		goto out;
	}
	if (c->cfg.av.enabled && open_av(c, NULL, NULL, true, &av) < 0)
		goto out;
	state_path(c, "gateway.pid", pidpath, sizeof(pidpath));
	FILE *pf = fopen(pidpath, "w");
	if (pf) {
		fprintf(pf, "%ld\n", (long)getpid());
		fclose(pf);
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = gw_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	om_gateway_opts go = {.cfg = &c->cfg,
	                      .config_path = c->config_path,
	                      .eve = eve,
	                      .spool = spool,
	                      .apps = om_app_registry_count(apps) ? apps : NULL,
	                      .proto = proto,
	                      .webfilter = use_wf ? &wf : NULL,
	                      .appctl = use_ac ? &ac : NULL,
	                      .detect = hub,
	                      .rule_files = rulefiles,
	                      .nrule_files = nrules,
	                      .rules_syntax_errors = syntax,
	                      .stop = &gw_stop,
	                      .reload = &gw_reload,
	                      .run_seconds = (uint32_t)run_seconds,
	                      .intel = inteldb ? &im : NULL,
	                      .av = av};
	/* the support desk's command channel, polled beside the workers */
	om_desk_poller *desk = NULL;
	if (desk_url) {
		int dr = om_desk_poller_start(desk_url, desk_cred, desk_cacert, 0, c->lang,
		                              desk_apply, c, &desk);
		if (dr < 0) {
			say_err(c, "desk.err.poller", desk_url, desk_cred ? desk_cred : "-");
			unlink(pidpath);
			goto out;
		}
	}
	int r = om_gateway_run(&go, err, sizeof(err));
	om_desk_poller_stop(desk);
	unlink(pidpath);
	if (r < 0) {
		say_err(c, "err.gateway.run", err);
		goto out;
	}
	rc = EXIT_SUCCESS;
out:
	om_spool_close(spool);
	om_eve_close(eve);
	om_av_close(av); /* before proto: its scanner threads post to proto */
	om_app_registry_free(apps);
	om_proto_free(proto);
	spam_cleanup(spam);
	om_intel_live_free(im.live);
	om_wf_filter_cleanup(&wf);
	om_appctl_cleanup(&ac);
	om_detect_hub_free(hub);
	om_detect_free(rules);
	return rc;
}

/* ---- intel ----------------------------------------------------------------- */

/* Threat intelligence (src/guard) parses its own options; its default file
 * is intel.db in the state directory, its feeds are the configuration's. */
static int cmd_intel(struct cli *c, struct args *a)
{
	char path[512];
	state_path(c, "intel.db", path, sizeof(path));
	return om_intel_main(a->argc - a->i + 1, a->argv + a->i - 1, c->lang, path, &c->cfg.guard);
}

/* ---- main ------------------------------------------------------------------ */

static const struct command {
	const char *name;
	int (*run)(struct cli *c, struct args *a);
	const char *help_key;
	/* one command a line, so that commands added side by side merge */
	/* clang-format off */
} commands[] = {
    {"inspect", cmd_inspect, "help.inspect"},
    {"report", cmd_report, "help.report"},
    {"tenant", cmd_tenant, "report.help.tenant"},
    {"config", cmd_config, "help.config"},
    {"db", cmd_db, "help.db"},
    {"store", cmd_store, "help.store"},
    {"assess", cmd_assess, "help.assess"},
    {"exercise", cmd_exercise, "help.exercise"},
    {"webscan", cmd_webscan, "help.webscan"},
    {"drill", cmd_drill, "help.drill"},
    {"rules", cmd_rules, "help.rules"},
    {"webfilter", cmd_webfilter, "help.webfilter"},
    {"spam", cmd_spam, "help.spam"},
    {"milter", cmd_milter, "help.milter"},
    {"intel", cmd_intel, "help.intel"},
    {"av", cmd_av, "help.av"},
    {"gateway", cmd_gateway, "help.gateway"},
    {"console", cmd_console, "help.console"},
    {"desk", cmd_desk, "desk.help"},
};
/* clang-format on */

static const struct command *command_find(const char *name)
{
	for (size_t i = 0; i < OM_ARRAY_SIZE(commands); i++)
		if (!strcmp(name, commands[i].name))
			return &commands[i];
	return NULL;
}

/* Edit distance (insert, delete, substitute, swap of neighbours) between two
 * short words; longer words count as far apart. */
static size_t word_distance(const char *a, const char *b)
{
	enum { MAXW = 32 };
	size_t n = strlen(a), m = strlen(b);
	if (n >= MAXW || m >= MAXW)
		return MAXW;
	size_t d[MAXW + 1][MAXW + 1];
	for (size_t i = 0; i <= n; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= m; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= n; i++) {
		for (size_t j = 1; j <= m; j++) {
			size_t best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	}
	return d[n][m];
}

/* An unknown command: points to 'omamori --help', and to the command the
 * user probably meant when one is a typo or two away. */
static void unknown_command(const struct cli *c, const char *name)
{
	const char *best = NULL;
	size_t bestd = 3;
	for (size_t i = 0; i < OM_ARRAY_SIZE(commands); i++) {
		size_t d = word_distance(name, commands[i].name);
		if (d < bestd && d < strlen(commands[i].name)) {
			bestd = d;
			best = commands[i].name;
		}
	}
	if (best)
		say_err(c, "err.usage_unknown_command_suggest", name, best);
	else
		say_err(c, "err.usage_unknown_command", name);
}

/* The language before any message: --lang on the command line wins, and
 * then the environment is not read (so a bad OMAMORI_LANG is not warned
 * about when it does not matter). */
static enum om_lang lang_early(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *v = NULL;
		if (!strcmp(argv[i], "--lang") && i + 1 < argc)
			v = argv[i + 1];
		else if (!strncmp(argv[i], "--lang=", 7))
			v = argv[i] + 7;
		enum om_lang l;
		if (v && om_lang_parse(v, &l) == 0)
			return l;
	}
	return om_lang_from_env();
}

int main(int argc, char **argv)
{
	struct cli c;
	memset(&c, 0, sizeof(c));
	if (om_i18n_init() < 0)
		return EXIT_FAILURE;
	c.lang = lang_early(argc, argv);
	om_settings_defaults(&c.cfg);

	/* First pass: global options anywhere on the line; the rest is kept. */
	char **rest = calloc((size_t)argc + 1, sizeof(char *));
	if (!rest)
		return EXIT_FAILURE;
	int nrest = 0;
	bool help = false, version = false;
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		if (!strcmp(arg, "-c") || opt_is(arg, "--config")) {
			struct args a = {argc, argv, i};
			if (!(c.config_path = opt_value(&c, &a, "-c"))) {
				free(rest);
				return EXIT_USAGE;
			}
			i = a.i;
		} else if (opt_is(arg, "--lang")) {
			struct args a = {argc, argv, i};
			const char *v = opt_value(&c, &a, "--lang");
			if (!v || om_lang_parse(v, &c.lang) < 0) {
				if (v)
					say_err(&c, "err.usage_bad_value", "--lang", v,
					        om_msg(c.lang, "hint.lang"));
				free(rest);
				return EXIT_USAGE;
			}
			i = a.i;
		} else if (!strcmp(arg, "--version")) {
			version = true;
		} else if (nrest == 0 && (!strcmp(arg, "-h") || !strcmp(arg, "--help"))) {
			help = true;
		} else {
			rest[nrest++] = argv[i];
		}
	}
	/* Messages that lower modules write (configuration, capture, database
	 * errors) come in the same language as ours. */
	om_lang_set_thread(c.lang);
	int rc;
	if (version || (nrest > 0 && !strcmp(rest[0], "version"))) {
		printf("omamori %s (%s)\n", OMAMORI_VERSION, OMAMORI_BUILD);
		rc = 0;
		goto out;
	}
	if (help || nrest == 0) {
		print_help(&c, "help.main");
		rc = nrest == 0 && !help ? EXIT_USAGE : 0;
		goto out;
	}
	if (!strcmp(rest[0], "help")) {
		/* 'omamori help' and 'omamori help COMMAND' */
		const struct command *cmd = nrest > 1 ? command_find(rest[1]) : NULL;
		if (nrest > 1 && !cmd) {
			unknown_command(&c, rest[1]);
			rc = EXIT_USAGE;
			goto out;
		}
		print_help(&c, cmd ? cmd->help_key : "help.main");
		rc = 0;
		goto out;
	}
	const struct command *cmd = command_find(rest[0]);
	if (!cmd) {
		unknown_command(&c, rest[0]);
		rc = EXIT_USAGE;
		goto out;
	}
	if (c.config_path && strcmp(cmd->name, "console") != 0) {
		char err[1024];
		if (om_settings_load(&c.cfg, c.config_path, err, sizeof(err)) < 0) {
			/* an unreadable file ("PATH: reason") or a bad setting
			 * ("PATH:LINE: ..."); both with what to do */
			const char *why = reason_for(err, c.config_path);
			if (why)
				say_err(&c, "err.config_open", c.config_path, why);
			else
				say_err(&c, "err.config_at", err, c.config_path);
			rc = EXIT_FAILURE;
			goto out;
		}
	}
	c.cmd = cmd->name;
	struct args a = {nrest, rest, 1};
	rc = cmd->run(&c, &a);
out:
	free(rest);
	return rc;
}
