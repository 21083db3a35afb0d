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
/* Already written members ("a":1,"b":2, no braces) into the open object. */
void om_json_members(om_json *j, const char *members, size_t n);
/* Keys that are string literals, for the busiest events: OM_JK("name")
 * gives the quoted key with its colon and its length, known where it is
 * written, so the key is copied without a check per byte. The literal must
 * be plain ASCII without quote or backslash (checked in builds with
 * assertions, which the tests run). */
#define OM_JK(k) ("\"" k "\":"), (sizeof(k) + 2)
void om_json_kobj_open(om_json *j, const char *qk, size_t qn);
void om_json_kstr(om_json *j, const char *qk, size_t qn, const char *val);
void om_json_ku64(om_json *j, const char *qk, size_t qn, uint64_t v);
void om_json_kbool(om_json *j, const char *qk, size_t qn, bool v);
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
/* Fast, not keyed in any strong sense: for data we produce ourselves (store
 * keys, flow ids). Never place packet-controlled keys in a table with it. */
uint64_t om_hash64(const void *p, size_t n, uint64_t seed);

/* A 128-bit secret for om_siphash. */
typedef struct om_hash_key {
	uint64_t k0, k1;
} om_hash_key;

/* SipHash-1-3 (one compression round per 8-byte block, three finalisation
 * rounds): a keyed pseudo-random function. Whoever does not know the key
 * cannot predict its output, so cannot choose inputs that meet in one bucket.
 * For every table whose keys come from packets. */
uint64_t om_siphash(const om_hash_key *key, const void *p, size_t n);
/* om_siphash of n whole 8-byte blocks given as words: the same value as
 * om_siphash over the 8 * n bytes of w stored little-endian (so on every
 * host the words are the message, not their memory image). For keys built
 * in registers: no byte buffer, no tail. */
uint64_t om_siphash_words(const om_hash_key *key, const uint64_t *w, size_t n);
/* SipHash-2-4, the reference parameters (the published test vectors). */
uint64_t om_siphash24(const om_hash_key *key, const void *p, size_t n);

/* Fills buf with n bytes from the kernel's random generator (getrandom(2)).
 * Returns 0 or -errno (buf is then left unspecified). */
int om_random_bytes(void *buf, size_t n);
/* Always writes a fresh key and returns 0. If the kernel has no random
 * source to offer (getrandom(2) missing or refused), the key is mixed from
 * clocks, the process id and addresses instead and -errno is returned: such
 * a key is unknown to a remote sender but guessable by a local user. */
int om_hash_key_random(om_hash_key *key);
/* One random key per process, made on first use (thread-safe): for hashes
 * that several tables or threads must agree on (worker dispatch). */
const om_hash_key *om_hash_key_process(void);
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
 * with "en" gives English; Japanese otherwise. An OMAMORI_LANG that is set
 * but names no language is warned about on stderr, once per process, and
 * the rest of the environment decides. */
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
	const uint16_t *vlan;     /* vlan_count ids, outermost first */
	unsigned vlan_count;      /* 0: none */
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
	/* the producer's own members of the omamori object (NULL: none),
	 * written after the others: members(j, members_arg) */
	void (*members)(om_json *j, void *arg);
	void *members_arg;
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
/* The YAML configuration file is one document; each module owns its
 * section(s): it describes its keys in a table (om_config_schema) over its
 * own settings struct, sets the defaults and checks cross-key rules. base
 * only reads the YAML, walks it, converts scalars, and gives custom keys
 * access to their YAML node. An error names file, line and key, and a file
 * with any error changes nothing in any section. */
typedef struct om_config_node om_config_node; /* a YAML node, valid during load */
typedef struct om_config_ctx om_config_ctx;   /* the load in progress */

enum om_config_kind { OM_CK_STR, OM_CK_U32, OM_CK_U64, OM_CK_BOOL, OM_CK_NETS, OM_CK_CUSTOM };

#define OM_CONFIG_MAX_NETS 64
/* A list of networks (OM_CK_NETS): the array and its count, adjacent. */
typedef struct om_config_nets {
	om_cidr net[OM_CONFIG_MAX_NETS];
	unsigned count;
} om_config_nets;

typedef struct om_config_key {
	const char *path; /* dotted, from the top of the file: "flow.timeouts.udp" */
	enum om_config_kind kind;
	size_t off;        /* of the value in the module's struct */
	size_t size;       /* OM_CK_STR: buffer size */
	uint64_t min, max; /* numbers: inclusive range */
	const char *help;  /* catalogue key of the one-line help */
	/* OM_CK_CUSTOM: parse the node into obj (0 or the result of
	 * om_config_fail) and write the value after "key:" for `config show`
	 * (indent: the key's depth * 2). */
	int (*parse)(om_config_ctx *c, const om_config_node *n, void *obj);
	void (*dump)(const void *obj, om_buf *out, int indent);
} om_config_key;

typedef struct om_config_schema {
	const char *module;
	const om_config_key *keys;
	size_t nkeys;
	size_t size;                 /* sizeof the module's struct */
	void (*defaults)(void *obj); /* may be NULL: all zero */
	/* Cross-key rules after a file is read; returns 0 or om_config_fail(c, NULL, ...). */
	int (*check)(om_config_ctx *c, const void *obj);
} om_config_schema;

/* One module's settings: its schema and the struct the values go into. */
typedef struct om_config_part {
	const om_config_schema *schema;
	void *obj;
} om_config_part;

void om_config_defaults(const om_config_part *parts, size_t n);
/* Loads a YAML file over the current values of every part. On error
 * returns a negative errno, writes "FILE:LINE: key 'K': what is wrong and
 * what to do" into err, and leaves every part as it was. */
int om_config_load(const om_config_part *parts, size_t n, const char *path, char *err,
                   size_t errlen);
/* The effective configuration as YAML, with a comment per key. */
void om_config_dump(const om_config_part *parts, size_t n, om_buf *out);

/* For custom keys and check functions: writes the file:line:key error with
 * the catalogue message msg (a printf format) and returns -EINVAL. n may be
 * NULL (line 0). */
int om_config_fail(om_config_ctx *c, const om_config_node *n, const char *key, const char *msg,
                   ...);
/* YAML node access for custom keys. */
enum om_config_node_type { OM_CN_SCALAR, OM_CN_SEQUENCE, OM_CN_MAPPING, OM_CN_OTHER };
enum om_config_node_type om_config_node_type(const om_config_node *n);
/* A scalar's text (NUL-terminated) or NULL if n is not a scalar. */
const char *om_config_node_scalar(const om_config_node *n);
size_t om_config_node_line(const om_config_node *n); /* 1-based */
/* Items of a sequence or entries of a mapping (0 for a scalar). */
size_t om_config_node_count(const om_config_node *n);
/* The i-th item of a sequence, or the value of the i-th mapping entry
 * (then *ret_key gets the entry's key text); NULL if out of range. */
const om_config_node *om_config_node_item(om_config_ctx *c, const om_config_node *n, size_t i,
                                          const char **ret_key);
/* The value of key in a mapping, or NULL. */
const om_config_node *om_config_node_get(om_config_ctx *c, const om_config_node *n,
                                         const char *key);
/* Helpers for custom keys: parse a scalar as a number in [min, max] or as a
 * network, with the standard error messages. */
int om_config_node_u64(om_config_ctx *c, const om_config_node *n, const char *key, uint64_t min,
                       uint64_t max, uint64_t *ret);
int om_config_node_cidr(om_config_ctx *c, const om_config_node *n, const char *key, om_cidr *ret);

/* The settings every module may read: who this gateway is, where its
 * state lives, which networks are the office's own. */
typedef struct om_base_config {
	char tenant[64];
	char gateway[64];
	char state_dir[256];
	om_config_nets home_net;
	/* where the store is: "sqlite" (omamori.db in state_dir) or
	 * "postgresql" (store_dsn, a postgresql:// URL) */
	char store_backend[16];
	char store_dsn[512];
} om_base_config;
extern const om_config_schema om_base_config_schema;
bool om_base_is_home(const om_base_config *c, const om_addr *a);
bool om_config_nets_contains(const om_config_nets *n, const om_addr *a);

#endif
