/* cli.c: `omamori webscan` options. Exit status 0 (the scan ran, whatever
 * it found), 1 (it could not run), 2 (usage). A first SIGINT or SIGTERM
 * stops the scan soon and still writes what was found. */
#include "webscan/internal.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static void say(enum om_lang lang, const char *key, ...)
{
	va_list ap;
	char line[2048];
	va_start(ap, key);
	vsnprintf(line, sizeof(line), om_msg(lang, key), ap);
	va_end(ap);
	fprintf(stderr, "omamori: %s\n", line);
}

static bool opt(const char *arg, const char *name)
{
	size_t n = strlen(name);
	return !strncmp(arg, name, n) && (arg[n] == '\0' || arg[n] == '=');
}

/* value of --name=V or --name V; NULL after a usage message */
static const char *val(int argc, char **argv, int *i, const char *name, enum om_lang lang)
{
	const char *eq = strchr(argv[*i], '=');
	if (eq)
		return eq + 1;
	if (*i + 1 >= argc) {
		say(lang, "err.usage_missing_value", name, "webscan");
		return NULL;
	}
	return argv[++*i];
}

static int num(const char *name, const char *v, uint64_t min, uint64_t max, uint64_t *ret,
               enum om_lang lang)
{
	if (om_parse_u64(v, min, max, ret) < 0) {
		char hint[128];
		snprintf(hint, sizeof(hint), om_msg(lang, "webscan.hint.range"),
		         (unsigned long long)min, (unsigned long long)max);
		say(lang, "err.usage_bad_value", name, v, hint);
		return -EINVAL;
	}
	return 0;
}

int om_webscan_main(int argc, char **argv, enum om_lang lang)
{
	if (argc >= 2 && !strcmp(argv[1], "watch"))
		return ws_watch_main(argc - 1, argv + 1, lang);
	om_webscan_opts o;
	om_webscan_opts_default(&o);
	o.progress = isatty(STDERR_FILENO);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v;
		uint64_t n;
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(om_msg(lang, "help.webscan"), stdout);
			return 0;
		} else if (opt(a, "--login-url")) {
			if (!(o.login_url = val(argc, argv, &i, "--login-url", lang)))
				return 2;
		} else if (opt(a, "--user")) {
			if (!(o.user = val(argc, argv, &i, "--user", lang)))
				return 2;
		} else if (opt(a, "--password")) {
			if (!(o.password = val(argc, argv, &i, "--password", lang)))
				return 2;
		} else if (opt(a, "--exclude")) {
			if (!(v = val(argc, argv, &i, "--exclude", lang)))
				return 2;
			if (o.nexcludes >= WS_MAX_EXCLUDES) {
				say(lang, "webscan.err.too_many_excludes", WS_MAX_EXCLUDES);
				return 2;
			}
			o.excludes[o.nexcludes++] = v;
		} else if (opt(a, "--rate")) {
			if (!(v = val(argc, argv, &i, "--rate", lang)) ||
			    num("--rate", v, 1, 1000, &n, lang) < 0)
				return 2;
			o.rate = (double)n;
		} else if (opt(a, "--concurrency")) {
			if (!(v = val(argc, argv, &i, "--concurrency", lang)) ||
			    num("--concurrency", v, 1, 64, &n, lang) < 0)
				return 2;
			o.concurrency = (unsigned)n;
		} else if (opt(a, "--max-pages")) {
			if (!(v = val(argc, argv, &i, "--max-pages", lang)) ||
			    num("--max-pages", v, 1, WS_MAX_PAGES, &n, lang) < 0)
				return 2;
			o.max_pages = (unsigned)n;
		} else if (opt(a, "--max-depth")) {
			if (!(v = val(argc, argv, &i, "--max-depth", lang)) ||
			    num("--max-depth", v, 0, 100, &n, lang) < 0)
				return 2;
			o.max_depth = (unsigned)n;
		} else if (opt(a, "--max-time")) {
			if (!(v = val(argc, argv, &i, "--max-time", lang)) ||
			    num("--max-time", v, 1, 7 * 86400, &n, lang) < 0)
				return 2;
			o.max_time = (unsigned)n;
		} else if (opt(a, "--format")) {
			if (!(v = val(argc, argv, &i, "--format", lang)))
				return 2;
			if (strcmp(v, "text") && strcmp(v, "json") && strcmp(v, "sarif") &&
			    strcmp(v, "html") && strcmp(v, "pdf")) {
				say(lang, "err.usage_bad_value", "--format", v,
				    om_msg(lang, "webscan.hint.format"));
				return 2;
			}
			o.format = v;
		} else if (!strcmp(a, "-o") || opt(a, "--output")) {
			if (!(o.output = val(argc, argv, &i, "-o", lang)))
				return 2;
		} else if (!strcmp(a, "--get-only")) {
			o.get_only = true;
		} else if (!strcmp(a, "--i-own-this-site")) {
			o.i_own = true;
		} else if (opt(a, "--site-token")) {
			if (!(o.site_token = val(argc, argv, &i, "--site-token", lang)))
				return 2;
		} else if (opt(a, "--baseline")) {
			if (!(o.baseline = val(argc, argv, &i, "--baseline", lang)))
				return 2;
		} else if (!strcmp(a, "--insecure")) {
			o.insecure = true;
		} else if (!strcmp(a, "--progress")) {
			o.progress = true;
		} else if (!strcmp(a, "--no-progress")) {
			o.progress = false;
		} else if (a[0] == '-') {
			say(lang, "err.usage_unknown_option", a, "webscan");
			return 2;
		} else if (!o.target) {
			o.target = a;
		} else {
			say(lang, "webscan.err.two_targets", o.target, a);
			return 2;
		}
	}
	if (!o.target) {
		say(lang, "webscan.err.no_target");
		return 2;
	}
	if (o.login_url && (!o.user || !o.password)) {
		say(lang, "webscan.err.login_needs_user");
		return 2;
	}
	if (!strcmp(o.format, "pdf") && (!o.output || !strcmp(o.output, "-"))) {
		say(lang, "webscan.err.pdf_needs_file");
		return 2;
	}
	stop_flag = 0;
	o.stop = &stop_flag;
	struct sigaction sa = {.sa_handler = on_signal};
	sigemptyset(&sa.sa_mask);
	struct sigaction old_int, old_term;
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	char err[2048] = "";
	int r = om_webscan_run(&o, lang, err, sizeof(err));
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	if (r < 0) {
		fprintf(stderr, "omamori: %s\n", err[0] ? err : strerror(-r));
		return r == -EINVAL || r == -EPERM ? 2 : 1;
	}
	return 0;
}
