/* intel-lookup: the threat-intelligence database's lookup cost, on a
 * database built by bench/intel. Reads query lines "TYPE hit|miss VALUE"
 * (types ip, domain, url, sha256, md5, ja3), converts each value to the
 * form the engine hands over (an om_addr, a host and path, raw hash bytes)
 * before timing, opens the database (timed: the mmap and header checks),
 * then times N lookups per type and kind, cycling through the queries
 * (thread CPU time).
 * Prints one line "TYPE KIND ns_per_lookup matched/total" per group and
 * "open_ms=...", then "db_rss_kb=..." (the resident memory the open and
 * the lookups added: the database's pages that were touched). Usage: intel-lookup DB QUERIES N */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "guard/guard.h"

#define QMAX 65536

/* CPU time of this thread: the machine is shared, and wall time would
 * count the time other processes had the core */
static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct q {
	om_addr a;
	char s[208];
	size_t n, hl; /* url: host length */
	uint8_t raw[32];
	size_t rl;
};

enum { T_IP, T_DOMAIN, T_URL, T_SHA256, T_MD5, T_JA3, T_N };
static const char *const tnames[T_N] = {"ip", "domain", "url", "sha256", "md5", "ja3"};
static struct q qs[T_N][2][QMAX];
static unsigned nq[T_N][2];

static int hex(const char *s, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (uint8_t)v;
	}
	return 0;
}

/* Resident memory of this process in KiB (VmRSS), 0 when unknown. */
static long rss_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = 0;
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmRSS:", 6))
			kb = strtol(line + 6, NULL, 10);
	if (f)
		fclose(f);
	return kb;
}

int main(int argc, char **argv)
{
	uint64_t n;
	if (argc != 4 || om_parse_u64(argv[3], 1, UINT32_MAX, &n) < 0) {
		fprintf(stderr, "usage: intel-lookup DB QUERIES N\n");
		return 2;
	}
	FILE *f = fopen(argv[2], "r");
	if (!f)
		return 1;
	char line[256], type[16], kind[8], val[200];
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%15s %7s %199s", type, kind, val) != 3)
			continue;
		int t = -1;
		for (int i = 0; i < T_N; i++)
			if (!strcmp(type, tnames[i]))
				t = i;
		int k = !strcmp(kind, "miss");
		if (t < 0 || nq[t][k] >= QMAX)
			continue;
		struct q *q = &qs[t][k][nq[t][k]];
		snprintf(q->s, sizeof(q->s), "%s", val);
		q->n = strlen(q->s);
		if (t == T_IP && om_addr_parse(val, &q->a) < 0)
			continue;
		if (t == T_URL) {
			char *sl = strchr(q->s, '/');
			q->hl = sl ? (size_t)(sl - q->s) : q->n;
		}
		if (t == T_SHA256 || t == T_MD5 || t == T_JA3) {
			q->rl = t == T_SHA256 ? 32 : 16;
			if (hex(val, q->raw, q->rl) < 0)
				continue;
		}
		nq[t][k]++;
	}
	fclose(f);
	long rss0 = rss_kb();
	double t0 = now();
	om_intel_db *db = NULL;
	if (om_intel_db_open(argv[1], &db) < 0) {
		fprintf(stderr, "intel-lookup: cannot open %s\n", argv[1]);
		return 1;
	}
	printf("open_ms=%.3f\n", (now() - t0) * 1e3);
	int rc = 0;
	for (int t = 0; t < T_N; t++) {
		for (int k = 0; k < 2; k++) {
			unsigned m = nq[t][k];
			if (!m)
				continue;
			uint64_t found = 0;
			om_intel_hit h;
			double t1 = now();
			for (uint64_t i = 0; i < n; i++) {
				const struct q *q = &qs[t][k][i % m];
				int e;
				switch (t) {
				case T_IP: e = om_intel_db_lookup_addr(db, &q->a, 1, &h); break;
				case T_DOMAIN:
					e = om_intel_db_lookup_domain(db, q->s, q->n, 1, &h);
					break;
				case T_URL:
					e = om_intel_db_lookup_url(db, q->s, q->hl, q->s + q->hl,
					                           q->n - q->hl, 1, &h);
					break;
				case T_SHA256:
					e = om_intel_db_lookup_raw(db, OM_INTEL_SHA256, q->raw, 32,
					                           1, &h);
					break;
				case T_MD5:
					e = om_intel_db_lookup_raw(db, OM_INTEL_MD5, q->raw, 16, 1,
					                           &h);
					break;
				default:
					e = om_intel_db_lookup_raw(db, OM_INTEL_JA3, q->raw, 16, 1,
					                           &h);
					break;
				}
				found += e == 0;
			}
			double dt = now() - t1;
			printf("%s %s %.1f %" PRIu64 "/%" PRIu64 "\n", tnames[t],
			       k ? "miss" : "hit", dt / (double)n * 1e9, found, n);
			if ((k == 0 && found != n) || (k == 1 && found != 0))
				rc = 1;
		}
	}
	/* what the lookups made resident: the database's pages */
	printf("db_rss_kb=%ld\n", rss_kb() - rss0);
	om_intel_db_close(db);
	return rc;
}
