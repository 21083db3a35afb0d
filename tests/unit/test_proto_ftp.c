/* Unit tests for the FTP parsers (src/proto/ftp.c): captures written here
 * (tests/unit/ftp_craft.h) go through the whole offline pipeline with only
 * the ftp parsers on, and the EVE lines are checked: control records as
 * Suricata 7 writes them, passive and active data connections tied to their
 * control connection, files with their direction and hashes, the limits
 * (line length, expectation table, expectation timeout) and the anomalies.
 *
 * Expected hashes are published test vectors (FIPS 180-2 "abc"; "The quick
 * brown fox jumps over the lazy dog"), also what sha256sum prints for them. */
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
#include "proto/proto.h"

#include "ftp_craft.h"

#define SEC 1000000ull
#define T0 1715299200000000ull /* 2024-05-10T00:00:00Z */

#define FOX "The quick brown fox jumps over the lazy dog"
#define FOX_SHA256 "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592"
#define ABC_SHA256 "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

static const uint8_t CLI[4] = {192, 0, 2, 20}, SRV[4] = {192, 0, 2, 10};

struct t {
	char dir[64], pcap[96], eve_path[96];
	FILE *f;
	fc_cap c;
	om_settings cfg;
	char *eve;
	const om_proto_observer *obs; /* shown every transaction, when set */
};

static void t_begin(struct t *t)
{
	memset(t, 0, sizeof(*t));
	snprintf(t->dir, sizeof(t->dir), "/tmp/omamori-ftp-XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	snprintf(t->pcap, sizeof(t->pcap), "%s/cap.pcap", t->dir);
	snprintf(t->eve_path, sizeof(t->eve_path), "%s/eve.json", t->dir);
	t->f = fopen(t->pcap, "wb");
	assert_non_null(t->f);
	assert_int_equal(fc_open(&t->c, t->f, T0), 0);
	om_settings_defaults(&t->cfg);
	t->cfg.net.flow_max = 64;
	om_proto_config *pc = &t->cfg.proto;
	pc->http.enabled = pc->dns.enabled = pc->tls.enabled = pc->quic.enabled = false;
	pc->mail.smtp = pc->mail.pop3 = pc->mail.imap = false;
	pc->files.magic = false;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *s = malloc((size_t)n + 1);
	assert_non_null(s);
	assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
	s[n] = '\0';
	fclose(f);
	return s;
}

/* Closes the capture and runs it through the pipeline (workers 1). */
static void t_run(struct t *t)
{
	fc_close(&t->c);
	char err[1024];
	om_proto *proto;
	om_app_registry *apps = om_app_registry_new();
	assert_non_null(apps);
	assert_int_equal(om_proto_new(&t->cfg.proto, &proto, err, sizeof(err)), 0);
	if (t->obs)
		assert_int_equal(om_proto_add_observer(proto, t->obs), 0);
	assert_int_equal(om_proto_register(proto, apps), 0);
	om_app_registry_seal(apps);
	om_eve *eve;
	assert_int_equal(om_eve_open(t->eve_path, 0, false, &eve, err, sizeof(err)), 0);
	om_engine_opts o = {.cfg = &t->cfg,
	                    .pcap_path = t->pcap,
	                    .eve = eve,
	                    .tenant = "t1",
	                    .gateway = "g1",
	                    .workers = 1,
	                    .apps = apps,
	                    .proto = proto};
	om_engine_result res;
	if (om_engine_inspect(&o, &res, err, sizeof(err)) < 0)
		fail_msg("inspect: %s", err);
	om_eve_close(eve);
	om_app_registry_free(apps);
	om_proto_free(proto);
	t->eve = slurp(t->eve_path);
}

static void t_end(struct t *t)
{
	free(t->eve);
	unlink(t->pcap);
	unlink(t->eve_path);
	rmdir(t->dir);
}

/* Lines of the EVE output that hold every one of the strings (NULL ends). */
static int lines(const struct t *t, ...)
{
	int n = 0;
	const char *p = t->eve;
	while (*p) {
		const char *e = strchr(p, '\n');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		char *line = strndup(p, len);
		assert_non_null(line);
		va_list ap;
		va_start(ap, t);
		bool all = true;
		for (const char *s; (s = va_arg(ap, const char *)) != NULL;)
			if (!strstr(line, s))
				all = false;
		va_end(ap);
		free(line);
		n += all;
		p += len + (e ? 1 : 0);
	}
	return n;
}

#define LINES(t, ...) lines(t, __VA_ARGS__, (const char *)NULL)

static void print_eve(const struct t *t)
{
	fprintf(stderr, "%s", t->eve);
}

static fc_conn control(void)
{
	fc_conn k;
	memset(&k, 0, sizeof(k));
	memcpy(k.a, CLI, 4);
	memcpy(k.b, SRV, 4);
	k.ap = 40000;
	k.bp = 21;
	return k;
}

/* a data connection: passive (client -> server:port) or active (server:20
 * -> client:port) */
static fc_conn data_conn(bool active, uint16_t cport, uint16_t port)
{
	fc_conn k;
	memset(&k, 0, sizeof(k));
	memcpy(k.a, active ? SRV : CLI, 4);
	memcpy(k.b, active ? CLI : SRV, 4);
	k.ap = active ? 20 : cport;
	k.bp = port;
	return k;
}

static void login(struct t *t, fc_conn *c, size_t mss)
{
	fc_connect(&t->c, c);
	const char *s[] = {"220 Test FTP server ready\r\n", "USER anonymous\r\n",
	                   "331 Please specify the password.\r\n", "PASS guest\r\n",
	                   "230 Login successful.\r\n"};
	for (int i = 0; i < 5; i++)
		fc_send(&t->c, c, i % 2 == 0, s[i], strlen(s[i]), mss);
}

static void say(struct t *t, fc_conn *c, int dir, const char *s, size_t mss)
{
	fc_send(&t->c, c, dir, s, strlen(s), mss);
}

/* PASV, RETR, the file from the server, 226; mss: segment size of both
 * connections (1: every byte its own segment). */
static void passive_retr(size_t mss)
{
	struct t t;
	t_begin(&t);
	fc_conn c = control();
	login(&t, &c, mss);
	say(&t, &c, 0, "PASV\r\n", mss);
	/* 156 * 256 + 64 = 40000 */
	say(&t, &c, 1, "227 Entering Passive Mode (192,0,2,10,156,64).\r\n", mss);
	fc_conn d = data_conn(false, 50000, 40000);
	fc_connect(&t.c, &d);
	say(&t, &c, 0, "RETR fox.txt\r\n", mss);
	say(&t, &c, 1, "150 Opening BINARY mode data connection for fox.txt (43 bytes).\r\n", mss);
	fc_send(&t.c, &d, 1, FOX, strlen(FOX), mss);
	fc_fin(&t.c, &d, 1);
	fc_fin(&t.c, &d, 0);
	say(&t, &c, 1, "226 Transfer complete.\r\n", mss);
	say(&t, &c, 0, "QUIT\r\n", mss);
	say(&t, &c, 1, "221 Goodbye.\r\n", mss);
	fc_fin(&t.c, &c, 1);
	fc_fin(&t.c, &c, 0);
	t_run(&t);
	/* the banner: a record without a command */
	assert_int_equal(
	    LINES(&t, "\"event_type\":\"ftp\"",
	          "\"ftp\":{\"completion_code\":[\"220\"],\"reply\":[\"Test FTP server "
	          "ready\"],\"reply_received\":\"yes\",\"reply_truncated\":false}"),
	    1);
	assert_int_equal(
	    LINES(&t,
	          "\"src_ip\":\"192.0.2.20\",\"src_port\":40000,\"dest_ip\":\"192.0."
	          "2.10\",\"dest_port\":21",
	          "\"ftp\":{\"command\":\"USER\",\"command_data\":\"anonymous\","
	          "\"command_truncated\":false,\"completion_code\":[\"331\"],\"reply\":["
	          "\"Please specify the password.\"],\"reply_received\":\"yes\""),
	    1);
	assert_int_equal(LINES(&t, "\"command\":\"PASV\"", "\"dynamic_port\":40000",
	                       "\"completion_code\":[\"227\"]"),
	                 1);
	assert_int_equal(LINES(&t, "\"command\":\"PASV\"", "\"mode\""), 0);
	assert_int_equal(
	    LINES(&t, "\"command\":\"RETR\",\"command_data\":\"fox.txt\"",
	          "\"completion_code\":[\"150\",\"226\"],\"reply\":[\"Opening BINARY mode "
	          "data connection for fox.txt (43 bytes).\",\"Transfer complete.\"]"),
	    1);
	assert_int_equal(LINES(&t, "\"event_type\":\"ftp\""), 6);
	/* the file: from the server (the data connection's acceptor) */
	assert_int_equal(
	    LINES(&t, "\"event_type\":\"fileinfo\"",
	          "\"src_ip\":\"192.0.2.10\",\"src_port\":40000,\"dest_ip\":\"192.0.2.20\","
	          "\"dest_port\":50000",
	          "\"app_proto\":\"ftp-data\"", "\"filename\":\"fox.txt\"", "\"state\":\"CLOSED\"",
	          "\"sha256\":\"" FOX_SHA256 "\"", "\"size\":43"),
	    1);
	assert_int_equal(LINES(&t, "\"event_type\":\"ftp_data\"", "\"src_ip\":\"192.0.2.20\"",
	                       "\"ftp_data\":{\"filename\":\"fox.txt\",\"command\":\"RETR\"}"),
	                 1);
	assert_int_equal(LINES(&t, "\"event_type\":\"flow\"", "\"app_proto\":\"ftp-data\""), 1);
	assert_int_equal(LINES(&t, "\"event_type\":\"anomaly\""), 0);
	t_end(&t);
}

static void test_passive_retr(void **unused)
{
	(void)unused;
	passive_retr(0);
}

/* the same conversation with every byte in a segment of its own */
static void test_passive_retr_bytewise(void **unused)
{
	(void)unused;
	passive_retr(1);
}

/* EPRT: the server connects from port 20; STOR's bytes come from the data
 * connection's acceptor (the FTP client). */
static void test_active_stor(void **unused)
{
	(void)unused;
	struct t t;
	t_begin(&t);
	fc_conn c = control();
	login(&t, &c, 0);
	say(&t, &c, 0, "EPRT |1|192.0.2.20|40001|\r\n", 0);
	say(&t, &c, 1, "200 EPRT command successful.\r\n", 0);
	say(&t, &c, 0, "STOR up.txt\r\n", 0);
	fc_conn d = data_conn(true, 0, 40001);
	fc_connect(&t.c, &d);
	say(&t, &c, 1, "150 Ok to send data.\r\n", 0);
	fc_send(&t.c, &d, 1, "abc", 3, 0);
	fc_fin(&t.c, &d, 1);
	fc_fin(&t.c, &d, 0);
	say(&t, &c, 1, "226 Transfer complete.\r\n", 0);
	t_run(&t);
	assert_int_equal(
	    LINES(&t, "\"command\":\"EPRT\"", "\"dynamic_port\":40001", "\"mode\":\"active\""), 1);
	assert_int_equal(
	    LINES(&t, "\"event_type\":\"fileinfo\"",
	          "\"src_ip\":\"192.0.2.20\",\"src_port\":40001,\"dest_ip\":\"192.0.2.10\","
	          "\"dest_port\":20",
	          "\"filename\":\"up.txt\"", "\"sha256\":\"" ABC_SHA256 "\"", "\"size\":3"),
	    1);
	/* ftp_data from the data connection's initiator: the server, port 20 */
	assert_int_equal(LINES(&t, "\"event_type\":\"ftp_data\"",
	                       "\"src_ip\":\"192.0.2.10\",\"src_port\":20",
	                       "\"ftp_data\":{\"filename\":\"up.txt\",\"command\":\"STOR\"}"),
	                 1);
	/* the control flow's end: the last command got its reply */
	assert_int_equal(LINES(&t, "\"reply_received\":\"no\""), 0);
	t_end(&t);
}

/* PORT active download: the bytes come from the data connection's
 * initiator; PORT naming another host is an FTP bounce. */
static void test_active_port_retr_and_bounce(void **unused)
{
	(void)unused;
	struct t t;
	t_begin(&t);
	fc_conn c = control();
	login(&t, &c, 0);
	/* 156 * 256 + 66 = 40002 */
	say(&t, &c, 0, "PORT 192,0,2,20,156,66\r\n", 0);
	say(&t, &c, 1, "200 PORT command successful.\r\n", 0);
	/* a REST the server refuses moves nothing: the file is whole */
	say(&t, &c, 0, "REST 2\r\n", 0);
	say(&t, &c, 1, "502 REST not implemented.\r\n", 0);
	say(&t, &c, 0, "RETR abc\r\n", 0);
	fc_conn d = data_conn(true, 0, 40002);
	fc_connect(&t.c, &d);
	say(&t, &c, 1, "150 Opening.\r\n", 0);
	fc_send(&t.c, &d, 0, "abc", 3, 0);
	fc_fin(&t.c, &d, 0);
	fc_fin(&t.c, &d, 1);
	say(&t, &c, 1, "226 Transfer complete.\r\n", 0);
	say(&t, &c, 0, "PORT 198,51,100,7,156,67\r\n", 0);
	say(&t, &c, 1, "500 Illegal PORT command.\r\n", 0);
	t_run(&t);
	assert_int_equal(
	    LINES(&t, "\"command\":\"PORT\"", "\"dynamic_port\":40002", "\"mode\":\"active\""), 1);
	assert_int_equal(LINES(&t, "\"event_type\":\"fileinfo\"",
	                       "\"src_ip\":\"192.0.2.10\",\"src_port\":20", "\"filename\":\"abc\"",
	                       "\"sha256\":\"" ABC_SHA256 "\""),
	                 1);
	assert_int_equal(LINES(&t, "\"event_type\":\"ftp_data\"", "restart_offset"), 0);
	assert_int_equal(LINES(&t, "\"event_type\":\"anomaly\"",
	                       "\"event\":\"PORT_ADDRESS_MISMATCH\"", "\"app_proto\":\"ftp\""),
	                 1);
	t_end(&t);
}

/* EPSV, TYPE A and REST: the transfer starts 5 bytes in, so the file has a
 * gap (no hashes of a partial file) and the ftp_data record says so. */
static void test_epsv_rest_ascii(void **unused)
{
	(void)unused;
	struct t t;
	t_begin(&t);
	fc_conn c = control();
	login(&t, &c, 0);
	say(&t, &c, 0, "TYPE A\r\n", 0);
	say(&t, &c, 1, "200 Switching to ASCII mode.\r\n", 0);
	say(&t, &c, 0, "EPSV\r\n", 0);
	say(&t, &c, 1, "229 Entering Extended Passive Mode (|||40003|)\r\n", 0);
	say(&t, &c, 0, "REST 5\r\n", 0);
	say(&t, &c, 1, "350 Restart position accepted (5).\r\n", 0);
	say(&t, &c, 0, "RETR notes.txt\r\n", 0);
	fc_conn d = data_conn(false, 50001, 40003);
	fc_connect(&t.c, &d);
	say(&t, &c, 1, "150 Opening ASCII mode data connection.\r\n", 0);
	fc_send(&t.c, &d, 1, "67890\r\n", 7, 0);
	fc_fin(&t.c, &d, 1);
	fc_fin(&t.c, &d, 0);
	say(&t, &c, 1, "226 Transfer complete.\r\n", 0);
	t_run(&t);
	assert_int_equal(LINES(&t, "\"command\":\"EPSV\"", "\"dynamic_port\":40003"), 1);
	assert_int_equal(LINES(&t, "\"event_type\":\"fileinfo\"", "\"filename\":\"notes.txt\"",
	                       "\"gaps\":true", "\"size\":7"),
	                 1);
	assert_int_equal(LINES(&t, "\"event_type\":\"fileinfo\"", "\"sha256\""), 0);
	assert_int_equal(LINES(&t, "\"event_type\":\"ftp_data\"",
	                       "\"omamori\":{\"ftp_data\":{\"transfer_type\":\"ascii\","
	                       "\"restart_offset\":5}}"),
	                 1);
	t_end(&t);
}

/* A connection nobody announced is no data connection; nor is one that
 * comes after the expectation's timeout. */
static void test_unannounced_and_late(void **unused)
{
	(void)unused;
	struct t t;
	t_begin(&t);
	t.cfg.proto.ftp.expect_timeout = 2;
	fc_conn c = control();
	login(&t, &c, 0);
	say(&t, &c, 0, "PASV\r\n", 0);
	say(&t, &c, 1, "227 Entering Passive Mode (192,0,2,10,156,68).\r\n", 0); /* 40004 */
	fc_conn other = data_conn(false, 50002, 40009);
	fc_connect(&t.c, &other);
	fc_send(&t.c, &other, 1, FOX, strlen(FOX), 0);
	fc_wait(&t.c, 3 * SEC);
	fc_conn late = data_conn(false, 50003, 40004);
	fc_connect(&t.c, &late);
	say(&t, &c, 0, "RETR fox.txt\r\n", 0);
	fc_send(&t.c, &late, 1, FOX, strlen(FOX), 0);
	fc_fin(&t.c, &late, 1);
	t_run(&t);
	assert_int_equal(LINES(&t, "\"app_proto\":\"ftp-data\""), 0);
	assert_int_equal(LINES(&t, "\"event_type\":\"fileinfo\""), 0);
	t_end(&t);
}

/* A table of one expectation: the second announcement is refused (an
 * anomaly); the first is still honoured. */
static void test_table_full(void **unused)
{
	(void)unused;
	struct t t;
	t_begin(&t);
	t.cfg.proto.ftp.max_expectations = 1;
	fc_conn c = control();
	login(&t, &c, 0);
	say(&t, &c, 0, "PASV\r\n", 0);
	say(&t, &c, 1, "227 Entering Passive Mode (192,0,2,10,156,69).\r\n", 0); /* 40005 */
	say(&t, &c, 0, "PASV\r\n", 0);
	say(&t, &c, 1, "227 Entering Passive Mode (192,0,2,10,156,70).\r\n", 0); /* 40006 */
	say(&t, &c, 0, "RETR fox.txt\r\n", 0);
	fc_conn d1 = data_conn(false, 50004, 40005), d2 = data_conn(false, 50005, 40006);
	fc_connect(&t.c, &d1);
	fc_connect(&t.c, &d2);
	fc_send(&t.c, &d1, 1, FOX, strlen(FOX), 0);
	fc_send(&t.c, &d2, 1, FOX, strlen(FOX), 0);
	fc_fin(&t.c, &d1, 1);
	fc_fin(&t.c, &d2, 1);
	t_run(&t);
	assert_int_equal(LINES(&t, "\"event\":\"EXPECTATION_TABLE_FULL\""), 1);
	assert_int_equal(LINES(&t, "\"event_type\":\"flow\"", "\"app_proto\":\"ftp-data\"",
	                       "\"dest_port\":40005"),
	                 1);
	assert_int_equal(LINES(&t, "\"event_type\":\"flow\"", "\"app_proto\":\"ftp-data\""), 1);
	t_end(&t);
}

/* Lines longer than max-line are cut, flagged and raise Suricata's events. */
static void test_long_lines(void **unused)
{
	(void)unused;
	struct t t;
	t_begin(&t);
	t.cfg.proto.ftp.max_line = 64;
	fc_conn c = control();
	fc_connect(&t.c, &c);
	say(&t, &c, 1, "220 ftp\r\n", 0);
	char u[128], r[128];
	memset(u, 'A', sizeof(u));
	memcpy(u, "USER ", 5);
	memcpy(u + 100, "\r\n", 3);
	memset(r, 'B', sizeof(r));
	memcpy(r, "331 ", 4);
	memcpy(r + 100, "\r\n", 3);
	say(&t, &c, 0, u, 7);
	say(&t, &c, 1, r, 7);
	t_run(&t);
	assert_int_equal(LINES(&t, "\"event\":\"REQUEST_COMMAND_TOO_LONG\""), 1);
	assert_int_equal(LINES(&t, "\"event\":\"RESPONSE_COMMAND_TOO_LONG\""), 1);
	/* 64 bytes kept: "USER " and 59 A */
	char want[128];
	snprintf(want, sizeof(want), "\"command_data\":\"%.59s\",\"command_truncated\":true",
	         u + 5);
	assert_int_equal(LINES(&t, "\"command\":\"USER\"", want, "\"reply_truncated\":true",
	                       "\"completion_code\":[\"331\"]"),
	                 1);
	t_end(&t);
}

/* A reply nobody asked for is an anomaly (except 421, the server closing);
 * multi-line replies; pipelined commands, the last one never answered. */
static void test_replies(void **unused)
{
	(void)unused;
	struct t t;
	t_begin(&t);
	fc_conn c = control();
	login(&t, &c, 0);
	say(&t, &c, 1, "500 What?\r\n", 0);
	say(&t, &c, 0, "FEAT\r\n", 0);
	say(&t, &c, 1, "211-Features:\r\n EPSV\r\n211 End\r\n", 3);
	say(&t, &c, 0, "NOOP\r\nNOOP\r\nSYST\r\n", 0);
	say(&t, &c, 1, "200 NOOP ok.\r\n200\r\n", 0);
	fc_fin(&t.c, &c, 1);
	fc_fin(&t.c, &c, 0);
	/* another session: the server closes it with 421 while nothing waits */
	fc_conn c2 = control();
	c2.ap = 40020;
	login(&t, &c2, 0);
	say(&t, &c2, 1, "421 Timeout.\r\n", 0);
	fc_fin(&t.c, &c2, 1);
	t_run(&t);
	assert_int_equal(LINES(&t, "\"event\":\"UNSOLICITED_REPLY\"",
	                       "\"src_ip\":\"192.0.2.10\","
	                       "\"src_port\":21,\"dest_ip\":\"192.0.2.20\",\"dest_port\":40000"),
	                 1);
	assert_int_equal(LINES(&t, "\"event_type\":\"anomaly\""), 1);
	assert_int_equal(
	    LINES(&t, "\"ftp\":{\"completion_code\":[\"421\"],\"reply\":[\"Timeout.\"]"), 1);
	assert_int_equal(LINES(&t, "\"ftp\":{\"completion_code\":[\"500\"],\"reply\":[\"What?\"]"),
	                 1);
	assert_int_equal(LINES(&t, "\"command\":\"FEAT\"",
	                       "\"completion_code\":[\"211\",\"211\"],\"reply\":[\"Features:\",\" "
	                       "EPSV\",\"End\"]"),
	                 1);
	assert_int_equal(LINES(&t, "\"command\":\"NOOP\"", "\"reply_received\":\"yes\""), 2);
	/* a bare code: a completion code without a reply text */
	assert_int_equal(LINES(&t, "\"ftp\":{\"command\":\"NOOP\",\"completion_code\":[\"200\"],"
	                           "\"reply_received\":\"yes\""),
	                 1);
	assert_int_equal(LINES(&t, "\"ftp\":{\"command\":\"SYST\",\"reply_received\":\"no\","
	                           "\"reply_truncated\":false}"),
	                 1);
	t_end(&t);
}

/* A mail server's greeting on an unusual port is not FTP; an FTP banner on
 * one is. */
static void test_detection(void **unused)
{
	(void)unused;
	struct t t;
	t_begin(&t);
	fc_conn m = control();
	m.bp = 2525;
	fc_connect(&t.c, &m);
	say(&t, &m, 1, "220 mail.example.com ESMTP\r\n", 0);
	say(&t, &m, 0, "EHLO client.example.com\r\n", 0);
	fc_fin(&t.c, &m, 0);
	fc_conn f = control();
	f.ap = 40010;
	f.bp = 2121;
	fc_connect(&t.c, &f);
	say(&t, &f, 1, "220 (vsFTPd 3.0.3)\r\n", 0);
	fc_fin(&t.c, &f, 0);
	fc_conn u = control();
	u.ap = 40011;
	u.bp = 2222;
	fc_connect(&t.c, &u);
	say(&t, &u, 1, "220 Welcome\r\n", 0);
	say(&t, &u, 0, "USER joe\r\n", 0);
	fc_fin(&t.c, &u, 0);
	t_run(&t);
	assert_int_equal(
	    LINES(&t, "\"event_type\":\"flow\"", "\"dest_port\":2525", "\"app_proto\":\"failed\""),
	    1);
	assert_int_equal(
	    LINES(&t, "\"event_type\":\"flow\"", "\"dest_port\":2121", "\"app_proto\":\"ftp\""), 1);
	/* a banner that does not say FTP: the client's USER decides */
	assert_int_equal(
	    LINES(&t, "\"event_type\":\"flow\"", "\"dest_port\":2222", "\"app_proto\":\"ftp\""), 1);
	assert_int_equal(LINES(&t, "\"command\":\"USER\",\"command_data\":\"joe\""), 1);
	t_end(&t);
}

/* A data connection reset in the middle: the file is TRUNCATED. */
static void test_truncated(void **unused)
{
	(void)unused;
	struct t t;
	t_begin(&t);
	fc_conn c = control();
	login(&t, &c, 0);
	say(&t, &c, 0, "EPSV\r\n", 0);
	say(&t, &c, 1, "229 Entering Extended Passive Mode (|||40007|)\r\n", 0);
	say(&t, &c, 0, "RETR big.iso\r\n", 0);
	fc_conn d = data_conn(false, 50006, 40007);
	fc_connect(&t.c, &d);
	say(&t, &c, 1, "150 Opening.\r\n", 0);
	fc_send(&t.c, &d, 1, FOX, 10, 0);
	fc_rst(&t.c, &d, 1);
	say(&t, &c, 1, "426 Connection closed; transfer aborted.\r\n", 0);
	t_run(&t);
	assert_int_equal(LINES(&t, "\"event_type\":\"fileinfo\"", "\"filename\":\"big.iso\"",
	                       "\"state\":\"TRUNCATED\"", "\"size\":10"),
	                 1);
	assert_int_equal(LINES(&t, "\"command\":\"RETR\"", "\"completion_code\":[\"150\",\"426\"]"),
	                 1);
	t_end(&t);
}

/* A transfer command from before the announcement is not this data
 * connection's: its bytes are a file without a name. */
static void test_stale_transfer(void **unused)
{
	(void)unused;
	struct t t;
	t_begin(&t);
	fc_conn c = control();
	login(&t, &c, 0);
	say(&t, &c, 0, "RETR old.txt\r\n", 0);
	say(&t, &c, 1, "425 Use PORT or PASV first.\r\n", 0);
	say(&t, &c, 0, "EPSV\r\n", 0);
	say(&t, &c, 1, "229 Entering Extended Passive Mode (|||40008|)\r\n", 0);
	fc_conn d = data_conn(false, 50007, 40008);
	fc_connect(&t.c, &d);
	fc_send(&t.c, &d, 0, "abc", 3, 0);
	fc_fin(&t.c, &d, 0);
	fc_fin(&t.c, &d, 1);
	t_run(&t);
	assert_int_equal(LINES(&t, "\"event_type\":\"fileinfo\"", "\"filename\":\"\"",
	                       "\"sha256\":\"" ABC_SHA256 "\""),
	                 1);
	assert_int_equal(LINES(&t, "old.txt", "\"event_type\":\"fileinfo\""), 0);
	assert_int_equal(LINES(&t, "\"event_type\":\"ftp_data\"", "\"ftp_data\":{}"), 1);
	t_end(&t);
}

/* AUTH TLS accepted: the rest is TLS, not read as FTP lines. */
static void test_auth_tls(void **unused)
{
	(void)unused;
	struct t t;
	t_begin(&t);
	fc_conn c = control();
	fc_connect(&t.c, &c);
	say(&t, &c, 1, "220 FTP server\r\n", 0);
	say(&t, &c, 0, "AUTH TLS\r\n", 0);
	say(&t, &c, 1, "234 Proceed with negotiation.\r\n", 0);
	/* a TLS record header, then bytes that would be a long "line" */
	uint8_t hs[300];
	memset(hs, 0x41, sizeof(hs));
	memcpy(hs, "\x16\x03\x01\x01\x20\x01", 6);
	fc_send(&t.c, &c, 0, hs, sizeof(hs), 0);
	fc_send(&t.c, &c, 1, "500 x\r\n", 7, 0);
	t_run(&t);
	/* named as Suricata names it: one command "AUTH TLS" */
	assert_int_equal(
	    LINES(&t, "\"ftp\":{\"command\":\"AUTH TLS\",\"completion_code\":[\"234\"]"), 1);
	assert_int_equal(LINES(&t, "\"event_type\":\"ftp\""), 2); /* banner, AUTH */
	assert_int_equal(LINES(&t, "\"event_type\":\"anomaly\""), 0);
	t_end(&t);
}

/* A capture that starts in the middle: on port 21 a command or a reply
 * is enough to know FTP; a data connection first seen from its acceptor's
 * side still matches its announcement, and the file keeps its sender. */
static void test_midstream(void **unused)
{
	(void)unused;
	struct t t;
	t_begin(&t);
	fc_conn c = control();
	c.seq[0] = 7000;
	c.seq[1] = 9000;
	say(&t, &c, 0, "PASV\r\n", 0);
	say(&t, &c, 1, "227 Entering Passive Mode (192,0,2,10,156,73).\r\n", 0); /* 40009 */
	say(&t, &c, 0, "RETR mid.txt\r\n", 0);
	say(&t, &c, 1, "150 Here it comes.\r\n", 0);
	fc_conn d = data_conn(false, 50009, 40009);
	d.seq[0] = 3000;
	d.seq[1] = 5000;
	fc_send(&t.c, &d, 1, "abc", 3, 0); /* first seen: the server's bytes */
	fc_send(&t.c, &d, 0, "", 0, 0);
	fc_fin(&t.c, &d, 1);
	fc_fin(&t.c, &d, 0);
	say(&t, &c, 1, "226 Transfer complete.\r\n", 0);
	t_run(&t);
	assert_int_equal(
	    LINES(&t, "\"event_type\":\"ftp\"", "\"command\":\"PASV\"", "\"dynamic_port\":40009"),
	    1);
	assert_int_equal(LINES(&t, "\"event_type\":\"fileinfo\"", "\"src_ip\":\"192.0.2.10\"",
	                       "\"filename\":\"mid.txt\"", "\"sha256\":\"" ABC_SHA256 "\""),
	                 1);
	t_end(&t);
}

/* A client that sends its first command before the greeting came (lftp
 * does): the greeting is still the banner, and the command gets the reply
 * after it. */
static void test_command_before_greeting(void **unused)
{
	(void)unused;
	struct t t;
	t_begin(&t);
	fc_conn c = control();
	fc_connect(&t.c, &c);
	say(&t, &c, 0, "FEAT\r\n", 0);
	say(&t, &c, 1, "220 FTP server\r\n", 0);
	say(&t, &c, 1, "211-Features:\r\n EPSV\r\n211 End\r\n", 0);
	t_run(&t);
	assert_int_equal(
	    LINES(&t, "\"ftp\":{\"completion_code\":[\"220\"],\"reply\":[\"FTP server\"]"), 1);
	assert_int_equal(LINES(&t, "\"ftp\":{\"command\":\"FEAT\",\"completion_code\":[\"211\","
	                           "\"211\"],\"reply\":[\"Features:\",\" EPSV\",\"End\"]"),
	                 1);
	assert_int_equal(LINES(&t, "\"event_type\":\"anomaly\""), 0);
	t_end(&t);
}

/* ---- transactions shown to an observer ---- */

static char tx_log[16384]; /* one line per transaction shown */

static enum om_tx_verdict log_tx(void *wctx, om_flow *f, const om_proto_tx *tx)
{
	(void)wctx;
	(void)f;
	uint32_t cn = 0, dn = 0;
	const uint8_t *c = om_tx_get(tx, OM_TXB_FTP_COMMAND, 0, &cn);
	const uint8_t *d = om_tx_get(tx, OM_TXB_FTP_COMMAND_DATA, 0, &dn);
	om_buf b;
	om_buf_init(&b, 4096);
	om_json j;
	om_json_init(&j, &b);
	om_json_obj_open(&j, NULL);
	tx->json(&j, tx->priv);
	om_json_obj_close(&j);
	size_t used = strlen(tx_log);
	snprintf(tx_log + used, sizeof(tx_log) - used, "%s %u %.*s|%.*s %s\n", tx->app_proto,
	         tx->progress, c ? (int)cn : 0, c ? (const char *)c : "", d ? (int)dn : 0,
	         d ? (const char *)d : "", om_buf_cstr(&b));
	om_buf_free(&b);
	bool retr = c && cn == 4 && !memcmp(c, "RETR", 4);
	return retr && !strcmp(tx->app_proto, "ftp") && (tx->progress & OM_TX_RESPONSE)
	           ? OM_TX_VERDICT_ALERT
	           : OM_TX_VERDICT_ACCEPT;
}

/* Every command is shown when its line is complete and again with its
 * final reply; a data connection's transfer when it starts and ends. The
 * observer's verdict is kept on the flow (the flow record's alerted). */
static void test_transactions(void **unused)
{
	(void)unused;
	static const om_proto_observer obs = {.name = "log", .on_tx = log_tx};
	tx_log[0] = '\0';
	struct t t;
	t_begin(&t);
	t.obs = &obs;
	fc_conn c = control();
	login(&t, &c, 0);
	say(&t, &c, 0, "EPSV\r\n", 0);
	say(&t, &c, 1, "229 Entering Extended Passive Mode (|||40012|)\r\n", 0);
	say(&t, &c, 0, "RETR fox.txt\r\n", 0);
	fc_conn d = data_conn(false, 50012, 40012);
	fc_connect(&t.c, &d);
	say(&t, &c, 1, "150 Opening.\r\n", 0);
	fc_send(&t.c, &d, 1, FOX, strlen(FOX), 0);
	fc_fin(&t.c, &d, 1);
	fc_fin(&t.c, &d, 0);
	say(&t, &c, 1, "226 Transfer complete.\r\n", 0);
	t_run(&t);
	/* the banner: a response without a request */
	assert_non_null(strstr(tx_log, "ftp 2 | {\"ftp\":{\"completion_code\":[\"220\"]"));
	assert_non_null(strstr(tx_log, "ftp 1 USER|anonymous {\"ftp\":{\"command\":\"USER\","
	                               "\"command_data\":\"anonymous\",\"command_truncated\":"
	                               "false,\"reply_received\":\"no\""));
	assert_non_null(strstr(tx_log, "ftp 3 USER|anonymous {\"ftp\":{\"command\":\"USER\","));
	assert_non_null(strstr(tx_log, "ftp 1 RETR|fox.txt "));
	assert_non_null(
	    strstr(tx_log, "ftp 3 RETR|fox.txt {\"ftp\":{\"command\":\"RETR\",\"command_data\":"
	                   "\"fox.txt\",\"command_truncated\":false,\"completion_code\":[\"150\","
	                   "\"226\"]"));
	assert_non_null(strstr(tx_log, "ftp-data 1 RETR|fox.txt {\"ftp_data\":{\"filename\":"
	                               "\"fox.txt\",\"command\":\"RETR\"}"));
	assert_non_null(strstr(tx_log, "ftp-data 3 RETR|fox.txt "));
	/* the RETR's alert marks the control flow, not the data flow */
	assert_int_equal(
	    LINES(&t, "\"event_type\":\"flow\"", "\"dest_port\":21", "\"alerted\":true"), 1);
	assert_int_equal(
	    LINES(&t, "\"event_type\":\"flow\"", "\"app_proto\":\"ftp-data\"", "\"alerted\":false"),
	    1);
	t_end(&t);
}

/* IPv6: EPSV and EPRT (RFC 2428) on a control connection over IPv6; the
 * expectations hold IPv6 addresses. */
static void test_ipv6(void **unused)
{
	(void)unused;
	static const uint8_t c6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
	                               0,    0,    0,    0,    0, 0, 0, 0x20};
	static const uint8_t s6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
	                               0,    0,    0,    0,    0, 0, 0, 0x10};
	struct t t;
	t_begin(&t);
	fc_conn c;
	memset(&c, 0, sizeof(c));
	c.v6 = true;
	memcpy(c.a, c6, 16);
	memcpy(c.b, s6, 16);
	c.ap = 40000;
	c.bp = 21;
	login(&t, &c, 0);
	say(&t, &c, 0, "EPSV\r\n", 0);
	say(&t, &c, 1, "229 Entering Extended Passive Mode (|||40013|)\r\n", 0);
	say(&t, &c, 0, "RETR fox.txt\r\n", 0);
	fc_conn d = c;
	d.seq[0] = d.seq[1] = 0;
	d.ap = 50013;
	d.bp = 40013;
	fc_connect(&t.c, &d);
	fc_send(&t.c, &d, 1, FOX, strlen(FOX), 0);
	fc_fin(&t.c, &d, 1);
	fc_fin(&t.c, &d, 0);
	say(&t, &c, 1, "226 Transfer complete.\r\n", 0);
	say(&t, &c, 0, "EPRT |2|2001:db8::20|40014|\r\n", 0);
	say(&t, &c, 1, "200 EPRT command successful.\r\n", 0);
	say(&t, &c, 0, "STOR abc.txt\r\n", 0);
	fc_conn e = c;
	e.seq[0] = e.seq[1] = 0;
	memcpy(e.a, s6, 16);
	memcpy(e.b, c6, 16);
	e.ap = 20;
	e.bp = 40014;
	fc_connect(&t.c, &e);
	fc_send(&t.c, &e, 1, "abc", 3, 0);
	fc_fin(&t.c, &e, 1);
	fc_fin(&t.c, &e, 0);
	say(&t, &c, 1, "226 Transfer complete.\r\n", 0);
	say(&t, &c, 0, "EPRT |2|2001:db8::99|40015|\r\n", 0); /* another host */
	t_run(&t);
	assert_int_equal(LINES(&t, "\"event_type\":\"fileinfo\"", "\"src_ip\":\"2001:db8::10\"",
	                       "\"filename\":\"fox.txt\"", "\"sha256\":\"" FOX_SHA256 "\""),
	                 1);
	assert_int_equal(LINES(&t, "\"event_type\":\"fileinfo\"", "\"src_ip\":\"2001:db8::20\"",
	                       "\"src_port\":40014", "\"filename\":\"abc.txt\"",
	                       "\"sha256\":\"" ABC_SHA256 "\""),
	                 1);
	assert_int_equal(
	    LINES(&t, "\"command\":\"EPRT\"", "\"dynamic_port\":40014", "\"mode\":\"active\""), 1);
	assert_int_equal(LINES(&t, "\"event\":\"PORT_ADDRESS_MISMATCH\""), 1);
	t_end(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_passive_retr),
	    cmocka_unit_test(test_passive_retr_bytewise),
	    cmocka_unit_test(test_active_stor),
	    cmocka_unit_test(test_active_port_retr_and_bounce),
	    cmocka_unit_test(test_epsv_rest_ascii),
	    cmocka_unit_test(test_unannounced_and_late),
	    cmocka_unit_test(test_table_full),
	    cmocka_unit_test(test_long_lines),
	    cmocka_unit_test(test_replies),
	    cmocka_unit_test(test_detection),
	    cmocka_unit_test(test_truncated),
	    cmocka_unit_test(test_stale_transfer),
	    cmocka_unit_test(test_auth_tls),
	    cmocka_unit_test(test_midstream),
	    cmocka_unit_test(test_command_before_greeting),
	    cmocka_unit_test(test_transactions),
	    cmocka_unit_test(test_ipv6),
	};
	(void)print_eve;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
