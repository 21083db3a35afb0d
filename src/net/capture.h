/* capture.h: private to net: the operations behind om_capture (net.h). */
#ifndef OMAMORI_NET_CAPTURE_H
#define OMAMORI_NET_CAPTURE_H

#include "net/net.h"

struct om_capture {
	const struct capture_ops *ops;
	om_capture_stats st;
	bool is_inline, is_live;
};

struct capture_ops {
	int (*next)(om_capture *c, om_capture_pkt *pkts, unsigned max, int timeout_ms);
	int (*verdict)(om_capture *c, const om_capture_pkt *p, enum om_verdict v);
	int (*verdict_id)(om_capture *c, uint32_t id, enum om_verdict v);
	int (*verdict_mark)(om_capture *c, const om_capture_pkt *p,
	                    uint32_t mark); /* may be NULL */
	int (*release)(om_capture *c);
	void (*close)(om_capture *c);
};

int om_capture_afpacket_open(const om_capture_opts *o, om_capture **ret, char *err, size_t errlen);
int om_capture_nfq_open(const om_capture_opts *o, om_capture **ret, char *err, size_t errlen);

#endif
