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

#include <ndpi/ndpi_api.h>

#include "guard/appctl_internal.h"
#include "guard/guard.h"

#define F_FINAL 0x01
#define F_REPORTED 0x02

struct slot {
	const om_flow *f; /* NULL: empty */
	uint64_t flow_id;
	uint32_t det; /* nDPI state: pool index + 1; 0: none */
	uint16_t master, app, cat;
	uint16_t pkts;
	uint8_t group, action, flags;
	const char *host_app; /* the application of a host rule, or NULL */
};

struct om_appctl_worker {
	const om_appctl *ac;
	struct ndpi_detection_module_struct *nd;
	uint32_t nproto;
	uint8_t *grp_proto; /* group by nDPI protocol id (nproto) */
	uint8_t grp_cat[256];
	struct slot *tab;
	uint32_t mask, used, cap;
	uint8_t *pool; /* max_detect nDPI flow states */
	size_t fsize;
	uint32_t *freel, nfree;
	om_appctl_stats st;
	/* the last flow looked up: the events a packet raises ask for the
	 * flow that packet just went through (reset when slots move) */
	const om_flow *last_f;
	struct slot *last_s;
};

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
	ac->max_packets = max_packets ? max_packets : 16;
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
 * flow they do not recognise. */
static void group_mask(const om_appctl_worker *w, NDPI_PROTOCOL_BITMASK *mask)
{
	static const uint16_t carriers[] = {
	    NDPI_PROTOCOL_HTTP,        NDPI_PROTOCOL_TLS,        NDPI_PROTOCOL_QUIC,
	    NDPI_PROTOCOL_DNS,         NDPI_PROTOCOL_MDNS,       NDPI_PROTOCOL_NTP,
	    NDPI_PROTOCOL_MAIL_SMTP,   NDPI_PROTOCOL_MAIL_SMTPS, NDPI_PROTOCOL_MAIL_POP,
	    NDPI_PROTOCOL_MAIL_POPS,   NDPI_PROTOCOL_MAIL_IMAP,  NDPI_PROTOCOL_MAIL_IMAPS,
	    NDPI_PROTOCOL_FTP_CONTROL, NDPI_PROTOCOL_FTP_DATA,   NDPI_PROTOCOL_HTTP_CONNECT,
	    NDPI_PROTOCOL_HTTP_PROXY,  NDPI_PROTOCOL_DTLS,       NDPI_PROTOCOL_DHCP,
	};
	NDPI_BITMASK_RESET(*mask);
	for (size_t i = 0; i < OM_ARRAY_SIZE(carriers); i++)
		NDPI_ADD_PROTOCOL_TO_BITMASK(*mask, carriers[i]);
	for (uint32_t id = 1; id < w->nproto && id < NDPI_MAX_SUPPORTED_PROTOCOLS; id++) {
		ndpi_protocol pr = {NDPI_PROTOCOL_UNKNOWN, (uint16_t)id,
		                    NDPI_PROTOCOL_CATEGORY_UNSPECIFIED};
		unsigned cat = (unsigned)ndpi_get_proto_category(w->nd, pr);
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
	uint32_t size = 2;
	while (size < 2 * (uint64_t)w->cap)
		size <<= 1;
	w->mask = size - 1;
	w->tab = calloc(size, sizeof(*w->tab));
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
	if (w && ac)
		w->ac = ac;
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
	if (w->tab && w->pool)
		for (uint32_t i = 0; i <= w->mask; i++)
			if (w->tab[i].f)
				det_release(w, &w->tab[i]);
	free(w->tab);
	free(w->pool);
	free(w->freel);
	free(w->grp_proto);
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

static struct slot *slot_add(om_appctl_worker *w, const om_flow *f)
{
	if (w->used >= w->cap)
		return NULL;
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
static void classify(om_appctl_worker *w, struct slot *s, const struct ndpi_flow_struct *nf)
{
	enum om_app_group g = OM_APP_G_NONE;
	if (nf && nf->host_server_name[0]) {
		const char *app = NULL;
		size_t n = strnlen(nf->host_server_name, sizeof(nf->host_server_name));
		g = om_app_map_host(w->ac->map, nf->host_server_name, n, &app);
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

/* Identification is over: group, policy, the nDPI state back to the pool. */
static void finish(om_appctl_worker *w, struct slot *s, om_flow *f)
{
	classify(w, s, s->det ? det_flow(w, s->det) : NULL);
	s->flags |= F_FINAL;
	det_release(w, s);
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

static bool port_named(const om_appctl_worker *w, const om_flow *f, om_app_info *ret)
{
	uint16_t id = port_proto(f);
	if (!id)
		return false;
	const char *name = proto_name(w, id);
	if (om_app_policy_decide(&w->ac->policy, NULL, name, OM_APP_G_NONE) != OM_APP_ACT_NONE)
		return false; /* followed in the table, for its event */
	if (ret) {
		ndpi_protocol pr = {NDPI_PROTOCOL_UNKNOWN, id, NDPI_PROTOCOL_CATEGORY_UNSPECIFIED};
		ndpi_protocol_category_t cat = ndpi_get_proto_category(w->nd, pr);
		memset(ret, 0, sizeof(*ret));
		ret->proto = name;
		if (cat != NDPI_PROTOCOL_CATEGORY_UNSPECIFIED)
			ret->category = ndpi_category_get_name(w->nd, cat);
		ret->final = true;
	}
	return true;
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
	struct slot *s = slot_find(w, f);
	if (!s) {
		s = slot_add(w, f);
		if (!s) {
			w->st.table_full++;
			f->flags |= OM_FLOW_F_APPCTL_DONE;
			return 0;
		}
		w->st.flows++;
		uint16_t id = port_proto(f);
		if (id) {
			/* named by its port, followed for the policy */
			ndpi_protocol pr = {NDPI_PROTOCOL_UNKNOWN, id,
			                    NDPI_PROTOCOL_CATEGORY_UNSPECIFIED};
			pr.category = ndpi_get_proto_category(w->nd, pr);
			record(s, pr);
			finish(w, s, f);
			f->flags |= OM_FLOW_F_APPCTL_DONE;
			slot_info(w, s, ret);
			return 1;
		}
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
	if (s->flags & F_FINAL)
		return 0;
	if (p->l3_len == 0 || p->l3_len > 65535)
		return 0;
	/* TCP: the segments with data only; nDPI names applications from
	 * payload and picks a connection up without its handshake */
	if (f->proto == IPPROTO_TCP && p->payload_len == 0)
		return 0;
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
	finish(w, s, f);
	f->flags |= OM_FLOW_F_APPCTL_DONE;
	slot_info(w, s, ret);
	return 1;
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
		if (s->det) {
			uint8_t guessed = 0;
			record(s, ndpi_detection_giveup(w->nd, det_flow(w, s->det), 0, &guessed));
		}
		/* the flow is over: nothing is left to drop, a block is
		 * only logged */
		finish(w, s, NULL);
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
