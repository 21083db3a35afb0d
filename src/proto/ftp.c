/* ftp.c: the FTP control channel ("ftp") and its data connections
 * ("ftp-data"), registered together. The control parser reads command and
 * reply lines, writes one `ftp` record per command with its replies (as
 * Suricata 7 does), and turns PASV/EPSV replies and accepted PORT/EPRT
 * commands into expectations in a bounded per-worker table. The data parser
 * is probed first on every new TCP flow: it takes a flow whose addresses and
 * server port match an expectation, reaches the control flow through its
 * flow handle to learn the transfer command and file name, and turns
 * RETR/STOR/APPE/STOU transfers into files. Design note: docs/proto-ftp.md. */
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "proto/internal.h"

/* ---- settings ---------------------------------------------------------------- */

#define FTP_MAX_LINE_MIN 64u
#define FTP_MAX_LINE_MAX (1u << 20)

#define F(m) offsetof(struct om_proto_ftp_config, m), sizeof(((struct om_proto_ftp_config *)0)->m)
static const om_config_key ftp_keys[] = {
    {"app-layer.ftp.enabled", OM_CK_BOOL, F(enabled), 0, 0, "config.help.app-layer.ftp.enabled",
     NULL, NULL},
    {"app-layer.ftp.max-line", OM_CK_U32, F(max_line), FTP_MAX_LINE_MIN, FTP_MAX_LINE_MAX,
     "config.help.app-layer.ftp.max-line", NULL, NULL},
    {"app-layer.ftp.max-expectations", OM_CK_U32, F(max_expectations), 1, 1u << 20,
     "config.help.app-layer.ftp.max-expectations", NULL, NULL},
    {"app-layer.ftp.expect-timeout", OM_CK_U32, F(expect_timeout), 1, 86400,
     "config.help.app-layer.ftp.expect-timeout", NULL, NULL},
};
#undef F

static void ftp_defaults(void *obj)
{
	struct om_proto_ftp_config *c = obj;
	c->enabled = true;
	c->max_line = 4096;
	c->max_expectations = 1024;
	c->expect_timeout = 60;
}

const om_config_schema proto_ftp_schema = {
    "proto",      ftp_keys, OM_ARRAY_SIZE(ftp_keys), sizeof(struct om_proto_ftp_config),
    ftp_defaults, NULL,
};

/* ---- fixed caps ----------------------------------------------------------------- */

#define FTP_TX_MAX 16      /* commands awaiting their final reply per flow */
#define FTP_CMD_MAX 16     /* bytes of a command name kept */
#define FTP_REPLY_LINES 64 /* reply lines kept per command */

/* ---- the per-worker table of expected data connections ------------------------ */

struct ftp_expect {
	om_addr cli, srv;   /* the data connection's initiator and acceptor */
	uint16_t port;      /* its server port */
	bool active;        /* PORT/EPRT: the FTP server connects */
	om_flow_handle ctl; /* the control flow */
	om_usec deadline;
	uint64_t after; /* the announcing command: the transfer comes after it */
	int32_t next;   /* chain in a bucket, or in the free list; -1 ends */
	bool used;
};

struct ftp_table {
	uint32_t cap, nbuckets, n;
	int32_t *bucket;
	int32_t free_head;
	struct ftp_expect *e;
};

/* ftp's worker context: the table is made on the first expectation (its
 * size comes from the settings, reached through the flow's proto worker) */
struct ftp_wctx {
	struct ftp_table *t;
	uint64_t added, refused, taken;
};

static void *ftp_worker_new(void *user)
{
	(void)user;
	return calloc(1, sizeof(struct ftp_wctx));
}

static void ftp_worker_free(void *wctx, void *user)
{
	(void)user;
	struct ftp_wctx *w = wctx;
	if (!w)
		return;
	if (w->t) {
		free(w->t->bucket);
		free(w->t->e);
		free(w->t);
	}
	free(w);
}

static struct ftp_table *table_new(uint32_t cap)
{
	struct ftp_table *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	uint32_t nb = 16;
	while (nb < cap && nb < (1u << 20))
		nb <<= 1;
	t->cap = cap;
	t->nbuckets = nb;
	t->bucket = malloc(nb * sizeof(*t->bucket));
	t->e = calloc(cap, sizeof(*t->e));
	if (!t->bucket || !t->e) {
		free(t->bucket);
		free(t->e);
		free(t);
		return NULL;
	}
	for (uint32_t i = 0; i < nb; i++)
		t->bucket[i] = -1;
	for (uint32_t i = 0; i < cap; i++)
		t->e[i].next = i + 1 < cap ? (int32_t)(i + 1) : -1;
	t->free_head = 0;
	return t;
}

static uint32_t bucket_of(const struct ftp_table *t, uint16_t port)
{
	return (uint32_t)(port * 2654435761u) >> 12 & (t->nbuckets - 1);
}

static void table_unlink(struct ftp_table *t, int32_t i)
{
	uint32_t b = bucket_of(t, t->e[i].port);
	int32_t *pp = &t->bucket[b];
	while (*pp >= 0 && *pp != i)
		pp = &t->e[*pp].next;
	if (*pp == i)
		*pp = t->e[i].next;
	t->e[i].used = false;
	t->e[i].next = t->free_head;
	t->free_head = i;
	t->n--;
}

static void table_expire(struct ftp_table *t, om_usec now)
{
	for (uint32_t i = 0; i < t->cap && t->n; i++)
		if (t->e[i].used && t->e[i].deadline < now)
			table_unlink(t, (int32_t)i);
}

static bool same_addr(const om_addr *a, const om_addr *b)
{
	return memcmp(a->b, b->b, sizeof(a->b)) == 0;
}

/* The live entry that names flow f as its data connection, or -1. A flow
 * first seen from its acceptor's side (a capture that starts after the
 * handshake) has its ends the other way round: *ret_rev says so. */
static int32_t table_find(const struct ftp_table *t, const om_flow *f, bool *ret_rev)
{
	if (!t || !t->n)
		return -1;
	for (int rev = 0; rev < 2; rev++) {
		uint16_t port = rev ? f->cport : f->sport;
		const om_addr *cli = rev ? &f->srv : &f->cli, *srv = rev ? &f->cli : &f->srv;
		for (int32_t i = t->bucket[bucket_of(t, port)]; i >= 0; i = t->e[i].next) {
			const struct ftp_expect *e = &t->e[i];
			if (e->port == port && e->deadline >= f->last && same_addr(&e->cli, cli) &&
			    same_addr(&e->srv, srv)) {
				*ret_rev = rev;
				return i;
			}
		}
	}
	return -1;
}

/* ---- the control channel's state --------------------------------------------- */

enum ftp_kind {
	K_OTHER = 0,
	K_PORT,
	K_EPRT,
	K_PASV,
	K_EPSV,
	K_REST,
	K_XFER_DOWN,
	K_XFER_UP,
	K_LIST
};

struct ftp_tx {
	uint64_t id;
	char cmd[FTP_CMD_MAX + 1]; /* "" : a reply nobody asked for (the banner) */
	enum ftp_kind kind;
	uint8_t *data; /* the command's argument, at most max_line bytes */
	uint32_t data_len;
	bool has_data, cmd_truncated;
	uint16_t dyn_port;
	bool has_port;
	uint16_t port_wanted; /* PORT/EPRT: the port announced, used once accepted */
	uint64_t rest;        /* REST: the offset asked for, used once accepted */
};

/* the transfer the latest RETR/STOR/LIST... asked for, for the data flow */
struct ftp_xfer {
	bool valid, claimed;
	uint64_t tx_id; /* the command's */
	char cmd[FTP_CMD_MAX + 1];
	enum ftp_kind kind;
	uint8_t *name; /* max_line bytes */
	uint32_t name_len;
	char type; /* 'A', 'I', 'E', 'L' or 0: TYPE not seen */
	uint64_t rest;
};

struct ftp_line {
	uint8_t *buf;
	uint32_t len;
	bool overflow;
};

struct ftp_state {
	const struct om_proto_ftp_config *cfg;
	struct ftp_wctx *w;
	struct ftp_line line[2];
	struct ftp_tx tx[FTP_TX_MAX];
	unsigned head, ntx;
	uint64_t next_id;
	/* the reply lines of the oldest command: per line a flag byte (1: it
	 * starts with a code), the code's 3 bytes, a 16-bit length, the text */
	uint8_t *reply;
	uint32_t reply_len, reply_cap;
	unsigned reply_lines;
	bool reply_truncated;
	bool multiline;
	char ml_code[3];
	bool any_reply; /* a reply has been seen */
	bool greeted;   /* the greeting (220 or 421) has been seen */
	char type;
	uint64_t rest;
	struct ftp_xfer xfer;
	bool ended[2];
	bool tls; /* AUTH TLS accepted: nothing more is read */
};

static const struct om_proto_ftp_config *ftp_cfg(const om_flow *f)
{
	struct om_proto_worker *w = proto_worker(f);
	return w ? &w->p->cfg.ftp : NULL;
}

static void *ftp_state_new(om_flow *f, void *user, void *wctx)
{
	(void)user;
	const struct om_proto_ftp_config *c = ftp_cfg(f);
	if (!c)
		return NULL;
	uint32_t ml = c->max_line < FTP_MAX_LINE_MIN ? FTP_MAX_LINE_MIN : c->max_line;
	struct ftp_state *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->cfg = c;
	s->w = wctx;
	s->line[0].buf = malloc(ml);
	s->line[1].buf = malloc(ml);
	s->reply_cap = ml + 6 * 4;
	s->reply = malloc(s->reply_cap);
	s->xfer.name = malloc(ml);
	if (!s->line[0].buf || !s->line[1].buf || !s->reply || !s->xfer.name) {
		free(s->line[0].buf);
		free(s->line[1].buf);
		free(s->reply);
		free(s->xfer.name);
		free(s);
		return NULL;
	}
	return s;
}

static void ftp_state_free(void *st, void *user)
{
	(void)user;
	struct ftp_state *s = st;
	if (!s)
		return;
	for (unsigned i = 0; i < FTP_TX_MAX; i++)
		free(s->tx[i].data);
	free(s->line[0].buf);
	free(s->line[1].buf);
	free(s->reply);
	free(s->xfer.name);
	free(s);
}

static uint32_t max_line(const struct ftp_state *s)
{
	return s->cfg->max_line < FTP_MAX_LINE_MIN ? FTP_MAX_LINE_MIN : s->cfg->max_line;
}

/* ---- the ftp record ------------------------------------------------------------ */

struct ftp_rec {
	const struct ftp_state *s;
	const struct ftp_tx *tx;
	bool replied;
	bool replies; /* the reply lines kept are this command's */
};

static void ftp_body(om_json *j, void *arg)
{
	const struct ftp_rec *r = arg;
	const struct ftp_state *s = r->s;
	const struct ftp_tx *tx = r->tx;
	om_json_obj_open(j, "ftp");
	if (tx->cmd[0]) {
		om_json_str(j, "command", tx->cmd);
		if (tx->has_data) {
			om_json_strn(j, "command_data", (const char *)tx->data, tx->data_len);
			om_json_bool(j, "command_truncated", tx->cmd_truncated);
		}
	}
	/* the reply lines kept are the oldest command's: only it is written */
	if (r->replies && s->reply_lines) {
		bool codes = false;
		for (uint32_t off = 0; off + 6 <= s->reply_len;) {
			uint16_t n = (uint16_t)(s->reply[off + 4] << 8 | s->reply[off + 5]);
			if (s->reply[off] & 1) {
				if (!codes)
					om_json_arr_open(j, "completion_code");
				codes = true;
				om_json_strn(j, NULL, (const char *)s->reply + off + 1, 3);
			}
			off += 6u + n;
		}
		if (codes)
			om_json_arr_close(j);
		bool texts = false;
		for (uint32_t off = 0; off + 6 <= s->reply_len;) {
			uint16_t n = (uint16_t)(s->reply[off + 4] << 8 | s->reply[off + 5]);
			if (s->reply[off] & 2) {
				if (!texts)
					om_json_arr_open(j, "reply");
				texts = true;
				om_json_strn(j, NULL, (const char *)s->reply + off + 6, n);
			}
			off += 6u + n;
		}
		if (texts)
			om_json_arr_close(j);
	}
	if (tx->has_port)
		om_json_u64(j, "dynamic_port", tx->dyn_port);
	if (tx->kind == K_PORT || tx->kind == K_EPRT)
		om_json_str(j, "mode", "active");
	om_json_str(j, "reply_received", r->replied ? "yes" : "no");
	om_json_bool(j, "reply_truncated", r->replies && s->reply_truncated);
	om_json_obj_close(j);
}

static void reply_reset(struct ftp_state *s)
{
	s->reply_len = 0;
	s->reply_lines = 0;
	s->reply_truncated = false;
}

/* ---- transactions for the observers (rule engine, guards) ------------------------ */

static const uint8_t *ftp_tx_buffer(const om_proto_tx *t, enum om_tx_buf b, uint32_t idx,
                                    uint32_t *ret_len)
{
	const struct ftp_rec *r = t->priv;
	if (idx)
		return NULL;
	if (b == OM_TXB_FTP_COMMAND && r->tx->cmd[0]) {
		*ret_len = (uint32_t)strlen(r->tx->cmd);
		return (const uint8_t *)r->tx->cmd;
	}
	if (b == OM_TXB_FTP_COMMAND_DATA && r->tx->has_data) {
		*ret_len = r->tx->data_len;
		return r->tx->data;
	}
	return NULL;
}

/* Shows a command to the observers: its request (the command line), or the
 * whole of it once its final reply came. */
static void show(const struct ftp_state *s, om_flow *f, const struct ftp_tx *tx, bool replied)
{
	struct ftp_rec r = {s, tx, replied, replied};
	unsigned progress = (tx->cmd[0] ? OM_TX_REQUEST : 0) | (replied ? OM_TX_RESPONSE : 0);
	om_proto_tx t = {.app_proto = "ftp",
	                 .tx_id = tx->id,
	                 .progress = progress,
	                 .dir = replied ? OM_DIR_TOCLIENT : OM_DIR_TOSERVER,
	                 .buffer = ftp_tx_buffer,
	                 .json = ftp_body,
	                 .priv = &r};
	proto_tx_ready(f, &t);
}

static void emit(struct ftp_state *s, om_flow *f, const struct ftp_tx *tx, bool replied)
{
	if (replied)
		show(s, f, tx, true);
	struct ftp_rec r = {s, tx, replied, true};
	om_proto_event ev = {
	    .event_type = "ftp", .dir = OM_DIR_TOSERVER, .body = ftp_body, .arg = &r, .meta = NULL};
	proto_event(f, &ev);
}

/* Writes the oldest command (with the replies seen) and drops it. */
static void pop_head(struct ftp_state *s, om_flow *f, bool replied)
{
	emit(s, f, &s->tx[s->head], replied);
	s->head = (s->head + 1) % FTP_TX_MAX;
	s->ntx--;
	reply_reset(s);
}

/* ---- expectations ------------------------------------------------------------------ */

static void expect(struct ftp_state *s, om_flow *f, const struct ftp_tx *tx, bool active,
                   uint16_t port)
{
	struct ftp_wctx *w = s->w;
	if (!w || port == 0)
		return;
	if (!w->t) {
		w->t = table_new(s->cfg->max_expectations ? s->cfg->max_expectations : 1);
		if (!w->t) {
			w->refused++;
			return;
		}
	}
	struct ftp_table *t = w->t;
	struct ftp_expect key = {0};
	key.cli = active ? f->srv : f->cli;
	key.srv = active ? f->cli : f->srv;
	key.port = port;
	key.active = active;
	key.ctl = om_app_flow_handle(f);
	key.after = tx->id;
	key.deadline = f->last + (om_usec)s->cfg->expect_timeout * 1000000u;
	/* the same connection announced again: the newer announcement wins */
	for (int32_t i = t->bucket[bucket_of(t, port)]; i >= 0; i = t->e[i].next) {
		struct ftp_expect *e = &t->e[i];
		if (e->port == port && same_addr(&e->cli, &key.cli) &&
		    same_addr(&e->srv, &key.srv)) {
			int32_t next = e->next;
			*e = key;
			e->next = next;
			e->used = true;
			w->added++;
			return;
		}
	}
	if (t->n >= t->cap)
		table_expire(t, f->last);
	if (t->free_head < 0) {
		w->refused++;
		proto_anomaly(f, OM_DIR_TOCLIENT, "ftp", "EXPECTATION_TABLE_FULL");
		return;
	}
	int32_t i = t->free_head;
	t->free_head = t->e[i].next;
	uint32_t b = bucket_of(t, port);
	t->e[i] = key;
	t->e[i].used = true;
	t->e[i].next = t->bucket[b];
	t->bucket[b] = i;
	t->n++;
	w->added++;
}

/* ---- parsing helpers ------------------------------------------------------------ */

/* Reads up to max decimal digits as a number at most lim; *pos advances. */
static bool read_num(const uint8_t *d, uint32_t n, uint32_t *pos, uint32_t lim, uint32_t *ret)
{
	uint32_t i = *pos, v = 0;
	if (i >= n || !isdigit(d[i]))
		return false;
	while (i < n && isdigit(d[i])) {
		v = v * 10 + (uint32_t)(d[i] - '0');
		if (v > lim)
			return false;
		i++;
	}
	*pos = i;
	*ret = v;
	return true;
}

/* h1,h2,h3,h4,p1,p2 anywhere in d (RFC 1123 4.1.2.6: scan for the numbers);
 * the address and the port. */
static bool parse_hostport(const uint8_t *d, uint32_t n, uint8_t ret_addr[4], uint16_t *ret_port)
{
	for (uint32_t start = 0; start < n; start++) {
		if (!isdigit(d[start]) || (start > 0 && isdigit(d[start - 1])))
			continue;
		uint32_t pos = start, v[6];
		int k;
		for (k = 0; k < 6; k++) {
			if (!read_num(d, n, &pos, 255, &v[k]))
				break;
			if (k < 5) {
				if (pos >= n || d[pos] != ',')
					break;
				pos++;
			}
		}
		if (k == 6) {
			for (int i = 0; i < 4; i++)
				ret_addr[i] = (uint8_t)v[i];
			*ret_port = (uint16_t)(v[4] << 8 | v[5]);
			return true;
		}
	}
	return false;
}

/* EPRT's argument: <d>af<d>address<d>port<d> (RFC 2428), d any printable
 * ASCII character. */
static bool parse_eprt(const uint8_t *d, uint32_t n, om_addr *ret_addr, bool *ret_has_addr,
                       uint16_t *ret_port)
{
	if (n < 7 || d[0] < 33 || d[0] > 126)
		return false;
	uint8_t dl = d[0];
	uint32_t pos = 1, af, port;
	if (!read_num(d, n, &pos, 9, &af) || pos >= n || d[pos] != dl)
		return false;
	uint32_t a0 = ++pos;
	while (pos < n && d[pos] != dl)
		pos++;
	if (pos >= n)
		return false;
	uint32_t alen = pos - a0;
	pos++;
	if (!read_num(d, n, &pos, 65535, &port) || pos >= n || d[pos] != dl || port == 0)
		return false;
	char a[64];
	*ret_has_addr = false;
	if (alen > 0 && alen < sizeof(a) && (af == 1 || af == 2)) {
		memcpy(a, d + a0, alen);
		a[alen] = '\0';
		*ret_has_addr = om_addr_parse(a, ret_addr) == 0;
	}
	*ret_port = (uint16_t)port;
	return true;
}

/* 229 Entering Extended Passive Mode (<d><d><d>port<d>) */
static bool parse_epsv(const uint8_t *d, uint32_t n, uint16_t *ret_port)
{
	const uint8_t *lp = memchr(d, '(', n);
	if (!lp)
		return false;
	uint32_t pos = (uint32_t)(lp - d) + 1, port;
	if (pos + 3 >= n)
		return false;
	uint8_t dl = d[pos];
	if (dl < 33 || dl > 126 || d[pos + 1] != dl || d[pos + 2] != dl)
		return false;
	pos += 3;
	if (!read_num(d, n, &pos, 65535, &port) || pos >= n || d[pos] != dl || port == 0)
		return false;
	*ret_port = (uint16_t)port;
	return true;
}

static bool cmd_is(const char *cmd, const char *name)
{
	return strcmp(cmd, name) == 0;
}

/* ---- commands ------------------------------------------------------------------- */

static void on_command(struct ftp_state *s, om_flow *f, const uint8_t *d, uint32_t n,
                       bool truncated)
{
	/* Telnet commands before ABOR (IAC IP IAC DM), and leading blanks */
	while (n && (d[0] >= 0x80 || d[0] == ' ' || d[0] == '\t')) {
		d++;
		n--;
	}
	if (!n)
		return;
	if (s->ntx == FTP_TX_MAX) {
		proto_anomaly(f, OM_DIR_TOSERVER, "ftp", "TOO_MANY_TRANSACTIONS");
		pop_head(s, f, false);
	}
	struct ftp_tx *tx = &s->tx[(s->head + s->ntx) % FTP_TX_MAX];
	uint8_t *keep = tx->data;
	memset(tx, 0, sizeof(*tx));
	tx->data = keep;
	tx->id = s->next_id++;
	uint32_t i = 0, k = 0;
	while (i < n && d[i] != ' ') {
		if (k < FTP_CMD_MAX)
			tx->cmd[k++] = (char)(d[i] >= 0x20 && d[i] < 0x7f ? toupper(d[i]) : '?');
		i++;
	}
	tx->cmd[k] = '\0';
	if (i < n) { /* the argument, after one space */
		const uint8_t *a = d + i + 1;
		uint32_t an = n - i - 1;
		if (!tx->data)
			tx->data = malloc(max_line(s)); /* once per slot and flow */
		if (tx->data) {
			tx->has_data = true;
			tx->data_len = an < max_line(s) ? an : max_line(s);
			memcpy(tx->data, a, tx->data_len);
			tx->cmd_truncated = truncated || tx->data_len < an;
		}
	}
	/* Suricata names this one command "AUTH TLS", without an argument */
	if (cmd_is(tx->cmd, "AUTH") && tx->data_len == 3 && toupper(tx->data[0]) == 'T' &&
	    toupper(tx->data[1]) == 'L' && toupper(tx->data[2]) == 'S') {
		memcpy(tx->cmd, "AUTH TLS", sizeof("AUTH TLS"));
		tx->has_data = false;
		tx->data_len = 0;
	}
	s->ntx++;
	const uint8_t *arg = tx->has_data ? tx->data : (const uint8_t *)"";
	uint32_t alen = tx->has_data ? tx->data_len : 0;
	const char *c = tx->cmd;
	if (cmd_is(c, "TYPE")) {
		if (alen)
			s->type = (char)toupper(arg[0]);
	} else if (cmd_is(c, "REST")) {
		uint64_t r = 0;
		for (uint32_t pos = 0; pos < alen && isdigit(arg[pos]); pos++) {
			if (r > (UINT64_MAX - 9) / 10)
				break; /* not a real offset: kept at its largest */
			r = r * 10 + (uint64_t)(arg[pos] - '0');
		}
		tx->kind = K_REST;
		tx->rest = r;
	} else if (cmd_is(c, "PORT")) {
		uint8_t a4[4];
		uint16_t port;
		tx->kind = K_PORT;
		if (parse_hostport(arg, alen, a4, &port) && port) {
			tx->has_port = true;
			tx->dyn_port = port;
			tx->port_wanted = port;
			om_addr a;
			om_addr_from_v4(&a, a4);
			if (!same_addr(&a, &f->cli)) /* a third host: an FTP bounce */
				proto_anomaly(f, OM_DIR_TOSERVER, "ftp", "PORT_ADDRESS_MISMATCH");
		} else {
			proto_anomaly(f, OM_DIR_TOSERVER, "ftp", "INVALID_PORT_COMMAND");
		}
	} else if (cmd_is(c, "EPRT")) {
		om_addr a;
		bool has_a;
		uint16_t port;
		tx->kind = K_EPRT;
		if (parse_eprt(arg, alen, &a, &has_a, &port)) {
			tx->has_port = true;
			tx->dyn_port = port;
			tx->port_wanted = port;
			if (has_a && !same_addr(&a, &f->cli))
				proto_anomaly(f, OM_DIR_TOSERVER, "ftp", "PORT_ADDRESS_MISMATCH");
		} else {
			proto_anomaly(f, OM_DIR_TOSERVER, "ftp", "INVALID_PORT_COMMAND");
		}
	} else if (cmd_is(c, "PASV")) {
		tx->kind = K_PASV;
	} else if (cmd_is(c, "EPSV")) {
		tx->kind = K_EPSV;
	} else if (cmd_is(c, "RETR") || cmd_is(c, "STOR") || cmd_is(c, "APPE") ||
	           cmd_is(c, "STOU") || cmd_is(c, "LIST") || cmd_is(c, "NLST") ||
	           cmd_is(c, "MLSD")) {
		tx->kind = cmd_is(c, "RETR")              ? K_XFER_DOWN
		           : (c[0] == 'S' || c[0] == 'A') ? K_XFER_UP
		                                          : K_LIST;
		struct ftp_xfer *x = &s->xfer;
		x->valid = true;
		x->claimed = false;
		x->tx_id = tx->id;
		x->kind = tx->kind;
		memcpy(x->cmd, tx->cmd, sizeof(x->cmd));
		x->name_len = alen;
		if (alen)
			memcpy(x->name, arg, alen);
		x->type = s->type;
		x->rest = s->rest;
		s->rest = 0; /* REST applies to the next transfer only */
	}
	show(s, f, tx, false);
}

/* ---- replies --------------------------------------------------------------------- */

static void reply_add(struct ftp_state *s, const uint8_t *d, uint32_t n, bool has_code,
                      bool truncated)
{
	if (truncated)
		s->reply_truncated = true;
	const uint8_t *text = d;
	uint32_t tn = n;
	if (has_code) {
		text = n > 4 ? d + 4 : d + n;
		tn = n > 4 ? n - 4 : 0;
	}
	if (s->reply_lines >= FTP_REPLY_LINES || s->reply_len + 6 > s->reply_cap) {
		s->reply_truncated = true;
		return;
	}
	uint32_t room = s->reply_cap - s->reply_len - 6;
	if (tn > room) {
		tn = room;
		s->reply_truncated = true;
	}
	if (tn > 0xffff)
		tn = 0xffff;
	uint8_t *o = s->reply + s->reply_len;
	/* a bare code ("226") has no text, as Suricata writes it */
	o[0] = (uint8_t)((has_code ? 1 : 0) | (!has_code || n >= 4 ? 2 : 0));
	memcpy(o + 1, has_code ? d : (const uint8_t *)"   ", 3);
	o[4] = (uint8_t)(tn >> 8);
	o[5] = (uint8_t)tn;
	memcpy(o + 6, text, tn);
	s->reply_len += 6 + tn;
	s->reply_lines++;
}

/* The final reply (code c, this line d) to the oldest command. */
static void on_final(struct ftp_state *s, om_flow *f, const char c[3], const uint8_t *d, uint32_t n)
{
	bool first = !s->any_reply;
	s->any_reply = true;
	/* the greeting (RFC 959 5.4: 120, 220 or 421 on connection) is the
	 * banner even when a client sent its first command before it came */
	bool greeting =
	    !s->greeted && (!memcmp(c, "220", 3) || !memcmp(c, "421", 3) || !memcmp(c, "120", 3));
	if (greeting && c[0] != '1')
		s->greeted = true;
	if (greeting || !s->ntx) {
		/* the banner, or a reply nobody asked for: a record of its own */
		if (!greeting && !first && memcmp(c, "421", 3) != 0)
			proto_anomaly(f, OM_DIR_TOCLIENT, "ftp", "UNSOLICITED_REPLY");
		struct ftp_tx alone;
		memset(&alone, 0, sizeof(alone));
		alone.id = s->next_id++;
		emit(s, f, &alone, true);
		reply_reset(s);
		return;
	}
	if (c[0] == '1') /* preliminary: the final reply follows */
		return;
	struct ftp_tx *tx = &s->tx[s->head];
	uint16_t port;
	if (tx->kind == K_PASV && !memcmp(c, "227", 3)) {
		uint8_t a4[4];
		if (parse_hostport(d, n, a4, &port) && port) {
			tx->has_port = true;
			tx->dyn_port = port;
			expect(s, f, tx, false, port);
		} else {
			proto_anomaly(f, OM_DIR_TOCLIENT, "ftp", "INVALID_PASV_REPLY");
		}
	} else if (tx->kind == K_EPSV && !memcmp(c, "229", 3)) {
		if (parse_epsv(d, n, &port)) {
			tx->has_port = true;
			tx->dyn_port = port;
			expect(s, f, tx, false, port);
		} else {
			proto_anomaly(f, OM_DIR_TOCLIENT, "ftp", "INVALID_PASV_REPLY");
		}
	} else if ((tx->kind == K_PORT || tx->kind == K_EPRT) && c[0] == '2' && tx->port_wanted) {
		expect(s, f, tx, true, tx->port_wanted);
	} else if (tx->kind == K_REST && !memcmp(c, "350", 3)) {
		s->rest = tx->rest; /* the server will start the next transfer there */
	}
	/* AUTH TLS accepted (RFC 4217): what follows is TLS, not FTP lines */
	bool tls = !strncmp(tx->cmd, "AUTH", 4) && !memcmp(c, "234", 3);
	pop_head(s, f, true);
	if (tls) {
		while (s->ntx)
			pop_head(s, f, false);
		s->tls = true;
		om_app_bypass(f, OM_APP_BYPASS_BOTH);
	}
}

static void on_reply(struct ftp_state *s, om_flow *f, const uint8_t *d, uint32_t n, bool truncated)
{
	bool code = n >= 3 && isdigit(d[0]) && isdigit(d[1]) && isdigit(d[2]);
	char sep = code && n > 3 ? (char)d[3] : ' ';
	if (s->multiline) {
		reply_add(s, d, n, code, truncated);
		if (code && !memcmp(d, s->ml_code, 3) && sep == ' ') {
			s->multiline = false;
			on_final(s, f, s->ml_code, d, n);
		}
		return;
	}
	reply_add(s, d, n, code, truncated);
	if (!code)
		return; /* text outside a multi-line reply: kept with the next */
	if (sep == '-') {
		s->multiline = true;
		memcpy(s->ml_code, d, 3);
		return;
	}
	on_final(s, f, (const char *)d, d, n);
}

static void on_line(struct ftp_state *s, om_flow *f, int dir)
{
	struct ftp_line *l = &s->line[dir];
	uint32_t n = l->len;
	if (n && l->buf[n - 1] == '\r')
		n--;
	if (dir == OM_DIR_TOSERVER)
		on_command(s, f, l->buf, n, l->overflow);
	else
		on_reply(s, f, l->buf, n, l->overflow);
	l->len = 0;
	l->overflow = false;
}

static int ftp_data(void *st, om_flow *f, int dir, const uint8_t *d, uint32_t n, unsigned flags)
{
	(void)flags;
	struct ftp_state *s = st;
	struct ftp_line *l = &s->line[dir];
	uint32_t ml = max_line(s);
	while (n && !s->tls) {
		const uint8_t *lf = memchr(d, '\n', n);
		uint32_t k = lf ? (uint32_t)(lf - d) : n;
		uint32_t room = ml - l->len;
		if (k > room) {
			if (!l->overflow)
				proto_anomaly(f, dir, "ftp",
				              dir == OM_DIR_TOSERVER ? "REQUEST_COMMAND_TOO_LONG"
				                                     : "RESPONSE_COMMAND_TOO_LONG");
			l->overflow = true;
			memcpy(l->buf + l->len, d, room);
			l->len += room;
		} else {
			memcpy(l->buf + l->len, d, k);
			l->len += k;
		}
		if (!lf)
			break;
		on_line(s, f, dir);
		d += k + 1;
		n -= k + 1;
	}
	return 0;
}

static void ftp_gap(void *st, om_flow *f, int dir, uint64_t len)
{
	(void)f;
	(void)len;
	struct ftp_state *s = st;
	/* the line being read lost its middle: drop it */
	s->line[dir].len = 0;
	s->line[dir].overflow = false;
	if (dir == OM_DIR_TOCLIENT)
		s->multiline = false;
}

static void ftp_end(void *st, om_flow *f, int dir, enum om_app_end why)
{
	(void)why;
	struct ftp_state *s = st;
	if (s->line[dir].len && !s->tls) /* a last line without its end */
		on_line(s, f, dir);
	s->ended[dir] = true;
	/* no more replies can come: what waits is written without one */
	if (s->ended[OM_DIR_TOCLIENT])
		while (s->ntx)
			pop_head(s, f, false);
}

/* ---- probes ----------------------------------------------------------------------- */

static bool has_ci(const uint8_t *d, uint32_t n, const char *w)
{
	size_t wl = strlen(w);
	for (uint32_t i = 0; i + wl <= n; i++) {
		size_t k = 0;
		while (k < wl && tolower(d[i + k]) == w[k])
			k++;
		if (k == wl)
			return true;
	}
	return false;
}

/* A reply line on port 21 when the capture starts after the banner. */
static bool ftp_reply_line(const uint8_t *d, uint32_t n)
{
	return n >= 4 && d[0] >= '1' && d[0] <= '5' && isdigit(d[1]) && isdigit(d[2]) &&
	       (d[3] == ' ' || d[3] == '-') && memchr(d, '\n', n < 512 ? n : 512);
}

/* The server's first line: "220 " or "220-". A mail server greets the same
 * way, so the banner decides only when it names FTP (or the port is 21);
 * otherwise the client's first command does. */
static enum om_app_probe ftp_probe_tc(const om_flow *f, const uint8_t *d, uint32_t n, void *w)
{
	(void)w;
	static const char b[] = "220";
	if (f->sport == 21 && ftp_reply_line(d, n))
		return OM_APP_PROBE_YES;
	uint32_t m = n < 3 ? n : 3;
	if (memcmp(d, b, m) != 0)
		return OM_APP_PROBE_NO;
	if (n < 4)
		return OM_APP_PROBE_MORE;
	if (d[3] != ' ' && d[3] != '-')
		return OM_APP_PROBE_NO;
	const uint8_t *lf = memchr(d, '\n', n < 512 ? n : 512);
	if (!lf)
		return n < 512 ? OM_APP_PROBE_MORE : OM_APP_PROBE_NO;
	uint32_t ln = (uint32_t)(lf - d);
	if (has_ci(d, ln, "ftp") || f->sport == 21)
		return OM_APP_PROBE_YES;
	return OM_APP_PROBE_NO;
}

/* The verbs of RFC 959, 2228, 2389, 2428, 3659 and the common X forms. */
static bool ftp_verb(const uint8_t *d, uint32_t n)
{
	static const char *const verbs[] = {
	    "ABOR", "ACCT", "ADAT", "ALLO", "APPE", "AUTH", "CCC",  "CDUP", "CONF", "CWD",  "DELE",
	    "ENC",  "EPRT", "EPSV", "FEAT", "HELP", "LANG", "LIST", "MDTM", "MIC",  "MKD",  "MLSD",
	    "MLST", "MODE", "NLST", "NOOP", "OPTS", "PASS", "PASV", "PBSZ", "PORT", "PROT", "PWD",
	    "QUIT", "REIN", "REST", "RETR", "RMD",  "RNFR", "RNTO", "SITE", "SIZE", "SMNT", "STAT",
	    "STOR", "STOU", "STRU", "SYST", "TYPE", "USER", "XCUP", "XCWD", "XMKD", "XPWD", "XRMD"};
	uint32_t k = 0;
	while (k < n && k < 5 && isalpha(d[k]))
		k++;
	if (k < 3 || k > 4 || k >= n || (d[k] != ' ' && d[k] != '\r' && d[k] != '\n'))
		return false;
	for (size_t i = 0; i < OM_ARRAY_SIZE(verbs); i++) {
		if (strlen(verbs[i]) != k)
			continue;
		uint32_t j = 0;
		while (j < k && toupper(d[j]) == verbs[i][j])
			j++;
		if (j == k)
			return true;
	}
	return false;
}

/* The client's first command: what an FTP client opens with, or on port 21
 * any FTP command (a capture that starts in the middle of a session). */
static enum om_app_probe ftp_probe_ts(const om_flow *f, const uint8_t *d, uint32_t n, void *w)
{
	(void)w;
	if (f->sport == 21 && ftp_verb(d, n))
		return OM_APP_PROBE_YES;
	static const char *const first[] = {"USER ",  "AUTH TLS", "AUTH SSL", "FEAT\r\n",
	                                    "FEAT\n", "SYST\r\n", "OPTS UTF8"};
	bool more = false;
	for (size_t i = 0; i < OM_ARRAY_SIZE(first); i++) {
		size_t wl = strlen(first[i]);
		size_t m = n < wl ? n : wl;
		size_t k = 0;
		while (k < m && toupper(d[k]) == first[i][k])
			k++;
		if (k == m) {
			if (n >= wl)
				return OM_APP_PROBE_YES;
			more = true;
		}
	}
	return more ? OM_APP_PROBE_MORE : OM_APP_PROBE_NO;
}

/* ---- ftp-data ------------------------------------------------------------------------ */

struct ftpdata_state {
	om_flow_handle ctl;
	uint64_t after; /* the control flow's command that announced this one */
	bool active, rev, started, file_kind, logged, has_cmd;
	int file_dir;
	om_file *file;
	char cmd[FTP_CMD_MAX + 1];
	uint8_t *name;
	uint32_t name_len;
	char type;
	uint64_t rest;
};

static struct ftp_wctx *ftp_table_of(const om_flow *f)
{
	struct om_proto_worker *w = proto_worker(f);
	if (!w || w->p->ftp_id < 0)
		return NULL;
	return om_app_worker_ctx(f, w->p->ftp_id);
}

/* Yes when the flow is an announced data connection, whatever its bytes. */
static enum om_app_probe ftpdata_probe(const om_flow *f, const uint8_t *d, uint32_t n, void *w)
{
	(void)d;
	(void)n;
	(void)w;
	struct ftp_wctx *fw = ftp_table_of(f);
	bool rev;
	if (!fw || table_find(fw->t, f, &rev) < 0)
		return OM_APP_PROBE_NO;
	return OM_APP_PROBE_YES;
}

static void *ftpdata_state_new(om_flow *f, void *user, void *wctx)
{
	(void)user;
	(void)wctx;
	const struct om_proto_ftp_config *c = ftp_cfg(f);
	struct ftp_wctx *fw = ftp_table_of(f);
	if (!c || !fw)
		return NULL;
	bool rev;
	int32_t i = table_find(fw->t, f, &rev);
	if (i < 0)
		return NULL;
	struct ftpdata_state *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->name = malloc(c->max_line < FTP_MAX_LINE_MIN ? FTP_MAX_LINE_MIN : c->max_line);
	if (!s->name) {
		free(s);
		return NULL;
	}
	s->ctl = fw->t->e[i].ctl;
	s->active = fw->t->e[i].active;
	s->rev = rev;
	s->after = fw->t->e[i].after;
	table_unlink(fw->t, i);
	fw->taken++;
	return s;
}

/* Learns the transfer from the control flow, on the first byte. */
static void ftpdata_start(struct ftpdata_state *s, om_flow *f, int dir)
{
	s->started = true;
	s->file_kind = true;
	s->file_dir = dir; /* unknown transfer: the direction the bytes came in */
	om_flow *ctl = om_app_flow_from_handle(f, s->ctl);
	struct om_proto_worker *w = proto_worker(f);
	if (!ctl || !w || om_app_parser_id(ctl) != w->p->ftp_id)
		return; /* the control flow is gone: go on alone */
	struct ftp_state *cs = om_app_state(ctl);
	/* the transfer asked for after this connection was announced, and
	 * not taken by another data connection */
	if (!cs || !cs->xfer.valid || cs->xfer.claimed || cs->xfer.tx_id <= s->after)
		return;
	struct ftp_xfer *x = &cs->xfer;
	x->claimed = true;
	s->has_cmd = true;
	memcpy(s->cmd, x->cmd, sizeof(s->cmd));
	uint32_t cap = cs->cfg->max_line < FTP_MAX_LINE_MIN ? FTP_MAX_LINE_MIN : cs->cfg->max_line;
	s->name_len = x->name_len < cap ? x->name_len : cap;
	memcpy(s->name, x->name, s->name_len);
	s->type = x->type;
	s->rest = x->rest;
	if (x->kind == K_LIST) {
		s->file_kind = false;
		return;
	}
	/* a download flows from the FTP server: the data flow's acceptor in
	 * passive mode, its initiator in active mode */
	bool down = x->kind == K_XFER_DOWN;
	bool to_client = (down != s->active) != s->rev;
	s->file_dir = to_client ? OM_DIR_TOCLIENT : OM_DIR_TOSERVER;
}

static void ftpdata_show(struct ftpdata_state *s, om_flow *f, bool done);

static int ftpdata_data(void *st, om_flow *f, int dir, const uint8_t *d, uint32_t n, unsigned flags)
{
	(void)flags;
	struct ftpdata_state *s = st;
	if (!s->started) {
		ftpdata_start(s, f, dir);
		if (!s->file_kind) { /* a listing: nothing to extract */
			om_app_bypass(f, OM_APP_BYPASS_BOTH);
			return 0;
		}
	}
	if (!s->file_kind || dir != s->file_dir || s->logged)
		return 0;
	if (!s->file) {
		s->file = proto_file_open(f, dir, "ftp-data", s->name, s->name_len, 0, NULL, NULL);
		if (!s->file) {
			om_app_bypass(f, OM_APP_BYPASS_BOTH);
			return 0;
		}
		if (s->rest) /* a restarted transfer: the start is not here */
			proto_file_gap(s->file, s->rest);
		ftpdata_show(s, f, false);
	}
	return proto_file_data(s->file, d, n);
}

static void ftpdata_gap(void *st, om_flow *f, int dir, uint64_t len)
{
	(void)f;
	struct ftpdata_state *s = st;
	if (s->file && dir == s->file_dir)
		proto_file_gap(s->file, len);
}

static void ftpdata_body(om_json *j, void *arg)
{
	const struct ftpdata_state *s = arg;
	om_json_obj_open(j, "ftp_data");
	if (s->has_cmd) {
		om_json_strn(j, "filename", (const char *)s->name, s->name_len);
		om_json_str(j, "command", s->cmd);
	}
	om_json_obj_close(j);
	if (s->type || s->rest) {
		om_json_obj_open(j, "omamori");
		om_json_obj_open(j, "ftp_data");
		if (s->type)
			om_json_str(j, "transfer_type",
			            s->type == 'A'   ? "ascii"
			            : s->type == 'I' ? "binary"
			            : s->type == 'E' ? "ebcdic"
			                             : "local");
		if (s->rest)
			om_json_u64(j, "restart_offset", s->rest);
		om_json_obj_close(j);
		om_json_obj_close(j);
	}
}

/* ftp-data's transaction: the transfer command (ftp.command, Suricata's
 * ftpdata_command) and the file name (ftp.command_data). */
static const uint8_t *ftpdata_tx_buffer(const om_proto_tx *t, enum om_tx_buf b, uint32_t idx,
                                        uint32_t *ret_len)
{
	const struct ftpdata_state *s = t->priv;
	if (idx || !s->has_cmd)
		return NULL;
	if (b == OM_TXB_FTP_COMMAND) {
		*ret_len = (uint32_t)strlen(s->cmd);
		return (const uint8_t *)s->cmd;
	}
	if (b == OM_TXB_FTP_COMMAND_DATA) {
		*ret_len = s->name_len;
		return s->name;
	}
	return NULL;
}

static void ftpdata_show(struct ftpdata_state *s, om_flow *f, bool done)
{
	om_proto_tx t = {.app_proto = "ftp-data",
	                 .tx_id = 0,
	                 .progress = OM_TX_REQUEST | (done ? OM_TX_RESPONSE : 0),
	                 .dir = s->file_dir,
	                 .buffer = ftpdata_tx_buffer,
	                 .json = ftpdata_body,
	                 .priv = s};
	proto_tx_ready(f, &t);
}

static void ftpdata_end(void *st, om_flow *f, int dir, enum om_app_end why)
{
	struct ftpdata_state *s = st;
	if (!s->file || dir != s->file_dir)
		return;
	proto_file_close(s->file, why == OM_APP_END_FIN ? OM_FILE_CLOSED : OM_FILE_TRUNCATED);
	s->file = NULL;
	s->logged = true;
	ftpdata_show(s, f, true);
	om_proto_event ev = {.event_type = "ftp_data",
	                     .dir = OM_DIR_TOSERVER,
	                     .body = ftpdata_body,
	                     .arg = s,
	                     .meta = NULL};
	proto_event(f, &ev);
}

static void ftpdata_state_free(void *st, void *user)
{
	(void)user;
	struct ftpdata_state *s = st;
	if (!s)
		return;
	/* every end came before: a file still open here was closed by its end */
	free(s->name);
	free(s);
}

/* ---- registration ----------------------------------------------------------------- */

static const om_app_parser ftp_parser = {
    .name = "ftp",
    .ipprotos = OM_APP_TCP,
    .ports = {21},
    .probe_ts = ftp_probe_ts,
    .probe_tc = ftp_probe_tc,
    .worker_new = ftp_worker_new,
    .worker_free = ftp_worker_free,
    .state_new = ftp_state_new,
    .data = ftp_data,
    .gap = ftp_gap,
    .end = ftp_end,
    .state_free = ftp_state_free,
};

static const om_app_parser ftpdata_parser = {
    .name = "ftp-data",
    .ipprotos = OM_APP_TCP,
    .flags = OM_APP_PARSER_FIRST,
    .probe_ts = ftpdata_probe,
    .probe_tc = ftpdata_probe,
    .state_new = ftpdata_state_new,
    .data = ftpdata_data,
    .gap = ftpdata_gap,
    .end = ftpdata_end,
    .state_free = ftpdata_state_free,
};

/* The settings and ftp's registry id are reached through the flow's proto
 * worker (om_app_worker_user), so both descriptions stay constant and
 * nothing here is global. */
int proto_ftp_register(om_proto *p, om_app_registry *reg)
{
	if (!p->cfg.ftp.enabled)
		return 0;
	int id, did;
	int r = om_app_register(reg, &ftp_parser, &id);
	if (r < 0)
		return r;
	r = om_app_register(reg, &ftpdata_parser, &did);
	if (r < 0)
		return r;
	p->ftp_id = id;
	return 0;
}
