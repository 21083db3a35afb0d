/* webfilter.c: the web filter's category database. Rules (domains and URL
 * prefixes) live in one open-addressing hash table over a pool of records;
 * the builder keeps the same layout in memory, so writing a database is a
 * header, the slot array and the pool, and opening one is a mmap plus
 * bounds checks. A lookup hashes each suffix of the host at label
 * boundaries (longest first), and for URL rules each prefix of the path at
 * '/' boundaries: its cost depends on the name's length, not on the number
 * of rules. */
#include "guard/guard.h"

#include <errno.h>
#include <fcntl.h>
#include <idn2.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define WF_MAGIC "OMWFDB1\n"
#define WF_VERSION 1u
#define WF_F_URLS 1u        /* URL rules exist under this exact host */
#define WF_PATH_PREFIXES 32 /* path prefixes tried per host suffix */

/* A record in the pool, 4-byte aligned: len, flags, pad, cats, key bytes. */
#define REC_HDR 12u

struct wf_header {
	char magic[8];
	uint32_t version;
	uint32_t ncat;
	uint64_t nrules; /* records with at least one category */
	uint64_t nrecs;  /* all records (with URL-marker host records) */
	uint64_t nslots; /* power of two */
	uint64_t pool_bytes;
	char cats[OM_WF_CAT_MAX][OM_WF_CAT_NAME_MAX];
};

struct wf_slot {
	uint32_t tag; /* high hash bits; 0 with off 0 is an empty slot */
	uint32_t off; /* record offset / 4, plus one */
};

/* The read side, shared by the builder and a mapped file. */
struct wf_view {
	const struct wf_slot *slots;
	uint64_t mask;
	const uint8_t *pool;
	uint64_t pool_bytes;
};

struct om_wf_builder {
	struct wf_slot *slots;
	uint64_t nslots, nrecs, nrules;
	uint8_t *pool;
	uint64_t pool_len, pool_cap;
	uint32_t ncat;
	char cats[OM_WF_CAT_MAX][OM_WF_CAT_NAME_MAX];
};

struct om_wf_db {
	void *map;
	size_t map_len;
	const struct wf_header *h;
	struct wf_view v;
	uint64_t serial; /* om_wf_serial_next at open */
};

uint64_t om_wf_serial_next(void)
{
	static _Atomic uint64_t next = 1;
	return atomic_fetch_add(&next, 1);
}

uint64_t om_wf_db_serial(const om_wf_db *db)
{
	return db ? db->serial : 0;
}

static uint64_t wf_hash(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (size_t i = 0; i < n; i++) {
		h ^= (uint8_t)s[i];
		h *= 0x100000001b3ULL;
	}
	return om_mix64(h);
}

static uint32_t wf_tag(uint64_t h)
{
	return (uint32_t)(h >> 32) | 1u;
}

/* The record at slot s, or NULL when it does not fit the pool. */
static const uint8_t *wf_rec(const struct wf_view *v, const struct wf_slot *s, uint16_t *ret_len)
{
	uint64_t off = (uint64_t)(s->off - 1) * 4;
	if (off + REC_HDR > v->pool_bytes)
		return NULL;
	const uint8_t *r = v->pool + off;
	uint16_t len = 0;
	memcpy(&len, r, 2);
	if (off + REC_HDR + len > v->pool_bytes)
		return NULL;
	*ret_len = len;
	return r;
}

/* Finds the record for key; returns it or NULL. */
static const uint8_t *wf_find(const struct wf_view *v, const char *key, size_t n)
{
	if (!v->slots)
		return NULL;
	uint64_t h = wf_hash(key, n);
	uint32_t tag = wf_tag(h);
	for (uint64_t i = h & v->mask, probes = 0; probes <= v->mask;
	     i = (i + 1) & v->mask, probes++) {
		const struct wf_slot *s = &v->slots[i];
		if (!s->off)
			return NULL;
		if (s->tag != tag)
			continue;
		uint16_t len = 0;
		const uint8_t *r = wf_rec(v, s, &len);
		if (r && len == n && !memcmp(r + REC_HDR, key, n))
			return r;
	}
	return NULL;
}

static uint64_t rec_cats(const uint8_t *r)
{
	uint64_t c;
	memcpy(&c, r + 4, 8);
	return c;
}

/* ---- normalisation ------------------------------------------------------ */

/* A name with bytes past ASCII (UTF-8 U-labels: "例え.テスト") in its
 * A-label form ("xn--r8jz45g.xn--zckzah") by libidn2's lookup rules
 * (IDNA2008 with the UTS 46 mapping: case folded, NFC, "。" as a dot).
 * Returns 0 for an ASCII name (nothing done), the length written to out,
 * or -EILSEQ for a name that is no valid IDN (or not UTF-8), or
 * -ENAMETOOLONG. Only names with such bytes pay for it (libidn2 allocates
 * its result: DNS carries A-labels already; a UTF-8 Host header or a
 * list's U-label entry is the exception). */
static int idn_to_ascii(const char *in, size_t len, char *out, size_t outsz)
{
	bool ascii = true;
	for (size_t i = 0; i < len && ascii; i++)
		ascii = (unsigned char)in[i] < 0x80;
	if (ascii)
		return 0;
	char u8[256 + 4];
	if (len >= sizeof(u8))
		return -ENAMETOOLONG;
	memcpy(u8, in, len);
	u8[len] = '\0';
	uint8_t *a = NULL;
	int rc = idn2_lookup_u8((const uint8_t *)u8, &a, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
	if (rc != IDN2_OK || !a) {
		idn2_free(a);
		return rc == IDN2_TOO_BIG_DOMAIN ? -ENAMETOOLONG : -EILSEQ;
	}
	size_t n = strlen((const char *)a);
	int k = -ENAMETOOLONG;
	if (n && n < outsz && n <= 253) {
		memcpy(out, a, n + 1);
		k = (int)n;
	} else if (!n) {
		k = -EILSEQ;
	}
	idn2_free(a);
	return k;
}

/* Each byte a name may hold (letters, digits, '-', '_', '.') as it is
 * written normalised (lower case); 0 for every other byte. */
static const unsigned char host_lc[256] = {
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2d, 0x2e, 0x00,
    0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f,
    0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x00, 0x00, 0x00, 0x00, 0x5f,
    0x00, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f,
    0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x00, 0x00, 0x00, 0x00, 0x00,
};

/* The common case of om_wf_norm_host in one pass: a name of those bytes
 * only, without an empty label, lower-cased into out (room checked by the
 * caller). Returns false for anything else (the caller then takes the full
 * path, which gives the same result for such a name). */
static bool norm_plain(const char *in, size_t len, char *out)
{
	unsigned char prev = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = host_lc[(unsigned char)in[i]];
		if (!c || (c == '.' && prev == '.'))
			return false;
		out[i] = (char)c;
		prev = c;
	}
	out[len] = '\0';
	return true;
}

int om_wf_norm_host(const char *in, size_t len, char *out, size_t outsz)
{
	/* a port: the last ':' followed by digits only, outside brackets */
	if (len && in[0] == '[') {
		const char *e = memchr(in, ']', len);
		if (!e)
			return -EINVAL;
		len = (size_t)(e - in) + 1;
	} else {
		const char *c = memchr(in, ':', len);
		if (c) {
			for (const char *p = c + 1; p < in + len; p++)
				if (*p < '0' || *p > '9')
					return -EINVAL;
			len = (size_t)(c - in);
		}
	}
	if (len >= 2 && in[0] == '*' && in[1] == '.') {
		in += 2;
		len -= 2;
	}
	while (len && in[0] == '.') {
		in++;
		len--;
	}
	while (len && in[len - 1] == '.')
		len--;
	if (!len)
		return -EINVAL;
	if (len > 253 + 2 || len >= outsz)
		return -ENAMETOOLONG;
	if (in[0] != '[' && norm_plain(in, len, out))
		return (int)len;
	if (in[0] != '[') {
		int k = idn_to_ascii(in, len, out, outsz);
		if (k < 0)
			return k;
		if (k > 0) { /* the A-label form, checked below like any name */
			in = out;
			len = (size_t)k;
		}
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)in[i];
		if (ch >= 'A' && ch <= 'Z')
			ch = (unsigned char)(ch - 'A' + 'a');
		else if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' ||
		           ch == '_' || ch == '.' ||
		           (in[0] == '[' && (ch == '[' || ch == ']' || ch == ':'))))
			return -EINVAL;
		if (ch == '.' && i && in[i - 1] == '.')
			return -EINVAL; /* an empty label */
		out[i] = (char)ch;
	}
	out[len] = '\0';
	return (int)len;
}

/* A path for matching: up to '?' or '#', without trailing '/'. */
static size_t wf_path_len(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] == '?' || p[i] == '#') {
			n = i;
			break;
		}
	while (n && p[n - 1] == '/')
		n--;
	return n;
}

/* A rule from a list into key: "host" or "host/path" (scheme, user info
 * and port dropped). Returns the key length, with *ret_hostlen, or -EINVAL. */
static int wf_norm_rule(const char *s, size_t n, char *key, size_t keysz, size_t *ret_hostlen)
{
	while (n && (s[0] == ' ' || s[0] == '\t')) {
		s++;
		n--;
	}
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		n--;
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
		hl -= (size_t)(at + 1 - s);
		n -= (size_t)(at + 1 - s);
		s = at + 1;
	}
	int k = om_wf_norm_host(s, hl, key, keysz);
	if (k < 0)
		return k;
	*ret_hostlen = (size_t)k;
	size_t pl = slash ? wf_path_len(slash, n - hl) : 0;
	if (pl) {
		if ((size_t)k + pl >= keysz)
			return -ENAMETOOLONG;
		memcpy(key + k, slash, pl);
		k += (int)pl;
		key[k] = '\0';
	}
	return k;
}

/* ---- lookup ------------------------------------------------------------- */

#define WF_SUFFIXES_MAX 128 /* label boundaries of a name tried (253 bytes: at most 127) */

/* The lookup of host (and path) in one view. Each suffix of the host is
 * probed once (longest first) and its record kept for both passes: URL
 * rules first (a URL rule wins over any domain rule), then names. *clean
 * (always written) tells whether no suffix has a record at all that could
 * match some path: then no other path of this host matches either. */
static int wf_lookup(const struct wf_view *v, const char *host, size_t hlen, const char *path,
                     size_t plen, om_wf_match *ret, bool *clean)
{
	*clean = false;
	char key[OM_WF_KEY_MAX];
	int k = om_wf_norm_host(host, hlen, key, sizeof(key));
	if (k < 0)
		return -EINVAL;
	size_t hl = (size_t)k;
	if (path)
		plen = wf_path_len(path, plen);
	else
		plen = 0;
	if (hl + plen >= sizeof(key))
		plen = sizeof(key) - 1 - hl;
	/* the '/' boundaries of the path, longest first */
	size_t cuts[WF_PATH_PREFIXES];
	unsigned ncuts = 0;
	if (plen && path[0] == '/') {
		cuts[ncuts++] = plen;
		for (size_t i = plen; i > 1 && ncuts < WF_PATH_PREFIXES; i--)
			if (path[i - 1] == '/' && i - 1 > 0)
				cuts[ncuts++] = i - 1;
	}
	/* an address literal matches whole: "100.80" is no rule for 198.51.100.80 */
	bool literal = key[0] == '[';
	if (!literal) {
		literal = true;
		for (size_t i = 0; i < hl && literal; i++)
			literal = (key[i] >= '0' && key[i] <= '9') || key[i] == '.';
	}
	/* every suffix's record, probed once */
	const uint8_t *recs[WF_SUFFIXES_MAX];
	size_t offs[WF_SUFFIXES_MAX];
	unsigned nsuf = 0;
	bool any = false;
	for (size_t off = 0; off < hl && nsuf < WF_SUFFIXES_MAX;) {
		const uint8_t *r = wf_find(v, key + off, hl - off);
		if (r && !rec_cats(r) && !(r[2] & WF_F_URLS))
			r = NULL;
		any |= r != NULL;
		recs[nsuf] = r;
		offs[nsuf++] = off;
		const char *dot = literal ? NULL : memchr(key + off, '.', hl - off);
		if (!dot)
			break;
		off = (size_t)(dot - key) + 1;
	}
	*clean = !any;
	if (!any)
		return -ENOENT;
	const uint8_t *best = NULL;
	bool best_url = false;
	for (unsigned i = 0; ncuts && i < nsuf && !best; i++) {
		if (!recs[i] || !(recs[i][2] & WF_F_URLS))
			continue;
		size_t sl = hl - offs[i];
		char uk[OM_WF_KEY_MAX];
		memcpy(uk, key + offs[i], sl);
		for (unsigned c = 0; c < ncuts && !best; c++) {
			memcpy(uk + sl, path, cuts[c]);
			const uint8_t *u = wf_find(v, uk, sl + cuts[c]);
			if (u && rec_cats(u)) {
				best = u;
				best_url = true;
			}
		}
	}
	for (unsigned i = 0; i < nsuf && !best; i++)
		if (recs[i] && rec_cats(recs[i]))
			best = recs[i];
	if (!best)
		return -ENOENT;
	uint16_t len = 0;
	memcpy(&len, best, 2);
	ret->cats = rec_cats(best);
	ret->rule = (const char *)best + REC_HDR;
	ret->rule_len = len;
	ret->url = best_url;
	return 0;
}

/* ---- builder ------------------------------------------------------------ */

int om_wf_builder_new(om_wf_builder **ret)
{
	om_wf_builder *b = calloc(1, sizeof(*b));
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

om_wf_builder *om_wf_builder_free(om_wf_builder *b)
{
	if (b) {
		free(b->slots);
		free(b->pool);
		free(b);
	}
	return NULL;
}

uint64_t om_wf_builder_rules(const om_wf_builder *b)
{
	return b->nrules;
}

static struct wf_view builder_view(const om_wf_builder *b)
{
	struct wf_view v = {b->slots, b->nslots - 1, b->pool, b->pool_len};
	return v;
}

static int builder_grow(om_wf_builder *b)
{
	uint64_t n = b->nslots * 2;
	struct wf_slot *s = calloc(n, sizeof(*s));
	if (!s)
		return -ENOMEM;
	struct wf_view v = builder_view(b);
	for (uint64_t i = 0; i < b->nslots; i++) {
		const struct wf_slot *o = &b->slots[i];
		if (!o->off)
			continue;
		uint16_t len = 0;
		const uint8_t *r = wf_rec(&v, o, &len);
		uint64_t h = wf_hash((const char *)r + REC_HDR, len);
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

/* The record for key, created (with no category) when missing. */
static int builder_rec(om_wf_builder *b, const char *key, size_t n, uint8_t **ret)
{
	uint64_t h = wf_hash(key, n);
	uint32_t tag = wf_tag(h);
	struct wf_view v = builder_view(b);
	uint64_t i = h & v.mask;
	for (;; i = (i + 1) & v.mask) {
		struct wf_slot *s = &b->slots[i];
		if (!s->off)
			break;
		uint16_t len = 0;
		const uint8_t *r = wf_rec(&v, s, &len);
		if (s->tag == tag && len == n && !memcmp(r + REC_HDR, key, n)) {
			*ret = (uint8_t *)r;
			return 0;
		}
	}
	if (b->nrecs >= OM_WF_ENTRIES_MAX)
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
	memcpy(r + REC_HDR, key, n);
	b->slots[i].tag = tag;
	b->slots[i].off = (uint32_t)(b->pool_len / 4) + 1;
	b->pool_len += need;
	b->nrecs++;
	if (b->nrecs * 2 > b->nslots) {
		int e = builder_grow(b);
		if (e < 0)
			return e;
	}
	*ret = r;
	return 0;
}

static int builder_cat(om_wf_builder *b, const char *name)
{
	size_t n = strlen(name);
	if (!n || n >= OM_WF_CAT_NAME_MAX)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		char ch = name[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' ||
		      ch == '-'))
			return -EINVAL;
	}
	for (uint32_t i = 0; i < b->ncat; i++)
		if (!strcmp(b->cats[i], name))
			return (int)i;
	if (b->ncat >= OM_WF_CAT_MAX)
		return -ENOSPC;
	memcpy(b->cats[b->ncat], name, n + 1);
	return (int)b->ncat++;
}

static int builder_add_key(om_wf_builder *b, const char *key, size_t n, size_t hostlen,
                           uint64_t cats)
{
	uint8_t *r;
	int e;
	if (hostlen < n) {
		/* mark the host so that lookups try its URL rules */
		if ((e = builder_rec(b, key, hostlen, &r)) < 0)
			return e;
		r[2] |= WF_F_URLS;
	}
	if ((e = builder_rec(b, key, n, &r)) < 0)
		return e;
	uint64_t old = rec_cats(r), now = old | cats;
	if (now == old)
		return 1;
	if (!old)
		b->nrules++;
	memcpy(r + 4, &now, 8);
	return 0;
}

int om_wf_builder_add(om_wf_builder *b, const char *rule, size_t len, const char *category)
{
	char key[OM_WF_KEY_MAX];
	size_t hl;
	int k = wf_norm_rule(rule, len, key, sizeof(key), &hl);
	if (k < 0)
		return k == -EILSEQ ? -EILSEQ : -EINVAL;
	int c = builder_cat(b, category ? category : "uncategorised");
	if (c < 0)
		return c;
	return builder_add_key(b, key, (size_t)k, hl, 1ULL << c);
}

int om_wf_builder_lookup(const om_wf_builder *b, const char *host, size_t hlen, const char *path,
                         size_t plen, om_wf_match *ret)
{
	if (!b || !b->nrecs) /* a policy's empty allow or block list */
		return -ENOENT;
	struct wf_view v = builder_view(b);
	bool clean;
	return wf_lookup(&v, host, hlen, path, plen, ret, &clean);
}

int om_wf_builder_lookup_ex(const om_wf_builder *b, const char *host, size_t hlen, const char *path,
                            size_t plen, om_wf_match *ret, bool *clean)
{
	*clean = true;
	if (!b || !b->nrecs)
		return -ENOENT;
	struct wf_view v = builder_view(b);
	return wf_lookup(&v, host, hlen, path, plen, ret, clean);
}

int om_wf_builder_merge(om_wf_builder *b, const om_wf_db *db)
{
	int map[OM_WF_CAT_MAX];
	for (uint32_t i = 0; i < db->h->ncat; i++) {
		char name[OM_WF_CAT_NAME_MAX];
		memcpy(name, db->h->cats[i], sizeof(name));
		name[sizeof(name) - 1] = '\0';
		if ((map[i] = builder_cat(b, name)) < 0)
			return map[i];
	}
	for (uint64_t i = 0; i <= db->v.mask; i++) {
		const struct wf_slot *s = &db->v.slots[i];
		if (!s->off)
			continue;
		uint16_t len = 0;
		const uint8_t *r = wf_rec(&db->v, s, &len);
		if (!r)
			return -EINVAL;
		uint64_t c = rec_cats(r), nc = 0;
		for (uint32_t j = 0; j < db->h->ncat; j++)
			if (c & (1ULL << j))
				nc |= 1ULL << map[j];
		const char *key = (const char *)r + REC_HDR;
		const char *slash = memchr(key, '/', len);
		size_t hl = slash ? (size_t)(slash - key) : len;
		int e;
		if (nc) {
			e = builder_add_key(b, key, len, hl, nc);
		} else {
			uint8_t *nr;
			e = builder_rec(b, key, len, &nr);
			if (e == 0)
				nr[2] |= r[2];
		}
		if (e < 0)
			return e;
	}
	return 0;
}

int om_wf_builder_write(const om_wf_builder *b, const char *path)
{
	struct wf_header h;
	memset(&h, 0, sizeof(h));
	memcpy(h.magic, WF_MAGIC, 8);
	h.version = WF_VERSION;
	h.ncat = b->ncat;
	h.nrules = b->nrules;
	h.nrecs = b->nrecs;
	h.nslots = b->nslots;
	h.pool_bytes = b->pool_len;
	memcpy(h.cats, b->cats, sizeof(h.cats));
	char tmp[4096];
	int n = snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return -ENAMETOOLONG;
	FILE *f = fopen(tmp, "wb");
	if (!f)
		return -errno;
	bool ok = fwrite(&h, sizeof(h), 1, f) == 1 &&
	          fwrite(b->slots, sizeof(*b->slots), b->nslots, f) == b->nslots &&
	          (!b->pool_len || fwrite(b->pool, 1, b->pool_len, f) == b->pool_len);
	int e = ok ? 0 : -EIO;
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

int om_wf_db_open(const char *path, om_wf_db **ret)
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
	if ((uint64_t)st.st_size < sizeof(struct wf_header)) {
		close(fd);
		return -EINVAL;
	}
	void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	int e = m == MAP_FAILED ? -errno : 0;
	close(fd);
	if (e)
		return e;
	const struct wf_header *h = m;
	uint64_t size = (uint64_t)st.st_size;
	bool ok = !memcmp(h->magic, WF_MAGIC, 8) && h->version == WF_VERSION &&
	          h->ncat <= OM_WF_CAT_MAX && h->nslots >= 2 && !(h->nslots & (h->nslots - 1)) &&
	          h->nslots <= (size / sizeof(struct wf_slot)) && h->nrecs < h->nslots &&
	          sizeof(*h) + h->nslots * sizeof(struct wf_slot) <= size &&
	          h->pool_bytes == size - sizeof(*h) - h->nslots * sizeof(struct wf_slot);
	om_wf_db *db = ok ? calloc(1, sizeof(*db)) : NULL;
	if (!db) {
		munmap(m, (size_t)st.st_size);
		return ok ? -ENOMEM : -EINVAL;
	}
	db->map = m;
	db->map_len = (size_t)st.st_size;
	db->h = h;
	db->v.slots = (const struct wf_slot *)((const uint8_t *)m + sizeof(*h));
	db->v.mask = h->nslots - 1;
	db->v.pool = (const uint8_t *)m + sizeof(*h) + h->nslots * sizeof(struct wf_slot);
	db->v.pool_bytes = h->pool_bytes;
	db->serial = om_wf_serial_next();
	/* a table without an empty slot would make a miss scan it all */
	*ret = db;
	return 0;
}

om_wf_db *om_wf_db_close(om_wf_db *db)
{
	if (db) {
		munmap(db->map, db->map_len);
		free(db);
	}
	return NULL;
}

int om_wf_db_lookup(const om_wf_db *db, const char *host, size_t hlen, const char *path,
                    size_t plen, om_wf_match *ret)
{
	bool clean;
	return wf_lookup(&db->v, host, hlen, path, plen, ret, &clean);
}

int om_wf_db_lookup_ex(const om_wf_db *db, const char *host, size_t hlen, const char *path,
                       size_t plen, om_wf_match *ret, bool *clean)
{
	return wf_lookup(&db->v, host, hlen, path, plen, ret, clean);
}

uint64_t om_wf_db_rules(const om_wf_db *db)
{
	return db->h->nrules;
}

uint32_t om_wf_db_categories(const om_wf_db *db)
{
	return db->h->ncat;
}

const char *om_wf_db_category(const om_wf_db *db, uint32_t idx)
{
	if (idx >= db->h->ncat || !memchr(db->h->cats[idx], '\0', OM_WF_CAT_NAME_MAX))
		return NULL;
	return db->h->cats[idx];
}

int om_wf_db_category_index(const om_wf_db *db, const char *name)
{
	for (uint32_t i = 0; i < db->h->ncat; i++) {
		const char *c = om_wf_db_category(db, i);
		if (c && !strcmp(c, name))
			return (int)i;
	}
	return -ENOENT;
}

void om_wf_db_category_counts(const om_wf_db *db, uint64_t counts[OM_WF_CAT_MAX])
{
	memset(counts, 0, sizeof(uint64_t) * OM_WF_CAT_MAX);
	for (uint64_t i = 0; i <= db->v.mask; i++) {
		const struct wf_slot *s = &db->v.slots[i];
		uint16_t len = 0;
		const uint8_t *r = s->off ? wf_rec(&db->v, s, &len) : NULL;
		if (!r)
			continue;
		uint64_t c = rec_cats(r);
		for (uint32_t j = 0; j < OM_WF_CAT_MAX; j++)
			if (c & (1ULL << j))
				counts[j]++;
	}
}
