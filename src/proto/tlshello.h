/* tlshello.h: the TLS hello messages as the tls and quic parsers read them
 * (private to src/proto): ClientHello and ServerHello bodies parsed into
 * bounded arrays, and the fingerprints made from them (JA3, JA3S, JA4).
 * GREASE values (RFC 8701: 0x?a?a with both bytes equal) are left out of
 * every list, as JA3 and JA4 require. */
#ifndef OMAMORI_PROTO_TLSHELLO_H
#define OMAMORI_PROTO_TLSHELLO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/proto.h"

/* caps: a hello with longer lists is parsed all the same, the rest of a
 * list is not kept and `truncated` says so (the fingerprints are then made
 * from what was kept) */
#define TLS_HELLO_MAX_CIPHERS 256
#define TLS_HELLO_MAX_EXTS 64
#define TLS_HELLO_MAX_GROUPS 64
#define TLS_HELLO_MAX_POINTFMTS 16
#define TLS_HELLO_MAX_SIGALGS 64
#define TLS_HELLO_SNI_MAX 255
#define TLS_HELLO_ALPN_MAX 256 /* bytes of the ALPN list kept (wire form) */

/* what was wrong in a hello that was otherwise read (bit set) */
#define TLS_HELLO_MULTIPLE_SNI 0x1u /* more than one server_name extension */
#define TLS_HELLO_BAD_SNI_TYPE 0x2u /* a name type other than host_name */
#define TLS_HELLO_BAD_SNI_LEN 0x4u  /* a name longer than its extension or cap */

struct tls_hello {
	bool client;
	bool truncated; /* some list was longer than its cap */
	bool has_supported_versions;
	bool has_sni, ech, esni; /* ech: 0xfe0d; esni: 0xffce */
	unsigned problems;       /* TLS_HELLO_* above */
	uint16_t legacy_version; /* the hello's version field */
	uint16_t version;        /* client: highest in supported_versions; server:
	                          * the one selected; else legacy_version */
	uint16_t cipher;         /* server: the chosen suite */
	uint16_t nciphers, nexts, ngroups, npointfmts, nsigalgs;
	uint16_t nciphers_all, nexts_all; /* as sent (no GREASE), for JA4's counts */
	uint16_t alpn_len;                /* bytes in alpn (a list of length-prefixed names) */
	uint16_t sni_len;
	uint8_t session_id_len;
	uint16_t ciphers[TLS_HELLO_MAX_CIPHERS];
	uint16_t exts[TLS_HELLO_MAX_EXTS]; /* in wire order */
	uint16_t groups[TLS_HELLO_MAX_GROUPS];
	uint8_t pointfmts[TLS_HELLO_MAX_POINTFMTS];
	uint16_t sigalgs[TLS_HELLO_MAX_SIGALGS];
	uint16_t versions[8]; /* client: supported_versions as listed (no GREASE) */
	uint8_t nversions;
	uint8_t alpn[TLS_HELLO_ALPN_MAX];
	char sni[TLS_HELLO_SNI_MAX + 1];
	uint8_t session_id[32];
};

bool tls_is_grease(uint16_t v);

/* Parses the body of a ClientHello (client true) or ServerHello handshake
 * message (without its 4-byte header). Returns 0, or -EINVAL when the
 * message is malformed (a length runs past its container); *ret is then
 * left partly written. */
int tls_hello_parse(const uint8_t *body, size_t len, bool client, struct tls_hello *ret);

/* The first ALPN protocol name of h (NULL when none), its length in *ret_len. */
const uint8_t *tls_hello_alpn_first(const struct tls_hello *h, size_t *ret_len);

/* "TLS 1.2", "TLS 1.3", "TLSv1", "SSLv3", ... as Suricata names versions,
 * "UNDETERMINED" otherwise. */
const char *tls_version_name(uint16_t v);

/* JA3 (client) or JA3S (server) string into out (NUL-terminated, cut at
 * n - 1) and its md5 in hex (33 bytes). Returns the string's length. */
#define TLS_JA3_MAX 4096
size_t tls_ja3(const struct tls_hello *h, char *out, size_t n, char md5_hex[33]);

/* JA4 of a ClientHello: transport 't' (TCP) or 'q' (QUIC). out >= 37. */
#define TLS_JA4_LEN 36
void tls_ja4(const struct tls_hello *h, char transport, char out[TLS_JA4_LEN + 1]);

/* The hello buffers of a transaction (tls.sni, ja3.hash, ja3.string,
 * ja3s.hash, ja3s.string, ja4.hash, tls.alpn by index, tls.version) for
 * om_proto_tx.buffer. ch, sh: NULL when not seen. What is computed is kept
 * in the view, so pointers stay valid while the view lives. */
struct tls_txview {
	const struct tls_hello *ch, *sh;
	char transport; /* 't' or 'q', for JA4 */
	bool ja3_done, ja3s_done, ja4_done;
	char ja3[TLS_JA3_MAX], ja3_md5[33];
	char ja3s[TLS_JA3_MAX], ja3s_md5[33];
	char ja4[TLS_JA4_LEN + 1];
};
const uint8_t *tls_hello_buffer(struct tls_txview *v, enum om_tx_buf b, uint32_t idx,
                                uint32_t *ret_len);

#endif
