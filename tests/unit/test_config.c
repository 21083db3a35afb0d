/* Unit tests for the YAML configuration: defaults, loading, errors that
 * name file, line and key, and that a bad file changes nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/base.h"

static char path[64];

static const char *write_file(const char *text)
{
	snprintf(path, sizeof(path), "/tmp/omamori-cfg-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static void test_defaults(void **state)
{
	(void)state;
	om_config c;
	om_config_defaults(&c);
	om_addr a;
	assert_int_equal(c.home_net_count, 4);
	om_addr_parse("192.168.10.1", &a);
	assert_true(om_config_is_home(&c, &a));
	om_addr_parse("172.20.0.1", &a);
	assert_true(om_config_is_home(&c, &a));
	om_addr_parse("fd00::5", &a);
	assert_true(om_config_is_home(&c, &a));
	om_addr_parse("203.0.113.5", &a);
	assert_false(om_config_is_home(&c, &a));
	assert_int_equal(c.recon_vertical_ports, 20);
}

static void test_load_ok(void **state)
{
	(void)state;
	om_config c;
	char err[256];
	om_config_defaults(&c);
	const char *f = write_file("tenant: sakura-bakery\n"
	                           "home-net:\n  - 10.20.0.0/16\n  - 2001:db8:1::/48\n"
	                           "flow:\n  max-flows: 1048576\n  timeouts:\n    udp: 90\n"
	                           "recon:\n  vertical-ports: 50\n"
	                           "eve:\n  rotate-daily: yes\n");
	assert_int_equal(om_config_load(&c, f, err, sizeof(err)), 0);
	unlink(f);
	assert_string_equal(c.tenant, "sakura-bakery");
	assert_int_equal(c.home_net_count, 2);
	assert_int_equal(c.flow_max, 1048576);
	assert_int_equal(c.flow_timeout_udp, 90);
	assert_int_equal(c.flow_timeout_est, 300); /* default kept */
	assert_int_equal(c.recon_vertical_ports, 50);
	assert_true(c.eve_rotate_daily);
	om_addr a;
	om_addr_parse("192.168.1.1", &a);
	assert_false(om_config_is_home(&c, &a)); /* replaced, not appended */
	om_addr_parse("2001:db8:1::9", &a);
	assert_true(om_config_is_home(&c, &a));

	/* the dump can be loaded again and gives the same configuration */
	om_buf out;
	om_buf_init(&out, 65536);
	om_config_dump(&c, &out);
	assert_non_null(strstr(om_buf_cstr(&out), "max-flows: 1048576"));
	const char *f2 = write_file(om_buf_cstr(&out));
	om_config c2;
	om_config_defaults(&c2);
	assert_int_equal(om_config_load(&c2, f2, err, sizeof(err)), 0);
	unlink(f2);
	assert_memory_equal(&c, &c2, sizeof(c));
	om_buf_free(&out);
}

static void expect_error(const char *text, const char *needle)
{
	om_config c, before;
	char err[512] = "";
	om_config_defaults(&c);
	before = c;
	const char *f = write_file(text);
	assert_int_equal(om_config_load(&c, f, err, sizeof(err)), -22);
	unlink(f);
	if (!strstr(err, needle))
		fail_msg("error '%s' does not contain '%s'", err, needle);
	assert_non_null(strstr(err, "/tmp/omamori-cfg-"));
	assert_memory_equal(&c, &before, sizeof(c)); /* nothing changed */
}

static void test_load_errors(void **state)
{
	(void)state;
	expect_error("tenant: a\nflow:\n  max-flows: lots\n", ":3: key 'flow.max-flows'");
	expect_error("flow:\n  max-flows: 1\n", "out of range");
	expect_error("tenant: a\nfoo: 1\n", ":2: key 'foo': unknown setting");
	expect_error("flow:\n  bogus: 1\n", "key 'flow.bogus'");
	expect_error("home-net:\n  - 10.0.0.0/8\n  - not-a-net\n", ":3: key 'home-net'");
	expect_error("home-net: []\n", "empty");
	expect_error("flow: 5\n", "expected a mapping");
	expect_error("tenant: [a, b]\n", "single value");
	expect_error("eve:\n  rotate-daily: maybe\n", "not true or false");
	expect_error("- a\n- b\n", "mapping");
	expect_error("tenant: \"unterminated\n", "not valid YAML");
	expect_error("flow:\n  hash-size: 1000\n", "power of two");
}

static void test_missing_file(void **state)
{
	(void)state;
	om_config c;
	char err[256];
	om_config_defaults(&c);
	assert_true(om_config_load(&c, "/nonexistent/omamori.yaml", err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "/nonexistent/omamori.yaml"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_load_ok),
		cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_missing_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
