/* detect: a rule engine for Suricata's rule language (docs/detect.md).
 * A rule set is loaded from files, compiled (Hyperscan prefilter per
 * buffer, PCRE2 with JIT), then shared read-only by the workers; each
 * worker has its own state (flowbits, thresholds, scratch). Packets come
 * from the engine (om_detect_packet), transactions from proto's observer
 * interface (om_detect_tx); alerts go back through a callback. */
#ifndef OMAMORI_DETECT_H
#define OMAMORI_DETECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/base.h"
#include "net/net.h"
#include "proto/proto.h"

/* ---- settings ------------------------------------------------------------ */
/* "rules.files": the rule files the gateway loads (a list); "rules.vars":
 * variables of the rule language (HOME_NET, HTTP_PORTS, ...: name ->
 * value; $HOME_NET defaults to base's home-net); "rules.classification-file":
 * a classification.config to use over the built-in classtypes. */
#define OM_DETECT_MAX_FILES 64
#define OM_DETECT_PATH_MAX 256
#define OM_DETECT_MAX_VARS 32
struct om_detect_var {
	char name[48];
	char value[512];
};
typedef struct om_detect_config {
	char files[OM_DETECT_MAX_FILES][OM_DETECT_PATH_MAX];
	unsigned nfiles;
	struct om_detect_var vars[OM_DETECT_MAX_VARS];
	unsigned nvars;
	char classification[OM_DETECT_PATH_MAX];
} om_detect_config;
extern const om_config_schema om_detect_config_schema;

/* ---- loading ------------------------------------------------------------- */
typedef struct om_detect om_detect;

/* What loading found: every enabled rule is counted once in total, then
 * either accepted, skipped for a reason (an unsupported keyword, buffer,
 * protocol or value: "keyword:xbits") or a syntax error. */
#define OM_DETECT_REASONS 96
typedef struct om_detect_load_stats {
	uint64_t total, accepted, syntax_errors, skipped;
	unsigned nreasons;
	struct {
		char reason[48];
		uint64_t count;
	} reasons[OM_DETECT_REASONS];
	bool reasons_full; /* more distinct reasons than the table holds */
} om_detect_load_stats;

/* home: the inside networks ($HOME_NET; $EXTERNAL_NET is its negation),
 * copied. Variables have Suricata's defaults until set. */
int om_detect_new(const om_config_nets *home, om_detect **ret);
om_detect *om_detect_free(om_detect *d);
/* Sets variable name (without '$') to value ("[10.0.0.0/8,!10.1.0.0/16]",
 * "[80,8080]"); before loading rules that use it. */
int om_detect_set_var(om_detect *d, const char *name, const char *value);
/* Loads classification.config text (lines "config classification:
 * name,description,priority"); replaces a class of the same name. */
int om_detect_load_classification(om_detect *d, const char *text, size_t len);
/* Adds the rules of text (one per line, '\' continues a line). Each
 * skipped rule is warned about once (rule and keyword) when warn has
 * OM_DETECT_WARN_SKIP, each invalid one with OM_DETECT_WARN_SYNTAX.
 * Returns 0, or -ENOMEM/-E2BIG (the rule cap). */
#define OM_DETECT_WARN_SKIP 0x1u
#define OM_DETECT_WARN_SYNTAX 0x2u
#define OM_DETECT_WARN_ALL 0x3u
int om_detect_add_rules(om_detect *d, const char *text, size_t len, const char *name, unsigned warn,
                        om_detect_load_stats *st);
/* Reads a file and adds it. -errno with err set when it cannot be read. */
int om_detect_add_file(om_detect *d, const char *path, unsigned warn, om_detect_load_stats *st,
                       char *err, size_t errlen);
/* Builds the prefilter databases; after it the set is read-only. */
int om_detect_compile(om_detect *d, char *err, size_t errlen);
uint32_t om_detect_rule_count(const om_detect *d);

/* One rule's text parsed alone (the fuzzer, `rules check`): 0 accepted,
 * 1 skipped (reason written), -EINVAL syntax error (reason written). */
int om_detect_parse_one(om_detect *d, const char *rule, size_t len, char *reason, size_t rlen);

/* The set the configuration names, plus the files of extra (inspect's
 * --rules), compiled. -errno with err set ("FILE: reason"). */
int om_detect_from_config(const om_detect_config *cfg, const om_config_nets *home,
                          const char *const *extra, unsigned nextra, unsigned warn, om_detect **ret,
                          char *err, size_t errlen);
/* The same, counting what was loaded into st (zeroed by the caller; may be
 * NULL): the gateway's reload compares the syntax errors of the new set
 * with those of the running one. */
int om_detect_from_config_stats(const om_detect_config *cfg, const om_config_nets *home,
                                const char *const *extra, unsigned nextra, unsigned warn,
                                om_detect_load_stats *st, om_detect **ret, char *err,
                                size_t errlen);

/* ---- matching -------------------------------------------------------------- */
enum om_detect_action { OM_DA_ALERT = 0, OM_DA_DROP, OM_DA_REJECT, OM_DA_PASS };

typedef struct om_detect_alert {
	uint32_t sid, gid, rev;
	enum om_detect_action action;
	const char *msg;
	const char *class_name, *class_desc; /* "" when the rule has none */
	int priority;                        /* 1 highest */
	const char *metadata;                /* "key value, key value" or NULL */
	const char *category;                /* report category (DESIGN.md) */
	const char *advice;                  /* catalogue key */
	om_flow *flow;                       /* NULL: no flow */
	int dir;                             /* direction of the matching data */
	const om_packet *pkt;                /* the packet, or NULL (transaction) */
	const om_proto_tx *tx;               /* the transaction, or NULL */
} om_detect_alert;
typedef void (*om_detect_alert_fn)(void *user, const om_detect_alert *a);

typedef struct om_detect_worker om_detect_worker;
om_detect_worker *om_detect_worker_new(const om_detect *d, om_detect_alert_fn fn, void *user);
om_detect_worker *om_detect_worker_free(om_detect_worker *w);
/* A decoded packet and its flow (f may be NULL), after the stream. */
void om_detect_packet(om_detect_worker *w, om_flow *f, const om_packet *p, int dir);
/* TCP stream data, in two steps around the app-layer parsers: the engine
 * calls om_detect_stream with each in-order delivery of the stream
 * (on_data: data, len at stream offset offset of direction dir; p the
 * packet that delivered it, or
 * NULL when a flow end flushes held bytes) before handing the bytes to the
 * parsers, then om_detect_stream_end after them. The first scans the bytes
 * with the window of what the stream delivered before them (om_stream_window)
 * and notes the payload matches of rules that also need a transaction; the
 * second checks the payload rules (so that they see the flow's protocol as
 * the parsers just found it). A pattern counts once: where it ends in the
 * new bytes. */
void om_detect_stream(om_detect_worker *w, om_flow *f, int dir, const uint8_t *data, uint32_t len,
                      uint64_t offset, const om_packet *p);
void om_detect_stream_end(om_detect_worker *w);
/* A transaction (the proto observer's on_tx). */
enum om_tx_verdict om_detect_tx(om_detect_worker *w, om_flow *f, const om_proto_tx *tx);

typedef struct om_detect_stats {
	uint64_t packets, txs, prefilter_hits, rules_checked, alerts, suppressed;
	uint64_t flowbit_evictions, threshold_evictions;
	uint64_t stream_chunks, stream_bytes; /* TCP stream deliveries inspected */
	uint64_t mark_evictions; /* stream matches of mixed rules forgotten (table full) */
} om_detect_stats;
void om_detect_worker_stats(const om_detect_worker *w, om_detect_stats *ret);

/* ---- the hub: transactions to the engine's workers ------------------------------ */
/* proto shows transactions to observers made before its workers; the hub
 * is that observer. The engine makes one detect worker per engine worker,
 * binds it to the hub under the worker's index before making that
 * worker's proto worker, and frees it after. */
typedef struct om_detect_hub om_detect_hub;
om_detect_hub *om_detect_hub_new(const om_detect *d);
om_detect_hub *om_detect_hub_free(om_detect_hub *h);
const om_detect *om_detect_hub_rules(const om_detect_hub *h);
void om_detect_hub_bind(om_detect_hub *h, unsigned index, om_detect_worker *w);
/* A worker's cell may be bound again while it runs (the gateway's reload:
 * on that worker's own thread, between two packets); the next transaction
 * goes to the new detect worker. A hub may be made with no rules (d NULL)
 * so that a reload can bring the first ones. */
/* Registers the hub as an observer of p (before p's workers exist). */
int om_detect_attach(om_detect_hub *h, om_proto *p);

/* ---- the command line ------------------------------------------------------ */
/* `omamori rules check|update ...`: argv[0] is "rules". home: $HOME_NET. */
int om_detect_rules_main(int argc, char **argv, enum om_lang lang, const om_config_nets *home);
/* {"total", "accepted", "skipped": {"reason": count, ...}} */
void om_detect_stats_json(const om_detect_load_stats *st, om_buf *out);

/* ---- reload ---------------------------------------------------------------- */
/* A holder of the current rule set: the gateway compiles a new set aside
 * and swaps it in; workers take the current set at each packet. The old
 * set is freed once no worker uses it. */
typedef struct om_detect_slot om_detect_slot;
om_detect_slot *om_detect_slot_new(om_detect *first);
/* Takes ownership of d (compiled); the previous set is freed when its
 * last holder releases it. -EBUSY (d not taken) while the set before it
 * is still held. */
int om_detect_slot_swap(om_detect_slot *s, om_detect *d);
om_detect_slot *om_detect_slot_free(om_detect_slot *s);
const om_detect *om_detect_slot_acquire(om_detect_slot *s);
void om_detect_slot_release(om_detect_slot *s, const om_detect *d);

/* The gateway's reload (SIGHUP or the console): builds the configured set
 * aside and swaps it in; on any error the running set stays and err says
 * why. */
int om_detect_reload(om_detect_slot *slot, const om_detect_config *cfg, const om_config_nets *home,
                     char *err, size_t errlen);

#endif
