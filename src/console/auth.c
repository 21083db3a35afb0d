/* console: password hashing (argon2id), tokens and the login rate limit. */
#include <errno.h>
#include <sodium.h>
#include <string.h>

#include "console/internal.h"

static const char *const role_names[OM_ROLE__COUNT] = {
    [OM_ROLE_PROVIDER_ADMIN] = "provider-admin",
    [OM_ROLE_PROVIDER_STAFF] = "provider-staff",
    [OM_ROLE_COMPANY_ADMIN] = "company-admin",
    [OM_ROLE_COMPANY_VIEWER] = "company-viewer",
};

const char *con_role_name(int role)
{
	return role >= 0 && role < OM_ROLE__COUNT ? role_names[role] : "?";
}

int con_role_parse(const char *s, int *ret)
{
	for (int i = 0; i < OM_ROLE__COUNT; i++)
		if (s && !strcmp(s, role_names[i])) {
			*ret = i;
			return 0;
		}
	return -EINVAL;
}

int con_auth_init(void)
{
	return sodium_init() < 0 ? -EIO : 0;
}

int con_password_hash(const char *password, char *out, size_t outlen)
{
	if (outlen < crypto_pwhash_STRBYTES || strlen(password) < CON_PASSWORD_MIN)
		return -EINVAL;
	/* INTERACTIVE limits: 64 MiB and about 0.1 s on a small machine. */
	if (crypto_pwhash_str_alg(
	        out, password, strlen(password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
	        crypto_pwhash_MEMLIMIT_INTERACTIVE, crypto_pwhash_ALG_ARGON2ID13) != 0)
		return -ENOMEM;
	return 0;
}

bool con_password_verify(const char *hash, const char *password)
{
	if (!hash || !password || strnlen(hash, crypto_pwhash_STRBYTES) >= crypto_pwhash_STRBYTES)
		return false;
	return crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
}

int con_token(char out[64])
{
	unsigned char raw[32];

	randombytes_buf(raw, sizeof(raw));
	sodium_bin2base64(out, 64, raw, sizeof(raw), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof(raw));
	return 0;
}

void con_token_hash(const char *token, char out[65])
{
	unsigned char h[32];

	crypto_generichash(h, sizeof(h), (const unsigned char *)token, strlen(token), NULL, 0);
	sodium_bin2hex(out, 65, h, sizeof(h));
}

bool con_str_eq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la != lb || la == 0)
		return false;
	return sodium_memcmp(a, b, la) == 0;
}

static uint64_t rl_key(const char *key)
{
	uint64_t h = 1469598103934665603ull;

	for (const unsigned char *p = (const unsigned char *)key; *p; p++)
		h = (h ^ *p) * 1099511628211ull;
	return h | 1; /* 0 marks a free slot */
}

static size_t rl_find(con_ratelimit *rl, uint64_t k, om_usec now, bool create)
{
	size_t start = k % CON_RL_SLOTS, oldest = start;

	for (size_t i = 0; i < 8; i++) {
		size_t j = (start + i) % CON_RL_SLOTS;
		if (rl->slot[j].key == k)
			return j;
		if (rl->slot[j].key == 0 || now - rl->slot[j].first > CON_RL_WINDOW_USEC) {
			if (!create)
				continue;
			rl->slot[j].key = k;
			rl->slot[j].first = now;
			rl->slot[j].fails = 0;
			return j;
		}
		if (rl->slot[j].first < rl->slot[oldest].first)
			oldest = j;
	}
	if (!create)
		return SIZE_MAX;
	/* The table is capped: the oldest neighbour gives way. */
	rl->slot[oldest].key = k;
	rl->slot[oldest].first = now;
	rl->slot[oldest].fails = 0;
	return oldest;
}

bool con_rl_allowed(con_ratelimit *rl, const char *key, om_usec now)
{
	size_t j = rl_find(rl, rl_key(key), now, false);

	if (j == SIZE_MAX)
		return true;
	if (now - rl->slot[j].first > CON_RL_WINDOW_USEC) {
		rl->slot[j].key = 0;
		return true;
	}
	return rl->slot[j].fails < CON_RL_MAX_FAILS;
}

void con_rl_fail(con_ratelimit *rl, const char *key, om_usec now)
{
	size_t j = rl_find(rl, rl_key(key), now, true);

	if (now - rl->slot[j].first > CON_RL_WINDOW_USEC) {
		rl->slot[j].first = now;
		rl->slot[j].fails = 0;
	}
	rl->slot[j].fails++;
}

void con_rl_clear(con_ratelimit *rl, const char *key)
{
	size_t j = rl_find(rl, rl_key(key), 0, false);

	if (j != SIZE_MAX)
		rl->slot[j].key = 0;
}
