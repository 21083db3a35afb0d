/* Unit tests for the web filter's policy and its observer
 * (src/guard/webfilter_policy.c): precedence (allow list over block list
 * over blocked categories, URL rules over names) and the verdicts given to
 * HTTP, TLS and DNS transactions built here the way proto shows them. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "guard/fpcache.h"
#include "guard/guard.h"

static om_wf_db *db;
static char dbpath[64];

static int setup(void **state)
{
	(void)state;
	om_wf_builder *b = NULL;
	assert_int_equal(om_wf_builder_new(&b), 0);
	assert_int_equal(om_wf_builder_add(b, "dropbox.com", 11, "online_storage"), 0);
	assert_int_equal(om_wf_builder_add(b, "example.com", 11, "sns"), 0);
	assert_int_equal(om_wf_builder_add(b, "dns.google", 10, "encrypted_dns"), 0);
	assert_int_equal(om_wf_builder_add(b, "files.example/warez", 19, "malware"), 0);
	snprintf(dbpath, sizeof(dbpath), "/tmp/wfpol-%ld.db", (long)getpid());
	assert_int_equal(om_wf_builder_write(b, dbpath), 0);
	om_wf_builder_free(b);
	assert_int_equal(om_wf_db_open(dbpath, &db), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	om_wf_db_close(db);
	unlink(dbpath);
	return 0;
}

static om_wf_decision dec(const om_wf_policy *p, const char *host, const char *path)
{
	om_wf_decision d;
	assert_int_equal(om_wf_decide(db, p, host, strlen(host), path, path ? strlen(path) : 0, &d),
	                 0);
	return d;
}

static void test_precedence(void **state)
{
	(void)state;
	om_wf_policy *p = NULL;
	assert_int_equal(om_wf_policy_new(&p), 0);
	assert_int_equal(om_wf_policy_block_category(p, db, "online_storage"), 0);
	assert_int_equal(om_wf_policy_block_category(p, db, "no_such"), -ENOENT);
	assert_int_equal(om_wf_policy_allow(p, "files.dropbox.com"), 0);
	assert_int_equal(om_wf_policy_block(p, "bad.example"), 0);
	assert_int_equal(om_wf_policy_block(p, "example.com"), 0);
	assert_int_equal(om_wf_policy_allow(p, "example.com/ok"), 0);

	om_wf_decision d = dec(p, "www.dropbox.com", NULL);
	assert_int_equal(d.verdict, OM_WF_BLOCKED);
	assert_int_equal(d.source, OM_WF_SRC_CATEGORY);
	assert_string_equal(d.rule, "dropbox.com");
	/* the allow list wins over the blocked category; the category is still told */
	d = dec(p, "a.files.dropbox.com", "/x");
	assert_int_equal(d.verdict, OM_WF_ALLOWED);
	assert_int_equal(d.source, OM_WF_SRC_ALLOW_LIST);
	assert_string_equal(d.rule, "files.dropbox.com");
	assert_int_equal(d.cats, 1ULL << om_wf_db_category_index(db, "online_storage"));
	/* block list over a category that is not blocked; an allowed URL over it */
	d = dec(p, "www.example.com", "/no");
	assert_int_equal(d.verdict, OM_WF_BLOCKED);
	assert_int_equal(d.source, OM_WF_SRC_BLOCK_LIST);
	d = dec(p, "www.example.com", "/ok/page");
	assert_int_equal(d.verdict, OM_WF_ALLOWED);
	assert_string_equal(d.rule, "example.com/ok");
	d = dec(p, "x.bad.example", NULL);
	assert_int_equal(d.verdict, OM_WF_BLOCKED);
	assert_int_equal(d.cats, 0);
	d = dec(p, "dns.google", NULL);
	assert_int_equal(d.verdict, OM_WF_LISTED);
	d = dec(p, "unlisted.example.net", NULL);
	assert_int_equal(d.verdict, OM_WF_UNLISTED);
	/* without a policy nothing is blocked */
	d = dec(NULL, "www.dropbox.com", NULL);
	assert_int_equal(d.verdict, OM_WF_LISTED);
	om_wf_decision bad;
	assert_int_equal(om_wf_decide(db, p, "a b", 3, NULL, 0, &bad), -EINVAL);
	om_wf_policy_free(p);
}

/* A transaction the way a parser shows it: a few named buffers. */
struct fake_tx {
	om_proto_tx tx;
	const char *bufs[OM_TXB_COUNT][4];
};

static const uint8_t *fake_buffer(const om_proto_tx *tx, enum om_tx_buf b, uint32_t idx,
                                  uint32_t *ret_len)
{
	const struct fake_tx *t = (const struct fake_tx *)tx;
	if (idx >= 4 || !t->bufs[b][idx])
		return NULL;
	*ret_len = (uint32_t)strlen(t->bufs[b][idx]);
	return (const uint8_t *)t->bufs[b][idx];
}

static struct fake_tx mk_tx(const char *proto, int dir)
{
	struct fake_tx t;
	memset(&t, 0, sizeof(t));
	t.tx.app_proto = proto;
	t.tx.dir = dir;
	t.tx.progress = OM_TX_REQUEST;
	t.tx.buffer = fake_buffer;
	return t;
}

struct seen {
	unsigned n;
	char field[8][16];
	char name[8][64];
	enum om_wf_verdict v[8];
};

static void on_event(void *user, om_flow *f, const om_proto_tx *tx, const om_wf_event *ev)
{
	(void)f;
	(void)tx;
	struct seen *s = user;
	if (s->n >= 8)
		return;
	snprintf(s->field[s->n], 16, "%s", ev->field);
	snprintf(s->name[s->n], 64, "%.*s", (int)ev->name_len, ev->name);
	s->v[s->n++] = ev->d->verdict;
}

static void test_observer(void **state)
{
	(void)state;
	om_wf_policy *p = NULL;
	assert_int_equal(om_wf_policy_new(&p), 0);
	assert_int_equal(om_wf_policy_block_category(p, db, "online_storage"), 0);
	struct seen s;
	memset(&s, 0, sizeof(s));
	om_wf_filter filt = {.db = db, .policy = p, .cb = on_event, .user = &s};
	om_proto_observer o;
	om_wf_observer(&o, &filt);
	assert_string_equal(o.name, "webfilter");
	void *w = o.worker_new(o.user, 0);

	struct fake_tx t = mk_tx("http", OM_DIR_TOSERVER);
	t.bufs[OM_TXB_HTTP_HOST][0] = "www.dropbox.com";
	t.bufs[OM_TXB_HTTP_URI][0] = "/upload";
	assert_int_equal(o.on_tx(w, NULL, &t.tx), OM_TX_VERDICT_DROP);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.field[0], "http.host");
	assert_int_equal(s.v[0], OM_WF_BLOCKED);
	/* the response of the same transaction is not decided again */
	t.tx.dir = OM_DIR_TOCLIENT;
	assert_int_equal(o.on_tx(w, NULL, &t.tx), OM_TX_VERDICT_ACCEPT);
	assert_int_equal(s.n, 1);

	t = mk_tx("tls", OM_DIR_TOSERVER);
	t.bufs[OM_TXB_TLS_SNI][0] = "example.com";
	assert_int_equal(o.on_tx(w, NULL, &t.tx), OM_TX_VERDICT_ACCEPT);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.field[1], "tls.sni");
	assert_int_equal(s.v[1], OM_WF_LISTED);
	/* a listed category reported as harmful is an alert */
	filt.alert_cats = 1ULL << om_wf_db_category_index(db, "sns");
	t.tx.app_proto = "quic";
	assert_int_equal(o.on_tx(w, NULL, &t.tx), OM_TX_VERDICT_ALERT);
	assert_int_equal(s.n, 3);

	t = mk_tx("dns", OM_DIR_TOSERVER);
	t.bufs[OM_TXB_DNS_QUERY][0] = "unlisted.example.org";
	t.bufs[OM_TXB_DNS_QUERY][1] = "dl.dropbox.com";
	assert_int_equal(o.on_tx(w, NULL, &t.tx), OM_TX_VERDICT_DROP);
	assert_int_equal(s.n, 4);
	assert_string_equal(s.field[3], "dns.query");
	assert_string_equal(s.name[3], "dl.dropbox.com");
	/* asked again (the unlisted name is remembered as such by the worker):
	 * the same decisions, a listed name is decided every time */
	assert_int_equal(o.on_tx(w, NULL, &t.tx), OM_TX_VERDICT_DROP);
	assert_int_equal(s.n, 5);
	assert_string_equal(s.name[4], "dl.dropbox.com");
	t.bufs[OM_TXB_DNS_QUERY][1] = NULL;
	assert_int_equal(o.on_tx(w, NULL, &t.tx), OM_TX_VERDICT_ACCEPT);
	assert_int_equal(s.n, 5);
	s.n = 4;

	/* no host, another protocol: nothing */
	t = mk_tx("http", OM_DIR_TOSERVER);
	assert_int_equal(o.on_tx(w, NULL, &t.tx), OM_TX_VERDICT_ACCEPT);
	t = mk_tx("smtp", OM_DIR_TOSERVER);
	assert_int_equal(o.on_tx(w, NULL, &t.tx), OM_TX_VERDICT_ACCEPT);
	assert_int_equal(s.n, 4);
	o.worker_free(w, o.user);
	om_wf_policy_free(p);
}

/* The worker remembers names without any rule, and uses that for requests
 * with a path too: a host with URL rules only is not remembered, so its
 * other paths are still decided. */
static void test_observer_paths(void **state)
{
	(void)state;
	struct seen s;
	memset(&s, 0, sizeof(s));
	om_wf_filter filt = {.db = db, .cb = on_event, .user = &s};
	om_proto_observer o;
	om_wf_observer(&o, &filt);
	void *w = o.worker_new(o.user, 0);
	struct fake_tx t = mk_tx("http", OM_DIR_TOSERVER);
	t.bufs[OM_TXB_HTTP_HOST][0] = "a.files.example";
	t.bufs[OM_TXB_HTTP_URI][0] = "/other/page";
	assert_int_equal(o.on_tx(w, NULL, &t.tx), OM_TX_VERDICT_ACCEPT);
	assert_int_equal(s.n, 0);
	t.bufs[OM_TXB_HTTP_URI][0] = "/warez/x.zip";
	assert_int_equal(o.on_tx(w, NULL, &t.tx), OM_TX_VERDICT_ACCEPT);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.v[0], OM_WF_LISTED);
	/* the same name asked as a DNS query (no path) and again over HTTP */
	t = mk_tx("dns", OM_DIR_TOSERVER);
	t.bufs[OM_TXB_DNS_QUERY][0] = "a.files.example";
	assert_int_equal(o.on_tx(w, NULL, &t.tx), OM_TX_VERDICT_ACCEPT);
	t = mk_tx("http", OM_DIR_TOSERVER);
	t.bufs[OM_TXB_HTTP_HOST][0] = "a.files.example";
	t.bufs[OM_TXB_HTTP_URI][0] = "/warez/y.zip";
	assert_int_equal(o.on_tx(w, NULL, &t.tx), OM_TX_VERDICT_ACCEPT);
	assert_int_equal(s.n, 2);
	/* a name with no rule: nothing for any of its paths */
	t.bufs[OM_TXB_HTTP_HOST][0] = "www.unlisted.example";
	t.bufs[OM_TXB_HTTP_URI][0] = "/a";
	assert_int_equal(o.on_tx(w, NULL, &t.tx), OM_TX_VERDICT_ACCEPT);
	t.bufs[OM_TXB_HTTP_URI][0] = "/warez/b";
	assert_int_equal(o.on_tx(w, NULL, &t.tx), OM_TX_VERDICT_ACCEPT);
	assert_int_equal(s.n, 2);
	o.worker_free(w, o.user);
}

/* A ClientHello with ECH or ESNI: the built-in category, which a policy
 * may block although the database has no such category. */
static void test_observer_ech(void **state)
{
	(void)state;
	om_wf_policy *p = NULL;
	assert_int_equal(om_wf_policy_new(&p), 0);
	assert_int_equal(om_wf_policy_block_category(p, db, "nosuch"), -ENOENT);
	struct seen s;
	memset(&s, 0, sizeof(s));
	om_wf_filter filt = {.db = db, .policy = p, .cb = on_event, .user = &s};
	om_proto_observer o;
	om_wf_observer(&o, &filt);
	void *w = o.worker_new(o.user, 0);
	struct fake_tx t = mk_tx("tls", OM_DIR_TOSERVER);
	t.bufs[OM_TXB_TLS_SNI][0] = "public.unlisted.example";
	t.bufs[OM_TXB_TLS_ECH][0] = "ech";
	/* not blocked: logged */
	assert_int_equal(o.on_tx(w, NULL, &t.tx), OM_TX_VERDICT_ACCEPT);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.field[0], "tls.ech");
	assert_string_equal(s.name[0], "public.unlisted.example");
	assert_int_equal(s.v[0], OM_WF_LISTED);
	assert_int_equal(om_wf_policy_block_category(p, db, OM_WF_CAT_ECH), 0);
	assert_true(om_wf_policy_blocks(p, OM_WF_CAT_ECH));
	t.tx.app_proto = "quic";
	assert_int_equal(o.on_tx(w, NULL, &t.tx), OM_TX_VERDICT_DROP);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.v[1], OM_WF_BLOCKED);
	/* the allow list on the outer name wins */
	assert_int_equal(om_wf_policy_allow(p, "unlisted.example"), 0);
	assert_int_equal(o.on_tx(w, NULL, &t.tx), OM_TX_VERDICT_ACCEPT);
	assert_int_equal(s.v[s.n - 1], OM_WF_ALLOWED);
	/* no ECH: no decision on it */
	t = mk_tx("tls", OM_DIR_TOSERVER);
	t.bufs[OM_TXB_TLS_SNI][0] = "other.example.org";
	unsigned n = s.n;
	assert_int_equal(o.on_tx(w, NULL, &t.tx), OM_TX_VERDICT_ACCEPT);
	assert_int_equal(s.n, n);
	om_wf_decision d;
	assert_int_equal(om_wf_decide_ech(p, NULL, 0, "esni", &d), 0);
	assert_true(d.ech);
	assert_int_equal(d.verdict, OM_WF_BLOCKED);
	assert_string_equal(d.rule, "esni");
	o.worker_free(w, o.user);
	om_wf_policy_free(p);
}

/* The engine's path (om_wf_on_tx_cached with a worker's cache): a name
 * without rules is answered from the cache the second time; a change of
 * the policy (a block list that names it) or another filter (a reload: its
 * own database) empties the cache, so the name is decided again. */
static void test_cache(void **state)
{
	(void)state;
	om_wf_policy *p = NULL;
	assert_int_equal(om_wf_policy_new(&p), 0);
	struct seen s;
	memset(&s, 0, sizeof(s));
	om_wf_filter filt = {.db = db, .policy = p, .cb = on_event, .user = &s};
	om_wf_cache *c = NULL;
	assert_int_equal(om_wf_cache_new(&c), 0);
	uint64_t hits, notes;
	struct fake_tx t = mk_tx("dns", OM_DIR_TOSERVER);
	t.bufs[OM_TXB_DNS_QUERY][0] = "www.unlisted.example";
	assert_int_equal(om_wf_on_tx_cached(&filt, c, &s, NULL, &t.tx), OM_TX_VERDICT_ACCEPT);
	om_wf_cache_counts(c, &hits, &notes);
	assert_int_equal(hits, 0);
	assert_int_equal(notes, 1);
	assert_int_equal(om_wf_on_tx_cached(&filt, c, &s, NULL, &t.tx), OM_TX_VERDICT_ACCEPT);
	om_wf_cache_counts(c, &hits, &notes);
	assert_int_equal(hits, 1);
	assert_int_equal(notes, 1);
	/* a listed name is decided (and reported) every time */
	t.bufs[OM_TXB_DNS_QUERY][0] = "www.example.com";
	assert_int_equal(om_wf_on_tx_cached(&filt, c, &s, NULL, &t.tx), OM_TX_VERDICT_ACCEPT);
	assert_int_equal(om_wf_on_tx_cached(&filt, c, &s, NULL, &t.tx), OM_TX_VERDICT_ACCEPT);
	assert_int_equal(s.n, 2);
	om_wf_cache_counts(c, &hits, &notes);
	assert_int_equal(hits, 1);
	/* the policy now blocks the remembered name: decided again, blocked */
	assert_int_equal(om_wf_policy_block(p, "unlisted.example"), 0);
	t.bufs[OM_TXB_DNS_QUERY][0] = "www.unlisted.example";
	assert_int_equal(om_wf_on_tx_cached(&filt, c, &s, NULL, &t.tx), OM_TX_VERDICT_DROP);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.v[2], OM_WF_BLOCKED);
	om_wf_cache_counts(c, &hits, &notes);
	assert_int_equal(hits, 1);
	/* another database (a reload's) under the same filter: emptied too */
	t.bufs[OM_TXB_DNS_QUERY][0] = "b.unlisted.example.net";
	assert_int_equal(om_wf_on_tx_cached(&filt, c, &s, NULL, &t.tx), OM_TX_VERDICT_ACCEPT);
	assert_int_equal(om_wf_on_tx_cached(&filt, c, &s, NULL, &t.tx), OM_TX_VERDICT_ACCEPT);
	om_wf_cache_counts(c, &hits, &notes);
	assert_int_equal(hits, 2);
	om_wf_builder *b = NULL;
	assert_int_equal(om_wf_builder_new(&b), 0);
	assert_int_equal(om_wf_builder_add(b, "unlisted.example.net", 20, "malware"), 0);
	char path2[80];
	snprintf(path2, sizeof(path2), "%s.2", dbpath);
	assert_int_equal(om_wf_builder_write(b, path2), 0);
	om_wf_builder_free(b);
	om_wf_db *db2 = NULL;
	assert_int_equal(om_wf_db_open(path2, &db2), 0);
	assert_true(om_wf_db_serial(db2) != om_wf_db_serial(db));
	filt.db = db2;
	assert_int_equal(om_wf_on_tx_cached(&filt, c, &s, NULL, &t.tx), OM_TX_VERDICT_ACCEPT);
	assert_int_equal(s.n, 4);
	assert_string_equal(s.name[3], "b.unlisted.example.net");
	assert_int_equal(s.v[3], OM_WF_LISTED);
	om_wf_cache_counts(c, &hits, &notes);
	assert_int_equal(hits, 2);
	/* without a cache: the same decisions */
	assert_int_equal(om_wf_on_tx_cached(&filt, NULL, &s, NULL, &t.tx), OM_TX_VERDICT_ACCEPT);
	assert_int_equal(s.n, 5);
	om_wf_db_close(db2);
	unlink(path2);
	om_wf_cache_free(c);
	om_wf_policy_free(p);
}

/* The guards' fingerprint sets (fpcache.h): four fingerprints of one set
 * are all kept (a direct-mapped table kept the last one), a fifth drops
 * the oldest, other sets are left alone. */
static void test_fpcache(void **state)
{
	(void)state;
	enum { SETS = 8 };
	uint64_t v[SETS * OM_FPC_WAYS];
	memset(v, 0, sizeof(v));
	/* same set (low bits 3), different fingerprints */
	const uint64_t fp[5] = {0x103, 0x203, 0x303, 0x403, 0x503};
	for (int i = 0; i < 4; i++)
		om_fpc_add(v, SETS, fp[i]);
	for (int i = 0; i < 4; i++)
		assert_true(om_fpc_has(v, SETS, fp[i]));
	assert_false(om_fpc_has(v, SETS, 0x603));
	assert_false(om_fpc_has(v, SETS, 0x104)); /* another set */
	om_fpc_add(v, SETS, fp[4]);
	assert_false(om_fpc_has(v, SETS, fp[0]));
	for (int i = 1; i < 5; i++)
		assert_true(om_fpc_has(v, SETS, fp[i]));
	om_fpc_add(v, SETS, 0x105);
	assert_true(om_fpc_has(v, SETS, 0x105));
	assert_true(om_fpc_has(v, SETS, fp[1]));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_precedence),
	    cmocka_unit_test(test_observer),
	    cmocka_unit_test(test_observer_paths),
	    cmocka_unit_test(test_observer_ech),
	    cmocka_unit_test(test_cache),
	    cmocka_unit_test(test_fpcache),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
