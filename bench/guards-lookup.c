/* guards-lookup: the web filter's lookup rate on a database built by
 * 'omamori webfilter import' from bench/guards' synthetic list, whose
 * rules are d<i>.b<i%1000>.com. Times the open (mmap) and N lookups of
 * hits (a name under a random rule) and misses, and prints one line of
 * key=value figures. Usage: guards-lookup DB RULES LOOKUPS */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "guard/guard.h"

/* the thread's CPU time: the benchmark machine is shared, and time spent
 * waiting for a core is not the lookup's */
static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	uint64_t rules, n;
	if (argc != 4 || om_parse_u64(argv[2], 1, UINT32_MAX, &rules) < 0 ||
	    om_parse_u64(argv[3], 1, UINT32_MAX, &n) < 0) {
		fprintf(stderr, "usage: guards-lookup DB RULES LOOKUPS\n");
		return 2;
	}
	double t0 = now();
	om_wf_db *db = NULL;
	if (om_wf_db_open(argv[1], &db) < 0) {
		fprintf(stderr, "guards-lookup: cannot open %s\n", argv[1]);
		return 1;
	}
	double t_open = now() - t0;
	/* names made before timing, so only lookups are timed */
	enum { NAMES = 1 << 16 };
	static char hit[NAMES][48], miss[NAMES][48];
	uint64_t x = 88172645463325252ULL;
	for (unsigned i = 0; i < NAMES; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		uint64_t r = x % rules;
		snprintf(hit[i], sizeof(hit[i]), "www.d%" PRIu64 ".b%" PRIu64 ".com", r, r % 1000);
		snprintf(miss[i], sizeof(miss[i]), "www.x%" PRIu64 ".nothere.net", r);
	}
	uint64_t found = 0;
	om_wf_match m;
	double t1 = now();
	for (uint64_t i = 0; i < n; i++) {
		const char *s = hit[i & (NAMES - 1)];
		found += om_wf_db_lookup(db, s, strlen(s), NULL, 0, &m) == 0;
	}
	double t_hit = now() - t1;
	uint64_t missed = 0;
	t1 = now();
	for (uint64_t i = 0; i < n; i++) {
		const char *s = miss[i & (NAMES - 1)];
		missed += om_wf_db_lookup(db, s, strlen(s), "/a/b.html", 9, &m) != 0;
	}
	double t_miss = now() - t1;
	printf("rules=%" PRIu64 " open_ms=%.3f hit_ns=%.1f miss_ns=%.1f found=%" PRIu64
	       " missed=%" PRIu64 " lookups=%" PRIu64 "\n",
	       om_wf_db_rules(db), t_open * 1e3, t_hit / (double)n * 1e9, t_miss / (double)n * 1e9,
	       found, missed, n);
	om_wf_db_close(db);
	return found == n && missed == n ? 0 : 1;
}
