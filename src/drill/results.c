/* drill: results of a round. Per recipient, the first time each thing was
 * done by a person (scanner events are counted apart and never make a
 * person count), then groups by organisation, department and role, with
 * groups below the minimum size merged so that nobody is singled out, and
 * the time-to-open and time-to-report distributions. Written as JSON, CSV,
 * XLSX (libxlsxwriter) or PDF (the document model of src/report). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xlsxwriter.h>

#include "drill/drill.h"
#include "report/report.h"

/* ---- merging small groups ---- */

static void cell_add(om_drill_cell *into, const om_drill_cell *c)
{
	into->n += c->n;
	for (unsigned k = 0; k < OM_DRILL_EV__COUNT; k++) {
		into->did[k] += c->did[k];
		into->scan[k] += c->scan[k];
	}
}

size_t om_drill_merge_small(om_drill_cell *c, size_t n, unsigned min, const char *other)
{
	om_drill_cell o = {0};
	snprintf(o.label, sizeof(o.label), "%s", other);
	o.merged = true;
	size_t w = 0, nsmall = 0;
	for (size_t i = 0; i < n; i++) {
		if (c[i].n < min) {
			cell_add(&o, &c[i]);
			nsmall++;
		} else {
			c[w++] = c[i];
		}
	}
	if (nsmall == 0)
		return n;
	/* still too small: the smallest of the others join it */
	while (o.n < min && w > 0) {
		size_t s = 0;
		for (size_t i = 1; i < w; i++)
			if (c[i].n < c[s].n)
				s = i;
		cell_add(&o, &c[s]);
		c[s] = c[--w];
	}
	c[w++] = o;
	return w;
}

/* ---- loading a round ---- */

struct person {
	const char *token, *mail, *name, *organisation, *department, *role;
	int state;
	int64_t sent_at;
	int64_t first[OM_DRILL_EV__COUNT];
	unsigned scan[OM_DRILL_EV__COUNT];
};

#define BUCKETS 6
static const int64_t bucket_max[BUCKETS] = {5 * 60, 30 * 60, 2 * 3600, 8 * 3600, 24 * 3600, 0};

struct om_drill_results {
	om_store_drill_round round;
	struct person *p;
	size_t n, cap;
	om_buf str;
	unsigned min_group;
	unsigned sent, bounced, failed, pending;
	unsigned did[OM_DRILL_EV__COUNT], scan[OM_DRILL_EV__COUNT];
	unsigned t_open[BUCKETS], t_report[BUCKETS];
	/* events of the token being gathered */
	om_drill_ev *ev;
	size_t nev, evcap;
	char cur[OM_DRILL_TOKEN_LEN + 1];
	const om_drill_scan_cfg *cfg;
};

static const char *keep(om_buf *b, const char *s)
{
	size_t off = b->len;
	om_buf_append(b, s, strlen(s) + 1);
	return (const char *)(uintptr_t)(off + 1);
}

static int load_person(void *user, const om_store_drill_recipient *r)
{
	om_drill_results *R = user;
	if (R->n == R->cap) {
		size_t nc = R->cap ? R->cap * 2 : 256;
		if (nc > OM_DRILL_MAX_ROWS)
			return -E2BIG;
		struct person *p = realloc(R->p, nc * sizeof(*p));
		if (!p)
			return -ENOMEM;
		R->p = p, R->cap = nc;
	}
	struct person *p = &R->p[R->n++];
	memset(p, 0, sizeof(*p));
	p->token = keep(&R->str, r->token);
	p->mail = keep(&R->str, r->mail);
	p->name = keep(&R->str, r->name);
	p->organisation = keep(&R->str, r->organisation);
	p->department = keep(&R->str, r->department);
	p->role = keep(&R->str, r->role);
	p->state = r->state;
	p->sent_at = r->sent_at;
	return R->str.toobig ? -E2BIG : 0;
}

static int by_token(const void *a, const void *b)
{
	return strcmp(((const struct person *)a)->token, ((const struct person *)b)->token);
}

static struct person *find(om_drill_results *R, const char *token)
{
	struct person key = {.token = token};
	return bsearch(&key, R->p, R->n, sizeof(*R->p), by_token);
}

/* The gathered events of one token: timing rules, then firsts. */
static void settle(om_drill_results *R)
{
	if (!R->cur[0])
		return;
	struct person *p = find(R, R->cur);
	if (p) {
		om_drill_scan_timing(R->cfg, p->sent_at, R->ev, R->nev);
		for (size_t i = 0; i < R->nev; i++) {
			om_drill_ev *e = &R->ev[i];
			if (e->flags) {
				p->scan[e->kind]++;
				continue;
			}
			if (!p->first[e->kind])
				p->first[e->kind] = e->at;
		}
	}
	R->nev = 0;
	R->cur[0] = 0;
}

static int load_event(void *user, const om_store_drill_event *e)
{
	om_drill_results *R = user;
	enum om_drill_kind k;
	if (om_drill_kind_parse(e->kind, &k) < 0)
		return 0;
	if (strcmp(R->cur, e->token)) {
		settle(R);
		snprintf(R->cur, sizeof(R->cur), "%s", e->token);
	}
	if (R->nev == R->evcap) {
		size_t nc = R->evcap ? R->evcap * 2 : 64;
		if (nc > 100000)
			return 0; /* a token with this many events: the rest are not looked at */
		om_drill_ev *p = realloc(R->ev, nc * sizeof(*p));
		if (!p)
			return -ENOMEM;
		R->ev = p, R->evcap = nc;
	}
	R->ev[R->nev++] = (om_drill_ev){
	    .kind = k, .at = e->at, .flags = e->flags, .web = strcmp(e->source, "imap") != 0};
	return 0;
}

static int bucket_of(int64_t secs)
{
	for (int i = 0; i < BUCKETS - 1; i++)
		if (secs < bucket_max[i])
			return i;
	return BUCKETS - 1;
}

/* A person opened the mail when the image loaded or when they did anything
 * that needs the mail open (link, attachment, form). */
static int64_t opened_at(const struct person *p)
{
	int64_t t = 0;
	for (int k = OM_DRILL_EV_OPEN; k <= OM_DRILL_EV_SUBMIT; k++)
		if (p->first[k] && (!t || p->first[k] < t))
			t = p->first[k];
	return t;
}

static bool person_did(const struct person *p, int k)
{
	return k == OM_DRILL_EV_OPEN ? opened_at(p) != 0 : p->first[k] != 0;
}

om_drill_results *om_drill_results_free(om_drill_results *R)
{
	if (R) {
		free(R->p);
		free(R->ev);
		om_buf_free(&R->str);
		free(R);
	}
	return NULL;
}

int om_drill_results_load(om_store *s, const char *round, const om_drill_scan_cfg *cfg,
                          unsigned min_group, om_drill_results **ret)
{
	om_drill_results *R = calloc(1, sizeof(*R));
	if (!R)
		return -ENOMEM;
	om_buf_init(&R->str, 256u << 20);
	R->cfg = cfg;
	R->min_group = min_group ? min_group : OM_DRILL_MIN_GROUP;
	int r = om_store_drill_round_get(s, round, &R->round);
	if (r < 0)
		goto fail;
	r = om_store_drill_recipients(s, round, 0, 0, load_person, R);
	if (r < 0)
		goto fail;
	for (size_t i = 0; i < R->n; i++) {
		struct person *p = &R->p[i];
		p->token = R->str.data + ((uintptr_t)p->token - 1);
		p->mail = R->str.data + ((uintptr_t)p->mail - 1);
		p->name = R->str.data + ((uintptr_t)p->name - 1);
		p->organisation = R->str.data + ((uintptr_t)p->organisation - 1);
		p->department = R->str.data + ((uintptr_t)p->department - 1);
		p->role = R->str.data + ((uintptr_t)p->role - 1);
	}
	qsort(R->p, R->n, sizeof(*R->p), by_token);
	r = om_store_drill_events(s, round, load_event, R);
	if (r < 0)
		goto fail;
	settle(R);
	for (size_t i = 0; i < R->n; i++) {
		struct person *p = &R->p[i];
		switch (p->state) {
		case OM_DRILL_SENT: R->sent++; break;
		case OM_DRILL_BOUNCED: R->bounced++; continue;
		case OM_DRILL_FAILED: R->failed++; continue;
		default: R->pending++; continue;
		}
		for (int k = 0; k < OM_DRILL_EV__COUNT; k++) {
			R->did[k] += person_did(p, k);
			R->scan[k] += p->scan[k];
		}
		int64_t o = opened_at(p);
		if (o && o >= p->sent_at)
			R->t_open[bucket_of((o - p->sent_at) / 1000000)]++;
		int64_t rp = p->first[OM_DRILL_EV_REPORT];
		if (rp && rp >= p->sent_at)
			R->t_report[bucket_of((rp - p->sent_at) / 1000000)]++;
	}
	*ret = R;
	return 0;
fail:
	om_drill_results_free(R);
	return r;
}

const om_store_drill_round *om_drill_results_round(const om_drill_results *R)
{
	return &R->round;
}

/* The groups of one dimension, merged. ret_cells is malloc'ed. */
static int by_label(const void *a, const void *b)
{
	return strcmp(((const om_drill_cell *)a)->label, ((const om_drill_cell *)b)->label);
}

static int groups(const om_drill_results *R, enum om_drill_by by, enum om_lang lang,
                  om_drill_cell **ret_cells, size_t *ret_n)
{
	om_drill_cell *c = calloc(R->n ? R->n : 1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	size_t n = 0;
	bool orgs = false;
	for (size_t i = 1; i < R->n; i++)
		if (strcmp(R->p[i].organisation, R->p[0].organisation))
			orgs = true;
	for (size_t i = 0; i < R->n; i++) {
		const struct person *p = &R->p[i];
		if (p->state != OM_DRILL_SENT)
			continue;
		char label[192];
		const char *none = om_msg(lang, "drill.res.unknown");
		const char *d = *p->department ? p->department : none;
		const char *ro = *p->role ? p->role : none;
		const char *o = *p->organisation ? p->organisation : none;
		if (by == OM_DRILL_BY_ORG)
			snprintf(label, sizeof(label), "%s", o);
		else if (by == OM_DRILL_BY_DEPT)
			orgs ? snprintf(label, sizeof(label), "%s / %s", o, d)
			     : snprintf(label, sizeof(label), "%s", d);
		else
			snprintf(label, sizeof(label), "%s", ro);
		/* one cell a person, sorted and folded below: O(n log n) */
		om_drill_cell *q = &c[n++];
		snprintf(q->label, sizeof(q->label), "%s", label);
		q->n = 1;
		for (int k = 0; k < OM_DRILL_EV__COUNT; k++) {
			q->did[k] = person_did(p, k);
			q->scan[k] = p->scan[k];
		}
	}
	qsort(c, n, sizeof(*c), by_label);
	size_t w = 0;
	for (size_t i = 0; i < n; i++) {
		if (w && !strcmp(c[w - 1].label, c[i].label))
			cell_add(&c[w - 1], &c[i]);
		else
			c[w++] = c[i];
	}
	n = w;
	n = om_drill_merge_small(c, n, R->min_group, om_msg(lang, "drill.res.merged"));
	*ret_cells = c;
	*ret_n = n;
	return 0;
}

int om_drill_results_groups(const om_drill_results *R, enum om_drill_by by, enum om_lang lang,
                            om_drill_cell **ret_cells, size_t *ret_n)
{
	return groups(R, by, lang, ret_cells, ret_n);
}

void om_drill_results_totals(const om_drill_results *R, om_drill_cell *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->n = R->sent;
	memcpy(ret->did, R->did, sizeof(R->did));
	memcpy(ret->scan, R->scan, sizeof(R->scan));
}

/* ---- writers ---- */

static const char *const metric_key[OM_DRILL_EV__COUNT] = {
    "drill.res.opened", "drill.res.clicked", "drill.res.attached", "drill.res.submitted",
    "drill.res.reported"};
static const char *const metric_json[OM_DRILL_EV__COUNT] = {"opened", "clicked", "attachment",
                                                            "submitted", "reported"};
static const char *const bucket_key[BUCKETS] = {"drill.res.b5m",  "drill.res.b30m",
                                                "drill.res.b2h",  "drill.res.b8h",
                                                "drill.res.b24h", "drill.res.bmore"};
static const char *const bucket_json[BUCKETS] = {"lt_5m", "lt_30m", "lt_2h",
                                                 "lt_8h", "lt_24h", "ge_24h"};
static const char *const by_json[3] = {"by_organisation", "by_department", "by_role"};
static const char *const by_key[3] = {"drill.res.by_org", "drill.res.by_dept", "drill.res.by_role"};

static double pct(unsigned a, unsigned n)
{
	return n ? 100.0 * a / n : 0.0;
}

static void json_cell(om_json *j, const om_drill_cell *c, const char *label)
{
	om_json_obj_open(j, NULL);
	if (label)
		om_json_str(j, "label", label);
	om_json_u64(j, "recipients", c->n);
	for (int k = 0; k < OM_DRILL_EV__COUNT; k++)
		om_json_u64(j, metric_json[k], c->did[k]);
	om_json_obj_open(j, "scanner");
	for (int k = 0; k < OM_DRILL_EV__COUNT; k++)
		om_json_u64(j, metric_json[k], c->scan[k]);
	om_json_obj_close(j);
	if (label)
		om_json_bool(j, "merged", c->merged);
	om_json_obj_close(j);
}

static int json_round(om_json *j, const om_drill_results *R, const om_drill_report_opts *o)
{
	om_json_str(j, "round", R->round.id);
	om_json_str(j, "tenant", R->round.tenant);
	om_json_str(j, "template", R->round.template_name);
	om_json_u64(j, "sent", R->sent);
	om_json_u64(j, "bounced", R->bounced);
	om_json_u64(j, "failed", R->failed);
	om_json_u64(j, "pending", R->pending);
	om_json_u64(j, "min_group", R->min_group);
	om_drill_cell t;
	om_drill_results_totals(R, &t);
	om_json_obj_open(j, "totals");
	om_json_u64(j, "recipients", t.n);
	for (int k = 0; k < OM_DRILL_EV__COUNT; k++)
		om_json_u64(j, metric_json[k], t.did[k]);
	om_json_obj_open(j, "scanner");
	for (int k = 0; k < OM_DRILL_EV__COUNT; k++)
		om_json_u64(j, metric_json[k], t.scan[k]);
	om_json_obj_close(j);
	om_json_obj_close(j);
	for (int by = 0; by < 3; by++) {
		om_drill_cell *c;
		size_t n;
		int r = groups(R, (enum om_drill_by)by, o->lang, &c, &n);
		if (r < 0)
			return r;
		om_json_arr_open(j, by_json[by]);
		for (size_t i = 0; i < n; i++)
			json_cell(j, &c[i], c[i].label);
		om_json_arr_close(j);
		free(c);
	}
	const unsigned *dist[2] = {R->t_open, R->t_report};
	const char *dn[2] = {"time_to_open", "time_to_report"};
	for (int d = 0; d < 2; d++) {
		om_json_obj_open(j, dn[d]);
		for (int b = 0; b < BUCKETS; b++)
			om_json_u64(j, bucket_json[b], dist[d][b]);
		om_json_obj_close(j);
	}
	if (o->names) {
		om_json_arr_open(j, "people");
		for (size_t i = 0; i < R->n; i++) {
			const struct person *p = &R->p[i];
			om_json_obj_open(j, NULL);
			om_json_str(j, "mail", p->mail);
			om_json_str(j, "name", p->name);
			om_json_str(j, "organisation", p->organisation);
			om_json_str(j, "department", p->department);
			om_json_str(j, "role", p->role);
			static const char *const st[] = {"queued", "retry", "sent", "bounced",
			                                 "failed"};
			om_json_str(j, "state", p->state >= 0 && p->state < 5 ? st[p->state] : "?");
			for (int k = 0; k < OM_DRILL_EV__COUNT; k++)
				om_json_bool(j, metric_json[k], person_did(p, k));
			om_json_obj_close(j);
		}
		om_json_arr_close(j);
	}
	return 0;
}

static int write_json(const om_drill_results *R, const om_drill_results *C,
                      const om_drill_report_opts *o, om_buf *out)
{
	om_json j;
	om_json_init(&j, out);
	om_json_obj_open(&j, NULL);
	int r = json_round(&j, R, o);
	if (!r && C) {
		om_json_obj_open(&j, "compare");
		r = json_round(&j, C, o);
		om_json_obj_close(&j);
	}
	om_json_obj_close(&j);
	om_buf_putc(out, '\n');
	return r < 0 ? r : out->toobig ? -E2BIG : 0;
}

static void csv_field(om_buf *b, const char *s)
{
	bool q = strpbrk(s, ",\"\r\n") != NULL || *s == '=' || *s == '+' || *s == '-' || *s == '@';
	if (!q) {
		om_buf_puts(b, s);
		return;
	}
	om_buf_putc(b, '"');
	/* a leading formula character is neutralised for spreadsheets */
	if (*s == '=' || *s == '+' || *s == '-' || *s == '@')
		om_buf_putc(b, '\'');
	for (; *s; s++) {
		if (*s == '"')
			om_buf_putc(b, '"');
		om_buf_putc(b, *s);
	}
	om_buf_putc(b, '"');
}

static void csv_cell(om_buf *b, const char *round, const char *group, const om_drill_cell *c)
{
	csv_field(b, round);
	om_buf_putc(b, ',');
	csv_field(b, group);
	om_buf_putc(b, ',');
	csv_field(b, c->label);
	om_buf_printf(b, ",%u", c->n);
	for (int k = 0; k < OM_DRILL_EV__COUNT; k++)
		om_buf_printf(b, ",%u,%.1f", c->did[k], pct(c->did[k], c->n));
	for (int k = 0; k < OM_DRILL_EV__COUNT; k++)
		om_buf_printf(b, ",%u", c->scan[k]);
	om_buf_printf(b, ",%d\r\n", c->merged ? 1 : 0);
}

static int csv_round(const om_drill_results *R, const om_drill_report_opts *o, om_buf *b)
{
	om_drill_cell t;
	om_drill_results_totals(R, &t);
	snprintf(t.label, sizeof(t.label), "%s", om_msg(o->lang, "drill.res.total"));
	csv_cell(b, R->round.id, "total", &t);
	static const char *const gname[3] = {"organisation", "department", "role"};
	for (int by = 0; by < 3; by++) {
		om_drill_cell *c;
		size_t n;
		int r = groups(R, (enum om_drill_by)by, o->lang, &c, &n);
		if (r < 0)
			return r;
		for (size_t i = 0; i < n; i++)
			csv_cell(b, R->round.id, gname[by], &c[i]);
		free(c);
	}
	if (o->names)
		for (size_t i = 0; i < R->n; i++) {
			const struct person *p = &R->p[i];
			if (p->state != OM_DRILL_SENT)
				continue;
			om_drill_cell c = {.n = 1};
			snprintf(c.label, sizeof(c.label), "%s <%s> (%s / %s)", p->name, p->mail,
			         p->department, p->role);
			for (int k = 0; k < OM_DRILL_EV__COUNT; k++)
				c.did[k] = person_did(p, k), c.scan[k] = p->scan[k];
			csv_cell(b, R->round.id, "person", &c);
		}
	return 0;
}

static int write_csv(const om_drill_results *R, const om_drill_results *C,
                     const om_drill_report_opts *o, om_buf *b)
{
	om_buf_puts(b, "round,group,label,recipients");
	for (int k = 0; k < OM_DRILL_EV__COUNT; k++)
		om_buf_printf(b, ",%s,%s_pct", metric_json[k], metric_json[k]);
	for (int k = 0; k < OM_DRILL_EV__COUNT; k++)
		om_buf_printf(b, ",scanner_%s", metric_json[k]);
	om_buf_puts(b, ",merged\r\n");
	int r = csv_round(R, o, b);
	if (!r && C)
		r = csv_round(C, o, b);
	return r < 0 ? r : b->toobig ? -E2BIG : 0;
}

static int xlsx_sheet(lxw_workbook *wb, lxw_format *bold, const char *name,
                      const om_drill_results *R, const om_drill_results *C,
                      const om_drill_report_opts *o, int by)
{
	lxw_worksheet *ws = workbook_add_worksheet(wb, name);
	if (!ws)
		return -ENOMEM;
	lxw_col_t col = 0;
	worksheet_write_string(ws, 0, col++, om_msg(o->lang, "drill.res.round"), bold);
	worksheet_write_string(ws, 0, col++, om_msg(o->lang, "drill.res.group"), bold);
	worksheet_write_string(ws, 0, col++, om_msg(o->lang, "drill.res.recipients"), bold);
	for (int k = 0; k < OM_DRILL_EV__COUNT; k++) {
		worksheet_write_string(ws, 0, col++, om_msg(o->lang, metric_key[k]), bold);
		worksheet_write_string(ws, 0, col++, "%", bold);
	}
	for (int k = 0; k < OM_DRILL_EV__COUNT; k++) {
		char h[160];
		snprintf(h, sizeof(h), "%s (%s)", om_msg(o->lang, "drill.res.scanner"),
		         om_msg(o->lang, metric_key[k]));
		worksheet_write_string(ws, 0, col++, h, bold);
	}
	lxw_row_t row = 1;
	const om_drill_results *rs[2] = {R, C};
	for (int q = 0; q < 2 && rs[q]; q++) {
		om_drill_cell *c;
		size_t n;
		om_drill_cell t;
		if (by < 0) {
			om_drill_results_totals(rs[q], &t);
			snprintf(t.label, sizeof(t.label), "%s",
			         om_msg(o->lang, "drill.res.total"));
			c = &t, n = 1;
		} else {
			int r = groups(rs[q], (enum om_drill_by)by, o->lang, &c, &n);
			if (r < 0)
				return r;
		}
		for (size_t i = 0; i < n; i++, row++) {
			col = 0;
			worksheet_write_string(ws, row, col++, rs[q]->round.id, NULL);
			worksheet_write_string(ws, row, col++, c[i].label, NULL);
			worksheet_write_number(ws, row, col++, c[i].n, NULL);
			for (int k = 0; k < OM_DRILL_EV__COUNT; k++) {
				worksheet_write_number(ws, row, col++, c[i].did[k], NULL);
				worksheet_write_number(ws, row, col++, pct(c[i].did[k], c[i].n),
				                       NULL);
			}
			for (int k = 0; k < OM_DRILL_EV__COUNT; k++)
				worksheet_write_number(ws, row, col++, c[i].scan[k], NULL);
		}
		if (by >= 0)
			free(c);
	}
	return 0;
}

static int write_xlsx(const om_drill_results *R, const om_drill_results *C,
                      const om_drill_report_opts *o, const char *path, char *err, size_t errlen)
{
	lxw_workbook *wb = workbook_new(path);
	if (!wb) {
		snprintf(err, errlen, "%s", path);
		return -EIO;
	}
	lxw_format *bold = workbook_add_format(wb);
	format_set_bold(bold);
	int r = xlsx_sheet(wb, bold, "summary", R, C, o, -1);
	static const char *const sn[3] = {"organisations", "departments", "roles"};
	for (int by = 0; !r && by < 3; by++)
		r = xlsx_sheet(wb, bold, sn[by], R, C, o, by);
	if (!r && o->names) {
		lxw_worksheet *ws = workbook_add_worksheet(wb, "people");
		static const char *const hk[] = {"drill.res.name", "drill.res.mail",
		                                 "drill.res.org", "drill.res.dept",
		                                 "drill.res.role"};
		for (lxw_col_t c = 0; c < 5; c++)
			worksheet_write_string(ws, 0, c, om_msg(o->lang, hk[c]), bold);
		for (int k = 0; k < OM_DRILL_EV__COUNT; k++)
			worksheet_write_string(ws, 0, (lxw_col_t)(5 + k),
			                       om_msg(o->lang, metric_key[k]), bold);
		lxw_row_t row = 1;
		for (size_t i = 0; i < R->n; i++) {
			const struct person *p = &R->p[i];
			if (p->state != OM_DRILL_SENT)
				continue;
			const char *v[5] = {p->name, p->mail, p->organisation, p->department,
			                    p->role};
			for (lxw_col_t c = 0; c < 5; c++)
				worksheet_write_string(ws, row, c, v[c], NULL);
			for (int k = 0; k < OM_DRILL_EV__COUNT; k++)
				worksheet_write_number(ws, row, (lxw_col_t)(5 + k),
				                       person_did(p, k), NULL);
			row++;
		}
	}
	lxw_error e = workbook_close(wb);
	if (!r && e != LXW_NO_ERROR) {
		snprintf(err, errlen, "%s: %s", path, lxw_strerror(e));
		r = -EIO;
	}
	return r;
}

/* ---- the document (PDF) ---- */

static void fmt_pct(char *b, size_t n, unsigned a, unsigned of)
{
	snprintf(b, n, "%u (%.1f%%)", a, pct(a, of));
}

static int doc_groups(om_doc *d, const om_drill_results *R, const om_drill_report_opts *o, int by)
{
	om_drill_cell *c;
	size_t n;
	int r = groups(R, (enum om_drill_by)by, o->lang, &c, &n);
	if (r < 0)
		return r;
	om_doc_heading(d, 2, om_msg(o->lang, by_key[by]));
	unsigned cols = 2 + OM_DRILL_EV__COUNT;
	char(*txt)[96] = calloc((n + 1) * cols, sizeof(*txt));
	const char **cells = calloc((n + 1) * cols, sizeof(*cells));
	const char **labels = calloc(n ? n : 1, sizeof(*labels));
	double *val = calloc(n ? n : 1, sizeof(*val));
	if (!txt || !cells || !labels || !val) {
		r = -ENOMEM;
		goto out;
	}
	cells[0] = om_msg(o->lang, "drill.res.group");
	cells[1] = om_msg(o->lang, "drill.res.recipients");
	for (int k = 0; k < OM_DRILL_EV__COUNT; k++)
		cells[2 + k] = om_msg(o->lang, metric_key[k]);
	for (size_t i = 0; i < n; i++) {
		const char **row = cells + (i + 1) * cols;
		char(*t)[96] = txt + (i + 1) * cols;
		row[0] = c[i].label;
		snprintf(t[1], sizeof(t[1]), "%u", c[i].n);
		row[1] = t[1];
		for (int k = 0; k < OM_DRILL_EV__COUNT; k++) {
			fmt_pct(t[2 + k], sizeof(t[0]), c[i].did[k], c[i].n);
			row[2 + k] = t[2 + k];
		}
	}
	om_doc_table(d, (unsigned)n + 1, cols, cells, NULL);
	static const int chart_k[2] = {OM_DRILL_EV_CLICK, OM_DRILL_EV_REPORT};
	for (int q = 0; q < 2; q++) {
		for (size_t i = 0; i < n; i++) {
			labels[i] = c[i].label;
			val[i] = pct(c[i].did[chart_k[q]], c[i].n);
		}
		char title[256];
		snprintf(title, sizeof(title), "%s: %s", om_msg(o->lang, by_key[by]),
		         om_msg(o->lang, metric_key[chart_k[q]]));
		om_doc_bars(d, title, (unsigned)n, labels, val, "%");
	}
out:
	free(txt);
	free(cells);
	free(labels);
	free(val);
	free(c);
	return r;
}

static void doc_dist(om_doc *d, const om_drill_report_opts *o, const char *key, const unsigned *v)
{
	const char *labels[BUCKETS];
	double val[BUCKETS];
	for (int b = 0; b < BUCKETS; b++) {
		labels[b] = om_msg(o->lang, bucket_key[b]);
		val[b] = v[b];
	}
	om_doc_bars(d, om_msg(o->lang, key), BUCKETS, labels, val,
	            om_msg(o->lang, "drill.res.people"));
}

static int doc_round(om_doc *d, const om_drill_results *R, const om_drill_report_opts *o)
{
	char line[1024];
	snprintf(line, sizeof(line), om_msg(o->lang, "drill.res.summary"), R->round.id,
	         R->round.template_name, R->sent, R->bounced + R->failed, R->pending);
	om_doc_para(d, OM_DOC_PLAIN, line);
	om_drill_cell t;
	om_drill_results_totals(R, &t);
	const char *cells[2 * (OM_DRILL_EV__COUNT + 1)];
	char txt[OM_DRILL_EV__COUNT][96], sc[OM_DRILL_EV__COUNT][32];
	cells[0] = om_msg(o->lang, "drill.res.metric");
	cells[1] = om_msg(o->lang, "drill.res.people");
	const char *rows[(OM_DRILL_EV__COUNT + 1) * 3];
	rows[0] = cells[0], rows[1] = cells[1], rows[2] = om_msg(o->lang, "drill.res.scanner");
	for (int k = 0; k < OM_DRILL_EV__COUNT; k++) {
		fmt_pct(txt[k], sizeof(txt[k]), t.did[k], t.n);
		snprintf(sc[k], sizeof(sc[k]), "%u", t.scan[k]);
		rows[(k + 1) * 3] = om_msg(o->lang, metric_key[k]);
		rows[(k + 1) * 3 + 1] = txt[k];
		rows[(k + 1) * 3 + 2] = sc[k];
	}
	enum om_doc_mark marks[(OM_DRILL_EV__COUNT + 1) * 3] = {0};
	marks[(OM_DRILL_EV_CLICK + 1) * 3 + 1] =
	    t.did[OM_DRILL_EV_CLICK] ? OM_DOC_WARN : OM_DOC_GOOD;
	marks[(OM_DRILL_EV_SUBMIT + 1) * 3 + 1] =
	    t.did[OM_DRILL_EV_SUBMIT] ? OM_DOC_BAD : OM_DOC_GOOD;
	om_doc_table(d, OM_DRILL_EV__COUNT + 1, 3, rows, marks);
	om_doc_para(d, OM_DOC_PLAIN, om_msg(o->lang, "drill.res.scanner_note"));
	doc_dist(d, o, "drill.res.t_open", R->t_open);
	doc_dist(d, o, "drill.res.t_report", R->t_report);
	for (int by = 0; by < 3; by++) {
		int r = doc_groups(d, R, o, by);
		if (r < 0)
			return r;
	}
	return 0;
}

static int write_pdf(const om_drill_results *R, const om_drill_results *C,
                     const om_drill_report_opts *o, const char *path, char *err, size_t errlen)
{
	om_doc *d = om_doc_new(om_msg(o->lang, "drill.res.title"), o->lang);
	if (!d)
		return -ENOMEM;
	/* the document's title is its first heading */
	char line[512];
	snprintf(line, sizeof(line), om_msg(o->lang, "drill.res.min_note"), R->min_group);
	om_doc_para(d, OM_DOC_PLAIN, line);
	int r = doc_round(d, R, o);
	if (!r && C) {
		om_doc_pagebreak(d);
		om_doc_heading(d, 1, om_msg(o->lang, "drill.res.compare"));
		om_drill_cell a, b;
		om_drill_results_totals(R, &a);
		om_drill_results_totals(C, &b);
		const char *rows[(OM_DRILL_EV__COUNT + 1) * 4];
		char txt[OM_DRILL_EV__COUNT][3][64];
		rows[0] = om_msg(o->lang, "drill.res.metric");
		rows[1] = R->round.id;
		rows[2] = C->round.id;
		rows[3] = om_msg(o->lang, "drill.res.change");
		for (int k = 0; k < OM_DRILL_EV__COUNT; k++) {
			double pa = pct(a.did[k], a.n), pb = pct(b.did[k], b.n);
			snprintf(txt[k][0], 64, "%.1f%%", pa);
			snprintf(txt[k][1], 64, "%.1f%%", pb);
			snprintf(txt[k][2], 64, "%+.1f", pb - pa);
			rows[(k + 1) * 4] = om_msg(o->lang, metric_key[k]);
			rows[(k + 1) * 4 + 1] = txt[k][0];
			rows[(k + 1) * 4 + 2] = txt[k][1];
			rows[(k + 1) * 4 + 3] = txt[k][2];
		}
		om_doc_table(d, OM_DRILL_EV__COUNT + 1, 4, rows, NULL);
		om_doc_heading(d, 1, C->round.id);
		r = doc_round(d, C, o);
	}
	if (!r && o->names) {
		om_doc_pagebreak(d);
		om_doc_heading(d, 1, om_msg(o->lang, "drill.res.people_title"));
		for (size_t i = 0; i < R->n; i++) {
			const struct person *p = &R->p[i];
			if (p->state != OM_DRILL_SENT)
				continue;
			char b[1024];
			int w = snprintf(b, sizeof(b), "%s (%s / %s):", p->name, p->department,
			                 p->role);
			for (int k = 0; k < OM_DRILL_EV__COUNT && w > 0 && (size_t)w < sizeof(b);
			     k++)
				if (person_did(p, k))
					w += snprintf(b + w, sizeof(b) - (size_t)w, " %s",
					              om_msg(o->lang, metric_key[k]));
			om_doc_bullet(d, OM_DOC_PLAIN, b);
		}
	}
	if (!r) {
		om_doc_heading(d, 1, om_msg(o->lang, "drill.res.advice_title"));
		for (int i = 1; i <= 5; i++) {
			char key[48];
			snprintf(key, sizeof(key), "drill.res.advice%d", i);
			om_doc_bullet(d, OM_DOC_PLAIN, om_msg(o->lang, key));
		}
		r = om_doc_pdf(d, path, err, errlen);
	}
	om_doc_free(d);
	return r;
}

int om_drill_report_write(const om_drill_results *R, const om_drill_results *C,
                          const om_drill_report_opts *o, om_buf *out, char *err, size_t errlen)
{
	switch (o->format) {
	case OM_DRILL_FMT_JSON: return write_json(R, C, o, out);
	case OM_DRILL_FMT_CSV: return write_csv(R, C, o, out);
	case OM_DRILL_FMT_XLSX: return write_xlsx(R, C, o, o->path, err, errlen);
	case OM_DRILL_FMT_PDF: return write_pdf(R, C, o, o->path, err, errlen);
	}
	return -EINVAL;
}
