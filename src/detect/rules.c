/* rules.c: the rule language. A rule is parsed into a dt_rule: the header
 * (action, protocol, addresses, ports, direction), then its options in
 * order. Anything the engine cannot match is a skip with a reason
 * ("keyword:xbits"); text that is not a rule is a syntax error. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/internal.h"

#define RULE_MAX_LEN (4u << 20)

/* result codes of the option parsers */
#define SKIP 1
#define BAD (-EINVAL)

struct pctx {
	om_detect *d;
	struct dt_rule *r;
	char *reason;
	size_t rlen;
	int cur;  /* the sticky buffer contents go to */
	int last; /* index of the last content or pcre in r->m, -1 none */
	int xf;   /* index of the transform set of cur, -1 none */
	char *extract[DT_MAX_EXTRACT];
	unsigned nextract;
};

static int why(struct pctx *c, int rc, const char *fmt, const char *arg)
{
	if (c->reason && c->rlen) {
		if (snprintf(c->reason, c->rlen, fmt, arg ? arg : "") < 0)
			c->reason[0] = '\0';
	}
	return rc;
}

/* ---- small helpers ------------------------------------------------------------- */

static char *trim(char *s)
{
	while (*s && isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

static char *unquote(char *s)
{
	size_t n = strlen(s);
	if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
		s[n - 1] = '\0';
		return s + 1;
	}
	return s;
}

static int parse_i64(const char *s, int64_t lo, int64_t hi, int64_t *ret)
{
	char *end;
	if (!*s)
		return -EINVAL;
	errno = 0;
	long long v = strtoll(s, &end, 0);
	while (*end && isspace((unsigned char)*end))
		end++;
	if (errno || *end || v < lo || v > hi)
		return -EINVAL;
	*ret = v;
	return 0;
}

/* splits s at commas (not inside quotes) into at most max fields, trimmed */
static unsigned split(char *s, char sep, char **out, unsigned max)
{
	unsigned n = 0;
	bool q = false;
	char *start = s;
	for (char *p = s;; p++) {
		if (*p == '"' && (p == s || p[-1] != '\\'))
			q = !q;
		if ((*p == sep && !q) || *p == '\0') {
			bool end = *p == '\0';
			*p = '\0';
			if (n < max)
				out[n++] = trim(start);
			if (end)
				break;
			start = p + 1;
		}
	}
	return n;
}

/* ---- addresses ------------------------------------------------------------------- */

void dt_addr_free(struct dt_addr *a)
{
	if (!a)
		return;
	for (uint32_t i = 0; i < a->nsub; i++)
		dt_addr_free(a->sub[i]);
	free(a->sub);
	free(a->subneg);
	free(a->pos);
	free(a->neg);
	free(a);
}

void dt_ports_free(struct dt_ports *p)
{
	if (!p)
		return;
	free(p->pos);
	free(p->neg);
	free(p);
}

static int addr_cmp(const om_addr *a, const om_addr *b)
{
	return memcmp(a->b, b->b, 16);
}

static bool in_ranges(const struct dt_range *r, uint32_t n, const om_addr *x)
{
	uint32_t lo = 0, hi = n;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (addr_cmp(&r[mid].hi, x) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && addr_cmp(&r[lo].lo, x) <= 0;
}

bool dt_addr_match(const struct dt_addr *a, const om_addr *x)
{
	if (!a || a->any)
		return true;
	bool havepos = a->npos > 0;
	bool pos = a->npos && in_ranges(a->pos, a->npos, x);
	for (uint32_t i = 0; i < a->nsub; i++) {
		bool m = dt_addr_match(a->sub[i], x);
		if (a->subneg[i]) {
			if (m)
				return false;
		} else {
			havepos = true;
			pos = pos || m;
		}
	}
	if (a->nneg && in_ranges(a->neg, a->nneg, x))
		return false;
	return havepos ? pos : true;
}

static int range_cmp(const void *pa, const void *pb)
{
	const struct dt_range *a = pa, *b = pb;
	return addr_cmp(&a->lo, &b->lo);
}

/* sorts and merges overlapping or adjacent ranges */
static uint32_t ranges_merge(struct dt_range *r, uint32_t n)
{
	if (n < 2)
		return n;
	qsort(r, n, sizeof(*r), range_cmp);
	uint32_t o = 0;
	for (uint32_t i = 1; i < n; i++) {
		if (addr_cmp(&r[i].lo, &r[o].hi) <= 0) {
			if (addr_cmp(&r[i].hi, &r[o].hi) > 0)
				r[o].hi = r[i].hi;
		} else {
			r[++o] = r[i];
		}
	}
	return o + 1;
}

static void cidr_range(const om_cidr *c, struct dt_range *r)
{
	r->lo = c->addr;
	r->hi = c->addr;
	for (unsigned bit = c->prefix; bit < 128; bit++) {
		r->lo.b[bit / 8] &= (uint8_t) ~(0x80u >> (bit % 8));
		r->hi.b[bit / 8] |= (uint8_t)(0x80u >> (bit % 8));
	}
}

static const char *var_get(const om_detect *d, const char *name)
{
	for (unsigned i = 0; i < d->nvars; i++)
		if (!strcmp(d->vars[i].name, name))
			return d->vars[i].value;
	return NULL;
}

static int push_range(struct dt_range **v, uint32_t *n, uint32_t *cap, const struct dt_range *r)
{
	if (*n == *cap) {
		uint32_t nc = *cap ? *cap * 2 : 4;
		struct dt_range *nv = realloc(*v, nc * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		*v = nv;
		*cap = nc;
	}
	(*v)[(*n)++] = *r;
	return 0;
}

static int addr_parse(struct pctx *c, const char *s, int depth, struct dt_addr **ret);

/* one element of an address list (s is modified) */
static int addr_elem(struct pctx *c, struct dt_addr *a, char *s, int depth, uint32_t *pcap,
                     uint32_t *ncap)
{
	bool neg = false;
	s = trim(s);
	while (*s == '!') {
		neg = !neg;
		s = trim(s + 1);
	}
	if (!*s)
		return why(c, BAD, "address: empty element", NULL);
	if (!strcmp(s, "any")) {
		if (neg)
			return why(c, SKIP, "address:!any", NULL);
		struct dt_range r;
		memset(&r.lo, 0, sizeof(r.lo));
		memset(&r.hi, 0xff, sizeof(r.hi));
		return push_range(&a->pos, &a->npos, pcap, &r);
	}
	om_cidr cidr;
	if (*s != '[' && *s != '$') {
		char tmp[64];
		if (strlen(s) >= sizeof(tmp))
			return why(c, BAD, "address: '%s' is not an address", s);
		snprintf(tmp, sizeof(tmp), "%s", s);
		if (!strchr(tmp, '/')) {
			if (om_addr_parse(tmp, &cidr.addr) < 0)
				return why(c, BAD, "address: '%s' is not an address", s);
			cidr.prefix = 128;
		} else if (om_cidr_parse(tmp, &cidr) < 0) {
			return why(c, BAD, "address: '%s' is not a network", s);
		}
		struct dt_range r;
		cidr_range(&cidr, &r);
		return neg ? push_range(&a->neg, &a->nneg, ncap, &r)
		           : push_range(&a->pos, &a->npos, pcap, &r);
	}
	struct dt_addr *sub = NULL;
	int rc = addr_parse(c, s, depth + 1, &sub);
	if (rc != 0)
		return rc;
	struct dt_addr **ns = realloc(a->sub, (a->nsub + 1) * sizeof(*ns));
	bool *nn = ns ? realloc(a->subneg, (a->nsub + 1) * sizeof(*nn)) : NULL;
	if (ns)
		a->sub = ns;
	if (!nn) {
		dt_addr_free(sub);
		return -ENOMEM;
	}
	a->subneg = nn;
	a->sub[a->nsub] = sub;
	a->subneg[a->nsub++] = neg;
	return 0;
}

static int addr_parse(struct pctx *c, const char *in, int depth, struct dt_addr **ret)
{
	if (depth > DT_VAR_DEPTH)
		return why(c, BAD, "address: variables nested too deep", NULL);
	while (isspace((unsigned char)*in))
		in++;
	struct dt_addr *a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	int rc = 0;
	if (!strcmp(in, "any")) {
		a->any = true;
		*ret = a;
		return 0;
	}
	if (in[0] == '$') {
		const char *v = var_get(c->d, in + 1);
		if (!v) {
			dt_addr_free(a);
			return why(c, SKIP, "variable:%s", in + 1);
		}
		char *tmp = strdup(v);
		if (!tmp) {
			dt_addr_free(a);
			return -ENOMEM;
		}
		uint32_t pc = 0, nc = 0;
		rc = addr_elem(c, a, tmp, depth, &pc, &nc);
		free(tmp);
	} else {
		size_t n = strlen(in);
		char *tmp;
		if (in[0] == '[') {
			if (n < 2 || in[n - 1] != ']') {
				dt_addr_free(a);
				return why(c, BAD, "address: unbalanced '['", NULL);
			}
			tmp = strndup(in + 1, n - 2);
		} else {
			tmp = strdup(in);
		}
		if (!tmp) {
			dt_addr_free(a);
			return -ENOMEM;
		}
		uint32_t pc = 0, nc = 0;
		/* split at top-level commas */
		int lvl = 0;
		char *start = tmp;
		for (char *p = tmp;; p++) {
			if (*p == '[')
				lvl++;
			else if (*p == ']')
				lvl--;
			if (lvl < 0) {
				rc = why(c, BAD, "address: unbalanced ']'", NULL);
				break;
			}
			if ((*p == ',' && lvl == 0) || *p == '\0') {
				bool end = *p == '\0';
				*p = '\0';
				rc = addr_elem(c, a, start, depth, &pc, &nc);
				if (rc != 0 || end)
					break;
				start = p + 1;
			}
		}
		if (rc == 0 && lvl != 0)
			rc = why(c, BAD, "address: unbalanced '['", NULL);
		free(tmp);
	}
	if (rc != 0) {
		dt_addr_free(a);
		return rc;
	}
	a->npos = ranges_merge(a->pos, a->npos);
	a->nneg = ranges_merge(a->neg, a->nneg);
	*ret = a;
	return 0;
}

/* ---- ports ------------------------------------------------------------------------- */

bool dt_ports_match(const struct dt_ports *p, uint16_t x)
{
	if (!p || p->any)
		return true;
	bool pos = p->npos == 0;
	for (uint32_t i = 0; i < p->npos && !pos; i++)
		pos = x >= p->pos[i].lo && x <= p->pos[i].hi;
	if (!pos)
		return false;
	for (uint32_t i = 0; i < p->nneg; i++)
		if (x >= p->neg[i].lo && x <= p->neg[i].hi)
			return false;
	return true;
}

static int ports_add(struct pctx *c, struct dt_ports *p, char *s, bool neg, int depth)
{
	s = trim(s);
	while (*s == '!') {
		neg = !neg;
		s = trim(s + 1);
	}
	if (depth > DT_VAR_DEPTH)
		return why(c, BAD, "port: variables nested too deep", NULL);
	if (!*s)
		return why(c, BAD, "port: empty element", NULL);
	if (*s == '$' || *s == '[') {
		char *tmp;
		if (*s == '$') {
			const char *v = var_get(c->d, s + 1);
			if (!v)
				return why(c, SKIP, "variable:%s", s + 1);
			tmp = strdup(v);
		} else {
			size_t n = strlen(s);
			if (n < 2 || s[n - 1] != ']')
				return why(c, BAD, "port: unbalanced '['", NULL);
			tmp = strndup(s + 1, n - 2);
		}
		if (!tmp)
			return -ENOMEM;
		int rc = 0;
		if (*s == '$') {
			/* a variable's value is a port, a range or a list */
			rc = ports_add(c, p, tmp, neg, depth + 1);
			free(tmp);
			return rc;
		}
		int lvl = 0;
		char *start = tmp;
		for (char *q = tmp;; q++) {
			if (*q == '[')
				lvl++;
			else if (*q == ']')
				lvl--;
			if ((*q == ',' && lvl == 0) || *q == '\0') {
				bool end = *q == '\0';
				*q = '\0';
				rc = ports_add(c, p, start, neg, depth + 1);
				if (rc != 0 || end)
					break;
				start = q + 1;
			}
		}
		free(tmp);
		return rc;
	}
	if (!strcmp(s, "any")) {
		if (neg)
			return why(c, BAD, "port: !any matches nothing", NULL);
		if (depth == 0)
			p->any = true;
		s = "0:65535";
	}
	struct dt_prange r;
	int64_t lo, hi;
	char tmp[32];
	snprintf(tmp, sizeof(tmp), "%s", s);
	char *colon = strchr(tmp, ':');
	if (colon) {
		*colon = '\0';
		if (parse_i64(tmp[0] ? tmp : "0", 0, 65535, &lo) < 0 ||
		    parse_i64(colon[1] ? colon + 1 : "65535", 0, 65535, &hi) < 0 || lo > hi)
			return why(c, BAD, "port: '%s' is not a port range", s);
	} else {
		if (parse_i64(tmp, 0, 65535, &lo) < 0)
			return why(c, BAD, "port: '%s' is not a port", s);
		hi = lo;
	}
	r.lo = (uint16_t)lo;
	r.hi = (uint16_t)hi;
	struct dt_prange **v = neg ? &p->neg : &p->pos;
	uint32_t *n = neg ? &p->nneg : &p->npos;
	if (*n >= 4096)
		return why(c, BAD, "port: list too long", NULL);
	struct dt_prange *nv = realloc(*v, (*n + 1) * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	*v = nv;
	nv[(*n)++] = r;
	return 0;
}

static int ports_parse(struct pctx *c, const char *s, struct dt_ports **ret)
{
	struct dt_ports *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	char *tmp = strdup(s);
	if (!tmp) {
		free(p);
		return -ENOMEM;
	}
	int rc = ports_add(c, p, tmp, false, 0);
	free(tmp);
	if (rc != 0) {
		dt_ports_free(p);
		return rc;
	}
	if (p->any && (p->npos > 1 || p->nneg))
		p->any = false;
	*ret = p;
	return 0;
}

/* ---- classification ------------------------------------------------------------------- */

int dt_class_find(const om_detect *d, const char *name)
{
	for (unsigned i = 0; i < d->ncls; i++)
		if (!strcmp(d->cls[i].name, name))
			return (int)i;
	return -1;
}

/* ---- content ------------------------------------------------------------------------------- */

static int hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch = tolower(ch);
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

/* the pattern of content:"..." with |hex| and \ escapes */
static int content_decode(struct pctx *c, const char *s, uint8_t **ret, uint32_t *ret_len)
{
	size_t n = strlen(s);
	if (n < 2 || s[0] != '"' || s[n - 1] != '"')
		return why(c, BAD, "content: the pattern must be in double quotes", NULL);
	s++;
	n -= 2;
	uint8_t *out = malloc(n + 1);
	if (!out)
		return -ENOMEM;
	uint32_t o = 0;
	bool hex = false;
	int hi = -1;
	for (size_t i = 0; i < n; i++) {
		int ch = (unsigned char)s[i];
		if (hex) {
			if (ch == '|') {
				if (hi >= 0)
					goto bad;
				hex = false;
			} else if (isspace(ch)) {
				continue;
			} else {
				int v = hexval(ch);
				if (v < 0)
					goto bad;
				if (hi < 0) {
					hi = v;
				} else {
					out[o++] = (uint8_t)(hi << 4 | v);
					hi = -1;
				}
			}
			continue;
		}
		if (ch == '|') {
			hex = true;
		} else if (ch == '\\') {
			if (i + 1 >= n)
				goto bad;
			out[o++] = (uint8_t)s[++i];
		} else if (ch == '"' || ch == ';') {
			goto bad; /* must be escaped */
		} else {
			out[o++] = (uint8_t)ch;
		}
	}
	if (hex || o == 0 || o > DT_MAX_PATTERN)
		goto bad;
	*ret = out;
	*ret_len = o;
	return 0;
bad:
	free(out);
	return why(c, BAD, "content: bad pattern", NULL);
}

static struct dt_match *new_match(struct pctx *c, int type)
{
	struct dt_rule *r = c->r;
	if (r->nm >= DT_MAX_MATCHES)
		return NULL;
	struct dt_match *m = &r->m[r->nm++];
	memset(m, 0, sizeof(*m));
	m->type = (uint8_t)type;
	m->buf = (uint8_t)c->cur;
	return m;
}

static int num_or_var(struct pctx *c, const char *s, int64_t lo, int64_t hi, struct dt_num *ret)
{
	if (parse_i64(s, lo, hi, &ret->v) == 0) {
		ret->var = -1;
		return 0;
	}
	for (unsigned i = 0; i < c->nextract; i++)
		if (!strcmp(c->extract[i], s)) {
			ret->var = (int)i;
			ret->v = 0;
			return 0;
		}
	return why(c, BAD, "'%s' is neither a number nor a byte_extract variable", s);
}

static struct dt_match *last_content(struct pctx *c, const char *kw)
{
	if (c->last < 0 || c->r->m[c->last].type != DT_M_CONTENT) {
		why(c, BAD, "%s: no content before it", kw);
		return NULL;
	}
	return &c->r->m[c->last];
}

/* a content modifier */
static int content_mod(struct pctx *c, const char *kw, char *val)
{
	struct dt_match *m = last_content(c, kw);
	if (!m)
		return BAD;
	if (!strcmp(kw, "nocase")) {
		m->flags |= DT_CF_NOCASE;
		return 0;
	}
	if (!strcmp(kw, "startswith")) {
		m->flags |= DT_CF_STARTSWITH;
		return 0;
	}
	if (!strcmp(kw, "endswith")) {
		m->flags |= DT_CF_ENDSWITH;
		return 0;
	}
	if (!strcmp(kw, "rawbytes"))
		return 0;
	if (!strcmp(kw, "fast_pattern")) {
		m->flags |= DT_CF_FAST;
		if (val && !strcmp(val, "only")) {
			m->flags |= DT_CF_FAST_ONLY;
		} else if (val) {
			char *f[2];
			int64_t a, b;
			if (split(val, ',', f, 2) != 2 || parse_i64(f[0], 0, 65535, &a) < 0 ||
			    parse_i64(f[1], 1, 65535, &b) < 0 || a + b > m->u.c.len)
				return why(c, BAD, "fast_pattern: bad offset,length", NULL);
			m->u.c.fp_chop = true;
			m->u.c.fp_off = (uint16_t)a;
			m->u.c.fp_len = (uint16_t)b;
		}
		return 0;
	}
	if (!val)
		return why(c, BAD, "%s needs a value", kw);
	struct dt_num v;
	int64_t lo = (!strcmp(kw, "distance")) ? -65535 : 0;
	if (num_or_var(c, val, lo, 65535, &v) < 0)
		return BAD;
	if (!strcmp(kw, "offset")) {
		m->u.c.offset = v;
		m->flags |= DT_CF_HAS_OFFSET;
	} else if (!strcmp(kw, "depth")) {
		if (v.var < 0 && v.v == 0)
			return why(c, BAD, "depth: must be at least 1", NULL);
		m->u.c.depth = v;
		m->flags |= DT_CF_HAS_DEPTH;
	} else if (!strcmp(kw, "distance")) {
		m->u.c.distance = v;
		m->flags |= DT_CF_HAS_DISTANCE | DT_CF_RELATIVE;
	} else if (!strcmp(kw, "within")) {
		if (v.var < 0 && v.v < (int64_t)m->u.c.len)
			return why(c, BAD, "within: shorter than its content", NULL);
		m->u.c.within = v;
		m->flags |= DT_CF_HAS_WITHIN | DT_CF_RELATIVE;
	}
	return 0;
}

/* ---- sticky buffers ---------------------------------------------------------------------- */

static const struct {
	const char *name;
	int buf;
} legacy_mods[] = {
    {"http_uri", DT_BUF_TX(OM_TXB_HTTP_URI)},
    {"http_raw_uri", DT_BUF_TX(OM_TXB_HTTP_URI_RAW)},
    {"http_method", DT_BUF_TX(OM_TXB_HTTP_METHOD)},
    {"http_header", DT_BUF_TX(OM_TXB_HTTP_HEADER)},
    {"http_raw_header", DT_BUF_TX(OM_TXB_HTTP_HEADER_RAW)},
    {"http_cookie", DT_BUF_TX(OM_TXB_HTTP_COOKIE)},
    {"http_user_agent", DT_BUF_TX(OM_TXB_HTTP_USER_AGENT)},
    {"http_host", DT_BUF_TX(OM_TXB_HTTP_HOST)},
    {"http_raw_host", DT_BUF_TX(OM_TXB_HTTP_HOST_RAW)},
    {"http_client_body", DT_BUF_TX(OM_TXB_HTTP_REQUEST_BODY)},
    {"http_server_body", DT_BUF_TX(OM_TXB_HTTP_RESPONSE_BODY)},
    {"http_stat_code", DT_BUF_TX(OM_TXB_HTTP_STAT_CODE)},
    {"http_stat_msg", DT_BUF_TX(OM_TXB_HTTP_STAT_MSG)},
};

static const struct {
	const char *name;
	int buf;
} sticky_alias[] = {
    {"pkt_data", DT_BUF_PKT},
    {"file_data", DT_BUF_TX(OM_TXB_HTTP_RESPONSE_BODY)},
    {"file.data", DT_BUF_TX(OM_TXB_HTTP_RESPONSE_BODY)},
    {"http.response_body", DT_BUF_TX(OM_TXB_HTTP_RESPONSE_BODY)},
    {"http.request_body", DT_BUF_TX(OM_TXB_HTTP_REQUEST_BODY)},
    {"http.uri.raw", DT_BUF_TX(OM_TXB_HTTP_URI_RAW)},
    {"http_request_line", DT_BUF_TX(OM_TXB_HTTP_REQUEST_LINE)},
    {"http_response_line", DT_BUF_TX(OM_TXB_HTTP_RESPONSE_LINE)},
    {"http_header_names", DT_BUF_TX(OM_TXB_HTTP_HEADER_NAMES)},
    {"http_content_type", DT_BUF_TX(OM_TXB_HTTP_CONTENT_TYPE)},
    {"http_referer", DT_BUF_TX(OM_TXB_HTTP_REFERER)},
    {"http_start", DT_BUF_TX(OM_TXB_HTTP_START)},
    {"http_protocol", DT_BUF_TX(OM_TXB_HTTP_PROTOCOL)},
    {"http.server", DT_BUF_TX(OM_TXB_HTTP_SERVER)},
    {"http.location", DT_BUF_TX(OM_TXB_HTTP_LOCATION)},
    {"dns_query", DT_BUF_TX(OM_TXB_DNS_QUERY)},
    {"tls_sni", DT_BUF_TX(OM_TXB_TLS_SNI)},
    {"tls_cert_subject", DT_BUF_TX(OM_TXB_TLS_CERT_SUBJECT)},
    {"tls_cert_issuer", DT_BUF_TX(OM_TXB_TLS_CERT_ISSUER)},
    {"tls_cert_serial", DT_BUF_TX(OM_TXB_TLS_CERT_SERIAL)},
    {"tls_cert_fingerprint", DT_BUF_TX(OM_TXB_TLS_CERT_FINGERPRINT)},
    {"ja3_hash", DT_BUF_TX(OM_TXB_JA3_HASH)},
    {"ja3_string", DT_BUF_TX(OM_TXB_JA3_STRING)},
    {"ja3s_hash", DT_BUF_TX(OM_TXB_JA3S_HASH)},
    {"ja3s_string", DT_BUF_TX(OM_TXB_JA3S_STRING)},
    {"ja4.hash", DT_BUF_TX(OM_TXB_JA4)},
    {"tls.cert_subject", DT_BUF_TX(OM_TXB_TLS_CERT_SUBJECT)},
};

static int sticky_find(const char *kw)
{
	for (size_t i = 0; i < sizeof(sticky_alias) / sizeof(sticky_alias[0]); i++)
		if (!strcmp(sticky_alias[i].name, kw))
			return sticky_alias[i].buf;
	if (strchr(kw, '.')) {
		int b = om_tx_buf_from_name(kw);
		if (b >= 0)
			return DT_BUF_TX(b);
	}
	return -1;
}

bool dt_buf_is_response(int buf)
{
	switch (buf - 1) {
	case OM_TXB_HTTP_STAT_CODE:
	case OM_TXB_HTTP_STAT_MSG:
	case OM_TXB_HTTP_RESPONSE_LINE:
	case OM_TXB_HTTP_RESPONSE_HEADER:
	case OM_TXB_HTTP_RESPONSE_BODY:
	case OM_TXB_HTTP_LOCATION:
	case OM_TXB_HTTP_SERVER:
	case OM_TXB_DNS_ANSWER_NAME:
	case OM_TXB_TLS_CERT_SUBJECT:
	case OM_TXB_TLS_CERT_ISSUER:
	case OM_TXB_TLS_CERT_SERIAL:
	case OM_TXB_TLS_CERT_FINGERPRINT:
	case OM_TXB_TLS_CERT:
	case OM_TXB_JA3S_HASH:
	case OM_TXB_JA3S_STRING: return buf != DT_BUF_PKT;
	default: return false;
	}
}

static const struct {
	const char *name;
	int x;
} xforms[] = {
    {"to_lowercase", DT_X_LOWER},
    {"to_uppercase", DT_X_UPPER},
    {"dotprefix", DT_X_DOTPREFIX},
    {"strip_whitespace", DT_X_STRIP_WS},
    {"compress_whitespace", DT_X_COMPRESS_WS},
    {"url_decode", DT_X_URL_DECODE},
    {"header_lowercase", DT_X_HEADER_LOWER},
    {"strip_pseudo_headers", DT_X_STRIP_PSEUDO},
};

static int xform_find(const char *kw)
{
	for (size_t i = 0; i < sizeof(xforms) / sizeof(xforms[0]); i++)
		if (!strcmp(xforms[i].name, kw))
			return xforms[i].x;
	return 0;
}

/* ---- pcre ---------------------------------------------------------------------------------- */

static int pcre_parse(struct pctx *c, char *val)
{
	bool neg = false;
	val = trim(val);
	if (*val == '!') {
		neg = true;
		val = trim(val + 1);
	}
	val = unquote(val);
	if (val[0] != '/')
		return why(c, BAD, "pcre: the expression must start with '/'", NULL);
	char *end = strrchr(val, '/');
	if (end == val)
		return why(c, BAD, "pcre: the expression must end with '/'", NULL);
	*end = '\0';
	const char *re = val + 1;
	uint32_t opts = 0;
	bool rel = false;
	int buf = c->cur;
	for (const char *f = end + 1; *f; f++) {
		int b = -1;
		switch (*f) {
		case 'i': opts |= PCRE2_CASELESS; break;
		case 's': opts |= PCRE2_DOTALL; break;
		case 'm': opts |= PCRE2_MULTILINE; break;
		case 'x': opts |= PCRE2_EXTENDED; break;
		case 'A': opts |= PCRE2_ANCHORED; break;
		case 'E': opts |= PCRE2_DOLLAR_ENDONLY; break;
		case 'G': opts |= PCRE2_UNGREEDY; break;
		case 'R': rel = true; break;
		case 'B':
		case 'O': break;
		case 'U': b = DT_BUF_TX(OM_TXB_HTTP_URI); break;
		case 'I': b = DT_BUF_TX(OM_TXB_HTTP_URI_RAW); break;
		case 'H': b = DT_BUF_TX(OM_TXB_HTTP_HEADER); break;
		case 'D': b = DT_BUF_TX(OM_TXB_HTTP_HEADER_RAW); break;
		case 'M': b = DT_BUF_TX(OM_TXB_HTTP_METHOD); break;
		case 'C': b = DT_BUF_TX(OM_TXB_HTTP_COOKIE); break;
		case 'P': b = DT_BUF_TX(OM_TXB_HTTP_REQUEST_BODY); break;
		case 'Q': b = DT_BUF_TX(OM_TXB_HTTP_RESPONSE_BODY); break;
		case 'S': b = DT_BUF_TX(OM_TXB_HTTP_STAT_CODE); break;
		case 'Y': b = DT_BUF_TX(OM_TXB_HTTP_STAT_MSG); break;
		case 'V': b = DT_BUF_TX(OM_TXB_HTTP_USER_AGENT); break;
		case 'W': b = DT_BUF_TX(OM_TXB_HTTP_HOST); break;
		case 'Z': b = DT_BUF_TX(OM_TXB_HTTP_HOST_RAW); break;
		default: {
			char fl[2] = {*f, 0};
			return why(c, SKIP, "pcre-flag:%s", fl);
		}
		}
		if (b >= 0)
			buf = b;
	}
	int errcode;
	PCRE2_SIZE erroff;
	pcre2_code *code =
	    pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED, opts, &errcode, &erroff, NULL);
	if (!code)
		return why(c, BAD, "pcre: the expression does not compile", NULL);
	(void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE); /* interpreted without JIT */
	int saved = c->cur;
	c->cur = buf;
	struct dt_match *m = new_match(c, DT_M_PCRE);
	c->cur = saved;
	if (!m) {
		pcre2_code_free(code);
		return why(c, SKIP, "limit:matches", NULL);
	}
	m->u.re.code = code;
	m->u.re.relative = rel;
	m->u.re.negated = neg;
	uint32_t all = 0;
	m->u.re.anchored =
	    pcre2_pattern_info(code, PCRE2_INFO_ALLOPTIONS, &all) == 0 && (all & PCRE2_ANCHORED);
	if (rel)
		m->flags |= DT_CF_RELATIVE;
	c->last = (int)(m - c->r->m);
	return 0;
}

/* ---- byte_* --------------------------------------------------------------------------------- */

static int byte_common(struct pctx *c, char **f, unsigned nf, unsigned from, struct dt_match *m)
{
	for (unsigned i = from; i < nf; i++) {
		char *k = f[i];
		int64_t v;
		if (!strcmp(k, "relative")) {
			m->u.b.bflags |= DT_BF_RELATIVE;
			m->flags |= DT_CF_RELATIVE;
		} else if (!strcmp(k, "little")) {
			m->u.b.bflags |= DT_BF_LITTLE;
		} else if (!strcmp(k, "big")) {
			m->u.b.bflags &= (uint8_t)~DT_BF_LITTLE;
		} else if (!strcmp(k, "string")) {
			m->u.b.bflags |= DT_BF_STRING;
			if (!m->u.b.base)
				m->u.b.base = 10;
		} else if (!strcmp(k, "hex")) {
			m->u.b.base = 16;
		} else if (!strcmp(k, "dec")) {
			m->u.b.base = 10;
		} else if (!strcmp(k, "oct")) {
			m->u.b.base = 8;
		} else if (!strcmp(k, "align")) {
			m->u.b.bflags |= DT_BF_ALIGN;
		} else if (!strcmp(k, "from_beginning")) {
			m->u.b.bflags |= DT_BF_FROM_BEGINNING;
		} else if (!strcmp(k, "from_end")) {
			m->u.b.bflags |= DT_BF_FROM_END;
		} else if (!strcmp(k, "dce")) {
			return why(c, SKIP, "keyword:dce", NULL);
		} else if (!strncmp(k, "multiplier ", 11) &&
		           parse_i64(trim(k + 11), 1, 65535, &v) == 0) {
			m->u.b.multiplier = (int32_t)v;
		} else if (!strncmp(k, "post_offset ", 12) &&
		           parse_i64(trim(k + 12), -65535, 65535, &v) == 0) {
			m->u.b.post_offset = (int32_t)v;
		} else if (!strncmp(k, "bitmask ", 8) &&
		           parse_i64(trim(k + 8), 1, INT64_MAX, &v) == 0) {
			m->u.b.bitmask = (uint64_t)v;
		} else if (!strncmp(k, "endian ", 7)) {
			if (!strcmp(trim(k + 7), "little"))
				m->u.b.bflags |= DT_BF_LITTLE;
		} else if (!strncmp(k, "string ", 7)) {
			const char *b = trim(k + 7);
			m->u.b.bflags |= DT_BF_STRING;
			m->u.b.base = !strcmp(b, "hex") ? 16 : !strcmp(b, "oct") ? 8 : 10;
		} else {
			return why(c, BAD, "byte option '%s' is not known", k);
		}
	}
	if ((m->u.b.bflags & DT_BF_STRING) && m->u.b.nbytes > 20)
		return why(c, BAD, "byte string longer than 20 characters", NULL);
	if (!(m->u.b.bflags & DT_BF_STRING) && m->u.b.nbytes > 8)
		return why(c, BAD, "byte count above 8", NULL);
	return 0;
}

static int byte_parse(struct pctx *c, const char *kw, char *val)
{
	if (!val)
		return why(c, BAD, "%s needs a value", kw);
	char *f[16];
	unsigned nf = split(val, ',', f, 16);
	int type = !strcmp(kw, "byte_test")      ? DT_M_BYTE_TEST
	           : !strcmp(kw, "byte_jump")    ? DT_M_BYTE_JUMP
	           : !strcmp(kw, "byte_extract") ? DT_M_BYTE_EXTRACT
	                                         : DT_M_BYTE_MATH;
	struct dt_match *m = new_match(c, type);
	if (!m)
		return why(c, SKIP, "limit:matches", NULL);
	m->u.b.multiplier = 1;
	m->u.b.var = -1;
	int64_t n;
	if (type == DT_M_BYTE_MATH) {
		/* bytes N, offset N, oper OP, rvalue V, result NAME, ... */
		int have = 0;
		unsigned rest = 0;
		char *others[16];
		for (unsigned i = 0; i < nf; i++) {
			char *k = f[i], *sp = strchr(k, ' ');
			char *v = sp ? trim(sp + 1) : NULL;
			if (sp)
				*sp = '\0';
			if (!strcmp(k, "bytes") && v && parse_i64(v, 1, 10, &n) == 0) {
				m->u.b.nbytes = (uint8_t)n;
				have |= 1;
			} else if (!strcmp(k, "offset") && v) {
				if (num_or_var(c, v, -65535, 65535, &m->u.b.offset) < 0)
					return BAD;
				have |= 2;
			} else if (!strcmp(k, "oper") && v) {
				static const char *ops[] = {"+", "-", "*", "/", "<<", ">>"};
				for (unsigned o = 0; o < 6; o++)
					if (!strcmp(v, ops[o])) {
						m->u.b.math_op = (uint8_t)(o + 1);
						have |= 4;
					}
			} else if (!strcmp(k, "rvalue") && v) {
				if (num_or_var(c, v, 0, UINT32_MAX, &m->u.b.value) < 0)
					return BAD;
				have |= 8;
			} else if (!strcmp(k, "result") && v) {
				if (c->nextract >= DT_MAX_EXTRACT)
					return why(c, SKIP, "limit:byte_extract", NULL);
				if (!(c->extract[c->nextract] = strdup(v)))
					return -ENOMEM;
				m->u.b.var = (int)c->nextract++;
				have |= 16;
			} else {
				if (sp)
					*sp = ' ';
				others[rest++] = k;
			}
		}
		if (have != 31)
			return why(c, BAD,
			           "byte_math: needs bytes, offset, oper, rvalue and result", NULL);
		return byte_common(c, others, rest, 0, m);
	}
	unsigned need = type == DT_M_BYTE_TEST ? 4 : type == DT_M_BYTE_JUMP ? 2 : 3;
	if (nf < need || parse_i64(f[0], 1, 20, &n) < 0)
		return why(c, BAD, "%s: bad byte count or too few values", kw);
	m->u.b.nbytes = (uint8_t)n;
	if (type == DT_M_BYTE_TEST) {
		char *op = f[1];
		if (*op == '!') {
			m->u.b.bflags |= DT_BF_NEGOP;
			op++;
		}
		static const struct {
			const char *s;
			uint8_t op;
		} ops[] = {{"=", DT_EQ},  {"<", DT_LT},  {">", DT_GT}, {"<=", DT_LE},
		           {">=", DT_GE}, {"&", DT_AND}, {"^", DT_OR}, {"!=", DT_NE}};
		bool ok = false;
		for (unsigned o = 0; o < 8; o++)
			if (!strcmp(op, ops[o].s)) {
				m->u.b.op = ops[o].op;
				ok = true;
			}
		if (!strcmp(f[1], "!="))
			ok = true, m->u.b.op = DT_EQ;
		if (!ok)
			return why(c, BAD, "byte_test: operator '%s' is not known", f[1]);
		if (num_or_var(c, f[2], 0, INT64_MAX, &m->u.b.value) < 0 ||
		    num_or_var(c, f[3], -65535, 65535, &m->u.b.offset) < 0)
			return BAD;
		return byte_common(c, f, nf, 4, m);
	}
	if (num_or_var(c, f[1], -65535, 65535, &m->u.b.offset) < 0)
		return BAD;
	if (type == DT_M_BYTE_EXTRACT) {
		if (c->nextract >= DT_MAX_EXTRACT)
			return why(c, SKIP, "limit:byte_extract", NULL);
		if (!(c->extract[c->nextract] = strdup(f[2])))
			return -ENOMEM;
		m->u.b.var = (int)c->nextract++;
		return byte_common(c, f, nf, 3, m);
	}
	return byte_common(c, f, nf, 2, m);
}

/* N, <N, >N, <=N, >=N, !N, N<>M */
static int size_parse(struct pctx *c, const char *kw, char *v, int *op, uint64_t *lo, uint64_t *hi)
{
	int64_t a, b;
	v = trim(v);
	char *r = strstr(v, "<>");
	if (r) {
		*r = '\0';
		if (parse_i64(trim(v), 0, UINT32_MAX, &a) < 0 ||
		    parse_i64(trim(r + 2), 0, UINT32_MAX, &b) < 0 || a >= b)
			return why(c, BAD, "%s: bad range", kw);
		*op = 3;
		*lo = (uint64_t)a;
		*hi = (uint64_t)b;
		return 0;
	}
	int o = 0;
	if (!strncmp(v, "<=", 2)) {
		o = 5;
		v += 2;
	} else if (!strncmp(v, ">=", 2)) {
		o = 6;
		v += 2;
	} else if (*v == '<') {
		o = 1;
		v++;
	} else if (*v == '>') {
		o = 2;
		v++;
	} else if (*v == '!') {
		o = 4;
		v++;
	}
	if (parse_i64(trim(v), 0, UINT32_MAX, &a) < 0)
		return why(c, BAD, "%s: bad value", kw);
	*op = o;
	*lo = *hi = (uint64_t)a;
	return 0;
}

/* ---- flow, flowbits, thresholds ------------------------------------------------------------- */

static int flow_parse(struct pctx *c, char *val)
{
	char *f[8];
	unsigned n = split(val, ',', f, 8);
	for (unsigned i = 0; i < n; i++) {
		const char *k = f[i];
		if (!strcmp(k, "to_server") || !strcmp(k, "from_client"))
			c->r->flow |= DT_FL_TOSERVER;
		else if (!strcmp(k, "to_client") || !strcmp(k, "from_server"))
			c->r->flow |= DT_FL_TOCLIENT;
		else if (!strcmp(k, "established"))
			c->r->flow |= DT_FL_ESTABLISHED;
		else if (!strcmp(k, "not_established"))
			c->r->flow |= DT_FL_NOT_ESTABLISHED;
		else if (!strcmp(k, "stateless"))
			c->r->flow |= DT_FL_STATELESS;
		else if (!strcmp(k, "only_stream"))
			c->r->flow |= DT_FL_ONLY_STREAM;
		else if (!strcmp(k, "no_stream"))
			c->r->flow |= DT_FL_NO_STREAM;
		else
			return why(c, BAD, "flow: '%s' is not known", k);
	}
	if ((c->r->flow & DT_FL_TOSERVER) && (c->r->flow & DT_FL_TOCLIENT))
		return why(c, BAD, "flow: to_server and to_client together", NULL);
	return 0;
}

static int bitname(struct pctx *c, const char *name)
{
	om_detect *d = c->d;
	for (unsigned i = 0; i < d->nbitnames; i++)
		if (!strcmp(d->bitnames[i], name))
			return (int)i;
	if (d->nbitnames >= DT_MAX_BITNAMES)
		return why(c, SKIP, "limit:flowbits", NULL) ? -1 : -1;
	if (!(d->bitnames[d->nbitnames] = strdup(name)))
		return -1;
	return (int)d->nbitnames++;
}

static int flowbits_parse(struct pctx *c, char *val, bool xbits)
{
	struct dt_rule *r = c->r;
	if (!val)
		return why(c, BAD, "flowbits needs a value", NULL);
	char *f[6];
	unsigned n = split(val, ',', f, 6);
	static const struct {
		const char *s;
		uint8_t op;
	} ops[] = {{"set", DT_FB_SET},           {"unset", DT_FB_UNSET},
	           {"toggle", DT_FB_TOGGLE},     {"isset", DT_FB_ISSET},
	           {"isnotset", DT_FB_ISNOTSET}, {"noalert", DT_FB_NOALERT}};
	uint8_t op = 0;
	for (unsigned i = 0; i < 6; i++)
		if (!strcmp(f[0], ops[i].s))
			op = ops[i].op;
	if (!op)
		return why(c, BAD, "flowbits: '%s' is not an operation", f[0]);
	if (op == DT_FB_NOALERT) {
		r->noalert = true;
		return 0;
	}
	if (n < 2 || !*f[1])
		return why(c, BAD, "flowbits: a name is needed", NULL);
	if (r->nfb >= DT_MAX_FLOWBITS)
		return why(c, SKIP, "limit:flowbits", NULL);
	struct dt_flowbit *fb = &r->fb[r->nfb];
	memset(fb, 0, sizeof(*fb));
	fb->op = op;
	if (xbits) {
		/* xbits:op,name,track ip_src|ip_dst|ip_pair[,expire N] */
		if (n < 3 || strncmp(f[2], "track ", 6))
			return why(c, BAD, "xbits: track is needed", NULL);
		const char *t = trim(f[2] + 6);
		fb->xbits_track = !strcmp(t, "ip_src")    ? 1
		                  : !strcmp(t, "ip_dst")  ? 2
		                  : !strcmp(t, "ip_pair") ? 3
		                                          : 0;
		if (!fb->xbits_track)
			return why(c, BAD, "xbits: track '%s' is not known", t);
		for (unsigned i = 3; i < n; i++) {
			int64_t e;
			if (!strncmp(f[i], "expire ", 7) &&
			    parse_i64(trim(f[i] + 7), 1, 86400 * 365, &e) == 0)
				fb->expire = (uint32_t)e;
			else
				return why(c, BAD, "xbits: '%s' is not known", f[i]);
		}
	} else if (n > 2) {
		return why(c, BAD, "flowbits: too many values", NULL);
	}
	char *names = f[1];
	bool any = strchr(names, '|') != NULL;
	if (any && strchr(names, '&'))
		return why(c, BAD, "flowbits: '|' and '&' together", NULL);
	char *nm[4];
	unsigned k = split(names, any ? '|' : '&', nm, 4);
	if (k > 1 && op != DT_FB_ISSET && op != DT_FB_ISNOTSET)
		return why(c, BAD, "flowbits: several names only for isset/isnotset", NULL);
	for (unsigned i = 0; i < k; i++) {
		int id = bitname(c, nm[i]);
		if (id < 0)
			return SKIP;
		fb->names[fb->nnames++] = (uint16_t)id;
	}
	fb->any = any;
	r->nfb++;
	return 0;
}

static int threshold_parse(struct pctx *c, char *val, struct dt_threshold *t, bool filter)
{
	if (!val)
		return why(c, BAD, "threshold needs a value", NULL);
	char *f[6];
	unsigned n = split(val, ',', f, 6);
	memset(t, 0, sizeof(*t));
	if (filter)
		t->type = DT_TH_DETECTION_FILTER;
	bool hc = false, hs = false;
	for (unsigned i = 0; i < n; i++) {
		char *sp = strchr(f[i], ' ');
		if (!sp)
			return why(c, BAD, "threshold: '%s' needs a value", f[i]);
		*sp = '\0';
		const char *k = f[i], *v = trim(sp + 1);
		int64_t x;
		if (!strcmp(k, "type") && !filter) {
			t->type = !strcmp(v, "limit")       ? DT_TH_LIMIT
			          : !strcmp(v, "threshold") ? DT_TH_THRESHOLD
			          : !strcmp(v, "both")      ? DT_TH_BOTH
			                                    : 0;
			if (!t->type)
				return why(c, BAD, "threshold: type '%s' is not known", v);
		} else if (!strcmp(k, "track")) {
			t->track = !strcmp(v, "by_src")    ? DT_TR_SRC
			           : !strcmp(v, "by_dst")  ? DT_TR_DST
			           : !strcmp(v, "by_rule") ? DT_TR_RULE
			           : !strcmp(v, "by_both") ? DT_TR_BOTH
			                                   : 0;
			if (!t->track)
				return why(c, BAD, "threshold: track '%s' is not known", v);
		} else if (!strcmp(k, "count") && parse_i64(v, 1, UINT32_MAX, &x) == 0) {
			t->count = (uint32_t)x;
			hc = true;
		} else if (!strcmp(k, "seconds") && parse_i64(v, 1, UINT32_MAX, &x) == 0) {
			t->seconds = (uint32_t)x;
			hs = true;
		} else {
			return why(c, BAD, "threshold: '%s' is not known", k);
		}
	}
	if (!t->type || !t->track || !hc || !hs)
		return why(c, BAD, "threshold: type, track, count and seconds are needed", NULL);
	return 0;
}

/* ---- the options -------------------------------------------------------------------------------
 */

/* keywords accepted and ignored: they change nothing the engine reports */
static const char *const ignored[] = {"reference", "rawbytes", "tag", "noalert_stream"};

/* keywords known to be unsupported: the rule is skipped naming them */
static int option(struct pctx *c, char *kw, char *val)
{
	struct dt_rule *r = c->r;
	int b;
	if (!strcmp(kw, "msg")) {
		if (!val)
			return why(c, BAD, "msg needs a value", NULL);
		char *s = unquote(val);
		free(r->msg);
		/* \; \" \\ escapes */
		size_t o = 0, n = strlen(s);
		if (!(r->msg = malloc(n + 1)))
			return -ENOMEM;
		for (size_t i = 0; i < n; i++) {
			if (s[i] == '\\' && i + 1 < n)
				i++;
			r->msg[o++] = s[i];
		}
		r->msg[o] = '\0';
		return 0;
	}
	if (!strcmp(kw, "sid") || !strcmp(kw, "rev") || !strcmp(kw, "gid") ||
	    !strcmp(kw, "priority")) {
		int64_t v;
		if (!val || parse_i64(val, 1, UINT32_MAX, &v) < 0)
			return why(c, BAD, "%s: not a positive number", kw);
		if (kw[0] == 's')
			r->sid = (uint32_t)v;
		else if (kw[0] == 'r')
			r->rev = (uint32_t)v;
		else if (kw[0] == 'g')
			r->gid = (uint32_t)v;
		else
			r->priority = (int)(v > 255 ? 255 : v);
		return 0;
	}
	if (!strcmp(kw, "classtype")) {
		if (!val)
			return why(c, BAD, "classtype needs a value", NULL);
		r->cls = dt_class_find(c->d, val);
		if (r->cls < 0)
			return why(c, SKIP, "classtype:%s", val);
		return 0;
	}
	if (!strcmp(kw, "metadata")) {
		if (!val)
			return why(c, BAD, "metadata needs a value", NULL);
		if (r->metadata) {
			size_t a = strlen(r->metadata), n = strlen(val);
			char *nm = realloc(r->metadata, a + n + 3);
			if (!nm)
				return -ENOMEM;
			memcpy(nm + a, ", ", 2);
			memcpy(nm + a + 2, val, n + 1);
			r->metadata = nm;
		} else if (!(r->metadata = strdup(val))) {
			return -ENOMEM;
		}
		return 0;
	}
	if (!strcmp(kw, "target")) {
		if (!val || (strcmp(val, "src_ip") && strcmp(val, "dest_ip")))
			return why(c, BAD, "target: src_ip or dest_ip", NULL);
		r->target = val[0] == 's' ? 1 : 2;
		return 0;
	}
	for (size_t i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++)
		if (!strcmp(kw, ignored[i]))
			return 0;
	if (!strcmp(kw, "content")) {
		if (!val)
			return why(c, BAD, "content needs a value", NULL);
		bool neg = false;
		char *v = trim(val);
		if (*v == '!') {
			neg = true;
			v = trim(v + 1);
		}
		uint8_t *pat;
		uint32_t len;
		int rc = content_decode(c, v, &pat, &len);
		if (rc != 0)
			return rc;
		struct dt_match *m = new_match(c, DT_M_CONTENT);
		if (!m) {
			free(pat);
			return why(c, SKIP, "limit:matches", NULL);
		}
		m->u.c.pat = pat;
		m->u.c.len = len;
		m->u.c.offset.var = m->u.c.depth.var = m->u.c.distance.var = m->u.c.within.var = -1;
		if (neg)
			m->flags |= DT_CF_NEGATED;
		c->last = (int)(m - r->m);
		return 0;
	}
	if (!strcmp(kw, "nocase") || !strcmp(kw, "depth") || !strcmp(kw, "offset") ||
	    !strcmp(kw, "distance") || !strcmp(kw, "within") || !strcmp(kw, "fast_pattern") ||
	    !strcmp(kw, "startswith") || !strcmp(kw, "endswith"))
		return content_mod(c, kw, val);
	for (size_t i = 0; i < sizeof(legacy_mods) / sizeof(legacy_mods[0]); i++)
		if (!strcmp(kw, legacy_mods[i].name)) {
			struct dt_match *m = last_content(c, kw);
			if (!m)
				return BAD;
			m->buf = (uint8_t)legacy_mods[i].buf;
			return 0;
		}
	if ((b = sticky_find(kw)) >= 0) {
		if (val) /* a keyword of the same name (tls.version:1.2) */
			return why(c, SKIP, "keyword:%s", kw);
		c->cur = b;
		c->xf = -1;
		c->last = -1;
		return 0;
	}
	int x = xform_find(kw);
	if (x) {
		if (c->cur == DT_BUF_PKT)
			return why(c, BAD, "transform %s: no sticky buffer before it", kw);
		if (c->xf < 0) {
			if (r->nxf >= 4)
				return why(c, SKIP, "limit:transforms", NULL);
			c->xf = r->nxf++;
			r->xf[c->xf].buf = (uint8_t)c->cur;
			r->xf[c->xf].n = 0;
		}
		if (r->xf[c->xf].n >= DT_MAX_TRANSFORMS)
			return why(c, SKIP, "limit:transforms", NULL);
		r->xf[c->xf].x[r->xf[c->xf].n++] = (uint8_t)x;
		return 0;
	}
	if (!strcmp(kw, "pcre")) {
		if (!val)
			return why(c, BAD, "pcre needs a value", NULL);
		return pcre_parse(c, val);
	}
	if (!strcmp(kw, "byte_test") || !strcmp(kw, "byte_jump") || !strcmp(kw, "byte_extract") ||
	    !strcmp(kw, "byte_math"))
		return byte_parse(c, kw, val);
	if (!strcmp(kw, "isdataat")) {
		if (!val)
			return why(c, BAD, "isdataat needs a value", NULL);
		char *f[3];
		unsigned n = split(val, ',', f, 3);
		struct dt_match *m = new_match(c, DT_M_ISDATAAT);
		if (!m)
			return why(c, SKIP, "limit:matches", NULL);
		char *v = f[0];
		if (*v == '!') {
			m->u.isdataat.negated = true;
			v = trim(v + 1);
		}
		if (num_or_var(c, v, 0, 65535, &m->u.isdataat.pos) < 0)
			return BAD;
		for (unsigned i = 1; i < n; i++) {
			if (!strcmp(f[i], "relative")) {
				m->u.isdataat.relative = true;
				m->flags |= DT_CF_RELATIVE;
			} else if (strcmp(f[i], "rawbytes")) {
				return why(c, BAD, "isdataat: '%s' is not known", f[i]);
			}
		}
		return 0;
	}
	if (!strcmp(kw, "bsize")) {
		if (!val)
			return why(c, BAD, "bsize needs a value", NULL);
		struct dt_match *m = new_match(c, DT_M_BSIZE);
		if (!m)
			return why(c, SKIP, "limit:matches", NULL);
		int op;
		if (size_parse(c, kw, val, &op, &m->u.size.lo, &m->u.size.hi) < 0)
			return BAD;
		m->u.size.op = (uint8_t)op;
		return 0;
	}
	if (!strcmp(kw, "dsize")) {
		if (!val)
			return why(c, BAD, "dsize needs a value", NULL);
		return size_parse(c, kw, val, &r->dsize_op, &r->dsize_lo, &r->dsize_hi);
	}
	if (!strcmp(kw, "itype") || !strcmp(kw, "icode") || !strcmp(kw, "ttl")) {
		if (!val)
			return why(c, BAD, "%s needs a value", kw);
		if (kw[0] == 't')
			return size_parse(c, kw, val, &r->ttl_op, &r->ttl_lo, &r->ttl_hi);
		if (kw[1] == 't')
			return size_parse(c, kw, val, &r->itype_op, &r->itype_lo, &r->itype_hi);
		return size_parse(c, kw, val, &r->icode_op, &r->icode_lo, &r->icode_hi);
	}
	if (!strcmp(kw, "flags")) {
		/* [+*!]FSRPAUCE12 or 0, then optionally ,MASK of bits to ignore */
		if (!val)
			return why(c, BAD, "flags needs a value", NULL);
		char *f[2];
		unsigned n = split(val, ',', f, 2);
		const char *v = f[0];
		r->tcpflags_mode = 0;
		if (*v == '+' || *v == '*' || *v == '!')
			r->tcpflags_mode = *v++;
		uint8_t bits = 0;
		for (; *v; v++) {
			uint8_t b;
			switch (*v) {
			case 'F': b = 0x01; break;
			case 'S': b = 0x02; break;
			case 'R': b = 0x04; break;
			case 'P': b = 0x08; break;
			case 'A': b = 0x10; break;
			case 'U': b = 0x20; break;
			case 'E':
			case '2': b = 0x40; break;
			case 'C':
			case '1': b = 0x80; break;
			case '0': b = 0; break;
			case '+':
			case '*':
			case '!':
				if (r->tcpflags_mode == 0) {
					r->tcpflags_mode = *v;
					continue;
				}
				/* fall through */
			default: return why(c, BAD, "flags: '%s' is not a set of TCP flags", f[0]);
			}
			bits |= b;
		}
		r->tcpflags = bits;
		r->tcpflags_mask = 0xff;
		if (n == 2) {
			for (const char *m = f[1]; *m; m++) {
				switch (*m) {
				case 'F': r->tcpflags_mask &= (uint8_t)~0x01; break;
				case 'S': r->tcpflags_mask &= (uint8_t)~0x02; break;
				case 'R': r->tcpflags_mask &= (uint8_t)~0x04; break;
				case 'P': r->tcpflags_mask &= (uint8_t)~0x08; break;
				case 'A': r->tcpflags_mask &= (uint8_t)~0x10; break;
				case 'U': r->tcpflags_mask &= (uint8_t)~0x20; break;
				case 'E':
				case '2': r->tcpflags_mask &= (uint8_t)~0x40; break;
				case 'C':
				case '1': r->tcpflags_mask &= (uint8_t)~0x80; break;
				default:
					return why(c, BAD, "flags: '%s' is not a mask of TCP flags",
					           f[1]);
				}
			}
		}
		return 0;
	}
	if (!strcmp(kw, "ip_proto")) {
		if (!val)
			return why(c, BAD, "ip_proto needs a value", NULL);
		int64_t v;
		if (!strcmp(val, "tcp"))
			r->ip_proto = 6;
		else if (!strcmp(val, "udp"))
			r->ip_proto = 17;
		else if (!strcmp(val, "icmp"))
			r->ip_proto = 1;
		else if (!strcmp(val, "ipv6-icmp") || !strcmp(val, "icmpv6"))
			r->ip_proto = 58;
		else if (!strcmp(val, "gre"))
			r->ip_proto = 47;
		else if (!strcmp(val, "esp"))
			r->ip_proto = 50;
		else if (parse_i64(val, 0, 255, &v) == 0)
			r->ip_proto = (int)v;
		else
			return why(c, SKIP, "keyword:ip_proto", NULL);
		return 0;
	}
	if (!strcmp(kw, "urilen")) {
		if (!val)
			return why(c, BAD, "urilen needs a value", NULL);
		char *f[2];
		unsigned n = split(val, ',', f, 2);
		if (n == 2)
			r->urilen_raw = !strcmp(f[1], "raw");
		r->in_tx = true;
		return size_parse(c, kw, f[0], &r->urilen_op, &r->urilen_lo, &r->urilen_hi);
	}
	if (!strcmp(kw, "flow")) {
		if (!val)
			return why(c, BAD, "flow needs a value", NULL);
		return flow_parse(c, val);
	}
	if (!strcmp(kw, "flowbits"))
		return flowbits_parse(c, val, false);
	if (!strcmp(kw, "xbits"))
		return flowbits_parse(c, val, true);
	if (!strcmp(kw, "noalert")) {
		r->noalert = true;
		return 0;
	}
	if (!strcmp(kw, "threshold")) {
		r->has_threshold = true;
		return threshold_parse(c, val, &r->th, false);
	}
	if (!strcmp(kw, "detection_filter")) {
		r->has_filter = true;
		return threshold_parse(c, val, &r->df, true);
	}
	if (strchr(kw, '.') || !strncmp(kw, "http_", 5) || !strncmp(kw, "tls_", 4) ||
	    !strncmp(kw, "dns_", 4))
		return why(c, SKIP, "buffer:%s", kw);
	for (const char *p = kw; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-' && *p != '.')
			return why(c, BAD, "'%s' is not a keyword", kw);
	return why(c, SKIP, "keyword:%s", kw);
}

/* ---- the header ------------------------------------------------------------------------------ */

static const char *const app_protos[] = {"http", "http1", "dns",  "tls",  "quic",
                                         "smtp", "ftp",   "pop3", "imap", "ftp-data"};

static int header(struct pctx *c, char *h)
{
	struct dt_rule *r = c->r;
	char *tok[7];
	unsigned n = 0;
	int lvl = 0;
	char *p = h;
	while (*p && n < 7) {
		while (*p && isspace((unsigned char)*p))
			p++;
		if (!*p)
			break;
		tok[n++] = p;
		while (*p && (lvl > 0 || !isspace((unsigned char)*p))) {
			if (*p == '[')
				lvl++;
			else if (*p == ']')
				lvl--;
			p++;
		}
		if (*p)
			*p++ = '\0';
	}
	while (*p && isspace((unsigned char)*p))
		p++;
	if (n != 7 || *p)
		return why(c, BAD, "header: action protocol source port direction destination port",
		           NULL);
	const char *act = tok[0];
	if (!strcmp(act, "alert"))
		r->action = OM_DA_ALERT;
	else if (!strcmp(act, "drop"))
		r->action = OM_DA_DROP;
	else if (!strcmp(act, "reject") || !strcmp(act, "rejectsrc") || !strcmp(act, "rejectdst") ||
	         !strcmp(act, "rejectboth"))
		r->action = OM_DA_REJECT;
	else if (!strcmp(act, "pass"))
		r->action = OM_DA_PASS;
	else
		return why(c, BAD, "action '%s' is not known", act);
	const char *pr = tok[1];
	if (!strcmp(pr, "ip") || !strcmp(pr, "pkthdr"))
		r->proto = DT_P_IP;
	else if (!strcmp(pr, "tcp") || !strcmp(pr, "tcp-pkt") || !strcmp(pr, "tcp-stream"))
		r->proto = DT_P_TCP;
	else if (!strcmp(pr, "udp"))
		r->proto = DT_P_UDP;
	else if (!strcmp(pr, "icmp") || !strcmp(pr, "icmpv4") || !strcmp(pr, "icmpv6"))
		r->proto = DT_P_ICMP;
	else {
		bool ok = false;
		for (size_t i = 0; i < sizeof(app_protos) / sizeof(app_protos[0]); i++)
			if (!strcmp(pr, app_protos[i]))
				ok = true;
		if (!ok) {
			for (const char *q = pr; *q; q++)
				if (!isalnum((unsigned char)*q) && *q != '-' && *q != '_')
					return why(c, BAD, "protocol '%s' is not known", pr);
			return why(c, SKIP, "protocol:%s", pr);
		}
		r->proto = DT_P_APP;
		snprintf(r->app, sizeof(r->app), "%s", !strcmp(pr, "http1") ? "http" : pr);
	}
	if (!strcmp(tok[4], "<>"))
		r->bidir = true;
	else if (strcmp(tok[4], "->"))
		return why(c, BAD, "direction '%s': use -> or <>", tok[4]);
	int rc;
	if ((rc = addr_parse(c, tok[2], 0, &r->src)) != 0)
		return rc;
	if ((rc = ports_parse(c, tok[3], &r->sp)) != 0)
		return rc;
	if ((rc = addr_parse(c, tok[5], 0, &r->dst)) != 0)
		return rc;
	return ports_parse(c, tok[6], &r->dp);
}

void dt_rule_free(struct dt_rule *r)
{
	if (!r)
		return;
	for (uint32_t i = 0; i < r->nm; i++) {
		if (r->m[i].type == DT_M_CONTENT)
			free(r->m[i].u.c.pat);
		else if (r->m[i].type == DT_M_PCRE)
			pcre2_code_free(r->m[i].u.re.code);
	}
	free(r->m);
	dt_addr_free(r->src);
	dt_addr_free(r->dst);
	dt_ports_free(r->sp);
	dt_ports_free(r->dp);
	free(r->msg);
	free(r->metadata);
	free(r);
}

/* app-layer protocols that run over TCP only (dns may be either) */
static bool app_on_tcp(const char *app)
{
	static const char *const tcp_apps[] = {"http", "http1", "tls", "smtp",
	                                       "ftp",  "pop3",  "imap"};
	for (size_t i = 0; i < sizeof(tcp_apps) / sizeof(tcp_apps[0]); i++)
		if (!strcmp(app, tcp_apps[i]))
			return true;
	return false;
}

/* After all options: where each buffer's direction puts the rule, the
 * fast pattern, and checks across options. */
static int finish(struct pctx *c)
{
	struct dt_rule *r = c->r;
	if (!r->sid)
		return why(c, BAD, "sid is missing", NULL);
	if (!r->msg && !(r->msg = strdup("")))
		return -ENOMEM;
	if (!r->gid)
		r->gid = 1;
	bool has_pkt = false, has_tx = false, resp = false;
	for (uint32_t i = 0; i < r->nm; i++) {
		struct dt_match *m = &r->m[i];
		if (m->buf == DT_BUF_PKT) {
			has_pkt = true;
			continue;
		}
		has_tx = true;
		/* the same names serve requests and responses in Suricata */
		if (r->flow & DT_FL_TOCLIENT) {
			if (m->buf == DT_BUF_TX(OM_TXB_HTTP_HEADER))
				m->buf = DT_BUF_TX(OM_TXB_HTTP_RESPONSE_HEADER);
		} else if (m->buf == DT_BUF_TX(OM_TXB_HTTP_RESPONSE_BODY) &&
		           (r->flow & DT_FL_TOSERVER)) {
			m->buf = DT_BUF_TX(OM_TXB_HTTP_REQUEST_BODY); /* file_data of an upload */
		}
		if (dt_buf_is_response(m->buf))
			resp = true;
	}
	for (unsigned i = 0; i < r->nxf; i++) {
		if (r->flow & DT_FL_TOCLIENT && r->xf[i].buf == DT_BUF_TX(OM_TXB_HTTP_HEADER))
			r->xf[i].buf = DT_BUF_TX(OM_TXB_HTTP_RESPONSE_HEADER);
		else if ((r->flow & DT_FL_TOSERVER) &&
		         r->xf[i].buf == DT_BUF_TX(OM_TXB_HTTP_RESPONSE_BODY))
			r->xf[i].buf = DT_BUF_TX(OM_TXB_HTTP_REQUEST_BODY);
	}
	/* payload keywords next to transaction buffers: the payload part is
	 * matched on the stream, the buffers on the transaction */
	r->mixed = has_pkt && has_tx;
	if (r->urilen_op >= 0)
		has_tx = true;
	r->in_tx = has_tx;
	r->tx_dir = (resp || (r->flow & DT_FL_TOCLIENT)) ? OM_DIR_TOCLIENT : OM_DIR_TOSERVER;
	for (uint32_t i = 0; i < r->nm; i++)
		if ((r->m[i].flags & DT_CF_STARTSWITH) &&
		    (r->m[i].flags & (DT_CF_HAS_DEPTH | DT_CF_HAS_OFFSET | DT_CF_RELATIVE)))
			return why(c, BAD, "startswith with depth, offset, distance or within",
			           NULL);
	/* the fast pattern: the one marked, else the longest positive
	 * content (the first of equals), as Suricata picks among one list */
	r->fp = -1;
	uint32_t best = 0;
	for (uint32_t i = 0; i < r->nm; i++) {
		struct dt_match *m = &r->m[i];
		if (m->type != DT_M_CONTENT)
			continue;
		if (m->flags & DT_CF_FAST) {
			if (m->flags & DT_CF_NEGATED)
				return why(c, SKIP, "fast_pattern:negated", NULL);
			r->fp = (int)i;
			break;
		}
		if (!(m->flags & DT_CF_NEGATED) && m->u.c.len > best) {
			best = m->u.c.len;
			r->fp = (int)i;
		}
	}
	/* address-only: setting flowbits is allowed (the reputation rules
	 * do), testing them is not */
	bool tests_bits = false;
	for (unsigned i = 0; i < r->nfb; i++)
		if (r->fb[i].op == DT_FB_ISSET || r->fb[i].op == DT_FB_ISNOTSET)
			tests_bits = true;
	bool pkt_kw = r->itype_op >= 0 || r->icode_op >= 0 || r->ttl_op >= 0 ||
	              r->tcpflags_mode >= 0 || r->ip_proto >= 0;
	if (pkt_kw && r->in_tx)
		return why(c, SKIP, "mixed:packet-header-and-buffer", NULL);
	/* the payload of TCP is inspected on the reassembled stream, unless
	 * the rule asks for packets (flow:no_stream, dsize) or its payload
	 * keywords have nothing to find (only byte_* and isdataat) */
	bool finds = false;
	r->sfp = -1;
	for (uint32_t i = 0, best = 0; i < r->nm; i++) {
		const struct dt_match *m = &r->m[i];
		if (m->buf != DT_BUF_PKT)
			continue;
		if ((m->type == DT_M_CONTENT && !(m->flags & DT_CF_RELATIVE) &&
		     (m->flags & (DT_CF_HAS_OFFSET | DT_CF_HAS_DEPTH | DT_CF_STARTSWITH))) ||
		    (m->type == DT_M_PCRE && !m->u.re.relative && m->u.re.anchored) ||
		    (m->type >= DT_M_BYTE_TEST && m->type <= DT_M_BYTE_MATH &&
		     !(m->u.b.bflags & DT_BF_RELATIVE)) ||
		    (m->type == DT_M_ISDATAAT && !m->u.isdataat.relative))
			r->anchored = true;
		if ((m->type == DT_M_PCRE && !m->u.re.negated) ||
		    (m->type == DT_M_CONTENT && !(m->flags & DT_CF_NEGATED)))
			finds = true;
		if (m->type != DT_M_CONTENT || (m->flags & DT_CF_NEGATED))
			continue;
		if (m->flags & DT_CF_FAST) {
			r->sfp = (int)i;
			break;
		}
		if (m->u.c.len > best) {
			best = m->u.c.len;
			r->sfp = (int)i;
		}
	}
	bool tcp_ok = r->proto == DT_P_IP || r->proto == DT_P_TCP || r->proto == DT_P_APP;
	r->stream = has_pkt && finds && tcp_ok && !(r->flow & DT_FL_NO_STREAM) && r->dsize_op < 0;
	if (r->mixed) {
		if (r->sfp < 0)
			return why(c, SKIP, "mixed:payload-without-content", NULL);
		/* the stream is TCP's: datagram protocols keep the skip */
		if (r->proto != DT_P_TCP && !(r->proto == DT_P_APP && app_on_tcp(r->app)))
			return why(c, SKIP, "mixed:payload-and-buffer", NULL);
		if (r->flow & DT_FL_NO_STREAM)
			return why(c, SKIP, "mixed:no_stream-and-buffer", NULL);
		if (r->dsize_op >= 0)
			return why(c, SKIP, "mixed:dsize-and-buffer", NULL);
		/* the stream part finds the rule: its fast pattern is the
		 * payload's */
		r->fp = r->sfp;
		r->stream = true;
	}
	r->ip_only = r->nm == 0 && !r->flow && r->dsize_op < 0 && !tests_bits && !r->in_tx &&
	             r->proto != DT_P_APP && !pkt_kw;
	return 0;
}

int dt_parse_rule(om_detect *d, const char *s, size_t len, struct dt_rule **ret, char *reason,
                  size_t rlen)
{
	struct pctx c = {
	    .d = d, .reason = reason, .rlen = rlen, .cur = DT_BUF_PKT, .last = -1, .xf = -1};
	if (reason && rlen)
		reason[0] = '\0';
	if (len > RULE_MAX_LEN)
		return why(&c, BAD, "rule longer than 4 MiB", NULL);
	char *buf = malloc(len + 1);
	struct dt_rule *r = calloc(1, sizeof(*r));
	struct dt_match *m = calloc(DT_MAX_MATCHES, sizeof(*m));
	if (!buf || !r || !m) {
		free(buf);
		free(r);
		free(m);
		return -ENOMEM;
	}
	memcpy(buf, s, len);
	buf[len] = '\0';
	r->m = m;
	r->cls = -1;
	r->dsize_op = r->urilen_op = -1;
	r->itype_op = r->icode_op = r->ttl_op = r->tcpflags_mode = r->ip_proto = -1;
	c.r = r;
	int rc;
	char *open = strchr(buf, '(');
	size_t bl = strlen(buf);
	while (bl && isspace((unsigned char)buf[bl - 1]))
		buf[--bl] = '\0';
	if (!open || bl == 0 || buf[bl - 1] != ')') {
		rc = why(&c, BAD, "rule: options must be in ( )", NULL);
		goto out;
	}
	*open = '\0';
	buf[bl - 1] = '\0';
	if ((rc = header(&c, buf)) != 0)
		goto out;
	/* options: keyword[:value]; with quotes and \; */
	char *p = open + 1;
	for (;;) {
		while (*p && isspace((unsigned char)*p))
			p++;
		if (!*p)
			break;
		char *kw = p;
		while (*p && *p != ':' && *p != ';')
			p++;
		char *val = NULL;
		if (*p == ':') {
			*p++ = '\0';
			val = p;
			char *o = p;
			for (; *p; p++) {
				if (*p == '\\' && p[1]) {
					*o++ = *p++;
					*o++ = *p;
					continue;
				}
				/* like Suricata: a value ends at the first ';' not
				 * escaped, quotes or not */
				if (*p == ';')
					break;
				*o++ = *p;
			}
			if (!*p) {
				rc = why(&c, BAD, "option '%s' does not end with ';'", trim(kw));
				goto out;
			}
			*o = '\0';
			p++;
			val = trim(val);
		} else if (*p == ';') {
			*p++ = '\0';
		} else {
			rc = why(&c, BAD, "option '%s' does not end with ';'", trim(kw));
			goto out;
		}
		kw = trim(kw);
		if (!*kw) {
			rc = why(&c, BAD, "empty option", NULL);
			goto out;
		}
		if ((rc = option(&c, kw, val)) != 0)
			goto out;
	}
	rc = finish(&c);
out:
	for (unsigned i = 0; i < c.nextract; i++)
		free(c.extract[i]);
	r->nextract = (uint8_t)c.nextract;
	free(buf);
	if (rc == 0) {
		*ret = r;
	} else {
		dt_rule_free(r);
		if (rc == -ENOMEM)
			why(&c, rc, "out of memory", NULL);
	}
	return rc;
}
