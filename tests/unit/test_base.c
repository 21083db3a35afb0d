/* Unit tests for base: bounded buffers, JSON writer, addresses, hashing,
 * number parsing and time formatting. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/base.h"

static void test_buf_limit(void **state)
{
	(void)state;
	om_buf b;
	om_buf_init(&b, 10);
	assert_int_equal(om_buf_puts(&b, "0123456789"), 0);
	assert_int_equal(b.len, 10);
	/* one more byte passes max: refused, buffer unchanged, toobig set */
	assert_int_equal(om_buf_putc(&b, 'x'), -ENOBUFS);
	assert_true(b.toobig);
	assert_int_equal(b.len, 10);
	assert_string_equal(om_buf_cstr(&b), "0123456789");
	om_buf_reset(&b);
	assert_false(b.toobig);
	assert_int_equal(om_buf_printf(&b, "%d-%s", 42, "ab"), 0);
	assert_string_equal(om_buf_cstr(&b), "42-ab");
	/* a long printf goes through the slow path */
	om_buf big;
	om_buf_init(&big, 4096);
	char s[1000];
	memset(s, 'a', sizeof(s) - 1);
	s[sizeof(s) - 1] = '\0';
	assert_int_equal(om_buf_printf(&big, "<%s>", s), 0);
	assert_int_equal(big.len, 1001);
	assert_int_equal(big.data[0], '<');
	assert_int_equal(big.data[1000], '>');
	om_buf_free(&big);
	om_buf_free(&b);
	om_buf_free(&b); /* freeing twice is allowed */
}

static void test_buf_html(void **state)
{
	(void)state;
	om_buf b;
	om_buf_init(&b, 1024);
	om_buf_put_html(&b, "<script>alert('x') & \"y\"</script>");
	assert_string_equal(om_buf_cstr(&b),
	                    "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;");
	om_buf_free(&b);
}

static void test_json_writer(void **state)
{
	(void)state;
	om_buf b;
	om_json j;
	om_buf_init(&b, 4096);
	om_json_init(&j, &b);
	om_json_obj_open(&j, NULL);
	om_json_str(&j, "a", "x\"y\\z\n");
	om_json_u64(&j, "n", 18446744073709551615ull);
	om_json_i64(&j, "m", -5);
	om_json_bool(&j, "t", true);
	om_json_null(&j, "z");
	om_json_arr_open(&j, "l");
	om_json_u64(&j, NULL, 1);
	om_json_u64(&j, NULL, 2);
	om_json_obj_open(&j, NULL);
	om_json_obj_close(&j);
	om_json_arr_close(&j);
	om_json_obj_close(&j);
	assert_string_equal(om_buf_cstr(&b), "{\"a\":\"x\\\"y\\\\z\\n\",\"n\":18446744073709551615,"
	                                     "\"m\":-5,\"t\":true,\"z\":null,\"l\":[1,2,{}]}");
	om_buf_free(&b);
}

static void test_json_hostile_bytes(void **state)
{
	(void)state;
	om_buf b;
	om_buf_init(&b, 4096);
	/* control byte, invalid UTF-8 lead, truncated sequence, overlong NUL,
	 * a surrogate, and valid Japanese (3-byte) text */
	const char in[] = "\x01\xff\xe3\x81\xc0\x80\xed\xa0\x80\xe3\x81\x82";
	om_json_escape(&b, in, sizeof(in) - 1);
	assert_string_equal(om_buf_cstr(&b), "\"\\u0001\\u00ff\\u00e3\\u0081\\u00c0\\u0080"
	                                     "\\u00ed\\u00a0\\u0080\xe3\x81\x82\"");
	om_buf_free(&b);
}

/* The writer's fast paths (plain keys and values copied straight into the
 * buffer) give what the byte-by-byte rules give: DEL is copied, keys of 63,
 * 64 and 65 bytes, numbers of every length, and a buffer whose maximum is
 * reached in the middle of a member (toobig). */
static void test_json_fast_paths(void **state)
{
	(void)state;
	om_buf b;
	om_json j;
	char k63[64], k64[65], k65[66];
	memset(k63, 'k', 63);
	k63[63] = '\0';
	memset(k64, 'k', 64);
	k64[64] = '\0';
	memset(k65, 'k', 65);
	k65[65] = '\0';
	om_buf_init(&b, 4096);
	om_json_init(&j, &b);
	om_json_obj_open(&j, NULL);
	om_json_str(&j, "d",
	            "a\x7f"
	            "b");
	om_json_u64(&j, k63, 0);
	om_json_u64(&j, k64, 9);
	om_json_u64(&j, k65, 10);
	om_json_u64(&j, "q\"", 99);
	om_json_u64(&j, "x", 100);
	om_json_u64(&j, "y", 1234567890123ull);
	om_json_obj_close(&j);
	char want[512];
	snprintf(want, sizeof(want),
	         "{\"d\":\"a\x7f"
	         "b\",\"%s\":0,\"%s\":9,\"%s\":10,\"q\\\"\":99,\"x\":100,"
	         "\"y\":1234567890123}",
	         k63, k64, k65);
	assert_string_equal(om_buf_cstr(&b), want);
	om_buf_free(&b);

	/* every maximum from 0 to the whole line: never past it, toobig when
	 * anything did not fit, and the whole line when it all fits */
	size_t whole = strlen(want);
	for (size_t max = 0; max <= whole; max++) {
		om_buf_init(&b, max);
		om_json_init(&j, &b);
		om_json_obj_open(&j, NULL);
		om_json_str(&j, "d",
		            "a\x7f"
		            "b");
		om_json_u64(&j, k63, 0);
		om_json_u64(&j, k64, 9);
		om_json_u64(&j, k65, 10);
		om_json_u64(&j, "q\"", 99);
		om_json_u64(&j, "x", 100);
		om_json_u64(&j, "y", 1234567890123ull);
		om_json_obj_close(&j);
		assert_true(b.len <= max);
		assert_true(b.toobig == (max < whole));
		if (max == whole)
			assert_string_equal(om_buf_cstr(&b), want);
		om_buf_free(&b);
	}
}

/* Strings are checked a word at a time: every byte value at every place
 * of a 19-byte string (two words and a tail) is copied as it is exactly
 * when it is printable ASCII or DEL, other than the quote and the
 * backslash. */
static void test_json_escape_words(void **state)
{
	(void)state;
	om_buf b;
	char s[19], quoted[21];
	for (unsigned pos = 0; pos < sizeof(s); pos++) {
		for (unsigned c = 0; c < 256; c++) {
			memset(s, 'a', sizeof(s));
			s[pos] = (char)c;
			quoted[0] = '"';
			memcpy(quoted + 1, s, sizeof(s));
			quoted[sizeof(s) + 1] = '"';
			om_buf_init(&b, 256);
			om_json_escape(&b, s, sizeof(s));
			/* DEL needs no escape either */
			bool plain = c >= 0x20 && c <= 0x7f && c != '"' && c != '\\';
			bool same = b.len == sizeof(quoted) && memcmp(b.data, quoted, b.len) == 0;
			if (plain != same)
				fail_msg("byte 0x%02x at %u: %s", c, pos, om_buf_cstr(&b));
			om_buf_free(&b);
		}
	}
}

/* om_cidr_contains against the byte-wise rule, for every prefix length,
 * networks with and without host bits, and addresses that differ from the
 * network in one bit at every place. */
static bool cidr_bytewise(const om_cidr *c, const om_addr *a)
{
	unsigned full = c->prefix / 8, rem = c->prefix % 8;
	if (memcmp(c->addr.b, a->b, full) != 0)
		return false;
	if (rem == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff00u >> rem);
	return (a->b[full] & mask) == c->addr.b[full];
}

static void test_cidr_contains_words(void **state)
{
	(void)state;
	uint64_t x = 0x9e3779b97f4a7c15ull;
	for (unsigned prefix = 0; prefix <= 128; prefix++) {
		for (unsigned round = 0; round < 8; round++) {
			om_cidr c;
			for (unsigned i = 0; i < 16; i++) {
				x = x * 6364136223846793005ull + 1442695040888963407ull;
				c.addr.b[i] = (uint8_t)(x >> 56);
			}
			c.prefix = (uint8_t)prefix;
			if (round % 2 == 0) /* without host bits, as om_cidr_parse gives */
				for (unsigned i = 0; i < 16; i++) {
					unsigned bits = prefix > i * 8 ? prefix - i * 8 : 0;
					if (bits < 8)
						c.addr.b[i] &= (uint8_t)(0xff00u >> bits);
				}
			om_addr a = c.addr;
			assert_true(om_cidr_contains(&c, &a) == cidr_bytewise(&c, &a));
			for (unsigned bit = 0; bit < 128; bit++) {
				a = c.addr;
				a.b[bit / 8] ^= (uint8_t)(0x80u >> (bit % 8));
				if (om_cidr_contains(&c, &a) != cidr_bytewise(&c, &a))
					fail_msg("prefix %u round %u bit %u", prefix, round, bit);
			}
		}
	}
}

/* One object written with literal keys (OM_JK) and with the plain calls. */
static void json_keyed(om_buf *b, bool literal)
{
	om_json j;
	om_json_init(&j, b);
	om_json_obj_open(&j, NULL);
	if (literal) {
		om_json_kstr(&j, OM_JK("timestamp"), "2024-04-01T01:00:00.083315+0000");
		om_json_ku64(&j, OM_JK("flow_id"), 1794121436867334ull);
		om_json_kobj_open(&j, OM_JK("flow"));
		om_json_ku64(&j, OM_JK("age"), 0);
		om_json_kbool(&j, OM_JK("alerted"), false);
		om_json_kbool(&j, OM_JK("syn"), true);
		om_json_kstr(&j, OM_JK("state"), "a\"b\x01");
		om_json_obj_close(&j);
		om_json_ku64(&j, OM_JK("x"), 18446744073709551615ull);
	} else {
		om_json_str(&j, "timestamp", "2024-04-01T01:00:00.083315+0000");
		om_json_u64(&j, "flow_id", 1794121436867334ull);
		om_json_obj_open(&j, "flow");
		om_json_u64(&j, "age", 0);
		om_json_bool(&j, "alerted", false);
		om_json_bool(&j, "syn", true);
		om_json_str(&j, "state", "a\"b\x01");
		om_json_obj_close(&j);
		om_json_u64(&j, "x", 18446744073709551615ull);
	}
	om_json_obj_close(&j);
}

/* Literal keys (OM_JK) write the same bytes as the plain calls, also when
 * the buffer's maximum is reached anywhere in the line. */
static void test_json_literal_keys(void **state)
{
	(void)state;
	om_buf a, b;
	om_buf_init(&a, 4096);
	json_keyed(&a, false);
	size_t whole = a.len;
	assert_string_equal(
	    om_buf_cstr(&a),
	    "{\"timestamp\":\"2024-04-01T01:00:00.083315+0000\","
	    "\"flow_id\":1794121436867334,\"flow\":{\"age\":0,\"alerted\":false,"
	    "\"syn\":true,\"state\":\"a\\\"b\\u0001\"},\"x\":18446744073709551615}");
	om_buf_free(&a);
	for (size_t max = 0; max <= whole + 1; max++) {
		om_buf_init(&a, max);
		om_buf_init(&b, max);
		json_keyed(&a, false);
		json_keyed(&b, true);
		assert_int_equal(a.len, b.len);
		assert_int_equal(a.toobig, b.toobig);
		assert_memory_equal(a.data ? a.data : "", b.data ? b.data : "", a.len);
		om_buf_free(&a);
		om_buf_free(&b);
	}
}

/* Values and numbers of every length the short copies distinguish (0 to 3
 * bytes one at a time, 4-7, 8-16, 17-32 two overlapping words, longer by
 * memcpy), against the text built byte by byte here. */
static void test_json_short_copies(void **state)
{
	(void)state;
	char val[48], want[128];
	for (size_t n = 0; n < sizeof(val); n++) {
		for (size_t i = 0; i < n; i++)
			val[i] = (char)('a' + (i * 7 + n) % 26);
		val[n] = '\0';
		om_buf b;
		om_buf_init(&b, 4096);
		om_json j;
		om_json_init(&j, &b);
		om_json_obj_open(&j, NULL);
		om_json_kstr(&j, OM_JK("k"), val);
		om_json_obj_close(&j);
		snprintf(want, sizeof(want), "{\"k\":\"%s\"}", val);
		assert_string_equal(om_buf_cstr(&b), want);
		om_buf_free(&b);
	}
	uint64_t v = 0;
	for (int digits = 1; digits <= 20; digits++) {
		v = digits == 20 ? UINT64_MAX : v * 10 + (uint64_t)(digits % 10);
		om_buf b;
		om_buf_init(&b, 4096);
		om_json j;
		om_json_init(&j, &b);
		om_json_obj_open(&j, NULL);
		om_json_ku64(&j, OM_JK("a_key_of_twenty_bytes"), v);
		om_json_u64(&j, "n", v);
		om_json_obj_close(&j);
		snprintf(want, sizeof(want),
		         "{\"a_key_of_twenty_bytes\":%" PRIu64 ",\"n\":%" PRIu64 "}", v, v);
		assert_string_equal(om_buf_cstr(&b), want);
		om_buf_free(&b);
	}
}

/* om_addr_str writes what inet_ntop writes, for chosen edge cases and for
 * addresses made of random words, many of them zero (every run of zeros,
 * embedded IPv4 forms). */
static void test_addr_str_like_inet_ntop(void **state)
{
	(void)state;
	static const char *const cases[] = {
	    "::",
	    "::1",
	    "1::",
	    "::ffff:1.2.3.4",
	    "::1.2.3.4",
	    "::ffff:0:0",
	    "1:0:0:2:0:0:0:3",
	    "1:0:0:2:0:0:3:4",
	    "2001:db8::",
	    "0:0:1::",
	    "1:2:3:4:5:6:7:8",
	    "1:2:3:4:5:6:7::",
	    "::2:3:4:5:6:7:8",
	    "fe80::1:0:0:1",
	    "0.0.0.0",
	    "255.255.255.255",
	    "10.0.0.1",
	    "1:0:2:0:3:0:4:0",
	    "::0.0.0.2",
	    "::ffff:0.0.0.0",
	};
	char got[64], want[64];
	om_addr a;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(om_addr_parse(cases[i], &a), 0);
		om_addr_str(&a, got, sizeof(got));
		if (om_addr_is_v4(&a))
			assert_non_null(inet_ntop(AF_INET, a.b + 12, want, sizeof(want)));
		else
			assert_non_null(inet_ntop(AF_INET6, a.b, want, sizeof(want)));
		assert_string_equal(got, want);
	}
	uint64_t x = 0x9e3779b97f4a7c15ull;
	for (int i = 0; i < 200000; i++) {
		for (int k = 0; k < 16; k += 2) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			unsigned w = (x & 3) ? 0 : (unsigned)(x >> 20) & 0xffff;
			if ((x >> 40 & 7) == 0)
				w &= 0xff;
			a.b[k] = (uint8_t)(w >> 8);
			a.b[k + 1] = (uint8_t)w;
		}
		if ((x >> 50 & 15) == 0) { /* the mapped prefix: IPv4 */
			memset(a.b, 0, 10);
			a.b[10] = a.b[11] = 0xff;
		}
		om_addr_str(&a, got, sizeof(got));
		if (om_addr_is_v4(&a))
			assert_non_null(inet_ntop(AF_INET, a.b + 12, want, sizeof(want)));
		else
			assert_non_null(inet_ntop(AF_INET6, a.b, want, sizeof(want)));
		assert_string_equal(got, want);
	}
	/* a short buffer gets what fits, terminated */
	assert_int_equal(om_addr_parse("192.168.100.200", &a), 0);
	om_addr_str(&a, got, 8);
	assert_string_equal(got, "192.168");
}

static void test_addr_cidr(void **state)
{
	(void)state;
	om_addr a;
	om_cidr c;
	char s[64];
	assert_int_equal(om_addr_parse("192.168.1.20", &a), 0);
	assert_true(om_addr_is_v4(&a));
	om_addr_str(&a, s, sizeof(s));
	assert_string_equal(s, "192.168.1.20");
	assert_int_equal(om_cidr_parse("192.168.0.0/16", &c), 0);
	assert_true(om_cidr_contains(&c, &a));
	assert_int_equal(om_addr_parse("192.169.0.1", &a), 0);
	assert_false(om_cidr_contains(&c, &a));
	/* host bits are cleared */
	assert_int_equal(om_cidr_parse("10.1.2.3/8", &c), 0);
	assert_int_equal(om_addr_parse("10.200.0.1", &a), 0);
	assert_true(om_cidr_contains(&c, &a));
	/* non-byte prefix */
	assert_int_equal(om_cidr_parse("172.16.0.0/12", &c), 0);
	assert_int_equal(om_addr_parse("172.31.255.255", &a), 0);
	assert_true(om_cidr_contains(&c, &a));
	assert_int_equal(om_addr_parse("172.32.0.0", &a), 0);
	assert_false(om_cidr_contains(&c, &a));
	/* IPv6 */
	assert_int_equal(om_cidr_parse("fc00::/7", &c), 0);
	assert_int_equal(om_addr_parse("fd12::1", &a), 0);
	assert_true(om_cidr_contains(&c, &a));
	assert_int_equal(om_addr_parse("fe80::1", &a), 0);
	assert_false(om_cidr_contains(&c, &a));
	om_addr_str(&a, s, sizeof(s));
	assert_string_equal(s, "fe80::1");
	/* /0 holds everything of its family's mapped space */
	assert_int_equal(om_cidr_parse("0.0.0.0/0", &c), 0);
	assert_int_equal(om_addr_parse("8.8.8.8", &a), 0);
	assert_true(om_cidr_contains(&c, &a));
	/* bad input */
	assert_int_equal(om_cidr_parse("10.0.0.0/33", &c), -EINVAL);
	assert_int_equal(om_cidr_parse("10.0.0/8", &c), -EINVAL);
	assert_int_equal(om_cidr_parse("", &c), -EINVAL);
	assert_int_equal(om_cidr_parse("fc00::/129", &c), -EINVAL);
	assert_int_equal(om_cidr_parse("10.0.0.0/-1", &c), -EINVAL);
	assert_int_equal(om_cidr_parse("10.0.0.0/8x", &c), -EINVAL);
}

static void test_parse_u64(void **state)
{
	(void)state;
	uint64_t v = 7;
	assert_int_equal(om_parse_u64("42", 0, 100, &v), 0);
	assert_int_equal(v, 42);
	v = 7;
	assert_int_equal(om_parse_u64("101", 0, 100, &v), -ERANGE);
	assert_int_equal(v, 7); /* untouched on error */
	assert_int_equal(om_parse_u64("-1", 0, 100, &v), -EINVAL);
	assert_int_equal(om_parse_u64("", 0, 100, &v), -EINVAL);
	assert_int_equal(om_parse_u64("12a", 0, 100, &v), -EINVAL);
	assert_int_equal(om_parse_u64(" 1", 0, 100, &v), -EINVAL);
	assert_int_equal(om_parse_u64("99999999999999999999999", 0, UINT64_MAX, &v), -EINVAL);
	assert_int_equal(v, 7);
}

static void test_time(void **state)
{
	(void)state;
	char s[40];
	/* 2024-05-31T23:59:59.000001Z = 1717199999 s */
	om_time_iso(1717199999000001ull, s, sizeof(s));
	assert_string_equal(s, "2024-05-31T23:59:59.000001+0000");
	om_time_day(1717199999000001ull, s, sizeof(s));
	assert_string_equal(s, "2024-05-31");
	om_time_day(1717200000000000ull, s, sizeof(s));
	assert_string_equal(s, "2024-06-01");
	/* leap day, epoch, and the turn of a century (2100 is not a leap year) */
	om_time_iso(1709164800000000ull, s, sizeof(s)); /* 2024-02-29T00:00:00Z */
	assert_string_equal(s, "2024-02-29T00:00:00.000000+0000");
	om_time_iso(0, s, sizeof(s));
	assert_string_equal(s, "1970-01-01T00:00:00.000000+0000");
	om_time_iso(4107542399999999ull, s, sizeof(s)); /* 2100-02-28T23:59:59.999999Z */
	assert_string_equal(s, "2100-02-28T23:59:59.999999+0000");
	om_time_iso(4107542400000000ull, s, sizeof(s));
	assert_string_equal(s, "2100-03-01T00:00:00.000000+0000");
	/* agrees with gmtime over a spread of instants */
	for (uint64_t sec = 0; sec < 4102444800ull; sec += 86400ull * 37 + 3671) {
		char a[40], b[96];
		time_t tt = (time_t)sec;
		struct tm tm;
		gmtime_r(&tt, &tm);
		snprintf(b, sizeof(b), "%04d-%02d-%02dT%02d:%02d:%02d.000123+0000",
		         tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
		         tm.tm_sec);
		om_time_iso(sec * 1000000 + 123, a, sizeof(a));
		assert_string_equal(a, b);
	}
	/* what a thread keeps from its last call (the date, the whole
	 * string) never leaks into the next: the same instant twice, another
	 * instant of the same day, the day before, a time past year 9999 */
	om_time_iso(1717199999000001ull, s, sizeof(s));
	om_time_iso(1717199999000001ull, s, sizeof(s));
	assert_string_equal(s, "2024-05-31T23:59:59.000001+0000");
	om_time_iso(1717113600000000ull, s, sizeof(s));
	assert_string_equal(s, "2024-05-31T00:00:00.000000+0000");
	om_time_iso(1717113599999999ull, s, sizeof(s));
	assert_string_equal(s, "2024-05-30T23:59:59.999999+0000");
	om_time_iso(UINT64_MAX, s, sizeof(s));
	assert_string_equal(s, "9999-12-31T23:59:59.999999+0000");
	om_time_iso(UINT64_MAX, s, sizeof(s));
	assert_string_equal(s, "9999-12-31T23:59:59.999999+0000");
	om_time_iso(1717113599999999ull, s, sizeof(s));
	assert_string_equal(s, "2024-05-30T23:59:59.999999+0000");
}

static void test_hash(void **state)
{
	(void)state;
	const char a[] = "abcdefghij", b[] = "abcdefghik";
	assert_int_equal(om_hash64(a, 10, 1), om_hash64(a, 10, 1));
	assert_int_not_equal(om_hash64(a, 10, 1), om_hash64(b, 10, 1));
	assert_int_not_equal(om_hash64(a, 10, 1), om_hash64(a, 10, 2));
	assert_int_not_equal(om_hash64(a, 9, 1), om_hash64(a, 10, 1));
}

/* SipHash against values from outside this code: SipHash-2-4 from the
 * reference test vectors of its paper (key 00..0f, message 00..len-1);
 * SipHash-1-3 from CPython 3.11's hash of bytes, which is SipHash-1-3 with
 * an all-zero key when PYTHONHASHSEED=0. */
static void test_siphash(void **state)
{
	(void)state;
	uint8_t m[64];
	for (int i = 0; i < 64; i++)
		m[i] = (uint8_t)i;
	const om_hash_key k = {0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL};
	assert_int_equal(om_siphash24(&k, m, 0), 0x726fdb47dd0e0e31ULL);
	assert_int_equal(om_siphash24(&k, m, 8), 0x93f5f5799a932462ULL);
	assert_int_equal(om_siphash24(&k, m, 15), 0xa129ca6149be45e5ULL);
	const om_hash_key z = {0, 0};
	assert_int_equal(om_siphash(&z, m, 15), 0xf30eb725bb91c9eaULL);
	assert_int_equal(om_siphash(&z, m, 39), 0x6c76b6d34bb6d26bULL);
	/* the key matters */
	assert_int_not_equal(om_siphash(&k, m, 39), om_siphash(&z, m, 39));
	/* whole words: the same function as over their little-endian bytes
	 * (om_siphash is checked against the vectors above) */
	uint64_t w[8];
	for (int i = 0; i < 8; i++) {
		w[i] = 0;
		for (int b = 0; b < 8; b++)
			w[i] |= (uint64_t)m[8 * i + b] << (8 * b);
	}
	for (size_t n = 0; n <= 8; n++) {
		assert_int_equal(om_siphash_words(&k, w, n), om_siphash(&k, m, 8 * n));
		assert_int_equal(om_siphash_words(&z, w, n), om_siphash(&z, m, 8 * n));
	}
	assert_int_not_equal(om_siphash_words(&k, w, 3), om_siphash_words(&z, w, 3));

	/* random keys: two draws differ; the process key is made once */
	om_hash_key r1, r2;
	assert_int_equal(om_hash_key_random(&r1), 0);
	assert_int_equal(om_hash_key_random(&r2), 0);
	assert_true(r1.k0 != r2.k0 || r1.k1 != r2.k1);
	const om_hash_key *p1 = om_hash_key_process(), *p2 = om_hash_key_process();
	assert_ptr_equal(p1, p2);
	assert_true(p1->k0 != 0 || p1->k1 != 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_buf_limit),
	    cmocka_unit_test(test_buf_html),
	    cmocka_unit_test(test_json_writer),
	    cmocka_unit_test(test_json_hostile_bytes),
	    cmocka_unit_test(test_json_fast_paths),
	    cmocka_unit_test(test_json_literal_keys),
	    cmocka_unit_test(test_json_short_copies),
	    cmocka_unit_test(test_json_escape_words),
	    cmocka_unit_test(test_cidr_contains_words),
	    cmocka_unit_test(test_addr_cidr),
	    cmocka_unit_test(test_addr_str_like_inet_ntop),
	    cmocka_unit_test(test_parse_u64),
	    cmocka_unit_test(test_time),
	    cmocka_unit_test(test_hash),
	    cmocka_unit_test(test_siphash),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
