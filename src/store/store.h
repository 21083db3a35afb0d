/* store: the event store. SQLite in WAL mode with versioned migrations; the
 * same interface will take PostgreSQL. Uses base only. */
#ifndef OMAMORI_STORE_H
#define OMAMORI_STORE_H

#include "base/base.h"

typedef struct om_store om_store;

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
/* Records that a gateway monitored a report category on a day (YYYY-MM-DD)
 * so that the report can tell 0 from "not monitored". */
int om_store_add_coverage(om_store *s, const char *tenant, const char *gateway,
                          const char *category, const char *day);
int om_store_flush(om_store *s);
void om_store_set_batch_size(om_store *s, unsigned n);

/* ---- the store writer: events from the spool ---- */
/* Records that a gateway saw `packets` packets in the UTC hour starting at
 * hour_start and so watched `category` then (one call per category of a
 * coverage event). */
int om_store_add_watched(om_store *s, const char *tenant, const char *gateway, const char *category,
                         om_usec hour_start, uint64_t packets);
/* Parses "YYYY-MM-DDTHH:MM:SS.uuuuuu+0000" (EVE's timestamp form). */
int om_store_parse_time(const char *s, om_usec *ret);
/* Stores one EVE line (as written by the engine): "alert" and "anomaly"
 * events through om_store_add_event (the line is the dedup key, so a line
 * imported twice counts once), "coverage" events through
 * om_store_add_watched. Returns 1 stored, 0 not a stored type, -EINVAL a
 * line that is not a usable event (bad data: count it and go on), or
 * another negative errno when the store failed. */
int om_store_import_line(om_store *s, const char *line, size_t len);
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
 * for the tenant, 0 if not, negative on error. */
int om_store_monitored(om_store *s, const char *tenant, const char *month, const char *category);
int om_store_month_total(om_store *s, const char *tenant, const char *month, const char *category,
                         uint64_t *ret);
/* Per-day counts of the month (days without events omitted), ascending. */
int om_store_month_daily(om_store *s, const char *tenant, const char *month, const char *category,
                         om_store_count *out, size_t max, size_t *ret_n);
/* Top sources (by src_ip) or targets (dest_ip), descending count. */
int om_store_month_top(om_store *s, const char *tenant, const char *month, const char *category,
                       bool sources, om_store_count *out, size_t max, size_t *ret_n);

#endif
