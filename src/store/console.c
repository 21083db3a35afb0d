/* store: the console's tables. Accounts (name, role, tenant, password hash),
 * sessions (by a hash of the cookie, with expiry and the CSRF token), the
 * audit log and tenants. The schema is a list of idempotent statements run by
 * om_store_open; its version row lives in console_schema for later upgrades.
 * The SQL is plain (INTEGER/TEXT, ? placeholders) so that it also runs on
 * PostgreSQL. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "store/internal.h"

#define CONSOLE_SCHEMA_VERSION 1

static const char console_schema_sql[] =
    "CREATE TABLE IF NOT EXISTS console_schema (version INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS console_accounts ("
    "  name TEXT PRIMARY KEY,"
    "  role INTEGER NOT NULL,"
    "  tenant TEXT NOT NULL,"
    "  hash TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS console_sessions ("
    "  id_hash TEXT PRIMARY KEY,"
    "  account TEXT NOT NULL,"
    "  csrf TEXT NOT NULL,"
    "  expires INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS console_audit ("
    "  id INTEGER PRIMARY KEY,"
    "  ts INTEGER NOT NULL,"
    "  actor TEXT NOT NULL,"
    "  tenant TEXT NOT NULL,"
    "  action TEXT NOT NULL,"
    "  detail TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS console_tenants ("
    "  id TEXT PRIMARY KEY,"
    "  name TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS console_gateways ("
    "  id TEXT PRIMARY KEY,"
    "  tenant TEXT NOT NULL,"
    "  name TEXT NOT NULL,"
    "  enrol_hash TEXT,"
    "  cred_hash TEXT UNIQUE,"
    "  version TEXT NOT NULL DEFAULT '',"
    "  last_seen INTEGER NOT NULL DEFAULT 0,"
    "  events INTEGER NOT NULL DEFAULT 0,"
    "  drops INTEGER NOT NULL DEFAULT 0,"
    "  backlog INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE IF NOT EXISTS console_batches ("
    "  gateway TEXT NOT NULL,"
    "  batch_id TEXT NOT NULL,"
    "  events INTEGER NOT NULL,"
    "  ts INTEGER NOT NULL,"
    "  PRIMARY KEY (gateway, batch_id));";
/* The console's event search (a tenant's events newest first) reads the
 * events table's index on (tenant, ts_usec, category), made by the store's
 * migration 5. */

/* The statements kept prepared (store_stmt): the console's writer runs them
 * for every batch. */
enum { XS_BATCH_SEEN, XS_BATCH_RECORD, XS_GATEWAY_SEEN };

static int db_errno(int rc)
{
	/* the database layer's results: 1 row, 0 done, negative errno */
	return rc < 0 ? rc : 0;
}

int store_console_schema(om_store *s, char *err, size_t errlen)
{
	om_db *db = store_dbh(s);
	int rc = om_db_exec_schema(db, console_schema_sql, NULL, 0);

	if (rc == 0)
		rc = om_db_exec_schema(db,
		                       "INSERT INTO console_schema (version) SELECT 1"
		                       " WHERE NOT EXISTS (SELECT 1 FROM console_schema)",
		                       NULL, 0);
	if (rc != 0) {
		if (err && errlen)
			snprintf(err, errlen, om_tr("err.store.sql"), om_db_errmsg(db));
		return db_errno(rc) ? db_errno(rc) : -EIO;
	}
	return 0;
}

/* Prepares sql and binds the strings in order (NULL ends the list early). */
static int prep(om_store *s, om_db_stmt **st, const char *sql)
{
	int rc = om_db_prepare(store_dbh(s), sql, st);

	if (rc != 0) {
		om_err(om_tr("err.store.prepare"), om_db_errmsg(store_dbh(s)));
		*st = NULL;
		return db_errno(rc) ? db_errno(rc) : -EIO;
	}
	return 0;
}

static int bind_s(om_db_stmt *st, int i, const char *v)
{
	return om_db_bind_text(st, i, v ? v : "") == 0 ? 0 : -ENOMEM;
}

static void col_copy(om_db_stmt *st, int i, char *out, size_t n)
{
	const char *v = om_db_column_text(st, i);

	snprintf(out, n, "%s", v ? v : "");
}

/* Runs a statement that returns no rows. */
static int run(om_db_stmt *st)
{
	int rc = om_db_step(st);
	int r = rc == 0 ? 0 : (db_errno(rc) ? db_errno(rc) : -EIO);

	om_db_finalize(st);
	return r;
}

static bool fits(const char *v, size_t max)
{
	return v && strnlen(v, max) < max;
}

int om_store_account_add(om_store *s, const om_store_account *a)
{
	om_db_stmt *st;
	int r;

	if (!a || !a->name[0] || !fits(a->name, sizeof(a->name)) || !a->hash[0] || a->role < 0 ||
	    a->role >= OM_ROLE__COUNT)
		return -EINVAL;
	if (a->role >= OM_ROLE_COMPANY_ADMIN && !a->tenant[0])
		return -EINVAL;
	r = om_store_flush(s);
	if (r < 0)
		return r;
	r = prep(s, &st,
	         "INSERT INTO console_accounts (name, role, tenant, hash) VALUES (?, ?, ?, ?)");
	if (r < 0)
		return r;
	bind_s(st, 1, a->name);
	om_db_bind_int64(st, 2, a->role);
	bind_s(st, 3, a->role >= OM_ROLE_COMPANY_ADMIN ? a->tenant : "");
	bind_s(st, 4, a->hash);
	return run(st);
}

int om_store_account_set_hash(om_store *s, const char *name, const char *hash)
{
	om_db_stmt *st;
	int r;

	if (!name || !hash || !*hash)
		return -EINVAL;
	r = om_store_flush(s);
	if (r < 0)
		return r;
	r = prep(s, &st, "UPDATE console_accounts SET hash = ? WHERE name = ?");
	if (r < 0)
		return r;
	bind_s(st, 1, hash);
	bind_s(st, 2, name);
	r = run(st);
	if (r == 0 && om_db_changes(store_dbh(s)) == 0)
		return -ENOENT;
	return r;
}

static void account_row(om_db_stmt *st, om_store_account *a)
{
	memset(a, 0, sizeof(*a));
	col_copy(st, 0, a->name, sizeof(a->name));
	a->role = om_db_column_int64(st, 1);
	col_copy(st, 2, a->tenant, sizeof(a->tenant));
	col_copy(st, 3, a->hash, sizeof(a->hash));
}

int om_store_account_get(om_store *s, const char *name, om_store_account *ret)
{
	om_db_stmt *st;
	int r, rc;

	if (!name)
		return -EINVAL;
	r = prep(s, &st, "SELECT name, role, tenant, hash FROM console_accounts WHERE name = ?");
	if (r < 0)
		return r;
	bind_s(st, 1, name);
	rc = om_db_step(st);
	if (rc == 1) {
		account_row(st, ret);
		r = 0;
	} else {
		r = rc == 0 ? -ENOENT : (db_errno(rc) ? db_errno(rc) : -EIO);
	}
	om_db_finalize(st);
	return r;
}

int om_store_account_list(om_store *s, om_store_account *out, size_t max, size_t *ret_n)
{
	om_db_stmt *st;
	size_t n = 0;
	int r, rc;

	r = prep(s, &st, "SELECT name, role, tenant, hash FROM console_accounts ORDER BY name");
	if (r < 0)
		return r;
	while ((rc = om_db_step(st)) == 1 && n < max)
		account_row(st, &out[n++]);
	om_db_finalize(st);
	if (rc != 1 && rc != 0)
		return db_errno(rc) ? db_errno(rc) : -EIO;
	*ret_n = n;
	return 0;
}

int om_store_session_add(om_store *s, const char *id_hash, const char *account, const char *csrf,
                         om_usec expires)
{
	om_db_stmt *st;
	int r;

	if (!id_hash || !*id_hash || !account || !csrf || expires > INT64_MAX)
		return -EINVAL;
	r = om_store_flush(s);
	if (r < 0)
		return r;
	r = prep(
	    s, &st,
	    "INSERT INTO console_sessions (id_hash, account, csrf, expires) VALUES (?, ?, ?, ?)");
	if (r < 0)
		return r;
	bind_s(st, 1, id_hash);
	bind_s(st, 2, account);
	bind_s(st, 3, csrf);
	om_db_bind_int64(st, 4, (int64_t)expires);
	return run(st);
}

int om_store_session_delete(om_store *s, const char *id_hash)
{
	om_db_stmt *st;
	int r = om_store_flush(s);

	if (r < 0)
		return r;
	r = prep(s, &st, "DELETE FROM console_sessions WHERE id_hash = ?");
	if (r < 0)
		return r;
	bind_s(st, 1, id_hash);
	return run(st);
}

int om_store_session_get(om_store *s, const char *id_hash, om_usec now, om_store_account *ret_acct,
                         char ret_csrf[80])
{
	om_db_stmt *st;
	int r, rc;
	int64_t expires = 0;
	char account[64] = "", csrf[80] = "";

	if (!id_hash)
		return -EINVAL;
	r = prep(s, &st, "SELECT account, csrf, expires FROM console_sessions WHERE id_hash = ?");
	if (r < 0)
		return r;
	bind_s(st, 1, id_hash);
	rc = om_db_step(st);
	if (rc == 1) {
		col_copy(st, 0, account, sizeof(account));
		col_copy(st, 1, csrf, sizeof(csrf));
		expires = om_db_column_int64(st, 2);
	}
	om_db_finalize(st);
	if (rc == 0)
		return -ENOENT;
	if (rc != 1)
		return db_errno(rc) ? db_errno(rc) : -EIO;
	if (expires < 0 || (om_usec)expires <= now) {
		om_store_session_delete(s, id_hash);
		return -ENOENT;
	}
	om_store_account a;
	r = om_store_account_get(s, account, &a);
	if (r < 0)
		return r;
	*ret_acct = a;
	memcpy(ret_csrf, csrf, sizeof(csrf));
	return 0;
}

int om_store_audit_add(om_store *s, om_usec ts, const char *actor, const char *tenant,
                       const char *action, const char *detail)
{
	om_db_stmt *st;
	int r = om_store_flush(s);

	if (r < 0)
		return r;
	if (!action || ts > INT64_MAX)
		return -EINVAL;
	r = prep(
	    s, &st,
	    "INSERT INTO console_audit (ts, actor, tenant, action, detail) VALUES (?, ?, ?, ?, ?)");
	if (r < 0)
		return r;
	om_db_bind_int64(st, 1, (int64_t)ts);
	bind_s(st, 2, actor);
	bind_s(st, 3, tenant);
	bind_s(st, 4, action);
	bind_s(st, 5, detail);
	return run(st);
}

int om_store_audit_list(om_store *s, const char *tenant, om_store_audit *out, size_t max,
                        size_t *ret_n)
{
	om_db_stmt *st;
	size_t n = 0;
	int r, rc;

	r = prep(s, &st,
	         tenant ? "SELECT ts, actor, tenant, action, detail FROM console_audit"
	                  " WHERE tenant = ? ORDER BY id DESC LIMIT ?"
	                : "SELECT ts, actor, tenant, action, detail FROM console_audit"
	                  " ORDER BY id DESC LIMIT ?");
	if (r < 0)
		return r;
	if (tenant) {
		bind_s(st, 1, tenant);
		om_db_bind_int64(st, 2, (int64_t)max);
	} else {
		om_db_bind_int64(st, 1, (int64_t)max);
	}
	while ((rc = om_db_step(st)) == 1 && n < max) {
		om_store_audit *a = &out[n++];
		int64_t ts = om_db_column_int64(st, 0);
		a->ts = ts > 0 ? (om_usec)ts : 0;
		col_copy(st, 1, a->actor, sizeof(a->actor));
		col_copy(st, 2, a->tenant, sizeof(a->tenant));
		col_copy(st, 3, a->action, sizeof(a->action));
		col_copy(st, 4, a->detail, sizeof(a->detail));
	}
	om_db_finalize(st);
	if (rc != 1 && rc != 0)
		return db_errno(rc) ? db_errno(rc) : -EIO;
	*ret_n = n;
	return 0;
}

int om_store_tenant_add(om_store *s, const char *id, const char *name)
{
	om_db_stmt *st;
	int r;

	if (!id || !*id || !fits(id, 64) || !name || !fits(name, 128))
		return -EINVAL;
	r = om_store_flush(s);
	if (r < 0)
		return r;
	r = prep(s, &st, "INSERT INTO console_tenants (id, name) VALUES (?, ?)");
	if (r < 0)
		return r;
	bind_s(st, 1, id);
	bind_s(st, 2, name);
	return run(st);
}

int om_store_tenant_get(om_store *s, const char *id, om_store_tenant *ret)
{
	om_db_stmt *st;
	int r, rc;

	if (!id)
		return -EINVAL;
	r = prep(s, &st, "SELECT id, name FROM console_tenants WHERE id = ?");
	if (r < 0)
		return r;
	bind_s(st, 1, id);
	rc = om_db_step(st);
	if (rc == 1) {
		col_copy(st, 0, ret->id, sizeof(ret->id));
		col_copy(st, 1, ret->name, sizeof(ret->name));
		r = 0;
	} else {
		r = rc == 0 ? -ENOENT : (db_errno(rc) ? db_errno(rc) : -EIO);
	}
	om_db_finalize(st);
	return r;
}

int om_store_tenant_list(om_store *s, om_store_tenant *out, size_t max, size_t *ret_n)
{
	om_db_stmt *st;
	size_t n = 0;
	int r, rc;

	r = prep(s, &st, "SELECT id, name FROM console_tenants ORDER BY id");
	if (r < 0)
		return r;
	while ((rc = om_db_step(st)) == 1 && n < max) {
		col_copy(st, 0, out[n].id, sizeof(out[n].id));
		col_copy(st, 1, out[n].name, sizeof(out[n].name));
		n++;
	}
	om_db_finalize(st);
	if (rc != 1 && rc != 0)
		return db_errno(rc) ? db_errno(rc) : -EIO;
	*ret_n = n;
	return 0;
}

#define GW_COLS                                                                                    \
	"id, tenant, name, version, last_seen, events, drops, backlog, cred_hash IS NOT NULL"

static uint64_t col_u64(om_db_stmt *st, int i)
{
	int64_t v = om_db_column_int64(st, i);

	return v > 0 ? (uint64_t)v : 0;
}

static void gateway_row(om_db_stmt *st, om_store_gateway *g)
{
	memset(g, 0, sizeof(*g));
	col_copy(st, 0, g->id, sizeof(g->id));
	col_copy(st, 1, g->tenant, sizeof(g->tenant));
	col_copy(st, 2, g->name, sizeof(g->name));
	col_copy(st, 3, g->version, sizeof(g->version));
	g->last_seen = col_u64(st, 4);
	g->events = col_u64(st, 5);
	g->drops = col_u64(st, 6);
	g->backlog = col_u64(st, 7);
	g->enrolled = om_db_column_int64(st, 8) != 0;
}

int om_store_gateway_add(om_store *s, const char *id, const char *tenant, const char *name,
                         const char *enrol_hash)
{
	om_db_stmt *st;
	int r;

	if (!id || !*id || !fits(id, 64) || !tenant || !*tenant || !fits(tenant, 64) || !name ||
	    !fits(name, 128) || !enrol_hash || !*enrol_hash)
		return -EINVAL;
	r = om_store_flush(s);
	if (r < 0)
		return r;
	r = prep(s, &st,
	         "INSERT INTO console_gateways (id, tenant, name, enrol_hash) VALUES (?, ?, ?, ?)");
	if (r < 0)
		return r;
	bind_s(st, 1, id);
	bind_s(st, 2, tenant);
	bind_s(st, 3, name);
	bind_s(st, 4, enrol_hash);
	return run(st);
}

static int gateway_one(om_store *s, const char *sql, const char *key, om_store_gateway *ret)
{
	om_db_stmt *st;
	int r, rc;

	r = prep(s, &st, sql);
	if (r < 0)
		return r;
	bind_s(st, 1, key);
	rc = om_db_step(st);
	if (rc == 1) {
		gateway_row(st, ret);
		r = 0;
	} else {
		r = rc == 0 ? -ENOENT : (db_errno(rc) ? db_errno(rc) : -EIO);
	}
	om_db_finalize(st);
	return r;
}

int om_store_gateway_enrol(om_store *s, const char *enrol_hash, const char *cred_hash,
                           om_store_gateway *ret)
{
	om_db_stmt *st;
	om_store_gateway g;
	int r;

	if (!enrol_hash || !*enrol_hash || !cred_hash || !*cred_hash)
		return -EINVAL;
	r = om_store_flush(s);
	if (r < 0)
		return r;
	r = gateway_one(s, "SELECT " GW_COLS " FROM console_gateways WHERE enrol_hash = ?",
	                enrol_hash, &g);
	if (r < 0)
		return r;
	r = prep(s, &st,
	         "UPDATE console_gateways SET enrol_hash = NULL, cred_hash = ? WHERE id = ?"
	         " AND enrol_hash = ?");
	if (r < 0)
		return r;
	bind_s(st, 1, cred_hash);
	bind_s(st, 2, g.id);
	bind_s(st, 3, enrol_hash);
	r = run(st);
	if (r == 0 && om_db_changes(store_dbh(s)) != 1)
		return -ENOENT;
	if (r == 0) {
		g.enrolled = true;
		*ret = g;
	}
	return r;
}

int om_store_gateway_by_cred(om_store *s, const char *cred_hash, om_store_gateway *ret)
{
	if (!cred_hash || !*cred_hash)
		return -EINVAL;
	return gateway_one(s, "SELECT " GW_COLS " FROM console_gateways WHERE cred_hash = ?",
	                   cred_hash, ret);
}

int om_store_gateway_seen(om_store *s, const char *id, om_usec now, const char *version,
                          uint64_t events_added, uint64_t drops, uint64_t backlog)
{
	int r = om_store_flush(s);

	if (r < 0)
		return r;
	return om_store_gateway_seen_tx(s, id, now, version, events_added, drops, backlog);
}

int om_store_gateway_seen_tx(om_store *s, const char *id, om_usec now, const char *version,
                             uint64_t events_added, uint64_t drops, uint64_t backlog)
{
	om_db_stmt *st;
	int r;

	if (now > INT64_MAX || events_added > INT64_MAX || drops > INT64_MAX || backlog > INT64_MAX)
		return -ERANGE;
	/* kept prepared: the console's writer runs it for every batch */
	st = store_stmt(
	    s, XS_GATEWAY_SEEN,
	    "UPDATE console_gateways SET last_seen = ?, version = ?, events = events + ?,"
	    " drops = ?, backlog = ? WHERE id = ?");
	if (!st)
		return -EIO;
	om_db_bind_int64(st, 1, (int64_t)now);
	bind_s(st, 2, version);
	om_db_bind_int64(st, 3, (int64_t)events_added);
	om_db_bind_int64(st, 4, (int64_t)drops);
	om_db_bind_int64(st, 5, (int64_t)backlog);
	bind_s(st, 6, id);
	r = store_run_batched(s, st);
	return r < 0 ? r : 0;
}

int om_store_gateway_list(om_store *s, const char *tenant, om_store_gateway *out, size_t max,
                          size_t *ret_n)
{
	om_db_stmt *st;
	size_t n = 0;
	int r, rc;

	r = prep(s, &st,
	         tenant ? "SELECT " GW_COLS " FROM console_gateways WHERE tenant = ? ORDER BY id"
	                : "SELECT " GW_COLS " FROM console_gateways ORDER BY tenant, id");
	if (r < 0)
		return r;
	if (tenant)
		bind_s(st, 1, tenant);
	while ((rc = om_db_step(st)) == 1 && n < max)
		gateway_row(st, &out[n++]);
	om_db_finalize(st);
	if (rc != 1 && rc != 0)
		return db_errno(rc) ? db_errno(rc) : -EIO;
	*ret_n = n;
	return 0;
}

int om_store_batch_seen(om_store *s, const char *gateway, const char *batch_id)
{
	om_db_stmt *st;
	int rc;

	st = store_stmt(s, XS_BATCH_SEEN,
	                "SELECT 1 FROM console_batches WHERE gateway = ? AND batch_id = ?");
	if (!st)
		return -EIO;
	bind_s(st, 1, gateway);
	bind_s(st, 2, batch_id);
	rc = om_db_step(st);
	om_db_reset(st);
	if (rc == 1)
		return 1;
	return rc == 0 ? 0 : (db_errno(rc) ? db_errno(rc) : -EIO);
}

int om_store_batch_add(om_store *s, const char *gateway, const char *batch_id, uint64_t events,
                       om_usec ts)
{
	int r = om_store_flush(s);

	if (r < 0)
		return r;
	return om_store_batch_record(s, gateway, batch_id, events, ts);
}

int om_store_batch_record(om_store *s, const char *gateway, const char *batch_id, uint64_t events,
                          om_usec ts)
{
	om_db_stmt *st;

	if (events > INT64_MAX || ts > INT64_MAX)
		return -ERANGE;
	st = store_stmt(
	    s, XS_BATCH_RECORD,
	    "INSERT INTO console_batches (gateway, batch_id, events, ts) VALUES (?, ?, ?, ?)");
	if (!st)
		return -EIO;
	bind_s(st, 1, gateway);
	bind_s(st, 2, batch_id);
	om_db_bind_int64(st, 3, (int64_t)events);
	om_db_bind_int64(st, 4, (int64_t)ts);
	return store_run_batched(s, st);
}

/* ---- event search and dashboard queries ---- */

#define EV_COLS                                                                                    \
	"id, ts_usec, gateway, event_type, coalesce(category, ''), coalesce(severity, 0),"         \
	" coalesce(action, ''), coalesce(src_ip, ''), coalesce(src_port, 0),"                      \
	" coalesce(dest_ip, ''), coalesce(dest_port, 0), coalesce(proto, ''),"                     \
	" coalesce(signature, '')"

static void event_row(om_db_stmt *st, om_store_event_row *e)
{
	int64_t sp, dp;

	memset(e, 0, sizeof(*e));
	e->id = om_db_column_int64(st, 0);
	e->ts = (om_usec)om_db_column_int64(st, 1);
	col_copy(st, 2, e->gateway, sizeof(e->gateway));
	col_copy(st, 3, e->event_type, sizeof(e->event_type));
	col_copy(st, 4, e->category, sizeof(e->category));
	e->severity = (int)om_db_column_int64(st, 5);
	col_copy(st, 6, e->action, sizeof(e->action));
	col_copy(st, 7, e->src_ip, sizeof(e->src_ip));
	sp = om_db_column_int64(st, 8);
	col_copy(st, 9, e->dest_ip, sizeof(e->dest_ip));
	dp = om_db_column_int64(st, 10);
	col_copy(st, 11, e->proto, sizeof(e->proto));
	col_copy(st, 12, e->signature, sizeof(e->signature));
	e->src_port = sp >= 0 && sp <= 65535 ? (unsigned)sp : 0;
	e->dest_port = dp >= 0 && dp <= 65535 ? (unsigned)dp : 0;
}

static bool empty(const char *v)
{
	return !v || !*v;
}

/* The filters are always all bound; an empty one matches everything, so the
 * statement is one fixed text (no SQL is built from input). */
int om_store_event_search(om_store *s, const om_store_event_filter *f, om_store_event_row *out,
                          size_t max, size_t *ret_n)
{
	om_db_stmt *st;
	size_t n = 0;
	int r, rc;

	if (!s || !f || empty(f->tenant) || !ret_n || (max && !out) || f->from > INT64_MAX ||
	    f->to > INT64_MAX || f->severity < 0 || f->severity > 3 || f->before_id < 0)
		return -EINVAL;
	if ((r = om_store_flush(s)) < 0)
		return r;
	r = prep(s, &st,
	         "SELECT " EV_COLS " FROM events WHERE tenant = ?1"
	         " AND ts_usec >= ?2 AND (CAST(?3 AS BIGINT) = 0 OR ts_usec < ?3)"
	         " AND (?4 = '' OR category = ?4)"
	         " AND (?5 = '' OR src_ip = ?5 OR dest_ip = ?5)"
	         " AND (CAST(?6 AS INTEGER) = 0 OR (severity >= 1 AND severity <= ?6))"
	         " AND (?7 = '' OR action = ?7)"
	         " AND (CAST(?8 AS BIGINT) = 0 OR id < ?8)"
	         " ORDER BY ts_usec DESC, id DESC LIMIT ?9");
	if (r < 0)
		return r;
	bind_s(st, 1, f->tenant);
	om_db_bind_int64(st, 2, (int64_t)f->from);
	om_db_bind_int64(st, 3, (int64_t)f->to);
	bind_s(st, 4, f->category);
	bind_s(st, 5, f->host);
	om_db_bind_int64(st, 6, f->severity);
	bind_s(st, 7, f->action);
	om_db_bind_int64(st, 8, f->before_id);
	om_db_bind_int64(st, 9, max > INT32_MAX ? INT32_MAX : (int64_t)max);
	while ((rc = om_db_step(st)) == 1 && n < max)
		event_row(st, &out[n++]);
	om_db_finalize(st);
	if (rc != 1 && rc != 0)
		return db_errno(rc) ? db_errno(rc) : -EIO;
	*ret_n = n;
	return 0;
}

int om_store_event_get(om_store *s, const char *tenant, int64_t id, om_store_event_row *ret,
                       char *eve, size_t evelen)
{
	om_db_stmt *st;
	int r, rc;

	if (!s || empty(tenant) || !ret || (evelen && !eve))
		return -EINVAL;
	if ((r = om_store_flush(s)) < 0)
		return r;
	r = prep(s, &st, "SELECT " EV_COLS ", eve FROM events WHERE tenant = ? AND id = ?");
	if (r < 0)
		return r;
	bind_s(st, 1, tenant);
	om_db_bind_int64(st, 2, id);
	rc = om_db_step(st);
	if (rc == 1) {
		event_row(st, ret);
		if (evelen)
			col_copy(st, 13, eve, evelen);
		om_db_finalize(st);
		return 0;
	}
	om_db_finalize(st);
	return rc == 0 ? -ENOENT : (db_errno(rc) ? db_errno(rc) : -EIO);
}

int om_store_event_tally(om_store *s, const char *tenant, om_usec from, om_usec to,
                         om_store_tally_cb cb, void *user)
{
	om_db_stmt *st;
	int r, rc;

	if (!s || empty(tenant) || !cb || from > to || to > INT64_MAX)
		return -EINVAL;
	if ((r = om_store_flush(s)) < 0)
		return r;
	r = prep(s, &st,
	         "SELECT coalesce(category, ''), coalesce(action, ''), coalesce(severity, 0),"
	         " count(*) FROM events WHERE tenant = ?1 AND ts_usec >= ?2 AND ts_usec < ?3"
	         " GROUP BY 1, 2, 3");
	if (r < 0)
		return r;
	bind_s(st, 1, tenant);
	om_db_bind_int64(st, 2, (int64_t)from);
	om_db_bind_int64(st, 3, (int64_t)to);
	while ((rc = om_db_step(st)) == 1)
		cb(user, om_db_column_text(st, 0), om_db_column_text(st, 1),
		   (int)om_db_column_int64(st, 2), (uint64_t)om_db_column_int64(st, 3));
	om_db_finalize(st);
	return rc == 0 ? 0 : (db_errno(rc) ? db_errno(rc) : -EIO);
}

int om_store_rollup_since(om_store *s, const char *day, om_store_tenant_count_cb cb, void *user)
{
	om_db_stmt *st;
	int r, rc;

	if (!s || empty(day) || !cb)
		return -EINVAL;
	if ((r = om_store_flush(s)) < 0)
		return r;
	r = prep(s, &st,
	         /* tenant by tenant, each a range of the rollup's primary key
	          * (tenant, category, day): CROSS JOIN keeps that order */
	         "SELECT t.id, r.category, sum(r.count) FROM console_tenants t"
	         " CROSS JOIN rollup_daily r WHERE r.tenant = t.id AND r.category IN"
	         " ('recon', 'c2', 'web_malware', 'mail_malware', 'spam', 'harmful_web')"
	         " AND r.day >= ? GROUP BY t.id, r.category");
	if (r < 0)
		return r;
	bind_s(st, 1, day);
	while ((rc = om_db_step(st)) == 1)
		cb(user, om_db_column_text(st, 0), om_db_column_text(st, 1),
		   (uint64_t)om_db_column_int64(st, 2));
	om_db_finalize(st);
	return rc == 0 ? 0 : (db_errno(rc) ? db_errno(rc) : -EIO);
}

int om_store_gateway_pushed_since(om_store *s, const char *gateway, om_usec since, uint64_t *ret)
{
	om_db_stmt *st;
	int r, rc;

	if (!s || empty(gateway) || !ret || since > INT64_MAX)
		return -EINVAL;
	r = prep(
	    s, &st,
	    "SELECT coalesce(sum(events), 0) FROM console_batches WHERE gateway = ? AND ts >= ?");
	if (r < 0)
		return r;
	bind_s(st, 1, gateway);
	om_db_bind_int64(st, 2, (int64_t)since);
	rc = om_db_step(st);
	uint64_t n = rc == 1 ? (uint64_t)om_db_column_int64(st, 0) : 0;
	om_db_finalize(st);
	if (rc != 1)
		return db_errno(rc) ? db_errno(rc) : -EIO;
	*ret = n;
	return 0;
}
