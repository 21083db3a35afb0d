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

/* What one line stores: an event, a watched hour (a coverage line gives one
 * per category) or an application flow. The strings point into the parsed
 * line (valid during the emit call) or, once kept, into a parsed set. */
enum rec_kind { REC_EVENT, REC_WATCHED, REC_APPCTL };
struct rec {
	enum rec_kind kind;
	union {
		om_store_event ev;
		struct {
			const char *tenant, *gateway, *category;
			om_usec hour;
			uint64_t packets;
		} w;
		om_store_appctl_flow app;
	} u;
};

/* emit(user, rec) takes each record of a line; its result ends the line's
 * parse when negative. */
typedef int (*emit_fn)(void *user, const struct rec *r);

static int parse_coverage(json_t *ev, const char *tenant, const char *gateway, emit_fn emit,
                          void *user)
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
	}
	json_array_foreach(cats, i, c)
	{
		struct rec r = {.kind = REC_WATCHED};
		r.u.w.tenant = tenant;
		r.u.w.gateway = gateway;
		r.u.w.category = json_string_value(c);
		r.u.w.hour = start;
		r.u.w.packets = (uint64_t)packets;
		int e = emit(user, &r);
		if (e < 0)
			return e;
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

/* Parses one line and hands what it stores to emit: 1 (records emitted;
 * a coverage line with no category emits none), 0 not a stored type,
 * -EINVAL not a usable line, or emit's negative result. An alert or an
 * anomaly is read by the scanner of evescan.c when it can (scratch: at
 * least len + 16 bytes, or NULL), anything else by jansson. */
static int parse_line(const char *line, size_t len, const char *want_tenant,
                      const char *want_gateway, emit_fn emit, void *user, char *scratch)
{
	json_error_t jerr;
	json_t *ev = NULL;
	store_eve_fields f;
	int r = -EINVAL;
	if (surely_not_stored(line, len))
		return 0; /* flow, stats, ...: not for the store */
	if (!scratch || !store_eve_scan(line, len, scratch, &f)) {
		ev = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
		if (!json_is_object(ev))
			goto out;
		store_eve_fields_of(ev, &f);
	}
	const char *type = f.event_type;
	if (!type)
		goto out;
	bool alert = !strcmp(type, "alert"), cov = !strcmp(type, "coverage");
	bool app = !strcmp(type, "appctl");
	if (!alert && !cov && !app && strcmp(type, "anomaly") != 0) {
		r = 0; /* flow, stats, ...: not for the store */
		goto out;
	}
	const char *tenant = f.tenant, *gateway = f.gateway;
	if (!f.om_obj || !tenant || !gateway || !tenant[0])
		goto out;
	/* a gateway pushes its own tenant's events only */
	if ((want_tenant && strcmp(tenant, want_tenant) != 0) ||
	    (want_gateway && strcmp(gateway, want_gateway) != 0))
		goto out;
	if (cov || app) {
		/* rare lines: read in full (the scanner found them valid) */
		if (!ev) {
			ev = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
			if (!json_is_object(ev))
				goto out;
			json_t *om = json_object_get(ev, "omamori");
			tenant = json_string_value(json_object_get(om, "tenant"));
			gateway = json_string_value(json_object_get(om, "gateway"));
			if (!tenant || !gateway)
				goto out;
		}
		if (cov) {
			r = parse_coverage(ev, tenant, gateway, emit, user);
			goto out;
		}
		struct rec rc = {.kind = REC_APPCTL};
		r = store_appctl_parse(ev, tenant, gateway, &rc.u.app);
		if (r == 1) {
			int e = emit(user, &rc);
			r = e < 0 ? e : 1;
		}
		goto out;
	}
	om_usec ts;
	if (om_store_parse_time(f.timestamp, &ts) < 0)
		goto out;
	if (!(alert ? f.alert_obj : f.anomaly_obj))
		goto out;
	const char *sig = alert ? f.signature : f.anomaly_event;
	int64_t sid = alert && f.has_signature_id ? f.signature_id : 0;
	int64_t sev = f.has_severity ? f.severity : 3;
	int64_t sport = f.has_src_port ? f.src_port : 0, dport = f.has_dest_port ? f.dest_port : 0;
	/* the store keeps the line (the event key is a hash of it): the emit
	 * function is given the line as it came, of length len, with no NUL */
	struct rec rc = {.kind = REC_EVENT};
	rc.u.ev = (om_store_event){
	    .ts = ts,
	    .tenant = tenant,
	    .gateway = gateway,
	    .event_type = type,
	    .category = f.category,
	    .severity = sev >= 1 && sev <= 3 ? (int)sev : 3,
	    .action = f.action ? f.action : "detected",
	    .src_ip = f.src_ip ? f.src_ip : "",
	    .src_port = sport >= 0 && sport <= 65535 ? (uint16_t)sport : 0,
	    .dest_ip = f.dest_ip ? f.dest_ip : "",
	    .dest_port = dport >= 0 && dport <= 65535 ? (uint16_t)dport : 0,
	    .proto = f.proto ? f.proto : "",
	    .signature = sig ? sig : "",
	    .signature_id = sid >= 0 && sid <= UINT32_MAX ? (uint32_t)sid : 0,
	    .eve_json = NULL,
	};
	r = emit(user, &rc);
	r = r < 0 ? r : 1;
out:
	json_decref(ev);
	return r;
}

/* Stores one record: 1 stored, 0 ignored (an application flow stored
 * already), -EINVAL refused by the store as bad data, or the store's
 * failure. */
static int write_rec(om_store *s, const struct rec *rc)
{
	int r;
	switch (rc->kind) {
	case REC_EVENT:
		r = om_store_add_event(s, &rc->u.ev);
		/* a refused event (bad fields) is bad data, not a store failure */
		return r == -EINVAL || r == -ERANGE ? -EINVAL : r < 0 ? r : 1;
	case REC_WATCHED:
		r = om_store_add_watched(s, rc->u.w.tenant, rc->u.w.gateway, rc->u.w.category,
		                         rc->u.w.hour, rc->u.w.packets);
		return r == -EINVAL ? -EIO : r < 0 ? r : 1;
	case REC_APPCTL: return om_store_appctl_add(s, &rc->u.app);
	}
	return -EINVAL;
}

/* ---- one line straight into the store ---- */

struct direct {
	om_store *s;
	const char *line;
	size_t len;
	int result; /* of the line's event or flow; coverage: 1 */
};

static int direct_emit(void *user, const struct rec *rc)
{
	struct direct *d = user;
	struct rec c = *rc;
	char *copy = NULL;
	if (c.kind == REC_EVENT) {
		/* the store keeps the line: a NUL-terminated copy */
		copy = malloc(d->len + 1);
		if (!copy)
			return -ENOMEM;
		memcpy(copy, d->line, d->len);
		copy[d->len] = '\0';
		c.u.ev.eve_json = copy;
	}
	int r = write_rec(d->s, &c);
	free(copy);
	if (r < 0 && (r != -EINVAL || c.kind == REC_WATCHED))
		return r;
	d->result = r;
	return 0;
}

static int import_line(om_store *s, const char *line, size_t len, const char *want_tenant,
                       const char *want_gateway)
{
	struct direct d = {.s = s, .line = line, .len = len, .result = 1};
	/* the scanner's scratch: on the stack for the usual lines */
	char local[4096];
	char *scratch = len + 16 <= sizeof(local) ? local : malloc(len + 16); /* NULL: jansson */
	int r = parse_line(line, len, want_tenant, want_gateway, direct_emit, &d, scratch);
	if (scratch != local)
		free(scratch);
	return r == 1 ? d.result : r;
}

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

/* ---- parsed sets ---- */

/* Text is copied into blocks that never move (a record points into them);
 * records into an array that grows by doubling. Both count against max. */
#define PARSED_BLOCK (256u * 1024)
struct parsed_block {
	struct parsed_block *next;
	size_t used, size;
	char data[];
};
struct om_store_parsed {
	struct rec *recs;
	size_t nrecs, cap;
	struct parsed_block *blocks;
	size_t bytes, max_bytes;
	uint64_t lines;
	char *scratch; /* the scanner's, for the longest line yet */
	size_t scratch_cap;
	/* while a line is parsed: */
	const char *line;
	size_t len;
	size_t line_first; /* its first record */
	int err;
};

int om_store_parsed_new(size_t max_bytes, om_store_parsed **ret)
{
	if (!ret || max_bytes == 0)
		return -EINVAL;
	om_store_parsed *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->max_bytes = max_bytes;
	*ret = p;
	return 0;
}

om_store_parsed *om_store_parsed_free(om_store_parsed *p)
{
	if (!p)
		return NULL;
	while (p->blocks) {
		struct parsed_block *b = p->blocks;
		p->blocks = b->next;
		free(b);
	}
	free(p->recs);
	free(p->scratch);
	free(p);
	return NULL;
}

uint64_t om_store_parsed_lines(const om_store_parsed *p)
{
	return p ? p->lines : 0;
}

size_t om_store_parsed_bytes(const om_store_parsed *p)
{
	return p ? p->bytes : 0;
}

/* A copy of n bytes and a NUL in the set's text; NULL when full (err). */
static const char *parsed_copy(om_store_parsed *p, const char *v, size_t n)
{
	struct parsed_block *b = p->blocks;
	if (!b || b->size - b->used < n + 1) {
		size_t size = n + 1 > PARSED_BLOCK ? n + 1 : PARSED_BLOCK;
		if (size > p->max_bytes - p->bytes || sizeof(*b) > p->max_bytes - p->bytes - size) {
			p->err = -E2BIG;
			return NULL;
		}
		b = malloc(sizeof(*b) + size);
		if (!b) {
			p->err = -ENOMEM;
			return NULL;
		}
		b->size = size;
		b->used = 0;
		b->next = p->blocks;
		p->blocks = b;
		p->bytes += sizeof(*b) + size;
	}
	char *w = b->data + b->used;
	memcpy(w, v, n);
	w[n] = '\0';
	b->used += n + 1;
	return w;
}

static const char *parsed_str(om_store_parsed *p, const char *v)
{
	return v ? parsed_copy(p, v, strlen(v)) : NULL;
}

static int parsed_emit(void *user, const struct rec *rc)
{
	om_store_parsed *p = user;
	if (p->nrecs == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 256;
		size_t grow = (cap - p->cap) * sizeof(struct rec);
		if (grow > p->max_bytes - p->bytes)
			return -E2BIG;
		struct rec *n = realloc(p->recs, cap * sizeof(struct rec));
		if (!n)
			return -ENOMEM;
		p->recs = n;
		p->cap = cap;
		p->bytes += grow;
	}
	struct rec c = *rc;
	p->err = 0;
	switch (c.kind) {
	case REC_EVENT:
		c.u.ev.tenant = parsed_str(p, c.u.ev.tenant);
		c.u.ev.gateway = parsed_str(p, c.u.ev.gateway);
		c.u.ev.event_type = parsed_str(p, c.u.ev.event_type);
		c.u.ev.category = parsed_str(p, c.u.ev.category);
		c.u.ev.action = parsed_str(p, c.u.ev.action);
		c.u.ev.src_ip = parsed_str(p, c.u.ev.src_ip);
		c.u.ev.dest_ip = parsed_str(p, c.u.ev.dest_ip);
		c.u.ev.proto = parsed_str(p, c.u.ev.proto);
		c.u.ev.signature = parsed_str(p, c.u.ev.signature);
		c.u.ev.eve_json = parsed_copy(p, p->line, p->len);
		break;
	case REC_WATCHED:
		c.u.w.tenant = parsed_str(p, c.u.w.tenant);
		c.u.w.gateway = parsed_str(p, c.u.w.gateway);
		c.u.w.category = parsed_str(p, c.u.w.category);
		break;
	case REC_APPCTL:
		c.u.app.tenant = parsed_str(p, c.u.app.tenant);
		c.u.app.gateway = parsed_str(p, c.u.app.gateway);
		c.u.app.group = parsed_str(p, c.u.app.group);
		c.u.app.app = parsed_str(p, c.u.app.app);
		c.u.app.host = parsed_str(p, c.u.app.host);
		break;
	}
	if (p->err < 0)
		return p->err;
	p->recs[p->nrecs++] = c;
	return 0;
}

int om_store_parsed_add(om_store_parsed *p, const char *line, size_t len, const char *tenant,
                        const char *gateway)
{
	if (!p || !line || (!tenant) != (!gateway))
		return -EINVAL;
	p->line = line;
	p->len = len;
	p->line_first = p->nrecs;
	if (p->scratch_cap < len + 16) {
		size_t cap = len + 16 > 4096 ? len + 16 : 4096;
		char *n = realloc(p->scratch, cap);
		if (n) {
			p->scratch = n;
			p->scratch_cap = cap;
		}
	}
	int r = parse_line(line, len, tenant, gateway, parsed_emit, p,
	                   p->scratch_cap >= len + 16 ? p->scratch : NULL);
	if (r < 0 && r != -EINVAL) {
		/* the set is full (or out of memory): the line is kept whole or
		 * not at all (its text stays allocated until the set is freed) */
		p->nrecs = p->line_first;
		return r;
	}
	if (r == -EINVAL)
		p->nrecs = p->line_first;
	if (r == 1)
		p->lines++;
	return r;
}

int om_store_parsed_write(om_store *s, const om_store_parsed *p, om_store_parsed_counts *ret)
{
	om_store_parsed_counts c = {0};
	if (!s || !p || !ret)
		return -EINVAL;
	/* a coverage line is one stored line, whatever its number of hours */
	uint64_t kept = p->lines;
	for (size_t i = 0; i < p->nrecs; i++) {
		int r = write_rec(s, &p->recs[i]);
		if (r == -EINVAL && p->recs[i].kind != REC_WATCHED)
			c.invalid++;
		else if (r < 0)
			return r;
		else if (r == 0)
			c.ignored++;
	}
	c.stored = kept - c.invalid - c.ignored;
	*ret = c;
	return 0;
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
