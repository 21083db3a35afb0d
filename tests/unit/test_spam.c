/* Unit tests for the anti-spam guard (src/guard/spam*.c): the tokenizer
 * (Latin words, Japanese character bigrams from MIME-encoded ISO-2022-JP
 * and Shift_JIS), the token database and its classifier, the header and
 * structure rules, the targeted-mail signs and the EVE object. Messages
 * are written here and go through proto's real MIME decoder
 * (om_proto_mail_message); each expected value follows from the rule
 * named beside it. */
// clang-format off
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "guard/guard.h"

/* ---- helpers --------------------------------------------------------------- */

struct toks {
	char all[8192];
	size_t len;
	unsigned n;
};

static void tok_cb(void *user, const char *t, size_t n)
{
	struct toks *k = user;
	if (k->len + n + 2 < sizeof(k->all)) {
		memcpy(k->all + k->len, t, n);
		k->len += n;
		k->all[k->len++] = '|';
		k->all[k->len] = '\0';
	}
	k->n++;
}

static bool has_tok(const struct toks *k, const char *t)
{
	char b[256];
	snprintf(b, sizeof(b), "|%s|", t);
	char all[8200];
	snprintf(all, sizeof(all), "|%s", k->all);
	return strstr(all, b) != NULL;
}

struct run {
	const om_spam_config *cfg;
	om_spam_db *train;
	bool spam;
	struct toks toks;
	om_spam_result r;
};

static void run_tx(void *user, const om_proto_tx *tx)
{
	struct run *r = user;
	if (r->train)
		assert_int_equal(om_spam_db_train(r->train, tx, r->spam), 0);
	om_spam_tokenize(tx, tok_cb, &r->toks);
	if (r->cfg)
		om_spam_check(r->cfg, tx, NULL, &r->r);
}

static void run_msg(const char *msg, struct run *r)
{
	struct om_proto_mail_config mc;
	om_spam_mail_limits(&mc);
	assert_int_equal(om_proto_mail_message(&mc, (const uint8_t *)msg, strlen(msg), run_tx, r),
	                 0);
}

static bool has_reason(const om_spam_result *r, const char *name)
{
	for (unsigned i = 0; i < r->nreasons; i++)
		if (!strcmp(r->reasons[i], name))
			return true;
	return false;
}

static bool has_sign(const om_spam_result *r, const char *name)
{
	for (unsigned i = 0; i < r->nsigns; i++)
		if (!strcmp(r->signs[i], name))
			return true;
	return false;
}

static void check(const om_spam_config *cfg, const char *msg, om_spam_result *ret)
{
	struct run r;
	memset(&r, 0, sizeof(r));
	r.cfg = cfg;
	run_msg(msg, &r);
	*ret = r.r;
}

/* ---- tokenizer --------------------------------------------------------------- */

static void test_tokens_latin(void **state)
{
	(void)state;
	struct toks k = {0};
	const char *s = "Hello, World-wide FREE offer!! an ok "
	                "supercalifragilisticexpialidocious <b>bold</b> caf\xc3\xa9";
	om_spam_tokenize_text("", s, strlen(s), tok_cb, &k);
	/* lower case; words of 3+ characters; "-" joins */
	assert_true(has_tok(&k, "hello"));
	assert_true(has_tok(&k, "world-wide"));
	assert_true(has_tok(&k, "free"));
	assert_true(has_tok(&k, "offer"));
	assert_false(has_tok(&k, "an"));
	assert_false(has_tok(&k, "ok"));
	/* 34 letters: the skip token with its first letter and length class 30 */
	assert_true(has_tok(&k, "skip:s 30"));
	/* the tag is skipped, its text is not; the opening tag's name is a
	 * token (the closing tag's is not) */
	assert_false(has_tok(&k, "b"));
	assert_true(has_tok(&k, "tag:b"));
	assert_true(has_tok(&k, "bold"));
	assert_true(has_tok(&k, "caf\xc3\xa9"));
	/* body text: each word with the word before it ("free offer" says
	 * more than "free" and "offer"); a skipped long word breaks the chain,
	 * words too short for a token do not */
	assert_true(has_tok(&k, "hello world-wide"));
	assert_true(has_tok(&k, "world-wide free"));
	assert_true(has_tok(&k, "free offer"));
	assert_true(has_tok(&k, "bold caf\xc3\xa9"));
	assert_false(has_tok(&k, "offer bold"));
	assert_int_equal(k.n, 12);
	/* header words (a prefix) are not paired */
	struct toks h = {0};
	om_spam_tokenize_text("subject:", "free offer", 10, tok_cb, &h);
	assert_true(has_tok(&h, "subject:free"));
	assert_false(has_tok(&h, "subject:free offer"));
	assert_false(has_tok(&h, "free offer"));
	assert_int_equal(h.n, 2);
}

static void test_tokens_japanese_bigrams(void **state)
{
	(void)state;
	struct toks k = {0};
	/* 明日の会議 (5 characters: 4 bigrams), then ASCII, then 資 alone */
	const char *s = "明日の会議 meeting 資";
	om_spam_tokenize_text("", s, strlen(s), tok_cb, &k);
	assert_true(has_tok(&k, "明日"));
	assert_true(has_tok(&k, "日の"));
	assert_true(has_tok(&k, "の会"));
	assert_true(has_tok(&k, "会議"));
	assert_true(has_tok(&k, "meeting"));
	assert_true(has_tok(&k, "資"));
	assert_int_equal(k.n, 6);
	/* fullwidth ASCII letters are folded to ASCII words */
	struct toks f = {0};
	const char *w = "ＦＲＥＥ";
	om_spam_tokenize_text("", w, strlen(w), tok_cb, &f);
	assert_true(has_tok(&f, "free"));
}

/* ISO-2022-JP subject (RFC 2047 B) and a Shift_JIS quoted-printable body:
 * the decoder gives UTF-8, the tokenizer bigrams of it */
static const char jp_msg[] = "From: =?ISO-2022-JP?B?GyRCOzNFRBsoQg==?= <yamada@example.co.jp>\r\n"
                             "To: tanaka@example.co.jp\r\n"
                             "Subject: =?ISO-2022-JP?B?GyRCMnE1RCROO3FOQRsoQg==?=\r\n"
                             "MIME-Version: 1.0\r\n"
                             "Content-Type: text/plain; charset=Shift_JIS\r\n"
                             "Content-Transfer-Encoding: quoted-printable\r\n"
                             "\r\n"
                             "=90U=8D=9E=90=E6=82=CC=95=CF=8DX\r\n";

static void test_tokens_japanese_mime(void **state)
{
	(void)state;
	struct run r;
	memset(&r, 0, sizeof(r));
	run_msg(jp_msg, &r);
	/* Subject 会議の資料 ("\x1b$B2q5D$N;qNA\x1b(B" in ISO-2022-JP) */
	assert_true(has_tok(&r.toks, "subject:会議"));
	assert_true(has_tok(&r.toks, "subject:の資"));
	assert_true(has_tok(&r.toks, "subject:資料"));
	/* body 振込先の変更 (Shift_JIS 90 55 8D 9E 90 E6 82 CC 95 CF 8D 58) */
	assert_true(has_tok(&r.toks, "振込"));
	assert_true(has_tok(&r.toks, "込先"));
	assert_true(has_tok(&r.toks, "変更"));
	/* the sender's domain and header names */
	assert_true(has_tok(&r.toks, "f:dom:example.co.jp"));
	assert_true(has_tok(&r.toks, "hdr:mime-version"));
}

/* what proto keeps of a message for the guard: the decoded header fields,
 * the text of the text parts (not of attachments), the attachments' names
 * and first bytes */
struct bufs {
	char headers[1024], body[1024], att[64];
	uint8_t head[16];
	uint32_t head_len;
	bool att1;
};

static void copy_buf(const om_proto_tx *tx, enum om_tx_buf b, uint32_t idx, char *out, size_t cap)
{
	uint32_t n = 0;
	const uint8_t *v = om_tx_get(tx, b, idx, &n);
	out[0] = '\0';
	if (v && n < cap) {
		memcpy(out, v, n);
		out[n] = '\0';
	}
}

static void bufs_tx(void *user, const om_proto_tx *tx)
{
	struct bufs *b = user;
	copy_buf(tx, OM_TXB_EMAIL_HEADERS, 0, b->headers, sizeof(b->headers));
	copy_buf(tx, OM_TXB_EMAIL_BODY, 0, b->body, sizeof(b->body));
	copy_buf(tx, OM_TXB_EMAIL_ATTACHMENT, 0, b->att, sizeof(b->att));
	const uint8_t *h = om_tx_get(tx, OM_TXB_EMAIL_ATTACHMENT_HEAD, 0, &b->head_len);
	if (h && b->head_len <= sizeof(b->head))
		memcpy(b->head, h, b->head_len);
	uint32_t n;
	b->att1 = om_tx_get(tx, OM_TXB_EMAIL_ATTACHMENT, 1, &n) != NULL;
	assert_string_equal(tx->app_proto, "email");
}

static void test_message_buffers(void **state)
{
	(void)state;
	const char *msg = "From: =?UTF-8?B?5bGx55Sw?= <a@b.example>\r\n"
	                  "Subject: hello\r\n"
	                  "Content-Type: multipart/mixed; boundary=\"B\"\r\n\r\n"
	                  "--B\r\nContent-Type: text/plain; charset=ISO-2022-JP\r\n\r\n"
	                  "\x1b$B2q5D\x1b(B\r\n"
	                  "--B\r\nContent-Type: text/plain\r\n"
	                  "Content-Disposition: attachment; filename=\"notes.txt\"\r\n\r\n"
	                  "secret words\r\n--B--\r\n";
	struct om_proto_mail_config mc;
	om_spam_mail_limits(&mc);
	struct bufs b;
	memset(&b, 0, sizeof(b));
	assert_int_equal(om_proto_mail_message(&mc, (const uint8_t *)msg, strlen(msg), bufs_tx, &b),
	                 0);
	/* the From field decoded (山田), the other fields as they are */
	assert_non_null(strstr(b.headers, "From: 山田 <a@b.example>\n"));
	assert_non_null(strstr(b.headers, "Subject: hello\n"));
	/* the ISO-2022-JP part in UTF-8 (会議), the attachment's text not */
	assert_string_equal(b.body, "会議\n");
	assert_string_equal(b.att, "notes.txt");
	assert_false(b.att1);
	/* its first bytes: the whole (short) part */
	assert_int_equal(b.head_len, 12);
	assert_memory_equal(b.head, "secret words", 12);
}

/* ---- database and classifier ------------------------------------------------- */

static char *msg_of(const char *subject, const char *body)
{
	static char b[2048];
	snprintf(b, sizeof(b),
	         "From: someone@example.org\r\nSubject: %s\r\nContent-Type: text/plain; "
	         "charset=utf-8\r\n\r\n%s\r\n",
	         subject, body);
	return b;
}

static void train(om_spam_db *db, const char *msg, bool spam)
{
	struct run r;
	memset(&r, 0, sizeof(r));
	r.train = db;
	r.spam = spam;
	run_msg(msg, &r);
}

static double classify(const om_spam_db *db, const char *msg)
{
	om_spam_config cfg;
	om_spam_config_init(&cfg);
	cfg.db = db;
	om_spam_result res;
	check(&cfg, msg, &res);
	return res.bayes;
}

static void test_db_classify(void **state)
{
	(void)state;
	om_spam_db *db;
	assert_int_equal(om_spam_db_new(&db), 0);
	/* untrained: no probability */
	assert_true(classify(db, msg_of("hello", "text")) < 0);
	for (int i = 0; i < 10; i++) {
		train(db, msg_of("cheap pills", "buy cheap viagra pills now, discount casino"),
		      true);
		train(db, msg_of("project meeting", "the agenda for tomorrow's project meeting"),
		      false);
		train(db, msg_of("激安セール", "激安のブランド品を今すぐ購入"), true);
		train(db, msg_of("会議の議事録", "本日の会議の議事録を送ります"), false);
	}
	uint64_t h, s, t;
	om_spam_db_counts(db, &h, &s, &t);
	assert_int_equal(h, 20);
	assert_int_equal(s, 20);
	assert_true(t > 20);
	/* words seen only in spam (resp. ham) 20 times: each f(w) near 0.99
	 * (resp. 0.01), so the chi-square combination is near 1 (resp. 0) */
	assert_true(classify(db, msg_of("cheap", "viagra discount pills")) > 0.95);
	assert_true(classify(db, msg_of("meeting", "project agenda tomorrow")) < 0.05);
	assert_true(classify(db, msg_of("激安", "ブランド品を購入")) > 0.95);
	assert_true(classify(db, msg_of("議事録", "会議の議事録です")) < 0.05);
	/* nothing known: 0.5 */
	double p = classify(db, msg_of("zzzqqq", "xxyyzz wwvvuu"));
	assert_true(p > 0.45 && p < 0.55);

	/* save and load: the same counts and the same answers */
	char path[] = "/tmp/test_spam_dbXXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(om_spam_db_save(db, path), 0);
	om_spam_db *db2;
	assert_int_equal(om_spam_db_load(path, &db2), 0);
	uint64_t h2, s2, t2;
	om_spam_db_counts(db2, &h2, &s2, &t2);
	assert_int_equal(h2, h);
	assert_int_equal(s2, s);
	assert_int_equal(t2, t);
	assert_true(classify(db2, msg_of("cheap", "viagra discount pills")) > 0.95);
	/* a truncated file is damaged, a random one is not a database */
	FILE *fp = fopen(path, "r+b");
	assert_non_null(fp);
	assert_int_equal(ftruncate(fileno(fp), 40 + 16 * 3 + 5), 0);
	fclose(fp);
	om_spam_db *bad = NULL;
	assert_int_equal(om_spam_db_load(path, &bad), -EINVAL);
	fp = fopen(path, "wb");
	fputs("not a database at all, just some text that is long enough", fp);
	fclose(fp);
	assert_int_equal(om_spam_db_load(path, &bad), -EINVAL);
	assert_int_equal(om_spam_db_load("/nonexistent/spam.db", &bad), -ENOENT);
	unlink(path);
	om_spam_db_free(db2);
	om_spam_db_free(db);
}

/* ---- rules -------------------------------------------------------------------- */

static void cfg_company(om_spam_config *c)
{
	om_spam_config_init(c);
	assert_int_equal(om_spam_config_domains(c, false, "example.co.jp"), 0);
	assert_int_equal(om_spam_config_domains(c, true, "partner-trading.com, bank.example"), 0);
}

static void test_config_domains(void **state)
{
	(void)state;
	om_spam_config c;
	om_spam_config_init(&c);
	assert_int_equal(om_spam_config_domains(&c, false, "Example.CO.JP,example.com"), 0);
	assert_int_equal(c.nown, 2);
	assert_string_equal(c.own[0], "example.co.jp");
	assert_int_equal(om_spam_config_domains(&c, false, "nodot"), -EINVAL);
	assert_int_equal(om_spam_config_domains(&c, false, "bad/name.com"), -EINVAL);
}

static void test_clean_mail(void **state)
{
	(void)state;
	om_spam_config c;
	cfg_company(&c);
	om_spam_result r;
	check(
	    &c,
	    "From: Tanaka <tanaka@partner-trading.com>\r\n"
	    "Reply-To: tanaka@mail.partner-trading.com\r\n"
	    "Authentication-Results: mx.example.co.jp; spf=pass smtp.mailfrom=partner-trading.com;"
	    " dkim=pass header.d=partner-trading.com; dmarc=pass\r\n"
	    "Subject: Meeting\r\n\r\nSee you on Monday.\r\n",
	    &r);
	/* a partner's own domain, a Reply-To under it, authentication passed */
	assert_int_equal(r.nreasons, 0);
	assert_true(r.score == 0);
	assert_int_equal(r.verdict, OM_SPAM_HAM);
	assert_false(r.targeted);
	assert_int_equal(r.spf, OM_AUTH_PASS);
	assert_int_equal(r.dkim, OM_AUTH_PASS);
	assert_int_equal(r.dmarc, OM_AUTH_PASS);
}

static void test_look_alike(void **state)
{
	(void)state;
	om_spam_config c;
	cfg_company(&c);
	om_spam_result r;
	/* one letter swapped for a digit (l -> 1) */
	check(&c, "From: <ceo@examp1e.co.jp>\r\nSubject: hi\r\n\r\nhello\r\n", &r);
	assert_true(has_reason(&r, "look_alike_domain"));
	/* "rn" for "m" */
	check(&c, "From: <a@exarnple.co.jp>\r\nSubject: hi\r\n\r\nhello\r\n", &r);
	assert_true(has_reason(&r, "look_alike_domain"));
	/* the partner's name under another suffix */
	check(&c, "From: <a@partner-trading.net>\r\nSubject: hi\r\n\r\nhello\r\n", &r);
	assert_true(has_reason(&r, "look_alike_domain"));
	/* the own domain with dots turned into hyphens */
	check(&c, "From: <a@example-co-jp.com>\r\nSubject: hi\r\n\r\nhello\r\n", &r);
	assert_true(has_reason(&r, "look_alike_domain"));
	/* the real ones and an unrelated name are not look-alikes */
	check(&c, "From: <a@sales.example.co.jp>\r\nSubject: hi\r\n\r\nhello\r\n", &r);
	assert_false(has_reason(&r, "look_alike_domain"));
	check(&c, "From: <a@unrelated.org>\r\nSubject: hi\r\n\r\nhello\r\n", &r);
	assert_false(has_reason(&r, "look_alike_domain"));
}

static void test_display_and_reply_to(void **state)
{
	(void)state;
	om_spam_config c;
	cfg_company(&c);
	om_spam_result r;
	check(&c,
	      "From: \"president@example.co.jp\" <boss@freemail.example>\r\n"
	      "Reply-To: <collect@other.example>\r\nSubject: hi\r\n\r\nhello\r\n",
	      &r);
	assert_true(has_reason(&r, "display_name_spoof"));
	assert_true(has_reason(&r, "reply_to_mismatch"));
	/* 3.0 + 1.0 */
	assert_true(r.score > 3.99 && r.score < 4.01);
	assert_int_equal(r.verdict, OM_SPAM_HAM);
	/* a display name without a domain and a Reply-To at the same domain */
	check(&c,
	      "From: Yamada Taro <yamada@tanaka-shoji.org>\r\nReply-To: <y@tanaka-shoji.org>\r\n"
	      "Subject: hi\r\n\r\nhello\r\n",
	      &r);
	assert_int_equal(r.nreasons, 0);
}

static void test_auth_results(void **state)
{
	(void)state;
	om_spam_config c;
	cfg_company(&c);
	om_spam_result r;
	/* mail in the company's own name failing its DMARC and SPF */
	check(&c,
	      "Authentication-Results: mx.example.co.jp; spf=fail smtp.mailfrom=example.co.jp; "
	      "dkim=none; dmarc=fail header.from=example.co.jp\r\n"
	      "From: <soumu@example.co.jp>\r\nSubject: hi\r\n\r\nhello\r\n",
	      &r);
	assert_int_equal(r.spf, OM_AUTH_FAIL);
	assert_int_equal(r.dkim, OM_AUTH_NONE);
	assert_int_equal(r.dmarc, OM_AUTH_FAIL);
	assert_true(has_reason(&r, "spf_fail"));
	assert_true(has_reason(&r, "dmarc_fail"));
	assert_true(has_reason(&r, "own_domain_forged"));
	/* 1.5 + 2.5 + 4.0 */
	assert_true(r.score > 7.99 && r.score < 8.01);
	assert_int_equal(r.verdict, OM_SPAM_SPAM);
	/* Received-SPF when there is no Authentication-Results */
	check(&c, "Received-SPF: softfail (domain of x)\r\nFrom: <a@b.example>\r\n\r\nx\r\n", &r);
	assert_int_equal(r.spf, OM_AUTH_SOFTFAIL);
	assert_false(has_reason(&r, "spf_fail"));
}

static const char att_tpl[] = "From: <a@b.example>\r\nSubject: files\r\nMIME-Version: 1.0\r\n"
                              "Content-Type: multipart/mixed; boundary=\"XX\"\r\n\r\n"
                              "--XX\r\nContent-Type: text/plain\r\n\r\n%s\r\n"
                              "--XX\r\nContent-Type: application/octet-stream\r\n"
                              "Content-Disposition: attachment; filename=\"%s\"\r\n"
                              "Content-Transfer-Encoding: base64\r\n\r\n%s\r\n--XX--\r\n";

static void att_check(const char *body, const char *name, const char *b64, om_spam_result *r)
{
	om_spam_config c;
	om_spam_config_init(&c);
	char msg[4096];
	snprintf(msg, sizeof(msg), att_tpl, body, name, b64);
	check(&c, msg, r);
}

static void test_attachments(void **state)
{
	(void)state;
	om_spam_result r;
	/* "MZ\x90\x00" base64 TVqQAA== : an executable by its first bytes */
	att_check("see attached", "report.dat", "TVqQAA==", &r);
	assert_true(has_reason(&r, "executable_attachment"));
	assert_true(r.malware_attachment);
	assert_int_equal(r.verdict, OM_SPAM_SPAM); /* 5.0 */
	/* a document name hiding a program */
	att_check("see attached", "invoice.pdf.exe", "AAAA", &r);
	assert_true(has_reason(&r, "double_extension"));
	assert_false(has_reason(&r, "executable_attachment"));
	/* a macro-enabled workbook by name */
	att_check("see attached", "budget.xlsm", "AAAA", &r);
	assert_true(has_reason(&r, "macro_document"));
	assert_true(r.score > 2.49 && r.score < 2.51);
	/* a clean PDF */
	att_check("see attached", "manual.pdf", "JVBERi0xLjQK", &r);
	assert_int_equal(r.nreasons, 0);
	/* a ZIP local file header with flag bit 0 (encrypted), entry "a.txt":
	 * 50 4b 03 04 | 14 00 | 01 00 | 00*18 | 05 00 | 00 00 | "a.txt" */
	const char *zip = "UEsDBBQAAQAAAAAAAAAAAAAAAAAAAAAAAAAFAAAAYS50eHQ=";
	att_check("パスワードは別途お送りします: abc123", "docs.zip", zip, &r);
	assert_true(has_reason(&r, "encrypted_archive_password"));
	att_check("see attached", "docs.zip", zip, &r);
	assert_true(has_reason(&r, "encrypted_archive"));
	assert_false(has_reason(&r, "encrypted_archive_password"));
}

static enum om_spam_url url_hook(void *user, const char *url, size_t len)
{
	(void)user;
	if (len >= 20 && !memcmp(url, "http://phish.example", 20))
		return OM_SPAM_URL_MALICIOUS;
	return OM_SPAM_URL_CLEAN;
}

static void test_urls(void **state)
{
	(void)state;
	om_spam_config c;
	om_spam_config_init(&c);
	om_spam_result r;
	const char *m = "From: <a@b.example>\r\nSubject: x\r\n\r\n"
	                "login at http://phish.example/login and http://192.0.2.7/x\r\n";
	check(&c, m, &r);
	/* no hook: only the IP host */
	assert_false(has_reason(&r, "url_malicious"));
	assert_true(has_reason(&r, "url_ip_host"));
	c.url_check = url_hook;
	check(&c, m, &r);
	assert_true(has_reason(&r, "url_malicious"));
	assert_int_equal(r.verdict, OM_SPAM_SPAM); /* 5.0 + 1.0 */
}

/* the web filter as the URL hook: a blocked category makes a link harmful */
static void test_url_webfilter(void **state)
{
	(void)state;
	om_wf_builder *b;
	assert_int_equal(om_wf_builder_new(&b), 0);
	assert_int_equal(om_wf_builder_add(b, "phish.example", 13, "phishing"), 0);
	assert_int_equal(om_wf_builder_add(b, "news.example", 12, "news"), 0);
	char path[] = "/tmp/test_spam_wfXXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(om_wf_builder_write(b, path), 0);
	om_wf_builder_free(b);
	om_wf_filter wf;
	memset(&wf, 0, sizeof(wf));
	char err[256];
	assert_int_equal(om_wf_filter_setup(&wf, path, "phishing", NULL, err, sizeof(err)), 0);
	const char *u1 = "http://user@www.phish.example/login?x=1";
	const char *u2 = "https://news.example/today";
	const char *u3 = "https://unlisted.example/";
	assert_int_equal(om_spam_url_webfilter(&wf, u1, strlen(u1)), OM_SPAM_URL_HARMFUL);
	assert_int_equal(om_spam_url_webfilter(&wf, u2, strlen(u2)), OM_SPAM_URL_CLEAN);
	assert_int_equal(om_spam_url_webfilter(&wf, u3, strlen(u3)), OM_SPAM_URL_CLEAN);
	assert_int_equal(om_spam_url_webfilter(&wf, "mailto:x", 8), OM_SPAM_URL_CLEAN);
	om_spam_config c;
	om_spam_config_init(&c);
	c.url_check = om_spam_url_webfilter;
	c.url_user = &wf;
	om_spam_result r;
	check(&c, "From: <a@b.example>\r\nSubject: x\r\n\r\nsee http://www.phish.example/login\r\n",
	      &r);
	assert_true(has_reason(&r, "url_harmful"));
	assert_true(r.score > 2.99 && r.score < 3.01);
	om_wf_filter_cleanup(&wf);
	unlink(path);
}

/* ---- threat intelligence on links ------------------------------------------------ */

static void test_url_intel(void **state)
{
	(void)state;
	om_intel_builder *b;
	assert_int_equal(om_intel_builder_new(&b), 0);
	om_intel_ind u = {.type = OM_INTEL_URL,
	                  .value = "http://phish.example/login",
	                  .len = 26,
	                  .source = "test",
	                  .confidence = 90,
	                  .threat = OM_INTEL_THREAT_PHISHING};
	assert_true(om_intel_builder_add(b, &u) >= 0);
	om_intel_ind d = {.type = OM_INTEL_DOMAIN,
	                  .value = "c2.example",
	                  .len = 10,
	                  .source = "test",
	                  .confidence = 80,
	                  .threat = OM_INTEL_THREAT_C2};
	assert_true(om_intel_builder_add(b, &d) >= 0);
	char path[] = "/tmp/test_spam_intelXXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(om_intel_builder_write(b, path), 0);
	om_intel_builder_free(b);
	om_intel_db *db;
	assert_int_equal(om_intel_db_open(path, &db), 0);
	om_spam_config c;
	om_spam_config_init(&c);
	c.intel_db = db;
	om_spam_result r;
	/* the listed URL (with user info and a port that do not change what
	 * it points to), and a host under the listed domain */
	check(&c,
	      "From: <a@b.example>\r\nSubject: x\r\n\r\n"
	      "log in at http://user@phish.example:8080/login now, or https://www.c2.example/p\r\n",
	      &r);
	assert_true(has_reason(&r, "url_intel"));
	assert_int_equal(r.nintel, 2);
	assert_int_equal(r.intel[0].threat, OM_INTEL_THREAT_PHISHING);
	assert_string_equal(r.intel[0].source, "test");
	assert_int_equal(r.intel[1].threat, OM_INTEL_THREAT_C2);
	assert_int_equal(r.verdict, OM_SPAM_SPAM); /* 5.0 */
	/* a listed link with a payment request is a targeted-mail sign */
	check(&c,
	      "From: <a@b.example>\r\nSubject: invoice\r\n\r\n"
	      "Please pay the invoice at http://phish.example/login\r\n",
	      &r);
	assert_true(r.targeted);
	assert_true(has_sign(&r, "listed_link"));
	/* the spam object names the listed link */
	om_buf jb;
	om_json j;
	om_buf_init(&jb, 8192);
	om_json_init(&j, &jb);
	om_json_obj_open(&j, NULL);
	om_spam_write(&j, &r);
	om_json_obj_close(&j);
	assert_true(om_buf_append(&jb, "", 1) == 0);
	assert_non_null(strstr(jb.data, "\"intel\":[{\"url\":\"http://phish.example/login\""));
	assert_non_null(strstr(jb.data, "\"threat\":\"phishing\""));
	om_buf_free(&jb);
	/* unlisted links are no sign */
	check(&c,
	      "From: <a@b.example>\r\nSubject: x\r\n\r\nsee https://phish.example.org/login\r\n",
	      &r);
	assert_false(has_reason(&r, "url_intel"));
	assert_int_equal(r.nintel, 0);
	om_intel_db_close(db);
	unlink(path);
}

/* ---- the correspondent history ---------------------------------------------------- */

static char corr_path[] = "/tmp/test_spam_corrXXXXXX";

static void test_corr_file(void **state)
{
	(void)state;
	int fd = mkstemp(corr_path);
	assert_true(fd >= 0);
	close(fd);
	om_spam_corr *c;
	assert_int_equal(om_spam_corr_open(corr_path, 0, &c), 0);
	assert_int_equal(om_spam_corr_add(c, "Partner-Trading.COM.", 1000), 1);
	assert_int_equal(om_spam_corr_add(c, "partner-trading.com", 1001), 0);
	assert_int_equal(om_spam_corr_add(c, "bank.example", 1002), 1);
	assert_int_equal(om_spam_corr_add(c, "no dot", 1003), -EINVAL);
	assert_true(om_spam_corr_known(c, "partner-trading.com"));
	assert_false(om_spam_corr_known(c, "partner-tradinq.com"));
	om_spam_corr_close(c);
	/* a crash in the middle of a line: torn and damaged lines are skipped */
	FILE *f = fopen(corr_path, "a");
	assert_non_null(f);
	fputs("+ evil.example 1004 00000000\n", f); /* wrong crc */
	fputs("+ torn.exa", f);                     /* no end */
	fclose(f);
	assert_int_equal(om_spam_corr_open(corr_path, 0, &c), 0);
	unsigned n;
	uint64_t dropped;
	om_spam_corr_stats(c, &n, &dropped);
	assert_int_equal(n, 2);
	assert_true(om_spam_corr_known(c, "partner-trading.com"));
	assert_true(om_spam_corr_known(c, "bank.example"));
	assert_false(om_spam_corr_known(c, "evil.example"));
	assert_false(om_spam_corr_known(c, "torn.exa"));
	/* appending after the torn line still gives readable lines */
	assert_int_equal(om_spam_corr_add(c, "third.example", 1005), 1);
	om_spam_corr_close(c);
	/* bounded: with room for 2, the domain seen longest ago goes, and
	 * stays gone when the file is read again */
	assert_int_equal(om_spam_corr_open(corr_path, 2, &c), 0);
	om_spam_corr_stats(c, &n, &dropped);
	assert_int_equal(n, 2);
	assert_false(om_spam_corr_known(c, "partner-trading.com")); /* seen at 1001 */
	assert_true(om_spam_corr_known(c, "third.example"));
	assert_int_equal(om_spam_corr_add(c, "fourth.example", 1006), 1);
	om_spam_corr_close(c);
	assert_int_equal(om_spam_corr_open(corr_path, 2, &c), 0);
	assert_false(om_spam_corr_known(c, "bank.example"));
	assert_true(om_spam_corr_known(c, "third.example"));
	assert_true(om_spam_corr_known(c, "fourth.example"));
	om_spam_corr_close(c);
	unlink(corr_path);
	char p[64];
	assert_int_equal(om_spam_corr_path("/var/lib/omamori/spam-acme.db", p, sizeof(p)), 0);
	assert_string_equal(p, "/var/lib/omamori/spam-acme.corr");
}

struct learn_run {
	const om_spam_config *cfg;
	bool sent;
	om_spam_result r;
};

static void learn_tx(void *user, const om_proto_tx *tx)
{
	struct learn_run *l = user;
	om_spam_check(l->cfg, tx, NULL, &l->r);
	l->r.sent = l->sent;
	om_spam_learn(l->cfg, tx, &l->r, 5000);
}

static void check_learn_sent(const om_spam_config *cfg, const char *msg)
{
	struct learn_run l = {.cfg = cfg, .sent = true};
	struct om_proto_mail_config mc;
	om_spam_mail_limits(&mc);
	assert_int_equal(
	    om_proto_mail_message(&mc, (const uint8_t *)msg, strlen(msg), learn_tx, &l), 0);
}

static void check_learn(const om_spam_config *cfg, const char *msg, om_spam_result *ret)
{
	struct learn_run l = {.cfg = cfg};
	struct om_proto_mail_config mc;
	om_spam_mail_limits(&mc);
	assert_int_equal(
	    om_proto_mail_message(&mc, (const uint8_t *)msg, strlen(msg), learn_tx, &l), 0);
	*ret = l.r;
}

static void test_first_contact(void **state)
{
	(void)state;
	om_spam_corr *h;
	assert_int_equal(om_spam_corr_open(NULL, 0, &h), 0);
	om_spam_config c;
	om_spam_config_init(&c);
	assert_int_equal(om_spam_config_domains(&c, false, "example.co.jp"), 0);
	c.corr = h;
	om_spam_result r;
	const char *lookalike = "From: Sato <sato@kawada-seiki.co.jp>\r\nSubject: hello\r\n\r\n"
	                        "Thank you for your order.\r\n";
	/* without a history, a mail from that name is nothing special */
	om_spam_config none = c;
	none.corr = NULL;
	check_learn(&none, lookalike, &r);
	assert_false(has_reason(&r, "first_contact_look_alike"));
	assert_false(r.targeted);
	/* it learns the real correspondent from a clean received mail */
	check_learn(&c,
	            "From: Sato <sato@kawada-seiki.com>\r\nSubject: order\r\n\r\n"
	            "Thank you for your order.\r\n",
	            &r);
	assert_true(om_spam_corr_known(h, "kawada-seiki.com"));
	/* and from the recipients of mail the company sent */
	check_learn_sent(
	    &c, "From: <me@example.co.jp>\r\nTo: A <a@hokuto-kogyo.jp>, b@minami.example\r\n"
	        "Subject: x\r\n\r\nhello\r\n");
	assert_true(om_spam_corr_known(h, "hokuto-kogyo.jp"));
	assert_true(om_spam_corr_known(h, "minami.example"));
	check_learn(&c, "From: <a@hokut0-kogyo.jp>\r\nSubject: x\r\n\r\nhello\r\n", &r);
	assert_true(has_reason(&r, "first_contact_look_alike"));
	/* the first contact from a look-alike (one letter changed) */
	check_learn(&c, "From: Sato <sato@kawada-seikl.com>\r\nSubject: hello\r\n\r\nhello\r\n",
	            &r);
	assert_true(has_reason(&r, "first_contact_look_alike"));
	assert_string_equal(r.corr_like, "kawada-seiki.com");
	assert_true(r.targeted);
	assert_true(has_sign(&r, "first_contact_look_alike"));
	/* a look-alike never becomes a correspondent by writing */
	assert_false(om_spam_corr_known(h, "kawada-seikl.com"));
	/* the same first label under another suffix */
	check_learn(&c, lookalike, &r);
	assert_true(has_reason(&r, "first_contact_look_alike"));
	/* the known one itself, a subdomain, and an unrelated new name are not */
	check_learn(&c, "From: <sato@kawada-seiki.com>\r\nSubject: x\r\n\r\nhi\r\n", &r);
	assert_false(has_reason(&r, "first_contact_look_alike"));
	check_learn(&c, "From: <sato@mail.kawada-seiki.com>\r\nSubject: x\r\n\r\nhi\r\n", &r);
	assert_false(has_reason(&r, "first_contact_look_alike"));
	check_learn(&c, "From: <info@tokyo-denki.example>\r\nSubject: x\r\n\r\nhi\r\n", &r);
	assert_false(has_reason(&r, "first_contact_look_alike"));
	assert_true(om_spam_corr_known(h, "tokyo-denki.example"));
	om_spam_corr_close(h);
}

/* ---- targeted mail -------------------------------------------------------------- */

static void test_targeted(void **state)
{
	(void)state;
	om_spam_config c;
	cfg_company(&c);
	om_spam_result r;
	/* a look-alike of the partner asking, urgently, to pay to a new
	 * account (UTF-8 base64 body: "至急：振込先の口座変更のお願い") */
	check(&c,
	      "From: Partner Trading <keiri@partner-tradinq.com>\r\n"
	      "Subject: =?UTF-8?B?6KuL5rGC5pu4?=\r\n"
	      "Content-Type: text/plain; charset=UTF-8\r\n"
	      "Content-Transfer-Encoding: base64\r\n\r\n"
	      "6Iez5oCl77ya5oyv6L685YWI44Gu5Y+j5bqn5aSJ5pu044Gu44GK6aGY44GE\r\n",
	      &r);
	assert_true(r.targeted);
	assert_true(has_reason(&r, "look_alike_domain"));
	assert_true(has_sign(&r, "payment_request"));
	assert_true(has_sign(&r, "urgency"));
	assert_true(has_sign(&r, "look_alike_sender"));
	const om_event_meta *m = om_spam_meta(&r);
	assert_non_null(m);
	assert_string_equal(m->advice, "advice.targeted_mail");
	assert_string_equal(m->category, "spam");
	/* an ordinary invoice from the real partner is no sign */
	check(&c,
	      "From: <keiri@partner-trading.com>\r\nSubject: invoice for November\r\n\r\n"
	      "Please find the invoice attached. Payment is due at the end of the month.\r\n",
	      &r);
	assert_false(r.targeted);
	assert_null(om_spam_meta(&r));
	/* English BEC: a changed bank account, urgent, from a display-name spoof */
	check(&c,
	      "From: \"ceo@example.co.jp\" <ceo.office@mailbox.example>\r\nSubject: urgent\r\n\r\n"
	      "We changed our bank. Please send the wire transfer today to the new account.\r\n",
	      &r);
	assert_true(r.targeted);
	assert_true(has_sign(&r, "account_change"));
	assert_true(has_sign(&r, "display_name_spoof"));
}

/* ---- EVE ----------------------------------------------------------------------- */

static void test_eve_object(void **state)
{
	(void)state;
	om_spam_result r;
	memset(&r, 0, sizeof(r));
	r.score = 7.256;
	r.bayes = 0.9994;
	r.verdict = OM_SPAM_SPAM;
	r.reasons[0] = "bayes_spam";
	r.reasons[1] = "reply_to_mismatch";
	r.nreasons = 2;
	r.dmarc = OM_AUTH_FAIL;
	om_buf b;
	om_json j;
	om_buf_init(&b, 4096);
	om_json_init(&j, &b);
	om_json_obj_open(&j, NULL);
	om_spam_write(&j, &r);
	om_json_obj_close(&j);
	assert_true(om_buf_append(&b, "", 1) == 0);
	/* score rounded to 2 places, bayes to 3 */
	assert_string_equal(b.data,
	                    "{\"spam\":{\"score\":7.26,\"verdict\":\"spam\",\"bayes\":0.999,"
	                    "\"reasons\":[\"bayes_spam\",\"reply_to_mismatch\"],"
	                    "\"targeted_mail\":false,\"auth\":{\"dmarc\":\"fail\"}}}");
	om_buf_free(&b);
}

/* every reason and sign the checks can give has its plain text in both languages */
static void test_catalogue(void **state)
{
	(void)state;
	const char *names[] = {"bayes_spam",
	                       "bayes_ham",
	                       "look_alike_domain",
	                       "display_name_spoof",
	                       "own_domain_forged",
	                       "reply_to_mismatch",
	                       "executable_attachment",
	                       "double_extension",
	                       "macro_document",
	                       "encrypted_archive_password",
	                       "encrypted_archive",
	                       "spf_fail",
	                       "dkim_fail",
	                       "dmarc_fail",
	                       "url_harmful",
	                       "url_malicious",
	                       "url_ip_host",
	                       "url_intel",
	                       "first_contact_look_alike"};
	for (size_t i = 0; i < OM_ARRAY_SIZE(names); i++) {
		char key[96];
		snprintf(key, sizeof(key), "spam.reason.%s", names[i]);
		assert_string_not_equal(om_msg(OM_LANG_JA, key), key);
		assert_string_not_equal(om_msg(OM_LANG_EN, key), key);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tokens_latin),
	    cmocka_unit_test(test_tokens_japanese_bigrams),
	    cmocka_unit_test(test_tokens_japanese_mime),
	    cmocka_unit_test(test_message_buffers),
	    cmocka_unit_test(test_db_classify),
	    cmocka_unit_test(test_config_domains),
	    cmocka_unit_test(test_clean_mail),
	    cmocka_unit_test(test_look_alike),
	    cmocka_unit_test(test_display_and_reply_to),
	    cmocka_unit_test(test_auth_results),
	    cmocka_unit_test(test_attachments),
	    cmocka_unit_test(test_urls),
	    cmocka_unit_test(test_url_webfilter),
	    cmocka_unit_test(test_url_intel),
	    cmocka_unit_test(test_corr_file),
	    cmocka_unit_test(test_first_contact),
	    cmocka_unit_test(test_targeted),
	    cmocka_unit_test(test_eve_object),
	    cmocka_unit_test(test_catalogue),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
