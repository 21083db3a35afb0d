/* libFuzzer target: opening a threat-intelligence database file that is not
 * what it claims (mapped read-only, every record bounds-checked), then
 * lookups of each kind, the counts, and a merge into a builder. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "guard/guard.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = memfd_create("inteldb", 0);
	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	om_intel_db *db = NULL;
	if (om_intel_db_open(path, &db) == 0) {
		static const char *const vals[] = {
		    "192.0.2.1", "2001:db8::1", "www.c2.example", "http://dl.example/a?b",
		    "d41d8cd98f00b204e9800998ecf8427e", "da39a3ee5e6b4b0d3255bfef95601890afd80709",
		    "t13d1516h2_8daaf6152771_b186095e22b6"};
		om_intel_hit h;
		char txt[2100];
		for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++)
			if (om_intel_db_lookup(db, OM_INTEL_AUTO, vals[i], strlen(vals[i]), 5, &h) == 0)
				om_intel_hit_text(&h, txt, sizeof(txt));
		om_intel_db_stats st;
		om_intel_db_stats_get(db, 5, &st);
		for (uint32_t i = 0; i < st.sources; i++)
			(void)om_intel_db_source(db, i);
		om_intel_builder *b = NULL;
		if (om_intel_builder_new(&b) == 0) {
			om_intel_builder_merge(b, db, 5);
			om_intel_builder_free(b);
		}
		om_intel_db_close(db);
	}
	close(fd);
	return 0;
}
