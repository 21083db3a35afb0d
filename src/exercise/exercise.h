/* exercise: the incident-response card exercise. A scenario (YAML, both
 * languages in one file) is a set of events; at each event the player picks
 * one of three cards; each card adds to the elapsed time, the damage in yen,
 * the spread, the reputation lost and the records lost, may set flags that
 * later cards and branches test, and says which event comes next. The
 * module loads and validates scenarios, plays them (scripted or in the
 * terminal), finds the best and the worst paths, and writes the debrief
 * (text, JSON, HTML and PDF through the report module's documents). Uses
 * base, store and report. The design note is docs/exercise.md. */
#ifndef OMAMORI_EXERCISE_H
#define OMAMORI_EXERCISE_H

#include "base/base.h"
#include "report/report.h"

/* Hard caps of a scenario (a file over them is refused with its line). */
#define OM_EX_MAX_FILE (1u << 20)
#define OM_EX_MAX_EVENTS 64u
#define OM_EX_CARDS 3u
#define OM_EX_MAX_FLAGS 32u
#define OM_EX_MAX_TEXT 4000u
#define OM_EX_QUESTIONS 25u /* the self-check's questions 1..25 */
#define OM_EX_CHAPTERS 11u  /* the policy's related rules, chapters 1..11 */

typedef struct om_scenario om_scenario;

/* What a card does, and the running totals of a play. */
typedef struct om_ex_totals {
	uint64_t minutes;    /* elapsed time */
	uint64_t damage_yen; /* money lost or spent */
	uint64_t spread;     /* devices, accounts or partners affected */
	uint64_t reputation; /* trust points lost (0..100 per card) */
	uint64_t data_lost;  /* records lost or exposed */
} om_ex_totals;

/* Parses and validates a scenario from text; name is the file name used in
 * error messages. On error returns -EINVAL (or -ENOMEM) and writes
 * "NAME:LINE: field 'F': what is wrong. What to do." into err in the
 * thread's language (om_lang_thread). */
int om_scenario_parse(const char *text, size_t len, const char *name, om_scenario **ret, char *err,
                      size_t errlen);
/* Reads and parses a file (at most OM_EX_MAX_FILE bytes). */
int om_scenario_load(const char *path, om_scenario **ret, char *err, size_t errlen);
om_scenario *om_scenario_free(om_scenario *s);

const char *om_scenario_id(const om_scenario *s);
const char *om_scenario_title(const om_scenario *s, enum om_lang lang);
const char *om_scenario_summary(const om_scenario *s, enum om_lang lang);
unsigned om_scenario_event_count(const om_scenario *s);

/* The shipped scenarios (data/exercise, built into the binary). */
unsigned om_exercise_shipped_count(void);
const char *om_exercise_shipped_name(unsigned i); /* "ransomware-manufacturer" */
int om_exercise_shipped_load(unsigned i, om_scenario **ret, char *err, size_t errlen);

/* ---- play --------------------------------------------------------------- */
#define OM_EX_MAX_STEPS OM_EX_MAX_EVENTS /* a path visits each event at most once */

/* A difference of totals: what a better card would have saved (negative
 * where it would have cost more, e.g. more time for less damage). */
typedef struct om_ex_delta {
	int64_t minutes, damage_yen, spread, reputation, data_lost;
} om_ex_delta;

typedef struct om_ex_step {
	unsigned event;      /* index of the event */
	unsigned card;       /* index of the card chosen, 0..2 */
	om_ex_totals effect; /* what this card added (conditional extras included) */
	om_ex_totals after;  /* the totals after it */
	unsigned best_card;  /* the card that leads to the best outcome from here */
	om_ex_delta saving;  /* what best_card would have saved (both played
	                      * best afterwards); zero when card == best_card */
} om_ex_step;

typedef struct om_ex_play {
	unsigned nsteps;
	om_ex_step step[OM_EX_MAX_STEPS];
	om_ex_totals totals;
	uint32_t flags;
	int event; /* the current event, or -1 when the scenario has ended */
} om_ex_play;

/* Starts a play at the scenario's first event. */
void om_ex_play_start(const om_scenario *s, om_ex_play *p);
/* Plays card (0..2) at the current event. Returns 0, or -EINVAL when the
 * play has ended or card is out of range. */
int om_ex_play_choose(const om_scenario *s, om_ex_play *p, unsigned card);
/* The card of the current event whose id is id, or -1. */
int om_ex_card_index(const om_scenario *s, unsigned event, const char *id);
/* Plays "a,b,c" from the start to the end. Errors (an unknown card, too
 * few or too many choices) return -EINVAL with a message naming the step. */
int om_ex_play_script(const om_scenario *s, const char *choices, om_ex_play *ret, char *err,
                      size_t errlen);
/* The best (least damage, then time, reputation, records, spread) and the
 * worst path, played from the start. */
int om_ex_best_path(const om_scenario *s, om_ex_play *ret);
int om_ex_worst_path(const om_scenario *s, om_ex_play *ret);
/* The number of different paths from start to end. */
uint64_t om_ex_path_count(const om_scenario *s);

/* Text of an event or card in lang (the scenario carries both). */
const char *om_ex_event_id(const om_scenario *s, unsigned event);
const char *om_ex_event_title(const om_scenario *s, unsigned event, enum om_lang lang);
const char *om_ex_event_text(const om_scenario *s, unsigned event, enum om_lang lang);
const char *om_ex_card_id(const om_scenario *s, unsigned event, unsigned card);
const char *om_ex_card_text(const om_scenario *s, unsigned event, unsigned card, enum om_lang lang);
const char *om_ex_card_why(const om_scenario *s, unsigned event, unsigned card, enum om_lang lang);

/* ---- debrief ------------------------------------------------------------ */
enum om_ex_format { OM_EX_TEXT = 0, OM_EX_JSON, OM_EX_HTML, OM_EX_PDF };
/* The debrief of a finished play as text or JSON into out. */
int om_ex_debrief_text(const om_scenario *s, const om_ex_play *p, enum om_lang lang, om_buf *out);
int om_ex_debrief_json(const om_scenario *s, const om_ex_play *p, enum om_lang lang, om_buf *out);
/* The debrief as a document (the caller writes it as HTML or PDF and frees
 * it); NULL when out of memory. */
om_doc *om_ex_debrief_doc(const om_scenario *s, const om_ex_play *p, enum om_lang lang);

/* `omamori exercise ...`: argv[0] is "exercise". Returns 0, 1 or 2. */
int om_exercise_main(int argc, char **argv, enum om_lang lang);

#endif
