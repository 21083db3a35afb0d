/* fuzz_pcap: capture file reading on hostile files. The input is written to
 * an anonymous in-memory file and read to the end with om_pcap; every packet
 * is also decoded. A damaged file must end with -EIO and a message, never a
 * crash. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "net/net.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = memfd_create("fuzz_pcap", 0);
	if (fd < 0)
		return 0;
	size_t off = 0;
	while (off < size) {
		ssize_t w = write(fd, data + off, size - off);
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	char path[64], err[2048];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	om_pcap *pc = NULL;
	if (om_pcap_open(path, &pc, err, sizeof(err)) == 0) {
		om_decoder *d = om_decoder_new(16 * 1024, 8, 5);
		const uint8_t *pkt;
		uint32_t caplen, wirelen;
		om_usec ts;
		int r, n = 0;
		while (n++ < 10000 && (r = om_pcap_next(pc, &pkt, &caplen, &wirelen, &ts, err,
		                                        sizeof(err))) == 1) {
			if (d) {
				om_packet p;
				memset(&p, 0, sizeof(p));
				p.raw = pkt;
				p.caplen = caplen;
				p.wirelen = wirelen;
				p.ts = ts;
				p.linktype = om_pcap_linktype(pc);
				(void)om_decode(d, &p);
			}
		}
		if (r < 0 && strstr(err, path) == NULL)
			abort(); /* the message must name the file */
		om_decoder_free(d);
		om_pcap_close(pc);
	}
	close(fd);
	return 0;
}
