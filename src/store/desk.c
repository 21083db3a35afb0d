/* store: the support desk's tables. Tickets (with their SLA clock fields),
 * the ticket's history (every change: the audit trail), links to events,
 * devices and reports, size-capped attachments, ticked playbook steps, and
 * the commands the console queues for a gateway (quarantine, release, block)
 * with their confirmation.
 *
 * The SQL is in the subset SQLite and PostgreSQL share (plain INTEGER/TEXT/
 * BLOB, '?' placeholders, ON CONFLICT, RETURNING for ids); every statement
 * goes through the few q_* functions at the top, on the store's database
 * layer (SQLite or PostgreSQL). Writes flush the pending event batch
 * first, as the console's tables do. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "store/internal.h"

static const char *const desk_schema[] = {
    "CREATE TABLE IF NOT EXISTS desk_schema (version INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS desk_ticket ("
    " id INTEGER PRIMARY KEY,"
    " tenant TEXT NOT NULL,"
    " kind TEXT NOT NULL,"
    " source TEXT NOT NULL,"
    " state TEXT NOT NULL,"
    " priority INTEGER NOT NULL,"
    " title TEXT NOT NULL,"
    " body TEXT NOT NULL,"
    " device TEXT NOT NULL,"
    " opened_by TEXT NOT NULL,"
    " assignee TEXT NOT NULL,"
    " judgement TEXT NOT NULL,"
    " suggested TEXT NOT NULL,"
    " playbook TEXT NOT NULL,"
    " dedup TEXT NOT NULL,"
    " opened INTEGER NOT NULL,"
    " first_answer INTEGER NOT NULL,"
    " closed INTEGER NOT NULL,"
    " updated INTEGER NOT NULL,"
    " steps INTEGER NOT NULL)",
    "CREATE INDEX IF NOT EXISTS desk_ticket_tenant ON desk_ticket (tenant, id)",
    "CREATE INDEX IF NOT EXISTS desk_ticket_dedup ON desk_ticket (tenant, dedup)",
    "CREATE TABLE IF NOT EXISTS desk_history ("
    " id INTEGER PRIMARY KEY,"
    " ticket INTEGER NOT NULL,"
    " ts INTEGER NOT NULL,"
    " actor TEXT NOT NULL,"
    " action TEXT NOT NULL,"
    " detail TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS desk_history_ticket ON desk_history (ticket, id)",
    "CREATE TABLE IF NOT EXISTS desk_link ("
    " ticket INTEGER NOT NULL,"
    " kind TEXT NOT NULL,"
    " ref TEXT NOT NULL,"
    " PRIMARY KEY (ticket, kind, ref))",
    "CREATE TABLE IF NOT EXISTS desk_attachment ("
    " id INTEGER PRIMARY KEY,"
    " ticket INTEGER NOT NULL,"
    " name TEXT NOT NULL,"
    " ctype TEXT NOT NULL,"
    " size INTEGER NOT NULL,"
    " ts INTEGER NOT NULL,"
    " actor TEXT NOT NULL,"
    " data BLOB)",
    "CREATE INDEX IF NOT EXISTS desk_attachment_ticket ON desk_attachment (ticket, id)",
    "CREATE TABLE IF NOT EXISTS desk_command ("
    " id INTEGER PRIMARY KEY,"
    " tenant TEXT NOT NULL,"
    " gateway TEXT NOT NULL,"
    " ticket INTEGER NOT NULL,"
    " kind TEXT NOT NULL,"
    " target TEXT NOT NULL,"
    " state TEXT NOT NULL,"
    " result TEXT NOT NULL,"
    " actor TEXT NOT NULL,"
    " created INTEGER NOT NULL,"
    " delivered INTEGER NOT NULL,"
    " done INTEGER NOT NULL)",
    "CREATE INDEX IF NOT EXISTS desk_command_gateway ON desk_command (gateway, state, id)",
    "CREATE TABLE IF NOT EXISTS desk_contact ("
    " tenant TEXT PRIMARY KEY,"
    " lang TEXT NOT NULL,"
    " mail TEXT NOT NULL,"
    " webhook TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS desk_outbox ("
    " id INTEGER PRIMARY KEY,"
    " tenant TEXT NOT NULL,"
    " ticket INTEGER NOT NULL,"
    " channel TEXT NOT NULL,"
    " dest TEXT NOT NULL,"
    " subject TEXT NOT NULL,"
    " body TEXT NOT NULL,"
    " created INTEGER NOT NULL,"
    " sent INTEGER NOT NULL,"
    " tries INTEGER NOT NULL,"
    " error TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS desk_outbox_sent ON desk_outbox (sent, id)",
};

/* ---- the database calls (through the store's database layer) ---- */

typedef om_db_stmt q_stmt;

static int q_prep(om_store *s, const char *sql, q_stmt **ret)
{
	return om_db_prepare(store_dbh(s), sql, ret);
}

static void q_text(q_stmt *st, int i, const char *v)
{
	om_db_bind_text(st, i, v ? v : "");
}

static void q_int(q_stmt *st, int i, int64_t v)
{
	om_db_bind_int64(st, i, v);
}

static void q_blob(q_stmt *st, int i, const void *p, size_t n)
{
	om_db_bind_blob(st, i, p, n);
}

/* 1 row, 0 done, negative errno */
static int q_step(q_stmt *st)
{
	return om_db_step(st);
}

static const char *q_col_text(q_stmt *st, int i)
{
	const char *t = om_db_column_text(st, i);
	return t ? t : "";
}

static int64_t q_col_int(q_stmt *st, int i)
{
	return om_db_column_int64(st, i);
}

static const void *q_col_blob(q_stmt *st, int i, size_t *ret_n)
{
	return om_db_column_blob(st, i, ret_n);
}

static void q_done(q_stmt *st)
{
	om_db_finalize(st);
}

/* Runs a write that returns no rows. */
static int q_run(q_stmt *st)
{
	int r = q_step(st);
	q_done(st);
	return r < 0 ? r : 0;
}

static int64_t q_changes(om_store *s)
{
	return om_db_changes(store_dbh(s));
}

int store_desk_schema(om_store *s, char *err, size_t errlen)
{
	for (size_t i = 0; i < OM_ARRAY_SIZE(desk_schema); i++) {
		int rc = om_db_exec_schema(store_dbh(s), desk_schema[i], NULL, 0);
		if (rc < 0) {
			if (err && errlen)
				snprintf(err, errlen, om_tr("err.store.sql"),
				         om_db_errmsg(store_dbh(s)));
			return rc;
		}
	}
	return 0;
}

/* ---- checks ---- */

static bool text_ok(const char *s, size_t max, bool empty_ok)
{
	if (!s)
		return empty_ok;
	size_t n = strlen(s);
	if (n > max || (!empty_ok && n == 0))
		return false;
	return true;
}

static void copy(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src ? src : "");
}

/* ---- tickets ---- */

#define TICKET_COLS                                                                                \
	"id, tenant, kind, source, state, priority, title, body, device, opened_by, "              \
	"assignee, judgement, suggested, playbook, opened, first_answer, closed, updated, "        \
	"steps"

static void ticket_row(q_stmt *st, om_store_ticket *t)
{
	memset(t, 0, sizeof(*t));
	t->id = q_col_int(st, 0);
	copy(t->tenant, sizeof(t->tenant), q_col_text(st, 1));
	copy(t->kind, sizeof(t->kind), q_col_text(st, 2));
	copy(t->source, sizeof(t->source), q_col_text(st, 3));
	copy(t->state, sizeof(t->state), q_col_text(st, 4));
	t->priority = (int)q_col_int(st, 5);
	copy(t->title, sizeof(t->title), q_col_text(st, 6));
	copy(t->body, sizeof(t->body), q_col_text(st, 7));
	copy(t->device, sizeof(t->device), q_col_text(st, 8));
	copy(t->opened_by, sizeof(t->opened_by), q_col_text(st, 9));
	copy(t->assignee, sizeof(t->assignee), q_col_text(st, 10));
	copy(t->judgement, sizeof(t->judgement), q_col_text(st, 11));
	copy(t->suggested, sizeof(t->suggested), q_col_text(st, 12));
	copy(t->playbook, sizeof(t->playbook), q_col_text(st, 13));
	t->opened = (om_usec)q_col_int(st, 14);
	t->first_answer = (om_usec)q_col_int(st, 15);
	t->closed = (om_usec)q_col_int(st, 16);
	t->updated = (om_usec)q_col_int(st, 17);
	t->steps = (uint64_t)q_col_int(st, 18);
}

static bool ticket_ok(const om_store_ticket *t)
{
	return text_ok(t->tenant, 63, false) && text_ok(t->kind, 23, false) &&
	       text_ok(t->source, 15, false) && text_ok(t->state, 15, false) && t->priority >= 1 &&
	       t->priority <= 4 && text_ok(t->title, 255, false) &&
	       text_ok(t->body, OM_DESK_TEXT_MAX, true) && text_ok(t->device, 45, true) &&
	       text_ok(t->opened_by, 127, true) && text_ok(t->assignee, 63, true) &&
	       text_ok(t->judgement, 15, true) && text_ok(t->suggested, 15, true) &&
	       text_ok(t->playbook, 31, true) && t->opened <= (om_usec)INT64_MAX &&
	       t->first_answer <= (om_usec)INT64_MAX && t->closed <= (om_usec)INT64_MAX;
}

int om_store_ticket_add(om_store *s, const om_store_ticket *t, const char *dedup, int64_t *ret_id)
{
	q_stmt *st;
	int r;

	if (!s || !t || !ticket_ok(t) || !text_ok(dedup, 255, true))
		return -EINVAL;
	r = om_store_flush(s);
	if (r < 0)
		return r;
	if (dedup && *dedup) {
		r = q_prep(s,
		           "SELECT id FROM desk_ticket WHERE tenant = ? AND dedup = ?"
		           " AND state <> 'closed' AND state <> 'resolved' ORDER BY id LIMIT 1",
		           &st);
		if (r < 0)
			return r;
		q_text(st, 1, t->tenant);
		q_text(st, 2, dedup);
		r = q_step(st);
		if (r == 1) {
			int64_t id = q_col_int(st, 0);
			q_done(st);
			if (ret_id)
				*ret_id = id;
			return 1;
		}
		q_done(st);
		if (r < 0)
			return r;
	}
	r = q_prep(s,
	           "INSERT INTO desk_ticket (tenant, kind, source, state, priority, title, body,"
	           " device, opened_by, assignee, judgement, suggested, playbook, dedup, opened,"
	           " first_answer, closed, updated, steps)"
	           " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0) RETURNING id",
	           &st);
	if (r < 0)
		return r;
	q_text(st, 1, t->tenant);
	q_text(st, 2, t->kind);
	q_text(st, 3, t->source);
	q_text(st, 4, t->state);
	q_int(st, 5, t->priority);
	q_text(st, 6, t->title);
	q_text(st, 7, t->body);
	q_text(st, 8, t->device);
	q_text(st, 9, t->opened_by);
	q_text(st, 10, t->assignee);
	q_text(st, 11, t->judgement);
	q_text(st, 12, t->suggested);
	q_text(st, 13, t->playbook);
	q_text(st, 14, dedup);
	q_int(st, 15, (int64_t)t->opened);
	q_int(st, 16, (int64_t)t->first_answer);
	q_int(st, 17, (int64_t)t->closed);
	q_int(st, 18, (int64_t)t->opened);
	r = q_step(st);
	int64_t id = r == 1 ? q_col_int(st, 0) : 0;
	q_done(st);
	if (r != 1)
		return r < 0 ? r : -EIO;
	if (ret_id)
		*ret_id = id;
	return 0;
}

int om_store_ticket_get(om_store *s, int64_t id, om_store_ticket *ret)
{
	q_stmt *st;
	int r = q_prep(s, "SELECT " TICKET_COLS " FROM desk_ticket WHERE id = ?", &st);

	if (r < 0)
		return r;
	q_int(st, 1, id);
	r = q_step(st);
	if (r == 1)
		ticket_row(st, ret);
	q_done(st);
	return r == 1 ? 0 : r < 0 ? r : -ENOENT;
}

int om_store_ticket_update(om_store *s, const om_store_ticket *t)
{
	q_stmt *st;
	int r;

	if (!s || !t || !ticket_ok(t))
		return -EINVAL;
	r = om_store_flush(s);
	if (r < 0)
		return r;
	r = q_prep(s,
	           "UPDATE desk_ticket SET kind = ?, state = ?, priority = ?, title = ?,"
	           " device = ?, assignee = ?, judgement = ?, suggested = ?, playbook = ?,"
	           " first_answer = ?, closed = ?, updated = ?, steps = ? WHERE id = ?",
	           &st);
	if (r < 0)
		return r;
	q_text(st, 1, t->kind);
	q_text(st, 2, t->state);
	q_int(st, 3, t->priority);
	q_text(st, 4, t->title);
	q_text(st, 5, t->device);
	q_text(st, 6, t->assignee);
	q_text(st, 7, t->judgement);
	q_text(st, 8, t->suggested);
	q_text(st, 9, t->playbook);
	q_int(st, 10, (int64_t)t->first_answer);
	q_int(st, 11, (int64_t)t->closed);
	q_int(st, 12, (int64_t)t->updated);
	q_int(st, 13, (int64_t)(t->steps & 0x7fffffffffffffffull));
	q_int(st, 14, t->id);
	r = q_run(st);
	if (r < 0)
		return r;
	return q_changes(s) == 1 ? 0 : -ENOENT;
}

int om_store_ticket_list(om_store *s, const om_store_ticket_filter *f, om_store_ticket *out,
                         size_t max, size_t *ret_n)
{
	q_stmt *st;
	size_t n = 0;
	int r;

	if (!s || !f || !ret_n)
		return -EINVAL;
	/* open bounds are the widest values rather than "? = 0" tests: a
	 * parameter compared with a literal is typed integer (32 bits) by
	 * PostgreSQL */
	r = q_prep(s,
	           "SELECT " TICKET_COLS " FROM desk_ticket WHERE (? = '' OR tenant = ?)"
	           " AND (? = 0 OR (state <> 'closed' AND state <> 'resolved'))"
	           " AND (closed = 0 OR closed >= ?) AND opened < ? AND id < ?"
	           " ORDER BY id DESC LIMIT ?",
	           &st);
	if (r < 0)
		return r;
	q_text(st, 1, f->tenant);
	q_text(st, 2, f->tenant);
	q_int(st, 3, f->open_only ? 1 : 0);
	q_int(st, 4, (int64_t)f->from);
	q_int(st, 5, f->to ? (int64_t)f->to : INT64_MAX);
	q_int(st, 6, f->before_id > 0 ? f->before_id : INT64_MAX);
	q_int(st, 7, (int64_t)max);
	while (n < max && (r = q_step(st)) == 1)
		ticket_row(st, &out[n++]);
	q_done(st);
	if (r < 0)
		return r;
	*ret_n = n;
	return 0;
}

/* ---- history ---- */

int om_store_ticket_note(om_store *s, int64_t ticket, om_usec ts, const char *actor,
                         const char *action, const char *detail)
{
	q_stmt *st;
	int r;

	if (!s || ticket <= 0 || !text_ok(actor, 127, true) || !text_ok(action, 31, false) ||
	    ts > (om_usec)INT64_MAX)
		return -EINVAL;
	r = om_store_flush(s);
	if (r < 0)
		return r;
	r = q_prep(s,
	           "INSERT INTO desk_history (ticket, ts, actor, action, detail)"
	           " VALUES (?, ?, ?, ?, ?)",
	           &st);
	if (r < 0)
		return r;
	q_int(st, 1, ticket);
	q_int(st, 2, (int64_t)ts);
	q_text(st, 3, actor);
	q_text(st, 4, action);
	/* the detail is cut, never refused: the trail must record the change */
	char d[OM_DESK_TEXT_MAX + 1];
	copy(d, sizeof(d), detail);
	q_text(st, 5, d);
	return q_run(st);
}

int om_store_ticket_history(om_store *s, int64_t ticket, om_store_ticket_note_row *out, size_t max,
                            size_t *ret_n)
{
	q_stmt *st;
	size_t n = 0;
	int r = q_prep(s,
	               "SELECT ts, actor, action, detail FROM desk_history WHERE ticket = ?"
	               " ORDER BY id LIMIT ?",
	               &st);

	if (r < 0)
		return r;
	q_int(st, 1, ticket);
	q_int(st, 2, (int64_t)max);
	while (n < max && (r = q_step(st)) == 1) {
		om_store_ticket_note_row *h = &out[n++];
		h->ts = (om_usec)q_col_int(st, 0);
		copy(h->actor, sizeof(h->actor), q_col_text(st, 1));
		copy(h->action, sizeof(h->action), q_col_text(st, 2));
		copy(h->detail, sizeof(h->detail), q_col_text(st, 3));
	}
	q_done(st);
	if (r < 0)
		return r;
	*ret_n = n;
	return 0;
}

/* ---- links ---- */

int om_store_ticket_link_add(om_store *s, int64_t ticket, const char *kind, const char *ref)
{
	q_stmt *st;
	int r;

	if (!s || ticket <= 0 || !text_ok(kind, 15, false) || !text_ok(ref, 127, false))
		return -EINVAL;
	r = om_store_flush(s);
	if (r < 0)
		return r;
	r = q_prep(s,
	           "INSERT INTO desk_link (ticket, kind, ref) VALUES (?, ?, ?)"
	           " ON CONFLICT (ticket, kind, ref) DO NOTHING",
	           &st);
	if (r < 0)
		return r;
	q_int(st, 1, ticket);
	q_text(st, 2, kind);
	q_text(st, 3, ref);
	r = q_run(st);
	if (r < 0)
		return r;
	return q_changes(s) == 1 ? 1 : 0;
}

int om_store_ticket_links(om_store *s, int64_t ticket, om_store_ticket_link *out, size_t max,
                          size_t *ret_n)
{
	q_stmt *st;
	size_t n = 0;
	int r = q_prep(
	    s, "SELECT kind, ref FROM desk_link WHERE ticket = ? ORDER BY kind, ref LIMIT ?", &st);

	if (r < 0)
		return r;
	q_int(st, 1, ticket);
	q_int(st, 2, (int64_t)max);
	while (n < max && (r = q_step(st)) == 1) {
		copy(out[n].kind, sizeof(out[n].kind), q_col_text(st, 0));
		copy(out[n].ref, sizeof(out[n].ref), q_col_text(st, 1));
		n++;
	}
	q_done(st);
	if (r < 0)
		return r;
	*ret_n = n;
	return 0;
}

/* ---- attachments ---- */

int om_store_ticket_attach(om_store *s, int64_t ticket, const char *name, const char *ctype,
                           const void *data, size_t len, om_usec ts, const char *actor,
                           int64_t *ret_id)
{
	q_stmt *st;
	int r;

	if (!s || ticket <= 0 || !text_ok(name, 127, false) || !text_ok(ctype, 127, false) ||
	    !text_ok(actor, 127, true) || (!data && len) || ts > (om_usec)INT64_MAX)
		return -EINVAL;
	if (len > OM_DESK_ATTACH_MAX)
		return -E2BIG;
	r = om_store_flush(s);
	if (r < 0)
		return r;
	/* a ticket holds at most OM_DESK_ATTACH_COUNT files */
	r = q_prep(s, "SELECT COUNT(*) FROM desk_attachment WHERE ticket = ?", &st);
	if (r < 0)
		return r;
	q_int(st, 1, ticket);
	r = q_step(st);
	int64_t have = r == 1 ? q_col_int(st, 0) : 0;
	q_done(st);
	if (r < 0)
		return r;
	if (have >= OM_DESK_ATTACH_COUNT)
		return -ENOSPC;
	r = q_prep(s,
	           "INSERT INTO desk_attachment (ticket, name, ctype, size, ts, actor, data)"
	           " VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
	           &st);
	if (r < 0)
		return r;
	q_int(st, 1, ticket);
	q_text(st, 2, name);
	q_text(st, 3, ctype);
	q_int(st, 4, (int64_t)len);
	q_int(st, 5, (int64_t)ts);
	q_text(st, 6, actor);
	q_blob(st, 7, len ? data : "", len);
	r = q_step(st);
	int64_t id = r == 1 ? q_col_int(st, 0) : 0;
	q_done(st);
	if (r != 1)
		return r < 0 ? r : -EIO;
	if (ret_id)
		*ret_id = id;
	return 0;
}

int om_store_ticket_attachments(om_store *s, int64_t ticket, om_store_attachment *out, size_t max,
                                size_t *ret_n)
{
	q_stmt *st;
	size_t n = 0;
	int r = q_prep(s,
	               "SELECT id, name, ctype, size, ts, actor FROM desk_attachment"
	               " WHERE ticket = ? ORDER BY id LIMIT ?",
	               &st);

	if (r < 0)
		return r;
	q_int(st, 1, ticket);
	q_int(st, 2, (int64_t)max);
	while (n < max && (r = q_step(st)) == 1) {
		om_store_attachment *a = &out[n++];
		a->id = q_col_int(st, 0);
		copy(a->name, sizeof(a->name), q_col_text(st, 1));
		copy(a->ctype, sizeof(a->ctype), q_col_text(st, 2));
		a->size = (size_t)q_col_int(st, 3);
		a->ts = (om_usec)q_col_int(st, 4);
		copy(a->actor, sizeof(a->actor), q_col_text(st, 5));
	}
	q_done(st);
	if (r < 0)
		return r;
	*ret_n = n;
	return 0;
}

int om_store_ticket_attachment_get(om_store *s, int64_t ticket, int64_t id,
                                   om_store_attachment *ret, void *buf, size_t cap, size_t *ret_len)
{
	q_stmt *st;
	int r = q_prep(s,
	               "SELECT id, name, ctype, size, ts, actor, data FROM desk_attachment"
	               " WHERE ticket = ? AND id = ?",
	               &st);

	if (r < 0)
		return r;
	q_int(st, 1, ticket);
	q_int(st, 2, id);
	r = q_step(st);
	if (r == 1) {
		size_t n;
		const void *p = q_col_blob(st, 6, &n);
		if (n > cap) {
			q_done(st);
			return -E2BIG;
		}
		ret->id = q_col_int(st, 0);
		copy(ret->name, sizeof(ret->name), q_col_text(st, 1));
		copy(ret->ctype, sizeof(ret->ctype), q_col_text(st, 2));
		ret->size = n;
		ret->ts = (om_usec)q_col_int(st, 4);
		copy(ret->actor, sizeof(ret->actor), q_col_text(st, 5));
		if (n)
			memcpy(buf, p, n);
		*ret_len = n;
	}
	q_done(st);
	return r == 1 ? 0 : r < 0 ? r : -ENOENT;
}

/* ---- gateway commands ---- */

#define COMMAND_COLS                                                                               \
	"id, tenant, gateway, ticket, kind, target, state, result, actor, created, "               \
	"delivered, done"

static void command_row(q_stmt *st, om_store_command *c)
{
	memset(c, 0, sizeof(*c));
	c->id = q_col_int(st, 0);
	copy(c->tenant, sizeof(c->tenant), q_col_text(st, 1));
	copy(c->gateway, sizeof(c->gateway), q_col_text(st, 2));
	c->ticket = q_col_int(st, 3);
	copy(c->kind, sizeof(c->kind), q_col_text(st, 4));
	copy(c->target, sizeof(c->target), q_col_text(st, 5));
	copy(c->state, sizeof(c->state), q_col_text(st, 6));
	copy(c->result, sizeof(c->result), q_col_text(st, 7));
	copy(c->actor, sizeof(c->actor), q_col_text(st, 8));
	c->created = (om_usec)q_col_int(st, 9);
	c->delivered = (om_usec)q_col_int(st, 10);
	c->done = (om_usec)q_col_int(st, 11);
}

int om_store_command_add(om_store *s, const om_store_command *c, int64_t *ret_id)
{
	q_stmt *st;
	int r;

	if (!s || !c || !text_ok(c->tenant, 63, false) || !text_ok(c->gateway, 63, false) ||
	    !text_ok(c->kind, 15, false) || !text_ok(c->target, 255, false) ||
	    !text_ok(c->actor, 63, true) || c->created > (om_usec)INT64_MAX)
		return -EINVAL;
	r = om_store_flush(s);
	if (r < 0)
		return r;
	/* a gateway that never polls must not collect commands without end */
	r = q_prep(s, "SELECT COUNT(*) FROM desk_command WHERE gateway = ? AND done = 0", &st);
	if (r < 0)
		return r;
	q_text(st, 1, c->gateway);
	r = q_step(st);
	int64_t pending = r == 1 ? q_col_int(st, 0) : 0;
	q_done(st);
	if (r < 0)
		return r;
	if (pending >= OM_DESK_COMMANDS_PENDING_MAX)
		return -ENOSPC;
	r = q_prep(s,
	           "INSERT INTO desk_command (tenant, gateway, ticket, kind, target, state, result,"
	           " actor, created, delivered, done)"
	           " VALUES (?, ?, ?, ?, ?, 'pending', '', ?, ?, 0, 0) RETURNING id",
	           &st);
	if (r < 0)
		return r;
	q_text(st, 1, c->tenant);
	q_text(st, 2, c->gateway);
	q_int(st, 3, c->ticket);
	q_text(st, 4, c->kind);
	q_text(st, 5, c->target);
	q_text(st, 6, c->actor);
	q_int(st, 7, (int64_t)c->created);
	r = q_step(st);
	int64_t id = r == 1 ? q_col_int(st, 0) : 0;
	q_done(st);
	if (r != 1)
		return r < 0 ? r : -EIO;
	if (ret_id)
		*ret_id = id;
	return 0;
}

int om_store_command_poll(om_store *s, const char *gateway, om_usec now, om_store_command *out,
                          size_t max, size_t *ret_n)
{
	q_stmt *st;
	size_t n = 0;
	int r;

	if (!s || !text_ok(gateway, 63, false) || !ret_n)
		return -EINVAL;
	r = om_store_flush(s);
	if (r < 0)
		return r;
	r = q_prep(s,
	           "SELECT " COMMAND_COLS " FROM desk_command WHERE gateway = ? AND done = 0"
	           " ORDER BY id LIMIT ?",
	           &st);
	if (r < 0)
		return r;
	q_text(st, 1, gateway);
	q_int(st, 2, (int64_t)max);
	while (n < max && (r = q_step(st)) == 1)
		command_row(st, &out[n++]);
	q_done(st);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		if (out[i].delivered)
			continue;
		r = q_prep(s,
		           "UPDATE desk_command SET state = 'sent', delivered = ? WHERE id = ?"
		           " AND delivered = 0",
		           &st);
		if (r < 0)
			return r;
		q_int(st, 1, (int64_t)now);
		q_int(st, 2, out[i].id);
		r = q_run(st);
		if (r < 0)
			return r;
		out[i].delivered = now;
		copy(out[i].state, sizeof(out[i].state), "sent");
	}
	*ret_n = n;
	return 0;
}

int om_store_command_get(om_store *s, int64_t id, om_store_command *ret)
{
	q_stmt *st;
	int r = q_prep(s, "SELECT " COMMAND_COLS " FROM desk_command WHERE id = ?", &st);

	if (r < 0)
		return r;
	q_int(st, 1, id);
	r = q_step(st);
	if (r == 1)
		command_row(st, ret);
	q_done(st);
	return r == 1 ? 0 : r < 0 ? r : -ENOENT;
}

int om_store_command_finish(om_store *s, const char *gateway, int64_t id, bool ok,
                            const char *result, om_usec now, om_store_command *ret)
{
	om_store_command c;
	q_stmt *st;
	int r;

	if (!s || !text_ok(gateway, 63, false) || !text_ok(result, 255, true))
		return -EINVAL;
	r = om_store_command_get(s, id, &c);
	if (r < 0)
		return r;
	/* another gateway's command is "not found": ids are not secrets, but a
	 * gateway learns nothing about other companies from them */
	if (strcmp(c.gateway, gateway) != 0)
		return -ENOENT;
	if (c.done) {
		if (ret)
			*ret = c;
		return 1; /* confirmed already: the same answer again */
	}
	r = om_store_flush(s);
	if (r < 0)
		return r;
	r = q_prep(s,
	           "UPDATE desk_command SET state = ?, result = ?, done = ?,"
	           " delivered = CASE WHEN delivered = 0 THEN ? ELSE delivered END"
	           " WHERE id = ? AND done = 0",
	           &st);
	if (r < 0)
		return r;
	q_text(st, 1, ok ? "done" : "failed");
	q_text(st, 2, result);
	q_int(st, 3, (int64_t)now);
	q_int(st, 4, (int64_t)now);
	q_int(st, 5, id);
	r = q_run(st);
	if (r < 0)
		return r;
	r = om_store_command_get(s, id, &c);
	if (r < 0)
		return r;
	if (ret)
		*ret = c;
	return 0;
}

int om_store_commands_of_ticket(om_store *s, int64_t ticket, om_store_command *out, size_t max,
                                size_t *ret_n)
{
	q_stmt *st;
	size_t n = 0;
	int r = q_prep(s,
	               "SELECT " COMMAND_COLS " FROM desk_command WHERE ticket = ?"
	               " ORDER BY id LIMIT ?",
	               &st);

	if (r < 0)
		return r;
	q_int(st, 1, ticket);
	q_int(st, 2, (int64_t)max);
	while (n < max && (r = q_step(st)) == 1)
		command_row(st, &out[n++]);
	q_done(st);
	if (r < 0)
		return r;
	*ret_n = n;
	return 0;
}

/* ---- statistics ---- */

int om_store_desk_stats(om_store *s, const char *tenant, om_usec from, om_usec to,
                        om_store_desk_stats_row *ret)
{
	q_stmt *st;
	om_store_desk_stats_row d;
	int r;

	if (!s || !ret || from > (om_usec)INT64_MAX || to > (om_usec)INT64_MAX)
		return -EINVAL;
	memset(&d, 0, sizeof(d));
	r = q_prep(s,
	           "SELECT kind, COUNT(*) FROM desk_ticket WHERE (? = '' OR tenant = ?)"
	           " AND opened >= ? AND opened < ? GROUP BY kind ORDER BY kind",
	           &st);
	if (r < 0)
		return r;
	q_text(st, 1, tenant);
	q_text(st, 2, tenant);
	q_int(st, 3, (int64_t)from);
	q_int(st, 4, (int64_t)to);
	while ((r = q_step(st)) == 1) {
		uint64_t c = (uint64_t)q_col_int(st, 1);
		d.opened += c;
		if (d.nkinds < OM_ARRAY_SIZE(d.kinds)) {
			copy(d.kinds[d.nkinds].kind, sizeof(d.kinds[0].kind), q_col_text(st, 0));
			d.kinds[d.nkinds++].n = c;
		}
	}
	q_done(st);
	if (r < 0)
		return r;
	/* the answer and close times of the tickets opened in the range, as
	 * sums of seconds (the mean) */
	r = q_prep(s,
	           "SELECT"
	           " SUM(CASE WHEN first_answer > 0 THEN 1 ELSE 0 END),"
	           " SUM(CASE WHEN first_answer > 0 THEN (first_answer - opened) / 1000000"
	           "  ELSE 0 END),"
	           " SUM(CASE WHEN closed > 0 THEN 1 ELSE 0 END),"
	           " SUM(CASE WHEN closed > 0 THEN (closed - opened) / 1000000 ELSE 0 END)"
	           " FROM desk_ticket WHERE (? = '' OR tenant = ?) AND opened >= ? AND opened < ?",
	           &st);
	if (r < 0)
		return r;
	q_text(st, 1, tenant);
	q_text(st, 2, tenant);
	q_int(st, 3, (int64_t)from);
	q_int(st, 4, (int64_t)to);
	r = q_step(st);
	if (r == 1) {
		d.answered = (uint64_t)q_col_int(st, 0);
		d.answer_seconds = (uint64_t)q_col_int(st, 1);
		d.closed = (uint64_t)q_col_int(st, 2);
		d.close_seconds = (uint64_t)q_col_int(st, 3);
	}
	q_done(st);
	if (r < 0)
		return r;
	*ret = d;
	return 0;
}

/* ---- notifications: the company's contact and the outbox ---- */

int om_store_desk_contact_set(om_store *s, const om_store_desk_contact *c)
{
	q_stmt *st;
	int r;

	if (!s || !c || !text_ok(c->tenant, 63, false) || !text_ok(c->lang, 7, false) ||
	    !text_ok(c->mail, 255, true) || !text_ok(c->webhook, 511, true))
		return -EINVAL;
	r = om_store_flush(s);
	if (r < 0)
		return r;
	r = q_prep(s,
	           "INSERT INTO desk_contact (tenant, lang, mail, webhook) VALUES (?, ?, ?, ?)"
	           " ON CONFLICT (tenant) DO UPDATE SET lang = excluded.lang,"
	           " mail = excluded.mail, webhook = excluded.webhook",
	           &st);
	if (r < 0)
		return r;
	q_text(st, 1, c->tenant);
	q_text(st, 2, c->lang);
	q_text(st, 3, c->mail);
	q_text(st, 4, c->webhook);
	return q_run(st);
}

int om_store_desk_contact_get(om_store *s, const char *tenant, om_store_desk_contact *ret)
{
	q_stmt *st;
	int r =
	    q_prep(s, "SELECT tenant, lang, mail, webhook FROM desk_contact WHERE tenant = ?", &st);

	if (r < 0)
		return r;
	q_text(st, 1, tenant);
	r = q_step(st);
	if (r == 1) {
		memset(ret, 0, sizeof(*ret));
		copy(ret->tenant, sizeof(ret->tenant), q_col_text(st, 0));
		copy(ret->lang, sizeof(ret->lang), q_col_text(st, 1));
		copy(ret->mail, sizeof(ret->mail), q_col_text(st, 2));
		copy(ret->webhook, sizeof(ret->webhook), q_col_text(st, 3));
	}
	q_done(st);
	return r == 1 ? 0 : r < 0 ? r : -ENOENT;
}

int om_store_desk_contact_by_mail(om_store *s, const char *mail, char *ret_tenant, size_t n)
{
	q_stmt *st;
	int r;

	if (!s || !text_ok(mail, 255, false))
		return -EINVAL;
	r = q_prep(s,
	           "SELECT tenant FROM desk_contact WHERE LOWER(mail) = LOWER(?) ORDER BY tenant"
	           " LIMIT 1",
	           &st);
	if (r < 0)
		return r;
	q_text(st, 1, mail);
	r = q_step(st);
	if (r == 1)
		copy(ret_tenant, n, q_col_text(st, 0));
	q_done(st);
	return r == 1 ? 0 : r < 0 ? r : -ENOENT;
}

int om_store_desk_outbox_add(om_store *s, const om_store_desk_message *m)
{
	q_stmt *st;
	int r;

	if (!s || !m || !text_ok(m->tenant, 63, false) || !text_ok(m->channel, 15, false) ||
	    !text_ok(m->dest, 511, false) || !text_ok(m->subject, 255, false) ||
	    !text_ok(m->body, OM_DESK_TEXT_MAX, true))
		return -EINVAL;
	r = om_store_flush(s);
	if (r < 0)
		return r;
	r = q_prep(s,
	           "INSERT INTO desk_outbox (tenant, ticket, channel, dest, subject, body, created,"
	           " sent, tries, error) VALUES (?, ?, ?, ?, ?, ?, ?, 0, 0, '')",
	           &st);
	if (r < 0)
		return r;
	q_text(st, 1, m->tenant);
	q_int(st, 2, m->ticket);
	q_text(st, 3, m->channel);
	q_text(st, 4, m->dest);
	q_text(st, 5, m->subject);
	q_text(st, 6, m->body);
	q_int(st, 7, (int64_t)m->created);
	return q_run(st);
}

int om_store_desk_outbox_pending(om_store *s, unsigned max_tries, om_store_desk_message *out,
                                 size_t max, size_t *ret_n)
{
	q_stmt *st;
	size_t n = 0;
	int r = q_prep(s,
	               "SELECT id, tenant, ticket, channel, dest, subject, body, created, sent,"
	               " tries, error FROM desk_outbox WHERE sent = 0 AND tries < ?"
	               " ORDER BY id LIMIT ?",
	               &st);

	if (r < 0)
		return r;
	q_int(st, 1, max_tries);
	q_int(st, 2, (int64_t)max);
	while (n < max && (r = q_step(st)) == 1) {
		om_store_desk_message *m = &out[n++];
		memset(m, 0, sizeof(*m));
		m->id = q_col_int(st, 0);
		copy(m->tenant, sizeof(m->tenant), q_col_text(st, 1));
		m->ticket = q_col_int(st, 2);
		copy(m->channel, sizeof(m->channel), q_col_text(st, 3));
		copy(m->dest, sizeof(m->dest), q_col_text(st, 4));
		copy(m->subject, sizeof(m->subject), q_col_text(st, 5));
		copy(m->body, sizeof(m->body), q_col_text(st, 6));
		m->created = (om_usec)q_col_int(st, 7);
		m->sent = (om_usec)q_col_int(st, 8);
		m->tries = (unsigned)q_col_int(st, 9);
		copy(m->error, sizeof(m->error), q_col_text(st, 10));
	}
	q_done(st);
	if (r < 0)
		return r;
	*ret_n = n;
	return 0;
}

int om_store_desk_outbox_done(om_store *s, int64_t id, om_usec sent, const char *error)
{
	q_stmt *st;
	int r = om_store_flush(s);

	if (r < 0)
		return r;
	r = q_prep(s, "UPDATE desk_outbox SET sent = ?, tries = tries + 1, error = ? WHERE id = ?",
	           &st);
	if (r < 0)
		return r;
	q_int(st, 1, (int64_t)sent);
	char e[256];
	copy(e, sizeof(e), error);
	q_text(st, 2, e);
	q_int(st, 3, id);
	return q_run(st);
}
