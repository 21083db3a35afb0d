/* fuzz_tls_fx.h: the fixture the tls and quic fuzz targets share: the
 * proto module with only tls and quic on, the real flow table, TCP
 * reassembly and app-layer, and a sink that writes every record's JSON
 * (so the record writers run too) into a buffer that is checked to hold
 * whole objects, and an observer that reads every buffer of every
 * transaction. One fixture per input: every state, buffer and slot must
 * come back when the flows end (the app-layer's counters say so). */
#ifndef OMAMORI_FUZZ_TLS_FX_H
#define OMAMORI_FUZZ_TLS_FX_H

#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/proto.h"

struct tfx {
	om_proto *proto;
	om_proto_worker *pw;
	om_app_registry *reg;
	om_app_ctx *app;
	om_stream_ctx *st;
	om_flow_table *ft;
	om_usec now;
	uint32_t seq[2];
	om_buf out;
	unsigned records;
};

static void tfx_event(void *user, om_flow *f, const om_proto_event *ev)
{
	struct tfx *x = user;
	(void)f;
	om_json j;
	om_buf_reset(&x->out);
	om_json_init(&j, &x->out);
	om_json_obj_open(&j, NULL);
	om_json_str(&j, "event_type", ev->event_type);
	if (ev->body)
		ev->body(&j, ev->arg);
	om_json_obj_close(&j);
	/* a record always opens and closes */
	if (x->out.len < 2 || x->out.data[0] != '{' || x->out.data[x->out.len - 1] != '}')
		abort();
	x->records++;
	/* FUZZ_TLS_SHOW=1: print the records (to see what a seed reaches) */
	if (getenv("FUZZ_TLS_SHOW"))
		fprintf(stderr, "%s\n", om_buf_cstr(&x->out));
}

/* an observer that asks every buffer of every transaction (indexes 0..3)
 * and has its json written */
static enum om_tx_verdict tfx_on_tx(void *wctx, om_flow *f, const om_proto_tx *tx)
{
	(void)wctx;
	(void)f;
	volatile uint8_t sink = 0;
	for (int b = 0; b < OM_TXB_COUNT; b++)
		for (uint32_t i = 0; i < 4; i++) {
			uint32_t n = 0;
			const uint8_t *p = om_tx_get(tx, (enum om_tx_buf)b, i, &n);
			if (p && n)
				sink ^= p[0] ^ p[n - 1]; /* every byte must be readable */
		}
	(void)sink;
	om_buf out;
	om_buf_init(&out, 1 << 20);
	om_json j;
	om_json_init(&j, &out);
	om_json_obj_open(&j, NULL);
	tx->json(&j, tx->priv);
	om_json_obj_close(&j);
	om_buf_free(&out);
	return OM_TX_VERDICT_ALERT;
}

static const om_proto_observer tfx_observer = {.name = "fuzz", .on_tx = tfx_on_tx};

static void tfx_data(void *u, om_flow *f, int dir, const uint8_t *d, uint32_t len, uint64_t off,
                     unsigned flags)
{
	(void)off;
	struct tfx *x = u;
	om_app_tcp_data(x->app, f, dir, d, len,
	                (flags & OM_STREAM_DATA_HELD) ? OM_APP_DATA_HELD : 0);
}

static void tfx_gap(void *u, om_flow *f, int dir, uint64_t off, uint64_t len)
{
	(void)off;
	struct tfx *x = u;
	om_app_tcp_gap(x->app, f, dir, len);
}

static void tfx_end(void *u, om_flow *f, enum om_flow_end why)
{
	struct tfx *x = u;
	if (f->proto == IPPROTO_TCP)
		om_stream_flow_end(x->st, f);
	om_app_flow_end(x->app, f, why);
}

static void tfx_init(struct tfx *x, uint32_t max_handshake, uint32_t max_crypto)
{
	memset(x, 0, sizeof(*x));
	om_proto_config pc;
	om_config_part parts[OM_PROTO_CONFIG_PARTS];
	om_proto_config_parts(&pc, parts);
	om_config_defaults(parts, OM_PROTO_CONFIG_PARTS);
	pc.http.enabled = pc.dns.enabled = pc.ftp.enabled = false;
	pc.mail.smtp = pc.mail.pop3 = pc.mail.imap = false;
	pc.files.magic = false;
	if (max_handshake)
		pc.tls.max_handshake = max_handshake;
	if (max_crypto)
		pc.quic.max_crypto = max_crypto;
	char err[256];
	if (om_proto_new(&pc, &x->proto, err, sizeof(err)) < 0 ||
	    om_proto_add_observer(x->proto, &tfx_observer) < 0)
		abort();
	x->reg = om_app_registry_new();
	if (!x->reg || om_proto_register(x->proto, x->reg) < 0)
		abort();
	om_app_registry_seal(x->reg);
	x->app = om_app_new(x->reg, NULL);
	om_proto_sink sink = {tfx_event, x};
	x->pw = om_proto_worker_new(x->proto, 0, &sink);
	if (!x->app || !x->pw)
		abort();
	om_app_set_worker_user(x->app, x->pw);
	om_stream_callbacks cb = {tfx_data, tfx_gap, NULL, x, NULL};
	x->st = om_stream_new(1 << 20, 8 << 20, &cb);
	om_flow_config fc = {
	    .max_flows = 4,
	    .timeout_new = 30,
	    .timeout_est = 300,
	    .timeout_closed = 10,
	    .timeout_udp = 60,
	    .timeout_icmp = 20,
	    .on_end = tfx_end,
	    .stream = x->st,
	    .user = x,
	};
	x->ft = om_flow_table_new(&fc);
	if (!x->st || !x->ft)
		abort();
	om_app_set_flow_table(x->app, x->ft);
	om_buf_init(&x->out, 1 << 20);
	x->now = 1700000000ULL * 1000000ULL;
}

static void tfx_free(struct tfx *x)
{
	om_flow_table_flush(x->ft, OM_FLOW_END_SHUTDOWN);
	const om_app_stats *s = om_app_stats_get(x->app);
	if (s->active != 0 || s->buffer_mem != 0)
		abort();
	om_flow_table_free(x->ft);
	om_stream_free(x->st);
	om_app_free(x->app);
	om_app_registry_free(x->reg);
	om_proto_worker_free(x->pw);
	om_proto_free(x->proto);
	om_buf_free(&x->out);
}

static void tfx_addr(om_addr *a, uint8_t last)
{
	const uint8_t b[4] = {192, 0, 2, last};
	om_addr_from_v4(a, b);
}

static void tfx_packet(struct tfx *x, om_packet *p, int dir, uint16_t cport, uint16_t sport)
{
	memset(p, 0, sizeof(*p));
	x->now += 1000;
	p->ts = x->now;
	p->ip_ver = 4;
	bool cli = dir == OM_DIR_TOSERVER;
	tfx_addr(cli ? &p->src : &p->dst, 1);
	tfx_addr(cli ? &p->dst : &p->src, 2);
	p->sport = cli ? cport : sport;
	p->dport = cli ? sport : cport;
}

static const uint32_t tfx_isn[2] = {1000, 5000};

/* a TCP segment of dir at the next offset (SYN: before offset 0) */
static inline void tfx_seg(struct tfx *x, int dir, uint8_t flags, const uint8_t *d, uint32_t len)
{
	om_packet p;
	tfx_packet(x, &p, dir, 40000, 443);
	p.proto = IPPROTO_TCP;
	p.flags = OM_PKT_IPV4 | OM_PKT_TCP | OM_PKT_HAS_PORTS;
	p.tcp_flags = flags;
	p.tcp_seq = tfx_isn[dir] + ((flags & OM_TH_SYN) ? 0 : 1 + x->seq[dir]);
	p.tcp_ack = tfx_isn[!dir] + 1 + x->seq[!dir];
	p.tcp_win = 65535;
	p.tcp_wscale = 0xff;
	p.payload = d;
	p.payload_len = len;
	p.caplen = p.wirelen = 54 + len;
	int got;
	om_flow *f = om_flow_get(x->ft, &p, &got);
	if (!f)
		return;
	om_stream_packet(x->st, f, &p, got);
	om_app_tcp_update(x->app, f);
	x->seq[dir] += len;
}

static inline void tfx_udp(struct tfx *x, int dir, const uint8_t *d, uint32_t len)
{
	om_packet p;
	tfx_packet(x, &p, dir, 40001, 443);
	p.proto = IPPROTO_UDP;
	p.flags = OM_PKT_IPV4 | OM_PKT_UDP | OM_PKT_HAS_PORTS;
	p.payload = d;
	p.payload_len = len;
	p.caplen = p.wirelen = 42 + len;
	int got;
	om_flow *f = om_flow_get(x->ft, &p, &got);
	if (f)
		om_app_udp(x->app, f, got, d, len);
}

#endif
