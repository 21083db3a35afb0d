/* libFuzzer target: the parsers of src/guard/spam_auth.c and
 * spam_corr.c on hostile input. Byte 0 chooses what the rest is:
 *   0: a zone file (name TXT-data lines); then a message from
 *      fuzz.example is verified against it, so its DKIM key record goes to
 *      libopendkim and its _dmarc record to our DMARC parser;
 *   1: a message, verified against a fixed zone (the From: parser, the
 *      DKIM-Signature through libopendkim, DMARC alignment);
 *   2: a correspondent history journal, read, added to and compacted. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "guard/guard.h"

static char fixed_zone[] = "/tmp/fuzz_spam_auth_zoneXXXXXX";
static char work[] = "/tmp/fuzz_spam_auth_inXXXXXX";
static om_spam_auth_ctx *fixed;

static const char signed_msg[] =
    "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=fuzz.example; s=s1;\r\n"
    "\th=from:subject; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;\r\n"
    "\tb=dGVzdA==\r\n"
    "From: A <a@fuzz.example>\r\nSubject: x\r\n\r\n";

static void write_file(const char *path, const uint8_t *d, size_t n)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		abort();
	if (n && fwrite(d, 1, n, f) != n)
		abort();
	fclose(f);
}

static void init(void)
{
	int fd = mkstemp(fixed_zone);
	if (fd < 0)
		abort();
	close(fd);
	static const char z[] = "s1._domainkey.fuzz.example v=DKIM1; k=rsa; p=AAAA\n"
	                        "_dmarc.fuzz.example v=DMARC1; p=reject; adkim=s; aspf=r\n"
	                        "_dmarc.example.co.jp v=DMARC1; p=quarantine; sp=none\n";
	write_file(fixed_zone, (const uint8_t *)z, sizeof(z) - 1);
	if (om_spam_auth_new(fixed_zone, &fixed) < 0)
		abort();
	fd = mkstemp(work);
	if (fd < 0)
		abort();
	close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!fixed)
		init();
	if (!size)
		return 0;
	om_spam_env env;
	memset(&env, 0, sizeof(env));
	switch (data[0] % 3) {
	case 0: {
		write_file(work, data + 1, size - 1);
		om_spam_auth_ctx *a;
		if (om_spam_auth_new(work, &a) < 0)
			return 0;
		om_spam_auth_verify(a, (const uint8_t *)signed_msg, sizeof(signed_msg) - 1,
		                    "b@mail.fuzz.example", OM_AUTH_PASS, &env);
		char t[512];
		(void)om_spam_auth_txt(a, "_dmarc.fuzz.example", t, sizeof(t));
		om_spam_auth_free(a);
		break;
	}
	case 1:
		om_spam_auth_verify(fixed, data + 1, size - 1, "x@fuzz.example", OM_AUTH_PASS, &env);
		if (strlen(env.from_domain) >= sizeof(env.from_domain))
			abort();
		(void)om_spam_org_domain(env.from_domain);
		break;
	default: {
		write_file(work, data + 1, size - 1);
		om_spam_corr *c;
		if (om_spam_corr_open(work, 8, &c) < 0)
			return 0;
		(void)om_spam_corr_known(c, "fuzz.example");
		(void)om_spam_corr_add(c, "fuzz.example", 1);
		(void)om_spam_corr_look_alike(c, "fuzz.exampie", om_spam_look_alike, NULL, 0);
		om_spam_corr_close(c);
		break;
	}
	}
	return 0;
}
