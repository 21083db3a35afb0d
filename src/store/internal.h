/* store: what the store's own files share (not part of the interface). */
#ifndef OMAMORI_STORE_INTERNAL_H
#define OMAMORI_STORE_INTERNAL_H

#include "store/db.h"
#include "store/store.h"

/* The store's connection through the database layer (db.h): SQLite or
 * PostgreSQL. */
om_db *store_dbh(om_store *s);
/* A statement of the store's other files kept prepared on the store's
 * connection for its life (a slot below STORE_XSTMT_MAX, always with the
 * same sql), reset and ready to bind; NULL on error. */
#define STORE_XSTMT_MAX 8
om_db_stmt *store_stmt(om_store *s, unsigned slot, const char *sql);
/* Runs st (bound, without rows). On PostgreSQL inside a batch transaction
 * it goes in the pipeline without waiting: an error shows at the commit
 * (om_store_flush), which then fails and loses the batch. Otherwise at
 * once. */
int store_run_batched(om_store *s, om_db_stmt *st);
/* The console's tables (console.c), idempotent; run by om_store_open. */
int store_console_schema(om_store *s, char *err, size_t errlen);
/* The report's tables (report2.c), idempotent; run by om_store_open. */
int om_store_report2_schema(om_store *s, char *err, size_t errlen);
/* The desk's tables (desk.c), idempotent; run by om_store_open. */
int store_desk_schema(om_store *s, char *err, size_t errlen);
#include <stdbool.h>
#include <stdint.h>

/* An EVE "appctl" event into the application-use row it stores
 * (appctl_import.c): 1, 0 for an application outside the report's groups,
 * -EINVAL for bad fields. */
struct json_t;
int store_appctl_parse(struct json_t *ev, const char *tenant, const char *gateway,
                       om_store_appctl_flow *ret);

/* The fields of an EVE line that the store reads from an alert or an
 * anomaly (evescan.c). A string is NULL when absent or not a string; an
 * integer's has_ flag is false when absent or not an integer; an object's
 * flag says it is there as an object. */
typedef struct store_eve_fields {
	const char *event_type, *timestamp, *src_ip, *dest_ip, *proto;
	int64_t src_port, dest_port;
	bool has_src_port, has_dest_port;
	bool om_obj, alert_obj, anomaly_obj;
	const char *tenant, *gateway, *category, *action; /* omamori.* */
	int64_t severity;
	bool has_severity;
	const char *signature; /* alert.signature */
	int64_t signature_id;
	bool has_signature_id;
	const char *anomaly_event; /* anomaly.event */
} store_eve_fields;
/* The fields of line by a scanner of its own: true when the line is a JSON
 * object that json_loadb (JSON_REJECT_DUPLICATES) takes too and *ret is
 * what store_eve_fields_of gives for it; false when it cannot say (the
 * line may still be valid: parse it in full). Captured strings are written
 * into scratch, of at least len + 16 bytes. */
bool store_eve_scan(const char *line, size_t len, char *scratch, store_eve_fields *ret);
/* The same fields of a parsed line (strings point into ev). */
void store_eve_fields_of(struct json_t *ev, store_eve_fields *ret);

#endif
