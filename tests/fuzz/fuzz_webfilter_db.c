/* libFuzzer target: opening a category database file that is not what it
 * claims (the file is mapped read-only and every record is bounds-checked),
 * then lookups, counts and a merge into a builder. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "guard/guard.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = memfd_create("wfdb", 0);
	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	om_wf_db *db = NULL;
	if (om_wf_db_open(path, &db) == 0) {
		static const char *const names[] = {"example.com", "www.example.com", "a.b.c.d.e",
		                                    "x", "dropbox.com"};
		om_wf_match m;
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			om_wf_db_lookup(db, names[i], strlen(names[i]), "/a/b/c", 6, &m);
			om_wf_db_lookup(db, names[i], strlen(names[i]), NULL, 0, &m);
		}
		uint64_t counts[OM_WF_CAT_MAX];
		om_wf_db_category_counts(db, counts);
		for (uint32_t i = 0; i < om_wf_db_categories(db); i++)
			(void)om_wf_db_category(db, i);
		om_wf_builder *b = NULL;
		if (om_wf_builder_new(&b) == 0) {
			om_wf_builder_merge(b, db);
			om_wf_builder_free(b);
		}
		om_wf_db_close(db);
	}
	close(fd);
	return 0;
}
