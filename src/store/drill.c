/* store: the tables of the mail drills (targets, groups, exclusions). The
 * schema is a list of idempotent statements run by om_store_open (not the
 * numbered migrations of store.c), in SQL that SQLite and PostgreSQL both
 * take: plain types, text keys, '?' placeholders. drill_schema holds the
 * version of these tables for later upgrades. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

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

static void set_err(char *err, size_t errlen, const char *what, sqlite3 *db)
{
	if (err && errlen)
		snprintf(err, errlen, "%s: %s", what, sqlite3_errmsg(db));
}

static int exec1(sqlite3 *db, const char *sql, char *err, size_t errlen)
{
	char *msg = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK) {
		if (err && errlen)
			snprintf(err, errlen, "drill schema: %s", msg ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		return -EIO;
	}
	return 0;
}

int om_store_drill_schema(om_store *s, char *err, size_t errlen)
{
	sqlite3 *db = store_db(s);
	for (size_t i = 0; i < OM_ARRAY_SIZE(drill_schema); i++) {
		int r = exec1(db, drill_schema[i], err, errlen);
		if (r < 0)
			return r;
	}
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, "SELECT count(*) FROM drill_schema", -1, &st, NULL) !=
	    SQLITE_OK) {
		set_err(err, errlen, "drill schema", db);
		return -EIO;
	}
	int n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
	sqlite3_finalize(st);
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

static int bind_str(sqlite3_stmt *st, int idx, const char *v)
{
	return sqlite3_bind_text(st, idx, v ? v : "", -1, SQLITE_TRANSIENT) == SQLITE_OK ? 0 : -EIO;
}

int om_store_drill_import(om_store *s, const om_store_drill_target *t, size_t n, const char *group,
                          char *err, size_t errlen)
{
	sqlite3 *db = store_db(s);
	sqlite3_stmt *ins = NULL, *mem = NULL;
	int r = om_store_flush(s);
	if (r < 0) {
		if (err && errlen)
			snprintf(err, errlen, "drill import: %s", strerror(-r));
		return r;
	}
	r = exec1(db, "BEGIN IMMEDIATE", err, errlen);
	if (r < 0)
		return r;
	r = -EIO;
	if (sqlite3_prepare_v2(
	        db,
	        "INSERT INTO drill_target (mail, name, organisation, department, role,"
	        " custom, updated) VALUES (?, ?, ?, ?, ?, ?, ?)"
	        " ON CONFLICT (mail) DO UPDATE SET name = excluded.name,"
	        " organisation = excluded.organisation,"
	        " department = excluded.department, role = excluded.role,"
	        " custom = excluded.custom, updated = excluded.updated",
	        -1, &ins, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db,
	                       "INSERT INTO drill_group_member (group_name, mail) VALUES (?, ?)"
	                       " ON CONFLICT (group_name, mail) DO NOTHING",
	                       -1, &mem, NULL) != SQLITE_OK) {
		set_err(err, errlen, "drill import", db);
		goto fail;
	}
	int64_t now = (int64_t)(om_time_now() / 1000000);
	for (size_t i = 0; i < n; i++) {
		sqlite3_reset(ins);
		if (bind_str(ins, 1, t[i].mail) || bind_str(ins, 2, t[i].name) ||
		    bind_str(ins, 3, t[i].organisation) || bind_str(ins, 4, t[i].department) ||
		    bind_str(ins, 5, t[i].role) ||
		    bind_str(ins, 6,
		             t[i].custom_json && *t[i].custom_json ? t[i].custom_json : "{}") ||
		    sqlite3_bind_int64(ins, 7, now) != SQLITE_OK ||
		    sqlite3_step(ins) != SQLITE_DONE) {
			set_err(err, errlen, "drill import", db);
			goto fail;
		}
		const char *groups[2] = {group, t[i].group};
		for (int g = 0; g < 2; g++) {
			if (!groups[g] || !*groups[g])
				continue;
			sqlite3_reset(mem);
			if (bind_str(mem, 1, groups[g]) || bind_str(mem, 2, t[i].mail) ||
			    sqlite3_step(mem) != SQLITE_DONE) {
				set_err(err, errlen, "drill import", db);
				goto fail;
			}
		}
	}
	sqlite3_finalize(ins);
	sqlite3_finalize(mem);
	return exec1(db, "COMMIT", err, errlen);
fail:
	sqlite3_finalize(ins);
	sqlite3_finalize(mem);
	exec1(db, "ROLLBACK", NULL, 0);
	return r;
}

static const char *col(sqlite3_stmt *st, int i)
{
	const unsigned char *v = sqlite3_column_text(st, i);
	return v ? (const char *)v : "";
}

int om_store_drill_targets(om_store *s, const char *group, om_store_drill_target_cb cb, void *user)
{
	sqlite3 *db = store_db(s);
	sqlite3_stmt *st = NULL;
	const char *sql =
	    group ? "SELECT t.mail, t.name, t.organisation, t.department, t.role, t.custom,"
	            " (SELECT count(*) FROM drill_exclusion e WHERE e.pattern = t.mail"
	            "  OR e.pattern = substr(t.mail, instr(t.mail, '@')))"
	            " FROM drill_target t JOIN drill_group_member g ON g.mail = t.mail"
	            " WHERE g.group_name = ? ORDER BY t.organisation, t.department, t.mail"
	          : "SELECT t.mail, t.name, t.organisation, t.department, t.role, t.custom,"
	            " (SELECT count(*) FROM drill_exclusion e WHERE e.pattern = t.mail"
	            "  OR e.pattern = substr(t.mail, instr(t.mail, '@')))"
	            " FROM drill_target t ORDER BY t.organisation, t.department, t.mail";
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	if (group && bind_str(st, 1, group)) {
		sqlite3_finalize(st);
		return -EIO;
	}
	int rc, r = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		om_store_drill_target t = {
		    .mail = col(st, 0),
		    .name = col(st, 1),
		    .organisation = col(st, 2),
		    .department = col(st, 3),
		    .role = col(st, 4),
		    .custom_json = col(st, 5),
		    .excluded = sqlite3_column_int(st, 6) > 0,
		};
		r = cb(user, &t);
		if (r != 0)
			break;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = -EIO;
	sqlite3_finalize(st);
	return r < 0 ? r : 0;
}

int om_store_drill_exclude(om_store *s, const char *pattern, const char *reason, bool remove)
{
	sqlite3 *db = store_db(s);
	sqlite3_stmt *st = NULL;
	int r = om_store_flush(s);
	if (r < 0)
		return r;
	const char *sql = remove ? "DELETE FROM drill_exclusion WHERE pattern = ?"
	                         : "INSERT INTO drill_exclusion (pattern, reason) VALUES (?, ?)"
	                           " ON CONFLICT (pattern) DO UPDATE SET reason = excluded.reason";
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	r = bind_str(st, 1, pattern);
	if (!r && !remove)
		r = bind_str(st, 2, reason);
	if (!r && sqlite3_step(st) != SQLITE_DONE)
		r = -EIO;
	if (!r && remove && sqlite3_changes(db) == 0)
		r = -ENOENT;
	sqlite3_finalize(st);
	return r;
}

int om_store_drill_exclusions(om_store *s, om_store_drill_exclusion_cb cb, void *user)
{
	sqlite3 *db = store_db(s);
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, "SELECT pattern, reason FROM drill_exclusion ORDER BY pattern",
	                       -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	int rc, r = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		r = cb(user, col(st, 0), col(st, 1));
		if (r != 0)
			break;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = -EIO;
	sqlite3_finalize(st);
	return r < 0 ? r : 0;
}
