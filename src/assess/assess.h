/* assess: the assessment kit. IPA's 25-question self-check with its
 * scoring, bands and advice; a six-area radar; a policy and rules
 * generator; a risk sheet (CSV/XLSX); IPA's ten major threats mapped to
 * ISO/IEC 27001:2022 Annex A controls with a workshop; breach cost
 * estimates (JNSA's leak model and incident scenarios); SME eligibility and
 * enrolment. Uses base, store and report only. The tables come from
 * the YAML files of data/assess (each figure with its source) and the texts from the
 * catalogues (assess.* keys). Design note and user guide: docs/assess.md.
 * Errors: 0 or a negative errno; ret_* written only on success; messages
 * for users in the language given. */
#ifndef OMAMORI_ASSESS_H
#define OMAMORI_ASSESS_H

#include "base/base.h"
#include "report/report.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* ---- the self-check ------------------------------------------------------ */
#define OM_ASSESS_QUESTIONS 25
#define OM_ASSESS_PARTS 3
#define OM_ASSESS_AREAS 6
#define OM_ASSESS_MAX_DEPTS 32
/* Answer files are read whole; bigger ones are refused. */
#define OM_ASSESS_MAX_FILE (1u << 20)

enum om_assess_answer {
	OM_ANS_MISSING = 0, /* not answered yet: the terminal asks */
	OM_ANS_YES,         /* done: 4 points */
	OM_ANS_PARTLY,      /* partly done: 2 */
	OM_ANS_NO,          /* not done: 0 */
	OM_ANS_UNKNOWN,     /* don't know: -1 */
};

typedef struct om_assess_dept {
	char name[64];
	uint8_t answer[OM_ASSESS_QUESTIONS]; /* enum om_assess_answer, question n at n - 1 */
} om_assess_dept;

/* One company's answer file. */
typedef struct om_assess_sheet {
	char company[128];
	char owner[128];    /* who signs the policy */
	char date[11];      /* YYYY-MM-DD, "" when not given */
	char industry[16];  /* manufacturing | wholesale | service | retail, or "" */
	uint64_t employees; /* 0: not given */
	bool policy_published;
	unsigned ndepts; /* >= 1 after a successful load */
	om_assess_dept dept[OM_ASSESS_MAX_DEPTS];
} om_assess_sheet;

void om_assess_sheet_init(om_assess_sheet *s);
/* Reads an answer file (YAML or JSON: JSON is read as YAML). Either a
 * mapping of question numbers to yes|partly|no|unknown (Japanese はい,
 * 一部, いいえ, わからない too), optionally with company, owner, date,
 * industry, employees, policy_published beside them or the numbers under
 * "answers:"; or "departments:" a list of {name, answers}. Unknown keys
 * are errors. On error returns -EINVAL (or -errno for I/O) and writes
 * "FILE:LINE: field 'F': what is wrong; what to do" into err; *s is then
 * unchanged. */
int om_assess_sheet_load(om_assess_sheet *s, const char *path, enum om_lang lang, char *err,
                         size_t errlen);
/* The same on a buffer (name is used in messages; the fuzzer's entry). */
int om_assess_sheet_parse(om_assess_sheet *s, const char *name, const char *data, size_t len,
                          enum om_lang lang, char *err, size_t errlen);
/* Parses one answer word; 0 or -EINVAL. */
int om_assess_answer_parse(const char *word, enum om_assess_answer *ret);
const char *om_assess_answer_name(enum om_assess_answer a); /* "yes", ... */
/* Points for an answer: 4, 2, 0, -1 (0 for missing). */
int om_assess_points(enum om_assess_answer a);
/* Asks in the terminal for every missing answer of department d: the
 * question, the choices, one line read from in per question (y, p, n, u,
 * or the words). EOF before the end returns -EIO and leaves the rest
 * missing. */
int om_assess_ask(om_assess_sheet *s, unsigned d, FILE *in, FILE *out, enum om_lang lang);

typedef struct om_assess_result {
	int score;     /* 0..100 (down to -25), departments' mean, rounded half up */
	unsigned band; /* 0 excellent (100), 1 good (70-99), 2 fair (50-69), 3 poor (<= 49) */
	int part_score[OM_ASSESS_PARTS];
	int part_max[OM_ASSESS_PARTS];
	/* per question: points summed over departments (divide by ndepts for
	 * the mean), and the weakest department's answer */
	int q_points_sum[OM_ASSESS_QUESTIONS];
	uint8_t q_answer[OM_ASSESS_QUESTIONS];
	unsigned ndepts;
	int dept_score[OM_ASSESS_MAX_DEPTS];
	double area[OM_ASSESS_AREAS]; /* 0..100, "don't know" counts 0 here */
	bool complete;                /* every question answered in every department */
	bool one_star, two_star;      /* SECURITY ACTION readiness */
} om_assess_result;

/* Scores a sheet. Missing answers count as "no" and complete is false. */
void om_assess_score(const om_assess_sheet *s, om_assess_result *ret);
const char *om_assess_band_name(unsigned band); /* excellent|good|fair|poor */
unsigned om_assess_band_of(int score);
const char *om_assess_area_name(unsigned area); /* network, endpoint, ... */
unsigned om_assess_question_part(unsigned n);   /* 1..3 */
unsigned om_assess_question_area(unsigned n);   /* 0..5 */

/* Gateway evidence for the radar's network area (from the store): when a
 * month was monitored, the area becomes the mean of the questionnaire's
 * figure and the gateway's (100 with no illicit traffic from inside and
 * no malware downloads, 50 with one of them, 0 with both). */
typedef struct om_assess_gateway {
	bool monitored;
	uint64_t c2, web_malware;
} om_assess_gateway;
void om_assess_apply_gateway(om_assess_result *r, const om_assess_gateway *g);

/* Output of the self-check: text (terminal), JSON (the form), HTML
 * or PDF (document with the radar). before may be NULL (an earlier sheet's
 * result for before/after). */
enum om_assess_format {
	OM_AF_TEXT,
	OM_AF_JSON,
	OM_AF_CSV,
	OM_AF_HTML,
	OM_AF_PDF,
	OM_AF_SVG,
	OM_AF_XLSX,
	OM_AF_DOCX
};
int om_assess_format_parse(const char *s, enum om_assess_format *ret);
void om_assess_selfcheck_text(const om_assess_sheet *s, const om_assess_result *r,
                              enum om_lang lang, om_buf *out);
void om_assess_selfcheck_json(const om_assess_result *r, enum om_lang lang, om_buf *out);

/* ---- breach cost --------------------------------------------------------- */
enum om_assess_ident { OM_IDENT_EASY, OM_IDENT_MEDIUM, OM_IDENT_HARD };
typedef struct om_assess_leak {
	uint64_t records;
	unsigned economic, emotional; /* 1..3 */
	enum om_assess_ident ident;
	bool social_high;
	bool response_poor;
} om_assess_leak;
typedef struct om_assess_leak_result {
	uint64_t sensitivity, identifiability, social, response, base;
	uint64_t per_person_yen, total_yen;
} om_assess_leak_result;
/* JNSA's model; -EINVAL for levels outside 1..3, -EOVERFLOW when the
 * total does not fit in 64 bits. */
int om_assess_leak_calc(const om_assess_leak *in, om_assess_leak_result *ret);
void om_assess_leak_json(const om_assess_leak *in, const om_assess_leak_result *r, om_buf *out);

#define OM_ASSESS_MAX_ITEMS 8
typedef struct om_assess_cost_item {
	char item[32];
	int kind;     /* 0 fixed, 1 per record, 2 per day */
	uint64_t yen; /* amount, or amount a record / a day */
	bool edited;  /* changed from the data file's assumption */
	uint64_t cost;
} om_assess_cost_item;
typedef struct om_assess_scenario {
	char name[16];
	uint64_t days, daily_profit, records;
	unsigned nitems;
	om_assess_cost_item item[OM_ASSESS_MAX_ITEMS];
	uint64_t total_yen;
} om_assess_scenario;
/* The data file's assumptions for ransomware|defacement|dos; -ENOENT. */
int om_assess_scenario_get(const char *name, om_assess_scenario *ret);
/* "ITEM=YEN" for an item, or days=N, daily_profit=N, records=N; -EINVAL. */
int om_assess_scenario_set(om_assess_scenario *sc, const char *assignment);
/* Recomputes the costs and the total; -EOVERFLOW. */
int om_assess_scenario_calc(om_assess_scenario *sc);
void om_assess_scenario_json(const om_assess_scenario *sc, om_buf *out);
void om_assess_scenario_text(const om_assess_scenario *sc, enum om_lang lang, om_buf *out);

/* ---- SME eligibility and enrolment ---------------------------------------- */
typedef struct om_assess_sme {
	bool sme;   /* within the SME Basic Act's limits */
	bool small; /* small enterprise (小規模企業者) */
	bool by_capital, by_employees;
} om_assess_sme;
/* industry: manufacturing|wholesale|service|retail; -EINVAL otherwise. */
int om_assess_sme_check(const char *industry, uint64_t capital_yen, uint64_t employees,
                        om_assess_sme *ret);

#define OM_ASSESS_MAX_ROWS 1000
/* Enrolment: applicants in a CSV (company,industry,capital,employees,
 * applied_at with applied_at an ISO date-time); eligible applicants are
 * accepted first come, first served up to capacity, the rest waitlisted;
 * others refused. Output CSV with status and position. */
int om_assess_enrol(const char *csv, size_t len, const char *name, unsigned capacity,
                    enum om_lang lang, om_buf *out, char *err, size_t errlen);

/* ---- risk sheet ------------------------------------------------------------- */
typedef struct om_assess_risk_row {
	char asset[128], owner[64];
	unsigned c, i, a;      /* 1..3 */
	unsigned threat, vuln; /* 1..3 */
	unsigned importance;   /* max(c, i, a) */
	unsigned likelihood;   /* from threat and vulnerability: max(1, t + v - 3) */
	unsigned risk;         /* importance x likelihood, 1..9 */
	char control[256], plan_owner[64], due[11];
} om_assess_risk_row;
typedef struct om_assess_risk {
	unsigned n;
	om_assess_risk_row row[OM_ASSESS_MAX_ROWS];
} om_assess_risk;
unsigned om_assess_likelihood(unsigned threat, unsigned vuln);
/* Reads a risk sheet from CSV (header row required, columns by name) or
 * from XLSX (the first worksheet, same columns). */
int om_assess_risk_csv(om_assess_risk *r, const char *name, const char *data, size_t len,
                       enum om_lang lang, char *err, size_t errlen);
int om_assess_risk_xlsx_read(om_assess_risk *r, const char *path, enum om_lang lang, char *err,
                             size_t errlen);
/* The same on an XLSX image in memory (the fuzzer's entry). */
int om_assess_risk_xlsx_parse(om_assess_risk *r, const char *name, const void *data, size_t len,
                              enum om_lang lang, char *err, size_t errlen);
void om_assess_risk_write_csv(const om_assess_risk *r, om_buf *out);
int om_assess_risk_write_xlsx(const om_assess_risk *r, const char *path, enum om_lang lang,
                              char *err, size_t errlen);

/* ---- threats to controls ---------------------------------------------------- */
void om_assess_threats_text(enum om_lang lang, om_buf *out);
void om_assess_threats_json(enum om_lang lang, om_buf *out);
unsigned om_assess_nthreats(void);
/* An Annex A control's title ("" for an id not in the table). */
const char *om_assess_control_title(const char *id, enum om_lang lang);

/* The workshop: per threat, in rank order. A YAML/JSON file maps threat
 * ids (ransomware, supply_chain, ...) to {impact, procedures: [ids],
 * barriers, solutions}; the terminal asks for the threats not in it. */
#define OM_ASSESS_MAX_THREATS 10
typedef struct om_assess_workshop_item {
	bool answered;
	unsigned chosen; /* bit p: the threat's procedure p chosen */
	char impact[512], barriers[512], solutions[512];
} om_assess_workshop_item;
typedef struct om_assess_workshop {
	char company[128];
	unsigned n;
	om_assess_workshop_item item[OM_ASSESS_MAX_THREATS];
} om_assess_workshop;
void om_assess_workshop_init(om_assess_workshop *w);
int om_assess_workshop_parse(om_assess_workshop *w, const char *name, const char *data, size_t len,
                             enum om_lang lang, char *err, size_t errlen);
int om_assess_workshop_ask(om_assess_workshop *w, FILE *in, FILE *out, enum om_lang lang);
void om_assess_workshop_csv(const om_assess_workshop *w, enum om_lang lang, om_buf *out);

/* ---- documents (om_doc of src/report) ------------------------------------------ */
/* The self-check report: score, band, parts, advice for every question not
 * done, the radar (before: an earlier result drawn dashed, or NULL). */
om_doc *om_assess_doc_selfcheck(const om_assess_sheet *s, const om_assess_result *r,
                                const om_assess_result *before, const char *before_date,
                                enum om_lang lang);
/* The radar alone, with each area's figure (and the earlier one). */
om_doc *om_assess_doc_radar(const om_assess_sheet *s, const om_assess_result *r,
                            const om_assess_result *before, const char *before_date,
                            enum om_lang lang);
/* The basic policy and the 11 chapters of rules, filled from the sheet's
 * answers; what the owner must decide is marked OM_DOC_DECIDE. */
om_doc *om_assess_doc_policy(const om_assess_sheet *s, enum om_lang lang);
om_doc *om_assess_doc_risk(const om_assess_risk *r, const char *company, enum om_lang lang);
/* The map, with the workshop's answers when w is not NULL. */
om_doc *om_assess_doc_threats(const om_assess_workshop *w, enum om_lang lang);
/* The radar alone as SVG. */
int om_assess_radar_svg(const om_assess_result *r, const om_assess_result *before, const char *date,
                        const char *before_date, enum om_lang lang, om_buf *out);
/* Writes d as HTML, PDF or DOCX (DOCX: the HTML converted by pandoc) to
 * path; 0 or a negative errno with err set. */
int om_assess_doc_write(const om_doc *d, enum om_assess_format f, const char *path,
                        enum om_lang lang, char *err, size_t errlen);

/* ---- the command line --------------------------------------------------------- */
/* argv[0] is "assess"; returns 0 ok, 1 failure, 2 usage error. */
int om_assess_main(int argc, char **argv, enum om_lang lang);

#endif
