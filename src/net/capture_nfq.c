/* capture_nfq.c: inline capture through one netfilter queue (NFQUEUE),
 * spoken to with libmnl and libnetfilter_queue. One queue per worker: the
 * ruleset sends traffic with `--queue-balance FIRST:LAST` (iptables-nft) or
 * `queue num FIRST-LAST fanout` (nft), so the kernel spreads flows over the
 * queues by flow hash and no dispatcher is needed.
 *
 * A batch is the packets of one recvmmsg on the netlink socket (up to 16
 * packets, each a datagram of its own; up to max at a time). Verdicts are
 * kept until release and sent in one sendmsg: one NFQNL_MSG_VERDICT_BATCH
 * (it covers every queued id up to the one it names) when all packets of
 * the batch pass and nothing is held, otherwise one verdict message per
 * packet. A held packet stays in the kernel queue, up to max_held of them;
 * the kernel's own queue length bounds the rest. With fail_open the kernel
 * accepts packets when the queue is full instead of dropping them. Reject
 * is a drop here: the engine sends the TCP reset or
 * ICMP error itself. */
#include "net/capture.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define DLT_RAW_ 101 /* libpcap's LINKTYPE_RAW (DLT_RAW is 12 or 14 by platform) */
/* A netlink read returns one queued packet (a datagram each), so a batch is
 * read with recvmmsg: up to RECV_MSGS packets of at most RECV_ONE bytes
 * each (the copy range caps the payload at 64 KiB, GSO segments included)
 * in one syscall. */
#define RECV_MSGS 16u
#define RECV_ONE (72u * 1024)
#define RECV_BYTES (RECV_MSGS * RECV_ONE)
#define BATCH_MAX 512u
#define HELD_DEFAULT 1024u
#define MSG_BYTES 8192 /* one config or verdict message and its answer */

struct pending {
	uint32_t id;
	uint8_t verdict;
	uint32_t mark; /* set with the accept; 0: none */
};

struct nfq_src {
	om_capture c;
	struct mnl_socket *nl;
	uint32_t portid;
	uint16_t queue;
	/* the last read: RECV_MSGS buffers; buffer cur's messages not yet
	 * returned start at off, buffer i holds mlen[i] bytes, nmsg were read */
	size_t len, off;
	unsigned cur, nmsg;
	size_t mlen[RECV_MSGS];
	struct pending pend[BATCH_MAX];
	unsigned npend;
	uint32_t *held;
	unsigned nheld, max_held;
	char *buf;  /* RECV_BYTES: RECV_MSGS buffers of RECV_ONE */
	char *sbuf; /* verdict messages: BATCH_MAX small ones */
};

static int nf_verdict(enum om_verdict v)
{
	return v == OM_VERDICT_ACCEPT ? NF_ACCEPT : NF_DROP;
}

static int send_cfg(struct nfq_src *q, struct nlmsghdr *nlh)
{
	if (mnl_socket_sendto(q->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	/* the kernel answers with an ack (NLM_F_ACK) that says whether it took it */
	char ack[MSG_BYTES];
	ssize_t n = mnl_socket_recvfrom(q->nl, ack, sizeof(ack));
	if (n < 0)
		return -errno;
	if (mnl_cb_run(ack, (size_t)n, 0, q->portid, NULL, NULL) < 0)
		return -errno;
	return 0;
}

/* Returns the next packet message of the current read, or NULL. */
static const struct nlmsghdr *next_msg(struct nfq_src *q)
{
	for (;;) {
		while (q->off < q->len) {
			const char *b = q->buf + (size_t)q->cur * RECV_ONE;
			const struct nlmsghdr *nlh = (const struct nlmsghdr *)(b + q->off);
			int left = (int)(q->len - q->off);
			if (!mnl_nlmsg_ok(nlh, left)) {
				q->off = q->len;
				break;
			}
			q->off += MNL_ALIGN(nlh->nlmsg_len);
			if ((nlh->nlmsg_type & 0xff) == NFQNL_MSG_PACKET)
				return nlh;
		}
		if (q->cur + 1 >= q->nmsg)
			return NULL;
		q->cur++;
		q->off = 0;
		q->len = q->mlen[q->cur];
	}
}

/* Reads what is queued, up to RECV_MSGS packets; -errno as recvmmsg. */
static int read_msgs(struct nfq_src *q, int fd)
{
	struct mmsghdr mm[RECV_MSGS];
	struct iovec iov[RECV_MSGS];
	memset(mm, 0, sizeof(mm));
	for (unsigned i = 0; i < RECV_MSGS; i++) {
		iov[i] = (struct iovec){q->buf + (size_t)i * RECV_ONE, RECV_ONE};
		mm[i].msg_hdr.msg_iov = &iov[i];
		mm[i].msg_hdr.msg_iovlen = 1;
	}
	int n = recvmmsg(fd, mm, RECV_MSGS, MSG_DONTWAIT, NULL);
	if (n <= 0)
		return n < 0 ? -errno : -EAGAIN;
	for (int i = 0; i < n; i++)
		q->mlen[i] = mm[i].msg_len;
	q->nmsg = (unsigned)n;
	q->cur = 0;
	q->off = 0;
	q->len = q->mlen[0];
	return n;
}

static int nfqsrc_next(om_capture *c, om_capture_pkt *pkts, unsigned max, int timeout_ms)
{
	struct nfq_src *q = (struct nfq_src *)c;
	if (max > BATCH_MAX - q->npend)
		max = BATCH_MAX - q->npend;
	if (q->off >= q->len && q->cur + 1 >= q->nmsg) {
		/* under load the socket has more: read first, wait only when it
		 * is empty (one syscall a batch instead of two) */
		int fd = mnl_socket_get_fd(q->nl);
		int n = read_msgs(q, fd);
		if (n == -EAGAIN) {
			struct pollfd pfd = {.fd = fd, .events = POLLIN};
			int r = poll(&pfd, 1, timeout_ms);
			if (r <= 0)
				return r < 0 && errno != EINTR ? -errno : 0;
			n = read_msgs(q, fd);
		}
		if (n < 0) {
			if (n == -ENOBUFS) { /* the socket overflowed: packets lost */
				c->st.kernel_drops++;
				return 0;
			}
			return n == -EAGAIN || n == -EINTR ? 0 : n;
		}
	}
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	om_usec ts = (om_usec)now.tv_sec * 1000000u + (om_usec)now.tv_nsec / 1000u;
	unsigned k = 0;
	const struct nlmsghdr *nlh;
	while (k < max && (nlh = next_msg(q)) != NULL) {
		struct nlattr *attr[NFQA_MAX + 1] = {NULL};
		if (nfq_nlmsg_parse(nlh, attr) < 0 || !attr[NFQA_PACKET_HDR])
			continue;
		const struct nfqnl_msg_packet_hdr *ph = mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);
		om_capture_pkt *p = &pkts[k++];
		memset(p, 0, sizeof(*p));
		p->id = ntohl(ph->packet_id);
		p->linktype = DLT_RAW_;
		p->ts = ts;
		if (attr[NFQA_PAYLOAD]) {
			p->data = mnl_attr_get_payload(attr[NFQA_PAYLOAD]);
			p->caplen = mnl_attr_get_payload_len(attr[NFQA_PAYLOAD]);
		}
		p->wirelen =
		    attr[NFQA_CAP_LEN] ? ntohl(mnl_attr_get_u32(attr[NFQA_CAP_LEN])) : p->caplen;
		if (attr[NFQA_MARK])
			p->mark = ntohl(mnl_attr_get_u32(attr[NFQA_MARK]));
		if (attr[NFQA_IFINDEX_INDEV])
			p->indev = ntohl(mnl_attr_get_u32(attr[NFQA_IFINDEX_INDEV]));
		if (attr[NFQA_IFINDEX_OUTDEV])
			p->outdev = ntohl(mnl_attr_get_u32(attr[NFQA_IFINDEX_OUTDEV]));
		/* until the engine says otherwise the packet passes */
		q->pend[q->npend++] = (struct pending){p->id, OM_VERDICT_ACCEPT, 0};
		c->st.packets++;
		c->st.bytes += p->caplen;
	}
	return (int)k;
}

static int nfqsrc_verdict(om_capture *c, const om_capture_pkt *p, enum om_verdict v)
{
	struct nfq_src *q = (struct nfq_src *)c;
	for (unsigned i = q->npend; i-- > 0;) {
		if (q->pend[i].id != p->id)
			continue;
		if (v == OM_VERDICT_HOLD && q->nheld >= q->max_held) {
			c->st.hold_overflows++; /* bounded: the packet passes */
			v = OM_VERDICT_ACCEPT;
		}
		q->pend[i].verdict = (uint8_t)v;
		q->pend[i].mark = 0;
		return 0;
	}
	return -ENOENT;
}

static int nfqsrc_verdict_mark(om_capture *c, const om_capture_pkt *p, uint32_t mark)
{
	struct nfq_src *q = (struct nfq_src *)c;
	for (unsigned i = q->npend; i-- > 0;) {
		if (q->pend[i].id != p->id)
			continue;
		q->pend[i].verdict = OM_VERDICT_ACCEPT;
		q->pend[i].mark = mark;
		return 0;
	}
	return -ENOENT;
}

static void put_verdict(struct nfq_src *q, struct mnl_nlmsg_batch *b, int type, uint32_t id,
                        int verdict, uint32_t mark)
{
	struct nlmsghdr *nlh = nfq_nlmsg_put(mnl_nlmsg_batch_current(b), type, q->queue);
	nfq_nlmsg_verdict_put(nlh, (int)id, verdict);
	if (mark)
		nfq_nlmsg_verdict_put_mark(nlh, mark);
	mnl_nlmsg_batch_next(b);
}

static int nfqsrc_release(om_capture *c)
{
	struct nfq_src *q = (struct nfq_src *)c;
	if (!q->npend)
		return 0;
	struct mnl_nlmsg_batch *b = mnl_nlmsg_batch_start(q->sbuf, (size_t)BATCH_MAX * 64);
	if (!b)
		return -ENOMEM;
	bool all_accept = q->nheld == 0;
	uint32_t maxid = 0;
	for (unsigned i = 0; i < q->npend && all_accept; i++) {
		all_accept = q->pend[i].verdict == OM_VERDICT_ACCEPT && !q->pend[i].mark;
		maxid = q->pend[i].id > maxid ? q->pend[i].id : maxid;
	}
	if (all_accept) {
		put_verdict(q, b, NFQNL_MSG_VERDICT_BATCH, maxid, NF_ACCEPT, 0);
		c->st.accepted += q->npend;
	} else {
		for (unsigned i = 0; i < q->npend; i++) {
			enum om_verdict v = q->pend[i].verdict;
			switch (v) {
			case OM_VERDICT_HOLD:
				q->held[q->nheld++] = q->pend[i].id;
				c->st.held++;
				continue;
			case OM_VERDICT_ACCEPT:
				c->st.accepted++;
				c->st.bypassed += q->pend[i].mark != 0;
				break;
			case OM_VERDICT_REJECT: c->st.rejected++; break;
			case OM_VERDICT_DROP: c->st.dropped++; break;
			}
			put_verdict(q, b, NFQNL_MSG_VERDICT, q->pend[i].id, nf_verdict(v),
			            q->pend[i].mark);
		}
	}
	int r = 0;
	size_t len = mnl_nlmsg_batch_size(b);
	if (len && mnl_socket_sendto(q->nl, mnl_nlmsg_batch_head(b), len) < 0) {
		r = -errno;
		c->st.verdict_errors += q->npend;
	}
	mnl_nlmsg_batch_stop(b);
	q->npend = 0;
	return r;
}

static int nfqsrc_verdict_id(om_capture *c, uint32_t id, enum om_verdict v)
{
	struct nfq_src *q = (struct nfq_src *)c;
	for (unsigned i = 0; i < q->nheld; i++) {
		if (q->held[i] != id)
			continue;
		q->held[i] = q->held[--q->nheld];
		char buf[MSG_BYTES];
		struct nlmsghdr *nlh = nfq_nlmsg_put(buf, NFQNL_MSG_VERDICT, q->queue);
		nfq_nlmsg_verdict_put(nlh, (int)id,
		                      nf_verdict(v == OM_VERDICT_HOLD ? OM_VERDICT_ACCEPT : v));
		if (v == OM_VERDICT_DROP || v == OM_VERDICT_REJECT)
			c->st.dropped++;
		else
			c->st.accepted++;
		if (mnl_socket_sendto(q->nl, nlh, nlh->nlmsg_len) < 0) {
			c->st.verdict_errors++;
			return -errno;
		}
		return 0;
	}
	return -ENOENT;
}

static void nfqsrc_close(om_capture *c)
{
	struct nfq_src *q = (struct nfq_src *)c;
	if (q->nl) {
		nfqsrc_release(c);
		/* what is still held passes: nobody is left to judge it */
		while (q->nheld)
			nfqsrc_verdict_id(c, q->held[0], OM_VERDICT_ACCEPT);
		char buf[MSG_BYTES];
		struct nlmsghdr *nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, q->queue);
		nfq_nlmsg_cfg_put_cmd(nlh, AF_INET, NFQNL_CFG_CMD_UNBIND);
		mnl_socket_sendto(q->nl, nlh, nlh->nlmsg_len);
		mnl_socket_close(q->nl);
	}
	free(q->held);
	free(q->buf);
	free(q->sbuf);
	free(q);
}

static const struct capture_ops nfq_ops = {
    .next = nfqsrc_next,
    .verdict = nfqsrc_verdict,
    .verdict_id = nfqsrc_verdict_id,
    .verdict_mark = nfqsrc_verdict_mark,
    .release = nfqsrc_release,
    .close = nfqsrc_close,
};

int om_capture_nfq_open(const om_capture_opts *o, om_capture **ret, char *err, size_t errlen)
{
	int r;
	const char *step = "socket";
	struct nfq_src *q = calloc(1, sizeof(*q));
	if (!q) {
		snprintf(err, errlen, "%s", om_tr("err.nomem"));
		return -ENOMEM;
	}
	q->c.ops = &nfq_ops;
	q->c.is_inline = q->c.is_live = true;
	q->queue = o->queue;
	q->max_held = o->max_held ? o->max_held : HELD_DEFAULT;
	q->held = calloc(q->max_held, sizeof(*q->held));
	q->buf = malloc(RECV_BYTES);
	q->sbuf = malloc((size_t)BATCH_MAX * 64);
	if (!q->held || !q->buf || !q->sbuf) {
		errno = ENOMEM;
		goto fail;
	}
	q->nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!q->nl)
		goto fail;
	step = "bind";
	if (mnl_socket_bind(q->nl, 0, MNL_SOCKET_AUTOPID) < 0)
		goto fail;
	q->portid = mnl_socket_get_portid(q->nl);
	int one = 1;
	mnl_socket_setsockopt(q->nl, NETLINK_NO_ENOBUFS, &one, sizeof(one));
	int rcv = 8 << 20;
	setsockopt(mnl_socket_get_fd(q->nl), SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof(rcv));

	char buf[MSG_BYTES];
	struct nlmsghdr *nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, q->queue);
	nlh->nlmsg_flags |= NLM_F_ACK;
	nfq_nlmsg_cfg_put_cmd(nlh, AF_INET, NFQNL_CFG_CMD_BIND);
	step = "NFQNL_CFG_CMD_BIND";
	if ((r = send_cfg(q, nlh)) < 0) {
		errno = -r;
		goto fail;
	}
	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, q->queue);
	nlh->nlmsg_flags |= NLM_F_ACK;
	nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, 0xffff);
	uint32_t flags = NFQA_CFG_F_GSO | (o->fail_open ? NFQA_CFG_F_FAIL_OPEN : 0);
	mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(flags));
	mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(NFQA_CFG_F_GSO | NFQA_CFG_F_FAIL_OPEN));
	nfq_nlmsg_cfg_put_qmaxlen(nlh, o->queue_maxlen ? o->queue_maxlen : 4096);
	step = "NFQNL_CFG_CMD_PARAMS";
	if ((r = send_cfg(q, nlh)) < 0) {
		errno = -r;
		goto fail;
	}
	*ret = &q->c;
	return 0;
fail:
	r = -errno;
	snprintf(err, errlen, om_tr("err.capture.nfqueue"), (unsigned)o->queue, step,
	         strerror(errno));
	nfqsrc_close(&q->c);
	return r;
}
