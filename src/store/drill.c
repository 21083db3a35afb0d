/* store: the tables of the mail drills (targets, groups, exclusions). The
 * schema is a list of idempotent statements run by om_store_open (not the
 * numbered migrations of store.c), in SQL that SQLite and PostgreSQL both
 * take: plain types, text keys, '?' placeholders (docs/store.md).
 * drill_schema holds the version of these tables for later upgrades. An
 * exclusion "@domain" matches a mail that ends with it (substr and length:
 * SQLite's instr has no PostgreSQL twin). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "store/internal.h"
#include "store/store.h"

#define DRILL_SCHEMA_VERSION 2

static const char *const drill_schema[] = {
    "CREATE TABLE IF NOT EXISTS drill_schema (version INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS drill_target ("
    " mail TEXT PRIMARY KEY,"
    " name TEXT NOT NULL,"
    " organisation TEXT NOT NULL,"
    " department TEXT NOT NULL,"
    " role TEXT NOT NULL,"
    " custom TEXT NOT NULL,"
    " updated INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS drill_group_member ("
    " group_name TEXT NOT NULL,"
    " mail TEXT NOT NULL,"
    " PRIMARY KEY (group_name, mail))",
    "CREATE TABLE IF NOT EXISTS drill_exclusion ("
    " pattern TEXT PRIMARY KEY,"
    " reason TEXT NOT NULL)",
    /* version 2: rounds, recipients and their tracking events */
    "CREATE TABLE IF NOT EXISTS drill_round ("
    " id TEXT PRIMARY KEY, tenant TEXT NOT NULL, template_name TEXT NOT NULL,"
    " lang TEXT NOT NULL, charset TEXT NOT NULL, group_name TEXT NOT NULL,"
    " from_addr TEXT NOT NULL, from_name TEXT NOT NULL, base_url TEXT NOT NULL,"
    " tz TEXT NOT NULL, days INTEGER NOT NULL, hour_start INTEGER NOT NULL,"
    " hour_end INTEGER NOT NULL, start_at BIGINT NOT NULL, spread BIGINT NOT NULL,"
    " rate INTEGER NOT NULL, created BIGINT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS drill_recipient ("
    " token TEXT PRIMARY KEY, round_id TEXT NOT NULL, mail TEXT NOT NULL,"
    " name TEXT NOT NULL, organisation TEXT NOT NULL, department TEXT NOT NULL,"
    " role TEXT NOT NULL, custom TEXT NOT NULL, state INTEGER NOT NULL,"
    " attempts INTEGER NOT NULL, due BIGINT NOT NULL, sent_at BIGINT NOT NULL,"
    " detail TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS drill_recipient_round ON drill_recipient (round_id, state, due)",
    "CREATE INDEX IF NOT EXISTS drill_recipient_mail ON drill_recipient (mail, sent_at)",
    "CREATE TABLE IF NOT EXISTS drill_event ("
    " round_id TEXT NOT NULL, token TEXT NOT NULL, kind TEXT NOT NULL,"
    " at BIGINT NOT NULL, ip TEXT NOT NULL, ua TEXT NOT NULL, source TEXT NOT NULL,"
    " flags INTEGER NOT NULL)",
    "CREATE INDEX IF NOT EXISTS drill_event_round ON drill_event (round_id, token, at)",
};

static void set_err(char *err, size_t errlen, const char *what, om_db *db)
{
	if (err && errlen)
		snprintf(err, errlen, "%s: %s", what, om_db_errmsg(db));
}

static int exec1(om_db *db, const char *sql, char *err, size_t errlen)
{
	int rc = om_db_exec_schema(db, sql, NULL, 0);
	if (rc != 0) {
		if (err && errlen)
			snprintf(err, errlen, "drill schema: %s", om_db_errmsg(db));
		return -EIO;
	}
	return 0;
}

int om_store_drill_schema(om_store *s, char *err, size_t errlen)
{
	om_db *db = store_dbh(s);
	for (size_t i = 0; i < OM_ARRAY_SIZE(drill_schema); i++) {
		int r = exec1(db, drill_schema[i], err, errlen);
		if (r < 0)
			return r;
	}
	om_db_stmt *st = NULL;
	if (om_db_prepare(db, "SELECT count(*) FROM drill_schema", &st) != 0) {
		set_err(err, errlen, "drill schema", db);
		return -EIO;
	}
	int n = om_db_step(st) == 1 ? om_db_column_int64(st, 0) : -1;
	om_db_finalize(st);
	if (n < 0) {
		set_err(err, errlen, "drill schema", db);
		return -EIO;
	}
	if (n == 0) {
		char sql[96];
		snprintf(sql, sizeof(sql), "INSERT INTO drill_schema (version) VALUES (%d)",
		         DRILL_SCHEMA_VERSION);
		return exec1(db, sql, err, errlen);
	}
	char sql[96];
	snprintf(sql, sizeof(sql), "UPDATE drill_schema SET version = %d WHERE version < %d",
	         DRILL_SCHEMA_VERSION, DRILL_SCHEMA_VERSION);
	return exec1(db, sql, err, errlen);
}

static int bind_str(om_db_stmt *st, int idx, const char *v)
{
	return om_db_bind_text(st, idx, v ? v : "") == 0 ? 0 : -EIO;
}

int om_store_drill_import(om_store *s, const om_store_drill_target *t, size_t n, const char *group,
                          char *err, size_t errlen)
{
	om_db *db = store_dbh(s);
	om_db_stmt *ins = NULL, *mem = NULL;
	int r = om_store_flush(s);
	if (r < 0) {
		if (err && errlen)
			snprintf(err, errlen, "drill import: %s", strerror(-r));
		return r;
	}
	r = om_db_begin(db);
	if (r < 0)
		return r;
	r = -EIO;
	if (om_db_prepare(db,
	                  "INSERT INTO drill_target (mail, name, organisation, department, role,"
	                  " custom, updated) VALUES (?, ?, ?, ?, ?, ?, ?)"
	                  " ON CONFLICT (mail) DO UPDATE SET name = excluded.name,"
	                  " organisation = excluded.organisation,"
	                  " department = excluded.department, role = excluded.role,"
	                  " custom = excluded.custom, updated = excluded.updated",
	                  &ins) != 0 ||
	    om_db_prepare(db,
	                  "INSERT INTO drill_group_member (group_name, mail) VALUES (?, ?)"
	                  " ON CONFLICT (group_name, mail) DO NOTHING",
	                  &mem) != 0) {
		set_err(err, errlen, "drill import", db);
		goto fail;
	}
	int64_t now = (int64_t)(om_time_now() / 1000000);
	for (size_t i = 0; i < n; i++) {
		om_db_reset(ins);
		if (bind_str(ins, 1, t[i].mail) || bind_str(ins, 2, t[i].name) ||
		    bind_str(ins, 3, t[i].organisation) || bind_str(ins, 4, t[i].department) ||
		    bind_str(ins, 5, t[i].role) ||
		    bind_str(ins, 6,
		             t[i].custom_json && *t[i].custom_json ? t[i].custom_json : "{}") ||
		    om_db_bind_int64(ins, 7, now) != 0 || om_db_step(ins) != 0) {
			set_err(err, errlen, "drill import", db);
			goto fail;
		}
		const char *groups[2] = {group, t[i].group};
		for (int g = 0; g < 2; g++) {
			if (!groups[g] || !*groups[g])
				continue;
			om_db_reset(mem);
			if (bind_str(mem, 1, groups[g]) || bind_str(mem, 2, t[i].mail) ||
			    om_db_step(mem) != 0) {
				set_err(err, errlen, "drill import", db);
				goto fail;
			}
		}
	}
	om_db_finalize(ins);
	om_db_finalize(mem);
	return exec1(db, "COMMIT", err, errlen);
fail:
	om_db_finalize(ins);
	om_db_finalize(mem);
	exec1(db, "ROLLBACK", NULL, 0);
	return r;
}

static const char *col(om_db_stmt *st, int i)
{
	const char *v = om_db_column_text(st, i);
	return v ? (const char *)v : "";
}

int om_store_drill_targets(om_store *s, const char *group, om_store_drill_target_cb cb, void *user)
{
	om_db *db = store_dbh(s);
	om_db_stmt *st = NULL;
	const char *sql =
	    group ? "SELECT t.mail, t.name, t.organisation, t.department, t.role, t.custom,"
	            " (SELECT count(*) FROM drill_exclusion e WHERE e.pattern = t.mail"
	            "  OR (substr(e.pattern, 1, 1) = '@' AND substr(t.mail,"
	            "  length(t.mail) - length(e.pattern) + 1) = e.pattern))"
	            " FROM drill_target t JOIN drill_group_member g ON g.mail = t.mail"
	            " WHERE g.group_name = ? ORDER BY t.organisation, t.department, t.mail"
	          : "SELECT t.mail, t.name, t.organisation, t.department, t.role, t.custom,"
	            " (SELECT count(*) FROM drill_exclusion e WHERE e.pattern = t.mail"
	            "  OR (substr(e.pattern, 1, 1) = '@' AND substr(t.mail,"
	            "  length(t.mail) - length(e.pattern) + 1) = e.pattern))"
	            " FROM drill_target t ORDER BY t.organisation, t.department, t.mail";
	if (om_db_prepare(db, sql, &st) != 0)
		return -EIO;
	if (group && bind_str(st, 1, group)) {
		om_db_finalize(st);
		return -EIO;
	}
	int rc, r = 0;
	while ((rc = om_db_step(st)) == 1) {
		om_store_drill_target t = {
		    .mail = col(st, 0),
		    .name = col(st, 1),
		    .organisation = col(st, 2),
		    .department = col(st, 3),
		    .role = col(st, 4),
		    .custom_json = col(st, 5),
		    .excluded = om_db_column_int64(st, 6) > 0,
		};
		r = cb(user, &t);
		if (r != 0)
			break;
	}
	if (r == 0 && rc != 0)
		r = -EIO;
	om_db_finalize(st);
	return r < 0 ? r : 0;
}

int om_store_drill_exclude(om_store *s, const char *pattern, const char *reason, bool remove)
{
	om_db *db = store_dbh(s);
	om_db_stmt *st = NULL;
	int r = om_store_flush(s);
	if (r < 0)
		return r;
	const char *sql = remove ? "DELETE FROM drill_exclusion WHERE pattern = ?"
	                         : "INSERT INTO drill_exclusion (pattern, reason) VALUES (?, ?)"
	                           " ON CONFLICT (pattern) DO UPDATE SET reason = excluded.reason";
	if (om_db_prepare(db, sql, &st) != 0)
		return -EIO;
	r = bind_str(st, 1, pattern);
	if (!r && !remove)
		r = bind_str(st, 2, reason);
	if (!r && om_db_step(st) != 0)
		r = -EIO;
	if (!r && remove && om_db_changes(db) == 0)
		r = -ENOENT;
	om_db_finalize(st);
	return r;
}

int om_store_drill_exclusions(om_store *s, om_store_drill_exclusion_cb cb, void *user)
{
	om_db *db = store_dbh(s);
	om_db_stmt *st = NULL;
	if (om_db_prepare(db, "SELECT pattern, reason FROM drill_exclusion ORDER BY pattern",
	                  &st) != 0)
		return -EIO;
	int rc, r = 0;
	while ((rc = om_db_step(st)) == 1) {
		r = cb(user, col(st, 0), col(st, 1));
		if (r != 0)
			break;
	}
	if (r == 0 && rc != 0)
		r = -EIO;
	om_db_finalize(st);
	return r < 0 ? r : 0;
}

/* ---- rounds, recipients, events ---- */

static int bind_i64(om_db_stmt *st, int idx, int64_t v)
{
	return om_db_bind_int64(st, idx, v) == 0 ? 0 : -EIO;
}

static void copy_col(char *dst, size_t n, om_db_stmt *st, int i)
{
	snprintf(dst, n, "%s", col(st, i));
}

int om_store_drill_round_add(om_store *s, const om_store_drill_round *r,
                             const om_store_drill_recipient *rc, size_t n, char *err, size_t errlen)
{
	om_db *db = store_dbh(s);
	om_db_stmt *ins = NULL, *rst = NULL;
	int r0 = om_store_flush(s);
	if (r0 < 0)
		return r0;
	om_store_drill_round old;
	if (om_store_drill_round_get(s, r->id, &old) == 0)
		return -EEXIST;
	r0 = om_db_begin(db);
	if (r0 < 0)
		return r0;
	if (om_db_prepare(db,
	                  "INSERT INTO drill_round (id, tenant, template_name, lang, charset,"
	                  " group_name, from_addr, from_name, base_url, tz, days, hour_start,"
	                  " hour_end, start_at, spread, rate, created)"
	                  " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	                  &rst) != 0 ||
	    om_db_prepare(db,
	                  "INSERT INTO drill_recipient (token, round_id, mail, name,"
	                  " organisation, department, role, custom, state, attempts, due,"
	                  " sent_at, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	                  &ins) != 0)
		goto fail;
	if (bind_str(rst, 1, r->id) || bind_str(rst, 2, r->tenant) ||
	    bind_str(rst, 3, r->template_name) || bind_str(rst, 4, r->lang) ||
	    bind_str(rst, 5, r->charset) || bind_str(rst, 6, r->group_name) ||
	    bind_str(rst, 7, r->from_addr) || bind_str(rst, 8, r->from_name) ||
	    bind_str(rst, 9, r->base_url) || bind_str(rst, 10, r->tz) ||
	    bind_i64(rst, 11, r->days) || bind_i64(rst, 12, r->hour_start) ||
	    bind_i64(rst, 13, r->hour_end) || bind_i64(rst, 14, r->start_at) ||
	    bind_i64(rst, 15, r->spread) || bind_i64(rst, 16, r->rate) ||
	    bind_i64(rst, 17, r->created) || om_db_step(rst) != 0)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		const om_store_drill_recipient *p = &rc[i];
		om_db_reset(ins);
		if (bind_str(ins, 1, p->token) || bind_str(ins, 2, r->id) ||
		    bind_str(ins, 3, p->mail) || bind_str(ins, 4, p->name) ||
		    bind_str(ins, 5, p->organisation) || bind_str(ins, 6, p->department) ||
		    bind_str(ins, 7, p->role) ||
		    bind_str(ins, 8, p->custom_json && *p->custom_json ? p->custom_json : "{}") ||
		    bind_i64(ins, 9, p->state) || bind_i64(ins, 10, p->attempts) ||
		    bind_i64(ins, 11, p->due) || bind_i64(ins, 12, p->sent_at) ||
		    bind_str(ins, 13, p->detail) || om_db_step(ins) != 0)
			goto fail;
	}
	om_db_finalize(ins);
	om_db_finalize(rst);
	return exec1(db, "COMMIT", err, errlen);
fail:
	set_err(err, errlen, "drill round", db);
	om_db_finalize(ins);
	om_db_finalize(rst);
	exec1(db, "ROLLBACK", NULL, 0);
	return -EIO;
}

#define ROUND_COLS                                                                                 \
	"id, tenant, template_name, lang, charset, group_name, from_addr, from_name, base_url,"    \
	" tz, days, hour_start, hour_end, start_at, spread, rate, created"

static void round_row(om_db_stmt *st, om_store_drill_round *r)
{
	memset(r, 0, sizeof(*r));
	copy_col(r->id, sizeof(r->id), st, 0);
	copy_col(r->tenant, sizeof(r->tenant), st, 1);
	copy_col(r->template_name, sizeof(r->template_name), st, 2);
	copy_col(r->lang, sizeof(r->lang), st, 3);
	copy_col(r->charset, sizeof(r->charset), st, 4);
	copy_col(r->group_name, sizeof(r->group_name), st, 5);
	copy_col(r->from_addr, sizeof(r->from_addr), st, 6);
	copy_col(r->from_name, sizeof(r->from_name), st, 7);
	copy_col(r->base_url, sizeof(r->base_url), st, 8);
	copy_col(r->tz, sizeof(r->tz), st, 9);
	r->days = (unsigned)om_db_column_int64(st, 10);
	r->hour_start = (unsigned)om_db_column_int64(st, 11);
	r->hour_end = (unsigned)om_db_column_int64(st, 12);
	r->start_at = om_db_column_int64(st, 13);
	r->spread = om_db_column_int64(st, 14);
	r->rate = (unsigned)om_db_column_int64(st, 15);
	r->created = om_db_column_int64(st, 16);
}

int om_store_drill_round_get(om_store *s, const char *id, om_store_drill_round *ret)
{
	om_db *db = store_dbh(s);
	om_db_stmt *st = NULL;
	if (om_db_prepare(db, "SELECT " ROUND_COLS " FROM drill_round WHERE id = ?", &st) != 0)
		return -EIO;
	int r = bind_str(st, 1, id);
	if (!r) {
		int rc = om_db_step(st);
		if (rc == 1)
			round_row(st, ret);
		else
			r = rc == 0 ? -ENOENT : -EIO;
	}
	om_db_finalize(st);
	return r;
}

int om_store_drill_rounds(om_store *s, om_store_drill_round_cb cb, void *user)
{
	om_db *db = store_dbh(s);
	om_db_stmt *st = NULL;
	if (om_db_prepare(db, "SELECT " ROUND_COLS " FROM drill_round ORDER BY created, id", &st) !=
	    0)
		return -EIO;
	int rc, r = 0;
	while ((rc = om_db_step(st)) == 1) {
		om_store_drill_round rd;
		round_row(st, &rd);
		r = cb(user, &rd);
		if (r != 0)
			break;
	}
	if (r == 0 && rc != 0)
		r = -EIO;
	om_db_finalize(st);
	return r < 0 ? r : 0;
}

int om_store_drill_recipients(om_store *s, const char *round, int64_t due_before, size_t max,
                              om_store_drill_recipient_cb cb, void *user)
{
	om_db *db = store_dbh(s);
	om_db_stmt *st = NULL;
	const char *sql =
	    due_before > 0
	        ? "SELECT token, mail, name, organisation, department, role, custom, state,"
	          " attempts, due, sent_at, detail FROM drill_recipient WHERE round_id = ?"
	          " AND state IN (0, 1) AND due <= ? ORDER BY due, token LIMIT ?"
	        : "SELECT token, mail, name, organisation, department, role, custom, state,"
	          " attempts, due, sent_at, detail FROM drill_recipient WHERE round_id = ?"
	          " AND ? = 0 ORDER BY organisation, department, mail LIMIT ?";
	if (om_db_prepare(db, sql, &st) != 0)
		return -EIO;
	if (bind_str(st, 1, round) || bind_i64(st, 2, due_before > 0 ? due_before : 0) ||
	    bind_i64(st, 3, max ? (int64_t)max : INT64_MAX)) {
		om_db_finalize(st);
		return -EIO;
	}
	int rc, r = 0;
	while ((rc = om_db_step(st)) == 1) {
		om_store_drill_recipient p = {
		    .token = col(st, 0),
		    .mail = col(st, 1),
		    .name = col(st, 2),
		    .organisation = col(st, 3),
		    .department = col(st, 4),
		    .role = col(st, 5),
		    .custom_json = col(st, 6),
		    .state = om_db_column_int64(st, 7),
		    .attempts = (unsigned)om_db_column_int64(st, 8),
		    .due = om_db_column_int64(st, 9),
		    .sent_at = om_db_column_int64(st, 10),
		    .detail = col(st, 11),
		};
		r = cb(user, &p);
		if (r != 0)
			break;
	}
	if (r == 0 && rc != 0)
		r = -EIO;
	om_db_finalize(st);
	return r < 0 ? r : 0;
}

int om_store_drill_recipient_update(om_store *s, const char *token, int state, unsigned attempts,
                                    int64_t due, int64_t sent_at, const char *detail)
{
	om_db *db = store_dbh(s);
	om_db_stmt *st = NULL;
	int r = om_store_flush(s);
	if (r < 0)
		return r;
	if (om_db_prepare(db,
	                  "UPDATE drill_recipient SET state = ?, attempts = ?, due = ?,"
	                  " sent_at = ?, detail = ? WHERE token = ?",
	                  &st) != 0)
		return -EIO;
	r = bind_i64(st, 1, state) || bind_i64(st, 2, attempts) || bind_i64(st, 3, due) ||
	            bind_i64(st, 4, sent_at) || bind_str(st, 5, detail) || bind_str(st, 6, token) ||
	            om_db_step(st) != 0
	        ? -EIO
	        : 0;
	if (!r && om_db_changes(db) == 0)
		r = -ENOENT;
	om_db_finalize(st);
	return r;
}

int om_store_drill_token(om_store *s, const char *token, om_store_drill_token_info *ret)
{
	om_db *db = store_dbh(s);
	om_db_stmt *st = NULL;
	if (om_db_prepare(db,
	                  "SELECT p.round_id, p.organisation, r.lang, p.sent_at, p.state"
	                  " FROM drill_recipient p JOIN drill_round r ON r.id = p.round_id"
	                  " WHERE p.token = ?",
	                  &st) != 0)
		return -EIO;
	int r = bind_str(st, 1, token);
	if (!r) {
		int rc = om_db_step(st);
		if (rc == 1) {
			copy_col(ret->round, sizeof(ret->round), st, 0);
			copy_col(ret->organisation, sizeof(ret->organisation), st, 1);
			copy_col(ret->lang, sizeof(ret->lang), st, 2);
			ret->sent_at = om_db_column_int64(st, 3);
			ret->state = om_db_column_int64(st, 4);
		} else {
			r = rc == 0 ? -ENOENT : -EIO;
		}
	}
	om_db_finalize(st);
	return r;
}

int om_store_drill_token_by_mail(om_store *s, const char *mail, char *ret_token)
{
	om_db *db = store_dbh(s);
	om_db_stmt *st = NULL;
	if (om_db_prepare(db,
	                  "SELECT token FROM drill_recipient WHERE mail = ? AND sent_at > 0"
	                  " ORDER BY sent_at DESC LIMIT 1",
	                  &st) != 0)
		return -EIO;
	int r = bind_str(st, 1, mail);
	if (!r) {
		int rc = om_db_step(st);
		if (rc == 1)
			copy_col(ret_token, 64, st, 0);
		else
			r = rc == 0 ? -ENOENT : -EIO;
	}
	om_db_finalize(st);
	return r;
}

int om_store_drill_bounce(om_store *s, const char *token, const char *detail)
{
	om_db *db = store_dbh(s);
	om_db_stmt *st = NULL;
	int r = om_store_flush(s);
	if (r < 0)
		return r;
	if (om_db_prepare(db, "UPDATE drill_recipient SET state = ?, detail = ? WHERE token = ?",
	                  &st) != 0)
		return -EIO;
	r = bind_i64(st, 1, OM_DRILL_BOUNCED) || bind_str(st, 2, detail) ||
	            bind_str(st, 3, token) || om_db_step(st) != 0
	        ? -EIO
	        : 0;
	if (!r && om_db_changes(db) == 0)
		r = -ENOENT;
	om_db_finalize(st);
	return r;
}

int om_store_drill_event_add(om_store *s, const om_store_drill_event *e)
{
	om_db *db = store_dbh(s);
	om_db_stmt *st = NULL;
	int r = om_store_flush(s);
	if (r < 0)
		return r;
	if (om_db_prepare(db,
	                  "INSERT INTO drill_event (round_id, token, kind, at, ip, ua, source,"
	                  " flags) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
	                  &st) != 0)
		return -EIO;
	r = bind_str(st, 1, e->round_id) || bind_str(st, 2, e->token) || bind_str(st, 3, e->kind) ||
	            bind_i64(st, 4, e->at) || bind_str(st, 5, e->ip) || bind_str(st, 6, e->ua) ||
	            bind_str(st, 7, e->source) || bind_i64(st, 8, e->flags) || om_db_step(st) != 0
	        ? -EIO
	        : 0;
	om_db_finalize(st);
	return r;
}

int om_store_drill_events(om_store *s, const char *round, om_store_drill_event_cb cb, void *user)
{
	om_db *db = store_dbh(s);
	om_db_stmt *st = NULL;
	if (om_db_prepare(db,
	                  "SELECT round_id, token, kind, at, ip, ua, source, flags FROM drill_event"
	                  " WHERE round_id = ? ORDER BY token, at",
	                  &st) != 0)
		return -EIO;
	if (bind_str(st, 1, round)) {
		om_db_finalize(st);
		return -EIO;
	}
	int rc, r = 0;
	while ((rc = om_db_step(st)) == 1) {
		om_store_drill_event e = {
		    .round_id = col(st, 0),
		    .token = col(st, 1),
		    .kind = col(st, 2),
		    .at = om_db_column_int64(st, 3),
		    .ip = col(st, 4),
		    .ua = col(st, 5),
		    .source = col(st, 6),
		    .flags = (unsigned)om_db_column_int64(st, 7),
		};
		r = cb(user, &e);
		if (r != 0)
			break;
	}
	if (r == 0 && rc != 0)
		r = -EIO;
	om_db_finalize(st);
	return r < 0 ? r : 0;
}
