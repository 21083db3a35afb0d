/* exercise: playing a scenario and judging the choices. A situation is an
 * event and the flags set so far; what remains to be lost from a situation
 * depends on nothing else, so the best and the worst outcome from each
 * situation are computed once (memoised, depth-first over an acyclic event
 * graph) and give the best path, the worst path and, at every step of a
 * play, the card that would have done best and what it would have saved. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exercise/internal.h"

/* situations kept per analysis: 3 modes share the table */
#define MEMO_SLOTS (1u << 15)
#define MEMO_MAX (MEMO_SLOTS / 2)

enum memo_mode { M_BEST, M_WORST, M_COUNT };

struct memo_entry {
	uint32_t flags;
	uint8_t event, mode, card, used;
	om_ex_totals t;
	uint64_t paths;
};

struct ex_memo {
	unsigned n;
	struct memo_entry e[MEMO_SLOTS];
};

struct ex_memo *ex_memo_new(void)
{
	return calloc(1, sizeof(struct ex_memo));
}

struct ex_memo *ex_memo_free(struct ex_memo *m)
{
	free(m);
	return NULL;
}

static struct memo_entry *memo_slot(struct ex_memo *m, unsigned e, uint32_t flags,
                                    enum memo_mode mode, bool *found)
{
	uint64_t h = om_mix64(((uint64_t)flags << 16) ^ ((uint64_t)e << 2) ^ mode);
	for (unsigned i = 0; i < MEMO_SLOTS; i++) {
		struct memo_entry *x = &m->e[(h + i) & (MEMO_SLOTS - 1)];
		if (!x->used) {
			*found = false;
			return x;
		}
		if (x->event == e && x->flags == flags && x->mode == mode) {
			*found = true;
			return x;
		}
	}
	return NULL; /* not reached: the table is never more than half full */
}

void ex_card_apply(const om_scenario *s, unsigned e, unsigned c, uint32_t flags,
                   om_ex_totals *ret_eff, uint32_t *ret_flags, int *ret_next)
{
	const struct ex_card *cd = &s->ev[e].card[c];
	om_ex_totals t = cd->eff;
	/* extras test the flags set before this card */
	for (unsigned i = 0; i < cd->nextra; i++)
		if (ex_cond_holds(&cd->extra[i].cond, flags))
			ex_add(&t, &cd->extra[i].eff);
	uint32_t f = flags | cd->sets;
	/* the way on tests the flags after it */
	int next = EX_END;
	for (unsigned i = 0; i < cd->nnext; i++) {
		if (ex_cond_holds(&cd->next[i].cond, f)) {
			next = cd->next[i].event;
			break;
		}
	}
	*ret_eff = t;
	*ret_flags = f;
	*ret_next = next;
}

static int cmp_u(uint64_t a, uint64_t b)
{
	return a < b ? -1 : a > b ? 1 : 0;
}

int ex_cmp(const om_ex_totals *a, const om_ex_totals *b)
{
	int r;
	if ((r = cmp_u(a->damage_yen, b->damage_yen)) || (r = cmp_u(a->minutes, b->minutes)) ||
	    (r = cmp_u(a->reputation, b->reputation)) || (r = cmp_u(a->data_lost, b->data_lost)))
		return r;
	return cmp_u(a->spread, b->spread);
}

int ex_outcome(const om_scenario *s, struct ex_memo *m, unsigned e, uint32_t flags, bool worst,
               om_ex_totals *ret, unsigned *ret_card)
{
	bool found;
	struct memo_entry *x = memo_slot(m, e, flags, worst ? M_WORST : M_BEST, &found);
	if (!x)
		return -E2BIG;
	if (found) {
		*ret = x->t;
		*ret_card = x->card;
		return 0;
	}
	om_ex_totals best = {0};
	unsigned best_card = 0;
	for (unsigned c = 0; c < OM_EX_CARDS; c++) {
		om_ex_totals v, rest = {0};
		uint32_t f;
		int next;
		unsigned rc;
		ex_card_apply(s, e, c, flags, &v, &f, &next);
		if (next != EX_END) {
			int r = ex_outcome(s, m, (unsigned)next, f, worst, &rest, &rc);
			if (r < 0)
				return r;
		}
		ex_add(&v, &rest);
		int d = ex_cmp(&v, &best);
		if (c == 0 || (worst ? d > 0 : d < 0)) {
			best = v;
			best_card = c;
		}
	}
	/* the recursion may have filled slots: look again before inserting */
	x = memo_slot(m, e, flags, worst ? M_WORST : M_BEST, &found);
	if (!x)
		return -E2BIG;
	if (!found) {
		if (m->n >= MEMO_MAX)
			return -E2BIG;
		m->n++;
		x->used = 1;
		x->event = (uint8_t)e;
		x->flags = flags;
		x->mode = worst ? M_WORST : M_BEST;
		x->t = best;
		x->card = (uint8_t)best_card;
	}
	*ret = best;
	*ret_card = best_card;
	return 0;
}

static int count_paths(const om_scenario *s, struct ex_memo *m, unsigned e, uint32_t flags,
                       uint64_t *ret)
{
	bool found;
	struct memo_entry *x = memo_slot(m, e, flags, M_COUNT, &found);
	if (!x)
		return -E2BIG;
	if (found) {
		*ret = x->paths;
		return 0;
	}
	uint64_t total = 0;
	for (unsigned c = 0; c < OM_EX_CARDS; c++) {
		om_ex_totals v;
		uint32_t f;
		int next;
		uint64_t k = 1;
		ex_card_apply(s, e, c, flags, &v, &f, &next);
		if (next != EX_END) {
			int r = count_paths(s, m, (unsigned)next, f, &k);
			if (r < 0)
				return r;
		}
		total = total + k < total ? UINT64_MAX : total + k;
	}
	x = memo_slot(m, e, flags, M_COUNT, &found);
	if (!x)
		return -E2BIG;
	if (!found) {
		if (m->n >= MEMO_MAX)
			return -E2BIG;
		m->n++;
		x->used = 1;
		x->event = (uint8_t)e;
		x->flags = flags;
		x->mode = M_COUNT;
		x->paths = total;
	}
	*ret = total;
	return 0;
}

uint64_t om_ex_path_count(const om_scenario *s)
{
	struct ex_memo *m = ex_memo_new();
	uint64_t n = 0;
	if (m && count_paths(s, m, 0, 0, &n) < 0)
		n = 0;
	ex_memo_free(m);
	return n;
}

void om_ex_play_start(const om_scenario *s, om_ex_play *p)
{
	memset(p, 0, sizeof(*p));
	p->event = s->nev > 0 ? 0 : -1;
}

/* The value of card c in the current situation: its effect plus the best
 * that can follow. */
static int card_value(const om_scenario *s, struct ex_memo *m, unsigned e, uint32_t flags,
                      unsigned c, om_ex_totals *ret)
{
	om_ex_totals v, rest = {0};
	uint32_t f;
	int next;
	unsigned rc;
	ex_card_apply(s, e, c, flags, &v, &f, &next);
	if (next != EX_END) {
		int r = ex_outcome(s, m, (unsigned)next, f, false, &rest, &rc);
		if (r < 0)
			return r;
	}
	ex_add(&v, &rest);
	*ret = v;
	return 0;
}

static int64_t diff(uint64_t a, uint64_t b)
{
	return (int64_t)a - (int64_t)b; /* totals stay far below 2^63 (caps) */
}

static int play_choose(const om_scenario *s, struct ex_memo *m, om_ex_play *p, unsigned card)
{
	if (p->event < 0 || card >= OM_EX_CARDS || p->nsteps >= OM_EX_MAX_STEPS)
		return -EINVAL;
	unsigned e = (unsigned)p->event;
	om_ex_totals chosen, best;
	unsigned best_card;
	int r = ex_outcome(s, m, e, p->flags, false, &best, &best_card);
	if (r < 0 || (r = card_value(s, m, e, p->flags, card, &chosen)) < 0)
		return r;
	om_ex_step *st = &p->step[p->nsteps];
	memset(st, 0, sizeof(*st));
	st->event = e;
	st->card = card;
	/* a card as good as the best one counts as the best */
	st->best_card = ex_cmp(&chosen, &best) == 0 ? card : best_card;
	if (st->best_card != card) {
		st->saving.minutes = diff(chosen.minutes, best.minutes);
		st->saving.damage_yen = diff(chosen.damage_yen, best.damage_yen);
		st->saving.spread = diff(chosen.spread, best.spread);
		st->saving.reputation = diff(chosen.reputation, best.reputation);
		st->saving.data_lost = diff(chosen.data_lost, best.data_lost);
	}
	uint32_t f;
	int next;
	ex_card_apply(s, e, card, p->flags, &st->effect, &f, &next);
	ex_add(&p->totals, &st->effect);
	st->after = p->totals;
	p->flags = f;
	p->event = next;
	p->nsteps++;
	return 0;
}

int om_ex_play_choose(const om_scenario *s, om_ex_play *p, unsigned card)
{
	struct ex_memo *m = ex_memo_new();
	if (!m)
		return -ENOMEM;
	int r = play_choose(s, m, p, card);
	ex_memo_free(m);
	return r;
}

int om_ex_card_index(const om_scenario *s, unsigned event, const char *id)
{
	if (event >= s->nev || !id)
		return -1;
	for (unsigned c = 0; c < OM_EX_CARDS; c++)
		if (!strcmp(s->ev[event].card[c].id, id))
			return (int)c;
	return -1;
}

static void say(char *err, size_t errlen, const char *key, ...)
{
	if (!err || !errlen)
		return;
	va_list ap;
	va_start(ap, key);
	vsnprintf(err, errlen, om_tr(key), ap);
	va_end(ap);
}

int om_ex_play_script(const om_scenario *s, const char *choices, om_ex_play *ret, char *err,
                      size_t errlen)
{
	struct ex_memo *m = ex_memo_new();
	om_ex_play *p = malloc(sizeof(*p));
	int r = 0;
	if (!m || !p) {
		r = -ENOMEM;
		goto out;
	}
	om_ex_play_start(s, p);
	const char *c = choices ? choices : "";
	unsigned step = 0;
	while (*c) {
		const char *comma = strchr(c, ',');
		size_t n = comma ? (size_t)(comma - c) : strlen(c);
		char id[EX_ID_MAX];
		step++;
		if (p->event < 0) {
			say(err, errlen, "exercise.err.choices_many", step - 1);
			r = -EINVAL;
			goto out;
		}
		snprintf(id, sizeof(id), "%.*s", (int)(n < sizeof(id) ? n : sizeof(id) - 1), c);
		const struct ex_event *ev = &s->ev[p->event];
		int k = n < sizeof(id) ? om_ex_card_index(s, (unsigned)p->event, id) : -1;
		if (k < 0) {
			say(err, errlen, "exercise.err.choice", id, step, ev->id, ev->card[0].id,
			    ev->card[1].id, ev->card[2].id);
			r = -EINVAL;
			goto out;
		}
		if ((r = play_choose(s, m, p, (unsigned)k)) < 0)
			goto out;
		c = comma ? comma + 1 : c + n;
		if (comma && !*c) {
			say(err, errlen, "exercise.err.choices_few", step,
			    s->ev[p->event < 0 ? 0 : p->event].id);
			r = -EINVAL;
			goto out;
		}
	}
	if (p->event >= 0) {
		say(err, errlen, "exercise.err.choices_few", step, s->ev[p->event].id);
		r = -EINVAL;
		goto out;
	}
	*ret = *p;
out:
	free(p);
	ex_memo_free(m);
	return r;
}

static int path(const om_scenario *s, bool worst, om_ex_play *ret)
{
	struct ex_memo *m = ex_memo_new();
	om_ex_play *p = malloc(sizeof(*p));
	int r = 0;
	if (!m || !p) {
		r = -ENOMEM;
		goto out;
	}
	om_ex_play_start(s, p);
	while (p->event >= 0) {
		om_ex_totals t;
		unsigned card;
		if ((r = ex_outcome(s, m, (unsigned)p->event, p->flags, worst, &t, &card)) < 0 ||
		    (r = play_choose(s, m, p, card)) < 0)
			goto out;
	}
	*ret = *p;
out:
	free(p);
	ex_memo_free(m);
	return r;
}

int om_ex_best_path(const om_scenario *s, om_ex_play *ret)
{
	return path(s, false, ret);
}

int om_ex_worst_path(const om_scenario *s, om_ex_play *ret)
{
	return path(s, true, ret);
}

/* ---- text accessors ----------------------------------------------------- */

static enum om_lang L(enum om_lang lang)
{
	return lang == OM_LANG_EN ? OM_LANG_EN : OM_LANG_JA;
}

const char *om_ex_event_id(const om_scenario *s, unsigned e)
{
	return e < s->nev ? s->ev[e].id : "";
}

const char *om_ex_event_title(const om_scenario *s, unsigned e, enum om_lang lang)
{
	return e < s->nev ? s->ev[e].title.t[L(lang)] : "";
}

const char *om_ex_event_text(const om_scenario *s, unsigned e, enum om_lang lang)
{
	return e < s->nev ? s->ev[e].text.t[L(lang)] : "";
}

const char *om_ex_card_id(const om_scenario *s, unsigned e, unsigned c)
{
	return e < s->nev && c < OM_EX_CARDS ? s->ev[e].card[c].id : "";
}

const char *om_ex_card_text(const om_scenario *s, unsigned e, unsigned c, enum om_lang lang)
{
	return e < s->nev && c < OM_EX_CARDS ? s->ev[e].card[c].text.t[L(lang)] : "";
}

const char *om_ex_card_why(const om_scenario *s, unsigned e, unsigned c, enum om_lang lang)
{
	return e < s->nev && c < OM_EX_CARDS ? s->ev[e].card[c].why.t[L(lang)] : "";
}

/* ---- shipped scenarios -------------------------------------------------- */

unsigned om_exercise_shipped_count(void)
{
	return om_ex_shipped_n;
}

const char *om_exercise_shipped_name(unsigned i)
{
	return i < om_ex_shipped_n ? om_ex_shipped_names[i] : NULL;
}

int om_exercise_shipped_load(unsigned i, om_scenario **ret, char *err, size_t errlen)
{
	if (i >= om_ex_shipped_n)
		return -ENOENT;
	char name[96];
	snprintf(name, sizeof(name), "%s.yaml", om_ex_shipped_names[i]);
	return om_scenario_parse(om_ex_shipped_texts[i], om_ex_shipped_lens[i], name, ret, err,
	                         errlen);
}
