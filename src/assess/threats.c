/* threats.c: IPA's ten major threats 2024 (organisations) mapped to
 * ISO/IEC 27001:2022 Annex A controls and concrete procedures
 * (data/assess/threats.yaml), and the workshop: for each threat, the
 * impact on our business, the procedures chosen, the barriers and their
 * solutions, read from a YAML/JSON file and/or asked in the terminal. */
#include "assess/assess.h"
#include "assess/internal.h"
#include "assess/tables.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

unsigned om_assess_nthreats(void)
{
	return om_at_nthreats;
}

const char *om_assess_control_title(const char *id, enum om_lang lang)
{
	for (unsigned i = 0; i < om_at_ncontrols; i++)
		if (!strcmp(om_at_controls[i].id, id))
			return lang == OM_LANG_JA ? om_at_controls[i].ja : om_at_controls[i].en;
	return "";
}

void om_assess_threats_text(enum om_lang lang, om_buf *out)
{
	char key[64];
	om_buf_printf(out, "%s\n%s / %s\n", om_msg(lang, "assess.threats.title"),
	              om_at_threats_source, om_at_controls_source);
	for (unsigned t = 0; t < om_at_nthreats; t++) {
		const struct om_at_threat *th = &om_at_threats[t];
		snprintf(key, sizeof(key), "assess.threat.%s", th->id);
		om_buf_printf(out, "\n%u. %s\n", th->rank, om_msg(lang, key));
		for (unsigned c = 0; c < th->ncontrols; c++)
			om_buf_printf(out, "   A.%s %s\n", th->controls[c],
			              om_assess_control_title(th->controls[c], lang));
		for (unsigned p = 0; p < th->nprocedures; p++) {
			snprintf(key, sizeof(key), "assess.proc.%s", th->procedures[p]);
			om_buf_printf(out, "   - [%s] %s\n", th->procedures[p], om_msg(lang, key));
		}
	}
}

void om_assess_threats_json(enum om_lang lang, om_buf *out)
{
	char key[64];
	om_json j;
	om_json_init(&j, out);
	om_json_obj_open(&j, NULL);
	om_json_str(&j, "threats_source", om_at_threats_source);
	om_json_str(&j, "controls_source", om_at_controls_source);
	om_json_arr_open(&j, "threats");
	for (unsigned t = 0; t < om_at_nthreats; t++) {
		const struct om_at_threat *th = &om_at_threats[t];
		om_json_obj_open(&j, NULL);
		om_json_u64(&j, "rank", th->rank);
		om_json_str(&j, "id", th->id);
		snprintf(key, sizeof(key), "assess.threat.%s", th->id);
		om_json_str(&j, "threat", om_msg(lang, key));
		om_json_arr_open(&j, "controls");
		for (unsigned c = 0; c < th->ncontrols; c++) {
			om_json_obj_open(&j, NULL);
			om_json_str(&j, "id", th->controls[c]);
			om_json_str(&j, "title", om_assess_control_title(th->controls[c], lang));
			om_json_obj_close(&j);
		}
		om_json_arr_close(&j);
		om_json_arr_open(&j, "procedures");
		for (unsigned p = 0; p < th->nprocedures; p++) {
			om_json_obj_open(&j, NULL);
			om_json_str(&j, "id", th->procedures[p]);
			snprintf(key, sizeof(key), "assess.proc.%s", th->procedures[p]);
			om_json_str(&j, "text", om_msg(lang, key));
			om_json_obj_close(&j);
		}
		om_json_arr_close(&j);
		om_json_obj_close(&j);
	}
	om_json_arr_close(&j);
	om_json_obj_close(&j);
	om_buf_putc(out, '\n');
}

/* ---- the workshop ------------------------------------------------------------- */

void om_assess_workshop_init(om_assess_workshop *w)
{
	memset(w, 0, sizeof(*w));
	w->n = om_at_nthreats < OM_ASSESS_MAX_THREATS ? om_at_nthreats : OM_ASSESS_MAX_THREATS;
}

static int threat_index(const char *id)
{
	for (unsigned t = 0; t < om_at_nthreats && t < OM_ASSESS_MAX_THREATS; t++)
		if (!strcmp(om_at_threats[t].id, id))
			return (int)t;
	return -1;
}

struct wl {
	const char *name;
	enum om_lang lang;
	char *err;
	size_t errlen;
	yaml_document_t *doc;
};

static int wfail(struct wl *l, const yaml_node_t *n, const char *field, const char *key)
{
	snprintf(l->err, l->errlen, om_msg(l->lang, "assess.err.at"), l->name,
	         n ? (unsigned long)n->start_mark.line + 1 : 0ul, field, om_msg(l->lang, key));
	return -EINVAL;
}

static const char *wscalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static int wtext(struct wl *l, const yaml_node_t *v, const char *field, char *dst, size_t n)
{
	const char *s = wscalar(v);
	if (!s)
		return wfail(l, v, field, "assess.err.want_text");
	if (strlen(s) >= n)
		return wfail(l, v, field, "assess.err.too_long");
	memcpy(dst, s, strlen(s) + 1);
	return 0;
}

static int wthreat(struct wl *l, const yaml_node_t *v, unsigned t, om_assess_workshop_item *it)
{
	if (v->type != YAML_MAPPING_NODE)
		return wfail(l, v, om_at_threats[t].id, "assess.err.want_map");
	for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = yaml_document_get_node(l->doc, p->key);
		yaml_node_t *x = yaml_document_get_node(l->doc, p->value);
		const char *ks = wscalar(k);
		int rc = 0;
		if (!ks || !x)
			return wfail(l, k, "?", "assess.err.want_text");
		if (!strcmp(ks, "impact"))
			rc = wtext(l, x, ks, it->impact, sizeof(it->impact));
		else if (!strcmp(ks, "barriers"))
			rc = wtext(l, x, ks, it->barriers, sizeof(it->barriers));
		else if (!strcmp(ks, "solutions"))
			rc = wtext(l, x, ks, it->solutions, sizeof(it->solutions));
		else if (!strcmp(ks, "procedures")) {
			if (x->type != YAML_SEQUENCE_NODE)
				return wfail(l, x, ks, "assess.err.want_list");
			it->chosen = 0;
			for (yaml_node_item_t *q = x->data.sequence.items.start;
			     q < x->data.sequence.items.top; q++) {
				const char *ps = wscalar(yaml_document_get_node(l->doc, *q));
				const struct om_at_threat *th = &om_at_threats[t];
				unsigned found = th->nprocedures;
				for (unsigned i = 0; ps && i < th->nprocedures; i++)
					if (!strcmp(th->procedures[i], ps))
						found = i;
				if (found == th->nprocedures)
					return wfail(l, yaml_document_get_node(l->doc, *q), ks,
					             "assess.err.procedure");
				it->chosen |= 1u << found;
			}
		} else
			return wfail(l, k, ks, "assess.err.unknown_field");
		if (rc < 0)
			return rc;
	}
	it->answered = true;
	return 0;
}

int om_assess_workshop_parse(om_assess_workshop *w, const char *name, const char *data, size_t len,
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
	if (!yaml_parser_load(&parser, &doc)) {
		snprintf(err, errlen, om_msg(lang, "assess.err.syntax"), name,
		         (unsigned long)parser.problem_mark.line + 1,
		         parser.problem ? parser.problem : "?");
		yaml_parser_delete(&parser);
		return -EINVAL;
	}
	om_assess_workshop *tmp = malloc(sizeof(*tmp));
	int rc = 0;
	if (!tmp) {
		rc = -ENOMEM;
		goto out;
	}
	*tmp = *w;
	struct wl l = {name, lang, err, errlen, &doc};
	yaml_node_t *root = yaml_document_get_root_node(&doc);
	if (!root || root->type != YAML_MAPPING_NODE) {
		rc = wfail(&l, root, "-", "assess.err.want_map");
		goto out;
	}
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start;
	     rc == 0 && p < root->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(&doc, p->key);
		yaml_node_t *v = yaml_document_get_node(&doc, p->value);
		const char *ks = wscalar(k);
		if (ks && !strcmp(ks, "company")) {
			rc = wtext(&l, v, ks, tmp->company, sizeof(tmp->company));
			continue;
		}
		int t = ks ? threat_index(ks) : -1;
		if (t < 0 || !v) {
			rc = wfail(&l, k, ks ? ks : "?", "assess.err.threat");
			break;
		}
		rc = wthreat(&l, v, (unsigned)t, &tmp->item[t]);
	}
	if (rc == 0)
		*w = *tmp;
out:
	free(tmp);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return rc;
}

static int ask_line(FILE *in, FILE *out, const char *prompt, char *dst, size_t n)
{
	char line[1024];
	fprintf(out, "   %s ", prompt);
	fflush(out);
	if (!fgets(line, sizeof(line), in))
		return -EIO;
	line[strcspn(line, "\r\n")] = 0;
	size_t l = strlen(line);
	if (l >= n)
		l = n - 1;
	memcpy(dst, line, l);
	dst[l] = 0;
	return 0;
}

int om_assess_workshop_ask(om_assess_workshop *w, FILE *in, FILE *out, enum om_lang lang)
{
	char key[64], line[256];
	for (unsigned t = 0; t < w->n; t++) {
		om_assess_workshop_item *it = &w->item[t];
		if (it->answered)
			continue;
		const struct om_at_threat *th = &om_at_threats[t];
		snprintf(key, sizeof(key), "assess.threat.%s", th->id);
		fprintf(out, "\n%u. %s\n", th->rank, om_msg(lang, key));
		for (unsigned p = 0; p < th->nprocedures; p++) {
			snprintf(key, sizeof(key), "assess.proc.%s", th->procedures[p]);
			fprintf(out, "   %u) %s\n", p + 1, om_msg(lang, key));
		}
		if (ask_line(in, out, om_msg(lang, "assess.ws.ask_impact"), it->impact,
		             sizeof(it->impact)) < 0 ||
		    ask_line(in, out, om_msg(lang, "assess.ws.ask_procedures"), line,
		             sizeof(line)) < 0)
			return -EIO;
		it->chosen = 0;
		for (char *s = line; *s; s++)
			if (*s >= '1' && *s <= '9' && (unsigned)(*s - '1') < th->nprocedures)
				it->chosen |= 1u << (*s - '1');
		if (ask_line(in, out, om_msg(lang, "assess.ws.ask_barriers"), it->barriers,
		             sizeof(it->barriers)) < 0 ||
		    ask_line(in, out, om_msg(lang, "assess.ws.ask_solutions"), it->solutions,
		             sizeof(it->solutions)) < 0)
			return -EIO;
		it->answered = true;
	}
	return 0;
}

void om_assess_workshop_csv(const om_assess_workshop *w, enum om_lang lang, om_buf *out)
{
	char key[64];
	om_buf_puts(out, "rank,threat,controls,procedures,impact,barriers,solutions\n");
	for (unsigned t = 0; t < w->n; t++) {
		const struct om_at_threat *th = &om_at_threats[t];
		const om_assess_workshop_item *it = &w->item[t];
		char num[8], ctl[128] = "", proc[1024] = "";
		size_t o = 0;
		snprintf(num, sizeof(num), "%u", th->rank);
		om_assess_csv_field(out, num, false);
		snprintf(key, sizeof(key), "assess.threat.%s", th->id);
		om_assess_csv_field(out, om_msg(lang, key), false);
		for (unsigned c = 0; c < th->ncontrols; c++)
			o += (size_t)snprintf(ctl + o, o < sizeof(ctl) ? sizeof(ctl) - o : 0,
			                      "%sA.%s", c ? " " : "", th->controls[c]);
		om_assess_csv_field(out, ctl, false);
		o = 0;
		for (unsigned p = 0; p < th->nprocedures; p++) {
			if (!(it->chosen & (1u << p)))
				continue;
			snprintf(key, sizeof(key), "assess.proc.%s", th->procedures[p]);
			int k = snprintf(proc + o, sizeof(proc) - o, "%s%s", o ? " / " : "",
			                 om_msg(lang, key));
			if (k < 0 || (size_t)k >= sizeof(proc) - o)
				break;
			o += (size_t)k;
		}
		om_assess_csv_field(out, proc, false);
		om_assess_csv_field(out, it->impact, false);
		om_assess_csv_field(out, it->barriers, false);
		om_assess_csv_field(out, it->solutions, true);
	}
}
