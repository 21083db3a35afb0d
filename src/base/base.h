/* base: the bottom module. Bounded buffers, JSON writing, logging, time,
 * hashing, configuration (YAML) and the message catalogues. Uses nothing else
 * in omamori. Error convention: 0 or a negative errno; ret_* outputs are only
 * written on success. */
#ifndef OMAMORI_BASE_H
#define OMAMORI_BASE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define OM_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define OM_PRINTF(f, a) __attribute__((format(printf, f, a)))

/* ---- logging: one line on stderr per message ---------------------------- */
enum om_log_level { OM_LOG_ERROR, OM_LOG_WARN, OM_LOG_INFO, OM_LOG_DEBUG };
void om_log_set_level(enum om_log_level lvl);
void om_log(enum om_log_level lvl, const char *fmt, ...) OM_PRINTF(2, 3);
#define om_err(...) om_log(OM_LOG_ERROR, __VA_ARGS__)
#define om_warn(...) om_log(OM_LOG_WARN, __VA_ARGS__)
#define om_info(...) om_log(OM_LOG_INFO, __VA_ARGS__)
#define om_debug(...) om_log(OM_LOG_DEBUG, __VA_ARGS__)

/* ---- bounded growable buffer ------------------------------------------- */
/* Grows up to `max` bytes. An append that would pass max fails with -ENOBUFS,
 * sets `toobig` and leaves the buffer as it was. data is always NUL-terminated
 * when len > 0 or after om_buf_cstr(). */
typedef struct om_buf {
	char *data;
	size_t len;
	size_t cap;
	size_t max;
	bool toobig;
} om_buf;

void om_buf_init(om_buf *b, size_t max);
void om_buf_free(om_buf *b); /* accepts a zeroed or freed buffer */
void om_buf_reset(om_buf *b);
int om_buf_append(om_buf *b, const void *p, size_t n);
int om_buf_puts(om_buf *b, const char *s);
int om_buf_putc(om_buf *b, char c);
int om_buf_printf(om_buf *b, const char *fmt, ...) OM_PRINTF(2, 3);
int om_buf_vprintf(om_buf *b, const char *fmt, va_list ap);
const char *om_buf_cstr(om_buf *b);
/* Appends s with HTML special characters escaped. */
int om_buf_put_html(om_buf *b, const char *s);

/* ---- JSON writer -------------------------------------------------------- */
/* Writes compact JSON into an om_buf. Keys are NULL inside arrays and at the
 * top level. Strings are escaped; bytes that are not valid UTF-8 become
 * \u00XX so that hostile payloads always give valid JSON. */
#define OM_JSON_MAX_DEPTH 16
typedef struct om_json {
	om_buf *b;
	int depth;
	bool need_comma[OM_JSON_MAX_DEPTH];
} om_json;

void om_json_init(om_json *j, om_buf *b);
void om_json_obj_open(om_json *j, const char *key);
void om_json_obj_close(om_json *j);
void om_json_arr_open(om_json *j, const char *key);
void om_json_arr_close(om_json *j);
void om_json_str(om_json *j, const char *key, const char *val);
void om_json_strn(om_json *j, const char *key, const char *val, size_t n);
void om_json_u64(om_json *j, const char *key, uint64_t v);
void om_json_i64(om_json *j, const char *key, int64_t v);
void om_json_bool(om_json *j, const char *key, bool v);
void om_json_double(om_json *j, const char *key, double v);
void om_json_null(om_json *j, const char *key);
/* Raw, already valid JSON value. */
void om_json_raw(om_json *j, const char *key, const char *raw);
/* Escape s as a JSON string (with quotes) into b. */
void om_json_escape(om_buf *b, const char *s, size_t n);

/* ---- time --------------------------------------------------------------- */
/* Microseconds since the epoch, UTC. */
typedef uint64_t om_usec;
/* "2024-05-01T12:00:00.123456+0000" (Suricata's EVE form); buf >= 32. */
void om_time_iso(om_usec t, char *buf, size_t n);
/* "YYYY-MM-DD" in UTC; buf >= 11. */
void om_time_day(om_usec t, char *buf, size_t n);
om_usec om_time_now(void);

/* ---- hashing ------------------------------------------------------------ */
uint64_t om_hash64(const void *p, size_t n, uint64_t seed);
/* A 64-bit finaliser (splitmix64's constants): every input bit affects
 * every output bit. For hashing a few words on hot paths. */
static inline uint64_t om_mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

/* ---- strict number parsing (no atoi) ------------------------------------ */
int om_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *ret);

/* ---- message catalogues ------------------------------------------------- */
/* Catalogues are gettext .po files (data/i18n/<lang>/omamori.po) embedded in
 * the binary at build time. Lookup takes the language explicitly so that one
 * process can answer in several languages; the process locale is never
 * touched. A missing key falls back to English, then to the key itself. */
enum om_lang { OM_LANG_JA = 0, OM_LANG_EN = 1, OM_LANG_COUNT };
int om_i18n_init(void); /* idempotent, thread-safe after first call */
const char *om_msg(enum om_lang lang, const char *key);
int om_lang_parse(const char *s, enum om_lang *ret);
const char *om_lang_name(enum om_lang lang);
/* Language for CLI text: OMAMORI_LANG, then LC_ALL/LC_MESSAGES/LANG starting
 * with "en" gives English; Japanese otherwise. */
enum om_lang om_lang_from_env(void);
/* The language of messages that lower modules write into error buffers,
 * per thread (Japanese until set): the CLI sets it once, a console request
 * handler sets it for the request's user. om_tr(key) looks key up in it. */
void om_lang_set_thread(enum om_lang lang);
enum om_lang om_lang_thread(void);
const char *om_tr(const char *key);
/* Parse a .po text into key/value pairs; used by the loader and the fuzzer.
 * Calls cb for each complete entry; returns 0 or -EINVAL with *ret_line set. */
typedef void (*om_po_cb)(void *user, const char *msgid, const char *msgstr);
int om_po_parse(const char *text, size_t len, om_po_cb cb, void *user, int *ret_line);

/* ---- addresses and networks --------------------------------------------- */
/* IPv4 is held IPv4-mapped (::ffff:a.b.c.d) so that one type serves both. */
typedef struct om_addr {
	uint8_t b[16];
} om_addr;
typedef struct om_cidr {
	om_addr addr;
	uint8_t prefix; /* 0..128 on the mapped form */
} om_cidr;
void om_addr_from_v4(om_addr *a, const uint8_t v4[4]);
bool om_addr_is_v4(const om_addr *a);
/* Text form, "192.0.2.1" or "2001:db8::1"; buf >= 46. */
void om_addr_str(const om_addr *a, char *buf, size_t n);
int om_addr_parse(const char *s, om_addr *ret);
int om_cidr_parse(const char *s, om_cidr *ret);
bool om_cidr_contains(const om_cidr *c, const om_addr *a);

/* ---- events: the common EVE header and the omamori object ---------------- */
/* Every EVE line is built the same way:
 *   om_event_begin(&j, buf, &hdr);      timestamp, flow_id, in_iface,
 *                                       event_type, vlan, src_ip, src_port,
 *                                       dest_ip, dest_port, proto, app_proto,
 *                                       tunnel, pcap_cnt (each when set)
 *   ... the producer's own object ("alert", "anomaly", "flow", ...) ...
 *   om_event_omamori(&j, &meta);        security events only
 *   om_event_end(&j);                   closes the line's object (no '\n')
 * The tunnel writer is the decoder's: it writes the whole "tunnel" member
 * (key included) from tunnel_user, or nothing. */
typedef void (*om_event_tunnel_fn)(om_json *j, const void *tunnel_user);
typedef struct om_event_hdr {
	om_usec ts;
	const char *event_type;
	const uint64_t *flow_id;  /* NULL: no flow */
	const char *in_iface;     /* NULL or "": left out */
	uint16_t vlan;            /* 0: none */
	const om_addr *src, *dst; /* NULL: left out */
	bool has_sport, has_dport;
	uint16_t sport, dport;
	uint8_t proto;         /* IP protocol; 0: left out */
	const char *app_proto; /* NULL: left out */
	om_event_tunnel_fn tunnel;
	const void *tunnel_user;
	uint64_t pcap_cnt; /* 1-based packet number in the capture; 0: left out */
} om_event_hdr;
typedef struct om_event_meta {
	const char *category; /* report category or NULL */
	int severity;         /* 1 high .. 3 low; 0: left out */
	const char *action;   /* "detected", "blocked", "allowed" or NULL */
	const char *tenant, *gateway;
	const char *advice; /* catalogue key or NULL */
} om_event_meta;
void om_event_begin(om_json *j, om_buf *b, const om_event_hdr *h);
void om_event_omamori(om_json *j, const om_event_meta *m);
void om_event_end(om_json *j);
/* "TCP", "UDP", "ICMP", "IPv6-ICMP" or the number (written into tmp). */
const char *om_event_proto_name(uint8_t proto, char *tmp, size_t n);

/* ---- spool: durable local queue of event lines --------------------------- */
/* A directory of append-only segment files "<20-digit sequence>.seg". A
 * segment starts with a 16-byte header ("OMSPOOL" NUL, version u32 LE = 1,
 * reserved u32 = 0) followed by records: length u32 LE, CRC-32C (Castagnoli,
 * om_crc32c) u32 LE of the payload, payload (one EVE line without its
 * '\n'). A writer never reopens an old segment: each run starts a new one,
 * so a torn tail only ever ends a segment. Readers keep their position in
 * "<name>.offset" ("<sequence> <offset>\n"), replaced atomically. The format
 * is documented in docs/eve.md. */
#define OM_SPOOL_MAX_RECORD (16u * 1024 * 1024)
enum om_spool_fsync {
	OM_SPOOL_FSYNC_NONE,     /* leave it to the kernel */
	OM_SPOOL_FSYNC_BATCH,    /* after every block handed to om_spool_append */
	OM_SPOOL_FSYNC_INTERVAL, /* at most every interval_ms (checked on append) */
};
typedef struct om_spool_opts {
	uint64_t segment_bytes; /* roll to a new segment past this size */
	uint64_t max_bytes;     /* all segments together; beyond, records are dropped */
	enum om_spool_fsync fsync;
	uint32_t fsync_interval_ms;
} om_spool_opts;
typedef struct om_spool_stats {
	uint64_t records, bytes; /* appended by this writer */
	uint64_t dropped;        /* records not written: spool full or too big */
	uint64_t segments;       /* segments this writer started */
	uint64_t fsyncs;
} om_spool_stats;
typedef struct om_spool om_spool;
/* CRC-32C of n bytes (iSCSI's; check value of "123456789" is 0xe3069283). */
uint32_t om_crc32c(const void *p, size_t n);
/* Defaults: 64 MiB segments, 4 GiB in all, fsync at most once a second (a
 * kill loses nothing written; a power cut at most the last second). */
void om_spool_opts_default(om_spool_opts *o);
/* "none", "batch", "interval" or "interval:MS". */
int om_spool_fsync_parse(const char *s, om_spool_opts *o);
/* Creates dir (one level) if needed. Nothing is created inside it until the
 * first record. Thread-safe after open. */
int om_spool_open(const char *dir, const om_spool_opts *o, om_spool **ret, char *err,
                  size_t errlen);
/* Appends each '\n'-terminated line of data as one record (a last line
 * without '\n' too). A record that does not fit under max_bytes is dropped
 * and counted (one warning per writer). Returns 0 or a negative errno
 * (I/O failure: the writer then refuses further appends). */
int om_spool_append(om_spool *s, const char *data, size_t len);
/* fsync now (unless the policy is none). */
int om_spool_sync(om_spool *s);
/* The sequence number of the first segment this writer writes (or will). */
uint64_t om_spool_first_segment(const om_spool *s);
void om_spool_stats_get(om_spool *s, om_spool_stats *ret);
/* Writes what is pending, syncs (unless the policy is none) and closes.
 * Accepts NULL, returns NULL. */
om_spool *om_spool_close(om_spool *s);

typedef struct om_spool_reader_stats {
	uint64_t records;  /* returned */
	uint64_t torn;     /* segments that ended in a torn or corrupt record */
	uint64_t segments; /* segments finished */
} om_spool_reader_stats;
typedef struct om_spool_reader om_spool_reader;
/* Opens dir for reading as consumer `name` (letters, digits, '-', '_'),
 * resuming at its committed position (the start when never committed). */
int om_spool_reader_open(const char *dir, const char *name, om_spool_reader **ret, char *err,
                         size_t errlen);
/* For a consumer without a committed position only: start at segment seq
 * instead of the oldest (a new database fed by `inspect` takes that run's
 * events, not the whole history of the spool). Call before the first read. */
void om_spool_reader_start_at(om_spool_reader *r, uint64_t seq);
/* Returns 1 and the next record (valid until the next call), or 0 when no
 * complete record follows now (the writer may add more: call again later;
 * a torn or corrupt record ends its segment once a later segment exists),
 * or a negative errno. */
int om_spool_read(om_spool_reader *r, const char **ret_data, size_t *ret_len);
/* Records the position after the last record returned, atomically (write,
 * fsync, rename, fsync of the directory). */
int om_spool_commit(om_spool_reader *r);
void om_spool_reader_stats_get(const om_spool_reader *r, om_spool_reader_stats *ret);
/* Removes the segments that every consumer (every "<name>.offset" in dir)
 * has read past. With no consumer nothing is removed; an unreadable
 * position file removes nothing and returns -EINVAL. */
int om_spool_prune(const char *dir, uint64_t *ret_removed);
om_spool_reader *om_spool_reader_close(om_spool_reader *r);
/* Validates one segment image (used by the fuzzer and tests): returns the
 * number of complete, valid records and sets *ret_end to where they end. */
size_t om_spool_scan(const uint8_t *data, size_t len, size_t *ret_end);

/* ---- configuration ------------------------------------------------------ */
#define OM_CONFIG_MAX_NETS 64
typedef struct om_config {
	char tenant[64];
	char gateway[64];
	char state_dir[256];
	om_cidr home_net[OM_CONFIG_MAX_NETS];
	unsigned home_net_count;
	/* flow table */
	uint64_t flow_max;         /* max concurrent flows per engine */
	uint64_t flow_hash_size;   /* buckets; 0 = derived from flow_max */
	uint32_t flow_timeout_new; /* seconds */
	uint32_t flow_timeout_est;
	uint32_t flow_timeout_closed;
	uint32_t flow_timeout_udp;
	uint32_t flow_timeout_icmp;
	/* TCP reassembly */
	uint64_t stream_depth;  /* bytes per direction handed to app-layer; 0 = no limit */
	uint64_t stream_memcap; /* bytes of out-of-order data held per worker */
	/* IP defragmentation */
	uint64_t defrag_memcap;  /* bytes per worker */
	uint32_t defrag_timeout; /* seconds */
	uint32_t defrag_max_trackers;
	/* scan detection (recon) */
	uint32_t recon_window;           /* seconds */
	uint32_t recon_vertical_ports;   /* distinct ports on one host */
	uint32_t recon_horizontal_hosts; /* distinct hosts on one port */
	uint32_t recon_sweep_hosts;      /* distinct hosts pinged */
	uint32_t recon_max_sources;      /* tracked sources (memory cap) */
	/* outputs */
	uint32_t stats_interval;   /* seconds of capture time between stats records */
	uint64_t eve_rotate_bytes; /* gateway: rotate EVE file at this size; 0 = never */
	bool eve_rotate_daily;
} om_config;

void om_config_defaults(om_config *c);
/* Loads a YAML file over the current values. On error returns -EINVAL and
 * writes "FILE:LINE: key 'K': what is wrong" into err. */
int om_config_load(om_config *c, const char *path, char *err, size_t errlen);
/* The effective configuration as YAML. */
void om_config_dump(const om_config *c, om_buf *out);
bool om_config_is_home(const om_config *c, const om_addr *a);

#endif
