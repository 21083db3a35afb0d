/* tls.c: the tls parser. Reads the record layer of both directions, joins
 * handshake messages split across records and segments (up to
 * app-layer.tls.max-handshake bytes per message), parses ClientHello,
 * ServerHello and, for TLS <= 1.2, the server's Certificate chain (with
 * libcrypto), writes one `tls` record per flow when the handshake is done
 * (or the flow ends first) and then bypasses the encrypted stream. See
 * docs/proto-tls.md. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "proto/digest.h"
#include "proto/internal.h"
#include "proto/tlshello.h"

#define F(m) offsetof(struct om_proto_tls_config, m), sizeof(((struct om_proto_tls_config *)0)->m)
static const om_config_key tls_keys[] = {
    {"app-layer.tls.enabled", OM_CK_BOOL, F(enabled), 0, 0, "config.help.app-layer.tls.enabled",
     NULL, NULL},
    {"app-layer.tls.max-handshake", OM_CK_U32, F(max_handshake), 1024, 16u << 20,
     "config.help.app-layer.tls.max-handshake", NULL, NULL},
    {"app-layer.tls.max-certs", OM_CK_U32, F(max_certs), 1, 64,
     "config.help.app-layer.tls.max-certs", NULL, NULL},
};
#undef F

static void tls_defaults(void *obj)
{
	struct om_proto_tls_config *c = obj;
	c->enabled = true;
	c->max_handshake = 65536;
	c->max_certs = 8;
}

const om_config_schema proto_tls_schema = {
    "proto",      tls_keys, OM_ARRAY_SIZE(tls_keys), sizeof(struct om_proto_tls_config),
    tls_defaults, NULL,
};

/* ---- state ------------------------------------------------------------------ */

#define REC_MAX (16384 + 2048) /* TLSCiphertext's longest fragment */
#define NAME_MAX_LEN 512       /* subject, issuer as written */
#define SAN_BUF 1024           /* bytes of SANs kept (NUL-separated) */
#define SAN_MAX 32
#define CHAIN_MAX 4 /* certificates after the leaf described */

/* anomalies written at most once per flow (bit per event) */
enum {
	A_RECORD_TYPE,
	A_RECORD_VERSION,
	A_RECORD_LENGTH,
	A_HANDSHAKE,
	A_HS_LENGTH,
	A_CERT_LENGTH,
	A_CERT_DER,
	A_MULTIPLE_SNI,
	A_SNI_TYPE,
	A_SNI_LENGTH,
	A_HEARTBEAT,
	A_COUNT
};
static const char *const anomaly_names[A_COUNT] = {
    "INVALID_RECORD_TYPE",       "INVALID_RECORD_VERSION",   "INVALID_SSL_RECORD",
    "INVALID_HANDSHAKE_MESSAGE", "HANDSHAKE_INVALID_LENGTH", "CERTIFICATE_INVALID_LENGTH",
    "CERTIFICATE_INVALID_DER",   "MULTIPLE_SNI_EXTENSIONS",  "INVALID_SNI_TYPE",
    "INVALID_SNI_LENGTH",        "HEARTBEAT_MESSAGE",
};

struct tls_dir {
	uint8_t hdr[5];
	uint8_t hdr_len;
	uint8_t rec_type;
	uint32_t rec_left; /* bytes of the current record still to come */
	uint8_t *hs;       /* a handshake message being joined */
	uint32_t hs_len, hs_cap;
	uint32_t hs_skip; /* bytes of a message over the cap still to drop */
	bool encrypted;   /* after ChangeCipherSpec */
};

#define CHAIN_NAME_LEN 256
struct chain_cert {
	char subject[CHAIN_NAME_LEN], issuer[CHAIN_NAME_LEN];
};

struct tls_cert {
	char subject[NAME_MAX_LEN], issuer[NAME_MAX_LEN];
	char serial[3 * 64];
	char fingerprint[3 * 20];
	char notbefore[24], notafter[24];
	char sans[SAN_BUF];
	uint16_t sans_len, nsans;
};

/* what the handshake gives: freed once the record is written, so that a
 * long encrypted connection keeps only the small part below */
struct tls_info {
	struct tls_hello ch, sh;
	struct tls_cert cert;
	struct chain_cert chain[CHAIN_MAX];
	unsigned nchain;
	uint8_t *certs; /* the Certificate message's list, for tls.certs */
	uint32_t certs_len;
	/* JA3, JA3S and JA4, computed once for the observers and the record
	 * (made when first asked for) */
	struct tls_txview *v;
};

struct tls_state {
	struct om_proto_tls_config cfg;
	struct tls_dir d[2];
	struct tls_info *x; /* NULL after the record */
	bool have_ch, have_sh, have_cert, logged, dead;
	uint32_t ncerts; /* in the server's chain */
	unsigned anomalies;
};

/* Up to INFO_SPARES freed tls_info (8 KiB each, with the fingerprints'
 * buffer) are kept per thread for the next handshakes: one was calloc'ed
 * and freed per TLS flow, and those large blocks made the allocator
 * consolidate its free lists each time. */
#define INFO_SPARES 16u
struct info_spares {
	struct tls_info *x[INFO_SPARES];
	unsigned n;
};
static void info_destroy(struct tls_info *x)
{
	if (!x)
		return;
	free(x->certs);
	free(x->v);
	free(x);
}

static void spares_release(void *p)
{
	struct info_spares *sp = p;
	for (unsigned i = 0; i < sp->n; i++)
		info_destroy(sp->x[i]);
}

static struct info_spares *thread_spares(void)
{
	return proto_thread_block(PROTO_THREAD_TLS, sizeof(struct info_spares), spares_release);
}

/* A zeroed tls_info (a spare's fingerprints buffer kept, its flags zeroed
 * as fingerprints() zeroes a new one), or NULL. */
static struct tls_info *info_new(void)
{
	struct info_spares *sp = thread_spares();
	if (!sp || !sp->n)
		return calloc(1, sizeof(struct tls_info));
	struct tls_info *x = sp->x[--sp->n];
	struct tls_txview *v = x->v;
	memset(x, 0, sizeof(*x));
	if (v)
		memset(v, 0, offsetof(struct tls_txview, ja3));
	x->v = v;
	return x;
}

static void info_free(struct tls_info *x)
{
	if (!x)
		return;
	struct info_spares *sp = thread_spares();
	if (!sp || sp->n == INFO_SPARES) {
		info_destroy(x);
		return;
	}
	free(x->certs);
	x->certs = NULL;
	sp->x[sp->n++] = x;
}

static void anomaly(struct tls_state *s, om_flow *f, int dir, int which)
{
	if (s->anomalies & (1u << which))
		return;
	s->anomalies |= 1u << which;
	proto_anomaly(f, dir, "tls", anomaly_names[which]);
}

/* ---- certificates ------------------------------------------------------------ */

/* The certificate is walked as DER here (RFC 5280 4.1) rather than
 * decoded whole with d2i_X509: libcrypto 3 decodes the public key through
 * its provider framework on the way, about 400 us a certificate, for
 * nothing we write. The names and the subjectAltName are given to
 * libcrypto (d2i_X509_NAME, d2i_GENERAL_NAMES) on their own bytes. */

/* one DER element: tag (low-tag-number form only), its value, and the
 * whole element (tag and length included) */
struct der {
	const uint8_t *p;
	size_t n;
};

static bool der_next(struct der *d, uint8_t *ret_tag, struct der *ret_val, struct der *ret_all)
{
	if (d->n < 2 || (d->p[0] & 0x1f) == 0x1f)
		return false;
	uint8_t tag = d->p[0];
	size_t len = d->p[1], hl = 2;
	if (len & 0x80) {
		size_t k = len & 0x7f;
		if (k == 0 || k > 4 || d->n < 2 + k)
			return false; /* indefinite or absurd lengths are not DER */
		len = 0;
		for (size_t i = 0; i < k; i++)
			len = len << 8 | d->p[2 + i];
		hl += k;
	}
	if (len > d->n - hl)
		return false;
	if (ret_all)
		*ret_all = (struct der){d->p, hl + len};
	*ret_tag = tag;
	*ret_val = (struct der){d->p + hl, len};
	d->p += hl + len;
	d->n -= hl + len;
	return true;
}

/* the next element must have this tag */
static bool der_want(struct der *d, uint8_t tag, struct der *ret_val, struct der *ret_all)
{
	uint8_t t;
	struct der v, all;
	struct der save = *d;
	if (!der_next(d, &t, &v, &all) || t != tag) {
		*d = save;
		return false;
	}
	*ret_val = v;
	if (ret_all)
		*ret_all = all;
	return true;
}

static void name_str(struct der all, char *out, size_t len)
{
	out[0] = '\0';
	const uint8_t *q = all.p;
	X509_NAME *n = d2i_X509_NAME(NULL, &q, (long)all.n);
	if (!n)
		return;
	BIO *b = BIO_new(BIO_s_mem());
	/* "C=JP, O=Example, CN=host": short names, ", " between RDNs, UTF-8 */
	if (b && X509_NAME_print_ex(b, n, 0,
	                            XN_FLAG_SEP_CPLUS_SPC | XN_FLAG_FN_SN |
	                                ASN1_STRFLGS_UTF8_CONVERT | ASN1_STRFLGS_ESC_CTRL) >= 0) {
		int k = BIO_read(b, out, (int)len - 1);
		out[k > 0 ? k : 0] = '\0';
	}
	BIO_free(b);
	X509_NAME_free(n);
}

/* "aa:bb:..." into out (len bytes with the NUL); cut at whole bytes */
static void colon_hex(const uint8_t *d, size_t n, bool upper, char *out, size_t len)
{
	const char *hx = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	size_t pos = 0;
	for (size_t i = 0; i < n; i++) {
		size_t need = (i ? 3 : 2) + 1;
		if (pos + need > len)
			break;
		if (i)
			out[pos++] = ':';
		out[pos++] = hx[d[i] >> 4];
		out[pos++] = hx[d[i] & 15];
	}
	if (len)
		out[pos] = '\0';
}

static bool digits(const uint8_t *p, size_t n, unsigned *ret)
{
	unsigned v = 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
		v = v * 10 + (unsigned)(p[i] - '0');
	}
	*ret = v;
	return true;
}

/* UTCTime YYMMDDHHMMSSZ or GeneralizedTime YYYYMMDDHHMMSSZ (the DER forms
 * RFC 5280 4.1.2.5 requires) as YYYY-MM-DDTHH:MM:SS; else nothing */
static void time_str(uint8_t tag, struct der v, char *out, size_t len)
{
	out[0] = '\0';
	size_t yl = tag == 0x17 ? 2 : tag == 0x18 ? 4 : 0;
	unsigned y, mo, d, h, mi, se;
	if (!yl || v.n != yl + 11 || v.p[v.n - 1] != 'Z' || !digits(v.p, yl, &y) ||
	    !digits(v.p + yl, 2, &mo) || !digits(v.p + yl + 2, 2, &d) ||
	    !digits(v.p + yl + 4, 2, &h) || !digits(v.p + yl + 6, 2, &mi) ||
	    !digits(v.p + yl + 8, 2, &se))
		return;
	if (yl == 2)
		y += y < 50 ? 2000 : 1900;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
		return;
	snprintf(out, len, "%04u-%02u-%02uT%02u:%02u:%02u", y, mo, d, h, mi, se);
}

/* subjectAltName's DNS names and IP addresses */
static void sans_of(struct der v, struct tls_cert *c)
{
	const uint8_t *q = v.p;
	GENERAL_NAMES *gn = d2i_GENERAL_NAMES(NULL, &q, (long)v.n);
	if (!gn)
		return;
	int n = sk_GENERAL_NAME_num(gn);
	for (int i = 0; i < n && c->nsans < SAN_MAX; i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gn, i);
		char tmp[64];
		const char *val = NULL;
		size_t vl = 0;
		if (g->type == GEN_DNS) {
			val = (const char *)ASN1_STRING_get0_data(g->d.dNSName);
			vl = (size_t)ASN1_STRING_length(g->d.dNSName);
		} else if (g->type == GEN_IPADD) {
			const uint8_t *a = ASN1_STRING_get0_data(g->d.iPAddress);
			int al = ASN1_STRING_length(g->d.iPAddress);
			if (al == 4) {
				snprintf(tmp, sizeof(tmp), "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
			} else if (al == 16) {
				size_t pos = 0;
				for (int k = 0; k < 16; k += 2)
					pos += (size_t)snprintf(tmp + pos, sizeof(tmp) - pos,
					                        k ? ":%x" : "%x",
					                        a[k] << 8 | a[k + 1]);
			} else {
				continue;
			}
			val = tmp;
			vl = strlen(tmp);
		}
		if (!val || vl == 0 || memchr(val, '\0', vl))
			continue;
		if (c->sans_len + vl + 1 > SAN_BUF)
			break;
		memcpy(c->sans + c->sans_len, val, vl);
		c->sans_len = (uint16_t)(c->sans_len + vl);
		c->sans[c->sans_len++] = '\0';
		c->nsans++;
	}
	GENERAL_NAMES_free(gn);
}

/* the parts of one certificate that are written */
struct cert_parts {
	struct der serial, issuer, subject, san;
	uint8_t nb_tag, na_tag;
	struct der nb, na;
	bool has_san;
};

/* Walks Certificate -> TBSCertificate. false: not a certificate's DER. */
static bool cert_walk(const uint8_t *der, size_t len, struct cert_parts *c)
{
	memset(c, 0, sizeof(*c));
	struct der top = {der, len}, cert, tbs, v, all;
	if (!der_want(&top, 0x30, &cert, NULL) || top.n != 0)
		return false;
	if (!der_want(&cert, 0x30, &tbs, NULL))
		return false;
	der_want(&tbs, 0xa0, &v, NULL); /* version, optional */
	if (!der_want(&tbs, 0x02, &c->serial, NULL) || !der_want(&tbs, 0x30, &v, NULL) ||
	    !der_want(&tbs, 0x30, &v, &c->issuer))
		return false;
	struct der validity;
	if (!der_want(&tbs, 0x30, &validity, NULL) ||
	    !der_next(&validity, &c->nb_tag, &c->nb, NULL) ||
	    !der_next(&validity, &c->na_tag, &c->na, NULL))
		return false;
	if (!der_want(&tbs, 0x30, &v, &c->subject) || !der_want(&tbs, 0x30, &v, NULL))
		return false;
	/* issuerUniqueID [1], subjectUniqueID [2], extensions [3] */
	while (tbs.n > 0) {
		uint8_t t;
		if (!der_next(&tbs, &t, &v, &all))
			return false;
		if (t != 0xa3)
			continue;
		struct der exts, ext;
		if (!der_want(&v, 0x30, &exts, NULL))
			return false;
		while (exts.n > 0) {
			if (!der_want(&exts, 0x30, &ext, NULL))
				return false;
			struct der oid, val;
			if (!der_want(&ext, 0x06, &oid, NULL))
				return false;
			der_want(&ext, 0x01, &val, NULL); /* critical, optional */
			if (!der_want(&ext, 0x04, &val, NULL))
				return false;
			/* 2.5.29.17 subjectAltName */
			if (oid.n == 3 && oid.p[0] == 0x55 && oid.p[1] == 0x1d &&
			    oid.p[2] == 0x11) {
				c->san = val;
				c->has_san = true;
			}
		}
	}
	return true;
}

static void leaf_of(struct tls_state *s, const uint8_t *der, size_t len, const struct cert_parts *p)
{
	struct tls_cert *c = &s->x->cert;
	name_str(p->subject, c->subject, sizeof(c->subject));
	name_str(p->issuer, c->issuer, sizeof(c->issuer));
	/* the DER INTEGER's bytes, a leading 00 kept, as Suricata writes it */
	colon_hex(p->serial.p, p->serial.n, true, c->serial, sizeof(c->serial));
	uint8_t md[EVP_MAX_MD_SIZE];
	if (proto_digest(PROTO_SHA1, der, len, md) == 20)
		colon_hex(md, 20, false, c->fingerprint, sizeof(c->fingerprint));
	time_str(p->nb_tag, p->nb, c->notbefore, sizeof(c->notbefore));
	time_str(p->na_tag, p->na, c->notafter, sizeof(c->notafter));
	if (p->has_san)
		sans_of(p->san, c);
	s->have_cert = true;
}

/* Certificate (TLS <= 1.2): a 3-byte list length, then 3-byte length + DER
 * for each certificate, the server's own first. */
static void certificate(struct tls_state *s, om_flow *f, const uint8_t *p, size_t n)
{
	if (s->have_cert || s->ncerts)
		return; /* the first chain counts */
	if (n < 3 || (size_t)(p[0] << 16 | p[1] << 8 | p[2]) != n - 3) {
		anomaly(s, f, OM_DIR_TOCLIENT, A_CERT_LENGTH);
		return;
	}
	p += 3;
	n -= 3;
	/* a copy for the observers (tls.certs), bounded by max-handshake */
	s->x->certs = malloc(n ? n : 1);
	if (s->x->certs) {
		memcpy(s->x->certs, p, n);
		s->x->certs_len = (uint32_t)n;
	}
	while (n > 0) {
		if (n < 3) {
			anomaly(s, f, OM_DIR_TOCLIENT, A_CERT_LENGTH);
			return;
		}
		size_t cl = (size_t)(p[0] << 16 | p[1] << 8 | p[2]);
		if (cl == 0 || cl > n - 3) {
			anomaly(s, f, OM_DIR_TOCLIENT, A_CERT_LENGTH);
			return;
		}
		const uint8_t *der = p + 3;
		p += 3 + cl;
		n -= 3 + cl;
		if (s->ncerts >= s->cfg.max_certs) {
			s->ncerts++;
			continue;
		}
		struct cert_parts cp;
		if (!cert_walk(der, cl, &cp)) {
			anomaly(s, f, OM_DIR_TOCLIENT, A_CERT_DER);
			s->ncerts++;
			continue;
		}
		if (s->ncerts == 0) {
			leaf_of(s, der, cl, &cp);
		} else if (s->x->nchain < CHAIN_MAX) {
			struct chain_cert *cc = &s->x->chain[s->x->nchain++];
			name_str(cp.subject, cc->subject, sizeof(cc->subject));
			name_str(cp.issuer, cc->issuer, sizeof(cc->issuer));
		}
		s->ncerts++;
	}
}

/* ---- the record ---------------------------------------------------------------- */

/* the flow's fingerprints, computed when first asked for (an observer
 * may have asked already) */
static struct tls_txview *fingerprints(const struct tls_state *s)
{
	if (!s->x->v) {
		/* two JA3 strings: not on the stack; only the flags zeroed */
		s->x->v = malloc(sizeof(*s->x->v));
		if (!s->x->v)
			return NULL;
		memset(s->x->v, 0, offsetof(struct tls_txview, ja3));
	}
	struct tls_txview *v = s->x->v;
	v->ch = s->have_ch ? &s->x->ch : NULL;
	v->sh = s->have_sh ? &s->x->sh : NULL;
	v->transport = 't';
	return v;
}

static void write_ja3(om_json *j, const char *key, struct tls_txview *v, bool server)
{
	uint32_t hn = 0, sn = 0;
	const uint8_t *hash =
	    tls_hello_buffer(v, server ? OM_TXB_JA3S_HASH : OM_TXB_JA3_HASH, 0, &hn);
	const uint8_t *str =
	    tls_hello_buffer(v, server ? OM_TXB_JA3S_STRING : OM_TXB_JA3_STRING, 0, &sn);
	om_json_obj_open(j, key);
	om_json_strn(j, "hash", hash ? (const char *)hash : "", hash ? hn : 0);
	om_json_strn(j, "string", str ? (const char *)str : "", str ? sn : 0);
	om_json_obj_close(j);
}

static void write_alpns(om_json *j, const char *key, const struct tls_hello *h)
{
	om_json_arr_open(j, key);
	for (size_t i = 0; i + 1 <= h->alpn_len;) {
		size_t l = h->alpn[i];
		if (i + 1 + l > h->alpn_len)
			break;
		om_json_strn(j, NULL, (const char *)h->alpn + i + 1, l);
		i += 1 + l;
	}
	om_json_arr_close(j);
}

/* an abbreviated TLS <= 1.2 handshake: the server took up the client's
 * session id and sent no certificate (TLS 1.3 servers echo the id always,
 * for middlebox compatibility, and resume with PSKs nobody sees) */
static bool resumed(const struct tls_state *s)
{
	return s->have_ch && s->have_sh && !s->have_cert && s->x->sh.version < 0x0304 &&
	       s->x->sh.session_id_len && s->x->sh.session_id_len == s->x->ch.session_id_len &&
	       !memcmp(s->x->sh.session_id, s->x->ch.session_id, s->x->sh.session_id_len);
}

/* the "tls" object, Suricata 7's fields only */
static void tls_object(om_json *j, const struct tls_state *s)
{
	const struct tls_cert *c = &s->x->cert;
	om_json_obj_open(j, "tls");
	if (s->have_cert) {
		om_json_str(j, "subject", c->subject);
		om_json_str(j, "issuerdn", c->issuer);
	} else if (resumed(s)) {
		om_json_bool(j, "session_resumed", true);
	}
	if (s->have_cert) {
		if (c->serial[0])
			om_json_str(j, "serial", c->serial);
		om_json_str(j, "fingerprint", c->fingerprint);
	}
	if (s->have_ch && s->x->ch.has_sni && s->x->ch.sni_len)
		om_json_strn(j, "sni", s->x->ch.sni, s->x->ch.sni_len);
	/* the version the server chose (none yet: UNDETERMINED, as Suricata) */
	uint16_t v = s->have_sh ? s->x->sh.version : 0;
	om_json_str(j, "version", tls_version_name(v));
	if (s->have_cert) {
		if (c->notbefore[0])
			om_json_str(j, "notbefore", c->notbefore);
		if (c->notafter[0])
			om_json_str(j, "notafter", c->notafter);
	}
	struct tls_txview *fp = fingerprints(s);
	if (s->have_ch && fp)
		write_ja3(j, "ja3", fp, false);
	if (s->have_sh && fp)
		write_ja3(j, "ja3s", fp, true);
	if (s->have_ch && fp) {
		uint32_t n = 0;
		const uint8_t *ja4 = tls_hello_buffer(fp, OM_TXB_JA4, 0, &n);
		om_json_strn(j, "ja4", ja4 ? (const char *)ja4 : "", ja4 ? n : 0);
	}
	om_json_obj_close(j);
}

static void tls_body(om_json *j, void *arg)
{
	const struct tls_state *s = arg;
	const struct tls_cert *c = &s->x->cert;
	tls_object(j, s);

	/* what Suricata 7 has no field for */
	bool alpn_ts = s->have_ch && s->x->ch.alpn_len, alpn_tc = s->have_sh && s->x->sh.alpn_len;
	bool ech = s->have_ch && s->x->ch.ech, esni = s->have_ch && s->x->ch.esni;
	if (!alpn_ts && !alpn_tc && !ech && !esni && !c->nsans && !s->x->nchain)
		return;
	om_json_obj_open(j, "omamori");
	om_json_obj_open(j, "tls");
	if (alpn_ts)
		write_alpns(j, "client_alpns", &s->x->ch);
	if (alpn_tc)
		write_alpns(j, "server_alpns", &s->x->sh);
	if (ech)
		om_json_bool(j, "ech", true);
	if (esni)
		om_json_bool(j, "esni", true);
	if (c->nsans) {
		om_json_arr_open(j, "subjectaltname");
		const char *p = c->sans;
		for (unsigned i = 0; i < c->nsans; i++) {
			om_json_str(j, NULL, p);
			p += strlen(p) + 1;
		}
		om_json_arr_close(j);
	}
	if (s->x->nchain) {
		om_json_arr_open(j, "chain");
		for (unsigned i = 0; i < s->x->nchain; i++) {
			om_json_obj_open(j, NULL);
			om_json_str(j, "subject", s->x->chain[i].subject);
			om_json_str(j, "issuerdn", s->x->chain[i].issuer);
			om_json_obj_close(j);
		}
		om_json_arr_close(j);
	}
	om_json_obj_close(j);
	om_json_obj_close(j);
}

/* ---- the transaction for the observers (one per flow) ---------------------------- */

struct tls_tx {
	struct tls_state *s;
	struct tls_txview *v; /* the flow's (s->x->v) */
};

static const uint8_t *cstr(const char *p, uint32_t *ret_len)
{
	*ret_len = (uint32_t)strlen(p);
	return *ret_len ? (const uint8_t *)p : NULL;
}

static const uint8_t *tls_tx_buffer(const om_proto_tx *tx, enum om_tx_buf b, uint32_t idx,
                                    uint32_t *ret_len)
{
	struct tls_tx *t = tx->priv;
	const struct tls_state *s = t->s;
	const struct tls_info *x = s->x;
	bool cert = s->have_cert && idx == 0;
	switch (b) {
	case OM_TXB_TLS_CERT_SUBJECT: return cert ? cstr(x->cert.subject, ret_len) : NULL;
	case OM_TXB_TLS_CERT_ISSUER: return cert ? cstr(x->cert.issuer, ret_len) : NULL;
	case OM_TXB_TLS_CERT_SERIAL: return cert ? cstr(x->cert.serial, ret_len) : NULL;
	case OM_TXB_TLS_CERT_FINGERPRINT: return cert ? cstr(x->cert.fingerprint, ret_len) : NULL;
	case OM_TXB_TLS_CERT: {
		/* certificate idx of the list (3-byte length, DER), checked again */
		const uint8_t *p = x->certs;
		uint32_t n = x->certs_len;
		for (uint32_t i = 0; p && n >= 3; i++) {
			uint32_t cl = (uint32_t)(p[0] << 16 | p[1] << 8 | p[2]);
			if (cl > n - 3)
				return NULL;
			if (i == idx) {
				*ret_len = cl;
				return cl ? p + 3 : NULL;
			}
			p += 3 + cl;
			n -= 3 + cl;
		}
		return NULL;
	}
	default: return tls_hello_buffer(t->v, b, idx, ret_len);
	}
}

static void tls_tx_json(om_json *j, void *arg)
{
	const struct tls_tx *t = arg;
	tls_object(j, t->s);
}

/* shows the transaction to the observers: progress OM_TX_REQUEST once the
 * ClientHello is read, with OM_TX_RESPONSE once the server's side is */
static void tx_show(struct tls_state *s, om_flow *f, unsigned progress, int dir)
{
	struct om_proto_worker *w = proto_worker(f);
	if (!s->x || !w || !w->p->nobs)
		return; /* nobody looks: nothing to make */
	struct tls_tx t = {.s = s, .v = fingerprints(s)};
	if (!t.v)
		return;
	om_proto_tx tx = {.app_proto = "tls",
	                  .tx_id = 0,
	                  .progress = progress,
	                  .dir = dir,
	                  .buffer = tls_tx_buffer,
	                  .json = tls_tx_json,
	                  .priv = &t};
	proto_tx_ready(f, &tx);
}

static void log_once(struct tls_state *s, om_flow *f)
{
	if (s->logged || (!s->have_ch && !s->have_sh && !s->have_cert))
		return;
	s->logged = true;
	if (s->have_sh || s->have_cert)
		tx_show(s, f, (s->have_ch ? OM_TX_REQUEST : 0) | OM_TX_RESPONSE, OM_DIR_TOCLIENT);
	om_proto_event ev = {
	    .event_type = "tls", .dir = OM_DIR_TOSERVER, .body = tls_body, .arg = s};
	proto_event(f, &ev);
}

/* the handshake is over (or cannot be followed): write, stop reading */
static void finish(struct tls_state *s, om_flow *f)
{
	log_once(s, f);
	s->dead = true;
	om_app_bypass(f, OM_APP_BYPASS_BOTH);
	info_free(s->x);
	s->x = NULL;
	for (int dir = 0; dir < 2; dir++) {
		free(s->d[dir].hs);
		s->d[dir].hs = NULL;
		s->d[dir].hs_len = s->d[dir].hs_cap = 0;
	}
}

/* ---- handshake messages ------------------------------------------------------------ */

static void hello_problems(struct tls_state *s, om_flow *f, int dir, unsigned p)
{
	if (p & TLS_HELLO_MULTIPLE_SNI)
		anomaly(s, f, dir, A_MULTIPLE_SNI);
	if (p & TLS_HELLO_BAD_SNI_TYPE)
		anomaly(s, f, dir, A_SNI_TYPE);
	if (p & TLS_HELLO_BAD_SNI_LEN)
		anomaly(s, f, dir, A_SNI_LENGTH);
}

static void hs_message(struct tls_state *s, om_flow *f, int dir, uint8_t type, const uint8_t *b,
                       size_t n)
{
	if (dir == OM_DIR_TOSERVER && type == 1 && !s->have_ch) {
		if (tls_hello_parse(b, n, true, &s->x->ch) < 0) {
			anomaly(s, f, dir, A_HANDSHAKE);
			return;
		}
		s->have_ch = true;
		hello_problems(s, f, dir, s->x->ch.problems);
		tx_show(s, f, OM_TX_REQUEST, OM_DIR_TOSERVER);
	} else if (dir == OM_DIR_TOCLIENT && type == 2 && !s->have_sh) {
		if (tls_hello_parse(b, n, false, &s->x->sh) < 0) {
			anomaly(s, f, dir, A_HANDSHAKE);
			return;
		}
		s->have_sh = true;
		hello_problems(s, f, dir, s->x->sh.problems);
		/* TLS 1.3: all that follows is encrypted */
		if (s->x->sh.version == 0x0304)
			finish(s, f);
	} else if (dir == OM_DIR_TOCLIENT && type == 11) {
		certificate(s, f, b, n);
	}
}

static int hs_reserve(struct tls_dir *d, uint32_t need)
{
	if (need <= d->hs_cap)
		return 0;
	uint32_t cap = d->hs_cap ? d->hs_cap : 2048;
	while (cap < need)
		cap *= 2;
	uint8_t *p = realloc(d->hs, cap);
	if (!p)
		return -ENOMEM;
	d->hs = p;
	d->hs_cap = cap;
	return 0;
}

/* handshake bytes of one direction, in order */
static int hs_feed(struct tls_state *s, om_flow *f, int dir, const uint8_t *p, size_t n)
{
	struct tls_dir *d = &s->d[dir];
	uint32_t max = s->cfg.max_handshake;
	while (n > 0 && !s->dead) {
		if (d->hs_skip) {
			size_t k = n < d->hs_skip ? n : d->hs_skip;
			d->hs_skip -= (uint32_t)k;
			p += k;
			n -= k;
			continue;
		}
		/* a whole message in these bytes: no copy */
		if (d->hs_len == 0 && n >= 4) {
			size_t ml = (size_t)(p[1] << 16 | p[2] << 8 | p[3]);
			if (ml + 4 <= n && ml + 4 <= max) {
				hs_message(s, f, dir, p[0], p + 4, ml);
				p += 4 + ml;
				n -= 4 + ml;
				continue;
			}
		}
		uint32_t need = 4;
		if (d->hs_len >= 4) {
			uint32_t ml = (uint32_t)(d->hs[1] << 16 | d->hs[2] << 8 | d->hs[3]);
			need = ml + 4;
		} else if (d->hs_len + n >= 4) {
			uint8_t h[4];
			if (d->hs_len)
				memcpy(h, d->hs, d->hs_len);
			memcpy(h + d->hs_len, p, 4 - d->hs_len);
			need = (uint32_t)(h[1] << 16 | h[2] << 8 | h[3]) + 4;
		}
		if (need > max) {
			/* over the cap: count it, drop the message */
			anomaly(s, f, dir, A_HS_LENGTH);
			d->hs_skip = need - d->hs_len;
			d->hs_len = 0;
			continue;
		}
		if (hs_reserve(d, need) < 0)
			return -ENOMEM;
		size_t k = need - d->hs_len;
		if (k > n)
			k = n;
		memcpy(d->hs + d->hs_len, p, k);
		d->hs_len += (uint32_t)k;
		p += k;
		n -= k;
		if (d->hs_len >= 4 && d->hs_len == need) {
			hs_message(s, f, dir, d->hs[0], d->hs + 4, need - 4);
			d->hs_len = 0;
		}
	}
	return 0;
}

/* ---- the record layer ------------------------------------------------------------ */

static int tls_data(void *st, om_flow *f, int dir, const uint8_t *p, uint32_t n, unsigned flags)
{
	struct tls_state *s = st;
	(void)flags;
	while (n > 0 && !s->dead) {
		struct tls_dir *d = &s->d[dir];
		if (d->rec_left == 0) {
			size_t k = 5 - d->hdr_len;
			if (k > n)
				k = n;
			memcpy(d->hdr + d->hdr_len, p, k);
			d->hdr_len = (uint8_t)(d->hdr_len + k);
			p += k;
			n -= (uint32_t)k;
			if (d->hdr_len < 5)
				break;
			d->hdr_len = 0;
			uint8_t type = d->hdr[0];
			uint32_t len = (uint32_t)(d->hdr[3] << 8 | d->hdr[4]);
			if (type < 20 || type > 24) {
				anomaly(s, f, dir, A_RECORD_TYPE);
				finish(s, f);
				break;
			}
			if (d->hdr[1] != 3 || d->hdr[2] > 4) {
				anomaly(s, f, dir, A_RECORD_VERSION);
				finish(s, f);
				break;
			}
			if (type == 23) {
				/* application data: the handshake is over */
				finish(s, f);
				break;
			}
			if (len == 0 || len > REC_MAX) {
				anomaly(s, f, dir, A_RECORD_LENGTH);
				finish(s, f);
				break;
			}
			if (type == 24)
				anomaly(s, f, dir, A_HEARTBEAT);
			d->rec_type = type;
			d->rec_left = len;
			continue;
		}
		uint32_t k = n < d->rec_left ? n : d->rec_left;
		if (d->rec_type == 22 && !d->encrypted) {
			int r = hs_feed(s, f, dir, p, k);
			if (r < 0)
				return r;
		}
		p += k;
		n -= k;
		d->rec_left -= k;
		if (d->rec_left == 0 && d->rec_type == 20) {
			d->encrypted = true;
			/* the server's ChangeCipherSpec ends what can be read
			 * (a resumed session: the client's follows, encrypted
			 * too) */
			if (dir == OM_DIR_TOCLIENT)
				finish(s, f);
		}
	}
	return 0;
}

static void tls_gap(void *st, om_flow *f, int dir, uint64_t len)
{
	struct tls_state *s = st;
	(void)dir;
	(void)len;
	/* records cannot be found again after a hole */
	finish(s, f);
}

static void tls_end(void *st, om_flow *f, int dir, enum om_app_end why)
{
	(void)dir;
	(void)why;
	log_once(st, f);
}

static void *tls_new(om_flow *f, void *user, void *wctx)
{
	(void)user;
	(void)wctx;
	struct tls_state *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->x = info_new();
	if (!s->x) {
		free(s);
		return NULL;
	}
	/* no proto worker (a test of the app-layer alone): the defaults */
	struct om_proto_worker *w = proto_worker(f);
	if (w) {
		s->cfg = w->p->cfg.tls;
	} else {
		tls_defaults(&s->cfg);
	}
	return s;
}

static void tls_free(void *st, void *user)
{
	(void)user;
	struct tls_state *s = st;
	if (!s)
		return;
	free(s->d[0].hs);
	free(s->d[1].hs);
	info_free(s->x);
	free(s);
}

/* a record header of a handshake record, then the handshake type */
static enum om_app_probe probe(const uint8_t *d, uint32_t n, uint8_t hs_type)
{
	if (n >= 1 && d[0] != 22)
		return OM_APP_PROBE_NO;
	if (n >= 2 && d[1] != 3)
		return OM_APP_PROBE_NO;
	if (n >= 3 && d[2] > 4)
		return OM_APP_PROBE_NO;
	if (n >= 5 && (d[3] << 8 | d[4]) < 4)
		return OM_APP_PROBE_NO;
	if (n >= 6)
		return d[5] == hs_type ? OM_APP_PROBE_YES : OM_APP_PROBE_NO;
	return OM_APP_PROBE_MORE;
}

static enum om_app_probe tls_probe_ts(const om_flow *f, const uint8_t *d, uint32_t n, void *w)
{
	(void)f;
	(void)w;
	return probe(d, n, 1);
}

static enum om_app_probe tls_probe_tc(const om_flow *f, const uint8_t *d, uint32_t n, void *w)
{
	(void)f;
	(void)w;
	return probe(d, n, 2);
}

static const om_app_parser tls_parser = {
    .name = "tls",
    .ipprotos = OM_APP_TCP,
    .ports = {443, 8443, 465, 993, 995, 636, 853},
    .probe_ts = tls_probe_ts,
    .probe_tc = tls_probe_tc,
    .state_new = tls_new,
    .data = tls_data,
    .gap = tls_gap,
    .end = tls_end,
    .state_free = tls_free,
};

/* The settings are reached through the flow's proto worker
 * (om_app_worker_user), so the description stays constant and nothing here
 * is global. */
int proto_tls_register(om_proto *p, om_app_registry *reg)
{
	if (!p->cfg.tls.enabled)
		return 0;
	return om_app_register(reg, &tls_parser, NULL);
}
