/* ingest.c: the store writer's side of the spool. EVE lines (from the
 * local spool, later from the console's ingest) are parsed with jansson and
 * mapped onto the store: alert and anomaly events become stored events,
 * coverage events mark the hours they cover as watched. Everything else
 * (flow, stats) is not stored. The writer runs off the packet path: as a
 * thread beside `omamori inspect`, or as `omamori store import`. */
#include "store/internal.h"
#include "store/store.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define IMPORT_BATCH 16384u
#define POLL_NSEC (20 * 1000 * 1000L)

static int digits(const char *s, int n, int *ret)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (s[i] - '0');
	}
	*ret = v;
	return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (era arithmetic). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

/* "YYYY-MM-DDTHH:MM:SS.uuuuuu+0000", the form om_time_iso writes. */
int om_store_parse_time(const char *s, om_usec *ret)
{
	int y, mo, d, h, mi, se, us;
	if (!s || strlen(s) != 31 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
	    s[16] != ':' || s[19] != '.' || strcmp(s + 26, "+0000") != 0)
		return -EINVAL;
	if (digits(s, 4, &y) || digits(s + 5, 2, &mo) || digits(s + 8, 2, &d) ||
	    digits(s + 11, 2, &h) || digits(s + 14, 2, &mi) || digits(s + 17, 2, &se) ||
	    digits(s + 20, 6, &us))
		return -EINVAL;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
		return -EINVAL;
	int64_t days = days_from_civil(y, (unsigned)mo, (unsigned)d);
	*ret = ((om_usec)days * 86400u + (om_usec)h * 3600u + (om_usec)mi * 60u + (om_usec)se) *
	           1000000u +
	       (om_usec)us;
	return 0;
}

static const char *str_at(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

static int64_t int_at(json_t *o, const char *key, int64_t dflt)
{
	json_t *v = json_object_get(o, key);
	return json_is_integer(v) ? json_integer_value(v) : dflt;
}

static uint16_t port_at(json_t *o, const char *key)
{
	int64_t v = int_at(o, key, 0);
	return v >= 0 && v <= 65535 ? (uint16_t)v : 0;
}

static int import_coverage(om_store *s, json_t *ev, const char *tenant, const char *gateway)
{
	json_t *cov = json_object_get(ev, "coverage");
	om_usec start;
	if (!json_is_object(cov) || om_store_parse_time(str_at(cov, "start"), &start) < 0)
		return -EINVAL;
	int64_t packets = int_at(cov, "packets", -1);
	json_t *cats = json_object_get(cov, "categories");
	if (packets < 0 || !json_is_array(cats))
		return -EINVAL;
	size_t i;
	json_t *c;
	json_array_foreach(cats, i, c)
	{
		if (!json_is_string(c) || !json_string_value(c)[0])
			return -EINVAL;
		int r = om_store_add_watched(s, tenant, gateway, json_string_value(c), start,
		                             (uint64_t)packets);
		if (r < 0)
			return r == -EINVAL ? -EIO : r;
	}
	return 1;
}

/* Most lines (flow records, stats) are not for the store. The event builder
 * writes the top-level "event_type" before any object of the producer, and a
 * quote inside a JSON string is escaped, so the first literal
 * "event_type":"..." of a line is its type: a line whose type is plainly
 * none of ours is skipped without being parsed. Anything else is parsed in
 * full and checked again. */
static bool surely_not_stored(const char *line, size_t len)
{
	static const char key[] = "\"event_type\":\"";
	const size_t klen = sizeof(key) - 1;
	const char *p = memmem(line, len, key, klen);
	if (!p)
		return false;
	p += klen;
	size_t left = len - (size_t)(p - line);
	static const char *const ours[] = {"alert\"", "anomaly\"", "coverage\"", "appctl\""};
	for (size_t i = 0; i < OM_ARRAY_SIZE(ours); i++) {
		size_t n = strlen(ours[i]);
		if (left >= n && !memcmp(p, ours[i], n))
			return false;
	}
	return true;
}

static int import_line(om_store *s, const char *line, size_t len, const char *want_tenant,
                       const char *want_gateway);

int om_store_import_line(om_store *s, const char *line, size_t len)
{
	return import_line(s, line, len, NULL, NULL);
}

int om_store_import_line_for(om_store *s, const char *line, size_t len, const char *tenant,
                             const char *gateway)
{
	if (!tenant || !gateway)
		return -EINVAL;
	return import_line(s, line, len, tenant, gateway);
}

static int import_line(om_store *s, const char *line, size_t len, const char *want_tenant,
                       const char *want_gateway)
{
	json_error_t jerr;
	int r = -EINVAL;
	if (surely_not_stored(line, len))
		return 0; /* flow, stats, ...: not for the store */
	json_t *ev = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(ev))
		goto out;
	const char *type = str_at(ev, "event_type");
	if (!type)
		goto out;
	bool alert = !strcmp(type, "alert"), cov = !strcmp(type, "coverage");
	bool app = !strcmp(type, "appctl");
	if (!alert && !cov && !app && strcmp(type, "anomaly") != 0) {
		r = 0; /* flow, stats, ...: not for the store */
		goto out;
	}
	json_t *om = json_object_get(ev, "omamori");
	const char *tenant = str_at(om, "tenant"), *gateway = str_at(om, "gateway");
	if (!json_is_object(om) || !tenant || !gateway || !tenant[0])
		goto out;
	/* a gateway pushes its own tenant's events only */
	if ((want_tenant && strcmp(tenant, want_tenant) != 0) ||
	    (want_gateway && strcmp(gateway, want_gateway) != 0))
		goto out;
	if (cov) {
		r = import_coverage(s, ev, tenant, gateway);
		goto out;
	}
	if (app) {
		r = store_appctl_import(s, ev, tenant, gateway);
		goto out;
	}
	om_usec ts;
	if (om_store_parse_time(str_at(ev, "timestamp"), &ts) < 0)
		goto out;
	json_t *obj = json_object_get(ev, alert ? "alert" : "anomaly");
	if (!json_is_object(obj))
		goto out;
	const char *sig = str_at(obj, alert ? "signature" : "event");
	int64_t sid = alert ? int_at(obj, "signature_id", 0) : 0;
	int64_t sev = int_at(om, "severity", 3);
	/* the store keeps the line as the dedup key: a NUL-terminated copy */
	char *copy = malloc(len + 1);
	if (!copy) {
		r = -ENOMEM;
		goto out;
	}
	memcpy(copy, line, len);
	copy[len] = '\0';
	const char *src = str_at(ev, "src_ip"), *dst = str_at(ev, "dest_ip");
	const char *proto = str_at(ev, "proto");
	om_store_event se = {
	    .ts = ts,
	    .tenant = tenant,
	    .gateway = gateway,
	    .event_type = type,
	    .category = str_at(om, "category"),
	    .severity = sev >= 1 && sev <= 3 ? (int)sev : 3,
	    .action = str_at(om, "action") ? str_at(om, "action") : "detected",
	    .src_ip = src ? src : "",
	    .src_port = port_at(ev, "src_port"),
	    .dest_ip = dst ? dst : "",
	    .dest_port = port_at(ev, "dest_port"),
	    .proto = proto ? proto : "",
	    .signature = sig ? sig : "",
	    .signature_id = sid >= 0 && sid <= UINT32_MAX ? (uint32_t)sid : 0,
	    .eve_json = copy,
	};
	r = om_store_add_event(s, &se);
	/* a refused event (bad fields) is bad data, not a store failure */
	r = r == -EINVAL || r == -ERANGE ? -EINVAL : r < 0 ? r : 1;
	free(copy);
out:
	json_decref(ev);
	return r;
}

static int commit(om_store *s, om_spool_reader *rd, char *err, size_t errlen)
{
	int r = om_store_flush(s);
	if (r < 0) {
		snprintf(err, errlen, om_tr("err.store.import_write"), strerror(-r));
		return r;
	}
	r = om_spool_commit(rd);
	if (r < 0)
		snprintf(err, errlen, om_tr("err.store.import_commit"), strerror(-r));
	return r;
}

int om_store_import_spool(om_store *s, om_spool_reader *rd, bool (*done)(void *user), void *user,
                          om_store_import_stats *st, char *err, size_t errlen)
{
	unsigned pending = 0;
	bool last_pass = false;
	/* one store transaction per batch of the spool: each commit rewrites
	 * the index pages it touched into the WAL */
	om_store_set_batch_size(s, IMPORT_BATCH);
	for (;;) {
		const char *data;
		size_t len;
		int n = om_spool_read(rd, &data, &len);
		if (n < 0) {
			snprintf(err, errlen, om_tr("err.store.import_read"), strerror(-n));
			return n;
		}
		if (n == 1) {
			st->records++;
			int r = om_store_import_line(s, data, len);
			if (r == -EINVAL) {
				st->invalid++;
			} else if (r < 0) {
				snprintf(err, errlen, om_tr("err.store.import_write"),
				         strerror(-r));
				return r;
			} else if (r == 0) {
				st->ignored++;
			} else {
				st->stored++;
			}
			if (++pending >= IMPORT_BATCH) {
				int c = commit(s, rd, err, errlen);
				if (c < 0)
					return c;
				pending = 0;
			}
			continue;
		}
		if (pending) {
			int c = commit(s, rd, err, errlen);
			if (c < 0)
				return c;
			pending = 0;
		}
		if (!done || last_pass)
			return 0;
		/* the producer is finished: one more pass reads what it wrote last */
		if (done(user)) {
			last_pass = true;
			continue;
		}
		struct timespec ts = {0, POLL_NSEC};
		nanosleep(&ts, NULL);
	}
}
