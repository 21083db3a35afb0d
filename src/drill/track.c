/* drill: tokens, tracking paths and the scanner rules. A tracking request
 * is hostile input: the path is parsed with explicit lengths, anything else
 * is refused. Link scanners and mail-security sandboxes (which fetch every
 * link of a mail as it arrives) are told apart from people by their user
 * agent, by configured address ranges, and by timing: a click within
 * seconds of delivery, or several different links within a moment. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "drill/drill.h"

static const char hexd[] = "0123456789abcdef";

int om_drill_token_new(char ret[OM_DRILL_TOKEN_LEN + 1])
{
	uint8_t b[OM_DRILL_TOKEN_LEN / 2];
	int r = om_random_bytes(b, sizeof(b));
	if (r < 0)
		return r;
	for (size_t i = 0; i < sizeof(b); i++) {
		ret[2 * i] = hexd[b[i] >> 4];
		ret[2 * i + 1] = hexd[b[i] & 15];
	}
	ret[OM_DRILL_TOKEN_LEN] = 0;
	return 0;
}

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

bool om_drill_token_valid(const char *s, size_t n)
{
	if (n != OM_DRILL_TOKEN_LEN)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_hex(s[i]))
			return false;
	return true;
}

static const char *const kind_names[] = {"open", "click", "attach", "submit", "report", "landing"};
static const char kind_letter[] = {'o', 'c', 'a', 's', 'r', 'l'};

const char *om_drill_kind_name(enum om_drill_kind k)
{
	return (unsigned)k < OM_ARRAY_SIZE(kind_names) ? kind_names[k] : "?";
}

int om_drill_kind_parse(const char *name, enum om_drill_kind *ret)
{
	for (unsigned i = 0; i < OM_DRILL_EV__COUNT; i++)
		if (!strcmp(name, kind_names[i])) {
			*ret = (enum om_drill_kind)i;
			return 0;
		}
	return -EINVAL;
}

int om_drill_track_parse(const char *path, size_t len, enum om_drill_kind *ret_kind,
                         char ret_token[OM_DRILL_TOKEN_LEN + 1])
{
	const char *q = memchr(path, '?', len);
	if (q)
		len = (size_t)(q - path);
	/* "/t/X/" + token [+ ".gif"] */
	if (len < 5 + OM_DRILL_TOKEN_LEN || memcmp(path, "/t/", 3) || path[4] != '/')
		return -EINVAL;
	int k = -1;
	for (unsigned i = 0; i < sizeof(kind_letter); i++)
		if (path[3] == kind_letter[i])
			k = (int)i;
	if (k < 0)
		return -EINVAL;
	const char *t = path + 5;
	size_t rest = len - 5;
	bool gif = k == OM_DRILL_EV_OPEN || k == OM_DRILL_EV_ATTACH;
	if (gif) {
		/* the images are named as images */
		if (rest != OM_DRILL_TOKEN_LEN + 4 || memcmp(t + OM_DRILL_TOKEN_LEN, ".gif", 4))
			return -EINVAL;
		rest = OM_DRILL_TOKEN_LEN;
	}
	if (!om_drill_token_valid(t, rest))
		return -EINVAL;
	memcpy(ret_token, t, OM_DRILL_TOKEN_LEN);
	ret_token[OM_DRILL_TOKEN_LEN] = 0;
	*ret_kind = (enum om_drill_kind)k;
	return 0;
}

int om_drill_track_url(const char *base, enum om_drill_kind k, const char *token, om_buf *out)
{
	if ((unsigned)k > OM_DRILL_EV_LANDING)
		return -EINVAL;
	size_t bl = strlen(base);
	while (bl && base[bl - 1] == '/')
		bl--;
	bool gif = k == OM_DRILL_EV_OPEN || k == OM_DRILL_EV_ATTACH;
	if (om_buf_append(out, base, bl) < 0 ||
	    om_buf_printf(out, "/t/%c/%s%s", kind_letter[k], token, gif ? ".gif" : "") < 0)
		return -E2BIG;
	return 0;
}

void om_drill_scan_defaults(om_drill_scan_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->fast_secs = 10;
	c->burst_ms = 2000;
}

int om_drill_scan_net_add(om_drill_scan_cfg *c, const char *cidr)
{
	if (c->nnets >= OM_DRILL_MAX_NETS)
		return -E2BIG;
	char a[64];
	const char *slash = strchr(cidr, '/');
	size_t al = slash ? (size_t)(slash - cidr) : strlen(cidr);
	if (al == 0 || al >= sizeof(a))
		return -EINVAL;
	memcpy(a, cidr, al);
	a[al] = 0;
	struct om_drill_net n = {0};
	unsigned max;
	if (inet_pton(AF_INET, a, n.addr) == 1) {
		max = 32;
	} else if (inet_pton(AF_INET6, a, n.addr) == 1) {
		n.v6 = 1;
		max = 128;
	} else {
		return -EINVAL;
	}
	uint64_t bits = max;
	if (slash && om_parse_u64(slash + 1, 0, max, &bits) < 0)
		return -EINVAL;
	n.bits = (uint8_t)bits;
	c->net[c->nnets++] = n;
	return 0;
}

static bool in_net(const struct om_drill_net *n, const uint8_t *a, bool v6)
{
	if ((bool)n->v6 != v6)
		return false;
	unsigned full = n->bits / 8, part = n->bits % 8;
	if (memcmp(n->addr, a, full))
		return false;
	if (part) {
		uint8_t m = (uint8_t)(0xff << (8 - part));
		if ((n->addr[full] & m) != (a[full] & m))
			return false;
	}
	return true;
}

/* User agents of link checkers, previewers, sandboxes and scripts. A
 * person's browser says Mozilla and a browser name; a headless browser says
 * so (HeadlessChrome) unless told otherwise, which is what sandboxes that
 * hide themselves do: those are caught by timing and ranges. */
static const char *const scanner_ua[] = {
    "bot",
    "crawl",
    "spider",
    "scan",
    "preview",
    "python",
    "curl/",
    "wget",
    "go-http",
    "java/",
    "okhttp",
    "libwww",
    "httpclient",
    "headless",
    "phantomjs",
    "slurp",
    "facebookexternalhit",
    "office existence",
    "skypeuripreview",
    "proofpoint",
    "mimecast",
    "barracuda",
    "safelinks",
    "urldefense",
    "symantec",
    "trendmicro",
    "fortinet",
    "sophos",
    "axios/",
    "node-fetch",
    "aiohttp",
    "httpx",
    "powershell",
    "nessus",
    "zgrab",
};

static bool has_ci(const char *hay, const char *needle)
{
	size_t nl = strlen(needle);
	for (const char *p = hay; *p; p++)
		if (!strncasecmp(p, needle, nl))
			return true;
	return false;
}

unsigned om_drill_scan_request(const om_drill_scan_cfg *c, const char *ip, const char *ua)
{
	unsigned f = 0;
	if (!ua || !*ua || strncmp(ua, "Mozilla/", 8))
		f |= OM_DRILL_SCAN_UA;
	else
		for (size_t i = 0; i < OM_ARRAY_SIZE(scanner_ua); i++)
			if (has_ci(ua, scanner_ua[i])) {
				f |= OM_DRILL_SCAN_UA;
				break;
			}
	uint8_t a[16];
	bool v6 = false;
	if (ip && inet_pton(AF_INET, ip, a) != 1) {
		v6 = inet_pton(AF_INET6, ip, a) == 1;
		if (!v6)
			ip = NULL;
	}
	/* an IPv4-mapped IPv6 address is judged as the IPv4 one */
	if (ip && v6 && !memcmp(a, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12)) {
		memmove(a, a + 12, 4);
		v6 = false;
	}
	for (unsigned i = 0; ip && i < c->nnets; i++)
		if (in_net(&c->net[i], a, v6)) {
			f |= OM_DRILL_SCAN_RANGE;
			break;
		}
	return f;
}

static bool is_link(const om_drill_ev *e)
{
	return e->web && e->kind != OM_DRILL_EV_OPEN && e->kind < OM_DRILL_EV__COUNT;
}

/* What a scanner fetches when it takes every URL of a mail: the links and
 * the attachment's image (it does not fill in forms). */
static bool is_fetch(const om_drill_ev *e)
{
	return is_link(e) && e->kind != OM_DRILL_EV_SUBMIT;
}

void om_drill_scan_timing(const om_drill_scan_cfg *c, int64_t sent_at, om_drill_ev *ev, size_t n)
{
	int64_t fast = (int64_t)c->fast_secs * 1000000, burst = (int64_t)c->burst_ms * 1000;
	for (size_t i = 0; i < n; i++) {
		if (!is_link(&ev[i]))
			continue;
		if (sent_at > 0 && ev[i].at >= sent_at && ev[i].at - sent_at < fast)
			ev[i].flags |= OM_DRILL_SCAN_FAST;
		/* sorted by time: look back while within the burst window */
		for (size_t j = i; is_fetch(&ev[i]) && j-- > 0;) {
			if (ev[i].at - ev[j].at > burst)
				break;
			if (is_fetch(&ev[j]) && ev[j].kind != ev[i].kind) {
				ev[i].flags |= OM_DRILL_SCAN_BURST;
				ev[j].flags |= OM_DRILL_SCAN_BURST;
			}
		}
	}
}
