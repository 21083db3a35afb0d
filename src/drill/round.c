/* drill: rounds. A round is a template sent to the targets of a group (or
 * all targets), on a schedule: each recipient gets a token and a due time
 * (the start plus a random share of the spread, moved into the business
 * window). Sending takes the due recipients in order, at most `rate` a
 * minute, and records each try: sent, a bounce (5xx), or a transient
 * failure tried again after a doubling wait until the tries are used up. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "drill/drill.h"

struct collect {
	om_store_drill_recipient *r;
	size_t n, cap;
	om_buf str;
	size_t excluded;
};

static const char *keep(om_buf *b, const char *s)
{
	/* offsets are fixed up after the walk (the buffer may move) */
	size_t off = b->len;
	om_buf_append(b, s, strlen(s) + 1);
	return (const char *)(uintptr_t)(off + 1);
}

static int collect_one(void *user, const om_store_drill_target *t)
{
	struct collect *c = user;
	if (t->excluded) {
		c->excluded++;
		return 0;
	}
	if (c->n == c->cap) {
		size_t nc = c->cap ? c->cap * 2 : 256;
		if (nc > OM_DRILL_MAX_ROWS)
			nc = OM_DRILL_MAX_ROWS;
		if (c->n >= nc)
			return -E2BIG;
		om_store_drill_recipient *p = realloc(c->r, nc * sizeof(*p));
		if (!p)
			return -ENOMEM;
		c->r = p, c->cap = nc;
	}
	om_store_drill_recipient *p = &c->r[c->n++];
	memset(p, 0, sizeof(*p));
	p->mail = keep(&c->str, t->mail);
	p->name = keep(&c->str, t->name);
	p->organisation = keep(&c->str, t->organisation);
	p->department = keep(&c->str, t->department);
	p->role = keep(&c->str, t->role);
	p->custom_json = keep(&c->str, t->custom_json);
	return c->str.toobig ? -E2BIG : 0;
}

static const char *fix(const om_buf *b, const char *p)
{
	return b->data + ((uintptr_t)p - 1);
}

static uint64_t rand64(void)
{
	uint64_t v = 0;
	if (om_random_bytes(&v, sizeof(v)) < 0)
		v = om_mix64((uint64_t)om_time_now() ^ (uint64_t)getpid());
	return v;
}

int om_drill_round_create(om_store *s, const om_store_drill_round *r, size_t *ret_n,
                          size_t *ret_excluded, char *err, size_t errlen)
{
	struct collect c = {0};
	om_buf_init(&c.str, 256u << 20);
	char(*tok)[OM_DRILL_TOKEN_LEN + 1] = NULL;
	int rc =
	    om_store_drill_targets(s, r->group_name[0] ? r->group_name : NULL, collect_one, &c);
	if (rc < 0) {
		snprintf(err, errlen, "%s", strerror(-rc));
		goto out;
	}
	if (c.n == 0) {
		rc = -ENOENT;
		goto out;
	}
	tok = calloc(c.n, sizeof(*tok));
	if (!tok) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < c.n; i++) {
		om_store_drill_recipient *p = &c.r[i];
		p->mail = fix(&c.str, p->mail);
		p->name = fix(&c.str, p->name);
		p->organisation = fix(&c.str, p->organisation);
		p->department = fix(&c.str, p->department);
		p->role = fix(&c.str, p->role);
		p->custom_json = fix(&c.str, p->custom_json);
		rc = om_drill_token_new(tok[i]);
		if (rc < 0)
			goto out;
		p->token = tok[i];
		int64_t due = r->start_at;
		if (r->spread > 0)
			due += (int64_t)(rand64() % (uint64_t)r->spread);
		rc = om_drill_window_next(due, r->tz, r->days, r->hour_start, r->hour_end, &p->due);
		if (rc < 0)
			goto out;
		p->state = OM_DRILL_QUEUED;
		p->detail = "";
	}
	rc = om_store_drill_round_add(s, r, c.r, c.n, err, errlen);
	if (rc == 0) {
		*ret_n = c.n;
		if (ret_excluded)
			*ret_excluded = c.excluded;
	}
out:
	free(tok);
	free(c.r);
	om_buf_free(&c.str);
	return rc;
}

/* ---- the message of one recipient ---- */

int om_drill_round_message(const om_store_drill_round *r, const om_store_drill_recipient *p,
                           om_usec now, om_buf *out)
{
	enum om_lang lang = strcmp(r->lang, "en") ? OM_LANG_JA : OM_LANG_EN;
	om_drill_template t;
	int rc = om_drill_template_find(r->template_name, lang, &t);
	if (rc < 0)
		return rc;
	om_store_drill_target tg = {
	    .mail = p->mail,
	    .name = p->name,
	    .organisation = p->organisation,
	    .department = p->department,
	    .role = p->role,
	    .custom_json = p->custom_json,
	};
	om_buf u[6];
	static const enum om_drill_kind kinds[6] = {OM_DRILL_EV_CLICK,   OM_DRILL_EV_REPORT,
	                                            OM_DRILL_EV_OPEN,    OM_DRILL_EV_ATTACH,
	                                            OM_DRILL_EV_LANDING, OM_DRILL_EV_SUBMIT};
	for (int i = 0; i < 6; i++) {
		om_buf_init(&u[i], 1024);
		om_drill_track_url(r->base_url, kinds[i], p->token, &u[i]);
	}
	char date[32];
	struct tm lt;
	if (om_drill_localtime((int64_t)now, r->tz, &lt) == 0)
		snprintf(date, sizeof(date), "%04d-%02d", lt.tm_year + 1900, lt.tm_mon + 1);
	else
		snprintf(date, sizeof(date), "-");
	om_drill_vars v = {
	    .target = &tg,
	    .sender = r->from_name,
	    .date = date,
	    .link = om_buf_cstr(&u[0]),
	    .report_link = om_buf_cstr(&u[1]),
	    .open_url = om_buf_cstr(&u[2]),
	    .attach_url = om_buf_cstr(&u[3]),
	    .landing_url = om_buf_cstr(&u[4]),
	    .submit_url = om_buf_cstr(&u[5]),
	    .token = p->token,
	};
	const char *at = strrchr(r->from_addr, '@');
	om_drill_mail_opts o = {
	    .from_addr = r->from_addr,
	    .msgid_domain = at ? at + 1 : "localhost",
	    .date = now,
	    .charset = strcmp(r->charset, "utf-8") ? OM_DRILL_CS_ISO2022JP : OM_DRILL_CS_UTF8,
	};
	rc = om_drill_message(&t, &v, &o, out, NULL);
	for (int i = 0; i < 6; i++)
		om_buf_free(&u[i]);
	return rc;
}

/* ---- sending ---- */

#define SEND_BATCH 200u

struct batch {
	om_store_drill_recipient *r;
	size_t n;
	om_buf str;
};

static int batch_one(void *user, const om_store_drill_recipient *p)
{
	struct batch *b = user;
	om_store_drill_recipient *q = &b->r[b->n++];
	*q = *p;
	q->token = keep(&b->str, p->token);
	q->mail = keep(&b->str, p->mail);
	q->name = keep(&b->str, p->name);
	q->organisation = keep(&b->str, p->organisation);
	q->department = keep(&b->str, p->department);
	q->role = keep(&b->str, p->role);
	q->custom_json = keep(&b->str, p->custom_json);
	q->detail = "";
	return b->str.toobig ? -E2BIG : 0;
}

static void sleep_until(om_usec t)
{
	om_usec now = om_time_now();
	if (t <= now)
		return;
	om_usec d = t - now;
	struct timespec ts = {(time_t)(d / 1000000), (long)(d % 1000000) * 1000};
	nanosleep(&ts, NULL);
}

struct pending {
	size_t n;
	int64_t next;
};

static int pending_one(void *user, const om_store_drill_recipient *p)
{
	struct pending *q = user;
	if (p->state == OM_DRILL_QUEUED || p->state == OM_DRILL_RETRY) {
		q->n++;
		if (!q->next || p->due < q->next)
			q->next = p->due;
	}
	return 0;
}

int om_drill_round_send(om_store *s, const char *round, om_drill_smtp *smtp,
                        const om_drill_send_opts *o, om_drill_send_stats *ret, char *err,
                        size_t errlen)
{
	om_store_drill_round r;
	int rc = om_store_drill_round_get(s, round, &r);
	if (rc < 0)
		return rc;
	om_drill_send_stats st = {0};
	struct batch b = {0};
	b.r = calloc(SEND_BATCH, sizeof(*b.r));
	if (!b.r)
		return -ENOMEM;
	om_buf_init(&b.str, 64u << 20);
	om_buf msg;
	om_buf_init(&msg, 16u << 20);
	unsigned rate = r.rate ? r.rate : 60;
	om_usec gap = 60000000ULL / rate, next_slot = 0;
	unsigned max_attempts = o && o->max_attempts ? o->max_attempts : 5;
	for (;;) {
		om_usec now = om_time_now();
		b.n = 0;
		om_buf_reset(&b.str);
		rc = om_store_drill_recipients(s, round, (int64_t)now, SEND_BATCH, batch_one, &b);
		if (rc < 0)
			break;
		for (size_t i = 0; i < b.n; i++) {
			om_store_drill_recipient *p = &b.r[i];
			p->token = fix(&b.str, p->token);
			p->mail = fix(&b.str, p->mail);
			p->name = fix(&b.str, p->name);
			p->organisation = fix(&b.str, p->organisation);
			p->department = fix(&b.str, p->department);
			p->role = fix(&b.str, p->role);
			p->custom_json = fix(&b.str, p->custom_json);
		}
		if (b.n == 0) {
			struct pending q = {0};
			rc = om_store_drill_recipients(s, round, 0, 0, pending_one, &q);
			if (rc < 0)
				break;
			st.pending = (unsigned)q.n;
			if (q.n == 0 || !o || !o->wait)
				break;
			/* wait for the next due one, in steps so that a stop is seen */
			om_usec until = (om_usec)q.next;
			if (until > now + 30000000ULL)
				until = now + 30000000ULL;
			sleep_until(until);
			if (o->stop && *o->stop)
				break;
			continue;
		}
		for (size_t i = 0; i < b.n; i++) {
			om_store_drill_recipient *p = &b.r[i];
			if (o && o->stop && *o->stop)
				goto done;
			sleep_until(next_slot);
			now = om_time_now();
			int64_t w;
			if (om_drill_window_next((int64_t)now, r.tz, r.days, r.hour_start,
			                         r.hour_end, &w) == 0 &&
			    w > (int64_t)now) {
				/* the window closed while sending: the rest waits for the next */
				rc = om_store_drill_recipient_update(s, p->token, p->state,
				                                     p->attempts, w, 0, p->detail);
				if (rc < 0)
					goto done;
				continue;
			}
			next_slot = now + gap;
			om_buf_reset(&msg);
			rc = om_drill_round_message(&r, p, now, &msg);
			if (rc < 0) {
				snprintf(err, errlen, "%s: %s", r.template_name, strerror(-rc));
				goto done;
			}
			char detail[512] = "";
			int sr = om_drill_smtp_send(smtp, r.from_addr, p->mail, msg.data, msg.len,
			                            detail, sizeof(detail));
			unsigned att = p->attempts + 1;
			int state;
			int64_t due = p->due, sent_at = 0;
			if (sr == 0) {
				state = OM_DRILL_SENT, sent_at = (int64_t)om_time_now();
				st.sent++;
			} else if (sr == -EPERM) {
				state = OM_DRILL_BOUNCED;
				st.bounced++;
			} else if (sr == -EACCES) {
				snprintf(err, errlen, "%s", detail);
				rc = -EACCES;
				goto done;
			} else if (att >= max_attempts) {
				state = OM_DRILL_FAILED;
				st.failed++;
			} else {
				state = OM_DRILL_RETRY;
				due = (int64_t)now + om_drill_backoff(att);
				st.retried++;
			}
			rc = om_store_drill_recipient_update(s, p->token, state, att, due, sent_at,
			                                     detail);
			if (rc < 0) {
				snprintf(err, errlen, "%s", strerror(-rc));
				goto done;
			}
		}
	}
done:
	om_buf_free(&msg);
	om_buf_free(&b.str);
	free(b.r);
	if (rc >= 0) {
		*ret = st;
		rc = 0;
	}
	return rc;
}
