/* config.c: the guard module's settings (the recon:, intel:, appctl: and
 * policy: sections), described for base's YAML loader. policy.tenants holds
 * each tenant's guard policy (docs/appctl.md). */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "guard/guard.h"

/* intel.feeds: a list of {name, url | dir, format, interval, ttl, confidence}. */
static int feed_str(om_config_ctx *c, const om_config_node *feed, const char *key, char *out,
                    size_t n, bool required)
{
	const om_config_node *v = om_config_node_get(c, feed, key);
	const char *s = v ? om_config_node_scalar(v) : NULL;
	if (!v && !required)
		return 0;
	if (!s || !*s || strlen(s) >= n)
		return om_config_fail(c, v ? v : feed, "intel.feeds", "err.config.intel.feed_value",
		                      key, (int)n - 1);
	snprintf(out, n, "%s", s);
	return 0;
}

static int parse_feeds(om_config_ctx *c, const om_config_node *n, void *obj)
{
	static const char key[] = "intel.feeds";
	om_guard_config *g = obj;
	om_intel_feed feeds[OM_INTEL_FEEDS_MAX];
	memset(feeds, 0, sizeof(feeds));
	if (om_config_node_type(n) != OM_CN_SEQUENCE)
		return om_config_fail(c, n, key, "err.config.intel.feeds", OM_INTEL_FEEDS_MAX);
	size_t count = om_config_node_count(n);
	if (count > OM_INTEL_FEEDS_MAX)
		return om_config_fail(c, n, key, "err.config.intel.feeds", OM_INTEL_FEEDS_MAX);
	for (size_t i = 0; i < count; i++) {
		const om_config_node *e = om_config_node_item(c, n, i, NULL);
		if (!e || om_config_node_type(e) != OM_CN_MAPPING)
			return om_config_fail(c, e ? e : n, key, "err.config.intel.feeds",
			                      OM_INTEL_FEEDS_MAX);
		om_intel_feed *f = &feeds[i];
		int r;
		if ((r = feed_str(c, e, "name", f->name, sizeof(f->name), true)) < 0 ||
		    (r = feed_str(c, e, "url", f->url, sizeof(f->url), false)) < 0 ||
		    (r = feed_str(c, e, "dir", f->dir, sizeof(f->dir), false)) < 0)
			return r;
		if (!f->url[0] == !f->dir[0])
			return om_config_fail(c, e, key, "err.config.intel.url_or_dir", f->name);
		char fmt[32] = "";
		if ((r = feed_str(c, e, "format", fmt, sizeof(fmt), false)) < 0)
			return r;
		if (fmt[0]) {
			int fi = om_intel_format_from_name(fmt);
			if (fi < 0)
				return om_config_fail(c, om_config_node_get(c, e, "format"), key,
				                      "err.config.intel.format", fmt);
			f->format = fi;
		}
		uint64_t v = 3600;
		const om_config_node *x = om_config_node_get(c, e, "interval");
		if (x &&
		    (r = om_config_node_u64(c, x, "intel.feeds.interval", 60, 30 * 86400, &v)) < 0)
			return r;
		f->interval = (uint32_t)v;
		v = 0;
		x = om_config_node_get(c, e, "ttl");
		if (x && (r = om_config_node_u64(c, x, "intel.feeds.ttl", 0, 365 * 86400, &v)) < 0)
			return r;
		f->ttl = (uint32_t)v;
		v = 0;
		x = om_config_node_get(c, e, "confidence");
		if (x && (r = om_config_node_u64(c, x, "intel.feeds.confidence", 0, 100, &v)) < 0)
			return r;
		f->confidence = (uint32_t)v;
		for (size_t k = 0; k < i; k++)
			if (!strcmp(feeds[k].name, f->name))
				return om_config_fail(c, e, key, "err.config.intel.dup", f->name);
	}
	memcpy(g->intel_feeds, feeds, sizeof(feeds));
	g->intel_nfeeds = (unsigned)count;
	return 0;
}

static void dump_feeds(const void *obj, om_buf *out, int indent)
{
	const om_guard_config *g = obj;
	if (!g->intel_nfeeds) {
		om_buf_puts(out, " []");
		return;
	}
	for (unsigned i = 0; i < g->intel_nfeeds; i++) {
		const om_intel_feed *f = &g->intel_feeds[i];
		om_buf_printf(out, "\n%*s- name: \"%s\"", indent + 2, "", f->name);
		if (f->url[0])
			om_buf_printf(out, "\n%*s  url: \"%s\"", indent + 2, "", f->url);
		else
			om_buf_printf(out, "\n%*s  dir: \"%s\"", indent + 2, "", f->dir);
		om_buf_printf(out, "\n%*s  format: %s", indent + 2, "",
		              om_intel_format_name((enum om_intel_format)f->format));
		om_buf_printf(out, "\n%*s  interval: %u", indent + 2, "", f->interval);
		om_buf_printf(out, "\n%*s  ttl: %u", indent + 2, "", f->ttl);
		om_buf_printf(out, "\n%*s  confidence: %u", indent + 2, "", f->confidence);
	}
}

/* A list of names as a YAML sequence or one comma-separated scalar, joined
 * with commas into out. */
static int parse_list(om_config_ctx *c, const om_config_node *n, const char *key, char *out,
                      size_t outsz)
{
	size_t len = 0;
	out[0] = '\0';
	size_t count = om_config_node_type(n) == OM_CN_SEQUENCE ? om_config_node_count(n) : 1;
	if (om_config_node_type(n) != OM_CN_SEQUENCE && om_config_node_type(n) != OM_CN_SCALAR)
		return om_config_fail(c, n, key, "config.err.policy.list", (int)outsz - 1);
	for (size_t i = 0; i < count; i++) {
		const om_config_node *e = om_config_node_type(n) == OM_CN_SEQUENCE
		                              ? om_config_node_item(c, n, i, NULL)
		                              : n;
		const char *v = e ? om_config_node_scalar(e) : NULL;
		if (!v)
			return om_config_fail(c, e ? e : n, key, "config.err.policy.list",
			                      (int)outsz - 1);
		size_t vl = strlen(v);
		if (!vl)
			continue;
		if (len + vl + 2 > outsz)
			return om_config_fail(c, e, key, "config.err.policy.list", (int)outsz - 1);
		if (len)
			out[len++] = ',';
		memcpy(out + len, v, vl + 1);
		len += vl;
	}
	return 0;
}

static int parse_app_policy(om_config_ctx *c, const om_config_node *n, const char *key,
                            om_app_policy *p)
{
	if (om_config_node_type(n) != OM_CN_MAPPING)
		return om_config_fail(c, n, key, "config.err.policy.appctl");
	size_t count = om_config_node_count(n);
	for (size_t i = 0; i < count; i++) {
		const char *name = NULL;
		const om_config_node *e = om_config_node_item(c, n, i, &name);
		const char *v = e ? om_config_node_scalar(e) : NULL;
		int a = om_app_action_from_name(v);
		if (a < 0)
			return om_config_fail(c, e ? e : n, key, "config.err.policy.action",
			                      name ? name : "", v ? v : "");
		int r = om_app_policy_set(p, name, (enum om_app_action)a);
		if (r == -ENOSPC)
			return om_config_fail(c, e, key, "config.err.policy.apps",
			                      OM_APPCTL_POLICY_APPS);
		if (r < 0)
			return om_config_fail(c, e, key, "config.err.policy.appctl");
	}
	return 0;
}

static int parse_tenants(om_config_ctx *c, const om_config_node *n, void *obj)
{
	static const char key[] = "policy.tenants";
	om_guard_config *gc = obj;
	if (om_config_node_type(n) != OM_CN_MAPPING)
		return om_config_fail(c, n, key, "config.err.policy.tenants", OM_GUARD_TENANTS_MAX);
	size_t count = om_config_node_count(n);
	if (count > OM_GUARD_TENANTS_MAX)
		return om_config_fail(c, n, key, "config.err.policy.tenants", OM_GUARD_TENANTS_MAX);
	static om_guard_tenant t[OM_GUARD_TENANTS_MAX]; /* the loader runs on one thread */
	memset(t, 0, sizeof(t));
	for (size_t i = 0; i < count; i++) {
		const char *name = NULL;
		const om_config_node *e = om_config_node_item(c, n, i, &name);
		if (!e || !name || !*name || strlen(name) >= OM_GUARD_TENANT_NAME_MAX ||
		    (om_config_node_type(e) != OM_CN_MAPPING && om_config_node_count(e) != 0))
			return om_config_fail(c, e ? e : n, key, "config.err.policy.tenant",
			                      OM_GUARD_TENANT_NAME_MAX - 1);
		memcpy(t[i].name, name, strlen(name) + 1);
		size_t nk = om_config_node_count(e);
		for (size_t k = 0; k < nk; k++) {
			const char *part = NULL;
			const om_config_node *v = om_config_node_item(c, e, k, &part);
			int r = 0;
			if (part && !strcmp(part, "appctl")) {
				r = parse_app_policy(c, v, key, &t[i].app);
			} else if (part && !strcmp(part, "intel") &&
			           om_config_node_type(v) == OM_CN_MAPPING) {
				size_t ni = om_config_node_count(v);
				for (size_t w = 0; w < ni && r == 0; w++) {
					const char *ik = NULL;
					const om_config_node *x = om_config_node_item(c, v, w, &ik);
					const char *path = x ? om_config_node_scalar(x) : NULL;
					if (!ik || strcmp(ik, "db"))
						r = om_config_fail(c, x ? x : v, key,
						                   "config.err.policy.part",
						                   ik ? ik : "");
					else if (!path || !*path ||
					         strlen(path) >= sizeof(t[i].intel_db))
						r = om_config_fail(c, x ? x : v, key,
						                   "config.err.policy.intel_db",
						                   (int)sizeof(t[i].intel_db) - 1);
					else
						memcpy(t[i].intel_db, path, strlen(path) + 1);
				}
			} else if (part && !strcmp(part, "webfilter") &&
			           om_config_node_type(v) == OM_CN_MAPPING) {
				size_t nw = om_config_node_count(v);
				for (size_t w = 0; w < nw && r == 0; w++) {
					const char *wk = NULL;
					const om_config_node *x = om_config_node_item(c, v, w, &wk);
					if (wk && !strcmp(wk, "block-categories"))
						r = parse_list(c, x, key, t[i].wf_block_categories,
						               OM_GUARD_LIST_MAX);
					else if (wk && !strcmp(wk, "block"))
						r = parse_list(c, x, key, t[i].wf_block,
						               OM_GUARD_LIST_MAX);
					else if (wk && !strcmp(wk, "allow"))
						r = parse_list(c, x, key, t[i].wf_allow,
						               OM_GUARD_LIST_MAX);
					else
						r = om_config_fail(c, x ? x : v, key,
						                   "config.err.policy.part",
						                   wk ? wk : "");
				}
			} else {
				r = om_config_fail(c, v ? v : e, key, "config.err.policy.part",
				                   part ? part : "");
			}
			if (r < 0)
				return r;
		}
	}
	memcpy(gc->tenants, t, sizeof(t));
	gc->ntenants = (uint32_t)count;
	return 0;
}

static void dump_list(om_buf *out, int indent, const char *key, const char *list)
{
	om_buf_printf(out, "\n%*s%s: [", indent, "", key);
	for (const char *p = list; *p;) {
		const char *cm = strchr(p, ',');
		size_t n = cm ? (size_t)(cm - p) : strlen(p);
		om_buf_printf(out, "%s\"%.*s\"", p == list ? "" : ", ", (int)n, p);
		p = cm ? cm + 1 : p + n;
	}
	om_buf_puts(out, "]");
}

static void dump_tenants(const void *obj, om_buf *out, int indent)
{
	const om_guard_config *gc = obj;
	if (!gc->ntenants) {
		om_buf_puts(out, " {}");
		return;
	}
	for (uint32_t i = 0; i < gc->ntenants; i++) {
		const om_guard_tenant *t = &gc->tenants[i];
		om_buf_printf(out, "\n%*s\"%s\":", indent + 2, "", t->name);
		om_buf_printf(out, "\n%*swebfilter:", indent + 4, "");
		dump_list(out, indent + 6, "block-categories", t->wf_block_categories);
		dump_list(out, indent + 6, "block", t->wf_block);
		dump_list(out, indent + 6, "allow", t->wf_allow);
		om_buf_printf(out, "\n%*sappctl:", indent + 4, "");
		bool any = false;
		for (int g = 1; g < OM_APP_G_COUNT; g++) {
			if (!t->app.group[g])
				continue;
			om_buf_printf(out, "\n%*s%s: %s", indent + 6, "", om_app_group_name(g),
			              om_app_action_name(t->app.group[g]));
			any = true;
		}
		for (uint32_t a = 0; a < t->app.napps; a++) {
			om_buf_printf(out, "\n%*s\"%s\": %s", indent + 6, "", t->app.app[a].name,
			              om_app_action_name(t->app.app[a].action));
			any = true;
		}
		if (!any)
			om_buf_puts(out, " {}");
		if (t->intel_db[0])
			om_buf_printf(out, "\n%*sintel:\n%*sdb: \"%s\"", indent + 4, "", indent + 6,
			              "", t->intel_db);
	}
}

const om_guard_tenant *om_guard_tenant_policy(const om_guard_config *c, const char *tenant)
{
	const om_guard_tenant *def = NULL;
	for (uint32_t i = 0; c && i < c->ntenants && i < OM_GUARD_TENANTS_MAX; i++) {
		if (tenant && !strcmp(c->tenants[i].name, tenant))
			return &c->tenants[i];
		if (!strcmp(c->tenants[i].name, "default"))
			def = &c->tenants[i];
	}
	return def;
}

const char *om_guard_intel_db(const om_guard_config *c, const char *tenant)
{
	const om_guard_tenant *t = om_guard_tenant_policy(c, tenant);
	if (t && t->intel_db[0])
		return t->intel_db;
	return c && c->intel_db[0] ? c->intel_db : NULL;
}

#define F(m) offsetof(om_guard_config, m)
#define SZ(m) sizeof(((om_guard_config *)0)->m)
static const om_config_key guard_keys[] = {
    {"recon.window", OM_CK_U32, F(recon_window), 0, 1, 86400, "config.help.recon.window", NULL,
     NULL},
    {"recon.vertical-ports", OM_CK_U32, F(recon_vertical_ports), 0, 2, 65536,
     "config.help.recon.vertical-ports", NULL, NULL},
    {"recon.horizontal-hosts", OM_CK_U32, F(recon_horizontal_hosts), 0, 2, 1u << 24,
     "config.help.recon.horizontal-hosts", NULL, NULL},
    {"recon.sweep-hosts", OM_CK_U32, F(recon_sweep_hosts), 0, 2, 1u << 24,
     "config.help.recon.sweep-hosts", NULL, NULL},
    {"recon.max-sources", OM_CK_U32, F(recon_max_sources), 0, 16, 1u << 24,
     "config.help.recon.max-sources", NULL, NULL},
    {"intel.db", OM_CK_STR, F(intel_db), sizeof(((om_guard_config *)0)->intel_db), 0, 0,
     "config.help.intel.db", NULL, NULL},
    {"intel.min-confidence", OM_CK_U32, F(intel_min_confidence), 0, 0, 100,
     "config.help.intel.min-confidence", NULL, NULL},
    {"intel.block", OM_CK_BOOL, F(intel_block), 0, 0, 0, "config.help.intel.block", NULL, NULL},
    {"intel.feeds", OM_CK_CUSTOM, 0, 0, 0, 0, "config.help.intel.feeds", parse_feeds, dump_feeds},
    {"appctl.enabled", OM_CK_BOOL, F(appctl_enabled), 0, 0, 1, "config.help.appctl.enabled", NULL,
     NULL},
    {"appctl.all-protocols", OM_CK_BOOL, F(appctl_all_protocols), 0, 0, 1,
     "config.help.appctl.all-protocols", NULL, NULL},
    {"appctl.groups", OM_CK_STR, F(appctl_groups), SZ(appctl_groups), 0, 0,
     "config.help.appctl.groups", NULL, NULL},
    {"appctl.max-flows", OM_CK_U32, F(appctl_max_flows), 0, 16, 1u << 24,
     "config.help.appctl.max-flows", NULL, NULL},
    {"appctl.max-detect", OM_CK_U32, F(appctl_max_detect), 0, 16, 1u << 22,
     "config.help.appctl.max-detect", NULL, NULL},
    {"appctl.max-packets", OM_CK_U32, F(appctl_max_packets), 0, 1, 1000,
     "config.help.appctl.max-packets", NULL, NULL},
    {"policy.webfilter-db", OM_CK_STR, F(webfilter_db), SZ(webfilter_db), 0, 0,
     "config.help.policy.webfilter-db", NULL, NULL},
    {"policy.tenants", OM_CK_CUSTOM, 0, 0, 0, 0, "config.help.policy.tenants", parse_tenants,
     dump_tenants},
};
#undef F
#undef SZ

static void guard_defaults(void *obj)
{
	om_guard_config *c = obj;
	memset(c, 0, sizeof(*c));
	c->recon_window = 60;
	c->recon_vertical_ports = 20;
	c->recon_horizontal_hosts = 20;
	c->recon_sweep_hosts = 10;
	c->recon_max_sources = 65536;
	c->appctl_max_flows = 65536;
	c->appctl_max_detect = 16384;
	c->appctl_max_packets = 8;
}

const om_config_schema om_guard_config_schema = {
    "guard", guard_keys, OM_ARRAY_SIZE(guard_keys), sizeof(om_guard_config), guard_defaults, NULL,
};
