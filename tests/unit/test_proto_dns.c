/* Unit tests for the DNS parser (src/proto/dns.c), through the whole
 * offline pipeline: DNS messages built byte by byte here are put in UDP
 * datagrams and TCP segments of a capture written with libpcap, the engine
 * reads it with the proto module's parsers on, and the EVE lines are
 * checked. Every expected value is worked out from the bytes written here
 * (the comments say how), not taken from the parser's output. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/engine.h"
#include "proto/proto.h"

#define PKTBUF_MAX 8192
#include "pktbuf.h"

/* ---- DNS messages ------------------------------------------------------------ */

static void hdr(pkt *k, uint16_t id, uint16_t flags, uint16_t qd, uint16_t an, uint16_t ns,
                uint16_t ar)
{
	p16(k, id);
	p16(k, flags);
	p16(k, qd);
	p16(k, an);
	p16(k, ns);
	p16(k, ar);
}

/* a name as labels ("" is the root) */
static void name(pkt *k, const char *s)
{
	while (*s) {
		const char *dot = strchr(s, '.');
		size_t l = dot ? (size_t)(dot - s) : strlen(s);
		p8(k, (uint8_t)l);
		put(k, s, l);
		s += l + (dot ? 1 : 0);
	}
	p8(k, 0);
}

static void ptr(pkt *k, uint16_t off)
{
	p16(k, (uint16_t)(0xc000 | off));
}

static void question(pkt *k, const char *qn, uint16_t type)
{
	name(k, qn);
	p16(k, type);
	p16(k, 1);
}

/* the fixed part of a record after its name; returns where rdlength is */
static size_t rr_fixed(pkt *k, uint16_t type, uint32_t ttl)
{
	p16(k, type);
	p16(k, 1);
	p32(k, ttl);
	size_t at = k->n;
	p16(k, 0);
	return at;
}

static void rr_end(pkt *k, size_t at)
{
	size_t l = k->n - at - 2;
	k->b[at] = (uint8_t)(l >> 8);
	k->b[at + 1] = (uint8_t)l;
}

/* ---- the capture --------------------------------------------------------------- */

struct cap {
	pcap_t *pd;
	pcap_dumper_t *d;
	uint64_t usec;
	uint32_t seq[2]; /* the TCP flow's next sequence number per direction */
};

static uint16_t csum(const uint8_t *p, size_t n, uint32_t s)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* 2025-12-01T00:00:00Z */
#define T0 1764547200000000ull

static void cap_open(struct cap *c, const char *path)
{
	c->pd = pcap_open_dead(DLT_EN10MB, 65535);
	c->d = pcap_dump_open(c->pd, path);
	assert_non_null(c->d);
	c->usec = T0;
}

static void cap_close(struct cap *c)
{
	pcap_dump_close(c->d);
	pcap_close(c->pd);
}

/* One frame from the client 10.1.0.1:cport to the server 10.1.0.2:sport
 * (dir 0) or back (dir 1). */
static void frame(struct cap *c, int dir, int tcp, uint16_t cport, uint16_t sport, uint8_t flags,
                  const uint8_t *pl, size_t pn)
{
	static uint8_t f[14 + 20 + 20 + PKTBUF_MAX];
	size_t th = tcp ? 20 : 8;
	assert_true(pn <= PKTBUF_MAX);
	memset(f, 0, 14 + 20 + th);
	f[12] = 0x08;
	uint8_t *ip = f + 14, *t = ip + 20;
	uint16_t tot = (uint16_t)(20 + th + pn);
	ip[0] = 0x45;
	ip[2] = (uint8_t)(tot >> 8);
	ip[3] = (uint8_t)tot;
	ip[8] = 64;
	ip[9] = tcp ? 6 : 17;
	const uint8_t cli[4] = {10, 1, 0, 1}, srv[4] = {10, 1, 0, 2};
	memcpy(ip + 12, dir ? srv : cli, 4);
	memcpy(ip + 16, dir ? cli : srv, 4);
	uint16_t cc = csum(ip, 20, 0);
	ip[10] = (uint8_t)(cc >> 8);
	ip[11] = (uint8_t)cc;
	uint16_t sp = dir ? sport : cport, dp = dir ? cport : sport;
	t[0] = (uint8_t)(sp >> 8);
	t[1] = (uint8_t)sp;
	t[2] = (uint8_t)(dp >> 8);
	t[3] = (uint8_t)dp;
	if (tcp) {
		uint32_t seq = c->seq[dir], ack = c->seq[!dir];
		for (int i = 0; i < 4; i++) {
			t[4 + i] = (uint8_t)(seq >> (24 - 8 * i));
			t[8 + i] = (uint8_t)(ack >> (24 - 8 * i));
		}
		t[12] = 5 << 4;
		t[13] = flags;
		t[14] = 0xff;
		t[15] = 0xff;
	} else {
		t[4] = (uint8_t)((8 + pn) >> 8);
		t[5] = (uint8_t)(8 + pn);
	}
	if (pn)
		memcpy(t + th, pl, pn);
	uint32_t s = 0;
	s += (uint32_t)(ip[12] << 8 | ip[13]) + (uint32_t)(ip[14] << 8 | ip[15]);
	s += (uint32_t)(ip[16] << 8 | ip[17]) + (uint32_t)(ip[18] << 8 | ip[19]);
	s += ip[9] + (uint32_t)(th + pn);
	uint16_t tc = csum(t, th + pn, s);
	t[tcp ? 16 : 6] = (uint8_t)(tc >> 8);
	t[tcp ? 17 : 7] = (uint8_t)tc;
	struct pcap_pkthdr h;
	h.ts.tv_sec = (time_t)(c->usec / 1000000);
	h.ts.tv_usec = (suseconds_t)(c->usec % 1000000);
	h.caplen = h.len = (bpf_u_int32)(14 + 20 + th + pn);
	pcap_dump((u_char *)c->d, &h, f);
	c->usec += 1000;
	if (tcp)
		c->seq[dir] += (uint32_t)pn + ((flags & 0x03) ? 1 : 0);
}

static void udp(struct cap *c, int dir, uint16_t cport, uint16_t sport, const pkt *m)
{
	frame(c, dir, 0, cport, sport, 0, m->b, m->n);
}

static void tcp_open(struct cap *c, uint16_t cport, uint16_t sport)
{
	c->seq[0] = 1000;
	c->seq[1] = 9000;
	frame(c, 0, 1, cport, sport, 0x02, NULL, 0);
	frame(c, 1, 1, cport, sport, 0x12, NULL, 0);
	frame(c, 0, 1, cport, sport, 0x10, NULL, 0);
}

static void tcp_seg(struct cap *c, int dir, uint16_t cport, uint16_t sport, const uint8_t *p,
                    size_t n)
{
	frame(c, dir, 1, cport, sport, 0x18, p, n);
}

static void tcp_close(struct cap *c, uint16_t cport, uint16_t sport)
{
	frame(c, 0, 1, cport, sport, 0x11, NULL, 0);
	frame(c, 1, 1, cport, sport, 0x11, NULL, 0);
	frame(c, 0, 1, cport, sport, 0x10, NULL, 0);
}

/* a message with its TCP length prefix */
static void framed(pkt *out, const pkt *m)
{
	p16(out, (uint16_t)m->n);
	put(out, m->b, m->n);
}

/* ---- running the engine ----------------------------------------------------------- */

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

/* Runs the capture through the engine with the DNS parser (max_tx and
 * max_msg as given, 0: the defaults); returns the EVE text. */
static char *inspect(const char *cap, uint32_t max_tx, uint32_t max_msg)
{
	om_settings cfg;
	om_settings_defaults(&cfg);
	if (max_tx)
		cfg.proto.dns.max_tx = max_tx;
	if (max_msg)
		cfg.proto.dns.max_msg = max_msg;
	char evepath[300], err[512];
	snprintf(evepath, sizeof(evepath), "%s.eve", cap);
	om_eve *eve;
	assert_int_equal(om_eve_open(evepath, 0, false, &eve, err, sizeof(err)), 0);
	om_proto *proto;
	assert_int_equal(om_proto_new(&cfg.proto, &proto, err, sizeof(err)), 0);
	om_app_registry *apps = om_app_registry_new();
	assert_non_null(apps);
	assert_int_equal(om_proto_register(proto, apps), 0);
	om_app_registry_seal(apps);
	om_engine_opts o = {.cfg = &cfg,
	                    .pcap_path = cap,
	                    .eve = eve,
	                    .tenant = "t1",
	                    .gateway = "g1",
	                    .workers = 1,
	                    .apps = apps,
	                    .proto = proto};
	om_engine_result res;
	int r = om_engine_inspect(&o, &res, err, sizeof(err));
	if (r < 0)
		fail_msg("inspect failed: %s", err);
	om_eve_close(eve);
	om_app_registry_free(apps);
	om_proto_free(proto);
	char *text = slurp(evepath);
	if (!getenv("DNS_TEST_KEEP"))
		unlink(evepath);
	return text;
}

/* Lines holding every one of the needles (NULL-terminated). */
static int lines_with(const char *eve, ...)
{
	int n = 0;
	const char *p = eve;
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		char *line = strndup(p, len);
		assert_non_null(line);
		va_list ap;
		va_start(ap, eve);
		bool all = true;
		for (const char *s; (s = va_arg(ap, const char *)) != NULL;)
			all = all && strstr(line, s) != NULL;
		va_end(ap);
		n += all;
		free(line);
		p += len + (nl ? 1 : 0);
	}
	return n;
}

static char tmpdir[] = "/tmp/omamori-dns-XXXXXX";

static void cap_path(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s.pcap", tmpdir, name);
}

#define ANOM(ev) "\"anomaly\":{\"app_proto\":\"dns\",\"type\":\"applayer\",\"event\":\"" ev "\""

/* ---- tests --------------------------------------------------------------------------- */

/* A query and its answer over UDP on an unusual port (detected by content):
 * the answer's names are compressed: the CNAME's owner points at the
 * question's name (offset 12), its target is "www" and a pointer to the
 * "shop" label of the question (offset 12 + 1 + 4 = 17), and the A
 * record's owner points at that target (a pointer to a name that ends in
 * a pointer). */
static void test_udp_compression(void **unused)
{
	(void)unused;
	char path[300];
	cap_path(path, sizeof(path), "compress");
	struct cap c;
	cap_open(&c, path);
	pkt q = {.n = 0};
	hdr(&q, 0x1234, 0x0100, 1, 0, 0, 0);
	question(&q, "mail.shop.example", 1);
	udp(&c, 0, 40001, 10053, &q);
	pkt a = {.n = 0};
	hdr(&a, 0x1234, 0x8180, 1, 2, 0, 0);
	/* offset 12: 4 "mail" 4 "shop" 7 "example" 0: "shop" at 17 */
	question(&a, "mail.shop.example", 1);
	ptr(&a, 12); /* owner: mail.shop.example */
	size_t at = rr_fixed(&a, 5, 3600);
	size_t target = a.n; /* where the CNAME target starts */
	p8(&a, 3);
	put(&a, "www", 3);
	ptr(&a, 17); /* www.shop.example */
	rr_end(&a, at);
	ptr(&a, (uint16_t)target); /* owner: www.shop.example */
	at = rr_fixed(&a, 1, 60);
	p32(&a, 0xc0000205); /* 192.0.2.5 */
	rr_end(&a, at);
	udp(&c, 1, 40001, 10053, &a);
	/* not DNS on port 53: no parser takes it */
	pkt junk = {.n = 0};
	put(&junk, "GET / HTTP/1.0\r\n\r\n", 18);
	udp(&c, 0, 40002, 53, &junk);
	cap_close(&c);

	char *eve = inspect(path, 0, 0);
	assert_int_equal(lines_with(eve,
	                            "\"dns\":{\"version\":2,\"type\":\"query\",\"id\":4660,"
	                            "\"rrname\":\"mail.shop.example\",\"rrtype\":\"A\",\"tx_id\":0,"
	                            "\"opcode\":0}",
	                            "\"dest_port\":10053", "\"app_proto\":\"dns\"", NULL),
	                 1);
	/* flags 0x8180: qr, rd, ra; opcode 0 */
	assert_int_equal(
	    lines_with(
	        eve,
	        "\"type\":\"answer\",\"id\":4660,\"flags\":\"8180\",\"qr\":true,\"rd\":true,"
	        "\"ra\":true,\"opcode\":0,\"rrname\":\"mail.shop.example\",\"rrtype\":\"A\","
	        "\"rcode\":\"NOERROR\"",
	        "\"answers\":[{\"rrname\":\"mail.shop.example\",\"rrtype\":\"CNAME\",\"ttl\":"
	        "3600,\"rdata\":\"www.shop.example\"},{\"rrname\":\"www.shop.example\","
	        "\"rrtype\":\"A\",\"ttl\":60,\"rdata\":\"192.0.2.5\"}]",
	        "\"grouped\":{\"CNAME\":[\"www.shop.example\"],\"A\":[\"192.0.2.5\"]}",
	        "\"src_port\":40001", NULL),
	    1);
	assert_int_equal(lines_with(eve, "\"event_type\":\"anomaly\"", NULL), 0);
	/* the HTTP-looking datagram on port 53 is no DNS */
	assert_int_equal(lines_with(eve, "\"event_type\":\"flow\"", "\"src_port\":40002",
	                            "\"app_proto\":\"failed\"", NULL),
	                 1);
	free(eve);
}

/* Broken names in answers, each in a flow of its own: every one is an
 * anomaly, no answer record, and the parser goes on (the flow's query was
 * logged, the next flow is fine). */
static void test_bad_names(void **unused)
{
	(void)unused;
	char path[300];
	cap_path(path, sizeof(path), "names");
	struct cap c;
	cap_open(&c, path);
	for (int kind = 0; kind < 6; kind++) {
		uint16_t port = (uint16_t)(41000 + kind);
		pkt q = {.n = 0};
		hdr(&q, (uint16_t)(100 + kind), 0x0100, 1, 0, 0, 0);
		question(&q, "a.example", 1);
		udp(&c, 0, port, 53, &q);
		pkt a = {.n = 0};
		hdr(&a, (uint16_t)(100 + kind), 0x8180, 1, 1, 0, 0);
		question(&a, "a.example", 1); /* 12..26: 1 "a" 7 "example" 0, type, class */
		size_t own = a.n;             /* 27 */
		switch (kind) {
		case 0: /* a pointer to itself */ ptr(&a, (uint16_t)own); break;
		case 1: /* "x" then a pointer back to the "x": x.x.x... for ever */
			p8(&a, 1);
			p8(&a, 'x');
			ptr(&a, (uint16_t)own);
			break;
		case 2: /* 5 labels of 63 = 5 * 64 + 1 = 321 octets > 255 */
			for (int i = 0; i < 5; i++) {
				p8(&a, 63);
				for (int k = 0; k < 63; k++)
					p8(&a, 'a');
			}
			p8(&a, 0);
			break;
		case 3: /* a label length of 64 (0x40: no such label type) */
			p8(&a, 64);
			for (int k = 0; k < 64; k++)
				p8(&a, 'b');
			p8(&a, 0);
			break;
		case 4: /* a pointer past the end of the message */ ptr(&a, 0x3fff); break;
		case 5: /* a good one: the flow after the broken ones */ ptr(&a, 12); break;
		}
		size_t at = rr_fixed(&a, 1, 60);
		p32(&a, 0xc0000201);
		rr_end(&a, at);
		udp(&c, 1, port, 53, &a);
	}
	/* an answer cut short: the header promises an answer, the bytes end
	 * after the question */
	pkt q = {.n = 0};
	hdr(&q, 200, 0x0100, 1, 0, 0, 0);
	question(&q, "b.example", 1);
	udp(&c, 0, 41010, 53, &q);
	pkt a = {.n = 0};
	hdr(&a, 200, 0x8180, 1, 1, 0, 0);
	question(&a, "b.example", 1);
	udp(&c, 1, 41010, 53, &a);
	cap_close(&c);

	char *eve = inspect(path, 0, 0);
	assert_int_equal(lines_with(eve, ANOM("INFINITE_LOOP"), "\"src_port\":53", NULL), 2);
	assert_int_equal(lines_with(eve, ANOM("INFINITE_LOOP"), "\"dest_port\":41000", NULL), 1);
	assert_int_equal(lines_with(eve, ANOM("INFINITE_LOOP"), "\"dest_port\":41001", NULL), 1);
	assert_int_equal(lines_with(eve, ANOM("NAME_TOO_LONG"), "\"dest_port\":41002", NULL), 1);
	assert_int_equal(lines_with(eve, ANOM("MALFORMED_DATA"), "\"dest_port\":41003", NULL), 1);
	assert_int_equal(lines_with(eve, ANOM("MALFORMED_DATA"), "\"dest_port\":41004", NULL), 1);
	assert_int_equal(lines_with(eve, ANOM("MALFORMED_DATA"), "\"dest_port\":41010", NULL), 1);
	assert_int_equal(lines_with(eve, "\"event_type\":\"anomaly\"", NULL), 6);
	/* the queries are all there; the only answer is the good one */
	assert_int_equal(lines_with(eve, "\"type\":\"query\"", NULL), 7);
	assert_int_equal(lines_with(eve, "\"type\":\"answer\"", NULL), 1);
	assert_int_equal(
	    lines_with(eve, "\"type\":\"answer\",\"id\":105,",
	               "\"answers\":[{\"rrname\":\"a.example\",\"rrtype\":\"A\",\"ttl\":60,"
	               "\"rdata\":\"192.0.2.1\"}]",
	               NULL),
	    1);
	free(eve);
}

/* Flags and transactions: the Z bit, a response nobody asked for, a query
 * sent by the server, and EDNS (version 0, buffer 4096, DO, two options:
 * cookie 10 and padding 12). */
static void test_flags_edns(void **unused)
{
	(void)unused;
	char path[300];
	cap_path(path, sizeof(path), "flags");
	struct cap c;
	cap_open(&c, path);
	pkt q = {.n = 0};
	hdr(&q, 7, 0x0140, 1, 0, 0, 1); /* rd and z */
	question(&q, "z.example", 16);
	name(&q, "");           /* OPT owner: the root */
	p16(&q, 41);            /* OPT */
	p16(&q, 4096);          /* UDP size */
	p32(&q, 0x00008000);    /* ext rcode 0, version 0, DO */
	p16(&q, 4 + 8 + 4 + 2); /* rdlen */
	p16(&q, 10);            /* cookie */
	p16(&q, 8);
	put(&q, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
	p16(&q, 12); /* padding */
	p16(&q, 2);
	p16(&q, 0);
	udp(&c, 0, 42000, 53, &q);
	/* an answer to a query never seen (id 9 instead of 7) */
	pkt a = {.n = 0};
	hdr(&a, 9, 0x8180, 1, 0, 0, 0);
	question(&a, "z.example", 16);
	udp(&c, 1, 42000, 53, &a);
	/* the server's side sends a query (QR clear) */
	pkt s = {.n = 0};
	hdr(&s, 11, 0x0000, 1, 0, 0, 0);
	question(&s, "c.example", 1);
	udp(&c, 1, 42000, 53, &s);
	cap_close(&c);

	char *eve = inspect(path, 0, 0);
	assert_int_equal(lines_with(eve, ANOM("Z_FLAG_SET"), "\"src_port\":42000", NULL), 1);
	assert_int_equal(
	    lines_with(eve,
	               "\"type\":\"query\",\"id\":7,\"rrname\":\"z.example\","
	               "\"rrtype\":\"TXT\",\"tx_id\":0,\"z\":true,\"opcode\":0}",
	               "\"omamori\":{\"edns\":{\"version\":0,\"udp_size\":4096,\"do\":true,"
	               "\"options\":[10,12]}}",
	               NULL),
	    1);
	assert_int_equal(lines_with(eve, ANOM("UNSOLICITED_RESPONSE"), "\"src_port\":53", NULL), 1);
	/* logged all the same; no answers, no grouped */
	assert_int_equal(lines_with(eve, "\"type\":\"answer\",\"id\":9,\"flags\":\"8180\"", NULL),
	                 1);
	assert_int_equal(lines_with(eve, "\"answers\"", NULL), 0);
	assert_int_equal(lines_with(eve, "\"grouped\"", NULL), 0);
	assert_int_equal(lines_with(eve, ANOM("NOT_RESPONSE"), "\"src_port\":53", NULL), 1);
	/* tx_id counts messages: the server's query is the third */
	assert_int_equal(lines_with(eve, "\"type\":\"query\",\"id\":11,", "\"tx_id\":2", NULL), 1);
	assert_int_equal(lines_with(eve, "\"event_type\":\"anomaly\"", NULL), 3);
	free(eve);
}

/* Record types beyond Suricata 7's, in presentation form; the root name
 * (written "", as Suricata 7 does); a type with no name and an A record
 * of the wrong size (generic form, RFC 3597). */
static void test_rdata_types(void **unused)
{
	(void)unused;
	char path[300];
	cap_path(path, sizeof(path), "types");
	struct cap c;
	cap_open(&c, path);
	pkt q = {.n = 0};
	hdr(&q, 0x0a0b, 0x0100, 1, 0, 0, 0);
	question(&q, "", 255); /* "." ANY */
	udp(&c, 0, 43000, 53, &q);
	pkt a = {.n = 0};
	hdr(&a, 0x0a0b, 0x8180, 1, 11, 0, 0);
	question(&a, "", 255);
	size_t at;
	/* DS: key tag 12345, algorithm 8, digest type 2, digest de ad */
	name(&a, "");
	at = rr_fixed(&a, 43, 100);
	p16(&a, 12345);
	p8(&a, 8);
	p8(&a, 2);
	p16(&a, 0xdead);
	rr_end(&a, at);
	/* DNSKEY: flags 257, protocol 3, algorithm 8, key 01 02 03 = "AQID" */
	name(&a, "");
	at = rr_fixed(&a, 48, 100);
	p16(&a, 257);
	p8(&a, 3);
	p8(&a, 8);
	put(&a, "\x01\x02\x03", 3);
	rr_end(&a, at);
	/* RRSIG over A: algorithm 8, 2 labels, original TTL 300, expiration
	 * 1767225600 (2026-01-01 00:00:00), inception 1764547200
	 * (2025-12-01), key tag 12345, signer "shop.example", signature
	 * "abc" = "YWJj" */
	name(&a, "");
	at = rr_fixed(&a, 46, 100);
	p16(&a, 1);
	p8(&a, 8);
	p8(&a, 2);
	p32(&a, 300);
	p32(&a, 1767225600u);
	p32(&a, 1764547200u);
	p16(&a, 12345);
	name(&a, "shop.example");
	put(&a, "abc", 3);
	rr_end(&a, at);
	/* NSEC: next "b.example", types A (1) and MX (15): window 0, 2
	 * bytes, bit 1 of byte 0 (0x40) and bit 7 of byte 1 (0x01) */
	name(&a, "");
	at = rr_fixed(&a, 47, 100);
	name(&a, "b.example");
	put(&a, "\x00\x02\x40\x01", 4);
	rr_end(&a, at);
	/* NSEC3: hash 1, flags 0, 10 iterations, salt aa bb, next hash of 5
	 * zero bytes = 8 base32hex digits "00000000", types A */
	name(&a, "");
	at = rr_fixed(&a, 50, 100);
	put(&a, "\x01\x00\x00\x0a\x02\xaa\xbb\x05\x00\x00\x00\x00\x00\x00\x01\x40", 16);
	rr_end(&a, at);
	/* HTTPS: priority 1, target ".", alpn h2,h3, port 443, ipv4hint
	 * 192.0.2.1 */
	name(&a, "");
	at = rr_fixed(&a, 65, 100);
	p16(&a, 1);
	p8(&a, 0);
	p16(&a, 1);
	p16(&a, 6);
	put(&a, "\x02h2\x02h3", 6);
	p16(&a, 3);
	p16(&a, 2);
	p16(&a, 443);
	p16(&a, 4);
	p16(&a, 4);
	p32(&a, 0xc0000201);
	rr_end(&a, at);
	/* type 65280 (private use, no name): 01 02 */
	name(&a, "");
	at = rr_fixed(&a, 65280, 100);
	p16(&a, 0x0102);
	rr_end(&a, at);
	/* an A record with 3 bytes of data: not an address, generic form */
	name(&a, "");
	at = rr_fixed(&a, 1, 100);
	put(&a, "\x0a\x00\x01", 3);
	rr_end(&a, at);
	/* NS "." (the root as data) */
	name(&a, "");
	at = rr_fixed(&a, 2, 100);
	name(&a, "");
	rr_end(&a, at);
	/* A 0.10.100.255: octets of one, two and three digits */
	name(&a, "");
	at = rr_fixed(&a, 1, 100);
	put(&a, "\x00\x0a\x64\xff", 4);
	rr_end(&a, at);
	/* AAAA 2001:db8:ab:cdef::1, written in full */
	name(&a, "");
	at = rr_fixed(&a, 28, 100);
	put(&a, "\x20\x01\x0d\xb8\x00\xab\xcd\xef\x00\x00\x00\x00\x00\x00\x00\x01", 16);
	rr_end(&a, at);
	udp(&c, 1, 43000, 53, &a);
	cap_close(&c);

	char *eve = inspect(path, 0, 0);
	assert_int_equal(
	    lines_with(eve, "\"type\":\"query\",\"id\":2571,\"rrname\":\"\",\"rrtype\":\"ANY\"",
	               NULL),
	    1);
	const char *want[] = {
	    "{\"rrname\":\"\",\"rrtype\":\"DS\",\"ttl\":100,\"rdata\":\"12345 8 2 dead\"}",
	    "{\"rrname\":\"\",\"rrtype\":\"DNSKEY\",\"ttl\":100,\"rdata\":\"257 3 8 AQID\"}",
	    "{\"rrname\":\"\",\"rrtype\":\"RRSIG\",\"ttl\":100,\"rdata\":\"A 8 2 300 "
	    "20260101000000 20251201000000 12345 shop.example YWJj\"}",
	    "{\"rrname\":\"\",\"rrtype\":\"NSEC\",\"ttl\":100,\"rdata\":\"b.example A MX\"}",
	    "{\"rrname\":\"\",\"rrtype\":\"NSEC3\",\"ttl\":100,\"rdata\":\"1 0 10 aabb "
	    "00000000 A\"}",
	    "{\"rrname\":\"\",\"rrtype\":\"HTTPS\",\"ttl\":100,\"rdata\":\"1 . alpn=h2,h3 "
	    "port=443 ipv4hint=192.0.2.1\"}",
	    "{\"rrname\":\"\",\"rrtype\":\"65280\",\"ttl\":100,\"rdata\":\"\\\\# 2 0102\"}",
	    "{\"rrname\":\"\",\"rrtype\":\"A\",\"ttl\":100,\"rdata\":\"\\\\# 3 0a0001\"}",
	    "{\"rrname\":\"\",\"rrtype\":\"NS\",\"ttl\":100,\"rdata\":\"\"}",
	    "{\"rrname\":\"\",\"rrtype\":\"A\",\"ttl\":100,\"rdata\":\"0.10.100.255\"}",
	    "{\"rrname\":\"\",\"rrtype\":\"AAAA\",\"ttl\":100,"
	    "\"rdata\":\"2001:0db8:00ab:cdef:0000:0000:0000:0001\"}",
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (lines_with(eve, "\"type\":\"answer\"", want[i], NULL) != 1)
			fail_msg("no answer with %s in:\n%s", want[i], eve);
	assert_int_equal(lines_with(eve, "\"grouped\":{\"DS\":[\"12345 8 2 dead\"],\"DNSKEY\":",
	                            "\"65280\":[\"\\\\# 2 0102\"]", NULL),
	                 1);
	assert_int_equal(lines_with(eve, "\"event_type\":\"anomaly\"", NULL), 0);
	free(eve);
}

/* TCP framing: two whole messages in one segment, then a query whose
 * length prefix is split (one byte, then the rest in two segments), an
 * answer split over three segments, and detection on port 5300. */
static void test_tcp_framing(void **unused)
{
	(void)unused;
	char path[300];
	cap_path(path, sizeof(path), "tcp");
	struct cap c;
	cap_open(&c, path);
	tcp_open(&c, 44000, 5300);
	pkt q1 = {.n = 0}, q2 = {.n = 0}, two = {.n = 0};
	hdr(&q1, 1, 0x0100, 1, 0, 0, 0);
	question(&q1, "one.example", 1);
	hdr(&q2, 2, 0x0100, 1, 0, 0, 0);
	question(&q2, "two.example", 28);
	framed(&two, &q1);
	framed(&two, &q2);
	tcp_seg(&c, 0, 44000, 5300, two.b, two.n);
	pkt a1 = {.n = 0}, a2 = {.n = 0}, both = {.n = 0};
	hdr(&a1, 1, 0x8180, 1, 1, 0, 0);
	question(&a1, "one.example", 1);
	ptr(&a1, 12);
	size_t at = rr_fixed(&a1, 1, 5);
	p32(&a1, 0xc0000263); /* 192.0.2.99 */
	rr_end(&a1, at);
	hdr(&a2, 2, 0x8183, 1, 0, 0, 0);
	question(&a2, "two.example", 28);
	framed(&both, &a1);
	framed(&both, &a2);
	tcp_seg(&c, 1, 44000, 5300, both.b, both.n);
	/* query 3: the prefix's first byte alone */
	pkt q3 = {.n = 0}, f3 = {.n = 0};
	hdr(&q3, 3, 0x0100, 1, 0, 0, 0);
	question(&q3, "three.example", 16);
	framed(&f3, &q3);
	tcp_seg(&c, 0, 44000, 5300, f3.b, 1);
	tcp_seg(&c, 0, 44000, 5300, f3.b + 1, 5);
	tcp_seg(&c, 0, 44000, 5300, f3.b + 6, f3.n - 6);
	/* its answer: a TXT of one 200-byte string, in three segments */
	pkt a3 = {.n = 0}, g3 = {.n = 0};
	hdr(&a3, 3, 0x8180, 1, 1, 0, 0);
	question(&a3, "three.example", 16);
	ptr(&a3, 12);
	at = rr_fixed(&a3, 16, 7);
	p8(&a3, 200);
	for (int i = 0; i < 200; i++)
		p8(&a3, 'z');
	rr_end(&a3, at);
	framed(&g3, &a3);
	tcp_seg(&c, 1, 44000, 5300, g3.b, 40);
	tcp_seg(&c, 1, 44000, 5300, g3.b + 40, 100);
	tcp_seg(&c, 1, 44000, 5300, g3.b + 140, g3.n - 140);
	tcp_close(&c, 44000, 5300);
	cap_close(&c);

	char *eve = inspect(path, 0, 0);
	assert_int_equal(lines_with(eve, "\"proto\":\"TCP\",\"app_proto\":\"dns\"", NULL), 7);
	assert_int_equal(lines_with(eve,
	                            "\"type\":\"query\",\"id\":1,\"rrname\":\"one.example\","
	                            "\"rrtype\":\"A\",\"tx_id\":0",
	                            NULL),
	                 1);
	assert_int_equal(lines_with(eve,
	                            "\"type\":\"query\",\"id\":2,\"rrname\":\"two.example\","
	                            "\"rrtype\":\"AAAA\",\"tx_id\":1",
	                            NULL),
	                 1);
	assert_int_equal(
	    lines_with(eve, "\"type\":\"answer\",\"id\":1,",
	               "\"answers\":[{\"rrname\":\"one.example\",\"rrtype\":\"A\",\"ttl\":5,"
	               "\"rdata\":\"192.0.2.99\"}]",
	               NULL),
	    1);
	assert_int_equal(lines_with(eve, "\"type\":\"answer\",\"id\":2,\"flags\":\"8183\"",
	                            "\"rcode\":\"NXDOMAIN\"", NULL),
	                 1);
	/* messages 0..3 came before: query 3 is the fifth */
	assert_int_equal(lines_with(eve,
	                            "\"type\":\"query\",\"id\":3,\"rrname\":\"three.example\","
	                            "\"rrtype\":\"TXT\",\"tx_id\":4",
	                            NULL),
	                 1);
	char z200[300] = "\"grouped\":{\"TXT\":[\"";
	size_t zl = strlen(z200);
	memset(z200 + zl, 'z', 200);
	memcpy(z200 + zl + 200, "\"]}", 4);
	assert_int_equal(lines_with(eve, "\"type\":\"answer\",\"id\":3,", z200, "\"ttl\":7", NULL),
	                 1);
	assert_int_equal(lines_with(eve, "\"event_type\":\"anomaly\"", NULL), 0);
	free(eve);
}

/* Limits: with max-tx 2, the third unanswered query of a flow gives up the
 * oldest (FLOODED, once); with max-msg 100, a 150-byte message is skipped
 * (MESSAGE_TOO_BIG) and the one after it is read. */
static void test_limits(void **unused)
{
	(void)unused;
	char path[300];
	cap_path(path, sizeof(path), "limits");
	struct cap c;
	cap_open(&c, path);
	tcp_open(&c, 45000, 53);
	pkt all = {.n = 0};
	for (int i = 0; i < 4; i++) {
		pkt q = {.n = 0};
		hdr(&q, (uint16_t)(50 + i), 0x0100, 1, 0, 0, 0);
		question(&q, "flood.example", 1);
		framed(&all, &q);
	}
	tcp_seg(&c, 0, 45000, 53, all.b, all.n);
	/* the answer to the first query (given up: unsolicited now), then
	 * one too big, then the answer to the last */
	pkt out = {.n = 0};
	pkt a = {.n = 0};
	hdr(&a, 50, 0x8180, 1, 0, 0, 0);
	question(&a, "flood.example", 1);
	framed(&out, &a);
	pkt big = {.n = 0};
	hdr(&big, 52, 0x8180, 1, 1, 0, 0);
	question(&big, "flood.example", 16); /* 12 + 15 + 4 = 31 */
	ptr(&big, 12);
	size_t at = rr_fixed(&big, 16, 1); /* 31 + 2 + 10 = 43 */
	p8(&big, 106);
	for (int i = 0; i < 106; i++)
		p8(&big, 'y');
	rr_end(&big, at); /* 43 + 107 = 150 */
	assert_int_equal(big.n, 150);
	framed(&out, &big);
	pkt last = {.n = 0};
	hdr(&last, 53, 0x8180, 1, 0, 0, 0);
	question(&last, "flood.example", 1);
	framed(&out, &last);
	tcp_seg(&c, 1, 45000, 53, out.b, out.n);
	tcp_close(&c, 45000, 53);
	cap_close(&c);

	char *eve = inspect(path, 2, 100);
	assert_int_equal(lines_with(eve, "\"type\":\"query\"", NULL), 4);
	assert_int_equal(lines_with(eve, ANOM("FLOODED"), "\"src_port\":45000", NULL), 1);
	assert_int_equal(lines_with(eve, ANOM("UNSOLICITED_RESPONSE"), NULL), 1);
	assert_int_equal(lines_with(eve, ANOM("MESSAGE_TOO_BIG"), "\"src_port\":53", NULL), 1);
	assert_int_equal(lines_with(eve, "\"type\":\"answer\",\"id\":53,", NULL), 1);
	assert_int_equal(lines_with(eve, "\"type\":\"answer\",\"id\":52,", NULL), 0);
	assert_int_equal(lines_with(eve, "\"event_type\":\"anomaly\"", NULL), 3);
	free(eve);

	/* the defaults (max-msg 65535, max-tx 256): no anomaly at all, every
	 * answer has its query and the 150-byte message is read */
	eve = inspect(path, 0, 0);
	assert_int_equal(lines_with(eve, "\"event_type\":\"anomaly\"", NULL), 0);
	assert_int_equal(lines_with(eve, "\"type\":\"answer\"", NULL), 3);
	assert_int_equal(lines_with(eve, "\"type\":\"answer\",\"id\":52,", NULL), 1);
	free(eve);
}

/* TCP gaps. Flow 46000: 6 bytes of a query's OPT record never come (the
 * segment is missing); the stream gives up on the hole at the end of the
 * flow, the
 * parser loses that query and reads the next one, whose place it knows
 * from the lost one's length. Flow 46001: the hole is between two
 * messages, where no length says where the next one starts: that
 * direction is given up, the query after it is not read. */
static void test_tcp_gap(void **unused)
{
	(void)unused;
	char path[300];
	cap_path(path, sizeof(path), "gap");
	struct cap c;
	cap_open(&c, path);
	for (int flow = 0; flow < 2; flow++) {
		uint16_t port = (uint16_t)(46000 + flow);
		tcp_open(&c, port, 53);
		pkt q1 = {.n = 0}, q2 = {.n = 0}, f1 = {.n = 0}, f2 = {.n = 0};
		hdr(&q1, 70, 0x0100, 1, 0, 0, 1);
		question(&q1, "lost.example", 1);
		size_t head = 2 + q1.n; /* the prefix, header and question */
		name(&q1, "");          /* an OPT record after the question */
		p16(&q1, 41);
		p16(&q1, 1232);
		p32(&q1, 0);
		p16(&q1, 12);
		p16(&q1, 10);
		p16(&q1, 8);
		put(&q1, "cookie!!", 8);
		hdr(&q2, 71, 0x0100, 1, 0, 0, 0);
		question(&q2, "after.example", 1);
		framed(&f1, &q1);
		framed(&f2, &q2);
		if (flow == 0) {
			/* the header and question (enough to detect DNS), then
			 * 6 bytes of the OPT record never come */
			tcp_seg(&c, 0, port, 53, f1.b, head);
			c.seq[0] += 6;
			tcp_seg(&c, 0, port, 53, f1.b + head + 6, f1.n - head - 6);
		} else {
			tcp_seg(&c, 0, port, 53, f1.b, f1.n);
			c.seq[0] += 5; /* 5 bytes between the messages: missing */
		}
		tcp_seg(&c, 0, port, 53, f2.b, f2.n);
		tcp_close(&c, port, 53);
	}
	cap_close(&c);

	char *eve = inspect(path, 0, 0);
	assert_int_equal(lines_with(eve, "\"rrname\":\"lost.example\"", "\"src_port\":46000", NULL),
	                 0);
	assert_int_equal(lines_with(eve,
	                            "\"type\":\"query\",\"id\":71,\"rrname\":\"after.example\"",
	                            "\"src_port\":46000", NULL),
	                 1);
	assert_int_equal(lines_with(eve, "\"type\":\"query\",\"id\":70,\"rrname\":\"lost.example\"",
	                            "\"src_port\":46001", NULL),
	                 1);
	assert_int_equal(
	    lines_with(eve, "\"rrname\":\"after.example\"", "\"src_port\":46001", NULL), 0);
	assert_int_equal(lines_with(eve, ANOM("MALFORMED_DATA"), NULL), 0);
	free(eve);
}

/* The bytes of names: valid UTF-8 is written as it is, a name that is not
 * UTF-8 has each byte above 127 as the text \xNN (Suricata 7's form), and
 * JSON's special characters are escaped. */
static void test_name_bytes(void **unused)
{
	(void)unused;
	char path[300];
	cap_path(path, sizeof(path), "bytes");
	struct cap c;
	cap_open(&c, path);
	const char *names[] = {"caf\xe9.example", "\xe6\x97\xa5\xe6\x9c\xac.example",
	                       "a\"b\\c.example"};
	for (int i = 0; i < 3; i++) {
		pkt q = {.n = 0};
		hdr(&q, (uint16_t)(80 + i), 0x0100, 1, 0, 0, 0);
		question(&q, names[i], 1);
		udp(&c, 0, (uint16_t)(47000 + i), 53, &q);
	}
	cap_close(&c);

	char *eve = inspect(path, 0, 0);
	/* e9 alone is no UTF-8: the four characters \xe9, a JSON \\ */
	assert_int_equal(lines_with(eve, "\"id\":80,\"rrname\":\"caf\\\\xe9.example\"", NULL), 1);
	/* U+65E5 U+672C in UTF-8 */
	assert_int_equal(
	    lines_with(eve, "\"id\":81,\"rrname\":\"\xe6\x97\xa5\xe6\x9c\xac.example\"", NULL), 1);
	assert_int_equal(lines_with(eve, "\"id\":82,\"rrname\":\"a\\\"b\\\\c.example\"", NULL), 1);
	free(eve);
}

/* Many queries in flight on one TCP connection (the ring of waiting ids
 * grows from 4 to 16 to 64): 40 queries, then their answers in reverse
 * order; with the defaults every answer finds its query. With max-tx 10
 * the 11th query gives up the first (FLOODED once) and so on: the answers
 * to the 30 oldest are unsolicited. */
static void test_many_pending(void **unused)
{
	(void)unused;
	char path[300];
	cap_path(path, sizeof(path), "pending");
	struct cap c;
	cap_open(&c, path);
	tcp_open(&c, 48000, 53);
	pkt qs = {.n = 0}, as = {.n = 0};
	for (int i = 0; i < 40; i++) {
		pkt q = {.n = 0};
		hdr(&q, (uint16_t)(1000 + i), 0x0100, 1, 0, 0, 0);
		question(&q, "p.example", 1);
		framed(&qs, &q);
	}
	for (int i = 39; i >= 0; i--) {
		pkt a = {.n = 0};
		hdr(&a, (uint16_t)(1000 + i), 0x8180, 1, 0, 0, 0);
		question(&a, "p.example", 1);
		framed(&as, &a);
	}
	tcp_seg(&c, 0, 48000, 53, qs.b, qs.n);
	tcp_seg(&c, 1, 48000, 53, as.b, as.n);
	tcp_close(&c, 48000, 53);
	cap_close(&c);

	char *eve = inspect(path, 0, 0);
	assert_int_equal(lines_with(eve, "\"type\":\"answer\"", NULL), 40);
	assert_int_equal(lines_with(eve, "\"event_type\":\"anomaly\"", NULL), 0);
	free(eve);
	eve = inspect(path, 10, 0);
	assert_int_equal(lines_with(eve, "\"type\":\"answer\"", NULL), 40);
	assert_int_equal(lines_with(eve, ANOM("FLOODED"), NULL), 1);
	assert_int_equal(lines_with(eve, ANOM("UNSOLICITED_RESPONSE"), NULL), 30);
	free(eve);
}

static int setup(void **unused)
{
	(void)unused;
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **unused)
{
	(void)unused;
	if (getenv("DNS_TEST_KEEP"))
		return 0;
	const char *names[] = {"compress", "names",  "flags", "types",
	                       "tcp",      "limits", "gap",   "bytes"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char p[300];
		cap_path(p, sizeof(p), names[i]);
		unlink(p);
	}
	rmdir(tmpdir);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_udp_compression), cmocka_unit_test(test_bad_names),
	    cmocka_unit_test(test_flags_edns),      cmocka_unit_test(test_rdata_types),
	    cmocka_unit_test(test_tcp_framing),     cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_tcp_gap),         cmocka_unit_test(test_name_bytes),
	    cmocka_unit_test(test_many_pending),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
