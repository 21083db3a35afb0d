/* libFuzzer target for the store writer's EVE line parser: any bytes as one
 * spool record, stored at once and through a parsed set. Checked: no crash,
 * a result that is 1, 0 or -EINVAL (a store error must not happen on a
 * healthy database), and the two paths agree: a line the set keeps is one
 * the direct path stores (or finds stored, or refuses as bad fields), a
 * line it skips or refuses is skipped or refused there too; writing the
 * set never fails. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/store.h"

static om_store *store;
static om_store_parsed *parsed;

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
	if (!parsed && om_store_parsed_new(1u << 24, &parsed) < 0)
		abort();
	int p = om_store_parsed_add(parsed, (const char *)data, size, NULL, NULL);
	if (p != 1 && p != 0 && p != -EINVAL)
		abort();
	om_store_parsed_counts c;
	if (om_store_parsed_write(store, parsed, &c) < 0)
		abort();
	parsed = om_store_parsed_free(parsed);
	int r = om_store_import_line(store, (const char *)data, size);
	if (r != 1 && r != 0 && r != -EINVAL)
		abort();
	if ((p == 0 && r != 0) || (p == -EINVAL && r != -EINVAL))
		abort();
	return 0;
}
