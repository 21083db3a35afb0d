/* defrag.c: IPv4 and IPv6 fragment reassembly for one decoder (one worker
 * thread).
 *
 * A tracker holds one datagram in progress, keyed by (version, source,
 * destination, id, protocol, VLAN ids, tunnel discriminator); IPv6 leaves the protocol out of the
 * key because RFC 8200 lets the fragment headers of one datagram carry
 * different next-header values and only the first fragment's counts.
 * Received bytes live in 1 KiB blocks indexed by offset; which bytes are
 * present is a sorted list of disjoint runs. Overlaps are resolved first-wins:
 * a byte already received is never replaced, and a fragment whose overlapping
 * bytes differ raises *_FRAG_OVERLAP once per datagram.
 *
 * Memory: trackers and blocks come from free lists, so after warm-up nothing
 * is allocated per packet. Everything malloc'd (trackers and blocks, whether
 * in use or pooled) is counted against memcap; when a new object would pass
 * it, the pools are returned to the system first and the fragment is dropped
 * if that is not enough. The hash table (one pointer per tracker) is the only
 * memory outside memcap. Trackers expire `timeout` seconds of capture time
 * after their first fragment, whatever arrives later. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "net/defrag.h"

#define BLK_SIZE 1024u
#define BLK_COUNT 64u /* BLK_COUNT * BLK_SIZE >= 65535 */
#define MAX_RUNS 64u  /* disjoint pieces of one datagram held at once */
#define IP_MAX 65535u

struct run {
	uint32_t start, end; /* [start, end) */
};

struct frag_key {
	uint8_t src[16], dst[16];
	uint32_t id;
	uint32_t tunnel;
	uint16_t vlan[OM_VLAN_MAX];
	uint8_t ver, proto; /* no padding: the key is hashed and compared as bytes */
};
_Static_assert(sizeof(struct frag_key) == 48, "frag_key has no padding");

typedef struct tracker {
	struct tracker *hnext;         /* hash chain, or free list */
	struct tracker *older, *newer; /* age list */
	struct frag_key key;
	uint32_t bucket;
	om_usec first;
	uint32_t total; /* payload length, known once the last fragment arrived */
	bool have_last;
	bool overlap_reported;
	uint8_t nh;       /* IPv6: next header of the first fragment */
	uint16_t hdr_len; /* 0 until the first fragment arrived */
	uint16_t nh_off;
	uint16_t nruns;
	struct run runs[MAX_RUNS];
	uint8_t *blk[BLK_COUNT];
	uint8_t hdr[OM_DEFRAG_HDR_MAX];
} tracker;

struct free_blk {
	struct free_blk *next;
};

struct om_defrag {
	uint64_t memcap, allocated;
	uint32_t max_trackers, ntrackers;
	om_usec timeout;
	om_hash_key key; /* random: packets choose the tracker key */
	tracker **buckets;
	uint32_t mask;
	tracker *oldest, *newest;
	tracker *free_trackers;
	struct free_blk *free_blocks;
};

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void wr16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

om_defrag *om_defrag_new(uint64_t memcap, uint32_t max_trackers, uint32_t timeout)
{
	om_defrag *df = calloc(1, sizeof(*df));
	if (!df)
		return NULL;
	uint32_t n = 16;
	while (n < max_trackers && n < (1u << 20))
		n <<= 1;
	df->buckets = calloc(n, sizeof(*df->buckets));
	if (!df->buckets) {
		free(df);
		return NULL;
	}
	df->mask = n - 1;
	df->memcap = memcap;
	df->max_trackers = max_trackers;
	df->timeout = (om_usec)timeout * 1000000u;
	(void)om_hash_key_random(&df->key); /* on failure still unknown remotely */
	return df;
}

/* Returns pooled memory to the system so that the other kind of object may
 * use the budget. */
static void pools_trim(om_defrag *df)
{
	while (df->free_trackers) {
		tracker *t = df->free_trackers;
		df->free_trackers = t->hnext;
		free(t);
		df->allocated -= sizeof(tracker);
	}
	while (df->free_blocks) {
		struct free_blk *b = df->free_blocks;
		df->free_blocks = b->next;
		free(b);
		df->allocated -= BLK_SIZE;
	}
}

static void *mem_get(om_defrag *df, size_t size)
{
	if (df->allocated + size > df->memcap) {
		pools_trim(df);
		if (df->allocated + size > df->memcap)
			return NULL;
	}
	void *m = malloc(size);
	if (m)
		df->allocated += size;
	return m;
}

static uint8_t *block_get(om_defrag *df)
{
	if (df->free_blocks) {
		struct free_blk *b = df->free_blocks;
		df->free_blocks = b->next;
		return (uint8_t *)b;
	}
	return mem_get(df, BLK_SIZE);
}

static void block_put(om_defrag *df, uint8_t *blk)
{
	struct free_blk *b = (struct free_blk *)(void *)blk;
	b->next = df->free_blocks;
	df->free_blocks = b;
}

static void tracker_release(om_defrag *df, tracker *t)
{
	tracker **pp = &df->buckets[t->bucket];
	while (*pp && *pp != t)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = t->hnext;
	if (t->older)
		t->older->newer = t->newer;
	else
		df->oldest = t->newer;
	if (t->newer)
		t->newer->older = t->older;
	else
		df->newest = t->older;
	for (uint32_t i = 0; i < BLK_COUNT; i++)
		if (t->blk[i])
			block_put(df, t->blk[i]);
	t->hnext = df->free_trackers;
	df->free_trackers = t;
	df->ntrackers--;
}

om_defrag *om_defrag_free(om_defrag *df)
{
	if (!df)
		return NULL;
	while (df->oldest)
		tracker_release(df, df->oldest);
	pools_trim(df);
	free(df->buckets);
	free(df);
	return NULL;
}

void om_defrag_expire(om_defrag *df, om_usec now, om_decode_stats *st)
{
	while (df->oldest && now >= df->oldest->first && now - df->oldest->first >= df->timeout) {
		tracker_release(df, df->oldest);
		st->frag_timeouts++;
	}
}

static tracker *tracker_find(om_defrag *df, const struct frag_key *k, uint32_t bucket)
{
	for (tracker *t = df->buckets[bucket]; t; t = t->hnext)
		if (memcmp(&t->key, k, sizeof(*k)) == 0)
			return t;
	return NULL;
}

static tracker *tracker_new(om_defrag *df, const struct frag_key *k, uint32_t bucket, om_usec now)
{
	if (df->ntrackers >= df->max_trackers)
		return NULL;
	tracker *t = df->free_trackers;
	if (t)
		df->free_trackers = t->hnext;
	else if (!(t = mem_get(df, sizeof(*t))))
		return NULL;
	memset(t, 0, offsetof(tracker, runs));
	memset(t->blk, 0, sizeof(t->blk));
	t->key = *k;
	t->bucket = bucket;
	t->first = now;
	t->hnext = df->buckets[bucket];
	df->buckets[bucket] = t;
	t->older = df->newest;
	if (df->newest)
		df->newest->newer = t;
	else
		df->oldest = t;
	df->newest = t;
	df->ntrackers++;
	return t;
}

static void bytes_write(tracker *t, uint32_t off, const uint8_t *src, uint32_t len)
{
	while (len) {
		uint32_t b = off / BLK_SIZE, o = off % BLK_SIZE;
		uint32_t n = BLK_SIZE - o < len ? BLK_SIZE - o : len;
		memcpy(t->blk[b] + o, src, n);
		off += n;
		src += n;
		len -= n;
	}
}

static bool bytes_differ(const tracker *t, uint32_t off, const uint8_t *src, uint32_t len)
{
	while (len) {
		uint32_t b = off / BLK_SIZE, o = off % BLK_SIZE;
		uint32_t n = BLK_SIZE - o < len ? BLK_SIZE - o : len;
		if (memcmp(t->blk[b] + o, src, n) != 0)
			return true;
		off += n;
		src += n;
		len -= n;
	}
	return false;
}

static void bytes_read(const tracker *t, uint8_t *dst, uint32_t len)
{
	for (uint32_t off = 0; off < len;) {
		uint32_t n = len - off < BLK_SIZE ? len - off : BLK_SIZE;
		memcpy(dst + off, t->blk[off / BLK_SIZE], n);
		off += n;
	}
}

/* Adds [s, e) first-wins. Returns 0, or -ENOSPC / -ENOMEM when the run list
 * or the memory budget is exhausted (the tracker must then be dropped). */
static int insert_bytes(om_defrag *df, tracker *t, uint32_t s, uint32_t e, const uint8_t *src,
                        bool *differ)
{
	uint32_t n = t->nruns, i = 0, j;
	while (i < n && t->runs[i].end < s)
		i++;
	j = i;
	while (j < n && t->runs[j].start <= e)
		j++;
	if (n - (j - i) + 1 > MAX_RUNS)
		return -ENOSPC;
	for (uint32_t b = s / BLK_SIZE; b <= (e - 1) / BLK_SIZE; b++)
		if (!t->blk[b] && !(t->blk[b] = block_get(df)))
			return -ENOMEM;

	uint32_t pos = s;
	for (uint32_t k = i; k < j; k++) {
		uint32_t rs = t->runs[k].start, re = t->runs[k].end;
		if (rs > pos) {
			uint32_t we = rs < e ? rs : e;
			bytes_write(t, pos, src + (pos - s), we - pos);
		}
		uint32_t os = rs > s ? rs : s, oe = re < e ? re : e;
		if (os < oe && bytes_differ(t, os, src + (os - s), oe - os))
			*differ = true;
		if (re > pos)
			pos = re;
	}
	if (pos < e)
		bytes_write(t, pos, src + (pos - s), e - pos);

	struct run m = {s, e};
	if (i < j) {
		if (t->runs[i].start < m.start)
			m.start = t->runs[i].start;
		if (t->runs[j - 1].end > m.end)
			m.end = t->runs[j - 1].end;
	}
	memmove(&t->runs[i + 1], &t->runs[j], (n - j) * sizeof(struct run));
	t->runs[i] = m;
	t->nruns = (uint16_t)(n - (j - i) + 1);
	return 0;
}

static void ipv4_checksum(uint8_t *h, uint32_t hlen)
{
	uint32_t sum = 0;
	h[10] = h[11] = 0;
	for (uint32_t i = 0; i + 1 < hlen; i += 2)
		sum += rd16(h + i);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	wr16(h + 10, ~sum & 0xffff);
}

int om_defrag_insert(om_defrag *df, const om_frag_in *f, uint8_t *out, uint32_t *ret_len,
                     enum om_anomaly *ret_anom, om_decode_stats *st)
{
	const bool v4 = f->ver == 4;
	const enum om_anomaly a_overlap =
	    v4 ? OM_ANOM_IPV4_FRAG_OVERLAP : OM_ANOM_IPV6_FRAG_OVERLAP;
	const enum om_anomaly a_large =
	    v4 ? OM_ANOM_IPV4_FRAG_TOO_LARGE : OM_ANOM_IPV6_FRAG_TOO_LARGE;
	/* bytes of the rebuilt datagram that count against the 65535 limit
	 * besides the fragment data: the IPv4 header, or the IPv6 extension
	 * headers (the payload length excludes the fixed 40 bytes) */
	const uint32_t extra = v4 ? f->hdr_len : f->hdr_len - 40;
	uint32_t s = f->off, e = f->off + f->len;

	*ret_anom = OM_ANOM_NONE;
	st->frag_received++;
	if (e + extra > IP_MAX || (s == 0 && f->hdr_len > OM_DEFRAG_HDR_MAX)) {
		*ret_anom = a_large;
		return -EINVAL;
	}

	struct frag_key k;
	memset(&k, 0, sizeof(k));
	memcpy(k.src, f->src->b, 16);
	memcpy(k.dst, f->dst->b, 16);
	k.id = f->id;
	memcpy(k.vlan, f->vlan, sizeof(k.vlan));
	k.tunnel = f->tunnel;
	k.ver = f->ver;
	k.proto = v4 ? f->proto : 0;
	uint32_t bucket = (uint32_t)om_siphash(&df->key, &k, sizeof(k)) & df->mask;
	tracker *t = tracker_find(df, &k, bucket);
	if (!t && !(t = tracker_new(df, &k, bucket, f->ts))) {
		*ret_anom = OM_ANOM_FRAG_MEMCAP;
		st->frag_memcap_hits++;
		return 1;
	}

	bool differ = false;
	if (!f->more) {
		if (t->have_last) {
			if (e != t->total)
				goto conflict;
		} else if (t->nruns && t->runs[t->nruns - 1].end > e) {
			goto conflict;
		} else {
			t->have_last = true;
			t->total = e;
		}
	} else if (t->have_last && e > t->total) {
		/* data past the end already announced: keep what fits */
		differ = true;
		if (s >= t->total)
			goto conflict;
		e = t->total;
	}

	if (s == 0 && t->hdr_len == 0) {
		memcpy(t->hdr, f->hdr, f->hdr_len);
		t->hdr_len = (uint16_t)f->hdr_len;
		t->nh_off = (uint16_t)f->nh_off;
		t->nh = f->proto;
	}
	if (s < e && insert_bytes(df, t, s, e, f->data, &differ) < 0) {
		tracker_release(df, t);
		*ret_anom = OM_ANOM_FRAG_MEMCAP;
		st->frag_memcap_hits++;
		return 1;
	}
	if (differ && !t->overlap_reported) {
		t->overlap_reported = true;
		*ret_anom = a_overlap;
	}

	if (!t->have_last || !t->hdr_len || t->nruns != 1 || t->runs[0].start != 0 ||
	    t->runs[0].end != t->total)
		return 1;

	/* complete */
	uint32_t hl = t->hdr_len, total = t->total;
	if (total + (v4 ? hl : hl - 40) > IP_MAX) {
		tracker_release(df, t);
		if (*ret_anom == OM_ANOM_NONE)
			*ret_anom = a_large;
		return -EINVAL;
	}
	memcpy(out, t->hdr, hl);
	bytes_read(t, out + hl, total);
	if (v4) {
		wr16(out + 2, hl + total);
		out[6] &= 0x40; /* keep DF, clear MF and the offset */
		out[7] = 0;
		ipv4_checksum(out, hl);
	} else {
		wr16(out + 4, hl - 40 + total);
		out[t->nh_off] = t->nh;
	}
	*ret_len = hl + total;
	tracker_release(df, t);
	st->frag_reassembled++;
	return 0;

conflict:
	if (!t->overlap_reported) {
		t->overlap_reported = true;
		*ret_anom = a_overlap;
	}
	return 1;
}
