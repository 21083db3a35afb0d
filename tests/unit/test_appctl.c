/* Unit tests for application control (src/guard/appctl*.c): the group map
 * (lines, errors with their number, host rules at label boundaries), the
 * policy (an application over its group), and nDPI on packets built here:
 * a TLS ClientHello with the SNI of a storage service, a DNS query, the
 * caps of the flow and detection tables and the state freed at flow end;
 * and the names read from our parsers' transactions (Host, SNI). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guard/guard.h"
#include "pktbuf.h"

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(om_app_group_name(OM_APP_G_ONLINE_STORAGE), "online_storage");
	assert_int_equal(om_app_group_from_name("remote_access"), OM_APP_G_REMOTE_ACCESS);
	assert_int_equal(om_app_group_from_name("games"), OM_APP_G_GAMES);
	assert_int_equal(om_app_group_from_name("nosuch"), -ENOENT);
	assert_null(om_app_group_name(OM_APP_G_NONE));
	assert_int_equal(om_app_action_from_name("block"), OM_APP_ACT_BLOCK);
	assert_int_equal(om_app_action_from_name("deny"), -ENOENT);
	assert_string_equal(om_app_action_name(OM_APP_ACT_LOG), "log");
}

static void test_map_parse(void **state)
{
	(void)state;
	char err[512];
	om_app_map *m = NULL;
	const char *ok = "# comment\n\nremote_access app SSH\n"
	                 "online_storage host example.com Example # trailing comment\n"
	                 "online_storage host files.example.com\n"
	                 "cloud_input host deepl.com DeepL\r\n"
	                 "sns category SocialNetwork";
	assert_int_equal(om_app_map_parse(ok, strlen(ok), &m, err, sizeof(err)), 0);
	assert_int_equal(om_app_map_count(m), 5);
	const char *app = NULL;
	/* suffix at label boundaries only; the longest rule wins */
	assert_int_equal(om_app_map_host(m, "www.example.com", 15, &app), OM_APP_G_ONLINE_STORAGE);
	assert_string_equal(app, "Example");
	app = "x";
	assert_int_equal(om_app_map_host(m, "a.files.example.com", 19, &app),
	                 OM_APP_G_ONLINE_STORAGE);
	assert_null(app); /* that rule names no application */
	assert_int_equal(om_app_map_host(m, "badexample.com", 14, NULL), OM_APP_G_NONE);
	assert_int_equal(om_app_map_host(m, "EXAMPLE.COM.", 12, NULL), OM_APP_G_ONLINE_STORAGE);
	assert_int_equal(om_app_map_host(m, "www.deepl.com:443", 17, &app), OM_APP_G_CLOUD_INPUT);
	assert_string_equal(app, "DeepL");
	om_app_map_free(m);

	/* each bad line is refused with its number */
	static const struct {
		const char *text;
		const char *msg;
	} bad[] = {
	    {"sns app X\nnogroup app SSH\n", "line 2:"},
	    {"sns app\n", "line 1:"},
	    {"sns app a b\n", "line 1:"},
	    {"sns port 22\n", "line 1:"},
	    {"\n\nsns host bad..name\n", "line 3:"},
	    {"sns app a;b\n", "line 1:"},
	};
	for (size_t i = 0; i < OM_ARRAY_SIZE(bad); i++) {
		m = NULL;
		err[0] = '\0';
		assert_int_equal(
		    om_app_map_parse(bad[i].text, strlen(bad[i].text), &m, err, sizeof(err)),
		    -EINVAL);
		assert_null(m);
		assert_non_null(strstr(err, bad[i].msg));
	}
	/* a line longer than the parser's buffer */
	static char longl[700];
	memset(longl, 'a', sizeof(longl) - 1);
	assert_int_equal(om_app_map_parse(longl, strlen(longl), &m, err, sizeof(err)), -EINVAL);
	/* the cap on mappings */
	size_t cap = (OM_APPCTL_MAP_MAX + 1) * 12;
	char *many = malloc(cap);
	assert_non_null(many);
	size_t n = 0;
	for (int i = 0; i <= OM_APPCTL_MAP_MAX; i++)
		n += (size_t)snprintf(many + n, cap - n, "p2p app A%d\n", i % 10);
	assert_int_equal(om_app_map_parse(many, n, &m, err, sizeof(err)), -ENOSPC);
	free(many);
	/* the built-in map parses */
	assert_int_equal(om_app_map_builtin(&m, err, sizeof(err)), 0);
	assert_true(om_app_map_count(m) > 50);
	assert_int_equal(om_app_map_host(m, "www.deepl.com", 13, NULL), OM_APP_G_CLOUD_INPUT);
	om_app_map_free(m);
}

static void test_policy(void **state)
{
	(void)state;
	om_app_policy p;
	memset(&p, 0, sizeof(p));
	assert_int_equal(om_app_policy_set(&p, "online_storage", OM_APP_ACT_BLOCK), 0);
	assert_int_equal(om_app_policy_set(&p, "Dropbox", OM_APP_ACT_ALLOW), 0);
	assert_int_equal(om_app_policy_set(&p, "SSH", OM_APP_ACT_LOG), 0);
	assert_int_equal(om_app_policy_set(&p, "", OM_APP_ACT_LOG), -EINVAL);
	/* the application's action wins over its group's; names without case */
	assert_int_equal(om_app_policy_decide(&p, "dropbox", "TLS", OM_APP_G_ONLINE_STORAGE),
	                 OM_APP_ACT_ALLOW);
	assert_int_equal(om_app_policy_decide(&p, "GoogleDrive", "TLS", OM_APP_G_ONLINE_STORAGE),
	                 OM_APP_ACT_BLOCK);
	/* the carrier is matched when the application is not named */
	assert_int_equal(om_app_policy_decide(&p, NULL, "SSH", OM_APP_G_REMOTE_ACCESS),
	                 OM_APP_ACT_LOG);
	assert_int_equal(om_app_policy_decide(&p, NULL, "DNS", OM_APP_G_NONE), OM_APP_ACT_NONE);
	/* setting again replaces */
	assert_int_equal(om_app_policy_set(&p, "dropbox", OM_APP_ACT_BLOCK), 0);
	assert_int_equal(p.napps, 2);
	for (int i = 0; i < OM_APPCTL_POLICY_APPS - 2; i++) {
		char name[16];
		snprintf(name, sizeof(name), "app%d", i);
		assert_int_equal(om_app_policy_set(&p, name, OM_APP_ACT_LOG), 0);
	}
	assert_int_equal(om_app_policy_set(&p, "onemore", OM_APP_ACT_LOG), -ENOSPC);
}

/* ---- packets ------------------------------------------------------------ */

static pkt k;

static void ip4(pkt *b, uint32_t src, uint32_t dst, uint8_t proto, size_t l4len)
{
	size_t at = b->n;
	p8(b, 0x45);
	p8(b, 0);
	p16(b, (uint16_t)(20 + l4len));
	p16(b, 1);
	p16(b, 0x4000);
	p8(b, 64);
	p8(b, proto);
	p16(b, 0);
	p32(b, src);
	p32(b, dst);
	uint16_t c = cksum(b->b + at, 20);
	b->b[at + 10] = (uint8_t)(c >> 8);
	b->b[at + 11] = (uint8_t)c;
}

static void tcp4(uint32_t src, uint32_t dst, uint16_t sp, uint16_t dp, uint32_t seq, uint32_t ack,
                 uint8_t flags, const uint8_t *data, size_t len)
{
	k.n = 0;
	ip4(&k, src, dst, IPPROTO_TCP, 20 + len);
	p16(&k, sp);
	p16(&k, dp);
	p32(&k, seq);
	p32(&k, ack);
	p8(&k, 0x50);
	p8(&k, flags);
	p16(&k, 65535);
	p16(&k, 0);
	p16(&k, 0);
	put(&k, data, len);
}

static void udp4(uint32_t src, uint32_t dst, uint16_t sp, uint16_t dp, const uint8_t *data,
                 size_t len)
{
	k.n = 0;
	ip4(&k, src, dst, IPPROTO_UDP, 8 + len);
	p16(&k, sp);
	p16(&k, dp);
	p16(&k, (uint16_t)(8 + len));
	p16(&k, 0);
	put(&k, data, len);
}

/* A TLS 1.2 ClientHello record with one cipher suite and the SNI. */
static size_t client_hello(uint8_t *out, const char *sni)
{
	pkt h;
	h.n = 0;
	size_t sl = strlen(sni);
	p16(&h, 0x0303);
	for (int i = 0; i < 32; i++)
		p8(&h, (uint8_t)i);
	p8(&h, 0);  /* session id */
	p16(&h, 2); /* cipher suites */
	p16(&h, 0xc02f);
	p8(&h, 1); /* compression */
	p8(&h, 0);
	p16(&h, (uint16_t)(9 + sl)); /* extensions */
	p16(&h, 0);                  /* server_name */
	p16(&h, (uint16_t)(5 + sl));
	p16(&h, (uint16_t)(3 + sl));
	p8(&h, 0);
	p16(&h, (uint16_t)sl);
	put(&h, sni, sl);
	pkt r;
	r.n = 0;
	p8(&r, 22);
	p16(&r, 0x0301);
	p16(&r, (uint16_t)(4 + h.n));
	p8(&r, 1);
	p8(&r, 0);
	p16(&r, (uint16_t)h.n);
	put(&r, h.b, h.n);
	memcpy(out, r.b, r.n);
	return r.n;
}

static om_usec now_us = 1700000000000000ull;

static int feed(om_appctl_worker *w, om_flow *f, om_app_info *info)
{
	om_packet p;
	memset(&p, 0, sizeof(p));
	p.ts = now_us;
	now_us += 1000;
	p.l3 = k.b;
	p.l3_len = (uint32_t)k.n;
	/* what the decoder would say of the packet built here */
	if (k.b[9] == IPPROTO_TCP) {
		p.tcp_flags = k.b[33];
		p.payload_len = (uint32_t)k.n - 40;
	} else if (k.b[9] == IPPROTO_UDP) {
		p.payload_len = (uint32_t)k.n - 28;
	}
	return om_appctl_packet(w, f, &p, info);
}

#define CLI 0xc6336401u /* 198.51.100.1 */
#define SRV 0xcb007150u /* 203.0.113.80 */

static void tls_flow(om_appctl_worker *w, om_flow *f, const char *sni, om_app_info *info,
                     int *ret_final)
{
	uint8_t ch[512];
	size_t n = client_hello(ch, sni);
	int fin = 0;
	tcp4(CLI, SRV, 40000, 443, 1000, 0, 0x02, NULL, 0);
	fin |= feed(w, f, info);
	tcp4(SRV, CLI, 443, 40000, 5000, 1001, 0x12, NULL, 0);
	fin |= feed(w, f, info);
	tcp4(CLI, SRV, 40000, 443, 1001, 5001, 0x10, NULL, 0);
	fin |= feed(w, f, info);
	tcp4(CLI, SRV, 40000, 443, 1001, 5001, 0x18, ch, n);
	fin |= feed(w, f, info) << 1;
	*ret_final = fin;
}

static om_flow mkflow(uint8_t proto, uint64_t id)
{
	om_flow f;
	memset(&f, 0, sizeof(f));
	f.proto = proto;
	f.flow_id = id;
	return f;
}

static void test_tls_storage_blocked(void **state)
{
	(void)state;
	char err[256];
	om_app_policy pol;
	memset(&pol, 0, sizeof(pol));
	assert_int_equal(om_app_policy_set(&pol, "online_storage", OM_APP_ACT_BLOCK), 0);
	om_appctl ac;
	assert_int_equal(om_appctl_setup(&ac, NULL, &pol, 16, 4, 32, err, sizeof(err)), 0);
	om_appctl_worker *w = NULL;
	assert_int_equal(om_appctl_worker_new(&ac, &w), 0);
	om_flow f = mkflow(IPPROTO_TCP, 1);
	om_app_info info;
	int fin;
	tls_flow(w, &f, "www.dropbox.com", &info, &fin);
	/* final with the ClientHello (the 4th packet), not before */
	assert_int_equal(fin, 2);
	assert_string_equal(info.proto, "TLS");
	assert_string_equal(info.app, "Dropbox");
	assert_int_equal(info.group, OM_APP_G_ONLINE_STORAGE);
	assert_int_equal(info.action, OM_APP_ACT_BLOCK);
	assert_true(f.flags & OM_FLOW_F_DROP);
	/* only the segment with data went to nDPI (not the handshake), and
	 * further packets do not */
	uint64_t pk = om_appctl_stats_get(w)->packets;
	assert_int_equal(pk, 1);
	static const uint8_t more[] = "more data";
	tcp4(CLI, SRV, 40000, 443, 1101, 5001, 0x18, more, sizeof(more));
	assert_int_equal(feed(w, &f, &info), 0);
	assert_int_equal(om_appctl_stats_get(w)->packets, 1);
	assert_int_equal(om_appctl_stats_get(w)->blocked, 1);

	/* a host rule of the map: a storage service nDPI has no protocol for */
	om_flow g = mkflow(IPPROTO_TCP, 2);
	tls_flow(w, &g, "upload.gigafile.nu", &info, &fin);
	assert_int_equal(fin, 2);
	assert_string_equal(info.proto, "TLS");
	assert_string_equal(info.app, "GigaFile");
	assert_int_equal(info.group, OM_APP_G_ONLINE_STORAGE);
	assert_true(g.flags & OM_FLOW_F_DROP);

	/* an unlisted name: TLS, no group, no action */
	om_flow h = mkflow(IPPROTO_TCP, 3);
	tls_flow(w, &h, "www.omamori.test", &info, &fin);
	assert_int_equal(om_appctl_flow_end(w, &h, &info), 0);
	assert_string_equal(info.proto, "TLS");
	assert_null(info.app);
	assert_int_equal(info.group, OM_APP_G_NONE);
	assert_int_equal(info.action, OM_APP_ACT_NONE);
	assert_false(h.flags & OM_FLOW_F_DROP);
	/* ended: forgotten */
	assert_int_equal(om_appctl_flow(w, &h, &info), -ENOENT);
	assert_int_equal(om_appctl_flow(w, &f, &info), 0);
	assert_int_equal(om_appctl_flow_end(w, &f, &info), 0);
	assert_int_equal(om_appctl_flow_end(w, &g, &info), 0);
	assert_int_equal(om_appctl_flow_end(w, &g, &info), -ENOENT);
	om_appctl_worker_free(w);
	om_appctl_cleanup(&ac);
}

/* With the engine's TLS and HTTP parsers on (parsers_tls_http), nDPI's TLS
 * and HTTP dissectors are left out: a ClientHello reaches nDPI only on a
 * flow those parsers turned down, and is not read there (without the
 * flag, the same flow is named from its SNI, as above). */
static void test_tls_http_dissectors(void **state)
{
	(void)state;
	char err[256];
	om_appctl ac;
	for (int on = 0; on < 2; on++) {
		assert_int_equal(om_appctl_setup(&ac, NULL, NULL, 16, 4, 8, err, sizeof(err)), 0);
		ac.parsers_tls_http = on;
		om_appctl_worker *w = NULL;
		assert_int_equal(om_appctl_worker_new(&ac, &w), 0);
		om_flow f = mkflow(IPPROTO_TCP, 1);
		om_app_info info;
		int fin;
		tls_flow(w, &f, "www.dropbox.com", &info, &fin);
		assert_int_equal(fin, on ? 0 : 2);
		assert_int_equal(om_appctl_flow_end(w, &f, &info), 0);
		if (on) {
			assert_true(!info.app || strcmp(info.app, "Dropbox") != 0);
			assert_int_equal(info.group, OM_APP_G_NONE);
		} else {
			assert_string_equal(info.app, "Dropbox");
			assert_int_equal(info.group, OM_APP_G_ONLINE_STORAGE);
		}
		om_appctl_worker_free(w);
		om_appctl_cleanup(&ac);
	}
}

/* An FTP control session on a port of its own that no parser took: what
 * nDPI's dissectors make of its first payloads (client and server). */
static void ftp_session(om_appctl_worker *w, om_flow *f, om_app_info *info)
{
	static const char *const lines[] = {"220 Service ready\r\n", "USER anonymous\r\n",
	                                    "331 Password required\r\n", "PASS guest\r\n",
	                                    "230 Logged in\r\n"};
	uint32_t seq[2] = {7000, 1001};
	for (size_t i = 0; i < OM_ARRAY_SIZE(lines); i++) {
		size_t n = strlen(lines[i]);
		if (i % 2 == 0)
			tcp4(SRV, CLI, 2121, 40021, seq[0], seq[1], 0x18, (const uint8_t *)lines[i], n);
		else
			tcp4(CLI, SRV, 40021, 2121, seq[1], seq[0], 0x18, (const uint8_t *)lines[i], n);
		seq[i % 2] += (uint32_t)n;
		if (feed(w, f, info) == 1)
			return;
	}
	assert_int_equal(om_appctl_flow_end(w, f, info), 0);
}

/* nDPI's FTP control dissector runs only when the map or the policy names
 * FTP_CONTROL: our FTP parser names the sessions it takes, and on other
 * flows that dissector cost the most of nDPI's time. */
static void test_ftp_dissector(void **state)
{
	(void)state;
	char err[256];
	om_appctl ac;
	assert_int_equal(om_appctl_setup(&ac, NULL, NULL, 16, 4, 8, err, sizeof(err)), 0);
	om_appctl_worker *w = NULL;
	assert_int_equal(om_appctl_worker_new(&ac, &w), 0);
	om_flow f = mkflow(IPPROTO_TCP, 1);
	om_app_info info;
	ftp_session(w, &f, &info);
	assert_null(info.proto);
	assert_null(info.app);
	om_appctl_worker_free(w);
	om_appctl_cleanup(&ac);

	om_app_policy pol;
	memset(&pol, 0, sizeof(pol));
	assert_int_equal(om_app_policy_set(&pol, "ftp_control", OM_APP_ACT_LOG), 0);
	assert_int_equal(om_appctl_setup(&ac, NULL, &pol, 16, 4, 8, err, sizeof(err)), 0);
	assert_int_equal(om_appctl_worker_new(&ac, &w), 0);
	om_flow g = mkflow(IPPROTO_TCP, 2);
	ftp_session(w, &g, &info);
	assert_non_null(info.proto);
	assert_string_equal(info.proto, "FTP_CONTROL");
	assert_int_equal(info.action, OM_APP_ACT_LOG);
	om_appctl_worker_free(w);
	om_appctl_cleanup(&ac);
}

static void test_dns_and_caps(void **state)
{
	(void)state;
	char err[256];
	om_appctl ac;
	/* 3 flows followed, 2 in detection at once */
	assert_int_equal(om_appctl_setup(&ac, NULL, NULL, 3, 2, 8, err, sizeof(err)), 0);
	om_appctl_worker *w = NULL;
	assert_int_equal(om_appctl_worker_new(&ac, &w), 0);
	/* a DNS query for www.example.com, type A */
	static const uint8_t q[] = {0x12, 0x34, 0x01, 0x00, 0,   1,   0,   0,   0,   0,   0,
	                            0,    3,    'w',  'w',  'w', 7,   'e', 'x', 'a', 'm', 'p',
	                            'l',  'e',  3,    'c',  'o', 'm', 0,   0,   1,   0,   1};
	om_flow d = mkflow(IPPROTO_UDP, 10);
	d.cport = 53000;
	d.sport = 53;
	om_app_info info;
	const om_appctl_stats *st = om_appctl_stats_get(w);
	udp4(CLI, SRV, 53000, 53, q, sizeof(q));
	/* named by its port, final at once, without nDPI */
	assert_int_equal(feed(w, &d, &info), 1);
	assert_string_equal(info.proto, "DNS");
	assert_int_equal(info.group, OM_APP_G_NONE);
	assert_int_equal(st->packets, 0);
	assert_true(d.flags & OM_FLOW_F_APPCTL_DONE);
	assert_int_equal(om_appctl_flow(w, &d, &info), 0);
	assert_string_equal(info.proto, "DNS");
	/* two TCP flows of unknown data: both hold an nDPI state */
	static const uint8_t odd[] = {0x5a, 0x01, 0x5a, 0x02, 0x5a, 0x03};
	om_flow a = mkflow(IPPROTO_TCP, 11), b = mkflow(IPPROTO_TCP, 12),
	        c = mkflow(IPPROTO_TCP, 13), e = mkflow(IPPROTO_TCP, 16),
	        g = mkflow(IPPROTO_TCP, 17);
	tcp4(CLI, SRV, 40001, 9999, 1, 0, 0x02, NULL, 0);
	feed(w, &a, &info);
	assert_int_equal(st->packets, 0); /* a SYN carries nothing for nDPI */
	tcp4(CLI, SRV, 40001, 9999, 2, 0, 0x18, odd, sizeof(odd));
	feed(w, &a, &info);
	tcp4(CLI, SRV, 40002, 9999, 2, 0, 0x18, odd, sizeof(odd));
	feed(w, &b, &info);
	assert_int_equal(st->detect_full, 0);
	assert_int_equal(st->packets, 2);
	/* a SYN takes no nDPI state: the state is taken with the first data */
	tcp4(CLI, SRV, 40003, 9999, 1, 0, 0x02, NULL, 0);
	feed(w, &c, &info);
	assert_int_equal(st->detect_full, 0);
	/* the third finds every nDPI state taken: followed, not identified */
	tcp4(CLI, SRV, 40003, 9999, 2, 0, 0x18, odd, sizeof(odd));
	feed(w, &c, &info);
	assert_int_equal(st->detect_full, 1);
	assert_int_equal(st->packets, 2);
	assert_int_equal(om_appctl_flow(w, &c, &info), 0);
	assert_null(info.proto);
	/* the table holds 3 flows (the DNS flow takes none): the 4th is not
	 * followed, ever */
	tcp4(CLI, SRV, 40004, 9999, 1, 0, 0x02, NULL, 0);
	feed(w, &e, &info);
	assert_int_equal(st->table_full, 1);
	assert_int_equal(om_appctl_flow(w, &e, &info), -ENOENT);
	assert_int_equal(om_appctl_flow_end(w, &d, &info), 0);
	assert_string_equal(info.proto, "DNS");
	assert_int_equal(om_appctl_flow_end(w, &c, &info), 0);
	feed(w, &e, &info);
	assert_int_equal(om_appctl_flow(w, &e, &info), -ENOENT);
	/* a flow that ends makes room for a new one */
	tcp4(CLI, SRV, 40005, 9999, 1, 0, 0x02, NULL, 0);
	feed(w, &g, &info);
	assert_int_equal(om_appctl_flow(w, &g, &info), 0);
	assert_int_equal(om_appctl_flow_end(w, &g, &info), 0);
	assert_int_equal(st->packets, 2);
	/* ICMP is not followed */
	om_flow i = mkflow(IPPROTO_ICMP, 14);
	assert_int_equal(feed(w, &i, &info), 0);
	assert_int_equal(om_appctl_flow(w, &i, &info), -ENOENT);
	/* max_packets: a flow of unknown data is final after 8 packets */
	assert_int_equal(om_appctl_flow_end(w, &a, &info), 0);
	om_flow u = mkflow(IPPROTO_UDP, 15);
	u.cport = 40010;
	u.sport = 47123;
	static const uint8_t junk[] = {0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a};
	int finals = 0, at = 0;
	for (int n = 1; n <= 12; n++) {
		udp4(CLI, SRV, 40010, 47123, junk, sizeof(junk));
		if (feed(w, &u, &info)) {
			finals++;
			at = n;
		}
	}
	assert_int_equal(finals, 1);
	assert_int_equal(at, 8);
	om_appctl_worker_free(w);
	om_appctl_cleanup(&ac);
}

/* A transaction as a parser shows it to its observers: named buffers. */
struct fake_tx {
	const char *host, *sni, *method, *uri;
};

static const uint8_t *fake_buffer(const om_proto_tx *tx, enum om_tx_buf b, uint32_t idx,
                                  uint32_t *ret_len)
{
	const struct fake_tx *t = tx->priv;
	const char *v = NULL;
	if (idx)
		return NULL;
	switch (b) {
	case OM_TXB_HTTP_HOST: v = t->host; break;
	case OM_TXB_TLS_SNI: v = t->sni; break;
	case OM_TXB_HTTP_METHOD: v = t->method; break;
	case OM_TXB_HTTP_URI_RAW: v = t->uri; break;
	default: break;
	}
	if (!v)
		return NULL;
	*ret_len = (uint32_t)strlen(v);
	return (const uint8_t *)v;
}

static int tx_name(om_appctl_worker *w, om_flow *f, const char *app_proto, struct fake_tx *t,
                   om_app_info *info)
{
	om_proto_tx tx = {.app_proto = app_proto,
	                  .progress = OM_TX_REQUEST,
	                  .dir = OM_DIR_TOSERVER,
	                  .buffer = fake_buffer,
	                  .priv = t};
	return om_appctl_tx(w, f, &tx, info);
}

static void set_v4(om_addr *a, uint32_t v4)
{
	uint8_t b[4] = {(uint8_t)(v4 >> 24), (uint8_t)(v4 >> 16), (uint8_t)(v4 >> 8), (uint8_t)v4};
	om_addr_from_v4(a, b);
}

/* Flows our parsers know are named from the transaction (Host, SNI)
 * through nDPI's host lists and the map's host rules, once, without a
 * packet given to nDPI; the names are the ones nDPI's own dissectors give
 * the same ClientHello (checked on the packet path with the same names). */
/* The flow table grows with the flows followed (it starts small) and keeps
 * every flow through its growth and removals; the cap still holds. */
static void test_table_grows(void **state)
{
	(void)state;
	char err[256];
	om_appctl ac;
	enum { CAP = 9000 };
	assert_int_equal(om_appctl_setup(&ac, NULL, NULL, CAP, 4, 8, err, sizeof(err)), 0);
	om_appctl_worker *w = NULL;
	assert_int_equal(om_appctl_worker_new(&ac, &w), 0);
	om_flow *fl = calloc(CAP + 1, sizeof(*fl));
	assert_non_null(fl);
	om_app_info info;
	const om_appctl_stats *st = om_appctl_stats_get(w);
	for (uint32_t i = 0; i <= CAP; i++) {
		fl[i] = mkflow(IPPROTO_TCP, 1000 + i);
		tcp4(CLI, SRV, (uint16_t)(20000 + i % 40000), 9999, 1, 0, 0x02, NULL, 0);
		feed(w, &fl[i], &info);
		if (i == CAP / 2) /* every third of the first half ends */
			for (uint32_t k = 0; k < i; k += 3)
				assert_int_equal(om_appctl_flow_end(w, &fl[k], &info), 0);
	}
	/* CAP - CAP/6 flows in the table, none refused */
	assert_int_equal(st->table_full, 0);
	for (uint32_t i = 0; i <= CAP; i++)
		assert_int_equal(om_appctl_flow(w, &fl[i], &info),
		                 i < CAP / 2 && i % 3 == 0 ? -ENOENT : 0);
	/* up to the cap, then refused */
	om_flow *more = calloc(CAP, sizeof(*more));
	assert_non_null(more);
	uint32_t n = 0;
	while (st->table_full == 0 && n < CAP) {
		more[n] = mkflow(IPPROTO_TCP, 100000 + n);
		tcp4(CLI, SRV, 40000, 9999, 1, 0, 0x02, NULL, 0);
		feed(w, &more[n++], &info);
	}
	assert_int_equal(st->table_full, 1);
	/* ended: ceil(CAP/2 / 3); in the table CAP + 1 - ended; room for
	 * ended - 1 more, and the next is refused */
	assert_int_equal(n, (CAP / 2 + 2) / 3);
	assert_int_equal(om_appctl_flow(w, &more[n - 1], &info), -ENOENT);
	assert_int_equal(om_appctl_flow(w, &more[n - 2], &info), 0);
	free(more);
	free(fl);
	om_appctl_worker_free(w);
	om_appctl_cleanup(&ac);
}

/* The worker's memo of server names (nDPI's host lists and the map's host
 * rules by name): names named again after thousands of others (more than
 * the memo holds, so that theirs were pushed out) and names asked again at
 * once get the answers of a first sight. */
static void test_host_memo(void **state)
{
	(void)state;
	char err[256];
	om_appctl ac;
	assert_int_equal(om_appctl_setup(&ac, NULL, NULL, 64, 8, 16, err, sizeof(err)), 0);
	om_appctl_worker *w = NULL;
	assert_int_equal(om_appctl_worker_new(&ac, &w), 0);
	om_app_info info;
	char name[64];
	for (uint32_t i = 0; i < 20000; i++) {
		om_flow f = mkflow(IPPROTO_TCP, 1 + i);
		struct fake_tx t = {.sni = name};
		if (i % 5000 == 0 || i % 5000 == 1)
			snprintf(name, sizeof(name), "WWW.dropbox.com");
		else if (i % 5000 == 2)
			snprintf(name, sizeof(name), "upload.gigafile.nu");
		else
			snprintf(name, sizeof(name), "h%u.office.test", i % 12000);
		assert_int_equal(tx_name(w, &f, "tls", &t, &info), 1);
		if (i % 5000 <= 1) {
			assert_string_equal(info.app, "Dropbox");
			assert_int_equal(info.group, OM_APP_G_ONLINE_STORAGE);
		} else if (i % 5000 == 2) {
			assert_string_equal(info.app, "GigaFile");
			assert_int_equal(info.group, OM_APP_G_ONLINE_STORAGE);
		} else {
			assert_null(info.app);
			assert_int_equal(info.group, OM_APP_G_NONE);
		}
		assert_string_equal(info.proto, "TLS");
		assert_int_equal(om_appctl_flow_end(w, &f, &info), 0);
	}
	om_appctl_worker_free(w);
	om_appctl_cleanup(&ac);
}

static void test_parser_names(void **state)
{
	(void)state;
	char err[256];
	om_app_policy pol;
	memset(&pol, 0, sizeof(pol));
	assert_int_equal(om_app_policy_set(&pol, "online_storage", OM_APP_ACT_BLOCK), 0);
	om_appctl ac;
	assert_int_equal(om_appctl_setup(&ac, NULL, &pol, 64, 8, 16, err, sizeof(err)), 0);
	om_appctl_worker *w = NULL;
	assert_int_equal(om_appctl_worker_new(&ac, &w), 0);
	const om_appctl_stats *st = om_appctl_stats_get(w);
	om_app_info info, pk;
	int fin;

	/* TLS SNI on nDPI's Dropbox list, in upper case with a trailing dot */
	om_flow f = mkflow(IPPROTO_TCP, 1);
	struct fake_tx t1 = {.sni = "WWW.DropBox.com."};
	assert_int_equal(tx_name(w, &f, "tls", &t1, &info), 1);
	assert_string_equal(info.proto, "TLS");
	assert_string_equal(info.app, "Dropbox");
	assert_int_equal(info.group, OM_APP_G_ONLINE_STORAGE);
	assert_int_equal(info.action, OM_APP_ACT_BLOCK);
	assert_true(f.flags & OM_FLOW_F_DROP);
	assert_true(f.flags & OM_FLOW_F_APPCTL_DONE);
	assert_int_equal(st->packets, 0);
	assert_int_equal(st->blocked, 1);
	/* once per flow: a second transaction changes nothing */
	struct fake_tx t1b = {.sni = "www.facebook.com"};
	assert_int_equal(tx_name(w, &f, "tls", &t1b, &info), 0);
	assert_int_equal(om_appctl_flow(w, &f, &info), 0);
	assert_string_equal(info.app, "Dropbox");
	/* the same ClientHello given to nDPI's dissector: the same names */
	om_flow fp = mkflow(IPPROTO_TCP, 101);
	tls_flow(w, &fp, "www.dropbox.com", &pk, &fin);
	assert_int_equal(fin, 2);
	assert_string_equal(pk.proto, info.proto);
	assert_string_equal(pk.app, info.app);
	assert_string_equal(pk.category, info.category);
	assert_int_equal(pk.group, info.group);

	/* HTTP Host on nDPI's Facebook list */
	om_flow g = mkflow(IPPROTO_TCP, 2);
	struct fake_tx t2 = {.host = "www.facebook.com", .method = "GET", .uri = "/"};
	assert_int_equal(tx_name(w, &g, "http", &t2, &info), 1);
	assert_string_equal(info.proto, "HTTP");
	assert_string_equal(info.app, "Facebook");
	assert_int_equal(info.group, OM_APP_G_SNS);
	assert_int_equal(info.action, OM_APP_ACT_NONE);
	assert_false(g.flags & OM_FLOW_F_DROP);

	/* a host rule of the map (no nDPI protocol): GigaFile, blocked */
	om_flow h = mkflow(IPPROTO_UDP, 3);
	struct fake_tx t3 = {.sni = "upload.gigafile.nu"};
	assert_int_equal(tx_name(w, &h, "quic", &t3, &info), 1);
	assert_string_equal(info.proto, "QUIC");
	assert_string_equal(info.app, "GigaFile");
	assert_int_equal(info.group, OM_APP_G_ONLINE_STORAGE);
	assert_true(h.flags & OM_FLOW_F_DROP);

	/* an unlisted name: the carrier alone, with the packet path's answer */
	om_flow i = mkflow(IPPROTO_TCP, 4);
	struct fake_tx t4 = {.sni = "www.omamori.test"};
	assert_int_equal(tx_name(w, &i, "tls", &t4, &info), 1);
	assert_string_equal(info.proto, "TLS");
	assert_null(info.app);
	assert_int_equal(info.group, OM_APP_G_NONE);
	om_flow ip = mkflow(IPPROTO_TCP, 104);
	tls_flow(w, &ip, "www.omamori.test", &pk, &fin);
	assert_int_equal(om_appctl_flow_end(w, &ip, &pk), 0);
	assert_string_equal(pk.proto, "TLS");
	assert_null(pk.app);
	assert_string_equal(pk.category, info.category);

	/* a tunnel through a proxy and a request to a proxy (vpn_proxy) */
	om_flow c = mkflow(IPPROTO_TCP, 5);
	struct fake_tx t5 = {.host = "example.org", .method = "CONNECT", .uri = "example.org:443"};
	assert_int_equal(tx_name(w, &c, "http", &t5, &info), 1);
	assert_string_equal(info.proto, "HTTP_Connect");
	om_flow px = mkflow(IPPROTO_TCP, 6);
	struct fake_tx t6 = {.host = "example.org", .method = "GET", .uri = "http://example.org/"};
	assert_int_equal(tx_name(w, &px, "http", &t6, &info), 1);
	assert_string_equal(info.proto, "HTTP_Proxy");
	assert_int_equal(info.group, OM_APP_G_VPN_PROXY);

	/* no SNI: nDPI's IP lists on the server's address (31.13.64.0/18 is
	 * Facebook's), as its dissector says of the same flow */
	om_flow n = mkflow(IPPROTO_TCP, 7);
	set_v4(&n.srv, 0x1f0d4001u);
	set_v4(&n.cli, CLI);
	struct fake_tx t7 = {0};
	assert_int_equal(tx_name(w, &n, "tls", &t7, &info), 1);
	assert_string_equal(info.proto, "TLS");
	assert_string_equal(info.app, "Facebook");
	assert_int_equal(info.group, OM_APP_G_SNS);

	/* protocols without a name to read, and other callers: not named here */
	om_flow m = mkflow(IPPROTO_TCP, 8);
	struct fake_tx t8 = {0};
	assert_int_equal(tx_name(w, &m, "smtp", &t8, &info), 0);
	assert_int_equal(tx_name(w, &m, NULL, &t8, &info), 0);
	assert_int_equal(om_appctl_flow(w, &m, &info), -ENOENT);
	om_flow icmp = mkflow(IPPROTO_ICMP, 9);
	assert_int_equal(tx_name(w, &icmp, "tls", &t4, &info), 0);

	/* none of these was given to nDPI */
	assert_int_equal(st->packets, 2);
	assert_int_equal(st->table_full, 0);
	om_appctl_worker_free(w);
	om_appctl_cleanup(&ac);
}

static void test_json(void **state)
{
	(void)state;
	om_buf b;
	om_buf_init(&b, 4096);
	om_json j;
	om_json_init(&j, &b);
	om_json_obj_open(&j, NULL);
	om_app_info a = {.proto = "TLS",
	                 .app = "Dropbox",
	                 .category = "Cloud",
	                 .group = OM_APP_G_ONLINE_STORAGE};
	om_app_info_json(&j, &a);
	om_json_obj_close(&j);
	om_buf_putc(&b, '\0');
	assert_string_equal((const char *)b.data,
	                    "{\"app\":{\"proto\":\"TLS\",\"name\":\"Dropbox\","
	                    "\"category\":\"Cloud\",\"group\":\"online_"
	                    "storage\"}}");
	om_buf_free(&b);
}

int main(void)
{
	om_i18n_init();
	om_lang_set_thread(OM_LANG_EN);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_names),        cmocka_unit_test(test_map_parse),
	    cmocka_unit_test(test_policy),       cmocka_unit_test(test_tls_storage_blocked), cmocka_unit_test(test_tls_http_dissectors), cmocka_unit_test(test_host_memo),
	    cmocka_unit_test(test_dns_and_caps), cmocka_unit_test(test_json),
	    cmocka_unit_test(test_parser_names),
	    cmocka_unit_test(test_table_grows),
	    cmocka_unit_test(test_ftp_dissector),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
