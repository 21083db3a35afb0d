/* cli: 'omamori report' (one company, every company, programme statistics)
 * and 'omamori tenant' (the metadata and device inventory the report uses).
 * Exit status 0 ok, 1 failure, 2 usage; one line on stderr per error, which
 * says what is wrong and what to do. */
#include "report/report.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define EXIT_USAGE 2

struct cli {
	enum om_lang lang;
	const char *cmd;
	int argc;
	char **argv;
	int i;
};

static void say(const struct cli *c, const char *key, ...)
{
	va_list ap;
	char line[2048];
	va_start(ap, key);
	vsnprintf(line, sizeof(line), om_msg(c->lang, key), ap);
	va_end(ap);
	fprintf(stderr, "omamori: %s\n", line);
}

static bool opt_is(const char *arg, const char *name)
{
	size_t n = strlen(name);
	return !strncmp(arg, name, n) && (arg[n] == '\0' || (arg[n] == '=' && name[1] == '-'));
}

static const char *opt_value(struct cli *c, const char *name)
{
	const char *arg = c->argv[c->i];
	const char *eq = strchr(arg, '=');
	if (eq && !strncmp(arg, "--", 2))
		return eq + 1;
	if (c->i + 1 >= c->argc) {
		say(c, "err.usage_missing_value", name, c->cmd);
		return NULL;
	}
	return c->argv[++c->i];
}

/* The database must exist for reading: a missing file is not made empty (a
 * PostgreSQL database is never made by opening it). Messages show a URL
 * without its password. */
static int open_store(const struct cli *c, const char *db, bool create, om_store **ret)
{
	char err[1024] = "";
	char shown[512];
	struct stat st;
	om_store_target_shown(db, shown, sizeof(shown));
	if (!create && !om_store_is_postgresql(db) && stat(db, &st) < 0) {
		say(c, "err.db_open", shown, strerror(errno), om_msg(c->lang, "hint.db_report"));
		return -1;
	}
	if (om_store_open(db, ret, err, sizeof(err)) < 0) {
		size_t n = strlen(shown);
		const char *why = !strncmp(err, shown, n) && err[n] == ':' ? err + n + 2 : err;
		say(c, "err.db_open", shown, why, om_msg(c->lang, "hint.db_report"));
		return -1;
	}
	return 0;
}

static int write_out(const struct cli *c, const char *ofile, const om_buf *out)
{
	FILE *f = stdout;
	if (ofile && strcmp(ofile, "-") != 0) {
		f = fopen(ofile, "w");
		if (!f) {
			say(c, "err.output", ofile, strerror(errno));
			return -1;
		}
	}
	size_t wr = out->len ? fwrite(out->data, 1, out->len, f) : 0;
	int cr = (f == stdout) ? fflush(f) : fclose(f);
	if (wr != out->len || cr != 0) {
		say(c, "err.output", ofile ? ofile : "-", strerror(errno));
		return -1;
	}
	return 0;
}

/* ---- report stats ------------------------------------------------------- */

static int report_stats(struct cli *c, const char *dbdef)
{
	const char *month = NULL, *db = dbdef, *ofile = NULL, *v;
	enum om_stats_format fmt = OM_STATS_CSV;
	for (c->i = 1; c->i < c->argc; c->i++) {
		const char *arg = c->argv[c->i];
		if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
			fputs(om_msg(c->lang, "report.help.stats"), stdout);
			return 0;
		} else if (opt_is(arg, "--month")) {
			if (!(month = opt_value(c, "--month")))
				return EXIT_USAGE;
		} else if (opt_is(arg, "--db")) {
			if (!(db = opt_value(c, "--db")))
				return EXIT_USAGE;
		} else if (!strcmp(arg, "-o") || opt_is(arg, "--output")) {
			if (!(ofile = opt_value(c, "-o")))
				return EXIT_USAGE;
		} else if (opt_is(arg, "--format")) {
			if (!(v = opt_value(c, "--format")))
				return EXIT_USAGE;
			if (!strcmp(v, "csv"))
				fmt = OM_STATS_CSV;
			else if (!strcmp(v, "json"))
				fmt = OM_STATS_JSON;
			else if (!strcmp(v, "xlsx"))
				fmt = OM_STATS_XLSX;
			else {
				say(c, "err.usage_bad_value", "--format", v,
				    om_msg(c->lang, "report.hint.stats_format"));
				return EXIT_USAGE;
			}
		} else {
			say(c, "err.usage_unknown_option", arg, "report stats");
			return EXIT_USAGE;
		}
	}
	if (!month) {
		say(c, "err.usage_missing_option", "--month", "report stats");
		return EXIT_USAGE;
	}
	if (fmt == OM_STATS_XLSX && (!ofile || !strcmp(ofile, "-"))) {
		say(c, "report.cli.need_file", "xlsx");
		return EXIT_USAGE;
	}
	om_store *store = NULL;
	if (open_store(c, db, false, &store) < 0)
		return EXIT_FAILURE;
	om_buf out;
	char err[1024] = "";
	int rc = EXIT_FAILURE;
	om_buf_init(&out, 64u * 1024 * 1024);
	int r = om_report_stats(store, month, fmt, c->lang, &out, ofile, err, sizeof(err));
	if (r < 0) {
		say(c, "err.report", err);
		rc = r == -EINVAL ? EXIT_USAGE : EXIT_FAILURE;
	} else if (fmt == OM_STATS_XLSX || write_out(c, ofile, &out) == 0) {
		rc = EXIT_SUCCESS;
	}
	om_buf_free(&out);
	om_store_close(store);
	return rc;
}

/* ---- report ------------------------------------------------------------- */

int om_report_main(int argc, char **argv, enum om_lang lang, const char *dbdef,
                   const char *tenantdef)
{
	struct cli c = {.lang = lang, .cmd = "report", .argc = argc, .argv = argv};
	const char *tenant = NULL, *month = NULL, *db = dbdef, *ofile = NULL, *outdir = NULL;
	const char *v;
	bool all = false;
	int fmt = -1;

	om_i18n_init();
	if (argc > 1 && !strcmp(argv[1], "stats")) {
		c.argc = argc - 1;
		c.argv = argv + 1;
		return report_stats(&c, dbdef);
	}
	for (c.i = 1; c.i < argc; c.i++) {
		const char *arg = argv[c.i];
		if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
			fputs(om_msg(lang, "help.report"), stdout);
			return 0;
		} else if (opt_is(arg, "--tenant")) {
			if (!(tenant = opt_value(&c, "--tenant")))
				return EXIT_USAGE;
		} else if (opt_is(arg, "--month")) {
			if (!(month = opt_value(&c, "--month")))
				return EXIT_USAGE;
		} else if (opt_is(arg, "--db")) {
			if (!(db = opt_value(&c, "--db")))
				return EXIT_USAGE;
		} else if (!strcmp(arg, "-o") || opt_is(arg, "--output")) {
			if (!(ofile = opt_value(&c, "-o")))
				return EXIT_USAGE;
		} else if (opt_is(arg, "--out-dir")) {
			if (!(outdir = opt_value(&c, "--out-dir")))
				return EXIT_USAGE;
		} else if (!strcmp(arg, "--all")) {
			all = true;
		} else if (opt_is(arg, "--format")) {
			if (!(v = opt_value(&c, "--format")))
				return EXIT_USAGE;
			if (!strcmp(v, "text"))
				fmt = OM_REPORT_TEXT;
			else if (!strcmp(v, "json"))
				fmt = OM_REPORT_JSON;
			else if (!strcmp(v, "html"))
				fmt = OM_REPORT_HTML;
			else if (!strcmp(v, "pdf"))
				fmt = OM_REPORT_PDF;
			else {
				say(&c, "err.usage_bad_value", "--format", v,
				    om_msg(lang, "report.hint.format"));
				return EXIT_USAGE;
			}
		} else {
			say(&c, "err.usage_unknown_option", arg, c.cmd);
			return EXIT_USAGE;
		}
	}
	if (!month) {
		say(&c, "err.usage_missing_option", "--month", c.cmd);
		return EXIT_USAGE;
	}
	if (all && (tenant || ofile)) {
		say(&c, "report.cli.all_conflict");
		return EXIT_USAGE;
	}
	if (all && !outdir) {
		say(&c, "err.usage_missing_option", "--out-dir", "report --all");
		return EXIT_USAGE;
	}
	if (!all && outdir) {
		say(&c, "report.cli.outdir_without_all");
		return EXIT_USAGE;
	}
	if (fmt < 0)
		fmt = all ? OM_REPORT_PDF : OM_REPORT_TEXT;
	if (fmt == OM_REPORT_PDF && !all && (!ofile || !strcmp(ofile, "-"))) {
		say(&c, "report.cli.need_file", "pdf");
		return EXIT_USAGE;
	}
	if (!tenant)
		tenant = tenantdef;

	char err[1024] = "";
	om_report_opts ro = {.tenant = all ? "all" : tenant,
	                     .month = month,
	                     .format = (enum om_report_format)fmt,
	                     .lang = lang};
	if (om_report_check(&ro, err, sizeof(err)) < 0) {
		say(&c, "err.report", err);
		return EXIT_USAGE;
	}
	om_store *store = NULL;
	if (open_store(&c, db, false, &store) < 0)
		return EXIT_FAILURE;
	int rc = EXIT_FAILURE;
	om_buf out;
	om_buf_init(&out, 256u * 1024 * 1024);
	bool has = true;
	int r;
	if (all) {
		size_t written = 0, nodata = 0;
		r = om_report_all(store, month, outdir, ro.format, lang, &written, &nodata, err,
		                  sizeof(err));
		if (r < 0) {
			say(&c, "err.report", err);
			rc = r == -EINVAL ? EXIT_USAGE : EXIT_FAILURE;
			goto out;
		}
		char line[1024];
		snprintf(line, sizeof(line), om_msg(lang, "report.cli.all_done"), written, outdir,
		         nodata);
		printf("%s\n", line);
		rc = EXIT_SUCCESS;
		goto out;
	}
	if (fmt == OM_REPORT_PDF)
		r = om_report_pdf(store, &ro, ofile, &has, err, sizeof(err));
	else
		r = om_report_build2(store, &ro, &out, &has, err, sizeof(err));
	if (r < 0) {
		say(&c, "err.report", err);
		rc = r == -EINVAL ? EXIT_USAGE : EXIT_FAILURE;
		goto out;
	}
	if (fmt != OM_REPORT_PDF && write_out(&c, ofile, &out) < 0)
		goto out;
	if (!has) {
		/* the report is written (it says so too), and the caller learns
		 * that there was nothing to report on */
		say(&c, "report.cli.no_data", tenant);
		goto out;
	}
	rc = EXIT_SUCCESS;
out:
	om_buf_free(&out);
	om_store_close(store);
	return rc;
}

/* ---- tenant ------------------------------------------------------------- */

static void show_line(const char *label, const char *value)
{
	fputs(label, stdout);
	fputs(": ", stdout);
	for (const char *p = value; *p; p++) /* stored text: no control characters out */
		putchar((unsigned char)*p < 0x20 || *p == 0x7f ? '?' : *p);
	putchar('\n');
}

static int tenant_show(const struct cli *c, om_store *s, const char *name)
{
	om_store_tenant_meta m;
	om_store_tenant t;
	static om_store_device dev[1000]; /* the first 1000 are shown */
	size_t n = 0;
	int dr = om_store_device_list(s, name, dev, OM_ARRAY_SIZE(dev), &n);
	if (om_store_tenant_meta_get(s, name, &m) < 0 || (dr < 0 && dr != -E2BIG)) {
		say(c, "report.cli.tenant_read", name);
		return EXIT_FAILURE;
	}
	bool console = om_store_tenant_get(s, name, &t) == 0;
	int has = om_store_tenant_has_data(s, name);
	show_line("tenant", name);
	show_line("display_name", m.display_name[0] ? m.display_name : console ? t.name : "");
	show_line("industry", m.industry);
	show_line("size", m.size);
	show_line("region", m.region);
	show_line("timezone", m.timezone);
	show_line("contact", m.contact);
	show_line("has_data", has > 0 ? "yes" : "no");
	for (size_t i = 0; i < n; i++) {
		fputs("device ", stdout);
		show_line(dev[i].address, dev[i].label);
	}
	return EXIT_SUCCESS;
}

int om_tenant_main(int argc, char **argv, enum om_lang lang, const char *dbdef)
{
	struct cli c = {.lang = lang, .cmd = "tenant", .argc = argc, .argv = argv};
	const char *db = dbdef;
	const char *pos[64];
	int npos = 0;

	om_i18n_init();
	for (c.i = 1; c.i < argc; c.i++) {
		const char *arg = argv[c.i];
		if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
			fputs(om_msg(lang, "report.help.tenant"), stdout);
			return 0;
		} else if (opt_is(arg, "--db")) {
			if (!(db = opt_value(&c, "--db")))
				return EXIT_USAGE;
		} else if (arg[0] == '-' && arg[1] == '-') {
			say(&c, "err.usage_unknown_option", arg, c.cmd);
			return EXIT_USAGE;
		} else if (npos < (int)OM_ARRAY_SIZE(pos)) {
			pos[npos++] = arg;
		} else {
			say(&c, "report.cli.tenant_usage");
			return EXIT_USAGE;
		}
	}
	if (npos == 0) {
		fputs(om_msg(lang, "report.help.tenant"), stdout);
		return EXIT_USAGE;
	}
	const char *sub = pos[0];
	bool ok = (!strcmp(sub, "set") && npos >= 3) || (!strcmp(sub, "show") && npos == 2) ||
	          (!strcmp(sub, "device") && npos == 4) || (!strcmp(sub, "list") && npos == 1);
	if (!ok) {
		say(&c, "report.cli.tenant_usage");
		return EXIT_USAGE;
	}
	const char *name = npos > 1 ? pos[1] : "";
	if (npos > 1 && (!*name || strlen(name) > 63)) {
		say(&c, "report.cli.tenant_name", name);
		return EXIT_USAGE;
	}
	/* every key=value is checked before anything is written */
	for (int k = 2; !strcmp(sub, "set") && k < npos; k++) {
		const char *eq = strchr(pos[k], '=');
		char key[64];
		if (!eq || (size_t)(eq - pos[k]) >= sizeof(key)) {
			say(&c, "report.cli.tenant_pair", pos[k]);
			return EXIT_USAGE;
		}
		snprintf(key, sizeof(key), "%.*s", (int)(eq - pos[k]), pos[k]);
		if (!om_store_tenant_key_valid(key)) {
			say(&c, "report.cli.tenant_key", key);
			return EXIT_USAGE;
		}
		if (!strcmp(key, "timezone") && *(eq + 1) && !om_store_timezone_valid(eq + 1)) {
			say(&c, "report.cli.tenant_tz", eq + 1);
			return EXIT_USAGE;
		}
		if (strlen(eq + 1) > 255) {
			say(&c, "report.cli.tenant_value", key);
			return EXIT_USAGE;
		}
	}
	om_store *s = NULL;
	bool writes = !strcmp(sub, "set") || !strcmp(sub, "device");
	if (open_store(&c, db, writes, &s) < 0)
		return EXIT_FAILURE;
	int rc = EXIT_SUCCESS;
	if (!strcmp(sub, "set")) {
		for (int k = 2; k < npos && rc == EXIT_SUCCESS; k++) {
			const char *eq = strchr(pos[k], '=');
			char key[64];
			snprintf(key, sizeof(key), "%.*s", (int)(eq - pos[k]), pos[k]);
			int r = om_store_tenant_meta_set(s, name, key, eq + 1);
			if (r == -EINVAL) {
				say(&c, "report.cli.tenant_value", key);
				rc = EXIT_USAGE;
			} else if (r < 0) {
				say(&c, "report.cli.tenant_write", name, strerror(-r));
				rc = EXIT_FAILURE;
			}
		}
	} else if (!strcmp(sub, "device")) {
		int r = om_store_device_set(s, name, pos[2], pos[3]);
		if (r == -EINVAL) {
			say(&c, "report.cli.device_bad", pos[2]);
			rc = EXIT_USAGE;
		} else if (r < 0) {
			say(&c, "report.cli.tenant_write", name, strerror(-r));
			rc = EXIT_FAILURE;
		}
	} else if (!strcmp(sub, "show")) {
		rc = tenant_show(&c, s, name);
	} else {
		char(*names)[OM_STORE_TENANT_MAX + 1] =
		    calloc(OM_REPORT_TENANTS_MAX, sizeof(*names));
		size_t n = 0;
		int r = names ? om_store_tenants(s, names, OM_REPORT_TENANTS_MAX, &n) : -ENOMEM;
		if (r < 0 && r != -E2BIG) {
			say(&c, "report.cli.tenant_read", "*");
			rc = EXIT_FAILURE;
		}
		for (size_t i = 0; i < n; i++)
			show_line("tenant", names[i]);
		free(names);
	}
	om_store_close(s);
	return rc;
}
