/* intel_import.c: indicator feeds into a builder. Text formats (plain
 * lists, CSV with a header naming its columns, and the abuse.ch CSVs, whose
 * header is a '#' comment) are read line by line; JSON formats (Feodo
 * Tracker and ThreatFox exports, STIX 2.1 bundles, MISP events) with
 * jansson. A line or object that is not an indicator is counted and the
 * first few are remembered with their line and reason; input is never
 * trusted: every field has a length cap. */
#include "guard/guard.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define LINE_MAX_BYTES 65536u
#define CSV_FIELDS 32
#define FILE_MAX_BYTES (1024ull * 1024 * 1024) /* one feed file at most */
#define STIX_IDENTITIES 64                     /* producers of a bundle that name sources */

static const char *const fmt_names[OM_INTEL_FMT_COUNT] = {
    "auto", "plain", "csv", "urlhaus", "feodo", "threatfox", "sslbl", "stix", "misp"};

const char *om_intel_format_name(enum om_intel_format f)
{
	return (unsigned)f < OM_INTEL_FMT_COUNT ? fmt_names[f] : "?";
}

int om_intel_format_from_name(const char *s)
{
	for (int i = 0; i < OM_INTEL_FMT_COUNT; i++)
		if (!strcmp(s, fmt_names[i]))
			return i;
	return -EINVAL;
}

static const char *default_source(enum om_intel_format f)
{
	switch (f) {
	case OM_INTEL_FMT_URLHAUS: return "urlhaus";
	case OM_INTEL_FMT_FEODO: return "feodotracker";
	case OM_INTEL_FMT_THREATFOX: return "threatfox";
	case OM_INTEL_FMT_SSLBL: return "sslbl";
	case OM_INTEL_FMT_STIX: return "stix";
	case OM_INTEL_FMT_MISP: return "misp";
	default: return "local";
	}
}

/* JSON formats number their objects (indicators, attributes), not lines:
 * set while one is read, for problem() */
static _Thread_local bool in_json;

static void problem(om_intel_import_stats *st, uint64_t line, const char *why)
{
	st->rejected++;
	if (st->nproblems < OM_INTEL_IMPORT_PROBLEMS) {
		st->problem[st->nproblems].line = line;
		st->problem[st->nproblems].object = in_json;
		st->problem[st->nproblems].why = why;
		st->nproblems++;
	}
}

/* Adds one indicator, counting the result. Returns -ENOSPC/-ENOMEM to stop. */
static int add(om_intel_builder *b, om_intel_import_stats *st, uint64_t line,
               const om_intel_ind *ind)
{
	int e = om_intel_builder_add(b, ind);
	if (e == 0)
		st->added++;
	else if (e == 1)
		st->updated++;
	else if (e == -EINVAL)
		problem(st, line, "intel.why.value");
	else if (e == -EILSEQ)
		problem(st, line, "intel.why.idn");
	else {
		problem(st, line, "intel.why.full");
		return e;
	}
	return 0;
}

/* "2024-05-01 12:00:00", "2024-05-01T12:00:00Z", "2024-05-01T12:00:00.000Z"
 * or "2024-05-01" as Unix seconds (UTC); -1 when it is none of them. */
static int64_t parse_time(const char *s, size_t n)
{
	int v[6] = {0};
	const int width[6] = {4, 2, 2, 2, 2, 2};
	const char sep[6] = {'-', '-', 'T', ':', ':', 0};
	size_t i = 0;
	int got = 0;
	while (n && (*s == ' ' || *s == '"'))
		s++, n--;
	for (int f = 0; f < 6; f++) {
		if (i + (size_t)width[f] > n)
			break;
		for (int k = 0; k < width[f]; k++) {
			char c = s[i + (size_t)k];
			if (c < '0' || c > '9')
				return -1;
			v[f] = v[f] * 10 + (c - '0');
		}
		i += (size_t)width[f];
		got = f + 1;
		if (f == 5 || i >= n)
			break;
		char c = s[i];
		if (!(c == sep[f] || (f == 2 && c == ' ')))
			break;
		i++;
	}
	if (got != 3 && got != 6)
		return -1;
	if (v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31 || v[3] > 23 || v[4] > 59 || v[5] > 60)
		return -1;
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = v[0] - 1900;
	tm.tm_mon = v[1] - 1;
	tm.tm_mday = v[2];
	tm.tm_hour = v[3];
	tm.tm_min = v[4];
	tm.tm_sec = v[5];
	return (int64_t)timegm(&tm);
}

static int parse_conf(const char *s, size_t n)
{
	int v = 0;
	size_t i = 0;
	while (i < n && (s[i] == ' ' || s[i] == '"'))
		i++;
	if (i >= n || s[i] < '0' || s[i] > '9')
		return -1;
	for (; i < n && s[i] >= '0' && s[i] <= '9' && v <= 100; i++)
		v = v * 10 + (s[i] - '0');
	return v > 100 ? 100 : v;
}

/* ---- type words of the feeds ------------------------------------------- */

static bool word_is(const char *s, size_t n, const char *w)
{
	size_t wl = strlen(w);
	if (n != wl)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c != w[i])
			return false;
	}
	return true;
}

/* A feed's type word: ThreatFox's ioc_type, MISP's attribute types, STIX's
 * object types, ours. -1: not an indicator type we keep; *ret_port set
 * when the value carries ":port" (ThreatFox "ip:port"). */
static int type_word(const char *s, size_t n, bool *ret_port)
{
	static const struct {
		const char *w;
		int t;
		bool port;
	} words[] = {
	    {"ip:port", OM_INTEL_IP, true},
	    {"ip", OM_INTEL_IP, false},
	    {"ip-dst", OM_INTEL_IP, false},
	    {"ip-src", OM_INTEL_IP, false},
	    {"ipv4-addr", OM_INTEL_IP, false},
	    {"ipv6-addr", OM_INTEL_IP, false},
	    {"ip-dst|port", OM_INTEL_IP, true},
	    {"ip-src|port", OM_INTEL_IP, true},
	    {"cidr", OM_INTEL_IP, false},
	    {"domain", OM_INTEL_DOMAIN, false},
	    {"hostname", OM_INTEL_DOMAIN, false},
	    {"domain-name", OM_INTEL_DOMAIN, false},
	    {"url", OM_INTEL_URL, false},
	    {"uri", OM_INTEL_URL, false},
	    {"md5", OM_INTEL_MD5, false},
	    {"md5_hash", OM_INTEL_MD5, false},
	    {"sha1", OM_INTEL_SHA1, false},
	    {"sha1_hash", OM_INTEL_SHA1, false},
	    {"sha256", OM_INTEL_SHA256, false},
	    {"sha256_hash", OM_INTEL_SHA256, false},
	    {"x509-fingerprint-sha1", OM_INTEL_CERT_SHA1, false},
	    {"cert-sha1", OM_INTEL_CERT_SHA1, false},
	    {"ja3", OM_INTEL_JA3, false},
	    {"ja3-fingerprint-md5", OM_INTEL_JA3, false},
	    {"ja3_md5", OM_INTEL_JA3, false},
	    {"ja4", OM_INTEL_JA4, false},
	    {"ja4-fingerprint", OM_INTEL_JA4, false},
	};
	for (size_t i = 0; i < OM_ARRAY_SIZE(words); i++)
		if (word_is(s, n, words[i].w)) {
			*ret_port = words[i].port;
			return words[i].t;
		}
	return -1;
}

/* "192.0.2.1:443" or "[2001:db8::1]:443" or "192.0.2.1|443" without the port. */
static void strip_port(const char **s, size_t *n)
{
	const char *v = *s;
	size_t len = *n;
	const char *bar = memchr(v, '|', len);
	if (bar) {
		*n = (size_t)(bar - v);
		return;
	}
	if (len && v[0] == '[') {
		const char *e = memchr(v, ']', len);
		if (e) {
			*s = v + 1;
			*n = (size_t)(e - v - 1);
		}
		return;
	}
	const char *c = memchr(v, ':', len);
	if (c && !memchr(c + 1, ':', len - (size_t)(c + 1 - v)))
		*n = (size_t)(c - v);
}

/* ---- CSV ------------------------------------------------------------------ */

struct field {
	const char *s;
	size_t n;
};

/* Splits a line at commas outside "..." (a doubled quote is a quote; the
 * field keeps it, which no indicator needs). Returns the field count. */
static unsigned csv_split(const char *s, size_t n, struct field *f, unsigned max)
{
	unsigned nf = 0;
	size_t i = 0;
	while (nf < max) {
		while (i < n && (s[i] == ' ' || s[i] == '\t'))
			i++;
		size_t start = i, end;
		if (i < n && s[i] == '"') {
			start = ++i;
			while (i < n && !(s[i] == '"' && (i + 1 >= n || s[i + 1] != '"')))
				i += (s[i] == '"') ? 2 : 1;
			end = i < n ? i : n;
			if (i < n)
				i++;
			while (i < n && s[i] != ',')
				i++;
		} else {
			while (i < n && s[i] != ',')
				i++;
			end = i;
			while (end > start && (s[end - 1] == ' ' || s[end - 1] == '\r'))
				end--;
		}
		f[nf].s = s + start;
		f[nf].n = end - start;
		nf++;
		if (i >= n)
			break;
		i++; /* the comma */
	}
	return nf;
}

enum col { C_VALUE, C_TYPE, C_THREAT, C_THREAT2, C_CONF, C_EXPIRES, C_SOURCE, C_NCOLS };

struct csv_cols {
	int col[C_NCOLS];
	int value_type; /* from the value column's name */
	bool have;
};

static bool name_like(const struct field *f)
{
	if (!f->n || f->n > 40)
		return false;
	for (size_t i = 0; i < f->n; i++) {
		char c = f->s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ' ' ||
		      (i && c >= '0' && c <= '9')))
			return false;
	}
	return true;
}

/* Reads a header line into cols; false when it names no value column. */
static bool csv_header(const char *s, size_t n, enum om_intel_format fmt, struct csv_cols *c)
{
	struct field f[CSV_FIELDS];
	unsigned nf = csv_split(s, n, f, CSV_FIELDS);
	struct csv_cols x;
	for (int i = 0; i < C_NCOLS; i++)
		x.col[i] = -1;
	x.value_type = OM_INTEL_AUTO;
	x.have = false;
	static const struct {
		const char *name;
		int t;
	} values[] = {
	    {"indicator", OM_INTEL_AUTO}, {"value", OM_INTEL_AUTO},    {"ioc", OM_INTEL_AUTO},
	    {"ioc_value", OM_INTEL_AUTO}, {"url", OM_INTEL_URL},       {"dst_ip", OM_INTEL_IP},
	    {"ip", OM_INTEL_IP},          {"ip_address", OM_INTEL_IP}, {"domain", OM_INTEL_DOMAIN},
	    {"md5", OM_INTEL_MD5},        {"sha256", OM_INTEL_SHA256}, {"sha1", OM_INTEL_SHA1},
	    {"ja3_md5", OM_INTEL_JA3},    {"ja3", OM_INTEL_JA3},       {"ja4", OM_INTEL_JA4}};
	for (unsigned i = 0; i < nf; i++) {
		if (!name_like(&f[i]))
			return false;
		const char *w = f[i].s;
		size_t wl = f[i].n;
		for (size_t k = 0; k < OM_ARRAY_SIZE(values) && x.col[C_VALUE] < 0; k++)
			if (word_is(w, wl, values[k].name)) {
				x.col[C_VALUE] = (int)i;
				x.value_type = values[k].t;
			}
		if (word_is(w, wl, "type") || word_is(w, wl, "ioc_type"))
			x.col[C_TYPE] = (int)i;
		else if (word_is(w, wl, "threat") || word_is(w, wl, "threat_type") ||
		         word_is(w, wl, "listingreason") || word_is(w, wl, "reason"))
			x.col[C_THREAT] = (int)i;
		else if (word_is(w, wl, "c2_status") || word_is(w, wl, "malware"))
			x.col[C_THREAT2] = (int)i;
		else if (word_is(w, wl, "confidence") || word_is(w, wl, "confidence_level"))
			x.col[C_CONF] = (int)i;
		else if (word_is(w, wl, "expires") || word_is(w, wl, "valid_until") ||
		         word_is(w, wl, "expiry"))
			x.col[C_EXPIRES] = (int)i;
		else if (word_is(w, wl, "source"))
			x.col[C_SOURCE] = (int)i;
	}
	if (x.col[C_VALUE] < 0)
		return false;
	/* SSLBL's "SHA1" is a certificate's */
	if (fmt == OM_INTEL_FMT_SSLBL && x.value_type == OM_INTEL_SHA1)
		x.value_type = OM_INTEL_CERT_SHA1;
	x.have = true;
	*c = x;
	return true;
}

static enum om_intel_threat format_threat(enum om_intel_format fmt)
{
	switch (fmt) {
	case OM_INTEL_FMT_URLHAUS: return OM_INTEL_THREAT_MALWARE;
	case OM_INTEL_FMT_FEODO:
	case OM_INTEL_FMT_SSLBL: return OM_INTEL_THREAT_C2;
	default: return OM_INTEL_THREAT_OTHER;
	}
}

static int csv_line(om_intel_builder *b, enum om_intel_format fmt, const struct csv_cols *c,
                    const char *s, size_t n, uint64_t line, const om_intel_import_opts *o,
                    const char *source, om_intel_import_stats *st)
{
	struct field f[CSV_FIELDS];
	unsigned nf = csv_split(s, n, f, CSV_FIELDS);
	int vc = c->have ? c->col[C_VALUE] : 0;
	if ((unsigned)vc >= nf) {
		problem(st, line, "intel.why.columns");
		return 0;
	}
	om_intel_ind ind = {.type = c->have ? (enum om_intel_type)c->value_type : o->type,
	                    .value = f[vc].s,
	                    .len = f[vc].n,
	                    .source = source,
	                    .confidence = o->confidence ? o->confidence : 75,
	                    .threat = format_threat(fmt),
	                    .expires = o->expires};
	int tc = c->have ? c->col[C_TYPE] : (nf > 1 ? 1 : -1);
	if (tc >= 0 && (unsigned)tc < nf && f[tc].n) {
		bool port = false;
		int t = type_word(f[tc].s, f[tc].n, &port);
		if (t < 0 && c->have) {
			problem(st, line, "intel.why.type");
			return 0;
		}
		if (t >= 0) {
			ind.type = (enum om_intel_type)t;
			if (port)
				strip_port(&ind.value, &ind.len);
		}
	}
	for (int k = C_THREAT2; k >= C_THREAT; k--) {
		int col = c->have ? c->col[k] : -1;
		if (col >= 0 && (unsigned)col < nf && f[col].n) {
			enum om_intel_threat t = om_intel_threat_from_text(f[col].s, f[col].n);
			if (t != OM_INTEL_THREAT_OTHER || k == C_THREAT)
				ind.threat = t != OM_INTEL_THREAT_OTHER ? t : ind.threat;
		}
	}
	if (fmt == OM_INTEL_FMT_FEODO)
		ind.threat = OM_INTEL_THREAT_C2;
	int cc = c->have ? c->col[C_CONF] : -1;
	if (cc >= 0 && (unsigned)cc < nf) {
		int v = parse_conf(f[cc].s, f[cc].n);
		if (v >= 0)
			ind.confidence = (uint8_t)v;
	}
	int ec = c->have ? c->col[C_EXPIRES] : -1;
	if (ec >= 0 && (unsigned)ec < nf && f[ec].n) {
		int64_t t = parse_time(f[ec].s, f[ec].n);
		if (t < 0) {
			problem(st, line, "intel.why.time");
			return 0;
		}
		ind.expires = t;
	}
	char srcbuf[OM_INTEL_SOURCE_MAX];
	int sc = c->have ? c->col[C_SOURCE] : -1;
	if (!o->source && sc >= 0 && (unsigned)sc < nf && f[sc].n) {
		size_t l = f[sc].n < sizeof(srcbuf) - 1 ? f[sc].n : sizeof(srcbuf) - 1;
		memcpy(srcbuf, f[sc].s, l);
		srcbuf[l] = '\0';
		ind.source = srcbuf;
	}
	return add(b, st, line, &ind);
}

/* The text's lines: plain or CSV. A CSV's header is its first line when
 * that names columns, or the last '#' comment before the data that does
 * (abuse.ch writes "# id,dateadded,url,..."). */
static int import_lines(om_intel_builder *b, enum om_intel_format fmt, const char *text, size_t len,
                        const om_intel_import_opts *o, om_intel_import_stats *st)
{
	const char *source = o->source ? o->source : default_source(fmt);
	struct csv_cols cols = {.have = false};
	bool data_seen = false;
	uint64_t line = 0;
	for (size_t pos = 0; pos < len;) {
		const char *s = text + pos;
		const char *nl = memchr(s, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - s) : len - pos;
		pos += n + (nl ? 1 : 0);
		line++;
		st->lines++;
		if (line == 1 && n >= 3 && !memcmp(s, "\xef\xbb\xbf", 3))
			s += 3, n -= 3; /* a BOM */
		while (n && (s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
			n--;
		while (n && (s[0] == ' ' || s[0] == '\t'))
			s++, n--;
		if (!n)
			continue;
		if (n > LINE_MAX_BYTES) {
			problem(st, line, "intel.why.toolong");
			continue;
		}
		if (s[0] == '#' || s[0] == ';') {
			if (fmt != OM_INTEL_FMT_PLAIN && !data_seen && memchr(s, ',', n)) {
				size_t k = 1;
				while (k < n && s[k] == ' ')
					k++;
				csv_header(s + k, n - k, fmt, &cols);
			}
			continue;
		}
		if (fmt == OM_INTEL_FMT_PLAIN) {
			/* a comment after the value */
			const char *h = memchr(s, '#', n);
			if (h && h > s && (h[-1] == ' ' || h[-1] == '\t'))
				n = (size_t)(h - s);
			while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
				n--;
			om_intel_ind ind = {.type = o->type,
			                    .value = s,
			                    .len = n,
			                    .source = source,
			                    .confidence = o->confidence ? o->confidence : 75,
			                    .threat = OM_INTEL_THREAT_OTHER,
			                    .expires = o->expires};
			int e = add(b, st, line, &ind);
			if (e < 0)
				return e;
			data_seen = true;
			continue;
		}
		if (!data_seen && !cols.have && csv_header(s, n, fmt, &cols)) {
			data_seen = true;
			continue;
		}
		data_seen = true;
		int e = csv_line(b, fmt, &cols, s, n, line, o, source, st);
		if (e < 0)
			return e;
	}
	return 0;
}

/* ---- JSON ------------------------------------------------------------------ */

static const char *jstr(json_t *o, const char *key, size_t *ret_len)
{
	json_t *v = json_object_get(o, key);
	*ret_len = 0;
	if (!json_is_string(v))
		return NULL;
	*ret_len = json_string_length(v);
	return json_string_value(v);
}

static int64_t jtime(json_t *o, const char *key)
{
	size_t n = 0;
	const char *s = jstr(o, key, &n);
	return s ? parse_time(s, n) : -1;
}

static int jconf(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	if (json_is_integer(v)) {
		json_int_t i = json_integer_value(v);
		return i < 0 ? 0 : i > 100 ? 100 : (int)i;
	}
	size_t n = 0;
	const char *s = jstr(o, key, &n);
	return s ? parse_conf(s, n) : -1;
}

static void ind_defaults(om_intel_ind *ind, const om_intel_import_opts *o, const char *source,
                         enum om_intel_threat threat)
{
	memset(ind, 0, sizeof(*ind));
	ind->source = source;
	ind->confidence = o->confidence ? o->confidence : 75;
	ind->threat = threat;
	ind->expires = o->expires;
}

/* Feodo Tracker: [{"ip_address": "...", "port": 443, "status": "online",
 * "malware": "...", "first_seen": ..., "last_online": ...}, ...] */
static int import_feodo_json(om_intel_builder *b, json_t *root, const om_intel_import_opts *o,
                             const char *source, om_intel_import_stats *st)
{
	size_t i;
	json_t *x;
	json_array_foreach(root, i, x)
	{
		st->lines++;
		om_intel_ind ind;
		ind_defaults(&ind, o, source, OM_INTEL_THREAT_C2);
		ind.type = OM_INTEL_IP;
		ind.value = json_is_object(x) ? jstr(x, "ip_address", &ind.len) : NULL;
		if (!ind.value) {
			problem(st, i + 1, "intel.why.object");
			continue;
		}
		int e = add(b, st, i + 1, &ind);
		if (e < 0)
			return e;
	}
	return 0;
}

/* One ThreatFox IOC object (JSON export or API answer). */
static int threatfox_one(om_intel_builder *b, json_t *x, uint64_t n, const om_intel_import_opts *o,
                         const char *source, om_intel_import_stats *st)
{
	st->lines++;
	om_intel_ind ind;
	ind_defaults(&ind, o, source, OM_INTEL_THREAT_OTHER);
	size_t tl = 0, hl = 0;
	const char *t = json_is_object(x) ? jstr(x, "ioc_type", &tl) : NULL;
	ind.value = json_is_object(x) ? jstr(x, "ioc_value", &ind.len) : NULL;
	if (!ind.value)
		ind.value = json_is_object(x) ? jstr(x, "ioc", &ind.len) : NULL;
	if (!ind.value) {
		problem(st, n, "intel.why.object");
		return 0;
	}
	if (t) {
		bool port = false;
		int ty = type_word(t, tl, &port);
		if (ty < 0) {
			problem(st, n, "intel.why.type");
			return 0;
		}
		ind.type = (enum om_intel_type)ty;
		if (port)
			strip_port(&ind.value, &ind.len);
	}
	const char *th = jstr(x, "threat_type", &hl);
	if (th)
		ind.threat = om_intel_threat_from_text(th, hl);
	int c = jconf(x, "confidence_level");
	if (c >= 0)
		ind.confidence = (uint8_t)c;
	return add(b, st, n, &ind);
}

static int import_threatfox_json(om_intel_builder *b, json_t *root, const om_intel_import_opts *o,
                                 const char *source, om_intel_import_stats *st)
{
	uint64_t n = 0;
	json_t *data = json_object_get(root, "data");
	if (json_is_array(data))
		root = data;
	if (json_is_array(root)) {
		size_t i;
		json_t *x;
		json_array_foreach(root, i, x)
		{
			int e = threatfox_one(b, x, ++n, o, source, st);
			if (e < 0)
				return e;
		}
		return 0;
	}
	const char *k;
	json_t *arr;
	json_object_foreach(root, k, arr)
	{
		if (!json_is_array(arr)) {
			problem(st, ++n, "intel.why.object");
			continue;
		}
		size_t i;
		json_t *x;
		json_array_foreach(arr, i, x)
		{
			int e = threatfox_one(b, x, ++n, o, source, st);
			if (e < 0)
				return e;
		}
	}
	return 0;
}

/* STIX patterns: comparisons "[object:path = 'value']" joined by OR (and
 * AND inside one bracket, taken as alternatives too: each named value is
 * an indicator of the same threat). Other operators are not indicators. */
static int stix_pattern(om_intel_builder *b, const char *p, size_t n, uint64_t obj,
                        om_intel_ind *tmpl, om_intel_import_stats *st)
{
	static const struct {
		const char *path;
		int t;
	} paths[] = {{"ipv4-addr:value", OM_INTEL_IP},
	             {"ipv6-addr:value", OM_INTEL_IP},
	             {"domain-name:value", OM_INTEL_DOMAIN},
	             {"url:value", OM_INTEL_URL},
	             {"file:hashes.'SHA-256'", OM_INTEL_SHA256},
	             {"file:hashes.'SHA256'", OM_INTEL_SHA256},
	             {"file:hashes.SHA256", OM_INTEL_SHA256},
	             {"file:hashes.'SHA-1'", OM_INTEL_SHA1},
	             {"file:hashes.SHA1", OM_INTEL_SHA1},
	             {"file:hashes.MD5", OM_INTEL_MD5},
	             {"file:hashes.'MD5'", OM_INTEL_MD5},
	             {"x509-certificate:hashes.'SHA-1'", OM_INTEL_CERT_SHA1}};
	unsigned found = 0;
	size_t i = 0;
	while (i < n) {
		/* the next comparison: path, '=', quoted value */
		while (i < n &&
		       (p[i] == ' ' || p[i] == '[' || p[i] == ']' || p[i] == '(' || p[i] == ')'))
			i++;
		if (i + 3 <= n && (!memcmp(p + i, "OR ", 3) || !memcmp(p + i, "AND", 3))) {
			i += 3;
			continue;
		}
		if (i >= n)
			break;
		size_t ps = i;
		while (i < n && p[i] != ' ' && p[i] != '=' && p[i] != ']')
			i++;
		size_t pl = i - ps;
		while (i < n && p[i] == ' ')
			i++;
		if (i >= n || p[i] != '=') {
			problem(st, obj, "intel.why.pattern");
			return 0;
		}
		i++;
		while (i < n && p[i] == ' ')
			i++;
		if (i >= n || p[i] != '\'') {
			problem(st, obj, "intel.why.pattern");
			return 0;
		}
		size_t vs = ++i;
		while (i < n && !(p[i] == '\'' && p[i - 1] != '\\'))
			i++;
		if (i >= n) {
			problem(st, obj, "intel.why.pattern");
			return 0;
		}
		size_t vl = i - vs;
		i++;
		int t = -1;
		for (size_t k = 0; k < OM_ARRAY_SIZE(paths) && t < 0; k++)
			if (strlen(paths[k].path) == pl && !memcmp(paths[k].path, p + ps, pl))
				t = paths[k].t;
		if (t < 0)
			continue; /* a property we do not match on */
		om_intel_ind ind = *tmpl;
		ind.type = (enum om_intel_type)t;
		ind.value = p + vs;
		ind.len = vl;
		int e = add(b, st, obj, &ind);
		if (e < 0)
			return e;
		found++;
	}
	if (!found)
		problem(st, obj, "intel.why.pattern");
	return 0;
}

static int import_stix(om_intel_builder *b, json_t *root, const om_intel_import_opts *o,
                       om_intel_import_stats *st)
{
	json_t *objs = json_object_get(root, "objects");
	if (!json_is_array(objs)) {
		problem(st, 1, "intel.why.object");
		return -EINVAL;
	}
	size_t i;
	json_t *x;
	int64_t now = (int64_t)time(NULL);
	/* the producers (identity objects) that indicators name, found once */
	json_t *ids[STIX_IDENTITIES];
	unsigned nids = 0;
	json_array_foreach(objs, i, x)
	{
		size_t tl = 0;
		const char *t = json_is_object(x) ? jstr(x, "type", &tl) : NULL;
		if (t && word_is(t, tl, "identity") && nids < STIX_IDENTITIES)
			ids[nids++] = x;
	}
	json_array_foreach(objs, i, x)
	{
		size_t tl = 0;
		const char *t = json_is_object(x) ? jstr(x, "type", &tl) : NULL;
		if (!t || !word_is(t, tl, "indicator"))
			continue;
		st->lines++;
		/* the producer's identity names the source when the bundle has it */
		char src[OM_INTEL_SOURCE_MAX];
		const char *source = o->source ? o->source : "stix";
		size_t rl = 0;
		const char *ref = jstr(x, "created_by_ref", &rl);
		for (unsigned k = 0; ref && !o->source && k < nids; k++) {
			size_t il = 0, nl = 0;
			const char *id = jstr(ids[k], "id", &il);
			const char *name = jstr(ids[k], "name", &nl);
			if (id && name && il == rl && !memcmp(id, ref, rl)) {
				snprintf(src, sizeof(src), "%.*s", (int)nl, name);
				source = src;
				break;
			}
		}
		om_intel_ind tmpl;
		ind_defaults(&tmpl, o, source, OM_INTEL_THREAT_OTHER);
		json_t *types = json_object_get(x, "indicator_types");
		size_t k;
		json_t *y;
		json_array_foreach(types, k, y)
		{
			if (json_is_string(y)) {
				enum om_intel_threat th = om_intel_threat_from_text(
				    json_string_value(y), json_string_length(y));
				if (th != OM_INTEL_THREAT_OTHER)
					tmpl.threat = th;
				if (word_is(json_string_value(y), json_string_length(y),
				            "malicious-activity") &&
				    tmpl.threat == OM_INTEL_THREAT_OTHER)
					tmpl.threat = OM_INTEL_THREAT_OTHER;
			}
		}
		int c = jconf(x, "confidence");
		if (c >= 0)
			tmpl.confidence = (uint8_t)c;
		int64_t until = jtime(x, "valid_until");
		if (until > 0)
			tmpl.expires = until;
		json_t *rev = json_object_get(x, "revoked");
		if (json_is_true(rev) || (until > 0 && until <= now && !o->expires)) {
			/* revoked or no longer valid: not imported */
			continue;
		}
		size_t ptl = 0, pl = 0;
		const char *pt = jstr(x, "pattern_type", &ptl);
		const char *pat = jstr(x, "pattern", &pl);
		if (!pat || (pt && !word_is(pt, ptl, "stix"))) {
			problem(st, st->lines, "intel.why.pattern");
			continue;
		}
		int e = stix_pattern(b, pat, pl, st->lines, &tmpl, st);
		if (e < 0)
			return e;
	}
	return 0;
}

static int misp_attrs(om_intel_builder *b, json_t *attrs, const om_intel_ind *tmpl,
                      om_intel_import_stats *st)
{
	size_t i;
	json_t *a;
	json_array_foreach(attrs, i, a)
	{
		st->lines++;
		size_t tl = 0;
		const char *t = json_is_object(a) ? jstr(a, "type", &tl) : NULL;
		om_intel_ind ind = *tmpl;
		ind.value = json_is_object(a) ? jstr(a, "value", &ind.len) : NULL;
		if (!t || !ind.value) {
			problem(st, st->lines, "intel.why.object");
			continue;
		}
		bool port = false;
		int ty = type_word(t, tl, &port);
		if (ty < 0)
			continue; /* an attribute type that is no network indicator */
		ind.type = (enum om_intel_type)ty;
		if (port)
			strip_port(&ind.value, &ind.len);
		json_t *ids = json_object_get(a, "to_ids");
		if (json_is_false(ids) ||
		    (json_is_string(ids) && !strcmp(json_string_value(ids), "0")))
			ind.confidence = ind.confidence > 50 ? 50 : ind.confidence;
		size_t cl = 0;
		const char *cat = jstr(a, "category", &cl);
		if (cat && (word_is(cat, cl, "payload delivery")))
			ind.threat = OM_INTEL_THREAT_MALWARE;
		else if (cat && word_is(cat, cl, "network activity") &&
		         ind.threat == OM_INTEL_THREAT_OTHER)
			ind.threat = OM_INTEL_THREAT_C2;
		int e = add(b, st, st->lines, &ind);
		if (e < 0)
			return e;
	}
	return 0;
}

static int misp_event(om_intel_builder *b, json_t *ev, const om_intel_import_opts *o,
                      om_intel_import_stats *st)
{
	char src[OM_INTEL_SOURCE_MAX];
	const char *source = o->source ? o->source : "misp";
	json_t *org = json_object_get(ev, "Orgc");
	size_t nl = 0;
	const char *name = json_is_object(org) ? jstr(org, "name", &nl) : NULL;
	if (name && !o->source) {
		snprintf(src, sizeof(src), "%.*s", (int)nl, name);
		source = src;
	}
	om_intel_ind tmpl;
	ind_defaults(&tmpl, o, source, OM_INTEL_THREAT_OTHER);
	/* threat level 1 high .. 4 undefined */
	json_t *tl = json_object_get(ev, "threat_level_id");
	int lvl = json_is_string(tl)    ? parse_conf(json_string_value(tl), json_string_length(tl))
	          : json_is_integer(tl) ? (int)json_integer_value(tl)
	                                : -1;
	if (lvl == 1 && !o->confidence)
		tmpl.confidence = 90;
	int e = misp_attrs(b, json_object_get(ev, "Attribute"), &tmpl, st);
	if (e < 0)
		return e;
	size_t i;
	json_t *obj;
	json_array_foreach(json_object_get(ev, "Object"), i, obj)
	{
		if ((e = misp_attrs(b, json_object_get(obj, "Attribute"), &tmpl, st)) < 0)
			return e;
	}
	return 0;
}

static int import_misp(om_intel_builder *b, json_t *root, const om_intel_import_opts *o,
                       om_intel_import_stats *st)
{
	json_t *ev = json_object_get(root, "Event");
	if (json_is_object(ev))
		return misp_event(b, ev, o, st);
	json_t *list = json_is_array(root) ? root : json_object_get(root, "response");
	if (!json_is_array(list)) {
		problem(st, 1, "intel.why.object");
		return -EINVAL;
	}
	size_t i;
	json_t *x;
	json_array_foreach(list, i, x)
	{
		ev = json_object_get(x, "Event");
		if (!json_is_object(ev)) {
			problem(st, i + 1, "intel.why.object");
			continue;
		}
		int e = misp_event(b, ev, o, st);
		if (e < 0)
			return e;
	}
	return 0;
}

/* Which JSON format root is. */
static enum om_intel_format json_format(json_t *root)
{
	if (json_is_object(root)) {
		size_t n = 0;
		const char *t = jstr(root, "type", &n);
		if (t && word_is(t, n, "bundle"))
			return OM_INTEL_FMT_STIX;
		if (json_object_get(root, "Event") || json_object_get(root, "response"))
			return OM_INTEL_FMT_MISP;
		return OM_INTEL_FMT_THREATFOX;
	}
	if (json_is_array(root)) {
		json_t *x = json_array_get(root, 0);
		if (json_object_get(x, "Event"))
			return OM_INTEL_FMT_MISP;
		if (json_object_get(x, "ioc_value") || json_object_get(x, "ioc"))
			return OM_INTEL_FMT_THREATFOX;
		return OM_INTEL_FMT_FEODO;
	}
	return OM_INTEL_FMT_PLAIN;
}

static int import_json(om_intel_builder *b, enum om_intel_format fmt, const char *text, size_t len,
                       const om_intel_import_opts *o, om_intel_import_stats *st)
{
	json_error_t err;
	json_t *root = json_loadb(text, len, 0, &err);
	if (!root) {
		problem(st, err.line > 0 ? (uint64_t)err.line : 1, "intel.why.json");
		return -EINVAL;
	}
	if (fmt == OM_INTEL_FMT_AUTO || fmt == OM_INTEL_FMT_PLAIN || fmt == OM_INTEL_FMT_CSV)
		fmt = json_format(root);
	in_json = true;
	st->format = fmt;
	const char *source = o->source ? o->source : default_source(fmt);
	int e;
	switch (fmt) {
	case OM_INTEL_FMT_FEODO:
		if (!json_is_array(root)) {
			problem(st, 1, "intel.why.object");
			e = -EINVAL;
		} else
			e = import_feodo_json(b, root, o, source, st);
		break;
	case OM_INTEL_FMT_THREATFOX: e = import_threatfox_json(b, root, o, source, st); break;
	case OM_INTEL_FMT_STIX: e = import_stix(b, root, o, st); break;
	case OM_INTEL_FMT_MISP: e = import_misp(b, root, o, st); break;
	default: problem(st, 1, "intel.why.object"); e = -EINVAL;
	}
	in_json = false;
	json_decref(root);
	return e;
}

/* ---- detection and entry points ------------------------------------------- */

static bool contains(const char *s, size_t n, const char *w)
{
	size_t wl = strlen(w);
	for (size_t i = 0; i + wl <= n; i++)
		if (!strncasecmp(s + i, w, wl))
			return true;
	return false;
}

enum om_intel_format om_intel_format_detect(const char *text, size_t len)
{
	size_t i = 0;
	if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3))
		i = 3;
	while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r' || text[i] == '\n'))
		i++;
	if (i < len && (text[i] == '{' || text[i] == '[')) {
		json_error_t err;
		json_t *root = json_loadb(text, len, 0, &err);
		enum om_intel_format f = root ? json_format(root) : OM_INTEL_FMT_STIX;
		json_decref(root);
		return f;
	}
	/* the comments and the first data line name the feed */
	size_t head = len < 8192 ? len : 8192;
	if (contains(text, head, "urlhaus"))
		return OM_INTEL_FMT_URLHAUS;
	if (contains(text, head, "ioc_value"))
		return OM_INTEL_FMT_THREATFOX;
	if (contains(text, head, "Feodo") || contains(text, head, "c2_status"))
		return OM_INTEL_FMT_FEODO;
	if (contains(text, head, "sslbl") || contains(text, head, "ja3_md5") ||
	    contains(text, head, "Listingreason"))
		return OM_INTEL_FMT_SSLBL;
	/* the first line that is not a comment */
	for (size_t p = i; p < len;) {
		const char *nl = memchr(text + p, '\n', len - p);
		size_t n = nl ? (size_t)(nl - text - p) : len - p;
		if (n && text[p] != '#')
			return memchr(text + p, ',', n) ? OM_INTEL_FMT_CSV : OM_INTEL_FMT_PLAIN;
		p += n + 1;
	}
	return OM_INTEL_FMT_PLAIN;
}

int om_intel_import_buf(om_intel_builder *b, enum om_intel_format fmt, const char *text, size_t len,
                        const om_intel_import_opts *o, om_intel_import_stats *st)
{
	om_intel_import_opts none = {0};
	if (!o)
		o = &none;
	if (fmt == OM_INTEL_FMT_AUTO)
		fmt = om_intel_format_detect(text, len);
	st->format = fmt;
	switch (fmt) {
	case OM_INTEL_FMT_STIX:
	case OM_INTEL_FMT_MISP: return import_json(b, fmt, text, len, o, st);
	case OM_INTEL_FMT_FEODO:
	case OM_INTEL_FMT_THREATFOX: {
		size_t i = 0;
		while (i < len &&
		       (text[i] == ' ' || text[i] == '\n' || text[i] == '\r' || text[i] == '\t'))
			i++;
		if (i < len && (text[i] == '{' || text[i] == '['))
			return import_json(b, fmt, text, len, o, st);
		return import_lines(b, fmt, text, len, o, st);
	}
	case OM_INTEL_FMT_PLAIN:
	case OM_INTEL_FMT_CSV:
	case OM_INTEL_FMT_URLHAUS:
	case OM_INTEL_FMT_SSLBL: return import_lines(b, fmt, text, len, o, st);
	default: return -EINVAL;
	}
}

int om_intel_import_path(om_intel_builder *b, const char *path, enum om_intel_format fmt,
                         const om_intel_import_opts *o, om_intel_import_stats *st)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -errno;
	struct stat sb;
	if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
		fclose(f);
		return -EISDIR;
	}
	if ((uint64_t)sb.st_size > FILE_MAX_BYTES) {
		fclose(f);
		return -EFBIG;
	}
	size_t n = (size_t)sb.st_size;
	char *buf = malloc(n + 1);
	if (!buf) {
		fclose(f);
		return -ENOMEM;
	}
	size_t got = n ? fread(buf, 1, n, f) : 0;
	int e = ferror(f) ? -EIO : 0;
	fclose(f);
	if (!e)
		e = om_intel_import_buf(b, fmt, buf, got, o, st);
	free(buf);
	return e;
}
