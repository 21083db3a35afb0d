/* guard: security checks that sit after decoding. This first part is scan
 * detection (recon): vertical port scans, horizontal scans and ICMP ping
 * sweeps from sources outside home-net. Uses base and net. */
#ifndef OMAMORI_GUARD_H
#define OMAMORI_GUARD_H

#include "base/base.h"
#include "net/net.h"
#include "proto/proto.h"

/* A threat-intelligence feed (the intel.feeds list): fetched over HTTP(S)
 * from url, or every file of a local directory dir (offline sites). */
#define OM_INTEL_FEEDS_MAX 16
typedef struct om_intel_feed {
	char name[48];       /* the indicators' source */
	char url[512];       /* "" : dir */
	char dir[256];       /* "" : url */
	int format;          /* enum om_intel_format; 0: detected */
	uint32_t interval;   /* seconds between fetches */
	uint32_t ttl;        /* seconds an indicator lives without its feed saying; 0: never */
	uint32_t confidence; /* when the feed gives none; 0: 75 */
} om_intel_feed;

/* Settings (the recon: and intel: sections of the configuration). */
/* One tenant's guard policy (policy.tenants.<name> in the configuration):
 * the web filter's blocked categories, block list and allow list
 * (comma-separated, as the command line's --webfilter-* options) and the
 * application policy. */
#define OM_GUARD_TENANTS_MAX 16
#define OM_GUARD_TENANT_NAME_MAX 64
#define OM_GUARD_LIST_MAX 2048
#define OM_APP_G_SLOTS 9         /* OM_APP_G_COUNT (below) */
#define OM_APPCTL_NAME_MAX 32    /* bytes of an application name, with its NUL */
#define OM_APPCTL_POLICY_APPS 32 /* applications named in one tenant's policy */
/* One tenant's application policy: an action per group and per named
 * application (an application's action wins over its group's). */
typedef struct om_app_policy {
	uint8_t group[OM_APP_G_SLOTS]; /* enum om_app_action by enum om_app_group */
	struct {
		char name[OM_APPCTL_NAME_MAX];
		uint8_t action;
	} app[OM_APPCTL_POLICY_APPS];
	uint32_t napps;
} om_app_policy;
typedef struct om_guard_tenant {
	char name[OM_GUARD_TENANT_NAME_MAX];
	char wf_block_categories[OM_GUARD_LIST_MAX];
	char wf_block[OM_GUARD_LIST_MAX];
	char wf_allow[OM_GUARD_LIST_MAX];
	om_app_policy app;
	char intel_db[256]; /* the tenant's own indicator database; "": the shared one */
} om_guard_tenant;

/* Settings (the recon:, appctl: and policy: sections of the configuration). */
typedef struct om_guard_config {
	uint32_t recon_window;           /* seconds */
	uint32_t recon_vertical_ports;   /* distinct ports on one host */
	uint32_t recon_horizontal_hosts; /* distinct hosts on one port */
	uint32_t recon_sweep_hosts;      /* distinct hosts pinged */
	uint32_t recon_max_sources;      /* tracked sources (memory cap) */
	char intel_db[256];              /* "" : intel.db in the state directory */
	uint32_t intel_min_confidence;   /* indicators below are not matched */
	bool intel_block;                /* inline: drop what matches */
	om_intel_feed intel_feeds[OM_INTEL_FEEDS_MAX];
	unsigned intel_nfeeds;
	/* application control */
	bool appctl_enabled;
	bool appctl_all_protocols; /* every nDPI dissector (default: the groups' and carriers) */
	char appctl_groups[256];   /* group map file; "": the built-in one */
	uint32_t appctl_max_flows, appctl_max_detect, appctl_max_packets;
	/* guard policy per tenant */
	char webfilter_db[256]; /* "": none unless --webfilter-db */
	om_guard_tenant tenants[OM_GUARD_TENANTS_MAX];
	uint32_t ntenants;
} om_guard_config;
/* The policy of tenant: its own entry, else the entry named "default",
 * else NULL. */
const om_guard_tenant *om_guard_tenant_policy(const om_guard_config *c, const char *tenant);
/* The threat-intelligence database of tenant: its policy's intel.db (its
 * own entry, else the "default" entry's), else the shared intel.db, else
 * NULL (none configured). */
const char *om_guard_intel_db(const om_guard_config *c, const char *tenant);
extern const om_config_schema om_guard_config_schema;

enum om_recon_kind { OM_RECON_VERTICAL = 0, OM_RECON_HORIZONTAL, OM_RECON_SWEEP };
const char *om_recon_kind_name(enum om_recon_kind k); /* "portscan.vertical", ... */

#define OM_RECON_LIST_MAX 32 /* ports/hosts listed in an alert; counts are exact */

/* One scan episode of one source. An episode opens when a source crosses a
 * threshold inside the window and closes when the source has been quiet for
 * a whole window (or at the end of input); the alert is given at close. */
typedef struct om_recon_alert {
	enum om_recon_kind kind;
	om_addr src;
	om_usec first_seen, last_seen;
	uint64_t packets;                  /* probe packets of the source during the episode */
	uint32_t port_count;               /* distinct destination ports touched */
	uint32_t host_count;               /* distinct destination hosts touched */
	uint16_t ports[OM_RECON_LIST_MAX]; /* the first ports touched, ascending */
	uint32_t nports;
	om_addr hosts[OM_RECON_LIST_MAX]; /* the first hosts touched */
	uint32_t nhosts;
	/* vertical: the host scanned; horizontal: the port scanned */
	om_addr target_host;
	uint16_t target_port;
	uint8_t proto; /* IPPROTO_TCP/UDP for port scans, ICMP for sweeps */
	/* host_count stopped at the per-episode exact limit (docs/guard.md):
	 * it is then a lower bound */
	bool host_count_capped;
} om_recon_alert;

typedef struct om_recon_stats {
	uint64_t probes; /* packets counted as probes */
	uint64_t sources, sources_max;
	uint64_t source_evictions; /* tracked sources dropped at the cap */
	uint64_t alerts;
	uint64_t episodes_forced; /* episodes closed early because the pool was full */
	uint64_t udp_answers;     /* UDP from outside that answered UDP from inside */
} om_recon_stats;

typedef void (*om_recon_cb)(void *user, const om_recon_alert *a);
typedef struct om_recon om_recon;

/* Uses cfg's recon_* and base's home_net; both must outlive the detector.
 * udp_timeout (seconds) is how long a UDP datagram sent from inside makes
 * an answer from outside not a probe (the flow table's UDP timeout). */
om_recon *om_recon_new(const om_guard_config *cfg, const om_base_config *base, uint32_t udp_timeout,
                       om_recon_cb cb, void *user);
om_recon *om_recon_free(om_recon *r);
/* Feeds one packet parsed at least by om_decode_peek. Probes are: TCP SYN
 * without ACK, UDP datagrams, ICMP/ICMPv6 echo requests, from a source outside
 * home-net; a UDP datagram that answers one sent from inside (same
 * addresses and ports, reversed, within the UDP flow timeout) is not a probe.
 * Other packets only advance the clock. */
void om_recon_packet(om_recon *r, const om_packet *p);
/* Closes the episodes whose source has been quiet since before now - window. */
void om_recon_expire(om_recon *r, om_usec now);
/* Closes every open episode (end of input). */
void om_recon_flush(om_recon *r);
const om_recon_stats *om_recon_stats_get(const om_recon *r);
/* Called as soon as an episode opens (a threshold is crossed), with the
 * episode so far; the alert itself still comes when it closes. The inline
 * gateway blocks the source from here. cb NULL: none. */
void om_recon_set_open_cb(om_recon *r, om_recon_cb cb, void *user);

/* ---- web filtering: the category database (src/guard/webfilter.c) ------ */
/* Domains and URL prefixes mapped to categories. A rule for example.com
 * covers every name under it; the longest matching name wins, and a URL rule
 * ("example.com/path") wins over the domain rules of the same request. Built
 * in memory by a builder, written to a compact file that is memory-mapped
 * for lookup (docs/webfilter.md gives the layout). */
#define OM_WF_CAT_MAX 64            /* categories in one database (a bit each) */
#define OM_WF_CAT_NAME_MAX 32       /* bytes of a category name, with its NUL */
#define OM_WF_KEY_MAX 1024          /* bytes of a normalised rule (host + path) */
#define OM_WF_ENTRIES_MAX 16000000u /* rules in one database */
/* The built-in category of a TLS or QUIC ClientHello that hides its server
 * name (encrypted_client_hello, or the older encrypted_server_name): no
 * database row, decided from the ClientHello itself; a policy may block it
 * like a category of the database (docs/webfilter.md, "Encrypted names"). */
#define OM_WF_CAT_ECH "encrypted_hello"

enum om_wf_format {
	OM_WF_FMT_AUTO = 0, /* by content: hosts file, CSV, plain list; a directory is squidGuard */
	OM_WF_FMT_PLAIN,    /* one domain or URL a line; '#' comments */
	OM_WF_FMT_HOSTS,    /* "0.0.0.0 name [name...]" lines */
	OM_WF_FMT_CSV,      /* "domain,category[,...]" lines; a header line is skipped */
	OM_WF_FMT_SQUIDGUARD, /* a directory of <category>/domains and <category>/urls files */
};

#define OM_WF_IMPORT_PROBLEMS 8 /* skipped lines remembered with their reason */
typedef struct om_wf_import_stats {
	uint64_t lines;
	uint64_t added;    /* rules added or given a new category */
	uint64_t rejected; /* lines that are not a valid rule */
	/* the lines skipped for a reason worth telling (a name that is no valid
	 * internationalised name), the first OM_WF_IMPORT_PROBLEMS of them */
	uint64_t nproblems; /* all of them (problem[] holds the first ones) */
	struct {
		uint64_t line;   /* 1-based line of its file */
		const char *why; /* catalogue key of the reason */
		char file[64];   /* in a category directory: "CATEGORY/domains"; else "" */
	} problem[OM_WF_IMPORT_PROBLEMS];
} om_wf_import_stats;

typedef struct om_wf_builder om_wf_builder;
typedef struct om_wf_db om_wf_db;

/* What a lookup found: the categories (a bit per category index) of the
 * longest matching rule and the rule itself (not NUL-terminated). */
typedef struct om_wf_match {
	uint64_t cats;
	const char *rule;
	size_t rule_len;
	bool url; /* the rule was a URL prefix */
} om_wf_match;

/* Normalises a host name as found in a request or a list: ASCII lower case,
 * without a port (":8080", not inside "[...]"), a leading "*." or "." and
 * trailing dots. Returns the length written to out (NUL-terminated), or
 * -EINVAL for an empty or invalid name (a byte that is not a letter, digit,
 * '-', '_' or '.') or -ENAMETOOLONG. A name in UTF-8 (U-labels) is written
 * in its A-label form ("xn--..."; IDNA2008 lookup rules with the UTS 46
 * mapping), so that either form of a name matches the other: -EILSEQ when
 * it is no valid internationalised name. */
int om_wf_norm_host(const char *in, size_t len, char *out, size_t outsz);

int om_wf_builder_new(om_wf_builder **ret);
om_wf_builder *om_wf_builder_free(om_wf_builder *b);
/* Adds a rule (a domain, or a URL without or with scheme) with a category;
 * adding a rule again adds the category. Returns 0, 1 when nothing changed,
 * -EINVAL for a rule or category name that is not valid, -ENOSPC at the
 * rule or category cap. */
int om_wf_builder_add(om_wf_builder *b, const char *rule, size_t len, const char *category);
/* (-EILSEQ: a name that is no valid internationalised name; -EINVAL: no rule) */
/* Copies every rule of db into b (an import adds to an existing database). */
int om_wf_builder_merge(om_wf_builder *b, const om_wf_db *db);
/* Parses text in fmt (not SQUIDGUARD); category names the category of
 * formats that do not carry one (NULL: "uncategorised"). */
int om_wf_import_buf(om_wf_builder *b, enum om_wf_format fmt, const char *text, size_t len,
                     const char *category, om_wf_import_stats *st);
/* A file (any format but SQUIDGUARD) or a squidGuard/UT1 directory. */
int om_wf_import_path(om_wf_builder *b, const char *path, enum om_wf_format fmt,
                      const char *category, om_wf_import_stats *st);
/* Writes the database to path atomically (a temporary file renamed over it,
 * so readers see the old or the new one). */
int om_wf_builder_write(const om_wf_builder *b, const char *path);
uint64_t om_wf_builder_rules(const om_wf_builder *b);
int om_wf_builder_lookup(const om_wf_builder *b, const char *host, size_t hlen, const char *path,
                         size_t plen, om_wf_match *ret);
/* The same, also telling (*clean, always written) whether no rule of the
 * host or of its suffixes exists at all: then no path of it matches. */
int om_wf_builder_lookup_ex(const om_wf_builder *b, const char *host, size_t hlen, const char *path,
                            size_t plen, om_wf_match *ret, bool *clean);

/* Opens a database file read-only (memory-mapped). -EINVAL: not a database
 * or damaged; -errno from the system. */
int om_wf_db_open(const char *path, om_wf_db **ret);
om_wf_db *om_wf_db_close(om_wf_db *db);
/* Looks up a request: host (as sent, normalised here) and optionally the
 * path (NULL/0 for a name alone: SNI, DNS). Returns 0 with *ret set, or
 * -ENOENT when no rule matches, -EINVAL when host is not a valid name. */
int om_wf_db_lookup(const om_wf_db *db, const char *host, size_t hlen, const char *path,
                    size_t plen, om_wf_match *ret);
int om_wf_db_lookup_ex(const om_wf_db *db, const char *host, size_t hlen, const char *path,
                       size_t plen, om_wf_match *ret, bool *clean); /* as builder_lookup_ex */
uint64_t om_wf_db_rules(const om_wf_db *db);
/* A number no other database or policy of the process has had (from 1): a
 * database's is taken at open, a policy's again at every change, so that
 * what was remembered of one is not taken for another's (om_wf_cache). */
uint64_t om_wf_serial_next(void);
uint64_t om_wf_db_serial(const om_wf_db *db); /* 0 for NULL */
uint32_t om_wf_db_categories(const om_wf_db *db);
const char *om_wf_db_category(const om_wf_db *db, uint32_t idx);   /* NULL past the end */
int om_wf_db_category_index(const om_wf_db *db, const char *name); /* -ENOENT */
/* Rules per category (counts[i] for category i; a rule counts in each of its categories). */
void om_wf_db_category_counts(const om_wf_db *db, uint64_t counts[OM_WF_CAT_MAX]);

/* ---- web filtering: policy and decisions (src/guard/webfilter_policy.c) -- */
/* One tenant's policy: categories to block, a block list and an allow list
 * (names or URL prefixes, matched like category rules). The allow list wins
 * over everything ("block the category, but allow this site"), then the
 * block list, then the blocked categories. */
typedef struct om_wf_policy om_wf_policy;
int om_wf_policy_new(om_wf_policy **ret);
om_wf_policy *om_wf_policy_free(om_wf_policy *p);
/* -ENOENT when db has no such category (nothing can match it). */
int om_wf_policy_block_category(om_wf_policy *p, const om_wf_db *db, const char *name);
int om_wf_policy_allow(om_wf_policy *p, const char *rule); /* 0 or -EINVAL/-ENOSPC */
int om_wf_policy_block(om_wf_policy *p, const char *rule);

enum om_wf_verdict {
	OM_WF_UNLISTED = 0, /* no rule matched */
	OM_WF_LISTED,       /* in a category the policy does not block: logged */
	OM_WF_ALLOWED,      /* on the allow list */
	OM_WF_BLOCKED       /* on the block list or in a blocked category */
};
enum om_wf_source { OM_WF_SRC_CATEGORY = 0, OM_WF_SRC_ALLOW_LIST, OM_WF_SRC_BLOCK_LIST };
const char *om_wf_verdict_name(enum om_wf_verdict v); /* "listed", "allowed", "blocked" */

typedef struct om_wf_decision {
	enum om_wf_verdict verdict;
	enum om_wf_source source;
	uint64_t cats;            /* the database's categories of the name (also when allowed) */
	bool ech;                 /* the decision on an encrypted ClientHello (OM_WF_CAT_ECH) */
	bool host_unlisted;       /* no rule of the host in db or lists, for any path */
	char rule[OM_WF_KEY_MAX]; /* the rule that decided */
} om_wf_decision;

/* Decides on a request; db and policy may be NULL (no categories / no
 * policy). Returns 0, or -EINVAL when host is not a valid name. */
int om_wf_decide(const om_wf_db *db, const om_wf_policy *pol, const char *host, size_t hlen,
                 const char *path, size_t plen, om_wf_decision *ret);
/* Decides on a ClientHello with ECH or ESNI (kind: "ech" or "esni", the
 * rule of the decision); host is its outer (public) name, may be NULL. The
 * allow list on host wins; else blocked when pol blocks OM_WF_CAT_ECH,
 * listed otherwise. Always 0. */
int om_wf_decide_ech(const om_wf_policy *pol, const char *host, size_t hlen, const char *kind,
                     om_wf_decision *ret);
/* Whether pol blocks the category name (of the database or built in). */
bool om_wf_policy_blocks(const om_wf_policy *pol, const char *name);

/* The web filter as a proto observer: decides on HTTP host and URI, TLS and
 * QUIC SNI and each DNS query name, and gives every listed, allowed or
 * blocked request to cb (the engine writes the EVE "webfilter" event). A
 * blocked request is OM_TX_VERDICT_DROP, a listed one in a category of
 * listed_alert OM_TX_VERDICT_ALERT. */
typedef struct om_wf_event {
	const om_wf_decision *d;
	const char *field; /* "http.host", "tls.sni", "tls.ech", "dns.query" */
	const char *name;  /* the host (not NUL-terminated: name_len) */
	size_t name_len;
	const char *path; /* HTTP only, else NULL */
	size_t path_len;
} om_wf_event;
typedef void (*om_wf_event_cb)(void *user, om_flow *f, const om_proto_tx *tx,
                               const om_wf_event *ev);
typedef struct om_wf_filter {
	const om_wf_db *db;
	const om_wf_policy *policy;
	uint64_t alert_cats; /* listed categories that are still reported as harmful */
	om_wf_event_cb cb;
	void *user;
	/* the user of cb on one worker (NULL: user on every worker) */
	void *(*worker_user)(void *user, unsigned worker);
	om_wf_db *own_db; /* what om_wf_filter_setup opened */
	om_wf_policy *own_policy;
} om_wf_filter;
/* A filter from a database file, a comma-separated list of blocked
 * categories and one of allowed names or URL prefixes (each may be NULL);
 * alert_cats are the blocked ones. Returns 0 or -errno with a message (the
 * thread's language) in err. */
int om_wf_filter_setup(om_wf_filter *filt, const char *db, const char *block, const char *allow,
                       char *err, size_t errlen);
void om_wf_filter_cleanup(om_wf_filter *filt);
/* Adds a comma-separated block list (names or URL prefixes) to a filter
 * made by om_wf_filter_setup (a tenant's policy from the configuration).
 * 0, or -EINVAL with a message in err. */
int om_wf_filter_block_list(om_wf_filter *filt, const char *list, char *err, size_t errlen);
/* Fills o to observe with filt (which must outlive the workers). */
void om_wf_observer(om_proto_observer *o, om_wf_filter *filt);
/* The observer's decision on one transaction (what on_tx does), without
 * a cache. */
enum om_tx_verdict om_wf_on_tx(const om_wf_filter *filt, void *cb_user, om_flow *f,
                               const om_proto_tx *tx);
/* One worker's memory of the names no rule matches with any path (and of
 * invalid names), for the filter it was filled with: it empties itself
 * when asked for a filter of another database or policy (a reload). A
 * hard cap (32768 names, direct-mapped keyed fingerprints); one thread
 * only. */
typedef struct om_wf_cache om_wf_cache;
int om_wf_cache_new(om_wf_cache **ret);
om_wf_cache *om_wf_cache_free(om_wf_cache *c);
/* om_wf_on_tx through the worker's cache c (NULL: none): the same
 * decisions and events, a remembered name answered without a lookup. */
enum om_tx_verdict om_wf_on_tx_cached(const om_wf_filter *filt, om_wf_cache *c, void *cb_user,
                                      om_flow *f, const om_proto_tx *tx);
/* Counters of a cache: lookups it answered, names it took. */
void om_wf_cache_counts(const om_wf_cache *c, uint64_t *ret_hits, uint64_t *ret_notes);

/* ---- application control (src/guard/appctl*.c) ------------------------- */
/* Per-flow application identification with nDPI (one nDPI module per
 * worker), groups of applications (data/appctl/groups.conf) and a policy per
 * tenant by group or application: allow, log, block. docs/appctl.md. */
enum om_app_group {
	OM_APP_G_NONE = 0,
	OM_APP_G_REMOTE_ACCESS,
	OM_APP_G_ONLINE_STORAGE,
	OM_APP_G_P2P,
	OM_APP_G_SNS,
	OM_APP_G_WEBMAIL,
	OM_APP_G_CLOUD_INPUT,
	OM_APP_G_VPN_PROXY,
	OM_APP_G_GAMES,
	OM_APP_G_COUNT
};
_Static_assert(OM_APP_G_COUNT == OM_APP_G_SLOTS, "om_app_policy.group: a slot per group");
/* "remote_access", ...; NULL for NONE and out of range */
const char *om_app_group_name(enum om_app_group g);
int om_app_group_from_name(const char *s); /* the group, or -ENOENT */

enum om_app_action { OM_APP_ACT_NONE = 0, OM_APP_ACT_ALLOW, OM_APP_ACT_LOG, OM_APP_ACT_BLOCK };
const char *om_app_action_name(enum om_app_action a); /* "allow", "log", "block"; NULL: none */
int om_app_action_from_name(const char *s);           /* the action, or -ENOENT */

#define OM_APPCTL_MAP_MAX 1024 /* lines of a group map */
#define OM_APPCTL_HOST_MAX 128 /* bytes of a host rule, with its NUL */

/* The group map: which nDPI protocols, categories and server names belong
 * to which group. Text, one mapping a line (docs/appctl.md):
 *   group app|category NAME      group host DOMAIN [APPLICATION] */
typedef struct om_app_map om_app_map;
/* Parses text; on a bad line returns -EINVAL with "line N: ..." in err (the
 * thread's language); -ENOSPC past OM_APPCTL_MAP_MAX lines of mappings. */
int om_app_map_parse(const char *text, size_t len, om_app_map **ret, char *err, size_t errlen);
/* The map built into the program (data/appctl/groups.conf). */
int om_app_map_builtin(om_app_map **ret, char *err, size_t errlen);
om_app_map *om_app_map_free(om_app_map *m);
size_t om_app_map_count(const om_app_map *m);
/* The group of a server name by the map's host rules (suffix at label
 * boundaries, longest wins), and the rule's application name (or NULL). */
enum om_app_group om_app_map_host(const om_app_map *m, const char *host, size_t len,
                                  const char **ret_app);

/* The action for an application (app and/or proto may be NULL; compared
 * without regard to case) in group g. */
enum om_app_action om_app_policy_decide(const om_app_policy *p, const char *app, const char *proto,
                                        enum om_app_group g);
/* Sets the action of a group or application by name ("remote_access" or
 * "Dropbox"): 0, -EINVAL for an empty or too long name, -ENOSPC. */
int om_app_policy_set(om_app_policy *p, const char *name, enum om_app_action a);

/* What is known of a flow's application. The names are nDPI's (valid while
 * the worker lives) or the map's. */
typedef struct om_app_info {
	const char *proto;    /* carrier protocol ("TLS", "HTTP"), NULL: none */
	const char *app;      /* application ("Dropbox"), NULL: none */
	const char *category; /* nDPI's category name, NULL: unspecified */
	enum om_app_group group;
	enum om_app_action action; /* the policy's for this flow */
	bool final;                /* identification has ended */
	bool reported;             /* the appctl event has been written */
} om_app_info;
/* Writes "app": {"proto", "name", "category", "group"} (members left out
 * when unknown). */
void om_app_info_json(om_json *j, const om_app_info *a);

/* Shared by the workers, read-only while they run. */
typedef struct om_appctl {
	const om_app_map *map;
	om_app_policy policy;
	uint32_t max_flows;   /* flows with an identification per worker (table cap) */
	uint32_t max_detect;  /* flows in detection at once per worker (nDPI state cap) */
	uint32_t max_packets; /* packets of a flow given to nDPI at most */
	bool all_protocols;   /* every nDPI dissector, not only the groups' */
	/* The engine's TLS and HTTP parsers are on (the caller says so; false
	 * after om_appctl_setup): they take every ClientHello and HTTP request
	 * on any port, so nDPI's TLS and HTTP dissectors, which would only see
	 * the flows both turned down, are left out (docs/appctl.md, "Cost") */
	bool parsers_tls_http;
	om_app_map *own_map; /* what om_appctl_setup loaded */
} om_appctl;
/* The built-in map (or the file groups, when not NULL), the caps and the
 * policy. Returns 0 or -errno with a message in err. */
int om_appctl_setup(om_appctl *ac, const char *groups, const om_app_policy *pol, uint32_t max_flows,
                    uint32_t max_detect, uint32_t max_packets, char *err, size_t errlen);
void om_appctl_cleanup(om_appctl *ac);

/* Every field a uint64_t: the engine sums workers word by word. */
typedef struct om_appctl_stats {
	uint64_t flows;         /* TCP and UDP flows followed */
	uint64_t identified;    /* flows with a protocol or application */
	uint64_t table_full;    /* flows not followed: the table was full */
	uint64_t detect_full;   /* flows not followed: every nDPI state in use */
	uint64_t packets;       /* packets given to nDPI */
	uint64_t blocked;       /* flows the policy blocked */
	uint64_t unknown_names; /* map names the installed nDPI does not know */
} om_appctl_stats;

typedef struct om_appctl_worker om_appctl_worker;
int om_appctl_worker_new(const om_appctl *ac, om_appctl_worker **ret);
om_appctl_worker *om_appctl_worker_free(om_appctl_worker *w);
/* Points w at ac from the next packet on (the gateway's reload of the
 * tenant's policy, on w's own thread). ac must have the map and caps of the
 * one w was made with: only its policy may differ. */
void om_appctl_worker_rebind(om_appctl_worker *w, const om_appctl *ac);
/* Feeds one decoded packet of flow f (TCP and UDP only; others are
 * ignored; call it after the app-layer parsers had the packet) until the
 * flow's identification is final. A flow one of our parsers took is not
 * given to nDPI: SMTP, POP3, IMAP, FTP and DNS are named at once, HTTP,
 * TLS and QUIC by om_appctl_tx. Returns 1 when the identification became
 * final with this packet (*ret filled; a block action has set
 * OM_FLOW_F_DROP on f), 0 otherwise. */
int om_appctl_packet(om_appctl_worker *w, om_flow *f, const om_packet *p, om_app_info *ret);
/* A transaction of flow f (a proto observer's call): the first HTTP
 * request, TLS or QUIC ClientHello names the flow from its Host or SNI
 * through nDPI's host lists and the map's host rules (else nDPI's IP lists
 * on the addresses), once per flow. Returns as om_appctl_packet. */
int om_appctl_tx(om_appctl_worker *w, om_flow *f, const om_proto_tx *tx, om_app_info *ret);
/* What is known of f so far: 0, or -ENOENT. */
int om_appctl_flow(om_appctl_worker *w, const om_flow *f, om_app_info *ret);
/* Writes f's "app" member (as om_app_info_json; nothing when nothing is
 * known): the events of a flow all carry it, so a final identification's
 * object is rendered once per worker and copied. */
void om_appctl_json(om_appctl_worker *w, const om_flow *f, om_json *j);
/* Marks f's appctl event as written. */
void om_appctl_flow_reported(om_appctl_worker *w, const om_flow *f);
/* At the end of f: ends detection (nDPI's last word), fills *ret and frees
 * the flow's state. 0, or -ENOENT when f was not followed. */
int om_appctl_flow_end(om_appctl_worker *w, const om_flow *f, om_app_info *ret);
const om_appctl_stats *om_appctl_stats_get(const om_appctl_worker *w);

/* 'omamori webfilter import|lookup|stats [--db FILE]'; argv[0] is "webfilter". */
int om_webfilter_main(int argc, char **argv, enum om_lang lang, const char *default_db);

/* ---- anti-spam and targeted-mail indicators (src/guard/spam*.c) --------- */
/* Every received message (SMTP, POP3/IMAP downloads, the milter) is scored
 * from the transaction proto shows its observers: the email.* buffers,
 * with email.headers, email.body, email.attachment and
 * email.attachment_head (docs/spam.md). A Bayesian classifier (token
 * database trained with 'omamori spam train'), header and structure rules,
 * URL checks through a hook, and the SPF/DKIM/DMARC results (the
 * Authentication-Results header, or the milter's own checks) give a score;
 * business e-mail compromise signs raise a separate targeted_mail flag. */
#define OM_SPAM_REASONS_MAX 24
#define OM_SPAM_SIGNS_MAX 12
#define OM_SPAM_DOMAINS_MAX 32 /* own and partner domains in the configuration */
#define OM_SPAM_DOMAIN_LEN 254
#define OM_SPAM_TOKENS_MAX 4096u  /* distinct tokens of one message used */
#define OM_SPAM_DB_MAX (1u << 23) /* tokens in one database */
#define OM_SPAM_CORR_MAX 16384u   /* domains in one correspondent history */
#define OM_SPAM_INTEL_MAX 4       /* listed links of one message remembered */

/* ---- tokens (spam_token.c) ---- */
/* Tokens of a message: words of ASCII and Latin text (lower case, 3 to 20
 * bytes; longer ones as a "skip" token), character bigrams of Japanese and
 * Chinese text (a lone character as itself), header words prefixed by the
 * field ("subject:", "from:"), header names, URL hosts, attachment
 * extensions. fn gets each token (not NUL-terminated). */
typedef void (*om_spam_token_fn)(void *user, const char *tok, size_t len);
void om_spam_tokenize(const om_proto_tx *tx, om_spam_token_fn fn, void *user);
/* The text tokens of s (UTF-8), each prefixed with prefix (may be ""). */
void om_spam_tokenize_text(const char *prefix, const char *s, size_t n, om_spam_token_fn fn,
                           void *user);

/* ---- the token database (spam_db.c) ---- */
typedef struct om_spam_db om_spam_db;
int om_spam_db_new(om_spam_db **ret); /* empty */
/* A file written by om_spam_db_save. -EINVAL: not a database or damaged;
 * -E2BIG: more than OM_SPAM_DB_MAX tokens; -errno from the system. */
int om_spam_db_load(const char *path, om_spam_db **ret);
om_spam_db *om_spam_db_free(om_spam_db *db);
/* Learns one message as spam or ham. -ENOSPC when the database is full
 * (the message counts, its new tokens are not kept). */
int om_spam_db_train(om_spam_db *db, const om_proto_tx *tx, bool spam);
/* Written atomically (a temporary file renamed over path). */
int om_spam_db_save(const om_spam_db *db, const char *path);
void om_spam_db_counts(const om_spam_db *db, uint64_t *ret_ham, uint64_t *ret_spam,
                       uint64_t *ret_tokens);
/* The probability that the message is spam (Robinson-Fisher chi-square
 * combining of at most 300 telling tokens), or -1 when the database has
 * not learnt both ham and spam yet. */
double om_spam_db_classify(const om_spam_db *db, const om_proto_tx *tx);
/* The same from a token list (tests, the benchmark). */
double om_spam_db_classify_tokens(const om_spam_db *db, const uint64_t *h, size_t n);
uint64_t om_spam_token_hash(const char *tok, size_t len);

/* ---- the correspondent history (spam_corr.c) ---- */
/* The domains a tenant corresponds with: senders of received mail judged
 * clean, recipients of sent mail; at most max (0: OM_SPAM_CORR_MAX), the
 * one seen longest ago making room. Persisted in a crash-safe journal
 * (docs/spam.md); safe to share between threads. */
typedef struct om_spam_corr om_spam_corr;
/* The history's file beside a Bayes database: "spam.db" -> "spam.corr". */
int om_spam_corr_path(const char *db_path, char *buf, size_t cap);
/* path NULL: in memory only. -errno when the file cannot be read or made. */
int om_spam_corr_open(const char *path, unsigned max, om_spam_corr **ret);
om_spam_corr *om_spam_corr_close(om_spam_corr *c);
/* 1: a new domain, 0: known (its time refreshed), -EINVAL: not a domain. */
int om_spam_corr_add(om_spam_corr *c, const char *domain, int64_t now);
bool om_spam_corr_known(om_spam_corr *c, const char *domain);
/* A known domain k with like(domain, k) (the first found into ret). */
bool om_spam_corr_look_alike(om_spam_corr *c, const char *domain,
                             bool (*like)(const char *a, const char *b), char *ret, size_t cap);
void om_spam_corr_stats(om_spam_corr *c, unsigned *ret_count, uint64_t *ret_dropped);
/* from looks like known without being it or under it (lower-case names):
 * an edit away (two for names of 10+ characters), the same after folding
 * look-alike characters, the same first label under another suffix. */
bool om_spam_look_alike(const char *from, const char *known);

/* ---- the checks (spam.c) ---- */
/* The URL hook: the web filter's categories and threat intelligence, when
 * the gateway has them. Called for each URL of a message (url not
 * NUL-terminated); returns one of these. */
enum om_spam_url { OM_SPAM_URL_CLEAN = 0, OM_SPAM_URL_HARMFUL, OM_SPAM_URL_MALICIOUS };
typedef enum om_spam_url (*om_spam_url_fn)(void *user, const char *url, size_t len);

/* The web filter as the URL hook (user: an om_wf_filter): a URL whose
 * host or prefix the filter blocks, or lists in an alerting category, is
 * HARMFUL. */
enum om_spam_url om_spam_url_webfilter(void *user, const char *url, size_t len);

typedef struct om_spam_config {
	const om_spam_db *db; /* NULL: no Bayesian score */
	/* the company's own domains and its partners' (look-alikes, forged
	 * senders, display-name spoofing) */
	char own[OM_SPAM_DOMAINS_MAX][OM_SPAM_DOMAIN_LEN];
	unsigned nown;
	char partner[OM_SPAM_DOMAINS_MAX][OM_SPAM_DOMAIN_LEN];
	unsigned npartner;
	double threshold;         /* score >= threshold: spam (om_spam_config_init: 5.0) */
	om_spam_url_fn url_check; /* NULL: none */
	void *url_user;
	/* threat intelligence on the links: on the packet path the engine's
	 * matcher (a hit is also an intel alert through its callback), else
	 * an open database (the milter, 'spam check'); NULL: none */
	struct om_intel_matcher *intel;
	const struct om_intel_db *intel_db;
	/* the correspondent history (NULL: none): first contact from a
	 * look-alike of a known correspondent; the observer and the milter
	 * learn from received and sent mail */
	om_spam_corr *corr;
	/* home-net (NULL: every message counts as received): an SMTP message
	 * from the office to outside is sent mail */
	const om_base_config *base;
	const struct om_spam_auth_ctx *auth; /* DKIM/DMARC verification (NULL: none) */
} om_spam_config;
void om_spam_config_init(om_spam_config *c);
/* A comma-separated list of domains into c->own (partner: c->partner).
 * -EINVAL for a name that is not a domain, -ENOSPC past the cap. */
int om_spam_config_domains(om_spam_config *c, bool partner, const char *list);

/* SPF/DKIM/DMARC outcome, from the milter's own checks or the
 * Authentication-Results header */
enum om_spam_auth {
	OM_AUTH_UNKNOWN = 0,
	OM_AUTH_NONE,
	OM_AUTH_PASS,
	OM_AUTH_FAIL,
	OM_AUTH_SOFTFAIL,
	OM_AUTH_NEUTRAL,
	OM_AUTH_TEMPERROR,
	OM_AUTH_PERMERROR
};
const char *om_spam_auth_name(enum om_spam_auth a); /* "pass", "fail", ... */
enum om_spam_auth om_spam_auth_parse(const char *s, size_t n);

/* What the transport knows (the milter: envelope and its own SPF check;
 * the packet path: nothing more than the transaction). */
typedef struct om_spam_env {
	enum om_spam_auth spf, dkim, dmarc;   /* UNKNOWN: read Authentication-Results */
	char dkim_domain[OM_SPAM_DOMAIN_LEN]; /* d= of the signature judged ("": none) */
	char dmarc_policy[12];                /* "none", "quarantine", "reject" ("": no record) */
	char from_domain[OM_SPAM_DOMAIN_LEN]; /* the From: domain the verification used */
} om_spam_env;

/* ---- DKIM and DMARC (spam_auth.c) ---- */
/* DKIM signatures verified with libopendkim and DMARC (RFC 7489) from the
 * _dmarc TXT record, with one TXT resolver: the system's (res_query) or,
 * for tests and offline use, a zone file of "name TXT-data" lines. */
typedef struct om_spam_auth_ctx om_spam_auth_ctx;
/* zone_file NULL: DNS. -EINVAL: the library would not start; -errno. */
int om_spam_auth_new(const char *zone_file, om_spam_auth_ctx **ret);
om_spam_auth_ctx *om_spam_auth_free(om_spam_auth_ctx *a);
/* Verifies msg (the whole message, CRLF or LF lines): fills env's dkim,
 * dmarc, dkim_domain, dmarc_policy and from_domain. mail_from is the
 * envelope sender (NULL or "": unknown), spf its SPF result, for DMARC's
 * SPF alignment. A message without signature gets dkim NONE; DNS that
 * does not answer gives TEMPERROR. Safe from several threads. */
void om_spam_auth_verify(const om_spam_auth_ctx *a, const uint8_t *msg, size_t len,
                         const char *mail_from, enum om_spam_auth spf, om_spam_env *env);
/* The organisational domain of d (RFC 7489 3.2, with a short list of
 * two-label public suffixes instead of the whole Public Suffix List). */
const char *om_spam_org_domain(const char *d);
/* The TXT data of name from the resolver: 1 found (ret NUL-terminated),
 * 0 no such record, -EAGAIN no answer. */
int om_spam_auth_txt(const om_spam_auth_ctx *a, const char *name, char *ret, size_t cap);

enum om_spam_verdict { OM_SPAM_HAM = 0, OM_SPAM_SPAM };
typedef struct om_spam_result {
	double score;
	double bayes; /* -1: no database */
	enum om_spam_verdict verdict;
	/* rule names ("look_alike_domain"); the catalogue's "spam.reason.<name>"
	 * explains each to a non-expert */
	const char *reasons[OM_SPAM_REASONS_MAX];
	unsigned nreasons;
	bool targeted; /* business e-mail compromise / targeted-attack signs */
	const char *signs[OM_SPAM_SIGNS_MAX]; /* "payment_request", "urgency", ... */
	unsigned nsigns;
	enum om_spam_auth spf, dkim, dmarc;
	char dkim_domain[OM_SPAM_DOMAIN_LEN]; /* from om_spam_env, or Authentication-Results'
	                                         header.d */
	char dmarc_policy[12];
	bool malware_attachment; /* a dangerous attachment (executable, double extension) */
	bool sent;               /* mail from the office to outside (not scored for spam) */
	/* the known correspondent a first contact looks like ("": none) */
	char corr_like[OM_SPAM_DOMAIN_LEN];
	/* links listed by threat intelligence */
	struct om_spam_intel {
		char url[256];
		char indicator[256];
		char source[48];
		int threat; /* enum om_intel_threat */
		uint8_t confidence;
	} intel[OM_SPAM_INTEL_MAX];
	unsigned nintel;
} om_spam_result;

void om_spam_check(const om_spam_config *cfg, const om_proto_tx *tx, const om_spam_env *env,
                   om_spam_result *ret);
/* Learns the correspondents of a message checked (cfg->corr; nothing
 * without): the recipients of sent mail (r->sent), the sender of received
 * mail judged clean and not a look-alike. */
void om_spam_learn(const om_spam_config *cfg, const om_proto_tx *tx, const om_spam_result *r,
                   int64_t now);
/* The EVE "spam" object: score, verdict, bayes, reasons, targeted_mail,
 * signs, auth. */
void om_spam_write(om_json *j, const om_spam_result *r);
/* The omamori object of a message worth reporting (spam or targeted), NULL
 * for the others: category "spam", advice "advice.spam" or
 * "advice.targeted_mail". */
const om_event_meta *om_spam_meta(const om_spam_result *r);

/* The checks as a proto observer: every smtp, pop3 and imap message gets
 * a "spam" object in its record (om_proto_tx_note); a spam or targeted
 * message is a security event (category spam) and OM_TX_VERDICT_ALERT. */
void om_spam_observer(om_proto_observer *o, const om_spam_config *cfg);

/* The mail parsers' default limits, for whole messages outside a flow
 * (om_proto_mail_message). */
void om_spam_mail_limits(struct om_proto_mail_config *c);
/* A message file read whole (at most 16 MiB: -EFBIG beyond). */
int om_spam_read_file(const char *path, uint8_t **ret, size_t *ret_len);

/* 'omamori spam train|check|stats'; argv[0] is "spam". default_db is the
 * global database (the state directory's spam.db); --tenant T uses
 * spam-T.db beside it. */
int om_spam_main(int argc, char **argv, enum om_lang lang, const char *default_db);

/* ---- the mail filter (src/guard/milter.c) ---- */
/* 'omamori milter --socket SPEC [--db FILE] [--own DOMAINS] ...': a
 * libmilter filter for Postfix or Sendmail. Rejects malware (554 with a
 * plain reason), tags spam (X-Omamori-Spam headers and a subject tag) or
 * quarantines it (--spam quarantine), and writes one EVE line per message
 * (--eve FILE). The anti-virus engine is reached through
 * milter_av_scan (see milter.c). */
int om_milter_main(int argc, char **argv, enum om_lang lang, const char *default_db);
/* ---- threat intelligence: indicators (src/guard/intel*.c) ---------------- */
/* Indicators of compromise (addresses and networks, domains, URLs, file
 * hashes, certificate hashes, JA3/JA4 fingerprints), each with its source,
 * confidence, threat and expiry, in one memory-mapped database file
 * (docs/intel.md). A lookup costs a few hash probes whatever the number of
 * indicators: names are tried at each label boundary, addresses at each
 * prefix length the database holds. */
enum om_intel_type {
	OM_INTEL_AUTO = 0, /* detect from the value (imports) */
	OM_INTEL_IP,       /* an address or a network (v4 or v6) */
	OM_INTEL_DOMAIN,   /* a name and every name under it */
	OM_INTEL_URL,      /* host and path (scheme, port, fragment dropped) */
	OM_INTEL_MD5,      /* file hashes */
	OM_INTEL_SHA1,
	OM_INTEL_SHA256,
	OM_INTEL_CERT_SHA1, /* a TLS certificate's SHA-1 (SSLBL) */
	OM_INTEL_JA3,       /* JA3 client fingerprint (MD5) */
	OM_INTEL_JA4,       /* JA4 client fingerprint text */
	OM_INTEL_TYPES
};
/* "ip", "domain", "url", "md5", "sha1", "sha256", "cert-sha1", "ja3", "ja4";
 * om_intel_type_from_name answers -EINVAL for others. */
const char *om_intel_type_name(enum om_intel_type t);
int om_intel_type_from_name(const char *s);

/* What an indicator stands for; gives the event's report category. */
enum om_intel_threat {
	OM_INTEL_THREAT_C2 = 0,   /* command and control: category c2 */
	OM_INTEL_THREAT_MALWARE,  /* a malware download: web_malware */
	OM_INTEL_THREAT_PHISHING, /* harmful_web */
	OM_INTEL_THREAT_OTHER,    /* c2 (traffic from inside to a listed place) */
	OM_INTEL_THREATS
};
const char *om_intel_threat_name(enum om_intel_threat t); /* "c2", "malware", ... */
/* A feed's word for the threat ("botnet_cc", "malware_download",
 * "payload_delivery", "phishing", "C&C", ...) mapped to ours. */
enum om_intel_threat om_intel_threat_from_text(const char *s, size_t n);

#define OM_INTEL_SOURCES_MAX 256 /* distinct sources in one database */
#define OM_INTEL_SOURCE_MAX 48   /* bytes of a source name, with its NUL */
#define OM_INTEL_VALUE_MAX 1024  /* bytes of an indicator's normalised value */
#define OM_INTEL_MAX 50000000u   /* indicators in one database */

/* One indicator as an importer gives it. */
typedef struct om_intel_ind {
	enum om_intel_type type; /* OM_INTEL_AUTO: detected from value */
	const char *value;
	size_t len;
	const char *source; /* NULL: "local" */
	uint8_t confidence; /* 0..100 */
	enum om_intel_threat threat;
	int64_t expires; /* Unix seconds; 0: never */
} om_intel_ind;

/* The type of a value as written in a list: an address or CIDR, a hex
 * string of 32 (md5), 40 (sha1) or 64 (sha256) digits, a JA4 fingerprint,
 * a URL (a scheme or a '/'), else a domain (internationalised names in
 * UTF-8 taken in their xn-- form). -EINVAL when it is none, -EILSEQ for a
 * name that is no valid internationalised name. */
int om_intel_detect_type(const char *s, size_t n);

typedef struct om_intel_builder om_intel_builder;
typedef struct om_intel_db om_intel_db;

int om_intel_builder_new(om_intel_builder **ret);
om_intel_builder *om_intel_builder_free(om_intel_builder *b);
/* Adds an indicator. Returns 0 (added), 1 (known already: the higher
 * confidence and the later expiry are kept, the source of the higher
 * confidence), -EINVAL for a value that is not of its type (-EILSEQ: a
 * domain that is no valid internationalised name), -ENOSPC at the
 * indicator or source cap. */
int om_intel_builder_add(om_intel_builder *b, const om_intel_ind *ind);
/* Copies every indicator of db not expired at now (0: all) into b. */
int om_intel_builder_merge(om_intel_builder *b, const om_intel_db *db, int64_t now);
/* The same, leaving out the indicators of the nskip sources named (a feed
 * fetched again replaces its own indicators). */
int om_intel_builder_merge_except(om_intel_builder *b, const om_intel_db *db, int64_t now,
                                  const char *const *skip, unsigned nskip);
/* Copies every indicator of from into b. */
int om_intel_builder_absorb(om_intel_builder *b, const om_intel_builder *from);
uint64_t om_intel_builder_count(const om_intel_builder *b);
/* Writes the database atomically (a temporary file renamed over path). */
int om_intel_builder_write(const om_intel_builder *b, const char *path);

/* What a lookup found. key points into the database (or the builder). */
typedef struct om_intel_hit {
	enum om_intel_type type;
	enum om_intel_threat threat;
	uint8_t confidence;
	uint8_t prefix; /* OM_INTEL_IP: the network's length on the mapped form */
	int64_t expires;
	const char *source;
	const uint8_t *key;
	size_t key_len;
} om_intel_hit;
/* The indicator as text ("198.51.100.0/24", "evil.example", hex digits). */
void om_intel_hit_text(const om_intel_hit *h, char *buf, size_t n);

/* Opens a database read-only (memory-mapped): -EINVAL not a database or
 * damaged, -errno from the system. */
int om_intel_db_open(const char *path, om_intel_db **ret);
om_intel_db *om_intel_db_close(om_intel_db *db);
/* Whether the database holds indicators of type t (expired ones count):
 * the matcher leaves out what it would look up in vain (a JA4 it would
 * compute, URLs, addresses). */
bool om_intel_db_has(const om_intel_db *db, enum om_intel_type t);
/* Whether the filter an opened database makes of its records' tags lets
 * key (a record's key as stored: a domain as its normalised name) through
 * to the slots; false: the database certainly does not hold it. True
 * without a filter. The filter's rate, for tests and benchmarks. */
bool om_intel_db_filter_passes(const om_intel_db *db, enum om_intel_type t, const uint8_t *key,
                               size_t n);
/* Lookups skip indicators expired at now (Unix seconds; 0: none expire).
 * Each returns 0 with *ret, -ENOENT when nothing matches, -EINVAL for a
 * value that is not of the type. */
int om_intel_db_lookup_addr(const om_intel_db *db, const om_addr *a, int64_t now,
                            om_intel_hit *ret);
int om_intel_db_lookup_domain(const om_intel_db *db, const char *name, size_t n, int64_t now,
                              om_intel_hit *ret);
/* host as in the request (a port is dropped), path with the query */
int om_intel_db_lookup_url(const om_intel_db *db, const char *host, size_t hlen, const char *path,
                           size_t plen, int64_t now, om_intel_hit *ret);
/* md5/sha1/sha256/cert-sha1/ja3 as raw bytes of their length, ja4 as text */
int om_intel_db_lookup_raw(const om_intel_db *db, enum om_intel_type t, const uint8_t *v, size_t n,
                           int64_t now, om_intel_hit *ret);
/* Any value as text (type OM_INTEL_AUTO: detected), as the CLI's lookup. */
int om_intel_db_lookup(const om_intel_db *db, enum om_intel_type t, const char *v, size_t n,
                       int64_t now, om_intel_hit *ret);
int om_intel_builder_lookup(const om_intel_builder *b, enum om_intel_type t, const char *v,
                            size_t n, int64_t now, om_intel_hit *ret);

typedef struct om_intel_db_stats {
	uint64_t total;
	uint64_t by_type[OM_INTEL_TYPES];
	uint64_t expired; /* at the now given */
	uint32_t sources;
	uint64_t by_source[OM_INTEL_SOURCES_MAX];
	int64_t built; /* Unix seconds the file was written */
	uint64_t file_bytes;
} om_intel_db_stats;
void om_intel_db_stats_get(const om_intel_db *db, int64_t now, om_intel_db_stats *ret);
const char *om_intel_db_source(const om_intel_db *db, uint32_t idx); /* NULL past the end */

/* ---- threat intelligence: imports (src/guard/intel_import.c) ------------ */
enum om_intel_format {
	OM_INTEL_FMT_AUTO = 0,
	OM_INTEL_FMT_PLAIN,     /* one indicator a line, type detected; '#' comments */
	OM_INTEL_FMT_CSV,       /* a header names the columns (abuse.ch CSVs included) */
	OM_INTEL_FMT_URLHAUS,   /* URLhaus CSV */
	OM_INTEL_FMT_FEODO,     /* Feodo Tracker IP blocklist, CSV or JSON */
	OM_INTEL_FMT_THREATFOX, /* ThreatFox CSV or JSON */
	OM_INTEL_FMT_SSLBL,     /* SSLBL certificate SHA1 or JA3 CSV */
	OM_INTEL_FMT_STIX,      /* STIX 2.1 bundle */
	OM_INTEL_FMT_MISP,      /* MISP JSON event export */
	OM_INTEL_FMT_COUNT
};
const char *om_intel_format_name(enum om_intel_format f);
int om_intel_format_from_name(const char *s);
/* The format of a text by its content (never AUTO: PLAIN at worst). */
enum om_intel_format om_intel_format_detect(const char *text, size_t len);

#define OM_INTEL_IMPORT_PROBLEMS 8 /* rejected lines remembered with their reason */
typedef struct om_intel_import_opts {
	const char *source;      /* NULL: the format's own name ("urlhaus", ...) */
	uint8_t confidence;      /* when the feed gives none; 0: 75 */
	int64_t expires;         /* when the feed gives none; 0: never */
	enum om_intel_type type; /* plain lists: the type of every line (AUTO: detect) */
} om_intel_import_opts;
typedef struct om_intel_import_stats {
	enum om_intel_format format; /* the one used */
	uint64_t lines;              /* lines (text formats) or objects (JSON) read */
	uint64_t added, updated;
	uint64_t rejected;
	unsigned nproblems;
	struct {
		uint64_t line;   /* 1-based line of the input, or of the object (JSON) */
		bool object;     /* line counts the format's objects (JSON formats) */
		const char *why; /* catalogue key of the reason */
	} problem[OM_INTEL_IMPORT_PROBLEMS];
} om_intel_import_stats;
/* Parses text in fmt. A line or object that is not an indicator is counted
 * and remembered; a document that cannot be read at all (JSON syntax)
 * returns -EINVAL with problem[0] giving the line. */
int om_intel_import_buf(om_intel_builder *b, enum om_intel_format fmt, const char *text, size_t len,
                        const om_intel_import_opts *o, om_intel_import_stats *st);
int om_intel_import_path(om_intel_builder *b, const char *path, enum om_intel_format fmt,
                         const om_intel_import_opts *o, om_intel_import_stats *st);

/* ---- threat intelligence: matching (src/guard/intel_match.c) ------------- */
/* The database in use, swapped atomically on reload: a worker takes the
 * current one at each packet (om_intel_live_get), and a replaced mapping
 * is closed only once every worker has taken the new one. */
typedef struct om_intel_live om_intel_live;
int om_intel_live_open(const char *path, unsigned workers, om_intel_live **ret);
om_intel_live *om_intel_live_free(om_intel_live *l);
/* Between packets, on worker w: the database to use until the next call. */
const om_intel_db *om_intel_live_get(om_intel_live *l, unsigned w);
/* Reopens the file when it was replaced (another inode or size or time).
 * Returns 1 swapped, 0 unchanged, -errno (the old one stays in use). */
int om_intel_live_reload(om_intel_live *l);
uint64_t om_intel_live_generation(const om_intel_live *l);

/* One match, for the engine's event. */
typedef struct om_intel_event {
	const om_intel_hit *hit;
	const char *field; /* "flow.dest_ip", "dns.query", "dns.answer", "http.host",
	                      "http.url", "tls.sni", "ja3.hash", "ja4.hash",
	                      "tls.cert_fingerprint", "fileinfo.sha256", ... */
	const char *value; /* what matched, as seen (not NUL-terminated) */
	size_t value_len;
	om_addr host;          /* the internal host */
	bool host_known;       /* false: neither side is in home-net */
	const om_proto_tx *tx; /* NULL for flow and file matches */
} om_intel_event;
typedef void (*om_intel_event_cb)(void *user, om_flow *f, const om_intel_event *ev);

typedef struct om_intel_matcher {
	om_intel_live *live;
	const om_base_config *base; /* home-net: which side is the internal host */
	uint8_t min_confidence;     /* indicators below are ignored */
	bool block;                 /* drop what matches (inline) */
	om_intel_event_cb cb;
	void *user;
	void *(*worker_user)(void *user, unsigned worker);
	int64_t now; /* 0: the packet clock (seconds of the flow's last packet) */
} om_intel_matcher;
/* Fills o to observe transactions with m (DNS queries and answers, HTTP
 * host and URL, TLS SNI, JA3, JA4, certificate fingerprint). */
void om_intel_observer(om_proto_observer *o, om_intel_matcher *m);
/* Fills s to check every file's md5/sha1/sha256 at its close. */
void om_intel_file_subscriber(om_file_subscriber *s, om_intel_matcher *m);
/* At a flow's first packet: both addresses. Returns true when one matched. */
bool om_intel_flow_start(om_intel_matcher *m, unsigned worker, om_flow *f);

/* 'omamori intel import|lookup|stats|expire|update [--db FILE]'. */
int om_intel_main(int argc, char **argv, enum om_lang lang, const char *default_db,
                  const om_guard_config *cfg);

/* ---- anti-virus (src/guard/av*.c, yara.c) ----------------------------------------- */
/* One libclamav engine, loaded once from a database directory and shared by
 * every thread; reloaded in the background when the databases change (the
 * old engine stays in use until its last scan ends). Optionally YARA rules
 * on the same bytes. As a file subscriber it scans every extracted file
 * (HTTP, FTP, SMTP, POP3, IMAP); docs/av.md is the design note. */
#define OM_AV_PATH_MAX 512
#define OM_AV_THREADS_MAX 16
#define OM_AV_NAME_MAX 128 /* bytes of a signature or rule name, with its NUL */

typedef struct om_av_config {
	bool enabled;                    /* av.enabled: scan extracted files */
	char db_dir[OM_AV_PATH_MAX];     /* "": ClamAV's standard directory */
	char yara_rules[OM_AV_PATH_MAX]; /* a YARA rule file or a directory of them; "": none */
	uint64_t max_file;      /* bytes of one file kept for scanning (ClamAV MaxFileSize) */
	uint64_t max_scan;      /* bytes scanned inside one file, archives unpacked (MaxScanSize) */
	uint32_t max_recursion; /* archive nesting */
	uint32_t max_files;     /* files inside one archive */
	uint64_t memory;        /* bytes of files held for scanning at once, all workers */
	uint32_t threads;       /* scanner threads (inline mode) */
	uint32_t reload_interval; /* seconds between checks of the databases; 0: never */
} om_av_config;
extern const om_config_schema om_av_config_schema;

/* Why (part of) a file was not scanned: a bit each. */
#define OM_AV_SKIP_MAX_FILE 0x1u   /* larger than av.max-file: the first bytes were scanned */
#define OM_AV_SKIP_MAX_SCAN 0x2u   /* ClamAV stopped at max-scan */
#define OM_AV_SKIP_RECURSION 0x4u  /* archive nested deeper than max-recursion */
#define OM_AV_SKIP_FILES 0x8u      /* more files in an archive than max-files */
#define OM_AV_SKIP_ENCRYPTED 0x10u /* an encrypted archive or document */
#define OM_AV_SKIP_TRUNCATED 0x20u /* the transfer was cut (the flow or a limit) */
#define OM_AV_SKIP_GAP 0x40u       /* bytes of the file were missing */
#define OM_AV_SKIP_MEMORY 0x80u    /* av.memory was used up: not scanned at all */
#define OM_AV_SKIP_TIME 0x100u     /* ClamAV's scan time limit */
#define OM_AV_SKIP_ERROR 0x200u    /* the scanner failed on it */
/* The EVE names of the bits set in skip, comma-separated ("max-file,encrypted"). */
void om_av_skip_names(uint32_t skip, char *out, size_t outsz);

enum om_av_status { OM_AV_CLEAN = 0, OM_AV_INFECTED };
typedef struct om_av_result {
	enum om_av_status status;
	char engine[8];                 /* "clamav" or "yara": what found it */
	char signature[OM_AV_NAME_MAX]; /* the signature or rule, when infected */
	char yara_rule[OM_AV_NAME_MAX]; /* a matching YARA rule ("" none), also beside ClamAV */
	uint32_t skip;                  /* OM_AV_SKIP_* */
	uint64_t scanned;               /* bytes given to the scanner */
	char db_version[64];            /* the database that decided (om_av_db_version) */
} om_av_result;

typedef struct om_av om_av;
/* Loads the databases of cfg->db_dir (and the YARA rules). Returns 0, or
 * -ENOENT (no directory or no signatures in it), -EINVAL (a database or
 * rule that does not load), -ENOMEM, with a message in the thread's
 * language in err. cfg is copied. */
int om_av_open(const om_av_config *cfg, om_av **ret, char *err, size_t errlen);
/* Stops the scanner threads and the reload thread and frees everything. */
om_av *om_av_close(om_av *av);
/* Scans a whole buffer: any thread, any time (the milter calls this for a
 * complete message; ClamAV decodes its MIME parts itself). name is a hint
 * for ClamAV's type detection and may be NULL. Returns 0 with *ret filled
 * (clean or infected, and in skip what was not scanned: a buffer larger
 * than av.max-file is not scanned by ClamAV at all, OM_AV_SKIP_MAX_FILE),
 * or -ENOMEM when the scanner ran out of memory (ret untouched). */
int om_av_scan_buffer(om_av *av, const void *buf, size_t len, const char *name, om_av_result *ret);
/* Checks the database directory now: 1 when it changed and the new
 * databases are in use, 0 when nothing changed, -errno when the new ones do
 * not load (the old ones stay in use; err says why). The reload thread
 * calls this every reload_interval seconds. */
int om_av_reload_check(om_av *av, char *err, size_t errlen);
/* "ClamAV 1.4.6" */
const char *om_av_engine_version(void);
/* The loaded database: "daily.cvd 27400, main.cvd 62" from the CVD/CLD
 * headers found, else "local" ; and the signature count. */
void om_av_db_version(om_av *av, char *out, size_t outsz, unsigned *ret_sigs);

typedef struct om_av_stats {
	uint64_t files, scanned, infected, skipped; /* skipped: some part not scanned */
	uint64_t bytes;                             /* bytes scanned */
	uint64_t reloads, reload_errors;
	uint64_t memory_refused; /* files not scanned: av.memory full */
	uint64_t queue_full;     /* inline: scanned on the worker (the queue was full) */
	uint64_t late;           /* inline: the answer came after the hold ran out */
} om_av_stats;
void om_av_stats_get(om_av *av, om_av_stats *ret);

/* ---- anti-virus as a file subscriber (src/guard/av_sub.c) */
/* What the engine writes as an EVE alert: everything is a copy, valid
 * during the callback (the flow may be gone when an inline scan ends). */
typedef struct om_av_alert {
	const om_av_result *res;
	const char *app_proto; /* the file's ("http", "smtp", "ftp-data", ...) */
	bool mail;             /* smtp/pop3/imap: mail_malware, else web_malware */
	int dir;               /* the file's direction */
	om_addr cli, srv;
	uint16_t cport, sport;
	uint8_t proto;
	uint64_t flow_id;
	uint16_t vlan[2];
	uint8_t vlan_count;
	const uint8_t *name; /* the file name, name_len bytes */
	size_t name_len;
	uint64_t size, tx_id;
	const uint8_t *sha256; /* NULL without hashing or after a gap */
	bool blocked;          /* inline and answered in time: the transfer was dropped */
	om_usec ts;            /* when the file ended */
} om_av_alert;
/* Writes the "av" object of a result (result, engine, version, signature,
 * yara_rule, database, not_scanned) for fileinfo and alert records. */
void om_av_result_json(om_json *j, const om_av_result *r);
/* Called on the file's worker thread. */
typedef void (*om_av_alert_cb)(void *user, unsigned worker, const om_av_alert *a);

/* Subscribes av to p's files. Offline (async false) each file is scanned on
 * its worker when it ends, so its fileinfo record carries the verdict.
 * Inline (async true) the file goes to cfg.threads scanner threads: close
 * answers PENDING and the threads post the verdict with
 * om_file_verdict_post (DROP when drop is set, else ALERT), so the gateway
 * holds the file's last packet until then; the alert is given to cb from
 * om_av_worker_poll on the worker. Before the workers start. */
int om_av_subscribe(om_av *av, om_proto *p, bool async, bool drop, om_av_alert_cb cb, void *user);
/* Inline: gives the finished scans of worker to cb; returns how many. */
unsigned om_av_worker_poll(om_av *av, unsigned worker);

/* 'omamori av scan|info [--db DIR] [--yara PATH] [FILE...]'; argv[0] is "av";
 * cfg is the configuration's av: section. */
int om_av_main(int argc, char **argv, enum om_lang lang, const om_av_config *cfg);

#endif
