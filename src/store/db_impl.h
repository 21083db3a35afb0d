/* store: what the two implementations of db.h share (db.c dispatches). */
#ifndef OMAMORI_STORE_DB_IMPL_H
#define OMAMORI_STORE_DB_IMPL_H

#include "store/db.h"

struct om_db_ops {
	void (*close)(om_db *db);
	const char *(*errmsg)(om_db *db);
	int (*exec)(om_db *db, const char *sql, char *err, size_t errlen);
	int (*prepare)(om_db *db, const char *sql, om_db_stmt **ret);
	int (*bind_int64)(om_db_stmt *st, int idx, int64_t v);
	int (*bind_text)(om_db_stmt *st, int idx, const char *v);
	int (*bind_blob)(om_db_stmt *st, int idx, const void *p, size_t n);
	int (*bind_null)(om_db_stmt *st, int idx);
	int (*step)(om_db_stmt *st);
	void (*reset)(om_db_stmt *st);
	void (*finalize)(om_db_stmt *st);
	int (*column_count)(om_db_stmt *st);
	bool (*column_is_null)(om_db_stmt *st, int i);
	int64_t (*column_int64)(om_db_stmt *st, int i);
	double (*column_double)(om_db_stmt *st, int i);
	const char *(*column_text)(om_db_stmt *st, int i);
	const void *(*column_blob)(om_db_stmt *st, int i, size_t *ret_n);
	int64_t (*changes)(om_db *db);
	enum om_db_tx (*tx_state)(om_db *db);
	const char *begin_sql;
	/* NULL on SQLite */
	int (*pipeline_enter)(om_db *db);
	bool (*in_pipeline)(om_db *db);
	int (*send)(om_db_stmt *st);
	int (*pipeline_sync)(om_db *db);
	int (*pipeline_next)(om_db *db, om_db_stmt *st);
	int (*pipeline_exit)(om_db *db);
	int (*copy_begin)(om_db *db, const char *sql);
	int (*copy_put)(om_db *db, const char *data, size_t len);
	int (*copy_end)(om_db *db);
	bool (*in_copy)(om_db *db);
};

/* The first member of each implementation's connection and statement. */
struct om_db {
	const struct om_db_ops *ops;
	enum om_db_backend backend;
	int (*drain)(void *user);
	void *drain_user;
};
struct om_db_stmt {
	om_db *db;
};

int om_db_sqlite_open(const char *path, om_db **ret, char *err, size_t errlen);
int om_db_pg_open(const char *conninfo, om_db **ret, char *err, size_t errlen);

#endif
