/* console: the desk's rules without a server. The SLA clock (targets and
 * the three-quarter warning), the suggested judgement rule by rule, which
 * EVE lines open a ticket by themselves (and which do not), the inside
 * host, domains, the poll answer parser, the notification mail, and the
 * playbooks (both languages, the pilot's four scenarios, IPA's ten). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "console/internal.h"

#define H (3600ull * 1000000)

static om_store_ticket ticket(int prio, om_usec opened)
{
	om_store_ticket t;
	memset(&t, 0, sizeof(t));
	t.priority = prio;
	t.opened = opened;
	snprintf(t.state, sizeof(t.state), "new");
	return t;
}

static void test_sla(void **state)
{
	(void)state;
	con_desk_sla_state s;
	om_store_ticket t = ticket(1, 100 * H);

	/* priority 1: answer within 1 h, resolve within 8 h */
	con_desk_sla(&t, 100 * H + 30 * 60 * 1000000ull, &s);
	assert_int_equal(s.answer_due, 101 * H);
	assert_int_equal(s.close_due, 108 * H);
	assert_int_equal(s.clock, CON_SLA_ANSWER);
	assert_int_equal(s.level, CON_SLA_OK);
	assert_int_equal(s.left, 30 * 60 * 1000000ull);
	/* 45 minutes of 60: the warning starts at three quarters */
	con_desk_sla(&t, 100 * H + 45 * 60 * 1000000ull, &s);
	assert_int_equal(s.level, CON_SLA_WARNING);
	con_desk_sla(&t, 100 * H + 44 * 60 * 1000000ull, &s);
	assert_int_equal(s.level, CON_SLA_OK);
	con_desk_sla(&t, 101 * H, &s);
	assert_int_equal(s.level, CON_SLA_BREACHED);
	assert_int_equal(s.left, 0);
	/* answered: the resolution clock runs (8 h) */
	t.first_answer = 100 * H + 10;
	con_desk_sla(&t, 105 * H, &s);
	assert_int_equal(s.clock, CON_SLA_CLOSE);
	assert_int_equal(s.level, CON_SLA_OK);
	con_desk_sla(&t, 106 * H, &s);
	assert_int_equal(s.level, CON_SLA_WARNING);
	/* closed in time: stays ok however late it is now */
	snprintf(t.state, sizeof(t.state), "closed");
	t.closed = 107 * H;
	con_desk_sla(&t, 500 * H, &s);
	assert_int_equal(s.clock, CON_SLA_STOPPED);
	assert_int_equal(s.level, CON_SLA_OK);
	t.closed = 109 * H;
	con_desk_sla(&t, 500 * H, &s);
	assert_int_equal(s.level, CON_SLA_BREACHED);
	/* priority 4: a day to answer, a week to resolve */
	t = ticket(4, 0);
	con_desk_sla(&t, 0, &s);
	assert_int_equal(s.answer_due, 24 * H);
	assert_int_equal(s.close_due, 168 * H);
	/* a bad priority counts as normal (3) */
	t = ticket(9, 0);
	con_desk_sla(&t, 0, &s);
	assert_int_equal(s.answer_due, 8 * H);
}

static void test_judge(void **state)
{
	(void)state;
	const char *rule;
	con_desk_evidence e = {.device_known = true, .watched = true};

	assert_string_equal(con_desk_judge("popup", &e, &rule), "unlikely");
	assert_string_equal(rule, "desk.rule.quiet");
	e.serious = 1;
	assert_string_equal(con_desk_judge("popup", &e, &rule), "attack");
	assert_string_equal(rule, "desk.rule.serious");
	/* a serious event wins over every other rule */
	assert_string_equal(con_desk_judge("lost_device", &e, &rule), "attack");
	e.serious = 0;
	assert_string_equal(con_desk_judge("lost_device", &e, &rule), "more");
	assert_string_equal(rule, "desk.rule.lost");
	assert_string_equal(con_desk_judge("encrypted", &e, &rule), "more");
	assert_string_equal(rule, "desk.rule.encrypted");
	e.watched = false;
	assert_string_equal(con_desk_judge("payment", &e, &rule), "more");
	assert_string_equal(rule, "desk.rule.not_watched");
	e.device_known = false;
	assert_string_equal(con_desk_judge("payment", &e, &rule), "more");
	assert_string_equal(rule, "desk.rule.no_device");
	con_desk_evidence q = {.quarantined = true};
	assert_string_equal(con_desk_judge("quarantine", &q, &rule), "attack");

	assert_true(con_desk_event_serious("c2", 3));
	assert_true(con_desk_event_serious("web_malware", 2));
	assert_true(con_desk_event_serious("recon", 1));
	assert_false(con_desk_event_serious("recon", 3));
	assert_false(con_desk_event_serious(NULL, 2));
}

static const char c2_line[] =
    "{\"timestamp\":\"2026-12-01T10:00:00.000000+0000\",\"event_type\":\"alert\","
    "\"src_ip\":\"192.168.1.50\",\"dest_ip\":\"203.0.113.9\",\"alert\":{\"signature\":"
    "\"C&C beacon\\nnext\"},\"omamori\":{\"category\":\"c2\",\"severity\":1}}";

static void test_auto_parse(void **state)
{
	(void)state;
	con_desk_candidate c;
	char b[1024];

	assert_int_equal(con_desk_auto_parse(c2_line, strlen(c2_line), &c), 0);
	assert_string_equal(c.kind, "c2");
	assert_string_equal(c.device, "192.168.1.50");
	assert_string_equal(c.what, "C&C beacon next"); /* the newline is gone */
	assert_true(c.ts > 0);
	/* c2 of lower severity is not "confirmed" */
	snprintf(b, sizeof(b),
	         "{\"event_type\":\"alert\",\"src_ip\":\"192.168.1.50\",\"omamori\":"
	         "{\"category\":\"c2\",\"severity\":2}}");
	assert_int_equal(con_desk_auto_parse(b, strlen(b), &c), -EINVAL);
	/* malware downloaded: the inside host is the destination */
	snprintf(b, sizeof(b),
	         "{\"event_type\":\"alert\",\"src_ip\":\"198.51.100.1\",\"dest_ip\":\"10.1.2.3\","
	         "\"omamori\":{\"category\":\"web_malware\",\"severity\":2}}");
	assert_int_equal(con_desk_auto_parse(b, strlen(b), &c), 0);
	assert_string_equal(c.kind, "malware");
	assert_string_equal(c.device, "10.1.2.3");
	assert_string_equal(c.what, "web_malware");
	/* the gateway's own isolation opens one; one the list asked for does not */
	snprintf(b, sizeof(b),
	         "{\"event_type\":\"quarantine\",\"quarantine\":{\"action\":\"add\","
	         "\"source\":\"auto\",\"host\":\"fd00::5\",\"reason\":\"c2\"}}");
	assert_int_equal(con_desk_auto_parse(b, strlen(b), &c), 0);
	assert_string_equal(c.kind, "quarantine");
	assert_string_equal(c.device, "fd00::5");
	snprintf(b, sizeof(b),
	         "{\"event_type\":\"quarantine\",\"quarantine\":{\"action\":\"add\","
	         "\"source\":\"list\",\"host\":\"10.0.0.5\"}}");
	assert_int_equal(con_desk_auto_parse(b, strlen(b), &c), -EINVAL);
	snprintf(b, sizeof(b),
	         "{\"event_type\":\"quarantine\",\"quarantine\":{\"action\":\"del\","
	         "\"source\":\"auto\",\"host\":\"10.0.0.5\"}}");
	assert_int_equal(con_desk_auto_parse(b, strlen(b), &c), -EINVAL);
	/* bad data */
	assert_int_equal(con_desk_auto_parse("{", 1, &c), -EINVAL);
	assert_int_equal(con_desk_auto_parse("[]", 2, &c), -EINVAL);
	snprintf(b, sizeof(b),
	         "{\"event_type\":\"alert\",\"src_ip\":\"not an ip\",\"omamori\":"
	         "{\"category\":\"mail_malware\"}}");
	assert_int_equal(con_desk_auto_parse(b, strlen(b), &c), -EINVAL);

	/* the cheap filter and the cap per batch */
	con_desk_auto *a = calloc(1, sizeof(*a));
	assert_non_null(a);
	con_desk_auto_note(a, "{\"event_type\":\"flow\"}", 21);
	assert_int_equal(a->n, 0);
	/* the same device again and again: one candidate */
	for (int i = 0; i < 10; i++)
		con_desk_auto_note(a, c2_line, strlen(c2_line));
	assert_int_equal(a->n, 1);
	/* distinct devices up to the cap, the rest counted */
	for (int i = 0; i < CON_DESK_AUTO_MAX + 3; i++) {
		char line[512];
		snprintf(line, sizeof(line),
		         "{\"event_type\":\"alert\",\"src_ip\":\"10.%d.%d.1\",\"omamori\":"
		         "{\"category\":\"c2\",\"severity\":1}}",
		         i / 200, i % 200);
		con_desk_auto_note(a, line, strlen(line));
	}
	assert_int_equal(a->n, CON_DESK_AUTO_MAX);
	assert_int_equal(a->dropped, 4); /* 1 + 259 candidates, 256 kept */
	free(a);
}

static void test_addresses(void **state)
{
	(void)state;
	assert_true(con_desk_inside("10.0.0.1"));
	assert_true(con_desk_inside("172.16.0.1"));
	assert_true(con_desk_inside("172.31.255.1"));
	assert_false(con_desk_inside("172.32.0.1"));
	assert_true(con_desk_inside("192.168.0.1"));
	assert_true(con_desk_inside("100.64.0.1"));
	assert_false(con_desk_inside("8.8.8.8"));
	assert_true(con_desk_inside("fd12::1"));
	assert_true(con_desk_inside("fe80::1"));
	assert_false(con_desk_inside("2001:db8::1"));
	assert_false(con_desk_inside(NULL));
	assert_true(con_desk_domain_ok("evil.example"));
	assert_true(con_desk_domain_ok("a-b.c0.example"));
	assert_false(con_desk_domain_ok("example"));
	assert_false(con_desk_domain_ok("evil..example"));
	assert_false(con_desk_domain_ok(".evil.example"));
	assert_false(con_desk_domain_ok("Evil.example"));
	assert_false(con_desk_domain_ok("evil example"));
	assert_false(con_desk_domain_ok(""));
}

static void test_poll_parse(void **state)
{
	(void)state;
	con_poll_command c[4];
	size_t n;
	const char *j = "{\"commands\":[{\"id\":7,\"kind\":\"quarantine\",\"target\":\"10.0.0.5\"},"
	                "{\"id\":-1,\"kind\":\"x\",\"target\":\"y\"},{\"id\":8,\"kind\":3},"
	                "{\"id\":9,\"kind\":\"block\",\"target\":\"evil.example\"}]}";

	assert_int_equal(con_poll_parse(j, strlen(j), c, 4, &n), 0);
	assert_int_equal(n, 2); /* the two unreadable ones are left alone */
	assert_int_equal(c[0].id, 7);
	assert_string_equal(c[0].kind, "quarantine");
	assert_string_equal(c[1].target, "evil.example");
	assert_int_equal(con_poll_parse("{}", 2, c, 4, &n), -EINVAL);
	assert_int_equal(con_poll_parse("nope", 4, c, 4, &n), -EINVAL);
	assert_int_equal(con_poll_parse(j, strlen(j), c, 1, &n), 0);
	assert_int_equal(n, 1);
}

static void test_mail(void **state)
{
	(void)state;
	om_store_desk_message m;
	om_buf b;

	memset(&m, 0, sizeof(m));
	m.ticket = 12;
	snprintf(m.dest, sizeof(m.dest), "owner@bakery.example\r\nBcc: x@y");
	snprintf(m.subject, sizeof(m.subject), "窓口\r\nX: y");
	snprintf(m.body, sizeof(m.body), "line 1\nline 2\n");
	om_buf_init(&b, 64 * 1024);
	assert_int_equal(con_desk_mail_format("desk@provider.example", &m, &b), 0);
	const char *s = om_buf_cstr(&b);
	/* no header injection through the address or the subject */
	assert_null(strstr(s, "\r\nBcc:"));
	assert_null(strstr(s, "\r\nX: y"));
	assert_non_null(strstr(s, "Subject: =?UTF-8?B?"));
	assert_non_null(strstr(s, "X-Omamori-Ticket: 12\r\n"));
	assert_non_null(strstr(s, "\r\n\r\nline 1\r\nline 2\r\n"));
	om_buf_free(&b);
}

static void test_mail_parse(void **state)
{
	(void)state;
	con_desk_mail *m = calloc(1, sizeof(*m));
	const char *plain = "From: Hanako Sato <Hanako@Bakery.Example>\r\n"
	                    "Subject: =?UTF-8?B?5pqX5Y+35YyW44GV44KM44Gf?=\r\n"
	                    " =?UTF-8?Q?_files?=\r\n"
	                    "Content-Type: text/plain; charset=UTF-8\r\n"
	                    "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
	                    "The PC says =E6=9A=97=E5=8F=B7 and asks for money.=\r\n Help\r\n";
	assert_non_null(m);
	assert_int_equal(con_desk_mail_parse(plain, strlen(plain), m), 0);
	assert_string_equal(m->from, "hanako@bakery.example");
	/* two encoded words, the folding white space between them dropped */
	assert_string_equal(m->subject, "暗号化された files");
	assert_string_equal(m->kind, "encrypted");
	assert_non_null(strstr(m->body, "The PC says 暗号 and asks for money. Help"));
	assert_int_equal(m->ticket, 0);

	const char *multi = "From: owner@bakery.example\n"
	                    "Subject: Re: [omamori desk #42] popup\n"
	                    "Content-Type: multipart/alternative; boundary=\"b1\"\n\n"
	                    "--b1\nContent-Type: text/html\n\n<p>html</p>\n"
	                    "--b1\nContent-Type: text/plain\nContent-Transfer-Encoding: base64\n\n"
	                    "SXQgaXMgZ29uZSBub3cu\n--b1--\n";
	assert_int_equal(con_desk_mail_parse(multi, strlen(multi), m), 0);
	assert_int_equal(m->ticket, 42);
	assert_non_null(strstr(m->body, "It is gone now."));
	assert_null(strstr(m->body, "html"));

	/* no usable sender: not a ticket */
	const char *nofrom = "Subject: x\n\nbody\n";
	assert_int_equal(con_desk_mail_parse(nofrom, strlen(nofrom), m), -EINVAL);
	const char *badfrom = "From: <a b@c>\nSubject: x\n\nbody\n";
	assert_int_equal(con_desk_mail_parse(badfrom, strlen(badfrom), m), -EINVAL);
	/* control characters never reach the title; no subject gets a stand-in */
	const char *ctl = "From: a@b.example\nSubject: =?UTF-8?Q?a=0Db?=\n\n";
	assert_int_equal(con_desk_mail_parse(ctl, strlen(ctl), m), 0);
	assert_string_equal(m->subject, "a b");
	const char *nosub = "From: a@b.example\n\nlost my phone\n";
	assert_int_equal(con_desk_mail_parse(nosub, strlen(nosub), m), 0);
	assert_string_equal(m->subject, "(no subject)");
	assert_string_equal(m->kind, "lost_device");
	free(m);
}

static void test_playbooks(void **state)
{
	(void)state;
	size_t pilot = 0;
	bool ipa[11] = {false};

	assert_true(con_playbooks_n >= 10);
	for (size_t i = 0; i < con_playbooks_n; i++) {
		const con_playbook *p = &con_playbooks[i];
		assert_ptr_equal(con_playbook_find(p->id), p);
		assert_true(p->nsteps > 0 && p->nsteps <= CON_PLAYBOOK_STEPS_MAX);
		for (int l = 0; l < OM_LANG_COUNT; l++) {
			assert_true(*p->title[l] && *p->tell[l] && *p->escalate[l]);
			for (size_t k = 0; k < p->nsteps; k++)
				assert_true(*p->steps[k].text[l]);
		}
		if (strstr(p->scenario, "pilot"))
			pilot++;
		if (*p->ipa_rank) {
			int r = (int)strtol(p->ipa_rank, NULL, 10);
			assert_true(r >= 1 && r <= 10);
			assert_false(ipa[r]);
			ipa[r] = true;
		}
	}
	assert_int_equal(pilot, 4);
	for (int r = 1; r <= 10; r++)
		assert_true(ipa[r]);
	assert_null(con_playbook_find("nosuch"));
	/* the default playbook of each call kind exists */
	for (size_t i = 0; con_desk_kind_at(i); i++) {
		const char *d = con_desk_default_playbook(con_desk_kind_at(i));
		assert_true(!*d || con_playbook_find(d));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sla),        cmocka_unit_test(test_judge),
	    cmocka_unit_test(test_auto_parse), cmocka_unit_test(test_addresses),
	    cmocka_unit_test(test_poll_parse), cmocka_unit_test(test_mail),
	    cmocka_unit_test(test_mail_parse), cmocka_unit_test(test_playbooks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
