/* config.c: the YAML configuration (libyaml). Keys are described once in a
 * table that drives loading, checking and `config show`. An error names the
 * file, the line and the key, and leaves the configuration as it was. */
#include "base/base.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

enum ckind { C_STR, C_U32, C_U64, C_BOOL, C_NETS, C_POLICY, C_POLICIES };

struct ckey {
	const char *path; /* dotted */
	enum ckind kind;
	size_t off;
	size_t size; /* for strings */
	uint64_t min, max;
	const char *help; /* catalogue key of the one-line help */
};

#define F(m) offsetof(om_config, m)
static const struct ckey keys[] = {
    {"tenant", C_STR, F(tenant), sizeof(((om_config *)0)->tenant), 1, 0, "config.help.tenant"},
    {"gateway", C_STR, F(gateway), sizeof(((om_config *)0)->gateway), 1, 0, "config.help.gateway"},
    {"state-dir", C_STR, F(state_dir), sizeof(((om_config *)0)->state_dir), 1, 0,
     "config.help.state-dir"},
    {"home-net", C_NETS, F(home_net), 0, 0, 0, "config.help.home-net"},
    {"flow.max-flows", C_U64, F(flow_max), 0, 16, 1ull << 26, "config.help.flow.max-flows"},
    {"flow.hash-size", C_U64, F(flow_hash_size), 0, 0, 1ull << 28, "config.help.flow.hash-size"},
    {"flow.timeouts.new", C_U32, F(flow_timeout_new), 0, 1, 86400, "config.help.flow.timeouts.new"},
    {"flow.timeouts.established", C_U32, F(flow_timeout_est), 0, 1, 86400,
     "config.help.flow.timeouts.established"},
    {"flow.timeouts.closed", C_U32, F(flow_timeout_closed), 0, 1, 86400,
     "config.help.flow.timeouts.closed"},
    {"flow.timeouts.udp", C_U32, F(flow_timeout_udp), 0, 1, 86400, "config.help.flow.timeouts.udp"},
    {"flow.timeouts.icmp", C_U32, F(flow_timeout_icmp), 0, 1, 86400,
     "config.help.flow.timeouts.icmp"},
    {"stream.depth", C_U64, F(stream_depth), 0, 0, UINT64_MAX, "config.help.stream.depth"},
    {"stream.memcap", C_U64, F(stream_memcap), 0, 65536, 1ull << 40, "config.help.stream.memcap"},
    {"stream.flow-memcap", C_U64, F(stream_flow_memcap), 0, 4096, 1ull << 40,
     "config.help.stream.flow-memcap"},
    {"stream.overlap-window", C_U32, F(stream_overlap_window), 0, 0, 65536,
     "config.help.stream.overlap-window"},
    {"stream.default-policy", C_POLICY, F(stream_default_policy),
     sizeof(((om_config *)0)->stream_default_policy), 0, 0, "config.help.stream.default-policy"},
    {"stream.policies", C_POLICIES, F(stream_policies), 0, 0, 0, "config.help.stream.policies"},
    {"defrag.memcap", C_U64, F(defrag_memcap), 0, 65536, 1ull << 40, "config.help.defrag.memcap"},
    {"defrag.timeout", C_U32, F(defrag_timeout), 0, 1, 3600, "config.help.defrag.timeout"},
    {"defrag.max-trackers", C_U32, F(defrag_max_trackers), 0, 1, 1u << 24,
     "config.help.defrag.max-trackers"},
    {"recon.window", C_U32, F(recon_window), 0, 1, 86400, "config.help.recon.window"},
    {"recon.vertical-ports", C_U32, F(recon_vertical_ports), 0, 2, 65536,
     "config.help.recon.vertical-ports"},
    {"recon.horizontal-hosts", C_U32, F(recon_horizontal_hosts), 0, 2, 1u << 24,
     "config.help.recon.horizontal-hosts"},
    {"recon.sweep-hosts", C_U32, F(recon_sweep_hosts), 0, 2, 1u << 24,
     "config.help.recon.sweep-hosts"},
    {"recon.max-sources", C_U32, F(recon_max_sources), 0, 16, 1u << 24,
     "config.help.recon.max-sources"},
    {"stats-interval", C_U32, F(stats_interval), 0, 1, 86400, "config.help.stats-interval"},
    {"eve.rotate-size", C_U64, F(eve_rotate_bytes), 0, 0, UINT64_MAX,
     "config.help.eve.rotate-size"},
    {"eve.rotate-daily", C_BOOL, F(eve_rotate_daily), 0, 0, 0, "config.help.eve.rotate-daily"},
};
#undef F

static const char *const default_nets[] = {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
                                           "fc00::/7"};

static void default_state_dir(char *out, size_t n)
{
	const char *env = getenv("OMAMORI_STATE_DIR");
	if (env && *env) {
		snprintf(out, n, "%s", env);
		return;
	}
	if (geteuid() == 0) {
		snprintf(out, n, "/var/lib/omamori");
		return;
	}
	const char *xdg = getenv("XDG_STATE_HOME");
	const char *home = getenv("HOME");
	if (xdg && *xdg)
		snprintf(out, n, "%s/omamori", xdg);
	else if (home && *home)
		snprintf(out, n, "%s/.local/state/omamori", home);
	else
		snprintf(out, n, "./omamori-state");
}

void om_config_defaults(om_config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->tenant, sizeof(c->tenant), "default");
	snprintf(c->gateway, sizeof(c->gateway), "gw1");
	default_state_dir(c->state_dir, sizeof(c->state_dir));
	for (size_t i = 0; i < OM_ARRAY_SIZE(default_nets); i++)
		om_cidr_parse(default_nets[i], &c->home_net[c->home_net_count++]);
	c->flow_max = 262144;
	c->flow_hash_size = 0;
	c->flow_timeout_new = 30;
	c->flow_timeout_est = 300;
	c->flow_timeout_closed = 10;
	c->flow_timeout_udp = 60;
	c->flow_timeout_icmp = 30;
	c->stream_depth = 1024 * 1024;
	c->stream_memcap = 64ull * 1024 * 1024;
	c->stream_flow_memcap = 4ull * 1024 * 1024;
	c->stream_overlap_window = 1024;
	snprintf(c->stream_default_policy, sizeof(c->stream_default_policy), "bsd");
	c->stream_policy_count = 0;
	c->defrag_memcap = 32ull * 1024 * 1024;
	c->defrag_timeout = 60;
	c->defrag_max_trackers = 65536;
	c->recon_window = 60;
	c->recon_vertical_ports = 20;
	c->recon_horizontal_hosts = 20;
	c->recon_sweep_hosts = 10;
	c->recon_max_sources = 65536;
	c->stats_interval = 300;
	c->eve_rotate_bytes = 0;
	c->eve_rotate_daily = false;
}

bool om_config_is_home(const om_config *c, const om_addr *a)
{
	for (unsigned i = 0; i < c->home_net_count; i++)
		if (om_cidr_contains(&c->home_net[i], a))
			return true;
	return false;
}

/* ---- loading ------------------------------------------------------------ */

struct loader {
	yaml_document_t *doc;
	const char *file;
	char *err;
	size_t errlen;
	om_config *c;
};

/* Writes "FILE:LINE: key 'KEY': WHAT", WHAT being the catalogue message msg
 * (a printf format) in the thread's language, filled with the arguments. */
static int load_err(struct loader *l, const yaml_node_t *n, const char *key, const char *msg, ...)
{
	char what[512];
	va_list ap;
	va_start(ap, msg);
	vsnprintf(what, sizeof(what), om_tr(msg), ap);
	va_end(ap);
	snprintf(l->err, l->errlen, om_tr("err.config.at_key"), l->file,
	         n ? n->start_mark.line + 1 : (size_t)0, key, what);
	return -EINVAL;
}

static const struct ckey *find_key(const char *path)
{
	for (size_t i = 0; i < OM_ARRAY_SIZE(keys); i++)
		if (strcmp(keys[i].path, path) == 0)
			return &keys[i];
	return NULL;
}

static bool is_prefix_of_key(const char *path)
{
	size_t n = strlen(path);
	for (size_t i = 0; i < OM_ARRAY_SIZE(keys); i++)
		if (strncmp(keys[i].path, path, n) == 0 && keys[i].path[n] == '.')
			return true;
	return false;
}

/* ---- stream: overlap policies -------------------------------------------- */
/* The names the TCP stream knows (net's om_stream_policy_parse reads the
 * same spellings; a unit test checks that they agree). */
static const char *const stream_policy_names[] = {
    "bsd",    "first", "last",  "linux",   "old-linux", "solaris",    "hpux10",
    "hpux11", "irix",  "macos", "windows", "vista",     "windows2k3",
};
#define STREAM_POLICY_LIST                                                                         \
	"first, last, bsd, linux, old-linux, solaris, hpux10, hpux11, irix, macos, windows, "      \
	"vista, windows2k3"

static bool stream_policy_known(const char *v)
{
	for (size_t i = 0; i < OM_ARRAY_SIZE(stream_policy_names); i++)
		if (!strcmp(v, stream_policy_names[i]))
			return true;
	return false;
}

static const char *scalar_of(const yaml_node_t *n)
{
	if (!n || n->type != YAML_SCALAR_NODE ||
	    strlen((const char *)n->data.scalar.value) != n->data.scalar.length)
		return NULL;
	return (const char *)n->data.scalar.value;
}

/* stream.policies: a list of {net: CIDR, policy: NAME}. */
static int set_policies(struct loader *l, const struct ckey *k, yaml_node_t *n)
{
	struct om_config_policy pol[OM_CONFIG_MAX_NETS];
	unsigned count = 0;
	memset(pol, 0, sizeof(pol)); /* the whole entries are copied */
	if (n->type != YAML_SEQUENCE_NODE)
		return load_err(l, n, k->path, "err.config.policy_item");
	for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
	     it++) {
		yaml_node_t *e = yaml_document_get_node(l->doc, *it);
		if (!e || e->type != YAML_MAPPING_NODE)
			return load_err(l, e ? e : n, k->path, "err.config.policy_item");
		if (count >= OM_CONFIG_MAX_NETS)
			return load_err(l, e, k->path, "err.config.too_many_nets",
			                OM_CONFIG_MAX_NETS);
		const char *net = NULL, *name = NULL;
		const yaml_node_t *netn = e, *namen = e;
		for (yaml_node_pair_t *p = e->data.mapping.pairs.start;
		     p < e->data.mapping.pairs.top; p++) {
			yaml_node_t *kn = yaml_document_get_node(l->doc, p->key);
			yaml_node_t *vn = yaml_document_get_node(l->doc, p->value);
			const char *key = scalar_of(kn), *val = scalar_of(vn);
			if (!key || !val)
				return load_err(l, kn ? kn : e, k->path, "err.config.policy_item");
			if (!strcmp(key, "net")) {
				net = val;
				netn = vn;
			} else if (!strcmp(key, "policy")) {
				name = val;
				namen = vn;
			} else {
				return load_err(l, kn, k->path, "err.config.policy_item");
			}
		}
		if (!net || !name)
			return load_err(l, e, k->path, "err.config.policy_item");
		if (om_cidr_parse(net, &pol[count].net) < 0)
			return load_err(l, netn, k->path, "err.config.not_network", net);
		if (!stream_policy_known(name) || strlen(name) >= sizeof(pol[count].policy))
			return load_err(l, namen, k->path, "err.config.unknown_policy", name,
			                STREAM_POLICY_LIST);
		snprintf(pol[count].policy, sizeof(pol[count].policy), "%s", name);
		count++;
	}
	memcpy(l->c->stream_policies, pol, sizeof(pol[0]) * count);
	l->c->stream_policy_count = count;
	return 0;
}

static void dump_cidr(const om_cidr *n, om_buf *out)
{
	char a[64];
	om_addr_str(&n->addr, a, sizeof(a));
	unsigned p = om_addr_is_v4(&n->addr) && n->prefix >= 96 ? n->prefix - 96u : n->prefix;
	om_buf_printf(out, "%s/%u", a, p);
}

static void dump_policies(const om_config *c, om_buf *out)
{
	if (!c->stream_policy_count) {
		om_buf_puts(out, " []");
		return;
	}
	for (unsigned i = 0; i < c->stream_policy_count; i++) {
		om_buf_puts(out, "\n  - {net: ");
		dump_cidr(&c->stream_policies[i].net, out);
		om_buf_printf(out, ", policy: %s}", c->stream_policies[i].policy);
	}
}

static int set_scalar(struct loader *l, const struct ckey *k, const yaml_node_t *n)
{
	if (n->type != YAML_SCALAR_NODE)
		return load_err(l, n, k->path, "err.config.not_scalar");
	const char *v = (const char *)n->data.scalar.value;
	size_t vlen = n->data.scalar.length;
	char *dst = (char *)l->c + k->off;
	if (strlen(v) != vlen)
		return load_err(l, n, k->path, "err.config.nul_byte");
	switch (k->kind) {
	case C_STR:
		if (vlen == 0 || vlen >= k->size)
			return load_err(l, n, k->path, "err.config.str_length", k->size - 1);
		memcpy(dst, v, vlen + 1);
		return 0;
	case C_U32:
	case C_U64: {
		uint64_t x;
		int r = om_parse_u64(v, k->min, k->max, &x);
		if (r == -ERANGE)
			return load_err(l, n, k->path, "err.config.out_of_range", v,
			                (unsigned long long)k->min, (unsigned long long)k->max);
		if (r < 0)
			return load_err(l, n, k->path, "err.config.not_number", v, om_tr(k->help));
		if (k->kind == C_U32)
			*(uint32_t *)dst = (uint32_t)x;
		else
			*(uint64_t *)dst = x;
		return 0;
	}
	case C_BOOL:
		if (!strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "on"))
			*(bool *)dst = true;
		else if (!strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "off"))
			*(bool *)dst = false;
		else
			return load_err(l, n, k->path, "err.config.not_bool", v);
		return 0;
	case C_POLICY:
		if (!stream_policy_known(v))
			return load_err(l, n, k->path, "err.config.unknown_policy", v,
			                STREAM_POLICY_LIST);
		memcpy(dst, v, vlen + 1);
		return 0;
	case C_NETS:
	case C_POLICIES: break;
	}
	return -EINVAL;
}

static int set_nets(struct loader *l, const struct ckey *k, yaml_node_t *n)
{
	om_cidr nets[OM_CONFIG_MAX_NETS];
	unsigned count = 0;
	if (n->type == YAML_SCALAR_NODE) {
		if (om_cidr_parse((const char *)n->data.scalar.value, &nets[0]) < 0)
			return load_err(l, n, k->path, "err.config.not_network",
			                (const char *)n->data.scalar.value);
		count = 1;
	} else if (n->type == YAML_SEQUENCE_NODE) {
		for (yaml_node_item_t *it = n->data.sequence.items.start;
		     it < n->data.sequence.items.top; it++) {
			yaml_node_t *e = yaml_document_get_node(l->doc, *it);
			if (!e || e->type != YAML_SCALAR_NODE)
				return load_err(l, e ? e : n, k->path, "err.config.list_items");
			if (count >= OM_CONFIG_MAX_NETS)
				return load_err(l, e, k->path, "err.config.too_many_nets",
				                OM_CONFIG_MAX_NETS);
			if (om_cidr_parse((const char *)e->data.scalar.value, &nets[count]) < 0)
				return load_err(l, e, k->path, "err.config.not_network",
				                (const char *)e->data.scalar.value);
			count++;
		}
	} else
		return load_err(l, n, k->path, "err.config.not_net_list");
	if (count == 0)
		return load_err(l, n, k->path, "err.config.empty_list");
	memcpy(l->c->home_net, nets, sizeof(nets[0]) * count);
	l->c->home_net_count = count;
	return 0;
}

static int load_map(struct loader *l, yaml_node_t *map, const char *prefix, int depth)
{
	if (depth > 8)
		return load_err(l, map, prefix, "err.config.too_deep");
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *kn = yaml_document_get_node(l->doc, p->key);
		yaml_node_t *vn = yaml_document_get_node(l->doc, p->value);
		if (!kn || !vn || kn->type != YAML_SCALAR_NODE)
			return load_err(l, kn, prefix, "err.config.key_not_scalar");
		char path[128];
		int pl = snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "",
		                  (const char *)kn->data.scalar.value);
		if (pl < 0 || (size_t)pl >= sizeof(path))
			return load_err(l, kn, prefix, "err.config.key_too_long");
		const struct ckey *k = find_key(path);
		int r;
		if (k && k->kind == C_NETS)
			r = set_nets(l, k, vn);
		else if (k && k->kind == C_POLICIES)
			r = set_policies(l, k, vn);
		else if (k)
			r = set_scalar(l, k, vn);
		else if (is_prefix_of_key(path)) {
			if (vn->type != YAML_MAPPING_NODE)
				return load_err(l, vn, path, "err.config.not_mapping");
			r = load_map(l, vn, path, depth + 1);
		} else
			return load_err(l, kn, path, "err.config.unknown_key");
		if (r < 0)
			return r;
	}
	return 0;
}

static int config_check(struct loader *l)
{
	om_config *c = l->c;
	if (c->flow_hash_size && (c->flow_hash_size & (c->flow_hash_size - 1)))
		return load_err(l, NULL, "flow.hash-size", "err.config.not_power_of_two");
	if (c->stream_flow_memcap > c->stream_memcap)
		return load_err(l, NULL, "stream.flow-memcap", "err.config.flow_memcap_over",
		                (unsigned long long)c->stream_flow_memcap,
		                (unsigned long long)c->stream_memcap);
	return 0;
}

int om_config_load(om_config *c, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		int e = errno;
		snprintf(err, errlen, om_tr("err.config.open"), path, strerror(e));
		return -e;
	}
	yaml_parser_t parser;
	yaml_document_t doc;
	om_config tmp = *c;
	struct loader l = {&doc, path, err, errlen, &tmp};
	int r = 0;
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &doc)) {
		snprintf(err, errlen, om_tr("err.config.yaml"), path, parser.problem_mark.line + 1,
		         parser.problem ? parser.problem : om_tr("err.config.yaml_syntax"));
		yaml_parser_delete(&parser);
		fclose(f);
		return -EINVAL;
	}
	yaml_node_t *root = yaml_document_get_root_node(&doc);
	if (!root) {
		/* empty file: defaults stand */
	} else if (root->type != YAML_MAPPING_NODE) {
		r = load_err(&l, root, om_tr("config.top_level"), "err.config.top_not_mapping");
	} else {
		r = load_map(&l, root, "", 0);
		if (r == 0)
			r = config_check(&l);
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	fclose(f);
	if (r == 0)
		*c = tmp;
	return r;
}

/* ---- dump --------------------------------------------------------------- */

static void dump_value(const om_config *c, const struct ckey *k, om_buf *out)
{
	const char *src = (const char *)c + k->off;
	switch (k->kind) {
	case C_STR:
		om_buf_putc(out, ' ');
		om_json_escape(out, src, strlen(src)); /* JSON strings are valid YAML */
		break;
	case C_U32: om_buf_printf(out, " %u", *(const uint32_t *)src); break;
	case C_U64: om_buf_printf(out, " %llu", (unsigned long long)*(const uint64_t *)src); break;
	case C_BOOL: om_buf_puts(out, *(const bool *)src ? " true" : " false"); break;
	case C_POLICY: om_buf_printf(out, " %s", src); break;
	case C_POLICIES: dump_policies(c, out); break;
	case C_NETS:
		for (unsigned i = 0; i < c->home_net_count; i++) {
			char a[64];
			const om_cidr *n = &c->home_net[i];
			om_addr_str(&n->addr, a, sizeof(a));
			unsigned p = om_addr_is_v4(&n->addr) && n->prefix >= 96 ? n->prefix - 96u
			                                                        : n->prefix;
			om_buf_printf(out, "\n  - %s/%u", a, p);
		}
		break;
	}
}

void om_config_dump(const om_config *c, om_buf *out)
{
	char prev[128] = "";
	for (size_t i = 0; i < OM_ARRAY_SIZE(keys); i++) {
		const char *path = keys[i].path;
		/* print the mapping headers that change from the previous key */
		const char *p = path, *q = prev;
		int depth = 0;
		const char *seg = path;
		/* skip common leading segments */
		while (1) {
			const char *pd = strchr(p, '.');
			const char *qd = strchr(q, '.');
			if (!pd || !qd || pd - p != qd - q || strncmp(p, q, (size_t)(pd - p)) != 0)
				break;
			p = pd + 1;
			q = qd + 1;
			depth++;
		}
		seg = p;
		const char *dot;
		while ((dot = strchr(seg, '.')) != NULL) {
			om_buf_printf(out, "%*s%.*s:\n", depth * 2, "", (int)(dot - seg), seg);
			seg = dot + 1;
			depth++;
		}
		om_buf_printf(out, "%*s%s:", depth * 2, "", seg);
		dump_value(c, &keys[i], out);
		om_buf_printf(out, "  # %s\n", om_tr(keys[i].help));
		snprintf(prev, sizeof(prev), "%s", path);
	}
}
