/* console: the HTTP(S) server on libmicrohttpd.
 *
 * One internal polling thread answers every request, so the store handle is
 * used by one thread at a time (a mutex guards it anyway). Each request:
 * security headers on every answer; the session from the om_session cookie
 * (looked up by its hash, with expiry); POST bodies capped at CON_BODY_MAX
 * and checked for the session's CSRF token (forms: the csrf field; the API:
 * the X-CSRF-Token header); and every page or API call that names a tenant
 * is checked against the account's tenant on the server side. */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "console/internal.h"

#define CON_BODY_MAX (64 * 1024)
#define CON_TENANTS_MAX 1024

static const char *const report_categories[] = {"recon",        "c2",   "web_malware",
                                                "mail_malware", "spam", "harmful_web"};

struct con_server {
	om_store *store;
	pthread_mutex_t lock;
	bool tls;
	unsigned session_seconds;
	unsigned silence_minutes;
	con_ratelimit rl;
};

struct con_req {
	om_buf body;
	bool too_big;
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

static void add_security_headers(const struct req *r, struct MHD_Response *resp)
{
	MHD_add_response_header(resp, "Content-Security-Policy",
	                        "default-src 'none'; style-src 'self'; script-src 'self'; "
	                        "img-src 'self'; form-action 'self'; frame-ancestors 'none'; "
	                        "base-uri 'none'");
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
	add_security_headers(r, resp);
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

	con_html(b,
	         "<!DOCTYPE html>\n<html lang=\"{0}\"><head><meta charset=\"utf-8\">"
	         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
	         "<title>{1} - {2}</title>"
	         "<link rel=\"stylesheet\" href=\"/static/console.css\"></head><body>"
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

static enum MHD_Result page_login(struct req *r, const char *error_key, unsigned status)
{
	char tok[64], ck[160];
	om_buf b;
	enum MHD_Result ret;

	/* Login CSRF: a random value in a cookie and in the form (double submit). */
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

static void this_month(char out[8])
{
	char day[16];

	om_time_day(om_time_now(), day, sizeof(day));
	snprintf(out, 8, "%.7s", day);
}

static bool gateway_silent(const struct req *r, const om_store_gateway *g, om_usec now);

/* The gateways of a tenant with their health; a silent one is flagged. */
static void gateway_table(struct req *r, om_buf *b, const char *tenant)
{
	om_store_gateway g[64];
	size_t n = 0;
	om_usec now = om_time_now();

	if (om_store_gateway_list(r->srv->store, tenant, g, OM_ARRAY_SIZE(g), &n) < 0)
		return;
	const char *h[] = {tr(r, "console.gateways"),     tr(r, "console.gw.name"),
	                   tr(r, "console.gw.last_seen"), tr(r, "console.gw.version"),
	                   tr(r, "console.gw.events"),    tr(r, "console.gw.drops"),
	                   tr(r, "console.gw.backlog")};
	con_html(b,
	         "<h2>{0}</h2><table class=\"counts\"><thead><tr><th>{1}</th><th>{2}</th>"
	         "<th>{3}</th><th>{4}</th><th>{5}</th><th>{6}</th></tr></thead><tbody>",
	         h, OM_ARRAY_SIZE(h));
	for (size_t i = 0; i < n; i++) {
		char seen[40], ev[24], dr[24], bl[24];
		if (g[i].last_seen)
			om_time_iso(g[i].last_seen, seen, sizeof(seen));
		else
			snprintf(seen, sizeof(seen), "%s", tr(r, "console.gw.never"));
		snprintf(ev, sizeof(ev), "%llu", (unsigned long long)g[i].events);
		snprintf(dr, sizeof(dr), "%llu", (unsigned long long)g[i].drops);
		snprintf(bl, sizeof(bl), "%llu", (unsigned long long)g[i].backlog);
		bool silent = gateway_silent(r, &g[i], now);
		const char *v[] = {g[i].name,
		                   seen,
		                   g[i].version,
		                   ev,
		                   dr,
		                   bl,
		                   silent ? tr(r, "console.gw.silent") : ""};
		con_html(
		    b,
		    "<tr><td>{0}</td><td>{1} <strong class=\"error\">{6}</strong></td><td>{2}</td>"
		    "<td class=\"num\">{3}</td><td class=\"num\">{4}</td><td "
		    "class=\"num\">{5}</td></tr>",
		    v, OM_ARRAY_SIZE(v));
	}
	om_buf_puts(b, "</tbody></table>");
}

static enum MHD_Result page_tenant(struct req *r, const char *tenant)
{
	om_store_tenant t;
	om_buf b;
	enum MHD_Result ret;
	char month[8];

	if (!may_see(r, tenant))
		return page_message(r, 403, "console.err.forbidden");
	if (om_store_tenant_get(r->srv->store, tenant, &t) < 0)
		return page_message(r, 404, "console.err.not_found");
	this_month(month);
	om_buf_init(&b, CON_BODY_MAX);
	page_begin(r, &b, t.name);
	const char *h[] = {tr(r, "console.month_counts"), month, tr(r, "console.category"),
	                   tr(r, "console.count")};
	con_html(&b,
	         "<h2>{0} ({1})</h2><table class=\"counts\"><thead><tr><th>{2}</th><th>{3}</th>"
	         "</tr></thead><tbody>",
	         h, OM_ARRAY_SIZE(h));
	for (size_t i = 0; i < OM_ARRAY_SIZE(report_categories); i++) {
		uint64_t n = 0;
		char key[64], num[32];
		int mon = om_store_monitored(r->srv->store, tenant, month, report_categories[i]);
		om_store_month_total(r->srv->store, tenant, month, report_categories[i], &n);
		snprintf(key, sizeof(key), "console.cat.%s", report_categories[i]);
		if (mon > 0)
			snprintf(num, sizeof(num), "%llu", (unsigned long long)n);
		else
			snprintf(num, sizeof(num), "%s", tr(r, "console.not_watched"));
		const char *v[] = {tr(r, key), num};
		con_html(&b, "<tr><td>{0}</td><td class=\"num\">{1}</td></tr>", v, 2);
	}
	om_buf_puts(&b, "</tbody></table>");
	gateway_table(r, &b, tenant);
	page_end(&b);
	ret = send_buf(r, 200, "text/html; charset=utf-8", &b, NULL, NULL);
	om_buf_free(&b);
	return ret;
}

static enum MHD_Result page_dashboard(struct req *r)
{
	om_store_tenant *ts;
	size_t n = 0;
	om_buf b;
	enum MHD_Result ret;

	if (!is_provider(r)) {
		char to[128];
		snprintf(to, sizeof(to), "/t/%s", r->acct.tenant);
		return redirect(r, to, NULL);
	}
	ts = calloc(CON_TENANTS_MAX, sizeof(*ts));
	if (!ts || om_store_tenant_list(r->srv->store, ts, CON_TENANTS_MAX, &n) < 0) {
		free(ts);
		return page_message(r, 500, "console.err.internal");
	}
	om_buf_init(&b, 4 * 1024 * 1024);
	page_begin(r, &b, tr(r, "console.provider_title"));
	const char *h[] = {tr(r, "console.companies")};
	con_html(&b, "<h2>{0}</h2><ul class=\"tenants\">", h, 1);
	for (size_t i = 0; i < n; i++) {
		const char *v[] = {ts[i].id, ts[i].name};
		con_html(&b, "<li><a href=\"/t/{0}\">{1}</a> <span class=\"id\">{0}</span></li>", v,
		         2);
	}
	if (n == 0) {
		const char *v[] = {tr(r, "console.no_companies")};
		con_html(&b, "<li>{0}</li>", v, 1);
	}
	om_buf_puts(&b, "</ul>");
	page_end(&b);
	ret = send_buf(r, 200, "text/html; charset=utf-8", &b, NULL, NULL);
	om_buf_free(&b);
	free(ts);
	return ret;
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

static bool tenant_id_ok(const char *id)
{
	size_t n = 0;

	for (const char *p = id; *p; p++, n++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' ||
		      *p == '_'))
			return false;
	return n > 0 && n < 64;
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
	if (!id || !name || !tenant_id_ok(id) || !*name || strlen(name) >= 128)
		return send_text(r, 400, "application/json", "{\"error\":\"invalid\"}");
	rc = om_store_tenant_add(r->srv->store, id, name);
	if (rc == -EEXIST)
		return send_text(r, 409, "application/json", "{\"error\":\"exists\"}");
	if (rc < 0)
		return send_text(r, 500, "application/json", "{\"error\":\"internal\"}");
	audit(r, r->acct.name, id, "tenant_add", name);
	return send_text(r, 201, "application/json", "{\"ok\":true}");
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
	if (!tenant || !id || !name || !tenant_id_ok(id) || strlen(name) >= 128)
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

/* POST /api/ingest: Authorization: Bearer <credential>, X-Batch-Id, gzip
 * body of EVE lines. The answer acknowledges the batch only after its
 * events are committed; the gateway keeps its spool until then. */
static enum MHD_Result api_ingest(struct req *r)
{
	const char *auth = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Authorization");
	const char *bid = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "X-Batch-Id");
	const char *ver =
	    MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "X-Gateway-Version");
	char ch[65];
	om_store_gateway g;
	con_ingest_result res = {0};
	om_usec now = om_time_now();
	om_buf b;
	om_json j;
	enum MHD_Result ret;
	int seen, rc;

	if (!auth || strncmp(auth, "Bearer ", 7) != 0 || !auth[7])
		return send_text(r, 401, "application/json", "{\"error\":\"credential\"}");
	con_token_hash(auth + 7, ch);
	if (om_store_gateway_by_cred(r->srv->store, ch, &g) < 0)
		return send_text(r, 401, "application/json", "{\"error\":\"credential\"}");
	if (!con_batch_id_ok(bid))
		return send_text(r, 400, "application/json", "{\"error\":\"batch_id\"}");
	seen = om_store_batch_seen(r->srv->store, g.id, bid);
	if (seen < 0)
		return send_text(r, 503, "application/json", "{\"error\":\"store\"}");
	if (!seen) {
		rc = con_ingest_gzip(r->srv->store, g.tenant, g.id, r->body, r->body_len, &res);
		if (rc == -EINVAL || rc == -E2BIG)
			return send_text(r, 400, "application/json", "{\"error\":\"body\"}");
		if (rc < 0 || om_store_batch_add(r->srv->store, g.id, bid, res.stored, now) < 0)
			return send_text(r, 503, "application/json", "{\"error\":\"store\"}");
	}
	om_store_gateway_seen(r->srv->store, g.id, now, ver && strlen(ver) < 32 ? ver : "",
	                      res.stored, header_u64(r, "X-Drops"), header_u64(r, "X-Backlog"));
	om_buf_init(&b, 4096);
	om_json_init(&j, &b);
	om_json_obj_open(&j, NULL);
	om_json_str(&j, "ack", bid);
	om_json_bool(&j, "duplicate", seen == 1);
	om_json_u64(&j, "lines", res.lines);
	om_json_u64(&j, "stored", res.stored);
	om_json_u64(&j, "invalid", res.invalid);
	om_json_obj_close(&j);
	ret = send_buf(r, 200, "application/json", &b, NULL, NULL);
	om_buf_free(&b);
	return ret;
}

/* ---- static files ---- */

static const char console_css[] =
    "body{font-family:'Noto Sans CJK JP','Noto Sans JP',sans-serif;margin:0;color:#222;"
    "background:#f6f6f3;line-height:1.6}"
    "header{display:flex;gap:1em;align-items:center;padding:.6em 1.2em;background:#24466b;"
    "color:#fff}header a{color:#fff}.brand{font-weight:bold;flex:1}"
    "main{max-width:60em;margin:1.5em auto;padding:0 1.2em}"
    "form.login{display:flex;flex-direction:column;gap:.8em;max-width:22em}"
    "form.logout{display:inline;margin:0}"
    "label{display:flex;flex-direction:column}input{font-size:1em;padding:.3em}"
    "button{font-size:1em;padding:.3em 1em}.error{color:#a00;font-weight:bold}"
    "table.counts{border-collapse:collapse}table.counts td,table.counts th{border:1px solid #bbb;"
    "padding:.3em .8em}td.num{text-align:right}.id{color:#777;font-size:.85em}\n";

static const char console_js[] = "/* omamori console: no script is needed yet. */\n";

static enum MHD_Result serve_static(struct req *r, const char *path)
{
	if (!strcmp(path, "/static/console.css"))
		return send_text(r, 200, "text/css; charset=utf-8", console_css);
	if (!strcmp(path, "/static/console.js"))
		return send_text(r, 200, "text/javascript; charset=utf-8", console_js);
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
	if (!strcmp(u, "/api/ingest") && post)
		return api_ingest(r);
	bool api = !strncmp(u, "/api/", 5);
	if (!r->logged_in) {
		if (api)
			return send_text(r, 401, "application/json", "{\"error\":\"login\"}");
		return redirect(r, "/", NULL);
	}
	if (!strcmp(u, "/logout") && post)
		return do_logout(r);
	if (!strcmp(u, "/dashboard") && get)
		return page_dashboard(r);
	if (!strncmp(u, "/t/", 3) && get)
		return page_tenant(r, u + 3);
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

	(void)cls;
	(void)conn;
	(void)toe;
	if (cr) {
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
	srv->tls = cert != NULL;
	srv->session_seconds = o->session_seconds;
	srv->silence_minutes = o->silence_minutes ? o->silence_minutes : 30;
	if (om_store_open(o->db, &srv->store, err, sizeof(err)) < 0) {
		om_err("%s", err);
		goto out;
	}

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (srv->tls)
		flags |= MHD_USE_TLS;
	if (srv->tls)
		d = MHD_start_daemon(flags, 0, NULL, NULL, &handler, srv, MHD_OPTION_SOCK_ADDR, &ss,
		                     MHD_OPTION_NOTIFY_COMPLETED, &completed, srv,
		                     MHD_OPTION_CONNECTION_TIMEOUT, 30u,
		                     MHD_OPTION_CONNECTION_LIMIT, 512u, MHD_OPTION_HTTPS_MEM_CERT,
		                     cert, MHD_OPTION_HTTPS_MEM_KEY, key, MHD_OPTION_END);
	else
		d = MHD_start_daemon(flags, 0, NULL, NULL, &handler, srv, MHD_OPTION_SOCK_ADDR, &ss,
		                     MHD_OPTION_NOTIFY_COMPLETED, &completed, srv,
		                     MHD_OPTION_CONNECTION_TIMEOUT, 30u,
		                     MHD_OPTION_CONNECTION_LIMIT, 512u, MHD_OPTION_END);
	if (!d) {
		om_err(om_tr("console.err.start"), o->listen);
		goto out;
	}
	fprintf(stderr, om_tr("console.listening"), srv->tls ? "https" : "http", o->listen);
	fputc('\n', stderr);
	sigwait(&set, &sig);
	MHD_stop_daemon(d);
	rc = 0;
out:
	om_store_close(srv->store);
	pthread_mutex_destroy(&srv->lock);
	free(srv);
	free(cert);
	free(key);
	(void)sl;
	return rc;
}
