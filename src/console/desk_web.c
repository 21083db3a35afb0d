/* console: the desk's pages and API. The server hands each request under
 * /desk, /t/<tenant>/desk and /api/desk/ here with the session already
 * checked (con_ctx); the tenant rule is applied here again for every ticket
 * (a company role reaches only its own company's tickets; another
 * company's ticket is "not found", as for events). Only provider roles
 * change a ticket or act on a gateway; company users open tickets, comment
 * and attach files. Gateways reach /api/gateway/commands with their own
 * credential (con_desk_gateway_route). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "console/internal.h"

/* snprintf that cuts without a warning: every text here has a cap and a
 * cut one is still right to show */
static void sfmt(char *out, size_t n, const char *fmt, ...) OM_PRINTF(3, 4);
static void sfmt(char *out, size_t n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(out, n, fmt, ap);
	va_end(ap);
}

#define PAGE_MAX (4u * 1024 * 1024)
#define LIST_MAX 200
#define HISTORY_MAX 500
#define EVENTS_MAX 50

static const char *tr(const con_ctx *c, const char *key)
{
	return om_msg(c->lang, key);
}

static const char *trk(const con_ctx *c, const char *prefix, const char *v, char *key, size_t n)
{
	sfmt(key, n, "%s%s", prefix, v);
	return om_msg(c->lang, key);
}

static bool may_see(const con_ctx *c, const char *tenant)
{
	return c->provider || !strcmp(c->acct->tenant, tenant);
}

static void answer_json(con_answer *a, unsigned status, const char *text)
{
	a->status = status;
	a->ctype = "application/json";
	om_buf_init(&a->body, 4096);
	om_buf_puts(&a->body, text);
}

static void answer_page(const con_ctx *c, con_answer *a, unsigned status, const char *key)
{
	const char *v[] = {tr(c, key), tr(c, "console.back")};
	a->status = status;
	a->ctype = NULL;
	sfmt(a->title, sizeof(a->title), "%s", tr(c, "console.error_title"));
	om_buf_init(&a->body, 64 * 1024);
	con_html(&a->body, "<p class=\"error\">{0}</p><p><a href=\"/\">{1}</a></p>", v, 2);
}

static void redirect(con_answer *a, const char *fmt, const char *tenant, int64_t id)
{
	a->status = 303;
	a->ctype = "text/plain; charset=utf-8";
	om_buf_init(&a->body, 64);
	if (id)
		sfmt(a->location, sizeof(a->location), fmt, tenant, (long long)id);
	else
		sfmt(a->location, sizeof(a->location), fmt, tenant);
}

static void zone_of(const con_ctx *c, const char *tenant, char *tz, size_t n)
{
	om_store_tenant_meta m;

	if (om_store_tenant_meta_get(c->store, tenant, &m) == 0 && m.timezone[0] &&
	    om_store_timezone_valid(m.timezone))
		sfmt(tz, n, "%s", m.timezone);
	else
		sfmt(tz, n, "%s", OM_STORE_DEFAULT_TZ);
}

static void when(const char *tz, om_usec t, char *out, size_t n)
{
	if (!t)
		sfmt(out, n, "-");
	else if (con_local_time(tz, t, out, n) < 0)
		om_time_iso(t, out, n);
}

static void duration(const con_ctx *c, om_usec d, char *out, size_t n)
{
	uint64_t min = d / 60000000ull;
	sfmt(out, n, tr(c, "desk.duration"), (unsigned long long)(min / 60),
	     (unsigned long long)(min % 60));
}

/* ---- JSON ---- */

static void ticket_json(om_json *j, const om_store_ticket *t, om_usec now)
{
	con_desk_sla_state sla;
	static const char *const level[] = {"ok", "warning", "breached"};

	con_desk_sla(t, now, &sla);
	om_json_i64(j, "id", t->id);
	om_json_str(j, "tenant", t->tenant);
	om_json_str(j, "kind", t->kind);
	om_json_str(j, "source", t->source);
	om_json_str(j, "state", t->state);
	om_json_i64(j, "priority", t->priority);
	om_json_str(j, "title", t->title);
	om_json_str(j, "body", t->body);
	om_json_str(j, "device", t->device);
	om_json_str(j, "opened_by", t->opened_by);
	om_json_str(j, "assignee", t->assignee);
	om_json_str(j, "judgement", t->judgement);
	om_json_str(j, "suggested", t->suggested);
	om_json_str(j, "playbook", t->playbook);
	om_json_u64(j, "steps", t->steps);
	om_json_u64(j, "opened", t->opened);
	om_json_u64(j, "first_answer", t->first_answer);
	om_json_u64(j, "closed", t->closed);
	om_json_str(j, "sla", level[sla.level]);
}

/* ---- shared by pages and API ---- */

static int load_ticket(const con_ctx *c, const char *tenant, int64_t id, om_store_ticket *t)
{
	if (om_store_ticket_get(c->store, id, t) < 0)
		return -ENOENT;
	/* another company's ticket is not found: the id tells nothing */
	if ((tenant && strcmp(t->tenant, tenant) != 0) || !may_see(c, t->tenant))
		return -ENOENT;
	return 0;
}

/* A ticket from a form: kind, title, body, device, priority. */
static int form_ticket(const con_ctx *c, const con_form *f, const char *tenant, om_store_ticket *t)
{
	const char *kind = con_form_get(f, "kind"), *title = con_form_get(f, "title");
	const char *body = con_form_get(f, "body"), *dev = con_form_get(f, "device");
	const char *prio = con_form_get(f, "priority");
	int64_t p = 3;

	memset(t, 0, sizeof(*t));
	if (!kind || !con_desk_kind_ok(kind) || !title || !*title || strlen(title) > 255)
		return -EINVAL;
	/* companies call about what they see; the automatic kinds are the
	 * gateway's */
	if (!c->provider && !con_desk_call_kind(kind) && strcmp(kind, "other") != 0)
		return -EINVAL;
	if (dev && *dev && !con_desk_address_ok(dev))
		return -EINVAL;
	if (prio && *prio && (con_id_parse(prio, &p) < 0 || p < 1 || p > 4))
		return -EINVAL;
	sfmt(t->tenant, sizeof(t->tenant), "%s", tenant);
	sfmt(t->kind, sizeof(t->kind), "%s", kind);
	sfmt(t->title, sizeof(t->title), "%s", title);
	sfmt(t->body, sizeof(t->body), "%s", body ? body : "");
	sfmt(t->device, sizeof(t->device), "%s", dev ? dev : "");
	sfmt(t->source, sizeof(t->source), "web");
	sfmt(t->opened_by, sizeof(t->opened_by), "%s", c->acct->name);
	t->priority = (int)p;
	return 0;
}

static int do_open(const con_ctx *c, const con_form *f, const char *tenant, int64_t *ret_id)
{
	om_store_ticket t;
	om_store_tenant ten;
	int r;

	if (!may_see(c, tenant))
		return -EACCES;
	if (om_store_tenant_get(c->store, tenant, &ten) < 0)
		return -ENOENT;
	r = form_ticket(c, f, tenant, &t);
	if (r < 0)
		return r;
	r = con_desk_open(c->store, &t, NULL, c->acct->name, c->now, ret_id);
	if (r < 0)
		return r;
	om_store_audit_add(c->store, c->now, c->acct->name, tenant, "desk_open", t.title);
	con_desk_notify(c->store, &t, "opened", c->now);
	return 0;
}

/* One operation on a ticket (form field op). -EACCES: not this role's;
 * -EINVAL: a bad value; -ENODEV: no gateway to act through. */
static int do_op(const con_ctx *c, om_store_ticket *t, const con_form *f)
{
	const char *op = con_form_get(f, "op");
	const char *actor = c->acct->name;
	int r;

	if (!op)
		return -EINVAL;
	if (!strcmp(op, "comment"))
		return con_desk_comment(c->store, t, actor, c->provider, con_form_get(f, "text"),
		                        c->now);
	if (!c->provider)
		return -EACCES;
	if (!strcmp(op, "set")) {
		const char *field = con_form_get(f, "field"), *value = con_form_get(f, "value");
		bool was_open = con_desk_is_open(t->state);
		r = con_desk_set(c->store, t, actor, field, value, c->now);
		if (r == 0 && !strcmp(field, "state") && was_open && !con_desk_is_open(t->state))
			con_desk_notify(c->store, t, "closed", c->now);
		return r;
	}
	if (!strcmp(op, "judge"))
		return con_desk_set(c->store, t, actor, "judgement", con_form_get(f, "value"),
		                    c->now);
	if (!strcmp(op, "step")) {
		int64_t n;
		const char *done = con_form_get(f, "done");
		if (con_id_parse(con_form_get(f, "step"), &n) < 0 || n < 1 || n > 63)
			return -EINVAL;
		return con_desk_step(c->store, t, actor, (unsigned)(n - 1),
		                     done && !strcmp(done, "1"), c->now);
	}
	if (!strcmp(op, "action")) {
		unsigned sent = 0;
		const char *kind = con_form_get(f, "kind");
		if (!kind)
			return -EINVAL;
		r = con_desk_action(c->store, t, actor, kind, con_form_get(f, "target"),
		                    con_form_get(f, "when"), c->now, &sent);
		if (r == 0)
			con_desk_notify(c->store, t, kind, c->now);
		return r;
	}
	return -EINVAL;
}

static const char *op_error_key(int r)
{
	switch (r) {
	case -EACCES: return "console.err.forbidden";
	case -ENODEV: return "desk.err.no_gateway";
	case -ENOSPC: return "desk.err.full";
	case -E2BIG: return "desk.err.too_big";
	case -ENOENT: return "console.err.not_found";
	case -EINVAL: return "desk.err.invalid";
	default: return "console.err.internal";
	}
}

static unsigned op_status(int r)
{
	switch (r) {
	case -EACCES: return 403;
	case -ENOENT: return 404;
	case -ENODEV: return 409;
	case -ENOSPC:
	case -E2BIG: return 413;
	case -EINVAL: return 400;
	default: return 500;
	}
}

/* ---- pages ---- */

static void ticket_rows(const con_ctx *c, om_buf *b, const om_store_ticket *t, size_t n,
                        bool with_tenant)
{
	char key[96], k2[96], k3[96];
	const char *h[] = {
	    tr(c, "desk.col.id"),       tr(c, "desk.col.title"),
	    tr(c, "desk.col.kind"),     tr(c, "desk.col.state"),
	    tr(c, "desk.col.priority"), tr(c, "desk.col.sla"),
	    tr(c, "desk.col.opened"),   with_tenant ? tr(c, "desk.col.company") : ""};
	con_html(b,
	         "<table class=\"tickets\"><thead><tr><th>{0}</th><th>{1}</th><th>{2}</th>"
	         "<th>{3}</th><th>{4}</th><th>{5}</th><th>{6}</th><th>{7}</th></tr></thead><tbody>",
	         h, OM_ARRAY_SIZE(h));
	static const char *const sla_key[] = {"desk.sla.ok", "desk.sla.warning",
	                                      "desk.sla.breached"};
	static const char *const sla_class[] = {"good", "warn", "bad"};
	for (size_t i = 0; i < n; i++) {
		char id[24], href[128], opened[40], prio[8], tz[72];
		con_desk_sla_state sla;
		con_desk_sla(&t[i], c->now, &sla);
		zone_of(c, t[i].tenant, tz, sizeof(tz));
		when(tz, t[i].opened, opened, sizeof(opened));
		sfmt(id, sizeof(id), "%lld", (long long)t[i].id);
		sfmt(href, sizeof(href), "/t/%s/desk/%lld", t[i].tenant, (long long)t[i].id);
		sfmt(prio, sizeof(prio), "desk.prio.%d", t[i].priority);
		bool open = con_desk_is_open(t[i].state);
		const char *v[] = {href,
		                   id,
		                   t[i].title,
		                   trk(c, "desk.kind.", t[i].kind, key, sizeof(key)),
		                   trk(c, "desk.state.", t[i].state, k2, sizeof(k2)),
		                   tr(c, prio),
		                   open ? tr(c, sla_key[sla.level]) : "",
		                   open ? sla_class[sla.level] : "",
		                   opened,
		                   with_tenant ? t[i].tenant : ""};
		(void)k3;
		con_html(b,
		         "<tr data-href=\"{0}\"><td><a href=\"{0}\">#{1}</a></td><td>{2}</td>"
		         "<td>{3}</td><td>{4}</td><td>{5}</td><td class=\"state {7}\">{6}</td>"
		         "<td>{8}</td><td>{9}</td></tr>",
		         v, OM_ARRAY_SIZE(v));
	}
	if (n == 0) {
		const char *v[] = {tr(c, "desk.none")};
		con_html(b, "<tr><td colspan=\"8\">{0}</td></tr>", v, 1);
	}
	om_buf_puts(b, "</tbody></table>");
}

static void kind_options(const con_ctx *c, om_buf *b, const char *selected, bool all)
{
	char key[96];
	for (size_t i = 0; con_desk_kind_at(i); i++) {
		const char *k = con_desk_kind_at(i);
		if (!all && !con_desk_call_kind(k) && strcmp(k, "other") != 0)
			continue;
		const char *v[] = {k, trk(c, "desk.kind.", k, key, sizeof(key)),
		                   selected && !strcmp(selected, k) ? " selected" : ""};
		con_html(b, "<option value=\"{0}\"{!2}>{1}</option>", v, 3);
	}
}

static void open_form(const con_ctx *c, om_buf *b, const char *tenant)
{
	const char *v[] = {tenant,
	                   c->csrf,
	                   tr(c, "desk.open_title"),
	                   tr(c, "desk.col.kind"),
	                   tr(c, "desk.col.title"),
	                   tr(c, "desk.body"),
	                   tr(c, "desk.device"),
	                   tr(c, "desk.open"),
	                   tr(c, "desk.device_hint")};
	con_html(b,
	         "<h2>{2}</h2><form method=\"post\" action=\"/t/{0}/desk\" class=\"desk-open\">"
	         "<input type=\"hidden\" name=\"csrf\" value=\"{1}\">"
	         "<label>{3} <select name=\"kind\">",
	         v, OM_ARRAY_SIZE(v));
	kind_options(c, b, NULL, false);
	con_html(b,
	         "</select></label>"
	         "<label>{4} <input name=\"title\" maxlength=\"255\" required></label>"
	         "<label>{5} <textarea name=\"body\" maxlength=\"1000\"></textarea></label>"
	         "<label>{6} <input name=\"device\" maxlength=\"45\"> <small>{8}</small></label>"
	         "<button type=\"submit\">{7}</button></form>",
	         v, OM_ARRAY_SIZE(v));
}

static void page_tenant_desk(const con_ctx *c, const char *tenant, con_answer *a)
{
	om_store_ticket *t = calloc(LIST_MAX, sizeof(*t));
	om_store_tenant ten;
	size_t n = 0;

	if (!t) {
		answer_page(c, a, 500, "console.err.internal");
		return;
	}
	if (om_store_tenant_get(c->store, tenant, &ten) < 0) {
		free(t);
		answer_page(c, a, 404, "console.err.not_found");
		return;
	}
	om_store_ticket_filter f = {.tenant = tenant};
	om_store_ticket_list(c->store, &f, t, LIST_MAX, &n);
	a->status = 200;
	sfmt(a->title, sizeof(a->title), "%s - %s", tr(c, "desk.title"), ten.name);
	sfmt(a->tenant, sizeof(a->tenant), "%s", tenant);
	om_buf_init(&a->body, PAGE_MAX);
	const char *v[] = {tr(c, "desk.intro")};
	con_html(&a->body, "<p>{0}</p>", v, 1);
	ticket_rows(c, &a->body, t, n, false);
	open_form(c, &a->body, tenant);
	free(t);
}

static void page_queue(const con_ctx *c, con_answer *a)
{
	om_store_ticket *t;
	size_t n = 0;
	om_store_desk_stats_row st;

	if (!c->provider) {
		answer_page(c, a, 403, "console.err.forbidden");
		return;
	}
	t = calloc(LIST_MAX, sizeof(*t));
	if (!t) {
		answer_page(c, a, 500, "console.err.internal");
		return;
	}
	om_store_ticket_filter f = {.open_only = true};
	om_store_ticket_list(c->store, &f, t, LIST_MAX, &n);
	a->status = 200;
	sfmt(a->title, sizeof(a->title), "%s", tr(c, "desk.queue_title"));
	om_buf_init(&a->body, PAGE_MAX);
	const char *nav[] = {tr(c, "console.nav.all"), tr(c, "desk.title"),
	                     tr(c, "console.nav.stats"), tr(c, "desk.queue_intro")};
	con_html(&a->body,
	         "<nav class=\"tabs\"><a href=\"/dashboard\">{0}</a>"
	         "<a class=\"here\" href=\"/desk\">{1}</a><a href=\"/stats\">{2}</a></nav>"
	         "<p>{3}</p>",
	         nav, OM_ARRAY_SIZE(nav));
	ticket_rows(c, &a->body, t, n, true);
	free(t);
	om_usec d30 = 30ull * 86400 * 1000000;
	if (om_store_desk_stats(c->store, NULL, c->now > d30 ? c->now - d30 : 0, c->now + 1, &st) ==
	    0)
		con_desk_stats_html(c->lang, &st, &a->body);
}

void con_desk_stats_html(enum om_lang lang, const om_store_desk_stats_row *st, om_buf *b)
{
	char opened[24], ans[48], cls[48], key[96];
	const char *na = om_msg(lang, "desk.stats.none");

	sfmt(opened, sizeof(opened), "%llu", (unsigned long long)st->opened);
	if (st->answered)
		sfmt(ans, sizeof(ans), om_msg(lang, "desk.minutes"),
		     (unsigned long long)(st->answer_seconds / st->answered / 60));
	if (st->closed)
		sfmt(cls, sizeof(cls), om_msg(lang, "desk.minutes"),
		     (unsigned long long)(st->close_seconds / st->closed / 60));
	const char *v[] = {om_msg(lang, "desk.stats.title"),
	                   om_msg(lang, "desk.stats.opened"),
	                   opened,
	                   om_msg(lang, "desk.stats.answer"),
	                   st->answered ? ans : na,
	                   om_msg(lang, "desk.stats.close"),
	                   st->closed ? cls : na,
	                   om_msg(lang, "desk.stats.kinds")};
	con_html(b,
	         "<section class=\"desk-stats\"><h2>{0}</h2><table><tbody>"
	         "<tr><th>{1}</th><td class=\"num\">{2}</td></tr>"
	         "<tr><th>{3}</th><td class=\"num\">{4}</td></tr>"
	         "<tr><th>{5}</th><td class=\"num\">{6}</td></tr></tbody></table>"
	         "<h3>{7}</h3><table><tbody>",
	         v, OM_ARRAY_SIZE(v));
	for (size_t i = 0; i < st->nkinds; i++) {
		char n[24];
		sfmt(key, sizeof(key), "desk.kind.%s", st->kinds[i].kind);
		sfmt(n, sizeof(n), "%llu", (unsigned long long)st->kinds[i].n);
		const char *k[] = {om_msg(lang, key), n};
		con_html(b, "<tr><th>{0}</th><td class=\"num\">{1}</td></tr>", k, 2);
	}
	om_buf_puts(b, "</tbody></table></section>");
}

static void hidden(const con_ctx *c, om_buf *b, const char *op)
{
	const char *v[] = {c->csrf, op};
	con_html(b,
	         "<input type=\"hidden\" name=\"csrf\" value=\"{0}\">"
	         "<input type=\"hidden\" name=\"op\" value=\"{1}\">",
	         v, 2);
}

static void triage_section(const con_ctx *c, om_buf *b, const om_store_ticket *t, const char *tz)
{
	om_store_event_row *rows = calloc(EVENTS_MAX, sizeof(*rows));
	con_desk_evidence e;
	size_t n = 0;
	char key[96], k2[96];

	if (!rows)
		return;
	if (con_desk_evidence_get(c->store, t, rows, EVENTS_MAX, &n, &e) < 0) {
		free(rows);
		return;
	}
	const char *rule = NULL;
	const char *sugg = con_desk_judge(t->kind, &e, &rule);
	char from[40], to[40];
	when(tz, e.from, from, sizeof(from));
	when(tz, e.to, to, sizeof(to));
	const char *h[] = {tr(c, "desk.triage"), tr(c, "desk.questions"), tr(c, "desk.events"),
	                   from, to};
	con_html(b,
	         "<section class=\"triage\"><h2>{0}</h2><div class=\"cols\"><div><h3>{1}</h3><ol>",
	         h, OM_ARRAY_SIZE(h));
	if (con_desk_call_kind(t->kind)) {
		for (int i = 1; i <= 4; i++) {
			sfmt(key, sizeof(key), "desk.q.%s.%d", t->kind, i);
			const char *q[] = {tr(c, key)};
			con_html(b, "<li>{0}</li>", q, 1);
		}
	} else {
		const char *q[] = {tr(c, "desk.q.auto")};
		con_html(b, "<li>{0}</li>", q, 1);
	}
	con_html(b, "</ol></div><div><h3>{2}</h3><p class=\"nw\">{3} – {4}</p>", h,
	         OM_ARRAY_SIZE(h));
	if (!t->device[0]) {
		const char *q[] = {tr(c, "desk.no_device")};
		con_html(b, "<p>{0}</p>", q, 1);
	} else {
		om_buf_puts(b, "<table class=\"events\"><tbody>");
		for (size_t i = 0; i < n; i++) {
			char ts[40], href[128];
			when(tz, rows[i].ts, ts, sizeof(ts));
			sfmt(href, sizeof(href), "/t/%s/events/%lld", t->tenant,
			     (long long)rows[i].id);
			const char *cat = rows[i].category[0] ? rows[i].category : "none";
			const char *v[] = {
			    href, ts, trk(c, "console.cat.", cat, k2, sizeof(k2)),
			    rows[i].signature,
			    con_desk_event_serious(rows[i].category, rows[i].severity) ? "bad"
			                                                               : ""};
			con_html(
			    b,
			    "<tr class=\"{4}\" data-href=\"{0}\"><td><a href=\"{0}\">{1}</a></td>"
			    "<td>{2}</td><td>{3}</td></tr>",
			    v, OM_ARRAY_SIZE(v));
		}
		if (n == 0) {
			const char *q[] = {tr(c, "desk.no_events")};
			con_html(b, "<tr><td>{0}</td></tr>", q, 1);
		}
		om_buf_puts(b, "</tbody></table>");
	}
	char counts[160];
	sfmt(counts, sizeof(counts), tr(c, "desk.evidence"), (unsigned long long)e.events,
	     (unsigned long long)e.serious);
	const char *cur = t->judgement[0] ? t->judgement : "";
	const char *s[] = {tr(c, "desk.suggested"),
	                   trk(c, "desk.judge.", sugg, key, sizeof(key)),
	                   tr(c, rule),
	                   counts,
	                   tr(c, "desk.judgement"),
	                   cur[0] ? trk(c, "desk.judge.", cur, k2, sizeof(k2))
	                          : tr(c, "desk.judge.none"),
	                   sugg};
	con_html(b,
	         "</div></div><p class=\"suggestion {6}\"><strong>{0}: {1}</strong> — {2} ({3})</p>"
	         "<p>{4}: <strong class=\"judgement\">{5}</strong></p>",
	         s, OM_ARRAY_SIZE(s));
	if (c->provider) {
		static const char *const js[] = {"attack", "unlikely", "more"};
		for (size_t i = 0; i < OM_ARRAY_SIZE(js); i++) {
			char href[96];
			sfmt(href, sizeof(href), "/t/%s/desk/%lld", t->tenant, (long long)t->id);
			const char *v[] = {href, js[i],
			                   trk(c, "desk.judge_as.", js[i], key, sizeof(key))};
			con_html(b, "<form method=\"post\" action=\"{0}\" class=\"inline\">", v, 3);
			hidden(c, b, "judge");
			con_html(b,
			         "<input type=\"hidden\" name=\"value\" value=\"{1}\">"
			         "<button type=\"submit\" name=\"judge\" "
			         "value=\"{1}\">{2}</button></form>",
			         v, 3);
		}
	}
	om_buf_puts(b, "</section>");
	free(rows);
}

static void playbook_section(const con_ctx *c, om_buf *b, const om_store_ticket *t,
                             const char *href)
{
	const con_playbook *p = con_playbook_find(t->playbook);
	char key[96];
	int l = c->lang == OM_LANG_EN ? 1 : 0;

	om_buf_puts(b, "<section class=\"playbook\">");
	if (p) {
		const char *v[] = {tr(c, "desk.playbook"), p->title[l],
		                   tr(c, "desk.tell"),     p->tell[l],
		                   tr(c, "desk.escalate"), p->escalate[l]};
		con_html(b,
		         "<h2>{0}: {1}</h2><p><strong>{2}</strong> {3}</p>"
		         "<p><strong>{4}</strong> {5}</p><ol class=\"steps\">",
		         v, OM_ARRAY_SIZE(v));
		for (size_t i = 0; i < p->nsteps; i++) {
			bool done = (t->steps >> i) & 1;
			char num[8];
			sfmt(num, sizeof(num), "%zu", i + 1);
			const char *s[] = {done ? "done" : "",
			                   trk(c, "desk.who.", p->steps[i].who, key, sizeof(key)),
			                   p->steps[i].text[l],
			                   href,
			                   num,
			                   done ? "0" : "1",
			                   done ? tr(c, "desk.untick") : tr(c, "desk.tick"),
			                   done ? "☑" : "☐"};
			con_html(b, "<li class=\"{0}\">{7} <span class=\"who\">{1}</span> {2}", s,
			         OM_ARRAY_SIZE(s));
			if (c->provider) {
				con_html(b,
				         " <form method=\"post\" action=\"{3}\" class=\"inline\">",
				         s, OM_ARRAY_SIZE(s));
				hidden(c, b, "step");
				con_html(b,
				         "<input type=\"hidden\" name=\"step\" value=\"{4}\">"
				         "<input type=\"hidden\" name=\"done\" value=\"{5}\">"
				         "<button type=\"submit\">{6}</button></form>",
				         s, OM_ARRAY_SIZE(s));
			}
			om_buf_puts(b, "</li>");
		}
		om_buf_puts(b, "</ol>");
	} else {
		const char *v[] = {tr(c, "desk.playbook"), tr(c, "desk.no_playbook")};
		con_html(b, "<h2>{0}</h2><p>{1}</p>", v, 2);
	}
	if (c->provider) {
		const char *v[] = {href, tr(c, "desk.playbook_choose"), tr(c, "desk.save")};
		con_html(b, "<form method=\"post\" action=\"{0}\" class=\"inline\">", v, 3);
		hidden(c, b, "set");
		con_html(b,
		         "<input type=\"hidden\" name=\"field\" value=\"playbook\">"
		         "<label>{1} <select name=\"value\"><option value=\"\">-</option>",
		         v, 3);
		for (size_t i = 0; i < con_playbooks_n; i++) {
			const con_playbook *q = &con_playbooks[i];
			const char *o[] = {q->id, q->title[l],
			                   !strcmp(q->id, t->playbook) ? " selected" : ""};
			con_html(b, "<option value=\"{0}\"{!2}>{1}</option>", o, 3);
		}
		con_html(b, "</select></label><button type=\"submit\">{2}</button></form>", v, 3);
	}
	om_buf_puts(b, "</section>");
}

static void actions_section(const con_ctx *c, om_buf *b, const om_store_ticket *t, const char *href,
                            const char *tz)
{
	om_store_command cmds[32];
	size_t n = 0;
	char key[96];

	const char *h[] = {tr(c, "desk.actions")};
	con_html(b, "<section class=\"actions\"><h2>{0}</h2>", h, 1);
	if (om_store_commands_of_ticket(c->store, t->id, cmds, OM_ARRAY_SIZE(cmds), &n) == 0 && n) {
		const char *th[] = {tr(c, "desk.col.action"), tr(c, "desk.col.target"),
		                    tr(c, "desk.col.gateway"), tr(c, "desk.col.state"),
		                    tr(c, "desk.col.when")};
		con_html(b,
		         "<table class=\"commands\"><thead><tr><th>{0}</th><th>{1}</th><th>{2}</th>"
		         "<th>{3}</th><th>{4}</th></tr></thead><tbody>",
		         th, OM_ARRAY_SIZE(th));
		for (size_t i = 0; i < n; i++) {
			char ts[40];
			when(tz, cmds[i].done ? cmds[i].done : cmds[i].created, ts, sizeof(ts));
			char k2[96];
			const char *v[] = {trk(c, "desk.action.", cmds[i].kind, key, sizeof(key)),
			                   cmds[i].target,
			                   cmds[i].gateway,
			                   trk(c, "desk.cmd.", cmds[i].state, k2, sizeof(k2)),
			                   ts,
			                   cmds[i].state};
			con_html(b,
			         "<tr><td>{0}</td><td>{1}</td><td>{2}</td>"
			         "<td class=\"cmd {5}\">{3}</td><td>{4}</td></tr>",
			         v, OM_ARRAY_SIZE(v));
		}
		om_buf_puts(b, "</tbody></table>");
	}
	if (c->provider) {
		static const char *const acts[] = {"quarantine", "release"};
		for (size_t i = 0; i < OM_ARRAY_SIZE(acts); i++) {
			const char *v[] = {href, acts[i],
			                   trk(c, "desk.do.", acts[i], key, sizeof(key)),
			                   t->device};
			con_html(b,
			         "<form method=\"post\" action=\"{0}\" class=\"inline act-{1}\">",
			         v, 4);
			hidden(c, b, "action");
			con_html(b,
			         "<input type=\"hidden\" name=\"kind\" value=\"{1}\">"
			         "<input name=\"target\" value=\"{3}\" maxlength=\"45\">"
			         "<button type=\"submit\" id=\"do-{1}\">{2}</button></form>",
			         v, 4);
		}
		const char *v[] = {href,
		                   tr(c, "desk.do.block"),
		                   tr(c, "desk.block_hint"),
		                   tr(c, "desk.do.visit"),
		                   tr(c, "desk.visit_when"),
		                   tr(c, "desk.visit_note")};
		con_html(b, "<form method=\"post\" action=\"{0}\" class=\"inline\">", v, 6);
		hidden(c, b, "action");
		con_html(b,
		         "<input type=\"hidden\" name=\"kind\" value=\"block\">"
		         "<input name=\"target\" maxlength=\"253\" placeholder=\"{2}\" required>"
		         "<button type=\"submit\">{1}</button></form>"
		         "<form method=\"post\" action=\"{0}\" class=\"inline\">",
		         v, 6);
		hidden(c, b, "action");
		con_html(b,
		         "<input type=\"hidden\" name=\"kind\" value=\"visit\">"
		         "<label>{4} <input name=\"when\" type=\"date\" required></label>"
		         "<input name=\"target\" maxlength=\"200\" placeholder=\"{5}\">"
		         "<button type=\"submit\">{3}</button></form>",
		         v, 6);
	}
	om_buf_puts(b, "</section>");
}

static void page_ticket(const con_ctx *c, const char *tenant, int64_t id, con_answer *a)
{
	om_store_ticket t;
	char tz[72], href[128], opened[40], key[96], k2[96], prio[16], ans_due[40], cls_due[40];
	con_desk_sla_state sla;

	if (load_ticket(c, tenant, id, &t) < 0) {
		answer_page(c, a, 404, "console.err.not_found");
		return;
	}
	zone_of(c, tenant, tz, sizeof(tz));
	sfmt(href, sizeof(href), "/t/%s/desk/%lld", tenant, (long long)id);
	a->status = 200;
	sfmt(a->title, sizeof(a->title), "#%lld %s", (long long)id, t.title);
	sfmt(a->tenant, sizeof(a->tenant), "%s", tenant);
	om_buf_init(&a->body, PAGE_MAX);
	om_buf *b = &a->body;
	con_desk_sla(&t, c->now, &sla);
	when(tz, t.opened, opened, sizeof(opened));
	when(tz, sla.answer_due, ans_due, sizeof(ans_due));
	when(tz, sla.close_due, cls_due, sizeof(cls_due));
	sfmt(prio, sizeof(prio), "desk.prio.%d", t.priority);
	static const char *const sla_key[] = {"desk.sla.ok", "desk.sla.warning",
	                                      "desk.sla.breached"};
	static const char *const sla_class[] = {"good", "warn", "bad"};
	char left[64] = "";
	if (con_desk_is_open(t.state))
		duration(c, sla.left, left, sizeof(left));
	const char *v[] = {tr(c, "desk.col.state"),
	                   trk(c, "desk.state.", t.state, key, sizeof(key)),
	                   tr(c, "desk.col.kind"),
	                   trk(c, "desk.kind.", t.kind, k2, sizeof(k2)),
	                   tr(c, "desk.col.priority"),
	                   tr(c, prio),
	                   tr(c, "desk.col.opened"),
	                   opened,
	                   t.opened_by,
	                   tr(c, "desk.device")};
	con_html(b,
	         "<dl class=\"ticket\"><dt>{0}</dt><dd class=\"ticket-state\">{1}</dd>"
	         "<dt>{2}</dt><dd>{3}</dd><dt>{4}</dt><dd>{5}</dd>"
	         "<dt>{6}</dt><dd>{7} ({8})</dd><dt>{9}</dt>",
	         v, OM_ARRAY_SIZE(v));
	const char *d[] = {t.device[0] ? t.device : "-",
	                   tr(c, "desk.assignee"),
	                   t.assignee[0] ? t.assignee : "-",
	                   tr(c, "desk.col.sla"),
	                   con_desk_is_open(t.state) ? tr(c, sla_key[sla.level]) : "-",
	                   sla_class[sla.level],
	                   tr(c, "desk.answer_due"),
	                   ans_due,
	                   tr(c, "desk.close_due"),
	                   cls_due};
	con_html(b,
	         "<dd class=\"device\">{0}</dd><dt>{1}</dt><dd>{2}</dd>"
	         "<dt>{3}</dt><dd class=\"state {5}\">{4}</dd>"
	         "<dt>{6}</dt><dd>{7}</dd><dt>{8}</dt><dd>{9}</dd></dl>",
	         d, OM_ARRAY_SIZE(d));
	if (left[0]) {
		const char *l[] = {tr(c, "desk.left"), left};
		con_html(b, "<p class=\"nw\">{0}: {1}</p>", l, 2);
	}
	if (t.body[0]) {
		const char *bv[] = {t.body};
		con_html(b, "<pre class=\"ticket-body\">{0}</pre>", bv, 1);
	}
	if (c->provider) {
		/* state, priority, assignee */
		const char *f[] = {href,
		                   tr(c, "desk.col.state"),
		                   tr(c, "desk.save"),
		                   tr(c, "desk.col.priority"),
		                   tr(c, "desk.assignee"),
		                   t.assignee};
		con_html(b, "<form method=\"post\" action=\"{0}\" class=\"inline\">", f, 6);
		hidden(c, b, "set");
		con_html(b,
		         "<input type=\"hidden\" name=\"field\" value=\"state\">"
		         "<label>{1} <select name=\"value\">",
		         f, 6);
		for (size_t i = 0; con_desk_state_at(i); i++) {
			const char *s = con_desk_state_at(i);
			const char *o[] = {s, trk(c, "desk.state.", s, key, sizeof(key)),
			                   !strcmp(s, t.state) ? " selected" : ""};
			con_html(b, "<option value=\"{0}\"{!2}>{1}</option>", o, 3);
		}
		con_html(
		    b,
		    "</select></label><button type=\"submit\" id=\"set-state\">{2}</button></form>"
		    "<form method=\"post\" action=\"{0}\" class=\"inline\">",
		    f, 6);
		hidden(c, b, "set");
		con_html(b,
		         "<input type=\"hidden\" name=\"field\" value=\"priority\">"
		         "<label>{3} <select name=\"value\">",
		         f, 6);
		for (int i = 1; i <= 4; i++) {
			char pk[16], pv[4];
			sfmt(pk, sizeof(pk), "desk.prio.%d", i);
			sfmt(pv, sizeof(pv), "%d", i);
			const char *o[] = {pv, tr(c, pk), i == t.priority ? " selected" : ""};
			con_html(b, "<option value=\"{0}\"{!2}>{1}</option>", o, 3);
		}
		con_html(b,
		         "</select></label><button type=\"submit\">{2}</button></form>"
		         "<form method=\"post\" action=\"{0}\" class=\"inline\">",
		         f, 6);
		hidden(c, b, "set");
		con_html(b,
		         "<input type=\"hidden\" name=\"field\" value=\"assignee\">"
		         "<label>{4} <input name=\"value\" value=\"{5}\" maxlength=\"63\"></label>"
		         "<button type=\"submit\">{2}</button></form>",
		         f, 6);
	}
	triage_section(c, b, &t, tz);
	playbook_section(c, b, &t, href);
	actions_section(c, b, &t, href, tz);

	/* attachments */
	om_store_attachment at[OM_DESK_ATTACH_COUNT];
	size_t na = 0;
	const char *ah[] = {tr(c, "desk.attachments")};
	con_html(b, "<section class=\"files\"><h2>{0}</h2><ul>", ah, 1);
	if (om_store_ticket_attachments(c->store, id, at, OM_ARRAY_SIZE(at), &na) == 0)
		for (size_t i = 0; i < na; i++) {
			char fh[160], sz[24];
			sfmt(fh, sizeof(fh), "%s/files/%lld", href, (long long)at[i].id);
			sfmt(sz, sizeof(sz), "%zu", at[i].size);
			const char *fv[] = {fh, at[i].name, sz, at[i].actor};
			con_html(b, "<li><a href=\"{0}\">{1}</a> ({2} B, {3})</li>", fv, 4);
		}
	const char *an[] = {tr(c, "desk.attach_hint")};
	con_html(b, "</ul><p class=\"nw\">{0}</p></section>", an, 1);

	/* the trail */
	om_store_ticket_note_row *h = calloc(HISTORY_MAX, sizeof(*h));
	size_t nh = 0;
	const char *hh[] = {tr(c, "desk.history")};
	con_html(b, "<section class=\"history\"><h2>{0}</h2><ol class=\"trail\">", hh, 1);
	if (h && om_store_ticket_history(c->store, id, h, HISTORY_MAX, &nh) == 0)
		for (size_t i = 0; i < nh; i++) {
			char ts[40];
			when(tz, h[i].ts, ts, sizeof(ts));
			const char *hv[] = {ts, h[i].actor,
			                    trk(c, "desk.trail.", h[i].action, key, sizeof(key)),
			                    h[i].detail};
			con_html(b,
			         "<li><span class=\"nw\">{0}</span> <strong>{1}</strong> {2}: "
			         "<span class=\"detail\">{3}</span></li>",
			         hv, 4);
		}
	free(h);
	const char *cv[] = {href, tr(c, "desk.comment"), tr(c, "desk.send")};
	con_html(b, "</ol><form method=\"post\" action=\"{0}\" class=\"comment\">", cv, 3);
	hidden(c, b, "comment");
	con_html(
	    b,
	    "<label>{1} <textarea name=\"text\" maxlength=\"1000\" required></textarea></label>"
	    "<button type=\"submit\">{2}</button></form></section>",
	    cv, 3);
}

static void file_get(const con_ctx *c, const char *tenant, int64_t id, int64_t aid, con_answer *a)
{
	om_store_ticket t;
	om_store_attachment m;
	size_t len = 0;
	char *buf;

	if (load_ticket(c, tenant, id, &t) < 0) {
		answer_page(c, a, 404, "console.err.not_found");
		return;
	}
	buf = malloc(OM_DESK_ATTACH_MAX);
	if (!buf) {
		answer_page(c, a, 500, "console.err.internal");
		return;
	}
	if (om_store_ticket_attachment_get(c->store, id, aid, &m, buf, OM_DESK_ATTACH_MAX, &len) <
	    0) {
		free(buf);
		answer_page(c, a, 404, "console.err.not_found");
		return;
	}
	a->status = 200;
	/* never rendered by the browser: a download of plain bytes */
	a->ctype = "application/octet-stream";
	char safe[128];
	size_t j = 0;
	for (size_t i = 0; m.name[i] && j + 1 < sizeof(safe); i++) {
		unsigned char ch = (unsigned char)m.name[i];
		safe[j++] = (ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\' && ch != ';')
		                ? (char)ch
		                : '_';
	}
	safe[j] = '\0';
	sfmt(a->disposition, sizeof(a->disposition), "attachment; filename=\"%s\"", safe);
	om_buf_init(&a->body, OM_DESK_ATTACH_MAX + 1);
	om_buf_append(&a->body, buf, len);
	free(buf);
}

/* POST .../files?name=N raw body: an attachment (size-capped). */
static int file_post(const con_ctx *c, om_store_ticket *t)
{
	const char *name = c->arg(c->u, "name");
	const char *type = c->header(c->u, "Content-Type");
	char ctype[128];

	if (!name || !*name || strlen(name) > 127)
		return -EINVAL;
	for (const char *p = name; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == '/' || *p == '\\')
			return -EINVAL;
	if (c->body_len > OM_DESK_ATTACH_MAX)
		return -E2BIG;
	sfmt(ctype, sizeof(ctype), "%s", type && strlen(type) < 128 ? type : "");
	if (!ctype[0])
		sfmt(ctype, sizeof(ctype), "application/octet-stream");
	int r = om_store_ticket_attach(c->store, t->id, name, ctype, c->body, c->body_len, c->now,
	                               c->acct->name, NULL);
	if (r < 0)
		return r;
	char d[200];
	sfmt(d, sizeof(d), "%s (%zu B)", name, c->body_len);
	om_store_ticket_note(c->store, t->id, c->now, c->acct->name, "attach", d);
	if (c->provider && !t->first_answer) {
		t->first_answer = c->now;
		t->updated = c->now;
		om_store_ticket_update(c->store, t);
	}
	return 0;
}

/* ---- API ---- */

static void api_list(const con_ctx *c, con_answer *a)
{
	const char *tenant = c->arg(c->u, "tenant");
	const char *open = c->arg(c->u, "open");
	om_store_ticket *t;
	size_t n = 0;
	om_json j;

	if (!c->provider) {
		if (tenant && *tenant && strcmp(tenant, c->acct->tenant) != 0) {
			answer_json(a, 403, "{\"error\":\"forbidden\"}");
			return;
		}
		tenant = c->acct->tenant;
	}
	t = calloc(LIST_MAX, sizeof(*t));
	if (!t) {
		answer_json(a, 500, "{\"error\":\"internal\"}");
		return;
	}
	om_store_ticket_filter f = {.tenant = tenant, .open_only = open && !strcmp(open, "1")};
	if (om_store_ticket_list(c->store, &f, t, LIST_MAX, &n) < 0) {
		free(t);
		answer_json(a, 500, "{\"error\":\"internal\"}");
		return;
	}
	a->status = 200;
	a->ctype = "application/json";
	om_buf_init(&a->body, PAGE_MAX);
	om_json_init(&j, &a->body);
	om_json_arr_open(&j, NULL);
	for (size_t i = 0; i < n; i++) {
		om_json_obj_open(&j, NULL);
		ticket_json(&j, &t[i], c->now);
		om_json_obj_close(&j);
	}
	om_json_arr_close(&j);
	free(t);
}

static void api_ticket(const con_ctx *c, const om_store_ticket *t, con_answer *a)
{
	om_json j;
	om_store_ticket_note_row *h = calloc(HISTORY_MAX, sizeof(*h));
	om_store_ticket_link l[64];
	om_store_command cmds[32];
	om_store_attachment at[OM_DESK_ATTACH_COUNT];
	size_t nh = 0, nl = 0, nc = 0, na = 0;
	con_desk_evidence e;
	const char *rule = NULL;

	a->status = 200;
	a->ctype = "application/json";
	om_buf_init(&a->body, PAGE_MAX);
	om_json_init(&j, &a->body);
	om_json_obj_open(&j, NULL);
	ticket_json(&j, t, c->now);
	if (con_desk_evidence_get(c->store, t, NULL, 0, NULL, &e) == 0) {
		om_store_event_row rows[EVENTS_MAX];
		size_t n = 0;
		con_desk_evidence_get(c->store, t, rows, EVENTS_MAX, &n, &e);
		om_json_obj_open(&j, "triage");
		om_json_str(&j, "suggested", con_desk_judge(t->kind, &e, &rule));
		om_json_str(&j, "rule", rule);
		om_json_u64(&j, "events", e.events);
		om_json_u64(&j, "serious", e.serious);
		om_json_bool(&j, "watched", e.watched);
		om_json_arr_open(&j, "event_ids");
		for (size_t i = 0; i < n; i++) {
			char id[24];
			sfmt(id, sizeof(id), "%lld", (long long)rows[i].id);
			om_json_raw(&j, NULL, id);
		}
		om_json_arr_close(&j);
		om_json_obj_close(&j);
	}
	om_json_arr_open(&j, "history");
	if (h && om_store_ticket_history(c->store, t->id, h, HISTORY_MAX, &nh) == 0)
		for (size_t i = 0; i < nh; i++) {
			om_json_obj_open(&j, NULL);
			om_json_u64(&j, "ts", h[i].ts);
			om_json_str(&j, "actor", h[i].actor);
			om_json_str(&j, "action", h[i].action);
			om_json_str(&j, "detail", h[i].detail);
			om_json_obj_close(&j);
		}
	om_json_arr_close(&j);
	free(h);
	om_json_arr_open(&j, "links");
	if (om_store_ticket_links(c->store, t->id, l, OM_ARRAY_SIZE(l), &nl) == 0)
		for (size_t i = 0; i < nl; i++) {
			om_json_obj_open(&j, NULL);
			om_json_str(&j, "kind", l[i].kind);
			om_json_str(&j, "ref", l[i].ref);
			om_json_obj_close(&j);
		}
	om_json_arr_close(&j);
	om_json_arr_open(&j, "commands");
	if (om_store_commands_of_ticket(c->store, t->id, cmds, OM_ARRAY_SIZE(cmds), &nc) == 0)
		for (size_t i = 0; i < nc; i++) {
			om_json_obj_open(&j, NULL);
			om_json_i64(&j, "id", cmds[i].id);
			om_json_str(&j, "gateway", cmds[i].gateway);
			om_json_str(&j, "kind", cmds[i].kind);
			om_json_str(&j, "target", cmds[i].target);
			om_json_str(&j, "state", cmds[i].state);
			om_json_str(&j, "result", cmds[i].result);
			om_json_obj_close(&j);
		}
	om_json_arr_close(&j);
	om_json_arr_open(&j, "attachments");
	if (om_store_ticket_attachments(c->store, t->id, at, OM_ARRAY_SIZE(at), &na) == 0)
		for (size_t i = 0; i < na; i++) {
			om_json_obj_open(&j, NULL);
			om_json_i64(&j, "id", at[i].id);
			om_json_str(&j, "name", at[i].name);
			om_json_u64(&j, "size", at[i].size);
			om_json_obj_close(&j);
		}
	om_json_arr_close(&j);
	om_json_obj_close(&j);
}

static void api_stats(const con_ctx *c, con_answer *a)
{
	om_store_desk_stats_row st;
	om_json j;
	om_usec from = 0, to = c->now + 1;
	const char *f = c->arg(c->u, "from"), *t = c->arg(c->u, "to");

	if (!c->provider) {
		answer_json(a, 403, "{\"error\":\"forbidden\"}");
		return;
	}
	if ((f && *f && con_day_start("UTC", f, false, &from) < 0) ||
	    (t && *t && con_day_start("UTC", t, true, &to) < 0)) {
		answer_json(a, 400, "{\"error\":\"invalid\"}");
		return;
	}
	if (om_store_desk_stats(c->store, c->arg(c->u, "tenant"), from, to, &st) < 0) {
		answer_json(a, 500, "{\"error\":\"internal\"}");
		return;
	}
	a->status = 200;
	a->ctype = "application/json";
	om_buf_init(&a->body, 64 * 1024);
	om_json_init(&j, &a->body);
	om_json_obj_open(&j, NULL);
	om_json_u64(&j, "opened", st.opened);
	om_json_u64(&j, "answered", st.answered);
	om_json_u64(&j, "closed", st.closed);
	if (st.answered)
		om_json_u64(&j, "mean_answer_seconds", st.answer_seconds / st.answered);
	if (st.closed)
		om_json_u64(&j, "mean_close_seconds", st.close_seconds / st.closed);
	om_json_obj_open(&j, "kinds");
	for (size_t i = 0; i < st.nkinds; i++)
		om_json_u64(&j, st.kinds[i].kind, st.kinds[i].n);
	om_json_obj_close(&j);
	om_json_obj_close(&j);
}

/* ---- dispatch ---- */

static int parse_id(const char *s, size_t n, int64_t *ret)
{
	char b[24];
	if (n == 0 || n >= sizeof(b))
		return -EINVAL;
	memcpy(b, s, n);
	b[n] = '\0';
	return con_id_parse(b, ret);
}

/* After a POST from a page: back to the ticket, or an error page. */
static void post_result(const con_ctx *c, con_answer *a, int r, bool api, const char *tenant,
                        int64_t id)
{
	if (api) {
		if (r < 0) {
			char e[96];
			sfmt(e, sizeof(e), "{\"error\":\"%s\"}", op_error_key(r) + 5);
			answer_json(a, op_status(r), e);
		} else {
			char e[64];
			sfmt(e, sizeof(e), "{\"id\":%lld}", (long long)id);
			answer_json(a, 200, e);
		}
		return;
	}
	if (r < 0)
		answer_page(c, a, op_status(r), op_error_key(r));
	else
		redirect(a, "/t/%s/desk/%lld", tenant, id);
}

static void ticket_post(const con_ctx *c, const char *tenant, int64_t id, bool api, con_answer *a)
{
	con_form f;
	om_store_ticket t;
	int r;

	con_form_parse(&f, c->body, c->body_len);
	if (!c->csrf_ok) {
		if (api)
			answer_json(a, 403, "{\"error\":\"csrf\"}");
		else
			answer_page(c, a, 403, "console.err.csrf");
		return;
	}
	r = load_ticket(c, tenant, id, &t);
	if (r == 0)
		r = do_op(c, &t, &f);
	post_result(c, a, r, api, t.tenant, id);
}

int con_desk_route(const con_ctx *c, const char *path, con_answer *a)
{
	memset(a, 0, sizeof(*a));
	if (!strcmp(path, "/desk")) {
		if (!c->get)
			answer_page(c, a, 405, "console.err.method");
		else
			page_queue(c, a);
		return 1;
	}
	if (!strncmp(path, "/t/", 3)) {
		const char *p = path + 3, *slash = strchr(p, '/');
		char tenant[64];
		if (!slash || (size_t)(slash - p) >= sizeof(tenant) ||
		    strncmp(slash, "/desk", 5) != 0 || (slash[5] != '\0' && slash[5] != '/'))
			return 0;
		memcpy(tenant, p, (size_t)(slash - p));
		tenant[slash - p] = '\0';
		if (!con_tenant_id_ok(tenant)) {
			answer_page(c, a, 404, "console.err.not_found");
			return 1;
		}
		if (!may_see(c, tenant)) {
			answer_page(c, a, 403, "console.err.forbidden");
			return 1;
		}
		const char *rest = slash + 5;
		if (!*rest || !strcmp(rest, "/")) {
			if (c->get) {
				page_tenant_desk(c, tenant, a);
			} else if (c->post) {
				con_form f;
				int64_t id = 0;
				con_form_parse(&f, c->body, c->body_len);
				if (!c->csrf_ok) {
					answer_page(c, a, 403, "console.err.csrf");
					return 1;
				}
				int r = do_open(c, &f, tenant, &id);
				post_result(c, a, r, false, tenant, id);
			} else {
				answer_page(c, a, 405, "console.err.method");
			}
			return 1;
		}
		rest++; /* past '/' */
		const char *s2 = strchr(rest, '/');
		int64_t id, aid;
		if (parse_id(rest, s2 ? (size_t)(s2 - rest) : strlen(rest), &id) < 0) {
			answer_page(c, a, 404, "console.err.not_found");
			return 1;
		}
		if (!s2) {
			if (c->get)
				page_ticket(c, tenant, id, a);
			else if (c->post)
				ticket_post(c, tenant, id, false, a);
			else
				answer_page(c, a, 405, "console.err.method");
			return 1;
		}
		if (!strncmp(s2, "/files/", 7) && c->get &&
		    parse_id(s2 + 7, strlen(s2 + 7), &aid) == 0) {
			file_get(c, tenant, id, aid, a);
			return 1;
		}
		answer_page(c, a, 404, "console.err.not_found");
		return 1;
	}
	if (strncmp(path, "/api/desk/", 10) != 0)
		return 0;
	const char *p = path + 10;
	if (!strcmp(p, "tickets")) {
		if (c->get) {
			api_list(c, a);
		} else if (c->post) {
			con_form f;
			int64_t id = 0;
			con_form_parse(&f, c->body, c->body_len);
			if (!c->csrf_ok) {
				answer_json(a, 403, "{\"error\":\"csrf\"}");
				return 1;
			}
			const char *tenant = con_form_get(&f, "tenant");
			if (!c->provider && (!tenant || !*tenant))
				tenant = c->acct->tenant;
			if (!tenant || !con_tenant_id_ok(tenant)) {
				answer_json(a, 400, "{\"error\":\"invalid\"}");
				return 1;
			}
			int r = do_open(c, &f, tenant, &id);
			if (r == 0) {
				char e[64];
				sfmt(e, sizeof(e), "{\"id\":%lld}", (long long)id);
				answer_json(a, 201, e);
			} else {
				post_result(c, a, r, true, tenant, id);
			}
		} else {
			answer_json(a, 405, "{\"error\":\"method\"}");
		}
		return 1;
	}
	if (!strcmp(p, "stats") && c->get) {
		api_stats(c, a);
		return 1;
	}
	if (!strncmp(p, "tickets/", 8)) {
		const char *q = p + 8, *s2 = strchr(q, '/');
		int64_t id;
		om_store_ticket t;
		if (parse_id(q, s2 ? (size_t)(s2 - q) : strlen(q), &id) < 0) {
			answer_json(a, 404, "{\"error\":\"not_found\"}");
			return 1;
		}
		if (!s2) {
			if (c->get) {
				if (load_ticket(c, NULL, id, &t) < 0)
					answer_json(a, 404, "{\"error\":\"not_found\"}");
				else
					api_ticket(c, &t, a);
			} else if (c->post) {
				if (load_ticket(c, NULL, id, &t) < 0)
					answer_json(a, 404, "{\"error\":\"not_found\"}");
				else
					ticket_post(c, t.tenant, id, true, a);
			} else {
				answer_json(a, 405, "{\"error\":\"method\"}");
			}
			return 1;
		}
		if (!strcmp(s2, "/files") && c->post) {
			if (!c->csrf_ok) {
				answer_json(a, 403, "{\"error\":\"csrf\"}");
				return 1;
			}
			int r = load_ticket(c, NULL, id, &t);
			if (r == 0)
				r = file_post(c, &t);
			post_result(c, a, r, true, "", id);
			if (r == 0)
				a->status = 201;
			return 1;
		}
	}
	answer_json(a, 404, "{\"error\":\"not_found\"}");
	return 1;
}

/* GET /api/gateway/commands: the gateway's unconfirmed commands (marked
 * sent). POST /api/gateway/commands/<id> result=done|failed&detail=...: its
 * report; a second report of the same command is acknowledged unchanged. */
int con_desk_gateway_route(om_store *s, const om_store_gateway *g, bool get, bool post,
                           const char *path, const char *body, size_t len, con_answer *a)
{
	om_json j;
	om_usec now = om_time_now();

	memset(a, 0, sizeof(*a));
	if (!strcmp(path, "/api/gateway/commands") && get) {
		om_store_command cmds[32];
		size_t n = 0;
		if (om_store_command_poll(s, g->id, now, cmds, OM_ARRAY_SIZE(cmds), &n) < 0) {
			answer_json(a, 503, "{\"error\":\"store\"}");
			return 1;
		}
		a->status = 200;
		a->ctype = "application/json";
		om_buf_init(&a->body, 256 * 1024);
		om_json_init(&j, &a->body);
		om_json_obj_open(&j, NULL);
		om_json_arr_open(&j, "commands");
		for (size_t i = 0; i < n; i++) {
			om_json_obj_open(&j, NULL);
			om_json_i64(&j, "id", cmds[i].id);
			om_json_str(&j, "kind", cmds[i].kind);
			om_json_str(&j, "target", cmds[i].target);
			om_json_obj_close(&j);
		}
		om_json_arr_close(&j);
		om_json_obj_close(&j);
		return 1;
	}
	if (!strncmp(path, "/api/gateway/commands/", 22) && post) {
		int64_t id;
		con_form f;
		if (con_id_parse(path + 22, &id) < 0) {
			answer_json(a, 404, "{\"error\":\"not_found\"}");
			return 1;
		}
		con_form_parse(&f, body, len);
		const char *res = con_form_get(&f, "result"), *detail = con_form_get(&f, "detail");
		if (!res || (strcmp(res, "done") != 0 && strcmp(res, "failed") != 0) ||
		    (detail && strlen(detail) > 255)) {
			answer_json(a, 400, "{\"error\":\"invalid\"}");
			return 1;
		}
		int r = con_desk_command_done(s, g, id, !strcmp(res, "done"), detail, now);
		if (r == -ENOENT)
			answer_json(a, 404, "{\"error\":\"not_found\"}");
		else if (r < 0)
			answer_json(a, 503, "{\"error\":\"store\"}");
		else
			answer_json(a, 200,
			            r == 1 ? "{\"ack\":true,\"duplicate\":true}"
			                   : "{\"ack\":true,\"duplicate\":false}");
		return 1;
	}
	return 0;
}
