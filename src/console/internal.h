/* console: what the console's files share. */
#ifndef OMAMORI_CONSOLE_INTERNAL_H
#define OMAMORI_CONSOLE_INTERNAL_H

#include <pthread.h>
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
/* The body's lines parsed for the gateway's tenant without the store
 * (om_store_parsed_add), for con_ingest_commit; *ret counts the lines (kept
 * ones as stored). Errors as con_ingest_gzip's; the set is at most
 * CON_INGEST_PARSED_MAX bytes (-E2BIG). */
#define CON_INGEST_PARSED_MAX (160u * 1024 * 1024)
struct con_desk_auto;
int con_ingest_parse(const char *tenant, const char *gateway, const void *body, size_t len,
                     om_store_parsed **ret_parsed, struct con_desk_auto **ret_desk,
                     con_ingest_result *ret);
/* Group commit of parsed batches by a writer thread of their own. A
 * connection's thread parses its batch and submits it (con_ingest_submit,
 * which does not wait); the writer takes every queued batch (at most
 * CON_INGEST_GROUP_MAX) and, holding store_lock, writes them in one
 * transaction: per batch the batch record is checked (recorded already:
 * seen, nothing written), its events, its record and (health) the
 * gateway's last push are written; then one commit. A group that fails is
 * written again batch by batch, so one bad batch fails alone. After the
 * commit each job is marked done and its on_done is called (with q->m
 * held; it must not block): rc 0 and res updated with what the store
 * took, or a negative errno when it could not be stored (nothing of it
 * is). The job belongs to the queue from the submit until done; after
 * on_done the writer does not touch it again. */
#define CON_INGEST_GROUP_MAX 64
typedef struct con_ingest_job {
	/* in (kept by the submitter until done) */
	const char *gateway, *batch_id;
	om_store_parsed *parsed;
	om_usec now;
	bool health; /* also record the push in the gateway's health: */
	const char *version;
	uint64_t drops, backlog;
	void (*on_done)(struct con_ingest_job *j); /* or NULL */
	void *user;
	/* in: the parse's counts; out: the write's */
	con_ingest_result res;
	/* out */
	int rc;
	bool seen; /* the batch was recorded already */
	bool done;
	/* the submitter's, under q->m (e.g. its connection is suspended) */
	bool waiting;
	size_t queued_size; /* the queue's */
	struct con_ingest_job *next;
} con_ingest_job;
/* Writers of one queue: each with a store connection of its own (on
 * PostgreSQL two write at once, each a server process of its own). */
#define CON_INGEST_WRITERS_MAX 2
struct con_ingest_queue;
typedef struct con_ingest_writer {
	struct con_ingest_queue *q;
	om_store *s;
	pthread_mutex_t *store_lock;
	pthread_t thread;
} con_ingest_writer;
typedef struct con_ingest_queue {
	pthread_mutex_t m;
	pthread_cond_t cv;   /* a group was committed */
	pthread_cond_t work; /* a job was queued, or stop */
	con_ingest_job *head, *tail;
	unsigned writing; /* writers writing a group now */
	/* the parsed sets of the jobs not done yet, and their cap: a job past
	 * it is refused (the gateway pushes it again later) unless none waits */
	size_t queued_bytes, max_bytes;
	bool stopping, running;
	con_ingest_writer w[CON_INGEST_WRITERS_MAX];
	unsigned nwriters;
	uint64_t groups, batches; /* commits and the batches in them */
} con_ingest_queue;
void con_ingest_queue_init(con_ingest_queue *q);
/* Stops the writer (if running) first. */
void con_ingest_queue_destroy(con_ingest_queue *q);
/* Starts a writer on store s (used only by it, under store_lock); called
 * again, a second one on another store connection (-E2BIG past
 * CON_INGEST_WRITERS_MAX). */
int con_ingest_start(con_ingest_queue *q, om_store *s, pthread_mutex_t *store_lock);
/* Refuses new jobs, writes the queued ones, and ends the writers. */
void con_ingest_stop(con_ingest_queue *q);
/* The default cap of the parsed sets queued at once. */
#define CON_INGEST_QUEUED_MAX ((size_t)1 << 30)
/* Queues j; -ESHUTDOWN when the writer is stopping or not running, -ENOBUFS
 * when the queued sets would pass q->max_bytes (nothing queued). */
int con_ingest_submit(con_ingest_queue *q, con_ingest_job *j);
/* Batches waiting for the writer. */
size_t con_ingest_queued(con_ingest_queue *q);
/* Submits a batch and waits for the commit that holds it: 0 (*res updated,
 * *ret_seen), or a negative errno (nothing of it stored). */
int con_ingest_commit(con_ingest_queue *q, const char *gateway, const char *batch_id,
                      om_store_parsed *parsed, om_usec now, con_ingest_result *res, bool *ret_seen);
/* A batch id: 1..64 characters of [A-Za-z0-9_.-]. */
bool con_batch_id_ok(const char *id);

/* ---- the support desk (desk.c rules and operations, desk_parse.c outside
 * data, desk_web.c pages and API, desk_cli.c `omamori desk`) ---- */
bool con_desk_kind_ok(const char *k);
/* The kinds a company calls about (the triage aid has questions for them). */
bool con_desk_call_kind(const char *k);
const char *con_desk_kind_at(size_t i); /* NULL past the end */
bool con_desk_state_ok(const char *s);
const char *con_desk_state_at(size_t i);
bool con_desk_judgement_ok(const char *j);
bool con_desk_is_open(const char *state); /* not resolved or closed */
bool con_desk_address_ok(const char *a);
bool con_desk_domain_ok(const char *d);
/* An address in a private, shared or link-local range (the office side). */
bool con_desk_inside(const char *ip);

enum { CON_SLA_OK = 0, CON_SLA_WARNING, CON_SLA_BREACHED };
enum { CON_SLA_ANSWER = 0, CON_SLA_CLOSE, CON_SLA_STOPPED };
typedef struct con_desk_sla_state {
	om_usec answer_due, close_due;
	om_usec left; /* of the running clock; 0 when past due */
	int clock;    /* CON_SLA_ANSWER until answered, then CON_SLA_CLOSE */
	int level;    /* warning: three quarters of the time gone */
} con_desk_sla_state;
/* Targets by priority 1..4: first answer 1/4/8/24 h, resolution
 * 8/24/72/168 h from opening. */
void con_desk_sla(const om_store_ticket *t, om_usec now, con_desk_sla_state *ret);

typedef struct con_desk_evidence {
	om_usec from, to; /* the window: a day before opening to an hour after */
	size_t events;    /* the device's events in the window */
	size_t serious;   /* of them c2, web_malware, mail_malware or severity 1 */
	bool quarantined; /* the gateway isolated the device */
	bool device_known;
	bool watched; /* a gateway of the company reported during the window */
} con_desk_evidence;
bool con_desk_event_serious(const char *category, int severity);
/* The suggested judgement ("attack", "unlikely", "more") by the rules in
 * desk.c; *ret_rule the catalogue key of the rule that decided. */
const char *con_desk_judge(const char *kind, const con_desk_evidence *e, const char **ret_rule);
/* The evidence for t, with up to max of the device's events in rows. */
int con_desk_evidence_get(om_store *s, const om_store_ticket *t, om_store_event_row *rows,
                          size_t max, size_t *ret_n, con_desk_evidence *ret);

/* Playbooks (data/desk/playbooks.{ja,en}.txt, built in by embed-desk.py). */
#define CON_PLAYBOOK_STEPS_MAX 12
typedef struct con_playbook {
	const char *id;
	const char *scenario; /* "pilot", "ipa" or "pilot ipa" */
	const char *ipa_rank; /* the IPA list's rank, "" when not on it */
	const char *title[OM_LANG_COUNT];
	const char *tell[OM_LANG_COUNT];
	const char *escalate[OM_LANG_COUNT];
	size_t nsteps;
	struct {
		const char *who; /* desk, company, onsite */
		const char *text[OM_LANG_COUNT];
	} steps[CON_PLAYBOOK_STEPS_MAX];
} con_playbook;
extern const con_playbook con_playbooks[];
extern const size_t con_playbooks_n;
const con_playbook *con_playbook_find(const char *id);
const char *con_desk_default_playbook(const char *kind);

/* Operations: each writes the ticket and a line of its trail. A provider
 * role's first change or comment is the ticket's first answer. */
/* 0 opened, 1 an open ticket with the same dedup key took it (t->id). */
int con_desk_open(om_store *s, om_store_ticket *t, const char *dedup, const char *actor,
                  om_usec now, int64_t *ret_id);
int con_desk_comment(om_store *s, om_store_ticket *t, const char *actor, bool provider,
                     const char *text, om_usec now);
/* field: state, priority, assignee, kind, playbook, judgement, device */
int con_desk_set(om_store *s, om_store_ticket *t, const char *actor, const char *field,
                 const char *value, om_usec now);
int con_desk_step(om_store *s, om_store_ticket *t, const char *actor, unsigned step, bool done,
                  om_usec now);
/* kind quarantine/release (target: an address, default the ticket's
 * device), block/unblock (an address or a domain): one command for each
 * enrolled gateway of the company (-ENODEV: none); visit: when (a date)
 * and target (a note). */
int con_desk_action(om_store *s, om_store_ticket *t, const char *actor, const char *kind,
                    const char *target, const char *when, om_usec now, unsigned *ret_sent);
/* A gateway's report on its command: recorded in the command, the ticket's
 * trail and the audit log; 1 when it was reported before. */
int con_desk_command_done(om_store *s, const om_store_gateway *g, int64_t id, bool ok,
                          const char *detail, om_usec now);

/* Tickets the ingest opens: a confirmed C&C alert (c2, severity 1), malware
 * delivered (web_malware, mail_malware), a host the gateway isolated by
 * itself. One open ticket per company, kind and device (later events go
 * into its trail). A batch names at most CON_DESK_AUTO_MAX distinct
 * (kind, device) pairs; more are counted in dropped (their events are
 * stored; a later batch opens their tickets). */
#define CON_DESK_AUTO_MAX 256
#define CON_DESK_AUTO_LINE (64u * 1024)
typedef struct con_desk_candidate {
	char kind[16];
	char device[46];
	char what[256];
	om_usec ts;
} con_desk_candidate;
typedef struct con_desk_auto {
	size_t n;
	unsigned dropped; /* candidates past CON_DESK_AUTO_MAX in one batch */
	con_desk_candidate c[CON_DESK_AUTO_MAX];
} con_desk_auto;
/* 0 and the candidate, or -EINVAL: not a line that opens a ticket. */
int con_desk_auto_parse(const char *line, size_t n, con_desk_candidate *ret);
void con_desk_auto_note(con_desk_auto *a, const char *line, size_t n);
int con_desk_auto_open(om_store *s, const char *tenant, con_desk_auto *a, om_usec now,
                       unsigned *ret_opened);

/* The desk's pages and API (desk_web.c) see the request through this. */
typedef struct con_ctx {
	om_store *store;
	enum om_lang lang;
	const om_store_account *acct;
	bool provider;    /* provider-admin or provider-staff */
	const char *csrf; /* the session's token, for the forms */
	bool csrf_ok;     /* the request carried it (form field or header) */
	bool get, post;
	const char *body;
	size_t body_len;
	const char *(*arg)(void *u, const char *name);    /* query values */
	const char *(*header)(void *u, const char *name); /* request headers */
	void *u;
	om_usec now;
} con_ctx;
/* The answer: ctype NULL is a page (body is what goes inside <main> after
 * the title; tenant non-empty: with that company's tabs); location: a 303. */
typedef struct con_answer {
	unsigned status;
	const char *ctype;
	char title[256];
	char tenant[64];
	char location[512];
	char disposition[256];
	om_buf body;
} con_answer;
/* 1 when path is the desk's (/desk, /t/<tenant>/desk..., /api/desk/...)
 * and a is filled (the caller frees a->body), 0 when not. */
int con_desk_route(const con_ctx *c, const char *path, con_answer *a);
/* /api/gateway/commands for the gateway g (already authenticated). */
int con_desk_gateway_route(om_store *s, const om_store_gateway *g, bool get, bool post,
                           const char *path, const char *body, size_t len, con_answer *a);
/* The desk statistics as an HTML section (the dashboard, /stats). */
void con_desk_stats_html(enum om_lang lang, const om_store_desk_stats_row *st, om_buf *b);

/* Notifications (desk_notify.c): what is opened, closed, quarantine,
 * release, block, unblock or visit; queued in the company's language when
 * the company has a desk contact. */
void con_desk_notify(om_store *s, const om_store_ticket *t, const char *what, om_usec now);
typedef struct con_notify_options {
	const char *smtp, *from, *cacert;
	bool insecure;
} con_notify_options;
int con_desk_mail_format(const char *from, const om_store_desk_message *m, om_buf *out);
int con_desk_send_outbox(om_store *s, const con_notify_options *o, unsigned *ret_sent,
                         unsigned *ret_failed);

/* Tickets by mail (desk_mail.c). */
typedef struct con_desk_mail {
	char from[256]; /* the sender's address, lower case */
	char subject[256];
	char kind[24];  /* guessed from words of the subject and text */
	int64_t ticket; /* "[... #N]" in the subject: an answer; 0 none */
	char body[OM_DESK_TEXT_MAX + 1];
	size_t body_len;
} con_desk_mail;
/* -EINVAL: no usable sender (not a ticket). */
int con_desk_mail_parse(const char *msg, size_t len, con_desk_mail *ret);
typedef struct con_desk_mail_stats {
	unsigned mails, tickets, comments, unknown, invalid;
} con_desk_mail_stats;
int con_desk_mail_ingest(om_store *s, const char *msg, size_t len, om_usec now,
                         con_desk_mail_stats *st);
typedef struct con_mail_options {
	const char *url; /* imap://host:port/INBOX or imaps://... */
	const char *user, *password, *cacert;
	bool insecure;
} con_mail_options;
int con_desk_mail_poll(om_store *s, const con_mail_options *o, con_desk_mail_stats *ret, char *err,
                       size_t errlen);

/* The gateway's poll client of the command channel (command.c):
 * GET URL/api/gateway/commands with its credential every interval seconds
 * (default 10), each command applied through apply and reported with POST
 * URL/api/gateway/commands/<id>. A command whose report did not get
 * through is applied and reported again on the next round (apply is
 * idempotent, the console keeps the first report). */
typedef struct con_poll_options {
	const char *url, *credential, *cacert;
	unsigned interval;
	bool once;
	om_desk_apply_fn apply;
	void *user;
} con_poll_options;
int con_poll_main(const con_poll_options *o);
/* One round; *ret_applied the commands applied. */
int con_poll_once(const con_poll_options *o, const char *cred, unsigned *ret_applied);
/* The commands of a poll answer: {"commands":[{"id":N,"kind":K,"target":T}]}. */
typedef struct con_poll_command {
	int64_t id;
	char kind[16];
	char target[256];
} con_poll_command;
int con_poll_parse(const char *json, size_t len, con_poll_command *out, size_t max, size_t *ret_n);

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
