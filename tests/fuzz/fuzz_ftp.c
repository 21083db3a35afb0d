/* fuzz_ftp: the FTP control and data parsers through the whole offline
 * pipeline. The input is a script of records, each turned into TCP
 * segments of one of three connections (the control connection to port 21,
 * a passive data connection from the client, an active one from the
 * server's port 20), written into a capture and inspected with only the ftp
 * parsers on and small limits (64-byte lines, 4 expectations, 2-second
 * expectation timeout, 4 KiB files) so that every cap is reached.
 *
 * A record: op (1 byte), length (2 bytes, big-endian), for a new data
 * connection its server port (2 bytes), then the payload.
 *   op bits 0-1  connection: 0 control, 1 passive data, 2 active data
 *   bit 2        open a new connection first (handshake)
 *   bit 3        direction: 0 from the opener, 1 from the other side
 *   bit 4        FIN after the payload;  bit 5: RST after it
 *   bits 6-7     segment size: 1, 7, 100 or 1400 bytes
 * An observer reads every transaction's buffers and object.
 * Seeds: tests/fuzz/seeds-ftp (made by tests/fuzz/seeds-ftp/make-seeds). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "engine/engine.h"
#include "proto/proto.h"

#include "../unit/ftp_craft.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An observer that reads every buffer of every transaction and writes its
 * object, as the rule engine would; it alerts on some RETRs to reach the
 * flow's flags. */
static enum om_tx_verdict look(void *wctx, om_flow *f, const om_proto_tx *tx)
{
	(void)wctx;
	(void)f;
	static const enum om_tx_buf bufs[] = {OM_TXB_FTP_COMMAND, OM_TXB_FTP_COMMAND_DATA,
	                                      OM_TXB_HTTP_URI};
	unsigned sum = 0;
	bool retr = false;
	for (size_t i = 0; i < sizeof(bufs) / sizeof(bufs[0]); i++) {
		uint32_t n = 0;
		const uint8_t *p = om_tx_get(tx, bufs[i], 0, &n);
		for (uint32_t k = 0; p && k < n; k++)
			sum += p[k];
		if (p && i == 0 && n == 4 && !memcmp(p, "RETR", 4))
			retr = true;
		if (om_tx_get(tx, bufs[i], 1, &n))
			abort(); /* single-valued buffers have no index 1 */
	}
	om_buf b;
	om_buf_init(&b, 1 << 16);
	om_json j;
	om_json_init(&j, &b);
	om_json_obj_open(&j, NULL);
	if (tx->json)
		tx->json(&j, tx->priv);
	om_json_obj_close(&j);
	sum += (unsigned)b.len;
	om_buf_free(&b);
	return retr && (sum & 1) ? OM_TX_VERDICT_ALERT : OM_TX_VERDICT_ACCEPT;
}

static const uint8_t CLI[4] = {192, 0, 2, 20}, SRV[4] = {192, 0, 2, 10};

static void script(fc_cap *c, const uint8_t *d, size_t n)
{
	fc_conn k[3];
	bool open[3] = {false, false, false};
	uint16_t next_cport = 41000;
	static const size_t mss[4] = {1, 7, 100, 1400};
	memset(k, 0, sizeof(k));
	size_t pos = 0;
	unsigned nrec = 0;
	while (pos + 3 <= n && nrec++ < 4096) {
		uint8_t op = d[pos];
		size_t len = (size_t)(d[pos + 1] << 8 | d[pos + 2]);
		pos += 3;
		int ci = op & 3;
		if (ci == 3)
			ci = 0;
		fc_conn *x = &k[ci];
		if ((op & 0x04) || !open[ci]) {
			uint16_t port = 21;
			if (ci) {
				if (pos + 2 > n)
					return;
				port = (uint16_t)(d[pos] << 8 | d[pos + 1]);
				pos += 2;
			}
			memset(x, 0, sizeof(*x));
			if (ci == 2) { /* active: the server connects from port 20 */
				memcpy(x->a, SRV, 4);
				memcpy(x->b, CLI, 4);
				x->ap = 20;
				x->bp = port;
			} else {
				memcpy(x->a, CLI, 4);
				memcpy(x->b, SRV, 4);
				x->ap = ci ? next_cport++ : 40000;
				x->bp = port;
			}
			fc_connect(c, x);
			open[ci] = true;
		}
		if (len > n - pos)
			len = n - pos;
		int dir = (op >> 3) & 1;
		fc_send(c, x, dir, d + pos, len, mss[op >> 6]);
		pos += len;
		if (op & 0x10)
			fc_fin(c, x, dir);
		if (op & 0x20) {
			fc_rst(c, x, dir);
			open[ci] = false;
		}
		fc_wait(c, 1000 * (uint64_t)(op & 0x0f));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static om_eve *eve;
	static om_settings cfg;
	static om_proto *proto;
	static om_app_registry *apps;
	char err[2048];
	if (!eve) {
		om_settings_defaults(&cfg);
		cfg.net.flow_max = 16;
		cfg.net.stream_memcap = 1 << 20;
		cfg.engine.stats_interval = 0;
		cfg.guard.recon_max_sources = 16; /* small tables: cheap runs */
		om_proto_config *pc = &cfg.proto;
		pc->http.enabled = pc->dns.enabled = pc->tls.enabled = pc->quic.enabled = false;
		pc->mail.smtp = pc->mail.pop3 = pc->mail.imap = false;
		pc->ftp.enabled = true;
		pc->ftp.max_line = 64;
		pc->ftp.max_expectations = 4;
		pc->ftp.expect_timeout = 2;
		pc->files.magic = false;
		pc->files.max_file = 4096;
		pc->files.store_dir[0] = '\0';
		if (om_eve_open("/dev/null", 0, false, &eve, err, sizeof(err)) < 0)
			abort();
		static const om_proto_observer obs = {.name = "fuzz", .on_tx = look};
		if (om_proto_new(pc, &proto, err, sizeof(err)) < 0 ||
		    !(apps = om_app_registry_new()) || om_proto_add_observer(proto, &obs) < 0 ||
		    om_proto_register(proto, apps) < 0)
			abort();
		om_app_registry_seal(apps);
	}
	int fd = memfd_create("fuzz_ftp", 0);
	if (fd < 0)
		return 0;
	FILE *f = fdopen(dup(fd), "wb");
	fc_cap c;
	if (!f || fc_open(&c, f, 1715299200000000ull) < 0) {
		if (f)
			fclose(f);
		close(fd);
		return 0;
	}
	script(&c, data, size);
	fc_close(&c);
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	om_engine_opts o = {.cfg = &cfg,
	                    .pcap_path = path,
	                    .eve = eve,
	                    .spool = NULL,
	                    .tenant = "fuzz",
	                    .gateway = "gw",
	                    .workers = 1,
	                    .apps = apps,
	                    .proto = proto};
	om_engine_result res;
	(void)om_engine_inspect(&o, &res, err, sizeof(err));
	close(fd);
	return 0;
}
