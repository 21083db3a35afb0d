/* internal.h: what the parsers of the proto module share (private to
 * src/proto). Events go out through proto_event; files through the
 * proto_file_* calls; each parser registers itself with its
 * proto_<name>_register from proto.c. */
#ifndef OMAMORI_PROTO_INTERNAL_H
#define OMAMORI_PROTO_INTERNAL_H

#include "proto/proto.h"

struct om_proto {
	om_proto_config cfg;
	om_file_subscriber subs[OM_PROTO_MAX_SUBSCRIBERS];
	unsigned nsubs;
	int ftp_id;                       /* ftp's registry id, for ftp-data (-1: not registered) */
	struct proto_files_shared *files; /* file store, posted verdicts */
	om_proto_observer obs[OM_PROTO_MAX_OBSERVERS];
	unsigned nobs;
	/* an observer or a subscriber may read HTTP bodies and header blocks
	 * (one without no_http_bodies): the HTTP parser keeps copies of them */
	bool http_bodies_read;
};

/* the proto module's worker context (one per engine worker, reached from a
 * flow with om_app_worker_user) */
struct proto_files_worker;
struct om_proto_worker {
	om_proto *p;
	unsigned index;
	om_proto_sink sink;
	om_proto_stats stats;
	struct proto_files_worker *files;
	void *obs_ctx[OM_PROTO_MAX_OBSERVERS]; /* the observers' worker contexts */
	/* notes of the transaction being shown (om_proto_tx_note) */
	struct {
		om_proto_body_fn fn;
		void *arg;
	} notes[OM_PROTO_MAX_NOTES];
	unsigned nnotes;
	const om_event_meta *note_meta;
	bool in_tx; /* inside proto_tx_ready */
};
/* The notes observers left on the transaction just shown: written into
 * the parser's record (proto_tx_notes_write), the record's omamori meta
 * (NULL: none), cleared once the record is out. */
void proto_tx_notes_write(om_flow *f, om_json *j);
const om_event_meta *proto_tx_notes_meta(om_flow *f);
void proto_tx_notes_clear(om_flow *f);
/* the worker of flow f, or NULL (no proto worker set: a test without one) */
struct om_proto_worker *proto_worker(const om_flow *f);

/* file.c's parts of the module's and the workers' life cycles */
int proto_files_init(om_proto *p, char *err, size_t errlen);
void proto_files_fini(om_proto *p);
int proto_files_worker_init(struct om_proto_worker *w);
void proto_files_worker_fini(struct om_proto_worker *w);

/* ---- per-thread blocks --------------------------------------------------------- */
/* What a parser keeps per thread beside its flows (freed decoders for the
 * next ones, digest contexts): one slot each. */
enum proto_thread_slot {
	PROTO_THREAD_DIGEST = 0,
	PROTO_THREAD_TLS,
	PROTO_THREAD_MIME,
	PROTO_THREAD_N
};
/* This thread's block of slot, made zeroed (size bytes) at the thread's
 * first call; when the thread exits, release (when not NULL) is given the
 * block to free what it holds, then the block itself is freed. Every call
 * for one slot passes the same size and release. NULL when it cannot be
 * made (out of memory): the caller goes on without it. */
void *proto_thread_block(enum proto_thread_slot slot, size_t size, void (*release)(void *));

/* ---- events ---------------------------------------------------------------- */
/* Hands one record to the engine's sink (nothing when the flow's worker has
 * no proto worker: a unit test without a sink). */
void proto_event(om_flow *f, const om_proto_event *ev);
/* An `anomaly` record of type "applayer", as Suricata writes it:
 * {"app_proto": app_proto, "type": "applayer", "event": event,
 *  "layer": "proto_parser"}; event is the parser's name for what was
 * wrong (upper case, Suricata's where it has one, for example
 * "REQUEST_FIELD_TOO_LONG"). dir as in om_proto_event. */
void proto_anomaly(om_flow *f, int dir, const char *app_proto, const char *event);

/* ---- transactions ------------------------------------------------------------ */
/* Shows a transaction to the observers (when its request is complete, and
 * again when its response is: tx->progress says which) and applies their
 * verdicts to the flow's flags. A parser calls it where it writes the
 * transaction's record, or earlier for the request. */
void proto_tx_ready(om_flow *f, const om_proto_tx *tx);

/* ---- files ----------------------------------------------------------------- */
/* Opens a file carried by flow f in direction dir (OM_DIR_TOCLIENT for a
 * download). name is copied (at most 1024 bytes kept). ctx, when not NULL,
 * writes the transaction's members into the fileinfo record ("http": {...}
 * or "email": {...}, as Suricata does) and is called at once: what it wrote
 * is kept with the file, so the transaction may be gone when the file
 * closes. Returns NULL when no more files may be open (max_open; counted):
 * the parser goes on without extracting that file. */
om_file *proto_file_open(om_flow *f, int dir, const char *app_proto, const uint8_t *name,
                         size_t name_len, uint64_t tx_id, om_proto_body_fn ctx, void *ctx_arg);
/* The next bytes of the file. Past files.max_file the file is closed as
 * TRUNCATED and further data is ignored. Returns 0 (also when ignored). */
int proto_file_data(om_file *file, const uint8_t *data, size_t len);
/* len bytes of the file are missing (a stream gap, a range not sent). */
void proto_file_gap(om_file *file, uint64_t len);
/* Ends the file: CLOSED (complete), TRUNCATED (cut short: the flow ended,
 * a limit) or ERROR (the protocol broke). Writes its fileinfo record,
 * gives the subscribers their close, stores it when the store is on, and
 * frees it; the pointer is invalid afterwards. Accepts NULL. */
void proto_file_close(om_file *file, enum om_file_state state);

/* ---- the parsers' registrations (one per parser file) ------------------------ */
int proto_http_register(om_proto *p, om_app_registry *reg);
int proto_dns_register(om_proto *p, om_app_registry *reg);
int proto_tls_register(om_proto *p, om_app_registry *reg);
int proto_quic_register(om_proto *p, om_app_registry *reg);
int proto_mail_register(om_proto *p, om_app_registry *reg); /* smtp, pop3, imap */
int proto_ftp_register(om_proto *p, om_app_registry *reg);  /* ftp, ftp-data */

/* ---- the parsers' config schemas (one per parser file) ------------------------ */
extern const om_config_schema proto_http_schema;
extern const om_config_schema proto_dns_schema;
extern const om_config_schema proto_tls_schema;
extern const om_config_schema proto_quic_schema;
extern const om_config_schema proto_mail_schema;
extern const om_config_schema proto_ftp_schema;
extern const om_config_schema proto_files_schema;

#endif
