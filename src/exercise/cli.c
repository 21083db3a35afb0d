/* exercise: `omamori exercise check|list|play`. Scenarios are found as a
 * file path (anything with a '/' or ending in .yaml), a shipped name, or a
 * name installed in the scenario directory (--dir, else
 * $OMAMORI_EXERCISE_DIR, else /etc/omamori/exercise). Without --choices,
 * play asks at every event on the terminal (or reads one choice a line from
 * standard input). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exercise/internal.h"

#define EX_EXIT_USAGE 2
#define EX_DEFAULT_DIR "/etc/omamori/exercise"
#define EX_MAX_INSTALLED 256

struct cx {
	enum om_lang lang;
	const char *dir;
};

static void say(const struct cx *c, const char *key, ...)
{
	char line[2048];
	va_list ap;
	va_start(ap, key);
	vsnprintf(line, sizeof(line), om_msg(c->lang, key), ap);
	va_end(ap);
	fprintf(stderr, "omamori exercise: %s\n", line);
}

static const char *scenario_dir(const struct cx *c)
{
	if (c->dir)
		return c->dir;
	const char *e = getenv("OMAMORI_EXERCISE_DIR");
	return e && *e ? e : EX_DEFAULT_DIR;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);
	return n >= k && !strcmp(s + n - k, suffix);
}

static bool is_path(const char *s)
{
	return strchr(s, '/') || ends_with(s, ".yaml") || ends_with(s, ".yml");
}

/* Loads the scenario named by arg. */
static int find_scenario(const struct cx *c, const char *arg, om_scenario **ret, char *err,
                         size_t errlen)
{
	if (is_path(arg))
		return om_scenario_load(arg, ret, err, errlen);
	for (unsigned i = 0; i < om_exercise_shipped_count(); i++)
		if (!strcmp(om_exercise_shipped_name(i), arg))
			return om_exercise_shipped_load(i, ret, err, errlen);
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s.yaml", scenario_dir(c), arg);
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(err, errlen, om_msg(c->lang, "exercise.cli.not_found"), arg);
		return -ENOENT;
	}
	fclose(f);
	return om_scenario_load(path, ret, err, errlen);
}

/* Option "--name VALUE" or "--name=VALUE" at argv[*i]; NULL if not it. */
static const char *opt(const struct cx *c, int argc, char **argv, int *i, const char *name,
                       bool *bad)
{
	size_t n = strlen(name);
	if (strncmp(argv[*i], name, n))
		return NULL;
	if (argv[*i][n] == '=')
		return argv[*i] + n + 1;
	if (argv[*i][n])
		return NULL;
	if (*i + 1 >= argc) {
		say(c, "exercise.cli.needs_value", name);
		*bad = true;
		return NULL;
	}
	return argv[++*i];
}

/* A number with thousands separators. */
static void group(uint64_t v, char *buf, size_t n)
{
	char tmp[32];
	int len = snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)v);
	size_t o = 0;
	for (int i = 0; i < len && o + 2 < n; i++) {
		if (i > 0 && (len - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = tmp[i];
	}
	buf[o] = 0;
}

static int cmd_check(const struct cx *c, int argc, char **argv)
{
	int nfiles = 0, rc = 0;
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(om_msg(c->lang, "help.exercise"), stdout);
			return 0;
		}
		if (argv[i][0] == '-' && argv[i][1]) {
			say(c, "exercise.cli.unknown_option", argv[i]);
			return EX_EXIT_USAGE;
		}
	}
	for (int i = 2; i < argc; i++) {
		nfiles++;
		om_scenario *s = NULL;
		char err[1024] = "";
		if (om_scenario_load(argv[i], &s, err, sizeof(err)) < 0) {
			fprintf(stderr, "omamori exercise: %s\n", err);
			rc = 1;
			continue;
		}
		om_ex_play best, worst;
		char nev[16], paths[32], b[48], w[48];
		om_ex_best_path(s, &best);
		om_ex_worst_path(s, &worst);
		snprintf(nev, sizeof(nev), "%u", om_scenario_event_count(s));
		snprintf(paths, sizeof(paths), "%llu", (unsigned long long)om_ex_path_count(s));
		char yb[32], yw[32];
		group(best.totals.damage_yen, yb, sizeof(yb));
		group(worst.totals.damage_yen, yw, sizeof(yw));
		snprintf(b, sizeof(b), om_msg(c->lang, "exercise.fmt.yen"), yb);
		snprintf(w, sizeof(w), om_msg(c->lang, "exercise.fmt.yen"), yw);
		char line[1024];
		snprintf(line, sizeof(line), om_msg(c->lang, "exercise.cli.check_ok"), argv[i], nev,
		         paths, b, w);
		printf("%s\n", line);
		om_scenario_free(s);
	}
	if (nfiles == 0) {
		say(c, "exercise.cli.check_none");
		return EX_EXIT_USAGE;
	}
	return rc;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

struct listed {
	const char *name;
	const char *source; /* "shipped" or "installed" */
	om_scenario *s;
};

static void list_one(const struct cx *c, bool json, om_json *j, const struct listed *x)
{
	if (json) {
		om_json_obj_open(j, NULL);
		om_json_str(j, "name", x->name);
		om_json_str(j, "id", om_scenario_id(x->s));
		om_json_str(j, "source", x->source);
		om_json_u64(j, "events", om_scenario_event_count(x->s));
		om_json_str(j, "title", om_scenario_title(x->s, c->lang));
		om_json_str(j, "summary", om_scenario_summary(x->s, c->lang));
		om_json_obj_close(j);
	} else {
		char src[64];
		snprintf(src, sizeof(src), "%s",
		         om_msg(c->lang, !strcmp(x->source, "shipped") ? "exercise.cli.shipped"
		                                                       : "exercise.cli.installed"));
		printf("%-28s %-10s %2u  %s\n", x->name, src, om_scenario_event_count(x->s),
		       om_scenario_title(x->s, c->lang));
	}
}

static int cmd_list(const struct cx *c, int argc, char **argv)
{
	bool json = false;
	struct cx cc = *c;
	for (int i = 2; i < argc; i++) {
		bool bad = false;
		const char *v;
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(om_msg(c->lang, "help.exercise"), stdout);
			return 0;
		} else if ((v = opt(c, argc, argv, &i, "--format", &bad))) {
			if (!strcmp(v, "json"))
				json = true;
			else if (strcmp(v, "text")) {
				say(c, "exercise.cli.bad_format", v, "text, json");
				return EX_EXIT_USAGE;
			}
		} else if ((v = opt(c, argc, argv, &i, "--dir", &bad))) {
			cc.dir = v;
		} else if (bad) {
			return EX_EXIT_USAGE;
		} else if (argv[i][0] == '-') {
			say(c, "exercise.cli.unknown_option", argv[i]);
			return EX_EXIT_USAGE;
		} else {
			say(c, "exercise.cli.too_many_args", argv[i]);
			return EX_EXIT_USAGE;
		}
	}
	om_buf out;
	om_buf_init(&out, 4u << 20);
	om_json j;
	om_json_init(&j, &out);
	if (json)
		om_json_arr_open(&j, NULL);
	for (unsigned i = 0; i < om_exercise_shipped_count(); i++) {
		char err[1024];
		struct listed x = {om_exercise_shipped_name(i), "shipped", NULL};
		if (om_exercise_shipped_load(i, &x.s, err, sizeof(err)) < 0) {
			fprintf(stderr, "omamori exercise: %s\n", err);
			continue;
		}
		list_one(&cc, json, &j, &x);
		om_scenario_free(x.s);
	}
	/* installed: DIR/NAME.yaml, in name order */
	const char *dir = scenario_dir(&cc);
	DIR *d = opendir(dir);
	char *names[EX_MAX_INSTALLED] = {0};
	unsigned n = 0;
	if (d) {
		struct dirent *de;
		while ((de = readdir(d)) && n < EX_MAX_INSTALLED) {
			if (de->d_name[0] == '.' || !ends_with(de->d_name, ".yaml"))
				continue;
			if (!(names[n] = strdup(de->d_name)))
				break;
			n++;
		}
		closedir(d);
	}
	qsort(names, n, sizeof(names[0]), name_cmp);
	for (unsigned i = 0; i < n; i++) {
		char path[1024], err[1024];
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		names[i][strlen(names[i]) - 5] = 0;
		struct listed x = {names[i], "installed", NULL};
		if (om_scenario_load(path, &x.s, err, sizeof(err)) < 0) {
			say(c, "exercise.cli.list_bad", err);
		} else {
			list_one(&cc, json, &j, &x);
			om_scenario_free(x.s);
		}
		free(names[i]);
	}
	if (json) {
		om_json_arr_close(&j);
		fputs(om_buf_cstr(&out), stdout);
		putchar('\n');
	}
	om_buf_free(&out);
	return 0;
}

/* Interactive play: one event at a time, the choice read as a line. */
static int play_terminal(const struct cx *c, const om_scenario *s, om_ex_play *p, FILE *o)
{
	om_ex_play_start(s, p);
	const int li = c->lang == OM_LANG_EN;
	fprintf(o, "== %s ==\n%s\n", om_scenario_title(s, c->lang),
	        om_scenario_summary(s, c->lang));
	while (p->event >= 0) {
		unsigned e = (unsigned)p->event;
		char num[16];
		snprintf(num, sizeof(num), "%u", p->nsteps + 1);
		char line[1024];
		snprintf(line, sizeof(line), om_msg(c->lang, "exercise.doc.step"), num,
		         om_ex_event_title(s, e, c->lang));
		fprintf(o, "\n-- %s --\n%s\n\n", line, om_ex_event_text(s, e, c->lang));
		for (unsigned k = 0; k < OM_EX_CARDS; k++)
			fprintf(o, "  %s) %s\n", om_ex_card_id(s, e, k),
			        om_ex_card_text(s, e, k, c->lang));
		int card = -1;
		while (card < 0) {
			snprintf(line, sizeof(line), om_msg(c->lang, "exercise.play.prompt"),
			         om_ex_card_id(s, e, 0), om_ex_card_id(s, e, 1),
			         om_ex_card_id(s, e, 2));
			fprintf(o, "%s", line);
			fflush(o);
			char in[128];
			if (!fgets(in, sizeof(in), stdin)) {
				fputc('\n', o);
				snprintf(num, sizeof(num), "%u", p->nsteps + 1);
				say(c, "exercise.play.stopped", num);
				return 1;
			}
			in[strcspn(in, "\r\n")] = 0;
			char *w = in;
			while (*w == ' ')
				w++;
			if (!strcmp(w, "q")) {
				snprintf(num, sizeof(num), "%u", p->nsteps + 1);
				say(c, "exercise.play.stopped", num);
				return 1;
			}
			card = om_ex_card_index(s, e, w);
			if (card < 0) {
				snprintf(line, sizeof(line),
				         om_msg(c->lang, "exercise.play.invalid"), w,
				         om_ex_card_id(s, e, 0), om_ex_card_id(s, e, 1),
				         om_ex_card_id(s, e, 2));
				fprintf(o, "%s\n", line);
			}
		}
		int r = om_ex_play_choose(s, p, (unsigned)card);
		if (r < 0)
			return 1;
		const om_ex_step *st = &p->step[p->nsteps - 1];
		char a[48], b[48], y1[48], y2[48], t1[32], t2[32];
		snprintf(t1, sizeof(t1), "%llu", (unsigned long long)st->effect.minutes);
		snprintf(t2, sizeof(t2), "%llu", (unsigned long long)p->totals.minutes);
		snprintf(a, sizeof(a), om_msg(c->lang, "exercise.fmt.m"), t1);
		snprintf(b, sizeof(b), om_msg(c->lang, "exercise.fmt.m"), t2);
		group(st->effect.damage_yen, t1, sizeof(t1));
		group(p->totals.damage_yen, t2, sizeof(t2));
		snprintf(y1, sizeof(y1), om_msg(c->lang, "exercise.fmt.yen"), t1);
		snprintf(y2, sizeof(y2), om_msg(c->lang, "exercise.fmt.yen"), t2);
		snprintf(line, sizeof(line), om_msg(c->lang, "exercise.play.effect"), a, b, y1, y2);
		fprintf(o, "%s\n", line);
		(void)li;
	}
	fputc('\n', o);
	return 0;
}

static int cmd_play(const struct cx *c, int argc, char **argv)
{
	const char *name = NULL, *choices = NULL, *ofile = NULL;
	enum om_ex_format fmt = OM_EX_TEXT;
	struct cx cc = *c;
	for (int i = 2; i < argc; i++) {
		bool bad = false;
		const char *v;
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(om_msg(c->lang, "help.exercise"), stdout);
			return 0;
		} else if ((v = opt(c, argc, argv, &i, "--choices", &bad))) {
			choices = v;
		} else if ((v = opt(c, argc, argv, &i, "--dir", &bad))) {
			cc.dir = v;
		} else if ((v = opt(c, argc, argv, &i, "--output", &bad)) ||
		           (!bad && (v = opt(c, argc, argv, &i, "-o", &bad)))) {
			ofile = v;
		} else if ((v = opt(c, argc, argv, &i, "--format", &bad))) {
			if (!strcmp(v, "text"))
				fmt = OM_EX_TEXT;
			else if (!strcmp(v, "json"))
				fmt = OM_EX_JSON;
			else if (!strcmp(v, "html"))
				fmt = OM_EX_HTML;
			else if (!strcmp(v, "pdf"))
				fmt = OM_EX_PDF;
			else {
				say(c, "exercise.cli.bad_format", v, "text, json, html, pdf");
				return EX_EXIT_USAGE;
			}
		} else if (bad) {
			return EX_EXIT_USAGE;
		} else if (argv[i][0] == '-') {
			say(c, "exercise.cli.unknown_option", argv[i]);
			return EX_EXIT_USAGE;
		} else if (!name) {
			name = argv[i];
		} else {
			say(c, "exercise.cli.too_many_args", argv[i]);
			return EX_EXIT_USAGE;
		}
	}
	if (!name) {
		say(c, "exercise.cli.play_none");
		return EX_EXIT_USAGE;
	}
	if (fmt == OM_EX_PDF && !ofile) {
		say(c, "exercise.cli.pdf_needs_o");
		return EX_EXIT_USAGE;
	}
	char err[1024] = "";
	om_scenario *s = NULL;
	if (find_scenario(&cc, name, &s, err, sizeof(err)) < 0) {
		fprintf(stderr, "omamori exercise: %s\n", err);
		return 1;
	}
	om_ex_play *p = malloc(sizeof(*p));
	int rc = 1;
	om_buf out;
	om_buf_init(&out, 16u << 20);
	if (!p)
		goto out;
	if (choices) {
		if (om_ex_play_script(s, choices, p, err, sizeof(err)) < 0) {
			fprintf(stderr, "omamori exercise: %s\n", err);
			goto out;
		}
	} else if ((rc = play_terminal(c, s, p, fmt == OM_EX_TEXT && !ofile ? stdout : stderr)) !=
	           0) {
		goto out;
	}
	rc = 1;
	int r = 0;
	if (fmt == OM_EX_TEXT)
		r = om_ex_debrief_text(s, p, c->lang, &out);
	else if (fmt == OM_EX_JSON)
		r = om_ex_debrief_json(s, p, c->lang, &out);
	else {
		om_doc *d = om_ex_debrief_doc(s, p, c->lang);
		if (!d) {
			r = -ENOMEM;
		} else if (fmt == OM_EX_HTML) {
			r = om_doc_html(d, &out, err, sizeof(err));
		} else {
			r = om_doc_pdf(d, ofile, err, sizeof(err));
			if (r < 0)
				fprintf(stderr, "omamori exercise: %s\n", err);
			else {
				char line[1200];
				snprintf(line, sizeof(line),
				         om_msg(c->lang, "exercise.cli.written"), ofile);
				printf("%s\n", line);
			}
			om_doc_free(d);
			rc = r < 0 ? 1 : 0;
			goto out;
		}
		om_doc_free(d);
	}
	if (r < 0) {
		say(c, "exercise.cli.too_big");
		goto out;
	}
	if (ofile) {
		FILE *f = fopen(ofile, "wb");
		int e = 0;
		if (!f)
			e = errno;
		else if (fwrite(out.data, 1, out.len, f) != out.len) {
			e = errno ? errno : EIO;
			fclose(f);
		} else if (fclose(f) != 0) /* closed either way */
			e = errno ? errno : EIO;
		if (e) {
			say(c, "exercise.cli.write", ofile, strerror(e));
			goto out;
		}
		char line[1200];
		snprintf(line, sizeof(line), om_msg(c->lang, "exercise.cli.written"), ofile);
		printf("%s\n", line);
	} else {
		fwrite(out.data ? out.data : "", 1, out.len, stdout);
	}
	rc = 0;
out:
	om_buf_free(&out);
	free(p);
	om_scenario_free(s);
	return rc;
}

int om_exercise_main(int argc, char **argv, enum om_lang lang)
{
	struct cx c = {.lang = (unsigned)lang < OM_LANG_COUNT ? lang : OM_LANG_JA};
	om_lang_set_thread(c.lang);
	if (argc < 2) {
		say(&c, "exercise.cli.no_sub");
		return EX_EXIT_USAGE;
	}
	const char *sub = argv[1];
	if (!strcmp(sub, "-h") || !strcmp(sub, "--help") || !strcmp(sub, "help")) {
		fputs(om_msg(c.lang, "help.exercise"), stdout);
		return 0;
	}
	if (!strcmp(sub, "check"))
		return cmd_check(&c, argc, argv);
	if (!strcmp(sub, "list"))
		return cmd_list(&c, argc, argv);
	if (!strcmp(sub, "play"))
		return cmd_play(&c, argc, argv);
	say(&c, "exercise.cli.usage_sub", sub);
	return EX_EXIT_USAGE;
}
