/* spam.c: the anti-spam and targeted-mail checks on one message, and the
 * proto observer that runs them on every received message. A message's
 * score is the Bayesian classifier's points plus the points of the header
 * and structure rules that fire; at the threshold (5.0 by default) it is
 * spam. Signs of business e-mail compromise (a payment or bank-account
 * change request with urgency, or from a look-alike or spoofed sender)
 * raise targeted_mail separately. The rules and their points are in
 * docs/spam.md. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "guard/guard.h"

struct rule {
	const char *name;
	double points;
};

/* the rules' points (docs/spam.md explains each) */
enum {
	R_BAYES_SPAM = 0,
	R_BAYES_HAM,
	R_LOOK_ALIKE,
	R_DISPLAY_SPOOF,
	R_OWN_FORGED,
	R_REPLY_TO,
	R_EXECUTABLE,
	R_DOUBLE_EXT,
	R_MACRO,
	R_ENC_ARCHIVE_PW,
	R_ENC_ARCHIVE,
	R_SPF_FAIL,
	R_DKIM_FAIL,
	R_DMARC_FAIL,
	R_URL_HARMFUL,
	R_URL_MALICIOUS,
	R_URL_IP,
	R_URL_INTEL,
	R_FIRST_CONTACT,
	R_N
};
static const struct rule rules[R_N] = {
    [R_BAYES_SPAM] = {"bayes_spam", 0},
    [R_BAYES_HAM] = {"bayes_ham", 0},
    [R_LOOK_ALIKE] = {"look_alike_domain", 4.0},
    [R_DISPLAY_SPOOF] = {"display_name_spoof", 3.0},
    [R_OWN_FORGED] = {"own_domain_forged", 4.0},
    [R_REPLY_TO] = {"reply_to_mismatch", 1.0},
    [R_EXECUTABLE] = {"executable_attachment", 5.0},
    [R_DOUBLE_EXT] = {"double_extension", 5.0},
    [R_MACRO] = {"macro_document", 2.5},
    [R_ENC_ARCHIVE_PW] = {"encrypted_archive_password", 3.5},
    [R_ENC_ARCHIVE] = {"encrypted_archive", 1.5},
    [R_SPF_FAIL] = {"spf_fail", 1.5},
    [R_DKIM_FAIL] = {"dkim_fail", 1.0},
    [R_DMARC_FAIL] = {"dmarc_fail", 2.5},
    [R_URL_HARMFUL] = {"url_harmful", 3.0},
    [R_URL_MALICIOUS] = {"url_malicious", 5.0},
    [R_URL_IP] = {"url_ip_host", 1.0},
    [R_URL_INTEL] = {"url_intel", 5.0},
    [R_FIRST_CONTACT] = {"first_contact_look_alike", 4.0},
};

void om_spam_config_init(om_spam_config *c)
{
	memset(c, 0, sizeof(*c));
	c->threshold = 5.0;
}

static char lc(char c)
{
	return (unsigned)((unsigned char)c - 'A') < 26u ? (char)(c | 0x20) : c;
}

static bool domain_char(unsigned char c)
{
	return (unsigned)((c | 0x20) - 'a') < 26u || (unsigned)(c - '0') < 10u || c == '-' ||
	       c == '.' || c >= 0x80;
}

int om_spam_config_domains(om_spam_config *c, bool partner, const char *list)
{
	char(*dst)[OM_SPAM_DOMAIN_LEN] = partner ? c->partner : c->own;
	unsigned *n = partner ? &c->npartner : &c->nown;
	const char *p = list;
	while (*p) {
		while (*p == ',' || *p == ' ')
			p++;
		if (!*p)
			break;
		size_t l = strcspn(p, ", ");
		if (*n >= OM_SPAM_DOMAINS_MAX)
			return -ENOSPC;
		if (l >= OM_SPAM_DOMAIN_LEN || !memchr(p, '.', l))
			return -EINVAL;
		for (size_t i = 0; i < l; i++) {
			if (!domain_char((unsigned char)p[i]))
				return -EINVAL;
			dst[*n][i] = lc(p[i]);
		}
		dst[*n][l] = '\0';
		(*n)++;
		p += l;
	}
	return 0;
}

/* ---- authentication results ------------------------------------------------- */

static const char *const auth_names[] = {"unknown",  "none",    "pass",      "fail",
                                         "softfail", "neutral", "temperror", "permerror"};

const char *om_spam_auth_name(enum om_spam_auth a)
{
	return (unsigned)a < OM_ARRAY_SIZE(auth_names) ? auth_names[a] : "unknown";
}

enum om_spam_auth om_spam_auth_parse(const char *s, size_t n)
{
	for (unsigned i = 1; i < OM_ARRAY_SIZE(auth_names); i++) {
		size_t l = strlen(auth_names[i]);
		if (n >= l && !strncasecmp(s, auth_names[i], l) &&
		    (n == l || !((unsigned)((s[l] | 0x20) - 'a') < 26u)))
			return (enum om_spam_auth)i;
	}
	/* RFC 8601's dkim "policy"/"hardfail" and spf "hardfail" */
	if (n >= 8 && !strncasecmp(s, "hardfail", 8))
		return OM_AUTH_FAIL;
	return OM_AUTH_UNKNOWN;
}

/* finds "method=result" in an Authentication-Results value */
static enum om_spam_auth ar_method(const char *v, size_t n, const char *method)
{
	size_t ml = strlen(method);
	for (size_t i = 0; i + ml + 1 < n; i++) {
		if (strncasecmp(v + i, method, ml) || v[i + ml] != '=')
			continue;
		if (i && ((unsigned)((v[i - 1] | 0x20) - 'a') < 26u || v[i - 1] == '.'))
			continue; /* "header.dkim=" is not the method */
		return om_spam_auth_parse(v + i + ml + 1, n - i - ml - 1);
	}
	return OM_AUTH_UNKNOWN;
}

/* the value of the first header field called name in the email.headers block */
static const char *hdr_get(const char *h, size_t n, const char *name, size_t *ret_len)
{
	size_t nl = strlen(name);
	const char *end = h + n;
	while (h < end) {
		const char *e = memchr(h, '\n', (size_t)(end - h));
		size_t ll = e ? (size_t)(e - h) : (size_t)(end - h);
		if (ll > nl + 1 && !strncasecmp(h, name, nl) && h[nl] == ':') {
			const char *v = h + nl + 1;
			size_t vl = ll - nl - 1;
			while (vl && *v == ' ')
				v++, vl--;
			*ret_len = vl;
			return v;
		}
		h += ll + (e ? 1 : 0);
	}
	return NULL;
}

/* ---- addresses and domains ------------------------------------------------------- */

struct addr {
	char display[256]; /* the display name, lower case */
	char domain[OM_SPAM_DOMAIN_LEN];
	bool has;
};

static void parse_addr(const char *v, size_t n, struct addr *a)
{
	memset(a, 0, sizeof(*a));
	if (!v)
		return;
	const char *lt = memchr(v, '<', n);
	const char *addr = v;
	size_t al = n;
	if (lt) {
		size_t dl = 0;
		for (const char *q = v; q < lt && dl + 1 < sizeof(a->display); q++)
			if (*q != '"')
				a->display[dl++] = lc(*q);
		a->display[dl] = '\0';
		addr = lt + 1;
		al = n - (size_t)(addr - v);
	}
	const char *at = memchr(addr, '@', al);
	if (!at)
		return;
	size_t l = 0;
	for (const char *q = at + 1; q < addr + al && l + 1 < sizeof(a->domain); q++) {
		if (*q == '>' || *q == ' ' || *q == ',' || *q == ')' || *q == '"')
			break;
		a->domain[l++] = lc(*q);
	}
	while (l && a->domain[l - 1] == '.')
		l--;
	a->domain[l] = '\0';
	a->has = l > 0;
}

/* d is dom or under it */
static bool under(const char *d, const char *dom)
{
	size_t l = strlen(d), m = strlen(dom);
	return l >= m && !strcmp(d + l - m, dom) && (l == m || d[l - m - 1] == '.');
}

static bool same_org(const char *a, const char *b)
{
	return under(a, b) || under(b, a);
}

/* characters that look alike folded together: 0/o, 1/l/i, rn/m, vv/w */
static size_t fold(const char *s, char *out, size_t cap)
{
	size_t o = 0;
	for (size_t i = 0; s[i] && o + 1 < cap; i++) {
		char c = s[i];
		if (c == 'r' && s[i + 1] == 'n') {
			c = 'm';
			i++;
		} else if (c == 'v' && s[i + 1] == 'v') {
			c = 'w';
			i++;
		} else if (c == '0') {
			c = 'o';
		} else if (c == '1' || c == 'i' || c == '|') {
			c = 'l';
		} else if (c == '_') {
			c = '-';
		}
		out[o++] = c;
	}
	out[o] = '\0';
	return o;
}

/* Damerau-Levenshtein distance (optimal string alignment), capped at 3 */
static unsigned distance(const char *a, const char *b)
{
	size_t n = strlen(a), m = strlen(b);
	if (n > 63 || m > 63)
		return 3;
	if ((n > m ? n - m : m - n) >= 3)
		return 3;
	unsigned d[64][64];
	for (size_t i = 0; i <= n; i++)
		d[i][0] = (unsigned)i;
	for (size_t j = 0; j <= m; j++)
		d[0][j] = (unsigned)j;
	for (size_t i = 1; i <= n; i++)
		for (size_t j = 1; j <= m; j++) {
			unsigned c = a[i - 1] != b[j - 1];
			unsigned v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (d[i - 1][j - 1] + c < v)
				v = d[i - 1][j - 1] + c;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	return d[n][m] < 3 ? d[n][m] : 3;
}

/* the first label of a domain ("example" of "example.co.jp") */
static size_t first_label(const char *d, char *out, size_t cap)
{
	size_t l = strcspn(d, ".");
	if (l >= cap)
		l = cap - 1;
	memcpy(out, d, l);
	out[l] = '\0';
	return l;
}

/* from looks like dom without being it or under it: one or two edits away
 * (for names of 6 or more characters; one for shorter), the same after
 * folding look-alike characters, or the same first label under another
 * suffix (example.co.jp -> example-co.jp, example.jp.net) */
bool om_spam_look_alike(const char *from, const char *dom)
{
	if (same_org(from, dom))
		return false;
	char fa[OM_SPAM_DOMAIN_LEN], fb[OM_SPAM_DOMAIN_LEN];
	fold(from, fa, sizeof(fa));
	fold(dom, fb, sizeof(fb));
	if (!strcmp(fa, fb))
		return true;
	size_t l = strlen(dom);
	unsigned dist = distance(from, dom);
	if (dist == 1 || (dist == 2 && l >= 10))
		return true;
	char la[OM_SPAM_DOMAIN_LEN], lb[OM_SPAM_DOMAIN_LEN];
	first_label(from, la, sizeof(la));
	size_t ll = first_label(dom, lb, sizeof(lb));
	if (ll >= 5 && !strcmp(la, lb))
		return true;
	/* the whole own name inside another first label: "example-co-jp.com" */
	char flat[OM_SPAM_DOMAIN_LEN];
	size_t k = 0;
	for (size_t i = 0; dom[i] && k + 1 < sizeof(flat); i++)
		flat[k++] = dom[i] == '.' ? '-' : dom[i];
	flat[k] = '\0';
	return ll >= 5 && !strncmp(from, flat, k) && (from[k] == '.' || from[k] == '\0');
}

/* ---- the result --------------------------------------------------------------- */

static void reason(om_spam_result *r, int rule, double points)
{
	r->score += points;
	for (unsigned i = 0; i < r->nreasons; i++)
		if (r->reasons[i] == rules[rule].name)
			return;
	if (r->nreasons < OM_SPAM_REASONS_MAX)
		r->reasons[r->nreasons++] = rules[rule].name;
}

static void sign(om_spam_result *r, const char *s)
{
	for (unsigned i = 0; i < r->nsigns; i++)
		if (r->signs[i] == s)
			return;
	if (r->nsigns < OM_SPAM_SIGNS_MAX)
		r->signs[r->nsigns++] = s;
}

/* the Bayesian probability as points: confident ham gives a little back,
 * p >= 0.8 reaches the threshold by itself, 0.4 to 0.8 needs 2.5 points of
 * rules more (chosen on folds 1-4 of the evaluation corpus, bench/spam.md:
 * a false-positive rate below 0.5 % there) */
static double bayes_points(double p)
{
	if (p < 0)
		return 0;
	if (p < 0.01)
		return -1.5;
	if (p < 0.1)
		return -0.5;
	if (p < 0.4)
		return 0;
	if (p < 0.8)
		return 2.5;
	if (p < 0.9)
		return 5.0;
	if (p < 0.99)
		return 5.5;
	return 6.5;
}

/* ---- attachments ------------------------------------------------------------- */

static const char *const exec_ext[] = {
    "exe", "scr", "com", "pif", "bat", "cmd", "js",  "jse", "vbs", "vbe", "wsf", "wsh", "hta",
    "lnk", "msi", "ps1", "jar", "cpl", "reg", "iso", "img", "vhd", "dll", "chm", "sys", "apk"};
static const char *const macro_ext[] = {"docm", "dotm", "xlsm", "xltm", "xlam",
                                        "pptm", "potm", "ppsm", "sldm"};
static const char *const doc_ext[] = {"pdf",  "doc", "docx", "xls",  "xlsx", "ppt",
                                      "pptx", "txt", "jpg",  "jpeg", "png",  "gif",
                                      "zip",  "rtf", "csv",  "htm",  "html"};

static bool ext_in(const char *e, size_t n, const char *const *list, size_t nl)
{
	for (size_t i = 0; i < nl; i++)
		if (strlen(list[i]) == n && !strncasecmp(e, list[i], n))
			return true;
	return false;
}

/* the last extension of name[0..n) (without the dot) and the one before */
static void exts(const char *name, size_t n, const char **e1, size_t *l1, const char **e2,
                 size_t *l2)
{
	*e1 = *e2 = NULL;
	*l1 = *l2 = 0;
	while (n && (name[n - 1] == ' ' || name[n - 1] == '.'))
		n--;
	const char *d1 = NULL, *d2 = NULL;
	for (size_t i = 0; i < n; i++)
		if (name[i] == '.') {
			d2 = d1;
			d1 = name + i;
		}
	if (d1) {
		*e1 = d1 + 1;
		*l1 = (size_t)(name + n - *e1);
	}
	if (d2) {
		*e2 = d2 + 1;
		*l2 = (size_t)(d1 - *e2);
		/* "invoice.pdf      .exe": the spaces hide the real extension */
		while (*l2 && (*e2)[*l2 - 1] == ' ')
			(*l2)--;
	}
}

static bool has_bytes(const uint8_t *h, size_t n, const char *s)
{
	size_t l = strlen(s);
	for (size_t i = 0; i + l <= n; i++)
		if (!memcmp(h + i, s, l))
			return true;
	return false;
}

/* ZIP local file headers in the first bytes: an entry with the
 * encryption flag, an executable entry, a macro project */
static void zip_head(const uint8_t *h, size_t n, bool *enc, bool *exe, bool *macro)
{
	for (size_t i = 0; i + 30 <= n; i++) {
		if (h[i] != 'P' || h[i + 1] != 'K' || h[i + 2] != 3 || h[i + 3] != 4)
			continue;
		unsigned flags = h[i + 6] | (unsigned)h[i + 7] << 8;
		size_t nl = h[i + 26] | (size_t)h[i + 27] << 8;
		if (flags & 1u)
			*enc = true;
		if (i + 30 + nl <= n) {
			const char *nm = (const char *)h + i + 30;
			const char *e1, *e2;
			size_t l1, l2;
			exts(nm, nl, &e1, &l1, &e2, &l2);
			if (e1 && ext_in(e1, l1, exec_ext, OM_ARRAY_SIZE(exec_ext)))
				*exe = true;
			if (nl >= 14 && has_bytes((const uint8_t *)nm, nl, "vbaProject.bin"))
				*macro = true;
		}
	}
}

static bool contains_ci(const char *h, size_t n, const char *w)
{
	size_t l = strlen(w);
	for (size_t i = 0; i + l <= n; i++)
		if (!strncasecmp(h + i, w, l))
			return true;
	return false;
}

static bool any_of(const char *h, size_t n, const char *const *ws, size_t nw)
{
	for (size_t i = 0; i < nw; i++)
		if (contains_ci(h, n, ws[i]))
			return true;
	return false;
}

static const char *const pw_words[] = {
    "password", "passcode", "pass:", "pw:", "パスワード", "暗証", "解凍", "パス:"};

static void attachments(const om_proto_tx *tx, const char *body, size_t blen, om_spam_result *r)
{
	const uint8_t *v;
	uint32_t n;
	for (uint32_t i = 0; i < 64 && (v = om_tx_get(tx, OM_TXB_EMAIL_ATTACHMENT, i, &n)); i++) {
		const char *e1, *e2;
		size_t l1, l2;
		exts((const char *)v, n, &e1, &l1, &e2, &l2);
		bool exe = e1 && ext_in(e1, l1, exec_ext, OM_ARRAY_SIZE(exec_ext));
		bool macro = e1 && ext_in(e1, l1, macro_ext, OM_ARRAY_SIZE(macro_ext));
		bool zenc = false, zexe = false, zmacro = false;
		uint32_t hn = 0;
		const uint8_t *head = om_tx_get(tx, OM_TXB_EMAIL_ATTACHMENT_HEAD, i, &hn);
		if (head && hn >= 2) {
			if ((head[0] == 'M' && head[1] == 'Z') || (hn >= 4 && !memcmp(head,
			                                                              "\x7f"
			                                                              "ELF",
			                                                              4)))
				exe = true;
			if (hn >= 4 && head[0] == 'P' && head[1] == 'K')
				zip_head(head, hn, &zenc, &zexe, &zmacro);
			/* an OLE2 compound file (.doc, .xls) carrying a VBA project */
			if (hn >= 8 && !memcmp(head, "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 8) &&
			    (has_bytes(head, hn, "_VBA_PROJECT") ||
			     has_bytes(head, hn, "V\0B\0A\0") || has_bytes(head, hn, "Macros")))
				macro = true;
		}
		if (e2 && e1 && exe && ext_in(e2, l2, doc_ext, OM_ARRAY_SIZE(doc_ext)))
			reason(r, R_DOUBLE_EXT, rules[R_DOUBLE_EXT].points);
		else if (exe || zexe)
			reason(r, R_EXECUTABLE, rules[R_EXECUTABLE].points);
		if (exe || zexe)
			r->malware_attachment = true;
		if (macro || zmacro)
			reason(r, R_MACRO, rules[R_MACRO].points);
		if (zenc) {
			if (body && any_of(body, blen, pw_words, OM_ARRAY_SIZE(pw_words)))
				reason(r, R_ENC_ARCHIVE_PW, rules[R_ENC_ARCHIVE_PW].points);
			else
				reason(r, R_ENC_ARCHIVE, rules[R_ENC_ARCHIVE].points);
		}
	}
}

/* ---- URLs ---------------------------------------------------------------------- */

static bool ip_host(const char *u, size_t n)
{
	const char *p = memchr(u, ':', n);
	if (!p || (size_t)(p - u) + 3 >= n)
		return false;
	p += 3;
	if (*p == '[')
		return true;
	unsigned dots = 0, digits = 0;
	for (; p < u + n && *p != '/' && *p != ':' && *p != '?'; p++) {
		if (*p == '.')
			dots++;
		else if ((unsigned)(*p - '0') < 10u)
			digits++;
		else
			return false;
	}
	return dots == 3 && digits >= 4;
}

/* host and path of an absolute URL ("scheme://user@host:port/path") */
static bool url_parts(const char *u, size_t n, const char **host, size_t *hl, const char **path,
                      size_t *pl)
{
	const char *p = memchr(u, ':', n);
	if (!p || (size_t)(p - u) + 3 > n || p[1] != '/' || p[2] != '/')
		return false;
	const char *h = p + 3, *end = u + n;
	const char *slash = memchr(h, '/', (size_t)(end - h));
	const char *he = slash ? slash : end;
	const char *at = memchr(h, '@', (size_t)(he - h));
	if (at)
		h = at + 1;
	const char *colon = memchr(h, ':', (size_t)(he - h));
	*host = h;
	*hl = (size_t)((colon ? colon : he) - h);
	*path = slash ? slash : "/";
	*pl = slash ? (size_t)(end - slash) : 1;
	return *hl > 0;
}

/* a link listed by threat intelligence: the URL, else its host as a domain */
static void url_intel(const om_intel_db *db, uint8_t min_conf, int64_t now, const char *u, size_t n,
                      om_spam_result *r)
{
	const char *host, *path;
	size_t hl, pl;
	if (r->nintel >= OM_SPAM_INTEL_MAX || !url_parts(u, n, &host, &hl, &path, &pl))
		return;
	om_intel_hit h;
	if (om_intel_db_lookup_url(db, host, hl, path, pl, now, &h) < 0 &&
	    om_intel_db_lookup_domain(db, host, hl, now, &h) < 0)
		return;
	if (h.confidence < min_conf)
		return;
	struct om_spam_intel *i = &r->intel[r->nintel++];
	snprintf(i->url, sizeof(i->url), "%.*s", (int)(n < 255 ? n : 255), u);
	om_intel_hit_text(&h, i->indicator, sizeof(i->indicator));
	snprintf(i->source, sizeof(i->source), "%s", h.source ? h.source : "");
	i->threat = (int)h.threat;
	i->confidence = h.confidence;
}

static void urls(const om_spam_config *cfg, const om_proto_tx *tx, const om_intel_db *idb,
                 int64_t now, om_spam_result *r)
{
	const uint8_t *v;
	uint32_t n;
	bool harmful = false, bad = false, ip = false;
	uint8_t min_conf = cfg->intel ? cfg->intel->min_confidence : 0;
	for (uint32_t i = 0; i < 256 && (v = om_tx_get(tx, OM_TXB_EMAIL_URL, i, &n)); i++) {
		if (cfg->url_check) {
			enum om_spam_url u = cfg->url_check(cfg->url_user, (const char *)v, n);
			harmful |= u == OM_SPAM_URL_HARMFUL;
			bad |= u == OM_SPAM_URL_MALICIOUS;
		}
		if (idb)
			url_intel(idb, min_conf, now, (const char *)v, n, r);
		ip |= ip_host((const char *)v, n);
	}
	if (r->nintel)
		reason(r, R_URL_INTEL, rules[R_URL_INTEL].points);
	else if (bad)
		reason(r, R_URL_MALICIOUS, rules[R_URL_MALICIOUS].points);
	else if (harmful)
		reason(r, R_URL_HARMFUL, rules[R_URL_HARMFUL].points);
	if (ip)
		reason(r, R_URL_IP, rules[R_URL_IP].points);
}

/* ---- targeted mail ------------------------------------------------------------ */

static const char *const pay_words[] = {"振込",         "振り込",     "送金",    "支払",
                                        "入金",         "請求書",     "口座",    "wire transfer",
                                        "bank account", "remittance", "payment", "invoice",
                                        "bank details", "iban",       "swift"};
static const char *const change_words[] = {"口座変更",     "振込先の変更",   "振込先が変更",
                                           "新しい口座",   "口座が変更",     "変更になりました",
                                           "new bank",     "new account",    "changed our bank",
                                           "updated bank", "change of bank", "account has changed"};
static const char *const urgent_words[] = {"至急",
                                           "大至急",
                                           "緊急",
                                           "本日中",
                                           "今日中",
                                           "急ぎ",
                                           "早急",
                                           "urgent",
                                           "asap",
                                           "immediately",
                                           "as soon as possible",
                                           "today"};
static const char *const secret_words[] = {
    "内密", "他言", "口外", "confidential", "keep this between", "do not share"};

struct senders {
	bool look, spoof, forged, reply;
	bool first_contact; /* first mail from a look-alike of a known correspondent */
	bool forged_from;   /* DMARC fails for the From: domain */
	bool listed_link;   /* a link listed by threat intelligence */
};

static void targeted(const char *subj, size_t sl, const char *body, size_t bl,
                     const struct senders *sd, om_spam_result *r)
{
	bool look = sd->look, spoof = sd->spoof, forged = sd->forged, reply = sd->reply;
	bool pay = any_of(subj, sl, pay_words, OM_ARRAY_SIZE(pay_words)) ||
	           any_of(body, bl, pay_words, OM_ARRAY_SIZE(pay_words));
	bool change = any_of(subj, sl, change_words, OM_ARRAY_SIZE(change_words)) ||
	              any_of(body, bl, change_words, OM_ARRAY_SIZE(change_words));
	bool urgent = any_of(subj, sl, urgent_words, OM_ARRAY_SIZE(urgent_words)) ||
	              any_of(body, bl, urgent_words, OM_ARRAY_SIZE(urgent_words));
	bool secret = any_of(body, bl, secret_words, OM_ARRAY_SIZE(secret_words));
	bool sender = look || spoof || forged || reply || sd->forged_from || sd->listed_link;
	/* a first mail from a look-alike of someone the company writes with is
	 * a sign by itself: that is how a business e-mail compromise starts */
	if (!sd->first_contact) {
		if (!(pay || change) || !(urgent || secret || sender || change))
			return;
		if (!(sender || (change && urgent) || (pay && urgent && secret)))
			return;
	}
	r->targeted = true;
	if (sd->first_contact)
		sign(r, "first_contact_look_alike");
	if (pay)
		sign(r, "payment_request");
	if (change)
		sign(r, "account_change");
	if (urgent)
		sign(r, "urgency");
	if (secret)
		sign(r, "secrecy");
	if (look)
		sign(r, "look_alike_sender");
	if (spoof)
		sign(r, "display_name_spoof");
	if (forged)
		sign(r, "forged_own_domain");
	if (reply)
		sign(r, "reply_elsewhere");
	if (sd->forged_from)
		sign(r, "forged_from");
	if (sd->listed_link)
		sign(r, "listed_link");
}

/* ---- the check ------------------------------------------------------------------ */

static bool is_known(const om_spam_config *c, const char *d, bool *own)
{
	for (unsigned i = 0; i < c->nown; i++)
		if (under(d, c->own[i])) {
			*own = true;
			return true;
		}
	for (unsigned i = 0; i < c->npartner; i++)
		if (under(d, c->partner[i]))
			return true;
	return false;
}

/* a display name that names another domain than the address's: "ceo@example.co.jp
 * <x@evil.example>", or the company's or a partner's domain */
static bool display_spoof(const om_spam_config *c, const struct addr *a)
{
	const char *at = strchr(a->display, '@');
	if (at) {
		char d[OM_SPAM_DOMAIN_LEN];
		size_t l = 0;
		for (const char *q = at + 1; *q && l + 1 < sizeof(d); q++) {
			if (*q == ' ' || *q == '>' || *q == ')' || *q == ',')
				break;
			d[l++] = *q;
		}
		d[l] = '\0';
		if (l && memchr(d, '.', l) && !same_org(d, a->domain))
			return true;
	}
	for (unsigned k = 0; k < 2; k++) {
		unsigned n = k ? c->npartner : c->nown;
		for (unsigned i = 0; i < n; i++) {
			const char *dom = k ? c->partner[i] : c->own[i];
			if (strstr(a->display, dom) && !same_org(a->domain, dom))
				return true;
		}
	}
	return false;
}

/* header.d of the first dkim result in an Authentication-Results value */
static void ar_dkim_domain(const char *v, size_t n, char *out, size_t cap)
{
	const char *end = v + n;
	for (const char *p = v; p + 9 <= end; p++) {
		if (strncasecmp(p, "header.d=", 9))
			continue;
		p += 9;
		size_t l = 0;
		while (p + l < end && domain_char((unsigned char)p[l]) && l + 1 < cap)
			l++;
		for (size_t i = 0; i < l; i++)
			out[i] = lc(p[i]);
		out[l] = '\0';
		return;
	}
}

static void check_msg(const om_spam_config *cfg, const om_proto_tx *tx, const om_spam_env *env,
                      const om_intel_db *idb, int64_t now, om_spam_result *ret)
{
	om_spam_result r;
	memset(&r, 0, sizeof(r));
	r.bayes = cfg->db ? om_spam_db_classify(cfg->db, tx) : -1.0;
	double bp = bayes_points(r.bayes);
	if (bp > 0)
		reason(&r, R_BAYES_SPAM, bp);
	else if (bp < 0)
		reason(&r, R_BAYES_HAM, bp);

	uint32_t hn = 0, bn = 0, sn = 0, fn = 0;
	const char *h = (const char *)om_tx_get(tx, OM_TXB_EMAIL_HEADERS, 0, &hn);
	const char *body = (const char *)om_tx_get(tx, OM_TXB_EMAIL_BODY, 0, &bn);
	const char *subj = (const char *)om_tx_get(tx, OM_TXB_EMAIL_SUBJECT, 0, &sn);
	const char *fromv = (const char *)om_tx_get(tx, OM_TXB_EMAIL_FROM, 0, &fn);
	if (!body)
		body = "", bn = 0;
	if (!subj)
		subj = "", sn = 0;

	/* authentication: what the transport checked, else the receiving
	 * server's Authentication-Results (the first, topmost one) */
	r.spf = env ? env->spf : OM_AUTH_UNKNOWN;
	r.dkim = env ? env->dkim : OM_AUTH_UNKNOWN;
	r.dmarc = env ? env->dmarc : OM_AUTH_UNKNOWN;
	if (env) {
		snprintf(r.dkim_domain, sizeof(r.dkim_domain), "%s", env->dkim_domain);
		snprintf(r.dmarc_policy, sizeof(r.dmarc_policy), "%s", env->dmarc_policy);
	}
	size_t al = 0;
	const char *ar = h ? hdr_get(h, hn, "authentication-results", &al) : NULL;
	if (ar) {
		if (!r.spf)
			r.spf = ar_method(ar, al, "spf");
		if (!r.dkim) {
			r.dkim = ar_method(ar, al, "dkim");
			if (r.dkim)
				ar_dkim_domain(ar, al, r.dkim_domain, sizeof(r.dkim_domain));
		}
		if (!r.dmarc)
			r.dmarc = ar_method(ar, al, "dmarc");
	}
	const char *rs = h && !r.spf ? hdr_get(h, hn, "received-spf", &al) : NULL;
	if (rs)
		r.spf = om_spam_auth_parse(rs, al);
	if (r.spf == OM_AUTH_FAIL)
		reason(&r, R_SPF_FAIL, rules[R_SPF_FAIL].points);
	if (r.dkim == OM_AUTH_FAIL)
		reason(&r, R_DKIM_FAIL, rules[R_DKIM_FAIL].points);
	if (r.dmarc == OM_AUTH_FAIL)
		reason(&r, R_DMARC_FAIL, rules[R_DMARC_FAIL].points);

	/* the sender */
	struct addr from, rto;
	parse_addr(fromv, fn, &from);
	size_t rl = 0;
	const char *rv = h ? hdr_get(h, hn, "reply-to", &rl) : NULL;
	parse_addr(rv, rl, &rto);
	struct senders sd = {0};
	bool own = false;
	if (from.has) {
		bool known = is_known(cfg, from.domain, &own);
		for (unsigned k = 0; !known && k < 2 && !sd.look; k++) {
			unsigned n = k ? cfg->npartner : cfg->nown;
			for (unsigned i = 0; i < n && !sd.look; i++)
				sd.look = om_spam_look_alike(from.domain,
				                             k ? cfg->partner[i] : cfg->own[i]);
		}
		if (sd.look)
			reason(&r, R_LOOK_ALIKE, rules[R_LOOK_ALIKE].points);
		/* first contact: a domain the company has never written with that
		 * looks like one it has */
		if (!known && !sd.look && cfg->corr &&
		    !om_spam_corr_known(cfg->corr, from.domain) &&
		    om_spam_corr_look_alike(cfg->corr, from.domain, om_spam_look_alike, r.corr_like,
		                            sizeof(r.corr_like))) {
			sd.first_contact = true;
			reason(&r, R_FIRST_CONTACT, rules[R_FIRST_CONTACT].points);
		}
		if ((sd.spoof = display_spoof(cfg, &from)))
			reason(&r, R_DISPLAY_SPOOF, rules[R_DISPLAY_SPOOF].points);
		/* mail from outside in the company's own name that its own
		 * authentication does not vouch for */
		if (own && (r.spf == OM_AUTH_FAIL || r.spf == OM_AUTH_SOFTFAIL ||
		            r.dmarc == OM_AUTH_FAIL || r.dkim == OM_AUTH_FAIL)) {
			sd.forged = true;
			reason(&r, R_OWN_FORGED, rules[R_OWN_FORGED].points);
		}
		if (rto.has && !same_org(rto.domain, from.domain)) {
			sd.reply = true;
			reason(&r, R_REPLY_TO, rules[R_REPLY_TO].points);
		}
		/* DMARC failing for the From: domain: the sender is not who the
		 * From: line says */
		sd.forged_from = r.dmarc == OM_AUTH_FAIL;
	}
	attachments(tx, body, bn, &r);
	urls(cfg, tx, idb, now, &r);
	sd.listed_link = r.nintel > 0;
	targeted(subj, sn, body, bn, &sd, &r);
	r.verdict = r.score >= cfg->threshold ? OM_SPAM_SPAM : OM_SPAM_HAM;
	*ret = r;
}

void om_spam_check(const om_spam_config *cfg, const om_proto_tx *tx, const om_spam_env *env,
                   om_spam_result *ret)
{
	check_msg(cfg, tx, env, cfg->intel_db, cfg->intel_db ? (int64_t)time(NULL) : 0, ret);
}

/* the domain of each address in a header value ("a <x@b.example>, c@d.example") */
static void each_domain(const char *v, size_t n, om_spam_corr *c, int64_t now)
{
	const char *end = v + n;
	for (const char *p = v; p < end; p++) {
		if (*p != '@')
			continue;
		char d[OM_SPAM_DOMAIN_LEN];
		size_t l = 0;
		for (const char *q = p + 1; q < end && l + 1 < sizeof(d); q++) {
			if (!domain_char((unsigned char)*q))
				break;
			d[l++] = lc(*q);
		}
		while (l && d[l - 1] == '.')
			l--;
		d[l] = '\0';
		if (l && memchr(d, '.', l))
			(void)om_spam_corr_add(c, d, now);
	}
}

void om_spam_learn(const om_spam_config *cfg, const om_proto_tx *tx, const om_spam_result *r,
                   int64_t now)
{
	if (!cfg->corr)
		return;
	const uint8_t *v;
	uint32_t n;
	if (r->sent) { /* whom the company writes to */
		for (uint32_t i = 0; i < 64 && (v = om_tx_get(tx, OM_TXB_SMTP_RCPT_TO, i, &n)); i++)
			each_domain((const char *)v, n, cfg->corr, now);
		if ((v = om_tx_get(tx, OM_TXB_EMAIL_TO, 0, &n)))
			each_domain((const char *)v, n, cfg->corr, now);
		return;
	}
	/* who writes to it: a clean message's sender, never a look-alike's */
	if (r->verdict == OM_SPAM_SPAM || r->targeted || r->corr_like[0] ||
	    r->dmarc == OM_AUTH_FAIL || !(v = om_tx_get(tx, OM_TXB_EMAIL_FROM, 0, &n)))
		return;
	struct addr a;
	parse_addr((const char *)v, n, &a);
	bool own = false;
	if (a.has && !is_known(cfg, a.domain, &own))
		(void)om_spam_corr_add(cfg->corr, a.domain, now);
}

void om_spam_write(om_json *j, const om_spam_result *r)
{
	om_json_obj_open(j, "spam");
	om_json_double(j, "score",
	               (double)(long)(r->score * 100.0 + (r->score < 0 ? -0.5 : 0.5)) / 100.0);
	om_json_str(j, "verdict", r->verdict == OM_SPAM_SPAM ? "spam" : "ham");
	if (r->bayes >= 0)
		om_json_double(j, "bayes", (double)(long)(r->bayes * 1000.0 + 0.5) / 1000.0);
	om_json_arr_open(j, "reasons");
	for (unsigned i = 0; i < r->nreasons; i++)
		om_json_str(j, NULL, r->reasons[i]);
	om_json_arr_close(j);
	om_json_bool(j, "targeted_mail", r->targeted);
	if (r->nsigns) {
		om_json_arr_open(j, "signs");
		for (unsigned i = 0; i < r->nsigns; i++)
			om_json_str(j, NULL, r->signs[i]);
		om_json_arr_close(j);
	}
	if (r->corr_like[0])
		om_json_str(j, "looks_like", r->corr_like);
	if (r->spf || r->dkim || r->dmarc) {
		om_json_obj_open(j, "auth");
		if (r->spf)
			om_json_str(j, "spf", om_spam_auth_name(r->spf));
		if (r->dkim)
			om_json_str(j, "dkim", om_spam_auth_name(r->dkim));
		if (r->dkim_domain[0])
			om_json_str(j, "dkim_domain", r->dkim_domain);
		if (r->dmarc)
			om_json_str(j, "dmarc", om_spam_auth_name(r->dmarc));
		if (r->dmarc_policy[0])
			om_json_str(j, "dmarc_policy", r->dmarc_policy);
		om_json_obj_close(j);
	}
	if (r->nintel) {
		om_json_arr_open(j, "intel");
		for (unsigned i = 0; i < r->nintel; i++) {
			const struct om_spam_intel *x = &r->intel[i];
			om_json_obj_open(j, NULL);
			om_json_str(j, "url", x->url);
			om_json_str(j, "indicator", x->indicator);
			om_json_str(j, "threat",
			            om_intel_threat_name((enum om_intel_threat)x->threat));
			om_json_str(j, "source", x->source);
			om_json_u64(j, "confidence", x->confidence);
			om_json_obj_close(j);
		}
		om_json_arr_close(j);
	}
	om_json_obj_close(j);
}

const om_event_meta *om_spam_meta(const om_spam_result *r)
{
	static const om_event_meta spam = {
	    .category = "spam", .severity = 3, .action = "detected", .advice = "advice.spam"};
	static const om_event_meta tm = {.category = "spam",
	                                 .severity = 2,
	                                 .action = "detected",
	                                 .advice = "advice.targeted_mail"};
	if (r->targeted)
		return &tm;
	return r->verdict == OM_SPAM_SPAM ? &spam : NULL;
}

/* ---- the web filter as the URL hook ------------------------------------------ */

enum om_spam_url om_spam_url_webfilter(void *user, const char *url, size_t len)
{
	const om_wf_filter *wf = user;
	const char *p = memchr(url, ':', len);
	if (!wf || !p || (size_t)(p - url) + 3 > len || p[1] != '/' || p[2] != '/')
		return OM_SPAM_URL_CLEAN;
	const char *host = p + 3, *end = url + len;
	const char *slash = memchr(host, '/', (size_t)(end - host));
	size_t hl = slash ? (size_t)(slash - host) : (size_t)(end - host);
	const char *at = memchr(host, '@', hl);
	if (at) { /* user info */
		hl -= (size_t)(at + 1 - host);
		host = at + 1;
	}
	om_wf_decision *d = malloc(sizeof(*d));
	if (!d)
		return OM_SPAM_URL_CLEAN;
	enum om_spam_url r = OM_SPAM_URL_CLEAN;
	if (om_wf_decide(wf->db, wf->policy, host, hl, slash, slash ? (size_t)(end - slash) : 0,
	                 d) == 0) {
		if (d->verdict == OM_WF_BLOCKED ||
		    (d->verdict == OM_WF_LISTED && (d->cats & wf->alert_cats)))
			r = OM_SPAM_URL_HARMFUL;
	}
	free(d);
	return r;
}

/* ---- the observer ------------------------------------------------------------- */

struct spam_worker {
	const om_spam_config *cfg;
	unsigned worker;
	om_spam_result last; /* the note's argument: lives until the next message */
	uint64_t messages, spam, targeted;
};

static void *sw_new(void *user, unsigned worker)
{
	struct spam_worker *w = calloc(1, sizeof(*w));
	if (w) {
		w->cfg = user;
		w->worker = worker;
	}
	return w;
}

static void sw_free(void *wctx, void *user)
{
	(void)user;
	free(wctx);
}

static void note_body(om_json *j, void *arg)
{
	om_spam_write(j, arg);
}

/* Each listed link as the engine's intel alert (its callback, as the
 * intel observer reports a listed HTTP host), field "email.url"; the
 * internal host is the office's side of the flow. */
static void intel_alerts(om_intel_matcher *m, unsigned worker, om_flow *f, const om_proto_tx *tx,
                         const om_intel_db *db, int64_t now, const om_spam_result *r)
{
	if (!m->cb)
		return;
	void *user = m->worker_user ? m->worker_user(m->user, worker) : m->user;
	for (unsigned i = 0; i < r->nintel; i++) {
		const char *u = r->intel[i].url, *host, *path;
		size_t hl, pl, ul = strlen(u);
		om_intel_hit h;
		if (!url_parts(u, ul, &host, &hl, &path, &pl) ||
		    (om_intel_db_lookup_url(db, host, hl, path, pl, now, &h) < 0 &&
		     om_intel_db_lookup_domain(db, host, hl, now, &h) < 0))
			continue;
		om_intel_event ev = {
		    .hit = &h, .field = "email.url", .value = u, .value_len = ul, .tx = tx};
		bool ci = m->base && om_base_is_home(m->base, &f->cli);
		bool si = m->base && om_base_is_home(m->base, &f->srv);
		ev.host_known = ci || si || !m->base;
		ev.host = (ci || !si) ? f->cli : f->srv;
		m->cb(user, f, &ev);
	}
}

static enum om_tx_verdict sw_on_tx(void *wctx, om_flow *f, const om_proto_tx *tx)
{
	struct spam_worker *w = wctx;
	const om_spam_config *cfg = w->cfg;
	const char *ap = tx->app_proto;
	if (!ap || (strcmp(ap, "smtp") && strcmp(ap, "pop3") && strcmp(ap, "imap")))
		return OM_TX_VERDICT_ACCEPT;
	/* an SMTP session without a message (no DATA) has nothing to score */
	uint32_t n;
	if (!om_tx_get(tx, OM_TXB_EMAIL_HEADERS, 0, &n))
		return OM_TX_VERDICT_ACCEPT;
	int64_t now = (int64_t)(f->last / 1000000u);
	/* mail the office sends out: its recipients are correspondents */
	if (!strcmp(ap, "smtp") && cfg->base && om_base_is_home(cfg->base, &f->cli) &&
	    !om_base_is_home(cfg->base, &f->srv)) {
		memset(&w->last, 0, sizeof(w->last));
		w->last.sent = true;
		om_spam_learn(cfg, tx, &w->last, now);
		return OM_TX_VERDICT_ACCEPT;
	}
	const om_intel_db *idb = cfg->intel_db;
	if (cfg->intel && cfg->intel->live)
		idb = om_intel_live_get(cfg->intel->live, w->worker);
	if (cfg->intel && cfg->intel->now)
		now = cfg->intel->now;
	check_msg(cfg, tx, NULL, idb, now, &w->last);
	om_spam_learn(cfg, tx, &w->last, now);
	w->messages++;
	if (cfg->intel && idb && w->last.nintel)
		intel_alerts(cfg->intel, w->worker, f, tx, idb, now, &w->last);
	const om_event_meta *meta = om_spam_meta(&w->last);
	(void)om_proto_tx_note(f, note_body, &w->last, meta);
	if (!meta && !w->last.nintel)
		return OM_TX_VERDICT_ACCEPT;
	w->spam += w->last.verdict == OM_SPAM_SPAM;
	w->targeted += w->last.targeted;
	if (w->last.nintel && cfg->intel && cfg->intel->block)
		return OM_TX_VERDICT_DROP;
	return OM_TX_VERDICT_ALERT;
}

void om_spam_observer(om_proto_observer *o, const om_spam_config *cfg)
{
	memset(o, 0, sizeof(*o));
	o->name = "spam";
	o->worker_new = sw_new;
	o->worker_free = sw_free;
	o->on_tx = sw_on_tx;
	o->user = (void *)cfg;
}
