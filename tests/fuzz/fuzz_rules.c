/* libFuzzer target: the rule parser and the matcher. The input is rule
 * text; what loads is compiled and run over the input itself as a
 * packet's payload and as every buffer of a transaction. */
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
			om_detect_worker_free(w);
		}
	}
	om_detect_free(d);
	return 0;
}
