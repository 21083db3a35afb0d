/* libFuzzer target for the store writer's EVE line parser: any bytes as one
 * spool record. Checked: no crash, and a result that is 1, 0, -EINVAL or a
 * store error (which must not happen on a healthy database). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/store.h"

static om_store *store;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!store) {
		char path[] = "/tmp/omamori-fuzz-ingest-XXXXXX";
		if (!mkdtemp(path))
			abort();
		char db[96], err[512];
		snprintf(db, sizeof(db), "%s/f.db", path);
		om_i18n_init();
		if (om_store_open(db, &store, err, sizeof(err)) < 0)
			abort();
		om_store_set_batch_size(store, 5000);
	}
	int r = om_store_import_line(store, (const char *)data, size);
	if (r != 1 && r != 0 && r != -EINVAL)
		abort();
	return 0;
}
