/* store: the console's tables (accounts, sessions with expiry, audit log,
 * tenants), on a real SQLite file, and on PostgreSQL under tests/store/with-pg. */
#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../store/backend.h"
#include "store/store.h"

/* an SQLite file, or a PostgreSQL database under tests/store/with-pg */
static struct tmpdb tdb;
static const char *path = tdb.path;

static int setup(void **state)
{
	om_store *s;
	char err[256];

	tmpdb_make(&tdb);
	if (om_store_open(path, &s, err, sizeof(err)) < 0)
		return -1;
	*state = s;
	return 0;
}

static int teardown(void **state)
{
	om_store_close(*state);
	tmpdb_remove(&tdb);
	return 0;
}

static void test_accounts(void **state)
{
	om_store *s = *state;
	om_store_account a = {
	    .name = "ann", .role = OM_ROLE_COMPANY_VIEWER, .tenant = "acme", .hash = "h1"};
	om_store_account got, list[4];
	size_t n;

	assert_int_equal(om_store_account_add(s, &a), 0);
	assert_int_equal(om_store_account_add(s, &a), -EEXIST);
	om_store_account bad = a;
	bad.tenant[0] = '\0';
	snprintf(bad.name, sizeof(bad.name), "x");
	assert_int_equal(om_store_account_add(s, &bad), -EINVAL); /* company role, no tenant */
	om_store_account p = {
	    .name = "pat", .role = OM_ROLE_PROVIDER_ADMIN, .tenant = "acme", .hash = "h2"};
	assert_int_equal(om_store_account_add(s, &p), 0);
	assert_int_equal(om_store_account_get(s, "pat", &got), 0);
	assert_string_equal(got.tenant, ""); /* provider roles belong to no tenant */
	assert_int_equal(om_store_account_get(s, "ann", &got), 0);
	assert_string_equal(got.tenant, "acme");
	assert_int_equal(got.role, OM_ROLE_COMPANY_VIEWER);
	assert_int_equal(om_store_account_set_hash(s, "ann", "h3"), 0);
	assert_int_equal(om_store_account_get(s, "ann", &got), 0);
	assert_string_equal(got.hash, "h3");
	assert_int_equal(om_store_account_set_hash(s, "nobody", "h"), -ENOENT);
	assert_int_equal(om_store_account_get(s, "nobody", &got), -ENOENT);
	assert_int_equal(om_store_account_list(s, list, 4, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].name, "ann");
	assert_int_equal(om_store_account_list(s, list, 1, &n), 0);
	assert_int_equal(n, 1);
}

static void test_sessions(void **state)
{
	om_store *s = *state;
	om_store_account a = {
	    .name = "sam", .role = OM_ROLE_COMPANY_ADMIN, .tenant = "t1", .hash = "h"};
	om_store_account got;
	char csrf[80];

	assert_int_equal(om_store_account_add(s, &a), 0);
	assert_int_equal(om_store_session_add(s, "abc", "sam", "tok", 1000), 0);
	assert_int_equal(om_store_session_add(s, "abc", "sam", "tok", 1000), -EEXIST);
	assert_int_equal(om_store_session_get(s, "abc", 999, &got, csrf), 0);
	assert_string_equal(got.name, "sam");
	assert_string_equal(got.tenant, "t1");
	assert_string_equal(csrf, "tok");
	/* at the expiry instant it is gone, and stays gone */
	assert_int_equal(om_store_session_get(s, "abc", 1000, &got, csrf), -ENOENT);
	assert_int_equal(om_store_session_get(s, "abc", 0, &got, csrf), -ENOENT);
	assert_int_equal(om_store_session_add(s, "def", "sam", "t2", 5000), 0);
	assert_int_equal(om_store_session_delete(s, "def"), 0);
	assert_int_equal(om_store_session_get(s, "def", 1, &got, csrf), -ENOENT);
}

static void test_audit_tenants(void **state)
{
	om_store *s = *state;
	om_store_audit a[4];
	om_store_tenant t[4], one;
	size_t n;

	assert_int_equal(om_store_audit_add(s, 1, "ann", "acme", "login", "127.0.0.1"), 0);
	assert_int_equal(om_store_audit_add(s, 2, "bob", "beta", "login", ""), 0);
	assert_int_equal(om_store_audit_add(s, 3, "ann", "acme", "logout", ""), 0);
	assert_int_equal(om_store_audit_list(s, "acme", a, 4, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(a[0].action, "logout"); /* newest first */
	assert_int_equal(a[0].ts, 3);
	assert_int_equal(om_store_audit_list(s, NULL, a, 4, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(om_store_tenant_add(s, "acme", "Acme"), 0);
	assert_int_equal(om_store_tenant_add(s, "acme", "Again"), -EEXIST);
	assert_int_equal(om_store_tenant_add(s, "", "x"), -EINVAL);
	assert_int_equal(om_store_tenant_add(s, "beta", "Beta"), 0);
	assert_int_equal(om_store_tenant_list(s, t, 4, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(t[1].name, "Beta");
	assert_int_equal(om_store_tenant_get(s, "acme", &one), 0);
	assert_string_equal(one.name, "Acme");
	assert_int_equal(om_store_tenant_get(s, "zeta", &one), -ENOENT);
}

static void test_reopen(void **state)
{
	om_store *s = *state;
	om_store_tenant one;
	char err[256];

	/* the schema statements are idempotent: a second open keeps the data */
	assert_int_equal(om_store_tenant_add(s, "keep", "Kept"), 0);
	om_store_close(s);
	assert_int_equal(om_store_open(path, &s, err, sizeof(err)), 0);
	*state = s;
	assert_int_equal(om_store_tenant_get(s, "keep", &one), 0);
	assert_string_equal(one.name, "Kept");
}

static void add_ev(om_store *s, const char *tenant, om_usec ts, const char *cat, int sev,
                   const char *action, const char *src, const char *eve)
{
	om_store_event e = {.ts = ts,
	                    .tenant = tenant,
	                    .gateway = "gw",
	                    .event_type = "alert",
	                    .category = cat,
	                    .severity = sev,
	                    .action = action,
	                    .src_ip = src,
	                    .src_port = 4444,
	                    .dest_ip = "192.168.1.5",
	                    .dest_port = 22,
	                    .proto = "TCP",
	                    .signature = "sig",
	                    .signature_id = 1,
	                    .eve_json = eve};
	assert_int_equal(om_store_add_event(s, &e), 0);
}

struct tally {
	uint64_t recon, c2, blocked;
};

static void tally_cb(void *user, const char *category, const char *action, int severity,
                     uint64_t n)
{
	struct tally *t = user;

	(void)severity;
	if (!strcmp(category, "recon"))
		t->recon += n;
	if (!strcmp(category, "c2"))
		t->c2 += n;
	if (!strcmp(action, "blocked"))
		t->blocked += n;
}

struct rollup {
	uint64_t a, b;
};

static void rollup_cb(void *user, const char *tenant, const char *category, uint64_t n)
{
	struct rollup *r = user;

	(void)category;
	if (!strcmp(tenant, "a"))
		r->a += n;
	if (!strcmp(tenant, "b"))
		r->b += n;
}

/* Every search is scoped by the tenant; filters narrow it; an event of one
 * tenant is not found under another's name. */
static void test_event_search(void **state)
{
	om_store *s = *state;
	om_store_event_row rows[10], e;
	size_t n = 0;
	char eve[64];
	const om_usec d = 86400ull * 1000000, t0 = 1714521600ull * 1000000; /* 2024-05-01 UTC */

	add_ev(s, "a", t0, "recon", 2, "detected", "203.0.113.1", "{\"n\":1}");
	add_ev(s, "a", t0 + d, "recon", 2, "blocked", "203.0.113.2", "{\"n\":2}");
	add_ev(s, "a", t0 + 2 * d, "c2", 1, "blocked", "192.168.1.9", "{\"n\":3}");
	add_ev(s, "b", t0 + d, "recon", 3, "detected", "203.0.113.1", "{\"n\":4}");

	om_store_event_filter f = {.tenant = "a"};
	assert_int_equal(om_store_event_search(s, &f, rows, 10, &n), 0);
	assert_int_equal(n, 3);
	assert_true(rows[0].ts == t0 + 2 * d); /* newest first */
	assert_string_equal(rows[0].category, "c2");
	assert_int_equal(rows[0].src_port, 4444);
	f.category = "recon";
	assert_int_equal(om_store_event_search(s, &f, rows, 10, &n), 0);
	assert_int_equal(n, 2);
	f.category = "";
	f.host = "203.0.113.1";
	assert_int_equal(om_store_event_search(s, &f, rows, 10, &n), 0);
	assert_int_equal(n, 1);
	f.host = "192.168.1.5"; /* the destination matches too */
	assert_int_equal(om_store_event_search(s, &f, rows, 10, &n), 0);
	assert_int_equal(n, 3);
	f.host = NULL;
	f.severity = 1;
	assert_int_equal(om_store_event_search(s, &f, rows, 10, &n), 0);
	assert_int_equal(n, 1);
	f.severity = 2; /* severity 2 or more severe */
	assert_int_equal(om_store_event_search(s, &f, rows, 10, &n), 0);
	assert_int_equal(n, 3);
	f.severity = 0;
	f.from = t0 + d;
	f.to = t0 + 2 * d;
	assert_int_equal(om_store_event_search(s, &f, rows, 10, &n), 0);
	assert_int_equal(n, 1);
	f.from = f.to = 0;
	f.action = "blocked";
	assert_int_equal(om_store_event_search(s, &f, rows, 10, &n), 0);
	assert_int_equal(n, 2);
	/* paging: below the id of the newest */
	f.action = NULL;
	assert_int_equal(om_store_event_search(s, &f, rows, 1, &n), 0);
	assert_int_equal(n, 1);
	f.before_id = rows[0].id;
	assert_int_equal(om_store_event_search(s, &f, rows, 10, &n), 0);
	assert_int_equal(n, 2);
	/* SQL in a value is a value */
	om_store_event_filter g = {.tenant = "a' OR '1'='1"};
	assert_int_equal(om_store_event_search(s, &g, rows, 10, &n), 0);
	assert_int_equal(n, 0);
	om_store_event_filter none = {.tenant = ""};
	assert_int_equal(om_store_event_search(s, &none, rows, 10, &n), -EINVAL);

	om_store_event_filter fb = {.tenant = "b"};
	assert_int_equal(om_store_event_search(s, &fb, rows, 10, &n), 0);
	assert_int_equal(n, 1);
	int64_t bid = rows[0].id;
	assert_int_equal(om_store_event_get(s, "b", bid, &e, eve, sizeof(eve)), 0);
	assert_string_equal(eve, "{\"n\":4}");
	assert_int_equal(om_store_event_get(s, "a", bid, &e, eve, sizeof(eve)), -ENOENT);
	/* the EVE line is cut to the buffer */
	assert_int_equal(om_store_event_get(s, "b", bid, &e, eve, 4), 0);
	assert_string_equal(eve, "{\"n");

	struct tally t = {0};
	assert_int_equal(om_store_event_tally(s, "a", t0, t0 + 3 * d, tally_cb, &t), 0);
	assert_int_equal(t.recon, 2);
	assert_int_equal(t.c2, 1);
	assert_int_equal(t.blocked, 2);
	/* the overview counts the console's companies only */
	struct rollup r = {0};
	assert_int_equal(om_store_rollup_since(s, "2024-05-02", rollup_cb, &r), 0);
	assert_int_equal(r.a + r.b, 0);
	assert_int_equal(om_store_tenant_add(s, "a", "A"), 0);
	assert_int_equal(om_store_tenant_add(s, "b", "B"), 0);
	assert_int_equal(om_store_rollup_since(s, "2024-05-02", rollup_cb, &r), 0);
	assert_int_equal(r.a, 2);
	assert_int_equal(r.b, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_accounts, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sessions, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_audit_tenants, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reopen, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_event_search, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
