/* exercise: the debrief of a finished play, as text, JSON or a document
 * (HTML/PDF through the report module): the path taken against the best
 * path, time and damage per step, what each better card would have saved
 * and why, and advice linked to the self-check questions (1..25) and the
 * policy chapters (1..11) of the assessment kit. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exercise/internal.h"

static const char *M(enum om_lang lang, const char *key)
{
	return om_msg(lang, key);
}

/* Thousands separators. */
static void fmt_num(uint64_t v, char *buf, size_t n)
{
	char tmp[32];
	int len = snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)v);
	size_t o = 0;
	for (int i = 0; i < len && o + 2 < n; i++) {
		if (i > 0 && (len - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = tmp[i];
	}
	buf[o] = 0;
}

static void fmt_yen(enum om_lang lang, uint64_t v, char *buf, size_t n)
{
	char num[40];
	fmt_num(v, num, sizeof(num));
	snprintf(buf, n, M(lang, "exercise.fmt.yen"), num);
}

static void fmt_minutes(enum om_lang lang, uint64_t v, char *buf, size_t n)
{
	char h[32], m[24];
	snprintf(m, sizeof(m), "%llu", (unsigned long long)(v % 60));
	if (v >= 60) {
		fmt_num(v / 60, h, sizeof(h));
		snprintf(buf, n, M(lang, "exercise.fmt.hm"), h, m);
	} else {
		snprintf(buf, n, M(lang, "exercise.fmt.m"), m);
	}
}

enum measure { MS_MINUTES, MS_DAMAGE, MS_SPREAD, MS_REPUTATION, MS_DATA, MS_N };
static const char *const measure_key[MS_N] = {
    "exercise.measure.minutes", "exercise.measure.damage", "exercise.measure.spread",
    "exercise.measure.reputation", "exercise.measure.data_lost"};

static uint64_t measure(const om_ex_totals *t, enum measure m)
{
	switch (m) {
	case MS_MINUTES: return t->minutes;
	case MS_DAMAGE: return t->damage_yen;
	case MS_SPREAD: return t->spread;
	case MS_REPUTATION: return t->reputation;
	default: return t->data_lost;
	}
}

static void fmt_measure(enum om_lang lang, const om_ex_totals *t, enum measure m, char *buf,
                        size_t n)
{
	if (m == MS_MINUTES)
		fmt_minutes(lang, t->minutes, buf, n);
	else if (m == MS_DAMAGE)
		fmt_yen(lang, t->damage_yen, buf, n);
	else
		fmt_num(measure(t, m), buf, n);
}

/* The saving sentence of a step whose card was not the best. */
static void fmt_saving(enum om_lang lang, const om_ex_delta *d, char *buf, size_t n)
{
	char yen[48], t[48];
	fmt_yen(lang, d->damage_yen > 0 ? (uint64_t)d->damage_yen : 0, yen, sizeof(yen));
	if (d->minutes >= 0) {
		fmt_minutes(lang, (uint64_t)d->minutes, t, sizeof(t));
		snprintf(buf, n, M(lang, "exercise.doc.saved"), yen, t);
	} else {
		fmt_minutes(lang, (uint64_t)-d->minutes, t, sizeof(t));
		snprintf(buf, n, M(lang, "exercise.doc.saved_longer"), yen, t);
	}
}

struct analysis {
	om_ex_play best, worst;
	bool perfect;
	bool question[OM_EX_QUESTIONS + 1];
	bool chapter[OM_EX_CHAPTERS + 1];
};

static int analyse(const om_scenario *s, const om_ex_play *p, struct analysis *a)
{
	memset(a, 0, sizeof(*a));
	int r;
	if ((r = om_ex_best_path(s, &a->best)) < 0 || (r = om_ex_worst_path(s, &a->worst)) < 0)
		return r;
	a->perfect = true;
	for (unsigned i = 0; i < p->nsteps; i++)
		if (p->step[i].best_card != p->step[i].card)
			a->perfect = false;
	/* advice: the better cards' measures; after a perfect play, those of
	 * the cards played */
	for (unsigned i = 0; i < p->nsteps; i++) {
		const om_ex_step *st = &p->step[i];
		if (!a->perfect && st->best_card == st->card)
			continue;
		const struct ex_card *c = &s->ev[st->event].card[st->best_card];
		for (unsigned k = 0; k < c->nquestion; k++)
			a->question[c->question[k]] = true;
		for (unsigned k = 0; k < c->nchapter; k++)
			a->chapter[c->chapter[k]] = true;
	}
	return 0;
}

static void path_ids(const om_scenario *s, const om_ex_play *p, char *buf, size_t n)
{
	size_t o = 0;
	buf[0] = 0;
	for (unsigned i = 0; i < p->nsteps && o + 1 < n; i++) {
		int k = snprintf(buf + o, n - o, "%s%s", i ? "," : "",
		                 s->ev[p->step[i].event].card[p->step[i].card].id);
		if (k < 0 || (size_t)k >= n - o)
			break;
		o += (size_t)k;
	}
}

static void question_line(enum om_lang lang, unsigned q, char *buf, size_t n)
{
	char key[40], num[16];
	snprintf(key, sizeof(key), "exercise.question.%u", q);
	snprintf(num, sizeof(num), "%u", q);
	snprintf(buf, n, M(lang, "exercise.doc.question"), num, M(lang, key));
}

static void chapter_line(enum om_lang lang, unsigned c, char *buf, size_t n)
{
	char key[40], num[16];
	snprintf(key, sizeof(key), "exercise.chapter.%u", c);
	snprintf(num, sizeof(num), "%u", c);
	snprintf(buf, n, M(lang, "exercise.doc.chapter"), num, M(lang, key));
}

/* ---- text --------------------------------------------------------------- */

int om_ex_debrief_text(const om_scenario *s, const om_ex_play *p, enum om_lang lang, om_buf *out)
{
	struct analysis *a = malloc(sizeof(*a));
	if (!a)
		return -ENOMEM;
	int r = analyse(s, p, a);
	if (r < 0) {
		free(a);
		return r;
	}
	char line[1024], v1[64], v2[64], v3[64];
	snprintf(line, sizeof(line), M(lang, "exercise.doc.title"), om_scenario_title(s, lang));
	om_buf_printf(out, "== %s ==\n\n", line);
	path_ids(s, p, v1, sizeof(v1));
	path_ids(s, &a->best, v2, sizeof(v2));
	om_buf_printf(out, "%s: %s\n%s: %s\n\n", M(lang, "exercise.doc.your_path"), v1,
	              M(lang, "exercise.doc.best_path_ids"), v2);
	om_buf_printf(out, "%s\n", M(lang, "exercise.doc.result"));
	om_buf_printf(out, "  (%s | %s | %s)\n", M(lang, "exercise.col.you"),
	              M(lang, "exercise.col.best"), M(lang, "exercise.col.worst"));
	for (int m = 0; m < MS_N; m++) {
		fmt_measure(lang, &p->totals, (enum measure)m, v1, sizeof(v1));
		fmt_measure(lang, &a->best.totals, (enum measure)m, v2, sizeof(v2));
		fmt_measure(lang, &a->worst.totals, (enum measure)m, v3, sizeof(v3));
		om_buf_printf(out, "  %s: %s | %s | %s\n", M(lang, measure_key[m]), v1, v2, v3);
	}
	om_buf_puts(out, "\n");
	for (unsigned i = 0; i < p->nsteps; i++) {
		const om_ex_step *st = &p->step[i];
		const struct ex_event *ev = &s->ev[st->event];
		char num[16];
		snprintf(num, sizeof(num), "%u", i + 1);
		snprintf(line, sizeof(line), M(lang, "exercise.doc.step"), num,
		         ev->title.t[lang == OM_LANG_EN]);
		fmt_minutes(lang, st->effect.minutes, v1, sizeof(v1));
		fmt_yen(lang, st->effect.damage_yen, v2, sizeof(v2));
		om_buf_printf(out, "%s  (+%s, +%s)\n", line, v1, v2);
		const struct ex_card *c = &ev->card[st->card];
		om_buf_printf(out, "  %s (%s): %s\n", M(lang, "exercise.doc.you_chose"), c->id,
		              c->text.t[lang == OM_LANG_EN]);
		om_buf_printf(out, "    %s\n", c->why.t[lang == OM_LANG_EN]);
		if (st->best_card != st->card) {
			const struct ex_card *b = &ev->card[st->best_card];
			om_buf_printf(out, "  %s (%s): %s\n", M(lang, "exercise.doc.better"), b->id,
			              b->text.t[lang == OM_LANG_EN]);
			om_buf_printf(out, "    %s\n", b->why.t[lang == OM_LANG_EN]);
			fmt_saving(lang, &st->saving, line, sizeof(line));
			om_buf_printf(out, "    %s\n", line);
		}
	}
	om_buf_printf(out, "\n%s\n  %s\n", M(lang, "exercise.doc.advice"),
	              M(lang, a->perfect ? "exercise.doc.advice_good" : "exercise.doc.advice_bad"));
	for (unsigned q = 1; q <= OM_EX_QUESTIONS; q++) {
		if (a->question[q]) {
			question_line(lang, q, line, sizeof(line));
			om_buf_printf(out, "  - %s\n", line);
		}
	}
	for (unsigned c = 1; c <= OM_EX_CHAPTERS; c++) {
		if (a->chapter[c]) {
			chapter_line(lang, c, line, sizeof(line));
			om_buf_printf(out, "  - %s\n", line);
		}
	}
	free(a);
	return out->toobig ? -ENOBUFS : 0;
}

/* ---- JSON --------------------------------------------------------------- */

static void json_totals(om_json *j, const char *key, const om_ex_totals *t)
{
	om_json_obj_open(j, key);
	om_json_u64(j, "minutes", t->minutes);
	om_json_u64(j, "damage_yen", t->damage_yen);
	om_json_u64(j, "spread", t->spread);
	om_json_u64(j, "reputation", t->reputation);
	om_json_u64(j, "data_lost", t->data_lost);
	om_json_obj_close(j);
}

static void json_path(om_json *j, const char *key, const om_scenario *s, const om_ex_play *p)
{
	om_json_obj_open(j, key);
	om_json_arr_open(j, "choices");
	for (unsigned i = 0; i < p->nsteps; i++)
		om_json_str(j, NULL, s->ev[p->step[i].event].card[p->step[i].card].id);
	om_json_arr_close(j);
	json_totals(j, "totals", &p->totals);
	om_json_obj_close(j);
}

int om_ex_debrief_json(const om_scenario *s, const om_ex_play *p, enum om_lang lang, om_buf *out)
{
	struct analysis *a = malloc(sizeof(*a));
	if (!a)
		return -ENOMEM;
	int r = analyse(s, p, a);
	if (r < 0) {
		free(a);
		return r;
	}
	om_json j;
	om_json_init(&j, out);
	om_json_obj_open(&j, NULL);
	om_json_str(&j, "scenario", s->id);
	om_json_str(&j, "title", om_scenario_title(s, lang));
	om_json_str(&j, "lang", om_lang_name(lang));
	om_json_arr_open(&j, "choices");
	for (unsigned i = 0; i < p->nsteps; i++)
		om_json_str(&j, NULL, s->ev[p->step[i].event].card[p->step[i].card].id);
	om_json_arr_close(&j);
	json_totals(&j, "totals", &p->totals);
	json_path(&j, "best", s, &a->best);
	json_path(&j, "worst", s, &a->worst);
	om_json_bool(&j, "best_every_step", a->perfect);
	om_json_arr_open(&j, "steps");
	for (unsigned i = 0; i < p->nsteps; i++) {
		const om_ex_step *st = &p->step[i];
		const struct ex_event *ev = &s->ev[st->event];
		om_json_obj_open(&j, NULL);
		om_json_u64(&j, "n", i + 1);
		om_json_str(&j, "event", ev->id);
		om_json_str(&j, "title", ev->title.t[lang == OM_LANG_EN]);
		om_json_str(&j, "card", ev->card[st->card].id);
		json_totals(&j, "effect", &st->effect);
		json_totals(&j, "after", &st->after);
		om_json_str(&j, "best_card", ev->card[st->best_card].id);
		om_json_obj_open(&j, "saving");
		om_json_i64(&j, "minutes", st->saving.minutes);
		om_json_i64(&j, "damage_yen", st->saving.damage_yen);
		om_json_i64(&j, "spread", st->saving.spread);
		om_json_i64(&j, "reputation", st->saving.reputation);
		om_json_i64(&j, "data_lost", st->saving.data_lost);
		om_json_obj_close(&j);
		om_json_obj_close(&j);
	}
	om_json_arr_close(&j);
	om_json_obj_open(&j, "advice");
	om_json_arr_open(&j, "questions");
	for (unsigned q = 1; q <= OM_EX_QUESTIONS; q++) {
		if (!a->question[q])
			continue;
		char key[40];
		snprintf(key, sizeof(key), "exercise.question.%u", q);
		om_json_obj_open(&j, NULL);
		om_json_u64(&j, "n", q);
		om_json_str(&j, "topic", M(lang, key));
		om_json_obj_close(&j);
	}
	om_json_arr_close(&j);
	om_json_arr_open(&j, "chapters");
	for (unsigned c = 1; c <= OM_EX_CHAPTERS; c++) {
		if (!a->chapter[c])
			continue;
		char key[40];
		snprintf(key, sizeof(key), "exercise.chapter.%u", c);
		om_json_obj_open(&j, NULL);
		om_json_u64(&j, "n", c);
		om_json_str(&j, "name", M(lang, key));
		om_json_obj_close(&j);
	}
	om_json_arr_close(&j);
	om_json_obj_close(&j);
	om_json_obj_close(&j);
	om_buf_putc(out, '\n');
	free(a);
	return out->toobig ? -ENOBUFS : 0;
}

/* ---- document ----------------------------------------------------------- */

om_doc *om_ex_debrief_doc(const om_scenario *s, const om_ex_play *p, enum om_lang lang)
{
	struct analysis *a = malloc(sizeof(*a));
	if (!a || analyse(s, p, a) < 0) {
		free(a);
		return NULL;
	}
	const int li = lang == OM_LANG_EN;
	/* room for a card's text (OM_EX_MAX_TEXT) and what goes around it,
	 * so that nothing is cut inside a character */
	enum { LINE = OM_EX_MAX_TEXT + 512 };
	char *line = malloc(LINE), v[4][64];
	if (!line) {
		free(a);
		return NULL;
	}
	snprintf(line, LINE, M(lang, "exercise.doc.title"), om_scenario_title(s, lang));
	om_doc *d = om_doc_new(line, lang);
	if (!d) {
		free(line);
		free(a);
		return NULL;
	}
	om_doc_para(d, OM_DOC_PLAIN, om_scenario_summary(s, lang));

	/* the result: you, best, worst */
	om_doc_heading(d, 1, M(lang, "exercise.doc.result"));
	path_ids(s, p, v[0], sizeof(v[0]));
	path_ids(s, &a->best, v[1], sizeof(v[1]));
	snprintf(line, LINE, "%s: %s / %s: %s", M(lang, "exercise.doc.your_path"), v[0],
	         M(lang, "exercise.doc.best_path_ids"), v[1]);
	om_doc_para(d, OM_DOC_PLAIN, line);
	{
		char cell[4 * (MS_N + 1)][256];
		const char *cells[4 * (MS_N + 1)];
		enum om_doc_mark marks[4 * (MS_N + 1)] = {0};
		snprintf(cell[0], sizeof(cell[0]), "%s", "");
		snprintf(cell[1], sizeof(cell[1]), "%s", M(lang, "exercise.col.you"));
		snprintf(cell[2], sizeof(cell[2]), "%s", M(lang, "exercise.col.best"));
		snprintf(cell[3], sizeof(cell[3]), "%s", M(lang, "exercise.col.worst"));
		for (int m = 0; m < MS_N; m++) {
			int row = 4 * (m + 1);
			snprintf(cell[row], sizeof(cell[0]), "%s", M(lang, measure_key[m]));
			fmt_measure(lang, &p->totals, (enum measure)m, cell[row + 1],
			            sizeof(cell[0]));
			fmt_measure(lang, &a->best.totals, (enum measure)m, cell[row + 2],
			            sizeof(cell[0]));
			fmt_measure(lang, &a->worst.totals, (enum measure)m, cell[row + 3],
			            sizeof(cell[0]));
			uint64_t you = measure(&p->totals, (enum measure)m);
			marks[row + 1] =
			    you <= measure(&a->best.totals, (enum measure)m)    ? OM_DOC_GOOD
			    : you >= measure(&a->worst.totals, (enum measure)m) ? OM_DOC_BAD
			                                                        : OM_DOC_WARN;
		}
		for (unsigned i = 0; i < OM_ARRAY_SIZE(cells); i++)
			cells[i] = cell[i];
		om_doc_table(d, MS_N + 1, 4, cells, marks);
	}

	/* damage per step, yours */
	if (p->nsteps > 0) {
		const char *labels[OM_EX_MAX_STEPS];
		double values[OM_EX_MAX_STEPS];
		enum { LAB = OM_EX_MAX_TEXT + 16 };
		char *lab = malloc((size_t)OM_EX_MAX_STEPS * LAB);
		for (unsigned i = 0; lab && i < p->nsteps; i++) {
			snprintf(lab + (size_t)i * LAB, LAB, "%u. %s", i + 1,
			         s->ev[p->step[i].event].title.t[li]);
			labels[i] = lab + (size_t)i * LAB;
			values[i] = (double)p->step[i].effect.damage_yen;
		}
		if (lab)
			om_doc_bars(d, M(lang, "exercise.doc.bars"), p->nsteps, labels, values,
			            M(lang, "exercise.fmt.yen_unit"));
		free(lab);
	}

	/* step by step */
	om_doc_heading(d, 1, M(lang, "exercise.doc.steps"));
	{
		enum { COLS = 6 };
		unsigned rows = p->nsteps + 1;
		const char **cells = calloc((size_t)rows * COLS, sizeof(*cells));
		char(*cell)[512] = calloc((size_t)rows * COLS, sizeof(*cell));
		enum om_doc_mark *marks = calloc((size_t)rows * COLS, sizeof(*marks));
		if (cells && cell && marks) {
			static const char *const head[COLS] = {
			    "exercise.col.step", "exercise.col.event",  "exercise.col.card",
			    "exercise.col.time", "exercise.col.damage", "exercise.col.better"};
			for (int c = 0; c < COLS; c++)
				snprintf(cell[c], sizeof(cell[c]), "%s", M(lang, head[c]));
			for (unsigned i = 0; i < p->nsteps; i++) {
				const om_ex_step *st = &p->step[i];
				const struct ex_event *ev = &s->ev[st->event];
				char(*row)[512] = &cell[(i + 1) * COLS];
				snprintf(row[0], 512, "%u", i + 1);
				snprintf(row[2], 512, "%s", ev->card[st->card].id);
				fmt_minutes(lang, st->effect.minutes, row[3], 512);
				fmt_yen(lang, st->effect.damage_yen, row[4], 512);
				if (st->best_card == st->card) {
					snprintf(row[5], 512, "%s",
					         M(lang, "exercise.doc.was_best"));
					marks[(i + 1) * COLS + 2] = OM_DOC_GOOD;
				} else {
					char sv[400];
					fmt_saving(lang, &st->saving, sv, sizeof(sv));
					snprintf(row[5], 512, "%s: %s", ev->card[st->best_card].id,
					         sv);
					marks[(i + 1) * COLS + 2] = OM_DOC_BAD;
				}
			}
			for (unsigned i = 0; i < rows * COLS; i++)
				cells[i] = cell[i];
			/* the event titles as they are (up to OM_EX_MAX_TEXT) */
			for (unsigned i = 0; i < p->nsteps; i++)
				cells[(i + 1) * COLS + 1] = s->ev[p->step[i].event].title.t[li];
			om_doc_table(d, rows, COLS, cells, marks);
		}
		free(cells);
		free(cell);
		free(marks);
	}
	for (unsigned i = 0; i < p->nsteps; i++) {
		const om_ex_step *st = &p->step[i];
		const struct ex_event *ev = &s->ev[st->event];
		char num[16];
		snprintf(num, sizeof(num), "%u", i + 1);
		snprintf(line, LINE, M(lang, "exercise.doc.step"), num, ev->title.t[li]);
		om_doc_heading(d, 2, line);
		om_doc_para(d, OM_DOC_PLAIN, ev->text.t[li]);
		const struct ex_card *c = &ev->card[st->card];
		bool best = st->best_card == st->card;
		snprintf(line, LINE, "%s (%s): %s", M(lang, "exercise.doc.you_chose"), c->id,
		         c->text.t[li]);
		om_doc_para(d, best ? OM_DOC_GOOD : OM_DOC_BAD, line);
		om_doc_bullet(d, OM_DOC_PLAIN, c->why.t[li]);
		if (!best) {
			const struct ex_card *b = &ev->card[st->best_card];
			snprintf(line, LINE, "%s (%s): %s", M(lang, "exercise.doc.better"), b->id,
			         b->text.t[li]);
			om_doc_para(d, OM_DOC_GOOD, line);
			om_doc_bullet(d, OM_DOC_PLAIN, b->why.t[li]);
			fmt_saving(lang, &st->saving, line, LINE);
			om_doc_bullet(d, OM_DOC_WARN, line);
		}
	}

	/* the best path, card by card */
	om_doc_heading(d, 1, M(lang, "exercise.doc.best_path"));
	for (unsigned i = 0; i < a->best.nsteps; i++) {
		const om_ex_step *st = &a->best.step[i];
		const struct ex_event *ev = &s->ev[st->event];
		snprintf(line, LINE, "%s: (%s) %s", ev->title.t[li], ev->card[st->card].id,
		         ev->card[st->card].text.t[li]);
		om_doc_bullet(d, OM_DOC_GOOD, line);
	}

	/* advice */
	om_doc_heading(d, 1, M(lang, "exercise.doc.advice"));
	om_doc_para(d, OM_DOC_PLAIN,
	            M(lang, a->perfect ? "exercise.doc.advice_good" : "exercise.doc.advice_bad"));
	for (unsigned q = 1; q <= OM_EX_QUESTIONS; q++) {
		if (a->question[q]) {
			question_line(lang, q, line, LINE);
			om_doc_bullet(d, OM_DOC_PLAIN, line);
		}
	}
	for (unsigned c = 1; c <= OM_EX_CHAPTERS; c++) {
		if (a->chapter[c]) {
			chapter_line(lang, c, line, LINE);
			om_doc_bullet(d, OM_DOC_PLAIN, line);
		}
	}
	free(line);
	free(a);
	return d;
}
