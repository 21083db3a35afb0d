/* store: what the store's own files share (not part of the interface). */
#ifndef OMAMORI_STORE_INTERNAL_H
#define OMAMORI_STORE_INTERNAL_H

#include "store/db.h"
#include "store/store.h"

/* The store's connection through the database layer (db.h): SQLite or
 * PostgreSQL. */
om_db *store_dbh(om_store *s);
/* The console's tables (console.c), idempotent; run by om_store_open. */
int store_console_schema(om_store *s, char *err, size_t errlen);
/* The report's tables (report2.c), idempotent; run by om_store_open. */
int om_store_report2_schema(om_store *s, char *err, size_t errlen);
/* An EVE "appctl" event into the application-use table (appctl.c). */
struct json_t;
int store_appctl_import(om_store *s, struct json_t *ev, const char *tenant, const char *gateway);

#endif
