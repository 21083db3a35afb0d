/* drill: `omamori drill targets import FILE | list` and `omamori drill
 * exclude add|remove|list`. The store is --db FILE, else $OMAMORI_DB, else
 * omamori.db in the state directory ($OMAMORI_STATE_DIR, /var/lib/omamori
 * for root, else ~/.local/state/omamori). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "drill/drill.h"

#define DRILL_EXIT_USAGE 2
#define DRILL_DEFAULT_DB "/var/lib/omamori/omamori.db"

struct cx {
	enum om_lang lang;
	const char *db;
	const char *group;
	const char *reason;
	const char *charset;
	const char *to;
	const char *from;
	bool json;
	bool lang_set;
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
		const char **dst = NULL;
		const char *name = NULL;
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(om_msg(c->lang, "help.drill"), stdout);
			return 1;
		}
		static const char *const opts[] = {"--db",   "--group", "--reason", "--format",
		                                   "--lang", "--to",    "--from",   "--charset"};
		const char *val = NULL;
		for (size_t k = 0; k < OM_ARRAY_SIZE(opts); k++) {
			size_t n = strlen(opts[k]);
			if (!strncmp(a, opts[k], n) && (a[n] == 0 || a[n] == '=')) {
				name = opts[k];
				if (a[n] == '=') {
					val = a + n + 1;
				} else if (i + 1 < argc) {
					val = argv[++i];
				} else {
					say(c, "drill.err.opt_value", name);
					return -DRILL_EXIT_USAGE;
				}
				break;
			}
		}
		if (!name) {
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
		if (!strcmp(name, "--db"))
			dst = &c->db;
		else if (!strcmp(name, "--group"))
			dst = &c->group;
		else if (!strcmp(name, "--reason"))
			dst = &c->reason;
		else if (!strcmp(name, "--to"))
			dst = &c->to;
		else if (!strcmp(name, "--from"))
			dst = &c->from;
		else if (!strcmp(name, "--charset"))
			dst = &c->charset;
		if (dst) {
			if (!*val) {
				say(c, "drill.err.opt_value", name);
				return -DRILL_EXIT_USAGE;
			}
			*dst = val;
		} else if (!strcmp(name, "--format")) {
			if (!strcmp(val, "json")) {
				c->json = true;
			} else if (!strcmp(val, "text")) {
				c->json = false;
			} else {
				say(c, "drill.err.format", val);
				return -DRILL_EXIT_USAGE;
			}
		} else if (!strcmp(name, "--lang")) {
			if (om_lang_parse(val, &c->lang) < 0) {
				say(c, "drill.err.lang", val);
				return -DRILL_EXIT_USAGE;
			}
			c->lang_set = true;
		}
	}
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
	    .link = "http://drill.example.invalid/c/EXAMPLETOKEN",
	    .report_link = "http://drill.example.invalid/r/EXAMPLETOKEN",
	    .open_url = "http://drill.example.invalid/o/EXAMPLETOKEN.png",
	    .attach_url = "http://drill.example.invalid/a/EXAMPLETOKEN.png",
	    .landing_url = "http://drill.example.invalid/l/EXAMPLETOKEN",
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
	if (argc < 3 && strcmp(argv[1], "-h")) {
		say(&c, "drill.err.command", argv[1]);
		return usage(&c);
	}
	int r = parse(&c, argc, argv, 3);
	if (r == 1)
		return 0;
	if (r < 0)
		return -r;
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
	}
	say(&c, "drill.err.command", argv[2]);
	return usage(&c);
}
