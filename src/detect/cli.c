/* cli.c: `omamori rules check FILES...` and `omamori rules update`. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "detect/internal.h"

#define RX_USAGE 2

static void say(enum om_lang lang, const char *key, ...)
{
	char line[2048];
	va_list ap;
	va_start(ap, key);
	vsnprintf(line, sizeof(line), om_msg(lang, key), ap);
	va_end(ap);
	fprintf(stderr, "omamori rules: %s\n", line);
}

static int reason_cmp(const void *a, const void *b)
{
	const struct {
		char reason[48];
		uint64_t count;
	} *x = a, *y = b;
	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return strcmp(x->reason, y->reason);
}

void om_detect_stats_json(const om_detect_load_stats *st, om_buf *out)
{
	om_json j;
	om_json_init(&j, out);
	om_json_obj_open(&j, NULL);
	om_json_u64(&j, "total", st->total);
	om_json_u64(&j, "accepted", st->accepted);
	om_json_obj_open(&j, "skipped");
	for (unsigned i = 0; i < st->nreasons; i++)
		om_json_u64(&j, st->reasons[i].reason, st->reasons[i].count);
	om_json_obj_close(&j);
	om_json_obj_close(&j);
}

static int rules_check(int argc, char **argv, enum om_lang lang, const om_config_nets *home)
{
	bool json = false;
	const char *files[256];
	unsigned nfiles = 0;
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--format") && i + 1 < argc) {
			const char *f = argv[++i];
			if (!strcmp(f, "json"))
				json = true;
			else if (strcmp(f, "text")) {
				say(lang, "err.detect.format", f);
				return RX_USAGE;
			}
		} else if (!strncmp(argv[i], "--format=", 9)) {
			json = !strcmp(argv[i] + 9, "json");
		} else if (argv[i][0] == '-') {
			say(lang, "err.detect.usage_option", argv[i]);
			return RX_USAGE;
		} else if (nfiles < 256) {
			files[nfiles++] = argv[i];
		}
	}
	if (!nfiles) {
		say(lang, "err.detect.no_files");
		return RX_USAGE;
	}
	om_detect *d = NULL;
	if (om_detect_new(home, &d) < 0)
		return EXIT_FAILURE;
	om_detect_load_stats *st = calloc(1, sizeof(*st));
	if (!st) {
		om_detect_free(d);
		return EXIT_FAILURE;
	}
	int rc = 0;
	for (unsigned i = 0; i < nfiles && rc == 0; i++) {
		char err[512];
		/* syntax errors are reported one by one; skips are counted */
		int r =
		    om_detect_add_file(d, files[i], OM_DETECT_WARN_SYNTAX, st, err, sizeof(err));
		if (r < 0) {
			say(lang, "err.detect.read", files[i], strerror(-r));
			rc = EXIT_FAILURE;
		}
	}
	if (rc == 0) {
		qsort(st->reasons, st->nreasons, sizeof(st->reasons[0]), reason_cmp);
		if (json) {
			om_buf b;
			om_buf_init(&b, 1u << 20);
			om_detect_stats_json(st, &b);
			printf("%s\n", om_buf_cstr(&b));
			om_buf_free(&b);
		} else {
			char line[512];
			snprintf(line, sizeof(line), om_msg(lang, "msg.detect.check_summary"),
			         (unsigned long long)st->total, (unsigned long long)st->accepted,
			         st->total ? 100.0 * (double)st->accepted / (double)st->total
			                   : 100.0,
			         (unsigned long long)(st->skipped + st->syntax_errors));
			printf("%s\n", line);
			for (unsigned i = 0; i < st->nreasons; i++)
				printf("  %-40s %llu\n", st->reasons[i].reason,
				       (unsigned long long)st->reasons[i].count);
		}
		if (st->syntax_errors)
			rc = EXIT_FAILURE;
	}
	free(st);
	om_detect_free(d);
	return rc;
}

int om_detect_update_main(int argc, char **argv, enum om_lang lang, const om_config_nets *home);

int om_detect_rules_main(int argc, char **argv, enum om_lang lang, const om_config_nets *home)
{
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		fputs(om_msg(lang, "help.rules"), stdout);
		return argc < 2 ? RX_USAGE : 0;
	}
	if (!strcmp(argv[1], "check"))
		return rules_check(argc - 2, argv + 2, lang, home);
	if (!strcmp(argv[1], "update"))
		return om_detect_update_main(argc - 2, argv + 2, lang, home);
	say(lang, "err.detect.usage_sub", argv[1]);
	return RX_USAGE;
}
