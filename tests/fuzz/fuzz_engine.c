/* fuzz_engine: the whole offline pipeline (capture reading, decoding,
 * defragmentation, flows, TCP reassembly, scan detection, event writing) on
 * hostile capture files, with small tables so that eviction, memcaps and
 * timeouts are reached. One or two workers, from the input's length. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "engine/engine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static om_eve *eve;
	static om_settings cfg;
	char err[2048];
	if (!eve) {
		om_settings_defaults(&cfg);
		cfg.net.flow_max = 16;
		cfg.net.stream_memcap = 65536;
		cfg.net.stream_depth = 4096;
		cfg.net.defrag_memcap = 65536;
		cfg.net.defrag_max_trackers = 8;
		cfg.guard.recon_window = 2;
		cfg.guard.recon_vertical_ports = 3;
		cfg.guard.recon_horizontal_hosts = 3;
		cfg.guard.recon_sweep_hosts = 3;
		cfg.guard.recon_max_sources = 16;
		cfg.engine.stats_interval = 1;
		if (om_eve_open("/dev/null", 0, false, &eve, err, sizeof(err)) < 0)
			abort();
	}
	int fd = memfd_create("fuzz_engine", 0);
	if (fd < 0)
		return 0;
	size_t off = 0;
	while (off < size) {
		ssize_t w = write(fd, data + off, size - off);
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	om_engine_opts o = {.cfg = &cfg,
	                    .pcap_path = path,
	                    .eve = eve,
	                    .spool = NULL,
	                    .tenant = "fuzz",
	                    .gateway = "gw",
	                    .workers = 1 + (unsigned)(size & 1)};
	om_engine_result res;
	(void)om_engine_inspect(&o, &res, err, sizeof(err));
	close(fd);
	return 0;
}
