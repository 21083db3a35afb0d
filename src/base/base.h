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
	uint64_t stream_depth;          /* bytes per direction handed to app-layer; 0 = no limit */
	uint64_t stream_memcap;         /* bytes of out-of-order data held per worker */
	uint64_t stream_flow_memcap;    /* bytes of out-of-order data one flow may hold */
	uint32_t stream_overlap_window; /* delivered bytes kept per direction; 0 = none */
	char stream_default_policy[16]; /* overlap policy name, e.g. "bsd" */
	struct om_config_policy {       /* per receiving network, first match wins */
		om_cidr net;
		char policy[16];
	} stream_policies[OM_CONFIG_MAX_NETS];
	unsigned stream_policy_count;
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
