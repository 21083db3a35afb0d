/* Unit tests for DKIM and DMARC (src/guard/spam_auth.c). An RSA key is
 * made here (OpenSSL), messages are signed with libopendkim's signer, and
 * the public key and the DMARC records are served from a zone file
 * written here (the verifier's TXT resolver reads it instead of DNS).
 * Each expected result follows from RFC 6376 / RFC 7489 as noted. */
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

#include <opendkim/dkim.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "guard/guard.h"

static char pem[8192];     /* the private key */
static char pub_b64[2048]; /* the public key for p= */
static char zone_path[] = "/tmp/test_spam_authXXXXXX";
static om_spam_auth_ctx *auth;

static void make_key(void)
{
	EVP_PKEY *k = EVP_RSA_gen(2048);
	assert_non_null(k);
	BIO *b = BIO_new(BIO_s_mem());
	assert_int_equal(PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL), 1);
	int n = BIO_read(b, pem, sizeof(pem) - 1);
	assert_true(n > 0);
	pem[n] = '\0';
	BIO_free(b);
	unsigned char *der = NULL;
	int dl = i2d_PUBKEY(k, &der);
	assert_true(dl > 0);
	EVP_EncodeBlock((unsigned char *)pub_b64, der, dl);
	OPENSSL_free(der);
	EVP_PKEY_free(k);
}

/* msg signed for domain d with selector s: the DKIM-Signature field on top */
static char *sign(const char *msg, const char *d, const char *s)
{
	DKIM_LIB *lib = dkim_init(NULL, NULL);
	assert_non_null(lib);
	DKIM_STAT st;
	DKIM *h = dkim_sign(lib, (const unsigned char *)"test", NULL, (unsigned char *)pem,
	                    (const unsigned char *)s, (const unsigned char *)d, DKIM_CANON_RELAXED,
	                    DKIM_CANON_RELAXED, DKIM_SIGN_RSASHA256, -1, &st);
	assert_non_null(h);
	assert_int_equal(dkim_chunk(h, (unsigned char *)msg, strlen(msg)), DKIM_STAT_OK);
	assert_int_equal(dkim_chunk(h, NULL, 0), DKIM_STAT_OK);
	assert_int_equal(dkim_eom(h, NULL), DKIM_STAT_OK);
	unsigned char hdr[4096];
	assert_int_equal(dkim_getsighdr(h, hdr, sizeof(hdr), strlen("DKIM-Signature: ")),
	                 DKIM_STAT_OK);
	size_t n = strlen(msg) + strlen((char *)hdr) + 32;
	char *out = malloc(n);
	assert_non_null(out);
	snprintf(out, n, "DKIM-Signature: %s\r\n%s", hdr, msg);
	dkim_free(h);
	dkim_close(lib);
	return out;
}

static int setup(void **state)
{
	(void)state;
	make_key();
	int fd = mkstemp(zone_path);
	assert_true(fd >= 0);
	FILE *f = fdopen(fd, "w");
	assert_non_null(f);
	fprintf(f, "# written by test_spam_auth\n");
	fprintf(f, "sel1._domainkey.partner.example \"v=DKIM1; k=rsa; \" \"p=%s\"\n", pub_b64);
	fprintf(f, "sel1._domainkey.mailer.example v=DKIM1; k=rsa; p=%s\n", pub_b64);
	fprintf(f, "_dmarc.partner.example v=DMARC1; p=reject; sp=quarantine; rua=mailto:d@x\n");
	fprintf(f, "_dmarc.strict.example some-verification=1234\n"); /* not DMARC: skipped */
	fprintf(f, "_dmarc.strict.example v=DMARC1; p=quarantine; aspf=s\n");
	fprintf(f, "_dmarc.notdmarc.example v=spf1 -all\n");
	fprintf(f, "sel1._domainkey.strict.example v=DKIM1; k=rsa; p=%s\n", pub_b64);
	fclose(f);
	assert_int_equal(om_spam_auth_new(zone_path, &auth), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	om_spam_auth_free(auth);
	unlink(zone_path);
	return 0;
}

static const char *base_msg = "From: Sato <sato@partner.example>\r\n"
                              "To: staff@example.co.jp\r\n"
                              "Subject: Delivery schedule\r\n"
                              "Date: Mon, 01 Sep 2025 10:00:00 +0900\r\n"
                              "Message-ID: <m1@partner.example>\r\n"
                              "\r\n"
                              "The parts arrive on Thursday.\r\n";

static void verify(const char *msg, const char *mail_from, enum om_spam_auth spf, om_spam_env *env)
{
	memset(env, 0, sizeof(*env));
	om_spam_auth_verify(auth, (const uint8_t *)msg, strlen(msg), mail_from, spf, env);
}

static void test_org_domain(void **state)
{
	(void)state;
	assert_string_equal(om_spam_org_domain("mail.example.co.jp"), "example.co.jp");
	assert_string_equal(om_spam_org_domain("example.co.jp"), "example.co.jp");
	assert_string_equal(om_spam_org_domain("a.b.example.com"), "example.com");
	assert_string_equal(om_spam_org_domain("example.com"), "example.com");
	assert_string_equal(om_spam_org_domain("localhost"), "localhost");
}

static void test_zone_txt(void **state)
{
	(void)state;
	char t[4096];
	/* quoted strings joined, names case-insensitive with or without the root dot */
	assert_int_equal(om_spam_auth_txt(auth, "SEL1._domainkey.Partner.Example.", t, sizeof(t)),
	                 1);
	assert_true(!strncmp(t, "v=DKIM1; k=rsa; p=", 18));
	assert_int_equal(om_spam_auth_txt(auth, "nothing.example", t, sizeof(t)), 0);
}

/* RFC 6376: a good signature passes; DMARC passes by DKIM alignment (d= is
 * the From: domain) and gives the domain's policy */
static void test_signed_pass(void **state)
{
	(void)state;
	char *m = sign(base_msg, "partner.example", "sel1");
	om_spam_env env;
	verify(m, "", OM_AUTH_UNKNOWN, &env);
	assert_int_equal(env.dkim, OM_AUTH_PASS);
	assert_string_equal(env.dkim_domain, "partner.example");
	assert_string_equal(env.from_domain, "partner.example");
	assert_int_equal(env.dmarc, OM_AUTH_PASS);
	assert_string_equal(env.dmarc_policy, "reject");
	/* LF line ends (a message from a file) verify the same */
	char lf[8192];
	size_t o = 0;
	for (const char *p = m; *p && o + 1 < sizeof(lf); p++)
		if (*p != '\r')
			lf[o++] = *p;
	lf[o] = '\0';
	verify(lf, "", OM_AUTH_UNKNOWN, &env);
	assert_int_equal(env.dkim, OM_AUTH_PASS);
	free(m);
}

struct check_run {
	const om_spam_config *c;
	const om_spam_env *env;
	om_spam_result r;
};

static void check_tx(void *user, const om_proto_tx *tx)
{
	struct check_run *x = user;
	om_spam_check(x->c, tx, x->env, &x->r);
}

/* a body changed after signing: the body hash does not match (fail), and
 * with no aligned pass DMARC fails; the checks then score it and a
 * payment request from it is targeted mail (forged From:) */
static void test_tampered(void **state)
{
	(void)state;
	char *m = sign(base_msg, "partner.example", "sel1");
	char *p = strstr(m, "Thursday");
	assert_non_null(p);
	memcpy(p, "Saturday", 8);
	om_spam_env env;
	verify(m, "", OM_AUTH_UNKNOWN, &env);
	assert_int_equal(env.dkim, OM_AUTH_FAIL);
	assert_int_equal(env.dmarc, OM_AUTH_FAIL);
	assert_string_equal(env.dmarc_policy, "reject");
	free(m);

	const char *bec = "From: Sato <sato@partner.example>\r\n"
	                  "Subject: invoice\r\n"
	                  "\r\n"
	                  "Please pay the invoice to our bank account today.\r\n";
	char *s = sign(bec, "partner.example", "sel1");
	p = strstr(s, "today");
	memcpy(p, "TODAY", 5);
	verify(s, "", OM_AUTH_UNKNOWN, &env);
	assert_int_equal(env.dmarc, OM_AUTH_FAIL);
	om_spam_config c;
	om_spam_config_init(&c);
	struct check_run u = {.c = &c, .env = &env};
	struct om_proto_mail_config mc;
	om_spam_mail_limits(&mc);
	assert_int_equal(om_proto_mail_message(&mc, (const uint8_t *)s, strlen(s), check_tx, &u),
	                 0);
	bool dk = false, dm = false, ff = false;
	for (unsigned i = 0; i < u.r.nreasons; i++) {
		dk |= !strcmp(u.r.reasons[i], "dkim_fail");
		dm |= !strcmp(u.r.reasons[i], "dmarc_fail");
	}
	for (unsigned i = 0; i < u.r.nsigns; i++)
		ff |= !strcmp(u.r.signs[i], "forged_from");
	assert_true(dk && dm && ff);
	assert_true(u.r.targeted);
	assert_string_equal(u.r.dmarc_policy, "reject");
	free(s);
}

/* a signature by another domain passes DKIM but is not aligned; SPF of an
 * envelope sender under the same organisational domain aligns (relaxed),
 * and not when the record asks for strict SPF alignment */
static void test_alignment(void **state)
{
	(void)state;
	char *m = sign(base_msg, "mailer.example", "sel1");
	om_spam_env env;
	verify(m, "bounce@mailer.example", OM_AUTH_PASS, &env);
	assert_int_equal(env.dkim, OM_AUTH_PASS);
	assert_string_equal(env.dkim_domain, "mailer.example");
	assert_int_equal(env.dmarc, OM_AUTH_FAIL);
	verify(m, "bounce@bounces.partner.example", OM_AUTH_PASS, &env);
	assert_int_equal(env.dmarc, OM_AUTH_PASS);
	/* SPF that did not pass does not align */
	verify(m, "bounce@bounces.partner.example", OM_AUTH_SOFTFAIL, &env);
	assert_int_equal(env.dmarc, OM_AUTH_FAIL);
	free(m);
	const char *sm = "From: <a@strict.example>\r\nSubject: x\r\n\r\nhello\r\n";
	verify(sm, "b@mail.strict.example", OM_AUTH_PASS, &env);
	assert_int_equal(env.dmarc, OM_AUTH_FAIL); /* aspf=s */
	assert_string_equal(env.dmarc_policy, "quarantine");
	verify(sm, "b@strict.example", OM_AUTH_PASS, &env);
	assert_int_equal(env.dmarc, OM_AUTH_PASS);
}

/* RFC 7489 6.6.3: a subdomain without its own record uses the
 * organisational domain's, with sp=; no record at all is "none"; a TXT
 * that is not DMARC is no record */
static void test_policy_lookup(void **state)
{
	(void)state;
	om_spam_env env;
	verify("From: <a@news.partner.example>\r\nSubject: x\r\n\r\nhi\r\n", "", OM_AUTH_UNKNOWN,
	       &env);
	assert_int_equal(env.dkim, OM_AUTH_NONE);
	assert_int_equal(env.dmarc, OM_AUTH_FAIL);
	assert_string_equal(env.dmarc_policy, "quarantine");
	verify("From: <a@unlisted.example>\r\nSubject: x\r\n\r\nhi\r\n", "", OM_AUTH_UNKNOWN, &env);
	assert_int_equal(env.dmarc, OM_AUTH_NONE);
	assert_string_equal(env.dmarc_policy, "");
	verify("From: <a@notdmarc.example>\r\nSubject: x\r\n\r\nhi\r\n", "", OM_AUTH_UNKNOWN, &env);
	assert_int_equal(env.dmarc, OM_AUTH_NONE);
	/* folded From: with a display name */
	verify("From: \"Sato, Hanako\"\r\n <sato@Partner.Example>\r\nSubject: x\r\n\r\nhi\r\n", "",
	       OM_AUTH_UNKNOWN, &env);
	assert_string_equal(env.from_domain, "partner.example");
}

/* a signature whose key is not published: no pass, an error, not "fail" */
static void test_no_key(void **state)
{
	(void)state;
	char *m = sign(base_msg, "partner.example", "nokey");
	om_spam_env env;
	verify(m, "", OM_AUTH_UNKNOWN, &env);
	assert_true(env.dkim == OM_AUTH_PERMERROR || env.dkim == OM_AUTH_TEMPERROR);
	assert_string_equal(env.dkim_domain, "partner.example");
	assert_int_equal(env.dmarc, OM_AUTH_FAIL);
	free(m);
	/* damaged input: never a crash, no pass */
	const char *junk = "DKIM-Signature: v=1; a=rsa-sha256; d=partner.example; s=sel1; b=;"
	                   " bh=AAAA; h=from\r\nFrom: <a@partner.example>\r\n\r\nx\r\n";
	verify(junk, "", OM_AUTH_UNKNOWN, &env);
	assert_int_not_equal(env.dkim, OM_AUTH_PASS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_org_domain),  cmocka_unit_test(test_zone_txt),
	    cmocka_unit_test(test_signed_pass), cmocka_unit_test(test_tampered),
	    cmocka_unit_test(test_alignment),   cmocka_unit_test(test_policy_lookup),
	    cmocka_unit_test(test_no_key),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
