/* console: the desk's parsers of outside data. An EVE line a gateway pushed
 * (does it open a ticket by itself?), and a mail sent to the desk's address
 * (a ticket from its subject, sender and text). Both take hostile input:
 * every length is checked and anything unexpected is "not a ticket". */
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "console/internal.h"

/* snprintf that cuts without a warning: every text here has a cap and a
 * cut one is still right to show */
static void sfmt(char *out, size_t n, const char *fmt, ...) OM_PRINTF(3, 4);
static void sfmt(char *out, size_t n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(out, n, fmt, ap);
	va_end(ap);
}

static const char *jstr(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* RFC 1918, shared (RFC 6598), link-local; IPv6 ULA and link-local. */
bool con_desk_inside(const char *ip)
{
	om_addr a;
	char s[64];

	if (!ip || strlen(ip) >= 46 || om_addr_parse(ip, &a) < 0)
		return false;
	om_addr_str(&a, s, sizeof(s));
	if (om_addr_is_v4(&a)) {
		unsigned b1, b2;
		if (sscanf(s, "%u.%u.", &b1, &b2) != 2)
			return false;
		return b1 == 10 || (b1 == 172 && b2 >= 16 && b2 <= 31) ||
		       (b1 == 192 && b2 == 168) || (b1 == 100 && b2 >= 64 && b2 <= 127) ||
		       (b1 == 169 && b2 == 254);
	}
	return (s[0] == 'f' || s[0] == 'F') &&
	       ((s[1] == 'c' || s[1] == 'd' || s[1] == 'C' || s[1] == 'D') ||
	        (!strncmp(s + 1, "e8", 2) || !strncmp(s + 1, "e9", 2) || !strncmp(s + 1, "ea", 2) ||
	         !strncmp(s + 1, "eb", 2)));
}

int con_desk_auto_parse(const char *line, size_t n, con_desk_candidate *ret)
{
	json_error_t err;
	json_t *ev;
	con_desk_candidate c;
	int r = -EINVAL;

	if (!line || n == 0 || n > CON_DESK_AUTO_LINE)
		return -EINVAL;
	ev = json_loadb(line, n, JSON_REJECT_DUPLICATES, &err);
	if (!json_is_object(ev))
		goto out;
	memset(&c, 0, sizeof(c));
	const char *type = jstr(ev, "event_type");
	json_t *om = json_object_get(ev, "omamori");
	const char *cat = json_is_object(om) ? jstr(om, "category") : NULL;
	json_t *sev = json_is_object(om) ? json_object_get(om, "severity") : NULL;
	const char *ts = jstr(ev, "timestamp");
	const char *device = NULL, *what = NULL;
	if (!type)
		goto out;
	if (!strcmp(type, "quarantine")) {
		/* the gateway isolated a host by itself (site.auto-quarantine);
		 * isolations the desk or the list file asked for are not new */
		json_t *q = json_object_get(ev, "quarantine");
		const char *act = json_is_object(q) ? jstr(q, "action") : NULL;
		const char *src = json_is_object(q) ? jstr(q, "source") : NULL;
		if (!act || strcmp(act, "add") || !src || strcmp(src, "auto"))
			goto out;
		device = jstr(q, "host");
		what = jstr(q, "reason");
		sfmt(c.kind, sizeof(c.kind), "quarantine");
	} else if (!strcmp(type, "alert") && cat) {
		json_t *al = json_object_get(ev, "alert");
		int severity = json_is_integer(sev) ? (int)json_integer_value(sev) : 0;
		if (!strcmp(cat, "c2") && severity == 1)
			sfmt(c.kind, sizeof(c.kind), "c2");
		else if (!strcmp(cat, "web_malware") || !strcmp(cat, "mail_malware"))
			sfmt(c.kind, sizeof(c.kind), "malware");
		else
			goto out;
		const char *src = jstr(ev, "src_ip"), *dst = jstr(ev, "dest_ip");
		/* the inside host: the source when it is inside, else the
		 * destination (a download or a received mail), as the gateway's
		 * automatic quarantine decides */
		device = con_desk_inside(src) ? src : con_desk_inside(dst) ? dst : src;
		what = json_is_object(al) ? jstr(al, "signature") : NULL;
	} else {
		goto out;
	}
	if (!device || !con_desk_address_ok(device))
		goto out;
	sfmt(c.device, sizeof(c.device), "%s", device);
	/* control characters out of the text that becomes the title */
	sfmt(c.what, sizeof(c.what), "%s", what && *what ? what : cat ? cat : type);
	for (char *p = c.what; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	if (!ts || om_store_parse_time(ts, &c.ts) < 0)
		c.ts = 0;
	*ret = c;
	r = 0;
out:
	json_decref(ev);
	return r;
}
