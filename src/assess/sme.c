/* sme.c: SME eligibility by the SME Basic Act's table (industry, capital,
 * employees; data/assess/sme.yaml) and enrolment: eligible applicants
 * first come, first served up to the programme's capacity. */
#include "assess/assess.h"
#include "assess/internal.h"
#include "assess/tables.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int om_assess_sme_check(const char *industry, uint64_t capital_yen, uint64_t employees,
                        om_assess_sme *ret)
{
	for (unsigned i = 0; i < om_at_nindustries; i++) {
		const struct om_at_industry *t = &om_at_industries[i];
		if (strcmp(t->industry, industry))
			continue;
		om_assess_sme r = {0};
		r.by_capital = capital_yen <= t->capital_max;
		r.by_employees = employees <= t->employees_max;
		r.sme = r.by_capital || r.by_employees;
		r.small = employees <= t->small_employees_max;
		*ret = r;
		return 0;
	}
	return -EINVAL;
}

struct applicant {
	char company[128], industry[16], applied_at[32];
	uint64_t capital, employees;
	size_t order;
	bool sme;
};

struct enrol {
	struct applicant *a;
	size_t n;
	bool header;
	int col[5];
	char *err;
	size_t errlen;
	const char *name;
	enum om_lang lang;
};

static const char *const enrol_cols[5] = {"company", "industry", "capital", "employees",
                                          "applied_at"};

static int enrol_fail(struct enrol *e, size_t line, const char *field, const char *key)
{
	snprintf(e->err, e->errlen, om_msg(e->lang, "assess.err.at"), e->name, (unsigned long)line,
	         field, om_msg(e->lang, key));
	return -EINVAL;
}

static int enrol_row(void *user, size_t line, unsigned nf, char **f)
{
	struct enrol *e = user;
	if (!e->header) {
		for (int c = 0; c < 5; c++) {
			e->col[c] = -1;
			for (unsigned k = 0; k < nf; k++)
				if (!strcmp(f[k], enrol_cols[c]))
					e->col[c] = (int)k;
			if (e->col[c] < 0)
				return enrol_fail(e, line, enrol_cols[c], "assess.err.csv_column");
		}
		e->header = true;
		return 0;
	}
	if (e->n >= OM_ASSESS_MAX_ROWS)
		return enrol_fail(e, line, "-", "assess.err.too_many_rows");
	struct applicant *a = &e->a[e->n];
	memset(a, 0, sizeof(*a));
	for (int c = 0; c < 5; c++)
		if ((unsigned)e->col[c] >= nf)
			return enrol_fail(e, line, enrol_cols[c], "assess.err.csv_missing");
	const char *co = f[e->col[0]], *in = f[e->col[1]], *at = f[e->col[4]];
	if (!co[0] || strlen(co) >= sizeof(a->company))
		return enrol_fail(e, line, "company", "assess.err.too_long");
	if (strlen(in) >= sizeof(a->industry))
		return enrol_fail(e, line, "industry", "assess.err.industry");
	if (strlen(at) < 10 || strlen(at) >= sizeof(a->applied_at))
		return enrol_fail(e, line, "applied_at", "assess.err.date");
	char day[11];
	memcpy(day, at, 10);
	day[10] = 0;
	if (!om_assess_date_ok(day))
		return enrol_fail(e, line, "applied_at", "assess.err.date");
	if (om_parse_u64(f[e->col[2]], 0, UINT64_C(100000000000000), &a->capital) < 0)
		return enrol_fail(e, line, "capital", "assess.err.want_number");
	if (om_parse_u64(f[e->col[3]], 0, 10000000, &a->employees) < 0)
		return enrol_fail(e, line, "employees", "assess.err.want_number");
	om_assess_sme s;
	if (om_assess_sme_check(in, a->capital, a->employees, &s) < 0)
		return enrol_fail(e, line, "industry", "assess.err.industry");
	memcpy(a->company, co, strlen(co) + 1);
	memcpy(a->industry, in, strlen(in) + 1);
	memcpy(a->applied_at, at, strlen(at) + 1);
	a->sme = s.sme;
	a->order = e->n;
	e->n++;
	return 0;
}

/* Earlier application first; the file's order breaks ties. */
static int by_time(const void *x, const void *y)
{
	const struct applicant *a = x, *b = y;
	int c = strcmp(a->applied_at, b->applied_at);
	if (c)
		return c;
	return a->order < b->order ? -1 : a->order > b->order;
}

int om_assess_enrol(const char *csv, size_t len, const char *name, unsigned capacity,
                    enum om_lang lang, om_buf *out, char *err, size_t errlen)
{
	struct enrol e = {0};
	if (errlen)
		err[0] = 0;
	e.a = calloc(OM_ASSESS_MAX_ROWS, sizeof(*e.a));
	if (!e.a)
		return -ENOMEM;
	e.err = err;
	e.errlen = errlen;
	e.name = name;
	e.lang = lang;
	size_t line = 0;
	int rc = om_assess_csv_parse(csv, len, enrol_row, &e, &line);
	if (rc < 0 && rc != -EINVAL) {
		snprintf(err, errlen, om_msg(lang, "assess.err.csv"), name, (unsigned long)line);
	} else if (rc == -EINVAL && !err[0]) {
		snprintf(err, errlen, om_msg(lang, "assess.err.csv"), name, (unsigned long)line);
	}
	if (rc == 0 && !e.header) {
		snprintf(err, errlen, om_msg(lang, "assess.err.csv_empty"), name);
		rc = -EINVAL;
	}
	if (rc < 0)
		goto out;
	qsort(e.a, e.n, sizeof(*e.a), by_time);
	om_buf_puts(out, "position,company,industry,capital,employees,applied_at,sme,status\n");
	unsigned accepted = 0, waiting = 0;
	for (size_t i = 0; i < e.n; i++) {
		const struct applicant *a = &e.a[i];
		const char *status;
		char pos[24] = "";
		if (!a->sme) {
			status = "refused";
		} else if (accepted < capacity) {
			status = "accepted";
			snprintf(pos, sizeof(pos), "%u", ++accepted);
		} else {
			status = "waitlisted";
			snprintf(pos, sizeof(pos), "w%u", ++waiting);
		}
		char num[24];
		om_assess_csv_field(out, pos, false);
		om_assess_csv_field(out, a->company, false);
		om_assess_csv_field(out, a->industry, false);
		snprintf(num, sizeof(num), "%llu", (unsigned long long)a->capital);
		om_assess_csv_field(out, num, false);
		snprintf(num, sizeof(num), "%llu", (unsigned long long)a->employees);
		om_assess_csv_field(out, num, false);
		om_assess_csv_field(out, a->applied_at, false);
		om_assess_csv_field(out, a->sme ? "yes" : "no", false);
		om_assess_csv_field(out, status, true);
	}
out:
	free(e.a);
	return rc;
}
