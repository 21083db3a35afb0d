/* mail.c: the SMTP, POP3 and IMAP parsers. Each reads its two directions
 * line by line (lines capped at max_line), matches replies to the commands
 * they answer (pipelined or not), and streams every message it carries
 * through the MIME decoder (mime.c): SMTP DATA (dot-stuffed) and BDAT
 * chunks, POP3 RETR/TOP (dot-stuffed), IMAP literals of FETCH BODY[] and
 * APPEND (counted, any size). STARTTLS/STLS accepted by the server bypass
 * the flow. Records: `smtp` (+ `email`) as Suricata 7 writes them, `pop3`
 * and `imap` of our own design, and fileinfo for attachments. Design
 * note: docs/proto-mail.md. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "proto/internal.h"
#include "proto/mime.h"

#define F(m) offsetof(struct om_proto_mail_config, m), sizeof(((struct om_proto_mail_config *)0)->m)
static const om_config_key mail_keys[] = {
    {"app-layer.smtp.enabled", OM_CK_BOOL, F(smtp), 0, 0, "config.help.app-layer.smtp.enabled",
     NULL, NULL},
    {"app-layer.pop3.enabled", OM_CK_BOOL, F(pop3), 0, 0, "config.help.app-layer.pop3.enabled",
     NULL, NULL},
    {"app-layer.imap.enabled", OM_CK_BOOL, F(imap), 0, 0, "config.help.app-layer.imap.enabled",
     NULL, NULL},
    {"app-layer.mail.max-line", OM_CK_U32, F(max_line), 128, 1u << 20,
     "config.help.app-layer.mail.max-line", NULL, NULL},
    {"app-layer.mail.max-header", OM_CK_U32, F(max_header), 256, 1u << 20,
     "config.help.app-layer.mail.max-header", NULL, NULL},
    {"app-layer.mail.max-depth", OM_CK_U32, F(max_depth), 1, 32,
     "config.help.app-layer.mail.max-depth", NULL, NULL},
    {"app-layer.mail.max-parts", OM_CK_U32, F(max_parts), 1, 10000,
     "config.help.app-layer.mail.max-parts", NULL, NULL},
    {"app-layer.mail.max-body", OM_CK_U64, F(max_body), 0, UINT64_MAX,
     "config.help.app-layer.mail.max-body", NULL, NULL},
    {"app-layer.mail.max-urls", OM_CK_U32, F(max_urls), 0, 10000,
     "config.help.app-layer.mail.max-urls", NULL, NULL},
    {"app-layer.mail.max-text", OM_CK_U32, F(max_text), 0, 1u << 24,
     "config.help.app-layer.mail.max-text", NULL, NULL},
};
#undef F

static void mail_defaults(void *obj)
{
	struct om_proto_mail_config *c = obj;
	c->smtp = true;
	c->pop3 = true;
	c->imap = true;
	c->max_line = 4096;       /* RFC 5321 allows 512, RFC 5322 998: room for both */
	c->max_header = 16384;    /* one unfolded header field */
	c->max_depth = 8;         /* nested multiparts */
	c->max_parts = 256;       /* parts per message */
	c->max_body = 1ull << 20; /* text scanned for URLs per part */
	c->max_urls = 64;
	c->max_text = 65536; /* body text kept for the anti-spam guard */
}

const om_config_schema proto_mail_schema = {
    "proto",       mail_keys, OM_ARRAY_SIZE(mail_keys), sizeof(struct om_proto_mail_config),
    mail_defaults, NULL,
};

/* ---- shared pieces ------------------------------------------------------------ */

enum kind { K_SMTP, K_POP3, K_IMAP };
static const char *const kind_name[] = {"smtp", "pop3", "imap"};

#define PENDING_MAX 64u /* commands awaiting a reply */
#define HELO_MAX 256u
#define ADDR_MAX 512u
#define RCPT_MAX 64u
#define RCPT_ARENA 4096u
#define TAG_MAX 32u
#define VERB_MAX 24u
#define ARGS_MAX 128u
#define USER_MAX 128u
#define REPLY_MAX 128u
#define ANOMALY_MAX 32u /* anomaly records per flow */

/* a line buffer of one direction */
struct lbuf {
	uint8_t *b;
	uint32_t len;
	bool over; /* the line overflowed: the rest of it is dropped */
};

/* dot-unstuffing (SMTP DATA, POP3 multi-line) */
enum dot { D_BOL = 0, D_MID, D_DOT, D_DOTCR };

struct cmd {
	uint8_t verb; /* enum verb */
	char tag[TAG_MAX];
	char name[VERB_MAX]; /* as the client wrote it (upper-cased) */
	char args[ARGS_MAX];
	bool multi; /* POP3: the +OK reply is multi-line */
	bool msg;   /* POP3: that multi-line reply is a message */
};

enum verb {
	V_OTHER = 0,
	V_HELO,
	V_MAIL,
	V_RCPT,
	V_DATA,
	V_DATA_END, /* the "." that ended DATA: its reply */
	V_BDAT,
	V_RSET,
	V_STARTTLS,
	V_AUTH,
	V_QUIT,
	V_USER,
	V_PASS,
	V_RETR,
	V_TOP,
	V_LOGIN,
	V_FETCH,
	V_APPEND,
	V_IDLE,
};

/* the message being carried */
struct msg {
	mime *m;
	int dir;
	uint64_t tx_id;
	uint32_t files;
};

struct mail {
	enum kind kind;
	const struct om_proto_mail_config *cfg;
	om_flow *f; /* the flow of the current callback */
	struct lbuf lb[2];
	struct cmd pending[PENDING_MAX];
	unsigned phead, pcount;
	bool greeted; /* the server's first reply was seen */
	bool bypassed, tls;
	uint64_t next_tx;
	struct msg msg;
	char auth[VERB_MAX]; /* the AUTH mechanism last used */
	char user[USER_MAX];
	/* client side */
	bool auth_lines;   /* the client is sending SASL data, not commands */
	bool data_mode;    /* SMTP DATA or POP3 multi-line, by dot */
	enum dot dot;      /* dot-unstuffing state of the direction in data mode */
	int dot_dir;       /* that direction */
	bool data_seen;    /* bytes came in DATA mode */
	uint64_t raw_left; /* SMTP BDAT chunk, IMAP literal: bytes still to come */
	int raw_dir;
	bool raw_msg;          /* those bytes are a message */
	bool raw_last;         /* SMTP: BDAT LAST */
	uint64_t srv_raw_left; /* IMAP: a literal from the server */
	bool srv_raw_msg;
	bool cli_cont, srv_cont; /* IMAP: the next line continues a line with a literal */
	/* SMTP transaction */
	bool tx_open;
	bool emitted;
	char helo[HELO_MAX];
	char mail_from[ADDR_MAX];
	char rcpt[RCPT_ARENA];
	uint32_t rcpt_len;
	uint16_t rcpt_off[RCPT_MAX], rcpt_l[RCPT_MAX];
	uint32_t nrcpt;
	/* POP3/IMAP: the command whose message is being carried */
	struct cmd mcmd;
	char reply[REPLY_MAX];
	uint32_t anomalies;
	bool overflowed; /* INVALID_PIPELINED_SEQUENCE was written */
};

/* At most ANOMALY_MAX anomaly records per flow: a peer that sends nothing
 * but bad lines costs one record per line otherwise. */
static void anomaly(struct mail *s, int dir, const char *ev)
{
	if (s->anomalies >= ANOMALY_MAX)
		return;
	s->anomalies++;
	proto_anomaly(s->f, dir, kind_name[s->kind], ev);
}

static int up(int c)
{
	return c >= 'a' && c <= 'z' ? c - 32 : c;
}

static bool iprefix(const uint8_t *d, size_t n, const char *p)
{
	size_t pl = strlen(p);
	if (n < pl)
		return false;
	for (size_t i = 0; i < pl; i++)
		if (up(d[i]) != up((unsigned char)p[i]))
			return false;
	return true;
}

static bool ieqs(const char *a, const char *b)
{
	while (*a && *b && up((unsigned char)*a) == up((unsigned char)*b)) {
		a++;
		b++;
	}
	return !*a && !*b;
}

static void copy_str(char *dst, size_t cap, const uint8_t *s, size_t n)
{
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, s, n);
	dst[n] = '\0';
}

/* a decimal number, at most 19 digits; false when none or too large */
static bool parse_u64(const uint8_t *s, size_t n, uint64_t *ret)
{
	uint64_t v = 0;
	if (!n || n > 19)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*ret = v;
	return true;
}

/* splits a line into its first word and the rest (leading spaces gone) */
static void split(const uint8_t *l, size_t n, size_t *w, const uint8_t **rest, size_t *rn)
{
	size_t i = 0;
	while (i < n && l[i] != ' ')
		i++;
	*w = i;
	while (i < n && l[i] == ' ')
		i++;
	*rest = l + i;
	*rn = n - i;
}

static struct cmd *push_cmd(struct mail *s, int dir)
{
	if (s->pcount >= PENDING_MAX) {
		if (!s->overflowed)
			anomaly(s, dir, "INVALID_PIPELINED_SEQUENCE");
		s->overflowed = true;
		/* the oldest is dropped: a client that never reads replies */
		s->phead = (s->phead + 1) % PENDING_MAX;
		s->pcount--;
	}
	struct cmd *c = &s->pending[(s->phead + s->pcount) % PENDING_MAX];
	memset(c, 0, sizeof(*c));
	s->pcount++;
	return c;
}

static struct cmd *head_cmd(struct mail *s)
{
	return s->pcount ? &s->pending[s->phead] : NULL;
}

static void pop_cmd(struct mail *s)
{
	if (s->pcount) {
		s->phead = (s->phead + 1) % PENDING_MAX;
		s->pcount--;
	}
}

/* ---- messages and their files ---------------------------------------------------- */

static void write_smtp(om_json *j, const struct mail *s)
{
	om_json_obj_open(j, "smtp");
	if (s->helo[0])
		om_json_str(j, "helo", s->helo);
	if (s->mail_from[0])
		om_json_str(j, "mail_from", s->mail_from);
	if (s->nrcpt) {
		om_json_arr_open(j, "rcpt_to");
		for (uint32_t i = 0; i < s->nrcpt; i++)
			om_json_strn(j, NULL, s->rcpt + s->rcpt_off[i], s->rcpt_l[i]);
		om_json_arr_close(j);
	}
	om_json_obj_close(j);
}

static void write_cmd(om_json *j, const struct mail *s, const struct cmd *c, const char *status)
{
	om_json_obj_open(j, kind_name[s->kind]);
	if (c->tag[0])
		om_json_str(j, "tag", c->tag);
	if (c->name[0])
		om_json_str(j, "command", c->name);
	if (c->args[0])
		om_json_str(j, "args", c->args);
	if (status)
		om_json_str(j, "status", status);
	if (status && s->reply[0])
		om_json_str(j, "reply", s->reply);
	if (s->user[0])
		om_json_str(j, "user", s->user);
	om_json_obj_close(j);
}

/* what a fileinfo record of an attachment carries of its message */
static void file_ctx(om_json *j, void *arg)
{
	const struct mail *s = arg;
	if (s->kind == K_SMTP)
		write_smtp(j, s);
	else
		write_cmd(j, s, &s->mcmd, NULL);
	if (s->msg.m)
		mime_write_email(j, s->msg.m);
}

static void *part_open(void *user, const struct mime_part_info *pi)
{
	struct mail *s = user;
	s->msg.files++;
	return proto_file_open(s->f, s->msg.dir, kind_name[s->kind], pi->name, pi->name_len,
	                       s->msg.tx_id, file_ctx, s);
}

static void part_data(void *user, void *part, const uint8_t *d, size_t n)
{
	(void)user;
	proto_file_data(part, d, n);
}

static void part_close(void *user, void *part, bool complete)
{
	(void)user;
	proto_file_close(part, complete ? OM_FILE_CLOSED : OM_FILE_TRUNCATED);
}

static void mime_anomaly(void *user, const char *ev)
{
	struct mail *s = user;
	anomaly(s, s->msg.dir, ev);
}

static const struct mime_ops ops = {part_open, part_data, part_close, mime_anomaly};

static void msg_begin(struct mail *s, int dir, uint64_t tx_id)
{
	if (s->msg.m)
		return;
	const struct om_proto_mail_config *c = s->cfg;
	struct mime_limits l = {c->max_line, c->max_header, c->max_depth, c->max_parts,
	                        c->max_body, c->max_urls,   c->max_text};
	s->msg.dir = dir;
	s->msg.tx_id = tx_id;
	s->msg.files = 0;
	s->msg.m = mime_new(&l, &ops, s);
	/* no memory: the message goes by unparsed */
}

static void msg_feed(struct mail *s, const uint8_t *d, size_t n)
{
	if (s->msg.m && n)
		mime_feed(s->msg.m, d, n);
}

/* ---- records -------------------------------------------------------------------- */

static void write_members(om_json *j, const struct mail *s, bool auth);

struct rec {
	struct mail *s;
	const struct cmd *c;
	const char *status;
	uint64_t tx_id;
	bool notes; /* the record of a transaction shown to the observers */
	bool event; /* a note made it a security event (meta below) */
	om_event_meta meta;
};

static void smtp_members(om_json *j, void *arg)
{
	const struct rec *r = arg;
	write_members(j, r->s, true);
}

static void cmd_members(om_json *j, void *arg)
{
	const struct rec *r = arg;
	write_members(j, r->s, false);
}

/* the meta of a record whose transaction an observer noted as a security
 * event, with the parser's own omamori members in it; NULL: none */
static const om_event_meta *rec_meta(struct rec *r, bool smtp)
{
	const om_event_meta *m = proto_tx_notes_meta(r->s->f);
	if (!m)
		return NULL;
	r->meta = *m;
	r->meta.members = smtp ? smtp_members : cmd_members;
	r->meta.members_arg = r;
	r->event = true;
	return &r->meta;
}

/* our additions: STARTTLS seen, the AUTH mechanism (SMTP), and every URL
 * of the message (Suricata's email.url has only http ones) */
static bool has_omamori(const struct mail *s, bool auth)
{
	bool urls = s->msg.m && mime_has_urls(s->msg.m);
	return s->tls || (auth && s->auth[0]) || urls;
}

static void write_members(om_json *j, const struct mail *s, bool auth)
{
	if (s->tls)
		om_json_bool(j, "starttls", true);
	if (auth && s->auth[0])
		om_json_str(j, "auth", s->auth);
	if (s->msg.m && mime_has_urls(s->msg.m))
		mime_write_urls(j, "urls", s->msg.m);
}

/* written by the record's body, or, when an observer's note made the
 * record a security event, inside the omamori object the engine writes
 * (one omamori object a record) */
static void write_omamori(om_json *j, const struct mail *s, bool auth, bool event)
{
	if (event || !has_omamori(s, auth))
		return;
	om_json_obj_open(j, "omamori");
	write_members(j, s, auth);
	om_json_obj_close(j);
}

static void smtp_body(om_json *j, void *arg)
{
	const struct rec *r = arg;
	om_json_u64(j, "tx_id", r->tx_id);
	write_smtp(j, r->s);
	if (r->s->msg.m)
		mime_write_email(j, r->s->msg.m);
	if (r->notes)
		proto_tx_notes_write(r->s->f, j);
	write_omamori(j, r->s, true, r->event);
}

static void cmd_body(om_json *j, void *arg)
{
	const struct rec *r = arg;
	om_json_u64(j, "tx_id", r->tx_id);
	write_cmd(j, r->s, r->c, r->status);
	if (r->s->msg.m)
		mime_write_email(j, r->s->msg.m);
	if (r->notes)
		proto_tx_notes_write(r->s->f, j);
	write_omamori(j, r->s, false, r->event);
}

/* ---- transactions for the rule engine and the guards ---------------------------- */

/* the buffers a message has of its own (email.*) */
static const char *msg_buffer(const mime *m, enum om_tx_buf b, uint32_t idx, size_t *n)
{
	if (!m)
		return NULL;
	switch (b) {
	case OM_TXB_EMAIL_FROM:
	case OM_TXB_EMAIL_TO:
	case OM_TXB_EMAIL_SUBJECT:
		return idx ? NULL
		           : mime_field(m,
		                        b == OM_TXB_EMAIL_FROM ? MIME_F_FROM
		                        : b == OM_TXB_EMAIL_TO ? MIME_F_TO
		                                               : MIME_F_SUBJECT,
		                        n);
	case OM_TXB_EMAIL_URL: return mime_url(m, idx, n);
	case OM_TXB_EMAIL_HEADERS: return idx ? NULL : mime_headers(m, n);
	case OM_TXB_EMAIL_BODY: return idx ? NULL : mime_text(m, n);
	case OM_TXB_EMAIL_ATTACHMENT: return mime_attachment(m, idx, n);
	case OM_TXB_EMAIL_ATTACHMENT_HEAD: return (const char *)mime_attachment_head(m, idx, n);
	default: return NULL;
	}
}

static const uint8_t *tx_buffer(const om_proto_tx *tx, enum om_tx_buf b, uint32_t idx,
                                uint32_t *ret_len)
{
	const struct mail *s = tx->priv;
	const mime *m = s->msg.m;
	const char *v = NULL;
	size_t n = 0;
	bool smtp = s->kind == K_SMTP;
	switch (b) {
	case OM_TXB_SMTP_HELO:
		if (smtp && !idx && s->helo[0])
			v = s->helo, n = strlen(s->helo);
		break;
	case OM_TXB_SMTP_MAIL_FROM:
		if (smtp && !idx && s->mail_from[0])
			v = s->mail_from, n = strlen(s->mail_from);
		break;
	case OM_TXB_SMTP_RCPT_TO:
		if (smtp && idx < s->nrcpt)
			v = s->rcpt + s->rcpt_off[idx], n = s->rcpt_l[idx];
		break;
	default: v = msg_buffer(m, b, idx, &n); break;
	}
	if (!v)
		return NULL;
	*ret_len = (uint32_t)n;
	return (const uint8_t *)v;
}

static void tx_json(om_json *j, void *arg)
{
	const struct mail *s = arg;
	if (s->kind == K_SMTP)
		write_smtp(j, s);
	else
		write_cmd(j, s, &s->mcmd, NULL);
	if (s->msg.m)
		mime_write_email(j, s->msg.m);
}

/* a transaction complete (an SMTP one, or a message POP3/IMAP carried):
 * shown to the observers before its record is written */
static void tx_ready(struct mail *s, uint64_t tx_id, int dir)
{
	om_proto_tx tx = {
	    kind_name[s->kind], tx_id, OM_TX_REQUEST | OM_TX_RESPONSE, dir, tx_buffer, tx_json, s};
	proto_tx_ready(s->f, &tx);
}

static void smtp_tx_end(struct mail *s, bool complete)
{
	if (!s->tx_open)
		return;
	if (s->msg.m)
		mime_end(s->msg.m, complete);
	tx_ready(s, s->next_tx, OM_DIR_TOSERVER);
	struct rec r = {s, NULL, NULL, s->next_tx, true, false, {0}};
	om_proto_event ev = {"smtp", OM_DIR_TOSERVER, smtp_body, &r, rec_meta(&r, true)};
	proto_event(s->f, &ev);
	proto_tx_notes_clear(s->f);
	s->next_tx++;
	s->emitted = true;
	s->msg.m = mime_free(s->msg.m);
	s->tx_open = false;
	s->mail_from[0] = '\0';
	s->nrcpt = 0;
	s->rcpt_len = 0;
	s->data_mode = false;
	s->raw_left = 0;
}

/* a POP3 or IMAP command answered (with its message, when it carried one) */
static void cmd_record(struct mail *s, const struct cmd *c, const char *status)
{
	struct rec r = {s, c, status, s->next_tx++, false, false, {0}};
	om_proto_event ev = {kind_name[s->kind], OM_DIR_TOSERVER, cmd_body, &r, NULL};
	proto_event(s->f, &ev);
}

static void msg_record(struct mail *s, bool complete)
{
	if (!s->msg.m)
		return;
	mime_end(s->msg.m, complete);
	tx_ready(s, s->msg.tx_id, s->msg.dir);
	struct rec r = {s,     &s->mcmd, s->kind == K_POP3 ? "+OK" : NULL, s->msg.tx_id, true,
	                false, {0}};
	om_proto_event ev = {kind_name[s->kind], s->msg.dir, cmd_body, &r,
	                     proto_tx_notes_meta(s->f)};
	proto_event(s->f, &ev);
	proto_tx_notes_clear(s->f);
	s->msg.m = mime_free(s->msg.m);
}

/* ---- a message outside any flow ------------------------------------------------- */

static const uint8_t *lone_buffer(const om_proto_tx *tx, enum om_tx_buf b, uint32_t idx,
                                  uint32_t *ret_len)
{
	size_t n = 0;
	const char *v = msg_buffer(tx->priv, b, idx, &n);
	if (!v)
		return NULL;
	*ret_len = (uint32_t)n;
	return (const uint8_t *)v;
}

static void lone_json(om_json *j, void *arg)
{
	mime_write_email(j, arg);
}

int om_proto_mail_message(const struct om_proto_mail_config *cfg, const uint8_t *msg, size_t len,
                          void (*fn)(void *user, const om_proto_tx *tx), void *user)
{
	struct mime_limits l = {cfg->max_line, cfg->max_header, cfg->max_depth, cfg->max_parts,
	                        cfg->max_body, cfg->max_urls,   cfg->max_text};
	if (l.max_text < 65536)
		l.max_text = 65536;
	mime *m = mime_new(&l, NULL, NULL);
	if (!m)
		return -ENOMEM;
	mime_feed(m, msg, len);
	mime_end(m, true);
	om_proto_tx tx = {
	    "email", 0, OM_TX_REQUEST | OM_TX_RESPONSE, OM_DIR_TOSERVER, lone_buffer, lone_json, m};
	fn(user, &tx);
	mime_free(m);
	return 0;
}

/* ---- dot-stuffed data --------------------------------------------------------------- */

/* Feeds the message bytes of d (dot-unstuffed) to the message; returns the
 * bytes used, with *done when the terminating "." line was complete. */
static size_t undot(struct mail *s, const uint8_t *d, size_t n, bool *done)
{
	size_t i = 0, run = 0;
	*done = false;
	while (i < n) {
		uint8_t c = d[i];
		switch (s->dot) {
		case D_BOL:
			if (c == '.') {
				msg_feed(s, d + run, i - run);
				s->dot = D_DOT;
				run = i + 1;
			} else {
				s->dot = c == '\n' ? D_BOL : D_MID;
			}
			break;
		case D_MID: {
			/* the rest of a line: nothing to do up to its line feed */
			const uint8_t *lf = memchr(d + i, '\n', n - i);
			if (!lf) {
				i = n;
				continue;
			}
			s->dot = D_BOL;
			i = (size_t)(lf - d) + 1;
			continue;
		}
		case D_DOT:
			if (c == '\r') {
				s->dot = D_DOTCR;
				run = i + 1;
			} else if (c == '\n') {
				*done = true;
				s->dot = D_BOL;
				return i + 1;
			} else {
				s->dot = D_MID; /* a stuffed dot: dropped */
			}
			break;
		case D_DOTCR:
			if (c == '\n') {
				*done = true;
				s->dot = D_BOL;
				return i + 1;
			}
			msg_feed(s, (const uint8_t *)"\r", 1);
			s->dot = c == '\n' ? D_BOL : D_MID;
			run = i;
			continue; /* c is looked at again as ordinary */
		}
		i++;
	}
	if (s->dot != D_DOTCR && s->dot != D_DOT)
		msg_feed(s, d + run, n - run);
	else if (run < n && s->dot == D_DOT)
		msg_feed(s, d + run, n - run);
	return n;
}

/* ---- lines ---------------------------------------------------------------------- */

typedef void (*line_fn)(struct mail *s, int dir, const uint8_t *l, size_t n);

/* Takes bytes up to and including one line break into the direction's line
 * buffer; calls fn for a complete line (CR LF or LF stripped). Returns the
 * bytes used. */
static size_t take_line(struct mail *s, int dir, const uint8_t *d, size_t n, line_fn fn)
{
	struct lbuf *b = &s->lb[dir];
	const uint8_t *lf = memchr(d, '\n', n);
	size_t take = lf ? (size_t)(lf - d) + 1 : n;
	size_t body = lf ? take - 1 : take;
	if (!b->over) {
		if (b->len + body > s->cfg->max_line) {
			anomaly(s, dir,
			        dir == OM_DIR_TOSERVER
			            ? (s->kind == K_SMTP ? "MAX_COMMAND_LINE_LEN_EXCEEDED"
			                                 : "REQUEST_LINE_TOO_LONG")
			            : (s->kind == K_SMTP ? "MAX_REPLY_LINE_LEN_EXCEEDED"
			                                 : "RESPONSE_LINE_TOO_LONG"));
			b->over = true;
		} else {
			memcpy(b->b + b->len, d, body);
			b->len += (uint32_t)body;
		}
	}
	if (lf) {
		uint32_t l = b->len;
		if (l && b->b[l - 1] == '\r')
			l--;
		bool over = b->over;
		b->len = 0;
		b->over = false;
		if (!over)
			fn(s, dir, b->b, l);
	}
	return take;
}

/* ---- SMTP ------------------------------------------------------------------------- */

static void smtp_tx_begin(struct mail *s)
{
	if (!s->tx_open) {
		s->tx_open = true;
		s->mail_from[0] = '\0';
		s->nrcpt = 0;
		s->rcpt_len = 0;
	}
}

/* the argument of MAIL FROM:/RCPT TO: up to the first space (ESMTP
 * parameters such as SIZE= follow it), as Suricata keeps it */
static void smtp_path(const uint8_t *l, size_t n, size_t prefix, const uint8_t **p, size_t *pl)
{
	size_t i = prefix;
	while (i < n && l[i] == ' ')
		i++;
	size_t e = i;
	while (e < n && l[e] != ' ')
		e++;
	*p = l + i;
	*pl = e - i;
}

static void smtp_cmd(struct mail *s, int dir, const uint8_t *l, size_t n)
{
	if (s->auth_lines)
		return; /* SASL data: never logged */
	size_t wl, rn;
	const uint8_t *rest;
	split(l, n, &wl, &rest, &rn);
	smtp_tx_begin(s);
	struct cmd *c = push_cmd(s, dir);
	copy_str(c->name, sizeof(c->name), l, wl < VERB_MAX ? wl : VERB_MAX - 1);
	for (char *p = c->name; *p; p++)
		*p = (char)up((unsigned char)*p);
	if (ieqs(c->name, "HELO") || ieqs(c->name, "EHLO")) {
		c->verb = V_HELO;
		copy_str(s->helo, sizeof(s->helo), rest, rn);
	} else if (iprefix(l, n, "MAIL FROM:")) {
		c->verb = V_MAIL;
		if (s->mail_from[0] || s->msg.m) {
			/* a new transaction without RSET */
			smtp_tx_end(s, false);
			smtp_tx_begin(s);
		}
		const uint8_t *p;
		size_t pl;
		smtp_path(l, n, 10, &p, &pl);
		copy_str(s->mail_from, sizeof(s->mail_from), p, pl);
	} else if (iprefix(l, n, "RCPT TO:")) {
		c->verb = V_RCPT;
		const uint8_t *p;
		size_t pl;
		smtp_path(l, n, 8, &p, &pl);
		if (s->nrcpt < RCPT_MAX && s->rcpt_len + pl <= RCPT_ARENA) {
			memcpy(s->rcpt + s->rcpt_len, p, pl);
			s->rcpt_off[s->nrcpt] = (uint16_t)s->rcpt_len;
			s->rcpt_l[s->nrcpt] = (uint16_t)pl;
			s->rcpt_len += (uint32_t)pl;
			s->nrcpt++;
		}
	} else if (ieqs(c->name, "DATA")) {
		c->verb = V_DATA;
		/* data mode from the command on, as Suricata: a reply other
		 * than 354 before any data ends it */
		s->data_mode = true;
		s->data_seen = false;
		s->dot = D_BOL;
		msg_begin(s, OM_DIR_TOSERVER, s->next_tx);
	} else if (ieqs(c->name, "BDAT")) {
		c->verb = V_BDAT;
		size_t nw = 0;
		while (nw < rn && rest[nw] != ' ')
			nw++;
		uint64_t sz;
		if (!parse_u64(rest, nw, &sz)) {
			anomaly(s, dir, "BDAT_CHUNK_LEN_EXCEEDED");
			return;
		}
		size_t k = nw;
		while (k < rn && rest[k] == ' ')
			k++;
		s->raw_last = iprefix(rest + k, rn - k, "LAST");
		s->raw_left = sz;
		s->raw_msg = true;
		s->raw_dir = OM_DIR_TOSERVER;
		msg_begin(s, OM_DIR_TOSERVER, s->next_tx);
		if (!sz && s->raw_last)
			smtp_tx_end(s, true);
	} else if (ieqs(c->name, "RSET")) {
		c->verb = V_RSET;
		if (s->mail_from[0] || s->msg.m)
			smtp_tx_end(s, false);
	} else if (ieqs(c->name, "STARTTLS")) {
		c->verb = V_STARTTLS;
	} else if (ieqs(c->name, "AUTH")) {
		c->verb = V_AUTH;
		size_t nw = 0;
		while (nw < rn && rest[nw] != ' ')
			nw++;
		copy_str(s->auth, sizeof(s->auth), rest, nw);
		s->auth_lines = true;
	} else if (ieqs(c->name, "QUIT")) {
		c->verb = V_QUIT;
	}
}

static void smtp_reply(struct mail *s, int dir, const uint8_t *l, size_t n)
{
	if (n < 3 || l[0] < '0' || l[0] > '9' || l[1] < '0' || l[1] > '9' || l[2] < '0' ||
	    l[2] > '9' || (n > 3 && l[3] != ' ' && l[3] != '-')) {
		anomaly(s, dir, "INVALID_REPLY");
		return;
	}
	if (n > 3 && l[3] == '-')
		return; /* a multi-line reply goes on */
	int code = (l[0] - '0') * 100 + (l[1] - '0') * 10 + (l[2] - '0');
	if (!s->greeted && !s->pcount) {
		s->greeted = true;
		return;
	}
	s->greeted = true;
	struct cmd *c = head_cmd(s);
	if (!c) {
		anomaly(s, dir, "UNABLE_TO_MATCH_REPLY_WITH_REQUEST");
		return;
	}
	switch (c->verb) {
	case V_AUTH:
		if (code == 334)
			return; /* the exchange goes on: the command stays */
		s->auth_lines = false;
		break;
	case V_DATA:
		if (code != 354 && s->data_mode && !s->data_seen) {
			anomaly(s, dir, "DATA_COMMAND_REJECTED");
			s->data_mode = false;
			s->msg.m = mime_free(s->msg.m);
		}
		break;
	case V_STARTTLS:
		if (code == 220) {
			/* the rest is TLS: nothing more to read here */
			s->tls = true;
			s->bypassed = true;
			om_app_bypass(s->f, OM_APP_BYPASS_BOTH);
		} else {
			anomaly(s, dir, "TLS_REJECTED");
		}
		break;
	default: break;
	}
	pop_cmd(s);
}

static int smtp_data(struct mail *s, int dir, const uint8_t *d, size_t n)
{
	while (n > 0 && !s->bypassed) {
		size_t used;
		if (dir == OM_DIR_TOCLIENT) {
			used = take_line(s, dir, d, n, smtp_reply);
		} else if (s->raw_left) {
			used = n < s->raw_left ? n : (size_t)s->raw_left;
			msg_feed(s, d, used);
			s->raw_left -= used;
			if (!s->raw_left && s->raw_last)
				smtp_tx_end(s, true);
		} else if (s->data_mode) {
			bool done;
			s->data_seen = true;
			used = undot(s, d, n, &done);
			if (done) {
				smtp_tx_end(s, true);
				s->data_mode = false; /* also when a gap had ended the message */
				struct cmd *c = push_cmd(s, dir);
				c->verb = V_DATA_END;
			}
		} else {
			used = take_line(s, dir, d, n, smtp_cmd);
		}
		d += used;
		n -= used;
	}
	return 0;
}

/* ---- POP3 --------------------------------------------------------------------------- */

static void pop3_cmd(struct mail *s, int dir, const uint8_t *l, size_t n)
{
	if (s->auth_lines) {
		s->auth_lines = false; /* one SASL line per "+ " continuation */
		return;
	}
	size_t wl, rn;
	const uint8_t *rest;
	split(l, n, &wl, &rest, &rn);
	struct cmd *c = push_cmd(s, dir);
	copy_str(c->name, sizeof(c->name), l, wl < VERB_MAX ? wl : VERB_MAX - 1);
	for (char *p = c->name; *p; p++)
		*p = (char)up((unsigned char)*p);
	bool keep_args = true;
	if (ieqs(c->name, "USER")) {
		c->verb = V_USER;
		copy_str(s->user, sizeof(s->user), rest, rn);
		keep_args = false;
	} else if (ieqs(c->name, "PASS")) {
		c->verb = V_PASS;
		keep_args = false;
	} else if (ieqs(c->name, "APOP")) {
		size_t nw = 0;
		while (nw < rn && rest[nw] != ' ')
			nw++;
		copy_str(s->user, sizeof(s->user), rest, nw);
		keep_args = false;
	} else if (ieqs(c->name, "AUTH")) {
		c->verb = V_AUTH;
		size_t nw = 0;
		while (nw < rn && rest[nw] != ' ')
			nw++;
		copy_str(c->args, sizeof(c->args), rest, nw);
		copy_str(s->auth, sizeof(s->auth), rest, nw);
		keep_args = false;
		c->multi = !rn; /* AUTH alone lists the mechanisms */
	} else if (ieqs(c->name, "RETR")) {
		c->verb = V_RETR;
		c->multi = c->msg = true;
	} else if (ieqs(c->name, "TOP")) {
		c->verb = V_TOP;
		c->multi = c->msg = true;
	} else if (ieqs(c->name, "LIST") || ieqs(c->name, "UIDL")) {
		c->multi = !rn;
	} else if (ieqs(c->name, "CAPA")) {
		c->multi = true;
	} else if (ieqs(c->name, "STLS")) {
		c->verb = V_STARTTLS;
	} else if (ieqs(c->name, "QUIT")) {
		c->verb = V_QUIT;
	}
	if (keep_args)
		copy_str(c->args, sizeof(c->args), rest, rn);
}

static void pop3_reply(struct mail *s, int dir, const uint8_t *l, size_t n)
{
	bool ok = iprefix(l, n, "+OK");
	bool err = iprefix(l, n, "-ERR");
	bool cont = !ok && n >= 1 && l[0] == '+' && (n == 1 || l[1] == ' ');
	if (!ok && !err && !cont) {
		anomaly(s, dir, "INVALID_REPLY");
		return;
	}
	if (!s->greeted && !s->pcount) {
		s->greeted = true;
		return;
	}
	s->greeted = true;
	struct cmd *c = head_cmd(s);
	if (!c) {
		anomaly(s, dir, "UNABLE_TO_MATCH_REPLY_WITH_REQUEST");
		return;
	}
	if (cont) {
		if (c->verb == V_AUTH)
			s->auth_lines = true;
		return;
	}
	size_t k = ok ? 3 : 4;
	while (k < n && l[k] == ' ')
		k++;
	copy_str(s->reply, sizeof(s->reply), l + k, n - k);
	const char *status = ok ? "+OK" : "-ERR";
	s->auth_lines = false;
	if (ok && c->multi) {
		s->mcmd = *c;
		s->data_mode = true;
		s->dot = D_BOL;
		pop_cmd(s);
		if (s->mcmd.msg) {
			msg_begin(s, OM_DIR_TOCLIENT, s->next_tx++);
			/* TOP n m sends the header and m lines: a part of the message */
			if (s->msg.m && c->verb == V_TOP)
				mime_set_partial(s->msg.m);
		}
		return;
	}
	cmd_record(s, c, status);
	if (ok && c->verb == V_STARTTLS) {
		s->tls = true;
		s->bypassed = true;
		om_app_bypass(s->f, OM_APP_BYPASS_BOTH);
	}
	pop_cmd(s);
}

static int pop3_data(struct mail *s, int dir, const uint8_t *d, size_t n)
{
	while (n > 0 && !s->bypassed) {
		size_t used;
		if (dir == OM_DIR_TOCLIENT && s->data_mode) {
			bool done;
			used = undot(s, d, n, &done);
			if (done) {
				s->data_mode = false;
				if (s->msg.m)
					msg_record(s, true);
				else
					cmd_record(s, &s->mcmd, "+OK");
				s->reply[0] = '\0';
			}
		} else {
			used =
			    take_line(s, dir, d, n, dir == OM_DIR_TOCLIENT ? pop3_reply : pop3_cmd);
		}
		d += used;
		n -= used;
	}
	return 0;
}

/* ---- IMAP --------------------------------------------------------------------------- */

/* A line ending in a literal announcement {N} or {N+}: its size. */
static bool literal_at_end(const uint8_t *l, size_t n, uint64_t *ret, size_t *ret_start)
{
	if (n < 3 || l[n - 1] != '}')
		return false;
	size_t e = n - 1;
	if (e && l[e - 1] == '+')
		e--;
	size_t b = e;
	while (b > 0 && l[b - 1] >= '0' && l[b - 1] <= '9')
		b--;
	if (b == 0 || l[b - 1] != '{')
		return false;
	if (!parse_u64(l + b, e - b, ret))
		return false;
	*ret_start = b - 1;
	return true;
}

/* does the text before a server literal name the whole message? */
static bool fetch_message(const uint8_t *l, size_t n)
{
	while (n && l[n - 1] == ' ')
		n--;
	/* BODY[]<origin> names a partial fetch of the message: still its start */
	if (n && l[n - 1] == '>') {
		size_t k = n;
		while (k && l[k - 1] != '<')
			k--;
		if (k)
			n = k - 1;
	}
	static const char *const names[] = {"BODY[]", "RFC822", "BINARY[]"};
	for (size_t i = 0; i < OM_ARRAY_SIZE(names); i++) {
		size_t nl = strlen(names[i]);
		if (n >= nl && iprefix(l + n - nl, nl, names[i]) &&
		    (n == nl || l[n - nl - 1] == ' ' || l[n - nl - 1] == '('))
			return true;
	}
	return false;
}

static struct cmd *imap_find(struct mail *s, const uint8_t *tag, size_t tl, unsigned *ret_i)
{
	for (unsigned i = 0; i < s->pcount; i++) {
		struct cmd *c = &s->pending[(s->phead + i) % PENDING_MAX];
		if (strlen(c->tag) == tl && !memcmp(c->tag, tag, tl)) {
			*ret_i = i;
			return c;
		}
	}
	return NULL;
}

static void imap_remove(struct mail *s, unsigned i)
{
	/* shift the later ones down (the ring is short) */
	for (unsigned k = i; k + 1 < s->pcount; k++)
		s->pending[(s->phead + k) % PENDING_MAX] =
		    s->pending[(s->phead + k + 1) % PENDING_MAX];
	s->pcount--;
}

static void imap_cmd(struct mail *s, int dir, const uint8_t *l, size_t n)
{
	uint64_t lit;
	size_t ls;
	bool has_lit = literal_at_end(l, n, &lit, &ls);
	bool cont = s->cli_cont;
	s->cli_cont = has_lit;
	if (has_lit) {
		s->raw_left = lit;
		s->raw_dir = OM_DIR_TOSERVER;
		s->raw_msg = false;
	}
	if (cont) {
		/* the rest of a command after a literal */
		return;
	}
	if (s->auth_lines) {
		s->auth_lines = false;
		return;
	}
	size_t tl, rn;
	const uint8_t *rest;
	split(l, n, &tl, &rest, &rn);
	if (!tl || !rn) {
		if (n == 4 && iprefix(l, n, "DONE"))
			return; /* the end of IDLE */
		anomaly(s, dir, "INVALID_COMMAND");
		return;
	}
	struct cmd *c = push_cmd(s, dir);
	copy_str(c->tag, sizeof(c->tag), l, tl);
	size_t wl, an;
	const uint8_t *args;
	split(rest, rn, &wl, &args, &an);
	/* UID FETCH, UID STORE: the verb is the second word */
	size_t vl = wl;
	if (iprefix(rest, rn, "UID ") && an) {
		size_t w2, an2;
		const uint8_t *a2;
		split(args, an, &w2, &a2, &an2);
		vl = (size_t)(args + w2 - rest);
		args = a2;
		an = an2;
	}
	copy_str(c->name, sizeof(c->name), rest, vl);
	for (char *p = c->name; *p; p++)
		*p = (char)up((unsigned char)*p);
	size_t alen = has_lit && ls >= (size_t)(args - l) ? ls - (size_t)(args - l) : an;
	while (alen && args[alen - 1] == ' ')
		alen--;
	const char *verb = c->name;
	if (!strncmp(verb, "UID ", 4))
		verb += 4;
	bool keep_args = true;
	if (ieqs(verb, "LOGIN")) {
		c->verb = V_LOGIN;
		size_t nw = 0;
		while (nw < an && args[nw] != ' ')
			nw++;
		const uint8_t *u = args;
		if (nw >= 2 && u[0] == '"' && u[nw - 1] == '"') {
			u++;
			nw -= 2;
		}
		/* a user name sent as a literal is not kept (its bytes are
		 * skipped like the password's) */
		if (!(nw && u[0] == '{'))
			copy_str(s->user, sizeof(s->user), u, nw);
		keep_args = false;
	} else if (ieqs(verb, "AUTHENTICATE")) {
		c->verb = V_AUTH;
		size_t nw = 0;
		while (nw < an && args[nw] != ' ')
			nw++;
		copy_str(c->args, sizeof(c->args), args, nw);
		copy_str(s->auth, sizeof(s->auth), args, nw);
		keep_args = false;
	} else if (ieqs(verb, "FETCH")) {
		c->verb = V_FETCH;
	} else if (ieqs(verb, "APPEND")) {
		c->verb = V_APPEND;
		if (has_lit) {
			/* the literal is the message */
			s->raw_msg = true;
			s->mcmd = *c;
			copy_str(s->mcmd.args, sizeof(s->mcmd.args), args, alen);
			msg_begin(s, OM_DIR_TOSERVER, s->next_tx++);
		}
	} else if (ieqs(verb, "STARTTLS")) {
		c->verb = V_STARTTLS;
	} else if (ieqs(verb, "IDLE")) {
		c->verb = V_IDLE;
	}
	if (keep_args)
		copy_str(c->args, sizeof(c->args), args, alen);
}

static void imap_reply(struct mail *s, int dir, const uint8_t *l, size_t n)
{
	uint64_t lit;
	size_t ls;
	bool has_lit = literal_at_end(l, n, &lit, &ls);
	bool cont = s->srv_cont;
	s->srv_cont = has_lit;
	if (has_lit) {
		s->srv_raw_left = lit;
		s->srv_raw_msg = false;
		if (fetch_message(l, ls)) {
			/* the FETCH this answers: the oldest FETCH pending */
			struct cmd *fc = NULL;
			for (unsigned i = 0; i < s->pcount && !fc; i++) {
				struct cmd *c = &s->pending[(s->phead + i) % PENDING_MAX];
				if (c->verb == V_FETCH)
					fc = c;
			}
			if (fc)
				s->mcmd = *fc;
			else
				memset(&s->mcmd, 0, sizeof(s->mcmd));
			s->srv_raw_msg = true;
			msg_begin(s, OM_DIR_TOCLIENT, s->next_tx++);
		}
	}
	if (cont || !n)
		return;
	if (l[0] == '*') {
		s->greeted = true;
		return;
	}
	if (l[0] == '+') {
		struct cmd *c =
		    s->pcount ? &s->pending[(s->phead + s->pcount - 1) % PENDING_MAX] : NULL;
		if (c && c->verb == V_AUTH)
			s->auth_lines = true;
		return;
	}
	size_t tl, rn;
	const uint8_t *rest;
	split(l, n, &tl, &rest, &rn);
	unsigned idx;
	struct cmd *c = imap_find(s, l, tl, &idx);
	if (!c) {
		anomaly(s, dir, "UNABLE_TO_MATCH_REPLY_WITH_REQUEST");
		return;
	}
	size_t sw, tn;
	const uint8_t *txt;
	split(rest, rn, &sw, &txt, &tn);
	char status[8];
	copy_str(status, sizeof(status), rest, sw);
	for (char *p = status; *p; p++)
		*p = (char)up((unsigned char)*p);
	copy_str(s->reply, sizeof(s->reply), txt, tn);
	if (c->verb == V_AUTH)
		s->auth_lines = false;
	struct cmd done = *c;
	imap_remove(s, idx);
	cmd_record(s, &done, status);
	if (done.verb == V_STARTTLS && !strcmp(status, "OK")) {
		s->tls = true;
		s->bypassed = true;
		om_app_bypass(s->f, OM_APP_BYPASS_BOTH);
	}
}

static int imap_data(struct mail *s, int dir, const uint8_t *d, size_t n)
{
	while (n > 0 && !s->bypassed) {
		size_t used;
		uint64_t *left = dir == OM_DIR_TOSERVER ? &s->raw_left : &s->srv_raw_left;
		bool is_msg = dir == OM_DIR_TOSERVER ? s->raw_msg : s->srv_raw_msg;
		if (*left) {
			used = n < *left ? n : (size_t)*left;
			if (is_msg)
				msg_feed(s, d, used);
			*left -= used;
			if (!*left && is_msg)
				msg_record(s, true);
		} else {
			used =
			    take_line(s, dir, d, n, dir == OM_DIR_TOSERVER ? imap_cmd : imap_reply);
			/* a literal announced with no bytes */
			if (!*left && is_msg == false && s->msg.m && s->msg.dir == dir &&
			    (dir == OM_DIR_TOSERVER ? s->raw_msg : s->srv_raw_msg))
				msg_record(s, true);
		}
		d += used;
		n -= used;
	}
	return 0;
}

/* ---- the app-layer callbacks ------------------------------------------------------------ */

/* The settings come from the flow's proto worker (its module's p->cfg), so
 * that the parser descriptions can stay static and read-only; a flow
 * without one (a test that drives the app-layer alone) gets the defaults. */
static const struct om_proto_mail_config *flow_cfg(const om_flow *f)
{
	static struct om_proto_mail_config defaults;
	static bool init;
	struct om_proto_worker *w = proto_worker(f);
	if (w)
		return &w->p->cfg.mail;
	if (!init) {
		mail_defaults(&defaults);
		init = true;
	}
	return &defaults;
}

static void *state_new(om_flow *f, enum kind kind)
{
	const struct om_proto_mail_config *cfg = flow_cfg(f);
	struct mail *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->kind = kind;
	s->cfg = cfg;
	for (int d = 0; d < 2; d++) {
		s->lb[d].b = malloc(cfg->max_line);
		if (!s->lb[d].b) {
			free(s->lb[0].b);
			free(s);
			return NULL;
		}
	}
	return s;
}

static void *smtp_new(om_flow *f, void *user, void *wctx)
{
	(void)user;
	(void)wctx;
	return state_new(f, K_SMTP);
}

static void *pop3_new(om_flow *f, void *user, void *wctx)
{
	(void)user;
	(void)wctx;
	return state_new(f, K_POP3);
}

static void *imap_new(om_flow *f, void *user, void *wctx)
{
	(void)user;
	(void)wctx;
	return state_new(f, K_IMAP);
}

static void state_free(void *st, void *user)
{
	(void)user;
	struct mail *s = st;
	if (!s)
		return;
	mime_free(s->msg.m);
	free(s->lb[0].b);
	free(s->lb[1].b);
	free(s);
}

static int on_data(void *st, om_flow *f, int dir, const uint8_t *d, uint32_t len, unsigned flags)
{
	(void)flags;
	struct mail *s = st;
	s->f = f;
	switch (s->kind) {
	case K_SMTP: return smtp_data(s, dir, d, len);
	case K_POP3: return pop3_data(s, dir, d, len);
	default: return imap_data(s, dir, d, len);
	}
}

/* A hole: a message across it is cut; its files get the gap. Lines and
 * counted bytes resynchronise where they can. */
static void on_gap(void *st, om_flow *f, int dir, uint64_t len)
{
	struct mail *s = st;
	s->f = f;
	s->lb[dir].len = 0;
	bool data = s->data_mode;
	uint64_t raw = dir == OM_DIR_TOSERVER ? s->raw_left : s->srv_raw_left;
	if (s->msg.m && s->msg.dir == dir) {
		anomaly(s, dir, "TRUNCATED_LINE");
		if (s->kind == K_SMTP)
			smtp_tx_end(s, false);
		else
			msg_record(s, false);
	}
	/* counted bytes (BDAT, literals) go on being counted, a dot-ended
	 * message is skipped to its end: the next command is found again */
	raw = raw > len ? raw - len : 0;
	if (dir == OM_DIR_TOSERVER)
		s->raw_left = raw;
	else
		s->srv_raw_left = raw;
	bool data_dir = (s->kind == K_SMTP && dir == OM_DIR_TOSERVER) ||
	                (s->kind == K_POP3 && dir == OM_DIR_TOCLIENT);
	if (data_dir) {
		s->data_mode = data;
		s->dot = D_MID;
	}
	/* reading lines: the partial line after the hole is no command */
	if (!raw && !(data_dir && data))
		s->lb[dir].over = true;
}

static void on_end(void *st, om_flow *f, int dir, enum om_app_end why)
{
	(void)why;
	struct mail *s = st;
	s->f = f;
	if (s->msg.m && s->msg.dir == dir) {
		if (s->kind == K_SMTP)
			smtp_tx_end(s, false);
		else
			msg_record(s, false);
	}
	/* commands after the last message (QUIT) make a transaction of their
	 * own, as Suricata logs it */
	if (dir == OM_DIR_TOSERVER && s->kind == K_SMTP && s->tx_open)
		smtp_tx_end(s, false);
}

/* ---- probes --------------------------------------------------------------------------------- */

/* the first line of d, when complete: its length (without the break) */
static bool first_line(const uint8_t *d, uint32_t n, uint32_t *ret)
{
	uint32_t lim = n < 512 ? n : 512;
	const uint8_t *lf = memchr(d, '\n', lim);
	if (!lf)
		return false;
	*ret = (uint32_t)(lf - d);
	return true;
}

static bool contains(const uint8_t *d, uint32_t n, const char *w)
{
	size_t wl = strlen(w);
	for (uint32_t i = 0; i + wl <= n; i++)
		if (iprefix(d + i, n - i, w))
			return true;
	return false;
}

/* d starts with one of words (all of it seen), or could still (MORE) */
static enum om_app_probe starts(const uint8_t *d, uint32_t n, const char *const *words, size_t nw)
{
	bool more = false;
	for (size_t i = 0; i < nw; i++) {
		size_t wl = strlen(words[i]);
		size_t k = n < wl ? n : wl;
		if (k == 0)
			continue;
		bool same = true;
		for (size_t j = 0; j < k; j++)
			if (up(d[j]) != up((unsigned char)words[i][j]))
				same = false;
		if (!same)
			continue;
		if (n >= wl)
			return OM_APP_PROBE_YES;
		more = true;
	}
	return more ? OM_APP_PROBE_MORE : OM_APP_PROBE_NO;
}

static enum om_app_probe smtp_probe_ts(const om_flow *f, const uint8_t *d, uint32_t n, void *w)
{
	(void)f;
	(void)w;
	static const char *const words[] = {"EHLO ", "HELO ", "EHLO\r", "HELO\r"};
	return starts(d, n, words, OM_ARRAY_SIZE(words));
}

static enum om_app_probe smtp_probe_tc(const om_flow *f, const uint8_t *d, uint32_t n, void *w)
{
	(void)f;
	(void)w;
	static const char *const words[] = {"220 ", "220-"};
	enum om_app_probe p = starts(d, n, words, OM_ARRAY_SIZE(words));
	if (p != OM_APP_PROBE_YES)
		return p;
	uint32_t l;
	if (!first_line(d, n, &l))
		return n < 512 ? OM_APP_PROBE_MORE : OM_APP_PROBE_NO;
	/* FTP greets with 220 too: an SMTP banner names the protocol, else
	 * the client's EHLO decides */
	return contains(d, l, "SMTP") ? OM_APP_PROBE_YES : OM_APP_PROBE_NO;
}

static enum om_app_probe pop3_probe_ts(const om_flow *f, const uint8_t *d, uint32_t n, void *w)
{
	(void)f;
	(void)w;
	/* not USER: FTP clients open with it too */
	static const char *const words[] = {"CAPA\r\n", "APOP ", "STLS\r\n"};
	return starts(d, n, words, OM_ARRAY_SIZE(words));
}

/* "+OK" opens no other common protocol: decided on its first bytes, so
 * that the banner is not held while the client's first command goes by */
static enum om_app_probe pop3_probe_tc(const om_flow *f, const uint8_t *d, uint32_t n, void *w)
{
	(void)f;
	(void)w;
	static const char *const words[] = {"+OK ", "+OK\r"};
	return starts(d, n, words, OM_ARRAY_SIZE(words));
}

static enum om_app_probe imap_probe_ts(const om_flow *f, const uint8_t *d, uint32_t n, void *w)
{
	(void)f;
	(void)w;
	uint32_t l;
	if (!first_line(d, n, &l))
		return n < 512 ? OM_APP_PROBE_MORE : OM_APP_PROBE_NO;
	uint32_t t = 0;
	while (t < l && d[t] > ' ' && d[t] < 0x7f && d[t] != '{' && d[t] != '"')
		t++;
	if (!t || t >= l || d[t] != ' ')
		return OM_APP_PROBE_NO;
	static const char *const verbs[] = {"CAPABILITY", "LOGIN ", "AUTHENTICATE ", "STARTTLS",
	                                    "ID ("};
	for (size_t i = 0; i < OM_ARRAY_SIZE(verbs); i++)
		if (iprefix(d + t + 1, l - t - 1, verbs[i]))
			return OM_APP_PROBE_YES;
	return OM_APP_PROBE_NO;
}

/* the untagged greeting: "* OK " or "* PREAUTH " (RFC 9051 7.1), decided on
 * those bytes */
static enum om_app_probe imap_probe_tc(const om_flow *f, const uint8_t *d, uint32_t n, void *w)
{
	(void)f;
	(void)w;
	static const char *const words[] = {"* OK ", "* PREAUTH ", "* BYE "};
	return starts(d, n, words, OM_ARRAY_SIZE(words));
}

static const om_app_parser parsers[3] = {
    {.name = "smtp",
     .ipprotos = OM_APP_TCP,
     .ports = {25, 587, 2525},
     .probe_ts = smtp_probe_ts,
     .probe_tc = smtp_probe_tc,
     .state_new = smtp_new,
     .data = on_data,
     .gap = on_gap,
     .end = on_end,
     .state_free = state_free},
    {.name = "pop3",
     .ipprotos = OM_APP_TCP,
     .ports = {110},
     .probe_ts = pop3_probe_ts,
     .probe_tc = pop3_probe_tc,
     .state_new = pop3_new,
     .data = on_data,
     .gap = on_gap,
     .end = on_end,
     .state_free = state_free},
    {.name = "imap",
     .ipprotos = OM_APP_TCP,
     .ports = {143},
     .probe_ts = imap_probe_ts,
     .probe_tc = imap_probe_tc,
     .state_new = imap_new,
     .data = on_data,
     .gap = on_gap,
     .end = on_end,
     .state_free = state_free},
};

int proto_mail_register(om_proto *p, om_app_registry *reg)
{
	const struct om_proto_mail_config *c = &p->cfg.mail;
	const bool on[3] = {c->smtp, c->pop3, c->imap};
	for (int k = 0; k < 3; k++) {
		if (!on[k])
			continue;
		int id;
		int r = om_app_register(reg, &parsers[k], &id);
		if (r < 0)
			return r;
	}
	return 0;
}
