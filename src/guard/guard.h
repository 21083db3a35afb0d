/* guard: security checks that sit after decoding. This first part is scan
 * detection (recon): vertical port scans, horizontal scans and ICMP ping
 * sweeps from sources outside home-net. Uses base and net. */
#ifndef OMAMORI_GUARD_H
#define OMAMORI_GUARD_H

#include "base/base.h"
#include "net/net.h"
#include "proto/proto.h"

/* Settings (the recon: section of the configuration). */
typedef struct om_guard_config {
	uint32_t recon_window;           /* seconds */
	uint32_t recon_vertical_ports;   /* distinct ports on one host */
	uint32_t recon_horizontal_hosts; /* distinct hosts on one port */
	uint32_t recon_sweep_hosts;      /* distinct hosts pinged */
	uint32_t recon_max_sources;      /* tracked sources (memory cap) */
} om_guard_config;
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

enum om_wf_format {
	OM_WF_FMT_AUTO = 0, /* by content: hosts file, CSV, plain list; a directory is squidGuard */
	OM_WF_FMT_PLAIN,    /* one domain or URL a line; '#' comments */
	OM_WF_FMT_HOSTS,    /* "0.0.0.0 name [name...]" lines */
	OM_WF_FMT_CSV,      /* "domain,category[,...]" lines; a header line is skipped */
	OM_WF_FMT_SQUIDGUARD, /* a directory of <category>/domains and <category>/urls files */
};

typedef struct om_wf_import_stats {
	uint64_t lines;
	uint64_t added;    /* rules added or given a new category */
	uint64_t rejected; /* lines that are not a valid rule */
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
 * '-', '_', '.', or UTF-8) or -ENAMETOOLONG. */
int om_wf_norm_host(const char *in, size_t len, char *out, size_t outsz);

int om_wf_builder_new(om_wf_builder **ret);
om_wf_builder *om_wf_builder_free(om_wf_builder *b);
/* Adds a rule (a domain, or a URL without or with scheme) with a category;
 * adding a rule again adds the category. Returns 0, 1 when nothing changed,
 * -EINVAL for a rule or category name that is not valid, -ENOSPC at the
 * rule or category cap. */
int om_wf_builder_add(om_wf_builder *b, const char *rule, size_t len, const char *category);
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

/* Opens a database file read-only (memory-mapped). -EINVAL: not a database
 * or damaged; -errno from the system. */
int om_wf_db_open(const char *path, om_wf_db **ret);
om_wf_db *om_wf_db_close(om_wf_db *db);
/* Looks up a request: host (as sent, normalised here) and optionally the
 * path (NULL/0 for a name alone: SNI, DNS). Returns 0 with *ret set, or
 * -ENOENT when no rule matches, -EINVAL when host is not a valid name. */
int om_wf_db_lookup(const om_wf_db *db, const char *host, size_t hlen, const char *path,
                    size_t plen, om_wf_match *ret);
uint64_t om_wf_db_rules(const om_wf_db *db);
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
	char rule[OM_WF_KEY_MAX]; /* the rule that decided */
} om_wf_decision;

/* Decides on a request; db and policy may be NULL (no categories / no
 * policy). Returns 0, or -EINVAL when host is not a valid name. */
int om_wf_decide(const om_wf_db *db, const om_wf_policy *pol, const char *host, size_t hlen,
                 const char *path, size_t plen, om_wf_decision *ret);

/* The web filter as a proto observer: decides on HTTP host and URI, TLS and
 * QUIC SNI and each DNS query name, and gives every listed, allowed or
 * blocked request to cb (the engine writes the EVE "webfilter" event). A
 * blocked request is OM_TX_VERDICT_DROP, a listed one in a category of
 * listed_alert OM_TX_VERDICT_ALERT. */
typedef struct om_wf_event {
	const om_wf_decision *d;
	const char *field; /* "http.host", "tls.sni", "dns.query" */
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
/* Fills o to observe with filt (which must outlive the workers). */
void om_wf_observer(om_proto_observer *o, om_wf_filter *filt);
/* The observer's decision on one transaction (what on_tx does). */
enum om_tx_verdict om_wf_on_tx(const om_wf_filter *filt, void *cb_user, om_flow *f,
                               const om_proto_tx *tx);

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
#define OM_SPAM_SIGNS_MAX 8
#define OM_SPAM_DOMAINS_MAX 32 /* own and partner domains in the configuration */
#define OM_SPAM_DOMAIN_LEN 254
#define OM_SPAM_TOKENS_MAX 4096u  /* distinct tokens of one message used */
#define OM_SPAM_DB_MAX (1u << 23) /* tokens in one database */

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
 * combining of at most 150 telling tokens), or -1 when the database has
 * not learnt both ham and spam yet. */
double om_spam_db_classify(const om_spam_db *db, const om_proto_tx *tx);
/* The same from a token list (tests, the benchmark). */
double om_spam_db_classify_tokens(const om_spam_db *db, const uint64_t *h, size_t n);
uint64_t om_spam_token_hash(const char *tok, size_t len);

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
	enum om_spam_auth spf, dkim, dmarc; /* UNKNOWN: read Authentication-Results */
} om_spam_env;

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
	bool malware_attachment; /* a dangerous attachment (executable, double extension) */
} om_spam_result;

void om_spam_check(const om_spam_config *cfg, const om_proto_tx *tx, const om_spam_env *env,
                   om_spam_result *ret);
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
