/* tables.h: the assessment kit's fixed data, generated at build time by
 * gen-tables.py from the YAML files of data/assess (where every figure's source is
 * written next to it). Private to src/assess. */
#ifndef OMAMORI_ASSESS_TABLES_H
#define OMAMORI_ASSESS_TABLES_H

#include <stdint.h>

struct om_at_question {
	unsigned n, part, area; /* area: index into om_at_areas */
	const char *topic;
};
struct om_at_band {
	const char *band;
	int min;
};
struct om_at_part {
	unsigned part, first, last;
	const char *name;
};
struct om_at_industry {
	const char *industry;
	uint64_t capital_max, employees_max, small_employees_max;
};
enum om_at_kind { OM_AT_FIXED, OM_AT_PER_RECORD, OM_AT_PER_DAY };
struct om_at_item {
	const char *item;
	enum om_at_kind kind;
	uint64_t yen;
	const char *source;
};
#define OM_AT_MAX_ITEMS 8
struct om_at_scenario {
	const char *name;
	uint64_t days, daily_profit, records;
	unsigned nitems;
	struct om_at_item items[OM_AT_MAX_ITEMS];
};
struct om_at_control {
	const char *id, *en, *ja;
};
#define OM_AT_MAX_REFS 6
struct om_at_threat {
	unsigned rank;
	const char *id;
	unsigned ncontrols, nprocedures;
	const char *controls[OM_AT_MAX_REFS];
	const char *procedures[OM_AT_MAX_REFS];
};
struct om_at_leak {
	uint64_t base_value, emotional_base, economic_base;
	uint64_t ident_easy, ident_medium, ident_hard;
	uint64_t social_high, social_normal;
	uint64_t response_good, response_poor;
};

extern const int om_at_points_yes, om_at_points_partly, om_at_points_no, om_at_points_unknown;
extern const char *const om_at_selfcheck_source;
extern const struct om_at_question om_at_questions[25];
extern const struct om_at_band om_at_bands[4];
extern const struct om_at_part om_at_parts[3];
extern const char *const om_at_areas[6];
extern const unsigned om_at_one_star[];
extern const unsigned om_at_one_star_n;
extern const struct om_at_leak om_at_leak;
extern const struct om_at_scenario om_at_scenarios[];
extern const unsigned om_at_nscenarios;
extern const struct om_at_industry om_at_industries[];
extern const unsigned om_at_nindustries;
extern const struct om_at_control om_at_controls[];
extern const unsigned om_at_ncontrols;
extern const struct om_at_threat om_at_threats[];
extern const unsigned om_at_nthreats;
extern const char *const om_at_threats_source, *const om_at_controls_source;

#endif
