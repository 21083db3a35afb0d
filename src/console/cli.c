/* console: the command line. `omamori console` runs the server;
 * `omamori console user add|passwd|list` and `omamori console tenant
 * add|list` manage accounts and companies in the store. Passwords are read
 * from standard input (one line), never from the command line. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "console/internal.h"

#define CON_DEFAULT_LISTEN "127.0.0.1:8443"
#define CON_DEFAULT_DB "omamori.db"
#define CON_DEFAULT_SESSION 3600u
#define CON_ACCOUNTS_MAX 4096

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

static int cmd_user(int argc, char **argv)
{
	const char *db = CON_DEFAULT_DB, *role = NULL, *tenant = "", *name = NULL;
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

static int cmd_tenant(int argc, char **argv)
{
	const char *db = CON_DEFAULT_DB, *args[2] = {NULL, NULL};
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

static int cmd_gateway(int argc, char **argv)
{
	const char *db = CON_DEFAULT_DB, *args[3] = {NULL, NULL, NULL};
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

int om_console_main(int argc, char **argv, enum om_lang lang)
{
	con_options o = {.listen = CON_DEFAULT_LISTEN,
	                 .db = CON_DEFAULT_DB,
	                 .session_seconds = CON_DEFAULT_SESSION};

	om_lang_set_thread(lang);
	if (argc > 1 && !strcmp(argv[1], "user"))
		return cmd_user(argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "tenant"))
		return cmd_tenant(argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "gateway"))
		return cmd_gateway(argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "push"))
		return con_push_main(argc - 1, argv + 1);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v;
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			fputs(om_tr("help.console"), stdout);
			return 0;
		}
		if (strcmp(a, "--listen") && strcmp(a, "--db") && strcmp(a, "--cert") &&
		    strcmp(a, "--key") && strcmp(a, "--session-seconds") &&
		    strcmp(a, "--silence-minutes")) {
			om_err(om_tr("console.err.option"), a);
			return 2;
		}
		if (!(v = opt_value(argc, argv, &i)))
			return 2;
		if (!strcmp(a, "--listen"))
			o.listen = v;
		else if (!strcmp(a, "--db"))
			o.db = v;
		else if (!strcmp(a, "--cert"))
			o.cert = v;
		else if (!strcmp(a, "--key"))
			o.key = v;
		else {
			char *end;
			bool silence = !strcmp(a, "--silence-minutes");
			errno = 0;
			unsigned long n = strtoul(v, &end, 10);
			if (errno || *end || n == 0 || n > 30ul * 86400) {
				om_err(om_tr("console.err.session"), v);
				return 2;
			}
			if (silence)
				o.silence_minutes = (unsigned)n;
			else
				o.session_seconds = (unsigned)n;
		}
	}
	return con_serve(&o);
}
