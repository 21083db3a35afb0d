/* store: the database layer under the store's files (private to src/store).
 *
 * One small interface with two implementations: SQLite (db_sqlite.c) and
 * PostgreSQL through libpq (pg.c). The store's files write their SQL once,
 * in the subset both understand (docs/store.md, "Dialect rules"), and run it
 * through these calls:
 *
 *   - placeholders are written "?" (numbered in order) or "?N"; for libpq
 *     they are rewritten to "$N" (outside string literals and identifiers);
 *   - a statement is prepared once, bound, stepped row by row, reset and
 *     stepped again; bound strings are copied, so the caller's buffer may
 *     change after the bind;
 *   - column getters read the current row (index from 0); a text value
 *     is valid until the next step, reset or finalize of the statement;
 *   - om_db_changes is the number of rows the last executed statement of
 *     the connection inserted, updated or deleted; ids are read back with
 *     RETURNING, which both dialects have.
 *
 * Errors are negative errno values, the same for both: -EEXIST for a
 * unique/primary key violation, -EINVAL for another constraint or a bad
 * value, -EBUSY locked, -ENOSPC full, -EACCES refused, -ENOMEM, -ECONNRESET
 * when the server went away, -EIO otherwise; om_db_errmsg says more. */
#ifndef OMAMORI_STORE_DB_H
#define OMAMORI_STORE_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct om_db om_db;
typedef struct om_db_stmt om_db_stmt;

enum om_db_backend { OM_DB_SQLITE = 0, OM_DB_POSTGRESQL = 1 };

/* Where the transaction of a connection stands. FAILED: a statement failed
 * and the backend threw the transaction's work away (SQLite after an I/O
 * error, PostgreSQL after any error); only a rollback is possible. */
enum om_db_tx { OM_DB_TX_NONE = 0, OM_DB_TX_OPEN = 1, OM_DB_TX_FAILED = 2 };

/* A PostgreSQL target: "postgresql://..." or "postgres://..." (libpq's URI
 * form). Anything else is an SQLite file path (or ":memory:"). */
bool om_db_target_is_pg(const char *target);

/* Opens target. SQLite: the file is created if missing and put in WAL mode
 * (NORMAL synchronous, 32 MiB cache, busy timeout). PostgreSQL: connects
 * (the database must exist). On error err says what and why. */
int om_db_open(const char *target, om_db **ret, char *err, size_t errlen);
/* Accepts NULL. Finalize the statements first. */
void om_db_close(om_db *db);
enum om_db_backend om_db_backend_of(const om_db *db);
/* The last error of the connection, never NULL. */
const char *om_db_errmsg(om_db *db);

/* Runs one or more statements without parameters or rows. */
int om_db_exec(om_db *db, const char *sql, char *err, size_t errlen);

int om_db_prepare(om_db *db, const char *sql, om_db_stmt **ret);
/* idx counts from 1, as in "?1". */
int om_db_bind_int64(om_db_stmt *st, int idx, int64_t v);
/* v NULL binds NULL. */
int om_db_bind_text(om_db_stmt *st, int idx, const char *v);
int om_db_bind_blob(om_db_stmt *st, int idx, const void *p, size_t n);
int om_db_bind_null(om_db_stmt *st, int idx);
/* 1: a row is there; 0: done (the statement ran to its end); negative: an
 * error. After 0 or an error, reset before stepping again. */
int om_db_step(om_db_stmt *st);
/* Ends the current execution (bindings are kept). Accepts NULL. */
void om_db_reset(om_db_stmt *st);
/* Accepts NULL. */
void om_db_finalize(om_db_stmt *st);

int om_db_column_count(om_db_stmt *st);
bool om_db_column_is_null(om_db_stmt *st, int i);
/* NULL reads as 0; a boolean as 0 or 1. */
int64_t om_db_column_int64(om_db_stmt *st, int i);
double om_db_column_double(om_db_stmt *st, int i);
/* NULL for a NULL value. */
const char *om_db_column_text(om_db_stmt *st, int i);
/* NULL (and *ret_n 0) for a NULL or empty value. */
const void *om_db_column_blob(om_db_stmt *st, int i, size_t *ret_n);

int64_t om_db_changes(om_db *db);

/* BEGIN (SQLite: IMMEDIATE, taking the write lock now), COMMIT, ROLLBACK. */
int om_db_begin(om_db *db);
int om_db_commit(om_db *db);
int om_db_rollback(om_db *db);
enum om_db_tx om_db_tx_state(om_db *db);

/* ---- pipelining (PostgreSQL; SQLite has no round trips to save) ----
 * Statements are sent without waiting for their results, which are read
 * back in order after a sync point. In pipeline mode the connection takes
 * nothing else: any other call on it (exec, prepare, step, begin, commit)
 * first calls the drain function set with om_db_set_drain, which must read
 * every result (om_db_pipeline_sync, om_db_pipeline_next for each statement
 * sent, om_db_pipeline_exit). An error aborts the open transaction: every
 * later result of the pipeline is -ECANCELED and only a rollback remains.
 * -ENOTSUP on SQLite. */
int om_db_pipeline_enter(om_db *db);
bool om_db_in_pipeline(om_db *db);
/* Sends st with its current bindings (which may be changed right after). */
int om_db_send(om_db_stmt *st);
int om_db_pipeline_sync(om_db *db);
/* The next statement's result into st (the statement it was sent with):
 * 1 with a row to read, 0 without rows, negative for its error. */
int om_db_pipeline_next(om_db *db, om_db_stmt *st);
/* After the last result: reads the sync point and leaves pipeline mode. */
int om_db_pipeline_exit(om_db *db);
void om_db_set_drain(om_db *db, int (*drain)(void *user), void *user);

/* Convenience: prepares sql, binds nothing, steps once and returns the
 * first column of the first row as an integer in *ret (0 when no row, and
 * then returns 0 too; 1 when there was a row). */
int om_db_query_int64(om_db *db, const char *sql, int64_t *ret);

/* The libpq placeholder rewrite (exposed for its test): "?" and "?N" into
 * "$N" outside '...' literals, "..." identifiers and -- comments. Writes
 * at most outlen bytes (NUL included); *ret_nparams is the highest N.
 * -ENAMETOOLONG when out is too small, -EINVAL for "?0" or N > 65535. */
int om_db_rewrite_placeholders(const char *sql, char *out, size_t outlen, int *ret_nparams);

#endif
