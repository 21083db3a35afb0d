/* engine: the pipeline that ties capture, decoding, flows, reassembly and
 * the guards together, runs it on worker threads and writes the events.
 * Uses every module below it. */
#ifndef OMAMORI_ENGINE_H
#define OMAMORI_ENGINE_H

#include "base/base.h"
#include "detect/detect.h"
#include "guard/guard.h"
#include "net/net.h"
#include "proto/proto.h"

/* ---- settings ----------------------------------------------------------- */
/* The engine's own part of the configuration: its outputs. */
typedef struct om_engine_config {
	uint32_t stats_interval;   /* seconds of capture time between stats records */
	uint64_t eve_rotate_bytes; /* gateway: rotate EVE file at this size; 0 = never */
	bool eve_rotate_daily;
	/* capture clock: seconds a packet may be ahead of the clock (unless the
	 * next packet confirms the jump) or behind it before it is a timestamp
	 * outlier; 0 behind = the longest flow timeout */
	uint32_t clock_ahead_max, clock_behind_max;
} om_engine_config;
extern const om_config_schema om_engine_config_schema;

/* Everything the engine runs with: one part per module, each loaded and
 * checked by its module's schema from the one configuration file. */
/* ---- the gateway's configuration (gateway.c, docs/gateway.md) ---------- */
#define OM_GW_MAX_FORWARDS 64
#define OM_GW_MAX_HOSTS 64
#define OM_GW_MAX_BLOCKED 256
#define OM_GW_NAME_MAX 128
enum om_gw_mode { OM_GW_INLINE = 0, OM_GW_PASSIVE };
/* A port forward: WAN port -> host:port inside. proto: IPPROTO_TCP/UDP. */
typedef struct om_gw_forward {
	uint8_t proto;
	uint16_t port, to_port;
	om_addr to;
} om_gw_forward;
/* A per-host rule: deny: the host may not reach the WAN (port 0: at all);
 * allow: the WAN may reach the host on that port (a pinhole). */
typedef struct om_gw_host {
	om_cidr host;
	bool allow;
	uint8_t proto; /* 0 with port 0: any */
	uint16_t port;
} om_gw_host;
typedef struct om_gateway_config {
	uint32_t mode; /* om_gw_mode */
	char lan[32], wan[32], dmz[32];
	char mirror[32]; /* passive: the interface that sees the copy */
	uint32_t workers;
	uint32_t queue; /* first NFQUEUE number; workers use queue..queue+workers-1 */
	bool fail_open;
	uint32_t scan_block_seconds; /* 0: scans from the WAN are only reported */
	uint32_t hold_ms;            /* longest hold of a packet waiting for a file verdict */
	uint32_t max_held;           /* packets held at once per worker */
	char user[32];               /* run as this user after set-up ("" = stay) */
	char block_addr[64];         /* the gateway's LAN address: block page, sinkhole */
	char block_addr6[64];        /* its IPv6 address for the same ("": none) */
	/* the packet workers' SCHED_FIFO priority (0: the normal scheduler): a
	 * worker woken by a packet runs at once instead of after the time
	 * slice of whatever else the machine runs */
	uint32_t rt_priority;
	/* a TCP flow that nothing inspects any more (both directions past the
	 * stream depth, no file pending, application known) is let through the
	 * kernel without the queue (docs/gateway.md, "Bypass"); on by default */
	bool bypass;
	uint32_t block_port;      /* the block page's port (default 8080) */
	char block_contact[256];  /* whom to ask, shown on the block page ("" = the IT person) */
	uint32_t auto_quarantine; /* OM_GW_AUTOQ_* bits: alert categories that isolate the host */
	om_gw_forward forwards[OM_GW_MAX_FORWARDS];
	unsigned nforwards;
	om_gw_host hosts[OM_GW_MAX_HOSTS];
	unsigned nhosts;
	/* the policy block list: domains (and their subdomains) whose HTTP host,
	 * DNS query or TLS/QUIC SNI is blocked, until the web filter exists */
	char blocked[OM_GW_MAX_BLOCKED][OM_GW_NAME_MAX];
	unsigned nblocked;
} om_gateway_config;
extern const om_config_schema om_gateway_config_schema;
/* The alert categories that may isolate an inside host automatically
 * (site.auto-quarantine). */
enum {
	OM_GW_AUTOQ_C2 = 1u << 0,
	OM_GW_AUTOQ_WEB_MALWARE = 1u << 1,
	OM_GW_AUTOQ_MAIL_MALWARE = 1u << 2,
	OM_GW_AUTOQ_INTRUSION = 1u << 3,
};
/* The bit of an omamori.category name (len bytes), 0 for any other. */
uint32_t om_gw_autoq_bit(const char *category, size_t len);

typedef struct om_settings {
	om_base_config base;
	om_net_config net;
	om_guard_config guard;
	om_engine_config engine;
	om_proto_config proto;
	om_detect_config detect;
	om_gateway_config gateway;
	om_av_config av;
} om_settings;
#define OM_SETTINGS_PARTS (7 + OM_PROTO_CONFIG_PARTS)
void om_settings_parts(om_settings *s, om_config_part ret[OM_SETTINGS_PARTS]);
void om_settings_defaults(om_settings *s);
/* As om_config_load over every part: a bad file changes nothing. */
int om_settings_load(om_settings *s, const char *path, char *err, size_t errlen);
void om_settings_dump(om_settings *s, om_buf *out);

/* ---- EVE output --------------------------------------------------------- */
/* Sinks: every event line goes to the EVE writer and to the spool (base.h,
 * om_spool_*), from which the store writer and the console's ingest read.
 * The engine never writes to the store itself.
 *
 * A thread-safe writer of EVE JSON lines to a file or standard output, with
 * optional rotation by size or by day (capture time). Writers hand whole
 * blocks of lines; a line is never split between files. */
typedef struct om_eve om_eve;
/* path "-" is standard output. rotate_bytes 0 = never; daily rotates when the
 * UTC day of the events changes. */
int om_eve_open(const char *path, uint64_t rotate_bytes, bool daily, om_eve **ret, char *err,
                size_t errlen);
/* Writes a block of complete lines; day is the UTC day (YYYY-MM-DD) of the
 * block's last event, used for daily rotation (may be NULL). */
int om_eve_write(om_eve *e, const char *data, size_t len, const char *day);
/* The file is opened at the first block, appending (as Suricata does)
 * unless truncate is set; a run that writes nothing leaves it untouched. */
void om_eve_set_truncate(om_eve *e, bool truncate);
/* Live output (the gateway): every block reaches the file at once. */
void om_eve_set_live(om_eve *e, bool live);
om_eve *om_eve_close(om_eve *e);
uint64_t om_eve_rotations(const om_eve *e);
/* A full disk (live output): the lines dropped from the log and the old
 * rotated files removed to make room. */
void om_eve_full_stats(om_eve *e, uint64_t *ret_dropped_lines, uint64_t *ret_removed_files);

/* ---- offline inspection ------------------------------------------------- */
typedef struct om_engine_opts {
	const om_settings *cfg;
	const char *pcap_path;
	om_eve *eve;     /* may be NULL: no EVE output */
	om_spool *spool; /* may be NULL: no spool */
	const char *tenant;
	const char *gateway;
	unsigned workers; /* 1..64 */
	/* app-layer parsers (sealed, shared by the workers); NULL: none */
	const om_app_registry *apps;
	/* the proto module that registered them (its workers are made per
	 * engine worker); NULL: parsers without proto's sink (tests) */
	om_proto *proto;
	/* the web filter (needs proto): its observer is registered by the
	 * engine, which writes its EVE "webfilter" events; NULL: none */
	om_wf_filter *webfilter;
	/* threat intelligence (flows need nothing more; transactions and
	 * files need proto): the engine registers its observer and file
	 * subscriber and writes its EVE "intel" events; NULL: none */
	om_intel_matcher *intel;
	/* application control (guard's om_appctl): each worker identifies its
	 * flows with nDPI, writes the "app" object in every event of a flow
	 * and EVE "appctl" events where the policy applies; NULL: none */
	const om_appctl *appctl;
	/* the capture clock: a packet more than clock_ahead_max ahead of the
	 * latest accepted packet (unless the next packet confirms the jump) or
	 * more than clock_behind_max behind it is a timestamp outlier: an
	 * anomaly event, processed at the clock's time. 0: one hour ahead, the
	 * longest flow timeout behind. */
	om_usec clock_ahead_max, clock_behind_max;
	/* the rule engine (compiled rules, attached to proto as an observer
	 * for transactions); NULL: no rules */
	om_detect_hub *detect;
	/* the anti-virus (needs proto): subscribed to its files by the engine,
	 * which writes its alerts; each file is scanned on its worker. NULL: none */
	om_av *av;
} om_engine_opts;

typedef struct om_engine_result {
	uint64_t packets, bytes;
	uint64_t flows, alerts, anomalies;
	uint64_t timestamp_outliers; /* included in anomalies */
	uint64_t coverage_hours;     /* coverage events written */
	bool truncated;              /* the capture was cut short */
	char warning[512];           /* what was wrong with it */
} om_engine_result;

/* Runs the capture through the pipeline. Returns 0 (also for a capture cut
 * short: result->truncated says so) or a negative errno with err set. */
int om_engine_inspect(const om_engine_opts *o, om_engine_result *ret, char *err, size_t errlen);

/* ---- verdicts (verdict.c) ------------------------------------------------ */
/* An address table with expiry and a hard cap: blocked WAN scan sources and
 * quarantined hosts. Not thread-safe: the owner locks (gateway.c). */
typedef struct om_addr_table om_addr_table;
om_addr_table *om_addr_table_new(unsigned cap);
om_addr_table *om_addr_table_free(om_addr_table *t);
/* until 0: no expiry. -ENOSPC when full (after dropping expired entries). */
int om_addr_table_add(om_addr_table *t, const om_addr *a, om_usec until);
int om_addr_table_del(om_addr_table *t, const om_addr *a);
bool om_addr_table_has(om_addr_table *t, const om_addr *a, om_usec now);
unsigned om_addr_table_count(const om_addr_table *t);
/* The i-th live entry (for listing); false past the end. */
bool om_addr_table_get(const om_addr_table *t, unsigned i, om_addr *ret, om_usec *ret_until);

/* What the pipeline found out about one packet, from every verdict source. */
typedef struct om_verdict_in {
	uint32_t flow_flags;   /* OM_FLOW_F_DROP / _REJECT set by proto's observers */
	bool file_pending;     /* a file of this flow waits for its verdict (hold) */
	om_usec hold_age;      /* how long this flow's packets are held already */
	bool file_blocked;     /* a file subscriber said the file is bad */
	bool src_blocked;      /* source is a blocked WAN scanner */
	bool quarantined;      /* source or destination is a quarantined host */
	bool quarantined_src;  /* the sender itself is isolated (not only the receiver) */
	bool quarantine_allow; /* ... but this is DNS to the gateway or its block page */
	bool policy_blocked;   /* the block list matched (host, query, SNI) */
} om_verdict_in;
/* Combines the inputs: the strictest wins (drop > reject > hold > accept).
 * A hold older than hold_max becomes accept or drop by fail_open. */
enum om_verdict om_verdict_decide(const om_verdict_in *in, om_usec hold_max, bool fail_open);

/* ---- firewall (firewall.c) ---------------------------------------------- */
enum om_fw_queue { OM_FW_QUEUE_NONE = 0, OM_FW_QUEUE_NFT, OM_FW_QUEUE_IPTABLES };
/* The packet mark of a bypassed flow's packet, kept on its connection
 * (ct mark): the queue rule skips connections that carry it. */
#define OM_GW_BYPASS_MARK 0x40000000u
/* The nftables ruleset for the configuration, as text for `nft -f`: table
 * inet omamori (zones, default deny inbound, forwards, host rules, NAT) and,
 * with queue OM_FW_QUEUE_NFT, the queue rule; queue_rule for iptables gets
 * the iptables-nft arguments instead. -ENOSPC if out is too small. */
int om_fw_ruleset(const om_gateway_config *g, enum om_fw_queue q, om_buf *out);
/* Which netfilter path sends packets to NFQUEUE on this kernel: tries nft's
 * queue statement in a scratch table, then iptables-nft; why says what was
 * found (for the start-up message). */
enum om_fw_queue om_fw_probe_queue(char *why, size_t whylen);
/* Applies the ruleset atomically (one libnftables transaction replacing the
 * table) and the iptables queue rule; on failure removes what was added. */
int om_fw_apply(const om_gateway_config *g, enum om_fw_queue q, char *err, size_t errlen);
void om_fw_remove(const om_gateway_config *g, enum om_fw_queue q);
/* With bypass: the isolated hosts (n addresses) into the table's sets, so
 * that bypassed connections of theirs are cut too. 0 or -errno. */
int om_fw_quarantine_sync(const om_addr *hosts, unsigned n);

/* ---- the gateway (gateway.c) -------------------------------------------- */
/* Is name (a host, query or SNI) or a parent domain on the block list? */
bool om_gw_name_blocked(const om_gateway_config *g, const char *name, size_t len);
/* The quarantine list file under the state directory: one address a line. */
int om_gw_quarantine_path(const om_settings *s, char *buf, size_t len);
int om_gw_quarantine_load(const char *path, om_addr_table *t, char *err, size_t errlen);
int om_gw_quarantine_edit(const char *path, const om_addr *a, bool add, char *err, size_t errlen);

typedef struct om_gateway_opts {
	const om_settings *cfg;
	const char *config_path; /* re-read on SIGHUP */
	om_eve *eve;
	om_spool *spool;
	const om_app_registry *apps;
	om_proto *proto;
	om_wf_filter *webfilter; /* the tenant's web filter; NULL: none */
	const om_appctl *appctl; /* application control; NULL: none */
	/* IPS rules attached to proto; NULL: none. The gateway's reload binds
	 * new detect workers into it: give one (with no rules) also when none
	 * are loaded at the start, so that a reload can bring the first ones */
	om_detect_hub *detect;
	const char *const *rule_files; /* the command line's --rules, read again on reload */
	unsigned nrule_files;
	uint64_t rules_syntax_errors; /* rules of the start set left out as invalid */
	volatile int *stop;           /* set by the signal handler: leave */
	/* set by SIGHUP: re-read the configuration, quarantine, block list, IPS
	 * rules and the guards' policy (docs/gateway.md, "Reload") */
	volatile int *reload;
	uint32_t run_seconds; /* 0: until stop */
	/* threat intelligence; its database is reopened when the file is
	 * replaced (checked every 10 s and on SIGHUP); NULL: none */
	om_intel_matcher *intel;
	/* the anti-virus (needs proto): files go to its scanner threads and
	 * the gateway holds each file's last packet for the verdict (inline:
	 * malware is dropped). NULL: none */
	om_av *av;
} om_gateway_opts;
/* Runs the live gateway until *stop. */
int om_gateway_run(const om_gateway_opts *o, char *err, size_t errlen);

#endif
