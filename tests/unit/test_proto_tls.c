/* Unit tests for the tls and quic parsers (src/proto/tls.c, quic.c,
 * tlshello.c), driven through the real flow table, TCP reassembly and
 * app-layer, with the proto module's worker and a sink that keeps the
 * records as JSON lines:
 *  - the recorded TLS 1.2 and 1.3 handshakes (tests/pcap/data) as captured,
 *    in one-byte segments and with every handshake record cut into records
 *    of 7 bytes: the same record each time, with the certificate's values
 *    from openssl x509 and JA3/JA4 checked with tshark (see
 *    tests/pcap/tls-12.expect);
 *  - a Chrome-like ClientHello with GREASE everywhere and ECH, against the
 *    JA3 and JA4 another tool published for it;
 *  - limits and bad input: a handshake message over max-handshake, a
 *    record that is not TLS, two SNI extensions;
 *  - QUIC: the client Initial of RFC 9001 Appendix A.2 (v1) and RFC 9369
 *    Appendix A.2 (v2), and the same with one byte changed. */
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "proto/proto.h"

#define SEC 1000000ULL

/* ---- the fixture: flow table + stream + app-layer + proto worker ---------- */

struct fx {
	om_proto *proto;
	om_proto_worker *pw;
	om_app_registry *reg;
	om_app_ctx *app;
	om_stream_ctx *st;
	om_flow_table *ft;
	om_usec now;
	uint16_t cport, sport;
	uint32_t seq[2]; /* next stream offset per direction */
	om_buf out;      /* the records, one JSON line each */
};

static void sink_event(void *user, om_flow *f, const om_proto_event *ev)
{
	struct fx *x = user;
	(void)f;
	om_json j;
	om_json_init(&j, &x->out);
	om_json_obj_open(&j, NULL);
	om_json_str(&j, "event_type", ev->event_type);
	if (ev->body)
		ev->body(&j, ev->arg);
	om_json_obj_close(&j);
	om_buf_putc(&x->out, '\n');
}

static void fx_data(void *u, om_flow *f, int dir, const uint8_t *d, uint32_t len, uint64_t off,
                    unsigned flags)
{
	(void)off;
	struct fx *x = u;
	om_app_tcp_data(x->app, f, dir, d, len,
	                (flags & OM_STREAM_DATA_HELD) ? OM_APP_DATA_HELD : 0);
}

static void fx_gap(void *u, om_flow *f, int dir, uint64_t off, uint64_t len)
{
	(void)off;
	struct fx *x = u;
	om_app_tcp_gap(x->app, f, dir, len);
}

static void fx_end(void *u, om_flow *f, enum om_flow_end why)
{
	struct fx *x = u;
	if (f->proto == IPPROTO_TCP)
		om_stream_flow_end(x->st, f);
	om_app_flow_end(x->app, f, why);
}

static const om_proto_observer *fx_observer; /* added by fx_init when set */

/* cfg: NULL for the defaults; only tls and quic are on */
static void fx_init(struct fx *x, const om_proto_config *cfg)
{
	memset(x, 0, sizeof(*x));
	om_proto_config pc;
	if (cfg) {
		pc = *cfg;
	} else {
		om_config_part parts[OM_PROTO_CONFIG_PARTS];
		om_proto_config_parts(&pc, parts);
		om_config_defaults(parts, OM_PROTO_CONFIG_PARTS);
	}
	pc.http.enabled = pc.dns.enabled = pc.ftp.enabled = false;
	pc.mail.smtp = pc.mail.pop3 = pc.mail.imap = false;
	pc.files.magic = false;
	char err[256];
	assert_int_equal(om_proto_new(&pc, &x->proto, err, sizeof(err)), 0);
	if (fx_observer)
		assert_int_equal(om_proto_add_observer(x->proto, fx_observer), 0);
	x->reg = om_app_registry_new();
	assert_int_equal(om_proto_register(x->proto, x->reg), 0);
	om_app_registry_seal(x->reg);
	x->app = om_app_new(x->reg, NULL);
	assert_non_null(x->app);
	om_proto_sink sink = {sink_event, x};
	x->pw = om_proto_worker_new(x->proto, 0, &sink);
	assert_non_null(x->pw);
	om_app_set_worker_user(x->app, x->pw);
	om_stream_callbacks cb = {fx_data, fx_gap, NULL, x, NULL};
	x->st = om_stream_new(1 << 20, 16 << 20, &cb);
	assert_non_null(x->st);
	om_flow_config fc = {
	    .max_flows = 16,
	    .timeout_new = 30,
	    .timeout_est = 300,
	    .timeout_closed = 10,
	    .timeout_udp = 60,
	    .timeout_icmp = 20,
	    .on_end = fx_end,
	    .stream = x->st,
	    .user = x,
	};
	x->ft = om_flow_table_new(&fc);
	assert_non_null(x->ft);
	om_app_set_flow_table(x->app, x->ft);
	om_buf_init(&x->out, 1 << 20);
	x->now = 1700000000 * SEC;
	x->cport = 40000;
	x->sport = 9443;
}

/* ends every flow; returns the records written (owned by x until fx_free) */
static const char *fx_flush(struct fx *x)
{
	om_flow_table_flush(x->ft, OM_FLOW_END_SHUTDOWN);
	return om_buf_cstr(&x->out);
}

static void fx_free(struct fx *x)
{
	om_flow_table_free(x->ft);
	om_stream_free(x->st);
	om_app_free(x->app);
	om_app_registry_free(x->reg);
	om_proto_worker_free(x->pw);
	om_proto_free(x->proto);
	om_buf_free(&x->out);
}

static void v4(om_addr *a, uint8_t last)
{
	const uint8_t b[4] = {192, 0, 2, last};
	om_addr_from_v4(a, b);
}

static const uint32_t isn[2] = {1000, 5000};

static void seg(struct fx *x, int dir, uint8_t flags, const uint8_t *data, uint32_t len)
{
	om_packet p;
	memset(&p, 0, sizeof(p));
	x->now += 1000;
	p.ts = x->now;
	p.ip_ver = 4;
	p.proto = IPPROTO_TCP;
	p.flags = OM_PKT_IPV4 | OM_PKT_TCP | OM_PKT_HAS_PORTS;
	bool cli = dir == OM_DIR_TOSERVER;
	v4(cli ? &p.src : &p.dst, 1);
	v4(cli ? &p.dst : &p.src, 2);
	p.sport = cli ? x->cport : x->sport;
	p.dport = cli ? x->sport : x->cport;
	p.tcp_flags = flags;
	bool syn = flags & OM_TH_SYN;
	p.tcp_seq = isn[dir] + (syn ? 0 : 1 + x->seq[dir]);
	p.tcp_ack = isn[!dir] + 1 + x->seq[!dir];
	p.tcp_win = 65535;
	p.tcp_wscale = 0xff;
	p.payload = data;
	p.payload_len = len;
	p.caplen = p.wirelen = 54 + len;
	int d;
	om_flow *f = om_flow_get(x->ft, &p, &d);
	assert_non_null(f);
	assert_int_equal(d, dir);
	om_stream_packet(x->st, f, &p, d);
	om_app_tcp_update(x->app, f);
	x->seq[dir] += len;
}

static void handshake(struct fx *x)
{
	x->seq[0] = x->seq[1] = 0;
	seg(x, OM_DIR_TOSERVER, OM_TH_SYN, NULL, 0);
	seg(x, OM_DIR_TOCLIENT, OM_TH_SYN | OM_TH_ACK, NULL, 0);
	seg(x, OM_DIR_TOSERVER, OM_TH_ACK, NULL, 0);
}

static void udp(struct fx *x, int dir, const uint8_t *data, uint32_t len)
{
	om_packet p;
	memset(&p, 0, sizeof(p));
	x->now += 1000;
	p.ts = x->now;
	p.ip_ver = 4;
	p.proto = IPPROTO_UDP;
	p.flags = OM_PKT_IPV4 | OM_PKT_UDP | OM_PKT_HAS_PORTS;
	bool cli = dir == OM_DIR_TOSERVER;
	v4(cli ? &p.src : &p.dst, 1);
	v4(cli ? &p.dst : &p.src, 2);
	p.sport = cli ? x->cport : x->sport;
	p.dport = cli ? x->sport : x->cport;
	p.payload = data;
	p.payload_len = len;
	p.caplen = p.wirelen = 42 + len;
	int d;
	om_flow *f = om_flow_get(x->ft, &p, &d);
	assert_non_null(f);
	om_app_udp(x->app, f, d, data, len);
}

static size_t count(const char *s, const char *needle)
{
	size_t n = 0;
	for (const char *p = s; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

static void assert_has(const char *s, const char *needle)
{
	if (!strstr(s, needle))
		fail_msg("missing %s in:\n%s", needle, s);
}

/* ---- the recorded captures ----------------------------------------------- */

struct pkt {
	int dir;
	uint32_t len;
	uint8_t *data;
};

struct cap {
	struct pkt p[128];
	unsigned n;
	uint16_t cport; /* the client's port (first SYN) */
};

/* Reads the TCP payloads of a classic pcap (Ethernet, IPv4) in order; the
 * client is the sender of the first SYN. */
static void cap_load(struct cap *c, const char *name)
{
	const char *src = getenv("OMAMORI_SRC");
	char path[512];
	snprintf(path, sizeof(path), "%s/tests/pcap/data/%s", src ? src : ".", name);
	FILE *fp = fopen(path, "rb");
	if (!fp)
		fail_msg("cannot open %s", path);
	uint8_t gh[24], rh[16], buf[70000];
	assert_int_equal(fread(gh, 1, 24, fp), 24);
	assert_true(gh[0] == 0xd4 && gh[1] == 0xc3); /* little-endian, microseconds */
	memset(c, 0, sizeof(*c));
	while (fread(rh, 1, 16, fp) == 16) {
		uint32_t incl = (uint32_t)rh[8] | (uint32_t)rh[9] << 8 | (uint32_t)rh[10] << 16 |
		                (uint32_t)rh[11] << 24;
		assert_true(incl <= sizeof(buf));
		assert_int_equal(fread(buf, 1, incl, fp), incl);
		if (incl < 14 + 20 + 20 || buf[12] != 0x08 || buf[13] != 0x00 || buf[23] != 6)
			continue;
		size_t ihl = (size_t)(buf[14] & 15) * 4;
		size_t iplen = (size_t)(buf[16] << 8 | buf[17]);
		const uint8_t *tcp = buf + 14 + ihl;
		size_t thl = (size_t)(tcp[12] >> 4) * 4;
		uint16_t sp = (uint16_t)(tcp[0] << 8 | tcp[1]);
		if ((tcp[13] & 0x12) == 0x02)
			c->cport = sp;
		size_t plen = iplen - ihl - thl;
		if (plen == 0)
			continue;
		assert_true(c->n < OM_ARRAY_SIZE(c->p));
		struct pkt *p = &c->p[c->n++];
		p->dir = sp == c->cport ? OM_DIR_TOSERVER : OM_DIR_TOCLIENT;
		p->len = (uint32_t)plen;
		p->data = malloc(plen);
		memcpy(p->data, tcp + thl, plen);
	}
	fclose(fp);
}

static void cap_free(struct cap *c)
{
	for (unsigned i = 0; i < c->n; i++)
		free(c->p[i].data);
}

/* Re-frames a direction's records: each handshake record's body goes out
 * in records of at most 7 bytes (so every handshake message is split
 * across records); other records pass unchanged. */
struct reframer {
	uint8_t hdr[5];
	unsigned hdr_len;
	uint32_t left;
};

static size_t reframe(struct reframer *r, const uint8_t *in, size_t n, uint8_t *out)
{
	size_t o = 0;
	while (n > 0) {
		if (r->left == 0) {
			r->hdr[r->hdr_len++] = *in++;
			n--;
			if (r->hdr_len == 5) {
				r->left = (uint32_t)(r->hdr[3] << 8 | r->hdr[4]);
				r->hdr_len = 0;
				if (r->hdr[0] != 22) {
					memcpy(out + o, r->hdr, 5);
					o += 5;
				}
			}
			continue;
		}
		size_t k = n < r->left ? n : r->left;
		if (r->hdr[0] == 22) {
			for (size_t i = 0; i < k; i += 7) {
				size_t m = k - i < 7 ? k - i : 7;
				out[o++] = 22;
				out[o++] = r->hdr[1];
				out[o++] = r->hdr[2];
				out[o++] = 0;
				out[o++] = (uint8_t)m;
				memcpy(out + o, in + i, m);
				o += m;
			}
		} else {
			memcpy(out + o, in, k);
			o += k;
		}
		in += k;
		n -= k;
		r->left -= (uint32_t)k;
	}
	return o;
}

enum { AS_CAPTURED, ONE_BYTE, SMALL_RECORDS };

/* Runs a capture's payloads through a fresh fixture; returns its records
 * (malloc'd). */
static char *run_capture(const struct cap *c, int mode, const om_proto_config *cfg,
                         uint64_t *ret_bypassed)
{
	struct fx x;
	fx_init(&x, cfg);
	x.cport = c->cport;
	handshake(&x);
	struct reframer rf[2];
	memset(rf, 0, sizeof(rf));
	for (unsigned i = 0; i < c->n; i++) {
		const struct pkt *p = &c->p[i];
		if (mode == AS_CAPTURED) {
			seg(&x, p->dir, OM_TH_ACK | OM_TH_PUSH, p->data, p->len);
		} else if (mode == ONE_BYTE) {
			for (uint32_t k = 0; k < p->len; k++)
				seg(&x, p->dir, OM_TH_ACK, p->data + k, 1);
		} else {
			uint8_t *out = malloc((size_t)p->len * 2 + 64);
			size_t n = reframe(&rf[p->dir], p->data, p->len, out);
			if (n)
				seg(&x, p->dir, OM_TH_ACK | OM_TH_PUSH, out, (uint32_t)n);
			free(out);
		}
	}
	if (ret_bypassed)
		*ret_bypassed = om_app_stats_get(x.app)->bypassed;
	char *r = strdup(fx_flush(&x));
	fx_free(&x);
	return r;
}

/* values checked apart from omamori: tests/pcap/tls-12.expect says how */
static const char *const tls12_fields[] = {
    "\"subject\":\"C=JP, ST=Tokyo, O=Omamori Shop, CN=www.omamori.test\"",
    "\"issuerdn\":\"C=JP, O=Omamori Test, CN=Omamori Test Intermediate CA\"",
    "\"serial\":\"00:8A:1B:2C:3D:4E:5F:60:71\"",
    "\"fingerprint\":\"7d:e9:16:82:2a:46:53:cd:b0:cf:1d:68:34:cb:a0:ea:3f:6d:36:96\"",
    "\"sni\":\"www.omamori.test\"",
    "\"version\":\"TLS 1.2\"",
    "\"notbefore\":\"2026-12-01T11:06:47\"",
    "\"notafter\":\"2029-03-05T11:06:47\"",
    "\"ja3\":{\"hash\":\"22558766122974704364c9c75c5cce0a\"",
    "\"ja3s\":{\"hash\":\"895252f3ce80cebf7a8837be83ec8e16\",\"string\":\"771,49200,65281-11-35-16-"
    "23\"}",
    "\"ja4\":\"t12d2808h2_d943125447b4_e7e480e5a997\"",
    "\"client_alpns\":[\"h2\",\"http/1.1\"]",
    "\"server_alpns\":[\"h2\"]",
    "\"subjectaltname\":[\"www.omamori.test\",\"omamori.test\",\"198.51.100.20\"]",
    "\"chain\":[{\"subject\":\"C=JP, O=Omamori Test, CN=Omamori Test Intermediate "
    "CA\",\"issuerdn\":\"C=JP, O=Omamori Test, CN=Omamori Test Root CA\"}]",
};

/* The TLS 1.2 handshake gives the same record whether its bytes come as
 * captured, one byte per segment, or with every handshake message split
 * across 7-byte records; then both directions are bypassed. */
static void test_tls12_segments_and_records(void **unused)
{
	(void)unused;
	struct cap c;
	cap_load(&c, "tls-12.pcap");
	char *rec[3];
	for (int mode = AS_CAPTURED; mode <= SMALL_RECORDS; mode++) {
		uint64_t bypassed = 0;
		rec[mode] = run_capture(&c, mode, NULL, &bypassed);
		assert_int_equal(count(rec[mode], "\"event_type\":\"tls\""), 1);
		assert_int_equal(count(rec[mode], "\"event_type\":\"anomaly\""), 0);
		for (size_t i = 0; i < OM_ARRAY_SIZE(tls12_fields); i++)
			assert_has(rec[mode], tls12_fields[i]);
		assert_int_equal(bypassed, 2);
	}
	assert_string_equal(rec[AS_CAPTURED], rec[ONE_BYTE]);
	assert_string_equal(rec[AS_CAPTURED], rec[SMALL_RECORDS]);
	for (int i = 0; i < 3; i++)
		free(rec[i]);
	cap_free(&c);
}

/* TLS 1.3: the certificate is encrypted; the record is written after the
 * ServerHello and the flow bypassed there. */
static void test_tls13(void **unused)
{
	(void)unused;
	struct cap c;
	cap_load(&c, "tls-13.pcap");
	for (int mode = AS_CAPTURED; mode <= ONE_BYTE; mode++) {
		uint64_t bypassed = 0;
		char *r = run_capture(&c, mode, NULL, &bypassed);
		assert_int_equal(count(r, "\"event_type\":\"tls\""), 1);
		assert_has(r, "\"version\":\"TLS 1.3\"");
		assert_has(r, "\"ja3s\":{\"hash\":\"15af977ce25de452b96affa2addb1036\"");
		assert_has(r, "\"ja4\":\"t13d0411h2_16476d049b0b_78f1d400d464\"");
		assert_null(strstr(r, "\"subject\""));
		/* the server echoes the session id (TLS 1.3 always does): no resumption */
		assert_null(strstr(r, "session_resumed"));
		assert_int_equal(bypassed, 2);
		free(r);
	}
	cap_free(&c);
}

/* max-handshake smaller than the server's Certificate message: counted as
 * HANDSHAKE_INVALID_LENGTH, the message dropped, the rest still read. */
static void test_max_handshake(void **unused)
{
	(void)unused;
	struct cap c;
	cap_load(&c, "tls-12.pcap");
	om_proto_config pc;
	om_config_part parts[OM_PROTO_CONFIG_PARTS];
	om_proto_config_parts(&pc, parts);
	om_config_defaults(parts, OM_PROTO_CONFIG_PARTS);
	pc.tls.max_handshake = 1024;
	for (int mode = AS_CAPTURED; mode <= SMALL_RECORDS; mode++) {
		char *r = run_capture(&c, mode, &pc, NULL);
		assert_int_equal(count(r, "\"event\":\"HANDSHAKE_INVALID_LENGTH\""), 1);
		assert_int_equal(count(r, "\"event_type\":\"tls\""), 1);
		assert_null(strstr(r, "\"subject\""));
		assert_has(r, "\"sni\":\"www.omamori.test\"");
		assert_has(r, "\"ja3s\":{\"hash\":\"895252f3ce80cebf7a8837be83ec8e16\"");
		free(r);
	}
	cap_free(&c);
}

/* ---- crafted ClientHellos ---------------------------------------------------- */

struct wr {
	uint8_t b[4096];
	size_t n;
};

static void w8(struct wr *w, unsigned v)
{
	w->b[w->n++] = (uint8_t)v;
}
static void w16(struct wr *w, unsigned v)
{
	w8(w, v >> 8);
	w8(w, v & 0xff);
}
static void wbytes(struct wr *w, const void *p, size_t n)
{
	memcpy(w->b + w->n, p, n);
	w->n += n;
}
/* patches a big-endian length of `bytes` bytes at off to cover up to now */
static void wlen(struct wr *w, size_t off, int bytes)
{
	size_t v = w->n - off - (size_t)bytes;
	for (int i = bytes - 1; i >= 0; i--, v >>= 8)
		w->b[off + (size_t)i] = (uint8_t)(v & 0xff);
}
static size_t wopen(struct wr *w, int bytes)
{
	size_t off = w->n;
	for (int i = 0; i < bytes; i++)
		w8(w, 0);
	return off;
}
static void ext_u16list(struct wr *w, unsigned type, const uint16_t *v, size_t n, int lbytes)
{
	w16(w, type);
	size_t e = wopen(w, 2), l = wopen(w, lbytes);
	for (size_t i = 0; i < n; i++)
		w16(w, v[i]);
	wlen(w, l, lbytes);
	wlen(w, e, 2);
}
static void ext_sni(struct wr *w, const char *name)
{
	w16(w, 0);
	size_t e = wopen(w, 2), l = wopen(w, 2);
	w8(w, 0);
	w16(w, (unsigned)strlen(name));
	wbytes(w, name, strlen(name));
	wlen(w, l, 2);
	wlen(w, e, 2);
}
static void ext_raw(struct wr *w, unsigned type, const char *data, size_t n)
{
	w16(w, type);
	w16(w, (unsigned)n);
	wbytes(w, data, n);
}

/* A ClientHello with Chrome's lists from a published fingerprint record
 * (browserleaks' JSON for Chrome 143: ja4_ro gives ciphers, extensions and
 * signature algorithms in wire order, ja3_text the groups and point
 * formats), with GREASE added where Chrome puts it. The record gives
 * ja4 t13d1516h2_8daaf6152771_d8a2da3f94cd and ja3 md5
 * 98487aa16281980e7d1120d399efb6a4 (printf '%s' ja3_text | md5sum agrees).
 * second_sni: a second server_name extension, esni: an ESNI extension
 * (neither is Chrome's). */
static size_t chrome_hello(uint8_t *out, bool second_sni, bool esni)
{
	static const uint16_t ciphers[] = {0x1a1a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f,
	                                   0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014,
	                                   0x009c, 0x009d, 0x002f, 0x0035};
	static const uint16_t groups[] = {0x2a2a, 4588, 29, 23, 24};
	static const uint16_t versions[] = {0x3a3a, 0x0304, 0x0303};
	static const uint16_t sigalgs[] = {0x0403, 0x0804, 0x0401, 0x0503,
	                                   0x0805, 0x0501, 0x0806, 0x0601};
	struct wr w = {.n = 0};
	w8(&w, 22);
	w16(&w, 0x0301);
	size_t rec = wopen(&w, 2);
	w8(&w, 1);
	size_t hs = wopen(&w, 3);
	w16(&w, 0x0303);
	for (int i = 0; i < 32; i++)
		w8(&w, (unsigned)i);
	w8(&w, 32);
	for (int i = 0; i < 32; i++)
		w8(&w, 0x40u + (unsigned)i);
	w16(&w, sizeof(ciphers));
	for (size_t i = 0; i < OM_ARRAY_SIZE(ciphers); i++)
		w16(&w, ciphers[i]);
	w8(&w, 1);
	w8(&w, 0);
	size_t exts = wopen(&w, 2);
	ext_raw(&w, 0x0a0a, "", 0);                        /* GREASE */
	ext_raw(&w, 45, "\x01\x01", 2);                    /* psk_key_exchange_modes */
	ext_raw(&w, 51, "\x00\x00", 2);                    /* key_share (empty list) */
	ext_raw(&w, 16, "\x00\x0c\x02h2\x08http/1.1", 14); /* alpn */
	ext_raw(&w, 65037, "\x00\x00\x01\x00\x01\x00\x00\x00\x00\x00", 10); /* ECH */
	ext_raw(&w, 23, "", 0);
	ext_raw(&w, 17613, "\x00\x03\x02h2", 5); /* application settings */
	ext_sni(&w, "www.example.jp");
	if (second_sni)
		ext_sni(&w, "other.example.jp");
	if (esni) /* encrypted_server_name (draft-ietf-tls-esni-01) */
		ext_raw(&w, 0xffce, "\x13\x01\x00\x1d\x00\x00", 6);
	ext_raw(&w, 11, "\x01\x00", 2);
	ext_u16list(&w, 10, groups, OM_ARRAY_SIZE(groups), 2);
	ext_u16list(&w, 43, versions, OM_ARRAY_SIZE(versions), 1);
	ext_raw(&w, 65281, "\x00", 1);
	ext_raw(&w, 35, "", 0);
	ext_raw(&w, 18, "", 0);
	ext_raw(&w, 5, "\x01\x00\x00\x00\x00", 5);
	ext_u16list(&w, 13, sigalgs, OM_ARRAY_SIZE(sigalgs), 2);
	ext_raw(&w, 27, "\x02\x00\x02", 3);
	ext_raw(&w, 0x4a4a, "\x00", 1); /* GREASE */
	wlen(&w, exts, 2);
	wlen(&w, hs, 3);
	wlen(&w, rec, 2);
	memcpy(out, w.b, w.n);
	return w.n;
}

static char *run_client_only(const uint8_t *d, size_t n, uint32_t seg_len)
{
	struct fx x;
	fx_init(&x, NULL);
	handshake(&x);
	for (size_t i = 0; i < n; i += seg_len) {
		uint32_t k = (uint32_t)(n - i < seg_len ? n - i : seg_len);
		seg(&x, OM_DIR_TOSERVER, OM_TH_ACK, d + i, k);
	}
	char *r = strdup(fx_flush(&x));
	fx_free(&x);
	return r;
}

static void test_ja4_grease_ech(void **unused)
{
	(void)unused;
	uint8_t hello[4096];
	size_t n = chrome_hello(hello, false, false);
	uint32_t lens[] = {(uint32_t)n, 1, 100};
	for (size_t i = 0; i < OM_ARRAY_SIZE(lens); i++) {
		char *r = run_client_only(hello, n, lens[i]);
		assert_int_equal(count(r, "\"event_type\":\"tls\""), 1);
		assert_has(r, "\"ja4\":\"t13d1516h2_8daaf6152771_d8a2da3f94cd\"");
		assert_has(
		    r, "\"ja3\":{\"hash\":\"98487aa16281980e7d1120d399efb6a4\",\"string\":\"771,"
		       "4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-"
		       "47-53,45-51-16-65037-23-17613-0-11-10-43-65281-35-18-5-13-27,4588-29-"
		       "23-24,0\"}");
		assert_has(r, "\"sni\":\"www.example.jp\"");
		assert_has(r, "\"ech\":true");
		assert_has(r, "\"client_alpns\":[\"h2\",\"http/1.1\"]");
		/* no ServerHello: no version chosen (Suricata's word for it) */
		assert_has(r, "\"version\":\"UNDETERMINED\"");
		assert_int_equal(count(r, "\"event_type\":\"anomaly\""), 0);
		free(r);
	}
}

/* ESNI noted under omamori.tls; it is one more extension for JA3/JA4 */
static void test_esni(void **unused)
{
	(void)unused;
	uint8_t hello[4096];
	size_t n = chrome_hello(hello, false, true);
	char *r = run_client_only(hello, n, (uint32_t)n);
	assert_has(r, "\"esni\":true");
	assert_has(r, "\"ech\":true");
	assert_has(r, "-17613-0-65486-11-10-43-");
	assert_has(r, "\"ja4\":\"t13d1517h2_8daaf6152771_");
	free(r);
}

/* 70 extensions, more than the 64 kept: JA4 still counts all 70 */
static void test_many_extensions(void **unused)
{
	(void)unused;
	struct wr w = {.n = 0};
	w8(&w, 22);
	w16(&w, 0x0301);
	size_t rec = wopen(&w, 2);
	w8(&w, 1);
	size_t hs = wopen(&w, 3);
	w16(&w, 0x0303);
	for (int i = 0; i < 32; i++)
		w8(&w, 7);
	w8(&w, 0);
	w16(&w, 2);
	w16(&w, 0xc02f);
	w8(&w, 1);
	w8(&w, 0);
	size_t exts = wopen(&w, 2);
	for (unsigned i = 0; i < 70; i++)
		ext_raw(&w, 0x1000 + i, "", 0);
	wlen(&w, exts, 2);
	wlen(&w, hs, 3);
	wlen(&w, rec, 2);
	char *r = run_client_only(w.b, w.n, (uint32_t)w.n);
	/* TLS 1.2 (no supported_versions), no SNI, 1 suite, 70 extensions, no ALPN */
	assert_has(r, "\"ja4\":\"t12i017000_");
	assert_int_equal(count(r, "\"event_type\":\"anomaly\""), 0);
	free(r);
}

static void test_multiple_sni(void **unused)
{
	(void)unused;
	uint8_t hello[4096];
	size_t n = chrome_hello(hello, true, false);
	char *r = run_client_only(hello, n, (uint32_t)n);
	assert_int_equal(count(r, "\"event\":\"MULTIPLE_SNI_EXTENSIONS\""), 1);
	assert_has(r, "\"app_proto\":\"tls\"");
	/* the first name counts */
	assert_has(r, "\"sni\":\"www.example.jp\"");
	free(r);
}

/* A ClientHello, then bytes that are no TLS record: INVALID_RECORD_TYPE,
 * the record is written with what was read, and the flow bypassed. */
static void test_bad_record(void **unused)
{
	(void)unused;
	uint8_t hello[4200];
	size_t n = chrome_hello(hello, false, false);
	memcpy(hello + n, "GET / HTTP/1.1\r\n\r\n", 18);
	struct fx x;
	fx_init(&x, NULL);
	handshake(&x);
	seg(&x, OM_DIR_TOSERVER, OM_TH_ACK, hello, (uint32_t)n + 18);
	assert_int_equal(om_app_stats_get(x.app)->bypassed, 2);
	const char *r = fx_flush(&x);
	assert_int_equal(count(r, "\"event\":\"INVALID_RECORD_TYPE\""), 1);
	assert_int_equal(count(r, "\"event_type\":\"tls\""), 1);
	assert_has(r, "\"sni\":\"www.example.jp\"");
	fx_free(&x);
}

/* A handshake message whose length runs past its body: an anomaly, no
 * crash, no fingerprint from garbage. */
static void test_truncated_hello(void **unused)
{
	(void)unused;
	uint8_t hello[4096];
	size_t n = chrome_hello(hello, false, false);
	/* the extensions' length says 40 bytes more than there are */
	size_t ext_len_off = 5 + 4 + 2 + 32 + 1 + 32 + 2 + 32 + 2;
	unsigned el = (unsigned)(hello[ext_len_off] << 8 | hello[ext_len_off + 1]) + 40;
	hello[ext_len_off] = (uint8_t)(el >> 8);
	hello[ext_len_off + 1] = (uint8_t)el;
	char *r = run_client_only(hello, n, (uint32_t)n);
	assert_int_equal(count(r, "\"event\":\"INVALID_HANDSHAKE_MESSAGE\""), 1);
	assert_null(strstr(r, "\"ja3\""));
	free(r);
}

/* A resumed session: the ServerHello takes up the ClientHello's session id
 * (0x40..0x5f), no certificate, the server's ChangeCipherSpec:
 * session_resumed, as Suricata writes it; JA3S with no extensions. */
static void test_session_resumed(void **unused)
{
	(void)unused;
	uint8_t hello[4096];
	size_t n = chrome_hello(hello, false, false);
	struct wr w = {.n = 0};
	w8(&w, 22);
	w16(&w, 0x0303);
	size_t rec = wopen(&w, 2);
	w8(&w, 2);
	size_t hs = wopen(&w, 3);
	w16(&w, 0x0303);
	for (int i = 0; i < 32; i++)
		w8(&w, 0x80u + (unsigned)i);
	w8(&w, 32);
	for (int i = 0; i < 32; i++)
		w8(&w, 0x40u + (unsigned)i);
	w16(&w, 0xc02f);
	w8(&w, 0);
	wlen(&w, hs, 3);
	wlen(&w, rec, 2);
	wbytes(&w, "\x14\x03\x03\x00\x01\x01", 6);
	struct fx x;
	fx_init(&x, NULL);
	handshake(&x);
	seg(&x, OM_DIR_TOSERVER, OM_TH_ACK | OM_TH_PUSH, hello, (uint32_t)n);
	seg(&x, OM_DIR_TOCLIENT, OM_TH_ACK | OM_TH_PUSH, w.b, (uint32_t)w.n);
	assert_int_equal(om_app_stats_get(x.app)->bypassed, 2);
	const char *r = fx_flush(&x);
	assert_int_equal(count(r, "\"event_type\":\"tls\""), 1);
	assert_has(r, "\"session_resumed\":true");
	assert_has(r, "\"version\":\"TLS 1.2\"");
	/* printf '%s' "771,49199," | md5sum */
	assert_has(r, "\"ja3s\":{\"hash\":\"174e7e4992a63f6d419626d97363adb8\",\"string\":\"771,"
	              "49199,\"}");
	assert_null(strstr(r, "\"subject\""));
	fx_free(&x);
}

/* ---- crafted certificates ----------------------------------------------------- */

/* a DER element with a minimal length; returns its size */
__attribute__((noinline)) static size_t tlv(uint8_t *out, uint8_t tag, const uint8_t *c, size_t n)
{
	size_t h = 0;
	out[h++] = tag;
	if (n < 0x80) {
		out[h++] = (uint8_t)n;
	} else if (n < 0x100) {
		out[h++] = 0x81;
		out[h++] = (uint8_t)n;
	} else {
		out[h++] = 0x82;
		out[h++] = (uint8_t)(n >> 8);
		out[h++] = (uint8_t)n;
	}
	memmove(out + h, c, n);
	return h + n;
}

/* Name with one CN */
static size_t cn_name(uint8_t *out, const char *cn)
{
	uint8_t a[128], b[128], c[128];
	static const uint8_t oid_cn[] = {0x06, 0x03, 0x55, 0x04, 0x03};
	size_t n = 0;
	memcpy(a, oid_cn, sizeof(oid_cn));
	n = sizeof(oid_cn) + tlv(a + sizeof(oid_cn), 0x0c, (const uint8_t *)cn, strlen(cn));
	n = tlv(b, 0x30, a, n);
	n = tlv(c, 0x31, b, n);
	return tlv(out, 0x30, c, n);
}

/* A certificate made by hand (the parser reads it, nobody verifies it):
 * serial 00 FF, issuer CN=Test CA, validity UTCTime 250101000000Z to
 * GeneralizedTime 20610101000000Z (past 2049 RFC 5280 wants that form),
 * subject CN=t.example, subjectAltName DNS t.example and IP 10.0.0.1. */
static size_t crafted_cert(uint8_t *out)
{
	uint8_t tbs[1024], tmp[512], t2[512];
	size_t n = 0, k;
	static const uint8_t ver[] = {0xa0, 0x03, 0x02, 0x01, 0x02};
	static const uint8_t serial[] = {0x02, 0x02, 0x00, 0xff};
	static const uint8_t alg[] = {0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
	                              0xf7, 0x0d, 0x01, 0x01, 0x0b, 0x05, 0x00};
	memcpy(tbs + n, ver, sizeof(ver));
	n += sizeof(ver);
	memcpy(tbs + n, serial, sizeof(serial));
	n += sizeof(serial);
	memcpy(tbs + n, alg, sizeof(alg));
	n += sizeof(alg);
	n += cn_name(tbs + n, "Test CA");
	k = tlv(tmp, 0x17, (const uint8_t *)"250101000000Z", 13);
	k += tlv(tmp + k, 0x18, (const uint8_t *)"20610101000000Z", 15);
	n += tlv(tbs + n, 0x30, tmp, k);
	n += cn_name(tbs + n, "t.example");
	static const uint8_t spki[] = {0x30, 0x12, 0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
	                               0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00, 0x03, 0x01, 0x00};
	memcpy(tbs + n, spki, sizeof(spki));
	n += sizeof(spki);
	/* extensions: [3] { SEQ { SEQ { OID 2.5.29.17, OCTET { GeneralNames } } } } */
	k = tlv(tmp, 0x82, (const uint8_t *)"t.example", 9);
	k += tlv(tmp + k, 0x87, (const uint8_t *)"\x0a\x00\x00\x01", 4);
	k = tlv(t2, 0x30, tmp, k);
	k = tlv(tmp + 5, 0x04, t2, k);
	memcpy(tmp, "\x06\x03\x55\x1d\x11", 5);
	k = tlv(t2, 0x30, tmp, k + 5);
	k = tlv(tmp, 0x30, t2, k);
	n += tlv(tbs + n, 0xa3, tmp, k);
	uint8_t cert[1200];
	size_t m = tlv(cert, 0x30, tbs, n);
	memcpy(cert + m, alg, sizeof(alg));
	m += sizeof(alg);
	m += tlv(cert + m, 0x03, (const uint8_t *)"\x00\x00", 2);
	return tlv(out, 0x30, cert, m);
}

/* ClientHello, then ServerHello + Certificate(certs) + the server's
 * ChangeCipherSpec; returns the records */
static char *run_server_certs(const uint8_t *certs, size_t cn, bool bad_list_len)
{
	uint8_t hello[4096];
	size_t n = chrome_hello(hello, false, false);
	struct wr w = {.n = 0};
	w8(&w, 22);
	w16(&w, 0x0303);
	size_t rec = wopen(&w, 2);
	w8(&w, 2);
	size_t hs = wopen(&w, 3);
	w16(&w, 0x0303);
	for (int i = 0; i < 32; i++)
		w8(&w, (unsigned)i);
	w8(&w, 0);
	w16(&w, 0xc02f);
	w8(&w, 0);
	wlen(&w, hs, 3);
	w8(&w, 11);
	hs = wopen(&w, 3);
	size_t list = wopen(&w, 3);
	wbytes(&w, certs, cn);
	wlen(&w, list, 3);
	if (bad_list_len)
		w.b[list + 2] ^= 0x10;
	wlen(&w, hs, 3);
	wlen(&w, rec, 2);
	wbytes(&w, "\x14\x03\x03\x00\x01\x01", 6);
	struct fx x;
	fx_init(&x, NULL);
	handshake(&x);
	seg(&x, OM_DIR_TOSERVER, OM_TH_ACK | OM_TH_PUSH, hello, (uint32_t)n);
	seg(&x, OM_DIR_TOCLIENT, OM_TH_ACK | OM_TH_PUSH, w.b, (uint32_t)w.n);
	char *r = strdup(fx_flush(&x));
	fx_free(&x);
	return r;
}

static void test_crafted_certificate(void **unused)
{
	(void)unused;
	uint8_t der[1500], certs[1600];
	size_t dn = crafted_cert(der);
	certs[0] = (uint8_t)(dn >> 16);
	certs[1] = (uint8_t)(dn >> 8);
	certs[2] = (uint8_t)dn;
	memcpy(certs + 3, der, dn);
	char *r = run_server_certs(certs, dn + 3, false);
	assert_int_equal(count(r, "\"event_type\":\"anomaly\""), 0);
	assert_has(r,
	           "\"subject\":\"CN=t.example\",\"issuerdn\":\"CN=Test CA\",\"serial\":\"00:FF\"");
	assert_has(r, "\"notbefore\":\"2025-01-01T00:00:00\",\"notafter\":\"2061-01-01T00:00:00\"");
	assert_has(r, "\"subjectaltname\":[\"t.example\",\"10.0.0.1\"]");
	free(r);

	/* the certificate's outer length one byte short: not DER */
	der[2]--;
	memcpy(certs + 3, der, dn);
	r = run_server_certs(certs, dn + 3, false);
	assert_int_equal(count(r, "\"event\":\"CERTIFICATE_INVALID_DER\""), 1);
	assert_null(strstr(r, "\"subject\""));
	assert_has(r, "\"ja3s\"");
	free(r);

	/* the chain's length does not match the message */
	der[2]++;
	memcpy(certs + 3, der, dn);
	r = run_server_certs(certs, dn + 3, true);
	assert_int_equal(count(r, "\"event\":\"CERTIFICATE_INVALID_LENGTH\""), 1);
	free(r);
}

/* ---- QUIC ---------------------------------------------------------------------- */

#include "quic_vectors.h"

static size_t unhex(const char *h, uint8_t *out, size_t cap)
{
	size_t n = strlen(h) / 2;
	assert_true(n <= cap);
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		assert_int_equal(sscanf(h + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
	return n;
}

/* The RFC's ClientHello (CRYPTO frame in A.2 of both RFCs): SNI
 * example.com, ALPN "alpn", TLS 1.3 only, ciphers 1301 1302, no
 * ec_point_formats. JA3 and JA4 written out from its hex by hand:
 *   ja3 771,4865-4866,0-65281-10-16-5-51-43-13-45-28-57,29-23-24,
 *       md5 41bc9ae914d6cb3bd0bd0a5453ab7d7f
 *   ja4 q13d0211an: QUIC, 1.3, SNI, 2 ciphers, 11 extensions, "alpn";
 *       sha256("1301,1302") -> 62ed6f6ca7ad;
 *       sha256("0005,000a,000d,001c,002b,002d,0033,0039,ff01_0403,0503,
 *       0603,0203,0804,0805,0806") -> 4d634acda6c0 */
static void check_rfc_hello(const char *r, const char *version)
{
	char v[64];
	snprintf(v, sizeof(v), "\"quic\":{\"version\":\"%s\"", version);
	assert_int_equal(count(r, "\"event_type\":\"quic\""), 1);
	assert_has(r, v);
	assert_has(r, "\"sni\":\"example.com\"");
	assert_has(r,
	           "\"ja3\":{\"hash\":\"41bc9ae914d6cb3bd0bd0a5453ab7d7f\",\"string\":\"771,4865-"
	           "4866,0-65281-10-16-5-51-43-13-45-28-57,29-23-24,\"}");
	assert_has(r, "\"ja4\":\"q13d0211an_62ed6f6ca7ad_4d634acda6c0\"");
	assert_has(r, "{\"name\":\"alpn\",\"type\":16,\"values\":[\"alpn\"]}");
	assert_int_equal(count(r, "\"event_type\":\"anomaly\""), 0);
}

/* the client's Initial (one byte flipped when flip >= 0), then the
 * server's when server_hex is not NULL */
static char *run_quic2(const char *hex, int flip, const char *server_hex)
{
	uint8_t pkt[1500];
	size_t n = unhex(hex, pkt, sizeof(pkt));
	assert_int_equal(n, 1200);
	if (flip >= 0)
		pkt[flip] ^= 0x01;
	struct fx x;
	fx_init(&x, NULL);
	x.sport = 443;
	udp(&x, OM_DIR_TOSERVER, pkt, (uint32_t)n);
	if (server_hex) {
		n = unhex(server_hex, pkt, sizeof(pkt));
		assert_int_equal(n, 135);
		udp(&x, OM_DIR_TOCLIENT, pkt, (uint32_t)n);
	}
	char *r = strdup(fx_flush(&x));
	fx_free(&x);
	return r;
}

static char *run_quic(const char *hex, int flip)
{
	return run_quic2(hex, flip, NULL);
}

/* The server's Initial of A.3 (decrypted with the "server in" keys from
 * the client's DCID): a second record, with the ServerHello's JA3S, by
 * hand from its hex: version 0303, suite 1301, extensions 0033 002b:
 * "771,4865,51-43", md5 eb1d94daa7e0344597e756a1fb6e7054 (md5sum). */
static void test_quic_server_hello(void **unused)
{
	(void)unused;
	const char *vs[2][3] = {{rfc9001_client_initial, rfc9001_server_initial, "1"},
	                        {rfc9369_client_initial, rfc9369_server_initial, "6b3343cf"}};
	for (int i = 0; i < 2; i++) {
		char *r = run_quic2(vs[i][0], -1, vs[i][1]);
		assert_int_equal(count(r, "\"event_type\":\"quic\""), 2);
		char want[256];
		snprintf(want, sizeof(want),
		         "{\"event_type\":\"quic\",\"quic\":{\"version\":\"%s\",\"ja3s\":{\"hash\":"
		         "\"eb1d94daa7e0344597e756a1fb6e7054\",\"string\":\"771,4865,51-43\"},",
		         vs[i][2]);
		assert_has(r, want);
		assert_has(r,
		           "{\"name\":\"supported_versions\",\"type\":43,\"values\":[\"Tls13\"]}");
		assert_int_equal(count(r, "\"event_type\":\"anomaly\""), 0);
		free(r);
	}
}

static void test_quic_v1_rfc9001(void **unused)
{
	(void)unused;
	char *r = run_quic(rfc9001_client_initial, -1);
	check_rfc_hello(r, "1");
	free(r);
}

static void test_quic_v2_rfc9369(void **unused)
{
	(void)unused;
	char *r = run_quic(rfc9369_client_initial, -1);
	check_rfc_hello(r, "6b3343cf");
	free(r);
}

/* one ciphertext byte changed: the tag fails, FAILED_DECRYPT, and the
 * record has the version only */
static void test_quic_tampered(void **unused)
{
	(void)unused;
	char *r = run_quic(rfc9001_client_initial, 600);
	assert_int_equal(count(r, "\"event\":\"FAILED_DECRYPT\""), 1);
	assert_has(r, "\"quic\":{\"version\":\"1\"}");
	assert_null(strstr(r, "\"sni\""));
	free(r);
}

/* ---- QUIC packets made here (for what no published vector shows) -------- */

#include <openssl/evp.h>
#include <openssl/hmac.h>

static void q_label(const uint8_t *prk, const char *l, uint8_t *out, size_t len)
{
	uint8_t info[64], t[64];
	size_t ll = strlen(l), n = 0;
	unsigned tl;
	info[n++] = 0;
	info[n++] = (uint8_t)len;
	info[n++] = (uint8_t)(6 + ll);
	memcpy(info + n, "tls13 ", 6);
	n += 6;
	memcpy(info + n, l, ll);
	n += ll;
	info[n++] = 0;
	info[n++] = 1;
	assert_non_null(HMAC(EVP_sha256(), prk, 32, info, n, t, &tl));
	memcpy(out, t, len);
}

/* a QUIC v1 client Initial for dcid carrying pt, packet number pn (4
 * bytes), protected as RFC 9001 section 5 says; returns its length. The
 * keys are checked by the RFC vectors above (the same derivation gives
 * A.1's client key for 8394c8f03e515708). */
static size_t q_initial(const uint8_t *dcid, size_t dl, uint32_t pn, const uint8_t *pt, size_t n,
                        uint8_t *out)
{
	static const uint8_t salt[20] = {0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34,
	                                 0xb3, 0x4d, 0x17, 0x9a, 0xe6, 0xa4, 0xc8,
	                                 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a};
	uint8_t prk[64], sec[32], key[16], iv[12], hp[16];
	unsigned pl;
	assert_non_null(HMAC(EVP_sha256(), salt, 20, dcid, dl, prk, &pl));
	q_label(prk, "client in", sec, 32);
	q_label(sec, "quic key", key, 16);
	q_label(sec, "quic iv", iv, 12);
	q_label(sec, "quic hp", hp, 16);
	size_t h = 0;
	out[h++] = 0xc3;
	memcpy(out + h, "\x00\x00\x00\x01", 4);
	h += 4;
	out[h++] = (uint8_t)dl;
	memcpy(out + h, dcid, dl);
	h += dl;
	out[h++] = 0; /* SCID */
	out[h++] = 0; /* token */
	size_t len = 4 + n + 16;
	out[h++] = (uint8_t)(0x40 | len >> 8);
	out[h++] = (uint8_t)len;
	size_t pn_off = h;
	for (int i = 3; i >= 0; i--)
		out[h++] = (uint8_t)(pn >> (8 * i));
	uint8_t nonce[12];
	memcpy(nonce, iv, 12);
	for (int i = 0; i < 4; i++)
		nonce[11 - i] ^= (uint8_t)(pn >> (8 * i));
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int ol;
	assert_true(EVP_EncryptInit_ex(c, EVP_aes_128_gcm(), NULL, NULL, NULL));
	assert_true(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, 12, NULL));
	assert_true(EVP_EncryptInit_ex(c, NULL, NULL, key, nonce));
	assert_true(EVP_EncryptUpdate(c, NULL, &ol, out, (int)h));
	assert_true(EVP_EncryptUpdate(c, out + h, &ol, pt, (int)n));
	assert_true(EVP_EncryptFinal_ex(c, out + h + n, &ol));
	assert_true(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, out + h + n));
	EVP_CIPHER_CTX_free(c);
	uint8_t mask[32];
	c = EVP_CIPHER_CTX_new();
	assert_true(EVP_EncryptInit_ex(c, EVP_aes_128_ecb(), NULL, hp, NULL));
	EVP_CIPHER_CTX_set_padding(c, 0);
	assert_true(EVP_EncryptUpdate(c, mask, &ol, out + pn_off + 4, 16));
	EVP_CIPHER_CTX_free(c);
	out[0] ^= mask[0] & 0x0f;
	for (int i = 0; i < 4; i++)
		out[pn_off + (size_t)i] ^= mask[1 + i];
	return h + n + 16;
}

/* The RFC's ClientHello (A.2's CRYPTO frame content, 241 bytes) */
static const char rfc_client_hello[] =
    "010000ed0303ebf8fa56f12939b9584a3896472ec40bb863cfd3e86804fe3a47f06a2b69484c000004130113"
    "02010000c000000010000e00000b6578616d706c652e636f6dff01000100000a00080006001d00170018001000"
    "07000504616c706e000500050100000000003300260024001d00209370b2c9caa47fbabaf4559fedba753de171"
    "fa71f50f1ce15d43e994ec74d748002b0003020304000d0010000e0403050306030203080408050806002d0002"
    "0101001c00024001003900320408ffffffffffffffff05048000ffff07048000ffff0801100104800075300901"
    "100f088394c8f03e51570806048000ffff";

/* A CRYPTO frame at off carrying ch[off..off+len) */
static size_t crypto_frame(const uint8_t *ch, size_t off, size_t len, uint8_t *out)
{
	size_t n = 0;
	out[n++] = 0x06;
	out[n++] = (uint8_t)(0x40 | off >> 8);
	out[n++] = (uint8_t)off;
	out[n++] = (uint8_t)(0x40 | len >> 8);
	out[n++] = (uint8_t)len;
	memcpy(out + n, ch + off, len);
	return n + len;
}

/* The client's first Initial carries the first 100 bytes of its
 * ClientHello; the server answers with a Retry (RFC 9001 A.4: new
 * connection ID f067a5502a4262b5); the client's next Initial, to that ID,
 * carries the whole ClientHello. Its keys come from the new ID: without
 * making them again it would be FAILED_DECRYPT and no SNI. */
static void test_quic_retry(void **unused)
{
	(void)unused;
	uint8_t ch[300], pt[1200], pkt[1300];
	size_t chn = unhex(rfc_client_hello, ch, sizeof(ch));
	assert_int_equal(chn, 241);
	static const uint8_t dcid1[8] = {0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08};
	static const uint8_t dcid2[8] = {0xf0, 0x67, 0xa5, 0x50, 0x2a, 0x42, 0x62, 0xb5};
	struct fx x;
	fx_init(&x, NULL);
	x.sport = 443;
	memset(pt, 0, sizeof(pt));
	crypto_frame(ch, 0, 100, pt);
	size_t n = q_initial(dcid1, 8, 0, pt, 1100, pkt);
	udp(&x, OM_DIR_TOSERVER, pkt, (uint32_t)n);
	uint8_t retry[64];
	size_t rn =
	    unhex("ff000000010008f067a5502a4262b5746f6b656e04a265ba2eff4d829058fb3f0f2496ba", retry,
	          sizeof(retry));
	udp(&x, OM_DIR_TOCLIENT, retry, (uint32_t)rn);
	memset(pt, 0, sizeof(pt));
	crypto_frame(ch, 0, chn, pt);
	n = q_initial(dcid2, 8, 1, pt, 1100, pkt);
	udp(&x, OM_DIR_TOSERVER, pkt, (uint32_t)n);
	const char *r = fx_flush(&x);
	assert_int_equal(count(r, "\"event_type\":\"anomaly\""), 0);
	assert_int_equal(count(r, "\"event_type\":\"quic\""), 1);
	assert_has(r, "\"sni\":\"example.com\"");
	fx_free(&x);
}

/* CRYPTO frames out of order across two Initials (the second half first):
 * the ClientHello is read once both are in. */
static void test_quic_crypto_out_of_order(void **unused)
{
	(void)unused;
	uint8_t ch[300], pt[1200], pkt[1300];
	size_t chn = unhex(rfc_client_hello, ch, sizeof(ch));
	static const uint8_t dcid[8] = {0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08};
	struct fx x;
	fx_init(&x, NULL);
	x.sport = 443;
	memset(pt, 0, sizeof(pt));
	crypto_frame(ch, 120, chn - 120, pt);
	size_t n = q_initial(dcid, 8, 0, pt, 1100, pkt);
	udp(&x, OM_DIR_TOSERVER, pkt, (uint32_t)n);
	memset(pt, 0, sizeof(pt));
	crypto_frame(ch, 0, 130, pt); /* overlaps the first by 10 bytes */
	n = q_initial(dcid, 8, 1, pt, 1100, pkt);
	udp(&x, OM_DIR_TOSERVER, pkt, (uint32_t)n);
	const char *r = fx_flush(&x);
	assert_int_equal(count(r, "\"event_type\":\"anomaly\""), 0);
	assert_has(r, "\"ja4\":\"q13d0211an_62ed6f6ca7ad_4d634acda6c0\"");
	fx_free(&x);
}

/* ---- transactions for the observers --------------------------------------------- */

/* what the observer saw: one line per call with the buffers asked for */
static om_buf obs_log;

static void obs_put(const om_proto_tx *tx, const char *name, enum om_tx_buf b, uint32_t idx)
{
	uint32_t n = 0;
	const uint8_t *p = om_tx_get(tx, b, idx, &n);
	om_buf_printf(&obs_log, " %s=", name);
	if (p)
		om_buf_append(&obs_log, p, n);
	else
		om_buf_puts(&obs_log, "-");
}

static enum om_tx_verdict obs_on_tx(void *wctx, om_flow *f, const om_proto_tx *tx)
{
	(void)wctx;
	(void)f;
	om_buf_printf(&obs_log, "%s tx %lu progress %u dir %d:", tx->app_proto,
	              (unsigned long)tx->tx_id, tx->progress, tx->dir);
	obs_put(tx, "sni", OM_TXB_TLS_SNI, 0);
	obs_put(tx, "ja3", OM_TXB_JA3_HASH, 0);
	obs_put(tx, "ja3s", OM_TXB_JA3S_HASH, 0);
	obs_put(tx, "ja4", OM_TXB_JA4, 0);
	obs_put(tx, "alpn0", OM_TXB_TLS_ALPN, 0);
	obs_put(tx, "alpn1", OM_TXB_TLS_ALPN, 1);
	obs_put(tx, "alpn2", OM_TXB_TLS_ALPN, 2);
	obs_put(tx, "version", OM_TXB_TLS_VERSION, 0);
	obs_put(tx, "subject", OM_TXB_TLS_CERT_SUBJECT, 0);
	obs_put(tx, "serial", OM_TXB_TLS_CERT_SERIAL, 0);
	uint32_t n[3] = {0, 0, 0};
	for (uint32_t i = 0; i < 3; i++)
		if (!om_tx_get(tx, OM_TXB_TLS_CERT, i, &n[i]))
			n[i] = 0;
	om_buf_printf(&obs_log, " certs=%u,%u,%u", n[0], n[1], n[2]);
	/* the leaf as served, from its PEM file, decoded by libcrypto */
	uint32_t dl = 0;
	const uint8_t *der = om_tx_get(tx, OM_TXB_TLS_CERT, 0, &dl);
	if (der) {
		const char *src = getenv("OMAMORI_SRC");
		char path[512];
		snprintf(path, sizeof(path), "%s/tests/pcap/data/tls-leaf.pem", src ? src : ".");
		FILE *fp = fopen(path, "r");
		assert_non_null(fp);
		X509 *leaf = PEM_read_X509(fp, NULL, NULL, NULL);
		fclose(fp);
		assert_non_null(leaf);
		unsigned char *ld = NULL;
		int ln = i2d_X509(leaf, &ld);
		om_buf_puts(&obs_log,
		            ln == (int)dl && !memcmp(ld, der, dl) ? " leaf=same" : " leaf=DIFF");
		OPENSSL_free(ld);
		X509_free(leaf);
	}
	om_buf_puts(&obs_log, " json=");
	om_json j;
	om_json_init(&j, &obs_log);
	om_json_obj_open(&j, NULL);
	tx->json(&j, tx->priv);
	om_json_obj_close(&j);
	om_buf_putc(&obs_log, '\n');
	return OM_TX_VERDICT_ACCEPT;
}

static const om_proto_observer test_observer = {.name = "test", .on_tx = obs_on_tx};

/* The TLS 1.2 capture: the request when the ClientHello is read (its
 * buffers), the response when the handshake is (the certificates too: the
 * leaf's DER the same as the PEM file's) */
static void test_tls_transaction(void **unused)
{
	(void)unused;
	struct cap c;
	cap_load(&c, "tls-12.pcap");
	om_buf_init(&obs_log, 1 << 20);
	fx_observer = &test_observer;
	char *r = run_capture(&c, AS_CAPTURED, NULL, NULL);
	fx_observer = NULL;
	const char *log = om_buf_cstr(&obs_log);
	assert_int_equal(count(log, "\n"), 2);
	assert_has(log, "tls tx 0 progress 1 dir 0: sni=www.omamori.test "
	                "ja3=22558766122974704364c9c75c5cce0a ja3s=- "
	                "ja4=t12d2808h2_d943125447b4_e7e480e5a997 alpn0=h2 alpn1=http/1.1 alpn2=- "
	                "version=- subject=- serial=- certs=0,0,0 json={\"tls\":{");
	assert_has(log,
	           "tls tx 0 progress 3 dir 1: sni=www.omamori.test "
	           "ja3=22558766122974704364c9c75c5cce0a ja3s=895252f3ce80cebf7a8837be83ec8e16 "
	           "ja4=t12d2808h2_d943125447b4_e7e480e5a997 alpn0=h2 alpn1=http/1.1 alpn2=- "
	           "version=TLS 1.2 subject=C=JP, ST=Tokyo, O=Omamori Shop, CN=www.omamori.test "
	           "serial=00:8A:1B:2C:3D:4E:5F:60:71 certs=");
	/* openssl x509 -in data/tls-leaf.pem (tls-inter.pem) -outform der | wc -c */
	assert_has(log, " certs=969,881,0 leaf=same json={\"tls\":{\"subject\":");
	/* the json of a transaction is the tls object alone (an alert has its
	 * own omamori object) */
	assert_null(strstr(log, "\"omamori\""));
	om_buf_free(&obs_log);
	free(r);
	cap_free(&c);
}

static void test_quic_transaction(void **unused)
{
	(void)unused;
	om_buf_init(&obs_log, 1 << 20);
	fx_observer = &test_observer;
	char *r = run_quic2(rfc9001_client_initial, -1, rfc9001_server_initial);
	fx_observer = NULL;
	const char *log = om_buf_cstr(&obs_log);
	assert_int_equal(count(log, "\n"), 2);
	assert_has(log, "quic tx 0 progress 1 dir 0: sni=example.com "
	                "ja3=41bc9ae914d6cb3bd0bd0a5453ab7d7f ja3s=- "
	                "ja4=q13d0211an_62ed6f6ca7ad_4d634acda6c0 alpn0=alpn alpn1=-");
	assert_has(log,
	           "quic tx 0 progress 3 dir 1: sni=example.com "
	           "ja3=41bc9ae914d6cb3bd0bd0a5453ab7d7f ja3s=eb1d94daa7e0344597e756a1fb6e7054");
	assert_has(log, "json={\"quic\":{\"version\":\"1\",\"ja3s\"");
	om_buf_free(&obs_log);
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tls12_segments_and_records),
	    cmocka_unit_test(test_tls13),
	    cmocka_unit_test(test_max_handshake),
	    cmocka_unit_test(test_ja4_grease_ech),
	    cmocka_unit_test(test_esni),
	    cmocka_unit_test(test_many_extensions),
	    cmocka_unit_test(test_multiple_sni),
	    cmocka_unit_test(test_bad_record),
	    cmocka_unit_test(test_truncated_hello),
	    cmocka_unit_test(test_session_resumed),
	    cmocka_unit_test(test_crafted_certificate),
	    cmocka_unit_test(test_quic_v1_rfc9001),
	    cmocka_unit_test(test_quic_v2_rfc9369),
	    cmocka_unit_test(test_quic_tampered),
	    cmocka_unit_test(test_quic_server_hello),
	    cmocka_unit_test(test_quic_retry),
	    cmocka_unit_test(test_quic_crypto_out_of_order),
	    cmocka_unit_test(test_tls_transaction),
	    cmocka_unit_test(test_quic_transaction),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
