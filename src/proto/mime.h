/* mime.h: a streaming MIME decoder for the mail parsers (private to
 * src/proto). A message is fed in pieces of any size, as it arrives; the
 * decoder never holds more than one line, one header field and a few
 * fixed tables. It decodes headers (folding, RFC 2047 encoded-words,
 * RFC 2231 parameters), base64 and quoted-printable bodies, nested
 * multiparts and message/rfc822 parts, converts Japanese charsets
 * (ISO-2022-JP, Shift_JIS, EUC-JP) to UTF-8 with iconv, finds URLs in
 * text and HTML parts, and hands every attachment or inline part to its
 * user as a stream of decoded bytes. The design note is docs/proto-mail.md. */
#ifndef OMAMORI_PROTO_MIME_H
#define OMAMORI_PROTO_MIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/base.h"

struct mime_limits {
	uint32_t max_line;   /* bytes of one body line kept for decoding */
	uint32_t max_header; /* bytes of one unfolded header field */
	uint32_t max_depth;  /* multipart nesting */
	uint32_t max_parts;  /* parts per message */
	uint64_t max_body;   /* decoded bytes of one text part scanned for URLs */
	uint32_t max_urls;   /* URLs kept per message */
	/* bytes of the message's UTF-8 body text kept for the observers
	 * (mime_text); with it the top-level header fields (mime_headers) and
	 * the first bytes of each attachment (mime_attachment_head) are kept
	 * too. 0: none of them. */
	uint32_t max_text;
};

/* A part that becomes a file (an attachment or an inline part with a
 * disposition or a name). name is UTF-8, not terminated, may be empty. */
struct mime_part_info {
	const uint8_t *name;
	size_t name_len;
	const char *content_type; /* "image/png", lower case */
	unsigned depth;
};

struct mime_ops {
	/* a file part starts; returns the user's handle for it (NULL: not wanted) */
	void *(*part_open)(void *user, const struct mime_part_info *pi);
	void (*part_data)(void *user, void *part, const uint8_t *d, size_t n);
	/* complete: the part ended at its boundary (else the message was cut) */
	void (*part_close)(void *user, void *part, bool complete);
	/* a limit or a protocol error, by Suricata's event name ("MIME_LONG_LINE") */
	void (*anomaly)(void *user, const char *event);
};

/* Suricata's parse states, written as email.status */
enum mime_status {
	MIME_ST_NONE = 0,
	MIME_ST_HEADER_STARTED,
	MIME_ST_HEADER_READY,
	MIME_ST_BODY_STARTED,
	MIME_ST_BODY_END_BOUNDARY,
	MIME_ST_PARSE_DONE,
	MIME_ST_PARSE_ERROR,
};

typedef struct mime mime;

/* One decoder per message. Returns NULL when out of memory. */
mime *mime_new(const struct mime_limits *l, const struct mime_ops *ops, void *user);
mime *mime_free(mime *m); /* closes open parts as incomplete; accepts NULL */
/* The next bytes of the message (after the transport's own unstuffing). */
void mime_feed(mime *m, const uint8_t *d, size_t n);
/* The message ended: complete (the transport's end marker was seen) or cut
 * short (the flow ended, a gap). Closes every open part. */
void mime_end(mime *m, bool complete);

/* The transport carries only a part of the message (POP3 TOP): multiparts
 * left open at the end are no anomaly. */
void mime_set_partial(mime *m);

enum mime_status mime_status(const mime *m);
const char *mime_status_name(enum mime_status s);
uint32_t mime_parts(const mime *m);

/* Writes "email": {...} as Suricata 7 does for SMTP: status, from, to, cc,
 * the custom header fields, attachment, url (Suricata's default: http
 * URLs only, without the scheme, lower case) and its URL flags. */
void mime_write_email(om_json *j, const mime *m);
/* Every URL found (http, https, ftp; scheme and case kept) as an array
 * named key, when there is one. */
void mime_write_urls(om_json *j, const char *key, const mime *m);
bool mime_has_urls(const mime *m);

/* For the rule engine's buffers: a top-level header field, decoded to
 * UTF-8 (NULL when the message has none), and the idx-th URL of every URL
 * found (NULL past the last). */
enum mime_field { MIME_F_FROM = 0, MIME_F_TO, MIME_F_SUBJECT };
const char *mime_field(const mime *m, enum mime_field f, size_t *ret_len);
const char *mime_url(const mime *m, uint32_t idx, size_t *ret_len);

/* What max_text keeps (NULL when nothing was kept): the top-level header
 * fields, each "Name: value\n" with its value decoded to UTF-8 (at most
 * MIME_HEADERS_MAX bytes); the UTF-8 text of the text parts that are not
 * attachments, joined by newlines (at most max_text bytes); the name and
 * the first decoded bytes (at most MIME_HEAD_MAX) of the idx-th listed
 * attachment. */
#define MIME_HEADERS_MAX 16384u
#define MIME_HEAD_MAX 4096u
const char *mime_headers(const mime *m, size_t *ret_len);
const char *mime_text(const mime *m, size_t *ret_len);
const char *mime_attachment(const mime *m, uint32_t idx, size_t *ret_len);
const uint8_t *mime_attachment_head(const mime *m, uint32_t idx, size_t *ret_len);

/* Decodes an RFC 2047 header value into UTF-8 (out is terminated; at most
 * cap - 1 bytes). Returns the length. Exposed for the tests. */
size_t mime_decode_header(const uint8_t *in, size_t n, char *out, size_t cap);

#endif
