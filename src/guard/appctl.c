/* appctl.c: per-flow application identification with nDPI. Each worker
 * has its own nDPI module and two capped tables: the flows it follows
 * (open addressing keyed by the flow, holding what was identified) and the
 * nDPI states of the flows still in detection (a preallocated pool). A
 * flow's packets go to nDPI until its identification is final (an
 * application found, nothing more to dissect, or max_packets); then its
 * nDPI state goes back to the pool and only the result stays, until the
 * flow ends. */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ndpi/ndpi_api.h>

#include "guard/appctl_internal.h"
#include "guard/fpcache.h"
#include "guard/guard.h"

#define F_FINAL 0x01
#define F_REPORTED 0x02

struct slot {
	const om_flow *f; /* NULL: empty */
	uint64_t flow_id;
	uint32_t det; /* nDPI state: pool index + 1; 0: none */
	uint16_t master, app, cat;
	uint16_t carrier; /* nDPI's id of the protocol our parser found; 0: none */
	uint16_t pkts;
	uint16_t json; /* the rendered app object: cache index + 1; 0: none */
	uint8_t group, action, flags;
	const char *host_app; /* the application of a host rule, or NULL */
};

/* The "app" objects of final identifications, rendered once: an office's
 * flows have a few hundred distinct ones, and every event of a flow
 * carries its own (a hard cap; past it, objects are written each time). */
#define JSON_CACHE 1024
#define JSON_TEXT 240
struct json_entry {
	uint16_t master, app, cat;
	uint8_t group, used;
	const char *host_app;
	uint16_t len;
	char text[JSON_TEXT];
};

/* Addresses whose nDPI IP-list answer a worker remembers: sets of 4 (32
 * bytes, newest first), 16384 addresses in all (an office's 512 MiB has
 * some 20 000). */
#define IP_MEMO_SETS 4096u
#define IP_MEMO_WAYS 4u

/* What nDPI's host lists and the map's host rules say of a server name,
 * remembered per worker (both are fixed while it runs; an office's flows
 * go to the same servers again: 14 000 names for 36 000 TLS and HTTP
 * flows in the benchmark's capture): sets of 4, newest first, 8192 names
 * in all, by a keyed 64-bit fingerprint of the normalised name. */
#define HOST_MEMO_SETS 2048u
#define HOST_MEMO_WAYS 4u
struct host_memo {
	uint64_t fp;          /* 0: empty */
	const char *host_app; /* the map's application (group set), or NULL */
	uint16_t app, cat;    /* nDPI's host-list match (0: none), its category */
	uint8_t group;        /* the map's host rule (OM_APP_G_NONE: none) */
};

/* The flow table's first size (slots; it doubles when half full). */
#define TAB_START 4096u

/* The UDP services named by their port (port_proto): DNS, mDNS, NTP. */
#define PORT_SERVICES 3

struct om_appctl_worker {
	const om_appctl *ac;
	struct ndpi_detection_module_struct *nd;
	uint32_t nproto;
	uint8_t *grp_proto; /* group by nDPI protocol id (nproto) */
	uint8_t grp_cat[256];
	struct slot *tab;
	uint32_t mask, used, cap;
	uint32_t max_size; /* of tab: the power of two at least twice cap */
	uint8_t *pool;     /* max_detect nDPI flow states */
	size_t fsize;
	uint32_t *freel, nfree;
	om_appctl_stats st;
	/* the last flow looked up: the events a packet raises ask for the
	 * flow that packet just went through (reset when slots move) */
	const om_flow *last_f;
	struct slot *last_s;
	char last_ap[16];        /* the last parser name asked of parser_carrier ("": none) */
	const char *last_ap_ptr; /* where it was (parser names are static) */
	uint16_t last_carrier;
	struct json_entry *jc; /* JSON_CACHE entries */
	uint32_t jc_used;
	om_buf jb; /* where an object is rendered */
	/* the port-named services: named without a slot unless the policy
	 * names them; their app object */
	bool port_free[PORT_SERVICES];
	om_app_info port_info[PORT_SERVICES];
	uint16_t port_len[PORT_SERVICES];
	char port_json[PORT_SERVICES][JSON_TEXT];
	/* nDPI's answer for IPv4 addresses asked before (its IP lists do not
	 * change while the worker runs), direct-mapped */
	struct ip_memo {
		uint32_t addr;
		uint16_t id;
		uint16_t valid;
	} ipm[IP_MEMO_SETS * IP_MEMO_WAYS];
	struct host_memo hm[HOST_MEMO_SETS * HOST_MEMO_WAYS];
};

static void port_setup(om_appctl_worker *w);
static uint16_t json_of(om_appctl_worker *w, const struct slot *s);

/* ---- the shared part ------------------------------------------------------ */

int om_appctl_setup(om_appctl *ac, const char *groups, const om_app_policy *pol, uint32_t max_flows,
                    uint32_t max_detect, uint32_t max_packets, char *err, size_t errlen)
{
	memset(ac, 0, sizeof(*ac));
	int r;
	if (groups) {
		FILE *fp = fopen(groups, "r");
		if (!fp) {
			r = -errno;
			snprintf(err, errlen, om_tr("appctl.err.map_open"), groups, strerror(-r));
			return r;
		}
		static char text[OM_APPCTL_MAP_MAX * 96];
		size_t n = fread(text, 1, sizeof(text), fp);
		bool more = n == sizeof(text) && fgetc(fp) != EOF;
		fclose(fp);
		if (more) {
			snprintf(err, errlen, om_tr("appctl.err.map_big"), groups, sizeof(text));
			return -EFBIG;
		}
		char why[256];
		r = om_app_map_parse(text, n, &ac->own_map, why, sizeof(why));
		if (r < 0) {
			snprintf(err, errlen, "%s: %s", groups, why);
			return r;
		}
	} else if ((r = om_app_map_builtin(&ac->own_map, err, errlen)) < 0) {
		return r;
	}
	ac->map = ac->own_map;
	if (pol)
		ac->policy = *pol;
	ac->max_flows = max_flows ? max_flows : 65536;
	ac->max_detect = max_detect ? max_detect : 16384;
	if (ac->max_detect > ac->max_flows)
		ac->max_detect = ac->max_flows;
	ac->max_packets = max_packets ? max_packets : 8;
	return 0;
}

void om_appctl_cleanup(om_appctl *ac)
{
	om_app_map_free(ac->own_map);
	ac->own_map = NULL;
	ac->map = NULL;
}

/* ---- a worker --------------------------------------------------------------- */

static int resolve_map(om_appctl_worker *w)
{
	const om_app_map *m = w->ac->map;
	w->nproto = ndpi_get_num_supported_protocols(w->nd);
	w->grp_proto = calloc(w->nproto ? w->nproto : 1, 1);
	if (!w->grp_proto)
		return -ENOMEM;
	for (size_t i = 0; m && i < m->n; i++) {
		const struct app_map_entry *e = &m->e[i];
		char name[OM_APPCTL_NAME_MAX];
		memcpy(name, e->name, sizeof(name));
		if (e->kind == APP_MAP_APP) {
			int id = ndpi_get_protocol_id(w->nd, name);
			if (id > 0 && (uint32_t)id < w->nproto)
				w->grp_proto[id] = e->group;
			else
				w->st.unknown_names++;
		} else if (e->kind == APP_MAP_CATEGORY) {
			int id = ndpi_get_category_id(w->nd, name);
			if (id > 0 && id < 256)
				w->grp_cat[id] = e->group;
			else
				w->st.unknown_names++;
		}
	}
	return 0;
}

/* The dissectors nDPI runs: those of the protocols the map names or whose
 * category it maps, and the carriers the applications of host lists and
 * host rules are found on (their names are read by these). Every other
 * dissector would only name applications of no group, at a cost on every
 * flow they do not recognise. FTP's control channel is no such carrier:
 * our parser names the FTP it takes, and nDPI's dissector, which compares
 * the start of every payload it is given with each FTP command, was 40 %
 * of nDPI's instructions on flows of unknown data; it runs when the map
 * or the policy names FTP_CONTROL (or maps its category). TLS and HTTP
 * are no such carriers either while our parsers of them are on
 * (ac->parsers_tls_http): those take every ClientHello and HTTP request by
 * their bytes, on any port, and nDPI sees only the flows no parser took;
 * its TLS dissector buffered every payload of each such flow (a heap
 * allocation grown per packet) and its HTTP dissector split each into
 * lines, for flows that are neither. */
static void group_mask(const om_appctl_worker *w, NDPI_PROTOCOL_BITMASK *mask)
{
	static const uint16_t carriers[] = {
	    NDPI_PROTOCOL_QUIC,       NDPI_PROTOCOL_DNS,       NDPI_PROTOCOL_MDNS,
	    NDPI_PROTOCOL_NTP,        NDPI_PROTOCOL_MAIL_SMTP, NDPI_PROTOCOL_MAIL_SMTPS,
	    NDPI_PROTOCOL_MAIL_POP,   NDPI_PROTOCOL_MAIL_POPS, NDPI_PROTOCOL_MAIL_IMAP,
	    NDPI_PROTOCOL_MAIL_IMAPS, NDPI_PROTOCOL_FTP_DATA,  NDPI_PROTOCOL_HTTP_CONNECT,
	    NDPI_PROTOCOL_HTTP_PROXY, NDPI_PROTOCOL_DTLS,      NDPI_PROTOCOL_DHCP,
	};
	NDPI_BITMASK_RESET(*mask);
	for (size_t i = 0; i < OM_ARRAY_SIZE(carriers); i++)
		NDPI_ADD_PROTOCOL_TO_BITMASK(*mask, carriers[i]);
	if (!w->ac->parsers_tls_http) {
		NDPI_ADD_PROTOCOL_TO_BITMASK(*mask, NDPI_PROTOCOL_HTTP);
		NDPI_ADD_PROTOCOL_TO_BITMASK(*mask, NDPI_PROTOCOL_TLS);
	}
	const om_app_policy *pol = &w->ac->policy;
	for (uint32_t i = 0; i < pol->napps && i < OM_APPCTL_POLICY_APPS; i++) {
		char name[OM_APPCTL_NAME_MAX];
		memcpy(name, pol->app[i].name, sizeof(name));
		name[sizeof(name) - 1] = '\0';
		if (ndpi_get_protocol_id(w->nd, name) == NDPI_PROTOCOL_FTP_CONTROL)
			NDPI_ADD_PROTOCOL_TO_BITMASK(*mask, NDPI_PROTOCOL_FTP_CONTROL);
	}
	for (uint32_t id = 1; id < w->nproto && id < NDPI_MAX_SUPPORTED_PROTOCOLS; id++) {
		ndpi_protocol pr = {NDPI_PROTOCOL_UNKNOWN, (uint16_t)id,
		                    NDPI_PROTOCOL_CATEGORY_UNSPECIFIED};
		unsigned cat = (unsigned)ndpi_get_proto_category(w->nd, pr);
		/* Steam (games, by its category): its dissector splits every
		 * payload it is given into lines, as HTTP, until it gives up,
		 * the largest part of nDPI's time on flows of unknown data; the
		 * Steam of an HTTP or TLS flow is named by its host all the
		 * same (nDPI's host lists), unless the map names Steam itself */
		if (id == NDPI_PROTOCOL_STEAM && !w->grp_proto[id])
			continue;
		if (w->grp_proto[id] || (cat < 256 && w->grp_cat[cat]))
			NDPI_ADD_PROTOCOL_TO_BITMASK(*mask, id);
	}
}

int om_appctl_worker_new(const om_appctl *ac, om_appctl_worker **ret)
{
	om_appctl_worker *w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->ac = ac;
	w->nd = ndpi_init_detection_module(ndpi_no_prefs);
	if (!w->nd)
		goto nomem;
	if (resolve_map(w) < 0)
		goto nomem;
	NDPI_PROTOCOL_BITMASK mask;
	if (ac->all_protocols)
		NDPI_BITMASK_SET_ALL(mask);
	else
		group_mask(w, &mask);
	ndpi_set_protocol_detection_bitmask2(w->nd, &mask);
	ndpi_finalize_initialization(w->nd);
	w->cap = ac->max_flows;
	/* the table grows with the flows followed (at most half full), up to
	 * twice the cap: a table for a million flows is 96 MiB that an
	 * office's few thousand concurrent flows would scatter over */
	uint32_t size = 2;
	while (size < 2 * (uint64_t)w->cap)
		size <<= 1;
	w->max_size = size;
	if (size > TAB_START)
		size = TAB_START;
	w->mask = size - 1;
	w->tab = calloc(size, sizeof(*w->tab));
	w->jc = calloc(JSON_CACHE, sizeof(*w->jc));
	om_buf_init(&w->jb, 4 * JSON_TEXT);
	if (!w->jc)
		goto nomem;
	port_setup(w);
	w->fsize = ndpi_detection_get_sizeof_ndpi_flow_struct();
	w->fsize = (w->fsize + 15) & ~(size_t)15;
	w->pool = calloc(ac->max_detect, w->fsize);
	w->freel = calloc(ac->max_detect, sizeof(*w->freel));
	if (!w->tab || !w->pool || !w->freel)
		goto nomem;
	for (uint32_t i = 0; i < ac->max_detect; i++)
		w->freel[i] = ac->max_detect - i;
	w->nfree = ac->max_detect;
	*ret = w;
	return 0;
nomem:
	om_appctl_worker_free(w);
	return -ENOMEM;
}

void om_appctl_worker_rebind(om_appctl_worker *w, const om_appctl *ac)
{
	if (w && ac) {
		if (ac->map != w->ac->map) /* the memo points into the map */
			memset(w->hm, 0, sizeof(w->hm));
		w->ac = ac;
	}
}

static struct ndpi_flow_struct *det_flow(om_appctl_worker *w, uint32_t det)
{
	return (struct ndpi_flow_struct *)(void *)(w->pool + (size_t)(det - 1) * w->fsize);
}

static void det_release(om_appctl_worker *w, struct slot *s)
{
	if (!s->det)
		return;
	ndpi_free_flow_data(det_flow(w, s->det));
	w->freel[w->nfree++] = s->det;
	s->det = 0;
}

om_appctl_worker *om_appctl_worker_free(om_appctl_worker *w)
{
	if (!w)
		return NULL;
	/* the table is walked only when flows still hold nDPI states (the
	 * engine ends every flow first) */
	if (w->tab && w->pool && w->nfree < w->ac->max_detect)
		for (uint32_t i = 0; i <= w->mask; i++)
			if (w->tab[i].f)
				det_release(w, &w->tab[i]);
	free(w->tab);
	free(w->pool);
	free(w->freel);
	free(w->grp_proto);
	free(w->jc);
	om_buf_free(&w->jb);
	if (w->nd)
		ndpi_exit_detection_module(w->nd);
	free(w);
	return NULL;
}

static uint32_t slot_hash(const om_flow *f)
{
	uint64_t x = f->flow_id ^ (uint64_t)(uintptr_t)f;
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return (uint32_t)x;
}

static struct slot *slot_find(om_appctl_worker *w, const om_flow *f)
{
	if (w->last_f == f && w->last_s->f == f && w->last_s->flow_id == f->flow_id)
		return w->last_s;
	for (uint32_t i = slot_hash(f) & w->mask;; i = (i + 1) & w->mask) {
		struct slot *s = &w->tab[i];
		if (!s->f)
			return NULL;
		if (s->f == f && s->flow_id == f->flow_id) {
			w->last_f = f;
			w->last_s = s;
			return s;
		}
	}
}

/* Doubles the table (its entries rehashed); false when memory is short
 * (the table stays as it is). */
static bool tab_grow(om_appctl_worker *w)
{
	uint32_t size = (w->mask + 1) * 2;
	struct slot *t = calloc(size, sizeof(*t));
	if (!t)
		return false;
	for (uint32_t i = 0; i <= w->mask; i++) {
		if (!w->tab[i].f)
			continue;
		uint32_t k = slot_hash(w->tab[i].f) & (size - 1);
		while (t[k].f)
			k = (k + 1) & (size - 1);
		t[k] = w->tab[i];
	}
	free(w->tab);
	w->tab = t;
	w->mask = size - 1;
	w->last_f = NULL;
	return true;
}

static struct slot *slot_add(om_appctl_worker *w, const om_flow *f)
{
	if (w->used >= w->cap)
		return NULL;
	if (2 * ((uint64_t)w->used + 1) > (uint64_t)w->mask + 1 && w->mask + 1 < w->max_size &&
	    !tab_grow(w) && w->used + 1 >= w->mask)
		return NULL; /* never full: a probe ends at an empty slot */
	uint32_t i = slot_hash(f) & w->mask;
	while (w->tab[i].f)
		i = (i + 1) & w->mask;
	struct slot *s = &w->tab[i];
	memset(s, 0, sizeof(*s));
	s->f = f;
	s->flow_id = f->flow_id;
	w->used++;
	return s;
}

/* Removes a slot by shifting the entries after it back (linear probing
 * without tombstones). */
static void slot_del(om_appctl_worker *w, struct slot *s)
{
	uint32_t i = (uint32_t)(s - w->tab);
	w->tab[i].f = NULL;
	w->used--;
	w->last_f = NULL;
	for (uint32_t j = (i + 1) & w->mask; w->tab[j].f; j = (j + 1) & w->mask) {
		uint32_t home = slot_hash(w->tab[j].f) & w->mask;
		/* j's entry may move to i when i lies cyclically in [home, j) */
		bool move = i <= j ? (home <= i || home > j) : (home <= i && home > j);
		if (move) {
			w->tab[i] = w->tab[j];
			w->tab[j].f = NULL;
			i = j;
		}
	}
}

static const char *proto_name(const om_appctl_worker *w, uint16_t id)
{
	if (id == NDPI_PROTOCOL_UNKNOWN || id >= w->nproto)
		return NULL;
	return ndpi_get_proto_name(w->nd, id);
}

static void slot_info(const om_appctl_worker *w, const struct slot *s, om_app_info *ret)
{
	memset(ret, 0, sizeof(*ret));
	uint16_t master = s->master, app = s->app;
	if (master == NDPI_PROTOCOL_UNKNOWN || master == app) {
		ret->proto = proto_name(w, app);
	} else {
		ret->proto = proto_name(w, master);
		ret->app = proto_name(w, app);
	}
	if (s->host_app)
		ret->app = s->host_app;
	if (s->cat != NDPI_PROTOCOL_CATEGORY_UNSPECIFIED)
		ret->category = ndpi_category_get_name(w->nd, (ndpi_protocol_category_t)s->cat);
	ret->group = (enum om_app_group)s->group;
	ret->action = (enum om_app_action)s->action;
	ret->final = (s->flags & F_FINAL) != 0;
	ret->reported = (s->flags & F_REPORTED) != 0;
}

static void record(struct slot *s, ndpi_protocol pr)
{
	if (pr.app_protocol == NDPI_PROTOCOL_UNKNOWN && pr.master_protocol == NDPI_PROTOCOL_UNKNOWN)
		return;
	s->master = pr.master_protocol;
	s->app = pr.app_protocol != NDPI_PROTOCOL_UNKNOWN ? pr.app_protocol : pr.master_protocol;
	s->cat = (uint16_t)pr.category;
}

/* The group by the server name (host rules), the application, its carrier
 * and the category, in that order. */
static void classify(om_appctl_worker *w, struct slot *s, const char *host, size_t hlen,
                     const struct host_memo *hm)
{
	enum om_app_group g = OM_APP_G_NONE;
	if (hm) {
		g = (enum om_app_group)hm->group;
		if (g != OM_APP_G_NONE)
			s->host_app = hm->host_app;
	} else if (host && hlen) {
		const char *app = NULL;
		g = om_app_map_host(w->ac->map, host, hlen, &app);
		if (g != OM_APP_G_NONE)
			s->host_app = app;
	}
	if (g == OM_APP_G_NONE && s->app < w->nproto)
		g = (enum om_app_group)w->grp_proto[s->app];
	if (g == OM_APP_G_NONE && s->master < w->nproto)
		g = (enum om_app_group)w->grp_proto[s->master];
	if (g == OM_APP_G_NONE && s->cat < 256)
		g = (enum om_app_group)w->grp_cat[s->cat];
	s->group = (uint8_t)g;
}

/* Identification is over: group, policy, the nDPI state back to the pool.
 * host: the server name the application was read from (NULL: nDPI's); hm:
 * what is known of it (NULL: asked here). */
static void finish(om_appctl_worker *w, struct slot *s, om_flow *f, const char *host, size_t hlen,
                   const struct host_memo *hm)
{
	if (!host && s->det) {
		const struct ndpi_flow_struct *nf = det_flow(w, s->det);
		host = nf->host_server_name;
		hlen = strnlen(nf->host_server_name, sizeof(nf->host_server_name));
	}
	classify(w, s, host, hlen, hm);
	s->flags |= F_FINAL;
	det_release(w, s);
	s->json = json_of(w, s);
	if (s->app != NDPI_PROTOCOL_UNKNOWN || s->group != OM_APP_G_NONE)
		w->st.identified++;
	om_app_info info;
	slot_info(w, s, &info);
	s->action = (uint8_t)om_app_policy_decide(&w->ac->policy, info.app, info.proto,
	                                          (enum om_app_group)s->group);
	if (s->action == OM_APP_ACT_BLOCK && f) {
		f->flags |= OM_FLOW_F_DROP;
		w->st.blocked++;
	}
}

/* UDP services told by their port that carry no application of a group
 * (name lookups, time): named without nDPI, whose DNS dissector matches
 * every query name against its host lists (the largest part of its cost on
 * an office's traffic), and without a slot in the table (the events of
 * these flows are most of all events), unless the policy names them. */
static uint16_t port_proto(const om_flow *f)
{
	if (f->proto != IPPROTO_UDP)
		return 0;
	switch (f->sport) {
	case 53: return NDPI_PROTOCOL_DNS;
	case 5353: return NDPI_PROTOCOL_MDNS;
	case 123: return NDPI_PROTOCOL_NTP;
	default: return 0;
	}
}

static int port_index(uint16_t id)
{
	return id == NDPI_PROTOCOL_DNS ? 0 : id == NDPI_PROTOCOL_MDNS ? 1 : 2;
}

static bool port_named(const om_appctl_worker *w, const om_flow *f, om_app_info *ret)
{
	uint16_t id = port_proto(f);
	if (!id || !w->port_free[port_index(id)])
		return false; /* else followed in the table, for its event */
	if (ret)
		*ret = w->port_info[port_index(id)];
	return true;
}

/* Renders the "app" member of ai into out (at most JSON_TEXT bytes):
 * its length, 0 when it does not fit. */
static uint16_t render(om_appctl_worker *w, const om_app_info *ai, char *out)
{
	om_json j;
	om_buf_reset(&w->jb);
	om_json_init(&j, &w->jb);
	om_app_info_json(&j, ai);
	if (w->jb.toobig || !w->jb.data || w->jb.len >= JSON_TEXT)
		return 0;
	memcpy(out, w->jb.data, w->jb.len);
	return (uint16_t)w->jb.len;
}

/* The names of the port-named services and whether the policy leaves them
 * alone (then they take no slot). */
static void port_setup(om_appctl_worker *w)
{
	static const uint16_t ids[PORT_SERVICES] = {NDPI_PROTOCOL_DNS, NDPI_PROTOCOL_MDNS,
	                                            NDPI_PROTOCOL_NTP};
	for (int i = 0; i < PORT_SERVICES; i++) {
		const char *name = proto_name(w, ids[i]);
		om_app_info *ai = &w->port_info[i];
		memset(ai, 0, sizeof(*ai));
		ai->proto = name;
		ndpi_protocol pr = {NDPI_PROTOCOL_UNKNOWN, ids[i],
		                    NDPI_PROTOCOL_CATEGORY_UNSPECIFIED};
		ndpi_protocol_category_t cat = ndpi_get_proto_category(w->nd, pr);
		if (cat != NDPI_PROTOCOL_CATEGORY_UNSPECIFIED)
			ai->category = ndpi_category_get_name(w->nd, cat);
		ai->final = true;
		w->port_free[i] = om_app_policy_decide(&w->ac->policy, NULL, name, OM_APP_G_NONE) ==
		                  OM_APP_ACT_NONE;
		w->port_len[i] = name ? render(w, ai, w->port_json[i]) : 0;
	}
}

/* The cached rendering of a final slot's app object (its index + 1), or 0
 * when the cache is full or the object too long. */
static uint16_t json_of(om_appctl_worker *w, const struct slot *s)
{
	uint32_t h = ((uint32_t)s->master * 31u + s->app) * 31u + s->cat;
	h = (h * 31u + s->group) ^ (uint32_t)((uintptr_t)s->host_app >> 4);
	h *= 0x9e3779b1u;
	for (uint32_t k = 0, i = h >> 22; k < JSON_CACHE; k++, i = (i + 1) % JSON_CACHE) {
		struct json_entry *e = &w->jc[i];
		if (!e->used) {
			if (w->jc_used >= JSON_CACHE / 2)
				return 0; /* half full at most: probes stay short */
			om_app_info ai;
			slot_info(w, s, &ai);
			if (!ai.proto && !ai.app)
				return 0;
			e->len = render(w, &ai, e->text);
			if (!e->len)
				return 0;
			e->master = s->master;
			e->app = s->app;
			e->cat = s->cat;
			e->group = s->group;
			e->host_app = s->host_app;
			e->used = 1;
			w->jc_used++;
			return (uint16_t)(i + 1);
		}
		if (e->master == s->master && e->app == s->app && e->cat == s->cat &&
		    e->group == s->group && e->host_app == s->host_app)
			return (uint16_t)(i + 1);
	}
	return 0;
}

/* ---- flows our parsers know ------------------------------------------------ */

/* nDPI's protocol for the parser that took the flow (om_app_proto_name);
 * 0: no parser (undecided, or "failed"). */
static uint16_t carrier_of(const char *ap)
{
	static const struct {
		const char *name;
		uint16_t id;
	} m[] = {
	    {"http", NDPI_PROTOCOL_HTTP},         {"tls", NDPI_PROTOCOL_TLS},
	    {"quic", NDPI_PROTOCOL_QUIC},         {"dns", NDPI_PROTOCOL_DNS},
	    {"smtp", NDPI_PROTOCOL_MAIL_SMTP},    {"pop3", NDPI_PROTOCOL_MAIL_POP},
	    {"imap", NDPI_PROTOCOL_MAIL_IMAP},    {"ftp", NDPI_PROTOCOL_FTP_CONTROL},
	    {"ftp-data", NDPI_PROTOCOL_FTP_DATA},
	};
	if (!ap)
		return 0;
	for (size_t i = 0; i < OM_ARRAY_SIZE(m); i++)
		if (!strcmp(ap, m[i].name))
			return m[i].id;
	return 0;
}

/* carrier_of through the worker's memory of the last name asked (every
 * packet and transaction asks, mostly for one of a few names): one
 * comparison instead of up to nine. */
static uint16_t parser_carrier(om_appctl_worker *w, const char *ap)
{
	if (!ap)
		return 0;
	/* the names are the parsers' own static strings (om_app_proto_name,
	 * om_proto_tx.app_proto): the same pointer, the same name */
	if (ap == w->last_ap_ptr)
		return w->last_carrier;
	if (strcmp(ap, w->last_ap) != 0) {
		size_t n = strlen(ap);
		if (n >= sizeof(w->last_ap))
			return carrier_of(ap);
		memcpy(w->last_ap, ap, n + 1);
		w->last_carrier = carrier_of(ap);
	}
	w->last_ap_ptr = ap;
	return w->last_carrier;
}

/* The carriers whose application is read from their first transaction
 * (the HTTP request's Host, the TLS or QUIC ClientHello's SNI). */
static bool named_by_tx(uint16_t c)
{
	return c == NDPI_PROTOCOL_HTTP || c == NDPI_PROTOCOL_TLS || c == NDPI_PROTOCOL_QUIC;
}

/* The application nDPI's IP lists give the flow's server (then client)
 * IPv4 address, or 0: what nDPI would say of the flow's addresses, asked
 * once for the flow. */
static uint16_t ip_app(om_appctl_worker *w, const om_flow *f)
{
	const om_addr *a[2] = {&f->srv, &f->cli};
	for (int i = 0; i < 2; i++) {
		if (!om_addr_is_v4(a[i]))
			continue;
		struct in_addr in;
		memcpy(&in.s_addr, a[i]->b + 12, 4);
		struct ip_memo *m =
		    &w->ipm[((in.s_addr * 0x9e3779b1u) >> 20 & (IP_MEMO_SETS - 1)) * IP_MEMO_WAYS];
		uint16_t id = 0;
		bool known = false;
		for (unsigned k = 0; k < IP_MEMO_WAYS && !known; k++)
			if (m[k].valid && m[k].addr == in.s_addr) {
				id = m[k].id;
				known = true;
			}
		if (!known) {
			id = ndpi_network_ptree_match(w->nd, &in);
			memmove(m + 1, m, (IP_MEMO_WAYS - 1) * sizeof(*m));
			m[0] = (struct ip_memo){.addr = in.s_addr, .id = id, .valid = 1};
		}
		if (id != NDPI_PROTOCOL_UNKNOWN && id < w->nproto)
			return id;
	}
	return 0;
}

/* A server name as nDPI's host lists and the map's host rules take it:
 * lower case, no trailing dot. Returns its length in out (0: none or too
 * long to be a name). */
static size_t host_norm(const uint8_t *h, uint32_t n, char out[256])
{
	while (n && h[n - 1] == '.')
		n--;
	if (!h || n == 0 || n > 253)
		return 0;
	for (uint32_t i = 0; i < n; i++) {
		uint8_t c = h[i];
		out[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
	}
	out[n] = '\0';
	return n;
}

/* What nDPI's host lists and the map's host rules say of the normalised
 * name host (n > 0 bytes), through the worker's memo. */
static const struct host_memo *host_memo(om_appctl_worker *w, char *host, size_t n)
{
	uint64_t fp = om_guard_name_fp(host, n);
	struct host_memo *set = &w->hm[(size_t)(fp & (HOST_MEMO_SETS - 1)) * HOST_MEMO_WAYS];
	for (unsigned k = 0; k < HOST_MEMO_WAYS; k++)
		if (set[k].fp == fp)
			return &set[k];
	struct host_memo e = {.fp = fp, .cat = NDPI_PROTOCOL_CATEGORY_UNSPECIFIED};
	ndpi_protocol_match_result m;
	memset(&m, 0, sizeof(m));
	int id = ndpi_match_string_subprotocol(w->nd, host, (u_int)n, &m);
	if (id > 0 && (uint32_t)id < w->nproto) {
		e.app = (uint16_t)id;
		e.cat = (uint16_t)m.protocol_category;
	}
	const char *app = NULL;
	e.group = (uint8_t)om_app_map_host(w->ac->map, host, n, &app);
	if (e.group != OM_APP_G_NONE)
		e.host_app = app;
	memmove(set + 1, set, (HOST_MEMO_WAYS - 1) * sizeof(*set));
	set[0] = e;
	return &set[0];
}

/* Names a flow our parser knows: the carrier, the application nDPI's host
 * lists give its server name (the match nDPI's own dissectors make on
 * these names), else the one its IP lists give the addresses, and the
 * category nDPI would give that pair. */
static void name_parsed(om_appctl_worker *w, struct slot *s, const om_flow *f, uint16_t carrier,
                        const struct host_memo *hm)
{
	uint16_t app = hm ? hm->app : 0;
	ndpi_protocol_category_t cat =
	    hm ? (ndpi_protocol_category_t)hm->cat : NDPI_PROTOCOL_CATEGORY_UNSPECIFIED;
	if (!app)
		app = ip_app(w, f);
	ndpi_protocol pr = {carrier, app ? app : carrier, cat};
	if (pr.category == NDPI_PROTOCOL_CATEGORY_UNSPECIFIED)
		pr.category = ndpi_get_proto_category(w->nd, pr);
	record(s, pr);
}

/* The flow's slot, made at its first sight (NULL: the table is full, the
 * flow is then not followed). */
static struct slot *slot_get(om_appctl_worker *w, om_flow *f, bool *ret_new)
{
	*ret_new = false;
	struct slot *s = slot_find(w, f);
	if (s)
		return s;
	s = slot_add(w, f);
	if (!s) {
		w->st.table_full++;
		f->flags |= OM_FLOW_F_APPCTL_DONE;
		return NULL;
	}
	w->st.flows++;
	*ret_new = true;
	return s;
}

static int final_now(om_appctl_worker *w, struct slot *s, om_flow *f, const char *host, size_t hlen,
                     const struct host_memo *hm, om_app_info *ret)
{
	finish(w, s, f, host, hlen, hm);
	f->flags |= OM_FLOW_F_APPCTL_DONE;
	slot_info(w, s, ret);
	return 1;
}

int om_appctl_packet(om_appctl_worker *w, om_flow *f, const om_packet *p, om_app_info *ret)
{
	if (!w || !f || !p->l3 || (f->flags & OM_FLOW_F_APPCTL_DONE) ||
	    (f->proto != IPPROTO_TCP && f->proto != IPPROTO_UDP))
		return 0;
	if (port_named(w, f, ret)) {
		f->flags |= OM_FLOW_F_APPCTL_DONE;
		w->st.flows++;
		w->st.identified++;
		return 1;
	}
	bool fresh;
	struct slot *s = slot_get(w, f, &fresh);
	if (!s || (s->flags & F_FINAL))
		return 0;
	uint16_t id = fresh ? port_proto(f) : 0;
	if (id) {
		/* named by its port, followed for the policy */
		ndpi_protocol pr = {NDPI_PROTOCOL_UNKNOWN, id, NDPI_PROTOCOL_CATEGORY_UNSPECIFIED};
		pr.category = ndpi_get_proto_category(w->nd, pr);
		record(s, pr);
		return final_now(w, s, f, NULL, 0, NULL, ret);
	}
	/* a flow one of our parsers took: named from what the parser read,
	 * without nDPI's dissectors */
	uint16_t carrier = parser_carrier(w, om_app_proto_name(f));
	if (carrier) {
		s->carrier = carrier;
		det_release(w, s); /* packets nDPI had before the parser knew */
		if (named_by_tx(carrier))
			return 0; /* om_appctl_tx, or the flow's end */
		name_parsed(w, s, f, carrier, NULL);
		return final_now(w, s, f, NULL, 0, NULL, ret);
	}
	if (p->l3_len == 0 || p->l3_len > 65535)
		return 0;
	/* TCP: the segments with data only; nDPI names applications from
	 * payload and picks a connection up without its handshake */
	if (f->proto == IPPROTO_TCP && p->payload_len == 0)
		return 0;
	if (!s->det) {
		if (!w->nfree) {
			/* not followed: final at once, so that its packets do
			 * not ask again */
			w->st.detect_full++;
			s->flags |= F_FINAL;
			f->flags |= OM_FLOW_F_APPCTL_DONE;
			return 0;
		}
		s->det = w->freel[--w->nfree];
		memset(det_flow(w, s->det), 0, w->fsize);
	}
	struct ndpi_flow_struct *nf = det_flow(w, s->det);
	ndpi_protocol pr = ndpi_detection_process_packet(w->nd, nf, p->l3,
	                                                 (unsigned short)p->l3_len, p->ts / 1000u);
	s->pkts++;
	w->st.packets++;
	record(s, pr);
	/* the first answer is the one the policy needs: nDPI names the
	 * application with the packet that carries its evidence (the
	 * ClientHello's SNI, the request's Host); what it would read on (a
	 * certificate, the response) refines metadata, not the application */
	bool done = s->app != NDPI_PROTOCOL_UNKNOWN;
	if (!done && nf->host_server_name[0]) {
		size_t n = strnlen(nf->host_server_name, sizeof(nf->host_server_name));
		done = om_app_map_host(w->ac->map, nf->host_server_name, n, NULL) != OM_APP_G_NONE;
	}
	if (!done && s->pkts >= w->ac->max_packets) {
		uint8_t guessed = 0;
		record(s, ndpi_detection_giveup(w->nd, nf, 0, &guessed));
		done = true;
	}
	if (!done)
		return 0;
	return final_now(w, s, f, NULL, 0, NULL, ret);
}

int om_appctl_tx(om_appctl_worker *w, om_flow *f, const om_proto_tx *tx, om_app_info *ret)
{
	if (!w || !f || !tx || (f->flags & OM_FLOW_F_APPCTL_DONE) ||
	    (f->proto != IPPROTO_TCP && f->proto != IPPROTO_UDP))
		return 0;
	uint16_t carrier = parser_carrier(w, tx->app_proto);
	if (!named_by_tx(carrier))
		return 0;
	bool fresh;
	struct slot *s = slot_get(w, f, &fresh);
	if (!s || (s->flags & F_FINAL))
		return 0;
	s->carrier = carrier;
	det_release(w, s);
	const uint8_t *h;
	uint32_t hn = 0;
	if (carrier == NDPI_PROTOCOL_HTTP) {
		h = om_tx_get(tx, OM_TXB_HTTP_HOST, 0, &hn);
		uint32_t mn = 0, un = 0;
		const uint8_t *m = om_tx_get(tx, OM_TXB_HTTP_METHOD, 0, &mn);
		const uint8_t *u = om_tx_get(tx, OM_TXB_HTTP_URI_RAW, 0, &un);
		/* a tunnel through a proxy, a request to a proxy */
		if (m && mn == 7 && !memcmp(m, "CONNECT", 7))
			carrier = NDPI_PROTOCOL_HTTP_CONNECT;
		else if (u && un > 7 && !strncasecmp((const char *)u, "http://", 7))
			carrier = NDPI_PROTOCOL_HTTP_PROXY;
	} else {
		h = om_tx_get(tx, OM_TXB_TLS_SNI, 0, &hn);
	}
	char host[256];
	size_t n = host_norm(h, h ? hn : 0, host);
	const struct host_memo *hm = n ? host_memo(w, host, n) : NULL;
	name_parsed(w, s, f, carrier, hm);
	return final_now(w, s, f, host, n, hm, ret);
}

int om_appctl_flow(om_appctl_worker *w, const om_flow *f, om_app_info *ret)
{
	if (w && f && port_named(w, f, ret))
		return 0;
	const struct slot *s = w && f ? slot_find(w, f) : NULL;
	if (!s)
		return -ENOENT;
	slot_info(w, s, ret);
	return 0;
}

void om_appctl_json(om_appctl_worker *w, const om_flow *f, om_json *j)
{
	if (!w || !f)
		return;
	uint16_t id = port_proto(f);
	if (id && w->port_free[port_index(id)]) {
		om_json_members(j, w->port_json[port_index(id)], w->port_len[port_index(id)]);
		return;
	}
	const struct slot *s = slot_find(w, f);
	if (!s)
		return;
	if (s->json) {
		const struct json_entry *e = &w->jc[s->json - 1];
		om_json_members(j, e->text, e->len);
		return;
	}
	om_app_info ai;
	slot_info(w, s, &ai);
	if (ai.proto || ai.app)
		om_app_info_json(j, &ai);
}

void om_appctl_flow_reported(om_appctl_worker *w, const om_flow *f)
{
	struct slot *s = w && f ? slot_find(w, f) : NULL;
	if (s)
		s->flags |= F_REPORTED;
}

int om_appctl_flow_end(om_appctl_worker *w, const om_flow *f, om_app_info *ret)
{
	if (w && f && port_named(w, f, ret))
		return 0;
	struct slot *s = w && f ? slot_find(w, f) : NULL;
	if (!s)
		return -ENOENT;
	if (!(s->flags & F_FINAL)) {
		if (s->carrier) {
			/* a parser's flow without the transaction that names it */
			name_parsed(w, s, f, s->carrier, NULL);
		} else if (s->det) {
			uint8_t guessed = 0;
			record(s, ndpi_detection_giveup(w->nd, det_flow(w, s->det), 0, &guessed));
		}
		/* the flow is over: nothing is left to drop, a block is
		 * only logged */
		finish(w, s, NULL, NULL, 0, NULL);
		if (s->action == OM_APP_ACT_BLOCK && !(f->flags & OM_FLOW_F_DROP))
			s->action = OM_APP_ACT_LOG;
	}
	slot_info(w, s, ret);
	slot_del(w, s);
	return 0;
}

const om_appctl_stats *om_appctl_stats_get(const om_appctl_worker *w)
{
	return &w->st;
}
