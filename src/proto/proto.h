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
	uint32_t file_id;      /* per flow, from 1 */
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
} om_file_subscriber;
#define OM_PROTO_MAX_SUBSCRIBERS 8
/* Before the workers start. -ENOSPC past OM_PROTO_MAX_SUBSCRIBERS. */
int om_proto_add_file_subscriber(om_proto *p, const om_file_subscriber *s);
/* From any thread: the answer to a PENDING close. -ENOENT when the file's
 * verdict was already decided (the hold ran out). */
int om_file_verdict_post(om_proto *p, om_file_ticket ticket, enum om_file_verdict v);

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
