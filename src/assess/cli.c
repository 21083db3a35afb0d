/* cli.c: `omamori assess`: selfcheck, radar, policy, risk, threats,
 * workshop, breach, eligible, enrol. Exit status 0 ok, 1 failure, 2 usage.
 * Every message comes from the catalogues (assess.* keys). */
#include "assess/assess.h"
#include "assess/internal.h"
#include "store/store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EXIT_USAGE 2
#define MAX_SETS 16

struct opts {
	enum om_lang lang;
	const char *answers, *before, *out, *format, *in, *db, *tenant, *month;
	const char *industry, *capital, *employees, *capacity, *applicants;
	const char *records, *economic, *emotional, *ident, *social, *response;
	const char *days, *daily_profit;
	const char *set[MAX_SETS];
	unsigned nset;
	bool no_ask, help;
	const char *pos[4];
	unsigned npos;
};

static void say(enum om_lang lang, const char *key, ...)
{
	va_list ap;
	char line[2048];
	va_start(ap, key);
	vsnprintf(line, sizeof(line), om_msg(lang, key), ap);
	va_end(ap);
	fprintf(stderr, "omamori: %s\n", line);
}

static const struct optdef {
	const char *name;
	size_t off;
} optdefs[] = {
#define O(n, f)                                                                                    \
	{                                                                                          \
		n, offsetof(struct opts, f)                                                        \
	}
    O("--answers", answers),
    O("--before", before),
    O("-o", out),
    O("--output", out),
    O("--format", format),
    O("--in", in),
    O("--db", db),
    O("--tenant", tenant),
    O("--month", month),
    O("--industry", industry),
    O("--capital", capital),
    O("--employees", employees),
    O("--capacity", capacity),
    O("--applicants", applicants),
    O("--records", records),
    O("--economic", economic),
    O("--emotional", emotional),
    O("--identifiability", ident),
    O("--social-responsibility", social),
    O("--response", response),
    O("--days", days),
    O("--daily-profit", daily_profit),
#undef O
};

static int parse_opts(int argc, char **argv, int first, struct opts *o)
{
	for (int i = first; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			o->help = true;
			continue;
		}
		if (!strcmp(a, "--no-ask")) {
			o->no_ask = true;
			continue;
		}
		const char *val = NULL;
		size_t nl = strcspn(a, "=");
		bool is_set = !strncmp(a, "--set", nl) && nl == 5;
		const struct optdef *d = NULL;
		for (size_t k = 0; !is_set && k < OM_ARRAY_SIZE(optdefs); k++)
			if (strlen(optdefs[k].name) == nl && !strncmp(a, optdefs[k].name, nl))
				d = &optdefs[k];
		if (a[0] == '-' && !d && !is_set) {
			say(o->lang, "assess.err.usage_option", a);
			return -EINVAL;
		}
		if (a[0] != '-') {
			if (o->npos >= OM_ARRAY_SIZE(o->pos)) {
				say(o->lang, "assess.err.usage_extra", a);
				return -EINVAL;
			}
			o->pos[o->npos++] = a;
			continue;
		}
		if (a[nl] == '=')
			val = a + nl + 1;
		else if (i + 1 < argc)
			val = argv[++i];
		if (!val) {
			say(o->lang, "assess.err.usage_value", a);
			return -EINVAL;
		}
		if (is_set) {
			if (o->nset >= MAX_SETS) {
				say(o->lang, "assess.err.usage_extra", a);
				return -EINVAL;
			}
			o->set[o->nset++] = val;
		} else {
			*(const char **)((char *)o + d->off) = val;
		}
	}
	return 0;
}

static int bad_value(const struct opts *o, const char *opt, const char *v, const char *hint)
{
	say(o->lang, "assess.err.usage_bad_value", opt, v ? v : "", om_msg(o->lang, hint));
	return EXIT_USAGE;
}

static int get_format(const struct opts *o, const char *allowed, enum om_assess_format def,
                      enum om_assess_format *ret)
{
	if (!o->format) {
		*ret = def;
		return 0;
	}
	enum om_assess_format f;
	/* allowed: "|text|json|" etc. */
	char pat[24];
	snprintf(pat, sizeof(pat), "|%s|", o->format);
	if (om_assess_format_parse(o->format, &f) < 0 || !strstr(allowed, pat)) {
		say(o->lang, "assess.err.usage_format", o->format, allowed);
		return -EINVAL;
	}
	*ret = f;
	return 0;
}

int om_assess_format_parse(const char *s, enum om_assess_format *ret)
{
	static const char *const names[] = {"text", "json", "csv",  "html",
	                                    "pdf",  "svg",  "xlsx", "docx"};
	for (unsigned i = 0; i < OM_ARRAY_SIZE(names); i++)
		if (!strcmp(s, names[i])) {
			*ret = (enum om_assess_format)i;
			return 0;
		}
	return -EINVAL;
}

/* Writes b to o->out (or stdout). */
static int emit(const struct opts *o, om_buf *b)
{
	if (b->toobig) {
		say(o->lang, "assess.err.too_big");
		return EXIT_FAILURE;
	}
	FILE *f = o->out ? fopen(o->out, "wb") : stdout;
	if (!f) {
		say(o->lang, "assess.err.write", o->out, strerror(errno));
		return EXIT_FAILURE;
	}
	bool ok = !b->len || fwrite(b->data, 1, b->len, f) == b->len;
	if (o->out)
		ok = (fclose(f) == 0) && ok;
	else
		ok = fflush(f) == 0 && ok;
	if (!ok) {
		say(o->lang, "assess.err.write", o->out ? o->out : "-", strerror(errno));
		return EXIT_FAILURE;
	}
	return 0;
}

static int emit_doc(const struct opts *o, om_doc *d, enum om_assess_format f)
{
	char err[1024] = "";
	if (!d) {
		say(o->lang, "assess.err.nomem");
		return EXIT_FAILURE;
	}
	int rc = 0;
	if (f == OM_AF_HTML && !o->out) {
		om_buf b;
		om_buf_init(&b, 64u << 20);
		if (om_doc_html(d, &b, err, sizeof(err)) < 0) {
			fprintf(stderr, "omamori: %s\n", err);
			rc = EXIT_FAILURE;
		} else {
			rc = emit(o, &b);
		}
		om_buf_free(&b);
	} else if (!o->out) {
		say(o->lang, "assess.err.need_output", o->format ? o->format : "");
		rc = EXIT_USAGE;
	} else if (om_assess_doc_write(d, f, o->out, o->lang, err, sizeof(err)) < 0) {
		fprintf(stderr, "omamori: %s\n", err);
		rc = EXIT_FAILURE;
	}
	om_doc_free(d);
	return rc;
}

/* Loads the answers (when given) and asks for what is missing. */
static int get_sheet(const struct opts *o, const char *path, om_assess_sheet *s, bool ask,
                     FILE *prompt)
{
	char err[1024] = "";
	om_assess_sheet_init(s);
	if (path && om_assess_sheet_load(s, path, o->lang, err, sizeof(err)) < 0) {
		fprintf(stderr, "omamori: %s\n", err);
		return EXIT_FAILURE;
	}
	if (!ask)
		return 0;
	for (unsigned d = 0; d < s->ndepts; d++) {
		bool missing = false;
		for (unsigned q = 0; q < OM_ASSESS_QUESTIONS; q++)
			missing |= s->dept[d].answer[q] == OM_ANS_MISSING;
		if (!missing)
			continue;
		if (s->ndepts > 1)
			fprintf(prompt, "\n[%s]\n", s->dept[d].name);
		if (om_assess_ask(s, d, stdin, prompt, o->lang) < 0) {
			say(o->lang, "assess.err.ask_eof");
			return EXIT_FAILURE;
		}
	}
	return 0;
}

static int gateway_evidence(const struct opts *o, om_assess_result *r)
{
	if (!o->db)
		return 0;
	if (!o->tenant || !o->month) {
		say(o->lang, "assess.err.usage_gateway");
		return EXIT_USAGE;
	}
	om_store *st;
	char err[1024] = "";
	/* opening a store creates a missing file: a mistyped path must not */
	if (access(o->db, R_OK) != 0) {
		say(o->lang, "assess.err.open", o->db, strerror(errno));
		return EXIT_FAILURE;
	}
	if (om_store_open(o->db, &st, err, sizeof(err)) < 0) {
		say(o->lang, "assess.err.db", o->db, err);
		return EXIT_FAILURE;
	}
	om_assess_gateway g = {0};
	int m1 = om_store_monitored(st, o->tenant, o->month, "c2");
	int m2 = om_store_monitored(st, o->tenant, o->month, "web_malware");
	int rc = 0;
	if (m1 < 0 || m2 < 0 || om_store_month_total(st, o->tenant, o->month, "c2", &g.c2) < 0 ||
	    om_store_month_total(st, o->tenant, o->month, "web_malware", &g.web_malware) < 0) {
		say(o->lang, "assess.err.db", o->db, om_msg(o->lang, "assess.err.db_query"));
		rc = EXIT_FAILURE;
	} else {
		g.monitored = m1 > 0 || m2 > 0;
		om_assess_apply_gateway(r, &g);
	}
	om_store_close(st);
	return rc;
}

static int cmd_selfcheck(struct opts *o)
{
	enum om_assess_format f;
	if (get_format(o, "|text|json|html|pdf|", OM_AF_TEXT, &f) < 0)
		return EXIT_USAGE;
	om_assess_sheet *s = malloc(sizeof(*s)), *b = NULL;
	om_assess_result r, rb;
	int rc = EXIT_FAILURE;
	if (!s)
		goto out;
	FILE *prompt = (f == OM_AF_TEXT || o->out) ? stdout : stderr;
	if ((rc = get_sheet(o, o->answers, s, !o->no_ask, prompt)) != 0)
		goto out;
	om_assess_score(s, &r);
	if ((rc = gateway_evidence(o, &r)) != 0)
		goto out;
	if (o->before) {
		if (!(b = malloc(sizeof(*b)))) {
			rc = EXIT_FAILURE;
			goto out;
		}
		if ((rc = get_sheet(o, o->before, b, false, prompt)) != 0)
			goto out;
		om_assess_score(b, &rb);
	}
	om_buf out;
	om_buf_init(&out, 16u << 20);
	if (f == OM_AF_TEXT) {
		om_assess_selfcheck_text(s, &r, o->lang, &out);
		rc = emit(o, &out);
	} else if (f == OM_AF_JSON) {
		om_assess_selfcheck_json(&r, o->lang, &out);
		rc = emit(o, &out);
	} else {
		rc = emit_doc(
		    o, om_assess_doc_selfcheck(s, &r, b ? &rb : NULL, b ? b->date : NULL, o->lang),
		    f);
	}
	om_buf_free(&out);
out:
	free(s);
	free(b);
	return rc;
}

static int cmd_radar(struct opts *o)
{
	enum om_assess_format f;
	if (get_format(o, "|svg|html|pdf|", OM_AF_SVG, &f) < 0)
		return EXIT_USAGE;
	if (!o->answers) {
		say(o->lang, "assess.err.usage_need", "--answers");
		return EXIT_USAGE;
	}
	om_assess_sheet *s = calloc(2, sizeof(*s));
	if (!s)
		return EXIT_FAILURE;
	om_assess_result r, rb;
	int rc = get_sheet(o, o->answers, &s[0], false, stderr);
	if (rc == 0 && o->before)
		rc = get_sheet(o, o->before, &s[1], false, stderr);
	if (rc == 0) {
		om_assess_score(&s[0], &r);
		if (o->before)
			om_assess_score(&s[1], &rb);
		rc = gateway_evidence(o, &r);
	}
	if (rc == 0 && f == OM_AF_SVG) {
		om_buf out;
		om_buf_init(&out, 4u << 20);
		if (om_assess_radar_svg(&r, o->before ? &rb : NULL, s[0].date, s[1].date, o->lang,
		                        &out) < 0) {
			say(o->lang, "assess.err.nomem");
			rc = EXIT_FAILURE;
		} else {
			rc = emit(o, &out);
		}
		om_buf_free(&out);
	} else if (rc == 0) {
		rc = emit_doc(
		    o, om_assess_doc_radar(&s[0], &r, o->before ? &rb : NULL, s[1].date, o->lang),
		    f);
	}
	free(s);
	return rc;
}

static int cmd_policy(struct opts *o)
{
	enum om_assess_format f;
	if (get_format(o, "|html|pdf|docx|", OM_AF_HTML, &f) < 0)
		return EXIT_USAGE;
	om_assess_sheet *s = malloc(sizeof(*s));
	if (!s)
		return EXIT_FAILURE;
	int rc = get_sheet(o, o->answers, s, !o->no_ask, o->out ? stdout : stderr);
	if (rc == 0)
		rc = emit_doc(o, om_assess_doc_policy(s, o->lang), f);
	free(s);
	return rc;
}

static int cmd_risk(struct opts *o)
{
	enum om_assess_format f;
	if (get_format(o, "|csv|xlsx|html|pdf|", OM_AF_CSV, &f) < 0)
		return EXIT_USAGE;
	if (!o->in) {
		say(o->lang, "assess.err.usage_need", "--in");
		return EXIT_USAGE;
	}
	om_assess_risk *r = malloc(sizeof(*r));
	if (!r)
		return EXIT_FAILURE;
	char err[1024] = "";
	int rc = 0;
	size_t nl = strlen(o->in);
	if (nl > 5 && !strcasecmp(o->in + nl - 5, ".xlsx")) {
		if (om_assess_risk_xlsx_read(r, o->in, o->lang, err, sizeof(err)) < 0)
			rc = EXIT_FAILURE;
	} else {
		om_buf b;
		if (om_assess_read_file(o->in, &b, o->lang, err, sizeof(err)) < 0) {
			rc = EXIT_FAILURE;
		} else {
			if (om_assess_risk_csv(r, o->in, b.data ? b.data : "", b.len, o->lang, err,
			                       sizeof(err)) < 0)
				rc = EXIT_FAILURE;
			om_buf_free(&b);
		}
	}
	if (rc) {
		fprintf(stderr, "omamori: %s\n", err);
		goto out;
	}
	if (f == OM_AF_CSV) {
		om_buf out;
		om_buf_init(&out, 16u << 20);
		om_assess_risk_write_csv(r, &out);
		rc = emit(o, &out);
		om_buf_free(&out);
	} else if (f == OM_AF_XLSX) {
		if (!o->out) {
			say(o->lang, "assess.err.need_output", "xlsx");
			rc = EXIT_USAGE;
		} else if (om_assess_risk_write_xlsx(r, o->out, o->lang, err, sizeof(err)) < 0) {
			fprintf(stderr, "omamori: %s\n", err);
			rc = EXIT_FAILURE;
		}
	} else {
		rc = emit_doc(o, om_assess_doc_risk(r, NULL, o->lang), f);
	}
out:
	free(r);
	return rc;
}

static int cmd_threats(struct opts *o)
{
	enum om_assess_format f;
	if (get_format(o, "|text|json|html|pdf|", OM_AF_TEXT, &f) < 0)
		return EXIT_USAGE;
	om_buf out;
	om_buf_init(&out, 4u << 20);
	int rc;
	if (f == OM_AF_TEXT) {
		om_assess_threats_text(o->lang, &out);
		rc = emit(o, &out);
	} else if (f == OM_AF_JSON) {
		om_assess_threats_json(o->lang, &out);
		rc = emit(o, &out);
	} else {
		rc = emit_doc(o, om_assess_doc_threats(NULL, o->lang), f);
	}
	om_buf_free(&out);
	return rc;
}

static int cmd_workshop(struct opts *o)
{
	enum om_assess_format f;
	if (get_format(o, "|csv|html|pdf|", OM_AF_CSV, &f) < 0)
		return EXIT_USAGE;
	om_assess_workshop *w = malloc(sizeof(*w));
	if (!w)
		return EXIT_FAILURE;
	om_assess_workshop_init(w);
	int rc = 0;
	char err[1024] = "";
	if (o->answers) {
		om_buf b;
		if (om_assess_read_file(o->answers, &b, o->lang, err, sizeof(err)) < 0) {
			fprintf(stderr, "omamori: %s\n", err);
			rc = EXIT_FAILURE;
			goto out;
		}
		int pr = om_assess_workshop_parse(w, o->answers, b.data ? b.data : "", b.len,
		                                  o->lang, err, sizeof(err));
		om_buf_free(&b);
		if (pr < 0) {
			fprintf(stderr, "omamori: %s\n", err);
			rc = EXIT_FAILURE;
			goto out;
		}
	}
	if (!o->no_ask && om_assess_workshop_ask(w, stdin, o->out ? stdout : stderr, o->lang) < 0) {
		say(o->lang, "assess.err.ask_eof");
		rc = EXIT_FAILURE;
		goto out;
	}
	if (f == OM_AF_CSV) {
		om_buf out;
		om_buf_init(&out, 4u << 20);
		om_assess_workshop_csv(w, o->lang, &out);
		rc = emit(o, &out);
		om_buf_free(&out);
	} else {
		rc = emit_doc(o, om_assess_doc_threats(w, o->lang), f);
	}
out:
	free(w);
	return rc;
}

static int level_opt(const struct opts *o, const char *name, const char *v, unsigned *ret)
{
	uint64_t x;
	if (!v)
		return say(o->lang, "assess.err.usage_need", name), -EINVAL;
	if (om_parse_u64(v, 1, 3, &x) < 0)
		return bad_value(o, name, v, "assess.hint.level"), -EINVAL;
	*ret = (unsigned)x;
	return 0;
}

static int cmd_leak(struct opts *o, enum om_assess_format f)
{
	om_assess_leak in = {0};
	uint64_t n;
	if (!o->records)
		return say(o->lang, "assess.err.usage_need", "--records"), EXIT_USAGE;
	if (om_parse_u64(o->records, 0, UINT64_C(10000000000), &n) < 0)
		return bad_value(o, "--records", o->records, "assess.hint.records");
	in.records = n;
	if (level_opt(o, "--economic", o->economic, &in.economic) < 0 ||
	    level_opt(o, "--emotional", o->emotional, &in.emotional) < 0)
		return EXIT_USAGE;
	const char *id = o->ident ? o->ident : "";
	if (!strcmp(id, "easy"))
		in.ident = OM_IDENT_EASY;
	else if (!strcmp(id, "medium"))
		in.ident = OM_IDENT_MEDIUM;
	else if (!strcmp(id, "hard"))
		in.ident = OM_IDENT_HARD;
	else
		return bad_value(o, "--identifiability", id, "assess.hint.ident");
	const char *so = o->social ? o->social : "normal";
	if (strcmp(so, "high") && strcmp(so, "normal"))
		return bad_value(o, "--social-responsibility", so, "assess.hint.social");
	in.social_high = !strcmp(so, "high");
	const char *re = o->response ? o->response : "good";
	if (strcmp(re, "good") && strcmp(re, "poor"))
		return bad_value(o, "--response", re, "assess.hint.response");
	in.response_poor = !strcmp(re, "poor");
	om_assess_leak_result r;
	if (om_assess_leak_calc(&in, &r) < 0) {
		say(o->lang, "assess.err.overflow");
		return EXIT_FAILURE;
	}
	om_buf out;
	om_buf_init(&out, 1u << 16);
	if (f == OM_AF_JSON) {
		om_assess_leak_json(&in, &r, &out);
	} else {
		char a[32], b[32];
		om_buf_printf(&out, om_msg(o->lang, "assess.out.leak"),
		              om_assess_yen(r.per_person_yen, a, sizeof(a)),
		              om_assess_yen(r.total_yen, b, sizeof(b)),
		              (unsigned long long)in.records);
		om_buf_printf(&out, "\n  500 x (10^%u + 5^%u = %llu) x %llu x %llu x %llu\n%s\n",
		              in.emotional - 1, in.economic - 1, (unsigned long long)r.sensitivity,
		              (unsigned long long)r.identifiability, (unsigned long long)r.social,
		              (unsigned long long)r.response,
		              om_msg(o->lang, "assess.out.leak_note"));
	}
	int rc = emit(o, &out);
	om_buf_free(&out);
	return rc;
}

static int cmd_breach(struct opts *o)
{
	enum om_assess_format f;
	if (get_format(o, "|text|json|", OM_AF_TEXT, &f) < 0)
		return EXIT_USAGE;
	if (o->npos < 1) {
		say(o->lang, "assess.err.usage_need", "leak|ransomware|defacement|dos");
		return EXIT_USAGE;
	}
	if (!strcmp(o->pos[0], "leak"))
		return cmd_leak(o, f);
	om_assess_scenario sc;
	if (om_assess_scenario_get(o->pos[0], &sc) < 0)
		return bad_value(o, "breach", o->pos[0], "assess.hint.scenario");
	char as[64];
	const struct {
		const char *opt, *key, *v;
	} nums[] = {{"--days", "days", o->days},
	            {"--daily-profit", "daily_profit", o->daily_profit},
	            {"--records", "records", o->records}};
	for (unsigned i = 0; i < OM_ARRAY_SIZE(nums); i++) {
		if (!nums[i].v)
			continue;
		snprintf(as, sizeof(as), "%s=%s", nums[i].key, nums[i].v);
		if (om_assess_scenario_set(&sc, as) < 0)
			return bad_value(o, nums[i].opt, nums[i].v, "assess.hint.records");
	}
	for (unsigned i = 0; i < o->nset; i++)
		if (om_assess_scenario_set(&sc, o->set[i]) < 0)
			return bad_value(o, "--set", o->set[i], "assess.hint.set");
	if (om_assess_scenario_calc(&sc) < 0) {
		say(o->lang, "assess.err.overflow");
		return EXIT_FAILURE;
	}
	om_buf out;
	om_buf_init(&out, 1u << 16);
	if (f == OM_AF_JSON)
		om_assess_scenario_json(&sc, &out);
	else
		om_assess_scenario_text(&sc, o->lang, &out);
	int rc = emit(o, &out);
	om_buf_free(&out);
	return rc;
}

static int cmd_eligible(struct opts *o)
{
	enum om_assess_format f;
	if (get_format(o, "|text|json|", OM_AF_TEXT, &f) < 0)
		return EXIT_USAGE;
	uint64_t cap, emp;
	if (!o->industry || !o->capital || !o->employees) {
		say(o->lang, "assess.err.usage_need", "--industry --capital --employees");
		return EXIT_USAGE;
	}
	if (om_parse_u64(o->capital, 0, UINT64_C(100000000000000), &cap) < 0)
		return bad_value(o, "--capital", o->capital, "assess.hint.records");
	if (om_parse_u64(o->employees, 0, 10000000, &emp) < 0)
		return bad_value(o, "--employees", o->employees, "assess.hint.records");
	om_assess_sme r;
	if (om_assess_sme_check(o->industry, cap, emp, &r) < 0)
		return bad_value(o, "--industry", o->industry, "assess.hint.industry");
	om_buf out;
	om_buf_init(&out, 1u << 16);
	if (f == OM_AF_JSON) {
		om_json j;
		om_json_init(&j, &out);
		om_json_obj_open(&j, NULL);
		om_json_str(&j, "industry", o->industry);
		om_json_u64(&j, "capital_yen", cap);
		om_json_u64(&j, "employees", emp);
		om_json_bool(&j, "sme", r.sme);
		om_json_bool(&j, "small", r.small);
		om_json_bool(&j, "by_capital", r.by_capital);
		om_json_bool(&j, "by_employees", r.by_employees);
		om_json_obj_close(&j);
		om_buf_putc(&out, '\n');
	} else {
		om_buf_printf(
		    &out, "%s\n",
		    om_msg(o->lang, r.sme ? (r.small ? "assess.sme.small" : "assess.sme.yes")
		                          : "assess.sme.no"));
	}
	int rc = emit(o, &out);
	om_buf_free(&out);
	return rc;
}

static int cmd_enrol(struct opts *o)
{
	uint64_t cap;
	if (!o->applicants || !o->capacity) {
		say(o->lang, "assess.err.usage_need", "--applicants --capacity");
		return EXIT_USAGE;
	}
	if (om_parse_u64(o->capacity, 0, OM_ASSESS_MAX_ROWS, &cap) < 0)
		return bad_value(o, "--capacity", o->capacity, "assess.hint.records");
	om_buf b, out;
	char err[1024] = "";
	if (om_assess_read_file(o->applicants, &b, o->lang, err, sizeof(err)) < 0) {
		fprintf(stderr, "omamori: %s\n", err);
		return EXIT_FAILURE;
	}
	om_buf_init(&out, 16u << 20);
	int rc = 0;
	if (om_assess_enrol(b.data ? b.data : "", b.len, o->applicants, (unsigned)cap, o->lang,
	                    &out, err, sizeof(err)) < 0) {
		fprintf(stderr, "omamori: %s\n", err);
		rc = EXIT_FAILURE;
	} else {
		rc = emit(o, &out);
	}
	om_buf_free(&b);
	om_buf_free(&out);
	return rc;
}

static const struct sub {
	const char *name;
	int (*run)(struct opts *o);
} subs[] = {
    {"selfcheck", cmd_selfcheck}, {"radar", cmd_radar},       {"policy", cmd_policy},
    {"risk", cmd_risk},           {"threats", cmd_threats},   {"workshop", cmd_workshop},
    {"breach", cmd_breach},       {"eligible", cmd_eligible}, {"enrol", cmd_enrol},
};

int om_assess_main(int argc, char **argv, enum om_lang lang)
{
	om_i18n_init();
	struct opts o;
	memset(&o, 0, sizeof(o));
	o.lang = lang;
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "help")) {
		fputs(om_msg(lang, "help.assess"), stdout);
		return argc < 2 ? EXIT_USAGE : 0;
	}
	const struct sub *s = NULL;
	for (size_t i = 0; i < OM_ARRAY_SIZE(subs); i++)
		if (!strcmp(argv[1], subs[i].name))
			s = &subs[i];
	if (!s) {
		say(lang, "assess.err.usage_sub", argv[1]);
		return EXIT_USAGE;
	}
	if (parse_opts(argc, argv, 2, &o) < 0)
		return EXIT_USAGE;
	if (o.help) {
		fputs(om_msg(lang, "help.assess"), stdout);
		return 0;
	}
	if (o.npos > 0 && s->run != cmd_breach) {
		say(lang, "assess.err.usage_extra", o.pos[0]);
		return EXIT_USAGE;
	}
	return s->run(&o);
}
