/* pcap.c: reading capture files (pcap and pcapng) through libpcap, with
 * microsecond timestamps. A file cut short yields the packets before the
 * break and then -EIO with a message naming the file and the packet number;
 * libpcap reports a partial record as an error after the good packets, so
 * that is the signal used. */
#include <errno.h>
#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net/net.h"

struct om_pcap {
	pcap_t *h;
	uint64_t count; /* packets returned so far */
	bool failed;
	char path[1024];
	char errmsg[1024 + PCAP_ERRBUF_SIZE + 96];
};

int om_pcap_open(const char *path, om_pcap **ret, char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	om_pcap *p = calloc(1, sizeof(*p));
	if (!p) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	p->h = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_MICRO, ebuf);
	if (!p->h) {
		int r;
		if (access(path, R_OK) != 0) {
			r = -errno;
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
		} else {
			r = -EINVAL;
			snprintf(err, errlen, "%s: not a readable pcap or pcapng file: %s", path,
			         ebuf);
		}
		free(p);
		return r;
	}
	snprintf(p->path, sizeof(p->path), "%s", path);
	*ret = p;
	return 0;
}

int om_pcap_next(om_pcap *p, const uint8_t **data, uint32_t *caplen, uint32_t *wirelen, om_usec *ts,
                 char *err, size_t errlen)
{
	if (p->failed) {
		snprintf(err, errlen, "%s", p->errmsg);
		return -EIO;
	}
	struct pcap_pkthdr *h;
	const u_char *d;
	int r = pcap_next_ex(p->h, &h, &d);
	if (r == 1) {
		p->count++;
		*data = d;
		*caplen = h->caplen;
		*wirelen = h->len;
		uint64_t sec = h->ts.tv_sec < 0 ? 0 : (uint64_t)h->ts.tv_sec;
		uint64_t usec = h->ts.tv_usec < 0 ? 0 : (uint64_t)h->ts.tv_usec;
		*ts = sec * 1000000u + usec;
		return 1;
	}
	if (r == PCAP_ERROR_BREAK || r == 0) /* end of file (0 cannot happen offline) */
		return 0;
	p->failed = true;
	snprintf(p->errmsg, sizeof(p->errmsg),
	         "%s: capture file cut short or damaged at packet %" PRIu64 ": %s", p->path,
	         p->count + 1, pcap_geterr(p->h));
	snprintf(err, errlen, "%s", p->errmsg);
	return -EIO;
}

int om_pcap_linktype(const om_pcap *p)
{
	return pcap_datalink(p->h);
}

om_pcap *om_pcap_close(om_pcap *p)
{
	if (!p)
		return NULL;
	if (p->h)
		pcap_close(p->h);
	free(p);
	return NULL;
}
