/* drill: targeted-attack mail drills. This part: the target list (CSV and
 * XLSX import, groups, exclusions) and the `omamori drill` command. Uses
 * base, store and report. */
#ifndef OMAMORI_DRILL_H
#define OMAMORI_DRILL_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "base/base.h"
#include "store/store.h"

/* Hard caps of one imported file. */
#define OM_DRILL_MAX_ROWS 100000u
#define OM_DRILL_MAX_COLS 64u
#define OM_DRILL_MAX_FIELD 512u
#define OM_DRILL_MAX_FILE (64u << 20)

/* A parsed sheet: rows of cells with the line (CSV) or row number (XLSX)
 * each row came from. Row 0 is the header. */
typedef struct om_drill_sheet {
	size_t nrows;
	struct om_drill_srow {
		unsigned line;
		unsigned ncells;
		char **cell;
	} * row;
} om_drill_sheet;

/* The targets read from one file; strings are owned by the list. */
typedef struct om_drill_targets {
	size_t n;
	om_store_drill_target *t;
	om_buf strings; /* backing store of the strings */
	char **owned;
	size_t nowned;
} om_drill_targets;

/* Parses CSV (UTF-8, optional BOM, RFC 4180 quoting, comma or tab
 * separated, CRLF or LF). On error returns -EINVAL with "FILE:LINE: what"
 * in err. */
int om_drill_csv_parse(const char *name, const char *data, size_t len, om_drill_sheet *ret,
                       enum om_lang lang, char *err, size_t errlen);
/* Parses the first worksheet of an XLSX file (shared and inline strings,
 * numbers as written). Errors as om_drill_csv_parse, with the row number. */
int om_drill_xlsx_parse(const char *name, const void *data, size_t len, om_drill_sheet *ret,
                        enum om_lang lang, char *err, size_t errlen);
void om_drill_sheet_free(om_drill_sheet *s);

/* Maps the header (English or Japanese column names: name/氏名,
 * mail/メールアドレス, organisation/会社, department/部署, role/役職,
 * group/グループ; other columns become custom fields) and checks every
 * row: a mail address is required and must look like one, no address twice.
 * The first bad row fails the whole file with its line number. */
int om_drill_targets_from_sheet(const char *name, const om_drill_sheet *s, om_drill_targets *ret,
                                enum om_lang lang, char *err, size_t errlen);
void om_drill_targets_free(om_drill_targets *t);
/* Reads FILE (.xlsx by its zip signature, else CSV) into targets. */
int om_drill_targets_load(const char *path, om_drill_targets *ret, enum om_lang lang, char *err,
                          size_t errlen);

/* 1 if mail looks like an address we can send to, else 0. */
int om_drill_mail_valid(const char *mail);

/* ---- templates ---- */
/* A drill mail template: header lines "key: value" (subject, from-name,
 * attachment), a line "---", then the plain-text body. Values and body hold
 * variables {{name}}, {{mail}}, {{organisation}}, {{department}},
 * {{role}}, {{date}}, {{sender}}, {{link}}, {{report_link}} and
 * {{custom.KEY}} (a custom column of the target list). Strings point into
 * the text given to om_drill_template_parse (the shipped ones are static). */
typedef struct om_drill_template {
	char name[64];
	enum om_lang lang;
	const char *subject, *from_name, *attachment, *body;
	size_t subject_len, from_name_len, attachment_len, body_len;
} om_drill_template;

/* The values of one recipient in one round. URLs are made by the tracking
 * server from the recipient's token; NULL ones expand to "". */
typedef struct om_drill_vars {
	const om_store_drill_target *target;
	const char *sender;      /* the name a template signs with */
	const char *date;        /* e.g. "2026-12" */
	const char *link;        /* the click link */
	const char *report_link; /* "I report this mail" */
	const char *open_url;    /* the open image */
	const char *attach_url;  /* called back by the attachment */
	const char *landing_url; /* the page that reveals the drill */
	const char *submit_url;  /* where the attachment's sign-in form posts */
	const char *token;       /* per recipient and round */
	const char *title;       /* the attachment's name, shown in its page */
} om_drill_vars;

int om_drill_template_parse(const char *name, const char *text, size_t len, om_drill_template *ret,
                            enum om_lang lang, char *err, size_t errlen);
unsigned om_drill_template_count(void);
/* The i-th shipped template (parsed from the embedded text). */
int om_drill_template_get(unsigned i, om_drill_template *ret);
/* A shipped template by name ("invoice") and language: -ENOENT if none. */
int om_drill_template_find(const char *name, enum om_lang lang, om_drill_template *ret);
/* Appends text with its variables replaced. OM_DRILL_HTML: values
 * HTML-escaped (for a page); OM_DRILL_HTML_LINKS: also {{link}} and
 * {{report_link}} as <a> links (for a text body shown as HTML). -EINVAL on
 * an unknown variable, -E2BIG when out is full. */
enum om_drill_expand_mode { OM_DRILL_TEXT, OM_DRILL_HTML, OM_DRILL_HTML_LINKS };
int om_drill_expand(const char *text, size_t len, const om_drill_vars *v,
                    enum om_drill_expand_mode mode, om_buf *out);
/* The landing page (reveals the drill, teaches, offers the report link). */
int om_drill_landing(enum om_lang lang, const om_drill_vars *v, om_buf *out);

/* ---- mail ---- */
enum om_drill_charset {
	OM_DRILL_CS_ISO2022JP, /* text/plain in ISO-2022-JP 7bit (UTF-8 when it cannot) */
	OM_DRILL_CS_UTF8,      /* text/plain in UTF-8 base64 */
};
typedef struct om_drill_mail_opts {
	const char *from_addr; /* the sender address */
	const char *msgid_domain;
	om_usec date;
	enum om_drill_charset charset;
} om_drill_mail_opts;
/* RFC 2047 encoded words for a header value (ISO-2022-JP or UTF-8, B
 * encoding); plain ASCII is kept as it is. Lines folded at 76. */
int om_drill_header_encode(const char *s, size_t n, enum om_drill_charset cs, size_t first_col,
                           om_buf *out);
/* The whole message (RFC 5322, MIME): multipart/mixed of a
 * multipart/alternative (text and HTML with the open image) and, when the
 * template has one, the HTML attachment that calls back. CRLF line ends.
 * Header X-Omamori-Drill carries the token so a mail filter can let drill
 * mail through. ret_charset: the charset actually used for the text. */
int om_drill_message(const om_drill_template *t, const om_drill_vars *v,
                     const om_drill_mail_opts *o, om_buf *out, enum om_drill_charset *ret_charset);

/* ---- tracking ---- */
/* A token: 32 lower-case hex digits (128 random bits) and a NUL. */
#define OM_DRILL_TOKEN_LEN 32u
int om_drill_token_new(char ret[OM_DRILL_TOKEN_LEN + 1]);
bool om_drill_token_valid(const char *s, size_t n);

/* What a tracking request records. LANDING records nothing (the page a
 * click leads to). */
enum om_drill_kind {
	OM_DRILL_EV_OPEN = 0, /* the open image:        GET /t/o/TOKEN.gif */
	OM_DRILL_EV_CLICK,    /* the link:              GET /t/c/TOKEN */
	OM_DRILL_EV_ATTACH,   /* the attachment's image: GET /t/a/TOKEN.gif */
	OM_DRILL_EV_SUBMIT,   /* the attachment's form:  POST /t/s/TOKEN */
	OM_DRILL_EV_REPORT,   /* the report link (GET /t/r/TOKEN) or a report mail */
	OM_DRILL_EV__COUNT,
	OM_DRILL_EV_LANDING = OM_DRILL_EV__COUNT, /* GET /t/l/TOKEN */
};
const char *om_drill_kind_name(enum om_drill_kind k);
/* -EINVAL when name is none of "open", "click", ... */
int om_drill_kind_parse(const char *name, enum om_drill_kind *ret);
/* Parses a request path (a query string is ignored). -EINVAL when it is
 * not a tracking path; ret_token gets the token. */
int om_drill_track_parse(const char *path, size_t len, enum om_drill_kind *ret_kind,
                         char ret_token[OM_DRILL_TOKEN_LEN + 1]);
/* The URL of kind for token under base (e.g. "https://drill.example.jp"). */
int om_drill_track_url(const char *base, enum om_drill_kind k, const char *token, om_buf *out);

/* Link scanners and mail-security sandboxes: why an event is taken for
 * one (bits). */
#define OM_DRILL_SCAN_UA 1u    /* a user agent of a scanner, or none */
#define OM_DRILL_SCAN_RANGE 2u /* from a configured address range */
#define OM_DRILL_SCAN_FAST 4u  /* a click within seconds of delivery */
#define OM_DRILL_SCAN_BURST 8u /* several different links at once */
#define OM_DRILL_MAX_NETS 64u
typedef struct om_drill_scan_cfg {
	unsigned fast_secs; /* default 10 */
	unsigned burst_ms;  /* default 2000 */
	unsigned nnets;
	struct om_drill_net {
		uint8_t addr[16];
		uint8_t v6, bits;
	} net[OM_DRILL_MAX_NETS];
} om_drill_scan_cfg;
void om_drill_scan_defaults(om_drill_scan_cfg *c);
/* Adds "192.0.2.0/24" or "2001:db8::/32" (a plain address: the host). */
int om_drill_scan_net_add(om_drill_scan_cfg *c, const char *cidr);
/* OM_DRILL_SCAN_UA and OM_DRILL_SCAN_RANGE as they can be told when the
 * request comes. */
unsigned om_drill_scan_request(const om_drill_scan_cfg *c, const char *ip, const char *ua);
/* One tracking event of a recipient, for the timing rules. */
typedef struct om_drill_ev {
	enum om_drill_kind kind;
	int64_t at;     /* microseconds */
	unsigned flags; /* in: the request flags; out: with FAST and BURST */
	bool web;       /* came over HTTP (a report mail is never a scanner) */
} om_drill_ev;
/* Adds FAST (a click, attachment, form or report link within fast_secs of
 * sent_at) and BURST (two different links — click, report link,
 * attachment image; not the form — within burst_ms) to the
 * events of one recipient, sorted by time. The open image is judged by
 * user agent and range only. */
void om_drill_scan_timing(const om_drill_scan_cfg *c, int64_t sent_at, om_drill_ev *ev, size_t n);

/* ---- mail read back (report address, bounces) ---- */
#define OM_DRILL_MAX_MAIL (16u << 20)
#define OM_DRILL_SCAN_TOKENS 8u
typedef struct om_drill_mailscan {
	bool dsn;    /* a delivery status notification (multipart/report) */
	bool failed; /* ... saying Action: failed */
	unsigned ntokens;
	char token[OM_DRILL_SCAN_TOKENS][OM_DRILL_TOKEN_LEN + 1];
	char final_rcpt[256]; /* a DSN's Final-Recipient address */
} om_drill_mailscan;
/* Finds drill tokens in a mail (the X-Omamori-Drill header, tracking
 * URLs; also inside base64 and quoted-printable parts, so a drill mail
 * forwarded or attached counts) and whether it is a bounce. Hostile input:
 * bounded, never fails on content. */
void om_drill_mail_scan(const char *data, size_t len, om_drill_mailscan *ret);

/* ---- schedule ---- */
/* Local broken-down time of t in zone tz (an IANA name). */
int om_drill_localtime(int64_t t, const char *tz, struct tm *ret);
/* The first time >= t (microseconds) that is on one of days (bit 0
 * Sunday) between hour_start and hour_end local time in tz. -EINVAL when
 * the window is empty. */
int om_drill_window_next(int64_t t, const char *tz, unsigned days, unsigned hour_start,
                         unsigned hour_end, int64_t *ret);
/* The wait before try number attempts+1 after a transient failure:
 * 60 s doubling, at most an hour. */
int64_t om_drill_backoff(unsigned attempts);
/* Parses "mon-fri", "mon,wed,fri", "sat-sun" into a day mask. */
int om_drill_days_parse(const char *s, unsigned *ret);
/* Parses "9-17" into [start, end) hours. */
int om_drill_hours_parse(const char *s, unsigned *ret_start, unsigned *ret_end);
/* Parses "YYYY-MM-DDTHH:MM" as local time in tz. */
int om_drill_local_parse(const char *s, const char *tz, int64_t *ret);
/* Parses "90", "90s", "30m", "2h", "1d" into microseconds. */
int om_drill_duration_parse(const char *s, int64_t *ret);

/* ---- sending ---- */
typedef struct om_drill_smtp {
	const char *url; /* smtp://host:port or smtps://host */
	const char *user, *password, *cacert;
	bool starttls; /* require STARTTLS on smtp:// */
	bool insecure; /* do not verify the certificate (tests only) */
	void *curl;    /* reused connection (om_drill_smtp_close) */
} om_drill_smtp;
/* 0 sent; -EAGAIN a transient failure (4xx, connection); -EPERM a
 * permanent refusal (5xx): a bounce; -EACCES login refused. detail gets
 * the server's answer or curl's error. */
int om_drill_smtp_send(om_drill_smtp *c, const char *from, const char *rcpt, const char *msg,
                       size_t len, char *detail, size_t detail_len);
void om_drill_smtp_close(om_drill_smtp *c);

/* ---- rounds ---- */
/* Makes round r from the targets of r->group_name (all when empty),
 * leaving out excluded ones: a token and a due time each. -ENOENT when no
 * target is left, -EEXIST when the round exists. */
int om_drill_round_create(om_store *s, const om_store_drill_round *r, size_t *ret_n,
                          size_t *ret_excluded, char *err, size_t errlen);
/* The message of one recipient of round r, dated now. */
int om_drill_round_message(const om_store_drill_round *r, const om_store_drill_recipient *p,
                           om_usec now, om_buf *out);
typedef struct om_drill_send_opts {
	bool wait;                /* wait for recipients due later */
	unsigned max_attempts;    /* default 5 */
	volatile const int *stop; /* set non-zero to stop (a signal) */
} om_drill_send_opts;
typedef struct om_drill_send_stats {
	unsigned sent, bounced, failed, retried, pending;
} om_drill_send_stats;
/* Sends what is due of round, at most the round's rate a minute, within
 * its window; with o->wait until nothing is left. -EACCES when the server
 * refused the login (nothing more is tried). */
int om_drill_round_send(om_store *s, const char *round, om_drill_smtp *smtp,
                        const om_drill_send_opts *o, om_drill_send_stats *ret, char *err,
                        size_t errlen);

/* ---- the tracking server and the mailbox ---- */
typedef struct om_drill_serve_opts {
	const char *addr; /* address to listen on, e.g. "127.0.0.1" */
	unsigned port;
	om_drill_scan_cfg scan;
	bool behind_proxy; /* the client is the last X-Forwarded-For address */
	volatile const int *stop;
	void (*ready)(void *user); /* called once listening */
	void *ready_user;
} om_drill_serve_opts;
/* Serves the tracking paths until *stop. */
int om_drill_serve(om_store *s, const om_drill_serve_opts *o, char *err, size_t errlen);
typedef struct om_drill_imap {
	const char *url; /* imaps://host/INBOX or imap://host:143/INBOX */
	const char *user, *password, *cacert;
	bool starttls, insecure;
} om_drill_imap;
typedef struct om_drill_poll_stats {
	unsigned mails, reports, bounces, ignored;
} om_drill_poll_stats;
/* Reads the mails of the report mailbox not yet read by it (those
 * without the keyword OmamoriDrillRead, which it sets): a mail that
 * carries a known token counts as that recipient's report; a bounce (DSN,
 * Action: failed) marks the recipient bounced. */
int om_drill_imap_poll(om_store *s, const om_drill_imap *c, om_drill_poll_stats *ret, char *err,
                       size_t errlen);
/* The UIDs of an IMAP "* SEARCH" answer (at most max; 0 is no UID). */
size_t om_drill_imap_uids(const char *resp, size_t len, uint64_t *uids, size_t max);
/* What one read mail means for the store (used by om_drill_imap_poll). */
int om_drill_mail_ingest(om_store *s, const char *data, size_t len, om_usec at,
                         om_drill_poll_stats *st);

/* ---- results ---- */
#define OM_DRILL_MIN_GROUP 5u
/* A group of recipients by a label (department, role, organisation). */
typedef struct om_drill_cell {
	char label[192];
	unsigned n;                        /* recipients sent to */
	unsigned did[OM_DRILL_EV__COUNT];  /* recipients who did it (people) */
	unsigned scan[OM_DRILL_EV__COUNT]; /* scanner events, counted apart */
	bool merged;                       /* holds groups below the minimum */
} om_drill_cell;
/* Merges groups with fewer than min recipients into one "other" group
 * (label other); if that one is still below min, the smallest groups join
 * it until it is not, or nothing is left. Returns the new count. */
size_t om_drill_merge_small(om_drill_cell *c, size_t n, unsigned min, const char *other);

/* The results of one round (opaque). Recipients count once per thing
 * done, by the first time a person (not a scanner) did it; "opened"
 * includes any later step (link, attachment, form). */
typedef struct om_drill_results om_drill_results;
enum om_drill_by { OM_DRILL_BY_ORG = 0, OM_DRILL_BY_DEPT, OM_DRILL_BY_ROLE };
int om_drill_results_load(om_store *s, const char *round, const om_drill_scan_cfg *cfg,
                          unsigned min_group, om_drill_results **ret);
om_drill_results *om_drill_results_free(om_drill_results *R);
const om_store_drill_round *om_drill_results_round(const om_drill_results *R);
void om_drill_results_totals(const om_drill_results *R, om_drill_cell *ret);
/* The groups of one dimension, small ones merged; *ret_cells is to free(). */
int om_drill_results_groups(const om_drill_results *R, enum om_drill_by by, enum om_lang lang,
                            om_drill_cell **ret_cells, size_t *ret_n);
enum om_drill_format { OM_DRILL_FMT_JSON, OM_DRILL_FMT_CSV, OM_DRILL_FMT_XLSX, OM_DRILL_FMT_PDF };
typedef struct om_drill_report_opts {
	enum om_drill_format format;
	enum om_lang lang;
	bool names;       /* individual results (the company admin only) */
	const char *path; /* XLSX and PDF are written to a file */
} om_drill_report_opts;
/* JSON and CSV into out; XLSX and PDF to o->path. C (may be NULL): a
 * round to compare with. */
int om_drill_report_write(const om_drill_results *R, const om_drill_results *C,
                          const om_drill_report_opts *o, om_buf *out, char *err, size_t errlen);

/* `omamori drill ...`; argv[0] is "drill". Returns the exit status. */
int om_drill_main(int argc, char **argv, enum om_lang lang);

#endif
