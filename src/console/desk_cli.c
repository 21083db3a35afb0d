/* console: `omamori desk`, the desk on the command line. Tickets are read
 * and changed in the store through the same operations as the web pages
 * (desk.c), so the trail is the same; the actor is "cli" (or --as NAME).
 * `desk notify` sends the notification outbox; `desk poll` is the
 * gateway's side of the command channel (command.c). */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "console/internal.h"

#define DESK_DEFAULT_DB "omamori.db"

static void sfmt_ticket(om_store_ticket *t, const char *tenant, const char *kind, const char *title,
                        const char *device, const char *body, const char *as)
{
	snprintf(t->tenant, sizeof(t->tenant), "%.63s", tenant);
	snprintf(t->kind, sizeof(t->kind), "%.23s", kind);
	snprintf(t->title, sizeof(t->title), "%.255s", title);
	snprintf(t->device, sizeof(t->device), "%.45s", device ? device : "");
	snprintf(t->body, sizeof(t->body), "%.4000s", body ? body : "");
	snprintf(t->source, sizeof(t->source), "cli");
	snprintf(t->opened_by, sizeof(t->opened_by), "%.127s", as);
}

static void sfmt_contact(om_store_desk_contact *c, const char *tenant, const char *lang,
                         const char *mail, const char *webhook)
{
	snprintf(c->tenant, sizeof(c->tenant), "%.63s", tenant);
	snprintf(c->lang, sizeof(c->lang), "%.7s", lang);
	snprintf(c->mail, sizeof(c->mail), "%.255s", mail ? mail : "");
	snprintf(c->webhook, sizeof(c->webhook), "%.511s", webhook ? webhook : "");
}

static int usage(void)
{
	fputs(om_tr("desk.help"), stderr);
	return 2;
}

struct opts {
	const char *db, *as, *tenant, *device, *priority, *body, *when, *mail, *webhook;
	const char *smtp, *from, *cacert, *credential, *interval, *imap, *user, *password_file;
	bool open_only, insecure, once, help;
	const char *pos[8];
	int npos;
};

static int parse(int argc, char **argv, struct opts *o)
{
	static const struct {
		const char *name;
		size_t off;
	} vals[] = {
	    {"--db", offsetof(struct opts, db)},
	    {"--as", offsetof(struct opts, as)},
	    {"--tenant", offsetof(struct opts, tenant)},
	    {"--device", offsetof(struct opts, device)},
	    {"--priority", offsetof(struct opts, priority)},
	    {"--body", offsetof(struct opts, body)},
	    {"--when", offsetof(struct opts, when)},
	    {"--mail", offsetof(struct opts, mail)},
	    {"--webhook", offsetof(struct opts, webhook)},
	    {"--smtp", offsetof(struct opts, smtp)},
	    {"--from", offsetof(struct opts, from)},
	    {"--cacert", offsetof(struct opts, cacert)},
	    {"--credential", offsetof(struct opts, credential)},
	    {"--interval", offsetof(struct opts, interval)},
	    {"--imap", offsetof(struct opts, imap)},
	    {"--user", offsetof(struct opts, user)},
	    {"--password-file", offsetof(struct opts, password_file)},
	};
	memset(o, 0, sizeof(*o));
	o->db = DESK_DEFAULT_DB;
	o->as = "cli";
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		bool done = false;
		for (size_t k = 0; k < OM_ARRAY_SIZE(vals); k++) {
			if (strcmp(a, vals[k].name) != 0)
				continue;
			if (i + 1 >= argc) {
				om_err(om_tr("console.err.needs_value"), a);
				return -EINVAL;
			}
			*(const char **)(void *)((char *)o + vals[k].off) = argv[++i];
			done = true;
			break;
		}
		if (done)
			continue;
		if (!strcmp(a, "--open"))
			o->open_only = true;
		else if (!strcmp(a, "--insecure"))
			o->insecure = true;
		else if (!strcmp(a, "--once"))
			o->once = true;
		else if (!strcmp(a, "-h") || !strcmp(a, "--help"))
			o->help = true;
		else if (a[0] == '-' && a[1]) {
			om_err(om_tr("console.err.option"), a);
			return -EINVAL;
		} else if (o->npos < (int)OM_ARRAY_SIZE(o->pos)) {
			o->pos[o->npos++] = a;
		} else {
			om_err(om_tr("console.err.option"), a);
			return -EINVAL;
		}
	}
	return 0;
}

static void print_ticket_line(const om_store_ticket *t)
{
	char ts[40];
	om_time_iso(t->opened, ts, sizeof(ts));
	printf("%lld\t%s\t%s\t%s\tP%d\t%s\t%s\t%s\n", (long long)t->id, t->tenant, t->state,
	       t->kind, t->priority, t->device[0] ? t->device : "-", ts, t->title);
}

static int get_ticket(om_store *s, const char *ids, om_store_ticket *t)
{
	int64_t id;
	if (!ids || con_id_parse(ids, &id) < 0) {
		om_err(om_tr("desk.err.ticket_id"), ids ? ids : "");
		return -EINVAL;
	}
	if (om_store_ticket_get(s, id, t) < 0) {
		om_err(om_tr("desk.err.no_ticket"), ids);
		return -ENOENT;
	}
	return 0;
}

static int show(om_store *s, const om_store_ticket *t)
{
	om_store_ticket_note_row *h = calloc(500, sizeof(*h));
	om_store_command cmds[32];
	size_t nh = 0, nc = 0;
	con_desk_sla_state sla;
	static const char *const level[] = {"ok", "warning", "breached"};
	con_desk_evidence e;
	const char *rule = NULL;

	con_desk_sla(t, om_time_now(), &sla);
	printf("id: %lld\ntenant: %s\nkind: %s\nstate: %s\npriority: %d\ntitle: %s\n",
	       (long long)t->id, t->tenant, t->kind, t->state, t->priority, t->title);
	printf("device: %s\nopened_by: %s\nassignee: %s\nsla: %s\nplaybook: %s\n", t->device,
	       t->opened_by, t->assignee, level[sla.level], t->playbook);
	if (con_desk_evidence_get(s, t, NULL, 0, NULL, &e) == 0) {
		om_store_event_row rows[50];
		size_t n = 0;
		con_desk_evidence_get(s, t, rows, 50, &n, &e);
		const char *j = con_desk_judge(t->kind, &e, &rule);
		printf("suggested: %s (%s)\n", j, om_tr(rule));
	}
	printf("judgement: %s\n", t->judgement[0] ? t->judgement : "-");
	if (t->body[0])
		printf("\n%s\n", t->body);
	if (h && om_store_ticket_history(s, t->id, h, 500, &nh) == 0) {
		printf("\n");
		for (size_t i = 0; i < nh; i++) {
			char ts[40];
			om_time_iso(h[i].ts, ts, sizeof(ts));
			printf("%s\t%s\t%s\t%s\n", ts, h[i].actor, h[i].action, h[i].detail);
		}
	}
	free(h);
	if (om_store_commands_of_ticket(s, t->id, cmds, 32, &nc) == 0 && nc) {
		printf("\n");
		for (size_t i = 0; i < nc; i++)
			printf("command %lld\t%s\t%s\t%s\t%s\t%s\n", (long long)cmds[i].id,
			       cmds[i].gateway, cmds[i].kind, cmds[i].target, cmds[i].state,
			       cmds[i].result);
	}
	return 0;
}

static int op_fail(int r)
{
	if (r == -ENODEV)
		om_err("%s", om_tr("desk.err.no_gateway"));
	else if (r == -ENOSPC)
		om_err("%s", om_tr("desk.err.full"));
	else if (r == -EINVAL)
		om_err("%s", om_tr("desk.err.invalid"));
	else
		om_err(om_tr("desk.err.store"), strerror(-r));
	return 1;
}

int om_desk_main(int argc, char **argv, enum om_lang lang, om_desk_apply_fn apply, void *user)
{
	struct opts o;
	om_store *s = NULL;
	char err[512] = "";
	om_usec now = om_time_now();
	int rc = 1, r;

	om_lang_set_thread(lang);
	if (parse(argc, argv, &o) < 0)
		return 2;
	if (o.help || o.npos == 0) {
		fputs(om_tr("desk.help"), o.help ? stdout : stderr);
		return o.help ? 0 : 2;
	}
	const char *sub = o.pos[0];
	if (!strcmp(sub, "poll")) {
		con_poll_options po = {.url = o.npos > 1 ? o.pos[1] : NULL,
		                       .credential = o.credential,
		                       .cacert = o.cacert,
		                       .once = o.once,
		                       .apply = apply,
		                       .user = user};
		if (!po.url || !po.credential)
			return usage();
		if (o.interval) {
			int64_t v;
			if (con_id_parse(o.interval, &v) < 0 || v < 1 || v > 3600) {
				om_err(om_tr("desk.err.interval"), o.interval);
				return 2;
			}
			po.interval = (unsigned)v;
		}
		return con_poll_main(&po);
	}
	if (om_store_open(o.db, &s, err, sizeof(err)) < 0) {
		om_err("%s", err);
		return 1;
	}
	om_store_ticket t;
	if (!strcmp(sub, "list")) {
		om_store_ticket *l = calloc(1000, sizeof(*l));
		size_t n = 0;
		om_store_ticket_filter f = {.tenant = o.tenant, .open_only = o.open_only};
		if (l && om_store_ticket_list(s, &f, l, 1000, &n) == 0) {
			for (size_t i = 0; i < n; i++)
				print_ticket_line(&l[i]);
			rc = 0;
		}
		free(l);
	} else if (!strcmp(sub, "show")) {
		if (get_ticket(s, o.npos > 1 ? o.pos[1] : NULL, &t) == 0)
			rc = show(s, &t);
	} else if (!strcmp(sub, "open")) {
		if (o.npos != 4) {
			rc = usage();
			goto out;
		}
		memset(&t, 0, sizeof(t));
		om_store_tenant ten;
		if (om_store_tenant_get(s, o.pos[1], &ten) < 0) {
			om_err(om_tr("desk.err.no_tenant"), o.pos[1]);
			goto out;
		}
		sfmt_ticket(&t, o.pos[1], o.pos[2], o.pos[3], o.device, o.body, o.as);
		if (o.priority) {
			int64_t p;
			if (con_id_parse(o.priority, &p) < 0 || p < 1 || p > 4) {
				om_err("%s", om_tr("desk.err.invalid"));
				rc = 2;
				goto out;
			}
			t.priority = (int)p;
		}
		int64_t id;
		r = con_desk_open(s, &t, NULL, o.as, now, &id);
		if (r < 0) {
			rc = op_fail(r);
			goto out;
		}
		con_desk_notify(s, &t, "opened", now);
		printf("%lld\n", (long long)id);
		rc = 0;
	} else if (!strcmp(sub, "close") || !strcmp(sub, "set") || !strcmp(sub, "comment")) {
		if (get_ticket(s, o.npos > 1 ? o.pos[1] : NULL, &t) < 0)
			goto out;
		if (!strcmp(sub, "close")) {
			if (o.body)
				con_desk_comment(s, &t, o.as, true, o.body, now);
			r = con_desk_set(s, &t, o.as, "state", "closed", now);
			if (r == 0)
				con_desk_notify(s, &t, "closed", now);
		} else if (!strcmp(sub, "set")) {
			r = o.npos == 4 ? con_desk_set(s, &t, o.as, o.pos[2], o.pos[3], now)
			                : -EINVAL;
		} else {
			r = o.npos == 3 ? con_desk_comment(s, &t, o.as, true, o.pos[2], now)
			                : -EINVAL;
		}
		rc = r < 0 ? op_fail(r) : 0;
	} else if (!strcmp(sub, "action")) {
		unsigned sent = 0;
		if (o.npos < 3 || get_ticket(s, o.pos[1], &t) < 0) {
			rc = o.npos < 3 ? usage() : 1;
			goto out;
		}
		r = con_desk_action(s, &t, o.as, o.pos[2], o.npos > 3 ? o.pos[3] : NULL, o.when,
		                    now, &sent);
		if (r < 0) {
			rc = op_fail(r);
			goto out;
		}
		con_desk_notify(s, &t, o.pos[2], now);
		printf(om_tr("desk.msg.queued"), sent);
		fputc('\n', stdout);
		rc = 0;
	} else if (!strcmp(sub, "contact")) {
		om_store_desk_contact c = {0};
		enum om_lang l;
		/* the language is a word of its own: --lang is the program's */
		if (o.npos != 3 || om_lang_parse(o.pos[2], &l) < 0) {
			rc = usage();
			goto out;
		}
		sfmt_contact(&c, o.pos[1], o.pos[2], o.mail, o.webhook);
		r = om_store_desk_contact_set(s, &c);
		rc = r < 0 ? op_fail(r) : 0;
	} else if (!strcmp(sub, "mail")) {
		char pw[256] = "";
		con_mail_options mo = {
		    .url = o.imap, .user = o.user, .cacert = o.cacert, .insecure = o.insecure};
		con_desk_mail_stats ms = {0};
		if (!o.imap) {
			rc = usage();
			goto out;
		}
		if (o.password_file) {
			FILE *pf = fopen(o.password_file, "r");
			if (!pf || !fgets(pw, sizeof(pw), pf)) {
				if (pf)
					fclose(pf);
				om_err(om_tr("desk.err.password_file"), o.password_file);
				goto out;
			}
			fclose(pf);
			pw[strcspn(pw, "\r\n")] = '\0';
			mo.password = pw;
		}
		r = con_desk_mail_poll(s, &mo, &ms, err, sizeof(err));
		if (r < 0) {
			om_err(om_tr("desk.err.imap"), err);
			goto out;
		}
		printf(om_tr("desk.msg.mail"), ms.mails, ms.tickets, ms.comments, ms.unknown,
		       ms.invalid);
		fputc('\n', stdout);
		rc = 0;
	} else if (!strcmp(sub, "notify")) {
		con_notify_options no = {
		    .smtp = o.smtp, .from = o.from, .cacert = o.cacert, .insecure = o.insecure};
		unsigned sent = 0, failed = 0;
		r = con_desk_send_outbox(s, &no, &sent, &failed);
		if (r < 0) {
			rc = op_fail(r);
			goto out;
		}
		printf(om_tr("desk.msg.sent"), sent, failed);
		fputc('\n', stdout);
		rc = failed ? 1 : 0;
	} else {
		rc = usage();
	}
out:
	om_store_close(s);
	return rc;
}
