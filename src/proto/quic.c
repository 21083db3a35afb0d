/* quic.c: the quic parser. Recognises QUIC v1 (RFC 9000) and v2 (RFC 9369)
 * long-header Initial packets by content, removes their protection with the
 * keys every observer can derive (RFC 9001 section 5: the version's
 * published salt and the client's first Destination Connection ID),
 * reassembles each side's CRYPTO frames (up to app-layer.quic.max-crypto
 * bytes), reads the ClientHello (SNI, ALPN, JA3, JA4 with the "q" prefix)
 * and the ServerHello (JA3S) with the TLS code and writes a `quic` record
 * for each, as Suricata 7 does; a side is bypassed once its hello was
 * read. See docs/proto-tls.md. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "proto/internal.h"
#include "proto/tlshello.h"

#define F(m) offsetof(struct om_proto_quic_config, m), sizeof(((struct om_proto_quic_config *)0)->m)
static const om_config_key quic_keys[] = {
    {"app-layer.quic.enabled", OM_CK_BOOL, F(enabled), 0, 0, "config.help.app-layer.quic.enabled",
     NULL, NULL},
    {"app-layer.quic.max-crypto", OM_CK_U32, F(max_crypto), 1024, 1u << 20,
     "config.help.app-layer.quic.max-crypto", NULL, NULL},
};
#undef F

static void quic_defaults(void *obj)
{
	struct om_proto_quic_config *c = obj;
	c->enabled = true;
	c->max_crypto = 16384;
}

const om_config_schema proto_quic_schema = {
    "proto",       quic_keys, OM_ARRAY_SIZE(quic_keys), sizeof(struct om_proto_quic_config),
    quic_defaults, NULL,
};

/* ---- versions and keys (RFC 9001 section 5, RFC 9369 section 3) ---------------- */

#define QUIC_V1 0x00000001u
#define QUIC_V2 0x6b3343cfu

static const uint8_t salt_v1[20] = {0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
                                    0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a};
static const uint8_t salt_v2[20] = {0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93,
                                    0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9};

/* HKDF-Expand-Label (RFC 8446 section 7.1) with an empty context, for
 * outputs of at most one SHA-256 block */
static int expand_label(const uint8_t prk[32], const char *label, uint8_t *out, size_t len)
{
	uint8_t info[2 + 1 + 32 + 1 + 1];
	size_t ll = strlen(label);
	if (len > 32 || 6 + ll > 32)
		return -EINVAL;
	size_t n = 0;
	info[n++] = 0;
	info[n++] = (uint8_t)len;
	info[n++] = (uint8_t)(6 + ll);
	memcpy(info + n, "tls13 ", 6);
	n += 6;
	memcpy(info + n, label, ll);
	n += ll;
	info[n++] = 0;    /* context */
	info[n++] = 0x01; /* the first block's counter */
	uint8_t t[EVP_MAX_MD_SIZE];
	unsigned tl = 0;
	if (!HMAC(EVP_sha256(), prk, 32, info, n, t, &tl) || tl != 32)
		return -EIO;
	memcpy(out, t, len);
	return 0;
}

struct quic_keys {
	uint8_t key[16], iv[12], hp[16];
};

/* the Initial keys of both sides ([OM_DIR_TOSERVER]: "client in",
 * [OM_DIR_TOCLIENT]: "server in") for version v and the client's first
 * DCID */
static int initial_keys(uint32_t v, const uint8_t *dcid, size_t dlen, struct quic_keys ret[2])
{
	uint8_t prk[EVP_MAX_MD_SIZE], sec[32];
	unsigned pl = 0;
	bool two = v == QUIC_V2;
	const uint8_t *salt = two ? salt_v2 : salt_v1;
	if (!HMAC(EVP_sha256(), salt, 20, dcid, dlen, prk, &pl) || pl != 32)
		return -EIO;
	for (int dir = 0; dir < 2; dir++) {
		struct quic_keys *k = &ret[dir];
		if (expand_label(prk, dir == OM_DIR_TOSERVER ? "client in" : "server in", sec, 32) <
		        0 ||
		    expand_label(sec, two ? "quicv2 key" : "quic key", k->key, 16) < 0 ||
		    expand_label(sec, two ? "quicv2 iv" : "quic iv", k->iv, 12) < 0 ||
		    expand_label(sec, two ? "quicv2 hp" : "quic hp", k->hp, 16) < 0)
			return -EIO;
	}
	return 0;
}

/* ---- state ----------------------------------------------------------------- */

#define PLAIN_MAX 65536 /* a UDP datagram's payload at most */

enum { A_DECRYPT, A_DATA, A_CRYPTO_LONG, A_COUNT };
static const char *const anomaly_names[A_COUNT] = {"FAILED_DECRYPT", "ERROR_ON_DATA",
                                                   "CRYPTO_FRAG_TOO_LONG"};

/* server datagrams read after the ClientHello while waiting for the
 * ServerHello, at most */
#define TC_WAIT 16

/* one side's CRYPTO stream and hello */
struct quic_side {
	struct quic_keys k;
	EVP_CIPHER_CTX *ecb; /* header protection, keyed with k.hp */
	uint8_t *crypto;     /* the CRYPTO stream from offset 0 */
	uint8_t *have;       /* a bit per byte of crypto received */
	uint32_t contig;     /* bytes from 0 received without a hole */
	bool done, have_hello, logged;
	struct tls_hello h;
};

struct quic_state {
	struct om_proto_quic_config cfg;
	uint32_t version;
	bool keyed;
	unsigned anomalies, tc_wait;
	EVP_CIPHER_CTX *aead;
	uint8_t *plain; /* one packet's plaintext */
	uint32_t plain_cap;
	struct quic_side side[2];
};

static void anomaly(struct quic_state *s, om_flow *f, int dir, int which)
{
	if (s->anomalies & (1u << which))
		return;
	s->anomalies |= 1u << which;
	proto_anomaly(f, dir, "quic", anomaly_names[which]);
}

/* ---- the record ------------------------------------------------------------ */

static const char *ext_name(uint16_t t)
{
	switch (t) {
	case 0: return "server_name";
	case 5: return "status_request";
	case 10: return "supported_groups";
	case 11: return "ec_point_formats";
	case 13: return "signature_algorithms";
	case 16: return "alpn";
	case 18: return "signed_certificate_timestamp";
	case 21: return "padding";
	case 22: return "encrypt_then_mac";
	case 23: return "extended_master_secret";
	case 27: return "compress_certificate";
	case 28: return "record_size_limit";
	case 35: return "session_ticket";
	case 41: return "pre_shared_key";
	case 42: return "early_data";
	case 43: return "supported_versions";
	case 44: return "cookie";
	case 45: return "psk_key_exchange_modes";
	case 50: return "signature_algorithms_cert";
	case 51: return "key_share";
	case 57: return "quic_transport_parameters";
	case 0xff01: return "renegotiation_info";
	case 0xfe0d: return "encrypted_client_hello";
	default: return NULL;
	}
}

static const char *tls_ver_debug(uint16_t v)
{
	switch (v) {
	case 0x0304: return "Tls13";
	case 0x0303: return "Tls12";
	case 0x0302: return "Tls11";
	case 0x0301: return "Tls10";
	case 0x0300: return "Ssl30";
	default: return NULL;
	}
}

struct quic_rec {
	const struct quic_state *s;
	int dir;
};

static void write_extensions(om_json *j, const struct tls_hello *h)
{
	om_json_arr_open(j, "extensions");
	for (unsigned i = 0; i < h->nexts; i++) {
		uint16_t t = h->exts[i];
		om_json_obj_open(j, NULL);
		const char *nm = ext_name(t);
		if (nm)
			om_json_str(j, "name", nm);
		om_json_u64(j, "type", t);
		if (t == 0 && h->sni_len) {
			om_json_arr_open(j, "values");
			om_json_strn(j, NULL, h->sni, h->sni_len);
			om_json_arr_close(j);
		} else if (t == 13 && h->nsigalgs) {
			om_json_arr_open(j, "values");
			for (unsigned k = 0; k < h->nsigalgs; k++) {
				char num[8];
				snprintf(num, sizeof(num), "%u", h->sigalgs[k]);
				om_json_str(j, NULL, num);
			}
			om_json_arr_close(j);
		} else if (t == 16 && h->alpn_len) {
			om_json_arr_open(j, "values");
			for (size_t k = 0; k + 1 <= h->alpn_len;) {
				size_t l = h->alpn[k];
				if (k + 1 + l > h->alpn_len)
					break;
				om_json_strn(j, NULL, (const char *)h->alpn + k + 1, l);
				k += 1 + l;
			}
			om_json_arr_close(j);
		} else if (t == 43 && h->nversions) {
			om_json_arr_open(j, "values");
			for (unsigned k = 0; k < h->nversions; k++) {
				const char *vn = tls_ver_debug(h->versions[k]);
				if (vn)
					om_json_str(j, NULL, vn);
			}
			om_json_arr_close(j);
		}
		om_json_obj_close(j);
	}
	om_json_arr_close(j);
}

static void quic_body(om_json *j, void *arg)
{
	const struct quic_rec *r = arg;
	const struct quic_state *s = r->s;
	const struct quic_side *sd = &s->side[r->dir];
	const struct tls_hello *h = &sd->h;
	char ver[16];
	if (s->version == QUIC_V1)
		snprintf(ver, sizeof(ver), "1");
	else
		snprintf(ver, sizeof(ver), "%x", s->version);
	om_json_obj_open(j, "quic");
	om_json_str(j, "version", ver);
	if (sd->have_hello) {
		if (h->client && h->has_sni && h->sni_len)
			om_json_strn(j, "sni", h->sni, h->sni_len);
		char str[TLS_JA3_MAX], md5[33];
		size_t n = tls_ja3(h, str, sizeof(str), md5);
		om_json_obj_open(j, h->client ? "ja3" : "ja3s");
		om_json_str(j, "hash", md5);
		om_json_strn(j, "string", str, n);
		om_json_obj_close(j);
		if (h->client) {
			char ja4[TLS_JA4_LEN + 1];
			tls_ja4(h, 'q', ja4);
			om_json_str(j, "ja4", ja4);
		}
		write_extensions(j, h);
	}
	om_json_obj_close(j);
}

/* ---- the transactions for the observers (one per side) ------------------------ */

struct quic_tx {
	struct quic_rec r;
	struct tls_txview v;
};

static const uint8_t *quic_tx_buffer(const om_proto_tx *tx, enum om_tx_buf b, uint32_t idx,
                                     uint32_t *ret_len)
{
	struct quic_tx *t = tx->priv;
	return tls_hello_buffer(&t->v, b, idx, ret_len);
}

static void quic_tx_json(om_json *j, void *arg)
{
	struct quic_tx *t = arg;
	quic_body(j, &t->r);
}

static void tx_show(struct quic_state *s, om_flow *f, int dir)
{
	struct om_proto_worker *w = proto_worker(f);
	if (!w || !w->p->nobs)
		return;                         /* nobody looks: nothing to make */
	struct quic_tx *t = malloc(sizeof(*t)); /* two JA3 strings: not on the stack */
	if (!t)
		return;
	t->r = (struct quic_rec){s, dir};
	memset(&t->v, 0, offsetof(struct tls_txview, ja3));
	const struct quic_side *c = &s->side[OM_DIR_TOSERVER], *sv = &s->side[OM_DIR_TOCLIENT];
	t->v.ch = c->have_hello ? &c->h : NULL;
	t->v.sh = sv->have_hello ? &sv->h : NULL;
	t->v.transport = 'q';
	om_proto_tx tx = {.app_proto = "quic",
	                  .tx_id = 0, /* one: the hellos are its request and response */
	                  .progress = dir == OM_DIR_TOSERVER ? OM_TX_REQUEST
	                                                     : OM_TX_REQUEST | OM_TX_RESPONSE,
	                  .dir = dir,
	                  .buffer = quic_tx_buffer,
	                  .json = quic_tx_json,
	                  .priv = t};
	proto_tx_ready(f, &tx);
	free(t);
}

/* the record of one side: the client's always once keys were made, the
 * server's only when its ServerHello was read */
static void log_side(struct quic_state *s, om_flow *f, int dir)
{
	struct quic_side *sd = &s->side[dir];
	if (sd->logged || !s->keyed || (dir == OM_DIR_TOCLIENT && !sd->have_hello))
		return;
	sd->logged = true;
	tx_show(s, f, dir);
	struct quic_rec r = {s, dir};
	om_proto_event ev = {.event_type = "quic", .dir = dir, .body = quic_body, .arg = &r};
	proto_event(f, &ev);
}

/* ---- parsing ----------------------------------------------------------------- */

/* a variable-length integer (RFC 9000 section 16); false when cut short */
static bool varint(const uint8_t **p, const uint8_t *end, uint64_t *ret)
{
	if (*p >= end)
		return false;
	size_t n = (size_t)1 << (**p >> 6);
	if ((size_t)(end - *p) < n)
		return false;
	uint64_t v = **p & 0x3f;
	for (size_t i = 1; i < n; i++)
		v = v << 8 | (*p)[i];
	*p += n;
	*ret = v;
	return true;
}

/* CRYPTO bytes of side dir at offset off; its hello once it is whole */
static void crypto_data(struct quic_state *s, om_flow *f, int dir, uint64_t off, const uint8_t *d,
                        uint64_t len)
{
	struct quic_side *sd = &s->side[dir];
	uint32_t max = s->cfg.max_crypto;
	if (off > max || len > max - off) {
		anomaly(s, f, dir, A_CRYPTO_LONG);
		return;
	}
	if (!sd->crypto) {
		sd->crypto = malloc(max);
		sd->have = calloc((max + 7) / 8, 1);
		if (!sd->crypto || !sd->have) {
			sd->done = true; /* no memory: the hello is not read */
			return;
		}
	}
	memcpy(sd->crypto + off, d, len);
	for (uint64_t i = off; i < off + len; i++)
		sd->have[i >> 3] |= (uint8_t)(1u << (i & 7));
	while (sd->contig < max && (sd->have[sd->contig >> 3] >> (sd->contig & 7) & 1))
		sd->contig++;
	if (sd->contig < 4)
		return;
	bool client = dir == OM_DIR_TOSERVER;
	if (sd->crypto[0] != (client ? 1 : 2)) { /* not the hello */
		anomaly(s, f, dir, A_DATA);
		sd->done = true;
		return;
	}
	uint32_t ml = (uint32_t)(sd->crypto[1] << 16 | sd->crypto[2] << 8 | sd->crypto[3]);
	if (ml > max - 4) {
		anomaly(s, f, dir, A_CRYPTO_LONG);
		sd->done = true;
		return;
	}
	if (sd->contig < 4 + ml)
		return;
	if (tls_hello_parse(sd->crypto + 4, ml, client, &sd->h) < 0)
		anomaly(s, f, dir, A_DATA);
	else
		sd->have_hello = true;
	sd->done = true;
}

/* the frames of one Initial packet's plaintext */
static void frames(struct quic_state *s, om_flow *f, int dir, const uint8_t *p, size_t n)
{
	const uint8_t *end = p + n;
	while (p < end && !s->side[dir].done) {
		uint64_t type, a, b, c;
		if (!varint(&p, end, &type))
			goto bad;
		switch (type) {
		case 0x00: /* PADDING */
		case 0x01: /* PING */ break;
		case 0x02:
		case 0x03: { /* ACK */
			uint64_t count;
			if (!varint(&p, end, &a) || !varint(&p, end, &b) ||
			    !varint(&p, end, &count) || !varint(&p, end, &c))
				goto bad;
			for (uint64_t i = 0; i < count; i++)
				if (!varint(&p, end, &a) || !varint(&p, end, &b))
					goto bad;
			if (type == 0x03)
				for (int i = 0; i < 3; i++)
					if (!varint(&p, end, &a))
						goto bad;
			break;
		}
		case 0x06: /* CRYPTO */
			if (!varint(&p, end, &a) || !varint(&p, end, &b) || b > (uint64_t)(end - p))
				goto bad;
			crypto_data(s, f, dir, a, p, b);
			p += b;
			break;
		case 0x1c:
		case 0x1d: /* CONNECTION_CLOSE */
			if (!varint(&p, end, &a) || (type == 0x1c && !varint(&p, end, &b)) ||
			    !varint(&p, end, &c) || c > (uint64_t)(end - p))
				goto bad;
			p += c;
			break;
		default: /* not allowed in an Initial packet */ goto bad;
		}
	}
	return;
bad:
	anomaly(s, f, dir, A_DATA);
}

static int ensure_ctx(struct quic_state *s)
{
	if (!s->aead)
		s->aead = EVP_CIPHER_CTX_new();
	if (!s->aead)
		return -ENOMEM;
	for (int dir = 0; dir < 2; dir++) {
		struct quic_side *sd = &s->side[dir];
		if (!sd->ecb)
			sd->ecb = EVP_CIPHER_CTX_new();
		if (!sd->ecb)
			return -ENOMEM;
		if (!EVP_EncryptInit_ex(sd->ecb, EVP_aes_128_ecb(), NULL, sd->k.hp, NULL))
			return -EIO;
		EVP_CIPHER_CTX_set_padding(sd->ecb, 0);
	}
	return 0;
}

/* Removes header and packet protection from one Initial packet: hdr..pn is
 * the header up to the packet number, len the Length field (packet number
 * and payload). Returns the plaintext's length, or -1. */
static long unprotect(struct quic_state *s, int dir, const uint8_t *hdr, size_t pn_off, size_t len)
{
	const struct quic_keys *k = &s->side[dir].k;
	const uint8_t *pn = hdr + pn_off;
	if (len < 4 + 16)
		return -1;
	uint8_t mask[32];
	int ml = 0;
	if (!EVP_EncryptUpdate(s->side[dir].ecb, mask, &ml, pn + 4, 16) || ml != 16)
		return -1;
	uint8_t first = hdr[0] ^ (mask[0] & 0x0f);
	size_t pnl = (size_t)(first & 3) + 1;
	uint8_t pnb[4];
	uint64_t pnum = 0;
	for (size_t i = 0; i < pnl; i++) {
		pnb[i] = pn[i] ^ mask[1 + i];
		pnum = pnum << 8 | pnb[i];
	}
	if (len < pnl + 16)
		return -1;
	size_t clen = len - pnl - 16;
	if (clen > s->plain_cap || !s->plain) {
		/* at least one byte: the buffer is never NULL past here */
		uint8_t *np = realloc(s->plain, clen ? clen : 1);
		if (!np)
			return -1;
		s->plain = np;
		s->plain_cap = (uint32_t)(clen ? clen : 1);
	}
	uint8_t nonce[12];
	memcpy(nonce, k->iv, 12);
	for (int i = 0; i < 8; i++)
		nonce[11 - i] ^= (uint8_t)(pnum >> (8 * i));
	const uint8_t *ct = pn + pnl;
	int outl = 0, fin = 0;
	if (!EVP_DecryptInit_ex(s->aead, EVP_aes_128_gcm(), NULL, NULL, NULL) ||
	    !EVP_CIPHER_CTX_ctrl(s->aead, EVP_CTRL_GCM_SET_IVLEN, 12, NULL) ||
	    !EVP_DecryptInit_ex(s->aead, NULL, NULL, k->key, nonce))
		return -1;
	/* the associated data: the header with its protection removed */
	if (!EVP_DecryptUpdate(s->aead, NULL, &outl, &first, 1) ||
	    (pn_off > 1 && !EVP_DecryptUpdate(s->aead, NULL, &outl, hdr + 1, (int)pn_off - 1)) ||
	    !EVP_DecryptUpdate(s->aead, NULL, &outl, pnb, (int)pnl))
		return -1;
	if (clen && !EVP_DecryptUpdate(s->aead, s->plain, &outl, ct, (int)clen))
		return -1;
	if (!EVP_CIPHER_CTX_ctrl(s->aead, EVP_CTRL_GCM_SET_TAG, 16, (void *)(ct + clen)))
		return -1;
	if (EVP_DecryptFinal_ex(s->aead, s->plain + (clen ? outl : 0), &fin) <= 0)
		return -1;
	return (long)clen;
}

static bool is_initial(uint32_t v, uint8_t b0)
{
	unsigned t = (b0 >> 4) & 3;
	return v == QUIC_V2 ? t == 1 : t == 0;
}

static bool is_retry(uint32_t v, uint8_t b0)
{
	unsigned t = (b0 >> 4) & 3;
	return v == QUIC_V2 ? t == 0 : t == 3;
}

/* one datagram of side dir: its coalesced long-header packets */
static void datagram(struct quic_state *s, om_flow *f, int dir, const uint8_t *d, size_t n)
{
	const uint8_t *p = d, *end = d + n;
	while (p < end && !s->side[dir].done) {
		const uint8_t *hdr = p;
		if (end - p < 7 || !(p[0] & 0x80))
			return; /* a short header (or padding) ends the datagram */
		uint32_t v =
		    (uint32_t)p[1] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 8 | p[4];
		if (v != QUIC_V1 && v != QUIC_V2)
			return;
		p += 5;
		size_t dl = *p++;
		if (dl > 20 || (size_t)(end - p) < dl + 1)
			goto bad;
		const uint8_t *dcid = p;
		p += dl;
		size_t sl = *p++;
		if (sl > 20 || (size_t)(end - p) < sl)
			goto bad;
		p += sl;
		if (is_retry(v, hdr[0])) {
			/* the client starts again with the Retry's SCID as its
			 * DCID: new keys from its next Initial (RFC 9001 5.2) */
			if (dir == OM_DIR_TOCLIENT && s->keyed && !s->side[OM_DIR_TOSERVER].done)
				s->keyed = false;
			return;
		}
		bool initial = is_initial(v, hdr[0]);
		uint64_t tl, len;
		if (initial) {
			if (!varint(&p, end, &tl) || tl > (uint64_t)(end - p))
				goto bad;
			p += tl;
		}
		if (!varint(&p, end, &len) || len > (uint64_t)(end - p))
			goto bad;
		size_t pn_off = (size_t)(p - hdr);
		p += len;
		if (!initial)
			continue;
		if (!s->keyed) {
			/* the keys of both sides come from the client's first
			 * Initial's DCID and stay */
			if (dir != OM_DIR_TOSERVER)
				return;
			struct quic_keys k[2];
			if (initial_keys(v, dcid, dl, k) < 0)
				return;
			s->side[0].k = k[0];
			s->side[1].k = k[1];
			if (ensure_ctx(s) < 0)
				return;
			s->version = v;
			s->keyed = true;
		} else if (v != s->version) {
			continue;
		}
		long pl = unprotect(s, dir, hdr, pn_off, (size_t)len);
		if (pl < 0) {
			anomaly(s, f, dir, A_DECRYPT);
			continue;
		}
		frames(s, f, dir, s->plain, (size_t)pl);
	}
	return;
bad:
	anomaly(s, f, dir, A_DATA);
}

/* a side that is done needs its CRYPTO buffer no more; once both are,
 * the cipher contexts and the plaintext buffer go too (the hellos stay
 * for a record written at the flow's end) */
static void release(struct quic_state *s)
{
	for (int dir = 0; dir < 2; dir++) {
		struct quic_side *sd = &s->side[dir];
		if (!sd->done)
			continue;
		free(sd->crypto);
		free(sd->have);
		sd->crypto = sd->have = NULL;
	}
	if (!s->side[0].done || !s->side[1].done)
		return;
	EVP_CIPHER_CTX_free(s->aead);
	s->aead = NULL;
	for (int dir = 0; dir < 2; dir++) {
		EVP_CIPHER_CTX_free(s->side[dir].ecb);
		s->side[dir].ecb = NULL;
	}
	free(s->plain);
	s->plain = NULL;
	s->plain_cap = 0;
}

static int quic_data(void *st, om_flow *f, int dir, const uint8_t *d, uint32_t n, unsigned flags)
{
	struct quic_state *s = st;
	(void)flags;
	struct quic_side *sd = &s->side[dir];
	if (sd->done)
		return 0;
	if (dir == OM_DIR_TOCLIENT && s->side[OM_DIR_TOSERVER].done && ++s->tc_wait > TC_WAIT) {
		/* no ServerHello in the server's first datagrams: stop */
		sd->done = true;
		om_app_bypass(f, OM_APP_BYPASS_TC);
		release(s);
		return 0;
	}
	datagram(s, f, dir, d, n);
	if (sd->done) {
		log_side(s, f, dir);
		om_app_bypass(f, dir == OM_DIR_TOSERVER ? OM_APP_BYPASS_TS : OM_APP_BYPASS_TC);
		release(s);
	}
	return 0;
}

static void quic_end(void *st, om_flow *f, int dir, enum om_app_end why)
{
	(void)why;
	log_side(st, f, dir);
}

static void *quic_new(om_flow *f, void *user, void *wctx)
{
	(void)user;
	(void)wctx;
	struct quic_state *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	struct om_proto_worker *w = proto_worker(f);
	if (w)
		s->cfg = w->p->cfg.quic;
	else
		quic_defaults(&s->cfg);
	return s;
}

static void quic_free(void *st, void *user)
{
	(void)user;
	struct quic_state *s = st;
	if (!s)
		return;
	EVP_CIPHER_CTX_free(s->aead);
	for (int dir = 0; dir < 2; dir++) {
		EVP_CIPHER_CTX_free(s->side[dir].ecb);
		free(s->side[dir].crypto);
		free(s->side[dir].have);
	}
	free(s->plain);
	free(s);
}

/* a client's Initial of a version we can read: long header with the fixed
 * bit, version v1 or v2, the version's Initial type, connection IDs of at
 * most 20 bytes */
static enum om_app_probe quic_probe(const om_flow *f, const uint8_t *d, uint32_t n, void *w)
{
	(void)f;
	(void)w;
	if (n < 7 || (d[0] & 0xc0) != 0xc0)
		return OM_APP_PROBE_NO;
	uint32_t v = (uint32_t)d[1] << 24 | (uint32_t)d[2] << 16 | (uint32_t)d[3] << 8 | d[4];
	if ((v != QUIC_V1 && v != QUIC_V2) || !is_initial(v, d[0]) || d[5] > 20)
		return OM_APP_PROBE_NO;
	if (n < 7u + d[5] || d[6 + d[5]] > 20)
		return OM_APP_PROBE_NO;
	return OM_APP_PROBE_YES;
}

static const om_app_parser quic_parser = {
    .name = "quic",
    .ipprotos = OM_APP_UDP,
    .ports = {443},
    .probe_ts = quic_probe,
    .state_new = quic_new,
    .data = quic_data,
    .end = quic_end,
    .state_free = quic_free,
};

/* The settings are reached through the flow's proto worker, so the
 * description stays constant and nothing here is global. */
int proto_quic_register(om_proto *p, om_app_registry *reg)
{
	if (!p->cfg.quic.enabled)
		return 0;
	return om_app_register(reg, &quic_parser, NULL);
}
