/* store: what the store's own files share (not part of the interface). */
#ifndef OMAMORI_STORE_INTERNAL_H
#define OMAMORI_STORE_INTERNAL_H

#include <sqlite3.h>

#include "store/db.h"
#include "store/store.h"

/* The store's connection through the database layer (db.h): SQLite or
 * PostgreSQL. */
om_db *store_dbh(om_store *s);
/* The SQLite handle under the store, NULL on PostgreSQL (for the files whose
 * SQL has not moved to the database layer yet). */
sqlite3 *store_db(om_store *s);
sqlite3 *om_db_sqlite_handle(om_db *db);
/* The console's tables (console.c), idempotent; run by om_store_open. */
int store_console_schema(om_store *s, char *err, size_t errlen);
/* The report's tables (report2.c), idempotent; run by om_store_open. */
int om_store_report2_schema(om_store *s, char *err, size_t errlen);

#endif
