/* Unit tests for the HTTP parser (src/proto/http.c) through the whole
 * pipeline: TCP sessions written here into a capture (valid handshakes and
 * acknowledgments, segments of a chosen size), run by om_engine_inspect
 * with the proto module's parsers, and the EVE lines checked. Expected
 * hashes are sha256sum's of the bodies (printf '...' | sha256sum), not this
 * program's output. Covered: keep-alive and pipelined transactions, every
 * segmentation down to one byte, chunked bodies with extensions, gzip and a
 * gzip bomb, duplicate Content-Length, header folding, HTTP/0.9 with data
 * after it, requests without responses, multipart uploads (a file per part
 * with its name), Range responses, CONNECT and Upgrade, the header block
 * limit, and the body accessor for the rule engine. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "../fuzz/http_session.h"
#include "engine/engine.h"
#include "proto/http.h"

#define T0 1715299200000000ull

static char tmpdir[64];

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return calloc(1, 1);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *s = malloc((size_t)n + 1);
	assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
	s[n] = '\0';
	fclose(f);
	return s;
}

static void (*tune)(om_settings *cfg);
static const om_file_subscriber *subscriber;
static const om_proto_observer *observer;
static const om_proto_observer *observer2; /* a second one, beside it */

/* Runs the capture through the engine with the proto module's parsers;
 * returns the EVE lines (free them). */
static char *run(struct hcap *c)
{
	char cap[128], eve_path[128], err[1024];
	snprintf(cap, sizeof(cap), "%s/t.pcap", tmpdir);
	snprintf(eve_path, sizeof(eve_path), "%s/eve.json", tmpdir);
	FILE *f = fopen(cap, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(c->buf, 1, c->len, f), c->len);
	fclose(f);
	free(c->buf);
	c->buf = NULL;
	om_settings cfg;
	om_settings_defaults(&cfg);
	cfg.engine.stats_interval = 0;
	cfg.proto.files.magic = false;
	if (tune)
		tune(&cfg);
	om_proto *proto;
	assert_int_equal(om_proto_new(&cfg.proto, &proto, err, sizeof(err)), 0);
	if (subscriber)
		assert_int_equal(om_proto_add_file_subscriber(proto, subscriber), 0);
	if (observer)
		assert_int_equal(om_proto_add_observer(proto, observer), 0);
	if (observer2)
		assert_int_equal(om_proto_add_observer(proto, observer2), 0);
	om_app_registry *apps = om_app_registry_new();
	assert_non_null(apps);
	assert_int_equal(om_proto_register(proto, apps), 0);
	om_app_registry_seal(apps);
	om_eve *eve;
	unlink(eve_path);
	assert_int_equal(om_eve_open(eve_path, 0, true, &eve, err, sizeof(err)), 0);
	om_engine_opts o = {.cfg = &cfg,
	                    .pcap_path = cap,
	                    .eve = eve,
	                    .tenant = "t",
	                    .gateway = "g",
	                    .workers = 1,
	                    .apps = apps,
	                    .proto = proto};
	om_engine_result res;
	int r = om_engine_inspect(&o, &res, err, sizeof(err));
	if (r < 0)
		fail_msg("inspect: %s", err);
	om_eve_close(eve);
	const char *keep = getenv("TEST_HTTP_KEEP"); /* a directory: the captures are kept there */
	if (keep) {
		static unsigned kept;
		char cmd[512];
		snprintf(cmd, sizeof(cmd), "cp %s %s/%02u.pcap", cap, keep, kept++);
		if (system(cmd) != 0)
			fail_msg("cannot keep the capture in %s", keep);
	}
	om_app_registry_free(apps);
	om_proto_free(proto);
	char *s = slurp(eve_path);
	if (getenv("TEST_HTTP_DUMP")) /* to see what a failing check looked at */
		fputs(s, stderr);
	unlink(eve_path);
	unlink(cap);
	return s;
}

/* Lines of eve holding every one of the NULL-terminated needles. */
static unsigned count(const char *eve, ...)
{
	unsigned n = 0;
	const char *line = eve;
	while (*line) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		char *l = strndup(line, len);
		va_list ap;
		va_start(ap, eve);
		bool all = true;
		for (const char *k; (k = va_arg(ap, const char *)) != NULL;)
			if (!strstr(l, k))
				all = false;
		va_end(ap);
		free(l);
		n += all;
		line += len + (end ? 1 : 0);
	}
	return n;
}

/* The number after key on the first line holding needle. */
static uint64_t num(const char *eve, const char *needle, const char *key)
{
	const char *p = strstr(eve, needle);
	assert_non_null(p);
	const char *ls = p;
	while (ls > eve && ls[-1] != '\n')
		ls--;
	const char *le = strchr(p, '\n');
	const char *k = strstr(ls, key);
	assert_non_null(k);
	assert_true(!le || k < le);
	return strtoull(k + strlen(key), NULL, 10);
}

#define HTTP "\"event_type\":\"http\""
#define FILEINFO "\"event_type\":\"fileinfo\""
#define ANOMALY "\"event_type\":\"anomaly\""

static const char body1[] = "<html>one</html>\n";
#define SHA_BODY1 "251aa97893979a1a5cf20f12c27ffc39b5ae4cb82866699a5db872ce6228f0fb"
static const char body2[] = "second body\n";
#define SHA_BODY2 "a202941a54600108f5b251c071b96b6a1563d219688ce6a773db459a974487a8"
static const char body3[] = "third\n";
#define SHA_BODY3 "5eef8098ed6ec0a16249fc7c12422027fc9fd75b16130cc9382cf09102014796"

static void resp(char *out, size_t n, const char *status, const char *ctype, const char *body)
{
	snprintf(out, n,
	         "HTTP/1.1 %s\r\nServer: t\r\nContent-Type: %s\r\nContent-Length: %zu\r\n\r\n%s",
	         status, ctype, strlen(body), body);
}

/* Three requests on one connection, answered one by one (keep-alive). */
static char *keepalive(size_t seg)
{
	struct hcap c;
	struct hsess s;
	char r[512];
	hcap_init(&c, T0);
	hsess_open(&s, &c, 40001, 80);
	hsess_str(&s, 0,
	          "GET /one.html HTTP/1.1\r\nHost: www.example.jp\r\nUser-Agent: t/1\r\n"
	          "Referer: http://example.jp/\r\n\r\n",
	          seg);
	resp(r, sizeof(r), "200 OK", "text/html; charset=utf-8", body1);
	hsess_str(&s, 1, r, seg);
	hsess_str(&s, 0, "GET /two HTTP/1.1\r\nHost: www.example.jp:8080\r\n\r\n", seg);
	resp(r, sizeof(r), "404 Not Found", "text/plain", body2);
	hsess_str(&s, 1, r, seg);
	hsess_str(&s, 0, "HEAD /three HTTP/1.1\r\nHost: www.example.jp\r\n\r\n", seg);
	hsess_str(&s, 1,
	          "HTTP/1.1 301 Moved Permanently\r\nLocation: http://www.example.jp/3\r\n"
	          "Content-Length: 0\r\n\r\n",
	          seg);
	hsess_close(&s);
	return run(&c);
}

static void check_keepalive(const char *eve)
{
	assert_int_equal(count(eve, HTTP, NULL), 3);
	assert_int_equal(count(eve, HTTP, "\"app_proto\":\"http\"", "\"tx_id\":0",
	                       "\"http\":{\"hostname\":\"www.example.jp\",\"url\":\"/one.html\","
	                       "\"http_user_agent\":\"t/1\",\"http_content_type\":\"text/html\","
	                       "\"http_refer\":\"http://example.jp/\",\"http_method\":\"GET\","
	                       "\"protocol\":\"HTTP/1.1\",\"status\":200,\"length\":17}",
	                       NULL),
	                 1);
	/* the port in Host is http_port (Suricata's) */
	assert_int_equal(count(eve, HTTP, "\"tx_id\":1", "\"hostname\":\"www.example.jp\"",
	                       "\"http_port\":8080", "\"url\":\"/two\"", "\"status\":404",
	                       "\"length\":12", NULL),
	                 1);
	assert_int_equal(count(eve, HTTP, "\"tx_id\":2", "\"http_method\":\"HEAD\"",
	                       "\"status\":301", "\"redirect\":\"http://www.example.jp/3\"",
	                       "\"length\":0", NULL),
	                 1);
	/* the two bodies are files: downloads, written server to client */
	assert_int_equal(count(eve, FILEINFO, NULL), 2);
	assert_int_equal(count(eve, FILEINFO, "\"src_port\":80", "\"filename\":\"/one.html\"",
	                       "\"state\":\"CLOSED\"", "\"sha256\":\"" SHA_BODY1 "\"",
	                       "\"size\":17", "\"tx_id\":0",
	                       "\"http\":{\"hostname\":\"www.example.jp\"", NULL),
	                 1);
	assert_int_equal(count(eve, FILEINFO, "\"filename\":\"/two\"",
	                       "\"sha256\":\"" SHA_BODY2 "\"", "\"tx_id\":1", NULL),
	                 1);
	assert_int_equal(count(eve, ANOMALY, NULL), 0);
}

static void test_keepalive(void **state)
{
	(void)state;
	char *eve = keepalive(1460);
	check_keepalive(eve);
	free(eve);
}

/* The same exchange in segments of every size from 1 to 13 bytes. */
static void test_segmentation(void **state)
{
	(void)state;
	for (size_t seg = 1; seg <= 13; seg++) {
		char *eve = keepalive(seg);
		check_keepalive(eve);
		free(eve);
	}
}

/* Requests sent back to back before any response, then the responses. */
static void test_pipelined(void **state)
{
	(void)state;
	struct hcap c;
	struct hsess s;
	char r1[256], r2[256], r3[256], all[1024];
	hcap_init(&c, T0);
	hsess_open(&s, &c, 40002, 80);
	hsess_str(&s, 0,
	          "GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n"
	          "GET /c HTTP/1.1\r\nHost: h\r\n\r\n",
	          1460);
	resp(r1, sizeof(r1), "200 OK", "text/html", body1);
	resp(r2, sizeof(r2), "200 OK", "text/plain", body2);
	resp(r3, sizeof(r3), "200 OK", "text/plain", body3);
	snprintf(all, sizeof(all), "%s%s%s", r1, r2, r3);
	hsess_str(&s, 1, all, 1460);
	hsess_close(&s);
	char *eve = run(&c);
	assert_int_equal(count(eve, HTTP, NULL), 3);
	assert_int_equal(count(eve, HTTP, "\"tx_id\":0", "\"url\":\"/a\"", "\"length\":17", NULL),
	                 1);
	assert_int_equal(count(eve, HTTP, "\"tx_id\":1", "\"url\":\"/b\"", "\"length\":12", NULL),
	                 1);
	assert_int_equal(count(eve, HTTP, "\"tx_id\":2", "\"url\":\"/c\"", "\"length\":6", NULL),
	                 1);
	assert_int_equal(count(eve, FILEINFO, "\"filename\":\"/c\"", "\"sha256\":\"" SHA_BODY3 "\"",
	                       "\"tx_id\":2", NULL),
	                 1);
	free(eve);
}

/* Pipelined requests that never get a response: each is still logged, with
 * no status, when the connection ends. */
static void test_no_response(void **state)
{
	(void)state;
	struct hcap c;
	struct hsess s;
	hcap_init(&c, T0);
	hsess_open(&s, &c, 40003, 80);
	hsess_str(&s, 0,
	          "GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n"
	          "GET /3 HTTP/1.1\r\nHost: h\r\n\r\n",
	          7);
	hsess_close(&s);
	char *eve = run(&c);
	assert_int_equal(count(eve, HTTP, NULL), 3);
	for (int i = 1; i <= 3; i++) {
		char u[32];
		snprintf(u, sizeof(u), "\"url\":\"/%d\"", i);
		assert_int_equal(count(eve, HTTP, u, "\"length\":0", NULL), 1);
	}
	assert_int_equal(count(eve, HTTP, "\"status\"", NULL), 0);
	free(eve);
}

/* A chunked upload with chunk extensions and a chunked response: the files
 * are the decoded bodies. */
static void test_chunked(void **state)
{
	(void)state;
	struct hcap c;
	struct hsess s;
	hcap_init(&c, T0);
	hsess_open(&s, &c, 40004, 80);
	hsess_str(&s, 0,
	          "POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
	          "3;name=value\r\nhel\r\n2; x=\"y\"\r\nlo\r\n0\r\n\r\n",
	          5);
	hsess_str(&s, 1,
	          "HTTP/1.1 200 OK\r\nTransfer-Encoding: "
	          "chunked\r\n\r\n2\r\nab\r\n2;e\r\ncd\r\n0\r\n\r\n",
	          3);
	hsess_close(&s);
	char *eve = run(&c);
	assert_int_equal(count(eve, HTTP, "\"http_method\":\"POST\"", "\"status\":200", NULL), 1);
	/* the upload is written client to server */
	assert_int_equal(
	    count(eve, FILEINFO, "\"src_ip\":\"10.0.0.1\"", "\"filename\":\"/up\"",
	          "\"sha256\":\"2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824\"",
	          "\"size\":5", "\"state\":\"CLOSED\"", NULL),
	    1);
	assert_int_equal(
	    count(eve, FILEINFO, "\"src_ip\":\"10.0.0.2\"",
	          "\"sha256\":\"88d4266fd4e6338d13b845fcf289579d209c897823b9217da3e161936f031589\"",
	          "\"size\":4", NULL),
	    1);
	free(eve);
}

static size_t gz(uint8_t *out, size_t cap, const uint8_t *in, size_t n)
{
	z_stream z;
	memset(&z, 0, sizeof(z));
	assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, 31, 9, Z_DEFAULT_STRATEGY), Z_OK);
	z.next_in = (uint8_t *)in;
	z.avail_in = (uInt)n;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
	size_t k = z.total_out;
	deflateEnd(&z);
	return k;
}

/* A gzip response: the file is the decoded body, length the bytes sent. */
static void test_gzip(void **state)
{
	(void)state;
	static uint8_t plain[100000], packed[4096];
	memset(plain, 'A', sizeof(plain));
	size_t k = gz(packed, sizeof(packed), plain, sizeof(plain));
	struct hcap c;
	struct hsess s;
	char h[256];
	hcap_init(&c, T0);
	hsess_open(&s, &c, 40005, 80);
	hsess_str(&s, 0, "GET /z HTTP/1.1\r\nHost: h\r\nAccept-Encoding: gzip\r\n\r\n", 1460);
	snprintf(h, sizeof(h),
	         "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %zu\r\n\r\n", k);
	hsess_str(&s, 1, h, 1460);
	hsess_send(&s, 1, packed, k, 50);
	hsess_close(&s);
	char *eve = run(&c);
	char len[32];
	snprintf(len, sizeof(len), "\"length\":%zu}", k);
	assert_int_equal(count(eve, HTTP, len, NULL), 1);
	/* python3 -c "import hashlib; print(hashlib.sha256(b'A'*100000).hexdigest())" */
	assert_int_equal(
	    count(eve, FILEINFO,
	          "\"sha256\":\"e6631225e83d23bf67657e85109ad5deb3570e1405d7aaa23a2485ae8582c143\"",
	          "\"size\":100000", "\"state\":\"CLOSED\"", NULL),
	    1);
	assert_int_equal(count(eve, ANOMALY, NULL), 0);
	free(eve);
}

/* 16 MiB of zeros gzipped (about 1000:1): past the ratio of 250 the body
 * is a bomb, its file truncated; the next request on the connection is
 * still parsed. */
static void test_gzip_bomb(void **state)
{
	(void)state;
	size_t n = 16u << 20;
	uint8_t *plain = calloc(1, n), *packed = malloc(64 << 10);
	size_t k = gz(packed, 64 << 10, plain, n);
	free(plain);
	assert_true(k < n / 900);
	struct hcap c;
	struct hsess s;
	char h[256], r[256];
	hcap_init(&c, T0);
	hsess_open(&s, &c, 40006, 80);
	hsess_str(&s, 0, "GET /bomb HTTP/1.1\r\nHost: h\r\n\r\n", 1460);
	snprintf(h, sizeof(h),
	         "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %zu\r\n\r\n", k);
	hsess_str(&s, 1, h, 1460);
	hsess_send(&s, 1, packed, k, 1460);
	free(packed);
	hsess_str(&s, 0, "GET /after HTTP/1.1\r\nHost: h\r\n\r\n", 1460);
	resp(r, sizeof(r), "200 OK", "text/plain", body3);
	hsess_str(&s, 1, r, 1460);
	hsess_close(&s);
	char *eve = run(&c);
	assert_int_equal(count(eve, ANOMALY, "\"event\":\"COMPRESSION_BOMB\"", NULL), 1);
	assert_int_equal(
	    count(eve, FILEINFO, "\"filename\":\"/bomb\"", "\"state\":\"TRUNCATED\"", NULL), 1);
	/* what was inspected stopped just past the ratio's floor (1 MiB), far
	 * from 16 MiB */
	uint64_t size = num(eve, "\"filename\":\"/bomb\"", "\"size\":");
	assert_true(size >= 1u << 20 && size <= 2u << 20);
	assert_int_equal(count(eve, HTTP, "\"url\":\"/after\"", "\"status\":200", NULL), 1);
	assert_int_equal(
	    count(eve, FILEINFO, "\"filename\":\"/after\"", "\"sha256\":\"" SHA_BODY3 "\"", NULL),
	    1);
	free(eve);
}

/* Two Content-Length headers that disagree, and a folded header. */
static void test_dup_cl_folding(void **state)
{
	(void)state;
	struct hcap c;
	struct hsess s;
	hcap_init(&c, T0);
	hsess_open(&s, &c, 40007, 80);
	hsess_str(&s, 0,
	          "POST /x HTTP/1.1\r\nHost: h\r\nUser-Agent: first\r\n  second\r\n"
	          "Content-Length: 5\r\nContent-Length: 3\r\n\r\nhello",
	          1460);
	hsess_str(&s, 1, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 1460);
	hsess_close(&s);
	char *eve = run(&c);
	assert_int_equal(count(eve, ANOMALY, "\"app_proto\":\"http\"", "\"type\":\"applayer\"",
	                       "\"event\":\"DUPLICATE_CONTENT_LENGTH_FIELD_IN_REQUEST\"", NULL),
	                 1);
	/* and nothing else: libhtp's "Repetition for header" has no event name
	 * (Suricata 7 writes just this one on the same capture) */
	assert_int_equal(count(eve, ANOMALY, NULL), 1);
	/* the folded line joins its header (RFC 7230 3.2.4: obs-fold is a
	 * space) */
	assert_int_equal(count(eve, HTTP, "\"http_user_agent\":\"first  second\"", NULL), 1);
	free(eve);
}

/* The record's headers found in any order and case, names as long as a
 * wanted one but different not taken (request: Referer before User-Agent;
 * response: Location, Content-Range and Content-Type in reverse order of
 * the record's members), in the http record and in fileinfo's. */
static void test_header_order(void **state)
{
	(void)state;
	struct hcap c;
	struct hsess s;
	hcap_init(&c, T0);
	hsess_open(&s, &c, 40021, 80);
	hsess_str(&s, 0,
	          "GET /o HTTP/1.1\r\nREFERER: http://r.example/\r\nHost: h\r\n"
	          "User-Agenx: no\r\nuser-AGENT: ua/2\r\n\r\n",
	          1460);
	hsess_str(&s, 1,
	          "HTTP/1.1 206 Partial Content\r\nLocaTion: /l\r\nLocatiom: no\r\n"
	          "Content-Range: bytes 0-3/10\r\ncontent-type: a/b; x=y\r\n"
	          "Content-Length: 4\r\n\r\nabcd",
	          1460);
	hsess_close(&s);
	char *eve = run(&c);
	assert_int_equal(count(eve, HTTP,
	                       "\"http\":{\"hostname\":\"h\",\"url\":\"/o\","
	                       "\"http_user_agent\":\"ua/2\",\"http_content_type\":\"a/b\","
	                       "\"content_range\":{\"raw\":\"bytes 0-3/10\",\"start\":0,\"end\":3,"
	                       "\"size\":10},\"http_refer\":\"http://r.example/\","
	                       "\"http_method\":\"GET\",\"protocol\":\"HTTP/1.1\",\"status\":206,"
	                       "\"redirect\":\"/l\",\"length\":4}",
	                       NULL),
	                 1);
	assert_int_equal(count(eve, FILEINFO, "\"http_user_agent\":\"ua/2\"",
	                       "\"http_refer\":\"http://r.example/\"", "\"redirect\":\"/l\"", NULL),
	                 1);
	free(eve);
}

/* HTTP/0.9: a request line without a version, the response without a
 * header; then more client data, which 0.9 does not allow. */
static void test_http09(void **state)
{
	(void)state;
	struct hcap c;
	struct hsess s;
	hcap_init(&c, T0);
	hsess_open(&s, &c, 40008, 80);
	hsess_str(&s, 0, "GET /old.html\r\n", 3);
	hsess_str(&s, 1, body1, 1460);
	hsess_str(&s, 0, "GET /more HTTP/1.0\r\n\r\n", 1460);
	hsess_close(&s);
	char *eve = run(&c);
	assert_int_equal(count(eve, HTTP, "\"url\":\"/old.html\"", "\"http_method\":\"GET\"", NULL),
	                 1);
	assert_int_equal(count(eve, HTTP, "\"url\":\"/old.html\"", "\"protocol\"", NULL), 0);
	assert_int_equal(count(eve, FILEINFO, "\"filename\":\"/old.html\"",
	                       "\"sha256\":\"" SHA_BODY1 "\"", NULL),
	                 1);
	assert_int_equal(count(eve, ANOMALY, "\"event\":\"REQUEST_AFTER_HTTP_0_9\"", NULL), 1);
	free(eve);
}

/* multipart/form-data: two file parts (one with bytes that look like a
 * boundary but are not) and a text field; each file part a file with its
 * filename, the text field none. */
static const char mp_body[] =
    "--b0undary\r\n"
    "Content-Disposition: form-data; name=\"comment\"\r\n\r\n"
    "just text\r\n"
    "--b0undary\r\n"
    "Content-Disposition: form-data; name=\"f1\"; filename=\"one.txt\"\r\n"
    "Content-Type: text/plain\r\n\r\n"
    "file one\n\r\n"
    "--b0undary\r\n"
    "Content-Disposition: form-data; name=\"f2\"; filename=\"two.bin\"\r\n"
    "Content-Type: application/octet-stream\r\n\r\n"
    "file two: PK\x03\x04 binary\r\n--not-the-boundary\r\n\r\n"
    "--b0undary--\r\n";
#define SHA_F1 "198cef2c92e80b728ae28c9978e64381fa18d9b31adf2068ca63b1d53153cf95"
#define SHA_F2 "34771ceb44bbbe27ef8500b60752f22f88d2eeb73686b42759f342e571830678"

static char *multipart(size_t seg)
{
	struct hcap c;
	struct hsess s;
	char h[256];
	hcap_init(&c, T0);
	hsess_open(&s, &c, 40009, 80);
	snprintf(
	    h, sizeof(h),
	    "POST /upload HTTP/1.1\r\nHost: h\r\n"
	    "Content-Type: multipart/form-data; boundary=b0undary\r\nContent-Length: %zu\r\n\r\n",
	    strlen(mp_body));
	hsess_str(&s, 0, h, seg);
	hsess_str(&s, 0, mp_body, seg);
	hsess_str(&s, 1, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", seg);
	hsess_close(&s);
	return run(&c);
}

static void test_multipart(void **state)
{
	(void)state;
	const size_t segs[] = {1460, 1, 2, 5, 11};
	for (size_t i = 0; i < OM_ARRAY_SIZE(segs); i++) {
		char *eve = multipart(segs[i]);
		assert_int_equal(count(eve, FILEINFO, "\"src_ip\":\"10.0.0.1\"", NULL), 2);
		assert_int_equal(count(eve, FILEINFO, "\"filename\":\"one.txt\"", "\"size\":9",
		                       "\"sha256\":\"" SHA_F1 "\"", "\"state\":\"CLOSED\"",
		                       "\"http_method\":\"POST\"", NULL),
		                 1);
		assert_int_equal(count(eve, FILEINFO, "\"filename\":\"two.bin\"",
		                       "\"sha256\":\"" SHA_F2 "\"", "\"state\":\"CLOSED\"", NULL),
		                 1);
		assert_int_equal(count(eve, HTTP, "\"url\":\"/upload\"", "\"status\":200", NULL),
		                 1);
		free(eve);
	}
}

/* Range responses: each range a file of its own, CLOSED when it came whole
 * (Suricata's meaning of the state), which bytes it holds in
 * http.content_range, in the http record and in fileinfo. */
static void test_range(void **state)
{
	(void)state;
	struct hcap c;
	struct hsess s;
	hcap_init(&c, T0);
	hsess_open(&s, &c, 40010, 80);
	hsess_str(&s, 0, "GET /f.bin HTTP/1.1\r\nHost: h\r\nRange: bytes=2-5\r\n\r\n", 1460);
	hsess_str(&s, 1,
	          "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 2-5/10\r\n"
	          "Content-Length: 4\r\n\r\n2345",
	          1460);
	hsess_str(&s, 0, "GET /g.bin HTTP/1.1\r\nHost: h\r\nRange: bytes=0-\r\n\r\n", 1460);
	hsess_str(&s, 1,
	          "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-3/4\r\n"
	          "Content-Length: 4\r\n\r\nabcd",
	          1460);
	hsess_close(&s);
	char *eve = run(&c);
	assert_int_equal(count(eve, HTTP, "\"status\":206",
	                       "\"content_range\":{\"raw\":\"bytes 2-5/10\",\"start\":2,\"end\":5,"
	                       "\"size\":10}",
	                       NULL),
	                 1);
	assert_int_equal(
	    count(eve, FILEINFO, "\"filename\":\"/f.bin\"", "\"state\":\"CLOSED\"", "\"size\":4",
	          "\"sha256\":\"38083c7ee9121e17401883566a148aa5c2e2d55dc53bc4a94a026517dbff3c6b\"",
	          "\"content_range\":{\"raw\":\"bytes 2-5/10\"", NULL),
	    1);
	/* a range that covers the whole file is the whole file */
	assert_int_equal(
	    count(eve, FILEINFO, "\"filename\":\"/g.bin\"", "\"state\":\"CLOSED\"", NULL), 1);
	free(eve);
}

/* CONNECT accepted: the tunnel is noted and the parser lets the rest go. */
static void test_connect_upgrade(void **state)
{
	(void)state;
	struct hcap c;
	struct hsess s;
	hcap_init(&c, T0);
	hsess_open(&s, &c, 40011, 3128);
	hsess_str(&s, 0, "CONNECT www.example.jp:443 HTTP/1.1\r\nHost: www.example.jp:443\r\n\r\n",
	          1460);
	hsess_str(&s, 1, "HTTP/1.1 200 Connection established\r\n\r\n", 1460);
	const uint8_t hello[] = {0x16, 0x03, 0x01, 0x00, 0x04, 0x01, 0x00, 0x00, 0x00};
	hsess_send(&s, 0, hello, sizeof(hello), 1460);
	hsess_close(&s);
	/* a client that sends its ClientHello before the proxy's answer: the
	 * bytes wait (libhtp wants the answer first), then the tunnel */
	hsess_open(&s, &c, 40018, 3128);
	hsess_str(&s, 0,
	          "CONNECT mail.example.jp:443 HTTP/1.1\r\nHost: mail.example.jp:443\r\n\r\n",
	          1460);
	hsess_send(&s, 0, hello, sizeof(hello), 1460);
	hsess_str(&s, 1, "HTTP/1.1 200 Connection established\r\n\r\n", 1460);
	hsess_close(&s);
	hsess_open(&s, &c, 40012, 80);
	hsess_str(
	    &s, 0,
	    "GET /chat HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
	    1460);
	hsess_str(
	    &s, 1,
	    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
	    "\x81\x02hi",
	    1460);
	hsess_close(&s);
	char *eve = run(&c);
	assert_int_equal(count(eve, HTTP, "\"http_method\":\"CONNECT\"",
	                       "\"url\":\"www.example.jp:443\"", "\"status\":200",
	                       "\"omamori\":{\"http\":{\"tunnel\":\"CONNECT\"}}", NULL),
	                 1);
	assert_int_equal(count(eve, HTTP, "\"url\":\"mail.example.jp:443\"", "\"status\":200",
	                       "\"omamori\":{\"http\":{\"tunnel\":\"CONNECT\"}}", NULL),
	                 1);
	assert_int_equal(count(eve, ANOMALY, NULL), 0);
	assert_int_equal(count(eve, HTTP, "\"url\":\"/chat\"", "\"status\":101",
	                       "\"omamori\":{\"http\":{\"upgrade\":\"websocket\"}}", NULL),
	                 1);
	assert_int_equal(count(eve, FILEINFO, NULL), 0);
	free(eve);
}

static void small_headers(om_settings *cfg)
{
	cfg->proto.http.max_header_bytes = 1024;
}

/* A header block past max-header-bytes: an anomaly, and no crash or growth. */
static void test_header_limit(void **state)
{
	(void)state;
	struct hcap c;
	struct hsess s;
	char big[4096];
	hcap_init(&c, T0);
	hsess_open(&s, &c, 40013, 80);
	int n = snprintf(big, sizeof(big), "GET / HTTP/1.1\r\nHost: h\r\n");
	for (int i = 0; i < 60; i++)
		n += snprintf(big + n, sizeof(big) - (size_t)n, "X-Pad-%02d: 0123456789abcdef\r\n",
		              i);
	snprintf(big + n, sizeof(big) - (size_t)n, "\r\n");
	hsess_str(&s, 0, big, 100);
	hsess_str(&s, 1, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 1460);
	hsess_close(&s);
	tune = small_headers;
	char *eve = run(&c);
	tune = NULL;
	assert_int_equal(count(eve, ANOMALY, "\"event\":\"REQUEST_HEADER_BLOCK_TOO_LONG\"", NULL),
	                 1);
	free(eve);
}

/* The body accessor, from a file subscriber's chunk callback (which runs
 * inside the parser's body callback). */
static size_t seen_len;
static char seen[64];

static void *sub_open(const om_file *file, void *user)
{
	(void)user;
	return om_file_get_info(file)->dir == OM_DIR_TOCLIENT ? (void *)1 : NULL;
}

static int sub_chunk(void *st, const om_file *file, const uint8_t *d, size_t n)
{
	(void)st, (void)d, (void)n;
	const uint8_t *b;
	size_t len;
	const om_file_info *in = om_file_get_info(file);
	if (proto_http_body(om_file_flow(file), in->tx_id, OM_DIR_TOCLIENT, &b, &len) == 0) {
		seen_len = len < sizeof(seen) ? len : sizeof(seen);
		memcpy(seen, b, seen_len);
	}
	const uint8_t *x;
	size_t xl;
	/* no such transaction */
	assert_int_equal(proto_http_body(om_file_flow(file), 99, OM_DIR_TOCLIENT, &x, &xl),
	                 -ENOENT);
	return 0;
}

static void small_body(om_settings *cfg)
{
	cfg->proto.http.response_body_limit = 10;
}

static void test_body_accessor(void **state)
{
	(void)state;
	static const om_file_subscriber sub = {.name = "t", .open = sub_open, .chunk = sub_chunk};
	struct hcap c;
	struct hsess s;
	char r[256];
	hcap_init(&c, T0);
	hsess_open(&s, &c, 40014, 80);
	hsess_str(&s, 0, "GET /one.html HTTP/1.1\r\nHost: h\r\n\r\n", 1460);
	resp(r, sizeof(r), "200 OK", "text/html", body1);
	hsess_str(&s, 1, r, 4);
	hsess_close(&s);
	subscriber = &sub;
	tune = small_body;
	seen_len = 0;
	char *eve = run(&c);
	subscriber = NULL;
	tune = NULL;
	/* the first 10 bytes (the limit), although the file had all 17 */
	assert_int_equal(seen_len, 10);
	assert_memory_equal(seen, body1, 10);
	assert_int_equal(count(eve, FILEINFO, "\"size\":17", "\"sha256\":\"" SHA_BODY1 "\"", NULL),
	                 1);
	free(eve);
}

/* The transaction as the rule engine sees it (om_proto_tx): shown when the
 * request is complete and again with the response; normalised URI and
 * host, headers as Suricata's http.header builds them, the bodies. */
struct seen_tx {
	unsigned calls, progress[4];
	char uri[64], uri_raw[64], host[64], header[256], names[128], body[16], rbody[32], stat[8],
	    server[16], start[256];
};
static struct seen_tx stx;

static void copy_buf(char *out, size_t cap, const om_proto_tx *tx, enum om_tx_buf b)
{
	uint32_t n = 0;
	const uint8_t *d = om_tx_get(tx, b, 0, &n);
	if (!d) {
		snprintf(out, cap, "(none)");
		return;
	}
	snprintf(out, cap, "%.*s", (int)n, (const char *)d);
}

static enum om_tx_verdict obs_tx(void *wctx, om_flow *f, const om_proto_tx *tx)
{
	(void)wctx, (void)f;
	assert_string_equal(tx->app_proto, "http");
	assert_int_equal(tx->tx_id, 0);
	if (stx.calls < 4)
		stx.progress[stx.calls] = tx->progress;
	stx.calls++;
	copy_buf(stx.uri, sizeof(stx.uri), tx, OM_TXB_HTTP_URI);
	copy_buf(stx.uri_raw, sizeof(stx.uri_raw), tx, OM_TXB_HTTP_URI_RAW);
	copy_buf(stx.host, sizeof(stx.host), tx, OM_TXB_HTTP_HOST);
	copy_buf(stx.header, sizeof(stx.header), tx, OM_TXB_HTTP_HEADER);
	copy_buf(stx.names, sizeof(stx.names), tx, OM_TXB_HTTP_HEADER_NAMES);
	copy_buf(stx.body, sizeof(stx.body), tx, OM_TXB_HTTP_REQUEST_BODY);
	copy_buf(stx.rbody, sizeof(stx.rbody), tx, OM_TXB_HTTP_RESPONSE_BODY);
	copy_buf(stx.stat, sizeof(stx.stat), tx, OM_TXB_HTTP_STAT_CODE);
	copy_buf(stx.server, sizeof(stx.server), tx, OM_TXB_HTTP_SERVER);
	copy_buf(stx.start, sizeof(stx.start), tx, OM_TXB_HTTP_START);
	return tx->progress & OM_TX_RESPONSE ? OM_TX_VERDICT_ALERT : OM_TX_VERDICT_ACCEPT;
}

static void test_observer(void **state)
{
	(void)state;
	static const om_proto_observer obs = {.name = "t", .on_tx = obs_tx};
	struct hcap c;
	struct hsess s;
	char r[256];
	hcap_init(&c, T0);
	hsess_open(&s, &c, 40015, 80);
	hsess_str(&s, 0,
	          "POST /a/./b/../c%41?x=1 HTTP/1.1\r\nHost: WWW.Example.JP\r\nCookie: k=v\r\n"
	          "Content-Length: 5\r\n\r\nhello",
	          3);
	resp(r, sizeof(r), "200 OK", "text/html", body1);
	hsess_str(&s, 1, r, 1460);
	hsess_close(&s);
	memset(&stx, 0, sizeof(stx));
	observer = &obs;
	char *eve = run(&c);
	observer = NULL;
	assert_int_equal(stx.calls, 2);
	assert_int_equal(stx.progress[0], OM_TX_REQUEST);
	assert_int_equal(stx.progress[1], OM_TX_REQUEST | OM_TX_RESPONSE);
	/* dot segments removed and %41 decoded (RFC 3986 5.2.4, 2.3); the case
	 * kept (libhtp's IDS personality would lower-case the path: Suricata
	 * turns that off, and so do we) */
	assert_string_equal(stx.uri, "/a/cA?x=1");
	assert_string_equal(stx.uri_raw, "/a/./b/../c%41?x=1");
	assert_string_equal(stx.host, "www.example.jp");
	assert_string_equal(stx.header, "Host: WWW.Example.JP\r\nContent-Length: 5\r\n");
	assert_string_equal(stx.names, "\r\nHost\r\nCookie\r\nContent-Length\r\n\r\n");
	assert_string_equal(stx.body, "hello");
	assert_string_equal(stx.rbody, body1);
	assert_string_equal(stx.stat, "200");
	assert_string_equal(stx.server, "t");
	assert_string_equal(stx.start,
	                    "POST /a/./b/../c%41?x=1 HTTP/1.1\r\nHost: WWW.Example.JP\r\n"
	                    "Cookie: k=v\r\nContent-Length: 5\r\n\r\n");
	/* the observer's alert is on the flow */
	assert_int_equal(count(eve, "\"event_type\":\"flow\"", "\"alerted\":true", NULL), 1);
	free(eve);
}

static struct hcap post_session(void)
{
	struct hcap c;
	struct hsess s;
	char r[256];
	hcap_init(&c, T0);
	hsess_open(&s, &c, 40017, 80);
	hsess_str(&s, 0, "POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello", 1460);
	resp(r, sizeof(r), "200 OK", "text/html", body1);
	hsess_str(&s, 1, r, 1460);
	hsess_close(&s);
	return c;
}

/* An observer and a file subscriber that say they never read HTTP bodies
 * (threat intelligence, the web filter): the parser keeps no copy of the
 * bodies for them (the body buffers are absent), while names and the
 * files' hashes are as before; one more observer without the flag (the
 * rule engine) brings the copies back. */
static void test_observer_no_bodies(void **state)
{
	(void)state;
	static const om_proto_observer lean = {
	    .name = "lean", .on_tx = obs_tx, .no_http_bodies = true};
	static const om_file_subscriber lean_sub = {
	    .name = "lean", .open = sub_open, .no_http_bodies = true};
	struct hcap c = post_session();
	memset(&stx, 0, sizeof(stx));
	observer = &lean;
	subscriber = &lean_sub;
	char *eve = run(&c);
	assert_int_equal(stx.calls, 2);
	assert_string_equal(stx.host, "h");
	assert_string_equal(stx.uri, "/up");
	assert_string_equal(stx.body, "(none)");
	assert_string_equal(stx.rbody, "(none)");
	assert_int_equal(count(eve, FILEINFO, "\"sha256\":\"" SHA_BODY1 "\"", NULL), 1);
	free(eve);

	/* the same with a reader of bodies beside it */
	static const om_proto_observer reader = {.name = "reader", .on_tx = obs_tx};
	c = post_session();
	memset(&stx, 0, sizeof(stx));
	observer2 = &reader;
	eve = run(&c);
	observer = NULL;
	observer2 = NULL;
	subscriber = NULL;
	assert_int_equal(stx.calls, 4);
	assert_string_equal(stx.body, "hello");
	assert_string_equal(stx.rbody, body1);
	free(eve);
}

/* A hole in a response body that is never filled: libhtp skips it, the
 * file loses its hashes, says so (gaps) and closes TRUNCATED; the
 * transaction is logged and the next one on the connection parsed. */
static void test_gap(void **state)
{
	(void)state;
	struct hcap c;
	struct hsess s;
	hcap_init(&c, T0);
	hsess_open(&s, &c, 40016, 80);
	hsess_str(&s, 0, "GET /big HTTP/1.1\r\nHost: h\r\n\r\n", 1460);
	hsess_str(&s, 1, "HTTP/1.1 200 OK\r\nContent-Length: 3000\r\n\r\n", 1460);
	char part[1000];
	memset(part, 'x', sizeof(part));
	hsess_send(&s, 1, part, sizeof(part), 1000);
	s.seq[1] += 1000; /* 1000 bytes the capture never saw */
	hsess_send(&s, 1, part, sizeof(part), 1000);
	/* the connection goes on after the gap */
	char r[256];
	hsess_str(&s, 0, "GET /next HTTP/1.1\r\nHost: h\r\n\r\n", 1460);
	resp(r, sizeof(r), "200 OK", "text/plain", body3);
	hsess_str(&s, 1, r, 1460);
	/* a body whose first bytes are missing: its file opens at the gap */
	hsess_str(&s, 0, "GET /lead HTTP/1.1\r\nHost: h\r\n\r\n", 1460);
	hsess_str(&s, 1, "HTTP/1.1 200 OK\r\nContent-Length: 1500\r\n\r\n", 1460);
	s.seq[1] += 500;
	hsess_send(&s, 1, part, sizeof(part), 1000);
	hsess_close(&s);
	char *eve = run(&c);
	assert_int_equal(count(eve, FILEINFO, "\"filename\":\"/lead\"", "\"gaps\":true",
	                       "\"state\":\"TRUNCATED\"", "\"size\":1000", NULL),
	                 1);
	assert_int_equal(count(eve, FILEINFO, "\"filename\":\"/big\"", "\"gaps\":true",
	                       "\"state\":\"TRUNCATED\"", NULL),
	                 1);
	assert_int_equal(count(eve, FILEINFO, "\"filename\":\"/big\"", "\"sha256\"", NULL), 0);
	/* the body's length counts the lost bytes (as Suricata's); the file's
	 * size only those seen */
	assert_int_equal(
	    count(eve, HTTP, "\"url\":\"/big\"", "\"status\":200", "\"length\":3000", NULL), 1);
	assert_int_equal(count(eve, FILEINFO, "\"filename\":\"/big\"", "\"size\":2000", NULL), 1);
	assert_int_equal(count(eve, FILEINFO, "\"filename\":\"/next\"",
	                       "\"sha256\":\"" SHA_BODY3 "\"", "\"state\":\"CLOSED\"", NULL),
	                 1);
	free(eve);
}

static void few_tx(om_settings *cfg)
{
	cfg->proto.http.max_tx = 4;
}

/* More requests awaiting a response than max-tx: an anomaly, and libhtp
 * keeps no more (what it had is logged). */
static void test_max_tx(void **state)
{
	(void)state;
	struct hcap c;
	struct hsess s;
	hcap_init(&c, T0);
	hsess_open(&s, &c, 40017, 80);
	for (int i = 0; i < 10; i++) {
		char q[64];
		snprintf(q, sizeof(q), "GET /%d HTTP/1.1\r\nHost: h\r\n\r\n", i);
		hsess_str(&s, 0, q, 1460);
	}
	hsess_close(&s);
	tune = few_tx;
	char *eve = run(&c);
	tune = NULL;
	assert_int_equal(count(eve, ANOMALY, "\"event\":\"TOO_MANY_TRANSACTIONS\"", NULL), 1);
	/* those libhtp took (max-tx and the one it was making) are logged */
	assert_int_equal(count(eve, HTTP, NULL), 5);
	assert_int_equal(count(eve, HTTP, "\"url\":\"/5\"", NULL), 0);
	free(eve);
}

/* A request line longer than max-header-bytes (libhtp's field limit):
 * REQUEST_FIELD_TOO_LONG, Suricata's name, and nothing grows past it. */
static void test_long_line(void **state)
{
	(void)state;
	struct hcap c;
	struct hsess s;
	hcap_init(&c, T0);
	hsess_open(&s, &c, 40019, 80);
	size_t n = 40000;
	char *q = malloc(n + 64);
	memcpy(q, "GET /", 5);
	memset(q + 5, 'a', n);
	static const char tail[] = " HTTP/1.1\r\nHost: h\r\n\r\n";
	memcpy(q + 5 + n, tail, sizeof(tail) - 1);
	hsess_send(&s, 0, q, 5 + n + sizeof(tail) - 1, 1460);
	free(q);
	hsess_str(&s, 1, "HTTP/1.1 414 URI Too Long\r\nContent-Length: 0\r\n\r\n", 1460);
	hsess_close(&s);
	char *eve = run(&c);
	assert_int_equal(count(eve, ANOMALY, "\"event\":\"REQUEST_FIELD_TOO_LONG\"", NULL), 1);
	free(eve);
}

/* Inputs the fuzz target (tests/fuzz/fuzz_http.c) found, as its scripts:
 * each must run clean (under the sanitizers in the ASan build) and still
 * give its records. */
static void test_fuzz_regressions(void **state)
{
	(void)state;
	/* a malformed CONNECT whose transaction libhtp completed twice: it
	 * was destroyed twice (a crash in htp_connp_tx_remove) */
	static const uint8_t twice[] = {
	    0x2c, 0x00, 0x00, 0x3b, 0x43, 0x4f, 0x4e, 0x4e, 0x45, 0x43, 0x54, 0x20, 0x65, 0x78,
	    0x61, 0x6d, 0x34, 0x37, 0x0d, 0x0a, 0x0d, 0x0a, 0x01, 0x00, 0x27, 0x54, 0x43, 0x6f,
	    0x6e, 0x6e, 0x65, 0x63, 0x74, 0x69, 0x6f, 0x6e, 0x20, 0x6c, 0x65, 0x2e, 0x63, 0x6f,
	    0x6d, 0x00, 0x00, 0x00, 0x0a, 0x54, 0x70, 0x61, 0x6e, 0x73, 0x66, 0x65, 0x72, 0x2d,
	    0x45, 0x6e, 0x63, 0x6f, 0x64, 0x69, 0x6e, 0x67, 0x3a, 0x20, 0x63, 0x68, 0x75, 0x6e,
	    0x6b, 0x65, 0x64, 0x0d, 0x0a, 0x0d, 0x0a, 0x35, 0x3b, 0x65, 0x78, 0x74, 0x50, 0x2f,
	    0x31, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2e, 0x31,
	    0x20, 0x32, 0x30, 0x30, 0x20, 0x4f, 0x4b, 0x0d, 0x0a, 0x54, 0x72, 0x65, 0x20, 0x00,
	    0x2e, 0x63, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x34, 0x33, 0x0d, 0x0a,
	    0x28, 0x0d, 0x0a, 0x01, 0x01, 0x27, 0x48, 0x54, 0x43, 0x6f, 0x6e, 0x6e, 0x65, 0x63,
	    0x74, 0x69, 0x6f, 0x6e, 0x20, 0x6c, 0x65, 0x2e, 0x64, 0x20, 0x74, 0x72, 0x74, 0x61,
	    0x00, 0x00, 0x01, 0x00,
	};
	struct hcap c;
	hcap_init(&c, T0);
	hsess_script(&c, twice, sizeof(twice));
	char *eve = run(&c);
	assert_true(count(eve, HTTP, "\"http_method\":\"CONNECT\"", NULL) >= 1);
	free(eve);
}

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/omamori-http-XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	rmdir(tmpdir);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_keepalive),
	    cmocka_unit_test(test_segmentation),
	    cmocka_unit_test(test_pipelined),
	    cmocka_unit_test(test_no_response),
	    cmocka_unit_test(test_chunked),
	    cmocka_unit_test(test_gzip),
	    cmocka_unit_test(test_gzip_bomb),
	    cmocka_unit_test(test_dup_cl_folding),
	    cmocka_unit_test(test_header_order),
	    cmocka_unit_test(test_http09),
	    cmocka_unit_test(test_multipart),
	    cmocka_unit_test(test_range),
	    cmocka_unit_test(test_connect_upgrade),
	    cmocka_unit_test(test_header_limit),
	    cmocka_unit_test(test_body_accessor),
	    cmocka_unit_test(test_observer),
	    cmocka_unit_test(test_observer_no_bodies),
	    cmocka_unit_test(test_gap),
	    cmocka_unit_test(test_max_tx),
	    cmocka_unit_test(test_long_line),
	    cmocka_unit_test(test_fuzz_regressions),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
