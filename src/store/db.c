/* store: the database layer's common part. Dispatches each call to the
 * connection's implementation (db_sqlite.c, pg.c) and holds what both use:
 * the target test, the placeholder rewrite for libpq and small helpers. */
#include "store/db_impl.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

bool om_db_target_is_pg(const char *target)
{
	return target &&
	       (!strncmp(target, "postgresql://", 13) || !strncmp(target, "postgres://", 11));
}

int om_db_open(const char *target, om_db **ret, char *err, size_t errlen)
{
	if (!target || !*target || !ret)
		return -EINVAL;
	if (om_db_target_is_pg(target))
		return om_db_pg_open(target, ret, err, errlen);
	return om_db_sqlite_open(target, ret, err, errlen);
}

void om_db_close(om_db *db)
{
	if (db)
		db->ops->close(db);
}

enum om_db_backend om_db_backend_of(const om_db *db)
{
	return db->backend;
}

const char *om_db_errmsg(om_db *db)
{
	const char *m = db ? db->ops->errmsg(db) : NULL;
	return m ? m : "";
}

int om_db_exec(om_db *db, const char *sql, char *err, size_t errlen)
{
	return db->ops->exec(db, sql, err, errlen);
}

int om_db_prepare(om_db *db, const char *sql, om_db_stmt **ret)
{
	return db->ops->prepare(db, sql, ret);
}

int om_db_bind_int64(om_db_stmt *st, int idx, int64_t v)
{
	return st->db->ops->bind_int64(st, idx, v);
}

int om_db_bind_text(om_db_stmt *st, int idx, const char *v)
{
	return v ? st->db->ops->bind_text(st, idx, v) : st->db->ops->bind_null(st, idx);
}

int om_db_bind_blob(om_db_stmt *st, int idx, const void *p, size_t n)
{
	return st->db->ops->bind_blob(st, idx, p, n);
}

int om_db_bind_null(om_db_stmt *st, int idx)
{
	return st->db->ops->bind_null(st, idx);
}

int om_db_step(om_db_stmt *st)
{
	return st->db->ops->step(st);
}

void om_db_reset(om_db_stmt *st)
{
	if (st)
		st->db->ops->reset(st);
}

void om_db_finalize(om_db_stmt *st)
{
	if (st)
		st->db->ops->finalize(st);
}

int om_db_column_count(om_db_stmt *st)
{
	return st->db->ops->column_count(st);
}

bool om_db_column_is_null(om_db_stmt *st, int i)
{
	return st->db->ops->column_is_null(st, i);
}

int64_t om_db_column_int64(om_db_stmt *st, int i)
{
	return st->db->ops->column_int64(st, i);
}

double om_db_column_double(om_db_stmt *st, int i)
{
	return st->db->ops->column_double(st, i);
}

const char *om_db_column_text(om_db_stmt *st, int i)
{
	return st->db->ops->column_text(st, i);
}

const void *om_db_column_blob(om_db_stmt *st, int i, size_t *ret_n)
{
	return st->db->ops->column_blob(st, i, ret_n);
}

int64_t om_db_changes(om_db *db)
{
	return db->ops->changes(db);
}

int om_db_begin(om_db *db)
{
	return db->ops->exec(db, db->ops->begin_sql, NULL, 0);
}

int om_db_commit(om_db *db)
{
	return db->ops->exec(db, "COMMIT", NULL, 0);
}

int om_db_rollback(om_db *db)
{
	return db->ops->exec(db, "ROLLBACK", NULL, 0);
}

enum om_db_tx om_db_tx_state(om_db *db)
{
	return db->ops->tx_state(db);
}

int om_db_pipeline_enter(om_db *db)
{
	return db->ops->pipeline_enter ? db->ops->pipeline_enter(db) : -ENOTSUP;
}

bool om_db_in_pipeline(om_db *db)
{
	return db->ops->in_pipeline && db->ops->in_pipeline(db);
}

int om_db_send(om_db_stmt *st)
{
	return st->db->ops->send ? st->db->ops->send(st) : -ENOTSUP;
}

int om_db_pipeline_sync(om_db *db)
{
	return db->ops->pipeline_sync ? db->ops->pipeline_sync(db) : -ENOTSUP;
}

int om_db_pipeline_next(om_db *db, om_db_stmt *st)
{
	return db->ops->pipeline_next ? db->ops->pipeline_next(db, st) : -ENOTSUP;
}

int om_db_pipeline_exit(om_db *db)
{
	return db->ops->pipeline_exit ? db->ops->pipeline_exit(db) : -ENOTSUP;
}

void om_db_set_drain(om_db *db, int (*drain)(void *user), void *user)
{
	db->drain = drain;
	db->drain_user = user;
}

int om_db_query_int64(om_db *db, const char *sql, int64_t *ret)
{
	om_db_stmt *st = NULL;
	int r = om_db_prepare(db, sql, &st);

	if (r < 0)
		return r;
	r = om_db_step(st);
	if (r >= 0)
		*ret = r == 1 ? om_db_column_int64(st, 0) : 0;
	om_db_finalize(st);
	return r;
}

static int put(char *out, size_t outlen, size_t *pos, const char *p, size_t n)
{
	if (n >= outlen - *pos)
		return -ENAMETOOLONG;
	memcpy(out + *pos, p, n);
	*pos += n;
	return 0;
}

int om_db_rewrite_placeholders(const char *sql, char *out, size_t outlen, int *ret_nparams)
{
	size_t pos = 0;
	int max = 0, r;

	if (!sql || !out || outlen == 0)
		return -EINVAL;
	for (const char *p = sql; *p;) {
		if (*p == '\'' || *p == '"') {
			/* a literal or quoted identifier; a doubled quote stays inside */
			const char q = *p;
			const char *e = p + 1;
			for (;;) {
				if (!*e)
					break;
				if (*e == q) {
					if (e[1] == q) {
						e += 2;
						continue;
					}
					e++;
					break;
				}
				e++;
			}
			r = put(out, outlen, &pos, p, (size_t)(e - p));
			if (r < 0)
				return r;
			p = e;
		} else if (p[0] == '-' && p[1] == '-') {
			const char *e = strchr(p, '\n');
			size_t n = e ? (size_t)(e - p) : strlen(p);
			r = put(out, outlen, &pos, p, n);
			if (r < 0)
				return r;
			p += n;
		} else if (*p == '?') {
			long n = 0;
			const char *e = p + 1;
			if (*e >= '0' && *e <= '9') {
				while (*e >= '0' && *e <= '9') {
					n = n * 10 + (*e - '0');
					if (n > 65535)
						return -EINVAL;
					e++;
				}
				if (n == 0)
					return -EINVAL;
			} else {
				/* as SQLite numbers it: one above the largest so far */
				n = max + 1;
				if (n > 65535)
					return -EINVAL;
			}
			if (n > max)
				max = (int)n;
			char num[16];
			int len = snprintf(num, sizeof(num), "$%ld", n);
			r = put(out, outlen, &pos, num, (size_t)len);
			if (r < 0)
				return r;
			p = e;
		} else {
			r = put(out, outlen, &pos, p, 1);
			if (r < 0)
				return r;
			p++;
		}
	}
	out[pos] = '\0';
	*ret_nparams = max;
	return 0;
}
