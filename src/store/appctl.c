/* store: application use (the report's "application use" section). One row
 * per flow of an application group, from the EVE "appctl" events: the
 * internal host (the flow's client), the group, the application, bytes and
 * the flow's first and last packet. Keyed by tenant, gateway, flow id and
 * start, so that importing the same events again changes nothing. The
 * schema is idempotent, run by om_store_open, in SQL that SQLite and
 * PostgreSQL both take (plain types, '?' placeholders, CASE instead of
 * two-argument min/max). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "store/internal.h"
#include "store/store.h"

static const char *const appctl_schema[] = {
    "CREATE TABLE IF NOT EXISTS appctl_schema (version INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS appctl_flow ("
    " tenant TEXT NOT NULL,"
    " gateway TEXT NOT NULL,"
    " flow_id INTEGER NOT NULL,"
    " first_usec INTEGER NOT NULL,"
    " last_usec INTEGER NOT NULL,"
    " grp TEXT NOT NULL,"
    " app TEXT NOT NULL,"
    " host TEXT NOT NULL,"
    " bytes INTEGER NOT NULL,"
    " blocked INTEGER NOT NULL,"
    " PRIMARY KEY (tenant, gateway, flow_id, first_usec))",
    "CREATE INDEX IF NOT EXISTS appctl_flow_tenant_time ON appctl_flow (tenant, first_usec)",
};

int om_store_appctl_schema(om_store *s, char *err, size_t errlen)
{
	sqlite3 *db = store_db(s);
	for (size_t i = 0; i < OM_ARRAY_SIZE(appctl_schema); i++) {
		char *msg = NULL;
		int rc = sqlite3_exec(db, appctl_schema[i], NULL, NULL, &msg);
		if (rc != SQLITE_OK) {
			if (err && errlen)
				snprintf(err, errlen, "appctl schema: %s",
				         msg ? msg : sqlite3_errstr(rc));
			sqlite3_free(msg);
			return -EIO;
		}
	}
	return 0;
}

static bool text_ok(const char *s, size_t max)
{
	return s && *s && strlen(s) <= max;
}

int om_store_appctl_add(om_store *s, const om_store_appctl_flow *f)
{
	if (!s || !f || !text_ok(f->tenant, OM_STORE_TENANT_MAX) || !text_ok(f->gateway, 255) ||
	    !text_ok(f->group, 63) || !text_ok(f->app, 63) || !text_ok(f->host, 63) ||
	    f->first > (om_usec)INT64_MAX || f->last > (om_usec)INT64_MAX || f->last < f->first ||
	    f->flow_id > (uint64_t)INT64_MAX)
		return -EINVAL;
	sqlite3_stmt *st = NULL;
	int rc =
	    sqlite3_prepare_v2(store_db(s),
	                       "INSERT INTO appctl_flow (tenant, gateway, flow_id, first_usec,"
	                       " last_usec, grp, app, host, bytes, blocked)"
	                       " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
	                       " ON CONFLICT (tenant, gateway, flow_id, first_usec) DO NOTHING",
	                       -1, &st, NULL);
	if (rc != SQLITE_OK)
		return -EIO;
	sqlite3_bind_text(st, 1, f->tenant, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, f->gateway, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)f->flow_id);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)f->first);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)f->last);
	sqlite3_bind_text(st, 6, f->group, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, f->app, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, f->host, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 9,
	                   f->bytes > (uint64_t)INT64_MAX ? INT64_MAX : (sqlite3_int64)f->bytes);
	sqlite3_bind_int(st, 10, f->blocked ? 1 : 0);
	rc = sqlite3_step(st);
	int changed = sqlite3_changes(store_db(s));
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return -EIO;
	return changed > 0 ? 1 : 0;
}

int om_store_appctl_range(om_store *s, const char *tenant, om_usec from, om_usec to,
                          om_store_appctl_cb cb, void *user)
{
	if (!s || !tenant || !cb || from > to || to > (om_usec)INT64_MAX)
		return -EINVAL;
	int r = om_store_flush(s);
	if (r < 0)
		return r;
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(
	    store_db(s),
	    "SELECT grp, host, app, count(*), sum(bytes), min(first_usec), max(last_usec),"
	    " sum(blocked) FROM appctl_flow"
	    " WHERE tenant = ? AND first_usec >= ? AND first_usec < ?"
	    " GROUP BY grp, host, app ORDER BY grp, host, app",
	    -1, &st, NULL);
	if (rc != SQLITE_OK)
		return -EIO;
	sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)from);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)to);
	r = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		om_store_appctl_use u;
		memset(&u, 0, sizeof(u));
		const unsigned char *g = sqlite3_column_text(st, 0);
		const unsigned char *h = sqlite3_column_text(st, 1);
		const unsigned char *a = sqlite3_column_text(st, 2);
		snprintf(u.group, sizeof(u.group), "%s", g ? (const char *)g : "");
		snprintf(u.host, sizeof(u.host), "%s", h ? (const char *)h : "");
		snprintf(u.app, sizeof(u.app), "%s", a ? (const char *)a : "");
		u.flows = (uint64_t)sqlite3_column_int64(st, 3);
		u.bytes = (uint64_t)sqlite3_column_int64(st, 4);
		u.first = (om_usec)sqlite3_column_int64(st, 5);
		u.last = (om_usec)sqlite3_column_int64(st, 6);
		u.blocked = (uint64_t)sqlite3_column_int64(st, 7);
		if ((r = cb(user, &u)) != 0)
			break;
	}
	sqlite3_finalize(st);
	if (r < 0)
		return r;
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -EIO;
}
