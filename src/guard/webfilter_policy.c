/* webfilter_policy.c: a tenant's web filter policy and the decision on one
 * request, and the web filter as a proto observer (HTTP host and URI,
 * TLS/QUIC SNI, DNS query names). The allow and block lists are small
 * category builders of their own, so they match exactly like the
 * database: suffixes at label boundaries, URL prefixes at '/' boundaries. */
#include "guard/fpcache.h"
#include "guard/guard.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct om_wf_policy {
	om_wf_builder *allow, *block;
	char cats[OM_WF_CAT_MAX][OM_WF_CAT_NAME_MAX]; /* blocked category names */
	uint32_t ncats;
	uint64_t serial; /* om_wf_serial_next, again at every change */
};

int om_wf_policy_new(om_wf_policy **ret)
{
	om_wf_policy *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	if (om_wf_builder_new(&p->allow) < 0 || om_wf_builder_new(&p->block) < 0) {
		om_wf_policy_free(p);
		return -ENOMEM;
	}
	p->serial = om_wf_serial_next();
	*ret = p;
	return 0;
}

om_wf_policy *om_wf_policy_free(om_wf_policy *p)
{
	if (p) {
		om_wf_builder_free(p->allow);
		om_wf_builder_free(p->block);
		free(p);
	}
	return NULL;
}

int om_wf_policy_block_category(om_wf_policy *p, const om_wf_db *db, const char *name)
{
	size_t n = strlen(name);
	if (!n || n >= OM_WF_CAT_NAME_MAX)
		return -EINVAL;
	if (db && om_wf_db_category_index(db, name) < 0 && strcmp(name, OM_WF_CAT_ECH) != 0)
		return -ENOENT;
	for (uint32_t i = 0; i < p->ncats; i++)
		if (!strcmp(p->cats[i], name))
			return 0;
	if (p->ncats >= OM_WF_CAT_MAX)
		return -ENOSPC;
	memcpy(p->cats[p->ncats++], name, n + 1);
	p->serial = om_wf_serial_next();
	return 0;
}

bool om_wf_policy_blocks(const om_wf_policy *pol, const char *name)
{
	for (uint32_t i = 0; pol && i < pol->ncats; i++)
		if (!strcmp(pol->cats[i], name))
			return true;
	return false;
}

int om_wf_policy_allow(om_wf_policy *p, const char *rule)
{
	int r = om_wf_builder_add(p->allow, rule, strlen(rule), "allow");
	p->serial = om_wf_serial_next();
	return r > 0 ? 0 : r;
}

int om_wf_policy_block(om_wf_policy *p, const char *rule)
{
	int r = om_wf_builder_add(p->block, rule, strlen(rule), "block");
	p->serial = om_wf_serial_next();
	return r > 0 ? 0 : r;
}

const char *om_wf_verdict_name(enum om_wf_verdict v)
{
	switch (v) {
	case OM_WF_LISTED: return "listed";
	case OM_WF_ALLOWED: return "allowed";
	case OM_WF_BLOCKED: return "blocked";
	case OM_WF_UNLISTED: break;
	}
	return "unlisted";
}

static void set_rule(om_wf_decision *d, const om_wf_match *m)
{
	size_t n = m->rule_len < sizeof(d->rule) ? m->rule_len : sizeof(d->rule) - 1;
	memcpy(d->rule, m->rule, n);
	d->rule[n] = '\0';
}

/* The database's bits of the policy's blocked categories (names, because
 * a database's indexes change when it is rebuilt). */
static uint64_t blocked_bits(const om_wf_db *db, const om_wf_policy *pol)
{
	uint64_t bits = 0;
	for (uint32_t i = 0; pol && i < pol->ncats; i++) {
		int k = om_wf_db_category_index(db, pol->cats[i]);
		if (k >= 0)
			bits |= 1ULL << k;
	}
	return bits;
}

int om_wf_decide(const om_wf_db *db, const om_wf_policy *pol, const char *host, size_t hlen,
                 const char *path, size_t plen, om_wf_decision *ret)
{
	om_wf_match m, cm;
	bool c_db = true, c_allow = true, c_block = true;
	/* the database's lookup checks the name too (-EINVAL: not one) */
	int r = db ? om_wf_db_lookup_ex(db, host, hlen, path, plen, &cm, &c_db) : 0;
	if (r == -EINVAL)
		return -EINVAL;
	if (!db) {
		char norm[OM_WF_KEY_MAX];
		if (om_wf_norm_host(host, hlen, norm, sizeof(norm)) < 0)
			return -EINVAL;
	}
	om_wf_decision d;
	memset(&d, 0, sizeof(d));
	bool listed = db && r == 0;
	if (listed)
		d.cats = cm.cats;
	if (pol && om_wf_builder_lookup_ex(pol->allow, host, hlen, path, plen, &m, &c_allow) == 0) {
		d.verdict = OM_WF_ALLOWED;
		d.source = OM_WF_SRC_ALLOW_LIST;
		set_rule(&d, &m);
	} else if (pol &&
	           om_wf_builder_lookup_ex(pol->block, host, hlen, path, plen, &m, &c_block) == 0) {
		d.verdict = OM_WF_BLOCKED;
		d.source = OM_WF_SRC_BLOCK_LIST;
		set_rule(&d, &m);
	} else if (listed) {
		d.verdict = (cm.cats & blocked_bits(db, pol)) ? OM_WF_BLOCKED : OM_WF_LISTED;
		d.source = OM_WF_SRC_CATEGORY;
		set_rule(&d, &cm);
	}
	d.host_unlisted = d.verdict == OM_WF_UNLISTED && c_db && c_allow && c_block;
	*ret = d;
	return 0;
}

int om_wf_decide_ech(const om_wf_policy *pol, const char *host, size_t hlen, const char *kind,
                     om_wf_decision *ret)
{
	om_wf_decision d;
	memset(&d, 0, sizeof(d));
	d.ech = true;
	d.source = OM_WF_SRC_CATEGORY;
	om_wf_match m;
	if (pol && host && hlen && om_wf_builder_lookup(pol->allow, host, hlen, NULL, 0, &m) == 0) {
		d.verdict = OM_WF_ALLOWED;
		d.source = OM_WF_SRC_ALLOW_LIST;
		set_rule(&d, &m);
	} else {
		d.verdict = om_wf_policy_blocks(pol, OM_WF_CAT_ECH) ? OM_WF_BLOCKED : OM_WF_LISTED;
		snprintf(d.rule, sizeof(d.rule), "%s", kind);
	}
	*ret = d;
	return 0;
}

int om_wf_filter_setup(om_wf_filter *filt, const char *db, const char *block, const char *allow,
                       char *err, size_t errlen)
{
	memset(filt, 0, sizeof(*filt));
	int e = om_wf_db_open(db, &filt->own_db);
	if (e < 0) {
		snprintf(err, errlen,
		         om_tr(e == -EINVAL ? "webfilter.err.db_bad" : "webfilter.err.db_open"), db,
		         strerror(-e));
		return e;
	}
	if ((e = om_wf_policy_new(&filt->own_policy)) < 0) {
		snprintf(err, errlen, "%s", om_tr("webfilter.err.memory"));
		om_wf_filter_cleanup(filt);
		return e;
	}
	for (const char *p = block; p && *p;) {
		const char *c = strchr(p, ',');
		size_t n = c ? (size_t)(c - p) : strlen(p);
		char name[OM_WF_CAT_NAME_MAX];
		if (n >= sizeof(name) || !n ||
		    (memcpy(name, p, n), name[n] = '\0',
		     om_wf_policy_block_category(filt->own_policy, filt->own_db, name) < 0)) {
			snprintf(err, errlen, om_tr("webfilter.err.no_category"), (int)n, p, db);
			om_wf_filter_cleanup(filt);
			return -EINVAL;
		}
		int k = om_wf_db_category_index(filt->own_db, name);
		if (k >= 0)
			filt->alert_cats |= 1ULL << k; /* else the built-in OM_WF_CAT_ECH */
		p = c ? c + 1 : p + n;
	}
	for (const char *p = allow; p && *p;) {
		const char *c = strchr(p, ',');
		size_t n = c ? (size_t)(c - p) : strlen(p);
		char rule[OM_WF_KEY_MAX];
		if (n >= sizeof(rule) || !n ||
		    (memcpy(rule, p, n), rule[n] = '\0',
		     om_wf_policy_allow(filt->own_policy, rule) < 0)) {
			snprintf(err, errlen, om_tr("webfilter.err.bad_rule"), (int)n, p);
			om_wf_filter_cleanup(filt);
			return -EINVAL;
		}
		p = c ? c + 1 : p + n;
	}
	filt->db = filt->own_db;
	filt->policy = filt->own_policy;
	return 0;
}

int om_wf_filter_block_list(om_wf_filter *filt, const char *list, char *err, size_t errlen)
{
	if (!filt->own_policy)
		return -EINVAL;
	for (const char *p = list; p && *p;) {
		const char *c = strchr(p, ',');
		size_t n = c ? (size_t)(c - p) : strlen(p);
		char rule[OM_WF_KEY_MAX];
		if (n >= sizeof(rule) || !n ||
		    (memcpy(rule, p, n), rule[n] = '\0',
		     om_wf_policy_block(filt->own_policy, rule) < 0)) {
			snprintf(err, errlen, om_tr("webfilter.err.bad_rule"), (int)n, p);
			return -EINVAL;
		}
		p = c ? c + 1 : p + n;
	}
	return 0;
}

void om_wf_filter_cleanup(om_wf_filter *filt)
{
	filt->own_db = om_wf_db_close(filt->own_db);
	filt->own_policy = om_wf_policy_free(filt->own_policy);
	filt->db = NULL;
	filt->policy = NULL;
}

/* ---- the observer ------------------------------------------------------- */

/* Per worker: the names no rule matches with any path, as keyed 64-bit
 * fingerprints (fpcache.h: 8192 sets of 4, 256 KiB): an office asks for
 * the same names again and again (the DNS query, then the ClientHello),
 * and a miss in a database of millions is a processor cache miss too. The
 * fingerprints hold for the database and policy of the serials kept;
 * another filter (a reload) empties the cache. */
#define WF_MISS_SETS 8192u
struct om_wf_cache {
	uint64_t db_serial, pol_serial;
	uint64_t hits, notes;
	_Alignas(64) uint64_t v[WF_MISS_SETS * OM_FPC_WAYS];
};

int om_wf_cache_new(om_wf_cache **ret)
{
	om_wf_cache *c = aligned_alloc(64, sizeof(*c));
	if (!c)
		return -ENOMEM;
	memset(c, 0, sizeof(*c));
	*ret = c;
	return 0;
}

om_wf_cache *om_wf_cache_free(om_wf_cache *c)
{
	free(c);
	return NULL;
}

void om_wf_cache_counts(const om_wf_cache *c, uint64_t *ret_hits, uint64_t *ret_notes)
{
	*ret_hits = c ? c->hits : 0;
	*ret_notes = c ? c->notes : 0;
}

/* c, emptied first when it was filled for another database or policy. */
static om_wf_cache *cache_for(om_wf_cache *c, const om_wf_filter *filt)
{
	if (!c)
		return NULL;
	uint64_t ds = om_wf_db_serial(filt->db), ps = filt->policy ? filt->policy->serial : 0;
	if (c->db_serial != ds || c->pol_serial != ps) {
		memset(c->v, 0, sizeof(c->v));
		c->db_serial = ds;
		c->pol_serial = ps;
	}
	return c;
}

static enum om_tx_verdict decide_one(const om_wf_filter *filt, void *cb_user, om_wf_cache *mc,
                                     om_flow *f, const om_proto_tx *tx, const char *field,
                                     const uint8_t *name, uint32_t nlen, const uint8_t *path,
                                     uint32_t plen)
{
	uint64_t fp = 0;
	if (mc) {
		/* a name remembered here has no rule at all, for any path */
		fp = om_guard_name_fp(name, nlen);
		if (om_fpc_has(mc->v, WF_MISS_SETS, fp)) {
			mc->hits++;
			return OM_TX_VERDICT_ACCEPT;
		}
	}
	om_wf_decision d;
	int e = om_wf_decide(filt->db, filt->policy, (const char *)name, nlen, (const char *)path,
	                     plen, &d);
	if (e < 0 || d.verdict == OM_WF_UNLISTED) {
		/* an invalid name stays invalid with any path */
		if (fp && (e < 0 || d.host_unlisted)) {
			om_fpc_add(mc->v, WF_MISS_SETS, fp);
			mc->notes++;
		}
		return OM_TX_VERDICT_ACCEPT;
	}
	if (filt->cb) {
		om_wf_event ev = {&d, field, (const char *)name, nlen, (const char *)path, plen};
		filt->cb(cb_user, f, tx, &ev);
	}
	if (d.verdict == OM_WF_BLOCKED)
		return OM_TX_VERDICT_DROP;
	if (d.verdict == OM_WF_LISTED && (d.cats & filt->alert_cats))
		return OM_TX_VERDICT_ALERT;
	return OM_TX_VERDICT_ACCEPT;
}

static enum om_tx_verdict stricter(enum om_tx_verdict a, enum om_tx_verdict b)
{
	return a > b ? a : b;
}

/* A ClientHello that hides its server name: the built-in category's
 * decision, an event for every one (its outer name as the host). */
static enum om_tx_verdict decide_ech(const om_wf_filter *filt, void *cb_user, om_flow *f,
                                     const om_proto_tx *tx, const uint8_t *name, uint32_t nlen,
                                     const uint8_t *kind, uint32_t klen)
{
	char k[8];
	snprintf(k, sizeof(k), "%.*s", (int)(klen < sizeof(k) ? klen : sizeof(k) - 1),
	         (const char *)kind);
	om_wf_decision d;
	om_wf_decide_ech(filt->policy, (const char *)name, nlen, k, &d);
	if (filt->cb) {
		om_wf_event ev = {&d,   "tls.ech", name ? (const char *)name : "", name ? nlen : 0,
		                  NULL, 0};
		filt->cb(cb_user, f, tx, &ev);
	}
	return d.verdict == OM_WF_BLOCKED ? OM_TX_VERDICT_DROP : OM_TX_VERDICT_ACCEPT;
}

#define WF_DNS_QUERIES_MAX 16 /* questions looked at per DNS message */

static enum om_tx_verdict wf_on_tx(const om_wf_filter *filt, void *cb_user, om_wf_cache *mc,
                                   om_flow *f, const om_proto_tx *tx)
{
	/* requests only: the name is the client's */
	if (tx->dir != OM_DIR_TOSERVER || !tx->app_proto)
		return OM_TX_VERDICT_ACCEPT;
	mc = cache_for(mc, filt);
	uint32_t n = 0, pn = 0;
	const uint8_t *v, *p;
	/* the first letter before the comparison: most transactions are DNS */
	const char *ap = tx->app_proto;
	if (om_guard_ap_is(ap, "http")) {
		if (!(v = om_tx_get(tx, OM_TXB_HTTP_HOST, 0, &n)))
			return OM_TX_VERDICT_ACCEPT;
		p = om_tx_get(tx, OM_TXB_HTTP_URI, 0, &pn);
		return decide_one(filt, cb_user, mc, f, tx, "http.host", v, n, p, p ? pn : 0);
	}
	if (om_guard_ap_is(ap, "tls") || om_guard_ap_is(ap, "quic")) {
		enum om_tx_verdict r = OM_TX_VERDICT_ACCEPT;
		if ((v = om_tx_get(tx, OM_TXB_TLS_SNI, 0, &n)))
			r = decide_one(filt, cb_user, mc, f, tx, "tls.sni", v, n, NULL, 0);
		else
			n = 0;
		if ((p = om_tx_get(tx, OM_TXB_TLS_ECH, 0, &pn)))
			r = stricter(r, decide_ech(filt, cb_user, f, tx, v, n, p, pn));
		return r;
	}
	if (om_guard_ap_is(ap, "dns")) {
		enum om_tx_verdict r = OM_TX_VERDICT_ACCEPT;
		for (uint32_t i = 0; i < WF_DNS_QUERIES_MAX; i++) {
			if (!(v = om_tx_get(tx, OM_TXB_DNS_QUERY, i, &n)))
				break;
			r = stricter(
			    r, decide_one(filt, cb_user, mc, f, tx, "dns.query", v, n, NULL, 0));
		}
		return r;
	}
	return OM_TX_VERDICT_ACCEPT;
}

enum om_tx_verdict om_wf_on_tx(const om_wf_filter *filt, void *cb_user, om_flow *f,
                               const om_proto_tx *tx)
{
	return wf_on_tx(filt, cb_user, NULL, f, tx);
}

enum om_tx_verdict om_wf_on_tx_cached(const om_wf_filter *filt, om_wf_cache *c, void *cb_user,
                                      om_flow *f, const om_proto_tx *tx)
{
	return wf_on_tx(filt, cb_user, c, f, tx);
}

struct wf_worker {
	const om_wf_filter *filt;
	void *cb_user;
	om_wf_cache miss;
};

static enum om_tx_verdict observer_on_tx(void *wctx, om_flow *f, const om_proto_tx *tx)
{
	struct wf_worker *w = wctx;
	return wf_on_tx(w->filt, w->cb_user, &w->miss, f, tx);
}

static void *observer_worker_new(void *user, unsigned worker)
{
	const om_wf_filter *filt = user;
	struct wf_worker *w = aligned_alloc(64, sizeof(*w));
	if (!w)
		return NULL;
	memset(w, 0, sizeof(*w));
	w->filt = filt;
	w->cb_user = filt->worker_user ? filt->worker_user(filt->user, worker) : filt->user;
	return w;
}

static void observer_worker_free(void *wctx, void *user)
{
	(void)user;
	free(wctx);
}

void om_wf_observer(om_proto_observer *o, om_wf_filter *filt)
{
	memset(o, 0, sizeof(*o));
	o->name = "webfilter";
	o->worker_new = observer_worker_new;
	o->worker_free = observer_worker_free;
	o->on_tx = observer_on_tx;
	o->user = filt;
	o->no_http_bodies = true; /* names, URIs and ECH only */
}
