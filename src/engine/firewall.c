/* firewall.c: the gateway's nftables ruleset, generated from the
 * configuration and applied with libnftables.
 *
 * One table, inet omamori, holds everything: input (default deny from the
 * WAN, the LAN and the gateway itself allowed), forward (default deny,
 * LAN/DMZ out to the WAN, replies, port forwards, per-host rules), NAT
 * (masquerade to the WAN, DNAT for forwards) and, with the native queue
 * path, the queue chain at priority -150 so that the engine sees every
 * forwarded packet before the filter. The ruleset text begins by creating
 * and deleting the table, so applying it is one transaction that replaces
 * the old table whole or changes nothing.
 *
 * The queue path: nft's `queue` statement needs the kernel's nft_queue; where
 * it is missing the kernel answers "No such file or directory" and the
 * iptables-nft NFQUEUE target (xt_NFQUEUE) may still work. om_fw_probe_queue
 * tries both in a scratch table and says which one is used. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <nftables/libnftables.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/engine.h"

extern char **environ;

static const char *proto_name(uint8_t p)
{
	return p == IPPROTO_UDP ? "udp" : "tcp";
}

static void cidr_str(const om_cidr *c, char *buf, size_t n)
{
	char a[64];
	om_addr_str(&c->addr, a, sizeof(a));
	bool v4 = om_addr_is_v4(&c->addr);
	unsigned p = v4 && c->prefix >= 96 ? c->prefix - 96u : c->prefix;
	snprintf(buf, n, "%s/%u", a, p);
}

static void queue_stmt(const om_gateway_config *g, om_buf *out)
{
	unsigned n = g->workers ? g->workers : 1;
	if (n == 1)
		om_buf_printf(out, "queue num %u%s", g->queue, g->fail_open ? " bypass" : "");
	else
		om_buf_printf(out, "queue num %u-%u fanout%s", g->queue, g->queue + n - 1,
		              g->fail_open ? ",bypass" : "");
}

int om_fw_ruleset(const om_gateway_config *g, enum om_fw_queue q, om_buf *out)
{
	char c[96];
	const char *lan = g->lan, *wan = g->wan, *dmz = g->dmz;
	om_buf_puts(out, "table inet omamori {}\ndelete table inet omamori\n");
	om_buf_puts(out, "table inet omamori {\n");
	if (g->bypass)
		om_buf_puts(out, "\tset quarantine4 {\n\t\ttype ipv4_addr\n\t}\n"
		                 "\tset quarantine6 {\n\t\ttype ipv6_addr\n\t}\n");
	/* the gateway itself: nothing from the WAN but replies */
	om_buf_puts(out,
	            "\tchain input {\n\t\ttype filter hook input priority filter; policy drop;\n"
	            "\t\tct state established,related accept\n\t\tct state invalid drop\n"
	            "\t\tiifname \"lo\" accept\n");
	om_buf_printf(out, "\t\tiifname \"%s\" accept\n", lan);
	om_buf_puts(out, "\t\tmeta l4proto ipv6-icmp accept\n");
	om_buf_printf(out, "\t\tiifname \"%s\" icmp type echo-request limit rate 5/second accept\n",
	              wan);
	om_buf_puts(out, "\t}\n");
	/* through the gateway */
	om_buf_puts(out, "\tchain forward {\n\t\ttype filter hook forward priority filter; "
	                 "policy drop;\n");
	if (g->bypass) {
		/* the queue's verdict marked the packet: the connection keeps it
		 * and skips the queue from now on; an isolated host's bypassed
		 * connections are cut here (the queue no longer sees them) */
		om_buf_printf(out, "\t\tmeta mark and 0x%x != 0 ct mark set ct mark or 0x%x\n",
		              OM_GW_BYPASS_MARK, OM_GW_BYPASS_MARK);
		om_buf_printf(out, "\t\tct mark and 0x%x != 0 ip saddr @quarantine4 drop\n",
		              OM_GW_BYPASS_MARK);
		om_buf_printf(out, "\t\tct mark and 0x%x != 0 ip daddr @quarantine4 drop\n",
		              OM_GW_BYPASS_MARK);
		om_buf_printf(out, "\t\tct mark and 0x%x != 0 ip6 saddr @quarantine6 drop\n",
		              OM_GW_BYPASS_MARK);
		om_buf_printf(out, "\t\tct mark and 0x%x != 0 ip6 daddr @quarantine6 drop\n",
		              OM_GW_BYPASS_MARK);
	}
	om_buf_puts(out, "\t\tct state established,related accept\n\t\tct state invalid drop\n");
	for (unsigned i = 0; i < g->nhosts; i++) {
		const om_gw_host *h = &g->hosts[i];
		cidr_str(&h->host, c, sizeof(c));
		const char *fam = om_addr_is_v4(&h->host.addr) ? "ip" : "ip6";
		if (h->allow) {
			om_buf_printf(out, "\t\tiifname \"%s\" %s daddr %s", wan, fam, c);
			if (h->port)
				om_buf_printf(out, " %s dport %u", proto_name(h->proto), h->port);
			om_buf_puts(out, " accept\n");
		} else {
			om_buf_printf(out, "\t\t%s saddr %s oifname \"%s\"", fam, c, wan);
			if (h->port)
				om_buf_printf(out, " %s dport %u", proto_name(h->proto), h->port);
			om_buf_puts(out, " drop\n");
		}
	}
	om_buf_printf(out, "\t\tiifname \"%s\" oifname \"%s\" accept\n", lan, wan);
	if (dmz[0]) {
		om_buf_printf(out, "\t\tiifname \"%s\" oifname \"%s\" accept\n", dmz, wan);
		om_buf_printf(out, "\t\tiifname \"%s\" oifname \"%s\" accept\n", lan, dmz);
	}
	om_buf_puts(out, "\t\tct status dnat accept\n\t}\n");
	if (q == OM_FW_QUEUE_NFT) {
		om_buf_puts(out, "\tchain inspect {\n\t\ttype filter hook forward priority mangle; "
		                 "policy accept;\n\t\t");
		if (g->bypass)
			om_buf_printf(out, "ct mark and 0x%x == 0 ", OM_GW_BYPASS_MARK);
		queue_stmt(g, out);
		om_buf_puts(out, "\n\t}\n");
	}
	om_buf_printf(out,
	              "\tchain postrouting {\n\t\ttype nat hook postrouting priority srcnat; "
	              "policy accept;\n\t\toifname \"%s\" masquerade\n\t}\n",
	              wan);
	om_buf_puts(out, "\tchain prerouting {\n\t\ttype nat hook prerouting priority dstnat; "
	                 "policy accept;\n");
	for (unsigned i = 0; i < g->nforwards; i++) {
		const om_gw_forward *f = &g->forwards[i];
		char a[64];
		om_addr_str(&f->to, a, sizeof(a));
		bool v4 = om_addr_is_v4(&f->to);
		om_buf_printf(out, "\t\tiifname \"%s\" %s dport %u dnat %s to %s%s%s:%u\n", wan,
		              proto_name(f->proto), f->port, v4 ? "ip" : "ip6", v4 ? "" : "[", a,
		              v4 ? "" : "]", f->to_port ? f->to_port : f->port);
	}
	/* the block page: a sinkholed name leads the browser to port 80 of the
	 * gateway's address, which is the page's port */
	const char *const pages[2] = {g->block_addr, g->block_addr6};
	for (size_t k = 0; k < 2; k++) {
		om_addr ba;
		if (!pages[k][0] || g->block_port == 80 || om_addr_parse(pages[k], &ba) < 0)
			continue;
		char a[64];
		om_addr_str(&ba, a, sizeof(a));
		bool v4 = om_addr_is_v4(&ba);
		om_buf_printf(out,
		              "\t\tiifname \"%s\" %s daddr %s tcp dport 80 dnat %s to %s%s%s:%u\n",
		              lan, v4 ? "ip" : "ip6", a, v4 ? "ip" : "ip6", v4 ? "" : "[", a,
		              v4 ? "" : "]", g->block_port);
	}
	om_buf_puts(out, "\t}\n}\n");
	return out->toobig ? -ENOSPC : 0;
}

/* Runs nft commands; 0 or -EINVAL with the library's message in err. */
static int nft_run(const char *cmds, char *err, size_t errlen)
{
	struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	if (!ctx) {
		snprintf(err, errlen, "%s", om_tr("err.nomem"));
		return -ENOMEM;
	}
	nft_ctx_buffer_output(ctx);
	nft_ctx_buffer_error(ctx);
	int r = nft_run_cmd_from_buffer(ctx, cmds);
	if (r != 0 && err) {
		const char *e = nft_ctx_get_error_buffer(ctx);
		snprintf(err, errlen, "%s", e && *e ? e : "nft");
		err[strcspn(err, "\n")] =
		    '\0'; /* the first line says it; the rest quotes the input */
	}
	nft_ctx_free(ctx);
	return r ? -EINVAL : 0;
}

/* Runs prog (iptables-nft or ip6tables-nft) with args; returns its exit
 * status or -errno. Its standard output is kept in out (at most outlen - 1
 * bytes, NUL-terminated; out may be NULL when outlen is 0), its errors are
 * dropped. */
static int run_prog_out(const char *prog, const char *const *args, char *out, size_t outlen)
{
	const char *argv[24] = {prog};
	size_t n = 1;
	for (; args[n - 1] && n < 23; n++)
		argv[n] = args[n - 1];
	argv[n] = NULL;
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0) /* no other child inherits it */
		return -errno;
	pid_t pid;
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[1], 1);
	posix_spawn_file_actions_addclose(&fa, p[0]);
	posix_spawn_file_actions_addclose(&fa, p[1]);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", 1, 0);
	int r = posix_spawnp(&pid, prog, &fa, NULL, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	if (r != 0) {
		close(p[0]);
		return -r;
	}
	size_t got = 0;
	for (;;) {
		char scratch[512];
		char *dst = got + 1 < outlen ? out + got : scratch;
		size_t room = got + 1 < outlen ? outlen - 1 - got : sizeof(scratch);
		ssize_t k = read(p[0], dst, room);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		if (dst != scratch)
			got += (size_t)k;
	}
	close(p[0]);
	if (outlen)
		out[got] = '\0';
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -EINTR;
}

static int run_prog(const char *prog, const char *const *args)
{
	return run_prog_out(prog, args, NULL, 0);
}

static int run_iptables(const char *const *args)
{
	return run_prog("iptables-nft", args);
}

/* set by the probe when it made table ip mangle: removed again unless the
 * gateway then puts its own queue rule there */
static bool defer_mangle_cleanup;

static void mangle_cleanup(void)
{
	if (defer_mangle_cleanup) {
		defer_mangle_cleanup = false;
		nft_run("delete table ip mangle", NULL, 0);
	}
}

enum om_fw_queue om_fw_probe_queue(char *why, size_t whylen)
{
	char e[512];
	int r = nft_run("table inet omamori_probe {\n chain c {\n type filter hook forward "
	                "priority 0; policy accept;\n queue num 65000 bypass\n }\n}\n",
	                e, sizeof(e));
	nft_run("delete table inet omamori_probe", NULL, 0);
	if (r == 0) {
		snprintf(why, whylen, "%s", om_tr("gateway.queue.nft"));
		return OM_FW_QUEUE_NFT;
	}
	/* iptables takes the target's options after -j: probe the bypass flag too */
	const char *add2[] = {"-t",
	                      "mangle",
	                      "-I",
	                      "FORWARD",
	                      "-m",
	                      "comment",
	                      "--comment",
	                      "omamori-probe",
	                      "-j",
	                      "NFQUEUE",
	                      "--queue-num",
	                      "65000",
	                      "--queue-bypass",
	                      NULL};
	/* iptables-nft makes table ip mangle if it is missing: leave none behind */
	bool had_mangle = nft_run("list table ip mangle", NULL, 0) == 0;
	int ir = run_iptables(add2);
	if (!had_mangle)
		defer_mangle_cleanup = true;
	if (ir == 0) {
		const char *del[] = {"-t",
		                     "mangle",
		                     "-D",
		                     "FORWARD",
		                     "-m",
		                     "comment",
		                     "--comment",
		                     "omamori-probe",
		                     "-j",
		                     "NFQUEUE",
		                     "--queue-num",
		                     "65000",
		                     "--queue-bypass",
		                     NULL};
		run_iptables(del);
		mangle_cleanup();
		snprintf(why, whylen, om_tr("gateway.queue.iptables"), e);
		return OM_FW_QUEUE_IPTABLES;
	}
	mangle_cleanup();
	snprintf(why, whylen, om_tr("gateway.queue.none"), e,
	         ir < 0 ? strerror(-ir) : "exit status");
	return OM_FW_QUEUE_NONE;
}

/* Whether the kernel forwards IPv6 (no: no IPv6 passes to inspect). */
static bool ipv6_forwarding(void)
{
	FILE *f = fopen("/proc/sys/net/ipv6/conf/all/forwarding", "r");
	int c = f ? fgetc(f) : EOF;
	if (f)
		fclose(f);
	return c == '1';
}

/* The queue rule in FORWARD of table ip (v6 false) or ip6 (v6) mangle. */
static int iptables_queue(const om_gateway_config *g, bool add, bool v6)
{
	char spec[32];
	unsigned n = g->workers ? g->workers : 1;
	if (n > 1)
		snprintf(spec, sizeof(spec), "%u:%u", g->queue, g->queue + n - 1);
	else
		snprintf(spec, sizeof(spec), "%u", g->queue);
	const char *args[] = {"-t",
	                      "mangle",
	                      add ? "-I" : "-D",
	                      "FORWARD",
	                      "-m",
	                      "comment",
	                      "--comment",
	                      "omamori",
	                      "-j",
	                      "NFQUEUE",
	                      n > 1 ? "--queue-balance" : "--queue-num",
	                      spec,
	                      g->fail_open ? "--queue-bypass" : NULL,
	                      NULL};
	/* with bypass: not for connections the gateway let go */
	char mk[32];
	snprintf(mk, sizeof(mk), "0x%x/0x%x", OM_GW_BYPASS_MARK, OM_GW_BYPASS_MARK);
	const char *bargs[] = {"-t",
	                       "mangle",
	                       add ? "-I" : "-D",
	                       "FORWARD",
	                       "-m",
	                       "comment",
	                       "--comment",
	                       "omamori",
	                       "-m",
	                       "connmark",
	                       "!",
	                       "--mark",
	                       mk,
	                       "-j",
	                       "NFQUEUE",
	                       n > 1 ? "--queue-balance" : "--queue-num",
	                       spec,
	                       g->fail_open ? "--queue-bypass" : NULL,
	                       NULL};
	return run_prog(v6 ? "ip6tables-nft" : "iptables-nft", g->bypass ? bargs : args);
}

/* Deletes every rule of FORWARD in table ip (v6 false) or ip6 mangle that
 * carries our comment, whatever its options: one left by a gateway that was
 * killed, or one whose removal by its exact options failed. Returns how many
 * it found (each one it tried to delete), or -errno when the list could not
 * be read. */
static int iptables_sweep(bool v6)
{
	const char *prog = v6 ? "ip6tables-nft" : "iptables-nft";
	const char *list[] = {"-t", "mangle", "-S", "FORWARD", NULL};
	char out[16384];
	int r = run_prog_out(prog, list, out, sizeof(out));
	if (r != 0)
		return r < 0 ? r : -EIO;
	int found = 0;
	for (char *l = out, *nl; *l; l = nl) {
		nl = strchr(l, '\n');
		if (nl)
			*nl++ = '\0';
		else
			nl = l + strlen(l);
		/* "-A FORWARD ... --comment omamori ..." (not omamori-probe) */
		const char *c = strstr(l, "--comment omamori");
		if (strncmp(l, "-A FORWARD ", 11) != 0 || !c || (c[17] != ' ' && c[17] != '\0'))
			continue;
		const char *args[24] = {"-t", "mangle", "-D", "FORWARD"};
		size_t n = 4;
		char *save = NULL;
		strtok_r(l, " ", &save);    /* -A */
		strtok_r(NULL, " ", &save); /* FORWARD */
		for (char *t; n < 23 && (t = strtok_r(NULL, " ", &save)) != NULL;)
			args[n++] = t;
		args[n] = NULL;
		found++;
		if (n < 23)
			run_prog(prog, args);
	}
	return found;
}

/* Deletes table <family> mangle when it holds no rule but ours (gone by
 * now): iptables-nft made it for the queue rule. */
static void mangle_remove_if_empty(const char *family)
{
	bool had_other = false;
	char cmd[64];
	snprintf(cmd, sizeof(cmd), "list table %s mangle", family);
	struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	if (!ctx)
		return;
	nft_ctx_buffer_output(ctx);
	nft_ctx_buffer_error(ctx);
	if (nft_run_cmd_from_buffer(ctx, cmd) != 0) {
		nft_ctx_free(ctx);
		return; /* there is none */
	}
	const char *o = nft_ctx_get_output_buffer(ctx);
	/* a rule line: indented twice, not the chain's own type line */
	for (const char *l = o; l && (l = strstr(l, "\t\t")) != NULL; l += 2)
		if (strncmp(l + 2, "type ", 5) != 0)
			had_other = true;
	nft_ctx_free(ctx);
	if (!had_other) {
		snprintf(cmd, sizeof(cmd), "delete table %s mangle", family);
		nft_run(cmd, NULL, 0);
	}
}

int om_fw_apply(const om_gateway_config *g, enum om_fw_queue q, char *err, size_t errlen)
{
	om_buf b;
	om_buf_init(&b, 1 << 20);
	int r = om_fw_ruleset(g, q, &b);
	if (r == 0)
		om_buf_putc(&b, '\0');
	if (r == 0 && b.toobig)
		r = -ENOSPC;
	char e[1024];
	if (r == 0 && (r = nft_run((const char *)b.data, e, sizeof(e))) < 0)
		snprintf(err, errlen, om_tr("err.gateway.nft"), e);
	om_buf_free(&b);
	if (r < 0)
		return r; /* one transaction: nothing was changed */
	if (q == OM_FW_QUEUE_IPTABLES) {
		/* a queue rule left by an earlier run (killed, so it could not
		 * take its rule away) goes first: two would disagree on bypass
		 * and on the queues */
		int stale = 0, k;
		if ((k = iptables_sweep(false)) > 0)
			stale += k;
		if ((k = iptables_sweep(true)) > 0)
			stale += k;
		if (stale)
			om_log(OM_LOG_WARN, om_tr("warn.gateway.stale_queue"), stale);
		/* IPv4 and IPv6: a forwarded packet of either family that missed
		 * the queue would pass uninspected */
		int ir = iptables_queue(g, true, false);
		int ir6 = ir == 0 ? iptables_queue(g, true, true) : 0;
		if (ir6 != 0 && !ipv6_forwarding()) {
			/* this machine forwards no IPv6: nothing to inspect there */
			om_log(OM_LOG_WARN, "%s", om_tr("warn.gateway.ip6tables"));
			ir6 = 0;
		}
		if (ir != 0 || ir6 != 0) {
			/* roll back: without the queue rules the policy would run
			 * uninspected */
			if (ir == 0) {
				iptables_queue(g, false, false);
				mangle_remove_if_empty("ip");
				mangle_remove_if_empty("ip6"); /* the IPv6 rule was tried */
			}
			nft_run("delete table inet omamori", NULL, 0);
			int x = ir != 0 ? ir : ir6;
			snprintf(err, errlen,
			         om_tr(ir != 0 ? "err.gateway.iptables" : "err.gateway.ip6tables"),
			         x < 0 ? strerror(-x) : "exit status");
			return -EIO;
		}
	}
	return 0;
}

void om_fw_remove(const om_gateway_config *g, enum om_fw_queue q)
{
	if (q == OM_FW_QUEUE_IPTABLES) {
		iptables_queue(g, false, false);
		iptables_queue(g, false, true);
		/* whatever is still ours (the exact removal failed): a queue rule
		 * left behind would hold the office's traffic for a queue nobody
		 * reads, or send it past inspection */
		int left = 0;
		for (int pass = 0; pass < 4; pass++) {
			int a = iptables_sweep(false), b = iptables_sweep(true);
			left = (a > 0 ? a : 0) + (b > 0 ? b : 0);
			if (left == 0)
				break;
		}
		if (left)
			om_log(OM_LOG_WARN, "%s", om_tr("warn.gateway.queue_left"));
		/* an empty table ip/ip6 mangle that only held our rule goes too */
		mangle_remove_if_empty("ip");
		mangle_remove_if_empty("ip6");
	}
	nft_run("delete table inet omamori", NULL, 0);
}

int om_fw_quarantine_sync(const om_addr *hosts, unsigned n)
{
	om_buf b;
	om_buf_init(&b, 1 << 20);
	om_buf_puts(&b, "flush set inet omamori quarantine4\nflush set inet omamori quarantine6\n");
	for (unsigned i = 0; i < n; i++) {
		char a[64];
		om_addr_str(&hosts[i], a, sizeof(a));
		om_buf_printf(&b, "add element inet omamori quarantine%c { %s }\n",
		              om_addr_is_v4(&hosts[i]) ? '4' : '6', a);
	}
	om_buf_putc(&b, '\0');
	char e[512];
	int r = b.toobig ? -ENOSPC : nft_run((const char *)b.data, e, sizeof(e));
	om_buf_free(&b);
	return r;
}
