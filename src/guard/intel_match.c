/* intel_match.c: indicators against traffic. The database in use is held
 * by an om_intel_live that swaps mappings on reload without stopping the
 * workers (each takes the current one between packets; a replaced mapping
 * is unmapped once every worker has moved on). The matcher checks flows at
 * their first packet (both addresses), transactions (DNS queries and
 * answers, HTTP host and URL, TLS SNI, JA3, JA4, the server certificate)
 * and files (md5, sha1, sha256 at close), and hands each match to the
 * engine's callback with the internal host (the side in home-net). */
#include "guard/fpcache.h"
#include "guard/guard.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define RETIRED_MAX 8
#define DNS_NAMES_MAX 16
#define DNS_ANSWERS_MAX 32

/* Per worker: the values the current database does not list (a keyed
 * 64-bit fingerprint each; fpcache.h: 8192 sets of 4, 256 KiB): an
 * office's flows go to the same servers and its lookups repeat names, and
 * a miss in a large database is a cache miss of the processor's too. A
 * fingerprint cannot be chosen to meet another's without the process's
 * key; a new database (a reload) empties it. */
#define MISS_SETS 8192u
struct miss_cache {
	const om_intel_db *db;
	uint64_t gen;
	_Alignas(64) uint64_t v[MISS_SETS * OM_FPC_WAYS];
};

struct om_intel_live {
	char path[4096];
	_Atomic(om_intel_db *) cur;
	_Atomic uint64_t gen;
	unsigned nworkers;
	_Atomic uint64_t *seen; /* per worker: the generation it took last */
	pthread_mutex_t lock;   /* reloads */
	struct {
		om_intel_db *db;
		uint64_t gen; /* freed once every worker has seen this generation */
	} retired[RETIRED_MAX];
	unsigned nretired;
	struct stat st;          /* of the file mapped */
	struct miss_cache *miss; /* per worker */
};

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

int om_intel_live_open(const char *path, unsigned workers, om_intel_live **ret)
{
	if (!workers)
		workers = 1;
	size_t n = strlen(path);
	if (n >= sizeof(((om_intel_live *)0)->path))
		return -ENAMETOOLONG;
	om_intel_live *l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->seen = calloc(workers, sizeof(*l->seen));
	l->miss = aligned_alloc(64, workers * sizeof(*l->miss));
	if (l->miss)
		memset(l->miss, 0, workers * sizeof(*l->miss));
	if (!l->seen || !l->miss) {
		free(l->seen);
		free(l->miss);
		free(l);
		return -ENOMEM;
	}
	memcpy(l->path, path, n + 1);
	l->nworkers = workers;
	pthread_mutex_init(&l->lock, NULL);
	om_intel_db *db;
	int e = stat(path, &l->st) == 0 ? om_intel_db_open(path, &db) : -errno;
	if (e < 0) {
		om_intel_live_free(l);
		return e;
	}
	atomic_store(&l->cur, db);
	atomic_store(&l->gen, 1);
	*ret = l;
	return 0;
}

om_intel_live *om_intel_live_free(om_intel_live *l)
{
	if (!l)
		return NULL;
	om_intel_db_close(atomic_load(&l->cur));
	for (unsigned i = 0; i < l->nretired; i++)
		om_intel_db_close(l->retired[i].db);
	pthread_mutex_destroy(&l->lock);
	free(l->seen);
	free(l->miss);
	free(l);
	return NULL;
}

/* Worker w's cache for db (emptied when the database changed), or NULL. */
static struct miss_cache *miss_get(om_intel_live *l, unsigned w, const om_intel_db *db)
{
	if (!l->miss || w >= l->nworkers)
		return NULL;
	struct miss_cache *c = &l->miss[w];
	uint64_t g = atomic_load(&l->gen);
	if (c->db != db || c->gen != g) {
		memset(c->v, 0, sizeof(c->v));
		c->db = db;
		c->gen = g;
	}
	return c;
}

enum { MISS_ADDR = 1, MISS_NAME };

static uint64_t miss_fp(unsigned kind, const void *p, size_t n)
{
	uint64_t fp = om_siphash(om_hash_key_process(), p, n) + kind * 0x9e3779b97f4a7c15ULL;
	return fp ? fp : 1;
}

static bool miss_known(const struct miss_cache *c, uint64_t fp)
{
	return c && om_fpc_has(c->v, MISS_SETS, fp);
}

static void miss_note(struct miss_cache *c, uint64_t fp)
{
	if (c)
		om_fpc_add(c->v, MISS_SETS, fp);
}

/* An address looked up through the cache: 0 with *ret, or -ENOENT. */
static int lookup_addr(struct miss_cache *c, const om_intel_db *db, const om_addr *a, int64_t now,
                       om_intel_hit *ret)
{
	uint64_t fp = miss_fp(MISS_ADDR, a->b, sizeof(a->b));
	if (miss_known(c, fp))
		return -ENOENT;
	int r = om_intel_db_lookup_addr(db, a, now, ret);
	if (r < 0)
		miss_note(c, fp);
	return r;
}

const om_intel_db *om_intel_live_get(om_intel_live *l, unsigned w)
{
	uint64_t g = atomic_load(&l->gen);
	om_intel_db *db = atomic_load(&l->cur);
	if (w < l->nworkers)
		atomic_store(&l->seen[w], g);
	return db;
}

uint64_t om_intel_live_generation(const om_intel_live *l)
{
	return atomic_load(&((om_intel_live *)l)->gen);
}

/* Unmaps the retired databases that no worker can still hold. */
static void collect(om_intel_live *l)
{
	uint64_t oldest = UINT64_MAX;
	for (unsigned w = 0; w < l->nworkers; w++) {
		uint64_t s = atomic_load(&l->seen[w]);
		if (s < oldest)
			oldest = s;
	}
	unsigned k = 0;
	for (unsigned i = 0; i < l->nretired; i++) {
		if (l->retired[i].gen <= oldest)
			om_intel_db_close(l->retired[i].db);
		else
			l->retired[k++] = l->retired[i];
	}
	l->nretired = k;
}

int om_intel_live_reload(om_intel_live *l)
{
	pthread_mutex_lock(&l->lock);
	collect(l);
	int rc = 0;
	struct stat st;
	if (stat(l->path, &st) != 0) {
		rc = -errno;
		goto out;
	}
	if (same_file(&st, &l->st))
		goto out;
	if (l->nretired >= RETIRED_MAX) {
		rc = -EBUSY; /* a worker has not moved on since the last reloads */
		goto out;
	}
	om_intel_db *db;
	if ((rc = om_intel_db_open(l->path, &db)) < 0)
		goto out;
	om_intel_db *old = atomic_exchange(&l->cur, db);
	uint64_t g = atomic_fetch_add(&l->gen, 1) + 1;
	l->retired[l->nretired].db = old;
	l->retired[l->nretired].gen = g;
	l->nretired++;
	l->st = st;
	rc = 1;
out:
	pthread_mutex_unlock(&l->lock);
	return rc;
}

/* ---- matching -------------------------------------------------------------- */

struct wctx {
	om_intel_matcher *m;
	unsigned worker;
	void *user;
};

static void *user_of(om_intel_matcher *m, unsigned worker)
{
	return m->worker_user ? m->worker_user(m->user, worker) : m->user;
}

static int64_t now_of(const om_intel_matcher *m, const om_flow *f)
{
	return m->now ? m->now : (int64_t)(f->last / 1000000u);
}

/* The internal side of the flow: the client when it is in home-net, else
 * the server when that is; known false when neither is. */
static void internal_host(const om_intel_matcher *m, const om_flow *f, om_intel_event *ev)
{
	bool ci = m->base && om_base_is_home(m->base, &f->cli);
	bool si = m->base && om_base_is_home(m->base, &f->srv);
	ev->host_known = ci || si || !m->base;
	ev->host = (ci || !si) ? f->cli : f->srv;
}

static enum om_tx_verdict report(om_intel_matcher *m, void *user, om_flow *f, const om_intel_hit *h,
                                 const char *field, const char *val, size_t n,
                                 const om_proto_tx *tx)
{
	if (h->confidence < m->min_confidence)
		return OM_TX_VERDICT_ACCEPT;
	om_intel_event ev = {.hit = h, .field = field, .value = val, .value_len = n, .tx = tx};
	internal_host(m, f, &ev);
	if (m->cb)
		m->cb(user, f, &ev);
	return m->block ? OM_TX_VERDICT_DROP : OM_TX_VERDICT_ALERT;
}

static enum om_tx_verdict stricter(enum om_tx_verdict a, enum om_tx_verdict b)
{
	return a > b ? a : b;
}

/* IPv4 in dots as inet_pton takes it (four decimal numbers up to 255,
 * none with a leading zero, up to the NUL): 0 with the address, or
 * -EINVAL. The common case of a DNS answer, without the library call. */
static int parse_v4(const char *t, om_addr *ret)
{
	uint8_t b[4] = {0};
	unsigned octets = 0;
	bool digit = false;
	for (const char *p = t; *p; p++) {
		if (*p >= '0' && *p <= '9') {
			unsigned v = b[octets ? octets - 1 : 0] * 10u + (unsigned)(*p - '0');
			if (!digit) {
				if (++octets > 4)
					return -EINVAL;
				v = (unsigned)(*p - '0');
				digit = true;
			} else if (b[octets - 1] == 0) {
				return -EINVAL; /* a leading zero */
			}
			if (v > 255)
				return -EINVAL;
			b[octets - 1] = (uint8_t)v;
		} else if (*p == '.' && digit) {
			if (octets == 4)
				return -EINVAL;
			digit = false;
		} else {
			return -EINVAL;
		}
	}
	if (octets < 4)
		return -EINVAL;
	om_addr_from_v4(ret, b);
	return 0;
}

/* Whether the string t (n bytes, up to a NUL) could be an address for
 * om_addr_parse: IPv4 in dots has digits and dots only, IPv6 has a ':'. A
 * DNS answer's name (a CNAME's target) is then known to be none without
 * the two parses. */
static bool may_be_addr(const char *t, size_t n)
{
	bool v4 = n > 0 && t[0];
	for (size_t i = 0; i < n && t[i]; i++) {
		if (t[i] == ':')
			return true;
		if (!(t[i] == '.' || (t[i] >= '0' && t[i] <= '9')))
			v4 = false;
	}
	return v4;
}

bool om_intel_flow_start(om_intel_matcher *m, unsigned worker, om_flow *f)
{
	const om_intel_db *db = om_intel_live_get(m->live, worker);
	if (!db)
		return false;
	int64_t now = now_of(m, f);
	void *user = user_of(m, worker);
	om_intel_hit h;
	char txt[64];
	enum om_tx_verdict v = OM_TX_VERDICT_ACCEPT;
	if (!om_intel_db_has(db, OM_INTEL_IP))
		return false;
	struct miss_cache *mc = miss_get(m->live, worker, db);
	/* the office's own addresses (home-net) are no indicators: the
	 * outside end of a flow is looked up, both ends without home-net */
	bool srv_home = m->base && om_base_is_home(m->base, &f->srv);
	bool cli_home = m->base && om_base_is_home(m->base, &f->cli);
	if (!srv_home && lookup_addr(mc, db, &f->srv, now, &h) == 0) {
		om_addr_str(&f->srv, txt, sizeof(txt));
		v = stricter(v, report(m, user, f, &h, "flow.dest_ip", txt, strlen(txt), NULL));
	}
	if (!cli_home && lookup_addr(mc, db, &f->cli, now, &h) == 0) {
		om_addr_str(&f->cli, txt, sizeof(txt));
		v = stricter(v, report(m, user, f, &h, "flow.src_ip", txt, strlen(txt), NULL));
	}
	if (v >= OM_TX_VERDICT_ALERT)
		f->flags |= OM_FLOW_F_ALERTED;
	if (v >= OM_TX_VERDICT_DROP)
		f->flags |= OM_FLOW_F_DROP;
	return v != OM_TX_VERDICT_ACCEPT;
}

static enum om_tx_verdict check_name(om_intel_matcher *m, void *user, const om_intel_db *db,
                                     struct miss_cache *mc, om_flow *f, const om_proto_tx *tx,
                                     const char *field, const uint8_t *s, uint32_t n, int64_t now)
{
	om_intel_hit h;
	if (!s || !n || !om_intel_db_has(db, OM_INTEL_DOMAIN))
		return OM_TX_VERDICT_ACCEPT;
	uint64_t fp = om_guard_name_fp(s, n) + MISS_NAME * 0x9e3779b97f4a7c15ULL;
	fp = fp ? fp : 1;
	if (miss_known(mc, fp))
		return OM_TX_VERDICT_ACCEPT;
	if (om_intel_db_lookup_domain(db, (const char *)s, n, now, &h) == 0)
		return report(m, user, f, &h, field, (const char *)s, n, tx);
	miss_note(mc, fp);
	return OM_TX_VERDICT_ACCEPT;
}

/* A fingerprint in hex (JA3's MD5, a certificate's SHA-1 with colons). */
static enum om_tx_verdict check_hex(om_intel_matcher *m, void *user, const om_intel_db *db,
                                    om_flow *f, const om_proto_tx *tx, const char *field,
                                    enum om_intel_type t, const uint8_t *s, uint32_t n, int64_t now)
{
	om_intel_hit h;
	if (!s || !n || n > 128 || !om_intel_db_has(db, t))
		return OM_TX_VERDICT_ACCEPT;
	if (om_intel_db_lookup(db, t, (const char *)s, n, now, &h) == 0)
		return report(m, user, f, &h, field, (const char *)s, n, tx);
	return OM_TX_VERDICT_ACCEPT;
}

static enum om_tx_verdict on_tx(void *wctx, om_flow *f, const om_proto_tx *tx)
{
	struct wctx *w = wctx;
	om_intel_matcher *m = w->m;
	const om_intel_db *db = om_intel_live_get(m->live, w->worker);
	if (!db)
		return OM_TX_VERDICT_ACCEPT;
	int64_t now = now_of(m, f);
	enum om_tx_verdict v = OM_TX_VERDICT_ACCEPT;
	uint32_t n = 0;
	const uint8_t *s;
	om_intel_hit h;
	struct miss_cache *mc = miss_get(m->live, w->worker, db);
	const char *ap = tx->app_proto ? tx->app_proto : "";
	if (om_guard_ap_is(ap, "dns")) {
		if (tx->dir == OM_DIR_TOSERVER) {
			for (uint32_t i = 0; i < DNS_NAMES_MAX; i++) {
				if (!(s = om_tx_get(tx, OM_TXB_DNS_QUERY, i, &n)))
					break;
				v = stricter(v, check_name(m, w->user, db, mc, f, tx, "dns.query",
				                           s, n, now));
			}
			return v;
		}
		/* answers: addresses and names (CNAME targets) */
		bool ips = om_intel_db_has(db, OM_INTEL_IP),
		     names = om_intel_db_has(db, OM_INTEL_DOMAIN);
		for (uint32_t i = 0; (ips || names) && i < DNS_ANSWERS_MAX; i++) {
			if (!(s = om_tx_get(tx, OM_TXB_DNS_ANSWER_NAME, i, &n)))
				break;
			char t[64];
			om_addr a;
			if (n < sizeof(t)) {
				memcpy(t, s, n);
				t[n] = '\0';
				bool colon = memchr(t, ':', n) != NULL;
				if (may_be_addr(t, n) &&
				    (colon ? om_addr_parse(t, &a) : parse_v4(t, &a)) == 0) {
					if (ips && lookup_addr(mc, db, &a, now, &h) == 0)
						v = stricter(v, report(m, w->user, f, &h,
						                       "dns.answer", t, n, tx));
					continue;
				}
			}
			v = stricter(
			    v, check_name(m, w->user, db, mc, f, tx, "dns.answer", s, n, now));
		}
		return v;
	}
	if (om_guard_ap_is(ap, "http") || om_guard_ap_is(ap, "http2")) {
		if (tx->dir != OM_DIR_TOSERVER && (tx->progress & OM_TX_RESPONSE))
			return v; /* the request was seen already */
		uint32_t hl = 0, ul = 0;
		const uint8_t *host = om_tx_get(tx, OM_TXB_HTTP_HOST, 0, &hl);
		const uint8_t *uri = om_tx_get(tx, OM_TXB_HTTP_URI_RAW, 0, &ul);
		if (!uri)
			uri = om_tx_get(tx, OM_TXB_HTTP_URI, 0, &ul);
		/* a proxy request's absolute URI carries its own host */
		bool urls = om_intel_db_has(db, OM_INTEL_URL);
		bool absolute = uri && ul > 7 &&
		                (!strncasecmp((const char *)uri, "http://", 7) ||
		                 !strncasecmp((const char *)uri, "https://", 8));
		if (absolute && urls &&
		    om_intel_db_lookup(db, OM_INTEL_URL, (const char *)uri, ul, now, &h) == 0)
			return report(m, w->user, f, &h, "http.url", (const char *)uri, ul, tx);
		if (host && hl && !absolute && urls &&
		    om_intel_db_lookup_url(db, (const char *)host, hl, (const char *)uri, ul, now,
		                           &h) == 0) {
			char val[OM_INTEL_VALUE_MAX];
			int k = snprintf(val, sizeof(val), "%.*s%.*s", (int)hl, (const char *)host,
			                 (int)ul, uri ? (const char *)uri : "");
			size_t kl = k < 0                      ? 0
			            : (size_t)k >= sizeof(val) ? sizeof(val) - 1
			                                       : (size_t)k;
			return report(m, w->user, f, &h, "http.url", val, kl, tx);
		}
		return check_name(m, w->user, db, mc, f, tx, "http.host", host, hl, now);
	}
	if (om_guard_ap_is(ap, "tls") || om_guard_ap_is(ap, "quic")) {
		if (tx->dir == OM_DIR_TOSERVER) {
			s = om_tx_get(tx, OM_TXB_TLS_SNI, 0, &n);
			v = stricter(v,
			             check_name(m, w->user, db, mc, f, tx, "tls.sni", s, n, now));
			/* the fingerprints are computed when asked for: only
			 * when the database has some */
			if (om_intel_db_has(db, OM_INTEL_JA3)) {
				s = om_tx_get(tx, OM_TXB_JA3_HASH, 0, &n);
				v = stricter(v, check_hex(m, w->user, db, f, tx, "ja3.hash",
				                          OM_INTEL_JA3, s, n, now));
			}
			if (om_intel_db_has(db, OM_INTEL_JA4)) {
				s = om_tx_get(tx, OM_TXB_JA4, 0, &n);
				v = stricter(v, check_hex(m, w->user, db, f, tx, "ja4.hash",
				                          OM_INTEL_JA4, s, n, now));
			}
		} else if (om_intel_db_has(db, OM_INTEL_CERT_SHA1)) {
			s = om_tx_get(tx, OM_TXB_TLS_CERT_FINGERPRINT, 0, &n);
			v = stricter(v, check_hex(m, w->user, db, f, tx, "tls.cert_fingerprint",
			                          OM_INTEL_CERT_SHA1, s, n, now));
		}
	}
	return v;
}

static void *obs_worker_new(void *user, unsigned worker)
{
	om_intel_matcher *m = user;
	struct wctx *w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->m = m;
	w->worker = worker;
	w->user = user_of(m, worker);
	return w;
}

static void obs_worker_free(void *wctx, void *user)
{
	(void)user;
	free(wctx);
}

void om_intel_observer(om_proto_observer *o, om_intel_matcher *m)
{
	memset(o, 0, sizeof(*o));
	o->name = "intel";
	o->worker_new = obs_worker_new;
	o->worker_free = obs_worker_free;
	o->on_tx = on_tx;
	o->user = m;
	o->no_http_bodies = true; /* names, addresses and hashes only */
}

/* ---- files: hashes at close ------------------------------------------------ */

static int file_chunk(void *st, const om_file *file, const uint8_t *d, size_t n)
{
	(void)st;
	(void)file;
	(void)d;
	(void)n;
	return 0;
}

static void file_free(void *st, void *user)
{
	(void)st;
	(void)user;
}

/* The subscriber's callbacks do not get the subscriber's user at close, so
 * the matcher is reached from open's user: open returns it as the file's
 * state (one matcher per subscriber; nothing per file to free). */
static void *file_open_m(const om_file *file, void *user)
{
	(void)file;
	return user;
}

static enum om_file_verdict file_close_m(void *st, const om_file *file, om_file_ticket t)
{
	om_intel_matcher *m = st;
	const om_file_info *fi = om_file_get_info(file);
	om_flow *f = om_file_flow(file);
	if (!fi || !f)
		return OM_FILE_ACCEPT;
	const om_intel_db *db = om_intel_live_get(m->live, t.worker);
	if (!db)
		return OM_FILE_ACCEPT;
	int64_t now = now_of(m, f);
	static const struct {
		enum om_intel_type t;
		const char *field;
		size_t len;
	} hs[] = {{OM_INTEL_SHA256, "fileinfo.sha256", 32},
	          {OM_INTEL_SHA1, "fileinfo.sha1", 20},
	          {OM_INTEL_MD5, "fileinfo.md5", 16}};
	const uint8_t *vals[] = {fi->sha256, fi->sha1, fi->md5};
	for (size_t i = 0; i < OM_ARRAY_SIZE(hs); i++) {
		om_intel_hit h;
		if (!vals[i] || !om_intel_db_has(db, hs[i].t) ||
		    om_intel_db_lookup_raw(db, hs[i].t, vals[i], hs[i].len, now, &h) != 0)
			continue;
		char hex[65];
		for (size_t k = 0; k < hs[i].len; k++)
			snprintf(hex + 2 * k, 3, "%02x", vals[i][k]);
		enum om_tx_verdict v =
		    report(m, user_of(m, t.worker), f, &h, hs[i].field, hex, 2 * hs[i].len, NULL);
		if (v == OM_TX_VERDICT_ACCEPT)
			continue;
		return v >= OM_TX_VERDICT_DROP ? OM_FILE_DROP : OM_FILE_ALERT;
	}
	return OM_FILE_ACCEPT;
}

void om_intel_file_subscriber(om_file_subscriber *s, om_intel_matcher *m)
{
	memset(s, 0, sizeof(*s));
	s->name = "intel";
	s->open = file_open_m;
	s->chunk = file_chunk;
	s->close = file_close_m;
	s->free = file_free;
	s->user = m;
	s->no_http_bodies = true; /* the hashes at close only */
}
