/* Unit tests for the anti-virus as a file subscriber (src/guard/av_sub.c):
 * a small UDP parser written here opens, feeds and closes files on command
 * ("OPEN name", "DATA bytes", "CLOSE"), driven through the real flow table,
 * app-layer and proto's file extraction, with the real libclamav engine
 * loaded from a signature written here (the MD5 of the EICAR string).
 * Offline each file is scanned at its close (the verdict is in fileinfo);
 * inline the scanner threads answer the PENDING verdict and the flow is
 * held until then. */
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
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "guard/guard.h"
#include "proto/proto.h"
/* the parsers' private contract: this test is a parser */
#include "proto/internal.h"

#define SEC 1000000ULL

static const char eicar_a[] = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$";
static const char eicar_b[] = "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";
static char eicar[80];
/* md5sum of the 68-byte EICAR string, the value published with it */
#define EICAR_MD5 "44d88612fea8a8f36de82e1278abb02f"

/* ---- the test parser ---------------------------------------------------------- */

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

static int fp_data(void *st, om_flow *f, int dir, const uint8_t *d, uint32_t n, unsigned flags)
{
	(void)flags;
	struct fstate *s = st;
	if (n >= 5 && !memcmp(d, "OPEN ", 5))
		s->file = proto_file_open(f, dir, "smtp", d + 5, n - 5, 3, NULL, NULL);
	else if (n >= 5 && !memcmp(d, "DATA ", 5))
		proto_file_data(s->file, d + 5, n - 5);
	else if (n == 5 && !memcmp(d, "CLOSE", 5)) {
		proto_file_close(s->file, OM_FILE_CLOSED);
		s->file = NULL;
	}
	return 0;
}

static void fp_free(void *st, void *user)
{
	(void)user;
	struct fstate *s = st;
	proto_file_close(s->file, OM_FILE_TRUNCATED);
	free(s);
}

static const om_app_parser fparser = {
    .name = "av-test",
    .ipprotos = OM_APP_UDP,
    .probe_ts = fp_probe,
    .state_new = fp_new,
    .data = fp_data,
    .state_free = fp_free,
};

/* ---- the fixture ------------------------------------------------------------------ */

#define MAXEV 16
struct fx {
	om_proto_config cfg;
	om_proto *p;
	om_proto_worker *w;
	om_app_registry *reg;
	om_app_ctx *app;
	om_flow_table *ft;
	om_usec now;
	om_av *av;
	char dbdir[64];
	char *ev[MAXEV];
	int nev;
	/* the alerts given to the callback */
	int nalerts;
	char sig[OM_AV_NAME_MAX];
	char name[64];
	bool mail, blocked;
	unsigned worker;
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
	if (x->nev < MAXEV)
		x->ev[x->nev++] = strdup(om_buf_cstr(&b));
	om_buf_free(&b);
}

static void on_alert(void *user, unsigned worker, const om_av_alert *a)
{
	struct fx *x = user;
	x->nalerts++;
	snprintf(x->sig, sizeof(x->sig), "%s", a->res->signature);
	snprintf(x->name, sizeof(x->name), "%.*s", (int)a->name_len, (const char *)a->name);
	x->mail = a->mail;
	x->blocked = a->blocked;
	x->worker = worker;
}

static void fx_end(void *user, om_flow *f, enum om_flow_end why)
{
	struct fx *x = user;
	om_app_flow_end(x->app, f, why);
}

static void fx_init(struct fx *x, bool async, bool drop, uint64_t max_file, uint64_t memory)
{
	memset(x, 0, sizeof(*x));
	om_config_part parts[OM_PROTO_CONFIG_PARTS];
	om_proto_config_parts(&x->cfg, parts);
	om_config_defaults(parts, OM_PROTO_CONFIG_PARTS);
	x->cfg.files.magic = false;
	char err[512] = "";
	assert_int_equal(om_proto_new(&x->cfg, &x->p, err, sizeof(err)), 0);
	/* the signature */
	snprintf(x->dbdir, sizeof(x->dbdir), "/tmp/omamori-avsub-XXXXXX");
	assert_non_null(mkdtemp(x->dbdir));
	char p[128];
	snprintf(p, sizeof(p), "%s/t.hdb", x->dbdir);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fprintf(f, "%s:68:Omamori.Test.Eicar\n", EICAR_MD5);
	fclose(f);
	om_av_config c;
	om_av_config_schema.defaults(&c);
	c.enabled = true;
	c.reload_interval = 0;
	snprintf(c.db_dir, sizeof(c.db_dir), "%s", x->dbdir);
	if (max_file)
		c.max_file = max_file;
	if (memory)
		c.memory = memory;
	assert_int_equal(om_av_open(&c, &x->av, err, sizeof(err)), 0);
	assert_int_equal(om_av_subscribe(x->av, x->p, async, drop, on_alert, x), 0);
	assert_int_equal(om_av_subscribe(x->av, x->p, async, drop, on_alert, x), -EBUSY);
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
	om_av_close(x->av); /* before proto: subscribed to it */
	om_proto_free(x->p);
	for (int i = 0; i < x->nev; i++)
		free(x->ev[i]);
	char p[128];
	snprintf(p, sizeof(p), "%s/t.hdb", x->dbdir);
	unlink(p);
	rmdir(x->dbdir);
}

/* one datagram from the client of flow `port` */
static om_flow *dgram(struct fx *x, uint16_t port, const void *d, size_t n)
{
	om_packet p;
	memset(&p, 0, sizeof(p));
	x->now += 1000;
	p.ts = x->now;
	p.ip_ver = 4;
	p.proto = IPPROTO_UDP;
	p.flags = OM_PKT_IPV4 | OM_PKT_UDP | OM_PKT_HAS_PORTS;
	const uint8_t a[4] = {192, 0, 2, 1}, b[4] = {192, 0, 2, 2};
	om_addr_from_v4(&p.src, a);
	om_addr_from_v4(&p.dst, b);
	p.sport = port;
	p.dport = 25;
	p.payload = d;
	p.payload_len = (uint32_t)n;
	int dir;
	om_flow *f = om_flow_get(x->ft, &p, &dir);
	assert_non_null(f);
	om_app_udp(x->app, f, dir, p.payload, p.payload_len);
	return f;
}

static om_flow *say(struct fx *x, uint16_t port, const char *s)
{
	return dgram(x, port, s, strlen(s));
}

/* "DATA " + n bytes */
static om_flow *data(struct fx *x, uint16_t port, const void *d, size_t n)
{
	uint8_t *b = malloc(n + 5);
	assert_non_null(b);
	memcpy(b, "DATA ", 5);
	memcpy(b + 5, d, n);
	om_flow *f = dgram(x, port, b, n + 5);
	free(b);
	return f;
}

static const char *fileinfo(const struct fx *x, const char *name)
{
	char want[96];
	snprintf(want, sizeof(want), "\"filename\":\"%s\"", name);
	for (int i = 0; i < x->nev; i++)
		if (strstr(x->ev[i], "\"event_type\":\"fileinfo\"") && strstr(x->ev[i], want))
			return x->ev[i];
	return NULL;
}

/* ---- offline ------------------------------------------------------------------------ */

static void test_offline(void **unused)
{
	(void)unused;
	struct fx x;
	fx_init(&x, false, false, 0, 0);
	/* EICAR in three chunks */
	om_flow *f = say(&x, 40000, "OPEN eicar.com");
	data(&x, 40000, eicar, 10);
	data(&x, 40000, eicar + 10, 30);
	data(&x, 40000, eicar + 40, 28);
	say(&x, 40000, "CLOSE");
	assert_int_equal(x.nalerts, 1);
	assert_string_equal(x.sig, "Omamori.Test.Eicar.UNOFFICIAL");
	assert_string_equal(x.name, "eicar.com");
	assert_true(x.mail); /* the file's protocol is smtp */
	assert_false(x.blocked);
	assert_int_equal(x.worker, 0);
	assert_false(om_proto_flow_held(f));
	assert_int_equal(om_proto_flow_verdict(f), OM_FILE_ALERT);
	const char *r = fileinfo(&x, "eicar.com");
	assert_non_null(r);
	assert_non_null(strstr(r, "\"md5\":\"" EICAR_MD5 "\"")); /* the bytes were whole */
	assert_non_null(strstr(r, "\"av\":{\"result\":\"infected\",\"engine\":\"clamav\""));
	assert_non_null(strstr(r, "\"signature\":\"Omamori.Test.Eicar.UNOFFICIAL\""));
	assert_non_null(strstr(r, "\"database\":\"local\""));
	/* a clean file on another flow */
	om_flow *g = say(&x, 40001, "OPEN note.txt");
	say(&x, 40001, "DATA nothing to see here");
	say(&x, 40001, "CLOSE");
	assert_int_equal(x.nalerts, 1);
	assert_int_equal(om_proto_flow_verdict(g), OM_FILE_ACCEPT);
	r = fileinfo(&x, "note.txt");
	assert_non_null(r);
	assert_non_null(strstr(r, "\"av\":{\"result\":\"clean\""));
	assert_null(strstr(r, "not_scanned"));
	om_av_stats st;
	om_av_stats_get(x.av, &st);
	assert_int_equal(st.files, 2);
	assert_int_equal(st.infected, 1);
	fx_done(&x);
}

/* A file cut by the flow's end is scanned for what came, and said to be cut. */
static void test_truncated(void **unused)
{
	(void)unused;
	struct fx x;
	fx_init(&x, false, false, 0, 0);
	say(&x, 40000, "OPEN part.bin");
	data(&x, 40000, eicar, 68);
	om_flow_table_flush(x.ft, OM_FLOW_END_SHUTDOWN);
	assert_int_equal(x.nalerts, 1); /* the 68 bytes are the whole string */
	const char *r = fileinfo(&x, "part.bin");
	assert_non_null(r);
	assert_non_null(strstr(r, "\"not_scanned\":[\"truncated\"]"));
	fx_done(&x);
}

/* av.max-file: only the first bytes are scanned, and the fileinfo says so */
static void test_max_file(void **unused)
{
	(void)unused;
	struct fx x;
	fx_init(&x, false, false, 1024, 0);
	uint8_t big[2000];
	memset(big, 'a', sizeof(big));
	/* EICAR at the end, past the first 1024 bytes: not seen */
	memcpy(big + sizeof(big) - 68, eicar, 68);
	say(&x, 40000, "OPEN late.bin");
	data(&x, 40000, big, 1000);
	data(&x, 40000, big + 1000, 1000);
	say(&x, 40000, "CLOSE");
	assert_int_equal(x.nalerts, 0);
	const char *r = fileinfo(&x, "late.bin");
	assert_non_null(r);
	assert_non_null(strstr(r, "\"result\":\"clean\""));
	assert_non_null(strstr(r, "\"not_scanned\":[\"max-file\"]"));
	fx_done(&x);
}

/* av.memory: a file that finds the budget used up is not scanned at all */
static void test_memory(void **unused)
{
	(void)unused;
	struct fx x;
	/* the first chunk of a file reserves 64 KiB: room for one file only */
	fx_init(&x, false, false, 100000, 100000);
	say(&x, 40000, "OPEN a.bin");
	data(&x, 40000, "first", 5);
	say(&x, 40001, "OPEN b.com");
	data(&x, 40001, eicar, 68);
	say(&x, 40001, "CLOSE");
	say(&x, 40000, "CLOSE");
	assert_int_equal(x.nalerts, 0);
	const char *r = fileinfo(&x, "b.com");
	assert_non_null(r);
	assert_non_null(strstr(r, "\"result\":\"not_scanned\""));
	assert_non_null(strstr(r, "\"not_scanned\":[\"memory\"]"));
	r = fileinfo(&x, "a.bin");
	assert_non_null(strstr(r, "\"result\":\"clean\""));
	om_av_stats st;
	om_av_stats_get(x.av, &st);
	assert_int_equal(st.memory_refused, 1);
	/* the budget came back: the same file now is scanned */
	say(&x, 40002, "OPEN c.com");
	data(&x, 40002, eicar, 68);
	say(&x, 40002, "CLOSE");
	assert_int_equal(x.nalerts, 1);
	fx_done(&x);
}

/* ---- inline ------------------------------------------------------------------------- */

/* polls until the flow is no longer held (the scanner thread answered);
 * the clock does not move, so a release is an answer, never the hold-ms */
static void wait_answer(struct fx *x, om_flow *f)
{
	for (int i = 0; i < 500 && om_proto_flow_held(f); i++) {
		om_proto_worker_poll(x->w, x->now);
		if (om_proto_flow_held(f))
			usleep(10000);
	}
	assert_false(om_proto_flow_held(f));
}

static void test_inline(void **unused)
{
	(void)unused;
	struct fx x;
	fx_init(&x, true, true, 0, 0);
	om_flow *f = say(&x, 40000, "OPEN eicar.com");
	data(&x, 40000, eicar, 68);
	say(&x, 40000, "CLOSE");
	/* held until the scanner thread answers */
	assert_true(om_proto_flow_held(f));
	const char *r = fileinfo(&x, "eicar.com");
	assert_non_null(r);
	assert_non_null(strstr(r, "\"av\":{\"result\":\"pending\""));
	assert_int_equal(x.nalerts, 0); /* the alert comes on the worker's poll */
	wait_answer(&x, f);
	assert_int_equal(om_proto_flow_verdict(f), OM_FILE_DROP);
	om_proto_stats ps;
	om_proto_worker_stats(x.w, &ps);
	assert_int_equal(ps.hold_timeouts, 0);
	assert_int_equal(om_av_worker_poll(x.av, 0), 1);
	assert_int_equal(x.nalerts, 1);
	assert_string_equal(x.sig, "Omamori.Test.Eicar.UNOFFICIAL");
	assert_string_equal(x.name, "eicar.com");
	assert_true(x.blocked);
	assert_int_equal(om_av_worker_poll(x.av, 0), 0);
	/* a clean file: answered ACCEPT, no alert */
	om_flow *g = say(&x, 40001, "OPEN fine.txt");
	say(&x, 40001, "DATA all good");
	say(&x, 40001, "CLOSE");
	assert_true(om_proto_flow_held(g));
	wait_answer(&x, g);
	assert_int_equal(om_proto_flow_verdict(g), OM_FILE_ACCEPT);
	usleep(20000);
	assert_int_equal(om_av_worker_poll(x.av, 0), 0);
	assert_int_equal(x.nalerts, 1);
	fx_done(&x);
}

/* inline without drop (the gateway watching a mirror port): ALERT, not blocked */
static void test_inline_alert_only(void **unused)
{
	(void)unused;
	struct fx x;
	fx_init(&x, true, false, 0, 0);
	om_flow *f = say(&x, 40000, "OPEN eicar.com");
	data(&x, 40000, eicar, 68);
	say(&x, 40000, "CLOSE");
	wait_answer(&x, f);
	assert_int_equal(om_proto_flow_verdict(f), OM_FILE_ALERT);
	for (int i = 0; i < 100 && !om_av_worker_poll(x.av, 0); i++)
		usleep(10000);
	assert_int_equal(x.nalerts, 1);
	assert_false(x.blocked);
	fx_done(&x);
}

int main(void)
{
	snprintf(eicar, sizeof(eicar), "%s%s", eicar_a, eicar_b);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_offline),  cmocka_unit_test(test_truncated),
	    cmocka_unit_test(test_max_file), cmocka_unit_test(test_memory),
	    cmocka_unit_test(test_inline),   cmocka_unit_test(test_inline_alert_only),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
