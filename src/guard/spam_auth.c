/* spam_auth.c: DKIM and DMARC of a received message, for the milter and
 * 'omamori spam check' (the packet path does no DNS: it reads the
 * receiving server's Authentication-Results instead, spam.c).
 *
 * DKIM: libopendkim verifies every signature; its key lookups come to
 * key_lookup() below, which asks our TXT resolver for
 * "selector._domainkey.domain". DMARC (RFC 7489): the policy record is the
 * TXT "v=DMARC1; p=..." at _dmarc.<From: domain>, else at _dmarc.<its
 * organisational domain> (then sp= applies); the message passes when a
 * passing DKIM signature's d=, or the SPF-passing envelope sender's
 * domain, is aligned with the From: domain (the same name for adkim=s /
 * aspf=s, the same organisational domain for r, the default). The record
 * is small enough to read here; no DMARC library is used.
 *
 * The TXT resolver: the system's (res_nquery, a state per call, so that
 * threads do not share one), or a zone file of "name TXT-data" lines
 * ('#' comments) for tests and offline use. */
#include <arpa/nameser.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <opendkim/dkim.h>

#include "guard/guard.h"

#define ZONE_MAX (4u << 20) /* bytes of a zone file */
#define TXT_MAX 4096        /* bytes of one TXT answer, its strings joined */
#define SIGS_MAX 8          /* signatures of one message looked at */

struct rr {
	char *name; /* lower case, no trailing dot */
	char *txt;
};

struct om_spam_auth_ctx {
	DKIM_LIB *lib;
	char *zone; /* the zone file's text, cut into rr */
	struct rr *rr;
	unsigned nrr;
	bool use_zone;
};

/* ---- the TXT resolver --------------------------------------------------- */

static void lower(char *s)
{
	for (; *s; s++)
		if ((unsigned)(*s - 'A') < 26u)
			*s = (char)(*s | 0x20);
}

static int zone_load(om_spam_auth_ctx *a, const char *path)
{
	uint8_t *data;
	size_t len;
	int e = om_spam_read_file(path, &data, &len);
	if (e < 0)
		return e;
	if (len > ZONE_MAX) {
		free(data);
		return -EFBIG;
	}
	char *z = realloc(data, len + 1);
	if (!z) {
		free(data);
		return -ENOMEM;
	}
	z[len] = '\0';
	unsigned lines = 1;
	for (size_t i = 0; i < len; i++)
		lines += z[i] == '\n';
	a->rr = calloc(lines, sizeof(*a->rr));
	if (!a->rr) {
		free(z);
		return -ENOMEM;
	}
	a->zone = z;
	char *save = NULL;
	for (char *l = strtok_r(z, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		size_t n = strlen(l);
		if (n && l[n - 1] == '\r')
			l[--n] = '\0';
		while (*l == ' ' || *l == '\t')
			l++;
		if (!*l || *l == '#')
			continue;
		char *sp = l + strcspn(l, " \t");
		if (!*sp)
			continue;
		*sp++ = '\0';
		while (*sp == ' ' || *sp == '\t')
			sp++;
		size_t nl = strlen(l);
		if (nl && l[nl - 1] == '.')
			l[nl - 1] = '\0';
		lower(l);
		/* a quoted value loses its quotes; "a" "b" strings are joined */
		char *v = sp, *o = sp;
		if (*v == '"') {
			bool in = false;
			for (; *v; v++) {
				if (*v == '"')
					in = !in;
				else if (in)
					*o++ = *v;
			}
			*o = '\0';
		}
		a->rr[a->nrr].name = l;
		a->rr[a->nrr].txt = sp;
		a->nrr++;
	}
	return 0;
}

/* a record that starts as asked ("v=DMARC1"; NULL: any) */
static bool wanted(const char *txt, const char *want)
{
	return !want || !strncmp(txt, want, strlen(want));
}

/* the TXT strings of the first answer that is wanted joined; 1 found, 0
 * none, -EAGAIN */
static int dns_txt(const char *name, const char *want, char *ret, size_t cap)
{
	struct __res_state st;
	memset(&st, 0, sizeof(st));
	if (res_ninit(&st) != 0)
		return -EAGAIN;
	st.retrans = 2;
	st.retry = 1;
	unsigned char ans[NS_PACKETSZ * 4];
	int n = res_nquery(&st, name, ns_c_in, ns_t_txt, ans, sizeof(ans));
	int herr = st.res_h_errno;
	res_nclose(&st);
	if (n < 0)
		return herr == HOST_NOT_FOUND || herr == NO_DATA ? 0 : -EAGAIN;
	ns_msg m;
	if (ns_initparse(ans, n, &m) < 0)
		return -EAGAIN;
	int found = 0;
	for (int i = 0; i < ns_msg_count(m, ns_s_an) && !found; i++) {
		ns_rr rr;
		if (ns_parserr(&m, ns_s_an, i, &rr) < 0 || ns_rr_type(rr) != ns_t_txt)
			continue;
		const unsigned char *p = ns_rr_rdata(rr), *end = p + ns_rr_rdlen(rr);
		size_t o = 0;
		while (p < end) {
			unsigned l = *p++;
			if (l > (unsigned)(end - p))
				break;
			if (o + l < cap) {
				memcpy(ret + o, p, l);
				o += l;
			}
			p += l;
		}
		ret[o] = '\0';
		found = wanted(ret, want);
	}
	return found;
}

/* the first TXT record of name that starts with want (NULL: any) */
static int txt_want(const om_spam_auth_ctx *a, const char *name, const char *want, char *ret,
                    size_t cap)
{
	if (!cap)
		return -EINVAL;
	if (!a->use_zone)
		return dns_txt(name, want, ret, cap);
	char n[OM_SPAM_DOMAIN_LEN + 80];
	snprintf(n, sizeof(n), "%s", name);
	size_t l = strlen(n);
	if (l && n[l - 1] == '.')
		n[l - 1] = '\0';
	lower(n);
	for (unsigned i = 0; i < a->nrr; i++)
		if (!strcmp(a->rr[i].name, n) && wanted(a->rr[i].txt, want)) {
			snprintf(ret, cap, "%s", a->rr[i].txt);
			return 1;
		}
	return 0;
}

int om_spam_auth_txt(const om_spam_auth_ctx *a, const char *name, char *ret, size_t cap)
{
	return txt_want(a, name, NULL, ret, cap);
}

/* ---- DKIM ----------------------------------------------------------------- */

static DKIM_CBSTAT key_lookup(DKIM *d, DKIM_SIGINFO *sig, u_char *buf, size_t buflen)
{
	const om_spam_auth_ctx *a = dkim_get_user_context(d);
	const char *sel = (const char *)dkim_sig_getselector(sig);
	const char *dom = (const char *)dkim_sig_getdomain(sig);
	if (!a || !sel || !dom)
		return DKIM_CBSTAT_ERROR;
	char name[OM_SPAM_DOMAIN_LEN * 2 + 16];
	int n = snprintf(name, sizeof(name), "%s._domainkey.%s", sel, dom);
	if (n < 0 || (size_t)n >= sizeof(name))
		return DKIM_CBSTAT_NOTFOUND;
	int r = om_spam_auth_txt(a, name, (char *)buf, buflen);
	return r == 1 ? DKIM_CBSTAT_CONTINUE : r == 0 ? DKIM_CBSTAT_NOTFOUND : DKIM_CBSTAT_TRYAGAIN;
}

int om_spam_auth_new(const char *zone_file, om_spam_auth_ctx **ret)
{
	om_spam_auth_ctx *a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	int e;
	if (zone_file) {
		a->use_zone = true;
		if ((e = zone_load(a, zone_file)) < 0) {
			om_spam_auth_free(a);
			return e;
		}
	}
	a->lib = dkim_init(NULL, NULL);
	if (!a->lib) {
		om_spam_auth_free(a);
		return -EINVAL;
	}
	/* LF line ends (a message read from a file) are taken as CRLF */
	unsigned flags = DKIM_LIBFLAGS_FIXCRLF;
	(void)dkim_options(a->lib, DKIM_OP_SETOPT, DKIM_OPTS_FLAGS, &flags, sizeof(flags));
	(void)dkim_set_key_lookup(a->lib, key_lookup);
	*ret = a;
	return 0;
}

om_spam_auth_ctx *om_spam_auth_free(om_spam_auth_ctx *a)
{
	if (!a)
		return NULL;
	if (a->lib)
		dkim_close(a->lib);
	free(a->rr);
	free(a->zone);
	free(a);
	return NULL;
}

/* ---- the From: domain ------------------------------------------------------ */

/* the domain of the first address of the first From: field of the raw
 * message (folded lines joined) */
static void from_domain(const uint8_t *msg, size_t len, char *out, size_t cap)
{
	out[0] = '\0';
	const char *p = (const char *)msg, *end = p + len;
	while (p < end) {
		const char *e = memchr(p, '\n', (size_t)(end - p));
		size_t ll = e ? (size_t)(e - p) : (size_t)(end - p);
		if (ll == 0 || (ll == 1 && p[0] == '\r'))
			return; /* the end of the header */
		if (ll > 5 && !strncasecmp(p, "from:", 5)) {
			char v[1024];
			size_t vl = 0;
			const char *q = p + 5;
			for (;;) {
				const char *le = e ? e : end;
				for (; q < le && vl + 1 < sizeof(v); q++)
					if (*q != '\r')
						v[vl++] = *q;
				if (!e || e + 1 >= end || (e[1] != ' ' && e[1] != '\t'))
					break;
				q = e + 1;
				e = memchr(q, '\n', (size_t)(end - q));
			}
			v[vl] = '\0';
			const char *lt = strchr(v, '<');
			const char *at = strchr(lt ? lt : v, '@');
			if (!at)
				return;
			size_t o = 0;
			for (const char *c = at + 1; *c && o + 1 < cap; c++) {
				if (*c == '>' || *c == ' ' || *c == ',' || *c == ')' || *c == '"' ||
				    *c == '\t' || *c == ';')
					break;
				out[o++] = (unsigned)(*c - 'A') < 26u ? (char)(*c | 0x20) : *c;
			}
			while (o && out[o - 1] == '.')
				o--;
			out[o] = '\0';
			return;
		}
		p += ll + (e ? 1 : 0);
	}
}

/* ---- DMARC ---------------------------------------------------------------- */

/* second-level labels under which names are registered at the third level */
static const char *const two_label_suffixes[] = {
    "co.jp",  "ne.jp",  "or.jp",  "ac.jp",  "ad.jp",  "ed.jp",  "go.jp",  "gr.jp",  "lg.jp",
    "co.uk",  "org.uk", "ac.uk",  "gov.uk", "ltd.uk", "me.uk",  "com.au", "net.au", "org.au",
    "edu.au", "co.nz",  "com.cn", "net.cn", "org.cn", "com.tw", "co.kr",  "com.br", "co.in",
    "com.sg", "com.hk", "co.th",  "com.my", "co.id",  "com.ph", "com.vn", "co.za",  "com.mx"};

const char *om_spam_org_domain(const char *d)
{
	size_t l = strlen(d);
	const char *dots[3] = {NULL, NULL, NULL}; /* the last three dots */
	for (size_t i = l; i-- > 0;)
		if (d[i] == '.') {
			if (!dots[0])
				dots[0] = d + i;
			else if (!dots[1])
				dots[1] = d + i;
			else if (!dots[2]) {
				dots[2] = d + i;
				break;
			}
		}
	if (!dots[1])
		return d; /* "example.com" or a single label */
	bool two = false;
	for (size_t i = 0; i < OM_ARRAY_SIZE(two_label_suffixes); i++)
		if (!strcasecmp(dots[1] + 1, two_label_suffixes[i]))
			two = true;
	if (!two)
		return dots[1] + 1;
	return dots[2] ? dots[2] + 1 : d;
}

struct dmarc_rec {
	char p[12], sp[12];
	bool adkim_strict, aspf_strict;
};

/* "v=DMARC1; p=reject; adkim=s": 0, or -EINVAL when it is not a DMARC record */
static int dmarc_parse(const char *txt, struct dmarc_rec *r)
{
	memset(r, 0, sizeof(*r));
	bool first = true, v = false;
	const char *p = txt;
	while (*p) {
		while (*p == ' ' || *p == '\t' || *p == ';')
			p++;
		if (!*p)
			break;
		size_t l = strcspn(p, ";");
		const char *eq = memchr(p, '=', l);
		if (eq) {
			size_t kl = (size_t)(eq - p), vl = l - kl - 1;
			while (kl && (p[kl - 1] == ' ' || p[kl - 1] == '\t'))
				kl--;
			const char *val = eq + 1;
			while (vl && (*val == ' ' || *val == '\t'))
				val++, vl--;
			while (vl && (val[vl - 1] == ' ' || val[vl - 1] == '\t'))
				vl--;
			if (first) {
				if (kl != 1 || p[0] != 'v' || vl != 6 || strncmp(val, "DMARC1", 6))
					return -EINVAL;
				v = true;
			} else if (kl == 1 && p[0] == 'p' && vl < sizeof(r->p)) {
				snprintf(r->p, sizeof(r->p), "%.*s", (int)vl, val);
			} else if (kl == 2 && !strncmp(p, "sp", 2) && vl < sizeof(r->sp)) {
				snprintf(r->sp, sizeof(r->sp), "%.*s", (int)vl, val);
			} else if (kl == 5 && !strncmp(p, "adkim", 5)) {
				r->adkim_strict = vl == 1 && val[0] == 's';
			} else if (kl == 4 && !strncmp(p, "aspf", 4)) {
				r->aspf_strict = vl == 1 && val[0] == 's';
			}
		} else if (first) {
			return -EINVAL;
		}
		first = false;
		p += l;
	}
	if (!v)
		return -EINVAL;
	lower(r->p);
	lower(r->sp);
	/* an unknown or missing p= is taken as "none" (RFC 7489 6.6.3) */
	if (strcmp(r->p, "none") && strcmp(r->p, "quarantine") && strcmp(r->p, "reject"))
		snprintf(r->p, sizeof(r->p), "none");
	if (r->sp[0] && strcmp(r->sp, "none") && strcmp(r->sp, "quarantine") &&
	    strcmp(r->sp, "reject"))
		r->sp[0] = '\0';
	return 0;
}

static bool aligned(const char *a, const char *from, bool strict)
{
	if (!a[0])
		return false;
	if (!strcasecmp(a, from))
		return true;
	return !strict && !strcasecmp(om_spam_org_domain(a), om_spam_org_domain(from));
}

/* *ret_rec filled: 1; no record: 0; DNS did not answer: -EAGAIN */
static int dmarc_lookup(const om_spam_auth_ctx *a, const char *from, struct dmarc_rec *rec,
                        bool *ret_org)
{
	char name[OM_SPAM_DOMAIN_LEN + 16], txt[TXT_MAX];
	const char *org = om_spam_org_domain(from);
	for (int k = 0; k < 2; k++) {
		const char *d = k ? org : from;
		if (k && !strcmp(org, from))
			break;
		snprintf(name, sizeof(name), "_dmarc.%s", d);
		/* other TXT records may share the name: the DMARC one */
		int r = txt_want(a, name, "v=DMARC1", txt, sizeof(txt));
		if (r < 0)
			return r;
		if (r == 1 && dmarc_parse(txt, rec) == 0) {
			*ret_org = k == 1;
			return 1;
		}
	}
	return 0;
}

/* ---- the verification ------------------------------------------------------- */

static const char *domain_of_addr(const char *addr)
{
	const char *at = addr ? strrchr(addr, '@') : NULL;
	return at ? at + 1 : "";
}

void om_spam_auth_verify(const om_spam_auth_ctx *a, const uint8_t *msg, size_t len,
                         const char *mail_from, enum om_spam_auth spf, om_spam_env *env)
{
	env->dkim = OM_AUTH_NONE;
	env->dmarc = OM_AUTH_NONE;
	env->dkim_domain[0] = env->dmarc_policy[0] = '\0';
	from_domain(msg, len, env->from_domain, sizeof(env->from_domain));

	/* DKIM: every signature; the passing domains kept for DMARC */
	char pass[SIGS_MAX][OM_SPAM_DOMAIN_LEN];
	unsigned npass = 0;
	DKIM_STAT st;
	DKIM *d = dkim_verify(a->lib, (const unsigned char *)"omamori", NULL, &st);
	if (d) {
		dkim_set_user_context(d, (void *)a);
		st = dkim_chunk(d, (u_char *)msg, len);
		if (st == DKIM_STAT_OK)
			st = dkim_chunk(d, NULL, 0);
		if (st == DKIM_STAT_OK || st == DKIM_STAT_NOSIG)
			st = dkim_eom(d, NULL);
		DKIM_SIGINFO **sigs = NULL;
		int nsigs = 0;
		bool any = false, temp = false, perm = false, bad = false;
		if (dkim_getsiglist(d, &sigs, &nsigs) == DKIM_STAT_OK && sigs) {
			for (int i = 0; i < nsigs && i < SIGS_MAX; i++) {
				DKIM_SIGINFO *s = sigs[i];
				const char *sd = (const char *)dkim_sig_getdomain(s);
				if (!sd)
					continue;
				any = true;
				unsigned fl = dkim_sig_getflags(s);
				if ((fl & DKIM_SIGFLAG_PASSED) &&
				    dkim_sig_getbh(s) == DKIM_SIGBH_MATCH) {
					snprintf(pass[npass], sizeof(pass[npass]), "%s", sd);
					lower(pass[npass]);
					npass++;
				} else {
					/* RFC 8601 2.7.1: a signature that does not verify
					 * fails; no key or a broken signature is a
					 * permanent error; DNS without an answer a
					 * temporary one */
					int se = dkim_sig_geterror(s);
					if (se == DKIM_SIGERROR_KEYFAIL ||
					    st == DKIM_STAT_CBTRYAGAIN)
						temp = true;
					else if (se == DKIM_SIGERROR_BADSIG ||
					         (se == DKIM_SIGERROR_OK &&
					          dkim_sig_getbh(s) != DKIM_SIGBH_MATCH) ||
					         ((fl & DKIM_SIGFLAG_PROCESSED) &&
					          se == DKIM_SIGERROR_OK))
						bad = true;
					else
						perm = true;
				}
				if (!env->dkim_domain[0]) {
					snprintf(env->dkim_domain, sizeof(env->dkim_domain), "%s",
					         sd);
					lower(env->dkim_domain);
				}
			}
		}
		if (npass) {
			env->dkim = OM_AUTH_PASS;
			snprintf(env->dkim_domain, sizeof(env->dkim_domain), "%.253s", pass[0]);
			/* the one aligned with From:, when there is one */
			for (unsigned i = 0; i < npass; i++)
				if (aligned(pass[i], env->from_domain, false)) {
					snprintf(env->dkim_domain, sizeof(env->dkim_domain),
					         "%.253s", pass[i]);
					break;
				}
		} else if (any) {
			env->dkim = bad    ? OM_AUTH_FAIL
			            : temp ? OM_AUTH_TEMPERROR
			            : perm ? OM_AUTH_PERMERROR
			                   : OM_AUTH_FAIL;
		} else if (st == DKIM_STAT_SYNTAX) {
			env->dkim = OM_AUTH_PERMERROR;
		}
		/* a key lookup that DNS did not answer stops the library before
		 * it lists the signatures: a temporary error, not "none" */
		if (!npass && (st == DKIM_STAT_CBTRYAGAIN || st == DKIM_STAT_KEYFAIL))
			env->dkim = OM_AUTH_TEMPERROR;
		dkim_free(d);
	}

	/* DMARC for the From: domain */
	if (!env->from_domain[0] || !strchr(env->from_domain, '.')) {
		env->dmarc = OM_AUTH_NONE;
		return;
	}
	struct dmarc_rec rec;
	bool at_org = false;
	int r = dmarc_lookup(a, env->from_domain, &rec, &at_org);
	if (r < 0) {
		env->dmarc = OM_AUTH_TEMPERROR;
		return;
	}
	if (r == 0) {
		env->dmarc = OM_AUTH_NONE;
		return;
	}
	snprintf(env->dmarc_policy, sizeof(env->dmarc_policy), "%s",
	         at_org && rec.sp[0] ? rec.sp : rec.p);
	bool ok = false;
	for (unsigned i = 0; i < npass && !ok; i++)
		ok = aligned(pass[i], env->from_domain, rec.adkim_strict);
	if (!ok && spf == OM_AUTH_PASS)
		ok = aligned(domain_of_addr(mail_from), env->from_domain, rec.aspf_strict);
	env->dmarc = ok ? OM_AUTH_PASS : OM_AUTH_FAIL;
}
