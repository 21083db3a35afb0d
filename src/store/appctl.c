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
	for (size_t i = 0; i < OM_ARRAY_SIZE(appctl_schema); i++) {
		int rc = om_db_exec_schema(store_dbh(s), appctl_schema[i], NULL, 0);
		if (rc < 0) {
			if (err && errlen)
				snprintf(err, errlen, om_tr("err.store.sql"),
				         om_db_errmsg(store_dbh(s)));
			return rc;
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
	om_db_stmt *st = NULL;
	int rc = om_db_prepare(store_dbh(s),
	                       "INSERT INTO appctl_flow (tenant, gateway, flow_id, first_usec,"
	                       " last_usec, grp, app, host, bytes, blocked)"
	                       " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
	                       " ON CONFLICT (tenant, gateway, flow_id, first_usec) DO NOTHING",
	                       &st);
	if (rc < 0)
		return rc;
	om_db_bind_text(st, 1, f->tenant);
	om_db_bind_text(st, 2, f->gateway);
	om_db_bind_int64(st, 3, (int64_t)f->flow_id);
	om_db_bind_int64(st, 4, (int64_t)f->first);
	om_db_bind_int64(st, 5, (int64_t)f->last);
	om_db_bind_text(st, 6, f->group);
	om_db_bind_text(st, 7, f->app);
	om_db_bind_text(st, 8, f->host);
	om_db_bind_int64(st, 9, f->bytes > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)f->bytes);
	om_db_bind_int64(st, 10, f->blocked ? 1 : 0);
	rc = om_db_step(st);
	int64_t changed = om_db_changes(store_dbh(s));
	om_db_finalize(st);
	if (rc < 0)
		return rc;
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
	om_db_stmt *st = NULL;
	int rc = om_db_prepare(
	    store_dbh(s),
	    "SELECT grp, host, app, count(*), sum(bytes), min(first_usec), max(last_usec),"
	    " sum(blocked) FROM appctl_flow"
	    " WHERE tenant = ? AND first_usec >= ? AND first_usec < ?"
	    " GROUP BY grp, host, app ORDER BY grp, host, app",
	    &st);
	if (rc < 0)
		return rc;
	om_db_bind_text(st, 1, tenant);
	om_db_bind_int64(st, 2, (int64_t)from);
	om_db_bind_int64(st, 3, (int64_t)to);
	r = 0;
	while ((rc = om_db_step(st)) == 1) {
		om_store_appctl_use u;
		memset(&u, 0, sizeof(u));
		const char *g = om_db_column_text(st, 0);
		const char *h = om_db_column_text(st, 1);
		const char *a = om_db_column_text(st, 2);
		snprintf(u.group, sizeof(u.group), "%s", g ? g : "");
		snprintf(u.host, sizeof(u.host), "%s", h ? h : "");
		snprintf(u.app, sizeof(u.app), "%s", a ? a : "");
		u.flows = (uint64_t)om_db_column_int64(st, 3);
		u.bytes = (uint64_t)om_db_column_int64(st, 4);
		u.first = (om_usec)om_db_column_int64(st, 5);
		u.last = (om_usec)om_db_column_int64(st, 6);
		u.blocked = (uint64_t)om_db_column_int64(st, 7);
		if ((r = cb(user, &u)) != 0)
			break;
	}
	om_db_finalize(st);
	if (r < 0)
		return r;
	return rc < 0 ? rc : 0;
}
