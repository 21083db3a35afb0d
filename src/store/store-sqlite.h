/* store internals shared by the store's own source files (not a public
 * header: only src/store includes it). */
#ifndef OMAMORI_STORE_SQLITE_H
#define OMAMORI_STORE_SQLITE_H

#include <sqlite3.h>

#include "store/store.h"

/* The store's SQLite handle. */
sqlite3 *om_store_sqlite(om_store *s);
/* Creates the report's tables if missing (report2.c); run by om_store_open. */
int om_store_report2_schema(om_store *s, char *err, size_t errlen);

#endif
