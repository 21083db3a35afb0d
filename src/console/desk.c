/* console: the support desk's rules and operations, kept apart from HTTP so
 * that the web pages, the API, the command line and the ingest all go
 * through the same code: what a ticket may be (kinds, states, priorities),
 * the SLA clock, the triage questions and the suggested judgement, the
 * operations on a ticket (each one a line of its trail and, for an action,
 * a command for the company's gateways), and the tickets the ingest opens
 * by itself for serious events. */
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

static const char *const kinds[] = {"popup", "encrypted", "mail_opened", "payment", "lost_device",
                                    "c2",    "malware",   "quarantine",  "other"};
static const char *const states[] = {"new", "open", "waiting", "resolved", "closed"};
/* the calls a company makes (the triage aid has questions for these) */
static const char *const call_kinds[] = {"popup", "encrypted", "mail_opened", "payment",
                                         "lost_device"};

bool con_desk_kind_ok(const char *k)
{
	for (size_t i = 0; k && i < OM_ARRAY_SIZE(kinds); i++)
		if (!strcmp(k, kinds[i]))
			return true;
	return false;
}

bool con_desk_call_kind(const char *k)
{
	for (size_t i = 0; k && i < OM_ARRAY_SIZE(call_kinds); i++)
		if (!strcmp(k, call_kinds[i]))
			return true;
	return false;
}

const char *con_desk_kind_at(size_t i)
{
	return i < OM_ARRAY_SIZE(kinds) ? kinds[i] : NULL;
}

bool con_desk_state_ok(const char *s)
{
	for (size_t i = 0; s && i < OM_ARRAY_SIZE(states); i++)
		if (!strcmp(s, states[i]))
			return true;
	return false;
}

const char *con_desk_state_at(size_t i)
{
	return i < OM_ARRAY_SIZE(states) ? states[i] : NULL;
}

bool con_desk_judgement_ok(const char *j)
{
	return j && (!strcmp(j, "attack") || !strcmp(j, "unlikely") || !strcmp(j, "more"));
}

bool con_desk_is_open(const char *state)
{
	return strcmp(state, "resolved") != 0 && strcmp(state, "closed") != 0;
}

/* ---- the SLA clock ----
 * Targets by priority (hours): first answer and resolution. */
static const unsigned sla_answer_h[] = {1, 4, 8, 24};
static const unsigned sla_close_h[] = {8, 24, 72, 168};

void con_desk_sla(const om_store_ticket *t, om_usec now, con_desk_sla_state *ret)
{
	con_desk_sla_state s = {0};
	int p = t->priority >= 1 && t->priority <= 4 ? t->priority : 3;
	om_usec hour = 3600ull * 1000000;
	om_usec ans = (om_usec)sla_answer_h[p - 1] * hour;
	om_usec cls = (om_usec)sla_close_h[p - 1] * hour;

	s.answer_due = t->opened + ans;
	s.close_due = t->opened + cls;
	/* the clock that still runs: the first answer until there is one, then
	 * the resolution until the ticket is resolved or closed */
	om_usec start = t->opened, due, end;
	if (!t->first_answer) {
		due = s.answer_due;
		end = now;
		s.clock = CON_SLA_ANSWER;
	} else if (t->closed == 0 && con_desk_is_open(t->state)) {
		due = s.close_due;
		end = now;
		s.clock = CON_SLA_CLOSE;
	} else {
		/* stopped: judged by when it was closed */
		due = s.close_due;
		end = t->closed ? t->closed : t->updated;
		s.clock = CON_SLA_STOPPED;
	}
	if (end >= due)
		s.level = CON_SLA_BREACHED;
	else if (s.clock != CON_SLA_STOPPED && end >= start &&
	         (end - start) * 4 >= (due - start) * 3)
		s.level = CON_SLA_WARNING; /* three quarters of the time gone */
	else
		s.level = CON_SLA_OK;
	s.left = end < due ? due - end : 0;
	*ret = s;
}

/* ---- triage: the suggested judgement ----
 * The rules, in order (docs/desk.md says the same):
 *   1. an event of the device in the window is c2, web_malware or
 *      mail_malware, or of severity 1, or the gateway isolated it: attack;
 *   2. a lost device: the gateway cannot see it away from the office: more;
 *   3. encrypted files without such an event: encryption can come without a
 *      network sign (a USB stick, a remote session): more;
 *   4. no device named, or no gateway of the company heard from during the
 *      window: nothing to judge by: more;
 *   5. otherwise the gateway watched and saw nothing serious: unlikely. */
const char *con_desk_judge(const char *kind, const con_desk_evidence *e, const char **ret_rule)
{
	const char *rule;
	const char *j;

	if (e->serious > 0 || e->quarantined) {
		j = "attack";
		rule = "desk.rule.serious";
	} else if (kind && !strcmp(kind, "lost_device")) {
		j = "more";
		rule = "desk.rule.lost";
	} else if (kind && !strcmp(kind, "encrypted")) {
		j = "more";
		rule = "desk.rule.encrypted";
	} else if (!e->device_known) {
		j = "more";
		rule = "desk.rule.no_device";
	} else if (!e->watched) {
		j = "more";
		rule = "desk.rule.not_watched";
	} else {
		j = "unlikely";
		rule = "desk.rule.quiet";
	}
	if (ret_rule)
		*ret_rule = rule;
	return j;
}

bool con_desk_event_serious(const char *category, int severity)
{
	if (severity == 1)
		return true;
	return category && (!strcmp(category, "c2") || !strcmp(category, "web_malware") ||
	                    !strcmp(category, "mail_malware"));
}

int con_desk_evidence_get(om_store *s, const om_store_ticket *t, om_store_event_row *rows,
                          size_t max, size_t *ret_n, con_desk_evidence *ret)
{
	con_desk_evidence e = {0};
	om_store_gateway g[16];
	size_t n = 0, ng = 0;
	om_usec hour = 3600ull * 1000000;
	om_usec from = t->opened > 24 * hour ? t->opened - 24 * hour : 0;
	om_usec to = t->opened + hour;

	e.from = from;
	e.to = to;
	e.device_known = t->device[0] != '\0';
	if (e.device_known && max) {
		om_store_event_filter f = {
		    .tenant = t->tenant, .from = from, .to = to, .host = t->device};
		int r = om_store_event_search(s, &f, rows, max, &n);
		if (r < 0)
			return r;
		for (size_t i = 0; i < n; i++)
			if (con_desk_event_serious(rows[i].category, rows[i].severity))
				e.serious++;
		e.events = n;
	}
	if (!strcmp(t->kind, "quarantine"))
		e.quarantined = true;
	if (om_store_gateway_list(s, t->tenant, g, OM_ARRAY_SIZE(g), &ng) == 0)
		for (size_t i = 0; i < ng; i++)
			if (g[i].last_seen >= from)
				e.watched = true;
	if (n > 0)
		e.watched = true;
	if (ret_n)
		*ret_n = n;
	*ret = e;
	return 0;
}

/* ---- operations ---- */

static void note(om_store *s, int64_t id, om_usec now, const char *actor, const char *action,
                 const char *detail)
{
	om_store_ticket_note(s, id, now, actor, action, detail ? detail : "");
}

/* Every desk action is also an event in the store (event type "desk", no
 * report category, so it counts in no attack figure), beside the ticket's
 * trail and the audit log: the event search shows it with the gateway's
 * own events of that device. gateway is the one the command went to, or
 * "console" for what stays in the console (an on-site visit). */
static void desk_event(om_store *s, om_usec now, const char *tenant, const char *gateway,
                       const char *action, const char *target, const char *actor, int64_t ticket,
                       int64_t command, const char *state)
{
	char ts[40];
	om_buf b;
	om_json j;

	om_time_iso(now, ts, sizeof(ts));
	om_buf_init(&b, 4096);
	om_json_init(&j, &b);
	om_json_obj_open(&j, NULL);
	om_json_str(&j, "timestamp", ts);
	om_json_str(&j, "event_type", "desk");
	om_json_obj_open(&j, "desk");
	om_json_i64(&j, "ticket", ticket);
	om_json_str(&j, "action", action);
	if (target && *target)
		om_json_str(&j, "target", target);
	om_json_str(&j, "actor", actor ? actor : "");
	if (command > 0)
		om_json_i64(&j, "command", command);
	om_json_str(&j, "state", state);
	om_json_obj_close(&j);
	om_json_obj_close(&j);
	if (!b.toobig) {
		bool addr = target && con_desk_address_ok(target);
		om_store_event ev = {.ts = now,
		                     .tenant = tenant,
		                     .gateway = gateway,
		                     .event_type = "desk",
		                     .severity = 3,
		                     .action = state,
		                     .src_ip = addr ? target : NULL,
		                     .signature = action,
		                     .eve_json = om_buf_cstr(&b)};
		/* the trail and the audit log have it already: a store that cannot
		 * take the event now loses only this copy */
		if (om_store_add_event(s, &ev) == 0)
			om_store_flush(s);
	}
	om_buf_free(&b);
}

const con_playbook *con_playbook_find(const char *id)
{
	for (size_t i = 0; id && *id && i < con_playbooks_n; i++)
		if (!strcmp(con_playbooks[i].id, id))
			return &con_playbooks[i];
	return NULL;
}

const char *con_desk_default_playbook(const char *kind)
{
	static const char *const map[][2] = {
	    {"encrypted", "ransomware"},      {"malware", "ransomware"},   {"c2", "targeted"},
	    {"quarantine", "targeted"},       {"mail_opened", "targeted"}, {"payment", "bec"},
	    {"lost_device", "careless_leak"},
	};
	for (size_t i = 0; i < OM_ARRAY_SIZE(map); i++)
		if (!strcmp(kind, map[i][0]))
			return map[i][1];
	return "";
}

int con_desk_open(om_store *s, om_store_ticket *t, const char *dedup, const char *actor,
                  om_usec now, int64_t *ret_id)
{
	con_desk_evidence e;
	const char *rule = NULL;
	int64_t id;
	int r;

	if (!con_desk_kind_ok(t->kind) || !t->title[0])
		return -EINVAL;
	if (t->device[0] && !con_desk_address_ok(t->device))
		return -EINVAL;
	if (!t->state[0])
		sfmt(t->state, sizeof(t->state), "new");
	if (!t->priority)
		t->priority = 3;
	if (!t->opened)
		t->opened = now;
	if (!t->playbook[0])
		sfmt(t->playbook, sizeof(t->playbook), "%s", con_desk_default_playbook(t->kind));
	if (con_desk_evidence_get(s, t, NULL, 0, NULL, &e) == 0) {
		/* without rows: the suggestion at opening counts only what the
		 * ingest marked serious; the ticket page recomputes it with the
		 * device's events */
		sfmt(t->suggested, sizeof(t->suggested), "%s", con_desk_judge(t->kind, &e, &rule));
	}
	r = om_store_ticket_add(s, t, dedup, &id);
	if (r < 0)
		return r;
	if (r == 0) {
		char d[300];
		sfmt(d, sizeof(d), "%s %s %s", t->source, t->kind, t->device);
		note(s, id, now, actor, "opened", d);
		if (t->device[0])
			om_store_ticket_link_add(s, id, "device", t->device);
	}
	t->id = id;
	if (ret_id)
		*ret_id = id;
	return r;
}

/* Marks the first answer of the desk: the first change or comment by a
 * provider role. */
static void first_answer(om_store_ticket *t, bool provider, om_usec now)
{
	if (provider && !t->first_answer)
		t->first_answer = now;
}

int con_desk_comment(om_store *s, om_store_ticket *t, const char *actor, bool provider,
                     const char *text, om_usec now)
{
	if (!text || !*text || strlen(text) > OM_DESK_TEXT_MAX)
		return -EINVAL;
	first_answer(t, provider, now);
	if (provider && !strcmp(t->state, "new"))
		sfmt(t->state, sizeof(t->state), "open");
	t->updated = now;
	int r = om_store_ticket_update(s, t);
	if (r < 0)
		return r;
	note(s, t->id, now, actor, "comment", text);
	return 0;
}

int con_desk_set(om_store *s, om_store_ticket *t, const char *actor, const char *field,
                 const char *value, om_usec now)
{
	char old[256], d[600];

	if (!field || !value)
		return -EINVAL;
	if (!strcmp(field, "state")) {
		if (!con_desk_state_ok(value))
			return -EINVAL;
		sfmt(old, sizeof(old), "%s", t->state);
		sfmt(t->state, sizeof(t->state), "%s", value);
		if (!con_desk_is_open(value)) {
			if (!t->closed)
				t->closed = now;
		} else {
			t->closed = 0; /* reopened */
		}
	} else if (!strcmp(field, "priority")) {
		int64_t p;
		if (con_id_parse(value, &p) < 0 || p < 1 || p > 4)
			return -EINVAL;
		sfmt(old, sizeof(old), "%d", t->priority);
		t->priority = (int)p;
	} else if (!strcmp(field, "assignee")) {
		if (strlen(value) >= sizeof(t->assignee))
			return -EINVAL;
		sfmt(old, sizeof(old), "%s", t->assignee);
		sfmt(t->assignee, sizeof(t->assignee), "%s", value);
	} else if (!strcmp(field, "kind")) {
		if (!con_desk_kind_ok(value))
			return -EINVAL;
		sfmt(old, sizeof(old), "%s", t->kind);
		sfmt(t->kind, sizeof(t->kind), "%s", value);
	} else if (!strcmp(field, "playbook")) {
		if (*value && !con_playbook_find(value))
			return -EINVAL;
		sfmt(old, sizeof(old), "%s", t->playbook);
		sfmt(t->playbook, sizeof(t->playbook), "%s", value);
		t->steps = 0;
	} else if (!strcmp(field, "judgement")) {
		if (!con_desk_judgement_ok(value))
			return -EINVAL;
		sfmt(old, sizeof(old), "%s", t->judgement[0] ? t->judgement : t->suggested);
		sfmt(t->judgement, sizeof(t->judgement), "%s", value);
	} else if (!strcmp(field, "device")) {
		if (*value && !con_desk_address_ok(value))
			return -EINVAL;
		sfmt(old, sizeof(old), "%s", t->device);
		sfmt(t->device, sizeof(t->device), "%s", value);
	} else {
		return -EINVAL;
	}
	first_answer(t, true, now);
	t->updated = now;
	int r = om_store_ticket_update(s, t);
	if (r < 0)
		return r;
	sfmt(d, sizeof(d), "%s -> %s", old, value);
	note(s, t->id, now, actor, field, d);
	if (!strcmp(field, "device") && *value)
		om_store_ticket_link_add(s, t->id, "device", value);
	return 0;
}

int con_desk_step(om_store *s, om_store_ticket *t, const char *actor, unsigned step, bool done,
                  om_usec now)
{
	const con_playbook *p = con_playbook_find(t->playbook);
	char d[64];

	if (!p || step >= p->nsteps || step >= 63)
		return -EINVAL;
	if (done)
		t->steps |= 1ull << step;
	else
		t->steps &= ~(1ull << step);
	first_answer(t, true, now);
	t->updated = now;
	int r = om_store_ticket_update(s, t);
	if (r < 0)
		return r;
	sfmt(d, sizeof(d), "%s %u %s", t->playbook, step + 1, done ? "done" : "undone");
	note(s, t->id, now, actor, "step", d);
	return 0;
}

bool con_desk_address_ok(const char *a)
{
	om_addr x;
	return a && strlen(a) < 46 && om_addr_parse(a, &x) == 0;
}

/* A domain to block: 1..253 of [a-z0-9.-], a dot inside, no empty label. */
bool con_desk_domain_ok(const char *d)
{
	size_t n = d ? strlen(d) : 0, label = 0;
	bool dot = false;

	if (n == 0 || n > 253 || d[0] == '.' || d[n - 1] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = d[i];
		if (c == '.') {
			if (label == 0)
				return false;
			label = 0;
			dot = true;
		} else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-') {
			if (++label > 63)
				return false;
		} else {
			return false;
		}
	}
	return dot;
}

int con_desk_action(om_store *s, om_store_ticket *t, const char *actor, const char *kind,
                    const char *target, const char *when, om_usec now, unsigned *ret_sent)
{
	om_store_gateway g[16];
	size_t ng = 0;
	unsigned sent = 0;
	char d[400];
	int r;

	if (!strcmp(kind, "visit")) {
		/* an on-site visit: a date and a note in the trail */
		if (!when || strlen(when) < 10 || strlen(when) > 64)
			return -EINVAL;
		first_answer(t, true, now);
		t->updated = now;
		r = om_store_ticket_update(s, t);
		if (r < 0)
			return r;
		sfmt(d, sizeof(d), "%s %s", when, target ? target : "");
		note(s, t->id, now, actor, "visit", d);
		om_store_audit_add(s, now, actor, t->tenant, "desk_visit", d);
		desk_event(s, now, t->tenant, "console", "visit", when, actor, t->id, 0,
		           "scheduled");
		*ret_sent = 0;
		return 0;
	}
	bool addr = !strcmp(kind, "quarantine") || !strcmp(kind, "release");
	bool block = !strcmp(kind, "block") || !strcmp(kind, "unblock");
	if (!addr && !block)
		return -EINVAL;
	if (!target || !*target)
		target = addr ? t->device : "";
	if (addr ? !con_desk_address_ok(target)
	         : !(con_desk_address_ok(target) || con_desk_domain_ok(target)))
		return -EINVAL;
	r = om_store_gateway_list(s, t->tenant, g, OM_ARRAY_SIZE(g), &ng);
	if (r < 0)
		return r;
	for (size_t i = 0; i < ng; i++) {
		om_store_command c = {.ticket = t->id, .created = now};
		int64_t cid;
		if (!g[i].enrolled)
			continue;
		sfmt(c.tenant, sizeof(c.tenant), "%s", t->tenant);
		sfmt(c.gateway, sizeof(c.gateway), "%s", g[i].id);
		sfmt(c.kind, sizeof(c.kind), "%s", kind);
		sfmt(c.target, sizeof(c.target), "%s", target);
		sfmt(c.actor, sizeof(c.actor), "%s", actor);
		r = om_store_command_add(s, &c, &cid);
		if (r < 0)
			return r;
		sfmt(d, sizeof(d), "%s %s -> %s #%lld", kind, target, g[i].id, (long long)cid);
		note(s, t->id, now, actor, "action", d);
		om_store_audit_add(s, now, actor, t->tenant, "desk_action", d);
		desk_event(s, now, t->tenant, g[i].id, kind, target, actor, t->id, cid, "sent");
		sent++;
	}
	if (!sent)
		return -ENODEV; /* the company has no enrolled gateway */
	first_answer(t, true, now);
	t->updated = now;
	r = om_store_ticket_update(s, t);
	if (r < 0)
		return r;
	if (block)
		om_store_ticket_link_add(s, t->id, "blocked", target);
	*ret_sent = sent;
	return 0;
}

int con_desk_command_done(om_store *s, const om_store_gateway *g, int64_t id, bool ok,
                          const char *detail, om_usec now)
{
	om_store_command c;
	char d[600];
	int r = om_store_command_finish(s, g->id, id, ok, detail, now, &c);

	if (r != 0)
		return r; /* 1: confirmed before, nothing more to record */
	sfmt(d, sizeof(d), "%s %s %s #%lld %s", c.kind, c.target, ok ? "done" : "failed",
	     (long long)c.id, detail ? detail : "");
	om_store_audit_add(s, now, g->id, g->tenant, "desk_command", d);
	desk_event(s, now, g->tenant, g->id, c.kind, c.target, g->id, c.ticket, c.id,
	           ok ? "done" : "failed");
	if (c.ticket > 0) {
		om_store_ticket t;
		note(s, c.ticket, now, g->id, ok ? "confirmed" : "failed", d);
		if (ok && om_store_ticket_get(s, c.ticket, &t) == 0 && t.device[0] &&
		    !strcmp(t.device, c.target)) {
			/* the ticket shows whether its device is isolated now */
			om_store_ticket_link_add(s, c.ticket, "isolated", "");
		}
	}
	return 0;
}

/* ---- tickets the ingest opens ---- */

void con_desk_auto_note(con_desk_auto *a, const char *line, size_t n)
{
	/* a cheap look first: most lines are neither alerts of these
	 * categories nor quarantine events */
	if (n > CON_DESK_AUTO_LINE)
		return;
	if (!memmem(line, n, "\"quarantine\"", 12) && !memmem(line, n, "\"c2\"", 4) &&
	    !memmem(line, n, "_malware\"", 9))
		return;
	con_desk_candidate c;
	if (con_desk_auto_parse(line, n, &c) < 0)
		return;
	/* one candidate per kind and device: a beaconing PC sends thousands */
	for (size_t i = 0; i < a->n; i++)
		if (!strcmp(a->c[i].kind, c.kind) && !strcmp(a->c[i].device, c.device))
			return;
	if (a->n >= CON_DESK_AUTO_MAX) {
		a->dropped++;
		return;
	}
	a->c[a->n++] = c;
}

int con_desk_auto_open(om_store *s, const char *tenant, con_desk_auto *a, om_usec now,
                       unsigned *ret_opened)
{
	unsigned opened = 0;

	for (size_t i = 0; i < a->n; i++) {
		const con_desk_candidate *c = &a->c[i];
		om_store_ticket t;
		char dedup[128], title[256];
		int64_t id;

		memset(&t, 0, sizeof(t));
		sfmt(t.tenant, sizeof(t.tenant), "%s", tenant);
		sfmt(t.kind, sizeof(t.kind), "%s", c->kind);
		sfmt(t.source, sizeof(t.source), "auto");
		sfmt(t.device, sizeof(t.device), "%s", c->device);
		sfmt(t.opened_by, sizeof(t.opened_by), "gateway");
		t.priority = !strcmp(c->kind, "c2") || !strcmp(c->kind, "quarantine") ? 1 : 2;
		t.opened = c->ts ? c->ts : now;
		sfmt(title, sizeof(title), "%s: %s", c->kind, c->what);
		sfmt(t.title, sizeof(t.title), "%s", title);
		sfmt(t.body, sizeof(t.body), "%s", c->what);
		sfmt(dedup, sizeof(dedup), "auto:%s:%s", c->kind, c->device);
		int r = con_desk_open(s, &t, dedup, "gateway", now, &id);
		if (r < 0)
			continue; /* bad data from a gateway: skip it, the event is stored */
		if (r == 0)
			opened++;
		else
			note(s, id, now, "gateway", "event", c->what);
	}
	if (ret_opened)
		*ret_opened = opened;
	return 0;
}
