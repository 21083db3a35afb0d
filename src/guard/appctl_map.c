/* appctl_map.c: application groups (the group map text), the per-tenant
 * application policy and the "app" object of events. The map is operator
 * data: every line is checked, a bad one is refused with its number. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "guard/appctl_internal.h"
#include "guard/guard.h"

static const char *const group_names[OM_APP_G_COUNT] = {
    [OM_APP_G_REMOTE_ACCESS] = "remote_access",
    [OM_APP_G_ONLINE_STORAGE] = "online_storage",
    [OM_APP_G_P2P] = "p2p",
    [OM_APP_G_SNS] = "sns",
    [OM_APP_G_WEBMAIL] = "webmail",
    [OM_APP_G_CLOUD_INPUT] = "cloud_input",
    [OM_APP_G_VPN_PROXY] = "vpn_proxy",
    [OM_APP_G_GAMES] = "games",
};

const char *om_app_group_name(enum om_app_group g)
{
	return (unsigned)g < OM_APP_G_COUNT ? group_names[g] : NULL;
}

int om_app_group_from_name(const char *s)
{
	for (int g = 1; s && g < OM_APP_G_COUNT; g++)
		if (!strcmp(s, group_names[g]))
			return g;
	return -ENOENT;
}

static const char *const action_names[] = {NULL, "allow", "log", "block"};

const char *om_app_action_name(enum om_app_action a)
{
	return (unsigned)a < OM_ARRAY_SIZE(action_names) ? action_names[a] : NULL;
}

int om_app_action_from_name(const char *s)
{
	for (int a = 1; s && a < (int)OM_ARRAY_SIZE(action_names); a++)
		if (!strcmp(s, action_names[a]))
			return a;
	return -ENOENT;
}

/* ---- the map ------------------------------------------------------------ */

static int add_entry(om_app_map *m, enum app_map_kind kind, int group, const char *name,
                     const char *app)
{
	if (m->n == OM_APPCTL_MAP_MAX)
		return -ENOSPC;
	struct app_map_entry *e = &m->e[m->n];
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->group = (uint8_t)group;
	if (kind == APP_MAP_HOST) {
		int n = om_wf_norm_host(name, strlen(name), e->host, sizeof(e->host));
		if (n < 0)
			return n;
		e->host_len = (uint16_t)n;
	} else {
		if (strlen(name) >= sizeof(e->name))
			return -ENAMETOOLONG;
		memcpy(e->name, name, strlen(name) + 1);
	}
	if (app) {
		if (strlen(app) >= sizeof(e->name))
			return -ENAMETOOLONG;
		memcpy(e->name, app, strlen(app) + 1);
	}
	m->n++;
	return 0;
}

/* Splits a line (NUL-terminated, comment cut) into at most max words. */
static unsigned split_words(char *s, char **w, unsigned max)
{
	unsigned n = 0;
	while (*s) {
		while (*s == ' ' || *s == '\t' || *s == '\r')
			s++;
		if (!*s)
			break;
		if (n == max)
			return max + 1;
		w[n++] = s;
		while (*s && *s != ' ' && *s != '\t' && *s != '\r')
			s++;
		if (*s)
			*s++ = '\0';
	}
	return n;
}

static bool name_ok(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("_-.()+", *s))
			return false;
	return true;
}

#define LINE_MAX_BYTES 512

int om_app_map_parse(const char *text, size_t len, om_app_map **ret, char *err, size_t errlen)
{
	om_app_map *m = calloc(1, sizeof(*m));
	if (!m) {
		snprintf(err, errlen, "%s", om_tr("err.nomem"));
		return -ENOMEM;
	}
	size_t pos = 0, lineno = 0;
	int r = 0;
	while (pos < len) {
		size_t end = pos;
		while (end < len && text[end] != '\n')
			end++;
		lineno++;
		size_t n = end - pos;
		char line[LINE_MAX_BYTES];
		if (n >= sizeof(line)) {
			snprintf(err, errlen, om_tr("appctl.err.map_long"), (unsigned long)lineno,
			         LINE_MAX_BYTES - 1);
			r = -EINVAL;
			goto fail;
		}
		memcpy(line, text + pos, n);
		line[n] = '\0';
		pos = end + 1;
		if (memchr(line, '\0', n)) {
			snprintf(err, errlen, om_tr("appctl.err.map_line"), (unsigned long)lineno);
			r = -EINVAL;
			goto fail;
		}
		char *hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		char *w[4];
		unsigned nw = split_words(line, w, 4);
		if (nw == 0)
			continue;
		int g = nw >= 3 ? om_app_group_from_name(w[0]) : -ENOENT;
		if (nw < 3 || nw > 4 || g < 0) {
			snprintf(err, errlen, om_tr("appctl.err.map_line"), (unsigned long)lineno);
			r = -EINVAL;
			goto fail;
		}
		enum app_map_kind kind;
		if (!strcmp(w[1], "app") && nw == 3 && name_ok(w[2]))
			kind = APP_MAP_APP;
		else if (!strcmp(w[1], "category") && nw == 3 && name_ok(w[2]))
			kind = APP_MAP_CATEGORY;
		else if (!strcmp(w[1], "host") && (nw == 3 || name_ok(w[3])))
			kind = APP_MAP_HOST;
		else {
			snprintf(err, errlen, om_tr("appctl.err.map_line"), (unsigned long)lineno);
			r = -EINVAL;
			goto fail;
		}
		r = add_entry(m, kind, g, w[2], nw == 4 ? w[3] : NULL);
		if (r == -ENOSPC) {
			snprintf(err, errlen, om_tr("appctl.err.map_full"), OM_APPCTL_MAP_MAX);
			goto fail;
		}
		if (r < 0) {
			snprintf(err, errlen, om_tr("appctl.err.map_line"), (unsigned long)lineno);
			r = -EINVAL;
			goto fail;
		}
	}
	*ret = m;
	return 0;
fail:
	free(m);
	return r;
}

extern const char om_appctl_groups_builtin[];
extern const size_t om_appctl_groups_builtin_len;

int om_app_map_builtin(om_app_map **ret, char *err, size_t errlen)
{
	return om_app_map_parse(om_appctl_groups_builtin, om_appctl_groups_builtin_len, ret, err,
	                        errlen);
}

om_app_map *om_app_map_free(om_app_map *m)
{
	free(m);
	return NULL;
}

size_t om_app_map_count(const om_app_map *m)
{
	return m ? m->n : 0;
}

enum om_app_group om_app_map_host(const om_app_map *m, const char *host, size_t len,
                                  const char **ret_app)
{
	char h[OM_APPCTL_HOST_MAX];
	int n = m ? om_wf_norm_host(host, len, h, sizeof(h)) : -EINVAL;
	if (n <= 0)
		return OM_APP_G_NONE;
	const struct app_map_entry *best = NULL;
	for (size_t i = 0; i < m->n; i++) {
		const struct app_map_entry *e = &m->e[i];
		if (e->kind != APP_MAP_HOST || e->host_len > (size_t)n)
			continue;
		size_t off = (size_t)n - e->host_len;
		if (memcmp(h + off, e->host, e->host_len) != 0 || (off > 0 && h[off - 1] != '.'))
			continue;
		if (!best || e->host_len > best->host_len)
			best = e;
	}
	if (!best)
		return OM_APP_G_NONE;
	if (ret_app)
		*ret_app = best->name[0] ? best->name : NULL;
	return (enum om_app_group)best->group;
}

/* ---- policy ------------------------------------------------------------- */

enum om_app_action om_app_policy_decide(const om_app_policy *p, const char *app, const char *proto,
                                        enum om_app_group g)
{
	if (!p)
		return OM_APP_ACT_NONE;
	for (uint32_t i = 0; i < p->napps && i < OM_APPCTL_POLICY_APPS; i++)
		if (app && !strcasecmp(p->app[i].name, app))
			return (enum om_app_action)p->app[i].action;
	for (uint32_t i = 0; i < p->napps && i < OM_APPCTL_POLICY_APPS; i++)
		if (proto && !strcasecmp(p->app[i].name, proto))
			return (enum om_app_action)p->app[i].action;
	if ((unsigned)g < OM_APP_G_COUNT)
		return (enum om_app_action)p->group[g];
	return OM_APP_ACT_NONE;
}

int om_app_policy_set(om_app_policy *p, const char *name, enum om_app_action a)
{
	size_t n = name ? strlen(name) : 0;
	if (n == 0 || n >= OM_APPCTL_NAME_MAX)
		return -EINVAL;
	int g = om_app_group_from_name(name);
	if (g > 0) {
		p->group[g] = (uint8_t)a;
		return 0;
	}
	for (uint32_t i = 0; i < p->napps; i++) {
		if (!strcasecmp(p->app[i].name, name)) {
			p->app[i].action = (uint8_t)a;
			return 0;
		}
	}
	if (p->napps >= OM_APPCTL_POLICY_APPS)
		return -ENOSPC;
	memcpy(p->app[p->napps].name, name, n + 1);
	p->app[p->napps].action = (uint8_t)a;
	p->napps++;
	return 0;
}

void om_app_info_json(om_json *j, const om_app_info *a)
{
	om_json_obj_open(j, "app");
	if (a->proto)
		om_json_str(j, "proto", a->proto);
	if (a->app)
		om_json_str(j, "name", a->app);
	if (a->category)
		om_json_str(j, "category", a->category);
	if (a->group != OM_APP_G_NONE)
		om_json_str(j, "group", om_app_group_name(a->group));
	om_json_obj_close(j);
}
