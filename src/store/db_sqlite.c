/* store: the database layer on SQLite. A thin shell over sqlite3: the
 * connection is opened in WAL mode, statements are sqlite3_stmt, and result
 * codes become the layer's negative errno values. */
#include "store/db_impl.h"
#include "store/internal.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/base.h"

#define BUSY_TIMEOUT_MS 10000

struct sq_db {
	struct om_db base;
	sqlite3 *db;
};

struct sq_stmt {
	struct om_db_stmt base;
	sqlite3_stmt *st;
};

static const struct om_db_ops sq_ops;

static sqlite3 *H(om_db *db)
{
	return ((struct sq_db *)db)->db;
}

static sqlite3_stmt *S(om_db_stmt *st)
{
	return ((struct sq_stmt *)st)->st;
}

static int sq_errno(int rc)
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
		return rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY
		           ? -EEXIST
		           : -EINVAL;
	case SQLITE_MISMATCH:
	case SQLITE_RANGE: return -EINVAL;
	case SQLITE_NOTADB:
	case SQLITE_CORRUPT:
	case SQLITE_FORMAT: return -EBADMSG;
	default: return -EIO;
	}
}

static int sq_fail(int rc)
{
	int r = sq_errno(rc);
	return r ? r : -EIO;
}

static void sq_close(om_db *db)
{
	struct sq_db *d = (struct sq_db *)db;
	if (sqlite3_close(d->db) != SQLITE_OK)
		om_err(om_tr("err.store.close"), sqlite3_errmsg(d->db));
	free(d);
}

static const char *sq_errmsg(om_db *db)
{
	return sqlite3_errmsg(H(db));
}

static int sq_exec(om_db *db, const char *sql, char *err, size_t errlen)
{
	char *msg = NULL;
	int rc = sqlite3_exec(H(db), sql, NULL, NULL, &msg);

	if (rc != SQLITE_OK) {
		if (err && errlen)
			snprintf(err, errlen, om_tr("err.store.sql"),
			         msg ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		return sq_fail(sqlite3_extended_errcode(H(db)));
	}
	return 0;
}

static int sq_prepare(om_db *db, const char *sql, om_db_stmt **ret)
{
	struct sq_stmt *s = calloc(1, sizeof(*s));
	int rc;

	if (!s)
		return -ENOMEM;
	rc = sqlite3_prepare_v3(H(db), sql, -1, SQLITE_PREPARE_PERSISTENT, &s->st, NULL);
	if (rc != SQLITE_OK) {
		om_err(om_tr("err.store.prepare"), sqlite3_errmsg(H(db)));
		free(s);
		return sq_fail(rc);
	}
	s->base.db = db;
	*ret = &s->base;
	return 0;
}

static int sq_bind_int64(om_db_stmt *st, int idx, int64_t v)
{
	return sq_errno(sqlite3_bind_int64(S(st), idx, v));
}

static int sq_bind_text(om_db_stmt *st, int idx, const char *v)
{
	return sq_errno(sqlite3_bind_text(S(st), idx, v, -1, SQLITE_TRANSIENT));
}

static int sq_bind_blob(om_db_stmt *st, int idx, const void *p, size_t n)
{
	if (n > INT32_MAX)
		return -E2BIG;
	return sq_errno(sqlite3_bind_blob(S(st), idx, p ? p : "", (int)n, SQLITE_TRANSIENT));
}

static int sq_bind_null(om_db_stmt *st, int idx)
{
	return sq_errno(sqlite3_bind_null(S(st), idx));
}

static int sq_step(om_db_stmt *st)
{
	int rc = sqlite3_step(S(st));
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	return sq_fail(sqlite3_extended_errcode(sqlite3_db_handle(S(st))));
}

static void sq_reset(om_db_stmt *st)
{
	sqlite3_reset(S(st));
}

static void sq_finalize(om_db_stmt *st)
{
	sqlite3_finalize(S(st));
	free(st);
}

static int sq_column_count(om_db_stmt *st)
{
	return sqlite3_column_count(S(st));
}

static bool sq_column_is_null(om_db_stmt *st, int i)
{
	return sqlite3_column_type(S(st), i) == SQLITE_NULL;
}

static int64_t sq_column_int64(om_db_stmt *st, int i)
{
	return sqlite3_column_int64(S(st), i);
}

static double sq_column_double(om_db_stmt *st, int i)
{
	return sqlite3_column_double(S(st), i);
}

static const char *sq_column_text(om_db_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(S(st), i);
}

static const void *sq_column_blob(om_db_stmt *st, int i, size_t *ret_n)
{
	const void *p = sqlite3_column_blob(S(st), i);
	int n = sqlite3_column_bytes(S(st), i);
	*ret_n = p && n > 0 ? (size_t)n : 0;
	return *ret_n ? p : NULL;
}

static int64_t sq_changes(om_db *db)
{
	return sqlite3_changes64(H(db));
}

static enum om_db_tx sq_tx_state(om_db *db)
{
	return sqlite3_get_autocommit(H(db)) ? OM_DB_TX_NONE : OM_DB_TX_OPEN;
}

static const struct om_db_ops sq_ops = {
    .close = sq_close,
    .errmsg = sq_errmsg,
    .exec = sq_exec,
    .prepare = sq_prepare,
    .bind_int64 = sq_bind_int64,
    .bind_text = sq_bind_text,
    .bind_blob = sq_bind_blob,
    .bind_null = sq_bind_null,
    .step = sq_step,
    .reset = sq_reset,
    .finalize = sq_finalize,
    .column_count = sq_column_count,
    .column_is_null = sq_column_is_null,
    .column_int64 = sq_column_int64,
    .column_double = sq_column_double,
    .column_text = sq_column_text,
    .column_blob = sq_column_blob,
    .changes = sq_changes,
    .tx_state = sq_tx_state,
    /* IMMEDIATE takes the write lock now: two writers serialise at BEGIN
     * instead of failing at their first write */
    .begin_sql = "BEGIN IMMEDIATE",
};

/* WAL, NORMAL synchronous, a 32 MiB cache. */
static int sq_configure(struct sq_db *d, const char *path, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	int rc, r;

	sqlite3_busy_timeout(d->db, BUSY_TIMEOUT_MS);
	rc = sqlite3_prepare_v2(d->db, "PRAGMA journal_mode = WAL", -1, &st, NULL);
	/* The switch to WAL needs the file to itself for a moment: a second
	 * process opening the same new file at that moment gets the old mode
	 * or SQLITE_BUSY back (the busy handler is not asked). Try again for a
	 * while before calling it a failure. */
	for (int tries = 0; rc == SQLITE_OK && tries < 200; tries++) {
		int step = sqlite3_step(st);
		const char *m =
		    step == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
		if ((m && !strcmp(m, "wal")) || !strcmp(path, ":memory:"))
			break;
		sqlite3_reset(st);
		struct timespec ts = {0, 10 * 1000 * 1000L};
		nanosleep(&ts, NULL);
	}
	sqlite3_reset(st);
	if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
		const char *mode = (const char *)sqlite3_column_text(st, 0);
		/* An in-memory database (tests) cannot be WAL; a file must be. */
		if ((!mode || strcmp(mode, "wal") != 0) && strcmp(path, ":memory:") != 0) {
			if (err && errlen)
				snprintf(err, errlen, om_tr("err.store.wal"), path,
				         mode ? mode : om_tr("err.store.wal_none"));
			sqlite3_finalize(st);
			return -EIO;
		}
	} else {
		if (err && errlen)
			snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(d->db));
		r = sq_errno(rc ? rc : sqlite3_errcode(d->db));
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
	return sq_exec(&d->base, "PRAGMA synchronous = NORMAL; PRAGMA cache_size = -32768;", err,
	               errlen);
}

int om_db_sqlite_open(const char *path, om_db **ret, char *err, size_t errlen)
{
	struct sq_db *d = calloc(1, sizeof(*d));
	int rc, r;

	if (!d) {
		if (err && errlen)
			snprintf(err, errlen, "%s", om_tr("err.nomem"));
		return -ENOMEM;
	}
	d->base.ops = &sq_ops;
	d->base.backend = OM_DB_SQLITE;
	rc = sqlite3_open_v2(
	    path, &d->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		if (err && errlen)
			snprintf(err, errlen, om_tr("err.store.open"), path,
			         d->db ? sqlite3_errmsg(d->db) : sqlite3_errstr(rc));
		r = sq_fail(rc);
		goto fail;
	}
	sqlite3_extended_result_codes(d->db, 1);
	r = sq_configure(d, path, err, errlen);
	if (r < 0)
		goto fail;
	*ret = &d->base;
	return 0;
fail:
	sqlite3_close(d->db);
	free(d);
	return r;
}
