/* store: the event store on SQLite.
 *
 * One database file holds the security events, a daily rollup per tenant,
 * gateway, day and report category, and the watched hours that let a report
 * tell "0 events" from "not monitored" and say how much of a month was
 * watched (one row per tenant, gateway, category and UTC hour with packets).
 * The schema is versioned with PRAGMA user_version and an ordered array of
 * migrations, each applied in its own transaction together with the version
 * bump, so a crash leaves the database at one version or the next, never in
 * between.
 *
 * Writes are batched: om_store_add_event opens a transaction and commits it
 * every batch_size events (and on flush/close). Anything committed survives a
 * kill -9 of the process (WAL; see the synchronous note in store_configure).
 *
 * Deduplication: each event gets event_key, a 128-bit hash of the tenant,
 * gateway and EVE line (two om_hash64 passes with different seeds over a
 * length-framed input, as 32 hex digits), UNIQUE in the table. The insert is
 * INSERT OR IGNORE and the rollup is only incremented when the insert added a
 * row, so importing the same capture twice counts each event once. A hash
 * collision between two different events is detected (the stored row is
 * compared) and the new event is stored under a re-seeded key, so no event is
 * lost to a collision. */
#include "store/store.h"
#include "store/internal.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STORE_DEFAULT_BATCH 1000u
#define STORE_BUSY_TIMEOUT_MS 10000
#define STORE_KEY_ATTEMPTS 4
/* "omam" as a big-endian int: marks the file as an omamori store. */
#define STORE_APPLICATION_ID 0x6f6d616d

/* Ordered migrations. Index i takes the schema from version i to i + 1. Never
 * edit a released entry: append a new one. */
static const char *const store_migrations[] = {
    /* 1: base tables */
    "PRAGMA application_id = 1869439341;" /* STORE_APPLICATION_ID */
    "CREATE TABLE events ("
    "  id INTEGER PRIMARY KEY,"
    "  ts_usec INTEGER NOT NULL,"
    "  day TEXT NOT NULL," /* YYYY-MM-DD, UTC, from ts_usec */
    "  tenant TEXT NOT NULL,"
    "  gateway TEXT NOT NULL,"
    "  event_type TEXT NOT NULL,"
    "  category TEXT,"
    "  severity INTEGER,"
    "  action TEXT,"
    "  src_ip TEXT,"
    "  src_port INTEGER,"
    "  dest_ip TEXT,"
    "  dest_port INTEGER,"
    "  proto TEXT,"
    "  signature TEXT,"
    "  signature_id INTEGER,"
    "  eve TEXT NOT NULL,"
    "  event_key TEXT NOT NULL UNIQUE);"
    "CREATE TABLE rollup_daily ("
    "  tenant TEXT NOT NULL,"
    "  gateway TEXT NOT NULL,"
    "  day TEXT NOT NULL,"
    "  category TEXT NOT NULL,"
    "  count INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY (tenant, category, day, gateway)) WITHOUT ROWID;"
    "CREATE TABLE coverage ("
    "  tenant TEXT NOT NULL,"
    "  gateway TEXT NOT NULL,"
    "  category TEXT NOT NULL,"
    "  day TEXT NOT NULL,"
    "  PRIMARY KEY (tenant, category, day, gateway)) WITHOUT ROWID;",
    /* 2: index for the report's per-month top sources/targets */
    "CREATE INDEX events_tenant_category_day ON events (tenant, category, day);",
    /* 3: coverage as time actually watched. One row per tenant, category,
     * UTC hour and gateway that saw packets; hour is the hour's first
     * microsecond since the epoch; packets is the count in that hour (0 when
     * unknown: an old per-day record or an hour proved only by an event).
     * The old per-day rows meant "the whole day was watched" and become the
     * 24 hours of their day; rows whose day is not a calendar date (the old
     * check let "2024-02-31" through) are dropped. */
    "CREATE TABLE watched ("
    "  tenant TEXT NOT NULL,"
    "  gateway TEXT NOT NULL,"
    "  category TEXT NOT NULL,"
    "  hour INTEGER NOT NULL,"
    "  packets INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY (tenant, category, hour, gateway)) WITHOUT ROWID;"
    "WITH RECURSIVE h(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM h WHERE n < 23)"
    " INSERT OR IGNORE INTO watched (tenant, gateway, category, hour, packets)"
    " SELECT c.tenant, c.gateway, c.category,"
    "  CAST(strftime('%s', c.day) AS INTEGER) * 1000000 + h.n * 3600000000, 0"
    " FROM coverage AS c, h WHERE date(c.day, '+0 days') IS c.day;"
    "DROP TABLE coverage;",
};

enum store_stmt {
	ST_INSERT,
	ST_ROLLUP,
	ST_WATCHED_ADD,
	ST_SAME_EVENT,
	ST_MONITORED,
	ST_TOTAL,
	ST_DAILY,
	ST_TOP_SRC,
	ST_TOP_DST,
	ST_WATCHED,
	ST_WATCHED_GW,
	ST__COUNT
};

static const char *const store_sql[ST__COUNT] = {
    [ST_INSERT] = "INSERT OR IGNORE INTO events (ts_usec, day, tenant, gateway, event_type,"
                  " category, severity, action, src_ip, src_port, dest_ip, dest_port, proto,"
                  " signature, signature_id, eve, event_key)"
                  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15,"
                  " ?16, ?17)",
    [ST_ROLLUP] = "INSERT INTO rollup_daily (tenant, gateway, day, category, count)"
                  " VALUES (?1, ?2, ?3, ?4, 1)"
                  " ON CONFLICT (tenant, category, day, gateway) DO UPDATE SET count = count + 1",
    /* the same hour again keeps one row and the larger count */
    [ST_WATCHED_ADD] = "INSERT INTO watched (tenant, gateway, category, hour, packets)"
                       " VALUES (?1, ?2, ?3, ?4, ?5)"
                       " ON CONFLICT (tenant, category, hour, gateway)"
                       " DO UPDATE SET packets = max(packets, excluded.packets)",
    [ST_SAME_EVENT] = "SELECT tenant = ?1 AND gateway = ?2 AND eve = ?3 FROM events"
                      " WHERE event_key = ?4",
    [ST_MONITORED] = "SELECT 1 FROM watched WHERE tenant = ?1 AND category = ?2"
                     " AND hour >= ?3 AND hour < ?4 LIMIT 1",
    [ST_TOTAL] = "SELECT coalesce(sum(count), 0) FROM rollup_daily WHERE tenant = ?1"
                 " AND category = ?2 AND day >= ?3 AND day <= ?4",
    [ST_DAILY] = "SELECT day, sum(count) FROM rollup_daily WHERE tenant = ?1"
                 " AND category = ?2 AND day >= ?3 AND day <= ?4 GROUP BY day ORDER BY day",
    [ST_TOP_SRC] =
        "SELECT src_ip, count(*) AS n FROM events WHERE tenant = ?1"
        " AND category = ?2 AND day >= ?3 AND day <= ?4 AND src_ip IS NOT NULL AND src_ip != ''"
        " GROUP BY src_ip ORDER BY n DESC, src_ip ASC LIMIT ?5",
    [ST_TOP_DST] =
        "SELECT dest_ip, count(*) AS n FROM events WHERE tenant = ?1"
        " AND category = ?2 AND day >= ?3 AND day <= ?4 AND dest_ip IS NOT NULL AND dest_ip != ''"
        " GROUP BY dest_ip ORDER BY n DESC, dest_ip ASC LIMIT ?5",
    /* At most 31 * 24 rows: one per distinct hour of the month. total() is a
     * float and cannot overflow where sum() would fail. */
    [ST_WATCHED] = "SELECT hour, total(packets) FROM watched WHERE tenant = ?1"
                   " AND category = ?2 AND hour >= ?3 AND hour < ?4 GROUP BY hour",
    [ST_WATCHED_GW] = "SELECT hour, total(packets) FROM watched WHERE tenant = ?1"
                      " AND category = ?2 AND hour >= ?3 AND hour < ?4 AND gateway = ?5"
                      " GROUP BY hour",
};

struct om_store {
	sqlite3 *db;
	sqlite3_stmt *stmt[ST__COUNT]; /* prepared on first use */
	unsigned batch_size;
	unsigned pending; /* events and watched hours in the open transaction */
	bool in_tx;
};

sqlite3 *store_db(om_store *s)
{
	return s->db;
}

static void set_err(char *err, size_t errlen, const char *fmt, ...) OM_PRINTF(3, 4);
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Maps an SQLite result code to a negative errno. */
static int sqlite_errno(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_ROW:
	case SQLITE_DONE: return 0;
	case SQLITE_NOMEM: return -ENOMEM;
	case SQLITE_BUSY:
	case SQLITE_LOCKED: return -EBUSY;
	case SQLITE_READONLY:
	case SQLITE_PERM:
	case SQLITE_AUTH: return -EACCES;
	case SQLITE_FULL: return -ENOSPC;
	case SQLITE_CANTOPEN: return -ENOENT;
	case SQLITE_CONSTRAINT:
	case SQLITE_MISMATCH:
	case SQLITE_RANGE: return -EINVAL;
	case SQLITE_NOTADB:
	case SQLITE_CORRUPT:
	case SQLITE_FORMAT: return -EBADMSG;
	default: return -EIO;
	}
}

static int exec_sql(om_store *s, const char *sql, char *err, size_t errlen)
{
	char *msg = NULL;
	int rc = sqlite3_exec(s->db, sql, NULL, NULL, &msg);

	if (rc != SQLITE_OK) {
		set_err(err, errlen, om_tr("err.store.sql"), msg ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		return sqlite_errno(rc) ? sqlite_errno(rc) : -EIO;
	}
	return 0;
}

static int pragma_int(om_store *s, const char *sql, int *ret)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);

	if (rc != SQLITE_OK)
		return sqlite_errno(rc);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*ret = sqlite3_column_int(st, 0);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_OK ? 0 : (sqlite_errno(rc) ? sqlite_errno(rc) : -EIO);
}

static sqlite3_stmt *get_stmt(om_store *s, enum store_stmt which)
{
	if (!s->stmt[which]) {
		int rc = sqlite3_prepare_v3(s->db, store_sql[which], -1, SQLITE_PREPARE_PERSISTENT,
		                            &s->stmt[which], NULL);
		if (rc != SQLITE_OK) {
			om_err(om_tr("err.store.prepare"), sqlite3_errmsg(s->db));
			s->stmt[which] = NULL;
			return NULL;
		}
	}
	sqlite3_reset(s->stmt[which]);
	return s->stmt[which];
}

static void finalize_all(om_store *s)
{
	for (size_t i = 0; i < ST__COUNT; i++) {
		sqlite3_finalize(s->stmt[i]);
		s->stmt[i] = NULL;
	}
}

static int store_configure(om_store *s, const char *path, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	int rc, r;

	sqlite3_busy_timeout(s->db, STORE_BUSY_TIMEOUT_MS);

	rc = sqlite3_prepare_v2(s->db, "PRAGMA journal_mode = WAL", -1, &st, NULL);
	if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
		const char *mode = (const char *)sqlite3_column_text(st, 0);
		/* An in-memory database (tests) cannot be WAL; a file must be. */
		if ((!mode || strcmp(mode, "wal") != 0) && strcmp(path, ":memory:") != 0) {
			set_err(err, errlen, om_tr("err.store.wal"), path,
			        mode ? mode : om_tr("err.store.wal_none"));
			sqlite3_finalize(st);
			return -EIO;
		}
	} else {
		set_err(err, errlen, "%s: %s", path, sqlite3_errmsg(s->db));
		r = sqlite_errno(rc ? rc : sqlite3_errcode(s->db));
		sqlite3_finalize(st);
		return r ? r : -EIO;
	}
	sqlite3_finalize(st);

	/* synchronous=NORMAL: in WAL mode every committed transaction survives a
	 * crash of the process (kill -9, segfault) and the database stays
	 * consistent across a power loss; only the last commits before a power
	 * loss may be rolled back. Those events are still in the gateway's spool
	 * or EVE files and re-importing them is idempotent (event_key), so FULL's
	 * fsync per commit would buy nothing but a slower import. */
	/* 32 MiB of page cache: the event_key index takes random inserts, and a
	 * cache smaller than it makes a large import several times slower. */
	r = exec_sql(s, "PRAGMA synchronous = NORMAL; PRAGMA cache_size = -32768;", err, errlen);
	if (r < 0)
		return r;

	int app_id = 0;
	r = pragma_int(s, "PRAGMA application_id", &app_id);
	if (r < 0) {
		set_err(err, errlen, "%s: %s", path, sqlite3_errmsg(s->db));
		return r;
	}
	if (app_id != 0 && app_id != STORE_APPLICATION_ID) {
		set_err(err, errlen, om_tr("err.store.foreign"), path, app_id);
		return -EBADMSG;
	}
	return 0;
}

static int store_open(const char *path, om_store **ret, bool migrate, char *err, size_t errlen)
{
	om_store *s;
	int rc, r;

	if (!path || !*path || !ret) {
		set_err(err, errlen, "%s", om_tr("err.store.no_path"));
		return -EINVAL;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		set_err(err, errlen, "%s", om_tr("err.nomem"));
		return -ENOMEM;
	}
	s->batch_size = STORE_DEFAULT_BATCH;

	rc = sqlite3_open_v2(
	    path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		set_err(err, errlen, om_tr("err.store.open"), path,
		        s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
		r = sqlite_errno(rc);
		goto fail;
	}
	sqlite3_extended_result_codes(s->db, 1);

	r = store_configure(s, path, err, errlen);
	if (r < 0)
		goto fail;

	if (migrate) {
		r = om_store_migrate(s, NULL, NULL, err, errlen);
		if (r < 0)
			goto fail;
		r = om_store_drill_schema(s, err, errlen);
		if (r < 0)
			goto fail;
		r = store_console_schema(s, err, errlen);
		if (r < 0)
			goto fail;
		r = om_store_report2_schema(s, err, errlen);
		if (r < 0)
			goto fail;
		r = om_store_appctl_schema(s, err, errlen);
		if (r < 0)
			goto fail;
		r = store_desk_schema(s, err, errlen);
		if (r < 0)
			goto fail;
	}
	*ret = s;
	return 0;

fail:
	sqlite3_close(s->db);
	free(s);
	return r < 0 ? r : -EIO;
}

int om_store_open(const char *path, om_store **ret, char *err, size_t errlen)
{
	return store_open(path, ret, true, err, errlen);
}

int om_store_open_nomigrate(const char *path, om_store **ret, char *err, size_t errlen)
{
	return store_open(path, ret, false, err, errlen);
}

int om_store_latest_version(void)
{
	return (int)OM_ARRAY_SIZE(store_migrations);
}

int om_store_schema_version(om_store *s)
{
	int v = 0;
	int r;

	if (!s)
		return -EINVAL;
	r = pragma_int(s, "PRAGMA user_version", &v);
	return r < 0 ? r : v;
}

int om_store_migrate(om_store *s, int *ret_from, int *ret_to, char *err, size_t errlen)
{
	int from, v, r;
	const int latest = om_store_latest_version();

	if (!s) {
		set_err(err, errlen, "%s", om_tr("err.store.no_db"));
		return -EINVAL;
	}
	r = om_store_flush(s);
	if (r < 0) {
		set_err(err, errlen, "%s", om_tr("err.store.migrate_flush"));
		return r;
	}
	from = om_store_schema_version(s);
	if (from < 0) {
		set_err(err, errlen, om_tr("err.store.version_detail"), sqlite3_errmsg(s->db));
		return from;
	}
	if (from > latest) {
		set_err(err, errlen, om_tr("err.store.too_new"), from, latest);
		return -EPROTONOSUPPORT;
	}

	/* Statements prepared against an older schema are dropped first. */
	finalize_all(s);

	for (v = from; v < latest; v++) {
		char bump[64];

		/* IMMEDIATE takes the write lock now: two processes migrating the
		 * same file serialise, and the second sees the new version. */
		r = exec_sql(s, "BEGIN IMMEDIATE", err, errlen);
		if (r < 0)
			return r;
		int cur = 0;
		r = pragma_int(s, "PRAGMA user_version", &cur);
		if (r < 0 || cur != v) {
			exec_sql(s, "ROLLBACK", NULL, 0);
			if (r == 0 && cur > v) {
				/* Someone else migrated meanwhile; continue from there. */
				v = cur - 1;
				if (cur > latest) {
					set_err(err, errlen, om_tr("err.store.too_new"), cur,
					        latest);
					return -EPROTONOSUPPORT;
				}
				continue;
			}
			set_err(err, errlen, "%s", om_tr("err.store.version"));
			return r < 0 ? r : -EIO;
		}
		r = exec_sql(s, store_migrations[v], err, errlen);
		if (r == 0) {
			snprintf(bump, sizeof(bump), "PRAGMA user_version = %d", v + 1);
			r = exec_sql(s, bump, err, errlen);
		}
		if (r == 0)
			r = exec_sql(s, "COMMIT", err, errlen);
		if (r < 0) {
			char detail[256];
			snprintf(detail, sizeof(detail), "%s", err ? err : "");
			exec_sql(s, "ROLLBACK", NULL, 0);
			set_err(err, errlen, om_tr("err.store.migration"), v + 1, detail);
			return r;
		}
		om_info(om_tr("msg.store.migrated"), v + 1);
	}
	if (ret_from)
		*ret_from = from;
	if (ret_to)
		*ret_to = latest > from ? latest : from;
	return 0;
}

static int tx_begin(om_store *s)
{
	int r;

	if (s->in_tx)
		return 0;
	r = exec_sql(s, "BEGIN IMMEDIATE", NULL, 0);
	if (r < 0) {
		om_err(om_tr("err.store.begin"), sqlite3_errmsg(s->db));
		return r;
	}
	s->in_tx = true;
	s->pending = 0;
	return 0;
}

int om_store_flush(om_store *s)
{
	int r;

	if (!s)
		return -EINVAL;
	if (!s->in_tx)
		return 0;
	r = exec_sql(s, "COMMIT", NULL, 0);
	if (r < 0) {
		om_err(om_tr("err.store.commit"), sqlite3_errmsg(s->db));
		/* A failed COMMIT may leave the transaction open (SQLITE_BUSY): keep
		 * in_tx so that a later flush retries. If SQLite rolled it back, the
		 * pending events are gone and the caller must add them again. */
		if (sqlite3_get_autocommit(s->db)) {
			s->in_tx = false;
			s->pending = 0;
		}
		return r;
	}
	s->in_tx = false;
	s->pending = 0;
	return 0;
}

/* After a failed statement inside the batch: if SQLite rolled the whole
 * transaction back (I/O error, disk full), the batch is lost. */
static int after_failure(om_store *s, int rc)
{
	if (s->in_tx && sqlite3_get_autocommit(s->db)) {
		om_err(om_tr("err.store.rolled_back"), sqlite3_errmsg(s->db), s->pending);
		s->in_tx = false;
		s->pending = 0;
		return -EIO;
	}
	return sqlite_errno(rc) ? sqlite_errno(rc) : -EIO;
}

static int batch_tick(om_store *s)
{
	s->pending++;
	if (s->pending >= s->batch_size)
		return om_store_flush(s);
	return 0;
}

static void hash_update(uint64_t *h, const char *p, size_t n)
{
	uint64_t len = n;

	/* Length framing: ("ab","c") and ("a","bc") hash differently. */
	*h = om_hash64(&len, sizeof(len), *h);
	*h = om_hash64(p, n, *h);
}

static void event_key(const om_store_event *ev, unsigned attempt, char out[33])
{
	uint64_t h1 = 0x6f6d616d6f726901ull + attempt * 0x9e3779b97f4a7c15ull;
	uint64_t h2 = 0x5f6b65795f736564ull ^ (attempt * 0xc2b2ae3d27d4eb4full);

	hash_update(&h1, ev->tenant, strlen(ev->tenant));
	hash_update(&h1, ev->gateway, strlen(ev->gateway));
	hash_update(&h1, ev->eve_json, strlen(ev->eve_json));
	hash_update(&h2, ev->tenant, strlen(ev->tenant));
	hash_update(&h2, ev->gateway, strlen(ev->gateway));
	hash_update(&h2, ev->eve_json, strlen(ev->eve_json));
	snprintf(out, 33, "%016" PRIx64 "%016" PRIx64, h1, h2);
}

static int bind_text(sqlite3_stmt *st, int idx, const char *v)
{
	if (!v)
		return sqlite3_bind_null(st, idx);
	return sqlite3_bind_text(st, idx, v, -1, SQLITE_STATIC);
}

/* Returns 1 if the row stored under key is this very event, 0 if it is a
 * different event (a hash collision), negative on error. */
static int same_event(om_store *s, const om_store_event *ev, const char *key)
{
	sqlite3_stmt *st = get_stmt(s, ST_SAME_EVENT);
	int rc, r;

	if (!st)
		return -EIO;
	bind_text(st, 1, ev->tenant);
	bind_text(st, 2, ev->gateway);
	bind_text(st, 3, ev->eve_json);
	bind_text(st, 4, key);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		r = sqlite3_column_int(st, 0) ? 1 : 0;
	else if (rc == SQLITE_DONE)
		r = 0;
	else
		r = sqlite_errno(rc) ? sqlite_errno(rc) : -EIO;
	sqlite3_reset(st);
	return r;
}

#define USEC_PER_HOUR (3600ull * 1000000ull)
#define USEC_PER_DAY (24ull * USEC_PER_HOUR)

/* hour_start must be the first microsecond of an hour, <= INT64_MAX. */
static int upsert_watched(om_store *s, const char *tenant, const char *gateway,
                          const char *category, om_usec hour_start, uint64_t packets)
{
	sqlite3_stmt *st = get_stmt(s, ST_WATCHED_ADD);
	int rc;

	if (!st)
		return -EIO;
	bind_text(st, 1, tenant);
	bind_text(st, 2, gateway);
	bind_text(st, 3, category);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)hour_start);
	sqlite3_bind_int64(st, 5, packets > INT64_MAX ? INT64_MAX : (sqlite3_int64)packets);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : after_failure(s, rc);
}

int om_store_add_event(om_store *s, const om_store_event *ev)
{
	char day[16], key[33];
	sqlite3_stmt *st;
	int rc, r;
	unsigned attempt;

	if (!s || !ev || !ev->tenant || !ev->gateway || !ev->event_type || !ev->eve_json)
		return -EINVAL;
	if (ev->ts > (om_usec)INT64_MAX)
		return -ERANGE;
	om_time_day(ev->ts, day, sizeof(day));

	r = tx_begin(s);
	if (r < 0)
		return r;

	for (attempt = 0; attempt < STORE_KEY_ATTEMPTS; attempt++) {
		event_key(ev, attempt, key);
		st = get_stmt(s, ST_INSERT);
		if (!st)
			return -EIO;
		sqlite3_bind_int64(st, 1, (sqlite3_int64)ev->ts);
		bind_text(st, 2, day);
		bind_text(st, 3, ev->tenant);
		bind_text(st, 4, ev->gateway);
		bind_text(st, 5, ev->event_type);
		bind_text(st, 6, ev->category);
		sqlite3_bind_int(st, 7, ev->severity);
		bind_text(st, 8, ev->action);
		bind_text(st, 9, ev->src_ip && *ev->src_ip ? ev->src_ip : NULL);
		sqlite3_bind_int(st, 10, ev->src_port);
		bind_text(st, 11, ev->dest_ip && *ev->dest_ip ? ev->dest_ip : NULL);
		sqlite3_bind_int(st, 12, ev->dest_port);
		bind_text(st, 13, ev->proto);
		bind_text(st, 14, ev->signature);
		sqlite3_bind_int64(st, 15, ev->signature_id);
		bind_text(st, 16, ev->eve_json);
		bind_text(st, 17, key);
		rc = sqlite3_step(st);
		sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			return after_failure(s, rc);
		if (sqlite3_changes(s->db) == 1)
			break; /* a new event */
		r = same_event(s, ev, key);
		if (r < 0)
			return after_failure(s, SQLITE_IOERR);
		if (r == 1)
			return batch_tick(s); /* already stored: nothing to count */
		om_warn(om_tr("warn.store.key_collision"), key);
	}
	if (attempt == STORE_KEY_ATTEMPTS) {
		om_err(om_tr("err.store.key_collisions"), STORE_KEY_ATTEMPTS);
		return -EEXIST;
	}

	if (ev->category && *ev->category) {
		st = get_stmt(s, ST_ROLLUP);
		if (!st)
			return -EIO;
		bind_text(st, 1, ev->tenant);
		bind_text(st, 2, ev->gateway);
		bind_text(st, 3, day);
		bind_text(st, 4, ev->category);
		rc = sqlite3_step(st);
		sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			return after_failure(s, rc);
		/* An event in a category proves the category was watched in that
		 * hour, even if the gateway's coverage record never arrived. The
		 * packet count is not known here: 0, and a later record's count
		 * wins (max). */
		r = upsert_watched(s, ev->tenant, ev->gateway, ev->category,
		                   ev->ts - ev->ts % USEC_PER_HOUR, 0);
		if (r < 0)
			return r;
	}
	return batch_tick(s);
}

/* Days since 1970-01-01 of a proleptic Gregorian date (negative before);
 * the usual era-based conversion, valid for any int year here. */
static int64_t days_from_civil(int y, int m, int d)
{
	y -= m <= 2;
	const int64_t era = (y >= 0 ? y : y - 399) / 400;
	const int64_t yoe = y - era * 400;
	const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int days_in_month(int y, int m)
{
	static const int d[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return m == 2 && leap ? 29 : d[m - 1];
}

/* Reads the first n characters of p as decimal digits. */
static bool digits(const char *p, int n, int *ret)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
		v = v * 10 + (p[i] - '0');
	}
	*ret = v;
	return true;
}

/* "YYYY-MM-DD", a calendar date from 1970 on, into its first microsecond. */
static int parse_day(const char *d, om_usec *ret)
{
	int y, m, dd;

	if (!d || strlen(d) != 10 || d[4] != '-' || d[7] != '-' || !digits(d, 4, &y) ||
	    !digits(d + 5, 2, &m) || !digits(d + 8, 2, &dd))
		return -EINVAL;
	if (y < 1970 || m < 1 || m > 12 || dd < 1 || dd > days_in_month(y, m))
		return -EINVAL;
	*ret = (om_usec)days_from_civil(y, m, dd) * USEC_PER_DAY;
	return 0;
}

int om_store_add_watched(om_store *s, const char *tenant, const char *gateway, const char *category,
                         om_usec hour_start, uint64_t packets)
{
	int r;

	if (!s || !tenant || !gateway || !category || !*category)
		return -EINVAL;
	if (hour_start > (om_usec)INT64_MAX)
		return -ERANGE;
	r = tx_begin(s);
	if (r < 0)
		return r;
	r = upsert_watched(s, tenant, gateway, category, hour_start - hour_start % USEC_PER_HOUR,
	                   packets);
	if (r < 0)
		return r;
	return batch_tick(s);
}

int om_store_add_coverage(om_store *s, const char *tenant, const char *gateway,
                          const char *category, const char *day)
{
	om_usec start;
	int r;

	if (!s || !tenant || !gateway || !category || !*category || parse_day(day, &start) < 0)
		return -EINVAL;
	r = tx_begin(s);
	if (r < 0)
		return r;
	for (unsigned h = 0; h < 24; h++) {
		r = upsert_watched(s, tenant, gateway, category, start + h * USEC_PER_HOUR, 0);
		if (r < 0)
			return r;
	}
	return batch_tick(s);
}

void om_store_set_batch_size(om_store *s, unsigned n)
{
	if (s)
		s->batch_size = n ? n : 1;
}

om_store *om_store_close(om_store *s)
{
	if (!s)
		return NULL;
	if (om_store_flush(s) < 0 && s->in_tx)
		exec_sql(s, "ROLLBACK", NULL, 0);
	finalize_all(s);
	if (sqlite3_close(s->db) != SQLITE_OK)
		om_err(om_tr("err.store.close"), sqlite3_errmsg(s->db));
	free(s);
	return NULL;
}

/* ---- queries ---- */

/* month "YYYY-MM" (01..12) into the first and last possible day strings. */
static int month_range(const char *month, char first[11], char last[11])
{
	if (!month || strlen(month) != 7 || month[4] != '-')
		return -EINVAL;
	for (int i = 0; i < 7; i++) {
		if (i != 4 && (month[i] < '0' || month[i] > '9'))
			return -EINVAL;
	}
	int m = (month[5] - '0') * 10 + (month[6] - '0');
	if (m < 1 || m > 12)
		return -EINVAL;
	memcpy(first, month, 7);
	memcpy(first + 7, "-01", 4);
	memcpy(last, month, 7);
	memcpy(last + 7, "-31", 4); /* days compare as strings; "-31" bounds any month */
	return 0;
}

static sqlite3_stmt *query_begin(om_store *s, enum store_stmt which, const char *tenant,
                                 const char *month, const char *category, int *ret_err)
{
	char first[11], last[11];
	sqlite3_stmt *st;

	if (!s || !tenant || !category || month_range(month, first, last) < 0) {
		*ret_err = -EINVAL;
		return NULL;
	}
	st = get_stmt(s, which);
	if (!st) {
		*ret_err = -EIO;
		return NULL;
	}
	/* TRANSIENT: first/last live on this stack frame only. */
	sqlite3_bind_text(st, 1, tenant, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, category, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, first, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, last, -1, SQLITE_TRANSIENT);
	return st;
}

/* month "YYYY-MM" into its first microsecond and the first of the next
 * month (signed: a month before 1970 is a valid, empty range), and its
 * number of days. */
static int month_usec(const char *month, int64_t *ret_start, int64_t *ret_end, int *ret_ndays)
{
	char first[11], last[11];
	int y, m;

	if (month_range(month, first, last) < 0 || !digits(month, 4, &y) ||
	    !digits(month + 5, 2, &m))
		return -EINVAL;
	*ret_start = days_from_civil(y, m, 1) * (int64_t)USEC_PER_DAY;
	*ret_ndays = days_in_month(y, m);
	*ret_end = *ret_start + *ret_ndays * (int64_t)USEC_PER_DAY;
	return 0;
}

static sqlite3_stmt *watched_begin(om_store *s, enum store_stmt which, const char *tenant,
                                   const char *month, const char *category, int64_t *ret_start,
                                   int *ret_ndays, int *ret_err)
{
	int64_t start, end;
	sqlite3_stmt *st;

	if (!s || !tenant || !category || month_usec(month, &start, &end, ret_ndays) < 0) {
		*ret_err = -EINVAL;
		return NULL;
	}
	st = get_stmt(s, which);
	if (!st) {
		*ret_err = -EIO;
		return NULL;
	}
	sqlite3_bind_text(st, 1, tenant, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, category, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, start);
	sqlite3_bind_int64(st, 4, end);
	*ret_start = start;
	return st;
}

int om_store_monitored(om_store *s, const char *tenant, const char *month, const char *category)
{
	int r = 0, rc, ndays;
	int64_t start;
	sqlite3_stmt *st =
	    watched_begin(s, ST_MONITORED, tenant, month, category, &start, &ndays, &r);

	if (!st)
		return r;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		r = 1;
	else if (rc == SQLITE_DONE)
		r = 0;
	else
		r = sqlite_errno(rc) ? sqlite_errno(rc) : -EIO;
	sqlite3_reset(st);
	return r;
}

int om_store_month_watched(om_store *s, const char *tenant, const char *gateway, const char *month,
                           const char *category, om_store_watched *ret)
{
	om_store_watched w;
	int r = 0, rc, ndays;
	int64_t start;
	sqlite3_stmt *st;

	if (!ret)
		return -EINVAL;
	st = watched_begin(s, gateway ? ST_WATCHED_GW : ST_WATCHED, tenant, month, category, &start,
	                   &ndays, &r);
	if (!st)
		return r;
	if (gateway)
		sqlite3_bind_text(st, 5, gateway, -1, SQLITE_TRANSIENT);
	memset(&w, 0, sizeof(w));
	w.ndays = (uint32_t)ndays;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t off = sqlite3_column_int64(st, 0) - start;
		/* Every stored hour is aligned; anything else is not counted. */
		if (off < 0 || off % (int64_t)USEC_PER_HOUR != 0)
			continue;
		int64_t h = off / (int64_t)USEC_PER_HOUR;
		if (h >= (int64_t)ndays * 24)
			continue;
		w.hour_map[h / 8] |= (uint8_t)(1u << (h % 8));
		if (w.day_hours[h / 24]++ == 0)
			w.days++;
		w.hours++;
		/* exact below 2^53 packets an hour; saturates beyond */
		double p = sqlite3_column_double(st, 1);
		uint64_t n = p <= 0 ? 0 : p >= 18446744073709549568.0 ? UINT64_MAX : (uint64_t)p;
		w.packets = n > UINT64_MAX - w.packets ? UINT64_MAX : w.packets + n;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return sqlite_errno(rc) ? sqlite_errno(rc) : -EIO;
	*ret = w;
	return 0;
}

int om_store_month_total(om_store *s, const char *tenant, const char *month, const char *category,
                         uint64_t *ret)
{
	int r = 0, rc;
	sqlite3_stmt *st = query_begin(s, ST_TOTAL, tenant, month, category, &r);

	if (!st)
		return r;
	if (!ret) {
		sqlite3_reset(st);
		return -EINVAL;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		sqlite3_int64 v = sqlite3_column_int64(st, 0);
		*ret = v > 0 ? (uint64_t)v : 0;
		r = 0;
	} else {
		r = sqlite_errno(rc) ? sqlite_errno(rc) : -EIO;
	}
	sqlite3_reset(st);
	return r;
}

static int collect_counts(sqlite3_stmt *st, om_store_count *out, size_t max, size_t *ret_n)
{
	size_t n = 0;
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n >= max)
			break;
		const unsigned char *k = sqlite3_column_text(st, 0);
		sqlite3_int64 c = sqlite3_column_int64(st, 1);
		snprintf(out[n].key, sizeof(out[n].key), "%s", k ? (const char *)k : "");
		out[n].count = c > 0 ? (uint64_t)c : 0;
		n++;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return sqlite_errno(rc) ? sqlite_errno(rc) : -EIO;
	*ret_n = n;
	return 0;
}

int om_store_month_daily(om_store *s, const char *tenant, const char *month, const char *category,
                         om_store_count *out, size_t max, size_t *ret_n)
{
	int r = 0;
	sqlite3_stmt *st;

	if (!ret_n || (!out && max))
		return -EINVAL;
	st = query_begin(s, ST_DAILY, tenant, month, category, &r);
	if (!st)
		return r;
	return collect_counts(st, out, max, ret_n);
}

int om_store_month_top(om_store *s, const char *tenant, const char *month, const char *category,
                       bool sources, om_store_count *out, size_t max, size_t *ret_n)
{
	int r = 0;
	sqlite3_stmt *st;

	if (!ret_n || (!out && max))
		return -EINVAL;
	st = query_begin(s, sources ? ST_TOP_SRC : ST_TOP_DST, tenant, month, category, &r);
	if (!st)
		return r;
	sqlite3_bind_int64(st, 5, max > INT32_MAX ? INT32_MAX : (sqlite3_int64)max);
	return collect_counts(st, out, max, ret_n);
}
