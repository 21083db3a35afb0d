/* config.c: the net module's settings (flow table, TCP reassembly, IP
 * defragmentation), described for base's YAML loader. */
#include <stddef.h>
#include <string.h>

#include "net/net.h"

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
    {"flow.emergency.start-percent", OM_CK_U32, F(flow_emergency_pct), 0, 50, 100,
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
	if (100 - c->flow_emergency_recovery >= c->flow_emergency_pct)
		return om_config_fail(ctx, NULL, "flow.emergency.recovery-percent",
		                      "err.config.emergency_recovery", c->flow_emergency_recovery,
		                      c->flow_emergency_pct);
	return 0;
}

const om_config_schema om_net_config_schema = {
    "net", net_keys, OM_ARRAY_SIZE(net_keys), sizeof(om_net_config), net_defaults, net_check,
};
