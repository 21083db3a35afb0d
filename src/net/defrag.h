/* defrag.h: the interface between the packet decoder (decode.c) and IP
 * fragment reassembly (defrag.c). Private to src/net. */
#ifndef OMAMORI_NET_DEFRAG_H
#define OMAMORI_NET_DEFRAG_H

#include "net/net.h"

/* Largest datagram the decoder ever rebuilds: an IPv6 header plus a full
 * 65535-byte payload. */
#define OM_DEFRAG_OUT_MAX (40u + 65535u)
/* Largest IPv6 unfragmentable part (fixed header plus extension headers
 * before the fragment header) that a tracker keeps. */
#define OM_DEFRAG_HDR_MAX 256u

typedef struct om_defrag om_defrag;

/* One fragment as the decoder found it. */
typedef struct om_frag_in {
	om_usec ts;
	uint8_t ver;   /* 4 or 6 */
	uint8_t proto; /* IPv4: IP protocol; IPv6: next header of the fragment header */
	uint16_t vlan[OM_VLAN_MAX]; /* part of the key */
	uint32_t tunnel;            /* tunnel discriminator, part of the key */
	const om_addr *src, *dst;
	uint32_t id;        /* IPv4: 16-bit id; IPv6: 32-bit id */
	uint32_t off;       /* fragment offset in bytes */
	bool more;          /* more fragments follow */
	const uint8_t *hdr; /* IPv4 header, or IPv6 unfragmentable part */
	uint32_t hdr_len;
	uint32_t nh_off;     /* IPv6: offset in hdr of the next-header byte to patch */
	const uint8_t *data; /* fragment payload */
	uint32_t len;
} om_frag_in;

/* Returns NULL on allocation failure. */
om_defrag *om_defrag_new(uint64_t memcap, uint32_t max_trackers, uint32_t timeout);
om_defrag *om_defrag_free(om_defrag *df);
/* Drops trackers older than the timeout at capture time now. */
void om_defrag_expire(om_defrag *df, om_usec now, om_decode_stats *st);
/* Adds a fragment. Returns 1 when it is held, 0 when it completed a datagram
 * (written whole into out, OM_DEFRAG_OUT_MAX bytes, length in *ret_len) and
 * -EINVAL when it was dropped. *ret_anom is set to the anomaly raised, if any,
 * whatever the return value (an overlap does not stop reassembly). */
int om_defrag_insert(om_defrag *df, const om_frag_in *f, uint8_t *out, uint32_t *ret_len,
                     enum om_anomaly *ret_anom, om_decode_stats *st);

#endif
