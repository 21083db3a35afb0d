/* exercise: the scenario in memory, shared by the loader, the player and
 * the debrief (not part of the module's public header). */
#ifndef OMAMORI_EXERCISE_INTERNAL_H
#define OMAMORI_EXERCISE_INTERNAL_H

#include "exercise/exercise.h"

#define EX_ID_MAX 32
#define EX_MAX_EXTRA 4
#define EX_MAX_NEXT 4
#define EX_MAX_ADVICE 8
#define EX_END (-1)

struct ex_text {
	const char *t[OM_LANG_COUNT];
};

/* A condition on the flags: none (flag < 0), "if: F" or "unless: F". */
struct ex_cond {
	int flag;
	bool negate;
};

struct ex_extra {
	struct ex_cond cond;
	om_ex_totals eff;
};

struct ex_next {
	struct ex_cond cond;
	int event; /* index, or EX_END */
	char target[EX_ID_MAX];
	size_t line;
};

struct ex_card {
	char id[EX_ID_MAX];
	struct ex_text text, why;
	om_ex_totals eff;
	struct ex_extra extra[EX_MAX_EXTRA];
	unsigned nextra;
	uint32_t sets;
	struct ex_next next[EX_MAX_NEXT];
	unsigned nnext;
	uint8_t question[EX_MAX_ADVICE];
	unsigned nquestion;
	uint8_t chapter[EX_MAX_ADVICE];
	unsigned nchapter;
	size_t line;
};

struct ex_event {
	char id[EX_ID_MAX];
	struct ex_text title, text;
	struct ex_card card[OM_EX_CARDS];
	size_t line;
};

struct om_scenario {
	char id[EX_ID_MAX * 2];
	struct ex_text title, summary;
	struct ex_event ev[OM_EX_MAX_EVENTS];
	unsigned nev;
	char flag[OM_EX_MAX_FLAGS][EX_ID_MAX];
	unsigned nflags;
	void *arena; /* the strings, freed with the scenario */
};

static inline bool ex_cond_holds(const struct ex_cond *c, uint32_t flags)
{
	if (c->flag < 0)
		return true;
	bool set = (flags >> c->flag) & 1u;
	return c->negate ? !set : set;
}

static inline void ex_add(om_ex_totals *a, const om_ex_totals *b)
{
	a->minutes += b->minutes;
	a->damage_yen += b->damage_yen;
	a->spread += b->spread;
	a->reputation += b->reputation;
	a->data_lost += b->data_lost;
}

/* What card c of event e adds under flags (its extras included), the flags
 * after it, and where it leads. */
void ex_card_apply(const om_scenario *s, unsigned e, unsigned c, uint32_t flags,
                   om_ex_totals *ret_eff, uint32_t *ret_flags, int *ret_next);
/* -1, 0, 1: a is better, equal, worse than b (damage, minutes, reputation,
 * records, spread, in that order). */
int ex_cmp(const om_ex_totals *a, const om_ex_totals *b);
/* The best (or worst) totals from event e under flags to the end, and the
 * card to play there. Returns 0 or -E2BIG when the scenario has more
 * situations than the analysis keeps. */
struct ex_memo;
struct ex_memo *ex_memo_new(void);
struct ex_memo *ex_memo_free(struct ex_memo *m);
int ex_outcome(const om_scenario *s, struct ex_memo *m, unsigned e, uint32_t flags, bool worst,
               om_ex_totals *ret, unsigned *ret_card);

/* The shipped scenarios, embedded at build time (exercise_data.c). */
extern const char *const om_ex_shipped_names[];
extern const char *const om_ex_shipped_texts[];
extern const size_t om_ex_shipped_lens[];
extern const unsigned om_ex_shipped_n;

#endif
