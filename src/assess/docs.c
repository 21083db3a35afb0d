/* docs.c: the assessment kit's documents, built on the document model of
 * src/report (om_doc_*) and written as HTML, PDF or DOCX: the self-check
 * report with its radar, the basic policy and rules, the risk sheet and the
 * threat-to-control map with the workshop's answers. */
#include "assess/assess.h"
#include "assess/internal.h"
#include "assess/tables.h"

#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static const char *tr(enum om_lang lang, const char *fmt, unsigned n, char *key, size_t kl)
{
	snprintf(key, kl, fmt, n);
	return om_msg(lang, key);
}

static const char *trs(enum om_lang lang, const char *fmt, const char *s, char *key, size_t kl)
{
	snprintf(key, kl, fmt, s);
	return om_msg(lang, key);
}

static void area_labels(enum om_lang lang, const char *labels[OM_ASSESS_AREAS], char keys[][48])
{
	for (unsigned a = 0; a < OM_ASSESS_AREAS; a++)
		labels[a] = trs(lang, "assess.area.%s", om_at_areas[a], keys[a], sizeof(keys[a]));
}

int om_assess_radar_svg(const om_assess_result *r, const om_assess_result *before, const char *date,
                        const char *before_date, enum om_lang lang, om_buf *out)
{
	const char *labels[OM_ASSESS_AREAS];
	char keys[OM_ASSESS_AREAS][48];
	area_labels(lang, labels, keys);
	const char *now = date && date[0] ? date : om_msg(lang, "assess.out.now");
	return om_doc_radar_svg(
	    OM_ASSESS_AREAS, labels, 100, r->area, now, before ? before->area : NULL,
	    before
	        ? (before_date && before_date[0] ? before_date : om_msg(lang, "assess.out.before"))
	        : NULL,
	    out);
}

om_doc *om_assess_doc_radar(const om_assess_sheet *s, const om_assess_result *r,
                            const om_assess_result *before, const char *before_date,
                            enum om_lang lang)
{
	char line[512];
	om_doc *d = om_doc_new(om_msg(lang, "assess.doc.radar"), lang);
	if (!d)
		return NULL;
	if (s->company[0])
		om_doc_para(d, OM_DOC_PLAIN, s->company);
	const char *labels[OM_ASSESS_AREAS];
	char keys[OM_ASSESS_AREAS][48];
	area_labels(lang, labels, keys);
	const char *now = s->date[0] ? s->date : om_msg(lang, "assess.out.now");
	const char *then =
	    before_date && before_date[0] ? before_date : om_msg(lang, "assess.out.before");
	om_doc_radar(d, om_msg(lang, "assess.doc.radar"), OM_ASSESS_AREAS, labels, 100, r->area,
	             now, before ? before->area : NULL, before ? then : NULL);
	for (unsigned a = 0; a < OM_ASSESS_AREAS; a++) {
		if (before)
			snprintf(line, sizeof(line), "%s: %.0f (%s) -> %.0f (%s)", labels[a],
			         before->area[a], then, r->area[a], now);
		else
			snprintf(line, sizeof(line), "%s: %.0f", labels[a], r->area[a]);
		om_doc_bullet(d, OM_DOC_PLAIN, line);
	}
	return d;
}

om_doc *om_assess_doc_selfcheck(const om_assess_sheet *s, const om_assess_result *r,
                                const om_assess_result *before, const char *before_date,
                                enum om_lang lang)
{
	char key[64], line[1024];
	om_doc *d = om_doc_new(om_msg(lang, "assess.doc.selfcheck_title"), lang);
	if (!d)
		return NULL;
	if (s->company[0])
		om_doc_para(d, OM_DOC_PLAIN, s->company);
	if (s->date[0]) {
		snprintf(line, sizeof(line), om_msg(lang, "assess.doc.date"), s->date);
		om_doc_para(d, OM_DOC_PLAIN, line);
	}
	om_doc_heading(d, 1, om_msg(lang, "assess.doc.result"));
	snprintf(line, sizeof(line), om_msg(lang, "assess.out.score"), r->score);
	enum om_doc_mark m = r->band == 0 ? OM_DOC_GOOD : r->band == 3 ? OM_DOC_BAD : OM_DOC_WARN;
	om_doc_para(d, m, line);
	om_doc_para(d, m,
	            trs(lang, "assess.band.%s", om_assess_band_name(r->band), key, sizeof(key)));
	if (!r->complete)
		om_doc_para(d, OM_DOC_WARN, om_msg(lang, "assess.out.incomplete"));

	const char *pl[OM_ASSESS_PARTS];
	char pkeys[OM_ASSESS_PARTS][48];
	double pv[OM_ASSESS_PARTS];
	for (unsigned p = 0; p < OM_ASSESS_PARTS; p++) {
		pl[p] =
		    trs(lang, "assess.part.%s", om_at_parts[p].name, pkeys[p], sizeof(pkeys[p]));
		pv[p] = r->part_max[p]
		            ? 100.0 * (r->part_score[p] > 0 ? r->part_score[p] : 0) / r->part_max[p]
		            : 0;
	}
	om_doc_bars(d, om_msg(lang, "assess.doc.parts"), OM_ASSESS_PARTS, pl, pv, "%");
	const char *cells[2 * (OM_ASSESS_PARTS + 1)];
	char sc[OM_ASSESS_PARTS][32];
	cells[0] = om_msg(lang, "assess.doc.part");
	cells[1] = om_msg(lang, "assess.doc.points");
	for (unsigned p = 0; p < OM_ASSESS_PARTS; p++) {
		snprintf(sc[p], sizeof(sc[p]), "%d / %d", r->part_score[p], r->part_max[p]);
		cells[2 + 2 * p] = pl[p];
		cells[3 + 2 * p] = sc[p];
	}
	om_doc_table(d, OM_ASSESS_PARTS + 1, 2, cells, NULL);
	if (r->ndepts > 1) {
		om_doc_heading(d, 2, om_msg(lang, "assess.doc.departments"));
		for (unsigned i = 0; i < r->ndepts; i++) {
			snprintf(line, sizeof(line), "%s: %d",
			         s->dept[i].name[0] ? s->dept[i].name : "-", r->dept_score[i]);
			om_doc_bullet(d, OM_DOC_PLAIN, line);
		}
	}

	om_doc_heading(d, 1, om_msg(lang, "assess.doc.radar"));
	const char *labels[OM_ASSESS_AREAS];
	char keys[OM_ASSESS_AREAS][48];
	area_labels(lang, labels, keys);
	om_doc_radar(
	    d, om_msg(lang, "assess.doc.radar"), OM_ASSESS_AREAS, labels, 100, r->area,
	    s->date[0] ? s->date : om_msg(lang, "assess.out.now"), before ? before->area : NULL,
	    before
	        ? (before_date && before_date[0] ? before_date : om_msg(lang, "assess.out.before"))
	        : NULL);
	for (unsigned a = 0; a < OM_ASSESS_AREAS; a++) {
		if (before)
			snprintf(line, sizeof(line), "%s: %.0f -> %.0f", labels[a], before->area[a],
			         r->area[a]);
		else
			snprintf(line, sizeof(line), "%s: %.0f", labels[a], r->area[a]);
		om_doc_bullet(d, OM_DOC_PLAIN, line);
	}

	om_doc_heading(d, 1, om_msg(lang, "assess.out.advice"));
	unsigned part = 0;
	for (unsigned q = 1; q <= OM_ASSESS_QUESTIONS; q++) {
		if (om_at_questions[q - 1].part != part) {
			part = om_at_questions[q - 1].part;
			om_doc_heading(d, 2, pl[part - 1]);
		}
		enum om_assess_answer a = r->q_answer[q - 1];
		snprintf(line, sizeof(line), "%u. %s [%s]", q,
		         tr(lang, "assess.q.%u.text", q, key, sizeof(key)),
		         om_assess_answer_label(a, lang));
		om_doc_para(d,
		            a == OM_ANS_YES      ? OM_DOC_GOOD
		            : a == OM_ANS_PARTLY ? OM_DOC_WARN
		                                 : OM_DOC_BAD,
		            line);
		if (a != OM_ANS_YES)
			om_doc_bullet(d, OM_DOC_PLAIN,
			              tr(lang, "assess.q.%u.advice", q, key, sizeof(key)));
	}
	om_doc_heading(d, 1, om_msg(lang, "assess.doc.security_action"));
	snprintf(line, sizeof(line), "%s %s", om_msg(lang, "assess.out.sa_one"),
	         om_msg(lang, r->one_star ? "assess.out.ready" : "assess.out.not_ready"));
	om_doc_para(d, r->one_star ? OM_DOC_GOOD : OM_DOC_WARN, line);
	snprintf(line, sizeof(line), "%s %s", om_msg(lang, "assess.out.sa_two"),
	         om_msg(lang, r->two_star ? "assess.out.ready" : "assess.out.not_ready"));
	om_doc_para(d, r->two_star ? OM_DOC_GOOD : OM_DOC_WARN, line);
	om_doc_para(d, OM_DOC_PLAIN, om_at_selfcheck_source);
	return d;
}

/* ---- policy and rules ------------------------------------------------------------ */

static const struct chapter {
	const char *id;
	unsigned nq;
	unsigned q[6]; /* the self-check questions the chapter's rules rest on */
} chapters[11] = {
    {"organisation", 2, {5, 25}},  {"human", 2, {19, 20}},
    {"assets", 3, {4, 12, 18}},    {"access", 2, {3, 4}},
    {"physical", 3, {15, 16, 17}}, {"it_use", 6, {6, 7, 8, 10, 14, 21}},
    {"it_ops", 4, {1, 2, 9, 11}},  {"development", 2, {1, 23}},
    {"outsourcing", 2, {22, 23}},  {"incident", 2, {24, 11}},
    {"personal", 3, {13, 18, 19}},
};
static const char *const basic_sections[5] = {"management", "organisation", "staff", "compliance",
                                              "violations"};

/* The weakest answer to question q over the departments. */
static enum om_assess_answer weakest(const om_assess_sheet *s, unsigned q)
{
	enum om_assess_answer w = OM_ANS_YES;
	for (unsigned d = 0; d < s->ndepts && d < OM_ASSESS_MAX_DEPTS; d++) {
		enum om_assess_answer a = s->dept[d].answer[q - 1];
		if (a == OM_ANS_MISSING || om_assess_points(a) < om_assess_points(w))
			w = a;
		if (a == OM_ANS_MISSING)
			break;
	}
	return w;
}

om_doc *om_assess_doc_policy(const om_assess_sheet *s, enum om_lang lang)
{
	char key[64], line[2048];
	const char *company =
	    s->company[0] ? s->company : om_msg(lang, "assess.policy.our_company");
	om_doc *d = om_doc_new(om_msg(lang, "assess.policy.title"), lang);
	if (!d)
		return NULL;
	om_doc_para(d, OM_DOC_PLAIN, company);
	om_doc_heading(d, 1, om_msg(lang, "assess.policy.basic_title"));
	snprintf(line, sizeof(line), om_msg(lang, "assess.policy.basic_intro"), company);
	om_doc_para(d, OM_DOC_PLAIN, line);
	for (unsigned i = 0; i < 5; i++) {
		om_doc_heading(
		    d, 2,
		    trs(lang, "assess.policy.basic.%s.title", basic_sections[i], key, sizeof(key)));
		snprintf(
		    line, sizeof(line),
		    trs(lang, "assess.policy.basic.%s.body", basic_sections[i], key, sizeof(key)),
		    company);
		om_doc_para(d, OM_DOC_PLAIN, line);
	}
	if (s->owner[0]) {
		snprintf(line, sizeof(line), om_msg(lang, "assess.policy.signed"), s->owner,
		         s->date[0] ? s->date : "");
		om_doc_para(d, OM_DOC_PLAIN, line);
	} else {
		om_doc_para(d, OM_DOC_DECIDE, om_msg(lang, "assess.policy.decide_owner"));
	}
	om_doc_para(d, s->policy_published ? OM_DOC_GOOD : OM_DOC_DECIDE,
	            om_msg(lang, s->policy_published ? "assess.policy.published"
	                                             : "assess.policy.decide_publish"));

	om_doc_pagebreak(d);
	om_doc_heading(d, 1, om_msg(lang, "assess.policy.rules_title"));
	om_doc_para(d, OM_DOC_PLAIN, om_msg(lang, "assess.policy.rules_intro"));
	for (unsigned c = 0; c < OM_ARRAY_SIZE(chapters); c++) {
		const struct chapter *ch = &chapters[c];
		snprintf(line, sizeof(line), "%u. %s", c + 1,
		         trs(lang, "assess.policy.ch.%s.title", ch->id, key, sizeof(key)));
		om_doc_heading(d, 2, line);
		om_doc_para(d, OM_DOC_PLAIN,
		            trs(lang, "assess.policy.ch.%s.body", ch->id, key, sizeof(key)));
		for (unsigned k = 0; k < ch->nq; k++) {
			unsigned q = ch->q[k];
			enum om_assess_answer a = weakest(s, q);
			char qk[48];
			const char *topic = tr(lang, "assess.rule.%u", q, qk, sizeof(qk));
			if (a == OM_ANS_YES) {
				snprintf(line, sizeof(line), om_msg(lang, "assess.policy.in_place"),
				         topic);
				om_doc_bullet(d, OM_DOC_GOOD, line);
			} else {
				snprintf(line, sizeof(line), om_msg(lang, "assess.policy.to_start"),
				         topic, om_assess_answer_label(a, lang));
				om_doc_bullet(d, OM_DOC_DECIDE, line);
			}
		}
		om_doc_para(d, OM_DOC_DECIDE,
		            trs(lang, "assess.policy.ch.%s.decide", ch->id, key, sizeof(key)));
	}
	om_doc_heading(d, 1, om_msg(lang, "assess.policy.plan_title"));
	const char *cells[4 * 26];
	unsigned rows = 1;
	cells[0] = om_msg(lang, "assess.policy.plan_rule");
	cells[1] = om_msg(lang, "assess.policy.plan_now");
	cells[2] = om_msg(lang, "assess.policy.plan_owner");
	cells[3] = om_msg(lang, "assess.policy.plan_due");
	enum om_doc_mark marks[4 * 26];
	for (unsigned i = 0; i < 4; i++)
		marks[i] = OM_DOC_PLAIN;
	char qkeys[25][48];
	for (unsigned q = 1; q <= OM_ASSESS_QUESTIONS; q++) {
		enum om_assess_answer a = weakest(s, q);
		if (a == OM_ANS_YES)
			continue;
		unsigned o = rows * 4;
		snprintf(qkeys[q - 1], sizeof(qkeys[q - 1]), "assess.rule.%u", q);
		cells[o] = om_msg(lang, qkeys[q - 1]);
		cells[o + 1] = om_assess_answer_label(a, lang);
		cells[o + 2] = om_msg(lang, "assess.policy.blank");
		cells[o + 3] = om_msg(lang, "assess.policy.blank");
		marks[o] = OM_DOC_PLAIN;
		marks[o + 1] = a == OM_ANS_PARTLY ? OM_DOC_WARN : OM_DOC_BAD;
		marks[o + 2] = OM_DOC_DECIDE;
		marks[o + 3] = OM_DOC_DECIDE;
		rows++;
	}
	if (rows > 1)
		om_doc_table(d, rows, 4, cells, marks);
	else
		om_doc_para(d, OM_DOC_GOOD, om_msg(lang, "assess.policy.plan_none"));
	om_doc_para(d, OM_DOC_PLAIN, om_msg(lang, "assess.policy.source"));
	return d;
}

/* ---- risk sheet ------------------------------------------------------------------- */

om_doc *om_assess_doc_risk(const om_assess_risk *r, const char *company, enum om_lang lang)
{
	om_doc *d = om_doc_new(om_msg(lang, "assess.risk.title"), lang);
	if (!d)
		return NULL;
	if (company && company[0])
		om_doc_para(d, OM_DOC_PLAIN, company);
	om_doc_para(d, OM_DOC_PLAIN, om_msg(lang, "assess.risk.how"));
	enum { COLS = 8 };
	unsigned rows = r->n + 1;
	const char **cells = calloc((size_t)rows * COLS, sizeof(char *));
	enum om_doc_mark *marks = calloc((size_t)rows * COLS, sizeof(*marks));
	char(*num)[3][24] = calloc(rows, sizeof(*num));
	if (!cells || !marks || !num) {
		free(cells);
		free(marks);
		free(num);
		return om_doc_free(d);
	}
	static const char *const head[COLS] = {
	    "assess.risk.col.asset", "assess.risk.col.cia",        "assess.risk.col.tv",
	    "assess.risk.col.risk",  "assess.risk.col.control",    "assess.risk.col.owner",
	    "assess.risk.col.due",   "assess.risk.col.asset_owner"};
	for (unsigned c = 0; c < COLS; c++)
		cells[c] = om_msg(lang, head[c]);
	for (unsigned i = 0; i < r->n; i++) {
		const om_assess_risk_row *w = &r->row[i];
		const char **row = cells + (size_t)(i + 1) * COLS;
		enum om_doc_mark *mrow = marks + (size_t)(i + 1) * COLS;
		snprintf(num[i + 1][0], 24, "%u/%u/%u (%u)", w->c, w->i, w->a, w->importance);
		snprintf(num[i + 1][1], 24, "%u/%u (%u)", w->threat, w->vuln, w->likelihood);
		snprintf(num[i + 1][2], 24, "%u", w->risk);
		row[0] = w->asset;
		row[1] = num[i + 1][0];
		row[2] = num[i + 1][1];
		row[3] = num[i + 1][2];
		row[4] = w->control[0] ? w->control : om_msg(lang, "assess.policy.blank");
		row[5] = w->plan_owner[0] ? w->plan_owner : om_msg(lang, "assess.policy.blank");
		row[6] = w->due[0] ? w->due : om_msg(lang, "assess.policy.blank");
		row[7] = w->owner;
		mrow[3] = w->risk >= 6 ? OM_DOC_BAD : w->risk >= 3 ? OM_DOC_WARN : OM_DOC_GOOD;
		if (!w->control[0])
			mrow[4] = OM_DOC_DECIDE;
		if (!w->plan_owner[0])
			mrow[5] = OM_DOC_DECIDE;
		if (!w->due[0])
			mrow[6] = OM_DOC_DECIDE;
	}
	om_doc_table(d, rows, COLS, cells, marks);
	free(cells);
	free(marks);
	free(num);
	return d;
}

/* ---- threats to controls ------------------------------------------------------------ */

om_doc *om_assess_doc_threats(const om_assess_workshop *w, enum om_lang lang)
{
	char key[64], line[1024];
	om_doc *d = om_doc_new(om_msg(lang, "assess.threats.title"), lang);
	if (!d)
		return NULL;
	if (w && w->company[0])
		om_doc_para(d, OM_DOC_PLAIN, w->company);
	om_doc_para(d, OM_DOC_PLAIN, om_at_threats_source);
	om_doc_para(d, OM_DOC_PLAIN, om_at_controls_source);
	for (unsigned t = 0; t < om_at_nthreats; t++) {
		const struct om_at_threat *th = &om_at_threats[t];
		snprintf(line, sizeof(line), "%u. %s", th->rank,
		         trs(lang, "assess.threat.%s", th->id, key, sizeof(key)));
		om_doc_heading(d, 2, line);
		for (unsigned c = 0; c < th->ncontrols; c++) {
			snprintf(line, sizeof(line), "A.%s %s", th->controls[c],
			         om_assess_control_title(th->controls[c], lang));
			om_doc_bullet(d, OM_DOC_PLAIN, line);
		}
		const om_assess_workshop_item *it = w && t < w->n ? &w->item[t] : NULL;
		for (unsigned p = 0; p < th->nprocedures; p++) {
			bool chosen = it && (it->chosen & (1u << p));
			snprintf(line, sizeof(line), "%s%s",
			         chosen ? om_msg(lang, "assess.ws.chosen") : "",
			         trs(lang, "assess.proc.%s", th->procedures[p], key, sizeof(key)));
			om_doc_bullet(d, chosen ? OM_DOC_GOOD : OM_DOC_PLAIN, line);
		}
		if (it && it->answered) {
			snprintf(line, sizeof(line), "%s: %s", om_msg(lang, "assess.ws.impact"),
			         it->impact);
			om_doc_para(d, OM_DOC_PLAIN, line);
			snprintf(line, sizeof(line), "%s: %s", om_msg(lang, "assess.ws.barriers"),
			         it->barriers);
			om_doc_para(d, OM_DOC_WARN, line);
			snprintf(line, sizeof(line), "%s: %s", om_msg(lang, "assess.ws.solutions"),
			         it->solutions);
			om_doc_para(d, OM_DOC_GOOD, line);
		}
	}
	return d;
}

/* ---- writing ---------------------------------------------------------------------- */

static int write_buf(const om_buf *b, const char *path, enum om_lang lang, char *err, size_t errlen)
{
	FILE *f = fopen(path, "wb");
	if (!f || (b->len && fwrite(b->data, 1, b->len, f) != b->len) || fclose(f) != 0) {
		int e = errno ? errno : EIO;
		snprintf(err, errlen, om_msg(lang, "assess.err.write"), path, strerror(e));
		return -e;
	}
	return 0;
}

int om_assess_doc_write(const om_doc *d, enum om_assess_format f, const char *path,
                        enum om_lang lang, char *err, size_t errlen)
{
	if (f == OM_AF_PDF)
		return om_doc_pdf(d, path, err, errlen);
	om_buf b;
	om_buf_init(&b, 64u << 20);
	int rc = om_doc_html(d, &b, err, errlen);
	if (rc == 0 && f == OM_AF_HTML) {
		rc = write_buf(&b, path, lang, err, errlen);
	} else if (rc == 0 && f == OM_AF_DOCX) {
		/* pandoc converts the HTML; the temporary file sits beside the output */
		char tmp[4096];
		if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.html", path) >= sizeof(tmp)) {
			rc = -ENAMETOOLONG;
			snprintf(err, errlen, om_msg(lang, "assess.err.write"), path,
			         strerror(-rc));
		} else if ((rc = write_buf(&b, tmp, lang, err, errlen)) == 0) {
			char *argv[] = {"pandoc", "-f",         "html", "-t", "docx",
			                "-o",     (char *)path, tmp,    NULL};
			pid_t pid;
			int st = 0;
			int e = posix_spawnp(&pid, "pandoc", NULL, NULL, argv, environ);
			if (e == 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
			    WEXITSTATUS(st) == 0) {
				rc = 0;
			} else {
				rc = -EIO;
				snprintf(err, errlen, om_msg(lang, "assess.err.pandoc"), path);
			}
			unlink(tmp);
		}
	} else if (rc == 0) {
		rc = -EINVAL;
	}
	om_buf_free(&b);
	return rc;
}
