/* intel.c: the threat-intelligence database. Every indicator is a record
 * (type, threat, confidence, source, expiry, key) in one open-addressing
 * hash table over a pool, keyed by type and normalised value; the builder
 * keeps the same layout in memory, so writing is a header, the slots and
 * the pool, and opening is a mmap plus bounds checks (the web filter's
 * habit). Networks are records keyed by prefix length and masked address;
 * the header says which prefix lengths exist, so an address lookup probes
 * only those (at most 129, a handful in real feeds), longest first. */
#include "guard/guard.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define IN_MAGIC "OMINTEL1"
#define IN_VERSION 1u
#define REC_HDR 16u
#define IP_KEY 17u /* prefix byte + 16 address bytes */

/* A record, 4-byte aligned: key length (16), type (8), threat (8),
 * confidence (8), pad (8), source (16), expires (64), key bytes. */

struct in_header {
	char magic[8];
	uint32_t version;
	uint32_t nsources;
	uint64_t nrecs;
	uint64_t nslots; /* power of two */
	uint64_t pool_bytes;
	uint64_t prefixes[3]; /* bit p: IP records of prefix length p exist */
	int64_t built;
	uint64_t by_type[OM_INTEL_TYPES];
	char sources[OM_INTEL_SOURCES_MAX][OM_INTEL_SOURCE_MAX];
};

struct in_slot {
	uint32_t tag; /* high hash bits, never 0 */
	uint32_t off; /* record offset / 4, plus one; 0: empty */
};

struct in_view {
	const struct in_slot *slots;
	uint64_t mask;
	const uint8_t *pool;
	uint64_t pool_bytes;
	const uint64_t *prefixes;
	const char (*sources)[OM_INTEL_SOURCE_MAX];
	uint32_t nsources;
	/* an opened database's filter (filt_word, filt_bits): three bits of
	 * one word set for every record's tag (NULL: none; the builder has
	 * none) */
	const uint64_t *filt;
	uint64_t fmask; /* words - 1 */
};

struct om_intel_builder {
	struct in_slot *slots;
	uint64_t nslots, nrecs;
	uint8_t *pool;
	uint64_t pool_len, pool_cap;
	uint64_t prefixes[3];
	uint64_t by_type[OM_INTEL_TYPES];
	uint32_t nsources;
	char sources[OM_INTEL_SOURCES_MAX][OM_INTEL_SOURCE_MAX];
};

struct om_intel_db {
	void *map;
	size_t map_len;
	const struct in_header *h;
	struct in_view v;
	uint64_t *filt; /* v.filt, made at open */
};

/* The filter's bits per record: most lookups are of values the database
 * does not hold, and each probe of a large mapped slot array is a cache
 * and TLB miss; the filter (1 MiB for a million indicators) answers most
 * of those from a smaller, hotter array. Each tag sets three bits of one
 * 64-bit word (a blocked Bloom filter: one cache line read per lookup, as
 * with one bit): about one value in 25 that is not listed still probes
 * the slots, where one bit per tag let one in nine through. */
#define FILTER_BITS_PER_REC 8u
#define FILTER_BITS_MAX (1ull << 31)

/* The filter word of a tag and its three bits. A tag is hash bits
 * already: the bits from its own low bits, the word from the high bits of
 * one multiplication (the file keeps tags only, so the filter is made from
 * them at open). */
static inline uint64_t filt_word(uint32_t tag, uint64_t fmask)
{
	return (((uint64_t)tag * 0x9e3779b97f4a7c15ULL) >> 24) & fmask;
}

static inline uint64_t filt_bits(uint32_t tag)
{
	return 1ULL << ((tag >> 1) & 63) | 1ULL << ((tag >> 7) & 63) | 1ULL << ((tag >> 13) & 63);
}

static const char *const type_names[OM_INTEL_TYPES] = {
    [OM_INTEL_AUTO] = "auto",     [OM_INTEL_IP] = "ip",
    [OM_INTEL_DOMAIN] = "domain", [OM_INTEL_URL] = "url",
    [OM_INTEL_MD5] = "md5",       [OM_INTEL_SHA1] = "sha1",
    [OM_INTEL_SHA256] = "sha256", [OM_INTEL_CERT_SHA1] = "cert-sha1",
    [OM_INTEL_JA3] = "ja3",       [OM_INTEL_JA4] = "ja4"};

const char *om_intel_type_name(enum om_intel_type t)
{
	return (unsigned)t < OM_INTEL_TYPES ? type_names[t] : "?";
}

int om_intel_type_from_name(const char *s)
{
	for (int i = 1; i < OM_INTEL_TYPES; i++)
		if (!strcmp(s, type_names[i]))
			return i;
	return -EINVAL;
}

static const char *const threat_names[OM_INTEL_THREATS] = {"c2", "malware", "phishing", "other"};

const char *om_intel_threat_name(enum om_intel_threat t)
{
	return (unsigned)t < OM_INTEL_THREATS ? threat_names[t] : "other";
}

static bool has_word(const char *s, size_t n, const char *w)
{
	size_t wl = strlen(w);
	for (size_t i = 0; i + wl <= n; i++) {
		size_t k = 0;
		while (k < wl) {
			char c = s[i + k];
			if (c >= 'A' && c <= 'Z')
				c = (char)(c - 'A' + 'a');
			if (c != w[k])
				break;
			k++;
		}
		if (k == wl)
			return true;
	}
	return false;
}

enum om_intel_threat om_intel_threat_from_text(const char *s, size_t n)
{
	if (has_word(s, n, "phish"))
		return OM_INTEL_THREAT_PHISHING;
	if (has_word(s, n, "malware_download") || has_word(s, n, "payload") ||
	    has_word(s, n, "malware distribution") || has_word(s, n, "malware-download") ||
	    has_word(s, n, "download"))
		return OM_INTEL_THREAT_MALWARE;
	if (has_word(s, n, "c&c") || has_word(s, n, "c2") || has_word(s, n, "botnet") ||
	    has_word(s, n, "command") || has_word(s, n, "_cc") || has_word(s, n, "online") ||
	    has_word(s, n, "offline"))
		return OM_INTEL_THREAT_C2;
	return OM_INTEL_THREAT_OTHER;
}

/* ---- hashing and records ----------------------------------------------- */

static uint64_t in_hash(unsigned type, const uint8_t *k, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ type;
	h *= 0x100000001b3ULL;
	for (size_t i = 0; i < n; i++) {
		h ^= k[i];
		h *= 0x100000001b3ULL;
	}
	return om_mix64(h);
}

static uint32_t in_tag(uint64_t h)
{
	return (uint32_t)(h >> 32) | 1u;
}

static const uint8_t *in_rec(const struct in_view *v, const struct in_slot *s, uint16_t *ret_len)
{
	uint64_t off = (uint64_t)(s->off - 1) * 4;
	if (off + REC_HDR > v->pool_bytes)
		return NULL;
	const uint8_t *r = v->pool + off;
	uint16_t len;
	memcpy(&len, r, 2);
	if (off + REC_HDR + len > v->pool_bytes)
		return NULL;
	*ret_len = len;
	return r;
}

static int64_t rec_expires(const uint8_t *r)
{
	int64_t e;
	memcpy(&e, r + 8, 8);
	return e;
}

static const uint8_t *in_find(const struct in_view *v, unsigned type, const uint8_t *key, size_t n)
{
	if (!v->slots)
		return NULL;
	uint64_t h = in_hash(type, key, n);
	uint32_t tag = in_tag(h);
	if (v->filt) {
		uint64_t m = filt_bits(tag);
		if ((v->filt[filt_word(tag, v->fmask)] & m) != m)
			return NULL;
	}
	for (uint64_t i = h & v->mask, probes = 0; probes <= v->mask;
	     i = (i + 1) & v->mask, probes++) {
		const struct in_slot *s = &v->slots[i];
		if (!s->off)
			return NULL;
		if (s->tag != tag)
			continue;
		uint16_t len = 0;
		const uint8_t *r = in_rec(v, s, &len);
		if (r && len == n && r[2] == type && !memcmp(r + REC_HDR, key, n))
			return r;
	}
	return NULL;
}

static bool live_rec(const uint8_t *r, int64_t now)
{
	int64_t e = rec_expires(r);
	return !now || !e || e > now;
}

static void fill_hit(const struct in_view *v, const uint8_t *r, om_intel_hit *ret)
{
	uint16_t len, src;
	memcpy(&len, r, 2);
	memcpy(&src, r + 6, 2);
	ret->type = (enum om_intel_type)r[2];
	ret->threat = r[3] < OM_INTEL_THREATS ? (enum om_intel_threat)r[3] : OM_INTEL_THREAT_OTHER;
	ret->confidence = r[4];
	ret->prefix = ret->type == OM_INTEL_IP && len == IP_KEY ? r[REC_HDR] : 0;
	ret->expires = rec_expires(r);
	ret->source = src < v->nsources && memchr(v->sources[src], '\0', OM_INTEL_SOURCE_MAX)
	                  ? v->sources[src]
	                  : "?";
	ret->key = r + REC_HDR;
	ret->key_len = len;
}

/* ---- normalisation ------------------------------------------------------ */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Hex digits (colons allowed between bytes, as certificate fingerprints
 * are written) into out; returns the byte count or -EINVAL. */
static int unhex(const char *s, size_t n, uint8_t *out, size_t max)
{
	size_t o = 0;
	for (size_t i = 0; i < n;) {
		if (s[i] == ':' && i) {
			i++;
			continue;
		}
		if (i + 1 >= n || o >= max)
			return -EINVAL;
		int a = hexval(s[i]), b = hexval(s[i + 1]);
		if (a < 0 || b < 0)
			return -EINVAL;
		out[o++] = (uint8_t)(a << 4 | b);
		i += 2;
	}
	return (int)o;
}

static size_t raw_len(enum om_intel_type t)
{
	switch (t) {
	case OM_INTEL_MD5:
	case OM_INTEL_JA3: return 16;
	case OM_INTEL_SHA1:
	case OM_INTEL_CERT_SHA1: return 20;
	case OM_INTEL_SHA256: return 32;
	default: return 0;
	}
}

static bool is_ja4(const char *s, size_t n)
{
	/* t13d1516h2_8daaf6152771_b186095e22b6: 10 + '_' + 12 + '_' + 12 */
	if (n != 36 || s[10] != '_' || s[23] != '_')
		return false;
	if (s[0] != 't' && s[0] != 'q' && s[0] != 'd')
		return false;
	for (size_t i = 11; i < n; i++)
		if (i != 23 && hexval(s[i]) < 0)
			return false;
	return true;
}

static void trim(const char **s, size_t *n)
{
	while (*n && ((*s)[0] == ' ' || (*s)[0] == '\t' || (*s)[0] == '"' || (*s)[0] == '\''))
		(*s)++, (*n)--;
	while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t' || (*s)[*n - 1] == '\r' ||
	              (*s)[*n - 1] == '"' || (*s)[*n - 1] == '\''))
		(*n)--;
}

static int parse_cidr(const char *s, size_t n, om_cidr *ret)
{
	char tmp[64];
	if (!n || n >= sizeof(tmp))
		return -EINVAL;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	return om_cidr_parse(tmp, ret);
}

int om_intel_detect_type(const char *s, size_t n)
{
	trim(&s, &n);
	if (!n)
		return -EINVAL;
	om_cidr c;
	if (parse_cidr(s, n, &c) == 0)
		return OM_INTEL_IP;
	bool hex = true;
	for (size_t i = 0; i < n && hex; i++)
		hex = hexval(s[i]) >= 0;
	if (hex && n == 32)
		return OM_INTEL_MD5;
	if (hex && n == 40)
		return OM_INTEL_SHA1;
	if (hex && n == 64)
		return OM_INTEL_SHA256;
	if (is_ja4(s, n))
		return OM_INTEL_JA4;
	const char *slash = memchr(s, '/', n);
	if (slash) {
		/* "192.0.2.0/33" is a bad network, not a URL */
		bool digits = slash + 1 < s + n;
		for (const char *p = slash + 1; p < s + n && digits; p++)
			digits = *p >= '0' && *p <= '9';
		om_addr a;
		char tmp[64];
		size_t hl = (size_t)(slash - s);
		if (digits && hl < sizeof(tmp)) {
			memcpy(tmp, s, hl);
			tmp[hl] = '\0';
			if (om_addr_parse(tmp, &a) == 0)
				return -EINVAL;
		}
		return OM_INTEL_URL;
	}
	char tmp[OM_INTEL_VALUE_MAX];
	int k = om_wf_norm_host(s, n, tmp, sizeof(tmp));
	if (k > 0 && memchr(tmp, '.', (size_t)k))
		return OM_INTEL_DOMAIN;
	return k == -EILSEQ ? -EILSEQ : -EINVAL; /* -EILSEQ: a name, but no valid IDN */
}

/* The key of a URL: lower-case host without port and user info, then the
 * path with its query, without fragment. */
static int norm_url(const char *s, size_t n, uint8_t *key, size_t keysz)
{
	for (size_t i = 0; i + 2 < n; i++) {
		if (s[i] == '/' || s[i] == '.')
			break;
		if (s[i] == ':' && s[i + 1] == '/' && s[i + 2] == '/') {
			s += i + 3;
			n -= i + 3;
			break;
		}
	}
	const char *slash = memchr(s, '/', n);
	size_t hl = slash ? (size_t)(slash - s) : n;
	const char *at = memchr(s, '@', hl);
	if (at) {
		size_t d = (size_t)(at + 1 - s);
		s += d;
		n -= d;
		hl -= d;
	}
	int k = om_wf_norm_host(s, hl, (char *)key, keysz);
	if (k < 0)
		return -EINVAL;
	size_t pl = n - hl;
	const char *p = s + hl;
	const char *hash = memchr(p, '#', pl);
	if (hash)
		pl = (size_t)(hash - p);
	if (!pl) {
		p = "/";
		pl = 1;
	}
	if ((size_t)k + pl >= keysz)
		return -ENAMETOOLONG;
	memcpy(key + k, p, pl);
	return k + (int)pl;
}

/* Normalises a value of type t (AUTO: detected) into key; *ret_type is
 * the type. Returns the key length or -EINVAL. */
static int norm_value(enum om_intel_type t, const char *s, size_t n, uint8_t *key, size_t keysz,
                      enum om_intel_type *ret_type)
{
	trim(&s, &n);
	if (t == OM_INTEL_AUTO) {
		int d = om_intel_detect_type(s, n);
		if (d < 0)
			return d;
		t = (enum om_intel_type)d;
	}
	int k = -EINVAL;
	switch (t) {
	case OM_INTEL_IP: {
		om_cidr c;
		if (parse_cidr(s, n, &c) < 0)
			return -EINVAL;
		key[0] = c.prefix;
		memcpy(key + 1, c.addr.b, 16);
		k = IP_KEY;
		break;
	}
	case OM_INTEL_DOMAIN:
		k = om_wf_norm_host(s, n, (char *)key, keysz);
		if (k > 0 && key[0] == '[')
			k = -EINVAL;
		break;
	case OM_INTEL_URL: k = norm_url(s, n, key, keysz); break;
	case OM_INTEL_MD5:
	case OM_INTEL_SHA1:
	case OM_INTEL_SHA256:
	case OM_INTEL_CERT_SHA1:
	case OM_INTEL_JA3:
		k = unhex(s, n, key, keysz);
		if (k >= 0 && (size_t)k != raw_len(t))
			k = -EINVAL;
		break;
	case OM_INTEL_JA4:
		if (!is_ja4(s, n) || n >= keysz)
			return -EINVAL;
		for (size_t i = 0; i < n; i++)
			key[i] = (uint8_t)((s[i] >= 'A' && s[i] <= 'Z') ? s[i] - 'A' + 'a' : s[i]);
		k = (int)n;
		break;
	default: return -EINVAL;
	}
	if (k <= 0)
		return k == -EILSEQ ? -EILSEQ : -EINVAL;
	*ret_type = t;
	return k;
}

/* ---- lookups ------------------------------------------------------------ */

static int view_addr(const struct in_view *v, const om_addr *a, int64_t now, om_intel_hit *ret)
{
	uint8_t key[IP_KEY];
	bool v4 = om_addr_is_v4(a);
	int lo = v4 ? 96 : 0;
	/* the lengths the database holds, longest first (their bits, high to
	 * low: an address tries only those) */
	for (int word = 2, p; word >= 0; word--) {
		uint64_t bits = v->prefixes[word];
		while (bits) {
			int top = 63 - __builtin_clzll(bits);
			bits &= ~(1ULL << top);
			p = word * 64 + top;
			if (p > 128)
				continue;
			if (p < lo)
				return -ENOENT;
			key[0] = (uint8_t)p;
			memcpy(key + 1, a->b, 16);
			for (int i = p / 8; i < 16; i++) {
				int kb = p - i * 8; /* bits of byte i kept */
				key[1 + i] &= kb <= 0 ? 0 : (uint8_t)(0xff00u >> kb);
			}
			const uint8_t *r = in_find(v, OM_INTEL_IP, key, IP_KEY);
			if (r && live_rec(r, now)) {
				fill_hit(v, r, ret);
				return 0;
			}
		}
	}
	return -ENOENT;
}

static int view_domain(const struct in_view *v, const char *name, size_t n, int64_t now,
                       om_intel_hit *ret)
{
	char key[OM_INTEL_VALUE_MAX];
	int k = om_wf_norm_host(name, n, key, sizeof(key));
	if (k < 0 || key[0] == '[')
		return -EINVAL;
	size_t hl = (size_t)k;
	/* an address literal matches whole, never by suffix */
	bool literal = true;
	for (size_t i = 0; i < hl && literal; i++)
		literal = (key[i] >= '0' && key[i] <= '9') || key[i] == '.';
	for (size_t off = 0; off < hl;) {
		const uint8_t *r =
		    in_find(v, OM_INTEL_DOMAIN, (const uint8_t *)key + off, hl - off);
		if (r && live_rec(r, now)) {
			fill_hit(v, r, ret);
			return 0;
		}
		const char *dot = literal ? NULL : memchr(key + off, '.', hl - off);
		if (!dot)
			break;
		off = (size_t)(dot - key) + 1;
	}
	return -ENOENT;
}

static int view_url(const struct in_view *v, const char *host, size_t hlen, const char *path,
                    size_t plen, int64_t now, om_intel_hit *ret)
{
	uint8_t key[OM_INTEL_VALUE_MAX];
	int k = om_wf_norm_host(host, hlen, (char *)key, sizeof(key));
	if (k < 0)
		return -EINVAL;
	if (!path || !plen) {
		path = "/";
		plen = 1;
	}
	const char *hash = memchr(path, '#', plen);
	if (hash)
		plen = (size_t)(hash - path);
	if ((size_t)k + plen >= sizeof(key))
		return -ENOENT;
	memcpy(key + k, path, plen);
	const uint8_t *r = in_find(v, OM_INTEL_URL, key, (size_t)k + plen);
	if (!r || !live_rec(r, now)) {
		/* and without the query */
		const char *q = memchr(path, '?', plen);
		r = q ? in_find(v, OM_INTEL_URL, key, (size_t)k + (size_t)(q - path)) : NULL;
		if (r && !live_rec(r, now))
			r = NULL;
	}
	if (!r)
		return -ENOENT;
	fill_hit(v, r, ret);
	return 0;
}

static int view_raw(const struct in_view *v, enum om_intel_type t, const uint8_t *val, size_t n,
                    int64_t now, om_intel_hit *ret)
{
	const uint8_t *r = in_find(v, t, val, n);
	if (!r || !live_rec(r, now))
		return -ENOENT;
	fill_hit(v, r, ret);
	return 0;
}

static int view_lookup(const struct in_view *v, enum om_intel_type t, const char *s, size_t n,
                       int64_t now, om_intel_hit *ret)
{
	trim(&s, &n);
	bool auto_type = t == OM_INTEL_AUTO;
	if (t == OM_INTEL_AUTO) {
		int d = om_intel_detect_type(s, n);
		if (d < 0)
			return d;
		t = (enum om_intel_type)d;
	}
	if (t == OM_INTEL_IP) {
		om_cidr c;
		if (parse_cidr(s, n, &c) < 0)
			return -EINVAL;
		return view_addr(v, &c.addr, now, ret);
	}
	if (t == OM_INTEL_DOMAIN)
		return view_domain(v, s, n, now, ret);
	if (t == OM_INTEL_URL) {
		uint8_t key[OM_INTEL_VALUE_MAX];
		int k = norm_url(s, n, key, sizeof(key));
		if (k < 0)
			return -EINVAL;
		const uint8_t *slash = memchr(key, '/', (size_t)k);
		size_t hl = (size_t)(slash - key);
		return view_url(v, (const char *)key, hl, (const char *)slash, (size_t)k - hl, now,
		                ret);
	}
	uint8_t key[OM_INTEL_VALUE_MAX];
	enum om_intel_type tt;
	int k = norm_value(t, s, n, key, sizeof(key), &tt);
	if (k < 0)
		return k;
	int e = view_raw(v, tt, key, (size_t)k, now, ret);
	/* detected: 32 hex digits are also a JA3, 40 a certificate's SHA-1 */
	if (e == -ENOENT && auto_type && tt == OM_INTEL_MD5)
		e = view_raw(v, OM_INTEL_JA3, key, (size_t)k, now, ret);
	if (e == -ENOENT && auto_type && tt == OM_INTEL_SHA1)
		e = view_raw(v, OM_INTEL_CERT_SHA1, key, (size_t)k, now, ret);
	return e;
}

void om_intel_hit_text(const om_intel_hit *h, char *buf, size_t n)
{
	if (!n)
		return;
	buf[0] = '\0';
	if (h->type == OM_INTEL_IP && h->key_len == IP_KEY) {
		om_addr a;
		memcpy(a.b, h->key + 1, 16);
		char t[64];
		om_addr_str(&a, t, sizeof(t));
		bool v4 = om_addr_is_v4(&a) && h->prefix >= 96;
		unsigned p = v4 ? h->prefix - 96u : h->prefix;
		if (p == (v4 ? 32u : 128u))
			snprintf(buf, n, "%s", t);
		else
			snprintf(buf, n, "%s/%u", t, p);
	} else if (raw_len(h->type)) {
		size_t o = 0;
		for (size_t i = 0; i < h->key_len && o + 3 <= n; i++)
			o += (size_t)snprintf(buf + o, n - o, "%02x", h->key[i]);
	} else {
		snprintf(buf, n, "%.*s", (int)h->key_len, (const char *)h->key);
	}
}

/* ---- builder ------------------------------------------------------------ */

int om_intel_builder_new(om_intel_builder **ret)
{
	om_intel_builder *b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->nslots = 1024;
	b->slots = calloc(b->nslots, sizeof(*b->slots));
	if (!b->slots) {
		free(b);
		return -ENOMEM;
	}
	*ret = b;
	return 0;
}

om_intel_builder *om_intel_builder_free(om_intel_builder *b)
{
	if (b) {
		free(b->slots);
		free(b->pool);
		free(b);
	}
	return NULL;
}

uint64_t om_intel_builder_count(const om_intel_builder *b)
{
	return b->nrecs;
}

static struct in_view builder_view(const om_intel_builder *b)
{
	struct in_view v = {.slots = b->slots,
	                    .mask = b->nslots - 1,
	                    .pool = b->pool,
	                    .pool_bytes = b->pool_len,
	                    .prefixes = b->prefixes,
	                    .sources = b->sources,
	                    .nsources = b->nsources};
	return v;
}

static int builder_grow(om_intel_builder *b)
{
	uint64_t n = b->nslots * 2;
	struct in_slot *s = calloc(n, sizeof(*s));
	if (!s)
		return -ENOMEM;
	struct in_view v = builder_view(b);
	for (uint64_t i = 0; i < b->nslots; i++) {
		const struct in_slot *o = &b->slots[i];
		if (!o->off)
			continue;
		uint16_t len = 0;
		const uint8_t *r = in_rec(&v, o, &len);
		uint64_t h = in_hash(r[2], r + REC_HDR, len);
		uint64_t j = h & (n - 1);
		while (s[j].off)
			j = (j + 1) & (n - 1);
		s[j] = *o;
	}
	free(b->slots);
	b->slots = s;
	b->nslots = n;
	return 0;
}

static int builder_source(om_intel_builder *b, const char *name)
{
	if (!name || !*name)
		name = "local";
	size_t n = strnlen(name, OM_INTEL_SOURCE_MAX);
	if (n >= OM_INTEL_SOURCE_MAX)
		n = OM_INTEL_SOURCE_MAX - 1;
	for (uint32_t i = 0; i < b->nsources; i++)
		if (!strncmp(b->sources[i], name, n) && b->sources[i][n] == '\0')
			return (int)i;
	if (b->nsources >= OM_INTEL_SOURCES_MAX)
		return -ENOSPC;
	memcpy(b->sources[b->nsources], name, n);
	b->sources[b->nsources][n] = '\0';
	return (int)b->nsources++;
}

/* Adds or updates the record (type, key). */
static int builder_put(om_intel_builder *b, unsigned type, const uint8_t *key, size_t n,
                       unsigned threat, uint8_t conf, uint16_t src, int64_t expires)
{
	uint64_t h = in_hash(type, key, n);
	uint32_t tag = in_tag(h);
	struct in_view v = builder_view(b);
	uint64_t i = h & v.mask;
	for (;; i = (i + 1) & v.mask) {
		struct in_slot *s = &b->slots[i];
		if (!s->off)
			break;
		uint16_t len = 0;
		uint8_t *r = (uint8_t *)in_rec(&v, s, &len);
		if (s->tag == tag && len == n && r[2] == type && !memcmp(r + REC_HDR, key, n)) {
			int64_t e = rec_expires(r);
			if (!e || !expires || expires > e) {
				e = (!e || !expires) ? 0 : expires;
				memcpy(r + 8, &e, 8);
			}
			if (conf > r[4]) {
				r[4] = conf;
				r[3] = (uint8_t)threat;
				memcpy(r + 6, &src, 2);
			}
			return 1;
		}
	}
	if (b->nrecs >= OM_INTEL_MAX)
		return -ENOSPC;
	size_t need = (REC_HDR + n + 3) & ~(size_t)3;
	if (b->pool_len + need > b->pool_cap) {
		uint64_t cap = b->pool_cap ? b->pool_cap * 2 : 65536;
		while (cap < b->pool_len + need)
			cap *= 2;
		if (cap > (uint64_t)UINT32_MAX * 4)
			return -ENOSPC;
		uint8_t *p = realloc(b->pool, cap);
		if (!p)
			return -ENOMEM;
		b->pool = p;
		b->pool_cap = cap;
	}
	uint8_t *r = b->pool + b->pool_len;
	memset(r, 0, need);
	uint16_t len = (uint16_t)n;
	memcpy(r, &len, 2);
	r[2] = (uint8_t)type;
	r[3] = (uint8_t)threat;
	r[4] = conf;
	memcpy(r + 6, &src, 2);
	memcpy(r + 8, &expires, 8);
	memcpy(r + REC_HDR, key, n);
	b->slots[i].tag = tag;
	b->slots[i].off = (uint32_t)(b->pool_len / 4) + 1;
	b->pool_len += need;
	b->nrecs++;
	if (type < OM_INTEL_TYPES)
		b->by_type[type]++;
	if (type == OM_INTEL_IP && n == IP_KEY && key[0] <= 128)
		b->prefixes[key[0] / 64] |= 1ULL << (key[0] % 64);
	if (b->nrecs * 2 > b->nslots) {
		int e = builder_grow(b);
		if (e < 0)
			return e;
	}
	return 0;
}

int om_intel_builder_add(om_intel_builder *b, const om_intel_ind *ind)
{
	uint8_t key[OM_INTEL_VALUE_MAX];
	enum om_intel_type t;
	if (!ind->value)
		return -EINVAL;
	int k = norm_value(ind->type, ind->value, ind->len, key, sizeof(key), &t);
	if (k < 0)
		return k == -EILSEQ ? -EILSEQ : -EINVAL;
	int s = builder_source(b, ind->source);
	if (s < 0)
		return s;
	uint8_t conf = ind->confidence > 100 ? 100 : ind->confidence;
	unsigned threat = (unsigned)ind->threat < OM_INTEL_THREATS ? (unsigned)ind->threat
	                                                           : OM_INTEL_THREAT_OTHER;
	return builder_put(b, t, key, (size_t)k, threat, conf, (uint16_t)s,
	                   ind->expires < 0 ? 0 : ind->expires);
}

int om_intel_builder_lookup(const om_intel_builder *b, enum om_intel_type t, const char *v,
                            size_t n, int64_t now, om_intel_hit *ret)
{
	struct in_view view = builder_view(b);
	return view_lookup(&view, t, v, n, now, ret);
}

/* Copies the records of v (not expired at now, not of a skipped source). */
static int merge_view(om_intel_builder *b, const struct in_view *v, int64_t now,
                      const char *const *skip, unsigned nskip)
{
	int map[OM_INTEL_SOURCES_MAX];
	for (uint32_t i = 0; i < v->nsources; i++) {
		char name[OM_INTEL_SOURCE_MAX];
		memcpy(name, v->sources[i], sizeof(name));
		name[sizeof(name) - 1] = '\0';
		bool skipped = false;
		for (unsigned k = 0; k < nskip && !skipped; k++)
			skipped = !strcmp(skip[k], name);
		if (skipped)
			map[i] = -1;
		else if ((map[i] = builder_source(b, name)) < 0)
			return map[i];
	}
	for (uint64_t i = 0; i <= v->mask; i++) {
		const struct in_slot *s = &v->slots[i];
		if (!s->off)
			continue;
		uint16_t len = 0, src;
		const uint8_t *r = in_rec(v, s, &len);
		if (!r || r[2] == OM_INTEL_AUTO || r[2] >= OM_INTEL_TYPES)
			return -EINVAL;
		if (!live_rec(r, now))
			continue;
		memcpy(&src, r + 6, 2);
		if (src >= v->nsources)
			return -EINVAL;
		if (map[src] < 0)
			continue;
		if (r[2] == OM_INTEL_IP && (len != IP_KEY || r[REC_HDR] > 128))
			return -EINVAL;
		int e = builder_put(b, r[2], r + REC_HDR, len, r[3], r[4], (uint16_t)map[src],
		                    rec_expires(r));
		if (e < 0)
			return e;
	}
	return 0;
}

int om_intel_builder_merge(om_intel_builder *b, const om_intel_db *db, int64_t now)
{
	return merge_view(b, &db->v, now, NULL, 0);
}

int om_intel_builder_merge_except(om_intel_builder *b, const om_intel_db *db, int64_t now,
                                  const char *const *skip, unsigned nskip)
{
	return merge_view(b, &db->v, now, skip, nskip);
}

int om_intel_builder_absorb(om_intel_builder *b, const om_intel_builder *from)
{
	struct in_view v = builder_view(from);
	return merge_view(b, &v, 0, NULL, 0);
}

int om_intel_builder_write(const om_intel_builder *b, const char *path)
{
	struct in_header *h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	memcpy(h->magic, IN_MAGIC, 8);
	h->version = IN_VERSION;
	h->nsources = b->nsources;
	h->nrecs = b->nrecs;
	h->nslots = b->nslots;
	h->pool_bytes = b->pool_len;
	memcpy(h->prefixes, b->prefixes, sizeof(h->prefixes));
	h->built = (int64_t)time(NULL);
	memcpy(h->by_type, b->by_type, sizeof(h->by_type));
	memcpy(h->sources, b->sources, sizeof(h->sources));
	char tmp[4096];
	int n = snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	int e = 0;
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		free(h);
		return -ENAMETOOLONG;
	}
	FILE *f = fopen(tmp, "wb");
	if (!f) {
		e = -errno;
		free(h);
		return e;
	}
	bool ok = fwrite(h, sizeof(*h), 1, f) == 1 &&
	          fwrite(b->slots, sizeof(*b->slots), b->nslots, f) == b->nslots &&
	          (!b->pool_len || fwrite(b->pool, 1, b->pool_len, f) == b->pool_len);
	free(h);
	e = ok ? 0 : -EIO;
	if (fflush(f) != 0 || fsync(fileno(f)) != 0)
		e = e ? e : -errno;
	if (fclose(f) != 0 && !e)
		e = -errno;
	if (!e && rename(tmp, path) != 0)
		e = -errno;
	if (e)
		unlink(tmp);
	return e;
}

/* ---- the mapped database ------------------------------------------------ */

/* The filter of an opened database (none when memory is short: lookups
 * then probe the slots for every value, as they would anyway). */
static void filter_build(om_intel_db *db)
{
	uint64_t nbits = 64;
	while (nbits < FILTER_BITS_MAX && nbits < FILTER_BITS_PER_REC * db->h->nrecs)
		nbits <<= 1;
	uint64_t *f = calloc(nbits / 64, sizeof(*f));
	if (!f)
		return;
	uint64_t fmask = nbits / 64 - 1;
	for (uint64_t i = 0; i <= db->v.mask; i++) {
		const struct in_slot *sl = &db->v.slots[i];
		if (sl->off)
			f[filt_word(sl->tag, fmask)] |= filt_bits(sl->tag);
	}
	db->filt = f;
	db->v.filt = f;
	db->v.fmask = fmask;
}

int om_intel_db_open(const char *path, om_intel_db **ret)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct stat st;
	if (fstat(fd, &st) != 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	if ((uint64_t)st.st_size < sizeof(struct in_header)) {
		close(fd);
		return -EINVAL;
	}
	void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	int e = m == MAP_FAILED ? -errno : 0;
	close(fd);
	if (e)
		return e;
	const struct in_header *h = m;
	uint64_t size = (uint64_t)st.st_size;
	bool ok = !memcmp(h->magic, IN_MAGIC, 8) && h->version == IN_VERSION &&
	          h->nsources <= OM_INTEL_SOURCES_MAX && h->nslots >= 2 &&
	          !(h->nslots & (h->nslots - 1)) && h->nslots <= size / sizeof(struct in_slot) &&
	          h->nrecs < h->nslots && sizeof(*h) + h->nslots * sizeof(struct in_slot) <= size &&
	          h->pool_bytes == size - sizeof(*h) - h->nslots * sizeof(struct in_slot);
	om_intel_db *db = ok ? calloc(1, sizeof(*db)) : NULL;
	if (!db) {
		munmap(m, (size_t)st.st_size);
		return ok ? -ENOMEM : -EINVAL;
	}
	db->map = m;
	db->map_len = (size_t)st.st_size;
	db->h = h;
	db->v.slots = (const struct in_slot *)((const uint8_t *)m + sizeof(*h));
	db->v.mask = h->nslots - 1;
	db->v.pool = (const uint8_t *)m + sizeof(*h) + h->nslots * sizeof(struct in_slot);
	db->v.pool_bytes = h->pool_bytes;
	db->v.prefixes = h->prefixes;
	db->v.sources = h->sources;
	db->v.nsources = h->nsources;
	filter_build(db);
	*ret = db;
	return 0;
}

om_intel_db *om_intel_db_close(om_intel_db *db)
{
	if (db) {
		free(db->filt);
		munmap(db->map, db->map_len);
		free(db);
	}
	return NULL;
}

bool om_intel_db_filter_passes(const om_intel_db *db, enum om_intel_type t, const uint8_t *key,
                               size_t n)
{
	if (!db || !db->v.filt)
		return true;
	uint32_t tag = in_tag(in_hash((unsigned)t, key, n));
	uint64_t m = filt_bits(tag);
	return (db->v.filt[filt_word(tag, db->v.fmask)] & m) == m;
}

bool om_intel_db_has(const om_intel_db *db, enum om_intel_type t)
{
	return db && (unsigned)t < OM_INTEL_TYPES && db->h->by_type[t] != 0;
}

int om_intel_db_lookup_addr(const om_intel_db *db, const om_addr *a, int64_t now, om_intel_hit *ret)
{
	return view_addr(&db->v, a, now, ret);
}

int om_intel_db_lookup_domain(const om_intel_db *db, const char *name, size_t n, int64_t now,
                              om_intel_hit *ret)
{
	return view_domain(&db->v, name, n, now, ret);
}

int om_intel_db_lookup_url(const om_intel_db *db, const char *host, size_t hlen, const char *path,
                           size_t plen, int64_t now, om_intel_hit *ret)
{
	return view_url(&db->v, host, hlen, path, plen, now, ret);
}

int om_intel_db_lookup_raw(const om_intel_db *db, enum om_intel_type t, const uint8_t *v, size_t n,
                           int64_t now, om_intel_hit *ret)
{
	if (t == OM_INTEL_JA4) {
		uint8_t key[64];
		enum om_intel_type tt;
		int k = norm_value(t, (const char *)v, n, key, sizeof(key), &tt);
		if (k < 0)
			return k;
		return view_raw(&db->v, t, key, (size_t)k, now, ret);
	}
	if (!raw_len(t) || n != raw_len(t))
		return -EINVAL;
	return view_raw(&db->v, t, v, n, now, ret);
}

int om_intel_db_lookup(const om_intel_db *db, enum om_intel_type t, const char *v, size_t n,
                       int64_t now, om_intel_hit *ret)
{
	return view_lookup(&db->v, t, v, n, now, ret);
}

const char *om_intel_db_source(const om_intel_db *db, uint32_t idx)
{
	if (idx >= db->v.nsources || !memchr(db->h->sources[idx], '\0', OM_INTEL_SOURCE_MAX))
		return NULL;
	return db->h->sources[idx];
}

void om_intel_db_stats_get(const om_intel_db *db, int64_t now, om_intel_db_stats *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->sources = db->v.nsources;
	ret->built = db->h->built;
	ret->file_bytes = db->map_len;
	for (uint64_t i = 0; i <= db->v.mask; i++) {
		const struct in_slot *s = &db->v.slots[i];
		uint16_t len = 0, src;
		const uint8_t *r = s->off ? in_rec(&db->v, s, &len) : NULL;
		if (!r)
			continue;
		ret->total++;
		if (r[2] < OM_INTEL_TYPES)
			ret->by_type[r[2]]++;
		memcpy(&src, r + 6, 2);
		if (src < OM_INTEL_SOURCES_MAX)
			ret->by_source[src]++;
		if (!live_rec(r, now))
			ret->expired++;
	}
}
