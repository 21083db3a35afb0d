/* fuzz_dns: the DNS parser through the whole offline pipeline, on hostile
 * messages. The input is a list of chunks, each [kind][length, 2 bytes
 * big-endian][bytes]: kind bit 0 is the direction (0 client to server, 1
 * back), bit 1 the transport (0: one UDP datagram, 1: one TCP segment of
 * the stream, length prefixes and all), bit 2 a different client port
 * (another flow). They become a capture between 10.0.0.1 and 10.0.0.2
 * port 53 (TCP with its handshake and, at the end, its FINs), which the
 * engine reads with the DNS parser on and writes EVE to /dev/null. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "engine/engine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_PKTS 128
#define MAX_SEG 1400

struct cap {
	uint8_t *b;
	size_t n, cap;
	uint32_t usec;
	uint32_t seq[2][2]; /* [flow][dir] next TCP sequence number */
	int tcp_open[2];
};

static void put(struct cap *c, const void *p, size_t n)
{
	if (c->n + n > c->cap) {
		size_t nc = (c->n + n) * 2;
		uint8_t *nb = realloc(c->b, nc);
		if (!nb)
			abort();
		c->b = nb;
		c->cap = nc;
	}
	memcpy(c->b + c->n, p, n);
	c->n += n;
}

static void w32le(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

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

/* One Ethernet/IPv4 frame with a UDP or TCP header and payload. */
static void frame(struct cap *c, int flow, int dir, int tcp, uint8_t flags, const uint8_t *pl,
                  size_t pn)
{
	uint8_t f[14 + 20 + 20 + MAX_SEG];
	size_t th = tcp ? 20 : 8;
	memset(f, 0, 14 + 20 + th);
	f[12] = 0x08;
	uint8_t *ip = f + 14, *t = ip + 20;
	uint16_t tot = (uint16_t)(20 + th + pn);
	ip[0] = 0x45;
	ip[2] = (uint8_t)(tot >> 8);
	ip[3] = (uint8_t)tot;
	ip[8] = 64;
	ip[9] = tcp ? 6 : 17;
	uint8_t cli[4] = {10, 0, 0, 1}, srv[4] = {10, 0, 0, 2};
	memcpy(ip + 12, dir ? srv : cli, 4);
	memcpy(ip + 16, dir ? cli : srv, 4);
	uint16_t cc = csum(ip, 20, 0);
	ip[10] = (uint8_t)(cc >> 8);
	ip[11] = (uint8_t)cc;
	uint16_t cport = (uint16_t)(40000 + flow), sport = 53;
	uint16_t sp = dir ? sport : cport, dp = dir ? cport : sport;
	t[0] = (uint8_t)(sp >> 8);
	t[1] = (uint8_t)sp;
	t[2] = (uint8_t)(dp >> 8);
	t[3] = (uint8_t)dp;
	if (tcp) {
		uint32_t seq = c->seq[flow][dir], ack = c->seq[flow][!dir];
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
	memcpy(t + th, pl, pn);
	/* transport checksum over the pseudo header */
	uint8_t ph[12];
	memcpy(ph, ip + 12, 8);
	ph[8] = 0;
	ph[9] = ip[9];
	ph[10] = (uint8_t)((th + pn) >> 8);
	ph[11] = (uint8_t)(th + pn);
	uint32_t s = 0;
	for (int i = 0; i < 12; i += 2)
		s += (uint32_t)(ph[i] << 8 | ph[i + 1]);
	uint16_t tc = csum(t, th + pn, s);
	t[tcp ? 16 : 6] = (uint8_t)(tc >> 8);
	t[tcp ? 17 : 7] = (uint8_t)tc;
	size_t len = 14 + 20 + th + pn;
	uint8_t rec[16];
	w32le(rec, 1764547200);
	w32le(rec + 4, c->usec);
	w32le(rec + 8, (uint32_t)len);
	w32le(rec + 12, (uint32_t)len);
	c->usec += 100;
	put(c, rec, 16);
	put(c, f, len);
	if (tcp)
		c->seq[flow][dir] += (uint32_t)pn + ((flags & 0x03) ? 1 : 0);
}

static void tcp_open(struct cap *c, int flow)
{
	if (c->tcp_open[flow])
		return;
	c->tcp_open[flow] = 1;
	c->seq[flow][0] = 1000;
	c->seq[flow][1] = 5000;
	frame(c, flow, 0, 1, 0x02, NULL, 0);
	frame(c, flow, 1, 1, 0x12, NULL, 0);
	frame(c, flow, 0, 1, 0x10, NULL, 0);
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
		cfg.net.defrag_memcap = 65536;
		cfg.net.defrag_max_trackers = 8;
		cfg.guard.recon_max_sources = 16; /* small tables: setting up is most of a run */
		cfg.proto.dns.max_tx = 4;
		cfg.proto.dns.max_msg = 2048;
		cfg.proto.files.magic = false; /* no libmagic database load per run */
		cfg.proto.files.hash = false;
		if (om_eve_open("/dev/null", 0, false, &eve, err, sizeof(err)) < 0)
			abort();
		if (om_proto_new(&cfg.proto, &proto, err, sizeof(err)) < 0)
			abort();
		apps = om_app_registry_new();
		if (!apps || om_proto_register(proto, apps) < 0)
			abort();
		om_app_registry_seal(apps);
	}
	struct cap c = {0};
	uint8_t gh[24] = {0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0};
	w32le(gh + 16, 65535);
	w32le(gh + 20, 1);
	put(&c, gh, sizeof(gh));
	size_t o = 0;
	unsigned pkts = 0;
	while (o + 3 <= size && pkts < MAX_PKTS) {
		uint8_t kind = data[o];
		size_t n = (size_t)data[o + 1] << 8 | data[o + 2];
		o += 3;
		if (n > size - o)
			n = size - o;
		int dir = kind & 1, tcp = (kind >> 1) & 1, flow = (kind >> 2) & 1;
		const uint8_t *p = data + o;
		o += n;
		if (tcp)
			tcp_open(&c, flow);
		do {
			size_t k = n < MAX_SEG ? n : MAX_SEG;
			frame(&c, flow, dir, tcp, 0x18, p, k);
			pkts++;
			p += k;
			n -= k;
		} while (n && pkts < MAX_PKTS);
	}
	for (int flow = 0; flow < 2; flow++)
		if (c.tcp_open[flow]) {
			frame(&c, flow, 0, 1, 0x11, NULL, 0);
			frame(&c, flow, 1, 1, 0x11, NULL, 0);
		}
	int fd = memfd_create("fuzz_dns", 0);
	if (fd < 0) {
		free(c.b);
		return 0;
	}
	size_t w = 0;
	while (w < c.n) {
		ssize_t r = write(fd, c.b + w, c.n - w);
		if (r <= 0)
			break;
		w += (size_t)r;
	}
	free(c.b);
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	om_engine_opts eo = {.cfg = &cfg,
	                     .pcap_path = path,
	                     .eve = eve,
	                     .spool = NULL,
	                     .tenant = "fuzz",
	                     .gateway = "gw",
	                     .workers = 1,
	                     .apps = apps,
	                     .proto = proto};
	om_engine_result res;
	(void)om_engine_inspect(&eo, &res, err, sizeof(err));
	close(fd);
	return 0;
}
