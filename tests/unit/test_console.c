/* console: form and cookie parsing, the escaping template layer, passwords
 * and tokens, the login rate limit. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "console/internal.h"

static void test_form(void **state)
{
	con_form f;
	(void)state;

	con_form_parse(&f, "user=a%20b&password=x+y%26z&empty=&flag&bad=%zz&cut=%4", 54);
	assert_string_equal(con_form_get(&f, "user"), "a b");
	assert_string_equal(con_form_get(&f, "password"), "x y&z");
	assert_string_equal(con_form_get(&f, "empty"), "");
	assert_string_equal(con_form_get(&f, "flag"), "");
	assert_null(con_form_get(&f, "bad"));
	assert_null(con_form_get(&f, "cut"));
	assert_int_equal(f.bad, 2);
	/* a NUL byte smuggled in as %00 drops the field */
	con_form_parse(&f, "u=a%00b", 7);
	assert_null(con_form_get(&f, "u"));
	assert_int_equal(f.bad, 1);
	/* the field cap */
	char many[400];
	size_t n = 0;
	for (int i = 0; i < 40; i++)
		n += (size_t)snprintf(many + n, sizeof(many) - n, "f%d=1&", i);
	con_form_parse(&f, many, n);
	assert_int_equal(f.n, CON_FORM_MAX_FIELDS);
	assert_int_equal(f.bad, 40 - CON_FORM_MAX_FIELDS);
}

static void test_cookie(void **state)
{
	char v[16];
	(void)state;

	assert_int_equal(con_cookie_get("a=1; om_session=xyz; b=2", "om_session", v, sizeof(v)), 0);
	assert_string_equal(v, "xyz");
	assert_int_equal(con_cookie_get("xom_session=1", "om_session", v, sizeof(v)), -ENOENT);
	assert_int_equal(
	    con_cookie_get("om_session=0123456789abcdefXYZ", "om_session", v, sizeof(v)), -E2BIG);
	assert_int_equal(con_cookie_get(NULL, "om_session", v, sizeof(v)), -ENOENT);
}

static void test_html(void **state)
{
	om_buf b;
	const char *v[] = {"<b>\"x\"&'", "<i>ok</i>"};
	(void)state;

	om_buf_init(&b, 4096);
	assert_int_equal(con_html(&b, "<p title=\"{0}\">{0}</p>{!1}{x}{", v, 2), 0);
	assert_string_equal(om_buf_cstr(&b), "<p title=\"&lt;b&gt;&quot;x&quot;&amp;&#39;\">"
	                                     "&lt;b&gt;&quot;x&quot;&amp;&#39;</p><i>ok</i>{x}{");
	assert_int_equal(con_html(&b, "{2}", v, 2), -EINVAL);
	om_buf_free(&b);
}

static void test_password(void **state)
{
	char h[160], tok[64], tok2[64], th[65];
	(void)state;

	assert_int_equal(con_auth_init(), 0);
	assert_int_equal(con_password_hash("short", h, sizeof(h)), -EINVAL);
	assert_int_equal(con_password_hash("a long password", h, sizeof(h)), 0);
	assert_memory_equal(h, "$argon2id$", 10);
	assert_true(con_password_verify(h, "a long password"));
	assert_false(con_password_verify(h, "a long passworD"));
	assert_false(con_password_verify("garbage", "a long password"));
	con_token(tok);
	con_token(tok2);
	assert_int_equal(strlen(tok), 43);
	assert_string_not_equal(tok, tok2);
	con_token_hash(tok, th);
	assert_int_equal(strlen(th), 64);
	assert_true(con_str_eq(tok, tok));
	assert_false(con_str_eq(tok, tok2));
	assert_false(con_str_eq("", ""));
}

static void test_ratelimit(void **state)
{
	static con_ratelimit rl;
	om_usec t = 1000000;
	(void)state;

	for (int i = 0; i < CON_RL_MAX_FAILS; i++) {
		assert_true(con_rl_allowed(&rl, "alice", t));
		con_rl_fail(&rl, "alice", t);
	}
	assert_false(con_rl_allowed(&rl, "alice", t + 1));
	assert_true(con_rl_allowed(&rl, "bob", t + 1));
	/* the window passes */
	assert_true(con_rl_allowed(&rl, "alice", t + CON_RL_WINDOW_USEC + 1));
	con_rl_fail(&rl, "carol", t);
	con_rl_clear(&rl, "carol");
	assert_true(con_rl_allowed(&rl, "carol", t));
}

static void test_roles(void **state)
{
	int r;
	(void)state;

	assert_int_equal(con_role_parse("company-viewer", &r), 0);
	assert_int_equal(r, OM_ROLE_COMPANY_VIEWER);
	assert_int_equal(con_role_parse("root", &r), -EINVAL);
	assert_string_equal(con_role_name(OM_ROLE_PROVIDER_ADMIN), "provider-admin");
}

static void test_batch_id(void **state)
{
	(void)state;
	assert_true(con_batch_id_ok("abc-1_2.3"));
	assert_false(con_batch_id_ok(""));
	assert_false(con_batch_id_ok(NULL));
	assert_false(con_batch_id_ok("a b"));
	assert_false(con_batch_id_ok("../x/y"));
	char id[66];
	memset(id, 'a', 65);
	id[65] = '\0';
	assert_false(con_batch_id_ok(id));
	id[64] = '\0';
	assert_true(con_batch_id_ok(id));
}

static void test_ingest_gzip(void **state)
{
	om_store *s;
	char err[256], path[64];
	con_ingest_result res;
	(void)state;

	snprintf(path, sizeof(path), "/tmp/test_console.%d.db", (int)getpid());
	unlink(path);
	assert_int_equal(om_store_open(path, &s, err, sizeof(err)), 0);
	/* not gzip at all */
	assert_int_equal(con_ingest_gzip(s, "t", "g", "hello", 5, &res), -EINVAL);
	/* the empty gzip stream of "" (gzip -n < /dev/null): no lines */
	static const unsigned char empty[] = {0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00,
	                                      0x00, 0x00, 0x03, 0x03, 0x00, 0x00, 0x00,
	                                      0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
	assert_int_equal(con_ingest_gzip(s, "t", "g", empty, sizeof(empty), &res), 0);
	assert_int_equal(res.lines, 0);
	/* truncated: the header only */
	assert_int_equal(con_ingest_gzip(s, "t", "g", empty, 10, &res), -EINVAL);
	/* "x\n{}\n" (gzip -n): two lines, neither is a stored event */
	static const unsigned char two[] = {0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	                                    0x03, 0xab, 0xe0, 0xaa, 0xae, 0xe5, 0x02, 0x00, 0x63,
	                                    0xd5, 0xdd, 0x42, 0x05, 0x00, 0x00, 0x00};
	assert_int_equal(con_ingest_gzip(s, "t", "g", two, sizeof(two), &res), 0);
	assert_int_equal(res.lines, 2);
	assert_int_equal(res.stored, 0);
	om_store_close(s);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_form),      cmocka_unit_test(test_cookie),
	    cmocka_unit_test(test_html),      cmocka_unit_test(test_password),
	    cmocka_unit_test(test_ratelimit), cmocka_unit_test(test_roles),
	    cmocka_unit_test(test_batch_id),  cmocka_unit_test(test_ingest_gzip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
