/* drill: `omamori drill targets import FILE | list` and `omamori drill
 * exclude add|remove|list`. The store is --db FILE, else $OMAMORI_DB, else
 * omamori.db in the state directory ($OMAMORI_STATE_DIR, /var/lib/omamori
 * for root, else ~/.local/state/omamori). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "drill/drill.h"

#define DRILL_EXIT_USAGE 2
#define DRILL_DEFAULT_DB "/var/lib/omamori/omamori.db"

/* Options that take a value, by index into cx.v. */
enum opt {
	O_DB,
	O_GROUP,
	O_REASON,
	O_FORMAT,
	O_LANG,
	O_TO,
	O_FROM,
	O_CHARSET,
	O_TEMPLATE,
	O_BASE_URL,
	O_TENANT,
	O_TZ,
	O_DAYS,
	O_HOURS,
	O_START,
	O_SPREAD,
	O_RATE,
	O_FROM_NAME,
	O_SMTP,
	O_SMTP_USER,
	O_CACERT,
	O_MAX_ATTEMPTS,
	O_LISTEN,
	O_SCANNER_NET,
	O_FAST_SECS,
	O_IMAP,
	O_IMAP_USER,
	O_COMPARE,
	O_ACCOUNT,
	O_MIN_GROUP,
	O_OUTPUT,
	O__COUNT
};
static const char *const opt_names[O__COUNT] = {
    "--db",        "--group",     "--reason",    "--format",       "--lang",    "--to",
    "--from",      "--charset",   "--template",  "--base-url",     "--tenant",  "--tz",
    "--days",      "--hours",     "--start",     "--spread",       "--rate",    "--from-name",
    "--smtp",      "--smtp-user", "--cacert",    "--max-attempts", "--listen",  "--scanner-net",
    "--fast-secs", "--imap",      "--imap-user", "--compare",      "--account", "--min-group",
    "--output"};
/* Flags without a value. */
enum flag { F_STARTTLS, F_INSECURE, F_NO_WAIT, F_NAMES, F_BEHIND_PROXY, F__COUNT };
static const char *const flag_names[F__COUNT] = {"--starttls", "--insecure", "--no-wait", "--names",
                                                 "--behind-proxy"};

#define DRILL_MAX_NETS 64

struct cx {
	enum om_lang lang;
	const char *v[O__COUNT];
	bool flag[F__COUNT];
	const char *db;
	const char *group;
	const char *reason;
	const char *charset;
	const char *to;
	const char *from;
	const char *format;
	bool json;
	bool lang_set;
	const char *nets[DRILL_MAX_NETS];
	int nnets;
	const char *pos[4];
	int npos;
};

static void say(const struct cx *c, const char *key, ...)
{
	char line[2048];
	va_list ap;
	va_start(ap, key);
	vsnprintf(line, sizeof(line), om_msg(c->lang, key), ap);
	va_end(ap);
	fprintf(stderr, "omamori drill: %s\n", line);
}

static int usage(const struct cx *c)
{
	fputs(om_msg(c->lang, "help.drill"), stderr);
	return DRILL_EXIT_USAGE;
}

/* Parses options after the command words; positional words into c->pos. */
static int parse(struct cx *c, int argc, char **argv, int from)
{
	for (int i = from; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(om_msg(c->lang, "help.drill"), stdout);
			return 1;
		}
		if (!strcmp(a, "-o"))
			a = "--output";
		int f = -1;
		for (int k = 0; k < F__COUNT; k++)
			if (!strcmp(a, flag_names[k]))
				f = k;
		if (f >= 0) {
			c->flag[f] = true;
			continue;
		}
		int o = -1;
		const char *val = NULL;
		for (int k = 0; k < O__COUNT; k++) {
			size_t n = strlen(opt_names[k]);
			if (!strncmp(a, opt_names[k], n) && (a[n] == 0 || a[n] == '=')) {
				o = k;
				if (a[n] == '=') {
					val = a + n + 1;
				} else if (i + 1 < argc) {
					val = argv[++i];
				} else {
					say(c, "drill.err.opt_value", opt_names[k]);
					return -DRILL_EXIT_USAGE;
				}
				break;
			}
		}
		if (o < 0) {
			if (a[0] == '-' && a[1]) {
				say(c, "drill.err.opt_unknown", a);
				return -DRILL_EXIT_USAGE;
			}
			if (c->npos >= (int)OM_ARRAY_SIZE(c->pos)) {
				say(c, "drill.err.extra_arg", a);
				return -DRILL_EXIT_USAGE;
			}
			c->pos[c->npos++] = a;
			continue;
		}
		if (!*val) {
			say(c, "drill.err.opt_value", opt_names[o]);
			return -DRILL_EXIT_USAGE;
		}
		if (o == O_SCANNER_NET) {
			if (c->nnets >= DRILL_MAX_NETS) {
				say(c, "drill.err.too_many_nets", DRILL_MAX_NETS);
				return -DRILL_EXIT_USAGE;
			}
			c->nets[c->nnets++] = val;
			continue;
		}
		c->v[o] = val;
		if (o == O_FORMAT) {
			c->format = val;
			if (!strcmp(val, "json")) {
				c->json = true;
			} else if (!strcmp(val, "text")) {
				c->json = false;
			} else if (strcmp(val, "csv") && strcmp(val, "xlsx") &&
			           strcmp(val, "pdf")) {
				say(c, "drill.err.format", val);
				return -DRILL_EXIT_USAGE;
			}
		} else if (o == O_LANG) {
			if (om_lang_parse(val, &c->lang) < 0) {
				say(c, "drill.err.lang", val);
				return -DRILL_EXIT_USAGE;
			}
			c->lang_set = true;
		}
	}
	c->db = c->v[O_DB];
	c->group = c->v[O_GROUP];
	c->reason = c->v[O_REASON];
	c->charset = c->v[O_CHARSET];
	c->to = c->v[O_TO];
	c->from = c->v[O_FROM];
	return 0;
}

static int open_store(const struct cx *c, om_store **ret)
{
	const char *db = c->db;
	char path[4096];
	if (!db) {
		/* as the other commands: the state directory's omamori.db */
		const char *e = getenv("OMAMORI_DB"), *sd = getenv("OMAMORI_STATE_DIR"),
		           *home = getenv("HOME");
		if (e && *e)
			db = e;
		else if (sd && *sd)
			snprintf(path, sizeof(path), "%s/omamori.db", sd), db = path;
		else if (geteuid() != 0 && home && *home)
			snprintf(path, sizeof(path), "%s/.local/state/omamori/omamori.db", home),
			    db = path;
		else
			db = DRILL_DEFAULT_DB;
	}
	char err[1024] = "";
	int r = om_store_open(db, ret, err, sizeof(err));
	if (r < 0)
		say(c, "drill.err.store", err);
	return r;
}

static int targets_import(struct cx *c)
{
	if (c->npos != 1) {
		say(c, "drill.err.import_args");
		return DRILL_EXIT_USAGE;
	}
	if (c->group && !*c->group) {
		say(c, "drill.err.opt_value", "--group");
		return DRILL_EXIT_USAGE;
	}
	om_drill_targets t = {0};
	char err[2048] = "";
	int r = om_drill_targets_load(c->pos[0], &t, c->lang, err, sizeof(err));
	if (r < 0) {
		say(c, "drill.err.import", err);
		return EXIT_FAILURE;
	}
	om_store *s = NULL;
	if (open_store(c, &s) < 0) {
		om_drill_targets_free(&t);
		return EXIT_FAILURE;
	}
	r = om_store_drill_import(s, t.t, t.n, c->group, err, sizeof(err));
	om_store_close(s);
	if (r < 0) {
		say(c, "drill.err.store", err);
		om_drill_targets_free(&t);
		return EXIT_FAILURE;
	}
	if (c->json) {
		printf("{\"file\":");
		om_buf b;
		om_buf_init(&b, 1u << 16);
		om_json_escape(&b, c->pos[0], strlen(c->pos[0]));
		printf("%s,\"imported\":%zu}\n", om_buf_cstr(&b), t.n);
		om_buf_free(&b);
	} else {
		printf(om_msg(c->lang, "drill.targets.imported"), t.n, c->pos[0]);
		putchar('\n');
	}
	om_drill_targets_free(&t);
	return 0;
}

struct list_cx {
	const struct cx *c;
	om_buf out;
	om_json j;
	size_t n;
};

static int list_one(void *user, const om_store_drill_target *t)
{
	struct list_cx *l = user;
	l->n++;
	if (l->c->json) {
		om_json_obj_open(&l->j, NULL);
		om_json_str(&l->j, "mail", t->mail);
		om_json_str(&l->j, "name", t->name);
		om_json_str(&l->j, "organisation", t->organisation);
		om_json_str(&l->j, "department", t->department);
		om_json_str(&l->j, "role", t->role);
		om_json_raw(&l->j, "custom", t->custom_json);
		om_json_bool(&l->j, "excluded", t->excluded);
		om_json_obj_close(&l->j);
		if (l->out.toobig)
			return -E2BIG;
		return 0;
	}
	printf("%s\t%s\t%s\t%s\t%s%s\n", t->mail, t->name, t->organisation, t->department, t->role,
	       t->excluded ? om_msg(l->c->lang, "drill.targets.excluded_mark") : "");
	return 0;
}

static int targets_list(struct cx *c)
{
	if (c->npos != 0) {
		say(c, "drill.err.extra_arg", c->pos[0]);
		return DRILL_EXIT_USAGE;
	}
	om_store *s = NULL;
	if (open_store(c, &s) < 0)
		return EXIT_FAILURE;
	struct list_cx l = {.c = c};
	om_buf_init(&l.out, 256u << 20);
	om_json_init(&l.j, &l.out);
	if (c->json) {
		om_json_obj_open(&l.j, NULL);
		om_json_arr_open(&l.j, "targets");
	}
	int r = om_store_drill_targets(s, c->group, list_one, &l);
	om_store_close(s);
	if (r < 0) {
		say(c, "drill.err.store", strerror(-r));
		om_buf_free(&l.out);
		return EXIT_FAILURE;
	}
	if (c->json) {
		om_json_arr_close(&l.j);
		om_json_u64(&l.j, "count", l.n);
		om_json_obj_close(&l.j);
		printf("%s\n", om_buf_cstr(&l.out));
	}
	om_buf_free(&l.out);
	return 0;
}

static int excl_one(void *user, const char *pattern, const char *reason)
{
	struct list_cx *l = user;
	l->n++;
	if (l->c->json) {
		om_json_obj_open(&l->j, NULL);
		om_json_str(&l->j, "pattern", pattern);
		om_json_str(&l->j, "reason", reason);
		om_json_obj_close(&l->j);
	} else {
		printf("%s\t%s\n", pattern, reason);
	}
	return 0;
}

/* An exclusion is a mail address or "@domain". */
static bool pattern_ok(const char *p)
{
	if (p[0] == '@') {
		char probe[300];
		if (strlen(p) > 250)
			return false;
		snprintf(probe, sizeof(probe), "x%s", p);
		return om_drill_mail_valid(probe);
	}
	return om_drill_mail_valid(p);
}

static int exclude_cmd(struct cx *c, const char *sub)
{
	bool list = !strcmp(sub, "list");
	bool remove = !strcmp(sub, "remove");
	if (!list && !remove && strcmp(sub, "add")) {
		say(c, "drill.err.command", sub);
		return usage(c);
	}
	if ((list && c->npos != 0) || (!list && c->npos != 1)) {
		say(c, "drill.err.exclude_args");
		return DRILL_EXIT_USAGE;
	}
	char pat[300] = "";
	if (!list) {
		if (strlen(c->pos[0]) >= sizeof(pat) || !pattern_ok(c->pos[0])) {
			say(c, "drill.err.bad_pattern", c->pos[0]);
			return EXIT_FAILURE;
		}
		snprintf(pat, sizeof(pat), "%s", c->pos[0]);
		for (char *p = pat; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p + 32);
	}
	om_store *s = NULL;
	if (open_store(c, &s) < 0)
		return EXIT_FAILURE;
	int r;
	if (list) {
		struct list_cx l = {.c = c};
		om_buf_init(&l.out, 64u << 20);
		om_json_init(&l.j, &l.out);
		if (c->json) {
			om_json_obj_open(&l.j, NULL);
			om_json_arr_open(&l.j, "exclusions");
		}
		r = om_store_drill_exclusions(s, excl_one, &l);
		if (r == 0 && c->json) {
			om_json_arr_close(&l.j);
			om_json_obj_close(&l.j);
			printf("%s\n", om_buf_cstr(&l.out));
		}
		om_buf_free(&l.out);
	} else {
		r = om_store_drill_exclude(s, pat, c->reason ? c->reason : "", remove);
	}
	om_store_close(s);
	if (r == -ENOENT) {
		say(c, "drill.err.not_excluded", pat);
		return EXIT_FAILURE;
	}
	if (r < 0) {
		say(c, "drill.err.store", strerror(-r));
		return EXIT_FAILURE;
	}
	return 0;
}

static int template_list(struct cx *c)
{
	om_buf b;
	om_json j;
	om_buf_init(&b, 1u << 20);
	om_json_init(&j, &b);
	if (c->json) {
		om_json_obj_open(&j, NULL);
		om_json_arr_open(&j, "templates");
	}
	for (unsigned i = 0; i < om_drill_template_count(); i++) {
		om_drill_template t;
		if (om_drill_template_get(i, &t) < 0)
			continue;
		if (c->json) {
			om_json_obj_open(&j, NULL);
			om_json_str(&j, "name", t.name);
			om_json_str(&j, "lang", om_lang_name(t.lang));
			om_json_strn(&j, "subject", t.subject, t.subject_len);
			om_json_bool(&j, "attachment", t.attachment != NULL);
			om_json_obj_close(&j);
		} else {
			printf("%s\t%s\t%.*s\n", t.name, om_lang_name(t.lang), (int)t.subject_len,
			       t.subject);
		}
	}
	if (c->json) {
		om_json_arr_close(&j);
		om_json_obj_close(&j);
		printf("%s\n", om_buf_cstr(&b));
	}
	om_buf_free(&b);
	return 0;
}

/* Renders a template for one sample (or --to) recipient, as it would be
 * sent, with example URLs. */
static int template_show(struct cx *c)
{
	if (c->npos != 1) {
		say(c, "drill.err.show_args");
		return DRILL_EXIT_USAGE;
	}
	enum om_drill_charset cs = OM_DRILL_CS_ISO2022JP;
	if (c->charset) {
		if (!strcasecmp(c->charset, "utf-8")) {
			cs = OM_DRILL_CS_UTF8;
		} else if (strcasecmp(c->charset, "iso-2022-jp")) {
			say(c, "drill.err.charset", c->charset);
			return DRILL_EXIT_USAGE;
		}
	}
	om_drill_template t;
	if (om_drill_template_find(c->pos[0], c->lang, &t) < 0) {
		say(c, "drill.err.tpl_not_found", c->pos[0]);
		return EXIT_FAILURE;
	}
	bool ja = c->lang == OM_LANG_JA;
	om_store_drill_target tg = {
	    .mail = c->to ? c->to : "taro.yamada@example.co.jp",
	    .name = ja ? "山田 太郎" : "Taro Yamada",
	    .organisation = ja ? "株式会社さくら製作所" : "Sakura Works Ltd.",
	    .department = ja ? "営業部" : "Sales",
	    .role = ja ? "課長" : "Manager",
	    .custom_json = "{}",
	};
	if (!om_drill_mail_valid(tg.mail)) {
		say(c, "drill.err.bad_pattern", tg.mail);
		return EXIT_FAILURE;
	}
	om_drill_vars v = {
	    .target = &tg,
	    .sender = ja ? "鈴木 一郎" : "Ichiro Suzuki",
	    .date = "2026-12",
	    .link = "http://drill.example.invalid/t/c/EXAMPLETOKEN",
	    .report_link = "http://drill.example.invalid/t/r/EXAMPLETOKEN",
	    .open_url = "http://drill.example.invalid/t/o/EXAMPLETOKEN.gif",
	    .attach_url = "http://drill.example.invalid/t/a/EXAMPLETOKEN.gif",
	    .landing_url = "http://drill.example.invalid/t/l/EXAMPLETOKEN",
	    .submit_url = "http://drill.example.invalid/t/s/EXAMPLETOKEN",
	    .token = "EXAMPLETOKEN",
	};
	om_drill_mail_opts o = {
	    .from_addr = c->from ? c->from : "drill@example.invalid",
	    .msgid_domain = "example.invalid",
	    .date = om_time_now(),
	    .charset = cs,
	};
	om_buf b;
	om_buf_init(&b, 8u << 20);
	int r = om_drill_message(&t, &v, &o, &b, NULL);
	if (r < 0) {
		say(c, "drill.err.render", c->pos[0], strerror(-r));
		om_buf_free(&b);
		return EXIT_FAILURE;
	}
	fwrite(b.data, 1, b.len, stdout);
	om_buf_free(&b);
	return 0;
}

/* ---- rounds, sending, tracking, results ---- */

static volatile int drill_stop;

static void on_signal(int sig)
{
	(void)sig;
	drill_stop = 1;
}

static void catch_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static int need(const struct cx *c, enum opt o)
{
	if (!c->v[o]) {
		say(c, "drill.err.opt_needed", opt_names[o]);
		return -1;
	}
	return 0;
}

static int parse_uint(const struct cx *c, enum opt o, uint64_t min, uint64_t max, uint64_t dflt,
                      unsigned *ret)
{
	uint64_t v = dflt;
	if (c->v[o] && om_parse_u64(c->v[o], min, max, &v) < 0) {
		say(c, "drill.err.opt_number", opt_names[o], c->v[o], (unsigned)min, (unsigned)max);
		return -1;
	}
	*ret = (unsigned)v;
	return 0;
}

static bool url_ok(const char *u, const char *const *schemes, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(schemes[i]);
		if (!strncmp(u, schemes[i], l) && u[l])
			return true;
	}
	return false;
}

static int smtp_from_cx(const struct cx *c, om_drill_smtp *m)
{
	static const char *const sch[] = {"smtp://", "smtps://"};
	if (need(c, O_SMTP) < 0)
		return -1;
	if (!url_ok(c->v[O_SMTP], sch, 2)) {
		say(c, "drill.err.smtp_url", c->v[O_SMTP]);
		return -1;
	}
	memset(m, 0, sizeof(*m));
	m->url = c->v[O_SMTP];
	m->user = c->v[O_SMTP_USER];
	m->password = getenv("OMAMORI_SMTP_PASSWORD");
	m->cacert = c->v[O_CACERT];
	m->starttls = c->flag[F_STARTTLS];
	m->insecure = c->flag[F_INSECURE];
	return 0;
}

/* "now", "YYYY-MM-DDTHH:MM" (local time in tz) or "@SECONDS". */
static int parse_start(const char *s, const char *tz, int64_t *ret)
{
	if (!strcmp(s, "now")) {
		*ret = (int64_t)om_time_now();
		return 0;
	}
	if (s[0] == '@') {
		uint64_t v;
		if (om_parse_u64(s + 1, 0, 1ULL << 40, &v) < 0)
			return -EINVAL;
		*ret = (int64_t)v * 1000000;
		return 0;
	}
	return om_drill_local_parse(s, tz, ret);
}

static int round_create(struct cx *c)
{
	if (c->npos != 1) {
		say(c, "drill.err.round_args");
		return DRILL_EXIT_USAGE;
	}
	if (need(c, O_TEMPLATE) < 0 || need(c, O_FROM) < 0 || need(c, O_BASE_URL) < 0)
		return DRILL_EXIT_USAGE;
	om_store_drill_round r;
	memset(&r, 0, sizeof(r));
	if (strlen(c->pos[0]) >= sizeof(r.id) || !*c->pos[0]) {
		say(c, "drill.err.round_name", c->pos[0]);
		return DRILL_EXIT_USAGE;
	}
	om_drill_template t;
	if (om_drill_template_find(c->v[O_TEMPLATE], c->lang, &t) < 0) {
		say(c, "drill.err.tpl_not_found", c->v[O_TEMPLATE]);
		return EXIT_FAILURE;
	}
	if (!om_drill_mail_valid(c->v[O_FROM])) {
		say(c, "drill.err.bad_from", c->v[O_FROM]);
		return DRILL_EXIT_USAGE;
	}
	static const char *const sch[] = {"http://", "https://"};
	if (!url_ok(c->v[O_BASE_URL], sch, 2) || strlen(c->v[O_BASE_URL]) >= sizeof(r.base_url)) {
		say(c, "drill.err.base_url", c->v[O_BASE_URL]);
		return DRILL_EXIT_USAGE;
	}
	snprintf(r.id, sizeof(r.id), "%s", c->pos[0]);
	snprintf(r.tenant, sizeof(r.tenant), "%s", c->v[O_TENANT] ? c->v[O_TENANT] : "");
	snprintf(r.template_name, sizeof(r.template_name), "%s", c->v[O_TEMPLATE]);
	snprintf(r.lang, sizeof(r.lang), "%s", om_lang_name(c->lang));
	snprintf(r.charset, sizeof(r.charset), "%s",
	         c->charset && !strcasecmp(c->charset, "utf-8") ? "utf-8" : "iso-2022-jp");
	if (c->charset && strcasecmp(c->charset, "utf-8") &&
	    strcasecmp(c->charset, "iso-2022-jp")) {
		say(c, "drill.err.charset", c->charset);
		return DRILL_EXIT_USAGE;
	}
	snprintf(r.group_name, sizeof(r.group_name), "%s", c->group ? c->group : "");
	snprintf(r.from_addr, sizeof(r.from_addr), "%s", c->v[O_FROM]);
	snprintf(r.from_name, sizeof(r.from_name), "%s",
	         c->v[O_FROM_NAME] ? c->v[O_FROM_NAME] : "");
	snprintf(r.base_url, sizeof(r.base_url), "%s", c->v[O_BASE_URL]);
	snprintf(r.tz, sizeof(r.tz), "%s", c->v[O_TZ] ? c->v[O_TZ] : "Asia/Tokyo");
	char zpath[320];
	snprintf(zpath, sizeof(zpath), "/usr/share/zoneinfo/%s", r.tz);
	if (strstr(r.tz, "..") || access(zpath, R_OK) != 0) {
		say(c, "drill.err.tz", r.tz);
		return DRILL_EXIT_USAGE;
	}
	if (om_drill_days_parse(c->v[O_DAYS] ? c->v[O_DAYS] : "mon-fri", &r.days) < 0) {
		say(c, "drill.err.days", c->v[O_DAYS]);
		return DRILL_EXIT_USAGE;
	}
	if (om_drill_hours_parse(c->v[O_HOURS] ? c->v[O_HOURS] : "9-17", &r.hour_start,
	                         &r.hour_end) < 0) {
		say(c, "drill.err.hours", c->v[O_HOURS]);
		return DRILL_EXIT_USAGE;
	}
	if (parse_start(c->v[O_START] ? c->v[O_START] : "now", r.tz, &r.start_at) < 0) {
		say(c, "drill.err.start", c->v[O_START]);
		return DRILL_EXIT_USAGE;
	}
	if (c->v[O_SPREAD] && om_drill_duration_parse(c->v[O_SPREAD], &r.spread) < 0) {
		say(c, "drill.err.duration", "--spread", c->v[O_SPREAD]);
		return DRILL_EXIT_USAGE;
	}
	if (parse_uint(c, O_RATE, 1, 100000, 30, &r.rate) < 0)
		return DRILL_EXIT_USAGE;
	r.created = (int64_t)om_time_now();
	om_store *s = NULL;
	if (open_store(c, &s) < 0)
		return EXIT_FAILURE;
	size_t n = 0, excl = 0;
	char err[1024] = "";
	int rc = om_drill_round_create(s, &r, &n, &excl, err, sizeof(err));
	om_store_close(s);
	if (rc == -EEXIST) {
		say(c, "drill.err.round_exists", r.id);
		return EXIT_FAILURE;
	}
	if (rc == -ENOENT) {
		say(c, "drill.err.no_targets", r.group_name[0] ? r.group_name : "-");
		return EXIT_FAILURE;
	}
	if (rc < 0) {
		say(c, "drill.err.store", err[0] ? err : strerror(-rc));
		return EXIT_FAILURE;
	}
	if (c->json) {
		printf("{\"round\":\"%s\",\"recipients\":%zu,\"excluded\":%zu}\n", r.id, n, excl);
	} else {
		printf(om_msg(c->lang, "drill.round.created"), r.id, n, excl);
		putchar('\n');
	}
	return 0;
}

static int round_send(struct cx *c)
{
	if (c->npos != 1) {
		say(c, "drill.err.round_args");
		return DRILL_EXIT_USAGE;
	}
	om_drill_smtp m;
	if (smtp_from_cx(c, &m) < 0)
		return DRILL_EXIT_USAGE;
	om_drill_send_opts o = {.wait = !c->flag[F_NO_WAIT], .stop = &drill_stop};
	if (parse_uint(c, O_MAX_ATTEMPTS, 1, 20, 5, &o.max_attempts) < 0)
		return DRILL_EXIT_USAGE;
	om_store *s = NULL;
	if (open_store(c, &s) < 0)
		return EXIT_FAILURE;
	catch_signals();
	om_drill_send_stats st = {0};
	char err[1024] = "";
	int r = om_drill_round_send(s, c->pos[0], &m, &o, &st, err, sizeof(err));
	om_drill_smtp_close(&m);
	om_store_close(s);
	if (r == -ENOENT) {
		say(c, "drill.err.no_round", c->pos[0]);
		return EXIT_FAILURE;
	}
	if (r == -EACCES) {
		say(c, "drill.err.smtp_login", err);
		return EXIT_FAILURE;
	}
	if (r < 0) {
		say(c, "drill.err.send", err[0] ? err : strerror(-r));
		return EXIT_FAILURE;
	}
	if (c->json)
		printf("{\"sent\":%u,\"bounced\":%u,\"failed\":%u,\"retried\":%u,\"pending\":%u}\n",
		       st.sent, st.bounced, st.failed, st.retried, st.pending);
	else {
		printf(om_msg(c->lang, "drill.round.sent"), st.sent, st.bounced, st.failed,
		       st.retried, st.pending);
		putchar('\n');
	}
	return 0;
}

struct status_cx {
	unsigned n[OM_DRILL_STATE__COUNT];
};

static int status_one(void *user, const om_store_drill_recipient *p)
{
	struct status_cx *x = user;
	if (p->state >= 0 && p->state < OM_DRILL_STATE__COUNT)
		x->n[p->state]++;
	return 0;
}

static int round_status(struct cx *c)
{
	if (c->npos != 1) {
		say(c, "drill.err.round_args");
		return DRILL_EXIT_USAGE;
	}
	om_store *s = NULL;
	if (open_store(c, &s) < 0)
		return EXIT_FAILURE;
	om_store_drill_round r;
	int rc = om_store_drill_round_get(s, c->pos[0], &r);
	struct status_cx x = {0};
	om_drill_results *R = NULL;
	om_drill_scan_cfg cfg;
	om_drill_scan_defaults(&cfg);
	if (rc == 0)
		rc = om_store_drill_recipients(s, c->pos[0], 0, 0, status_one, &x);
	if (rc == 0)
		rc = om_drill_results_load(s, c->pos[0], &cfg, 0, &R);
	om_store_close(s);
	if (rc == -ENOENT) {
		say(c, "drill.err.no_round", c->pos[0]);
		return EXIT_FAILURE;
	}
	if (rc < 0) {
		say(c, "drill.err.store", strerror(-rc));
		return EXIT_FAILURE;
	}
	om_drill_cell t;
	om_drill_results_totals(R, &t);
	om_drill_results_free(R);
	static const char *const ev[] = {"opened", "clicked", "attachment", "submitted",
	                                 "reported"};
	if (c->json) {
		printf(
		    "{\"round\":\"%s\",\"template\":\"%s\",\"queued\":%u,\"retry\":%u,\"sent\":%u,"
		    "\"bounced\":%u,\"failed\":%u",
		    r.id, r.template_name, x.n[OM_DRILL_QUEUED], x.n[OM_DRILL_RETRY],
		    x.n[OM_DRILL_SENT], x.n[OM_DRILL_BOUNCED], x.n[OM_DRILL_FAILED]);
		for (int k = 0; k < OM_DRILL_EV__COUNT; k++)
			printf(",\"%s\":%u", ev[k], t.did[k]);
		printf("}\n");
	} else {
		printf(om_msg(c->lang, "drill.round.status"), r.id, r.template_name,
		       x.n[OM_DRILL_QUEUED] + x.n[OM_DRILL_RETRY], x.n[OM_DRILL_SENT],
		       x.n[OM_DRILL_BOUNCED], x.n[OM_DRILL_FAILED], t.did[OM_DRILL_EV_OPEN],
		       t.did[OM_DRILL_EV_CLICK], t.did[OM_DRILL_EV_REPORT]);
		putchar('\n');
	}
	return 0;
}

static int round_list_one(void *user, const om_store_drill_round *r)
{
	const struct cx *c = user;
	(void)c;
	printf("%s\t%s\t%s\t%s\n", r->id, r->template_name, r->lang,
	       r->group_name[0] ? r->group_name : "-");
	return 0;
}

static int round_list(struct cx *c)
{
	om_store *s = NULL;
	if (open_store(c, &s) < 0)
		return EXIT_FAILURE;
	int r = om_store_drill_rounds(s, round_list_one, c);
	om_store_close(s);
	if (r < 0) {
		say(c, "drill.err.store", strerror(-r));
		return EXIT_FAILURE;
	}
	return 0;
}

static int test_send(struct cx *c)
{
	if (need(c, O_TEMPLATE) < 0 || need(c, O_TO) < 0 || need(c, O_FROM) < 0)
		return DRILL_EXIT_USAGE;
	om_drill_smtp m;
	if (smtp_from_cx(c, &m) < 0)
		return DRILL_EXIT_USAGE;
	if (!om_drill_mail_valid(c->v[O_TO]) || !om_drill_mail_valid(c->v[O_FROM])) {
		say(c, "drill.err.bad_from",
		    om_drill_mail_valid(c->v[O_TO]) ? c->v[O_FROM] : c->v[O_TO]);
		return DRILL_EXIT_USAGE;
	}
	om_drill_template t;
	if (om_drill_template_find(c->v[O_TEMPLATE], c->lang, &t) < 0) {
		say(c, "drill.err.tpl_not_found", c->v[O_TEMPLATE]);
		return EXIT_FAILURE;
	}
	/* a round that is not stored: the operator as the only recipient, with
	 * a token that no tracking server knows */
	om_store_drill_round r;
	memset(&r, 0, sizeof(r));
	snprintf(r.template_name, sizeof(r.template_name), "%s", c->v[O_TEMPLATE]);
	snprintf(r.lang, sizeof(r.lang), "%s", om_lang_name(c->lang));
	snprintf(r.charset, sizeof(r.charset), "%s",
	         c->charset && !strcasecmp(c->charset, "utf-8") ? "utf-8" : "iso-2022-jp");
	snprintf(r.from_addr, sizeof(r.from_addr), "%s", c->v[O_FROM]);
	snprintf(r.from_name, sizeof(r.from_name), "%s",
	         c->v[O_FROM_NAME] ? c->v[O_FROM_NAME] : "");
	snprintf(r.base_url, sizeof(r.base_url), "%s",
	         c->v[O_BASE_URL] ? c->v[O_BASE_URL] : "http://drill.example.invalid");
	snprintf(r.tz, sizeof(r.tz), "%s", c->v[O_TZ] ? c->v[O_TZ] : "Asia/Tokyo");
	char tok[OM_DRILL_TOKEN_LEN + 1];
	om_drill_token_new(tok);
	bool ja = c->lang == OM_LANG_JA;
	om_store_drill_recipient p = {
	    .token = tok,
	    .mail = c->v[O_TO],
	    .name = ja ? "テスト送信" : "Test send",
	    .organisation = c->v[O_TENANT] ? c->v[O_TENANT] : "",
	    .department = "",
	    .role = "",
	    .custom_json = "{}",
	};
	om_buf b;
	om_buf_init(&b, 16u << 20);
	int rc = om_drill_round_message(&r, &p, om_time_now(), &b);
	char detail[512] = "";
	if (rc == 0)
		rc = om_drill_smtp_send(&m, r.from_addr, p.mail, b.data, b.len, detail,
		                        sizeof(detail));
	om_drill_smtp_close(&m);
	om_buf_free(&b);
	if (rc < 0) {
		say(c, "drill.err.test_send", c->v[O_TO], detail[0] ? detail : strerror(-rc));
		return EXIT_FAILURE;
	}
	printf(om_msg(c->lang, "drill.test_sent"), c->v[O_TO], detail);
	putchar('\n');
	return 0;
}

static int scan_cfg(const struct cx *c, om_drill_scan_cfg *cfg)
{
	om_drill_scan_defaults(cfg);
	for (int i = 0; i < c->nnets; i++)
		if (om_drill_scan_net_add(cfg, c->nets[i]) < 0) {
			say(c, "drill.err.net", c->nets[i]);
			return -1;
		}
	if (parse_uint(c, O_FAST_SECS, 0, 3600, 10, &cfg->fast_secs) < 0)
		return -1;
	return 0;
}

static void serve_ready(void *user)
{
	const struct cx *c = user;
	printf(om_msg(c->lang, "drill.serve.listening"),
	       c->v[O_LISTEN] ? c->v[O_LISTEN] : "127.0.0.1:8080");
	putchar('\n');
	fflush(stdout);
}

static int serve_cmd(struct cx *c)
{
	om_drill_serve_opts o = {.stop = &drill_stop,
	                         .ready = serve_ready,
	                         .ready_user = c,
	                         .behind_proxy = c->flag[F_BEHIND_PROXY]};
	if (scan_cfg(c, &o.scan) < 0)
		return DRILL_EXIT_USAGE;
	char addr[128];
	const char *l = c->v[O_LISTEN] ? c->v[O_LISTEN] : "127.0.0.1:8080";
	const char *colon = strrchr(l, ':');
	uint64_t port = 0;
	size_t al = colon ? (size_t)(colon - l) : 0;
	if (l[0] == '[' && al > 2 && l[al - 1] == ']')
		l++, al -= 2;
	if (!colon || al == 0 || al >= sizeof(addr) ||
	    om_parse_u64(colon + 1, 1, 65535, &port) < 0) {
		say(c, "drill.err.listen", c->v[O_LISTEN]);
		return DRILL_EXIT_USAGE;
	}
	memcpy(addr, l, al);
	addr[al] = 0;
	o.addr = addr;
	o.port = (unsigned)port;
	om_store *s = NULL;
	if (open_store(c, &s) < 0)
		return EXIT_FAILURE;
	catch_signals();
	char err[512] = "";
	int r = om_drill_serve(s, &o, err, sizeof(err));
	om_store_close(s);
	if (r < 0) {
		say(c, "drill.err.serve", err);
		return EXIT_FAILURE;
	}
	return 0;
}

static int inbox_cmd(struct cx *c)
{
	static const char *const sch[] = {"imap://", "imaps://"};
	if (need(c, O_IMAP) < 0)
		return DRILL_EXIT_USAGE;
	if (!url_ok(c->v[O_IMAP], sch, 2)) {
		say(c, "drill.err.imap_url", c->v[O_IMAP]);
		return DRILL_EXIT_USAGE;
	}
	om_drill_imap m = {
	    .url = c->v[O_IMAP],
	    .user = c->v[O_IMAP_USER],
	    .password = getenv("OMAMORI_IMAP_PASSWORD"),
	    .cacert = c->v[O_CACERT],
	    .starttls = c->flag[F_STARTTLS],
	    .insecure = c->flag[F_INSECURE],
	};
	om_store *s = NULL;
	if (open_store(c, &s) < 0)
		return EXIT_FAILURE;
	om_drill_poll_stats st = {0};
	char err[1024] = "";
	int r = om_drill_imap_poll(s, &m, &st, err, sizeof(err));
	om_store_close(s);
	if (r < 0) {
		say(c, "drill.err.imap", err[0] ? err : strerror(-r));
		return EXIT_FAILURE;
	}
	if (c->json)
		printf("{\"mails\":%u,\"reports\":%u,\"bounces\":%u,\"ignored\":%u}\n", st.mails,
		       st.reports, st.bounces, st.ignored);
	else {
		printf(om_msg(c->lang, "drill.inbox.read"), st.mails, st.reports, st.bounces,
		       st.ignored);
		putchar('\n');
	}
	return 0;
}

static int report_cmd(struct cx *c)
{
	if (c->npos != 1) {
		say(c, "drill.err.round_args");
		return DRILL_EXIT_USAGE;
	}
	om_drill_report_opts o = {.lang = c->lang, .format = OM_DRILL_FMT_JSON};
	const char *f = c->format ? c->format : "json";
	if (!strcmp(f, "csv"))
		o.format = OM_DRILL_FMT_CSV;
	else if (!strcmp(f, "xlsx"))
		o.format = OM_DRILL_FMT_XLSX;
	else if (!strcmp(f, "pdf"))
		o.format = OM_DRILL_FMT_PDF;
	else if (strcmp(f, "json")) {
		say(c, "drill.err.report_format", f);
		return DRILL_EXIT_USAGE;
	}
	o.path = c->v[O_OUTPUT];
	if ((o.format == OM_DRILL_FMT_XLSX || o.format == OM_DRILL_FMT_PDF) && !o.path) {
		say(c, "drill.err.output_needed", f);
		return DRILL_EXIT_USAGE;
	}
	unsigned min_group;
	if (parse_uint(c, O_MIN_GROUP, 3, 1000, OM_DRILL_MIN_GROUP, &min_group) < 0)
		return DRILL_EXIT_USAGE;
	om_drill_scan_cfg cfg;
	if (scan_cfg(c, &cfg) < 0)
		return DRILL_EXIT_USAGE;
	om_store *s = NULL;
	if (open_store(c, &s) < 0)
		return EXIT_FAILURE;
	om_drill_results *R = NULL, *C = NULL;
	int r = om_drill_results_load(s, c->pos[0], &cfg, min_group, &R);
	const char *missing = c->pos[0];
	if (r == 0 && c->v[O_COMPARE]) {
		missing = c->v[O_COMPARE];
		r = om_drill_results_load(s, c->v[O_COMPARE], &cfg, min_group, &C);
	}
	if (r == 0 && c->flag[F_NAMES]) {
		/* individual results: only for the company's admin role */
		om_store_account a;
		const om_store_drill_round *rd = om_drill_results_round(R);
		if (!c->v[O_ACCOUNT] || om_store_account_get(s, c->v[O_ACCOUNT], &a) < 0 ||
		    a.role != OM_ROLE_COMPANY_ADMIN || strcmp(a.tenant, rd->tenant)) {
			om_store_close(s);
			say(c, "drill.err.names_refused", rd->tenant[0] ? rd->tenant : "-");
			om_drill_results_free(R);
			om_drill_results_free(C);
			return EXIT_FAILURE;
		}
		o.names = true;
	}
	om_store_close(s);
	if (r == -ENOENT) {
		say(c, "drill.err.no_round", missing);
		return EXIT_FAILURE;
	}
	if (r < 0) {
		say(c, "drill.err.store", strerror(-r));
		return EXIT_FAILURE;
	}
	om_buf b;
	om_buf_init(&b, 256u << 20);
	char err[1024] = "";
	r = om_drill_report_write(R, C, &o, &b, err, sizeof(err));
	om_drill_results_free(R);
	om_drill_results_free(C);
	if (r < 0) {
		say(c, "drill.err.report_write", err[0] ? err : strerror(-r));
		om_buf_free(&b);
		return EXIT_FAILURE;
	}
	if (b.len) {
		FILE *out = stdout;
		if (o.path) {
			out = fopen(o.path, "wb");
			if (!out) {
				say(c, "drill.err.report_write", o.path);
				om_buf_free(&b);
				return EXIT_FAILURE;
			}
		}
		fwrite(b.data, 1, b.len, out);
		if (out != stdout)
			fclose(out);
	}
	om_buf_free(&b);
	return 0;
}

int om_drill_main(int argc, char **argv, enum om_lang lang)
{
	struct cx c = {.lang = lang};
	om_i18n_init();
	if (argc < 2)
		return usage(&c);
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		fputs(om_msg(lang, "help.drill"), stdout);
		return 0;
	}
	/* one-word commands take their options from argv[2] */
	static const char *const one[] = {"test-send", "serve", "inbox", "report"};
	bool single = false;
	for (size_t i = 0; i < OM_ARRAY_SIZE(one); i++)
		if (!strcmp(argv[1], one[i]))
			single = true;
	if (!single && argc < 3) {
		say(&c, "drill.err.command", argv[1]);
		return usage(&c);
	}
	int r = parse(&c, argc, argv, single ? 2 : 3);
	if (r == 1)
		return 0;
	if (r < 0)
		return -r;
	if (c.format && strcmp(argv[1], "report") &&
	    (!strcmp(c.format, "csv") || !strcmp(c.format, "xlsx") || !strcmp(c.format, "pdf"))) {
		say(&c, "drill.err.format", c.format);
		return DRILL_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "test-send"))
		return test_send(&c);
	if (!strcmp(argv[1], "serve"))
		return serve_cmd(&c);
	if (!strcmp(argv[1], "inbox"))
		return inbox_cmd(&c);
	if (!strcmp(argv[1], "report"))
		return report_cmd(&c);
	if (!strcmp(argv[1], "targets")) {
		if (!strcmp(argv[2], "import"))
			return targets_import(&c);
		if (!strcmp(argv[2], "list"))
			return targets_list(&c);
	} else if (!strcmp(argv[1], "exclude")) {
		return exclude_cmd(&c, argv[2]);
	} else if (!strcmp(argv[1], "template")) {
		if (!strcmp(argv[2], "list"))
			return template_list(&c);
		if (!strcmp(argv[2], "show"))
			return template_show(&c);
	} else if (!strcmp(argv[1], "round")) {
		if (!strcmp(argv[2], "create"))
			return round_create(&c);
		if (!strcmp(argv[2], "send"))
			return round_send(&c);
		if (!strcmp(argv[2], "status"))
			return round_status(&c);
		if (!strcmp(argv[2], "list"))
			return round_list(&c);
	} else {
		say(&c, "drill.err.command", argv[1]);
		return usage(&c);
	}
	say(&c, "drill.err.command", argv[2]);
	return usage(&c);
}
