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
typedef struct om_settings {
	om_base_config base;
	om_net_config net;
	om_guard_config guard;
	om_engine_config engine;
	om_proto_config proto;
	om_detect_config detect;
} om_settings;
#define OM_SETTINGS_PARTS (5 + OM_PROTO_CONFIG_PARTS)
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
om_eve *om_eve_close(om_eve *e);
uint64_t om_eve_rotations(const om_eve *e);

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
	/* the capture clock: a packet more than clock_ahead_max ahead of the
	 * latest accepted packet (unless the next packet confirms the jump) or
	 * more than clock_behind_max behind it is a timestamp outlier: an
	 * anomaly event, processed at the clock's time. 0: one hour ahead, the
	 * longest flow timeout behind. */
	om_usec clock_ahead_max, clock_behind_max;
	/* the rule engine (compiled rules, attached to proto as an observer
	 * for transactions); NULL: no rules */
	om_detect_hub *detect;
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

#endif
