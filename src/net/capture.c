/* capture.c: the capture-source interface (net.h) and its file reader. The
 * live sources are capture_afpacket.c and capture_nfq.c. */
#include "net/capture.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

struct file_src {
	om_capture c;
	om_pcap *pc;
	int linktype;
	uint32_t n;
	bool eof;
};

static int file_next(om_capture *c, om_capture_pkt *pkts, unsigned max, int timeout_ms)
{
	struct file_src *f = (struct file_src *)c;
	(void)timeout_ms;
	if (f->eof)
		return -ENODATA;
	/* libpcap's buffer is reused by the next read (pcapng): one packet a
	 * batch keeps the data valid until release without copying */
	if (max == 0)
		return 0;
	const uint8_t *data;
	uint32_t caplen, wirelen;
	om_usec ts;
	char err[256];
	int r = om_pcap_next(f->pc, &data, &caplen, &wirelen, &ts, err, sizeof(err));
	if (r <= 0) {
		f->eof = true;
		return r == 0 ? -ENODATA : r;
	}
	pkts[0] = (om_capture_pkt){.data = data,
	                           .caplen = caplen,
	                           .wirelen = wirelen,
	                           .ts = ts,
	                           .linktype = f->linktype,
	                           .id = ++f->n};
	c->st.packets++;
	c->st.bytes += caplen;
	return 1;
}

static void file_close(om_capture *c)
{
	struct file_src *f = (struct file_src *)c;
	om_pcap_close(f->pc);
	free(f);
}

static const struct capture_ops file_ops = {
    .next = file_next,
    .close = file_close,
};

int om_capture_open(const om_capture_opts *o, om_capture **ret, char *err, size_t errlen)
{
	switch (o->kind) {
	case OM_CAPTURE_FILE: {
		struct file_src *f = calloc(1, sizeof(*f));
		if (!f) {
			snprintf(err, errlen, "%s", om_tr("err.nomem"));
			return -ENOMEM;
		}
		int r = om_pcap_open(o->path, &f->pc, err, errlen);
		if (r < 0) {
			free(f);
			return r;
		}
		f->linktype = om_pcap_linktype(f->pc);
		f->c.ops = &file_ops;
		*ret = &f->c;
		return 0;
	}
	case OM_CAPTURE_AFPACKET: return om_capture_afpacket_open(o, ret, err, errlen);
	case OM_CAPTURE_NFQUEUE: return om_capture_nfq_open(o, ret, err, errlen);
	}
	snprintf(err, errlen, "%s", om_tr("err.capture.kind"));
	return -EINVAL;
}

int om_capture_next_batch(om_capture *c, om_capture_pkt *pkts, unsigned max, int timeout_ms)
{
	return c->ops->next(c, pkts, max, timeout_ms);
}

static void count(om_capture *c, enum om_verdict v)
{
	switch (v) {
	case OM_VERDICT_ACCEPT: c->st.accepted++; break;
	case OM_VERDICT_HOLD: c->st.held++; break;
	case OM_VERDICT_REJECT: c->st.rejected++; break;
	case OM_VERDICT_DROP: c->st.dropped++; break;
	}
}

int om_capture_verdict(om_capture *c, const om_capture_pkt *p, enum om_verdict v)
{
	if (c->ops->verdict)
		return c->ops->verdict(c, p, v);
	count(c, v); /* passive: what would have happened */
	return 0;
}

int om_capture_verdict_mark(om_capture *c, const om_capture_pkt *p, uint32_t mark)
{
	return c->ops->verdict_mark ? c->ops->verdict_mark(c, p, mark) : -EOPNOTSUPP;
}

int om_capture_verdict_id(om_capture *c, uint32_t id, enum om_verdict v)
{
	if (c->ops->verdict_id)
		return c->ops->verdict_id(c, id, v);
	return -ENOENT;
}

int om_capture_release(om_capture *c)
{
	return c->ops->release ? c->ops->release(c) : 0;
}

bool om_capture_is_inline(const om_capture *c)
{
	return c->is_inline;
}

bool om_capture_is_live(const om_capture *c)
{
	return c->is_live;
}

void om_capture_stats_get(const om_capture *c, om_capture_stats *ret)
{
	*ret = c->st;
}

om_capture *om_capture_close(om_capture *c)
{
	if (c)
		c->ops->close(c);
	return NULL;
}

const char *om_verdict_name(enum om_verdict v)
{
	switch (v) {
	case OM_VERDICT_ACCEPT: return "accept";
	case OM_VERDICT_HOLD: return "hold";
	case OM_VERDICT_REJECT: return "reject";
	case OM_VERDICT_DROP: return "drop";
	}
	return "?";
}
