/* Unit tests for the mail parsers (src/proto/mail.c) and the MIME decoder
 * (src/proto/mime.c). The decoder is driven directly; the parsers through
 * the real app-layer (detection, held bytes, bypass) and the real proto
 * module (records through a sink, files through a subscriber), with the
 * conversation given as chunks of each direction. Expected values are
 * worked out in the comments from the bytes sent. */
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proto/mime.h"
#include "proto/proto.h"

/* ---- the MIME decoder alone ----------------------------------------------------- */

struct mrec {
	char anomalies[1024];
	int nfiles, closed_ok, closed_cut;
	char names[512];
	uint8_t data[16384]; /* the bytes of every file, in order */
	size_t len;
};

static void *m_open(void *user, const struct mime_part_info *pi)
{
	struct mrec *r = user;
	r->nfiles++;
	size_t l = strlen(r->names);
	snprintf(r->names + l, sizeof(r->names) - l, "[%.*s]", (int)pi->name_len,
	         (const char *)pi->name);
	return r;
}

static void m_data(void *user, void *part, const uint8_t *d, size_t n)
{
	(void)part;
	struct mrec *r = user;
	if (r->len + n <= sizeof(r->data)) {
		memcpy(r->data + r->len, d, n);
		r->len += n;
	}
}

static void m_close(void *user, void *part, bool complete)
{
	(void)part;
	struct mrec *r = user;
	if (complete)
		r->closed_ok++;
	else
		r->closed_cut++;
}

static void m_anom(void *user, const char *ev)
{
	struct mrec *r = user;
	size_t l = strlen(r->anomalies);
	snprintf(r->anomalies + l, sizeof(r->anomalies) - l, "%s ", ev);
}

static const struct mime_ops mops = {m_open, m_data, m_close, m_anom};
static const struct mime_limits mlim = {4096, 16384, 8, 256, 1u << 20, 64, 65536};

/* runs msg through a decoder in pieces of step bytes (0: at once) and
 * writes its email object into out */
static void run_mime(const char *msg, size_t step, const struct mime_limits *l, struct mrec *r,
                     char *out, size_t cap)
{
	memset(r, 0, sizeof(*r));
	mime *m = mime_new(l ? l : &mlim, &mops, r);
	assert_non_null(m);
	size_t n = strlen(msg);
	if (!step)
		step = n;
	for (size_t i = 0; i < n; i += step)
		mime_feed(m, (const uint8_t *)msg + i, i + step <= n ? step : n - i);
	mime_end(m, true);
	om_buf b;
	om_buf_init(&b, 1 << 16);
	om_json j;
	om_json_init(&j, &b);
	om_json_obj_open(&j, NULL);
	mime_write_email(&j, m);
	mime_write_urls(&j, "all", m);
	om_json_obj_close(&j);
	snprintf(out, cap, "%s", om_buf_cstr(&b));
	om_buf_free(&b);
	mime_free(m);
}

static void test_encoded_words(void **state)
{
	(void)state;
	char out[256];
	/* Q with _ for space and =XX; B of UTF-8 "日本" (e6 97 a5 e6 9c ac) */
	const char *q = "=?utf-8?q?caf=C3=A9_au_lait?=";
	mime_decode_header((const uint8_t *)q, strlen(q), out, sizeof(out));
	assert_string_equal(out, "café au lait");
	const char *b = "=?UTF-8?B?5pel5pys?=";
	mime_decode_header((const uint8_t *)b, strlen(b), out, sizeof(out));
	assert_string_equal(out, "日本");
	/* white space between two encoded words goes (RFC 2047 6.2); between
	 * a word and plain text it stays */
	const char *two = "=?utf-8?q?a?= \t =?utf-8?q?b?= c";
	mime_decode_header((const uint8_t *)two, strlen(two), out, sizeof(out));
	assert_string_equal(out, "ab c");
	/* ISO-2022-JP: ESC $ B, JIS 0x467C 0x4B5C (日本), ESC ( B, base64 of
	 * 1b 24 42 46 7c 4b 5c 1b 28 42 */
	const char *jis = "=?ISO-2022-JP?B?GyRCRnxLXBsoQg==?=";
	mime_decode_header((const uint8_t *)jis, strlen(jis), out, sizeof(out));
	assert_string_equal(out, "日本");
	/* Shift_JIS 93 fa 96 7b (日本) in Q form */
	const char *sj = "=?Shift_JIS?Q?=93=FA=96=7B?=";
	mime_decode_header((const uint8_t *)sj, strlen(sj), out, sizeof(out));
	assert_string_equal(out, "日本");
	/* a malformed word is left as it is */
	const char *bad = "=?utf-8?x?abc?= =?utf-8?q?abc";
	mime_decode_header((const uint8_t *)bad, strlen(bad), out, sizeof(out));
	assert_string_equal(out, bad);
}

/* A multipart with a base64 attachment named in RFC 2231 form (UTF-8,
 * two sections, the first with charset and language), a quoted-printable
 * text part with a URL broken by a soft line break, and a folded header. */
static const char *mp_msg = "From: =?UTF-8?B?5pel5pys?= <a@example.jp>\r\n"
                            "To: \"Doe, John\" <j@example.com>, b@example.com\r\n"
                            "Subject: folded\r\n"
                            "  =?utf-8?q?subject?=\r\n"
                            "Content-Type: multipart/mixed;\r\n"
                            "\tboundary=\"XYZ\"\r\n"
                            "\r\n"
                            "--XYZ\r\n"
                            "Content-Type: text/plain; charset=utf-8\r\n"
                            "Content-Transfer-Encoding: quoted-printable\r\n"
                            "\r\n"
                            "see http://example.com/lo=\r\n"
                            "ng/path, and https://example.org.\r\n"
                            "--XYZ\r\n"
                            "Content-Type: application/octet-stream; name=\"ignored.bin\"\r\n"
                            "Content-Disposition: attachment;\r\n"
                            " filename*0*=UTF-8'ja'%E8%B3%87;\r\n"
                            " filename*1*=%E6%96%99.txt\r\n"
                            "Content-Transfer-Encoding: base64\r\n"
                            "\r\n"
                            "aGVsbG8s\r\n"
                            "IHdvcmxk\r\n"
                            "IQ==\r\n"
                            "--XYZ--\r\n"
                            "epilogue http://not.a.part/\r\n";

static void test_multipart(void **state)
{
	(void)state;
	char out[2048];
	struct mrec r;
	/* whole, then byte by byte: the same result */
	for (size_t step = 0; step <= 1; step++) {
		run_mime(mp_msg, step, NULL, &r, out, sizeof(out));
		assert_string_equal(r.anomalies, "");
		assert_int_equal(r.nfiles, 1);
		assert_int_equal(r.closed_ok, 1);
		/* the RFC 2231 name wins over Content-Type's name: 資料.txt */
		assert_string_equal(r.names, "[資料.txt]");
		/* "aGVsbG8s" "IHdvcmxk" "IQ==" is "hello," " world" "!" */
		assert_int_equal(r.len, 13);
		assert_memory_equal(r.data, "hello, world!", 13);
		assert_non_null(strstr(out, "\"status\":\"PARSE_DONE\""));
		assert_non_null(strstr(out, "\"from\":\"日本 <a@example.jp>\""));
		/* the quoted comma does not split */
		assert_non_null(strstr(
		    out, "\"to\":[\"\\\"Doe, John\\\" <j@example.com>\",\"b@example.com\"]"));
		/* unfolded: "folded" + "  " + encoded word (the space before
		 * a word after plain text stays) */
		assert_non_null(strstr(out, "\"subject\":\"folded  subject\""));
		assert_non_null(strstr(out, "\"attachment\":[\"資料.txt\"]"));
		/* the soft break joins the URL; the final '.' and ',' are
		 * punctuation; the epilogue is no part. Suricata's list: http
		 * only, no scheme, its tokens end at white space (the comma
		 * stays); no flags: the URL is in a part, not in the message's
		 * own body */
		assert_non_null(strstr(out, "\"url\":[\"example.com/long/path,\"]"));
		assert_null(strstr(out, "has_exe_url"));
		assert_non_null(strstr(
		    out, "\"all\":[\"http://example.com/long/path\",\"https://example.org\"]"));
	}
}

/* 7bit parts: the line break before a boundary belongs to the boundary */
static void test_boundary_crlf(void **state)
{
	(void)state;
	const char *msg = "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
	                  "--b\r\nContent-Disposition: attachment; filename=a.txt\r\n\r\n"
	                  "line1\r\nline2\r\n--b--\r\n";
	char out[1024];
	struct mrec r;
	run_mime(msg, 3, NULL, &r, out, sizeof(out));
	assert_int_equal(r.len, 12);
	assert_memory_equal(r.data, "line1\r\nline2", 12);
}

static void test_japanese_bodies(void **state)
{
	(void)state;
	/* ISO-2022-JP text: ESC $ B "日本" ESC ( B then a URL; the URL must
	 * come out whole whatever the split (the converter keeps an
	 * incomplete escape sequence for the next piece) */
	const char *jis = "Content-Type: text/plain; charset=ISO-2022-JP\r\n\r\n"
	                  "\x1b$BF|K\\\x1b(B http://jis.example.jp/x\r\n";
	char out[1024];
	struct mrec r;
	for (size_t step = 0; step <= 5; step++) {
		run_mime(jis, step, NULL, &r, out, sizeof(out));
		assert_non_null(strstr(out, "\"url\":[\"jis.example.jp/x\"]"));
		assert_non_null(strstr(out, "\"all\":[\"http://jis.example.jp/x\"]"));
	}
	/* Shift_JIS HTML: an href, and a URL directly followed by 。 (81 42) */
	const char *sj = "Content-Type: text/html; charset=Shift_JIS\r\n\r\n"
	                 "<a href=\"https://sj.example.jp/a\">\x93\xfa\x96\x7b</a> "
	                 "\x8f\xda\x8d\xd7http://sj.example.jp/b\x81\x42\r\n";
	run_mime(sj, 0, NULL, &r, out, sizeof(out));
	assert_non_null(
	    strstr(out, "\"all\":[\"https://sj.example.jp/a\",\"http://sj.example.jp/b\"]"));
	/* Suricata's list reads the Shift_JIS bytes as they are: 81 42 (。)
	 * stays, lower-cased byte by byte */
	assert_non_null(strstr(out, "\"url\":[\"sj.example.jp/b\\u0081b\"]"));
}

static void test_limits(void **state)
{
	(void)state;
	char out[4096];
	struct mrec r;
	/* three nested multiparts with max_depth 2: the third is not opened */
	const char *deep = "Content-Type: multipart/mixed; boundary=a\r\n\r\n"
	                   "--a\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
	                   "--b\r\nContent-Type: multipart/mixed; boundary=c\r\n\r\n"
	                   "--c\r\nContent-Disposition: attachment; filename=x\r\n\r\nX\r\n"
	                   "--c--\r\n--b--\r\n--a--\r\n";
	struct mime_limits l = mlim;
	l.max_depth = 2;
	run_mime(deep, 0, &l, &r, out, sizeof(out));
	assert_non_null(strstr(r.anomalies, "MIME_TOO_DEEP"));
	assert_int_equal(r.nfiles, 0);
	run_mime(deep, 0, NULL, &r, out, sizeof(out));
	assert_string_equal(r.anomalies, "");
	assert_int_equal(r.nfiles, 1);
	/* parts: the message itself counts as one; max_parts 2 leaves one more */
	const char *parts = "Content-Type: multipart/mixed; boundary=a\r\n\r\n"
	                    "--a\r\nContent-Disposition: attachment; filename=1\r\n\r\n1\r\n"
	                    "--a\r\nContent-Disposition: attachment; filename=2\r\n\r\n2\r\n"
	                    "--a--\r\n";
	l = mlim;
	l.max_parts = 2;
	run_mime(parts, 0, &l, &r, out, sizeof(out));
	assert_non_null(strstr(r.anomalies, "MIME_TOO_MANY_PARTS"));
	assert_int_equal(r.nfiles, 1);
	/* URLs: max_urls 2 keeps the first two distinct ones */
	const char *urls = "\r\nhttp://a.example/ http://a.example/ http://b.example/ "
	                   "http://c.example/\r\n";
	l = mlim;
	l.max_urls = 2;
	run_mime(urls, 0, &l, &r, out, sizeof(out));
	assert_non_null(strstr(out, "\"all\":[\"http://a.example/\",\"http://b.example/\"]"));
	/* Suricata's order: newest first within a part */
	assert_non_null(strstr(out, "\"url\":[\"b.example/\",\"a.example/\"]"));
	/* a body line longer than max_line (128 here): an anomaly, and the
	 * bytes still reach the file */
	char big[1024];
	int n = snprintf(big, sizeof(big),
	                 "Content-Disposition: attachment; filename=big\r\n\r\n%0300d\r\n", 7);
	assert_true(n > 300);
	l = mlim;
	l.max_line = 128;
	run_mime(big, 0, &l, &r, out, sizeof(out));
	assert_non_null(strstr(r.anomalies, "MIME_LONG_LINE"));
	assert_int_equal(r.len, 300);
	/* a header field longer than max_header: cut, one anomaly */
	char hdr[2048];
	n = snprintf(hdr, sizeof(hdr), "Subject: %0600d\r\n\r\nbody\r\n", 1);
	l = mlim;
	l.max_header = 256;
	run_mime(hdr, 0, &l, &r, out, sizeof(out));
	assert_string_equal(r.anomalies, "MIME_LONG_HEADER_VALUE ");
	/* invalid base64 is reported once; the valid quanta are kept */
	const char *b64 = "Content-Transfer-Encoding: base64\r\nContent-Disposition: inline\r\n\r\n"
	                  "YW*Jj\r\n*ZGVm\r\n";
	run_mime(b64, 0, NULL, &r, out, sizeof(out));
	assert_string_equal(r.anomalies, "MIME_INVALID_BASE64 ");
	assert_int_equal(r.len, 6);
	assert_memory_equal(r.data, "abcdef", 6);
	/* a message cut short: the open part is closed as cut */
	memset(&r, 0, sizeof(r));
	mime *m = mime_new(&mlim, &mops, &r);
	const char *cut = "Content-Type: multipart/mixed; boundary=a\r\n\r\n--a\r\n"
	                  "Content-Disposition: attachment; filename=c\r\n\r\npartial";
	mime_feed(m, (const uint8_t *)cut, strlen(cut));
	mime_end(m, false);
	assert_int_equal(r.closed_cut, 1);
	assert_int_equal(mime_status(m), MIME_ST_PARSE_ERROR);
	mime_free(m);
}

/* base64 encoding written out here (RFC 4648 4.), for the decoder's input */
static size_t b64_encode(const uint8_t *in, size_t n, char *out)
{
	static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < n)
			v |= in[i + 2];
		out[o++] = al[v >> 18 & 63];
		out[o++] = al[v >> 12 & 63];
		out[o++] = i + 1 < n ? al[v >> 6 & 63] : '=';
		out[o++] = i + 2 < n ? al[v & 63] : '=';
	}
	return o;
}

/* A base64 attachment larger than the decoder's output run (4096 bytes),
 * with lines of 76 characters, of 75 (quanta split over lines), with
 * spaces and a tab inside quanta, fed at once and in pieces: the file's
 * bytes are the original ones in every case. */
static void test_base64_stream(void **state)
{
	(void)state;
	enum { N = 10001 };
	static uint8_t orig[N];
	for (size_t i = 0; i < N; i++)
		orig[i] = (uint8_t)(i * 131 + (i >> 7)); /* every byte value */
	static char enc[N / 3 * 4 + 8], msg[32768], out[65536];
	size_t el = b64_encode(orig, N, enc);
	const size_t widths[] = {76, 75, 13};
	const size_t steps[] = {0, 1, 7, 1400};
	for (size_t w = 0; w < 3; w++) {
		size_t ml =
		    (size_t)snprintf(msg, sizeof(msg),
		                     "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
		                     "Content-Disposition: attachment; filename=x.bin\r\n"
		                     "Content-Transfer-Encoding: base64\r\n\r\n");
		for (size_t i = 0; i < el; i += widths[w]) {
			size_t k = el - i < widths[w] ? el - i : widths[w];
			if (w == 2) {
				/* white space inside the quanta: " ab\tc..." */
				msg[ml++] = ' ';
				memcpy(msg + ml, enc + i, k < 2 ? k : 2);
				ml += k < 2 ? k : 2;
				if (k > 2) {
					msg[ml++] = '\t';
					memcpy(msg + ml, enc + i + 2, k - 2);
					ml += k - 2;
				}
			} else {
				memcpy(msg + ml, enc + i, k);
				ml += k;
			}
			msg[ml++] = '\r';
			msg[ml++] = '\n';
		}
		memcpy(msg + ml, "--b--\r\n", 8);
		for (size_t s = 0; s < 4; s++) {
			struct mrec r;
			run_mime(msg, steps[s], NULL, &r, out, sizeof(out));
			assert_string_equal(r.anomalies, "");
			assert_int_equal(r.nfiles, 1);
			assert_int_equal(r.closed_ok, 1);
			assert_int_equal(r.len, N);
			assert_memory_equal(r.data, orig, N);
		}
	}
}

/* Base64 decoded 32 digits (eight quanta) at a time where the CPU allows:
 * lines of 32 to 4,000 digits, every digit value in every position of a
 * run, and a stray byte ('*', a space, a byte >= 0x80) or a padding '='
 * put at each of the 40 first positions of a long line. Outside the runs
 * every byte goes the per-quantum way, so the file is the same bytes as
 * the original whatever the run path did; the stray bytes are reported
 * once per part (the space is not), and padding ends the file where it
 * stands: the bytes of the digits before it. */
static void test_base64_runs(void **state)
{
	(void)state;
	enum { N = 3000 };
	static uint8_t orig[N];
	for (size_t i = 0; i < N; i++)
		orig[i] = (uint8_t)(i * 97 + (i >> 8) * 5); /* every byte value */
	static char enc[N / 3 * 4 + 8], msg[16384], out[65536];
	size_t el = b64_encode(orig, N, enc);
	const char *head = "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
	                   "Content-Disposition: attachment; filename=x.bin\r\n"
	                   "Content-Transfer-Encoding: base64\r\n\r\n";
	const size_t widths[] = {32, 33, 64, 96, 100, 1000, 4000};
	for (size_t w = 0; w < sizeof(widths) / sizeof(widths[0]); w++) {
		size_t ml = (size_t)snprintf(msg, sizeof(msg), "%s", head);
		for (size_t i = 0; i < el; i += widths[w]) {
			size_t k = el - i < widths[w] ? el - i : widths[w];
			memcpy(msg + ml, enc + i, k);
			ml += k;
			msg[ml++] = '\r';
			msg[ml++] = '\n';
		}
		memcpy(msg + ml, "--b--\r\n", 8);
		for (size_t step = 0; step < 2; step++) {
			struct mrec r;
			run_mime(msg, step ? 1000 : 0, NULL, &r, out, sizeof(out));
			assert_string_equal(r.anomalies, "");
			assert_int_equal(r.len, N);
			assert_memory_equal(r.data, orig, N);
		}
	}
	/* one line of all the digits, a byte put in at position p */
	static const char stray[] = {'*', ' ', (char)0xc3, '='};
	for (size_t t = 0; t < sizeof(stray); t++) {
		for (size_t p = 0; p < 40; p++) {
			size_t ml = (size_t)snprintf(msg, sizeof(msg), "%s", head);
			memcpy(msg + ml, enc, p);
			ml += p;
			msg[ml++] = stray[t];
			memcpy(msg + ml, enc + p, el - p);
			ml += el - p;
			memcpy(msg + ml, "\r\n--b--\r\n", 10);
			msg[ml + 10] = '\0';
			struct mrec r;
			run_mime(msg, 0, NULL, &r, out, sizeof(out));
			if (stray[t] == '=') {
				/* the quanta before it; a quantum cut by the '=' gives
				 * the bytes of its digits (two or three give one or
				 * two), and the digits after it start new quanta */
				size_t before = p / 4 * 3 + (p % 4 >= 2 ? p % 4 - 1 : 0);
				assert_true(r.len >= before);
				assert_memory_equal(r.data, orig, before);
				continue;
			}
			assert_string_equal(r.anomalies,
			                    stray[t] == ' ' ? "" : "MIME_INVALID_BASE64 ");
			assert_int_equal(r.len, N);
			assert_memory_equal(r.data, orig, N);
		}
	}
}

/* what a decoder holds after plain message b: its email object, URLs,
 * kept header fields, body text and first attachment */
static void mime_state(const char *b, char *out, size_t cap)
{
	struct mrec r;
	memset(&r, 0, sizeof(r));
	mime *m = mime_new(&mlim, &mops, &r);
	assert_non_null(m);
	mime_feed(m, (const uint8_t *)b, strlen(b));
	mime_end(m, true);
	om_buf o;
	om_buf_init(&o, 1 << 16);
	om_json j;
	om_json_init(&j, &o);
	om_json_obj_open(&j, NULL);
	mime_write_email(&j, m);
	mime_write_urls(&j, "all", m);
	om_json_obj_close(&j);
	size_t hl = 0, tl = 0, al = 0;
	const char *h = mime_headers(m, &hl), *t = mime_text(m, &tl),
	           *a = mime_attachment(m, 0, &al);
	snprintf(out, cap, "%s|%.*s|%.*s|%.*s|%s|%u|%d", om_buf_cstr(&o), (int)hl, h ? h : "",
	         (int)tl, t ? t : "", (int)al, a ? a : "", r.anomalies, mime_parts(m), r.nfiles);
	om_buf_free(&o);
	mime_free(m);
}

/* A freed decoder is kept for the thread's next message: nothing of a
 * rich message (fields, URLs, an attachment cut in the middle of a base64
 * quantum, a nested multipart, an anomaly) shows in the next one. */
static void test_decoder_reuse(void **state)
{
	(void)state;
	static char before[65536], after[65536];
	const char *plain = "From: a@shop.example\r\nSubject: plain\r\n\r\nhello\r\n";
	mime_state(plain, before, sizeof(before));
	const char *rich =
	    "From: x@evil.example\r\nTo: y@shop.example\r\nSubject: =?utf-8?q?caf=C3=A9?=\r\n"
	    "Message-ID: <1@evil.example>\r\n"
	    "Content-Type: multipart/mixed; boundary=o\r\n\r\n--o\r\n"
	    "Content-Type: multipart/alternative; boundary=i\r\n\r\n--i\r\n"
	    "Content-Type: text/html; charset=iso-8859-1\r\n\r\n"
	    "<a href=\"http://evil.example/x.exe\">caf\xe9</a>\r\n--i--\r\n--o\r\n"
	    "Content-Type: application/octet-stream; name=a.bin\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\nYWJjZGVm*Z2g\r\nYWJ";
	struct mrec r;
	memset(&r, 0, sizeof(r));
	mime *m = mime_new(&mlim, &mops, &r);
	assert_non_null(m);
	mime_feed(m, (const uint8_t *)rich, strlen(rich));
	mime_free(m); /* cut short: the attachment is closed as incomplete */
	assert_int_equal(r.closed_cut, 1);
	assert_non_null(strstr(r.anomalies, "MIME_INVALID_BASE64"));
	mime_state(plain, after, sizeof(after));
	assert_string_equal(after, before);
	assert_null(strstr(after, "evil"));
}

/* the URL flags Suricata writes: a literal IPv4 host, a link to an .exe
 * (before the query), an IPv6 host */
static void test_url_flags(void **state)
{
	(void)state;
	char out[1024];
	struct mrec r;
	run_mime("\r\nget http://192.0.2.7/setup.EXE?x=1 now\r\n", 0, NULL, &r, out, sizeof(out));
	assert_non_null(strstr(out, "\"has_ipv6_url\":false,\"has_ipv4_url\":true,"
	                            "\"has_exe_url\":true,\"url\":[\"192.0.2.7/setup.exe?x=1\"]"));
	run_mime("\r\nhttp://[2001:db8::1]/a.exe.txt http://1.2.3.example/\r\n", 0, NULL, &r, out,
	         sizeof(out));
	/* "]" ends Suricata's tokens */
	assert_non_null(
	    strstr(out, "\"has_ipv6_url\":true,\"has_ipv4_url\":false,"
	                "\"has_exe_url\":false,\"url\":[\"1.2.3.example/\",\"[2001:db8::1\"]"));
	/* no URL: no flags */
	run_mime("\r\nnothing here\r\n", 0, NULL, &r, out, sizeof(out));
	assert_null(strstr(out, "has_exe_url"));
}

/* an embedded message's header does not replace the outer one */
static void test_rfc822(void **state)
{
	(void)state;
	const char *msg = "Subject: outer\r\nContent-Type: multipart/mixed; boundary=o\r\n\r\n"
	                  "--o\r\nContent-Type: message/rfc822\r\n\r\n"
	                  "Subject: inner\r\nContent-Type: multipart/mixed; boundary=i\r\n\r\n"
	                  "--i\r\nContent-Disposition: attachment; filename=in.txt\r\n\r\nIN\r\n"
	                  "--i--\r\n--o--\r\n";
	char out[1024];
	struct mrec r;
	run_mime(msg, 0, NULL, &r, out, sizeof(out));
	assert_non_null(strstr(out, "\"subject\":\"outer\""));
	assert_null(strstr(out, "inner"));
	assert_string_equal(r.names, "[in.txt]");
	assert_memory_equal(r.data, "IN", 2);
}

/* ---- the parsers through the app-layer ---------------------------------------------- */

struct rig {
	om_proto *p;
	om_app_registry *reg;
	om_app_ctx *app;
	om_proto_worker *w;
	om_flow_table *ft;
	om_buf out; /* every record, one JSON object a line */
	om_flow *fl;
	uint16_t sport;
	/* files seen by the subscriber */
	char fnames[1024];
	uint8_t fdata[8192];
	size_t flen;
	int fclosed;
};

static void sink_event(void *user, om_flow *f, const om_proto_event *ev)
{
	(void)f;
	struct rig *r = user;
	om_json j;
	om_json_init(&j, &r->out);
	om_json_obj_open(&j, NULL);
	om_json_str(&j, "event_type", ev->event_type);
	om_json_str(&j, "dir", ev->dir == OM_DIR_TOSERVER ? "ts" : "tc");
	if (ev->body)
		ev->body(&j, ev->arg);
	om_json_obj_close(&j);
	om_buf_putc(&r->out, '\n');
}

static void *sub_open(const om_file *file, void *user)
{
	struct rig *r = user;
	const om_file_info *in = om_file_get_info(file);
	size_t l = strlen(r->fnames);
	snprintf(r->fnames + l, sizeof(r->fnames) - l, "[%.*s]", (int)in->name_len,
	         (const char *)in->name);
	return r;
}

static int sub_chunk(void *st, const om_file *file, const uint8_t *d, size_t n)
{
	(void)file;
	struct rig *r = st;
	if (r->flen + n <= sizeof(r->fdata)) {
		memcpy(r->fdata + r->flen, d, n);
		r->flen += n;
	}
	return 0;
}

static enum om_file_verdict sub_close(void *st, const om_file *file, om_file_ticket t)
{
	(void)file;
	(void)t;
	struct rig *r = st;
	r->fclosed++;
	return OM_FILE_ACCEPT;
}

static void sub_free(void *st, void *user)
{
	(void)st;
	(void)user;
}

static void rig_flow_end(void *user, om_flow *f, enum om_flow_end why)
{
	struct rig *r = user;
	om_app_flow_end(r->app, f, why);
}

/* the flow: a real entry of a flow table (files take its handle), made by
 * the client's SYN; no stream: the test gives the bytes to the app-layer */
static om_flow *rig_flow(struct rig *r)
{
	if (r->fl)
		return r->fl;
	om_packet p;
	memset(&p, 0, sizeof(p));
	p.ts = 1700000000ull * 1000000;
	p.ip_ver = 4;
	p.proto = IPPROTO_TCP;
	p.flags = OM_PKT_IPV4 | OM_PKT_TCP | OM_PKT_HAS_PORTS;
	const uint8_t a[4] = {192, 0, 2, 1}, b[4] = {192, 0, 2, 2};
	om_addr_from_v4(&p.src, a);
	om_addr_from_v4(&p.dst, b);
	p.sport = 40000;
	p.dport = r->sport ? r->sport : 25;
	p.tcp_flags = 0x02;
	p.tcp_seq = 1000;
	p.caplen = p.wirelen = 54;
	int dir;
	r->fl = om_flow_get(r->ft, &p, &dir);
	assert_non_null(r->fl);
	return r->fl;
}

static void rig_open(struct rig *r, uint32_t max_line)
{
	memset(r, 0, sizeof(*r));
	om_proto_config cfg;
	om_config_part parts[OM_PROTO_CONFIG_PARTS];
	om_proto_config_parts(&cfg, parts);
	om_config_defaults(parts, OM_PROTO_CONFIG_PARTS);
	cfg.files.magic = false;
	if (max_line)
		cfg.mail.max_line = max_line;
	char err[256];
	assert_int_equal(om_proto_new(&cfg, &r->p, err, sizeof(err)), 0);
	om_file_subscriber s = {"test", sub_open, sub_chunk, sub_close, sub_free, r, NULL, false};
	assert_int_equal(om_proto_add_file_subscriber(r->p, &s), 0);
	r->reg = om_app_registry_new();
	assert_non_null(r->reg);
	assert_int_equal(om_proto_register(r->p, r->reg), 0);
	om_app_registry_seal(r->reg);
	r->app = om_app_new(r->reg, NULL);
	assert_non_null(r->app);
	om_proto_sink sink = {sink_event, r};
	r->w = om_proto_worker_new(r->p, 0, &sink);
	assert_non_null(r->w);
	om_app_set_worker_user(r->app, r->w);
	om_buf_init(&r->out, 1 << 20);
	om_flow_config fc = {.max_flows = 4,
	                     .timeout_new = 30,
	                     .timeout_est = 300,
	                     .timeout_closed = 10,
	                     .timeout_udp = 60,
	                     .timeout_icmp = 20,
	                     .on_end = rig_flow_end,
	                     .user = r};
	r->ft = om_flow_table_new(&fc);
	assert_non_null(r->ft);
	om_app_set_flow_table(r->app, r->ft);
}

static void rig_close(struct rig *r)
{
	om_flow_table_flush(r->ft, OM_FLOW_END_SHUTDOWN);
	om_flow_table_free(r->ft);
	om_app_free(r->app);
	om_proto_worker_free(r->w);
	om_app_registry_free(r->reg);
	om_proto_free(r->p);
}

/* one direction's bytes, in segments of step bytes (0: at once) */
static void say(struct rig *r, int dir, const char *s, size_t step)
{
	size_t n = strlen(s);
	if (!step)
		step = n;
	for (size_t i = 0; i < n; i += step)
		om_app_tcp_data(r->app, rig_flow(r), dir, (const uint8_t *)s + i,
		                (uint32_t)(i + step <= n ? step : n - i), 0);
}
#define TS OM_DIR_TOSERVER
#define TC OM_DIR_TOCLIENT

static size_t count(const char *s, const char *needle)
{
	size_t n = 0;
	for (const char *p = s; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

/* a pipelined session: everything the client sends before the 354 in one
 * go (RFC 2920), a dot-stuffed line in a 7bit attachment, a second message
 * after the first, QUIT; in segments of every size from 1 to 7 bytes and
 * whole: always the same records */
static void test_smtp_pipelined(void **state)
{
	(void)state;
	for (size_t step = 0; step <= 7; step++) {
		struct rig r;
		rig_open(&r, 0);
		say(&r, TC, "220 mx.example.jp ESMTP\r\n", step);
		say(&r, TS, "EHLO c.example.com\r\n", step);
		say(&r, TC, "250-mx.example.jp\r\n250-PIPELINING\r\n250 CHUNKING\r\n", step);
		say(&r, TS,
		    "MAIL FROM:<s@example.com> SIZE=100\r\nRCPT TO:<a@example.jp>\r\n"
		    "RCPT TO:<b@example.jp>\r\nDATA\r\n",
		    step);
		say(&r, TC, "250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n", step);
		say(&r, TS,
		    "From: s@example.com\r\nSubject: one\r\n"
		    "Content-Type: multipart/mixed; boundary=q\r\n\r\n"
		    "--q\r\nContent-Disposition: attachment; filename=dots.txt\r\n\r\n"
		    "..hidden\r\n...\r\nend\r\n--q--\r\n.\r\n",
		    step);
		say(&r, TC, "250 queued\r\n", step);
		say(&r, TS, "MAIL FROM:<t@example.com>\r\nRCPT TO:<c@example.jp>\r\nDATA\r\n",
		    step);
		say(&r, TC, "250 ok\r\n250 ok\r\n354 go\r\n", step);
		say(&r, TS, "Subject: two\r\n\r\nhi\r\n.\r\nQUIT\r\n", step);
		say(&r, TC, "250 queued\r\n221 bye\r\n", step);
		rig_close(&r);
		const char *o = om_buf_cstr(&r.out);
		/* the path up to the space before SIZE=, brackets kept */
		assert_non_null(strstr(o, "\"event_type\":\"smtp\",\"dir\":\"ts\",\"tx_id\":0,"
		                          "\"smtp\":{\"helo\":\"c.example.com\","
		                          "\"mail_from\":\"<s@example.com>\","
		                          "\"rcpt_to\":[\"<a@example.jp>\",\"<b@example.jp>\"]},"
		                          "\"email\":{\"status\":\"PARSE_DONE\","
		                          "\"from\":\"s@example.com\",\"subject\":\"one\","
		                          "\"attachment\":[\"dots.txt\"]}}"));
		assert_non_null(
		    strstr(o, "\"tx_id\":1,\"smtp\":{\"helo\":\"c.example.com\","
		              "\"mail_from\":\"<t@example.com>\","
		              "\"rcpt_to\":[\"<c@example.jp>\"]},"
		              "\"email\":{\"status\":\"PARSE_DONE\",\"subject\":\"two\"}"));
		/* QUIT: a third transaction with the helo only */
		assert_non_null(strstr(o, "\"tx_id\":2,\"smtp\":{\"helo\":\"c.example.com\"}}"));
		assert_int_equal(count(o, "\"event_type\":\"smtp\""), 3);
		assert_int_equal(count(o, "\"event_type\":\"anomaly\""), 0);
		/* "..hidden" and "..." unstuffed to ".hidden" and ".." */
		assert_string_equal(r.fnames, "[dots.txt]");
		assert_int_equal(r.flen, 16);
		assert_memory_equal(r.fdata, ".hidden\r\n..\r\nend", 16);
		assert_int_equal(r.fclosed, 1);
		assert_int_equal(count(o, "\"event_type\":\"fileinfo\""), 1);
		om_buf_free(&r.out);
	}
}

/* STARTTLS accepted: both directions are bypassed, what follows (TLS) is
 * never parsed; refused: an anomaly, and the session goes on in clear */
static void test_smtp_starttls(void **state)
{
	(void)state;
	struct rig r;
	rig_open(&r, 0);
	say(&r, TC, "220 mx ESMTP\r\n", 0);
	say(&r, TS, "EHLO c\r\nSTARTTLS\r\n", 0);
	say(&r, TC, "250 STARTTLS\r\n220 go ahead\r\n", 0);
	say(&r, TS, "\x16\x03\x01\x02\x00MAIL FROM:<x@y>\r\n", 0);
	say(&r, TC, "\x16\x03\x03junk\r\n", 0);
	rig_close(&r);
	const char *o = om_buf_cstr(&r.out);
	assert_non_null(strstr(o, "\"smtp\":{\"helo\":\"c\"},\"omamori\":{\"starttls\":true}"));
	assert_null(strstr(o, "x@y"));
	assert_int_equal(count(o, "\"event_type\":\"anomaly\""), 0);
	om_buf_free(&r.out);

	rig_open(&r, 0);
	say(&r, TC, "220 mx ESMTP\r\n", 0);
	say(&r, TS, "EHLO c\r\nSTARTTLS\r\n", 0);
	say(&r, TC, "250 ok\r\n454 TLS not available\r\n", 0);
	say(&r, TS, "MAIL FROM:<x@y>\r\nQUIT\r\n", 0);
	rig_close(&r);
	o = om_buf_cstr(&r.out);
	assert_non_null(strstr(o, "\"event\":\"TLS_REJECTED\""));
	assert_non_null(strstr(o, "\"mail_from\":\"<x@y>\""));
	om_buf_free(&r.out);
}

/* BDAT: counted bytes, no dot-stuffing: a "\r\n.\r\n" inside a chunk is
 * data; the LAST chunk ends the message; AUTH PLAIN's credentials appear
 * nowhere */
static void test_smtp_bdat_auth(void **state)
{
	(void)state;
	struct rig r;
	rig_open(&r, 0);
	say(&r, TC, "220 mx ESMTP\r\n", 0);
	say(&r, TS, "EHLO c\r\nAUTH PLAIN\r\n", 0);
	say(&r, TC, "250 AUTH PLAIN\r\n334 \r\n", 0);
	say(&r, TS, "AHVzZXIAc2VjcmV0cGFzcw==\r\n", 0); /* \0user\0secretpass */
	say(&r, TC, "235 ok\r\n", 0);
	say(&r, TS, "MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\n", 0);
	/* chunk 1: 38 bytes (header 27 + 2 CRLF + "x\r\n.\r\ny" 7) */
	const char *c1 = "Content-Disposition: inline\r\n\r\nx\r\n.\r\ny";
	assert_int_equal(strlen(c1), 38);
	say(&r, TS, "BDAT 38\r\n", 1);
	say(&r, TS, c1, 5);
	say(&r, TS, "BDAT 3 LAST\r\nz\r\n", 2);
	say(&r, TS, "QUIT\r\n", 0);
	say(&r, TC, "250 ok\r\n250 ok\r\n250 ok\r\n250 ok\r\n221 bye\r\n", 0);
	rig_close(&r);
	const char *o = om_buf_cstr(&r.out);
	assert_null(strstr(o, "AHVzZXIAc2VjcmV0cGFzcw"));
	assert_null(strstr(o, "secretpass"));
	assert_non_null(strstr(o, "\"omamori\":{\"auth\":\"PLAIN\"}"));
	assert_non_null(strstr(o, "\"mail_from\":\"<a@b>\""));
	assert_non_null(strstr(o, "\"status\":\"PARSE_DONE\""));
	/* a nameless inline part is a file but not in the attachment list */
	assert_null(strstr(o, "\"attachment\""));
	/* the inline part: "x\r\n.\r\ny" + "z" (the last line break before
	 * the end is the body's: 7bit keeps it) = 7 + 1 bytes... then "\r\n"
	 * of "z\r\n" stays pending and the message ends: 8 */
	assert_int_equal(r.flen, 8);
	assert_memory_equal(r.fdata, "x\r\n.\r\nyz", 8);
	assert_int_equal(count(o, "\"event_type\":\"anomaly\""), 0);
	om_buf_free(&r.out);
}

/* a rejected DATA (no valid recipients) leaves data mode; an overlong
 * command is an anomaly and the next line is read again */
static void test_smtp_errors(void **state)
{
	(void)state;
	struct rig r;
	rig_open(&r, 128);
	say(&r, TC, "220 mx ESMTP\r\n", 0);
	say(&r, TS, "EHLO c\r\nMAIL FROM:<a@b>\r\nRCPT TO:<bad@d>\r\nDATA\r\n", 0);
	say(&r, TC, "250 ok\r\n250 ok\r\n550 no such user\r\n554 no valid recipients\r\n", 0);
	char longcmd[300];
	memset(longcmd, 'A', sizeof(longcmd));
	memcpy(longcmd, "NOOP ", 5);
	memcpy(longcmd + sizeof(longcmd) - 3, "\r\n", 3);
	say(&r, TS, longcmd, 0);
	say(&r, TS, "RSET\r\nMAIL FROM:<e@f>\r\nQUIT\r\n", 0);
	rig_close(&r);
	const char *o = om_buf_cstr(&r.out);
	assert_non_null(strstr(o, "\"event\":\"DATA_COMMAND_REJECTED\""));
	assert_non_null(strstr(o, "\"event\":\"MAX_COMMAND_LINE_LEN_EXCEEDED\""));
	/* RSET ended the first transaction (no message), the second has e@f */
	assert_non_null(strstr(o, "\"tx_id\":0,\"smtp\":{\"helo\":\"c\",\"mail_from\":\"<a@b>\""));
	assert_non_null(strstr(o, "\"tx_id\":1,\"smtp\":{\"helo\":\"c\",\"mail_from\":\"<e@f>\"}"));
	om_buf_free(&r.out);
}

/* what an observer (the rule engine, a guard) is shown of a transaction */
static char seen_tx[2048];

static void seen_buf(const om_proto_tx *tx, enum om_tx_buf b, uint32_t idx)
{
	uint32_t n;
	const uint8_t *v = om_tx_get(tx, b, idx, &n);
	size_t l = strlen(seen_tx);
	snprintf(seen_tx + l, sizeof(seen_tx) - l, "%s[%u]=%.*s;", om_tx_buf_name(b), idx,
	         v ? (int)n : 4, v ? (const char *)v : "NULL");
}

static enum om_tx_verdict obs_tx(void *wctx, om_flow *f, const om_proto_tx *tx)
{
	(void)wctx;
	(void)f;
	size_t l = strlen(seen_tx);
	snprintf(seen_tx + l, sizeof(seen_tx) - l, "%s/%llu:", tx->app_proto,
	         (unsigned long long)tx->tx_id);
	seen_buf(tx, OM_TXB_SMTP_HELO, 0);
	seen_buf(tx, OM_TXB_SMTP_MAIL_FROM, 0);
	seen_buf(tx, OM_TXB_SMTP_RCPT_TO, 0);
	seen_buf(tx, OM_TXB_SMTP_RCPT_TO, 1);
	seen_buf(tx, OM_TXB_EMAIL_SUBJECT, 0);
	seen_buf(tx, OM_TXB_EMAIL_URL, 0);
	seen_buf(tx, OM_TXB_EMAIL_URL, 1);
	seen_buf(tx, OM_TXB_HTTP_URI, 0);
	l = strlen(seen_tx);
	snprintf(seen_tx + l, sizeof(seen_tx) - l, "\n");
	/* a rule that matched: the flow is marked */
	uint32_t n;
	const uint8_t *u = om_tx_get(tx, OM_TXB_EMAIL_URL, 0, &n);
	return u && n >= 4 && !memcmp(u, "http", 4) ? OM_TX_VERDICT_ALERT : OM_TX_VERDICT_ACCEPT;
}

/* transactions: each SMTP one (and each message POP3 carries) is shown to
 * the observers with its buffers, the decoded subject and every URL */
static void test_transactions(void **state)
{
	(void)state;
	seen_tx[0] = '\0';
	struct rig r;
	rig_open(&r, 0);
	om_proto_observer o = {"test", NULL, NULL, obs_tx, NULL, false};
	assert_int_equal(om_proto_add_observer(r.p, &o), 0);
	say(&r, TC, "220 mx ESMTP\r\n", 0);
	say(&r, TS, "EHLO c\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nRCPT TO:<e@f>\r\nDATA\r\n", 0);
	say(&r, TC, "250 ok\r\n250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n", 0);
	say(&r, TS,
	    "Subject: =?utf-8?q?caf=C3=A9?=\r\n\r\nhttps://x.example/p HTTP://Y.example/Q\r\n"
	    ".\r\nQUIT\r\n",
	    0);
	say(&r, TC, "250 ok\r\n221 bye\r\n", 0);
	assert_true(rig_flow(&r)->flags & OM_FLOW_F_ALERTED);
	rig_close(&r);
	om_buf_free(&r.out);
	assert_string_equal(seen_tx, "smtp/0:smtp.helo[0]=c;smtp.mail_from[0]=<a@b>;"
	                             "smtp.rcpt_to[0]=<c@d>;smtp.rcpt_to[1]=<e@f>;"
	                             "email.subject[0]=café;email.url[0]=https://x.example/p;"
	                             "email.url[1]=HTTP://Y.example/Q;http.uri[0]=NULL;\n"
	                             "smtp/1:smtp.helo[0]=c;smtp.mail_from[0]=NULL;"
	                             "smtp.rcpt_to[0]=NULL;smtp.rcpt_to[1]=NULL;"
	                             "email.subject[0]=NULL;email.url[0]=NULL;email.url[1]=NULL;"
	                             "http.uri[0]=NULL;\n");
}

/* a hole in DATA: the message is cut (its file truncated, status
 * PARSE_ERROR), the rest of it up to CRLF.CRLF is skipped, the next
 * transaction is read; a server that sends only garbage costs at most 32
 * anomaly records */
static void test_smtp_gap(void **state)
{
	(void)state;
	struct rig r;
	rig_open(&r, 0);
	say(&r, TC, "220 mx ESMTP\r\n", 0);
	say(&r, TS, "EHLO c\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n", 0);
	say(&r, TC, "250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n", 0);
	say(&r, TS, "Subject: cut\r\nContent-Disposition: attachment; filename=f\r\n\r\nab", 0);
	om_app_tcp_gap(r.app, rig_flow(&r), TS, 100);
	say(&r, TS, "RCPT TO:<not a command>\r\nmore\r\n.\r\n", 0);
	say(&r, TS, "MAIL FROM:<e@f>\r\nQUIT\r\n", 0);
	for (int i = 0; i < 100; i++)
		say(&r, TC, "garbage\r\n", 0);
	rig_close(&r);
	const char *o = om_buf_cstr(&r.out);
	if (getenv("MAIL_TEST_DUMP"))
		fprintf(stderr, "%s", o);
	assert_non_null(strstr(o, "\"event\":\"TRUNCATED_LINE\""));
	assert_non_null(strstr(o, "\"state\":\"TRUNCATED\""));
	assert_non_null(strstr(o, "\"mail_from\":\"<a@b>\",\"rcpt_to\":[\"<c@d>\"]},"
	                          "\"email\":{\"status\":\"PARSE_ERROR\",\"subject\":\"cut\""));
	/* the skipped part gave no recipient; the next transaction is read */
	assert_null(strstr(o, "not a command"));
	assert_non_null(strstr(o, "\"tx_id\":1,\"smtp\":{\"helo\":\"c\",\"mail_from\":\"<e@f>\"}"));
	assert_int_equal(count(o, "\"event_type\":\"anomaly\""), 32);
	assert_int_equal(r.flen, 2);
	om_buf_free(&r.out);
}

/* POP3: RETR with dot-stuffing, a -ERR, the password never written, the
 * flow ending inside a message (its file truncated) */
static void test_pop3(void **state)
{
	(void)state;
	for (size_t step = 0; step <= 3; step++) {
		struct rig r;
		rig_open(&r, 0);
		r.sport = 110;
		say(&r, TC, "+OK ready\r\n", step);
		say(&r, TS, "USER bob\r\nPASS hunter2\r\nRETR 9\r\nRETR 1\r\n", step);
		say(&r, TC,
		    "+OK\r\n+OK logged in\r\n-ERR no such message\r\n+OK 99 octets\r\n"
		    "Subject: =?utf-8?q?r=C3=A9sum=C3=A9?=\r\n"
		    "Content-Disposition: attachment; filename=\"cv.txt\"\r\n\r\n"
		    "..line\r\n.\r\n",
		    step);
		say(&r, TS, "RETR 2\r\n", step);
		say(&r, TC,
		    "+OK\r\nContent-Type: multipart/mixed; boundary=z\r\n\r\n--z\r\n"
		    "Content-Disposition: attachment; filename=cut.bin\r\n\r\npart",
		    step);
		rig_close(&r);
		const char *o = om_buf_cstr(&r.out);
		assert_null(strstr(o, "hunter2"));
		assert_non_null(strstr(o, "\"pop3\":{\"command\":\"USER\",\"status\":\"+OK\","
		                          "\"user\":\"bob\"}"));
		assert_non_null(strstr(o, "\"pop3\":{\"command\":\"RETR\",\"args\":\"9\","
		                          "\"status\":\"-ERR\",\"reply\":\"no such message\""));
		assert_non_null(strstr(o,
		                       "\"dir\":\"tc\",\"tx_id\":3,\"pop3\":{\"command\":\"RETR\","
		                       "\"args\":\"1\",\"status\":\"+OK\""));
		assert_non_null(strstr(o, "\"subject\":\"résumé\""));
		assert_non_null(strstr(o, "\"status\":\"PARSE_ERROR\""));
		assert_string_equal(r.fnames, "[cv.txt][cut.bin]");
		/* ".line" then "part" */
		assert_int_equal(r.flen, 9);
		assert_memory_equal(r.fdata, ".linepart", 9);
		assert_non_null(strstr(o, "\"state\":\"TRUNCATED\""));
		om_buf_free(&r.out);
	}
}

/* IMAP: a FETCH literal of counted bytes that holds lines looking like
 * tagged replies (they are data), split across segments; APPEND with the
 * message as a literal; LOGIN's password never written */
static void test_imap(void **state)
{
	(void)state;
	const char *msg = "Subject: lit\r\n"
	                  "Content-Disposition: attachment; filename=\"a1.txt\"\r\n\r\n"
	                  "a1 OK not a reply\r\n* 2 FETCH (BODY[] {5}\r\n";
	char lit[512];
	snprintf(lit, sizeof(lit), "* 1 FETCH (UID 7 BODY[] {%zu}\r\n%s)\r\n", strlen(msg), msg);
	for (size_t step = 0; step <= 4; step++) {
		struct rig r;
		rig_open(&r, 0);
		r.sport = 143;
		say(&r, TC, "* OK [CAPABILITY IMAP4rev1] ready\r\n", step);
		say(&r, TS, "a1 LOGIN \"joe\" \"s3cret\"\r\n", step);
		say(&r, TC, "a1 OK logged in\r\n", step);
		say(&r, TS, "a2 UID FETCH 7 (BODY.PEEK[])\r\n", step);
		say(&r, TC, lit, step);
		say(&r, TC, "a2 OK done\r\n", step);
		say(&r, TS, "a3 APPEND INBOX (\\Seen) {18}\r\n", step);
		say(&r, TC, "+ go\r\n", step);
		say(&r, TS, "Subject: up\r\n\r\nx\r\n\r\n", step);
		say(&r, TC, "a3 OK appended\r\n", step);
		rig_close(&r);
		const char *o = om_buf_cstr(&r.out);
		if (getenv("MAIL_TEST_DUMP"))
			fprintf(stderr, "%s", o);
		assert_null(strstr(o, "s3cret"));
		assert_non_null(
		    strstr(o, "\"imap\":{\"tag\":\"a1\",\"command\":\"LOGIN\","
		              "\"status\":\"OK\",\"reply\":\"logged in\",\"user\":\"joe\"}"));
		/* the message record (server to client) with the command it answers */
		assert_non_null(strstr(o, "\"dir\":\"tc\",\"tx_id\":1,\"imap\":{\"tag\":\"a2\","
		                          "\"command\":\"UID FETCH\",\"args\":\"7 (BODY.PEEK[])\","
		                          "\"user\":\"joe\"},\"email\":{\"status\":\"PARSE_DONE\","
		                          "\"subject\":\"lit\",\"attachment\":[\"a1.txt\"]}"));
		assert_non_null(strstr(o, "\"tag\":\"a2\",\"command\":\"UID FETCH\","
		                          "\"args\":\"7 (BODY.PEEK[])\",\"status\":\"OK\""));
		assert_int_equal(count(o, "UNABLE_TO_MATCH"), 0);
		/* the file: "a1 OK not a reply" (17) CRLF "* 2 FETCH (BODY[] {5}" (21) */
		assert_int_equal(r.flen, 40);
		assert_non_null(strstr(o, "\"dir\":\"ts\",\"tx_id\":3,\"imap\":{\"tag\":\"a3\","
		                          "\"command\":\"APPEND\",\"args\":\"INBOX (\\\\Seen)\""));
		assert_non_null(strstr(o, "\"subject\":\"up\""));
		assert_non_null(strstr(o, "\"tag\":\"a3\",\"command\":\"APPEND\","
		                          "\"args\":\"INBOX (\\\\Seen)\",\"status\":\"OK\""));
		assert_int_equal(count(o, "\"event_type\":\"anomaly\""), 0);
		om_buf_free(&r.out);
	}
}

/* LOGIN with literals: neither the name's nor the password's bytes are
 * taken for commands, and neither is written */
static void test_imap_login_literal(void **state)
{
	(void)state;
	struct rig r;
	rig_open(&r, 0);
	r.sport = 143;
	say(&r, TC, "* OK IMAP4rev1 ready\r\n", 0);
	say(&r, TS, "b1 LOGIN {4}\r\n", 0);
	say(&r, TC, "+ go\r\n", 0);
	say(&r, TS, "zoe1 {10}\r\n", 0);
	say(&r, TC, "+ go\r\n", 0);
	say(&r, TS, "b2 NOOP xx\r\nb3 LOGOUT\r\n", 0);
	say(&r, TC, "b1 OK in\r\nb2 OK\r\nb3 OK bye\r\n", 0);
	rig_close(&r);
	const char *o = om_buf_cstr(&r.out);
	/* "b2 NOOP xx\r\n" is the 10-byte password literal: no command */
	assert_null(strstr(o, "NOOP"));
	assert_null(strstr(o, "zoe1"));
	assert_non_null(strstr(o, "\"tag\":\"b1\",\"command\":\"LOGIN\",\"status\":\"OK\""));
	assert_non_null(strstr(o, "\"tag\":\"b3\",\"command\":\"LOGOUT\",\"status\":\"OK\""));
	/* b2's reply matches no command: the one anomaly */
	assert_int_equal(count(o, "UNABLE_TO_MATCH_REPLY_WITH_REQUEST"), 1);
	om_buf_free(&r.out);
}

/* detection is by content: SMTP on port 2600, POP3 on 2601; an FTP banner
 * (220 without SMTP) is not taken by SMTP until the client's EHLO */
static void test_probes(void **state)
{
	(void)state;
	struct rig r;
	rig_open(&r, 0);
	r.sport = 2600;
	say(&r, TC, "220 vsFTPd ready\r\n", 0);
	say(&r, TS, "USER anonymous\r\n", 0);
	rig_close(&r);
	assert_null(strstr(om_buf_cstr(&r.out), "\"event_type\":\"smtp\""));
	/* nor POP3: FTP's USER is no sign of it */
	assert_null(strstr(om_buf_cstr(&r.out), "\"event_type\":\"pop3\""));
	om_buf_free(&r.out);
	rig_open(&r, 0);
	r.sport = 2600;
	say(&r, TC, "220 relay ready\r\n", 0);
	say(&r, TS, "HELO me\r\nQUIT\r\n", 0);
	rig_close(&r);
	assert_non_null(strstr(om_buf_cstr(&r.out), "\"smtp\":{\"helo\":\"me\"}"));
	om_buf_free(&r.out);
	rig_open(&r, 0);
	r.sport = 2601;
	say(&r, TC, "+OK POP3 ready\r\n", 0);
	say(&r, TS, "QUIT\r\n", 0);
	say(&r, TC, "+OK bye\r\n", 0);
	rig_close(&r);
	assert_non_null(strstr(om_buf_cstr(&r.out), "\"pop3\":{\"command\":\"QUIT\""));
	om_buf_free(&r.out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_encoded_words),
	    cmocka_unit_test(test_multipart),
	    cmocka_unit_test(test_boundary_crlf),
	    cmocka_unit_test(test_japanese_bodies),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_base64_stream),
	    cmocka_unit_test(test_base64_runs),
	    cmocka_unit_test(test_decoder_reuse),
	    cmocka_unit_test(test_rfc822),
	    cmocka_unit_test(test_url_flags),
	    cmocka_unit_test(test_smtp_pipelined),
	    cmocka_unit_test(test_smtp_starttls),
	    cmocka_unit_test(test_smtp_bdat_auth),
	    cmocka_unit_test(test_smtp_errors),
	    cmocka_unit_test(test_smtp_gap),
	    cmocka_unit_test(test_transactions),
	    cmocka_unit_test(test_pop3),
	    cmocka_unit_test(test_imap),
	    cmocka_unit_test(test_imap_login_literal),
	    cmocka_unit_test(test_probes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
