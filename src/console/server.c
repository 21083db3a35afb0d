/* console: the HTTP(S) server on libmicrohttpd.
 *
 * Two polling threads answer the requests; the store handle is used under
 * one mutex, and pushed batches are written by the group commit's writer
 * on a store connection of its own (ingest.c). Each request:
 * security headers on every answer; the session from the om_session cookie
 * (looked up by its hash, with expiry); POST bodies capped at CON_BODY_MAX
 * and checked for the session's CSRF token (forms: the csrf field; the API:
 * the X-CSRF-Token header); and every page or API call that names a tenant
 * is checked against the account's tenant on the server side. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "console/internal.h"
#include "report/report.h"

#define CON_BODY_MAX (64 * 1024)
/* open connections at once (each gateway keeps one while it pushes) */
#define CON_CONNECTIONS_MAX 2048u
/* Threads serving connections: a pushed batch is inflated and parsed on its
 * connection's thread, then written by the group commit's own writer while
 * the connection is suspended (the thread serves its other connections
 * meanwhile); the pages and the store stay under one lock. Two, one a
 * core: each thread that renders a PDF loads the fonts for itself (pango's
 * font map is per thread), which takes seconds. The connection limit is
 * shared out among the threads: each may hold CON_CONNECTIONS_MAX / 2. */
#define CON_THREADS 2u
#define CON_CONNECTIONS_ALL (CON_CONNECTIONS_MAX / 2 * CON_THREADS)
#define CON_TENANTS_MAX 1024

static const char *const report_categories[] = {"recon",        "c2",   "web_malware",
                                                "mail_malware", "spam", "harmful_web"};

/* The one run of every company's reports at a time: a child process
 * (its own store connection, its own time zone switching) writes the PDFs
 * into <reports_dir>/<run>/ and a .status file when it ends. */
struct con_job {
	pid_t pid; /* 0: none running */
	char run[16];
	char by[64];
	om_usec started;
};

struct con_server {
	om_store *store;
	pthread_mutex_t lock;
	con_ingest_queue ingest; /* the pushed batches' group commit */
	/* the group commit's own connection to the same database, so that
	 * pages, credentials and batch ids are read while batches are written */
	om_store *ingest_store;
	pthread_mutex_t ingest_lock;
	/* PostgreSQL: a second writer on a connection of its own (the server
	 * inserts one group while it commits the other) */
	om_store *ingest_store2;
	pthread_mutex_t ingest_lock2;
	bool tls;
	unsigned session_seconds;
	unsigned silence_minutes;
	con_ratelimit rl;
	const char *db;
	const char *reports_dir;
	struct con_job job;
};

struct con_req {
	om_buf body;
	bool too_big;
	/* a pushed batch handed to the writer: the connection is suspended
	 * until its commit, and answered when resumed */
	bool queued;
	con_ingest_job job;
	struct MHD_Connection *conn;
	om_store_gateway g;
	char bid[72], ver[32];
	om_store_parsed *parsed;
	con_desk_auto *desk;
};

/* The request as the handlers see it. */
struct req {
	struct con_server *srv;
	struct MHD_Connection *conn;
	const char *method, *url;
	const char *body;
	size_t body_len;
	enum om_lang lang;
	bool logged_in;
	om_store_account acct;
	char csrf[80];
	char sid_hash[65];
	char client[64];
};

static const char *tr(const struct req *r, const char *key)
{
	return om_msg(r->lang, key);
}

static const char csp_default[] =
    "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

static void add_security_headers(const struct req *r, struct MHD_Response *resp, const char *csp)
{
	MHD_add_response_header(resp, "Content-Security-Policy", csp ? csp : csp_default);
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	MHD_add_response_header(resp, "Cross-Origin-Opener-Policy", "same-origin");
	if (r->srv->tls)
		MHD_add_response_header(resp, "Strict-Transport-Security", "max-age=31536000");
}

static enum MHD_Result send_buf(struct req *r, unsigned status, const char *ctype, om_buf *b,
                                const char *set_cookie, const char *location)
{
	const char *s = om_buf_cstr(b);
	struct MHD_Response *resp =
	    MHD_create_response_from_buffer(strlen(s), (void *)s, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	if (!resp)
		return MHD_NO;
	add_security_headers(r, resp, NULL);
	MHD_add_response_header(resp, "Content-Type", ctype);
	if (set_cookie)
		MHD_add_response_header(resp, "Set-Cookie", set_cookie);
	if (location)
		MHD_add_response_header(resp, "Location", location);
	ret = MHD_queue_response(r->conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result send_text(struct req *r, unsigned status, const char *ctype,
                                 const char *text)
{
	om_buf b;
	enum MHD_Result ret;

	om_buf_init(&b, CON_BODY_MAX);
	om_buf_puts(&b, text);
	ret = send_buf(r, status, ctype, &b, NULL, NULL);
	om_buf_free(&b);
	return ret;
}

static enum MHD_Result redirect(struct req *r, const char *to, const char *cookie)
{
	om_buf b;
	enum MHD_Result ret;

	om_buf_init(&b, 64);
	ret = send_buf(r, 303, "text/plain; charset=utf-8", &b, cookie, to);
	om_buf_free(&b);
	return ret;
}

static void cookie(const struct req *r, char *out, size_t n, const char *name, const char *value,
                   long max_age)
{
	snprintf(out, n, "%s=%s; Path=/; Max-Age=%ld; HttpOnly; SameSite=Strict%s", name, value,
	         max_age, r->srv->tls ? "; Secure" : "");
}

/* ---- pages ---- */

static void page_begin(const struct req *r, om_buf *b, const char *title)
{
	const char *other = r->lang == OM_LANG_JA ? "en" : "ja";
	const char *v[] = {om_lang_name(r->lang), title, tr(r, "console.title"), other,
	                   tr(r, "console.lang_switch")};

	con_html(
	    b,
	    "<!DOCTYPE html>\n<html lang=\"{0}\"><head><meta charset=\"utf-8\">"
	    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
	    "<title>{1} - {2}</title>"
	    "<link rel=\"stylesheet\" href=\"/static/console.css\">"
	    "<link rel=\"icon\" href=\"/static/favicon.svg\" type=\"image/svg+xml\"></head><body>"
	    "<header><span class=\"brand\">{2}</span>"
	    "<a class=\"lang\" href=\"?lang={3}\">{4}</a>",
	    v, OM_ARRAY_SIZE(v));
	if (r->logged_in) {
		const char *u[] = {r->acct.name, r->csrf, tr(r, "console.logout")};
		con_html(b,
		         "<span class=\"user\">{0}</span>"
		         "<form method=\"post\" action=\"/logout\" class=\"logout\">"
		         "<input type=\"hidden\" name=\"csrf\" value=\"{1}\">"
		         "<button type=\"submit\">{2}</button></form>",
		         u, OM_ARRAY_SIZE(u));
	}
	const char *t[] = {title};
	con_html(b, "</header><main><h1>{0}</h1>", t, 1);
}

static void page_end(om_buf *b)
{
	om_buf_puts(b, "</main><script src=\"/static/console.js\"></script></body></html>\n");
}

static enum MHD_Result page_message(struct req *r, unsigned status, const char *key)
{
	om_buf b;
	enum MHD_Result ret;
	const char *v[] = {tr(r, key)};

	om_buf_init(&b, CON_BODY_MAX);
	page_begin(r, &b, tr(r, "console.error_title"));
	con_html(&b, "<p class=\"error\">{0}</p><p><a href=\"/\">", v, 1);
	om_buf_put_html(&b, tr(r, "console.back"));
	om_buf_puts(&b, "</a></p>");
	page_end(&b);
	ret = send_buf(r, status, "text/html; charset=utf-8", &b, NULL, NULL);
	om_buf_free(&b);
	return ret;
}

/* A login token as con_token makes it: 43 url-safe base64 characters. */
static bool login_token_ok(const char *t)
{
	size_t n = 0;

	for (; t[n]; n++)
		if (!((t[n] >= 'A' && t[n] <= 'Z') || (t[n] >= 'a' && t[n] <= 'z') ||
		      (t[n] >= '0' && t[n] <= '9') || t[n] == '-' || t[n] == '_'))
			return false;
	return n == 43;
}

static enum MHD_Result page_login(struct req *r, const char *error_key, unsigned status)
{
	char tok[64], ck[160];
	om_buf b;
	enum MHD_Result ret;

	/* Login CSRF: a random value in a cookie and in the form (double
	 * submit). A value the browser holds already is kept, so that a second
	 * tab or a background request does not spoil the first form. */
	if (con_cookie_get(MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Cookie"),
	                   "om_login", tok, sizeof(tok)) < 0 ||
	    !login_token_ok(tok))
		con_token(tok);
	cookie(r, ck, sizeof(ck), "om_login", tok, 3600);
	om_buf_init(&b, CON_BODY_MAX);
	page_begin(r, &b, tr(r, "console.login_title"));
	if (error_key) {
		const char *e[] = {tr(r, error_key)};
		con_html(&b, "<p class=\"error\">{0}</p>", e, 1);
	}
	const char *v[] = {tok, tr(r, "console.user"), tr(r, "console.password"),
	                   tr(r, "console.login")};
	con_html(&b,
	         "<form method=\"post\" action=\"/login\" class=\"login\">"
	         "<input type=\"hidden\" name=\"csrf\" value=\"{0}\">"
	         "<label>{1} <input name=\"user\" autocomplete=\"username\" required></label>"
	         "<label>{2} <input name=\"password\" type=\"password\" "
	         "autocomplete=\"current-password\" required></label>"
	         "<button type=\"submit\">{3}</button></form>",
	         v, OM_ARRAY_SIZE(v));
	page_end(&b);
	ret = send_buf(r, status, "text/html; charset=utf-8", &b, ck, NULL);
	om_buf_free(&b);
	return ret;
}

static void audit(struct req *r, const char *actor, const char *tenant, const char *action,
                  const char *detail)
{
	om_store_audit_add(r->srv->store, om_time_now(), actor, tenant, action, detail);
}

static enum MHD_Result do_login(struct req *r)
{
	con_form f;
	char want[80];
	const char *user, *pw, *csrf;
	om_store_account a;
	om_usec now = om_time_now();
	char ck[200], tok[64], sid_hash[65], csrf_tok[64];

	con_form_parse(&f, r->body, r->body_len);
	user = con_form_get(&f, "user");
	pw = con_form_get(&f, "password");
	csrf = con_form_get(&f, "csrf");
	if (con_cookie_get(MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Cookie"),
	                   "om_login", want, sizeof(want)) < 0 ||
	    !csrf || !con_str_eq(csrf, want))
		return page_message(r, 403, "console.err.csrf");
	if (!user || !pw || !*user)
		return page_login(r, "console.err.login", 401);
	if (!con_rl_allowed(&r->srv->rl, user, now) ||
	    !con_rl_allowed(&r->srv->rl, r->client, now)) {
		audit(r, user, "", "login_limited", r->client);
		return page_login(r, "console.err.rate", 429);
	}
	if (om_store_account_get(r->srv->store, user, &a) < 0 || !con_password_verify(a.hash, pw)) {
		con_rl_fail(&r->srv->rl, user, now);
		con_rl_fail(&r->srv->rl, r->client, now);
		audit(r, user, "", "login_failed", r->client);
		return page_login(r, "console.err.login", 401);
	}
	con_rl_clear(&r->srv->rl, user);
	/* A new session id on every login: a planted cookie is never adopted. */
	con_token(tok);
	con_token(csrf_tok);
	con_token_hash(tok, sid_hash);
	if (om_store_session_add(r->srv->store, sid_hash, a.name, csrf_tok,
	                         now + (om_usec)r->srv->session_seconds * 1000000) < 0)
		return page_message(r, 500, "console.err.internal");
	audit(r, a.name, a.tenant, "login", r->client);
	cookie(r, ck, sizeof(ck), "om_session", tok, (long)r->srv->session_seconds);
	return redirect(r, "/dashboard", ck);
}

static bool csrf_ok(struct req *r, const con_form *f)
{
	const char *t = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "X-CSRF-Token");

	if (!t && f)
		t = con_form_get(f, "csrf");
	return t && con_str_eq(t, r->csrf);
}

static enum MHD_Result do_logout(struct req *r)
{
	con_form f;
	char ck[160];

	con_form_parse(&f, r->body, r->body_len);
	if (!csrf_ok(r, &f))
		return page_message(r, 403, "console.err.csrf");
	om_store_session_delete(r->srv->store, r->sid_hash);
	audit(r, r->acct.name, r->acct.tenant, "logout", "");
	cookie(r, ck, sizeof(ck), "om_session", "", 0);
	return redirect(r, "/", ck);
}

static bool is_provider(const struct req *r)
{
	return r->acct.role == OM_ROLE_PROVIDER_ADMIN || r->acct.role == OM_ROLE_PROVIDER_STAFF;
}

/* The server-side tenant rule: provider roles see every tenant, company
 * roles only their own. */
static bool may_see(const struct req *r, const char *tenant)
{
	return is_provider(r) || !strcmp(r->acct.tenant, tenant);
}

static bool gateway_silent(const struct req *r, const om_store_gateway *g, om_usec now);

#define CON_GATEWAYS_MAX 4096
#define CON_EVENTS_PAGE 100
#define CON_EVE_MAX (64 * 1024)

static const char *qarg(const struct req *r, const char *name)
{
	const char *v = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
	return v && strlen(v) < 256 ? v : NULL;
}

/* The tenant's time zone (tenant metadata; default Asia/Tokyo). */
static void tenant_zone(struct req *r, const char *tenant, char *out, size_t n)
{
	om_store_tenant_meta m;

	if (om_store_tenant_meta_get(r->srv->store, tenant, &m) == 0 && m.timezone[0] &&
	    om_store_timezone_valid(m.timezone))
		snprintf(out, n, "%s", m.timezone);
	else
		snprintf(out, n, "%s", OM_STORE_DEFAULT_TZ);
}

static void fmt_time(const char *tz, om_usec t, char *out, size_t n)
{
	if (con_local_time(tz, t, out, n) < 0)
		om_time_iso(t, out, n);
}

static const char *cat_name(const struct req *r, const char *cat, char *key, size_t n)
{
	if (!cat || !*cat)
		return tr(r, "console.cat.none");
	if (!con_category_ok(cat))
		return cat;
	snprintf(key, n, "console.cat.%s", cat);
	return tr(r, key);
}

/* The tabs of a company's pages; active is the current one. */
static void tenant_nav(struct req *r, om_buf *b, const char *tenant, const char *active)
{
	static const char *const tabs[][2] = {{"", "console.nav.dashboard"},
	                                      {"/events", "console.nav.events"},
	                                      {"/gateways", "console.nav.gateways"},
	                                      {"/report", "console.nav.report"},
	                                      {"/desk", "desk.nav"}};

	om_buf_puts(b, "<nav class=\"tabs\">");
	if (is_provider(r)) {
		const char *v[] = {tr(r, "console.nav.all")};
		con_html(b, "<a href=\"/dashboard\">{0}</a>", v, 1);
	}
	for (size_t i = 0; i < OM_ARRAY_SIZE(tabs); i++) {
		const char *v[] = {tenant, tabs[i][0], tr(r, tabs[i][1]),
		                   !strcmp(active, tabs[i][0]) ? "here" : ""};
		con_html(b, "<a class=\"{3}\" href=\"/t/{0}{1}\">{2}</a>", v, OM_ARRAY_SIZE(v));
	}
	om_buf_puts(b, "</nav>");
}

static enum MHD_Result send_page_status(struct req *r, om_buf *b, unsigned status)
{
	enum MHD_Result ret;

	page_end(b);
	ret = send_buf(r, status, "text/html; charset=utf-8", b, NULL, NULL);
	om_buf_free(b);
	return ret;
}

static enum MHD_Result send_page(struct req *r, om_buf *b)
{
	enum MHD_Result ret;

	page_end(b);
	ret = send_buf(r, 200, "text/html; charset=utf-8", b, NULL, NULL);
	om_buf_free(b);
	return ret;
}

/* The gateways of a tenant with their health; a silent one is flagged.
 * Returns the number of silent gateways. */
static unsigned gateway_table(struct req *r, om_buf *b, const char *tenant, const char *tz)
{
	om_store_gateway g[64];
	size_t n = 0;
	unsigned silent_n = 0;
	om_usec now = om_time_now();

	if (om_store_gateway_list(r->srv->store, tenant, g, OM_ARRAY_SIZE(g), &n) < 0)
		return 0;
	if (n == 0) {
		const char *v[] = {tr(r, "console.gw.none")};
		con_html(b, "<p class=\"nw\">{0}</p>", v, 1);
		return 0;
	}
	const char *h[] = {tr(r, "console.gw.name"),     tr(r, "console.gw.last_seen"),
	                   tr(r, "console.gw.version"),  tr(r, "console.gw.events"),
	                   tr(r, "console.gw.per_hour"), tr(r, "console.gw.drops"),
	                   tr(r, "console.gw.backlog")};
	con_html(b,
	         "<table class=\"gateways\"><thead><tr><th>{0}</th><th>{1}</th>"
	         "<th>{2}</th><th class=\"num\">{3}</th><th class=\"num\">{4}</th>"
	         "<th class=\"num\">{5}</th><th class=\"num\">{6}</th></tr></thead><tbody>",
	         h, OM_ARRAY_SIZE(h));
	for (size_t i = 0; i < n; i++) {
		char seen[40], ev[24], dr[24], bl[24], ph[24];
		uint64_t hour = 0;
		om_store_gateway_pushed_since(r->srv->store, g[i].id, now - 3600ull * 1000000,
		                              &hour);
		snprintf(ph, sizeof(ph), "%llu", (unsigned long long)hour);
		if (g[i].last_seen)
			fmt_time(tz, g[i].last_seen, seen, sizeof(seen));
		else
			snprintf(seen, sizeof(seen), "%s", tr(r, "console.gw.never"));
		snprintf(ev, sizeof(ev), "%llu", (unsigned long long)g[i].events);
		snprintf(dr, sizeof(dr), "%llu", (unsigned long long)g[i].drops);
		snprintf(bl, sizeof(bl), "%llu", (unsigned long long)g[i].backlog);
		bool silent = gateway_silent(r, &g[i], now);
		silent_n += silent;
		const char *note = !g[i].last_seen ? tr(r, "console.gw.waiting")
		                   : silent        ? tr(r, "console.gw.silent")
		                                   : "";
		const char *v[] = {g[i].name, seen, g[i].version, ev, dr, bl, note, g[i].id, ph};
		con_html(
		    b,
		    "<tr><td>{0} <span class=\"id\">{7}</span></td><td>{1} "
		    "<strong class=\"bad\">{6}</strong></td><td>{2}</td>"
		    "<td class=\"num\">{3}</td><td class=\"num\">{8}</td><td class=\"num\">{4}</td>"
		    "<td class=\"num\">{5}</td></tr>",
		    v, OM_ARRAY_SIZE(v));
	}
	om_buf_puts(b, "</tbody></table>");
	return silent_n;
}

/* Opens a company page: the tenant rule, the tenant, its zone, the header
 * and the tabs. Returns false after answering (403/404). */
static bool tenant_open(struct req *r, const char *tenant, const char *tab, const char *title_key,
                        om_buf *b, char *tz, size_t tzlen, enum MHD_Result *ret)
{
	om_store_tenant t;
	om_store_tenant_meta m;
	char title[512];

	if (!may_see(r, tenant)) {
		*ret = page_message(r, 403, "console.err.forbidden");
		return false;
	}
	if (om_store_tenant_get(r->srv->store, tenant, &t) < 0) {
		*ret = page_message(r, 404, "console.err.not_found");
		return false;
	}
	tenant_zone(r, tenant, tz, tzlen);
	const char *name = t.name;
	if (om_store_tenant_meta_get(r->srv->store, tenant, &m) == 0 && m.display_name[0])
		name = m.display_name;
	if (title_key)
		snprintf(title, sizeof(title), "%s - %s", tr(r, title_key), name);
	else
		snprintf(title, sizeof(title), "%s", name);
	om_buf_init(b, 4 * 1024 * 1024);
	page_begin(r, b, title);
	tenant_nav(r, b, tenant, tab);
	return true;
}

struct week_tally {
	uint64_t cat[6], cat_blocked[6], other, high;
};

static int cat_index(const char *c)
{
	for (size_t i = 0; i < OM_ARRAY_SIZE(report_categories); i++)
		if (c && !strcmp(c, report_categories[i]))
			return (int)i;
	return -1;
}

static void week_cb(void *user, const char *category, const char *action, int severity, uint64_t n)
{
	struct week_tally *w = user;
	int i = cat_index(category);

	if (i < 0)
		w->other += n;
	else {
		w->cat[i] += n;
		if (action && !strcmp(action, "blocked"))
			w->cat_blocked[i] += n;
	}
	if (severity == 1)
		w->high += n;
}

/* GET /t/<tenant>: the company dashboard. */
static enum MHD_Result page_tenant(struct req *r, const char *tenant)
{
	om_buf b;
	enum MHD_Result ret;
	char tz[80], month[8], prev[8];
	om_usec now = om_time_now(), from, to, pfrom, pto;
	struct week_tally w = {0};
	int mon[6];
	char key[64];

	if (!tenant_open(r, tenant, "", NULL, &b, tz, sizeof(tz), &ret))
		return ret;
	/* ?month=YYYY-MM picks the month of the counts; default this month */
	const char *qm = qarg(r, "month");
	if (qm && con_month_bounds(tz, qm, &from, &to) == 0)
		snprintf(month, sizeof(month), "%s", qm);
	else {
		con_month_of(tz, now, 0, month);
		con_month_bounds(tz, month, &from, &to);
	}
	con_month_of(tz, from, -1, prev);
	con_month_bounds(tz, prev, &pfrom, &pto);
	om_store_event_tally(r->srv->store, tenant, now - 7ull * 86400 * 1000000, now + 1, week_cb,
	                     &w);
	for (size_t i = 0; i < 6; i++) {
		int m1 = om_store_monitored(r->srv->store, tenant, month, report_categories[i]);
		int m0 = om_store_monitored(r->srv->store, tenant, prev, report_categories[i]);
		mon[i] = m1 > 0 || m0 > 0 || w.cat[i] > 0;
	}

	/* this week in plain words, with what to do */
	const char *hw[] = {tr(r, "console.week.title")};
	con_html(&b, "<section class=\"card week\"><h2>{0}</h2>", hw, 1);
	{
		om_store_gateway g[64];
		size_t ng = 0;
		om_store_gateway_list(r->srv->store, tenant, g, OM_ARRAY_SIZE(g), &ng);
		for (size_t i = 0; i < ng; i++)
			if (g[i].last_seen && gateway_silent(r, &g[i], now)) {
				char seen[40];
				fmt_time(tz, g[i].last_seen, seen, sizeof(seen));
				const char *v[] = {tr(r, "console.week.silent"), g[i].name, seen,
				                   tr(r, "console.week.silent_todo")};
				con_html(&b,
				         "<p class=\"banner bad\">{0} {1} ({2})"
				         "<span class=\"todo\">{3}</span></p>",
				         v, OM_ARRAY_SIZE(v));
			}
		if (ng == 0) {
			const char *v[] = {tr(r, "console.gw.none")};
			con_html(&b, "<p class=\"banner bad\">{0}</p>", v, 1);
		}
	}
	om_buf_puts(&b, "<ul class=\"week\">");
	bool any = false;
	for (size_t i = 0; i < 6; i++) {
		if (!w.cat[i])
			continue;
		any = true;
		char n[24], nb[24], k2[64];
		snprintf(n, sizeof(n), "%llu", (unsigned long long)w.cat[i]);
		snprintf(nb, sizeof(nb), "%llu", (unsigned long long)w.cat_blocked[i]);
		snprintf(key, sizeof(key), "console.week.%s", report_categories[i]);
		snprintf(k2, sizeof(k2), "console.todo.%s", report_categories[i]);
		const char *v[] = {cat_name(r, report_categories[i], key, sizeof(key)),
		                   n,
		                   tr(r, "console.week.count_unit"),
		                   tr(r, k2),
		                   w.cat_blocked[i] ? tr(r, "console.week.blocked") : "",
		                   w.cat_blocked[i] ? nb : "",
		                   i == 0 ? "" : "bad"};
		con_html(&b,
		         "<li><strong class=\"{6}\">{0}: {1} {2}</strong> {4} {5}"
		         "<span class=\"todo\">{3}</span></li>",
		         v, OM_ARRAY_SIZE(v));
	}
	if (!any) {
		const char *v[] = {tr(r, "console.week.nothing")};
		con_html(&b, "<li class=\"good\">{0}</li>", v, 1);
	}
	om_buf_puts(&b, "</ul>");
	/* the areas nobody watched, in one line */
	om_buf b2;
	om_buf_init(&b2, 4096);
	for (size_t i = 0; i < 6; i++)
		if (!mon[i]) {
			if (b2.len)
				om_buf_puts(&b2, tr(r, "console.list_sep"));
			om_buf_puts(&b2, cat_name(r, report_categories[i], key, sizeof(key)));
		}
	if (b2.len) {
		const char *v[] = {tr(r, "console.week.not_watched"), om_buf_cstr(&b2),
		                   tr(r, "console.week.not_watched_todo")};
		con_html(&b, "<p class=\"nw\">{0} {1}<span class=\"todo\">{2}</span></p>", v,
		         OM_ARRAY_SIZE(v));
	}
	om_buf_free(&b2);
	om_buf_puts(&b, "</section>");

	/* the six monthly counts with their trend */
	const char *hm[] = {tr(r, "console.month_counts"), month,
	                    tr(r, "console.category"),     prev,
	                    tr(r, "console.trend"),        tr(r, "console.report.month"),
	                    tr(r, "console.report.show")};
	con_html(&b,
	         "<section class=\"card\"><h2>{0}</h2><form class=\"filters\" method=\"get\">"
	         "<label>{5} <input type=\"month\" name=\"month\" value=\"{1}\"></label>"
	         "<button type=\"submit\">{6}</button></form><table class=\"counts\"><thead><tr>"
	         "<th>{2}</th><th class=\"num\">{1}</th><th class=\"num\">{3}</th>"
	         "<th class=\"num\">{4}</th></tr></thead><tbody>",
	         hm, OM_ARRAY_SIZE(hm));
	for (size_t i = 0; i < 6; i++) {
		uint64_t n1 = 0, n0 = 0;
		char a[32], p[32], t[40];
		om_store_range_count(r->srv->store, tenant, report_categories[i], from, to, &n1);
		om_store_range_count(r->srv->store, tenant, report_categories[i], pfrom, pto, &n0);
		if (mon[i]) {
			snprintf(a, sizeof(a), "%llu", (unsigned long long)n1);
			snprintf(p, sizeof(p), "%llu", (unsigned long long)n0);
			con_trend(n1, n0, t, sizeof(t));
		} else {
			snprintf(a, sizeof(a), "%s", tr(r, "console.not_watched"));
			p[0] = t[0] = '\0';
		}
		const char *v[] = {cat_name(r, report_categories[i], key, sizeof(key)),
		                   a,
		                   p,
		                   t,
		                   mon[i] ? "num" : "num nw",
		                   tenant,
		                   report_categories[i]};
		con_html(&b,
		         "<tr><td><a href=\"/t/{5}/events?category={6}\">{0}</a></td>"
		         "<td class=\"{4}\">{1}</td><td class=\"num\">{2}</td>"
		         "<td class=\"num\">{3}</td></tr>",
		         v, OM_ARRAY_SIZE(v));
	}
	om_buf_puts(&b, "</tbody></table></section>");

	/* what the gateways blocked in the last 30 days */
	om_store_event_row *ev = calloc(10, sizeof(*ev));
	size_t nev = 0;
	om_store_event_filter f = {
	    .tenant = tenant, .from = now - 30ull * 86400 * 1000000, .action = "blocked"};
	const char *hb[] = {tr(r, "console.blocked.title")};
	con_html(&b, "<section class=\"card\"><h2>{0}</h2>", hb, 1);
	if (ev && om_store_event_search(r->srv->store, &f, ev, 10, &nev) == 0 && nev) {
		const char *h[] = {tr(r, "console.ev.time"), tr(r, "console.ev.what"),
		                   tr(r, "console.ev.src"), tr(r, "console.ev.dest")};
		con_html(&b,
		         "<table><thead><tr><th>{0}</th><th>{1}</th><th>{2}</th><th>{3}</th></tr>"
		         "</thead><tbody>",
		         h, 4);
		for (size_t i = 0; i < nev; i++) {
			char ts[40], id[24];
			fmt_time(tz, ev[i].ts, ts, sizeof(ts));
			snprintf(id, sizeof(id), "%lld", (long long)ev[i].id);
			const char *v[] = {ts, ev[i].signature, ev[i].src_ip, ev[i].dest_ip, tenant,
			                   id};
			con_html(
			    &b,
			    "<tr data-href=\"/t/{4}/events/{5}\"><td class=\"time\">"
			    "<a href=\"/t/{4}/events/{5}\">{0}</a></td><td>{1}</td><td>{2}</td>"
			    "<td>{3}</td></tr>",
			    v, OM_ARRAY_SIZE(v));
		}
		om_buf_puts(&b, "</tbody></table>");
	} else {
		const char *v[] = {tr(r, "console.blocked.none")};
		con_html(&b, "<p>{0}</p>", v, 1);
	}
	free(ev);
	om_buf_puts(&b, "</section>");

	/* what the console does not receive from the gateways yet */
	const char *hq[] = {tr(r, "console.quarantine.title"), tr(r, "console.not_watched"),
	                    tr(r, "console.quarantine.why"), tr(r, "console.apps.title"),
	                    tr(r, "console.apps.why")};
	con_html(&b,
	         "<section class=\"card\"><h2>{0}</h2><p class=\"nw\">{1}: {2}</p></section>"
	         "<section class=\"card\"><h2>{3}</h2><p class=\"nw\">{1}: {4}</p></section>",
	         hq, OM_ARRAY_SIZE(hq));

	const char *hg[] = {tr(r, "console.gateways")};
	con_html(&b, "<section class=\"card\"><h2>{0}</h2>", hg, 1);
	gateway_table(r, &b, tenant, tz);
	om_buf_puts(&b, "</section>");
	return send_page(r, &b);
}

/* GET /t/<tenant>/gateways: health with the silence warning. */
static enum MHD_Result page_gateways(struct req *r, const char *tenant)
{
	om_buf b, t;
	enum MHD_Result ret;
	char tz[80], mins[24];

	if (!tenant_open(r, tenant, "/gateways", "console.nav.gateways", &b, tz, sizeof(tz), &ret))
		return ret;
	om_buf_init(&t, 1024 * 1024);
	unsigned silent = gateway_table(r, &t, tenant, tz);
	snprintf(mins, sizeof(mins), "%u", r->srv->silence_minutes);
	if (silent) {
		char n[16];
		snprintf(n, sizeof(n), "%u", silent);
		const char *v[] = {tr(r, "console.gw.silent_banner"), n, mins,
		                   tr(r, "console.week.silent_todo")};
		con_html(&b,
		         "<p class=\"banner bad\">{0} {1} ({2})<span class=\"todo\">{3}</span></p>",
		         v, OM_ARRAY_SIZE(v));
	}
	om_buf_puts(&b, om_buf_cstr(&t));
	om_buf_free(&t);
	const char *v[] = {tr(r, "console.gw.silence_rule"), mins};
	con_html(&b, "<p class=\"nw\">{0} {1}</p>", v, 2);
	return send_page(r, &b);
}

/* The search form's filters from the query, checked. Returns false for a
 * bad value (the page then says which). */
struct search {
	om_store_event_filter f;
	const char *from_s, *to_s, *cat_s, *host_s, *sev_s, *before_s;
	const char *bad;
};

static bool search_parse(struct req *r, const char *tenant, const char *tz, struct search *s)
{
	memset(s, 0, sizeof(*s));
	s->f.tenant = tenant;
	s->from_s = qarg(r, "from");
	s->to_s = qarg(r, "to");
	s->cat_s = qarg(r, "category");
	s->host_s = qarg(r, "host");
	s->sev_s = qarg(r, "severity");
	s->before_s = qarg(r, "before");
	if (s->from_s && *s->from_s && con_day_start(tz, s->from_s, false, &s->f.from) < 0)
		s->bad = "console.ev.bad_from";
	else if (s->to_s && *s->to_s && con_day_start(tz, s->to_s, true, &s->f.to) < 0)
		s->bad = "console.ev.bad_to";
	else if (s->cat_s && *s->cat_s && !con_category_ok(s->cat_s))
		s->bad = "console.ev.bad_category";
	else if (s->host_s && strlen(s->host_s) >= 48)
		s->bad = "console.ev.bad_host";
	else if (con_severity_parse(s->sev_s, &s->f.severity) < 0)
		s->bad = "console.ev.bad_severity";
	else if (s->before_s && *s->before_s && con_id_parse(s->before_s, &s->f.before_id) < 0)
		s->bad = "console.ev.bad_before";
	if (s->bad)
		return false;
	s->f.category = s->cat_s;
	s->f.host = s->host_s;
	return true;
}

static const char *sev_name(const struct req *r, int sev)
{
	switch (sev) {
	case 1: return tr(r, "console.sev.1");
	case 2: return tr(r, "console.sev.2");
	case 3: return tr(r, "console.sev.3");
	default: return "";
	}
}

static const char *action_name(const struct req *r, const char *a, char *key, size_t n)
{
	if (!strcmp(a, "blocked") || !strcmp(a, "allowed") || !strcmp(a, "detected")) {
		snprintf(key, n, "console.action.%s", a);
		return tr(r, key);
	}
	return a;
}

static void addr_port(const char *ip, unsigned port, char *out, size_t n)
{
	if (!*ip)
		snprintf(out, n, "-");
	else if (port)
		snprintf(out, n, strchr(ip, ':') ? "[%s]:%u" : "%s:%u", ip, port);
	else
		snprintf(out, n, "%s", ip);
}

/* GET /t/<tenant>/events: search by time, category, host, severity. */
static enum MHD_Result page_events(struct req *r, const char *tenant)
{
	om_buf b;
	enum MHD_Result ret;
	char tz[80], key[64];
	struct search s;

	if (!tenant_open(r, tenant, "/events", "console.nav.events", &b, tz, sizeof(tz), &ret))
		return ret;
	bool ok = search_parse(r, tenant, tz, &s);
	const char *v[] = {tr(r, "console.ev.from"),
	                   s.from_s,
	                   tr(r, "console.ev.to"),
	                   s.to_s,
	                   tr(r, "console.category"),
	                   tr(r, "console.ev.host"),
	                   s.host_s,
	                   tr(r, "console.ev.severity"),
	                   tr(r, "console.ev.search")};
	con_html(&b,
	         "<form class=\"filters\" method=\"get\">"
	         "<label>{0} <input type=\"date\" name=\"from\" value=\"{1}\"></label>"
	         "<label>{2} <input type=\"date\" name=\"to\" value=\"{3}\"></label>"
	         "<label>{4} <select name=\"category\">",
	         v, 5);
	{
		const char *o[] = {tr(r, "console.ev.any")};
		con_html(&b, "<option value=\"\">{0}</option>", o, 1);
	}
	for (size_t i = 0; i < 6; i++) {
		const char *o[] = {
		    report_categories[i], cat_name(r, report_categories[i], key, sizeof(key)),
		    s.cat_s && !strcmp(s.cat_s, report_categories[i]) ? " selected" : ""};
		con_html(&b, "<option value=\"{0}\"{2}>{1}</option>", o, 3);
	}
	con_html(&b,
	         "</select></label>"
	         "<label>{5} <input name=\"host\" value=\"{6}\" placeholder=\"192.0.2.1\"></label>"
	         "<label>{7} <select name=\"severity\">",
	         v, OM_ARRAY_SIZE(v));
	{
		const char *o[] = {tr(r, "console.ev.any")};
		con_html(&b, "<option value=\"\">{0}</option>", o, 1);
	}
	for (int i = 1; i <= 3; i++) {
		char n[4];
		snprintf(n, sizeof(n), "%d", i);
		const char *o[] = {n, sev_name(r, i), s.f.severity == i ? " selected" : ""};
		con_html(&b, "<option value=\"{0}\"{2}>{1}</option>", o, 3);
	}
	con_html(&b, "</select></label><button type=\"submit\">{8}</button></form>", v,
	         OM_ARRAY_SIZE(v));
	if (!ok) {
		const char *e[] = {tr(r, s.bad)};
		con_html(&b, "<p class=\"banner bad\">{0}</p>", e, 1);
		return send_page_status(r, &b, 400);
	}
	om_store_event_row *ev = calloc(CON_EVENTS_PAGE, sizeof(*ev));
	size_t n = 0;
	if (!ev || om_store_event_search(r->srv->store, &s.f, ev, CON_EVENTS_PAGE, &n) < 0) {
		free(ev);
		om_buf_free(&b);
		return page_message(r, 500, "console.err.internal");
	}
	if (n == 0) {
		const char *e[] = {tr(r, "console.ev.none")};
		con_html(&b, "<p>{0}</p>", e, 1);
	} else {
		const char *h[] = {tr(r, "console.ev.time"),     tr(r, "console.category"),
		                   tr(r, "console.ev.severity"), tr(r, "console.ev.action"),
		                   tr(r, "console.ev.src"),      tr(r, "console.ev.dest"),
		                   tr(r, "console.ev.what")};
		con_html(&b,
		         "<table class=\"events\"><thead><tr><th>{0}</th><th>{1}</th><th>{2}</th>"
		         "<th>{3}</th><th>{4}</th><th>{5}</th><th>{6}</th></tr></thead><tbody>",
		         h, OM_ARRAY_SIZE(h));
	}
	for (size_t i = 0; i < n; i++) {
		char ts[40], id[24], src[80], dst[80], k2[64];
		fmt_time(tz, ev[i].ts, ts, sizeof(ts));
		snprintf(id, sizeof(id), "%lld", (long long)ev[i].id);
		addr_port(ev[i].src_ip, ev[i].src_port, src, sizeof(src));
		addr_port(ev[i].dest_ip, ev[i].dest_port, dst, sizeof(dst));
		const char *c[] = {ts,
		                   cat_name(r, ev[i].category, key, sizeof(key)),
		                   sev_name(r, ev[i].severity),
		                   action_name(r, ev[i].action, k2, sizeof(k2)),
		                   src,
		                   dst,
		                   ev[i].signature,
		                   tenant,
		                   id};
		con_html(&b,
		         "<tr data-href=\"/t/{7}/events/{8}\"><td class=\"time\">"
		         "<a href=\"/t/{7}/events/{8}\">{0}</a></td><td>{1}</td>"
		         "<td class=\"nowrap\">{2}</td><td class=\"nowrap\">{3}</td>"
		         "<td class=\"addr\">{4}</td><td class=\"addr\">{5}</td><td>{6}</td></tr>",
		         c, OM_ARRAY_SIZE(c));
	}
	if (n)
		om_buf_puts(&b, "</tbody></table>");
	if (n == CON_EVENTS_PAGE) {
		/* older: the same filters below the last id shown */
		char id[24];
		snprintf(id, sizeof(id), "%lld", (long long)ev[n - 1].id);
		const char *p[] = {tenant,
		                   s.from_s ? s.from_s : "",
		                   s.to_s ? s.to_s : "",
		                   s.cat_s ? s.cat_s : "",
		                   s.host_s ? s.host_s : "",
		                   s.sev_s ? s.sev_s : "",
		                   id,
		                   tr(r, "console.ev.older")};
		om_buf q;
		om_buf_init(&q, 4096);
		/* values are URL-encoded by the form fields of a second GET form */
		con_html(&q,
		         "<form class=\"pager\" method=\"get\" action=\"/t/{0}/events\">"
		         "<input type=\"hidden\" name=\"from\" value=\"{1}\">"
		         "<input type=\"hidden\" name=\"to\" value=\"{2}\">"
		         "<input type=\"hidden\" name=\"category\" value=\"{3}\">"
		         "<input type=\"hidden\" name=\"host\" value=\"{4}\">"
		         "<input type=\"hidden\" name=\"severity\" value=\"{5}\">"
		         "<input type=\"hidden\" name=\"before\" value=\"{6}\">"
		         "<button type=\"submit\">{7}</button></form>",
		         p, OM_ARRAY_SIZE(p));
		om_buf_puts(&b, om_buf_cstr(&q));
		om_buf_free(&q);
	}
	free(ev);
	return send_page(r, &b);
}

/* GET /t/<tenant>/events/<id>: one event with its raw EVE line. */
static enum MHD_Result page_event(struct req *r, const char *tenant, const char *ids)
{
	om_buf b;
	enum MHD_Result ret;
	char tz[80], key[64], k2[64];
	int64_t id;
	om_store_event_row e;

	if (con_id_parse(ids, &id) < 0)
		return page_message(r, 404, "console.err.not_found");
	if (!may_see(r, tenant))
		return page_message(r, 403, "console.err.forbidden");
	char *eve = malloc(CON_EVE_MAX);
	if (!eve)
		return page_message(r, 500, "console.err.internal");
	/* the tenant is part of the query: another tenant's id is not found */
	if (om_store_event_get(r->srv->store, tenant, id, &e, eve, CON_EVE_MAX) < 0) {
		free(eve);
		return page_message(r, 404, "console.err.not_found");
	}
	if (!tenant_open(r, tenant, "/events", "console.ev.detail", &b, tz, sizeof(tz), &ret)) {
		free(eve);
		return ret;
	}
	char ts[40], src[80], dst[80], sid[24];
	fmt_time(tz, e.ts, ts, sizeof(ts));
	addr_port(e.src_ip, e.src_port, src, sizeof(src));
	addr_port(e.dest_ip, e.dest_port, dst, sizeof(dst));
	snprintf(sid, sizeof(sid), "%lld", (long long)id);
	const char *v[] = {tr(r, "console.ev.time"),     ts,
	                   tr(r, "console.category"),    cat_name(r, e.category, key, sizeof(key)),
	                   tr(r, "console.ev.severity"), sev_name(r, e.severity),
	                   tr(r, "console.ev.action"),   action_name(r, e.action, k2, sizeof(k2)),
	                   tr(r, "console.ev.src"),      src,
	                   tr(r, "console.ev.dest"),     dst};
	con_html(&b,
	         "<section class=\"card\"><dl class=\"fields\">"
	         "<dt>{0}</dt><dd>{1}</dd><dt>{2}</dt><dd>{3}</dd><dt>{4}</dt><dd>{5}</dd>"
	         "<dt>{6}</dt><dd>{7}</dd><dt>{8}</dt><dd>{9}</dd>",
	         v, 10);
	const char *w[] = {
	    tr(r, "console.ev.dest"),    dst,       tr(r, "console.ev.what"),  e.signature,
	    tr(r, "console.ev.gateway"), e.gateway, tr(r, "console.ev.proto"), e.proto,
	    tr(r, "console.ev.raw"),     eve};
	con_html(&b,
	         "<dt>{0}</dt><dd>{1}</dd><dt>{2}</dt><dd>{3}</dd><dt>{4}</dt><dd>{5}</dd>"
	         "<dt>{6}</dt><dd>{7}</dd></dl></section><h2>{8}</h2><pre class=\"eve\">{9}</pre>",
	         w, OM_ARRAY_SIZE(w));
	free(eve);
	return send_page(r, &b);
}

/* ---- the monthly report ---- */

static const char *report_month(struct req *r, const char *tz, char month[8])
{
	const char *m = qarg(r, "month");
	om_usec a, b;

	if (m && con_month_bounds(tz, m, &a, &b) == 0) {
		snprintf(month, 8, "%s", m);
		return month;
	}
	if (m && *m)
		return NULL;
	con_month_of(tz, om_time_now(), -1, month); /* last month: the one just finished */
	return month;
}

/* Builds the report of tenant and month in format into out. */
static int report_build(struct req *r, const char *tenant, const char *month,
                        enum om_report_format fmt, om_buf *out, bool *has_data)
{
	om_report_opts o = {.tenant = tenant, .month = month, .format = fmt, .lang = r->lang};
	char err[512];

	return om_report_build2(r->srv->store, &o, out, has_data, err, sizeof(err));
}

/* GET /t/<tenant>/report?month=: the month chooser and the three forms. */
static enum MHD_Result page_report(struct req *r, const char *tenant)
{
	om_buf b;
	enum MHD_Result ret;
	char tz[80], month[8];

	if (!tenant_open(r, tenant, "/report", "console.nav.report", &b, tz, sizeof(tz), &ret))
		return ret;
	if (!report_month(r, tz, month)) {
		const char *e[] = {tr(r, "console.report.bad_month")};
		con_html(&b, "<p class=\"banner bad\">{0}</p>", e, 1);
		con_month_of(tz, om_time_now(), -1, month);
	}
	const char *v[] = {tr(r, "console.report.month"), month,
	                   tr(r, "console.report.show"),  tenant,
	                   tr(r, "console.report.html"),  tr(r, "console.report.pdf"),
	                   tr(r, "console.report.json"),  tr(r, "console.report.intro")};
	con_html(&b,
	         "<section class=\"card\"><p>{7}</p><form class=\"filters\" method=\"get\">"
	         "<label>{0} <input type=\"month\" name=\"month\" value=\"{1}\" "
	         "pattern=\"[0-9][0-9][0-9][0-9]-[0-9][0-9]\"></label><button "
	         "type=\"submit\">{2}</button></form>"
	         "<ul class=\"links\"><li><a href=\"/t/{3}/report.html?month={1}\">{4}</a></li>"
	         "<li><a href=\"/t/{3}/report.pdf?month={1}\" download>{5}</a></li>"
	         "<li><a href=\"/t/{3}/report.json?month={1}\">{6}</a></li></ul></section>",
	         v, OM_ARRAY_SIZE(v));
	return send_page(r, &b);
}

/* The sha256 of the report's inline <style> for its own CSP: the report
 * page is the report module's self-contained HTML, with no script. */
static void style_hash(const char *html, char *out, size_t n)
{
	const char *a = strstr(html, "<style>");
	const char *z = a ? strstr(a, "</style>") : NULL;
	unsigned char h[crypto_hash_sha256_BYTES];
	char b64[64];

	out[0] = '\0';
	if (!a || !z)
		return;
	a += 7;
	crypto_hash_sha256(h, (const unsigned char *)a, (unsigned long long)(z - a));
	sodium_bin2base64(b64, sizeof(b64), h, sizeof(h), sodium_base64_VARIANT_ORIGINAL);
	snprintf(out, n, " 'sha256-%s'", b64);
}

static enum MHD_Result send_bytes(struct req *r, unsigned status, const char *ctype,
                                  const void *data, size_t len, const char *csp,
                                  const char *disposition)
{
	struct MHD_Response *resp =
	    MHD_create_response_from_buffer(len, (void *)data, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	if (!resp)
		return MHD_NO;
	add_security_headers(r, resp, csp);
	MHD_add_response_header(resp, "Content-Type", ctype);
	if (disposition)
		MHD_add_response_header(resp, "Content-Disposition", disposition);
	ret = MHD_queue_response(r->conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* GET /t/<tenant>/report.{html,json,pdf}?month= */
static enum MHD_Result report_file(struct req *r, const char *tenant, const char *ext)
{
	char tz[80], month[8], disp[160];
	om_buf b;
	bool has_data = true;
	enum MHD_Result ret;
	om_store_tenant t;
	int rc;

	if (!may_see(r, tenant))
		return page_message(r, 403, "console.err.forbidden");
	if (om_store_tenant_get(r->srv->store, tenant, &t) < 0)
		return page_message(r, 404, "console.err.not_found");
	tenant_zone(r, tenant, tz, sizeof(tz));
	if (!report_month(r, tz, month))
		return page_message(r, 400, "console.report.bad_month");
	om_buf_init(&b, 16 * 1024 * 1024);
	if (!strcmp(ext, "html")) {
		if (report_build(r, tenant, month, OM_REPORT_HTML, &b, &has_data) < 0) {
			om_buf_free(&b);
			return page_message(r, 500, "console.err.internal");
		}
		char h[80], csp[400];
		style_hash(om_buf_cstr(&b), h, sizeof(h));
		snprintf(csp, sizeof(csp),
		         "default-src 'none'; style-src%s; img-src 'self' data:; "
		         "frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
		         h[0] ? h : " 'none'");
		ret = send_bytes(r, 200, "text/html; charset=utf-8", om_buf_cstr(&b), b.len, csp,
		                 NULL);
	} else if (!strcmp(ext, "json")) {
		if (report_build(r, tenant, month, OM_REPORT_JSON, &b, &has_data) < 0) {
			om_buf_free(&b);
			return send_text(r, 500, "application/json", "{\"error\":\"internal\"}");
		}
		snprintf(disp, sizeof(disp), "inline; filename=\"report-%s-%s.json\"", tenant,
		         month);
		ret = send_bytes(r, 200, "application/json", om_buf_cstr(&b), b.len, NULL, disp);
	} else {
		char path[] = "/tmp/omamori-console-XXXXXX";
		char err[512];
		int fd = mkstemp(path);
		if (fd < 0) {
			om_buf_free(&b);
			return page_message(r, 500, "console.err.internal");
		}
		close(fd);
		/* the report module's own PDF (cairo + pango, its charts) */
		om_report_opts ro = {
		    .tenant = tenant, .month = month, .format = OM_REPORT_PDF, .lang = r->lang};
		rc = om_report_pdf(r->srv->store, &ro, path, &has_data, err, sizeof(err));
		FILE *f = rc < 0 ? NULL : fopen(path, "rb");
		char chunk[65536];
		size_t k;
		while (f && (k = fread(chunk, 1, sizeof(chunk), f)) > 0)
			if (om_buf_append(&b, chunk, k) < 0) {
				rc = -E2BIG;
				break;
			}
		if (f)
			fclose(f);
		unlink(path);
		if (rc < 0 || b.len == 0) {
			om_buf_free(&b);
			return page_message(r, 500, "console.err.internal");
		}
		snprintf(disp, sizeof(disp), "attachment; filename=\"report-%s-%s.pdf\"", tenant,
		         month);
		ret = send_bytes(r, 200, "application/pdf", b.data, b.len, NULL, disp);
	}
	om_buf_free(&b);
	return ret;
}

/* ---- the provider's pages ---- */

struct overview {
	con_attention *a;
	size_t n;
	bool month; /* filling events_month instead of the week */
};

static con_attention *overview_find(struct overview *o, const char *tenant)
{
	/* the tenants are sorted by id (om_store_tenant_list): binary search */
	size_t lo = 0, hi = o->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(o->a[mid].tenant, tenant);
		if (c == 0)
			return &o->a[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static void overview_cb(void *user, const char *tenant, const char *category, uint64_t n)
{
	struct overview *o = user;
	con_attention *a = overview_find(o, tenant ? tenant : "");

	if (!a)
		return;
	if (o->month)
		a->events_month += n;
	else if (category && !strcmp(category, "recon"))
		a->scans_week += n;
	else
		a->threats_week += n;
}

/* ---- the desk (desk_web.c answers; this turns its answer into HTTP) ---- */

static const char *desk_arg(void *u, const char *name)
{
	return qarg(u, name);
}

static const char *desk_header(void *u, const char *name)
{
	const struct req *r = u;
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

static enum MHD_Result desk_send(struct req *r, con_answer *a)
{
	enum MHD_Result ret;

	if (a->location[0]) {
		ret = redirect(r, a->location, NULL);
	} else if (a->ctype) {
		const char *s = om_buf_cstr(&a->body);
		ret = send_bytes(r, a->status, a->ctype, s, a->body.len, NULL,
		                 a->disposition[0] ? a->disposition : NULL);
	} else {
		om_buf b;
		om_buf_init(&b, 8 * 1024 * 1024);
		page_begin(r, &b, a->title);
		if (a->tenant[0])
			tenant_nav(r, &b, a->tenant, "/desk");
		om_buf_append(&b, om_buf_cstr(&a->body), a->body.len);
		ret = send_page_status(r, &b, a->status);
	}
	om_buf_free(&a->body);
	return ret;
}

static enum MHD_Result desk_route(struct req *r, bool *handled)
{
	con_form f;
	con_answer a;
	con_ctx c = {.store = r->srv->store,
	             .lang = r->lang,
	             .acct = &r->acct,
	             .provider = is_provider(r),
	             .csrf = r->csrf,
	             .get = !strcmp(r->method, "GET") || !strcmp(r->method, "HEAD"),
	             .post = !strcmp(r->method, "POST"),
	             .body = r->body,
	             .body_len = r->body_len,
	             .arg = desk_arg,
	             .header = desk_header,
	             .u = r,
	             .now = om_time_now()};

	/* the token from the header (API) or the form (pages); a raw upload
	 * carries it in the header only */
	const char *ct = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Content-Type");
	bool form = ct && !strncmp(ct, "application/x-www-form-urlencoded", 33);
	if (form)
		con_form_parse(&f, r->body, r->body_len);
	c.csrf_ok = c.post && csrf_ok(r, form ? &f : NULL);
	*handled = con_desk_route(&c, r->url, &a) == 1;
	if (!*handled)
		return MHD_NO;
	return desk_send(r, &a);
}

static void desk_stats(struct req *r, om_buf *b)
{
	om_store_desk_stats_row st;
	om_usec now = om_time_now(), d30 = 30ull * 86400 * 1000000;

	if (om_store_desk_stats(r->srv->store, NULL, now > d30 ? now - d30 : 0, now + 1, &st) == 0)
		con_desk_stats_html(r->lang, &st, b);
}
static void provider_nav(struct req *r, om_buf *b, const char *active);

static enum MHD_Result page_dashboard(struct req *r)
{
	om_store_tenant *ts;
	om_store_gateway *gw;
	size_t n = 0, ng = 0;
	om_buf b;
	om_usec now = om_time_now();
	char day[16], month[8];
	struct overview o = {0};

	if (!is_provider(r)) {
		char to[128];
		snprintf(to, sizeof(to), "/t/%s", r->acct.tenant);
		return redirect(r, to, NULL);
	}
	ts = calloc(CON_TENANTS_MAX, sizeof(*ts));
	gw = calloc(CON_GATEWAYS_MAX, sizeof(*gw));
	o.a = calloc(CON_TENANTS_MAX, sizeof(*o.a));
	if (!ts || !gw || !o.a ||
	    om_store_tenant_list(r->srv->store, ts, CON_TENANTS_MAX, &n) < 0 ||
	    om_store_gateway_list(r->srv->store, NULL, gw, CON_GATEWAYS_MAX, &ng) < 0) {
		free(ts);
		free(gw);
		free(o.a);
		return page_message(r, 500, "console.err.internal");
	}
	for (size_t i = 0; i < n; i++) {
		snprintf(o.a[i].tenant, sizeof(o.a[i].tenant), "%s", ts[i].id);
		snprintf(o.a[i].name, sizeof(o.a[i].name), "%s", ts[i].name);
	}
	o.n = n;
	for (size_t i = 0; i < ng; i++) {
		con_attention *a = overview_find(&o, gw[i].tenant);
		if (!a)
			continue;
		a->gateways++;
		if (!gw[i].last_seen)
			a->never_seen++;
		else if (gateway_silent(r, &gw[i], now))
			a->silent++;
	}
	/* the overview counts by UTC day from the rollup (one query for all) */
	om_time_day(now - 6ull * 86400 * 1000000, day, sizeof(day));
	om_store_rollup_since(r->srv->store, day, overview_cb, &o);
	om_time_day(now, day, sizeof(day));
	snprintf(month, sizeof(month), "%.7s", day);
	snprintf(day, sizeof(day), "%s-01", month);
	o.month = true;
	om_store_rollup_since(r->srv->store, day, overview_cb, &o);
	for (size_t i = 0; i < n; i++)
		con_attention_rate(&o.a[i]);
	con_attention_sort(o.a, n);

	om_buf_init(&b, 8 * 1024 * 1024);
	page_begin(r, &b, tr(r, "console.provider_title"));
	provider_nav(r, &b, "/dashboard");
	const char *h[] = {tr(r, "console.companies"),     tr(r, "console.attn.company"),
	                   tr(r, "console.attn.state"),    tr(r, "console.attn.threats"),
	                   tr(r, "console.attn.scans"),    tr(r, "console.attn.month"),
	                   tr(r, "console.attn.gateways"), tr(r, "console.attn.intro")};
	con_html(
	    &b,
	    "<h2>{0}</h2><p>{7}</p><table class=\"tenants\"><thead><tr><th>{1}</th><th>{2}</th>"
	    "<th class=\"num\">{3}</th><th class=\"num\">{4}</th><th class=\"num\">{5}</th>"
	    "<th class=\"num\">{6}</th></tr></thead><tbody>",
	    h, OM_ARRAY_SIZE(h));
	static const char *const level_key[] = {"console.attn.threat", "console.attn.silent",
	                                        "console.attn.no_data", "console.attn.ok"};
	static const char *const level_class[] = {"bad", "bad", "warn", "good"};
	for (size_t i = 0; i < n; i++) {
		const con_attention *a = &o.a[i];
		char th[24], sc[24], mo[24], g[40];
		snprintf(th, sizeof(th), "%llu", (unsigned long long)a->threats_week);
		snprintf(sc, sizeof(sc), "%llu", (unsigned long long)a->scans_week);
		snprintf(mo, sizeof(mo), "%llu", (unsigned long long)a->events_month);
		snprintf(g, sizeof(g), "%u / %u", a->gateways - a->silent - a->never_seen,
		         a->gateways);
		const char *v[] = {
		    a->tenant, a->name, tr(r, level_key[a->level]), level_class[a->level], th, sc,
		    mo,        g};
		con_html(
		    &b,
		    "<tr data-href=\"/t/{0}\"><td><a href=\"/t/{0}\">{1}</a> "
		    "<span class=\"id\">{0}</span></td><td class=\"state {3}\">{2}</td>"
		    "<td class=\"num\">{4}</td><td class=\"num\">{5}</td><td class=\"num\">{6}</td>"
		    "<td class=\"num\">{7}</td></tr>",
		    v, OM_ARRAY_SIZE(v));
	}
	if (n == 0) {
		const char *v[] = {tr(r, "console.no_companies")};
		con_html(&b, "<tr><td colspan=\"6\">{0}</td></tr>", v, 1);
	}
	om_buf_puts(&b, "</tbody></table>");
	free(ts);
	free(gw);
	free(o.a);
	desk_stats(r, &b);
	return send_page(r, &b);
}

/* ---- the programme statistics (provider roles) ---- */

/* The tabs of the provider's pages. */
static void provider_nav(struct req *r, om_buf *b, const char *active)
{
	static const char *const tabs[][2] = {{"/dashboard", "console.nav.all"},
	                                      {"/desk", "desk.nav"},
	                                      {"/stats", "console.nav.stats"},
	                                      {"/reports", "console.nav.reports"}};

	om_buf_puts(b, "<nav class=\"tabs\">");
	for (size_t i = 0; i < OM_ARRAY_SIZE(tabs); i++) {
		const char *v[] = {tabs[i][0], tr(r, tabs[i][1]),
		                   !strcmp(active, tabs[i][0]) ? "here" : ""};
		con_html(b, "<a class=\"{2}\" href=\"{0}\">{1}</a>", v, OM_ARRAY_SIZE(v));
	}
	om_buf_puts(b, "</nav>");
}

/* ?month=YYYY-MM, default the month just finished in the default zone;
 * NULL for a bad value. */
static const char *provider_month(struct req *r, char month[8])
{
	const char *m = qarg(r, "month");
	om_usec a, b;

	if (m && *m) {
		if (con_month_bounds(OM_STORE_DEFAULT_TZ, m, &a, &b) < 0)
			return NULL;
		snprintf(month, 8, "%s", m);
		return month;
	}
	con_month_of(OM_STORE_DEFAULT_TZ, om_time_now(), -1, month);
	return month;
}

/* The CSV's columns (om_report_stats, CSV form). */
enum { ST_DIM, ST_GROUP, ST_COMPANIES, ST_CAT, ST_MON, ST_AFF, ST_SHARE, ST_EVENTS, ST_NCOLS };
#define ST_DIMS 4

static const char *stats_label(struct req *r, const char *dim, const char *group)
{
	if (!strcmp(dim, "all"))
		return tr(r, "console.stats.all_companies");
	if (!strcmp(group, "other"))
		return tr(r, "console.stats.other");
	if (!strcmp(group, "unknown"))
		return tr(r, "console.stats.unknown");
	return group;
}

/* A count cell: "x" (suppressed) is shown as such, with the legend below. */
static const char *stats_cell(const char *v)
{
	return !strcmp(v, "x") ? "x" : *v ? v : "-";
}

/* The statistics' CSV as tables: the pilot's table (every company, one
 * row per category) and, per dimension, one row per group with the share
 * of companies affected per category. Returns -EINVAL on a CSV that is not
 * the statistics' form. */
static int stats_tables(struct req *r, om_buf *b, const char *csv, size_t len)
{
	static const char *const dims[ST_DIMS] = {"all", "industry", "size", "region"};
	char(*f)[CON_CSV_FIELD_MAX] = calloc(ST_NCOLS, sizeof(*f));
	char key[64];
	size_t off = 0, n, used;

	if (!f)
		return -ENOMEM;
	used = con_csv_record(csv, len, f, ST_NCOLS, &n); /* the header */
	if (used == 0 || n != ST_NCOLS || strcmp(f[ST_DIM], "dimension") != 0) {
		free(f);
		return -EINVAL;
	}
	off = used;
	for (size_t d = 0; d < ST_DIMS; d++) {
		size_t start = off, k;
		bool open = false;
		char group[CON_CSV_FIELD_MAX] = "";
		snprintf(key, sizeof(key), "console.stats.dim.%s", dims[d]);
		const char *h[] = {tr(r, key), tr(r, "console.stats.group"),
		                   tr(r, "console.stats.companies")};
		con_html(b, "<section class=\"card stats\"><h2>{0}</h2>", h, 1);
		if (d == 0) {
			const char *hh[] = {
			    tr(r, "console.category"), tr(r, "console.stats.monitored"),
			    tr(r, "console.stats.affected"), tr(r, "console.stats.share"),
			    tr(r, "console.stats.events")};
			con_html(
			    b,
			    "<table class=\"stats\"><thead><tr><th>{0}</th><th class=\"num\">{1}"
			    "</th><th class=\"num\">{2}</th><th class=\"num\">{3}</th>"
			    "<th class=\"num\">{4}</th></tr></thead><tbody>",
			    hh, OM_ARRAY_SIZE(hh));
		} else {
			con_html(b,
			         "<table class=\"stats wide\"><thead><tr><th>{1}</th>"
			         "<th class=\"num\">{2}</th>",
			         h, OM_ARRAY_SIZE(h));
			for (size_t c = 0; c < OM_ARRAY_SIZE(report_categories); c++) {
				const char *v[] = {
				    cat_name(r, report_categories[c], key, sizeof(key))};
				con_html(b, "<th class=\"num\">{0}</th>", v, 1);
			}
			om_buf_puts(b, "</tr></thead><tbody>");
		}
		while ((k = con_csv_record(csv + off, len - off, f, ST_NCOLS, &n)) > 0) {
			if (n != ST_NCOLS || strcmp(f[ST_DIM], dims[d]) != 0)
				break;
			off += k;
			if (d == 0) {
				const char *v[] = {cat_name(r, f[ST_CAT], key, sizeof(key)),
				                   stats_cell(f[ST_MON]), stats_cell(f[ST_AFF]),
				                   stats_cell(f[ST_SHARE]),
				                   stats_cell(f[ST_EVENTS])};
				con_html(b,
				         "<tr><td>{0}</td><td class=\"num\">{1}</td><td "
				         "class=\"num\">{2}"
				         "</td><td class=\"num\">{3}</td><td "
				         "class=\"num\">{4}</td></tr>",
				         v, OM_ARRAY_SIZE(v));
				continue;
			}
			if (!open || strcmp(group, f[ST_GROUP]) != 0) {
				if (open)
					om_buf_puts(b, "</tr>");
				snprintf(group, sizeof(group), "%s", f[ST_GROUP]);
				const char *v[] = {stats_label(r, dims[d], f[ST_GROUP]),
				                   stats_cell(f[ST_COMPANIES])};
				con_html(b, "<tr><td>{0}</td><td class=\"num\">{1}</td>", v, 2);
				open = true;
			}
			/* share of the companies watched that were affected: "25.0 % (2/8)" */
			char cell[CON_CSV_FIELD_MAX * 3 + 16];
			if (!*f[ST_MON] || !strcmp(f[ST_MON], "0"))
				snprintf(cell, sizeof(cell), "-");
			else if (!strcmp(f[ST_SHARE], "x"))
				snprintf(cell, sizeof(cell), "x");
			else
				snprintf(cell, sizeof(cell), "%s %% (%s/%s)", f[ST_SHARE],
				         f[ST_AFF], f[ST_MON]);
			const char *v[] = {cell};
			con_html(b, "<td class=\"num\">{0}</td>", v, 1);
		}
		if (open)
			om_buf_puts(b, "</tr>");
		if (off == start) {
			const char *v[] = {tr(r, "console.stats.none")};
			con_html(b, "<tr><td colspan=\"8\">{0}</td></tr>", v, 1);
		}
		om_buf_puts(b, "</tbody></table></section>");
	}
	free(f);
	return 0;
}

/* GET /stats?month=: the programme statistics (provider roles). */
static enum MHD_Result page_stats(struct req *r)
{
	om_buf b, csv;
	char month[8], err[512];
	bool ok;

	if (!is_provider(r))
		return page_message(r, 403, "console.err.forbidden");
	ok = provider_month(r, month) != NULL;
	if (!ok)
		con_month_of(OM_STORE_DEFAULT_TZ, om_time_now(), -1, month);
	om_buf_init(&b, 4 * 1024 * 1024);
	page_begin(r, &b, tr(r, "console.nav.stats"));
	provider_nav(r, &b, "/stats");
	char anon[1024];
	snprintf(anon, sizeof(anon), tr(r, "console.stats.anon"), OM_STATS_K, OM_STATS_K);
	const char *v[] = {tr(r, "console.stats.intro"),
	                   tr(r, "console.report.month"),
	                   month,
	                   tr(r, "console.report.show"),
	                   tr(r, "console.stats.csv"),
	                   tr(r, "console.stats.xlsx"),
	                   anon};
	con_html(&b,
	         "<section class=\"card\"><p>{0}</p><form class=\"filters\" method=\"get\">"
	         "<label>{1} <input type=\"month\" name=\"month\" value=\"{2}\" "
	         "pattern=\"[0-9][0-9][0-9][0-9]-[0-9][0-9]\"></label><button "
	         "type=\"submit\">{3}</button></form>"
	         "<ul class=\"links\"><li><a href=\"/stats.csv?month={2}\" download>{4}</a></li>"
	         "<li><a href=\"/stats.xlsx?month={2}\" download>{5}</a></li></ul>"
	         "<p class=\"nw\">{6}</p></section>",
	         v, OM_ARRAY_SIZE(v));
	if (!ok) {
		const char *e[] = {tr(r, "console.report.bad_month")};
		con_html(&b, "<p class=\"banner bad\">{0}</p>", e, 1);
		return send_page_status(r, &b, 400);
	}
	om_buf_init(&csv, 8 * 1024 * 1024);
	if (om_report_stats(r->srv->store, month, OM_STATS_CSV, r->lang, &csv, NULL, err,
	                    sizeof(err)) < 0 ||
	    stats_tables(r, &b, om_buf_cstr(&csv), csv.len) < 0) {
		om_buf_free(&csv);
		om_buf_free(&b);
		return page_message(r, 500, "console.err.internal");
	}
	om_buf_free(&csv);
	desk_stats(r, &b);
	return send_page(r, &b);
}

/* Reads a whole file into b (at most its cap). */
static int slurp(const char *path, om_buf *b)
{
	FILE *f = fopen(path, "rb");
	char chunk[65536];
	size_t k;
	int rc = 0;

	if (!f)
		return -errno;
	while ((k = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (om_buf_append(b, chunk, k) < 0) {
			rc = -E2BIG;
			break;
		}
	if (ferror(f))
		rc = -EIO;
	fclose(f);
	return rc;
}

/* GET /stats.csv, /stats.xlsx ?month=: the downloads (provider roles). */
static enum MHD_Result stats_file(struct req *r, bool xlsx)
{
	char month[8], err[512], disp[128];
	om_buf b;
	enum MHD_Result ret;
	int rc;

	if (!is_provider(r))
		return page_message(r, 403, "console.err.forbidden");
	if (!provider_month(r, month))
		return page_message(r, 400, "console.report.bad_month");
	om_buf_init(&b, 16 * 1024 * 1024);
	if (xlsx) {
		char path[] = "/tmp/omamori-stats-XXXXXX";
		int fd = mkstemp(path);
		if (fd < 0) {
			om_buf_free(&b);
			return page_message(r, 500, "console.err.internal");
		}
		close(fd);
		rc = om_report_stats(r->srv->store, month, OM_STATS_XLSX, r->lang, NULL, path, err,
		                     sizeof(err));
		if (rc == 0)
			rc = slurp(path, &b);
		unlink(path);
	} else
		rc = om_report_stats(r->srv->store, month, OM_STATS_CSV, r->lang, &b, NULL, err,
		                     sizeof(err));
	if (rc < 0 || b.len == 0) {
		om_buf_free(&b);
		return page_message(r, 500, "console.err.internal");
	}
	snprintf(disp, sizeof(disp), "attachment; filename=\"omamori-stats-%s.%s\"", month,
	         xlsx ? "xlsx" : "csv");
	ret = send_bytes(r, 200,
	                 xlsx ? "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	                      : "text/csv; charset=utf-8",
	                 b.data, b.len, NULL, disp);
	om_buf_free(&b);
	return ret;
}

/* ---- every company's report for a month, in one action (provider) ---- */

#define CON_RUNS_MAX 64

/* A run's name: "YYYY-MM-ja" or "YYYY-MM-en" (the month and language). */
static bool run_name_ok(const char *run)
{
	om_usec a, b;
	char m[8];

	if (strlen(run) != 10 || run[7] != '-')
		return false;
	snprintf(m, sizeof(m), "%.7s", run);
	return con_month_bounds(OM_STORE_DEFAULT_TZ, m, &a, &b) == 0 &&
	       (!strcmp(run + 8, "ja") || !strcmp(run + 8, "en"));
}

/* Whether the running job has ended (its child reaped). */
static void job_reap(struct con_server *srv)
{
	int st;

	if (srv->job.pid > 0 && waitpid(srv->job.pid, &st, WNOHANG) == srv->job.pid)
		srv->job.pid = 0;
}

static bool job_running(struct con_server *srv, const char *run)
{
	job_reap(srv);
	return srv->job.pid > 0 && (!run || !strcmp(srv->job.run, run));
}

/* Starts the run of month in the user's language. 0, -EBUSY (one is
 * running) or a negative errno. */
static int job_start(struct req *r, const char *month)
{
	struct con_server *srv = r->srv;
	char run[16], dir[4096];
	pid_t pid;

	if (job_running(srv, NULL))
		return -EBUSY;
	snprintf(run, sizeof(run), "%s-%s", month, om_lang_name(r->lang));
	if (snprintf(dir, sizeof(dir), "%s/%s", srv->reports_dir, run) >= (int)sizeof(dir))
		return -ENAMETOOLONG;
	if ((mkdir(srv->reports_dir, 0750) < 0 && errno != EEXIST) ||
	    (mkdir(dir, 0750) < 0 && errno != EEXIST))
		return -errno;
	/* a new process of this program (`console run-reports`): its own store
	 * connection and time zone switching, nothing shared with the server */
	char m[8];
	snprintf(m, sizeof(m), "%s", month);
	char *argv[] = {"omamori", "--lang",      (char *)om_lang_name(r->lang),
	                "console", "run-reports", "--dir",
	                dir,       "--month",     m,
	                NULL};
	/* the store by the environment, not the command line: a PostgreSQL
	 * URL may carry a password, and every user can read command lines */
	size_t ne = 0;
	while (environ[ne])
		ne++;
	char **envp = calloc(ne + 2, sizeof(*envp));
	size_t dblen = strlen(srv->db) + sizeof(CON_RUN_DB_ENV "=");
	char *dbenv = malloc(dblen);
	if (!envp || !dbenv) {
		free(envp);
		free(dbenv);
		return -ENOMEM;
	}
	snprintf(dbenv, dblen, "%s=%s", CON_RUN_DB_ENV, srv->db);
	size_t k = 0;
	for (size_t i = 0; i < ne; i++)
		if (strncmp(environ[i], CON_RUN_DB_ENV "=", sizeof(CON_RUN_DB_ENV)) != 0)
			envp[k++] = environ[i];
	envp[k++] = dbenv;
	envp[k] = NULL;
	posix_spawnattr_t at;
	sigset_t none, def;
	sigemptyset(&none);
	sigemptyset(&def);
	sigaddset(&def, SIGTERM);
	sigaddset(&def, SIGINT);
	posix_spawnattr_init(&at);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &def);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	int e = posix_spawn(&pid, "/proc/self/exe", NULL, &at, argv, envp);
	posix_spawnattr_destroy(&at);
	free(envp);
	free(dbenv);
	if (e)
		return -e;
	srv->job.pid = pid;
	snprintf(srv->job.run, sizeof(srv->job.run), "%s", run);
	snprintf(srv->job.by, sizeof(srv->job.by), "%s", r->acct.name);
	srv->job.started = om_time_now();
	return 0;
}

struct run_status {
	bool done, running;
	int rc;
	size_t written, nodata, files;
	char err[512];
};

static void run_status_get(struct con_server *srv, const char *run, struct run_status *st)
{
	char dir[4096], path[4200];
	FILE *f;

	memset(st, 0, sizeof(*st));
	st->running = job_running(srv, run);
	snprintf(dir, sizeof(dir), "%s/%s", srv->reports_dir, run);
	DIR *d = opendir(dir);
	for (struct dirent *e; d && (e = readdir(d));) {
		size_t l = strlen(e->d_name);
		st->files += l > 4 && !strcmp(e->d_name + l - 4, ".pdf");
	}
	if (d)
		closedir(d);
	snprintf(path, sizeof(path), "%s/.status", dir);
	if (st->running || !(f = fopen(path, "r")))
		return;
	if (fscanf(f, "%d %zu %zu\n", &st->rc, &st->written, &st->nodata) == 3) {
		st->done = true;
		if (!fgets(st->err, sizeof(st->err), f))
			st->err[0] = '\0';
		st->err[strcspn(st->err, "\n")] = '\0';
	}
	fclose(f);
}

/* "done: 998 reports, 2 without data", "running: 120 so far", ... */
static void run_status_text(struct req *r, const struct run_status *st, char *out, size_t n,
                            const char **cls)
{
	if (st->running) {
		snprintf(out, n, tr(r, "console.reports.running"), st->files);
		*cls = "warn";
	} else if (st->done && st->rc == 0) {
		snprintf(out, n, tr(r, "console.reports.done"), st->written, st->nodata);
		*cls = "good";
	} else if (st->done) {
		snprintf(out, n, tr(r, "console.reports.failed"), st->written, st->err);
		*cls = "bad";
	} else {
		snprintf(out, n, tr(r, "console.reports.interrupted"), st->files);
		*cls = "bad";
	}
}

static int run_cmp(const void *a, const void *b)
{
	return strcmp((const char *)b, (const char *)a); /* newest month first */
}

/* GET /reports: the form and the runs so far. */
static enum MHD_Result page_reports(struct req *r, unsigned status, const char *msg_key)
{
	om_buf b;
	char month[8], runs[CON_RUNS_MAX][16];
	size_t nr = 0;

	if (!is_provider(r))
		return page_message(r, 403, "console.err.forbidden");
	con_month_of(OM_STORE_DEFAULT_TZ, om_time_now(), -1, month);
	om_buf_init(&b, 1024 * 1024);
	page_begin(r, &b, tr(r, "console.nav.reports"));
	provider_nav(r, &b, "/reports");
	if (msg_key) {
		const char *e[] = {tr(r, msg_key)};
		con_html(&b, "<p class=\"banner bad\">{0}</p>", e, 1);
	}
	const char *v[] = {
	    tr(r, "console.reports.intro"), tr(r, "console.report.month"),      month, r->csrf,
	    tr(r, "console.reports.make"),  tr(r, "console.reports.admin_only")};
	con_html(&b, "<section class=\"card\"><p>{0}</p>", v, 1);
	if (r->acct.role == OM_ROLE_PROVIDER_ADMIN)
		con_html(&b,
		         "<form class=\"filters\" method=\"post\" action=\"/reports\">"
		         "<input type=\"hidden\" name=\"csrf\" value=\"{3}\">"
		         "<label>{1} <input type=\"month\" name=\"month\" value=\"{2}\" required "
		         "pattern=\"[0-9][0-9][0-9][0-9]-[0-9][0-9]\"></label><button "
		         "type=\"submit\">{4}</button>"
		         "</form>",
		         v, OM_ARRAY_SIZE(v));
	else
		con_html(&b, "<p class=\"nw\">{5}</p>", v, OM_ARRAY_SIZE(v));
	om_buf_puts(&b, "</section>");

	DIR *d = opendir(r->srv->reports_dir);
	for (struct dirent *e; d && (e = readdir(d)) && nr < CON_RUNS_MAX;)
		if (strlen(e->d_name) < sizeof(runs[0]) && run_name_ok(e->d_name))
			memcpy(runs[nr++], e->d_name, strlen(e->d_name) + 1);
	if (d)
		closedir(d);
	qsort(runs, nr, sizeof(runs[0]), run_cmp);
	const char *h[] = {tr(r, "console.reports.runs"), tr(r, "console.report.month"),
	                   tr(r, "console.reports.lang"), tr(r, "console.reports.state")};
	con_html(&b,
	         "<section class=\"card\"><h2>{0}</h2><table class=\"runs\"><thead><tr><th>{1}</th>"
	         "<th>{2}</th><th>{3}</th></tr></thead><tbody>",
	         h, OM_ARRAY_SIZE(h));
	for (size_t i = 0; i < nr; i++) {
		struct run_status st;
		char text[800], m[8];
		const char *cls;
		run_status_get(r->srv, runs[i], &st);
		run_status_text(r, &st, text, sizeof(text), &cls);
		snprintf(m, sizeof(m), "%.7s", runs[i]);
		const char *row[] = {
		    runs[i], m,
		    tr(r, !strcmp(runs[i] + 8, "ja") ? "console.lang.ja" : "console.lang.en"), text,
		    cls};
		con_html(&b,
		         "<tr data-href=\"/reports/{0}\"><td><a href=\"/reports/{0}\">{1}</a></td>"
		         "<td>{2}</td><td class=\"state {4}\">{3}</td></tr>",
		         row, OM_ARRAY_SIZE(row));
	}
	if (nr == 0) {
		const char *e[] = {tr(r, "console.reports.none")};
		con_html(&b, "<tr><td colspan=\"3\">{0}</td></tr>", e, 1);
	}
	om_buf_puts(&b, "</tbody></table></section>");
	return send_page_status(r, &b, status);
}

/* POST /reports month=&csrf=: starts the run (provider admin). */
static enum MHD_Result do_reports(struct req *r)
{
	con_form f;
	const char *m;
	om_usec a, b;
	char to[64];
	int rc;

	con_form_parse(&f, r->body, r->body_len);
	if (!csrf_ok(r, &f))
		return page_message(r, 403, "console.err.csrf");
	if (r->acct.role != OM_ROLE_PROVIDER_ADMIN)
		return page_message(r, 403, "console.err.forbidden");
	m = con_form_get(&f, "month");
	if (!m || con_month_bounds(OM_STORE_DEFAULT_TZ, m, &a, &b) < 0)
		return page_reports(r, 400, "console.report.bad_month");
	rc = job_start(r, m);
	if (rc == -EBUSY)
		return page_reports(r, 409, "console.reports.busy");
	if (rc < 0)
		return page_reports(r, 500, "console.reports.cannot");
	audit(r, r->acct.name, "", "reports_all", r->srv->job.run);
	snprintf(to, sizeof(to), "/reports/%s", r->srv->job.run);
	return redirect(r, to, NULL);
}

/* GET /reports/<run>: the state of a run and each company's download (the
 * companies om_report_all writes: every tenant of the store). */
static enum MHD_Result page_run(struct req *r, const char *run)
{
	struct run_status st;
	char(*ids)[OM_STORE_TENANT_MAX + 1];
	size_t n = 0;
	om_buf b;
	char text[800], m[8], dir[4096], path[4300], title[160];
	const char *cls;

	snprintf(m, sizeof(m), "%.7s", run);
	snprintf(dir, sizeof(dir), "%s/%s", r->srv->reports_dir, run);
	if (access(dir, F_OK) < 0)
		return page_message(r, 404, "console.err.not_found");
	ids = calloc(CON_TENANTS_MAX, sizeof(*ids));
	if (!ids)
		return page_message(r, 500, "console.err.internal");
	int rc = om_store_tenants(r->srv->store, ids, CON_TENANTS_MAX, &n);
	if (rc < 0 && rc != -E2BIG) {
		free(ids);
		return page_message(r, 500, "console.err.internal");
	}
	run_status_get(r->srv, run, &st);
	run_status_text(r, &st, text, sizeof(text), &cls);
	snprintf(title, sizeof(title), "%s %s", tr(r, "console.nav.reports"), m);
	om_buf_init(&b, 4 * 1024 * 1024);
	page_begin(r, &b, title);
	provider_nav(r, &b, "/reports");
	const char *v[] = {text, cls, tr(r, "console.reports.reload"), run};
	con_html(&b, "<p class=\"banner {1}\">{0}</p>", v, 2);
	if (st.running)
		con_html(&b, "<p><a href=\"/reports/{3}\">{2}</a></p>", v, OM_ARRAY_SIZE(v));
	const char *h[] = {tr(r, "console.attn.company"), tr(r, "console.reports.file")};
	con_html(&b,
	         "<section class=\"card\"><table class=\"runs\"><thead><tr><th>{0}</th><th>{1}</th>"
	         "</tr></thead><tbody>",
	         h, 2);
	for (size_t i = 0; i < n; i++) {
		om_store_tenant_meta md;
		om_store_tenant t;
		const char *name = ids[i];
		if (!con_tenant_id_ok(ids[i]))
			continue;
		if (om_store_tenant_meta_get(r->srv->store, ids[i], &md) == 0 && md.display_name[0])
			name = md.display_name;
		else if (om_store_tenant_get(r->srv->store, ids[i], &t) == 0 && t.name[0])
			name = t.name;
		snprintf(path, sizeof(path), "%s/%s-%s.pdf", dir, ids[i], m);
		bool have = access(path, R_OK) == 0;
		const char *row[] = {name, ids[i], run, tr(r, "console.reports.no_file"),
		                     tr(r, "console.report.pdf")};
		if (have)
			con_html(&b,
			         "<tr><td>{0} <span class=\"id\">{1}</span></td><td><a "
			         "href=\"/reports/{2}/{1}.pdf\" download>{4}</a></td></tr>",
			         row, OM_ARRAY_SIZE(row));
		else
			con_html(&b,
			         "<tr><td>{0} <span class=\"id\">{1}</span></td><td "
			         "class=\"nw\">{3}</td>"
			         "</tr>",
			         row, OM_ARRAY_SIZE(row));
	}
	om_buf_puts(&b, "</tbody></table></section>");
	free(ids);
	return send_page(r, &b);
}

/* GET /reports/<run>/<tenant>.pdf */
static enum MHD_Result run_file(struct req *r, const char *run, const char *file)
{
	char tenant[64], path[4300], disp[160];
	size_t l = strlen(file);
	struct stat sb;
	int fd;

	if (l <= 4 || l - 4 >= sizeof(tenant) || strcmp(file + l - 4, ".pdf") != 0)
		return page_message(r, 404, "console.err.not_found");
	memcpy(tenant, file, l - 4);
	tenant[l - 4] = '\0';
	if (!con_tenant_id_ok(tenant))
		return page_message(r, 404, "console.err.not_found");
	snprintf(path, sizeof(path), "%s/%s/%s-%.7s.pdf", r->srv->reports_dir, run, tenant, run);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		if (fd >= 0)
			close(fd);
		return page_message(r, 404, "console.err.not_found");
	}
	struct MHD_Response *resp = MHD_create_response_from_fd((uint64_t)sb.st_size, fd);
	if (!resp) {
		close(fd);
		return MHD_NO;
	}
	add_security_headers(r, resp, NULL);
	MHD_add_response_header(resp, "Content-Type", "application/pdf");
	snprintf(disp, sizeof(disp), "attachment; filename=\"report-%s-%.7s.pdf\"", tenant, run);
	MHD_add_response_header(resp, "Content-Disposition", disp);
	enum MHD_Result ret = MHD_queue_response(r->conn, 200, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* /reports[/<run>[/<tenant>.pdf]] (provider roles) */
static enum MHD_Result route_reports(struct req *r, const char *rest, bool post)
{
	char run[16];
	const char *slash;

	if (!is_provider(r))
		return page_message(r, 403, "console.err.forbidden");
	if (!*rest)
		return post ? do_reports(r) : page_reports(r, 200, NULL);
	if (post || *rest != '/')
		return page_message(r, 404, "console.err.not_found");
	rest++;
	slash = strchr(rest, '/');
	size_t len = slash ? (size_t)(slash - rest) : strlen(rest);
	if (len >= sizeof(run))
		return page_message(r, 404, "console.err.not_found");
	memcpy(run, rest, len);
	run[len] = '\0';
	if (!run_name_ok(run))
		return page_message(r, 404, "console.err.not_found");
	if (!slash)
		return page_run(r, run);
	return run_file(r, run, slash + 1);
}

/* /t/<tenant>[/<page>[/<id>]] */
static enum MHD_Result route_tenant(struct req *r, const char *rest)
{
	char tenant[64];
	const char *slash = strchr(rest, '/');
	size_t len = slash ? (size_t)(slash - rest) : strlen(rest);

	if (len == 0 || len >= sizeof(tenant))
		return page_message(r, 404, "console.err.not_found");
	memcpy(tenant, rest, len);
	tenant[len] = '\0';
	if (!con_tenant_id_ok(tenant))
		return page_message(r, 404, "console.err.not_found");
	if (!may_see(r, tenant))
		return page_message(r, 403, "console.err.forbidden");
	if (!slash || !slash[1])
		return page_tenant(r, tenant);
	const char *p = slash + 1;
	if (!strcmp(p, "events"))
		return page_events(r, tenant);
	if (!strncmp(p, "events/", 7))
		return page_event(r, tenant, p + 7);
	if (!strcmp(p, "gateways"))
		return page_gateways(r, tenant);
	if (!strcmp(p, "report"))
		return page_report(r, tenant);
	if (!strncmp(p, "report.", 7) &&
	    (!strcmp(p + 7, "html") || !strcmp(p + 7, "pdf") || !strcmp(p + 7, "json")))
		return report_file(r, tenant, p + 7);
	return page_message(r, 404, "console.err.not_found");
}

/* ---- the API (JSON) ---- */

static enum MHD_Result api_me(struct req *r)
{
	om_buf b;
	om_json j;
	enum MHD_Result ret;

	om_buf_init(&b, 4096);
	om_json_init(&j, &b);
	om_json_obj_open(&j, NULL);
	om_json_str(&j, "user", r->acct.name);
	om_json_str(&j, "role", con_role_name(r->acct.role));
	om_json_str(&j, "tenant", r->acct.tenant);
	om_json_str(&j, "csrf", r->csrf);
	om_json_obj_close(&j);
	ret = send_buf(r, 200, "application/json", &b, NULL, NULL);
	om_buf_free(&b);
	return ret;
}

static enum MHD_Result api_tenants_get(struct req *r)
{
	om_store_tenant *ts = calloc(CON_TENANTS_MAX, sizeof(*ts));
	size_t n = 0;
	om_buf b;
	om_json j;
	enum MHD_Result ret;

	if (!ts || om_store_tenant_list(r->srv->store, ts, CON_TENANTS_MAX, &n) < 0) {
		free(ts);
		return send_text(r, 500, "application/json", "{\"error\":\"internal\"}");
	}
	om_buf_init(&b, 4 * 1024 * 1024);
	om_json_init(&j, &b);
	om_json_arr_open(&j, NULL);
	for (size_t i = 0; i < n; i++) {
		if (!may_see(r, ts[i].id))
			continue;
		om_json_obj_open(&j, NULL);
		om_json_str(&j, "id", ts[i].id);
		om_json_str(&j, "name", ts[i].name);
		om_json_obj_close(&j);
	}
	om_json_arr_close(&j);
	ret = send_buf(r, 200, "application/json", &b, NULL, NULL);
	om_buf_free(&b);
	free(ts);
	return ret;
}

static enum MHD_Result api_tenants_post(struct req *r)
{
	con_form f;
	const char *id, *name;
	int rc;

	con_form_parse(&f, r->body, r->body_len);
	if (!csrf_ok(r, &f))
		return send_text(r, 403, "application/json", "{\"error\":\"csrf\"}");
	if (r->acct.role != OM_ROLE_PROVIDER_ADMIN)
		return send_text(r, 403, "application/json", "{\"error\":\"forbidden\"}");
	id = con_form_get(&f, "id");
	name = con_form_get(&f, "name");
	if (!id || !name || !con_tenant_id_ok(id) || !*name || strlen(name) >= 128)
		return send_text(r, 400, "application/json", "{\"error\":\"invalid\"}");
	rc = om_store_tenant_add(r->srv->store, id, name);
	if (rc == -EEXIST)
		return send_text(r, 409, "application/json", "{\"error\":\"exists\"}");
	if (rc < 0)
		return send_text(r, 500, "application/json", "{\"error\":\"internal\"}");
	audit(r, r->acct.name, id, "tenant_add", name);
	return send_text(r, 201, "application/json", "{\"ok\":true}");
}

/* GET /api/events?tenant=&from=&to=&category=&host=&severity=&before=: the
 * search of the events page as JSON (company roles: their own tenant, the
 * default). */
static enum MHD_Result api_events(struct req *r)
{
	const char *tenant = qarg(r, "tenant");
	char tz[80];
	struct search q;
	om_store_tenant t;
	om_buf b;
	om_json j;
	enum MHD_Result ret;

	if (!tenant || !*tenant)
		tenant = r->acct.tenant;
	if (!*tenant || !con_tenant_id_ok(tenant))
		return send_text(r, 400, "application/json", "{\"error\":\"tenant\"}");
	if (!may_see(r, tenant))
		return send_text(r, 403, "application/json", "{\"error\":\"forbidden\"}");
	if (om_store_tenant_get(r->srv->store, tenant, &t) < 0)
		return send_text(r, 404, "application/json", "{\"error\":\"no_tenant\"}");
	tenant_zone(r, tenant, tz, sizeof(tz));
	if (!search_parse(r, tenant, tz, &q))
		return send_text(r, 400, "application/json", "{\"error\":\"filter\"}");
	om_store_event_row *ev = calloc(CON_EVENTS_PAGE, sizeof(*ev));
	size_t n = 0;
	if (!ev || om_store_event_search(r->srv->store, &q.f, ev, CON_EVENTS_PAGE, &n) < 0) {
		free(ev);
		return send_text(r, 500, "application/json", "{\"error\":\"internal\"}");
	}
	om_buf_init(&b, 4 * 1024 * 1024);
	om_json_init(&j, &b);
	om_json_arr_open(&j, NULL);
	for (size_t i = 0; i < n; i++) {
		char ts[40];
		om_time_iso(ev[i].ts, ts, sizeof(ts));
		om_json_obj_open(&j, NULL);
		om_json_i64(&j, "id", ev[i].id);
		om_json_str(&j, "time", ts);
		om_json_str(&j, "gateway", ev[i].gateway);
		om_json_str(&j, "event_type", ev[i].event_type);
		om_json_str(&j, "category", ev[i].category);
		om_json_i64(&j, "severity", ev[i].severity);
		om_json_str(&j, "action", ev[i].action);
		om_json_str(&j, "src_ip", ev[i].src_ip);
		om_json_u64(&j, "src_port", ev[i].src_port);
		om_json_str(&j, "dest_ip", ev[i].dest_ip);
		om_json_u64(&j, "dest_port", ev[i].dest_port);
		om_json_str(&j, "proto", ev[i].proto);
		om_json_str(&j, "signature", ev[i].signature);
		om_json_obj_close(&j);
	}
	om_json_arr_close(&j);
	free(ev);
	ret = send_buf(r, 200, "application/json", &b, NULL, NULL);
	om_buf_free(&b);
	return ret;
}

static enum MHD_Result api_audit(struct req *r)
{
	om_store_audit *a;
	size_t n = 0;
	om_buf b;
	om_json j;
	enum MHD_Result ret;

	if (r->acct.role != OM_ROLE_PROVIDER_ADMIN && r->acct.role != OM_ROLE_COMPANY_ADMIN)
		return send_text(r, 403, "application/json", "{\"error\":\"forbidden\"}");
	a = calloc(200, sizeof(*a));
	if (!a || om_store_audit_list(r->srv->store, is_provider(r) ? NULL : r->acct.tenant, a, 200,
	                              &n) < 0) {
		free(a);
		return send_text(r, 500, "application/json", "{\"error\":\"internal\"}");
	}
	om_buf_init(&b, 1024 * 1024);
	om_json_init(&j, &b);
	om_json_arr_open(&j, NULL);
	for (size_t i = 0; i < n; i++) {
		char ts[40];
		om_time_iso(a[i].ts, ts, sizeof(ts));
		om_json_obj_open(&j, NULL);
		om_json_str(&j, "time", ts);
		om_json_str(&j, "actor", a[i].actor);
		om_json_str(&j, "tenant", a[i].tenant);
		om_json_str(&j, "action", a[i].action);
		om_json_str(&j, "detail", a[i].detail);
		om_json_obj_close(&j);
	}
	om_json_arr_close(&j);
	ret = send_buf(r, 200, "application/json", &b, NULL, NULL);
	om_buf_free(&b);
	free(a);
	return ret;
}

/* ---- gateways and ingest ---- */

static bool gateway_silent(const struct req *r, const om_store_gateway *g, om_usec now)
{
	om_usec limit = (om_usec)r->srv->silence_minutes * 60 * 1000000;

	return g->last_seen == 0 || now - g->last_seen > limit;
}

static enum MHD_Result api_gateways_get(struct req *r)
{
	om_store_gateway *g = calloc(CON_TENANTS_MAX, sizeof(*g));
	size_t n = 0;
	om_buf b;
	om_json j;
	om_usec now = om_time_now();
	enum MHD_Result ret;

	if (!g || om_store_gateway_list(r->srv->store, is_provider(r) ? NULL : r->acct.tenant, g,
	                                CON_TENANTS_MAX, &n) < 0) {
		free(g);
		return send_text(r, 500, "application/json", "{\"error\":\"internal\"}");
	}
	om_buf_init(&b, 4 * 1024 * 1024);
	om_json_init(&j, &b);
	om_json_arr_open(&j, NULL);
	for (size_t i = 0; i < n; i++) {
		char ts[40] = "";
		if (g[i].last_seen)
			om_time_iso(g[i].last_seen, ts, sizeof(ts));
		om_json_obj_open(&j, NULL);
		om_json_str(&j, "id", g[i].id);
		om_json_str(&j, "tenant", g[i].tenant);
		om_json_str(&j, "name", g[i].name);
		om_json_bool(&j, "enrolled", g[i].enrolled);
		om_json_str(&j, "version", g[i].version);
		if (g[i].last_seen)
			om_json_str(&j, "last_seen", ts);
		else
			om_json_null(&j, "last_seen");
		om_json_u64(&j, "events", g[i].events);
		om_json_u64(&j, "drops", g[i].drops);
		om_json_u64(&j, "backlog", g[i].backlog);
		om_json_bool(&j, "silent", gateway_silent(r, &g[i], now));
		om_json_obj_close(&j);
	}
	om_json_arr_close(&j);
	ret = send_buf(r, 200, "application/json", &b, NULL, NULL);
	om_buf_free(&b);
	free(g);
	return ret;
}

static enum MHD_Result api_gateways_post(struct req *r)
{
	con_form f;
	const char *tenant, *id, *name;
	char tok[64], th[65];
	om_store_tenant t;
	om_buf b;
	om_json j;
	enum MHD_Result ret;
	int rc;

	con_form_parse(&f, r->body, r->body_len);
	if (!csrf_ok(r, &f))
		return send_text(r, 403, "application/json", "{\"error\":\"csrf\"}");
	if (r->acct.role != OM_ROLE_PROVIDER_ADMIN)
		return send_text(r, 403, "application/json", "{\"error\":\"forbidden\"}");
	tenant = con_form_get(&f, "tenant");
	id = con_form_get(&f, "id");
	name = con_form_get(&f, "name");
	if (!tenant || !id || !name || !con_tenant_id_ok(id) || strlen(name) >= 128)
		return send_text(r, 400, "application/json", "{\"error\":\"invalid\"}");
	if (om_store_tenant_get(r->srv->store, tenant, &t) < 0)
		return send_text(r, 404, "application/json", "{\"error\":\"no_tenant\"}");
	con_token(tok);
	con_token_hash(tok, th);
	rc = om_store_gateway_add(r->srv->store, id, tenant, name, th);
	if (rc == -EEXIST)
		return send_text(r, 409, "application/json", "{\"error\":\"exists\"}");
	if (rc < 0)
		return send_text(r, 500, "application/json", "{\"error\":\"internal\"}");
	audit(r, r->acct.name, tenant, "gateway_add", id);
	om_buf_init(&b, 4096);
	om_json_init(&j, &b);
	om_json_obj_open(&j, NULL);
	om_json_str(&j, "id", id);
	om_json_str(&j, "enrol_token", tok);
	om_json_obj_close(&j);
	ret = send_buf(r, 201, "application/json", &b, NULL, NULL);
	om_buf_free(&b);
	return ret;
}

/* POST /api/enrol token=...: a one-time token for the gateway's own
 * credential. No session; limited like logins per client address. */
static enum MHD_Result api_enrol(struct req *r)
{
	con_form f;
	const char *tok;
	char th[65], cred[64], ch[65];
	om_store_gateway g;
	om_usec now = om_time_now();
	om_buf b;
	om_json j;
	enum MHD_Result ret;

	if (!con_rl_allowed(&r->srv->rl, r->client, now))
		return send_text(r, 429, "application/json", "{\"error\":\"rate\"}");
	con_form_parse(&f, r->body, r->body_len);
	tok = con_form_get(&f, "token");
	if (!tok || !*tok)
		return send_text(r, 400, "application/json", "{\"error\":\"invalid\"}");
	con_token_hash(tok, th);
	con_token(cred);
	con_token_hash(cred, ch);
	if (om_store_gateway_enrol(r->srv->store, th, ch, &g) < 0) {
		con_rl_fail(&r->srv->rl, r->client, now);
		audit(r, "", "", "enrol_failed", r->client);
		return send_text(r, 403, "application/json", "{\"error\":\"token\"}");
	}
	audit(r, g.id, g.tenant, "gateway_enrol", r->client);
	om_buf_init(&b, 4096);
	om_json_init(&j, &b);
	om_json_obj_open(&j, NULL);
	om_json_str(&j, "gateway", g.id);
	om_json_str(&j, "tenant", g.tenant);
	om_json_str(&j, "credential", cred);
	om_json_obj_close(&j);
	ret = send_buf(r, 200, "application/json", &b, NULL, NULL);
	om_buf_free(&b);
	return ret;
}

static uint64_t header_u64(struct req *r, const char *name)
{
	const char *v = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
	char *end;
	unsigned long long n;

	if (!v || !*v)
		return 0;
	errno = 0;
	n = strtoull(v, &end, 10);
	return errno || *end || n > INT64_MAX ? 0 : (uint64_t)n;
}

/* The writer committed a batch (called with the queue's lock held): a
 * suspended connection is taken up again, and answered then. */
static void ingest_done(con_ingest_job *j)
{
	struct con_req *cr = j->user;

	if (j->waiting)
		MHD_resume_connection(cr->conn);
}

static enum MHD_Result ingest_answer(struct req *r, const char *bid, bool dup,
                                     const con_ingest_result *res)
{
	om_buf b;
	om_json j;
	enum MHD_Result ret;

	om_buf_init(&b, 4096);
	om_json_init(&j, &b);
	om_json_obj_open(&j, NULL);
	om_json_str(&j, "ack", bid);
	om_json_bool(&j, "duplicate", dup);
	om_json_u64(&j, "lines", res->lines);
	om_json_u64(&j, "stored", res->stored);
	om_json_u64(&j, "invalid", res->invalid);
	om_json_obj_close(&j);
	ret = send_buf(r, 200, "application/json", &b, NULL, NULL);
	om_buf_free(&b);
	return ret;
}

/* A queued batch: suspends the connection until its commit (MHD calls the
 * handler again once the writer resumes it), then answers. */
static enum MHD_Result ingest_wait(struct req *r, struct con_req *cr)
{
	con_ingest_queue *q = &r->srv->ingest;
	con_ingest_job *j = &cr->job;

	pthread_mutex_lock(&q->m);
	bool done = j->done;
	if (!done && !j->waiting) {
		j->waiting = true;
		MHD_suspend_connection(cr->conn);
	}
	pthread_mutex_unlock(&q->m);
	if (!done)
		return MHD_YES;
	cr->queued = false;
	cr->parsed = om_store_parsed_free(cr->parsed);
	if (j->rc == 0 && !j->seen && cr->desk && cr->desk->n) {
		/* the events are committed: serious ones open their tickets */
		pthread_mutex_lock(&r->srv->lock);
		con_desk_auto_open(r->srv->store, cr->g.tenant, cr->desk, j->now, NULL);
		pthread_mutex_unlock(&r->srv->lock);
	}
	free(cr->desk);
	cr->desk = NULL;
	if (j->rc < 0)
		return send_text(r, 503, "application/json", "{\"error\":\"store\"}");
	return ingest_answer(r, cr->bid, j->seen, &j->res);
}

/* POST /api/ingest: Authorization: Bearer <credential>, X-Batch-Id, gzip
 * body of EVE lines. The answer acknowledges the batch only after its
 * events are committed; the gateway keeps its spool until then. The batch
 * is parsed on this connection's thread and written by the group commit's
 * writer; meanwhile the connection is suspended, so the thread serves its
 * other connections. */
static enum MHD_Result api_ingest(struct req *r, struct con_req *cr)
{
	if (cr->queued)
		return ingest_wait(r, cr);

	const char *auth = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Authorization");
	const char *bid = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "X-Batch-Id");
	const char *ver =
	    MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "X-Gateway-Version");
	char ch[65];
	om_store_gateway *g = &cr->g;
	con_ingest_result res = {0};
	om_usec now = om_time_now();
	int seen, rc, found;

	if (!auth || strncmp(auth, "Bearer ", 7) != 0 || !auth[7])
		return send_text(r, 401, "application/json", "{\"error\":\"credential\"}");
	con_token_hash(auth + 7, ch);
	/* called without the server's lock: the store is used under it, the
	 * body is parsed outside it (on this connection's thread) */
	pthread_mutex_lock(&r->srv->lock);
	found = om_store_gateway_by_cred(r->srv->store, ch, g);
	seen =
	    found < 0 || !con_batch_id_ok(bid) ? 0 : om_store_batch_seen(r->srv->store, g->id, bid);
	pthread_mutex_unlock(&r->srv->lock);
	if (found < 0)
		return send_text(r, 401, "application/json", "{\"error\":\"credential\"}");
	if (!con_batch_id_ok(bid))
		return send_text(r, 400, "application/json", "{\"error\":\"batch_id\"}");
	if (seen < 0)
		return send_text(r, 503, "application/json", "{\"error\":\"store\"}");
	snprintf(cr->bid, sizeof(cr->bid), "%s", bid);
	snprintf(cr->ver, sizeof(cr->ver), "%s", ver && strlen(ver) < 32 ? ver : "");
	if (seen == 1) {
		/* recorded already: acknowledged without reading the body again */
		pthread_mutex_lock(&r->srv->lock);
		om_store_gateway_seen(r->srv->store, g->id, now, cr->ver, 0,
		                      header_u64(r, "X-Drops"), header_u64(r, "X-Backlog"));
		pthread_mutex_unlock(&r->srv->lock);
		return ingest_answer(r, cr->bid, true, &res);
	}
	rc = con_ingest_parse(g->tenant, g->id, r->body, r->body_len, &cr->parsed, &cr->desk, &res);
	if (rc == -EINVAL || rc == -E2BIG)
		return send_text(r, 400, "application/json", "{\"error\":\"body\"}");
	if (rc < 0)
		return send_text(r, 503, "application/json", "{\"error\":\"store\"}");
	/* the body is not needed any more while the batch waits */
	om_buf_free(&cr->body);
	cr->job = (con_ingest_job){.gateway = g->id,
	                           .batch_id = cr->bid,
	                           .parsed = cr->parsed,
	                           .now = now,
	                           .health = true,
	                           .version = cr->ver,
	                           .drops = header_u64(r, "X-Drops"),
	                           .backlog = header_u64(r, "X-Backlog"),
	                           .on_done = ingest_done,
	                           .user = cr,
	                           .res = res};
	cr->conn = r->conn;
	int sr = con_ingest_submit(&r->srv->ingest, &cr->job);
	if (sr < 0) {
		cr->parsed = om_store_parsed_free(cr->parsed);
		free(cr->desk);
		cr->desk = NULL;
		/* too much waiting already: the gateway keeps the batch and
		 * pushes it again later */
		return send_text(r, 503, "application/json",
		                 sr == -ENOBUFS ? "{\"error\":\"busy\"}" : "{\"error\":\"store\"}");
	}
	cr->queued = true;
	return ingest_wait(r, cr);
}

/* /api/gateway/commands: the gateway's command channel, with the same
 * credential as its pushes. */
static enum MHD_Result api_gateway_commands(struct req *r, bool get, bool post)
{
	const char *auth = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Authorization");
	char ch[65];
	om_store_gateway g;
	con_answer a;

	if (!auth || strncmp(auth, "Bearer ", 7) != 0 || !auth[7])
		return send_text(r, 401, "application/json", "{\"error\":\"credential\"}");
	con_token_hash(auth + 7, ch);
	if (om_store_gateway_by_cred(r->srv->store, ch, &g) < 0)
		return send_text(r, 401, "application/json", "{\"error\":\"credential\"}");
	if (con_desk_gateway_route(r->srv->store, &g, get, post, r->url, r->body, r->body_len,
	                           &a) != 1)
		return send_text(r, 404, "application/json", "{\"error\":\"not_found\"}");
	return desk_send(r, &a);
}

/* ---- static files ---- */

static enum MHD_Result serve_static(struct req *r, const char *path)
{
	for (const con_static_file *f = con_static_files; f->path; f++)
		if (!strcmp(path, f->path))
			return send_bytes(r, 200, f->type, f->data, f->len, NULL, NULL);
	return page_message(r, 404, "console.err.not_found");
}

/* ---- dispatch ---- */

static void load_session(struct req *r)
{
	char tok[80];
	const char *ch = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Cookie");

	if (con_cookie_get(ch, "om_session", tok, sizeof(tok)) < 0 || !*tok)
		return;
	con_token_hash(tok, r->sid_hash);
	if (om_store_session_get(r->srv->store, r->sid_hash, om_time_now(), &r->acct, r->csrf) == 0)
		r->logged_in = true;
}

static void pick_lang(struct req *r, char *set_cookie, size_t n)
{
	const char *q = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "lang");
	char c[8];
	enum om_lang l;

	r->lang = OM_LANG_JA;
	set_cookie[0] = '\0';
	if (q && om_lang_parse(q, &l) == 0) {
		r->lang = l;
		snprintf(set_cookie, n, "om_lang=%s; Path=/; Max-Age=31536000; SameSite=Strict%s",
		         om_lang_name(l), r->srv->tls ? "; Secure" : "");
		return;
	}
	if (con_cookie_get(MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Cookie"),
	                   "om_lang", c, sizeof(c)) == 0 &&
	    om_lang_parse(c, &l) == 0)
		r->lang = l;
}

static enum MHD_Result route(struct req *r)
{
	bool get = !strcmp(r->method, "GET") || !strcmp(r->method, "HEAD");
	bool post = !strcmp(r->method, "POST");
	const char *u = r->url;

	if (get && !strncmp(u, "/static/", 8))
		return serve_static(r, u);
	if (get && !strcmp(u, "/favicon.ico"))
		return serve_static(r, "/static/favicon.svg");
	if (!strcmp(u, "/")) {
		if (!get)
			return page_message(r, 405, "console.err.method");
		if (r->logged_in)
			return redirect(r, "/dashboard", NULL);
		return page_login(r, NULL, 200);
	}
	if (!strcmp(u, "/login")) {
		if (post)
			return do_login(r);
		return redirect(r, "/", NULL);
	}
	if (!strcmp(u, "/api/enrol") && post)
		return api_enrol(r);
	/* POST /api/ingest is answered by the handler itself (api_ingest) */
	if (!strncmp(u, "/api/gateway/commands", 21))
		return api_gateway_commands(r, get, post);
	bool api = !strncmp(u, "/api/", 5);
	if (!r->logged_in) {
		if (api)
			return send_text(r, 401, "application/json", "{\"error\":\"login\"}");
		return redirect(r, "/", NULL);
	}
	if (!strcmp(u, "/logout") && post)
		return do_logout(r);
	if (!strcmp(u, "/desk") || !strncmp(u, "/api/desk/", 10) ||
	    (!strncmp(u, "/t/", 3) && strstr(u, "/desk"))) {
		bool handled;
		enum MHD_Result ret = desk_route(r, &handled);
		if (handled)
			return ret;
	}
	if (!strcmp(u, "/dashboard") && get)
		return page_dashboard(r);
	if (!strncmp(u, "/t/", 3) && get)
		return route_tenant(r, u + 3);
	if (!strcmp(u, "/stats") && get)
		return page_stats(r);
	if (!strcmp(u, "/stats.csv") && get)
		return stats_file(r, false);
	if (!strcmp(u, "/stats.xlsx") && get)
		return stats_file(r, true);
	if (!strncmp(u, "/reports", 8) && (get || post) && (!u[8] || u[8] == '/'))
		return route_reports(r, u + 8, post);
	if (!strcmp(u, "/api/me") && get)
		return api_me(r);
	if (!strcmp(u, "/api/tenants") && get)
		return api_tenants_get(r);
	if (!strcmp(u, "/api/tenants") && post)
		return api_tenants_post(r);
	if (!strcmp(u, "/api/gateways") && get)
		return api_gateways_get(r);
	if (!strcmp(u, "/api/gateways") && post)
		return api_gateways_post(r);
	if (!strcmp(u, "/api/events") && get)
		return api_events(r);
	if (!strcmp(u, "/api/audit") && get)
		return api_audit(r);
	if (api)
		return send_text(r, 404, "application/json", "{\"error\":\"not_found\"}");
	return page_message(r, 404, "console.err.not_found");
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn, const char *url,
                               const char *method, const char *version, const char *upload,
                               size_t *upload_size, void **con_cls)
{
	struct con_server *srv = cls;
	struct con_req *cr = *con_cls;
	struct req r;
	char lang_cookie[128];
	enum MHD_Result ret;

	(void)version;
	if (!cr) {
		cr = calloc(1, sizeof(*cr));
		if (!cr)
			return MHD_NO;
		om_buf_init(&cr->body,
		            !strcmp(url, "/api/ingest") ? CON_INGEST_BODY_MAX : CON_BODY_MAX);
		*con_cls = cr;
		return MHD_YES;
	}
	if (*upload_size) {
		if (om_buf_append(&cr->body, upload, *upload_size) < 0)
			cr->too_big = true;
		*upload_size = 0;
		return MHD_YES;
	}

	memset(&r, 0, sizeof(r));
	r.srv = srv;
	r.conn = conn;
	r.method = method;
	r.url = url;
	r.body = cr->body.len ? om_buf_cstr(&cr->body) : "";
	r.body_len = cr->body.len;
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci && ci->client_addr) {
		const struct sockaddr *sa = ci->client_addr;
		if (sa->sa_family == AF_INET)
			inet_ntop(AF_INET,
			          &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
			          r.client, sizeof(r.client));
		else if (sa->sa_family == AF_INET6)
			inet_ntop(AF_INET6,
			          &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
			          r.client, sizeof(r.client));
	}
	/* a pushed batch takes the lock itself, only around the store, so that
	 * batches are parsed on several threads at once */
	if (!cr->too_big && !strcmp(url, "/api/ingest") && !strcmp(method, "POST"))
		return api_ingest(&r, cr);
	pthread_mutex_lock(&srv->lock);
	pick_lang(&r, lang_cookie, sizeof(lang_cookie));
	om_lang_set_thread(r.lang);
	load_session(&r);
	if (cr->too_big)
		ret = page_message(&r, 413, "console.err.too_big");
	else if (lang_cookie[0] && !strcmp(method, "GET")) {
		/* Remember the choice and show the same page without ?lang=. */
		ret = redirect(&r, url, lang_cookie);
	} else
		ret = route(&r);
	pthread_mutex_unlock(&srv->lock);
	return ret;
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
	struct con_req *cr = *con_cls;

	(void)conn;
	(void)toe;
	if (cr) {
		if (cr->queued) {
			/* not while the writer holds the job (a suspended connection
			 * is not closed; this is only for safety) */
			con_ingest_queue *q = &((struct con_server *)cls)->ingest;
			pthread_mutex_lock(&q->m);
			while (!cr->job.done)
				pthread_cond_wait(&q->cv, &q->m);
			pthread_mutex_unlock(&q->m);
		}
		om_store_parsed_free(cr->parsed);
		free(cr->desk);
		om_buf_free(&cr->body);
		free(cr);
		*con_cls = NULL;
	}
}

static int parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *len, bool *loopback)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	unsigned long port;
	char *end;

	if (!colon || (size_t)(colon - s) >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno || *end || end == colon + 1 || port == 0 || port > 65535)
		return -EINVAL;
	memset(ss, 0, sizeof(*ss));
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
		host[strlen(host) - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, &a->sin6_addr) != 1)
			return -EINVAL;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		*len = sizeof(*a);
		*loopback = IN6_IS_ADDR_LOOPBACK(&a->sin6_addr);
		return 0;
	}
	struct sockaddr_in *a = (struct sockaddr_in *)ss;
	if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
		return -EINVAL;
	a->sin_family = AF_INET;
	a->sin_port = htons((uint16_t)port);
	*len = sizeof(*a);
	*loopback = (ntohl(a->sin_addr.s_addr) >> 24) == 127;
	return 0;
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	om_buf b;
	char chunk[4096];
	size_t n;
	char *out = NULL;

	if (!f)
		return NULL;
	om_buf_init(&b, 1024 * 1024);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (om_buf_append(&b, chunk, n) < 0)
			break;
	if (!ferror(f) && b.len)
		out = strdup(om_buf_cstr(&b));
	fclose(f);
	om_buf_free(&b);
	return out;
}

int con_serve(const con_options *o)
{
	struct con_server *srv;
	struct sockaddr_storage ss;
	socklen_t sl;
	bool loopback;
	char err[512] = "";
	char *cert = NULL, *key = NULL;
	struct MHD_Daemon *d;
	sigset_t set;
	int sig, rc = 1;

	if (parse_listen(o->listen, &ss, &sl, &loopback) < 0) {
		om_err(om_tr("console.err.listen"), o->listen);
		return 2;
	}
	if ((o->cert == NULL) != (o->key == NULL)) {
		om_err("%s", om_tr("console.err.cert_pair"));
		return 2;
	}
	if (!o->cert && !loopback) {
		om_err(om_tr("console.err.plain"), o->listen);
		return 2;
	}
	if (o->cert) {
		cert = read_file(o->cert);
		key = read_file(o->key);
		if (!cert || !key) {
			om_err(om_tr("console.err.cert_read"), cert ? o->key : o->cert);
			free(cert);
			free(key);
			return 1;
		}
	}
	srv = calloc(1, sizeof(*srv));
	if (!srv || con_auth_init() < 0) {
		free(srv);
		free(cert);
		free(key);
		return 1;
	}
	pthread_mutex_init(&srv->lock, NULL);
	con_ingest_queue_init(&srv->ingest);
	pthread_mutex_init(&srv->ingest_lock, NULL);
	pthread_mutex_init(&srv->ingest_lock2, NULL);
	srv->tls = cert != NULL;
	srv->session_seconds = o->session_seconds;
	srv->silence_minutes = o->silence_minutes ? o->silence_minutes : 30;
	srv->db = o->db;
	srv->reports_dir = o->reports_dir && *o->reports_dir ? o->reports_dir : CON_REPORTS_DIR;
	if (om_store_open(o->db, &srv->store, err, sizeof(err)) < 0 ||
	    om_store_open(o->db, &srv->ingest_store, err, sizeof(err)) < 0 ||
	    (om_store_is_postgresql(o->db) &&
	     om_store_open(o->db, &srv->ingest_store2, err, sizeof(err)) < 0)) {
		om_err("%s", err);
		goto out;
	}

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	/* epoll (or poll) rather than select: more than FD_SETSIZE connections */
	/* suspend/resume: a pushed batch waits for its commit without holding
	 * its thread */
	unsigned flags =
	    MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (srv->tls)
		flags |= MHD_USE_TLS;
	if (srv->tls)
		d = MHD_start_daemon(
		    flags, 0, NULL, NULL, &handler, srv, MHD_OPTION_SOCK_ADDR, &ss,
		    MHD_OPTION_NOTIFY_COMPLETED, &completed, srv, MHD_OPTION_CONNECTION_TIMEOUT,
		    30u, MHD_OPTION_CONNECTION_LIMIT, CON_CONNECTIONS_ALL,
		    MHD_OPTION_THREAD_POOL_SIZE, CON_THREADS, MHD_OPTION_HTTPS_MEM_CERT, cert,
		    MHD_OPTION_HTTPS_MEM_KEY, key, MHD_OPTION_END);
	else
		d = MHD_start_daemon(flags, 0, NULL, NULL, &handler, srv, MHD_OPTION_SOCK_ADDR, &ss,
		                     MHD_OPTION_NOTIFY_COMPLETED, &completed, srv,
		                     MHD_OPTION_CONNECTION_TIMEOUT, 30u,
		                     MHD_OPTION_CONNECTION_LIMIT, CON_CONNECTIONS_ALL,
		                     MHD_OPTION_THREAD_POOL_SIZE, CON_THREADS, MHD_OPTION_END);
	if (!d) {
		om_err(om_tr("console.err.start"), o->listen);
		goto out;
	}
	int wr = con_ingest_start(&srv->ingest, srv->ingest_store, &srv->ingest_lock);
	if (wr == 0 && srv->ingest_store2)
		wr = con_ingest_start(&srv->ingest, srv->ingest_store2, &srv->ingest_lock2);
	if (wr < 0) {
		om_err(om_tr("console.err.start"), o->listen);
		con_ingest_stop(&srv->ingest);
		MHD_stop_daemon(d);
		goto out;
	}
	fprintf(stderr, om_tr("console.listening"), srv->tls ? "https" : "http", o->listen);
	fputc('\n', stderr);
	sigwait(&set, &sig);
	/* the queued batches are committed and their connections resumed
	 * first (MHD must not stop with suspended connections) */
	con_ingest_stop(&srv->ingest);
	MHD_stop_daemon(d);
	if (srv->job.pid > 0) {
		/* a run of every company's reports ends with the console */
		kill(srv->job.pid, SIGTERM);
		waitpid(srv->job.pid, NULL, 0);
	}
	rc = 0;
out:
	om_store_close(srv->ingest_store2);
	om_store_close(srv->ingest_store);
	om_store_close(srv->store);
	pthread_mutex_destroy(&srv->lock);
	con_ingest_queue_destroy(&srv->ingest);
	pthread_mutex_destroy(&srv->ingest_lock);
	pthread_mutex_destroy(&srv->ingest_lock2);
	free(srv);
	free(cert);
	free(key);
	(void)sl;
	return rc;
}
