/* fuzz_http: the HTTP parser (libhtp, bodies, files, multipart, ranges,
 * decompression limits) through the whole pipeline. The input is a script
 * of one TCP session: its first byte chooses the segment size, then each
 * record is [direction byte][length, 2 bytes big endian][bytes], sent in
 * that direction in segments of that size with valid acknowledgments (a
 * direction byte with bits 1 and 2 set is a hole instead: 1 to 4096
 * sequence numbers skipped, a gap the stream never fills), and both sides
 * close at the end. Small body and header limits so that they
 * are reached. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "engine/engine.h"
#include "http_session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
		cfg.engine.stats_interval = 0;
		cfg.net.stream_memcap = 1u << 20;
		cfg.guard.recon_max_sources = 16; /* small tables: each run makes them */
		cfg.proto.http.request_body_limit = 512;
		cfg.proto.http.response_body_limit = 512;
		cfg.proto.http.max_header_bytes = 1024;
		cfg.proto.http.max_tx = 8;
		cfg.proto.http.decompress_limit = 1u << 20;
		cfg.proto.http.decompress_ratio = 20;
		cfg.proto.files.magic = false;
		cfg.proto.files.max_file = 4096;
		if (om_eve_open("/dev/null", 0, false, &eve, err, sizeof(err)) < 0)
			abort();
		if (om_proto_new(&cfg.proto, &proto, err, sizeof(err)) < 0)
			abort();
		apps = om_app_registry_new();
		if (!apps || om_proto_register(proto, apps) < 0)
			abort();
		om_app_registry_seal(apps);
	}
	if (size < 1)
		return 0;
	struct hcap c;
	hcap_init(&c, 1715299200000000ull);
	hsess_script(&c, data, size);
	int fd = memfd_create("fuzz_http", 0);
	if (fd < 0) {
		free(c.buf);
		return 0;
	}
	size_t w = 0;
	while (w < c.len) {
		ssize_t k = write(fd, c.buf + w, c.len - w);
		if (k <= 0)
			break;
		w += (size_t)k;
	}
	free(c.buf);
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
