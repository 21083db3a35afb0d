/* milter.c: 'omamori milter', a mail filter (libmilter) for Postfix or
 * Sendmail on the company's own mail server. Each message is put back
 * together from the MTA's callbacks (header fields as received, then the
 * body, at most MILTER_MSG_MAX bytes), then at its end: the anti-virus
 * (milter_av_scan) rejects malware with a plain 554 reply; the anti-spam
 * checks (spam.c, with the milter's own SPF check through libspf2 when it
 * can reach DNS) tag spam (X-Omamori-Spam headers and a subject tag),
 * quarantine it (the MTA's hold queue) or reject it, as configured; and
 * one EVE line is written per message to the EVE file and/or the spool
 * the store is fed from. The design note is docs/spam.md ("The mail
 * filter"). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <libmilter/mfapi.h>
#include <spf2/spf.h>

#include "guard/guard.h"

#define MILTER_MSG_MAX                                                                             \
	(32u * 1024 * 1024) /* bytes of one message kept; the rest is not checked                  \
	                     */
#define ADDR_LEN 512
#define RCPT_MAX 32
#define SUBJECT_MAX 998
#define TAG_MAX 64

enum spam_action { ACT_TAG = 0, ACT_QUARANTINE, ACT_REJECT };

/* the filter's settings and shared state (one per process) */
struct milter {
	enum om_lang lang;
	om_spam_config cfg;
	om_spam_db *db;
	enum spam_action action;
	char subject_tag[TAG_MAX];
	bool spf;
	SPF_server_t *spf_server;
	FILE *eve;
	om_spool *spool;
	pthread_mutex_t out_lock; /* the EVE file and the spool */
	const char *tenant, *gateway;
	struct milter_av *av;
	bool dkim;              /* verify DKIM and DMARC (--no-dkim: read the header) */
	om_spam_auth_ctx *auth; /* the verifier and its TXT resolver */
	char authserv[256];     /* the Authentication-Results authserv-id */
	om_spam_corr *corr;     /* the correspondent history beside the database */
	om_intel_db *intel;     /* --intel-db: links against threat intelligence */
};
static struct milter g; /* libmilter's callbacks carry no user pointer */

/* one SMTP connection and its current message */
struct conn {
	char client[INET6_ADDRSTRLEN];
	om_addr caddr;
	bool has_addr;
	char helo[256];
	char from[ADDR_LEN];
	char rcpt[RCPT_MAX][ADDR_LEN];
	unsigned nrcpt;
	uint8_t *msg;
	size_t len, cap;
	bool truncated;
	bool has_subject;
	char subject[SUBJECT_MAX + 1];
	enum om_spam_auth spf;
	bool authenticated; /* the client logged in (SMTP AUTH): mail the company sends */
	/* Authentication-Results fields (1-based among them) that claim to be
	 * ours: forged by the sender, removed (RFC 8601 section 5) */
	unsigned nar, forged_ar[8], nforged;
};

static void say(const char *key, ...)
{
	va_list ap;
	char line[2048];
	va_start(ap, key);
	vsnprintf(line, sizeof(line), om_msg(g.lang, key), ap);
	va_end(ap);
	fprintf(stderr, "omamori: %s\n", line);
}

/* ---- the anti-virus -------------------------------------------------------- */
/* milter_av_scan is the one place the anti-virus engine is called: the
 * anti-virus part's om_av_scan_buffer on the whole message (ClamAV reads
 * the MIME structure and the attachments itself). */
struct milter_av {
	om_av *av;
	char version[64];
};

/* dir NULL: ClamAV's standard database directory. -ENOENT: no databases
 * there (the filter runs without the anti-virus and says so) */
static int milter_av_open(const char *dir, struct milter_av **ret)
{
	om_av_config cfg;
	if (om_av_config_schema.defaults)
		om_av_config_schema.defaults(&cfg);
	else
		memset(&cfg, 0, sizeof(cfg));
	cfg.enabled = true;
	if (dir)
		snprintf(cfg.db_dir, sizeof(cfg.db_dir), "%s", dir);
	struct milter_av *m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	char err[512] = "";
	int e = om_av_open(&cfg, &m->av, err, sizeof(err));
	if (e < 0) {
		if (e != -ENOENT || dir)
			say("milter.err.av", dir ? dir : "-", err[0] ? err : strerror(-e));
		free(m);
		return e;
	}
	unsigned sigs = 0;
	om_av_db_version(m->av, m->version, sizeof(m->version), &sigs);
	*ret = m;
	return 0;
}

static void milter_av_close(struct milter_av *m)
{
	if (m) {
		om_av_close(m->av);
		free(m);
	}
}

/* 1: infected (sig set), 0: clean, -errno: not scanned */
static int milter_av_scan(struct milter_av *m, const uint8_t *msg, size_t len, char *sig,
                          size_t cap)
{
	om_av_result r;
	int e = om_av_scan_buffer(m->av, msg, len, "message.eml", &r);
	if (e < 0)
		return e;
	if (r.status != OM_AV_INFECTED)
		return 0;
	snprintf(sig, cap, "%s", r.signature);
	return 1;
}

/* ---- the message ------------------------------------------------------------- */

static struct conn *conn_of(SMFICTX *ctx)
{
	return smfi_getpriv(ctx);
}

static void append(struct conn *c, const void *d, size_t n)
{
	if (c->truncated)
		return;
	if (c->len + n > MILTER_MSG_MAX) {
		c->truncated = true;
		n = MILTER_MSG_MAX - c->len;
	}
	if (c->len + n > c->cap) {
		size_t nc = c->cap ? c->cap : 65536;
		while (nc < c->len + n)
			nc *= 2;
		if (nc > MILTER_MSG_MAX)
			nc = MILTER_MSG_MAX;
		uint8_t *b = realloc(c->msg, nc);
		if (!b) {
			c->truncated = true;
			return;
		}
		c->msg = b;
		c->cap = nc;
	}
	memcpy(c->msg + c->len, d, n);
	c->len += n;
}

static void msg_reset(struct conn *c)
{
	c->len = 0;
	c->truncated = false;
	c->nrcpt = 0;
	c->from[0] = '\0';
	c->has_subject = false;
	c->subject[0] = '\0';
	c->spf = OM_AUTH_UNKNOWN;
	c->authenticated = false;
	c->nar = c->nforged = 0;
}

static sfsistat on_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
	(void)host;
	struct conn *c = calloc(1, sizeof(*c));
	if (!c)
		return SMFIS_TEMPFAIL;
	if (sa && sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &s4->sin_addr, c->client, sizeof(c->client));
		om_addr_from_v4(&c->caddr, (const uint8_t *)&s4->sin_addr);
		c->has_addr = true;
	} else if (sa && sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET6, &s6->sin6_addr, c->client, sizeof(c->client));
		memcpy(c->caddr.b, &s6->sin6_addr, 16);
		c->has_addr = true;
	}
	smfi_setpriv(ctx, c);
	return SMFIS_CONTINUE;
}

static sfsistat on_helo(SMFICTX *ctx, char *helo)
{
	struct conn *c = conn_of(ctx);
	if (c && helo)
		snprintf(c->helo, sizeof(c->helo), "%s", helo);
	return SMFIS_CONTINUE;
}

static void strip_brackets(const char *in, char *out, size_t cap)
{
	while (*in == '<' || *in == ' ')
		in++;
	size_t l = strcspn(in, ">");
	if (l >= cap)
		l = cap - 1;
	memcpy(out, in, l);
	out[l] = '\0';
}

/* SPF of MAIL FROM (or HELO when the sender is empty) for the client's
 * address; UNKNOWN when DNS gave no answer, so that the message's own
 * Authentication-Results is read instead */
static enum om_spam_auth spf_check(const struct conn *c)
{
	if (!g.spf_server || !c->client[0])
		return OM_AUTH_UNKNOWN;
	SPF_request_t *rq = SPF_request_new(g.spf_server);
	if (!rq)
		return OM_AUTH_UNKNOWN;
	enum om_spam_auth r = OM_AUTH_UNKNOWN;
	SPF_response_t *rp = NULL;
	int e = strchr(c->client, ':') ? SPF_request_set_ipv6_str(rq, c->client)
	                               : SPF_request_set_ipv4_str(rq, c->client);
	if (e == SPF_E_SUCCESS && c->helo[0])
		SPF_request_set_helo_dom(rq, c->helo);
	if (e == SPF_E_SUCCESS && c->from[0])
		e = SPF_request_set_env_from(rq, c->from);
	if (e == SPF_E_SUCCESS) {
		SPF_request_query_mailfrom(rq, &rp);
		if (rp) {
			switch (SPF_response_result(rp)) {
			case SPF_RESULT_PASS: r = OM_AUTH_PASS; break;
			case SPF_RESULT_FAIL: r = OM_AUTH_FAIL; break;
			case SPF_RESULT_SOFTFAIL: r = OM_AUTH_SOFTFAIL; break;
			case SPF_RESULT_NEUTRAL: r = OM_AUTH_NEUTRAL; break;
			case SPF_RESULT_NONE: r = OM_AUTH_NONE; break;
			case SPF_RESULT_PERMERROR: r = OM_AUTH_PERMERROR; break;
			default: r = OM_AUTH_UNKNOWN; break; /* temperror: no DNS */
			}
		}
	}
	SPF_response_free(rp);
	SPF_request_free(rq);
	return r;
}

static sfsistat on_envfrom(SMFICTX *ctx, char **argv)
{
	struct conn *c = conn_of(ctx);
	if (!c)
		return SMFIS_TEMPFAIL;
	msg_reset(c);
	if (argv && argv[0])
		strip_brackets(argv[0], c->from, sizeof(c->from));
	if (g.spf)
		c->spf = spf_check(c);
	const char *au = smfi_getsymval(ctx, (char *)"{auth_authen}");
	c->authenticated = au && *au;
	return SMFIS_CONTINUE;
}

static sfsistat on_envrcpt(SMFICTX *ctx, char **argv)
{
	struct conn *c = conn_of(ctx);
	if (c && argv && argv[0] && c->nrcpt < RCPT_MAX)
		strip_brackets(argv[0], c->rcpt[c->nrcpt++], ADDR_LEN);
	return SMFIS_CONTINUE;
}

static sfsistat on_header(SMFICTX *ctx, char *name, char *value)
{
	struct conn *c = conn_of(ctx);
	if (!c)
		return SMFIS_TEMPFAIL;
	append(c, name, strlen(name));
	append(c, ": ", 2);
	/* Postfix gives folded values with bare LF: lines end in CRLF here */
	for (const char *v = value; *v; v++) {
		if (*v == '\n' && (v == value || v[-1] != '\r'))
			append(c, "\r", 1);
		append(c, v, 1);
	}
	append(c, "\r\n", 2);
	if (!strcasecmp(name, "Authentication-Results")) {
		c->nar++;
		const char *v = value;
		while (*v == ' ' || *v == '\t' || *v == '\r' || *v == '\n')
			v++;
		size_t l = strlen(g.authserv);
		if (!strncasecmp(v, g.authserv, l) &&
		    (v[l] == ';' || v[l] == ' ' || v[l] == '\t' || v[l] == '\r' || v[l] == '\n') &&
		    c->nforged < OM_ARRAY_SIZE(c->forged_ar))
			c->forged_ar[c->nforged++] = c->nar;
	}
	if (!strcasecmp(name, "Subject") && !c->has_subject) {
		c->has_subject = true;
		snprintf(c->subject, sizeof(c->subject), "%s", value);
	}
	return SMFIS_CONTINUE;
}

static sfsistat on_eoh(SMFICTX *ctx)
{
	struct conn *c = conn_of(ctx);
	if (c)
		append(c, "\r\n", 2);
	return SMFIS_CONTINUE;
}

static sfsistat on_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	struct conn *c = conn_of(ctx);
	if (c)
		append(c, chunk, len);
	return SMFIS_CONTINUE;
}

/* ---- the decision and its record ---------------------------------------------- */

struct verdict {
	struct conn *c;
	om_spam_env env;
	om_spam_result r;
	bool scanned;
	int av; /* milter_av_scan's answer */
	char sig[128];
	const char *action; /* "rejected", "quarantined", "tagged", "delivered" */
	const om_proto_tx *tx;
};

static void check_tx(void *user, const om_proto_tx *tx)
{
	struct verdict *v = user;
	if (v->c->authenticated) {
		/* sent by someone of the company: its recipients are
		 * correspondents; nothing to score */
		memset(&v->r, 0, sizeof(v->r));
		v->r.sent = true;
		om_spam_learn(&g.cfg, tx, &v->r, (int64_t)time(NULL));
		return;
	}
	om_spam_check(&g.cfg, tx, &v->env, &v->r);
	om_spam_learn(&g.cfg, tx, &v->r, (int64_t)time(NULL));
	v->scanned = true;
	v->tx = NULL;
}

/* "Authentication-Results: authserv-id; spf=...; dkim=...; dmarc=..."
 * (RFC 8601) of what the filter checked itself */
static void auth_results(SMFICTX *ctx, const struct conn *c, const om_spam_env *e)
{
	char v[1024];
	size_t o = 0;
	o += (size_t)snprintf(v + o, sizeof(v) - o, "%s", g.authserv);
	if (e->spf && o < sizeof(v))
		o += (size_t)snprintf(v + o, sizeof(v) - o, ";\r\n\tspf=%s smtp.mailfrom=%s",
		                      om_spam_auth_name(e->spf), c->from[0] ? c->from : c->helo);
	if (e->dkim && o < sizeof(v)) {
		o += (size_t)snprintf(v + o, sizeof(v) - o, ";\r\n\tdkim=%s",
		                      om_spam_auth_name(e->dkim));
		if (e->dkim_domain[0] && o < sizeof(v))
			o += (size_t)snprintf(v + o, sizeof(v) - o, " header.d=%s", e->dkim_domain);
	}
	if (e->dmarc && o < sizeof(v)) {
		o += (size_t)snprintf(v + o, sizeof(v) - o, ";\r\n\tdmarc=%s",
		                      om_spam_auth_name(e->dmarc));
		if (e->dmarc_policy[0] && o < sizeof(v))
			o += (size_t)snprintf(v + o, sizeof(v) - o, " (p=%s)", e->dmarc_policy);
		if (e->from_domain[0] && o < sizeof(v))
			o += (size_t)snprintf(v + o, sizeof(v) - o, " header.from=%s",
			                      e->from_domain);
	}
	if (o >= sizeof(v))
		v[sizeof(v) - 1] = '\0';
	/* the sender's fields in our name go (the last first: the indexes of
	 * the others stay), then ours first in the header */
	for (unsigned i = c->nforged; i-- > 0;)
		smfi_chgheader(ctx, (char *)"Authentication-Results", (int)c->forged_ar[i], NULL);
	smfi_insheader(ctx, 0, (char *)"Authentication-Results", v);
}

static void write_record(struct verdict *v, const struct conn *c)
{
	if (!g.eve && !g.spool)
		return;
	om_buf b;
	om_json j;
	om_buf_init(&b, 1u << 20);
	struct timeval tv;
	gettimeofday(&tv, NULL);
	om_event_hdr h = {0};
	h.ts = (om_usec)tv.tv_sec * 1000000 + tv.tv_usec;
	h.event_type = "smtp";
	h.src = c->has_addr ? &c->caddr : NULL;
	h.app_proto = "smtp";
	om_event_begin(&j, &b, &h);
	om_json_obj_open(&j, "smtp");
	if (c->helo[0])
		om_json_str(&j, "helo", c->helo);
	om_json_str(&j, "mail_from", c->from);
	om_json_arr_open(&j, "rcpt_to");
	for (unsigned i = 0; i < c->nrcpt; i++)
		om_json_str(&j, NULL, c->rcpt[i]);
	om_json_arr_close(&j);
	om_json_obj_close(&j);
	if (v->scanned)
		om_spam_write(&j, &v->r);
	om_json_obj_open(&j, "milter");
	om_json_str(&j, "action", v->action);
	if (c->authenticated)
		om_json_bool(&j, "sent", true);
	if (v->av == 1) {
		om_json_obj_open(&j, "av");
		om_json_str(&j, "signature", v->sig);
		om_json_obj_close(&j);
	}
	if (c->truncated)
		om_json_bool(&j, "truncated", true);
	om_json_obj_close(&j);
	om_event_meta meta = {0};
	const om_event_meta *sm = v->scanned ? om_spam_meta(&v->r) : NULL;
	if (v->av == 1) {
		meta.category = "mail_malware";
		meta.severity = 1;
		meta.action = "blocked";
		meta.advice = "advice.milter.malware";
	} else if (sm) {
		meta = *sm;
		if (!strcmp(v->action, "rejected") || !strcmp(v->action, "quarantined"))
			meta.action = "blocked";
	}
	if (meta.category) {
		meta.tenant = g.tenant;
		meta.gateway = g.gateway;
		om_event_omamori(&j, &meta);
	}
	om_event_end(&j);
	pthread_mutex_lock(&g.out_lock);
	if (g.eve) {
		fwrite(b.data, 1, b.len, g.eve);
		fputc('\n', g.eve);
		fflush(g.eve);
	}
	if (g.spool && om_spool_append(g.spool, b.data, b.len) == 0)
		om_spool_sync(g.spool);
	pthread_mutex_unlock(&g.out_lock);
	om_buf_free(&b);
}

static sfsistat on_eom(SMFICTX *ctx)
{
	struct conn *c = conn_of(ctx);
	if (!c)
		return SMFIS_TEMPFAIL;
	struct verdict v;
	memset(&v, 0, sizeof(v));
	v.c = c;
	v.env.spf = c->spf;
	v.action = "delivered";
	v.av = g.av ? milter_av_scan(g.av, c->msg, c->len, v.sig, sizeof(v.sig)) : -ENOSYS;
	sfsistat ret = SMFIS_CONTINUE;
	if (v.av == 1) {
		char text[256];
		snprintf(text, sizeof(text), om_msg(g.lang, "milter.reply.malware"), v.sig);
		smfi_setreply(ctx, "554", "5.7.1", text);
		v.action = "rejected";
		write_record(&v, c);
		return SMFIS_REJECT;
	}
	if (g.auth && !c->authenticated) {
		om_spam_auth_verify(g.auth, c->msg, c->len, c->from, c->spf, &v.env);
		/* DNS without an answer: the message's own header is read
		 * instead, unless the sender put one there in our name */
		if (v.env.dkim == OM_AUTH_TEMPERROR && !c->nforged)
			v.env.dkim = OM_AUTH_UNKNOWN;
		if (v.env.dmarc == OM_AUTH_TEMPERROR && !c->nforged)
			v.env.dmarc = OM_AUTH_UNKNOWN;
	}
	struct om_proto_mail_config mc;
	om_spam_mail_limits(&mc);
	if (om_proto_mail_message(&mc, c->msg, c->len, check_tx, &v) < 0)
		return SMFIS_TEMPFAIL;
	if (!c->authenticated && (v.env.spf || v.env.dkim || v.env.dmarc))
		auth_results(ctx, c, &v.env);
	char score[32];
	snprintf(score, sizeof(score), "%.1f", v.r.score);
	if (v.r.verdict == OM_SPAM_SPAM && g.action == ACT_REJECT) {
		smfi_setreply(ctx, "550", "5.7.1", (char *)om_msg(g.lang, "milter.reply.spam"));
		v.action = "rejected";
		ret = SMFIS_REJECT;
	} else if (v.r.verdict == OM_SPAM_SPAM || v.r.targeted) {
		/* tag: headers a mail client can filter on, and the subject */
		char reasons[512] = "";
		size_t rl = 0;
		for (unsigned i = 0; i < v.r.nreasons && rl < sizeof(reasons) - 40; i++)
			rl += (size_t)snprintf(reasons + rl, sizeof(reasons) - rl, "%s%s",
			                       i ? "," : "", v.r.reasons[i]);
		char status[640];
		snprintf(status, sizeof(status), "%s, score=%s, reasons=%s",
		         v.r.verdict == OM_SPAM_SPAM ? "Yes" : "No", score,
		         reasons[0] ? reasons : "none");
		smfi_addheader(ctx, "X-Omamori-Spam-Status", status);
		if (v.r.verdict == OM_SPAM_SPAM) {
			smfi_addheader(ctx, "X-Omamori-Spam", "Yes");
			if (g.subject_tag[0]) {
				char subj[SUBJECT_MAX + TAG_MAX + 2];
				snprintf(subj, sizeof(subj), "%s %s", g.subject_tag, c->subject);
				if (c->has_subject)
					smfi_chgheader(ctx, "Subject", 1, subj);
				else
					smfi_addheader(ctx, "Subject", g.subject_tag);
			}
			v.action = "tagged";
		}
		if (v.r.targeted) {
			char signs[256] = "";
			size_t sl = 0;
			for (unsigned i = 0; i < v.r.nsigns && sl < sizeof(signs) - 32; i++)
				sl += (size_t)snprintf(signs + sl, sizeof(signs) - sl, "%s%s",
				                       i ? "," : "", v.r.signs[i]);
			smfi_addheader(ctx, "X-Omamori-Targeted-Mail", signs);
			v.action = "tagged";
		}
		if (v.r.verdict == OM_SPAM_SPAM && g.action == ACT_QUARANTINE) {
			smfi_quarantine(ctx, (char *)"omamori: spam");
			v.action = "quarantined";
		}
	}
	write_record(&v, c);
	msg_reset(c);
	return ret;
}

static sfsistat on_abort(SMFICTX *ctx)
{
	struct conn *c = conn_of(ctx);
	if (c)
		msg_reset(c);
	return SMFIS_CONTINUE;
}

static sfsistat on_close(SMFICTX *ctx)
{
	struct conn *c = conn_of(ctx);
	if (c) {
		free(c->msg);
		free(c);
		smfi_setpriv(ctx, NULL);
	}
	return SMFIS_CONTINUE;
}

/* ---- the command ------------------------------------------------------------------ */

int om_milter_main(int argc, char **argv, enum om_lang lang, const char *default_db)
{
	const char *sock = NULL, *db = default_db, *eve = NULL, *spool = NULL, *avdb = NULL;
	const char *own = NULL, *partner = NULL, *dnsfile = NULL, *inteldb = NULL;
	memset(&g, 0, sizeof(g));
	g.dkim = true;
	if (gethostname(g.authserv, sizeof(g.authserv) - 1) != 0 || !g.authserv[0])
		snprintf(g.authserv, sizeof(g.authserv), "omamori");
	g.lang = lang;
	om_spam_config_init(&g.cfg);
	snprintf(g.subject_tag, sizeof(g.subject_tag), "%s", "[SPAM]");
	g.spf = true;
	g.tenant = "default";
	g.gateway = "milter";
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(om_msg(lang, "help.milter"), stdout);
			return 0;
		}
		if (!strcmp(a, "--no-spf")) {
			g.spf = false;
			continue;
		}
		if (!strcmp(a, "--no-dkim")) {
			g.dkim = false;
			continue;
		}
		static const char *const valued[] = {
		    "--socket", "--db",      "--eve",      "--spool",       "--av-db",
		    "--own",    "--partner", "--spam",     "--subject-tag", "--threshold",
		    "--tenant", "--gateway", "--dns-file", "--authserv-id", "--intel-db"};
		bool known = false;
		for (size_t k = 0; k < OM_ARRAY_SIZE(valued); k++)
			known |= !strcmp(a, valued[k]);
		if (!known) {
			say("milter.err.option", a);
			return 2;
		}
		if (i + 1 >= argc) {
			say("spam.err.value", a);
			return 2;
		}
		const char *v = argv[++i];
		if (!strcmp(a, "--socket"))
			sock = v;
		else if (!strcmp(a, "--db"))
			db = v;
		else if (!strcmp(a, "--eve"))
			eve = v;
		else if (!strcmp(a, "--spool"))
			spool = v;
		else if (!strcmp(a, "--av-db"))
			avdb = v;
		else if (!strcmp(a, "--own"))
			own = v;
		else if (!strcmp(a, "--partner"))
			partner = v;
		else if (!strcmp(a, "--tenant"))
			g.tenant = v;
		else if (!strcmp(a, "--gateway"))
			g.gateway = v;
		else if (!strcmp(a, "--dns-file"))
			dnsfile = v;
		else if (!strcmp(a, "--intel-db"))
			inteldb = v;
		else if (!strcmp(a, "--authserv-id")) {
			if (strlen(v) >= sizeof(g.authserv) || strpbrk(v, " ;\t\r\n")) {
				say("milter.err.authserv", v);
				return 2;
			}
			snprintf(g.authserv, sizeof(g.authserv), "%s", v);
		} else if (!strcmp(a, "--subject-tag")) {
			if (strlen(v) >= TAG_MAX) {
				say("milter.err.tag", v, TAG_MAX - 1);
				return 2;
			}
			snprintf(g.subject_tag, sizeof(g.subject_tag), "%s", v);
		} else if (!strcmp(a, "--spam")) {
			if (!strcmp(v, "tag"))
				g.action = ACT_TAG;
			else if (!strcmp(v, "quarantine"))
				g.action = ACT_QUARANTINE;
			else if (!strcmp(v, "reject"))
				g.action = ACT_REJECT;
			else {
				say("milter.err.action", v);
				return 2;
			}
		} else if (!strcmp(a, "--threshold")) {
			char *end;
			double t = strtod(v, &end);
			if (*end || end == v || t < -100 || t > 100) {
				say("spam.err.threshold", v);
				return 2;
			}
			g.cfg.threshold = t;
		}
	}
	if (!sock) {
		say("milter.err.socket");
		return 2;
	}
	if ((own && om_spam_config_domains(&g.cfg, false, own) < 0) ||
	    (partner && om_spam_config_domains(&g.cfg, true, partner) < 0)) {
		say("spam.err.domains", own ? "--own" : "--partner", own ? own : partner,
		    OM_SPAM_DOMAINS_MAX);
		return 2;
	}
	int rc = 1;
	int e = om_spam_db_load(db, &g.db);
	if (e == -ENOENT) {
		say("spam.warn.untrained", db);
	} else if (e < 0) {
		say(e == -EINVAL ? "spam.err.db_bad" : "spam.err.db_open", db, strerror(-e));
		return 1;
	}
	g.cfg.db = g.db;
	char cpath[600];
	if (om_spam_corr_path(db, cpath, sizeof(cpath)) == 0 &&
	    (e = om_spam_corr_open(cpath, 0, &g.corr)) < 0)
		say("spam.warn.corr", cpath, strerror(-e));
	g.cfg.corr = g.corr;
	if (g.dkim && (e = om_spam_auth_new(dnsfile, &g.auth)) < 0) {
		say("milter.err.dkim", dnsfile ? dnsfile : "-", strerror(-e));
		goto out_db;
	}
	if (inteldb && (e = om_intel_db_open(inteldb, &g.intel)) < 0) {
		say("err.intel.open", inteldb, strerror(-e), inteldb);
		goto out_db;
	}
	g.cfg.intel_db = g.intel;
	pthread_mutex_init(&g.out_lock, NULL);
	if (eve && !(g.eve = fopen(eve, "a"))) {
		say("milter.err.eve", eve, strerror(errno));
		goto out;
	}
	if (spool) {
		om_spool_opts so;
		om_spool_opts_default(&so);
		char err[512];
		if (om_spool_open(spool, &so, &g.spool, err, sizeof(err)) < 0) {
			say("milter.err.spool", spool, err);
			goto out;
		}
	}
	e = milter_av_open(avdb, &g.av);
	if (e == -ENOENT && !avdb)
		say("milter.warn.no_av");
	else if (e < 0)
		goto out;
	if (g.spf)
		g.spf_server = SPF_server_new(SPF_DNS_CACHE, 0);
	struct smfiDesc desc = {
	    .xxfi_name = (char *)"omamori",
	    .xxfi_version = SMFI_VERSION,
	    .xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE,
	    .xxfi_connect = on_connect,
	    .xxfi_helo = on_helo,
	    .xxfi_envfrom = on_envfrom,
	    .xxfi_envrcpt = on_envrcpt,
	    .xxfi_header = on_header,
	    .xxfi_eoh = on_eoh,
	    .xxfi_body = on_body,
	    .xxfi_eom = on_eom,
	    .xxfi_abort = on_abort,
	    .xxfi_close = on_close,
	};
	if (smfi_setconn((char *)sock) == MI_FAILURE || smfi_register(desc) == MI_FAILURE) {
		say("milter.err.start", sock);
		goto out;
	}
	if (!strncmp(sock, "unix:", 5) || !strncmp(sock, "local:", 6))
		unlink(strchr(sock, ':') + 1);
	if (smfi_opensocket(1) == MI_FAILURE) {
		say("milter.err.start", sock);
		goto out;
	}
	say("milter.msg.ready", sock);
	rc = smfi_main() == MI_SUCCESS ? 0 : 1;
out:
	if (g.spf_server)
		SPF_server_free(g.spf_server);
	milter_av_close(g.av);
	if (g.eve)
		fclose(g.eve);
	om_spool_close(g.spool);
out_db:
	om_intel_db_close(g.intel);
	om_spam_auth_free(g.auth);
	om_spam_corr_close(g.corr);
	om_spam_db_free(g.db);
	return rc;
}
