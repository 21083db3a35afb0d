/* capture_afpacket.c: passive capture from an interface through an
 * AF_PACKET TPACKET_V3 ring. Every worker opens its own socket; sockets with
 * the same fanout group share the interface's traffic by flow hash
 * (PACKET_FANOUT_HASH, with defragmentation so that a datagram's fragments
 * land together), so each worker sees whole flows without a dispatcher.
 *
 * The ring is a set of blocks the kernel fills and hands over; a batch is
 * the packets of one block (at most max at a time), and release gives the
 * block back to the kernel once all of its packets were taken. */
#include "net/capture.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#define DLT_EN10MB_ 1
#define BLOCK_SIZE (1u << 20)
#define FRAME_SIZE 2048u
#define RING_DEFAULT (8u << 20)
#define RING_MAX (1u << 30)

struct afp_src {
	om_capture c;
	int fd;
	uint8_t *map;
	size_t map_len;
	unsigned nblocks, cur; /* the block being read */
	struct tpacket3_hdr *next_pkt;
	uint32_t left; /* packets of the current block not yet returned */
	bool in_block;
	uint32_t n;
};

static struct tpacket_block_desc *block(struct afp_src *a, unsigned i)
{
	return (struct tpacket_block_desc *)(a->map + (size_t)i * BLOCK_SIZE);
}

static int afp_next(om_capture *c, om_capture_pkt *pkts, unsigned max, int timeout_ms)
{
	struct afp_src *a = (struct afp_src *)c;
	if (!a->in_block) {
		struct tpacket_block_desc *b = block(a, a->cur);
		if (!(__atomic_load_n(&b->hdr.bh1.block_status, __ATOMIC_ACQUIRE) &
		      TP_STATUS_USER)) {
			struct pollfd pfd = {.fd = a->fd, .events = POLLIN | POLLERR};
			int r = poll(&pfd, 1, timeout_ms);
			if (r < 0)
				return errno == EINTR ? 0 : -errno;
			if (!(__atomic_load_n(&b->hdr.bh1.block_status, __ATOMIC_ACQUIRE) &
			      TP_STATUS_USER))
				return 0;
		}
		a->in_block = true;
		a->left = b->hdr.bh1.num_pkts;
		a->next_pkt =
		    (struct tpacket3_hdr *)((uint8_t *)b + b->hdr.bh1.offset_to_first_pkt);
	}
	unsigned n = 0;
	uint8_t *end = (uint8_t *)block(a, a->cur) + BLOCK_SIZE;
	while (n < max && a->left > 0) {
		struct tpacket3_hdr *h = a->next_pkt;
		/* the kernel wrote these, but a bad offset must not take us out
		 * of the block */
		if ((uint8_t *)h + sizeof(*h) > end ||
		    (uint8_t *)h + h->tp_mac + h->tp_snaplen > end) {
			a->left = 0;
			c->st.kernel_drops++;
			break;
		}
		pkts[n++] = (om_capture_pkt){
		    .data = (uint8_t *)h + h->tp_mac,
		    .caplen = h->tp_snaplen,
		    .wirelen = h->tp_len,
		    .ts = (om_usec)h->tp_sec * 1000000u + h->tp_nsec / 1000u,
		    .linktype = DLT_EN10MB_,
		    .id = ++a->n,
		};
		c->st.packets++;
		c->st.bytes += h->tp_snaplen;
		a->left--;
		a->next_pkt = h->tp_next_offset
		                  ? (struct tpacket3_hdr *)((uint8_t *)h + h->tp_next_offset)
		                  : h;
	}
	return (int)n;
}

static int afp_release(om_capture *c)
{
	struct afp_src *a = (struct afp_src *)c;
	if (a->in_block && a->left == 0) {
		struct tpacket_block_desc *b = block(a, a->cur);
		__atomic_store_n(&b->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
		a->in_block = false;
		a->cur = (a->cur + 1) % a->nblocks;
		struct tpacket_stats_v3 ks;
		socklen_t kl = sizeof(ks);
		if (getsockopt(a->fd, SOL_PACKET, PACKET_STATISTICS, &ks, &kl) == 0)
			c->st.kernel_drops += ks.tp_drops; /* reading resets them */
	}
	return 0;
}

static void afp_close(om_capture *c)
{
	struct afp_src *a = (struct afp_src *)c;
	if (a->map && a->map != MAP_FAILED)
		munmap(a->map, a->map_len);
	if (a->fd >= 0)
		close(a->fd);
	free(a);
}

static const struct capture_ops afp_ops = {
    .next = afp_next,
    .release = afp_release,
    .close = afp_close,
};

int om_capture_afpacket_open(const om_capture_opts *o, om_capture **ret, char *err, size_t errlen)
{
	int r;
	const char *step = "socket";
	struct afp_src *a = calloc(1, sizeof(*a));
	if (!a) {
		snprintf(err, errlen, "%s", om_tr("err.nomem"));
		return -ENOMEM;
	}
	a->c.ops = &afp_ops;
	a->c.is_live = true;
	a->fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	if (a->fd < 0)
		goto fail;
	unsigned ifindex = o->ifname ? if_nametoindex(o->ifname) : 0;
	if (!ifindex) {
		snprintf(err, errlen, om_tr("err.capture.ifname"), o->ifname ? o->ifname : "");
		r = -ENODEV;
		goto out;
	}
	int ver = TPACKET_V3;
	step = "PACKET_VERSION";
	if (setsockopt(a->fd, SOL_PACKET, PACKET_VERSION, &ver, sizeof(ver)) < 0)
		goto fail;
	uint32_t ring = o->ring_bytes ? o->ring_bytes : RING_DEFAULT;
	if (ring > RING_MAX)
		ring = RING_MAX;
	a->nblocks = ring / BLOCK_SIZE ? ring / BLOCK_SIZE : 1;
	struct tpacket_req3 req = {
	    .tp_block_size = BLOCK_SIZE,
	    .tp_block_nr = a->nblocks,
	    .tp_frame_size = FRAME_SIZE,
	    .tp_frame_nr = a->nblocks * (BLOCK_SIZE / FRAME_SIZE),
	    .tp_retire_blk_tov = 10, /* ms: a partly filled block is handed over */
	};
	step = "PACKET_RX_RING";
	if (setsockopt(a->fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req)) < 0)
		goto fail;
	a->map_len = (size_t)a->nblocks * BLOCK_SIZE;
	step = "mmap";
	a->map = mmap(NULL, a->map_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_LOCKED, a->fd, 0);
	if (a->map == MAP_FAILED)
		a->map = mmap(NULL, a->map_len, PROT_READ | PROT_WRITE, MAP_SHARED, a->fd, 0);
	if (a->map == MAP_FAILED)
		goto fail;
	struct sockaddr_ll sll = {
	    .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL), .sll_ifindex = (int)ifindex};
	step = "bind";
	if (bind(a->fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		goto fail;
	int fan = (int)o->fanout_group | ((PACKET_FANOUT_HASH | PACKET_FANOUT_FLAG_DEFRAG) << 16);
	step = "PACKET_FANOUT";
	if (setsockopt(a->fd, SOL_PACKET, PACKET_FANOUT, &fan, sizeof(fan)) < 0)
		goto fail;
	*ret = &a->c;
	return 0;
fail:
	r = -errno;
	snprintf(err, errlen, om_tr("err.capture.afpacket"), o->ifname ? o->ifname : "", step,
	         strerror(errno));
out:
	afp_close(&a->c);
	return r;
}
