/* engine.c: offline inspection. The reader (the calling thread) reads the
 * capture, parses each packet lightly (om_decode_peek) for scan detection and
 * to choose a worker by a symmetric hash of the address pair (so that the
 * fragments and both directions of a flow meet on one worker), and hands the
 * packets over in batches. Each worker runs decode, defrag, flow, stream and
 * writes its events. The reader is itself worker 0 and runs its share of the
 * flows at once, so --workers N starts N - 1 threads: on a small box the
 * reader does not sit idle while the workers fight it for the cores. From a
 * mapped capture the other workers get pointers, not copies.
 *
 * Determinism: whatever the number of workers, the same events come out
 * (order aside). Time only moves with the packets' capture time: the reader
 * sends every worker a clock tick once per second of capture time, and flow
 * expiry, recon expiry and periodic stats happen on those ticks only. Periodic
 * stats are summed over the workers at the same point of the capture.
 *
 * The capture clock is the latest accepted packet time. A packet far ahead
 * of it is held back until the next packet says whether time really jumped
 * (a quiet spell: the next packet is not earlier than the held one) or the
 * packet is an outlier (the next one goes back); an outlier, or a packet far
 * behind the clock, is an anomaly event and is processed at the clock's
 * time, so that one bad timestamp neither freezes nor rewinds scan windows
 * and flow timeouts.
 *
 * Events go to the sinks (EVE file, spool) in blocks; the store is fed from
 * the spool by its own writer, never from here. The reader also counts the
 * packets of each UTC hour of the clock and writes one "coverage" event per
 * hour that had packets. */
#include "engine/engine.h"
#include "engine/internal.h"

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define BATCH_BYTES (512 * 1024)
#define BATCHES_PER_WORKER 8
#define OUT_FLUSH_BYTES (256 * 1024)
#define OUT_MAX_BYTES (64 * 1024 * 1024)
#define TICK_USEC 1000000ull
#define HOUR_USEC (3600ull * TICK_USEC)
#define HOLD_MAX 262144u /* the capture reader's largest record */

/* The report categories this gateway watches while it sees packets; the
 * guards that land add theirs. */
static const char *const monitored[] = {"recon"};

enum rec_kind { REC_PACKET = 1, REC_TICK, REC_STATS };

/* A record in a batch. The packet's bytes follow the record (inline, padded
 * to 8) unless ptr is set: then they live in a mapped window of the capture
 * file that the batch holds a reference to. */
struct rec {
	uint32_t kind;
	uint32_t caplen;
	uint32_t wirelen;
	uint32_t pad; /* link type */
	om_usec ts;
	uint64_t pcap_cnt;
	void *round; /* REC_STATS */
	const uint8_t *ptr;
	om_pcap_span *span; /* the mapped window the packet's bytes are in, or NULL */
};

#define BATCH_SPANS 8

struct batch {
	size_t used;
	om_pcap_span *spans[BATCH_SPANS]; /* windows the records point into */
	unsigned nspans;
	_Alignas(8) uint8_t data[BATCH_BYTES]; /* records are 8-aligned */
};

static inline size_t rec_size(const struct rec *r)
{
	return sizeof(*r) + (r->ptr ? 0 : ((r->caplen + 7u) & ~7u));
}

struct queue {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct batch *items[BATCHES_PER_WORKER + 1];
	unsigned head, tail; /* ring of BATCHES_PER_WORKER + 1 */
	bool closed;
};

struct totals {
	om_decode_stats dec;
	om_flow_stats flow;
	om_stream_stats stream;
	om_appctl_stats appctl; /* all zero without application control */
	uint64_t flows_logged;
	uint64_t app_bytes;
};

struct engine;

struct stats_round {
	atomic_uint remaining;
	pthread_mutex_t lock;
	struct totals sum;
	om_recon_stats recon;
	uint64_t packets, bytes, outliers;
	om_usec ts;
};

struct worker {
	struct engine *e;
	unsigned id;
	pthread_t thread;
	om_decoder *dec;
	om_flow_table *ft;
	om_stream_ctx *st;
	om_app_ctx *app;        /* NULL without app-layer parsers */
	om_proto_worker *proto; /* NULL without the proto module */
	om_detect_worker *det;  /* NULL without rules */
	om_appctl_worker *ac;   /* NULL without application control */
	const om_wf_filter *wf; /* the web filter this worker uses; NULL: none */
	om_wf_cache *wfc;       /* its names without rules; NULL: none (yet) */
	bool wfc_tried;         /* wfc was allocated at the first request (once) */
	om_buf out;
	/* packet in progress, for events raised from callbacks */
	const om_packet *cur;
	const om_flow *cur_flow; /* its flow, once looked up */
	uint64_t cur_cnt;
	uint64_t flows_logged, anomalies, app_bytes;
	uint64_t alerts; /* rule alerts written */
	struct queue full, empty;
	struct batch *filling;  /* reader side */
	struct live_worker *lw; /* the live gateway's part; NULL offline */
};

/* The spool sink's thread: workers hand it their full event buffers (the
 * storage is swapped, not copied) and it frames and writes them, so the
 * checksums and the second copy of every line are not on the packet path.
 * SINK_BUFS buffers in all: a worker waits when every one is in flight. */
#define SINK_BUFS 8
struct sink {
	bool inited, started, closed;
	unsigned busy; /* buffers being written */
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	om_buf buf[SINK_BUFS];
	bool full[SINK_BUFS];
	unsigned ring[SINK_BUFS]; /* full buffers in hand-over order */
	unsigned head, count;
};

struct engine {
	const om_engine_opts *o;
	enum om_lang lang; /* of the calling thread, for the workers' messages */
	const om_settings *cfg;
	unsigned nworkers;
	struct worker *w;
	om_recon *recon;
	om_decoder *tdec; /* the reader's own, for what tunnels carry (scan detection) */
	om_buf rout;      /* reader's own events (recon alerts, clock anomalies, coverage, stats) */
	struct sink sink;
	uint64_t packets, bytes;
	uint64_t recon_alerts;
	/* the capture clock */
	om_usec first_ts, clock, last_tick, last_stats;
	om_usec ahead_max, behind_max;
	bool have_ts;
	uint64_t outliers;
	struct {
		bool on;
		uint32_t caplen, wirelen;
		om_usec ts;
		uint64_t cnt;
		uint8_t *data; /* HOLD_MAX bytes, allocated once */
	} hold;
	/* coverage: packets of the clock's current UTC hour */
	om_usec cov_hour;
	uint64_t cov_packets, cov_events;
	atomic_int error;  /* first failure of any thread (negative errno), 0 if none */
	struct live *live; /* the live gateway (om_gateway_run); NULL offline */
};

static bool live_block_scanner(struct engine *e, const om_recon_alert *a);
static void live_page_note(struct engine *e, const om_flow *f, const char *host, size_t len,
                           const char *why, const char *category);
static void live_auto_check(struct engine *e, const char *line, size_t len);
static bool live_blocks(const struct engine *e);
static void live_event(struct engine *e, const char *what, const om_addr *host, bool added,
                       const char *reason);

/* Records the first failure; later ones are dropped. Any thread. */
static void engine_fail(struct engine *e, int r)
{
	int none = 0;
	atomic_compare_exchange_strong(&e->error, &none, r);
}

/* ---- queues ------------------------------------------------------------- */

static void queue_init(struct queue *q)
{
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->cond, NULL);
	q->head = q->tail = 0;
	q->closed = false;
}

static void queue_destroy(struct queue *q)
{
	pthread_mutex_destroy(&q->lock);
	pthread_cond_destroy(&q->cond);
}

static void queue_push(struct queue *q, struct batch *b)
{
	pthread_mutex_lock(&q->lock);
	q->items[q->tail] = b;
	q->tail = (q->tail + 1) % (BATCHES_PER_WORKER + 1);
	pthread_cond_signal(&q->cond);
	pthread_mutex_unlock(&q->lock);
}

/* NULL when closed and empty */
static struct batch *queue_pop(struct queue *q)
{
	struct batch *b = NULL;
	pthread_mutex_lock(&q->lock);
	while (q->head == q->tail && !q->closed)
		pthread_cond_wait(&q->cond, &q->lock);
	if (q->head != q->tail) {
		b = q->items[q->head];
		q->head = (q->head + 1) % (BATCHES_PER_WORKER + 1);
	}
	pthread_mutex_unlock(&q->lock);
	return b;
}

static void queue_close(struct queue *q)
{
	pthread_mutex_lock(&q->lock);
	q->closed = true;
	pthread_cond_broadcast(&q->cond);
	pthread_mutex_unlock(&q->lock);
}

/* ---- event helpers ------------------------------------------------------ */

/* Hands a block of complete lines to the sinks. */
static void *sink_main(void *arg)
{
	struct engine *e = arg;
	struct sink *k = &e->sink;
	om_lang_set_thread(e->lang);
	pthread_setname_np(pthread_self(), "om-spool");
	pthread_mutex_lock(&k->lock);
	for (;;) {
		while (!k->count && !k->closed)
			pthread_cond_wait(&k->cond, &k->lock);
		if (!k->count)
			break;
		unsigned i = k->ring[k->head];
		k->head = (k->head + 1) % SINK_BUFS;
		k->count--;
		k->busy++;
		pthread_mutex_unlock(&k->lock);
		if (om_spool_append(e->o->spool, k->buf[i].data, k->buf[i].len) < 0)
			engine_fail(e, -EIO);
		om_buf_reset(&k->buf[i]);
		pthread_mutex_lock(&k->lock);
		k->full[i] = false;
		k->busy--;
		pthread_cond_broadcast(&k->cond);
	}
	pthread_mutex_unlock(&k->lock);
	return NULL;
}

static void sink_start(struct engine *e)
{
	struct sink *k = &e->sink;
	k->inited = true;
	pthread_mutex_init(&k->lock, NULL);
	pthread_cond_init(&k->cond, NULL);
	for (unsigned i = 0; i < SINK_BUFS; i++)
		om_buf_init(&k->buf[i], OUT_MAX_BYTES);
	/* without the thread, out_flush writes to the spool itself */
	k->started = pthread_create(&k->thread, NULL, sink_main, e) == 0;
}

/* Hands b's lines to the sink thread; b gets an empty buffer back. */
static void sink_push(struct engine *e, om_buf *b)
{
	struct sink *k = &e->sink;
	pthread_mutex_lock(&k->lock);
	unsigned i;
	for (;;) {
		for (i = 0; i < SINK_BUFS && k->full[i]; i++)
			;
		if (i < SINK_BUFS)
			break;
		pthread_cond_wait(&k->cond, &k->lock);
	}
	om_buf t = k->buf[i];
	k->buf[i] = *b;
	*b = t;
	k->full[i] = true;
	k->ring[(k->head + k->count) % SINK_BUFS] = i;
	k->count++;
	pthread_cond_broadcast(&k->cond);
	pthread_mutex_unlock(&k->lock);
}

/* Waits until everything handed over is in the spool. */
static void sink_drain(struct engine *e)
{
	struct sink *k = &e->sink;
	if (!k->started)
		return;
	pthread_mutex_lock(&k->lock);
	while (k->count || k->busy)
		pthread_cond_wait(&k->cond, &k->lock);
	pthread_mutex_unlock(&k->lock);
}

static void sink_stop(struct engine *e)
{
	struct sink *k = &e->sink;
	if (k->started) {
		pthread_mutex_lock(&k->lock);
		k->closed = true;
		pthread_cond_broadcast(&k->cond);
		pthread_mutex_unlock(&k->lock);
		pthread_join(k->thread, NULL);
		k->started = false;
	}
	for (unsigned i = 0; i < SINK_BUFS; i++)
		om_buf_free(&k->buf[i]);
	pthread_mutex_destroy(&k->lock);
	pthread_cond_destroy(&k->cond);
}

/* Hands a block of complete lines to the sinks. */
static void out_flush(struct engine *e, om_buf *b, const char *day)
{
	if (!b->len)
		return;
	if (e->o->eve && om_eve_write(e->o->eve, b->data, b->len, day) < 0)
		engine_fail(e, -EIO);
	if (e->o->spool && e->sink.started) {
		sink_push(e, b);
	} else if (e->o->spool && om_spool_append(e->o->spool, b->data, b->len) < 0) {
		engine_fail(e, -EIO);
	}
	om_buf_reset(b);
}

/* Ends a line in b; flushes when the buffer is big. A line that did not fit
 * (toobig) is dropped whole and the buffer flushed. */
static void out_line(struct engine *e, om_buf *b, size_t line_start, om_usec ts)
{
	char day[16];
	if (b->toobig) {
		b->len = line_start;
		b->toobig = false;
		om_warn(om_tr("warn.engine.event_too_big"), OUT_MAX_BYTES);
		om_time_day(ts, day, sizeof(day));
		out_flush(e, b, day);
		return;
	}
	if (e->live)
		live_auto_check(e, b->data + line_start, b->len - line_start);
	om_buf_putc(b, '\n');
	if (b->len >= OUT_FLUSH_BYTES) {
		om_time_day(ts, day, sizeof(day));
		out_flush(e, b, day);
	}
}

static void json_addr(om_json *j, const char *key, const om_addr *a)
{
	char s[64];
	om_addr_str(a, s, sizeof(s));
	om_json_str(j, key, s);
}

static void event_omamori(om_json *j, const struct engine *e, const char *category, int severity,
                          const char *action, const char *advice)
{
	om_event_meta m = {.category = category,
	                   .severity = severity,
	                   .action = action,
	                   .tenant = e->o->tenant,
	                   .gateway = e->o->gateway,
	                   .advice = advice};
	om_event_omamori(j, &m);
}

static void appctl_json(struct worker *w, const om_flow *f, om_json *j);

/* ---- anomalies ---------------------------------------------------------- */

/* Where an anomaly happened: taken from a packet or from a flow. */
struct anom_where {
	om_usec ts;
	bool has_ip, has_ports;
	const om_addr *src, *dst;
	uint16_t sport, dport;
	uint8_t proto;
	uint64_t pcap_cnt; /* 0: not tied to one packet */
	const uint64_t *flow_id;
	const om_tunnel_layer *tunnel; /* outermost layer of a tunnelled packet or flow */
	unsigned tunnel_depth;
	const char *app_proto; /* the flow's, when known */
	const om_flow *flow;   /* for the flow's application, when known */
};

static void where_from_packet(struct anom_where *wh, const om_packet *p, uint64_t pcap_cnt,
                              const uint64_t *flow_id)
{
	memset(wh, 0, sizeof(*wh));
	wh->ts = p->ts;
	wh->has_ip = p->ip_ver != 0;
	wh->has_ports = (p->flags & OM_PKT_HAS_PORTS) != 0;
	wh->src = &p->src;
	wh->dst = &p->dst;
	wh->sport = p->sport;
	wh->dport = p->dport;
	wh->proto = p->proto;
	wh->pcap_cnt = pcap_cnt;
	wh->flow_id = flow_id;
	wh->tunnel = om_tunnel_root(p->tunnel, p->tunnel_count, &wh->tunnel_depth);
}

/* Addresses in the direction of the data: toserver is client -> server. */
static void where_from_flow(struct anom_where *wh, const om_flow *f, int dir, om_usec ts)
{
	memset(wh, 0, sizeof(*wh));
	wh->ts = ts;
	wh->has_ip = true;
	wh->has_ports = f->proto == IPPROTO_TCP || f->proto == IPPROTO_UDP;
	wh->src = dir == OM_DIR_TOSERVER ? &f->cli : &f->srv;
	wh->dst = dir == OM_DIR_TOSERVER ? &f->srv : &f->cli;
	wh->sport = dir == OM_DIR_TOSERVER ? f->cport : f->sport;
	wh->dport = dir == OM_DIR_TOSERVER ? f->sport : f->cport;
	wh->proto = f->proto;
	wh->flow_id = &f->flow_id;
	wh->app_proto = om_app_proto_name(f);
	wh->flow = f;
	if (f->tunnel && f->tunnel->kind) {
		wh->tunnel = f->tunnel;
		wh->tunnel_depth = f->tunnel_depth;
	}
}

struct gap_info {
	int dir;
	uint64_t offset, len;
};

/* The tunnel object of an event (net writes it; the builder calls back). */
struct tunnel_ref {
	const om_tunnel_layer *root;
	unsigned depth;
	uint64_t pcap_cnt;
};

static void write_tunnel(om_json *j, const void *user)
{
	const struct tunnel_ref *t = user;
	om_tunnel_json(j, t->root, t->depth, t->pcap_cnt);
}

static void anomaly_hdr(om_event_hdr *h, const struct anom_where *wh, struct tunnel_ref *tr)
{
	memset(h, 0, sizeof(*h));
	tr->root = wh->tunnel;
	tr->depth = wh->tunnel_depth;
	tr->pcap_cnt = wh->pcap_cnt;
	if (tr->root) {
		h->tunnel = write_tunnel;
		h->tunnel_user = tr;
	}
	h->ts = wh->ts;
	h->event_type = "anomaly";
	h->flow_id = wh->flow_id;
	h->app_proto = wh->app_proto;
	if (wh->has_ip) {
		h->src = wh->src;
		h->dst = wh->dst;
		h->has_sport = h->has_dport = wh->has_ports;
		h->sport = wh->sport;
		h->dport = wh->dport;
		h->proto = wh->proto;
	}
	h->pcap_cnt = wh->pcap_cnt;
}

static void emit_anomaly(struct worker *w, const struct anom_where *wh, const char *type,
                         const char *event, const struct gap_info *gap)
{
	struct engine *e = w->e;
	om_buf *b = &w->out;
	size_t start = b->len;
	om_json j;
	om_event_hdr h;
	struct tunnel_ref tr;
	anomaly_hdr(&h, wh, &tr);
	om_event_begin(&j, b, &h);
	appctl_json(w, wh->flow, &j);
	om_json_obj_open(&j, "anomaly");
	om_json_str(&j, "type", type);
	om_json_str(&j, "event", event);
	if (gap) {
		om_json_str(&j, "direction", gap->dir == OM_DIR_TOSERVER ? "toserver" : "toclient");
		om_json_u64(&j, "offset", gap->offset);
		om_json_u64(&j, "length", gap->len);
	}
	om_json_obj_close(&j);
	/* the flow table's emergency is explained to the reader; other
	 * anomalies are for experts */
	event_omamori(&j, e, NULL, 3, "detected",
	              strcmp(event, "flow.emergency") ? NULL : "flow.emergency");
	om_event_end(&j);
	w->anomalies++;
	out_line(e, b, start, wh->ts);
}

/* ---- application control (guard's om_appctl) ------------------------------ */
/* The engine's part: feeding each worker's identifier the flow's packets,
 * the "app" object in every event of an identified flow, and the EVE
 * "appctl" event of a flow in a group or with a policy action: written when
 * the policy blocks the flow (at once), else when the flow ends. */

static void appctl_json(struct worker *w, const om_flow *f, om_json *j)
{
	if (w && w->ac && f)
		om_appctl_json(w->ac, f, j);
}

static const char *appctl_advice(const om_app_info *ai)
{
	if (ai->action == OM_APP_ACT_BLOCK)
		return "advice.appctl.blocked";
	switch (ai->group) {
	case OM_APP_G_REMOTE_ACCESS:
	case OM_APP_G_ONLINE_STORAGE: return "advice.appctl.insider_leak";
	case OM_APP_G_SNS:
	case OM_APP_G_WEBMAIL:
	case OM_APP_G_CLOUD_INPUT: return "advice.appctl.careless_leak";
	case OM_APP_G_P2P: return "advice.appctl.p2p";
	case OM_APP_G_VPN_PROXY: return "advice.appctl.vpn_proxy";
	case OM_APP_G_GAMES: return "advice.appctl.games";
	default: return NULL;
	}
}

static void appctl_event(struct worker *w, const om_flow *f, const om_app_info *ai, om_usec now)
{
	struct engine *e = w->e;
	om_buf *b = &w->out;
	size_t start = b->len;
	om_json j;
	char t[40];
	bool ports = f->proto == IPPROTO_TCP || f->proto == IPPROTO_UDP;
	om_event_hdr h = {.ts = now,
	                  .event_type = "appctl",
	                  .flow_id = &f->flow_id,
	                  .vlan = f->vlan,
	                  .vlan_count = f->vlan_count,
	                  .src = &f->cli,
	                  .dst = &f->srv,
	                  .has_sport = ports,
	                  .has_dport = ports,
	                  .sport = f->cport,
	                  .dport = f->sport,
	                  .proto = f->proto,
	                  .app_proto = om_app_proto_name(f),
	                  .pcap_cnt = w->cur ? w->cur_cnt : 0};
	om_event_begin(&j, b, &h);
	om_app_info_json(&j, ai);
	om_json_obj_open(&j, "appctl");
	if (ai->group != OM_APP_G_NONE)
		om_json_str(&j, "group", om_app_group_name(ai->group));
	om_json_str(&j, "application", ai->app ? ai->app : ai->proto);
	/* the policy's action; a group without one is logged */
	const char *pol = om_app_action_name(ai->action);
	om_json_str(&j, "policy", pol ? pol : "log");
	om_json_u64(&j, "bytes_toserver", f->bytes[OM_DIR_TOSERVER]);
	om_json_u64(&j, "bytes_toclient", f->bytes[OM_DIR_TOCLIENT]);
	om_time_iso(f->start, t, sizeof(t));
	om_json_str(&j, "start", t);
	om_time_iso(f->last, t, sizeof(t));
	om_json_str(&j, "end", t);
	om_json_obj_close(&j);
	const char *act = ai->action == OM_APP_ACT_BLOCK   ? "blocked"
	                  : ai->action == OM_APP_ACT_ALLOW ? "allowed"
	                                                   : "detected";
	event_omamori(&j, e, NULL, ai->action == OM_APP_ACT_BLOCK ? 2 : 3, act,
	              ai->action == OM_APP_ACT_ALLOW ? NULL : appctl_advice(ai));
	om_event_end(&j);
	out_line(e, b, start, now);
}

static void appctl_packet(struct worker *w, om_flow *f, const om_packet *p)
{
	om_app_info ai;
	if (om_appctl_packet(w->ac, f, p, &ai) == 1 && ai.action == OM_APP_ACT_BLOCK) {
		appctl_event(w, f, &ai, p->ts);
		om_appctl_flow_reported(w->ac, f);
	}
}

/* The application control's observer: the first transaction of an HTTP,
 * TLS or QUIC flow names it from its Host or SNI (registered before the
 * web filter's and threat intelligence's observers, so that their events of
 * that transaction carry the application). */
static void *appctl_obs_worker(void *user, unsigned worker)
{
	struct engine *e = user;
	return &e->w[worker];
}

static enum om_tx_verdict appctl_on_tx(void *wctx, om_flow *f, const om_proto_tx *tx)
{
	struct worker *w = wctx;
	om_app_info ai;
	if (w->ac && om_appctl_tx(w->ac, f, tx, &ai) == 1 && ai.action == OM_APP_ACT_BLOCK) {
		appctl_event(w, f, &ai, w->cur ? w->cur->ts : f->last);
		om_appctl_flow_reported(w->ac, f);
	}
	return OM_TX_VERDICT_ACCEPT;
}

static int appctl_attach(struct engine *e, const om_appctl *ac, om_proto *proto)
{
	if (!ac || !proto)
		return 0;
	om_proto_observer obs = {.name = "appctl",
	                         .worker_new = appctl_obs_worker,
	                         .on_tx = appctl_on_tx,
	                         .user = e,
	                         .no_http_bodies = true};
	return om_proto_add_observer(proto, &obs);
}

/* At the flow's end, before its record: the appctl event if one is due,
 * and what goes into the flow record (true when there is something). */
static bool appctl_flow_end(struct worker *w, om_flow *f, om_app_info *ai)
{
	if (!w->ac || om_appctl_flow_end(w->ac, f, ai) < 0)
		return false;
	if (!ai->reported && (ai->group != OM_APP_G_NONE || ai->action != OM_APP_ACT_NONE))
		appctl_event(w, f, ai, f->last);
	return ai->proto || ai->app;
}

/* ---- flows -------------------------------------------------------------- */

static void tcp_flags_hex(uint8_t f, char out[3])
{
	static const char hx[] = "0123456789abcdef";
	out[0] = hx[f >> 4];
	out[1] = hx[f & 15];
	out[2] = '\0';
}

static void on_flow_end(void *user, om_flow *f, enum om_flow_end why)
{
	struct worker *w = user;
	struct engine *e = w->e;
	/* A flow ended while another packet is looked up (its timeout passed,
	 * port reuse, room for a new flow): what it reports now (gaps) belongs
	 * to it, not to that packet. */
	const om_packet *cur = w->cur;
	w->cur = NULL;
	if (f->proto == IPPROTO_TCP)
		om_stream_flow_end_why(w->st, f, om_stream_end_of(why));
	/* after the stream's last bytes: ends, frees the parser's state */
	const char *app_proto = om_app_flow_end(w->app, f, why);
	om_app_info ai;
	bool has_app = appctl_flow_end(w, f, &ai);
	om_buf *b = &w->out;
	size_t start = b->len;
	om_json j;
	char t[40];
	bool ports = f->proto == IPPROTO_TCP || f->proto == IPPROTO_UDP;
	struct tunnel_ref tr = {f->tunnel && f->tunnel->kind ? f->tunnel : NULL, f->tunnel_depth,
	                        0};
	om_event_hdr h = {.ts = f->start,
	                  .event_type = "flow",
	                  .flow_id = &f->flow_id,
	                  .vlan = f->vlan,
	                  .vlan_count = f->vlan_count,
	                  .src = &f->cli,
	                  .dst = &f->srv,
	                  .has_sport = ports,
	                  .has_dport = ports,
	                  .sport = f->cport,
	                  .dport = f->sport,
	                  .proto = f->proto,
	                  .app_proto = app_proto,
	                  .tunnel = tr.root ? write_tunnel : NULL,
	                  .tunnel_user = &tr};
	om_event_begin(&j, b, &h);
	if (has_app)
		om_app_info_json(&j, &ai);
	om_json_kobj_open(&j, OM_JK("flow"));
	om_json_ku64(&j, OM_JK("pkts_toserver"), f->pkts[OM_DIR_TOSERVER]);
	om_json_ku64(&j, OM_JK("pkts_toclient"), f->pkts[OM_DIR_TOCLIENT]);
	om_json_ku64(&j, OM_JK("bytes_toserver"), f->bytes[OM_DIR_TOSERVER]);
	om_json_ku64(&j, OM_JK("bytes_toclient"), f->bytes[OM_DIR_TOCLIENT]);
	om_time_iso(f->start, t, sizeof(t));
	om_json_kstr(&j, OM_JK("start"), t);
	om_time_iso(f->last, t, sizeof(t));
	om_json_kstr(&j, OM_JK("end"), t);
	om_json_ku64(&j, OM_JK("age"), (f->last - f->start) / 1000000u);
	om_json_kstr(&j, OM_JK("state"), om_flow_state_name(f->state));
	om_json_kstr(&j, OM_JK("reason"), om_flow_end_name(why));
	om_json_kbool(&j, OM_JK("midstream"), (f->flags & OM_FLOW_F_MIDSTREAM) != 0);
	/* set by what inspected the flow's transactions (proto's observers:
	 * the rule engine, the guards); scan alerts belong to a source */
	om_json_kbool(&j, OM_JK("alerted"), (f->flags & OM_FLOW_F_ALERTED) != 0);
	/* the gateway saw no more of it: the counts above stop there */
	if (f->flags & OM_FLOW_F_BYPASSED)
		om_json_kbool(&j, OM_JK("bypassed"), true);
	om_json_obj_close(&j);
	if (f->proto == IPPROTO_TCP) {
		char hx[3];
		uint8_t all = f->tcp_flags[0] | f->tcp_flags[1];
		om_json_kobj_open(&j, OM_JK("tcp"));
		tcp_flags_hex(all, hx);
		om_json_kstr(&j, OM_JK("tcp_flags"), hx);
		tcp_flags_hex(f->tcp_flags[0], hx);
		om_json_kstr(&j, OM_JK("tcp_flags_ts"), hx);
		tcp_flags_hex(f->tcp_flags[1], hx);
		om_json_kstr(&j, OM_JK("tcp_flags_tc"), hx);
		if (all & OM_TH_SYN)
			om_json_kbool(&j, OM_JK("syn"), true);
		if (all & OM_TH_FIN)
			om_json_kbool(&j, OM_JK("fin"), true);
		if (all & OM_TH_RST)
			om_json_kbool(&j, OM_JK("rst"), true);
		if (all & OM_TH_PUSH)
			om_json_kbool(&j, OM_JK("psh"), true);
		if (all & OM_TH_ACK)
			om_json_kbool(&j, OM_JK("ack"), true);
		om_json_kstr(&j, OM_JK("state"), om_tcp_state_name(f->tcp_state));
		om_json_obj_close(&j);
	}
	om_event_end(&j);
	w->flows_logged++;
	out_line(e, b, start, f->start);
	w->cur = cur;
}

/* The flow table of this worker is nearly full and shortens its timeouts:
 * one warning event (anomaly "flow.emergency", with advice for the reader)
 * each time that starts; the table's hysteresis keeps it from flapping. */
static void on_flow_emergency(void *user, bool entered, om_usec now, const om_flow_stats *st)
{
	struct worker *w = user;
	(void)st;
	if (!entered)
		return;
	struct anom_where wh;
	memset(&wh, 0, sizeof(wh));
	wh.ts = now;
	emit_anomaly(w, &wh, "flow", "flow.emergency", NULL);
}

/* The common header of an event about flow f, client to server, timed by
 * the packet being processed (or the flow's last packet). */
static om_event_hdr flow_hdr(const struct worker *w, const om_flow *f, const char *event_type,
                             const char *app_proto)
{
	bool ports = f->proto == IPPROTO_TCP || f->proto == IPPROTO_UDP;
	return (om_event_hdr){.ts = w->cur ? w->cur->ts : f->last,
	                      .event_type = event_type,
	                      .flow_id = &f->flow_id,
	                      .vlan = f->vlan,
	                      .vlan_count = f->vlan_count,
	                      .src = &f->cli,
	                      .dst = &f->srv,
	                      .has_sport = ports,
	                      .has_dport = ports,
	                      .sport = f->cport,
	                      .dport = f->sport,
	                      .proto = f->proto,
	                      .app_proto = app_proto,
	                      .pcap_cnt = w->cur ? w->cur_cnt : 0};
}

/* ---- app-layer records ------------------------------------------------------ */

/* The proto module's sink: a parser's record (http, dns, fileinfo, an
 * applayer anomaly) gets the common header of its flow, in the direction
 * the record asks for, timed by the packet being processed. */
static void on_proto_event(void *user, om_flow *f, const om_proto_event *ev)
{
	struct worker *w = user;
	struct engine *e = w->e;
	om_buf *b = &w->out;
	size_t start = b->len;
	om_json j;
	bool ts = ev->dir == OM_DIR_TOSERVER;
	bool ports = f->proto == IPPROTO_TCP || f->proto == IPPROTO_UDP;
	struct tunnel_ref tr = {f->tunnel && f->tunnel->kind ? f->tunnel : NULL, f->tunnel_depth,
	                        w->cur ? w->cur_cnt : 0};
	om_usec now = w->cur ? w->cur->ts : f->last;
	om_event_hdr h = {.ts = now,
	                  .event_type = ev->event_type,
	                  .flow_id = &f->flow_id,
	                  .vlan = f->vlan,
	                  .vlan_count = f->vlan_count,
	                  .src = ts ? &f->cli : &f->srv,
	                  .dst = ts ? &f->srv : &f->cli,
	                  .has_sport = ports,
	                  .has_dport = ports,
	                  .sport = ts ? f->cport : f->sport,
	                  .dport = ts ? f->sport : f->cport,
	                  .proto = f->proto,
	                  .app_proto = om_app_proto_name(f),
	                  .tunnel = tr.root ? write_tunnel : NULL,
	                  .tunnel_user = &tr,
	                  .pcap_cnt = w->cur ? w->cur_cnt : 0};
	om_event_begin(&j, b, &h);
	appctl_json(w, f, &j);
	if (ev->body)
		ev->body(&j, ev->arg);
	if (ev->meta) {
		/* the parser's own members of the object come with it */
		om_event_meta m = *ev->meta;
		m.tenant = e->o->tenant;
		m.gateway = e->o->gateway;
		om_event_omamori(&j, &m);
	}
	om_event_end(&j);
	if (!strcmp(ev->event_type, "anomaly"))
		w->anomalies++;
	out_line(e, b, start, now);
}

/* ---- the web filter's events ---------------------------------------------- */

static void *webfilter_worker_user(void *user, unsigned worker)
{
	struct engine *e = user;
	return &e->w[worker];
}

/* A listed, allowed or blocked request (guard's om_wf_filter callback): an
 * EVE "webfilter" event on the worker's output, with the omamori object
 * (harmful_web) when it was blocked or is in a category marked harmful. */
static void on_webfilter_event(void *user, om_flow *f, const om_proto_tx *tx, const om_wf_event *ev)
{
	struct worker *w = user;
	struct engine *e = w->e;
	const om_wf_filter *filt = w->wf;
	om_buf *b = &w->out;
	size_t start = b->len;
	om_json j;
	om_usec now = w->cur ? w->cur->ts : f->last;
	om_event_hdr h = flow_hdr(w, f, "webfilter", tx->app_proto);
	om_event_begin(&j, b, &h);
	appctl_json(w, f, &j);
	const om_wf_decision *d = ev->d;
	om_json_obj_open(&j, "webfilter");
	om_json_str(&j, "verdict", om_wf_verdict_name(d->verdict));
	static const char *const sources[] = {"category", "allow_list", "block_list"};
	om_json_str(&j, "source", sources[d->source]);
	om_json_str(&j, "field", ev->field);
	om_json_strn(&j, "host", ev->name, ev->name_len);
	if (ev->path)
		om_json_strn(&j, "url", ev->path, ev->path_len);
	om_json_str(&j, "rule", d->rule);
	om_json_arr_open(&j, "categories");
	if (d->ech)
		om_json_str(&j, NULL, OM_WF_CAT_ECH);
	for (uint32_t i = 0; filt->db && i < om_wf_db_categories(filt->db); i++)
		if (d->cats & (1ULL << i))
			om_json_str(&j, NULL, om_wf_db_category(filt->db, i));
	om_json_arr_close(&j);
	om_json_obj_close(&j);
	if (d->verdict == OM_WF_BLOCKED) {
		const char *cat = d->ech ? OM_WF_CAT_ECH : NULL;
		for (uint32_t i = 0; filt->db && i < om_wf_db_categories(filt->db) && !cat; i++)
			if (d->cats & (1ULL << i))
				cat = om_wf_db_category(filt->db, i);
		live_page_note(e, f, ev->name, ev->name_len,
		               d->source == OM_WF_SRC_CATEGORY ? "gateway.page.why.category"
		                                               : "gateway.page.why.block_list",
		               cat);
	}
	if (d->verdict == OM_WF_BLOCKED)
		event_omamori(&j, e, "harmful_web", 2, "blocked", "advice.webfilter.blocked");
	else if (d->verdict == OM_WF_LISTED && (d->cats & filt->alert_cats))
		event_omamori(&j, e, "harmful_web", 2, "detected", "advice.webfilter.harmful");
	om_event_end(&j);
	out_line(e, b, start, now);
}

/* ---- threat intelligence (guard's om_intel_matcher) ------------------------- */

/* An indicator matched (guard's om_intel_matcher callback): an EVE alert
 * (so that the store, the reports and the automatic quarantine take it as
 * they take IPS alerts) with an "intel" object naming the internal host,
 * the indicator and its source. The report category follows the
 * indicator's threat: c2 for command and control and for traffic to other
 * listed places, web_malware, harmful_web; intrusion when a listed address
 * opened the connection from outside. Signature ids 9100001..9100005. */
static void on_intel_event(void *user, om_flow *f, const om_intel_event *ev)
{
	struct worker *w = user;
	struct engine *e = w->e;
	const om_intel_matcher *m = e->o->intel;
	om_buf *b = &w->out;
	size_t start = b->len;
	om_json j;
	om_usec now = w->cur ? w->cur->ts : f->last;
	om_event_hdr h = flow_hdr(w, f, "alert", ev->tx ? ev->tx->app_proto : om_app_proto_name(f));
	const om_intel_hit *hit = ev->hit;
	/* a listed address that opened the flow from outside to the office */
	bool inbound = !strcmp(ev->field, "flow.src_ip") && ev->host_known &&
	               memcmp(ev->host.b, f->srv.b, 16) == 0;
	const char *cat = "c2", *advice = "advice.intel.c2", *sig = "signature.intel.c2";
	uint64_t sid = 9100001;
	if (inbound) {
		cat = "intrusion";
		advice = "advice.intel.inbound";
		sig = "signature.intel.inbound";
		sid = 9100005;
	} else if (hit->threat == OM_INTEL_THREAT_MALWARE) {
		cat = "web_malware";
		advice = "advice.intel.malware";
		sig = "signature.intel.malware";
		sid = 9100002;
	} else if (hit->threat == OM_INTEL_THREAT_PHISHING) {
		cat = "harmful_web";
		advice = "advice.intel.phishing";
		sig = "signature.intel.phishing";
		sid = 9100003;
	} else if (hit->threat == OM_INTEL_THREAT_OTHER) {
		sig = "signature.intel.other";
		sid = 9100004;
	}
	int severity = hit->confidence >= 75 ? 1 : 2;
	om_event_begin(&j, b, &h);
	om_json_obj_open(&j, "alert");
	om_json_str(&j, "action", m->block ? "blocked" : "allowed");
	om_json_u64(&j, "gid", 1);
	om_json_u64(&j, "signature_id", sid);
	om_json_u64(&j, "rev", 1);
	om_json_str(&j, "signature", om_msg(OM_LANG_EN, sig));
	om_json_str(&j, "category", "Threat intelligence match");
	om_json_u64(&j, "severity", (uint64_t)severity);
	om_json_obj_close(&j);
	char ind[OM_INTEL_VALUE_MAX * 2 + 8], host[64];
	om_intel_hit_text(hit, ind, sizeof(ind));
	om_addr_str(&ev->host, host, sizeof(host));
	om_json_obj_open(&j, "intel");
	om_json_str(&j, "indicator", ind);
	om_json_str(&j, "type", om_intel_type_name(hit->type));
	om_json_str(&j, "source", hit->source);
	om_json_u64(&j, "confidence", hit->confidence);
	om_json_str(&j, "threat", om_intel_threat_name(hit->threat));
	om_json_str(&j, "field", ev->field);
	om_json_strn(&j, "value", ev->value, ev->value_len);
	if (ev->host_known)
		om_json_str(&j, "host", host);
	om_json_obj_close(&j);
	event_omamori(&j, e, cat, severity, m->block ? "blocked" : "detected", advice);
	om_event_end(&j);
	w->alerts++;
	out_line(e, b, start, now);
}

/* The web filter as seen by one worker: the filter it uses now (a reload
 * gives the worker another one between two batches). */
static enum om_tx_verdict webfilter_on_tx(void *wctx, om_flow *f, const om_proto_tx *tx)
{
	struct worker *w = wctx;
	if (!w->wf)
		return OM_TX_VERDICT_ACCEPT;
	if (!w->wfc_tried) {
		w->wfc_tried = true;
		if (om_wf_cache_new(&w->wfc) < 0)
			w->wfc = NULL; /* decided without the cache */
	}
	return om_wf_on_tx_cached(w->wf, w->wfc, w, f, tx);
}

/* Registers the web filter's observer (offline and live): its events come
 * to on_webfilter_event on the flow's worker. always: also without a
 * filter (the live gateway, whose reload may bring one). */
static int webfilter_attach(struct engine *e, om_wf_filter *wf, om_proto *proto, bool always)
{
	if ((!wf && !always) || !proto)
		return 0;
	if (wf) {
		wf->cb = on_webfilter_event;
		wf->user = e;
		wf->worker_user = webfilter_worker_user;
	}
	om_proto_observer obs = {.name = "webfilter",
	                         .worker_new = webfilter_worker_user,
	                         .on_tx = webfilter_on_tx,
	                         .user = e,
	                         .no_http_bodies = true};
	return om_proto_add_observer(proto, &obs);
}

/* ---- the anti-virus' alerts ---------------------------------------------------- */

/* Malware in a file (guard's om_av subscriber): an EVE "alert" with the
 * signature, the file (fileinfo: name, size, sha256) and the av object, in
 * the file's direction, category web_malware (HTTP, FTP) or mail_malware
 * (SMTP, POP3, IMAP). Called on the file's worker: at the file's end
 * offline, from om_av_worker_poll inline (the flow may be gone: everything
 * comes from the copy in a). */
static void on_av_alert(void *user, unsigned worker, const om_av_alert *a)
{
	struct engine *e = user;
	struct worker *w = &e->w[worker < e->nworkers ? worker : 0];
	om_buf *b = &w->out;
	size_t start = b->len;
	om_json j;
	bool ts = a->dir == OM_DIR_TOSERVER;
	bool ports = a->proto == IPPROTO_TCP || a->proto == IPPROTO_UDP;
	om_usec now = w->cur ? w->cur->ts : a->ts;
	om_event_hdr h = {.ts = now,
	                  .event_type = "alert",
	                  .flow_id = &a->flow_id,
	                  .vlan = a->vlan,
	                  .vlan_count = a->vlan_count,
	                  .src = ts ? &a->cli : &a->srv,
	                  .dst = ts ? &a->srv : &a->cli,
	                  .has_sport = ports,
	                  .has_dport = ports,
	                  .sport = ts ? a->cport : a->sport,
	                  .dport = ts ? a->sport : a->cport,
	                  .proto = a->proto,
	                  .app_proto = a->app_proto,
	                  .pcap_cnt = w->cur ? w->cur_cnt : 0};
	om_event_begin(&j, b, &h);
	om_json_obj_open(&j, "alert");
	om_json_str(&j, "action", a->blocked ? "blocked" : "allowed");
	om_json_str(&j, "signature", a->res->signature);
	om_json_str(&j, "category", "Malware");
	om_json_u64(&j, "severity", 1);
	om_json_obj_close(&j);
	om_json_obj_open(&j, "fileinfo");
	om_json_strn(&j, "filename", (const char *)a->name, a->name_len);
	if (a->sha256) {
		char hx[65];
		for (int i = 0; i < 32; i++)
			snprintf(hx + 2 * i, 3, "%02x", a->sha256[i]);
		om_json_str(&j, "sha256", hx);
	}
	om_json_u64(&j, "size", a->size);
	om_json_u64(&j, "tx_id", a->tx_id);
	om_json_obj_close(&j);
	om_av_result_json(&j, a->res);
	event_omamori(&j, e, a->mail ? "mail_malware" : "web_malware", 1,
	              a->blocked ? "blocked" : "detected",
	              a->mail ? "advice.av.mail_malware" : "advice.av.web_malware");
	om_event_end(&j);
	w->alerts++;
	out_line(e, b, start, now);
}

static void *intel_worker_user(void *user, unsigned worker)
{
	struct engine *e = user;
	return &e->w[worker];
}

/* Gives the matcher its callback and registers it with proto (observer and
 * file subscriber) when there are parsers; flows are checked from
 * process_packet. */
static int intel_attach(struct engine *e, om_intel_matcher *m, om_proto *proto)
{
	m->cb = on_intel_event;
	m->user = e;
	m->worker_user = intel_worker_user;
	if (!m->base)
		m->base = &e->cfg->base;
	if (!proto)
		return 0;
	om_proto_observer obs;
	om_intel_observer(&obs, m);
	int r = om_proto_add_observer(proto, &obs);
	if (r < 0)
		return r;
	om_file_subscriber sub;
	om_intel_file_subscriber(&sub, m);
	return om_proto_add_file_subscriber(proto, &sub);
}

/* At a flow's first packet: its two addresses against the indicators. */
static void intel_flow(struct worker *w, om_flow *f)
{
	om_intel_matcher *m = w->e->o->intel;
	if (m && f->pkts[0] + f->pkts[1] == 1)
		om_intel_flow_start(m, w->id, f);
}

/* The live gateway's tick on worker 0: a replaced database file is mapped
 * and swapped in (every 10 s); every worker's tick also marks it past the
 * old mapping, so an idle worker does not keep one alive. */
static void intel_tick(struct worker *w, om_usec now)
{
	static _Thread_local om_usec last;
	om_intel_matcher *m = w->e->o->intel;
	if (!m)
		return;
	(void)om_intel_live_get(m->live, w->id);
	if (w->id != 0 || now - last < 10 * TICK_USEC)
		return;
	last = now;
	int r = om_intel_live_reload(m->live);
	if (r == 1)
		om_log(OM_LOG_INFO, om_tr("gateway.intel.reloaded"),
		       (unsigned long long)om_intel_live_generation(m->live));
	else if (r < 0)
		om_log(OM_LOG_WARN, om_tr("gateway.intel.reload_failed"), strerror(-r));
}

/* ---- stream callbacks ----------------------------------------------------- */

static void on_stream_data(void *user, om_flow *f, int dir, const uint8_t *data, uint32_t len,
                           uint64_t offset, unsigned flags)
{
	struct worker *w = user;
	w->app_bytes += len;
	/* rules see the stream around the parsers (om_detect_stream); the
	 * packet that delivered the bytes, when it is this flow's */
	if (w->det)
		om_detect_stream(w->det, f, dir, data, len, offset,
		                 w->cur_flow == f ? w->cur : NULL);
	om_app_tcp_data(w->app, f, dir, data, len,
	                (flags & OM_STREAM_DATA_HELD) ? OM_APP_DATA_HELD : 0);
	if (w->det)
		om_detect_stream_end(w->det);
}

/* A hole in one direction that was never filled (skipped at flow end or
 * when the reassembly memcap forced it): one anomaly event each. */
static void on_stream_gap(void *user, om_flow *f, int dir, uint64_t offset, uint64_t len)
{
	struct worker *w = user;
	struct anom_where wh;
	struct gap_info gap = {dir, offset, len};
	where_from_flow(&wh, f, dir, w->cur ? w->cur->ts : f->last);
	if (w->cur)
		wh.pcap_cnt = w->cur_cnt;
	emit_anomaly(w, &wh, "stream", "stream.gap", &gap);
	om_app_tcp_gap(w->app, f, dir, len);
}

static void on_stream_event(void *user, om_flow *f, const char *event)
{
	struct worker *w = user;
	struct anom_where wh;
	if (w->cur) {
		where_from_packet(&wh, w->cur, w->cur_cnt, &f->flow_id);
		wh.app_proto = om_app_proto_name(f);
	} else {
		where_from_flow(&wh, f, OM_DIR_TOSERVER, f->last);
	}
	emit_anomaly(w, &wh, "stream", event, NULL);
}

/* ---- rule alerts ------------------------------------------------------------ */

struct det_alert_arg {
	const om_detect_alert *a;
};

static void det_metadata(om_json *j, const char *md)
{
	/* "key value, key value": {"key": ["value", ...]} in first-seen order */
	char keys[32][48];
	unsigned nk = 0;
	const char *p = md;
	while (*p && nk < 32) {
		while (*p == ' ' || *p == ',')
			p++;
		size_t n = strcspn(p, " ,");
		if (n && n < sizeof(keys[0])) {
			bool seen = false;
			for (unsigned i = 0; i < nk; i++)
				if (strlen(keys[i]) == n && !strncmp(keys[i], p, n))
					seen = true;
			if (!seen) {
				memcpy(keys[nk], p, n);
				keys[nk++][n] = '\0';
			}
		}
		p += n;
		p += strcspn(p, ",");
	}
	om_json_obj_open(j, "metadata");
	for (unsigned i = 0; i < nk; i++) {
		size_t kl = strlen(keys[i]);
		om_json_arr_open(j, keys[i]);
		p = md;
		while (*p) {
			while (*p == ' ' || *p == ',')
				p++;
			size_t n = strcspn(p, " ,");
			const char *v = p + n;
			size_t item = strcspn(p, ",");
			if (n == kl && !strncmp(p, keys[i], kl)) {
				while (*v == ' ')
					v++;
				size_t vl = (size_t)(p + item - v);
				while (vl && v[vl - 1] == ' ')
					vl--;
				om_json_strn(j, NULL, v, vl);
			}
			p += item;
		}
		om_json_arr_close(j);
	}
	om_json_obj_close(j);
}

/* A rule's alert as Suricata writes it (alert object with action, gid,
 * signature_id, rev, signature, category, severity, metadata), the
 * transaction's object when a transaction matched, and the omamori
 * object. Addresses in the direction of the matching data. */
static void on_detect_alert(void *user, const om_detect_alert *a)
{
	struct worker *w = user;
	struct engine *e = w->e;
	om_buf *b = &w->out;
	size_t start = b->len;
	om_json j;
	const om_packet *p = a->pkt;
	const om_flow *f = a->flow;
	om_usec now = p ? p->ts : w->cur ? w->cur->ts : f ? f->last : 0;
	om_event_hdr h = {.ts = now, .event_type = "alert", .pcap_cnt = w->cur ? w->cur_cnt : 0};
	struct tunnel_ref tr = {NULL, 0, h.pcap_cnt};
	if (f) {
		bool ts = a->dir == OM_DIR_TOSERVER;
		bool ports = f->proto == IPPROTO_TCP || f->proto == IPPROTO_UDP;
		h.flow_id = &f->flow_id;
		h.vlan = f->vlan;
		h.vlan_count = f->vlan_count;
		h.src = ts ? &f->cli : &f->srv;
		h.dst = ts ? &f->srv : &f->cli;
		h.has_sport = h.has_dport = ports;
		h.sport = ts ? f->cport : f->sport;
		h.dport = ts ? f->sport : f->cport;
		h.proto = f->proto;
		h.app_proto = om_app_proto_name(f);
		if (f->tunnel && f->tunnel->kind) {
			tr.root = f->tunnel;
			tr.depth = f->tunnel_depth;
		}
	} else if (p) {
		h.src = &p->src;
		h.dst = &p->dst;
		h.has_sport = h.has_dport = (p->flags & OM_PKT_HAS_PORTS) != 0;
		h.sport = p->sport;
		h.dport = p->dport;
		h.proto = p->proto;
	}
	if (tr.root) {
		h.tunnel = write_tunnel;
		h.tunnel_user = &tr;
	}
	om_event_begin(&j, b, &h);
	appctl_json(w, f, &j);
	om_json_obj_open(&j, "alert");
	/* offline (and passive) nothing is blocked: drop/reject are would-drop */
	bool blocks = (a->action == OM_DA_DROP || a->action == OM_DA_REJECT) && live_blocks(e);
	om_json_str(&j, "action", blocks ? "blocked" : "allowed");
	om_json_u64(&j, "gid", a->gid);
	om_json_u64(&j, "signature_id", a->sid);
	om_json_u64(&j, "rev", a->rev);
	om_json_str(&j, "signature", a->msg);
	om_json_str(&j, "category", a->class_desc);
	om_json_u64(&j, "severity", (uint64_t)a->priority);
	if (a->action == OM_DA_DROP || a->action == OM_DA_REJECT)
		om_json_str(&j, "would_drop", a->action == OM_DA_DROP ? "drop" : "reject");
	if (a->metadata)
		det_metadata(&j, a->metadata);
	om_json_obj_close(&j);
	if (a->tx && a->tx->json)
		a->tx->json(&j, a->tx->priv);
	event_omamori(&j, e, a->category, a->priority > 3 ? 3 : a->priority,
	              blocks ? "blocked" : "detected", a->advice);
	om_event_end(&j);
	w->alerts++;
	out_line(e, b, start, now);
}

/* ---- the per-packet pipeline ---------------------------------------------- */

/* Returns the packet's flow (NULL for none), for the live verdict. */
static om_flow *process_packet(struct worker *w, const struct rec *r, const uint8_t *data)
{
	om_packet p;
	memset(&p, 0, sizeof(p));
	p.ts = r->ts;
	p.raw = data;
	p.caplen = r->caplen;
	p.wirelen = r->wirelen;
	p.linktype = (int)r->pad;
	p.span = r->span;
	int rc = om_decode(w->dec, &p);
	if (p.anomaly != OM_ANOM_NONE) {
		struct anom_where wh;
		where_from_packet(&wh, &p, r->pcap_cnt, NULL);
		emit_anomaly(w, &wh, "decode", om_anomaly_name(p.anomaly), NULL);
	}
	int dir;
	om_packet outer; /* the tunnel itself is a flow too (docs/net.md) */
	if (om_packet_outer(&p, &outer) == 0)
		om_flow_get(w->ft, &outer, &dir);
	if (rc != 0 || !p.ip_ver)
		return NULL;
	/* the flow table asks the stream to judge TCP packets: its events
	 * belong to this packet */
	w->cur = &p;
	w->cur_cnt = r->pcap_cnt;
	om_flow *f = om_flow_get(w->ft, &p, &dir);
	w->cur_flow = f;
	if (f)
		intel_flow(w, f);
	if (f && (p.flags & OM_PKT_TCP))
		om_stream_packet(w->st, f, &p, dir);
	if (f && (p.flags & OM_PKT_TCP)) {
		om_app_tcp_update(w->app, f); /* directions ended by this packet */
	} else if (f && (p.flags & OM_PKT_UDP)) {
		om_app_udp(w->app, f, dir, p.payload, p.payload_len);
	}
	/* after the parsers (a flow they took is named from what they read,
	 * by the observer appctl_on_tx, during their call), before the rules:
	 * their alerts of this packet carry the application it identified */
	if (w->ac && f)
		appctl_packet(w, f, &p);
	if (w->det)
		om_detect_packet(w->det, f, &p, dir);
	w->cur = NULL;
	w->cur_flow = NULL;
	return f;
}

static void worker_totals(const struct worker *w, struct totals *t)
{
	const om_decode_stats *d = om_decoder_stats(w->dec);
	const om_flow_stats *f = om_flow_table_stats(w->ft);
	const om_stream_stats *s = om_stream_stats_get(w->st);
	uint64_t *dst = (uint64_t *)&t->dec;
	const uint64_t *src = (const uint64_t *)d;
	for (size_t i = 0; i < sizeof(*d) / sizeof(uint64_t); i++)
		dst[i] += src[i];
	dst = (uint64_t *)&t->flow;
	src = (const uint64_t *)f;
	for (size_t i = 0; i < sizeof(*f) / sizeof(uint64_t); i++)
		dst[i] += src[i];
	dst = (uint64_t *)&t->stream;
	src = (const uint64_t *)s;
	for (size_t i = 0; i < sizeof(*s) / sizeof(uint64_t); i++)
		dst[i] += src[i];
	t->flows_logged += w->flows_logged;
	t->app_bytes += w->app_bytes;
	if (w->ac) {
		const om_appctl_stats *a = om_appctl_stats_get(w->ac);
		dst = (uint64_t *)&t->appctl;
		src = (const uint64_t *)a;
		for (size_t i = 0; i < sizeof(*a) / sizeof(uint64_t); i++)
			dst[i] += src[i];
	}
}

/* uptime: seconds of capture time from the first accepted packet to `upto`
 * (never negative) */
/* extra (may be NULL) adds members at the end of the stats object (the
 * live gateway's verdicts). */
static void write_stats(struct engine *e, om_buf *b, om_usec ts, om_usec upto,
                        const struct totals *t, const om_recon_stats *rs, uint64_t packets,
                        uint64_t bytes, uint64_t outliers, bool final,
                        void (*extra)(om_json *j, void *user), void *extra_user)
{
	size_t start = b->len;
	om_json j;
	om_event_hdr h = {.ts = ts, .event_type = "stats"};
	om_event_begin(&j, b, &h);
	om_json_obj_open(&j, "stats");
	om_json_u64(&j, "uptime",
	            e->have_ts && upto > e->first_ts ? (upto - e->first_ts) / 1000000u : 0);
	om_json_obj_open(&j, "capture");
	om_json_u64(&j, "packets", packets);
	om_json_u64(&j, "bytes", bytes);
	om_json_u64(&j, "timestamp_outliers", outliers);
	om_json_obj_close(&j);
	om_json_obj_open(&j, "decoder");
	om_json_u64(&j, "pkts", t->dec.packets);
	om_json_u64(&j, "bytes", t->dec.bytes);
	om_json_u64(&j, "ipv4", t->dec.ipv4);
	om_json_u64(&j, "ipv6", t->dec.ipv6);
	om_json_u64(&j, "tcp", t->dec.tcp);
	om_json_u64(&j, "udp", t->dec.udp);
	om_json_u64(&j, "icmp", t->dec.icmp);
	om_json_u64(&j, "arp", t->dec.arp);
	om_json_u64(&j, "other", t->dec.other);
	om_json_u64(&j, "invalid", t->dec.invalid);
	for (int k = 1; k < OM_TUN_COUNT; k++)
		om_json_u64(&j, om_tunnel_kind_name((enum om_tunnel_kind)k), t->dec.tunnel[k]);
	om_json_u64(&j, "pppoe_discovery", t->dec.pppoe_discovery);
	om_json_u64(&j, "vntag", t->dec.vntag);
	om_json_u64(&j, "ppp", t->dec.ppp);
	om_json_u64(&j, "chdlc", t->dec.chdlc);
	om_json_obj_open(&j, "event");
	for (int a = 1; a < OM_ANOM_COUNT; a++)
		if (t->dec.anomaly[a])
			om_json_u64(&j, om_anomaly_name((enum om_anomaly)a), t->dec.anomaly[a]);
	om_json_obj_close(&j);
	om_json_obj_close(&j);
	om_json_obj_open(&j, "defrag");
	om_json_u64(&j, "fragments", t->dec.frag_received);
	om_json_u64(&j, "reassembled", t->dec.frag_reassembled);
	om_json_u64(&j, "timeouts", t->dec.frag_timeouts);
	om_json_u64(&j, "memcap_hits", t->dec.frag_memcap_hits);
	om_json_obj_close(&j);
	om_json_obj_open(&j, "flow");
	om_json_u64(&j, "created", t->flow.created);
	om_json_u64(&j, "ended", t->flow.ended);
	om_json_u64(&j, "active", t->flow.active);
	om_json_u64(&j, "tcp", t->flow.tcp);
	om_json_u64(&j, "udp", t->flow.udp);
	om_json_u64(&j, "icmp", t->flow.icmp);
	om_json_u64(&j, "other", t->flow.other);
	om_json_u64(&j, "evicted", t->flow.evicted);
	om_json_u64(&j, "memcap_hits", t->flow.memcap_hits);
	om_json_u64(&j, "evicted_new", t->flow.evicted_new);
	om_json_u64(&j, "evicted_closed", t->flow.evicted_closed);
	om_json_u64(&j, "evicted_established", t->flow.evicted_est);
	om_json_u64(&j, "chain_evicted", t->flow.chain_evicted);
	/* Suricata's names for the emergency-mode counters */
	om_json_u64(&j, "emerg_mode_entered", t->flow.emergency_entered);
	om_json_u64(&j, "emerg_mode_over", t->flow.emergency_left);
	om_json_u64(&j, "logged", t->flows_logged);
	om_json_obj_close(&j);
	om_json_obj_open(&j, "tcp");
	om_json_u64(&j, "segments", t->stream.segments);
	om_json_u64(&j, "reassembled_bytes", t->stream.bytes_delivered);
	om_json_u64(&j, "ooo_segments", t->stream.ooo_segments);
	om_json_u64(&j, "retransmissions", t->stream.retransmissions);
	om_json_u64(&j, "overlaps", t->stream.overlaps);
	om_json_u64(&j, "overlap_diff", t->stream.overlap_diff);
	om_json_u64(&j, "gaps", t->stream.gaps);
	om_json_u64(&j, "memcap_hits", t->stream.memcap_hits);
	om_json_u64(&j, "flow_memcap_hits", t->stream.flow_memcap_hits);
	om_json_u64(&j, "invalid", t->stream.invalid);
	om_json_u64(&j, "depth_reached", t->stream.depth_reached);
	om_json_u64(&j, "midstream", t->stream.midstream);
	om_json_obj_close(&j);
	if (e->o->appctl) {
		om_json_obj_open(&j, "appctl");
		om_json_u64(&j, "flows", t->appctl.flows);
		om_json_u64(&j, "identified", t->appctl.identified);
		om_json_u64(&j, "packets", t->appctl.packets);
		om_json_u64(&j, "blocked", t->appctl.blocked);
		om_json_u64(&j, "table_full", t->appctl.table_full);
		om_json_u64(&j, "detect_full", t->appctl.detect_full);
		om_json_obj_close(&j);
	}
	om_json_obj_open(&j, "recon");
	om_json_u64(&j, "probes", rs->probes);
	om_json_u64(&j, "sources", rs->sources);
	om_json_u64(&j, "source_evictions", rs->source_evictions);
	om_json_u64(&j, "udp_answers", rs->udp_answers);
	om_json_u64(&j, "alerts", rs->alerts);
	om_json_obj_close(&j);
	if (final && e->o->spool) {
		/* only at the end: mid-run, how much the other workers have
		 * handed over yet depends on the scheduling */
		om_spool_stats ss;
		om_spool_stats_get(e->o->spool, &ss);
		om_json_obj_open(&j, "spool");
		om_json_u64(&j, "records", ss.records);
		om_json_u64(&j, "dropped", ss.dropped);
		om_json_obj_close(&j);
	}
	if (extra)
		extra(&j, extra_user);
	om_json_obj_close(&j);
	om_event_end(&j);
	out_line(e, b, start, ts);
}

static void stats_round_contribute(struct worker *w, struct stats_round *sr)
{
	struct engine *e = w->e;
	pthread_mutex_lock(&sr->lock);
	worker_totals(w, &sr->sum);
	pthread_mutex_unlock(&sr->lock);
	if (atomic_fetch_sub(&sr->remaining, 1) == 1) {
		/* the last worker writes the line */
		write_stats(e, &w->out, sr->ts, sr->ts, &sr->sum, &sr->recon, sr->packets,
		            sr->bytes, sr->outliers, false, NULL, NULL);
		pthread_mutex_destroy(&sr->lock);
		free(sr);
	}
}

static void handle_rec(struct worker *w, const struct rec *r, const uint8_t *data)
{
	switch (r->kind) {
	case REC_PACKET: (void)process_packet(w, r, data); break;
	case REC_TICK: om_flow_table_expire(w->ft, r->ts); break;
	case REC_STATS:
		om_flow_table_expire(w->ft, r->ts);
		stats_round_contribute(w, r->round);
		break;
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct batch *b;
	char name[16];
	/* messages from this thread in the caller's language */
	om_lang_set_thread(w->e->lang);
	snprintf(name, sizeof(name), "om-worker-%u", w->id);
	pthread_setname_np(pthread_self(), name);
	while ((b = queue_pop(&w->full)) != NULL) {
		size_t off = 0;
		while (off < b->used) {
			const struct rec *r = (const struct rec *)(b->data + off);
			handle_rec(w, r, r->ptr ? r->ptr : b->data + off + sizeof(*r));
			off += rec_size(r);
		}
		for (unsigned i = 0; i < b->nspans; i++)
			om_pcap_span_unref(b->spans[i]);
		b->nspans = 0;
		b->used = 0;
		queue_push(&w->empty, b);
	}
	/* end of input: this worker's flows end here, in parallel with the
	 * other workers (the reader's flush then finds an empty table) */
	om_flow_table_flush(w->ft, OM_FLOW_END_SHUTDOWN);
	return NULL;
}

/* ---- reader side ---------------------------------------------------------- */

static void on_recon_alert(void *user, const om_recon_alert *a)
{
	struct engine *e = user;
	om_buf *b = &e->rout;
	size_t start = b->len;
	om_json j;
	char t[40];
	const char *sigkey, *advice;
	uint32_t sid;
	switch (a->kind) {
	case OM_RECON_VERTICAL:
		sigkey = "signature.recon.vertical";
		sid = 9000001;
		break;
	case OM_RECON_HORIZONTAL:
		sigkey = "signature.recon.horizontal";
		sid = 9000002;
		break;
	default:
		sigkey = "signature.recon.sweep";
		sid = 9000003;
		break;
	}
	advice = a->kind == OM_RECON_SWEEP ? "recon.pingsweep" : "recon.portscan";
	/* Signatures are English in EVE, as in every IPS rule set. */
	const char *sig = om_msg(OM_LANG_EN, sigkey);
	om_event_hdr h = {.ts = a->last_seen,
	                  .event_type = "alert",
	                  .src = &a->src,
	                  .dst = a->kind == OM_RECON_VERTICAL ? &a->target_host : NULL,
	                  .has_dport = a->kind == OM_RECON_HORIZONTAL,
	                  .dport = a->target_port,
	                  .proto = a->proto};
	bool blocked = live_block_scanner(e, a);
	om_event_begin(&j, b, &h);
	om_json_obj_open(&j, "alert");
	om_json_str(&j, "action", blocked ? "blocked" : "allowed");
	om_json_u64(&j, "gid", 1);
	om_json_u64(&j, "signature_id", sid);
	om_json_u64(&j, "rev", 1);
	om_json_str(&j, "signature", sig);
	om_json_str(&j, "category", "Detection of a Network Scan");
	om_json_u64(&j, "severity", 2);
	om_json_obj_close(&j);
	om_json_obj_open(&j, "recon");
	om_json_str(&j, "kind", om_recon_kind_name(a->kind));
	om_time_iso(a->first_seen, t, sizeof(t));
	om_json_str(&j, "first_seen", t);
	om_time_iso(a->last_seen, t, sizeof(t));
	om_json_str(&j, "last_seen", t);
	om_json_u64(&j, "packets", a->packets);
	om_json_u64(&j, "port_count", a->port_count);
	om_json_u64(&j, "host_count", a->host_count);
	if (a->host_count_capped)
		om_json_bool(&j, "host_count_capped", true);
	om_json_arr_open(&j, "ports");
	for (uint32_t i = 0; i < a->nports; i++)
		om_json_u64(&j, NULL, a->ports[i]);
	om_json_arr_close(&j);
	om_json_arr_open(&j, "hosts");
	for (uint32_t i = 0; i < a->nhosts; i++)
		json_addr(&j, NULL, &a->hosts[i]);
	om_json_arr_close(&j);
	om_json_obj_close(&j);
	event_omamori(&j, e, "recon", 2, blocked ? "blocked" : "detected", advice);
	om_event_end(&j);
	e->recon_alerts++;
	out_line(e, b, start, a->last_seen);
}

/* Symmetric in the two addresses (the sum of each address's keyed hash does
 * not depend on their order), so both directions and every fragment of a
 * datagram go to the same worker. Keyed with the process key, so that no
 * sender can choose addresses that all land on one worker. */
static uint32_t pair_hash(const om_packet *p)
{
	const om_hash_key *k = om_hash_key_process();
	uint64_t h = om_siphash(k, p->src.b, 16) + om_siphash(k, p->dst.b, 16);
	return (uint32_t)om_mix64(h);
}

static void worker_send(struct worker *w, const struct rec *r, const uint8_t *data,
                        om_pcap_span *span)
{
	size_t need = rec_size(r);
	struct batch *b = w->filling;
	if (b && (b->used + need > BATCH_BYTES ||
	          (span && b->nspans == BATCH_SPANS && b->spans[BATCH_SPANS - 1] != span))) {
		queue_push(&w->full, b);
		b = w->filling = NULL;
	}
	if (!b)
		b = w->filling = queue_pop(&w->empty);
	if (span && (b->nspans == 0 || b->spans[b->nspans - 1] != span)) {
		om_pcap_span_ref(span);
		b->spans[b->nspans++] = span;
	}
	memcpy(b->data + b->used, r, sizeof(*r));
	if (!r->ptr && r->caplen)
		memcpy(b->data + b->used + sizeof(*r), data, r->caplen);
	b->used += need;
}

/* Delivers a record to one worker (packet) or to all (clock, stats). Worker
 * 0 is the reading thread itself: its records are run here, at once. */
static void dispatch(struct engine *e, unsigned target, const struct rec *r, const uint8_t *data,
                     om_pcap_span *span)
{
	if (target == 0) {
		handle_rec(&e->w[0], r, data);
		return;
	}
	worker_send(&e->w[target], r, data, span);
}

static void broadcast(struct engine *e, const struct rec *r)
{
	for (unsigned i = 0; i < e->nworkers; i++)
		dispatch(e, i, r, NULL, NULL);
}

/* Moves the capture clock to ts (never back) and ticks the workers once per
 * new second. */
static void clock_advance(struct engine *e, om_usec ts)
{
	if (!e->have_ts) {
		e->have_ts = true;
		e->first_ts = e->clock = ts;
		e->last_tick = ts - ts % TICK_USEC;
		e->last_stats = e->last_tick;
		return;
	}
	if (ts > e->clock)
		e->clock = ts;
	if (ts < e->last_tick + TICK_USEC)
		return;
	/* one tick for the new second; idle seconds need no tick of their own */
	om_usec tick = ts - ts % TICK_USEC;
	e->last_tick = tick;
	om_recon_expire(e->recon, tick);
	struct rec r = {.kind = REC_TICK, .ts = tick};
	uint64_t iv = (uint64_t)e->cfg->engine.stats_interval * TICK_USEC;
	if (tick >= e->last_stats + iv) {
		e->last_stats = tick - (tick - e->last_stats) % iv;
		struct stats_round *sr = calloc(1, sizeof(*sr));
		if (sr) {
			atomic_init(&sr->remaining, e->nworkers);
			pthread_mutex_init(&sr->lock, NULL);
			sr->recon = *om_recon_stats_get(e->recon);
			sr->packets = e->packets;
			sr->bytes = e->bytes;
			sr->outliers = e->outliers;
			sr->ts = tick;
			r.kind = REC_STATS;
			r.round = sr;
		}
	}
	broadcast(e, &r);
}

/* The configuration's stream section (names checked when it was loaded). */
static int stream_configure(om_stream_ctx *st, const om_net_config *c)
{
	om_stream_policy_net nets[OM_CONFIG_MAX_NETS];
	om_stream_config sc = {.flow_memcap = c->stream_flow_memcap,
	                       .overlap_window = c->stream_overlap_window,
	                       .nets = nets,
	                       .nnets = c->stream_policy_count};
	if (om_stream_policy_parse(c->stream_default_policy, &sc.default_policy) < 0 ||
	    c->stream_policy_count > OM_CONFIG_MAX_NETS)
		return -EINVAL;
	for (unsigned i = 0; i < c->stream_policy_count; i++) {
		nets[i].net = c->stream_policies[i].net;
		if (om_stream_policy_parse(c->stream_policies[i].policy, &nets[i].policy) < 0)
			return -EINVAL;
	}
	return om_stream_configure(st, &sc);
}

/* ---- coverage: the hours that had packets ---------------------------------- */

static void write_coverage(struct engine *e)
{
	if (!e->cov_packets)
		return;
	om_buf *b = &e->rout;
	size_t start = b->len;
	om_json j;
	char t[40];
	om_event_hdr h = {.ts = e->cov_hour, .event_type = "coverage"};
	om_event_begin(&j, b, &h);
	om_json_obj_open(&j, "coverage");
	om_time_iso(e->cov_hour, t, sizeof(t));
	om_json_str(&j, "start", t);
	om_time_iso(e->cov_hour + HOUR_USEC, t, sizeof(t));
	om_json_str(&j, "end", t);
	om_json_u64(&j, "packets", e->cov_packets);
	om_json_arr_open(&j, "categories");
	for (size_t i = 0; i < OM_ARRAY_SIZE(monitored); i++)
		om_json_str(&j, NULL, monitored[i]);
	om_json_arr_close(&j);
	om_json_obj_close(&j);
	om_event_meta m = {.tenant = e->o->tenant, .gateway = e->o->gateway};
	om_event_omamori(&j, &m);
	om_event_end(&j);
	e->cov_events++;
	e->cov_packets = 0;
	out_line(e, b, start, e->cov_hour);
}

/* One more packet in the clock's hour; the hour before is written out when
 * the clock leaves it. */
static void coverage_count(struct engine *e)
{
	om_usec hour = e->clock - e->clock % HOUR_USEC;
	if (hour != e->cov_hour) {
		write_coverage(e);
		e->cov_hour = hour;
	}
	e->cov_packets++;
}

/* ---- the reader's per-packet work ------------------------------------------ */

static void outlier_event(struct engine *e, const om_packet *p, bool decoded, om_usec real_ts,
                          uint64_t cnt)
{
	om_buf *b = &e->rout;
	size_t start = b->len;
	om_json j;
	char t[40];
	struct anom_where wh;
	om_event_hdr h;
	struct tunnel_ref tr;
	where_from_packet(&wh, p, cnt, NULL);
	wh.has_ip = decoded && p->ip_ver != 0;
	anomaly_hdr(&h, &wh, &tr);
	om_event_begin(&j, b, &h);
	om_json_obj_open(&j, "anomaly");
	om_json_str(&j, "type", "decode");
	om_json_str(&j, "event", "capture.timestamp_outlier");
	om_time_iso(real_ts, t, sizeof(t));
	om_json_str(&j, "packet_time", t);
	om_json_obj_close(&j);
	event_omamori(&j, e, NULL, 3, "detected", "capture.timestamp_outlier");
	om_event_end(&j);
	e->outliers++;
	out_line(e, b, start, p->ts);
}

/* Runs one packet at time `ts` (its own, or the clock's for an outlier whose
 * own time was real_ts). */
/* Scan detection sees the packet a tunnel carries, not the tunnel: dispatch
 * keeps the outer address pair (all of a tunnel on one worker), and the
 * reader decodes a packet that may be a tunnel once more, in full, with a
 * decoder of its own (its fragments are rebuilt there too). Only such
 * packets pay for it. */
static bool may_be_tunnel(const om_packet *p)
{
	if (p->proto == 47 || p->proto == 4 || p->proto == 41)
		return true;
	if (p->proto != IPPROTO_UDP || !(p->flags & OM_PKT_HAS_PORTS))
		return false;
	static const uint16_t ports[] = {4789, 6081, 3544}; /* VXLAN, Geneve, Teredo */
	for (size_t i = 0; i < OM_ARRAY_SIZE(ports); i++)
		if (p->dport == ports[i] || p->sport == ports[i])
			return true;
	return false;
}

static void scan_packet(struct engine *e, const om_packet *p)
{
	if (e->tdec && may_be_tunnel(p)) {
		om_packet q;
		memset(&q, 0, sizeof(q));
		q.ts = p->ts;
		q.raw = p->raw;
		q.caplen = p->caplen;
		q.wirelen = p->wirelen;
		q.linktype = p->linktype;
		int rc = om_decode(e->tdec, &q);
		if (rc == 0 && q.tunnel_count && (q.flags & OM_PKT_TUNNEL)) {
			om_recon_packet(e->recon, &q);
			return;
		}
		if (rc == 1 && (q.flags & OM_PKT_FRAGMENT))
			return; /* held: the rebuilt datagram is looked at when whole */
	}
	om_recon_packet(e->recon, p);
}

static void reader_packet(struct engine *e, int linktype, const uint8_t *data, uint32_t caplen,
                          uint32_t wirelen, om_usec ts, uint64_t cnt, om_pcap_span *span,
                          bool outlier, om_usec real_ts)
{
	om_packet p;
	memset(&p, 0, sizeof(p));
	p.ts = ts;
	p.raw = data;
	p.caplen = caplen;
	p.wirelen = wirelen;
	p.linktype = linktype;
	unsigned target = 0;
	bool decoded = om_decode_peek(&p) == 0;
	if (outlier)
		outlier_event(e, &p, decoded, real_ts, cnt);
	else
		coverage_count(e);
	if (decoded) {
		if (e->nworkers > 1)
			target = pair_hash(&p) % e->nworkers;
		/* the reader runs its own share at once: start the flow lookup
		 * now, so that the bucket load overlaps scan detection and
		 * the full decode (a hint only: the lookup checks the key) */
		if (target == 0)
			om_flow_prefetch(e->w[0].ft, &p);
		scan_packet(e, &p);
		if (target == 0)
			om_flow_prefetch_entry(e->w[0].ft);
	}
	struct rec rec = {.kind = REC_PACKET,
	                  .caplen = caplen,
	                  .wirelen = wirelen,
	                  .pad = (uint32_t)linktype,
	                  .ts = ts,
	                  .pcap_cnt = cnt};
	/* from a mapped capture, workers read the packet where it is (the
	 * reader's own share is run at once, while its window is current) */
	rec.span = span;
	if (!target)
		span = NULL;
	if (span)
		rec.ptr = data;
	dispatch(e, target, &rec, data, span);
}

/* Decides about the held packet (the first one, or one far ahead of the
 * clock): `next` is the time of the packet after it (has_next false at the
 * end of the capture). The time really moved on (a quiet spell in the
 * capture) unless the next packet goes back to before it: then the held
 * packet was the odd one out. With nothing after it, a packet far ahead is
 * an outlier too: nothing confirms it. */
static void hold_resolve(struct engine *e, int linktype, bool has_next, om_usec next)
{
	e->hold.on = false;
	om_usec ts = e->hold.ts;
	bool confirmed = has_next ? next + e->behind_max >= ts : !e->have_ts;
	if (confirmed) {
		clock_advance(e, ts);
		reader_packet(e, linktype, e->hold.data, e->hold.caplen, e->hold.wirelen, ts,
		              e->hold.cnt, NULL, false, ts);
		return;
	}
	if (!e->have_ts)
		clock_advance(e, next); /* the first packet was the odd one */
	reader_packet(e, linktype, e->hold.data, e->hold.caplen, e->hold.wirelen, e->clock,
	              e->hold.cnt, NULL, true, ts);
}

static void hold_packet(struct engine *e, const uint8_t *data, uint32_t caplen, uint32_t wirelen,
                        om_usec ts, uint64_t cnt)
{
	if (caplen > HOLD_MAX)
		caplen = HOLD_MAX;
	memcpy(e->hold.data, data, caplen);
	e->hold.caplen = caplen;
	e->hold.wirelen = wirelen;
	e->hold.ts = ts;
	e->hold.cnt = cnt;
	e->hold.on = true;
}

/* One packet from the capture, in file order. */
static void reader_input(struct engine *e, int linktype, const uint8_t *data, uint32_t caplen,
                         uint32_t wirelen, om_usec ts, uint64_t cnt, om_pcap_span *span)
{
	if (e->hold.on)
		hold_resolve(e, linktype, true, ts);
	if (!e->have_ts || ts > e->clock + e->ahead_max) {
		hold_packet(e, data, caplen, wirelen, ts, cnt);
		return;
	}
	if (ts + e->behind_max < e->clock) {
		reader_packet(e, linktype, data, caplen, wirelen, e->clock, cnt, span, true, ts);
		return;
	}
	/* capture time never runs backwards for our clocks */
	clock_advance(e, ts);
	reader_packet(e, linktype, data, caplen, wirelen, ts, cnt, span, false, ts);
}

static int workers_init(struct engine *e)
{
	const om_net_config *c = &e->cfg->net;
	for (unsigned i = 0; i < e->nworkers; i++) {
		struct worker *w = &e->w[i];
		w->e = e;
		w->id = i;
		om_buf_init(&w->out, OUT_MAX_BYTES);
		w->dec =
		    om_decoder_new(c->defrag_memcap, c->defrag_max_trackers, c->defrag_timeout);
		om_flow_config fc = {
		    .max_flows = c->flow_max,
		    .hash_size = c->flow_hash_size,
		    .timeout_new = c->flow_timeout_new,
		    .timeout_est = c->flow_timeout_est,
		    .timeout_closed = c->flow_timeout_closed,
		    .timeout_udp = c->flow_timeout_udp,
		    .timeout_icmp = c->flow_timeout_icmp,
		    .max_chain = c->flow_max_chain,
		    .emergency_pct = c->flow_emergency_pct,
		    .emergency_recovery_pct = c->flow_emergency_recovery,
		    .emerg_timeout_new = c->flow_emerg_timeout_new,
		    .emerg_timeout_est = c->flow_emerg_timeout_est,
		    .emerg_timeout_closed = c->flow_emerg_timeout_closed,
		    .on_end = on_flow_end,
		    .on_emergency = on_flow_emergency,
		    .user = w,
		};
		om_stream_callbacks cb = {on_stream_data, on_stream_gap, on_stream_event, w, NULL};
		w->st = om_stream_new(c->stream_depth, c->stream_memcap, &cb);
		if (w->st && stream_configure(w->st, c) < 0)
			return -EINVAL;
		fc.stream = w->st;
		w->ft = om_flow_table_new(&fc);
		if (!w->dec || !w->ft || !w->st)
			return -ENOMEM;
		w->wf = e->o->webfilter;
		if (e->o->detect && om_detect_hub_rules(e->o->detect)) {
			w->det = om_detect_worker_new(om_detect_hub_rules(e->o->detect),
			                              on_detect_alert, w);
			if (!w->det)
				return -ENOMEM;
			om_detect_hub_bind(e->o->detect, i, w->det); /* before the proto worker */
		}
		if (e->o->appctl && om_appctl_worker_new(e->o->appctl, &w->ac) < 0)
			return -ENOMEM;
		if (e->o->apps) {
			om_app_config ac = {.detect_limit = c->app_detect_limit,
			                    .max_flows = c->flow_max,
			                    .detect_memcap = c->app_detect_memcap};
			w->app = om_app_new(e->o->apps, &ac);
			if (!w->app)
				return -ENOMEM;
			om_app_set_flow_table(w->app, w->ft);
			if (e->o->proto) {
				om_proto_sink sink = {on_proto_event, w};
				w->proto = om_proto_worker_new(e->o->proto, i, &sink);
				if (!w->proto)
					return -ENOMEM;
				om_app_set_worker_user(w->app, w->proto);
			}
		}
		if (i > 0) {
			queue_init(&w->full);
			queue_init(&w->empty);
			for (unsigned k = 0; k < BATCHES_PER_WORKER; k++) {
				struct batch *b = malloc(sizeof(*b));
				if (!b)
					return -ENOMEM;
				b->used = 0;
				b->nspans = 0;
				queue_push(&w->empty, b);
			}
		}
	}
	return 0;
}

static void batch_free(struct batch *b)
{
	if (!b)
		return;
	for (unsigned i = 0; i < b->nspans; i++)
		om_pcap_span_unref(b->spans[i]);
	free(b);
}

static void workers_free(struct engine *e)
{
	for (unsigned i = 0; i < e->nworkers; i++) {
		struct worker *w = &e->w[i];
		om_buf_free(&w->out);
		om_stream_free(w->st);
		om_flow_table_free(w->ft);
		om_app_free(w->app); /* after the flows: their slots are back */
		om_proto_worker_free(w->proto);
		om_detect_hub_bind(e->o->detect, i, NULL);
		om_detect_worker_free(w->det);
		w->ac = om_appctl_worker_free(w->ac); /* after the flows: they ended */
		w->wfc = om_wf_cache_free(w->wfc);
		om_decoder_free(w->dec);
		if (i > 0) {
			struct batch *b;
			w->empty.closed = true;
			while ((b = queue_pop(&w->empty)) != NULL)
				batch_free(b);
			batch_free(w->filling);
			queue_destroy(&w->full);
			queue_destroy(&w->empty);
		}
	}
}

int om_engine_inspect(const om_engine_opts *o, om_engine_result *ret, char *err, size_t errlen)
{
	struct engine e;
	om_engine_result res;
	om_pcap *pc = NULL;
	int r;
	unsigned started = 0;
	memset(&e, 0, sizeof(e));
	memset(&res, 0, sizeof(res));
	e.o = o;
	e.lang = om_lang_thread();
	e.cfg = o->cfg;
	e.nworkers = o->workers ? o->workers : 1;
	om_buf_init(&e.rout, OUT_MAX_BYTES);
	/* a packet more than this far from the clock is an outlier */
	/* the options (tests) win over the configuration */
	e.ahead_max = o->clock_ahead_max ? o->clock_ahead_max
	              : e.cfg->engine.clock_ahead_max
	                  ? (om_usec)e.cfg->engine.clock_ahead_max * TICK_USEC
	                  : HOUR_USEC;
	e.behind_max = o->clock_behind_max ? o->clock_behind_max
	                                   : (om_usec)e.cfg->engine.clock_behind_max * TICK_USEC;
	if (!e.behind_max) {
		uint32_t t = e.cfg->net.flow_timeout_new;
		const uint32_t more[] = {e.cfg->net.flow_timeout_est,
		                         e.cfg->net.flow_timeout_closed,
		                         e.cfg->net.flow_timeout_udp, e.cfg->net.flow_timeout_icmp};
		for (size_t k = 0; k < OM_ARRAY_SIZE(more); k++)
			t = more[k] > t ? more[k] : t;
		e.behind_max = (om_usec)t * TICK_USEC;
	}
	e.hold.data = malloc(HOLD_MAX);
	if (!e.hold.data) {
		r = -ENOMEM;
		snprintf(err, errlen, "%s", om_tr("err.nomem"));
		goto out;
	}

	r = om_pcap_open(o->pcap_path, &pc, err, errlen);
	if (r < 0)
		goto out;
	e.w = calloc(e.nworkers, sizeof(*e.w));
	e.recon = om_recon_new(&e.cfg->guard, &e.cfg->base, e.cfg->net.flow_timeout_udp,
	                       on_recon_alert, &e);
	e.tdec = om_decoder_new(e.cfg->net.defrag_memcap, e.cfg->net.defrag_max_trackers,
	                        e.cfg->net.defrag_timeout);
	if (!e.w || !e.recon || !e.tdec) {
		r = -ENOMEM;
		snprintf(err, errlen, "%s", om_tr("err.nomem"));
		goto out;
	}
	if ((r = appctl_attach(&e, o->appctl, o->proto)) < 0 ||
	    (r = webfilter_attach(&e, o->webfilter, o->proto, false)) < 0) {
		snprintf(err, errlen, "%s", om_tr("err.nomem"));
		goto out;
	}
	if (o->intel && (r = intel_attach(&e, o->intel, o->proto)) < 0) {
		snprintf(err, errlen, "%s", om_tr("err.nomem"));
		goto out;
	}
	if (o->av && o->proto &&
	    (r = om_av_subscribe(o->av, o->proto, false, false, on_av_alert, &e)) < 0) {
		snprintf(err, errlen, "%s", om_tr("err.nomem"));
		goto out;
	}
	r = workers_init(&e);
	if (r < 0) {
		snprintf(err, errlen, om_tr("err.engine.alloc"),
		         (unsigned long long)e.cfg->net.flow_max);
		goto out;
	}
	if (o->spool)
		sink_start(&e);
	if (e.nworkers > 1) {
		for (started = 1; started < e.nworkers; started++) {
			if (pthread_create(&e.w[started].thread, NULL, worker_main,
			                   &e.w[started]) != 0) {
				r = -EAGAIN;
				snprintf(err, errlen, om_tr("err.engine.thread"), started);
				goto stop;
			}
		}
	}

	int linktype = om_pcap_linktype(pc);
	for (;;) {
		const uint8_t *data;
		uint32_t caplen, wirelen;
		om_usec ts;
		char perr[256];
		int n = om_pcap_next(pc, &data, &caplen, &wirelen, &ts, perr, sizeof(perr));
		if (n == 0)
			break;
		if (n < 0) {
			res.truncated = true;
			snprintf(res.warning, sizeof(res.warning), "%s", perr);
			break;
		}
		e.packets++;
		e.bytes += caplen;
		reader_input(&e, linktype, data, caplen, wirelen, ts, e.packets,
		             om_pcap_current_span(pc));
	}
	if (e.hold.on)
		hold_resolve(&e, linktype, false, 0);
	r = 0;

stop:
	if (e.nworkers > 1) {
		for (unsigned i = 1; i < e.nworkers; i++) {
			struct worker *w = &e.w[i];
			if (w->filling) {
				queue_push(&w->full, w->filling);
				w->filling = NULL;
			}
			queue_close(&w->full);
		}
		for (unsigned i = 1; i < started; i++)
			pthread_join(e.w[i].thread, NULL);
	}
	if (r == 0) {
		om_recon_flush(e.recon);
		struct totals t;
		memset(&t, 0, sizeof(t));
		for (unsigned i = 0; i < e.nworkers; i++) {
			struct worker *w = &e.w[i];
			om_flow_table_flush(w->ft, OM_FLOW_END_SHUTDOWN);
			worker_totals(w, &t);
			res.anomalies += w->anomalies;
			res.alerts += w->alerts;
			char day[16];
			om_time_day(e.last_tick, day, sizeof(day));
			out_flush(&e, &w->out, day);
		}
		write_coverage(&e);
		om_usec end_ts = e.last_tick;
		char day[16];
		om_time_day(end_ts, day, sizeof(day));
		out_flush(&e, &e.rout, day); /* so that the final stats count it */
		sink_drain(&e);
		write_stats(&e, &e.rout, end_ts, e.clock, &t, om_recon_stats_get(e.recon),
		            e.packets, e.bytes, e.outliers, true, NULL, NULL);
		out_flush(&e, &e.rout, day);
		sink_drain(&e);
		res.packets = e.packets;
		res.bytes = e.bytes;
		res.flows = t.flows_logged;
		res.alerts += e.recon_alerts;
		res.anomalies += e.outliers;
		res.timestamp_outliers = e.outliers;
		res.coverage_hours = e.cov_events;
		if (o->spool && (r = om_spool_sync(o->spool)) < 0)
			engine_fail(&e, r);
		if (atomic_load(&e.error)) {
			r = atomic_load(&e.error);
			snprintf(err, errlen, om_tr("err.engine.write"), strerror(-r));
		}
	}
out:
	if (e.sink.inited)
		sink_stop(&e);
	if (e.w)
		workers_free(&e);
	free(e.w);
	om_recon_free(e.recon);
	om_decoder_free(e.tdec);
	om_buf_free(&e.rout);
	om_pcap_close(pc);
	free(e.hold.data);
	if (r == 0)
		*ret = res;
	return r;
}

/* ---- the live gateway ------------------------------------------------------ */
/* om_gateway_run: every worker thread reads its own capture source (an
 * NFQUEUE queue inline, an AF_PACKET socket of one fanout group passive),
 * runs the same pipeline as offline inspection on each packet, and gives
 * the packet the verdict combined from every verdict source. Time is the
 * wall clock: each worker expires its flows and flushes its events once a
 * second even when no packet comes (the 100 ms poll timeout is the flush
 * timer). The control thread (the caller) ticks scan detection, writes its
 * events, reloads on SIGHUP and watches the workers' heartbeats.
 *
 * Scan detection is cross-flow: the probes of one scanner land on every
 * worker (the kernel spreads by flow). It is aggregated, not sharded: one
 * detector behind one mutex, fed the light parse of every packet, so its
 * counts are those of a single reader (docs/gateway.md says why). */
#define LIVE_BATCH 64
#define LIVE_HELD 256
#define WATCHDOG_USEC (10 * TICK_USEC)

struct live_hold {
	uint32_t id;
	om_flow_handle fh;
	om_usec since;
};

struct live_worker {
	om_capture *cap;
	om_detect_worker *old_det; /* replaced by a reload, freed by the control thread */
	atomic_ullong beat;        /* wall time of the last loop */
	struct live_hold held[LIVE_HELD];
	unsigned nheld;
	uint64_t cnt, would_block, hold_timeouts, rejects_sent, redirects_sent, sinkholes_sent;
	int raw4; /* raw socket for resets and ICMP errors, -1: none */
	int raw6; /* the same for IPv6 */
	/* what the worker counted, copied each second for the periodic stats
	 * record (the control thread never reads the worker's own tables) */
	pthread_mutex_t snap_lock;
	struct live_snap {
		struct totals t;
		uint64_t packets, bytes, would_block, hold_timeouts, rejects, redirects, sinkholes;
		om_capture_stats cs;
	} snap;
};

/* What a reload built for the workers: a rule set with a detect worker
 * for each engine worker, the tenant's web filter and application policy.
 * Each part says whether it changes. */
struct live_policy {
	bool rules;
	om_detect *set; /* owned; NULL: none (or, in cur, the start's set) */
	om_detect_worker *det[OM_GW_WORKERS_MAX];
	om_detect_load_stats st;
	bool wf_change;
	om_wf_filter *wf; /* owned; NULL: none (or, in cur, the start's filter) */
	bool ac_change;
	om_appctl *ac; /* owned; the start's map and caps, the new policy */
};

enum { LOAD_IDLE = 0, LOAD_BUSY, LOAD_BUILT, LOAD_FAILED };

struct live {
	const om_gateway_opts *o;
	/* reload: a loader thread builds next off the packet path, the
	 * workers take it between two batches (ho), the control thread frees
	 * what it replaced (cur) once every worker has */
	om_gw_handover ho;
	struct live_policy cur, next;
	pthread_t loader;
	atomic_int load_state;
	bool offered;
	om_settings *load_cfg; /* the configuration the loader builds from */
	char load_err[1024];
	uint64_t rules_syntax; /* of the set running */
	uint64_t rules_count, reloads, reload_failures;
	om_gateway_config g;  /* block list replaced on reload, under lock */
	pthread_mutex_t lock; /* recon, the tables, e->rout, g.blocked */
	om_addr_table *blocked, *quar;
	bool is_inline;
	atomic_int stop;
	struct live_worker *lw;
	/* the block page's addresses: [0] IPv4, [1] IPv6 (site.block-page.address
	 * and .address6; an IPv6 .address counts as [1]) */
	om_addr block_addr[2];
	bool has_block_addr[2];
	om_gw_page *page;     /* the block page, NULL when not served */
	char page_url[2][96]; /* where a blocked HTTP request is sent, by family; "": none */
	/* automatic quarantine: hosts found by the workers' alerts, applied by
	 * the control thread (the workers may write alerts under L->lock) */
	pthread_mutex_t auto_lock;
	struct live_autoq {
		om_addr host;
		char category[16];
	} autoq[64];
	unsigned nautoq;
	uint64_t autoq_lost;
};

/* Called from on_recon_alert, under the live lock: a scan from outside the
 * office's networks is blocked for scan_block_seconds. */
static bool live_block_scanner(struct engine *e, const om_recon_alert *a)
{
	struct live *L = e->live;
	if (!L || !L->g.scan_block_seconds || !L->is_inline)
		return false;
	if (om_base_is_home(&e->cfg->base, &a->src))
		return false; /* an inside scan is reported, not blocked */
	om_usec until = om_time_now() + (om_usec)L->g.scan_block_seconds * TICK_USEC;
	return om_addr_table_add(L->blocked, &a->src, until) == 0;
}

/* The policy block list as a transaction observer: a blocked HTTP host,
 * DNS query or TLS/QUIC SNI rejects the flow (proto keeps it on the flow)
 * and is an alert (harmful_web) on the worker that saw it. */
static enum om_tx_verdict live_on_tx(void *wctx, om_flow *f, const om_proto_tx *tx)
{
	struct worker *w = wctx;
	struct live *L = w->e->live;
	static const enum om_tx_buf names[] = {OM_TXB_HTTP_HOST, OM_TXB_DNS_QUERY, OM_TXB_TLS_SNI};
	char name[OM_GW_NAME_MAX] = "";
	pthread_mutex_lock(&L->lock);
	for (size_t i = 0; i < OM_ARRAY_SIZE(names) && !name[0]; i++) {
		uint32_t len;
		const uint8_t *b = om_tx_get(tx, names[i], 0, &len);
		if (b && len < OM_GW_NAME_MAX && om_gw_name_blocked(&L->g, (const char *)b, len))
			snprintf(name, sizeof(name), "%.*s", (int)len, (const char *)b);
	}
	pthread_mutex_unlock(&L->lock);
	if (name[0])
		om_gw_page_note(L->page, &f->cli, name, strlen(name), "gateway.page.why.block_list",
		                NULL);
	if (!name[0] || (f->flags & OM_FLOW_F_DROP))
		return name[0] ? OM_TX_VERDICT_REJECT : OM_TX_VERDICT_ACCEPT;
	om_buf *b = &w->out;
	size_t start = b->len;
	om_usec now = om_time_now();
	om_json j;
	om_event_hdr h = {.ts = now,
	                  .event_type = "alert",
	                  .flow_id = &f->flow_id,
	                  .src = &f->cli,
	                  .dst = &f->srv,
	                  .has_sport = true,
	                  .has_dport = true,
	                  .sport = f->cport,
	                  .dport = f->sport,
	                  .proto = f->proto,
	                  .app_proto = tx->app_proto};
	om_event_begin(&j, b, &h);
	appctl_json(w, f, &j);
	om_json_obj_open(&j, "alert");
	om_json_str(&j, "action", L->is_inline ? "blocked" : "allowed");
	om_json_u64(&j, "gid", 1);
	om_json_u64(&j, "signature_id", 9000101);
	om_json_u64(&j, "rev", 1);
	om_json_str(&j, "signature", om_msg(OM_LANG_EN, "signature.gateway.block_list"));
	om_json_str(&j, "category", "Policy block list");
	om_json_u64(&j, "severity", 3);
	om_json_obj_close(&j);
	om_json_obj_open(&j, "policy");
	om_json_str(&j, "name", name);
	om_json_obj_close(&j);
	event_omamori(&j, w->e, "harmful_web", 3, L->is_inline ? "blocked" : "detected",
	              "gateway.blocked_domain");
	om_event_end(&j);
	out_line(w->e, b, start, now);
	return OM_TX_VERDICT_REJECT;
}

/* recon's early notice: the threshold was crossed, block now rather than
 * when the episode closes (under the live lock, like every recon call). */
static void live_on_scan_open(void *user, const om_recon_alert *a)
{
	live_block_scanner(user, a);
}

static void *live_obs_new(void *user, unsigned worker)
{
	struct engine *e = user;
	return &e->w[worker];
}

/* A quarantined host may still ask the gateway for DNS and see the page
 * that tells it why it is cut off. */
static bool quarantine_allowed(const struct live *L, const om_packet *p)
{
	bool to_gw = false, from_gw = false;
	for (int k = 0; k < 2; k++) {
		if (!L->has_block_addr[k])
			continue;
		to_gw = to_gw || memcmp(p->dst.b, L->block_addr[k].b, 16) == 0;
		from_gw = from_gw || memcmp(p->src.b, L->block_addr[k].b, 16) == 0;
	}
	uint16_t port = to_gw ? p->dport : p->sport;
	return (to_gw || from_gw) && (port == 53 || port == L->g.block_port);
}

/* What a blocked or isolated packet gets besides being dropped: a blocked
 * HTTP request the block page's redirect, a blocked DNS query (and any DNS
 * query of an isolated host) the sinkhole answer pointing at the page,
 * anything else rejected the reset or ICMP error. */
static void live_answer(struct live *L, struct live_worker *lw, const om_flow *f,
                        const om_packet *p, enum om_verdict v, const om_verdict_in *in)
{
	/* the isolated host's own queries; not queries to an isolated server */
	bool isolated = in->quarantined && !in->quarantine_allow && in->quarantined_src;
	if (v != OM_VERDICT_REJECT && !isolated)
		return;
	if (L->page && p->proto == IPPROTO_UDP && p->dport == 53 &&
	    om_gw_sinkhole(lw->raw4, lw->raw6, p, L->has_block_addr[0] ? &L->block_addr[0] : NULL,
	                   L->has_block_addr[1] ? &L->block_addr[1] : NULL) == 0) {
		lw->sinkholes_sent++;
		return;
	}
	if (v != OM_VERDICT_REJECT)
		return;
	const char *app = om_app_proto_name(f);
	/* the page in the request's own family when it has an address there */
	int fam = p->ip_ver == 6 ? 1 : 0;
	const char *url = L->page_url[fam][0] ? L->page_url[fam] : L->page_url[!fam];
	if (L->page && f && p->proto == IPPROTO_TCP && app && !strcmp(app, "http") &&
	    memcmp(p->src.b, f->cli.b, 16) == 0 &&
	    om_gw_redirect(lw->raw4, lw->raw6, p, url) == 0) {
		lw->redirects_sent++;
		return;
	}
	if (om_gw_reject(lw->raw4, lw->raw6, p) == 0)
		lw->rejects_sent++;
}

static void live_page_note(struct engine *e, const om_flow *f, const char *host, size_t len,
                           const char *why, const char *category)
{
	if (e->live)
		om_gw_page_note(e->live->page, &f->cli, host, len, why, category);
}

/* Whether a drop verdict is carried out: inline only. */
static bool live_blocks(const struct engine *e)
{
	return e->live && e->live->is_inline;
}

/* The value of "key":"..." in an event line (our own writing: no spaces,
 * no escapes in addresses and category names); false when absent. */
static bool line_str(const char *line, size_t len, const char *key, const char **ret,
                     size_t *ret_len)
{
	size_t kl = strlen(key);
	const char *p = memmem(line, len, key, kl);
	if (!p)
		return false;
	p += kl;
	const char *end = memchr(p, '"', len - (size_t)(p - line));
	if (!end)
		return false;
	*ret = p;
	*ret_len = (size_t)(end - p);
	return true;
}

/* Every event line passes here (out_line): an alert whose omamori.category
 * is in site.auto-quarantine isolates the inside host it names. */
static void live_auto_check(struct engine *e, const char *line, size_t len)
{
	struct live *L = e->live;
	const char *v;
	size_t vl;
	if (!L->g.auto_quarantine || !L->is_inline ||
	    !memmem(line, len, "\"event_type\":\"alert\"", 20) ||
	    !line_str(line, len, "\"omamori\":{\"category\":\"", &v, &vl) || vl >= 16 ||
	    !(om_gw_autoq_bit(v, vl) & L->g.auto_quarantine))
		return;
	char cat[16];
	memcpy(cat, v, vl);
	cat[vl] = 0;
	/* which end is the one to isolate: never the target of something that
	 * came from outside (an attacked server, the mail server an infected
	 * mail was delivered to): intrusion and mail malware isolate an inside
	 * source only (it attacks, or sends malware out); C&C and web malware
	 * the inside end of a flow with the outside (it beacons, or downloaded) */
	om_addr ends[2];
	bool in[2] = {false, false}, have[2] = {false, false};
	static const char *const keys[] = {"\"src_ip\":\"", "\"dest_ip\":\""};
	for (size_t i = 0; i < 2; i++) {
		char a[64];
		if (!line_str(line, len, keys[i], &v, &vl) || vl >= sizeof(a))
			continue;
		memcpy(a, v, vl);
		a[vl] = 0;
		if (om_addr_parse(a, &ends[i]) < 0)
			continue;
		have[i] = true;
		in[i] = om_base_is_home(&e->cfg->base, &ends[i]);
	}
	uint32_t bit = om_gw_autoq_bit(cat, strlen(cat));
	int pick = -1;
	if (bit == OM_GW_AUTOQ_INTRUSION || bit == OM_GW_AUTOQ_MAIL_MALWARE)
		pick = have[0] && in[0] && !(have[1] && in[1] && bit == OM_GW_AUTOQ_MAIL_MALWARE)
		           ? 0
		           : -1;
	else if (have[0] && have[1] && in[0] != in[1])
		pick = in[0] ? 0 : 1;
	if (pick < 0)
		return;
	pthread_mutex_lock(&L->auto_lock);
	bool dup = false;
	for (unsigned k = 0; k < L->nautoq && !dup; k++)
		dup = memcmp(L->autoq[k].host.b, ends[pick].b, 16) == 0;
	if (dup) {
		/* noted already this round */
	} else if (L->nautoq < OM_ARRAY_SIZE(L->autoq)) {
		L->autoq[L->nautoq].host = ends[pick];
		snprintf(L->autoq[L->nautoq].category, sizeof(L->autoq[0].category), "%s", cat);
		L->nautoq++;
	} else {
		L->autoq_lost++;
	}
	pthread_mutex_unlock(&L->auto_lock);
}

static void live_fw_quarantine(struct engine *e);

/* The control thread isolates what the workers found: the list file (so
 * that `quarantine list` shows it and a restart keeps it), the table, an
 * event. */
static void live_auto_apply(struct engine *e)
{
	struct live *L = e->live;
	struct live_autoq q[64];
	pthread_mutex_lock(&L->auto_lock);
	unsigned n = L->nautoq;
	memcpy(q, L->autoq, n * sizeof(q[0]));
	L->nautoq = 0;
	pthread_mutex_unlock(&L->auto_lock);
	char path[300], err[512];
	if (!n)
		return;
	bool has_path = om_gw_quarantine_path(e->cfg, path, sizeof(path)) == 0;
	if (!has_path)
		om_log(OM_LOG_WARN, "%s", om_tr("warn.gateway.auto_quarantine_path"));
	om_usec now = om_time_now();
	for (unsigned i = 0; i < n; i++) {
		pthread_mutex_lock(&L->lock);
		bool had = om_addr_table_has(L->quar, &q[i].host, now);
		int added = had ? 0 : om_addr_table_add(L->quar, &q[i].host, 0);
		if (!had && added == 0)
			live_event(e, "auto", &q[i].host, true, q[i].category);
		pthread_mutex_unlock(&L->lock);
		if (had)
			continue;
		char a[64];
		om_addr_str(&q[i].host, a, sizeof(a));
		if (added < 0) {
			om_log(OM_LOG_ERROR, om_tr("err.gateway.auto_quarantine_full"), a,
			       q[i].category);
			continue;
		}
		om_log(OM_LOG_WARN, om_tr("gateway.auto_quarantine"), a, q[i].category);
		if (has_path && om_gw_quarantine_edit(path, &q[i].host, true, err, sizeof(err)) < 0)
			om_log(OM_LOG_WARN, "%s", err);
	}
	live_fw_quarantine(e);
}

static void live_flush(struct engine *e, om_buf *b, om_usec now);

/* The worker's counters for the stats record (each second, on the worker). */
static void live_snapshot(struct worker *w)
{
	struct live_worker *lw = w->lw;
	struct live_snap s;
	memset(&s, 0, sizeof(s));
	worker_totals(w, &s.t);
	s.packets = lw->cnt;
	s.would_block = lw->would_block;
	s.hold_timeouts = lw->hold_timeouts;
	s.rejects = lw->rejects_sent;
	s.redirects = lw->redirects_sent;
	s.sinkholes = lw->sinkholes_sent;
	om_capture_stats_get(lw->cap, &s.cs);
	s.bytes = s.cs.bytes;
	pthread_mutex_lock(&lw->snap_lock);
	lw->snap = s;
	pthread_mutex_unlock(&lw->snap_lock);
}

struct live_stats_sum {
	struct live *L;
	struct live_snap s;
	unsigned nworkers;
};

/* The gateway's own members of the stats record. */
static void live_stats_extra(om_json *j, void *user)
{
	const struct live_stats_sum *x = user;
	const struct live_snap *s = &x->s;
	om_json_obj_open(j, "gateway");
	om_json_str(j, "mode", x->L->is_inline ? "inline" : "passive");
	om_json_u64(j, "workers", x->nworkers);
	om_json_u64(j, "accepted", s->cs.accepted);
	om_json_u64(j, "dropped", s->cs.dropped);
	om_json_u64(j, "rejected", s->cs.rejected);
	om_json_u64(j, "held", s->cs.held);
	om_json_u64(j, "bypassed", s->cs.bypassed);
	om_json_u64(j, "would_block", s->would_block);
	om_json_u64(j, "hold_timeouts", s->hold_timeouts);
	om_json_u64(j, "kernel_drops", s->cs.kernel_drops);
	om_json_u64(j, "resets_sent", s->rejects);
	om_json_u64(j, "block_page_redirects", s->redirects);
	om_json_u64(j, "sinkhole_answers", s->sinkholes);
	om_json_u64(j, "block_pages_served", om_gw_page_served(x->L->page));
	om_json_u64(j, "quarantined", om_addr_table_count(x->L->quar));
	om_json_u64(j, "scanners_blocked", om_addr_table_count(x->L->blocked));
	om_json_u64(j, "rules", x->L->rules_count);
	om_json_u64(j, "reloads", x->L->reloads);
	om_json_u64(j, "reload_failures", x->L->reload_failures);
	pthread_mutex_lock(&x->L->auto_lock);
	om_json_u64(j, "auto_quarantine_lost", x->L->autoq_lost);
	pthread_mutex_unlock(&x->L->auto_lock);
	om_json_obj_close(j);
	if (x->L->o->eve) {
		uint64_t lines, files;
		om_eve_full_stats(x->L->o->eve, &lines, &files);
		om_json_obj_open(j, "eve");
		om_json_u64(j, "dropped_lines", lines);    /* the disk was full */
		om_json_u64(j, "removed_old_logs", files); /* to make room */
		om_json_obj_close(j);
	}
	if (x->L->o->spool) {
		om_spool_stats ss;
		om_spool_stats_get(x->L->o->spool, &ss);
		om_json_obj_open(j, "spool");
		om_json_u64(j, "records", ss.records);
		om_json_u64(j, "dropped", ss.dropped);
		om_json_obj_close(j);
	}
}

/* The periodic stats record while live (control thread, every
 * engine.stats-interval seconds and at the end): the sum of the workers'
 * last snapshots. */
static void live_stats(struct engine *e, om_usec now)
{
	struct live *L = e->live;
	struct live_stats_sum x;
	memset(&x, 0, sizeof(x));
	x.L = L;
	x.nworkers = e->nworkers;
	for (unsigned i = 0; i < e->nworkers; i++) {
		struct live_worker *lw = &L->lw[i];
		pthread_mutex_lock(&lw->snap_lock);
		struct live_snap s = lw->snap;
		pthread_mutex_unlock(&lw->snap_lock);
		uint64_t *dst = (uint64_t *)&x.s.t;
		const uint64_t *src = (const uint64_t *)&s.t;
		for (size_t k = 0; k < sizeof(s.t) / sizeof(uint64_t); k++)
			dst[k] += src[k];
		x.s.packets += s.packets;
		x.s.bytes += s.bytes;
		x.s.would_block += s.would_block;
		x.s.hold_timeouts += s.hold_timeouts;
		x.s.rejects += s.rejects;
		x.s.redirects += s.redirects;
		x.s.sinkholes += s.sinkholes;
		x.s.cs.packets += s.cs.packets;
		x.s.cs.accepted += s.cs.accepted;
		x.s.cs.dropped += s.cs.dropped;
		x.s.cs.rejected += s.cs.rejected;
		x.s.cs.held += s.cs.held;
		x.s.cs.bypassed += s.cs.bypassed;
		x.s.cs.kernel_drops += s.cs.kernel_drops;
	}
	/* the line is made under the lock (recon, the tables) and written
	 * after it: the workers never wait on the disk */
	om_buf b;
	om_buf_init(&b, OUT_MAX_BYTES);
	pthread_mutex_lock(&L->lock);
	write_stats(e, &b, now, now, &x.s.t, om_recon_stats_get(e->recon), x.s.packets, x.s.bytes,
	            0, false, live_stats_extra, &x);
	pthread_mutex_unlock(&L->lock);
	live_flush(e, &b, now);
	om_buf_free(&b);
}

/* The block page asks whether a host is isolated (from its own thread). */
static bool live_is_quarantined(void *user, const om_addr *a)
{
	struct live *L = user;
	pthread_mutex_lock(&L->lock);
	bool q = om_addr_table_has(L->quar, a, om_time_now());
	pthread_mutex_unlock(&L->lock);
	return q;
}

/* Starts the block page on the configured address (a warning, not a stop,
 * when it cannot listen: blocking works without it, as resets). */
static void live_page_start(struct live *L)
{
	const om_gateway_config *g = &L->g;
	if (!L->is_inline || (!L->has_block_addr[0] && !L->has_block_addr[1]))
		return;
	if (om_gw_page_new(g->block_contact, live_is_quarantined, L, &L->page) < 0)
		return;
	unsigned listening = 0;
	for (int k = 0; k < 2; k++) {
		char err[512] = "", a[64];
		if (!L->has_block_addr[k])
			continue;
		if (om_gw_page_listen(L->page, &L->block_addr[k], (uint16_t)g->block_port, err,
		                      sizeof(err)) < 0) {
			om_log(OM_LOG_WARN, "%s", err);
			L->has_block_addr[k] = false;
			continue;
		}
		om_addr_str(&L->block_addr[k], a, sizeof(a));
		snprintf(L->page_url[k], sizeof(L->page_url[k]), "http://%s%s%s:%u/", k ? "[" : "",
		         a, k ? "]" : "", (unsigned)g->block_port);
		om_log(OM_LOG_INFO, om_tr("gateway.page.started"), L->page_url[k]);
		listening++;
	}
	if (!listening)
		L->page = om_gw_page_free(L->page);
}

/* Whether nothing inspects flow f any more, so that its connection may
 * skip the queue (site.bypass): TCP, nothing blocked or held on it, its
 * application known to application control when that runs, and either both
 * directions ended for the stream (depth, FIN, RST, bypassed) or one past
 * the depth with no application protocol found (nothing parses it). Rules
 * see no more of its packets: the trade Suricata's stream.bypass makes. */
static bool live_can_bypass(const struct worker *w, const om_flow *f, const om_verdict_in *in)
{
	if (f->proto != IPPROTO_TCP || (f->flags & (OM_FLOW_F_DROP | OM_FLOW_F_REJECT)) ||
	    in->quarantined || in->src_blocked)
		return false;
	if ((w->proto && om_proto_flow_held(f)) || (w->ac && !(f->flags & OM_FLOW_F_APPCTL_DONE)))
		return false;
	enum om_stream_dir_end a = om_stream_dir_end(f, OM_DIR_TOSERVER);
	enum om_stream_dir_end b = om_stream_dir_end(f, OM_DIR_TOCLIENT);
	if (a != OM_STREAM_OPEN && b != OM_STREAM_OPEN)
		return true;
	return (a == OM_STREAM_DEPTH || b == OM_STREAM_DEPTH) && !om_app_proto_name(f);
}

static enum om_verdict live_packet(struct worker *w, const om_capture_pkt *cp, om_usec now,
                                   bool *ret_bypass)
{
	struct engine *e = w->e;
	struct live *L = e->live;
	struct live_worker *lw = w->lw;
	om_packet p;
	memset(&p, 0, sizeof(p));
	p.ts = now;
	p.raw = cp->data;
	p.caplen = cp->caplen;
	p.wirelen = cp->wirelen;
	p.linktype = cp->linktype;
	om_verdict_in in;
	memset(&in, 0, sizeof(in));
	if (om_decode_peek(&p) == 0) {
		pthread_mutex_lock(&L->lock);
		scan_packet(e, &p);
		in.src_blocked = om_addr_table_has(L->blocked, &p.src, now);
		in.quarantined_src = om_addr_table_has(L->quar, &p.src, now);
		in.quarantined = in.quarantined_src || om_addr_table_has(L->quar, &p.dst, now);
		pthread_mutex_unlock(&L->lock);
		if (in.quarantined)
			in.quarantine_allow = quarantine_allowed(L, &p);
	}
	struct rec r = {.kind = REC_PACKET,
	                .caplen = cp->caplen,
	                .wirelen = cp->wirelen,
	                .pad = (uint32_t)cp->linktype,
	                .ts = now,
	                .pcap_cnt = 0};
	lw->cnt++;
	om_flow *f = process_packet(w, &r, cp->data);
	/* a blocked scanner still answers what the office itself opened */
	if (in.src_blocked && f && memcmp(f->cli.b, p.src.b, 16) != 0)
		in.src_blocked = false;
	if (f) {
		in.flow_flags = f->flags;
		if (w->proto) {
			in.file_pending = om_proto_flow_held(f);
			in.file_blocked = om_proto_flow_verdict(f) == OM_FILE_DROP;
		}
	}
	enum om_verdict v = om_verdict_decide(&in, (om_usec)L->g.hold_ms * 1000u, L->g.fail_open);
	if (v == OM_VERDICT_HOLD) {
		if (!L->is_inline || lw->nheld == LIVE_HELD) {
			v = OM_VERDICT_ACCEPT; /* bounded: past the cap the packet passes */
		} else {
			lw->held[lw->nheld++] =
			    (struct live_hold){cp->id, om_flow_handle_of(f), now};
		}
	}
	if (L->is_inline && lw->raw4 >= 0)
		live_answer(L, lw, f, &p, v, &in);
	if (!L->is_inline && v != OM_VERDICT_ACCEPT)
		lw->would_block++;
	if (v == OM_VERDICT_ACCEPT && L->g.bypass && L->is_inline && f &&
	    live_can_bypass(w, f, &in)) {
		*ret_bypass = true;
		f->flags |= OM_FLOW_F_BYPASSED;
	}
	return v;
}

/* Gives the held packets whose file verdict came (or whose time ran out)
 * their final verdict. */
static void live_holds(struct worker *w, om_usec now)
{
	struct live_worker *lw = w->lw;
	struct live *L = w->e->live;
	if (w->proto)
		om_proto_worker_poll(w->proto, now);
	for (unsigned i = 0; i < lw->nheld;) {
		struct live_hold *h = &lw->held[i];
		om_flow *f = om_flow_from_handle(w->ft, h->fh);
		enum om_verdict v;
		if (f && w->proto && om_proto_flow_held(f) &&
		    now - h->since < (om_usec)L->g.hold_ms * 1000u) {
			i++;
			continue;
		}
		if (f && w->proto && !om_proto_flow_held(f))
			v = om_proto_flow_verdict(f) == OM_FILE_DROP ? OM_VERDICT_DROP
			                                             : OM_VERDICT_ACCEPT;
		else {
			lw->hold_timeouts++;
			v = L->g.fail_open ? OM_VERDICT_ACCEPT : OM_VERDICT_DROP;
		}
		om_capture_verdict_id(lw->cap, h->id, v);
		*h = lw->held[--lw->nheld];
	}
}

static void live_flush(struct engine *e, om_buf *b, om_usec now)
{
	char day[16];
	om_time_day(now, day, sizeof(day));
	out_flush(e, b, day);
}

/* A worker takes what a reload built for it (between two batches, on its
 * own thread: nothing else touches its detect worker, cell or filter). */
static void live_install(struct worker *w, unsigned gen)
{
	struct live *L = w->e->live;
	const struct live_policy *n = &L->next;
	if (n->rules) {
		w->lw->old_det = w->det;
		w->det = n->det[w->id];
		om_detect_hub_bind(L->o->detect, w->id, w->det);
	}
	if (n->wf_change)
		w->wf = n->wf;
	if (n->ac_change && w->ac)
		om_appctl_worker_rebind(w->ac, n->ac);
	om_gw_handover_ack(&L->ho, w->id, gen);
}

static void *live_main(void *arg)
{
	struct worker *w = arg;
	struct engine *e = w->e;
	struct live *L = e->live;
	struct live_worker *lw = w->lw;
	om_capture_pkt pk[LIVE_BATCH];
	char name[16];
	om_lang_set_thread(e->lang);
	snprintf(name, sizeof(name), "om-live-%u", w->id);
	pthread_setname_np(pthread_self(), name);
	if (L->g.rt_priority) {
		/* allowed after the privilege drop by RLIMIT_RTPRIO (om_gateway_run) */
		struct sched_param sp = {.sched_priority = (int)L->g.rt_priority};
		int r = pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);
		if (r != 0 && w->id == 0)
			om_log(OM_LOG_WARN, om_tr("warn.gateway.realtime"), L->g.rt_priority,
			       strerror(r));
	}
	om_usec last_tick = om_time_now();
	while (!atomic_load(&L->stop)) {
		int n = om_capture_next_batch(lw->cap, pk, LIVE_BATCH, 100);
		om_usec now = om_time_now();
		if (n < 0) {
			if (n != -ENODATA)
				engine_fail(e, n);
			break;
		}
		for (int i = 0; i < n; i++) {
			bool bypass = false;
			om_capture_verdict(lw->cap, &pk[i], live_packet(w, &pk[i], now, &bypass));
			if (bypass)
				om_capture_verdict_mark(lw->cap, &pk[i], OM_GW_BYPASS_MARK);
		}
		om_capture_release(lw->cap);
		if (lw->nheld)
			live_holds(w, now);
		unsigned gen;
		if (om_gw_handover_pending(&L->ho, w->id, &gen))
			live_install(w, gen);
		if (L->o->av) /* the scanner threads' alerts, written here */
			om_av_worker_poll(L->o->av, (unsigned)(w - e->w));
		atomic_store(&lw->beat, now);
		if (now - last_tick >= TICK_USEC) {
			intel_tick(w, now);
			om_flow_table_expire(w->ft, now);
			live_flush(e, &w->out, now);
			live_snapshot(w);
			last_tick = now;
		} else if (w->out.len >= OUT_FLUSH_BYTES) {
			live_flush(e, &w->out, now);
		}
	}
	/* what is still held passes or is dropped as configured */
	for (unsigned i = 0; i < lw->nheld; i++)
		om_capture_verdict_id(lw->cap, lw->held[i].id,
		                      L->g.fail_open ? OM_VERDICT_ACCEPT : OM_VERDICT_DROP);
	lw->nheld = 0;
	om_flow_table_flush(w->ft, OM_FLOW_END_SHUTDOWN);
	live_flush(e, &w->out, om_time_now());
	return NULL;
}

/* An event for a gateway change (quarantine, start, stop), from the control
 * thread under the live lock. */
static void live_event(struct engine *e, const char *what, const om_addr *host, bool added,
                       const char *reason)
{
	om_buf *b = &e->rout;
	size_t start = b->len;
	om_usec now = om_time_now();
	om_json j;
	om_event_hdr h = {.ts = now, .event_type = "quarantine", .src = host};
	om_event_begin(&j, b, &h);
	om_json_obj_open(&j, "quarantine");
	om_json_str(&j, "action", added ? "add" : "del");
	om_json_str(&j, "source", what);
	json_addr(&j, "host", host);
	if (reason)
		om_json_str(&j, "reason", reason);
	om_json_obj_close(&j);
	event_omamori(&j, e, "c2", added ? 3 : 1, added ? "blocked" : "allowed",
	              added ? "gateway.quarantine.add" : "gateway.quarantine.del");
	om_event_end(&j);
	out_line(e, b, start, now);
}

/* With bypass the firewall cuts an isolated host's bypassed connections
 * (the queue no longer sees them): the table's sets follow the list. */
static void live_fw_quarantine(struct engine *e)
{
	struct live *L = e->live;
	if (!L->g.bypass || !L->is_inline)
		return;
	om_addr *a = malloc(4096 * sizeof(*a));
	if (!a)
		return;
	unsigned n = 0;
	om_usec until;
	pthread_mutex_lock(&L->lock);
	while (n < 4096 && om_addr_table_get(L->quar, n, &a[n], &until))
		n++;
	pthread_mutex_unlock(&L->lock);
	int r = om_fw_quarantine_sync(a, n);
	if (r < 0)
		om_log(OM_LOG_WARN, om_tr("warn.gateway.bypass_quarantine"), strerror(-r));
	free(a);
}

/* Re-reads the quarantine list and writes an event per change. */
static int live_quarantine_reload(struct engine *e, char *err, size_t errlen)
{
	struct live *L = e->live;
	char path[300];
	if (om_gw_quarantine_path(e->cfg, path, sizeof(path)) < 0)
		return -ENAMETOOLONG;
	om_addr_table *t = om_addr_table_new(4096);
	if (!t)
		return -ENOMEM;
	int r = om_gw_quarantine_load(path, t, err, errlen);
	if (r < 0) {
		om_addr_table_free(t);
		return r; /* the old list stays */
	}
	pthread_mutex_lock(&L->lock);
	om_addr a;
	om_usec until, now = om_time_now();
	for (unsigned i = 0; om_addr_table_get(t, i, &a, &until); i++)
		if (!om_addr_table_has(L->quar, &a, now))
			live_event(e, "list", &a, true, NULL);
	for (unsigned i = 0; om_addr_table_get(L->quar, i, &a, &until); i++)
		if (!om_addr_table_has(t, &a, now))
			live_event(e, "list", &a, false, NULL);
	om_addr_table *old = L->quar;
	L->quar = t;
	pthread_mutex_unlock(&L->lock);
	om_addr_table_free(old);
	live_fw_quarantine(e);
	return 0;
}

static void live_policy_free(struct live_policy *p, unsigned nworkers)
{
	for (unsigned i = 0; i < nworkers && i < OM_GW_WORKERS_MAX; i++)
		p->det[i] = om_detect_worker_free(p->det[i]);
	p->set = om_detect_free(p->set);
	if (p->wf) {
		om_wf_filter_cleanup(p->wf);
		free(p->wf);
	}
	free(p->ac);
	memset(p, 0, sizeof(*p));
}

/* The loader thread: the rule set, one detect worker per engine worker and
 * the guards' policy, from L->load_cfg, into L->next; all or nothing. */
static void *live_loader(void *arg)
{
	struct engine *e = arg;
	struct live *L = e->live;
	const om_settings *s = L->load_cfg;
	struct live_policy *n = &L->next;
	int r = 0;
	om_lang_set_thread(e->lang);
	pthread_setname_np(pthread_self(), "om-reload");
	memset(n, 0, sizeof(*n));
	L->load_err[0] = '\0';
	if (L->o->detect) {
		n->rules = true;
		if (s->detect.nfiles + L->o->nrule_files)
			r = om_gw_rules_build(&s->detect, &s->base.home_net, L->o->rule_files,
			                      L->o->nrule_files, L->rules_syntax, &n->set, &n->st,
			                      L->load_err, sizeof(L->load_err));
		for (unsigned i = 0; r == 0 && n->set && i < e->nworkers; i++)
			if (!(n->det[i] =
			          om_detect_worker_new(n->set, on_detect_alert, &e->w[i]))) {
				r = -ENOMEM;
				snprintf(L->load_err, sizeof(L->load_err), "%s",
				         om_tr("err.nomem"));
			}
	}
	if (r == 0 && L->o->proto) {
		om_wf_filter wf;
		bool use_wf;
		om_app_policy ap;
		r = om_gw_policy_build(s, &wf, &use_wf, &ap, L->load_err, sizeof(L->load_err));
		if (r == 0 && use_wf) {
			if ((n->wf = malloc(sizeof(*n->wf))) != NULL) {
				*n->wf = wf;
				n->wf->cb = on_webfilter_event;
				n->wf->user = e;
				n->wf->worker_user = webfilter_worker_user;
			} else {
				om_wf_filter_cleanup(&wf);
				r = -ENOMEM;
			}
		}
		n->wf_change = r == 0;
		if (r == 0 && L->o->appctl) {
			if ((n->ac = malloc(sizeof(*n->ac))) != NULL) {
				*n->ac =
				    *L->o->appctl; /* its map and caps: the workers' state fits */
				n->ac->own_map = NULL;
				n->ac->policy = ap;
				n->ac_change = true;
			} else {
				r = -ENOMEM;
			}
		}
		if (r == -ENOMEM && !L->load_err[0])
			snprintf(L->load_err, sizeof(L->load_err), "%s", om_tr("err.nomem"));
	}
	if (r < 0)
		live_policy_free(n, e->nworkers);
	atomic_store(&L->load_state, r < 0 ? LOAD_FAILED : LOAD_BUILT);
	return NULL;
}

/* Starts building what s names (takes s); a reload still in progress is
 * finished first. */
static void live_load_start(struct engine *e, om_settings *s)
{
	struct live *L = e->live;
	if (atomic_load(&L->load_state) != LOAD_IDLE || L->offered) {
		om_log(OM_LOG_WARN, "%s", om_tr("gateway.reload.busy"));
		free(s);
		return;
	}
	L->load_cfg = s;
	atomic_store(&L->load_state, LOAD_BUSY);
	if (pthread_create(&L->loader, NULL, live_loader, e) != 0) {
		atomic_store(&L->load_state, LOAD_IDLE);
		L->load_cfg = NULL;
		free(s);
		om_log(OM_LOG_WARN, om_tr("gateway.reload.failed"), strerror(EAGAIN));
	}
}

/* The previous policy goes once every worker has taken the new one. */
static void live_retire(struct engine *e)
{
	struct live *L = e->live;
	struct live_policy *n = &L->next, *c = &L->cur;
	if (n->rules) {
		for (unsigned i = 0; i < e->nworkers; i++)
			L->lw[i].old_det = om_detect_worker_free(L->lw[i].old_det);
		om_detect_free(c->set);
		c->set = n->set;
		L->rules_syntax = n->st.syntax_errors;
		L->rules_count = n->set ? om_detect_rule_count(n->set) : 0;
		om_log(OM_LOG_INFO, om_tr("gateway.rules.reloaded"),
		       (unsigned long long)L->rules_count, (unsigned long long)n->st.total,
		       (unsigned long long)n->st.skipped, (unsigned long long)n->st.syntax_errors);
	}
	if (n->wf_change) {
		if (c->wf) {
			om_wf_filter_cleanup(c->wf);
			free(c->wf);
		}
		c->wf = n->wf;
	}
	if (n->ac_change) {
		free(c->ac);
		c->ac = n->ac;
	}
	if (n->wf_change || n->ac_change)
		om_log(OM_LOG_INFO, om_tr("gateway.policy.reloaded"), e->cfg->base.tenant,
		       n->wf ? om_tr("gateway.policy.on") : om_tr("gateway.policy.off"),
		       n->ac ? om_tr("gateway.policy.on") : om_tr("gateway.policy.off"));
	memset(n, 0, sizeof(*n));
	L->reloads++;
}

/* The control thread's part of a reload, each round: a built policy is
 * offered to the workers, a failed one logged (the running one stays), an
 * offered one retired once every worker has taken it. */
static void live_load_poll(struct engine *e)
{
	struct live *L = e->live;
	int st = atomic_load(&L->load_state);
	if (st == LOAD_BUILT || st == LOAD_FAILED) {
		pthread_join(L->loader, NULL);
		free(L->load_cfg);
		L->load_cfg = NULL;
		if (st == LOAD_FAILED) {
			L->reload_failures++;
			om_log(OM_LOG_WARN, om_tr("gateway.rules.kept"), L->load_err);
		} else if (om_gw_handover_offer(&L->ho) == 0) {
			L->offered = true;
		}
		atomic_store(&L->load_state, LOAD_IDLE);
	}
	if (L->offered && om_gw_handover_done(&L->ho)) {
		live_retire(e);
		L->offered = false;
	}
}

/* At the end, after the workers: a loader still running is waited for,
 * what it built freed; an offer not taken by every worker is taken for
 * the ones that did not (their threads are gone), then retired. */
static void live_load_end(struct engine *e)
{
	struct live *L = e->live;
	if (atomic_load(&L->load_state) != LOAD_IDLE) {
		pthread_join(L->loader, NULL);
		free(L->load_cfg);
		L->load_cfg = NULL;
		live_policy_free(&L->next, e->nworkers);
		atomic_store(&L->load_state, LOAD_IDLE);
	}
	if (L->offered) {
		unsigned gen = atomic_load(&L->ho.gen);
		for (unsigned i = 0; i < e->nworkers; i++)
			if (!om_gw_handover_taken(&L->ho, i))
				live_install(&e->w[i], gen);
		live_retire(e);
		L->offered = false;
	}
}

static void live_reload(struct engine *e)
{
	struct live *L = e->live;
	char err[512] = "";
	if (live_quarantine_reload(e, err, sizeof(err)) < 0)
		om_log(OM_LOG_WARN, "%s", err);
	int ir = e->o->intel ? om_intel_live_reload(e->o->intel->live) : 0;
	if (ir == 1)
		om_log(OM_LOG_INFO, om_tr("gateway.intel.reloaded"),
		       (unsigned long long)om_intel_live_generation(e->o->intel->live));
	else if (ir < 0)
		om_log(OM_LOG_WARN, om_tr("gateway.intel.reload_failed"), strerror(-ir));
	om_settings *s = malloc(sizeof(*s));
	if (!s)
		return;
	*s = *e->cfg;
	if (L->o->config_path && om_settings_load(s, L->o->config_path, err, sizeof(err)) < 0) {
		om_log(OM_LOG_WARN, om_tr("gateway.reload.failed"), err);
		L->reload_failures++;
		free(s);
		return;
	}
	if (L->o->config_path) {
		/* the block list changes in place; the firewall is replaced in one
		 * transaction, so established flows (conntrack) keep going */
		pthread_mutex_lock(&L->lock);
		memcpy(L->g.blocked, s->gateway.blocked, sizeof(L->g.blocked));
		L->g.nblocked = s->gateway.nblocked;
		L->g.scan_block_seconds = s->gateway.scan_block_seconds;
		pthread_mutex_unlock(&L->lock);
		om_log(OM_LOG_INFO, "%s", om_tr("gateway.reload.done"));
	}
	/* the rules and the guards' policy: built aside, swapped in by the
	 * workers; the running ones stay when that fails */
	live_load_start(e, s);
}

int om_gateway_run(const om_gateway_opts *go, char *err, size_t errlen)
{
	struct engine e;
	struct live L;
	om_engine_opts eo;
	int r = 0;
	unsigned started = 0;
	enum om_fw_queue q = OM_FW_QUEUE_NONE;
	bool fw_applied = false;
	const om_gateway_config *g = &go->cfg->gateway;
	memset(&e, 0, sizeof(e));
	memset(&L, 0, sizeof(L));
	memset(&eo, 0, sizeof(eo));
	eo.cfg = go->cfg;
	eo.eve = go->eve;
	eo.spool = go->spool;
	eo.tenant = go->cfg->base.tenant;
	eo.gateway = go->cfg->base.gateway;
	eo.workers = g->workers ? g->workers : 1;
	eo.apps = go->apps;
	eo.proto = go->proto;
	eo.intel = go->intel;
	eo.webfilter = go->webfilter;
	eo.appctl = go->appctl;
	eo.detect = go->detect;
	e.o = &eo;
	e.lang = om_lang_thread();
	e.cfg = go->cfg;
	e.nworkers = eo.workers;
	e.live = &L;
	L.o = go;
	L.g = *g;
	L.is_inline = g->mode == OM_GW_INLINE;
	L.rules_syntax = go->rules_syntax_errors;
	L.rules_count = go->detect && om_detect_hub_rules(go->detect)
	                    ? om_detect_rule_count(om_detect_hub_rules(go->detect))
	                    : 0;
	om_gw_handover_init(&L.ho, eo.workers);
	atomic_init(&L.load_state, LOAD_IDLE);
	{
		om_addr a;
		if (g->block_addr[0] && om_addr_parse(g->block_addr, &a) == 0) {
			int k = om_addr_is_v4(&a) ? 0 : 1;
			L.block_addr[k] = a;
			L.has_block_addr[k] = true;
		}
		if (g->block_addr6[0] && om_addr_parse(g->block_addr6, &a) == 0 &&
		    !om_addr_is_v4(&a)) {
			L.block_addr[1] = a;
			L.has_block_addr[1] = true;
		}
	}
	pthread_mutex_init(&L.lock, NULL);
	pthread_mutex_init(&L.auto_lock, NULL);
	om_buf_init(&e.rout, OUT_MAX_BYTES);
	e.w = calloc(e.nworkers, sizeof(*e.w));
	L.lw = calloc(e.nworkers, sizeof(*L.lw));
	L.blocked = om_addr_table_new(65536);
	L.quar = om_addr_table_new(4096);
	e.recon = om_recon_new(&e.cfg->guard, &e.cfg->base, e.cfg->net.flow_timeout_udp,
	                       on_recon_alert, &e);
	e.tdec = om_decoder_new(e.cfg->net.defrag_memcap, e.cfg->net.defrag_max_trackers,
	                        e.cfg->net.defrag_timeout);
	if (!e.w || !L.lw || !L.blocked || !L.quar || !e.recon || !e.tdec) {
		r = -ENOMEM;
		snprintf(err, errlen, "%s", om_tr("err.nomem"));
		goto out;
	}
	for (unsigned i = 0; i < e.nworkers; i++)
		pthread_mutex_init(&L.lw[i].snap_lock, NULL);
	for (unsigned i = 0; i < e.nworkers; i++)
		L.lw[i].raw4 = L.lw[i].raw6 = -1;
	om_recon_set_open_cb(e.recon, live_on_scan_open, &e);
	if ((r = appctl_attach(&e, eo.appctl, go->proto)) < 0 ||
	    (r = webfilter_attach(&e, eo.webfilter, go->proto, true)) < 0) {
		snprintf(err, errlen, "%s", om_tr("err.gateway.observer"));
		goto out;
	}
	if (go->proto) {
		om_proto_observer obs = {.name = "gateway.block-list",
		                         .worker_new = live_obs_new,
		                         .on_tx = live_on_tx,
		                         .user = &e,
		                         .no_http_bodies = true};
		if ((r = om_proto_add_observer(go->proto, &obs)) < 0) {
			snprintf(err, errlen, "%s", om_tr("err.gateway.observer"));
			goto out;
		}
	}
	if (go->intel && (r = intel_attach(&e, go->intel, go->proto)) < 0) {
		snprintf(err, errlen, "%s", om_tr("err.gateway.observer"));
		goto out;
	}
	/* the anti-virus: scanner threads answer, the packet that ends a file
	 * waits for them (inline: malware is dropped) */
	if (go->av && go->proto &&
	    (r = om_av_subscribe(go->av, go->proto, true, L.is_inline, on_av_alert, &e)) < 0) {
		snprintf(err, errlen, "%s", om_tr("err.nomem"));
		goto out;
	}
	/* set-up as root: the netfilter path, the firewall, the sources */
	if (L.is_inline) {
		char why[512];
		q = om_fw_probe_queue(why, sizeof(why));
		om_log(q == OM_FW_QUEUE_NONE ? OM_LOG_ERROR : OM_LOG_INFO, "%s", why);
		if (q == OM_FW_QUEUE_NONE) {
			r = -ENOTSUP;
			snprintf(err, errlen, "%s", why);
			goto out;
		}
		if ((r = om_fw_apply(g, q, err, errlen)) < 0)
			goto out;
		fw_applied = true;
	}
	for (unsigned i = 0; i < e.nworkers; i++) {
		om_capture_opts co = {.kind =
		                          L.is_inline ? OM_CAPTURE_NFQUEUE : OM_CAPTURE_AFPACKET,
		                      .ifname = g->mirror[0] ? g->mirror : g->lan,
		                      .fanout_group = (uint16_t)(getpid() & 0xffff),
		                      .queue = (uint16_t)(g->queue + i),
		                      .fail_open = g->fail_open,
		                      .max_held = g->max_held};
		if ((r = om_capture_open(&co, &L.lw[i].cap, err, errlen)) < 0)
			goto out;
		if (L.is_inline) {
			L.lw[i].raw4 = om_gw_raw_socket();
			L.lw[i].raw6 = om_gw_raw6_socket();
		}
		e.w[i].lw = &L.lw[i];
	}
	if ((r = workers_init(&e)) < 0) {
		snprintf(err, errlen, om_tr("err.engine.alloc"),
		         (unsigned long long)e.cfg->net.flow_max);
		goto out;
	}
	char qerr[512] = "";
	if (live_quarantine_reload(&e, qerr, sizeof(qerr)) < 0)
		om_log(OM_LOG_WARN, "%s", qerr);
	live_page_start(&L);
	if (g->rt_priority) {
		/* the workers (made after the privilege drop) may then take
		 * SCHED_FIFO up to this priority, and nothing above it */
		struct rlimit rl;
		if (getrlimit(RLIMIT_RTPRIO, &rl) == 0 && rl.rlim_cur < g->rt_priority) {
			rl.rlim_cur = g->rt_priority;
			if (rl.rlim_max < rl.rlim_cur)
				rl.rlim_max = rl.rlim_cur;
			setrlimit(RLIMIT_RTPRIO, &rl);
		}
	}
	if (g->user[0] && (r = om_gw_drop_privileges(g->user, err, errlen)) < 0)
		goto out;
	if (L.page) {
		char perr[256] = "";
		if (om_gw_page_run(L.page, perr, sizeof(perr)) < 0) {
			om_log(OM_LOG_WARN, "%s", perr);
			L.page = om_gw_page_free(L.page);
		}
	}
	if (go->spool)
		sink_start(&e);
	for (started = 0; started < e.nworkers; started++) {
		atomic_store(&L.lw[started].beat, om_time_now());
		if (pthread_create(&e.w[started].thread, NULL, live_main, &e.w[started]) != 0) {
			r = -EAGAIN;
			snprintf(err, errlen, om_tr("err.engine.thread"), started);
			goto stop;
		}
	}
	om_log(OM_LOG_INFO, om_tr("gateway.started"), L.is_inline ? "inline" : "passive",
	       e.nworkers);
	om_usec t0 = om_time_now(), last = t0, prev = t0, grace = 0, last_stats = t0;
	om_usec stats_every = (om_usec)e.cfg->engine.stats_interval * TICK_USEC;
	e.have_ts = true;
	e.first_ts = t0; /* the stats record's uptime */
	while (!*go->stop && !atomic_load(&L.stop)) {
		struct timespec ts = {0, 200 * 1000 * 1000};
		nanosleep(&ts, NULL);
		om_usec now = om_time_now();
		/* this loop sleeps 200 ms: a much longer (or negative) step means
		 * the whole process stood still or the clock was set (a suspended
		 * machine, a stopped process, a clock step), not that a worker is
		 * stuck; the watchdog gives the workers a full period again */
		if (now - prev > 2 * TICK_USEC || now < prev)
			grace = now + WATCHDOG_USEC;
		prev = now;
		if (go->reload && *go->reload) {
			*go->reload = 0;
			live_reload(&e);
		}
		live_load_poll(&e);
		live_auto_apply(&e);
		if (now - last_stats >= stats_every) {
			live_stats(&e, now);
			last_stats = now;
		}
		if (now - last >= TICK_USEC) {
			pthread_mutex_lock(&L.lock);
			om_recon_expire(e.recon, now);
			live_flush(&e, &e.rout, now);
			pthread_mutex_unlock(&L.lock);
			last = now;
		}
		/* watchdog: a worker that has not come round for 10 s is stuck;
		 * leave with an error so that the service manager restarts us
		 * (inline traffic meanwhile follows the fail-open setting) */
		for (unsigned i = 0; i < e.nworkers && now >= grace; i++) {
			if (om_gw_stuck(now, atomic_load(&L.lw[i].beat), WATCHDOG_USEC)) {
				om_log(OM_LOG_ERROR, om_tr("gateway.watchdog"), i);
				r = -ETIMEDOUT;
				snprintf(err, errlen, om_tr("gateway.watchdog"), i);
				goto stop;
			}
		}
		if (atomic_load(&e.error))
			break;
		if (go->run_seconds && now - t0 >= (om_usec)go->run_seconds * TICK_USEC)
			break;
	}
stop:
	atomic_store(&L.stop, 1);
	for (unsigned i = 0; i < started; i++)
		pthread_join(e.w[i].thread, NULL);
	live_load_end(&e);
	if (r == 0 && atomic_load(&e.error)) {
		r = atomic_load(&e.error);
		snprintf(err, errlen, om_tr("err.engine.write"), strerror(-r));
	}
	pthread_mutex_lock(&L.lock);
	om_recon_flush(e.recon);
	live_flush(&e, &e.rout, om_time_now());
	pthread_mutex_unlock(&L.lock);
	/* the last stats record: the workers are gone, their counts are final */
	for (unsigned i = 0; i < started; i++)
		live_snapshot(&e.w[i]);
	if (started)
		live_stats(&e, om_time_now());
	if (e.sink.inited) {
		sink_drain(&e);
		if (go->spool)
			om_spool_sync(go->spool);
	}
	for (unsigned i = 0; i < e.nworkers; i++) {
		om_capture_stats cs;
		if (!L.lw[i].cap)
			continue;
		om_capture_stats_get(L.lw[i].cap, &cs);
		om_log(OM_LOG_INFO, om_tr("gateway.worker_stats"), i,
		       (unsigned long long)cs.packets, (unsigned long long)cs.accepted,
		       (unsigned long long)cs.dropped, (unsigned long long)cs.rejected,
		       (unsigned long long)cs.held, (unsigned long long)L.lw[i].would_block,
		       (unsigned long long)cs.kernel_drops);
		if (L.page)
			om_log(OM_LOG_INFO, om_tr("gateway.page_stats"), i,
			       (unsigned long long)L.lw[i].redirects_sent,
			       (unsigned long long)L.lw[i].sinkholes_sent);
	}
	if (L.page)
		om_log(OM_LOG_INFO, om_tr("gateway.page_served"),
		       (unsigned long long)om_gw_page_served(L.page));
out:
	if (e.sink.inited)
		sink_stop(&e);
	L.page = om_gw_page_free(L.page);
	if (L.lw) {
		for (unsigned i = 0; i < e.nworkers; i++) {
			om_capture_close(L.lw[i].cap);
			if (L.lw[i].raw4 >= 0)
				close(L.lw[i].raw4);
			if (L.lw[i].raw6 >= 0)
				close(L.lw[i].raw6);
		}
	}
	/* the queue rule goes with the process: otherwise (fail-closed) the
	 * office would be cut off until the next start */
	if (fw_applied)
		om_fw_remove(g, q);
	if (e.w) {
		workers_free(&e);
		free(e.w);
	}
	live_policy_free(&L.cur, 0); /* after the workers: their rules and filters */
	if (L.lw)
		for (unsigned i = 0; i < e.nworkers; i++)
			pthread_mutex_destroy(&L.lw[i].snap_lock);
	free(L.lw);
	om_recon_free(e.recon);
	om_decoder_free(e.tdec);
	om_addr_table_free(L.blocked);
	om_addr_table_free(L.quar);
	om_buf_free(&e.rout);
	pthread_mutex_destroy(&L.lock);
	pthread_mutex_destroy(&L.auto_lock);
	return r;
}
