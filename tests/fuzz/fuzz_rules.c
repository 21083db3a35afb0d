/* libFuzzer target: the rule parser and the matcher. The input is rule
 * text; what loads is compiled and run over the input itself as a
 * packet's payload, as every buffer of a transaction, and as a TCP stream
 * through a real reassembly (segments out of order and a rewrite). */
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>

#include "detect/detect.h"

static const uint8_t *g_data;
static uint32_t g_len;

static const uint8_t *buf(const om_proto_tx *tx, enum om_tx_buf b, uint32_t idx, uint32_t *len)
{
	(void)tx;
	if (idx > 1 || b == OM_TXB_HTTP_COOKIE)
		return NULL;
	*len = idx ? g_len / 2 : g_len;
	return g_data;
}

static void alert(void *user, const om_detect_alert *a)
{
	size_t *n = user;
	*n += a->sid + strlen(a->msg) + strlen(a->category);
}

/* the TCP stream in front of the worker, as the engine has it */
static om_detect_worker *g_w;
static const om_packet *g_cur;
static void on_data(void *user, om_flow *f, int dir, const uint8_t *d, uint32_t len, uint64_t off,
                    unsigned flags)
{
	(void)user;
	(void)flags;
	om_detect_stream(g_w, f, dir, d, len, off, g_cur);
	om_detect_stream_end(g_w);
}

static void seg(om_stream_ctx *s, om_flow *f, om_packet *p, int dir, uint8_t flags, uint32_t seq,
                uint32_t ack, const uint8_t *d, uint32_t len)
{
	p->tcp_flags = flags;
	p->tcp_seq = seq;
	p->tcp_ack = ack;
	p->tcp_win = 65535;
	p->tcp_wscale = 0xff;
	p->payload = d;
	p->payload_len = len;
	g_cur = p;
	om_stream_packet(s, f, p, dir);
	om_detect_packet(g_w, f, p, dir);
	g_cur = NULL;
}

/* the input as a client stream in three segments, the last two swapped
 * (held, then filled), and a rewrite of the first */
static void stream_run(om_detect_worker *w, const uint8_t *data, uint32_t size)
{
	om_stream_callbacks cb = {on_data, NULL, NULL, NULL, NULL};
	om_stream_ctx *s = om_stream_new(0, 1u << 20, &cb);
	if (!s)
		return;
	g_w = w;
	om_flow f;
	memset(&f, 0, sizeof(f));
	f.proto = IPPROTO_TCP;
	f.flow_id = 1;
	f.cport = 1234;
	f.sport = 80;
	om_packet p;
	memset(&p, 0, sizeof(p));
	p.ip_ver = 4;
	p.proto = IPPROTO_TCP;
	p.flags = OM_PKT_IPV4 | OM_PKT_TCP | OM_PKT_HAS_PORTS;
	p.sport = 1234;
	p.dport = 80;
	seg(s, &f, &p, 0, OM_TH_SYN, 100, 0, NULL, 0);
	p.sport = 80;
	p.dport = 1234;
	seg(s, &f, &p, 1, OM_TH_SYN | OM_TH_ACK, 500, 101, NULL, 0);
	p.sport = 1234;
	p.dport = 80;
	seg(s, &f, &p, 0, OM_TH_ACK, 101, 501, NULL, 0);
	uint32_t a = size / 3, b = 2 * size / 3;
	seg(s, &f, &p, 0, OM_TH_ACK, 101, 501, data, a);
	seg(s, &f, &p, 0, OM_TH_ACK, 101 + b, 501, data + b, size - b);
	seg(s, &f, &p, 0, OM_TH_ACK, 101 + a, 501, data + a, b - a);
	seg(s, &f, &p, 0, OM_TH_ACK, 101, 501, data + (size - a), a);
	om_stream_flow_end(s, &f);
	om_stream_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 8192)
		return 0;
	om_detect *d = NULL;
	if (om_detect_new(NULL, &d) < 0)
		return 0;
	om_detect_load_stats st;
	memset(&st, 0, sizeof(st));
	char err[256] = "";
	if (om_detect_add_rules(d, (const char *)data, size, "fuzz", 0, &st) == 0 &&
	    om_detect_compile(d, err, sizeof(err)) == 0) {
		size_t n = 0;
		om_detect_worker *w = om_detect_worker_new(d, alert, &n);
		if (w) {
			g_data = data;
			g_len = (uint32_t)size;
			om_flow f;
			memset(&f, 0, sizeof(f));
			f.proto = IPPROTO_TCP;
			f.tcp_state = OM_TCP_ESTABLISHED;
			f.pkts[0] = f.pkts[1] = 1;
			om_packet p;
			memset(&p, 0, sizeof(p));
			p.ip_ver = 4;
			p.proto = IPPROTO_TCP;
			p.flags = OM_PKT_TCP | OM_PKT_HAS_PORTS;
			p.sport = 1234;
			p.dport = 80;
			p.payload = data;
			p.payload_len = (uint32_t)size;
			for (int dir = 0; dir < 2; dir++) {
				om_detect_packet(w, &f, &p, dir);
				om_proto_tx tx = {
				    .app_proto = dir ? "dns" : "http", .dir = dir, .buffer = buf};
				om_detect_tx(w, &f, &tx);
			}
			stream_run(w, data, (uint32_t)size);
			om_detect_worker_free(w);
		}
	}
	om_detect_free(d);
	return 0;
}
