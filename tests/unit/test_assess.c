/* Unit tests for the assessment kit (src/assess): self-check scoring at
 * every band edge, "don't know", missing answers, departments combined
 * and rounded, radar areas, SECURITY ACTION readiness; answer files in
 * YAML and JSON and their errors; JNSA's leak model on three cases worked
 * by hand; scenarios and their edits; SME limits at their edges;
 * enrolment order; the risk sheet's likelihood table, CSV (quotes, errors)
 * and the XLSX round trip; the workshop file; the policy document's
 * chapters and filled answers. Expected values are worked out in the
 * comments, never taken from the program's output. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "assess/assess.h"

static om_assess_sheet *sheet_new(void)
{
	om_assess_sheet *s = malloc(sizeof(*s));
	assert_non_null(s);
	om_assess_sheet_init(s);
	return s;
}

/* yes for questions 1..ny, then np partly, then nu unknown, the rest no */
static void fill(om_assess_dept *d, unsigned ny, unsigned np, unsigned nu)
{
	for (unsigned q = 0; q < OM_ASSESS_QUESTIONS; q++) {
		if (q < ny)
			d->answer[q] = OM_ANS_YES;
		else if (q < ny + np)
			d->answer[q] = OM_ANS_PARTLY;
		else if (q < ny + np + nu)
			d->answer[q] = OM_ANS_UNKNOWN;
		else
			d->answer[q] = OM_ANS_NO;
	}
}

static int score_of(unsigned ny, unsigned np, unsigned nu, unsigned *band)
{
	om_assess_sheet *s = sheet_new();
	om_assess_result r;
	fill(&s->dept[0], ny, np, nu);
	om_assess_score(s, &r);
	free(s);
	*band = r.band;
	return r.score;
}

static void test_band_edges(void **state)
{
	(void)state;
	unsigned b;
	/* 25 x 4 = 100: excellent */
	assert_int_equal(score_of(25, 0, 0, &b), 100);
	assert_int_equal(b, 0);
	/* 24 x 4 + 2 = 98: good (70-99) */
	assert_int_equal(score_of(24, 1, 0, &b), 98);
	assert_int_equal(b, 1);
	/* 17 x 4 + 2 = 70: good, the band's lowest */
	assert_int_equal(score_of(17, 1, 0, &b), 70);
	assert_int_equal(b, 1);
	/* 17 x 4 + 2 - 1 = 69: fair */
	assert_int_equal(score_of(17, 1, 1, &b), 69);
	assert_int_equal(b, 2);
	/* 12 x 4 + 2 = 50: fair, the band's lowest */
	assert_int_equal(score_of(12, 1, 0, &b), 50);
	assert_int_equal(b, 2);
	/* 12 x 4 + 2 - 1 = 49: poor */
	assert_int_equal(score_of(12, 1, 1, &b), 49);
	assert_int_equal(b, 3);
	/* nothing done: 0, poor */
	assert_int_equal(score_of(0, 0, 0, &b), 0);
	assert_int_equal(b, 3);
	assert_string_equal(om_assess_band_name(0), "excellent");
	assert_string_equal(om_assess_band_name(3), "poor");
}

static void test_unknown(void **state)
{
	(void)state;
	om_assess_sheet *s = sheet_new();
	om_assess_result r;
	fill(&s->dept[0], 0, 0, 25);
	om_assess_score(s, &r);
	/* "don't know" is -1 each: 25 x -1 = -25, parts 5, 13 and 7 questions */
	assert_int_equal(r.score, -25);
	assert_int_equal(r.band, 3);
	assert_int_equal(r.part_score[0], -5);
	assert_int_equal(r.part_score[1], -13);
	assert_int_equal(r.part_score[2], -7);
	assert_int_equal(r.part_max[0], 20);
	assert_int_equal(r.part_max[1], 52);
	assert_int_equal(r.part_max[2], 28);
	/* the radar counts "don't know" as nothing done, not below zero */
	for (unsigned a = 0; a < OM_ASSESS_AREAS; a++)
		assert_true(r.area[a] == 0.0);
	assert_true(r.complete);
	assert_false(r.one_star);
	free(s);
}

static void test_missing(void **state)
{
	(void)state;
	om_assess_sheet *s = sheet_new();
	om_assess_result r;
	fill(&s->dept[0], 25, 0, 0);
	s->dept[0].answer[24] = OM_ANS_MISSING;
	s->policy_published = true;
	om_assess_score(s, &r);
	/* a missing answer counts as no: 24 x 4 = 96, and the check is incomplete */
	assert_int_equal(r.score, 96);
	assert_false(r.complete);
	assert_int_equal(r.q_answer[24], OM_ANS_MISSING);
	/* two stars need the check done: not with a question missing */
	assert_true(r.one_star);
	assert_false(r.two_star);
	s->dept[0].answer[24] = OM_ANS_YES;
	om_assess_score(s, &r);
	assert_true(r.two_star);
	s->policy_published = false;
	om_assess_score(s, &r);
	assert_false(r.two_star);
	free(s);
}

static void test_security_action(void **state)
{
	(void)state;
	om_assess_sheet *s = sheet_new();
	om_assess_result r;
	/* the five principles are questions 1..5: all yes, rest no */
	fill(&s->dept[0], 5, 0, 0);
	om_assess_score(s, &r);
	assert_true(r.one_star);
	assert_int_equal(r.score, 20);
	/* one of them partly: not yet */
	s->dept[0].answer[2] = OM_ANS_PARTLY;
	om_assess_score(s, &r);
	assert_false(r.one_star);
	free(s);
}

static void test_departments(void **state)
{
	(void)state;
	om_assess_sheet *s = sheet_new();
	om_assess_result r;
	s->ndepts = 2;
	/* department A: 11 yes + 1 partly = 46; B: 17 yes + 1 partly = 70;
	 * the company: (46 + 70) / 2 = 58, fair */
	fill(&s->dept[0], 11, 1, 0);
	fill(&s->dept[1], 17, 1, 0);
	om_assess_score(s, &r);
	assert_int_equal(r.dept_score[0], 46);
	assert_int_equal(r.dept_score[1], 70);
	assert_int_equal(r.score, 58);
	assert_int_equal(r.band, 2);
	/* question 12: A partly (2), B yes (4): sum 6, weakest partly */
	assert_int_equal(r.q_points_sum[11], 6);
	assert_int_equal(r.q_answer[11], OM_ANS_PARTLY);
	/* question 13: A no, B yes: weakest no */
	assert_int_equal(r.q_answer[12], OM_ANS_NO);
	/* part 1 (questions 1..5): both 20 -> 20 */
	assert_int_equal(r.part_score[0], 20);
	/* half up: 47 and 70 give 58.5 -> 59 (A: 11 yes + 1 partly + 1 ... use 11
	 * yes, 1 partly and change one no to... 46 + 1 needs an odd step: turn
	 * A's last no into "don't know" (-1) and another no into partly (+2):
	 * 46 - 1 + 2 = 47) */
	s->dept[0].answer[24] = OM_ANS_UNKNOWN;
	s->dept[0].answer[23] = OM_ANS_PARTLY;
	om_assess_score(s, &r);
	assert_int_equal(r.dept_score[0], 47);
	assert_int_equal(r.score, 59);
	/* negative half: -25 and 0 give -12.5 -> -12 (half up) */
	fill(&s->dept[0], 0, 0, 25);
	fill(&s->dept[1], 0, 0, 0);
	om_assess_score(s, &r);
	assert_int_equal(r.score, -12);
	/* three departments 100, 100, 98: 298 / 3 = 99.33 -> 99, good */
	s->ndepts = 3;
	fill(&s->dept[0], 25, 0, 0);
	fill(&s->dept[1], 25, 0, 0);
	fill(&s->dept[2], 24, 1, 0);
	om_assess_score(s, &r);
	assert_int_equal(r.score, 99);
	assert_int_equal(r.band, 1);
	free(s);
}

static void test_areas(void **state)
{
	(void)state;
	om_assess_sheet *s = sheet_new();
	om_assess_result r;
	fill(&s->dept[0], 0, 0, 0);
	/* network = questions 9, 10, 24 (data/assess/selfcheck.yaml): 9 yes,
	 * 10 partly, 24 no: (4 + 2 + 0) / 12 = 50 */
	s->dept[0].answer[8] = OM_ANS_YES;
	s->dept[0].answer[9] = OM_ANS_PARTLY;
	/* partners = 22, 23: 22 yes, 23 unknown: (4 + 0) / 8 = 50 */
	s->dept[0].answer[21] = OM_ANS_YES;
	s->dept[0].answer[22] = OM_ANS_UNKNOWN;
	om_assess_score(s, &r);
	assert_string_equal(om_assess_area_name(0), "network");
	assert_string_equal(om_assess_area_name(5), "partners");
	assert_true(r.area[0] == 50.0);
	assert_true(r.area[5] == 50.0);
	assert_true(r.area[1] == 0.0);
	/* gateway evidence: monitored, no c2, one malware download: 50; mean (50+50)/2 */
	om_assess_gateway g = {.monitored = true, .c2 = 0, .web_malware = 1};
	om_assess_apply_gateway(&r, &g);
	assert_true(r.area[0] == 50.0);
	g.web_malware = 0;
	om_assess_apply_gateway(&r, &g);
	assert_true(r.area[0] == 75.0);
	/* not monitored: unchanged */
	g.monitored = false;
	om_assess_apply_gateway(&r, &g);
	assert_true(r.area[0] == 75.0);
	/* every question is in exactly one part and one area */
	unsigned per_part[4] = {0};
	for (unsigned q = 1; q <= 25; q++)
		per_part[om_assess_question_part(q)]++;
	assert_int_equal(per_part[1], 5);
	assert_int_equal(per_part[2], 13);
	assert_int_equal(per_part[3], 7);
	free(s);
}

static void test_answer_files(void **state)
{
	(void)state;
	om_assess_sheet *s = sheet_new();
	char err[512] = "";
	const char *yaml = "company: テスト商店\nowner: 鈴木\ndate: 2026-04-01\n"
	                   "policy_published: yes\n1: yes\n2: partly\n3: いいえ\n25: unknown\n";
	assert_int_equal(om_assess_sheet_parse(s, "a.yaml", yaml, strlen(yaml), OM_LANG_EN, err,
	                                       sizeof(err)),
	                 0);
	assert_string_equal(s->company, "テスト商店");
	assert_string_equal(s->date, "2026-04-01");
	assert_true(s->policy_published);
	assert_int_equal(s->dept[0].answer[0], OM_ANS_YES);
	assert_int_equal(s->dept[0].answer[1], OM_ANS_PARTLY);
	assert_int_equal(s->dept[0].answer[2], OM_ANS_NO);
	assert_int_equal(s->dept[0].answer[24], OM_ANS_UNKNOWN);
	assert_int_equal(s->dept[0].answer[3], OM_ANS_MISSING);

	const char *json = "{\"answers\": {\"1\": \"yes\", \"5\": \"no\"}, \"company\": \"X\"}";
	om_assess_sheet_init(s);
	assert_int_equal(om_assess_sheet_parse(s, "a.json", json, strlen(json), OM_LANG_EN, err,
	                                       sizeof(err)),
	                 0);
	assert_int_equal(s->dept[0].answer[0], OM_ANS_YES);
	assert_int_equal(s->dept[0].answer[4], OM_ANS_NO);

	const char *depts = "departments:\n  - name: 店舗\n    answers: {1: yes}\n"
	                    "  - name: 工場\n    answers: {1: no}\n";
	assert_int_equal(om_assess_sheet_parse(s, "d.yaml", depts, strlen(depts), OM_LANG_EN, err,
	                                       sizeof(err)),
	                 0);
	assert_int_equal(s->ndepts, 2);
	assert_string_equal(s->dept[1].name, "工場");

	/* errors name file, line and field, and leave the sheet as it was */
	const char *bad = "company: A\n7: maybe\n";
	assert_int_equal(om_assess_sheet_parse(s, "b.yaml", bad, strlen(bad), OM_LANG_EN, err,
	                                       sizeof(err)),
	                 -EINVAL);
	assert_non_null(strstr(err, "b.yaml:2: field '7'"));
	assert_int_equal(s->ndepts, 2);
	const char *badq = "26: yes\n";
	assert_int_equal(om_assess_sheet_parse(s, "c.yaml", badq, strlen(badq), OM_LANG_EN, err,
	                                       sizeof(err)),
	                 -EINVAL);
	assert_non_null(strstr(err, "c.yaml:1: field '26'"));
	const char *badd = "date: 2026-02-30\n";
	assert_int_equal(om_assess_sheet_parse(s, "e.yaml", badd, strlen(badd), OM_LANG_EN, err,
	                                       sizeof(err)),
	                 -EINVAL);
	assert_non_null(strstr(err, "field 'date'"));
	const char *syn = "a: [1, 2\n";
	assert_int_equal(om_assess_sheet_parse(s, "f.yaml", syn, strlen(syn), OM_LANG_EN, err,
	                                       sizeof(err)),
	                 -EINVAL);
	assert_non_null(strstr(err, "f.yaml:"));
	/* nesting deeper than 16 is refused before libyaml's loader sees it */
	char deep[64];
	memset(deep, '[', 40);
	deep[40] = 0;
	assert_int_equal(om_assess_sheet_parse(s, "h.yaml", deep, strlen(deep), OM_LANG_EN, err,
	                                       sizeof(err)),
	                 -EINVAL);
	assert_non_null(strstr(err, "h.yaml:1: nested too deep"));
	const char *mixed = "1: yes\ndepartments:\n  - name: a\n    answers: {1: no}\n";
	assert_int_equal(om_assess_sheet_parse(s, "g.yaml", mixed, strlen(mixed), OM_LANG_EN, err,
	                                       sizeof(err)),
	                 -EINVAL);
	free(s);
}

static void test_ask(void **state)
{
	(void)state;
	om_assess_sheet *s = sheet_new();
	fill(&s->dept[0], 25, 0, 0);
	s->dept[0].answer[3] = OM_ANS_MISSING;
	s->dept[0].answer[20] = OM_ANS_MISSING;
	/* a wrong word is asked again; then p for 4 and u for 21 */
	char in_text[] = "maybe\np\nu\n";
	FILE *in = fmemopen(in_text, strlen(in_text), "r");
	FILE *out = fopen("/dev/null", "w");
	assert_int_equal(om_assess_ask(s, 0, in, out, OM_LANG_JA), 0);
	assert_int_equal(s->dept[0].answer[3], OM_ANS_PARTLY);
	assert_int_equal(s->dept[0].answer[20], OM_ANS_UNKNOWN);
	fclose(in);
	/* input ends early */
	s->dept[0].answer[0] = OM_ANS_MISSING;
	char empty[] = "";
	in = fmemopen(empty, 1, "r");
	fgetc(in);
	assert_int_equal(om_assess_ask(s, 0, in, out, OM_LANG_JA), -EIO);
	fclose(in);
	fclose(out);
	free(s);
}

static void test_leak(void **state)
{
	(void)state;
	om_assess_leak in;
	om_assess_leak_result r;
	/* case 1: a customer list (name, address): emotional 1, economic 1,
	 * easy, normal, good. sensitivity = 10^0 + 5^0 = 2; per person =
	 * 500 x 2 x 6 x 1 x 1 = 6,000 yen; 1,000 people: 6,000,000 yen */
	in = (om_assess_leak){.records = 1000, .economic = 1, .emotional = 1, .ident = OM_IDENT_EASY};
	assert_int_equal(om_assess_leak_calc(&in, &r), 0);
	assert_int_equal(r.sensitivity, 2);
	assert_int_equal(r.per_person_yen, 6000);
	assert_int_equal(r.total_yen, 6000000);
	/* case 2: card numbers with names: emotional 1, economic 3, medium,
	 * high, poor. sensitivity = 10^0 + 5^2 = 26; per person = 500 x 26 x 3
	 * x 2 x 2 = 156,000 yen; 250 people: 39,000,000 yen */
	in = (om_assess_leak){.records = 250, .economic = 3, .emotional = 1,
	                      .ident = OM_IDENT_MEDIUM, .social_high = true, .response_poor = true};
	assert_int_equal(om_assess_leak_calc(&in, &r), 0);
	assert_int_equal(r.sensitivity, 26);
	assert_int_equal(r.identifiability, 3);
	assert_int_equal(r.social, 2);
	assert_int_equal(r.response, 2);
	assert_int_equal(r.per_person_yen, 156000);
	assert_int_equal(r.total_yen, 39000000);
	/* case 3: medical records without names: emotional 3, economic 2,
	 * hard, normal, good. sensitivity = 10^2 + 5^1 = 105; per person =
	 * 500 x 105 x 1 x 1 x 1 = 52,500 yen; 40 people: 2,100,000 yen */
	in = (om_assess_leak){.records = 40, .economic = 2, .emotional = 3, .ident = OM_IDENT_HARD};
	assert_int_equal(om_assess_leak_calc(&in, &r), 0);
	assert_int_equal(r.sensitivity, 105);
	assert_int_equal(r.per_person_yen, 52500);
	assert_int_equal(r.total_yen, 2100000);
	/* the largest: 500 x (100 + 25) x 6 x 2 x 2 = 1,500,000 a person */
	in = (om_assess_leak){.records = 1, .economic = 3, .emotional = 3, .ident = OM_IDENT_EASY,
	                      .social_high = true, .response_poor = true};
	assert_int_equal(om_assess_leak_calc(&in, &r), 0);
	assert_int_equal(r.per_person_yen, 1500000);
	in.records = UINT64_MAX / 1000;
	assert_int_equal(om_assess_leak_calc(&in, &r), -EOVERFLOW);
	in.records = 1;
	in.economic = 4;
	assert_int_equal(om_assess_leak_calc(&in, &r), -EINVAL);
	in.economic = 0;
	assert_int_equal(om_assess_leak_calc(&in, &r), -EINVAL);

	/* the JSON carries the fields */
	in = (om_assess_leak){.records = 1000, .economic = 1, .emotional = 1, .ident = OM_IDENT_EASY};
	assert_int_equal(om_assess_leak_calc(&in, &r), 0);
	om_buf b;
	om_buf_init(&b, 1 << 16);
	om_assess_leak_json(&in, &r, &b);
	const char *j = om_buf_cstr(&b);
	assert_non_null(strstr(j, "{\"per_person_yen\":6000,"));
	assert_non_null(strstr(j, "\"total_yen\":6000000,"));
	assert_non_null(strstr(j, "\"factors\":{"));
	assert_non_null(strstr(j, "\"sensitivity\":2,"));
	om_buf_free(&b);
}

static void test_scenarios(void **state)
{
	(void)state;
	om_assess_scenario sc;
	assert_int_equal(om_assess_scenario_get("nosuch", &sc), -ENOENT);
	assert_int_equal(om_assess_scenario_get("ransomware", &sc), 0);
	/* data/assess/breach.yaml's assumptions: 3,000,000 + 500,000 + 300,000
	 * + 150 x 0 + 2,000,000 + 100,000 x 10 = 6,800,000 */
	assert_int_equal(sc.total_yen, 6800000);
	/* edits: 200 people to notify (150 each: 30,000), 5 days at 80,000
	 * (400,000), investigation 1,000,000: 1,000,000 + 500,000 + 300,000 +
	 * 30,000 + 2,000,000 + 400,000 = 4,230,000 */
	assert_int_equal(om_assess_scenario_set(&sc, "records=200"), 0);
	assert_int_equal(om_assess_scenario_set(&sc, "days=5"), 0);
	assert_int_equal(om_assess_scenario_set(&sc, "daily_profit=80000"), 0);
	assert_int_equal(om_assess_scenario_set(&sc, "investigation=1000000"), 0);
	assert_int_equal(om_assess_scenario_calc(&sc), 0);
	assert_int_equal(sc.total_yen, 4230000);
	assert_true(sc.item[0].edited);
	assert_false(sc.item[1].edited);
	assert_int_equal(om_assess_scenario_set(&sc, "nosuch=1"), -EINVAL);
	assert_int_equal(om_assess_scenario_set(&sc, "legal=-1"), -EINVAL);
	assert_int_equal(om_assess_scenario_set(&sc, "lost_business=5"), -EINVAL);
	assert_int_equal(om_assess_scenario_set(&sc, "=5"), -EINVAL);
	om_buf b;
	om_buf_init(&b, 1 << 16);
	om_assess_scenario_json(&sc, &b);
	assert_non_null(strstr(om_buf_cstr(&b), "\"total_yen\":4230000,"));
	assert_non_null(strstr(om_buf_cstr(&b), "\"source\":\"edited\""));
	om_buf_free(&b);
	assert_int_equal(om_assess_scenario_get("dos", &sc), 0);
	/* 300,000 + 0 + 100,000 + 0 + 300,000 + 100,000 x 2 = 900,000 */
	assert_int_equal(sc.total_yen, 900000);
	assert_int_equal(om_assess_scenario_get("defacement", &sc), 0);
	/* 1,000,000 + 300,000 + 200,000 + 0 + 800,000 + 100,000 x 5 = 2,800,000 */
	assert_int_equal(sc.total_yen, 2800000);
}

static void test_sme(void **state)
{
	(void)state;
	om_assess_sme r;
	/* retail: capital <= 50,000,000 or employees <= 50; small <= 5 */
	assert_int_equal(om_assess_sme_check("retail", 50000000, 51, &r), 0);
	assert_true(r.sme && r.by_capital && !r.by_employees);
	assert_int_equal(om_assess_sme_check("retail", 50000001, 50, &r), 0);
	assert_true(r.sme && !r.by_capital && r.by_employees);
	assert_int_equal(om_assess_sme_check("retail", 50000001, 51, &r), 0);
	assert_false(r.sme);
	assert_int_equal(om_assess_sme_check("retail", 1, 5, &r), 0);
	assert_true(r.small);
	assert_int_equal(om_assess_sme_check("retail", 1, 6, &r), 0);
	assert_false(r.small);
	/* manufacturing: 300,000,000 or 300; small <= 20 */
	assert_int_equal(om_assess_sme_check("manufacturing", 300000001, 300, &r), 0);
	assert_true(r.sme);
	assert_int_equal(om_assess_sme_check("manufacturing", 300000001, 301, &r), 0);
	assert_false(r.sme);
	assert_int_equal(om_assess_sme_check("manufacturing", 1, 20, &r), 0);
	assert_true(r.small);
	/* wholesale: 100,000,000 or 100; service: 50,000,000 or 100 */
	assert_int_equal(om_assess_sme_check("wholesale", 100000001, 101, &r), 0);
	assert_false(r.sme);
	assert_int_equal(om_assess_sme_check("wholesale", 100000000, 101, &r), 0);
	assert_true(r.sme);
	assert_int_equal(om_assess_sme_check("service", 50000001, 100, &r), 0);
	assert_true(r.sme);
	assert_int_equal(om_assess_sme_check("service", 50000001, 101, &r), 0);
	assert_false(r.sme);
	assert_int_equal(om_assess_sme_check("farming", 1, 1, &r), -EINVAL);
}

static void test_enrol(void **state)
{
	(void)state;
	/* capacity 2: B (earliest, eligible) and D accepted; A is too big
	 * (retail, 60,000,000 yen and 60 people) and refused; C (same time as
	 * E but earlier in the file) waitlisted first, E second */
	const char *csv = "company,industry,capital,employees,applied_at\n"
	                  "A,retail,60000000,60,2026-04-01T09:00:00\n"
	                  "B,service,10000000,12,2026-04-01T08:00:00\n"
	                  "C,manufacturing,10000000,40,2026-04-02T10:00:00\n"
	                  "D,wholesale,5000000,3,2026-04-01T12:00:00\n"
	                  "E,retail,3000000,4,2026-04-02T10:00:00\n";
	om_buf out;
	om_buf_init(&out, 1 << 16);
	char err[512] = "";
	assert_int_equal(om_assess_enrol(csv, strlen(csv), "a.csv", 2, OM_LANG_EN, &out, err,
	                                 sizeof(err)),
	                 0);
	const char *o = om_buf_cstr(&out);
	assert_non_null(strstr(o, "1,B,service,10000000,12,2026-04-01T08:00:00,yes,accepted\n"));
	assert_non_null(strstr(o, "2,D,"));
	assert_non_null(strstr(o, ",A,retail,60000000,60,2026-04-01T09:00:00,no,refused\n"));
	assert_non_null(strstr(o, "w1,C,"));
	assert_non_null(strstr(o, "w2,E,"));
	assert_true(strstr(o, "w1,C,") < strstr(o, "w2,E,"));
	om_buf_free(&out);
	const char *bad = "company,industry,capital,employees,applied_at\nA,retail,x,1,2026-04-01\n";
	om_buf_init(&out, 1 << 16);
	assert_int_equal(om_assess_enrol(bad, strlen(bad), "b.csv", 2, OM_LANG_EN, &out, err,
	                                 sizeof(err)),
	                 -EINVAL);
	assert_non_null(strstr(err, "b.csv:2: field 'capital'"));
	om_buf_free(&out);
}

static void test_risk(void **state)
{
	(void)state;
	/* the likelihood table: threat 3 / vuln 3 -> 3; 3/2 and 2/3 -> 2; else 1 */
	unsigned want[4][4] = {{0}, {0, 1, 1, 1}, {0, 1, 1, 2}, {0, 1, 2, 3}};
	for (unsigned t = 1; t <= 3; t++)
		for (unsigned v = 1; v <= 3; v++)
			assert_int_equal(om_assess_likelihood(t, v), want[t][v]);
	om_assess_risk *r = malloc(sizeof(*r));
	assert_non_null(r);
	char err[512] = "";
	/* columns in another order, a quoted field with a comma, a doubled
	 * quote and a line break, CRLF lines and a BOM */
	const char *csv = "\xef\xbb\xbf"
	                  "threat,vulnerability,asset,owner,confidentiality,integrity,availability,"
	                  "control\r\n"
	                  "3,3,\"顧客名簿, 配達先\",山田,3,2,1,\"鍵付き \"\"棚\"\"\n2段目\"\r\n"
	                  "1,2,レシピ,佐藤,1,1,2,\r\n";
	assert_int_equal(om_assess_risk_csv(r, "r.csv", csv, strlen(csv), OM_LANG_EN, err,
	                                    sizeof(err)),
	                 0);
	assert_int_equal(r->n, 2);
	assert_string_equal(r->row[0].asset, "顧客名簿, 配達先");
	assert_string_equal(r->row[0].control, "鍵付き \"棚\"\n2段目");
	/* importance max(3,2,1) = 3, likelihood 3/3 -> 3, risk 9 */
	assert_int_equal(r->row[0].importance, 3);
	assert_int_equal(r->row[0].likelihood, 3);
	assert_int_equal(r->row[0].risk, 9);
	/* importance 2, likelihood 1/2 -> 1, risk 2 */
	assert_int_equal(r->row[1].risk, 2);

	/* the XLSX round trip gives the same rows */
	char path[] = "/tmp/test_assess_XXXXXX.xlsx";
	int fd = mkstemps(path, 5);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(om_assess_risk_write_xlsx(r, path, OM_LANG_EN, err, sizeof(err)), 0);
	om_assess_risk *r2 = malloc(sizeof(*r2));
	assert_non_null(r2);
	assert_int_equal(om_assess_risk_xlsx_read(r2, path, OM_LANG_EN, err, sizeof(err)), 0);
	assert_int_equal(r2->n, 2);
	assert_string_equal(r2->row[0].asset, r->row[0].asset);
	assert_string_equal(r2->row[0].control, r->row[0].control);
	assert_int_equal(r2->row[0].risk, 9);
	assert_int_equal(r2->row[1].c, 1);
	assert_int_equal(r2->row[1].a, 2);
	unlink(path);
	/* a file that is not a zip */
	assert_int_equal(om_assess_risk_xlsx_read(r2, "/etc/hostname", OM_LANG_EN, err, sizeof(err)),
	                 -EINVAL);
	free(r2);

	/* errors: line and field */
	const char *bad = "asset,owner,confidentiality,integrity,availability,threat,vulnerability\n"
	                  "a,b,1,2,3,1,1\n"
	                  "c,d,1,4,3,1,1\n";
	assert_int_equal(om_assess_risk_csv(r, "bad.csv", bad, strlen(bad), OM_LANG_EN, err,
	                                    sizeof(err)),
	                 -EINVAL);
	assert_non_null(strstr(err, "bad.csv:3: field 'integrity'"));
	const char *nocol = "asset,owner\nx,y\n";
	assert_int_equal(om_assess_risk_csv(r, "n.csv", nocol, strlen(nocol), OM_LANG_EN, err,
	                                    sizeof(err)),
	                 -EINVAL);
	assert_non_null(strstr(err, "field 'confidentiality'"));
	const char *open_quote = "asset,owner\n\"x,y\n";
	assert_true(om_assess_risk_csv(r, "q.csv", open_quote, strlen(open_quote), OM_LANG_EN, err,
	                               sizeof(err)) < 0);
	assert_non_null(strstr(err, "q.csv:"));

	/* CSV out: header plus computed columns */
	assert_int_equal(om_assess_risk_csv(r, "r.csv", csv, strlen(csv), OM_LANG_EN, err,
	                                    sizeof(err)),
	                 0);
	om_buf b;
	om_buf_init(&b, 1 << 16);
	om_assess_risk_write_csv(r, &b);
	assert_non_null(strstr(om_buf_cstr(&b), ",importance,likelihood,risk\n"));
	assert_non_null(strstr(om_buf_cstr(&b), "\"顧客名簿, 配達先\",山田,3,2,1,3,3,"));
	om_buf_free(&b);
	free(r);
}

static void test_workshop(void **state)
{
	(void)state;
	om_assess_workshop w;
	om_assess_workshop_init(&w);
	assert_int_equal(w.n, 10);
	char err[512] = "";
	const char *y = "ransomware:\n  impact: 店が止まる\n  procedures: [backup_offline, "
	                "restore_drill]\n  barriers: 担当がいない\n  solutions: 店長が毎週\n";
	assert_int_equal(om_assess_workshop_parse(&w, "w.yaml", y, strlen(y), OM_LANG_EN, err,
	                                          sizeof(err)),
	                 0);
	assert_true(w.item[0].answered);
	/* backup_offline is the 1st procedure of ransomware, restore_drill the 3rd */
	assert_int_equal(w.item[0].chosen, 1u | 4u);
	om_buf b;
	om_buf_init(&b, 1 << 16);
	om_assess_workshop_csv(&w, OM_LANG_JA, &b);
	assert_non_null(strstr(om_buf_cstr(&b), "1,ランサムウェアによる被害,A.8.7 A.8.8 A.8.13 A.5.24 "
	                                        "A.5.30,"));
	assert_non_null(strstr(om_buf_cstr(&b), ",店が止まる,担当がいない,店長が毎週\n"));
	om_buf_free(&b);
	const char *bad = "ransomware:\n  procedures: [mfa_mail]\n";
	assert_int_equal(om_assess_workshop_parse(&w, "x.yaml", bad, strlen(bad), OM_LANG_EN, err,
	                                          sizeof(err)),
	                 -EINVAL);
	assert_non_null(strstr(err, "x.yaml:2: field 'procedures'"));
	const char *badt = "tsunami: {}\n";
	assert_int_equal(om_assess_workshop_parse(&w, "t.yaml", badt, strlen(badt), OM_LANG_EN, err,
	                                          sizeof(err)),
	                 -EINVAL);
	/* every threat's controls are in the Annex A table */
	om_buf_init(&b, 1 << 20);
	om_assess_threats_json(OM_LANG_EN, &b);
	assert_null(strstr(om_buf_cstr(&b), "\"title\":\"\""));
	assert_non_null(strstr(om_buf_cstr(&b), "\"id\":\"8.13\",\"title\":\"Information backup\""));
	om_buf_free(&b);
}

static void test_policy_html(void **state)
{
	(void)state;
	om_assess_sheet *s = sheet_new();
	snprintf(s->company, sizeof(s->company), "%s", "テスト製パン");
	snprintf(s->owner, sizeof(s->owner), "%s", "山田 花子");
	snprintf(s->date, sizeof(s->date), "%s", "2026-04-01");
	fill(&s->dept[0], 25, 0, 0);
	s->dept[0].answer[10] = OM_ANS_NO; /* backups: question 11 */
	om_doc *d = om_assess_doc_policy(s, OM_LANG_EN);
	assert_non_null(d);
	om_buf b;
	om_buf_init(&b, 8u << 20);
	char err[256] = "";
	assert_int_equal(om_doc_html(d, &b, err, sizeof(err)), 0);
	const char *h = om_buf_cstr(&b);
	static const char *const chapters[] = {
	    "Organisational measures", "Human measures", "Asset management",
	    "Access control and authentication", "Physical measures", "Use of IT equipment",
	    "IT operations", "Development and maintenance", "Outsourcing",
	    "Incident response and business continuity", "Personal and My Number information",
	    "Management responsibility", "Legal and contractual compliance",
	    "Handling of violations and incidents"};
	for (size_t i = 0; i < OM_ARRAY_SIZE(chapters); i++)
		assert_non_null(strstr(h, chapters[i]));
	assert_non_null(strstr(h, "テスト製パン"));
	assert_non_null(strstr(h, "Adopted 2026-04-01 by 山田 花子"));
	/* the backup rule is "to start" with the answer, the others in place */
	assert_non_null(strstr(h, "To start: Important data is backed up at least weekly, with one "
	                          "copy kept offline (self-check answer: no)"));
	assert_non_null(strstr(h, "In place: Automatic updates are on"));
	om_buf_free(&b);
	om_doc_free(d);
	free(s);
}

int main(void)
{
	om_i18n_init();
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_band_edges),   cmocka_unit_test(test_unknown),
	    cmocka_unit_test(test_missing),      cmocka_unit_test(test_security_action),
	    cmocka_unit_test(test_departments),  cmocka_unit_test(test_areas),
	    cmocka_unit_test(test_answer_files), cmocka_unit_test(test_ask),
	    cmocka_unit_test(test_leak),         cmocka_unit_test(test_scenarios),
	    cmocka_unit_test(test_sme),          cmocka_unit_test(test_enrol),
	    cmocka_unit_test(test_risk),         cmocka_unit_test(test_workshop),
	    cmocka_unit_test(test_policy_html),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
