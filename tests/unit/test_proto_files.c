/* Unit tests for proto's file extraction (src/proto/file.c) and its event
 * path (src/proto/event.c): a small UDP parser written here opens, feeds
 * and closes files on command ("OPEN name", "DATA bytes", "GAP n",
 * "CLOSE", "TRUNC"), driven through the real flow table and app-layer with a
 * proto worker whose sink collects the records the engine would write. */
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "proto/proto.h"
/* the parsers' private contract: this test is a parser */
#include "proto/internal.h"

#define SEC 1000000ULL

/* ---- the test parser -------------------------------------------------------- */

struct fstate {
	om_file *file;
};

static enum om_app_probe fp_probe(const om_flow *f, const uint8_t *d, uint32_t n, void *wctx)
{
	(void)f, (void)wctx;
	return n >= 4 && !memcmp(d, "OPEN", 4) ? OM_APP_PROBE_YES : OM_APP_PROBE_NO;
}

static void *fp_new(om_flow *f, void *user, void *wctx)
{
	(void)f, (void)user, (void)wctx;
	return calloc(1, sizeof(struct fstate));
}

static void ctx_members(om_json *j, void *arg)
{
	om_json_obj_open(j, "test");
	om_json_str(j, "cmd", arg);
	om_json_obj_close(j);
}

struct txv {
	const uint8_t *host;
	uint32_t len;
};

static const uint8_t *tx_buffer(const om_proto_tx *tx, enum om_tx_buf b, uint32_t idx,
                                uint32_t *ret_len)
{
	const struct txv *v = tx->priv;
	if (b != OM_TXB_HTTP_HOST || idx)
		return NULL;
	*ret_len = v->len;
	return v->host;
}

static int fp_data(void *st, om_flow *f, int dir, const uint8_t *d, uint32_t n, unsigned flags)
{
	(void)flags;
	struct fstate *s = st;
	if (n >= 5 && !memcmp(d, "OPEN ", 5)) {
		s->file = proto_file_open(f, dir, "files-test", d + 5, n - 5, 7, ctx_members,
		                          (void *)"get");
	} else if (n >= 5 && !memcmp(d, "DATA ", 5)) {
		proto_file_data(s->file, d + 5, n - 5);
	} else if (n >= 4 && !memcmp(d, "GAP ", 4)) {
		proto_file_gap(s->file, (uint64_t)strtoull((const char *)d + 4, NULL, 10));
	} else if (n == 5 && !memcmp(d, "CLOSE", 5)) {
		proto_file_close(s->file, OM_FILE_CLOSED);
		s->file = NULL;
	} else if (n >= 3 && !memcmp(d, "TX ", 3)) {
		struct txv v = {d + 3, n - 3};
		om_proto_tx tx = {.app_proto = "files-test",
		                  .tx_id = 1,
		                  .progress = OM_TX_REQUEST,
		                  .dir = dir,
		                  .buffer = tx_buffer,
		                  .priv = &v};
		proto_tx_ready(f, &tx);
	} else if (n == 5 && !memcmp(d, "ERROR", 5)) {
		proto_anomaly(f, dir, "files-test", "TEST_EVENT");
	}
	return 0;
}

static void fp_free(void *st, void *user)
{
	(void)user;
	struct fstate *s = st;
	proto_file_close(s->file, OM_FILE_TRUNCATED); /* the flow ended first */
	free(s);
}

static const om_app_parser fparser = {
    .name = "files-test",
    .ipprotos = OM_APP_UDP,
    .probe_ts = fp_probe,
    .state_new = fp_new,
    .data = fp_data,
    .state_free = fp_free,
};

/* ---- the fixture: flow table, app-layer, proto worker, sink ---------------------- */

#define MAXEV 32
struct fx {
	om_proto_config cfg;
	om_proto *p;
	om_proto_worker *w;
	om_app_registry *reg;
	om_app_ctx *app;
	om_flow_table *ft;
	om_usec now;
	char *ev[MAXEV]; /* the records, as the sink saw them (body only) */
	int dirs[MAXEV];
	int nev;
};

static void sink(void *user, om_flow *f, const om_proto_event *ev)
{
	(void)f;
	struct fx *x = user;
	om_buf b;
	om_buf_init(&b, 1 << 16);
	om_json j;
	om_json_init(&j, &b);
	om_json_obj_open(&j, NULL);
	om_json_str(&j, "event_type", ev->event_type);
	ev->body(&j, ev->arg);
	om_json_obj_close(&j);
	assert_true(x->nev < MAXEV);
	x->dirs[x->nev] = ev->dir;
	x->ev[x->nev++] = strdup(om_buf_cstr(&b));
	om_buf_free(&b);
}

static void fx_end(void *u, om_flow *f, enum om_flow_end why)
{
	struct fx *x = u;
	om_app_flow_end(x->app, f, why);
}

static void fx_init(struct fx *x, void (*tune)(om_proto_config *c))
{
	memset(x, 0, sizeof(*x));
	om_config_part parts[OM_PROTO_CONFIG_PARTS];
	om_proto_config_parts(&x->cfg, parts);
	om_config_defaults(parts, OM_PROTO_CONFIG_PARTS);
	if (tune)
		tune(&x->cfg);
	char err[256] = "";
	assert_int_equal(om_proto_new(&x->cfg, &x->p, err, sizeof(err)), 0);
	x->reg = om_app_registry_new();
	assert_int_equal(om_app_register(x->reg, &fparser, NULL), 0);
	om_app_registry_seal(x->reg);
	x->app = om_app_new(x->reg, NULL);
	om_flow_config fc = {.max_flows = 16,
	                     .timeout_new = 30,
	                     .timeout_est = 300,
	                     .timeout_closed = 10,
	                     .timeout_udp = 60,
	                     .timeout_icmp = 20,
	                     .on_end = fx_end,
	                     .user = x};
	x->ft = om_flow_table_new(&fc);
	assert_non_null(x->ft);
	om_app_set_flow_table(x->app, x->ft);
	om_proto_sink s = {sink, x};
	x->w = om_proto_worker_new(x->p, 0, &s);
	assert_non_null(x->w);
	om_app_set_worker_user(x->app, x->w);
	x->now = 1700000000 * SEC;
}

static void fx_done(struct fx *x)
{
	om_flow_table_flush(x->ft, OM_FLOW_END_SHUTDOWN);
	om_flow_table_free(x->ft);
	om_app_free(x->app);
	om_proto_worker_free(x->w);
	om_app_registry_free(x->reg);
	om_proto_free(x->p);
	for (int i = 0; i < x->nev; i++)
		free(x->ev[i]);
}

/* one datagram; from 0: the client */
static om_flow *dgram(struct fx *x, int from, const void *d, size_t n)
{
	om_packet p;
	memset(&p, 0, sizeof(p));
	x->now += 1000;
	p.ts = x->now;
	p.ip_ver = 4;
	p.proto = IPPROTO_UDP;
	p.flags = OM_PKT_IPV4 | OM_PKT_UDP | OM_PKT_HAS_PORTS;
	const uint8_t a[4] = {192, 0, 2, 1}, b[4] = {192, 0, 2, 2};
	om_addr_from_v4(from ? &p.dst : &p.src, a);
	om_addr_from_v4(from ? &p.src : &p.dst, b);
	p.sport = from ? 7000 : 40000;
	p.dport = from ? 40000 : 7000;
	p.payload = d;
	p.payload_len = (uint32_t)n;
	int dir;
	om_flow *f = om_flow_get(x->ft, &p, &dir);
	assert_non_null(f);
	om_app_udp(x->app, f, dir, p.payload, p.payload_len);
	return f;
}

static om_flow *say(struct fx *x, int from, const char *s)
{
	return dgram(x, from, s, strlen(s));
}

static const char *find_ev(const struct fx *x, const char *type)
{
	char want[64];
	snprintf(want, sizeof(want), "{\"event_type\":\"%s\"", type);
	for (int i = 0; i < x->nev; i++)
		if (!strncmp(x->ev[i], want, strlen(want)))
			return x->ev[i];
	return NULL;
}

/* ---- tests ---------------------------------------------------------------------- */

/* Hashes are the published test vectors of "abc" (RFC 1321, FIPS 180). */
static void test_hashes_and_record(void **unused)
{
	(void)unused;
	struct fx x;
	fx_init(&x, NULL);
	say(&x, 0, "OPEN abc.txt");
	say(&x, 0, "DATA a");
	say(&x, 0, "DATA bc");
	say(&x, 0, "CLOSE");
	const char *r = find_ev(&x, "fileinfo");
	assert_non_null(r);
	assert_non_null(strstr(r, "\"test\":{\"cmd\":\"get\"},\"fileinfo\":{"));
	assert_non_null(strstr(r, "\"filename\":\"abc.txt\""));
	assert_non_null(strstr(r, "\"md5\":\"900150983cd24fb0d6963f7d28e17f72\""));
	assert_non_null(strstr(r, "\"sha1\":\"a9993e364706816aba3e25717850c26c9cd0d89d\""));
	assert_non_null(strstr(
	    r, "\"sha256\":\"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\""));
	assert_non_null(strstr(r, "\"state\":\"CLOSED\""));
	assert_non_null(strstr(r, "\"gaps\":false"));
	assert_non_null(strstr(r, "\"size\":3,"));
	assert_non_null(strstr(r, "\"tx_id\":7"));
	assert_non_null(strstr(r, "\"stored\":false"));
	assert_null(strstr(r, "\"file_id\"")); /* written for stored files only */
	assert_int_equal(x.dirs[0], OM_DIR_TOSERVER);
	om_proto_stats st;
	om_proto_worker_stats(x.w, &st);
	assert_int_equal(st.files, 1);
	assert_int_equal(st.events, 1);
	fx_done(&x);
}

static void test_magic(void **unused)
{
	(void)unused;
	struct fx x;
	fx_init(&x, NULL);
	say(&x, 0, "OPEN pic");
	/* a PNG signature and IHDR chunk: 1x1, 8-bit RGB */
	static const uint8_t png[] = {'D',  'A',  'T',  'A', ' ',  0x89, 'P',  'N', 'G', '\r',
	                              '\n', 0x1a, '\n', 0,   0,    0,    13,   'I', 'H', 'D',
	                              'R',  0,    0,    0,   1,    0,    0,    0,   1,   8,
	                              2,    0,    0,    0,   0x90, 0x77, 0x53, 0xde};
	dgram(&x, 0, png, sizeof(png));
	say(&x, 0, "CLOSE");
	const char *r = find_ev(&x, "fileinfo");
	assert_non_null(r);
	assert_non_null(strstr(r, "\"magic\":\"PNG image data"));
	fx_done(&x);
}

static void small_max(om_proto_config *c)
{
	c->files.max_file = 4;
}

static void test_max_file_truncates(void **unused)
{
	(void)unused;
	struct fx x;
	fx_init(&x, small_max);
	say(&x, 0, "OPEN big");
	say(&x, 0, "DATA abcdef");
	say(&x, 0, "CLOSE");
	const char *r = find_ev(&x, "fileinfo");
	assert_non_null(r);
	assert_non_null(strstr(r, "\"state\":\"TRUNCATED\""));
	assert_non_null(strstr(r, "\"size\":4,"));
	/* md5 of "abcd": what was followed */
	assert_non_null(strstr(r, "\"md5\":\"e2fc714c4727ee9395f324cd2e7f331f\""));
	fx_done(&x);
}

static void test_gap_and_flow_end(void **unused)
{
	(void)unused;
	struct fx x;
	fx_init(&x, NULL);
	say(&x, 0, "OPEN dl");
	say(&x, 0, "DATA ab");
	say(&x, 0, "GAP 10");
	say(&x, 0, "DATA cd");
	om_flow_table_flush(x.ft, OM_FLOW_END_SHUTDOWN); /* the file is still open: TRUNCATED */
	const char *r = find_ev(&x, "fileinfo");
	assert_non_null(r);
	assert_non_null(strstr(r, "\"state\":\"TRUNCATED\""));
	assert_non_null(strstr(r, "\"gaps\":true"));
	assert_null(strstr(r, "\"md5\"")); /* no hash of bytes that are not the file */
	assert_non_null(strstr(r, "\"size\":4,"));
	fx_done(&x);
}

static void test_anomaly(void **unused)
{
	(void)unused;
	struct fx x;
	fx_init(&x, NULL);
	say(&x, 0, "OPEN a");
	say(&x, 0, "ERROR");
	const char *r = find_ev(&x, "anomaly");
	assert_non_null(r);
	assert_string_equal(r,
	                    "{\"event_type\":\"anomaly\",\"anomaly\":{\"app_proto\":\"files-test\","
	                    "\"type\":\"applayer\",\"event\":\"TEST_EVENT\",\"layer\":"
	                    "\"proto_parser\"}}");
	fx_done(&x);
}

/* ---- the store ---------------------------------------------------------------- */

static char store_dir[128];

static void with_store(om_proto_config *c)
{
	snprintf(c->files.store_dir, sizeof(c->files.store_dir), "%s", store_dir);
	c->files.store_min_free = 0;
	c->files.store_max_files = 2;
}

static void test_store(void **unused)
{
	(void)unused;
	snprintf(store_dir, sizeof(store_dir), "/tmp/omamori-files.XXXXXX");
	assert_non_null(mkdtemp(store_dir));
	struct fx x;
	fx_init(&x, with_store);
	say(&x, 0, "OPEN one");
	say(&x, 0, "DATA abc");
	say(&x, 0, "CLOSE");
	/* the same content again: one copy kept, still "stored" */
	say(&x, 0, "OPEN two");
	say(&x, 0, "DATA abc");
	say(&x, 0, "CLOSE");
	char path[256];
	snprintf(path, sizeof(path),
	         "%s/ba/ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
	         store_dir);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 3);
	assert_int_equal(x.nev, 2);
	assert_non_null(strstr(x.ev[0], "\"stored\":true,\"file_id\":1,"));
	assert_non_null(strstr(x.ev[1], "\"stored\":true,\"file_id\":2,"));
	/* a second distinct file fills the store (max 2), a third is refused */
	say(&x, 0, "OPEN three");
	say(&x, 0, "DATA abcd");
	say(&x, 0, "CLOSE");
	say(&x, 0, "OPEN four");
	say(&x, 0, "DATA abcde");
	say(&x, 0, "CLOSE");
	assert_non_null(strstr(x.ev[2], "\"stored\":true"));
	assert_non_null(strstr(x.ev[3], "\"stored\":false"));
	om_proto_stats ps;
	om_proto_worker_stats(x.w, &ps);
	assert_int_equal(ps.files_stored, 2);
	assert_int_equal(ps.store_refused, 1);
	fx_done(&x);
	/* nothing left in tmp/ */
	snprintf(path, sizeof(path), "%s/tmp", store_dir);
	DIR *d = opendir(path);
	assert_non_null(d);
	struct dirent *e;
	int left = 0;
	while ((e = readdir(d)))
		left += e->d_name[0] != '.';
	closedir(d);
	assert_int_equal(left, 0);
	/* a new module counts what the store already holds: still full */
	fx_init(&x, with_store);
	say(&x, 0, "OPEN five");
	say(&x, 0, "DATA xyz");
	say(&x, 0, "CLOSE");
	assert_non_null(strstr(x.ev[0], "\"stored\":false"));
	fx_done(&x);
	char cmd[200];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", store_dir);
	assert_int_equal(system(cmd), 0);
}

static void test_store_dir_refused(void **unused)
{
	(void)unused;
	om_proto_config c;
	om_config_part parts[OM_PROTO_CONFIG_PARTS];
	om_proto_config_parts(&c, parts);
	om_config_defaults(parts, OM_PROTO_CONFIG_PARTS);
	snprintf(c.files.store_dir, sizeof(c.files.store_dir), "/proc/omamori-no/such");
	om_proto *p = NULL;
	char err[512] = "";
	assert_true(om_proto_new(&c, &p, err, sizeof(err)) < 0);
	assert_null(p);
	assert_non_null(strstr(err, "/proc/omamori-no/such"));
}

/* ---- subscribers and verdicts ---------------------------------------------------- */

struct sub_log {
	int opens, chunks, closes, frees;
	uint64_t bytes;
	enum om_file_verdict answer;
	om_file_ticket ticket;
};
static struct sub_log slog[2];

static void *s_open(const om_file *file, void *user)
{
	(void)file;
	struct sub_log *l = user;
	l->opens++;
	return l;
}

static int s_chunk(void *st, const om_file *file, const uint8_t *d, size_t n)
{
	(void)file, (void)d;
	struct sub_log *l = st;
	l->chunks++;
	l->bytes += n;
	return 0;
}

static enum om_file_verdict s_close(void *st, const om_file *file, om_file_ticket t)
{
	struct sub_log *l = st;
	l->closes++;
	l->ticket = t;
	assert_int_equal(om_file_get_info(file)->state, OM_FILE_CLOSED);
	assert_non_null(om_file_get_info(file)->sha256);
	return l->answer;
}

static void s_free(void *st, void *user)
{
	(void)user;
	((struct sub_log *)st)->frees++;
}

static void add_subs(struct fx *x)
{
	for (int i = 0; i < 2; i++) {
		om_file_subscriber s = {"test", s_open, s_chunk, s_close, s_free, &slog[i], NULL, false};
		assert_int_equal(om_proto_add_file_subscriber(x->p, &s), 0);
	}
}

static void test_subscribers_sync(void **unused)
{
	(void)unused;
	memset(slog, 0, sizeof(slog));
	slog[0].answer = OM_FILE_ACCEPT;
	slog[1].answer = OM_FILE_ALERT;
	struct fx x;
	fx_init(&x, NULL);
	add_subs(&x);
	om_flow *f = say(&x, 0, "OPEN v");
	say(&x, 0, "DATA 12345");
	say(&x, 0, "CLOSE");
	for (int i = 0; i < 2; i++) {
		assert_int_equal(slog[i].opens, 1);
		assert_int_equal(slog[i].bytes, 5);
		assert_int_equal(slog[i].closes, 1);
		assert_int_equal(slog[i].frees, 1);
	}
	assert_false(om_proto_flow_held(f));
	assert_int_equal(om_proto_flow_verdict(f), OM_FILE_ALERT); /* the stricter */
	fx_done(&x);
}

static void test_subscriber_pending(void **unused)
{
	(void)unused;
	memset(slog, 0, sizeof(slog));
	slog[0].answer = OM_FILE_PENDING;
	slog[1].answer = OM_FILE_ACCEPT;
	struct fx x;
	fx_init(&x, NULL);
	add_subs(&x);
	om_flow *f = say(&x, 0, "OPEN v");
	say(&x, 0, "DATA evil");
	say(&x, 0, "CLOSE");
	assert_true(om_proto_flow_held(f));
	assert_int_equal(om_proto_worker_poll(x.w, x.now), 0); /* nothing posted yet */
	assert_true(om_proto_flow_held(f));
	assert_int_equal(om_file_verdict_post(x.p, slog[0].ticket, OM_FILE_DROP), 0);
	assert_int_equal(om_proto_worker_poll(x.w, x.now), 1);
	assert_false(om_proto_flow_held(f));
	assert_int_equal(om_proto_flow_verdict(f), OM_FILE_DROP);
	/* a second file on the flow that nobody answers: released at hold_ms */
	say(&x, 0, "OPEN w");
	say(&x, 0, "DATA x");
	say(&x, 0, "CLOSE");
	assert_true(om_proto_flow_held(f));
	assert_int_equal(om_proto_worker_poll(x.w, x.now + 1999 * 1000), 0);
	assert_int_equal(om_proto_worker_poll(x.w, x.now + 2000 * 1000), 1);
	assert_false(om_proto_flow_held(f));
	om_proto_stats st;
	om_proto_worker_stats(x.w, &st);
	assert_int_equal(st.held, 2);
	assert_int_equal(st.hold_timeouts, 1);
	/* an answer after the hold ran out changes nothing */
	assert_int_equal(om_file_verdict_post(x.p, slog[0].ticket, OM_FILE_ACCEPT), 0);
	assert_int_equal(om_proto_worker_poll(x.w, x.now), 0);
	fx_done(&x);
	/* the worker is gone: a late answer is refused */
	om_proto *p;
	char err[64];
	assert_int_equal(om_proto_new(&x.cfg, &p, err, sizeof(err)), 0);
	assert_int_equal(om_file_verdict_post(p, slog[0].ticket, OM_FILE_DROP), -ENOENT);
	om_proto_free(p);
}

static void one_open(om_proto_config *c)
{
	c->files.max_open = 1;
}

static void test_max_open(void **unused)
{
	(void)unused;
	struct fx x;
	fx_init(&x, one_open);
	say(&x, 0, "OPEN a");
	x.now += 1;
	/* a second flow (other client port) opens a file while the first is open */
	om_packet p;
	memset(&p, 0, sizeof(p));
	p.ts = x.now + 5000;
	p.ip_ver = 4;
	p.proto = IPPROTO_UDP;
	p.flags = OM_PKT_IPV4 | OM_PKT_UDP | OM_PKT_HAS_PORTS;
	const uint8_t a[4] = {192, 0, 2, 9}, b[4] = {192, 0, 2, 2};
	om_addr_from_v4(&p.src, a);
	om_addr_from_v4(&p.dst, b);
	p.sport = 41000;
	p.dport = 7000;
	p.payload = (const uint8_t *)"OPEN b";
	p.payload_len = 6;
	int dir;
	om_flow *f2 = om_flow_get(x.ft, &p, &dir);
	om_app_udp(x.app, f2, dir, p.payload, p.payload_len);
	om_proto_stats st;
	om_proto_worker_stats(x.w, &st);
	assert_int_equal(st.files, 1);
	assert_int_equal(st.files_limit, 1);
	fx_done(&x);
}

/* ---- transaction observers ---------------------------------------------------- */

static int obs_workers, obs_frees, obs_calls;

static void *o_worker_new(void *user, unsigned worker)
{
	(void)user;
	assert_int_equal(worker, 0);
	obs_workers++;
	return &obs_calls;
}

static void o_worker_free(void *wctx, void *user)
{
	(void)user;
	assert_ptr_equal(wctx, &obs_calls);
	obs_frees++;
}

/* "evil.example" is dropped, "ads.example" alerted, anything else accepted */
static enum om_tx_verdict o_on_tx(void *wctx, om_flow *f, const om_proto_tx *tx)
{
	(void)f;
	(*(int *)wctx)++;
	uint32_t n = 0;
	const uint8_t *h = om_tx_get(tx, OM_TXB_HTTP_HOST, 0, &n);
	assert_non_null(h);
	assert_null(om_tx_get(tx, OM_TXB_HTTP_URI, 0, &n)); /* not given by this parser */
	if (n == 12 && !memcmp(h, "evil.example", 12))
		return OM_TX_VERDICT_DROP;
	if (n == 11 && !memcmp(h, "ads.example", 11))
		return OM_TX_VERDICT_ALERT;
	return OM_TX_VERDICT_ACCEPT;
}

static void test_observers(void **unused)
{
	(void)unused;
	obs_workers = obs_frees = obs_calls = 0;
	struct fx x;
	fx_init(&x, NULL);
	fx_done(&x); /* made without observers: made again with one */
	memset(&x, 0, sizeof(x));
	om_config_part parts[OM_PROTO_CONFIG_PARTS];
	om_proto_config_parts(&x.cfg, parts);
	om_config_defaults(parts, OM_PROTO_CONFIG_PARTS);
	char err[64];
	assert_int_equal(om_proto_new(&x.cfg, &x.p, err, sizeof(err)), 0);
	om_proto_observer o = {"test", o_worker_new, o_worker_free, o_on_tx, NULL, false};
	assert_int_equal(om_proto_add_observer(x.p, &o), 0);
	om_proto_observer bad = {"bad", NULL, NULL, NULL, NULL, false};
	assert_int_equal(om_proto_add_observer(x.p, &bad), -EINVAL);
	x.reg = om_app_registry_new();
	assert_int_equal(om_app_register(x.reg, &fparser, NULL), 0);
	om_app_registry_seal(x.reg);
	x.app = om_app_new(x.reg, NULL);
	om_flow_config fc = {.max_flows = 16,
	                     .timeout_new = 30,
	                     .timeout_est = 300,
	                     .timeout_closed = 10,
	                     .timeout_udp = 60,
	                     .timeout_icmp = 20,
	                     .on_end = fx_end,
	                     .user = &x};
	x.ft = om_flow_table_new(&fc);
	om_app_set_flow_table(x.app, x.ft);
	om_proto_sink s = {sink, &x};
	x.w = om_proto_worker_new(x.p, 0, &s);
	assert_non_null(x.w);
	assert_int_equal(obs_workers, 1);
	om_app_set_worker_user(x.app, x.w);
	x.now = 1700000000 * SEC;
	om_flow *f = say(&x, 0, "OPEN a");
	say(&x, 0, "TX www.example");
	assert_int_equal(f->flags & (OM_FLOW_F_ALERTED | OM_FLOW_F_DROP), 0);
	say(&x, 0, "TX ads.example");
	assert_int_equal(f->flags & (OM_FLOW_F_ALERTED | OM_FLOW_F_DROP), OM_FLOW_F_ALERTED);
	say(&x, 0, "TX evil.example");
	assert_int_equal(f->flags & (OM_FLOW_F_ALERTED | OM_FLOW_F_DROP | OM_FLOW_F_REJECT),
	                 OM_FLOW_F_ALERTED | OM_FLOW_F_DROP);
	assert_int_equal(obs_calls, 3);
	fx_done(&x);
	assert_int_equal(obs_frees, 1);
	/* the buffer names of the rule language, both ways */
	assert_string_equal(om_tx_buf_name(OM_TXB_HTTP_URI), "http.uri");
	assert_int_equal(om_tx_buf_from_name("tls.sni"), OM_TXB_TLS_SNI);
	assert_int_equal(om_tx_buf_from_name("no.such"), -1);
	for (int i = 0; i < OM_TXB_COUNT; i++)
		assert_int_equal(om_tx_buf_from_name(om_tx_buf_name(i)), i);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hashes_and_record),
	    cmocka_unit_test(test_magic),
	    cmocka_unit_test(test_max_file_truncates),
	    cmocka_unit_test(test_gap_and_flow_end),
	    cmocka_unit_test(test_anomaly),
	    cmocka_unit_test(test_store),
	    cmocka_unit_test(test_store_dir_refused),
	    cmocka_unit_test(test_subscribers_sync),
	    cmocka_unit_test(test_subscriber_pending),
	    cmocka_unit_test(test_max_open),
	    cmocka_unit_test(test_observers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
