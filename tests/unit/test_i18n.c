/* Unit tests for the message catalogues: .po parsing, per-call language,
 * fallbacks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "base/base.h"

struct seen {
	int n;
	char id[4][64];
	char str[4][128];
};

static void collect(void *user, const char *id, const char *str)
{
	struct seen *s = user;
	if (s->n < 4) {
		strncpy(s->id[s->n], id, 63);
		strncpy(s->str[s->n], str, 127);
	}
	s->n++;
}

static void test_po_parse(void **state)
{
	(void)state;
	const char po[] = "# comment\n"
	                  "msgid \"\"\nmsgstr \"\"\n\"Language: en\\n\"\n\n"
	                  "msgid \"a.b\"\nmsgstr \"one \\\"two\\\"\"\n"
	                  "msgid \"c\"\nmsgstr \"\"\n\"line1\\n\"\n\"line2\"\n";
	struct seen s;
	memset(&s, 0, sizeof(s));
	int line = 0;
	assert_int_equal(om_po_parse(po, sizeof(po) - 1, collect, &s, &line), 0);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.id[1], "a.b");
	assert_string_equal(s.str[1], "one \"two\"");
	assert_string_equal(s.id[2], "c");
	assert_string_equal(s.str[2], "line1\nline2");
}

static void test_po_errors(void **state)
{
	(void)state;
	struct seen s;
	int line = 0;
	const char bad1[] = "msgid \"a\"\nmsgstr \"x\n"; /* unterminated */
	memset(&s, 0, sizeof(s));
	assert_int_equal(om_po_parse(bad1, sizeof(bad1) - 1, collect, &s, &line), -22);
	assert_int_equal(line, 2);
	const char bad2[] = "msgstr \"x\"\n"; /* msgstr without msgid */
	assert_int_equal(om_po_parse(bad2, sizeof(bad2) - 1, collect, &s, &line), -22);
	const char bad3[] = "msgid \"a\"\nmsgid \"b\"\n"; /* msgid without msgstr */
	assert_int_equal(om_po_parse(bad3, sizeof(bad3) - 1, collect, &s, &line), -22);
	assert_int_equal(line, 2);
	const char bad4[] = "msgid \"a\\q\"\n"; /* unknown escape */
	assert_int_equal(om_po_parse(bad4, sizeof(bad4) - 1, collect, &s, &line), -22);
}

static void test_lookup(void **state)
{
	(void)state;
	assert_int_equal(om_i18n_init(), 0);
	const char *ja = om_msg(OM_LANG_JA, "help.main");
	const char *en = om_msg(OM_LANG_EN, "help.main");
	assert_non_null(strstr(ja, "使い方"));
	assert_non_null(strstr(en, "usage:"));
	/* an unknown key comes back as itself */
	assert_string_equal(om_msg(OM_LANG_JA, "no.such.key"), "no.such.key");
	enum om_lang l;
	assert_int_equal(om_lang_parse("en_US.UTF-8", &l), 0);
	assert_int_equal(l, OM_LANG_EN);
	assert_int_equal(om_lang_parse("ja", &l), 0);
	assert_int_equal(l, OM_LANG_JA);
	assert_int_equal(om_lang_parse("fr", &l), -22);
	setenv("OMAMORI_LANG", "en", 1);
	assert_int_equal(om_lang_from_env(), OM_LANG_EN);
	setenv("OMAMORI_LANG", "ja", 1);
	assert_int_equal(om_lang_from_env(), OM_LANG_JA);
}

/* Every key of one catalogue is in the other: a screen is never half
 * translated. The embedded catalogues are parsed again here. */
extern const char *const om_i18n_embedded[];
extern const size_t om_i18n_embedded_len[];

struct keys {
	char **k;
	size_t n;
};

static void add_key(void *user, const char *id, const char *str)
{
	struct keys *ks = user;
	if (!*id || !*str)
		return;
	ks->k = realloc(ks->k, (ks->n + 1) * sizeof(char *));
	ks->k[ks->n++] = strdup(id);
}

static bool has(const struct keys *ks, const char *k)
{
	for (size_t i = 0; i < ks->n; i++)
		if (!strcmp(ks->k[i], k))
			return true;
	return false;
}

static void test_catalogues_complete(void **state)
{
	(void)state;
	struct keys ja = {0}, en = {0};
	assert_int_equal(om_po_parse(om_i18n_embedded[0], om_i18n_embedded_len[0], add_key, &ja, NULL), 0);
	assert_int_equal(om_po_parse(om_i18n_embedded[1], om_i18n_embedded_len[1], add_key, &en, NULL), 0);
	assert_true(ja.n > 20);
	for (size_t i = 0; i < ja.n; i++)
		if (!has(&en, ja.k[i]))
			fail_msg("key %s is in ja but not in en", ja.k[i]);
	for (size_t i = 0; i < en.n; i++)
		if (!has(&ja, en.k[i]))
			fail_msg("key %s is in en but not in ja", en.k[i]);
	for (size_t i = 0; i < ja.n; i++)
		free(ja.k[i]);
	for (size_t i = 0; i < en.n; i++)
		free(en.k[i]);
	free(ja.k);
	free(en.k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_po_parse),
		cmocka_unit_test(test_po_errors),
		cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_catalogues_complete),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
