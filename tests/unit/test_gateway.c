/* Unit tests for the gateway's pure parts (src/engine/verdict.c, firewall.c,
 * gateway.c): the verdict combination, the address table, the block list,
 * the nftables ruleset, the reject packets and the site: configuration.
 * Expected values are worked out from the inputs and the RFCs, not taken
 * from the program's output. */
// clang-format off
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "engine/engine.h"
#include "engine/internal.h"

static om_addr A(const char *s)
{
	om_addr a;
	assert_int_equal(om_addr_parse(s, &a), 0);
	return a;
}

/* ---- verdicts ---------------------------------------------------------- */

static void test_verdict_strictest(void **st)
{
	(void)st;
	om_verdict_in in = {0};
	assert_int_equal(om_verdict_decide(&in, 1000, true), OM_VERDICT_ACCEPT);
	in.flow_flags = OM_FLOW_F_ALERTED; /* an alert alone lets it through */
	assert_int_equal(om_verdict_decide(&in, 1000, true), OM_VERDICT_ACCEPT);
	in.flow_flags = OM_FLOW_F_ALERTED | OM_FLOW_F_DROP;
	assert_int_equal(om_verdict_decide(&in, 1000, true), OM_VERDICT_DROP);
	in.flow_flags = OM_FLOW_F_ALERTED | OM_FLOW_F_DROP | OM_FLOW_F_REJECT;
	assert_int_equal(om_verdict_decide(&in, 1000, true), OM_VERDICT_REJECT);
	/* a blocked scanner beats a reject: no answer at all */
	in.src_blocked = true;
	assert_int_equal(om_verdict_decide(&in, 1000, true), OM_VERDICT_DROP);
	memset(&in, 0, sizeof(in));
	in.policy_blocked = true;
	assert_int_equal(om_verdict_decide(&in, 1000, true), OM_VERDICT_REJECT);
	memset(&in, 0, sizeof(in));
	in.file_blocked = true;
	assert_int_equal(om_verdict_decide(&in, 1000, true), OM_VERDICT_REJECT);
}

static void test_verdict_quarantine(void **st)
{
	(void)st;
	om_verdict_in in = {.quarantined = true};
	assert_int_equal(om_verdict_decide(&in, 1000, true), OM_VERDICT_DROP);
	in.quarantine_allow = true; /* DNS to the gateway, the block page */
	assert_int_equal(om_verdict_decide(&in, 1000, true), OM_VERDICT_ACCEPT);
}

static void test_verdict_hold(void **st)
{
	(void)st;
	om_verdict_in in = {.file_pending = true, .hold_age = 10};
	assert_int_equal(om_verdict_decide(&in, 1000, true), OM_VERDICT_HOLD);
	in.hold_age = 1000; /* the hold ran out */
	assert_int_equal(om_verdict_decide(&in, 1000, true), OM_VERDICT_ACCEPT);
	assert_int_equal(om_verdict_decide(&in, 1000, false), OM_VERDICT_DROP);
	/* a drop is never softened into a hold */
	in.hold_age = 0;
	in.flow_flags = OM_FLOW_F_DROP;
	assert_int_equal(om_verdict_decide(&in, 1000, true), OM_VERDICT_DROP);
}

/* ---- the address table ---------------------------------------------------- */

static void test_addr_table(void **st)
{
	(void)st;
	om_addr_table *t = om_addr_table_new(4);
	assert_non_null(t);
	om_addr a = A("192.0.2.1"), b = A("192.0.2.2"), c = A("2001:db8::1");
	assert_false(om_addr_table_has(t, &a, 100));
	assert_int_equal(om_addr_table_add(t, &a, 200), 0);
	assert_int_equal(om_addr_table_add(t, &b, 0), 0);
	assert_int_equal(om_addr_table_add(t, &c, 150), 0);
	assert_int_equal(om_addr_table_count(t), 3);
	assert_true(om_addr_table_has(t, &a, 199));
	assert_false(om_addr_table_has(t, &a, 200)); /* until is exclusive */
	assert_true(om_addr_table_has(t, &b, UINT64_MAX - 1));
	/* adding again keeps the longer block */
	assert_int_equal(om_addr_table_add(t, &a, 100), 0);
	assert_true(om_addr_table_has(t, &a, 199));
	assert_int_equal(om_addr_table_del(t, &b), 0);
	assert_int_equal(om_addr_table_del(t, &b), -ENOENT);
	assert_false(om_addr_table_has(t, &b, 1));
	assert_true(om_addr_table_has(t, &c, 1));
	om_addr_table_free(t);
}

static void test_addr_table_cap_and_delete(void **st)
{
	(void)st;
	enum { N = 300 };
	om_addr_table *t = om_addr_table_new(N);
	om_addr a[N + 1];
	for (unsigned i = 0; i <= N; i++) {
		char s[32];
		snprintf(s, sizeof(s), "10.%u.%u.1", i / 256, i % 256);
		a[i] = A(s);
	}
	for (unsigned i = 0; i < N; i++)
		assert_int_equal(om_addr_table_add(t, &a[i], 0), 0);
	/* full, and nothing has expired: a clear refusal */
	assert_int_equal(om_addr_table_add(t, &a[N], 0), -ENOSPC);
	/* deleting every third entry must leave every other one findable
	 * (deletion moves entries back in their probe chains) */
	for (unsigned i = 0; i < N; i += 3)
		assert_int_equal(om_addr_table_del(t, &a[i]), 0);
	for (unsigned i = 0; i < N; i++)
		assert_int_equal(om_addr_table_has(t, &a[i], 1), i % 3 != 0);
	assert_int_equal(om_addr_table_count(t), N - (N + 2) / 3);
	unsigned listed = 0;
	om_addr x;
	om_usec until;
	while (om_addr_table_get(t, listed, &x, &until))
		listed++;
	assert_int_equal(listed, N - (N + 2) / 3);
	om_addr_table_free(t);
}

/* ---- the block list --------------------------------------------------------- */

static void test_name_blocked(void **st)
{
	(void)st;
	static om_gateway_config g;
	memset(&g, 0, sizeof(g));
	snprintf(g.blocked[0], OM_GW_NAME_MAX, "example.com");
	snprintf(g.blocked[1], OM_GW_NAME_MAX, "bad.test");
	g.nblocked = 2;
#define NB(s) om_gw_name_blocked(&g, s, strlen(s))
	assert_true(NB("example.com"));
	assert_true(NB("www.example.com"));
	assert_true(NB("a.b.EXAMPLE.com"));
	assert_true(NB("example.com.")); /* DNS's trailing dot */
	assert_false(NB("badexample.com"));
	assert_false(NB("example.co"));
	assert_false(NB("com"));
	assert_true(NB("x.bad.test"));
	assert_false(NB(""));
#undef NB
}

/* ---- the ruleset -------------------------------------------------------------- */

static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	for (const char *p = text; (p = strstr(p, line)) != NULL; p++) {
		bool start = p == text || p[-1] == '\t' || p[-1] == '\n';
		if (start && (p[n] == '\n' || p[n] == '\0'))
			return true;
	}
	return false;
}

static void test_ruleset(void **st)
{
	(void)st;
	static om_settings s;
	om_settings_defaults(&s);
	om_gateway_config *g = &s.gateway;
	snprintf(g->lan, sizeof(g->lan), "eth1");
	snprintf(g->wan, sizeof(g->wan), "eth0");
	snprintf(g->dmz, sizeof(g->dmz), "eth2");
	g->forwards[0] = (om_gw_forward){IPPROTO_TCP, 8443, 443, A("192.168.1.10")};
	g->forwards[1] = (om_gw_forward){IPPROTO_UDP, 51820, 51820, A("192.168.1.11")};
	g->nforwards = 2;
	g->hosts[0] = (om_gw_host){{A("192.168.1.50"), 128}, false, 0, 0};
	g->hosts[1] = (om_gw_host){{A("192.168.1.60"), 128}, false, IPPROTO_TCP, 25};
	g->nhosts = 2;
	g->queue = 10;
	g->workers = 2;
	g->fail_open = true;
	g->bypass = false; /* the plain queue rule first; bypass below */
	om_buf b;
	om_buf_init(&b, 1 << 20);
	assert_int_equal(om_fw_ruleset(g, OM_FW_QUEUE_NFT, &b), 0);
	const char *t = om_buf_cstr(&b);
	/* the table is replaced whole: created (if absent), deleted, written */
	assert_true(strncmp(t, "table inet omamori {}\ndelete table inet omamori\n", 48) == 0);
	/* default deny for the gateway itself and for what goes through */
	assert_true(has_line(t, "type filter hook input priority filter; policy drop;"));
	assert_true(has_line(t, "type filter hook forward priority filter; policy drop;"));
	assert_true(has_line(t, "ct state established,related accept"));
	assert_true(has_line(t, "iifname \"eth1\" oifname \"eth0\" accept"));
	assert_true(has_line(t, "iifname \"eth2\" oifname \"eth0\" accept"));
	assert_true(has_line(t, "iifname \"eth1\" oifname \"eth2\" accept"));
	/* nothing lets the WAN in except the forwards (DNAT) */
	assert_null(strstr(t, "iifname \"eth0\" oifname \"eth1\" accept"));
	assert_true(has_line(t, "ct status dnat accept"));
	assert_true(has_line(t, "iifname \"eth0\" tcp dport 8443 dnat ip to 192.168.1.10:443"));
	assert_true(has_line(t, "iifname \"eth0\" udp dport 51820 dnat ip to 192.168.1.11:51820"));
	assert_true(has_line(t, "ip saddr 192.168.1.50/32 oifname \"eth0\" drop"));
	assert_true(has_line(t, "ip saddr 192.168.1.60/32 oifname \"eth0\" tcp dport 25 drop"));
	assert_true(has_line(t, "oifname \"eth0\" masquerade"));
	/* the host rules come before the general LAN -> WAN accept */
	assert_true(strstr(t, "192.168.1.50/32") < strstr(t, "iifname \"eth1\" oifname \"eth0\""));
	/* two workers: queues 10 and 11, spread by flow, bypass when nobody listens */
	assert_true(has_line(t, "queue num 10-11 fanout,bypass"));
	om_buf_reset(&b);
	/* the iptables path: no queue statement in the table */
	g->fail_open = false;
	assert_int_equal(om_fw_ruleset(g, OM_FW_QUEUE_IPTABLES, &b), 0);
	assert_null(strstr(om_buf_cstr(&b), "queue"));
	om_buf_reset(&b);
	g->workers = 1;
	assert_int_equal(om_fw_ruleset(g, OM_FW_QUEUE_NFT, &b), 0);
	assert_true(has_line(om_buf_cstr(&b), "queue num 10"));
	/* bypass: the queue skips connections with the mark; the forward
	 * chain keeps a marked packet's mark on its connection, and cuts an
	 * isolated host's bypassed connections by the quarantine sets */
	om_buf_reset(&b);
	g->bypass = true;
	assert_int_equal(om_fw_ruleset(g, OM_FW_QUEUE_NFT, &b), 0);
	t = om_buf_cstr(&b);
	assert_true(has_line(t, "ct mark and 0x40000000 == 0 queue num 10"));
	assert_true(has_line(t, "meta mark and 0x40000000 != 0 ct mark set ct mark or 0x40000000"));
	assert_true(has_line(t, "ct mark and 0x40000000 != 0 ip saddr @quarantine4 drop"));
	assert_true(has_line(t, "ct mark and 0x40000000 != 0 ip6 daddr @quarantine6 drop"));
	assert_true(has_line(t, "type ipv4_addr"));
	/* before the accept of established connections: a bypassed connection
	 * is established */
	const char *fwd = strstr(t, "chain forward");
	assert_non_null(fwd);
	assert_true(strstr(fwd, "@quarantine4") <
	            strstr(fwd, "ct state established,related accept"));
	g->bypass = false;
	om_buf_reset(&b);
	assert_int_equal(om_fw_ruleset(g, OM_FW_QUEUE_NFT, &b), 0);
	assert_null(strstr(om_buf_cstr(&b), "ct mark"));
	/* the block page: port 80 of each of its addresses goes to its port */
	om_buf_reset(&b);
	snprintf(g->block_addr, sizeof(g->block_addr), "192.168.1.1");
	snprintf(g->block_addr6, sizeof(g->block_addr6), "fd00:1::1");
	g->block_port = 8080;
	assert_int_equal(om_fw_ruleset(g, OM_FW_QUEUE_NFT, &b), 0);
	assert_true(has_line(om_buf_cstr(&b), "iifname \"eth1\" ip daddr 192.168.1.1 tcp dport 80 "
	                                      "dnat ip to 192.168.1.1:8080"));
	assert_true(has_line(om_buf_cstr(&b), "iifname \"eth1\" ip6 daddr fd00:1::1 tcp dport 80 "
	                                      "dnat ip6 to [fd00:1::1]:8080"));
	om_buf_free(&b);
	/* a buffer too small says so */
	om_buf_init(&b, 64);
	assert_int_equal(om_fw_ruleset(g, OM_FW_QUEUE_NFT, &b), -ENOSPC);
	om_buf_free(&b);
}

/* ---- reject packets ------------------------------------------------------------ */

/* The one's complement sum of a correct checksum field's cover is 0xffff. */
static uint16_t csum_check(const uint8_t *p, size_t n, uint32_t s)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void tcp_pseudo_ok(const uint8_t *ip)
{
	uint8_t ph[12];
	memcpy(ph, ip + 12, 8);
	ph[8] = 0;
	ph[9] = 6;
	ph[10] = 0;
	ph[11] = 20;
	assert_int_equal(csum_check(ip + 20, 20, csum_check(ph, 12, 0)), 0xffff);
}

static void test_reject_tcp(void **st)
{
	(void)st;
	/* 10.0.0.2:40000 -> 192.0.2.80:80, seq 1000, ack 5000, PSH|ACK, 10
	 * bytes of payload */
	uint8_t pkt[50] = {0x45, 0,    0,   50,  0,    0,    0x40, 0,    64,   6,    0,  0, 10,
	                   0,    0,    2,   192, 0,    2,    80,   0x9c, 0x40, 0,    80, 0, 0,
	                   0x03, 0xe8, 0,   0,   0x13, 0x88, 0x50, 0x18, 0xff, 0xff, 0,  0, 0,
	                   0,    'G',  'E', 'T', ' ',  '/',  ' ',  'H',  'T',  'T',  'P'};
	om_packet p;
	memset(&p, 0, sizeof(p));
	p.raw = pkt;
	p.caplen = sizeof(pkt);
	p.wirelen = sizeof(pkt);
	p.linktype = 101;
	assert_int_equal(om_decode_peek(&p), 0);
	uint8_t out[128];
	size_t l1, l2;
	assert_int_equal(om_gw_reject_build(&p, out, sizeof(out), &l1, &l2), 0);
	assert_int_equal(l1, 40);
	assert_int_equal(l2, 40);
	/* to the client, as if from the server: seq = the client's ack (5000),
	 * ack = 1000 + 10, RST|ACK */
	const uint8_t *r = out;
	{
		static const uint8_t want[8] = {192, 0, 2, 80, 10, 0, 0, 2};
		assert_memory_equal(r + 12, want, 8);
	};
	assert_int_equal(r[9], 6);
	assert_int_equal(csum_check(r, 20, 0), 0xffff);
	assert_int_equal(r[20] << 8 | r[21], 80);
	assert_int_equal(r[22] << 8 | r[23], 40000);
	assert_int_equal(be32(r + 24), 5000);
	assert_int_equal(be32(r + 28), 1010);
	assert_int_equal(r[33], 0x14);
	tcp_pseudo_ok(r);
	/* to the server, as if from the client: the rejected segment is dropped,
	 * so the server still expects seq 1000 (RFC 5961: only an exact reset
	 * is taken); RST */
	r = out + 40;
	{
		static const uint8_t want[8] = {10, 0, 0, 2, 192, 0, 2, 80};
		assert_memory_equal(r + 12, want, 8);
	};
	assert_int_equal(csum_check(r, 20, 0), 0xffff);
	assert_int_equal(be32(r + 24), 1000);
	assert_int_equal(r[33], 0x04);
	tcp_pseudo_ok(r);
	/* a reset is never answered */
	pkt[33] = 0x04;
	assert_int_equal(om_gw_reject_build(&p, out, sizeof(out), &l1, &l2), -EINVAL);
}

static void test_reject_udp(void **st)
{
	(void)st;
	/* 10.0.0.2:5353 -> 192.0.2.53:53, 4 bytes of payload */
	uint8_t pkt[32] = {0x45, 0, 0, 32, 0,    0,    0, 0,  64, 17, 0, 0, 10, 0, 0, 2,
	                   192,  0, 2, 53, 0x14, 0xe9, 0, 53, 0,  12, 0, 0, 1,  2, 3, 4};
	om_packet p;
	memset(&p, 0, sizeof(p));
	p.raw = pkt;
	p.caplen = sizeof(pkt);
	p.linktype = 101;
	assert_int_equal(om_decode_peek(&p), 0);
	uint8_t out[128];
	size_t l1, l2;
	assert_int_equal(om_gw_reject_build(&p, out, sizeof(out), &l1, &l2), 0);
	/* ICMP header (8) and the offending IP header (20) plus 8 bytes (RFC 792) */
	assert_int_equal(l1, 20 + 8 + 28);
	assert_int_equal(l2, 0);
	{
		static const uint8_t want[8] = {192, 0, 2, 53, 10, 0, 0, 2};
		assert_memory_equal(out + 12, want, 8);
	};
	assert_int_equal(out[9], 1);
	assert_int_equal(out[2] << 8 | out[3], 56);
	assert_int_equal(csum_check(out, 20, 0), 0xffff);
	assert_int_equal(out[20], 3);  /* destination unreachable */
	assert_int_equal(out[21], 13); /* administratively prohibited (RFC 1812) */
	assert_int_equal(csum_check(out + 20, 36, 0), 0xffff);
	assert_memory_equal(out + 28, pkt, 28);
}

/* ---- configuration and quarantine file ------------------------------------------- */

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_site_config(void **st)
{
	(void)st;
	static om_settings s;
	char path[] = "/tmp/omamori-site-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	write_file(path, "site:\n  mode: passive\n  lan: eth1\n  wan: eth0\n  workers: 3\n"
	                 "  fail-open: false\n  forwards:\n"
	                 "    - {proto: udp, port: 500, to: 192.168.1.5}\n"
	                 "    - {port: 8443, to: 192.168.1.10, to-port: 443}\n"
	                 "  hosts:\n    - {host: 192.168.1.0/28, action: deny}\n"
	                 "    - {host: 192.168.1.10, action: allow, port: 443}\n"
	                 "  block-list: [bad.test, worse.test]\n");
	om_settings_defaults(&s);
	assert_true(s.gateway.fail_open);            /* the default: keep the office working */
	assert_int_equal(s.gateway.rt_priority, 10); /* workers on SCHED_FIFO by default */
	assert_true(s.gateway.bypass); /* elephant flows skip the queue past the depth */
	char err[512];
	assert_int_equal(om_settings_load(&s, path, err, sizeof(err)), 0);
	assert_int_equal(s.gateway.mode, OM_GW_PASSIVE);
	assert_string_equal(s.gateway.lan, "eth1");
	assert_int_equal(s.gateway.workers, 3);
	assert_false(s.gateway.fail_open);
	assert_int_equal(s.gateway.nforwards, 2);
	assert_int_equal(s.gateway.forwards[0].proto, IPPROTO_UDP);
	assert_int_equal(s.gateway.forwards[0].to_port, 500); /* defaults to port */
	assert_int_equal(s.gateway.forwards[1].proto, IPPROTO_TCP);
	assert_int_equal(s.gateway.forwards[1].to_port, 443);
	assert_int_equal(s.gateway.nhosts, 2);
	assert_false(s.gateway.hosts[0].allow);
	assert_true(s.gateway.hosts[1].allow);
	assert_int_equal(s.gateway.hosts[1].port, 443);
	assert_int_equal(s.gateway.nblocked, 2);
	assert_string_equal(s.gateway.blocked[1], "worse.test");
	assert_true(s.gateway.bypass); /* not named: the default stays */

	/* refused, and nothing changes */
	write_file(path, "site:\n  mode: sideways\n");
	assert_int_equal(om_settings_load(&s, path, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "site.mode"));
	assert_int_equal(s.gateway.mode, OM_GW_PASSIVE);
	/* an interface name goes into the ruleset text: no quotes or spaces */
	write_file(path, "site:\n  lan: 'eth1\" accept'\n");
	assert_int_equal(om_settings_load(&s, path, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "site.lan"));
	write_file(path, "site:\n  hosts:\n    - {host: 192.168.1.10, action: allow}\n");
	assert_int_equal(om_settings_load(&s, path, err, sizeof(err)), -EINVAL);
	write_file(path, "site:\n  realtime-priority: 100\n");
	assert_int_equal(om_settings_load(&s, path, err, sizeof(err)), -EINVAL);
	write_file(path, "site:\n  realtime-priority: 0\n");
	assert_int_equal(om_settings_load(&s, path, err, sizeof(err)), 0);
	assert_int_equal(s.gateway.rt_priority, 0);
	write_file(path, "site:\n  bypass: false\n");
	assert_int_equal(om_settings_load(&s, path, err, sizeof(err)), 0);
	assert_false(s.gateway.bypass); /* opting out */
	/* the block page's IPv6 address: an IPv6 address or nothing */
	write_file(path, "site:\n  block-page:\n    address: 192.168.1.1\n"
	                 "    address6: fd00:1::1\n");
	assert_int_equal(om_settings_load(&s, path, err, sizeof(err)), 0);
	assert_string_equal(s.gateway.block_addr6, "fd00:1::1");
	write_file(path, "site:\n  block-page:\n    address6: 192.168.1.1\n");
	assert_int_equal(om_settings_load(&s, path, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "site.block-page.address6"));
	assert_non_null(strstr(err, "is not an IPv6 address"));
	write_file(path, "site:\n  block-page:\n    address: gateway.local\n");
	assert_int_equal(om_settings_load(&s, path, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "site.block-page.address"));
	unlink(path);
}

static void test_quarantine_file(void **st)
{
	(void)st;
	char dir[] = "/tmp/omamori-q-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[300], err[512];
	snprintf(path, sizeof(path), "%s/quarantine", dir);
	om_addr a = A("192.168.1.23"), b = A("fd00::5");
	assert_int_equal(om_gw_quarantine_edit(path, &a, true, err, sizeof(err)), 0);
	assert_int_equal(om_gw_quarantine_edit(path, &b, true, err, sizeof(err)), 0);
	assert_int_equal(om_gw_quarantine_edit(path, &a, true, err, sizeof(err)),
	                 0); /* twice: once */
	om_addr_table *t = om_addr_table_new(16);
	assert_int_equal(om_gw_quarantine_load(path, t, err, sizeof(err)), 0);
	assert_int_equal(om_addr_table_count(t), 2);
	assert_true(om_addr_table_has(t, &a, 1));
	assert_true(om_addr_table_has(t, &b, 1));
	assert_int_equal(om_gw_quarantine_edit(path, &a, false, err, sizeof(err)), 0);
	assert_int_equal(om_gw_quarantine_edit(path, &a, false, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "192.168.1.23"));
	om_addr_table_free(t);
	t = om_addr_table_new(16);
	assert_int_equal(om_gw_quarantine_load(path, t, err, sizeof(err)), 0);
	assert_int_equal(om_addr_table_count(t), 1);
	assert_false(om_addr_table_has(t, &a, 1));
	/* a bad line is refused with its number */
	write_file(path, "# isolated\n192.168.1.7\nnot-an-address\n");
	assert_int_equal(om_gw_quarantine_load(path, t, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, ":3:"));
	om_addr_table_free(t);
	unlink(path);
	rmdir(dir);
}

/* ---- the block page's redirect, the DNS sinkhole, the page ----------------- */

static void test_watchdog(void **st)
{
	(void)st;
	const om_usec s = 1000000;
	assert_false(om_gw_stuck(100 * s, 95 * s, 10 * s));
	assert_true(om_gw_stuck(100 * s, 89 * s, 10 * s));
	assert_false(om_gw_stuck(100 * s, 90 * s, 10 * s)); /* exactly the limit */
	/* the worker came round after the watchdog read the clock: not stuck
	 * (the old unsigned difference wrapped to centuries) */
	assert_false(om_gw_stuck(100 * s, 100 * s + 1, 10 * s));
}

static void test_redirect(void **st)
{
	(void)st;
	/* 10.0.0.2:40000 -> 192.0.2.80:80, seq 1000, ack 5000, PSH|ACK, 10 bytes */
	uint8_t pkt[50] = {0x45, 0,    0,   50,  0,    0,    0x40, 0,    64,   6,    0,  0, 10,
	                   0,    0,    2,   192, 0,    2,    80,   0x9c, 0x40, 0,    80, 0, 0,
	                   0x03, 0xe8, 0,   0,   0x13, 0x88, 0x50, 0x18, 0xff, 0xff, 0,  0, 0,
	                   0,    'G',  'E', 'T', ' ',  '/',  ' ',  'H',  'T',  'T',  'P'};
	om_packet p;
	memset(&p, 0, sizeof(p));
	p.raw = pkt;
	p.caplen = sizeof(pkt);
	p.linktype = 101;
	assert_int_equal(om_decode_peek(&p), 0);
	uint8_t out[1400];
	size_t l1, l2;
	const char *loc = "http://10.0.0.1:8080/";
	assert_int_equal(om_gw_redirect_build(&p, loc, out, sizeof(out), &l1, &l2), 0);
	static const char want_http[] = "HTTP/1.1 302 Found\r\nLocation: http://10.0.0.1:8080/\r\n";
	/* to the client as from the server: seq = the client's ack, ack = its
	 * next byte, FIN|PSH|ACK, the answer as data */
	const uint8_t *r = out;
	size_t data = l1 - 40;
	assert_true(data > sizeof(want_http));
	assert_int_equal(r[2] << 8 | r[3], l1);
	{
		static const uint8_t want[8] = {192, 0, 2, 80, 10, 0, 0, 2};
		assert_memory_equal(r + 12, want, 8);
	}
	assert_int_equal(csum_check(r, 20, 0), 0xffff);
	assert_int_equal(r[20] << 8 | r[21], 80);
	assert_int_equal(r[22] << 8 | r[23], 40000);
	assert_int_equal(be32(r + 24), 5000);
	assert_int_equal(be32(r + 28), 1010);
	assert_int_equal(r[33], 0x19);
	assert_memory_equal(r + 40, want_http, sizeof(want_http) - 1);
	assert_memory_equal(r + l1 - 4, "\r\n\r\n", 4);
	uint8_t ph[12];
	memcpy(ph, r + 12, 8);
	ph[8] = 0;
	ph[9] = 6;
	ph[10] = (uint8_t)((20 + data) >> 8);
	ph[11] = (uint8_t)(20 + data);
	assert_int_equal(csum_check(r + 20, 20 + data, csum_check(ph, 12, 0)), 0xffff);
	/* to the server as from the client: a reset at the request's first byte */
	r = out + l1;
	assert_int_equal(l2, 40);
	{
		static const uint8_t want[8] = {10, 0, 0, 2, 192, 0, 2, 80};
		assert_memory_equal(r + 12, want, 8);
	}
	assert_int_equal(be32(r + 24), 1000);
	assert_int_equal(r[33], 0x04);
	tcp_pseudo_ok(r);
	/* a header injection through the location is refused */
	assert_int_equal(
	    om_gw_redirect_build(&p, "http://x/\r\nSet-Cookie: a=b", out, sizeof(out), &l1, &l2),
	    -EINVAL);
	/* only a data segment is redirected: a SYN (no data) is not */
	pkt[33] = 0x02;
	p.caplen = 40;
	pkt[3] = 40;
	assert_int_equal(om_gw_redirect_build(&p, loc, out, sizeof(out), &l1, &l2), -EINVAL);
}

/* A query from 10.0.0.2:5353 to 192.0.2.53:53 for "blocked.test" of type
 * qtype, id 0x1234, RD set; returns its length. */
static size_t dns_query(uint8_t *pkt, uint16_t qtype)
{
	static const uint8_t ip[20] = {0x45, 0, 0,  0, 0, 0, 0,   0, 64, 17,
	                               0,    0, 10, 0, 0, 2, 192, 0, 2,  53};
	static const uint8_t q[] = {0x12, 0x34, 0x01, 0x00, 0,   1,   0,   0,   0,
	                            0,    0,    0,    7,    'b', 'l', 'o', 'c', 'k',
	                            'e',  'd',  4,    't',  'e', 's', 't', 0};
	memcpy(pkt, ip, 20);
	uint8_t *u = pkt + 20;
	u[0] = 0x14;
	u[1] = 0xe9;
	u[2] = 0;
	u[3] = 53;
	memcpy(u + 8, q, sizeof(q));
	size_t n = 8 + sizeof(q);
	u[8 + sizeof(q)] = (uint8_t)(qtype >> 8);
	u[9 + sizeof(q)] = (uint8_t)qtype;
	u[10 + sizeof(q)] = 0;
	u[11 + sizeof(q)] = 1;
	n += 4;
	u[4] = (uint8_t)(n >> 8);
	u[5] = (uint8_t)n;
	u[6] = u[7] = 0;
	pkt[2] = (uint8_t)((20 + n) >> 8);
	pkt[3] = (uint8_t)(20 + n);
	return 20 + n;
}

static void decode_raw(om_packet *p, const uint8_t *pkt, size_t n)
{
	memset(p, 0, sizeof(*p));
	p->raw = pkt;
	p->caplen = (uint32_t)n;
	p->linktype = 101;
	assert_int_equal(om_decode_peek(p), 0);
}

/* The one's complement sum over the IPv6 pseudo-header and the L4 part. */
static uint16_t csum6(const uint8_t *ip6)
{
	uint32_t len = (uint32_t)(ip6[4] << 8 | ip6[5]);
	uint8_t ph[40];
	memcpy(ph, ip6 + 8, 32);
	ph[32] = (uint8_t)(len >> 24);
	ph[33] = (uint8_t)(len >> 16);
	ph[34] = (uint8_t)(len >> 8);
	ph[35] = (uint8_t)len;
	ph[36] = ph[37] = ph[38] = 0;
	ph[39] = ip6[6];
	return csum_check(ip6 + 40, len, csum_check(ph, 40, 0));
}

static void test_reject_ipv6(void **st)
{
	(void)st;
	/* 2001:db8::2 port 40000 -> 2001:db8:1::80 port 443, seq 1000, ack 5000,
	 * PSH|ACK, 4 bytes */
	uint8_t pkt[64];
	memset(pkt, 0, sizeof(pkt));
	pkt[0] = 0x60;
	pkt[5] = 24;
	pkt[6] = 6;
	pkt[7] = 64;
	static const uint8_t a[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
	static const uint8_t b[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0,
	                              0,    0,    0,    0,    0, 0, 0, 0x80};
	memcpy(pkt + 8, a, 16);
	memcpy(pkt + 24, b, 16);
	uint8_t *t = pkt + 40;
	t[0] = 0x9c;
	t[1] = 0x40;
	t[3] = 0xbb; /* 443 */
	t[2] = 0x01;
	t[6] = 0x03;
	t[7] = 0xe8; /* 1000 */
	t[10] = 0x13;
	t[11] = 0x88; /* 5000 */
	t[12] = 0x50;
	t[13] = 0x18;
	t[14] = t[15] = 0xff;
	memcpy(t + 20, "abcd", 4);
	om_packet p;
	decode_raw(&p, pkt, sizeof(pkt));
	assert_int_equal(p.ip_ver, 6);
	uint8_t out[1400];
	size_t l1, l2;
	assert_int_equal(om_gw_reject_build(&p, out, sizeof(out), &l1, &l2), 0);
	assert_int_equal(l1, 60);
	assert_int_equal(l2, 60);
	/* to the client as from the server: RST|ACK, seq 5000, ack 1004 */
	assert_int_equal(out[0] >> 4, 6);
	assert_int_equal(out[4] << 8 | out[5], 20);
	assert_int_equal(out[6], 6);
	assert_memory_equal(out + 8, b, 16);
	assert_memory_equal(out + 24, a, 16);
	assert_int_equal(out[40] << 8 | out[41], 443);
	assert_int_equal(out[42] << 8 | out[43], 40000);
	assert_int_equal(be32(out + 44), 5000);
	assert_int_equal(be32(out + 48), 1004);
	assert_int_equal(out[53], 0x14);
	assert_int_equal(csum6(out), 0xffff);
	/* to the server as from the client: RST at 1000, the dropped segment's
	 * own sequence (what the server expects next) */
	const uint8_t *r = out + 60;
	assert_memory_equal(r + 8, a, 16);
	assert_int_equal(be32(r + 44), 1000);
	assert_int_equal(r[53], 0x04);
	assert_int_equal(csum6(r), 0xffff);
	/* UDP: ICMPv6 type 1 code 1 quoting the whole (small) packet */
	pkt[6] = 17;
	pkt[5] = 12;
	memset(t, 0, 24);
	t[0] = 0x14;
	t[1] = 0xe9;
	t[3] = 53;
	t[5] = 12;
	decode_raw(&p, pkt, 52);
	assert_int_equal(om_gw_reject_build(&p, out, sizeof(out), &l1, &l2), 0);
	assert_int_equal(l1, 48 + 52);
	assert_int_equal(l2, 0);
	assert_int_equal(out[6], 58);
	assert_int_equal(out[40], 1);
	assert_int_equal(out[41], 1);
	assert_memory_equal(out + 48, pkt, 52);
	assert_int_equal(csum6(out), 0xffff);
	/* an ICMPv6 error is never answered; nor anything to multicast */
	pkt[6] = 58;
	t[0] = 1;
	decode_raw(&p, pkt, 52);
	assert_int_equal(om_gw_reject_build(&p, out, sizeof(out), &l1, &l2), -EINVAL);
	pkt[6] = 17;
	t[0] = 0x14;
	pkt[24] = 0xff;
	decode_raw(&p, pkt, 52);
	assert_int_equal(om_gw_reject_build(&p, out, sizeof(out), &l1, &l2), -EINVAL);
}

static void test_sinkhole(void **st)
{
	(void)st;
	uint8_t pkt[128], out[600];
	om_packet p;
	om_addr ans;
	assert_int_equal(om_addr_parse("10.10.1.1", &ans), 0);
	size_t n = dns_query(pkt, 1), len;
	decode_raw(&p, pkt, n);
	assert_int_equal(om_gw_sinkhole_build(&p, &ans, NULL, out, sizeof(out), &len), 0);
	/* IP + UDP + the query's 30 bytes (header 12, name 14, type, class) +
	 * one answer: pointer 2, type 2, class 2, ttl 4, length 2, address 4 */
	assert_int_equal(len, 20 + 8 + 30 + 16);
	{
		static const uint8_t want[8] = {192, 0, 2, 53, 10, 0, 0, 2};
		assert_memory_equal(out + 12, want, 8);
	}
	assert_int_equal(out[9], 17);
	assert_int_equal(csum_check(out, 20, 0), 0xffff);
	const uint8_t *u = out + 20;
	assert_int_equal(u[0] << 8 | u[1], 53);
	assert_int_equal(u[2] << 8 | u[3], 5353);
	assert_int_equal(u[4] << 8 | u[5], len - 20);
	uint8_t ph[12];
	memcpy(ph, out + 12, 8);
	ph[8] = 0;
	ph[9] = 17;
	ph[10] = u[4];
	ph[11] = u[5];
	assert_int_equal(csum_check(u, len - 20, csum_check(ph, 12, 0)), 0xffff);
	const uint8_t *d = u + 8;
	static const uint8_t hdr[12] = {0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0};
	assert_memory_equal(d, hdr, 12);
	assert_memory_equal(d + 12, pkt + 28 + 12, 18); /* the question, unchanged */
	static const uint8_t an[16] = {0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 10, 1, 1};
	assert_memory_equal(d + 30, an, 16);
	/* AAAA with an IPv4 page: NOERROR, no answer */
	n = dns_query(pkt, 28);
	decode_raw(&p, pkt, n);
	assert_int_equal(om_gw_sinkhole_build(&p, &ans, NULL, out, sizeof(out), &len), 0);
	assert_int_equal(len, 20 + 8 + 30);
	assert_int_equal(out[28 + 7], 0);
	/* an answer (QR set), a compression pointer in the question, a name past
	 * the end: nothing is sent */
	n = dns_query(pkt, 1);
	pkt[28 + 2] |= 0x80;
	decode_raw(&p, pkt, n);
	assert_int_equal(om_gw_sinkhole_build(&p, &ans, NULL, out, sizeof(out), &len), -EINVAL);
	n = dns_query(pkt, 1);
	pkt[28 + 12] = 0xc0;
	decode_raw(&p, pkt, n);
	assert_int_equal(om_gw_sinkhole_build(&p, &ans, NULL, out, sizeof(out), &len), -EINVAL);
	n = dns_query(pkt, 1);
	pkt[28 + 12] = 60; /* a label longer than the rest */
	decode_raw(&p, pkt, n);
	assert_int_equal(om_gw_sinkhole_build(&p, &ans, NULL, out, sizeof(out), &len), -EINVAL);
}

static bool never_isolated(void *user, const om_addr *a)
{
	(void)a;
	return *(bool *)user;
}

static void test_block_page(void **st)
{
	(void)st;
	om_gw_req rq;
	static const char get[] = "GET /x?y=1 HTTP/1.1\r\nHost: a\r\n\r\n";
	assert_int_equal(om_gw_page_parse(get, sizeof(get) - 1, &rq), 0);
	assert_string_equal(rq.method, "GET");
	assert_string_equal(rq.path, "/x?y=1");
	assert_int_equal(om_gw_page_parse(get, 20, &rq), -EAGAIN);
	assert_int_equal(om_gw_page_parse("GET\r\n\r\n", 7, &rq), -EINVAL);
	assert_int_equal(om_gw_page_parse("GET / FTP/1.0\r\n\r\n", 17, &rq), -EINVAL);
	assert_int_equal(om_gw_page_parse("get / HTTP/1.1\r\n\r\n", 18, &rq), -EINVAL);
	assert_int_equal(om_gw_page_parse("GET /\x01 HTTP/1.1\r\n\r\n", 19, &rq), -EINVAL);
	/* a NUL in the path (found by fuzz_gateway) or the method */
	assert_int_equal(om_gw_page_parse("GET \0 HTTP/1.1\r\n\r\n", 18, &rq), -EINVAL);
	assert_int_equal(om_gw_page_parse("G\0T / HTTP/1.1\r\n\r\n", 18, &rq), -EINVAL);
	char big[4200];
	memset(big, 'a', sizeof(big));
	assert_int_equal(om_gw_page_parse(big, 4096, &rq), -E2BIG);

	bool isolated = false;
	om_gw_page *pg;
	assert_int_equal(om_gw_page_new("IT <Sato>", never_isolated, &isolated, &pg), 0);
	om_addr cli, other;
	assert_int_equal(om_addr_parse("10.0.0.2", &cli), 0);
	assert_int_equal(om_addr_parse("10.0.0.3", &other), 0);
	const char *host = "<script>x</script>.test";
	om_gw_page_note(pg, &cli, host, strlen(host), "gateway.page.why.block_list", NULL);
	om_buf out;
	om_buf_init(&out, 1 << 20);
	assert_int_equal(om_gw_page_parse(get, sizeof(get) - 1, &rq), 0);
	assert_int_equal(om_gw_page_render(pg, &cli, &rq, &out), 0);
	const char *t = om_buf_cstr(&out);
	assert_non_null(strstr(t, "HTTP/1.1 403 Forbidden\r\n"));
	assert_non_null(strstr(t, "Content-Security-Policy: default-src 'none'\r\n"));
	/* what came from the traffic is escaped, the contact too */
	assert_null(strstr(t, "<script>"));
	assert_non_null(strstr(t, "&lt;script&gt;x&lt;/script&gt;.test"));
	assert_non_null(strstr(t, "IT &lt;Sato&gt;"));
	assert_non_null(strstr(t, om_msg(OM_LANG_JA, "gateway.page.why.block_list")));
	assert_non_null(
	    strstr(t, "list of blocked sites")); /* the English, escaped ("company&#39;s") */
	/* Content-Length is the body's */
	const char *body = strstr(t, "\r\n\r\n") + 4;
	char want[64];
	snprintf(want, sizeof(want), "Content-Length: %zu\r\n", strlen(body));
	assert_non_null(strstr(t, want));
	/* another host has no note: the general text */
	om_buf_reset(&out);
	assert_int_equal(om_gw_page_render(pg, &other, &rq, &out), 0);
	assert_null(strstr(om_buf_cstr(&out), "script"));
	assert_non_null(strstr(om_buf_cstr(&out), "blocked by your company&#39;s security policy"));
	/* an isolated host gets the isolation page */
	isolated = true;
	om_buf_reset(&out);
	assert_int_equal(om_gw_page_render(pg, &cli, &rq, &out), 0);
	assert_non_null(
	    strstr(om_buf_cstr(&out), om_msg(OM_LANG_JA, "gateway.page.isolated.title")));
	/* HEAD: headers only; POST: refused */
	static const char head[] = "HEAD / HTTP/1.1\r\n\r\n";
	assert_int_equal(om_gw_page_parse(head, sizeof(head) - 1, &rq), 0);
	om_buf_reset(&out);
	assert_int_equal(om_gw_page_render(pg, &cli, &rq, &out), 0);
	assert_memory_equal(om_buf_cstr(&out) + out.len - 4, "\r\n\r\n", 4);
	static const char post[] = "POST / HTTP/1.1\r\n\r\n";
	assert_int_equal(om_gw_page_parse(post, sizeof(post) - 1, &rq), 0);
	om_buf_reset(&out);
	assert_int_equal(om_gw_page_render(pg, &cli, &rq, &out), 0);
	assert_non_null(strstr(om_buf_cstr(&out), "405"));
	om_buf_free(&out);
	om_gw_page_free(pg);
}

/* ---- the event log on a full disk ----------------------------------------------- */

static size_t eve_lines_ok(const char *path, int *ret_last)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	char line[512];
	size_t n = 0;
	while (fgets(line, sizeof(line), f)) {
		size_t l = strlen(line);
		assert_true(l > 2 && line[0] == '{' && line[l - 1] == '\n'); /* whole lines only */
		int seq;
		if (sscanf(line, "{\"seq\":%d", &seq) == 1 && ret_last)
			*ret_last = seq;
		n++;
	}
	fclose(f);
	return n;
}

static void eve_block(char *buf, size_t cap, int seq, size_t *ret_len)
{
	size_t off = 0;
	for (int k = 0; k < 10; k++)
		off += (size_t)snprintf(buf + off, cap - off,
		                        "{\"seq\":%d,\"k\":%d,\"pad\":\"%080d\"}\n", seq, k, 0);
	*ret_len = off;
}

static void test_eve_disk_full(void **st)
{
	(void)st;
	if (geteuid() != 0) {
		skip(); /* a small file system of its own needs root (mount) */
		return;
	}
	char dir[] = "/tmp/omamori-evefull.XXXXXX";
	assert_non_null(mkdtemp(dir));
	/* a 64 KiB file system, in a mount namespace of this test only */
	assert_int_equal(unshare(CLONE_NEWNS), 0);
	assert_int_equal(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
	assert_int_equal(mount("tmpfs", dir, "tmpfs", 0, "size=64k"), 0);
	char path[256], rot[300], err[256];
	snprintf(path, sizeof(path), "%s/eve.json", dir);
	om_eve *e;
	assert_int_equal(om_eve_open(path, 16 * 1024, false, &e, err, sizeof(err)), 0);
	om_eve_set_live(e, true);
	char block[2048];
	size_t len;
	/* 200 blocks of 10 lines (1.2 KB each): four times what fits */
	for (int seq = 0; seq < 200; seq++) {
		eve_block(block, sizeof(block), seq, &len);
		assert_int_equal(om_eve_write(e, block, len, NULL), 0);
	}
	uint64_t dropped, removed;
	om_eve_full_stats(e, &dropped, &removed);
	assert_true(removed > 0);     /* the oldest rotated logs went first */
	assert_int_equal(dropped, 0); /* and nothing new was lost */
	int last = -1;
	assert_true(eve_lines_ok(path, &last) > 0);
	assert_int_equal(last, 199); /* the newest block is there, whole */
	snprintf(rot, sizeof(rot), "%s.1", path);
	assert_int_equal(access(rot, F_OK), -1); /* the first rotated file was removed */
	/* every file left holds whole lines */
	for (uint64_t n = 1; n <= om_eve_rotations(e); n++) {
		snprintf(rot, sizeof(rot), "%s.%llu", path, (unsigned long long)n);
		eve_lines_ok(rot, NULL);
	}
	/* nothing left to remove: live, the block is dropped and counted, and
	 * writing goes on once there is room again */
	for (uint64_t n = 1; n <= om_eve_rotations(e); n++) {
		snprintf(rot, sizeof(rot), "%s.%llu", path, (unsigned long long)n);
		unlink(rot);
	}
	char filler[300];
	snprintf(filler, sizeof(filler), "%s/filler", dir);
	FILE *f = fopen(filler, "w");
	assert_non_null(f);
	static char junk[4096];
	while (fwrite(junk, 1, sizeof(junk), f) == sizeof(junk) && fflush(f) == 0)
		;
	fclose(f);
	/* (the file's last page may still take a block or two) */
	size_t before = eve_lines_ok(path, NULL);
	int seq = 500;
	for (; seq < 520 && dropped == 0; seq++) {
		eve_block(block, sizeof(block), seq, &len);
		assert_int_equal(om_eve_write(e, block, len, NULL), 0);
		om_eve_full_stats(e, &dropped, &removed);
		if (dropped == 0)
			before += 10;
	}
	assert_int_equal(dropped, 10);
	assert_int_equal(eve_lines_ok(path, NULL), before); /* no partial block */
	unlink(filler);
	eve_block(block, sizeof(block), 501, &len);
	assert_int_equal(om_eve_write(e, block, len, NULL), 0);
	assert_int_equal(eve_lines_ok(path, &last), before + 10);
	assert_int_equal(last, 501);
	om_eve_close(e);
	/* offline a full disk is an error (the run stops and says so) */
	snprintf(path, sizeof(path), "%s/offline.json", dir);
	assert_int_equal(om_eve_open(path, 0, false, &e, err, sizeof(err)), 0);
	f = fopen(filler, "w");
	assert_non_null(f);
	while (fwrite(junk, 1, sizeof(junk), f) == sizeof(junk) && fflush(f) == 0)
		;
	fclose(f);
	int r = 0;
	for (seq = 0; seq < 100 && r == 0; seq++) {
		eve_block(block, sizeof(block), seq, &len);
		r = om_eve_write(e, block, len, NULL);
	}
	assert_int_equal(r, -ENOSPC);
	om_eve_close(e);
	umount(dir);
	rmdir(dir);
}

/* ---- reload ------------------------------------------------------------- */

static void test_handover_sequence(void **st)
{
	(void)st;
	om_gw_handover h;
	unsigned gen = 0;
	om_gw_handover_init(&h, 2);
	assert_true(om_gw_handover_done(&h)); /* nothing offered yet */
	assert_false(om_gw_handover_pending(&h, 0, &gen));
	assert_int_equal(om_gw_handover_offer(&h), 0);
	assert_false(om_gw_handover_done(&h));
	assert_true(om_gw_handover_pending(&h, 0, &gen));
	assert_int_equal(gen, 1);
	/* a second offer before every worker took the first is refused */
	assert_int_equal(om_gw_handover_offer(&h), -EBUSY);
	om_gw_handover_ack(&h, 0, gen);
	assert_true(om_gw_handover_taken(&h, 0));
	assert_false(om_gw_handover_taken(&h, 1));
	assert_false(om_gw_handover_done(&h)); /* worker 1 still holds the old */
	assert_false(om_gw_handover_pending(&h, 0, &gen));
	assert_true(om_gw_handover_pending(&h, 1, &gen));
	om_gw_handover_ack(&h, 1, gen);
	assert_true(om_gw_handover_done(&h));
	assert_int_equal(om_gw_handover_offer(&h), 0);
	assert_true(om_gw_handover_pending(&h, 1, &gen));
	assert_int_equal(gen, 2);
	/* a worker index past the table is never waited for */
	assert_false(om_gw_handover_pending(&h, 5, &gen));
	assert_true(om_gw_handover_taken(&h, 5));
}

/* Workers that use "the current set" all the time while the control thread
 * swaps it 300 times: a set is poisoned and freed only once every worker
 * has taken the next, so no worker ever sees a poisoned one (ASan would
 * also catch a use after the free). */
#define HO_WORKERS 3
#define HO_ROUNDS 300
struct ho_set {
	int magic;
};
struct ho_ctx {
	om_gw_handover h;
	struct ho_set *next[HO_WORKERS];
	atomic_int stop;
	atomic_int bad;
	atomic_ulong uses;
};
struct ho_worker {
	struct ho_ctx *c;
	unsigned id;
	struct ho_set *cur;
};

static void *ho_main(void *arg)
{
	struct ho_worker *w = arg;
	while (!atomic_load(&w->c->stop)) {
		unsigned gen;
		if (w->cur->magic != 42)
			atomic_store(&w->c->bad, 1);
		atomic_fetch_add(&w->c->uses, 1);
		if (om_gw_handover_pending(&w->c->h, w->id, &gen)) {
			w->cur = w->c->next[w->id];
			om_gw_handover_ack(&w->c->h, w->id, gen);
		}
	}
	return NULL;
}

static void test_handover_threads(void **st)
{
	(void)st;
	struct ho_ctx c;
	memset(&c, 0, sizeof(c));
	om_gw_handover_init(&c.h, HO_WORKERS);
	struct ho_worker w[HO_WORKERS];
	pthread_t t[HO_WORKERS];
	struct ho_set *old[HO_WORKERS];
	for (unsigned i = 0; i < HO_WORKERS; i++) {
		w[i] = (struct ho_worker){&c, i, malloc(sizeof(struct ho_set))};
		w[i].cur->magic = 42;
		old[i] = w[i].cur;
		assert_int_equal(pthread_create(&t[i], NULL, ho_main, &w[i]), 0);
	}
	for (int r = 0; r < HO_ROUNDS; r++) {
		for (unsigned i = 0; i < HO_WORKERS; i++) {
			c.next[i] = malloc(sizeof(struct ho_set));
			c.next[i]->magic = 42;
		}
		assert_int_equal(om_gw_handover_offer(&c.h), 0);
		while (!om_gw_handover_done(&c.h))
			sched_yield();
		for (unsigned i = 0; i < HO_WORKERS; i++) {
			old[i]->magic = -1; /* poisoned: a worker still on it would see this */
			free(old[i]);
			old[i] = c.next[i];
		}
	}
	atomic_store(&c.stop, 1);
	for (unsigned i = 0; i < HO_WORKERS; i++) {
		pthread_join(t[i], NULL);
		assert_ptr_equal(w[i].cur, old[i]); /* each took the last set */
		free(old[i]);
	}
	assert_int_equal(atomic_load(&c.bad), 0);
	assert_true(atomic_load(&c.uses) >= HO_ROUNDS);
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_rules_build(void **st)
{
	(void)st;
	char dir[] = "/tmp/omamori-gwrules.XXXXXX";
	assert_non_null(mkdtemp(dir));
	char good[128], bad[128], missing[128], err[1024];
	snprintf(good, sizeof(good), "%s/good.rules", dir);
	snprintf(bad, sizeof(bad), "%s/bad.rules", dir);
	snprintf(missing, sizeof(missing), "%s/none.rules", dir);
	write_text(good,
	           "drop http any any -> any any (msg:\"a\"; content:\"abc\"; sid:1; rev:1;)\n"
	           "alert tcp any any -> any 25 (msg:\"b\"; content:\"x\"; sid:2; rev:1;)\n");
	/* the second rule lacks its closing parenthesis */
	write_text(bad,
	           "drop http any any -> any any (msg:\"a\"; content:\"abc\"; sid:1; rev:1;)\n"
	           "drop http any any -> any any (msg:\"c\"; content:\"abc\"; sid:3; rev:1;\n");
	om_detect_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	om_detect *d = NULL;
	om_detect_load_stats ls;
	const char *files[1] = {good};
	assert_int_equal(om_gw_rules_build(&cfg, NULL, files, 1, 0, &d, &ls, err, sizeof(err)), 0);
	assert_non_null(d);
	assert_int_equal(om_detect_rule_count(d), 2);
	assert_int_equal(ls.total, 2);
	assert_int_equal(ls.syntax_errors, 0);
	d = om_detect_free(d);
	/* a rule written wrong: refused while the running set has none */
	files[0] = bad;
	assert_int_equal(om_gw_rules_build(&cfg, NULL, files, 1, 0, &d, &ls, err, sizeof(err)),
	                 -EINVAL);
	assert_null(d);
	assert_non_null(strstr(err, "1 rules with syntax errors where the running ones have 0"));
	/* no worse than the running set (one invalid rule already): taken */
	assert_int_equal(om_gw_rules_build(&cfg, NULL, files, 1, 1, &d, &ls, err, sizeof(err)), 0);
	assert_int_equal(om_detect_rule_count(d), 1);
	d = om_detect_free(d);
	/* a file that cannot be read: refused, the message names it */
	files[0] = missing;
	assert_true(om_gw_rules_build(&cfg, NULL, files, 1, 0, &d, &ls, err, sizeof(err)) < 0);
	assert_null(d);
	assert_non_null(strstr(err, missing));
	assert_non_null(strstr(err, "could not be loaded"));
	/* the files of the configuration count as well as the command line's */
	snprintf(cfg.files[0], sizeof(cfg.files[0]), "%s", good);
	cfg.nfiles = 1;
	assert_int_equal(om_gw_rules_build(&cfg, NULL, NULL, 0, 0, &d, &ls, err, sizeof(err)), 0);
	assert_int_equal(om_detect_rule_count(d), 2);
	om_detect_free(d);
	unlink(good);
	unlink(bad);
	rmdir(dir);
}

/* An IPv6 packet fd00:1::2 -> fd00:2::53 (next header nh) around the
 * transport part l4 (n bytes); returns its length. */
static size_t ip6_wrap(uint8_t *pkt, uint8_t nh, const uint8_t *l4, size_t n)
{
	static const uint8_t src[16] = {0xfd, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
	static const uint8_t dst[16] = {0xfd, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x53};
	memset(pkt, 0, 40);
	pkt[0] = 0x60;
	pkt[4] = (uint8_t)(n >> 8);
	pkt[5] = (uint8_t)n;
	pkt[6] = nh;
	pkt[7] = 64;
	memcpy(pkt + 8, src, 16);
	memcpy(pkt + 24, dst, 16);
	memcpy(pkt + 40, l4, n);
	return 40 + n;
}

static void test_sinkhole_ipv6(void **st)
{
	(void)st;
	uint8_t v4[128], pkt[160], out[600];
	om_packet p;
	om_addr a4, a6;
	assert_int_equal(om_addr_parse("10.10.1.1", &a4), 0);
	assert_int_equal(om_addr_parse("fd00:10:1::1", &a6), 0);
	/* the UDP part of the IPv4 query, carried over IPv6 instead */
	size_t n4 = dns_query(v4, 28), len;
	size_t n = ip6_wrap(pkt, 17, v4 + 20, n4 - 20);
	decode_raw(&p, pkt, n);
	assert_int_equal(p.ip_ver, 6);
	assert_int_equal(om_gw_sinkhole_build(&p, &a4, &a6, out, sizeof(out), &len), 0);
	/* IPv6 40 + UDP 8 + the query's 30 + one AAAA answer (12 + 16) */
	assert_int_equal(len, 40 + 8 + 30 + 28);
	assert_int_equal(out[0] >> 4, 6);
	assert_int_equal(out[4] << 8 | out[5], len - 40);
	assert_int_equal(out[6], 17);
	assert_memory_equal(out + 8, pkt + 24, 16); /* from the resolver asked */
	assert_memory_equal(out + 24, pkt + 8, 16); /* to the client */
	const uint8_t *u = out + 40;
	assert_int_equal(u[0] << 8 | u[1], 53);
	assert_int_equal(u[2] << 8 | u[3], 5353);
	assert_int_not_equal(u[6] << 8 | u[7], 0); /* required over IPv6 */
	assert_int_equal(csum6(out), 0xffff);
	const uint8_t *d = u + 8;
	assert_int_equal(d[6] << 8 | d[7], 1); /* one answer */
	static const uint8_t an[12] = {0xc0, 0x0c, 0, 28, 0, 1, 0, 0, 0, 60, 0, 16};
	assert_memory_equal(d + 30, an, 12);
	assert_memory_equal(d + 42, a6.b, 16);
	/* A over IPv6: the IPv4 page */
	n4 = dns_query(v4, 1);
	n = ip6_wrap(pkt, 17, v4 + 20, n4 - 20);
	decode_raw(&p, pkt, n);
	assert_int_equal(om_gw_sinkhole_build(&p, &a4, &a6, out, sizeof(out), &len), 0);
	assert_int_equal(len, 40 + 8 + 30 + 16);
	static const uint8_t an4[16] = {0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 10, 1, 1};
	assert_memory_equal(out + 48 + 30, an4, 16);
	assert_int_equal(csum6(out), 0xffff);
	/* ANY: both addresses */
	n4 = dns_query(v4, 255);
	n = ip6_wrap(pkt, 17, v4 + 20, n4 - 20);
	decode_raw(&p, pkt, n);
	assert_int_equal(om_gw_sinkhole_build(&p, &a4, &a6, out, sizeof(out), &len), 0);
	assert_int_equal(len, 40 + 8 + 30 + 16 + 28);
	assert_int_equal(out[48 + 7], 2);
	/* AAAA over IPv4 without an IPv6 page: NOERROR, no answer; with one:
	 * the AAAA answer */
	n = dns_query(v4, 28);
	decode_raw(&p, v4, n);
	assert_int_equal(om_gw_sinkhole_build(&p, &a4, NULL, out, sizeof(out), &len), 0);
	assert_int_equal(len, 20 + 8 + 30);
	assert_int_equal(om_gw_sinkhole_build(&p, &a4, &a6, out, sizeof(out), &len), 0);
	assert_int_equal(len, 20 + 8 + 30 + 28);
	assert_memory_equal(out + 28 + 42, a6.b, 16);
	/* an extension header before UDP (hop-by-hop): not answered */
	uint8_t ext[8 + 64] = {17, 0, 1, 4, 0, 0, 0, 0};
	n4 = dns_query(v4, 28);
	memcpy(ext + 8, v4 + 20, n4 - 20);
	n = ip6_wrap(pkt, 0, ext, 8 + n4 - 20);
	decode_raw(&p, pkt, n);
	assert_int_equal(om_gw_sinkhole_build(&p, &a4, &a6, out, sizeof(out), &len), -EINVAL);
}

static void test_redirect_ipv6(void **st)
{
	(void)st;
	/* TCP 40000 -> 80, seq 1000, ack 5000, PSH|ACK, "GET / HTTP" */
	static const uint8_t tcp[30] = {0x9c, 0x40, 0,    80,   0,    0,    0x03, 0xe8, 0,   0,
	                                0x13, 0x88, 0x50, 0x18, 0xff, 0xff, 0,    0,    0,   0,
	                                'G',  'E',  'T',  ' ',  '/',  ' ',  'H',  'T',  'T', 'P'};
	uint8_t pkt[128], out[1400];
	size_t n = ip6_wrap(pkt, 6, tcp, sizeof(tcp));
	om_packet p;
	decode_raw(&p, pkt, n);
	size_t l1, l2;
	const char *loc = "http://[fd00:10:1::1]:8080/";
	assert_int_equal(om_gw_redirect_build(&p, loc, out, sizeof(out), &l1, &l2), 0);
	static const char want_http[] =
	    "HTTP/1.1 302 Found\r\nLocation: http://[fd00:10:1::1]:8080/\r\n";
	const uint8_t *r = out;
	assert_int_equal(r[0] >> 4, 6);
	assert_int_equal(r[6], 6);
	assert_int_equal(r[4] << 8 | r[5], l1 - 40);
	assert_memory_equal(r + 8, pkt + 24, 16); /* as from the server */
	assert_memory_equal(r + 24, pkt + 8, 16);
	const uint8_t *t = r + 40;
	assert_int_equal(t[0] << 8 | t[1], 80);
	assert_int_equal(t[2] << 8 | t[3], 40000);
	assert_int_equal(be32(t + 4), 5000); /* the client's ack */
	assert_int_equal(be32(t + 8), 1010); /* its next byte: 1000 + 10 */
	assert_int_equal(t[13], 0x19);
	assert_memory_equal(t + 20, want_http, sizeof(want_http) - 1);
	assert_int_equal(csum6(r), 0xffff);
	/* to the server: a reset at the request's first byte, IPv6 40 + TCP 20 */
	r = out + l1;
	assert_int_equal(l2, 60);
	assert_memory_equal(r + 8, pkt + 8, 16);
	assert_memory_equal(r + 24, pkt + 24, 16);
	assert_int_equal(be32(r + 44), 1000);
	assert_int_equal(r[53], 0x04);
	assert_int_equal(csum6(r), 0xffff);
}

int main(void)
{
	om_lang_set_thread(OM_LANG_EN);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_verdict_strictest),
	    cmocka_unit_test(test_verdict_quarantine),
	    cmocka_unit_test(test_verdict_hold),
	    cmocka_unit_test(test_addr_table),
	    cmocka_unit_test(test_addr_table_cap_and_delete),
	    cmocka_unit_test(test_name_blocked),
	    cmocka_unit_test(test_ruleset),
	    cmocka_unit_test(test_reject_tcp),
	    cmocka_unit_test(test_reject_udp),
	    cmocka_unit_test(test_site_config),
	    cmocka_unit_test(test_quarantine_file),
	    cmocka_unit_test(test_watchdog),
	    cmocka_unit_test(test_eve_disk_full),
	    cmocka_unit_test(test_redirect),
	    cmocka_unit_test(test_sinkhole),
	    cmocka_unit_test(test_reject_ipv6),
	    cmocka_unit_test(test_block_page),
	    cmocka_unit_test(test_sinkhole_ipv6),
	    cmocka_unit_test(test_redirect_ipv6),
	    cmocka_unit_test(test_handover_sequence),
	    cmocka_unit_test(test_handover_threads),
	    cmocka_unit_test(test_rules_build),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
