/* webscan's private contract between its files: the arena, the HTTP engine
 * (libcurl multi), the HTML reader (gumbo), the scan state, findings, checks
 * and the tamper monitor's page fingerprints. Nothing here crosses the
 * module boundary; webscan.h is the public face. */
#ifndef OMAMORI_WEBSCAN_INTERNAL_H
#define OMAMORI_WEBSCAN_INTERNAL_H

#include "base/base.h"
#include "webscan/webscan.h"

#include <regex.h>
#include <signal.h>

/* ---- hard caps -------------------------------------------------------------- */
#define WS_MAX_BODY (4u * 1024 * 1024)     /* response body kept per request */
#define WS_MAX_HEADERS (64u * 1024)        /* response header block */
#define WS_MAX_URL 4096                    /* longer URLs are skipped */
#define WS_MAX_PAGES 100000                /* --max-pages ceiling */
#define WS_MAX_FORM_FIELDS 64              /* fields kept per form */
#define WS_MAX_POINTS 4000                 /* insertion points per scan */
#define WS_MAX_FINDINGS 5000               /* findings per scan */
#define WS_MAX_EXCLUDES 32                 /* --exclude patterns */
#define WS_MAX_LINKS 4096                  /* links kept per page */
#define WS_ARENA_MAX (1024u * 1024 * 1024) /* memory for one scan */
#define WS_MAX_RELOGIN 20                  /* logins per scan after the first */
#define WS_MARK_LEN 12                     /* "omz" + 9 characters */

/* ---- arena: scan-lifetime memory --------------------------------------------- */
typedef struct ws_arena {
	struct ws_chunk *head;
	size_t used, max;
	bool failed;
} ws_arena;
void ws_arena_init(ws_arena *a, size_t max);
void ws_arena_free(ws_arena *a);
void *ws_alloc(ws_arena *a, size_t n); /* zeroed; NULL once over max */
char *ws_strndup(ws_arena *a, const char *s, size_t n);
char *ws_strdup(ws_arena *a, const char *s); /* NULL stays NULL */
char *ws_printf(ws_arena *a, const char *fmt, ...) OM_PRINTF(2, 3);

/* ---- classes ---------------------------------------------------------------- */
enum ws_class {
	WS_XSS_REFLECTED,
	WS_XSS_STORED,
	WS_XSS_DOM,
	WS_SQLI,
	WS_SQLI_BLIND,
	WS_OS_COMMAND,
	WS_PATH_TRAVERSAL,
	WS_FILE_INCLUSION,
	WS_DIR_INDEX,
	WS_CSRF,
	WS_OPEN_REDIRECT,
	WS_FILE_UPLOAD,
	WS_BACKUP_FILE,
	WS_INFO_LEAK,
	WS_HEADER,
	WS_COOKIE,
	WS_TLS,
	WS_BANNER,
	WS_CLASS_COUNT
};
extern const char *const ws_class_names[WS_CLASS_COUNT];
int ws_class_parse(const char *s, enum ws_class *ret);

enum ws_level { WS_NONE = 0, WS_LOW, WS_MEDIUM, WS_HIGH };
const char *ws_level_name(enum ws_level l); /* "none", "low", "medium", "high" */

typedef struct ws_finding {
	enum ws_class cls;
	const char *url; /* the page or form action, without the probe */
	const char *method;
	const char *param; /* NULL: not about one parameter */
	enum ws_level severity, confidence;
	const char *request; /* the request that shows it */
	const char *excerpt; /* part of the response that shows it */
	const char *detail;  /* short technical note (English, not translated) */
} ws_finding;

/* ---- HTTP ------------------------------------------------------------------ */
typedef struct ws_field {
	const char *name, *value;
	const char *type; /* input type in lower case, "select", "textarea", "button" */
	const char *filename, *filetype; /* for type "file" with content in value */
} ws_field;

typedef struct ws_req {
	const char *url;
	const char *method;   /* "GET", "POST", "HEAD" */
	const char *post;     /* urlencoded body or NULL */
	const ws_field *mime; /* multipart fields (nmime) instead of body */
	size_t nmime;
	long timeout_ms; /* 0: the default */
	/* filled in by ws_http_run */
	bool done;
	long status;
	int curl_code;
	double secs;
	om_buf headers; /* raw header block of the last response */
	om_buf body;
	char ctype[128];     /* Content-Type, "" when none */
	char location[2048]; /* Location, "" when none */
} ws_req;

typedef struct ws_http ws_http;
struct ws_http_opts {
	double rate; /* requests per second, > 0 */
	unsigned concurrency;
	long timeout_ms;
	const char *user_agent;
	const char *http_user, *http_password; /* basic/digest, or NULL */
	bool insecure;                         /* do not verify TLS certificates */
	volatile sig_atomic_t *stop;
	om_usec deadline; /* 0: none */
};
int ws_http_new(const struct ws_http_opts *o, ws_http **ret, char *err, size_t errlen);
ws_http *ws_http_free(ws_http *h);
/* Runs n requests, at most concurrency at a time and rate per second.
 * Returns 0 (each req done or not, see ->done), or -EINTR once stopped or
 * past the deadline. conc 0: the default concurrency. */
int ws_http_run(ws_http *h, ws_req *reqs, size_t n, unsigned conc);
void ws_req_reset(ws_req *r);
void ws_req_free(ws_req *r);
uint64_t ws_http_requests(const ws_http *h);
/* n-th value (0-based) of header name in a raw block, copied into out;
 * false when absent. */
bool ws_header_get(const char *hdrs, size_t len, const char *name, unsigned nth, char *out,
                   size_t outlen);
/* Probe for legacy TLS (<= 1.1) and certificate problems on an https URL;
 * writes findings through cb. */
struct ws_scan;
void ws_tls_check(struct ws_scan *s, const char *url);

/* ---- URLs ------------------------------------------------------------------ */
/* Resolves ref against base; strips the fragment. NULL when not http(s) or
 * malformed or longer than WS_MAX_URL. */
char *ws_url_resolve(ws_arena *a, const char *base, const char *ref);
/* Parts of an absolute URL, arena copies; 0 or -EINVAL. */
typedef struct ws_url {
	const char *scheme, *host, *path, *query; /* query NULL when none */
	unsigned port;
} ws_url;
int ws_url_split(ws_arena *a, const char *url, ws_url *ret);
/* Percent-encoding for query strings and form bodies. */
void ws_urlencode(om_buf *b, const char *s);
/* Decodes a query or body "a=1&b=2" into fields (type "query"); count. */
size_t ws_query_parse(ws_arena *a, const char *q, ws_field *out, size_t max);
/* "scheme://host:port/path" without query. */
char *ws_url_noquery(ws_arena *a, const char *url);

/* ---- HTML ------------------------------------------------------------------ */
typedef struct ws_form {
	const char *action; /* absolute */
	const char *method; /* "GET" or "POST" */
	bool multipart;
	ws_field fields[WS_MAX_FORM_FIELDS];
	size_t nfields;
	bool has_password, has_file;
} ws_form;

typedef struct ws_html {
	const char **links; /* absolute, from a, area, link, frame, iframe, form actions */
	size_t nlinks;
	ws_form *forms;
	size_t nforms;
	const char **scripts; /* inline script texts */
	size_t nscripts;
	const char **script_src, **iframe_src; /* absolute */
	size_t nscript_src, niframe_src;
	const char **hidden_links; /* links inside hidden elements */
	size_t nhidden_links;
	const char *title;
	const char *generator;      /* <meta name=generator> */
	const char **insecure_refs; /* http:// subresources (for https pages) */
	size_t ninsecure;
	om_buf text;       /* visible text, whitespace collapsed */
	uint64_t dom_hash; /* normalised DOM: tags, stable attributes, text */
	bool dir_listing;
} ws_html;
/* Parses a page. The arena holds every string; text is freed by
 * ws_html_free. 0 or -ENOMEM. */
int ws_html_parse(ws_arena *a, const char *html, size_t len, const char *base, ws_html *ret);
void ws_html_free(ws_html *h);

/* Where a marker lands in a document, as a bit mask. */
enum {
	WS_CTX_TEXT = 1,
	WS_CTX_ATTR_DQ = 2,
	WS_CTX_ATTR_SQ = 4,
	WS_CTX_ATTR_UQ = 8,
	WS_CTX_URL_ATTR = 16, /* the start of an href/src/action value */
	WS_CTX_SCRIPT = 32,
	WS_CTX_COMMENT = 64,
	WS_CTX_STYLE = 128,
	WS_CTX_EVENT_ATTR = 256, /* inside an on* handler */
};
unsigned ws_html_contexts(const char *html, size_t len, const char *marker);
/* True when the parsed document has an element with an attribute named
 * attr (the XSS proof: our payload became markup), or an href/src that
 * starts with "javascript:" + marker. */
bool ws_html_has_attr(const char *html, size_t len, const char *attr);
bool ws_html_has_js_url(const char *html, size_t len, const char *marker);
/* URLs in script or JSON text: quoted strings that look like paths or
 * http(s) URLs, resolved against base, passed to cb. */
void ws_extract_urls(ws_arena *a, const char *text, size_t len, const char *base,
                     void (*cb)(void *user, const char *url), void *user);

/* ---- DOM XSS: static analysis of an inline script ---------------------------- */
/* Returns true when a value from the URL (location, document.URL,
 * URLSearchParams, document.referrer, window.name) reaches an HTML or code
 * sink (innerHTML, outerHTML, document.write, insertAdjacentHTML, eval,
 * setTimeout/Function with a string, jQuery .html()) without an encoder;
 * *ret_line gets the sink's statement (arena copy). */
bool ws_dom_xss(ws_arena *a, const char *script, size_t len, const char **ret_line);

/* ---- the scan -------------------------------------------------------------- */
typedef struct ws_point {
	const char *url; /* action without the query */
	const char *method;
	bool multipart;
	ws_field fields[WS_MAX_FORM_FIELDS];
	size_t nfields;
	const char *page;  /* page the form is on (for fresh tokens) */
	bool has_token;    /* a hidden anti-CSRF field */
	bool has_password; /* a password field: never submitted by the checks */
} ws_point;

typedef struct ws_page {
	const char *url;
	long status;
	uint64_t body_hash;
	bool html;
} ws_page;

/* The tamper check of one page inside a scan (--baseline). */
typedef struct ws_tamper_row {
	const char *url;
	om_usec baseline, checked;
	const char *changes; /* NULL: unchanged; else "iframe, script" */
} ws_tamper_row;

typedef struct ws_scan {
	ws_arena arena;
	const om_webscan_opts *o;
	ws_http *http;
	enum om_lang lang;
	om_usec started, finished;
	ws_url target;
	const char *scope_prefix;
	regex_t excl[WS_MAX_EXCLUDES + 2];
	size_t nexcl;
	/* crawl */
	ws_page *pages;
	size_t npages, cap_pages;
	uint64_t *seen; /* open addressing set of URL hashes, 0 = empty */
	size_t seen_cap, nseen;
	const char **queue;
	int *qdepth;
	size_t qhead, qtail, qcap;
	ws_point *points;
	size_t npoints;
	/* findings */
	ws_finding *findings;
	size_t nfindings;
	uint64_t dropped_findings;
	/* auth */
	bool logged_in;
	const char *login_action; /* form action of the login form */
	unsigned relogins;
	/* soft 404 fingerprints per directory */
	const char *soft404_dir[64];
	uint64_t soft404_hash[64];
	long soft404_status[64];
	size_t nsoft404;
	/* stored XSS: markers sent, by insertion point */
	struct {
		char mark[WS_MARK_LEN + 1];
		size_t point, field;
	} marks[2048];
	size_t nmarks;
	/* cookies the site sets: how many distinct names, how many with
	 * SameSite=Lax or Strict (a CSRF defence) */
	unsigned cookies_total, cookies_samesite;
	/* the tamper check inside a scan */
	struct ws_tamper *tamper;
	ws_tamper_row *tamper_rows;
	size_t ntamper;
	/* the tamper monitor's view of each HTML page of the crawl */
	void (*on_page)(void *user, struct ws_scan *s, const ws_req *r, const ws_html *h);
	void *on_page_user;
	bool stopped;
	bool progress;
	om_usec last_progress;
	char rnd[16];
	unsigned rndn;
} ws_scan;

/* The probe value of a scan, "omz" + 9 random letters/digits, unique per call. */
void ws_mark(ws_scan *s, char out[WS_MARK_LEN + 1]);
bool ws_in_scope(ws_scan *s, const char *url);
/* Adds key to the scan's seen set; false when it was there (or the set is full). */
bool ws_seen_add(ws_scan *s, const char *key);
/* Adds a finding (deduplicated by class, url, param); strings are copied. */
void ws_add(ws_scan *s, enum ws_class cls, const char *url, const char *method, const char *param,
            enum ws_level sev, enum ws_level conf, const char *request, const char *excerpt,
            const char *detail);
/* The request line(s) of a sent request, for evidence. */
const char *ws_req_text(ws_scan *s, const ws_req *r);
/* An excerpt of the response around needle (or its start). */
const char *ws_excerpt(ws_scan *s, const ws_req *r, const char *needle);
/* Runs requests with logout detection and login again. */
int ws_fetch(ws_scan *s, ws_req *reqs, size_t n, unsigned conc);
int ws_login(ws_scan *s);
void ws_progress(ws_scan *s, bool force);

/* scan.c: the safety gate and the scan's state (setup then free) */
int ws_scan_setup(ws_scan *s, const om_webscan_opts *o, enum om_lang lang, char *err,
                  size_t errlen);
void ws_scan_free(ws_scan *s);

/* crawl.c */
int ws_crawl(ws_scan *s);
/* Builds a request from an insertion point with field i set to value
 * (i == SIZE_MAX: as found). Fresh hidden values are fetched first when the
 * point has a token. */
void ws_point_req(ws_scan *s, const ws_point *p, size_t i, const char *value, ws_req *r);
int ws_point_refresh(ws_scan *s, ws_point *p);
bool ws_soft404(ws_scan *s, const char *url, const ws_req *r);

/* checks.c: active checks on the insertion points, then site checks */
int ws_check_points(ws_scan *s);
int ws_check_site(ws_scan *s);
/* passive.c: on every response of the crawl */
void ws_passive(ws_scan *s, const ws_req *r, const ws_html *h);
/* Pure helpers, exposed for the unit tests. */
bool ws_sql_error(const char *body, size_t len, const char **ret_dbms);
bool ws_passwd_leak(const char *body, size_t len);
double ws_similarity(const char *a, size_t alen, const char *b, size_t blen);
bool ws_token_name(const char *name);
bool ws_token_value_strong(const char *v);
bool ws_version_banner(const char *v);
/* The content of a file fetched as a backup guess (name) shows it is one. */
bool ws_backup_content(const char *name, const ws_req *r);
/* A file name ending like a backup or configuration copy (.bak, ~, .old, ...). */
bool ws_backup_name(const char *url);

/* output.c */
int ws_output(ws_scan *s, const char *format, const char *path, char *err, size_t errlen);

/* ---- tamper monitor --------------------------------------------------------- */
#define WS_MINHASH 64
#define WS_MAX_BASE_ITEMS 256
typedef struct ws_print {
	const char *url;
	om_usec ts;
	uint64_t dom_hash;
	uint32_t text_len;
	uint64_t minhash[WS_MINHASH];
	const char *items[WS_MAX_BASE_ITEMS]; /* "L host", "S url", "I url", "H hash" */
	size_t nitems;
} ws_print;
void ws_print_make(ws_arena *a, const char *url, const ws_html *h, om_usec ts, ws_print *ret);
/* Baseline file: "omamori-webscan-baseline 1" then per page
 * "page URL TS DOMHASH TEXTLEN", "mh h1 ... h64", "item KIND VALUE", "end".
 * Parser errors name the line. */
int ws_baseline_parse(ws_arena *a, const char *text, size_t len, ws_print *out, size_t max,
                      size_t *ret_n, char *err, size_t errlen);
void ws_baseline_write(const ws_print *p, size_t n, om_buf *out);
double ws_minhash_similarity(const ws_print *a, const ws_print *b);
/* An obfuscated script: eval/unescape/atob/fromCharCode with long encoded
 * strings, or a long hex/base64 run. */
bool ws_script_obfuscated(const char *s, size_t len);
int ws_watch_main(int argc, char **argv, enum om_lang lang);
/* The scan's tamper check: load the baseline and fingerprint the pages of
 * the crawl (begin, before it), then compare (end, after it) into
 * s->tamper_rows. */
int ws_scan_tamper_begin(ws_scan *s, const char *path, char *err, size_t errlen);
void ws_scan_tamper_end(ws_scan *s);

#endif
