/* gateway.c: the gateway's configuration section (gateway:), its policy
 * block list and the quarantine list file. The live loop is in engine.c
 * (om_gateway_run), beside the pipeline it runs. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <cap-ng.h>
#include <grp.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/socket.h>

#include "engine/engine.h"
#include "engine/internal.h"

static int parse_mode(om_config_ctx *c, const om_config_node *n, void *obj)
{
	om_gateway_config *g = obj;
	const char *s = om_config_node_scalar(n);
	if (s && strcmp(s, "inline") == 0)
		g->mode = OM_GW_INLINE;
	else if (s && strcmp(s, "passive") == 0)
		g->mode = OM_GW_PASSIVE;
	else
		return om_config_fail(c, n, "site.mode", "err.gateway.mode", s ? s : "");
	return 0;
}

static void dump_mode(const void *obj, om_buf *out, int indent)
{
	(void)indent;
	om_buf_puts(out, ((const om_gateway_config *)obj)->mode == OM_GW_PASSIVE ? " passive"
	                                                                         : " inline");
}

static int proto_of(om_config_ctx *c, const om_config_node *n, const char *key, uint8_t *ret)
{
	const char *s = n ? om_config_node_scalar(n) : "tcp";
	if (s && strcmp(s, "tcp") == 0)
		*ret = IPPROTO_TCP;
	else if (s && strcmp(s, "udp") == 0)
		*ret = IPPROTO_UDP;
	else
		return om_config_fail(c, n, key, "err.gateway.proto", s ? s : "");
	return 0;
}

static int parse_forwards(om_config_ctx *c, const om_config_node *n, void *obj)
{
	om_gateway_config *g = obj;
	const char *key = "site.forwards";
	size_t count = om_config_node_count(n);
	if (om_config_node_type(n) != OM_CN_SEQUENCE || count > OM_GW_MAX_FORWARDS)
		return om_config_fail(c, n, key, "err.gateway.forwards", OM_GW_MAX_FORWARDS);
	for (size_t i = 0; i < count; i++) {
		const om_config_node *e = om_config_node_item(c, n, i, NULL);
		const om_config_node *port = e ? om_config_node_get(c, e, "port") : NULL;
		const om_config_node *to = e ? om_config_node_get(c, e, "to") : NULL;
		if (!port || !to)
			return om_config_fail(c, e ? e : n, key, "err.gateway.forwards",
			                      OM_GW_MAX_FORWARDS);
		om_gw_forward *f = &g->forwards[i];
		uint64_t v;
		om_cidr cd;
		int r = proto_of(c, om_config_node_get(c, e, "proto"), key, &f->proto);
		if (r == 0)
			r = om_config_node_u64(c, port, key, 1, 65535, &v);
		if (r < 0)
			return r;
		f->port = (uint16_t)v;
		if ((r = om_config_node_cidr(c, to, key, &cd)) < 0)
			return r;
		f->to = cd.addr;
		const om_config_node *tp = om_config_node_get(c, e, "to-port");
		f->to_port = f->port;
		if (tp) {
			if ((r = om_config_node_u64(c, tp, key, 1, 65535, &v)) < 0)
				return r;
			f->to_port = (uint16_t)v;
		}
	}
	g->nforwards = (unsigned)count;
	return 0;
}

static void dump_forwards(const void *obj, om_buf *out, int indent)
{
	const om_gateway_config *g = obj;
	if (!g->nforwards)
		om_buf_puts(out, " []");
	for (unsigned i = 0; i < g->nforwards; i++) {
		char a[64];
		om_addr_str(&g->forwards[i].to, a, sizeof(a));
		om_buf_printf(out, "\n%*s- {proto: %s, port: %u, to: %s, to-port: %u}", indent + 2,
		              "", g->forwards[i].proto == IPPROTO_UDP ? "udp" : "tcp",
		              g->forwards[i].port, a, g->forwards[i].to_port);
	}
}

static int parse_hosts(om_config_ctx *c, const om_config_node *n, void *obj)
{
	om_gateway_config *g = obj;
	const char *key = "site.hosts";
	size_t count = om_config_node_count(n);
	if (om_config_node_type(n) != OM_CN_SEQUENCE || count > OM_GW_MAX_HOSTS)
		return om_config_fail(c, n, key, "err.gateway.hosts", OM_GW_MAX_HOSTS);
	for (size_t i = 0; i < count; i++) {
		const om_config_node *e = om_config_node_item(c, n, i, NULL);
		const om_config_node *host = e ? om_config_node_get(c, e, "host") : NULL;
		const om_config_node *act = e ? om_config_node_get(c, e, "action") : NULL;
		const char *as = act ? om_config_node_scalar(act) : NULL;
		if (!host || !as || (strcmp(as, "deny") != 0 && strcmp(as, "allow") != 0))
			return om_config_fail(c, e ? e : n, key, "err.gateway.hosts",
			                      OM_GW_MAX_HOSTS);
		om_gw_host *h = &g->hosts[i];
		memset(h, 0, sizeof(*h));
		h->allow = strcmp(as, "allow") == 0;
		int r = om_config_node_cidr(c, host, key, &h->host);
		if (r < 0)
			return r;
		const om_config_node *port = om_config_node_get(c, e, "port");
		if (port) {
			uint64_t v;
			if ((r = om_config_node_u64(c, port, key, 1, 65535, &v)) < 0)
				return r;
			h->port = (uint16_t)v;
			if ((r = proto_of(c, om_config_node_get(c, e, "proto"), key, &h->proto)) <
			    0)
				return r;
		} else if (h->allow) {
			return om_config_fail(c, e, key, "err.gateway.hosts", OM_GW_MAX_HOSTS);
		}
	}
	g->nhosts = (unsigned)count;
	return 0;
}

static void dump_hosts(const void *obj, om_buf *out, int indent)
{
	const om_gateway_config *g = obj;
	if (!g->nhosts)
		om_buf_puts(out, " []");
	for (unsigned i = 0; i < g->nhosts; i++) {
		char a[64];
		om_addr_str(&g->hosts[i].host.addr, a, sizeof(a));
		om_buf_printf(out, "\n%*s- {host: %s, action: %s, port: %u}", indent + 2, "", a,
		              g->hosts[i].allow ? "allow" : "deny", g->hosts[i].port);
	}
}

static int parse_blocked(om_config_ctx *c, const om_config_node *n, void *obj)
{
	om_gateway_config *g = obj;
	const char *key = "site.block-list";
	size_t count = om_config_node_count(n);
	if (om_config_node_type(n) != OM_CN_SEQUENCE || count > OM_GW_MAX_BLOCKED)
		return om_config_fail(c, n, key, "err.gateway.block_list", OM_GW_MAX_BLOCKED,
		                      OM_GW_NAME_MAX - 1);
	for (size_t i = 0; i < count; i++) {
		const om_config_node *e = om_config_node_item(c, n, i, NULL);
		const char *s = e ? om_config_node_scalar(e) : NULL;
		if (!s || !*s || strlen(s) >= OM_GW_NAME_MAX)
			return om_config_fail(c, e ? e : n, key, "err.gateway.block_list",
			                      OM_GW_MAX_BLOCKED, OM_GW_NAME_MAX - 1);
		snprintf(g->blocked[i], OM_GW_NAME_MAX, "%s", s);
	}
	g->nblocked = (unsigned)count;
	return 0;
}

static void dump_blocked(const void *obj, om_buf *out, int indent)
{
	const om_gateway_config *g = obj;
	if (!g->nblocked)
		om_buf_puts(out, " []");
	for (unsigned i = 0; i < g->nblocked; i++)
		om_buf_printf(out, "\n%*s- %s", indent + 2, "", g->blocked[i]);
}

static const char *const autoq_names[] = {"c2", "web_malware", "mail_malware", "intrusion"};

uint32_t om_gw_autoq_bit(const char *category, size_t len)
{
	for (size_t i = 0; i < OM_ARRAY_SIZE(autoq_names); i++)
		if (strlen(autoq_names[i]) == len && memcmp(autoq_names[i], category, len) == 0)
			return 1u << i;
	return 0;
}

static int parse_autoq(om_config_ctx *c, const om_config_node *n, void *obj)
{
	om_gateway_config *g = obj;
	const char *key = "site.auto-quarantine";
	if (om_config_node_type(n) != OM_CN_SEQUENCE)
		return om_config_fail(c, n, key, "err.gateway.auto_quarantine");
	uint32_t bits = 0;
	for (size_t i = 0, count = om_config_node_count(n); i < count; i++) {
		const om_config_node *e = om_config_node_item(c, n, i, NULL);
		const char *s = e ? om_config_node_scalar(e) : NULL;
		uint32_t b = s ? om_gw_autoq_bit(s, strlen(s)) : 0;
		if (!b)
			return om_config_fail(c, e ? e : n, key, "err.gateway.auto_quarantine");
		bits |= b;
	}
	g->auto_quarantine = bits;
	return 0;
}

static void dump_autoq(const void *obj, om_buf *out, int indent)
{
	const om_gateway_config *g = obj;
	if (!g->auto_quarantine)
		om_buf_puts(out, " []");
	for (size_t i = 0; i < OM_ARRAY_SIZE(autoq_names); i++)
		if (g->auto_quarantine & (1u << i))
			om_buf_printf(out, "\n%*s- %s", indent + 2, "", autoq_names[i]);
}

#define F(m) offsetof(om_gateway_config, m)
static const om_config_key gw_keys[] = {
    {"site.mode", OM_CK_CUSTOM, 0, 0, 0, 0, "config.help.gateway.mode", parse_mode, dump_mode},
    {"site.lan", OM_CK_STR, F(lan), sizeof(((om_gateway_config *)0)->lan), 0, 0,
     "config.help.gateway.lan", NULL, NULL},
    {"site.wan", OM_CK_STR, F(wan), sizeof(((om_gateway_config *)0)->wan), 0, 0,
     "config.help.gateway.wan", NULL, NULL},
    {"site.dmz", OM_CK_STR, F(dmz), sizeof(((om_gateway_config *)0)->dmz), 0, 0,
     "config.help.gateway.dmz", NULL, NULL},
    {"site.mirror", OM_CK_STR, F(mirror), sizeof(((om_gateway_config *)0)->mirror), 0, 0,
     "config.help.gateway.mirror", NULL, NULL},
    {"site.workers", OM_CK_U32, F(workers), 0, 1, 64, "config.help.gateway.workers", NULL, NULL},
    {"site.queue", OM_CK_U32, F(queue), 0, 0, 65000, "config.help.gateway.queue", NULL, NULL},
    {"site.fail-open", OM_CK_BOOL, F(fail_open), 0, 0, 0, "config.help.gateway.fail-open", NULL,
     NULL},
    {"site.scan-block-seconds", OM_CK_U32, F(scan_block_seconds), 0, 0, 86400 * 30,
     "config.help.gateway.scan-block-seconds", NULL, NULL},
    {"site.hold-ms", OM_CK_U32, F(hold_ms), 0, 1, 60000, "config.help.gateway.hold-ms", NULL, NULL},
    {"site.max-held", OM_CK_U32, F(max_held), 0, 1, 65536, "config.help.gateway.max-held", NULL,
     NULL},
    {"site.realtime-priority", OM_CK_U32, F(rt_priority), 0, 0, 99,
     "config.help.gateway.realtime-priority", NULL, NULL},
    {"site.bypass", OM_CK_BOOL, F(bypass), 0, 0, 0, "config.help.gateway.bypass", NULL, NULL},
    {"site.user", OM_CK_STR, F(user), sizeof(((om_gateway_config *)0)->user), 0, 0,
     "config.help.gateway.user", NULL, NULL},
    {"site.block-page.address", OM_CK_STR, F(block_addr),
     sizeof(((om_gateway_config *)0)->block_addr), 0, 0, "config.help.gateway.block-page.address",
     NULL, NULL},
    {"site.block-page.address6", OM_CK_STR, F(block_addr6),
     sizeof(((om_gateway_config *)0)->block_addr6), 0, 0, "config.help.gateway.block-page.address6",
     NULL, NULL},
    {"site.block-page.port", OM_CK_U32, F(block_port), 0, 1, 65535,
     "config.help.gateway.block-page.port", NULL, NULL},
    {"site.block-page.contact", OM_CK_STR, F(block_contact),
     sizeof(((om_gateway_config *)0)->block_contact), 0, 0,
     "config.help.gateway.block-page.contact", NULL, NULL},
    {"site.forwards", OM_CK_CUSTOM, 0, 0, 0, 0, "config.help.gateway.forwards", parse_forwards,
     dump_forwards},
    {"site.hosts", OM_CK_CUSTOM, 0, 0, 0, 0, "config.help.gateway.hosts", parse_hosts, dump_hosts},
    {"site.block-list", OM_CK_CUSTOM, 0, 0, 0, 0, "config.help.gateway.block-list", parse_blocked,
     dump_blocked},
    {"site.auto-quarantine", OM_CK_CUSTOM, 0, 0, 0, 0, "config.help.gateway.auto-quarantine",
     parse_autoq, dump_autoq},
};
#undef F

static void gw_defaults(void *obj)
{
	om_gateway_config *g = obj;
	memset(g, 0, sizeof(*g));
	g->mode = OM_GW_INLINE;
	snprintf(g->lan, sizeof(g->lan), "lan0");
	snprintf(g->wan, sizeof(g->wan), "wan0");
	g->workers = 2;
	g->fail_open = true; /* a small office must keep working */
	g->scan_block_seconds = 600;
	g->hold_ms = 2000;
	g->max_held = 1024;
	g->block_port = 8080;
	g->rt_priority = 10;
	/* an elephant flow no parser knows skips the queue after its
	 * inspection depth (docs/gateway.md, "Bypass": why it is the default
	 * and what it gives up) */
	g->bypass = true;
}

static bool ifname_ok(const char *s)
{
	if (!*s || strlen(s) >= 16)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' || *s == '.'))
			return false;
	return true;
}

static int gw_check(om_config_ctx *c, const void *obj)
{
	const om_gateway_config *g = obj;
	/* names go into the ruleset text: only what an interface name can be */
	if (!ifname_ok(g->lan))
		return om_config_fail(c, NULL, "site.lan", "err.gateway.ifname", g->lan);
	if (!ifname_ok(g->wan))
		return om_config_fail(c, NULL, "site.wan", "err.gateway.ifname", g->wan);
	if (g->dmz[0] && !ifname_ok(g->dmz))
		return om_config_fail(c, NULL, "site.dmz", "err.gateway.ifname", g->dmz);
	if (g->mirror[0] && !ifname_ok(g->mirror))
		return om_config_fail(c, NULL, "site.mirror", "err.gateway.ifname", g->mirror);
	om_addr a;
	if (g->block_addr[0] && om_addr_parse(g->block_addr, &a) < 0)
		return om_config_fail(c, NULL, "site.block-page.address",
		                      "err.gateway.block_address", g->block_addr);
	if (g->block_addr6[0] && (om_addr_parse(g->block_addr6, &a) < 0 || om_addr_is_v4(&a)))
		return om_config_fail(c, NULL, "site.block-page.address6",
		                      "err.gateway.block_address6", g->block_addr6);
	if ((uint64_t)g->queue + g->workers > 65535)
		return om_config_fail(c, NULL, "site.queue", "err.gateway.queue", g->queue,
		                      g->workers);
	return 0;
}

const om_config_schema om_gateway_config_schema = {
    "engine", gw_keys, OM_ARRAY_SIZE(gw_keys), sizeof(om_gateway_config), gw_defaults, gw_check,
};

bool om_gw_name_blocked(const om_gateway_config *g, const char *name, size_t len)
{
	while (len && name[len - 1] == '.')
		len--;
	for (unsigned i = 0; i < g->nblocked; i++) {
		const char *b = g->blocked[i];
		size_t bl = strlen(b);
		if (bl > len)
			continue;
		/* the name itself or a subdomain of it: "x.example.com" matches
		 * "example.com", "badexample.com" does not */
		if (strncasecmp(name + len - bl, b, bl) == 0 &&
		    (bl == len || name[len - bl - 1] == '.'))
			return true;
	}
	return false;
}

int om_gw_quarantine_path(const om_settings *s, char *buf, size_t len)
{
	const char *dir = s->base.state_dir[0] ? s->base.state_dir : ".";
	int n = snprintf(buf, len, "%s/quarantine", dir);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int om_gw_quarantine_load(const char *path, om_addr_table *t, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		if (errno == ENOENT)
			return 0; /* nobody is quarantined */
		int r = -errno;
		snprintf(err, errlen, om_tr("err.gateway.quarantine_read"), path, strerror(errno));
		return r;
	}
	char line[128];
	unsigned lineno = 0;
	int r = 0;
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		line[strcspn(line, " \t\r\n#")] = '\0';
		if (!line[0])
			continue;
		om_addr a;
		if (om_addr_parse(line, &a) < 0) {
			snprintf(err, errlen, om_tr("err.gateway.quarantine_line"), path, lineno,
			         line);
			r = -EINVAL;
			break;
		}
		if ((r = om_addr_table_add(t, &a, 0)) < 0) {
			snprintf(err, errlen, om_tr("err.gateway.quarantine_full"), path,
			         om_addr_table_count(t));
			break;
		}
	}
	fclose(f);
	return r;
}

int om_gw_quarantine_edit(const char *path, const om_addr *a, bool add, char *err, size_t errlen)
{
	om_addr_table *t = om_addr_table_new(4096);
	if (!t) {
		snprintf(err, errlen, "%s", om_tr("err.nomem"));
		return -ENOMEM;
	}
	int r = om_gw_quarantine_load(path, t, err, errlen);
	if (r < 0)
		goto out;
	if (add)
		r = om_addr_table_add(t, a, 0);
	else if ((r = om_addr_table_del(t, a)) == -ENOENT) {
		char s[64];
		om_addr_str(a, s, sizeof(s));
		snprintf(err, errlen, om_tr("err.gateway.quarantine_absent"), s);
		goto out;
	}
	if (r < 0) {
		snprintf(err, errlen, om_tr("err.gateway.quarantine_full"), path,
		         om_addr_table_count(t));
		goto out;
	}
	/* written beside and renamed: a reader sees the old list or the new */
	char tmp[300];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	if (!f) {
		r = -errno;
		snprintf(err, errlen, om_tr("err.gateway.quarantine_write"), tmp, strerror(errno));
		goto out;
	}
	om_addr x;
	om_usec until;
	for (unsigned i = 0; om_addr_table_get(t, i, &x, &until); i++) {
		char s[64];
		om_addr_str(&x, s, sizeof(s));
		fprintf(f, "%s\n", s);
	}
	bool ok = fflush(f) == 0 && fsync(fileno(f)) == 0;
	int e = errno;
	if (fclose(f) != 0 && ok) {
		ok = false;
		e = errno;
	}
	if (ok && rename(tmp, path) != 0) {
		ok = false;
		e = errno;
	}
	if (!ok) {
		r = -e;
		snprintf(err, errlen, om_tr("err.gateway.quarantine_write"), path, strerror(e));
		unlink(tmp);
	}
out:
	om_addr_table_free(t);
	return r;
}

/* ---- reject: TCP resets and ICMP errors -------------------------------------- */

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t s)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void ip4_header(uint8_t *h, const uint8_t src[4], const uint8_t dst[4], uint8_t proto,
                       uint16_t total)
{
	memset(h, 0, 20);
	h[0] = 0x45;
	put16(h + 2, total);
	h[8] = 64;
	h[9] = proto;
	memcpy(h + 12, src, 4);
	memcpy(h + 16, dst, 4);
	put16(h + 10, fold(sum16(h, 20, 0)));
}

static void tcp_rst(uint8_t *out, const uint8_t src[4], const uint8_t dst[4], uint16_t sport,
                    uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags)
{
	ip4_header(out, src, dst, IPPROTO_TCP, 40);
	uint8_t *t = out + 20;
	memset(t, 0, 20);
	put16(t, sport);
	put16(t + 2, dport);
	put32(t + 4, seq);
	put32(t + 8, ack);
	t[12] = 5 << 4;
	t[13] = flags;
	uint8_t ph[12];
	memcpy(ph, src, 4);
	memcpy(ph + 4, dst, 4);
	ph[8] = 0;
	ph[9] = IPPROTO_TCP;
	put16(ph + 10, 20);
	put16(t + 16, fold(sum16(t, 20, sum16(ph, 12, 0))));
}

static void ip6_header(uint8_t *h, const uint8_t src[16], const uint8_t dst[16], uint8_t next,
                       uint16_t payload)
{
	memset(h, 0, 40);
	h[0] = 0x60;
	put16(h + 4, payload);
	h[6] = next;
	h[7] = 64;
	memcpy(h + 8, src, 16);
	memcpy(h + 24, dst, 16);
}

/* The IPv6 pseudo-header's sum (RFC 8200 8.1). */
static uint32_t ip6_pseudo(const uint8_t src[16], const uint8_t dst[16], uint32_t len, uint8_t next)
{
	uint8_t ph[40];
	memcpy(ph, src, 16);
	memcpy(ph + 16, dst, 16);
	put32(ph + 32, len);
	ph[36] = ph[37] = ph[38] = 0;
	ph[39] = next;
	return sum16(ph, 40, 0);
}

static void tcp6_rst(uint8_t *out, const uint8_t src[16], const uint8_t dst[16], uint16_t sport,
                     uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags)
{
	ip6_header(out, src, dst, IPPROTO_TCP, 20);
	uint8_t *t = out + 40;
	memset(t, 0, 20);
	put16(t, sport);
	put16(t + 2, dport);
	put32(t + 4, seq);
	put32(t + 8, ack);
	t[12] = 5 << 4;
	t[13] = flags;
	put16(t + 16, fold(sum16(t, 20, ip6_pseudo(src, dst, 20, IPPROTO_TCP))));
}

/* IPv6: resets for TCP, ICMPv6 "administratively prohibited" for the rest.
 * Only a packet whose next header is the transport itself is answered (no
 * extension headers: the offsets are then those of the decoded packet). */
static int reject6(const om_packet *p, uint8_t *buf, size_t cap, size_t *ret_len1, size_t *ret_len2)
{
	const uint8_t *ip = p->l3 ? p->l3 : p->raw;
	size_t len = p->l3 ? (p->caplen - (size_t)(p->l3 - p->raw)) : p->caplen;
	if (len < 40 || (ip[0] >> 4) != 6)
		return -EINVAL;
	size_t tot = 40 + (size_t)(ip[4] << 8 | ip[5]);
	if (tot > len)
		tot = len;
	const uint8_t *src = ip + 8, *dst = ip + 24;
	if (src[0] == 0xff || dst[0] == 0xff)
		return -EINVAL; /* never about multicast */
	if (ip[6] == IPPROTO_TCP) {
		if (tot < 60 || cap < 120)
			return -EINVAL;
		const uint8_t *t = ip + 40;
		size_t doff = (size_t)(t[12] >> 4) * 4;
		if (doff < 20 || 40 + doff > tot)
			return -EINVAL;
		uint8_t fl = t[13];
		if (fl & 0x04)
			return -EINVAL;
		uint16_t sp = (uint16_t)(t[0] << 8 | t[1]), dp = (uint16_t)(t[2] << 8 | t[3]);
		uint32_t seq = get32(t + 4), ack = get32(t + 8);
		uint32_t end = seq + (uint32_t)(tot - 40 - doff) + ((fl & 0x02) ? 1 : 0) +
		               ((fl & 0x01) ? 1 : 0);
		tcp6_rst(buf, dst, src, dp, sp, (fl & 0x10) ? ack : 0, end, 0x14);
		/* to the receiver at the rejected segment's own sequence: it never
		 * arrives, so that is exactly what the receiver expects next (an
		 * in-window but inexact reset only earns a challenge ACK, RFC 5961) */
		tcp6_rst(buf + 60, src, dst, sp, dp, seq, 0, 0x04);
		*ret_len1 = 60;
		*ret_len2 = 60;
		return 0;
	}
	if (ip[6] == IPPROTO_ICMPV6 && tot >= 41 && ip[40] < 128)
		return -EINVAL; /* no ICMPv6 error about an error */
	if (ip[6] != IPPROTO_UDP && ip[6] != IPPROTO_ICMPV6 && ip[6] != IPPROTO_SCTP)
		return -EINVAL;
	/* as much of the packet as fits, within the 1280 bytes every IPv6 link
	 * carries and the buffer */
	if (cap < 48)
		return -ENOBUFS;
	size_t quote = tot;
	if (quote > 1280 - 48)
		quote = 1280 - 48;
	if (48 + quote > cap)
		quote = cap - 48;
	size_t n = 48 + quote;
	ip6_header(buf, dst, src, IPPROTO_ICMPV6, (uint16_t)(8 + quote));
	uint8_t *ic = buf + 40;
	memset(ic, 0, 8);
	ic[0] = 1; /* destination unreachable */
	ic[1] = 1; /* communication administratively prohibited */
	memcpy(ic + 8, ip, quote);
	put16(ic + 2, fold(sum16(ic, 8 + quote,
	                         ip6_pseudo(dst, src, (uint32_t)(8 + quote), IPPROTO_ICMPV6))));
	*ret_len1 = n;
	*ret_len2 = 0;
	return 0;
}

int om_gw_reject_build(const om_packet *p, uint8_t *buf, size_t cap, size_t *ret_len1,
                       size_t *ret_len2)
{
	if (p->ip_ver == 6)
		return reject6(p, buf, cap, ret_len1, ret_len2);
	/* the IPv4 header the packet came with (raw IP from the queue) */
	const uint8_t *ip = p->l3 ? p->l3 : p->raw;
	size_t len = p->l3 ? (p->caplen - (size_t)(p->l3 - p->raw)) : p->caplen;
	if (p->ip_ver != 4 || len < 20 || (ip[0] >> 4) != 4)
		return -ENOTSUP;
	size_t ihl = (size_t)(ip[0] & 15) * 4;
	size_t tot = (size_t)(ip[2] << 8 | ip[3]);
	if (ihl < 20 || ihl > len || tot < ihl)
		return -EINVAL;
	if (tot > len)
		tot = len;
	const uint8_t *src = ip + 12, *dst = ip + 16;
	if (ip[9] == IPPROTO_TCP) {
		if (tot < ihl + 20 || cap < 80)
			return -EINVAL;
		const uint8_t *t = ip + ihl;
		size_t doff = (size_t)(t[12] >> 4) * 4;
		if (doff < 20 || ihl + doff > tot)
			return -EINVAL;
		uint8_t fl = t[13];
		if (fl & 0x04)
			return -EINVAL; /* never answer a reset */
		uint16_t sp = (uint16_t)(t[0] << 8 | t[1]), dp = (uint16_t)(t[2] << 8 | t[3]);
		uint32_t seq = get32(t + 4), ack = get32(t + 8);
		uint32_t end = seq + (uint32_t)(tot - ihl - doff) + ((fl & 0x02) ? 1 : 0) +
		               ((fl & 0x01) ? 1 : 0);
		/* to the sender, as from the receiver: it accepts a reset whose
		 * sequence is what it expects next from the receiver */
		tcp_rst(buf, dst, src, dp, sp, (fl & 0x10) ? ack : 0, end, 0x14);
		/* to the receiver, as from the sender, at the rejected segment's own
		 * sequence: the segment is dropped, so that is exactly what the
		 * receiver expects next (an in-window but inexact reset only earns
		 * a challenge ACK, RFC 5961) */
		tcp_rst(buf + 40, src, dst, sp, dp, seq, 0, 0x04);
		*ret_len1 = 40;
		*ret_len2 = 40;
		return 0;
	}
	if (ip[9] == IPPROTO_ICMP && tot >= ihl + 1 && ip[ihl] != 8 && ip[ihl] != 13)
		return -EINVAL; /* no ICMP error about an ICMP error */
	size_t quote = ihl + 8 < tot ? ihl + 8 : tot;
	size_t n = 20 + 8 + quote;
	if (cap < n)
		return -EINVAL;
	ip4_header(buf, dst, src, IPPROTO_ICMP, (uint16_t)n);
	uint8_t *ic = buf + 20;
	memset(ic, 0, 8);
	ic[0] = 3;  /* destination unreachable */
	ic[1] = 13; /* communication administratively prohibited */
	memcpy(ic + 8, ip, quote);
	put16(ic + 2, fold(sum16(ic, 8 + quote, 0)));
	*ret_len1 = n;
	*ret_len2 = 0;
	return 0;
}

/* ---- the block page's redirect and the DNS sinkhole ------------------------- */

/* The IP header and the transport part of a raw packet, either family.
 * IPv4: not a fragment; IPv6: the transport right after the fixed header
 * (no extension headers: they are not answered). */
struct ip_parts {
	int ver;
	const uint8_t *src, *dst; /* 4 or 16 bytes */
	uint8_t proto;
	const uint8_t *l4;
	size_t l4len;
};

static int ip_parts_of(const om_packet *p, struct ip_parts *ret)
{
	const uint8_t *ip = p->l3 ? p->l3 : p->raw;
	size_t len = p->l3 ? (p->caplen - (size_t)(p->l3 - p->raw)) : p->caplen;
	if (p->ip_ver == 4) {
		if (len < 20 || (ip[0] >> 4) != 4)
			return -ENOTSUP;
		size_t ihl = (size_t)(ip[0] & 15) * 4;
		size_t tot = (size_t)(ip[2] << 8 | ip[3]);
		if (ihl < 20 || ihl > len || tot < ihl)
			return -EINVAL;
		if (tot > len)
			tot = len;
		if ((ip[6] & 0x3f) || ip[7])
			return -EINVAL; /* a fragment: not answered */
		*ret = (struct ip_parts){4, ip + 12, ip + 16, ip[9], ip + ihl, tot - ihl};
		return 0;
	}
	if (p->ip_ver == 6) {
		if (len < 40 || (ip[0] >> 4) != 6)
			return -ENOTSUP;
		size_t plen = (size_t)(ip[4] << 8 | ip[5]);
		if (plen > len - 40)
			plen = len - 40;
		if (ip[8] == 0xff || ip[24] == 0xff)
			return -EINVAL; /* never about multicast */
		*ret = (struct ip_parts){6, ip + 8, ip + 24, ip[6], ip + 40, plen};
		return 0;
	}
	return -ENOTSUP;
}

/* Writes the IP header of a packet from src to dst carrying l4len bytes of
 * proto; returns its length (20 or 40). */
static size_t ip_header(uint8_t *out, int ver, const uint8_t *src, const uint8_t *dst,
                        uint8_t proto, size_t l4len)
{
	if (ver == 4) {
		ip4_header(out, src, dst, proto, (uint16_t)(20 + l4len));
		return 20;
	}
	ip6_header(out, src, dst, proto, (uint16_t)l4len);
	return 40;
}

/* The sum of the pseudo-header of either family (RFC 793, RFC 8200 8.1). */
static uint32_t pseudo_sum(int ver, const uint8_t *src, const uint8_t *dst, uint8_t proto,
                           size_t l4len)
{
	if (ver == 6)
		return ip6_pseudo(src, dst, (uint32_t)l4len, proto);
	uint8_t ph[12];
	memcpy(ph, src, 4);
	memcpy(ph + 4, dst, 4);
	ph[8] = 0;
	ph[9] = proto;
	put16(ph + 10, (uint16_t)l4len);
	return sum16(ph, 12, 0);
}

/* A TCP segment from src to dst, with data (at most 1200 bytes), either
 * family; returns the packet's length. */
static size_t tcp_segment(uint8_t *out, int ver, const uint8_t *src, const uint8_t *dst,
                          uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
                          const void *data, size_t len)
{
	size_t h = ip_header(out, ver, src, dst, IPPROTO_TCP, 20 + len);
	uint8_t *t = out + h;
	memset(t, 0, 20);
	put16(t, sport);
	put16(t + 2, dport);
	put32(t + 4, seq);
	put32(t + 8, ack);
	t[12] = 5 << 4;
	t[13] = flags;
	put16(t + 14, (flags & 0x04) ? 0 : 65535);
	if (len)
		memcpy(t + 20, data, len);
	put16(t + 16, fold(sum16(t, 20 + len, pseudo_sum(ver, src, dst, IPPROTO_TCP, 20 + len))));
	return h + 20 + len;
}

int om_gw_redirect_build(const om_packet *p, const char *location, uint8_t *buf, size_t cap,
                         size_t *ret_len1, size_t *ret_len2)
{
	struct ip_parts ip;
	int r = ip_parts_of(p, &ip);
	if (r < 0)
		return r;
	if (ip.proto != IPPROTO_TCP || ip.l4len < 20)
		return -EINVAL;
	const uint8_t *t = ip.l4;
	size_t doff = (size_t)(t[12] >> 4) * 4;
	if (doff < 20 || doff > ip.l4len)
		return -EINVAL;
	uint8_t fl = t[13];
	size_t dlen = ip.l4len - doff;
	if (!(fl & 0x10) || (fl & 0x07) || dlen == 0)
		return -EINVAL; /* only a request's data segment (ACK, no SYN/FIN/RST) */
	char resp[1200];
	int n = snprintf(resp, sizeof(resp),
	                 "HTTP/1.1 302 Found\r\nLocation: %s\r\nCache-Control: no-store\r\n"
	                 "Content-Length: 0\r\nConnection: close\r\n\r\n",
	                 location);
	if (n < 0 || (size_t)n >= sizeof(resp) || strpbrk(location, "\r\n"))
		return -EINVAL;
	size_t hl = ip.ver == 4 ? 20 : 40;
	if (cap < 2 * (hl + 20) + (size_t)n)
		return -ENOBUFS;
	uint16_t sp = (uint16_t)(t[0] << 8 | t[1]), dp = (uint16_t)(t[2] << 8 | t[3]);
	uint32_t seq = get32(t + 4), ack = get32(t + 8);
	uint32_t end = seq + (uint32_t)dlen;
	/* to the client, as from the server: the answer and the end of the
	 * connection, at the sequence the client expects next */
	size_t l1 = tcp_segment(buf, ip.ver, ip.dst, ip.src, dp, sp, ack, end,
	                        0x19 /* FIN PSH ACK */, resp, (size_t)n);
	/* to the server: the request never arrives, the connection is reset at
	 * the client's sequence before it */
	size_t l2 = tcp_segment(buf + l1, ip.ver, ip.src, ip.dst, sp, dp, seq, 0, 0x04, NULL, 0);
	*ret_len1 = l1;
	*ret_len2 = l2;
	return 0;
}

int om_gw_sinkhole_build(const om_packet *p, const om_addr *a4, const om_addr *a6, uint8_t *buf,
                         size_t cap, size_t *ret_len)
{
	struct ip_parts ip;
	int r = ip_parts_of(p, &ip);
	if (r < 0)
		return r;
	if (ip.proto != IPPROTO_UDP || ip.l4len < 8 + 12)
		return -EINVAL;
	const uint8_t *u = ip.l4;
	size_t ulen = (size_t)(u[4] << 8 | u[5]);
	if (ulen < 8 + 12 || ulen > ip.l4len)
		return -EINVAL;
	const uint8_t *q = u + 8;
	size_t qlen = ulen - 8;
	/* a standard query (QR 0, opcode 0) with one question */
	if ((q[2] & 0xf8) || q[4] || q[5] != 1)
		return -EINVAL;
	size_t off = 12, labels = 0;
	while (off < qlen && q[off]) {
		size_t l = q[off];
		if (l > 63 || ++labels > 127 || off + 1 + l >= qlen)
			return -EINVAL; /* a compression pointer or a label past the end */
		off += 1 + l;
	}
	if (off >= qlen || off - 12 + 1 > 255 || off + 5 > qlen)
		return -EINVAL;
	size_t qend = off + 5; /* the name's root label, type and class */
	uint16_t qtype = (uint16_t)(q[off + 1] << 8 | q[off + 2]);
	uint16_t qclass = (uint16_t)(q[off + 3] << 8 | q[off + 4]);
	if (a4 && !om_addr_is_v4(a4))
		a4 = NULL;
	if (a6 && om_addr_is_v4(a6))
		a6 = NULL;
	/* the page's address of the family asked for (ANY: each there is) */
	bool in = qclass == 1;
	const om_addr *ans[2] = {in && (qtype == 1 || qtype == 255) ? a4 : NULL,
	                         in && (qtype == 28 || qtype == 255) ? a6 : NULL};
	size_t nans = (ans[0] ? 1 : 0) + (ans[1] ? 1 : 0);
	size_t dns_len = qend + (ans[0] ? 16 : 0) + (ans[1] ? 28 : 0);
	size_t hl = ip.ver == 4 ? 20 : 40;
	size_t total = hl + 8 + dns_len;
	if (cap < total)
		return -ENOBUFS;
	uint8_t *d = buf + hl + 8;
	memcpy(d, q, qend);
	d[2] = (uint8_t)(0x80 | (q[2] & 0x01)); /* QR, the query's RD */
	d[3] = 0x80;                            /* RA, NOERROR */
	put16(d + 6, (uint16_t)nans);
	put16(d + 8, 0);
	put16(d + 10, 0);
	uint8_t *a = d + qend;
	for (int k = 0; k < 2; k++) {
		if (!ans[k])
			continue;
		size_t rdlen = k == 0 ? 4 : 16;
		put16(a, 0xc00c); /* the question's name */
		put16(a + 2, k == 0 ? 1 : 28);
		put16(a + 4, 1);
		put32(a + 6, 60);
		put16(a + 10, (uint16_t)rdlen);
		memcpy(a + 12, k == 0 ? ans[k]->b + 12 : ans[k]->b, rdlen);
		a += 12 + rdlen;
	}
	ip_header(buf, ip.ver, ip.dst, ip.src, IPPROTO_UDP, 8 + dns_len);
	uint8_t *uo = buf + hl;
	put16(uo, (uint16_t)(u[2] << 8 | u[3]));
	put16(uo + 2, (uint16_t)(u[0] << 8 | u[1]));
	put16(uo + 4, (uint16_t)(8 + dns_len));
	put16(uo + 6, 0);
	/* the checksum: optional over IPv4, required over IPv6; 0 is sent as
	 * 0xffff (RFC 768, RFC 8200 8.1) */
	uint16_t c = fold(
	    sum16(uo, 8 + dns_len, pseudo_sum(ip.ver, ip.dst, ip.src, IPPROTO_UDP, 8 + dns_len)));
	put16(uo + 6, c ? c : 0xffff);
	*ret_len = total;
	return 0;
}

int om_gw_raw_socket(void)
{
	return socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
}

int om_gw_raw6_socket(void)
{
	/* on Linux an IPPROTO_RAW socket of AF_INET6 sends our own IPv6 header */
	return socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
}

static int send_ip6(int fd, const uint8_t *pkt, size_t len)
{
	struct sockaddr_in6 to = {.sin6_family = AF_INET6};
	memcpy(&to.sin6_addr, pkt + 24, 16);
	return sendto(fd, pkt, len, 0, (struct sockaddr *)&to, sizeof(to)) < 0 ? -errno : 0;
}

static int send_ip4(int fd, const uint8_t *pkt, size_t len)
{
	struct sockaddr_in to = {.sin_family = AF_INET};
	memcpy(&to.sin_addr, pkt + 16, 4);
	return sendto(fd, pkt, len, 0, (struct sockaddr *)&to, sizeof(to)) < 0 ? -errno : 0;
}

int om_gw_redirect(int fd, int fd6, const om_packet *p, const char *location)
{
	uint8_t buf[1400];
	size_t l1, l2;
	int s = p->ip_ver == 6 ? fd6 : fd;
	if (s < 0)
		return -ENOTSUP;
	int r = om_gw_redirect_build(p, location, buf, sizeof(buf), &l1, &l2);
	if (r < 0)
		return r;
	int (*send)(int, const uint8_t *, size_t) = p->ip_ver == 6 ? send_ip6 : send_ip4;
	r = send(s, buf, l1);
	if (r == 0)
		r = send(s, buf + l1, l2);
	return r;
}

int om_gw_sinkhole(int fd, int fd6, const om_packet *p, const om_addr *a4, const om_addr *a6)
{
	uint8_t buf[600];
	size_t n;
	int s = p->ip_ver == 6 ? fd6 : fd;
	if (s < 0)
		return -ENOTSUP;
	int r = om_gw_sinkhole_build(p, a4, a6, buf, sizeof(buf), &n);
	if (r < 0)
		return r;
	return p->ip_ver == 6 ? send_ip6(s, buf, n) : send_ip4(s, buf, n);
}

int om_gw_reject(int fd, int fd6, const om_packet *p)
{
	uint8_t buf[1400];
	size_t l1, l2;
	if (p->ip_ver == 6 && fd6 < 0)
		return -ENOTSUP;
	int r = om_gw_reject_build(p, buf, sizeof(buf), &l1, &l2);
	if (r < 0)
		return r;
	int (*send)(int, const uint8_t *, size_t) = p->ip_ver == 6 ? send_ip6 : send_ip4;
	int s = p->ip_ver == 6 ? fd6 : fd;
	r = send(s, buf, l1);
	if (r == 0 && l2)
		r = send(s, buf + l1, l2);
	return r;
}

/* ---- reload -------------------------------------------------------------------- */

void om_gw_handover_init(om_gw_handover *h, unsigned workers)
{
	h->n = workers < OM_GW_WORKERS_MAX ? workers : OM_GW_WORKERS_MAX;
	atomic_init(&h->gen, 0);
	for (unsigned i = 0; i < OM_GW_WORKERS_MAX; i++)
		atomic_init(&h->seen[i], 0);
}

bool om_gw_handover_taken(const om_gw_handover *h, unsigned worker)
{
	return worker >= h->n || atomic_load_explicit(&h->seen[worker], memory_order_acquire) ==
	                             atomic_load_explicit(&h->gen, memory_order_relaxed);
}

bool om_gw_handover_done(const om_gw_handover *h)
{
	for (unsigned i = 0; i < h->n; i++)
		if (!om_gw_handover_taken(h, i))
			return false;
	return true;
}

int om_gw_handover_offer(om_gw_handover *h)
{
	if (!om_gw_handover_done(h))
		return -EBUSY;
	/* release: what was built before is visible to a worker that sees
	 * the new generation */
	atomic_fetch_add_explicit(&h->gen, 1, memory_order_release);
	return 0;
}

bool om_gw_handover_pending(const om_gw_handover *h, unsigned worker, unsigned *ret_gen)
{
	unsigned g = atomic_load_explicit(&h->gen, memory_order_acquire);
	if (worker >= h->n || atomic_load_explicit(&h->seen[worker], memory_order_relaxed) == g)
		return false;
	*ret_gen = g;
	return true;
}

void om_gw_handover_ack(om_gw_handover *h, unsigned worker, unsigned gen)
{
	/* release: the worker no longer touches what it replaced */
	if (worker < h->n)
		atomic_store_explicit(&h->seen[worker], gen, memory_order_release);
}

int om_gw_rules_build(const om_detect_config *cfg, const om_config_nets *home,
                      const char *const *extra, unsigned nextra, uint64_t running_syntax,
                      om_detect **ret, om_detect_load_stats *ret_st, char *err, size_t errlen)
{
	om_detect_load_stats st;
	memset(&st, 0, sizeof(st));
	om_detect *d = NULL;
	char why[1024] = "";
	/* no warning per rule: the log says in one line what the set is */
	int r = om_detect_from_config_stats(cfg, home, extra, nextra, 0, &st, &d, why, sizeof(why));
	if (r < 0) {
		snprintf(err, errlen, om_tr("gateway.rules.load_failed"),
		         why[0] ? why : strerror(-r));
		return r;
	}
	if (st.syntax_errors > running_syntax) {
		snprintf(err, errlen, om_tr("gateway.rules.syntax"),
		         (unsigned long long)st.syntax_errors, (unsigned long long)running_syntax);
		om_detect_free(d);
		return -EINVAL;
	}
	*ret = d;
	*ret_st = st;
	return 0;
}

int om_gw_policy_build(const om_settings *s, om_wf_filter *ret_wf, bool *ret_use_wf,
                       om_app_policy *ret_app, char *err, size_t errlen)
{
	const om_guard_config *g = &s->guard;
	const om_guard_tenant *tp = om_guard_tenant_policy(g, s->base.tenant);
	om_wf_filter wf;
	memset(&wf, 0, sizeof(wf));
	bool use_wf = false;
	if (g->webfilter_db[0]) {
		const char *block =
		    tp && tp->wf_block_categories[0] ? tp->wf_block_categories : NULL;
		const char *allow = tp && tp->wf_allow[0] ? tp->wf_allow : NULL;
		int r = om_wf_filter_setup(&wf, g->webfilter_db, block, allow, err, errlen);
		if (r == 0 && tp)
			r = om_wf_filter_block_list(&wf, tp->wf_block, err, errlen);
		if (r < 0) {
			om_wf_filter_cleanup(&wf);
			return r;
		}
		use_wf = true;
	}
	*ret_wf = wf;
	*ret_use_wf = use_wf;
	if (tp)
		*ret_app = tp->app;
	else
		memset(ret_app, 0, sizeof(*ret_app));
	return 0;
}

/* ---- privilege ---------------------------------------------------------------- */

int om_gw_drop_privileges(const char *user, char *err, size_t errlen)
{
	struct passwd *pw = getpwnam(user);
	if (!pw) {
		snprintf(err, errlen, om_tr("err.gateway.user"), user);
		return -ENOENT;
	}
	capng_clear(CAPNG_SELECT_BOTH);
	/* CAP_NET_ADMIN: verdicts, the queue's unbind and the firewall's removal
	 * at exit; inheritable and ambient so that iptables-nft gets it too */
	capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED | CAPNG_INHERITABLE,
	             CAP_NET_ADMIN);
	int rc = capng_change_id((int)pw->pw_uid, (int)pw->pw_gid,
	                         CAPNG_DROP_SUPP_GRP | CAPNG_CLEAR_BOUNDING);
	if (rc < 0) {
		snprintf(err, errlen, om_tr("err.gateway.privdrop"), user, rc);
		return -EPERM;
	}
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_ADMIN, 0, 0);
	return 0;
}
