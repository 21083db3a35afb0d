/* store: tenant metadata and the report's range queries.
 *
 * Tenant metadata (display name, industry, size, region, time zone, support
 * provider contact) is one row per tenant and key in tenant_meta, created
 * here with CREATE TABLE IF NOT EXISTS (plain types, runs on SQLite and
 * PostgreSQL). The range queries take [from, to) in microseconds so that
 * the report can count by a tenant's own local month and days; they read
 * the events table through its (tenant, category, day) index, widened by a
 * day on each side, and then by ts_usec exactly. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "store/internal.h"

#define META_VALUE_MAX 255

static const char *const meta_keys[] = {"display_name", "industry", "size",
                                        "region",       "timezone", "contact"};

static int rc_errno(int rc)
{
	/* the database layer's results: 1 row, 0 done, negative errno */
	return rc < 0 ? rc : 0;
}

int om_store_report2_schema(om_store *s, char *err, size_t errlen)
{
	int rc = om_db_exec_schema(store_dbh(s),
	                           "CREATE TABLE IF NOT EXISTS tenant_meta ("
	                           "  tenant TEXT NOT NULL,"
	                           "  key TEXT NOT NULL,"
	                           "  value TEXT NOT NULL,"
	                           "  PRIMARY KEY (tenant, key));"
	                           "CREATE TABLE IF NOT EXISTS inventory ("
	                           "  tenant TEXT NOT NULL,"
	                           "  address TEXT NOT NULL,"
	                           "  label TEXT NOT NULL,"
	                           "  PRIMARY KEY (tenant, address));",
	                           NULL, 0);
	if (rc != 0) {
		if (err && errlen)
			snprintf(err, errlen, om_tr("err.store.sql"), om_db_errmsg(store_dbh(s)));
		return rc_errno(rc) ? rc_errno(rc) : -EIO;
	}
	return 0;
}

static int prep(om_store *s, const char *sql, om_db_stmt **st)
{
	int rc = om_db_prepare(store_dbh(s), sql, st);
	return rc == 0 ? 0 : (rc_errno(rc) ? rc_errno(rc) : -EIO);
}

static int done(om_db_stmt *st, int rc)
{
	om_db_finalize(st);
	return rc == 0 || rc == 0 ? 0 : (rc_errno(rc) ? rc_errno(rc) : -EIO);
}

bool om_store_tenant_key_valid(const char *key)
{
	for (size_t i = 0; key && i < OM_ARRAY_SIZE(meta_keys); i++) {
		if (!strcmp(key, meta_keys[i]))
			return true;
	}
	return false;
}

bool om_store_timezone_valid(const char *tz)
{
	char path[300];
	struct stat st;
	if (!tz || !*tz || strlen(tz) > 64 || tz[0] == '/' || strstr(tz, ".."))
		return false;
	for (const char *p = tz; *p; p++) {
		char c = *p;
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '/' || c == '_' || c == '-' || c == '+'))
			return false;
	}
	if (!strcmp(tz, "UTC"))
		return true;
	snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", tz);
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int om_store_tenant_meta_set(om_store *s, const char *tenant, const char *key, const char *value)
{
	om_db_stmt *st = NULL;
	int r;

	if (!s || !tenant || !*tenant || !om_store_tenant_key_valid(key) || !value ||
	    strlen(value) > META_VALUE_MAX)
		return -EINVAL;
	for (const char *p = value; *p; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return -EINVAL;
	}
	if (!strcmp(key, "timezone") && !om_store_timezone_valid(value))
		return -EINVAL;
	if ((r = om_store_flush(s)) < 0)
		return r;
	if (!*value) {
		if ((r = prep(s, "DELETE FROM tenant_meta WHERE tenant = ? AND key = ?", &st)) < 0)
			return r;
	} else if ((r = prep(s,
	                     "INSERT INTO tenant_meta (tenant, key, value) VALUES (?, ?, ?)"
	                     " ON CONFLICT (tenant, key) DO UPDATE SET value = excluded.value",
	                     &st)) < 0)
		return r;
	om_db_bind_text(st, 1, tenant);
	om_db_bind_text(st, 2, key);
	if (*value)
		om_db_bind_text(st, 3, value);
	return done(st, om_db_step(st));
}

static void copy(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src ? (const char *)src : "");
}

int om_store_tenant_meta_get(om_store *s, const char *tenant, om_store_tenant_meta *ret)
{
	om_db_stmt *st = NULL;
	om_store_tenant_meta m;
	int r, rc;

	if (!s || !tenant || !ret)
		return -EINVAL;
	memset(&m, 0, sizeof(m));
	snprintf(m.timezone, sizeof(m.timezone), "%s", OM_STORE_DEFAULT_TZ);
	if ((r = prep(s, "SELECT key, value FROM tenant_meta WHERE tenant = ?", &st)) < 0)
		return r;
	om_db_bind_text(st, 1, tenant);
	while ((rc = om_db_step(st)) == 1) {
		const char *k = om_db_column_text(st, 0);
		const char *v = om_db_column_text(st, 1);
		if (!k)
			continue;
		if (!strcmp(k, "display_name"))
			copy(m.display_name, sizeof(m.display_name), v);
		else if (!strcmp(k, "industry"))
			copy(m.industry, sizeof(m.industry), v);
		else if (!strcmp(k, "size"))
			copy(m.size, sizeof(m.size), v);
		else if (!strcmp(k, "region"))
			copy(m.region, sizeof(m.region), v);
		else if (!strcmp(k, "timezone"))
			copy(m.timezone, sizeof(m.timezone), v);
		else if (!strcmp(k, "contact"))
			copy(m.contact, sizeof(m.contact), v);
	}
	if ((r = done(st, rc)) < 0)
		return r;
	*ret = m;
	return 0;
}

int om_store_tenant_has_data(om_store *s, const char *tenant)
{
	om_db_stmt *st = NULL;
	int r, rc;

	if (!s || !tenant)
		return -EINVAL;
	if ((r = om_store_flush(s)) < 0)
		return r;
	if ((r = prep(s,
	              "SELECT 1 WHERE EXISTS (SELECT 1 FROM events WHERE tenant = ?1)"
	              " OR EXISTS (SELECT 1 FROM watched WHERE tenant = ?1)",
	              &st)) < 0)
		return r;
	om_db_bind_text(st, 1, tenant);
	rc = om_db_step(st);
	r = rc == 1 ? 1 : 0;
	if (rc == 1)
		rc = 0;
	int d = done(st, rc);
	return d < 0 ? d : r;
}

int om_store_tenants(om_store *s, char (*out)[OM_STORE_TENANT_MAX + 1], size_t max, size_t *ret_n)
{
	om_db_stmt *st = NULL;
	size_t n = 0;
	int r, rc;

	if (!s || !ret_n || (!out && max))
		return -EINVAL;
	if ((r = om_store_flush(s)) < 0)
		return r;
	if ((r = prep(s,
	              "SELECT tenant FROM events UNION SELECT tenant FROM watched"
	              " UNION SELECT tenant FROM tenant_meta UNION SELECT id FROM console_tenants"
	              " ORDER BY 1",
	              &st)) < 0)
		return r;
	while ((rc = om_db_step(st)) == 1) {
		const char *t = om_db_column_text(st, 0);
		if (!t || strlen(t) > OM_STORE_TENANT_MAX)
			continue;
		if (n == max) {
			rc = 0;
			r = -E2BIG;
			break;
		}
		snprintf(out[n++], OM_STORE_TENANT_MAX + 1, "%s", t);
	}
	int d = done(st, rc);
	if (d < 0)
		return d;
	*ret_n = n;
	return r < 0 ? r : 0;
}

/* "YYYY-MM-DD" of a UTC microsecond time. */
static void utc_day(om_usec t, int shift_days, char out[32])
{
	time_t sec = (time_t)(t / 1000000) + (time_t)shift_days * 86400;
	struct tm tm;
	gmtime_r(&sec, &tm);
	snprintf(out, 32, "%04d-%02d-%02d", (tm.tm_year + 1900) % 10000, (tm.tm_mon + 1) % 100,
	         tm.tm_mday % 100);
}

static int bind_range(om_db_stmt *st, const char *tenant, const char *category, om_usec from,
                      om_usec to)
{
	char d0[32], d1[32];
	if (from > INT64_MAX || to > INT64_MAX)
		return -ERANGE;
	utc_day(from, -1, d0);
	utc_day(to, 1, d1);
	om_db_bind_text(st, 1, tenant);
	om_db_bind_text(st, 2, category);
	om_db_bind_text(st, 3, d0);
	om_db_bind_text(st, 4, d1);
	om_db_bind_int64(st, 5, (int64_t)from);
	om_db_bind_int64(st, 6, (int64_t)to);
	return 0;
}

int om_store_range_count(om_store *s, const char *tenant, const char *category, om_usec from,
                         om_usec to, uint64_t *ret)
{
	om_db_stmt *st = NULL;
	int r, rc;

	if (!s || !tenant || !category || !ret || from > to)
		return -EINVAL;
	if ((r = om_store_flush(s)) < 0)
		return r;
	if ((r = prep(s,
	              "SELECT count(*) FROM events WHERE tenant = ?1 AND category = ?2"
	              " AND day >= ?3 AND day <= ?4 AND ts_usec >= ?5 AND ts_usec < ?6",
	              &st)) < 0)
		return r;
	if ((r = bind_range(st, tenant, category, from, to)) < 0) {
		om_db_finalize(st);
		return r;
	}
	rc = om_db_step(st);
	uint64_t n = rc == 1 ? (uint64_t)om_db_column_int64(st, 0) : 0;
	if (rc == 1)
		rc = 0;
	if ((r = done(st, rc)) < 0)
		return r;
	*ret = n;
	return 0;
}

int om_store_range_top(om_store *s, const char *tenant, const char *category, om_usec from,
                       om_usec to, bool sources, om_store_count *out, size_t max, size_t *ret_n)
{
	om_db_stmt *st = NULL;
	size_t n = 0;
	int r, rc;

	if (!s || !tenant || !category || !ret_n || (!out && max) || from > to)
		return -EINVAL;
	if ((r = om_store_flush(s)) < 0)
		return r;
	r = prep(s,
	         sources ? "SELECT src_ip, count(*) AS n FROM events WHERE tenant = ?1 AND"
	                   " category = ?2 AND day >= ?3 AND day <= ?4 AND ts_usec >= ?5 AND"
	                   " ts_usec < ?6 AND src_ip IS NOT NULL AND src_ip != ''"
	                   " GROUP BY src_ip ORDER BY n DESC, src_ip LIMIT ?7"
	                 : "SELECT dest_ip, count(*) AS n FROM events WHERE tenant = ?1 AND"
	                   " category = ?2 AND day >= ?3 AND day <= ?4 AND ts_usec >= ?5 AND"
	                   " ts_usec < ?6 AND dest_ip IS NOT NULL AND dest_ip != ''"
	                   " GROUP BY dest_ip ORDER BY n DESC, dest_ip LIMIT ?7",
	         &st);
	if (r < 0)
		return r;
	if ((r = bind_range(st, tenant, category, from, to)) < 0) {
		om_db_finalize(st);
		return r;
	}
	om_db_bind_int64(st, 7, (int64_t)max);
	while (n < max && (rc = om_db_step(st)) == 1) {
		copy(out[n].key, sizeof(out[n].key), om_db_column_text(st, 0));
		out[n].count = (uint64_t)om_db_column_int64(st, 1);
		n++;
	}
	if (n == max)
		rc = 0;
	if ((r = done(st, rc)) < 0)
		return r;
	*ret_n = n;
	return 0;
}

int om_store_range_watched(om_store *s, const char *tenant, const char *category, om_usec from,
                           om_usec to, om_usec *out, size_t max, size_t *ret_n)
{
	om_db_stmt *st = NULL;
	size_t n = 0;
	int r, rc;

	if (!s || !tenant || !category || !ret_n || (!out && max) || from > to || to > INT64_MAX)
		return -EINVAL;
	if ((r = om_store_flush(s)) < 0)
		return r;
	if ((r = prep(s,
	              "SELECT DISTINCT hour FROM watched WHERE tenant = ?1 AND category = ?2"
	              " AND hour >= ?3 AND hour < ?4 ORDER BY hour",
	              &st)) < 0)
		return r;
	om_db_bind_text(st, 1, tenant);
	om_db_bind_text(st, 2, category);
	om_db_bind_int64(st, 3, (int64_t)from);
	om_db_bind_int64(st, 4, (int64_t)to);
	while ((rc = om_db_step(st)) == 1) {
		int64_t h = om_db_column_int64(st, 0);
		if (h < 0)
			continue;
		if (n == max) {
			rc = 0;
			r = -E2BIG;
			break;
		}
		out[n++] = (om_usec)h;
	}
	int d = done(st, rc);
	if (d < 0)
		return d;
	*ret_n = n;
	return r < 0 ? r : 0;
}

/* ---- the device inventory: address -> the name the owner knows ---------- */

/* An IPv4 or IPv6 address in text form: hex digits, dots and colons only. */
static bool addr_ok(const char *a)
{
	size_t n = a ? strlen(a) : 0;
	if (n == 0 || n > 45)
		return false;
	for (const char *p = a; *p; p++) {
		char c = *p;
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
		      c == '.' || c == ':'))
			return false;
	}
	return true;
}

int om_store_device_set(om_store *s, const char *tenant, const char *address, const char *label)
{
	om_db_stmt *st = NULL;
	int r;

	if (!s || !tenant || !*tenant || strlen(tenant) > OM_STORE_TENANT_MAX ||
	    !addr_ok(address) || !label || strlen(label) > META_VALUE_MAX)
		return -EINVAL;
	for (const char *p = label; *p; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return -EINVAL;
	}
	if ((r = om_store_flush(s)) < 0)
		return r;
	if (!*label) {
		if ((r = prep(s, "DELETE FROM inventory WHERE tenant = ? AND address = ?", &st)) <
		    0)
			return r;
	} else if ((r = prep(s,
	                     "INSERT INTO inventory (tenant, address, label) VALUES (?, ?, ?)"
	                     " ON CONFLICT (tenant, address) DO UPDATE SET label = excluded.label",
	                     &st)) < 0)
		return r;
	om_db_bind_text(st, 1, tenant);
	om_db_bind_text(st, 2, address);
	if (*label)
		om_db_bind_text(st, 3, label);
	return done(st, om_db_step(st));
}

int om_store_device_get(om_store *s, const char *tenant, const char *address, char *label,
                        size_t labellen)
{
	om_db_stmt *st = NULL;
	int r, rc, found = 0;

	if (!s || !tenant || !address || !label || !labellen)
		return -EINVAL;
	if ((r = prep(s, "SELECT label FROM inventory WHERE tenant = ? AND address = ?", &st)) < 0)
		return r;
	om_db_bind_text(st, 1, tenant);
	om_db_bind_text(st, 2, address);
	rc = om_db_step(st);
	if (rc == 1) {
		copy(label, labellen, om_db_column_text(st, 0));
		found = 1;
		rc = 0;
	}
	if ((r = done(st, rc)) < 0)
		return r;
	return found;
}

int om_store_device_list(om_store *s, const char *tenant, om_store_device *out, size_t max,
                         size_t *ret_n)
{
	om_db_stmt *st = NULL;
	size_t n = 0;
	int r, rc;

	if (!s || !tenant || !ret_n || (!out && max))
		return -EINVAL;
	if ((r = prep(s, "SELECT address, label FROM inventory WHERE tenant = ? ORDER BY address",
	              &st)) < 0)
		return r;
	om_db_bind_text(st, 1, tenant);
	while ((rc = om_db_step(st)) == 1) {
		if (n == max) {
			rc = 0;
			r = -E2BIG;
			break;
		}
		copy(out[n].address, sizeof(out[n].address), om_db_column_text(st, 0));
		copy(out[n].label, sizeof(out[n].label), om_db_column_text(st, 1));
		n++;
	}
	int d = done(st, rc);
	if (d < 0)
		return d;
	*ret_n = n;
	return r < 0 ? r : 0;
}
