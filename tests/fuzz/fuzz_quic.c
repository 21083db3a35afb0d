/* libFuzzer target for the quic parser (src/proto/quic.c, tlshello.c),
 * through the real flow table and app-layer with the proto module's worker
 * (tests/fuzz/fuzz_tls_fx.h). Input:
 *   byte 0: bit 0: 0 the chunks are whole datagrams as sent; 1 each chunk
 *           is the plaintext of a client Initial that this target protects
 *           itself (RFC 9001 section 5: DCID 8394c8f03e515708, packet
 *           numbers from 0, 4-byte packet number), so that the frame and
 *           CRYPTO parsing and the ClientHello behind the decryption are
 *           reached; bit 1: QUIC v2 instead of v1 (protected mode);
 *           bits 2-3 choose app-layer.quic.max-crypto (16384, 1024, 4096,
 *           65536)
 *   then chunks: ctl (bit 0: from the server; in protected mode with the
 *           server's Initial keys), length (2 bytes, big-endian, cut to
 *           what is left), the bytes.
 * Seeds: tests/fuzz/seeds-quic (the RFC 9001/9369 client Initials, and
 * the plaintext of their CRYPTO frame). */
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "fuzz_tls_fx.h"

static const uint8_t dcid[8] = {0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08};

static void label(const uint8_t *prk, const char *l, uint8_t *out, size_t len)
{
	uint8_t info[64];
	size_t ll = strlen(l), n = 0;
	info[n++] = 0;
	info[n++] = (uint8_t)len;
	info[n++] = (uint8_t)(6 + ll);
	memcpy(info + n, "tls13 ", 6);
	n += 6;
	memcpy(info + n, l, ll);
	n += ll;
	info[n++] = 0;
	info[n++] = 1;
	uint8_t t[64];
	unsigned tl;
	HMAC(EVP_sha256(), prk, 32, info, n, t, &tl);
	memcpy(out, t, len);
}

struct keys {
	uint8_t key[16], iv[12], hp[16];
};

static void derive(bool v2, struct keys k[2])
{
	static const uint8_t s1[20] = {0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
	                               0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a};
	static const uint8_t s2[20] = {0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93,
	                               0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9};
	uint8_t prk[64], cl[32];
	unsigned pl;
	HMAC(EVP_sha256(), v2 ? s2 : s1, 20, dcid, sizeof(dcid), prk, &pl);
	for (int i = 0; i < 2; i++) {
		label(prk, i ? "server in" : "client in", cl, 32);
		label(cl, v2 ? "quicv2 key" : "quic key", k[i].key, 16);
		label(cl, v2 ? "quicv2 iv" : "quic iv", k[i].iv, 12);
		label(cl, v2 ? "quicv2 hp" : "quic hp", k[i].hp, 16);
	}
}

/* writes a protected Initial carrying pt into out; returns its length */
static size_t protect(const struct keys *k, bool v2, uint32_t pn, const uint8_t *pt, size_t n,
                      uint8_t *out)
{
	size_t h = 0;
	out[h++] = (uint8_t)(0xc0 | (v2 ? 0x10 : 0x00) | 0x03);
	uint32_t v = v2 ? 0x6b3343cfu : 1u;
	for (int i = 3; i >= 0; i--)
		out[h++] = (uint8_t)(v >> (8 * i));
	out[h++] = sizeof(dcid);
	memcpy(out + h, dcid, sizeof(dcid));
	h += sizeof(dcid);
	out[h++] = 0; /* SCID */
	out[h++] = 0; /* token */
	size_t len = 4 + n + 16;
	out[h++] = (uint8_t)(0x40 | len >> 8);
	out[h++] = (uint8_t)len;
	size_t pn_off = h;
	for (int i = 3; i >= 0; i--)
		out[h++] = (uint8_t)(pn >> (8 * i));
	uint8_t nonce[12];
	memcpy(nonce, k->iv, 12);
	for (int i = 0; i < 4; i++)
		nonce[11 - i] ^= (uint8_t)(pn >> (8 * i));
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int ol;
	EVP_EncryptInit_ex(c, EVP_aes_128_gcm(), NULL, NULL, NULL);
	EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, 12, NULL);
	EVP_EncryptInit_ex(c, NULL, NULL, k->key, nonce);
	EVP_EncryptUpdate(c, NULL, &ol, out, (int)h);
	if (n)
		EVP_EncryptUpdate(c, out + h, &ol, pt, (int)n);
	EVP_EncryptFinal_ex(c, out + h + n, &ol);
	EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, out + h + n);
	EVP_CIPHER_CTX_free(c);
	uint8_t mask[32];
	c = EVP_CIPHER_CTX_new();
	EVP_EncryptInit_ex(c, EVP_aes_128_ecb(), NULL, k->hp, NULL);
	EVP_CIPHER_CTX_set_padding(c, 0);
	EVP_EncryptUpdate(c, mask, &ol, out + pn_off + 4, 16);
	EVP_CIPHER_CTX_free(c);
	out[0] ^= mask[0] & 0x0f;
	for (int i = 0; i < 4; i++)
		out[pn_off + (size_t)i] ^= mask[1 + i];
	return h + n + 16;
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	static const uint32_t maxc[4] = {0, 1024, 4096, 65536};
	static uint8_t pkt[65536 + 64];
	if (n < 1)
		return 0;
	bool prot = d[0] & 1, v2 = d[0] & 2;
	struct tfx x;
	tfx_init(&x, 0, maxc[(d[0] >> 2) & 3]);
	struct keys k[2];
	if (prot)
		derive(v2, k);
	uint32_t pn[2] = {0, 0};
	size_t i = 1;
	while (i + 3 <= n) {
		uint8_t ctl = d[i];
		size_t len = (size_t)(d[i + 1] << 8 | d[i + 2]);
		i += 3;
		if (len > n - i)
			len = n - i;
		if (prot) {
			if (len <= 16000) {
				int dir = (ctl & 1) ? OM_DIR_TOCLIENT : OM_DIR_TOSERVER;
				size_t m = protect(&k[dir], v2, pn[dir]++, d + i, len, pkt);
				tfx_udp(&x, dir, pkt, (uint32_t)m);
			}
		} else if (len) {
			tfx_udp(&x, (ctl & 1) ? OM_DIR_TOCLIENT : OM_DIR_TOSERVER, d + i,
			        (uint32_t)len);
		}
		i += len;
	}
	tfx_free(&x);
	return 0;
}
