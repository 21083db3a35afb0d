/* Unit tests for the card exercise: every shipped scenario loads; scripted
 * runs of the best, the worst and a mixed path of each, with totals worked
 * out by hand from the scenario files (the sums are in the comments); the
 * best and worst paths found by the search; what a better card saves,
 * including a saving that costs time; malformed scenarios refused with
 * their line and field; bad choices; the debrief in text, JSON and HTML. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "exercise/exercise.h"

static om_scenario *shipped(const char *name)
{
	for (unsigned i = 0; i < om_exercise_shipped_count(); i++) {
		if (!strcmp(om_exercise_shipped_name(i), name)) {
			om_scenario *s = NULL;
			char err[1024] = "";
			int r = om_exercise_shipped_load(i, &s, err, sizeof(err));
			if (r < 0)
				print_error("%s\n", err);
			assert_int_equal(r, 0);
			return s;
		}
	}
	fail_msg("no shipped scenario %s", name);
	return NULL;
}

static int setup(void **state)
{
	(void)state;
	if (om_i18n_init() < 0)
		return -1;
	om_lang_set_thread(OM_LANG_EN);
	return 0;
}

static void test_shipped_all_valid(void **state)
{
	(void)state;
	assert_int_equal(om_exercise_shipped_count(), 4);
	for (unsigned i = 0; i < om_exercise_shipped_count(); i++) {
		om_scenario *s = NULL;
		char err[1024] = "";
		int r = om_exercise_shipped_load(i, &s, err, sizeof(err));
		if (r < 0)
			print_error("%s: %s\n", om_exercise_shipped_name(i), err);
		assert_int_equal(r, 0);
		/* the file name is the scenario's id; both languages present */
		assert_string_equal(om_scenario_id(s), om_exercise_shipped_name(i));
		assert_true(strlen(om_scenario_title(s, OM_LANG_JA)) > 0);
		assert_true(strlen(om_scenario_title(s, OM_LANG_EN)) > 0);
		assert_string_not_equal(om_scenario_title(s, OM_LANG_JA),
		                        om_scenario_title(s, OM_LANG_EN));
		om_scenario_free(s);
	}
}

struct want {
	const char *choices;
	uint64_t minutes, damage, spread, reputation, data_lost;
};

static void check_run(om_scenario *s, const struct want *w)
{
	om_ex_play p;
	char err[512] = "";
	int r = om_ex_play_script(s, w->choices, &p, err, sizeof(err));
	if (r < 0)
		print_error("%s: %s\n", w->choices, err);
	assert_int_equal(r, 0);
	assert_int_equal(p.event, -1);
	assert_int_equal(p.totals.minutes, w->minutes);
	assert_int_equal(p.totals.damage_yen, w->damage);
	assert_int_equal(p.totals.spread, w->spread);
	assert_int_equal(p.totals.reputation, w->reputation);
	assert_int_equal(p.totals.data_lost, w->data_lost);
}

static void check_path(om_scenario *s, bool worst, const struct want *w)
{
	om_ex_play p;
	assert_int_equal(worst ? om_ex_worst_path(s, &p) : om_ex_best_path(s, &p), 0);
	char ids[128] = "";
	for (unsigned i = 0; i < p.nsteps; i++) {
		size_t o = strlen(ids);
		snprintf(ids + o, sizeof(ids) - o, "%s%s", i ? "," : "",
		         om_ex_card_id(s, p.step[i].event, p.step[i].card));
	}
	assert_string_equal(ids, w->choices);
	assert_int_equal(p.totals.damage_yen, w->damage);
	assert_int_equal(p.totals.minutes, w->minutes);
}

/* ransomware-manufacturer (events first-alert, server, second-demand,
 * restore, customer, reinfection):
 * best a,a,b,a: first-alert a 15 min, spread 1 (isolated); server a
 *   240 min, 3,500,000 (no extra: isolated; sets evidence); restore b
 *   120 min (no extra: evidence); customer a 120 min, 500,000; evidence so
 *   end. Damage 3,500,000 + 500,000 = 4,000,000; minutes 15 + 240 + 120 +
 *   120 = 495; spread 1.
 *   The other ways from server with isolated: b (wipe) 1,500,000 + restore
 *   a 1,000,000 (wiped) + customer a 500,000 + reinfection a 3,500,000 =
 *   6,500,000; c (pay) 5,000,000 + at least 4,000,000 after = 9,000,000.
 * worst c,c,b,b,c,c: first-alert c 60 min, spread 10, rep 5; server c
 *   180 min, 5,000,000, rep 10 (paid); second-demand b 120 min, 5,000,000,
 *   rep 10; restore b 120 + 1,440 min, 2,000,000 (no evidence); customer c
 *   3,000,000, rep 40; reinfection (no evidence) c 180 min, 5,000,000,
 *   rep 20. Damage 5 + 5 + 2 + 3 + 5 = 20,000,000; minutes 60 + 180 + 120
 *   + 1,560 + 0 + 180 = 2,100; spread 10; rep 5 + 10 + 10 + 40 + 20 = 85.
 *   (first-alert a and b give the same damage after server c; c takes the
 *   most minutes, so the worst path starts with c.)
 * mixed b,b,a,b,a: first-alert b 20 min, spread 4; server b 480 min,
 *   1,500,000 (wiped); restore a 240 min, 1,000,000 (wiped); customer b
 *   30 min, 2,000,000, rep 30; no evidence: reinfection a 480 min,
 *   3,500,000. Damage 1.5 + 1.0 + 2.0 + 3.5 = 8,000,000; minutes 20 + 480
 *   + 240 + 30 + 480 = 1,250; spread 4; rep 30. */
static void test_ransomware(void **state)
{
	(void)state;
	om_scenario *s = shipped("ransomware-manufacturer");
	const struct want best = {"a,a,b,a", 495, 4000000, 1, 0, 0};
	const struct want worst = {"c,c,b,b,c,c", 2100, 20000000, 10, 85, 0};
	const struct want mixed = {"b,b,a,b,a", 1250, 8000000, 4, 30, 0};
	check_run(s, &best);
	check_run(s, &worst);
	check_run(s, &mixed);
	check_path(s, false, &best);
	check_path(s, true, &worst);

	/* what the better cards save on the mixed path:
	 * step 1 (first-alert, b): not isolated, the best way on from server
	 *   is b (6,500,000 in 480 + 240 + 120 + 480 = 1,320 min, see above;
	 *   server a would be 3,500,000 + 3,000,000 + 500,000 = 7,000,000), so
	 *   b is worth 6,500,000 in 20 + 1,320 = 1,340 min against a's
	 *   4,000,000 in 495: a saves 2,500,000 and 845 min.
	 * step 2 (server, b): from here b is the best card: no saving.
	 * step 4 (customer, b, wiped): b 2,000,000 in 30 min, a 500,000 in
	 *   120; both then reinfection a (3,500,000, 480 min): a saves
	 *   1,500,000 but takes 90 min longer, and 30 trust points. */
	om_ex_play p;
	char err[256];
	assert_int_equal(om_ex_play_script(s, "b,b,a,b,a", &p, err, sizeof(err)), 0);
	assert_int_equal(p.nsteps, 5);
	assert_int_equal(p.step[0].card, 1);
	assert_int_equal(p.step[0].best_card, 0);
	assert_int_equal(p.step[0].saving.damage_yen, 2500000);
	assert_int_equal(p.step[0].saving.minutes, 845);
	assert_int_equal(p.step[1].best_card, p.step[1].card);
	assert_int_equal(p.step[1].saving.damage_yen, 0);
	assert_int_equal(p.step[2].best_card, p.step[2].card);
	assert_int_equal(p.step[3].best_card, 0);
	assert_int_equal(p.step[3].saving.damage_yen, 1500000);
	assert_int_equal(p.step[3].saving.minutes, -90);
	assert_int_equal(p.step[3].saving.reputation, 30);
	assert_int_equal(p.step[4].best_card, p.step[4].card);
	/* per-step effects and running totals */
	assert_int_equal(p.step[2].effect.damage_yen, 1000000);
	assert_int_equal(p.step[2].after.damage_yen, 2500000);
	assert_string_equal(om_ex_event_id(s, p.step[4].event), "reinfection");
	om_scenario_free(s);
}

/* bec-wholesaler (new-account, reply, confirmed-fraud, money-gone,
 * warn-others, invoice-swap):
 * best a,a,a: new-account a 30 min (verified); confirmed-fraud a 120 min,
 *   100,000 (secured); warn-others a 180 min, 300,000 (secured: no extra,
 *   and end). Damage 400,000; minutes 330.
 * worst b,c,c,b,c: new-account b 10 min; reply c 120 min (paid);
 *   money-gone c 30 min, 9,600,000, rep 10; warn-others b 2,000,000 rep 20
 *   + (not secured) 3,000,000 rep 30 spread 15; invoice-swap c 4,000,000,
 *   rep 30. Damage 9.6 + 5 + 4 = 18,600,000; minutes 10 + 120 + 30 = 160;
 *   spread 15; rep 10 + 50 + 30 = 90. (new-account c reaches the same
 *   damage in 15 + 30 = 45 min; b then reply c takes longer.)
 * mixed b,a,b,c,b: new-account b 10; reply a 30 (verified);
 *   confirmed-fraud b 5 (not secured); warn-others c 30 min, 1,000,000 +
 *   1,500,000, rep 5, spread 5; invoice-swap b 30 min, 1,000,000. Damage
 *   3,500,000; minutes 105; spread 5; rep 5. */
static void test_bec(void **state)
{
	(void)state;
	om_scenario *s = shipped("bec-wholesaler");
	const struct want best = {"a,a,a", 330, 400000, 0, 0, 0};
	const struct want worst = {"b,c,c,b,c", 160, 18600000, 15, 90, 0};
	const struct want mixed = {"b,a,b,c,b", 105, 3500000, 5, 5, 0};
	check_run(s, &best);
	check_run(s, &worst);
	check_run(s, &mixed);
	check_path(s, false, &best);
	check_path(s, true, &worst);
	om_scenario_free(s);
}

/* web-defacement (customer-call, found-script, customer-data, complaints,
 * defaced-again):
 * best a,a,a: customer-call a 30 min (offline); found-script a 480 min,
 *   1,000,000 (offline: no extra; evidence, patched); customer-data a
 *   600 min, 460,000, 2,000 records (evidence: no extra; patched: end).
 *   Damage 1,460,000; minutes 1,110; records 2,000.
 * worst c,c,c,b,c: customer-call c 500,000, spread 50, rep 10;
 *   found-script c 2,880 min, 2,000,000 + 300,000 (not offline), spread
 *   30, rep 10 (all three from the extra; sets evidence only);
 *   customer-data c 60 min, rep 15, 2,000 records; complaints b 3,000,000,
 *   rep 50; not patched: defaced-again c 2,000,000, rep 10. Damage 0.5 +
 *   2.3 + 3 + 2 = 7,800,000; minutes 2,880 + 60 = 2,940; spread 50 + 30 =
 *   80; rep 10 + 10 + 15 + 50 + 10 = 95.
 * mixed a,b,c,c,a: customer-call a 30; found-script b 60 min, 50,000;
 *   customer-data c 60 min, rep 15, 2,000 records; complaints c 1,000,000,
 *   rep 40; not patched: defaced-again a 480 min, 1,000,000. Damage
 *   2,050,000; minutes 630; rep 55; records 2,000. */
static void test_web(void **state)
{
	(void)state;
	om_scenario *s = shipped("web-defacement");
	const struct want best = {"a,a,a", 1110, 1460000, 0, 0, 2000};
	const struct want worst = {"c,c,c,b,c", 2940, 7800000, 80, 95, 2000};
	const struct want mixed = {"a,b,c,c,a", 630, 2050000, 0, 55, 2000};
	check_run(s, &best);
	check_run(s, &worst);
	check_run(s, &mixed);
	check_path(s, false, &best);
	check_path(s, true, &worst);
	om_scenario_free(s);
}

/* lost-laptop (lost, what-was-on-it, notify, complaint):
 * best a,a,a: lost a 60 min, 1,500 records (locked); what-was-on-it a
 *   240 min (locked: no extra; scoped); notify a 600 min, 1,370,000
 *   (195,000 letters + 975,000 gifts + 200,000 desk; scoped and not
 *   hidden: no extras), end. Damage 1,370,000; minutes 900; records 1,500.
 * worst c,c,b,c: lost c 1,440 min, rep 5, 1,500 records; what-was-on-it c
 *   480 min, rep 10; notify b 240 min, rep 20; complaint c 18,000,000
 *   (1,500 x 12,000, JNSA's formula with a poor response), rep 50. Damage
 *   18,000,000; minutes 2,160; rep 85; records 1,500.
 * mixed b,a,b,a: lost b 720 min, 1,500 records; what-was-on-it a 240 min +
 *   (not locked) spread 3, 3,000 records; notify b 240 min, rep 20;
 *   complaint a 900 min, 1,870,000, rep 20. Damage 1,870,000; minutes
 *   2,100; spread 3; rep 40; records 4,500. */
static void test_laptop(void **state)
{
	(void)state;
	om_scenario *s = shipped("lost-laptop");
	const struct want best = {"a,a,a", 900, 1370000, 0, 0, 1500};
	const struct want worst = {"c,c,b,c", 2160, 18000000, 0, 85, 1500};
	const struct want mixed = {"b,a,b,a", 2100, 1870000, 3, 40, 4500};
	check_run(s, &best);
	check_run(s, &worst);
	check_run(s, &mixed);
	check_path(s, false, &best);
	check_path(s, true, &worst);
	/* the hidden flag adds 120 min and 10 points at notify a:
	 * c,a,a = 1,440 + 240 + 600 + 120 = 2,400 min, rep 5 + 10 = 15,
	 * 1,370,000 (scoped), spread 3 and 3,000 more records (not locked) */
	const struct want hidden = {"c,a,a", 2400, 1370000, 3, 15, 4500};
	check_run(s, &hidden);
	om_scenario_free(s);
}

static void test_choices(void **state)
{
	(void)state;
	om_scenario *s = shipped("lost-laptop");
	om_ex_play p;
	char err[512];
	assert_int_equal(om_ex_play_script(s, "a,x,a", &p, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "choice 'x' at step 2 (event 'what-was-on-it')"));
	assert_int_equal(om_ex_play_script(s, "a,a", &p, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "stop after step 2"));
	assert_non_null(strstr(err, "'notify'"));
	assert_int_equal(om_ex_play_script(s, "a,a,a,b", &p, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "ends after step 3"));
	assert_int_equal(om_ex_play_script(s, "a,a,", &p, err, sizeof(err)), -EINVAL);
	assert_int_equal(om_ex_play_script(s, "", &p, err, sizeof(err)), -EINVAL);
	assert_int_equal(om_ex_play_script(s, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", &p, err,
	                                   sizeof(err)),
	                 -EINVAL);
	/* step by step, as the terminal and the console play */
	om_ex_play_start(s, &p);
	assert_int_equal(p.event, 0);
	assert_int_equal(om_ex_card_index(s, 0, "b"), 1);
	assert_int_equal(om_ex_card_index(s, 0, "z"), -1);
	assert_int_equal(om_ex_play_choose(s, &p, 3), -EINVAL);
	assert_int_equal(om_ex_play_choose(s, &p, 0), 0);
	assert_int_equal(om_ex_play_choose(s, &p, 0), 0);
	assert_int_equal(om_ex_play_choose(s, &p, 0), 0);
	assert_int_equal(p.event, -1);
	assert_int_equal(p.totals.damage_yen, 1370000);
	assert_int_equal(om_ex_play_choose(s, &p, 0), -EINVAL);
	om_scenario_free(s);
}

/* ---- malformed scenarios ----------------------------------------------- */

/* A small valid scenario; the tests below change one line of it. */
static const char base[] =
    "id: t\n"                                                             /* 1 */
    "version: 1\n"                                                        /* 2 */
    "title: {ja: テスト, en: Test}\n"                                     /* 3 */
    "summary: {ja: 要約, en: Summary}\n"                                  /* 4 */
    "events:\n"                                                           /* 5 */
    "  - id: e1\n"                                                        /* 6 */
    "    title: {ja: 一, en: One}\n"                                      /* 7 */
    "    text: {ja: 本文, en: Text}\n"                                    /* 8 */
    "    cards:\n"                                                        /* 9 */
    "      - {id: a, text: {ja: あ, en: A}, why: {ja: 理由, en: Why}, "
    "effects: {minutes: 10, damage: 100}, sets: f, next: e2}\n"           /* 10 */
    "      - {id: b, text: {ja: い, en: B}, why: {ja: 理由, en: Why}, "
    "effects: {minutes: 5, damage: 300}, next: e2}\n"                     /* 11 */
    "      - {id: c, text: {ja: う, en: C}, why: {ja: 理由, en: Why}, "
    "effects: {damage: 50}, next: end}\n"                                 /* 12 */
    "  - id: e2\n"                                                        /* 13 */
    "    title: {ja: 二, en: Two}\n"                                      /* 14 */
    "    text: {ja: 本文, en: Text}\n"                                    /* 15 */
    "    cards:\n"                                                        /* 16 */
    "      - {id: a, text: {ja: あ, en: A}, why: {ja: 理由, en: Why}, "
    "effects: {damage: 1000}, extra: [{unless: f, effects: {damage: 500}}], next: end}\n" /* 17 */
    "      - {id: b, text: {ja: い, en: B}, why: {ja: 理由, en: Why}, "
    "effects: {damage: 2000}, next: [{if: f, goto: end}, {goto: end}]}\n" /* 18 */
    "      - {id: c, text: {ja: う, en: C}, why: {ja: 理由, en: Why}, "
    "effects: {minutes: 1}, next: end}\n";                                /* 19 */

/* base with the first occurrence of from replaced by to, parsed; returns
 * the result and leaves the message in err */
static int parse_variant(const char *from, const char *to, char *err, size_t errlen)
{
	char text[4096];
	const char *at = from ? strstr(base, from) : NULL;
	if (from)
		assert_non_null(at);
	if (at)
		snprintf(text, sizeof(text), "%.*s%s%s", (int)(at - base), base, to,
		         at + strlen(from));
	else
		snprintf(text, sizeof(text), "%s", base);
	om_scenario *s = NULL;
	int r = om_scenario_parse(text, strlen(text), "t.yaml", &s, err, errlen);
	if (r == 0) {
		assert_non_null(s);
		om_scenario_free(s);
	}
	return r;
}

#define REFUSED(from, to, want1, want2)                                                           \
	do {                                                                                      \
		char err[1024] = "";                                                              \
		assert_int_equal(parse_variant(from, to, err, sizeof(err)), -EINVAL);              \
		if (!strstr(err, want1) || !strstr(err, want2))                                   \
			fail_msg("message '%s' lacks '%s' or '%s'", err, want1, want2);           \
	} while (0)

static void test_base_valid(void **state)
{
	(void)state;
	char err[1024] = "";
	assert_int_equal(parse_variant(NULL, NULL, err, sizeof(err)), 0);
	om_scenario *s = NULL;
	assert_int_equal(om_scenario_parse(base, strlen(base), "t.yaml", &s, err, sizeof(err)),
	                 0);
	/* e1 c ends at once with 50 yen: the best path. Worst: e1 b (300, not f)
	 * then e2 b (2,000) = 2,300 (e2 a would be 1,000 + 500 = 1,500). */
	om_ex_play p;
	assert_int_equal(om_ex_best_path(s, &p), 0);
	assert_int_equal(p.totals.damage_yen, 50);
	assert_int_equal(om_ex_worst_path(s, &p), 0);
	assert_int_equal(p.totals.damage_yen, 2300);
	/* paths: e1 a or b, each with 3 cards at e2, and e1 c: 3 + 3 + 1 */
	assert_int_equal(om_ex_path_count(s), 7);
	om_scenario_free(s);
}

static void test_malformed(void **state)
{
	(void)state;
	/* bad YAML: a tab where the indentation of line 13 should be */
	REFUSED("  - id: e2\n", "\t- id: e2\n", "t.yaml:13: ", "not valid YAML");
	/* a card pointing to a missing event (line 11) */
	REFUSED("damage: 300}, next: e2}", "damage: 300}, next: e9}", "t.yaml:11: ",
	        "field 'events[e1].cards[b].next' points to event 'e9'");
	/* a loop without an end: e2's card a goes back to e1 (line 17) */
	REFUSED("{damage: 500}}], next: end}", "{damage: 500}}], next: e1}", "t.yaml:17: ",
	        "field 'events[e2].cards[a].next' leads back to event 'e1'");
	/* an effect of the wrong type (line 12) */
	REFUSED("effects: {damage: 50}", "effects: {damage: fifty}", "t.yaml:12: ",
	        "field 'events[e1].cards[c].effects.damage' must be a whole number from 0 to "
	        "100000000000, not 'fifty'");
	REFUSED("effects: {damage: 50}", "effects: {damage: -50}", "t.yaml:12: ", "not '-50'");
	REFUSED("effects: {damage: 50}", "effects: {damage: [50]}", "t.yaml:12: ", "not '[...]'");
	REFUSED("effects: {damage: 50}", "effects: {damage: 100000000001}", "t.yaml:12: ",
	        "effects.damage");
	REFUSED("effects: {damage: 50}", "effects: {reputation: 101}", "t.yaml:12: ",
	        "effects.reputation' must be a whole number from 0 to 100,");
	REFUSED("effects: {damage: 50}", "effects: {damge: 50}", "t.yaml:12: ",
	        "field 'events[e1].cards[c].effects.damge' is not a scenario field");
	REFUSED("effects: {damage: 50}", "effects: 50", "t.yaml:12: ",
	        "field 'events[e1].cards[c].effects' must be a mapping");
	/* an unknown field, a missing field, a missing language */
	REFUSED("    text: {ja: 本文, en: Text}\n    cards", "    txt: {ja: 本文, en: Text}\n    cards",
	        "t.yaml:8: ", "field 'events[1].txt' is not a scenario field");
	REFUSED("    title: {ja: 一, en: One}\n", "", "t.yaml:6: ",
	        "field 'events[e1].title' is missing");
	REFUSED("title: {ja: 一, en: One}", "title: {ja: 一}", "t.yaml:7: ",
	        "field 'events[e1].title' needs its text in both languages");
	REFUSED("title: {ja: 一, en: One}", "title: One", "t.yaml:7: ", "both languages");
	REFUSED("title: {ja: 一, en: One}", "title: {ja: 一, en: \"  \"}", "t.yaml:7: ",
	        "both languages");
	/* two cards only: the list starts on line 10 */
	REFUSED("      - {id: c, text: {ja: う, en: C}, why: {ja: 理由, en: Why}, "
	        "effects: {damage: 50}, next: end}\n",
	        "", "t.yaml:10: ", "field 'events[e1].cards' has 2 cards");
	/* version, aliases, duplicate and reserved ids */
	REFUSED("version: 1", "version: 2", "t.yaml:2: ", "field 'version'");
	REFUSED("version: 1", "version: &v 1", "t.yaml:2: ", "aliases");
	REFUSED("  - id: e2\n", "  - id: e1\n", "t.yaml:13: ", "the id 'e1' is used twice");
	REFUSED("{id: b, text: {ja: い, en: B}", "{id: a, text: {ja: い, en: B}", "t.yaml:11: ",
	        "the id 'a' is used twice");
	REFUSED("  - id: e2\n", "  - id: end\n", "t.yaml:13: ", "'end' means the end");
	REFUSED("  - id: e2\n", "  - id: \"e 2\"\n", "t.yaml:13: ", "is not a usable id");
	/* an event nobody reaches: e1's cards a and b end instead of going on
	 * to e2 (line 13) */
	{
		char fixed[4096], err[1024];
		size_t o = 0;
		for (const char *q = base; *q && o + 12 < sizeof(fixed);) {
			if (!strncmp(q, "next: e2}", 9)) {
				memcpy(fixed + o, "next: end}", 10);
				o += 10;
				q += 9;
			} else {
				fixed[o++] = *q++;
			}
		}
		fixed[o] = 0;
		om_scenario *s = NULL;
		assert_int_equal(om_scenario_parse(fixed, o, "t.yaml", &s, err, sizeof(err)),
		                 -EINVAL);
		assert_non_null(strstr(err, "t.yaml:13: event 'e2' can never be reached"));
	}
	/* a flag no card sets (line 17) */
	REFUSED("unless: f,", "unless: g,", "t.yaml:17: ",
	        "field 'events[e2].cards[a].extra[1].unless' tests the flag 'g'");
	/* the last way on has a condition (line 18) */
	REFUSED("[{if: f, goto: end}, {goto: end}]", "[{if: f, goto: end}]", "t.yaml:18: ",
	        "the last entry must have no 'if'");
	REFUSED("[{if: f, goto: end}, {goto: end}]", "[{if: f, unless: f, goto: end}, {goto: end}]",
	        "t.yaml:18: ", "both 'if' and 'unless'");
	REFUSED("extra: [{unless: f, effects", "extra: [{effects", "t.yaml:17: ",
	        "needs 'if' or 'unless'");
	/* the file as a whole */
	{
		char err[1024];
		om_scenario *s = NULL;
		assert_int_equal(om_scenario_parse("", 0, "e.yaml", &s, err, sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, "e.yaml: the file holds no scenario"));
		assert_int_equal(om_scenario_parse("- 1\n", 4, "l.yaml", &s, err, sizeof(err)),
		                 -EINVAL);
		assert_non_null(strstr(err, "l.yaml:1: field '' must be a mapping"));
		const char two[] = "id: x\n---\nid: y\n";
		assert_int_equal(om_scenario_parse(two, strlen(two), "d.yaml", &s, err, sizeof(err)),
		                 -EINVAL);
		assert_non_null(strstr(err, "d.yaml:2: "));
		assert_int_equal(om_scenario_load("/nonexistent/x.yaml", &s, err, sizeof(err)),
		                 -ENOENT);
		assert_non_null(strstr(err, "/nonexistent/x.yaml: cannot read the file"));
	}
	/* Japanese messages */
	om_lang_set_thread(OM_LANG_JA);
	REFUSED("damage: 300}, next: e2}", "damage: 300}, next: e9}", "t.yaml:11: ",
	        "このファイルにありません");
	om_lang_set_thread(OM_LANG_EN);
}

/* ---- the debrief --------------------------------------------------------- */

static void test_debrief(void **state)
{
	(void)state;
	om_scenario *s = shipped("ransomware-manufacturer");
	om_ex_play p;
	char err[256];
	assert_int_equal(om_ex_play_script(s, "b,b,a,b,a", &p, err, sizeof(err)), 0);
	om_buf b;
	om_buf_init(&b, 1 << 22);

	assert_int_equal(om_ex_debrief_text(s, &p, OM_LANG_EN, &b), 0);
	const char *t = om_buf_cstr(&b);
	assert_non_null(strstr(t, "Your cards: b,b,a,b,a\nBest cards: a,a,b,a\n"));
	assert_non_null(strstr(t, "  Damage: 8,000,000 yen | 4,000,000 yen | 20,000,000 yen\n"));
	/* 1,250 min = 20 h 50 min; 495 = 8 h 15; 2,100 = 35 h 0 */
	assert_non_null(strstr(t, "  Time taken: 20 h 50 min | 8 h 15 min | 35 h 0 min\n"));
	assert_non_null(strstr(t, "It would have saved 2,500,000 yen and 14 h 5 min"));
	assert_non_null(strstr(t, "It would have saved 1,500,000 yen, though it takes 1 h 30 min "
	                          "longer"));
	/* advice from the better cards (first-alert a: 24, 20 / 10; customer a:
	 * 22, 24 / 10, 1) */
	assert_non_null(strstr(t, "Self-check question 20: "));
	assert_non_null(strstr(t, "Self-check question 22: "));
	assert_non_null(strstr(t, "Rules, chapter 1: organisational measures"));
	assert_null(strstr(t, "Self-check question 11: "));

	om_buf_reset(&b);
	assert_int_equal(om_ex_debrief_json(s, &p, OM_LANG_JA, &b), 0);
	t = om_buf_cstr(&b);
	assert_non_null(strstr(t, "\"choices\":[\"b\",\"b\",\"a\",\"b\",\"a\"]"));
	assert_non_null(strstr(t, "\"totals\":{\"minutes\":1250,\"damage_yen\":8000000,"
	                          "\"spread\":4,\"reputation\":30,\"data_lost\":0}"));
	assert_non_null(strstr(t, "\"best_card\":\"a\",\"saving\":{\"minutes\":-90,"
	                          "\"damage_yen\":1500000"));
	assert_non_null(strstr(t, "\"best_every_step\":false"));
	assert_non_null(strstr(t, "{\"n\":24,\"topic\":\"事故が起きたときの体制と対応手順を決めておく\"}"));

	om_buf_reset(&b);
	om_doc *d = om_ex_debrief_doc(s, &p, OM_LANG_JA);
	assert_non_null(d);
	assert_int_equal(om_doc_html(d, &b, err, sizeof(err)), 0);
	t = om_buf_cstr(&b);
	assert_non_null(strstr(t, "<html lang=\"ja\">"));
	assert_non_null(strstr(t, "振り返り: 製造業 (従業員 30 名) のランサムウェア被害"));
	assert_non_null(strstr(t, "8,000,000円"));
	assert_non_null(strstr(t, "関連規程 第 10 章: 情報セキュリティインシデント対応ならびに事業継続管理"));
	assert_non_null(strstr(t, "<svg"));
	/* nothing cut inside a character (the document would show U+FFFD) */
	assert_null(strstr(t, "\xef\xbf\xbd"));
	assert_non_null(strstr(t, "<td>広がり (被害を受けた機器・アカウント・取引先)</td>"));
	om_doc_free(d);

	/* every question and chapter the advice can name has its text in both
	 * languages (om_msg gives the key back when it is missing) */
	for (unsigned q = 1; q <= OM_EX_QUESTIONS + OM_EX_CHAPTERS; q++) {
		char key[48];
		if (q <= OM_EX_QUESTIONS)
			snprintf(key, sizeof(key), "exercise.question.%u", q);
		else
			snprintf(key, sizeof(key), "exercise.chapter.%u", q - OM_EX_QUESTIONS);
		assert_string_not_equal(om_msg(OM_LANG_JA, key), key);
		assert_string_not_equal(om_msg(OM_LANG_EN, key), key);
	}

	/* a perfect play: keep the measures in place */
	assert_int_equal(om_ex_play_script(s, "a,a,b,a", &p, err, sizeof(err)), 0);
	om_buf_reset(&b);
	assert_int_equal(om_ex_debrief_text(s, &p, OM_LANG_EN, &b), 0);
	assert_non_null(strstr(om_buf_cstr(&b), "best card at every step"));
	assert_non_null(strstr(om_buf_cstr(&b), "Self-check question 11: "));
	om_buf_free(&b);
	om_scenario_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_shipped_all_valid), cmocka_unit_test(test_ransomware),
	    cmocka_unit_test(test_bec),               cmocka_unit_test(test_web),
	    cmocka_unit_test(test_laptop),            cmocka_unit_test(test_choices),
	    cmocka_unit_test(test_base_valid),        cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_debrief),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
