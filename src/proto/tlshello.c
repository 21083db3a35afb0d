/* tlshello.c: ClientHello and ServerHello parsing and the JA3, JA3S and JA4
 * fingerprints, shared by the tls and quic parsers. Every length is checked
 * against its container; lists longer than their caps are cut (counted as
 * truncated), never grown. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "proto/digest.h"
#include "proto/tlshello.h"

#define OM_N(a) (sizeof(a) / sizeof((a)[0]))

bool tls_is_grease(uint16_t v)
{
	return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

/* a bounded reader over one container */
struct rd {
	const uint8_t *p;
	size_t n;
	bool bad;
};

static uint32_t rd_u(struct rd *r, size_t w)
{
	if (r->bad || r->n < w) {
		r->bad = true;
		r->n = 0;
		return 0;
	}
	uint32_t v = 0;
	for (size_t i = 0; i < w; i++)
		v = v << 8 | r->p[i];
	r->p += w;
	r->n -= w;
	return v;
}

/* a sub-reader of len bytes (marks r bad when they are not there) */
static struct rd rd_sub(struct rd *r, size_t len)
{
	struct rd s = {r->p, len, false};
	if (r->bad || r->n < len) {
		r->bad = true;
		r->n = 0;
		s.n = 0;
		s.bad = true;
		return s;
	}
	r->p += len;
	r->n -= len;
	return s;
}

static void put16(uint16_t *arr, uint16_t *n, size_t cap, uint16_t v, bool *trunc)
{
	if (tls_is_grease(v))
		return;
	if (*n >= cap) {
		*trunc = true;
		return;
	}
	arr[(*n)++] = v;
}

static int parse_sni(struct tls_hello *h, struct rd e)
{
	if (h->has_sni) {
		h->problems |= TLS_HELLO_MULTIPLE_SNI;
		return 0;
	}
	h->has_sni = true;
	if (e.n == 0) /* a server's empty acknowledgement */
		return 0;
	struct rd list = rd_sub(&e, rd_u(&e, 2));
	if (e.bad)
		return -EINVAL;
	bool got = false;
	while (list.n > 0 && !list.bad) {
		uint8_t type = (uint8_t)rd_u(&list, 1);
		struct rd name = rd_sub(&list, rd_u(&list, 2));
		if (list.bad) {
			h->problems |= TLS_HELLO_BAD_SNI_LEN;
			return -EINVAL;
		}
		if (type != 0) {
			h->problems |= TLS_HELLO_BAD_SNI_TYPE;
			continue;
		}
		if (got)
			continue;
		got = true;
		size_t k = name.n;
		if (k > TLS_HELLO_SNI_MAX) {
			h->problems |= TLS_HELLO_BAD_SNI_LEN;
			k = TLS_HELLO_SNI_MAX;
		}
		memcpy(h->sni, name.p, k);
		h->sni[k] = '\0';
		h->sni_len = (uint16_t)k;
	}
	return 0;
}

static int parse_ext(struct tls_hello *h, uint16_t type, struct rd e)
{
	switch (type) {
	case 0x0000: return parse_sni(h, e);
	case 0x0010: { /* ALPN */
		struct rd list = rd_sub(&e, rd_u(&e, 2));
		if (e.bad)
			return -EINVAL;
		/* keep whole names only */
		while (list.n > 0) {
			size_t l = rd_u(&list, 1);
			struct rd name = rd_sub(&list, l);
			if (list.bad)
				return -EINVAL;
			if (l == 0)
				continue;
			if (h->alpn_len + 1 + l > TLS_HELLO_ALPN_MAX) {
				h->truncated = true;
				break;
			}
			h->alpn[h->alpn_len++] = (uint8_t)l;
			memcpy(h->alpn + h->alpn_len, name.p, l);
			h->alpn_len = (uint16_t)(h->alpn_len + l);
		}
		return 0;
	}
	case 0x000a: { /* supported_groups */
		struct rd list = rd_sub(&e, rd_u(&e, 2));
		if (e.bad || list.n % 2)
			return -EINVAL;
		while (list.n >= 2)
			put16(h->groups, &h->ngroups, TLS_HELLO_MAX_GROUPS,
			      (uint16_t)rd_u(&list, 2), &h->truncated);
		return 0;
	}
	case 0x000b: { /* ec_point_formats */
		struct rd list = rd_sub(&e, rd_u(&e, 1));
		if (e.bad)
			return -EINVAL;
		while (list.n >= 1) {
			uint8_t v = (uint8_t)rd_u(&list, 1);
			if (h->npointfmts >= TLS_HELLO_MAX_POINTFMTS) {
				h->truncated = true;
				break;
			}
			h->pointfmts[h->npointfmts++] = v;
		}
		return 0;
	}
	case 0x000d: { /* signature_algorithms */
		struct rd list = rd_sub(&e, rd_u(&e, 2));
		if (e.bad || list.n % 2)
			return -EINVAL;
		while (list.n >= 2)
			put16(h->sigalgs, &h->nsigalgs, TLS_HELLO_MAX_SIGALGS,
			      (uint16_t)rd_u(&list, 2), &h->truncated);
		return 0;
	}
	case 0x002b: /* supported_versions */
		h->has_supported_versions = true;
		if (!h->client) {
			uint16_t v = (uint16_t)rd_u(&e, 2);
			if (e.bad)
				return -EINVAL;
			h->version = v;
			h->versions[0] = v;
			h->nversions = 1;
			return 0;
		} else {
			struct rd list = rd_sub(&e, rd_u(&e, 1));
			if (e.bad || list.n % 2)
				return -EINVAL;
			uint16_t best = 0;
			while (list.n >= 2) {
				uint16_t v = (uint16_t)rd_u(&list, 2);
				if (tls_is_grease(v))
					continue;
				if (h->nversions < OM_N(h->versions))
					h->versions[h->nversions++] = v;
				if (v > best && v < 0x7f00)
					best = v;
			}
			if (best)
				h->version = best;
			return 0;
		}
	case 0xfe0d: h->ech = true; return 0;
	case 0xffce: h->esni = true; return 0;
	default: return 0;
	}
}

int tls_hello_parse(const uint8_t *body, size_t len, bool client, struct tls_hello *h)
{
	memset(h, 0, sizeof(*h));
	h->client = client;
	struct rd r = {body, len, false};
	h->legacy_version = (uint16_t)rd_u(&r, 2);
	h->version = h->legacy_version;
	rd_sub(&r, 32); /* random */
	size_t sl = rd_u(&r, 1);
	struct rd sid = rd_sub(&r, sl);
	if (r.bad || sl > 32)
		return -EINVAL;
	h->session_id_len = (uint8_t)sl;
	memcpy(h->session_id, sid.p, sl);
	if (client) {
		struct rd cs = rd_sub(&r, rd_u(&r, 2));
		if (r.bad || cs.n % 2)
			return -EINVAL;
		while (cs.n >= 2) {
			uint16_t v = (uint16_t)rd_u(&cs, 2);
			if (!tls_is_grease(v) && h->nciphers_all < UINT16_MAX)
				h->nciphers_all++;
			put16(h->ciphers, &h->nciphers, TLS_HELLO_MAX_CIPHERS, v, &h->truncated);
		}
		rd_sub(&r, rd_u(&r, 1)); /* compression methods */
	} else {
		h->cipher = (uint16_t)rd_u(&r, 2);
		rd_u(&r, 1); /* compression method */
	}
	if (r.bad)
		return -EINVAL;
	if (r.n == 0)
		return 0; /* no extensions (TLS 1.0 era) */
	struct rd exts = rd_sub(&r, rd_u(&r, 2));
	if (r.bad)
		return -EINVAL;
	while (exts.n > 0) {
		uint16_t type = (uint16_t)rd_u(&exts, 2);
		struct rd e = rd_sub(&exts, rd_u(&exts, 2));
		if (exts.bad)
			return -EINVAL;
		put16(h->exts, &h->nexts, TLS_HELLO_MAX_EXTS, type, &h->truncated);
		if (tls_is_grease(type))
			continue;
		if (h->nexts_all < UINT16_MAX)
			h->nexts_all++;
		if (parse_ext(h, type, e) < 0)
			return -EINVAL;
	}
	return 0;
}

const uint8_t *tls_hello_alpn_first(const struct tls_hello *h, size_t *ret_len)
{
	if (h->alpn_len < 2)
		return NULL;
	*ret_len = h->alpn[0];
	return h->alpn + 1;
}

const char *tls_version_name(uint16_t v)
{
	switch (v) {
	case 0x0002: return "SSLv2";
	case 0x0300: return "SSLv3";
	case 0x0301: return "TLSv1";
	case 0x0302: return "TLS 1.1";
	case 0x0303: return "TLS 1.2";
	case 0x0304: return "TLS 1.3";
	default: return "UNDETERMINED";
	}
}

/* appends to out[*pos..n), always NUL-terminated, as snprintf would (cut
 * at the end); fmt is one of this file's literals: text with at most one
 * %u or %04x (written here, not by printf: JA3 and JA4 are built for every
 * ClientHello) */
static void app(char *out, size_t n, size_t *pos, const char *fmt, unsigned v)
{
	if (*pos + 1 >= n)
		return;
	static const char hx[] = "0123456789abcdef";
	char t[32] = "";
	size_t k = 0;
	for (const char *f = fmt; *f && k < sizeof(t) - 12; f++) {
		if (f[0] == '%' && f[1] == 'u') {
			char d[10];
			size_t nd = 0;
			unsigned x = v;
			do {
				d[nd++] = (char)('0' + x % 10);
				x /= 10;
			} while (x);
			while (nd)
				t[k++] = d[--nd];
			f++;
		} else if (f[0] == '%' && !strncmp(f + 1, "04x", 3)) {
			t[k++] = hx[v >> 12 & 15];
			t[k++] = hx[v >> 8 & 15];
			t[k++] = hx[v >> 4 & 15];
			t[k++] = hx[v & 15];
			f += 3;
		} else {
			t[k++] = *f;
		}
	}
	size_t room = n - *pos - 1;
	if (k > room)
		k = room;
	memcpy(out + *pos, t, k);
	*pos += k;
	out[*pos] = '\0';
}

static void list16(char *out, size_t n, size_t *pos, const uint16_t *a, unsigned cnt)
{
	for (unsigned i = 0; i < cnt; i++)
		app(out, n, pos, i ? "-%u" : "%u", a[i]);
}

static void hex_of(const unsigned char *d, unsigned len, char *out)
{
	static const char hx[] = "0123456789abcdef";
	for (unsigned i = 0; i < len; i++) {
		out[2 * i] = hx[d[i] >> 4];
		out[2 * i + 1] = hx[d[i] & 15];
	}
	out[2 * len] = '\0';
}

size_t tls_ja3(const struct tls_hello *h, char *out, size_t n, char md5_hex[33])
{
	size_t pos = 0;
	out[0] = '\0';
	app(out, n, &pos, "%u,", h->legacy_version);
	if (h->client)
		list16(out, n, &pos, h->ciphers, h->nciphers);
	else
		app(out, n, &pos, "%u", h->cipher);
	app(out, n, &pos, ",", 0);
	list16(out, n, &pos, h->exts, h->nexts);
	if (h->client) {
		app(out, n, &pos, ",", 0);
		list16(out, n, &pos, h->groups, h->ngroups);
		app(out, n, &pos, ",", 0);
		for (unsigned i = 0; i < h->npointfmts; i++)
			app(out, n, &pos, i ? "-%u" : "%u", h->pointfmts[i]);
	}
	unsigned char md[EVP_MAX_MD_SIZE];
	if (proto_digest(PROTO_MD5, out, pos, md) == 16)
		hex_of(md, 16, md5_hex);
	else
		md5_hex[0] = '\0';
	return pos;
}

static int cmp16(const void *a, const void *b)
{
	uint16_t x = *(const uint16_t *)a, y = *(const uint16_t *)b;
	return (x > y) - (x < y);
}

/* sha256 of s, first 12 hex digits into out */
static void sha12(const char *s, size_t len, char out[13])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	char hex[65];
	if (proto_digest(PROTO_SHA256, s, len, md) != 32) {
		memcpy(out, "000000000000", 13);
		return;
	}
	hex_of(md, 32, hex);
	memcpy(out, hex, 12);
	out[12] = '\0';
}

static const char *ja4_version(uint16_t v)
{
	switch (v) {
	case 0x0304: return "13";
	case 0x0303: return "12";
	case 0x0302: return "11";
	case 0x0301: return "10";
	case 0x0300: return "s3";
	case 0x0002: return "s2";
	case 0xfeff: return "d1";
	case 0xfefd: return "d2";
	case 0xfefc: return "d3";
	default: return "00";
	}
}

static bool alnum(uint8_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* comma-separated 4-digit hex of a[0..cnt) */
static size_t hexlist(char *out, size_t n, const uint16_t *a, unsigned cnt)
{
	size_t pos = 0;
	out[0] = '\0';
	for (unsigned i = 0; i < cnt; i++)
		app(out, n, &pos, i ? ",%04x" : "%04x", a[i]);
	return pos;
}

void tls_ja4(const struct tls_hello *h, char transport, char out[TLS_JA4_LEN + 1])
{
	static const char hx[] = "0123456789abcdef";
	char a[11];
	unsigned nc = h->nciphers_all > 99 ? 99 : h->nciphers_all;
	unsigned ne = h->nexts_all > 99 ? 99 : h->nexts_all;
	char al[2] = {'0', '0'};
	size_t flen = 0;
	const uint8_t *first = tls_hello_alpn_first(h, &flen);
	if (first && flen > 0) {
		uint8_t c0 = first[0], c1 = first[flen - 1];
		if (alnum(c0) && alnum(c1)) {
			al[0] = (char)c0;
			al[1] = (char)c1;
		} else {
			al[0] = hx[c0 >> 4];
			al[1] = hx[c1 & 15];
		}
	}
	snprintf(a, sizeof(a), "%c%s%c%02u%02u", transport, ja4_version(h->version),
	         h->has_sni ? 'd' : 'i', nc, ne);
	memcpy(a + 8, al, 2);
	a[10] = '\0';

	/* up to 256 values of 5 characters each */
	char buf[TLS_HELLO_MAX_CIPHERS * 5 + TLS_HELLO_MAX_SIGALGS * 5 + 8];
	uint16_t sorted[TLS_HELLO_MAX_CIPHERS];
	char b[13], c[13];

	memcpy(sorted, h->ciphers, h->nciphers * sizeof(uint16_t));
	qsort(sorted, h->nciphers, sizeof(uint16_t), cmp16);
	if (h->nciphers == 0)
		memcpy(b, "000000000000", 13);
	else
		sha12(buf, hexlist(buf, sizeof(buf), sorted, h->nciphers), b);

	unsigned k = 0;
	for (unsigned i = 0; i < h->nexts; i++)
		if (h->exts[i] != 0x0000 && h->exts[i] != 0x0010)
			sorted[k++] = h->exts[i];
	qsort(sorted, k, sizeof(uint16_t), cmp16);
	if (k == 0) {
		memcpy(c, "000000000000", 13);
	} else {
		size_t pos = hexlist(buf, sizeof(buf), sorted, k);
		if (h->nsigalgs > 0) {
			app(buf, sizeof(buf), &pos, "_", 0);
			pos += hexlist(buf + pos, sizeof(buf) - pos, h->sigalgs, h->nsigalgs);
		}
		sha12(buf, pos, c);
	}
	snprintf(out, TLS_JA4_LEN + 1, "%s_%s_%s", a, b, c);
}

static const uint8_t *str_buf(const char *s, uint32_t *ret_len)
{
	*ret_len = (uint32_t)strlen(s);
	return (const uint8_t *)s;
}

const uint8_t *tls_hello_buffer(struct tls_txview *v, enum om_tx_buf b, uint32_t idx,
                                uint32_t *ret_len)
{
	const struct tls_hello *ch = v->ch, *sh = v->sh;
	switch (b) {
	case OM_TXB_TLS_SNI:
		if (idx || !ch || !ch->has_sni || !ch->sni_len)
			return NULL;
		*ret_len = ch->sni_len;
		return (const uint8_t *)ch->sni;
	case OM_TXB_TLS_ECH:
		if (idx || !ch || !(ch->ech || ch->esni))
			return NULL;
		*ret_len = ch->ech ? 3 : 4;
		return (const uint8_t *)(ch->ech ? "ech" : "esni");
	case OM_TXB_JA3_HASH:
	case OM_TXB_JA3_STRING:
		if (idx || !ch)
			return NULL;
		if (!v->ja3_done) {
			tls_ja3(ch, v->ja3, sizeof(v->ja3), v->ja3_md5);
			v->ja3_done = true;
		}
		return str_buf(b == OM_TXB_JA3_HASH ? v->ja3_md5 : v->ja3, ret_len);
	case OM_TXB_JA3S_HASH:
	case OM_TXB_JA3S_STRING:
		if (idx || !sh)
			return NULL;
		if (!v->ja3s_done) {
			tls_ja3(sh, v->ja3s, sizeof(v->ja3s), v->ja3s_md5);
			v->ja3s_done = true;
		}
		return str_buf(b == OM_TXB_JA3S_HASH ? v->ja3s_md5 : v->ja3s, ret_len);
	case OM_TXB_JA4:
		if (idx || !ch)
			return NULL;
		if (!v->ja4_done) {
			tls_ja4(ch, v->transport, v->ja4);
			v->ja4_done = true;
		}
		return str_buf(v->ja4, ret_len);
	case OM_TXB_TLS_ALPN: {
		/* the client's list (the server's choice is one of them) */
		const struct tls_hello *h = ch ? ch : sh;
		if (!h)
			return NULL;
		uint32_t k = 0;
		for (size_t i = 0; i + 1 <= h->alpn_len; k++) {
			size_t l = h->alpn[i];
			if (i + 1 + l > h->alpn_len)
				break;
			if (k == idx) {
				*ret_len = (uint32_t)l;
				return h->alpn + i + 1;
			}
			i += 1 + l;
		}
		return NULL;
	}
	case OM_TXB_TLS_VERSION:
		if (idx || !sh)
			return NULL;
		return str_buf(tls_version_name(sh->version), ret_len);
	default: return NULL;
	}
}
