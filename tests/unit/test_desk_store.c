/* store: the desk's tables on a real SQLite file: tickets and their dedup
 * key, the trail, links, the attachment caps, gateway commands (poll marks
 * them sent, the confirmation is idempotent and bound to its gateway), and
 * the statistics. On SQLite, and on PostgreSQL under tests/store/with-pg. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../store/backend.h"
#include "store/store.h"

#define SEC 1000000ull

static struct tmpdb db;

static int setup(void **state)
{
	om_store *s;
	char err[256];

	tmpdb_make(&db);
	if (om_store_open(db.path, &s, err, sizeof(err)) < 0)
		return -1;
	*state = s;
	return 0;
}

static int teardown(void **state)
{
	om_store_close(*state);
	tmpdb_remove(&db);
	return 0;
}

static om_store_ticket make(const char *tenant, const char *kind, om_usec opened)
{
	om_store_ticket t;
	memset(&t, 0, sizeof(t));
	snprintf(t.tenant, sizeof(t.tenant), "%s", tenant);
	snprintf(t.kind, sizeof(t.kind), "%s", kind);
	snprintf(t.source, sizeof(t.source), "web");
	snprintf(t.state, sizeof(t.state), "new");
	t.priority = 3;
	snprintf(t.title, sizeof(t.title), "a window keeps popping up");
	snprintf(t.device, sizeof(t.device), "192.168.1.20");
	t.opened = opened;
	return t;
}

static void test_tickets(void **state)
{
	om_store *s = *state;
	om_store_ticket t = make("acme", "popup", 1000 * SEC), got, list[8];
	int64_t id, id2, id3;
	size_t n;

	assert_int_equal(om_store_ticket_add(s, &t, NULL, &id), 0);
	assert_true(id > 0);
	assert_int_equal(om_store_ticket_get(s, id, &got), 0);
	assert_string_equal(got.tenant, "acme");
	assert_string_equal(got.kind, "popup");
	assert_int_equal(got.priority, 3);
	assert_int_equal(got.opened, 1000 * SEC);
	assert_int_equal(got.updated, 1000 * SEC);
	assert_int_equal(om_store_ticket_get(s, id + 100, &got), -ENOENT);

	/* bad values are refused, not cut */
	om_store_ticket bad = t;
	bad.priority = 5;
	assert_int_equal(om_store_ticket_add(s, &bad, NULL, NULL), -EINVAL);
	bad = t;
	bad.title[0] = '\0';
	assert_int_equal(om_store_ticket_add(s, &bad, NULL, NULL), -EINVAL);

	/* the dedup key: one open ticket per key and tenant */
	om_store_ticket a = make("acme", "c2", 2000 * SEC);
	assert_int_equal(om_store_ticket_add(s, &a, "auto:c2:192.168.1.20", &id2), 0);
	assert_int_equal(om_store_ticket_add(s, &a, "auto:c2:192.168.1.20", &id3), 1);
	assert_int_equal(id3, id2);
	om_store_ticket b = make("other", "c2", 2000 * SEC);
	assert_int_equal(om_store_ticket_add(s, &b, "auto:c2:192.168.1.20", &id3), 0);
	assert_true(id3 != id2);

	/* closing frees the key */
	assert_int_equal(om_store_ticket_get(s, id2, &got), 0);
	snprintf(got.state, sizeof(got.state), "closed");
	got.closed = 5000 * SEC;
	got.updated = 5000 * SEC;
	got.steps = 5;
	assert_int_equal(om_store_ticket_update(s, &got), 0);
	assert_int_equal(om_store_ticket_get(s, id2, &got), 0);
	assert_string_equal(got.state, "closed");
	assert_int_equal(got.steps, 5);
	int64_t id4;
	assert_int_equal(om_store_ticket_add(s, &a, "auto:c2:192.168.1.20", &id4), 0);
	assert_true(id4 != id2);
	got.id = 999999;
	assert_int_equal(om_store_ticket_update(s, &got), -ENOENT);

	/* lists: by tenant, open only, newest first, paging */
	om_store_ticket_filter f = {.tenant = "acme"};
	assert_int_equal(om_store_ticket_list(s, &f, list, 8, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(list[0].id, id4);
	assert_int_equal(list[2].id, id);
	f.open_only = true;
	assert_int_equal(om_store_ticket_list(s, &f, list, 8, &n), 0);
	assert_int_equal(n, 2);
	f.open_only = false;
	f.before_id = id4;
	assert_int_equal(om_store_ticket_list(s, &f, list, 8, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(list[0].id, id2);
	om_store_ticket_filter all = {0};
	assert_int_equal(om_store_ticket_list(s, &all, list, 8, &n), 0);
	assert_int_equal(n, 4);
	/* the range: id2 was closed at 5000 s, so it is not open in [6000, 7000) */
	om_store_ticket_filter r = {.tenant = "acme", .from = 6000 * SEC, .to = 7000 * SEC};
	assert_int_equal(om_store_ticket_list(s, &r, list, 8, &n), 0);
	assert_int_equal(n, 2);
	for (size_t i = 0; i < n; i++)
		assert_true(list[i].id != id2);
}

static void test_history_links_attachments(void **state)
{
	om_store *s = *state;
	om_store_ticket t = make("acme", "encrypted", 10 * SEC);
	int64_t id, aid;
	om_store_ticket_note_row h[4];
	om_store_ticket_link l[4];
	om_store_attachment at[4], meta;
	size_t n, len;
	static char big[OM_DESK_ATTACH_MAX + 1];
	char buf[64];

	assert_int_equal(om_store_ticket_add(s, &t, NULL, &id), 0);
	assert_int_equal(om_store_ticket_note(s, id, 11 * SEC, "ann", "opened", "by web"), 0);
	assert_int_equal(om_store_ticket_note(s, id, 12 * SEC, "staff", "state", "new -> open"), 0);
	assert_int_equal(om_store_ticket_note(s, id, 12 * SEC, "staff", "", "x"), -EINVAL);
	assert_int_equal(om_store_ticket_history(s, id, h, 4, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(h[0].action, "opened");
	assert_string_equal(h[1].detail, "new -> open");

	assert_int_equal(om_store_ticket_link_add(s, id, "event", "42"), 1);
	assert_int_equal(om_store_ticket_link_add(s, id, "event", "42"), 0);
	assert_int_equal(om_store_ticket_link_add(s, id, "device", "192.168.1.20"), 1);
	assert_int_equal(om_store_ticket_links(s, id, l, 4, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(l[0].kind, "device");
	assert_string_equal(l[1].ref, "42");

	assert_int_equal(om_store_ticket_attach(s, id, "note.txt", "text/plain", "hello", 5,
	                                        13 * SEC, "ann", &aid),
	                 0);
	assert_int_equal(om_store_ticket_attach(s, id, "big.bin", "application/octet-stream", big,
	                                        sizeof(big), 13 * SEC, "ann", NULL),
	                 -E2BIG);
	assert_int_equal(om_store_ticket_attachments(s, id, at, 4, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(at[0].size, 5);
	assert_int_equal(om_store_ticket_attachment_get(s, id, aid, &meta, buf, sizeof(buf), &len),
	                 0);
	assert_int_equal(len, 5);
	assert_memory_equal(buf, "hello", 5);
	assert_int_equal(om_store_ticket_attachment_get(s, id, aid, &meta, buf, 2, &len), -E2BIG);
	/* another ticket's id is not found */
	assert_int_equal(
	    om_store_ticket_attachment_get(s, id + 1, aid, &meta, buf, sizeof(buf), &len), -ENOENT);
	for (int i = 1; i < OM_DESK_ATTACH_COUNT; i++)
		assert_int_equal(
		    om_store_ticket_attach(s, id, "n", "text/plain", "x", 1, 14 * SEC, "ann", NULL),
		    0);
	assert_int_equal(
	    om_store_ticket_attach(s, id, "n", "text/plain", "x", 1, 14 * SEC, "ann", NULL),
	    -ENOSPC);
}

static void test_commands(void **state)
{
	om_store *s = *state;
	om_store_command c = {.ticket = 7, .created = 100 * SEC}, got[4], fin;
	int64_t id, id2;
	size_t n;

	snprintf(c.tenant, sizeof(c.tenant), "acme");
	snprintf(c.gateway, sizeof(c.gateway), "gw1");
	snprintf(c.kind, sizeof(c.kind), "quarantine");
	snprintf(c.target, sizeof(c.target), "192.168.1.20");
	snprintf(c.actor, sizeof(c.actor), "staff");
	assert_int_equal(om_store_command_add(s, &c, &id), 0);
	snprintf(c.kind, sizeof(c.kind), "release");
	assert_int_equal(om_store_command_add(s, &c, &id2), 0);

	assert_int_equal(om_store_command_poll(s, "gw2", 101 * SEC, got, 4, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(om_store_command_poll(s, "gw1", 101 * SEC, got, 4, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(got[0].id, id);
	assert_string_equal(got[0].kind, "quarantine");
	assert_string_equal(got[0].state, "sent");
	/* polled again before the confirmation: the same commands, first delivery kept */
	assert_int_equal(om_store_command_poll(s, "gw1", 150 * SEC, got, 4, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(got[0].delivered, 101 * SEC);

	/* the wrong gateway cannot confirm it */
	assert_int_equal(om_store_command_finish(s, "gw2", id, true, "", 102 * SEC, &fin), -ENOENT);
	assert_int_equal(om_store_command_finish(s, "gw1", id, true, "isolated", 102 * SEC, &fin),
	                 0);
	assert_string_equal(fin.state, "done");
	assert_int_equal(fin.done, 102 * SEC);
	/* again: idempotent, the first report stands */
	assert_int_equal(om_store_command_finish(s, "gw1", id, false, "late", 103 * SEC, &fin), 1);
	assert_string_equal(fin.state, "done");
	assert_string_equal(fin.result, "isolated");
	assert_int_equal(om_store_command_poll(s, "gw1", 104 * SEC, got, 4, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(got[0].id, id2);
	assert_int_equal(om_store_commands_of_ticket(s, 7, got, 4, &n), 0);
	assert_int_equal(n, 2);

	/* the cap on unconfirmed commands */
	for (int i = 1; i < OM_DESK_COMMANDS_PENDING_MAX; i++)
		assert_int_equal(om_store_command_add(s, &c, NULL), 0);
	assert_int_equal(om_store_command_add(s, &c, NULL), -ENOSPC);
}

static void test_stats(void **state)
{
	om_store *s = *state;
	om_store_desk_stats_row d;
	int64_t id;
	om_store_ticket t;

	/* three tickets in [1000, 2000): answered after 60 and 120 s, one
	 * closed after 3600 s */
	t = make("acme", "popup", 1000 * SEC);
	t.first_answer = 1060 * SEC;
	t.closed = 4600 * SEC;
	assert_int_equal(om_store_ticket_add(s, &t, NULL, &id), 0);
	t = make("acme", "popup", 1100 * SEC);
	t.first_answer = 1220 * SEC;
	assert_int_equal(om_store_ticket_add(s, &t, NULL, &id), 0);
	t = make("acme", "payment", 1200 * SEC);
	assert_int_equal(om_store_ticket_add(s, &t, NULL, &id), 0);
	t = make("other", "payment", 1200 * SEC);
	assert_int_equal(om_store_ticket_add(s, &t, NULL, &id), 0);
	t = make("acme", "payment", 2000 * SEC); /* outside */
	assert_int_equal(om_store_ticket_add(s, &t, NULL, &id), 0);

	assert_int_equal(om_store_desk_stats(s, "acme", 1000 * SEC, 2000 * SEC, &d), 0);
	assert_int_equal(d.opened, 3);
	assert_int_equal(d.answered, 2);
	assert_int_equal(d.answer_seconds, 180);
	assert_int_equal(d.closed, 1);
	assert_int_equal(d.close_seconds, 3600);
	assert_int_equal(d.nkinds, 2);
	assert_string_equal(d.kinds[0].kind, "payment");
	assert_int_equal(d.kinds[0].n, 1);
	assert_int_equal(d.kinds[1].n, 2);
	assert_int_equal(om_store_desk_stats(s, NULL, 1000 * SEC, 2000 * SEC, &d), 0);
	assert_int_equal(d.opened, 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_tickets, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_history_links_attachments, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_commands, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stats, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
