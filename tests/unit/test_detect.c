/* Unit tests of the rule engine: parsing (accepted, skipped, invalid), the
 * header's addresses and ports, every match keyword on crafted payloads
 * with the expected result worked out by hand in each test, flowbits,
 * thresholds, transactions, categories and the `rules check` JSON. */
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "detect/detect.h"

struct got {
	unsigned n;
	uint32_t sids[64];
	const char *category[64];
	const char *advice[64];
	int prio[64];
};

static void on_alert(void *user, const om_detect_alert *a)
{
	struct got *g = user;
	if (g->n < 64) {
		g->sids[g->n] = a->sid;
		g->category[g->n] = a->category;
		g->advice[g->n] = a->advice;
		g->prio[g->n] = a->priority;
	}
	g->n++;
}

static om_detect *load(const char *rules, om_detect_load_stats *st)
{
	om_detect *d = NULL;
	om_config_nets home;
	memset(&home, 0, sizeof(home));
	assert_int_equal(om_cidr_parse("192.168.1.0/24", &home.net[0]), 0);
	home.count = 1;
	assert_int_equal(om_detect_new(&home, &d), 0);
	om_detect_load_stats local;
	memset(&local, 0, sizeof(local));
	assert_int_equal(
	    om_detect_add_rules(d, rules, strlen(rules), "test.rules", 0, st ? st : &local), 0);
	char err[256] = "";
	assert_int_equal(om_detect_compile(d, err, sizeof(err)), 0);
	return d;
}

static void v4(om_addr *a, const char *s)
{
	assert_int_equal(om_addr_parse(s, a), 0);
}

/* a TCP packet of an established flow, client 192.168.1.10:40000 ->
 * 203.0.113.5:80 (toserver) or back */
struct pk {
	om_packet p;
	om_flow f;
};

static void mk(struct pk *k, const char *payload, size_t len, int dir)
{
	memset(k, 0, sizeof(*k));
	om_addr cli, srv;
	v4(&cli, "192.168.1.10");
	v4(&srv, "203.0.113.5");
	k->f.cli = cli;
	k->f.srv = srv;
	k->f.cport = 40000;
	k->f.sport = 80;
	k->f.proto = IPPROTO_TCP;
	k->f.flow_id = 77;
	k->f.tcp_state = OM_TCP_ESTABLISHED;
	k->f.pkts[0] = 1; /* the first packet each way (address-only rules) */
	k->f.pkts[1] = 1;
	k->p.ip_ver = 4;
	k->p.proto = IPPROTO_TCP;
	k->p.flags = OM_PKT_TCP | OM_PKT_HAS_PORTS;
	k->p.src = dir == OM_DIR_TOSERVER ? cli : srv;
	k->p.dst = dir == OM_DIR_TOSERVER ? srv : cli;
	k->p.sport = dir == OM_DIR_TOSERVER ? 40000 : 80;
	k->p.dport = dir == OM_DIR_TOSERVER ? 80 : 40000;
	k->p.payload = (const uint8_t *)payload;
	k->p.payload_len = (uint32_t)len;
	k->p.ts = 1700000000ull * 1000000ull;
}

/* how many alerts one rule gives on one toserver payload */
static unsigned hits(const char *rule, const char *payload, size_t len)
{
	om_detect *d = load(rule, NULL);
	assert_int_equal(om_detect_rule_count(d), 1);
	struct got g = {0};
	om_detect_worker *w = om_detect_worker_new(d, on_alert, &g);
	assert_non_null(w);
	struct pk k;
	mk(&k, payload, len, OM_DIR_TOSERVER);
	om_detect_packet(w, &k.f, &k.p, OM_DIR_TOSERVER);
	om_detect_worker_free(w);
	om_detect_free(d);
	return g.n;
}

#define HITS(rule, payload) hits(rule, payload, sizeof(payload) - 1)

static void test_content_chain_backtracks(void **state)
{
	(void)state;
	/* ABC at 2 and 7; DEF at 12. From the first ABC (end 5) the window
	 * is [5,10): no DEF; from the second (end 10) it is [10,15) and DEF
	 * ends at 15: a match only when the first content is retried. */
	const char *r =
	    "alert tcp any any -> any any (msg:\"t\"; content:\"ABC\"; content:\"DEF\"; "
	    "distance:0; within:5; sid:1;)";
	assert_int_equal(HITS(r, "xxABCyyABCzzDEF"), 1);
	/* within 4 from end 10 is [10,14): DEF (12..15) does not fit */
	const char *r2 =
	    "alert tcp any any -> any any (msg:\"t\"; content:\"ABC\"; content:\"DEF\"; "
	    "distance:0; within:4; sid:1;)";
	assert_int_equal(HITS(r2, "xxABCyyABCzzDEF"), 0);
	/* distance 3 within 5: from end 5 the window is [8,13), from end 10
	 * it is [13,18); DEF (12..15) is in neither */
	const char *r3 =
	    "alert tcp any any -> any any (msg:\"t\"; content:\"ABC\"; content:\"DEF\"; "
	    "distance:3; within:5; sid:1;)";
	assert_int_equal(HITS(r3, "xxABCyyABCzzDEF"), 0);
	const char *r4 =
	    "alert tcp any any -> any any (msg:\"t\"; content:\"ABC\"; content:\"DEF\"; "
	    "distance:2; sid:1;)";
	assert_int_equal(HITS(r4, "xxABCyyABCzzDEF"), 1);
}

static void test_content_modifiers(void **state)
{
	(void)state;
	/* offset 2 depth 3: only bytes 2..4 */
	assert_int_equal(
	    HITS("alert tcp any any -> any any (content:\"ABC\"; offset:2; depth:3; sid:1;)",
	         "xxABC"),
	    1);
	assert_int_equal(
	    HITS("alert tcp any any -> any any (content:\"ABC\"; offset:3; depth:3; sid:1;)",
	         "xxABCx"),
	    0);
	assert_int_equal(
	    HITS("alert tcp any any -> any any (content:\"abc\"; nocase; sid:1;)", "xAbC"), 1);
	assert_int_equal(HITS("alert tcp any any -> any any (content:\"abc\"; sid:1;)", "xAbC"), 0);
	assert_int_equal(
	    HITS("alert tcp any any -> any any (content:\"GET\"; startswith; sid:1;)", "GET /"), 1);
	assert_int_equal(
	    HITS("alert tcp any any -> any any (content:\"GET\"; startswith; sid:1;)", " GET /"),
	    0);
	assert_int_equal(
	    HITS("alert tcp any any -> any any (content:\".exe\"; endswith; sid:1;)", "a.exe"), 1);
	assert_int_equal(
	    HITS("alert tcp any any -> any any (content:\".exe\"; endswith; sid:1;)", "a.exe1"), 0);
	/* hex and escapes: |41 42| is AB, \; is ; */
	assert_int_equal(
	    HITS("alert tcp any any -> any any (content:\"|41 42|C\\;\"; sid:1;)", "zABC;"), 1);
	/* negated: present somewhere after ABC */
	assert_int_equal(HITS("alert tcp any any -> any any (content:\"ABC\"; content:!\"X\"; "
	                      "distance:0; sid:1;)",
	                      "ABCyyX"),
	                 0);
	assert_int_equal(HITS("alert tcp any any -> any any (content:\"ABC\"; content:!\"X\"; "
	                      "distance:0; sid:1;)",
	                      "XABCyy"),
	                 1);
	/* dsize */
	assert_int_equal(HITS("alert tcp any any -> any any (dsize:<4; sid:1;)", "abc"), 1);
	assert_int_equal(HITS("alert tcp any any -> any any (dsize:3<>5; sid:1;)", "abcde"), 0);
	/* TCP flags and TTL (the packets of mk() carry no flags and TTL 0) */
	assert_int_equal(HITS("alert tcp any any -> any any (flags:PA; ttl:0; sid:1;)", "x"), 0);
	assert_int_equal(HITS("alert tcp any any -> any any (flags:0; ttl:0; sid:1;)", "x"), 1);
	assert_int_equal(HITS("alert tcp any any -> any any (flags:!S; sid:1;)", "x"), 1);
	assert_int_equal(HITS("alert tcp any any -> any any (flags:*SF; sid:1;)", "x"), 0);
	assert_int_equal(HITS("alert ip any any -> any any (ip_proto:tcp; sid:1;)", "x"), 1);
	assert_int_equal(HITS("alert ip any any -> any any (ip_proto:17; sid:1;)", "x"), 0);
	assert_int_equal(HITS("alert icmp any any -> any any (itype:8; sid:1;)", "x"), 0);
	/* fast pattern chop: the prefilter looks for "BC" only, the rule still
	 * needs all of ABCD */
	assert_int_equal(
	    HITS("alert tcp any any -> any any (content:\"ABCD\"; fast_pattern:1,2; sid:1;)",
	         "xBCx"),
	    0);
	assert_int_equal(
	    HITS("alert tcp any any -> any any (content:\"ABCD\"; fast_pattern:1,2; sid:1;)",
	         "xABCDx"),
	    1);
}

static void test_pcre_and_bytes(void **state)
{
	(void)state;
	/* relative pcre: anchored right after "id=" */
	assert_int_equal(
	    HITS("alert tcp any any -> any any (content:\"id=\"; pcre:\"/^[0-9]{3}&/R\"; "
	         "sid:1;)",
	         "x?id=123&"),
	    1);
	assert_int_equal(
	    HITS("alert tcp any any -> any any (content:\"id=\"; pcre:\"/^[0-9]{3}&/R\"; "
	         "sid:1;)",
	         "x?id=12a&"),
	    0);
	assert_int_equal(
	    HITS("alert tcp any any -> any any (pcre:\"/evil/i\"; sid:1;)", "an EVIL one"), 1);
	assert_int_equal(
	    HITS("alert tcp any any -> any any (pcre:!\"/evil/i\"; sid:1;)", "an EVIL one"), 0);
	/* byte_test: bytes 1..2 big endian 0x0102 = 258 > 257 */
	assert_int_equal(
	    HITS("alert tcp any any -> any any (byte_test:2,>,257,1; sid:1;)", "\x00\x01\x02"), 1);
	assert_int_equal(
	    HITS("alert tcp any any -> any any (byte_test:2,>,258,1; sid:1;)", "\x00\x01\x02"), 0);
	/* little endian: 0x0201 = 513 */
	assert_int_equal(HITS("alert tcp any any -> any any (byte_test:2,=,513,1,little; sid:1;)",
	                      "\x00\x01\x02"),
	                 1);
	/* string: "42" in decimal */
	assert_int_equal(
	    HITS("alert tcp any any -> any any (content:\"n=\"; byte_test:2,=,42,0,relative,"
	         "string,dec; sid:1;)",
	         "n=42"),
	    1);
	/* byte_jump: length byte 3 at 0, jump over 1+3 bytes: "END" at 4 */
	assert_int_equal(
	    HITS("alert tcp any any -> any any (byte_jump:1,0; content:\"END\"; within:3; "
	         "sid:1;)",
	         "\x03xyzEND"),
	    1);
	assert_int_equal(
	    HITS("alert tcp any any -> any any (byte_jump:1,0; content:\"END\"; within:3; "
	         "sid:1;)",
	         "\x02xyzEND"),
	    0);
	/* byte_extract as a distance: skip 2 bytes after the length */
	assert_int_equal(HITS("alert tcp any any -> any any (byte_extract:1,0,len; content:\"OK\"; "
	                      "distance:len; within:2; sid:1;)",
	                      "\x02zzOK"),
	                 1);
	assert_int_equal(HITS("alert tcp any any -> any any (byte_extract:1,0,len; content:\"OK\"; "
	                      "distance:len; within:2; sid:1;)",
	                      "\x01zzOK"),
	                 0);
	/* isdataat relative: 2 more bytes after "AB" (ends at 2, len 4) */
	assert_int_equal(
	    HITS("alert tcp any any -> any any (content:\"AB\"; isdataat:2,relative; sid:1;)",
	         "ABcd"),
	    1);
	assert_int_equal(
	    HITS("alert tcp any any -> any any (content:\"AB\"; isdataat:3,relative; sid:1;)",
	         "ABcd"),
	    0);
	assert_int_equal(HITS("alert tcp any any -> any any (content:\"AB\"; isdataat:!3,relative; "
	                      "sid:1;)",
	                      "ABcd"),
	                 1);
}

/* a packet's rules without a fast pattern are merged with the prefilter's
 * finds: all of them in rule order, each once; on TCP and UDP those with a
 * short list of destination ports only for packets to one of them */
static void test_packet_candidates_order(void **state)
{
	(void)state;
	om_detect *d = load("alert tcp any any -> any any (msg:\"a\"; content:\"zq\"; sid:1;)\n"
	                    "alert tcp any any -> any any (msg:\"b\"; dsize:3; sid:2;)\n"
	                    "alert tcp any any -> any any (msg:\"c\"; content:\"zqx\"; sid:3;)\n"
	                    "alert tcp any any -> any any (msg:\"d\"; dsize:>1; sid:4;)\n"
	                    "alert udp any any -> any any (msg:\"e\"; dsize:3; sid:5;)\n"
	                    "alert tcp any any -> any any (msg:\"f\"; content:\"q\"; sid:6;)\n"
	                    "alert tcp any any -> any 81 (msg:\"g\"; dsize:3; sid:7;)\n"
	                    "alert tcp any any -> any [80,443] (msg:\"h\"; dsize:3; sid:8;)\n"
	                    "alert tcp any 80 <> any 40000 (msg:\"i\"; dsize:3; sid:9;)\n",
	                    NULL);
	struct got g = {0};
	om_detect_worker *w = om_detect_worker_new(d, on_alert, &g);
	struct pk k;
	mk(&k, "zqx", 3, OM_DIR_TOSERVER);
	om_detect_packet(w, &k.f, &k.p, OM_DIR_TOSERVER);
	assert_int_equal(g.n, 7);
	static const uint32_t want[] = {1, 2, 3, 4, 6, 8, 9};
	for (unsigned i = 0; i < 7; i++)
		assert_int_equal(g.sids[i], want[i]);
	/* the rule for port 81 is not even checked on a packet to port 80;
	 * the <> rule is (its ports match the other way round) */
	om_detect_stats st;
	om_detect_worker_stats(w, &st);
	assert_int_equal(st.rules_checked, 8);
	om_detect_worker_free(w);
	om_detect_free(d);
}

static void test_header(void **state)
{
	(void)state;
	/* client 192.168.1.10:40000 -> 203.0.113.5:80 */
	assert_int_equal(
	    HITS("alert tcp $HOME_NET any -> $EXTERNAL_NET $HTTP_PORTS (content:\"a\"; sid:1;)",
	         "a"),
	    1);
	assert_int_equal(
	    HITS("alert tcp $EXTERNAL_NET any -> $HOME_NET any (content:\"a\"; sid:1;)", "a"), 0);
	/* bidirectional */
	assert_int_equal(
	    HITS("alert tcp $EXTERNAL_NET any <> $HOME_NET any (content:\"a\"; sid:1;)", "a"), 1);
	/* lists with negation: 192.168.0.0/16 but not 192.168.1.0/24 */
	assert_int_equal(
	    HITS(
	        "alert tcp [192.168.0.0/16,!192.168.1.0/24] any -> any any (content:\"a\"; sid:1;)",
	        "a"),
	    0);
	assert_int_equal(
	    HITS(
	        "alert tcp [192.168.0.0/16,!192.168.2.0/24] any -> any any (content:\"a\"; sid:1;)",
	        "a"),
	    1);
	assert_int_equal(HITS("alert tcp any any -> any [!80,443] (content:\"a\"; sid:1;)", "a"),
	                 0);
	assert_int_equal(HITS("alert tcp any any -> any [1:79,81:] (content:\"a\"; sid:1;)", "a"),
	                 0);
	assert_int_equal(HITS("alert tcp any any -> any [1:80] (content:\"a\"; sid:1;)", "a"), 1);
	assert_int_equal(HITS("alert udp any any -> any any (content:\"a\"; sid:1;)", "a"), 0);
	/* flow */
	assert_int_equal(
	    HITS("alert tcp any any -> any any (flow:established,to_server; content:\"a\"; "
	         "sid:1;)",
	         "a"),
	    1);
	assert_int_equal(
	    HITS("alert tcp any any -> any any (flow:to_client; content:\"a\"; sid:1;)", "a"), 0);
	/* a large reputation list: 2000 /32s, the client among them */
	char *rule = malloc(64 * 1024);
	size_t o = (size_t)snprintf(rule, 64, "alert ip [");
	for (int i = 0; i < 2000; i++)
		o += (size_t)snprintf(rule + o, 64, "%s10.%d.%d.1", i ? "," : "", i / 200, i % 200);
	o += (size_t)snprintf(rule + o, 128, ",192.168.1.10] any -> any any (msg:\"rep\"; sid:9;)");
	assert_int_equal(HITS(rule, "a"), 1);
	rule[10] = '\0';
	free(rule);
}

static void test_parse_outcomes(void **state)
{
	(void)state;
	om_detect *d = NULL;
	assert_int_equal(om_detect_new(NULL, &d), 0);
	char why[160];
	const char *r = "alert tcp any any -> any any (msg:\"x\"; sid:1;)";
	assert_int_equal(om_detect_parse_one(d, r, strlen(r), why, sizeof(why)), 0);
	r = "alert tcp any any -> any any (msg:\"x\"; stream_size:server,>,1; sid:2;)";
	assert_int_equal(om_detect_parse_one(d, r, strlen(r), why, sizeof(why)), 1);
	assert_string_equal(why, "keyword:stream_size");
	r = "alert smb any any -> any any (msg:\"x\"; sid:3;)";
	assert_int_equal(om_detect_parse_one(d, r, strlen(r), why, sizeof(why)), 1);
	assert_string_equal(why, "protocol:smb");
	r = "alert tcp any any -> any any (msg:\"x\"; content:\"a\"; http.accept; content:\"b\"; "
	    "sid:4;)";
	assert_int_equal(om_detect_parse_one(d, r, strlen(r), why, sizeof(why)), 1);
	assert_string_equal(why, "buffer:http.accept");
	/* invalid: no sid, bad hex, unknown direction, unterminated option */
	r = "alert tcp any any -> any any (msg:\"x\";)";
	assert_true(om_detect_parse_one(d, r, strlen(r), why, sizeof(why)) < 0);
	r = "alert tcp any any -> any any (content:\"|4|\"; sid:5;)";
	assert_true(om_detect_parse_one(d, r, strlen(r), why, sizeof(why)) < 0);
	r = "alert tcp any any => any any (sid:6;)";
	assert_true(om_detect_parse_one(d, r, strlen(r), why, sizeof(why)) < 0);
	r = "alert tcp any any -> any any (sid:7";
	assert_true(om_detect_parse_one(d, r, strlen(r), why, sizeof(why)) < 0);
	r = "alert tcp any any -> any any (content:\"a\"; within:0; sid:8;)";
	assert_true(om_detect_parse_one(d, r, strlen(r), why, sizeof(why)) < 0);
	/* a value ends at the first unescaped ';', quotes or not */
	r = "alert http any any -> any any (pcre:\"/^[\"']?post/Ri\"; sid:9;)";
	assert_int_equal(om_detect_parse_one(d, r, strlen(r), why, sizeof(why)), 0);
	om_detect_free(d);
}

static void test_check_json(void **state)
{
	(void)state;
	const char *rules =
	    "# a comment\n"
	    "alert tcp any any -> any any (msg:\"ok\"; content:\"a\"; sid:1;)\n"
	    "alert tcp any any -> any any (msg:\"multi\"; \\\n content:\"b\"; sid:2;)\n"
	    "alert tcp any any -> any any (msg:\"skip\"; flowint:x,+,1; sid:3;)\n"
	    "alert tcp any any -> any any (msg:\"skip\"; flowint:y,+,1; sid:4;)\n"
	    "alert tcp any any -> any any (msg:\"bad\" sid:5;)\n"
	    "# alert tcp any any -> any any (msg:\"disabled\"; sid:6;)\n";
	om_detect_load_stats st;
	memset(&st, 0, sizeof(st));
	om_detect *d = load(rules, &st);
	assert_int_equal(st.total, 5);
	assert_int_equal(st.accepted, 2);
	assert_int_equal(st.skipped, 2);
	assert_int_equal(st.syntax_errors, 1);
	om_buf b;
	om_buf_init(&b, 4096);
	om_detect_stats_json(&st, &b);
	assert_string_equal(
	    om_buf_cstr(&b),
	    "{\"total\":5,\"accepted\":2,\"skipped\":{\"keyword:flowint\":2,\"syntax\":1}}");
	om_buf_free(&b);
	om_detect_free(d);
}

static void test_flowbits_threshold(void **state)
{
	(void)state;
	const char *rules = "alert tcp any any -> any any (msg:\"login\"; content:\"USER\"; "
	                    "flowbits:set,ftp.login; "
	                    "flowbits:noalert; sid:10;)\n"
	                    "alert tcp any any -> any any (msg:\"pass\"; content:\"PASS\"; "
	                    "flowbits:isset,ftp.login; "
	                    "sid:11;)\n"
	                    "alert tcp any any -> any any (msg:\"lim\"; content:\"Z\"; "
	                    "threshold:type limit, track by_src, "
	                    "count 2, seconds 60; sid:12;)\n"
	                    "alert tcp any any -> any any (msg:\"df\"; content:\"Q\"; "
	                    "detection_filter:track by_src, "
	                    "count 2, seconds 60; sid:13;)\n";
	om_detect *d = load(rules, NULL);
	struct got g = {0};
	om_detect_worker *w = om_detect_worker_new(d, on_alert, &g);
	struct pk k;
	mk(&k, "PASS x", 6, OM_DIR_TOSERVER);
	om_detect_packet(w, &k.f, &k.p, OM_DIR_TOSERVER);
	assert_int_equal(g.n, 0); /* not set yet */
	mk(&k, "USER a", 6, OM_DIR_TOSERVER);
	om_detect_packet(w, &k.f, &k.p, OM_DIR_TOSERVER);
	assert_int_equal(g.n, 0); /* noalert */
	mk(&k, "PASS x", 6, OM_DIR_TOSERVER);
	om_detect_packet(w, &k.f, &k.p, OM_DIR_TOSERVER);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.sids[0], 11);
	/* another flow: the bit is per flow */
	mk(&k, "PASS x", 6, OM_DIR_TOSERVER);
	k.f.flow_id = 78;
	om_detect_packet(w, &k.f, &k.p, OM_DIR_TOSERVER);
	assert_int_equal(g.n, 1);
	/* limit 2 of 4; detection_filter: from the 3rd of 4 */
	g.n = 0;
	for (int i = 0; i < 4; i++) {
		mk(&k, "ZQ", 2, OM_DIR_TOSERVER);
		om_detect_packet(w, &k.f, &k.p, OM_DIR_TOSERVER);
	}
	unsigned lim = 0, df = 0;
	for (unsigned i = 0; i < g.n; i++) {
		lim += g.sids[i] == 12;
		df += g.sids[i] == 13;
	}
	assert_int_equal(lim, 2);
	assert_int_equal(df, 2);
	om_detect_worker_free(w);
	om_detect_free(d);
}

/* a transaction with a few named buffers */
struct ftx {
	const char *bufs[OM_TXB_COUNT];
	const char *multi[4]; /* dns.query idx */
};

static const uint8_t *ftx_buf(const om_proto_tx *tx, enum om_tx_buf b, uint32_t idx, uint32_t *len)
{
	const struct ftx *t = tx->priv;
	const char *s = NULL;
	if (b == OM_TXB_DNS_QUERY)
		s = idx < 4 ? t->multi[idx] : NULL;
	else if (idx == 0)
		s = t->bufs[b];
	if (!s)
		return NULL;
	*len = (uint32_t)strlen(s);
	return (const uint8_t *)s;
}

static void test_transactions(void **state)
{
	(void)state;
	const char *rules =
	    "alert http $HOME_NET any -> $EXTERNAL_NET any (msg:\"uri\"; "
	    "flow:established,to_server; "
	    "http.method; content:\"POST\"; http.uri; content:\"/gate.php\"; startswith; "
	    "classtype:trojan-activity; sid:20;)\n"
	    "alert http any any -> any any (msg:\"legacy\"; content:\"gate\"; http_uri; "
	    "content:\"Mozilla\"; http_user_agent; sid:21;)\n"
	    "alert dns any any -> any any (msg:\"dns\"; dns.query; dotprefix; "
	    "content:\".evil.example\"; "
	    "endswith; sid:22;)\n"
	    "alert http any any -> any any (msg:\"resp\"; flow:to_client; http.stat_code; "
	    "content:\"404\"; "
	    "sid:23;)\n"
	    "alert http any any -> any any (msg:\"urilen\"; urilen:>5; sid:24;)\n";
	om_detect *d = load(rules, NULL);
	struct got g = {0};
	om_detect_worker *w = om_detect_worker_new(d, on_alert, &g);
	struct pk k;
	mk(&k, "", 0, OM_DIR_TOSERVER);
	struct ftx t;
	memset(&t, 0, sizeof(t));
	t.bufs[OM_TXB_HTTP_METHOD] = "POST";
	t.bufs[OM_TXB_HTTP_URI] = "/gate.php?id=1";
	t.bufs[OM_TXB_HTTP_USER_AGENT] = "Mozilla/5.0";
	t.bufs[OM_TXB_HTTP_STAT_CODE] = "404";
	om_proto_tx tx = {.app_proto = "http",
	                  .tx_id = 0,
	                  .progress = OM_TX_REQUEST,
	                  .dir = OM_DIR_TOSERVER,
	                  .buffer = ftx_buf,
	                  .priv = &t};
	enum om_tx_verdict v = om_detect_tx(w, &k.f, &tx);
	assert_int_equal(v, OM_TX_VERDICT_ALERT);
	assert_int_equal(g.n, 3);
	assert_int_equal(g.sids[0], 20);
	assert_int_equal(g.sids[1], 21);
	assert_int_equal(g.sids[2], 24);
	/* trojan-activity from an inside source: c2, priority 1 */
	assert_string_equal(g.category[0], "c2");
	assert_string_equal(g.advice[0], "detect.c2");
	assert_int_equal(g.prio[0], 1);
	/* the response: only the to_client rule */
	tx.dir = OM_DIR_TOCLIENT;
	tx.progress = OM_TX_REQUEST | OM_TX_RESPONSE;
	om_detect_tx(w, &k.f, &tx);
	assert_int_equal(g.n, 4);
	assert_int_equal(g.sids[3], 23);
	/* dns: the second question matches; "notevil.example" does not
	 * (dotprefix makes it ".notevil.example") */
	struct ftx q;
	memset(&q, 0, sizeof(q));
	q.multi[0] = "notevil.example";
	om_proto_tx dtx = {
	    .app_proto = "dns", .dir = OM_DIR_TOSERVER, .buffer = ftx_buf, .priv = &q};
	k.f.proto = IPPROTO_UDP;
	om_detect_tx(w, &k.f, &dtx);
	assert_int_equal(g.n, 4);
	q.multi[1] = "www.evil.example";
	om_detect_tx(w, &k.f, &dtx);
	assert_int_equal(g.n, 5);
	assert_int_equal(g.sids[4], 22);
	q.multi[1] = "evil.example";
	om_detect_tx(w, &k.f, &dtx);
	assert_int_equal(g.n, 6);
	om_detect_worker_free(w);
	om_detect_free(d);
}

/* which rules a transaction checks: a fast pattern in a transformed buffer
 * is prefiltered on the transformed value (a DNS query without it checks
 * no rule), a rule without a fast pattern only on transactions that have
 * the buffer it needs, and many candidates are checked in rule order */
static void test_tx_candidates(void **state)
{
	(void)state;
	om_buf rb;
	om_buf_init(&rb, 1u << 20);
	om_buf_puts(&rb, "alert dns any any -> any any (msg:\"d\"; dns.query; dotprefix; "
	                 "content:\".evil.example\"; endswith; sid:1;)\n"
	                 "alert http any any -> any any (msg:\"p\"; http.user_agent; "
	                 "pcre:\"/^curl/\"; sid:2;)\n");
	/* 60 rules on one URI: more than the few the insertion sort takes */
	for (unsigned i = 0; i < 60; i++)
		om_buf_printf(&rb,
		              "alert http any any -> any any (msg:\"u\"; http.uri; "
		              "content:\"/k%02u\"; %ssid:%u;)\n",
		              59 - i, i == 59 ? "flowbits:set,b59; " : "", 100 + i);
	/* a rule that tests the bit the rule before it sets on the same
	 * transaction: it sees it only when checked after it */
	om_buf_puts(&rb, "alert http any any -> any any (msg:\"f\"; http.uri; content:\"/k\"; "
	                 "flowbits:isset,b59; sid:200;)\n");
	om_detect *d = load(om_buf_cstr(&rb), NULL);
	om_buf_free(&rb);
	struct got g = {0};
	om_detect_worker *w = om_detect_worker_new(d, on_alert, &g);
	struct pk k;
	mk(&k, "", 0, OM_DIR_TOSERVER);
	k.f.proto = IPPROTO_UDP;
	struct ftx q;
	memset(&q, 0, sizeof(q));
	q.multi[0] = "www.example.org";
	om_proto_tx dtx = {
	    .app_proto = "dns", .dir = OM_DIR_TOSERVER, .buffer = ftx_buf, .priv = &q};
	om_detect_stats st;
	om_detect_tx(w, &k.f, &dtx);
	om_detect_worker_stats(w, &st);
	assert_int_equal(st.rules_checked, 0);
	/* the transformed prefilter finds ".evil.example" in ".evil.example"
	 * and in "a.evil.example" */
	q.multi[0] = "evil.example";
	q.multi[1] = "a.evil.example";
	om_detect_tx(w, &k.f, &dtx);
	om_detect_worker_stats(w, &st);
	assert_int_equal(st.rules_checked, 1);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.sids[0], 1);
	/* an HTTP request without a User-Agent: the pcre rule is not checked;
	 * every URI rule's content is in "/k00...k59" */
	k.f.proto = IPPROTO_TCP;
	om_buf u;
	om_buf_init(&u, 4096);
	for (unsigned i = 0; i < 60; i++)
		om_buf_printf(&u, "/k%02u", i);
	struct ftx t;
	memset(&t, 0, sizeof(t));
	t.bufs[OM_TXB_HTTP_URI] = om_buf_cstr(&u);
	om_proto_tx htx = {.app_proto = "http",
	                   .progress = OM_TX_REQUEST,
	                   .dir = OM_DIR_TOSERVER,
	                   .buffer = ftx_buf,
	                   .priv = &t};
	g.n = 0;
	om_detect_tx(w, &k.f, &htx);
	om_detect_worker_stats(w, &st);
	assert_int_equal(st.rules_checked, 1 + 61);
	assert_int_equal(g.n, 61);
	for (unsigned i = 0; i < 60; i++)
		assert_int_equal(g.sids[i], 100 + i);
	assert_int_equal(g.sids[60], 200);
	/* with a User-Agent the pcre rule is checked (and matches) */
	t.bufs[OM_TXB_HTTP_USER_AGENT] = "curl/8.0";
	g.n = 0;
	om_detect_tx(w, &k.f, &htx);
	om_detect_worker_stats(w, &st);
	assert_int_equal(st.rules_checked, 1 + 61 + 62);
	assert_int_equal(g.n, 62);
	assert_int_equal(g.sids[0], 2);
	om_buf_free(&u);
	om_detect_worker_free(w);
	om_detect_free(d);
}

static void test_actions_and_categories(void **state)
{
	(void)state;
	const char *rules = "drop tcp any any -> any any (msg:\"d\"; content:\"DROPME\"; "
	                    "classtype:attempted-admin; sid:30;)\n";
	om_detect *d = load(rules, NULL);
	struct got g = {0};
	om_detect_worker *w = om_detect_worker_new(d, on_alert, &g);
	struct pk k;
	/* from outside to the inside host: an inbound exploit */
	mk(&k, "xDROPME", 7, OM_DIR_TOCLIENT);
	om_detect_packet(w, &k.f, &k.p, OM_DIR_TOCLIENT);
	assert_int_equal(g.n, 1);
	assert_string_equal(g.category[0], "intrusion");
	assert_true(k.f.flags & OM_FLOW_F_DROP);
	assert_true(k.f.flags & OM_FLOW_F_ALERTED);
	assert_false(k.f.flags & OM_FLOW_F_REJECT);
	om_detect_worker_free(w);
	om_detect_free(d);
}

static void test_reload(void **state)
{
	(void)state;
	char dir[] = "/tmp/test-detect-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[256];
	snprintf(path, sizeof(path), "%s/a.rules", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("alert tcp any any -> any any (msg:\"one\"; content:\"a\"; sid:1;)\n", f);
	fclose(f);
	om_detect_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	snprintf(cfg.files[0], sizeof(cfg.files[0]), "%s", path);
	cfg.nfiles = 1;
	char err[512];
	om_detect *d = NULL;
	assert_int_equal(om_detect_from_config(&cfg, NULL, NULL, 0, 0, &d, err, sizeof(err)), 0);
	om_detect_slot *slot = om_detect_slot_new(d);
	const om_detect *held = om_detect_slot_acquire(slot);
	assert_ptr_equal(held, d);
	/* a missing file: the running set stays */
	snprintf(cfg.files[1], sizeof(cfg.files[1]), "%s/missing.rules", dir);
	cfg.nfiles = 2;
	assert_true(om_detect_reload(slot, &cfg, NULL, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "missing.rules"));
	const om_detect *now = om_detect_slot_acquire(slot);
	assert_ptr_equal(now, d);
	om_detect_slot_release(slot, now);
	/* a good reload: the new set is current, the old one stays valid for
	 * its holder until released */
	f = fopen(path, "a");
	fputs("alert tcp any any -> any any (msg:\"two\"; content:\"b\"; sid:2;)\n", f);
	fclose(f);
	cfg.nfiles = 1;
	assert_int_equal(om_detect_reload(slot, &cfg, NULL, err, sizeof(err)), 0);
	now = om_detect_slot_acquire(slot);
	assert_ptr_not_equal(now, held);
	assert_int_equal(om_detect_rule_count(now), 2);
	assert_int_equal(om_detect_rule_count(held), 1);
	/* a third set while the first is still held: refused, nothing lost */
	assert_int_equal(om_detect_reload(slot, &cfg, NULL, err, sizeof(err)), -EBUSY);
	om_detect_slot_release(slot, held); /* frees the first set */
	om_detect_slot_release(slot, now);
	assert_int_equal(om_detect_reload(slot, &cfg, NULL, err, sizeof(err)), 0);
	om_detect_slot_free(slot);
	unlink(path);
	rmdir(dir);
}

/* ---- the TCP stream --------------------------------------------------------------- */

/* a real stream in front of a detect worker, as the engine has it: each
 * delivery goes to om_detect_stream (and _end), each packet then to
 * om_detect_packet; alerts note the packet (its ts is its number) */
struct sfx {
	om_stream_ctx *s;
	om_detect *d;
	om_detect_worker *w;
	om_flow f;
	const om_packet *cur;
	uint32_t seq[2];
	unsigned npk;
	unsigned n;
	uint32_t sid[32];
	uint64_t pkt[32];
};

static void sfx_alert(void *user, const om_detect_alert *a)
{
	struct sfx *x = user;
	if (x->n < 32) {
		x->sid[x->n] = a->sid;
		x->pkt[x->n] = a->pkt ? a->pkt->ts : 0;
	}
	x->n++;
}

static void sfx_data(void *user, om_flow *f, int dir, const uint8_t *data, uint32_t len,
                     uint64_t off, unsigned flags)
{
	struct sfx *x = user;
	(void)flags;
	om_detect_stream(x->w, f, dir, data, len, off, x->cur);
	om_detect_stream_end(x->w);
}

/* one packet; rel: its sequence number past the next expected one */
static void sfx_pkt(struct sfx *x, int dir, uint8_t flags, int32_t rel, const char *data,
                    uint32_t len)
{
	om_packet p;
	memset(&p, 0, sizeof(p));
	om_addr cli, srv;
	v4(&cli, "192.168.1.10");
	v4(&srv, "203.0.113.5");
	p.ip_ver = 4;
	p.proto = IPPROTO_TCP;
	p.flags = OM_PKT_IPV4 | OM_PKT_TCP | OM_PKT_HAS_PORTS;
	p.src = dir ? srv : cli;
	p.dst = dir ? cli : srv;
	p.sport = dir ? 80 : 40000;
	p.dport = dir ? 40000 : 80;
	p.tcp_flags = flags;
	p.tcp_seq = x->seq[dir] + (uint32_t)rel;
	p.tcp_ack = x->seq[!dir];
	p.tcp_win = 65535;
	p.tcp_wscale = 0xff;
	p.payload = (const uint8_t *)data;
	p.payload_len = len;
	p.ts = ++x->npk;
	x->f.pkts[dir]++;
	x->cur = &p;
	om_stream_packet(x->s, &x->f, &p, dir);
	om_detect_packet(x->w, &x->f, &p, dir);
	x->cur = NULL;
	if (rel == 0)
		x->seq[dir] += len + ((flags & (OM_TH_SYN | OM_TH_FIN)) ? 1 : 0);
}

static void sfx_new(struct sfx *x, const char *rules)
{
	memset(x, 0, sizeof(*x));
	x->d = load(rules, NULL);
	x->w = om_detect_worker_new(x->d, sfx_alert, x);
	assert_non_null(x->w);
	om_stream_callbacks cb = {sfx_data, NULL, NULL, x, NULL};
	x->s = om_stream_new(0, 1u << 20, &cb);
	assert_non_null(x->s);
	v4(&x->f.cli, "192.168.1.10");
	v4(&x->f.srv, "203.0.113.5");
	x->f.cport = 40000;
	x->f.sport = 80;
	x->f.proto = IPPROTO_TCP;
	x->f.flow_id = 99;
	x->seq[0] = 1000;
	x->seq[1] = 70000;
	sfx_pkt(x, 0, OM_TH_SYN, 0, NULL, 0);
	sfx_pkt(x, 1, OM_TH_SYN | OM_TH_ACK, 0, NULL, 0);
	sfx_pkt(x, 0, OM_TH_ACK, 0, NULL, 0); /* packets 1-3 */
}

static void sfx_free(struct sfx *x)
{
	om_stream_flow_end(x->s, &x->f);
	om_stream_free(x->s);
	om_detect_worker_free(x->w);
	om_detect_free(x->d);
}

#define SEND(x, s) sfx_pkt(x, 0, OM_TH_ACK | OM_TH_PUSH, 0, s, (uint32_t)strlen(s))

static void test_stream_segments(void **state)
{
	(void)state;
	struct sfx x;
	/* two segments, then one byte per segment: one alert each, on the
	 * packet that completes the pattern */
	sfx_new(&x, "alert tcp any any -> any any (content:\"SPLIT-ME\"; sid:1;)\n"
	            "alert tcp any any -> any any (content:\"ONE-BY-ONE\"; sid:2;)\n");
	SEND(&x, "xxSPL");   /* 4 */
	SEND(&x, "IT-MEyy"); /* 5 */
	const char *b = "ONE-BY-ONE";
	for (size_t i = 0; b[i]; i++)
		sfx_pkt(&x, 0, OM_TH_ACK, 0, b + i, 1); /* 6..15 */
	/* bytes that only follow a match already found: nothing new */
	SEND(&x, "zz"); /* 16 */
	assert_int_equal(x.n, 2);
	assert_int_equal(x.sid[0], 1);
	assert_int_equal(x.pkt[0], 5);
	assert_int_equal(x.sid[1], 2);
	assert_int_equal(x.pkt[1], 15);
	/* the same pattern again later: found again, once */
	SEND(&x, "..SPLIT-ME"); /* 17 */
	assert_int_equal(x.n, 3);
	assert_int_equal(x.pkt[2], 17);
	sfx_free(&x);
}

static void test_stream_order_and_rewrites(void **state)
{
	(void)state;
	struct sfx x;
	sfx_new(&x, "alert tcp any any -> any any (content:\"OUT-OF-ORDER\"; sid:1;)\n"
	            "alert tcp any any -> any any (content:\"GOOD-BYTES\"; sid:2;)\n"
	            "alert tcp any any -> any any (content:\"EVIL-BYTES\"; sid:3;)\n");
	/* "ORDER" 7 bytes ahead, held; "OUT-OF-" fills the hole */
	sfx_pkt(&x, 0, OM_TH_ACK, 7, "ORDER", 5); /* 4 */
	assert_int_equal(x.n, 0);
	SEND(&x, "OUT-OF-"); /* 5 */
	x.seq[0] += 5;
	assert_int_equal(x.n, 1);
	assert_int_equal(x.sid[0], 1);
	assert_int_equal(x.pkt[0], 5);
	/* delivered bytes rewritten by a retransmission: the stream keeps
	 * the first, so the rewrite never matches (per packet it would) */
	SEND(&x, "GOOD-BYTES");                           /* 6 */
	sfx_pkt(&x, 0, OM_TH_ACK, -10, "EVIL-BYTES", 10); /* 7 */
	assert_int_equal(x.n, 2);
	assert_int_equal(x.sid[1], 2);
	assert_int_equal(x.pkt[1], 6);
	sfx_free(&x);
}

static void test_stream_window_and_flow(void **state)
{
	(void)state;
	struct sfx x;
	sfx_new(&x, "alert tcp any any -> any any (content:\"HEAD\"; content:\"TAIL\"; "
	            "distance:0; sid:1;)\n"
	            "alert tcp any any -> any any (flow:no_stream; content:\"PKT-ONLY\"; sid:2;)\n"
	            "alert tcp any any -> any any (flow:only_stream; content:\"PKT-ONLY\"; "
	            "sid:3;)\n"
	            "alert tcp any any -> any any (content:\"GET\"; depth:3; sid:4;)\n");
	/* 100 bytes between: within the window (the stream keeps 1 KiB) */
	char big[2100];
	memset(big, '.', sizeof(big));
	memcpy(big, "HEAD", 4);
	sfx_pkt(&x, 0, OM_TH_ACK, 0, big, 104); /* 4 */
	SEND(&x, "TAIL");                       /* 5 */
	assert_int_equal(x.n, 1);
	assert_int_equal(x.pkt[0], 5);
	/* 2,000 bytes between: beyond it */
	sfx_pkt(&x, 0, OM_TH_ACK, 0, big, 2004); /* 6 */
	SEND(&x, "TAIL");                        /* 7 */
	assert_int_equal(x.n, 1);
	/* split: only the stream finds it; whole: the packet too */
	SEND(&x, "PKT-"); /* 8 */
	SEND(&x, "ONLY"); /* 9 */
	assert_int_equal(x.n, 2);
	assert_int_equal(x.sid[1], 3);
	assert_int_equal(x.pkt[1], 9);
	SEND(&x, "PKT-ONLY"); /* 10 */
	assert_int_equal(x.n, 4);
	assert_int_equal(x.sid[2], 3); /* the stream before the packet */
	assert_int_equal(x.sid[3], 2);
	assert_int_equal(x.pkt[3], 10);
	/* depth counts from the new bytes: "GET" at the start of a delivery
	 * matches, inside one it does not */
	SEND(&x, "GET /"); /* 11 */
	SEND(&x, "a GET"); /* 12 */
	assert_int_equal(x.n, 5);
	assert_int_equal(x.sid[4], 4);
	assert_int_equal(x.pkt[4], 11);
	om_detect_stats st;
	om_detect_worker_stats(x.w, &st);
	assert_true(st.stream_chunks >= 9);
	sfx_free(&x);
}

static void test_stream_anchored_start(void **state)
{
	(void)state;
	struct sfx x;
	/* the first bytes of the stream cut across segments: depth counts
	 * from the stream's start while the window holds it */
	sfx_new(&x, "alert tcp any any -> any any (content:\"LOGIN\"; depth:5; sid:1;)\n"
	            "alert tcp any any -> any any (content:\"USER\"; depth:4; sid:2;)\n");
	SEND(&x, "LOG"); /* 4 */
	SEND(&x, "IN "); /* 5 */
	assert_int_equal(x.n, 1);
	assert_int_equal(x.pkt[0], 5);
	/* later, at the start of a delivery (not of the stream) */
	SEND(&x, "USER x"); /* 6 */
	assert_int_equal(x.n, 2);
	assert_int_equal(x.sid[1], 2);
	/* neither the stream's nor the delivery's start: no */
	SEND(&x, "US");   /* 7 */
	SEND(&x, "ER y"); /* 8 */
	assert_int_equal(x.n, 2);
	sfx_free(&x);
}

static void test_stream_finds_kept(void **state)
{
	(void)state;
	struct sfx x;
	/* the fast pattern (the longest content) arrives, then deliveries
	 * shorter than any pattern that find nothing, then the last content:
	 * the fast pattern lies in the window, well before the bytes each
	 * later delivery scans again (the longest pattern less one byte) */
	sfx_new(&x, "alert tcp any any -> any any (content:\"A-RATHER-LONG-FIRST-PART\"; "
	            "content:\"END\"; distance:0; sid:1;)\n");
	SEND(&x, "A-RATHER-LONG-FIRST-PART"); /* 4 */
	char fill[41];
	memset(fill, '.', 40);
	fill[40] = '\0';
	for (int i = 0; i < 12; i++) /* 480 bytes in 12 deliveries: 5..16 */
		SEND(&x, fill);
	SEND(&x, "EN"); /* 17 */
	assert_int_equal(x.n, 0);
	SEND(&x, "D"); /* 18 */
	assert_int_equal(x.n, 1);
	assert_int_equal(x.pkt[0], 18);
	/* once more: the first part now lies beyond the window (1 KiB) */
	for (int i = 0; i < 30; i++) /* 1,200 bytes: 19..48 */
		SEND(&x, fill);
	SEND(&x, "END"); /* 49 */
	assert_int_equal(x.n, 1);
	sfx_free(&x);
}

static void test_stream_many_finds(void **state)
{
	(void)state;
	/* 40 rules found in one delivery, more than the finds kept per flow
	 * direction: each still matches when its last content comes later */
	char rules[8192];
	size_t o = 0;
	for (int i = 0; i < 40; i++)
		o += (size_t)snprintf(rules + o, sizeof(rules) - o,
		                      "alert tcp any any -> any any (content:\"FIRST-%02d\"; "
		                      "content:\"+Z\"; distance:0; sid:%d;)\n",
		                      i, 100 + i);
	struct sfx x;
	sfx_new(&x, rules);
	char first[512];
	o = 0;
	for (int i = 0; i < 40; i++)
		o += (size_t)snprintf(first + o, sizeof(first) - o, "FIRST-%02d ", i);
	SEND(&x, first);                              /* 4 */
	SEND(&x, "................................"); /* 5 */
	SEND(&x, "+");                                /* 6 */
	assert_int_equal(x.n, 0);
	SEND(&x, "Z"); /* 7 */
	assert_int_equal(x.n, 40);
	for (unsigned i = 0; i < 32; i++) {
		assert_int_equal(x.sid[i], 100 + i);
		assert_int_equal(x.pkt[i], 7);
	}
	sfx_free(&x);
}

static void test_stream_packet_dsize(void **state)
{
	(void)state;
	struct sfx x;
	/* packets the stream inspects still see the dsize rules, looked up by
	 * direction and by payload size (up to 600 bytes, or more) */
	sfx_new(&x, "alert tcp any any -> any any (flow:to_client; dsize:>700; content:\"BIG\"; "
	            "sid:1;)\n"
	            "alert tcp any any -> any any (flow:to_server; dsize:<20; content:\"tiny\"; "
	            "sid:2;)\n"
	            "alert tcp any any -> any any (dsize:600; content:\"EDGE\"; sid:3;)\n"
	            "alert tcp any any -> any any (dsize:601; content:\"EDGE\"; sid:4;)\n");
	char big[800];
	memset(big, '.', sizeof(big));
	memcpy(big + 100, "BIG", 3);
	memcpy(big + 200, "EDGE", 4);
	memcpy(big + 300, "tiny", 4);
	sfx_pkt(&x, 1, OM_TH_ACK, 0, big, 800); /* 4: sid 1 only */
	assert_int_equal(x.n, 1);
	assert_int_equal(x.sid[0], 1);
	sfx_pkt(&x, 0, OM_TH_ACK, 0, big, 800); /* 5: to_server, none */
	assert_int_equal(x.n, 1);
	sfx_pkt(&x, 0, OM_TH_ACK, 0, "..tiny..", 8); /* 6: sid 2 */
	assert_int_equal(x.n, 2);
	assert_int_equal(x.sid[1], 2);
	sfx_pkt(&x, 1, OM_TH_ACK, 0, big, 600); /* 7: sid 3 */
	assert_int_equal(x.n, 3);
	assert_int_equal(x.sid[2], 3);
	sfx_pkt(&x, 1, OM_TH_ACK, 0, big, 601); /* 8: sid 4 */
	assert_int_equal(x.n, 4);
	assert_int_equal(x.sid[3], 4);
	assert_int_equal(x.pkt[3], 8);
	sfx_free(&x);
}

static void test_only_stream_never_packets(void **state)
{
	(void)state;
	/* a packet without stream state (hits() has no reassembly in front):
	 * the plain rule matches it, only_stream never does */
	assert_int_equal(HITS("alert tcp any any -> any any (content:\"abc\"; sid:1;)", "xxabcxx"),
	                 1);
	assert_int_equal(HITS("alert tcp any any -> any any (flow:only_stream; content:\"abc\"; "
	                      "sid:1;)",
	                      "xxabcxx"),
	                 0);
}

static void test_mixed_parse(void **state)
{
	(void)state;
	om_detect *d = load("", NULL);
	char reason[160];
	/* payload content next to a transaction buffer: accepted */
	const char *r1 = "alert http any any -> any any (flow:to_server; content:\"x\"; http.uri; "
	                 "content:\"/a\"; sid:1;)";
	assert_int_equal(om_detect_parse_one(d, r1, strlen(r1), reason, sizeof(reason)), 0);
	/* its payload part needs a content to be found on the stream */
	const char *r2 = "alert http any any -> any any (flow:to_server; pcre:\"/x/\"; http.uri; "
	                 "content:\"/a\"; sid:2;)";
	assert_int_equal(om_detect_parse_one(d, r2, strlen(r2), reason, sizeof(reason)), 1);
	assert_string_equal(reason, "mixed:payload-without-content");
	/* over datagrams there is no stream */
	const char *r3 = "alert dns any any -> any any (content:\"x\"; dns.query; content:\"a\"; "
	                 "sid:3;)";
	assert_int_equal(om_detect_parse_one(d, r3, strlen(r3), reason, sizeof(reason)), 1);
	assert_string_equal(reason, "mixed:payload-and-buffer");
	om_detect_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_content_chain_backtracks),
	    cmocka_unit_test(test_content_modifiers),
	    cmocka_unit_test(test_pcre_and_bytes),
	    cmocka_unit_test(test_header),
	    cmocka_unit_test(test_packet_candidates_order),
	    cmocka_unit_test(test_parse_outcomes),
	    cmocka_unit_test(test_check_json),
	    cmocka_unit_test(test_flowbits_threshold),
	    cmocka_unit_test(test_transactions),
	    cmocka_unit_test(test_tx_candidates),
	    cmocka_unit_test(test_actions_and_categories),
	    cmocka_unit_test(test_reload),
	    cmocka_unit_test(test_stream_segments),
	    cmocka_unit_test(test_stream_order_and_rewrites),
	    cmocka_unit_test(test_stream_window_and_flow),
	    cmocka_unit_test(test_stream_anchored_start),
	    cmocka_unit_test(test_stream_finds_kept),
	    cmocka_unit_test(test_stream_many_finds),
	    cmocka_unit_test(test_stream_packet_dsize),
	    cmocka_unit_test(test_only_stream_never_packets),
	    cmocka_unit_test(test_mixed_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
