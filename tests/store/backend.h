/* The store's tests on either backend. Without OMAMORI_TEST_PG_HOST a test
 * database is an SQLite file in a new temporary directory; with it (set by
 * tests/store/with-pg, which runs the test beside a PostgreSQL server of its
 * own) it is a new database on that server, created for the test and
 * dropped afterwards. raw_* read and write it over a second connection, as
 * another process would. Header-only: each test file includes it once. */
#ifndef OMAMORI_TESTS_STORE_BACKEND_H
#define OMAMORI_TESTS_STORE_BACKEND_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/db.h"

struct tmpdb {
	char dir[256];
	char path[600];
	char name[64]; /* PostgreSQL: the database's name */
};

static inline const char *tb_pg_host(void)
{
	const char *h = getenv("OMAMORI_TEST_PG_HOST");
	return h && *h ? h : NULL;
}

static inline bool tb_pg(void)
{
	return tb_pg_host() != NULL;
}

static inline void tb_pg_url(const char *dbname, char *out, size_t n)
{
	const char *user = getenv("OMAMORI_TEST_PG_USER");
	snprintf(out, n, "postgresql://%s@/%s?host=%s", user && *user ? user : "omamori", dbname,
	         tb_pg_host());
}

/* Runs sql on the server's maintenance database. */
static inline void tb_pg_admin(const char *sql)
{
	char url[600], err[512] = "";
	om_db *db = NULL;
	tb_pg_url("postgres", url, sizeof(url));
	assert_int_equal(om_db_open(url, &db, err, sizeof(err)), 0);
	if (om_db_exec(db, sql, err, sizeof(err)) != 0)
		fail_msg("%s: %s", sql, err);
	om_db_close(db);
}

static unsigned tb_seq;

static inline void tmpdb_make(struct tmpdb *t)
{
	memset(t, 0, sizeof(*t));
	if (tb_pg()) {
		char sql[128];
		snprintf(t->name, sizeof(t->name), "omt_%ld_%u", (long)getpid(), tb_seq++);
		snprintf(sql, sizeof(sql), "CREATE DATABASE %s", t->name);
		tb_pg_admin(sql);
		tb_pg_url(t->name, t->path, sizeof(t->path));
		return;
	}
	const char *base = getenv("TMPDIR");
	snprintf(t->dir, sizeof(t->dir), "%s/omamori-store-XXXXXX", base && *base ? base : "/tmp");
	assert_non_null(mkdtemp(t->dir));
	snprintf(t->path, sizeof(t->path), "%s/events.db", t->dir);
}

static inline void tmpdb_remove(struct tmpdb *t)
{
	if (t->name[0]) {
		char sql[128];
		snprintf(sql, sizeof(sql), "DROP DATABASE %s WITH (FORCE)", t->name);
		tb_pg_admin(sql);
		return;
	}
	char p[640];
	const char *suffix[] = {"", "-wal", "-shm", "-journal"};
	for (size_t i = 0; i < 4; i++) {
		snprintf(p, sizeof(p), "%s%s", t->path, suffix[i]);
		unlink(p);
	}
	rmdir(t->dir);
}

static inline om_db *raw_open(const char *path)
{
	om_db *db = NULL;
	char err[512] = "";
	if (om_db_open(path, &db, err, sizeof(err)) != 0)
		fail_msg("%s: %s", path, err);
	return db;
}

/* One integer from a query over a separate connection (-1: no row). */
static inline int64_t raw_int(const char *path, const char *sql)
{
	om_db *db = raw_open(path);
	om_db_stmt *st = NULL;
	int64_t v = -1;
	assert_int_equal(om_db_prepare(db, sql, &st), 0);
	if (om_db_step(st) == 1)
		v = om_db_column_int64(st, 0);
	om_db_finalize(st);
	om_db_close(db);
	return v;
}

static inline void raw_exec(const char *path, const char *sql)
{
	om_db *db = raw_open(path);
	char err[512] = "";
	if (om_db_exec(db, sql, err, sizeof(err)) != 0)
		fail_msg("%s: %s", sql, err);
	om_db_close(db);
}

static char raw_text_buf[256];
static inline const char *raw_text(const char *path, const char *sql)
{
	om_db *db = raw_open(path);
	om_db_stmt *st = NULL;
	raw_text_buf[0] = 0;
	assert_int_equal(om_db_prepare(db, sql, &st), 0);
	if (om_db_step(st) == 1 && om_db_column_text(st, 0))
		snprintf(raw_text_buf, sizeof(raw_text_buf), "%s", om_db_column_text(st, 0));
	om_db_finalize(st);
	om_db_close(db);
	return raw_text_buf;
}

/* The number of tables called name in the database. */
static inline int64_t raw_table_count(const char *path, const char *name)
{
	char sql[256];
	if (tb_pg())
		snprintf(sql, sizeof(sql),
		         "SELECT count(*) FROM information_schema.tables WHERE table_schema ="
		         " current_schema() AND table_name = '%s'",
		         name);
	else
		snprintf(sql, sizeof(sql),
		         "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '%s'", name);
	return raw_int(path, sql);
}

#endif
