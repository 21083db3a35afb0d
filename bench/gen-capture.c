/* gen-capture: writes a deterministic synthetic pcap for the throughput
 * benchmark. The traffic is an office uplink seen from a tap next to the
 * clients: TCP connections (HTTP, TLS, SSH, other) with handshakes, slow
 * start, MTU-sized segments both ways, a few percent of out-of-order and
 * retransmitted segments, FIN/RST closes and abandoned connections; DNS and
 * NTP over UDP; ICMP echo; IPv4 and IPv6; some 802.1Q-tagged hosts. Flows
 * arrive as a Poisson process whose rate is tuned so that the capture carries
 * the requested average bit rate; each flow then advances one round trip at a
 * time from an event heap, so thousands of flows are interleaved.
 *
 * With -m the same office uses its application protocols more (the "mail and
 * web heavy" capture of the app-layer benchmark): more TCP flows, of which
 * TLS 30 %, HTTP 45 %, SMTP 20 % (a session with EHLO, MAIL, RCPT and DATA
 * carrying a MIME message with a base64 attachment) and SSH 5 %, and more
 * DNS.
 *
 * Usage: gen-capture [-s SEED] [-r AVG_MBPS] [-l LINK_MBPS] [-m] OUTPUT SIZE
 *        gen-capture -c FLOWS [-s SEED] [-l LINK_MBPS] OUTPUT
 *        gen-capture -f SYNS [-u] [-n ROUNDS] [-s SEED] OUTPUT
 * The second form writes a "many concurrent flows" capture instead: FLOWS
 * short TCP connections that are all open at the same time, then all close
 * (see conc_run below). The third writes a hash collision flood: SYNS IPv6
 * SYNs whose flow keys all had one bucket hash under omamori's old fixed
 * seed, each sent ROUNDS times (default 1); with -u the same packets with
 * random client addresses instead, as the comparison (see flood_run).
 * SIZE takes K/M/G suffixes (powers of 1024). The same arguments always give
 * the same bytes. Statistics go to stderr. The pcap format (microsecond
 * timestamps, Ethernet) is written directly: it is a 24-byte file header and
 * a 16-byte header before each packet. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SNAPLEN 65535u
#define MAX_FRAME 1600u
#define MTU 1500u
#define START_SEC 1711933200ull /* 2024-04-01 01:00:00 UTC */
#define BLOCK_SIZE (1u << 18)   /* payload source blocks, 256 KiB each */
#define NO_FLOW UINT32_MAX
#define TLS_REC 16384u

/* ---- PRNG: xoshiro256**, seeded through splitmix64 -------------------- */
typedef struct rng {
	uint64_t s[4];
} rng;

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void rng_seed(rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
}

static inline uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(rng *r)
{
	uint64_t *s = r->s;
	uint64_t res = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return res;
}

/* uniform in [0, 1) */
static double rng_unit(rng *r)
{
	return (double)(rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

/* uniform integer in [lo, hi] */
static uint64_t rng_range(rng *r, uint64_t lo, uint64_t hi)
{
	return lo + rng_next(r) % (hi - lo + 1);
}

/* log-uniform in [lo, hi]: many small values, a long tail of large ones */
static uint64_t rng_logu(rng *r, double lo, double hi)
{
	return (uint64_t)exp(log(lo) + rng_unit(r) * (log(hi) - log(lo)));
}

static bool rng_chance(rng *r, double p)
{
	return rng_unit(r) < p;
}

/* skewed index in [0, n): low indices are popular */
static uint32_t rng_popular(rng *r, uint32_t n)
{
	double u = rng_unit(r);
	return (uint32_t)(u * u * u * n);
}

/* ---- hosts --------------------------------------------------------------- */
#define N_CLIENTS 1200u
#define N_SERVERS 40000u
#define N_SERVERS6 8000u

typedef struct client {
	uint8_t ip4[4], ip6[16], mac[6];
	uint16_t vlan; /* 0: untagged */
	bool has6;
	uint8_t ttl;
} client;

static const uint8_t GW_MAC[6] = {0x00, 0x1b, 0x21, 0x3a, 0x4f, 0x01};
static const uint8_t RESOLVER4[2][4] = {{192, 168, 1, 1}, {203, 0, 113, 53}};
static const uint8_t RESOLVER6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0x53, 0, 0,
                                      0,    0,    0,    0,    0, 0,    0, 0x53};

typedef struct world {
	client clients[N_CLIENTS];
	uint8_t srv4[N_SERVERS][4];
	uint8_t srv6[N_SERVERS6][16];
	uint8_t text[BLOCK_SIZE];   /* HTML-ish text for HTTP bodies */
	uint8_t random[BLOCK_SIZE]; /* incompressible bytes for TLS/SSH/other */
	uint8_t b64[BLOCK_SIZE];    /* base64 lines (76 + CRLF) for mail attachments */
} world;

static bool public_v4(const uint8_t a[4])
{
	if (a[0] == 0 || a[0] == 10 || a[0] == 127 || a[0] >= 224)
		return false;
	if (a[0] == 172 && (a[1] & 0xf0) == 16)
		return false;
	if (a[0] == 192 && a[1] == 168)
		return false;
	if (a[0] == 169 && a[1] == 254)
		return false;
	if (a[0] == 100 && (a[1] & 0xc0) == 64)
		return false;
	return true;
}

static const char *const WORDS[] = {
    "the",      "and",     "sakura",  "report", "news",  "login",   "product", "price",
    "order",    "contact", "support", "tokyo",  "osaka", "company", "service", "update",
    "download", "privacy", "about",   "search", "menu",  "item",    "shop",    "cart",
    "account",  "help",    "blog",    "event",  "index",
};
#define N_WORDS (sizeof(WORDS) / sizeof(WORDS[0]))

static void world_init(world *w, rng *r)
{
	for (uint32_t i = 0; i < N_CLIENTS; i++) {
		client *c = &w->clients[i];
		/* 92% on the untagged office LANs, 8% on a tagged VLAN */
		if (i % 25 < 23) {
			c->ip4[0] = 192, c->ip4[1] = 168, c->ip4[2] = (uint8_t)(1 + i % 2);
			c->vlan = 0;
		} else {
			c->ip4[0] = 192, c->ip4[1] = 168, c->ip4[2] = 30;
			c->vlan = (i % 2) ? 30 : 40;
			c->ip4[2] = (uint8_t)c->vlan;
		}
		c->ip4[3] = (uint8_t)(10 + (i / 2) % 240);
		c->has6 = (i % 4) == 0;
		static const uint8_t pfx6[8] = {0x20, 0x01, 0x0d, 0xb8, 0x00, 0x10, 0x00, 0x01};
		memcpy(c->ip6, pfx6, 8);
		for (int k = 8; k < 16; k++)
			c->ip6[k] = (uint8_t)rng_next(r);
		c->mac[0] = 0x02, c->mac[1] = 0x00;
		c->mac[2] = (uint8_t)(i >> 8), c->mac[3] = (uint8_t)i;
		c->mac[4] = (uint8_t)rng_next(r), c->mac[5] = (uint8_t)rng_next(r);
		c->ttl = (i % 3) ? 128 : 64;
	}
	for (uint32_t i = 0; i < N_SERVERS; i++) {
		do {
			uint32_t v = (uint32_t)rng_next(r);
			w->srv4[i][0] = (uint8_t)(v >> 24), w->srv4[i][1] = (uint8_t)(v >> 16);
			w->srv4[i][2] = (uint8_t)(v >> 8), w->srv4[i][3] = (uint8_t)v;
		} while (!public_v4(w->srv4[i]));
	}
	for (uint32_t i = 0; i < N_SERVERS6; i++) {
		w->srv6[i][0] = 0x20, w->srv6[i][1] = 0x01, w->srv6[i][2] = 0x0d,
		w->srv6[i][3] = 0xb8;
		for (int k = 4; k < 16; k++)
			w->srv6[i][k] = (uint8_t)rng_next(r);
	}
	for (uint32_t i = 0; i < BLOCK_SIZE; i++)
		w->random[i] = (uint8_t)(rng_next(r) >> 24);
	uint32_t n = 0;
	static const char *const tags[] = {"<p>", "</p>\n", "<div class=\"item\">", "</div>\n", " ",
	                                   " ",   " "};
	while (n < BLOCK_SIZE) {
		const char *s =
		    (rng_next(r) % 4) ? WORDS[rng_next(r) % N_WORDS] : tags[rng_next(r) % 7];
		size_t l = strlen(s);
		for (size_t k = 0; k < l && n < BLOCK_SIZE; k++)
			w->text[n++] = (uint8_t)s[k];
		if (n < BLOCK_SIZE)
			w->text[n++] = ' ';
	}
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	for (uint32_t i = 0, col = 0; i < BLOCK_SIZE; i++) {
		if (col == 76) {
			w->b64[i] = '\r';
			col++;
		} else if (col == 77) {
			w->b64[i] = '\n';
			col = 0;
		} else {
			w->b64[i] = (uint8_t)b64[rng_next(r) & 63];
			col++;
		}
	}
}

/* A host name for a server index, stable across the file. */
static void server_name(uint32_t idx, char *buf, size_t n)
{
	static const char *const sub[] = {"www",    "api",  "cdn",   "img",
	                                  "static", "mail", "login", "update"};
	static const char *const syl[] = {"ka", "mi", "to",  "ra", "ne", "so",
	                                  "ku", "ya", "shi", "ta", "no", "ri"};
	static const char *const tld[] = {"jp", "co.jp", "com", "net", "ne.jp", "org"};
	uint64_t x = idx * 0x9e3779b97f4a7c15ull + 12345;
	uint64_t h = splitmix64(&x);
	char dom[32];
	int len = 0, nsyl = 2 + (int)(h % 3);
	h >>= 2;
	for (int i = 0; i < nsyl; i++, h >>= 4)
		len += snprintf(dom + len, sizeof(dom) - (size_t)len, "%s", syl[h % 12]);
	snprintf(buf, n, "%s.%s%" PRIu32 ".%s", sub[h % 8], dom, idx % 97, tld[(h >> 3) % 6]);
}

/* ---- flows ------------------------------------------------------------------ */
enum kind { K_TCP, K_DNS, K_NTP, K_ICMP };
enum app { A_HTTP, A_TLS, A_SSH, A_RAW, A_SMTP };
#define N_APPS 5
enum tstate { T_SYN, T_SYNACK, T_DATA, T_CLOSE1, T_CLOSE2, T_CLOSE3, T_DONE };
enum how { H_FIN, H_RST, H_ABANDON, H_NOANSWER, H_REFUSED };

#define PRE_MAX 480u

typedef struct flow {
	uint8_t kind, app, v6, state, how, dir, syn_tries, server_closes;
	uint16_t vlan, cport, sport, cwnd, cwnd_max, rounds_left, ipid[2], mss, steps;
	uint32_t client_idx, server_idx, rtt_us, seed;
	uint8_t cip[16], sip[16];
	uint32_t isn[2];
	uint32_t pos[2];         /* stream bytes sent so far, relative to isn + 1 */
	uint32_t round_start[2]; /* stream position where the current round began */
	uint32_t round_len[2];   /* bytes of the current round (prefix + body) */
	uint16_t pre_len[2];
	uint8_t pre[2][PRE_MAX];
	uint8_t post_len[2]; /* the round ends with these bytes (after the body) */
	uint8_t post[2][48];
	uint32_t next_free;
} flow;

typedef struct event {
	uint64_t t;
	uint32_t flow; /* NO_FLOW: the next flow arrival */
	uint32_t seq;  /* tie-break, keeps the order deterministic */
} event;

typedef struct stats {
	uint64_t pkts, data_bytes, file_bytes;
	uint64_t flows[4], apps[N_APPS], v6_flows, vlan_flows, hows[5];
	uint64_t segs, ooo, retx, vlan_pkts, v6_pkts, max_active, active;
	uint64_t frame_hist[4]; /* <=128, <=576, <1500, >=1500 */
} stats;

typedef struct gen {
	rng r;
	world *w;
	FILE *out;
	uint64_t limit;     /* stop when this many file bytes are written */
	bool mix;           /* -m: the application-heavy mix */
	double avg_bps;     /* target average bit rate */
	double link_bps;    /* link speed: spacing within bursts */
	uint64_t link_free; /* ns: when the link is next idle */
	uint64_t last_ts;   /* ns of the last written packet */
	double mean_flow_bytes, planned_sum;
	flow *flows;
	uint32_t nflows, capflows, free_head;
	event *heap;
	uint32_t nheap, capheap, evseq;
	stats st;
	uint8_t frame[MAX_FRAME];
} gen;

/* ---- event heap ---------------------------------------------------------- */
static bool ev_less(const event *a, const event *b)
{
	return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

static void heap_push(gen *g, uint64_t t, uint32_t fl)
{
	if (g->nheap == g->capheap) {
		uint32_t cap = g->capheap ? g->capheap * 2 : 4096;
		event *h = realloc(g->heap, (size_t)cap * sizeof(*h));
		if (!h) {
			fprintf(stderr, "gen-capture: out of memory\n");
			exit(1);
		}
		g->heap = h, g->capheap = cap;
	}
	event e = {t, fl, g->evseq++};
	uint32_t i = g->nheap++;
	while (i > 0) {
		uint32_t p = (i - 1) / 2;
		if (!ev_less(&e, &g->heap[p]))
			break;
		g->heap[i] = g->heap[p];
		i = p;
	}
	g->heap[i] = e;
}

static event heap_pop(gen *g)
{
	event top = g->heap[0], last = g->heap[--g->nheap];
	uint32_t i = 0, n = g->nheap;
	for (;;) {
		uint32_t c = 2 * i + 1;
		if (c >= n)
			break;
		if (c + 1 < n && ev_less(&g->heap[c + 1], &g->heap[c]))
			c++;
		if (!ev_less(&g->heap[c], &last))
			break;
		g->heap[i] = g->heap[c];
		i = c;
	}
	if (n)
		g->heap[i] = last;
	return top;
}

/* ---- flow pool ----------------------------------------------------------------- */
static uint32_t flow_alloc(gen *g)
{
	uint32_t i;
	if (g->free_head != NO_FLOW) {
		i = g->free_head;
		g->free_head = g->flows[i].next_free;
	} else {
		if (g->nflows == g->capflows) {
			uint32_t cap = g->capflows ? g->capflows * 2 : 4096;
			flow *f = realloc(g->flows, (size_t)cap * sizeof(*f));
			if (!f) {
				fprintf(stderr, "gen-capture: out of memory\n");
				exit(1);
			}
			g->flows = f, g->capflows = cap;
		}
		i = g->nflows++;
	}
	memset(&g->flows[i], 0, sizeof(flow));
	if (++g->st.active > g->st.max_active)
		g->st.max_active = g->st.active;
	return i;
}

static void flow_release(gen *g, uint32_t i)
{
	g->flows[i].next_free = g->free_head;
	g->free_head = i;
	g->st.active--;
}

/* ---- packet writing -------------------------------------------------------------- */
static inline void put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8), p[1] = (uint8_t)v;
}

static inline void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8),
	p[3] = (uint8_t)v;
}

static uint64_t csum_add(uint64_t sum, const uint8_t *p, size_t n)
{
	while (n > 1) {
		sum += (uint32_t)p[0] << 8 | p[1];
		p += 2, n -= 2;
	}
	if (n)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

static uint16_t csum_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void write_or_die(gen *g, const void *p, size_t n)
{
	if (fwrite(p, 1, n, g->out) != n) {
		fprintf(stderr, "gen-capture: write failed: %s\n", strerror(errno));
		exit(1);
	}
}

/* Writes the frame at time t (ns, or later if the link is busy); returns the
 * time the frame has left the wire. */
static uint64_t emit(gen *g, uint64_t t, size_t len, bool v6, bool vlan)
{
	if (t < g->link_free)
		t = g->link_free;
	if (t < g->last_ts)
		t = g->last_ts;
	/* preamble + FCS + inter-frame gap = 24 bytes on the wire */
	uint64_t wire_ns = (uint64_t)((double)(len + 24) * 8e9 / g->link_bps);
	g->link_free = t + wire_ns;
	g->last_ts = t;
	uint8_t rec[16];
	uint64_t sec = START_SEC + t / 1000000000ull, usec = (t % 1000000000ull) / 1000;
	/* pcap record header is in the writer's byte order: little endian here */
	uint32_t v[4] = {(uint32_t)sec, (uint32_t)usec, (uint32_t)len, (uint32_t)len};
	for (int i = 0; i < 4; i++) {
		rec[4 * i] = (uint8_t)v[i], rec[4 * i + 1] = (uint8_t)(v[i] >> 8);
		rec[4 * i + 2] = (uint8_t)(v[i] >> 16), rec[4 * i + 3] = (uint8_t)(v[i] >> 24);
	}
	write_or_die(g, rec, 16);
	write_or_die(g, g->frame, len);
	g->st.pkts++;
	g->st.data_bytes += len;
	g->st.file_bytes += 16 + len;
	g->st.v6_pkts += v6;
	g->st.vlan_pkts += vlan;
	g->st.frame_hist[len <= 128 ? 0 : len <= 576 ? 1 : len < 1500 ? 2 : 3]++;
	return g->link_free;
}

/* Ethernet (+802.1Q) and IP headers for a packet of flow f in direction dir
 * (0: client to server) carrying l4len bytes of protocol proto. Returns the
 * offset of the L4 header. */
static size_t build_l3(gen *g, flow *f, int dir, uint8_t proto, size_t l4len)
{
	uint8_t *b = g->frame;
	const client *c = &g->w->clients[f->client_idx];
	memcpy(b, dir ? c->mac : GW_MAC, 6);
	memcpy(b + 6, dir ? GW_MAC : c->mac, 6);
	size_t o = 12;
	if (f->vlan) {
		put16(b + o, 0x8100);
		put16(b + o + 2, f->vlan);
		o += 4;
	}
	const uint8_t *src = dir ? f->sip : f->cip, *dst = dir ? f->cip : f->sip;
	if (f->v6) {
		put16(b + o, 0x86dd);
		o += 2;
		put32(b + o, 0x60000000u | (f->seed & 0xfffff));
		put16(b + o + 4, (uint32_t)l4len);
		b[o + 6] = proto;
		b[o + 7] = dir ? 52 : 64;
		memcpy(b + o + 8, src, 16);
		memcpy(b + o + 24, dst, 16);
		return o + 40;
	}
	put16(b + o, 0x0800);
	o += 2;
	uint8_t *ip = b + o;
	ip[0] = 0x45, ip[1] = 0;
	put16(ip + 2, (uint32_t)(20 + l4len));
	put16(ip + 4, f->ipid[dir]++);
	put16(ip + 6, proto == 6 ? 0x4000 : 0);
	ip[8] = dir ? 53 : c->ttl;
	ip[9] = proto;
	put16(ip + 10, 0);
	memcpy(ip + 12, src, 4);
	memcpy(ip + 16, dst, 4);
	put16(ip + 10, csum_fold(csum_add(0, ip, 20)));
	return o + 20;
}

/* L4 checksum with the IPv4/IPv6 pseudo header. */
static void l4_csum(gen *g, flow *f, int dir, uint8_t proto, size_t l4off, size_t l4len,
                    size_t csum_at)
{
	uint8_t *b = g->frame;
	uint64_t s = 0;
	const uint8_t *src = dir ? f->sip : f->cip, *dst = dir ? f->cip : f->sip;
	if (!(proto == 1)) { /* ICMPv4 has no pseudo header */
		size_t al = f->v6 ? 16 : 4;
		s = csum_add(s, src, al);
		s = csum_add(s, dst, al);
		s += proto;
		s += l4len;
	}
	put16(b + l4off + csum_at, 0);
	uint16_t c = csum_fold(csum_add(s, b + l4off, l4len));
	if (proto == 17 && c == 0)
		c = 0xffff;
	put16(b + l4off + csum_at, c);
}

/* ---- payload -------------------------------------------------------------------- */
/* Copies len bytes of the current round of direction dir, starting at round
 * offset off: the prefix (request line, TLS hello...) then the body. The
 * bytes depend only on (flow, round, offset): a retransmission is identical. */
static void fill_payload(gen *g, flow *f, int dir, uint32_t off, uint8_t *dst, uint32_t len)
{
	while (len && off < f->pre_len[dir]) {
		*dst++ = f->pre[dir][off++];
		len--;
	}
	if (!len)
		return;
	uint32_t post_at = f->round_len[dir] - f->post_len[dir];
	if (off + len > post_at) { /* the end of the round: its fixed bytes */
		uint32_t from = off > post_at ? off : post_at;
		uint32_t k = off + len - from;
		memcpy(dst + (from - off), f->post[dir] + (from - post_at), k);
		len -= k;
		if (!len)
			return;
	}
	const uint8_t *blk = f->app == A_HTTP   ? g->w->text
	                     : f->app == A_SMTP ? g->w->b64
	                                        : g->w->random;
	uint32_t boff = off - f->pre_len[dir];
	uint32_t blen = f->round_len[dir] - f->pre_len[dir];
	uint32_t seed = f->seed + (uint32_t)dir * 7919u + f->round_start[dir];
	while (len) {
		uint32_t n = len;
		if (f->app == A_TLS) {
			/* application_data records of up to 16 KiB */
			uint32_t rec = boff / (TLS_REC + 5), in = boff % (TLS_REC + 5);
			if (in < 5) {
				uint32_t rstart = rec * (TLS_REC + 5);
				uint32_t rlen =
				    blen - rstart - 5 < TLS_REC ? blen - rstart - 5 : TLS_REC;
				uint8_t h[5] = {0x17, 0x03, 0x03, (uint8_t)(rlen >> 8),
				                (uint8_t)rlen};
				*dst++ = h[in];
				boff++, len--;
				continue;
			}
			if (n > TLS_REC + 5 - in)
				n = TLS_REC + 5 - in;
		}
		uint32_t p = (seed + boff) % BLOCK_SIZE;
		if (n > BLOCK_SIZE - p)
			n = BLOCK_SIZE - p;
		memcpy(dst, blk + p, n);
		dst += n, boff += n, len -= n;
	}
}

static uint32_t tls_client_hello(uint8_t *p, const char *sni, rng *r)
{
	size_t sl = strlen(sni);
	uint8_t *q = p + 9; /* record 5 + handshake header 4 */
	*q++ = 3, *q++ = 3;
	for (int i = 0; i < 32; i++)
		*q++ = (uint8_t)rng_next(r);
	*q++ = 32;
	for (int i = 0; i < 32; i++)
		*q++ = (uint8_t)rng_next(r);
	static const uint8_t suites[] = {0x13, 0x01, 0x13, 0x02, 0x13, 0x03, 0xc0,
	                                 0x2b, 0xc0, 0x2f, 0xc0, 0x2c, 0xc0, 0x30};
	put16(q, sizeof(suites));
	q += 2;
	memcpy(q, suites, sizeof(suites));
	q += sizeof(suites);
	*q++ = 1, *q++ = 0; /* compression: null */
	uint8_t *ext_len = q;
	q += 2;
	put16(q, 0); /* server_name */
	put16(q + 2, (uint32_t)(sl + 5));
	put16(q + 4, (uint32_t)(sl + 3));
	q[6] = 0;
	put16(q + 7, (uint32_t)sl);
	memcpy(q + 9, sni, sl);
	q += 9 + sl;
	static const uint8_t more[] = {
	    0x00, 0x0a, 0x00, 0x06, 0x00, 0x04, 0x00, 0x1d, 0x00, 0x17, /* groups */
	    0x00, 0x0d, 0x00, 0x06, 0x00, 0x04, 0x04, 0x03, 0x08, 0x04, /* sig algs */
	    0x00, 0x2b, 0x00, 0x05, 0x04, 0x03, 0x04, 0x03, 0x03,       /* versions */
	    0x00, 0x10, 0x00, 0x0b, 0x00, 0x09, 0x08, 'h',  't',  't',  'p', '/', '1', '.', '1'};
	memcpy(q, more, sizeof(more));
	q += sizeof(more);
	put16(ext_len, (uint32_t)(q - ext_len - 2));
	uint32_t hs = (uint32_t)(q - p - 9);
	p[0] = 0x16, p[1] = 3, p[2] = 1;
	put16(p + 3, hs + 4);
	p[5] = 1;
	p[6] = (uint8_t)(hs >> 16), p[7] = (uint8_t)(hs >> 8), p[8] = (uint8_t)hs;
	return (uint32_t)(q - p);
}

static uint32_t tls_server_hello(uint8_t *p, rng *r)
{
	uint8_t *q = p + 9;
	*q++ = 3, *q++ = 3;
	for (int i = 0; i < 32; i++)
		*q++ = (uint8_t)rng_next(r);
	*q++ = 32;
	for (int i = 0; i < 32; i++)
		*q++ = (uint8_t)rng_next(r);
	*q++ = 0x13, *q++ = 0x01, *q++ = 0;
	static const uint8_t ext[] = {0x00, 0x06, 0x00, 0x2b, 0x00, 0x02, 0x03, 0x04};
	memcpy(q, ext, sizeof(ext));
	q += sizeof(ext);
	uint32_t hs = (uint32_t)(q - p - 9);
	p[0] = 0x16, p[1] = 3, p[2] = 3;
	put16(p + 3, hs + 4);
	p[5] = 2;
	p[6] = (uint8_t)(hs >> 16), p[7] = (uint8_t)(hs >> 8), p[8] = (uint8_t)hs;
	static const uint8_t ccs[] = {0x14, 0x03, 0x03, 0x00, 0x01, 0x01};
	memcpy(q, ccs, sizeof(ccs));
	q += sizeof(ccs);
	return (uint32_t)(q - p);
}

/* Starts a request/response round: sizes and prefixes for both directions. */
static void round_begin(gen *g, flow *f, bool first, bool bulk_up, uint32_t up, uint32_t down)
{
	rng *r = &g->r;
	char host[64];
	server_name(f->server_idx, host, sizeof(host));
	for (int d = 0; d < 2; d++) {
		f->round_start[d] = f->pos[d];
		f->pre_len[d] = 0;
		f->post_len[d] = 0;
	}
	char *c = (char *)f->pre[0], *s = (char *)f->pre[1];
	int n0 = 0, n1 = 0;
	switch (f->app) {
	case A_HTTP:
		if (bulk_up)
			n0 = snprintf(
			    c, PRE_MAX,
			    "POST /upload/%s%" PRIu64 " HTTP/1.1\r\nHost: %s\r\n"
			    "User-Agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64)\r\n"
			    "Content-Type: application/octet-stream\r\nContent-Length: %" PRIu32
			    "\r\n\r\n",
			    WORDS[rng_next(r) % N_WORDS], rng_range(r, 1, 99999), host, up);
		else
			n0 = snprintf(c, PRE_MAX,
			              "GET /%s/%s%" PRIu64 ".html HTTP/1.1\r\nHost: %s\r\n"
			              "User-Agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64)\r\n"
			              "Accept: text/html,*/*\r\nAccept-Language: "
			              "ja,en;q=0.8\r\nConnection: keep-alive\r\n\r\n",
			              WORDS[rng_next(r) % N_WORDS], WORDS[rng_next(r) % N_WORDS],
			              rng_range(r, 1, 99999), host);
		n1 = snprintf(
		    s, PRE_MAX,
		    "HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: text/html; charset=utf-8\r\n"
		    "Content-Length: %" PRIu32 "\r\nConnection: keep-alive\r\n\r\n",
		    down);
		if (!bulk_up)
			up = 0; /* a GET has no body */
		break;
	case A_TLS:
		if (first) {
			n0 = (int)tls_client_hello(f->pre[0], host, r);
			n1 = (int)tls_server_hello(f->pre[1], r);
		}
		break;
	case A_SMTP:
		/* four rounds: the banner (the client says nothing), EHLO, the
		 * envelope, the message */
		switch (f->rounds_left) {
		case 4:
			n1 = snprintf(s, PRE_MAX, "220 %s ESMTP\r\n", host);
			up = down = 0;
			break;
		case 3:
			n0 = snprintf(c, PRE_MAX, "EHLO pc%" PRIu32 ".office.example\r\n",
			              f->client_idx);
			n1 = snprintf(s, PRE_MAX,
			              "250-%s\r\n250-PIPELINING\r\n250-SIZE 52428800\r\n250 "
			              "8BITMIME\r\n",
			              host);
			up = down = 0;
			break;
		case 2:
			n0 = snprintf(
			    c, PRE_MAX,
			    "MAIL FROM:<%s@office.example>\r\nRCPT TO:<%s@%s>\r\nDATA\r\n",
			    WORDS[rng_next(r) % N_WORDS], WORDS[rng_next(r) % N_WORDS], host);
			n1 = snprintf(s, PRE_MAX,
			              "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data with "
			              "<CR><LF>.<CR><LF>\r\n");
			up = down = 0;
			break;
		default: {
			const char *wd = WORDS[rng_next(r) % N_WORDS];
			n0 = snprintf(
			    c, PRE_MAX,
			    "From: <%s@office.example>\r\nTo: <%s@%s>\r\nSubject: %s "
			    "%" PRIu64 "\r\nMIME-Version: 1.0\r\nContent-Type: "
			    "multipart/mixed; boundary=\"b%" PRIu32 "\"\r\n\r\n--b%" PRIu32
			    "\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nSee "
			    "http://%s/%s.html\r\n--b%" PRIu32 "\r\nContent-Type: "
			    "application/pdf; name=\"%s.pdf\"\r\nContent-Transfer-Encoding: "
			    "base64\r\nContent-Disposition: attachment; "
			    "filename=\"%s.pdf\"\r\n\r\n",
			    wd, WORDS[rng_next(r) % N_WORDS], host, wd, rng_range(r, 1, 9999),
			    f->seed, f->seed, host, wd, f->seed, wd, wd);
			int k = snprintf((char *)f->post[0], sizeof(f->post[0]),
			                 "\r\n--b%" PRIu32 "--\r\n.\r\nQUIT\r\n", f->seed);
			f->post_len[0] = (uint8_t)(k > 0 ? k : 0);
			up = (uint32_t)rng_logu(r, 2e3, 3e5) + f->post_len[0];
			n1 = snprintf(s, PRE_MAX,
			              "250 2.0.0 Ok: queued as %08" PRIX32 "\r\n221 2.0.0 Bye\r\n",
			              f->seed);
			down = 0;
			break;
		}
		}
		break;
	case A_SSH:
		if (first) {
			n0 = snprintf(c, PRE_MAX, "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n");
			n1 = snprintf(s, PRE_MAX, "SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.6\r\n");
		}
		break;
	default: break;
	}
	f->pre_len[0] = (uint16_t)(n0 > 0 ? n0 : 0);
	f->pre_len[1] = (uint16_t)(n1 > 0 ? n1 : 0);
	f->round_len[0] = f->pre_len[0] + up;
	f->round_len[1] = f->pre_len[1] + down;
	f->dir = 0;
	if (f->round_len[0] == 0 && f->app != A_SMTP)
		f->round_len[0] =
		    1 + (uint32_t)rng_range(r, 40, 300); /* no prefix: some request bytes */
}

/* ---- TCP ------------------------------------------------------------------ */
static uint64_t tcp_pkt(gen *g, flow *f, int dir, uint8_t flags, uint32_t off, uint32_t plen,
                        uint64_t t)
{
	bool syn = flags & 0x02;
	size_t optlen = syn ? 20 : 0;
	size_t l4len = 20 + optlen + plen;
	size_t o = build_l3(g, f, dir, 6, l4len);
	uint8_t *tcp = g->frame + o;
	int other = !dir;
	put16(tcp, dir ? f->sport : f->cport);
	put16(tcp + 2, dir ? f->cport : f->sport);
	/* A refusal (RST+ACK answering a SYN, RFC 793 "Reset Generation") has
	 * sequence number 0, as Linux sends it. */
	bool refusal = (flags & 0x14) == 0x14 && f->state == T_SYNACK;
	put32(tcp + 4, refusal ? 0 : f->isn[dir] + (syn ? 0 : 1) + f->round_start[dir] + off);
	put32(tcp + 8, (flags & 0x10) ? f->isn[other] + 1 + f->pos[other] : 0);
	tcp[12] = (uint8_t)(((20 + optlen) / 4) << 4);
	tcp[13] = flags;
	put16(tcp + 14, syn ? 64240 : 502);
	put16(tcp + 18, 0);
	if (syn) {
		uint8_t *op = tcp + 20;
		op[0] = 2, op[1] = 4;
		put16(op + 2, f->mss);
		op[4] = 4, op[5] = 2;  /* SACK permitted */
		op[6] = 8, op[7] = 10; /* timestamps */
		put32(op + 8, f->seed + (uint32_t)(t / 1000000));
		put32(op + 12, 0);
		op[16] = 1, op[17] = 3, op[18] = 3, op[19] = 7; /* NOP, window scale 7 */
	}
	if (plen)
		fill_payload(g, f, dir, off, tcp + 20 + optlen, plen);
	l4_csum(g, f, dir, 6, o, l4len, 16);
	return emit(g, t, o + l4len, f->v6, f->vlan != 0);
}

#define MAX_BURST 64

/* One window of data from f->dir, with the receiver's delayed ACKs, a few
 * segments out of order and a few retransmitted. Returns the end time. */
static uint64_t tcp_burst(gen *g, flow *f, uint64_t t)
{
	rng *r = &g->r;
	int d = f->dir;
	uint32_t off0 = f->pos[d] - f->round_start[d];
	uint32_t left = f->round_len[d] - off0;
	uint32_t segoff[MAX_BURST], seglen[MAX_BURST];
	int n = 0;
	while (left && n < f->cwnd && n < MAX_BURST) {
		uint32_t l = left < f->mss ? left : f->mss;
		segoff[n] = off0, seglen[n] = l;
		off0 += l, left -= l, n++;
	}
	/* emission order: swap neighbours now and then (reordering in the network) */
	int order[MAX_BURST];
	for (int i = 0; i < n; i++)
		order[i] = i;
	for (int i = 0; i + 1 < n; i++) {
		if (rng_chance(r, 0.03)) {
			int x = order[i];
			order[i] = order[i + 1], order[i + 1] = x;
			g->st.ooo++;
			i++;
		}
	}
	uint64_t got = 0; /* bit i: segment i arrived */
	int contiguous = 0, since_ack = 0;
	for (int k = 0; k < n; k++) {
		int i = order[k];
		t = tcp_pkt(g, f, d, 0x10 | (i == n - 1 ? 0x08 : 0), segoff[i], seglen[i], t);
		g->st.segs++;
		got |= 1ull << i;
		while (contiguous < n && (got >> contiguous & 1))
			contiguous++;
		if (rng_chance(r, 0.02)) { /* retransmission of a segment already sent */
			int j = order[rng_range(r, 0, (uint64_t)k)];
			t = tcp_pkt(g, f, d, 0x10, segoff[j], seglen[j], t);
			g->st.retx++;
		}
		if (++since_ack == 2 || k == n - 1) {
			since_ack = 0;
			uint32_t acked = contiguous
			                     ? segoff[contiguous - 1] + seglen[contiguous - 1]
			                     : segoff[0];
			f->pos[d] = f->round_start[d] + acked;
			t = tcp_pkt(g, f, !d, 0x10, f->pos[!d] - f->round_start[!d], 0, t + 20000);
		}
	}
	f->pos[d] = f->round_start[d] + off0;
	if (f->cwnd < f->cwnd_max)
		f->cwnd = (uint16_t)(f->cwnd * 2 > f->cwnd_max ? f->cwnd_max : f->cwnd * 2);
	return t;
}

static void tcp_new(gen *g, flow *f)
{
	rng *r = &g->r;
	double u = rng_unit(r);
	if (g->mix)
		f->app = u < 0.30 ? A_TLS : u < 0.75 ? A_HTTP : u < 0.95 ? A_SMTP : A_SSH;
	else
		f->app = u < 0.50 ? A_TLS : u < 0.80 ? A_HTTP : u < 0.84 ? A_SSH : A_RAW;
	static const uint16_t raw_ports[] = {8080, 8443, 445, 3389, 993, 587, 1883, 5222, 9000};
	f->sport = f->app == A_TLS    ? 443
	           : f->app == A_HTTP ? 80
	           : f->app == A_SMTP ? 25
	           : f->app == A_SSH
	               ? 22
	               : raw_ports[rng_next(r) % (sizeof(raw_ports) / sizeof(raw_ports[0]))];
	f->mss = f->v6 ? 1440 : 1460;
	f->isn[0] = (uint32_t)rng_next(r), f->isn[1] = (uint32_t)rng_next(r);
	f->cwnd = 10;
	f->cwnd_max = (uint16_t)rng_range(r, 16, MAX_BURST);
	u = rng_unit(r);
	f->how = u < 0.005  ? H_NOANSWER
	         : u < 0.01 ? H_REFUSED
	         : u < 0.82 ? H_FIN
	         : u < 0.94 ? H_RST
	                    : H_ABANDON;
	f->state = T_SYN;
}

/* Sizes of the next round for a connection: most are small web requests,
 * a few are downloads, a very few are multi-megabyte transfers either way. */
static void tcp_next_round(gen *g, flow *f, bool first)
{
	rng *r = &g->r;
	uint32_t up, down;
	bool bulk_up = false;
	uint32_t cls = f->seed % 1000;
	if (cls < 1) { /* bulk: 0.1% of connections */
		bulk_up = (f->seed >> 10) % 3 == 0;
		uint32_t big = (uint32_t)rng_logu(r, 1e6, 8e6),
		         small = (uint32_t)rng_range(r, 200, 2000);
		up = bulk_up ? big : small, down = bulk_up ? small : big;
		if (f->app != A_HTTP && !bulk_up)
			up = (uint32_t)rng_range(r, 200, 1200);
	} else if (cls < 21) { /* medium: 2% */
		up = (uint32_t)rng_range(r, 300, 1500);
		down = (uint32_t)rng_logu(r, 2e4, 3e5);
	} else {
		up = (uint32_t)rng_range(r, 150, 900);
		down = (uint32_t)rng_logu(r, 150, 1.6e4);
	}
	round_begin(g, f, first, bulk_up, up, down);
}

static double tcp_planned_bytes(const flow *f)
{
	uint32_t cls = f->seed % 1000;
	return cls < 1 ? 3.4e6 : cls < 21 ? 1.5 * 9.9e4 : 1.6 * 4.9e3;
}

/* Advances a TCP flow by one step; returns the delay to its next step, or 0
 * when it is finished. */
static uint64_t tcp_step(gen *g, flow *f, uint64_t t)
{
	rng *r = &g->r;
	uint64_t rtt = (uint64_t)f->rtt_us * 1000, lan = 250000;
	switch (f->state) {
	case T_SYN:
		tcp_pkt(g, f, 0, 0x02, 0, 0, t);
		if (f->how == H_NOANSWER)
			return ++f->syn_tries < 3 ? 1000000000ull << (f->syn_tries - 1) : 0;
		f->state = T_SYNACK;
		return rtt;
	case T_SYNACK:
		if (f->how == H_REFUSED) {
			tcp_pkt(g, f, 1, 0x14, 0, 0, t); /* RST+ACK */
			return 0;
		}
		tcp_pkt(g, f, 1, 0x12, 0, 0, t);
		f->state = T_DATA;
		f->rounds_left =
		    (uint16_t)((f->seed % 1000) < 21 ? rng_range(r, 1, 2) : rng_range(r, 1, 3));
		if (f->app == A_SMTP)
			f->rounds_left = 4;
		tcp_next_round(g, f, true);
		return lan;
	case T_DATA: {
		if (f->steps == 0 && f->pos[0] == 0) /* third packet of the handshake */
			t = tcp_pkt(g, f, 0, 0x10, 0, 0, t);
		f->steps++;
		int d = f->dir;
		t = tcp_burst(g, f, t);
		if (f->pos[d] - f->round_start[d] < f->round_len[d])
			return rtt; /* next window after a round trip */
		if (d == 0) {
			f->dir = 1;
			f->cwnd = f->cwnd < 10 ? 10 : f->cwnd;
			return rtt + rng_range(r, 200000, 20000000); /* server think time */
		}
		if (--f->rounds_left) {
			tcp_next_round(g, f, false);
			return rng_range(r, lan,
			                 300000000ull); /* user reads, then the next request */
		}
		if (f->how == H_ABANDON)
			return 0;
		f->state = T_CLOSE1;
		f->server_closes = rng_chance(r, 0.3);
		return rng_range(r, lan, 2000000000ull);
	}
	case T_CLOSE1: {
		int d = f->server_closes;
		uint32_t off = f->pos[d] - f->round_start[d];
		if (f->how == H_RST) {
			tcp_pkt(g, f, d, 0x14, off, 0, t);
			return 0;
		}
		tcp_pkt(g, f, d, 0x11, off, 0, t);
		f->pos[d]++; /* the FIN takes one sequence number */
		f->state = T_CLOSE2;
		return d ? lan : rtt;
	}
	case T_CLOSE2: {
		int d = !f->server_closes;
		tcp_pkt(g, f, d, 0x11, f->pos[d] - f->round_start[d], 0, t);
		f->pos[d]++;
		f->state = T_CLOSE3;
		return d ? lan : rtt;
	}
	case T_CLOSE3: {
		int d = f->server_closes;
		tcp_pkt(g, f, d, 0x10, f->pos[d] - f->round_start[d], 0, t);
		return 0;
	}
	default: return 0;
	}
}

/* ---- UDP and ICMP ------------------------------------------------------------ */
static size_t dns_name(uint8_t *p, const char *name)
{
	size_t o = 0;
	while (*name) {
		const char *dot = strchr(name, '.');
		size_t l = dot ? (size_t)(dot - name) : strlen(name);
		p[o++] = (uint8_t)l;
		memcpy(p + o, name, l);
		o += l;
		name += l + (dot ? 1 : 0);
	}
	p[o++] = 0;
	return o;
}

static uint64_t udp_pkt(gen *g, flow *f, int dir, const uint8_t *pl, size_t plen, uint64_t t)
{
	size_t l4len = 8 + plen;
	size_t o = build_l3(g, f, dir, 17, l4len);
	uint8_t *u = g->frame + o;
	put16(u, dir ? f->sport : f->cport);
	put16(u + 2, dir ? f->cport : f->sport);
	put16(u + 4, (uint32_t)l4len);
	memcpy(u + 8, pl, plen);
	l4_csum(g, f, dir, 17, o, l4len, 6);
	return emit(g, t, o + l4len, f->v6, f->vlan != 0);
}

static uint64_t dns_step(gen *g, flow *f, uint64_t t)
{
	rng *r = &g->r;
	uint8_t m[512];
	char host[64];
	server_name(f->server_idx, host, sizeof(host));
	bool aaaa = f->app == 1;
	size_t o = 12;
	put16(m, f->seed & 0xffff);
	put16(m + 4, 1);
	put16(m + 6, 0), put16(m + 8, 0), put16(m + 10, 1);
	o += dns_name(m + o, host);
	put16(m + o, aaaa ? 28 : 1), put16(m + o + 2, 1);
	o += 4;
	static const uint8_t opt[] = {0, 0x00, 0x29, 0x04, 0xd0, 0, 0, 0, 0, 0, 0};
	if (f->state == 0) {
		put16(m + 2, 0x0100);
		memcpy(m + o, opt, sizeof(opt));
		o += sizeof(opt);
		udp_pkt(g, f, 0, m, o, t);
		f->state = 1;
		return f->how == H_NOANSWER ? 0 : (uint64_t)f->rtt_us * 1000;
	}
	bool nx = f->how == H_RST;
	put16(m + 2, nx ? 0x8183 : 0x8180);
	put16(m + 6, nx ? 0 : 1);
	if (!nx) {
		m[o++] = 0xc0, m[o++] = 0x0c;
		put16(m + o, aaaa ? 28 : 1), put16(m + o + 2, 1);
		put32(m + o + 4, (uint32_t)rng_range(r, 30, 3600));
		o += 8;
		put16(m + o, aaaa ? 16 : 4);
		o += 2;
		if (aaaa)
			memcpy(m + o, g->w->srv6[f->server_idx % N_SERVERS6], 16);
		else
			memcpy(m + o, g->w->srv4[f->server_idx], 4);
		o += aaaa ? 16 : 4;
	}
	memcpy(m + o, opt, sizeof(opt));
	o += sizeof(opt);
	udp_pkt(g, f, 1, m, o, t);
	return 0;
}

static uint64_t ntp_step(gen *g, flow *f, uint64_t t)
{
	uint8_t m[48];
	memset(m, 0, sizeof(m));
	m[0] = f->state ? 0x24 : 0x23; /* v4, client (3) / server (4) */
	m[1] = f->state ? 2 : 0;
	put32(m + 40, (uint32_t)(START_SEC + 2208988800ull + t / 1000000000ull));
	put32(m + 44, f->seed);
	udp_pkt(g, f, f->state, m, sizeof(m), t);
	if (f->state)
		return 0;
	f->state = 1;
	return (uint64_t)f->rtt_us * 1000;
}

static uint64_t icmp_step(gen *g, flow *f, uint64_t t)
{
	int dir = f->state & 1;
	uint8_t proto = f->v6 ? 58 : 1;
	size_t l4len = 8 + 56;
	size_t o = build_l3(g, f, dir, proto, l4len);
	uint8_t *ic = g->frame + o;
	ic[0] = f->v6 ? (dir ? 129 : 128) : (dir ? 0 : 8);
	ic[1] = 0;
	put16(ic + 4, f->seed & 0xffff);
	put16(ic + 6, (uint32_t)(f->state / 2 + 1));
	for (int i = 0; i < 56; i++)
		ic[8 + i] = (uint8_t)(0x10 + i);
	l4_csum(g, f, dir, proto, o, l4len, 2);
	emit(g, t, o + l4len, f->v6, f->vlan != 0);
	f->state++;
	if (dir == 0)
		return (uint64_t)f->rtt_us * 1000;
	return f->state < 2 * f->rounds_left ? 1000000000ull : 0;
}

static uint64_t nfl_total(const stats *s)
{
	return s->flows[0] + s->flows[1] + s->flows[2] + s->flows[3];
}

/* ---- flow arrival ----------------------------------------------------------- */
static void flow_new(gen *g, uint64_t t)
{
	rng *r = &g->r;
	uint32_t i = flow_alloc(g);
	flow *f = &g->flows[i];
	world *w = g->w;
	f->seed = (uint32_t)rng_next(r);
	f->client_idx = rng_popular(r, N_CLIENTS);
	const client *c = &w->clients[f->client_idx];
	f->vlan = c->vlan;
	double u = rng_unit(r);
	if (g->mix)
		f->kind = u < 0.45 ? K_TCP : u < 0.95 ? K_DNS : u < 0.98 ? K_NTP : K_ICMP;
	else
		f->kind = u < 0.33 ? K_TCP : u < 0.94 ? K_DNS : u < 0.97 ? K_NTP : K_ICMP;
	f->v6 = c->has6 && rng_chance(r, 0.7);
	f->rtt_us = (uint32_t)rng_logu(r, 3000, 250000);
	f->cport = (uint16_t)rng_range(r, 32768, 60999);
	f->server_idx = rng_popular(r, N_SERVERS);
	memcpy(f->cip, f->v6 ? c->ip6 : c->ip4, f->v6 ? 16 : 4);
	double planned;
	switch (f->kind) {
	case K_TCP:
		memcpy(f->sip, f->v6 ? w->srv6[f->server_idx % N_SERVERS6] : w->srv4[f->server_idx],
		       f->v6 ? 16 : 4);
		tcp_new(g, f);
		planned = tcp_planned_bytes(f);
		break;
	case K_DNS:
		if (f->v6)
			memcpy(f->sip, RESOLVER6, 16);
		else
			memcpy(f->sip, RESOLVER4[rng_chance(r, 0.8) ? 0 : 1], 4);
		f->sport = 53;
		f->rtt_us = (uint32_t)rng_logu(r, 300, 60000);
		f->app = rng_chance(r, 0.4); /* 1: AAAA */
		u = rng_unit(r);
		f->how = u < 0.02 ? H_NOANSWER : u < 0.07 ? H_RST : H_FIN;
		planned = 230;
		break;
	case K_NTP:
		memcpy(f->sip, f->v6 ? w->srv6[f->server_idx % 16] : w->srv4[f->server_idx % 16],
		       f->v6 ? 16 : 4);
		f->sport = 123;
		f->cport = rng_chance(r, 0.5) ? 123 : f->cport;
		planned = 180;
		break;
	default:
		memcpy(f->sip, f->v6 ? w->srv6[f->server_idx % N_SERVERS6] : w->srv4[f->server_idx],
		       f->v6 ? 16 : 4);
		f->rounds_left = (uint16_t)rng_range(r, 1, 4);
		planned = 2.0 * f->rounds_left * 100;
		break;
	}
	g->st.flows[f->kind]++;
	if (f->kind == K_TCP) {
		g->st.apps[f->app]++;
		g->st.hows[f->how]++;
	}
	g->st.v6_flows += f->v6;
	g->st.vlan_flows += f->vlan != 0;
	g->planned_sum += planned;
	g->mean_flow_bytes = g->planned_sum / (double)nfl_total(&g->st);
	heap_push(g, t, i);
}

static uint64_t flow_step(gen *g, flow *f, uint64_t t)
{
	switch (f->kind) {
	case K_TCP: return tcp_step(g, f, t);
	case K_DNS: return dns_step(g, f, t);
	case K_NTP: return ntp_step(g, f, t);
	default: return icmp_step(g, f, t);
	}
}

/* ---- many concurrent flows (-c) ---------------------------------------------- */
/* N short TCP connections that are all open at the same time: each opens
 * (SYN, SYN/ACK, ACK), sends one small request and gets one small response
 * (then an ACK), all within the first CONC_OPEN_NS of capture time; after a
 * quiet gap every connection closes with FIN/ACK both ways, in random order
 * over CONC_CLOSE_NS. Far below the engine's established (300 s) and new (30 s)
 * timeouts, so no connection expires while the others are open. A connection's
 * parameters are a function of (seed, index) only, so only its step number is
 * kept between packets. */
#define CONC_OPEN_NS 20000000000ull  /* connections open within 20 s */
#define CONC_GAP_NS 2000000000ull    /* quiet time before the first close */
#define CONC_CLOSE_NS 10000000000ull /* closes spread over 10 s */
#define CONC_PORTS 64u               /* connections per client address */
#define CONC_MAX_HOSTS 65534u
#define CONC_MAX (CONC_PORTS * CONC_MAX_HOSTS)

typedef struct cparams {
	bool v6, http, server_closes;
	uint32_t host, server, rtt_ns, think_ns, ack_ns, word, page;
	uint32_t body[2]; /* TLS record bodies */
	uint16_t cport, sport;
	uint32_t isn[2], seed;
	uint64_t close_off; /* from the start of the close phase */
} cparams;

typedef struct conc {
	uint64_t seed;
	uint32_t n, nhosts, next; /* next: index of the next connection to open */
	uint8_t *step;            /* per connection: packets written so far */
	uint64_t active, max_active, open_at_first_fin, v6, http, server_first;
	uint64_t last_open_ts, first_fin_ts, close_start; /* ns */
} conc;

static void conc_params(const conc *c, uint32_t i, cparams *p)
{
	rng r;
	rng_seed(&r, c->seed * 0x9e3779b97f4a7c15ull + i);
	p->seed = (uint32_t)rng_next(&r);
	p->v6 = rng_chance(&r, 0.1);
	p->host = i % c->nhosts;
	/* distinct 5-tuples: connection i of a host uses port block i / nhosts */
	p->cport = (uint16_t)(1024 + (i / c->nhosts) * 900 + rng_range(&r, 0, 899));
	p->server = rng_popular(&r, N_SERVERS);
	p->http = rng_chance(&r, 0.4);
	p->sport = p->http ? 80 : 443;
	p->isn[0] = (uint32_t)rng_next(&r), p->isn[1] = (uint32_t)rng_next(&r);
	p->rtt_ns = (uint32_t)rng_logu(&r, 1e6, 1e8);   /* 1-100 ms */
	p->think_ns = (uint32_t)rng_logu(&r, 1e5, 2e7); /* 0.1-20 ms */
	p->ack_ns = (uint32_t)rng_range(&r, 2e5, 4e7);  /* delayed ACK */
	p->word = (uint32_t)rng_next(&r) % N_WORDS;
	p->page = (uint32_t)rng_range(&r, 1, 99999);
	p->body[0] = (uint32_t)rng_range(&r, 24, 64);
	p->body[1] = (uint32_t)rng_range(&r, 24, 96);
	p->server_closes = rng_chance(&r, 0.3);
	p->close_off = (uint64_t)(rng_unit(&r) * (double)CONC_CLOSE_NS);
}

/* The flow record tcp_pkt() needs for connection i after `step` packets. */
static void conc_flow(gen *g, const cparams *p, uint8_t step, flow *f)
{
	const world *w = g->w;
	memset(f, 0, sizeof(*f));
	f->kind = K_TCP;
	f->v6 = p->v6;
	f->seed = p->seed;
	f->client_idx = p->host % N_CLIENTS; /* Ethernet address and TTL only */
	f->cport = p->cport, f->sport = p->sport;
	f->mss = p->v6 ? 1440 : 1460;
	f->isn[0] = p->isn[0], f->isn[1] = p->isn[1];
	f->ipid[0] = (uint16_t)(p->seed + step), f->ipid[1] = (uint16_t)((p->seed >> 16) + step);
	uint32_t h = p->host + 1; /* 1..65534 */
	if (p->v6) {
		static const uint8_t pfx6[8] = {0x20, 0x01, 0x0d, 0xb8, 0x00, 0x10, 0x00, 0x01};
		memcpy(f->cip, pfx6, 8);
		uint64_t x = h, iid = splitmix64(&x);
		for (int k = 8; k < 14; k++)
			f->cip[k] = (uint8_t)(iid >> (8 * (k - 8)));
		f->cip[14] = (uint8_t)(h >> 8), f->cip[15] = (uint8_t)h;
		memcpy(f->sip, w->srv6[p->server % N_SERVERS6], 16);
	} else {
		f->cip[0] = 192, f->cip[1] = 168, f->cip[2] = (uint8_t)(h >> 8),
		f->cip[3] = (uint8_t)h;
		memcpy(f->sip, w->srv4[p->server], 4);
	}
	if (step < 3)
		return; /* handshake: no payload, nothing sent yet */
	if (p->http) {
		char host[64];
		server_name(p->server, host, sizeof(host));
		f->app = A_HTTP;
		int n0 = snprintf((char *)f->pre[0], PRE_MAX,
		                  "GET /%s/%" PRIu32 ".html HTTP/1.1\r\nHost: %s\r\n\r\n",
		                  WORDS[p->word], p->page, host);
		int n1 = snprintf((char *)f->pre[1], PRE_MAX,
		                  "HTTP/1.1 204 No Content\r\nServer: nginx\r\n\r\n");
		f->pre_len[0] = (uint16_t)(n0 > 0 ? n0 : 0);
		f->pre_len[1] = (uint16_t)(n1 > 0 ? n1 : 0);
		f->round_len[0] = f->pre_len[0], f->round_len[1] = f->pre_len[1];
	} else {
		f->app = A_TLS; /* one application_data record each way */
		f->round_len[0] = 5 + p->body[0], f->round_len[1] = 5 + p->body[1];
	}
	/* stream positions after the packets already written */
	if (step > 3)
		f->pos[0] = f->round_len[0];
	if (step > 4)
		f->pos[1] = f->round_len[1];
	int d = p->server_closes;
	if (step > 6)
		f->pos[d]++; /* the first FIN */
	if (step > 7)
		f->pos[!d]++; /* the second FIN */
}

/* Writes packet `step` of connection i at time t; returns the delay to its
 * next packet, 0 when the connection is finished. */
static uint64_t conc_step(gen *g, conc *c, uint32_t i, uint64_t t)
{
	cparams p;
	flow f;
	uint8_t step = c->step[i];
	conc_params(c, i, &p);
	conc_flow(g, &p, step, &f);
	uint64_t lan = 250000, rtt = p.rtt_ns, end;
	int d = p.server_closes;
	uint64_t delay = 0;
	switch (step) {
	case 0:
		end = tcp_pkt(g, &f, 0, 0x02, 0, 0, t);
		c->v6 += p.v6, c->http += p.http, c->server_first += p.server_closes;
		if (++c->active > c->max_active)
			c->max_active = c->active;
		delay = rtt;
		break;
	case 1: end = tcp_pkt(g, &f, 1, 0x12, 0, 0, t), delay = lan; break;
	case 2: end = tcp_pkt(g, &f, 0, 0x10, 0, 0, t), delay = 50000; break;
	case 3:
		end = tcp_pkt(g, &f, 0, 0x18, 0, f.round_len[0], t);
		delay = rtt + p.think_ns;
		break;
	case 4: end = tcp_pkt(g, &f, 1, 0x18, 0, f.round_len[1], t), delay = p.ack_ns; break;
	case 5:
		end = tcp_pkt(g, &f, 0, 0x10, f.pos[0], 0, t);
		if (c->close_start + p.close_off <= end) {
			fprintf(stderr,
			        "gen-capture: connection %" PRIu32
			        " still opening at its close time\n",
			        i);
			exit(1);
		}
		delay = c->close_start + p.close_off - end;
		break;
	case 6:
		end = tcp_pkt(g, &f, d, 0x11, f.pos[d], 0, t);
		if (!c->first_fin_ts) { /* packets are written in time order */
			c->first_fin_ts = g->last_ts;
			c->open_at_first_fin = c->active;
		}
		delay = d ? lan : rtt;
		break;
	case 7: end = tcp_pkt(g, &f, !d, 0x11, f.pos[!d], 0, t), delay = !d ? lan : rtt; break;
	default:
		end = tcp_pkt(g, &f, d, 0x10, f.pos[d], 0, t);
		c->active--;
		break;
	}
	(void)end;
	if (step <= 5 && g->last_ts > c->last_open_ts)
		c->last_open_ts = g->last_ts;
	c->step[i] = (uint8_t)(step + 1);
	return delay;
}

/* Opening time of connection i: evenly spread over CONC_OPEN_NS, jittered
 * inside its slot so that the order stays i = 0, 1, 2... */
static uint64_t conc_open_at(const conc *c, uint32_t i)
{
	uint64_t slot = CONC_OPEN_NS / c->n;
	uint64_t x = c->seed ^ ((uint64_t)i << 32 | 0x5bd1e995u);
	return (uint64_t)i * slot + splitmix64(&x) % (slot ? slot : 1);
}

static void conc_run(gen *g, uint64_t seed, uint32_t n)
{
	conc c = {.seed = seed, .n = n};
	c.nhosts = (n + CONC_PORTS - 1) / CONC_PORTS;
	c.close_start = CONC_OPEN_NS + CONC_GAP_NS;
	c.step = calloc(n, 1);
	if (!c.step) {
		fprintf(stderr, "gen-capture: out of memory\n");
		exit(1);
	}
	heap_push(g, conc_open_at(&c, 0), 0);
	c.next = 1;
	while (g->nheap) {
		event e = heap_pop(g);
		bool opening = c.step[e.flow] == 0;
		uint64_t now = e.t;
		uint64_t delay = conc_step(g, &c, e.flow, now);
		uint64_t done = g->link_free > now ? g->link_free : now;
		if (delay)
			heap_push(g, done + delay, e.flow);
		if (opening && c.next < n) {
			heap_push(g, conc_open_at(&c, c.next), c.next);
			c.next++;
		}
	}
	free(c.step);
	stats *s = &g->st;
	fprintf(stderr,
	        "gen-capture: %" PRIu64 " packets, %" PRIu64 " bytes of packet data, %" PRIu64
	        " file bytes\n"
	        "  capture time %.1f s; concurrent-flows capture, seed %" PRIu64 "\n"
	        "  tcp connections %" PRIu32 " (ipv4 %" PRIu64 ", ipv6 %" PRIu64 "; http %" PRIu64
	        ", tls %" PRIu64 "; server closes first %" PRIu64 ") from %" PRIu32
	        " client addresses\n"
	        "  each: SYN, SYN/ACK, ACK, request, response, ACK, FIN, FIN/ACK, ACK\n"
	        "  last opening packet at %.3f s, first FIN at %.3f s\n"
	        "  connections open at the first FIN %" PRIu64 ", max concurrent flows %" PRIu64
	        "\n"
	        "  packets: ipv6 %" PRIu64 "; frames <=128 B %" PRIu64 ", <=576 B %" PRIu64 "\n",
	        s->pkts, s->data_bytes, s->file_bytes, (double)g->last_ts / 1e9, seed, n, n - c.v6,
	        c.v6, c.http, n - c.http, c.server_first, c.nhosts, (double)c.last_open_ts / 1e9,
	        (double)c.first_fin_ts / 1e9, c.open_at_first_fin, c.max_active, s->v6_pkts,
	        s->frame_hist[0], s->frame_hist[1]);
}

/* ---- collision flood ---------------------------------------------------- */
/* The flow table's bucket hash used to be om_hash64 (src/base/util.c) with
 * the public seed below over the 39-byte canonical key: lower endpoint's
 * address, higher's address, lower's port, higher's port, VLAN, protocol
 * (numbers big-endian). Its steps are invertible, so the last 8 bytes of the
 * higher address can be solved for any wanted result: every SYN here, from
 * fd00::/64 port 1024 + i to 2001:db8::1 port 80, gets the same 64-bit hash
 * and so the same bucket in a table of any size. */
#define OLD_SEED 0x6f6d616d6f726931ull
#define OLD_GOLD 0x9e3779b97f4a7c15ull
#define OLD_TAIL 0xa0761d6478bd642full
#define FLOOD_TARGET 0x5eed5eed5eed5eedull
#define FLOOD_MAX 64512u /* client ports 1024..65535 */

static uint64_t old_mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

static uint64_t unxorshift(uint64_t y, int s)
{
	uint64_t x = y;
	for (int k = s; k < 64; k += s)
		x ^= y >> k;
	return x;
}

static uint64_t inv_odd(uint64_t c)
{
	uint64_t x = c;
	for (int i = 0; i < 6; i++)
		x *= 2 - c * x;
	return x;
}

static uint64_t old_unmix(uint64_t x)
{
	x = unxorshift(x, 31);
	x *= inv_odd(0x94d049bb133111ebull);
	x = unxorshift(x, 27);
	x *= inv_odd(0xbf58476d1ce4e5b9ull);
	return unxorshift(x, 30);
}

static uint64_t le_bytes(const uint8_t *b, size_t n)
{
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++)
		v |= (uint64_t)b[i] << (8 * i);
	return v;
}

/* om_hash64 as it was, for the check that the crafting worked. */
static uint64_t old_hash64(const uint8_t *s, size_t n, uint64_t seed)
{
	uint64_t h = old_mix(seed ^ (n * OLD_GOLD));
	for (; n >= 8; s += 8, n -= 8)
		h = old_mix(h ^ le_bytes(s, 8)) + OLD_GOLD;
	return old_mix(h ^ le_bytes(s, n) ^ OLD_TAIL);
}

static const uint8_t FLOOD_SRV[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};

/* The client address of SYN i: crafted, or random (-u). */
static void flood_client(uint16_t sport, bool crafted, rng *r, uint8_t cli[16])
{
	uint8_t kb[39];
	memset(cli, 0, 16);
	cli[0] = 0xfd;
	memcpy(kb, FLOOD_SRV, 16);
	memcpy(kb + 16, cli, 16);
	kb[32] = 0, kb[33] = 80;
	kb[34] = (uint8_t)(sport >> 8), kb[35] = (uint8_t)sport;
	kb[36] = kb[37] = 0;
	kb[38] = 6;
	uint64_t v3;
	if (crafted) {
		uint64_t h = old_mix(OLD_SEED ^ (39 * OLD_GOLD));
		for (int i = 0; i < 3; i++)
			h = old_mix(h ^ le_bytes(kb + 8 * i, 8)) + OLD_GOLD;
		uint64_t h4 = old_unmix(FLOOD_TARGET) ^ le_bytes(kb + 32, 7) ^ OLD_TAIL;
		v3 = old_unmix(h4 - OLD_GOLD) ^ h;
	} else {
		v3 = rng_next(r);
	}
	for (int i = 0; i < 8; i++)
		kb[24 + i] = cli[8 + i] = (uint8_t)(v3 >> (8 * i));
	if (crafted && old_hash64(kb, sizeof(kb), OLD_SEED) != FLOOD_TARGET) {
		fprintf(stderr, "gen-capture: collision crafting failed\n");
		exit(1);
	}
}

/* n SYNs (Ethernet, IPv6, TCP with a correct checksum), 10 us apart, each
 * sent `rounds` times: round after round of the same n SYNs (retransmitted
 * SYNs, each a lookup of a flow already in the table). */
static void flood_run(gen *g, uint32_t n, uint32_t rounds, bool crafted, uint64_t seed)
{
	uint8_t(*cli)[16] = calloc(n ? n : 1, 16);
	if (!cli) {
		fprintf(stderr, "gen-capture: out of memory\n");
		exit(1);
	}
	for (uint32_t i = 0; i < n; i++)
		flood_client((uint16_t)(1024 + i), crafted, &g->r, cli[i]);
	uint64_t t = 0;
	for (uint32_t r = 0; r < rounds; r++) {
		for (uint32_t i = 0; i < n; i++, t += 10000) {
			uint8_t *b = g->frame;
			static const uint8_t mac_c[6] = {0x02, 0, 0, 0, 0, 0x66};
			memcpy(b, GW_MAC, 6);
			memcpy(b + 6, mac_c, 6);
			put16(b + 12, 0x86dd);
			uint8_t *ip = b + 14, *tcp = ip + 40;
			put32(ip, 0x60000000u);
			put16(ip + 4, 20);
			ip[6] = 6, ip[7] = 64;
			memcpy(ip + 8, cli[i], 16);
			memcpy(ip + 24, FLOOD_SRV, 16);
			memset(tcp, 0, 20);
			put16(tcp, 1024 + i);
			put16(tcp + 2, 80);
			put32(tcp + 4, (uint32_t)(old_mix(i ^ (uint64_t)r << 32) >> 32));
			tcp[12] = 5 << 4;
			tcp[13] = 0x02;
			put16(tcp + 14, 64240);
			uint64_t sum = csum_add(0, ip + 8, 32);
			sum += 20 + 6;
			sum = csum_add(sum, tcp, 20);
			put16(tcp + 16, csum_fold(sum));
			emit(g, t, 14 + 40 + 20, true, false);
		}
	}
	free(cli);
	fprintf(stderr,
	        "gen-capture: %" PRIu64 " packets, %" PRIu64 " bytes of packet data, %" PRIu64
	        " file bytes\n"
	        "  collision flood (%s), seed %" PRIu64 ": %" PRIu32 " IPv6 SYNs from fd00::/64 "
	        "to [2001:db8::1]:80, %" PRIu32 " rounds\n"
	        "  %s\n",
	        g->st.pkts, g->st.data_bytes, g->st.file_bytes, crafted ? "crafted" : "random keys",
	        seed, n, rounds,
	        crafted ? "every key has one hash under the old fixed seed (checked)"
	                : "client addresses random: the comparison");
}

/* ---- main ---------------------------------------------------------------------- */
static int parse_size(const char *s, uint64_t *ret)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || s[0] == '-')
		return -EINVAL;
	uint64_t mul = 1;
	switch (*end) {
	case 'k':
	case 'K': mul = 1ull << 10, end++; break;
	case 'm':
	case 'M': mul = 1ull << 20, end++; break;
	case 'g':
	case 'G': mul = 1ull << 30, end++; break;
	default: break;
	}
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end || v > UINT64_MAX / mul)
		return -EINVAL;
	*ret = v * mul;
	return 0;
}

static void usage(void)
{
	fprintf(stderr,
	        "usage: gen-capture [-s SEED] [-r AVG_MBPS] [-l LINK_MBPS] [-m] OUTPUT SIZE\n"
	        "       gen-capture -c FLOWS [-s SEED] [-l LINK_MBPS] OUTPUT\n"
	        "       gen-capture -f SYNS [-u] [-n ROUNDS] [-s SEED] OUTPUT\n"
	        "  SIZE: bytes, with K/M/G suffix (e.g. 1G)\n"
	        "  -c FLOWS     many concurrent flows: FLOWS TCP connections, all open at\n"
	        "               once, then all closed (at most 4194176)\n"
	        "  -f SYNS      hash collision flood: SYNS SYNs crafted against the old\n"
	        "               fixed flow hash seed (at most 64512)\n"
	        "  -u           with -f: random client addresses instead (the comparison)\n"
	        "  -n ROUNDS    with -f: send the SYNs this many times (default 1)\n"
	        "  -s SEED      PRNG seed (default 1)\n"
	        "  -r AVG_MBPS  average bit rate of the capture (default 200)\n"
	        "  -l LINK_MBPS link speed, spacing of back-to-back packets (default 1000)\n"
	        "  -m           the application-heavy mix (web, TLS, DNS and mail)\n");
}

int main(int argc, char **argv)
{
	uint64_t seed = 1, avg = 200, link = 1000, size = 0, nconc = 0, nflood = 0, rounds = 1;
	bool flood_mode = false, flood_random = false, mix = false;
	int opt;
	while ((opt = getopt(argc, argv, "s:r:l:c:f:n:umh")) != -1) {
		if (opt == 'u' || opt == 'm') {
			flood_random |= opt == 'u';
			mix |= opt == 'm';
			continue;
		}
		flood_mode |= opt == 'f';
		uint64_t *dst = opt == 's'   ? &seed
		                : opt == 'r' ? &avg
		                : opt == 'l' ? &link
		                : opt == 'c' ? &nconc
		                : opt == 'f' ? &nflood
		                : opt == 'n' ? &rounds
		                             : NULL;
		if (!dst || parse_size(optarg, dst) < 0) {
			usage();
			return 2;
		}
	}
	bool conc_mode = nconc > 0;
	if (flood_mode && (conc_mode || argc - optind != 1 || nflood > FLOOD_MAX || rounds == 0 ||
	                   rounds > 1000)) {
		usage();
		return 2;
	}
	if ((!flood_mode && (argc - optind != (conc_mode ? 1 : 2) ||
	                     (!conc_mode && parse_size(argv[optind + 1], &size) < 0))) ||
	    avg == 0 || link < avg || nconc > CONC_MAX || link == 0) {
		usage();
		return 2;
	}
	gen *g = calloc(1, sizeof(*g));
	world *w = calloc(1, sizeof(*w));
	if (!g || !w) {
		fprintf(stderr, "gen-capture: out of memory\n");
		return 1;
	}
	g->out = fopen(argv[optind], "wb");
	if (!g->out) {
		fprintf(stderr, "gen-capture: %s: %s\n", argv[optind], strerror(errno));
		return 1;
	}
	static char obuf[1 << 22];
	setvbuf(g->out, obuf, _IOFBF, sizeof(obuf));
	rng_seed(&g->r, seed);
	world_init(w, &g->r);
	g->w = w;
	g->limit = size;
	g->mix = mix;
	g->avg_bps = (double)avg * 1e6;
	g->link_bps = (double)link * 1e6;
	g->free_head = NO_FLOW;
	g->mean_flow_bytes = 4500;

	uint8_t fh[24] = {0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0};
	uint32_t snap = SNAPLEN;
	fh[16] = (uint8_t)snap, fh[17] = (uint8_t)(snap >> 8), fh[18] = (uint8_t)(snap >> 16);
	fh[20] = 1; /* LINKTYPE_ETHERNET */
	write_or_die(g, fh, sizeof(fh));
	g->st.file_bytes = sizeof(fh);

	if (flood_mode || conc_mode) {
		if (flood_mode)
			flood_run(g, (uint32_t)nflood, (uint32_t)rounds, !flood_random, seed);
		else
			conc_run(g, seed, (uint32_t)nconc);
		if (fclose(g->out) != 0) {
			fprintf(stderr, "gen-capture: close failed: %s\n", strerror(errno));
			return 1;
		}
		free(g->heap);
		free(w);
		free(g);
		return 0;
	}

	heap_push(g, 0, NO_FLOW);
	while (g->st.file_bytes < g->limit && g->nheap) {
		event e = heap_pop(g);
		if (e.flow == NO_FLOW) {
			flow_new(g, e.t);
			double mean_gap = g->mean_flow_bytes * 8e9 / g->avg_bps;
			/* the plan is an estimate: correct it by the rate achieved so far */
			if (e.t > 1000000000ull) {
				double got =
				    (double)g->st.data_bytes * 8e9 / (double)e.t / g->avg_bps;
				mean_gap *= got < 0.5 ? 0.5 : got > 2.0 ? 2.0 : got;
			}
			uint64_t gap = (uint64_t)(-log(1.0 - rng_unit(&g->r)) * mean_gap);
			heap_push(g, e.t + gap, NO_FLOW);
			continue;
		}
		/* a flow's step happens at its own time or when the link frees up */
		uint64_t now = e.t;
		uint64_t delay = flow_step(g, &g->flows[e.flow], now);
		uint64_t done = g->link_free > now ? g->link_free : now;
		if (delay)
			heap_push(g, done + delay, e.flow);
		else
			flow_release(g, e.flow);
	}
	if (fclose(g->out) != 0) {
		fprintf(stderr, "gen-capture: close failed: %s\n", strerror(errno));
		return 1;
	}
	stats *s = &g->st;
	double secs = (double)g->last_ts / 1e9;
	uint64_t nfl = s->flows[0] + s->flows[1] + s->flows[2] + s->flows[3];
	fprintf(stderr,
	        "gen-capture: %" PRIu64 " packets, %" PRIu64 " bytes of packet data, %" PRIu64
	        " file bytes\n"
	        "  capture time %.1f s, average %.0f Mbit/s\n"
	        "  flows %" PRIu64 ": tcp %" PRIu64 " (tls %" PRIu64 ", http %" PRIu64
	        ", ssh %" PRIu64 ", other %" PRIu64 ", smtp %" PRIu64 "), dns %" PRIu64
	        ", ntp %" PRIu64 ", icmp %" PRIu64 "\n"
	        "  tcp ends: fin %" PRIu64 ", rst %" PRIu64 ", abandoned %" PRIu64
	        ", syn unanswered %" PRIu64 ", refused %" PRIu64 "\n"
	        "  ipv6 flows %" PRIu64 ", vlan flows %" PRIu64 ", max concurrent flows %" PRIu64
	        "\n"
	        "  data segments %" PRIu64 ", out of order %" PRIu64
	        " (%.2f%%), retransmitted %" PRIu64 " (%.2f%%)\n"
	        "  packets: ipv6 %" PRIu64 ", vlan %" PRIu64 "; frames <=128 B %" PRIu64
	        ", <=576 B %" PRIu64 ", <1500 B %" PRIu64 ", >=1500 B %" PRIu64 "\n",
	        s->pkts, s->data_bytes, s->file_bytes, secs,
	        secs > 0 ? (double)s->data_bytes * 8 / secs / 1e6 : 0.0, nfl, s->flows[K_TCP],
	        s->apps[A_TLS], s->apps[A_HTTP], s->apps[A_SSH], s->apps[A_RAW], s->apps[A_SMTP],
	        s->flows[K_DNS], s->flows[K_NTP], s->flows[K_ICMP], s->hows[H_FIN], s->hows[H_RST],
	        s->hows[H_ABANDON], s->hows[H_NOANSWER], s->hows[H_REFUSED], s->v6_flows,
	        s->vlan_flows, s->max_active, s->segs, s->ooo,
	        s->segs ? 100.0 * (double)s->ooo / (double)s->segs : 0.0, s->retx,
	        s->segs ? 100.0 * (double)s->retx / (double)s->segs : 0.0, s->v6_pkts, s->vlan_pkts,
	        s->frame_hist[0], s->frame_hist[1], s->frame_hist[2], s->frame_hist[3]);
	free(g->flows);
	free(g->heap);
	free(w);
	free(g);
	return 0;
}
