/* event.c: the one builder of EVE event lines. A producer (the engine's
 * decoder and flow code, scan detection, later the guards and app-layer
 * parsers) fills an om_event_hdr, calls om_event_begin, writes its own
 * object with the om_json calls, then om_event_omamori (for security
 * events) and om_event_end. The field names and their order follow
 * Suricata's EVE output so that its tools read ours unchanged. */
#include "base/base.h"

#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

const char *om_event_proto_name(uint8_t proto, char *tmp, size_t n)
{
	switch (proto) {
	case IPPROTO_TCP: return "TCP";
	case IPPROTO_UDP: return "UDP";
	case IPPROTO_ICMP: return "ICMP";
	case IPPROTO_ICMPV6: return "IPv6-ICMP";
	default: snprintf(tmp, n, "%u", proto); return tmp;
	}
}

static void put_addr(om_json *j, const char *qk, size_t qn, const om_addr *a)
{
	char s[64];
	om_addr_str(a, s, sizeof(s));
	om_json_kstr(j, qk, qn, s);
}

void om_event_begin(om_json *j, om_buf *b, const om_event_hdr *h)
{
	char t[40], ptmp[8];
	om_json_init(j, b);
	om_time_iso(h->ts, t, sizeof(t));
	om_json_obj_open(j, NULL);
	om_json_kstr(j, OM_JK("timestamp"), t);
	if (h->flow_id)
		om_json_ku64(j, OM_JK("flow_id"), *h->flow_id);
	if (h->in_iface && h->in_iface[0])
		om_json_str(j, "in_iface", h->in_iface);
	om_json_kstr(j, OM_JK("event_type"), h->event_type);
	if (h->vlan && h->vlan_count) {
		/* an array, outermost tag first, as Suricata writes it */
		om_json_arr_open(j, "vlan");
		for (unsigned i = 0; i < h->vlan_count; i++)
			om_json_u64(j, NULL, h->vlan[i]);
		om_json_arr_close(j);
	}
	if (h->src)
		put_addr(j, OM_JK("src_ip"), h->src);
	if (h->has_sport)
		om_json_ku64(j, OM_JK("src_port"), h->sport);
	if (h->dst)
		put_addr(j, OM_JK("dest_ip"), h->dst);
	if (h->has_dport)
		om_json_ku64(j, OM_JK("dest_port"), h->dport);
	if (h->proto)
		om_json_kstr(j, OM_JK("proto"), om_event_proto_name(h->proto, ptmp, sizeof(ptmp)));
	if (h->app_proto && h->app_proto[0])
		om_json_kstr(j, OM_JK("app_proto"), h->app_proto);
	/* the "tunnel" object (outer layers) is written by its owner */
	if (h->tunnel)
		h->tunnel(j, h->tunnel_user);
	if (h->pcap_cnt)
		om_json_ku64(j, OM_JK("pcap_cnt"), h->pcap_cnt);
}

void om_event_omamori(om_json *j, const om_event_meta *m)
{
	om_json_obj_open(j, "omamori");
	if (m->category)
		om_json_str(j, "category", m->category);
	if (m->severity)
		om_json_i64(j, "severity", m->severity);
	if (m->action)
		om_json_str(j, "action", m->action);
	if (m->tenant)
		om_json_str(j, "tenant", m->tenant);
	if (m->gateway)
		om_json_str(j, "gateway", m->gateway);
	if (m->advice)
		om_json_str(j, "advice", m->advice);
	if (m->members)
		m->members(j, m->members_arg);
	om_json_obj_close(j);
}

void om_event_end(om_json *j)
{
	om_json_obj_close(j);
}
