/* detect.c: rule sets: variables, classifications, loading files with the
 * counts `rules check` prints, and compiling the prefilter. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/internal.h"

/* Suricata's default variables (suricata.yaml's vars section); the
 * server groups are the inside networks. */
static const char *const default_vars[][2] = {
    {"HTTP_SERVERS", "$HOME_NET"},
    {"SMTP_SERVERS", "$HOME_NET"},
    {"SQL_SERVERS", "$HOME_NET"},
    {"DNS_SERVERS", "$HOME_NET"},
    {"TELNET_SERVERS", "$HOME_NET"},
    {"AIM_SERVERS", "$EXTERNAL_NET"},
    {"DC_SERVERS", "$HOME_NET"},
    {"DNP3_SERVER", "$HOME_NET"},
    {"DNP3_CLIENT", "$HOME_NET"},
    {"MODBUS_CLIENT", "$HOME_NET"},
    {"MODBUS_SERVER", "$HOME_NET"},
    {"ENIP_CLIENT", "$HOME_NET"},
    {"ENIP_SERVER", "$HOME_NET"},
    {"HTTP_PORTS", "80"},
    {"SHELLCODE_PORTS", "!80"},
    {"ORACLE_PORTS", "1521"},
    {"SSH_PORTS", "22"},
    {"DNP3_PORTS", "20000"},
    {"MODBUS_PORTS", "502"},
    {"FILE_DATA_PORTS", "[$HTTP_PORTS,110,143]"},
    {"FTP_PORTS", "21"},
    {"GENEVE_PORTS", "6081"},
    {"VXLAN_PORTS", "4789"},
    {"TEREDO_PORTS", "3544"},
    {"EXTERNAL_NET", "!$HOME_NET"},
};

/* The classtypes of Suricata's classification.config: name, description,
 * priority. */
static const struct {
	const char *name, *desc;
	int prio;
} default_classes[] = {
    {"not-suspicious", "Not Suspicious Traffic", 3},
    {"unknown", "Unknown Traffic", 3},
    {"bad-unknown", "Potentially Bad Traffic", 2},
    {"attempted-recon", "Attempted Information Leak", 2},
    {"successful-recon-limited", "Information Leak", 2},
    {"successful-recon-largescale", "Large Scale Information Leak", 2},
    {"attempted-dos", "Attempted Denial of Service", 2},
    {"successful-dos", "Denial of Service", 2},
    {"attempted-user", "Attempted User Privilege Gain", 1},
    {"unsuccessful-user", "Unsuccessful User Privilege Gain", 1},
    {"successful-user", "Successful User Privilege Gain", 1},
    {"attempted-admin", "Attempted Administrator Privilege Gain", 1},
    {"successful-admin", "Successful Administrator Privilege Gain", 1},
    {"rpc-portmap-decode", "Decode of an RPC Query", 2},
    {"shellcode-detect", "Executable code was detected", 1},
    {"string-detect", "A suspicious string was detected", 3},
    {"suspicious-filename-detect", "A suspicious filename was detected", 2},
    {"suspicious-login", "An attempted login using a suspicious username was detected", 2},
    {"system-call-detect", "A system call was detected", 2},
    {"tcp-connection", "A TCP connection was detected", 4},
    {"trojan-activity", "A Network Trojan was detected", 1},
    {"unusual-client-port-connection", "A client was using an unusual port", 2},
    {"network-scan", "Detection of a Network Scan", 3},
    {"denial-of-service", "Detection of a Denial of Service Attack", 2},
    {"non-standard-protocol", "Detection of a non-standard protocol or event", 2},
    {"protocol-command-decode", "Generic Protocol Command Decode", 3},
    {"web-application-activity", "access to a potentially vulnerable web application", 2},
    {"web-application-attack", "Web Application Attack", 1},
    {"misc-activity", "Misc activity", 3},
    {"misc-attack", "Misc Attack", 2},
    {"icmp-event", "Generic ICMP event", 3},
    {"inappropriate-content", "Inappropriate Content was Detected", 1},
    {"policy-violation", "Potential Corporate Privacy Violation", 1},
    {"default-login-attempt", "Attempt to login by a default username and password", 2},
    {"targeted-activity", "Targeted Malicious Activity was Detected", 1},
    {"exploit-kit", "Exploit Kit Activity Detected", 1},
    {"external-ip-check", "Device Retrieving External IP Address Detected", 2},
    {"domain-c2", "Domain Observed Used for C2 Detected", 1},
    {"pup-activity", "Possibly Unwanted Program Detected", 2},
    {"credential-theft", "Successful Credential Theft Detected", 1},
    {"social-engineering", "Possible Social Engineering Attempted", 2},
    {"coin-mining", "Crypto Currency Mining Activity Detected", 2},
    {"command-and-control", "Malware Command and Control Activity Detected", 1},
};

static int home_text(const om_config_nets *home, char **ret)
{
	om_buf b;
	om_buf_init(&b, 1u << 20);
	if (!home || home->count == 0) {
		/* no inside networks configured: the private ranges */
		om_buf_puts(&b, "[10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7]");
	} else {
		om_buf_putc(&b, '[');
		for (unsigned i = 0; i < home->count; i++) {
			char s[64];
			om_addr_str(&home->net[i].addr, s, sizeof(s));
			unsigned pfx = home->net[i].prefix;
			if (om_addr_is_v4(&home->net[i].addr))
				pfx = pfx >= 96 ? pfx - 96 : 0;
			om_buf_printf(&b, "%s%s/%u", i ? "," : "", s, pfx);
		}
		om_buf_putc(&b, ']');
	}
	char *s = strdup(om_buf_cstr(&b));
	om_buf_free(&b);
	if (!s)
		return -ENOMEM;
	*ret = s;
	return 0;
}

int om_detect_set_var(om_detect *d, const char *name, const char *value)
{
	if (!d || !name || !value || strlen(name) >= sizeof(d->vars[0].name))
		return -EINVAL;
	char *v = strdup(value);
	if (!v)
		return -ENOMEM;
	for (unsigned i = 0; i < d->nvars; i++)
		if (!strcmp(d->vars[i].name, name)) {
			free(d->vars[i].value);
			d->vars[i].value = v;
			return 0;
		}
	if (d->nvars >= DT_MAX_VARS) {
		free(v);
		return -ENOSPC;
	}
	snprintf(d->vars[d->nvars].name, sizeof(d->vars[0].name), "%s", name);
	d->vars[d->nvars++].value = v;
	return 0;
}

static int class_set(om_detect *d, const char *name, const char *desc, int prio)
{
	int i = dt_class_find(d, name);
	if (i < 0) {
		if (d->ncls >= DT_MAX_CLASSES)
			return -ENOSPC;
		i = (int)d->ncls++;
	}
	snprintf(d->cls[i].name, sizeof(d->cls[i].name), "%s", name);
	snprintf(d->cls[i].desc, sizeof(d->cls[i].desc), "%s", desc);
	d->cls[i].priority = prio;
	return 0;
}

int om_detect_load_classification(om_detect *d, const char *text, size_t len)
{
	size_t i = 0;
	while (i < len) {
		size_t e = i;
		while (e < len && text[e] != '\n')
			e++;
		char line[512];
		size_t n = e - i < sizeof(line) - 1 ? e - i : sizeof(line) - 1;
		memcpy(line, text + i, n);
		line[n] = '\0';
		i = e + 1;
		const char *pre = "config classification:";
		char *p = strstr(line, pre);
		if (!p || line[0] == '#')
			continue;
		p += strlen(pre);
		char *c1 = strchr(p, ','), *c2 = c1 ? strchr(c1 + 1, ',') : NULL;
		if (!c2)
			continue;
		*c1 = *c2 = '\0';
		while (*p == ' ')
			p++;
		uint64_t prio;
		char *pr = c2 + 1;
		while (*pr == ' ')
			pr++;
		size_t pl = strlen(pr);
		while (pl && (pr[pl - 1] == ' ' || pr[pl - 1] == '\r'))
			pr[--pl] = '\0';
		if (om_parse_u64(pr, 1, 255, &prio) < 0)
			continue;
		int rc = class_set(d, p, c1 + 1, (int)prio);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static void ipidx_free(struct dt_ipidx *x);

int om_detect_new(const om_config_nets *home, om_detect **ret)
{
	om_detect *d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	if (home)
		d->home = *home;
	char *h = NULL;
	int rc = home_text(home, &h);
	if (rc == 0)
		rc = om_detect_set_var(d, "HOME_NET", h);
	free(h);
	for (size_t i = 0; rc == 0 && i < sizeof(default_vars) / sizeof(default_vars[0]); i++)
		rc = om_detect_set_var(d, default_vars[i][0], default_vars[i][1]);
	for (size_t i = 0; rc == 0 && i < sizeof(default_classes) / sizeof(default_classes[0]); i++)
		rc = class_set(d, default_classes[i].name, default_classes[i].desc,
		               default_classes[i].prio);
	if (rc < 0) {
		om_detect_free(d);
		return rc;
	}
	*ret = d;
	return 0;
}

om_detect *om_detect_free(om_detect *d)
{
	if (!d)
		return NULL;
	for (uint32_t i = 0; i < d->nrules; i++)
		dt_rule_free(d->rules[i]);
	free(d->rules);
	for (unsigned i = 0; i < d->nvars; i++)
		free(d->vars[i].value);
	for (unsigned i = 0; i < d->nbitnames; i++)
		free(d->bitnames[i]);
	for (int b = 0; b < DT_NBUFS; b++) {
		if (d->pf[b].db)
			hs_free_database(d->pf[b].db);
		free(d->pf[b].rules);
		free(d->pf[b].off);
	}
	free(d->nopf_pkt);
	free(d->nopf_tx);
	for (int b = 0; b < DT_NBUFS; b++)
		for (int k = 0; k < 2; k++)
			free(d->txl[b][k].v);
	free(d->pktl[0].v);
	free(d->pktl[1].v);
	for (int k = 0; k < 2; k++) {
		free(d->pidx[k].off);
		free(d->pidx[k].ids);
		free(d->pidx[k].always.v);
	}
	free(d->streaml.v);
	for (int k = 0; k < 3; k++) {
		if (d->ppf[k].db)
			hs_free_database(d->ppf[k].db);
		free(d->ppf[k].rules);
		free(d->ppf[k].off);
	}
	for (int k = 0; k < DT_APF_KINDS; k++)
		for (int dir = 0; dir < 2; dir++)
			for (int db = 0; db <= DT_APF_ALLDB; db++) {
				struct dt_pf *pf = &d->apf[k][dir].pf[db];
				if (pf->db)
					hs_free_database(pf->db);
				free(pf->rules);
				free(pf->off);
			}
	for (uint32_t c = 0; c < d->nxpf; c++) {
		if (d->xpf[c].pf.db)
			hs_free_database(d->xpf[c].pf.db);
		free(d->xpf[c].pf.rules);
		free(d->xpf[c].pf.off);
	}
	free(d->iponly);
	free(d->nopf_stream);
	free(d->mixed);
	ipidx_free(&d->ipsrc);
	ipidx_free(&d->ipdst);
	if (d->proto_scratch)
		hs_free_scratch(d->proto_scratch);
	free(d);
	return NULL;
}

uint32_t om_detect_rule_count(const om_detect *d)
{
	return d ? d->nrules : 0;
}

static void count_reason(om_detect_load_stats *st, const char *reason)
{
	if (!st)
		return;
	char key[48];
	snprintf(key, sizeof(key), "%s", reason[0] ? reason : "unknown");
	for (unsigned i = 0; i < st->nreasons; i++)
		if (!strcmp(st->reasons[i].reason, key)) {
			st->reasons[i].count++;
			return;
		}
	if (st->nreasons >= OM_DETECT_REASONS) {
		st->reasons_full = true;
		snprintf(key, sizeof(key), "other");
		for (unsigned i = 0; i < st->nreasons; i++)
			if (!strcmp(st->reasons[i].reason, key)) {
				st->reasons[i].count++;
				return;
			}
		/* the last slot becomes "other" */
		snprintf(st->reasons[OM_DETECT_REASONS - 1].reason, sizeof(key), "other");
		st->reasons[OM_DETECT_REASONS - 1].count++;
		return;
	}
	snprintf(st->reasons[st->nreasons].reason, sizeof(key), "%s", key);
	st->reasons[st->nreasons++].count = 1;
}

static int add_rule(om_detect *d, struct dt_rule *r)
{
	if (d->nrules >= DT_MAX_RULES)
		return -E2BIG;
	if (d->nrules == d->cap) {
		uint32_t nc = d->cap ? d->cap * 2 : 256;
		struct dt_rule **nr = realloc(d->rules, nc * sizeof(*nr));
		if (!nr)
			return -ENOMEM;
		d->rules = nr;
		d->cap = nc;
	}
	r->idx = d->nrules;
	d->rules[d->nrules++] = r;
	return 0;
}

int om_detect_parse_one(om_detect *d, const char *rule, size_t len, char *reason, size_t rlen)
{
	struct dt_rule *r = NULL;
	int rc = dt_parse_rule(d, rule, len, &r, reason, rlen);
	dt_rule_free(r);
	return rc;
}

int om_detect_add_rules(om_detect *d, const char *text, size_t len, const char *name, unsigned warn,
                        om_detect_load_stats *st)
{
	if (d->compiled)
		return -EBUSY;
	om_buf line;
	om_buf_init(&line, 4u << 20);
	size_t i = 0;
	unsigned lineno = 0, start_line = 0;
	int ret = 0;
	while (i < len && ret == 0) {
		size_t e = i;
		while (e < len && text[e] != '\n')
			e++;
		lineno++;
		size_t n = e - i;
		const char *s = text + i;
		i = e + 1;
		if (n && s[n - 1] == '\r')
			n--;
		if (line.len == 0)
			start_line = lineno;
		bool cont = n && s[n - 1] == '\\';
		om_buf_append(&line, s, cont ? n - 1 : n);
		if (cont && i < len)
			continue;
		const char *l = om_buf_cstr(&line);
		size_t ll = line.len;
		while (ll && (*l == ' ' || *l == '\t')) {
			l++;
			ll--;
		}
		if (ll == 0 || *l == '#') {
			om_buf_reset(&line);
			continue;
		}
		if (st)
			st->total++;
		struct dt_rule *r = NULL;
		char reason[160];
		int rc = dt_parse_rule(d, l, ll, &r, reason, sizeof(reason));
		if (rc == 0) {
			ret = add_rule(d, r);
			if (ret < 0)
				dt_rule_free(r);
			else if (st)
				st->accepted++;
		} else if (rc == -ENOMEM) {
			ret = rc;
		} else {
			/* the sid, for the warning */
			unsigned long sid = 0;
			const char *sp = strstr(l, "sid:");
			if (sp)
				sid = strtoul(sp + 4, NULL, 10);
			if (rc > 0) {
				if (st)
					st->skipped++;
				count_reason(st, reason);
				if (warn & OM_DETECT_WARN_SKIP)
					om_warn(om_tr("warn.detect.rule_skipped"), name, start_line,
					        sid, reason);
			} else {
				if (st) {
					st->syntax_errors++;
				}
				if (warn & OM_DETECT_WARN_SYNTAX)
					om_warn(om_tr("warn.detect.rule_syntax"), name, start_line,
					        sid, reason);
				if (st) {
					char k[48];
					snprintf(k, sizeof(k), "syntax");
					count_reason(st, k);
				}
			}
		}
		om_buf_reset(&line);
	}
	om_buf_free(&line);
	return ret;
}

int om_detect_add_file(om_detect *d, const char *path, unsigned warn, om_detect_load_stats *st,
                       char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		int e = errno;
		snprintf(err, errlen, "%s: %s", path, strerror(e));
		return -e;
	}
	om_buf b;
	om_buf_init(&b, 1u << 30);
	char chunk[65536];
	size_t n;
	int rc = 0;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (om_buf_append(&b, chunk, n) < 0) {
			rc = -EFBIG;
			break;
		}
	if (ferror(f))
		rc = -EIO;
	fclose(f);
	if (rc == 0)
		rc = om_detect_add_rules(d, b.len ? om_buf_cstr(&b) : "", b.len, path, warn, st);
	if (rc < 0)
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
	om_buf_free(&b);
	return rc;
}

/* ---- compile ------------------------------------------------------------------------ */

static int push_u32(uint32_t **v, uint32_t *n, uint32_t x)
{
	if (*n == 0 || (*n >= 16 && (*n & (*n - 1)) == 0)) {
		uint32_t nc = *n ? *n * 2 : 16;
		uint32_t *nv = realloc(*v, nc * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		*v = nv;
	}
	(*v)[(*n)++] = x;
	return 0;
}

static int acmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(om_addr));
}

/* a + 1; false when a is the last address */
static bool addr_next(const om_addr *a, om_addr *ret)
{
	*ret = *a;
	for (int i = 15; i >= 0; i--)
		if (++ret->b[i] != 0)
			return true;
	return false;
}

static uint32_t seg_of(const struct dt_ipidx *x, const om_addr *a)
{
	/* the last start <= a (starts[0] is the lowest boundary) */
	uint32_t lo = 0, hi = x->nseg;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (memcmp(&x->start[mid], a, sizeof(*a)) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo; /* one past it: 0 when a is below every start */
}

const uint32_t *dt_ipidx_find(const struct dt_ipidx *x, const om_addr *a, uint32_t *ret_n)
{
	*ret_n = 0;
	if (!x->nseg)
		return NULL;
	uint32_t s = seg_of(x, a);
	if (s == 0)
		return NULL;
	s--;
	*ret_n = x->off[s + 1] - x->off[s];
	return x->ids + x->off[s];
}

static bool simple_side(const struct dt_addr *a)
{
	return a && !a->any && a->npos > 0 && a->nsub == 0;
}

/* builds x over the rules of list (side 0: source, 1: destination) */
static int ipidx_build(om_detect *d, struct dt_ipidx *x, const uint32_t *list, uint32_t n, int side)
{
	size_t nb = 0;
	for (uint32_t i = 0; i < n; i++) {
		const struct dt_addr *a = side ? d->rules[list[i]]->dst : d->rules[list[i]]->src;
		nb += 2 * (size_t)a->npos;
	}
	if (!nb)
		return 0;
	om_addr *b = malloc(nb * sizeof(*b));
	if (!b)
		return -ENOMEM;
	size_t k = 0;
	for (uint32_t i = 0; i < n; i++) {
		const struct dt_addr *a = side ? d->rules[list[i]]->dst : d->rules[list[i]]->src;
		for (uint32_t r = 0; r < a->npos; r++) {
			b[k++] = a->pos[r].lo;
			if (addr_next(&a->pos[r].hi, &b[k]))
				k++;
		}
	}
	qsort(b, k, sizeof(*b), acmp);
	size_t u = 0;
	for (size_t i = 0; i < k; i++)
		if (u == 0 || memcmp(&b[u - 1], &b[i], sizeof(*b)))
			b[u++] = b[i];
	x->start = b;
	x->nseg = (uint32_t)u;
	x->off = calloc(u + 1, sizeof(uint32_t));
	if (!x->off)
		return -ENOMEM;
	/* two passes: count, then fill */
	for (int pass = 0; pass < 2; pass++) {
		uint32_t *fill = NULL;
		if (pass == 1) {
			for (uint32_t s2 = 0; s2 < u; s2++)
				x->off[s2 + 1] += x->off[s2];
			x->ids = malloc((x->off[u] ? x->off[u] : 1) * sizeof(uint32_t));
			fill = calloc(u, sizeof(uint32_t));
			if (!x->ids || !fill) {
				free(fill);
				return -ENOMEM;
			}
		}
		for (uint32_t i = 0; i < n; i++) {
			const struct dt_addr *a =
			    side ? d->rules[list[i]]->dst : d->rules[list[i]]->src;
			for (uint32_t r = 0; r < a->npos; r++) {
				uint32_t s2 = seg_of(x, &a->pos[r].lo) - 1;
				for (; s2 < u &&
				       memcmp(&x->start[s2], &a->pos[r].hi, sizeof(om_addr)) <= 0;
				     s2++) {
					if (pass == 0)
						x->off[s2 + 1]++;
					else
						x->ids[x->off[s2] + fill[s2]++] = list[i];
				}
			}
		}
		free(fill);
	}
	return 0;
}

static void ipidx_free(struct dt_ipidx *x)
{
	free(x->start);
	free(x->off);
	free(x->ids);
	memset(x, 0, sizeof(*x));
}

/* the transform chain of buffer buf in rule r (the last one given, as
 * matching uses), or NULL */
static const uint8_t *rule_xform(const struct dt_rule *r, int buf, uint8_t *ret_n)
{
	const uint8_t *x = NULL;
	*ret_n = 0;
	for (unsigned i = 0; i < r->nxf; i++)
		if (r->xf[i].buf == buf) {
			x = r->xf[i].x;
			*ret_n = r->xf[i].n;
		}
	return x;
}

/* whether a payload rule is a candidate of ppf: a TCP packet whose bytes
 * the stream inspects (its database), the stream (its database), any
 * other packet (DT_PPF_PACKET: the stream's database, its finds filtered,
 * and DT_PPF_PACKET_OTHER's) */
static bool ppf_takes(const struct dt_rule *r, int ppf)
{
	bool pkt = !r->in_tx && !(r->flow & DT_FL_ONLY_STREAM);
	switch (ppf) {
	case DT_PPF_PACKET: return pkt;
	case DT_PPF_PACKET_OTHER: return pkt && !r->stream;
	case DT_PPF_PACKET_STREAMED:
		return pkt && !r->stream && r->proto != DT_P_UDP && r->proto != DT_P_ICMP;
	default: return r->stream;
	}
}

/* the rules a database holds: those whose fast pattern lies in buffer buf,
 * transformed by chain xpf (-1: not transformed); for the payload, those
 * of database ppf, or with apf >= 0 those of database db of that DT_APF_
 * kind and direction (see struct dt_apf) */
struct pf_sel {
	int buf, xpf, ppf;
	int apf, dir, db;
};

/* whether rule r's application protocol lets it into database db of a */
static bool apf_app_ok(const struct dt_apf *a, const struct dt_rule *r, int db)
{
	if (r->proto != DT_P_APP || db == DT_APF_ALLDB)
		return true;
	return a->db_of[r->appi + 1] == db;
}

static bool apf_takes(const struct dt_rule *r, int kind, int dir)
{
	if (r->flow & (dir == OM_DIR_TOSERVER ? DT_FL_TOCLIENT : DT_FL_TOSERVER))
		return false;
	if (kind == DT_APF_STREAM)
		return ppf_takes(r, DT_PPF_STREAM);
	if (kind == DT_APF_SPKT)
		return ppf_takes(r, DT_PPF_PACKET_STREAMED);
	return ppf_takes(r, DT_PPF_PACKET) && r->proto != DT_P_UDP && r->proto != DT_P_ICMP;
}

/* whether a payload of some size in [a, b] passes rule r's dsize */
static bool dsize_meets(const struct dt_rule *r, uint64_t a, uint64_t b)
{
	uint64_t lo = r->dsize_lo, hi = r->dsize_hi;
	switch (r->dsize_op) {
	case -1: return true;
	case 0: return a <= lo && lo <= b;
	case 1: return a < lo;
	case 2: return b > lo;
	case 3:
		return lo < UINT64_MAX && hi > 0 &&
		       (a > lo + 1 ? a : lo + 1) <= (b < hi - 1 ? b : hi - 1);
	case 4: return !(a == b && a == lo);
	case 5: return a <= lo;
	case 6: return b >= lo;
	default: return true;
	}
}

static bool pf_takes(const om_detect *d, const struct dt_rule *r, const struct pf_sel *s)
{
	if (!r->needs_fp || r->m[r->fp].buf != s->buf || r->fpx != s->xpf)
		return false;
	if (s->buf != DT_BUF_PKT)
		return true;
	if (s->apf < 0)
		return ppf_takes(r, s->ppf);
	if (!apf_takes(r, s->apf, s->dir))
		return false;
	if (s->apf == DT_APF_SPKT)
		return s->db ? dsize_meets(r, DT_SPKT_SMALL + 1, UINT32_MAX)
		             : dsize_meets(r, 0, DT_SPKT_SMALL);
	return apf_app_ok(&d->apf[s->apf][s->dir], r, s->db);
}

/* one rule's fast pattern while a database is built */
struct pf_ent {
	const uint8_t *p;
	uint32_t len;
	unsigned flags;
	uint32_t rule;
};

/* the same pattern (bytes, and their case when it matters) next to each
 * other, then by rule */
static int pf_ent_cmp(const void *a, const void *b)
{
	const struct pf_ent *x = a, *y = b;
	if (x->flags != y->flags)
		return x->flags < y->flags ? -1 : 1;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	for (uint32_t i = 0; i < x->len; i++) {
		int cx = x->p[i], cy = y->p[i];
		if (x->flags & HS_FLAG_CASELESS) {
			cx = tolower(cx);
			cy = tolower(cy);
		}
		if (cx != cy)
			return cx < cy ? -1 : 1;
	}
	return x->rule < y->rule ? -1 : x->rule > y->rule;
}

/* the database of the rules s selects: each distinct pattern once (many
 * rules share a fast pattern), found patterns give their rules through
 * pf->off */
static int pf_build_sel(om_detect *d, struct dt_pf *pf, const struct pf_sel *s, char *err,
                        size_t errlen)
{
	int rc = 0;
	uint32_t count = 0;
	for (uint32_t i = 0; i < d->nrules; i++)
		if (pf_takes(d, d->rules[i], s))
			count++;
	if (!count)
		return 0;
	struct pf_ent *ent = calloc(count, sizeof(*ent));
	const char **pats = calloc(count, sizeof(*pats));
	unsigned *flags = calloc(count, sizeof(*flags));
	unsigned *ids = calloc(count, sizeof(*ids));
	size_t *lens = calloc(count, sizeof(*lens));
	pf->rules = calloc(count, sizeof(uint32_t));
	pf->off = calloc(count + 1, sizeof(uint32_t));
	if (!ent || !pats || !flags || !ids || !lens || !pf->rules || !pf->off) {
		rc = -ENOMEM;
	} else {
		uint32_t n = 0;
		for (uint32_t i = 0; i < d->nrules && n < count; i++) {
			struct dt_rule *r = d->rules[i];
			if (!pf_takes(d, r, s))
				continue;
			const struct dt_match *m = &r->m[r->fp];
			uint32_t off = m->u.c.fp_chop ? m->u.c.fp_off : 0;
			uint32_t len = m->u.c.fp_chop ? m->u.c.fp_len : m->u.c.len;
			ent[n].p = m->u.c.pat + off;
			ent[n].len = len;
			ent[n].flags = HS_FLAG_SINGLEMATCH |
			               ((m->flags & DT_CF_NOCASE) ? HS_FLAG_CASELESS : 0);
			ent[n].rule = i;
			if (len > pf->maxlen)
				pf->maxlen = len;
			if (!pf->minlen || len < pf->minlen)
				pf->minlen = len;
			n++;
		}
		pf->n = n;
		qsort(ent, n, sizeof(*ent), pf_ent_cmp);
		uint32_t np = 0;
		for (uint32_t i = 0; i < n; i++) {
			if (i == 0 ||
			    pf_ent_cmp(&(struct pf_ent){ent[i].p, ent[i].len, ent[i].flags, 0},
			               &(struct pf_ent){ent[i - 1].p, ent[i - 1].len,
			                                ent[i - 1].flags, 0}) != 0) {
				pats[np] = (const char *)ent[i].p;
				lens[np] = ent[i].len;
				flags[np] = ent[i].flags;
				ids[np] = np;
				pf->off[np] = i;
				np++;
			}
			pf->rules[i] = ent[i].rule;
		}
		pf->off[np] = n;
		pf->npat = np;
		hs_compile_error_t *ce = NULL;
		if (hs_compile_lit_multi(pats, flags, ids, lens, np, HS_MODE_BLOCK, NULL, &pf->db,
		                         &ce) != HS_SUCCESS) {
			snprintf(err, errlen, om_tr("err.detect.hs_compile"),
			         ce && ce->message ? ce->message : "?");
			if (ce)
				hs_free_compile_error(ce);
			rc = -EINVAL;
		} else if (hs_alloc_scratch(pf->db, &d->proto_scratch) != HS_SUCCESS) {
			snprintf(err, errlen, "%s", om_tr("err.detect.hs_scratch"));
			rc = -ENOMEM;
		}
	}
	free(ent);
	free(pats);
	free(flags);
	free(ids);
	free(lens);
	return rc;
}

static int pf_build(om_detect *d, struct dt_pf *pf, int buf, int xpf, int ppf, char *err,
                    size_t errlen)
{
	struct pf_sel s = {.buf = buf, .xpf = xpf, .ppf = ppf, .apf = -1, .dir = 0, .db = 0};
	return pf_build_sel(d, pf, &s, err, errlen);
}

/* the databases of one kind and direction: which protocols have a good
 * share of the patterns for one of their own (or take every protocol's),
 * then the databases */
static int apf_build_one(om_detect *d, int k, int dir, char *err, size_t errlen)
{
	struct dt_apf *a = &d->apf[k][dir];
	uint32_t own[DT_MAX_APPS] = {0}, total = 0, shared;
	for (uint32_t i = 0; i < d->nrules; i++) {
		const struct dt_rule *r = d->rules[i];
		if (!r->needs_fp || r->m[r->fp].buf != DT_BUF_PKT || !apf_takes(r, k, dir))
			continue;
		total++;
		if (r->proto == DT_P_APP)
			own[r->appi]++;
	}
	shared = total;
	for (uint32_t ai = 0; ai < d->napps; ai++)
		shared -= own[ai];
	if (k == DT_APF_SPKT) {
		for (int db = 0; db < 2; db++) {
			struct pf_sel s = {
			    .buf = DT_BUF_PKT, .xpf = -1, .ppf = 0, .apf = k, .dir = dir, .db = db};
			int rc = pf_build_sel(d, &a->pf[db], &s, err, errlen);
			if (rc)
				return rc;
		}
		return 0;
	}
	/* the stream: every protocol's rules, one database per direction (an
	 * undecided flow needs it; for a decided one, databases of a few
	 * hundred patterns cost more to compile than they save) */
	if (k == DT_APF_STREAM) {
		memset(a->db_of, DT_APF_ALLDB, sizeof(a->db_of));
		struct pf_sel s = {.buf = DT_BUF_PKT,
		                   .xpf = -1,
		                   .ppf = 0,
		                   .apf = k,
		                   .dir = dir,
		                   .db = DT_APF_ALLDB};
		return pf_build_sel(d, &a->pf[DT_APF_ALLDB], &s, err, errlen);
	}
	/* packets: database 0, and a protocol with a good share of the
	 * patterns gets its own; one whose database would be almost all of
	 * them keeps the payload databases of every protocol (DT_APF_ALLDB,
	 * not built here) */
	a->db_of[0] = 0;
	for (uint32_t ai = 0; ai < d->napps; ai++) {
		uint8_t db = 0;
		if (own[ai] >= DT_APP_OWN_MIN && own[ai] >= total / 8)
			db = (uint64_t)(shared + own[ai]) * 4 > (uint64_t)total * 3
			         ? DT_APF_ALLDB
			         : (uint8_t)(ai + 1);
		a->db_of[ai + 1] = db;
	}
	for (uint32_t db = 0; db <= d->napps; db++) {
		if (a->db_of[db] != db)
			continue;
		struct pf_sel s = {
		    .buf = DT_BUF_PKT, .xpf = -1, .ppf = 0, .apf = k, .dir = dir, .db = (int)db};
		int rc = pf_build_sel(d, &a->pf[db], &s, err, errlen);
		if (rc)
			return rc;
	}
	return 0;
}

/* the payload's databases by direction and application protocol (struct
 * dt_apf): the rules' protocols, then each kind and direction */
static int apf_build(om_detect *d, char *err, size_t errlen)
{
	for (uint32_t i = 0; i < d->nrules; i++) {
		struct dt_rule *r = d->rules[i];
		r->appi = -1;
		if (r->proto != DT_P_APP)
			continue;
		uint32_t a = 0;
		while (a < d->napps && strcmp(d->apps[a], r->app))
			a++;
		if (a == d->napps) {
			if (d->napps == DT_MAX_APPS)
				return 0; /* too many: the databases of all protocols serve */
			snprintf(d->apps[a], sizeof(d->apps[a]), "%s", r->app);
			d->napps++;
		}
		r->appi = (int)a;
	}
	for (int k = 0; k < DT_APF_KINDS; k++)
		for (int dir = 0; dir < 2; dir++) {
			int rc = apf_build_one(d, k, dir, err, errlen);
			if (rc)
				return rc;
		}
	d->apf_on = true;
	return 0;
}

/* a buffer a transaction rule cannot match without (0: none): the first
 * transaction buffer of its keywords, else the URI of urilen */
static int rule_needs_buf(const struct dt_rule *r)
{
	for (uint32_t i = 0; i < r->nm; i++)
		if (r->m[i].buf != DT_BUF_PKT)
			return r->m[i].buf;
	if (r->urilen_op >= 0)
		return DT_BUF_TX(r->urilen_raw ? OM_TXB_HTTP_URI_RAW : OM_TXB_HTTP_URI);
	return 0;
}

#define PIDX_PORTS 1024u    /* ports of one rule indexed at most */
#define PIDX_MAX (1u << 22) /* entries of one port index */

/* the destination ports a packet must have for rule r: their count, 0 when
 * that is not a short list */
static uint32_t pidx_width(const struct dt_rule *r)
{
	const struct dt_ports *p = r->dp;
	if (r->bidir || !p || p->any || p->nneg || !p->npos)
		return 0;
	uint32_t n = 0;
	for (uint32_t i = 0; i < p->npos; i++) {
		n += (uint32_t)(p->pos[i].hi - p->pos[i].lo) + 1;
		if (n > PIDX_PORTS)
			return 0;
	}
	return n;
}

/* the port index of packet list l (rule order kept in every list) */
static int pidx_build(om_detect *d, struct dt_portidx *x, const struct dt_list *l)
{
	size_t total = 0;
	for (uint32_t i = 0; i < l->n; i++)
		total += pidx_width(d->rules[l->v[i]]);
	if (!l->n || total > PIDX_MAX)
		return 0;
	x->off = calloc(65537, sizeof(uint32_t));
	x->ids = malloc((total ? total : 1) * sizeof(uint32_t));
	uint32_t *fill = calloc(65536, sizeof(uint32_t));
	int rc = x->off && x->ids && fill ? 0 : -ENOMEM;
	for (int pass = 0; pass < 2 && rc == 0; pass++) {
		if (pass == 1)
			for (uint32_t p = 0; p < 65536; p++)
				x->off[p + 1] += x->off[p];
		for (uint32_t i = 0; i < l->n && rc == 0; i++) {
			const struct dt_rule *r = d->rules[l->v[i]];
			if (!pidx_width(r)) {
				if (pass == 0)
					rc = push_u32(&x->always.v, &x->always.n, l->v[i]);
				continue;
			}
			for (uint32_t k = 0; k < r->dp->npos; k++)
				for (uint32_t p = r->dp->pos[k].lo; p <= r->dp->pos[k].hi; p++) {
					if (pass == 0)
						x->off[p + 1]++;
					else
						x->ids[x->off[p] + fill[p]++] = l->v[i];
				}
		}
	}
	free(fill);
	return rc;
}

int om_detect_compile(om_detect *d, char *err, size_t errlen)
{
	if (d->compiled)
		return 0;
	uint32_t count[DT_NBUFS] = {0};
	uint32_t *bysrc = NULL, *bydst = NULL, nsrc = 0, ndst = 0;
	/* which rules the prefilter finds, and by which buffer: a fast
	 * pattern in a transformed transaction buffer goes into the database
	 * of that buffer and transform chain */
	for (uint32_t i = 0; i < d->nrules; i++) {
		struct dt_rule *r = d->rules[i];
		r->needs_fp = false;
		r->fpx = -1;
		if (r->nextract > d->max_extract)
			d->max_extract = r->nextract;
		if (r->fp < 0)
			continue;
		const struct dt_match *m = &r->m[r->fp];
		uint8_t nx;
		const uint8_t *x = rule_xform(r, m->buf, &nx);
		if (!x) {
			r->needs_fp = true;
			count[m->buf]++;
			continue;
		}
		if (m->buf == DT_BUF_PKT)
			continue;
		uint32_t c = 0;
		while (c < d->nxpf && !(d->xpf[c].buf == m->buf && d->xpf[c].n == nx &&
		                        !memcmp(d->xpf[c].x, x, nx)))
			c++;
		if (c == d->nxpf) {
			if (d->nxpf >= DT_MAX_XPF)
				continue; /* checked on every transaction of its kind */
			d->xpf[c].buf = m->buf;
			d->xpf[c].n = nx;
			memcpy(d->xpf[c].x, x, nx);
			d->nxpf++;
		}
		r->needs_fp = true;
		r->fpx = (int)c;
	}
	int rc = 0;
	for (int b = 1; b < DT_NBUFS && rc == 0; b++)
		if (count[b])
			rc = pf_build(d, &d->pf[b], b, -1, 0, err, errlen);
	if (rc == 0)
		rc = apf_build(d, err, errlen);
	/* the stream's database of every direction only without those by
	 * direction */
	for (int k = 0; k < 3 && rc == 0; k++)
		if (k != DT_PPF_STREAM || !d->apf_on)
			rc = pf_build(d, &d->ppf[k], DT_BUF_PKT, -1, k, err, errlen);
	for (uint32_t c = 0; c < d->nxpf && rc == 0; c++) {
		rc = pf_build(d, &d->xpf[c].pf, d->xpf[c].buf, (int)c, 0, err, errlen);
		d->txneed[d->xpf[c].buf] = true;
	}
	for (int b = 1; b < DT_NBUFS; b++)
		if (d->pf[b].db)
			d->txneed[b] = true;
	for (uint32_t i = 0; i < d->nrules && rc == 0; i++) {
		struct dt_rule *r = d->rules[i];
		if (r->needs_fp)
			continue;
		if (r->ip_only && !r->bidir && simple_side(r->src))
			rc = push_u32(&bysrc, &nsrc, i);
		else if (r->ip_only && !r->bidir && simple_side(r->dst))
			rc = push_u32(&bydst, &ndst, i);
		else if (r->ip_only)
			rc = push_u32(&d->iponly, &d->n_iponly, i);
		else if (r->in_tx) {
			rc = push_u32(&d->nopf_tx, &d->n_nopf_tx, i);
			int nb = rule_needs_buf(r);
			struct dt_list *l = &d->txl[nb][r->tx_dir == OM_DIR_TOCLIENT];
			if (rc == 0)
				rc = push_u32(&l->v, &l->n, i);
			if (nb)
				d->txneed[nb] = true;
		} else
			rc = push_u32(&d->nopf_pkt, &d->n_nopf_pkt, i);
		if (rc == 0 && r->stream && !r->in_tx)
			rc = push_u32(&d->nopf_stream, &d->n_nopf_stream, i);
		if (r->ip_only || r->in_tx || rc)
			continue;
		/* as the payload's databases divide them */
		if (ppf_takes(r, DT_PPF_PACKET))
			rc = push_u32(&d->pktl[0].v, &d->pktl[0].n, i);
		if (rc == 0 && ppf_takes(r, DT_PPF_PACKET_STREAMED))
			rc = push_u32(&d->pktl[1].v, &d->pktl[1].n, i);
		if (rc == 0 && r->stream)
			rc = push_u32(&d->streaml.v, &d->streaml.n, i);
	}
	for (uint32_t i = 0; i < d->nrules; i++) {
		struct dt_rule *r = d->rules[i];
		if (r->stream)
			d->has_stream = true;
		if (r->mixed) {
			r->midx = d->n_mixed;
			rc = rc ? rc : push_u32(&d->mixed, &d->n_mixed, i);
		}
	}
	for (int k = 0; k < 2 && rc == 0; k++)
		rc = pidx_build(d, &d->pidx[k], &d->pktl[k]);
	if (rc == 0)
		rc = ipidx_build(d, &d->ipsrc, bysrc, nsrc, 0);
	if (rc == 0)
		rc = ipidx_build(d, &d->ipdst, bydst, ndst, 1);
	free(bysrc);
	free(bydst);
	if (rc == -ENOMEM && err[0] == '\0')
		snprintf(err, errlen, "%s", strerror(ENOMEM));
	if (rc == 0)
		d->compiled = true;
	return rc;
}
