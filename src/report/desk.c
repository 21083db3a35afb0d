/* report: the support desk's section of the monthly report. For every
 * ticket of the company open at some time in the month: what happened (the
 * call or the gateway's alert), what was done (the desk's judgement and
 * actions, the gateway's confirmations, visits, the state), and what to do
 * next (the desk's last answer while the ticket is open; nothing once it
 * is closed). Read from the desk's tables (store/desk.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/internal.h"

#define DESK_HISTORY_MAX 200

static bool staff(om_store *s, const char *actor)
{
	om_store_account a;
	return om_store_account_get(s, actor, &a) == 0 &&
	       (a.role == OM_ROLE_PROVIDER_ADMIN || a.role == OM_ROLE_PROVIDER_STAFF);
}

/* The trail lines that tell what was done. */
static bool done_line(const char *action)
{
	static const char *const keep[] = {"judgement", "action", "confirmed", "failed",
	                                   "visit",     "state",  "step"};
	for (size_t i = 0; i < OM_ARRAY_SIZE(keep); i++)
		if (!strcmp(action, keep[i]))
			return true;
	return false;
}

int report_desk_gather(om_store *s, const char *tenant, om_usec from, om_usec to, report_desk *ret)
{
	om_store_ticket *t;
	om_store_ticket_note_row *h;
	size_t n = 0;
	int r;

	memset(ret, 0, sizeof(*ret));
	t = calloc(REPORT_DESK_TICKETS, sizeof(*t));
	h = calloc(DESK_HISTORY_MAX, sizeof(*h));
	ret->item = calloc(REPORT_DESK_TICKETS, sizeof(*ret->item));
	if (!t || !h || !ret->item) {
		free(t);
		free(h);
		report_desk_free(ret);
		return -ENOMEM;
	}
	om_store_ticket_filter f = {.tenant = tenant, .from = from, .to = to};
	r = om_store_ticket_list(s, &f, t, REPORT_DESK_TICKETS, &n);
	if (r < 0)
		goto out;
	/* oldest first: the month's story in order */
	for (size_t i = 0; i < n; i++) {
		const om_store_ticket *x = &t[n - 1 - i];
		report_desk_item *it = &ret->item[ret->n++];
		size_t nh = 0;
		it->ticket = *x;
		if (om_store_ticket_history(s, x->id, h, DESK_HISTORY_MAX, &nh) < 0)
			continue;
		for (size_t k = 0; k < nh; k++) {
			if (done_line(h[k].action) && it->ndone < REPORT_DESK_DONE) {
				report_desk_done *d = &it->done[it->ndone++];
				d->ts = h[k].ts;
				snprintf(d->action, sizeof(d->action), "%s", h[k].action);
				snprintf(d->detail, sizeof(d->detail), "%.250s", h[k].detail);
			}
			if (!strcmp(h[k].action, "comment") && staff(s, h[k].actor))
				snprintf(it->advice, sizeof(it->advice), "%.1000s", h[k].detail);
		}
	}
out:
	free(t);
	free(h);
	if (r < 0)
		report_desk_free(ret);
	return r;
}

void report_desk_free(report_desk *d)
{
	if (d) {
		free(d->item);
		d->item = NULL;
		d->n = 0;
	}
}

static void when(const report_desk_view *v, om_usec t, char *out, size_t n)
{
	for (int d = 0; d < v->ndays; d++) {
		if (t >= v->bound[d] && t < v->bound[d + 1]) {
			uint64_t min = (t - v->bound[d]) / 60000000u;
			snprintf(out, n, "%s-%02d %02u:%02u", v->month, d + 1,
			         (unsigned)(min / 60 % 100), (unsigned)(min % 60));
			return;
		}
	}
	om_time_iso(t, out, n);
}

static const char *k2(const report_desk_view *v, const char *prefix, const char *name, char *buf,
                      size_t n)
{
	snprintf(buf, n, "%s%s", prefix, name);
	return om_msg(v->lang, buf);
}

/* The three parts of one ticket's story as lines of text. */
struct story {
	char head[512];
	char happened[1024];
	char next[1100];
};

static void story(const report_desk_view *v, const report_desk_item *it, struct story *st)
{
	const om_store_ticket *t = &it->ticket;
	char kb[96], sb[96], opened[40];

	when(v, t->opened, opened, sizeof(opened));
	snprintf(st->head, sizeof(st->head), "#%lld %s (%s, %s)", (long long)t->id, t->title,
	         k2(v, "desk.kind.", t->kind, kb, sizeof(kb)),
	         k2(v, "desk.state.", t->state, sb, sizeof(sb)));
	snprintf(st->happened, sizeof(st->happened), om_msg(v->lang, "report.desk.happened"),
	         opened, t->device[0] ? t->device : "-",
	         om_msg(v->lang, !strcmp(t->source, "auto") ? "report.desk.by_gateway"
	                                                    : "report.desk.by_company"));
	bool open = strcmp(t->state, "resolved") != 0 && strcmp(t->state, "closed") != 0;
	if (!open)
		snprintf(st->next, sizeof(st->next), "%s",
		         om_msg(v->lang, "report.desk.next_closed"));
	else if (it->advice[0])
		snprintf(st->next, sizeof(st->next), "%s", it->advice);
	else
		snprintf(st->next, sizeof(st->next), "%s",
		         om_msg(v->lang, "report.desk.next_open"));
}

static void done_text(const report_desk_view *v, const report_desk_done *d, char *out, size_t n)
{
	char ts[40], kb[96];
	when(v, d->ts, ts, sizeof(ts));
	snprintf(out, n, "%s %s: %s", ts, k2(v, "desk.trail.", d->action, kb, sizeof(kb)),
	         d->detail);
}

void report_desk_text(const report_desk *d, const report_desk_view *v, om_buf *b)
{
	om_buf_printf(b, "\n== %s ==\n", om_msg(v->lang, "report.desk.title"));
	if (!d->n) {
		om_buf_printf(b, "%s\n", om_msg(v->lang, "report.desk.none"));
		return;
	}
	for (size_t i = 0; i < d->n; i++) {
		struct story st = {0};
		story(v, &d->item[i], &st);
		om_buf_printf(b, "%s\n  %s: %s\n  %s:\n", st.head,
		              om_msg(v->lang, "report.desk.label.happened"), st.happened,
		              om_msg(v->lang, "report.desk.label.done"));
		if (!d->item[i].ndone)
			om_buf_printf(b, "    %s\n", om_msg(v->lang, "report.desk.nothing_done"));
		for (size_t k = 0; k < d->item[i].ndone; k++) {
			char line[512];
			done_text(v, &d->item[i].done[k], line, sizeof(line));
			om_buf_printf(b, "    - %s\n", line);
		}
		om_buf_printf(b, "  %s: %s\n", om_msg(v->lang, "report.desk.label.next"), st.next);
	}
}

void report_desk_html(const report_desk *d, const report_desk_view *v, om_buf *b)
{
	om_buf_puts(b, "<section id=\"support-desk\">\n<h2>");
	om_buf_put_html(b, om_msg(v->lang, "report.desk.title"));
	om_buf_puts(b, "</h2>\n");
	if (!d->n) {
		om_buf_puts(b, "<p>");
		om_buf_put_html(b, om_msg(v->lang, "report.desk.none"));
		om_buf_puts(b, "</p>\n</section>\n");
		return;
	}
	for (size_t i = 0; i < d->n; i++) {
		struct story st = {0};
		story(v, &d->item[i], &st);
		om_buf_puts(b, "<article class=\"ticket\"><h3>");
		om_buf_put_html(b, st.head);
		om_buf_puts(b, "</h3>\n<dl><dt>");
		om_buf_put_html(b, om_msg(v->lang, "report.desk.label.happened"));
		om_buf_puts(b, "</dt><dd>");
		om_buf_put_html(b, st.happened);
		om_buf_puts(b, "</dd><dt>");
		om_buf_put_html(b, om_msg(v->lang, "report.desk.label.done"));
		om_buf_puts(b, "</dt><dd><ul>");
		if (!d->item[i].ndone) {
			om_buf_puts(b, "<li>");
			om_buf_put_html(b, om_msg(v->lang, "report.desk.nothing_done"));
			om_buf_puts(b, "</li>");
		}
		for (size_t k = 0; k < d->item[i].ndone; k++) {
			char line[512];
			done_text(v, &d->item[i].done[k], line, sizeof(line));
			om_buf_puts(b, "<li>");
			om_buf_put_html(b, line);
			om_buf_puts(b, "</li>");
		}
		om_buf_puts(b, "</ul></dd><dt>");
		om_buf_put_html(b, om_msg(v->lang, "report.desk.label.next"));
		om_buf_puts(b, "</dt><dd>");
		om_buf_put_html(b, st.next);
		om_buf_puts(b, "</dd></dl></article>\n");
	}
	om_buf_puts(b, "</section>\n");
}

void report_desk_json(const report_desk *d, const report_desk_view *v, om_json *j)
{
	om_json_arr_open(j, "desk");
	for (size_t i = 0; i < d->n; i++) {
		const om_store_ticket *t = &d->item[i].ticket;
		struct story st = {0};
		story(v, &d->item[i], &st);
		om_json_obj_open(j, NULL);
		om_json_i64(j, "id", t->id);
		om_json_str(j, "kind", t->kind);
		om_json_str(j, "state", t->state);
		om_json_str(j, "title", t->title);
		om_json_str(j, "device", t->device);
		om_json_str(j, "judgement", t->judgement);
		om_json_str(j, "happened", st.happened);
		om_json_arr_open(j, "done");
		for (size_t k = 0; k < d->item[i].ndone; k++) {
			char line[512];
			done_text(v, &d->item[i].done[k], line, sizeof(line));
			om_json_str(j, NULL, line);
		}
		om_json_arr_close(j);
		om_json_str(j, "next", st.next);
		om_json_obj_close(j);
	}
	om_json_arr_close(j);
}

void report_desk_doc(const report_desk *d, const report_desk_view *v, om_doc *doc)
{
	om_doc_heading(doc, 2, om_msg(v->lang, "report.desk.title"));
	if (!d->n) {
		om_doc_para(doc, OM_DOC_PLAIN, om_msg(v->lang, "report.desk.none"));
		return;
	}
	for (size_t i = 0; i < d->n; i++) {
		struct story st = {0};
		char line[1200];
		story(v, &d->item[i], &st);
		om_doc_heading(doc, 3, st.head);
		snprintf(line, sizeof(line), "%s: %s",
		         om_msg(v->lang, "report.desk.label.happened"), st.happened);
		om_doc_para(doc, OM_DOC_PLAIN, line);
		for (size_t k = 0; k < d->item[i].ndone; k++) {
			done_text(v, &d->item[i].done[k], line, sizeof(line));
			om_doc_bullet(doc, OM_DOC_PLAIN, line);
		}
		snprintf(line, sizeof(line), "%s: %s", om_msg(v->lang, "report.desk.label.next"),
		         st.next);
		om_doc_para(doc, OM_DOC_DECIDE, line);
	}
}
