/* Unit tests for the engine: EVE rotation and lazy, appending open, and
 * whole-pipeline runs on captures written here with libpcap: the same
 * events for any number of workers, scan alerts with exact counts, a
 * capture cut short, the capture clock (outliers, uptime), coverage events
 * and the spool sink. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pcap/pcap.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/engine.h"

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *s = malloc((size_t)n + 1);
	assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
	s[n] = '\0';
	fclose(f);
	if (len)
		*len = (size_t)n;
	return s;
}

static size_t count_str(const char *s, const char *needle)
{
	size_t n = 0;
	for (const char *p = s; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

static void test_eve_rotation(void **state)
{
	(void)state;
	char dir[] = "/tmp/omamori-eve-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[128], p1[160], p2[160];
	snprintf(path, sizeof(path), "%s/eve.json", dir);
	om_eve *e;
	char err[256];
	assert_int_equal(om_eve_open(path, 100, true, &e, err, sizeof(err)), 0);
	const char line[] =
	    "{\"event_type\":\"x\",\"pad\":\"0123456789012345678901234567890123\"}\n";
	size_t l = sizeof(line) - 1; /* 60 bytes */
	assert_int_equal(om_eve_write(e, line, l, "2024-05-01"), 0);
	/* 120 > 100: rotate by size before this block */
	assert_int_equal(om_eve_write(e, line, l, "2024-05-01"), 0);
	/* new day: rotate although small */
	assert_int_equal(om_eve_write(e, line, l, "2024-05-02"), 0);
	assert_int_equal(om_eve_rotations(e), 2);
	om_eve_close(e);
	snprintf(p1, sizeof(p1), "%s.1", path);
	snprintf(p2, sizeof(p2), "%s.2", path);
	size_t n;
	char *s;
	s = slurp(p1, &n);
	assert_int_equal(n, l);
	free(s);
	s = slurp(p2, &n);
	assert_int_equal(n, l);
	free(s);
	s = slurp(path, &n);
	assert_int_equal(n, l);
	free(s);
	unlink(p1);
	unlink(p2);
	unlink(path);
	rmdir(dir);
}

/* ---- a capture written with libpcap ---- */

static uint16_t csum(const uint8_t *p, size_t n, uint32_t sum)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Ethernet + IPv4 + TCP, no payload unless given */
static size_t tcp_frame(uint8_t *f, const uint8_t src[4], const uint8_t dst[4], uint16_t sp,
                        uint16_t dp, uint8_t flags, uint32_t seq, const char *payload)
{
	size_t plen = payload ? strlen(payload) : 0;
	memset(f, 0, 14 + 40);
	f[12] = 0x08;
	f[13] = 0x00;
	uint8_t *ip = f + 14;
	ip[0] = 0x45;
	uint16_t tot = (uint16_t)(40 + plen);
	ip[2] = (uint8_t)(tot >> 8);
	ip[3] = (uint8_t)tot;
	ip[8] = 64;
	ip[9] = 6;
	memcpy(ip + 12, src, 4);
	memcpy(ip + 16, dst, 4);
	uint16_t c = csum(ip, 20, 0);
	ip[10] = (uint8_t)(c >> 8);
	ip[11] = (uint8_t)c;
	uint8_t *t = ip + 20;
	t[0] = (uint8_t)(sp >> 8);
	t[1] = (uint8_t)sp;
	t[2] = (uint8_t)(dp >> 8);
	t[3] = (uint8_t)dp;
	t[4] = (uint8_t)(seq >> 24);
	t[5] = (uint8_t)(seq >> 16);
	t[6] = (uint8_t)(seq >> 8);
	t[7] = (uint8_t)seq;
	t[12] = 5 << 4;
	t[13] = flags;
	t[14] = 0xff;
	t[15] = 0xff;
	if (plen)
		memcpy(t + 20, payload, plen);
	return 14 + 40 + plen;
}

/* Sets the acknowledgement number of a frame from tcp_frame. */
static size_t with_ack(uint8_t *f, size_t n, uint32_t ack)
{
	uint8_t *t = f + 14 + 20;
	t[8] = (uint8_t)(ack >> 24);
	t[9] = (uint8_t)(ack >> 16);
	t[10] = (uint8_t)(ack >> 8);
	t[11] = (uint8_t)ack;
	return n;
}

static void dump(pcap_dumper_t *d, const uint8_t *f, size_t n, uint64_t usec)
{
	struct pcap_pkthdr h;
	h.ts.tv_sec = (time_t)(usec / 1000000);
	h.ts.tv_usec = (suseconds_t)(usec % 1000000);
	h.caplen = h.len = (bpf_u_int32)n;
	pcap_dump((u_char *)d, &h, f);
}

/* 2024-05-10T00:00:00Z */
#define T0 1715299200000000ull

/* Writes the test capture; returns the number of packets. */
static unsigned write_capture(const char *path)
{
	pcap_t *pd = pcap_open_dead(DLT_EN10MB, 65535);
	pcap_dumper_t *d = pcap_dump_open(pd, path);
	assert_non_null(d);
	uint8_t f[2048];
	const uint8_t scanner[4] = {203, 0, 113, 9}, target[4] = {192, 168, 1, 10};
	const uint8_t client[4] = {192, 168, 1, 20}, server[4] = {198, 51, 100, 80};
	unsigned n = 0;
	uint64_t t = T0;
	/* a vertical scan: 25 distinct ports, port 22 probed twice */
	for (unsigned i = 0; i < 25; i++) {
		dump(d, f,
		     tcp_frame(f, scanner, target, 40000, (uint16_t)(1 + i), 0x02, 1000, NULL), t);
		t += 1000;
		n++;
		dump(d, f, tcp_frame(f, target, scanner, (uint16_t)(1 + i), 40000, 0x14, 0, NULL),
		     t);
		t += 1000;
		n++;
	}
	dump(d, f, tcp_frame(f, scanner, target, 40000, 22, 0x02, 1000, NULL), t);
	t += 1000;
	n++;
	/* a normal session from inside to outside, with a segment out of order */
	for (unsigned s = 0; s < 10; s++) {
		uint16_t cp = (uint16_t)(50000 + s);
		t += 2000000; /* 2 s apart: ticks and flows interleave */
		dump(d, f, tcp_frame(f, client, server, cp, 80, 0x02, 100, NULL), t);
		/* the SYN/ACK acknowledges the SYN (else the stream ignores it) */
		dump(d, f, with_ack(f, tcp_frame(f, server, client, 80, cp, 0x12, 500, NULL), 101),
		     t + 10);
		dump(d, f, tcp_frame(f, client, server, cp, 80, 0x10, 101, NULL), t + 20);
		dump(d, f, tcp_frame(f, client, server, cp, 80, 0x18, 106, "world"), t + 30);
		dump(d, f, tcp_frame(f, client, server, cp, 80, 0x18, 101, "hello"), t + 40);
		dump(d, f, tcp_frame(f, client, server, cp, 80, 0x11, 111, NULL), t + 50);
		dump(d, f, tcp_frame(f, server, client, 80, cp, 0x11, 501, NULL), t + 60);
		dump(d, f, tcp_frame(f, client, server, cp, 80, 0x10, 112, NULL), t + 70);
		n += 8;
	}
	/* a truncated IPv4 packet: header says 20 bytes, frame holds 10 */
	memset(f, 0, 24);
	f[12] = 0x08;
	f[14] = 0x45;
	dump(d, f, 24, t + 100);
	n++;
	pcap_dump_close(d);
	pcap_close(pd);
	return n;
}

struct run {
	char *eve;
	om_engine_result res;
};

static const om_app_registry *run_apps; /* app-layer parsers for run_inspect */

static void run_inspect(const char *cap, unsigned workers, struct run *out, const char *dir)
{
	om_settings cfg;
	om_settings_defaults(&cfg);
	cfg.engine.stats_interval = 5;
	cfg.net.flow_max = 64;
	char evepath[128], err[512];
	snprintf(evepath, sizeof(evepath), "%s/eve-%u.json", dir, workers);
	om_eve *eve;
	assert_int_equal(om_eve_open(evepath, 0, false, &eve, err, sizeof(err)), 0);
	om_engine_opts o = {.cfg = &cfg,
	                    .pcap_path = cap,
	                    .eve = eve,
	                    .spool = NULL,
	                    .tenant = "t1",
	                    .gateway = "g1",
	                    .workers = workers,
	                    .apps = run_apps};
	int r = om_engine_inspect(&o, &out->res, err, sizeof(err));
	if (r < 0)
		fail_msg("inspect failed: %s", err);
	om_eve_close(eve);
	out->eve = slurp(evepath, NULL);
	unlink(evepath);
}

static int line_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted lines joined, for comparing runs. */
static char *sorted(char *s)
{
	size_t n = count_str(s, "\n");
	char **lines = calloc(n + 1, sizeof(char *));
	size_t k = 0;
	for (char *tok = strtok(s, "\n"); tok; tok = strtok(NULL, "\n"))
		lines[k++] = tok;
	qsort(lines, k, sizeof(char *), line_cmp);
	size_t total = 0;
	for (size_t i = 0; i < k; i++)
		total += strlen(lines[i]) + 1;
	char *o = calloc(total + 1, 1);
	for (size_t i = 0; i < k; i++) {
		strcat(o, lines[i]);
		strcat(o, "\n");
	}
	free(lines);
	return o;
}

static void test_pipeline_workers(void **state)
{
	(void)state;
	char dir[] = "/tmp/omamori-eng-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char cap[128];
	snprintf(cap, sizeof(cap), "%s/t.pcap", dir);
	unsigned npkts = write_capture(cap);

	struct run r1, r2, r3;
	run_inspect(cap, 1, &r1, dir);
	run_inspect(cap, 2, &r2, dir);
	run_inspect(cap, 3, &r3, dir);
	assert_int_equal(r1.res.packets, npkts);
	assert_false(r1.res.truncated);
	/* one vertical scan episode: 25 ports, 26 probes (port 22 twice) */
	assert_int_equal(r1.res.alerts, 1);
	assert_int_equal(count_str(r1.eve, "\"event_type\":\"alert\""), 1);
	assert_non_null(strstr(r1.eve, "\"src_ip\":\"203.0.113.9\",\"dest_ip\":\"192.168.1.10\""));
	assert_non_null(strstr(r1.eve, "\"packets\":26,\"port_count\":25,\"host_count\":1"));
	assert_non_null(strstr(r1.eve, "\"category\":\"recon\""));
	/* 25 scan flows + 10 sessions: the second SYN to port 22 comes after
	 * that connection was reset but carries the same ISN, so it is the
	 * old SYN resent, not a new connection (as Suricata decides) */
	assert_int_equal(r1.res.flows, 35);
	assert_int_equal(count_str(r1.eve, "\"event_type\":\"flow\""), 35);
	/* the truncated IPv4 packet (10 bytes: less than a header) */
	assert_int_equal(r1.res.anomalies, 1);
	assert_int_equal(count_str(r1.eve, "\"event\":\"ipv4.pkt_too_small\""), 1);
	/* every session: 10 bytes reassembled in order, one segment out of order */
	assert_non_null(strstr(r1.eve, "\"reassembled_bytes\":100,\"ooo_segments\":10"));
	/* the same events whatever the number of workers */
	char *s1 = sorted(r1.eve), *s2 = sorted(r2.eve), *s3 = sorted(r3.eve);
	assert_string_equal(s1, s2);
	assert_string_equal(s1, s3);

	/* through a pipe the capture cannot be mapped: libpcap reads it and the
	 * packets are copied to the workers; the events are the same */
	char fifo[160];
	snprintf(fifo, sizeof(fifo), "%s/cap.fifo", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	pid_t child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		size_t n;
		char *bytes = slurp(cap, &n);
		FILE *w = fopen(fifo, "wb");
		if (!w || fwrite(bytes, 1, n, w) != n)
			_exit(1);
		fclose(w);
		_exit(0);
	}
	struct run rp;
	run_inspect(fifo, 2, &rp, dir);
	int status;
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	char *sp = sorted(rp.eve);
	assert_string_equal(s1, sp);
	free(sp);
	free(rp.eve);
	unlink(fifo);
	free(s1);
	free(s2);
	free(s3);
	free(r1.eve);
	free(r2.eve);
	free(r3.eve);

	/* cut the last record short: the packets before it are processed */
	struct stat st;
	assert_int_equal(stat(cap, &st), 0);
	assert_int_equal(truncate(cap, st.st_size - 10), 0);
	struct run rt;
	run_inspect(cap, 2, &rt, dir);
	assert_true(rt.res.truncated);
	assert_true(strlen(rt.res.warning) > 0);
	assert_int_equal(rt.res.packets, npkts - 1);
	assert_int_equal(rt.res.alerts, 1);
	free(rt.eve);
	unlink(cap);
	rmdir(dir);
}

/* ---- the app-layer in the pipeline ---- */

/* "greet": a client that opens with "hello". Its state is the toserver
 * bytes; the counters are shared by the workers. */
struct greet {
	char ts[32];
	size_t n;
	unsigned held_calls, calls;
};

static atomic_uint greet_news, greet_frees, greet_good, greet_ends;

static enum om_app_probe greet_probe(const om_flow *f, const uint8_t *d, uint32_t n, void *wctx)
{
	(void)f;
	(void)wctx;
	if (n < 5)
		return memcmp(d, "hello", n) ? OM_APP_PROBE_NO : OM_APP_PROBE_MORE;
	return memcmp(d, "hello", 5) ? OM_APP_PROBE_NO : OM_APP_PROBE_YES;
}

static void *greet_new(om_flow *f, void *user, void *wctx)
{
	(void)wctx;
	(void)f;
	(void)user;
	atomic_fetch_add(&greet_news, 1);
	return calloc(1, sizeof(struct greet));
}

static int greet_data(void *st, om_flow *f, int dir, const uint8_t *d, uint32_t n, unsigned fl)
{
	(void)f;
	struct greet *g = st;
	if (dir != OM_DIR_TOSERVER)
		return 0;
	if (g->n + n < sizeof(g->ts)) {
		memcpy(g->ts + g->n, d, n);
		g->n += n;
	}
	g->calls++;
	if (fl & OM_APP_DATA_HELD)
		g->held_calls++;
	return 0;
}

static void greet_end(void *st, om_flow *f, int dir, enum om_app_end why)
{
	(void)st;
	(void)f;
	(void)dir;
	if (why == OM_APP_END_FIN)
		atomic_fetch_add(&greet_ends, 1);
}

static void greet_free(void *st, void *user)
{
	(void)user;
	struct greet *g = st;
	/* "world" came first and was held by the stream; "hello" from its
	 * packet */
	if (g->n == 10 && !memcmp(g->ts, "helloworld", 10) && g->calls == 2 && g->held_calls == 1)
		atomic_fetch_add(&greet_good, 1);
	atomic_fetch_add(&greet_frees, 1);
	free(g);
}

static const om_app_parser greet = {
    .name = "greet",
    .ipprotos = OM_APP_TCP,
    .probe_ts = greet_probe,
    .state_new = greet_new,
    .data = greet_data,
    .end = greet_end,
    .state_free = greet_free,
};

/* The ten connections of the test capture are "greet" on port 80 (no port
 * hint): each flow event says so, the parser saw "helloworld" in order,
 * both FINs, and every state was freed; without parsers no app_proto. */
static void test_pipeline_applayer(void **state)
{
	(void)state;
	char dir[] = "/tmp/omamori-app-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char cap[128];
	snprintf(cap, sizeof(cap), "%s/t.pcap", dir);
	write_capture(cap);
	struct run r0;
	run_inspect(cap, 1, &r0, dir);
	assert_int_equal(count_str(r0.eve, "\"app_proto\""), 0);
	free(r0.eve);

	om_app_registry *reg = om_app_registry_new();
	assert_int_equal(om_app_register(reg, &greet, NULL), 0);
	om_app_registry_seal(reg);
	run_apps = reg;
	for (unsigned workers = 1; workers <= 2; workers++) {
		atomic_store(&greet_news, 0);
		atomic_store(&greet_frees, 0);
		atomic_store(&greet_good, 0);
		atomic_store(&greet_ends, 0);
		struct run r;
		run_inspect(cap, workers, &r, dir);
		assert_int_equal(count_str(r.eve, "\"event_type\":\"flow\""), 35);
		assert_int_equal(count_str(r.eve, "\"proto\":\"TCP\",\"app_proto\":\"greet\""), 10);
		/* the scan flows carry no data: no app_proto */
		assert_int_equal(count_str(r.eve, "\"app_proto\""), 10);
		assert_int_equal(atomic_load(&greet_news), 10);
		assert_int_equal(atomic_load(&greet_frees), 10);
		assert_int_equal(atomic_load(&greet_good), 10);
		assert_int_equal(atomic_load(&greet_ends), 20);
		free(r.eve);
	}
	run_apps = NULL;
	om_app_registry_free(reg);
	unlink(cap);
	rmdir(dir);
}



/* ---- EVE: opened at the first event, appending --------------------------- */

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_eve_lazy_append(void **state)
{
	(void)state;
	char dir[] = "/tmp/omamori-eve-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[128], err[256];
	struct stat st;
	om_eve *e;
	snprintf(path, sizeof(path), "%s/eve.json", dir);
	/* opened and closed without an event: nothing is created */
	assert_int_equal(om_eve_open(path, 0, false, &e, err, sizeof(err)), 0);
	om_eve_close(e);
	assert_int_equal(stat(path, &st), -1);
	/* an existing file is kept and appended to */
	write_text(path, "{\"old\":1}\n");
	assert_int_equal(om_eve_open(path, 0, false, &e, err, sizeof(err)), 0);
	om_eve_close(e);
	char *s = slurp(path, NULL);
	assert_string_equal(s, "{\"old\":1}\n");
	free(s);
	assert_int_equal(om_eve_open(path, 0, false, &e, err, sizeof(err)), 0);
	assert_int_equal(om_eve_write(e, "{\"new\":2}\n", 10, NULL), 0);
	om_eve_close(e);
	s = slurp(path, NULL);
	assert_string_equal(s, "{\"old\":1}\n{\"new\":2}\n");
	free(s);
	/* size rotation counts what the file already held: 20 + 10 > 25 */
	assert_int_equal(om_eve_open(path, 25, false, &e, err, sizeof(err)), 0);
	assert_int_equal(om_eve_write(e, "{\"new\":3}\n", 10, NULL), 0);
	assert_int_equal(om_eve_rotations(e), 1);
	om_eve_close(e);
	s = slurp(path, NULL);
	assert_string_equal(s, "{\"new\":3}\n");
	free(s);
	char p1[160];
	snprintf(p1, sizeof(p1), "%s.1", path);
	unlink(p1);
	/* truncate on request, at the first event only */
	assert_int_equal(om_eve_open(path, 0, false, &e, err, sizeof(err)), 0);
	om_eve_set_truncate(e, true);
	assert_int_equal(om_eve_write(e, "{\"a\":1}\n", 8, NULL), 0);
	assert_int_equal(om_eve_write(e, "{\"b\":2}\n", 8, NULL), 0);
	om_eve_close(e);
	s = slurp(path, NULL);
	assert_string_equal(s, "{\"a\":1}\n{\"b\":2}\n");
	free(s);
	/* a directory that does not exist: refused at open */
	char bad[160];
	snprintf(bad, sizeof(bad), "%s/no/such/eve.json", dir);
	assert_true(om_eve_open(bad, 0, false, &e, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, bad));
	unlink(path);
	rmdir(dir);
}

/* ---- the capture clock ------------------------------------------------------ */

struct pkt {
	uint64_t usec;
	uint8_t src[4], dst[4];
	uint16_t sp, dp;
	uint8_t flags;
};

static void write_pkts(const char *path, const struct pkt *p, size_t n)
{
	pcap_t *pd = pcap_open_dead(DLT_EN10MB, 65535);
	pcap_dumper_t *d = pcap_dump_open(pd, path);
	assert_non_null(d);
	uint8_t f[2048];
	for (size_t i = 0; i < n; i++)
		dump(d, f, tcp_frame(f, p[i].src, p[i].dst, p[i].sp, p[i].dp, p[i].flags, 1000, NULL),
		     p[i].usec);
	pcap_dump_close(d);
	pcap_close(pd);
}

/* Runs cap with default settings and a spool in dir; returns the EVE text.
 * The spool's records are checked to be exactly the EVE lines. */
static char *inspect_default(const char *dir, const char *cap, unsigned workers,
                             om_engine_result *res)
{
	om_settings cfg;
	om_settings_defaults(&cfg);
	char evepath[160], spooldir[160], err[512];
	snprintf(evepath, sizeof(evepath), "%s/eve.json", dir);
	snprintf(spooldir, sizeof(spooldir), "%s/spool", dir);
	unlink(evepath);
	om_eve *eve;
	om_spool *spool;
	om_spool_opts so;
	om_spool_opts_default(&so);
	assert_int_equal(om_eve_open(evepath, 0, false, &eve, err, sizeof(err)), 0);
	assert_int_equal(om_spool_open(spooldir, &so, &spool, err, sizeof(err)), 0);
	om_engine_opts o = {.cfg = &cfg,
	                    .pcap_path = cap,
	                    .eve = eve,
	                    .spool = spool,
	                    .tenant = "t1",
	                    .gateway = "g1",
	                    .workers = workers};
	int r = om_engine_inspect(&o, res, err, sizeof(err));
	if (r < 0)
		fail_msg("inspect failed: %s", err);
	om_eve_close(eve);
	om_spool_close(spool);
	char *text = slurp(evepath, NULL);
	/* the spool holds the same lines, in the same order */
	om_spool_reader *rd;
	assert_int_equal(om_spool_reader_open(spooldir, "test", &rd, err, sizeof(err)), 0);
	const char *p = text, *data;
	size_t len;
	int n;
	while ((n = om_spool_read(rd, &data, &len)) == 1) {
		const char *nl = strchr(p, '\n');
		assert_non_null(nl);
		assert_int_equal((size_t)(nl - p), len);
		assert_memory_equal(p, data, len);
		p = nl + 1;
	}
	assert_int_equal(n, 0);
	assert_int_equal(*p, '\0');
	assert_int_equal(om_spool_commit(rd), 0);
	om_spool_reader_close(rd);
	return text;
}

/* 2100-01-01T00:00:00Z */
#define T2100 4102444800000000ull

/* Finding 5: 25 SYNs to distinct ports ten minutes apart, and after the
 * second one a packet dated 2100. That packet froze the clock: the scan
 * window stopped sliding (a false vertical scan of 23 ports) and flows
 * stopped timing out. It is an outlier now, processed at the clock's time. */
static void test_clock_outlier(void **state)
{
	(void)state;
	char dir[] = "/tmp/omamori-clk-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char cap[128];
	snprintf(cap, sizeof(cap), "%s/t.pcap", dir);
	struct pkt p[26];
	size_t n = 0;
	for (unsigned i = 0; i < 25; i++) {
		p[n++] = (struct pkt){T0 + (uint64_t)i * 600000000ull, {203, 0, 113, 9},
		                      {192, 168, 1, 10}, 40000, (uint16_t)(100 + i), 0x02};
		if (i == 1)
			p[n++] = (struct pkt){T2100, {198, 51, 100, 7}, {192, 168, 1, 10},
			                      1234, 80, 0x02};
	}
	write_pkts(cap, p, n);
	for (unsigned w = 1; w <= 2; w++) {
		om_engine_result res;
		char *eve = inspect_default(dir, cap, w, &res);
		assert_int_equal(res.packets, 26);
		assert_int_equal(res.alerts, 0);
		assert_int_equal(count_str(eve, "\"event_type\":\"alert\""), 0);
		assert_int_equal(res.timestamp_outliers, 1);
		assert_int_equal(count_str(eve, "\"event\":\"capture.timestamp_outlier\""), 1);
		/* stamped with the clock (the second SYN), the packet's own time kept */
		assert_non_null(strstr(eve, "{\"timestamp\":\"2024-05-10T00:10:00.000000+0000\","
		                            "\"event_type\":\"anomaly\",\"src_ip\":\"198.51.100.7\""));
		assert_non_null(strstr(eve, "\"packet_time\":\"2100-01-01T00:00:00.000000+0000\""));
		assert_non_null(strstr(eve, "\"pcap_cnt\":3,"));
		/* every flow but the last one's timed out on the way (the
		 * outlier's own flow included); the last ends at shutdown */
		assert_int_equal(count_str(eve, "\"event_type\":\"flow\""), 26);
		assert_int_equal(count_str(eve, "\"reason\":\"timeout\""), 25);
		assert_int_equal(count_str(eve, "\"reason\":\"shutdown\""), 1);
		assert_null(strstr(eve, "\"timestamp\":\"2100-"));
		/* uptime is the 24 intervals of ten minutes */
		assert_non_null(strstr(eve, "\"uptime\":14400,"));
		/* the final stats count the spool's records: every line before it */
		char want[64];
		snprintf(want, sizeof(want), "\"spool\":{\"records\":%zu,\"dropped\":0}",
		         count_str(eve, "\n") - 1);
		assert_non_null(strstr(eve, want));
		free(eve);
	}
	unlink(cap);
	char sp[160];
	snprintf(sp, sizeof(sp), "rm -rf %s", dir);
	assert_int_equal(system(sp), 0);
}

/* A jump forward that the next packet confirms is a quiet spell, not an
 * outlier; a packet far behind the clock is one. */
static void test_clock_gap(void **state)
{
	(void)state;
	char dir[] = "/tmp/omamori-clk-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char cap[128];
	snprintf(cap, sizeof(cap), "%s/t.pcap", dir);
	const uint64_t h = 3600000000ull;
	struct pkt p[] = {
	    {T0, {10, 0, 0, 1}, {10, 0, 0, 2}, 1000, 80, 0x02},
	    {T0 + 5 * h, {10, 0, 0, 1}, {10, 0, 0, 2}, 1001, 80, 0x02},     /* quiet spell */
	    {T0 + 5 * h + 10, {10, 0, 0, 1}, {10, 0, 0, 2}, 1002, 80, 0x02}, /* confirms */
	    {T0 + 1000, {10, 0, 0, 1}, {10, 0, 0, 2}, 1003, 80, 0x02},       /* 5 h behind */
	    {T0 + 5 * h + 20, {10, 0, 0, 1}, {10, 0, 0, 2}, 1004, 80, 0x02},
	};
	write_pkts(cap, p, OM_ARRAY_SIZE(p));
	om_engine_result res;
	char *eve = inspect_default(dir, cap, 1, &res);
	assert_int_equal(res.timestamp_outliers, 1);
	assert_non_null(strstr(eve, "\"packet_time\":\"2024-05-10T00:00:00.001000+0000\""));
	assert_non_null(strstr(eve, "\"pcap_cnt\":4,"));
	assert_non_null(strstr(eve, "\"uptime\":18000,"));
	free(eve);
	char sp[160];
	snprintf(sp, sizeof(sp), "rm -rf %s", dir);
	assert_int_equal(system(sp), 0);
}

/* Finding 9: uptime is the last minus the first accepted packet. With one
 * packet half a second into a second, the end tick (the start of that
 * second) came before the first packet and the subtraction wrapped. */
static void test_uptime(void **state)
{
	(void)state;
	char dir[] = "/tmp/omamori-upt-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char cap[128];
	snprintf(cap, sizeof(cap), "%s/t.pcap", dir);
	struct pkt one[] = {{T0 + 500000, {10, 0, 0, 1}, {10, 0, 0, 2}, 1000, 80, 0x02}};
	write_pkts(cap, one, 1);
	om_engine_result res;
	char *eve = inspect_default(dir, cap, 1, &res);
	assert_non_null(strstr(eve, "\"stats\":{\"uptime\":0,"));
	free(eve);
	/* 0.5 s and 2.7 s: 2.2 s (the end tick, 2.0 s, gave 1) */
	struct pkt two[] = {{T0 + 500000, {10, 0, 0, 1}, {10, 0, 0, 2}, 1000, 80, 0x02},
	                    {T0 + 2700000, {10, 0, 0, 1}, {10, 0, 0, 2}, 1001, 80, 0x02}};
	write_pkts(cap, two, 2);
	eve = inspect_default(dir, cap, 1, &res);
	assert_non_null(strstr(eve, "\"stats\":{\"uptime\":2,"));
	free(eve);
	char sp[160];
	snprintf(sp, sizeof(sp), "rm -rf %s", dir);
	assert_int_equal(system(sp), 0);
}

/* Finding 6: coverage is the hours that had packets, one event each. */
static void test_coverage_events(void **state)
{
	(void)state;
	char dir[] = "/tmp/omamori-cov-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char cap[128];
	snprintf(cap, sizeof(cap), "%s/t.pcap", dir);
	const uint64_t m = 60000000ull;
	/* T0 is midnight: 00:15, 00:50, 01:05, then 03:30 and 03:31 */
	struct pkt p[] = {
	    {T0 + 15 * m, {10, 0, 0, 1}, {10, 0, 0, 2}, 1000, 80, 0x02},
	    {T0 + 50 * m, {10, 0, 0, 1}, {10, 0, 0, 2}, 1001, 80, 0x02},
	    {T0 + 65 * m, {10, 0, 0, 1}, {10, 0, 0, 2}, 1002, 80, 0x02},
	    {T0 + 210 * m, {10, 0, 0, 1}, {10, 0, 0, 2}, 1003, 80, 0x02},
	    {T0 + 211 * m, {10, 0, 0, 1}, {10, 0, 0, 2}, 1004, 80, 0x02},
	};
	write_pkts(cap, p, OM_ARRAY_SIZE(p));
	for (unsigned w = 1; w <= 2; w++) {
		om_engine_result res;
		char *eve = inspect_default(dir, cap, w, &res);
		assert_int_equal(res.coverage_hours, 3);
		assert_int_equal(count_str(eve, "\"event_type\":\"coverage\""), 3);
		assert_non_null(strstr(
		    eve, "{\"timestamp\":\"2024-05-10T00:00:00.000000+0000\",\"event_type\":"
		         "\"coverage\",\"coverage\":{\"start\":\"2024-05-10T00:00:00.000000+0000\","
		         "\"end\":\"2024-05-10T01:00:00.000000+0000\",\"packets\":2,\"categories\":"
		         "[\"recon\"]},\"omamori\":{\"tenant\":\"t1\",\"gateway\":\"g1\"}}\n"));
		assert_non_null(strstr(eve, "\"start\":\"2024-05-10T01:00:00.000000+0000\","
		                            "\"end\":\"2024-05-10T02:00:00.000000+0000\","
		                            "\"packets\":1,"));
		assert_non_null(strstr(eve, "\"start\":\"2024-05-10T03:00:00.000000+0000\","
		                            "\"end\":\"2024-05-10T04:00:00.000000+0000\","
		                            "\"packets\":2,"));
		assert_null(strstr(eve, "\"start\":\"2024-05-10T02:00:00"));
		free(eve);
	}
	char sp[160];
	snprintf(sp, sizeof(sp), "rm -rf %s", dir);
	assert_int_equal(system(sp), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_eve_rotation),
	    cmocka_unit_test(test_pipeline_workers),
	    cmocka_unit_test(test_pipeline_applayer),
	    cmocka_unit_test(test_eve_lazy_append),
	    cmocka_unit_test(test_clock_outlier),
	    cmocka_unit_test(test_clock_gap),
	    cmocka_unit_test(test_uptime),
	    cmocka_unit_test(test_coverage_events),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
