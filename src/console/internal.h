/* console: what the console's files share. */
#ifndef OMAMORI_CONSOLE_INTERNAL_H
#define OMAMORI_CONSOLE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/base.h"
#include "console/console.h"
#include "store/store.h"

/* ---- form and cookie parsing (form.c; hostile input) ---- */
#define CON_FORM_MAX_FIELDS 32
#define CON_FORM_MAX_VALUE 1024
typedef struct con_field {
	char name[64];
	char value[CON_FORM_MAX_VALUE];
} con_field;
typedef struct con_form {
	size_t n;
	con_field f[CON_FORM_MAX_FIELDS];
	unsigned bad; /* fields dropped: too long, too many, bad escapes */
} con_form;
/* Parses application/x-www-form-urlencoded data ('+' is a space, %XX a
 * byte). Fields beyond the caps are dropped and counted in bad. */
void con_form_parse(con_form *f, const char *data, size_t len);
/* The field's value or NULL. */
const char *con_form_get(const con_form *f, const char *name);
/* Finds cookie name in a Cookie header value; writes it into out (NUL
 * terminated). Returns 0, or -ENOENT, or -E2BIG when it does not fit. */
int con_cookie_get(const char *header, const char *name, char *out, size_t outlen);

/* ---- templates: escaped by default (html.c) ---- */
/* Appends tpl to b, replacing {N} (N = 0..9) by vals[N] HTML-escaped and
 * {!N} by vals[N] as is (for HTML the caller built with this function).
 * Returns 0 or -E2BIG / -EINVAL (a placeholder beyond nvals). */
int con_html(om_buf *b, const char *tpl, const char *const *vals, size_t nvals);

/* ---- passwords, tokens, rate limit (auth.c) ---- */
#define CON_PASSWORD_MIN 10
int con_auth_init(void);
/* argon2id via libsodium; out holds crypto_pwhash_STRBYTES. */
int con_password_hash(const char *password, char *out, size_t outlen);
bool con_password_verify(const char *hash, const char *password);
/* A random token as 43 url-safe base64 characters (32 bytes). */
int con_token(char out[64]);
/* The hex BLAKE2b-256 of a token, used as the session's key in the store. */
void con_token_hash(const char *token, char out[65]);
/* Constant-time comparison of two NUL-terminated strings. */
bool con_str_eq(const char *a, const char *b);

#define CON_RL_SLOTS 1024
#define CON_RL_MAX_FAILS 5
#define CON_RL_WINDOW_USEC (15ull * 60 * 1000000)
typedef struct con_ratelimit {
	struct {
		uint64_t key;
		om_usec first;
		unsigned fails;
	} slot[CON_RL_SLOTS];
} con_ratelimit;
/* true when key (an account name or a client address) may try now. */
bool con_rl_allowed(con_ratelimit *rl, const char *key, om_usec now);
void con_rl_fail(con_ratelimit *rl, const char *key, om_usec now);
void con_rl_clear(con_ratelimit *rl, const char *key);

const char *con_role_name(int role);
int con_role_parse(const char *s, int *ret);

/* ---- ingest of pushed batches (ingest.c) ---- */
#define CON_INGEST_BODY_MAX (8u * 1024 * 1024)   /* compressed */
#define CON_INGEST_PLAIN_MAX (64u * 1024 * 1024) /* decompressed */
#define CON_LINE_MAX (256u * 1024)
typedef struct con_ingest_result {
	uint64_t lines, stored, ignored, invalid;
} con_ingest_result;
/* Inflates a gzip body and stores its EVE lines for the gateway's tenant
 * (om_store_import_line_for), then flushes. -EINVAL: not gzip or corrupt;
 * -E2BIG: over CON_INGEST_PLAIN_MAX; other negative errno: the store. */
int con_ingest_gzip(om_store *s, const char *tenant, const char *gateway, const void *body,
                    size_t len, con_ingest_result *ret);
/* A batch id: 1..64 characters of [A-Za-z0-9_.-]. */
bool con_batch_id_ok(const char *id);

/* ---- the gateway's push client (push.c, libcurl) ---- */
/* `omamori console push URL --spool DIR --credential FILE [--enrol TOKEN]
 * [--cacert PEM] [--once]` */
int con_push_main(int argc, char **argv);

/* ---- the pure parts of the pages (pages.c) ---- */
/* The month "YYYY-MM" in zone tz as [from, to) in microseconds. */
int con_month_bounds(const char *tz, const char *month, om_usec *ret_from, om_usec *ret_to);
/* The month of time t in zone tz, moved by delta months, as "YYYY-MM". */
int con_month_of(const char *tz, om_usec t, int delta, char out[8]);
/* t as "YYYY-MM-DD HH:MM:SS" in zone tz. */
int con_local_time(const char *tz, om_usec t, char *out, size_t n);
/* The start of day "YYYY-MM-DD" in zone tz (next: of the day after). */
int con_day_start(const char *tz, const char *day, bool next, om_usec *ret);
/* "" -> 0 (any), "1".."3" -> that; anything else -EINVAL. */
int con_severity_parse(const char *s, int *ret);
/* 1..18 decimal digits. */
int con_id_parse(const char *s, int64_t *ret);
/* A company or gateway id: 1..63 of [a-z0-9_-] (safe in URLs and headers). */
bool con_tenant_id_ok(const char *id);
/* One of the six report categories. */
bool con_category_ok(const char *c);
/* "↑ +n", "↓ -n" or "→ 0". */
void con_trend(uint64_t now, uint64_t before, char *out, size_t n);

enum { CON_ATTN_THREAT = 0, CON_ATTN_SILENT, CON_ATTN_NO_DATA, CON_ATTN_OK };
typedef struct con_attention {
	char tenant[64];
	char name[128];
	unsigned gateways, silent, never_seen;
	uint64_t threats_week; /* events other than scans in the last 7 days */
	uint64_t scans_week, events_month;
	int level;       /* set by con_attention_rate */
	uint64_t weight; /* the count that orders a level */
} con_attention;
void con_attention_rate(con_attention *a);
/* Who needs attention first (see pages.c). */
void con_attention_sort(con_attention *a, size_t n);

/* One CSV record of p[0..len) into fields (at most max; each cut at
 * CON_CSV_FIELD_MAX - 1 bytes); *ret_n the fields stored. Returns the bytes
 * consumed (0 at the end). Used to show the statistics' CSV as a table. */
#define CON_CSV_FIELD_MAX 256
size_t con_csv_record(const char *p, size_t len, char (*fields)[CON_CSV_FIELD_MAX], size_t max,
                      size_t *ret_n);

/* ---- static files (data/console, built in by embed-static.py) ---- */
typedef struct con_static_file {
	const char *path; /* "/static/<name>" */
	const char *type;
	const unsigned char *data;
	size_t len;
} con_static_file;
extern const con_static_file con_static_files[]; /* ends with a NULL path */

/* ---- the server (server.c) ---- */
typedef struct con_options {
	const char *listen; /* ADDR:PORT */
	const char *db;
	const char *cert, *key; /* PEM files; both or neither */
	unsigned session_seconds;
	unsigned silence_minutes; /* a gateway silent longer gets a warning */
	const char *reports_dir;  /* every company's reports; NULL: CON_REPORTS_DIR */
} con_options;
#define CON_REPORTS_DIR "omamori-reports"
/* the store of `console run-reports` when it has no --db (set by the console) */
#define CON_RUN_DB_ENV "OMAMORI_RUN_DB"
int con_serve(const con_options *o);

#endif
