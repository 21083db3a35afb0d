/* store: the database layer on PostgreSQL through libpq.
 *
 * Statements are prepared on the server under a name of their own (the
 * "?" placeholders rewritten to "$N", the parameter types left to the
 * server to infer from the statement), executed with text parameters and
 * read back in text form. A bound value is copied into the statement's own
 * buffer for that parameter, which grows once and is then reused: binding
 * and stepping the same statement again allocates nothing but libpq's
 * result. A blob is sent in binary form and read back from bytea's hex
 * text. */
#include "store/db_impl.h"

#include <errno.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"

/* the longest statement text the store's files prepare */
#define PG_SQL_MAX 16384
#define PG_MAX_PARAMS 256

struct pg_db {
	struct om_db base;
	PGconn *c;
	int64_t changes;
	uint64_t seq; /* statement names */
	bool copying; /* a COPY ... FROM STDIN is open: the connection takes its rows only */
	char msg[512];
};

struct pg_param {
	char *buf;
	size_t cap;
	bool bad; /* text that is not UTF-8: the statement fails with -EINVAL */
};

struct pg_stmt {
	struct om_db_stmt base;
	char name[32];
	int nparams;
	struct pg_param *p;
	const char **vals;
	int *lens, *fmts;
	PGresult *res;
	int row, nrows;
	bool done;
	unsigned bad;        /* parameters bound with text that is not UTF-8 */
	unsigned char *blob; /* the last decoded bytea */
};

static struct pg_db *D(om_db *db)
{
	return (struct pg_db *)db;
}

static struct pg_stmt *S(om_db_stmt *st)
{
	return (struct pg_stmt *)st;
}

/* Keeps libpq's message (one line, without the trailing newline). */
static void keep_msg(struct pg_db *d, const char *m)
{
	snprintf(d->msg, sizeof(d->msg), "%s", m && *m ? m : "PostgreSQL error");
	size_t n = strlen(d->msg);
	while (n && (d->msg[n - 1] == '\n' || d->msg[n - 1] == ' '))
		d->msg[--n] = '\0';
	for (char *p = d->msg; *p; p++) {
		if (*p == '\n')
			*p = ' ';
	}
}

/* SQLSTATE classes into the layer's errno values. */
static int state_errno(struct pg_db *d, const PGresult *res)
{
	const char *st = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

	if (PQstatus(d->c) == CONNECTION_BAD)
		return -ECONNRESET;
	if (!st || strlen(st) != 5)
		return -EIO;
	if (!strcmp(st, "23505"))
		return -EEXIST; /* unique_violation */
	if (!strncmp(st, "23", 2) || !strncmp(st, "22", 2))
		return -EINVAL; /* integrity constraint, data exception */
	if (!strcmp(st, "40001") || !strcmp(st, "40P01") || !strcmp(st, "55P03"))
		return -EBUSY; /* serialization failure, deadlock, lock not available */
	if (!strcmp(st, "53100"))
		return -ENOSPC;
	if (!strcmp(st, "53200"))
		return -ENOMEM;
	if (!strcmp(st, "42501") || !strncmp(st, "28", 2))
		return -EACCES;
	if (!strncmp(st, "08", 2) || !strncmp(st, "57P", 3))
		return -ECONNRESET;
	if (!strcmp(st, "3D000"))
		return -ENOENT;
	return -EIO;
}

static int res_fail(struct pg_db *d, PGresult *res)
{
	keep_msg(d, res ? PQresultErrorMessage(res) : PQerrorMessage(d->c));
	int r = state_errno(d, res);
	PQclear(res);
	return r;
}

static int64_t cmd_tuples(PGresult *res)
{
	const char *t = PQcmdTuples(res);
	return t && *t ? strtoll(t, NULL, 10) : 0;
}

static void pg_close(om_db *db)
{
	PQfinish(D(db)->c);
	free(db);
}

static const char *pg_errmsg(om_db *db)
{
	return D(db)->msg;
}

/* Before anything synchronous: the pipeline's results are read first. */
static int pg_settle(struct pg_db *d)
{
	if (PQpipelineStatus(d->c) == PQ_PIPELINE_OFF && !d->copying)
		return 0;
	int r = d->base.drain ? d->base.drain(d->base.drain_user) : -EINPROGRESS;
	if (r == 0 && (PQpipelineStatus(d->c) != PQ_PIPELINE_OFF || d->copying))
		r = -EINPROGRESS;
	return r;
}

static int pg_exec(om_db *db, const char *sql, char *err, size_t errlen)
{
	struct pg_db *d = D(db);
	int sr = pg_settle(d);
	if (sr < 0)
		return sr;
	PGresult *res = PQexec(d->c, sql);
	ExecStatusType s = PQresultStatus(res);

	if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
		int r = res_fail(d, res);
		if (err && errlen)
			snprintf(err, errlen, om_tr("err.store.pg_sql"), d->msg);
		return r;
	}
	d->changes = cmd_tuples(res);
	PQclear(res);
	return 0;
}

static void stmt_free(struct pg_stmt *s)
{
	if (!s)
		return;
	for (int i = 0; s->p && i < s->nparams; i++)
		free(s->p[i].buf);
	free(s->p);
	free(s->vals);
	free(s->lens);
	free(s->fmts);
	free(s);
}

static int pg_prepare(om_db *db, const char *sql, om_db_stmt **ret)
{
	struct pg_db *d = D(db);
	struct pg_stmt *s;
	char *text = malloc(PG_SQL_MAX);
	int n = 0, r;

	if (!text)
		return -ENOMEM;
	r = pg_settle(d);
	if (r < 0) {
		free(text);
		return r;
	}
	r = om_db_rewrite_placeholders(sql, text, PG_SQL_MAX, &n);
	if (r < 0 || n > PG_MAX_PARAMS) {
		keep_msg(d, "statement too long or with too many parameters");
		om_err(om_tr("err.store.prepare"), d->msg);
		free(text);
		return r < 0 ? r : -E2BIG;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		free(text);
		return -ENOMEM;
	}
	s->base.db = db;
	s->nparams = n;
	if (n) {
		s->p = calloc((size_t)n, sizeof(*s->p));
		s->vals = calloc((size_t)n, sizeof(*s->vals));
		s->lens = calloc((size_t)n, sizeof(*s->lens));
		s->fmts = calloc((size_t)n, sizeof(*s->fmts));
		if (!s->p || !s->vals || !s->lens || !s->fmts) {
			stmt_free(s);
			free(text);
			return -ENOMEM;
		}
	}
	snprintf(s->name, sizeof(s->name), "om_%" PRIu64, ++d->seq);
	PGresult *res = PQprepare(d->c, s->name, text, n, NULL);
	free(text);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		r = res_fail(d, res);
		om_err(om_tr("err.store.prepare"), d->msg);
		stmt_free(s);
		return r;
	}
	PQclear(res);
	*ret = &s->base;
	return 0;
}

static void clear_result(struct pg_stmt *s)
{
	PQclear(s->res);
	s->res = NULL;
	PQfreemem(s->blob);
	s->blob = NULL;
	s->row = -1;
	s->nrows = 0;
	s->done = false;
}

/* Copies n bytes (plus a NUL) into parameter idx's buffer. */
static int set_param(om_db_stmt *st, int idx, const void *p, size_t n, int fmt)
{
	struct pg_stmt *s = S(st);

	if (idx < 1 || idx > s->nparams)
		return -EINVAL;
	if (n > INT32_MAX - 1)
		return -E2BIG;
	struct pg_param *pp = &s->p[idx - 1];
	if (pp->bad) {
		pp->bad = false;
		s->bad--;
	}
	if (n + 1 > pp->cap) {
		size_t cap = n + 1 < 64 ? 64 : n + 1;
		char *b = realloc(pp->buf, cap);
		if (!b)
			return -ENOMEM;
		pp->buf = b;
		pp->cap = cap;
	}
	memcpy(pp->buf, p, n);
	pp->buf[n] = '\0';
	s->vals[idx - 1] = pp->buf;
	s->lens[idx - 1] = (int)n;
	s->fmts[idx - 1] = fmt;
	return 0;
}

static int pg_bind_int64(om_db_stmt *st, int idx, int64_t v)
{
	char num[24];
	int n = snprintf(num, sizeof(num), "%" PRId64, v);
	return set_param(st, idx, num, (size_t)n, 0);
}

static int pg_bind_text(om_db_stmt *st, int idx, const char *v)
{
	struct pg_stmt *s = S(st);
	if (!om_db_utf8_valid(v)) {
		if (idx < 1 || idx > s->nparams)
			return -EINVAL;
		if (!s->p[idx - 1].bad) {
			s->p[idx - 1].bad = true;
			s->bad++;
		}
		keep_msg(D(st->db), "a text value is not UTF-8");
		return -EINVAL;
	}
	return set_param(st, idx, v, strlen(v), 0);
}

static int pg_bind_blob(om_db_stmt *st, int idx, const void *p, size_t n)
{
	return set_param(st, idx, p ? p : "", p ? n : 0, 1);
}

static int pg_bind_null(om_db_stmt *st, int idx)
{
	struct pg_stmt *s = S(st);
	if (idx < 1 || idx > s->nparams)
		return -EINVAL;
	if (s->p[idx - 1].bad) {
		s->p[idx - 1].bad = false;
		s->bad--;
	}
	s->vals[idx - 1] = NULL;
	s->lens[idx - 1] = 0;
	s->fmts[idx - 1] = 0;
	return 0;
}

static int pg_step(om_db_stmt *st)
{
	struct pg_stmt *s = S(st);
	struct pg_db *d = D(st->db);

	if (s->done)
		return 0;
	if (s->bad) {
		s->done = true;
		keep_msg(d, "a text value is not UTF-8");
		return -EINVAL;
	}
	if (!s->res) {
		int sr = pg_settle(d);
		if (sr < 0)
			return sr;
		PGresult *res =
		    PQexecPrepared(d->c, s->name, s->nparams, s->vals, s->lens, s->fmts, 0);
		ExecStatusType es = PQresultStatus(res);
		if (es == PGRES_COMMAND_OK) {
			d->changes = cmd_tuples(res);
			PQclear(res);
			s->done = true;
			return 0;
		}
		if (es != PGRES_TUPLES_OK) {
			s->done = true;
			return res_fail(d, res);
		}
		d->changes = cmd_tuples(res);
		s->res = res;
		s->row = -1;
		s->nrows = PQntuples(res);
	}
	PQfreemem(s->blob);
	s->blob = NULL;
	if (++s->row < s->nrows)
		return 1;
	s->done = true;
	return 0;
}

static void pg_reset(om_db_stmt *st)
{
	clear_result(S(st));
}

static void pg_finalize(om_db_stmt *st)
{
	struct pg_stmt *s = S(st);
	struct pg_db *d = D(st->db);

	clear_result(s);
	/* In a failed transaction the server refuses DEALLOCATE; the name then
	 * lives until the connection closes, which is harmless. */
	if (PQtransactionStatus(d->c) != PQTRANS_INERROR && PQstatus(d->c) == CONNECTION_OK &&
	    PQpipelineStatus(d->c) == PQ_PIPELINE_OFF && !d->copying) {
		char sql[64];
		snprintf(sql, sizeof(sql), "DEALLOCATE %s", s->name);
		PQclear(PQexec(d->c, sql));
	}
	stmt_free(s);
}

static bool in_row(struct pg_stmt *s, int i)
{
	return s->res && s->row >= 0 && s->row < s->nrows && i >= 0 && i < PQnfields(s->res);
}

static int pg_column_count(om_db_stmt *st)
{
	struct pg_stmt *s = S(st);
	return s->res ? PQnfields(s->res) : 0;
}

static bool pg_column_is_null(om_db_stmt *st, int i)
{
	struct pg_stmt *s = S(st);
	return !in_row(s, i) || PQgetisnull(s->res, s->row, i);
}

static const char *pg_column_text(om_db_stmt *st, int i)
{
	struct pg_stmt *s = S(st);
	if (!in_row(s, i) || PQgetisnull(s->res, s->row, i))
		return NULL;
	return PQgetvalue(s->res, s->row, i);
}

static int64_t pg_column_int64(om_db_stmt *st, int i)
{
	const char *v = pg_column_text(st, i);
	if (!v)
		return 0;
	/* a boolean reads as 1 or 0 */
	if (!strcmp(v, "t"))
		return 1;
	if (!strcmp(v, "f"))
		return 0;
	return strtoll(v, NULL, 10);
}

static double pg_column_double(om_db_stmt *st, int i)
{
	const char *v = pg_column_text(st, i);
	return v ? strtod(v, NULL) : 0.0;
}

static const void *pg_column_blob(om_db_stmt *st, int i, size_t *ret_n)
{
	struct pg_stmt *s = S(st);
	const char *v = pg_column_text(st, i);
	size_t n = 0;

	*ret_n = 0;
	if (!v)
		return NULL;
	PQfreemem(s->blob);
	s->blob = PQunescapeBytea((const unsigned char *)v, &n);
	if (!s->blob || n == 0)
		return NULL;
	*ret_n = n;
	return s->blob;
}

static int64_t pg_changes(om_db *db)
{
	return D(db)->changes;
}

static enum om_db_tx pg_tx_state(om_db *db)
{
	switch (PQtransactionStatus(D(db)->c)) {
	case PQTRANS_IDLE: return OM_DB_TX_NONE;
	case PQTRANS_ACTIVE:
	case PQTRANS_INTRANS: return OM_DB_TX_OPEN;
	default: return OM_DB_TX_FAILED;
	}
}

static int pg_pipeline_enter(om_db *db)
{
	struct pg_db *d = D(db);
	if (PQpipelineStatus(d->c) != PQ_PIPELINE_OFF)
		return 0;
	if (!PQenterPipelineMode(d->c)) {
		keep_msg(d, PQerrorMessage(d->c));
		return -EIO;
	}
	return 0;
}

static bool pg_in_pipeline(om_db *db)
{
	return PQpipelineStatus(D(db)->c) != PQ_PIPELINE_OFF;
}

static int pg_send(om_db_stmt *st)
{
	struct pg_stmt *s = S(st);
	struct pg_db *d = D(st->db);

	clear_result(s);
	if (s->bad)
		return -EINVAL;
	if (!PQsendQueryPrepared(d->c, s->name, s->nparams, s->vals, s->lens, s->fmts, 0)) {
		keep_msg(d, PQerrorMessage(d->c));
		return PQstatus(d->c) == CONNECTION_BAD ? -ECONNRESET : -EIO;
	}
	return 0;
}

static int pg_pipeline_sync(om_db *db)
{
	struct pg_db *d = D(db);
	if (!PQpipelineSync(d->c)) {
		keep_msg(d, PQerrorMessage(d->c));
		return PQstatus(d->c) == CONNECTION_BAD ? -ECONNRESET : -EIO;
	}
	return 0;
}

static int pg_pipeline_next(om_db *db, om_db_stmt *st)
{
	struct pg_db *d = D(db);
	struct pg_stmt *s = S(st);
	PGresult *res = PQgetResult(d->c);
	ExecStatusType es = PQresultStatus(res);
	int r;

	clear_result(s);
	if (!res) {
		keep_msg(d, "pipeline: a result is missing");
		return -EIO;
	}
	/* each statement's results end with a NULL */
	PGresult *end = PQgetResult(d->c);
	PQclear(end);
	if (es == PGRES_PIPELINE_ABORTED) {
		PQclear(res);
		return -ECANCELED;
	}
	if (es == PGRES_COMMAND_OK) {
		d->changes = cmd_tuples(res);
		PQclear(res);
		s->done = true;
		return 0;
	}
	if (es != PGRES_TUPLES_OK) {
		s->done = true;
		return res_fail(d, res);
	}
	d->changes = cmd_tuples(res);
	s->res = res;
	s->row = -1;
	s->nrows = PQntuples(res);
	r = ++s->row < s->nrows ? 1 : 0;
	if (!r)
		s->done = true;
	return r;
}

static int pg_pipeline_exit(om_db *db)
{
	struct pg_db *d = D(db);
	int r = 0;
	PGresult *res;

	/* up to the sync point; anything before it was not read: an error */
	while ((res = PQgetResult(d->c)) != NULL) {
		ExecStatusType es = PQresultStatus(res);
		PQclear(res);
		if (es == PGRES_PIPELINE_SYNC)
			break;
		r = -EIO;
	}
	if (!PQexitPipelineMode(d->c)) {
		keep_msg(d, PQerrorMessage(d->c));
		return -EIO;
	}
	return r;
}

/* COPY ... FROM STDIN: sql (statements before the COPY are run first);
 * then the rows, then the end, whose result is the COPY's. */
static int pg_copy_begin(om_db *db, const char *sql)
{
	struct pg_db *d = D(db);
	int r = pg_settle(d);

	if (r < 0)
		return r;
	PGresult *res = PQexec(d->c, sql);
	if (PQresultStatus(res) != PGRES_COPY_IN)
		return res_fail(d, res);
	PQclear(res);
	d->copying = true;
	return 0;
}

static int pg_copy_put(om_db *db, const char *data, size_t len)
{
	struct pg_db *d = D(db);

	if (!d->copying)
		return -EINVAL;
	while (len) {
		int n = len > (1u << 30) ? 1 << 30 : (int)len;
		if (PQputCopyData(d->c, data, n) != 1) {
			keep_msg(d, PQerrorMessage(d->c));
			return PQstatus(d->c) == CONNECTION_BAD ? -ECONNRESET : -EIO;
		}
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

static int pg_copy_end(om_db *db)
{
	struct pg_db *d = D(db);
	PGresult *res;
	int r = 0;

	if (!d->copying)
		return 0;
	d->copying = false;
	if (PQputCopyEnd(d->c, NULL) != 1) {
		keep_msg(d, PQerrorMessage(d->c));
		r = PQstatus(d->c) == CONNECTION_BAD ? -ECONNRESET : -EIO;
	}
	while ((res = PQgetResult(d->c)) != NULL) {
		ExecStatusType es = PQresultStatus(res);
		if (es == PGRES_COMMAND_OK) {
			d->changes = cmd_tuples(res);
			PQclear(res);
		} else if (es == PGRES_COPY_IN || es == PGRES_COPY_OUT || es == PGRES_COPY_BOTH) {
			/* the end was not taken: the connection is of no more use */
			PQclear(res);
			keep_msg(d, "COPY did not end");
			r = -EIO;
			break;
		} else if (r == 0) {
			r = res_fail(d, res);
		} else {
			PQclear(res);
		}
	}
	return r;
}

static bool pg_in_copy(om_db *db)
{
	return D(db)->copying;
}

static const struct om_db_ops pg_ops = {
    .close = pg_close,
    .errmsg = pg_errmsg,
    .exec = pg_exec,
    .prepare = pg_prepare,
    .bind_int64 = pg_bind_int64,
    .bind_text = pg_bind_text,
    .bind_blob = pg_bind_blob,
    .bind_null = pg_bind_null,
    .step = pg_step,
    .reset = pg_reset,
    .finalize = pg_finalize,
    .column_count = pg_column_count,
    .column_is_null = pg_column_is_null,
    .column_int64 = pg_column_int64,
    .column_double = pg_column_double,
    .column_text = pg_column_text,
    .column_blob = pg_column_blob,
    .changes = pg_changes,
    .tx_state = pg_tx_state,
    .begin_sql = "BEGIN",
    .pipeline_enter = pg_pipeline_enter,
    .in_pipeline = pg_in_pipeline,
    .send = pg_send,
    .pipeline_sync = pg_pipeline_sync,
    .pipeline_next = pg_pipeline_next,
    .pipeline_exit = pg_pipeline_exit,
    .copy_begin = pg_copy_begin,
    .copy_put = pg_copy_put,
    .copy_end = pg_copy_end,
    .in_copy = pg_in_copy,
};

/* The server's notices (an IF NOT EXISTS that found the table) are not
 * the user's business. */
static void no_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

/* The target without a password: "postgresql://user:secret@host/db" is
 * shown as "postgresql://user:***@host/db"; a password= parameter too. */
void om_db_pg_redact(const char *url, char *out, size_t outlen)
{
	const char *scheme = strstr(url, "://");
	const char *at = scheme ? strchr(scheme + 3, '@') : NULL;
	const char *slash = scheme ? strchr(scheme + 3, '/') : NULL;
	const char *colon = scheme ? strchr(scheme + 3, ':') : NULL;

	if (at && colon && colon < at && (!slash || at < slash))
		snprintf(out, outlen, "%.*s:***%s", (int)(colon - url), url, at);
	else
		snprintf(out, outlen, "%s", url);
	char *pw = strstr(out, "password=");
	if (pw) {
		char *end = strchr(pw, '&');
		char rest[256];
		snprintf(rest, sizeof(rest), "%s", end ? end : "");
		size_t keep = (size_t)(pw - out) + 9;
		if (keep < outlen)
			snprintf(out + keep, outlen - keep, "***%s", rest);
	}
}

int om_db_pg_open(const char *conninfo, om_db **ret, char *err, size_t errlen)
{
	struct pg_db *d = calloc(1, sizeof(*d));
	char shown[512];

	if (!d) {
		if (err && errlen)
			snprintf(err, errlen, "%s", om_tr("err.nomem"));
		return -ENOMEM;
	}
	d->base.ops = &pg_ops;
	d->base.backend = OM_DB_POSTGRESQL;
	d->c = PQconnectdb(conninfo);
	if (!d->c || PQstatus(d->c) != CONNECTION_OK) {
		keep_msg(d, d->c ? PQerrorMessage(d->c) : "out of memory");
		om_db_pg_redact(conninfo, shown, sizeof(shown));
		if (err && errlen)
			snprintf(err, errlen, om_tr("err.store.pg_connect"), shown, d->msg);
		PQfinish(d->c);
		free(d);
		return -ECONNREFUSED;
	}
	PQsetNoticeProcessor(d->c, no_notice, NULL);
	*ret = &d->base;
	return 0;
}
