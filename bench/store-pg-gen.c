/* store-pg-gen: writes a spool of synthetic events for the store's ingest
 * benchmark (bench/store-pg), in the form the engine writes them: alert
 * lines with an omamori object (tenant, gateway, category, severity,
 * action), spread over the gateways, the report categories and one month,
 * with a coverage line for each gateway's hour as it starts. Every line is
 * distinct, so every event is stored.
 *
 *   store-pg-gen DIR EVENTS [GATEWAYS [GATEWAYS_PER_TENANT]]
 *
 * The console's 1,000-gateway benchmark uses the same lines. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"

/* 2024-05-01T00:00:00Z */
#define MAY1_USEC 1714521600000000ull
#define MONTH_USEC (31ull * 86400ull * 1000000ull)
#define HOUR_USEC 3600000000ull

static const char *const cats[] = {"recon",        "c2",   "web_malware",
                                   "mail_malware", "spam", "harmful_web"};

static int parse_u64(const char *s, uint64_t max, uint64_t *ret)
{
	char *end = NULL;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || !end || *end || end == s || v == 0 || v > max)
		return -EINVAL;
	*ret = v;
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t n = 0, gws = 1, per = 1;
	char err[512] = "";
	om_spool *sp = NULL;
	om_spool_opts o;

	if (argc < 3 || parse_u64(argv[2], 100000000, &n) < 0 ||
	    (argc > 3 && parse_u64(argv[3], 100000, &gws) < 0) ||
	    (argc > 4 && parse_u64(argv[4], 100000, &per) < 0)) {
		fprintf(stderr,
		        "usage: store-pg-gen DIR EVENTS [GATEWAYS [GATEWAYS_PER_TENANT]]\n");
		return 2;
	}
	om_spool_opts_default(&o);
	o.fsync = OM_SPOOL_FSYNC_NONE;
	if (om_spool_open(argv[1], &o, &sp, err, sizeof(err)) < 0) {
		fprintf(stderr, "store-pg-gen: %s\n", err);
		return 1;
	}
	/* the events of one gateway are spaced evenly over the month */
	uint64_t per_gw = (n + gws - 1) / gws;
	uint64_t step = MONTH_USEC / (per_gw ? per_gw : 1);
	static char block[1 << 20];
	size_t used = 0;
	int rc = 0;
	for (uint64_t i = 0; i < n && rc == 0; i++) {
		uint64_t g = i % gws, k = i / gws;
		om_usec ts = MAY1_USEC + k * step + g;
		char when[40], hour[40], line[1024];
		om_time_iso(ts, when, sizeof(when));
		const char *cat = cats[(i * 7 + g) % OM_ARRAY_SIZE(cats)];
		int len = 0;
		/* a gateway's first event of an hour: its coverage record first */
		if (k == 0 || (ts - g) / HOUR_USEC != (ts - g - step) / HOUR_USEC) {
			om_time_iso(ts - ts % HOUR_USEC, hour, sizeof(hour));
			char end[40];
			om_time_iso(ts - ts % HOUR_USEC + HOUR_USEC, end, sizeof(end));
			len = snprintf(
			    line, sizeof(line),
			    "{\"timestamp\":\"%s\",\"event_type\":\"coverage\",\"coverage\":{"
			    "\"start\":\"%s\",\"end\":\"%s\",\"packets\":%" PRIu64 ","
			    "\"categories\":[\"recon\",\"c2\",\"web_malware\","
			    "\"mail_malware\",\"spam\",\"harmful_web\"]},\"omamori\":{"
			    "\"tenant\":\"t%04" PRIu64 "\",\"gateway\":\"g%04" PRIu64 "\"}}\n",
			    hour, hour, end, 1000 + k % 9000, g / per, g);
		}
		len += snprintf(
		    line + len, sizeof(line) - (size_t)len,
		    "{\"timestamp\":\"%s\",\"flow_id\":%" PRIu64 ",\"event_type\":\"alert\","
		    "\"src_ip\":\"203.0.%u.%u\",\"src_port\":%u,\"dest_ip\":\"192.168.%u.%u\","
		    "\"dest_port\":%u,\"proto\":\"TCP\",\"alert\":{\"action\":\"allowed\","
		    "\"gid\":1,\"signature_id\":%u,\"rev\":1,\"signature\":\"OMAMORI %s"
		    " synthetic event\",\"category\":\"%s\",\"severity\":2},"
		    "\"omamori\":{\"category\":\"%s\",\"severity\":2,"
		    "\"action\":\"detected\",\"tenant\":\"t%04" PRIu64 "\","
		    "\"gateway\":\"g%04" PRIu64 "\",\"advice\":\"%s.synthetic\"}}\n",
		    when, i + 1, (unsigned)(i % 7) + 113, (unsigned)(i % 251) + 1,
		    (unsigned)(1024 + i % 60000), (unsigned)(g % 250), (unsigned)(k % 250) + 2,
		    (unsigned)(i % 3 ? 22 : 445), 9000001u + (unsigned)(i % 50), cat, cat, cat,
		    g / per, g, cat);
		if (used + (size_t)len > sizeof(block)) {
			rc = om_spool_append(sp, block, used);
			used = 0;
		}
		memcpy(block + used, line, (size_t)len);
		used += (size_t)len;
	}
	if (rc == 0 && used)
		rc = om_spool_append(sp, block, used);
	om_spool_stats st;
	om_spool_stats_get(sp, &st);
	om_spool_close(sp);
	if (rc < 0 || st.dropped) {
		fprintf(stderr,
		        "store-pg-gen: writing the spool failed (%s, %" PRIu64 " dropped)\n",
		        rc < 0 ? strerror(-rc) : "ok", st.dropped);
		return 1;
	}
	printf("%" PRIu64 " records\n", st.records);
	return 0;
}
