/* verdict.c: the per-packet verdict from every verdict source, and the
 * bounded address table behind WAN scan blocks and quarantine. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"

struct entry {
	om_addr a;
	om_usec until; /* 0: none */
	bool used;
};

struct om_addr_table {
	unsigned cap, count;
	struct entry *e; /* open addressing, 2 * cap slots, linear probing */
	unsigned slots;
};

om_addr_table *om_addr_table_new(unsigned cap)
{
	if (cap == 0 || cap > (1u << 24))
		return NULL;
	om_addr_table *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->cap = cap;
	t->slots = 2 * cap;
	t->e = calloc(t->slots, sizeof(*t->e));
	if (!t->e) {
		free(t);
		return NULL;
	}
	return t;
}

om_addr_table *om_addr_table_free(om_addr_table *t)
{
	if (t) {
		free(t->e);
		free(t);
	}
	return NULL;
}

static unsigned slot_of(const om_addr_table *t, const om_addr *a)
{
	return (unsigned)(om_siphash(om_hash_key_process(), a->b, 16) % t->slots);
}

static struct entry *find(om_addr_table *t, const om_addr *a)
{
	for (unsigned i = 0, s = slot_of(t, a); i < t->slots; i++, s = (s + 1) % t->slots) {
		if (!t->e[s].used)
			return NULL;
		if (memcmp(t->e[s].a.b, a->b, 16) == 0)
			return &t->e[s];
	}
	return NULL;
}

/* Removes slot s and moves back the entries after it (no tombstones). */
static void remove_slot(om_addr_table *t, unsigned s)
{
	t->e[s].used = false;
	t->count--;
	for (unsigned n = (s + 1) % t->slots; t->e[n].used; n = (n + 1) % t->slots) {
		struct entry x = t->e[n];
		t->e[n].used = false;
		unsigned h = slot_of(t, &x.a);
		while (t->e[h].used)
			h = (h + 1) % t->slots;
		t->e[h] = x;
	}
}

static void expire(om_addr_table *t, om_usec now)
{
	for (unsigned s = 0; s < t->slots; s++) {
		while (t->e[s].used && t->e[s].until && t->e[s].until <= now)
			remove_slot(t, s);
	}
}

int om_addr_table_add(om_addr_table *t, const om_addr *a, om_usec until)
{
	struct entry *x = find(t, a);
	if (x) {
		/* the longer block wins; no expiry beats any */
		if (!until || (x->until && until > x->until))
			x->until = until;
		return 0;
	}
	if (t->count >= t->cap) {
		expire(t, om_time_now());
		if (t->count >= t->cap)
			return -ENOSPC;
	}
	unsigned s = slot_of(t, a);
	while (t->e[s].used)
		s = (s + 1) % t->slots;
	t->e[s] = (struct entry){*a, until, true};
	t->count++;
	return 0;
}

int om_addr_table_del(om_addr_table *t, const om_addr *a)
{
	struct entry *x = find(t, a);
	if (!x)
		return -ENOENT;
	remove_slot(t, (unsigned)(x - t->e));
	return 0;
}

bool om_addr_table_has(om_addr_table *t, const om_addr *a, om_usec now)
{
	if (!t->count)
		return false;
	struct entry *x = find(t, a);
	return x && (!x->until || x->until > now);
}

unsigned om_addr_table_count(const om_addr_table *t)
{
	return t->count;
}

bool om_addr_table_get(const om_addr_table *t, unsigned i, om_addr *ret, om_usec *ret_until)
{
	for (unsigned s = 0; s < t->slots; s++) {
		if (!t->e[s].used)
			continue;
		if (i-- == 0) {
			*ret = t->e[s].a;
			*ret_until = t->e[s].until;
			return true;
		}
	}
	return false;
}

static enum om_verdict stricter(enum om_verdict a, enum om_verdict b)
{
	return a > b ? a : b; /* the enum is ordered accept < hold < reject < drop */
}

enum om_verdict om_verdict_decide(const om_verdict_in *in, om_usec hold_max, bool fail_open)
{
	enum om_verdict v = OM_VERDICT_ACCEPT;
	if (in->flow_flags & OM_FLOW_F_REJECT)
		v = stricter(v, OM_VERDICT_REJECT);
	if (in->flow_flags & OM_FLOW_F_DROP)
		v = stricter(v, (in->flow_flags & OM_FLOW_F_REJECT) ? OM_VERDICT_REJECT
		                                                    : OM_VERDICT_DROP);
	if (in->file_blocked)
		v = stricter(v, OM_VERDICT_REJECT); /* cut the download: both ends learn it */
	if (in->policy_blocked)
		v = stricter(v, OM_VERDICT_REJECT);
	if (in->src_blocked)
		v = stricter(v, OM_VERDICT_DROP); /* a scanner gets no answer */
	if (in->quarantined && !in->quarantine_allow)
		v = stricter(v, OM_VERDICT_DROP);
	if (in->file_pending && v == OM_VERDICT_ACCEPT) {
		if (in->hold_age < hold_max)
			v = OM_VERDICT_HOLD;
		else if (!fail_open)
			v = OM_VERDICT_DROP; /* no verdict in time: closed */
	}
	return v;
}

bool om_gw_stuck(om_usec now, om_usec beat, om_usec limit)
{
	/* a worker may have come round after now was read: a beat later than
	 * now is progress, not an age (unsigned: now - beat would wrap) */
	return beat < now && now - beat > limit;
}
