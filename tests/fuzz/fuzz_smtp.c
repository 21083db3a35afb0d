/* libFuzzer target: the SMTP, POP3 and IMAP parsers (src/proto/mail.c, with
 * the MIME decoder under them) through the real app-layer and proto module:
 * records are written with the parsers' own body functions into a buffer,
 * files are hashed. Input: byte 0 picks the protocol (0 SMTP, 1 POP3,
 * 2 IMAP) and whether the lines are capped small (bit 2); then records of
 *   ctl (bit 0: direction, bit 1: a gap of len bytes instead of data),
 *   len (1 byte), len bytes (cut to what is left).
 * The server's greeting is sent first so that the flow is detected. The
 * flow ends with the input; every state and file must be released (ASan
 * reports leaks). */
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/proto.h"

static om_buf out;
static om_app_ctx *app;

static void flow_end(void *user, om_flow *f, enum om_flow_end why)
{
	(void)user;
	om_app_flow_end(app, f, why);
}

static void sink_event(void *user, om_flow *f, const om_proto_event *ev)
{
	(void)user;
	(void)f;
	om_buf_reset(&out);
	om_json j;
	om_json_init(&j, &out);
	om_json_obj_open(&j, NULL);
	om_json_str(&j, "event_type", ev->event_type);
	if (ev->body)
		ev->body(&j, ev->arg);
	om_json_obj_close(&j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	static bool init;
	if (!init) {
		om_buf_init(&out, 1 << 20);
		init = true;
	}
	unsigned kind = data[0] % 3;
	om_proto_config cfg;
	om_config_part parts[OM_PROTO_CONFIG_PARTS];
	om_proto_config_parts(&cfg, parts);
	om_config_defaults(parts, OM_PROTO_CONFIG_PARTS);
	cfg.files.magic = false;
	if (data[0] & 4) {
		cfg.mail.max_line = 128;
		cfg.mail.max_header = 256;
		cfg.mail.max_parts = 3;
		cfg.mail.max_depth = 2;
		cfg.mail.max_urls = 2;
	}
	om_proto *p;
	char err[256];
	if (om_proto_new(&cfg, &p, err, sizeof(err)) < 0)
		abort();
	om_app_registry *reg = om_app_registry_new();
	if (!reg || om_proto_register(p, reg) < 0)
		abort();
	om_app_registry_seal(reg);
	app = om_app_new(reg, NULL);
	om_proto_sink sink = {sink_event, NULL};
	om_proto_worker *w = om_proto_worker_new(p, 0, &sink);
	if (!app || !w)
		abort();
	om_app_set_worker_user(app, w);
	/* a real flow table entry (files take the flow's handle); no stream:
	 * the bytes go to the app-layer directly */
	om_flow_config fc = {.max_flows = 2,
	                     .timeout_new = 30,
	                     .timeout_est = 300,
	                     .timeout_closed = 10,
	                     .timeout_udp = 60,
	                     .timeout_icmp = 20,
	                     .on_end = flow_end};
	om_flow_table *ft = om_flow_table_new(&fc);
	if (!ft)
		abort();
	om_app_set_flow_table(app, ft);
	static const char *const greet[] = {"220 mx ESMTP\r\n", "+OK ready\r\n",
	                                    "* OK IMAP4rev1 ready\r\n"};
	static const uint16_t port[] = {25, 110, 143};
	om_packet pk;
	memset(&pk, 0, sizeof(pk));
	pk.ts = 1700000000ull * 1000000;
	pk.ip_ver = 4;
	pk.proto = IPPROTO_TCP;
	pk.flags = OM_PKT_IPV4 | OM_PKT_TCP | OM_PKT_HAS_PORTS;
	const uint8_t a[4] = {192, 0, 2, 1}, b[4] = {192, 0, 2, 2};
	om_addr_from_v4(&pk.src, a);
	om_addr_from_v4(&pk.dst, b);
	pk.sport = 40000;
	pk.dport = port[kind];
	pk.tcp_flags = 0x02;
	pk.caplen = pk.wirelen = 54;
	int pdir;
	om_flow *fp = om_flow_get(ft, &pk, &pdir);
	if (!fp)
		abort();
	om_app_tcp_data(app, fp, OM_DIR_TOCLIENT, (const uint8_t *)greet[kind],
	                (uint32_t)strlen(greet[kind]), 0);
	size_t i = 1;
	while (i + 2 <= size) {
		uint8_t ctl = data[i], len = data[i + 1];
		i += 2;
		int dir = ctl & 1 ? OM_DIR_TOCLIENT : OM_DIR_TOSERVER;
		if (ctl & 2) {
			om_app_tcp_gap(app, fp, dir, len);
			continue;
		}
		size_t n = len <= size - i ? len : size - i;
		if (n)
			om_app_tcp_data(app, fp, dir, data + i, (uint32_t)n, 0);
		i += n;
	}
	om_flow_table_flush(ft, OM_FLOW_END_SHUTDOWN);
	om_flow_table_free(ft);
	om_proto_stats st;
	om_proto_worker_stats(w, &st);
	om_app_free(app);
	om_proto_worker_free(w);
	om_app_registry_free(reg);
	om_proto_free(p);
	return 0;
}
