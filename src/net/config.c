/* config.c: the net module's settings (flow table, TCP reassembly, IP
 * defragmentation), described for base's YAML loader. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "net/net.h"

/* ---- stream: overlap policies ------------------------------------------- */

static void policy_list(char *out, size_t n)
{
	size_t used = 0;
	out[0] = 0;
	for (int i = 0; i < OM_POLICY_COUNT && used < n; i++) {
		int w = snprintf(out + used, n - used, "%s%s", i ? ", " : "",
		                 om_stream_policy_name((enum om_stream_policy)i));
		if (w < 0)
			break;
		used += (size_t)w;
	}
}

/* A policy name into a 16-byte field, checked against the stream's names. */
static int policy_value(om_config_ctx *c, const om_config_node *n, const char *key, char out[16])
{
	const char *v = om_config_node_scalar(n);
	enum om_stream_policy p;
	if (!v)
		return om_config_fail(c, n, key, "err.config.not_scalar");
	if (om_stream_policy_parse(v, &p) < 0) {
		char names[256];
		policy_list(names, sizeof(names));
		return om_config_fail(c, n, key, "err.config.unknown_policy", v, names);
	}
	snprintf(out, 16, "%s", om_stream_policy_name(p));
	return 0;
}

static int parse_default_policy(om_config_ctx *c, const om_config_node *n, void *obj)
{
	om_net_config *nc = obj;
	return policy_value(c, n, "stream.default-policy", nc->stream_default_policy);
}

static void dump_default_policy(const void *obj, om_buf *out, int indent)
{
	(void)indent;
	om_buf_printf(out, " %s", ((const om_net_config *)obj)->stream_default_policy);
}

/* stream.policies: a list of {net: CIDR, policy: NAME}. */
static int parse_policies(om_config_ctx *c, const om_config_node *n, void *obj)
{
	static const char key[] = "stream.policies";
	om_net_config *nc = obj;
	struct om_net_policy pol[OM_CONFIG_MAX_NETS];
	memset(pol, 0, sizeof(pol)); /* the whole entries are copied */
	if (om_config_node_type(n) != OM_CN_SEQUENCE)
		return om_config_fail(c, n, key, "err.config.policy_item");
	size_t count = om_config_node_count(n);
	if (count > OM_CONFIG_MAX_NETS)
		return om_config_fail(c, n, key, "err.config.too_many_nets", OM_CONFIG_MAX_NETS);
	for (size_t i = 0; i < count; i++) {
		const om_config_node *e = om_config_node_item(c, n, i, NULL);
		if (!e || om_config_node_type(e) != OM_CN_MAPPING || om_config_node_count(e) != 2)
			return om_config_fail(c, e ? e : n, key, "err.config.policy_item");
		const om_config_node *net = om_config_node_get(c, e, "net");
		const om_config_node *name = om_config_node_get(c, e, "policy");
		if (!net || !name)
			return om_config_fail(c, e, key, "err.config.policy_item");
		int r = om_config_node_cidr(c, net, key, &pol[i].net);
		if (r == 0)
			r = policy_value(c, name, key, pol[i].policy);
		if (r < 0)
			return r;
	}
	memcpy(nc->stream_policies, pol, sizeof(pol));
	nc->stream_policy_count = (unsigned)count;
	return 0;
}

static void dump_policies(const void *obj, om_buf *out, int indent)
{
	const om_net_config *c = obj;
	if (!c->stream_policy_count) {
		om_buf_puts(out, " []");
		return;
	}
	for (unsigned i = 0; i < c->stream_policy_count; i++) {
		char a[64];
		const om_cidr *n = &c->stream_policies[i].net;
		om_addr_str(&n->addr, a, sizeof(a));
		unsigned p =
		    om_addr_is_v4(&n->addr) && n->prefix >= 96 ? n->prefix - 96u : n->prefix;
		om_buf_printf(out, "\n%*s- {net: %s/%u, policy: %s}", indent + 2, "", a, p,
		              c->stream_policies[i].policy);
	}
}

#define F(m) offsetof(om_net_config, m)
static const om_config_key net_keys[] = {
    {"flow.max-flows", OM_CK_U64, F(flow_max), 0, 16, 1ull << 26, "config.help.flow.max-flows",
     NULL, NULL},
    {"flow.hash-size", OM_CK_U64, F(flow_hash_size), 0, 0, 1ull << 28, "config.help.flow.hash-size",
     NULL, NULL},
    {"flow.timeouts.new", OM_CK_U32, F(flow_timeout_new), 0, 1, 86400,
     "config.help.flow.timeouts.new", NULL, NULL},
    {"flow.timeouts.established", OM_CK_U32, F(flow_timeout_est), 0, 1, 86400,
     "config.help.flow.timeouts.established", NULL, NULL},
    {"flow.timeouts.closed", OM_CK_U32, F(flow_timeout_closed), 0, 1, 86400,
     "config.help.flow.timeouts.closed", NULL, NULL},
    {"flow.timeouts.udp", OM_CK_U32, F(flow_timeout_udp), 0, 1, 86400,
     "config.help.flow.timeouts.udp", NULL, NULL},
    {"flow.timeouts.icmp", OM_CK_U32, F(flow_timeout_icmp), 0, 1, 86400,
     "config.help.flow.timeouts.icmp", NULL, NULL},
    {"flow.max-chain", OM_CK_U32, F(flow_max_chain), 0, 0, 1u << 20, "config.help.flow.max-chain",
     NULL, NULL},
    {"flow.emergency.start-percent", OM_CK_U32, F(flow_emergency_pct), 0, 51, 100,
     "config.help.flow.emergency.start-percent", NULL, NULL},
    {"flow.emergency.recovery-percent", OM_CK_U32, F(flow_emergency_recovery), 0, 1, 50,
     "config.help.flow.emergency.recovery-percent", NULL, NULL},
    {"flow.emergency.timeouts.new", OM_CK_U32, F(flow_emerg_timeout_new), 0, 0, 86400,
     "config.help.flow.emergency.timeouts.new", NULL, NULL},
    {"flow.emergency.timeouts.established", OM_CK_U32, F(flow_emerg_timeout_est), 0, 0, 86400,
     "config.help.flow.emergency.timeouts.established", NULL, NULL},
    {"flow.emergency.timeouts.closed", OM_CK_U32, F(flow_emerg_timeout_closed), 0, 0, 86400,
     "config.help.flow.emergency.timeouts.closed", NULL, NULL},
    {"stream.depth", OM_CK_U64, F(stream_depth), 0, 0, UINT64_MAX, "config.help.stream.depth", NULL,
     NULL},
    {"stream.memcap", OM_CK_U64, F(stream_memcap), 0, 65536, 1ull << 40,
     "config.help.stream.memcap", NULL, NULL},
    {"stream.flow-memcap", OM_CK_U64, F(stream_flow_memcap), 0, 4096, 1ull << 40,
     "config.help.stream.flow-memcap", NULL, NULL},
    {"stream.overlap-window", OM_CK_U32, F(stream_overlap_window), 0, 0, 65536,
     "config.help.stream.overlap-window", NULL, NULL},
    {"stream.default-policy", OM_CK_CUSTOM, 0, 0, 0, 0, "config.help.stream.default-policy",
     parse_default_policy, dump_default_policy},
    {"stream.policies", OM_CK_CUSTOM, 0, 0, 0, 0, "config.help.stream.policies", parse_policies,
     dump_policies},
    {"defrag.memcap", OM_CK_U64, F(defrag_memcap), 0, 65536, 1ull << 40,
     "config.help.defrag.memcap", NULL, NULL},
    {"defrag.timeout", OM_CK_U32, F(defrag_timeout), 0, 1, 3600, "config.help.defrag.timeout", NULL,
     NULL},
    {"defrag.max-trackers", OM_CK_U32, F(defrag_max_trackers), 0, 1, 1u << 24,
     "config.help.defrag.max-trackers", NULL, NULL},
    {"app-layer.detection-limit", OM_CK_U32, F(app_detect_limit), 0, 64, 1u << 20,
     "config.help.app-layer.detection-limit", NULL, NULL},
    {"app-layer.detection-memcap", OM_CK_U64, F(app_detect_memcap), 0, 65536, 1ull << 40,
     "config.help.app-layer.detection-memcap", NULL, NULL},
};
#undef F

static void net_defaults(void *obj)
{
	om_net_config *c = obj;
	memset(c, 0, sizeof(*c));
	c->flow_max = 262144;
	c->flow_hash_size = 0;
	c->flow_timeout_new = 30;
	c->flow_timeout_est = 300;
	c->flow_timeout_closed = 10;
	c->flow_timeout_udp = 60;
	c->flow_timeout_icmp = 30;
	c->flow_max_chain = 0;
	c->flow_emergency_pct = 95;
	c->flow_emergency_recovery = 30;
	/* emergency timeouts 0: the flow table's own (new 5 s for TCP and
	 * 10 s for others, established 100 s, closed 10 s) */
	c->stream_depth = 1024 * 1024;
	c->stream_memcap = 64ull * 1024 * 1024;
	c->stream_flow_memcap = 4ull * 1024 * 1024;
	c->stream_overlap_window = 1024;
	snprintf(c->stream_default_policy, sizeof(c->stream_default_policy), "bsd");
	c->stream_policy_count = 0;
	c->defrag_memcap = 32ull * 1024 * 1024;
	c->defrag_timeout = 60;
	c->defrag_max_trackers = 65536;
	c->app_detect_limit = 4096;
	c->app_detect_memcap = 64ull * 1024 * 1024;
}

static int net_check(om_config_ctx *ctx, const void *obj)
{
	const om_net_config *c = obj;
	if (c->flow_hash_size && (c->flow_hash_size & (c->flow_hash_size - 1)))
		return om_config_fail(ctx, NULL, "flow.hash-size", "err.config.not_power_of_two");
	if (c->stream_flow_memcap > c->stream_memcap)
		return om_config_fail(ctx, NULL, "stream.flow-memcap",
		                      "err.config.flow_memcap_over",
		                      (unsigned long long)c->stream_flow_memcap,
		                      (unsigned long long)c->stream_memcap);
	if (100 - c->flow_emergency_recovery >= c->flow_emergency_pct)
		return om_config_fail(ctx, NULL, "flow.emergency.recovery-percent",
		                      "err.config.emergency_recovery", c->flow_emergency_recovery,
		                      c->flow_emergency_pct);
	return 0;
}

const om_config_schema om_net_config_schema = {
    "net", net_keys, OM_ARRAY_SIZE(net_keys), sizeof(om_net_config), net_defaults, net_check,
};
