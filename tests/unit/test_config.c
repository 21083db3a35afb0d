/* Unit tests for the YAML configuration: defaults, loading, errors that
 * name file, line and key, and that a bad file changes nothing. Errors are
 * checked in English (set in main) and, in one test, in Japanese. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/engine.h"

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
	om_settings c;
	om_settings_defaults(&c);
	om_addr a;
	assert_int_equal(c.base.home_net.count, 4);
	om_addr_parse("192.168.10.1", &a);
	assert_true(om_base_is_home(&c.base, &a));
	om_addr_parse("172.20.0.1", &a);
	assert_true(om_base_is_home(&c.base, &a));
	om_addr_parse("fd00::5", &a);
	assert_true(om_base_is_home(&c.base, &a));
	om_addr_parse("203.0.113.5", &a);
	assert_false(om_base_is_home(&c.base, &a));
	assert_int_equal(c.guard.recon_vertical_ports, 20);
}

static void test_load_ok(void **state)
{
	(void)state;
	om_settings c;
	char err[256];
	om_settings_defaults(&c);
	const char *f = write_file("tenant: sakura-bakery\n"
	                           "home-net:\n  - 10.20.0.0/16\n  - 2001:db8:1::/48\n"
	                           "flow:\n  max-flows: 1048576\n  timeouts:\n    udp: 90\n"
	                           "recon:\n  vertical-ports: 50\n"
	                           "eve:\n  rotate-daily: yes\n");
	assert_int_equal(om_settings_load(&c, f, err, sizeof(err)), 0);
	unlink(f);
	assert_string_equal(c.base.tenant, "sakura-bakery");
	assert_int_equal(c.base.home_net.count, 2);
	assert_int_equal(c.net.flow_max, 1048576);
	assert_int_equal(c.net.flow_timeout_udp, 90);
	assert_int_equal(c.net.flow_timeout_est, 300); /* default kept */
	assert_int_equal(c.guard.recon_vertical_ports, 50);
	assert_true(c.engine.eve_rotate_daily);
	om_addr a;
	om_addr_parse("192.168.1.1", &a);
	assert_false(om_base_is_home(&c.base, &a)); /* replaced, not appended */
	om_addr_parse("2001:db8:1::9", &a);
	assert_true(om_base_is_home(&c.base, &a));

	/* the dump can be loaded again and gives the same configuration */
	om_buf out;
	om_buf_init(&out, 65536);
	om_settings_dump(&c, &out);
	assert_non_null(strstr(om_buf_cstr(&out), "max-flows: 1048576"));
	const char *f2 = write_file(om_buf_cstr(&out));
	om_settings c2;
	om_settings_defaults(&c2);
	assert_int_equal(om_settings_load(&c2, f2, err, sizeof(err)), 0);
	unlink(f2);
	assert_memory_equal(&c, &c2, sizeof(c));
	om_buf_free(&out);
}

static void expect_error(const char *text, const char *needle)
{
	if (om_lang_thread() != OM_LANG_EN)
		fail_msg("the English error texts are checked with the thread language en");
	om_settings c, before;
	char err[512] = "";
	om_settings_defaults(&c);
	before = c;
	const char *f = write_file(text);
	assert_int_equal(om_settings_load(&c, f, err, sizeof(err)), -22);
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
	expect_error("flow:\n  max-flows: lots\n",
	             "'lots' is not a whole number (concurrent flows per worker)");
	expect_error("flow:\n  max-flows: 1\n", "'1' is out of range (16 to 67108864)");
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
	expect_error("flow:\n  emergency:\n    start-percent: 60\n", "would never end");
	/* nesting that libyaml's loader would take minutes over is refused
	 * before loading (300,000 brackets: under a second here) */
	size_t n = 300000;
	char *deep = malloc(n + 16);
	assert_non_null(deep);
	memcpy(deep, "tenant: ", 8);
	memset(deep + 8, '[', n);
	deep[8 + n] = '\0';
	expect_error(deep, ":1: not valid YAML: nested too deeply");
	free(deep);
	/* 32 levels are still read (and refused only for what they say) */
	char ok[64] = "tenant: ";
	memset(ok + 8, '[', 31);
	ok[39] = '\0';
	expect_error(ok, "not valid YAML"); /* unterminated, found by the loader */
}

/* The same errors in Japanese: the texts below are written out here from
 * the catalogue's wording, with the numbers of the key table (16 to 2^26). */
static void expect_error_ja(const char *text, const char *needle)
{
	om_settings c, before;
	char err[512] = "";
	om_settings_defaults(&c);
	before = c;
	const char *f = write_file(text);
	assert_int_equal(om_settings_load(&c, f, err, sizeof(err)), -22);
	unlink(f);
	if (!strstr(err, needle))
		fail_msg("error '%s' does not contain '%s'", err, needle);
	assert_non_null(strstr(err, "/tmp/omamori-cfg-"));
	assert_memory_equal(&c, &before, sizeof(c));
}

static void test_errors_in_japanese(void **state)
{
	(void)state;
	om_lang_set_thread(OM_LANG_JA);
	expect_error_ja(
	    "flow:\n  max-flows: 1\n",
	    ":2: キー 'flow.max-flows': '1' は範囲外です。16〜67108864 の値を指定してください");
	expect_error_ja("tenant: a\nfoo: 1\n",
	                ":2: キー 'foo': そのような設定はありません。'omamori config show' "
	                "で使えるキーを確認してください");
	expect_error_ja("tenant: a\nflow:\n  max-flows: lots\n",
	                ":3: キー 'flow.max-flows': 'lots' "
	                "は整数ではありません（ワーカーあたりの同時フロー数の上限）");
	expect_error_ja("eve:\n  rotate-daily: maybe\n",
	                "'maybe' は true でも false でもありません");
	expect_error_ja(
	    "- a\n- b\n",
	    ":1: キー '（最上位）': ファイル全体を「キー: 値」の形の設定にしてください");
	/* no English left in the message (the file name is ASCII, the rest not) */
	om_settings c;
	char err[512] = "";
	om_settings_defaults(&c);
	const char *f = write_file("home-net: []\n");
	assert_int_equal(om_settings_load(&c, f, err, sizeof(err)), -22);
	unlink(f);
	assert_null(strstr(err, "empty"));
	assert_non_null(strstr(err, "リストが空です"));
	om_lang_set_thread(OM_LANG_EN);
}

/* `config show` in either language is YAML that loads back to the same
 * configuration, with each key's help after '#'. */
static void test_dump_languages(void **state)
{
	(void)state;
	const enum om_lang langs[] = {OM_LANG_JA, OM_LANG_EN};
	const char *help[] = {"max-flows: 262144  # ワーカーあたりの同時フロー数の上限\n",
	                      "max-flows: 262144  # concurrent flows per worker\n"};
	for (int i = 0; i < 2; i++) {
		om_lang_set_thread(langs[i]);
		om_settings c, c2;
		char err[512] = "";
		om_settings_defaults(&c);
		om_buf out;
		om_buf_init(&out, 65536);
		om_settings_dump(&c, &out);
		if (!strstr(om_buf_cstr(&out), help[i]))
			fail_msg("dump does not contain '%s':\n%s", help[i], om_buf_cstr(&out));
		/* every line has a comment with a help text from the catalogue */
		assert_null(strstr(om_buf_cstr(&out), "config.help."));
		const char *f = write_file(om_buf_cstr(&out));
		om_settings_defaults(&c2);
		c2.net.flow_max = 99; /* the file must set it back */
		if (om_settings_load(&c2, f, err, sizeof(err)) != 0)
			fail_msg("dump in %s does not load: %s", om_lang_name(langs[i]), err);
		unlink(f);
		assert_memory_equal(&c, &c2, sizeof(c));
		om_buf_free(&out);
	}
	om_lang_set_thread(OM_LANG_EN);
}

static void test_missing_file(void **state)
{
	(void)state;
	om_settings c;
	char err[256];
	om_settings_defaults(&c);
	assert_true(om_settings_load(&c, "/nonexistent/omamori.yaml", err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "/nonexistent/omamori.yaml"));
}

/* A module's own section with a custom key, through base's node access:
 * a list of {net, weight} mappings. */
struct demo_cfg {
	om_cidr net[4];
	uint64_t weight[4];
	unsigned n;
	uint32_t plain;
};

static int demo_parse(om_config_ctx *c, const om_config_node *n, void *obj)
{
	struct demo_cfg *d = obj;
	if (om_config_node_type(n) != OM_CN_SEQUENCE)
		return om_config_fail(c, n, "demo.rules", "err.config.not_net_list");
	d->n = 0;
	for (size_t i = 0; i < om_config_node_count(n); i++) {
		const om_config_node *it = om_config_node_item(c, n, i, NULL);
		if (!it || om_config_node_type(it) != OM_CN_MAPPING || d->n >= 4)
			return om_config_fail(c, it ? it : n, "demo.rules", "err.config.list_items");
		const om_config_node *net = om_config_node_get(c, it, "net");
		const om_config_node *w = om_config_node_get(c, it, "weight");
		if (!net || !w)
			return om_config_fail(c, it, "demo.rules", "err.config.list_items");
		int r = om_config_node_cidr(c, net, "demo.rules.net", &d->net[d->n]);
		if (r == 0)
			r = om_config_node_u64(c, w, "demo.rules.weight", 1, 9, &d->weight[d->n]);
		if (r < 0)
			return r;
		d->n++;
	}
	return 0;
}

static void demo_dump(const void *obj, om_buf *out, int indent)
{
	const struct demo_cfg *d = obj;
	for (unsigned i = 0; i < d->n; i++) {
		char a[64];
		om_addr_str(&d->net[i].addr, a, sizeof(a));
		om_buf_printf(out, "\n%*s- {net: %s/%u, weight: %llu}", indent + 2, "", a,
		              d->net[i].prefix - 96u, (unsigned long long)d->weight[i]);
	}
}

static const om_config_key demo_keys[] = {
    {"demo.rules", OM_CK_CUSTOM, 0, 0, 0, 0, "config.help.tenant", demo_parse, demo_dump},
    {"demo.plain", OM_CK_U32, offsetof(struct demo_cfg, plain), 0, 0, 100, "config.help.tenant",
     NULL, NULL},
};
static const om_config_schema demo_schema = {"demo", demo_keys, 2, sizeof(struct demo_cfg), NULL,
                                             NULL};

static void test_module_section(void **state)
{
	(void)state;
	om_base_config base;
	struct demo_cfg demo;
	om_config_part parts[] = {{&om_base_config_schema, &base}, {&demo_schema, &demo}};
	om_config_defaults(parts, 2);
	assert_int_equal(demo.n, 0);
	char err[512] = "";
	const char *f = write_file("tenant: t1\ndemo:\n  plain: 7\n  rules:\n"
	                           "    - {net: 10.1.0.0/16, weight: 3}\n"
	                           "    - net: 192.168.0.0/24\n      weight: 9\n");
	assert_int_equal(om_config_load(parts, 2, f, err, sizeof(err)), 0);
	unlink(f);
	assert_string_equal(base.tenant, "t1");
	assert_int_equal(demo.plain, 7);
	assert_int_equal(demo.n, 2);
	assert_int_equal(demo.weight[0], 3);
	assert_int_equal(demo.weight[1], 9);
	om_addr a;
	om_addr_parse("192.168.0.77", &a);
	assert_true(om_cidr_contains(&demo.net[1], &a));
	om_buf out;
	om_buf_init(&out, 65536);
	om_config_dump(parts, 2, &out);
	assert_non_null(strstr(om_buf_cstr(&out), "- {net: 10.1.0.0/16, weight: 3}"));
	om_buf_free(&out);

	/* an error in the module's custom key names its line and key and
	 * changes no part, not even the base part read before it */
	struct demo_cfg before = demo;
	f = write_file("tenant: t2\ndemo:\n  rules:\n    - {net: 10.1.0.0/16, weight: 12}\n");
	assert_int_equal(om_config_load(parts, 2, f, err, sizeof(err)), -22);
	unlink(f);
	if (!strstr(err, ":4: key 'demo.rules.weight'") || !strstr(err, "out of range"))
		fail_msg("unexpected error: %s", err);
	assert_string_equal(base.tenant, "t1");
	assert_memory_equal(&demo, &before, sizeof(demo));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_load_ok),
		cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_errors_in_japanese),
		cmocka_unit_test(test_dump_languages),
		cmocka_unit_test(test_module_section),
	};
	om_lang_set_thread(OM_LANG_EN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
