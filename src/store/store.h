/* store: the event store. SQLite in WAL mode (the default) or PostgreSQL,
 * with one list of versioned migrations. Uses base only. */
#ifndef OMAMORI_STORE_H
#define OMAMORI_STORE_H

#include "base/base.h"

typedef struct om_store om_store;

/* path is an SQLite file, or a PostgreSQL database given as a libpq URL
 * ("postgresql://USER@HOST/DB", "postgres://...": see docs/store.md); the
 * database must exist, the tables are made by the migrations. */
bool om_store_is_postgresql(const char *path);
/* path as messages show it: a URL's password replaced by "***". */
void om_store_target_shown(const char *path, char *out, size_t n);
/* Opens (creating if needed) the database and applies pending migrations.
 * On error returns a negative errno and writes a message into err. */
int om_store_open(const char *path, om_store **ret, char *err, size_t errlen);
/* Opens without migrating (for `db migrate` to report what it does). */
int om_store_open_nomigrate(const char *path, om_store **ret, char *err, size_t errlen);
/* Applies pending migrations; reports versions before and after. */
int om_store_migrate(om_store *s, int *ret_from, int *ret_to, char *err, size_t errlen);
int om_store_schema_version(om_store *s);
int om_store_latest_version(void);
/* Flushes the pending batch and closes. Accepts NULL, returns NULL. */
om_store *om_store_close(om_store *s);

/* One security event. Strings are copied. eve_json is the whole EVE line.
 * An empty or NULL address means the event has none (a scan of many hosts
 * has no single target); it is then left out of the top lists. */
typedef struct om_store_event {
	om_usec ts;
	const char *tenant;
	const char *gateway;
	const char *event_type; /* "alert", "anomaly" */
	const char *category;   /* report category or NULL */
	int severity;           /* 1 high .. 3 low */
	const char *action;     /* "allowed", "blocked", "detected" */
	const char *src_ip;
	uint16_t src_port;
	const char *dest_ip;
	uint16_t dest_port;
	const char *proto;
	const char *signature; /* alert.signature or anomaly event name */
	uint32_t signature_id;
	const char *eve_json;
} om_store_event;

/* Adds an event to the pending batch; the batch is committed in one
 * transaction every batch_size events and by om_store_flush. An event already
 * stored (same tenant, gateway and EVE line) is ignored, so that importing
 * the same capture twice does not count twice. Daily rollups per tenant,
 * gateway, day and category are updated in the same transaction. */
int om_store_add_event(om_store *s, const om_store_event *ev);
/* Coverage as time actually watched. Records that a gateway watched a
 * report category during one UTC hour: it saw packets then. hour_start is
 * the hour's first microsecond (any later microsecond of the hour is rounded
 * down to it); packets is the number of packets in that hour. One row per
 * tenant, gateway, category and hour: adding the same hour again (importing
 * the same capture twice) keeps the row and the larger packet count, so the
 * hour is never counted twice and, when two captures of one gateway share an
 * hour, packets is a lower bound. -ERANGE when hour_start > INT64_MAX. */
int om_store_add_watched(om_store *s, const char *tenant, const char *gateway, const char *category,
                         om_usec hour_start, uint64_t packets);
/* The old per-day API, kept for callers that only know days: marks all 24
 * hours of day (YYYY-MM-DD, a calendar date from 1970 on) watched, with an
 * unknown (0) packet count. New code calls om_store_add_watched per hour. */
int om_store_add_coverage(om_store *s, const char *tenant, const char *gateway,
                          const char *category, const char *day);
int om_store_flush(om_store *s);
void om_store_set_batch_size(om_store *s, unsigned n);

/* ---- the store writer: events from the spool ---- */
/* Parses "YYYY-MM-DDTHH:MM:SS.uuuuuu+0000" (EVE's timestamp form). */
int om_store_parse_time(const char *s, om_usec *ret);
/* Stores one EVE line (as written by the engine): "alert" and "anomaly"
 * events through om_store_add_event (the line is the dedup key, so a line
 * imported twice counts once), "coverage" events through
 * om_store_add_watched. Returns 1 stored, 0 not a stored type, -EINVAL a
 * line that is not a usable event (bad data: count it and go on), or
 * another negative errno when the store failed. */
int om_store_import_line(om_store *s, const char *line, size_t len);
/* The same for a line pushed by one gateway of one tenant: a line naming
 * another tenant or gateway in its omamori object is refused (-EINVAL). */
int om_store_import_line_for(om_store *s, const char *line, size_t len, const char *tenant,
                             const char *gateway);
/* ---- parsed lines: parsed anywhere, written under the store's lock ----
 * The same mapping as om_store_import_line_for in two steps, so that the
 * parse (which needs no store) runs on many threads and only the write is
 * serialised: om_store_parsed_add keeps what a line would store (its text
 * copied), om_store_parsed_write stores everything kept, in the open batch
 * transaction. */
typedef struct om_store_parsed om_store_parsed;
/* A set holding at most max_bytes (records and copied text together). */
int om_store_parsed_new(size_t max_bytes, om_store_parsed **ret);
/* Accepts NULL; returns NULL. */
om_store_parsed *om_store_parsed_free(om_store_parsed *p);
/* Parses one line pushed by gateway of tenant: 1 kept, 0 not a stored type,
 * -EINVAL not a usable event or not this tenant's and gateway's (as
 * om_store_import_line_for; tenant and gateway both NULL: any, as
 * om_store_import_line), -E2BIG the set is full (nothing kept), -ENOMEM. */
int om_store_parsed_add(om_store_parsed *p, const char *line, size_t len, const char *tenant,
                        const char *gateway);
/* The lines kept so far. */
uint64_t om_store_parsed_lines(const om_store_parsed *p);
/* The memory the set holds (what counts against its max_bytes). */
size_t om_store_parsed_bytes(const om_store_parsed *p);
typedef struct om_store_parsed_counts {
	uint64_t stored, ignored, invalid;
} om_store_parsed_counts;
/* Stores the kept lines in the open batch transaction (begun if none; it
 * commits every batch_size events and at om_store_flush). *ret says how the
 * kept lines ended: stored, ignored (an application flow stored already) or
 * invalid (fields the store refuses). Another failure of the store: a
 * negative errno (the transaction may be lost: see om_store_discard). */
int om_store_parsed_write(om_store *s, const om_store_parsed *p, om_store_parsed_counts *ret);
/* Begins the batch transaction now if none is open, so that what follows
 * (events, and the console's batch records) commits as one. */
int om_store_begin(om_store *s);
/* Rolls the open batch transaction back: nothing written since the last
 * commit is stored. */
void om_store_discard(om_store *s);

typedef struct om_store_import_stats {
	uint64_t records, stored, ignored, invalid;
} om_store_import_stats;
/* Stores the spool's records from the reader's committed position; every
 * 16384 records and at the end of what is there, flushes the store and then
 * commits the reader's position, so a kill at any point loses nothing (what
 * was stored and not yet committed is read again and ignored as a
 * duplicate). done == NULL: stop at the end. Otherwise follow the spool
 * (polling) until done(user) is true and the last records are stored.
 * Counts go into *st (added to). On a store or spool failure returns a
 * negative errno with err set; the uncommitted records stay in the spool. */
int om_store_import_spool(om_store *s, om_spool_reader *rd, bool (*done)(void *user), void *user,
                          om_store_import_stats *st, char *err, size_t errlen);

/* ---- queries for reports ---- */
typedef struct om_store_count {
	char key[64]; /* day "YYYY-MM-DD", or an address */
	uint64_t count;
} om_store_count;

/* month is "YYYY-MM". Returns 1 if the category was monitored in the month
 * for the tenant (at least one watched hour, on any gateway), 0 if not,
 * negative on error. */
int om_store_monitored(om_store *s, const char *tenant, const char *month, const char *category);
int om_store_month_total(om_store *s, const char *tenant, const char *month, const char *category,
                         uint64_t *ret);
/* Per-day counts of the month (days without events omitted), ascending. */
int om_store_month_daily(om_store *s, const char *tenant, const char *month, const char *category,
                         om_store_count *out, size_t max, size_t *ret_n);
/* Top sources (by src_ip) or targets (dest_ip), descending count. */
int om_store_month_top(om_store *s, const char *tenant, const char *month, const char *category,
                       bool sources, om_store_count *out, size_t max, size_t *ret_n);

/* The time a category was watched in a month. A day counts as watched when
 * it has at least one watched hour. */
#define OM_STORE_MONTH_HOURS (31 * 24)
typedef struct om_store_watched {
	uint32_t ndays;        /* days in the month */
	uint32_t days;         /* days with at least one watched hour */
	uint32_t hours;        /* distinct watched hours (0 .. ndays * 24) */
	uint64_t packets;      /* packets in the watched hours, summed over gateways */
	uint8_t day_hours[31]; /* watched hours of each day, index day - 1 */
	/* bit h (byte h / 8, bit h % 8): hour h of the month watched, h = (day - 1)
	 * * 24 + hour of day */
	uint8_t hour_map[OM_STORE_MONTH_HOURS / 8];
} om_store_watched;

/* Watched time of a category in a month for a tenant: on any of its gateways
 * (gateway NULL; an hour watched by two gateways counts once) or on one. */
int om_store_month_watched(om_store *s, const char *tenant, const char *gateway, const char *month,
                           const char *category, om_store_watched *ret);

/* ---- mail drills (src/store/drill.c) ---- */
/* One drill target. In lists, strings point into the store's row and are
 * valid only during the callback. custom_json is a JSON object of the
 * file's extra columns ("{}" when none). group: an extra group to add the
 * target to on import (may be NULL); excluded: on the exclusion list (by
 * address or by "@domain"), filled by om_store_drill_targets. */
typedef struct om_store_drill_target {
	const char *mail, *name, *organisation, *department, *role, *custom_json, *group;
	bool excluded;
} om_store_drill_target;
typedef int (*om_store_drill_target_cb)(void *user, const om_store_drill_target *t);
typedef int (*om_store_drill_exclusion_cb)(void *user, const char *pattern, const char *reason);
/* Creates the drill tables if missing (run by om_store_open). */
int om_store_drill_schema(om_store *s, char *err, size_t errlen);
/* Imports n targets in one transaction: all or none. A target already
 * there (same mail) is updated; group (may be NULL) and each target's own
 * group are added to its groups. */
int om_store_drill_import(om_store *s, const om_store_drill_target *t, size_t n, const char *group,
                          char *err, size_t errlen);
/* Calls cb for every target (of group, or all with NULL), ordered by
 * organisation, department and mail; a non-zero return stops the walk
 * (negative: returned). */
int om_store_drill_targets(om_store *s, const char *group, om_store_drill_target_cb cb, void *user);
/* Adds (or with remove, removes: -ENOENT when absent) an exclusion: a mail
 * address or "@domain". */
int om_store_drill_exclude(om_store *s, const char *pattern, const char *reason, bool remove);
int om_store_drill_exclusions(om_store *s, om_store_drill_exclusion_cb cb, void *user);
/* Rounds: a template sent to a list of targets on a schedule. Every
 * recipient of a round has its own token (the key of its tracking URLs).
 * Times are microseconds since the epoch (UTC). */
enum om_store_drill_state {
	OM_DRILL_QUEUED = 0, /* not yet tried */
	OM_DRILL_RETRY,      /* a transient failure; tried again at due */
	OM_DRILL_SENT,       /* accepted by the SMTP server */
	OM_DRILL_BOUNCED,    /* a permanent SMTP error or a DSN */
	OM_DRILL_FAILED,     /* retries used up */
	OM_DRILL_STATE__COUNT
};
typedef struct om_store_drill_round {
	char id[64], tenant[64], template_name[64], lang[8], charset[16], group_name[64];
	char from_addr[256], from_name[128], base_url[256], tz[64];
	unsigned days;                     /* bit 0 Sunday .. bit 6 Saturday */
	unsigned hour_start, hour_end;     /* [start, end) local hours */
	int64_t start_at, spread, created; /* spread: microseconds */
	unsigned rate;                     /* messages a minute */
} om_store_drill_round;
typedef struct om_store_drill_recipient {
	const char *token, *mail, *name, *organisation, *department, *role, *custom_json;
	int state; /* enum om_store_drill_state */
	unsigned attempts;
	int64_t due, sent_at;
	const char *detail; /* the last SMTP answer or error */
} om_store_drill_recipient;
typedef struct om_store_drill_event {
	const char *round_id, *token, *kind, *ip, *ua, *source;
	int64_t at;
	unsigned flags; /* why a scanner, as seen when it came (OM_DRILL_SCAN_*) */
} om_store_drill_event;
typedef int (*om_store_drill_recipient_cb)(void *user, const om_store_drill_recipient *r);
typedef int (*om_store_drill_event_cb)(void *user, const om_store_drill_event *e);
typedef int (*om_store_drill_round_cb)(void *user, const om_store_drill_round *r);
/* Adds a round and its n recipients in one transaction; -EEXIST when the
 * round id is taken. */
int om_store_drill_round_add(om_store *s, const om_store_drill_round *r,
                             const om_store_drill_recipient *rc, size_t n, char *err,
                             size_t errlen);
/* -ENOENT when there is no such round. */
int om_store_drill_round_get(om_store *s, const char *id, om_store_drill_round *ret);
int om_store_drill_rounds(om_store *s, om_store_drill_round_cb cb, void *user);
/* The recipients of a round by organisation, department and mail; with
 * due_before > 0 only those queued or to retry with due <= due_before,
 * by due (at most max of them, 0: all). */
int om_store_drill_recipients(om_store *s, const char *round, int64_t due_before, size_t max,
                              om_store_drill_recipient_cb cb, void *user);
/* Records a try: new state, attempts, due, sent_at and detail. */
int om_store_drill_recipient_update(om_store *s, const char *token, int state, unsigned attempts,
                                    int64_t due, int64_t sent_at, const char *detail);
/* What the tracking server needs to know of a token. */
typedef struct om_store_drill_token_info {
	char round[64], organisation[256], lang[8];
	int64_t sent_at;
	int state;
} om_store_drill_token_info;
/* -ENOENT when the token is unknown. */
int om_store_drill_token(om_store *s, const char *token, om_store_drill_token_info *ret);
/* The newest token sent to mail (for a bounce that names only the
 * address); -ENOENT when none. ret_token holds 64 bytes. */
int om_store_drill_token_by_mail(om_store *s, const char *mail, char *ret_token);
int om_store_drill_event_add(om_store *s, const om_store_drill_event *e);
/* Marks a recipient bounced (a DSN came back); -ENOENT when unknown. */
int om_store_drill_bounce(om_store *s, const char *token, const char *detail);
/* The events of a round, by token and time. */
int om_store_drill_events(om_store *s, const char *round, om_store_drill_event_cb cb, void *user);
/* ---- the console: accounts, sessions, audit log, tenants ----
 * Tables of their own (src/store/console.c), created by om_store_open with
 * idempotent statements. Writes flush the pending event batch first. */
enum om_store_role {
	OM_ROLE_PROVIDER_ADMIN = 0,
	OM_ROLE_PROVIDER_STAFF = 1,
	OM_ROLE_COMPANY_ADMIN = 2,
	OM_ROLE_COMPANY_VIEWER = 3,
	OM_ROLE__COUNT
};
typedef struct om_store_account {
	char name[64];
	int role;        /* enum om_store_role */
	char tenant[64]; /* "" for provider roles */
	char hash[160];  /* libsodium's argon2id string */
} om_store_account;
/* -EEXIST when the name is taken, -EINVAL for an empty or too long field. */
int om_store_account_add(om_store *s, const om_store_account *a);
/* -ENOENT when there is no such account. */
int om_store_account_set_hash(om_store *s, const char *name, const char *hash);
int om_store_account_get(om_store *s, const char *name, om_store_account *ret);
/* Accounts by name; *ret_n is the number written (at most max). */
int om_store_account_list(om_store *s, om_store_account *out, size_t max, size_t *ret_n);
/* Sessions are stored by a hash of their cookie value (hex, <= 64 chars). */
int om_store_session_add(om_store *s, const char *id_hash, const char *account, const char *csrf,
                         om_usec expires);
/* The live session's account and CSRF token; -ENOENT when unknown or
 * expired at now (an expired one is deleted). */
int om_store_session_get(om_store *s, const char *id_hash, om_usec now, om_store_account *ret_acct,
                         char ret_csrf[80]);
int om_store_session_delete(om_store *s, const char *id_hash);
/* One audit log line: who did what, in which tenant ("" for none). */
int om_store_audit_add(om_store *s, om_usec ts, const char *actor, const char *tenant,
                       const char *action, const char *detail);
typedef struct om_store_audit {
	om_usec ts;
	char actor[64], tenant[64], action[64], detail[256];
} om_store_audit;
/* Newest first; tenant NULL: all tenants. */
int om_store_audit_list(om_store *s, const char *tenant, om_store_audit *out, size_t max,
                        size_t *ret_n);
typedef struct om_store_tenant {
	char id[64];
	char name[128];
} om_store_tenant;
/* -EEXIST when the id is taken. */
int om_store_tenant_add(om_store *s, const char *id, const char *name);
int om_store_tenant_get(om_store *s, const char *id, om_store_tenant *ret);
int om_store_tenant_list(om_store *s, om_store_tenant *out, size_t max, size_t *ret_n);

/* Gateways of a tenant. A gateway is created with the hash of a one-time
 * enrolment token; enrolling replaces it by the hash of the gateway's own
 * credential. Health: last push time, version, events stored, drops and
 * spool backlog as the gateway reported them. */
typedef struct om_store_gateway {
	char id[64];
	char tenant[64];
	char name[128];
	char version[32];
	om_usec last_seen; /* 0: never */
	uint64_t events, drops, backlog;
	bool enrolled;
} om_store_gateway;
/* -EEXIST when the id is taken. */
int om_store_gateway_add(om_store *s, const char *id, const char *tenant, const char *name,
                         const char *enrol_hash);
/* Exchanges an unused enrolment token for a credential: -ENOENT when the
 * token is unknown or already used. */
int om_store_gateway_enrol(om_store *s, const char *enrol_hash, const char *cred_hash,
                           om_store_gateway *ret);
int om_store_gateway_by_cred(om_store *s, const char *cred_hash, om_store_gateway *ret);
/* Records a push: when, the version, events added, and the reported drops
 * and backlog. */
int om_store_gateway_seen(om_store *s, const char *id, om_usec now, const char *version,
                          uint64_t events_added, uint64_t drops, uint64_t backlog);
/* The same inside the open batch transaction (no commit before it): the
 * group commit records a push with its events. */
int om_store_gateway_seen_tx(om_store *s, const char *id, om_usec now, const char *version,
                             uint64_t events_added, uint64_t drops, uint64_t backlog);
/* tenant NULL: every tenant's. */
int om_store_gateway_list(om_store *s, const char *tenant, om_store_gateway *out, size_t max,
                          size_t *ret_n);
/* Pushed batches, for idempotent ingest: 1 when gateway's batch_id was
 * stored already (its events counted), 0 when not. */
int om_store_batch_seen(om_store *s, const char *gateway, const char *batch_id);
int om_store_batch_add(om_store *s, const char *gateway, const char *batch_id, uint64_t events,
                       om_usec ts);
/* The same record without committing first: it joins the open batch
 * transaction (om_store_begin), so that the batch's events and its record
 * commit together. */
int om_store_batch_record(om_store *s, const char *gateway, const char *batch_id, uint64_t events,
                          om_usec ts);
/* Events a gateway pushed (acknowledged batches) with ts >= since. */
int om_store_gateway_pushed_since(om_store *s, const char *gateway, om_usec since, uint64_t *ret);
/* ---- the console's event search and dashboard queries (console.c) ---- */
/* One stored event as the console lists it. */
typedef struct om_store_event_row {
	int64_t id;
	om_usec ts;
	char gateway[64];
	char event_type[16];
	char category[32];
	int severity; /* 0 when the event has none */
	char action[16];
	char src_ip[48], dest_ip[48];
	unsigned src_port, dest_port;
	char proto[16];
	char signature[256];
} om_store_event_row;
/* Search filters; tenant is required (every query is scoped by it). Empty
 * strings and zeros mean "any". */
typedef struct om_store_event_filter {
	const char *tenant;
	om_usec from, to;     /* from <= ts < to; 0: open */
	const char *category; /* a report category */
	const char *host;     /* equal to the source or the destination address */
	int severity;         /* 1..3: this severity or more severe (a lower number) */
	const char *action;   /* "blocked", "allowed", ... */
	int64_t before_id;    /* paging: only ids below this one; 0: from the newest */
} om_store_event_filter;
/* Newest first, at most max rows. */
int om_store_event_search(om_store *s, const om_store_event_filter *f, om_store_event_row *out,
                          size_t max, size_t *ret_n);
/* One event of the tenant with its EVE line (cut to evelen - 1 bytes);
 * -ENOENT when the tenant has no event of that id. */
int om_store_event_get(om_store *s, const char *tenant, int64_t id, om_store_event_row *ret,
                       char *eve, size_t evelen);
/* Events of the tenant with from <= ts < to, all categories together,
 * counted by category and action: calls cb once per (category, action). */
typedef void (*om_store_tally_cb)(void *user, const char *category, const char *action,
                                  int severity, uint64_t n);
int om_store_event_tally(om_store *s, const char *tenant, om_usec from, om_usec to,
                         om_store_tally_cb cb, void *user);
/* For the provider's overview: events per console tenant since a UTC day
 * (YYYY-MM-DD, from the daily rollup, the six report categories), one call
 * per (tenant, category). */
typedef void (*om_store_tenant_count_cb)(void *user, const char *tenant, const char *category,
                                         uint64_t n);
int om_store_rollup_since(om_store *s, const char *day, om_store_tenant_count_cb cb, void *user);
/* ---- tenant metadata and range queries for the report (report2.c) ---- */
#define OM_STORE_DEFAULT_TZ "Asia/Tokyo"
#define OM_STORE_TENANT_MAX 256
/* What the report and the programme statistics know about a tenant; empty
 * strings when not set, timezone OM_STORE_DEFAULT_TZ when not set. */
typedef struct om_store_tenant_meta {
	char display_name[256];
	char industry[64];
	char size[32];
	char region[64];
	char timezone[65];
	char contact[256];
} om_store_tenant_meta;
/* Keys: display_name, industry, size, region, timezone, contact. */
bool om_store_tenant_key_valid(const char *key);
/* An IANA zone name present in the system's zoneinfo, or "UTC". */
bool om_store_timezone_valid(const char *tz);
/* Sets one key (an empty value removes it). -EINVAL: unknown key, a value
 * over 255 bytes or with control characters, or an unknown time zone. */
int om_store_tenant_meta_set(om_store *s, const char *tenant, const char *key, const char *value);
int om_store_tenant_meta_get(om_store *s, const char *tenant, om_store_tenant_meta *ret);
/* 1 when the tenant has any event or watched hour at all, 0 if none. */
int om_store_tenant_has_data(om_store *s, const char *tenant);
/* Every tenant with events, watched hours or metadata, sorted; -E2BIG
 * (with the first max in out) when there are more than max. */
int om_store_tenants(om_store *s, char (*out)[OM_STORE_TENANT_MAX + 1], size_t max, size_t *ret_n);
/* Events of a category with from <= ts < to (microseconds). */
int om_store_range_count(om_store *s, const char *tenant, const char *category, om_usec from,
                         om_usec to, uint64_t *ret);
int om_store_range_top(om_store *s, const char *tenant, const char *category, om_usec from,
                       om_usec to, bool sources, om_store_count *out, size_t max, size_t *ret_n);
/* The distinct watched hours (their first microsecond) of a category in
 * [from, to), ascending, on any gateway; -E2BIG when more than max. */
int om_store_range_watched(om_store *s, const char *tenant, const char *category, om_usec from,
                           om_usec to, om_usec *out, size_t max, size_t *ret_n);
/* The device inventory of a tenant: the name the owner knows a device by,
 * per address (IPv4 or IPv6 text, <= 45 characters). An empty label
 * removes the entry; -EINVAL for a bad address or a label over 255 bytes or
 * with control characters. _get returns 1 and the label, or 0 when the
 * address is not in the inventory. */
typedef struct om_store_device {
	char address[46];
	char label[256];
} om_store_device;
int om_store_device_set(om_store *s, const char *tenant, const char *address, const char *label);
int om_store_device_get(om_store *s, const char *tenant, const char *address, char *label,
                        size_t labellen);
int om_store_device_list(om_store *s, const char *tenant, om_store_device *out, size_t max,
                         size_t *ret_n);

/* ---- application use (appctl.c): the report's "application use" --------- */
/* One flow of an application group, from an EVE "appctl" event. */
typedef struct om_store_appctl_flow {
	const char *tenant, *gateway;
	uint64_t flow_id;
	om_usec first, last; /* the flow's first and last packet */
	const char *group;   /* "online_storage", ... */
	const char *app;     /* "Dropbox", "SSH", ... */
	const char *host;    /* the internal host (the flow's client) */
	uint64_t bytes;      /* both directions */
	bool blocked;
} om_store_appctl_flow;
int om_store_appctl_schema(om_store *s, char *err, size_t errlen);
/* 1 stored, 0 already there (same tenant, gateway, flow id and start), or
 * -EINVAL / -EIO. */
int om_store_appctl_add(om_store *s, const om_store_appctl_flow *f);
/* Use per group, internal host and application of the flows that started
 * in [from, to), ordered by group, host, application. */
typedef struct om_store_appctl_use {
	char group[64], host[64], app[64];
	uint64_t flows, bytes, blocked;
	om_usec first, last;
} om_store_appctl_use;
/* cb returns 0 to go on, anything else stops (a negative value is returned) */
typedef int (*om_store_appctl_cb)(void *user, const om_store_appctl_use *u);
int om_store_appctl_range(om_store *s, const char *tenant, om_usec from, om_usec to,
                          om_store_appctl_cb cb, void *user);

/* ---- the support desk (desk.c): tickets, their trail, gateway commands ----
 * Tickets belong to a tenant; every change is a history row (the audit
 * trail). kind: popup, encrypted, mail_opened, payment, lost_device, c2,
 * malware, quarantine, other. state: new, open, waiting, resolved, closed.
 * priority 1 (urgent) .. 4 (low). Times in microseconds, 0: not yet. */
#define OM_DESK_TEXT_MAX 4000
#define OM_DESK_ATTACH_MAX (48u * 1024)  /* bytes per attachment */
#define OM_DESK_ATTACH_COUNT 16          /* attachments per ticket */
#define OM_DESK_COMMANDS_PENDING_MAX 256 /* unconfirmed commands per gateway */
typedef struct om_store_ticket {
	int64_t id;
	char tenant[64];
	char kind[24];
	char source[16]; /* web, mail, auto, cli */
	char state[16];
	int priority;
	char title[256];
	char body[OM_DESK_TEXT_MAX + 1];
	char device[46];     /* the address of the device concerned, or "" */
	char opened_by[128]; /* an account, a mail address or "gateway" */
	char assignee[64];
	char judgement[16]; /* staff's: "", attack, unlikely, more */
	char suggested[16]; /* the triage rules' suggestion */
	char playbook[32];
	om_usec opened, first_answer, closed, updated;
	uint64_t steps; /* bit i: playbook step i ticked */
} om_store_ticket;
/* Adds t (its id is ignored). With a non-empty dedup key and a ticket of
 * the same tenant and key not yet resolved or closed, nothing is added and
 * 1 is returned with that ticket's id; 0 when added. */
int om_store_ticket_add(om_store *s, const om_store_ticket *t, const char *dedup, int64_t *ret_id);
/* -ENOENT when there is no such ticket (the caller checks the tenant). */
int om_store_ticket_get(om_store *s, int64_t id, om_store_ticket *ret);
/* Writes the changeable fields of t (by t->id); -ENOENT when unknown. */
int om_store_ticket_update(om_store *s, const om_store_ticket *t);
typedef struct om_store_ticket_filter {
	const char *tenant; /* NULL or "": every tenant */
	bool open_only;     /* not resolved or closed */
	om_usec from, to;   /* 0: open; else the tickets open at some time in [from, to) */
	int64_t before_id;  /* paging: ids below; 0 from the newest */
} om_store_ticket_filter;
/* Newest first. */
int om_store_ticket_list(om_store *s, const om_store_ticket_filter *f, om_store_ticket *out,
                         size_t max, size_t *ret_n);
typedef struct om_store_ticket_note_row {
	om_usec ts;
	char actor[128], action[32];
	char detail[OM_DESK_TEXT_MAX + 1];
} om_store_ticket_note_row;
/* One line of the ticket's trail (the detail is cut to OM_DESK_TEXT_MAX). */
int om_store_ticket_note(om_store *s, int64_t ticket, om_usec ts, const char *actor,
                         const char *action, const char *detail);
/* Oldest first. */
int om_store_ticket_history(om_store *s, int64_t ticket, om_store_ticket_note_row *out, size_t max,
                            size_t *ret_n);
/* kind: event (a store event id), device (an address), report (YYYY-MM).
 * 1 added, 0 there already. */
typedef struct om_store_ticket_link {
	char kind[16], ref[128];
} om_store_ticket_link;
int om_store_ticket_link_add(om_store *s, int64_t ticket, const char *kind, const char *ref);
int om_store_ticket_links(om_store *s, int64_t ticket, om_store_ticket_link *out, size_t max,
                          size_t *ret_n);
typedef struct om_store_attachment {
	int64_t id;
	char name[128], ctype[128], actor[128];
	size_t size;
	om_usec ts;
} om_store_attachment;
/* -E2BIG over OM_DESK_ATTACH_MAX bytes, -ENOSPC past OM_DESK_ATTACH_COUNT. */
int om_store_ticket_attach(om_store *s, int64_t ticket, const char *name, const char *ctype,
                           const void *data, size_t len, om_usec ts, const char *actor,
                           int64_t *ret_id);
int om_store_ticket_attachments(om_store *s, int64_t ticket, om_store_attachment *out, size_t max,
                                size_t *ret_n);
/* The file into buf (cap bytes; -E2BIG when it does not fit); -ENOENT when
 * the ticket has no attachment of that id. */
int om_store_ticket_attachment_get(om_store *s, int64_t ticket, int64_t id,
                                   om_store_attachment *ret, void *buf, size_t cap,
                                   size_t *ret_len);
/* A command for a gateway: kind quarantine, release, block, unblock; target
 * an address or a domain. state: pending, sent (the gateway took it), done,
 * failed (its report). */
typedef struct om_store_command {
	int64_t id;
	char tenant[64], gateway[64];
	int64_t ticket; /* 0: none */
	char kind[16];
	char target[256];
	char state[12];
	char result[256];
	char actor[64];
	om_usec created, delivered, done;
} om_store_command;
/* -ENOSPC when the gateway has OM_DESK_COMMANDS_PENDING_MAX unconfirmed. */
int om_store_command_add(om_store *s, const om_store_command *c, int64_t *ret_id);
/* The gateway's unconfirmed commands, oldest first; marks them sent. */
int om_store_command_poll(om_store *s, const char *gateway, om_usec now, om_store_command *out,
                          size_t max, size_t *ret_n);
int om_store_command_get(om_store *s, int64_t id, om_store_command *ret);
/* The gateway's report on its command: 0 recorded, 1 recorded before (the
 * first report stands: idempotent), -ENOENT not this gateway's command. */
int om_store_command_finish(om_store *s, const char *gateway, int64_t id, bool ok,
                            const char *result, om_usec now, om_store_command *ret);
int om_store_commands_of_ticket(om_store *s, int64_t ticket, om_store_command *out, size_t max,
                                size_t *ret_n);
/* Tickets opened in [from, to) (tenant NULL or "": all): by kind, how many
 * were answered and closed, and the sums of seconds to first answer and to
 * close (mean = sum / count). */
typedef struct om_store_desk_stats_row {
	uint64_t opened, answered, closed;
	uint64_t answer_seconds, close_seconds;
	struct {
		char kind[24];
		uint64_t n;
	} kinds[16];
	size_t nkinds;
} om_store_desk_stats_row;
int om_store_desk_stats(om_store *s, const char *tenant, om_usec from, om_usec to,
                        om_store_desk_stats_row *ret);

/* The company's desk contact: its language (ja, en), a mail address and a
 * webhook URL for notifications ("" none). -ENOENT when not set. */
typedef struct om_store_desk_contact {
	char tenant[64];
	char lang[8];
	char mail[256];
	char webhook[512];
} om_store_desk_contact;
int om_store_desk_contact_set(om_store *s, const om_store_desk_contact *c);
int om_store_desk_contact_get(om_store *s, const char *tenant, om_store_desk_contact *ret);
/* The company whose contact mail is mail (compared without case); -ENOENT
 * when none. */
int om_store_desk_contact_by_mail(om_store *s, const char *mail, char *ret_tenant, size_t n);
/* Notifications waiting to go out (channel mail or webhook); sent 0 until
 * delivered; tries counts attempts. */
typedef struct om_store_desk_message {
	int64_t id;
	char tenant[64];
	int64_t ticket;
	char channel[16];
	char dest[512];
	char subject[256];
	char body[OM_DESK_TEXT_MAX + 1];
	om_usec created, sent;
	unsigned tries;
	char error[256];
} om_store_desk_message;
int om_store_desk_outbox_add(om_store *s, const om_store_desk_message *m);
/* Unsent messages with fewer than max_tries attempts, oldest first. */
int om_store_desk_outbox_pending(om_store *s, unsigned max_tries, om_store_desk_message *out,
                                 size_t max, size_t *ret_n);
/* An attempt: sent > 0 delivered, 0 failed (error says why). */
int om_store_desk_outbox_done(om_store *s, int64_t id, om_usec sent, const char *error);

#endif
