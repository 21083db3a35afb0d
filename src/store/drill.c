/* store: the tables of the mail drills (targets, groups, exclusions). The
 * schema is a list of idempotent statements run by om_store_open (not the
 * numbered migrations of store.c), in SQL that SQLite and PostgreSQL both
 * take: plain types, text keys, '?' placeholders (docs/store.md).
 * drill_schema holds the version of these tables for later upgrades. An
 * exclusion "@domain" matches a mail that ends with it (substr and length:
 * SQLite's instr has no PostgreSQL twin). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "store/internal.h"
#include "store/store.h"

#define DRILL_SCHEMA_VERSION 1

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
	return 0;
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
