/* pcap.c: reading capture files. Classic pcap files (the common case, and
 * what tcpdump writes) that are regular files are parsed here from a
 * read-only mapping of the file, window by window, so that packet data is
 * never copied and can be handed to worker threads by pointer. pcapng and
 * anything that cannot be mapped go through libpcap, with microsecond
 * timestamps. A file cut short yields the packets before the break and then
 * -EIO with a message naming the file and the packet number. Messages come
 * from the catalogues, in the calling thread's language (om_tr). */
#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "net/net.h"

/* Window geometry. A record starting inside a window's first WINDOW bytes is
 * always wholly inside its mapping, which runs OVERLAP bytes further: a
 * record is at most 16 + MAX_CAPLEN bytes (libpcap's own limit on snaplen). */
#define WINDOW (32u * 1024 * 1024)
#define MAX_CAPLEN 262144u
#define OVERLAP (MAX_CAPLEN + 16u + 4096u)
#define POPULATE_STEP (1024u * 1024)

struct om_pcap_span {
	uint8_t *base;
	size_t len;
	uint64_t off; /* file offset of base */
	atomic_uint refs;
};

struct om_pcap {
	pcap_t *h; /* libpcap mode */
	/* mapped mode */
	int fd;
	uint64_t size, pos;
	uint64_t populated; /* file offset up to which the window's pages are mapped */
	bool swapped, nsec;
	int linktype;
	om_pcap_span *span; /* current window, one reference held */
	uint64_t count;     /* packets returned so far */
	bool failed;
	char path[1024];
	char errmsg[1024 + PCAP_ERRBUF_SIZE + 96];
};

void om_pcap_span_ref(om_pcap_span *s)
{
	atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
}

void om_pcap_span_unref(om_pcap_span *s)
{
	if (!s)
		return;
	if (atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) == 1) {
		munmap(s->base, s->len);
		free(s);
	}
}

bool om_pcap_span_holds(const om_pcap_span *s, const void *p, size_t n)
{
	uintptr_t lo = (uintptr_t)s->base, a = (uintptr_t)p;
	return a >= lo && a - lo <= s->len && n <= s->len - (a - lo);
}

om_pcap_span *om_pcap_current_span(om_pcap *p)
{
	return p->span;
}

static uint32_t rd32(const uint8_t *b, bool swapped)
{
	uint32_t v;
	memcpy(&v, b, 4);
	return swapped ? __builtin_bswap32(v) : v;
}

/* Returns 1 if the file is a classic pcap that was set up for mapped
 * reading, 0 to use libpcap instead. */
static int mapped_open(om_pcap *p, const char *path)
{
	/* Look before opening: opening a FIFO (a pipe, process substitution,
	 * /dev/stdin) would take its writer, and libpcap must have it. */
	struct stat pst;
	if (stat(path, &pst) < 0 || !S_ISREG(pst.st_mode))
		return 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	struct stat st;
	uint8_t hdr[24];
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size < 24 ||
	    pread(fd, hdr, sizeof(hdr), 0) != (ssize_t)sizeof(hdr)) {
		close(fd);
		return 0;
	}
	uint32_t magic;
	memcpy(&magic, hdr, 4);
	switch (magic) {
	case 0xa1b2c3d4: break;
	case 0xd4c3b2a1: p->swapped = true; break;
	case 0xa1b23c4d: p->nsec = true; break;
	case 0x4d3cb2a1: p->swapped = p->nsec = true; break;
	default: close(fd); return 0; /* pcapng or not a capture: libpcap says */
	}
	uint16_t major;
	memcpy(&major, hdr + 4, 2);
	if (p->swapped)
		major = __builtin_bswap16(major);
	if (major != 2) {
		close(fd);
		return 0;
	}
	/* the link type sits in the low bits; the top bits carry FCS flags */
	p->linktype = (int)(rd32(hdr + 20, p->swapped) & 0x03ffffff);
	p->fd = fd;
	p->size = (uint64_t)st.st_size;
	p->pos = 24;
	return 1;
}

int om_pcap_open(const char *path, om_pcap **ret, char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	om_pcap *p = calloc(1, sizeof(*p));
	if (!p) {
		snprintf(err, errlen, om_tr("err.pcap.nomem"), path);
		return -ENOMEM;
	}
	p->fd = -1;
	snprintf(p->path, sizeof(p->path), "%s", path);
	if (mapped_open(p, path)) {
		*ret = p;
		return 0;
	}
	p->h = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_MICRO, ebuf);
	if (!p->h) {
		int r;
		if (access(path, R_OK) != 0) {
			r = -errno;
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
		} else {
			r = -EINVAL;
			snprintf(err, errlen, om_tr("err.pcap.not_capture"), path, ebuf);
		}
		free(p);
		return r;
	}
	*ret = p;
	return 0;
}

static int fail(om_pcap *p, const char *why, char *err, size_t errlen)
{
	p->failed = true;
	snprintf(p->errmsg, sizeof(p->errmsg), om_tr("err.pcap.damaged"), p->path,
	         (unsigned long long)(p->count + 1), why);
	snprintf(err, errlen, "%s", p->errmsg);
	return -EIO;
}

/* Makes the current window hold the byte at p->pos. */
static int window_for(om_pcap *p, char *err, size_t errlen)
{
	om_pcap_span *s = p->span;
	if (s && p->pos >= s->off && p->pos < s->off + WINDOW)
		return 0;
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	uint64_t off = p->pos & ~(page - 1);
	uint64_t len = p->size - off;
	if (len > (uint64_t)WINDOW + OVERLAP)
		len = (uint64_t)WINDOW + OVERLAP;
	om_pcap_span *n = calloc(1, sizeof(*n));
	if (!n)
		return fail(p, om_tr("err.pcap.reason.nomem"), err, errlen);
	void *m = mmap(NULL, (size_t)len, PROT_READ, MAP_PRIVATE, p->fd, (off_t)off);
	if (m == MAP_FAILED) {
		free(n);
		return fail(p, strerror(errno), err, errlen);
	}
	madvise(m, (size_t)len, MADV_SEQUENTIAL);
	n->base = m;
	n->len = (size_t)len;
	n->off = off;
	p->populated = off;
	atomic_init(&n->refs, 1);
	p->span = n;
	om_pcap_span_unref(s);
	return 0;
}

static int mapped_next(om_pcap *p, const uint8_t **data, uint32_t *caplen, uint32_t *wirelen,
                       om_usec *ts, char *err, size_t errlen)
{
	if (p->pos == p->size)
		return 0;
	if (p->size - p->pos < 16)
		return fail(p, om_tr("err.pcap.reason.header_incomplete"), err, errlen);
	int r = window_for(p, err, errlen);
	if (r < 0)
		return r;
	const uint8_t *h = p->span->base + (p->pos - p->span->off);
	uint32_t sec = rd32(h, p->swapped), frac = rd32(h + 4, p->swapped);
	uint32_t cl = rd32(h + 8, p->swapped), wl = rd32(h + 12, p->swapped);
	if (cl > MAX_CAPLEN) {
		char why[256];
		snprintf(why, sizeof(why), om_tr("err.pcap.reason.caplen"), MAX_CAPLEN);
		return fail(p, why, err, errlen);
	}
	if (p->size - p->pos - 16 < cl)
		return fail(p, om_tr("err.pcap.reason.data_incomplete"), err, errlen);
	*data = h + 16;
	*caplen = cl;
	*wirelen = wl;
	*ts = (om_usec)sec * 1000000u + (p->nsec ? frac / 1000u : frac);
	p->pos += 16u + cl;
	p->count++;
#ifdef MADV_POPULATE_READ
	/* Map the window's pages POPULATE_STEP at a time, ahead of the reader,
	 * in one call each instead of a fault every few pages (a hint: on
	 * failure, faults as before). A step at a time and not the whole
	 * window, so that mapped pages (resident memory) grow as they did. */
	uint64_t wend = p->span->off + p->span->len;
	if (p->pos + POPULATE_STEP / 2 > p->populated && p->populated < wend) {
		uint64_t n =
		    wend - p->populated < POPULATE_STEP ? wend - p->populated : POPULATE_STEP;
		(void)madvise(p->span->base + (p->populated - p->span->off), (size_t)n,
		              MADV_POPULATE_READ);
		p->populated += n;
	}
#endif
	/* the next record's header and first bytes: the reader walks the file
	 * once, so they are not in the cache yet, and the hardware prefetcher
	 * does not follow a walk across pages */
	if (p->pos < p->span->off + p->span->len) {
		const uint8_t *nx = p->span->base + (p->pos - p->span->off);
		__builtin_prefetch(nx);
		__builtin_prefetch(nx + 64);
	}
	return 1;
}

int om_pcap_next(om_pcap *p, const uint8_t **data, uint32_t *caplen, uint32_t *wirelen, om_usec *ts,
                 char *err, size_t errlen)
{
	if (p->failed) {
		snprintf(err, errlen, "%s", p->errmsg);
		return -EIO;
	}
	if (!p->h)
		return mapped_next(p, data, caplen, wirelen, ts, err, errlen);
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
	return fail(p, pcap_geterr(p->h), err, errlen);
}

int om_pcap_linktype(const om_pcap *p)
{
	if (!p->h) {
		/* LINKTYPE_ values equal DLT_ values but for raw IP */
		if (p->linktype == 101)
			return DLT_RAW;
		return p->linktype;
	}
	return pcap_datalink(p->h);
}

om_pcap *om_pcap_close(om_pcap *p)
{
	if (!p)
		return NULL;
	if (p->h)
		pcap_close(p->h);
	om_pcap_span_unref(p->span);
	if (p->fd >= 0)
		close(p->fd);
	free(p);
	return NULL;
}
