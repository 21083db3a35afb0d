/* Unit tests for drill rounds and tracking: tokens and tracking paths
 * (what is refused), the scanner rules (user agent, ranges, a click
 * within seconds, several links at once), mails read back (forwarded
 * inline, attached in base64, quoted-printable, bounces), the business
 * window in the company's zone (times worked out by hand in UTC), the
 * retry waits, the merging of small departments, and a round through
 * the store to its results. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../store/backend.h"
#include "drill/drill.h"

#define TOK "0123456789abcdef0123456789abcdef"
#define TOK2 "fedcba9876543210fedcba9876543210"
#define SEC 1000000LL

static void test_tokens(void **st)
{
	(void)st;
	char a[OM_DRILL_TOKEN_LEN + 1], b[OM_DRILL_TOKEN_LEN + 1];
	assert_int_equal(om_drill_token_new(a), 0);
	assert_int_equal(om_drill_token_new(b), 0);
	assert_int_equal(strlen(a), 32);
	assert_true(om_drill_token_valid(a, strlen(a)));
	assert_string_not_equal(a, b);
	assert_false(om_drill_token_valid("0123456789ABCDEF0123456789abcdef", 32));
	assert_false(om_drill_token_valid(TOK, 31));
}

static void test_track_parse(void **st)
{
	(void)st;
	enum om_drill_kind k;
	char t[OM_DRILL_TOKEN_LEN + 1];
	static const struct {
		const char *path;
		int ok;
		enum om_drill_kind kind;
	} cases[] = {
	    {"/t/o/" TOK ".gif", 1, OM_DRILL_EV_OPEN},
	    {"/t/a/" TOK ".gif", 1, OM_DRILL_EV_ATTACH},
	    {"/t/c/" TOK, 1, OM_DRILL_EV_CLICK},
	    {"/t/c/" TOK "?utm=x", 1, OM_DRILL_EV_CLICK},
	    {"/t/s/" TOK, 1, OM_DRILL_EV_SUBMIT},
	    {"/t/r/" TOK, 1, OM_DRILL_EV_REPORT},
	    {"/t/l/" TOK, 1, OM_DRILL_EV_LANDING},
	    {"/t/c/" TOK ".gif", 0, 0}, /* .gif only on the images */
	    {"/t/o/" TOK, 0, 0},        /* the image needs its name */
	    {"/t/x/" TOK, 0, 0},        /* no such kind */
	    {"/t/c/" TOK "0", 0, 0},    /* too long */
	    {"/t/c/0123456789abcdef", 0, 0},
	    {"/t/c/0123456789ABCDEF0123456789ABCDEF", 0, 0},
	    {"/t/c/" TOK "/", 0, 0},
	    {"/x/c/" TOK, 0, 0},
	    {"/t//" TOK, 0, 0},
	    {"", 0, 0},
	    {"/t/", 0, 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r = om_drill_track_parse(cases[i].path, strlen(cases[i].path), &k, t);
		if (cases[i].ok) {
			assert_int_equal(r, 0);
			assert_int_equal(k, cases[i].kind);
			assert_string_equal(t, TOK);
		} else {
			assert_int_equal(r, -EINVAL);
		}
	}
	om_buf b;
	om_buf_init(&b, 1024);
	assert_int_equal(om_drill_track_url("https://d.example.jp/", OM_DRILL_EV_OPEN, TOK, &b), 0);
	assert_string_equal(om_buf_cstr(&b), "https://d.example.jp/t/o/" TOK ".gif");
	/* what the URL builder makes, the parser takes */
	for (int kk = 0; kk <= OM_DRILL_EV_LANDING; kk++) {
		om_buf_reset(&b);
		assert_int_equal(om_drill_track_url("", (enum om_drill_kind)kk, TOK, &b), 0);
		assert_int_equal(om_drill_track_parse(b.data, b.len, &k, t), 0);
		assert_int_equal(k, kk);
	}
	om_buf_free(&b);
}

#define CHROME                                                                                     \
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "        \
	"Chrome/120.0.0.0 Safari/537.36"

static void test_scan_request(void **st)
{
	(void)st;
	om_drill_scan_cfg c;
	om_drill_scan_defaults(&c);
	assert_int_equal(om_drill_scan_net_add(&c, "192.0.2.0/24"), 0);
	assert_int_equal(om_drill_scan_net_add(&c, "198.51.100.128/25"), 0);
	assert_int_equal(om_drill_scan_net_add(&c, "2001:db8::/32"), 0);
	assert_int_equal(om_drill_scan_net_add(&c, "203.0.113.9"), 0);
	assert_int_equal(om_drill_scan_net_add(&c, "192.0.2.0/33"), -EINVAL);
	assert_int_equal(om_drill_scan_net_add(&c, "not-an-address/8"), -EINVAL);
	assert_int_equal(om_drill_scan_net_add(&c, "/8"), -EINVAL);

	assert_int_equal(om_drill_scan_request(&c, "10.0.0.5", CHROME), 0);
	assert_int_equal(om_drill_scan_request(&c, "10.0.0.5", "curl/7.88.1"), OM_DRILL_SCAN_UA);
	assert_int_equal(om_drill_scan_request(&c, "10.0.0.5", ""), OM_DRILL_SCAN_UA);
	assert_int_equal(om_drill_scan_request(&c, "10.0.0.5", NULL), OM_DRILL_SCAN_UA);
	assert_int_equal(
	    om_drill_scan_request(&c, "10.0.0.5", "Mozilla/5.0 (X11) HeadlessChrome/120.0 Safari"),
	    OM_DRILL_SCAN_UA);
	assert_int_equal(
	    om_drill_scan_request(&c, "10.0.0.5", "Mozilla/5.0 (compatible; bingbot/2.0)"),
	    OM_DRILL_SCAN_UA);
	assert_int_equal(om_drill_scan_request(&c, "192.0.2.77", CHROME), OM_DRILL_SCAN_RANGE);
	assert_int_equal(om_drill_scan_request(&c, "192.0.3.1", CHROME), 0);
	assert_int_equal(om_drill_scan_request(&c, "198.51.100.200", CHROME), OM_DRILL_SCAN_RANGE);
	assert_int_equal(om_drill_scan_request(&c, "198.51.100.127", CHROME), 0);
	assert_int_equal(om_drill_scan_request(&c, "203.0.113.9", CHROME), OM_DRILL_SCAN_RANGE);
	assert_int_equal(om_drill_scan_request(&c, "203.0.113.10", CHROME), 0);
	assert_int_equal(om_drill_scan_request(&c, "2001:db8:1::5", CHROME), OM_DRILL_SCAN_RANGE);
	assert_int_equal(om_drill_scan_request(&c, "2001:db9::5", CHROME), 0);
	/* an IPv4-mapped address is judged as IPv4 */
	assert_int_equal(om_drill_scan_request(&c, "::ffff:192.0.2.5", CHROME),
	                 OM_DRILL_SCAN_RANGE);
	assert_int_equal(om_drill_scan_request(&c, "192.0.2.5", "python-requests/2.31"),
	                 OM_DRILL_SCAN_RANGE | OM_DRILL_SCAN_UA);
	assert_int_equal(om_drill_scan_request(&c, "garbage", CHROME), 0);
}

static void test_scan_timing(void **st)
{
	(void)st;
	om_drill_scan_cfg c;
	om_drill_scan_defaults(&c);
	int64_t sent = 1000 * SEC;
	/* a click 3 s after delivery: a scanner; the open image 1 s after: not
	 * judged by time; a click a minute later: a person */
	om_drill_ev a[] = {
	    {.kind = OM_DRILL_EV_OPEN, .at = sent + 1 * SEC, .web = true},
	    {.kind = OM_DRILL_EV_CLICK, .at = sent + 3 * SEC, .web = true},
	    {.kind = OM_DRILL_EV_CLICK, .at = sent + 60 * SEC, .web = true},
	};
	om_drill_scan_timing(&c, sent, a, 3);
	assert_int_equal(a[0].flags, 0);
	assert_int_equal(a[1].flags, OM_DRILL_SCAN_FAST);
	assert_int_equal(a[2].flags, 0);
	/* the link, the report link and the attachment within 2 s, an hour
	 * after delivery: all at once, a sandbox; the form 1 s after the
	 * attachment is not part of it */
	int64_t t = sent + 3600 * SEC;
	om_drill_ev b[] = {
	    {.kind = OM_DRILL_EV_CLICK, .at = t, .web = true},
	    {.kind = OM_DRILL_EV_REPORT, .at = t + 500000, .web = true},
	    {.kind = OM_DRILL_EV_ATTACH, .at = t + 1900000, .web = true},
	    {.kind = OM_DRILL_EV_SUBMIT, .at = t + 2500000, .web = true},
	    {.kind = OM_DRILL_EV_REPORT, .at = t + 600 * SEC, .web = true},
	};
	om_drill_scan_timing(&c, sent, b, 5);
	assert_int_equal(b[0].flags, OM_DRILL_SCAN_BURST);
	assert_int_equal(b[1].flags, OM_DRILL_SCAN_BURST);
	assert_int_equal(b[2].flags, OM_DRILL_SCAN_BURST);
	assert_int_equal(b[3].flags, 0);
	assert_int_equal(b[4].flags, 0);
	/* a person: link, then the form 1 s later, then the report link 30 s
	 * later; a report mail right after delivery is never a scanner */
	om_drill_ev d[] = {
	    {.kind = OM_DRILL_EV_REPORT, .at = sent + 2 * SEC, .web = false},
	    {.kind = OM_DRILL_EV_CLICK, .at = t, .web = true},
	    {.kind = OM_DRILL_EV_SUBMIT, .at = t + SEC, .web = true},
	    {.kind = OM_DRILL_EV_REPORT, .at = t + 30 * SEC, .web = true},
	};
	om_drill_scan_timing(&c, sent, d, 4);
	for (int i = 0; i < 4; i++)
		assert_int_equal(d[i].flags, 0);
	/* the same link twice at once is not "all links" */
	om_drill_ev e[] = {
	    {.kind = OM_DRILL_EV_CLICK, .at = t, .web = true},
	    {.kind = OM_DRILL_EV_CLICK, .at = t + 100, .web = true},
	};
	om_drill_scan_timing(&c, sent, e, 2);
	assert_int_equal(e[0].flags | e[1].flags, 0);
}

static void test_mail_scan(void **st)
{
	(void)st;
	om_drill_mailscan m;
	/* forwarded inline: the header is gone, the link is in the text */
	const char *fwd = "From: a@example.jp\r\nSubject: Fwd: invoice\r\n\r\n"
	                  "---------- Forwarded message ---------\r\n"
	                  "see https://d.example.jp/t/c/" TOK " here\r\n";
	om_drill_mail_scan(fwd, strlen(fwd), &m);
	assert_false(m.dsn);
	assert_int_equal(m.ntokens, 1);
	assert_string_equal(m.token[0], TOK);
	/* attached as a whole message, base64 encoded (the header inside) */
	const char *inner = "X-Omamori-Drill: " TOK2 "\r\nSubject: x\r\n\r\nbody\r\n";
	char b64[256];
	{
		static const char al[] =
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
		size_t n = strlen(inner), o = 0;
		for (size_t i = 0; i < n; i += 3) {
			unsigned v = (unsigned)(unsigned char)inner[i] << 16;
			if (i + 1 < n)
				v |= (unsigned)(unsigned char)inner[i + 1] << 8;
			if (i + 2 < n)
				v |= (unsigned char)inner[i + 2];
			b64[o++] = al[(v >> 18) & 63];
			b64[o++] = al[(v >> 12) & 63];
			b64[o++] = i + 1 < n ? al[(v >> 6) & 63] : '=';
			b64[o++] = i + 2 < n ? al[v & 63] : '=';
			if ((i / 3 + 1) % 19 == 0)
				b64[o++] = '\n';
		}
		b64[o] = 0;
	}
	char att[1024];
	snprintf(att, sizeof(att),
	         "Subject: suspicious\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
	         "--b\r\nContent-Type: text/plain\r\n\r\nplease check\r\n--b\r\n"
	         "Content-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\n%s\r\n"
	         "--b--\r\n",
	         b64);
	om_drill_mail_scan(att, strlen(att), &m);
	assert_int_equal(m.ntokens, 1);
	assert_string_equal(m.token[0], TOK2);
	/* quoted-printable splits the URL with a soft line break */
	const char *qp = "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
	                 "link: https://d.example.jp/t/c/0123456789abcdef=\r\n"
	                 "0123456789abcdef and more\r\n";
	om_drill_mail_scan(qp, strlen(qp), &m);
	assert_int_equal(m.ntokens, 1);
	assert_string_equal(m.token[0], TOK);
	/* 33 hex digits are not a token; a path without one neither */
	const char *no = "Subject: x\r\n\r\nhttps://d/t/c/" TOK "a and /t/c/short\r\n";
	om_drill_mail_scan(no, strlen(no), &m);
	assert_int_equal(m.ntokens, 0);
	/* a bounce (RFC 3464) */
	const char *dsn =
	    "From: MAILER-DAEMON@mx.example.jp\r\n"
	    "Content-Type: multipart/report; report-type=delivery-status;\r\n"
	    "\tboundary=\"B\"\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nundeliverable\r\n"
	    "--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n\r\n"
	    "Final-Recipient: rfc822; Bob@Example.JP\r\nAction: failed\r\nStatus: 5.1.1\r\n"
	    "--B\r\nContent-Type: text/rfc822-headers\r\n\r\nX-Omamori-Drill: " TOK "\r\n--B--\r\n";
	om_drill_mail_scan(dsn, strlen(dsn), &m);
	assert_true(m.dsn);
	assert_true(m.failed);
	assert_string_equal(m.final_rcpt, "bob@example.jp");
	assert_int_equal(m.ntokens, 1);
	/* a delay notice is a DSN but not a failure */
	char delayed[1024];
	snprintf(delayed, sizeof(delayed), "%s", dsn);
	char *p = strstr(delayed, "Action: failed");
	memcpy(p, "Action: delay ", 14);
	om_drill_mail_scan(delayed, strlen(delayed), &m);
	assert_true(m.dsn);
	assert_false(m.failed);
	/* at most OM_DRILL_SCAN_TOKENS are kept, without a crash */
	om_buf big;
	om_buf_init(&big, 1 << 20);
	for (int i = 0; i < 20; i++)
		om_buf_printf(&big, "/t/c/%032x\n", i + 1);
	om_drill_mail_scan(big.data, big.len, &m);
	assert_int_equal(m.ntokens, OM_DRILL_SCAN_TOKENS);
	om_buf_free(&big);
}

static void test_imap_uids(void **st)
{
	(void)st;
	uint64_t u[4];
	const char *a = "* OK still here\r\n* SEARCH 3 7 19\r\nA003 OK SEARCH completed\r\n";
	assert_int_equal(om_drill_imap_uids(a, strlen(a), u, 4), 3);
	assert_true(u[0] == 3 && u[1] == 7 && u[2] == 19);
	const char *none = "* SEARCH\r\nA003 OK\r\n";
	assert_int_equal(om_drill_imap_uids(none, strlen(none), u, 4), 0);
	const char *many = "* SEARCH 1 2 3 4 5 6\r\n";
	assert_int_equal(om_drill_imap_uids(many, strlen(many), u, 4), 4);
	/* only the untagged answer counts, not a word in other text */
	const char *other = "A001 OK [SEARCH 5] x\r\n";
	assert_int_equal(om_drill_imap_uids(other, strlen(other), u, 4), 0);
}

static void test_window(void **st)
{
	(void)st;
	unsigned days = 0, h0 = 0, h1 = 0;
	assert_int_equal(om_drill_days_parse("mon-fri", &days), 0);
	assert_int_equal(days, 0x3e);
	assert_int_equal(om_drill_days_parse("sat-sun", &days), 0);
	assert_int_equal(days, 0x41);
	assert_int_equal(om_drill_days_parse("mon,wed,fri", &days), 0);
	assert_int_equal(days, 2 + 8 + 32);
	assert_int_equal(om_drill_days_parse("monday", &days), -EINVAL);
	assert_int_equal(om_drill_days_parse("mon,", &days), -EINVAL);
	assert_int_equal(om_drill_days_parse("", &days), -EINVAL);
	assert_int_equal(om_drill_hours_parse("9-17", &h0, &h1), 0);
	assert_int_equal(h0, 9);
	assert_int_equal(h1, 17);
	assert_int_equal(om_drill_hours_parse("17-9", &h0, &h1), -EINVAL);
	assert_int_equal(om_drill_hours_parse("9-25", &h0, &h1), -EINVAL);
	assert_int_equal(om_drill_hours_parse("-5", &h0, &h1), -EINVAL);

	/* Asia/Tokyo is UTC+9 without summer time. Saturday 2026-12-05 10:00
	 * JST (01:00 UTC, 1796432400) waits for Monday 2026-12-07 09:00 JST
	 * (00:00 UTC, 1796601600); so does Friday 17:30 JST (08:30 UTC). */
	int64_t next = 0;
	assert_int_equal(om_drill_window_next(1796432400 * SEC, "Asia/Tokyo", 0x3e, 9, 17, &next),
	                 0);
	assert_int_equal(next, 1796601600 * SEC);
	assert_int_equal(om_drill_window_next(1796373000 * SEC, "Asia/Tokyo", 0x3e, 9, 17, &next),
	                 0);
	assert_int_equal(next, 1796601600 * SEC);
	/* Monday 10:00 JST is inside: kept to the microsecond */
	assert_int_equal(
	    om_drill_window_next(1796605200 * SEC + 7, "Asia/Tokyo", 0x3e, 9, 17, &next), 0);
	assert_int_equal(next, 1796605200 * SEC + 7);
	/* Wednesday 07:00 JST (Tuesday 22:00 UTC) waits two hours */
	assert_int_equal(om_drill_window_next(1796767200 * SEC, "Asia/Tokyo", 0x3e, 9, 17, &next),
	                 0);
	assert_int_equal(next, 1796774400 * SEC);
	/* the same instant in UTC is Tuesday 22:00: Wednesday 09:00 UTC */
	assert_int_equal(om_drill_window_next(1796767200 * SEC, "UTC", 0x3e, 9, 17, &next), 0);
	assert_int_equal(next, (1796774400 + 9 * 3600) * SEC);
	assert_int_equal(om_drill_window_next(0, "UTC", 0, 9, 17, &next), -EINVAL);
	assert_int_equal(om_drill_window_next(0, "UTC", 0x3e, 17, 9, &next), -EINVAL);
	/* local time parsed in the zone: 2026-12-07T09:00 in Tokyo */
	assert_int_equal(om_drill_local_parse("2026-12-07T09:00", "Asia/Tokyo", &next), 0);
	assert_int_equal(next, 1796601600 * SEC);
	assert_int_equal(om_drill_local_parse("2026-13-07T09:00", "Asia/Tokyo", &next), -EINVAL);

	assert_int_equal(om_drill_backoff(1), 60 * SEC);
	assert_int_equal(om_drill_backoff(2), 120 * SEC);
	assert_int_equal(om_drill_backoff(3), 240 * SEC);
	assert_int_equal(om_drill_backoff(6), 1920 * SEC);
	assert_int_equal(om_drill_backoff(7), 3600 * SEC); /* 3840 s capped */
	assert_int_equal(om_drill_backoff(30), 3600 * SEC);

	int64_t d = 0;
	assert_int_equal(om_drill_duration_parse("90", &d), 0);
	assert_int_equal(d, 90 * SEC);
	assert_int_equal(om_drill_duration_parse("30m", &d), 0);
	assert_int_equal(d, 1800 * SEC);
	assert_int_equal(om_drill_duration_parse("2h", &d), 0);
	assert_int_equal(d, 7200 * SEC);
	assert_int_equal(om_drill_duration_parse("1d", &d), 0);
	assert_int_equal(d, 86400 * SEC);
	assert_int_equal(om_drill_duration_parse("h", &d), -EINVAL);
	assert_int_equal(om_drill_duration_parse("400d", &d), -EINVAL);
	assert_int_equal(om_drill_duration_parse("-1m", &d), -EINVAL);
}

static om_drill_cell cell(const char *label, unsigned n, unsigned clicked)
{
	om_drill_cell c = {.n = n};
	snprintf(c.label, sizeof(c.label), "%s", label);
	c.did[OM_DRILL_EV_CLICK] = clicked;
	return c;
}

static void test_merge_small(void **st)
{
	(void)st;
	/* no group below 5: unchanged */
	om_drill_cell a[] = {cell("Sales", 10, 1), cell("IT", 5, 2)};
	assert_int_equal(om_drill_merge_small(a, 2, 5, "other"), 2);
	assert_string_equal(a[0].label, "Sales");
	assert_string_equal(a[1].label, "IT");
	/* 2 + 1 = 3 is still below 5: the smallest other group (HR, 6) joins */
	om_drill_cell b[] = {cell("Sales", 10, 1), cell("IT", 2, 1), cell("Legal", 1, 1),
	                     cell("HR", 6, 3)};
	size_t n = om_drill_merge_small(b, 4, 5, "other");
	assert_int_equal(n, 2);
	assert_string_equal(b[0].label, "Sales");
	assert_false(b[0].merged);
	assert_string_equal(b[1].label, "other");
	assert_true(b[1].merged);
	assert_int_equal(b[1].n, 9);
	assert_int_equal(b[1].did[OM_DRILL_EV_CLICK], 5);
	/* small ones that together reach the minimum stay apart from the rest */
	om_drill_cell c[] = {cell("A", 3, 0), cell("B", 2, 2), cell("C", 8, 1)};
	n = om_drill_merge_small(c, 3, 5, "other");
	assert_int_equal(n, 2);
	assert_string_equal(c[0].label, "C");
	assert_int_equal(c[1].n, 5);
	assert_int_equal(c[1].did[OM_DRILL_EV_CLICK], 2);
	/* everyone in small groups: one group, even if below the minimum */
	om_drill_cell d[] = {cell("A", 1, 0), cell("B", 1, 1)};
	n = om_drill_merge_small(d, 2, 5, "other");
	assert_int_equal(n, 1);
	assert_int_equal(d[0].n, 2);
	/* no person's group is ever left with fewer than min when others exist */
	om_drill_cell e[] = {cell("A", 4, 0), cell("B", 5, 0), cell("C", 5, 0)};
	n = om_drill_merge_small(e, 3, 5, "other");
	for (size_t i = 0; i < n; i++)
		assert_true(e[i].n >= 5);
}

/* ---- a round through the store ---- */

struct tok_cx {
	char tok[16][OM_DRILL_TOKEN_LEN + 1];
	char mail[16][64];
	int64_t due[16];
	size_t n;
};

static int tok_one(void *user, const om_store_drill_recipient *r)
{
	struct tok_cx *x = user;
	if (x->n < 16) {
		snprintf(x->tok[x->n], sizeof(x->tok[0]), "%s", r->token);
		snprintf(x->mail[x->n], sizeof(x->mail[0]), "%s", r->mail);
		x->due[x->n] = r->due;
		x->n++;
	}
	return 0;
}

static const char *tok_of(const struct tok_cx *x, const char *mail)
{
	for (size_t i = 0; i < x->n; i++)
		if (!strcmp(x->mail[i], mail))
			return x->tok[i];
	fail_msg("no token for %s", mail);
	return NULL;
}

static void ev(om_store *s, const char *tok, const char *kind, int64_t at, unsigned flags,
               const char *source)
{
	om_store_drill_event e = {.round_id = "r1",
	                          .token = tok,
	                          .kind = kind,
	                          .at = at,
	                          .ip = "10.0.0.1",
	                          .ua = "x",
	                          .source = source,
	                          .flags = flags};
	assert_int_equal(om_store_drill_event_add(s, &e), 0);
}

static void test_round_store(void **st)
{
	(void)st;
	struct tmpdb db;
	tmpdb_make(&db);
	om_store *s = NULL;
	char err[512] = "";
	assert_int_equal(om_store_open(db.path, &s, err, sizeof(err)), 0);
	/* Sales 4, IT 3, HR 1, and one excluded */
	static const char *const who[][3] = {
	    {"s1@example.jp", "Sales", "Staff"},   {"s2@example.jp", "Sales", "Staff"},
	    {"s3@example.jp", "Sales", "Manager"}, {"s4@example.jp", "Sales", "Staff"},
	    {"i1@example.jp", "IT", "Staff"},      {"i2@example.jp", "IT", "Staff"},
	    {"i3@example.jp", "IT", "Manager"},    {"h1@example.jp", "HR", "Manager"},
	    {"x1@partner.jp", "Sales", "Staff"},
	};
	om_store_drill_target t[9];
	for (int i = 0; i < 9; i++)
		t[i] = (om_store_drill_target){.mail = who[i][0],
		                               .name = who[i][0],
		                               .organisation = "Sakura",
		                               .department = who[i][1],
		                               .role = who[i][2],
		                               .custom_json = "{}"};
	assert_int_equal(om_store_drill_import(s, t, 9, "all", err, sizeof(err)), 0);
	assert_int_equal(om_store_drill_exclude(s, "@partner.jp", "partner", false), 0);

	om_store_drill_round r;
	memset(&r, 0, sizeof(r));
	snprintf(r.id, sizeof(r.id), "r1");
	snprintf(r.template_name, sizeof(r.template_name), "invoice");
	snprintf(r.lang, sizeof(r.lang), "en");
	snprintf(r.charset, sizeof(r.charset), "utf-8");
	snprintf(r.group_name, sizeof(r.group_name), "all");
	snprintf(r.from_addr, sizeof(r.from_addr), "drill@example.jp");
	snprintf(r.base_url, sizeof(r.base_url), "https://d.example.jp");
	snprintf(r.tz, sizeof(r.tz), "Asia/Tokyo");
	r.days = 0x3e, r.hour_start = 9, r.hour_end = 17, r.rate = 60;
	/* Saturday 10:00 JST, spread over 2 hours: all move to Monday 09:00
	 * JST, each at most 2 hours after it */
	r.start_at = 1796432400 * SEC;
	r.spread = 2 * 3600 * SEC;
	size_t n = 0, excl = 0;
	assert_int_equal(om_drill_round_create(s, &r, &n, &excl, err, sizeof(err)), 0);
	assert_int_equal(n, 8);
	assert_int_equal(excl, 1);
	assert_int_equal(om_drill_round_create(s, &r, &n, &excl, err, sizeof(err)), -EEXIST);
	struct tok_cx x = {0};
	assert_int_equal(om_store_drill_recipients(s, "r1", 0, 0, tok_one, &x), 0);
	assert_int_equal(x.n, 8);
	for (size_t i = 0; i < x.n; i++) {
		assert_true(om_drill_token_valid(x.tok[i], strlen(x.tok[i])));
		assert_true(x.due[i] >= 1796601600 * SEC);
		assert_true(x.due[i] < (1796601600 + 7200) * SEC);
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(x.tok[i], x.tok[j]);
	}
	/* nothing is due before Monday 09:00 JST */
	struct tok_cx due = {0};
	assert_int_equal(
	    om_store_drill_recipients(s, "r1", (1796601600 - 1) * SEC, 0, tok_one, &due), 0);
	assert_int_equal(due.n, 0);

	/* the message of one recipient carries its token and tracking URLs */
	om_buf msg;
	om_buf_init(&msg, 1 << 20);
	om_store_drill_recipient p = {.token = x.tok[0],
	                              .mail = x.mail[0],
	                              .name = "N",
	                              .organisation = "Sakura",
	                              .department = "Sales",
	                              .role = "Staff",
	                              .custom_json = "{}"};
	assert_int_equal(om_drill_round_message(&r, &p, 1796601600 * SEC, &msg), 0);
	char want[128];
	snprintf(want, sizeof(want), "X-Omamori-Drill: %s", x.tok[0]);
	assert_non_null(strstr(om_buf_cstr(&msg), want));
	om_buf_free(&msg);

	/* all sent at T; h1 bounces later (a DSN); i3 failed */
	int64_t T = 1796601600 * SEC;
	for (size_t i = 0; i < x.n; i++)
		assert_int_equal(
		    om_store_drill_recipient_update(s, x.tok[i], OM_DRILL_SENT, 1, T, T, "250"), 0);
	assert_int_equal(om_store_drill_recipient_update(s, tok_of(&x, "i3@example.jp"),
	                                                 OM_DRILL_FAILED, 5, T, 0, "421"),
	                 0);
	char dsn[1024];
	snprintf(dsn, sizeof(dsn),
	         "Content-Type: multipart/report; report-type=delivery-status; boundary=B\r\n\r\n"
	         "--B\r\nContent-Type: message/delivery-status\r\n\r\n"
	         "Final-Recipient: rfc822; h1@example.jp\r\nAction: failed\r\n--B--\r\n");
	om_drill_poll_stats ps = {0};
	assert_int_equal(om_drill_mail_ingest(s, dsn, strlen(dsn), T, &ps), 0);
	assert_int_equal(ps.bounces, 1);
	om_store_drill_token_info ti;
	assert_int_equal(om_store_drill_token(s, tok_of(&x, "h1@example.jp"), &ti), 0);
	assert_int_equal(ti.state, OM_DRILL_BOUNCED);
	assert_string_equal(ti.round, "r1");
	assert_string_equal(ti.lang, "en");

	/* what people did (events an hour after delivery unless said) */
	int64_t H = T + 3600 * SEC;
	const char *s1 = tok_of(&x, "s1@example.jp"), *s2 = tok_of(&x, "s2@example.jp"),
	           *s3 = tok_of(&x, "s3@example.jp"), *s4 = tok_of(&x, "s4@example.jp"),
	           *i1 = tok_of(&x, "i1@example.jp"), *i2 = tok_of(&x, "i2@example.jp");
	ev(s, s1, "open", H, 0, "web"); /* s1 opened, clicked, entered data */
	ev(s, s1, "click", H + 60 * SEC, 0, "web");
	ev(s, s1, "submit", H + 61 * SEC, 0, "web");
	ev(s, s2, "click", T + 2 * SEC, 0, "web");                 /* a scanner at delivery */
	ev(s, s2, "open", H, 0, "web");                            /* then s2 opened: a person */
	ev(s, s3, "open", T + 600 * SEC, OM_DRILL_SCAN_UA, "web"); /* a previewer */
	ev(s, s4, "open", T + 120 * SEC, 0, "web"); /* s4 opened after 2 min, reported */
	ev(s, s4, "report", T + 300 * SEC, 0, "web");
	ev(s, i1, "click", H, 0, "web"); /* a sandbox: all links at once */
	ev(s, i1, "report", H + 1000, 0, "web");
	ev(s, i1, "attach", H + 2000, 0, "web");
	ev(s, i2, "report", T + 10 * 3600 * SEC, 0, "imap"); /* i2 forwarded it */

	om_drill_scan_cfg cfg;
	om_drill_scan_defaults(&cfg);
	om_drill_results *R = NULL;
	assert_int_equal(om_drill_results_load(s, "r1", &cfg, 3, &R), 0);
	om_drill_cell tot;
	om_drill_results_totals(R, &tot);
	assert_int_equal(tot.n, 6);                     /* 8 less the bounce and the failure */
	assert_int_equal(tot.did[OM_DRILL_EV_OPEN], 3); /* s1, s2, s4 */
	assert_int_equal(tot.did[OM_DRILL_EV_CLICK], 1);
	assert_int_equal(tot.did[OM_DRILL_EV_SUBMIT], 1);
	assert_int_equal(tot.did[OM_DRILL_EV_ATTACH], 0);
	assert_int_equal(tot.did[OM_DRILL_EV_REPORT], 2); /* s4 and i2 */
	assert_int_equal(tot.scan[OM_DRILL_EV_CLICK], 2); /* s2 fast, i1 burst */
	assert_int_equal(tot.scan[OM_DRILL_EV_OPEN], 1);
	assert_int_equal(tot.scan[OM_DRILL_EV_REPORT], 1);
	assert_int_equal(tot.scan[OM_DRILL_EV_ATTACH], 1);

	/* by department with min 3: Sales 4; IT has 2 sent (i3 failed) and
	 * HR none, so IT is merged — and with nothing else small, Sales joins */
	om_drill_cell *c = NULL;
	size_t nc = 0;
	assert_int_equal(om_drill_results_groups(R, OM_DRILL_BY_DEPT, OM_LANG_EN, &c, &nc), 0);
	assert_int_equal(nc, 1);
	assert_true(c[0].merged);
	assert_int_equal(c[0].n, 6);
	free(c);
	/* with min 2 (below the CLI's floor, for the test) Sales and IT stand */
	om_drill_results_free(R);
	assert_int_equal(om_drill_results_load(s, "r1", &cfg, 2, &R), 0);
	assert_int_equal(om_drill_results_groups(R, OM_DRILL_BY_DEPT, OM_LANG_EN, &c, &nc), 0);
	assert_int_equal(nc, 2);
	for (size_t i = 0; i < nc; i++) {
		if (!strcmp(c[i].label, "Sales")) {
			assert_int_equal(c[i].n, 4);
			assert_int_equal(c[i].did[OM_DRILL_EV_OPEN], 3);
			assert_int_equal(c[i].did[OM_DRILL_EV_REPORT], 1);
		} else {
			assert_string_equal(c[i].label, "IT");
			assert_int_equal(c[i].n, 2);
			assert_int_equal(c[i].did[OM_DRILL_EV_OPEN], 0);
			assert_int_equal(c[i].did[OM_DRILL_EV_REPORT], 1);
		}
	}
	free(c);
	/* JSON: the time to open (s4 2 min, s1 and s2 an hour) and to report
	 * (s4 5 min, i2 10 h) */
	om_buf out;
	om_buf_init(&out, 1 << 20);
	om_drill_report_opts o = {.format = OM_DRILL_FMT_JSON, .lang = OM_LANG_EN};
	assert_int_equal(om_drill_report_write(R, NULL, &o, &out, err, sizeof(err)), 0);
	const char *js = om_buf_cstr(&out);
	assert_non_null(strstr(js, "\"time_to_open\":{\"lt_5m\":1,\"lt_30m\":0,\"lt_2h\":2,"));
	assert_non_null(
	    strstr(js, "\"time_to_report\":{\"lt_5m\":0,\"lt_30m\":1,\"lt_2h\":0,\"lt_8h\":0,"
	               "\"lt_24h\":1,"));
	assert_null(strstr(js, "s1@example.jp")); /* no names unless asked */
	om_buf_reset(&out);
	o.names = true;
	assert_int_equal(om_drill_report_write(R, NULL, &o, &out, err, sizeof(err)), 0);
	assert_non_null(strstr(om_buf_cstr(&out), "s1@example.jp"));
	om_buf_free(&out);
	om_drill_results_free(R);
	om_store_close(s);
	tmpdb_remove(&db);
}

/* Several organisations: departments are shown as "organisation /
 * department"; a cell that a spreadsheet would run as a formula is
 * quoted and defused in CSV. */
static void test_results_orgs_csv(void **st)
{
	(void)st;
	struct tmpdb db;
	tmpdb_make(&db);
	om_store *s = NULL;
	char err[512] = "";
	assert_int_equal(om_store_open(db.path, &s, err, sizeof(err)), 0);
	om_store_drill_target t[6];
	char mails[6][32];
	for (int i = 0; i < 6; i++) {
		snprintf(mails[i], sizeof(mails[i]), "p%d@example.jp", i);
		t[i] = (om_store_drill_target){.mail = mails[i],
		                               .name = mails[i],
		                               .organisation = i < 3 ? "A社" : "=B社",
		                               .department = i < 3 ? "営業部" : "=HYPERLINK(\"x\")",
		                               .role = "",
		                               .custom_json = "{}"};
	}
	assert_int_equal(om_store_drill_import(s, t, 6, NULL, err, sizeof(err)), 0);
	om_store_drill_round r;
	memset(&r, 0, sizeof(r));
	snprintf(r.id, sizeof(r.id), "o1");
	snprintf(r.template_name, sizeof(r.template_name), "invoice");
	snprintf(r.lang, sizeof(r.lang), "ja");
	snprintf(r.tz, sizeof(r.tz), "UTC");
	r.days = 0x7f, r.hour_start = 0, r.hour_end = 24, r.rate = 60;
	size_t n = 0;
	assert_int_equal(om_drill_round_create(s, &r, &n, NULL, err, sizeof(err)), 0);
	assert_int_equal(n, 6);
	struct tok_cx x = {0};
	assert_int_equal(om_store_drill_recipients(s, "o1", 0, 0, tok_one, &x), 0);
	for (size_t i = 0; i < x.n; i++)
		assert_int_equal(
		    om_store_drill_recipient_update(s, x.tok[i], OM_DRILL_SENT, 1, 1, 1, ""), 0);
	om_drill_scan_cfg cfg;
	om_drill_scan_defaults(&cfg);
	om_drill_results *R = NULL;
	assert_int_equal(om_drill_results_load(s, "o1", &cfg, 3, &R), 0);
	om_drill_cell *c = NULL;
	size_t nc = 0;
	assert_int_equal(om_drill_results_groups(R, OM_DRILL_BY_DEPT, OM_LANG_JA, &c, &nc), 0);
	assert_int_equal(nc, 2);
	assert_string_equal(c[1].label, "A社 / 営業部");
	assert_string_equal(c[0].label, "=B社 / =HYPERLINK(\"x\")");
	free(c);
	/* the empty role shows as "not given" */
	assert_int_equal(om_drill_results_groups(R, OM_DRILL_BY_ROLE, OM_LANG_EN, &c, &nc), 0);
	assert_int_equal(nc, 1);
	assert_string_equal(c[0].label, "(not given)");
	free(c);
	om_buf out;
	om_buf_init(&out, 1 << 20);
	om_drill_report_opts o = {.format = OM_DRILL_FMT_CSV, .lang = OM_LANG_JA};
	assert_int_equal(om_drill_report_write(R, NULL, &o, &out, err, sizeof(err)), 0);
	/* a leading = is defused with ' inside quotes */
	assert_non_null(
	    strstr(om_buf_cstr(&out), "o1,department,\"'=B社 / =HYPERLINK(\"\"x\"\")\",3,"));
	assert_non_null(strstr(om_buf_cstr(&out), "o1,organisation,\"'=B社\",3,"));
	assert_non_null(strstr(om_buf_cstr(&out), "o1,department,A社 / 営業部,3,"));
	om_buf_free(&out);
	om_drill_results_free(R);
	om_store_close(s);
	tmpdb_remove(&db);
}

int main(void)
{
	om_i18n_init();
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tokens),           cmocka_unit_test(test_track_parse),
	    cmocka_unit_test(test_scan_request),     cmocka_unit_test(test_scan_timing),
	    cmocka_unit_test(test_mail_scan),        cmocka_unit_test(test_window),
	    cmocka_unit_test(test_merge_small),      cmocka_unit_test(test_round_store),
	    cmocka_unit_test(test_results_orgs_csv), cmocka_unit_test(test_imap_uids),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
