/* dns.c: the DNS parser, over UDP (a message per datagram) and TCP (a
 * 2-byte length before each message, any number of messages per segment,
 * a message split over segments). Queries and answers go out as EVE "dns"
 * records in Suricata 7's version 2 format (docs/proto-dns.md); protocol
 * errors and limits as applayer anomalies.
 *
 * A message is checked in full before anything is written (every name
 * decoded with its compression pointers followed, every section inside the
 * message); the record's writer then walks the same bytes again. Names are
 * bounded (255 octets on the wire, RFC 1035), pointer loops are found by
 * the pointers they revisit, and nothing in a message can make the parser
 * allocate: TCP messages are reassembled in one buffer per direction of at
 * most app-layer.dns.max-msg bytes, and the text of a record's data is
 * built in a per-worker scratch buffer with a hard cap. */
#include <errno.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proto/internal.h"

#define DNS_HDR 12
#define DNS_NAME_WIRE_MAX 255         /* octets of a name on the wire (RFC 1035 3.1) */
#define DNS_NAME_TEXT_MAX 256         /* its dotted text, with room for the NUL */
#define DNS_MAX_HOPS 128              /* compression pointers followed in one name */
#define DNS_MAX_GROUPED 16            /* record types in one answer's "grouped" */
#define DNS_SCRATCH_MAX (1024 * 1024) /* text of one record's data at most */

#define DNS_MAX_TX_DEFAULT 256
#define DNS_MAX_MSG_DEFAULT 65535

enum {
	T_A = 1,
	T_NS = 2,
	T_CNAME = 5,
	T_SOA = 6,
	T_NULL = 10,
	T_PTR = 12,
	T_HINFO = 13,
	T_MX = 15,
	T_TXT = 16,
	T_AAAA = 28,
	T_SRV = 33,
	T_NAPTR = 35,
	T_DNAME = 39,
	T_OPT = 41,
	T_DS = 43,
	T_SSHFP = 44,
	T_RRSIG = 46,
	T_NSEC = 47,
	T_DNSKEY = 48,
	T_NSEC3 = 50,
	T_NSEC3PARAM = 51,
	T_TLSA = 52,
	T_CDS = 59,
	T_CDNSKEY = 60,
	T_SVCB = 64,
	T_HTTPS = 65,
	T_SPF = 99,
	T_CAA = 257
};

/* what was wrong with a message (the anomaly's event) */
enum dns_err { E_OK = 0, E_MALFORMED, E_LOOP, E_TOOLONG };
static const char *const err_event[] = {NULL, "MALFORMED_DATA", "INFINITE_LOOP", "NAME_TOO_LONG"};

/* ---- settings ---------------------------------------------------------- */

#define F(m) offsetof(struct om_proto_dns_config, m), sizeof(((struct om_proto_dns_config *)0)->m)
static const om_config_key dns_keys[] = {
    {"app-layer.dns.enabled", OM_CK_BOOL, F(enabled), 0, 0, "config.help.app-layer.dns.enabled",
     NULL, NULL},
    {"app-layer.dns.max-tx", OM_CK_U32, F(max_tx), 1, 65536, "config.help.app-layer.dns.max-tx",
     NULL, NULL},
    {"app-layer.dns.max-msg", OM_CK_U32, F(max_msg), DNS_HDR, 65535,
     "config.help.app-layer.dns.max-msg", NULL, NULL},
};
#undef F

static void dns_defaults(void *obj)
{
	struct om_proto_dns_config *c = obj;
	c->enabled = true;
	c->max_tx = DNS_MAX_TX_DEFAULT;
	c->max_msg = DNS_MAX_MSG_DEFAULT;
}

const om_config_schema proto_dns_schema = {
    "proto",      dns_keys, OM_ARRAY_SIZE(dns_keys), sizeof(struct om_proto_dns_config),
    dns_defaults, NULL,
};

/* ---- names of things ----------------------------------------------------- */

static const struct {
	uint16_t type;
	const char *name;
} rrtypes[] = {
    {1, "A"},       {2, "NS"},        {3, "MD"},          {4, "MF"},     {5, "CNAME"},
    {6, "SOA"},     {7, "MB"},        {8, "MG"},          {9, "MR"},     {10, "NULL"},
    {11, "WKS"},    {12, "PTR"},      {13, "HINFO"},      {14, "MINFO"}, {15, "MX"},
    {16, "TXT"},    {17, "RP"},       {18, "AFSDB"},      {19, "X25"},   {20, "ISDN"},
    {21, "RT"},     {22, "NSAP"},     {23, "NSAPPTR"},    {24, "SIG"},   {25, "KEY"},
    {26, "PX"},     {27, "GPOS"},     {28, "AAAA"},       {29, "LOC"},   {30, "NXT"},
    {33, "SRV"},    {34, "ATMA"},     {35, "NAPTR"},      {36, "KX"},    {37, "CERT"},
    {38, "A6"},     {39, "DNAME"},    {41, "OPT"},        {42, "APL"},   {43, "DS"},
    {44, "SSHFP"},  {45, "IPSECKEY"}, {46, "RRSIG"},      {47, "NSEC"},  {48, "DNSKEY"},
    {49, "DHCID"},  {50, "NSEC3"},    {51, "NSEC3PARAM"}, {52, "TLSA"},  {55, "HIP"},
    {59, "CDS"},    {60, "CDNSKEY"},  {64, "SVCB"},       {65, "HTTPS"}, {99, "SPF"},
    {249, "TKEY"},  {250, "TSIG"},    {251, "IXFR"},      {252, "AXFR"}, {253, "MAILB"},
    {254, "MAILA"}, {255, "ANY"},     {256, "URI"},       {257, "CAA"},
};

/* The mnemonic of a type, or its number in buf. */
static const char *rrtype_name(uint16_t t, char buf[8])
{
	for (size_t i = 0; i < OM_ARRAY_SIZE(rrtypes); i++)
		if (rrtypes[i].type == t)
			return rrtypes[i].name;
	snprintf(buf, 8, "%u", t);
	return buf;
}

static const char *rcode_name(uint16_t flags, char buf[8])
{
	static const char *const n[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
	                                "NOTIMP",  "REFUSED", "YXDOMAIN", "YXRRSET",
	                                "NXRRSET", "NOTAUTH", "NOTZONE"};
	unsigned rc = flags & 0xf;
	if (rc < OM_ARRAY_SIZE(n))
		return n[rc];
	snprintf(buf, 8, "%u", rc);
	return buf;
}

/* ---- reading ------------------------------------------------------------- */

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Reads the name at *off in the message p[0..len). On success *off is past
 * the name's bytes at that place (past its first pointer) and, when txt is
 * not NULL (DNS_NAME_TEXT_MAX bytes), txt holds its labels joined by dots
 * ("" for the root) and *tlen their length. A pointer may go anywhere inside
 * the message; one that comes back to a place already visited is a loop. */
static enum dns_err name_read(const uint8_t *p, uint32_t len, uint32_t *off, char *txt,
                              uint32_t *tlen)
{
	uint32_t o = *off, after = 0, t = 0, wire = 1;
	uint16_t seen[DNS_MAX_HOPS];
	unsigned hops = 0;
	for (;;) {
		if (o >= len)
			return E_MALFORMED;
		uint8_t c = p[o];
		if (c == 0) {
			o++;
			break;
		}
		if ((c & 0xc0) == 0xc0) {
			if (o + 1 >= len)
				return E_MALFORMED;
			uint16_t ptr = (uint16_t)((c & 0x3f) << 8 | p[o + 1]);
			if (!hops)
				after = o + 2;
			for (unsigned i = 0; i < hops; i++)
				if (seen[i] == ptr)
					return E_LOOP;
			if (hops == DNS_MAX_HOPS)
				return E_LOOP;
			seen[hops++] = ptr;
			o = ptr;
			continue;
		}
		if (c & 0xc0) /* 01 and 10: no such label types (a label > 63 octets) */
			return E_MALFORMED;
		if (c >= len - o) /* the label's bytes are not all there */
			return E_MALFORMED;
		wire += 1u + c;
		if (wire > DNS_NAME_WIRE_MAX)
			return E_TOOLONG;
		if (txt) {
			if (t)
				txt[t++] = '.';
			memcpy(txt + t, p + o + 1, c);
			t += c;
		}
		o += 1u + c;
	}
	*off = hops ? after : o;
	if (txt) {
		txt[t] = '\0';
		*tlen = t;
	}
	return E_OK;
}

/* One message, checked. */
struct dns_msg {
	const uint8_t *p;
	uint32_t len;
	uint16_t id, flags;
	uint16_t count[4]; /* question, answer, authority, additional */
	uint32_t sec[4];   /* where each section starts */
	bool opt;          /* an OPT record in the additional section */
	uint16_t udp_size;
	uint8_t ext_rcode, version;
	bool dnssec_ok;
	uint8_t nopts;
	uint16_t opt_code[8]; /* the first EDNS options' codes */
};

static void edns_read(struct dns_msg *m, uint32_t rr, uint32_t rdata, uint16_t rdlen)
{
	/* rr: the fixed part after the name (type, class = UDP size, TTL =
	 * extended rcode, version, DO and Z) */
	if (m->opt)
		return; /* the first one counts */
	m->opt = true;
	m->udp_size = rd16(m->p + rr + 2);
	m->ext_rcode = m->p[rr + 4];
	m->version = m->p[rr + 5];
	m->dnssec_ok = (m->p[rr + 6] & 0x80) != 0;
	m->nopts = 0;
	uint32_t o = rdata, end = rdata + rdlen;
	while (o + 4 <= end && m->nopts < OM_ARRAY_SIZE(m->opt_code)) {
		uint16_t code = rd16(m->p + o), olen = rd16(m->p + o + 2);
		if (olen > end - o - 4)
			break;
		m->opt_code[m->nopts++] = code;
		o += 4u + olen;
	}
}

/* Checks the names inside a record's data (the only part of the data that
 * can make the message unreadable; other odd data is written as generic
 * data). */
static enum dns_err rdata_check(const struct dns_msg *m, uint16_t type, uint32_t o, uint16_t n)
{
	uint32_t end = o + n, x = o;
	enum dns_err e = E_OK;
	switch (type) {
	case T_NS:
	case T_CNAME:
	case T_PTR:
	case T_DNAME:
	case 3:
	case 4:
	case 7:
	case 8:
	case 9: e = name_read(m->p, end, &x, NULL, NULL); break;
	case T_MX:
		if (n < 3)
			return E_MALFORMED;
		x = o + 2;
		e = name_read(m->p, end, &x, NULL, NULL);
		break;
	case T_SOA:
		e = name_read(m->p, end, &x, NULL, NULL);
		if (!e)
			e = name_read(m->p, end, &x, NULL, NULL);
		if (!e && end - x < 20)
			e = E_MALFORMED;
		break;
	case T_SRV:
		if (n < 7)
			return E_MALFORMED;
		x = o + 6;
		e = name_read(m->p, end, &x, NULL, NULL);
		break;
	default: break;
	}
	return e;
}

/* Reads and checks a whole message: header, every question and record
 * inside len bytes, with every name decoded. */
static enum dns_err msg_parse(struct dns_msg *m, const uint8_t *p, uint32_t len)
{
	memset(m, 0, sizeof(*m));
	if (len < DNS_HDR)
		return E_MALFORMED;
	m->p = p;
	m->len = len;
	m->id = rd16(p);
	m->flags = rd16(p + 2);
	for (int s = 0; s < 4; s++)
		m->count[s] = rd16(p + 4 + 2 * s);
	uint32_t o = DNS_HDR;
	m->sec[0] = o;
	for (unsigned i = 0; i < m->count[0]; i++) {
		enum dns_err e = name_read(p, len, &o, NULL, NULL);
		if (e)
			return e;
		if (len - o < 4)
			return E_MALFORMED;
		o += 4;
	}
	for (int s = 1; s < 4; s++) {
		m->sec[s] = o;
		for (unsigned i = 0; i < m->count[s]; i++) {
			enum dns_err e = name_read(p, len, &o, NULL, NULL);
			if (e)
				return e;
			if (len - o < 10)
				return E_MALFORMED;
			uint16_t type = rd16(p + o), rdlen = rd16(p + o + 8);
			if (len - o - 10 < rdlen)
				return E_MALFORMED;
			e = rdata_check(m, type, o + 10, rdlen);
			if (e)
				return e;
			if (s == 3 && type == T_OPT)
				edns_read(m, o, o + 10, rdlen);
			o += 10u + rdlen;
		}
	}
	return E_OK;
}

/* A record of a checked message. */
struct dns_rr {
	char name[DNS_NAME_TEXT_MAX];
	uint32_t name_len;
	uint16_t type, class;
	uint32_t ttl;
	uint32_t rdata; /* offset */
	uint16_t rdlen;
};

/* Past a name that msg_parse checked, without following its pointer. */
static void name_skip(const struct dns_msg *m, uint32_t *o)
{
	uint32_t x = *o;
	while (m->p[x] != 0 && (m->p[x] & 0xc0) != 0xc0)
		x += 1u + m->p[x];
	*o = x + (m->p[x] ? 2 : 1);
}

/* The record at *o (checked by msg_parse, so it cannot fail); its owner's
 * name only when name is true (the passes that look for types skip it). */
static void rr_next_named(const struct dns_msg *m, uint32_t *o, struct dns_rr *rr, bool name)
{
	if (name) {
		name_read(m->p, m->len, o, rr->name, &rr->name_len);
	} else {
		name_skip(m, o);
		rr->name[0] = '\0';
		rr->name_len = 0;
	}
	const uint8_t *f = m->p + *o;
	rr->type = rd16(f);
	rr->class = rd16(f + 2);
	rr->ttl = rd32(f + 4);
	rr->rdlen = rd16(f + 8);
	rr->rdata = *o + 10;
	*o += 10u + rr->rdlen;
}

static void rr_next(const struct dns_msg *m, uint32_t *o, struct dns_rr *rr)
{
	rr_next_named(m, o, rr, true);
}

/* ---- writing ------------------------------------------------------------- */

/* Text from the wire as Suricata writes it: as it is when it is valid UTF-8,
 * else each byte above 127 as the four characters \xNN. */
static bool utf8_valid(const uint8_t *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		uint8_t c = s[i];
		size_t l;
		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xe0) == 0xc0 && c >= 0xc2) {
			l = 2;
		} else if ((c & 0xf0) == 0xe0) {
			l = 3;
		} else if ((c & 0xf8) == 0xf0 && c <= 0xf4) {
			l = 4;
		} else {
			return false;
		}
		if (n - i < l)
			return false;
		for (size_t k = 1; k < l; k++)
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
		if (l == 3 && ((c == 0xe0 && s[i + 1] < 0xa0) || (c == 0xed && s[i + 1] >= 0xa0)))
			return false;
		if (l == 4 && ((c == 0xf0 && s[i + 1] < 0x90) || (c == 0xf4 && s[i + 1] >= 0x90)))
			return false;
		i += l;
	}
	return true;
}

static void put_bytes_text(om_buf *b, const uint8_t *s, size_t n)
{
	if (utf8_valid(s, n)) {
		om_buf_append(b, s, n);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (s[i] < 0x80)
			om_buf_putc(b, (char)s[i]);
		else
			om_buf_printf(b, "\\x%02x", s[i]);
	}
}

/* The per-worker scratch buffer for the text of record data. */
struct dns_worker {
	om_buf scratch;
};

static void json_bytes(om_json *j, om_buf *scratch, const char *key, const uint8_t *s, size_t n)
{
	om_buf_reset(scratch);
	put_bytes_text(scratch, s, n);
	om_json_strn(j, key, scratch->data ? scratch->data : "", scratch->len);
}

/* A name: "" for the root, as Suricata 7 writes it. */
static void json_name(om_json *j, om_buf *scratch, const char *key, const char *txt, uint32_t n)
{
	json_bytes(j, scratch, key, (const uint8_t *)txt, n);
}

static void put_ipv4(om_buf *b, const uint8_t *a)
{
	char t[16];
	size_t n = 0;
	for (int i = 0; i < 4; i++) {
		unsigned v = a[i];
		if (i)
			t[n++] = '.';
		if (v >= 100)
			t[n++] = (char)('0' + v / 100);
		if (v >= 10)
			t[n++] = (char)('0' + v / 10 % 10);
		t[n++] = (char)('0' + v % 10);
	}
	om_buf_append(b, t, n);
}

/* IPv6 in full (eight groups of four digits), as Suricata writes AAAA. */
static void put_ipv6(om_buf *b, const uint8_t *a)
{
	static const char hx[] = "0123456789abcdef";
	char t[40];
	size_t n = 0;
	for (int i = 0; i < 16; i += 2) {
		if (i)
			t[n++] = ':';
		t[n++] = hx[a[i] >> 4];
		t[n++] = hx[a[i] & 15];
		t[n++] = hx[a[i + 1] >> 4];
		t[n++] = hx[a[i + 1] & 15];
	}
	om_buf_append(b, t, n);
}

static void put_hex(om_buf *b, const uint8_t *s, size_t n)
{
	static const char hx[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		om_buf_putc(b, hx[s[i] >> 4]);
		om_buf_putc(b, hx[s[i] & 0xf]);
	}
}

static void put_base64(om_buf *b, const uint8_t *s, size_t n)
{
	static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i = 0;
	for (; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
		char q[4] = {t[v >> 18], t[(v >> 12) & 63], t[(v >> 6) & 63], t[v & 63]};
		om_buf_append(b, q, 4);
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)s[i] << 16;
		char q[4] = {t[v >> 18], t[(v >> 12) & 63], '=', '='};
		om_buf_append(b, q, 4);
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8;
		char q[4] = {t[v >> 18], t[(v >> 12) & 63], t[(v >> 6) & 63], '='};
		om_buf_append(b, q, 4);
	}
}

/* base32 with the extended hex alphabet, no padding (NSEC3, RFC 5155) */
static void put_base32hex(om_buf *b, const uint8_t *s, size_t n)
{
	static const char t[] = "0123456789abcdefghijklmnopqrstuv";
	uint32_t acc = 0;
	int bits = 0;
	for (size_t i = 0; i < n; i++) {
		acc = (acc << 8 | s[i]) & 0xffff;
		bits += 8;
		while (bits >= 5) {
			om_buf_putc(b, t[(acc >> (bits - 5)) & 31]);
			bits -= 5;
		}
	}
	if (bits > 0)
		om_buf_putc(b, t[(acc << (5 - bits)) & 31]);
}

/* A character-string in presentation form: quoted, with " and \ escaped
 * and bytes outside printable ASCII as \DDD. */
static void put_qstr(om_buf *b, const uint8_t *s, size_t n)
{
	om_buf_putc(b, '"');
	for (size_t i = 0; i < n; i++) {
		uint8_t c = s[i];
		if (c == '"' || c == '\\') {
			om_buf_putc(b, '\\');
			om_buf_putc(b, (char)c);
		} else if (c < 0x20 || c > 0x7e) {
			om_buf_printf(b, "\\%03u", c);
		} else {
			om_buf_putc(b, (char)c);
		}
	}
	om_buf_putc(b, '"');
}

/* A name inside record data in presentation form ("." for the root). */
static bool put_name(om_buf *b, const struct dns_msg *m, uint32_t end, uint32_t *o)
{
	char txt[DNS_NAME_TEXT_MAX];
	uint32_t n;
	if (name_read(m->p, end, o, txt, &n))
		return false;
	if (n == 0)
		om_buf_putc(b, '.');
	else
		put_bytes_text(b, (const uint8_t *)txt, n);
	return true;
}

/* A type bitmap (NSEC, NSEC3): " TYPE TYPE ...". */
static bool put_bitmap(om_buf *b, const uint8_t *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		if (n - i < 2)
			return false;
		unsigned win = s[i], blen = s[i + 1];
		if (blen == 0 || blen > 32 || n - i - 2 < blen)
			return false;
		for (unsigned k = 0; k < blen; k++)
			for (unsigned bit = 0; bit < 8; bit++)
				if (s[i + 2 + k] & (0x80 >> bit)) {
					char nb[8];
					om_buf_printf(
					    b, " %s",
					    rrtype_name((uint16_t)(win << 8 | (k * 8 + bit)), nb));
				}
		i += 2 + blen;
	}
	return true;
}

static void put_time(om_buf *b, uint32_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (gmtime_r(&tt, &tm))
		om_buf_printf(b, "%04d%02d%02d%02d%02d%02d", tm.tm_year + 1900, tm.tm_mon + 1,
		              tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	else
		om_buf_printf(b, "%u", t);
}

static const char *svc_key(unsigned k)
{
	static const char *const n[] = {"mandatory", "alpn", "no-default-alpn", "port",
	                                "ipv4hint",  "ech",  "ipv6hint"};
	return k < OM_ARRAY_SIZE(n) ? n[k] : NULL;
}

/* SVCB / HTTPS (RFC 9460): priority, target, then the parameters. */
static bool put_svcb(om_buf *b, const struct dns_msg *m, uint32_t o, uint32_t end)
{
	if (end - o < 3)
		return false;
	om_buf_printf(b, "%u ", rd16(m->p + o));
	o += 2;
	if (!put_name(b, m, end, &o))
		return false;
	while (o < end) {
		if (end - o < 4)
			return false;
		unsigned key = rd16(m->p + o), vlen = rd16(m->p + o + 2);
		o += 4;
		if (end - o < vlen)
			return false;
		const uint8_t *v = m->p + o;
		const char *kn = svc_key(key);
		if (kn)
			om_buf_printf(b, " %s", kn);
		else
			om_buf_printf(b, " key%u", key);
		if (key == 2 && vlen == 0) {
			/* no value */
		} else if (key == 0 && vlen % 2 == 0) {
			for (unsigned i = 0; i < vlen; i += 2) {
				const char *mk = svc_key(rd16(v + i));
				if (mk)
					om_buf_printf(b, "%c%s", i ? ',' : '=', mk);
				else
					om_buf_printf(b, "%ckey%u", i ? ',' : '=', rd16(v + i));
			}
		} else if (key == 1) {
			om_buf_putc(b, '=');
			unsigned i = 0;
			while (i < vlen) {
				unsigned l = v[i];
				if (l == 0 || vlen - i - 1 < l)
					return false;
				if (i)
					om_buf_putc(b, ',');
				for (unsigned k = 0; k < l; k++) {
					uint8_t c = v[i + 1 + k];
					if (c == ',' || c == '\\')
						om_buf_printf(b, "\\%c", c);
					else if (c < 0x21 || c > 0x7e)
						om_buf_printf(b, "\\%03u", c);
					else
						om_buf_putc(b, (char)c);
				}
				i += 1 + l;
			}
		} else if (key == 3 && vlen == 2) {
			om_buf_printf(b, "=%u", rd16(v));
		} else if (key == 4 && vlen && vlen % 4 == 0) {
			for (unsigned i = 0; i < vlen; i += 4) {
				om_buf_putc(b, i ? ',' : '=');
				put_ipv4(b, v + i);
			}
		} else if (key == 6 && vlen && vlen % 16 == 0) {
			for (unsigned i = 0; i < vlen; i += 16) {
				om_buf_putc(b, i ? ',' : '=');
				put_ipv6(b, v + i);
			}
		} else if (key == 5) {
			om_buf_putc(b, '=');
			put_base64(b, v, vlen);
		} else {
			om_buf_putc(b, '=');
			put_hex(b, v, vlen);
		}
		o += vlen;
	}
	return true;
}

/* The data of a record of a type written as a string, in the zone-file
 * presentation form (RFC 1035 and the RFC of each type), except as Suricata
 * writes the types it knows: MX as its exchange only, AAAA in full. False:
 * the data does not have the form of its type (written as generic data,
 * RFC 3597, instead). */
static bool rdata_text(om_buf *b, const struct dns_msg *m, uint16_t type, uint32_t o, uint16_t n)
{
	const uint8_t *d = m->p + o;
	uint32_t end = o + n, x = o;
	switch (type) {
	case T_A:
		if (n != 4)
			return false;
		put_ipv4(b, d);
		return true;
	case T_AAAA:
		if (n != 16)
			return false;
		put_ipv6(b, d);
		return true;
	case T_NS:
	case T_CNAME:
	case T_PTR:
	case T_DNAME:
	case 3:
	case 4:
	case 7:
	case 8:
	case 9: {
		char txt[DNS_NAME_TEXT_MAX];
		uint32_t tl;
		if (name_read(m->p, end, &x, txt, &tl))
			return false;
		/* as Suricata 7: the bare name, "" for the root */
		put_bytes_text(b, (const uint8_t *)txt, tl);
		return true;
	}
	case T_MX: {
		char txt[DNS_NAME_TEXT_MAX];
		uint32_t tl;
		x = o + 2;
		if (n < 3 || name_read(m->p, end, &x, txt, &tl))
			return false;
		put_bytes_text(b, (const uint8_t *)txt, tl);
		return true;
	}
	case T_NULL: put_bytes_text(b, d, n); return true;
	case T_HINFO:
		for (int k = 0; k < 2; k++) {
			if (x >= end || m->p[x] > end - x - 1)
				return false;
			if (k)
				om_buf_putc(b, ' ');
			put_qstr(b, m->p + x + 1, m->p[x]);
			x += 1u + m->p[x];
		}
		return x == end;
	case T_NAPTR:
		if (n < 4)
			return false;
		om_buf_printf(b, "%u %u", rd16(d), rd16(d + 2));
		x = o + 4;
		for (int k = 0; k < 3; k++) {
			if (x >= end || m->p[x] > end - x - 1)
				return false;
			om_buf_putc(b, ' ');
			put_qstr(b, m->p + x + 1, m->p[x]);
			x += 1u + m->p[x];
		}
		om_buf_putc(b, ' ');
		return put_name(b, m, end, &x) && x == end;
	case T_DS:
	case T_CDS:
		if (n < 5)
			return false;
		om_buf_printf(b, "%u %u %u ", rd16(d), d[2], d[3]);
		put_hex(b, d + 4, n - 4u);
		return true;
	case T_DNSKEY:
	case T_CDNSKEY:
		if (n < 5)
			return false;
		om_buf_printf(b, "%u %u %u ", rd16(d), d[2], d[3]);
		put_base64(b, d + 4, n - 4u);
		return true;
	case T_RRSIG: {
		char nb[8];
		if (n < 19)
			return false;
		om_buf_printf(b, "%s %u %u %u ", rrtype_name(rd16(d), nb), d[2], d[3], rd32(d + 4));
		put_time(b, rd32(d + 8));
		om_buf_putc(b, ' ');
		put_time(b, rd32(d + 12));
		om_buf_printf(b, " %u ", rd16(d + 16));
		x = o + 18;
		if (!put_name(b, m, end, &x))
			return false;
		om_buf_putc(b, ' ');
		put_base64(b, m->p + x, end - x);
		return true;
	}
	case T_NSEC:
		if (!put_name(b, m, end, &x))
			return false;
		return put_bitmap(b, m->p + x, end - x);
	case T_NSEC3:
	case T_NSEC3PARAM: {
		if (n < 5)
			return false;
		unsigned slen = d[4];
		if (slen > n - 5u)
			return false;
		om_buf_printf(b, "%u %u %u ", d[0], d[1], rd16(d + 2));
		if (slen)
			put_hex(b, d + 5, slen);
		else
			om_buf_putc(b, '-');
		if (type == T_NSEC3PARAM)
			return 5u + slen == n;
		x = o + 5 + slen;
		if (x >= end || m->p[x] > end - x - 1)
			return false;
		om_buf_putc(b, ' ');
		put_base32hex(b, m->p + x + 1, m->p[x]);
		x += 1u + m->p[x];
		return put_bitmap(b, m->p + x, end - x);
	}
	case T_TLSA:
		if (n < 3)
			return false;
		om_buf_printf(b, "%u %u %u ", d[0], d[1], d[2]);
		put_hex(b, d + 3, n - 3u);
		return true;
	case T_CAA: {
		if (n < 2 || d[1] == 0 || d[1] > n - 2u)
			return false;
		om_buf_printf(b, "%u ", d[0]);
		om_buf_append(b, d + 2, d[1]);
		om_buf_putc(b, ' ');
		put_qstr(b, d + 2 + d[1], n - 2u - d[1]);
		return true;
	}
	case T_SVCB:
	case T_HTTPS: return put_svcb(b, m, o, end);
	default: return false;
	}
}

/* The generic form of data (RFC 3597): "\# LEN HEX". */
static void rdata_generic(om_buf *b, const struct dns_msg *m, uint32_t o, uint16_t n)
{
	om_buf_printf(b, "\\# %u", n);
	if (n) {
		om_buf_putc(b, ' ');
		put_hex(b, m->p + o, n);
	}
}

/* Writes the value of one record: key is "rdata"/"soa"/"srv"/"sshfp" in
 * a detailed entry, NULL inside a grouped array (then only the value).
 * TXT is written by the caller (one value per string, as Suricata). */
static void rr_value(om_json *j, om_buf *scratch, bool grouped, const struct dns_msg *m,
                     const struct dns_rr *rr)
{
	const uint8_t *d = m->p + rr->rdata;
	uint32_t end = rr->rdata + rr->rdlen;
	if (rr->type == T_SOA) {
		char mn[DNS_NAME_TEXT_MAX], rn[DNS_NAME_TEXT_MAX];
		uint32_t ml, rl, x = rr->rdata;
		name_read(m->p, end, &x, mn, &ml);
		name_read(m->p, end, &x, rn, &rl);
		const uint8_t *t = m->p + x;
		om_json_obj_open(j, grouped ? NULL : "soa");
		json_name(j, scratch, "mname", mn, ml);
		json_name(j, scratch, "rname", rn, rl);
		om_json_u64(j, "serial", rd32(t));
		om_json_u64(j, "refresh", rd32(t + 4));
		om_json_u64(j, "retry", rd32(t + 8));
		om_json_u64(j, "expire", rd32(t + 12));
		om_json_u64(j, "minimum", rd32(t + 16));
		om_json_obj_close(j);
		return;
	}
	if (rr->type == T_SRV) {
		char tn[DNS_NAME_TEXT_MAX];
		uint32_t tl, x = rr->rdata + 6;
		name_read(m->p, end, &x, tn, &tl);
		om_json_obj_open(j, grouped ? NULL : "srv");
		om_json_u64(j, "priority", rd16(d));
		om_json_u64(j, "weight", rd16(d + 2));
		om_json_u64(j, "port", rd16(d + 4));
		json_name(j, scratch, "name", tn, tl);
		om_json_obj_close(j);
		return;
	}
	if (rr->type == T_SSHFP && rr->rdlen >= 2) {
		om_buf_reset(scratch);
		for (uint32_t i = 2; i < rr->rdlen; i++)
			om_buf_printf(scratch, "%s%02x", i > 2 ? ":" : "", d[i]);
		om_json_obj_open(j, grouped ? NULL : "sshfp");
		om_json_strn(j, "fingerprint", scratch->data ? scratch->data : "", scratch->len);
		om_json_u64(j, "algo", d[0]);
		om_json_u64(j, "type", d[1]);
		om_json_obj_close(j);
		return;
	}
	om_buf_reset(scratch);
	if (!rdata_text(scratch, m, rr->type, rr->rdata, rr->rdlen)) {
		om_buf_reset(scratch);
		rdata_generic(scratch, m, rr->rdata, rr->rdlen);
	}
	if (scratch->toobig) {
		/* past the scratch cap (cannot happen for one record of a
		 * 64 KiB message, but the cap is what bounds it) */
		om_buf_reset(scratch);
		scratch->toobig = false;
	}
	om_json_strn(j, grouped ? NULL : "rdata", scratch->data ? scratch->data : "", scratch->len);
}

/* Calls one TXT string at a time (a record without strings gives one empty
 * value). */
static void txt_values(om_json *j, om_buf *scratch, const struct dns_msg *m,
                       const struct dns_rr *rr, bool grouped)
{
	uint32_t x = rr->rdata, end = rr->rdata + rr->rdlen;
	bool any = false;
	while (x < end) {
		uint32_t l = m->p[x];
		if (l > end - x - 1)
			l = end - x - 1; /* a string cut short: what is there */
		if (grouped) {
			json_bytes(j, scratch, NULL, m->p + x + 1, l);
		} else {
			char tn[8];
			om_json_obj_open(j, NULL);
			json_name(j, scratch, "rrname", rr->name, rr->name_len);
			om_json_str(j, "rrtype", rrtype_name(rr->type, tn));
			om_json_u64(j, "ttl", rr->ttl);
			json_bytes(j, scratch, "rdata", m->p + x + 1, l);
			om_json_obj_close(j);
		}
		any = true;
		x += 1 + l;
	}
	if (!any) {
		if (grouped) {
			om_json_str(j, NULL, "");
		} else {
			char tn[8];
			om_json_obj_open(j, NULL);
			json_name(j, scratch, "rrname", rr->name, rr->name_len);
			om_json_str(j, "rrtype", rrtype_name(rr->type, tn));
			om_json_u64(j, "ttl", rr->ttl);
			om_json_str(j, "rdata", "");
			om_json_obj_close(j);
		}
	}
}

static bool is_txt(uint16_t t)
{
	return t == T_TXT || t == T_SPF;
}

/* "answers" or "authorities": one object per record (per string for TXT). */
static void section_detailed(om_json *j, om_buf *scratch, const struct dns_msg *m, int s,
                             const char *key)
{
	uint32_t o = m->sec[s];
	om_json_arr_open(j, key);
	for (unsigned i = 0; i < m->count[s]; i++) {
		struct dns_rr rr;
		rr_next(m, &o, &rr);
		if (rr.type == T_OPT)
			continue;
		if (is_txt(rr.type)) {
			txt_values(j, scratch, m, &rr, false);
			continue;
		}
		char tn[8];
		om_json_obj_open(j, NULL);
		json_name(j, scratch, "rrname", rr.name, rr.name_len);
		om_json_str(j, "rrtype", rrtype_name(rr.type, tn));
		om_json_u64(j, "ttl", rr.ttl);
		rr_value(j, scratch, false, m, &rr);
		om_json_obj_close(j);
	}
	om_json_arr_close(j);
}

/* "grouped": the answers' values by type, types in order of appearance
 * (at most DNS_MAX_GROUPED types). */
static void section_grouped(om_json *j, om_buf *scratch, const struct dns_msg *m, int s)
{
	uint16_t types[DNS_MAX_GROUPED];
	unsigned nt = 0;
	uint32_t o = m->sec[s];
	for (unsigned i = 0; i < m->count[s]; i++) {
		struct dns_rr rr;
		rr_next_named(m, &o, &rr, false);
		if (rr.type == T_OPT)
			continue;
		bool known = false;
		for (unsigned k = 0; k < nt; k++)
			known |= types[k] == rr.type;
		if (!known && nt < DNS_MAX_GROUPED)
			types[nt++] = rr.type;
	}
	om_json_obj_open(j, "grouped");
	for (unsigned k = 0; k < nt; k++) {
		char tn[8];
		om_json_arr_open(j, rrtype_name(types[k], tn));
		o = m->sec[s];
		for (unsigned i = 0; i < m->count[s]; i++) {
			struct dns_rr rr;
			rr_next_named(m, &o, &rr, false); /* values only */
			if (rr.type != types[k])
				continue;
			if (is_txt(rr.type))
				txt_values(j, scratch, m, &rr, true);
			else
				rr_value(j, scratch, true, m, &rr);
		}
		om_json_arr_close(j);
	}
	om_json_obj_close(j);
}

/* ---- records ------------------------------------------------------------- */

struct dns_state {
	const struct om_proto_dns_config *cfg;
	struct dns_worker *w;
	bool tcp;
	uint64_t msgs;  /* messages parsed: the next one's tx_id */
	bool flooded;   /* FLOODED was reported */
	uint32_t npend; /* queries waiting for their answer */
	uint32_t head;  /* the oldest of them in pend */
	uint32_t pcap;  /* pend's size: 4, grown by 4 times up to max_tx */
	uint16_t *pend; /* ring of their ids: pend_small or allocated */
	uint16_t pend_small[4];
	struct dns_tcp {       /* TCP: one message being read per direction */
		uint8_t nlen;  /* bytes of the length prefix read (0..2) */
		uint8_t len0;  /* its first byte */
		uint32_t need; /* the message's length */
		uint32_t have; /* bytes of it in buf */
		uint32_t skip; /* bytes still to skip (a message too big, or cut by a gap) */
		bool lost;     /* a gap took the framing: the direction is bypassed */
		uint8_t *buf;
		uint32_t cap;
	} d[2];
};

struct rec_arg {
	struct dns_state *st;
	const struct dns_msg *m;
	uint32_t q; /* offset of the question written (a query record) */
	uint64_t tx_id;
};

static void edns_json(om_json *j, const struct dns_msg *m)
{
	if (!m->opt)
		return;
	om_json_obj_open(j, "omamori");
	om_json_obj_open(j, "edns");
	om_json_u64(j, "version", m->version);
	om_json_u64(j, "udp_size", m->udp_size);
	om_json_bool(j, "do", m->dnssec_ok);
	if (m->nopts) {
		om_json_arr_open(j, "options");
		for (unsigned i = 0; i < m->nopts; i++)
			om_json_u64(j, NULL, m->opt_code[i]);
		om_json_arr_close(j);
	}
	om_json_obj_close(j);
	om_json_obj_close(j);
}

static void query_body(om_json *j, void *arg)
{
	const struct rec_arg *a = arg;
	const struct dns_msg *m = a->m;
	om_buf *scratch = &a->st->w->scratch;
	char txt[DNS_NAME_TEXT_MAX], tn[8];
	uint32_t tl, o = a->q;
	name_read(m->p, m->len, &o, txt, &tl);
	om_json_obj_open(j, "dns");
	om_json_u64(j, "version", 2);
	om_json_str(j, "type", "query");
	om_json_u64(j, "id", m->id);
	json_name(j, scratch, "rrname", txt, tl);
	om_json_str(j, "rrtype", rrtype_name(rd16(m->p + o), tn));
	om_json_u64(j, "tx_id", a->tx_id);
	if (m->flags & 0x0040)
		om_json_bool(j, "z", true);
	om_json_u64(j, "opcode", (m->flags >> 11) & 0xf);
	om_json_obj_close(j);
	edns_json(j, m);
}

static void answer_body(om_json *j, void *arg)
{
	const struct rec_arg *a = arg;
	const struct dns_msg *m = a->m;
	om_buf *scratch = &a->st->w->scratch;
	char fl[8], rc[8];
	uint16_t f = m->flags;
	om_json_obj_open(j, "dns");
	om_json_u64(j, "version", 2);
	om_json_str(j, "type", "answer");
	om_json_u64(j, "id", m->id);
	/* "%x" by hand (snprintf was most of this record's formatting) */
	static const char hx[] = "0123456789abcdef";
	size_t nf = 0;
	for (int sh = 12; sh >= 0; sh -= 4)
		if ((f >> sh) || !sh)
			fl[nf++] = hx[(f >> sh) & 15];
	om_json_strn(j, "flags", fl, nf);
	static const struct {
		uint16_t bit;
		const char *name;
	} bits[] = {{0x8000, "qr"}, {0x0400, "aa"}, {0x0200, "tc"},
	            {0x0100, "rd"}, {0x0080, "ra"}, {0x0040, "z"}};
	for (size_t i = 0; i < OM_ARRAY_SIZE(bits); i++)
		if (f & bits[i].bit)
			om_json_bool(j, bits[i].name, true);
	om_json_u64(j, "opcode", (f >> 11) & 0xf);
	if (m->count[0]) {
		char txt[DNS_NAME_TEXT_MAX], tn[8];
		uint32_t tl, o = m->sec[0];
		name_read(m->p, m->len, &o, txt, &tl);
		json_name(j, scratch, "rrname", txt, tl);
		om_json_str(j, "rrtype", rrtype_name(rd16(m->p + o), tn));
	}
	om_json_str(j, "rcode", rcode_name(f, rc));
	bool answers = false;
	uint32_t o = m->sec[1];
	for (unsigned i = 0; i < m->count[1]; i++) {
		struct dns_rr rr;
		rr_next_named(m, &o, &rr, false);
		answers |= rr.type != T_OPT;
	}
	if (answers) {
		section_detailed(j, scratch, m, 1, "answers");
		section_grouped(j, scratch, m, 1);
	}
	if (m->count[2])
		section_detailed(j, scratch, m, 2, "authorities");
	om_json_obj_close(j);
	edns_json(j, m);
}

static bool opcode_valid(unsigned op)
{
	/* QUERY, IQUERY, STATUS, NOTIFY, UPDATE, DSO */
	return op <= 6 && op != 3;
}

static void pend_add(struct dns_state *st, om_flow *f, uint16_t id)
{
	uint32_t max = st->cfg->max_tx;
	if (st->npend == st->pcap && st->pcap < max) {
		/* a flow with many queries in flight (a resolver's TCP
		 * connection): a bigger ring, once per 4 times */
		uint32_t nc = st->pcap * 4 < max ? st->pcap * 4 : max;
		uint16_t *nb = malloc(nc * sizeof(*nb));
		if (nb) {
			for (uint32_t i = 0; i < st->npend; i++)
				nb[i] = st->pend[(st->head + i) % st->pcap];
			if (st->pend != st->pend_small)
				free(st->pend);
			st->pend = nb;
			st->pcap = nc;
			st->head = 0;
		}
	}
	uint32_t cap = st->pcap;
	if (st->npend == cap) {
		/* the oldest query is given up */
		st->head = (st->head + 1) % cap;
		st->npend--;
		if (!st->flooded) {
			st->flooded = true;
			proto_anomaly(f, OM_DIR_TOSERVER, "dns", "FLOODED");
		}
	}
	st->pend[(st->head + st->npend) % cap] = id;
	st->npend++;
}

/* Takes the query that id answers; false: none waits. */
static bool pend_take(struct dns_state *st, uint16_t id)
{
	uint32_t cap = st->pcap;
	for (uint32_t i = 0; i < st->npend; i++) {
		uint32_t k = (st->head + i) % cap;
		if (st->pend[k] != id)
			continue;
		/* close the hole: move the older ones up by one */
		for (uint32_t x = i; x > 0; x--)
			st->pend[(st->head + x) % cap] = st->pend[(st->head + x - 1) % cap];
		st->head = (st->head + 1) % cap;
		st->npend--;
		return true;
	}
	return false;
}

/* ---- transactions: the message's questions for the rule engine and the
 * guards (dns.query, one per question) ------------------------------------- */

struct dns_txv {
	struct rec_arg a;
	char txt[DNS_NAME_TEXT_MAX];
};

/* dns.answer.name idx: the idx-th record of the answer section that has an
 * address (A, AAAA: its text) or a name (CNAME, PTR, NS: the target), into
 * txt (DNS_NAME_TEXT_MAX bytes). The threat-intelligence matcher reads the
 * addresses a name resolved to here. */
static const uint8_t *dns_tx_answer(const struct dns_msg *m, uint32_t idx, char *txt,
                                    uint32_t *ret_len)
{
	uint32_t o = m->sec[1], seen = 0;
	for (unsigned i = 0; i < m->count[1]; i++) {
		struct dns_rr rr;
		rr_next_named(m, &o, &rr, false);
		bool addr = (rr.type == 1 && rr.rdlen == 4) || (rr.type == 28 && rr.rdlen == 16);
		bool name = rr.type == 5 || rr.type == 12 || rr.type == 2;
		if (!addr && !name)
			continue;
		if (seen++ != idx)
			continue;
		if (addr) {
			om_addr a;
			if (rr.type == 1)
				om_addr_from_v4(&a, m->p + rr.rdata);
			else
				memcpy(a.b, m->p + rr.rdata, 16);
			om_addr_str(&a, txt, DNS_NAME_TEXT_MAX);
			*ret_len = (uint32_t)strlen(txt);
		} else {
			uint32_t ro = rr.rdata, tl = 0;
			if (name_read(m->p, m->len, &ro, txt, &tl) != E_OK)
				return NULL;
			*ret_len = tl;
		}
		return (const uint8_t *)txt;
	}
	return NULL;
}

static const uint8_t *dns_tx_buffer(const om_proto_tx *tx, enum om_tx_buf b, uint32_t idx,
                                    uint32_t *ret_len)
{
	struct dns_txv *v = tx->priv;
	const struct dns_msg *m = v->a.m;
	if (b == OM_TXB_DNS_ANSWER_NAME)
		return dns_tx_answer(m, idx, v->txt, ret_len);
	if (b != OM_TXB_DNS_QUERY || idx >= m->count[0])
		return NULL;
	uint32_t o = m->sec[0], tl = 0;
	for (uint32_t i = 0; i < idx; i++) {
		name_read(m->p, m->len, &o, NULL, NULL);
		o += 4;
	}
	name_read(m->p, m->len, &o, v->txt, &tl);
	*ret_len = tl;
	return (const uint8_t *)v->txt;
}

static void dns_tx_json(om_json *j, void *priv)
{
	struct dns_txv *v = priv;
	if (v->a.m->flags & 0x8000)
		answer_body(j, &v->a);
	else
		query_body(j, &v->a);
}

static void dns_tx(om_flow *f, int dir, const struct rec_arg *a, bool response)
{
	struct dns_txv v;
	v.a = *a;
	v.a.q = a->m->sec[0];
	om_proto_tx tx = {.app_proto = "dns",
	                  .tx_id = a->tx_id,
	                  .progress = response ? OM_TX_REQUEST | OM_TX_RESPONSE : OM_TX_REQUEST,
	                  .dir = dir,
	                  .buffer = dns_tx_buffer,
	                  .json = dns_tx_json,
	                  .priv = &v};
	proto_tx_ready(f, &tx);
}

/* One whole message of direction dir. */
static void dns_message(struct dns_state *st, om_flow *f, int dir, const uint8_t *p, uint32_t n)
{
	struct dns_msg m;
	enum dns_err e = msg_parse(&m, p, n);
	if (e) {
		proto_anomaly(f, dir, "dns", err_event[e]);
		return;
	}
	uint64_t tx_id = st->msgs++;
	bool qr = (m.flags & 0x8000) != 0;
	if (m.flags & 0x0040)
		proto_anomaly(f, dir, "dns", "Z_FLAG_SET");
	if (!opcode_valid((m.flags >> 11) & 0xf))
		proto_anomaly(f, dir, "dns", "INVALID_OPCODE");
	if (qr && dir == OM_DIR_TOSERVER)
		proto_anomaly(f, dir, "dns", "NOT_REQUEST");
	else if (!qr && dir == OM_DIR_TOCLIENT)
		proto_anomaly(f, dir, "dns", "NOT_RESPONSE");
	struct rec_arg a = {st, &m, 0, tx_id};
	if (!qr) {
		pend_add(st, f, m.id);
		uint32_t o = m.sec[0];
		for (unsigned i = 0; i < m.count[0]; i++) {
			a.q = o;
			name_read(m.p, m.len, &o, NULL, NULL);
			o += 4;
			om_proto_event ev = {"dns", OM_DIR_TOSERVER, query_body, &a, NULL};
			proto_event(f, &ev);
		}
		if (m.count[0])
			dns_tx(f, dir, &a, false);
		return;
	}
	if (!pend_take(st, m.id))
		proto_anomaly(f, dir, "dns", "UNSOLICITED_RESPONSE");
	om_proto_event ev = {"dns", OM_DIR_TOSERVER, answer_body, &a, NULL};
	proto_event(f, &ev);
	if (m.count[0])
		dns_tx(f, dir, &a, true);
}

/* ---- the app-layer callbacks ------------------------------------------------ */

static bool header_plausible(const uint8_t *p, bool response)
{
	uint16_t flags = rd16(p + 2);
	if (((flags & 0x8000) != 0) != response)
		return false;
	if (!opcode_valid((flags >> 11) & 0xf))
		return false;
	uint16_t qd = rd16(p + 4);
	/* a question (a response without one: only with an error) */
	if (qd == 0 && !(response && (flags & 0xf)))
		return false;
	return qd <= 16;
}

/* Content check of a message that may be cut short (TCP, the first bytes):
 * the header and as many whole questions as are there. */
static enum om_app_probe probe_msg(const uint8_t *p, uint32_t n, uint32_t full, bool response)
{
	if (n < DNS_HDR)
		return OM_APP_PROBE_MORE;
	if (!header_plausible(p, response))
		return OM_APP_PROBE_NO;
	if (n >= full) {
		struct dns_msg m;
		return msg_parse(&m, p, full) ? OM_APP_PROBE_NO : OM_APP_PROBE_YES;
	}
	uint32_t o = DNS_HDR;
	uint16_t qd = rd16(p + 4);
	for (unsigned i = 0; i < qd; i++) {
		enum dns_err e = name_read(p, n, &o, NULL, NULL);
		if (e == E_MALFORMED) {
			/* the name runs past what is here: more is coming
			 * (a name that is broken is found once the whole
			 * message is here, n >= full) */
			return OM_APP_PROBE_MORE;
		}
		if (e)
			return OM_APP_PROBE_NO;
		if (n - o < 4)
			return OM_APP_PROBE_MORE;
		o += 4;
	}
	return OM_APP_PROBE_YES;
}

static enum om_app_probe probe_udp(const uint8_t *p, uint32_t n, bool response)
{
	if (n < DNS_HDR || !header_plausible(p, response))
		return OM_APP_PROBE_NO;
	struct dns_msg m;
	return msg_parse(&m, p, n) ? OM_APP_PROBE_NO : OM_APP_PROBE_YES;
}

static enum om_app_probe probe_tcp(const uint8_t *p, uint32_t n, bool response)
{
	if (n < 2)
		return OM_APP_PROBE_MORE;
	uint32_t len = rd16(p);
	if (len < DNS_HDR)
		return OM_APP_PROBE_NO;
	return probe_msg(p + 2, n - 2, len, response);
}

static enum om_app_probe dns_probe(const om_flow *f, const uint8_t *p, uint32_t n, bool response)
{
	if (f->proto == IPPROTO_UDP)
		return probe_udp(p, n, response);
	return probe_tcp(p, n, response);
}

static enum om_app_probe dns_probe_ts(const om_flow *f, const uint8_t *p, uint32_t n, void *w)
{
	(void)w;
	return dns_probe(f, p, n, false);
}

static enum om_app_probe dns_probe_tc(const om_flow *f, const uint8_t *p, uint32_t n, void *w)
{
	(void)w;
	return dns_probe(f, p, n, true);
}

static void *dns_worker_new(void *user)
{
	(void)user;
	struct dns_worker *w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	om_buf_init(&w->scratch, DNS_SCRATCH_MAX);
	return w;
}

static void dns_worker_free(void *wctx, void *user)
{
	(void)user;
	struct dns_worker *w = wctx;
	if (!w)
		return;
	om_buf_free(&w->scratch);
	free(w);
}

/* The settings of a flow's module (the defaults when the flow's worker has
 * no proto worker: an app-layer test without the module's sink). */
static const struct om_proto_dns_config *dns_cfg(const om_flow *f)
{
	static const struct om_proto_dns_config defaults = {
	    .enabled = true, .max_tx = DNS_MAX_TX_DEFAULT, .max_msg = DNS_MAX_MSG_DEFAULT};
	const struct om_proto_worker *w = proto_worker(f);
	return w && w->p ? &w->p->cfg.dns : &defaults;
}

static void *dns_state_new(om_flow *f, void *user, void *wctx)
{
	(void)user;
	const struct om_proto_dns_config *cfg = dns_cfg(f);
	struct dns_state *st = calloc(1, sizeof(*st));
	if (!st)
		return NULL;
	st->pend = st->pend_small;
	st->pcap = cfg->max_tx < OM_ARRAY_SIZE(st->pend_small) ? cfg->max_tx
	                                                       : OM_ARRAY_SIZE(st->pend_small);
	st->cfg = cfg;
	st->w = wctx;
	st->tcp = f->proto == IPPROTO_TCP;
	return st;
}

static void dns_state_free(void *state, void *user)
{
	(void)user;
	struct dns_state *st = state;
	if (!st)
		return;
	free(st->d[0].buf);
	free(st->d[1].buf);
	if (st->pend != st->pend_small)
		free(st->pend);
	free(st);
}

/* TCP: the length prefix, then the message, any number per call. */
static void tcp_data(struct dns_state *st, om_flow *f, int dir, const uint8_t *p, uint32_t n)
{
	struct dns_tcp *d = &st->d[dir];
	while (n && !d->lost) {
		if (d->skip) {
			uint32_t k = n < d->skip ? n : d->skip;
			d->skip -= k;
			p += k;
			n -= k;
			continue;
		}
		if (d->nlen < 2) {
			if (d->nlen == 0 && n >= 2) {
				d->need = rd16(p);
				p += 2;
				n -= 2;
			} else if (d->nlen == 0) {
				d->len0 = *p++;
				n--;
				d->nlen = 1;
				continue;
			} else {
				d->need = (uint32_t)d->len0 << 8 | *p++;
				n--;
			}
			d->nlen = 2;
			d->have = 0;
			if (d->need > st->cfg->max_msg) {
				proto_anomaly(f, dir, "dns", "MESSAGE_TOO_BIG");
				d->skip = d->need;
				d->nlen = 0;
			} else if (d->need < DNS_HDR) {
				proto_anomaly(f, dir, "dns", "MALFORMED_DATA");
				d->skip = d->need;
				d->nlen = 0;
			}
			continue;
		}
		if (d->have == 0 && n >= d->need) {
			/* all of it here: no copy */
			dns_message(st, f, dir, p, d->need);
			p += d->need;
			n -= d->need;
			d->nlen = 0;
			continue;
		}
		if (d->cap < d->need) {
			uint8_t *nb = realloc(d->buf, d->need);
			if (!nb) {
				/* no memory for it: skip the message */
				d->skip = d->need - d->have;
				d->nlen = 0;
				continue;
			}
			d->buf = nb;
			d->cap = d->need;
		}
		uint32_t k = d->need - d->have;
		if (k > n)
			k = n;
		memcpy(d->buf + d->have, p, k);
		d->have += k;
		p += k;
		n -= k;
		if (d->have == d->need) {
			dns_message(st, f, dir, d->buf, d->need);
			d->nlen = 0;
			d->have = 0;
		}
	}
}

static int dns_data(void *state, om_flow *f, int dir, const uint8_t *p, uint32_t n, unsigned flags)
{
	(void)flags;
	struct dns_state *st = state;
	if (!st->tcp)
		dns_message(st, f, dir, p, n);
	else
		tcp_data(st, f, dir, p, n);
	return 0;
}

/* A gap inside a message whose length is known: that message is lost, the
 * next one starts where it would have ended. Anywhere else the framing is
 * gone and the direction is bypassed. */
static void dns_gap(void *state, om_flow *f, int dir, uint64_t len)
{
	struct dns_state *st = state;
	struct dns_tcp *d = &st->d[dir];
	if (d->lost || len == 0)
		return;
	uint64_t rest;
	if (d->skip)
		rest = d->skip;
	else if (d->nlen == 2)
		rest = d->need - d->have;
	else
		rest = 0;
	if (len <= rest) {
		d->skip = (uint32_t)(rest - len);
		d->nlen = 0;
		d->have = 0;
		return;
	}
	d->lost = true;
	om_app_bypass(f, 1u << dir);
}

/* Read-only: each flow finds its module's settings through its worker
 * (dns_cfg), so that two modules with different settings can coexist. */
static const om_app_parser dns_parser = {
    .name = "dns",
    .ipprotos = OM_APP_TCP | OM_APP_UDP,
    .ports = {53},
    .probe_ts = dns_probe_ts,
    .probe_tc = dns_probe_tc,
    .worker_new = dns_worker_new,
    .worker_free = dns_worker_free,
    .state_new = dns_state_new,
    .data = dns_data,
    .gap = dns_gap,
    .state_free = dns_state_free,
};

int proto_dns_register(om_proto *p, om_app_registry *reg)
{
	if (!p->cfg.dns.enabled)
		return 0;
	return om_app_register(reg, &dns_parser, NULL);
}
