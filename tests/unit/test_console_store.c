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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_accounts, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sessions, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_audit_tenants, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reopen, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
