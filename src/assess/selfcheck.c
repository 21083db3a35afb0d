/* selfcheck.c: the 25-question self-check: answer files (YAML or JSON, read
 * with libyaml: JSON is YAML's flow style), the terminal questionnaire, the
 * scoring (4/2/0/-1, total out of 100, four bands), departments combined,
 * the six radar areas and SECURITY ACTION readiness. */
#include "assess/assess.h"
#include "assess/internal.h"
#include "assess/tables.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

void om_assess_sheet_init(om_assess_sheet *s)
{
	memset(s, 0, sizeof(*s));
	s->ndepts = 1;
}

static const struct {
	const char *word;
	enum om_assess_answer a;
} answer_words[] = {
    {"yes", OM_ANS_YES},         {"y", OM_ANS_YES},     {"partly", OM_ANS_PARTLY},
    {"p", OM_ANS_PARTLY},        {"no", OM_ANS_NO},     {"n", OM_ANS_NO},
    {"unknown", OM_ANS_UNKNOWN}, {"u", OM_ANS_UNKNOWN}, {"はい", OM_ANS_YES},
    {"一部", OM_ANS_PARTLY},     {"いいえ", OM_ANS_NO}, {"わからない", OM_ANS_UNKNOWN},
};

int om_assess_answer_parse(const char *word, enum om_assess_answer *ret)
{
	for (size_t i = 0; i < OM_ARRAY_SIZE(answer_words); i++) {
		if (!strcasecmp(word, answer_words[i].word)) {
			*ret = answer_words[i].a;
			return 0;
		}
	}
	return -EINVAL;
}

const char *om_assess_answer_name(enum om_assess_answer a)
{
	switch (a) {
	case OM_ANS_YES: return "yes";
	case OM_ANS_PARTLY: return "partly";
	case OM_ANS_NO: return "no";
	case OM_ANS_UNKNOWN: return "unknown";
	default: return "missing";
	}
}

int om_assess_points(enum om_assess_answer a)
{
	switch (a) {
	case OM_ANS_YES: return om_at_points_yes;
	case OM_ANS_PARTLY: return om_at_points_partly;
	case OM_ANS_UNKNOWN: return om_at_points_unknown;
	default: return om_at_points_no;
	}
}

unsigned om_assess_question_part(unsigned n)
{
	return n >= 1 && n <= OM_ASSESS_QUESTIONS ? om_at_questions[n - 1].part : 0;
}

unsigned om_assess_question_area(unsigned n)
{
	return n >= 1 && n <= OM_ASSESS_QUESTIONS ? om_at_questions[n - 1].area : 0;
}

const char *om_assess_area_name(unsigned area)
{
	return area < OM_ASSESS_AREAS ? om_at_areas[area] : "";
}

const char *om_assess_band_name(unsigned band)
{
	return band < 4 ? om_at_bands[band].band : "";
}

unsigned om_assess_band_of(int score)
{
	for (unsigned b = 0; b < 3; b++)
		if (score >= om_at_bands[b].min)
			return b;
	return 3;
}

/* sum / n rounded half up, for negative sums too (floor of sum/n + 1/2). */
static int div_round(int sum, int n)
{
	int num = 2 * sum + n, den = 2 * n;
	int q = num / den;
	if (num % den != 0 && (num < 0) != (den < 0))
		q--;
	return q;
}

void om_assess_score(const om_assess_sheet *s, om_assess_result *ret)
{
	om_assess_result r;
	memset(&r, 0, sizeof(r));
	unsigned nd = s->ndepts ? s->ndepts : 1;
	if (nd > OM_ASSESS_MAX_DEPTS)
		nd = OM_ASSESS_MAX_DEPTS;
	r.ndepts = nd;
	r.complete = true;
	int part_sum[OM_ASSESS_PARTS] = {0};
	int total_sum = 0;
	int area_pts[OM_ASSESS_AREAS] = {0}, area_n[OM_ASSESS_AREAS] = {0};
	for (unsigned q = 0; q < OM_ASSESS_QUESTIONS; q++)
		r.q_answer[q] = OM_ANS_YES;
	for (unsigned d = 0; d < nd; d++) {
		int dsum = 0;
		for (unsigned q = 0; q < OM_ASSESS_QUESTIONS; q++) {
			enum om_assess_answer a = s->dept[d].answer[q];
			if (a == OM_ANS_MISSING)
				r.complete = false;
			int p = om_assess_points(a);
			dsum += p;
			r.q_points_sum[q] += p;
			part_sum[om_at_questions[q].part - 1] += p;
			unsigned ar = om_at_questions[q].area;
			area_pts[ar] += p > 0 ? p : 0;
			area_n[ar]++;
			/* weakest answer: lowest points; missing shows as missing */
			int cur = om_assess_points(r.q_answer[q]);
			if (a == OM_ANS_MISSING || (r.q_answer[q] != OM_ANS_MISSING && p < cur))
				r.q_answer[q] = (uint8_t)a;
		}
		r.dept_score[d] = dsum;
		total_sum += dsum;
	}
	r.score = div_round(total_sum, (int)nd);
	r.band = om_assess_band_of(r.score);
	for (unsigned p = 0; p < OM_ASSESS_PARTS; p++) {
		r.part_score[p] = div_round(part_sum[p], (int)nd);
		r.part_max[p] = 4 * (int)(om_at_parts[p].last - om_at_parts[p].first + 1);
	}
	for (unsigned a = 0; a < OM_ASSESS_AREAS; a++)
		r.area[a] = area_n[a] ? 100.0 * area_pts[a] / (4.0 * area_n[a]) : 0;
	/* one star: the five principles in practice in every department */
	r.one_star = true;
	for (unsigned i = 0; i < om_at_one_star_n; i++)
		for (unsigned d = 0; d < nd; d++)
			if (s->dept[d].answer[om_at_one_star[i] - 1] != OM_ANS_YES)
				r.one_star = false;
	r.two_star = r.complete && s->policy_published;
	*ret = r;
}

void om_assess_apply_gateway(om_assess_result *r, const om_assess_gateway *g)
{
	if (!g->monitored)
		return;
	double gw = 100.0 - (g->c2 ? 50.0 : 0) - (g->web_malware ? 50.0 : 0);
	r->area[0] = (r->area[0] + gw) / 2.0;
}

/* ---- answer files ------------------------------------------------------------ */

struct load {
	const char *name;
	enum om_lang lang;
	char *err;
	size_t errlen;
	yaml_document_t *doc;
};

static int load_fail(struct load *l, const yaml_node_t *n, const char *field, const char *key)
{
	char what[512];
	snprintf(what, sizeof(what), "%s", om_msg(l->lang, key));
	snprintf(l->err, l->errlen, om_msg(l->lang, "assess.err.at"), l->name,
	         n ? (unsigned long)n->start_mark.line + 1 : 0ul, field, what);
	return -EINVAL;
}

static const char *scalar(const yaml_node_t *n)
{
	if (!n || n->type != YAML_SCALAR_NODE)
		return NULL;
	return (const char *)n->data.scalar.value;
}

static int copy_field(struct load *l, const yaml_node_t *v, const char *field, char *dst,
                      size_t dstlen)
{
	const char *s = scalar(v);
	if (!s)
		return load_fail(l, v, field, "assess.err.want_text");
	if (strlen(s) >= dstlen)
		return load_fail(l, v, field, "assess.err.too_long");
	memcpy(dst, s, strlen(s) + 1);
	return 0;
}

static int bool_field(struct load *l, const yaml_node_t *v, const char *field, bool *ret)
{
	const char *s = scalar(v);
	if (s && (!strcasecmp(s, "true") || !strcasecmp(s, "yes")))
		*ret = true;
	else if (s && (!strcasecmp(s, "false") || !strcasecmp(s, "no")))
		*ret = false;
	else
		return load_fail(l, v, field, "assess.err.want_bool");
	return 0;
}

/* A question number as a key: "1".."25". */
static int question_key(const char *k, unsigned *ret)
{
	uint64_t v;
	if (!k || om_parse_u64(k, 1, OM_ASSESS_QUESTIONS, &v) < 0)
		return -EINVAL;
	*ret = (unsigned)v;
	return 0;
}

static int load_answers(struct load *l, const yaml_node_t *map, om_assess_dept *d)
{
	if (map->type != YAML_MAPPING_NODE)
		return load_fail(l, map, "answers", "assess.err.want_map");
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = yaml_document_get_node(l->doc, p->key);
		yaml_node_t *v = yaml_document_get_node(l->doc, p->value);
		const char *ks = scalar(k);
		unsigned q;
		if (question_key(ks, &q) < 0)
			return load_fail(l, k, ks ? ks : "?", "assess.err.question_number");
		const char *vs = scalar(v);
		enum om_assess_answer a;
		if (!vs || om_assess_answer_parse(vs, &a) < 0)
			return load_fail(l, v, ks, "assess.err.answer_word");
		d->answer[q - 1] = (uint8_t)a;
	}
	return 0;
}

static int load_meta(struct load *l, om_assess_sheet *s, const char *ks, const yaml_node_t *v,
                     bool *ret_known)
{
	*ret_known = true;
	if (!strcmp(ks, "company"))
		return copy_field(l, v, ks, s->company, sizeof(s->company));
	if (!strcmp(ks, "owner"))
		return copy_field(l, v, ks, s->owner, sizeof(s->owner));
	if (!strcmp(ks, "date")) {
		int r = copy_field(l, v, ks, s->date, sizeof(s->date));
		if (r == 0 && !om_assess_date_ok(s->date))
			return load_fail(l, v, ks, "assess.err.date");
		return r;
	}
	if (!strcmp(ks, "industry")) {
		int r = copy_field(l, v, ks, s->industry, sizeof(s->industry));
		om_assess_sme sm;
		if (r == 0 && om_assess_sme_check(s->industry, 0, 0, &sm) < 0)
			return load_fail(l, v, ks, "assess.err.industry");
		return r;
	}
	if (!strcmp(ks, "employees")) {
		const char *e = scalar(v);
		if (!e || om_parse_u64(e, 0, 10000000, &s->employees) < 0)
			return load_fail(l, v, ks, "assess.err.want_number");
		return 0;
	}
	if (!strcmp(ks, "policy_published"))
		return bool_field(l, v, ks, &s->policy_published);
	*ret_known = false;
	return 0;
}

static int load_root(struct load *l, om_assess_sheet *s)
{
	yaml_node_t *root = yaml_document_get_root_node(l->doc);
	if (!root)
		return load_fail(l, NULL, "-", "assess.err.empty");
	if (root->type != YAML_MAPPING_NODE)
		return load_fail(l, root, "-", "assess.err.want_map");
	bool have_depts = false, have_answers = false;
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = yaml_document_get_node(l->doc, p->key);
		yaml_node_t *v = yaml_document_get_node(l->doc, p->value);
		const char *ks = scalar(k);
		if (!ks || !v)
			return load_fail(l, k, "?", "assess.err.want_text");
		bool known;
		int r = load_meta(l, s, ks, v, &known);
		if (r < 0)
			return r;
		if (known)
			continue;
		unsigned q;
		if (question_key(ks, &q) == 0) {
			const char *vs = scalar(v);
			enum om_assess_answer a;
			if (!vs || om_assess_answer_parse(vs, &a) < 0)
				return load_fail(l, v, ks, "assess.err.answer_word");
			s->dept[0].answer[q - 1] = (uint8_t)a;
			have_answers = true;
		} else if (!strcmp(ks, "answers")) {
			if ((r = load_answers(l, v, &s->dept[0])) < 0)
				return r;
			have_answers = true;
		} else if (!strcmp(ks, "departments")) {
			if (v->type != YAML_SEQUENCE_NODE)
				return load_fail(l, v, ks, "assess.err.want_list");
			size_t n =
			    (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
			if (n == 0)
				return load_fail(l, v, ks, "assess.err.want_list");
			if (n > OM_ASSESS_MAX_DEPTS)
				return load_fail(l, v, ks, "assess.err.too_many_depts");
			for (size_t i = 0; i < n; i++) {
				yaml_node_t *dn =
				    yaml_document_get_node(l->doc, v->data.sequence.items.start[i]);
				if (!dn || dn->type != YAML_MAPPING_NODE)
					return load_fail(l, dn ? dn : v, ks, "assess.err.want_map");
				om_assess_dept *d = &s->dept[i];
				for (yaml_node_pair_t *dp = dn->data.mapping.pairs.start;
				     dp < dn->data.mapping.pairs.top; dp++) {
					yaml_node_t *dk = yaml_document_get_node(l->doc, dp->key);
					yaml_node_t *dv = yaml_document_get_node(l->doc, dp->value);
					const char *dks = scalar(dk);
					if (dks && !strcmp(dks, "name")) {
						if ((r = copy_field(l, dv, "name", d->name,
						                    sizeof(d->name))) < 0)
							return r;
					} else if (dks && !strcmp(dks, "answers")) {
						if ((r = load_answers(l, dv, d)) < 0)
							return r;
					} else {
						return load_fail(l, dk, dks ? dks : "?",
						                 "assess.err.unknown_field");
					}
				}
			}
			s->ndepts = (unsigned)n;
			have_depts = true;
		} else {
			return load_fail(l, k, ks, "assess.err.unknown_field");
		}
	}
	if (have_depts && have_answers)
		return load_fail(l, root, "departments", "assess.err.both_forms");
	return 0;
}

int om_assess_sheet_parse(om_assess_sheet *s, const char *name, const char *data, size_t len,
                          enum om_lang lang, char *err, size_t errlen)
{
	if (len > OM_ASSESS_MAX_FILE) {
		snprintf(err, errlen, om_msg(lang, "assess.err.file_big"), name,
		         (unsigned)(OM_ASSESS_MAX_FILE >> 10));
		return -EFBIG;
	}
	int ck = om_assess_yaml_check(data, len, name, lang, err, errlen);
	if (ck < 0)
		return ck;
	yaml_parser_t parser;
	yaml_document_t doc;
	if (!yaml_parser_initialize(&parser))
		return -ENOMEM;
	yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);
	int rc;
	if (!yaml_parser_load(&parser, &doc)) {
		snprintf(err, errlen, om_msg(lang, "assess.err.syntax"), name,
		         (unsigned long)parser.problem_mark.line + 1,
		         parser.problem ? parser.problem : "?");
		yaml_parser_delete(&parser);
		return -EINVAL;
	}
	om_assess_sheet *tmp = malloc(sizeof(*tmp));
	if (!tmp) {
		rc = -ENOMEM;
		goto out;
	}
	om_assess_sheet_init(tmp);
	struct load l = {name, lang, err, errlen, &doc};
	rc = load_root(&l, tmp);
	if (rc == 0)
		*s = *tmp;
	free(tmp);
out:
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return rc;
}

int om_assess_sheet_load(om_assess_sheet *s, const char *path, enum om_lang lang, char *err,
                         size_t errlen)
{
	om_buf b;
	int r = om_assess_read_file(path, &b, lang, err, errlen);
	if (r < 0)
		return r;
	r = om_assess_sheet_parse(s, path, b.data ? b.data : "", b.len, lang, err, errlen);
	om_buf_free(&b);
	return r;
}

/* ---- the terminal questionnaire ---------------------------------------------- */

int om_assess_ask(om_assess_sheet *s, unsigned d, FILE *in, FILE *out, enum om_lang lang)
{
	char key[48], line[256];
	unsigned part = 0;
	for (unsigned q = 1; q <= OM_ASSESS_QUESTIONS; q++) {
		if (s->dept[d].answer[q - 1] != OM_ANS_MISSING)
			continue;
		if (om_at_questions[q - 1].part != part) {
			part = om_at_questions[q - 1].part;
			snprintf(key, sizeof(key), "assess.part.%s", om_at_parts[part - 1].name);
			fprintf(out, "\n== %s ==\n", om_msg(lang, key));
		}
		for (;;) {
			snprintf(key, sizeof(key), "assess.q.%u.text", q);
			fprintf(out, "%u. %s\n   %s ", q, om_msg(lang, key),
			        om_msg(lang, "assess.ask.choices"));
			fflush(out);
			if (!fgets(line, sizeof(line), in))
				return -EIO;
			line[strcspn(line, "\r\n")] = 0;
			char *w = line;
			while (*w == ' ' || *w == '\t')
				w++;
			size_t e = strlen(w);
			while (e && (w[e - 1] == ' ' || w[e - 1] == '\t'))
				w[--e] = 0;
			enum om_assess_answer a;
			if (om_assess_answer_parse(w, &a) == 0) {
				s->dept[d].answer[q - 1] = (uint8_t)a;
				break;
			}
			fprintf(out, "   %s\n", om_msg(lang, "assess.ask.again"));
		}
	}
	return 0;
}

/* ---- output ------------------------------------------------------------------ */

void om_assess_selfcheck_json(const om_assess_result *r, enum om_lang lang, om_buf *out)
{
	om_json j;
	char key[48];
	om_json_init(&j, out);
	om_json_obj_open(&j, NULL);
	om_json_i64(&j, "score", r->score);
	om_json_str(&j, "band", om_assess_band_name(r->band));
	snprintf(key, sizeof(key), "assess.band.%s", om_assess_band_name(r->band));
	om_json_str(&j, "band_advice", om_msg(lang, key));
	om_json_bool(&j, "complete", r->complete);
	om_json_u64(&j, "departments", r->ndepts);
	om_json_arr_open(&j, "parts");
	for (unsigned p = 0; p < OM_ASSESS_PARTS; p++) {
		om_json_obj_open(&j, NULL);
		om_json_str(&j, "part", om_at_parts[p].name);
		om_json_i64(&j, "score", r->part_score[p]);
		om_json_i64(&j, "max", r->part_max[p]);
		om_json_obj_close(&j);
	}
	om_json_arr_close(&j);
	om_json_arr_open(&j, "questions");
	for (unsigned q = 1; q <= OM_ASSESS_QUESTIONS; q++) {
		om_json_obj_open(&j, NULL);
		om_json_u64(&j, "n", q);
		om_json_str(&j, "answer", om_assess_answer_name(r->q_answer[q - 1]));
		if (r->ndepts <= 1 || r->q_points_sum[q - 1] % (int)r->ndepts == 0)
			om_json_i64(&j, "points",
			            r->q_points_sum[q - 1] / (int)(r->ndepts ? r->ndepts : 1));
		else
			om_json_double(&j, "points", (double)r->q_points_sum[q - 1] / r->ndepts);
		snprintf(key, sizeof(key), "assess.q.%u.advice", q);
		om_json_str(&j, "advice",
		            r->q_answer[q - 1] == OM_ANS_YES ? "" : om_msg(lang, key));
		om_json_obj_close(&j);
	}
	om_json_arr_close(&j);
	om_json_arr_open(&j, "areas");
	for (unsigned a = 0; a < OM_ASSESS_AREAS; a++) {
		om_json_obj_open(&j, NULL);
		om_json_str(&j, "area", om_at_areas[a]);
		om_json_double(&j, "score", r->area[a]);
		om_json_obj_close(&j);
	}
	om_json_arr_close(&j);
	if (r->ndepts > 1) {
		om_json_arr_open(&j, "department_scores");
		for (unsigned d = 0; d < r->ndepts; d++)
			om_json_i64(&j, NULL, r->dept_score[d]);
		om_json_arr_close(&j);
	}
	om_json_obj_open(&j, "security_action");
	om_json_bool(&j, "one_star", r->one_star);
	om_json_bool(&j, "two_star", r->two_star);
	om_json_obj_close(&j);
	om_json_obj_close(&j);
	om_buf_putc(out, '\n');
}

void om_assess_selfcheck_text(const om_assess_sheet *s, const om_assess_result *r,
                              enum om_lang lang, om_buf *out)
{
	char key[48];
	if (s->company[0])
		om_buf_printf(out, "%s\n", s->company);
	om_buf_printf(out, om_msg(lang, "assess.out.score"), r->score);
	om_buf_putc(out, '\n');
	snprintf(key, sizeof(key), "assess.band.%s", om_assess_band_name(r->band));
	om_buf_printf(out, "%s\n\n", om_msg(lang, key));
	for (unsigned p = 0; p < OM_ASSESS_PARTS; p++) {
		snprintf(key, sizeof(key), "assess.part.%s", om_at_parts[p].name);
		om_buf_printf(out, "  %s: %d / %d\n", om_msg(lang, key), r->part_score[p],
		              r->part_max[p]);
	}
	if (r->ndepts > 1) {
		om_buf_putc(out, '\n');
		for (unsigned d = 0; d < r->ndepts; d++)
			om_buf_printf(out, "  %s: %d\n", s->dept[d].name[0] ? s->dept[d].name : "-",
			              r->dept_score[d]);
	}
	om_buf_printf(out, "\n%s\n", om_msg(lang, "assess.out.advice"));
	for (unsigned q = 1; q <= OM_ASSESS_QUESTIONS; q++) {
		if (r->q_answer[q - 1] == OM_ANS_YES)
			continue;
		snprintf(key, sizeof(key), "assess.q.%u.text", q);
		om_buf_printf(out, "%2u. %s [%s]\n", q, om_msg(lang, key),
		              om_assess_answer_label(r->q_answer[q - 1], lang));
		snprintf(key, sizeof(key), "assess.q.%u.advice", q);
		om_buf_printf(out, "    %s\n", om_msg(lang, key));
	}
	om_buf_printf(out, "\n%s\n", om_msg(lang, "assess.out.radar"));
	for (unsigned a = 0; a < OM_ASSESS_AREAS; a++) {
		snprintf(key, sizeof(key), "assess.area.%s", om_at_areas[a]);
		om_buf_puts(out, "  ");
		om_assess_put_padded(out, om_msg(lang, key), 24);
		om_buf_printf(out, " %3.0f\n", r->area[a]);
	}
	om_buf_printf(out, "\n%s %s\n", om_msg(lang, "assess.out.sa_one"),
	              om_msg(lang, r->one_star ? "assess.out.ready" : "assess.out.not_ready"));
	om_buf_printf(out, "%s %s\n", om_msg(lang, "assess.out.sa_two"),
	              om_msg(lang, r->two_star ? "assess.out.ready" : "assess.out.not_ready"));
	if (!r->complete)
		om_buf_printf(out, "\n%s\n", om_msg(lang, "assess.out.incomplete"));
}
