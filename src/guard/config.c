/* config.c: the guard module's settings (the recon: and intel: sections),
 * described for base's YAML loader. */
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

#define F(m) offsetof(om_guard_config, m)
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
};
#undef F

static void guard_defaults(void *obj)
{
	om_guard_config *c = obj;
	memset(c, 0, sizeof(*c));
	c->recon_window = 60;
	c->recon_vertical_ports = 20;
	c->recon_horizontal_hosts = 20;
	c->recon_sweep_hosts = 10;
	c->recon_max_sources = 65536;
}

const om_config_schema om_guard_config_schema = {
    "guard", guard_keys, OM_ARRAY_SIZE(guard_keys), sizeof(om_guard_config), guard_defaults, NULL,
};
