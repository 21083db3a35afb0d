/* proto: the application-layer parsers (HTTP, DNS, TLS, QUIC, SMTP, POP3,
 * IMAP, FTP) and file extraction, built on net's app-layer contract
 * (docs/applayer.md). What a parser writes goes out as EVE records through
 * the engine's sink; what a file carries goes to the file subscribers
 * (hashes, anti-virus, YARA, intel). The design note is docs/proto.md; the
 * file interface is docs/files.md. */
#ifndef OMAMORI_PROTO_H
#define OMAMORI_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/base.h"
#include "net/net.h"

/* ---- settings ------------------------------------------------------------ */
/* One block per parser (each its own config schema, keys under
 * "app-layer.<parser>."), and one for files ("files."). */
#define OM_PROTO_PATH_MAX 256

struct om_proto_http_config {
	bool enabled;
	uint64_t request_body_limit;  /* bytes of each request body inspected */
	uint64_t response_body_limit; /* bytes of each response body inspected */
	uint32_t max_header_bytes;    /* one header block */
	uint32_t max_tx;              /* transactions alive per flow */
	uint32_t decompress_ratio;    /* gzip/deflate output at most this times the input */
	uint64_t decompress_limit;    /* bytes of decompressed output per body */
};

struct om_proto_dns_config {
	bool enabled;
	uint32_t max_tx;  /* queries waiting for an answer per flow */
	uint32_t max_msg; /* bytes of one DNS message over TCP */
};

struct om_proto_tls_config {
	bool enabled;
	uint32_t max_handshake; /* bytes of handshake messages buffered per direction */
	uint32_t max_certs;     /* certificates read per chain */
};

struct om_proto_quic_config {
	bool enabled;
	uint32_t max_crypto; /* bytes of CRYPTO frames buffered per flow */
};

struct om_proto_mail_config {
	bool smtp, pop3, imap; /* each parser on or off */
	uint32_t max_line;     /* bytes of one command or reply line */
	uint32_t max_header;   /* bytes of one message's header block */
	uint32_t max_depth;    /* MIME nesting depth */
	uint32_t max_parts;    /* MIME parts per message */
	uint64_t max_body;     /* decoded body bytes inspected per part */
	uint32_t max_urls;     /* URLs kept per message */
	uint32_t max_text;     /* body text kept per message for the observers (email.body) */
};

struct om_proto_ftp_config {
	bool enabled;
	uint32_t max_line;         /* bytes of one command or reply line */
	uint32_t max_expectations; /* data connections awaited per worker */
	uint32_t expect_timeout;   /* seconds an announced data connection is awaited */
};

struct om_proto_files_config {
	bool hash;                         /* md5, sha1 and sha256 of every file */
	bool magic;                        /* libmagic type of every file */
	uint64_t max_file;                 /* bytes of one file followed; beyond, truncated */
	uint64_t max_open;                 /* files open at once per worker */
	char store_dir[OM_PROTO_PATH_MAX]; /* "" : no file store */
	uint64_t store_max_bytes;          /* the store's size at most */
	uint64_t store_max_files;          /* files in the store at most */
	uint64_t store_min_free;           /* bytes left free on its file system at least */
	uint32_t hold_ms; /* inline: longest a file's last packet is held for a verdict */
};

typedef struct om_proto_config {
	struct om_proto_http_config http;
	struct om_proto_dns_config dns;
	struct om_proto_tls_config tls;
	struct om_proto_quic_config quic;
	struct om_proto_mail_config mail;
	struct om_proto_ftp_config ftp;
	struct om_proto_files_config files;
} om_proto_config;

#define OM_PROTO_CONFIG_PARTS 7
/* The schemas and objects of c, for om_config_load and friends. */
void om_proto_config_parts(om_proto_config *c, om_config_part ret[OM_PROTO_CONFIG_PARTS]);

/* ---- the module ---------------------------------------------------------- */
typedef struct om_proto om_proto;
/* cfg is copied. Returns 0, or a negative errno with a message in err
 * (libmagic's database missing, a file store that cannot be made). */
int om_proto_new(const om_proto_config *cfg, om_proto **ret, char *err, size_t errlen);
/* Registers every enabled parser into reg (not sealed yet). */
int om_proto_register(om_proto *p, om_app_registry *reg);
om_proto *om_proto_free(om_proto *p);

/* ---- events: the engine's sink -------------------------------------------- */
/* A parser's event: the engine writes the common header for flow f
 * (timestamp of the current packet, flow_id, addresses, app_proto, tunnel,
 * pcap_cnt), then body writes the producer's own members ("http": {...}),
 * then the omamori object from meta (NULL for records that are not security
 * events), then closes the line.
 *
 * dir is the direction the record is written in: OM_DIR_TOSERVER gives
 * src = the flow's client (Suricata's transaction records: http, dns, tls,
 * smtp, ftp, fileinfo of an upload), OM_DIR_TOCLIENT src = the server
 * (fileinfo of a download, as Suricata writes it by the packet's
 * direction). */
typedef void (*om_proto_body_fn)(om_json *j, void *arg);
typedef struct om_proto_event {
	const char *event_type; /* "http", "dns", "fileinfo", "anomaly", ... */
	int dir;
	om_proto_body_fn body;
	void *arg;
	const om_event_meta *meta; /* NULL: no omamori object */
} om_proto_event;
typedef struct om_proto_sink {
	void (*event)(void *user, om_flow *f, const om_proto_event *ev);
	void *user;
} om_proto_sink;

/* ---- files ----------------------------------------------------------------- */
/* A file is a stream of chunks with metadata; see docs/files.md. */
typedef struct om_file om_file;
enum om_file_state { OM_FILE_OPEN = 0, OM_FILE_CLOSED, OM_FILE_TRUNCATED, OM_FILE_ERROR };
const char *om_file_state_name(enum om_file_state s); /* "OPEN", "CLOSED", ... (EVE) */

/* The verdict of one subscriber on one file; the strictest wins. */
enum om_file_verdict {
	OM_FILE_ACCEPT = 0, /* nothing found */
	OM_FILE_ALERT,      /* found something: report, let it through */
	OM_FILE_DROP,       /* found something: block (inline only) */
	OM_FILE_PENDING     /* not known yet: answered later with om_file_verdict_post */
};

typedef struct om_file_info {
	const uint8_t *name; /* as carried by the protocol, not terminated */
	size_t name_len;
	const char *app_proto; /* "http", "smtp", "ftp-data", ... */
	int dir;               /* OM_DIR_TOCLIENT: a download */
	uint32_t file_id;      /* per worker, from 1 (in fileinfo only when stored) */
	uint64_t tx_id;        /* the transaction that carried it */
	uint64_t size;         /* bytes seen so far */
	uint64_t gaps;         /* bytes missing */
	enum om_file_state state;
	const char *magic;                  /* libmagic's description once known, or NULL */
	const uint8_t *md5, *sha1, *sha256; /* once closed with hashing on, else NULL */
} om_file_info;
const om_file_info *om_file_get_info(const om_file *file);
/* The flow that carries the file (valid during subscriber callbacks). */
om_flow *om_file_flow(const om_file *file);

/* A ticket names one subscriber's pending answer on one file; it stays
 * valid (stale but harmless) after the file is gone. */
typedef struct om_file_ticket {
	uint64_t file_seq; /* the file's serial number in its worker */
	uint32_t worker, subscriber;
} om_file_ticket;

/* A subscriber sees every file from its first chunk to its close. All
 * callbacks run on the file's worker thread; a subscriber that needs time
 * (a scanner in a thread of its own) returns OM_FILE_PENDING from close and
 * answers later, from any thread, with om_file_verdict_post. */
typedef struct om_file_subscriber {
	const char *name;
	/* per-file state, or NULL: not interested in this file */
	void *(*open)(const om_file *file, void *user);
	/* bytes of the file at its current offset; < 0: no more chunks wanted */
	int (*chunk)(void *st, const om_file *file, const uint8_t *data, size_t len);
	/* the file ended (info->state says how) */
	enum om_file_verdict (*close)(void *st, const om_file *file, om_file_ticket ticket);
	void (*free)(void *st, void *user);
	void *user;
	/* members this subscriber adds to the file's fileinfo object (the
	 * anti-virus verdict), from the state close left; NULL: none */
	void (*fileinfo)(void *st, const om_file *file, om_json *j);
	/* true: never asks for an HTTP body with proto_http_body (the file's
	 * chunks are all it reads), so the HTTP parser need not keep a copy of
	 * every body for it */
	bool no_http_bodies;
} om_file_subscriber;
#define OM_PROTO_MAX_SUBSCRIBERS 8
/* Before the workers start. -ENOSPC past OM_PROTO_MAX_SUBSCRIBERS. */
int om_proto_add_file_subscriber(om_proto *p, const om_file_subscriber *s);
/* From any thread: the answer to a PENDING close. -ENOENT when the file's
 * verdict was already decided (the hold ran out). */
int om_file_verdict_post(om_proto *p, om_file_ticket ticket, enum om_file_verdict v);

/* ---- transactions: what the rule engine and the guards inspect ------------------ */
/* When a parser has a transaction's request (and again when it has its
 * response), it shows it to the observers (the rule engine, the web filter,
 * threat intelligence) as an om_proto_tx: the protocol, the transaction's
 * number, how far it got, and its buffers by name. Buffers are the sticky
 * buffers of Suricata's rule language; a parser that has no such buffer
 * answers NULL. The pointers are valid during the observer's call only.
 * The design note is docs/proto.md ("Transactions"). */
enum om_tx_buf {
	/* HTTP request */
	OM_TXB_HTTP_METHOD = 0,
	OM_TXB_HTTP_URI,      /* normalised (http.uri) */
	OM_TXB_HTTP_URI_RAW,  /* as sent (http.uri.raw) */
	OM_TXB_HTTP_HOST,     /* lower case, no port (http.host) */
	OM_TXB_HTTP_HOST_RAW, /* as sent (http.host.raw) */
	OM_TXB_HTTP_PROTOCOL, /* "HTTP/1.1" */
	OM_TXB_HTTP_REQUEST_LINE,
	OM_TXB_HTTP_HEADER, /* request headers "Name: value\r\n" each, without cookie (http.header)
	                     */
	OM_TXB_HTTP_HEADER_RAW,   /* request header block as sent */
	OM_TXB_HTTP_HEADER_NAMES, /* "\r\nName1\r\nName2\r\n\r\n" as Suricata builds it */
	OM_TXB_HTTP_USER_AGENT,
	OM_TXB_HTTP_COOKIE,
	OM_TXB_HTTP_CONTENT_TYPE, /* of the request */
	OM_TXB_HTTP_REFERER,
	OM_TXB_HTTP_START,        /* request line and header block (http.start) */
	OM_TXB_HTTP_REQUEST_BODY, /* decoded, up to the configured limit */
	/* HTTP response */
	OM_TXB_HTTP_STAT_CODE,
	OM_TXB_HTTP_STAT_MSG,
	OM_TXB_HTTP_RESPONSE_LINE,
	OM_TXB_HTTP_RESPONSE_HEADER, /* response headers "Name: value\r\n" each */
	OM_TXB_HTTP_RESPONSE_BODY,   /* decoded, up to the configured limit */
	OM_TXB_HTTP_LOCATION,
	OM_TXB_HTTP_SERVER,
	/* DNS */
	OM_TXB_DNS_QUERY,       /* each question's name (idx), dotted, no trailing dot */
	OM_TXB_DNS_ANSWER_NAME, /* each answer's rdata name or address text (idx) */
	/* TLS and QUIC ClientHello / certificates */
	OM_TXB_TLS_SNI,
	OM_TXB_TLS_CERT_SUBJECT,
	OM_TXB_TLS_CERT_ISSUER,
	OM_TXB_TLS_CERT_SERIAL,
	OM_TXB_TLS_CERT_FINGERPRINT,
	OM_TXB_TLS_CERT, /* each certificate's DER (idx: 0 the server's own) */
	OM_TXB_TLS_VERSION,
	OM_TXB_JA3_HASH,
	OM_TXB_JA3_STRING,
	OM_TXB_JA3S_HASH,
	OM_TXB_JA3S_STRING,
	OM_TXB_JA4,
	OM_TXB_TLS_ALPN, /* each ALPN protocol (idx) */
	/* mail */
	OM_TXB_SMTP_HELO,
	OM_TXB_SMTP_MAIL_FROM,
	OM_TXB_SMTP_RCPT_TO, /* each (idx) */
	OM_TXB_EMAIL_FROM,
	OM_TXB_EMAIL_TO,
	OM_TXB_EMAIL_SUBJECT,
	OM_TXB_EMAIL_URL, /* each URL found in the bodies (idx) */
	/* FTP */
	OM_TXB_FTP_COMMAND,
	OM_TXB_FTP_COMMAND_DATA,
	/* mail, for the anti-spam guard (our own names, not Suricata's) */
	OM_TXB_EMAIL_HEADERS,    /* top-level fields "Name: value\n", values decoded to UTF-8 */
	OM_TXB_EMAIL_BODY,       /* UTF-8 text of the text parts, up to max_text */
	OM_TXB_EMAIL_ATTACHMENT, /* each attachment's name (idx), UTF-8 */
	OM_TXB_EMAIL_ATTACHMENT_HEAD, /* each attachment's first decoded bytes (idx, up to 4 KiB) */
	/* TLS and QUIC, for the web filter (our own name, tls.ech): "ech" when
	 * the ClientHello has the encrypted_client_hello extension (0xfe0d),
	 * "esni" for the older encrypted_server_name (0xffce); NULL otherwise */
	OM_TXB_TLS_ECH,
	OM_TXB_COUNT
};
/* The rule language's name of a buffer ("http.uri"), and back (-1: none). */
const char *om_tx_buf_name(enum om_tx_buf b);
int om_tx_buf_from_name(const char *name);

#define OM_TX_REQUEST 0x1u  /* the request (client's part) is complete */
#define OM_TX_RESPONSE 0x2u /* the response (server's part) is complete */

typedef struct om_proto_tx om_proto_tx;
struct om_proto_tx {
	const char *app_proto; /* the parser's name: "http", "dns", "tls", ... */
	uint64_t tx_id;
	unsigned progress; /* OM_TX_REQUEST, | OM_TX_RESPONSE once both */
	int dir;           /* the direction that just completed */
	/* buffer idx of the transaction (idx > 0 for the multi-buffers marked
	 * "each"); NULL when there is none */
	const uint8_t *(*buffer)(const om_proto_tx *tx, enum om_tx_buf b, uint32_t idx,
	                         uint32_t *ret_len);
	/* writes the transaction's EVE object ("http": {...}) into an alert;
	 * called as json(j, tx->priv) during the observer's call */
	om_proto_body_fn json;
	void *priv; /* the parser's */
};
/* An observer's own object in the parser's record of the transaction it
 * is called for: fn(j, arg) is called while that record is written (right
 * after the observers, on the same thread; arg must live until then), and
 * meta, when not NULL, makes the record a security event (its omamori
 * object; the strictest severity of the notes wins). The mail parsers write
 * notes into their smtp, pop3 and imap records (the anti-spam guard's
 * "spam" object); other parsers ignore them. At most OM_PROTO_MAX_NOTES per
 * transaction; -ENOSPC past it, -EINVAL outside an observer's call. */
#define OM_PROTO_MAX_NOTES 4
int om_proto_tx_note(om_flow *f, om_proto_body_fn fn, void *arg, const om_event_meta *meta);

/* A whole message outside any flow (a mail filter, training, a benchmark):
 * parsed with the mail parsers' MIME decoder and limits (max_text at least
 * 64 KiB) and shown to fn as a transaction of app_proto "email" with the
 * email.* buffers. Returns 0, or -ENOMEM. */
int om_proto_mail_message(const struct om_proto_mail_config *cfg, const uint8_t *msg, size_t len,
                          void (*fn)(void *user, const om_proto_tx *tx), void *user);

/* The same buffer in a simple form: NULL when absent. */
const uint8_t *om_tx_get(const om_proto_tx *tx, enum om_tx_buf b, uint32_t idx, uint32_t *ret_len);

/* An observer sees every transaction of every flow on its worker. on_tx
 * returns what it decided; OM_TX_VERDICT_DROP and _REJECT ask the inline
 * gateway to stop the flow (offline they are written as would-drop). */
enum om_tx_verdict {
	OM_TX_VERDICT_ACCEPT = 0,
	OM_TX_VERDICT_ALERT,
	OM_TX_VERDICT_DROP,
	OM_TX_VERDICT_REJECT
};
typedef struct om_proto_observer {
	const char *name;
	/* per-worker context (NULL from a worker_new that may fail: the worker
	 * then fails to start); may be NULL */
	void *(*worker_new)(void *user, unsigned worker);
	void (*worker_free)(void *wctx, void *user);
	enum om_tx_verdict (*on_tx)(void *wctx, om_flow *f, const om_proto_tx *tx);
	void *user;
	/* true: on_tx never reads OM_TXB_HTTP_REQUEST_BODY, _RESPONSE_BODY,
	 * _HEADER_RAW nor _START, so the HTTP parser need not copy bodies and
	 * header blocks for it (false, the default: they are kept, up to the
	 * configured limits, while any observer may read them) */
	bool no_http_bodies;
} om_proto_observer;
#define OM_PROTO_MAX_OBSERVERS 8
/* Before the workers start. -ENOSPC past OM_PROTO_MAX_OBSERVERS. */
int om_proto_add_observer(om_proto *p, const om_proto_observer *o);
/* What the observers decide is kept on the flow: ALERT sets
 * OM_FLOW_F_ALERTED, DROP also OM_FLOW_F_DROP, REJECT also
 * OM_FLOW_F_REJECT (net.h). */

/* ---- per worker ------------------------------------------------------------ */
typedef struct om_proto_worker om_proto_worker;
/* One per engine worker, given to om_app_set_worker_user. index is the
 * worker's number (tickets carry it). */
om_proto_worker *om_proto_worker_new(om_proto *p, unsigned index, const om_proto_sink *sink);
om_proto_worker *om_proto_worker_free(om_proto_worker *w);
/* The inline hold: true while flow f has a closed file whose verdict is
 * still pending; the engine keeps the packet that ended the file until
 * this turns false (a posted answer, or hold_ms ran out: then the file
 * counts as accepted and hold_timeouts says so). */
bool om_proto_flow_held(const om_flow *f);
/* The strictest verdict decided on the files of flow f so far. */
enum om_file_verdict om_proto_flow_verdict(const om_flow *f);
/* Applies the answers posted since the last call and the hold deadlines;
 * returns how many held flows were released. */
unsigned om_proto_worker_poll(om_proto_worker *w, om_usec now);

typedef struct om_proto_stats {
	uint64_t events;    /* records handed to the sink */
	uint64_t anomalies; /* applayer anomalies */
	uint64_t files;     /* files opened */
	uint64_t files_truncated, files_error;
	uint64_t files_stored, store_refused; /* file store */
	uint64_t files_limit;                 /* files refused: max_open */
	uint64_t held, hold_timeouts;
} om_proto_stats;
void om_proto_worker_stats(const om_proto_worker *w, om_proto_stats *ret);

#endif
