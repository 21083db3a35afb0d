/* console: the command line. `omamori console` runs the server;
 * `omamori console user add|passwd|list` and `omamori console tenant
 * add|list` manage accounts and companies in the store. Passwords are read
 * from standard input (one line), never from the command line. Settings
 * come from the defaults, then the configuration file (-c FILE, its
 * console: section), then the options, the last one winning. */
#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

#include "console/internal.h"
#include "report/report.h"

#define CON_DEFAULT_LISTEN "127.0.0.1:8443"
#define CON_DEFAULT_DB "omamori.db"
#define CON_DEFAULT_SESSION 3600u
#define CON_ACCOUNTS_MAX 4096

/* The console: section of the configuration file. */
typedef struct con_file_config {
	char listen[128];
	char db[1024];
	char cert[1024], key[1024];
	uint32_t session_seconds, silence_minutes;
	char reports_dir[1024];
} con_file_config;

#define F(x) offsetof(con_file_config, x), sizeof(((con_file_config *)0)->x)
#define FN(x) offsetof(con_file_config, x), 0

/* ADDR:PORT with an IPv4 address or [IPv6]; the server checks the address. */
static bool listen_ok(const char *s)
{
	const char *colon = strrchr(s, ':');
	char *end;

	if (!colon || colon == s || strlen(s) >= 128)
		return false;
	errno = 0;
	unsigned long port = strtoul(colon + 1, &end, 10);
	return !errno && !*end && end != colon + 1 && port >= 1 && port <= 65535;
}

static int parse_listen(om_config_ctx *c, const om_config_node *n, void *obj)
{
	con_file_config *f = obj;
	const char *s = om_config_node_scalar(n);

	if (!s || !listen_ok(s))
		return om_config_fail(c, n, "console.listen", "console.config.listen", s ? s : "");
	snprintf(f->listen, sizeof(f->listen), "%s", s);
	return 0;
}

static void dump_listen(const void *obj, om_buf *out, int indent)
{
	(void)indent;
	om_buf_printf(out, " %s", ((const con_file_config *)obj)->listen);
}

static const om_config_key con_keys[] = {
    {"console.listen", OM_CK_CUSTOM, 0, 0, 0, 0, "config.help.console.listen", parse_listen,
     dump_listen},
    {"console.db", OM_CK_STR, F(db), 0, 0, "config.help.console.db", NULL, NULL},
    {"console.cert", OM_CK_STR, F(cert), 0, 0, "config.help.console.cert", NULL, NULL},
    {"console.key", OM_CK_STR, F(key), 0, 0, "config.help.console.key", NULL, NULL},
    {"console.session-seconds", OM_CK_U32, FN(session_seconds), 1, 30u * 86400,
     "config.help.console.session-seconds", NULL, NULL},
    {"console.silence-minutes", OM_CK_U32, FN(silence_minutes), 1, 30u * 86400,
     "config.help.console.silence-minutes", NULL, NULL},
    {"console.reports-dir", OM_CK_STR, F(reports_dir), 0, 0, "config.help.console.reports-dir",
     NULL, NULL},
};
#undef F
#undef FN

static void con_defaults(void *obj)
{
	con_file_config *f = obj;

	memset(f, 0, sizeof(*f));
	snprintf(f->listen, sizeof(f->listen), "%s", CON_DEFAULT_LISTEN);
	snprintf(f->db, sizeof(f->db), "%s", CON_DEFAULT_DB);
	f->session_seconds = CON_DEFAULT_SESSION;
	f->silence_minutes = 30;
	snprintf(f->reports_dir, sizeof(f->reports_dir), "%s", CON_REPORTS_DIR);
}

static int con_check(om_config_ctx *c, const void *obj)
{
	const con_file_config *f = obj;

	if (!f->db[0])
		return om_config_fail(c, NULL, "console.db", "console.config.empty");
	if (!f->reports_dir[0])
		return om_config_fail(c, NULL, "console.reports-dir", "console.config.empty");
	if (!f->cert[0] != !f->key[0])
		return om_config_fail(c, NULL, f->cert[0] ? "console.key" : "console.cert",
		                      "console.config.cert_pair");
	return 0;
}

static const om_config_schema con_schema = {
    "console", con_keys, OM_ARRAY_SIZE(con_keys), sizeof(con_file_config), con_defaults, con_check,
};

/* Loads path (NULL: only the defaults) into f. */
static int con_config_load(const char *path, con_file_config *f, char *err, size_t errlen)
{
	om_config_part part = {&con_schema, f};

	om_config_defaults(&part, 1);
	if (!path)
		return 0;
	return om_config_load(&part, 1, path, err, errlen);
}

static int usage(void)
{
	fputs(om_tr("help.console"), stderr);
	return 2;
}

static int open_store(const char *db, om_store **s)
{
	char err[512] = "";

	if (om_store_open(db, s, err, sizeof(err)) < 0) {
		om_err("%s", err);
		return -1;
	}
	return 0;
}

static int read_password(char *out, size_t n)
{
	if (!fgets(out, (int)n, stdin)) {
		om_err("%s", om_tr("console.err.no_password"));
		return -1;
	}
	out[strcspn(out, "\r\n")] = '\0';
	if (strlen(out) < CON_PASSWORD_MIN) {
		om_err(om_tr("console.err.short_password"), CON_PASSWORD_MIN);
		return -1;
	}
	return 0;
}

/* Takes "--db FILE" out of the remaining arguments. */
static const char *opt_value(int argc, char **argv, int *i)
{
	if (*i + 1 >= argc) {
		om_err(om_tr("console.err.needs_value"), argv[*i]);
		return NULL;
	}
	return argv[++*i];
}

static int cmd_user(int argc, char **argv, const char *db)
{
	const char *role = NULL, *tenant = "", *name = NULL;
	const char *sub = argc > 1 ? argv[1] : NULL;
	om_store *s = NULL;
	int rc = 1;

	if (!sub)
		return usage();
	for (int i = 2; i < argc; i++) {
		const char **dst = NULL;
		if (!strcmp(argv[i], "--db"))
			dst = &db;
		else if (!strcmp(argv[i], "--role"))
			dst = &role;
		else if (!strcmp(argv[i], "--tenant"))
			dst = &tenant;
		else if (argv[i][0] == '-') {
			om_err(om_tr("console.err.option"), argv[i]);
			return 2;
		} else if (!name) {
			name = argv[i];
			continue;
		} else {
			return usage();
		}
		if (!(*dst = opt_value(argc, argv, &i)))
			return 2;
	}
	if (con_auth_init() < 0)
		return 1;
	if (!strcmp(sub, "list")) {
		om_store_account *a = calloc(CON_ACCOUNTS_MAX, sizeof(*a));
		size_t n = 0;
		if (!a || open_store(db, &s) < 0 ||
		    om_store_account_list(s, a, CON_ACCOUNTS_MAX, &n) < 0) {
			free(a);
			om_store_close(s);
			return 1;
		}
		for (size_t i = 0; i < n; i++)
			printf("%s\t%s\t%s\n", a[i].name, con_role_name(a[i].role),
			       a[i].tenant[0] ? a[i].tenant : "-");
		free(a);
		om_store_close(s);
		return 0;
	}
	if (!name)
		return usage();
	if (!strcmp(sub, "add")) {
		om_store_account a;
		char pw[256];
		memset(&a, 0, sizeof(a));
		if (!role || con_role_parse(role, &a.role) < 0) {
			om_err(om_tr("console.err.role"), role ? role : "");
			return 2;
		}
		if (a.role >= OM_ROLE_COMPANY_ADMIN && !tenant[0]) {
			om_err("%s", om_tr("console.err.needs_tenant"));
			return 2;
		}
		if (strlen(name) >= sizeof(a.name) || strlen(tenant) >= sizeof(a.tenant)) {
			om_err(om_tr("console.err.too_long"), name);
			return 2;
		}
		snprintf(a.name, sizeof(a.name), "%s", name);
		snprintf(a.tenant, sizeof(a.tenant), "%s", tenant);
		if (read_password(pw, sizeof(pw)) < 0 ||
		    con_password_hash(pw, a.hash, sizeof(a.hash)) < 0)
			return 1;
		if (open_store(db, &s) < 0)
			return 1;
		int r = om_store_account_add(s, &a);
		if (r == -EEXIST)
			om_err(om_tr("console.err.user_exists"), name);
		else if (r < 0)
			om_err(om_tr("console.err.store"), strerror(-r));
		else {
			om_store_audit_add(s, om_time_now(), "cli", a.tenant, "user_add", a.name);
			rc = 0;
		}
	} else if (!strcmp(sub, "passwd")) {
		char pw[256], hash[160];
		if (read_password(pw, sizeof(pw)) < 0 ||
		    con_password_hash(pw, hash, sizeof(hash)) < 0)
			return 1;
		if (open_store(db, &s) < 0)
			return 1;
		int r = om_store_account_set_hash(s, name, hash);
		if (r == -ENOENT)
			om_err(om_tr("console.err.no_user"), name);
		else if (r < 0)
			om_err(om_tr("console.err.store"), strerror(-r));
		else {
			om_store_audit_add(s, om_time_now(), "cli", "", "user_passwd", name);
			rc = 0;
		}
	} else {
		return usage();
	}
	om_store_close(s);
	return rc;
}

static int cmd_tenant(int argc, char **argv, const char *db)
{
	const char *args[2] = {NULL, NULL};
	size_t na = 0;
	const char *sub = argc > 1 ? argv[1] : NULL;
	om_store *s = NULL;
	int rc = 1;

	if (!sub)
		return usage();
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--db")) {
			if (!(db = opt_value(argc, argv, &i)))
				return 2;
		} else if (na < 2) {
			args[na++] = argv[i];
		} else {
			return usage();
		}
	}
	if (open_store(db, &s) < 0)
		return 1;
	if (!strcmp(sub, "add") && na == 2) {
		int r =
		    con_tenant_id_ok(args[0]) ? om_store_tenant_add(s, args[0], args[1]) : -EINVAL;
		if (r == -EINVAL)
			om_err(om_tr("console.err.tenant_id"), args[0]);
		else if (r == -EEXIST)
			om_err(om_tr("console.err.tenant_exists"), args[0]);
		else if (r < 0)
			om_err(om_tr("console.err.store"), strerror(-r));
		else {
			om_store_audit_add(s, om_time_now(), "cli", args[0], "tenant_add", args[1]);
			rc = 0;
		}
	} else if (!strcmp(sub, "list") && na == 0) {
		om_store_tenant *t = calloc(CON_ACCOUNTS_MAX, sizeof(*t));
		size_t n = 0;
		if (t && om_store_tenant_list(s, t, CON_ACCOUNTS_MAX, &n) == 0) {
			for (size_t i = 0; i < n; i++)
				printf("%s\t%s\n", t[i].id, t[i].name);
			rc = 0;
		}
		free(t);
	} else {
		rc = usage();
	}
	om_store_close(s);
	return rc;
}

static int cmd_gateway(int argc, char **argv, const char *db)
{
	const char *args[3] = {NULL, NULL, NULL};
	size_t na = 0;
	om_store *s = NULL;
	om_store_tenant t;
	char tok[64], th[65];
	int rc = 1, r;

	if (argc < 2 || strcmp(argv[1], "add") != 0)
		return usage();
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--db")) {
			if (!(db = opt_value(argc, argv, &i)))
				return 2;
		} else if (na < 3) {
			args[na++] = argv[i];
		} else {
			return usage();
		}
	}
	if (na != 3)
		return usage();
	if (con_auth_init() < 0 || open_store(db, &s) < 0)
		return 1;
	if (om_store_tenant_get(s, args[0], &t) < 0) {
		om_err(om_tr("console.err.tenant_missing"), args[0]);
		goto out;
	}
	con_token(tok);
	con_token_hash(tok, th);
	r = om_store_gateway_add(s, args[1], args[0], args[2], th);
	if (r < 0) {
		om_err(om_tr("console.err.store"), strerror(-r));
		goto out;
	}
	om_store_audit_add(s, om_time_now(), "cli", args[0], "gateway_add", args[1]);
	fprintf(stderr, "%s\n", om_tr("console.enrol_token"));
	printf("%s\n", tok);
	rc = 0;
out:
	om_store_close(s);
	return rc;
}

/* `omamori console run-reports [--db DB] --dir DIR --month YYYY-MM`: every
 * company's PDF report of the month into DIR through om_report_all (the
 * store: --db, else $OMAMORI_RUN_DB, else the configured one), then
 * DIR/.status ("rc written nodata" and the error line). The console starts
 * it as a process of its own for the provider's "every company" action; it
 * may also be run by hand. */
static int cmd_run_reports(int argc, char **argv, const char *db, enum om_lang lang)
{
	const char *dir = NULL, *month = NULL;
	bool explicit_db = false;
	om_store *s = NULL;
	char err[1024] = "", path[4400], tmp[4420];
	size_t written = 0, nodata = 0;
	int rc;

	for (int i = 1; i < argc; i++) {
		const char **dst = !strcmp(argv[i], "--db")      ? &db
		                   : !strcmp(argv[i], "--dir")   ? &dir
		                   : !strcmp(argv[i], "--month") ? &month
		                                                 : NULL;
		if (!dst) {
			om_err(om_tr("console.err.option"), argv[i]);
			return 2;
		}
		if (!(*dst = opt_value(argc, argv, &i)))
			return 2;
		explicit_db |= dst == &db;
	}
	if (!dir || !month)
		return usage();
	const char *e = getenv(CON_RUN_DB_ENV);
	if (e && *e && !explicit_db)
		db = e;
	/* nothing of a parent's (the console's sockets and store files) */
	close_range(3, ~0u, 0);
	if (nice(10) < 0) {
		/* a lower priority is a courtesy to the console; go on without it */
	}
	DIR *d = opendir(dir);
	for (struct dirent *e; d && (e = readdir(d));) {
		size_t l = strlen(e->d_name);
		if ((l > 4 && !strcmp(e->d_name + l - 4, ".pdf")) ||
		    !strcmp(e->d_name, ".status")) {
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			unlink(path);
		}
	}
	if (d)
		closedir(d);
	rc = om_store_open(db, &s, err, sizeof(err));
	if (rc == 0)
		rc = om_report_all(s, month, dir, OM_REPORT_PDF, lang, &written, &nodata, err,
		                   sizeof(err));
	om_store_close(s);
	if (rc < 0)
		om_err("%s", err);
	snprintf(path, sizeof(path), "%s/.status", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	if (f) {
		err[strcspn(err, "\n")] = '\0';
		fprintf(f, "%d %zu %zu\n%s\n", rc, written, nodata, err);
		if (fclose(f) == 0)
			rename(tmp, path);
	}
	return rc < 0 ? 1 : 0;
}

int om_console_main(int argc, char **argv, enum om_lang lang, const char *config_path)
{
	con_file_config *cf = calloc(1, sizeof(*cf));
	con_options o;
	char err[1024];
	int rc;

	om_lang_set_thread(lang);
	if (!cf)
		return 1;
	if (con_config_load(config_path, cf, err, sizeof(err)) < 0) {
		om_err("%s", err);
		free(cf);
		return 1;
	}
	rc = -1;
	if (argc > 1 && !strcmp(argv[1], "user"))
		rc = cmd_user(argc - 1, argv + 1, cf->db);
	else if (argc > 1 && !strcmp(argv[1], "tenant"))
		rc = cmd_tenant(argc - 1, argv + 1, cf->db);
	else if (argc > 1 && !strcmp(argv[1], "gateway"))
		rc = cmd_gateway(argc - 1, argv + 1, cf->db);
	else if (argc > 1 && !strcmp(argv[1], "push"))
		rc = con_push_main(argc - 1, argv + 1);
	else if (argc > 1 && !strcmp(argv[1], "run-reports"))
		rc = cmd_run_reports(argc - 1, argv + 1, cf->db, lang);
	if (rc >= 0) {
		free(cf);
		return rc;
	}
	/* the file's values, then the options over them */
	o = (con_options){.listen = cf->listen,
	                  .db = cf->db,
	                  .cert = cf->cert[0] ? cf->cert : NULL,
	                  .key = cf->key[0] ? cf->key : NULL,
	                  .session_seconds = cf->session_seconds,
	                  .silence_minutes = cf->silence_minutes,
	                  .reports_dir = cf->reports_dir};
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v;
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			fputs(om_tr("help.console"), stdout);
			free(cf);
			return 0;
		}
		if (strcmp(a, "--listen") && strcmp(a, "--db") && strcmp(a, "--cert") &&
		    strcmp(a, "--key") && strcmp(a, "--session-seconds") &&
		    strcmp(a, "--silence-minutes") && strcmp(a, "--reports-dir")) {
			om_err(om_tr("console.err.option"), a);
			free(cf);
			return 2;
		}
		if (!(v = opt_value(argc, argv, &i))) {
			free(cf);
			return 2;
		}
		if (!strcmp(a, "--listen"))
			o.listen = v;
		else if (!strcmp(a, "--db"))
			o.db = v;
		else if (!strcmp(a, "--cert"))
			o.cert = v;
		else if (!strcmp(a, "--key"))
			o.key = v;
		else if (!strcmp(a, "--reports-dir"))
			o.reports_dir = v;
		else {
			char *end;
			bool silence = !strcmp(a, "--silence-minutes");
			errno = 0;
			unsigned long n = strtoul(v, &end, 10);
			if (errno || *end || n == 0 || n > 30ul * 86400) {
				om_err(om_tr("console.err.session"), v);
				free(cf);
				return 2;
			}
			if (silence)
				o.silence_minutes = (unsigned)n;
			else
				o.session_seconds = (unsigned)n;
		}
	}
	rc = con_serve(&o);
	free(cf);
	return rc;
}
