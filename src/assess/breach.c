/* breach.c: what an incident could cost. The personal-information leak by
 * JNSA's published model, and ransomware, defacement and DoS scenarios
 * built from JNSA's SME cost items with every assumption shown and
 * editable. Figures and their sources: data/assess/breach.yaml. */
#include "assess/assess.h"
#include "assess/internal.h"
#include "assess/tables.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static uint64_t ipow(uint64_t b, unsigned e)
{
	uint64_t r = 1;
	while (e--)
		r *= b;
	return r;
}

static bool mul_ok(uint64_t a, uint64_t b, uint64_t *ret)
{
	return !__builtin_mul_overflow(a, b, ret);
}

int om_assess_leak_calc(const om_assess_leak *in, om_assess_leak_result *ret)
{
	if (in->economic < 1 || in->economic > 3 || in->emotional < 1 || in->emotional > 3)
		return -EINVAL;
	om_assess_leak_result r;
	memset(&r, 0, sizeof(r));
	const struct om_at_leak *m = &om_at_leak;
	r.base = m->base_value;
	/* sensitivity = 10^(emotional - 1) + 5^(economic - 1) */
	r.sensitivity =
	    ipow(m->emotional_base, in->emotional - 1) + ipow(m->economic_base, in->economic - 1);
	switch (in->ident) {
	case OM_IDENT_EASY: r.identifiability = m->ident_easy; break;
	case OM_IDENT_MEDIUM: r.identifiability = m->ident_medium; break;
	case OM_IDENT_HARD: r.identifiability = m->ident_hard; break;
	default: return -EINVAL;
	}
	r.social = in->social_high ? m->social_high : m->social_normal;
	r.response = in->response_poor ? m->response_poor : m->response_good;
	r.per_person_yen = r.base * r.sensitivity * r.identifiability * r.social * r.response;
	if (!mul_ok(r.per_person_yen, in->records, &r.total_yen))
		return -EOVERFLOW;
	*ret = r;
	return 0;
}

static const char *ident_name(enum om_assess_ident i)
{
	return i == OM_IDENT_EASY ? "easy" : i == OM_IDENT_MEDIUM ? "medium" : "hard";
}

void om_assess_leak_json(const om_assess_leak *in, const om_assess_leak_result *r, om_buf *out)
{
	om_json j;
	om_json_init(&j, out);
	om_json_obj_open(&j, NULL);
	om_json_u64(&j, "per_person_yen", r->per_person_yen);
	om_json_u64(&j, "total_yen", r->total_yen);
	om_json_obj_open(&j, "factors");
	om_json_u64(&j, "records", in->records);
	om_json_u64(&j, "base_value", r->base);
	om_json_u64(&j, "economic", in->economic);
	om_json_u64(&j, "emotional", in->emotional);
	om_json_u64(&j, "sensitivity", r->sensitivity);
	om_json_str(&j, "identifiability_level", ident_name(in->ident));
	om_json_u64(&j, "identifiability", r->identifiability);
	om_json_str(&j, "social_responsibility_level", in->social_high ? "high" : "normal");
	om_json_u64(&j, "social_responsibility", r->social);
	om_json_str(&j, "response_level", in->response_poor ? "poor" : "good");
	om_json_u64(&j, "response", r->response);
	om_json_obj_close(&j);
	om_json_obj_close(&j);
	om_buf_putc(out, '\n');
}

int om_assess_scenario_get(const char *name, om_assess_scenario *ret)
{
	for (unsigned i = 0; i < om_at_nscenarios; i++) {
		const struct om_at_scenario *s = &om_at_scenarios[i];
		if (strcmp(s->name, name))
			continue;
		om_assess_scenario sc;
		memset(&sc, 0, sizeof(sc));
		snprintf(sc.name, sizeof(sc.name), "%s", s->name);
		sc.days = s->days;
		sc.daily_profit = s->daily_profit;
		sc.records = s->records;
		sc.nitems = s->nitems < OM_ASSESS_MAX_ITEMS ? s->nitems : OM_ASSESS_MAX_ITEMS;
		for (unsigned k = 0; k < sc.nitems; k++) {
			snprintf(sc.item[k].item, sizeof(sc.item[k].item), "%s", s->items[k].item);
			sc.item[k].kind = (int)s->items[k].kind;
			sc.item[k].yen = s->items[k].yen;
		}
		if (om_assess_scenario_calc(&sc) < 0)
			return -EOVERFLOW;
		*ret = sc;
		return 0;
	}
	return -ENOENT;
}

int om_assess_scenario_set(om_assess_scenario *sc, const char *assignment)
{
	const char *eq = strchr(assignment, '=');
	if (!eq || eq == assignment)
		return -EINVAL;
	size_t kl = (size_t)(eq - assignment);
	uint64_t v;
	if (om_parse_u64(eq + 1, 0, UINT64_C(1000000000000000), &v) < 0)
		return -EINVAL;
	if (kl == 4 && !strncmp(assignment, "days", 4)) {
		sc->days = v;
		return 0;
	}
	if (kl == 12 && !strncmp(assignment, "daily_profit", 12)) {
		sc->daily_profit = v;
		return 0;
	}
	if (kl == 7 && !strncmp(assignment, "records", 7)) {
		sc->records = v;
		return 0;
	}
	for (unsigned k = 0; k < sc->nitems; k++) {
		if (strlen(sc->item[k].item) == kl && !strncmp(sc->item[k].item, assignment, kl) &&
		    sc->item[k].kind != OM_AT_PER_DAY) {
			sc->item[k].yen = v;
			sc->item[k].edited = true;
			return 0;
		}
	}
	return -EINVAL;
}

int om_assess_scenario_calc(om_assess_scenario *sc)
{
	uint64_t total = 0;
	for (unsigned k = 0; k < sc->nitems; k++) {
		om_assess_cost_item *it = &sc->item[k];
		uint64_t c = it->yen;
		if (it->kind == OM_AT_PER_RECORD && !mul_ok(it->yen, sc->records, &c))
			return -EOVERFLOW;
		if (it->kind == OM_AT_PER_DAY && !mul_ok(sc->daily_profit, sc->days, &c))
			return -EOVERFLOW;
		it->cost = c;
		if (__builtin_add_overflow(total, c, &total))
			return -EOVERFLOW;
	}
	sc->total_yen = total;
	return 0;
}

static const char *kind_name(int k)
{
	return k == OM_AT_PER_RECORD ? "per_record" : k == OM_AT_PER_DAY ? "per_day" : "fixed";
}

void om_assess_scenario_json(const om_assess_scenario *sc, om_buf *out)
{
	om_json j;
	om_json_init(&j, out);
	om_json_obj_open(&j, NULL);
	om_json_str(&j, "scenario", sc->name);
	om_json_u64(&j, "total_yen", sc->total_yen);
	om_json_obj_open(&j, "assumptions");
	om_json_u64(&j, "days", sc->days);
	om_json_u64(&j, "daily_profit", sc->daily_profit);
	om_json_u64(&j, "records", sc->records);
	om_json_obj_close(&j);
	om_json_arr_open(&j, "items");
	for (unsigned k = 0; k < sc->nitems; k++) {
		const om_assess_cost_item *it = &sc->item[k];
		om_json_obj_open(&j, NULL);
		om_json_str(&j, "item", it->item);
		om_json_str(&j, "kind", kind_name(it->kind));
		if (it->kind != OM_AT_PER_DAY)
			om_json_u64(&j, "yen", it->yen);
		om_json_u64(&j, "cost_yen", it->cost);
		om_json_str(&j, "source", it->edited ? "edited" : "assumption");
		om_json_obj_close(&j);
	}
	om_json_arr_close(&j);
	om_json_str(&j, "items_source", "JNSA, インシデント損害額調査レポート 2021年版, 2021");
	om_json_obj_close(&j);
	om_buf_putc(out, '\n');
}

void om_assess_scenario_text(const om_assess_scenario *sc, enum om_lang lang, om_buf *out)
{
	char key[64], a[32], b[32];
	snprintf(key, sizeof(key), "assess.scenario.%s", sc->name);
	om_buf_printf(out, "%s\n\n", om_msg(lang, key));
	for (unsigned k = 0; k < sc->nitems; k++) {
		const om_assess_cost_item *it = &sc->item[k];
		snprintf(key, sizeof(key), "assess.cost.%s", it->item);
		om_buf_puts(out, "  ");
		om_assess_put_padded(out, om_msg(lang, key), 28);
		om_buf_printf(out, " %14s %s", om_assess_yen(it->cost, a, sizeof(a)),
		              om_msg(lang, "assess.out.yen"));
		if (it->kind == OM_AT_PER_RECORD)
			om_buf_printf(out, "  (%s x %llu)", om_assess_yen(it->yen, b, sizeof(b)),
			              (unsigned long long)sc->records);
		else if (it->kind == OM_AT_PER_DAY)
			om_buf_printf(out, "  (%s x %llu)",
			              om_assess_yen(sc->daily_profit, b, sizeof(b)),
			              (unsigned long long)sc->days);
		om_buf_printf(
		    out, " %s\n",
		    om_msg(lang, it->edited ? "assess.out.edited" : "assess.out.assumed"));
	}
	om_buf_puts(out, "  ");
	om_assess_put_padded(out, om_msg(lang, "assess.out.total"), 28);
	om_buf_printf(out, " %14s %s\n\n%s\n", om_assess_yen(sc->total_yen, a, sizeof(a)),
	              om_msg(lang, "assess.out.yen"), om_msg(lang, "assess.out.scenario_note"));
}
