/* config.c: the YAML configuration (libyaml). Keys are described once in a
 * table that drives loading, checking and `config show`. An error names the
 * file, the line and the key, and leaves the configuration as it was. */
#include "base/base.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

#define F(m) offsetof(om_base_config, m)
static const om_config_key base_keys[] = {
    {"tenant", OM_CK_STR, F(tenant), sizeof(((om_base_config *)0)->tenant), 1, 0,
     "config.help.tenant", NULL, NULL},
    {"gateway", OM_CK_STR, F(gateway), sizeof(((om_base_config *)0)->gateway), 1, 0,
     "config.help.gateway", NULL, NULL},
    {"state-dir", OM_CK_STR, F(state_dir), sizeof(((om_base_config *)0)->state_dir), 1, 0,
     "config.help.state-dir", NULL, NULL},
    {"home-net", OM_CK_NETS, F(home_net), 0, 0, 0, "config.help.home-net", NULL, NULL},
    {"store.backend", OM_CK_STR, F(store_backend), sizeof(((om_base_config *)0)->store_backend), 1,
     0, "config.help.store.backend", NULL, NULL},
    {"store.dsn", OM_CK_STR, F(store_dsn), sizeof(((om_base_config *)0)->store_dsn), 0, 0,
     "config.help.store.dsn", NULL, NULL},
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

static void base_defaults(void *obj)
{
	om_base_config *c = obj;
	memset(c, 0, sizeof(*c));
	snprintf(c->tenant, sizeof(c->tenant), "default");
	snprintf(c->gateway, sizeof(c->gateway), "gw1");
	default_state_dir(c->state_dir, sizeof(c->state_dir));
	snprintf(c->store_backend, sizeof(c->store_backend), "sqlite");
	for (size_t i = 0; i < OM_ARRAY_SIZE(default_nets); i++)
		om_cidr_parse(default_nets[i], &c->home_net.net[c->home_net.count++]);
}

/* store.backend is sqlite or postgresql; postgresql needs a URL in
 * store.dsn (the store tells the two apart by the URL's scheme). */
static int base_check(om_config_ctx *l, const void *obj)
{
	const om_base_config *c = obj;
	if (strcmp(c->store_backend, "sqlite") != 0 && strcmp(c->store_backend, "postgresql") != 0)
		return om_config_fail(l, NULL, "store.backend", "err.config.store_backend",
		                      c->store_backend);
	if (!strcmp(c->store_backend, "postgresql") &&
	    strncmp(c->store_dsn, "postgresql://", 13) != 0 &&
	    strncmp(c->store_dsn, "postgres://", 11) != 0)
		return om_config_fail(l, NULL, "store.dsn", "err.config.store_dsn");
	return 0;
}

const om_config_schema om_base_config_schema = {
    "base", base_keys, OM_ARRAY_SIZE(base_keys), sizeof(om_base_config), base_defaults, base_check,
};

bool om_config_nets_contains(const om_config_nets *n, const om_addr *a)
{
	for (unsigned i = 0; i < n->count; i++)
		if (om_cidr_contains(&n->net[i], a))
			return true;
	return false;
}

bool om_base_is_home(const om_base_config *c, const om_addr *a)
{
	return om_config_nets_contains(&c->home_net, a);
}

void om_config_defaults(const om_config_part *parts, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (parts[i].schema->defaults)
			parts[i].schema->defaults(parts[i].obj);
		else
			memset(parts[i].obj, 0, parts[i].schema->size);
	}
}

/* ---- loading ------------------------------------------------------------ */

/* A node handed to custom keys is the libyaml node itself. */
struct om_config_ctx {
	yaml_document_t *doc;
	const char *file;
	char *err;
	size_t errlen;
	const om_config_part *parts; /* parts[i].obj are the scratch copies */
	size_t nparts;
};

static const yaml_node_t *Y(const om_config_node *n)
{
	return (const yaml_node_t *)n;
}

static const om_config_node *N(const yaml_node_t *n)
{
	return (const om_config_node *)n;
}

static int vfail(om_config_ctx *l, const yaml_node_t *n, const char *key, const char *msg,
                 va_list ap)
{
	char what[512];
	vsnprintf(what, sizeof(what), om_tr(msg), ap);
	snprintf(l->err, l->errlen, om_tr("err.config.at_key"), l->file,
	         n ? n->start_mark.line + 1 : (size_t)0, key, what);
	return -EINVAL;
}

/* Writes "FILE:LINE: key 'KEY': WHAT", WHAT being the catalogue message msg
 * (a printf format) in the thread's language, filled with the arguments. */
static int load_err(om_config_ctx *l, const yaml_node_t *n, const char *key, const char *msg, ...)
{
	va_list ap;
	va_start(ap, msg);
	int r = vfail(l, n, key, msg, ap);
	va_end(ap);
	return r;
}

int om_config_fail(om_config_ctx *c, const om_config_node *n, const char *key, const char *msg, ...)
{
	va_list ap;
	va_start(ap, msg);
	int r = vfail(c, Y(n), key, msg, ap);
	va_end(ap);
	return r;
}

enum om_config_node_type om_config_node_type(const om_config_node *n)
{
	switch (Y(n)->type) {
	case YAML_SCALAR_NODE: return OM_CN_SCALAR;
	case YAML_SEQUENCE_NODE: return OM_CN_SEQUENCE;
	case YAML_MAPPING_NODE: return OM_CN_MAPPING;
	default: return OM_CN_OTHER;
	}
}

const char *om_config_node_scalar(const om_config_node *n)
{
	const yaml_node_t *y = Y(n);
	if (y->type != YAML_SCALAR_NODE ||
	    strlen((const char *)y->data.scalar.value) != y->data.scalar.length)
		return NULL;
	return (const char *)y->data.scalar.value;
}

size_t om_config_node_line(const om_config_node *n)
{
	return Y(n)->start_mark.line + 1;
}

size_t om_config_node_count(const om_config_node *n)
{
	const yaml_node_t *y = Y(n);
	if (y->type == YAML_SEQUENCE_NODE)
		return (size_t)(y->data.sequence.items.top - y->data.sequence.items.start);
	if (y->type == YAML_MAPPING_NODE)
		return (size_t)(y->data.mapping.pairs.top - y->data.mapping.pairs.start);
	return 0;
}

const om_config_node *om_config_node_item(om_config_ctx *c, const om_config_node *n, size_t i,
                                          const char **ret_key)
{
	const yaml_node_t *y = Y(n);
	if (i >= om_config_node_count(n))
		return NULL;
	if (y->type == YAML_SEQUENCE_NODE)
		return N(yaml_document_get_node(c->doc, y->data.sequence.items.start[i]));
	const yaml_node_pair_t *p = &y->data.mapping.pairs.start[i];
	const yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
	if (!k || k->type != YAML_SCALAR_NODE)
		return NULL;
	if (ret_key)
		*ret_key = (const char *)k->data.scalar.value;
	return N(yaml_document_get_node(c->doc, p->value));
}

const om_config_node *om_config_node_get(om_config_ctx *c, const om_config_node *n, const char *key)
{
	size_t cnt = Y(n)->type == YAML_MAPPING_NODE ? om_config_node_count(n) : 0;
	for (size_t i = 0; i < cnt; i++) {
		const char *k = NULL;
		const om_config_node *v = om_config_node_item(c, n, i, &k);
		if (v && k && strcmp(k, key) == 0)
			return v;
	}
	return NULL;
}

int om_config_node_u64(om_config_ctx *c, const om_config_node *n, const char *key, uint64_t min,
                       uint64_t max, uint64_t *ret)
{
	const char *v = om_config_node_scalar(n);
	if (!v)
		return om_config_fail(c, n, key, "err.config.not_scalar");
	uint64_t x;
	int r = om_parse_u64(v, min, max, &x);
	if (r == -ERANGE)
		return om_config_fail(c, n, key, "err.config.out_of_range", v,
		                      (unsigned long long)min, (unsigned long long)max);
	if (r < 0)
		return om_config_fail(c, n, key, "err.config.not_number", v, "");
	*ret = x;
	return 0;
}

int om_config_node_cidr(om_config_ctx *c, const om_config_node *n, const char *key, om_cidr *ret)
{
	const char *v = om_config_node_scalar(n);
	if (!v)
		return om_config_fail(c, n, key, "err.config.not_scalar");
	if (om_cidr_parse(v, ret) < 0)
		return om_config_fail(c, n, key, "err.config.not_network", v);
	return 0;
}

struct found {
	const om_config_key *key;
	void *obj;
};

static bool find_key(const om_config_ctx *l, const char *path, struct found *ret)
{
	for (size_t p = 0; p < l->nparts; p++) {
		const om_config_schema *s = l->parts[p].schema;
		for (size_t i = 0; i < s->nkeys; i++) {
			if (strcmp(s->keys[i].path, path) == 0) {
				ret->key = &s->keys[i];
				ret->obj = l->parts[p].obj;
				return true;
			}
		}
	}
	return false;
}

static bool is_prefix_of_key(const om_config_ctx *l, const char *path)
{
	size_t n = strlen(path);
	for (size_t p = 0; p < l->nparts; p++) {
		const om_config_schema *s = l->parts[p].schema;
		for (size_t i = 0; i < s->nkeys; i++)
			if (strncmp(s->keys[i].path, path, n) == 0 && s->keys[i].path[n] == '.')
				return true;
	}
	return false;
}

static int set_scalar(om_config_ctx *l, const om_config_key *k, void *obj, const yaml_node_t *n)
{
	if (n->type != YAML_SCALAR_NODE)
		return load_err(l, n, k->path, "err.config.not_scalar");
	const char *v = (const char *)n->data.scalar.value;
	size_t vlen = n->data.scalar.length;
	char *dst = (char *)obj + k->off;
	if (strlen(v) != vlen)
		return load_err(l, n, k->path, "err.config.nul_byte");
	switch (k->kind) {
	case OM_CK_STR:
		if ((vlen == 0 && k->min) || vlen >= k->size) /* min 0: may be empty */
			return load_err(l, n, k->path, "err.config.str_length", k->size - 1);
		memcpy(dst, v, vlen + 1);
		return 0;
	case OM_CK_U32:
	case OM_CK_U64: {
		uint64_t x;
		int r = om_parse_u64(v, k->min, k->max, &x);
		if (r == -ERANGE)
			return load_err(l, n, k->path, "err.config.out_of_range", v,
			                (unsigned long long)k->min, (unsigned long long)k->max);
		if (r < 0)
			return load_err(l, n, k->path, "err.config.not_number", v, om_tr(k->help));
		if (k->kind == OM_CK_U32)
			*(uint32_t *)dst = (uint32_t)x;
		else
			*(uint64_t *)dst = x;
		return 0;
	}
	case OM_CK_BOOL:
		if (!strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "on"))
			*(bool *)dst = true;
		else if (!strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "off"))
			*(bool *)dst = false;
		else
			return load_err(l, n, k->path, "err.config.not_bool", v);
		return 0;
	case OM_CK_NETS:
	case OM_CK_CUSTOM: break;
	}
	return -EINVAL;
}

static int set_nets(om_config_ctx *l, const om_config_key *k, void *obj, yaml_node_t *n)
{
	om_config_nets nets;
	memset(&nets, 0, sizeof(nets)); /* unused entries compare equal */
	if (n->type == YAML_SCALAR_NODE) {
		if (om_cidr_parse((const char *)n->data.scalar.value, &nets.net[0]) < 0)
			return load_err(l, n, k->path, "err.config.not_network",
			                (const char *)n->data.scalar.value);
		nets.count = 1;
	} else if (n->type == YAML_SEQUENCE_NODE) {
		for (yaml_node_item_t *it = n->data.sequence.items.start;
		     it < n->data.sequence.items.top; it++) {
			yaml_node_t *e = yaml_document_get_node(l->doc, *it);
			if (!e || e->type != YAML_SCALAR_NODE)
				return load_err(l, e ? e : n, k->path, "err.config.list_items");
			if (nets.count >= OM_CONFIG_MAX_NETS)
				return load_err(l, e, k->path, "err.config.too_many_nets",
				                OM_CONFIG_MAX_NETS);
			if (om_cidr_parse((const char *)e->data.scalar.value,
			                  &nets.net[nets.count]) < 0)
				return load_err(l, e, k->path, "err.config.not_network",
				                (const char *)e->data.scalar.value);
			nets.count++;
		}
	} else
		return load_err(l, n, k->path, "err.config.not_net_list");
	if (nets.count == 0)
		return load_err(l, n, k->path, "err.config.empty_list");
	memcpy((char *)obj + k->off, &nets, sizeof(nets));
	return 0;
}

static int load_map(om_config_ctx *l, yaml_node_t *map, const char *prefix, int depth)
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
		struct found k;
		int r;
		if (find_key(l, path, &k)) {
			if (k.key->kind == OM_CK_NETS)
				r = set_nets(l, k.key, k.obj, vn);
			else if (k.key->kind == OM_CK_CUSTOM)
				r = k.key->parse(l, N(vn), k.obj);
			else
				r = set_scalar(l, k.key, k.obj, vn);
		} else if (is_prefix_of_key(l, path)) {
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

/* libyaml's document loader takes minutes on a few hundred kilobytes of
 * "[" (its node stack grows one step at a time): the file is walked as
 * events first, and one nested deeper than any configuration needs, or
 * with more nodes than one could hold, is refused before loading. */
#define YAML_MAX_DEPTH 32
#define YAML_MAX_EVENTS 1000000

static int check_shape(om_config_ctx *l, FILE *f)
{
	yaml_parser_t parser;
	yaml_event_t ev;
	int depth = 0, r = 0;
	unsigned long events = 0;
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_file(&parser, f);
	for (;;) {
		if (!yaml_parser_parse(&parser, &ev)) {
			snprintf(l->err, l->errlen, om_tr("err.config.yaml"), l->file,
			         parser.problem_mark.line + 1,
			         parser.problem ? parser.problem : om_tr("err.config.yaml_syntax"));
			r = -EINVAL;
			break;
		}
		yaml_event_type_t t = ev.type;
		size_t line = ev.start_mark.line + 1;
		yaml_event_delete(&ev);
		if (t == YAML_SEQUENCE_START_EVENT || t == YAML_MAPPING_START_EVENT)
			depth++;
		else if (t == YAML_SEQUENCE_END_EVENT || t == YAML_MAPPING_END_EVENT)
			depth--;
		if (depth > YAML_MAX_DEPTH || ++events > YAML_MAX_EVENTS) {
			snprintf(l->err, l->errlen, om_tr("err.config.yaml"), l->file, line,
			         om_tr("err.config.yaml_too_deep"));
			r = -EINVAL;
			break;
		}
		if (t == YAML_STREAM_END_EVENT)
			break;
	}
	yaml_parser_delete(&parser);
	rewind(f);
	return r;
}

/* Reads the file into doc (l->doc), loads it into the parts and runs their
 * checks. */
static int load_doc(om_config_ctx *l, FILE *f)
{
	yaml_parser_t parser;
	yaml_document_t *doc = l->doc;
	int r = check_shape(l, f);
	if (r < 0)
		return r;
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, doc)) {
		snprintf(l->err, l->errlen, om_tr("err.config.yaml"), l->file,
		         parser.problem_mark.line + 1,
		         parser.problem ? parser.problem : om_tr("err.config.yaml_syntax"));
		yaml_parser_delete(&parser);
		return -EINVAL;
	}
	yaml_node_t *root = yaml_document_get_root_node(doc);
	if (!root) {
		/* empty file: defaults stand */
	} else if (root->type != YAML_MAPPING_NODE) {
		r = load_err(l, root, om_tr("config.top_level"), "err.config.top_not_mapping");
	} else {
		r = load_map(l, root, "", 0);
		for (size_t i = 0; r == 0 && i < l->nparts; i++)
			if (l->parts[i].schema->check)
				r = l->parts[i].schema->check(l, l->parts[i].obj);
	}
	yaml_document_delete(doc);
	yaml_parser_delete(&parser);
	return r;
}

int om_config_load(const om_config_part *parts, size_t n, const char *path, char *err,
                   size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		int e = errno;
		snprintf(err, errlen, om_tr("err.config.open"), path, strerror(e));
		return -e;
	}
	/* Every part is read into a scratch copy; the copies replace the
	 * originals only when the whole file was good. */
	om_config_part *tmp = calloc(n ? n : 1, sizeof(*tmp));
	int r = tmp ? 0 : -ENOMEM;
	for (size_t i = 0; r == 0 && i < n; i++) {
		tmp[i].schema = parts[i].schema;
		tmp[i].obj = malloc(parts[i].schema->size);
		if (!tmp[i].obj)
			r = -ENOMEM;
		else
			memcpy(tmp[i].obj, parts[i].obj, parts[i].schema->size);
	}
	if (r == 0) {
		yaml_document_t doc;
		om_config_ctx l = {&doc, path, err, errlen, tmp, n};
		r = load_doc(&l, f);
	} else
		snprintf(err, errlen, om_tr("err.config.open"), path, strerror(-r));
	for (size_t i = 0; tmp && i < n; i++) {
		if (r == 0 && tmp[i].obj)
			memcpy(parts[i].obj, tmp[i].obj, parts[i].schema->size);
		free(tmp[i].obj);
	}
	free(tmp);
	fclose(f);
	return r;
}

/* ---- dump --------------------------------------------------------------- */

static void dump_value(const void *obj, const om_config_key *k, om_buf *out, int indent)
{
	const char *src = (const char *)obj + k->off;
	switch (k->kind) {
	case OM_CK_STR:
		om_buf_putc(out, ' ');
		om_json_escape(out, src, strlen(src)); /* JSON strings are valid YAML */
		break;
	case OM_CK_U32: om_buf_printf(out, " %u", *(const uint32_t *)src); break;
	case OM_CK_U64:
		om_buf_printf(out, " %llu", (unsigned long long)*(const uint64_t *)src);
		break;
	case OM_CK_BOOL: om_buf_puts(out, *(const bool *)src ? " true" : " false"); break;
	case OM_CK_NETS: {
		const om_config_nets *nets = (const om_config_nets *)(const void *)src;
		for (unsigned i = 0; i < nets->count; i++) {
			char a[64];
			const om_cidr *n = &nets->net[i];
			om_addr_str(&n->addr, a, sizeof(a));
			unsigned p = om_addr_is_v4(&n->addr) && n->prefix >= 96 ? n->prefix - 96u
			                                                        : n->prefix;
			om_buf_printf(out, "\n%*s- %s/%u", indent + 2, "", a, p);
		}
		break;
	}
	case OM_CK_CUSTOM: k->dump(obj, out, indent); break;
	}
}

void om_config_dump(const om_config_part *parts, size_t n, om_buf *out)
{
	char prev[128] = "";
	for (size_t pi = 0; pi < n; pi++) {
		const om_config_schema *s = parts[pi].schema;
		for (size_t i = 0; i < s->nkeys; i++) {
			const char *path = s->keys[i].path;
			/* print the mapping headers that change from the previous key */
			const char *p = path, *q = prev;
			int depth = 0;
			/* skip common leading segments */
			while (1) {
				const char *pd = strchr(p, '.');
				const char *qd = strchr(q, '.');
				if (!pd || !qd || pd - p != qd - q ||
				    strncmp(p, q, (size_t)(pd - p)) != 0)
					break;
				p = pd + 1;
				q = qd + 1;
				depth++;
			}
			const char *seg = p;
			const char *dot;
			while ((dot = strchr(seg, '.')) != NULL) {
				om_buf_printf(out, "%*s%.*s:\n", depth * 2, "", (int)(dot - seg),
				              seg);
				seg = dot + 1;
				depth++;
			}
			om_buf_printf(out, "%*s%s:", depth * 2, "", seg);
			dump_value(parts[pi].obj, &s->keys[i], out, depth * 2);
			om_buf_printf(out, "  # %s\n", om_tr(s->keys[i].help));
			snprintf(prev, sizeof(prev), "%s", path);
		}
	}
}
